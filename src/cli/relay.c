/*
 * `isthmus relay`: carries certified messages from validators to
 * destination inboxes (relay.h has the design; docs/cli-relay.md the
 * behaviour). This file: the options, the state file's lock, /metrics,
 * the signal thread and the main loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "cli/relay.h"
#include "cli/rpc.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "state/verify.h"

static const char help[] =
	"usage: isthmus relay --validator URL [--validator URL ...] --chain ID=URL [--chain ...]\n"
	"                     --state FILE [--scheme multisig|frost] [--metrics-listen http://HOST:PORT]\n"
	"                     [--wait-ms N] [--once] [--log-level SPEC]\n"
	"\n"
	"Carries certified messages to destination chains. It follows a validator's\n"
	"certificate events (GET /v1/events, a long poll), asks it for each new\n"
	"message's delivery (GET /v1/deliveries/...) and posts it to the inbox of the\n"
	"message's destination (POST /v1/inbox), in nonce order per route. Nothing it\n"
	"carries needs trusting it: the inbox verifies every delivery, and refuses a\n"
	"second one of a message (counted here as a replay, and as done). When a\n"
	"delivery is certified by a later epoch than the destination trusts, it first\n"
	"brings the destination the epoch hand-overs (GET /v1/epochs/{k} of the\n"
	"validator, POST /v1/inbox/epochs of the chain), one epoch after the other.\n"
	"\n"
	"On a connection error, a timeout or a 5xx of the validator in use it fails\n"
	"over to the next --validator (round robin, with a back-off when all fail). A\n"
	"delivery an inbox refuses is tried once more from the next validator; if it\n"
	"is refused again its route stops at that nonce (logged as an error) and the\n"
	"other routes go on. The next nonce of every route and the event cursor are\n"
	"saved in FILE (mode 0600, atomically), so a restart resumes; a lost save only\n"
	"costs replays. SIGTERM or SIGINT: the delivery in progress is finished, the\n"
	"state saved, and it exits 0.\n"
	"\n"
	"Options:\n"
	"  --validator URL          a validator's API, http://HOST:PORT (1 to 16; tried\n"
	"                           in this order)\n"
	"  --chain ID=URL           serve destination chain ID, whose API is at URL\n"
	"                           (an isthmus-devchain); 1 to 64\n"
	"  --state FILE             the state file (made when missing; locked while\n"
	"                           the relayer runs, with FILE.lock)\n"
	"  --scheme SCHEME          the certificates to carry: multisig (default:\n"
	"                           multisig-secp256k1) or frost (frost-ed25519, for\n"
	"                           destinations that accept FROST); asked for with\n"
	"                           ?scheme=frost-ed25519 on deliveries and hand-overs,\n"
	"                           and a delivery of another scheme counts as a\n"
	"                           validator failure\n"
	"  --metrics-listen URL     serve /metrics (Prometheus) on http://HOST:PORT\n"
	"                           (port 0: any free port, logged)\n"
	"  --wait-ms N              how long one long poll waits for an event, 100 to\n"
	"                           60000 (default 10000)\n"
	"  --once                   deliver what can be delivered now, then exit\n"
	"  --log-level SPEC         error, warn, info (default), debug or trace, with\n"
	"                           per-subsystem overrides (info,relay=debug)\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: 0 stopped by a signal, or --once did everything it could;\n"
	"1 an error (start-up, or with --once: no validator answered, a destination\n"
	"could not be reached or refused a delivery); 2 a usage error.\n"
	"\n"
	"Example:\n"
	"  isthmus relay --validator http://127.0.0.1:26700 --validator http://127.0.0.1:26701 \\\n"
	"      --chain 1=http://127.0.0.1:26800 --chain 2=http://127.0.0.1:26801 \\\n"
	"      --state relay-state.json --metrics-listen http://127.0.0.1:9464\n";

enum {
	OPT_VALIDATOR = 0x200,
	OPT_CHAIN,
	OPT_STATE,
	OPT_METRICS,
	OPT_WAIT,
	OPT_ONCE,
	OPT_LOG_LEVEL,
	OPT_SCHEME,
};

uint64_t relay_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- options ------------------------------------------------------------------ */

struct opts {
	const char *validators[RELAY_MAX_VALIDATORS];
	size_t n_val;
	uint64_t chains[RELAY_MAX_CHAINS];
	const char *chain_urls[RELAY_MAX_CHAINS];
	size_t n_chain;
	const char *state, *metrics, *log_level;
	uint32_t wait_ms;
	bool once;
	enum ist_cert_scheme scheme;
};

static int parse_chain(struct opts *o, char *arg)
{
	char *eq = strchr(arg, '=');
	uint64_t id;
	if (!eq)
		return ist_cli_usage_err("relay", "--chain must be ID=URL (got '%s')", arg);
	*eq = '\0';
	bool ok = ist_json_decimal_u64(arg, &id) && id > 0;
	*eq = '=';
	if (!ok)
		return ist_cli_usage_err("relay", "--chain: the chain id must be an integer from 1 to 2^64-1 (got '%s')", arg);
	for (size_t i = 0; i < o->n_chain; i++)
		if (o->chains[i] == id)
			return ist_cli_usage_err("relay", "--chain %" PRIu64 " is given twice", id);
	if (o->n_chain == RELAY_MAX_CHAINS)
		return ist_cli_usage_err("relay", "at most %d --chain options", RELAY_MAX_CHAINS);
	o->chains[o->n_chain] = id;
	o->chain_urls[o->n_chain++] = eq + 1;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "validator", required_argument, NULL, OPT_VALIDATOR },
		{ "chain", required_argument, NULL, OPT_CHAIN },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ "wait-ms", required_argument, NULL, OPT_WAIT },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "scheme", required_argument, NULL, OPT_SCHEME },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	memset(o, 0, sizeof(*o));
	o->wait_ms = 10000;
	o->scheme = IST_CERT_MULTISIG_SECP256K1;
	ist_cli_getopt_reset();
	int c, r;
	uint64_t v;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help) == IST_CLI_OK ? -1 : IST_CLI_ERROR;
		case OPT_VALIDATOR:
			for (size_t i = 0; i < o->n_val; i++)
				if (strcmp(o->validators[i], optarg) == 0)
					return ist_cli_usage_err("relay", "--validator %s is given twice", optarg);
			if (o->n_val == RELAY_MAX_VALIDATORS)
				return ist_cli_usage_err("relay", "at most %d --validator options", RELAY_MAX_VALIDATORS);
			o->validators[o->n_val++] = optarg;
			break;
		case OPT_CHAIN:
			if ((r = parse_chain(o, optarg)))
				return r;
			break;
		case OPT_STATE: o->state = optarg; break;
		case OPT_METRICS: o->metrics = optarg; break;
		case OPT_WAIT:
			if (!ist_json_decimal_u64(optarg, &v) || v < 100 || v > IST_API_MAX_WAIT_MS)
				return ist_cli_usage_err("relay", "--wait-ms must be an integer from 100 to %d (got '%s')",
							 IST_API_MAX_WAIT_MS, optarg);
			o->wait_ms = (uint32_t)v;
			break;
		case OPT_ONCE: o->once = true; break;
		case OPT_LOG_LEVEL: o->log_level = optarg; break;
		case OPT_SCHEME:
			if (strcmp(optarg, "multisig") == 0)
				o->scheme = IST_CERT_MULTISIG_SECP256K1;
			else if (strcmp(optarg, "frost") == 0)
				o->scheme = IST_CERT_FROST_ED25519;
			else
				return ist_cli_usage_err("relay", "--scheme must be multisig or frost (got '%s')", optarg);
			break;
		default: return ist_cli_bad_option("relay", c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err("relay", "unexpected argument '%s'", argv[optind]);
	if (o->n_val == 0)
		return ist_cli_usage_err("relay", "--validator URL is required");
	if (o->n_chain == 0)
		return ist_cli_usage_err("relay", "--chain ID=URL is required");
	if (!o->state)
		return ist_cli_usage_err("relay", "--state FILE is required");
	if (o->log_level && ist_log_configure(o->log_level) < 0)
		return ist_cli_usage_err("relay", "--log-level must be a level (error, warn, info, debug, trace) "
					 "with optional subsystem=level overrides (got '%s')", o->log_level);
	return 0;
}

/* ---- set-up ------------------------------------------------------------------- */

/* A client for a URL given in an option: a bad URL is a usage error. */
static int client(const char *opt, const char *url, uint32_t timeout_ms, struct ist_http_client **ret)
{
	char err[IST_HTTP_CLIENT_ERR_MAX + IST_HTTP_CLIENT_URL_MAX];
	int r = ist_http_client_new(url, timeout_ms, IST_CLI_RPC_MAX_BODY, ret, err, sizeof(err));
	if (r == -IST_EINVAL)
		return ist_cli_usage_err("relay", "%s %s", opt, err);
	if (r < 0) {
		ist_cli_err("%s", err);
		return IST_CLI_ERROR;
	}
	return 0;
}

static int setup(struct relay *r, const struct opts *o)
{
	int rc;
	r->state_path = o->state;
	r->wait_ms = o->wait_ms;
	r->once = o->once;
	r->scheme = o->scheme;
	/* multisig, the default, is what a validator serves without the
	 * parameter: none is sent, as before it existed */
	if (o->scheme != IST_CERT_MULTISIG_SECP256K1)
		snprintf(r->scheme_query, sizeof(r->scheme_query), "?scheme=%s", ist_wire_cert_scheme_name(o->scheme));
	for (size_t i = 0; i < o->n_val; i++) {
		struct relay_validator *v = &r->val[r->n_val++];
		v->url = o->validators[i];
		if ((rc = client("--validator", v->url, IST_CLI_RPC_TIMEOUT_MS, &v->data)) ||
		    (rc = client("--validator", v->url, o->wait_ms + RELAY_POLL_SLACK_MS, &v->events)))
			return rc;
	}
	for (size_t i = 0; i < o->n_chain; i++) {
		struct relay_dest *d = &r->dest[r->n_dest++];
		d->chain = o->chains[i];
		d->url = o->chain_urls[i];
		if ((rc = client("--chain", d->url, IST_CLI_RPC_TIMEOUT_MS, &d->http)))
			return rc;
	}
	if (!(r->routes = calloc(RELAY_MAX_ROUTES, sizeof(*r->routes))) || !(r->m.reg = ist_metrics_new())) {
		ist_cli_err("out of memory");
		return IST_CLI_ERROR;
	}
	struct relay_metrics *m = &r->m;
	m->delivered = ist_metrics_counter(m->reg, "isthmus_relay_delivered_total",
					   "Messages this relayer delivered to a destination inbox, by route.", "route");
	m->replays = ist_metrics_counter(m->reg, "isthmus_relay_replays_total",
					 "Deliveries an inbox refused as replays of a message it had (counted as done).",
					 NULL);
	m->rejected = ist_metrics_counter(m->reg, "isthmus_relay_rejected_total",
					  "Deliveries an inbox refused as invalid, by its reason.", "reason");
	m->val_errors = ist_metrics_counter(m->reg, "isthmus_relay_validator_errors_total",
					    "Requests to validators that failed (connection, timeout, 5xx, a bad answer).",
					    NULL);
	m->dest_errors = ist_metrics_counter(m->reg, "isthmus_relay_destination_errors_total",
					     "Requests to destination chains that failed (connection, timeout, 5xx).", NULL);
	m->next_nonce = ist_metrics_gauge(m->reg, "isthmus_relay_next_nonce",
					  "The next nonce this relayer will deliver, by route.", "route");
	m->event_seq = ist_metrics_gauge(m->reg, "isthmus_relay_event_seq",
					 "The number of the last validator event processed.", NULL);
	m->blocked = ist_metrics_gauge(m->reg, "isthmus_relay_blocked_routes",
				       "Routes stopped at a delivery their destination refused twice.", NULL);
	m->handovers = ist_metrics_counter(m->reg, "isthmus_relay_handovers_total",
					   "Epoch hand-overs this relayer brought to a destination, which accepted them, by "
					   "chain.", "chain");
	m->handover_rejected = ist_metrics_counter(m->reg, "isthmus_relay_handover_rejected_total",
						   "Epoch hand-overs a destination refused, by its reason.", "reason");
	m->dest_epoch = ist_metrics_gauge(m->reg, "isthmus_relay_destination_epoch",
					  "The epoch of the validator set a destination trusts, as last seen, by chain.",
					  "chain");
	if (!m->delivered || !m->replays || !m->rejected || !m->val_errors || !m->dest_errors || !m->next_nonce ||
	    !m->event_seq || !m->blocked || !m->handovers || !m->handover_rejected || !m->dest_epoch) {
		ist_cli_err("cannot register the metrics");
		return IST_CLI_ERROR;
	}
	ist_metric_set(m->event_seq, NULL, 0);
	ist_metric_set(m->blocked, NULL, 0);
	/* the reasons an isthmus inbox gives, present from the start at 0 (a
	 * destination's other reasons appear when first seen) */
	for (int i = IST_VERIFY_OK + 1; i < IST_VERIFY__COUNT; i++)
		ist_metric_add(m->rejected, ist_verify_reason_name((enum ist_verify_reason)i), 0);
	ist_metric_add(m->rejected, "no-validator-set", 0);
	for (size_t i = 0; i < r->n_dest; i++) {
		char label[24];
		snprintf(label, sizeof(label), "%" PRIu64, r->dest[i].chain);
		ist_metric_add(m->handovers, label, 0);
	}
	return 0;
}

static void teardown(struct relay *r)
{
	for (size_t i = 0; i < r->n_val; i++) {
		ist_http_client_free(r->val[i].data);
		ist_http_client_free(r->val[i].events);
	}
	for (size_t i = 0; i < r->n_dest; i++)
		ist_http_client_free(r->dest[i].http);
	free(r->routes);
	ist_metrics_free(r->m.reg);
}

/* Locks FILE.lock for the relayer's lifetime (the fd is left open). */
static int lock_state(const char *path)
{
	char *lock = NULL;
	if (asprintf(&lock, "%s.lock", path) < 0) {
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		ist_cli_err("%s: cannot open: %s", lock, strerror(errno));
		free(lock);
		return -IST_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			ist_cli_err("%s: in use by another isthmus relay", path);
		else
			ist_cli_err("%s: cannot lock: %s", lock, strerror(e));
		free(lock);
		return -IST_EPERM;
	}
	free(lock);
	return fd;
}

/* /metrics (and /healthz) on url: an API without a data source. */
static int metrics_start(struct relay *r, const char *url, struct ist_api **ret)
{
	struct ist_api_config cfg = { .listen_url = url };
	struct ist_api_source src = { 0 };
	char err[512];
	struct ist_api *api = ist_api_new(&cfg, &src, r->m.reg, err, sizeof(err));
	if (!api) {
		ist_cli_err("--metrics-listen %s", err);
		return -IST_EINVAL;
	}
	int rc = ist_api_start(api, err, sizeof(err));
	if (rc < 0) {
		ist_api_free(api);
		ist_cli_err("%s", err);
		return rc;
	}
	/* the real port, for port 0: http://HOST:PORT with PORT replaced */
	const char *colon = strrchr(url, ':');
	ist_log_info(RELAY_SUBSYS, "serving /metrics on %.*s:%u", (int)(colon ? colon - url : 0), url,
		     (unsigned)ist_api_port(api));
	*ret = api;
	return 0;
}

/* ---- signals -------------------------------------------------------------------- */

struct sigthread {
	struct relay *r;
	sigset_t set;
	atomic_bool exiting;
	pthread_t thread;
};

static void *signal_main(void *arg)
{
	struct sigthread *st = arg;
	struct relay *r = st->r;
	for (;;) {
		int sig;
		if (sigwait(&st->set, &sig) != 0)
			continue;
		if (atomic_load(&st->exiting))
			return NULL;
		if (!relay_stopping(r))
			ist_log_info(RELAY_SUBSYS, "%s: finishing the delivery in progress, saving the state",
				     sig == SIGINT ? "SIGINT" : "SIGTERM");
		atomic_store(&r->stop, true);
		for (size_t i = 0; i < r->n_val; i++)
			ist_http_client_abort(r->val[i].events);
		pthread_mutex_lock(&r->mu);
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
}

/* Sleeps ms, or until a signal asks to stop. */
static void nap(struct relay *r, uint32_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&r->mu);
	while (!relay_stopping(r) && pthread_cond_timedwait(&r->cv, &r->mu, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&r->mu);
}

/* ---- the loop ------------------------------------------------------------------- */

static uint32_t val_backoff(const struct relay *r)
{
	unsigned rounds = r->val_streak / (unsigned)r->n_val;
	uint32_t ms = RELAY_VAL_BACKOFF_MIN_MS;
	for (unsigned i = 1; i < rounds && ms < RELAY_BACKOFF_MAX_MS; i++)
		ms *= 2;
	return IST_MIN(ms, (uint32_t)RELAY_BACKOFF_MAX_MS);
}

/* Runs until a signal (or, with --once, one pass). Returns the exit
 * status. */
static int run(struct relay *r)
{
	bool synced = false;
	int status = IST_CLI_OK;
	ist_log_info(RELAY_SUBSYS, "carrying %s certificates; using validator %s (%zu of %zu)",
		     ist_wire_cert_scheme_name(r->scheme), r->val[r->cur].url, r->cur + 1, r->n_val);
	while (!relay_stopping(r)) {
		int rc = synced ? relay_poll(r) : relay_resync(r);
		if (rc == 0)
			synced = true;
		if (rc == -IST_ENOMEM) {
			ist_log_error(RELAY_SUBSYS, "out of memory");
			status = IST_CLI_ERROR;
			break;
		}
		if (synced && !relay_stopping(r)) {
			int rc2 = relay_catch_up(r);
			if (rc2 == -IST_ENOMEM) {
				ist_log_error(RELAY_SUBSYS, "out of memory");
				status = IST_CLI_ERROR;
				break;
			}
			if (rc2 == -IST_ENET)
				r->problems++;
		}
		(void)relay_state_save(r);
		if (r->once) {
			if (relay_stopping(r))
				break;
			if (!synced)
				ist_cli_err("relay: no validator answered (see the log)");
			else if (r->problems)
				ist_cli_err("relay: not everything could be delivered: %u problems (see the log)",
					    r->problems);
			if (!synced || r->problems)
				status = IST_CLI_ERROR;
			break;
		}
		if (r->val_streak >= r->n_val)
			nap(r, val_backoff(r));
	}
	if (relay_state_save(r) < 0)
		status = IST_CLI_ERROR;
	return status;
}

static void summary(struct relay *r)
{
	double delivered = 0;
	for (size_t i = 0; i < r->n_routes; i++)
		delivered += ist_metric_value(r->m.delivered, r->routes[i].label);
	ist_log_info(RELAY_SUBSYS, "stopped: %.0f delivered, %.0f replays, %.0f validator errors in this run", delivered,
		     ist_metric_value(r->m.replays, NULL), ist_metric_value(r->m.val_errors, NULL));
}

int ist_cli_relay(int argc, char **argv)
{
	struct opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? IST_CLI_OK : rc;

	/* SIGINT and SIGTERM go to the signal thread alone: blocked here
	 * before any other thread (NNG's) exists, so that they inherit it */
	struct sigthread st = { 0 };
	sigemptyset(&st.set);
	sigaddset(&st.set, SIGINT);
	sigaddset(&st.set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &st.set, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct relay *r = calloc(1, sizeof(*r));
	if (!r) {
		ist_cli_err("out of memory");
		return IST_CLI_ERROR;
	}
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&r->stop, false);
	atomic_init(&st.exiting, false);
	st.r = r;

	struct ist_api *api = NULL;
	int lock_fd = -1;
	bool thread = false;
	char err[2048];
	int status = setup(r, &o);
	if (status)
		goto out;
	status = IST_CLI_ERROR;
	if ((lock_fd = lock_state(o.state)) < 0)
		goto out;
	if (relay_state_load(r, err, sizeof(err)) < 0) {
		ist_cli_err("%s", err);
		goto out;
	}
	if (o.metrics && metrics_start(r, o.metrics, &api) < 0)
		goto out;
	if (pthread_create(&st.thread, NULL, signal_main, &st) != 0) {
		ist_cli_err("cannot start a thread");
		goto out;
	}
	thread = true;
	status = run(r);
	summary(r);
out:
	if (thread) {
		atomic_store(&st.exiting, true);
		pthread_kill(st.thread, SIGTERM);
		pthread_join(st.thread, NULL);
	}
	ist_api_free(api);
	teardown(r);
	if (lock_fd >= 0)
		close(lock_fd);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
	return status;
}
