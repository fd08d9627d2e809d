/* libFuzzer target: ist_wire_message_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_message *x, struct ist_buf *out)
{
	return fuzz_message_canonical(x, out);
}

WIRE_FUZZ_TARGET(message)
