#include "chain/http.h"

#include <ctype.h>
#include <inttypes.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/internal.h"
#include "common/err.h"
#include "common/json.h"

/* Room for chunked framing on top of the body limit while the raw bytes are
 * read (they are decoded in place afterwards). */
#define CHUNK_SLACK (1024 * 1024)
#define FIRST_READ (16 * 1024)

struct ist_http_client {
	char url_text[IST_HTTP_CLIENT_URL_MAX];
	char prefix[IST_HTTP_CLIENT_URL_MAX];   /* the URL's path without a trailing '/' */
	uint32_t timeout_ms;
	size_t max_body;
	nng_url *url;
	nng_http_client *client;
	nng_aio *aio;                    /* one request at a time */
	pthread_mutex_t mu;              /* guards aborted and the start of operations on aio */
	bool aborted;
};

/* One request in progress: its deadline, its timeout (for messages) and
 * where its reason goes. */
struct call {
	struct ist_http_client *c;
	uint64_t deadline;
	uint32_t timeout_ms;
	char *errbuf;
	size_t errlen;
};

static int fail(struct call *k, int code, const char *fmt, ...) IST_PRINTF(3, 4);
static int fail(struct call *k, int code, const char *fmt, ...)
{
	if (k->errbuf && k->errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(k->errbuf, k->errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* An NNG error of the transport as ours (NNG codes never leave the module). */
static int from_nng(int rv)
{
	switch (rv) {
	case NNG_ETIMEDOUT:
		return -IST_ETIMEOUT;
	case NNG_ENOMEM:
		return -IST_ENOMEM;
	default:
		return -IST_ENET;
	}
}

/* Operations that start an NNG operation on the client's aio. */
enum op { OP_CONNECT, OP_WRITE_REQ, OP_READ_RES, OP_READ, OP_READ_ALL };

/* Starts `op` with the aio's timeout set to what is left before the
 * deadline, and waits for it. Holding the mutex while it starts means an
 * abort either comes before (and the op is not started) or finds the op
 * started (and cancels it). Returns the NNG result; NNG_ETIMEDOUT when
 * nothing is left of the time, NNG_ECANCELED after an abort. */
static int run(struct call *k, enum op op, nng_http_conn *conn, void *arg)
{
	struct ist_http_client *c = k->c;
	uint64_t now = ist_chain_mono_ms();
	if (now >= k->deadline)
		return NNG_ETIMEDOUT;
	pthread_mutex_lock(&c->mu);
	if (c->aborted) {
		pthread_mutex_unlock(&c->mu);
		return NNG_ECANCELED;
	}
	nng_aio_set_timeout(c->aio, (nng_duration)(k->deadline - now));
	switch (op) {
	case OP_CONNECT: nng_http_client_connect(c->client, c->aio); break;
	case OP_WRITE_REQ: nng_http_conn_write_req(conn, arg, c->aio); break;
	case OP_READ_RES: nng_http_conn_read_res(conn, arg, c->aio); break;
	case OP_READ: nng_http_conn_read(conn, c->aio); break;
	case OP_READ_ALL: nng_http_conn_read_all(conn, c->aio); break;
	}
	pthread_mutex_unlock(&c->mu);
	nng_aio_wait(c->aio);
	return nng_aio_result(c->aio);
}

static bool aborted(struct ist_http_client *c)
{
	pthread_mutex_lock(&c->mu);
	bool a = c->aborted;
	pthread_mutex_unlock(&c->mu);
	return a;
}

/* The error of a failed step: an abort wins over what NNG says. */
static int step_fail(struct call *k, int rv, const char *step)
{
	if (rv == NNG_ECANCELED || aborted(k->c))
		return fail(k, -IST_ECLOSED, "%s: aborted", step);
	if (rv == NNG_ETIMEDOUT)
		return fail(k, -IST_ETIMEOUT, "%s: no answer within %" PRIu32 " ms", step, k->timeout_ms);
	return fail(k, from_nng(rv), "%s: %s", step, nng_strerror(rv));
}

/* A fresh NNG client. After a connect that failed or timed out, NNG's
 * client may still be finishing the old dial on its internal aio, and a new
 * connect would be handed that dial's stale result: freeing the client
 * waits for it. */
static int client_reset(struct ist_http_client *c)
{
	if (c->client)
		nng_http_client_free(c->client);
	c->client = NULL;
	int rv = nng_http_client_alloc(&c->client, c->url);
	return rv ? from_nng(rv) : 0;
}

/* Reads from conn until the peer closes it, into a growing buffer of at
 * most max bytes (one more is an error). */
static int read_to_close(struct call *k, nng_http_conn *conn, size_t max, struct ist_http_answer *ans)
{
	struct ist_http_client *c = k->c;
	size_t cap = IST_MIN((size_t)FIRST_READ, max + 1), len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -IST_ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				free(buf);
				return fail(k, -IST_EPARSE, "body over the limit of %zu bytes", max);
			}
			size_t ncap = IST_MIN(cap * 2, max + 1);
			char *nbuf = realloc(buf, ncap + 1);
			if (!nbuf) {
				free(buf);
				return -IST_ENOMEM;
			}
			buf = nbuf;
			cap = ncap;
		}
		nng_iov iov = { .iov_buf = buf + len, .iov_len = cap - len };
		nng_aio_set_iov(c->aio, 1, &iov);
		int rv = run(k, OP_READ, conn, NULL);
		if (rv == NNG_ECONNSHUT || rv == NNG_ECLOSED)
			break;   /* the end of the body */
		if (rv != 0) {
			free(buf);
			if (rv == NNG_ETIMEDOUT)
				return fail(k, -IST_ETIMEOUT, "no complete body within %" PRIu32 " ms", k->timeout_ms);
			return step_fail(k, rv, "reading the body");
		}
		len += nng_aio_count(c->aio);
	}
	if (len > max) {
		free(buf);
		return fail(k, -IST_EPARSE, "body over the limit of %zu bytes", max);
	}
	buf[len] = '\0';
	ans->body = buf;
	ans->len = len;
	return 0;
}

/* Reads exactly n bytes (n <= the body limit). */
static int read_exact(struct call *k, nng_http_conn *conn, size_t n, struct ist_http_answer *ans)
{
	char *buf = malloc(n + 1);
	if (!buf)
		return -IST_ENOMEM;
	if (n > 0) {
		nng_iov iov = { .iov_buf = buf, .iov_len = n };
		nng_aio_set_iov(k->c->aio, 1, &iov);
		int rv = run(k, OP_READ_ALL, conn, NULL);
		if (rv != 0) {
			free(buf);
			if (rv == NNG_ECONNSHUT || rv == NNG_ECLOSED)
				return fail(k, -IST_ENET, "connection closed before the %zu body bytes announced", n);
			if (rv == NNG_ETIMEDOUT)
				return fail(k, -IST_ETIMEOUT, "no complete body within %" PRIu32 " ms", k->timeout_ms);
			return step_fail(k, rv, "reading the body");
		}
	}
	buf[n] = '\0';
	ans->body = buf;
	ans->len = n;
	return 0;
}

/* Decodes a chunked body (RFC 9112 section 7.1) in place. Returns false when
 * it is malformed or truncated. Extensions and trailers are skipped. */
static bool dechunk(char *buf, size_t len, size_t *ret_len)
{
	size_t in = 0, out = 0;
	for (;;) {
		char digits[9];
		size_t nd = 0;
		while (in < len && isxdigit((unsigned char)buf[in])) {
			if (nd == sizeof(digits) - 1)
				return false;   /* a chunk of 4 GiB or more: over any limit */
			digits[nd++] = buf[in++];
		}
		if (nd == 0)
			return false;
		digits[nd] = '\0';
		size_t size = (size_t)strtoul(digits, NULL, 16);
		/* chunk extensions up to the end of the line */
		while (in < len && buf[in] != '\r' && buf[in] != '\n')
			in++;
		if (in + 1 >= len || buf[in] != '\r' || buf[in + 1] != '\n')
			return false;
		in += 2;
		if (size == 0)
			break;
		if (size > len - in || len - in - size < 2 || buf[in + size] != '\r' || buf[in + size + 1] != '\n')
			return false;
		memmove(buf + out, buf + in, size);
		out += size;
		in += size + 2;
	}
	/* trailer fields, then an empty line; a peer that closes right after
	 * the last chunk is forgiven */
	while (in < len) {
		char *eol = memchr(buf + in, '\n', len - in);
		if (!eol)
			return false;
		size_t line = (size_t)(eol - (buf + in));
		in += line + 1;
		if (line == 0 || (line == 1 && buf[in - 2] == '\r'))
			break;
	}
	buf[out] = '\0';
	*ret_len = out;
	return true;
}

/* Strict Content-Length: digits only, surrounding spaces allowed. */
static bool parse_length(const char *s, uint64_t *ret)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char tmp[24];
	size_t n = strcspn(s, " \t");
	if (n == 0 || n >= sizeof(tmp) || s[n + strspn(s + n, " \t")] != '\0')
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* leading zeros are legal in HTTP, not in JSON */
	while (tmp[0] == '0' && tmp[1] != '\0')
		memmove(tmp, tmp + 1, strlen(tmp));
	return ist_json_decimal_u64(tmp, ret);
}

static int read_body(struct call *k, nng_http_conn *conn, nng_http_res *res, struct ist_http_answer *ans)
{
	const size_t max = k->c->max_body;
	const char *te = nng_http_res_get_header(res, "Transfer-Encoding");
	const char *cl = nng_http_res_get_header(res, "Content-Length");
	if (te) {
		if (strcasecmp(te, "chunked") != 0)
			return fail(k, -IST_EPARSE, "unsupported Transfer-Encoding");
		int r = read_to_close(k, conn, max + CHUNK_SLACK, ans);
		if (r < 0)
			return r;
		if (!dechunk(ans->body, ans->len, &ans->len))
			return fail(k, -IST_EPARSE, "malformed or truncated chunked body");
		if (ans->len > max)
			return fail(k, -IST_EPARSE, "body over the limit of %zu bytes", max);
		return 0;
	}
	if (cl) {
		uint64_t n;
		if (!parse_length(cl, &n))
			return fail(k, -IST_EPARSE, "malformed Content-Length");
		if (n > max)
			return fail(k, -IST_EPARSE, "body of %" PRIu64 " bytes is over the limit of %zu", n, max);
		return read_exact(k, conn, (size_t)n, ans);
	}
	return read_to_close(k, conn, max, ans);
}

/* A method is an HTTP token of capitals. */
static bool method_ok(const char *m)
{
	size_t n = strlen(m);
	if (n == 0 || n > 16)
		return false;
	for (size_t i = 0; i < n; i++)
		if (m[i] < 'A' || m[i] > 'Z')
			return false;
	return true;
}

int ist_http_client_request(struct ist_http_client *c, const char *method, const char *path, const void *body,
			    size_t body_len, const char *content_type, uint32_t timeout_ms,
			    struct ist_http_answer *ret, char *errbuf, size_t errlen)
{
	struct call k = {
		.c = c,
		.timeout_ms = timeout_ms ? timeout_ms : c->timeout_ms,
		.errbuf = errbuf,
		.errlen = errlen,
	};
	if (errbuf && errlen)
		errbuf[0] = '\0';
	char uri[IST_HTTP_CLIENT_PATH_MAX];
	if (!method || !method_ok(method))
		return fail(&k, -IST_EINVAL, "invalid HTTP method");
	if (!path || path[0] != '/' || strpbrk(path, " \r\n") ||
	    (size_t)snprintf(uri, sizeof(uri), "%s%s", c->prefix, path) >= sizeof(uri))
		return fail(&k, -IST_EINVAL, "invalid request path");
	if (k.timeout_ms > IST_HTTP_CLIENT_MAX_TIMEOUT_MS)
		return fail(&k, -IST_EINVAL, "timeout over %d ms", IST_HTTP_CLIENT_MAX_TIMEOUT_MS);
	k.deadline = ist_chain_mono_ms() + k.timeout_ms;

	struct ist_http_answer ans = { 0 };
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;
	nng_http_conn *conn = NULL;
	int r = 0, rv;
	if (nng_http_req_alloc(&req, c->url) != 0 || nng_http_res_alloc(&res) != 0 ||
	    nng_http_req_set_method(req, method) != 0 || nng_http_req_set_uri(req, uri) != 0 ||
	    nng_http_req_set_header(req, "Accept", "application/json") != 0 ||
	    nng_http_req_set_header(req, "Connection", "close") != 0 ||
	    (content_type && nng_http_req_set_header(req, "Content-Type", content_type) != 0) ||
	    (body && nng_http_req_set_data(req, body, body_len) != 0)) {
		r = -IST_ENOMEM;
		goto out;
	}
	if (!c->client && (r = client_reset(c)) < 0)
		goto out;
	if ((rv = run(&k, OP_CONNECT, NULL, NULL)) != 0) {
		r = step_fail(&k, rv, "connect");
		nng_http_client_free(c->client);   /* see client_reset */
		c->client = NULL;
		goto out;
	}
	conn = nng_aio_get_output(c->aio, 0);
	if ((rv = run(&k, OP_WRITE_REQ, conn, req)) != 0) {
		r = step_fail(&k, rv, "sending the request");
		goto out;
	}
	if ((rv = run(&k, OP_READ_RES, conn, res)) != 0) {
		/* NNG says EPROTO for a response it cannot parse */
		if (rv == NNG_EPROTO)
			r = fail(&k, -IST_EPARSE, "reading the response: %s", nng_strerror(rv));
		else
			r = step_fail(&k, rv, "reading the response");
		goto out;
	}
	ans.status = nng_http_res_get_status(res);
	r = read_body(&k, conn, res, &ans);
out:
	if (conn)
		nng_http_conn_close(conn);   /* closes and frees */
	if (res)
		nng_http_res_free(res);
	if (req)
		nng_http_req_free(req);
	if (r < 0) {
		ist_http_answer_fini(&ans);
		return r;
	}
	*ret = ans;
	return 0;
}

void ist_http_answer_fini(struct ist_http_answer *a)
{
	if (!a)
		return;
	free(a->body);
	memset(a, 0, sizeof(*a));
}

void ist_http_client_abort(struct ist_http_client *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->aborted = true;
	nng_aio_abort(c->aio, NNG_ECANCELED);
	pthread_mutex_unlock(&c->mu);
}

const char *ist_http_client_url(const struct ist_http_client *c)
{
	return c->url_text;
}

const char *ist_http_client_prefix(const struct ist_http_client *c)
{
	return c->prefix;
}

void ist_http_client_free(struct ist_http_client *c)
{
	if (!c)
		return;
	if (c->aio)
		nng_aio_free(c->aio);
	if (c->client)
		nng_http_client_free(c->client);
	if (c->url)
		nng_url_free(c->url);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* nng_url leaves absent parts NULL or "" depending on the part */
static bool empty(const char *s)
{
	return !s || !*s;
}

int ist_http_client_new(const char *url_base, uint32_t timeout_ms, size_t max_body, struct ist_http_client **ret,
			char *errbuf, size_t errlen)
{
	char why[IST_HTTP_CLIENT_URL_MAX + 128] = "";
	struct ist_http_client *c = NULL;
	int r = -IST_EINVAL, rv;
	if (!url_base || !ret) {
		snprintf(why, sizeof(why), "no URL");
		goto fail;
	}
	if (strlen(url_base) >= IST_HTTP_CLIENT_URL_MAX) {
		snprintf(why, sizeof(why), "URL longer than %d bytes", IST_HTTP_CLIENT_URL_MAX - 1);
		goto fail;
	}
	if (timeout_ms == 0 || timeout_ms > IST_HTTP_CLIENT_MAX_TIMEOUT_MS) {
		snprintf(why, sizeof(why), "%s: timeout must be from 1 to %d ms (got %" PRIu32 ")", url_base,
			 IST_HTTP_CLIENT_MAX_TIMEOUT_MS, timeout_ms);
		goto fail;
	}
	if (max_body == 0 || max_body > IST_HTTP_CLIENT_MAX_BODY) {
		snprintf(why, sizeof(why), "%s: body limit must be from 1 to %u bytes (got %zu)", url_base,
			 IST_HTTP_CLIENT_MAX_BODY, max_body);
		goto fail;
	}
	if (!(c = calloc(1, sizeof(*c)))) {
		r = -IST_ENOMEM;
		goto fail;
	}
	pthread_mutex_init(&c->mu, NULL);
	snprintf(c->url_text, sizeof(c->url_text), "%s", url_base);
	c->timeout_ms = timeout_ms;
	c->max_body = max_body;
	if ((rv = nng_url_parse(&c->url, url_base)) != 0) {
		snprintf(why, sizeof(why), "%s: invalid URL: %s", url_base, nng_strerror(rv));
		r = rv == NNG_ENOMEM ? -IST_ENOMEM : -IST_EINVAL;
		goto fail;
	}
	if (strcmp(c->url->u_scheme, "http") != 0 || empty(c->url->u_hostname) || !empty(c->url->u_query) ||
	    !empty(c->url->u_fragment) || !empty(c->url->u_userinfo)) {
		snprintf(why, sizeof(why), "%s: must be http://HOST:PORT with an optional path", url_base);
		goto fail;
	}
	snprintf(c->prefix, sizeof(c->prefix), "%s", empty(c->url->u_path) ? "" : c->url->u_path);
	size_t n = strlen(c->prefix);
	while (n > 0 && c->prefix[n - 1] == '/')
		c->prefix[--n] = '\0';
	if ((rv = nng_aio_alloc(&c->aio, NULL, NULL)) != 0) {
		snprintf(why, sizeof(why), "%s: %s", url_base, nng_strerror(rv));
		r = from_nng(rv);
		goto fail;
	}
	if ((r = client_reset(c)) < 0) {
		snprintf(why, sizeof(why), "%s: cannot make an HTTP client: %s", url_base, ist_strerror(r));
		goto fail;
	}
	*ret = c;
	return 0;
fail:
	ist_http_client_free(c);
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", why[0] ? why : ist_strerror(r));
	return r;
}
