#include "storage/routes.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "storage/internal.h"

#define LEAF_KEY_BYTES 24 /* src || dst || index */
#define NODE_KEY_BYTES 25 /* src || dst || level || index */

static void leaf_key(uint8_t k[LEAF_KEY_BYTES], uint64_t src, uint64_t dst, uint64_t index)
{
	ist_store_key_route(k, src, dst);
	ist_put_be64(k + IST_STORE_ROUTE_KEY_BYTES, index);
}

static void node_key(uint8_t k[NODE_KEY_BYTES], uint64_t src, uint64_t dst, unsigned level, uint64_t index)
{
	ist_store_key_route(k, src, dst);
	k[IST_STORE_ROUTE_KEY_BYTES] = (uint8_t)level;
	ist_put_be64(k + IST_STORE_ROUTE_KEY_BYTES + 1, index);
}

/* The route's encoded frontier (borrowed). Returns 0, -IST_ENOTFOUND (a
 * route never seen), -IST_EDB*. */
static int frontier_value(struct ist_txn *txn, uint64_t src, uint64_t dst, const uint8_t **ret_v, size_t *ret_n)
{
	uint8_t k[IST_STORE_ROUTE_KEY_BYTES];
	ist_store_key_route(k, src, dst);
	return ist_store_get(txn, IST_STORE_DB_ROUTES, k, sizeof(k), ret_v, ret_n);
}

int ist_store_route_frontier(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain,
			     struct ist_merkle_frontier *ret)
{
	const uint8_t *v;
	size_t n;
	int r = frontier_value(txn, src_chain, dst_chain, &v, &n);
	if (r == -IST_ENOTFOUND) {
		ist_merkle_frontier_init(ret);
		return 0;
	}
	if (r)
		return r;
	if (ist_merkle_frontier_decode(v, n, ret) != 0)
		return -IST_EDB_CORRUPT;
	return 0;
}

int ist_store_route_size(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t *ret_size)
{
	/* the frontier's encoding starts with the size (merkle.h) */
	const uint8_t *v;
	size_t n;
	int r = frontier_value(txn, src_chain, dst_chain, &v, &n);
	if (r == -IST_ENOTFOUND) {
		*ret_size = 0;
		return 0;
	}
	if (r)
		return r;
	if (n < 8)
		return -IST_EDB_CORRUPT;
	*ret_size = ist_get_be64(v);
	return 0;
}

int ist_store_route_root(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t *ret_size,
			 uint8_t ret_root32[IST_HASH_BYTES])
{
	struct ist_merkle_frontier f;
	int r = ist_store_route_frontier(txn, src_chain, dst_chain, &f);
	if (r)
		return r;
	*ret_size = f.size;
	ist_merkle_frontier_root(&f, ret_root32);
	return 0;
}

int ist_store_route_leaf_append(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain,
				const uint8_t leaf_hash32[IST_HASH_BYTES], const void *msg, size_t msg_len,
				uint64_t *ret_index)
{
	if (!leaf_hash32 || (!msg && msg_len > 0) || msg_len > SIZE_MAX - IST_HASH_BYTES)
		return -IST_EINVAL;
	struct ist_merkle_frontier f;
	int r = ist_store_route_frontier(txn, src_chain, dst_chain, &f);
	if (r)
		return r;
	uint64_t index = f.size;

	/* The roots of the perfect subtrees this leaf completes: the carry
	 * chain of the append (bit k of the old size set = a 2^k subtree
	 * waits for a right sibling). Computed from the old frontier before
	 * it is updated. */
	uint8_t h[IST_HASH_BYTES];
	memcpy(h, leaf_hash32, IST_HASH_BYTES);
	struct ist_merkle_frontier old = f;
	r = ist_merkle_frontier_append(&f, leaf_hash32);
	if (r)
		return r;

	uint8_t *val = malloc(IST_HASH_BYTES + msg_len);
	if (!val)
		return -IST_ENOMEM;
	memcpy(val, leaf_hash32, IST_HASH_BYTES);
	if (msg_len)
		memcpy(val + IST_HASH_BYTES, msg, msg_len);
	uint8_t lk[LEAF_KEY_BYTES];
	leaf_key(lk, src_chain, dst_chain, index);
	/* insert: a leaf is never overwritten; an existing one means the
	 * frontier and the leaves disagree */
	r = ist_store_insert(txn, IST_STORE_DB_MESSAGES, lk, sizeof(lk), val, IST_HASH_BYTES + msg_len);
	free(val);
	if (r == -IST_EEXISTS)
		return -IST_EDB_CORRUPT;
	if (r)
		return r;

	unsigned k = 0;
	for (; k < IST_MERKLE_MAX_DEPTH && (old.size >> k) & 1; k++) {
		ist_merkle_node_hash(old.nodes[k], h, h);
		uint8_t nk[NODE_KEY_BYTES];
		node_key(nk, src_chain, dst_chain, k + 1, index >> (k + 1));
		r = ist_store_put(txn, IST_STORE_DB_ROUTES, nk, sizeof(nk), h, IST_HASH_BYTES);
		if (r)
			return r;
	}
	/* the frontier must now hold exactly that subtree at level k */
	if (k >= IST_MERKLE_MAX_DEPTH || memcmp(f.nodes[k], h, IST_HASH_BYTES) != 0)
		return -IST_EINTERNAL;

	size_t flen = ist_merkle_frontier_encoded_len(&f);
	uint8_t fbuf[8 + IST_MERKLE_MAX_DEPTH * IST_HASH_BYTES];
	if (flen > sizeof(fbuf))
		return -IST_EINTERNAL;
	ist_merkle_frontier_encode(&f, fbuf);
	uint8_t rk[IST_STORE_ROUTE_KEY_BYTES];
	ist_store_key_route(rk, src_chain, dst_chain);
	r = ist_store_put(txn, IST_STORE_DB_ROUTES, rk, sizeof(rk), fbuf, flen);
	if (r)
		return r;
	if (ret_index)
		*ret_index = index;
	return 0;
}

static int leaf_value(struct ist_txn *txn, uint64_t src, uint64_t dst, uint64_t index, const uint8_t **ret_v,
		      size_t *ret_n)
{
	uint8_t k[LEAF_KEY_BYTES];
	leaf_key(k, src, dst, index);
	int r = ist_store_get(txn, IST_STORE_DB_MESSAGES, k, sizeof(k), ret_v, ret_n);
	if (r)
		return r;
	if (*ret_n < IST_HASH_BYTES)
		return -IST_EDB_CORRUPT;
	return 0;
}

int ist_store_route_leaf_get(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t index,
			     uint8_t ret_leaf32[IST_HASH_BYTES])
{
	const uint8_t *v;
	size_t n;
	int r = leaf_value(txn, src_chain, dst_chain, index, &v, &n);
	if (r)
		return r;
	memcpy(ret_leaf32, v, IST_HASH_BYTES);
	return 0;
}

int ist_store_route_message_get(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t index,
				const uint8_t **ret_msg, size_t *ret_len)
{
	const uint8_t *v;
	size_t n;
	int r = leaf_value(txn, src_chain, dst_chain, index, &v, &n);
	if (r)
		return r;
	*ret_msg = v + IST_HASH_BYTES;
	*ret_len = n - IST_HASH_BYTES;
	return 0;
}

static int source_leaf(void *ctx, uint64_t index, uint8_t out32[IST_HASH_BYTES])
{
	struct ist_store_route_source *rs = ctx;
	return ist_store_route_leaf_get(rs->txn, rs->src_chain, rs->dst_chain, index, out32);
}

static int source_subtree(void *ctx, unsigned level, uint64_t index, uint8_t out32[IST_HASH_BYTES])
{
	struct ist_store_route_source *rs = ctx;
	if (level == 0)
		return source_leaf(ctx, index, out32);
	if (level > IST_MERKLE_MAX_DEPTH)
		return -IST_ENOTFOUND;
	/* cached roots exist only for complete subtrees and never change, so
	 * any one found is right for every tree size that contains it */
	uint8_t k[NODE_KEY_BYTES];
	node_key(k, rs->src_chain, rs->dst_chain, level, index);
	return ist_store_get_fixed(rs->txn, IST_STORE_DB_ROUTES, k, sizeof(k), out32, IST_HASH_BYTES);
}

void ist_store_route_source_init(struct ist_store_route_source *rs, struct ist_txn *txn, uint64_t src_chain,
				 uint64_t dst_chain)
{
	rs->txn = txn;
	rs->src_chain = src_chain;
	rs->dst_chain = dst_chain;
	rs->source.leaf = source_leaf;
	rs->source.subtree = source_subtree;
	rs->source.ctx = rs;
}

#define HEIGHT_KEY_BYTES 25 /* src || dst || 0xff || height */

static void height_key(uint8_t k[HEIGHT_KEY_BYTES], uint64_t src, uint64_t dst, uint64_t height)
{
	ist_store_key_route(k, src, dst);
	k[IST_STORE_ROUTE_KEY_BYTES] = 0xff;
	ist_put_be64(k + IST_STORE_ROUTE_KEY_BYTES + 1, height);
}

int ist_store_route_height_put(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t height,
			       uint64_t size)
{
	uint8_t k[HEIGHT_KEY_BYTES], v[8];
	height_key(k, src_chain, dst_chain, height);
	ist_put_be64(v, size);
	return ist_store_put(txn, IST_STORE_DB_ROUTES, k, sizeof(k), v, sizeof(v));
}

int ist_store_route_size_at(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t height,
			    uint64_t *ret_size)
{
	uint8_t k[HEIGHT_KEY_BYTES];
	height_key(k, src_chain, dst_chain, height);
	struct ist_store_cursor *cur = NULL;
	int r = ist_store_cursor_open(txn, IST_STORE_DB_ROUTES, &cur);
	if (r < 0)
		return r;
	const uint8_t *key, *val;
	size_t klen, vlen;
	*ret_size = 0;
	r = ist_store_cursor_get(cur, IST_STORE_SEEK_LE, k, sizeof(k), &key, &klen, &val, &vlen);
	if (r == 0 && klen == HEIGHT_KEY_BYTES && memcmp(key, k, IST_STORE_ROUTE_KEY_BYTES + 1) == 0) {
		if (vlen != 8)
			r = -IST_EDB_CORRUPT;
		else
			*ret_size = ist_get_be64(val);
	} else if (r == -IST_ENOTFOUND) {
		r = 0;
	}
	ist_store_cursor_close(cur);
	return r;
}

#define META_KEY_BYTES 25  /* src || dst || 0xfe || index */
#define META_VAL_BYTES 32  /* height || value || cumulative value (u128) */

static void meta_key(uint8_t k[META_KEY_BYTES], uint64_t src, uint64_t dst, uint64_t index)
{
	ist_store_key_route(k, src, dst);
	k[IST_STORE_ROUTE_KEY_BYTES] = 0xfe;
	ist_put_be64(k + IST_STORE_ROUTE_KEY_BYTES + 1, index);
}

int ist_store_route_meta_put(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t index,
			     uint64_t height, uint64_t value)
{
	unsigned __int128 cum = value;
	if (index > 0) {
		struct ist_store_leaf_meta prev;
		int r = ist_store_route_meta_get(txn, src_chain, dst_chain, index - 1, &prev);
		if (r < 0)
			return r == -IST_ENOTFOUND ? -IST_EDB_CORRUPT : r;
		cum += prev.cum_value;
	}
	uint8_t k[META_KEY_BYTES], v[META_VAL_BYTES];
	meta_key(k, src_chain, dst_chain, index);
	ist_put_be64(v, height);
	ist_put_be64(v + 8, value);
	ist_put_be64(v + 16, (uint64_t)(cum >> 64));
	ist_put_be64(v + 24, (uint64_t)cum);
	return ist_store_put(txn, IST_STORE_DB_ROUTES, k, sizeof(k), v, sizeof(v));
}

int ist_store_route_meta_get(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain, uint64_t index,
			     struct ist_store_leaf_meta *ret)
{
	uint8_t k[META_KEY_BYTES];
	meta_key(k, src_chain, dst_chain, index);
	const uint8_t *v;
	size_t len;
	int r = ist_store_get(txn, IST_STORE_DB_ROUTES, k, sizeof(k), &v, &len);
	if (r < 0)
		return r;
	if (len != META_VAL_BYTES)
		return -IST_EDB_CORRUPT;
	ret->height = ist_get_be64(v);
	ret->value = ist_get_be64(v + 8);
	ret->cum_value = ((unsigned __int128)ist_get_be64(v + 16) << 64) | ist_get_be64(v + 24);
	return 0;
}

int ist_store_route_meta_backfill(struct ist_txn *txn, uint64_t src_chain, uint64_t dst_chain,
				  ist_store_value_fn value_fn, void *ctx, uint64_t *ret_filled)
{
	*ret_filled = 0;
	uint64_t size;
	struct ist_store_leaf_meta m;
	int r = ist_store_route_size(txn, src_chain, dst_chain, &size);
	if (r < 0 || size == 0)
		return r;
	r = ist_store_route_meta_get(txn, src_chain, dst_chain, size - 1, &m);
	if (r != -IST_ENOTFOUND)
		return r;
	/* the (height, size) records, in height order, read before writing */
	struct hs_rec {
		uint64_t height, size;
	} *hs = NULL;
	size_t n = 0, cap = 0;
	uint8_t k[HEIGHT_KEY_BYTES];
	height_key(k, src_chain, dst_chain, 0);
	struct ist_store_cursor *cur = NULL;
	if ((r = ist_store_cursor_open(txn, IST_STORE_DB_ROUTES, &cur)) < 0)
		return r;
	const uint8_t *key, *val;
	size_t klen, vlen;
	for (r = ist_store_cursor_get(cur, IST_STORE_SEEK_GE, k, sizeof(k), &key, &klen, &val, &vlen); r == 0;
	     r = ist_store_cursor_get(cur, IST_STORE_NEXT, NULL, 0, &key, &klen, &val, &vlen)) {
		if (klen != HEIGHT_KEY_BYTES || memcmp(key, k, IST_STORE_ROUTE_KEY_BYTES + 1) != 0)
			break;
		if (vlen != 8) {
			r = -IST_EDB_CORRUPT;
			break;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			void *x = realloc(hs, cap * sizeof(*hs));
			if (!x) {
				r = -IST_ENOMEM;
				break;
			}
			hs = x;
		}
		hs[n].height = ist_get_be64(key + IST_STORE_ROUTE_KEY_BYTES + 1);
		hs[n++].size = ist_get_be64(val);
	}
	ist_store_cursor_close(cur);
	if (r == -IST_ENOTFOUND)
		r = 0;
	uint64_t index = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		for (; index < hs[i].size && index < size && r == 0; index++) {
			const uint8_t *msg;
			size_t len;
			uint64_t value = 0;
			if ((r = ist_store_route_message_get(txn, src_chain, dst_chain, index, &msg, &len)) == 0 &&
			    (r = value_fn(ctx, msg, len, &value)) == 0)
				r = ist_store_route_meta_put(txn, src_chain, dst_chain, index, hs[i].height, value);
		}
	free(hs);
	if (r == 0 && index != size)
		r = -IST_EDB_CORRUPT;   /* leaves no height record covers */
	if (r == 0)
		*ret_filled = index;
	return r;
}

int ist_store_chain_cursor_put(struct ist_txn *txn, uint64_t chain, uint64_t height,
			       const uint8_t hash32[IST_HASH_BYTES])
{
	uint8_t k[8], v[8 + IST_HASH_BYTES];
	ist_put_be64(k, chain);
	ist_put_be64(v, height);
	memcpy(v + 8, hash32, IST_HASH_BYTES);
	return ist_store_put(txn, IST_STORE_DB_ROUTES, k, sizeof(k), v, sizeof(v));
}

int ist_store_chain_cursor_get(struct ist_txn *txn, uint64_t chain, uint64_t *ret_height,
			       uint8_t ret_hash32[IST_HASH_BYTES])
{
	uint8_t k[8];
	ist_put_be64(k, chain);
	const uint8_t *v;
	size_t vlen;
	int r = ist_store_get(txn, IST_STORE_DB_ROUTES, k, sizeof(k), &v, &vlen);
	if (r < 0)
		return r;
	if (vlen != 8 + IST_HASH_BYTES)
		return -IST_EDB_CORRUPT;
	*ret_height = ist_get_be64(v);
	memcpy(ret_hash32, v + 8, IST_HASH_BYTES);
	return 0;
}
