/*
 * Fuzz target 'dkg-round1': ist_dkg_round1_decode on untrusted bytes (the
 * encoding of crypto/dkg.h). Aborts when a decoded package does not encode
 * back to the same bytes, or when a package that verifies under the fixed
 * n = 4, t = 3 parameters is not one of the four genuine ones. Seeds in
 * tests/fuzz/corpus/dkg-round1/: the genuine packages of the fixed DKG and
 * corrupted variants (written once by a throwaway generator using the same
 * seeded rng; any valid or invalid package will do).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_dkg_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_dkg *F = fuzz_dkg_get();
	struct ist_dkg_round1 *pkg = malloc(sizeof(*pkg));
	if (!pkg)
		abort();
	if (ist_dkg_round1_decode(data, size, pkg) == 0) {
		size_t len = ist_dkg_round1_encoded_len(pkg);
		uint8_t *out = malloc(len);
		if (!out || len != size)
			abort();
		ist_dkg_round1_encode(pkg, out);
		if (memcmp(out, data, size) != 0)
			abort();
		free(out);
		if (ist_dkg_round1_verify(&F->p, pkg)) {
			const struct ist_dkg_round1 *g = &F->r1[pkg->dealer - 1];
			if (memcmp(g->commit, pkg->commit, (size_t)pkg->t * 32) != 0)
				abort(); /* a forged proof of knowledge */
		}
	}
	free(pkg);
	return 0;
}
