/*
 * Pure helpers of the transport's limits: a token bucket (per-peer rate of
 * frames and bytes) and the reconnect back-off schedule. No clock and no
 * randomness of their own: time and an rng are passed in, so tests drive
 * them with ist_clock_manual and ist_rng_det.
 */
#ifndef IST_NET_LIMITS_H
#define IST_NET_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/rng.h"

/*
 * A token bucket: holds up to `burst` tokens and gains `rate` tokens per
 * second of (monotonic) time, counted in thousandths of a token so that a
 * few milliseconds already earn something at low rates. Plain memory.
 */
struct ist_net_bucket {
	uint64_t milli;        /* tokens * 1000 available now */
	uint64_t cap_milli;    /* burst * 1000 */
	uint64_t rate;         /* tokens per second (>= 1) */
	uint64_t last_ms;      /* time of the last refill */
};

/* Starts a full bucket at time now_ms. rate and burst are at least 1 (0 is
 * taken as 1); burst is capped at 2^40 tokens. */
void ist_net_bucket_init(struct ist_net_bucket *b, uint64_t rate_per_sec, uint64_t burst, uint64_t now_ms);

/* Adds what time earned since the last refill (never past the burst). A
 * clock that goes back earns nothing. */
void ist_net_bucket_refill(struct ist_net_bucket *b, uint64_t now_ms);

/* True when n tokens are available (after a refill). */
bool ist_net_bucket_has(const struct ist_net_bucket *b, uint64_t n) IST_WUR;

/* Removes n tokens; the caller checked ist_net_bucket_has(). */
void ist_net_bucket_take(struct ist_net_bucket *b, uint64_t n);

/* Refill, then take n tokens if available. Returns true when taken. */
bool ist_net_bucket_consume(struct ist_net_bucket *b, uint64_t now_ms, uint64_t n) IST_WUR;

/*
 * The delay before reconnect attempt `attempt` (0 for the first retry after
 * a connection was lost): d = min(max_ms, min_ms * 2^attempt), then "equal
 * jitter": uniform in [d/2, d] from `rng`, so that the validators that lost
 * the same peer do not all come back at the same instant. min_ms >= 1 and
 * max_ms >= min_ms are the caller's (0 and inverted bounds are mended). When
 * the rng fails, d itself.
 */
uint64_t ist_net_backoff_ms(uint32_t attempt, uint64_t min_ms, uint64_t max_ms, const struct ist_rng *rng);

#endif
