/* libFuzzer target: ist_wire_timeout_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_timeout *x, struct ist_buf *out)
{
	return fuzz_timeout_canonical(FUZZ_NETWORK_ID, x, out);
}

WIRE_FUZZ_TARGET(timeout)
