/*
 * RFC 9162 merkle trees (crypto/merkle.h): the published vectors byte for
 * byte, rejection of every kind of corrupted proof, exhaustive cross-checks
 * against a literal recursive transcription of RFC 9162 section 2.1 (written
 * here, independent of src/crypto/merkle.c), the frontier and its encoding,
 * and the generator over a leaf source with and without a subtree cache.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "lib/ist_test.h"

#define HB IST_HASH_BYTES
typedef uint8_t hash_t[HB];

/* ---- the published vectors ---- */

#define MAX_VEC 16
#define MAX_LEAVES 16

struct vec_proof {
	uint64_t a, b; /* inclusion: leaf_index, tree_size; consistency: size1, size2 */
	size_t len;
	hash_t proof[IST_MERKLE_MAX_CONSISTENCY];
};

struct vectors {
	size_t nleaves;
	hash_t leaves[MAX_LEAVES]; /* leaf hashes */
	size_t nroots;
	hash_t roots[MAX_LEAVES + 1];
	size_t nincl, ncons;
	struct vec_proof incl[MAX_VEC], cons[MAX_VEC];
};

static struct vectors V;

static uint64_t json_u64(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	ck_assert_msg(json_is_integer(v), "vector field %s is not an integer", key);
	ck_assert_int_ge(json_integer_value(v), 0);
	return (uint64_t)json_integer_value(v);
}

static void load_proof(json_t *obj, const char *ka, const char *kb, struct vec_proof *out)
{
	out->a = json_u64(obj, ka);
	out->b = json_u64(obj, kb);
	json_t *arr = json_object_get(obj, "proof");
	ck_assert(json_is_array(arr));
	out->len = json_array_size(arr);
	ck_assert_uint_le(out->len, IST_MERKLE_MAX_CONSISTENCY);
	for (size_t i = 0; i < out->len; i++)
		ist_test_unhex(json_string_value(json_array_get(arr, i)), out->proof[i], HB);
}

static void load_vectors(void)
{
	char *path = ist_test_vector_path("rfc9162-merkle.json");
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	ck_assert_msg(root != NULL, "%s: %s", path, jerr.text);
	free(path);

	json_t *leaves = json_object_get(root, "leaves");
	ck_assert(json_is_array(leaves));
	V.nleaves = json_array_size(leaves);
	ck_assert_uint_le(V.nleaves, MAX_LEAVES);
	for (size_t i = 0; i < V.nleaves; i++) {
		uint8_t *data;
		size_t len;
		ck_assert_int_eq(ist_hex_decode_alloc(json_string_value(json_array_get(leaves, i)), &data, &len), 0);
		ist_merkle_leaf_hash(data, len, V.leaves[i]);
		free(data);
	}

	json_t *roots = json_object_get(root, "roots");
	ck_assert(json_is_array(roots));
	V.nroots = json_array_size(roots);
	ck_assert_uint_eq(V.nroots, V.nleaves + 1);
	for (size_t i = 0; i < V.nroots; i++)
		ist_test_unhex(json_string_value(json_array_get(roots, i)), V.roots[i], HB);

	json_t *incl = json_object_get(root, "inclusion");
	V.nincl = json_array_size(incl);
	ck_assert_uint_gt(V.nincl, 0);
	ck_assert_uint_le(V.nincl, MAX_VEC);
	for (size_t i = 0; i < V.nincl; i++) {
		load_proof(json_array_get(incl, i), "leaf_index", "tree_size", &V.incl[i]);
		ck_assert_uint_le(V.incl[i].b, V.nleaves);
	}

	json_t *cons = json_object_get(root, "consistency");
	V.ncons = json_array_size(cons);
	ck_assert_uint_gt(V.ncons, 0);
	ck_assert_uint_le(V.ncons, MAX_VEC);
	for (size_t i = 0; i < V.ncons; i++) {
		load_proof(json_array_get(cons, i), "size1", "size2", &V.cons[i]);
		ck_assert_uint_le(V.cons[i].b, V.nleaves);
	}
	json_decref(root);
}

/* ---- RFC 9162 section 2.1, transcribed literally (recursive) ---- */

static uint64_t ref_split(uint64_t n)
{
	uint64_t k = 1;
	while (k < n - k) /* k << 1 < n, without overflow */
		k <<= 1;
	return k;
}

static void ref_mth(const hash_t *d, uint64_t n, uint8_t out[HB])
{
	if (n == 0) {
		ist_sha256("", 0, out);
	} else if (n == 1) {
		memcpy(out, d[0], HB);
	} else {
		uint64_t k = ref_split(n);
		hash_t l, r;
		ref_mth(d, k, l);
		ref_mth(d + k, n - k, r);
		ist_merkle_node_hash(l, r, out);
	}
}

static void ref_path(uint64_t m, const hash_t *d, uint64_t n, hash_t *proof, size_t *len)
{
	if (n <= 1)
		return;
	uint64_t k = ref_split(n);
	if (m < k) {
		ref_path(m, d, k, proof, len);
		ref_mth(d + k, n - k, proof[(*len)++]);
	} else {
		ref_path(m - k, d + k, n - k, proof, len);
		ref_mth(d, k, proof[(*len)++]);
	}
}

static void ref_subproof(uint64_t m, const hash_t *d, uint64_t n, bool b, hash_t *proof, size_t *len)
{
	if (m == n) {
		if (!b)
			ref_mth(d, n, proof[(*len)++]);
		return;
	}
	uint64_t k = ref_split(n);
	if (m <= k) {
		ref_subproof(m, d, k, b, proof, len);
		ref_mth(d + k, n - k, proof[(*len)++]);
	} else {
		ref_subproof(m - k, d + k, n - k, false, proof, len);
		ref_mth(d, k, proof[(*len)++]);
	}
}

/*
 * The "shape" of a proof: the left/right choices of PATH or SUBPROOF from the
 * root down. A verifier computes the same function of the proof elements for
 * two (index, size) or (size1, size2) pairs exactly when their shapes are
 * equal, so a proof for one pair verifies with the same root(s) for another
 * pair of the same shape: the size is bound to the proof only through the
 * root. For example the proof of leaf 0 in a tree of 8 also proves leaf 0 of
 * "a tree of 5, 6 or 7 leaves with that root", and no such tree exists
 * without a hash collision. Wrong sizes are therefore checked two ways: with
 * the same root they must fail whenever the shape differs, and with the real
 * root of the wrong-sized tree they must always fail.
 */
static void path_shape(uint64_t m, uint64_t n, char *out)
{
	size_t len = 0;
	while (n > 1) {
		uint64_t k = ref_split(n);
		if (m < k) {
			out[len++] = 'L';
			n = k;
		} else {
			out[len++] = 'R';
			m -= k;
			n -= k;
		}
	}
	out[len] = '\0';
}

static void subproof_shape(uint64_t m, uint64_t n, char *out)
{
	size_t len = 0;
	bool b = true;
	while (m != n) {
		uint64_t k = ref_split(n);
		if (m <= k) {
			out[len++] = 'L';
			n = k;
		} else {
			out[len++] = 'R';
			m -= k;
			n -= k;
			b = false;
		}
	}
	if (!b)
		out[len++] = 'F';
	out[len] = '\0';
}

static bool same_path_shape(uint64_t m1, uint64_t n1, uint64_t m2, uint64_t n2)
{
	char a[80], b[80];
	path_shape(m1, n1, a);
	path_shape(m2, n2, b);
	return strcmp(a, b) == 0;
}

static bool same_subproof_shape(uint64_t m1, uint64_t n1, uint64_t m2, uint64_t n2)
{
	char a[80], b[80];
	subproof_shape(m1, n1, a);
	subproof_shape(m2, n2, b);
	return strcmp(a, b) == 0;
}

/* Distinct leaf hashes for the exhaustive tests. */
#define NBIG 140
static hash_t BIG[NBIG];

static void make_big(void)
{
	for (uint64_t i = 0; i < NBIG; i++) {
		uint8_t data[8];
		ist_put_be64(data, i * 0x9e3779b97f4a7c15ull);
		ist_merkle_leaf_hash(data, sizeof(data), BIG[i]);
	}
}

/* ---- rejection checks shared by the vector and exhaustive tests ---- */

static const unsigned flip_bits[] = { 0, 7, 13, 100, 128, 255 };

static void flip(uint8_t h[HB], unsigned bit)
{
	h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* Every corruption of a valid inclusion proof is rejected. `roots_of`, when
 * not NULL, gives the real root of each tree size up to `nroots_of` - 1. */
static void check_inclusion_rejects(const uint8_t leaf[HB], uint64_t index, uint64_t size, const hash_t *proof,
				    size_t len, const uint8_t root[HB], const hash_t *roots_of, size_t nroots_of,
				    const hash_t *other_leaves, size_t nother)
{
	hash_t p[IST_MERKLE_MAX_DEPTH + 2];
	hash_t r;
	ck_assert_uint_le(len, IST_MERKLE_MAX_DEPTH);
	memcpy(p, proof, len * HB);

	/* it is valid to begin with */
	ck_assert(ist_merkle_verify_inclusion(leaf, index, size, p, len, root));

	/* wrong index: every other index of the tree, and some outside it */
	for (uint64_t j = 0; j < size + 3; j++) {
		if (j == index)
			continue;
		ck_assert_msg(!ist_merkle_verify_inclusion(leaf, j, size, p, len, root),
			      "index %llu accepted for leaf %llu of %llu", (unsigned long long)j,
			      (unsigned long long)index, (unsigned long long)size);
	}
	ck_assert(!ist_merkle_verify_inclusion(leaf, UINT64_MAX, size, p, len, root));

	/* wrong size */
	const uint64_t sizes[] = { size - 1, size + 1, size * 2, size / 2, size + 2, 0, 1, 2, 3, 4, 5, 7, 8, 9,
				   16, 17, 63, 64, 65, 1000, (uint64_t)1 << 32, UINT64_MAX - 1, UINT64_MAX };
	for (size_t s = 0; s < IST_ARRAY_SIZE(sizes); s++) {
		uint64_t sz = sizes[s];
		if (sz == size)
			continue;
		bool same = index < sz && same_path_shape(index, size, index, sz);
		if (!same)
			ck_assert_msg(!ist_merkle_verify_inclusion(leaf, index, sz, p, len, root),
				      "size %llu accepted for leaf %llu of %llu", (unsigned long long)sz,
				      (unsigned long long)index, (unsigned long long)size);
		if (roots_of && sz < nroots_of && index < sz)
			ck_assert(!ist_merkle_verify_inclusion(leaf, index, sz, p, len, roots_of[sz]));
	}

	/* a flipped bit in every element, at several positions */
	for (size_t e = 0; e < len; e++) {
		for (size_t b = 0; b < IST_ARRAY_SIZE(flip_bits); b++) {
			flip(p[e], flip_bits[b]);
			ck_assert_msg(!ist_merkle_verify_inclusion(leaf, index, size, p, len, root),
				      "bit %u of element %zu", flip_bits[b], e);
			ck_assert(ist_merkle_root_from_inclusion(leaf, index, size, p, len, r) == 0 &&
				  memcmp(r, root, HB) != 0);
			flip(p[e], flip_bits[b]);
		}
	}
	/* a flipped bit in the leaf or the root */
	hash_t l2, r2;
	memcpy(l2, leaf, HB);
	flip(l2, 77);
	ck_assert(!ist_merkle_verify_inclusion(l2, index, size, p, len, root));
	memcpy(r2, root, HB);
	flip(r2, 200);
	ck_assert(!ist_merkle_verify_inclusion(leaf, index, size, p, len, r2));

	/* truncated: drop the last, drop the first */
	if (len > 0) {
		ck_assert(!ist_merkle_verify_inclusion(leaf, index, size, p, len - 1, root));
		ck_assert_int_eq(ist_merkle_root_from_inclusion(leaf, index, size, p, len - 1, r), -IST_EBADPROOF);
		ck_assert(!ist_merkle_verify_inclusion(leaf, index, size, p + 1, len - 1, root));
		ck_assert(!ist_merkle_verify_inclusion(leaf, index, size, NULL, 0, root));
	}
	/* extended: a hash appended (a copy of the root, of the leaf, or zeros) */
	memcpy(p[len], root, HB);
	ck_assert(!ist_merkle_verify_inclusion(leaf, index, size, p, len + 1, root));
	ck_assert_int_eq(ist_merkle_root_from_inclusion(leaf, index, size, p, len + 1, r), -IST_EBADPROOF);
	memcpy(p[len], leaf, HB);
	ck_assert(!ist_merkle_verify_inclusion(leaf, index, size, p, len + 1, root));
	memset(p[len], 0, HB);
	memset(p[len + 1], 0, HB);
	ck_assert(!ist_merkle_verify_inclusion(leaf, index, size, p, len + 2, root));
	/* extended at the front */
	memmove(p[1], p[0], len * HB);
	memset(p[0], 0x5a, HB);
	ck_assert(!ist_merkle_verify_inclusion(leaf, index, size, p, len + 1, root));

	/* wrong leaf */
	for (size_t i = 0; i < nother; i++) {
		if (memcmp(other_leaves[i], leaf, HB) == 0)
			continue;
		ck_assert(!ist_merkle_verify_inclusion(other_leaves[i], index, size, proof, len, root));
	}
}

static void check_consistency_rejects(uint64_t m, uint64_t n, const hash_t *proof, size_t len,
				      const uint8_t root1[HB], const uint8_t root2[HB], const hash_t *roots_of,
				      size_t nroots_of)
{
	hash_t p[IST_MERKLE_MAX_CONSISTENCY + 2];
	ck_assert_uint_le(len, IST_MERKLE_MAX_CONSISTENCY);
	memcpy(p, proof, len * HB);

	ck_assert(ist_merkle_verify_consistency(m, n, root1, root2, p, len));

	/* swapped roots (they differ unless m == n) */
	if (memcmp(root1, root2, HB) != 0) {
		ck_assert(!ist_merkle_verify_consistency(m, n, root2, root1, p, len));
		ck_assert(!ist_merkle_verify_consistency(m, n, root1, root1, p, len));
		ck_assert(!ist_merkle_verify_consistency(m, n, root2, root2, p, len));
	}
	/* swapped sizes */
	if (m != n) {
		ck_assert(!ist_merkle_verify_consistency(n, m, root1, root2, p, len));
		ck_assert(!ist_merkle_verify_consistency(n, m, root2, root1, p, len));
	}
	/* size1 == 0 with a proof */
	if (len > 0)
		ck_assert(!ist_merkle_verify_consistency(0, n, root1, root2, p, len));

	/* wrong sizes */
	const uint64_t deltas[] = { 1, 2, 3, 4, 7, 8 };
	for (size_t i = 0; i < IST_ARRAY_SIZE(deltas); i++) {
		uint64_t d = deltas[i];
		const uint64_t pairs[][2] = {
			{ m + d, n }, { m - d, n }, { m, n + d }, { m, n - d }, { m + d, n + d }, { m - d, n - d },
			{ m * 2, n * 2 }, { m / 2, n }, { m, n * 2 },
		};
		for (size_t j = 0; j < IST_ARRAY_SIZE(pairs); j++) {
			uint64_t a = pairs[j][0], b = pairs[j][1];
			if ((a == m && b == n) || a > n + 64 || b > n + 64) /* skip wrap-around */
				continue;
			bool same = a >= 1 && a <= b && same_subproof_shape(m, n, a, b);
			if (!same)
				ck_assert_msg(!ist_merkle_verify_consistency(a, b, root1, root2, p, len),
					      "sizes %llu,%llu accepted for %llu,%llu", (unsigned long long)a,
					      (unsigned long long)b, (unsigned long long)m, (unsigned long long)n);
			if (roots_of && a < nroots_of && b < nroots_of && !(len == 0 && (a == b || a == 0)))
				ck_assert(!ist_merkle_verify_consistency(a, b, roots_of[a], roots_of[b], p, len));
		}
	}
	ck_assert(!ist_merkle_verify_consistency(m, UINT64_MAX, root1, root2, p, len));
	ck_assert(!ist_merkle_verify_consistency(UINT64_MAX, UINT64_MAX, root1, root2, p, len) || len == 0);

	/* a flipped bit in every element and in either root */
	for (size_t e = 0; e < len; e++) {
		for (size_t b = 0; b < IST_ARRAY_SIZE(flip_bits); b++) {
			flip(p[e], flip_bits[b]);
			ck_assert_msg(!ist_merkle_verify_consistency(m, n, root1, root2, p, len),
				      "bit %u of element %zu of %llu,%llu", flip_bits[b], e, (unsigned long long)m,
				      (unsigned long long)n);
			flip(p[e], flip_bits[b]);
		}
	}
	hash_t r1, r2;
	memcpy(r1, root1, HB);
	memcpy(r2, root2, HB);
	flip(r1, 3);
	ck_assert(!ist_merkle_verify_consistency(m, n, r1, root2, p, len));
	flip(r2, 250);
	ck_assert(!ist_merkle_verify_consistency(m, n, root1, r2, p, len));

	/* truncated */
	if (len > 0) {
		ck_assert(!ist_merkle_verify_consistency(m, n, root1, root2, p, len - 1));
		ck_assert(!ist_merkle_verify_consistency(m, n, root1, root2, p + 1, len - 1));
		ck_assert(!ist_merkle_verify_consistency(m, n, root1, root2, NULL, 0));
	}
	/* extended: at the end, and at the front (root1 prepended, as the
	 * verifier itself does for power-of-two sizes) */
	memcpy(p[len], root2, HB);
	ck_assert(!ist_merkle_verify_consistency(m, n, root1, root2, p, len + 1));
	memset(p[len], 0, HB);
	ck_assert(!ist_merkle_verify_consistency(m, n, root1, root2, p, len + 1));
	memmove(p[1], p[0], len * HB);
	memcpy(p[0], root1, HB);
	ck_assert(!ist_merkle_verify_consistency(m, n, root1, root2, p, len + 1));
}

/* ---- vectors ---- */

START_TEST(test_vector_roots)
{
	for (size_t n = 0; n < V.nroots; n++) {
		hash_t root;
		ck_assert_int_eq(ist_merkle_root(V.leaves, n, root), 0);
		ck_assert_msg(memcmp(root, V.roots[n], HB) == 0, "root of %zu leaves", n);

		struct ist_merkle_frontier f;
		ist_merkle_frontier_init(&f);
		for (size_t i = 0; i < n; i++)
			ck_assert_int_eq(ist_merkle_frontier_append(&f, V.leaves[i]), 0);
		ist_merkle_frontier_root(&f, root);
		ck_assert_msg(memcmp(root, V.roots[n], HB) == 0, "frontier root of %zu leaves", n);
	}
	/* the leaf and node hashes themselves: RFC 9162 section 2.1.1 */
	hash_t h, expect;
	uint8_t buf[1 + 2 * HB];
	buf[0] = 0x00;
	ist_sha256(buf, 1, expect);
	ist_merkle_leaf_hash("", 0, h);
	ck_assert_mem_eq(h, expect, HB);
	ck_assert_mem_eq(h, V.leaves[0], HB);
	buf[0] = 0x01;
	memcpy(buf + 1, V.leaves[0], HB);
	memcpy(buf + 1 + HB, V.leaves[1], HB);
	ist_sha256(buf, sizeof(buf), expect);
	ist_merkle_node_hash(V.leaves[0], V.leaves[1], h);
	ck_assert_mem_eq(h, expect, HB);
	ck_assert_mem_eq(h, V.roots[2], HB);
	/* out may alias either input */
	memcpy(h, V.leaves[0], HB);
	ist_merkle_node_hash(h, V.leaves[1], h);
	ck_assert_mem_eq(h, V.roots[2], HB);
	memcpy(h, V.leaves[1], HB);
	ist_merkle_node_hash(V.leaves[0], h, h);
	ck_assert_mem_eq(h, V.roots[2], HB);
}
END_TEST

START_TEST(test_vector_inclusion)
{
	for (size_t v = 0; v < V.nincl; v++) {
		const struct vec_proof *t = &V.incl[v];
		hash_t proof[IST_MERKLE_MAX_DEPTH];
		size_t len = 99;
		ck_assert_int_eq(ist_merkle_inclusion_proof(V.leaves, t->b, t->a, proof, &len), 0);
		ck_assert_uint_eq(len, t->len);
		ck_assert_msg(memcmp(proof, t->proof, len * HB) == 0, "inclusion proof %llu of %llu",
			      (unsigned long long)t->a, (unsigned long long)t->b);

		const uint8_t *root = V.roots[t->b];
		ck_assert(ist_merkle_verify_inclusion(V.leaves[t->a], t->a, t->b, t->proof, t->len, root));
		hash_t r;
		ck_assert_int_eq(ist_merkle_root_from_inclusion(V.leaves[t->a], t->a, t->b, t->proof, t->len, r), 0);
		ck_assert_mem_eq(r, root, HB);

		check_inclusion_rejects(V.leaves[t->a], t->a, t->b, t->proof, t->len, root, V.roots, V.nroots,
					V.leaves, V.nleaves);
	}
}
END_TEST

START_TEST(test_vector_consistency)
{
	for (size_t v = 0; v < V.ncons; v++) {
		const struct vec_proof *t = &V.cons[v];
		hash_t proof[IST_MERKLE_MAX_CONSISTENCY];
		size_t len = 99;
		ck_assert_int_eq(ist_merkle_consistency_proof(V.leaves, t->a, t->b, proof, &len), 0);
		ck_assert_uint_eq(len, t->len);
		ck_assert_msg(memcmp(proof, t->proof, len * HB) == 0, "consistency proof %llu to %llu",
			      (unsigned long long)t->a, (unsigned long long)t->b);
		ck_assert(ist_merkle_verify_consistency(t->a, t->b, V.roots[t->a], V.roots[t->b], t->proof, t->len));
		check_consistency_rejects(t->a, t->b, t->proof, t->len, V.roots[t->a], V.roots[t->b], V.roots,
					  V.nroots);
	}
}
END_TEST

/* The edges the contract spells out. */
START_TEST(test_bounds)
{
	hash_t proof[IST_MERKLE_MAX_CONSISTENCY], r, empty;
	size_t len = 77;
	ist_sha256("", 0, empty);

	ck_assert_int_eq(ist_merkle_root(NULL, 0, r), 0);
	ck_assert_mem_eq(r, empty, HB);

	/* generators: index >= n, m == 0, m > n; outputs untouched */
	ck_assert_int_eq(ist_merkle_inclusion_proof(V.leaves, 0, 0, proof, &len), -IST_ERANGE);
	ck_assert_int_eq(ist_merkle_inclusion_proof(V.leaves, 8, 8, proof, &len), -IST_ERANGE);
	ck_assert_int_eq(ist_merkle_inclusion_proof(V.leaves, 8, UINT64_MAX, proof, &len), -IST_ERANGE);
	ck_assert_int_eq(ist_merkle_consistency_proof(V.leaves, 0, 8, proof, &len), -IST_ERANGE);
	ck_assert_int_eq(ist_merkle_consistency_proof(V.leaves, 0, 0, proof, &len), -IST_ERANGE);
	ck_assert_int_eq(ist_merkle_consistency_proof(V.leaves, 5, 4, proof, &len), -IST_ERANGE);
	ck_assert_int_eq(ist_merkle_consistency_proof(V.leaves, UINT64_MAX, 8, proof, &len), -IST_ERANGE);
	ck_assert_uint_eq(len, 77);
	ck_assert_int_eq(ist_merkle_consistency_proof(V.leaves, 8, 8, proof, &len), 0);
	ck_assert_uint_eq(len, 0);

	/* inclusion: index >= size, empty tree */
	ck_assert(!ist_merkle_verify_inclusion(V.leaves[0], 0, 0, NULL, 0, empty));
	ck_assert(!ist_merkle_verify_inclusion(V.leaves[0], 1, 1, NULL, 0, V.leaves[0]));
	ck_assert(ist_merkle_verify_inclusion(V.leaves[0], 0, 1, NULL, 0, V.leaves[0]));
	memcpy(r, V.roots[3], HB);
	ck_assert_int_eq(ist_merkle_root_from_inclusion(V.leaves[0], 3, 3, NULL, 0, r), -IST_EBADPROOF);
	ck_assert_mem_eq(r, V.roots[3], HB); /* untouched */
	ck_assert_int_eq(ist_merkle_root_from_inclusion(V.leaves[0], UINT64_MAX, UINT64_MAX, NULL, 0, r),
			 -IST_EBADPROOF);
	/* a proof longer than any path is rejected without reading past it */
	hash_t longp[IST_MERKLE_MAX_CONSISTENCY];
	memset(longp, 0x11, sizeof(longp));
	ck_assert(!ist_merkle_verify_inclusion(V.leaves[0], 0, UINT64_MAX, longp, IST_ARRAY_SIZE(longp), empty));
	ck_assert(!ist_merkle_verify_consistency(1, UINT64_MAX, V.roots[1], empty, longp, IST_ARRAY_SIZE(longp)));

	/* consistency: size1 > size2, equal sizes, the empty tree */
	ck_assert(!ist_merkle_verify_consistency(3, 2, V.roots[3], V.roots[2], NULL, 0));
	ck_assert(ist_merkle_verify_consistency(5, 5, V.roots[5], V.roots[5], NULL, 0));
	ck_assert(!ist_merkle_verify_consistency(5, 5, V.roots[5], V.roots[4], NULL, 0));
	ck_assert(!ist_merkle_verify_consistency(5, 5, V.roots[5], V.roots[5], &V.roots[5], 1));
	ck_assert(!ist_merkle_verify_consistency(4, 5, V.roots[4], V.roots[5], NULL, 0));
	ck_assert(ist_merkle_verify_consistency(0, 0, empty, empty, NULL, 0));
	ck_assert(ist_merkle_verify_consistency(0, 8, empty, V.roots[8], NULL, 0));
	ck_assert(!ist_merkle_verify_consistency(0, 8, V.roots[1], V.roots[8], NULL, 0));
	ck_assert(!ist_merkle_verify_consistency(0, 0, empty, V.roots[1], NULL, 0));
	ck_assert(!ist_merkle_verify_consistency(0, 8, empty, V.roots[8], &V.roots[8], 1));
	ck_assert(!ist_merkle_verify_consistency(0, 1, empty, V.roots[1], &V.roots[1], 1));
	ck_assert(!ist_merkle_verify_consistency(1, 0, V.roots[1], empty, NULL, 0));
}
END_TEST

/* ---- exhaustive cross-checks ---- */

START_TEST(test_roots_and_frontier_exhaustive)
{
	struct ist_merkle_frontier f;
	ist_merkle_frontier_init(&f);
	for (uint64_t n = 0; n <= 130; n++) {
		hash_t ref, got, fr;
		ref_mth(BIG, n, ref);
		ck_assert_int_eq(ist_merkle_root(BIG, n, got), 0);
		ck_assert_msg(memcmp(got, ref, HB) == 0, "root of %llu", (unsigned long long)n);
		ist_merkle_frontier_root(&f, fr);
		ck_assert_msg(memcmp(fr, ref, HB) == 0, "frontier root of %llu", (unsigned long long)n);
		ck_assert(f.size == n);

		/* encode, decode: the same tree, which goes on growing the same */
		size_t elen = ist_merkle_frontier_encoded_len(&f);
		ck_assert_uint_eq(elen, 8 + (size_t)__builtin_popcountll(n) * HB);
		uint8_t enc[8 + IST_MERKLE_MAX_DEPTH * HB + 1];
		ist_merkle_frontier_encode(&f, enc);
		ck_assert(ist_get_be64(enc) == n);
		struct ist_merkle_frontier g;
		memset(&g, 0xee, sizeof(g));
		ck_assert_int_eq(ist_merkle_frontier_decode(enc, elen, &g), 0);
		ck_assert(memcmp(&f, &g, sizeof(f)) == 0);

		/* bad lengths */
		struct ist_merkle_frontier h;
		memset(&h, 0xcd, sizeof(h));
		struct ist_merkle_frontier h0 = h;
		ck_assert_int_eq(ist_merkle_frontier_decode(enc, elen + 1, &h), -IST_EPARSE);
		ck_assert_int_eq(ist_merkle_frontier_decode(enc, elen - 1, &h), -IST_EPARSE);
		ck_assert_int_eq(ist_merkle_frontier_decode(enc, elen + HB, &h), -IST_EPARSE);
		if (elen >= 8 + HB)
			ck_assert_int_eq(ist_merkle_frontier_decode(enc, elen - HB, &h), -IST_EPARSE);
		ck_assert_int_eq(ist_merkle_frontier_decode(enc, 7, &h), -IST_EPARSE);
		ck_assert_int_eq(ist_merkle_frontier_decode(enc, 0, &h), -IST_EPARSE);
		ck_assert(memcmp(&h, &h0, sizeof(h)) == 0); /* untouched on failure */

		if (n < 130)
			ck_assert_int_eq(ist_merkle_frontier_append(&f, BIG[n]), 0);
	}

	/* a decoded frontier appends like the original */
	struct ist_merkle_frontier a, b;
	ist_merkle_frontier_init(&a);
	for (uint64_t i = 0; i < 37; i++)
		ck_assert_int_eq(ist_merkle_frontier_append(&a, BIG[i]), 0);
	uint8_t enc[8 + IST_MERKLE_MAX_DEPTH * HB];
	ist_merkle_frontier_encode(&a, enc);
	ck_assert_int_eq(ist_merkle_frontier_decode(enc, ist_merkle_frontier_encoded_len(&a), &b), 0);
	for (uint64_t i = 37; i < 100; i++)
		ck_assert_int_eq(ist_merkle_frontier_append(&b, BIG[i]), 0);
	hash_t rb, ref;
	ist_merkle_frontier_root(&b, rb);
	ref_mth(BIG, 100, ref);
	ck_assert_mem_eq(rb, ref, HB);
}
END_TEST

START_TEST(test_frontier_edges)
{
	struct ist_merkle_frontier f;
	hash_t r, empty;
	ist_sha256("", 0, empty);
	ist_merkle_frontier_init(&f);
	ist_merkle_frontier_root(&f, r);
	ck_assert_mem_eq(r, empty, HB);
	ck_assert_uint_eq(ist_merkle_frontier_encoded_len(&f), 8);

	/* a full tree refuses another leaf and stays as it was */
	f.size = UINT64_MAX;
	for (unsigned k = 0; k < IST_MERKLE_MAX_DEPTH; k++)
		memset(f.nodes[k], (int)k, HB);
	struct ist_merkle_frontier before = f;
	ck_assert_int_eq(ist_merkle_frontier_append(&f, BIG[0]), -IST_ERANGE);
	ck_assert(memcmp(&f, &before, sizeof(f)) == 0);
	ck_assert_uint_eq(ist_merkle_frontier_encoded_len(&f), 8 + 64 * HB);
	uint8_t enc[8 + IST_MERKLE_MAX_DEPTH * HB];
	ist_merkle_frontier_encode(&f, enc);
	struct ist_merkle_frontier g;
	ck_assert_int_eq(ist_merkle_frontier_decode(enc, sizeof(enc), &g), 0);
	ck_assert(memcmp(&f, &g, sizeof(f)) == 0);
	ck_assert_int_eq(ist_merkle_frontier_decode(enc, sizeof(enc) - 1, &g), -IST_EPARSE);

	/* the last possible leaf: 2^64 - 2 -> 2^64 - 1 */
	f.size = UINT64_MAX - 1;
	ck_assert_int_eq(ist_merkle_frontier_append(&f, BIG[0]), 0);
	ck_assert(f.size == UINT64_MAX);
	ck_assert_mem_eq(f.nodes[0], BIG[0], HB);

	/* a carry through 63 levels: 2^63 - 1 -> 2^63 */
	ist_merkle_frontier_init(&f);
	f.size = ((uint64_t)1 << 63) - 1;
	for (unsigned k = 0; k < 63; k++)
		memcpy(f.nodes[k], BIG[k + 1], HB);
	ck_assert_int_eq(ist_merkle_frontier_append(&f, BIG[0]), 0);
	ck_assert(f.size == (uint64_t)1 << 63);
	hash_t expect;
	memcpy(expect, BIG[0], HB);
	for (unsigned k = 0; k < 63; k++)
		ist_merkle_node_hash(BIG[k + 1], expect, expect);
	ck_assert_mem_eq(f.nodes[63], expect, HB);
	ist_merkle_frontier_root(&f, r);
	ck_assert_mem_eq(r, expect, HB);
	for (unsigned k = 0; k < 63; k++) /* merged levels are cleared */
		ck_assert(memcmp(f.nodes[k], (hash_t){ 0 }, HB) == 0);

	/* decode: the length follows the size's set bits */
	uint8_t in[8 + 2 * HB] = { 0 };
	ist_put_be64(in, 5);
	ck_assert_int_eq(ist_merkle_frontier_decode(in, sizeof(in), &g), 0);
	ck_assert(g.size == 5);
	ck_assert_int_eq(ist_merkle_frontier_decode(in, 8 + HB, &g), -IST_EPARSE);
	ist_put_be64(in, 4);
	ck_assert_int_eq(ist_merkle_frontier_decode(in, sizeof(in), &g), -IST_EPARSE);
	ck_assert_int_eq(ist_merkle_frontier_decode(in, 8 + HB, &g), 0);
}
END_TEST

START_TEST(test_inclusion_exhaustive)
{
	for (uint64_t n = 1; n <= 64; n++) {
		hash_t root;
		ref_mth(BIG, n, root);
		for (uint64_t i = 0; i < n; i++) {
			hash_t proof[IST_MERKLE_MAX_DEPTH], ref[IST_MERKLE_MAX_DEPTH], r;
			size_t len, rlen = 0;
			ck_assert_int_eq(ist_merkle_inclusion_proof(BIG, n, i, proof, &len), 0);
			ref_path(i, BIG, n, ref, &rlen);
			ck_assert_uint_eq(len, rlen);
			ck_assert_msg(memcmp(proof, ref, len * HB) == 0, "proof %llu of %llu", (unsigned long long)i,
				      (unsigned long long)n);
			ck_assert(ist_merkle_verify_inclusion(BIG[i], i, n, proof, len, root));
			ck_assert_int_eq(ist_merkle_root_from_inclusion(BIG[i], i, n, proof, len, r), 0);
			ck_assert_mem_eq(r, root, HB);
			/* corruption, on a sample to keep the run short */
			if (n <= 20 || i % 7 == 0 || i == n - 1)
				check_inclusion_rejects(BIG[i], i, n, proof, len, root, NULL, 0, BIG, n);
		}
	}
}
END_TEST

START_TEST(test_consistency_exhaustive)
{
	hash_t roots[65];
	for (uint64_t n = 0; n <= 64; n++)
		ref_mth(BIG, n, roots[n]);
	for (uint64_t n = 1; n <= 64; n++) {
		for (uint64_t m = 1; m <= n; m++) {
			hash_t proof[IST_MERKLE_MAX_CONSISTENCY], ref[IST_MERKLE_MAX_CONSISTENCY];
			size_t len, rlen = 0;
			ck_assert_int_eq(ist_merkle_consistency_proof(BIG, m, n, proof, &len), 0);
			ref_subproof(m, BIG, n, true, ref, &rlen);
			ck_assert_uint_eq(len, rlen);
			ck_assert_msg(memcmp(proof, ref, len * HB) == 0, "proof %llu to %llu", (unsigned long long)m,
				      (unsigned long long)n);
			ck_assert_msg(ist_merkle_verify_consistency(m, n, roots[m], roots[n], proof, len),
				      "consistency %llu to %llu", (unsigned long long)m, (unsigned long long)n);
			if (n <= 24 || (m * 7 + n) % 11 == 0)
				check_consistency_rejects(m, n, proof, len, roots[m], roots[n], roots, 65);
		}
	}
}
END_TEST

/* ---- the generator over a source ---- */

struct test_source {
	const hash_t *leaves;
	uint64_t nleaves;	/* leaves beyond this are -IST_ENOTFOUND */
	uint64_t cache_levels;	/* bit L set: the cache holds level-L subtrees */
	uint64_t leaf_reads, subtree_calls, subtree_hits;
	uint64_t fail_index;	/* leaf read that fails with fail_err (when != 0) */
	int fail_err;
	int subtree_err;	/* when != 0, every subtree lookup fails with it */
};

static int ts_leaf(void *ctx, uint64_t index, uint8_t out32[HB])
{
	struct test_source *s = ctx;
	s->leaf_reads++;
	if (s->fail_err && index == s->fail_index)
		return s->fail_err;
	if (index >= s->nleaves)
		return -IST_ENOTFOUND;
	memcpy(out32, s->leaves[index], HB);
	return 0;
}

static int ts_subtree(void *ctx, unsigned level, uint64_t index, uint8_t out32[HB])
{
	struct test_source *s = ctx;
	s->subtree_calls++;
	ck_assert_uint_ge(level, 1);
	ck_assert_uint_lt(level, 64);
	if (s->subtree_err)
		return s->subtree_err;
	uint64_t width = (uint64_t)1 << level;
	if (!(s->cache_levels & ((uint64_t)1 << level)) || index >= s->nleaves / width)
		return -IST_ENOTFOUND;
	s->subtree_hits++;
	ref_mth(s->leaves + index * width, width, out32);
	return 0;
}

static void check_source_matches(struct test_source *s, bool with_cache, uint64_t maxn)
{
	struct ist_merkle_source src = { .leaf = ts_leaf, .subtree = with_cache ? ts_subtree : NULL, .ctx = s };
	for (uint64_t n = 0; n <= maxn; n++) {
		hash_t a, b;
		ck_assert_int_eq(ist_merkle_source_root(&src, n, a), 0);
		ck_assert_int_eq(ist_merkle_root(s->leaves, n, b), 0);
		ck_assert_mem_eq(a, b, HB);
		for (uint64_t i = 0; i < n; i++) {
			hash_t pa[IST_MERKLE_MAX_DEPTH], pb[IST_MERKLE_MAX_DEPTH];
			size_t la, lb;
			ck_assert_int_eq(ist_merkle_source_inclusion_proof(&src, n, i, pa, &la), 0);
			ck_assert_int_eq(ist_merkle_inclusion_proof(s->leaves, n, i, pb, &lb), 0);
			ck_assert_uint_eq(la, lb);
			ck_assert(memcmp(pa, pb, la * HB) == 0);
		}
		for (uint64_t m = 1; m <= n; m++) {
			hash_t pa[IST_MERKLE_MAX_CONSISTENCY], pb[IST_MERKLE_MAX_CONSISTENCY];
			size_t la, lb;
			ck_assert_int_eq(ist_merkle_source_consistency_proof(&src, m, n, pa, &la), 0);
			ck_assert_int_eq(ist_merkle_consistency_proof(s->leaves, m, n, pb, &lb), 0);
			ck_assert_uint_eq(la, lb);
			ck_assert(memcmp(pa, pb, la * HB) == 0);
		}
	}
}

START_TEST(test_source_matches_memory)
{
	/* without a cache, with a full cache, with caches that hold only some
	 * levels (misses then fall back to the halves and the leaves) */
	const uint64_t masks[] = { 0, UINT64_MAX, 0x2, 0x8, 0xaaaaaaaaaaaaaaaaull, 0x5555555555555555ull };
	for (size_t k = 0; k < IST_ARRAY_SIZE(masks); k++) {
		struct test_source s = { .leaves = BIG, .nleaves = NBIG, .cache_levels = masks[k] };
		check_source_matches(&s, masks[k] != 0, 40);
	}
	/* vectors through the source */
	struct test_source s = { .leaves = V.leaves, .nleaves = V.nleaves, .cache_levels = UINT64_MAX };
	struct ist_merkle_source src = { .leaf = ts_leaf, .subtree = ts_subtree, .ctx = &s };
	for (size_t v = 0; v < V.nincl; v++) {
		hash_t p[IST_MERKLE_MAX_DEPTH];
		size_t len;
		ck_assert_int_eq(ist_merkle_source_inclusion_proof(&src, V.incl[v].b, V.incl[v].a, p, &len), 0);
		ck_assert_uint_eq(len, V.incl[v].len);
		ck_assert(memcmp(p, V.incl[v].proof, len * HB) == 0);
	}
	for (size_t v = 0; v < V.ncons; v++) {
		hash_t p[IST_MERKLE_MAX_CONSISTENCY];
		size_t len;
		ck_assert_int_eq(ist_merkle_source_consistency_proof(&src, V.cons[v].a, V.cons[v].b, p, &len), 0);
		ck_assert_uint_eq(len, V.cons[v].len);
		ck_assert(memcmp(p, V.cons[v].proof, len * HB) == 0);
	}
	for (size_t n = 0; n < V.nroots; n++) {
		hash_t r;
		ck_assert_int_eq(ist_merkle_source_root(&src, n, r), 0);
		ck_assert_mem_eq(r, V.roots[n], HB);
	}
}
END_TEST

START_TEST(test_source_uses_cache)
{
	/* with every level cached, the root of 128 leaves is one lookup and no
	 * leaf read, and a proof reads O(log n) nodes */
	struct test_source s = { .leaves = BIG, .nleaves = 128, .cache_levels = UINT64_MAX };
	struct ist_merkle_source src = { .leaf = ts_leaf, .subtree = ts_subtree, .ctx = &s };
	hash_t r, ref;
	ck_assert_int_eq(ist_merkle_source_root(&src, 128, r), 0);
	ref_mth(BIG, 128, ref);
	ck_assert_mem_eq(r, ref, HB);
	ck_assert_uint_eq(s.leaf_reads, 0);
	ck_assert_uint_eq(s.subtree_calls, 1);

	s.leaf_reads = s.subtree_calls = 0;
	hash_t p[IST_MERKLE_MAX_DEPTH];
	size_t len;
	ck_assert_int_eq(ist_merkle_source_inclusion_proof(&src, 127, 77, p, &len), 0);
	ck_assert_uint_le(s.leaf_reads + s.subtree_calls, 2 * 7);
	ref_mth(BIG, 127, ref);
	ck_assert(ist_merkle_verify_inclusion(BIG[77], 77, 127, p, len, ref));

	/* without the cache the same proof reads every other leaf */
	struct ist_merkle_source plain = { .leaf = ts_leaf, .subtree = NULL, .ctx = &s };
	s.leaf_reads = s.subtree_calls = 0;
	ck_assert_int_eq(ist_merkle_source_inclusion_proof(&plain, 127, 77, p, &len), 0);
	ck_assert_uint_eq(s.leaf_reads, 126);
	ck_assert_uint_eq(s.subtree_calls, 0);

	/* a cache that holds nothing costs one lookup per inner node but
	 * changes nothing */
	s.cache_levels = 0;
	s.leaf_reads = s.subtree_calls = s.subtree_hits = 0;
	ck_assert_int_eq(ist_merkle_source_root(&src, 128, r), 0);
	ref_mth(BIG, 128, ref);
	ck_assert_mem_eq(r, ref, HB);
	ck_assert_uint_eq(s.leaf_reads, 128);
	ck_assert_uint_eq(s.subtree_calls, 127);
	ck_assert_uint_eq(s.subtree_hits, 0);

	/* a cache of level-3 subtrees only: the misses above fall back to it */
	s.cache_levels = (uint64_t)1 << 3;
	s.leaf_reads = s.subtree_calls = s.subtree_hits = 0;
	ck_assert_int_eq(ist_merkle_source_root(&src, 128, r), 0);
	ck_assert_mem_eq(r, ref, HB);
	ck_assert_uint_eq(s.leaf_reads, 0);
	ck_assert_uint_eq(s.subtree_hits, 16);
}
END_TEST

START_TEST(test_source_errors)
{
	const int errs[] = { -IST_EIO, -IST_ENOTFOUND, -IST_EDB_CORRUPT };
	for (size_t e = 0; e < IST_ARRAY_SIZE(errs); e++) {
		for (int cached = 0; cached < 2; cached++) {
			/* a failing leaf read anywhere in the tree */
			for (uint64_t bad = 0; bad < 20; bad++) {
				struct test_source s = { .leaves = BIG, .nleaves = NBIG, .fail_index = bad,
							 .fail_err = errs[e], .cache_levels = cached ? 0x4 : 0 };
				struct ist_merkle_source src = { .leaf = ts_leaf, .subtree = cached ? ts_subtree : NULL,
								 .ctx = &s };
				hash_t r, p[IST_MERKLE_MAX_CONSISTENCY];
				memset(r, 0xab, HB);
				size_t len = 1234;
				/* 20 = 16 + 4: with level-2 subtrees cached the root reads no
				 * leaf at all; without a cache it reads them all */
				int rc = ist_merkle_source_root(&src, 20, r);
				if (cached) {
					ck_assert_int_eq(rc, 0);
				} else {
					ck_assert_int_eq(rc, errs[e]);
					ck_assert_uint_eq(r[0], 0xab);
				}
				/* a proof reads the sibling leaf: bad ^ 1 */
				rc = ist_merkle_source_inclusion_proof(&src, 20, bad ^ 1, p, &len);
				ck_assert_int_eq(rc, errs[e]);
				ck_assert_uint_eq(len, 1234);
				/* without a cache, a proof of an other leaf reads every leaf but its own */
				rc = ist_merkle_source_inclusion_proof(&src, 20, bad == 0 ? 19 : 0, p, &len);
				if (!cached)
					ck_assert_int_eq(rc, errs[e]);
				else
					ck_assert(rc == 0 || rc == errs[e]);
				len = 1234;
				/* SUBPROOF(3, D[20]) reads every leaf when nothing is cached */
				rc = ist_merkle_source_consistency_proof(&src, 3, 20, p, &len);
				if (!cached) {
					ck_assert_int_eq(rc, errs[e]);
					ck_assert_uint_eq(len, 1234);
				} else if (rc != 0) {
					ck_assert_int_eq(rc, errs[e]);
					ck_assert_uint_eq(len, 1234);
				}
			}
		}
		/* a failing cache lookup: its error, not a fallback to the leaves */
		if (errs[e] != -IST_ENOTFOUND) {
			struct test_source s = { .leaves = BIG, .nleaves = NBIG, .subtree_err = errs[e] };
			struct ist_merkle_source src = { .leaf = ts_leaf, .subtree = ts_subtree, .ctx = &s };
			hash_t r, p[IST_MERKLE_MAX_CONSISTENCY];
			size_t len = 1234;
			ck_assert_int_eq(ist_merkle_source_root(&src, 20, r), errs[e]);
			ck_assert_int_eq(ist_merkle_source_inclusion_proof(&src, 20, 5, p, &len), errs[e]);
			ck_assert_int_eq(ist_merkle_source_consistency_proof(&src, 5, 20, p, &len), errs[e]);
			ck_assert_uint_eq(len, 1234);
			/* one leaf needs no lookup */
			ck_assert_int_eq(ist_merkle_source_root(&src, 1, r), 0);
		}
	}
	/* a tree larger than what the source holds */
	struct test_source s = { .leaves = BIG, .nleaves = 10 };
	struct ist_merkle_source src = { .leaf = ts_leaf, .subtree = NULL, .ctx = &s };
	hash_t r, p[IST_MERKLE_MAX_CONSISTENCY];
	size_t len;
	ck_assert_int_eq(ist_merkle_source_root(&src, 11, r), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_merkle_source_root(&src, 10, r), 0);
	/* bad indices and sizes */
	ck_assert_int_eq(ist_merkle_source_inclusion_proof(&src, 10, 10, p, &len), -IST_ERANGE);
	ck_assert_int_eq(ist_merkle_source_inclusion_proof(&src, 0, 0, p, &len), -IST_ERANGE);
	ck_assert_int_eq(ist_merkle_source_consistency_proof(&src, 0, 10, p, &len), -IST_ERANGE);
	ck_assert_int_eq(ist_merkle_source_consistency_proof(&src, 11, 10, p, &len), -IST_ERANGE);
	ck_assert_uint_eq(s.leaf_reads, 11 + 10);
}
END_TEST

/*
 * Trees of up to 2^64 - 1 leaves, through a synthetic source whose leaves
 * repeat with period 16 (leaf i = BIG[i % 16]): every perfect subtree of
 * 16 leaves or more is then the same at its level, so the cache answers
 * levels >= 4 from a table of 64 hashes, while smaller subtrees are
 * computed from the leaves. Proofs then have up to 64 elements and must
 * verify against the root from the same source.
 */
#define PERIOD_LEVEL 4
static hash_t PERFECT[IST_MERKLE_MAX_DEPTH];

static void make_perfect(void)
{
	ref_mth(BIG, (uint64_t)1 << PERIOD_LEVEL, PERFECT[PERIOD_LEVEL]);
	for (unsigned k = PERIOD_LEVEL + 1; k < IST_MERKLE_MAX_DEPTH; k++)
		ist_merkle_node_hash(PERFECT[k - 1], PERFECT[k - 1], PERFECT[k]);
}

static int synth_leaf(void *ctx, uint64_t index, uint8_t out32[HB])
{
	(void)ctx;
	memcpy(out32, BIG[index % ((uint64_t)1 << PERIOD_LEVEL)], HB);
	return 0;
}

static int synth_subtree(void *ctx, unsigned level, uint64_t index, uint8_t out32[HB])
{
	(void)ctx;
	(void)index;
	ck_assert_uint_lt(level, IST_MERKLE_MAX_DEPTH);
	if (level < PERIOD_LEVEL)
		return -IST_ENOTFOUND;
	memcpy(out32, PERFECT[level], HB);
	return 0;
}

START_TEST(test_huge_trees)
{
	make_perfect();
	struct ist_merkle_source src = { .leaf = synth_leaf, .subtree = synth_subtree, .ctx = NULL };
	const uint64_t sizes[] = { UINT64_MAX, UINT64_MAX - 1, (uint64_t)1 << 63, ((uint64_t)1 << 63) + 1,
				   ((uint64_t)1 << 63) - 1, 0x5555555555555555ull, (uint64_t)1 << 32 };
	for (size_t s = 0; s < IST_ARRAY_SIZE(sizes); s++) {
		uint64_t n = sizes[s];
		hash_t root;
		ck_assert_int_eq(ist_merkle_source_root(&src, n, root), 0);
		if ((n & (n - 1)) == 0) /* a power of two >= 16: one perfect tree */
			ck_assert_mem_eq(root, PERFECT[__builtin_ctzll(n)], HB);
		const uint64_t idxs[] = { 0, 1, n / 2, n / 3, n - 2, n - 1 };
		for (size_t i = 0; i < IST_ARRAY_SIZE(idxs); i++) {
			uint64_t idx = idxs[i];
			hash_t p[IST_MERKLE_MAX_DEPTH], leaf, r;
			size_t len;
			ck_assert_int_eq(ist_merkle_source_inclusion_proof(&src, n, idx, p, &len), 0);
			char shape[80];
			path_shape(idx, n, shape);
			ck_assert_uint_eq(len, strlen(shape));
			ck_assert_uint_le(len, IST_MERKLE_MAX_DEPTH);
			synth_leaf(NULL, idx, leaf);
			ck_assert(ist_merkle_verify_inclusion(leaf, idx, n, p, len, root));
			ck_assert_int_eq(ist_merkle_root_from_inclusion(leaf, idx, n, p, len, r), 0);
			ck_assert_mem_eq(r, root, HB);
			ck_assert(!ist_merkle_verify_inclusion(leaf, idx ^ 1, n, p, len, root));
			if (len > 0) {
				ck_assert(!ist_merkle_verify_inclusion(leaf, idx, n, p, len - 1, root));
				flip(p[len - 1], 9);
				ck_assert(!ist_merkle_verify_inclusion(leaf, idx, n, p, len, root));
			}
		}
		const uint64_t ms[] = { 1, 2, 3, n / 2, n / 3, n - 1, n };
		for (size_t i = 0; i < IST_ARRAY_SIZE(ms); i++) {
			uint64_t m = ms[i];
			if (m == 0 || m > n)
				continue;
			hash_t p[IST_MERKLE_MAX_CONSISTENCY], root1;
			size_t len;
			ck_assert_int_eq(ist_merkle_source_root(&src, m, root1), 0);
			ck_assert_int_eq(ist_merkle_source_consistency_proof(&src, m, n, p, &len), 0);
			ck_assert_uint_le(len, IST_MERKLE_MAX_DEPTH + 1);
			ck_assert(ist_merkle_verify_consistency(m, n, root1, root, p, len));
			if (len > 0) {
				ck_assert(!ist_merkle_verify_consistency(m, n, root, root1, p, len));
				flip(p[0], 1);
				ck_assert(!ist_merkle_verify_consistency(m, n, root1, root, p, len));
			}
		}
	}
}
END_TEST

static void setup(void)
{
	load_vectors();
	make_big();
}

static Suite *merkle_suite(void)
{
	Suite *s = suite_create("merkle");
	TCase *tc = tcase_create("merkle");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_vector_roots);
	tcase_add_test(tc, test_vector_inclusion);
	tcase_add_test(tc, test_vector_consistency);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_roots_and_frontier_exhaustive);
	tcase_add_test(tc, test_frontier_edges);
	tcase_add_test(tc, test_inclusion_exhaustive);
	tcase_add_test(tc, test_consistency_exhaustive);
	tcase_add_test(tc, test_source_matches_memory);
	tcase_add_test(tc, test_source_uses_cache);
	tcase_add_test(tc, test_source_errors);
	tcase_add_test(tc, test_huge_trees);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ist_test_run(merkle_suite());
}
