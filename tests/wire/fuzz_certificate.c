/* libFuzzer target: ist_wire_certificate_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_certificate *x, struct ist_buf *out)
{
	return fuzz_certificate_canonical(x, out);
}

WIRE_FUZZ_TARGET(certificate)
