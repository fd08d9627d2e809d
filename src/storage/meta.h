/*
 * The meta database: the identity of the network a store belongs to
 * (genesis hash, chain id: each set once) and the schema versions.
 *
 * ist_store_open checks the genesis hash and chain id given in its options;
 * these accessors are for code that learns them later (node init) and for
 * status queries.
 */
#ifndef IST_STORAGE_META_H
#define IST_STORAGE_META_H

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/hash.h"
#include "storage/store.h"

/* Out: ret_hash32. Returns 0, -IST_ENOTFOUND (none recorded yet),
 * -IST_EDB_CORRUPT, -IST_EDB*. */
int ist_store_genesis_get(struct ist_txn *txn, uint8_t ret_hash32[IST_HASH_BYTES]) IST_WUR;

/* Records the genesis hash, once. Write transactions only.
 * Returns 0 (recorded now, or the same hash was already recorded),
 * -IST_EEXISTS (a DIFFERENT hash is recorded: the store belongs to another
 * network; nothing is changed), -IST_EDB*. */
int ist_store_genesis_set(struct ist_txn *txn, const uint8_t hash32[IST_HASH_BYTES]) IST_WUR;

/* Out: *ret_id, *ret_len (borrowed until the transaction ends).
 * Returns 0, -IST_ENOTFOUND, -IST_EDB*. */
int ist_store_chain_id_get(struct ist_txn *txn, const uint8_t **ret_id, size_t *ret_len) IST_WUR;

/* Records the chain id (1..IST_STORE_CHAIN_ID_MAX bytes), once; as
 * ist_store_genesis_set. Returns 0, -IST_EINVAL, -IST_EEXISTS, -IST_EDB*. */
int ist_store_chain_id_set(struct ist_txn *txn, const uint8_t *id, size_t len) IST_WUR;

/* The store's schema version (IST_STORE_SCHEMA_VERSION once open).
 * Returns 0 or -IST_EDB*. */
int ist_store_schema_version(struct ist_txn *txn, uint32_t *ret_version) IST_WUR;

/* The version of one database. Returns 0, -IST_EINVAL or -IST_EDB*. */
int ist_store_db_version(struct ist_txn *txn, enum ist_store_db db, uint32_t *ret_version) IST_WUR;

#endif
