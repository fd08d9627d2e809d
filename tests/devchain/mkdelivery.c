/*
 * mkdelivery: builds a real delivery for the devchain tests (what a relayer
 * would carry): a route tree, a checkpoint, a batch tree and a certificate
 * signed with the attestation secret keys given (tests/state/fixture.h),
 * optionally with one forgery applied after signing. Prints the protobuf
 * Delivery in hex on one line; --valset writes the validator-set file the
 * devchain is told to trust.
 *
 *   mkdelivery --key HEX [--key HEX]... [options]
 *
 *   --key HEX            attestation secret key of validator i (the i-th --key)
 *   --stake N            every validator's stake (default 1000)
 *   --network N          network id (default 1337)
 *   --epoch N            the certificate's epoch (default 0)
 *   --valset-epoch N     the set's epoch in --valset (default: --epoch)
 *   --height N           the certificate's height (default 7)
 *   --src N, --dst N     the route (default 1 -> 2)
 *   --nonce N            the delivered message (default 0)
 *   --tree-size N        messages in the route tree (default nonce + 1)
 *   --message JSON       the delivered message as a devchain prints it
 *                        ({"src_chain",...,"payload"}): its route and nonce win
 *   --signers LIST       validator indices that sign, "0,2,3" (default all)
 *   --frost SEEDHEX      sign with this Ed25519 seed as the FROST group key
 *                        (frost-ed25519), and put its key in --valset
 *   --forge CLASS        payload-bit, sig-bit, batch-root-bit, cp-root-bit,
 *                        proof-bit, cp-proof-bit, route, outsider, dup-signer,
 *                        extra-signer
 *   --valset FILE        write the validator set (isthmus-validator-set/v1)
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
#include "wire/canonical.h"
#include "wire/codec.h"

static int die(const char *fmt, ...) IST_PRINTF(1, 2);
static int die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("mkdelivery: ", stderr);
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

/* The delivered message from the JSON a devchain prints. */
static void parse_message(const char *text, struct ist_message *m)
{
	struct ist_json_reader jr;
	struct ist_json_err err;
	ist_json_reader_init(&jr, "--message", &err);
	json_t *root = ist_json_parse(&jr, text, strlen(text));
	memset(m, 0, sizeof(*m));
	m->src_chain = ist_json_u64(&jr, root, "", "src_chain", true, 0, 0);
	m->dst_chain = ist_json_u64(&jr, root, "", "dst_chain", true, 0, 0);
	m->nonce = ist_json_u64(&jr, root, "", "nonce", true, 0, 0);
	ist_json_hex(&jr, root, "", "sender", m->sender, 32, "an address");
	ist_json_hex(&jr, root, "", "recipient", m->recipient, 32, "an address");
	m->value = ist_json_u64(&jr, root, "", "value", true, 0, 0);
	ist_json_hex_alloc(&jr, root, "", "payload", true, IST_WIRE_MAX_MSG_PAYLOAD, &m->payload, &m->payload_len);
	json_decref(root);
	if (!ist_json_ok(&jr)) {
		char line[1024];
		die("%s", ist_json_err_format(&err, line, sizeof(line)));
	}
}

static void flip(uint8_t *p)
{
	p[0] ^= 0x01;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "stake", required_argument, NULL, 's' },
		{ "network", required_argument, NULL, 'N' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "valset-epoch", required_argument, NULL, 'E' },
		{ "height", required_argument, NULL, 'H' },
		{ "src", required_argument, NULL, 'S' },
		{ "dst", required_argument, NULL, 'D' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "tree-size", required_argument, NULL, 't' },
		{ "message", required_argument, NULL, 'm' },
		{ "signers", required_argument, NULL, 'g' },
		{ "frost", required_argument, NULL, 'f' },
		{ "forge", required_argument, NULL, 'F' },
		{ "valset", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	if (ist_crypto_init() < 0)
		die("crypto init failed");
	static struct fx_spec s;
	fx_spec_default(&s, 0, 1);
	s.tree_size = 0;
	s.nonce = 0;
	uint64_t stake = 1000, vs_epoch = 0;
	bool have_vs_epoch = false, have_signers = false;
	const char *signers = NULL, *forge = NULL, *valset = NULL;
	struct ist_message msg;
	bool have_msg = false;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			if (s.n_validators == IST_WIRE_MAX_VALIDATORS)
				die("too many keys");
			if (ist_hex_decode(optarg, s.seckeys[s.n_validators], 32) < 0 ||
			    !ist_secp_seckey_valid(s.seckeys[s.n_validators]))
				die("--key: not a secp256k1 secret key in hex: %s", optarg);
			s.n_validators++;
			break;
		case 's': stake = num("--stake", optarg); break;
		case 'N': s.network_id = num("--network", optarg); break;
		case 'e': s.epoch = num("--epoch", optarg); break;
		case 'E': vs_epoch = num("--valset-epoch", optarg); have_vs_epoch = true; break;
		case 'H': s.height = num("--height", optarg); break;
		case 'S': s.src_chain = num("--src", optarg); break;
		case 'D': s.dst_chain = num("--dst", optarg); break;
		case 'n': s.nonce = num("--nonce", optarg); break;
		case 't': s.tree_size = num("--tree-size", optarg); break;
		case 'm': parse_message(optarg, &msg); have_msg = true; break;
		case 'g': signers = optarg; have_signers = true; break;
		case 'f':
			if (ist_hex_decode(optarg, s.frost_seed, sizeof(s.frost_seed)) < 0)
				die("--frost: 64 hex digits expected");
			s.scheme = IST_CERT_FROST_ED25519;
			break;
		case 'F': forge = optarg; break;
		case 'v': valset = optarg; break;
		default: die("unknown option (see the comment at the top of mkdelivery.c)");
		}
	}
	if (s.n_validators == 0)
		die("at least one --key is needed");
	for (size_t i = 0; i < s.n_validators; i++)
		s.stakes[i] = stake;
	s.has_group_key = s.scheme == IST_CERT_FROST_ED25519;
	if (have_msg) {
		s.message = &msg;
		s.nonce = msg.nonce;
	}
	if (s.tree_size == 0)
		s.tree_size = s.nonce + 1;
	memset(s.signers, 0, sizeof(s.signers));
	if (!have_signers) {
		for (size_t i = 0; i < s.n_validators; i++)
			if (ist_wire_bitmap_set(s.signers, (unsigned)i) < 0)
				die("bitmap");
	} else {
		char *copy = strdup(signers), *save = NULL;
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (ist_wire_bitmap_set(s.signers, (unsigned)num("--signers", t)) < 0)
				die("--signers: index too large: %s", t);
		free(copy);
	}

	if (valset) {
		struct ist_valset *vs = malloc(sizeof(*vs));
		struct fx_spec vspec = s;
		if (have_vs_epoch)
			vspec.epoch = vs_epoch;
		char *text = NULL;
		if (!vs || fx_valset(&vspec, vs) < 0 || ist_valset_format(vs, &text) < 0)
			die("cannot make the validator set");
		FILE *f = fopen(valset, "w");
		if (!f || fputs(text, f) < 0 || fclose(f) != 0)
			die("cannot write %s", valset);
		free(text);
		free(vs);
	}

	static struct ist_delivery d;
	if (fx_delivery(&s, &d) < 0)
		die("cannot build the delivery (check --nonce < --tree-size)");
	struct ist_certificate *cert = &d.certificate;
	if (forge) {
		if (strcmp(forge, "payload-bit") == 0) {
			if (!d.message.payload_len)
				die("--forge payload-bit: the message has no payload");
			flip(d.message.payload);
		} else if (strcmp(forge, "sig-bit") == 0) {
			flip(cert->scheme == IST_CERT_FROST_ED25519 ? cert->frost_sig : cert->sigs[0] + 10);
		} else if (strcmp(forge, "batch-root-bit") == 0) {
			flip(cert->batch_root);
		} else if (strcmp(forge, "cp-root-bit") == 0) {
			flip(d.checkpoint.root);
		} else if (strcmp(forge, "proof-bit") == 0) {
			if (!d.message_proof.path_len)
				die("--forge proof-bit: the message proof is empty (use --tree-size 2 or more)");
			flip(d.message_proof.path[0]);
		} else if (strcmp(forge, "cp-proof-bit") == 0) {
			flip(d.checkpoint_proof.path[0]);
		} else if (strcmp(forge, "route") == 0) {
			d.checkpoint.src_chain += 1000;   /* the message's route stays */
		} else if (strcmp(forge, "outsider") == 0) {
			/* validator 0's signature made by a key outside the set */
			static struct fx_spec out;
			fx_spec_default(&out, 1, 4242);
			uint8_t digest[IST_HASH_BYTES];
			ist_wire_certificate_digest(cert, digest);
			if (ist_secp_sign(out.seckeys[0], digest, cert->sigs[0]) < 0)
				die("sign failed");
		} else if (strcmp(forge, "dup-signer") == 0) {
			/* validator 0's signature in every signer's place */
			for (size_t k = 1; k < cert->n_sigs; k++)
				memcpy(cert->sigs[k], cert->sigs[0], IST_SECP_SIG_BYTES);
		} else if (strcmp(forge, "extra-signer") == 0) {
			/* a signer bit beyond the set, with a signature for it */
			if (ist_wire_bitmap_set(cert->signers, (unsigned)s.n_validators) < 0)
				die("no room for an extra signer");
			memcpy(cert->sigs[cert->n_sigs], cert->sigs[0], IST_SECP_SIG_BYTES);
			cert->n_sigs++;
		} else {
			die("--forge: unknown class %s", forge);
		}
	}
	uint8_t *enc = NULL;
	size_t len = 0;
	if (ist_wire_delivery_encode(&d, &enc, &len) < 0)
		die("cannot encode the delivery");
	char *hex = malloc(2 * len + 1);
	if (!hex)
		die("out of memory");
	ist_hex_encode(enc, len, hex);
	puts(hex);
	free(hex);
	free(enc);
	ist_wire_delivery_fini(&d);
	if (have_msg)
		ist_wire_message_fini(&msg);
	return 0;
}
