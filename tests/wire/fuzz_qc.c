/* libFuzzer target: ist_wire_qc_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_qc *x, struct ist_buf *out)
{
	return fuzz_qc_canonical(FUZZ_NETWORK_ID, x, out);
}

WIRE_FUZZ_TARGET(qc)
