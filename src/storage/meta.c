#include "storage/meta.h"

#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "storage/internal.h"

#define KEY_GENESIS "genesis"
#define KEY_CHAIN_ID "chain_id"

/* Insert, or accept an identical value already there. */
static int set_once(struct ist_txn *txn, const char *key, const void *val, size_t vlen)
{
	int r = ist_store_insert(txn, IST_STORE_DB_META, key, strlen(key), val, vlen);
	if (r != -IST_EEXISTS)
		return r;
	const uint8_t *cur;
	size_t cur_len;
	r = ist_store_get(txn, IST_STORE_DB_META, key, strlen(key), &cur, &cur_len);
	if (r)
		return r;
	return cur_len == vlen && memcmp(cur, val, vlen) == 0 ? 0 : -IST_EEXISTS;
}

int ist_store_genesis_get(struct ist_txn *txn, uint8_t ret_hash32[IST_HASH_BYTES])
{
	return ist_store_get_fixed(txn, IST_STORE_DB_META, KEY_GENESIS, strlen(KEY_GENESIS), ret_hash32,
				   IST_HASH_BYTES);
}

int ist_store_genesis_set(struct ist_txn *txn, const uint8_t hash32[IST_HASH_BYTES])
{
	if (!hash32)
		return -IST_EINVAL;
	return set_once(txn, KEY_GENESIS, hash32, IST_HASH_BYTES);
}

int ist_store_chain_id_get(struct ist_txn *txn, const uint8_t **ret_id, size_t *ret_len)
{
	return ist_store_get(txn, IST_STORE_DB_META, KEY_CHAIN_ID, strlen(KEY_CHAIN_ID), ret_id, ret_len);
}

int ist_store_chain_id_set(struct ist_txn *txn, const uint8_t *id, size_t len)
{
	if (!id || len == 0 || len > IST_STORE_CHAIN_ID_MAX)
		return -IST_EINVAL;
	return set_once(txn, KEY_CHAIN_ID, id, len);
}

static int get_u32(struct ist_txn *txn, const char *key, uint32_t *ret)
{
	uint8_t v[4];
	int r = ist_store_get_fixed(txn, IST_STORE_DB_META, key, strlen(key), v, sizeof(v));
	if (r)
		return r;
	*ret = ist_get_be32(v);
	return 0;
}

int ist_store_schema_version(struct ist_txn *txn, uint32_t *ret_version)
{
	return get_u32(txn, "schema", ret_version);
}

int ist_store_db_version(struct ist_txn *txn, enum ist_store_db db, uint32_t *ret_version)
{
	if ((unsigned)db >= IST_STORE_DB_COUNT)
		return -IST_EINVAL;
	char key[40];
	snprintf(key, sizeof(key), "v/%s", ist_store_db_name(db));
	return get_u32(txn, key, ret_version);
}
