/* libFuzzer target: ist_wire_proposal_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_proposal *x, struct ist_buf *out)
{
	return fuzz_proposal_canonical(x, out);
}

WIRE_FUZZ_TARGET(proposal)
