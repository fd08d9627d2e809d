/*
 * isthmus-devchain: a simulated source and destination chain for devnets
 * and tests (docs/devchain.md).
 *
 * Signals: SIGTERM and SIGINT stop it cleanly (exit 0). Every thread blocks
 * them; the main thread waits for them with sigtimedwait, looking at the
 * block producer in between (a database failure stops the program, exit 1).
 * Errors at start are one line on stderr: exit 2 for bad options, 1 for the
 * rest.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/http.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "common/metrics.h"
#include "crypto/crypto.h"
#include "devchain/body.h"
#include "devchain/chain.h"
#include "devchain/routes.h"
#include "state/verify.h"

#ifndef IST_VERSION
#define IST_VERSION "0.0.0"
#endif

#define PROG "isthmus-devchain"
#define MAX_LISTEN 8
#define DEFAULT_LISTEN "http://127.0.0.1:26900"

static const char help[] =
	"usage: " PROG " --data DIR --chain-id N [options]\n"
	"\n"
	"Runs a simulated chain: an outbox that numbers messages per route and\n"
	"puts them in blocks, finality by depth, and an inbox that accepts\n"
	"deliveries certified by a trusted validator set, each message once.\n"
	"State is kept in DIR; a restart resumes the same chain. docs/devchain.md\n"
	"describes the HTTP API.\n"
	"\n"
	"Options:\n"
	"  --data DIR            the chain's directory (created if missing; one\n"
	"                        process at a time)\n"
	"  --chain-id N          this chain's id, 1 to 2^64-1 (required; recorded\n"
	"                        in DIR, a restart with another id is refused)\n"
	"  --listen URL          serve the API on http://HOST:PORT (repeat to serve\n"
	"                        the same chain on several URLs; port 0 picks a\n"
	"                        free port; default " DEFAULT_LISTEN ")\n"
	"  --block-ms MS         a block every MS milliseconds, 10 to 3600000\n"
	"                        (default 500)\n"
	"  --finality-depth D    blocks below the head that are not final yet:\n"
	"                        finalized height = head - D, 0 to 1000 (default 2)\n"
	"  --trust FILE          the validator set the inbox verifies deliveries\n"
	"                        against (isthmus-validator-set/v1), recorded in DIR\n"
	"                        at the first start; later sets come by epoch\n"
	"                        hand-over (POST /v1/inbox/epochs). Without a set\n"
	"                        the inbox refuses every delivery\n"
	"  --handover-grace-blocks N\n"
	"                        blocks after a hand-over during which deliveries\n"
	"                        certified by the previous epoch are still accepted,\n"
	"                        0 to 1000000 (default 20)\n"
	"  --accept SCHEMES      certificate schemes the inbox accepts: multisig,\n"
	"                        frost or multisig,frost (default multisig)\n"
	"  --test-hooks          enable POST /v1/test/reorg,\n"
	"                        /v1/test/rewrite-finalized and /v1/test/produce\n"
	"  --log-level SPEC      error|warn|info|debug|trace (default info)\n"
	"  --version             print the version and exit\n"
	"  -h, --help            print this help and exit\n";

static int usage_error(const char *fmt, ...) IST_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (try --help)\n", stderr);
	va_end(ap);
	return 2;
}

static bool parse_u64_opt(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v;
	if (!ist_json_decimal_u64(arg, &v) || v < min || v > max) {
		usage_error("%s must be an integer from %" PRIu64 " to %" PRIu64 " (got \"%s\")", name, min, max, arg);
		return false;
	}
	*ret = v;
	return true;
}

static bool parse_accept(const char *arg, unsigned *ret)
{
	if (!ist_verify_accept_parse(arg, ret)) {
		usage_error("--accept must be multisig, frost or multisig,frost (got \"%s\")", arg);
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	enum { O_DATA = 256, O_CHAIN, O_LISTEN, O_BLOCK_MS, O_DEPTH, O_TRUST, O_GRACE, O_ACCEPT, O_HOOKS, O_LOG,
	       O_VERSION };
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, O_DATA },
		{ "chain-id", required_argument, NULL, O_CHAIN },
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "block-ms", required_argument, NULL, O_BLOCK_MS },
		{ "finality-depth", required_argument, NULL, O_DEPTH },
		{ "trust", required_argument, NULL, O_TRUST },
		{ "handover-grace-blocks", required_argument, NULL, O_GRACE },
		{ "accept", required_argument, NULL, O_ACCEPT },
		{ "test-hooks", no_argument, NULL, O_HOOKS },
		{ "log-level", required_argument, NULL, O_LOG },
		{ "version", no_argument, NULL, O_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ist_dc_options o = { .block_ms = 500, .finality_depth = 2, .accept = IST_VERIFY_ACCEPT_MULTISIG,
				    .grace_blocks = IST_DC_DEFAULT_GRACE_BLOCKS };
	const char *listen[MAX_LISTEN], *trust = NULL, *level = NULL;
	size_t n_listen = 0;
	bool hooks = false, have_chain = false;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_DATA: o.data_dir = optarg; break;
		case O_CHAIN:
			if (!parse_u64_opt("--chain-id", optarg, 1, UINT64_MAX, &o.chain_id))
				return 2;
			have_chain = true;
			break;
		case O_LISTEN:
			if (n_listen == MAX_LISTEN)
				return usage_error("at most %d --listen URLs", MAX_LISTEN);
			for (size_t i = 0; i < n_listen; i++)
				if (strcmp(listen[i], optarg) == 0)
					return usage_error("--listen %s given twice", optarg);
			listen[n_listen++] = optarg;
			break;
		case O_BLOCK_MS:
			if (!parse_u64_opt("--block-ms", optarg, IST_DC_MIN_BLOCK_MS, IST_DC_MAX_BLOCK_MS, &o.block_ms))
				return 2;
			break;
		case O_DEPTH:
			if (!parse_u64_opt("--finality-depth", optarg, 0, IST_DC_MAX_FINALITY_DEPTH, &o.finality_depth))
				return 2;
			break;
		case O_TRUST: trust = optarg; break;
		case O_GRACE:
			if (!parse_u64_opt("--handover-grace-blocks", optarg, 0, IST_DC_MAX_GRACE_BLOCKS, &o.grace_blocks))
				return 2;
			break;
		case O_ACCEPT:
			if (!parse_accept(optarg, &o.accept))
				return 2;
			break;
		case O_HOOKS: hooks = true; break;
		case O_LOG: level = optarg; break;
		case O_VERSION: printf(PROG " %s\n", IST_VERSION); return 0;
		case 'h': fputs(help, stdout); return 0;
		default:
			return usage_error("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o.data_dir || !*o.data_dir)
		return usage_error("--data DIR is required");
	if (!have_chain)
		return usage_error("--chain-id N is required");
	if (level && ist_log_configure(level) < 0)
		return usage_error("--log-level must be a level (error, warn, info, debug, trace), optionally "
				   "followed by ,SUBSYSTEM=LEVEL overrides (got \"%s\")", level);
	if (n_listen == 0)
		listen[n_listen++] = DEFAULT_LISTEN;
	for (size_t i = 0; i < n_listen; i++) {
		char why[512];
		if (ist_http_url_check(listen[i], why, sizeof(why)) < 0)
			return usage_error("--listen: %s", why);
	}

	if (ist_crypto_init() < 0) {
		fprintf(stderr, PROG ": cannot initialise the crypto libraries\n");
		return 1;
	}
	struct ist_valset *vs = NULL;
	if (trust) {
		struct ist_json_err err;
		vs = malloc(sizeof(*vs));
		if (!vs || ist_valset_load(trust, vs, &err) < 0) {
			char line[2048];
			fprintf(stderr, PROG ": %s\n", vs ? ist_json_err_format(&err, line, sizeof(line)) : "out of memory");
			free(vs);
			return 1;
		}
		o.trust = vs;
	}

	/* block the signals in every thread (they inherit the mask) */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = 1;
	struct ist_metrics *metrics = ist_metrics_new();
	struct ist_dc *chain = NULL;
	struct ist_http_server *servers[MAX_LISTEN] = { 0 };
	struct ist_dc_routes routes = { .metrics = metrics, .test_hooks = hooks };
	char errbuf[IST_DC_ERRBUF_BYTES];
	if (!metrics) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	o.metrics = metrics;
	if (ist_dc_open(&o, &chain, errbuf, sizeof(errbuf)) < 0) {
		fprintf(stderr, PROG ": %s\n", errbuf);
		goto out;
	}
	routes.chain = chain;
	for (size_t i = 0; i < n_listen; i++) {
		if (ist_http_server_start(listen[i], IST_DC_MAX_BODY, ist_dc_routes_handle, &routes, &servers[i], errbuf,
					  sizeof(errbuf)) < 0) {
			fprintf(stderr, PROG ": %s\n", errbuf);
			goto out;
		}
	}
	if (ist_dc_start(chain) < 0) {
		fprintf(stderr, PROG ": cannot start the block producer\n");
		goto out;
	}
	struct ist_dc_head head;
	if (ist_dc_head(chain, &head) == 0)
		ist_log_info("devchain", "chain %" PRIu64 " at height %" PRIu64 " (data %s, a block every %" PRIu64
			     " ms, finality depth %" PRIu64 ", inbox %s)", o.chain_id, head.height, o.data_dir,
			     o.block_ms, o.finality_depth,
			     ist_dc_has_trust(chain) ? "verifies deliveries" : "refuses deliveries: no --trust");

	for (;;) {
		struct timespec tick = { .tv_sec = 0, .tv_nsec = 200 * 1000 * 1000 };
		int sig = sigtimedwait(&set, NULL, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			ist_log_info("devchain", "received %s, shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
			rc = 0;
			break;
		}
		int failed = ist_dc_failed(chain);
		if (failed) {
			ist_log_error("devchain", "stopping: the block producer failed: %s", ist_strerror(failed));
			break;
		}
	}
out:
	for (size_t i = 0; i < n_listen; i++)
		ist_http_server_stop(servers[i]);
	ist_dc_close(chain);
	ist_metrics_free(metrics);
	free(vs);
	if (rc == 0)
		ist_log_info("devchain", "stopped cleanly");
	return rc;
}
