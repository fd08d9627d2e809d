/*
 * Route trees in LMDB: the leaves of each route's append-only RFC 9162 tree
 * (database messages), its frontier and a cache of perfect-subtree roots
 * (database routes), and the struct ist_merkle_source that lets
 * crypto/merkle.h generate proofs straight from a read transaction.
 *
 * A route is (src_chain, dst_chain). Its size is the number of leaves
 * appended; leaves are numbered from 0 and never change once written.
 * Appends and everything derived from them (frontier, subtree roots) are
 * written in the caller's transaction, so they commit together.
 */
#ifndef IST_STORAGE_ROUTES_H
#define IST_STORAGE_ROUTES_H

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "storage/store.h"

/*
 * Appends a leaf to the route: leaf_hash32 is H(0x00 || message id)
 * (ist_merkle_leaf_hash), msg/msg_len the encoded message kept with it for
 * deliveries (opaque; NULL/0 for none). Write transactions only.
 * Out: *ret_index, the leaf's index (may be NULL).
 * Returns 0, -IST_ERANGE (the route holds 2^64 - 1 leaves), -IST_EINVAL,
 * -IST_EDB_CORRUPT (a stored frontier does not decode, or the leaf already
 * exists), -IST_EINTERNAL (the frontier and the subtree roots disagree),
 * -IST_ENOMEM, -IST_EDB_FULL (grown and retried by ist_store_write), -IST_EDB*.
 */
int ist_store_route_leaf_append(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain,
				const uint8_t leaf_hash32[IST_HASH_BYTES], const void *msg, size_t msg_len,
				uint64_t *ret_index) IST_WUR;

/* Out: ret_leaf32 (copied). Returns 0, -IST_ENOTFOUND (index >= size),
 * -IST_EDB_CORRUPT, -IST_EDB*. */
int ist_store_route_leaf_get(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t index,
			     uint8_t ret_leaf32[IST_HASH_BYTES]) IST_WUR;

/* The message stored with a leaf. Out: *ret_msg, *ret_len (borrowed; len 0
 * when none was stored). Returns 0, -IST_ENOTFOUND, -IST_EDB_CORRUPT, -IST_EDB*. */
int ist_store_route_message_get(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t index,
				const uint8_t **ret_msg, size_t *ret_len) IST_WUR;

/* Out: *ret_size, the number of leaves (0 for a route never seen).
 * Returns 0, -IST_EDB_CORRUPT, -IST_EDB*. */
int ist_store_route_size(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t *ret_size) IST_WUR;

/* Out: *ret, the route's frontier (empty for a route never seen).
 * Returns 0, -IST_EDB_CORRUPT, -IST_EDB*. */
int ist_store_route_frontier(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain,
			     struct ist_merkle_frontier *ret) IST_WUR;

/* The route's current size and root (from the frontier, O(log n)).
 * Returns 0, -IST_EDB_CORRUPT, -IST_EDB*. */
int ist_store_route_root(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t *ret_size,
			 uint8_t ret_root32[IST_HASH_BYTES]) IST_WUR;

/*
 * The route's size after each source height that added leaves to it
 * (routes: src || dst || 0xff || height -> u64 size; 0xff is never a
 * subtree level), so a checkpoint at any source height can be checked:
 * ist_store_route_size_at gives the size after the last recorded height at
 * or below `height` (0 when none). Record heights in increasing order, in
 * the transaction that appends their leaves.
 */
int ist_store_route_height_put(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t height,
			       uint64_t size) IST_WUR;
int ist_store_route_size_at(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t height,
			    uint64_t *ret_size) IST_WUR;

/*
 * Per-leaf facts the route limits need (state/limits.h): the source height
 * the leaf was observed at, its declared value, and the sum of the values
 * of leaves 0..index (routes: src || dst || 0xfe || index -> height ||
 * value || cumulative value as a big-endian u128). Put one per appended
 * leaf, in index order, in the transaction that appends it (put reads the
 * previous leaf's sum: -IST_EDB_CORRUPT when it is missing).
 * get returns 0, -IST_ENOTFOUND, -IST_EDB_CORRUPT, -IST_EDB*.
 */
struct ist_store_leaf_meta {
	uint64_t height;
	uint64_t value;
	unsigned __int128 cum_value;   /* leaves 0..index, inclusive */
};
int ist_store_route_meta_put(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t index,
			     uint64_t height, uint64_t value) IST_WUR;
int ist_store_route_meta_get(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t index,
			     struct ist_store_leaf_meta *ret) IST_WUR;

/*
 * Writes the leaf facts of a route whose leaves an older binary appended
 * without them (all of them, when the last leaf has none; nothing
 * otherwise): the heights from the route's size-per-height records, the
 * values through value_fn from each stored message. Write transactions
 * only. Out: *ret_filled, the leaves written. Returns 0, what value_fn
 * returned, -IST_ENOMEM, -IST_EDB_CORRUPT, -IST_EDB*.
 */
typedef int (*ist_store_value_fn)(void *ctx, const uint8_t *msg, size_t len, uint64_t *ret_value);
int ist_store_route_meta_backfill(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain,
				  ist_store_value_fn value_fn, void *ctx, uint64_t *ret_filled) IST_WUR;

/*
 * A source chain's watch cursor: the last height observed and its block
 * hash (routes: chain (u64) -> height (u64) || hash (32)).
 * get returns 0 or -IST_ENOTFOUND (never observed), -IST_EDB_CORRUPT, -IST_EDB*.
 */
int ist_store_chain_cursor_put(struct ist_txn *txn, uint64_t chain, uint64_t height,
			       const uint8_t hash32[IST_HASH_BYTES]) IST_WUR;
int ist_store_chain_cursor_get(struct ist_txn *txn, uint64_t chain, uint64_t *ret_height,
			       uint8_t ret_hash32[IST_HASH_BYTES]) IST_WUR;

/*
 * A struct ist_merkle_source over one route as seen by `txn`: pass
 * &rs->source to ist_merkle_source_root / _inclusion_proof /
 * _consistency_proof. The leaf callback reads the messages database; the
 * subtree callback answers from the cached subtree roots, so a proof costs
 * O(log n) reads. Sizes up to ist_store_route_size() are valid; beyond it
 * the callbacks return -IST_ENOTFOUND.
 *
 * Ownership: *rs is caller memory that, like `txn`, must outlive every use
 * of rs->source; nothing to free. Proofs are copied out, so they outlive
 * the transaction.
 */
struct ist_store_route_source {
	struct ist_merkle_source source;
	struct ist_txn *txn;
	uint64_t src_chain;
	uint64_t dst_chain;
};

void ist_store_route_source_init(struct ist_store_route_source *rs, struct ist_txn *txn, uint64_t src_chain,
				 uint64_t dst_chain);

#endif
