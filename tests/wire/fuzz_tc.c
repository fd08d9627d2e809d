/* libFuzzer target: ist_wire_tc_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_tc *x, struct ist_buf *out)
{
	return fuzz_tc_canonical(FUZZ_NETWORK_ID, x, out);
}

WIRE_FUZZ_TARGET(tc)
