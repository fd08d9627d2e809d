#include "api/api.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <jansson.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"

#define SUBSYS "api"
#define DRAIN_MAX (1024 * 1024)  /* excess body bytes read and dropped to deliver a 413 */
#define SCRATCH_BYTES 4096

static const double latency_bounds[] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
};

/* ---- routes ----------------------------------------------------------- */

enum route_id {
	ROUTE_STATUS,
	ROUTE_BLOCK,
	ROUTE_TXS,
	ROUTE_V1,
	ROUTE_HEALTHZ,
	ROUTE_METRICS,
	ROUTE_UNMATCHED,
};

static const struct route {
	const char *label;  /* metrics label: a template, never a raw path */
	const char *allow;  /* methods, for 405 */
	bool post;          /* the one method is POST (else GET and HEAD) */
	bool limited;       /* subject to the rate limit */
} routes[] = {
	[ROUTE_STATUS] = { "/v1/status", "GET, HEAD", false, true },
	[ROUTE_BLOCK] = { "/v1/blocks/{height}", "GET, HEAD", false, true },
	[ROUTE_TXS] = { "/v1/txs", "POST", true, true },
	[ROUTE_V1] = { "/v1/...", "GET, HEAD", false, true },
	[ROUTE_HEALTHZ] = { "/healthz", "GET, HEAD", false, false },
	[ROUTE_METRICS] = { "/metrics", "GET, HEAD", false, false },
	[ROUTE_UNMATCHED] = { "unmatched", NULL, false, false },
};

/* ---- state ------------------------------------------------------------ */

struct pending;

/*
 * What a handler reaches the api through. The gate is the handler's data and
 * is freed by the handler's destructor, when NNG drops its last reference:
 * NNG may still call the handler after the server was stopped (a request
 * dispatched just before), and the gate tells such a late call that the api
 * is gone. `inflight` counts handler calls and bodies being received, so
 * ist_api_free() waits for them before freeing what they use.
 */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct ist_api *api;      /* NULL once closing */
	unsigned inflight;
	struct pending *active;   /* requests receiving a body, or held (long polls) */
	uint64_t notified;        /* ist_api_notify calls */
};

struct ist_api {
	struct ist_api_source src;
	nng_url *url;
	size_t max_body;
	nng_duration body_timeout;

	const struct ist_clock *clock;
	uint32_t rate_per_sec;
	uint64_t burst_milli;     /* bucket size in thousandths of a request */
	pthread_mutex_t rate_lock;
	uint64_t tokens_milli;
	uint64_t last_ms;

	struct ist_metrics *metrics;
	bool own_metrics;
	struct ist_metric *m_requests, *m_seconds, *m_responses;

	nng_http_server *server;
	nng_http_handler *handler;
	struct gate *gate;
	uint16_t port;
};

/* One request being answered. */
struct call {
	struct ist_api *api;
	nng_aio *aio;             /* the server's: finished once with the response */
	nng_http_req *req;
	nng_http_conn *conn;
	enum route_id route;
	const char *label;        /* the source's route template, for ROUTE_V1 */
	const char *v1_path;      /* ROUTE_V1: borrowed while dispatching */
	const char *v1_query;
	uint64_t v1_seen;         /* gate->notified before the source was asked */
	struct timespec t0;
	bool close;               /* unread body bytes: the connection cannot be reused */
};

/* A POST whose body is being received (or drained after a 413). */
enum phase { PHASE_CONTINUE, PHASE_BODY, PHASE_DRAIN, PHASE_WAIT };

struct pending {
	struct call c;
	struct pending *prev, *next;  /* gate->active */
	unsigned refs;                /* under gate->lock */
	nng_aio *io;
	enum phase phase;
	uint8_t *body;
	size_t len;
	uint64_t drain_left;
	char *path, *query;           /* PHASE_WAIT: the request to ask again */
	uint64_t deadline_ms;         /* PHASE_WAIT: monotonic */
	uint64_t seen;                /* PHASE_WAIT: gate->notified when first asked */
	nng_iov iov;
	uint8_t scratch[SCRATCH_BYTES];
};

static char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";

/* ---- errors ----------------------------------------------------------- */

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...) IST_PRINTF(3, 4);
static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	if (!errbuf || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

/* The HTTP status and error code for a -IST_E* from the source. */
static uint16_t status_of(int err, const char **ret_code)
{
	switch (-err) {
	case IST_ENOTFOUND:
		*ret_code = "not_found";
		return 404;
	case IST_EPARSE:
	case IST_EINVAL:
	case IST_ERANGE:
	case IST_ETRUNCATED:
	case IST_EBADHEX:
	case IST_EBADKEY:
	case IST_EBADSIG:
	case IST_EBADPROOF:
		*ret_code = "bad_request";
		return 400;
	case IST_ETOOBIG:
		*ret_code = "payload_too_large";
		return 413;
	case IST_EEXISTS:
		*ret_code = "conflict";
		return 409;
	case IST_EAGAIN:
	case IST_ESTATE:
	case IST_ECLOSED:
	case IST_ETIMEOUT:
		*ret_code = "unavailable";
		return 503;
	case IST_EUNSUPPORTED:
		*ret_code = "not_implemented";
		return 501;
	case IST_EPERM:
		*ret_code = "forbidden";
		return 403;
	default:
		*ret_code = "internal";
		return 500;
	}
}

/* ---- the gate --------------------------------------------------------- */

static void gate_free(void *arg)
{
	struct gate *g = arg;
	pthread_cond_destroy(&g->idle);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

static struct gate *gate_new(void)
{
	struct gate *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	if (pthread_mutex_init(&g->lock, NULL) != 0) {
		free(g);
		return NULL;
	}
	if (pthread_cond_init(&g->idle, NULL) != 0) {
		pthread_mutex_destroy(&g->lock);
		free(g);
		return NULL;
	}
	return g;
}

/* Returns the api, counted in flight, or NULL when it is closing. */
static struct ist_api *gate_enter(struct gate *g)
{
	pthread_mutex_lock(&g->lock);
	struct ist_api *api = g->api;
	if (api)
		g->inflight++;
	pthread_mutex_unlock(&g->lock);
	return api;
}

/* The last touch of the api (and of the gate) by a handler call. */
static void gate_leave(struct gate *g, struct pending *p)
{
	pthread_mutex_lock(&g->lock);
	if (p) {
		if (p->prev)
			p->prev->next = p->next;
		else
			g->active = p->next;
		if (p->next)
			p->next->prev = p->prev;
	}
	if (--g->inflight == 0)
		pthread_cond_broadcast(&g->idle);
	pthread_mutex_unlock(&g->lock);
}

/* ---- responses -------------------------------------------------------- */

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void count(struct call *c, int status)
{
	struct ist_api *api = c->api;
	const char *label = c->label ? c->label : routes[c->route].label;
	ist_metric_inc(api->m_requests, label);
	ist_metric_observe(api->m_seconds, label, seconds_since(&c->t0));
	if (status > 0) {
		char code[8];
		snprintf(code, sizeof(code), "%d", status);
		ist_metric_inc(api->m_responses, code);
	}
}

/* Ends a call without a response: NNG closes the connection. */
static void finish_abort(struct call *c, int nng_err)
{
	count(c, 0);
	nng_aio_finish(c->aio, nng_err);
}

/*
 * Sends a response (the body is copied) and ends the call. `extra` is an
 * optional header name and value (Allow, Retry-After).
 */
static void respond(struct call *c, uint16_t status, const char *ctype, const void *body, size_t len,
		    const char *extra_name, const char *extra_value)
{
	nng_http_res *res = NULL;
	if (nng_http_res_alloc(&res) != 0)
		goto fail;
	if (nng_http_res_set_status(res, status) != 0 ||
	    nng_http_res_set_header(res, "Content-Type", ctype) != 0 ||
	    nng_http_res_copy_data(res, body, len) != 0)
		goto fail;
	if (extra_name && nng_http_res_set_header(res, extra_name, extra_value) != 0)
		goto fail;
	/* Unread body bytes would be parsed as the next request. */
	if (c->close && nng_http_res_set_header(res, "Connection", "close") != 0)
		goto fail;
	count(c, status);
	nng_aio_set_output(c->aio, 0, res);
	nng_aio_finish(c->aio, 0);
	return;
fail:
	if (res)
		nng_http_res_free(res);
	finish_abort(c, NNG_ENOMEM);
}

/* Sends a JSON document (a trailing newline added for terminals). */
static void respond_json(struct call *c, uint16_t status, json_t *doc, const char *extra_name,
			 const char *extra_value)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text) {
		finish_abort(c, NNG_ENOMEM);
		return;
	}
	size_t n = strlen(text);
	char *body = realloc(text, n + 2);
	if (!body) {
		free(text);
		finish_abort(c, NNG_ENOMEM);
		return;
	}
	body[n] = '\n';
	body[n + 1] = '\0';
	respond(c, status, "application/json", body, n + 1, extra_name, extra_value);
	free(body);
}

/* {"error":{"code":code,"message":message}} */
static void respond_error(struct call *c, uint16_t status, const char *code, const char *message,
			  const char *extra_name, const char *extra_value)
{
	json_t *doc = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
	respond_json(c, status, doc, extra_name, extra_value);
}

static void respond_source_error(struct call *c, int err)
{
	const char *code;
	uint16_t status = status_of(err, &code);
	if (status >= 500 && status != 501 && status != 503)
		ist_log_warn(SUBSYS, "%s: source failed: %s", routes[c->route].label, ist_strerror(err));
	respond_error(c, status, code, ist_strerror(err), NULL, NULL);
}

static void respond_buf(struct call *c, uint16_t status, struct ist_buf *b)
{
	if (ist_buf_err(b) != 0) {
		respond_source_error(c, -IST_EINTERNAL);
		return;
	}
	respond(c, status, "application/json", b->data, b->len, NULL, NULL);
}

/* ---- request helpers -------------------------------------------------- */

/* The path of the request target: no query, no fragment, no scheme and
 * authority for the absolute form. Written to out (NUL-terminated); false
 * when it does not fit. Paths are matched as sent, without percent-decoding. */
static bool request_path(const char *uri, char *out, size_t outlen)
{
	if (strncasecmp(uri, "http://", 7) == 0 || strncasecmp(uri, "https://", 8) == 0) {
		uri = strstr(uri, "://") + 3;
		uri = strchr(uri, '/');
		if (!uri)
			uri = "/";
	}
	size_t n = strcspn(uri, "?#");
	if (n >= outlen)
		return false;
	memcpy(out, uri, n);
	out[n] = '\0';
	return true;
}

/* Strict decimal u64: digits only, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

enum body_kind { BODY_NONE, BODY_LENGTH, BODY_CHUNKED, BODY_BAD };

/* What the request says about its body. */
static enum body_kind request_body(nng_http_req *req, uint64_t *ret_len)
{
	*ret_len = 0;
	if (nng_http_req_get_header(req, "Transfer-Encoding"))
		return BODY_CHUNKED;
	const char *cl = nng_http_req_get_header(req, "Content-Length");
	if (!cl)
		return BODY_NONE;
	while (*cl == ' ' || *cl == '\t')
		cl++;
	char tmp[24];
	size_t n = strcspn(cl, " \t");
	if (n == 0 || n >= sizeof(tmp) || cl[n + strspn(cl + n, " \t")] != '\0')
		return BODY_BAD;
	memcpy(tmp, cl, n);
	tmp[n] = '\0';
	if (!parse_u64(tmp, ret_len))
		return BODY_BAD;
	return *ret_len ? BODY_LENGTH : BODY_NONE;
}

static bool expects_continue(nng_http_req *req)
{
	const char *e = nng_http_req_get_header(req, "Expect");
	return e && strcasecmp(e, "100-continue") == 0;
}

/* Takes one request from the bucket. Returns 0, or the seconds to wait. */
static unsigned rate_take(struct ist_api *api)
{
	if (api->rate_per_sec == 0)
		return 0;
	unsigned wait = 0;
	pthread_mutex_lock(&api->rate_lock);
	uint64_t now = ist_clock_mono_ms(api->clock);
	if (now > api->last_ms) {
		/* rate_per_sec thousandths of a request per ms; a long pause
		 * fills the bucket without computing an overflowing product */
		uint64_t elapsed = now - api->last_ms;
		uint64_t fill_ms = (api->burst_milli + api->rate_per_sec - 1) / api->rate_per_sec;
		if (elapsed >= fill_ms)
			api->tokens_milli = api->burst_milli;
		else
			api->tokens_milli = IST_MIN(api->burst_milli, api->tokens_milli + elapsed * api->rate_per_sec);
		api->last_ms = now;
	}
	if (api->tokens_milli >= 1000) {
		api->tokens_milli -= 1000;
	} else {
		uint64_t ms = (1000 - api->tokens_milli + api->rate_per_sec - 1) / api->rate_per_sec;
		wait = (unsigned)IST_MAX((ms + 999) / 1000, 1);
	}
	pthread_mutex_unlock(&api->rate_lock);
	return wait;
}

/* JSON number for a u64 (exact up to INT64_MAX; a larger value is a bug of
 * the source and makes the document fail). */
static json_t *json_u64(uint64_t v)
{
	return v <= INT64_MAX ? json_integer((json_int_t)v) : NULL;
}

static json_t *json_hex(const uint8_t *p, size_t len)
{
	char hex[2 * 64 + 1];
	if (len > 64)
		return NULL;
	ist_hex_encode(p, len, hex);
	return json_string(hex);
}

/* ---- handlers --------------------------------------------------------- */

static void handle_status(struct call *c)
{
	struct ist_api *api = c->api;
	if (!api->src.status) {
		respond_source_error(c, -IST_EUNSUPPORTED);
		return;
	}
	struct ist_api_status st;
	memset(&st, 0, sizeof(st));
	int rc = api->src.status(api->src.ctx, &st);
	if (rc != 0) {
		respond_source_error(c, rc);
		return;
	}
	st.chain_id[sizeof(st.chain_id) - 1] = '\0';
	st.version[sizeof(st.version) - 1] = '\0';
	char netid[24];
	snprintf(netid, sizeof(netid), "%" PRIu64, st.network_id);

	/* json_object_set_new() takes the value even when it fails, and fails
	 * on NULL (invalid UTF-8 in a string, a number out of range). */
	json_t *doc = json_object(), *peers = json_object(), *last = NULL;
	bool ok = doc && peers;
	ok &= json_object_set_new(doc, "version", json_string(st.version)) == 0;
	ok &= json_object_set_new(doc, "chain_id", json_string(st.chain_id)) == 0;
	ok &= json_object_set_new(doc, "network_id", json_string(netid)) == 0;
	ok &= json_object_set_new(doc, "node_key", json_hex(st.node_key, sizeof(st.node_key))) == 0;
	ok &= json_object_set_new(doc, "height", json_u64(st.height)) == 0;
	ok &= json_object_set_new(doc, "view", json_u64(st.view)) == 0;
	ok &= json_object_set_new(doc, "epoch", json_u64(st.epoch)) == 0;
	ok &= json_object_set_new(peers, "connected", json_integer(st.peers_connected)) == 0;
	ok &= json_object_set_new(peers, "total", json_integer(st.peers_total)) == 0;
	ok &= json_object_set_new(doc, "peers", json_incref(peers)) == 0;
	if (st.last_commit_ms != 0) {
		last = json_object();
		ok &= json_object_set_new(last, "block_id",
					  json_hex(st.last_block_id, sizeof(st.last_block_id))) == 0;
		ok &= json_object_set_new(last, "time_ms", json_u64(st.last_commit_ms)) == 0;
		ok &= json_object_set_new(doc, "last_commit", json_incref(last)) == 0;
	} else {
		ok &= json_object_set_new(doc, "last_commit", json_null()) == 0;
	}
	json_decref(peers);
	json_decref(last);
	if (!ok) {
		json_decref(doc);
		respond_source_error(c, -IST_EINTERNAL);
		return;
	}
	respond_json(c, 200, doc, NULL, NULL);
}

static void handle_block(struct call *c, const char *height_str)
{
	struct ist_api *api = c->api;
	uint64_t height;
	if (!parse_u64(height_str, &height)) {
		respond_error(c, 400, "bad_request", "height must be a decimal integer below 2^64", NULL, NULL);
		return;
	}
	if (!api->src.block) {
		respond_source_error(c, -IST_EUNSUPPORTED);
		return;
	}
	struct ist_buf b;
	ist_buf_init(&b, IST_API_MAX_RESPONSE);
	int rc = api->src.block(api->src.ctx, height, &b);
	if (rc == -IST_ENOTFOUND)
		respond_error(c, 404, "not_found", "no committed block at this height", NULL, NULL);
	else if (rc != 0)
		respond_source_error(c, rc);
	else if (b.len == 0)
		respond_source_error(c, -IST_EINTERNAL);
	else
		respond_buf(c, 200, &b);
	ist_buf_fini(&b);
}

static bool pending_start(struct call *c, enum phase phase, uint64_t len);
static void pending_unref(struct pending *p);

static uint64_t mono_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Asks the source for a /v1/ GET. Returns true when the request is held
 * (a long poll): `held` is its pending state when it is already one. */
static bool handle_v1(struct call *c, const char *path, const char *query, bool final, struct pending *held)
{
	struct ist_api *api = c->api;
	if (!api->src.get) {
		respond_error(c, 404, "not_found", "no such endpoint", NULL, NULL);
		return false;
	}
	struct gate *g = api->gate;
	pthread_mutex_lock(&g->lock);
	uint64_t seen = g->notified;
	pthread_mutex_unlock(&g->lock);
	struct ist_buf b;
	ist_buf_init(&b, IST_API_MAX_RESPONSE);
	const char *route = NULL;
	uint32_t wait_ms = 0;
	int rc = api->src.get(api->src.ctx, path, query, final, &b, &route, &wait_ms);
	c->label = route;
	if (!route) {
		c->label = NULL;
		c->route = ROUTE_UNMATCHED;
		respond_error(c, 404, "not_found", "no such endpoint", NULL, NULL);
	} else if (rc == -IST_EAGAIN && wait_ms && !final) {
		ist_buf_fini(&b);
		wait_ms = IST_MIN(wait_ms, (uint32_t)IST_API_MAX_WAIT_MS);
		if (held) {
			/* asked again after a notify: wait for the rest */
			pthread_mutex_lock(&g->lock);
			bool again = g->notified != seen || g->api == NULL;
			pthread_mutex_unlock(&g->lock);
			uint64_t now = mono_ms();
			uint64_t left = held->deadline_ms > now ? held->deadline_ms - now : 0;
			nng_sleep_aio(again ? 0 : (nng_duration)left, held->io);
			return true;
		}
		c->v1_path = path;
		c->v1_query = query;
		c->v1_seen = seen;
		if (!pending_start(c, PHASE_WAIT, wait_ms)) {
			finish_abort(c, NNG_ENOMEM);
			return false;
		}
		return true;
	} else if (rc != 0 && b.len > 0 && ist_buf_err(&b) == 0) {
		const char *code;
		uint16_t status = status_of(rc, &code);
		char msg[512];
		snprintf(msg, sizeof(msg), "%.*s", (int)IST_MIN(b.len, sizeof(msg) - 1), (const char *)b.data);
		respond_error(c, status, code, msg, NULL, NULL);
	} else if (rc != 0) {
		respond_source_error(c, rc);
	} else if (b.len == 0) {
		respond_source_error(c, -IST_EINTERNAL);
	} else {
		respond_buf(c, 200, &b);
	}
	ist_buf_fini(&b);
	return false;
}

void ist_api_notify(struct ist_api *api)
{
	if (!api || !api->gate)
		return;
	struct gate *g = api->gate;
	pthread_mutex_lock(&g->lock);
	g->notified++;
	/* completions are never delivered inline: safe under the lock */
	for (struct pending *p = g->active; p; p = p->next)
		if (p->phase == PHASE_WAIT)
			nng_aio_abort(p->io, NNG_EINTR);
	pthread_mutex_unlock(&g->lock);
}

static void handle_healthz(struct call *c)
{
	struct ist_api *api = c->api;
	char why[IST_API_WHY_MAX] = "";
	if (!api->src.healthy || api->src.healthy(api->src.ctx, why, sizeof(why))) {
		respond(c, 200, "text/plain; charset=utf-8", "ok\n", 3, NULL, NULL);
		return;
	}
	why[sizeof(why) - 1] = '\0';
	char body[IST_API_WHY_MAX + 16];
	int n = snprintf(body, sizeof(body), "%s\n", why[0] ? why : "unhealthy");
	respond(c, 503, "text/plain; charset=utf-8", body, (size_t)n, NULL, NULL);
}

static void handle_metrics(struct call *c)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	if (ist_metrics_render(c->api->metrics, &b) != 0) {
		ist_buf_fini(&b);
		finish_abort(c, NNG_ENOMEM);
		return;
	}
	respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len, NULL, NULL);
	ist_buf_fini(&b);
}

/* The body of POST /v1/txs has arrived. */
static void handle_tx_body(struct call *c, const uint8_t *body, size_t len)
{
	struct ist_api *api = c->api;
	struct ist_buf b;
	ist_buf_init(&b, IST_API_MAX_RESPONSE);
	int rc = api->src.submit_tx(api->src.ctx, body, len, &b);
	if (rc != 0 && b.len > 0 && ist_buf_err(&b) == 0) {
		/* the source's reason (plain text) is the error's message */
		const char *code;
		uint16_t status = status_of(rc, &code);
		char msg[512];
		snprintf(msg, sizeof(msg), "%.*s", (int)IST_MIN(b.len, sizeof(msg) - 1), (const char *)b.data);
		respond_error(c, status, code, msg, NULL, NULL);
	} else if (rc != 0) {
		respond_source_error(c, rc);
	} else if (b.len == 0 && ist_buf_err(&b) == 0) {
		static const char accepted[] = "{\"accepted\":true}\n";
		respond(c, 202, "application/json", accepted, sizeof(accepted) - 1, NULL, NULL);
	} else {
		respond_buf(c, 202, &b);
	}
	ist_buf_fini(&b);
}

/* ---- receiving a body ------------------------------------------------- */

/* Drops a reference to p. The last one ends the request: p leaves the gate
 * (ist_api_free() may then proceed) and is freed. A pending request holds
 * one reference from its start to its end, plus one while an I/O is being
 * started (see pending_io). */
static void pending_unref(struct pending *p)
{
	struct gate *g = p->c.api->gate;  /* alive: p is counted in flight */
	pthread_mutex_lock(&g->lock);
	bool last = --p->refs == 0;
	pthread_mutex_unlock(&g->lock);
	if (!last)
		return;
	nng_aio *io = p->io;
	free(p->body);
	free(p->path);
	free(p->query);
	gate_leave(g, p);
	free(p);
	/* maybe inside its own callback: an aio can then only be freed in the
	 * background */
	nng_aio_reap(io);
}

/* Starts the next I/O of p. ist_api_free() aborts the I/O of every active
 * request; checking again once the operation exists covers an abort that
 * came before it. The extra reference keeps p alive meanwhile (the I/O may
 * complete and end the request at once on another thread). */
static void pending_io(struct pending *p)
{
	struct gate *g = p->c.api->gate;
	pthread_mutex_lock(&g->lock);
	p->refs++;
	pthread_mutex_unlock(&g->lock);
	switch (p->phase) {
	case PHASE_CONTINUE:
		p->iov.iov_buf = continue_line;
		p->iov.iov_len = sizeof(continue_line) - 1;
		nng_aio_set_iov(p->io, 1, &p->iov);
		nng_http_conn_write_all(p->c.conn, p->io);
		break;
	case PHASE_BODY:
		p->iov.iov_buf = p->body;
		p->iov.iov_len = p->len;
		nng_aio_set_iov(p->io, 1, &p->iov);
		nng_http_conn_read_all(p->c.conn, p->io);
		break;
	case PHASE_DRAIN:
		p->iov.iov_buf = p->scratch;
		p->iov.iov_len = (size_t)IST_MIN(p->drain_left, (uint64_t)sizeof(p->scratch));
		nng_aio_set_iov(p->io, 1, &p->iov);
		nng_http_conn_read(p->c.conn, p->io);
		break;
	case PHASE_WAIT: {
		/* a notify that came while the source was asked: ask again now */
		pthread_mutex_lock(&g->lock);
		bool again = g->notified != p->seen;
		pthread_mutex_unlock(&g->lock);
		uint64_t now = mono_ms();
		nng_sleep_aio(again ? 0 : (nng_duration)(p->deadline_ms > now ? p->deadline_ms - now : 0), p->io);
		break;
	}
	}
	pthread_mutex_lock(&g->lock);
	bool closing = g->api == NULL;
	pthread_mutex_unlock(&g->lock);
	if (closing)
		nng_aio_abort(p->io, NNG_ECLOSED);
	pending_unref(p);
}

static void pending_cb(void *arg)
{
	struct pending *p = arg;
	int rv = nng_aio_result(p->io);
	if (p->phase == PHASE_WAIT && (rv == 0 || rv == NNG_EINTR)) {
		/* woken (EINTR) or at the deadline (0): ask the source again */
		bool final = rv == 0 || mono_ms() >= p->deadline_ms;
		if (handle_v1(&p->c, p->path, p->query, final, p))
			return;   /* held again: the same reference */
		pending_unref(p);
		return;
	}
	if (rv != 0) {
		/* a client too slow or gone, or the server stopping: no answer */
		finish_abort(&p->c, rv);
		pending_unref(p);
		return;
	}
	switch (p->phase) {
	case PHASE_CONTINUE:
		p->phase = PHASE_BODY;
		pending_io(p);
		return;
	case PHASE_BODY:
		handle_tx_body(&p->c, p->body, p->len);
		break;
	case PHASE_WAIT:
		break;   /* handled above */
	case PHASE_DRAIN: {
		size_t n = nng_aio_count(p->io);
		if (n == 0 || n > p->drain_left) {
			finish_abort(&p->c, NNG_EPROTO);
			pending_unref(p);
			return;
		}
		p->drain_left -= n;
		if (p->drain_left > 0) {
			pending_io(p);
			return;
		}
		char msg[96];
		snprintf(msg, sizeof(msg), "request body larger than %zu bytes", p->c.api->max_body);
		p->c.close = true;
		respond_error(&p->c, 413, "payload_too_large", msg, NULL, NULL);
		break;
	}
	}
	pending_unref(p);
}

/* Continues the call `c` asynchronously. Returns false (nothing started)
 * when out of memory. */
static bool pending_start(struct call *c, enum phase phase, uint64_t len)
{
	struct pending *p = calloc(1, sizeof(*p));
	if (!p)
		return false;
	p->c = *c;
	p->refs = 1;
	p->phase = phase;
	if (phase == PHASE_DRAIN) {
		p->drain_left = len;
	} else if (phase == PHASE_WAIT) {
		/* len is the wait in ms; the request is asked again later */
		p->deadline_ms = mono_ms() + len;
		p->path = strdup(c->v1_path);
		p->query = strdup(c->v1_query);
		p->seen = c->v1_seen;
		if (!p->path || !p->query) {
			free(p->path);
			free(p->query);
			free(p);
			return false;
		}
	} else {
		p->len = (size_t)len;
		p->body = malloc(p->len);
		if (!p->body) {
			free(p);
			return false;
		}
	}
	if (nng_aio_alloc(&p->io, pending_cb, p) != 0) {
		free(p->body);
		free(p);
		return false;
	}
	if (phase != PHASE_WAIT)
		nng_aio_set_timeout(p->io, c->api->body_timeout);
	struct gate *g = c->api->gate;
	pthread_mutex_lock(&g->lock);
	p->next = g->active;
	if (g->active)
		g->active->prev = p;
	g->active = p;
	pthread_mutex_unlock(&g->lock);
	pending_io(p);
	return true;
}

/* POST /v1/txs. Returns true when the call continues asynchronously. */
static bool handle_txs(struct call *c)
{
	struct ist_api *api = c->api;
	uint64_t len;
	enum body_kind kind = request_body(c->req, &len);
	if (!api->src.submit_tx) {
		c->close = kind != BODY_NONE;
		respond_error(c, 501, "not_implemented", "transaction submission is not available yet", NULL, NULL);
		return false;
	}
	switch (kind) {
	case BODY_CHUNKED:
		c->close = true;
		respond_error(c, 411, "length_required", "send the body with a Content-Length (no chunked encoding)",
			      NULL, NULL);
		return false;
	case BODY_BAD:
		c->close = true;
		respond_error(c, 400, "bad_request", "invalid Content-Length", NULL, NULL);
		return false;
	case BODY_NONE:
		respond_error(c, 400, "bad_request", "empty body", NULL, NULL);
		return false;
	case BODY_LENGTH:
		break;
	}
	if (len > api->max_body) {
		/* Read and drop a moderate excess so that the client, still
		 * sending, gets to read the 413 rather than a reset. */
		if (!expects_continue(c->req) && len - api->max_body <= DRAIN_MAX &&
		    pending_start(c, PHASE_DRAIN, len))
			return true;
		char msg[96];
		snprintf(msg, sizeof(msg), "request body larger than %zu bytes", api->max_body);
		c->close = true;
		respond_error(c, 413, "payload_too_large", msg, NULL, NULL);
		return false;
	}
	if (pending_start(c, expects_continue(c->req) ? PHASE_CONTINUE : PHASE_BODY, len))
		return true;
	c->close = true;
	finish_abort(c, NNG_ENOMEM);
	return false;
}

/* Routes a request. Returns true when the call continues asynchronously
 * (the gate is then left when it ends). */
static bool dispatch(struct call *c)
{
	const char *method = nng_http_req_get_method(c->req);
	char path[256];
	uint64_t len;
	const char *height = NULL;

	if (request_body(c->req, &len) != BODY_NONE)
		c->close = true;  /* only POST /v1/txs reads a body; it clears this */

	if (!request_path(nng_http_req_get_uri(c->req), path, sizeof(path))) {
		c->route = ROUTE_UNMATCHED;
	} else if (strcmp(path, "/v1/status") == 0) {
		c->route = ROUTE_STATUS;
	} else if (strncmp(path, "/v1/blocks/", 11) == 0 && !strchr(path + 11, '/')) {
		c->route = ROUTE_BLOCK;
		height = path + 11;
	} else if (strcmp(path, "/v1/txs") == 0) {
		c->route = ROUTE_TXS;
	} else if (strncmp(path, "/v1/", 4) == 0) {
		c->route = ROUTE_V1;
	} else if (strcmp(path, "/healthz") == 0) {
		c->route = ROUTE_HEALTHZ;
	} else if (strcmp(path, "/metrics") == 0) {
		c->route = ROUTE_METRICS;
	} else {
		c->route = ROUTE_UNMATCHED;
	}

	const struct route *r = &routes[c->route];
	if (c->route == ROUTE_UNMATCHED) {
		respond_error(c, 404, "not_found", "no such endpoint", NULL, NULL);
		return false;
	}
	bool ok = r->post ? strcmp(method, "POST") == 0
			  : (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
	if (!ok) {
		respond_error(c, 405, "method_not_allowed", "method not allowed on this endpoint", "Allow", r->allow);
		return false;
	}
	unsigned wait = r->limited ? rate_take(c->api) : 0;
	if (wait) {
		char secs[16];
		snprintf(secs, sizeof(secs), "%u", wait);
		respond_error(c, 429, "too_many_requests", "request rate limit exceeded", "Retry-After", secs);
		return false;
	}
	switch (c->route) {
	case ROUTE_STATUS:
		handle_status(c);
		return false;
	case ROUTE_BLOCK:
		handle_block(c, height);
		return false;
	case ROUTE_TXS:
		c->close = false;
		return handle_txs(c);
	case ROUTE_V1: {
		const char *uri = nng_http_req_get_uri(c->req);
		const char *q = strchr(uri, '?');
		char query[512];
		snprintf(query, sizeof(query), "%s", q ? q + 1 : "");
		char *hash = strchr(query, '#');
		if (hash)
			*hash = '\0';
		return handle_v1(c, path + 4, query, false, NULL);
	}
	case ROUTE_HEALTHZ:
		handle_healthz(c);
		return false;
	case ROUTE_METRICS:
		handle_metrics(c);
		return false;
	case ROUTE_UNMATCHED:
		break;
	}
	return false;
}

/* NNG's handler: runs on NNG's threads. */
static void on_request(nng_aio *aio)
{
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct gate *g = nng_http_handler_get_data(h);
	struct ist_api *api = gate_enter(g);
	if (!api) {
		nng_aio_finish(aio, NNG_ECLOSED);
		return;
	}
	struct call c = {
		.api = api,
		.aio = aio,
		.req = nng_aio_get_input(aio, 0),
		.conn = nng_aio_get_input(aio, 2),
	};
	clock_gettime(CLOCK_MONOTONIC, &c.t0);
	if (!dispatch(&c))
		gate_leave(g, NULL);
}

/* ---- lifecycle -------------------------------------------------------- */

/* nng_url leaves absent parts NULL or "" depending on the part */
static bool empty(const char *s)
{
	return !s || !*s;
}

struct ist_api *ist_api_new(const struct ist_api_config *cfg, const struct ist_api_source *src,
			    struct ist_metrics *metrics, char *errbuf, size_t errlen)
{
	if (!cfg || !src || !cfg->listen_url) {
		set_err(errbuf, errlen, "api: no configuration or source");
		return NULL;
	}
	struct ist_api *api = calloc(1, sizeof(*api));
	if (!api) {
		set_err(errbuf, errlen, "api: out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&api->rate_lock, NULL) != 0) {
		free(api);
		set_err(errbuf, errlen, "api: out of memory");
		return NULL;
	}
	api->src = *src;
	api->max_body = cfg->max_body ? cfg->max_body : IST_API_DEFAULT_MAX_BODY;
	api->body_timeout = (nng_duration)(cfg->body_timeout_ms ? cfg->body_timeout_ms
								: IST_API_DEFAULT_BODY_TIMEOUT_MS);
	api->clock = cfg->clock ? cfg->clock : ist_clock_system();
	api->rate_per_sec = cfg->rate_per_sec;
	api->burst_milli = 1000ull * (cfg->rate_burst ? cfg->rate_burst : cfg->rate_per_sec);
	api->tokens_milli = api->burst_milli;
	if (api->rate_per_sec)
		api->last_ms = ist_clock_mono_ms(api->clock);

	int rv = nng_url_parse(&api->url, cfg->listen_url);
	if (rv != 0) {
		set_err(errbuf, errlen, "api: listen URL \"%s\": %s", cfg->listen_url, nng_strerror(rv));
		goto fail;
	}
	if (strcmp(api->url->u_scheme, "http") != 0) {
		set_err(errbuf, errlen, "api: listen URL \"%s\": only http:// is supported", cfg->listen_url);
		goto fail;
	}
	if (!empty(api->url->u_path) && strcmp(api->url->u_path, "/") != 0) {
		set_err(errbuf, errlen, "api: listen URL \"%s\": a path is not supported", cfg->listen_url);
		goto fail;
	}
	if (!empty(api->url->u_query) || !empty(api->url->u_fragment) || !empty(api->url->u_userinfo)) {
		set_err(errbuf, errlen, "api: listen URL \"%s\": only http://HOST:PORT is supported",
			cfg->listen_url);
		goto fail;
	}

	if (metrics) {
		api->metrics = metrics;
	} else {
		api->metrics = ist_metrics_new();
		api->own_metrics = true;
		if (!api->metrics) {
			set_err(errbuf, errlen, "api: out of memory");
			goto fail;
		}
	}
	api->m_requests = ist_metrics_counter(api->metrics, "isthmus_api_requests_total",
					      "HTTP API requests by route.", "route");
	api->m_seconds = ist_metrics_histogram(api->metrics, "isthmus_api_request_seconds",
					       "HTTP API request latency in seconds, by route.", "route",
					       latency_bounds, IST_ARRAY_SIZE(latency_bounds));
	api->m_responses = ist_metrics_counter(api->metrics, "isthmus_api_responses_total",
					       "HTTP API responses by status code.", "code");
	if (!api->m_requests || !api->m_seconds || !api->m_responses) {
		set_err(errbuf, errlen, "api: cannot register the isthmus_api_* metrics "
			"(registered differently before, or out of memory)");
		goto fail;
	}
	return api;

fail:
	ist_api_free(api);
	return NULL;
}

int ist_api_start(struct ist_api *api, char *errbuf, size_t errlen)
{
	if (!api)
		return -IST_EINVAL;
	if (api->server) {
		set_err(errbuf, errlen, "api: already started");
		return -IST_ESTATE;
	}
	nng_http_server *server = NULL;
	nng_http_handler *h = NULL;
	struct gate *g = NULL;
	const char *what = "listen";
	int rv = nng_http_server_hold(&server, api->url);
	if (rv != 0) {
		server = NULL;
		goto fail;
	}
	what = "handler";
	if ((rv = nng_http_handler_alloc(&h, "/", on_request)) != 0) {
		h = NULL;
		goto fail;
	}
	/* One handler for every path and method: routing, 404 and 405 are ours,
	 * so that every error is JSON. The body is read by POST /v1/txs only,
	 * with its own limit (NNG's would answer 400 to a large body). */
	if ((rv = nng_http_handler_set_method(h, NULL)) != 0 ||
	    (rv = nng_http_handler_set_tree(h)) != 0 ||
	    (rv = nng_http_handler_collect_body(h, false, 0)) != 0)
		goto fail;
	if (!(g = gate_new())) {
		rv = NNG_ENOMEM;
		goto fail;
	}
	g->api = api;
	if ((rv = nng_http_handler_set_data(h, g, gate_free)) != 0) {
		gate_free(g);
		goto fail;
	}
	what = "listen (address already served in this process)";
	if ((rv = nng_http_server_add_handler(server, h)) != 0)
		goto fail;
	what = "listen";
	if ((rv = nng_http_server_start(server)) != 0) {
		nng_http_server_del_handler(server, h);
		goto fail;
	}
	nng_sockaddr sa;
	if ((rv = nng_http_server_get_addr(server, &sa)) != 0) {
		nng_http_server_stop(server);
		nng_http_server_del_handler(server, h);
		goto fail;
	}
	if (sa.s_family == NNG_AF_INET)
		api->port = ntohs(sa.s_in.sa_port);
	else if (sa.s_family == NNG_AF_INET6)
		api->port = ntohs(sa.s_in6.sa_port);
	api->server = server;
	api->handler = h;
	api->gate = g;
	bool v6 = strchr(api->url->u_hostname, ':') != NULL;
	ist_log_info(SUBSYS, "listening on http://%s%s%s:%u", v6 ? "[" : "", api->url->u_hostname, v6 ? "]" : "",
		     (unsigned)api->port);
	return 0;

fail:
	set_err(errbuf, errlen, "api: %s on %s:%s: %s", what, api->url->u_hostname, api->url->u_port,
		nng_strerror(rv));
	if (h)
		nng_http_handler_free(h);  /* frees the gate with it */
	if (server)
		nng_http_server_release(server);
	return rv == NNG_ENOMEM ? -IST_ENOMEM : -IST_ENET;
}

uint16_t ist_api_port(const struct ist_api *api)
{
	return api && api->server ? api->port : 0;
}

void ist_api_free(struct ist_api *api)
{
	if (!api)
		return;
	if (api->server) {
		/* Closes the listener and every connection, which fails the body
		 * reads in progress; handlers still running finish on their own. */
		nng_http_server_stop(api->server);
		struct gate *g = api->gate;
		pthread_mutex_lock(&g->lock);
		g->api = NULL;
		/* The server may be shared with another user of the address and
		 * stay up: abort our reads ourselves. (Completions are never
		 * delivered inline, so this is safe under the lock.) */
		for (struct pending *p = g->active; p; p = p->next)
			nng_aio_abort(p->io, NNG_ECLOSED);
		while (g->inflight > 0)
			pthread_cond_wait(&g->idle, &g->lock);
		pthread_mutex_unlock(&g->lock);
		nng_http_server_del_handler(api->server, api->handler);
		/* drops our reference; NNG frees the gate with its last one */
		nng_http_handler_free(api->handler);
		nng_http_server_release(api->server);
	}
	if (api->own_metrics)
		ist_metrics_free(api->metrics);
	if (api->url)
		nng_url_free(api->url);
	pthread_mutex_destroy(&api->rate_lock);
	free(api);
}
