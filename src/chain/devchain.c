#include "chain/devchain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/devchain_json.h"
#include "chain/http.h"
#include "chain/internal.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"

/* "GET " and a request path, for logs */
#define WHAT_MAX (IST_CHAIN_URL_MAX + 48)

struct devchain {
	struct ist_chain_adapter base;   /* first: the adapter pointer is this */
	uint64_t chain_id;
	struct ist_http_client *http;    /* one request at a time: the adapter has one user */
	struct ist_chain_ratelimit rl;
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
 * (the caller finishes it). */
static int get(struct devchain *d, const char *path, bool notfound_ok, char what[WHAT_MAX],
	       struct ist_http_answer *ans)
{
	char why[IST_HTTP_CLIENT_ERR_MAX];
	snprintf(what, WHAT_MAX, "GET %s%s", ist_http_client_prefix(d->http), path);
	int r = ist_http_client_request(d->http, "GET", path, NULL, 0, NULL, 0, ans, why, sizeof(why));
	if (r < 0)
		return why[0] ? fail(d, r, what, "%s", why) : r;
	if (ans->status != 200) {
		r = status_error(d, what, ans->status, notfound_ok);
		ist_http_answer_fini(ans);
	}
	return r;
}

static int devchain_head(struct ist_chain_adapter *a, uint64_t *ret_head, uint64_t *ret_finalized)
{
	struct devchain *d = (struct devchain *)a;
	char what[WHAT_MAX], why[(IST_JSON_ERR_FIELD_MAX + IST_JSON_ERR_PROBLEM_MAX + 16)];
	struct ist_http_answer ans;
	int r = get(d, "/v1/head", false, what, &ans);
	if (r < 0)
		return r;
	struct ist_chain_devchain_head h;
	r = ist_chain_devchain_parse_head(ans.body, ans.len, &h, why, sizeof(why));
	ist_http_answer_fini(&ans);
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
	struct ist_http_answer ans;
	int r = get(d, path, true, what, &ans);
	if (r < 0)
		return r;
	struct ist_chain_block b;
	r = ist_chain_devchain_parse_block(ans.body, ans.len, &b, why, sizeof(why));
	ist_http_answer_fini(&ans);
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
	ist_http_client_free(d->http);
	free(d);
}

static const struct ist_chain_adapter_ops devchain_ops = {
	.head = devchain_head,
	.block = devchain_block,
	.destroy = devchain_destroy,
};

int ist_chain_devchain_new(const char *url, uint64_t chain_id, uint32_t timeout_ms, struct ist_chain_adapter **ret,
			   char *errbuf, size_t errlen)
{
	char why[IST_CHAIN_URL_MAX + 160] = "";
	struct devchain *d = NULL;
	int r = -IST_EINVAL;
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
	char err[IST_HTTP_CLIENT_URL_MAX + 128];
	if ((r = ist_http_client_new(url, timeout_ms, IST_CHAIN_DEVCHAIN_MAX_BODY, &d->http, err, sizeof(err))) < 0) {
		snprintf(why, sizeof(why), "devchain %s", err);
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
