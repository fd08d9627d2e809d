/*
 * Unit tests of the consensus modules taken one at a time: the safety rules,
 * stake-weighted quorums and certificate checks, the pacemaker's back-off,
 * the block tree and the persisted safety state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "consensus/consensus.h"
#include "consensus/pacemaker.h"
#include "consensus/quorum.h"
#include "consensus/safety.h"
#include "consensus/tree.h"
#include "crypto/ed25519.h"
#include "lib/ist_test.h"
#include "wire/canonical.h"

#define NET 77

/* ---- Fixtures: an epoch of n validators with deterministic keys ---- */

struct fix {
	uint32_t n;
	uint8_t seeds[8][32];
	struct ist_cons_epoch *e;
	struct ist_cons_verifier v;
};

static void fix_init(struct fix *f, uint32_t n, const uint64_t *stakes)
{
	memset(f, 0, sizeof(*f));
	f->n = n;
	f->e = calloc(1, sizeof(*f->e));
	ck_assert_ptr_nonnull(f->e);
	f->e->number = 3;
	f->e->n = n;
	memset(f->e->root_id, 0xab, 32);
	for (uint32_t i = 0; i < n; i++) {
		memset(f->seeds[i], (int)(i + 1), 32);
		ck_assert_int_eq(ist_ed25519_pubkey(f->seeds[i], f->e->pubkeys[i]), 0);
		f->e->stakes[i] = stakes ? stakes[i] : 1;
	}
	ck_assert_int_eq(ist_cons_epoch_check(f->e), 0);
	f->v.network_id = NET;
}

static void fix_fini(struct fix *f)
{
	free(f->e);
}

static void sign_vote(const struct fix *f, uint32_t i, uint64_t view, const uint8_t id[32], uint8_t sig[64])
{
	uint8_t msg[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(NET, f->e->number, view, id, msg);
	ck_assert_int_eq(ist_ed25519_sign(f->seeds[i], msg, sizeof(msg), sig), 0);
}

/* A QC for (view, id) signed by the validators in `who` (a bit mask). */
static struct ist_qc *make_qc(const struct fix *f, uint64_t view, const uint8_t id[32], unsigned who)
{
	struct ist_qc *q = calloc(1, sizeof(*q));
	ck_assert_ptr_nonnull(q);
	q->epoch = f->e->number;
	q->view = view;
	memcpy(q->block_id, id, 32);
	for (uint32_t i = 0; i < f->n; i++) {
		if (!(who & (1u << i)))
			continue;
		ck_assert_int_eq(ist_wire_bitmap_set(q->signers, i), 0);
		sign_vote(f, i, view, id, q->sigs[q->n_sigs++]);
	}
	return q;
}

/* ---- Safety rules ---- */

static struct ist_cons_safety *safety_new(uint64_t high_qc_view)
{
	struct ist_cons_safety *s = calloc(1, sizeof(*s));
	struct ist_qc *g = calloc(1, sizeof(*g));
	ck_assert(s && g);
	g->epoch = 1;
	ist_cons_safety_init(s, 1, g);
	s->high_qc.view = high_qc_view;
	free(g);
	return s;
}

START_TEST(test_vote_rule)
{
	struct ist_cons_safety *s = safety_new(4);
	/* a block justified by the QC of the view just before */
	ck_assert(ist_cons_safety_vote_ok(s, 5, 4, false, 0, 0));
	/* a gap without a TC: no */
	ck_assert(!ist_cons_safety_vote_ok(s, 6, 4, false, 0, 0));
	/* a gap with a TC of the previous view whose highest QC the block extends */
	ck_assert(ist_cons_safety_vote_ok(s, 6, 4, true, 5, 4));
	ck_assert(ist_cons_safety_vote_ok(s, 6, 4, true, 5, 3));
	/* ...but not if the TC reports a higher QC than the block's justify */
	ck_assert(!ist_cons_safety_vote_ok(s, 6, 3, true, 5, 4));
	/* a TC of another view does not help */
	ck_assert(!ist_cons_safety_vote_ok(s, 6, 3, true, 4, 3));
	/* justify at or above the block's view: never */
	ck_assert(!ist_cons_safety_vote_ok(s, 5, 5, false, 0, 0));
	ck_assert(!ist_cons_safety_vote_ok(s, 0, 0, true, UINT64_MAX, 0));

	/* at most one vote per view, never below the last */
	ist_cons_safety_vote_record(s, 5, 4);
	ck_assert_uint_eq(s->last_voted_view, 5);
	ck_assert(!ist_cons_safety_vote_ok(s, 5, 4, false, 0, 0));
	ck_assert(!ist_cons_safety_vote_ok(s, 4, 3, false, 0, 0));
	free(s);
}
END_TEST

START_TEST(test_timeout_rule)
{
	struct ist_cons_safety *s = safety_new(2);
	ck_assert(ist_cons_safety_timeout_ok(s, 3));
	ist_cons_safety_timeout_record(s, 3);
	/* a timeout stops voting in its view */
	ck_assert_uint_eq(s->last_voted_view, 3);
	ck_assert(!ist_cons_safety_vote_ok(s, 3, 2, false, 0, 0));
	/* the same timeout again (same QC) is allowed: the same bytes */
	ck_assert(ist_cons_safety_timeout_ok(s, 3));
	/* a different timeout for the view (another QC) is not */
	s->high_qc.view = 2;
	s->last_timeout_hqc_view = 1;
	ck_assert(!ist_cons_safety_timeout_ok(s, 3));
	/* nor a timeout below a view voted in */
	s->last_voted_view = 7;
	ck_assert(!ist_cons_safety_timeout_ok(s, 6));
	/* voting in a view, then timing it out, is fine (the vote raised high_qc) */
	ck_assert(ist_cons_safety_timeout_ok(s, 7));
	free(s);
}
END_TEST

START_TEST(test_commit_rule)
{
	ck_assert(ist_cons_safety_commits(8, 7));
	ck_assert(!ist_cons_safety_commits(8, 6));
	ck_assert(!ist_cons_safety_commits(8, 8));
	ck_assert(!ist_cons_safety_commits(0, UINT64_MAX));
}
END_TEST

START_TEST(test_high_qc_only_rises)
{
	struct ist_cons_safety *s = safety_new(5);
	struct ist_qc *q = calloc(1, sizeof(*q));
	q->epoch = 1;
	q->view = 4;
	ck_assert(!ist_cons_safety_qc_update(s, q));
	q->view = 9;
	ck_assert(ist_cons_safety_qc_update(s, q));
	ck_assert_uint_eq(s->high_qc.view, 9);
	q->epoch = 2;   /* another epoch's QC never counts */
	q->view = 20;
	ck_assert(!ist_cons_safety_qc_update(s, q));
	free(q);
	free(s);
}
END_TEST

START_TEST(test_safety_encoding)
{
	struct fix f;
	fix_init(&f, 4, NULL);
	uint8_t id[32];
	memset(id, 0x42, 32);
	struct ist_cons_safety *s = calloc(1, sizeof(*s));
	struct ist_qc *q = make_qc(&f, 9, id, 0x7);
	ist_cons_safety_init(s, 3, q);
	s->last_voted_view = 12;
	s->last_timeout_view = 11;
	s->last_timeout_hqc_view = 9;
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(ist_cons_safety_encode(s, &buf, &len), 0);
	ck_assert_uint_eq(buf[0], IST_CONS_SAFETY_VERSION);
	ck_assert_uint_eq(len, 1 + 4 * 8 + 8 + 8 + 32 + 32 + 2 + 3 * 64);

	struct ist_cons_safety *d = calloc(1, sizeof(*d));
	ck_assert_int_eq(ist_cons_safety_decode(buf, len, d), 0);
	ck_assert_uint_eq(d->epoch, 3);
	ck_assert_uint_eq(d->last_voted_view, 12);
	ck_assert_uint_eq(d->last_timeout_view, 11);
	ck_assert_uint_eq(d->last_timeout_hqc_view, 9);
	ck_assert(ist_wire_qc_equal(&d->high_qc, q));

	/* every truncation and a trailing byte are clear errors, never a crash */
	for (size_t k = 0; k < len; k++)
		ck_assert_int_eq(ist_cons_safety_decode(buf, k, d), -IST_EPARSE);
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0;
	ck_assert_int_eq(ist_cons_safety_decode(longer, len + 1, d), -IST_EPARSE);
	/* an unknown version */
	buf[0] = 2;
	ck_assert_int_eq(ist_cons_safety_decode(buf, len, d), -IST_EUNSUPPORTED);
	buf[0] = IST_CONS_SAFETY_VERSION;
	/* a signature count that does not match the bitmap */
	buf[1 + 4 * 8 + 8 + 8 + 32 + 32 + 1] = 2;
	ck_assert_int_eq(ist_cons_safety_decode(buf, len, d), -IST_EPARSE);
	/* random bytes */
	for (int t = 0; t < 200; t++) {
		for (size_t k = 1; k < len; k++)
			longer[k] = (uint8_t)(k * 31 + (size_t)t * 7);
		longer[0] = IST_CONS_SAFETY_VERSION;
		int r = ist_cons_safety_decode(longer, (size_t)(t % (int)len) + 1, d);
		ck_assert(r == -IST_EPARSE || r == 0);
	}
	free(longer);
	free(buf);
	free(d);
	free(q);
	free(s);
	fix_fini(&f);
}
END_TEST

/* ---- Quorums ---- */

START_TEST(test_quorum_is_stake_weighted)
{
	/* stakes 1, 1, 1, 10: the big one alone is not more than 2/3 (10/13
	 * would be; check the exact threshold), it plus one small is */
	const uint64_t stakes[4] = { 1, 1, 1, 10 };
	struct fix f;
	fix_init(&f, 4, stakes);
	ck_assert_uint_eq(f.e->total, 13);
	/* 3 * 10 = 30 > 26: the big validator alone IS above 2/3 of 13 */
	ck_assert(ist_cons_quorum_reached(f.e, 10));
	ck_assert(!ist_cons_quorum_reached(f.e, 3));
	ck_assert(!ist_cons_quorum_reached(f.e, 8));
	ck_assert(ist_cons_quorum_reached(f.e, 9));   /* 27 > 26 */
	fix_fini(&f);

	/* with 1, 1, 1, 4 the big one alone (4/7) is not above 2/3; with one
	 * small one (5/7) it is; all three small ones (3/7) are not */
	const uint64_t stakes2[4] = { 1, 1, 1, 4 };
	fix_init(&f, 4, stakes2);
	uint8_t id[32];
	memset(id, 7, 32);
	struct ist_qc *big = make_qc(&f, 5, id, 0x8);
	struct ist_qc *big1 = make_qc(&f, 5, id, 0x9);
	struct ist_qc *small = make_qc(&f, 5, id, 0x7);
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, big));
	ck_assert(ist_cons_qc_verify(&f.v, f.e, big1));
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, small));
	free(big);
	free(big1);
	free(small);
	fix_fini(&f);

	/* equal stakes, by count: 3 of 4, 5 of 7 (not 4 of 7) */
	fix_init(&f, 4, NULL);
	ck_assert(ist_cons_quorum_reached(f.e, 3));
	ck_assert(!ist_cons_quorum_reached(f.e, 2));
	ck_assert(ist_cons_quorum_weak(f.e, 2));
	ck_assert(!ist_cons_quorum_weak(f.e, 1));
	fix_fini(&f);
}
END_TEST

START_TEST(test_quorum_overflow_safe)
{
	struct ist_cons_epoch *e = calloc(1, sizeof(*e));
	e->n = 3;
	e->stakes[0] = UINT64_MAX / 2;
	e->stakes[1] = UINT64_MAX / 2;
	e->stakes[2] = 1;
	memset(e->pubkeys[1], 1, 32);
	memset(e->pubkeys[2], 2, 32);
	ck_assert_int_eq(ist_cons_epoch_check(e), 0);
	ck_assert(ist_cons_quorum_reached(e, UINT64_MAX / 2 + 1 + UINT64_MAX / 4));
	ck_assert(!ist_cons_quorum_reached(e, UINT64_MAX / 2));
	/* a total that does not fit is refused */
	e->stakes[2] = 2;
	ck_assert_int_eq(ist_cons_epoch_check(e), -IST_ERANGE);
	/* zero stake, a key twice, no validator */
	e->stakes[2] = 0;
	ck_assert_int_eq(ist_cons_epoch_check(e), -IST_EINVAL);
	e->stakes[2] = 1;
	memset(e->pubkeys[2], 1, 32);
	ck_assert_int_eq(ist_cons_epoch_check(e), -IST_EINVAL);
	e->n = 0;
	ck_assert_int_eq(ist_cons_epoch_check(e), -IST_EINVAL);
	free(e);
}
END_TEST

START_TEST(test_qc_verify_rejects)
{
	struct fix f;
	fix_init(&f, 4, NULL);
	uint8_t id[32];
	memset(id, 9, 32);
	struct ist_qc *q = make_qc(&f, 6, id, 0xb);
	ck_assert(ist_cons_qc_verify(&f.v, f.e, q));
	/* another epoch */
	q->epoch++;
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, q));
	q->epoch--;
	/* a bit for a validator that does not exist */
	ck_assert_int_eq(ist_wire_bitmap_set(q->signers, 9), 0);
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, q));
	q->signers[1] = 0;
	/* a count that does not match the bitmap */
	q->n_sigs = 2;
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, q));
	q->n_sigs = 3;
	/* one bad signature */
	q->sigs[1][5] ^= 1;
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, q));
	q->sigs[1][5] ^= 1;
	/* another block, another view */
	q->block_id[0] ^= 1;
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, q));
	q->block_id[0] ^= 1;
	q->view = 7;
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, q));
	q->view = 6;
	ck_assert(ist_cons_qc_verify(&f.v, f.e, q));
	/* the network id is bound in */
	f.v.network_id = NET + 1;
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, q));
	f.v.network_id = NET;
	/* the genesis QC: exactly the epoch's root, no signer */
	struct ist_qc *g = calloc(1, sizeof(*g));
	ist_cons_epoch_genesis_qc(f.e, g);
	ck_assert(ist_cons_qc_verify(&f.v, f.e, g));
	g->block_id[3] ^= 1;
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, g));
	g->block_id[3] ^= 1;
	ck_assert_int_eq(ist_wire_bitmap_set(g->signers, 0), 0);
	ck_assert(!ist_cons_qc_verify(&f.v, f.e, g));
	free(g);
	free(q);
	fix_fini(&f);
}
END_TEST

static void sign_timeout(const struct fix *f, uint32_t i, uint64_t view, uint64_t hqc_view, uint8_t sig[64])
{
	uint8_t msg[IST_WIRE_TIMEOUT_SIGNING_BYTES];
	ist_wire_timeout_signing_bytes(NET, f->e->number, view, hqc_view, msg);
	ck_assert_int_eq(ist_ed25519_sign(f->seeds[i], msg, sizeof(msg), sig), 0);
}

START_TEST(test_pools_form_certificates)
{
	struct fix f;
	fix_init(&f, 4, NULL);
	uint8_t a[32], b[32];
	memset(a, 1, 32);
	memset(b, 2, 32);

	struct ist_cons_vote_pool vp;
	ck_assert_int_eq(ist_cons_vote_pool_init(&vp, 4, 8), 0);
	struct ist_qc *qc = calloc(1, sizeof(*qc));
	struct ist_vote v = { .epoch = f.e->number, .view = 8 };
	/* two for a, one for b: no quorum for either */
	v.voter = 0;
	memcpy(v.block_id, a, 32);
	sign_vote(&f, 0, 8, a, v.signature);
	ck_assert_int_eq(ist_cons_vote_pool_add(&vp, f.e, &v, qc), IST_CONS_POOL_ADDED);
	ck_assert_int_eq(ist_cons_vote_pool_add(&vp, f.e, &v, qc), IST_CONS_POOL_DUPLICATE);
	v.voter = 1;
	sign_vote(&f, 1, 8, a, v.signature);
	ck_assert_int_eq(ist_cons_vote_pool_add(&vp, f.e, &v, qc), IST_CONS_POOL_ADDED);
	v.voter = 2;
	memcpy(v.block_id, b, 32);
	sign_vote(&f, 2, 8, b, v.signature);
	ck_assert_int_eq(ist_cons_vote_pool_add(&vp, f.e, &v, qc), IST_CONS_POOL_ADDED);
	/* validator 0 votes again, for b: equivocation, ignored */
	v.voter = 0;
	sign_vote(&f, 0, 8, b, v.signature);
	ck_assert_int_eq(ist_cons_vote_pool_add(&vp, f.e, &v, qc), IST_CONS_POOL_EQUIVOCATION);
	/* the third vote for a completes a QC of exactly the votes for a */
	v.voter = 3;
	memcpy(v.block_id, a, 32);
	sign_vote(&f, 3, 8, a, v.signature);
	ck_assert_int_eq(ist_cons_vote_pool_add(&vp, f.e, &v, qc), IST_CONS_POOL_CERT);
	ck_assert_uint_eq(qc->n_sigs, 3);
	ck_assert(ist_wire_bitmap_get(qc->signers, 0) && ist_wire_bitmap_get(qc->signers, 1) &&
		  !ist_wire_bitmap_get(qc->signers, 2) && ist_wire_bitmap_get(qc->signers, 3));
	ck_assert(ist_cons_qc_verify(&f.v, f.e, qc));
	ist_cons_vote_pool_fini(&vp);

	/* timeouts: the TC carries the highest reported QC */
	struct ist_cons_timeout_pool tp;
	ck_assert_int_eq(ist_cons_timeout_pool_init(&tp, 4, 9), 0);
	struct ist_tc *tc = calloc(1, sizeof(*tc));
	struct ist_timeout *t = calloc(1, sizeof(*t));
	t->epoch = f.e->number;
	t->view = 9;
	uint64_t hqv[3] = { 8, 5, 8 };
	struct ist_qc *q5 = make_qc(&f, 5, b, 0x7);
	for (uint32_t i = 0; i < 3; i++) {
		t->voter = i;
		t->high_qc = hqv[i] == 8 ? *qc : *q5;
		sign_timeout(&f, i, 9, hqv[i], t->signature);
		int r = ist_cons_timeout_pool_add(&tp, f.e, t, tc);
		ck_assert_int_eq(r, i == 2 ? IST_CONS_POOL_CERT : IST_CONS_POOL_ADDED);
		ck_assert(ist_cons_timeout_pool_weak(&tp, f.e) == (i >= 1));
	}
	ck_assert_uint_eq(tc->view, 9);
	ck_assert_uint_eq(tc->n_sigs, 3);
	ck_assert_uint_eq(tc->high_qc.view, 8);
	ck_assert(ist_cons_tc_verify(&f.v, f.e, tc));
	/* every timeout can be rebuilt for forwarding */
	struct ist_timeout *back = calloc(1, sizeof(*back));
	ck_assert(ist_cons_timeout_pool_get(&tp, f.e->number, 1, back));
	ck_assert_uint_eq(back->high_qc.view, 5);
	ck_assert(ist_wire_qc_equal(&back->high_qc, q5));
	ck_assert(!ist_cons_timeout_pool_get(&tp, f.e->number, 3, back));
	/* a TC that lies about its highest QC, or with a bad signature */
	tc->high_qc.view = 5;
	ck_assert(!ist_cons_tc_verify(&f.v, f.e, tc));
	tc->high_qc.view = 8;
	tc->sigs[2][0] ^= 1;
	ck_assert(!ist_cons_tc_verify(&f.v, f.e, tc));
	tc->sigs[2][0] ^= 1;
	tc->high_qc_views[0] = 9;   /* a QC view not below the TC's view */
	ck_assert(!ist_cons_tc_verify(&f.v, f.e, tc));
	ist_cons_timeout_pool_fini(&tp);
	free(back);
	free(q5);
	free(t);
	free(tc);
	free(qc);
	fix_fini(&f);
}
END_TEST

/* ---- Pacemaker ---- */

START_TEST(test_pacemaker_backoff)
{
	struct ist_cons_pacemaker pm;
	ist_cons_pacemaker_init(&pm, 100, 1000, 1);
	ck_assert_uint_eq(ist_cons_pacemaker_duration(&pm), 100);
	/* views ended by timeouts double the timer, up to the cap */
	ck_assert(ist_cons_pacemaker_enter(&pm, 2, false));
	ck_assert_uint_eq(ist_cons_pacemaker_duration(&pm), 200);
	ck_assert(ist_cons_pacemaker_enter(&pm, 3, false));
	ck_assert_uint_eq(ist_cons_pacemaker_duration(&pm), 400);
	ck_assert(ist_cons_pacemaker_enter(&pm, 4, false));
	ck_assert_uint_eq(ist_cons_pacemaker_duration(&pm), 800);
	ck_assert(ist_cons_pacemaker_enter(&pm, 5, false));
	ck_assert_uint_eq(ist_cons_pacemaker_duration(&pm), 1000);
	for (uint64_t v = 6; v < 200; v++)
		ck_assert(ist_cons_pacemaker_enter(&pm, v, false));
	ck_assert_uint_eq(ist_cons_pacemaker_duration(&pm), 1000);
	/* views never go back */
	ck_assert(!ist_cons_pacemaker_enter(&pm, 150, true));
	ck_assert_uint_eq(pm.view, 199);
	/* progress (a QC) resets it */
	ck_assert(ist_cons_pacemaker_enter(&pm, 200, true));
	ck_assert_uint_eq(ist_cons_pacemaker_duration(&pm), 100);
	/* a huge cap never overflows */
	ist_cons_pacemaker_init(&pm, UINT64_MAX / 3, UINT64_MAX, 1);
	for (uint64_t v = 2; v < 80; v++)
		ck_assert(ist_cons_pacemaker_enter(&pm, v, false));
	ck_assert_uint_eq(ist_cons_pacemaker_duration(&pm), UINT64_MAX);
}
END_TEST

/* ---- Tree ---- */

static struct ist_block *blk(uint64_t height, uint64_t view, const uint8_t parent[32], uint8_t tag)
{
	struct ist_block *b = calloc(1, sizeof(*b));
	b->height = height;
	b->view = view;
	b->timestamp_ms = tag;
	memcpy(b->parent_id, parent, 32);
	return b;
}

START_TEST(test_tree)
{
	struct ist_cons_tree t;
	uint8_t ids[8][32];
	uint8_t zero[32] = { 0 };
	for (int i = 0; i < 8; i++)
		memset(ids[i], i + 1, 32);
	ck_assert_int_eq(ist_cons_tree_init(&t, blk(10, 0, zero, 0), ids[0], 0, 6), 0);
	struct ist_cons_tnode *n;
	/* 0 <- 1 <- 2 <- 3, and a fork 1 <- 4 */
	ck_assert_int_eq(ist_cons_tree_insert(&t, blk(11, 1, ids[0], 1), ids[1], &n), 0);
	ck_assert_int_eq(ist_cons_tree_insert(&t, blk(12, 2, ids[1], 2), ids[2], &n), 0);
	ck_assert_int_eq(ist_cons_tree_insert(&t, blk(13, 3, ids[2], 3), ids[3], &n), 0);
	ck_assert_int_eq(ist_cons_tree_insert(&t, blk(12, 5, ids[1], 4), ids[4], &n), 0);
	struct ist_block *dup = blk(12, 5, ids[1], 4);
	ck_assert_int_eq(ist_cons_tree_insert(&t, dup, ids[4], &n), -IST_EEXISTS);
	ist_wire_block_free(dup);
	struct ist_block *orphan = blk(20, 9, ids[7], 5);
	ck_assert_int_eq(ist_cons_tree_insert(&t, orphan, ids[5], &n), -IST_ENOTFOUND);
	ist_wire_block_free(orphan);
	ck_assert_int_eq(ist_cons_tree_insert(&t, blk(14, 6, ids[3], 6), ids[6], &n), 0);
	/* the bound */
	struct ist_block *over = blk(15, 7, ids[6], 7);
	ck_assert_int_eq(ist_cons_tree_insert(&t, over, ids[7], &n), -IST_ETOOBIG);
	ist_wire_block_free(over);
	ck_assert(ist_cons_tree_extends(&t, ids[6], ids[1]));
	ck_assert(!ist_cons_tree_extends(&t, ids[4], ids[2]));
	/* commit 2: the fork at 4 goes, 3 and 6 stay */
	ist_cons_tree_prune(&t, ids[2]);
	ck_assert_uint_eq(t.len, 3);
	ck_assert(memcmp(ist_cons_tree_root(&t)->id, ids[2], 32) == 0);
	ck_assert_ptr_null(ist_cons_tree_find(&t, ids[4]));
	ck_assert_ptr_null(ist_cons_tree_find(&t, ids[1]));
	ck_assert_ptr_nonnull(ist_cons_tree_find(&t, ids[6]));
	ist_cons_tree_fini(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("consensus-rules");
	TCase *tc = tcase_create("safety");
	tcase_add_test(tc, test_vote_rule);
	tcase_add_test(tc, test_timeout_rule);
	tcase_add_test(tc, test_commit_rule);
	tcase_add_test(tc, test_high_qc_only_rises);
	tcase_add_test(tc, test_safety_encoding);
	suite_add_tcase(s, tc);
	tc = tcase_create("quorum");
	tcase_add_test(tc, test_quorum_is_stake_weighted);
	tcase_add_test(tc, test_quorum_overflow_safe);
	tcase_add_test(tc, test_qc_verify_rejects);
	tcase_add_test(tc, test_pools_form_certificates);
	suite_add_tcase(s, tc);
	tc = tcase_create("pacemaker");
	tcase_add_test(tc, test_pacemaker_backoff);
	suite_add_tcase(s, tc);
	tc = tcase_create("tree");
	tcase_add_test(tc, test_tree);
	suite_add_tcase(s, tc);
	return s;
}

/* Writes the seed corpus of the 'consensus-safety' fuzz target: valid
 * states (fresh, with a QC, after a timeout), a truncated one and one of an
 * unknown version. Deterministic. */
static int write_corpus(const char *dir)
{
	/* (no ck_assert here: this runs outside the test runner; the decoder
	 * does not check signatures, so placeholder bytes do) */
	struct ist_cons_safety *s = calloc(1, sizeof(*s));
	struct ist_qc *g = calloc(1, sizeof(*g));
	struct ist_qc *q = calloc(1, sizeof(*q));
	if (!s || !g || !q)
		return 1;
	q->view = 9;
	memset(q->block_id, 0x42, 32);
	for (unsigned i = 0; i < 3; i++) {
		if (ist_wire_bitmap_set(q->signers, i) < 0)
			return 1;
		memset(q->sigs[q->n_sigs++], (int)(0x30 + i), 64);
	}
	struct {
		const char *name;
		const struct ist_qc *qc;
		uint64_t voted, tview, thqc;
		size_t cut;
		uint8_t version;
	} seeds[] = {
		{ "fresh", g, 0, 0, 0, 0, 1 },
		{ "voted", q, 10, 0, 0, 0, 1 },
		{ "timed-out", q, 11, 11, 9, 0, 1 },
		{ "truncated", q, 10, 0, 0, 70, 1 },
		{ "version-2", q, 10, 0, 0, 0, 2 },
	};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		ist_cons_safety_init(s, 0, seeds[i].qc);
		s->last_voted_view = seeds[i].voted;
		s->last_timeout_view = seeds[i].tview;
		s->last_timeout_hqc_view = seeds[i].thqc;
		uint8_t *buf;
		size_t len;
		if (ist_cons_safety_encode(s, &buf, &len) < 0)
			return 1;
		buf[0] = seeds[i].version;
		if (seeds[i].cut)
			len = seeds[i].cut;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		FILE *out = fopen(path, "wb");
		if (!out || fwrite(buf, 1, len, out) != len || fclose(out) != 0) {
			fprintf(stderr, "cannot write %s\n", path);
			return 1;
		}
		free(buf);
	}
	free(q);
	free(g);
	free(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	return ist_test_run(suite());
}
