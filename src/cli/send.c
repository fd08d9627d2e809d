/*
 * `isthmus send`: sends a message on a chain's outbox (isthmus-devchain's
 * POST /v1/messages, docs/devchain.md) and prints its nonce and id.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/rpc.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/json.h"
#include "wire/types.h"

static const char help[] =
	"usage: isthmus send --rpc URL --to CHAIN [--payload TEXT | --payload-hex HEX]\n"
	"                    [--value N] [--recipient HEX32] [--sender HEX32] [--json]\n"
	"\n"
	"Sends a cross-chain message to chain CHAIN through the outbox of the chain\n"
	"whose API is at URL (an isthmus-devchain: POST /v1/messages). The chain gives\n"
	"the message the next nonce of its route and puts it in its next block;\n"
	"validators certify it once that block is final, and a relayer ('isthmus\n"
	"relay') carries it to CHAIN's inbox. Prints\n"
	"\n"
	"  sent message NONCE on route SRC->DST: id MESSAGE_ID\n"
	"\n"
	"Options:\n"
	"  --rpc URL                the source chain's API, http://HOST:PORT[/PATH]\n"
	"  --to CHAIN               the destination chain id\n"
	"  --payload TEXT           the payload, the bytes of TEXT (default: empty)\n"
	"  --payload-hex HEX        the payload in hex (at most 65536 bytes)\n"
	"  --value N                a declared amount (default 0)\n"
	"  --recipient HEX32        the recipient on CHAIN, 64 hex digits (default: zeros)\n"
	"  --sender HEX32           the sender, 64 hex digits (default: zeros)\n"
	"  --json                   print the chain's answer as JSON\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: 0 sent, 1 an error (unreachable chain, a refusal: one line on\n"
	"stderr with the chain's reason), 2 a usage error.\n"
	"\n"
	"Example:\n"
	"  isthmus send --rpc http://127.0.0.1:26800 --to 2 --payload 'hello'\n";

enum {
	OPT_RPC = 0x200,
	OPT_TO,
	OPT_PAYLOAD,
	OPT_PAYLOAD_HEX,
	OPT_VALUE,
	OPT_RECIPIENT,
	OPT_SENDER,
	OPT_JSON,
};

/* An address option: 64 hex digits (an optional 0x), in lower case. */
static int address_opt(const char *opt, const char *arg, char out[65])
{
	uint8_t b[32];
	if (ist_hex_decode(arg, b, sizeof(b)) < 0)
		return ist_cli_usage_err("send", "%s must be 64 hex digits (32 bytes)", opt);
	ist_hex_encode(b, sizeof(b), out);
	return 0;
}

static int u64_opt(const char *opt, const char *arg, uint64_t min, uint64_t *ret)
{
	if (!ist_json_decimal_u64(arg, ret) || *ret < min)
		return ist_cli_usage_err("send", "%s must be an integer from %" PRIu64 " to 2^64-1 (got '%s')", opt, min,
					 arg);
	return 0;
}

/* Prints the answer of a 202: one line, or the JSON. */
static int print_sent(const char *url, json_t *doc, bool json)
{
	struct ist_json_reader jr;
	struct ist_json_err err;
	ist_json_reader_init(&jr, "the answer", &err);
	uint64_t src = ist_json_u64(&jr, doc, "", "src_chain", true, 0, 0);
	uint64_t dst = ist_json_u64(&jr, doc, "", "dst_chain", true, 0, 0);
	uint64_t nonce = ist_json_u64(&jr, doc, "", "nonce", true, 0, 0);
	uint8_t id[32];
	ist_json_hex(&jr, doc, "", "message_id", id, sizeof(id), "a message id");
	if (!ist_json_ok(&jr)) {
		char line[1024];
		ist_cli_err("%s: POST /v1/messages: unexpected answer: %s", url, ist_json_err_format(&err, line, sizeof(line)));
		return -IST_EPARSE;
	}
	if (json)
		return ist_cli_print_json(json_incref(doc));
	char hex[65];
	ist_hex_encode(id, sizeof(id), hex);
	printf("sent message %" PRIu64 " on route %" PRIu64 "->%" PRIu64 ": id %s\n", nonce, src, dst, hex);
	return 0;
}

int ist_cli_send(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rpc", required_argument, NULL, OPT_RPC },
		{ "to", required_argument, NULL, OPT_TO },
		{ "payload", required_argument, NULL, OPT_PAYLOAD },
		{ "payload-hex", required_argument, NULL, OPT_PAYLOAD_HEX },
		{ "value", required_argument, NULL, OPT_VALUE },
		{ "recipient", required_argument, NULL, OPT_RECIPIENT },
		{ "sender", required_argument, NULL, OPT_SENDER },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *rpc = NULL, *text = NULL, *hex = NULL;
	char recipient[65], sender[65];
	memset(recipient, '0', 64);
	memset(sender, '0', 64);
	recipient[64] = sender[64] = '\0';
	uint64_t to = 0, value = 0;
	bool have_to = false, json = false;
	int r;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case OPT_RPC: rpc = optarg; break;
		case OPT_TO:
			if ((r = u64_opt("--to", optarg, 1, &to)))
				return r;
			have_to = true;
			break;
		case OPT_PAYLOAD: text = optarg; break;
		case OPT_PAYLOAD_HEX: hex = optarg; break;
		case OPT_VALUE:
			if ((r = u64_opt("--value", optarg, 0, &value)))
				return r;
			break;
		case OPT_RECIPIENT:
			if ((r = address_opt("--recipient", optarg, recipient)))
				return r;
			break;
		case OPT_SENDER:
			if ((r = address_opt("--sender", optarg, sender)))
				return r;
			break;
		case OPT_JSON: json = true; break;
		default: return ist_cli_bad_option("send", c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err("send", "unexpected argument '%s'", argv[optind]);
	if (!rpc)
		return ist_cli_usage_err("send", "--rpc URL is required");
	if (!have_to)
		return ist_cli_usage_err("send", "--to CHAIN is required");
	if (text && hex)
		return ist_cli_usage_err("send", "--payload and --payload-hex exclude each other");

	uint8_t *payload = NULL;
	size_t payload_len = 0;
	if (hex) {
		if (ist_hex_decode_alloc(hex, &payload, &payload_len) < 0)
			return ist_cli_usage_err("send", "--payload-hex must be an even number of hex digits");
	} else if (text) {
		payload_len = strlen(text);
		if (payload_len && !(payload = malloc(payload_len))) {
			ist_cli_err("out of memory");
			return IST_CLI_ERROR;
		}
		memcpy(payload, text, payload_len);
	}
	if (payload_len > IST_WIRE_MAX_MSG_PAYLOAD) {
		free(payload);
		return ist_cli_usage_err("send", "the payload is %zu bytes, over the limit of %d", payload_len,
					 IST_WIRE_MAX_MSG_PAYLOAD);
	}

	struct ist_http_client *client = NULL;
	struct ist_cli_rpc_answer ans = { 0 };
	char err[IST_HTTP_CLIENT_ERR_MAX + IST_HTTP_CLIENT_URL_MAX];
	json_t *body = json_object();
	if (!body || json_object_set_new(body, "dst_chain", ist_json_from_u64(to)) < 0 ||
	    json_object_set_new(body, "recipient", json_string(recipient)) < 0 ||
	    json_object_set_new(body, "sender", json_string(sender)) < 0 ||
	    json_object_set_new(body, "value", ist_json_from_u64(value)) < 0 ||
	    json_object_set_new(body, "payload", ist_json_from_hex(payload, payload_len)) < 0) {
		ist_cli_err("out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	if ((r = ist_http_client_new(rpc, IST_CLI_RPC_TIMEOUT_MS, IST_CLI_RPC_MAX_BODY, &client, err, sizeof(err))) < 0) {
		json_decref(body);
		free(payload);
		if (r == -IST_EINVAL)
			return ist_cli_usage_err("send", "--rpc %s", err);
		ist_cli_err("%s", err);
		return IST_CLI_ERROR;
	}
	if ((r = ist_cli_rpc_call(client, "POST", "/v1/messages", body, 0, &ans, err, sizeof(err))) < 0) {
		if (r == -IST_ENET)
			ist_cli_err("cannot reach the chain at %s: %s", rpc, err);
		else
			ist_cli_err("%s: POST /v1/messages: %s", rpc, err);
		goto out;
	}
	if (ans.status != 202 && ans.status != 200) {
		char code[IST_CLI_RPC_CODE_MAX], detail[IST_CLI_RPC_DETAIL_MAX];
		ist_cli_rpc_error(&ans, code, detail);
		ist_cli_err("%s refused the message: %u%s%s: %s", rpc, (unsigned)ans.status, code[0] ? " " : "", code,
			    detail);
		r = -IST_EINVAL;
		goto out;
	}
	if (!ans.doc) {
		ist_cli_err("%s: POST /v1/messages: the answer is not a JSON object", rpc);
		r = -IST_EPARSE;
		goto out;
	}
	r = print_sent(rpc, ans.doc, json);
out:
	ist_cli_rpc_answer_fini(&ans);
	ist_http_client_free(client);
	json_decref(body);
	free(payload);
	return ist_cli_status(r);
}
