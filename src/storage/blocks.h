/*
 * Consensus data: blocks, the height index, quorum certificates and the
 * safety state (DESIGN.md, "Consensus"). Encodings are opaque here: wire
 * encodes and decodes them; the store keeps bytes.
 *
 * Values returned through `const uint8_t **` are borrowed from the map until
 * the transaction ends (store.h). Writes need a write transaction
 * (ist_store_write); they fail with -IST_EINVAL in a read transaction.
 */
#ifndef IST_STORAGE_BLOCKS_H
#define IST_STORAGE_BLOCKS_H

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/hash.h"
#include "storage/store.h"

/* blocks: id -> encoded block. Returns 0 or -IST_E* (as ist_store_put). */
int ist_store_block_put(struct ist_txn *txn, const uint8_t id32[IST_HASH_BYTES], const void *enc, size_t len) IST_WUR;
/* Out: *ret_enc, *ret_len (borrowed). Returns 0, -IST_ENOTFOUND, -IST_EDB*. */
int ist_store_block_get(struct ist_txn *txn, const uint8_t id32[IST_HASH_BYTES], const uint8_t **ret_enc,
			size_t *ret_len) IST_WUR;

/* heights: committed height -> block id. */
int ist_store_height_put(struct ist_txn *txn, uint64_t height, const uint8_t id32[IST_HASH_BYTES]) IST_WUR;
/* Out: ret_id32 (copied). Returns 0, -IST_ENOTFOUND, -IST_EDB_CORRUPT, -IST_EDB*. */
int ist_store_height_get(struct ist_txn *txn, uint64_t height, uint8_t ret_id32[IST_HASH_BYTES]) IST_WUR;
/* The highest height recorded. Out: *ret_height, ret_id32 (may be NULL).
 * Returns 0, -IST_ENOTFOUND (none yet), -IST_EDB_CORRUPT, -IST_EDB*. */
int ist_store_height_last(struct ist_txn *txn, uint64_t *ret_height, uint8_t ret_id32[IST_HASH_BYTES]) IST_WUR;

/* qcs: block id -> encoded QC certifying it. */
int ist_store_qc_put(struct ist_txn *txn, const uint8_t block_id32[IST_HASH_BYTES], const void *enc, size_t len) IST_WUR;
int ist_store_qc_get(struct ist_txn *txn, const uint8_t block_id32[IST_HASH_BYTES], const uint8_t **ret_enc,
		     size_t *ret_len) IST_WUR;

/* safety: the one safety-state record (last voted view, highest and locked
 * QC, attestation watermarks). Write it in the SAME ist_store_write as the
 * state it guards, before the vote or signature leaves the node. */
int ist_store_safety_put(struct ist_txn *txn, const void *enc, size_t len) IST_WUR;
/* Returns 0, -IST_ENOTFOUND (a fresh node), -IST_EDB*. */
int ist_store_safety_get(struct ist_txn *txn, const uint8_t **ret_enc, size_t *ret_len) IST_WUR;

#endif
