/*
 * A small JSON-over-HTTP server on NNG (api/http.h).
 */
#include "api/http.h"

#include <arpa/inet.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "common/log.h"

#define SUBSYS "http"
#define DEFAULT_MAX_BODY (1024 * 1024)

/*
 * What a handler call reaches the server through. NNG owns it as the
 * handler's data and frees it with its last reference to the handler: NNG
 * may still dispatch a request that arrived just before the server stopped,
 * and the gate tells such a late call that the server is gone (`s` NULL).
 * `inflight` lets ist_http_server_stop() wait for the calls in progress.
 */
struct gate {
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct ist_http_server *s;
	unsigned inflight;
};

struct ist_http_server {
	ist_http_handler_fn fn;
	void *ctx;
	nng_url *url;
	nng_http_server *server;
	nng_http_handler *handler;
	struct gate *gate;
	uint16_t port;
};

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

static void gate_free(void *arg)
{
	struct gate *g = arg;
	pthread_cond_destroy(&g->idle);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

/* ---- handler helpers ------------------------------------------------------ */

void ist_http_reply_json(struct ist_http_response *res, uint16_t status, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	ist_buf_fini(&res->body);
	ist_buf_init(&res->body, IST_HTTP_MAX_RESPONSE);
	res->content_type = "application/json";
	if (!text) {
		res->status = 500;
		static const char internal[] = "{\"error\":\"internal\",\"detail\":\"cannot build the response\"}\n";
		ist_buf_put(&res->body, internal, sizeof(internal) - 1);
		return;
	}
	res->status = status;
	ist_buf_put(&res->body, text, strlen(text));
	ist_buf_put_u8(&res->body, '\n');
	free(text);
}

void ist_http_reply_error(struct ist_http_response *res, uint16_t status, const char *code, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	/* json_string refuses invalid UTF-8 (a detail may quote input) */
	json_t *d = json_string(detail);
	if (!d)
		d = json_string("(detail not valid UTF-8)");
	ist_http_reply_json(res, status, json_pack("{s:s,s:o}", "error", code, "detail", d));
}

void ist_http_reply_text(struct ist_http_response *res, uint16_t status, const char *text, size_t len)
{
	ist_buf_fini(&res->body);
	ist_buf_init(&res->body, IST_HTTP_MAX_RESPONSE);
	res->status = status;
	res->content_type = "text/plain; charset=utf-8";
	ist_buf_put(&res->body, text, len);
}

bool ist_http_query_get(const char *query, const char *name, char *out, size_t outlen, bool *ret_present)
{
	size_t nlen = strlen(name);
	if (ret_present)
		*ret_present = false;
	for (const char *p = query; p && *p;) {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
			if (ret_present)
				*ret_present = true;
			size_t vlen = len - nlen - 1;
			if (vlen >= outlen)
				return false;
			memcpy(out, p + nlen + 1, vlen);
			out[vlen] = '\0';
			return true;
		}
		if (len == nlen && strncmp(p, name, nlen) == 0) {
			if (ret_present)
				*ret_present = true;
			return false;
		}
		p = end ? end + 1 : NULL;
	}
	return false;
}

/* ---- serving ---------------------------------------------------------------- */

/* Splits the request target into path and query (no fragment, no scheme and
 * authority for the absolute form). False when the path does not fit. */
static bool split_target(const char *uri, char *path, size_t pathlen, const char **ret_query)
{
	if (strncasecmp(uri, "http://", 7) == 0) {
		uri = strchr(uri + 7, '/');
		if (!uri)
			uri = "/";
	}
	size_t n = strcspn(uri, "?#");
	if (n >= pathlen)
		return false;
	memcpy(path, uri, n);
	path[n] = '\0';
	*ret_query = uri[n] == '?' ? uri + n + 1 : "";
	return true;
}

static void send_response(nng_aio *aio, const struct ist_http_response *res)
{
	nng_http_res *r = NULL;
	const char *ctype = res->content_type ? res->content_type : "application/json";
	uint16_t status = res->status;
	const void *body = res->body.data;
	size_t len = res->body.len;
	static const char internal[] = "{\"error\":\"internal\",\"detail\":\"response too large or out of memory\"}\n";
	if (ist_buf_err(&res->body) != 0) {
		status = 500;
		ctype = "application/json";
		body = internal;
		len = sizeof(internal) - 1;
	}
	if (nng_http_res_alloc(&r) != 0 || nng_http_res_set_status(r, status) != 0 ||
	    nng_http_res_set_header(r, "Content-Type", ctype) != 0 || nng_http_res_copy_data(r, body, len) != 0) {
		if (r)
			nng_http_res_free(r);
		nng_aio_finish(aio, NNG_ENOMEM);
		return;
	}
	nng_aio_set_output(aio, 0, r);
	nng_aio_finish(aio, 0);
}

static void on_request(nng_aio *aio)
{
	nng_http_handler *h = nng_aio_get_input(aio, 1);
	struct gate *g = nng_http_handler_get_data(h);
	pthread_mutex_lock(&g->lock);
	struct ist_http_server *s = g->s;
	if (s)
		g->inflight++;
	pthread_mutex_unlock(&g->lock);
	if (!s) {
		nng_aio_finish(aio, NNG_ECLOSED);
		return;
	}

	nng_http_req *req = nng_aio_get_input(aio, 0);
	struct ist_http_response res = { .status = 500 };
	ist_buf_init(&res.body, IST_HTTP_MAX_RESPONSE);
	char path[IST_HTTP_PATH_MAX];
	const char *query = "";
	if (!split_target(nng_http_req_get_uri(req), path, sizeof(path), &query)) {
		ist_http_reply_error(&res, 414, "uri-too-long", "request path longer than %d bytes", IST_HTTP_PATH_MAX - 1);
	} else {
		void *body = NULL;
		size_t len = 0;
		nng_http_req_get_data(req, &body, &len);
		struct ist_http_request r = {
			.method = nng_http_req_get_method(req),
			.path = path,
			.query = query,
			.body = len ? body : NULL,
			.body_len = len,
		};
		s->fn(s->ctx, &r, &res);
	}
	send_response(aio, &res);
	ist_buf_fini(&res.body);

	pthread_mutex_lock(&g->lock);
	if (--g->inflight == 0)
		pthread_cond_broadcast(&g->idle);
	pthread_mutex_unlock(&g->lock);
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* Parses and checks a listen URL. Out: *ret (nng_url_free it). */
static int url_parse(const char *url, nng_url **ret, char *errbuf, size_t errlen)
{
	nng_url *u = NULL;
	int rv = nng_url_parse(&u, url);
	if (rv != 0) {
		set_err(errbuf, errlen, "listen URL \"%s\": %s", url, nng_strerror(rv));
		return -IST_EINVAL;
	}
	if (strcmp(u->u_scheme, "http") != 0 || (!empty(u->u_path) && strcmp(u->u_path, "/") != 0) ||
	    !empty(u->u_query) || !empty(u->u_fragment) || !empty(u->u_userinfo) || empty(u->u_hostname)) {
		set_err(errbuf, errlen, "listen URL \"%s\": must be http://HOST:PORT", url);
		nng_url_free(u);
		return -IST_EINVAL;
	}
	*ret = u;
	return 0;
}

int ist_http_url_check(const char *url, char *errbuf, size_t errlen)
{
	nng_url *u;
	int r = url_parse(url, &u, errbuf, errlen);
	if (r == 0)
		nng_url_free(u);
	return r;
}

int ist_http_server_start(const char *url, size_t max_body, ist_http_handler_fn fn, void *ctx,
			  struct ist_http_server **ret, char *errbuf, size_t errlen)
{
	struct ist_http_server *s = calloc(1, sizeof(*s));
	if (!s) {
		set_err(errbuf, errlen, "out of memory");
		return -IST_ENOMEM;
	}
	s->fn = fn;
	s->ctx = ctx;
	int r = url_parse(url, &s->url, errbuf, errlen);
	int rv;
	if (r < 0) {
		s->url = NULL;
		goto fail;
	}
	r = -IST_ENET;
	const char *what = "listen";
	struct gate *g = NULL;
	if ((rv = nng_http_server_hold(&s->server, s->url)) != 0) {
		s->server = NULL;
		goto nng_fail;
	}
	what = "handler";
	if ((rv = nng_http_handler_alloc(&s->handler, "/", on_request)) != 0) {
		s->handler = NULL;
		goto nng_fail;
	}
	if ((rv = nng_http_handler_set_method(s->handler, NULL)) != 0 ||
	    (rv = nng_http_handler_set_tree(s->handler)) != 0 ||
	    (rv = nng_http_handler_collect_body(s->handler, true, max_body ? max_body : DEFAULT_MAX_BODY)) != 0)
		goto nng_fail;
	g = calloc(1, sizeof(*g));
	if (!g || pthread_mutex_init(&g->lock, NULL) != 0) {
		free(g);
		rv = NNG_ENOMEM;
		goto nng_fail;
	}
	if (pthread_cond_init(&g->idle, NULL) != 0) {
		pthread_mutex_destroy(&g->lock);
		free(g);
		rv = NNG_ENOMEM;
		goto nng_fail;
	}
	g->s = s;
	if ((rv = nng_http_handler_set_data(s->handler, g, gate_free)) != 0) {
		gate_free(g);
		goto nng_fail;
	}
	s->gate = g;
	what = "listen (address already served in this process)";
	if ((rv = nng_http_server_add_handler(s->server, s->handler)) != 0)
		goto nng_fail;
	what = "listen";
	if ((rv = nng_http_server_start(s->server)) != 0) {
		nng_http_server_del_handler(s->server, s->handler);
		goto nng_fail;
	}
	nng_sockaddr sa;
	if ((rv = nng_http_server_get_addr(s->server, &sa)) != 0) {
		nng_http_server_stop(s->server);
		nng_http_server_del_handler(s->server, s->handler);
		goto nng_fail;
	}
	if (sa.s_family == NNG_AF_INET)
		s->port = ntohs(sa.s_in.sa_port);
	else if (sa.s_family == NNG_AF_INET6)
		s->port = ntohs(sa.s_in6.sa_port);
	/* with the real port: what scripts wait for when they asked for port 0 */
	bool v6 = strchr(s->url->u_hostname, ':') != NULL;
	ist_log_info(SUBSYS, "listening on http://%s%s%s:%u", v6 ? "[" : "", s->url->u_hostname, v6 ? "]" : "",
		     (unsigned)s->port);
	*ret = s;
	return 0;

nng_fail:
	if (rv == NNG_ENOMEM)
		r = -IST_ENOMEM;
	set_err(errbuf, errlen, "%s on %s: %s", what, url, nng_strerror(rv));
	if (s->handler)
		nng_http_handler_free(s->handler);  /* frees the gate with it */
	if (s->server)
		nng_http_server_release(s->server);
fail:
	if (s->url)
		nng_url_free(s->url);
	free(s);
	return r;
}

uint16_t ist_http_server_port(const struct ist_http_server *s)
{
	return s ? s->port : 0;
}

void ist_http_server_stop(struct ist_http_server *s)
{
	if (!s)
		return;
	nng_http_server_stop(s->server);
	struct gate *g = s->gate;
	pthread_mutex_lock(&g->lock);
	g->s = NULL;
	while (g->inflight > 0)
		pthread_cond_wait(&g->idle, &g->lock);
	pthread_mutex_unlock(&g->lock);
	nng_http_server_del_handler(s->server, s->handler);
	/* drops our reference; NNG frees the gate with its last one */
	nng_http_handler_free(s->handler);
	nng_http_server_release(s->server);
	nng_url_free(s->url);
	free(s);
}
