/* libFuzzer target: ist_wire_block_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_block *x, struct ist_buf *out)
{
	return fuzz_block_canonical(x, out);
}

WIRE_FUZZ_TARGET(block)
