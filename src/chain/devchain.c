#include "chain/devchain.h"

#include <ctype.h>
#include <inttypes.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/devchain_json.h"
#include "chain/internal.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"

/* Room for chunked framing on top of the body limit while the raw bytes are
 * read (they are decoded in place afterwards). */
#define CHUNK_SLACK (1024 * 1024)
#define FIRST_READ (16 * 1024)
/* "GET " and a request path, for logs */
#define WHAT_MAX (IST_CHAIN_URL_MAX + 48)

struct devchain {
	struct ist_chain_adapter base;   /* first: the adapter pointer is this */
	uint64_t chain_id;
	uint32_t timeout_ms;
	nng_url *url;
	nng_http_client *client;
	nng_aio *aio;                    /* one request at a time: the adapter has one user */
	char prefix[IST_CHAIN_URL_MAX];  /* the URL's path without a trailing '/' */
	struct ist_chain_ratelimit rl;
};

/* An HTTP answer. */
struct answer {
	uint16_t status;
	char *body;                      /* malloc'd, NUL-terminated (for logs), or NULL */
	size_t len;
};

/* Logs why a request failed (rate-limited per adapter) and returns code. */
static int fail(struct devchain *d, int code, const char *what, const char *fmt, ...) IST_PRINTF(4, 5);
static int fail(struct devchain *d, int code, const char *what, const char *fmt, ...)
{
	char why[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	uint64_t held;
	if (ist_chain_ratelimit_ok(&d->rl, ist_chain_mono_ms(), &held)) {
		if (held)
			ist_log_warn(IST_CHAIN_SUBSYS, "devchain %s: %s: %s (%s; %" PRIu64 " more failures since the last warning)",
				     d->base.url, what, why, ist_errname(code), held);
		else
			ist_log_warn(IST_CHAIN_SUBSYS, "devchain %s: %s: %s (%s)", d->base.url, what, why,
				     ist_errname(code));
	} else {
		ist_log_debug(IST_CHAIN_SUBSYS, "devchain %s: %s: %s (%s)", d->base.url, what, why, ist_errname(code));
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

/* Sets the aio's timeout to what is left before `deadline` (monotonic ms);
 * false when nothing is left. */
static bool arm(struct devchain *d, uint64_t deadline)
{
	uint64_t now = ist_chain_mono_ms();
	if (now >= deadline)
		return false;
	nng_aio_set_timeout(d->aio, (nng_duration)(deadline - now));
	return true;
}

/* Waits for the operation just started on d->aio. Returns the NNG result. */
static int await(struct devchain *d)
{
	nng_aio_wait(d->aio);
	return nng_aio_result(d->aio);
}

/* A fresh client. After a connect that failed or timed out, NNG's client
 * may still be finishing the old dial on its internal aio, and a new connect
 * would be handed that dial's stale result: freeing the client waits for
 * it. */
static int client_reset(struct devchain *d)
{
	if (d->client)
		nng_http_client_free(d->client);
	d->client = NULL;
	int rv = nng_http_client_alloc(&d->client, d->url);
	return rv ? from_nng(rv) : 0;
}

/* Reads from conn until the peer closes it, into a growing buffer of at
 * most max bytes (one more is an error). */
static int read_to_close(struct devchain *d, nng_http_conn *conn, uint64_t deadline, size_t max, const char *what,
			 struct answer *ans)
{
	size_t cap = FIRST_READ, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return -IST_ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				free(buf);
				return fail(d, -IST_EPARSE, what, "body over the limit of %zu bytes", max);
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
		if (!arm(d, deadline)) {
			free(buf);
			return fail(d, -IST_ETIMEOUT, what, "no complete body within %" PRIu32 " ms", d->timeout_ms);
		}
		nng_iov iov = { .iov_buf = buf + len, .iov_len = cap - len };
		nng_aio_set_iov(d->aio, 1, &iov);
		nng_http_conn_read(conn, d->aio);
		int rv = await(d);
		if (rv == NNG_ECONNSHUT || rv == NNG_ECLOSED)
			break;   /* the end of the body */
		if (rv != 0) {
			free(buf);
			return fail(d, from_nng(rv), what, "reading the body: %s", nng_strerror(rv));
		}
		len += nng_aio_count(d->aio);
	}
	if (len > max) {
		free(buf);
		return fail(d, -IST_EPARSE, what, "body over the limit of %zu bytes", max);
	}
	buf[len] = '\0';
	ans->body = buf;
	ans->len = len;
	return 0;
}

/* Reads exactly n bytes (n <= the body limit). */
static int read_exact(struct devchain *d, nng_http_conn *conn, uint64_t deadline, size_t n, const char *what,
		      struct answer *ans)
{
	char *buf = malloc(n + 1);
	if (!buf)
		return -IST_ENOMEM;
	if (n > 0) {
		if (!arm(d, deadline)) {
			free(buf);
			return fail(d, -IST_ETIMEOUT, what, "no complete body within %" PRIu32 " ms", d->timeout_ms);
		}
		nng_iov iov = { .iov_buf = buf, .iov_len = n };
		nng_aio_set_iov(d->aio, 1, &iov);
		nng_http_conn_read_all(conn, d->aio);
		int rv = await(d);
		if (rv != 0) {
			free(buf);
			if (rv == NNG_ECONNSHUT || rv == NNG_ECLOSED)
				return fail(d, -IST_ENET, what, "connection closed before the %zu body bytes announced", n);
			return fail(d, from_nng(rv), what, "reading the body: %s", nng_strerror(rv));
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
				return false;   /* a chunk of 4 GiB or more: not from a devchain */
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

static int read_body(struct devchain *d, nng_http_conn *conn, nng_http_res *res, uint64_t deadline,
		     const char *what, struct answer *ans)
{
	const size_t max = IST_CHAIN_DEVCHAIN_MAX_BODY;
	const char *te = nng_http_res_get_header(res, "Transfer-Encoding");
	const char *cl = nng_http_res_get_header(res, "Content-Length");
	if (te) {
		if (strcasecmp(te, "chunked") != 0)
			return fail(d, -IST_EPARSE, what, "unsupported Transfer-Encoding");
		int r = read_to_close(d, conn, deadline, max + CHUNK_SLACK, what, ans);
		if (r < 0)
			return r;
		if (!dechunk(ans->body, ans->len, &ans->len))
			return fail(d, -IST_EPARSE, what, "malformed or truncated chunked body");
		if (ans->len > max)
			return fail(d, -IST_EPARSE, what, "body over the limit of %zu bytes", max);
		return 0;
	}
	if (cl) {
		uint64_t n;
		if (!parse_length(cl, &n))
			return fail(d, -IST_EPARSE, what, "malformed Content-Length");
		if (n > max)
			return fail(d, -IST_EPARSE, what, "body of %" PRIu64 " bytes is over the limit of %zu", n, max);
		return read_exact(d, conn, deadline, (size_t)n, what, ans);
	}
	return read_to_close(d, conn, deadline, max, what, ans);
}

/* A non-200 status as an error: 404 means "no such thing" to the caller
 * that asks for one, 5xx that the server cannot answer now, anything else
 * that it does not speak the protocol. */
static int status_error(struct devchain *d, const char *what, uint16_t status, bool notfound_ok)
{
	if (status == 404 && notfound_ok)
		return -IST_ENOTFOUND;
	if (status >= 500 && status <= 599)
		return fail(d, -IST_ENET, what, "HTTP status %u", (unsigned)status);
	return fail(d, -IST_EPARSE, what, "unexpected HTTP status %u", (unsigned)status);
}

/* GET prefix+path, which must answer 200 (404 is -IST_ENOTFOUND when
 * notfound_ok). Out: what ("GET /v1/head", for logs), *ans with the body
 * (the caller frees ans->body). */
static int get(struct devchain *d, const char *path, bool notfound_ok, char what[WHAT_MAX], struct answer *ans)
{
	char uri[IST_CHAIN_URL_MAX + 32];
	snprintf(uri, sizeof(uri), "%s%s", d->prefix, path);
	snprintf(what, WHAT_MAX, "GET %s", uri);
	uint64_t deadline = ist_chain_mono_ms() + d->timeout_ms;
	nng_http_req *req = NULL;
	nng_http_res *res = NULL;
	nng_http_conn *conn = NULL;
	int r = 0, rv;

	memset(ans, 0, sizeof(*ans));
	if (nng_http_req_alloc(&req, d->url) != 0 || nng_http_res_alloc(&res) != 0) {
		r = -IST_ENOMEM;
		goto out;
	}
	if (nng_http_req_set_uri(req, uri) != 0 || nng_http_req_set_header(req, "Accept", "application/json") != 0 ||
	    nng_http_req_set_header(req, "Connection", "close") != 0) {
		r = -IST_ENOMEM;
		goto out;
	}
	if (!d->client && (r = client_reset(d)) < 0)
		goto out;
	if (!arm(d, deadline)) {
		r = fail(d, -IST_ETIMEOUT, what, "timed out");
		goto out;
	}
	nng_http_client_connect(d->client, d->aio);
	if ((rv = await(d)) != 0) {
		r = fail(d, from_nng(rv), what, "connect: %s", nng_strerror(rv));
		nng_http_client_free(d->client);   /* see client_reset */
		d->client = NULL;
		goto out;
	}
	conn = nng_aio_get_output(d->aio, 0);
	if (!arm(d, deadline)) {
		r = fail(d, -IST_ETIMEOUT, what, "timed out");
		goto out;
	}
	nng_http_conn_write_req(conn, req, d->aio);
	if ((rv = await(d)) != 0) {
		r = fail(d, from_nng(rv), what, "sending the request: %s", nng_strerror(rv));
		goto out;
	}
	if (!arm(d, deadline)) {
		r = fail(d, -IST_ETIMEOUT, what, "timed out");
		goto out;
	}
	nng_http_conn_read_res(conn, res, d->aio);
	if ((rv = await(d)) != 0) {
		/* NNG says EPROTO for a response it cannot parse */
		r = fail(d, rv == NNG_EPROTO ? -IST_EPARSE : from_nng(rv), what, "reading the response: %s",
			 nng_strerror(rv));
		goto out;
	}
	ans->status = nng_http_res_get_status(res);
	r = read_body(d, conn, res, deadline, what, ans);
	if (r == 0 && ans->status != 200)
		r = status_error(d, what, ans->status, notfound_ok);
out:
	if (conn)
		nng_http_conn_close(conn);   /* closes and frees */
	if (res)
		nng_http_res_free(res);
	if (req)
		nng_http_req_free(req);
	if (r < 0) {
		free(ans->body);
		memset(ans, 0, sizeof(*ans));
	}
	return r;
}

static int devchain_head(struct ist_chain_adapter *a, uint64_t *ret_head, uint64_t *ret_finalized)
{
	struct devchain *d = (struct devchain *)a;
	char what[WHAT_MAX], why[(IST_JSON_ERR_FIELD_MAX + IST_JSON_ERR_PROBLEM_MAX + 16)];
	struct answer ans;
	int r = get(d, "/v1/head", false, what, &ans);
	if (r < 0)
		return r;
	struct ist_chain_devchain_head h;
	r = ist_chain_devchain_parse_head(ans.body, ans.len, &h, why, sizeof(why));
	free(ans.body);
	if (r < 0)
		return fail(d, r, what, "%s", why);
	if (h.chain_id != d->chain_id)
		return fail(d, -IST_ECONFIG, what, "the endpoint serves chain %" PRIu64 ", not chain %" PRIu64,
			    h.chain_id, d->chain_id);
	*ret_head = h.height;
	*ret_finalized = h.finalized_height;
	return 0;
}

static int devchain_block(struct ist_chain_adapter *a, uint64_t height, struct ist_chain_block *ret)
{
	struct devchain *d = (struct devchain *)a;
	char path[48], what[WHAT_MAX], why[(IST_JSON_ERR_FIELD_MAX + IST_JSON_ERR_PROBLEM_MAX + 16)];
	snprintf(path, sizeof(path), "/v1/blocks/%" PRIu64, height);
	struct answer ans;
	int r = get(d, path, true, what, &ans);
	if (r < 0)
		return r;
	struct ist_chain_block b;
	r = ist_chain_devchain_parse_block(ans.body, ans.len, &b, why, sizeof(why));
	free(ans.body);
	if (r < 0)
		return fail(d, r, what, "%s", why);
	if (b.height != height) {
		ist_chain_block_fini(&b);
		return fail(d, -IST_EPARSE, what, "height: %" PRIu64 " is not the height asked for", b.height);
	}
	*ret = b;
	return 0;
}

static void devchain_destroy(struct ist_chain_adapter *a)
{
	struct devchain *d = (struct devchain *)a;
	if (d->aio)
		nng_aio_free(d->aio);
	if (d->client)
		nng_http_client_free(d->client);
	if (d->url)
		nng_url_free(d->url);
	free(d);
}

static const struct ist_chain_adapter_ops devchain_ops = {
	.head = devchain_head,
	.block = devchain_block,
	.destroy = devchain_destroy,
};

/* nng_url leaves absent parts NULL or "" depending on the part */
static bool empty(const char *s)
{
	return !s || !*s;
}

int ist_chain_devchain_new(const char *url, uint64_t chain_id, uint32_t timeout_ms, struct ist_chain_adapter **ret,
			   char *errbuf, size_t errlen)
{
	char why[IST_CHAIN_URL_MAX + 128] = "";
	struct devchain *d = NULL;
	int r = -IST_EINVAL, rv;
	if (!url || !ret) {
		snprintf(why, sizeof(why), "devchain: no URL");
		goto fail;
	}
	if (strlen(url) >= IST_CHAIN_URL_MAX) {
		snprintf(why, sizeof(why), "devchain: URL longer than %d bytes", IST_CHAIN_URL_MAX - 1);
		goto fail;
	}
	if (timeout_ms == 0 || timeout_ms > IST_CHAIN_DEVCHAIN_MAX_TIMEOUT_MS) {
		snprintf(why, sizeof(why), "devchain %s: timeout must be from 1 to %d ms (got %" PRIu32 ")", url,
			 IST_CHAIN_DEVCHAIN_MAX_TIMEOUT_MS, timeout_ms);
		goto fail;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		r = -IST_ENOMEM;
		goto fail;
	}
	d->base.ops = &devchain_ops;
	snprintf(d->base.url, sizeof(d->base.url), "%s", url);
	d->chain_id = chain_id;
	d->timeout_ms = timeout_ms;
	if ((rv = nng_url_parse(&d->url, url)) != 0) {
		snprintf(why, sizeof(why), "devchain %s: invalid URL: %s", url, nng_strerror(rv));
		r = rv == NNG_ENOMEM ? -IST_ENOMEM : -IST_EINVAL;
		goto fail;
	}
	if (strcmp(d->url->u_scheme, "http") != 0 || empty(d->url->u_hostname) || !empty(d->url->u_query) ||
	    !empty(d->url->u_fragment) || !empty(d->url->u_userinfo)) {
		snprintf(why, sizeof(why), "devchain %s: must be http://HOST:PORT with an optional path", url);
		goto fail;
	}
	snprintf(d->prefix, sizeof(d->prefix), "%s", empty(d->url->u_path) ? "" : d->url->u_path);
	size_t n = strlen(d->prefix);
	while (n > 0 && d->prefix[n - 1] == '/')
		d->prefix[--n] = '\0';
	if ((rv = nng_aio_alloc(&d->aio, NULL, NULL)) != 0) {
		snprintf(why, sizeof(why), "devchain %s: %s", url, nng_strerror(rv));
		r = from_nng(rv);
		goto fail;
	}
	if ((r = client_reset(d)) < 0) {
		snprintf(why, sizeof(why), "devchain %s: cannot make an HTTP client: %s", url, ist_strerror(r));
		goto fail;
	}
	*ret = &d->base;
	return 0;
fail:
	if (d)
		devchain_destroy(&d->base);
	if (errbuf && errlen)
		snprintf(errbuf, errlen, "%s", why[0] ? why : ist_strerror(r));
	return r;
}
