/*
 * RFC 9162 merkle trees: hashing, proofs, verification, the frontier.
 *
 * Every proof generator here walks the tree top-down without recursion over
 * n: at each step the range [lo, hi) splits at k, the largest power of two
 * smaller than hi - lo, and the walk descends into one side while the other
 * side's root is a proof element. The elements come out root-first, so they
 * are collected in a fixed array and written out reversed (RFC 9162 orders
 * them from the leaf upwards).
 *
 * Every range the walk ever needs the root of is "aligned": lo is a multiple
 * of the largest power of two not above hi - lo (lo is a sum of larger powers
 * of two). Such a range is a run of perfect subtrees, one per set bit of its
 * size from the highest down, each starting at a multiple of its own size, and
 * its root is those subtree roots folded right to left. That is what lets the
 * source-based generator ask a cache for perfect subtrees, and lets the
 * frontier reproduce MTH.
 *
 * The in-memory functions are the source-based ones over an internal array
 * source, so both give the same bytes by construction; they never allocate.
 */
#include "crypto/merkle.h"

#include <string.h>

#include "common/bytes.h"
#include "common/err.h"

typedef uint8_t hash_t[IST_HASH_BYTES];

/* SHA-256("") */
static const hash_t empty_root = {
	0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
	0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

void ist_merkle_leaf_hash(const void *data, size_t len, uint8_t out32[IST_HASH_BYTES])
{
	static const uint8_t prefix = 0x00;
	struct ist_sha256_ctx ctx;
	ist_sha256_init(&ctx);
	ist_sha256_update(&ctx, &prefix, 1);
	ist_sha256_update(&ctx, data, len);
	ist_sha256_final(&ctx, out32);
}

void ist_merkle_node_hash(const uint8_t left32[IST_HASH_BYTES], const uint8_t right32[IST_HASH_BYTES],
			  uint8_t out32[IST_HASH_BYTES])
{
	/* absorb both inputs before writing out32, which may alias either */
	uint8_t buf[1 + 2 * IST_HASH_BYTES];
	buf[0] = 0x01;
	memcpy(buf + 1, left32, IST_HASH_BYTES);
	memcpy(buf + 1 + IST_HASH_BYTES, right32, IST_HASH_BYTES);
	ist_sha256(buf, sizeof(buf), out32);
}

static bool hash_eq(const uint8_t a[IST_HASH_BYTES], const uint8_t b[IST_HASH_BYTES])
{
	/* roots and proofs are public: no need for constant time */
	return memcmp(a, b, IST_HASH_BYTES) == 0;
}

/* log2 of the largest power of two strictly smaller than n (n >= 2). */
static unsigned split_level(uint64_t n)
{
	return 63u - (unsigned)__builtin_clzll(n - 1);
}

static unsigned popcount64(uint64_t v)
{
	return (unsigned)__builtin_popcountll(v);
}

/* ---- the generator core, over a source ---- */

/* The root of the perfect subtree of 2^level leaves starting at leaf
 * index << level. Recursion depth is at most `level` (< 64). On a cache miss
 * the two halves are looked up in turn, so a cache that holds only some
 * levels still saves the leaf reads below them. */
static int perfect_root(const struct ist_merkle_source *src, unsigned level, uint64_t index,
			uint8_t out[IST_HASH_BYTES])
{
	int r;
	if (level == 0) {
		r = src->leaf(src->ctx, index, out);
		IST_REQUIRE(r <= 0);
		return r;
	}
	if (src->subtree) {
		r = src->subtree(src->ctx, level, index, out);
		IST_REQUIRE(r <= 0);
		if (r != -IST_ENOTFOUND)
			return r;
	}
	hash_t left, right;
	r = perfect_root(src, level - 1, index << 1, left);
	if (r == 0)
		r = perfect_root(src, level - 1, (index << 1) | 1, right);
	if (r == 0)
		ist_merkle_node_hash(left, right, out);
	return r;
}

/* MTH of the aligned range [lo, lo + size), size >= 1 (see the top of the
 * file): fold the perfect subtrees of the set bits of size, right to left. */
static int range_root(const struct ist_merkle_source *src, uint64_t lo, uint64_t size,
		      uint8_t out[IST_HASH_BYTES])
{
	hash_t parts[IST_MERKLE_MAX_DEPTH];
	unsigned nparts = 0;
	uint64_t pos = lo;
	for (int level = 63; level >= 0; level--) {
		uint64_t bit = (uint64_t)1 << level;
		if (!(size & bit))
			continue;
		/* aligned: pos is a multiple of bit */
		int r = perfect_root(src, (unsigned)level, pos >> level, parts[nparts]);
		if (r < 0)
			return r;
		nparts++;
		pos += bit;
	}
	IST_REQUIRE(nparts > 0);
	hash_t acc;
	memcpy(acc, parts[nparts - 1], IST_HASH_BYTES);
	for (unsigned i = nparts - 1; i-- > 0;)
		ist_merkle_node_hash(parts[i], acc, acc);
	memcpy(out, acc, IST_HASH_BYTES);
	return 0;
}

/* Writes the `len` elements of `top_down` (collected root-first) to `out`
 * leaf-first. */
static void emit_reversed(const hash_t *top_down, size_t len, uint8_t (*out)[IST_HASH_BYTES], size_t *ret_len)
{
	for (size_t i = 0; i < len; i++)
		memcpy(out[i], top_down[len - 1 - i], IST_HASH_BYTES);
	*ret_len = len;
}

int ist_merkle_source_root(const struct ist_merkle_source *src, uint64_t size, uint8_t ret_root32[IST_HASH_BYTES])
{
	if (size == 0) {
		memcpy(ret_root32, empty_root, IST_HASH_BYTES);
		return 0;
	}
	return range_root(src, 0, size, ret_root32);
}

/* PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1. */
int ist_merkle_source_inclusion_proof(const struct ist_merkle_source *src, uint64_t size, uint64_t index,
				      uint8_t (*ret_proof)[IST_HASH_BYTES], size_t *ret_len)
{
	if (index >= size)
		return -IST_ERANGE;
	hash_t path[IST_MERKLE_MAX_DEPTH];
	size_t len = 0;
	uint64_t lo = 0, hi = size;
	while (hi - lo > 1) {
		IST_REQUIRE(len < IST_MERKLE_MAX_DEPTH);
		unsigned level = split_level(hi - lo);
		uint64_t k = (uint64_t)1 << level;
		int r;
		if (index - lo < k) {
			r = range_root(src, lo + k, hi - lo - k, path[len]);
			hi = lo + k;
		} else {
			r = perfect_root(src, level, lo >> level, path[len]);
			lo += k;
		}
		if (r < 0)
			return r;
		len++;
	}
	emit_reversed(path, len, ret_proof, ret_len);
	return 0;
}

/* PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true) of RFC 9162 section 2.1.4.1. */
int ist_merkle_source_consistency_proof(const struct ist_merkle_source *src, uint64_t m, uint64_t n,
					uint8_t (*ret_proof)[IST_HASH_BYTES], size_t *ret_len)
{
	if (m == 0 || m > n)
		return -IST_ERANGE;
	/* one element per level walked, plus the final subtree root */
	hash_t path[IST_MERKLE_MAX_DEPTH + 1];
	size_t len = 0;
	uint64_t lo = 0, hi = n;
	bool whole = true; /* SUBPROOF's b: the old tree is the current range's prefix from its start */
	while (m != hi) {
		/* here lo < m < hi, so hi - lo >= 2 */
		IST_REQUIRE(len < IST_MERKLE_MAX_DEPTH);
		unsigned level = split_level(hi - lo);
		uint64_t k = (uint64_t)1 << level;
		int r;
		if (m - lo <= k) {
			r = range_root(src, lo + k, hi - lo - k, path[len]);
			hi = lo + k;
		} else {
			r = perfect_root(src, level, lo >> level, path[len]);
			lo += k;
			whole = false;
		}
		if (r < 0)
			return r;
		len++;
	}
	if (!whole) {
		int r = range_root(src, lo, hi - lo, path[len]);
		if (r < 0)
			return r;
		len++;
	}
	IST_REQUIRE(len <= IST_MERKLE_MAX_CONSISTENCY);
	emit_reversed(path, len, ret_proof, ret_len);
	return 0;
}

/* ---- in memory: the same generator over an array ---- */

static int array_leaf(void *ctx, uint64_t index, uint8_t out32[IST_HASH_BYTES])
{
	const uint8_t (*leaves)[IST_HASH_BYTES] = ctx;
	memcpy(out32, leaves[index], IST_HASH_BYTES);
	return 0;
}

static struct ist_merkle_source array_source(const uint8_t (*leaves)[IST_HASH_BYTES])
{
	/* the callback only reads through ctx */
	return (struct ist_merkle_source){ .leaf = array_leaf, .subtree = NULL, .ctx = (void *)leaves };
}

int ist_merkle_root(const uint8_t (*leaves)[IST_HASH_BYTES], uint64_t n, uint8_t ret_root32[IST_HASH_BYTES])
{
	struct ist_merkle_source src = array_source(leaves);
	return ist_merkle_source_root(&src, n, ret_root32);
}

int ist_merkle_inclusion_proof(const uint8_t (*leaves)[IST_HASH_BYTES], uint64_t n, uint64_t index,
			       uint8_t (*ret_proof)[IST_HASH_BYTES], size_t *ret_len)
{
	struct ist_merkle_source src = array_source(leaves);
	return ist_merkle_source_inclusion_proof(&src, n, index, ret_proof, ret_len);
}

int ist_merkle_consistency_proof(const uint8_t (*leaves)[IST_HASH_BYTES], uint64_t m, uint64_t n,
				 uint8_t (*ret_proof)[IST_HASH_BYTES], size_t *ret_len)
{
	struct ist_merkle_source src = array_source(leaves);
	return ist_merkle_source_consistency_proof(&src, m, n, ret_proof, ret_len);
}

/* ---- verification ---- */

/* RFC 9162 section 2.1.3.2. The loop runs at most proof_len times and fails
 * as soon as the proof is longer than the path (sn reaches 0 first). */
int ist_merkle_root_from_inclusion(const uint8_t leaf_hash32[IST_HASH_BYTES], uint64_t index, uint64_t size,
				   const uint8_t (*proof)[IST_HASH_BYTES], size_t proof_len,
				   uint8_t ret_root32[IST_HASH_BYTES])
{
	if (index >= size)
		return -IST_EBADPROOF;
	uint64_t fn = index, sn = size - 1;
	hash_t r;
	memcpy(r, leaf_hash32, IST_HASH_BYTES);
	for (size_t i = 0; i < proof_len; i++) {
		if (sn == 0)
			return -IST_EBADPROOF;
		if ((fn & 1) || fn == sn) {
			ist_merkle_node_hash(proof[i], r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			ist_merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return -IST_EBADPROOF;
	memcpy(ret_root32, r, IST_HASH_BYTES);
	return 0;
}

bool ist_merkle_verify_inclusion(const uint8_t leaf_hash32[IST_HASH_BYTES], uint64_t index, uint64_t size,
				 const uint8_t (*proof)[IST_HASH_BYTES], size_t proof_len,
				 const uint8_t root32[IST_HASH_BYTES])
{
	hash_t r;
	if (ist_merkle_root_from_inclusion(leaf_hash32, index, size, proof, proof_len, r) < 0)
		return false;
	return hash_eq(r, root32);
}

/* RFC 9162 section 2.1.4.2, with the cases it leaves to the caller (equal
 * sizes, the empty tree) decided here. */
bool ist_merkle_verify_consistency(uint64_t size1, uint64_t size2,
				   const uint8_t root1_32[IST_HASH_BYTES], const uint8_t root2_32[IST_HASH_BYTES],
				   const uint8_t (*proof)[IST_HASH_BYTES], size_t proof_len)
{
	if (size1 > size2)
		return false;
	if (size1 == 0) {
		/* every tree extends the empty one, whose root is fixed */
		if (proof_len != 0 || !hash_eq(root1_32, empty_root))
			return false;
		return size2 != 0 || hash_eq(root2_32, empty_root);
	}
	if (size1 == size2)
		return proof_len == 0 && hash_eq(root1_32, root2_32);
	if (proof_len == 0)
		return false;

	/* When size1 is a power of two the old tree is a perfect subtree of the
	 * new one and the proof leaves out its root: start from root1 as if it
	 * had been prepended (step 2) instead of copying the proof. */
	size_t i = 0;
	hash_t fr, sr;
	if ((size1 & (size1 - 1)) == 0) {
		memcpy(fr, root1_32, IST_HASH_BYTES);
	} else {
		memcpy(fr, proof[0], IST_HASH_BYTES);
		i = 1;
	}
	memcpy(sr, fr, IST_HASH_BYTES);

	uint64_t fn = size1 - 1, sn = size2 - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < proof_len; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			ist_merkle_node_hash(proof[i], fr, fr);
			ist_merkle_node_hash(proof[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			ist_merkle_node_hash(sr, proof[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && hash_eq(fr, root1_32) && hash_eq(sr, root2_32);
}

/* ---- frontier ---- */

void ist_merkle_frontier_init(struct ist_merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
}

int ist_merkle_frontier_append(struct ist_merkle_frontier *f, const uint8_t leaf_hash32[IST_HASH_BYTES])
{
	if (f->size == UINT64_MAX)
		return -IST_ERANGE;
	/* Adding one carries through the low set bits of size: each merges the
	 * subtree of that level with the new one. size != UINT64_MAX, so a clear
	 * bit, at level <= 63, ends the carry. */
	hash_t carry;
	memcpy(carry, leaf_hash32, IST_HASH_BYTES);
	unsigned k = 0;
	while (f->size & ((uint64_t)1 << k)) {
		ist_merkle_node_hash(f->nodes[k], carry, carry);
		/* unset levels hold zeros, so equal trees are equal structs */
		memset(f->nodes[k], 0, IST_HASH_BYTES);
		k++;
	}
	memcpy(f->nodes[k], carry, IST_HASH_BYTES);
	f->size++;
	return 0;
}

void ist_merkle_frontier_root(const struct ist_merkle_frontier *f, uint8_t ret_root32[IST_HASH_BYTES])
{
	if (f->size == 0) {
		memcpy(ret_root32, empty_root, IST_HASH_BYTES);
		return;
	}
	/* the lowest set level is the rightmost subtree: fold right to left */
	unsigned k = (unsigned)__builtin_ctzll(f->size);
	hash_t acc;
	memcpy(acc, f->nodes[k], IST_HASH_BYTES);
	for (k++; k < IST_MERKLE_MAX_DEPTH; k++)
		if (f->size & ((uint64_t)1 << k))
			ist_merkle_node_hash(f->nodes[k], acc, acc);
	memcpy(ret_root32, acc, IST_HASH_BYTES);
}

size_t ist_merkle_frontier_encoded_len(const struct ist_merkle_frontier *f)
{
	return 8 + (size_t)popcount64(f->size) * IST_HASH_BYTES;
}

void ist_merkle_frontier_encode(const struct ist_merkle_frontier *f, uint8_t *out)
{
	ist_put_be64(out, f->size);
	out += 8;
	for (unsigned k = 0; k < IST_MERKLE_MAX_DEPTH; k++) {
		if (f->size & ((uint64_t)1 << k)) {
			memcpy(out, f->nodes[k], IST_HASH_BYTES);
			out += IST_HASH_BYTES;
		}
	}
}

int ist_merkle_frontier_decode(const uint8_t *in, size_t len, struct ist_merkle_frontier *ret)
{
	if (len < 8)
		return -IST_EPARSE;
	uint64_t size = ist_get_be64(in);
	if (len != 8 + (size_t)popcount64(size) * IST_HASH_BYTES)
		return -IST_EPARSE;
	struct ist_merkle_frontier f;
	memset(&f, 0, sizeof(f));
	f.size = size;
	in += 8;
	for (unsigned k = 0; k < IST_MERKLE_MAX_DEPTH; k++) {
		if (size & ((uint64_t)1 << k)) {
			memcpy(f.nodes[k], in, IST_HASH_BYTES);
			in += IST_HASH_BYTES;
		}
	}
	*ret = f;
	return 0;
}
