/*
 * The source-chain adapter interface: how a watcher reads one RPC endpoint
 * of a source chain (DESIGN.md "Data, end to end", step 2; docs/chain.md).
 *
 * There is one adapter implementation per kind of source chain (devchain.c
 * for isthmus-devchain; a live Ethereum adapter is another file beside it)
 * and one adapter object per RPC endpoint. An adapter only reports what its
 * endpoint says: it checks the *shape* of every answer (fields, types,
 * sizes) and nothing that needs a second opinion. Deciding what is final and
 * true (majorities over endpoints, message ids, continuity) is the watcher's
 * job (chain/watcher.h), identical for every chain kind.
 *
 * Thread safety: an adapter is used by one thread at a time (the watcher's).
 * Its calls block for at most the adapter's own timeout.
 */
#ifndef IST_CHAIN_CHAIN_H
#define IST_CHAIN_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/hash.h"
#include "wire/types.h"

/* Bytes of an adapter's URL, NUL included. */
#define IST_CHAIN_URL_MAX 256

/* A block as one RPC endpoint reports it.
 *
 * Memory: msgs and ids are malloc'd arrays of n_msgs entries (both NULL when
 * n_msgs is 0), and each message owns its payload; ist_chain_block_fini
 * frees all of it. ids[k] is the id the endpoint reported for msgs[k],
 * unchecked (the watcher recomputes it). */
struct ist_chain_block {
	uint64_t height;
	uint8_t hash[32];
	uint8_t parent_hash[32];
	size_t n_msgs;
	struct ist_message *msgs;
	uint8_t (*ids)[IST_HASH_BYTES];
};

/* Frees the block's heap parts and zeroes it (the struct itself stays).
 * Accepts NULL and a zeroed block. */
void ist_chain_block_fini(struct ist_chain_block *b);

/* True when a and b are the same report: height, hash, parent hash, and the
 * same messages (every field, payload bytes included) with the same ids in
 * the same order. Not constant time: for public data. */
bool ist_chain_block_equal(const struct ist_chain_block *a, const struct ist_chain_block *b) IST_WUR;

struct ist_chain_adapter;

/*
 * What an adapter implements. Every operation returns 0 or a negative
 * -IST_E* code, writes its outputs only on success, and logs the reason of
 * a failure itself (rate-limited):
 *
 *   -IST_ENET      the endpoint is unreachable, refused the connection,
 *                  closed it early, or answered with a server error (5xx)
 *   -IST_ETIMEOUT  no complete answer within the adapter's timeout
 *   -IST_EPARSE    the answer is malformed (not the JSON, field, type or
 *                  size the protocol says; too large; an unexpected status)
 *   -IST_ECONFIG   the endpoint serves another chain than the adapter was
 *                  made for
 *   -IST_ENOTFOUND (block only) the endpoint has no block at that height
 *   -IST_ENOMEM    out of memory
 */
struct ist_chain_adapter_ops {
	/* The endpoint's head height and its finalized height
	 * (*ret_finalized <= *ret_head). */
	int (*head)(struct ist_chain_adapter *a, uint64_t *ret_head, uint64_t *ret_finalized);
	/* The block at `height` with all its outgoing messages, in the order
	 * the chain recorded them. On success *ret is filled (the caller
	 * finis it) and ret->height == height; on failure *ret is untouched. */
	int (*block)(struct ist_chain_adapter *a, uint64_t height, struct ist_chain_block *ret);
	/* Frees the adapter and everything it holds. */
	void (*destroy)(struct ist_chain_adapter *a);
};

/* The common head of every adapter: an implementation embeds it as its
 * first member. url is the endpoint, NUL-terminated, for logs (never in a
 * metric label: labels use the endpoint's index). */
struct ist_chain_adapter {
	const struct ist_chain_adapter_ops *ops;
	char url[IST_CHAIN_URL_MAX];
};

/* a->ops->destroy(a). Accepts NULL. */
void ist_chain_adapter_destroy(struct ist_chain_adapter *a);

#endif
