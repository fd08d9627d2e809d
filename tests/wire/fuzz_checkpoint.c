/* libFuzzer target: ist_wire_checkpoint_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_checkpoint *x, struct ist_buf *out)
{
	return fuzz_checkpoint_canonical(x, out);
}

WIRE_FUZZ_TARGET(checkpoint)
