/*
 * Attestation data: route checkpoints, block certificates and the signature
 * shares they are made of (DESIGN.md, "Data, end to end"). Encodings are
 * opaque here (wire owns them). Borrowed values and write rules as store.h.
 */
#ifndef IST_STORAGE_ATTEST_H
#define IST_STORAGE_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "storage/store.h"

/* checkpoints: (src, dst, tree_size) -> encoded checkpoint.
 * Returns 0 or -IST_E* (as ist_store_put / ist_store_get). */
int ist_store_checkpoint_put(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t tree_size,
			     const void *enc, size_t len) IST_WUR;
/* Out: *ret_enc, *ret_len (borrowed). Returns 0, -IST_ENOTFOUND, -IST_EDB*. */
int ist_store_checkpoint_get(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t tree_size,
			     const uint8_t **ret_enc, size_t *ret_len) IST_WUR;
/* The route's checkpoint with the largest tree size.
 * Out: *ret_tree_size, *ret_enc, *ret_len (borrowed).
 * Returns 0, -IST_ENOTFOUND (none for this route), -IST_EDB*. */
int ist_store_checkpoint_last(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t *ret_tree_size,
			      const uint8_t **ret_enc, size_t *ret_len) IST_WUR;

/* The route's first checkpoint with a tree size >= min_tree_size (the first
 * that covers leaf min_tree_size - 1). Out and returns as _last. */
int ist_store_checkpoint_next(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t min_tree_size,
			      uint64_t *ret_tree_size, const uint8_t **ret_enc, size_t *ret_len) IST_WUR;

/* frost-ed25519 certificates: key height || 'f' in the same database
 * (an encoded certificate of that scheme). */
int ist_store_frost_certificate_put(struct ist_txn *txn, uint64_t height, const void *enc, size_t len) IST_WUR;
int ist_store_frost_certificate_get(struct ist_txn *txn, uint64_t height, const uint8_t **ret_enc,
				    size_t *ret_len) IST_WUR;
/* certificates: committed block height -> encoded certificate. */
int ist_store_certificate_put(struct ist_txn *txn, uint64_t height, const void *enc, size_t len) IST_WUR;
int ist_store_certificate_get(struct ist_txn *txn, uint64_t height, const uint8_t **ret_enc,
			      size_t *ret_len) IST_WUR;

/* shares: (height, signer index in the epoch's set) -> encoded signature
 * share (multisig signature or FROST share). */
int ist_store_share_put(struct ist_txn *txn, uint64_t height, uint32_t signer, const void *enc, size_t len) IST_WUR;
int ist_store_share_get(struct ist_txn *txn, uint64_t height, uint32_t signer, const uint8_t **ret_enc,
			size_t *ret_len) IST_WUR;

#endif
