/* libFuzzer target: ist_wire_vote_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_vote *x, struct ist_buf *out)
{
	return fuzz_vote_canonical(FUZZ_NETWORK_ID, x, out);
}

WIRE_FUZZ_TARGET(vote)
