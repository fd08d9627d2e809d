/*
 * `isthmus verify`: checks a delivery offline, against a validator set, with
 * the same checks as a destination inbox (state/verify.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/json.h"
#include "state/verify.h"
#include "wire/codec.h"

/* The exit status when the delivery could not be checked at all. */
#define VERIFY_CANNOT 3
/* Bytes of input read: a delivery in hex (at most twice
 * IST_WIRE_MAX_DELIVERY_BYTES), or a node's answer around it. */
#define INPUT_MAX (4u * 1024 * 1024)
/* --handover documents followed at most. */
#define MAX_HANDOVERS 64

static const char help[] =
	"usage: isthmus verify --validators FILE [--handover DOC ...] --chain CHAIN\n"
	"                      [--accept SCHEMES] [--json] (--delivery HEX | --file PATH | -)\n"
	"\n"
	"Checks a delivery offline, as the inbox of chain CHAIN would (docs/protocol.md,\n"
	"\"Delivery verification\"): the message is for CHAIN, its proof leads to the\n"
	"checkpoint's root, the checkpoint's proof to the certified batch root, and the\n"
	"certificate is signed by validators of FILE holding more than 2/3 of its\n"
	"stake. Replay is the inbox's business and is not checked. Prints\n"
	"\n"
	"  valid: message N of route S->D (id ID) certified at height H by K\n"
	"  validators holding X of Y stake\n"
	"  invalid: REASON: DETAIL\n"
	"\n"
	"The delivery is hex (the protobuf Delivery), or the JSON a node answers on\n"
	"GET /v1/deliveries/{src}/{dst}/{nonce} or an inbox takes ({\"delivery\": HEX}).\n"
	"\n"
	"Options:\n"
	"  --validators FILE        the validator set, isthmus-validator-set/v1 (what\n"
	"                           'isthmus testnet' writes or a node's GET /v1/validators)\n"
	"  --handover DOC           an epoch hand-over document (a node's GET /v1/epochs/{n}\n"
	"                           saved to a file) to follow from the set reached so far;\n"
	"                           repeat it, in epoch order, to reach the certificate's\n"
	"                           epoch (at most 64). The delivery is checked against the\n"
	"                           set of its certificate's epoch among those followed\n"
	"  --chain CHAIN            the destination chain id the delivery must be for\n"
	"  --accept SCHEMES         multisig, frost or multisig,frost (default multisig)\n"
	"  --delivery HEX           the delivery on the command line\n"
	"  --file PATH              the delivery in a file\n"
	"  -                        the delivery on standard input\n"
	"  --json                   print the verdict as JSON\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: 0 valid, 1 invalid, 2 a usage error, 3 not checked (the\n"
	"validator set or the input cannot be read).\n"
	"\n"
	"Example:\n"
	"  curl -s http://127.0.0.1:26700/v1/deliveries/1/2/0 |\n"
	"      isthmus verify --validators validator-set.json --chain 2 -\n";

enum {
	OPT_VALIDATORS = 0x200,
	OPT_CHAIN,
	OPT_ACCEPT,
	OPT_DELIVERY,
	OPT_FILE,
	OPT_JSON,
	OPT_HANDOVER,
};

/* Reads standard input, at most max bytes. Out: *ret_text (malloc'd,
 * NUL-terminated). */
static int read_stdin(size_t max, char **ret_text)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -IST_ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > max)
				break;
			cap = IST_MIN(cap * 2, max + 1);
			char *nbuf = realloc(buf, cap + 1);
			if (!nbuf) {
				free(buf);
				return -IST_ENOMEM;
			}
			buf = nbuf;
		}
		ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ist_cli_err("cannot read standard input: %s", strerror(errno));
			free(buf);
			return -IST_EIO;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		ist_cli_err("standard input: larger than %zu bytes", max);
		free(buf);
		return -IST_ETOOBIG;
	}
	buf[len] = '\0';
	*ret_text = buf;
	return 0;
}

/* The hex of the delivery in `text` (trimmed in place): the text itself, or
 * the "delivery" member of a JSON object. Out: *ret_hex (into text or the
 * parsed document, which *ret_doc owns). Prints the error. */
static int find_hex(char *text, const char *label, const char **ret_hex, json_t **ret_doc)
{
	while (isspace((unsigned char)*text))
		text++;
	size_t n = strlen(text);
	while (n > 0 && isspace((unsigned char)text[n - 1]))
		text[--n] = '\0';
	*ret_doc = NULL;
	if (text[0] != '{') {
		*ret_hex = text;
		return 0;
	}
	struct ist_json_reader jr;
	struct ist_json_err err;
	char line[1024];
	ist_json_reader_init(&jr, label, &err);
	json_t *doc = ist_json_parse(&jr, text, n);
	const char *status = ist_json_string(&jr, doc, "", "status", false, "ready");
	if (ist_json_ok(&jr) && strcmp(status, "ready") != 0) {
		const char *reason = ist_json_string(&jr, doc, "", "reason", false, "?");
		ist_cli_err("%s: the answer is %s (%s): there is no delivery to check yet", label, status, reason);
		json_decref(doc);
		return -IST_EAGAIN;
	}
	const char *hex = ist_json_string(&jr, doc, "", "delivery", true, NULL);
	if (!ist_json_ok(&jr)) {
		ist_cli_err("%s", ist_json_err_format(&err, line, sizeof(line)));
		json_decref(doc);
		return ist_json_code(&jr);
	}
	*ret_hex = hex;
	*ret_doc = doc;
	return 0;
}

static size_t popcount(const uint8_t *p, size_t len)
{
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		k += (size_t)__builtin_popcount(p[i]);
	return k;
}

static json_t *signers_json(const struct ist_certificate *c)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < IST_WIRE_MAX_VALIDATORS; i++)
		if (c->signers[i / 8] & (1u << (i % 8)))
			json_array_append_new(a, json_integer((json_int_t)i));
	return a;
}

/* Follows the hand-over documents `paths` from sets[0]: sets[k + 1] is the
 * set handed over to by paths[k]. Returns 0; 1 after printing "invalid"
 * (a hand-over that does not verify); VERIFY_CANNOT after printing the
 * error (a document that cannot be read or has no certificate). */
static int follow(struct ist_valset *sets, const char *const *paths, size_t n, unsigned accept, bool json)
{
	struct ist_handover *h = malloc(sizeof(*h));
	struct ist_json_err jerr;
	char line[2048];
	int status = 0;
	if (!h) {
		ist_cli_err("out of memory");
		return VERIFY_CANNOT;
	}
	for (size_t k = 0; k < n && status == 0; k++) {
		char *text = NULL;
		size_t len = 0;
		int r = ist_json_file_read(paths[k], IST_HANDOVER_DOC_MAX, &text, &len, &jerr);
		if (r == 0)
			r = ist_handover_parse(text, len, paths[k], h, &jerr);
		free(text);
		if (r < 0) {
			ist_cli_err("%s", ist_json_err_format(&jerr, line, sizeof(line)));
			status = VERIFY_CANNOT;
		} else if (!h->has_handover || !h->has_certificate) {
			ist_cli_err("%s: %s", paths[k], !h->has_handover ? "epoch 0 has no hand-over to follow"
					      : "the hand-over has no certificate yet (fetch the document again later)");
			status = VERIFY_CANNOT;
		} else {
			struct ist_verify_result res;
			if (ist_verify_handover(&sets[k], &h->next, &h->proof, &h->cert, accept, &res)) {
				sets[k + 1] = h->next;
				continue;
			}
			char detail[1536];
			snprintf(detail, sizeof(detail), "%s: hand-over to epoch %" PRIu64 ": %s", paths[k], h->next.epoch,
				 res.detail);
			if (json) {
				json_t *o = json_pack("{s:b,s:s,s:s}", "valid", 0, "reason", ist_verify_reason_name(res.reason),
						      "detail", detail);
				if (ist_cli_print_json(o) < 0)
					status = VERIFY_CANNOT;
			} else {
				printf("invalid: %s: %s\n", ist_verify_reason_name(res.reason), detail);
			}
			if (status == 0)
				status = IST_CLI_ERROR;
		}
	}
	free(h);
	return status;
}

/* Prints the verdict. Returns the exit status (or -IST_E* after printing). */
static int report(const struct ist_valset *vs, const struct ist_delivery *d, bool valid,
		  const struct ist_verify_result *res, bool have_id, bool json)
{
	char id[2 * IST_HASH_BYTES + 1];
	ist_hex_encode(res->message_id, IST_HASH_BYTES, id);
	const struct ist_message *m = d ? &d->message : NULL;
	const struct ist_certificate *c = d ? &d->certificate : NULL;
	bool multisig = c && c->scheme == IST_CERT_MULTISIG_SECP256K1;
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "valid", json_boolean(valid));
		json_object_set_new(o, "reason", json_string(ist_verify_reason_name(res->reason)));
		if (!valid)
			json_object_set_new(o, "detail", json_string(res->detail));
		if (m) {
			json_t *jm = json_object();
			json_object_set_new(jm, "src_chain", ist_json_from_u64(m->src_chain));
			json_object_set_new(jm, "dst_chain", ist_json_from_u64(m->dst_chain));
			json_object_set_new(jm, "nonce", ist_json_from_u64(m->nonce));
			if (have_id)
				json_object_set_new(jm, "id", json_string(id));
			json_object_set_new(o, "message", jm);
		}
		if (valid) {
			json_object_set_new(o, "height", ist_json_from_u64(c->height));
			json_object_set_new(o, "epoch", ist_json_from_u64(c->epoch));
			json_object_set_new(o, "scheme", json_string(ist_wire_cert_scheme_name(c->scheme)));
			if (multisig) {
				json_object_set_new(o, "signers", signers_json(c));
				json_object_set_new(o, "signed_stake", ist_json_from_u64(res->signed_stake));
			}
			json_object_set_new(o, "total_stake", ist_json_from_u64(vs->total));
		}
		int r = ist_cli_print_json(o);
		return r < 0 ? r : valid ? IST_CLI_OK : IST_CLI_ERROR;
	}
	if (!valid) {
		printf("invalid: %s: %s\n", ist_verify_reason_name(res->reason), res->detail);
		return IST_CLI_ERROR;
	}
	printf("valid: message %" PRIu64 " of route %" PRIu64 "->%" PRIu64 " (id %s) certified at height %" PRIu64,
	       m->nonce, m->src_chain, m->dst_chain, id, c->height);
	if (multisig)
		printf(" by %zu validators holding %" PRIu64 " of %" PRIu64 " stake\n",
		       popcount(c->signers, sizeof(c->signers)), res->signed_stake, vs->total);
	else
		printf(" by the FROST group key of epoch %" PRIu64 "\n", c->epoch);
	return IST_CLI_OK;
}

int ist_cli_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "validators", required_argument, NULL, OPT_VALIDATORS },
		{ "chain", required_argument, NULL, OPT_CHAIN },
		{ "accept", required_argument, NULL, OPT_ACCEPT },
		{ "delivery", required_argument, NULL, OPT_DELIVERY },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "handover", required_argument, NULL, OPT_HANDOVER },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *vs_path = NULL, *arg_hex = NULL, *file = NULL, *handovers[MAX_HANDOVERS];
	size_t n_handovers = 0;
	uint64_t chain = 0;
	bool have_chain = false, json = false, from_stdin = false;
	unsigned accept = IST_VERIFY_ACCEPT_MULTISIG;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case OPT_VALIDATORS: vs_path = optarg; break;
		case OPT_CHAIN:
			if (!ist_json_decimal_u64(optarg, &chain) || chain == 0)
				return ist_cli_usage_err("verify", "--chain must be an integer from 1 to 2^64-1 (got '%s')",
							 optarg);
			have_chain = true;
			break;
		case OPT_ACCEPT:
			if (!ist_verify_accept_parse(optarg, &accept))
				return ist_cli_usage_err("verify", "--accept must be multisig, frost or multisig,frost (got '%s')",
							 optarg);
			break;
		case OPT_DELIVERY: arg_hex = optarg; break;
		case OPT_FILE: file = optarg; break;
		case OPT_JSON: json = true; break;
		case OPT_HANDOVER:
			if (n_handovers == MAX_HANDOVERS)
				return ist_cli_usage_err("verify", "at most %d --handover documents", MAX_HANDOVERS);
			handovers[n_handovers++] = optarg;
			break;
		default: return ist_cli_bad_option("verify", c, argv);
		}
	}
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") != 0 || from_stdin)
			return ist_cli_usage_err("verify", "unexpected argument '%s'", argv[i]);
		from_stdin = true;
	}
	if (!vs_path)
		return ist_cli_usage_err("verify", "--validators FILE is required");
	if (!have_chain)
		return ist_cli_usage_err("verify", "--chain CHAIN is required");
	if ((arg_hex != NULL) + (file != NULL) + from_stdin != 1)
		return ist_cli_usage_err("verify", "give the delivery once: --delivery HEX, --file PATH or - (stdin)");

	/* the set of --validators, then one per hand-over followed */
	struct ist_valset *sets = calloc(n_handovers + 1, sizeof(*sets)), *vs = sets;
	struct ist_json_err jerr;
	char line[2048];
	char *text = NULL;
	json_t *doc = NULL;
	uint8_t *bytes = NULL;
	size_t len = 0;
	struct ist_delivery *d = NULL;
	int status = VERIFY_CANNOT, r;
	if (!vs) {
		ist_cli_err("out of memory");
		goto out;
	}
	if ((r = ist_valset_load(vs_path, vs, &jerr)) < 0) {
		ist_cli_err("%s", ist_json_err_format(&jerr, line, sizeof(line)));
		goto out;
	}
	if (n_handovers && (status = follow(sets, handovers, n_handovers, accept, json)) != 0)
		goto out;
	status = VERIFY_CANNOT;
	const char *label = "--delivery";
	if (file) {
		label = file;
		if ((r = ist_json_file_read(file, INPUT_MAX, &text, &len, &jerr)) < 0) {
			ist_cli_err("%s", ist_json_err_format(&jerr, line, sizeof(line)));
			goto out;
		}
	} else if (from_stdin) {
		label = "standard input";
		if (read_stdin(INPUT_MAX, &text) < 0)
			goto out;
	} else if (!(text = strdup(arg_hex))) {
		ist_cli_err("out of memory");
		goto out;
	}
	const char *hex = NULL;
	if (find_hex(text, label, &hex, &doc) < 0)
		goto out;

	struct ist_verify_result res = { .reason = IST_VERIFY_MALFORMED };
	bool valid = false, have_id = false;
	const char *why = NULL;
	if (strlen(hex) > 2 * (size_t)IST_WIRE_MAX_DELIVERY_BYTES + 2)
		snprintf(res.detail, sizeof(res.detail), "%s: over %d bytes", label, IST_WIRE_MAX_DELIVERY_BYTES);
	else if ((r = ist_hex_decode_alloc(hex, &bytes, &len)) == -IST_ENOMEM)
		goto out;
	else if (r < 0)
		snprintf(res.detail, sizeof(res.detail), "%s: not hex (an even number of hex digits)", label);
	else if (ist_wire_delivery_decode(bytes, len, &d, &why) < 0)
		snprintf(res.detail, sizeof(res.detail), "%s: not a valid Delivery (%s)", label, why ? why : "?");
	else {
		/* the set of the certificate's epoch among those followed; else
		 * the last one (which says unknown-epoch) */
		vs = &sets[n_handovers];
		for (size_t k = 0; k <= n_handovers; k++)
			if (sets[k].epoch == d->certificate.epoch)
				vs = &sets[k];
		valid = ist_verify_delivery(vs, chain, accept, d, &res);
		have_id = true;
	}
	status = report(vs, d, valid, &res, have_id, json);
	if (status < 0)
		status = VERIFY_CANNOT;
out:
	ist_wire_delivery_free(d);
	free(bytes);
	json_decref(doc);
	free(text);
	free(sets);
	return status;
}
