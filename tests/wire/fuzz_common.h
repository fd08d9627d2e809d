/*
 * The body shared by the wire fuzz targets (fuzz_<kind>.c): decode; on
 * success re-encode, decode again and abort() unless the two structs are
 * equal, the two encodings byte-identical and the canonical bytes the same;
 * on failure abort() unless the error is one a decoder may return and a
 * reason is given. A target file defines
 *
 *   static int canonical(const struct ist_<kind> *x, struct ist_buf *out);
 *
 * (append the kind's canonical bytes and ids; return 0 or an error) and then
 * says WIRE_FUZZ_TARGET(<kind>).
 */
#ifndef IST_TESTS_WIRE_FUZZ_COMMON_H
#define IST_TESTS_WIRE_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "wire/canonical.h"
#include "wire/codec.h"
#include "wire/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_fail(const char *kind, const char *what)
{
	fprintf(stderr, "fuzz-wire-%s: %s\n", kind, what);
	abort();
}

static inline void fuzz_check_error(const char *kind, int r, const char *reason)
{
	if (r != -IST_EPARSE && r != -IST_ETOOBIG && r != -IST_EUNSUPPORTED && r != -IST_ENOMEM)
		fuzz_fail(kind, "decoder returned an unexpected error code");
	if (!reason || !reason[0])
		fuzz_fail(kind, "decoder failed without a reason");
}

/* Canonical bytes of a and b (a decoded, b re-decoded) must agree. */
#define WIRE_FUZZ_CANONICAL_SAME(kind, a, b)                                      \
	do {                                                                      \
		struct ist_buf ca_, cb_;                                          \
		ist_buf_init(&ca_, 0);                                            \
		ist_buf_init(&cb_, 0);                                            \
		int ra_ = canonical((a), &ca_);                                   \
		int rb_ = canonical((b), &cb_);                                   \
		if (ra_ != rb_)                                                   \
			fuzz_fail(#kind, "canonical bytes: results differ");      \
		if (ra_ == 0 && (ca_.len != cb_.len || (ca_.len && memcmp(ca_.data, cb_.data, ca_.len) != 0))) \
			fuzz_fail(#kind, "canonical bytes differ");               \
		ist_buf_fini(&ca_);                                               \
		ist_buf_fini(&cb_);                                               \
	} while (0)

#define WIRE_FUZZ_TARGET(kind)                                                                   \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                             \
	{                                                                                        \
		struct ist_##kind *a = NULL, *b = NULL;                                          \
		const char *reason = NULL;                                                       \
		int r = ist_wire_##kind##_decode(data, size, &a, &reason);                       \
		if (r < 0) {                                                                     \
			fuzz_check_error(#kind, r, reason);                                      \
			if (a != NULL)                                                           \
				fuzz_fail(#kind, "output written on failure");                   \
			return 0;                                                                \
		}                                                                                \
		uint8_t *e1 = NULL, *e2 = NULL;                                                  \
		size_t n1 = 0, n2 = 0;                                                           \
		if (ist_wire_##kind##_encode(a, &e1, &n1) != 0)                                  \
			fuzz_fail(#kind, "a decoded value does not encode");                     \
		if (ist_wire_##kind##_decode(e1, n1, &b, &reason) != 0)                          \
			fuzz_fail(#kind, "a re-encoded value does not decode");                  \
		if (!ist_wire_##kind##_equal(a, b))                                              \
			fuzz_fail(#kind, "decode(encode(x)) != x");                              \
		if (ist_wire_##kind##_encode(b, &e2, &n2) != 0)                                  \
			fuzz_fail(#kind, "second encoding failed");                              \
		if (n1 != n2 || memcmp(e1, e2, n1) != 0)                                         \
			fuzz_fail(#kind, "encoding is not deterministic");                       \
		WIRE_FUZZ_CANONICAL_SAME(kind, a, b);                                            \
		free(e1);                                                                        \
		free(e2);                                                                        \
		ist_wire_##kind##_free(a);                                                       \
		ist_wire_##kind##_free(b);                                                       \
		return 0;                                                                        \
	}

/* Helpers for the canonical() of each target. */
static inline void fuzz_put_hash(struct ist_buf *out, const uint8_t h[32]) { ist_buf_put(out, h, 32); }

static inline int fuzz_qc_canonical(uint64_t net, const struct ist_qc *qc, struct ist_buf *out)
{
	uint8_t vb[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(net, qc->epoch, qc->view, qc->block_id, vb);
	ist_buf_put(out, vb, sizeof(vb));
	return ist_buf_err(out);
}

static inline int fuzz_tc_canonical(uint64_t net, const struct ist_tc *tc, struct ist_buf *out)
{
	for (size_t i = 0; i < tc->n_sigs; i++) {
		uint8_t tb[IST_WIRE_TIMEOUT_SIGNING_BYTES];
		ist_wire_timeout_signing_bytes(net, tc->epoch, tc->view, tc->high_qc_views[i], tb);
		ist_buf_put(out, tb, sizeof(tb));
	}
	return fuzz_qc_canonical(net, &tc->high_qc, out);
}

static inline int fuzz_block_canonical(const struct ist_block *blk, struct ist_buf *out)
{
	uint8_t h[IST_WIRE_BLOCK_HEADER_BYTES], root[32];
	size_t n;
	int r = ist_wire_block_header_bytes(blk, h);
	if (r < 0)
		return r;
	ist_buf_put(out, h, sizeof(h));
	r = ist_wire_block_batch_root(blk, root, &n);
	if (r < 0)
		return r;
	fuzz_put_hash(out, root);
	r = ist_wire_block_payload_canonical(blk, out);
	if (r < 0)
		return r;
	return fuzz_qc_canonical(blk->network_id, &blk->justify, out);
}

static inline int fuzz_proposal_canonical(const struct ist_proposal *p, struct ist_buf *out)
{
	uint8_t s[IST_WIRE_PROPOSAL_SIGNING_BYTES];
	int r = ist_wire_proposal_signing_bytes(p, s);
	if (r < 0)
		return r;
	ist_buf_put(out, s, sizeof(s));
	if (p->has_tc)
		fuzz_tc_canonical(p->block.network_id, &p->tc, out);
	return fuzz_block_canonical(&p->block, out);
}

static inline int fuzz_timeout_canonical(uint64_t net, const struct ist_timeout *t, struct ist_buf *out)
{
	uint8_t tb[IST_WIRE_TIMEOUT_SIGNING_BYTES];
	ist_wire_timeout_signing_bytes(net, t->epoch, t->view, t->high_qc.view, tb);
	ist_buf_put(out, tb, sizeof(tb));
	return fuzz_qc_canonical(net, &t->high_qc, out);
}

static inline int fuzz_vote_canonical(uint64_t net, const struct ist_vote *v, struct ist_buf *out)
{
	uint8_t vb[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(net, v->epoch, v->view, v->block_id, vb);
	ist_buf_put(out, vb, sizeof(vb));
	return ist_buf_err(out);
}

static inline int fuzz_tx_canonical(const struct ist_tx *tx, struct ist_buf *out)
{
	uint8_t b[IST_WIRE_MAX_TX_SIGNING_BYTES], id[32];
	size_t n;
	int r = ist_wire_tx_signing_bytes(tx, b, &n);
	if (r < 0)
		return r;
	ist_buf_put(out, b, n);
	r = ist_wire_tx_id(tx, id);
	if (r < 0)
		return r;
	fuzz_put_hash(out, id);
	return ist_buf_err(out);
}

static inline int fuzz_message_canonical(const struct ist_message *m, struct ist_buf *out)
{
	uint8_t id[32];
	int r = ist_wire_message_canonical(m, out);
	if (r < 0)
		return r;
	r = ist_wire_message_id(m, id);
	if (r < 0)
		return r;
	fuzz_put_hash(out, id);
	return ist_buf_err(out);
}

static inline int fuzz_checkpoint_canonical(const struct ist_checkpoint *cp, struct ist_buf *out)
{
	uint8_t b[IST_WIRE_CHECKPOINT_BYTES], leaf[32];
	ist_wire_checkpoint_bytes(cp, b);
	ist_buf_put(out, b, sizeof(b));
	ist_wire_checkpoint_leaf_hash(cp, leaf);
	fuzz_put_hash(out, leaf);
	return ist_buf_err(out);
}

static inline int fuzz_certificate_canonical(const struct ist_certificate *c, struct ist_buf *out)
{
	uint8_t d[32];
	ist_wire_certificate_digest(c, d);
	fuzz_put_hash(out, d);
	return ist_buf_err(out);
}

/* The network id consensus kinds are checked under (they carry none). */
#define FUZZ_NETWORK_ID 7

#endif
