/*
 * mkhandover: builds a real epoch hand-over document for the devchain tests
 * (what a node answers on GET /v1/epochs/{n}, state/verify.h): the incoming
 * set, a batch tree of checkpoint leaves with the hand-over leaf last, and
 * the certificate over its root signed by the outgoing set's attestation
 * secret keys given (tests/state/fixture.h). Optionally one forgery. Prints
 * the document as one line of JSON; --valset and --next-valset write the
 * validator-set files of the two sets.
 *
 *   mkhandover --key HEX [--key HEX]... --next-key HEX [--next-key HEX]...
 *              [options]
 *
 *   --key HEX            attestation secret key of outgoing validator i
 *   --next-key HEX       attestation secret key of incoming validator i
 *   --stake N            every outgoing validator's stake (default 1000)
 *   --next-stake N       every incoming validator's stake (default 1000)
 *   --network N          network id (default 1337)
 *   --epoch N            the outgoing epoch (default 0); the incoming one
 *                        is N + 1
 *   --next-epoch N       the incoming epoch instead (to skip one)
 *   --height N           the hand-over block's height (default 30)
 *   --checkpoints N      checkpoint leaves before the hand-over leaf
 *                        (default 2)
 *   --leaf-pos N         where the hand-over leaf is (default: last)
 *   --signers LIST       outgoing validator indices that sign (default all)
 *   --no-certificate     "certificate": null (not formed yet)
 *   --frost SEEDHEX      certify with this Ed25519 seed as the outgoing
 *                        set's FROST group key (frost-ed25519), and put its
 *                        key in the outgoing set
 *   --next-frost SEEDHEX put this seed's key in the incoming set as its
 *                        FROST group key (part of the hand-over leaf)
 *   --forge CLASS        tamper-stake (validator 0's incoming stake + 1
 *                        after signing: the leaf of another set),
 *                        sig-bit, proof-bit
 *   --valset FILE        write the outgoing set (isthmus-validator-set/v1)
 *   --next-valset FILE   write the incoming set
 *
 * Exit 0, or 2 with one line on stderr.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/json.h"
#include "crypto/crypto.h"
#include "fixture.h"

static int die(const char *fmt, ...) IST_PRINTF(1, 2);
static int die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mkhandover: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint64_t num(const char *opt, const char *s)
{
	uint64_t v;
	if (!ist_json_decimal_u64(s, &v))
		die("%s: not a decimal integer: %s", opt, s);
	return v;
}

static void add_key(struct fx_spec *s, const char *opt, const char *hex)
{
	if (s->n_validators == IST_WIRE_MAX_VALIDATORS)
		die("%s: too many keys", opt);
	if (ist_hex_decode(hex, s->seckeys[s->n_validators], 32) < 0 || !ist_secp_seckey_valid(s->seckeys[s->n_validators]))
		die("%s: not a secp256k1 secret key in hex: %s", opt, hex);
	s->n_validators++;
}

static void write_set(const struct ist_valset *vs, const char *path)
{
	char *text = NULL;
	if (ist_valset_format(vs, &text) < 0)
		die("cannot format a validator set");
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die("cannot write %s", path);
	free(text);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "next-key", required_argument, NULL, 'K' },
		{ "stake", required_argument, NULL, 's' },
		{ "next-stake", required_argument, NULL, 'S' },
		{ "network", required_argument, NULL, 'N' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "next-epoch", required_argument, NULL, 'E' },
		{ "height", required_argument, NULL, 'H' },
		{ "checkpoints", required_argument, NULL, 'c' },
		{ "leaf-pos", required_argument, NULL, 'p' },
		{ "signers", required_argument, NULL, 'g' },
		{ "no-certificate", no_argument, NULL, 'n' },
		{ "forge", required_argument, NULL, 'F' },
		{ "valset", required_argument, NULL, 'v' },
		{ "next-valset", required_argument, NULL, 'V' },
		{ "frost", required_argument, NULL, 'f' },
		{ "next-frost", required_argument, NULL, 'X' },
		{ NULL, 0, NULL, 0 },
	};
	if (ist_crypto_init() < 0)
		die("crypto init failed");
	static struct fx_spec out, in;
	fx_spec_default(&out, 0, 1);
	fx_spec_default(&in, 0, 2);
	out.height = 30;
	uint64_t stake = 1000, next_stake = 1000, next_epoch = 0, checkpoints = 2, leaf_pos = 0;
	bool have_next_epoch = false, have_leaf_pos = false, no_cert = false, frost = false, next_frost = false;
	const char *signers = NULL, *forge = NULL, *valset = NULL, *next_valset = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': add_key(&out, "--key", optarg); break;
		case 'K': add_key(&in, "--next-key", optarg); break;
		case 's': stake = num("--stake", optarg); break;
		case 'S': next_stake = num("--next-stake", optarg); break;
		case 'N': out.network_id = in.network_id = num("--network", optarg); break;
		case 'e': out.epoch = num("--epoch", optarg); break;
		case 'E': next_epoch = num("--next-epoch", optarg); have_next_epoch = true; break;
		case 'H': out.height = num("--height", optarg); break;
		case 'c': checkpoints = num("--checkpoints", optarg); break;
		case 'p': leaf_pos = num("--leaf-pos", optarg); have_leaf_pos = true; break;
		case 'g': signers = optarg; break;
		case 'n': no_cert = true; break;
		case 'F': forge = optarg; break;
		case 'v': valset = optarg; break;
		case 'V': next_valset = optarg; break;
		case 'f':
			if (ist_hex_decode(optarg, out.frost_seed, sizeof(out.frost_seed)) < 0)
				die("--frost: 64 hex digits expected");
			frost = true;
			break;
		case 'X':
			if (ist_hex_decode(optarg, in.frost_seed, sizeof(in.frost_seed)) < 0)
				die("--next-frost: 64 hex digits expected");
			next_frost = true;
			break;
		default: die("unknown option (see the comment at the top of mkhandover.c)");
		}
	}
	if (out.n_validators == 0 || in.n_validators == 0)
		die("at least one --key and one --next-key are needed");
	if (checkpoints >= FX_MAX_CHECKPOINTS)
		die("--checkpoints: at most %d", FX_MAX_CHECKPOINTS - 1);
	if (!have_leaf_pos)
		leaf_pos = checkpoints;
	for (size_t i = 0; i < out.n_validators; i++)
		out.stakes[i] = stake;
	for (size_t i = 0; i < in.n_validators; i++)
		in.stakes[i] = next_stake;
	out.has_group_key = frost;
	in.has_group_key = next_frost;
	if (frost)
		out.scheme = IST_CERT_FROST_ED25519;
	in.epoch = have_next_epoch ? next_epoch : out.epoch + 1;
	memset(out.signers, 0, sizeof(out.signers));
	if (!signers) {
		for (size_t i = 0; i < out.n_validators; i++)
			if (ist_wire_bitmap_set(out.signers, (unsigned)i) < 0)
				die("bitmap");
	} else {
		char *copy = strdup(signers), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (ist_wire_bitmap_set(out.signers, (unsigned)num("--signers", t)) < 0)
				die("--signers: index too large: %s", t);
		free(copy);
	}

	struct ist_valset *vo = malloc(sizeof(*vo)), *vi = malloc(sizeof(*vi));
	struct ist_handover *h = malloc(sizeof(*h));
	if (!vo || !vi || !h)
		die("out of memory");
	if (fx_valset(&out, vo) < 0 || fx_valset(&in, vi) < 0)
		die("cannot make the validator sets");
	if (valset)
		write_set(vo, valset);
	if (next_valset)
		write_set(vi, next_valset);
	if (fx_handover(&out, vi, checkpoints, leaf_pos, h) < 0)
		die("cannot build the hand-over (--leaf-pos above --checkpoints?)");
	h->has_certificate = !no_cert;
	if (forge) {
		if (strcmp(forge, "tamper-stake") == 0) {
			h->next.stakes[0] += 1;
			h->next.total += 1;
		} else if (strcmp(forge, "sig-bit") == 0) {
			(h->cert.scheme == IST_CERT_FROST_ED25519 ? h->cert.frost_sig : h->cert.sigs[0])[10] ^= 0x01;
		} else if (strcmp(forge, "proof-bit") == 0) {
			if (!h->proof.path_len)
				die("--forge proof-bit: the proof is empty (use --checkpoints 1 or more)");
			h->proof.path[0][0] ^= 0x01;
		} else {
			die("--forge: unknown class %s", forge);
		}
	}
	json_t *doc = NULL;
	if (ist_handover_to_json(h, &doc) < 0)
		die("cannot write the document");
	char *text = json_dumps(doc, JSON_COMPACT);
	if (!text)
		die("out of memory");
	puts(text);
	free(text);
	json_decref(doc);
	free(vo);
	free(vi);
	free(h);
	return 0;
}
