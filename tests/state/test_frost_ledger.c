/*
 * The ledger's FROST state (src/state/frost_ledger.h) with real keys, the
 * real DKG and real FROST signatures (participants: frost_fixture.h):
 * honest runs for n = 4, 7, 10 that finish before their deadlines and
 * whose key signs; a bad share caught by a complaint (its dealer out, the
 * key still forms) and a false complaint counted; an absent participant
 * and participants silent in later rounds (the rounds advance at their
 * deadlines); too few participants; invalid items ignored without a
 * trace; nonce batches, signer choice, determinism, time-outs,
 * certificates and dropped jobs; share reports (shares marked got, silent
 * signers absent after a time-out and chosen last, a signed bad share
 * marking its member bad for the epoch, forged or stale reports ignored);
 * the persistence record; and the ledger
 * (state/ledger.h): the in-epoch DKG, the epoch that waits for the next
 * set's DKG, a DKG that fails, FROST off, and a flush/load mid-DKG.
 */
#include <check.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/secp256k1.h"
#include "frost_fixture.h"
#include "lib/ist_test.h"
#include "state/frost_ledger.h"
#include "state/ledger.h"
#include "state/verify.h"
#include "wire/canonical.h"

#define NET 0x1571
#define W 2     /* round blocks */
#define R 3     /* sign timeout blocks */

static struct ist_fl *new_fl(void)
{
	struct ist_fl *f = ist_fl_new(NET, W, R);
	ck_assert_ptr_nonnull(f);
	return f;
}

static void start(struct ist_fl *f, const struct fx *x, uint64_t h)
{
	ck_assert_int_eq(ist_fl_dkg_start(f, x->epoch, false, h, x->n, (const uint8_t (*)[32])x->node,
					  (const uint8_t (*)[32])x->epub), 0);
}

/* Applies the item in b at height h (then empties b); returns the reason
 * it was ignored, NULL when it counted. */
static const char *put(struct ist_fl *f, bool nonce, struct ist_buf *b, uint64_t h)
{
	ck_assert_int_eq(ist_buf_err(b), 0);
	const char *why = "(unset)";
	ck_assert_int_eq(ist_fl_apply_item(f, nonce, b->data, b->len, h, &why), 0);
	ist_buf_reset(b);
	return why;
}

static void encode(const struct ist_fl *f, struct ist_buf *out)
{
	ist_buf_reset(out);
	ist_fl_encode(f, out);
	ck_assert_int_eq(ist_buf_err(out), 0);
}

static void assert_unchanged(const struct ist_fl *f, const struct ist_buf *before)
{
	struct ist_buf now;
	ist_buf_init(&now, 0);
	encode(f, &now);
	ck_assert_uint_eq(now.len, before->len);
	ck_assert_mem_eq(now.data, before->data, now.len);
	ist_buf_fini(&now);
}

/* What a run does: who stays silent in which round, a bad share. */
struct plan {
	bool no_r1[FX_MAX], no_r2[FX_MAX], no_r3[FX_MAX];
	uint16_t bad_dealer, bad_recipient;   /* 0: none */
	uint16_t false_complainer, false_against;
};

/* The heights at which the run went to round 2, round 3, and ended. */
struct trace {
	uint64_t start, r2_at, r3_at, end_at;
	size_t complaints;
	uint32_t false_complaints;
	enum ist_fl_step result;
	bool disq_before_end[FX_MAX];
};

static void run(struct ist_fl *f, struct fx *x, uint64_t h, const struct plan *pl, struct ist_fl_group *g,
		struct trace *tr)
{
	memset(tr, 0, sizeof(*tr));
	tr->start = h;
	start(f, x, h);
	struct ist_buf b;
	ist_buf_init(&b, 0);
	/* round 1 */
	for (uint16_t i = 1; i <= x->n; i++)
		if (!pl->no_r1[i - 1]) {
			fx_round1(x, i, &b);
			ck_assert_ptr_null(put(f, false, &b, h));
		}
	enum ist_fl_step st;
	for (;;) {
		st = ist_fl_dkg_step(f, h, g);
		if (st != IST_FL_RUNNING || ist_fl_dkg_get(f)->round == 2)
			break;
		h++;
		ck_assert_uint_lt(h, tr->start + 100);
	}
	if (st != IST_FL_RUNNING) {
		tr->result = st;
		tr->end_at = h;
		ist_buf_fini(&b);
		return;
	}
	tr->r2_at = h;
	bool accepted[FX_MAX] = { 0 };
	memcpy(accepted, ist_fl_dkg_get(f)->accepted, x->n * sizeof(bool));
	/* round 2 */
	h++;
	for (uint16_t i = 1; i <= x->n; i++)
		if (accepted[i - 1] && !pl->no_r2[i - 1]) {
			fx_round2_pkg(x, i, accepted);
			if (pl->bad_dealer == i)
				fx_bad_share(x, i, pl->bad_recipient);
			fx_round2_item(x, i, &b);
			ck_assert_ptr_null(put(f, false, &b, h));
		}
	for (;;) {
		st = ist_fl_dkg_step(f, h, g);
		ck_assert_int_eq(st, IST_FL_RUNNING);
		if (ist_fl_dkg_get(f)->round == 3)
			break;
		h++;
		ck_assert_uint_lt(h, tr->start + 100);
	}
	tr->r3_at = h;
	/* round 3 */
	h++;
	for (uint16_t i = 1; i <= x->n; i++) {
		const struct ist_fl_dkg *d = ist_fl_dkg_get(f);
		if (!accepted[i - 1] || d->disq[i - 1])
			continue;
		size_t nc;
		if (pl->no_r3[i - 1]) {
			/* opens its boxes, posts nothing */
			struct ist_buf dummy;
			ist_buf_init(&dummy, 0);
			fx_round3(x, i, accepted, &dummy, NULL);
			ist_buf_fini(&dummy);
			continue;
		}
		if (pl->false_complainer == i) {
			/* a complaint with a valid proof about a good share */
			struct ist_dkg_complaint c;
			ck_assert_int_eq(ist_dkg_complain(&x->p, i, x->esec[i - 1], &x->r2[pl->false_against - 1],
							  &x->rng.rng, &c), 0);
			fx_round3_item(x, i, &c, 1, &b);
			/* still opens the boxes for its shares */
			struct ist_buf dummy;
			ist_buf_init(&dummy, 0);
			fx_round3(x, i, accepted, &dummy, NULL);
			ist_buf_fini(&dummy);
			nc = 1;
		} else {
			fx_round3(x, i, accepted, &b, &nc);
		}
		tr->complaints += nc;
		ck_assert_ptr_null(put(f, false, &b, h));
	}
	for (;;) {
		const struct ist_fl_dkg *d = ist_fl_dkg_get(f);
		memcpy(tr->disq_before_end, d->disq, x->n * sizeof(bool));
		tr->false_complaints = d->false_complaints;
		st = ist_fl_dkg_step(f, h, g);
		if (st != IST_FL_RUNNING)
			break;
		ck_assert_uint_eq(ist_fl_dkg_get(f)->round, 3);
		h++;
		ck_assert_uint_lt(h, tr->start + 100);
	}
	tr->result = st;
	tr->end_at = h;
	ck_assert_ptr_null(ist_fl_dkg_get(f));
	ist_buf_fini(&b);
}

/* t qualified members sign a message with FROST; it verifies under the
 * group key as a plain Ed25519 signature. */
static void sign_check(struct fx *x, const struct ist_fl_group *g, uint16_t skip)
{
	ck_assert_int_eq(fx_signing_shares(x, g), 0);
	struct ist_frost_commitment list[FX_MAX];
	struct ist_frost_nonce nonces[FX_MAX];
	uint8_t pubs[FX_MAX][32], z[FX_MAX][32];
	size_t c = 0;
	for (uint16_t j = 1; j <= g->n && c < g->t; j++) {
		if (!g->qualified[j - 1] || j == skip)
			continue;
		uint8_t pub[32];
		ck_assert_int_eq(ist_frost_pubkey(x->signing[j - 1], pub), 0);
		ck_assert_mem_eq(pub, g->pubshares[j - 1], 32);
		ck_assert_int_eq(ist_frost_commit_random(&x->rng.rng, x->signing[j - 1], &nonces[c]), 0);
		list[c].id = j;
		memcpy(list[c].hiding, nonces[c].hiding_commit, 32);
		memcpy(list[c].binding, nonces[c].binding_commit, 32);
		memcpy(pubs[c], g->pubshares[j - 1], 32);
		c++;
	}
	ck_assert_uint_eq(c, g->t);
	static const uint8_t msg[] = "frost ledger test";
	struct ist_frost_session *s;
	ck_assert_int_eq(ist_frost_session_new(g->group_key, list, c, &s), 0);
	ck_assert_int_eq(ist_frost_session_bind(s, msg, sizeof(msg)), 0);
	for (size_t k = 0; k < c; k++)
		ck_assert_int_eq(ist_frost_session_sign(s, list[k].id, x->signing[list[k].id - 1], &nonces[k], z[k]), 0);
	uint8_t sig[64];
	ck_assert_int_eq(ist_frost_session_aggregate(s, (const uint8_t (*)[32])pubs, (const uint8_t (*)[32])z, sig, NULL), 0);
	ist_frost_session_free(s);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, sizeof(msg), g->group_key), 0);
}

static void check_key(const struct fx *x, const struct ist_fl_group *g)
{
	uint8_t want[32];
	fx_expected_key(x, g->qualified, want);
	ck_assert_mem_eq(g->group_key, want, 32);
	ck_assert_uint_eq(g->epoch, x->epoch);
	ck_assert_uint_eq(g->n, x->n);
	ck_assert_uint_eq(g->t, x->t);
	ck_assert_mem_eq(g->node_keys, x->node, (size_t)x->n * 32);
}

START_TEST(dkg_honest)
{
	static const uint16_t ns[] = { 4, 7, 10 };
	for (size_t q = 0; q < 3; q++) {
		struct fx *x = fx_new(ns[q], 100 + q, NET, 5);
		struct ist_fl *f = new_fl();
		struct ist_fl_group g;
		struct trace tr;
		struct plan pl = { 0 };
		run(f, x, 20, &pl, &g, &tr);
		ck_assert_int_eq(tr.result, IST_FL_DONE);
		/* every round ended at once: no deadline reached */
		ck_assert_uint_eq(tr.r2_at, 20);
		ck_assert_uint_eq(tr.r3_at, 21);
		ck_assert_uint_eq(tr.end_at, 22);
		ck_assert_uint_eq(tr.complaints, 0);
		for (uint16_t i = 0; i < ns[q]; i++)
			ck_assert(g.qualified[i]);
		check_key(x, &g);
		sign_check(x, &g, 0);
		sign_check(x, &g, 1);   /* another t-subset */
		ist_fl_free(f);
		fx_free(x);
	}
}
END_TEST

START_TEST(dkg_bad_share_complaint)
{
	struct fx *x = fx_new(7, 200, NET, 1);
	struct ist_fl *f = new_fl();
	struct ist_fl_group g;
	struct trace tr;
	struct plan pl = { .bad_dealer = 2, .bad_recipient = 3, .false_complainer = 4, .false_against = 1 };
	run(f, x, 10, &pl, &g, &tr);
	ck_assert_int_eq(tr.result, IST_FL_DONE);
	ck_assert_uint_eq(tr.complaints, 2);            /* 3 against 2 (upheld), 4 against 1 (false) */
	ck_assert(tr.disq_before_end[1]);
	ck_assert(!tr.disq_before_end[0]);
	ck_assert_uint_eq(tr.false_complaints, 1);
	ck_assert_uint_eq(tr.end_at, 12);               /* everyone still in posted round 3 */
	for (uint16_t i = 0; i < 7; i++)
		ck_assert(g.qualified[i] == (i != 1));
	check_key(x, &g);
	sign_check(x, &g, 0);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

START_TEST(dkg_absent_participant)
{
	struct fx *x = fx_new(7, 300, NET, 2);
	struct ist_fl *f = new_fl();
	struct ist_fl_group g;
	struct trace tr;
	struct plan pl = { 0 };
	pl.no_r1[4] = true;
	run(f, x, 30, &pl, &g, &tr);
	ck_assert_int_eq(tr.result, IST_FL_DONE);
	ck_assert_uint_eq(tr.r2_at, 30 + W - 1);     /* round 1 waited for its deadline */
	ck_assert_uint_eq(tr.r3_at, tr.r2_at + 1);   /* the others did not wait */
	ck_assert_uint_eq(tr.end_at, tr.r3_at + 1);
	for (uint16_t i = 0; i < 7; i++)
		ck_assert(g.qualified[i] == (i != 4));
	check_key(x, &g);
	sign_check(x, &g, 0);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

START_TEST(dkg_silent_later_rounds)
{
	struct fx *x = fx_new(7, 400, NET, 2);
	struct ist_fl *f = new_fl();
	struct ist_fl_group g;
	struct trace tr;
	struct plan pl = { 0 };
	pl.no_r2[2] = true;   /* 3: no round 2, disqualified at the deadline */
	pl.no_r3[5] = true;   /* 6: no round 3, the run waits for its deadline */
	run(f, x, 30, &pl, &g, &tr);
	ck_assert_int_eq(tr.result, IST_FL_DONE);
	ck_assert_uint_eq(tr.r2_at, 30);
	ck_assert_uint_eq(tr.r3_at, tr.r2_at + W);
	ck_assert_uint_eq(tr.end_at, tr.r3_at + W);
	for (uint16_t i = 0; i < 7; i++)
		ck_assert(g.qualified[i] == (i != 2));   /* no round 3 is no fault */
	check_key(x, &g);
	sign_check(x, &g, 0);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

START_TEST(dkg_too_few)
{
	/* fewer than t round-1 packages: failed at the round-1 deadline */
	struct fx *x = fx_new(4, 500, NET, 3);
	struct ist_fl *f = new_fl();
	struct ist_fl_group g;
	struct trace tr;
	struct plan pl = { 0 };
	pl.no_r1[1] = pl.no_r1[3] = true;   /* 2 of 4, t = 3 */
	run(f, x, 7, &pl, &g, &tr);
	ck_assert_int_eq(tr.result, IST_FL_FAILED);
	ck_assert_uint_eq(tr.end_at, 7 + W - 1);
	ck_assert_ptr_null(ist_fl_dkg_get(f));
	ck_assert_int_eq(ist_fl_dkg_step(f, tr.end_at + 1, &g), IST_FL_IDLE);
	ck_assert_ptr_null(ist_fl_group_get(f, 3));
	ist_fl_free(f);
	/* enough in round 1, too few round-2 packages: failed at the end */
	f = new_fl();
	fx_set_epoch(x, 4);
	struct plan p2 = { 0 };
	p2.no_r2[0] = p2.no_r2[1] = true;
	run(f, x, 7, &p2, &g, &tr);
	ck_assert_int_eq(tr.result, IST_FL_FAILED);
	ck_assert_uint_eq(tr.r3_at, 7 + W);
	ck_assert_uint_eq(tr.end_at, tr.r3_at + 1);   /* the two left posted round 3 */
	ist_fl_free(f);
	/* a participant without a valid DKG key: no run */
	f = new_fl();
	uint8_t bad[4][32];
	memcpy(bad, x->epub, sizeof(bad));
	memset(bad[2], 0, 32);
	ck_assert_int_eq(ist_fl_dkg_start(f, 1, false, 2, 4, (const uint8_t (*)[32])x->node, (const uint8_t (*)[32])bad),
			 -IST_ERANGE);
	ck_assert_ptr_null(ist_fl_dkg_get(f));
	ck_assert_int_eq(ist_fl_dkg_start(f, 1, false, 2, 0, (const uint8_t (*)[32])x->node,
					  (const uint8_t (*)[32])x->epub), -IST_ERANGE);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

/* Rewrites the signature of an item (of len bytes, signature included) by
 * participant id. */
static void resign(const struct fx *x, uint16_t id, struct ist_buf *b)
{
	b->len -= 64;
	fx_sign(x, id, b);
}

START_TEST(dkg_invalid_items_ignored)
{
	struct fx *x = fx_new(4, 600, NET, 9);
	struct ist_fl *f = new_fl();
	start(f, x, 50);
	struct ist_buf b, snap, item;
	ist_buf_init(&b, 0);
	ist_buf_init(&snap, 0);
	ist_buf_init(&item, 0);
	fx_round1(x, 1, &item);
	encode(f, &snap);
	const char *why;

	/* before the run's first height */
	ist_buf_put(&b, item.data, item.len);
	ck_assert_ptr_nonnull(put(f, false, &b, 49));
	assert_unchanged(f, &snap);
	/* a bad signature */
	ist_buf_put(&b, item.data, item.len);
	b.data[b.len - 1] ^= 1;
	ck_assert_str_eq(put(f, false, &b, 50), "DKG item with a bad signature");
	assert_unchanged(f, &snap);
	/* signed by another participant */
	ist_buf_put(&b, item.data, item.len);
	resign(x, 2, &b);
	ck_assert_str_eq(put(f, false, &b, 50), "DKG item with a bad signature");
	assert_unchanged(f, &snap);
	/* another network */
	{
		struct ist_buf m;
		ist_buf_init(&m, 0);
		ist_fl_item_signed_bytes(NET + 1, item.data, item.len - 64, &m);
		ist_buf_put(&b, item.data, item.len - 64);
		uint8_t sig[64];
		ck_assert_int_eq(ist_ed25519_sign(x->seed[0], m.data, m.len, sig), 0);
		ist_buf_put(&b, sig, 64);
		ist_buf_fini(&m);
		ck_assert_str_eq(put(f, false, &b, 50), "DKG item with a bad signature");
		assert_unchanged(f, &snap);
	}
	/* wrong round: the same package as a round-2 item, signed */
	ist_buf_put(&b, item.data, item.len);
	b.data[0] = IST_FL_ROUND2;
	resign(x, 1, &b);
	ck_assert_str_eq(put(f, false, &b, 50), "DKG item of another round than the current one");
	assert_unchanged(f, &snap);
	/* wrong epoch */
	ist_buf_put(&b, item.data, item.len);
	ist_put_be64(b.data + 1, 10);
	resign(x, 1, &b);
	ck_assert_str_eq(put(f, false, &b, 50), "DKG item for no running DKG");
	assert_unchanged(f, &snap);
	/* a sender out of range */
	ist_buf_put(&b, item.data, item.len);
	ist_put_be16(b.data + 9, 5);
	ck_assert_str_eq(put(f, false, &b, 50), "DKG item from no participant");
	ist_buf_put(&b, item.data, item.len);
	ist_put_be16(b.data + 9, 0);
	ck_assert_str_eq(put(f, false, &b, 50), "DKG item from no participant");
	assert_unchanged(f, &snap);
	/* 1's package posted (signed) by 2: the dealer is not the sender */
	ist_buf_put(&b, item.data, item.len);
	ist_put_be16(b.data + 9, 2);
	resign(x, 2, &b);
	ck_assert_str_eq(put(f, false, &b, 50), "round-1 package does not verify");
	assert_unchanged(f, &snap);
	/* a package whose proof is for another epoch */
	{
		struct fx *y = fx_new(4, 600, NET, 10);   /* same keys */
		struct ist_buf o;
		ist_buf_init(&o, 0);
		fx_round1(y, 1, &o);
		ist_put_be64(o.data + 1, 9);
		resign(x, 1, &o);
		ck_assert_str_eq(put(f, false, &o, 50), "round-1 package does not verify");
		assert_unchanged(f, &snap);
		ist_buf_fini(&o);
		fx_free(y);
	}
	/* truncated, and empty */
	ist_buf_put(&b, item.data, 70);
	ck_assert_str_eq(put(f, false, &b, 50), "malformed DKG item");
	ck_assert_int_eq(ist_fl_apply_item(f, false, item.data, 0, 50, &why), 0);
	ck_assert_ptr_nonnull(why);
	ist_buf_put(&b, item.data, item.len - 1);
	ck_assert_ptr_nonnull(put(f, false, &b, 50));
	assert_unchanged(f, &snap);

	/* the real one counts */
	ist_buf_put(&b, item.data, item.len);
	ck_assert_ptr_null(put(f, false, &b, 50));
	ck_assert_ptr_nonnull(ist_fl_dkg_get(f)->r1[0]);
	struct ist_dkg_round1 first = *ist_fl_dkg_get(f)->r1[0];
	encode(f, &snap);
	/* a duplicate sender: a second, valid package of 1 is ignored */
	fx_round1(x, 1, &b);
	ck_assert_ptr_null(put(f, false, &b, 50));
	assert_unchanged(f, &snap);
	ck_assert_mem_eq(ist_fl_dkg_get(f)->r1[0], &first, sizeof(first));
	/* the same item again */
	ist_buf_put(&b, item.data, item.len);
	ck_assert_ptr_null(put(f, false, &b, 51));
	assert_unchanged(f, &snap);
	/* nonce items and certificates without a group: ignored */
	uint8_t junk[16 + 64 + 64] = { 0 };
	ist_put_be16(junk + 14, 1);
	ck_assert_int_eq(ist_fl_apply_item(f, true, junk, sizeof(junk), 50, &why), 0);
	ck_assert_str_eq(why, "nonce commitments from no qualified member of an epoch with a group key");
	uint8_t sig[64] = { 0 };
	ist_fl_cert_item(&b, 9, 50, sig);
	ck_assert_str_eq(put(f, false, &b, 50), "certificate item for no pending job");
	assert_unchanged(f, &snap);
	ist_buf_fini(&b);
	ist_buf_fini(&snap);
	ist_buf_fini(&item);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

/* A finished honest run of n = 4 for `epoch`, installed in f (t = 3). */
static void setup_group(struct ist_fl *f, struct fx *x, struct ist_fl_group *g)
{
	struct trace tr;
	struct plan pl = { 0 };
	run(f, x, 10, &pl, g, &tr);
	ck_assert_int_eq(tr.result, IST_FL_DONE);
	ck_assert_int_eq(ist_fl_group_set(f, g), 0);
	ck_assert_ptr_nonnull(ist_fl_group_get(f, x->epoch));
	ck_assert_int_eq(fx_signing_shares(x, g), 0);
}

static void post_nonces(struct ist_fl *f, struct fx *x, uint16_t id, uint32_t first, uint16_t count, uint64_t h)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	fx_nonces(x, x->epoch, id, first, count, &b);
	ck_assert_ptr_null(put(f, true, &b, h));
	ist_buf_fini(&b);
}

static size_t unused(const struct ist_fl *f, uint64_t epoch, uint16_t id, uint32_t *next)
{
	size_t n;
	uint32_t nx;
	ist_fl_nonces(f, epoch, id, &n, &nx);
	if (next)
		*next = nx;
	return n;
}

/* The t identifiers with the lowest SHA-256(digest || attempt || id) among
 * those with commitments, as a bitmap. */
static uint32_t expected_signers(const uint8_t *digest, uint32_t attempt, const bool *has, uint16_t n, uint16_t t)
{
	uint8_t h[FX_MAX][32];
	uint32_t chosen = 0;
	for (uint16_t id = 1; id <= n; id++) {
		uint8_t in[32 + 4 + 2];
		memcpy(in, digest, 32);
		ist_put_be32(in + 32, attempt);
		ist_put_be16(in + 36, id);
		ist_sha256(in, sizeof(in), h[id - 1]);
	}
	for (uint16_t k = 0; k < t; k++) {
		int best = -1;
		for (uint16_t id = 1; id <= n; id++)
			if (has[id - 1] && !(chosen & (1u << id)) && (best < 0 || memcmp(h[id - 1], h[best - 1], 32) < 0))
				best = id;
		ck_assert_int_gt(best, 0);
		chosen |= 1u << best;
	}
	return chosen;
}

static uint32_t signer_bits(const struct ist_fl_job *j)
{
	uint32_t bits = 0;
	for (uint16_t k = 0; k < j->n_signers; k++) {
		if (k)
			ck_assert_uint_lt(j->signers[k - 1].c.id, j->signers[k].c.id);
		bits |= 1u << j->signers[k].c.id;
	}
	return bits;
}

START_TEST(nonces_and_jobs)
{
	struct fx *x = fx_new(4, 700, NET, 7);
	struct ist_fl *f = new_fl(), *f2 = new_fl();
	struct ist_fl_group g;
	setup_group(f, x, &g);
	ck_assert_int_eq(ist_fl_group_set(f2, &g), 0);
	const uint64_t H = 100;
	struct ist_buf b, snap;
	ist_buf_init(&b, 0);
	ist_buf_init(&snap, 0);
	/* a first batch must start at 0: a valid, signed batch starting at 1
	 * is ignored and leaves no trace */
	encode(f, &snap);
	ist_fl_clean(f);
	fx_nonces(x, x->epoch, 1, 1, 2, &b);
	ck_assert_str_eq(put(f, true, &b, H), "nonce commitments out of sequence");
	assert_unchanged(f, &snap);
	ck_assert(!ist_fl_dirty(f));
	ist_buf_fini(&snap);
	/* each member posts 4 commitments; f2 sees the same items */
	for (uint16_t id = 1; id <= 4; id++) {
		fx_nonces(x, x->epoch, id, 0, 4, &b);
		ck_assert_int_eq(ist_fl_apply_item(f2, true, b.data, b.len, H, NULL), 0);
		ck_assert_ptr_null(put(f, true, &b, H));
		uint32_t next;
		ck_assert_uint_eq(unused(f, x->epoch, id, &next), 4);
		ck_assert_uint_eq(next, 4);
	}
	/* invalid batches (made by the fixture, which overwrites its secret
	 * nonces of those sequence numbers: keep the real ones) */
	struct ist_frost_nonce (*keep)[FX_MAX_NONCES] = malloc(sizeof(x->nonces));
	memcpy(keep, x->nonces, sizeof(x->nonces));
	/* a batch that does not start at the next sequence number */
	fx_nonces(x, x->epoch, 1, 5, 2, &b);
	ck_assert_str_eq(put(f, true, &b, H), "nonce commitments out of sequence");
	fx_nonces(x, x->epoch, 1, 0, 2, &b);
	ck_assert_str_eq(put(f, true, &b, H), "nonce commitments out of sequence");
	ck_assert_uint_eq(unused(f, x->epoch, 1, NULL), 4);
	/* a bad signature, another member's signature, another epoch */
	fx_nonces(x, x->epoch, 2, 4, 1, &b);
	b.data[b.len - 3] ^= 4;
	ck_assert_str_eq(put(f, true, &b, H), "nonce commitments with a bad signature");
	fx_nonces(x, x->epoch, 2, 4, 1, &b);
	resign(x, 3, &b);
	ck_assert_str_eq(put(f, true, &b, H), "nonce commitments with a bad signature");
	fx_nonces(x, x->epoch + 1, 2, 0, 1, &b);
	ck_assert_str_eq(put(f, true, &b, H), "nonce commitments from no qualified member of an epoch with a group key");
	/* a count that does not match the length */
	fx_nonces(x, x->epoch, 2, 4, 1, &b);
	ist_put_be16(b.data + 14, 2);
	ck_assert_str_eq(put(f, true, &b, H), "malformed nonce commitments");
	/* an element that is not valid (the identity), signed */
	fx_nonces(x, x->epoch, 2, 4, 1, &b);
	memset(b.data + 16, 0, 32);
	b.data[16] = 1;
	resign(x, 2, &b);
	ck_assert_str_eq(put(f, true, &b, H), "a nonce commitment is not a valid element");
	ck_assert_uint_eq(unused(f, x->epoch, 2, NULL), 4);
	memcpy(x->nonces, keep, sizeof(x->nonces));
	free(keep);

	/* a job; the signers are chosen after the block */
	uint8_t digest[32];
	memset(digest, 0xd1, 32);
	ck_assert_int_eq(ist_fl_job_add(f, x->epoch, H, digest), 0);
	ck_assert_int_eq(ist_fl_job_add(f2, x->epoch, H, digest), 0);
	ist_fl_jobs_step(f, H);
	ist_fl_jobs_step(f2, H);
	ck_assert_uint_eq(ist_fl_n_jobs(f), 1);
	const struct ist_fl_job *j = ist_fl_job_at(f, 0);
	ck_assert_uint_eq(j->attempt, 0);
	ck_assert_uint_eq(j->assigned, H);
	ck_assert_uint_eq(j->n_signers, g.t);
	bool has[4] = { true, true, true, true };
	uint32_t bits = expected_signers(digest, 0, has, 4, g.t);
	ck_assert_uint_eq(signer_bits(j), bits);
	for (uint16_t k = 0; k < j->n_signers; k++) {
		uint16_t id = j->signers[k].c.id;
		ck_assert_uint_eq(j->signers[k].seq, 0);   /* its oldest */
		ck_assert_mem_eq(j->signers[k].c.hiding, x->nonces[id - 1][0].hiding_commit, 32);
		ck_assert_mem_eq(j->signers[k].c.binding, x->nonces[id - 1][0].binding_commit, 32);
	}
	for (uint16_t id = 1; id <= 4; id++)
		ck_assert_uint_eq(unused(f, x->epoch, id, NULL), (bits & (1u << id)) ? 3 : 4);
	/* determinism: the other instance chose the same, byte for byte */
	{
		struct ist_buf e1, e2;
		ist_buf_init(&e1, 0);
		ist_buf_init(&e2, 0);
		encode(f, &e1);
		encode(f2, &e2);
		ck_assert_uint_eq(e1.len, e2.len);
		ck_assert_mem_eq(e1.data, e2.data, e1.len);
		ist_buf_fini(&e1);
		ist_buf_fini(&e2);
	}

	/* a wrong signature does not complete it */
	uint8_t sig[64];
	struct ist_fl_job saved = *j;
	ck_assert_int_eq(fx_sign_job(x, &g, &saved, sig), 0);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, digest, 32, g.group_key), 0);
	uint8_t badsig[64];
	memcpy(badsig, sig, 64);
	badsig[40] ^= 1;
	ist_fl_cert_item(&b, x->epoch, H, badsig);
	ck_assert_str_eq(put(f, false, &b, H + 1), "certificate item with a bad signature");
	ck_assert_uint_eq(ist_fl_n_jobs(f), 1);
	/* nor one for another height or epoch */
	ist_fl_cert_item(&b, x->epoch, H + 1, sig);
	ck_assert_str_eq(put(f, false, &b, H + 1), "certificate item for no pending job");
	ist_fl_cert_item(&b, x->epoch + 1, H, sig);
	ck_assert_str_eq(put(f, false, &b, H + 1), "certificate item for no pending job");
	ist_fl_cert_item(&b, x->epoch, H, sig);
	b.len--;
	ck_assert_str_eq(put(f, false, &b, H + 1), "malformed certificate item");
	ck_assert_uint_eq(ist_fl_n_jobs(f), 1);

	/* no certificate within R blocks: attempt 1, new signers and nonces */
	ist_fl_jobs_step(f, H + R - 1);
	ck_assert_uint_eq(j->attempt, 0);
	ck_assert_uint_eq(j->assigned, H);
	ist_fl_jobs_step(f, H + R);
	j = ist_fl_job_at(f, 0);
	ck_assert_uint_eq(j->attempt, 1);
	ck_assert_uint_eq(j->assigned, H + R);
	ck_assert_uint_eq(j->n_signers, g.t);
	uint32_t bits1 = expected_signers(digest, 1, has, 4, g.t);
	ck_assert_uint_eq(signer_bits(j), bits1);
	for (uint16_t k = 0; k < j->n_signers; k++) {
		uint16_t id = j->signers[k].c.id;
		uint32_t want = (bits & (1u << id)) ? 1 : 0;   /* the oldest unused */
		ck_assert_uint_eq(j->signers[k].seq, want);
		ck_assert_mem_eq(j->signers[k].c.hiding, x->nonces[id - 1][want].hiding_commit, 32);
	}
	/* the certificate of attempt 1 completes the job */
	saved = *j;
	ck_assert_int_eq(fx_sign_job(x, &g, &saved, sig), 0);
	ist_fl_cert_item(&b, x->epoch, H, sig);
	ck_assert_ptr_null(put(f, false, &b, H + R + 1));
	ck_assert_uint_eq(ist_fl_n_jobs(f), 0);
	/* again: no job any more */
	ist_fl_cert_item(&b, x->epoch, H, sig);
	ck_assert_str_eq(put(f, false, &b, H + R + 2), "certificate item for no pending job");

	/* a job with too few members holding commitments waits unassigned */
	ck_assert_int_eq(ist_fl_job_add(f2, x->epoch + 1, H + 1, digest), 0);
	ist_fl_jobs_step(f2, H + 1);
	ck_assert_uint_eq(ist_fl_n_jobs(f2), 2);
	ck_assert_uint_eq(ist_fl_job_at(f2, 1)->assigned, 0);
	ist_fl_jobs_step(f2, H + 50);
	ck_assert_uint_eq(ist_fl_job_at(f2, 1)->attempt, 0);
	ist_buf_fini(&b);
	ist_fl_free(f);
	ist_fl_free(f2);
	fx_free(x);
}
END_TEST

START_TEST(jobs_dropped_after_max_attempts)
{
	struct fx *x = fx_new(4, 800, NET, 7);
	struct ist_fl *f = new_fl();
	struct ist_fl_group g;
	setup_group(f, x, &g);
	for (uint16_t id = 1; id <= 4; id++)
		post_nonces(f, x, id, 0, 8, 100);   /* 32 >= 8 attempts x 3 */
	uint8_t digest[32];
	memset(digest, 0x5a, 32);
	ck_assert_int_eq(ist_fl_job_add(f, x->epoch, 100, digest), 0);
	uint64_t h = 100;
	ist_fl_jobs_step(f, h);
	for (uint32_t a = 0; a < IST_FL_MAX_ATTEMPTS; a++) {
		ck_assert_uint_eq(ist_fl_n_jobs(f), 1);
		ck_assert_uint_eq(ist_fl_job_at(f, 0)->attempt, a);
		ck_assert_uint_eq(ist_fl_job_at(f, 0)->assigned, h);
		for (uint64_t k = 1; k < R; k++)
			ist_fl_jobs_step(f, h + k);
		ck_assert_uint_eq(ist_fl_job_at(f, 0)->attempt, a);
		h += R;
		ist_fl_jobs_step(f, h);
	}
	ck_assert_uint_eq(ist_fl_n_jobs(f), 0);
	size_t left = 0;
	for (uint16_t id = 1; id <= 4; id++)
		left += unused(f, x->epoch, id, NULL);
	ck_assert_uint_eq(left, 32 - IST_FL_MAX_ATTEMPTS * g.t);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

static void round_trip(const struct ist_fl *f)
{
	struct ist_buf a, c;
	ist_buf_init(&a, 0);
	ist_buf_init(&c, 0);
	encode(f, &a);
	struct ist_fl *k = new_fl();
	ck_assert_int_eq(ist_fl_decode(k, a.data, a.len), 0);
	ck_assert(!ist_fl_dirty(k));
	encode(k, &c);
	ck_assert_uint_eq(a.len, c.len);
	ck_assert_mem_eq(a.data, c.data, a.len);
	/* truncated, or with a byte too many: refused, k unchanged */
	for (size_t len = 0; len < a.len; len += (len < 64 ? 1 : 997))
		ck_assert_int_eq(ist_fl_decode(k, a.data, len), -IST_EDB_CORRUPT);
	ck_assert_int_eq(ist_fl_decode(k, a.data, a.len - 1), -IST_EDB_CORRUPT);
	uint8_t *longer = malloc(a.len + 1);
	memcpy(longer, a.data, a.len);
	longer[a.len] = 0;
	ck_assert_int_eq(ist_fl_decode(k, longer, a.len + 1), -IST_EDB_CORRUPT);
	longer[0] ^= 0x80;   /* another version */
	ck_assert_int_eq(ist_fl_decode(k, longer, a.len), -IST_EDB_CORRUPT);
	free(longer);
	assert_unchanged(k, &a);
	ist_fl_free(k);
	ist_buf_fini(&a);
	ist_buf_fini(&c);
}

START_TEST(encode_decode)
{
	struct fx *x = fx_new(4, 900, NET, 3);
	struct ist_fl *f = new_fl();
	round_trip(f);   /* empty */
	/* mid-DKG: round 2 with some packages */
	start(f, x, 5);
	struct ist_buf b;
	ist_buf_init(&b, 0);
	for (uint16_t i = 1; i <= 4; i++) {
		fx_round1(x, i, &b);
		ck_assert_ptr_null(put(f, false, &b, 5));
	}
	round_trip(f);
	ck_assert_int_eq(ist_fl_dkg_step(f, 5, &(struct ist_fl_group){ 0 }), IST_FL_RUNNING);
	bool acc[4] = { true, true, true, true };
	for (uint16_t i = 1; i <= 2; i++) {
		fx_round2_pkg(x, i, acc);
		fx_round2_item(x, i, &b);
		ck_assert_ptr_null(put(f, false, &b, 6));
	}
	round_trip(f);
	/* a decoded run goes on as the original */
	struct ist_buf a;
	ist_buf_init(&a, 0);
	encode(f, &a);
	struct ist_fl *k = new_fl();
	ck_assert_int_eq(ist_fl_decode(k, a.data, a.len), 0);
	ist_fl_free(k);
	ist_fl_free(f);

	/* with a group, queues and jobs (assigned and not) */
	f = new_fl();
	fx_set_epoch(x, 3);
	struct ist_fl_group g;
	setup_group(f, x, &g);
	for (uint16_t id = 1; id <= 4; id++)
		post_nonces(f, x, id, 0, 3, 40);
	uint8_t digest[32] = { 1, 2, 3 };
	ck_assert_int_eq(ist_fl_job_add(f, x->epoch, 40, digest), 0);
	ist_fl_jobs_step(f, 40);
	ck_assert_int_eq(ist_fl_job_add(f, x->epoch + 1, 41, digest), 0);
	ist_fl_jobs_step(f, 41);
	ck_assert_uint_eq(ist_fl_n_jobs(f), 2);
	/* and a run for the next epoch */
	fx_set_epoch(x, 4);
	start(f, x, 42);
	fx_round1(x, 3, &b);
	ck_assert_ptr_null(put(f, false, &b, 42));
	round_trip(f);
	/* a decoded state goes on identically */
	encode(f, &a);
	k = new_fl();
	ck_assert_int_eq(ist_fl_decode(k, a.data, a.len), 0);
	ist_fl_jobs_step(f, 40 + R);
	ist_fl_jobs_step(k, 40 + R);
	struct ist_buf e1, e2;
	ist_buf_init(&e1, 0);
	ist_buf_init(&e2, 0);
	encode(f, &e1);
	encode(k, &e2);
	ck_assert_uint_eq(e1.len, e2.len);
	ck_assert_mem_eq(e1.data, e2.data, e1.len);
	ck_assert_uint_eq(ist_fl_job_at(k, 0)->attempt, 1);
	ist_buf_fini(&e1);
	ist_buf_fini(&e2);
	ist_fl_free(k);
	ist_buf_fini(&a);
	ist_buf_fini(&b);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

/* ---- share reports (IST_FL_SHARES) ---- */

/* A group of n = 4 (t = 3) for x's epoch, `per` commitments per member,
 * and one job at H with its signers chosen. */
#define SH_H 100
static const struct ist_fl_job *share_setup(struct ist_fl *f, struct fx *x, struct ist_fl_group *g, uint32_t per,
					    const uint8_t digest[32])
{
	setup_group(f, x, g);
	for (uint16_t id = 1; id <= 4; id++)
		post_nonces(f, x, id, 0, per, SH_H);
	ck_assert_int_eq(ist_fl_job_add(f, x->epoch, SH_H, digest), 0);
	ist_fl_jobs_step(f, SH_H);
	ck_assert_uint_eq(ist_fl_n_jobs(f), 1);
	const struct ist_fl_job *j = ist_fl_job_at(f, 0);
	ck_assert_uint_eq(j->assigned, SH_H);
	ck_assert_uint_eq(j->n_signers, 3);
	return j;
}

static int pos_of(const struct ist_fl_job *j, uint16_t id)
{
	for (uint16_t k = 0; k < j->n_signers; k++)
		if (j->signers[k].c.id == id)
			return k;
	return -1;
}

static bool got_of(const struct ist_fl_job *j, uint16_t id)
{
	int k = pos_of(j, id);
	ck_assert_int_ge(k, 0);
	return j->got[k];
}

/* The one member of 1..4 not in bits. */
static uint16_t left_out(uint32_t bits)
{
	uint16_t out = 0;
	for (uint16_t id = 1; id <= 4; id++)
		if (!(bits & (1u << id))) {
			ck_assert_uint_eq(out, 0);
			out = id;
		}
	ck_assert_uint_ne(out, 0);
	return out;
}

/* The record decodes to the same flags, counters and got[]. */
static void shares_round_trip(const struct ist_fl *f, uint64_t epoch)
{
	round_trip(f);
	struct ist_buf a;
	ist_buf_init(&a, 0);
	encode(f, &a);
	struct ist_fl *k = new_fl();
	ck_assert_int_eq(ist_fl_decode(k, a.data, a.len), 0);
	const struct ist_fl_group *g1 = ist_fl_group_get(f, epoch), *g2 = ist_fl_group_get(k, epoch);
	ck_assert_ptr_nonnull(g2);
	ck_assert_uint_eq(g1->bad_shares, g2->bad_shares);
	for (uint16_t i = 0; i < g1->n; i++) {
		ck_assert_int_eq(g1->absent[i], g2->absent[i]);
		ck_assert_int_eq(g1->bad[i], g2->bad[i]);
		ck_assert_int_eq(g1->qualified[i], g2->qualified[i]);
	}
	ck_assert_uint_eq(ist_fl_n_jobs(f), ist_fl_n_jobs(k));
	for (size_t i = 0; i < ist_fl_n_jobs(f); i++) {
		const struct ist_fl_job *j1 = ist_fl_job_at(f, i), *j2 = ist_fl_job_at(k, i);
		ck_assert_uint_eq(j1->n_signers, j2->n_signers);
		for (uint16_t s = 0; s < j1->n_signers; s++)
			ck_assert_int_eq(j1->got[s], j2->got[s]);
	}
	ist_fl_free(k);
	ist_buf_fini(&a);
}

START_TEST(shares_report_marks_got)
{
	struct fx *x = fx_new(4, 1100, NET, 7);
	struct ist_fl *f = new_fl();
	struct ist_fl_group g;
	uint8_t digest[32];
	memset(digest, 0x3c, 32);
	const struct ist_fl_job *j = share_setup(f, x, &g, 4, digest);
	uint16_t s[3] = { j->signers[0].c.id, j->signers[1].c.id, j->signers[2].c.id };
	/* the first signer is (say) absent from an earlier attempt */
	struct ist_fl_group ga = *ist_fl_group_get(f, x->epoch);
	ga.absent[s[0] - 1] = true;
	ck_assert_int_eq(ist_fl_group_set(f, &ga), 0);
	struct ist_buf b, snap;
	ist_buf_init(&b, 0);
	ist_buf_init(&snap, 0);
	/* each share checks on its own (the fixture's shares are real) */
	for (int k = 0; k < 3; k++) {
		uint8_t z[32];
		ck_assert_int_eq(fx_share(x, &g, j, s[k], z), 0);
	}
	/* a report of two of the three */
	uint16_t two[2] = { s[0], s[1] };
	fx_report(x, &g, j, two, 2, &b);
	ck_assert_uint_eq(b.len, 1 + 22 + 2 * 98);
	ist_fl_clean(f);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 1));
	ck_assert(ist_fl_dirty(f));
	j = ist_fl_job_at(f, 0);
	ck_assert(got_of(j, s[0]));
	ck_assert(got_of(j, s[1]));
	ck_assert(!got_of(j, s[2]));
	const struct ist_fl_group *gg = ist_fl_group_get(f, x->epoch);
	ck_assert(!gg->absent[s[0] - 1]);   /* a checked share clears it */
	for (uint16_t id = 1; id <= 4; id++)
		ck_assert(!gg->bad[id - 1]);
	ck_assert_uint_eq(gg->bad_shares, 0);
	ck_assert_uint_eq(j->attempt, 0);
	ck_assert_uint_eq(j->assigned, SH_H);
	/* the same report again (another node holding the same shares):
	 * nothing new */
	encode(f, &snap);
	fx_report(x, &g, j, two, 2, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 1));
	assert_unchanged(f, &snap);
	/* the third one's share, later, in a report that repeats the first */
	uint16_t all3[2] = { s[2], s[0] };
	fx_report(x, &g, j, all3, 2, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 2));
	j = ist_fl_job_at(f, 0);
	for (int k = 0; k < 3; k++)
		ck_assert(got_of(j, s[k]));
	/* got[] persists */
	shares_round_trip(f, x->epoch);
	/* a record whose job names signer 0 is corrupt (it would index the
	 * group's arrays at -1); the job is last: 3 x (seq, id, D, E, got) */
	{
		struct ist_buf a;
		ist_buf_init(&a, 0);
		encode(f, &a);
		ck_assert_uint_eq(ist_fl_n_jobs(f), 1);
		uint8_t *id0 = a.data + a.len - 3 * (4 + 2 + 32 + 32 + 1) + 4;
		ck_assert_uint_eq(ist_get_be16(id0), s[0]);   /* signers are sorted by identifier */
		ist_put_be16(id0, 0);
		struct ist_fl *k = new_fl();
		ck_assert_int_eq(ist_fl_decode(k, a.data, a.len), -IST_EDB_CORRUPT);
		ist_fl_free(k);
		ist_buf_fini(&a);
	}
	/* with every share reported, a time-out marks nobody absent */
	ist_fl_jobs_step(f, SH_H + R);
	j = ist_fl_job_at(f, 0);
	ck_assert_uint_eq(j->attempt, 1);
	for (uint16_t k = 0; k < j->n_signers; k++)
		ck_assert(!j->got[k]);   /* a new attempt starts with none */
	for (uint16_t id = 1; id <= 4; id++)
		ck_assert(!ist_fl_group_get(f, x->epoch)->absent[id - 1]);
	ist_buf_fini(&b);
	ist_buf_fini(&snap);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

START_TEST(shares_timeout_absent)
{
	struct fx *x = fx_new(4, 1200, NET, 7);
	struct ist_fl *f = new_fl(), *f2 = new_fl();
	struct ist_fl_group g;
	/* a digest for which the silent member would be chosen again in
	 * attempt 1 if nothing were known: then leaving it out is the
	 * ranking's doing */
	bool has[4] = { true, true, true, true };
	uint8_t digest[32];
	uint16_t silent = 0;
	for (uint8_t d = 0; !silent; d++) {
		ck_assert_uint_lt(d, 200);
		memset(digest, d, 32);
		uint32_t b0 = expected_signers(digest, 0, has, 4, 3), b1 = expected_signers(digest, 1, has, 4, 3);
		for (uint16_t id = 1; id <= 4 && !silent; id++)
			if ((b0 & b1 & (1u << id)) != 0)
				silent = id;
	}
	const struct ist_fl_job *j = share_setup(f, x, &g, 8, digest);
	/* f2: the same state, no report */
	{
		struct ist_buf a;
		ist_buf_init(&a, 0);
		encode(f, &a);
		ck_assert_int_eq(ist_fl_decode(f2, a.data, a.len), 0);
		ist_buf_fini(&a);
	}
	uint32_t bits0 = signer_bits(j);
	ck_assert(bits0 & (1u << silent));
	uint16_t outsider = left_out(bits0);
	uint16_t answered[2], na = 0;
	for (uint16_t k = 0; k < 3; k++)
		if (j->signers[k].c.id != silent)
			answered[na++] = j->signers[k].c.id;
	ck_assert_uint_eq(na, 2);
	struct ist_buf b;
	ist_buf_init(&b, 0);
	fx_report(x, &g, j, answered, 2, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 1));

	/* the time-out: the silent signer is absent, attempt 1 leaves it out */
	ist_fl_jobs_step(f, SH_H + R - 1);
	ck_assert(!ist_fl_group_get(f, x->epoch)->absent[silent - 1]);
	ist_fl_jobs_step(f, SH_H + R);
	const struct ist_fl_group *gf = ist_fl_group_get(f, x->epoch);
	for (uint16_t id = 1; id <= 4; id++)
		ck_assert_int_eq(gf->absent[id - 1], id == silent);
	j = ist_fl_job_at(f, 0);
	ck_assert_uint_eq(j->attempt, 1);
	ck_assert_uint_eq(j->assigned, SH_H + R);
	ck_assert_uint_eq(signer_bits(j), (0x1eu & ~(1u << silent)));
	ck_assert(signer_bits(j) & (1u << outsider));
	ck_assert(!(signer_bits(j) & (1u << silent)));
	shares_round_trip(f, x->epoch);

	/* without a report nothing is known: nobody absent, the plain order */
	ist_fl_jobs_step(f2, SH_H + R);
	for (uint16_t id = 1; id <= 4; id++)
		ck_assert(!ist_fl_group_get(f2, x->epoch)->absent[id - 1]);
	ck_assert_uint_eq(ist_fl_job_at(f2, 0)->attempt, 1);
	ck_assert_uint_eq(signer_bits(ist_fl_job_at(f2, 0)), expected_signers(digest, 1, has, 4, 3));
	ck_assert(signer_bits(ist_fl_job_at(f2, 0)) & (1u << silent));

	/* attempt 1: only the two that answered before answer again; the
	 * outsider is absent now too. Attempt 2 takes the two present ones,
	 * then the absent one with the lower hash */
	j = ist_fl_job_at(f, 0);
	fx_report(x, &g, j, answered, 2, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + R + 1));
	ist_fl_jobs_step(f, SH_H + 2 * R);
	gf = ist_fl_group_get(f, x->epoch);
	ck_assert(gf->absent[silent - 1]);
	ck_assert(gf->absent[outsider - 1]);
	ck_assert(!gf->absent[answered[0] - 1]);
	ck_assert(!gf->absent[answered[1] - 1]);
	j = ist_fl_job_at(f, 0);
	ck_assert_uint_eq(j->attempt, 2);
	bool absent_only[4] = { false };
	absent_only[silent - 1] = absent_only[outsider - 1] = true;
	uint32_t third = expected_signers(digest, 2, absent_only, 4, 1);
	uint16_t back = (third & (1u << silent)) ? silent : outsider, still = back == silent ? outsider : silent;
	ck_assert_uint_eq(signer_bits(j), (1u << answered[0]) | (1u << answered[1]) | (1u << back));

	/* a report with a valid share of the absent one clears its absence
	 * (and only its own) */
	uint16_t one = back;
	fx_report(x, &g, j, &one, 1, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 2 * R + 1));
	gf = ist_fl_group_get(f, x->epoch);
	ck_assert(!gf->absent[back - 1]);
	ck_assert(gf->absent[still - 1]);
	ck_assert(got_of(ist_fl_job_at(f, 0), back));
	shares_round_trip(f, x->epoch);
	ist_buf_fini(&b);
	ist_fl_free(f);
	ist_fl_free(f2);
	fx_free(x);
}
END_TEST

START_TEST(shares_bad_share)
{
	struct fx *x = fx_new(4, 1300, NET, 7);
	struct ist_fl *f = new_fl();
	struct ist_fl_group g;
	uint8_t digest[32];
	memset(digest, 0x77, 32);
	const struct ist_fl_job *j = share_setup(f, x, &g, 12, digest);
	uint16_t s[3] = { j->signers[0].c.id, j->signers[1].c.id, j->signers[2].c.id };
	uint16_t outsider = left_out(signer_bits(j));
	uint16_t cheat = s[1], honest = s[2];
	struct ist_buf b, snap;
	ist_buf_init(&b, 0);
	ist_buf_init(&snap, 0);
	uint8_t z0[32], zc[32], zh[32], junk[64];
	ck_assert_int_eq(fx_share(x, &g, j, s[0], z0), 0);
	ck_assert_int_eq(fx_share(x, &g, j, cheat, zc), 0);
	ck_assert_int_eq(fx_share(x, &g, j, honest, zh), 0);
	zc[0] ^= 1;   /* still a canonical scalar, not the share */
	zh[0] ^= 1;

	/* forgeries first: a wrong share of the honest signer signed by
	 * another member, or with a junk signature, or its real share signed
	 * by another member: nothing changes (no got, no bad) */
	encode(f, &snap);
	ist_fl_clean(f);
	fx_report_head(&b, j->epoch, j->height, j->attempt, 1);
	fx_report_entry(x, j, outsider, honest, zh, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 1));
	assert_unchanged(f, &snap);
	fx_report_head(&b, j->epoch, j->height, j->attempt, 1);
	ist_buf_put_be16(&b, honest);
	ist_buf_put(&b, zh, 32);
	memset(junk, 0x5e, sizeof(junk));
	ist_buf_put(&b, junk, 64);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 1));
	assert_unchanged(f, &snap);
	{
		uint8_t zr[32];
		ck_assert_int_eq(fx_share(x, &g, j, honest, zr), 0);
		fx_report_head(&b, j->epoch, j->height, j->attempt, 1);
		fx_report_entry(x, j, cheat, honest, zr, &b);
		ck_assert_ptr_null(put(f, false, &b, SH_H + 1));
		assert_unchanged(f, &snap);
		/* a signature over another attempt's bytes */
		fx_report_head(&b, j->epoch, j->height, j->attempt, 1);
		uint8_t sig[64];
		fx_share_sig(x, honest, j->epoch, j->height, j->attempt + 1, honest, zh, sig);
		ist_buf_put_be16(&b, honest);
		ist_buf_put(&b, zh, 32);
		ist_buf_put(&b, sig, 64);
		ck_assert_ptr_null(put(f, false, &b, SH_H + 1));
		assert_unchanged(f, &snap);
	}
	/* a share of a member that is no signer of the attempt, signed */
	fx_report_head(&b, j->epoch, j->height, j->attempt, 1);
	fx_report_entry(x, j, outsider, outsider, zh, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 1));
	assert_unchanged(f, &snap);
	ck_assert(!ist_fl_group_get(f, x->epoch)->bad[honest - 1]);

	/* a wrong share signed by its own member: bad, counted once */
	fx_report_head(&b, j->epoch, j->height, j->attempt, 2);
	fx_report_entry(x, j, s[0], s[0], z0, &b);
	fx_report_entry(x, j, cheat, cheat, zc, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 1));
	const struct ist_fl_group *gf = ist_fl_group_get(f, x->epoch);
	j = ist_fl_job_at(f, 0);
	ck_assert(gf->bad[cheat - 1]);
	ck_assert_uint_eq(gf->bad_shares, 1);
	ck_assert(got_of(j, s[0]));
	ck_assert(!got_of(j, cheat));
	ck_assert(!gf->bad[s[0] - 1] && !gf->bad[honest - 1] && !gf->bad[outsider - 1]);
	/* reported again (the same, and another wrong one): still once */
	fx_report_head(&b, j->epoch, j->height, j->attempt, 1);
	fx_report_entry(x, j, cheat, cheat, zc, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 2));
	zc[1] ^= 1;
	fx_report_head(&b, j->epoch, j->height, j->attempt, 2);
	fx_report_entry(x, j, cheat, cheat, zc, &b);
	fx_report_entry(x, j, cheat, cheat, zc, &b);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 2));
	gf = ist_fl_group_get(f, x->epoch);
	ck_assert_uint_eq(gf->bad_shares, 1);
	ck_assert(gf->bad[cheat - 1]);
	shares_round_trip(f, x->epoch);

	/* never chosen again in the epoch: in later attempts of this job, and
	 * in another job (members are left with enough commitments) */
	ck_assert_int_eq(ist_fl_job_add(f, x->epoch, SH_H + 1, digest), 0);
	uint64_t h = SH_H + 1;
	ist_fl_jobs_step(f, h);
	ck_assert_uint_eq(ist_fl_n_jobs(f), 2);
	ck_assert(!(signer_bits(ist_fl_job_at(f, 1)) & (1u << cheat)));
	for (int a = 0; a < 3; a++) {
		h += R;
		ist_fl_jobs_step(f, h);
		for (size_t i = 0; i < ist_fl_n_jobs(f); i++) {
			const struct ist_fl_job *ji = ist_fl_job_at(f, i);
			ck_assert_uint_eq(ji->n_signers, 3);
			ck_assert(!(signer_bits(ji) & (1u << cheat)));
		}
	}
	/* the job of the first report timed out with a report: the honest
	 * signer that did not answer is absent, but chosen (3 are left) */
	ck_assert(ist_fl_group_get(f, x->epoch)->absent[honest - 1]);
	ck_assert(!ist_fl_group_get(f, x->epoch)->bad[honest - 1]);
	/* the other job of the epoch too: a job added now */
	ck_assert_int_eq(ist_fl_job_add(f, x->epoch, h, (uint8_t[32]){ 9 }), 0);
	ist_fl_jobs_step(f, h);
	ck_assert(!(signer_bits(ist_fl_job_at(f, ist_fl_n_jobs(f) - 1)) & (1u << cheat)));
	ck_assert_uint_eq(ist_fl_job_at(f, ist_fl_n_jobs(f) - 1)->n_signers, 3);
	shares_round_trip(f, x->epoch);
	ist_buf_fini(&b);
	ist_buf_fini(&snap);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

START_TEST(shares_ignored)
{
	struct fx *x = fx_new(4, 1400, NET, 7);
	struct ist_fl *f = new_fl();
	struct ist_fl_group g;
	uint8_t digest[32];
	memset(digest, 0x21, 32);
	const struct ist_fl_job *j = share_setup(f, x, &g, 8, digest);
	ck_assert_int_eq(ist_fl_job_add(f, x->epoch, SH_H + 5, digest), 0);   /* not assigned yet */
	uint16_t s0 = j->signers[0].c.id;
	uint8_t z[32];
	ck_assert_int_eq(fx_share(x, &g, j, s0, z), 0);
	struct ist_buf b, snap, good;
	ist_buf_init(&b, 0);
	ist_buf_init(&snap, 0);
	ist_buf_init(&good, 0);
	fx_report(x, &g, j, &s0, 1, &good);
	encode(f, &snap);
	ist_fl_clean(f);
	const char *const stale = "share report for no current attempt", *const malformed = "malformed share report";
#define IGNORED(why) do { \
		ck_assert_str_eq(put(f, false, &b, SH_H + 1), (why)); \
		assert_unchanged(f, &snap); \
		ck_assert(!ist_fl_dirty(f)); \
	} while (0)
	/* another attempt (signed for it), another height, another epoch, a
	 * job not assigned yet */
	for (int d = 0; d < 4; d++) {
		uint32_t att = j->attempt + 1;
		uint64_t e = j->epoch, hh = j->height;
		if (d == 1)
			att = j->attempt, hh = j->height + 1;
		if (d == 2)
			att = j->attempt, e = j->epoch + 1;
		if (d == 3)
			att = j->attempt, hh = SH_H + 5;
		uint8_t sig[64];
		fx_share_sig(x, s0, e, hh, att, s0, z, sig);
		fx_report_head(&b, e, hh, att, 1);
		ist_buf_put_be16(&b, s0);
		ist_buf_put(&b, z, 32);
		ist_buf_put(&b, sig, 64);
		IGNORED(stale);
	}
	/* malformed: a byte short, a byte over, a count that does not match,
	 * a head cut short, the type byte alone */
	ist_buf_put(&b, good.data, good.len - 1);
	IGNORED(malformed);
	ist_buf_put(&b, good.data, good.len);
	ist_buf_put_u8(&b, 0);
	IGNORED(malformed);
	ist_buf_put(&b, good.data, good.len);
	ist_put_be16(b.data + 21, 2);
	IGNORED(malformed);
	ist_buf_put(&b, good.data, good.len);
	ist_put_be16(b.data + 21, 0);
	IGNORED(malformed);
	ist_buf_put(&b, good.data, 22);
	IGNORED(malformed);
	ist_buf_put(&b, good.data, 1);
	IGNORED(malformed);
	/* the good one counts; after the time-out it is stale */
	ist_buf_put(&b, good.data, good.len);
	ck_assert_ptr_null(put(f, false, &b, SH_H + 1));
	ck_assert(got_of(ist_fl_job_at(f, 0), s0));
	ist_fl_jobs_step(f, SH_H + R);
	ck_assert_uint_eq(ist_fl_job_at(f, 0)->attempt, 1);
	encode(f, &snap);
	ist_fl_clean(f);
	ist_buf_put(&b, good.data, good.len);
	IGNORED(stale);
	/* a completed job: no current attempt */
	const struct ist_fl_job *j1 = ist_fl_job_at(f, 0);
	struct ist_fl_job saved = *j1;
	uint8_t sig[64];
	ck_assert_int_eq(fx_sign_job(x, &g, &saved, sig), 0);
	ist_fl_cert_item(&b, x->epoch, SH_H, sig);
	ck_assert_ptr_null(put(f, false, &b, SH_H + R + 1));
	encode(f, &snap);
	ist_fl_clean(f);
	fx_report_head(&b, saved.epoch, saved.height, saved.attempt, 0);
	IGNORED(stale);
#undef IGNORED
	ist_buf_fini(&b);
	ist_buf_fini(&snap);
	ist_buf_fini(&good);
	ist_fl_free(f);
	fx_free(x);
}
END_TEST

/* ---- the ledger ---- */

#define EPOCH_LEN 10

static struct ist_ledger *ledger_new(const struct fx *x, uint32_t round_blocks)
{
	static uint8_t apub[4][33];
	struct ist_ledger_genesis_validator gv[4];
	for (int i = 0; i < 4; i++) {
		uint8_t asec[32];
		memset(asec, 0x40 + i, 32);
		ck_assert_int_eq(ist_secp_pubkey(asec, apub[i]), 0);
		gv[i] = (struct ist_ledger_genesis_validator){ .name = "v", .node_key = x->node[i], .attest_key = apub[i],
								.dkg_key = x->epub[i], .address = "tcp://127.0.0.1:1",
								.stake = 1000 };
	}
	struct ist_ledger_params p = { .epoch_length_blocks = EPOCH_LEN, .max_validators = 10, .min_stake = 100,
				       .unbonding_epochs = 2, .slash_fraction_bps = 1000, .jail_missed_bps = 5000,
				       .jail_cooldown_epochs = 1, .frost_round_blocks = round_blocks,
				       .frost_sign_timeout_blocks = round_blocks ? R : 0 };
	struct ist_ledger *l = NULL;
	ck_assert_int_eq(ist_ledger_new(&p, NET, gv, 4, NULL, 0, &l), 0);
	return l;
}

/* Items collected for the next block. */
struct items {
	struct ist_payload_item it[16];
	uint8_t *data[16];
	size_t n;
};

static void add(struct items *its, enum ist_payload_kind kind, struct ist_buf *b)
{
	ck_assert_uint_lt(its->n, 16);
	ck_assert_int_eq(ist_buf_err(b), 0);
	its->data[its->n] = malloc(b->len);
	memcpy(its->data[its->n], b->data, b->len);
	its->it[its->n] = (struct ist_payload_item){ .kind = kind };
	its->it[its->n].u.opaque.data = its->data[its->n];
	its->it[its->n].u.opaque.len = b->len;
	its->n++;
	ist_buf_reset(b);
}

static void block_of(const struct ist_ledger *l, struct items *its, struct ist_block *b)
{
	memset(b, 0, sizeof(*b));
	b->network_id = NET;
	b->epoch = ist_ledger_current(l)->epoch;
	b->height = ist_ledger_height(l) + 1;
	b->justify.epoch = b->epoch;
	b->justify.signers[0] = 0x0f;
	b->justify.n_sigs = 4;
	b->items = its ? its->it : NULL;
	b->n_items = its ? its->n : 0;
}

static struct ist_ledger_outcome apply(struct ist_ledger *l, struct items *its)
{
	struct ist_block b;
	block_of(l, its, &b);
	struct ist_ledger_outcome o;
	ck_assert_int_eq(ist_ledger_apply_block(l, &b, NULL, &o), 0);
	if (its) {
		for (size_t i = 0; i < its->n; i++)
			free(its->data[i]);
		its->n = 0;
	}
	return o;
}

/* The three rounds of an honest DKG of x through blocks of l (the run is
 * at round 1 and x's epoch); returns the outcome of the last block. */
static struct ist_ledger_outcome ledger_dkg(struct ist_ledger *l, struct fx *x)
{
	struct items its = { 0 };
	struct ist_buf b;
	ist_buf_init(&b, 0);
	const struct ist_fl_dkg *d = ist_fl_dkg_get(ist_ledger_frost(l));
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->epoch, x->epoch);
	ck_assert_uint_eq(d->round, 1);
	ck_assert_uint_eq(d->start, ist_ledger_height(l) + 1);
	for (uint16_t i = 1; i <= 4; i++) {
		fx_round1(x, i, &b);
		add(&its, IST_PAYLOAD_DKG, &b);
	}
	struct ist_ledger_outcome o = apply(l, &its);
	ck_assert(!o.epoch_ended);
	ck_assert_uint_eq(ist_fl_dkg_get(ist_ledger_frost(l))->round, 2);
	bool acc[4] = { true, true, true, true };
	for (uint16_t i = 1; i <= 4; i++) {
		fx_round2_pkg(x, i, acc);
		fx_round2_item(x, i, &b);
		add(&its, IST_PAYLOAD_DKG, &b);
	}
	o = apply(l, &its);
	ck_assert(!o.epoch_ended);
	ck_assert_uint_eq(ist_fl_dkg_get(ist_ledger_frost(l))->round, 3);
	for (uint16_t i = 1; i <= 4; i++) {
		fx_round3(x, i, acc, &b, NULL);
		add(&its, IST_PAYLOAD_DKG, &b);
	}
	o = apply(l, &its);
	ck_assert_ptr_null(ist_fl_dkg_get(ist_ledger_frost(l)));
	const struct ist_fl_group *g = ist_fl_group_get(ist_ledger_frost(l), x->epoch);
	ck_assert_ptr_nonnull(g);
	check_key(x, g);
	ck_assert_int_eq(fx_signing_shares(x, g), 0);
	ist_buf_fini(&b);
	return o;
}

struct mem {
	struct {
		int t;
		uint8_t key[48];
		size_t klen;
		uint8_t *val;
		size_t vlen;
	} r[256];
	size_t n;
};

static int mem_put(void *ctx, enum ist_ledger_table t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct mem *m = ctx;
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == (int)t && m->r[i].klen == klen && !memcmp(m->r[i].key, key, klen)) {
			free(m->r[i].val);
			m->r[i].val = malloc(vlen ? vlen : 1);
			memcpy(m->r[i].val, val, vlen);
			m->r[i].vlen = vlen;
			return 0;
		}
	ck_assert_uint_lt(m->n, 256);
	m->r[m->n].t = (int)t;
	memcpy(m->r[m->n].key, key, klen);
	m->r[m->n].klen = klen;
	m->r[m->n].val = malloc(vlen ? vlen : 1);
	memcpy(m->r[m->n].val, val, vlen);
	m->r[m->n].vlen = vlen;
	m->n++;
	return 0;
}

/* A second ledger loaded from l's flushed records. */
static struct ist_ledger *reload(struct ist_ledger *l, const struct fx *x)
{
	struct mem *m = calloc(1, sizeof(*m));
	struct ist_ledger_sink sink = { .put = mem_put, .ctx = m };
	ck_assert_int_eq(ist_ledger_flush(l, &sink), 0);
	ist_ledger_flushed(l);
	struct ist_ledger *k = ledger_new(x, W);
	bool frost = false;
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == IST_LEDGER_T_STATE)
			ck_assert_int_eq(ist_ledger_load_state(k, m->r[i].val, m->r[i].vlen), 0);
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == IST_LEDGER_T_FROST) {
			ck_assert_int_eq(ist_ledger_load_frost(k, m->r[i].val, m->r[i].vlen), 0);
			frost = true;
		}
	ck_assert(frost);
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].val);
	free(m);
	return k;
}

static void same_frost(const struct ist_ledger *a, const struct ist_ledger *b)
{
	struct ist_buf x, y;
	ist_buf_init(&x, 0);
	ist_buf_init(&y, 0);
	encode(ist_ledger_frost(a), &x);
	encode(ist_ledger_frost(b), &y);
	ck_assert_uint_eq(x.len, y.len);
	ck_assert_mem_eq(x.data, y.data, x.len);
	ist_buf_fini(&x);
	ist_buf_fini(&y);
}

START_TEST(ledger_epochs_wait_for_dkg)
{
	struct fx *x = fx_new(4, 1000, NET, 0);
	struct ist_ledger *l = ledger_new(x, W);
	ck_assert_ptr_nonnull(ist_ledger_frost(l));
	ck_assert_ptr_null(ist_fl_dkg_get(ist_ledger_frost(l)));
	/* block 1: epoch 0 (no key) starts its own DKG at height 2 */
	apply(l, NULL);
	const struct ist_fl_dkg *d = ist_fl_dkg_get(ist_ledger_frost(l));
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->epoch, 0);
	ck_assert(!d->handover);
	ck_assert_uint_eq(d->start, 2);
	ck_assert_uint_eq(d->n, 4);
	ck_assert_uint_eq(d->t, 3);
	/* blocks 2, 3, 4: the rounds; the key forms */
	ledger_dkg(l, x);
	ck_assert_uint_eq(ist_ledger_height(l), 4);
	const struct ist_ledger_set *cur = ist_ledger_current(l);
	ck_assert_uint_eq(cur->epoch, 0);
	ck_assert(cur->has_group_key);
	ck_assert_mem_eq(cur->group_key, ist_fl_group_get(ist_ledger_frost(l), 0)->group_key, 32);
	/* block 5: nonce commitments for epoch 0 */
	struct items its = { 0 };
	struct ist_buf b;
	ist_buf_init(&b, 0);
	for (uint16_t id = 1; id <= 4; id++) {
		fx_nonces(x, 0, id, 0, 2, &b);
		add(&its, IST_PAYLOAD_NONCE_COMMITMENTS, &b);
	}
	apply(l, &its);
	for (uint16_t id = 1; id <= 4; id++)
		ck_assert_uint_eq(unused(ist_ledger_frost(l), 0, id, NULL), 2);
	/* blocks 6..10: at the scheduled end (10) the epoch does not switch;
	 * the next set's DKG starts at 11 */
	for (int h = 6; h <= EPOCH_LEN; h++) {
		struct ist_ledger_outcome o = apply(l, NULL);
		ck_assert(!o.epoch_ended);
		ck_assert(h == EPOCH_LEN || !ist_ledger_pending_next(l));
		ck_assert_uint_eq(ist_fl_n_jobs(ist_ledger_frost(l)), 0);   /* no checkpoints */
	}
	ck_assert_uint_eq(ist_ledger_height(l), EPOCH_LEN);
	ck_assert_ptr_nonnull(ist_ledger_pending_next(l));
	ck_assert_uint_eq(ist_ledger_pending_next(l)->epoch, 1);
	ck_assert(!ist_ledger_pending_next(l)->has_group_key);
	ck_assert_uint_eq(ist_ledger_current(l)->epoch, 0);
	d = ist_fl_dkg_get(ist_ledger_frost(l));
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->epoch, 1);
	ck_assert(d->handover);
	ck_assert_uint_eq(d->start, EPOCH_LEN + 1);

	/* persistence mid-hand-over: a reloaded ledger goes on identically */
	struct ist_ledger *k = reload(l, x);
	ck_assert_ptr_nonnull(ist_ledger_pending_next(k));
	same_frost(l, k);

	/* blocks 11, 12, 13: the next set's DKG; the epoch ends at 13 */
	struct fx *y = fx_new(4, 1000, NET, 1);   /* the same keys */
	struct fx *y2 = fx_new(4, 1000, NET, 1);  /* the same again, for k */
	ck_assert_mem_eq(y->node, x->node, sizeof(x->node));
	/* the next set is ordered by stake, then node key: identifiers follow it */
	fx_reorder(y, (const uint8_t (*)[32])ist_ledger_pending_next(l)->node_keys);
	fx_reorder(y2, (const uint8_t (*)[32])ist_ledger_pending_next(l)->node_keys);
	struct ist_ledger_outcome o = ledger_dkg(l, y);
	struct ist_ledger_outcome ok = ledger_dkg(k, y2);
	ck_assert(o.epoch_ended);
	ck_assert(ok.epoch_ended);
	ck_assert_uint_eq(ist_ledger_height(l), EPOCH_LEN + 3);
	ck_assert_ptr_null(ist_ledger_pending_next(l));
	cur = ist_ledger_current(l);
	ck_assert_uint_eq(cur->epoch, 1);
	ck_assert_uint_eq(cur->start_height, EPOCH_LEN + 4);
	ck_assert(cur->has_group_key);
	ck_assert_mem_eq(cur->group_key, ist_fl_group_get(ist_ledger_frost(l), 1)->group_key, 32);
	ck_assert_ptr_eq(o.next, cur);
	const struct ist_ledger_set *old = ist_ledger_set_get(l, 0);
	ck_assert_ptr_nonnull(old);
	ck_assert_uint_eq(old->end_height, EPOCH_LEN + 3);
	ck_assert(old->has_group_key);
	ck_assert_mem_eq(ist_ledger_current(k)->group_key, cur->group_key, 32);
	same_frost(l, k);

	/* the block that ended epoch 0 has a signing job, its digest the
	 * attestation digest of the batch root with the hand-over leaf */
	ck_assert_uint_eq(ist_fl_n_jobs(ist_ledger_frost(l)), 1);
	const struct ist_fl_job *j = ist_fl_job_at(ist_ledger_frost(l), 0);
	ck_assert_uint_eq(j->epoch, 0);
	ck_assert_uint_eq(j->height, EPOCH_LEN + 3);
	ck_assert_uint_eq(j->assigned, EPOCH_LEN + 3);
	ck_assert_uint_eq(j->n_signers, 3);
	{
		struct ist_valset *vs = malloc(sizeof(*vs));
		ist_ledger_set_valset(NET, cur, vs);
		uint8_t leaf[32], root[32], want[32];
		ist_handover_leaf_hash(vs, leaf);
		free(vs);
		struct ist_block blk;
		memset(&blk, 0, sizeof(blk));
		/* the batch root covers only checkpoints and the extra leaf */
		blk.network_id = NET;
		blk.height = EPOCH_LEN + 3;
		size_t count;
		ck_assert_int_eq(ist_wire_block_batch_root_ex(&blk, leaf, root, &count), 0);
		ck_assert_uint_eq(count, 1);
		ist_wire_attest_digest(NET, 0, EPOCH_LEN + 3, root, want);
		ck_assert_mem_eq(j->digest, want, 32);
	}
	/* the signers' certificate completes it (block 14) */
	uint8_t sig[64];
	struct ist_fl_job jc = *j;
	ck_assert_int_eq(fx_sign_job(x, ist_fl_group_get(ist_ledger_frost(l), 0), &jc, sig), 0);
	ist_fl_cert_item(&b, 0, EPOCH_LEN + 3, sig);
	add(&its, IST_PAYLOAD_DKG, &b);
	o = apply(l, &its);
	ck_assert(!o.epoch_ended);
	ck_assert_uint_eq(ist_fl_n_jobs(ist_ledger_frost(l)), 0);
	/* epoch 1 has its key: no DKG runs */
	ck_assert_ptr_null(ist_fl_dkg_get(ist_ledger_frost(l)));
	ist_buf_fini(&b);
	ist_ledger_free(l);
	ist_ledger_free(k);
	fx_free(x);
	fx_free(y);
	fx_free(y2);
}
END_TEST

START_TEST(ledger_frost_off)
{
	struct fx *x = fx_new(4, 1100, NET, 0);
	struct ist_ledger *l = ledger_new(x, 0);
	ck_assert_ptr_null(ist_ledger_frost(l));
	for (int h = 1; h < EPOCH_LEN; h++) {
		struct ist_ledger_outcome o = apply(l, NULL);
		ck_assert(!o.epoch_ended);
	}
	struct ist_ledger_outcome o = apply(l, NULL);
	ck_assert(o.epoch_ended);
	ck_assert_ptr_null(ist_ledger_pending_next(l));
	ck_assert_uint_eq(ist_ledger_current(l)->epoch, 1);
	ck_assert_uint_eq(ist_ledger_current(l)->start_height, EPOCH_LEN + 1);
	ck_assert(!ist_ledger_current(l)->has_group_key);
	ist_ledger_free(l);
	fx_free(x);
}
END_TEST

START_TEST(ledger_dkg_fails)
{
	struct fx *x = fx_new(4, 1200, NET, 0);
	struct ist_ledger *l = ledger_new(x, W);
	/* nobody posts: epoch 0's DKG fails at its round-1 deadline (3) and is
	 * not tried again */
	for (int h = 1; h <= 3; h++)
		apply(l, NULL);
	ck_assert_ptr_null(ist_fl_dkg_get(ist_ledger_frost(l)));
	for (int h = 4; h < EPOCH_LEN; h++) {
		struct ist_ledger_outcome o = apply(l, NULL);
		ck_assert(!o.epoch_ended);
		ck_assert_ptr_null(ist_fl_dkg_get(ist_ledger_frost(l)));
	}
	ck_assert(!ist_ledger_current(l)->has_group_key);
	/* the scheduled end waits for the next set's DKG, which fails too:
	 * the epoch switches at its deadline, without a key */
	struct ist_ledger_outcome o = apply(l, NULL);
	ck_assert(!o.epoch_ended);
	ck_assert_ptr_nonnull(ist_ledger_pending_next(l));
	uint64_t h = EPOCH_LEN;
	for (;;) {
		o = apply(l, NULL);
		h++;
		if (o.epoch_ended)
			break;
		ck_assert_uint_lt(h, EPOCH_LEN + 20);
	}
	ck_assert_uint_eq(h, EPOCH_LEN + W);   /* round 1 of 11..12 */
	ck_assert_ptr_null(ist_ledger_pending_next(l));
	const struct ist_ledger_set *cur = ist_ledger_current(l);
	ck_assert_uint_eq(cur->epoch, 1);
	ck_assert(!cur->has_group_key);
	ck_assert(!ist_ledger_set_get(l, 0)->has_group_key);
	/* epoch 1, without a key, runs one for itself from the next block */
	const struct ist_fl_dkg *d = ist_fl_dkg_get(ist_ledger_frost(l));
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->epoch, 1);
	ck_assert(!d->handover);
	ck_assert_uint_eq(d->start, h + 1);
	/* no job for the ending block: epoch 0 had no key */
	ck_assert_uint_eq(ist_fl_n_jobs(ist_ledger_frost(l)), 0);
	ist_ledger_free(l);
	fx_free(x);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("frost_ledger");
	TCase *tc = tcase_create("frost_ledger");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, dkg_honest);
	tcase_add_test(tc, dkg_bad_share_complaint);
	tcase_add_test(tc, dkg_absent_participant);
	tcase_add_test(tc, dkg_silent_later_rounds);
	tcase_add_test(tc, dkg_too_few);
	tcase_add_test(tc, dkg_invalid_items_ignored);
	tcase_add_test(tc, nonces_and_jobs);
	tcase_add_test(tc, jobs_dropped_after_max_attempts);
	tcase_add_test(tc, encode_decode);
	tcase_add_test(tc, shares_report_marks_got);
	tcase_add_test(tc, shares_timeout_absent);
	tcase_add_test(tc, shares_bad_share);
	tcase_add_test(tc, shares_ignored);
	tcase_add_test(tc, ledger_epochs_wait_for_dkg);
	tcase_add_test(tc, ledger_frost_off);
	tcase_add_test(tc, ledger_dkg_fails);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
