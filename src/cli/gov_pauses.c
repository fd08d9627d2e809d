/*
 * `isthmus gov pauses`: the recent pauses and resumes of chains and routes
 * (GET /v1/gov/pauses), each certified as a leaf of its block's batch tree,
 * and, given a trusted validator set, whether each certificate proves it
 * (ist_verify_pause): what a relayer or a destination checks before it
 * acts on a pause (docs/protocol.md, "Certified pauses").
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ledger_json.h"
#include "cli/txsubmit.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/json.h"
#include "state/verify.h"
#include "wire/codec.h"

static const char pauses_help[] =
	"usage: isthmus gov pauses [--validators FILE] [--accept SCHEMES] [--scheme frost]\n"
	"                          [--node URL] [--json]\n"
	"\n"
	"Lists the recent pauses and resumes of source chains and routes, newest\n"
	"first (GET /v1/gov/pauses): the height each took effect at, what, why (a\n"
	"passed proposal or the automatic circuit breaker), and its certificate. A\n"
	"pause is a leaf of its block's batch tree, so the block's certificate proves\n"
	"it. With --validators each certificate is checked as a destination would:\n"
	"\n"
	"  height 21  pause route 1->2 (proposal 1): valid, certified at height 21 by 3\n"
	"             validators holding 3000000 of 4000000 stake\n"
	"\n"
	"Options:\n"
	"  --validators FILE        the trusted validator set (isthmus-validator-set/v1)\n"
	"                           of the epoch the certificates are from\n"
	"  --accept SCHEMES         multisig, frost or multisig,frost (default multisig)\n"
	"  --scheme frost           ask for the FROST certificates (frost-ed25519)\n"
	IST_CLI_HELP_NODE
	"  --json                   print the node's answer as it is\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: 0 (every certificate checked is valid), 1 an invalid one or an\n"
	"error, 2 a usage error.\n";

enum { OPT_VALIDATORS = IST_CLI_LOPT_OWN, OPT_ACCEPT, OPT_SCHEME };

/* One line (two with a verdict) for entry e; returns false when its
 * certificate was checked and is invalid. */
static bool print_entry(const struct ist_cli_lj_pause *e, const struct ist_valset *vs, unsigned accept)
{
	char what[96], why[48] = "circuit breaker";
	if (e->p.scope == IST_PAUSE_CHAIN)
		snprintf(what, sizeof(what), "%s chain %" PRIu64, e->p.paused ? "pause" : "resume", e->p.a);
	else
		snprintf(what, sizeof(what), "%s route %" PRIu64 "->%" PRIu64, e->p.paused ? "pause" : "resume", e->p.a,
			 e->p.b);
	if (e->proposal)
		snprintf(why, sizeof(why), "proposal %" PRIu64, e->proposal);
	printf("height %-6" PRIu64 " %s (%s): ", e->p.height, what, why);
	if (!e->cert) {
		printf("no certificate yet\n");
		return true;
	}
	if (!vs) {
		printf("certificate present (give --validators to check it)\n");
		return true;
	}
	struct ist_certificate *cert = NULL;
	if (ist_wire_certificate_decode(e->cert, e->cert_len, &cert, NULL) < 0) {
		printf("invalid: malformed: the certificate does not decode\n");
		return false;
	}
	struct ist_verify_result res;
	struct ist_pause p = e->p;
	p.network_id = vs->network_id;
	bool ok = ist_verify_pause(vs, &p, &e->proof, cert, accept, &res);
	if (ok && cert->scheme == IST_CERT_FROST_ED25519)
		printf("valid, certified at height %" PRIu64 " by the FROST group key of epoch %" PRIu64 "\n",
		       cert->height, cert->epoch);
	else if (ok)
		printf("valid, certified at height %" PRIu64 " by validators holding %" PRIu64 " of %" PRIu64 " stake\n",
		       cert->height, res.signed_stake, vs->total);
	else
		printf("invalid: %s: %s\n", ist_verify_reason_name(res.reason), res.detail);
	ist_wire_certificate_free(cert);
	return ok;
}

int ist_cli_gov_pauses(int argc, char **argv)
{
	static const struct option opts[] = {
		IST_CLI_QUERY_LONGOPTS,
		{ "validators", required_argument, NULL, OPT_VALIDATORS },
		{ "accept", required_argument, NULL, OPT_ACCEPT },
		{ "scheme", required_argument, NULL, OPT_SCHEME },
		{ 0 },
	};
	static const char *cmd = "gov pauses";
	struct ist_cli_txopts o;
	ist_cli_txopts_init(&o);
	const char *vs_path = NULL;
	unsigned accept = IST_VERIFY_ACCEPT_MULTISIG;
	bool frost = false;
	int r, c;
	ist_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return ist_cli_help(pauses_help);
		if ((r = ist_cli_txopts_take(cmd, c, optarg, &o)) == 0)
			continue;
		if (r != 1)
			return r;
		switch (c) {
		case OPT_VALIDATORS:
			vs_path = optarg;
			break;
		case OPT_ACCEPT:
			if (!ist_verify_accept_parse(optarg, &accept))
				return ist_cli_usage_err(cmd, "--accept must be multisig, frost or multisig,frost (got '%s')",
							 optarg);
			break;
		case OPT_SCHEME:
			if (strcmp(optarg, "frost") != 0 && strcmp(optarg, "multisig") != 0)
				return ist_cli_usage_err(cmd, "--scheme must be multisig or frost (got '%s')", optarg);
			frost = strcmp(optarg, "frost") == 0;
			break;
		default:
			return ist_cli_bad_option(cmd, c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	struct ist_valset *vs = NULL;
	struct ist_json_err jerr;
	if (vs_path) {
		if (!(vs = malloc(sizeof(*vs))))
			return ist_cli_status(-IST_ENOMEM);
		if ((r = ist_valset_load(vs_path, vs, &jerr)) < 0) {
			char line[512];
			ist_cli_err("%s", ist_json_err_format(&jerr, line, sizeof(line)));
			free(vs);
			return ist_cli_status(r);
		}
	}
	struct ist_cli_node node;
	if ((r = ist_cli_node_open(cmd, o.node, &node))) {
		free(vs);
		return r;
	}
	const char *path = frost ? "/v1/gov/pauses?scheme=frost-ed25519" : "/v1/gov/pauses";
	struct ist_cli_rpc_answer a = { 0 };
	struct ist_cli_lj_pauses ps = { 0 };
	bool all_valid = true;
	if ((r = ist_cli_node_get(&node, path, false, &a)) < 0)
		goto out;
	if ((r = ist_cli_lj_pauses_parse(a.doc, path, &ps, &jerr)) < 0) {
		r = ist_cli_node_bad_answer(&node, path, r, &jerr);
		goto out;
	}
	if (o.json) {
		r = ist_cli_print_json(json_incref(a.doc));
		goto out;
	}
	if (!ps.n)
		printf("no pauses or resumes kept\n");
	for (size_t i = 0; i < ps.n; i++)
		all_valid &= print_entry(&ps.v[i], vs, accept);
	if (!all_valid)
		r = -IST_EINVAL;
out:
	ist_cli_lj_pauses_fini(&ps);
	free(vs);
	ist_cli_rpc_answer_fini(&a);
	ist_cli_node_close(&node);
	return r == -IST_EINVAL ? 1 : ist_cli_status(r);
}
