/*
 * Fuzz target 'merkle-proof': the RFC 9162 proof verifiers on untrusted
 * proofs. Input layout (integers big-endian):
 *
 *   u64 index | u64 size | u64 size2 | leaf[32] | root1[32] | root2[32] | proof[32]*
 *
 * At most IST_MERKLE_MAX_CONSISTENCY proof hashes are used; a trailing
 * partial hash is ignored. Inclusion is checked as (leaf, index, size,
 * root1), consistency as (size, size2, root1, root2). The seeds in
 * tests/fuzz/corpus/merkle-proof/ come from tools/fuzz-seeds/merkle-proof.py.
 *
 * Besides not crashing, the target aborts when:
 *  - verify_inclusion disagrees with root_from_inclusion + compare, or
 *    root_from_inclusion returns anything but 0 or -IST_EBADPROOF;
 *  - a verdict of true contradicts the arguments (index >= size, a proof
 *    longer than any path, size > size2, equal sizes with different roots);
 *  - a proof still verifies after one bit of its first element is flipped.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/merkle.h"

#define HEADER (3 * 8 + 3 * IST_HASH_BYTES)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEADER)
		return 0;
	uint64_t index = ist_get_be64(data);
	uint64_t tree_size = ist_get_be64(data + 8);
	uint64_t size2 = ist_get_be64(data + 16);
	const uint8_t *leaf = data + 24;
	const uint8_t *root1 = leaf + IST_HASH_BYTES;
	const uint8_t *root2 = root1 + IST_HASH_BYTES;
	size_t n = (size - HEADER) / IST_HASH_BYTES;
	if (n > IST_MERKLE_MAX_CONSISTENCY)
		n = IST_MERKLE_MAX_CONSISTENCY;
	/* a copy, so that one element can be corrupted below */
	uint8_t proof[IST_MERKLE_MAX_CONSISTENCY][IST_HASH_BYTES];
	memcpy(proof, data + HEADER, n * IST_HASH_BYTES);

	/* inclusion */
	bool incl = ist_merkle_verify_inclusion(leaf, index, tree_size, proof, n, root1);
	uint8_t r[IST_HASH_BYTES];
	int rc = ist_merkle_root_from_inclusion(leaf, index, tree_size, proof, n, r);
	if (rc != 0 && rc != -IST_EBADPROOF)
		abort();
	if (incl != (rc == 0 && memcmp(r, root1, IST_HASH_BYTES) == 0))
		abort();
	if (rc == 0 && (index >= tree_size || n > IST_MERKLE_MAX_DEPTH))
		abort();

	/* consistency */
	bool cons = ist_merkle_verify_consistency(tree_size, size2, root1, root2, proof, n);
	if (cons && tree_size > size2)
		abort();
	if (cons && tree_size == size2 && (n != 0 || memcmp(root1, root2, IST_HASH_BYTES) != 0))
		abort();

	/* every element counts */
	if ((incl || cons) && n > 0) {
		proof[0][n % IST_HASH_BYTES] ^= 0x10;
		if (incl && ist_merkle_verify_inclusion(leaf, index, tree_size, proof, n, root1))
			abort();
		if (cons && ist_merkle_verify_consistency(tree_size, size2, root1, root2, proof, n))
			abort();
	}
	return 0;
}
