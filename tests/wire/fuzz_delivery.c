/* libFuzzer target: ist_wire_delivery_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_delivery *x, struct ist_buf *out)
{
	int r = fuzz_message_canonical(&x->message, out);
	if (r == 0)
		r = fuzz_checkpoint_canonical(&x->checkpoint, out);
	if (r == 0)
		r = fuzz_certificate_canonical(&x->certificate, out);
	return r;
}

WIRE_FUZZ_TARGET(delivery)
