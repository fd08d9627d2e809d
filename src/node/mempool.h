/*
 * The mempool: payload items submitted through the API (signed
 * transactions, and application data where the config allows it) waiting
 * for this node to lead a view and propose them.
 *
 * There is no gossip: an item is proposed by the node it was submitted to,
 * when that node leads (round robin, so within n views). An item handed to a
 * proposal stays in the pool, reserved for that (epoch, view), until a block
 * commits:
 *
 *   - the committed block's items leave the pool (whoever proposed them:
 *     a client may submit the same item to several nodes);
 *   - a reservation whose view is at or below the committed block's view
 *     and whose item was not in it is released: the proposal failed (a
 *     block of a view commits before any block of a later view, so a
 *     reserved block still to commit has a later view than every committed
 *     one), and the item is offered again in order.
 *
 * So an item is never lost to a failed view, and is proposed again only
 * when its earlier proposal can no longer commit. (After a restart the pool
 * is empty: submission is at most once per node; clients resubmit what they
 * do not see committed, and the ledger's nonces make a resubmitted
 * transaction harmless.)
 *
 * Bounds: the number of items, their total bytes, and the pending items of
 * one sender (transactions only). Items are identified by a 32-byte id (the
 * transaction id, SHA-256 of a data item's bytes); a second submission of
 * the same id is refused while the first is in the pool.
 *
 * Thread-safe: API threads add, the consensus thread reserves and commits.
 */
#ifndef IST_NODE_MEMPOOL_H
#define IST_NODE_MEMPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/hash.h"
#include "wire/types.h"

#define IST_MEMPOOL_DEFAULT_MAX_ITEMS 100000
#define IST_MEMPOOL_DEFAULT_MAX_BYTES (64u << 20)
#define IST_MEMPOOL_DEFAULT_MAX_PER_SENDER 256

struct ist_mempool_config {
	size_t max_items;        /* 0 = IST_MEMPOOL_DEFAULT_MAX_ITEMS */
	size_t max_bytes;        /* 0 = IST_MEMPOOL_DEFAULT_MAX_BYTES */
	size_t max_per_sender;   /* 0 = IST_MEMPOOL_DEFAULT_MAX_PER_SENDER */
};

struct ist_mempool;

/* Returns 0 or -IST_ENOMEM. */
int ist_mempool_new(const struct ist_mempool_config *cfg, struct ist_mempool **ret) IST_WUR;
void ist_mempool_free(struct ist_mempool *mp);

/* The id of a payload item: the transaction id, or SHA-256 of the bytes of
 * any opaque kind. Returns 0 or -IST_EINVAL. */
int ist_mempool_item_id(const struct ist_payload_item *it, uint8_t ret_id[IST_HASH_BYTES]) IST_WUR;

/* The bytes an item adds to a block (its canonical payload size, what the
 * block size limit counts). */
size_t ist_mempool_item_bytes(const struct ist_payload_item *it);

/*
 * Adds an item (a transaction or an opaque kind; the caller has checked
 * it). On success the pool owns *it (its heap parts) and *it is zeroed.
 * Returns 0, -IST_EEXISTS (this id is already in the pool), -IST_EAGAIN
 * (the pool, or the sender's share of it, is full: try later) or
 * -IST_ENOMEM.
 */
int ist_mempool_add(struct ist_mempool *mp, struct ist_payload_item *it) IST_WUR;

/* Items not reserved by a proposal. */
size_t ist_mempool_ready(struct ist_mempool *mp);
/* Whether an item with this id waits in the pool. Any thread. */
bool ist_mempool_has(struct ist_mempool *mp, const uint8_t id[IST_HASH_BYTES]);
/* All items. */
size_t ist_mempool_count(struct ist_mempool *mp);

/*
 * Reserves the oldest ready items for the proposal of (epoch, view): at
 * most max_items, and no more than max_bytes of ist_mempool_item_bytes in
 * total. Writes shallow copies to out (they point into the pool: valid until
 * the next ist_mempool_committed or ist_mempool_free, from the same thread)
 * and returns how many.
 */
size_t ist_mempool_reserve(struct ist_mempool *mp, uint64_t epoch, uint64_t view, size_t max_items,
			   size_t max_bytes, struct ist_payload_item *out);

/* A block committed: drops its items from the pool and releases the
 * reservations it shows have failed (see above). */
void ist_mempool_committed(struct ist_mempool *mp, const struct ist_block *b);

#endif
