/*
 * Fuzz target 'dkg-complaint': ist_dkg_complaint_decode on untrusted bytes.
 * Aborts when a decoded complaint does not encode back to the same bytes,
 * or when one is judged a dealer's fault against the fixed n = 4 DKG, whose
 * dealers are all honest (that would be a forged proof). Seeds in
 * tests/fuzz/corpus/dkg-complaint/: genuine (false) complaints of the fixed
 * DKG and corrupted variants.
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
	struct ist_dkg_complaint c;
	if (ist_dkg_complaint_decode(data, size, &c) != 0)
		return 0;
	uint8_t out[IST_DKG_COMPLAINT_BYTES];
	ist_dkg_complaint_encode(&c, out);
	if (size != sizeof(out) || memcmp(out, data, size) != 0)
		abort();
	if (c.dealer <= F->p.n) {
		enum ist_dkg_verdict v;
		int r = ist_dkg_complaint_judge(&F->p, &F->r1[c.dealer - 1], &F->r2[c.dealer - 1], &c, &v);
		if (r == 0 && v == IST_DKG_DEALER_FAULT)
			abort();
	}
	return 0;
}
