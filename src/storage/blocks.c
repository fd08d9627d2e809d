#include "storage/blocks.h"

#include <string.h>

#include "common/err.h"
#include "storage/internal.h"
#include "storage/store.h"

#define SAFETY_KEY "state"

int ist_store_block_put(struct ist_txn *txn, const uint8_t id32[IST_HASH_BYTES], const void *enc, size_t len)
{
	return ist_store_put(txn, IST_STORE_DB_BLOCKS, id32, IST_HASH_BYTES, enc, len);
}

int ist_store_block_get(struct ist_txn *txn, const uint8_t id32[IST_HASH_BYTES], const uint8_t **ret_enc,
			size_t *ret_len)
{
	return ist_store_get(txn, IST_STORE_DB_BLOCKS, id32, IST_HASH_BYTES, ret_enc, ret_len);
}

int ist_store_height_put(struct ist_txn *txn, uint64_t height, const uint8_t id32[IST_HASH_BYTES])
{
	uint8_t k[IST_STORE_U64_KEY_BYTES];
	ist_store_key_u64(k, height);
	return ist_store_put(txn, IST_STORE_DB_HEIGHTS, k, sizeof(k), id32, IST_HASH_BYTES);
}

int ist_store_height_get(struct ist_txn *txn, uint64_t height, uint8_t ret_id32[IST_HASH_BYTES])
{
	uint8_t k[IST_STORE_U64_KEY_BYTES];
	ist_store_key_u64(k, height);
	return ist_store_get_fixed(txn, IST_STORE_DB_HEIGHTS, k, sizeof(k), ret_id32, IST_HASH_BYTES);
}

int ist_store_height_last(struct ist_txn *txn, uint64_t *ret_height, uint8_t ret_id32[IST_HASH_BYTES])
{
	struct ist_store_cursor *cur;
	int r = ist_store_cursor_open(txn, IST_STORE_DB_HEIGHTS, &cur);
	if (r)
		return r;
	const uint8_t *k, *v;
	size_t kn, vn;
	r = ist_store_cursor_get(cur, IST_STORE_LAST, NULL, 0, &k, &kn, &v, &vn);
	if (!r && (kn != IST_STORE_U64_KEY_BYTES || vn != IST_HASH_BYTES))
		r = -IST_EDB_CORRUPT;
	if (!r) {
		*ret_height = ist_get_be64(k);
		if (ret_id32)
			memcpy(ret_id32, v, IST_HASH_BYTES);
	}
	ist_store_cursor_close(cur);
	return r;
}

int ist_store_qc_put(struct ist_txn *txn, const uint8_t block_id32[IST_HASH_BYTES], const void *enc, size_t len)
{
	return ist_store_put(txn, IST_STORE_DB_QCS, block_id32, IST_HASH_BYTES, enc, len);
}

int ist_store_qc_get(struct ist_txn *txn, const uint8_t block_id32[IST_HASH_BYTES], const uint8_t **ret_enc,
		     size_t *ret_len)
{
	return ist_store_get(txn, IST_STORE_DB_QCS, block_id32, IST_HASH_BYTES, ret_enc, ret_len);
}

int ist_store_safety_put(struct ist_txn *txn, const void *enc, size_t len)
{
	return ist_store_put(txn, IST_STORE_DB_SAFETY, SAFETY_KEY, strlen(SAFETY_KEY), enc, len);
}

int ist_store_safety_get(struct ist_txn *txn, const uint8_t **ret_enc, size_t *ret_len)
{
	return ist_store_get(txn, IST_STORE_DB_SAFETY, SAFETY_KEY, strlen(SAFETY_KEY), ret_enc, ret_len);
}
