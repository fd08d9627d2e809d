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
	case IST_ENVELOPE_BLOCK_REQUEST:
		fuzz_put_hash(out, x->u.block_request.block_id);
		return 0;
	case IST_ENVELOPE_ATTEST_SHARE:
		fuzz_put_hash(out, x->u.attest_share.batch_root);
		return 0;
	case IST_ENVELOPE_EPOCH_REQUEST:
		ist_buf_put_be64(out, x->u.epoch_request.epoch);
		return 0;
	case IST_ENVELOPE_FROST:
		ist_buf_put(out, x->u.frost.data, x->u.frost.len);
		return 0;
	case IST_ENVELOPE_BLOCK_RESPONSE:
		for (size_t i = 0; i < x->u.block_response.n_blocks; i++) {
			int r = fuzz_block_canonical(&x->u.block_response.blocks[i], out);
			if (r < 0)
				return r;
		}
		return 0;
	}
	return -IST_EINVAL;
}

WIRE_FUZZ_TARGET(envelope)
