#include "consensus/safety.h"

#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"

void ist_cons_safety_init(struct ist_cons_safety *s, uint64_t epoch, const struct ist_qc *genesis_qc)
{
	memset(s, 0, sizeof(*s));
	s->epoch = epoch;
	s->high_qc = *genesis_qc;
}

bool ist_cons_safety_vote_ok(const struct ist_cons_safety *s, uint64_t view, uint64_t justify_view,
			     bool has_tc, uint64_t tc_view, uint64_t tc_hqc_view)
{
	if (view <= s->last_voted_view || justify_view >= view)
		return false;
	if (justify_view + 1 == view)
		return true;
	/* tc_view + 1 == view, written so that it cannot wrap */
	return has_tc && tc_view < view && tc_view == view - 1 && justify_view >= tc_hqc_view;
}

void ist_cons_safety_vote_record(struct ist_cons_safety *s, uint64_t view, uint64_t justify_view)
{
	IST_REQUIRE(view > s->last_voted_view);
	/* the lock: a timeout signed later must carry at least this QC */
	IST_REQUIRE(justify_view <= s->high_qc.view);
	s->last_voted_view = view;
}

bool ist_cons_safety_timeout_ok(const struct ist_cons_safety *s, uint64_t view)
{
	if (view < s->last_voted_view)
		return false;
	if (view > s->last_timeout_view)
		return true;
	return view == s->last_timeout_view && s->high_qc.view == s->last_timeout_hqc_view;
}

void ist_cons_safety_timeout_record(struct ist_cons_safety *s, uint64_t view)
{
	IST_REQUIRE(ist_cons_safety_timeout_ok(s, view));
	s->last_timeout_view = view;
	s->last_timeout_hqc_view = s->high_qc.view;
	if (view > s->last_voted_view)
		s->last_voted_view = view;
}

bool ist_cons_safety_qc_update(struct ist_cons_safety *s, const struct ist_qc *qc)
{
	if (qc->epoch != s->epoch || qc->view <= s->high_qc.view)
		return false;
	s->high_qc = *qc;
	return true;
}

bool ist_cons_safety_commits(uint64_t view, uint64_t justify_view)
{
	return justify_view < view && justify_view + 1 == view;
}

/* ---- Encoding ---- */

#define HEADER_BYTES (1 + 4 * 8)
#define QC_FIXED_BYTES (8 + 8 + IST_HASH_BYTES + IST_WIRE_BITMAP_BYTES + 2)

int ist_cons_safety_encode(const struct ist_cons_safety *s, uint8_t **ret_buf, size_t *ret_len)
{
	const struct ist_qc *q = &s->high_qc;
	IST_REQUIRE(q->n_sigs <= IST_WIRE_MAX_VALIDATORS);
	struct ist_buf b;
	ist_buf_init(&b, IST_CONS_SAFETY_MAX_BYTES);
	ist_buf_put_u8(&b, IST_CONS_SAFETY_VERSION);
	ist_buf_put_be64(&b, s->epoch);
	ist_buf_put_be64(&b, s->last_voted_view);
	ist_buf_put_be64(&b, s->last_timeout_view);
	ist_buf_put_be64(&b, s->last_timeout_hqc_view);
	ist_buf_put_be64(&b, q->epoch);
	ist_buf_put_be64(&b, q->view);
	ist_buf_put(&b, q->block_id, IST_HASH_BYTES);
	ist_buf_put(&b, q->signers, IST_WIRE_BITMAP_BYTES);
	ist_buf_put_be16(&b, (uint16_t)q->n_sigs);
	for (size_t i = 0; i < q->n_sigs; i++)
		ist_buf_put(&b, q->sigs[i], IST_SIG_BYTES);
	return ist_buf_take(&b, ret_buf, ret_len);
}

int ist_cons_safety_decode(const uint8_t *buf, size_t len, struct ist_cons_safety *ret)
{
	if (!buf || len < 1)
		return -IST_EPARSE;
	if (buf[0] != IST_CONS_SAFETY_VERSION)
		return -IST_EUNSUPPORTED;
	if (len < HEADER_BYTES + QC_FIXED_BYTES || len > IST_CONS_SAFETY_MAX_BYTES)
		return -IST_EPARSE;

	/* decoded into the heap: the state holds a 16 KiB QC */
	struct ist_cons_safety *s = calloc(1, sizeof(*s));
	if (!s)
		return -IST_ENOMEM;
	struct ist_cur c;
	ist_cur_init(&c, buf + 1, len - 1);
	s->epoch = ist_cur_be64(&c);
	s->last_voted_view = ist_cur_be64(&c);
	s->last_timeout_view = ist_cur_be64(&c);
	s->last_timeout_hqc_view = ist_cur_be64(&c);
	struct ist_qc *q = &s->high_qc;
	q->epoch = ist_cur_be64(&c);
	q->view = ist_cur_be64(&c);
	ist_cur_get(&c, q->block_id, IST_HASH_BYTES);
	ist_cur_get(&c, q->signers, IST_WIRE_BITMAP_BYTES);
	size_t n = ist_cur_be16(&c);
	int r = -IST_EPARSE;
	if (!ist_cur_ok(&c) || n > IST_WIRE_MAX_VALIDATORS || n != ist_wire_bitmap_count(q->signers))
		goto out;
	q->n_sigs = n;
	for (size_t i = 0; i < n; i++)
		ist_cur_get(&c, q->sigs[i], IST_SIG_BYTES);
	if (!ist_cur_done(&c))
		goto out;
	/* consistency of our own invariants: a state that breaks them was not
	 * written by us */
	if (q->epoch != s->epoch || s->last_timeout_hqc_view > s->last_timeout_view ||
	    (s->last_timeout_view && s->last_timeout_view > s->last_voted_view))
		goto out;
	*ret = *s;
	r = 0;
out:
	free(s);
	return r;
}
