/*
 * Fuzz target 'dkg-round2': ist_dkg_round2_decode on untrusted bytes.
 * Aborts when a decoded package does not encode back to the same bytes.
 * Decoded packages also go through ist_dkg_round2_check and, when they pass,
 * through ist_dkg_receive for every recipient under the fixed n = 4 DKG
 * (which must not crash, and accepts only genuine shares). Seeds in
 * tests/fuzz/corpus/dkg-round2/: the fixed DKG's packages and corrupted
 * variants.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "fuzz_dkg_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_dkg *F = fuzz_dkg_get();
	struct ist_dkg_round2 *pkg = malloc(sizeof(*pkg));
	if (!pkg)
		abort();
	if (ist_dkg_round2_decode(data, size, pkg) == 0) {
		size_t len = ist_dkg_round2_encoded_len(pkg);
		uint8_t *out = malloc(len);
		if (!out || len != size)
			abort();
		ist_dkg_round2_encode(pkg, out);
		if (memcmp(out, data, size) != 0)
			abort();
		free(out);
		if (pkg->dealer <= F->p.n && ist_dkg_round2_check(&F->p, F->accepted, pkg)) {
			for (uint16_t j = 1; j <= F->p.n; j++) {
				if (j == pkg->dealer)
					continue;
				uint8_t share[32];
				int r = ist_dkg_receive(&F->p, j, F->enc_sec[j - 1], &F->r1[pkg->dealer - 1], pkg, share);
				if (r != 0 && r != -IST_EBADPROOF)
					abort();
			}
		}
	}
	free(pkg);
	return 0;
}
