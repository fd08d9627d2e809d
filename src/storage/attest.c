#include "storage/attest.h"

#include <string.h>

#include "common/bytes.h"
#include "common/err.h"

#define CKPT_KEY_BYTES 24
#define SHARE_KEY_BYTES 12

static void ckpt_key(uint8_t k[CKPT_KEY_BYTES], uint64_t src, uint64_t dst, uint64_t tree_size)
{
	ist_store_key_route(k, src, dst);
	ist_put_be64(k + IST_STORE_ROUTE_KEY_BYTES, tree_size);
}

int ist_store_checkpoint_put(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t tree_size,
			     const void *enc, size_t len)
{
	uint8_t k[CKPT_KEY_BYTES];
	ckpt_key(k, src_chain, dst_chain, tree_size);
	return ist_store_put(txn, IST_STORE_DB_CHECKPOINTS, k, sizeof(k), enc, len);
}

int ist_store_checkpoint_get(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t tree_size,
			     const uint8_t **ret_enc, size_t *ret_len)
{
	uint8_t k[CKPT_KEY_BYTES];
	ckpt_key(k, src_chain, dst_chain, tree_size);
	return ist_store_get(txn, IST_STORE_DB_CHECKPOINTS, k, sizeof(k), ret_enc, ret_len);
}

/* The route's checkpoint nearest to tree size `size` in direction `op`
 * (SEEK_LE: the largest at or below; SEEK_GE: the smallest at or above). */
static int checkpoint_seek(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t size,
			   enum ist_store_cursor_op op, uint64_t *ret_tree_size, const uint8_t **ret_enc,
			   size_t *ret_len)
{
	uint8_t k[CKPT_KEY_BYTES];
	ckpt_key(k, src_chain, dst_chain, size);
	struct ist_store_cursor *cur;
	int r = ist_store_cursor_open(txn, IST_STORE_DB_CHECKPOINTS, &cur);
	if (r)
		return r;
	const uint8_t *fk, *v;
	size_t fkn, vn;
	r = ist_store_cursor_get(cur, op, k, sizeof(k), &fk, &fkn, &v, &vn);
	/* the key found belongs to this route only if its route part matches;
	 * otherwise the route has no such checkpoint */
	if (!r && (fkn != CKPT_KEY_BYTES || memcmp(fk, k, IST_STORE_ROUTE_KEY_BYTES) != 0))
		r = -IST_ENOTFOUND;
	if (!r) {
		*ret_tree_size = ist_get_be64(fk + IST_STORE_ROUTE_KEY_BYTES);
		*ret_enc = v;
		*ret_len = vn;
	}
	ist_store_cursor_close(cur);
	return r;
}

int ist_store_checkpoint_last(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t *ret_tree_size,
			      const uint8_t **ret_enc, size_t *ret_len)
{
	return checkpoint_seek(txn, src_chain, dst_chain, UINT64_MAX, IST_STORE_SEEK_LE, ret_tree_size, ret_enc,
			       ret_len);
}

int ist_store_checkpoint_next(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t min_tree_size,
			      uint64_t *ret_tree_size, const uint8_t **ret_enc, size_t *ret_len)
{
	return checkpoint_seek(txn, src_chain, dst_chain, min_tree_size, IST_STORE_SEEK_GE, ret_tree_size, ret_enc,
			       ret_len);
}

int ist_store_certificate_put(struct ist_txn *txn, uint64_t height, const void *enc, size_t len)
{
	uint8_t k[IST_STORE_U64_KEY_BYTES];
	ist_store_key_u64(k, height);
	return ist_store_put(txn, IST_STORE_DB_CERTIFICATES, k, sizeof(k), enc, len);
}

int ist_store_certificate_get(struct ist_txn *txn, uint64_t height, const uint8_t **ret_enc, size_t *ret_len)
{
	uint8_t k[IST_STORE_U64_KEY_BYTES];
	ist_store_key_u64(k, height);
	return ist_store_get(txn, IST_STORE_DB_CERTIFICATES, k, sizeof(k), ret_enc, ret_len);
}

int ist_store_frost_certificate_put(struct ist_txn *txn, uint64_t height, const void *enc, size_t len)
{
	uint8_t k[IST_STORE_U64_KEY_BYTES + 1];
	ist_store_key_u64(k, height);
	k[IST_STORE_U64_KEY_BYTES] = 'f';
	return ist_store_put(txn, IST_STORE_DB_CERTIFICATES, k, sizeof(k), enc, len);
}

int ist_store_frost_certificate_get(struct ist_txn *txn, uint64_t height, const uint8_t **ret_enc, size_t *ret_len)
{
	uint8_t k[IST_STORE_U64_KEY_BYTES + 1];
	ist_store_key_u64(k, height);
	k[IST_STORE_U64_KEY_BYTES] = 'f';
	return ist_store_get(txn, IST_STORE_DB_CERTIFICATES, k, sizeof(k), ret_enc, ret_len);
}

static void share_key(uint8_t k[SHARE_KEY_BYTES], uint64_t height, uint32_t signer)
{
	ist_put_be64(k, height);
	ist_put_be32(k + 8, signer);
}

int ist_store_share_put(struct ist_txn *txn, uint64_t height, uint32_t signer, const void *enc, size_t len)
{
	uint8_t k[SHARE_KEY_BYTES];
	share_key(k, height, signer);
	return ist_store_put(txn, IST_STORE_DB_SHARES, k, sizeof(k), enc, len);
}

int ist_store_share_get(struct ist_txn *txn, uint64_t height, uint32_t signer, const uint8_t **ret_enc,
			size_t *ret_len)
{
	uint8_t k[SHARE_KEY_BYTES];
	share_key(k, height, signer);
	return ist_store_get(txn, IST_STORE_DB_SHARES, k, sizeof(k), ret_enc, ret_len);
}
