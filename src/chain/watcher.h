/*
 * A watcher: the thread that follows one source chain through its RPC
 * endpoints and hands the node every final block, once, in height order
 * (DESIGN.md "Data, end to end", step 2; "Node architecture": watchers run on
 * their own threads and post observations). docs/chain.md has the rules in
 * prose; in short:
 *
 *  - Finality. Height h is observable when a strict majority of the
 *    configured endpoints each report h <= finalized and h <= head -
 *    finality_depth (the majority-th highest such bound over the endpoints
 *    that answered; an endpoint that did not answer counts against).
 *  - Agreement. Among the endpoints for which h is final, a strict majority
 *    of all configured endpoints must return identical blocks
 *    (ist_chain_block_equal). A block with a message whose reported id is not
 *    ist_wire_message_id of the message, or whose src_chain is not the
 *    watcher's chain, is that endpoint's bad answer and agrees with nobody.
 *    When endpoints answer differently and no majority agrees, that is a
 *    disagreement: h is not observed, it is counted and logged, and h is
 *    asked again at the next poll (never skipped).
 *  - Continuity. Block h's parent_hash must be the hash of the block
 *    observed at h - 1 (from the config for the first height after a
 *    restart, when given). A mismatch is a finality violation on the source
 *    (a final block was rewritten): the watcher logs an error, counts it and
 *    halts for good (it keeps polling heads, never observes again;
 *    ist_watcher_halted says why).
 *  - Endpoints that fail are backed off (doubling from max(poll_ms, 100 ms)
 *    up to 5 s) and skipped until then, so a dead endpoint costs the others
 *    at most one adapter timeout per back-off period.
 *
 * Metrics (when a registry is given; label values are the chain id in
 * decimal, and for endpoints "CHAIN/INDEX", INDEX the adapter's position in
 * the config, never its URL):
 *   isthmus_chain_observed_height{chain}          gauge: last height observed
 *   isthmus_chain_disagreements_total{chain}      polls where endpoints disagreed
 *   isthmus_chain_finality_violations_total{chain}
 *   isthmus_chain_rpc_errors_total{endpoint}      failed calls and bad answers
 */
#ifndef IST_CHAIN_WATCHER_H
#define IST_CHAIN_WATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chain/chain.h"
#include "common/macro.h"
#include "common/metrics.h"

/* A finality violation: the final block the watcher observed at `height`
 * (hash `observed`) and the parent hash that block height + 1 names now
 * (`rewritten`). */
struct ist_watcher_violation {
	uint64_t height;
	uint8_t observed[32];
	uint8_t rewritten[32];
};

/* Endpoints of one watcher. */
#define IST_WATCHER_MAX_ADAPTERS 16
/* Largest back-off of a failing endpoint. */
#define IST_WATCHER_BACKOFF_MAX_MS 5000
/* Largest poll_ms accepted (one hour). */
#define IST_WATCHER_MAX_POLL_MS 3600000

struct ist_watcher_config {
	uint64_t chain_id;
	/* One adapter per RPC URL of the chain, borrowed: they must outlive
	 * the watcher (ist_watcher_stop). 1..IST_WATCHER_MAX_ADAPTERS. The
	 * array itself is copied. */
	struct ist_chain_adapter **adapters;
	size_t n_adapters;
	/* Extra safety on top of what the endpoints call final: observe only
	 * h <= head - finality_depth. */
	uint64_t finality_depth;
	/* Between polls when caught up, and between calls of on_block after
	 * -IST_EAGAIN; 1..IST_WATCHER_MAX_POLL_MS. */
	uint32_t poll_ms;
	/* The first height to observe: the node's cursor + 1, or 1 for a new
	 * node (height 0 is the genesis, with no messages). */
	uint64_t next_height;
	/* The hash of block next_height - 1 when the node knows it: block
	 * next_height is then checked to extend it. Without it the first
	 * block after a (re)start is taken as it is. */
	uint8_t prev_hash[32];
	bool has_prev_hash;
	/* Called on the watcher thread, once per height, in height order,
	 * only for blocks observed as final by a majority; the block is
	 * borrowed for the call (copy what must outlive it). Return 0 to
	 * advance, -IST_EAGAIN to be called again with the same block after
	 * poll_ms (the node's queue is full), any other value to halt the
	 * watcher as for a finality violation: it never observes again, and
	 * ist_watcher_halted says why. */
	int (*on_block)(void *ctx, const struct ist_chain_block *b);
	/* Optional: called on the watcher thread, once, when it halts on a
	 * finality violation (before ist_watcher_halted says so); `v` is
	 * borrowed for the call. */
	void (*on_violation)(void *ctx, const struct ist_watcher_violation *v);
	void *ctx;
	/* Optional (NULL: no metrics); borrowed, must outlive the watcher. */
	struct ist_metrics *metrics;
};

struct ist_watcher;

/* Checks cfg and starts the watcher's thread.
 * Out: *ret (written only on success).
 * Returns 0, -IST_EINVAL (no or too many adapters, an adapter without ops,
 * no on_block, poll_ms out of range), -IST_ENOMEM, or -IST_EIO (no thread).
 * The thread may call the adapters before this returns; on failure nothing
 * was called. */
int ist_watcher_start(const struct ist_watcher_config *cfg, struct ist_watcher **ret) IST_WUR;

/* Stops the thread and frees the watcher. Prompt: it waits at most for the
 * adapter call in progress (bounded by the adapter's timeout) or the
 * on_block call in progress. After it returns nothing touches the adapters,
 * the metrics registry or ctx again, and the adapters may be destroyed.
 * Call once per watcher; accepts NULL. */
void ist_watcher_stop(struct ist_watcher *w);

/* True when the watcher has stopped observing for good: a finality
 * violation on the source, or on_block failed. Then `why` (whylen bytes,
 * may be NULL) gets a one-line reason. Any thread may call it. */
bool ist_watcher_halted(struct ist_watcher *w, char *why, size_t whylen);

/* The next height the watcher will observe (observed heights are below).
 * Any thread may call it. */
uint64_t ist_watcher_next_height(struct ist_watcher *w);

#endif
