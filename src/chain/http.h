/*
 * A small, careful HTTP/1.1 client on NNG's HTTP client: one request at a
 * time, one connection per request (Connection: close), every request
 * bounded in time (connection to last body byte) and in body size.
 *
 * Extracted from the devchain adapter (chain/devchain.c) so that the
 * `isthmus` commands that talk to validators and chains (send, relay) share
 * it. A request answers with whatever HTTP status the server sent: the
 * caller decides what a status means. Failures to get an answer at all are
 * errors of their own:
 *
 *   -IST_ENET      no connection (refused, unreachable, reset), or the
 *                  connection ended before the whole answer came
 *   -IST_ETIMEOUT  the answer was not complete within the timeout
 *   -IST_EPARSE    the server does not speak HTTP (an answer NNG cannot
 *                  parse, a bad Content-Length, an unsupported or broken
 *                  Transfer-Encoding) or its body is over the limit
 *   -IST_ECLOSED   ist_http_client_abort() was called
 *   -IST_ENOMEM
 *
 * Bodies are read from a Content-Length, chunked (decoded), or up to the
 * close; in each case at most `max_body` bytes, a longer one is refused
 * (unread where the length is announced).
 *
 * Threads: a client is used by one thread at a time, except for
 * ist_http_client_abort(), which any thread may call at any time.
 */
#ifndef IST_CHAIN_HTTP_H
#define IST_CHAIN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

/* Bytes of a base URL, NUL included. */
#define IST_HTTP_CLIENT_URL_MAX 256
/* Bytes of a request path with its query, NUL included. */
#define IST_HTTP_CLIENT_PATH_MAX 512
/* Largest timeout_ms accepted (10 minutes). */
#define IST_HTTP_CLIENT_MAX_TIMEOUT_MS 600000
/* Largest max_body accepted (64 MiB). */
#define IST_HTTP_CLIENT_MAX_BODY (64u * 1024 * 1024)
/* A buffer that holds every reason a request gives. */
#define IST_HTTP_CLIENT_ERR_MAX 512

struct ist_http_client;

/* An answer: any HTTP status. */
struct ist_http_answer {
	uint16_t status;
	char *body;     /* malloc'd, NUL-terminated (not part of len); never NULL after success */
	size_t len;
};

/*
 * Makes a client for the server at `url_base`: "http://HOST:PORT" with an
 * optional path prefix ("http://HOST:PORT/devchain": a request for
 * "/v1/head" asks for "/devchain/v1/head"; trailing slashes of the prefix
 * are dropped).
 *
 * In: url_base (copied; shorter than IST_HTTP_CLIENT_URL_MAX, http only, no
 * query, fragment or user info), timeout_ms (1 ..
 * IST_HTTP_CLIENT_MAX_TIMEOUT_MS: the bound on one whole request), max_body
 * (1 .. IST_HTTP_CLIENT_MAX_BODY: bytes of an answer's body).
 * Out: *ret (free with ist_http_client_free), written only on success;
 * errbuf (errlen bytes, may be NULL) one line on failure, naming the URL.
 * Returns 0, -IST_EINVAL (a bad URL, timeout or limit), -IST_ENOMEM or
 * -IST_ENET (NNG could not make a client). The server is not contacted.
 */
int ist_http_client_new(const char *url_base, uint32_t timeout_ms, size_t max_body, struct ist_http_client **ret,
			char *errbuf, size_t errlen) IST_WUR;

/* Frees the client; accepts NULL. No request may be in progress. */
void ist_http_client_free(struct ist_http_client *c);

/* The base URL as given (borrowed, lives as long as the client). */
const char *ist_http_client_url(const struct ist_http_client *c);
/* The URL's path prefix without a trailing '/' ("" for none; borrowed). */
const char *ist_http_client_prefix(const struct ist_http_client *c);

/*
 * Sends one request and reads the whole answer.
 *
 * In: method ("GET", "POST", ...), path ("/v1/events?after=3": the prefix
 * is put in front; it must start with '/' and be shorter than
 * IST_HTTP_CLIENT_PATH_MAX with the prefix), body/body_len (borrowed for
 * the call; NULL/0 for none; sent with a Content-Length), content_type (of
 * the body; NULL: none sent), timeout_ms (0: the client's; else 1 ..
 * IST_HTTP_CLIENT_MAX_TIMEOUT_MS for this request only, e.g. a long poll).
 * The request asks for JSON (Accept: application/json).
 * Out: *ret (written only on success; the caller frees it with
 * ist_http_answer_fini), errbuf (errlen bytes, may be NULL): on failure,
 * one line saying which step failed ("connect: Connection refused",
 * "no complete body within 5000 ms"), without the URL.
 * Returns 0 whatever the status, or an error of the list at the top
 * (-IST_EINVAL for a bad method or path).
 */
int ist_http_client_request(struct ist_http_client *c, const char *method, const char *path, const void *body,
			    size_t body_len, const char *content_type, uint32_t timeout_ms,
			    struct ist_http_answer *ret, char *errbuf, size_t errlen) IST_WUR;

/* Frees an answer's body and zeroes it; accepts one already finished. */
void ist_http_answer_fini(struct ist_http_answer *a);

/*
 * Ends the request in progress, if any, with -IST_ECLOSED, and makes every
 * later request fail so at once. Any thread (a signal-handling thread); not
 * from a signal handler.
 */
void ist_http_client_abort(struct ist_http_client *c);

#endif
