/*
 * A small JSON-over-HTTP server on NNG's HTTP server, for programs whose
 * whole API is one routing function (isthmus-devchain). The node's API
 * (api.h) has its own, richer machinery (rate limits, 100-continue, route
 * metrics); this one keeps to what a simulator needs.
 *
 * Every request, whatever its method and path, goes to one handler
 * function with its body already read (NNG collects it, up to max_body
 * bytes, from a Content-Length; a larger one is refused by NNG itself with
 * 400 and its own HTML page, and a chunked body is not read: the handler
 * sees none). The handler fills a response: a status, a content type and a
 * body.
 *
 * Threads: handlers run on NNG's threads, several at once; the handler
 * must be thread-safe. ist_http_server_stop() waits for the handlers in
 * progress, and no handler call starts after it returns.
 */
#ifndef IST_API_HTTP_H
#define IST_API_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/macro.h"

#define IST_HTTP_MAX_RESPONSE (32u * 1024 * 1024)  /* body a handler may write */
#define IST_HTTP_PATH_MAX 512                      /* longer paths are answered 414 */

/* A request, borrowed for the handler call. */
struct ist_http_request {
	const char *method;       /* "GET", "POST", ... */
	const char *path;         /* as sent, without query or fragment */
	const char *query;        /* after '?', without fragment; "" when none */
	const uint8_t *body;      /* NULL when there is none */
	size_t body_len;
};

/* What the handler answers. The server initializes it (status 500, no
 * body, limit IST_HTTP_MAX_RESPONSE) and frees the body afterwards; a body
 * that failed (ist_buf_err) is answered 500. */
struct ist_http_response {
	uint16_t status;
	const char *content_type;  /* a static string; NULL = "application/json" */
	struct ist_buf body;
};

typedef void (*ist_http_handler_fn)(void *ctx, const struct ist_http_request *req, struct ist_http_response *res);

struct ist_http_server;

/*
 * Serves `url` ("http://HOST:PORT", no path; port 0 picks a free port) with
 * `fn` (called with `ctx`). Bodies above max_body bytes (0 = 1 MiB) are
 * refused. Out: *ret (stop it with ist_http_server_stop).
 * Returns 0, -IST_EINVAL (a URL that is not http://HOST:PORT), -IST_ENET
 * (cannot listen: address in use, not local, or already served in this
 * process), -IST_ENOMEM; errbuf (when not NULL) gets one line naming the URL.
 */
int ist_http_server_start(const char *url, size_t max_body, ist_http_handler_fn fn, void *ctx,
			  struct ist_http_server **ret, char *errbuf, size_t errlen) IST_WUR;

/* Checks that `url` is one ist_http_server_start takes (http://HOST:PORT),
 * without listening. Returns 0 or -IST_EINVAL with one line in errbuf. */
int ist_http_url_check(const char *url, char *errbuf, size_t errlen) IST_WUR;

/* The TCP port served (useful with port 0). */
uint16_t ist_http_server_port(const struct ist_http_server *s);

/* Stops serving (closes the listener and open connections), waits for the
 * handler calls in progress, and frees `s`. Accepts NULL. Must not be
 * called from a handler. */
void ist_http_server_stop(struct ist_http_server *s);

/* ---- for handlers ---- */

/* Answers `status` with `doc` as compact JSON and a final newline; takes
 * the reference to `doc` (NULL, e.g. from a failed json_pack, answers 500). */
void ist_http_reply_json(struct ist_http_response *res, uint16_t status, json_t *doc);

/* Answers `status` with {"error": code, "detail": "..."}. */
void ist_http_reply_error(struct ist_http_response *res, uint16_t status, const char *code, const char *fmt, ...)
	IST_PRINTF(4, 5);

/* Answers `status` with `len` bytes of `text` as text/plain. */
void ist_http_reply_text(struct ist_http_response *res, uint16_t status, const char *text, size_t len);

/* Finds parameter `name` in a query string ("a=1&b=2"); no percent-decoding
 * (the values we take are numbers). Returns true and the value, copied into
 * out (NUL-terminated), when present and it fits outlen; false otherwise
 * (*ret_present says whether the name was there at all; may be NULL). */
bool ist_http_query_get(const char *query, const char *name, char *out, size_t outlen, bool *ret_present);

#endif
