/*
 * Merkle trees of RFC 9162 (Certificate Transparency v2, as RFC 6962):
 * SHA-256, leaf hash = H(0x00 || leaf data), node hash = H(0x01 || left || right),
 * the empty tree's root = H(""). Trees of any size, split at the largest power
 * of two smaller than the size (RFC 9162 section 2.1.1).
 *
 * In isthmus a route tree's leaves are message ids, and a batch tree's leaves
 * are canonical checkpoints (DESIGN.md, "Data, end to end").
 *
 * Functions that take leaf hashes expect H(0x00 || data) already applied
 * (ist_merkle_leaf_hash). Proofs are arrays of 32-byte hashes, ordered from
 * the leaf upwards as in RFC 9162 section 2.1.3.
 *
 * Outputs (ret_*) are written only on success. No function here allocates:
 * work space is a fixed array of IST_MERKLE_MAX_DEPTH hashes on the stack,
 * and recursion, where there is any, is at most 64 deep.
 */
#ifndef IST_CRYPTO_MERKLE_H
#define IST_CRYPTO_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/hash.h"

/* The deepest proof any tree of up to 2^64 - 1 leaves can have. */
#define IST_MERKLE_MAX_DEPTH 64

/* H(0x00 || data). */
void ist_merkle_leaf_hash(const void *data, size_t len, uint8_t out32[IST_HASH_BYTES]);
/* H(0x01 || left || right). out32 may alias left32 or right32. */
void ist_merkle_node_hash(const uint8_t left32[IST_HASH_BYTES], const uint8_t right32[IST_HASH_BYTES],
			  uint8_t out32[IST_HASH_BYTES]);

/* ---- In memory: over an array of n leaf hashes ---- */

/* Root of the tree of leaves[0..n). n may be 0 (root = SHA-256(""); leaves
 * may then be NULL). O(n) hashes. Returns 0 (-IST_ENOMEM is reserved: the
 * implementation does not allocate). */
int ist_merkle_root(const uint8_t (*leaves)[IST_HASH_BYTES], uint64_t n,
		    uint8_t ret_root32[IST_HASH_BYTES]) IST_WUR;

/* Inclusion proof of leaf `index` in the tree of leaves[0..n) (RFC 9162
 * PATH). O(n) hashes.
 * Out: ret_proof (at least IST_MERKLE_MAX_DEPTH entries), *ret_len entries.
 * Returns 0 or -IST_ERANGE (index >= n). */
int ist_merkle_inclusion_proof(const uint8_t (*leaves)[IST_HASH_BYTES], uint64_t n, uint64_t index,
			       uint8_t (*ret_proof)[IST_HASH_BYTES], size_t *ret_len) IST_WUR;

/* The longest consistency proof a tree of up to 2^64 - 1 leaves can need. */
#define IST_MERKLE_MAX_CONSISTENCY (2 * IST_MERKLE_MAX_DEPTH)

/* Consistency proof from the tree of the first m leaves to the tree of n
 * leaves (RFC 9162 section 2.1.4, PROOF). 0 < m <= n; m == n gives the
 * empty proof. O(n) hashes. At most IST_MERKLE_MAX_DEPTH + 1 entries.
 * Out: ret_proof (room for IST_MERKLE_MAX_CONSISTENCY entries), *ret_len.
 * Returns 0 or -IST_ERANGE (m == 0 or m > n). */
int ist_merkle_consistency_proof(const uint8_t (*leaves)[IST_HASH_BYTES], uint64_t m, uint64_t n,
				 uint8_t (*ret_proof)[IST_HASH_BYTES], size_t *ret_len) IST_WUR;

/* ---- Verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ---- */

/* True when `proof` proves that leaf_hash is leaf `index` of the tree of
 * `size` leaves whose root is root32. Any wrong index, a changed bit in any
 * element, a proof too short or too long, gives false; so does a wrong size,
 * except that the size is bound to the proof only through the root: a proof
 * for (index, size) also verifies for another size whose path has the same
 * shape (leaf 0 of 8 and leaf 0 of 5, 6 or 7), with the same root. The root
 * must therefore come from a trusted (size, root) pair, as in a checkpoint.
 * proof may be NULL when proof_len is 0; any proof_len is safe (a proof
 * longer than the path is rejected before it is read past the path). */
bool ist_merkle_verify_inclusion(const uint8_t leaf_hash32[IST_HASH_BYTES], uint64_t index, uint64_t size,
				 const uint8_t (*proof)[IST_HASH_BYTES], size_t proof_len,
				 const uint8_t root32[IST_HASH_BYTES]) IST_WUR;

/* The root that an inclusion proof implies (for callers that look the root
 * up afterwards). Returns 0 or -IST_EBADPROOF (index >= size, or a proof of
 * the wrong length for index and size). */
int ist_merkle_root_from_inclusion(const uint8_t leaf_hash32[IST_HASH_BYTES], uint64_t index, uint64_t size,
				   const uint8_t (*proof)[IST_HASH_BYTES], size_t proof_len,
				   uint8_t ret_root32[IST_HASH_BYTES]) IST_WUR;

/* True when `proof` proves that the tree of size1 leaves with root1 is a
 * prefix of the tree of size2 leaves with root2 (1 <= size1 <= size2; when
 * size1 == size2 the proof must be empty and the roots equal). Swapped roots,
 * size1 > size2, a proof too short or too long and any corruption of the
 * proof give false; wrong sizes too, with the same caveat as inclusion (the
 * sizes are bound through the roots). size1 == 0: true only for an empty
 * proof and root1 == SHA-256("") (every tree extends the empty one; root2 is
 * then unchecked unless size2 == 0 too). */
bool ist_merkle_verify_consistency(uint64_t size1, uint64_t size2,
				   const uint8_t root1_32[IST_HASH_BYTES], const uint8_t root2_32[IST_HASH_BYTES],
				   const uint8_t (*proof)[IST_HASH_BYTES], size_t proof_len) IST_WUR;

/* ---- Append-only tree that keeps only its frontier ----
 *
 * The roots of the perfect subtrees that make up the tree (one per set bit of
 * `size`), enough to append and to compute the root in O(log n) space; what
 * a watcher keeps per route. Plain memory: copy it freely. */
struct ist_merkle_frontier {
	uint64_t size;
	/* nodes[k] is the root of the perfect subtree of 2^k leaves, valid when
	 * bit k of size is set */
	uint8_t nodes[IST_MERKLE_MAX_DEPTH][IST_HASH_BYTES];
};

void ist_merkle_frontier_init(struct ist_merkle_frontier *f);
/* Appends one leaf hash: O(log n) hashes. Levels merged into a higher one
 * are zeroed, so two frontiers of the same tree compare equal with memcmp
 * when both started from ist_merkle_frontier_init or _decode.
 * Returns 0 or -IST_ERANGE when the tree is full (size 2^64 - 1; f is then
 * unchanged). */
int ist_merkle_frontier_append(struct ist_merkle_frontier *f, const uint8_t leaf_hash32[IST_HASH_BYTES]) IST_WUR;
/* The root of the current tree (SHA-256("") when empty). */
void ist_merkle_frontier_root(const struct ist_merkle_frontier *f, uint8_t ret_root32[IST_HASH_BYTES]);

/* Compact encoding for storage: size (u64 big-endian) then the set nodes from
 * the lowest level up. ist_merkle_frontier_encoded_len() bytes, at most
 * 8 + 64 * 32. */
size_t ist_merkle_frontier_encoded_len(const struct ist_merkle_frontier *f);
void ist_merkle_frontier_encode(const struct ist_merkle_frontier *f, uint8_t *out);
/* Decodes into *ret (written only on success; unset levels zeroed).
 * Returns 0 or -IST_EPARSE when the length does not match the size. The
 * node hashes themselves cannot be checked here: compare the root with a
 * trusted one. */
int ist_merkle_frontier_decode(const uint8_t *in, size_t len, struct ist_merkle_frontier *ret) IST_WUR;

/* ---- Proofs over leaves kept elsewhere (LMDB) ----
 *
 * The proof generator reads leaf hashes through this interface, so crypto
 * never depends on storage; src/storage provides the LMDB implementation. */
struct ist_merkle_source {
	/* Writes leaf hash `index` (0-based). Returns 0, -IST_ENOTFOUND or a
	 * storage error, which the generator passes on unchanged. */
	int (*leaf)(void *ctx, uint64_t index, uint8_t out32[IST_HASH_BYTES]);
	/* Optional (may be NULL): the root of the perfect subtree of 2^level
	 * leaves starting at leaf index << level, if cached. Returns 0, or
	 * -IST_ENOTFOUND to make the generator compute it from leaves. Asked
	 * only for 1 <= level <= 63 and subtrees inside the tree; any other
	 * error is passed on unchanged. Neither callback may return a positive
	 * value (IST_REQUIRE). */
	int (*subtree)(void *ctx, unsigned level, uint64_t index, uint8_t out32[IST_HASH_BYTES]);
	void *ctx;
};

/* As the in-memory functions, reading leaves from `src`; the in-memory
 * functions are these over an array, so both give the same bytes.
 *
 * Every subtree a proof or root needs is split into perfect subtrees (one per
 * set bit of its size); each is asked of `subtree` (levels >= 1, when not
 * NULL), and on -IST_ENOTFOUND it is computed from its two halves, asked in
 * turn, down to the leaves. Cost: with every perfect subtree cached, O(log n)
 * callbacks per root or proof; with no cache, O(n) leaf reads (a root reads
 * every leaf, an inclusion proof every leaf but one); a cache that answers
 * nothing adds one lookup per inner node computed (less than the leaf reads).
 * Recursion depth is at most 64.
 *
 * Each returns 0, -IST_ERANGE for bad indices or sizes (as in memory), or the
 * first error a callback returned other than the cache's -IST_ENOTFOUND,
 * unchanged (so a leaf's -IST_ENOTFOUND is passed on too). */
int ist_merkle_source_root(const struct ist_merkle_source *src, uint64_t size,
			   uint8_t ret_root32[IST_HASH_BYTES]) IST_WUR;
int ist_merkle_source_inclusion_proof(const struct ist_merkle_source *src, uint64_t size, uint64_t index,
				      uint8_t (*ret_proof)[IST_HASH_BYTES], size_t *ret_len) IST_WUR;
int ist_merkle_source_consistency_proof(const struct ist_merkle_source *src, uint64_t m, uint64_t n,
					uint8_t (*ret_proof)[IST_HASH_BYTES], size_t *ret_len) IST_WUR;

#endif
