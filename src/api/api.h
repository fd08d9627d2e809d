/*
 * The relayer and operator HTTP API (docs/api.md), served by NNG's HTTP
 * server.
 *
 * The api module does not know the node: what it serves comes from a
 * struct ist_api_source of callbacks the node fills in (tests pass a fake).
 * Routes:
 *
 *   GET  /v1/status            node status (JSON)
 *   GET  /v1/blocks/{height}   a committed block (JSON from the source)
 *   POST /v1/txs               submit a transaction (bytes to the source)
 *   GET  /v1/...               everything else under /v1/: the source's get
 *                              (relayer routes, long polls)
 *   GET  /healthz              "ok" (200) or the reason (503)
 *   GET  /metrics              the metrics registry, Prometheus text 0.0.4
 *
 * HEAD is answered like GET without the body. Every JSON error is
 * {"error":{"code":"not_found","message":"..."}}; an unknown path is 404, a
 * known path with another method 405 with an Allow header. No CORS headers
 * are sent: browsers on other origins cannot read the API (a reverse proxy
 * may add them).
 *
 * The API counts itself in the registry it is given:
 *   isthmus_api_requests_total{route}      requests by route template
 *   isthmus_api_request_seconds{route}     latency histogram by route
 *   isthmus_api_responses_total{code}      responses by HTTP status
 * A route label is always a template ("/v1/blocks/{height}", "unmatched"),
 * never the raw path, so clients cannot grow the registry.
 *
 * Threads: handlers run on NNG's threads, several at once. Every source
 * callback may therefore be called concurrently from several threads and
 * must be thread-safe and quick (a short LMDB read transaction, no waiting
 * on the consensus thread).
 */
#ifndef IST_API_API_H
#define IST_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"

#define IST_API_CHAIN_ID_MAX 64                  /* bytes of the chain id name */
#define IST_API_VERSION_MAX 31                   /* bytes of the version string */
#define IST_API_WHY_MAX 256                      /* bytes of an unhealthy reason, NUL included */
#define IST_API_DEFAULT_MAX_BODY (256 * 1024)    /* POST body limit when the config says 0 */
#define IST_API_DEFAULT_BODY_TIMEOUT_MS 10000    /* time to receive a body when the config says 0 */
#define IST_API_MAX_RESPONSE (16 * 1024 * 1024)  /* JSON a source may write for one response */
#define IST_API_MAX_WAIT_MS 60000                /* the longest a long poll is held */

/* What GET /v1/status shows; filled in by the source. */
struct ist_api_status {
	uint64_t height;                          /* last committed block height */
	uint64_t view;                            /* current consensus view */
	uint64_t epoch;                           /* current epoch */
	uint32_t peers_connected;                 /* validators connected now */
	uint32_t peers_total;                     /* validators known (this one excluded) */
	uint64_t last_commit_ms;                  /* wall clock of the last commit, ms since the
						   * Unix epoch; 0 = nothing committed yet */
	uint8_t last_block_id[IST_HASH_BYTES];    /* id of the last committed block */
	uint8_t node_key[IST_ED25519_PUBKEY_BYTES]; /* this validator's node key */
	uint64_t network_id;                      /* bound into every signature */
	char chain_id[IST_API_CHAIN_ID_MAX + 1];  /* chain id name, NUL-terminated UTF-8 */
	char version[IST_API_VERSION_MAX + 1];    /* software version, NUL-terminated */
};

/*
 * The node's side. Every callback may be NULL: the route then answers 501
 * not_implemented (/healthz: always healthy). Callbacks that return int
 * return 0 or -IST_E*; the API maps the code to an HTTP status
 * (docs/api.md: NOTFOUND 404; PARSE, INVAL, RANGE, TRUNCATED, BADHEX, BADKEY,
 * BADSIG, BADPROOF 400; TOOBIG 413; EXISTS 409; AGAIN, STATE, CLOSED,
 * TIMEOUT 503; UNSUPPORTED 501; anything else 500) with ist_strerror() as the
 * message. `ctx` is passed back to each callback.
 */
struct ist_api_source {
	/* Fills *out (zeroed by the caller). */
	int (*status)(void *ctx, struct ist_api_status *out);
	/* Appends the committed block at `height` as one JSON object to
	 * json_out (an initialized buffer limited to IST_API_MAX_RESPONSE).
	 * Returns 0, -IST_ENOTFOUND when there is no such block, or another
	 * error. */
	int (*block)(void *ctx, uint64_t height, struct ist_buf *json_out);
	/* True when the node is healthy; otherwise writes a short reason
	 * (NUL-terminated, at most why_len bytes with the NUL) to why. */
	bool (*healthy)(void *ctx, char *why, size_t why_len);
	/* Takes a submitted transaction: `body` (borrowed for the call) holds
	 * the request body, 1..max_body bytes. On acceptance returns 0 and may
	 * append one JSON object to json_out (e.g. {"tx_id":"..."}); the client
	 * gets 202 with that object, or {"accepted":true} when nothing was
	 * written. The encoding of a transaction is the ledger's (not fixed
	 * yet); until then the node may answer -IST_EUNSUPPORTED (501). On
	 * failure the source may write a plain-text reason to json_out: it
	 * becomes the error's message. */
	int (*submit_tx)(void *ctx, const uint8_t *body, size_t len, struct ist_buf *json_out);
	/*
	 * Every other GET (or HEAD) under /v1/: `path` is what follows "/v1/"
	 * (no query string, not percent-decoded), `query` the raw query string
	 * ("" when none). Sets *ret_route to a static route template for the
	 * metrics ("/v1/checkpoints/{src}/{dst}/latest"), or leaves it NULL for
	 * "no such endpoint" (404). Returns 0 with one JSON object appended to
	 * json_out (200), or an error (its status as for submit_tx; a plain
	 * text reason in json_out becomes the message).
	 *
	 * Long polls: a source may return -IST_EAGAIN with *ret_wait_ms > 0
	 * when there is nothing to answer yet. The API then holds the request
	 * (without a thread) and calls again after ist_api_notify() or when
	 * the wait (at most IST_API_MAX_WAIT_MS) is over; on that last call
	 * `final` is true and the source must answer.
	 */
	int (*get)(void *ctx, const char *path, const char *query, bool final, struct ist_buf *json_out,
		   const char **ret_route, uint32_t *ret_wait_ms);
	void *ctx;
};

struct ist_api_config {
	/* "http://HOST:PORT" with HOST an address or name to listen on and an
	 * empty path. Port 0 picks a free port (ist_api_port() tells which).
	 * Borrowed for the ist_api_new() call. */
	const char *listen_url;
	/* Largest POST body accepted, in bytes; 0 = IST_API_DEFAULT_MAX_BODY.
	 * A larger body gets 413. */
	size_t max_body;
	/* Time allowed to receive a request body; 0 = the default. */
	uint32_t body_timeout_ms;
	/* Request rate limit for /v1/ routes: a token bucket refilled at
	 * rate_per_sec with room for rate_burst requests (0 = rate_per_sec);
	 * rate_per_sec 0 = no limit. Over the limit: 429 with Retry-After.
	 * /healthz and /metrics are never limited. The bucket is shared by all
	 * clients: NNG 1.5.2's HTTP server does not tell a handler the peer's
	 * address, so a per-address limit belongs in a reverse proxy for now. */
	uint32_t rate_per_sec;
	uint32_t rate_burst;
	/* The limiter's clock (mono_ms); NULL = ist_clock_system(). Borrowed;
	 * must outlive the api. */
	const struct ist_clock *clock;
};

struct ist_api;

/*
 * Creates an API server (not yet listening). `cfg` is read during the call;
 * `src` is copied. `metrics` is borrowed and must outlive the api; NULL
 * gives the api a private registry (then /metrics shows only the API's
 * own families).
 * Returns the api (free with ist_api_free) or NULL; then errbuf (when not
 * NULL) says why: an invalid URL, a scheme other than http, a path, an
 * unusable metrics registry, or out of memory.
 */
struct ist_api *ist_api_new(const struct ist_api_config *cfg, const struct ist_api_source *src,
			    struct ist_metrics *metrics, char *errbuf, size_t errlen);

/*
 * Binds the listen address and starts serving. Requests are answered as
 * soon as this returns 0.
 * Returns 0, -IST_ESTATE when already started, -IST_ENET when the address
 * cannot be bound (in use, not local), -IST_ENOMEM. errbuf (when not NULL)
 * gets a message naming the address.
 */
int ist_api_start(struct ist_api *api, char *errbuf, size_t errlen) IST_WUR;

/* The TCP port the server listens on (useful with port 0), or 0 before a
 * successful ist_api_start(). */
uint16_t ist_api_port(const struct ist_api *api);

/*
 * Stops serving and frees the api. Open connections are closed, bodies
 * being received are abandoned, and no source callback runs once this
 * returns (it waits for the ones in progress). Accepts NULL. Must not be
 * called from a source callback.
 */
void ist_api_free(struct ist_api *api);

/* Something a long poll may wait for happened: every held request asks the
 * source again. Any thread; cheap when nothing waits. Accepts NULL. */
void ist_api_notify(struct ist_api *api);

#endif
