/* libFuzzer target: ist_wire_tx_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_tx *x, struct ist_buf *out)
{
	return fuzz_tx_canonical(x, out);
}

WIRE_FUZZ_TARGET(tx)
