/* libFuzzer target: ist_wire_envelope_decode (see fuzz_common.h). */
#include "fuzz_common.h"

static int canonical(const struct ist_envelope *x, struct ist_buf *out)
{
	switch (x->kind) {
	case IST_ENVELOPE_PROPOSAL:
		return fuzz_proposal_canonical(&x->u.proposal, out);
	case IST_ENVELOPE_VOTE:
		return fuzz_vote_canonical(FUZZ_NETWORK_ID, &x->u.vote, out);
	case IST_ENVELOPE_TIMEOUT:
		return fuzz_timeout_canonical(FUZZ_NETWORK_ID, &x->u.timeout, out);
	}
	return -IST_EINVAL;
}

WIRE_FUZZ_TARGET(envelope)
