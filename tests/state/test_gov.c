/*
 * Governance in the ledger (src/state/gov.h), on its own: the checks with
 * their reasons, stake-weighted passing above 2/3 (exactly 2/3 does not
 * pass), vote replacement, expiry, a tally against a changed set, pause and
 * resume of chains and routes, the bound on kept proposals, and the
 * persisted record (round trip; every corruption refused, nothing changed).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "gov_fixture.h"
#include "lib/ist_test.h"
#include "state/gov.h"

static void make_keys(void)
{
	make_keys_from(0xa0);
}

static struct ist_tx propose_tx(uint32_t action, uint64_t chain, uint64_t src, uint64_t dst, uint32_t blocks)
{
	struct ist_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.kind = IST_TX_GOV_PROPOSE;
	tx.u.gov_propose.action = action;
	tx.u.gov_propose.chain = chain;
	tx.u.gov_propose.src_chain = src;
	tx.u.gov_propose.dst_chain = dst;
	tx.u.gov_propose.voting_blocks = blocks;
	return tx;
}

static struct ist_tx vote_tx(uint64_t id, bool approve)
{
	struct ist_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.kind = IST_TX_GOV_VOTE;
	tx.u.gov_vote.proposal = id;
	tx.u.gov_vote.approve = approve;
	return tx;
}

/* Checks then applies tx from validator v at height h; the check must pass. */
static void submit(struct ist_gov *g, const struct ist_tx *tx, int v, uint64_t h, const struct ist_gov_set *set)
{
	char why[256] = "";
	ck_assert_msg(ist_gov_check(g, tx, keys[v], true, why, sizeof(why)) == 0, "refused: %s", why);
	ck_assert_int_eq(ist_gov_apply(g, tx, keys[v], h, set), 0);
}

/* The check refuses tx from validator v (NULL: none) with a reason containing want. */
static void refused(const struct ist_gov *g, const struct ist_tx *tx, const uint8_t *v, bool in_set, const char *want)
{
	char why[256] = "";
	ck_assert_int_eq(ist_gov_check(g, tx, v, in_set, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, want) != NULL, "reason '%s' lacks '%s'", why, want);
}

START_TEST(checks_and_reasons)
{
	struct ist_gov *g = ist_gov_new();
	ck_assert_ptr_nonnull(g);
	static const uint64_t s[NV] = { 1, 1, 1, 1 };
	struct ist_gov_set set = set_of(NV, s);
	struct ist_tx ok = propose_tx(IST_GOV_PAUSE_ROUTE, 0, 1, 2, 10);
	refused(g, &ok, NULL, false, "operates no validator");
	refused(g, &ok, keys[4], false, "not in the current set");
	struct ist_tx t = propose_tx(IST_GOV_PAUSE_CHAIN, 1, 0, 0, 0);
	refused(g, &t, keys[0], true, "voting_blocks must be 1 to 100000 (got 0)");
	t.u.gov_propose.voting_blocks = IST_GOV_MAX_VOTING_BLOCKS + 1;
	refused(g, &t, keys[0], true, "voting_blocks");
	t = propose_tx(IST_GOV_RESUME_CHAIN, 0, 0, 0, 10);
	refused(g, &t, keys[0], true, "a chain id is 1 or more");
	t = propose_tx(IST_GOV_PAUSE_ROUTE, 0, 3, 3, 10);
	refused(g, &t, keys[0], true, "two different chains");
	t = propose_tx(IST_GOV_RESUME_ROUTE, 0, 0, 3, 10);
	refused(g, &t, keys[0], true, "two different chains");
	t = propose_tx(9, 1, 0, 0, 10);
	refused(g, &t, keys[0], true, "unknown action 9");
	t = vote_tx(1, true);
	refused(g, &t, keys[0], true, "no proposal 1");
	t.kind = IST_TX_TRANSFER;
	refused(g, &t, keys[0], true, "not a governance transaction");
	ck_assert(!ist_gov_dirty(g));

	submit(g, &ok, 0, 5, &set);
	ck_assert(ist_gov_dirty(g));
	ck_assert_uint_eq(ist_gov_n_proposals(g), 1);
	const struct ist_gov_proposal *p = ist_gov_proposal_get(g, 1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->created, 5);
	ck_assert_uint_eq(p->closes, 15);
	ck_assert_int_eq(p->status, IST_GOV_OPEN);
	ck_assert_uint_eq(p->n_votes, 1);   /* the proposer's yes */
	ck_assert(p->votes[0].approve);
	ck_assert_mem_eq(p->proposer, keys[0], 32);
	ck_assert_uint_eq(p->yes_stake, 1);
	ck_assert_uint_eq(p->total_stake, 4);
	ck_assert_ptr_null(ist_gov_proposal_get(g, 2));
	ck_assert_str_eq(ist_gov_status_name(p->status), "open");
	ck_assert_str_eq(ist_gov_action_name(p->action), "pause_route");
	ck_assert_str_eq(ist_gov_action_name(77), "unknown");

	/* at most IST_GOV_MAX_OPEN open */
	for (int i = 1; i < IST_GOV_MAX_OPEN; i++)
		submit(g, &ok, i % NV, 6, &set);
	refused(g, &ok, keys[0], true, "64 proposals are open already");
	/* a vote on a missing or closed proposal */
	t = vote_tx(IST_GOV_MAX_OPEN + 1, true);
	refused(g, &t, keys[1], true, "no proposal 65");
	ist_gov_step(g, 15, &set);   /* proposal 1 closes */
	ck_assert_int_eq(ist_gov_proposal_get(g, 1)->status, IST_GOV_REJECTED);
	t = vote_tx(1, true);
	refused(g, &t, keys[1], true, "proposal 1 is rejected");
	submit(g, &ok, 0, 16, &set);   /* room again */
	ist_gov_free(g);
	ist_gov_free(NULL);
}
END_TEST

START_TEST(more_than_two_thirds)
{
	struct ist_gov *g = ist_gov_new();
	/* stakes 2, 1, 1, 2 (total 6): 4 is exactly 2/3 and does not pass */
	static const uint64_t s[NV] = { 2, 1, 1, 2 };
	struct ist_gov_set set = set_of(NV, s);
	struct ist_tx p = propose_tx(IST_GOV_PAUSE_CHAIN, 7, 0, 0, 100);
	submit(g, &p, 0, 1, &set);
	struct ist_tx yes = vote_tx(1, true), no = vote_tx(1, false);
	submit(g, &yes, 1, 2, &set);
	submit(g, &no, 2, 2, &set);
	const struct ist_gov_proposal *pr = ist_gov_proposal_get(g, 1);
	ck_assert_uint_eq(pr->yes_stake, 3);
	submit(g, &yes, 2, 3, &set);   /* validator 2 changes its mind: 4 of 6 */
	ck_assert_uint_eq(pr->n_votes, 3);
	ck_assert_uint_eq(pr->yes_stake, 4);
	ck_assert_int_eq(pr->status, IST_GOV_OPEN);
	ck_assert(!ist_gov_chain_paused(g, 7));
	ist_gov_step(g, 3, &set);
	ck_assert_int_eq(pr->status, IST_GOV_OPEN);
	/* back to no: replaced, not added */
	submit(g, &no, 2, 4, &set);
	ck_assert_uint_eq(pr->n_votes, 3);
	ck_assert_uint_eq(pr->yes_stake, 3);
	submit(g, &yes, 2, 5, &set);
	submit(g, &yes, 3, 6, &set);   /* 6 of 6 */
	ck_assert_int_eq(pr->status, IST_GOV_PASSED);
	ck_assert_uint_eq(pr->decided, 6);
	ck_assert_uint_eq(pr->yes_stake, 6);
	ck_assert(ist_gov_chain_paused(g, 7));
	/* a big validator passes a proposal alone, at once */
	static const uint64_t big[NV] = { 70, 10, 10, 10 };
	set = set_of(NV, big);
	p = propose_tx(IST_GOV_RESUME_CHAIN, 7, 0, 0, 100);
	submit(g, &p, 0, 7, &set);
	ck_assert_int_eq(ist_gov_proposal_get(g, 2)->status, IST_GOV_PASSED);
	ck_assert_uint_eq(ist_gov_proposal_get(g, 2)->decided, 7);
	ck_assert(!ist_gov_chain_paused(g, 7));
	/* u64 stakes near the top do not overflow the tally */
	static const uint64_t huge[3] = { UINT64_MAX / 3, UINT64_MAX / 3, UINT64_MAX / 3 };
	set = set_of(3, huge);
	p = propose_tx(IST_GOV_PAUSE_CHAIN, 8, 0, 0, 100);
	submit(g, &p, 0, 8, &set);
	struct ist_tx y3 = vote_tx(3, true);
	submit(g, &y3, 1, 8, &set);
	ck_assert_int_eq(ist_gov_proposal_get(g, 3)->status, IST_GOV_OPEN);   /* exactly 2/3 */
	submit(g, &y3, 2, 9, &set);
	ck_assert_int_eq(ist_gov_proposal_get(g, 3)->status, IST_GOV_PASSED);
	ist_gov_free(g);
}
END_TEST

START_TEST(expiry_and_set_changes)
{
	struct ist_gov *g = ist_gov_new();
	static const uint64_t s[NV] = { 1, 1, 1, 1 };
	struct ist_gov_set set = set_of(NV, s);
	struct ist_tx p = propose_tx(IST_GOV_PAUSE_ROUTE, 0, 1, 2, 5);
	submit(g, &p, 0, 10, &set);
	struct ist_tx yes = vote_tx(1, true);
	submit(g, &yes, 1, 11, &set);
	const struct ist_gov_proposal *pr = ist_gov_proposal_get(g, 1);
	ck_assert_uint_eq(pr->closes, 15);
	ist_gov_step(g, 14, &set);
	ck_assert_int_eq(pr->status, IST_GOV_OPEN);
	ist_gov_step(g, 15, &set);
	ck_assert_int_eq(pr->status, IST_GOV_REJECTED);
	ck_assert_uint_eq(pr->decided, 15);
	ck_assert(!ist_gov_route_paused(g, 1, 2));
	ist_gov_step(g, 16, &set);   /* closed stays closed */
	ck_assert_int_eq(pr->status, IST_GOV_REJECTED);
	ck_assert_uint_eq(pr->decided, 15);

	/* a vote of a validator that left the set does not count; the set
	 * shrinking under the yes votes passes the proposal at the next step */
	p = propose_tx(IST_GOV_PAUSE_ROUTE, 0, 2, 1, 50);
	submit(g, &p, 0, 20, &set);
	submit(g, &(struct ist_tx){ .kind = IST_TX_GOV_VOTE, .u.gov_vote = { 2, true } }, 1, 21, &set);
	pr = ist_gov_proposal_get(g, 2);
	ck_assert_int_eq(pr->status, IST_GOV_OPEN);
	static const uint64_t two[2] = { 1, 1 };
	struct ist_gov_set small = set_of(2, two);   /* validators 0 and 1 only */
	ist_gov_step(g, 22, &small);
	ck_assert_int_eq(pr->status, IST_GOV_PASSED);
	ck_assert_uint_eq(pr->decided, 22);
	ck_assert_uint_eq(pr->total_stake, 2);
	ck_assert(ist_gov_route_paused(g, 2, 1));
	ck_assert(!ist_gov_route_paused(g, 1, 2));
	/* yes votes of validators outside the set count nothing */
	p = propose_tx(IST_GOV_PAUSE_CHAIN, 5, 0, 0, 50);
	set = set_of(NV, s);
	submit(g, &p, 0, 30, &set);
	ck_assert_int_eq(ist_gov_apply(g, &(struct ist_tx){ .kind = IST_TX_GOV_VOTE, .u.gov_vote = { 3, true } },
				       keys[4], 31, &set), 0);
	ck_assert_uint_eq(ist_gov_proposal_get(g, 3)->yes_stake, 1);
	ist_gov_free(g);
}
END_TEST

/* Passes a proposal of `action` at once (validator 0 holds all the stake). */
static void decide(struct ist_gov *g, uint32_t action, uint64_t chain, uint64_t src, uint64_t dst, uint64_t h)
{
	static const uint64_t s[1] = { 10 };
	struct ist_gov_set set = set_of(1, s);
	struct ist_tx p = propose_tx(action, chain, src, dst, 10);
	submit(g, &p, 0, h, &set);
}

START_TEST(pause_and_resume)
{
	struct ist_gov *g = ist_gov_new();
	const uint64_t *chains;
	const struct ist_gov_route *routes;
	decide(g, IST_GOV_PAUSE_CHAIN, 1, 0, 0, 1);
	ck_assert(ist_gov_chain_paused(g, 1));
	ck_assert(!ist_gov_chain_paused(g, 2));
	ck_assert(ist_gov_route_paused(g, 1, 2));   /* from the chain */
	ck_assert(ist_gov_route_paused(g, 3, 1));   /* to the chain */
	ck_assert(!ist_gov_route_paused(g, 2, 3));
	decide(g, IST_GOV_PAUSE_CHAIN, 1, 0, 0, 2);   /* twice: still one entry */
	ck_assert_uint_eq(ist_gov_paused_chains(g, &chains), 1);
	ck_assert_uint_eq(chains[0], 1);
	decide(g, IST_GOV_PAUSE_ROUTE, 0, 2, 3, 3);
	decide(g, IST_GOV_PAUSE_ROUTE, 0, 2, 3, 4);
	ck_assert_uint_eq(ist_gov_paused_routes(g, &routes), 1);
	ck_assert_uint_eq(routes[0].src, 2);
	ck_assert_uint_eq(routes[0].dst, 3);
	ck_assert(ist_gov_route_paused(g, 2, 3));
	ck_assert(!ist_gov_route_paused(g, 3, 2));   /* a route has a direction */
	/* resuming what is not paused changes nothing */
	decide(g, IST_GOV_RESUME_CHAIN, 9, 0, 0, 5);
	decide(g, IST_GOV_RESUME_ROUTE, 0, 3, 2, 6);
	ck_assert_uint_eq(ist_gov_paused_chains(g, &chains), 1);
	ck_assert_uint_eq(ist_gov_paused_routes(g, &routes), 1);
	/* resuming the chain leaves the paused route paused */
	decide(g, IST_GOV_RESUME_CHAIN, 1, 0, 0, 7);
	ck_assert_uint_eq(ist_gov_paused_chains(g, &chains), 0);
	ck_assert(!ist_gov_route_paused(g, 1, 2));
	ck_assert(ist_gov_route_paused(g, 2, 3));
	/* a route on a paused chain stays paused after the route's own resume */
	decide(g, IST_GOV_PAUSE_CHAIN, 3, 0, 0, 8);
	decide(g, IST_GOV_RESUME_ROUTE, 0, 2, 3, 9);
	ck_assert_uint_eq(ist_gov_paused_routes(g, &routes), 0);
	ck_assert(ist_gov_route_paused(g, 2, 3));
	decide(g, IST_GOV_RESUME_CHAIN, 3, 0, 0, 10);
	ck_assert(!ist_gov_route_paused(g, 2, 3));
	ist_gov_free(g);
}
END_TEST

START_TEST(kept_proposals)
{
	struct ist_gov *g = ist_gov_new();
	static const uint64_t s[NV] = { 1, 1, 1, 1 };
	struct ist_gov_set set = set_of(NV, s);
	struct ist_tx p = propose_tx(IST_GOV_PAUSE_CHAIN, 1, 0, 0, 1);
	/* one open proposal that stays open, then 300 that close at once */
	struct ist_tx longp = propose_tx(IST_GOV_PAUSE_CHAIN, 2, 0, 0, 100000);
	submit(g, &longp, 0, 1, &set);
	for (uint64_t h = 2; h < 302; h++) {
		submit(g, &p, 0, h, &set);
		ist_gov_step(g, h + 1, &set);
	}
	ck_assert_uint_eq(ist_gov_n_proposals(g), IST_GOV_MAX_KEPT);
	ck_assert_uint_eq(ist_gov_proposal_at(g, 0)->id, 1);   /* the open one is kept */
	ck_assert_int_eq(ist_gov_proposal_at(g, 0)->status, IST_GOV_OPEN);
	ck_assert_uint_eq(ist_gov_proposal_at(g, 1)->id, 301 - IST_GOV_MAX_KEPT + 2);
	ck_assert_uint_eq(ist_gov_proposal_at(g, IST_GOV_MAX_KEPT - 1)->id, 301);
	ck_assert_ptr_null(ist_gov_proposal_at(g, IST_GOV_MAX_KEPT));
	ck_assert_ptr_null(ist_gov_proposal_get(g, 2));
	ist_gov_free(g);
}
END_TEST

/* A state with proposals of every status, votes both ways and pauses. */
static struct ist_gov *sample(void)
{
	struct ist_gov *g = ist_gov_new();
	static const uint64_t s[NV] = { 1, 1, 1, 1 };
	struct ist_gov_set set = set_of(NV, s);
	struct ist_tx p = propose_tx(IST_GOV_PAUSE_ROUTE, 0, 1, 2, 5);
	submit(g, &p, 0, 1, &set);
	submit(g, &(struct ist_tx){ .kind = IST_TX_GOV_VOTE, .u.gov_vote = { 1, true } }, 1, 2, &set);
	submit(g, &(struct ist_tx){ .kind = IST_TX_GOV_VOTE, .u.gov_vote = { 1, true } }, 2, 2, &set);   /* passes */
	p = propose_tx(IST_GOV_PAUSE_CHAIN, 4, 0, 0, 3);
	submit(g, &p, 1, 3, &set);
	submit(g, &(struct ist_tx){ .kind = IST_TX_GOV_VOTE, .u.gov_vote = { 2, false } }, 3, 4, &set);
	ist_gov_step(g, 6, &set);   /* 2 rejected */
	decide(g, IST_GOV_PAUSE_CHAIN, 9, 0, 0, 7);
	p = propose_tx(IST_GOV_RESUME_ROUTE, 0, 1, 2, 100);
	submit(g, &p, 2, 8, &set);   /* open */
	return g;
}

static void encode(const struct ist_gov *g, struct ist_buf *b)
{
	ist_buf_init(b, 0);
	ist_gov_encode(g, b);
	ck_assert_int_eq(ist_buf_err(b), 0);
}

START_TEST(record_round_trip)
{
	struct ist_gov *g = sample();
	struct ist_buf b, b2;
	encode(g, &b);
	struct ist_gov *k = ist_gov_new();
	ck_assert_int_eq(ist_gov_decode(k, b.data, b.len), 0);
	ck_assert(!ist_gov_dirty(k));
	encode(k, &b2);
	ck_assert_uint_eq(b.len, b2.len);
	ck_assert_mem_eq(b.data, b2.data, b.len);
	ck_assert_uint_eq(ist_gov_n_proposals(k), 4);
	ck_assert_int_eq(ist_gov_proposal_get(k, 1)->status, IST_GOV_PASSED);
	ck_assert_int_eq(ist_gov_proposal_get(k, 2)->status, IST_GOV_REJECTED);
	ck_assert(!ist_gov_proposal_get(k, 2)->votes[1].approve);
	ck_assert_int_eq(ist_gov_proposal_get(k, 4)->status, IST_GOV_OPEN);
	ck_assert(ist_gov_route_paused(k, 1, 2));
	ck_assert(ist_gov_chain_paused(k, 9));
	/* numbering goes on where it was */
	static const uint64_t s[1] = { 1 };
	struct ist_gov_set set = set_of(1, s);
	struct ist_tx p = propose_tx(IST_GOV_PAUSE_CHAIN, 3, 0, 0, 10);
	submit(k, &p, 0, 9, &set);
	ck_assert_uint_eq(ist_gov_proposal_at(k, 4)->id, 5);
	/* dirty and clean */
	ck_assert(ist_gov_dirty(k));
	ist_gov_clean(k);
	ck_assert(!ist_gov_dirty(k));
	ist_buf_fini(&b2);
	ist_buf_fini(&b);
	ist_gov_free(k);
	ist_gov_free(g);
}
END_TEST

/* decode(bad) fails with -IST_EDB_CORRUPT and leaves k as it was. */
static void corrupt(struct ist_gov *k, const uint8_t *p, size_t len, const struct ist_buf *was)
{
	ck_assert_int_eq(ist_gov_decode(k, p, len), -IST_EDB_CORRUPT);
	struct ist_buf now;
	encode(k, &now);
	ck_assert_uint_eq(now.len, was->len);
	ck_assert_mem_eq(now.data, was->data, was->len);
	ist_buf_fini(&now);
}

START_TEST(corrupt_records)
{
	struct ist_gov *g = sample(), *k = sample();
	struct ist_buf b;
	encode(g, &b);
	/* every truncation, and one byte too many */
	for (size_t len = 0; len < b.len; len++)
		corrupt(k, b.data, len, &b);
	uint8_t *x = malloc(b.len + 1);
	ck_assert_ptr_nonnull(x);
	memcpy(x, b.data, b.len);
	x[b.len] = 0;
	corrupt(k, x, b.len + 1, &b);
	/* another version */
	x[0] = 3;
	corrupt(k, x, b.len, &b);
	x[0] = b.data[0];
	/* counts beyond their bounds: paused chains (offset 9) */
	size_t off = 1 + 8;
	memset(x + off, 0xff, 4);
	corrupt(k, x, b.len, &b);
	memcpy(x, b.data, b.len);
	/* a status byte out of range: the first proposal's, after the pauses
	 * (1 chain, 1 route) and its fields before the status */
	size_t first = 1 + 8 + 4 + 8 + 4 + 16 + 4;
	/* id, proposer, action, chain, src, dst, limits (5), release_through,
	 * param, param_value, created, closes */
	size_t st = first + 8 + 32 + 4 + 8 * 3 + 8 * 5 + 8 + 4 + 8 + 8 * 2;
	ck_assert_uint_eq(b.data[st], IST_GOV_PASSED);
	x[st] = 0;
	corrupt(k, x, b.len, &b);
	x[st] = 4;
	corrupt(k, x, b.len, &b);
	x[st] = b.data[st];
	/* too many votes */
	size_t nv = st + 1 + 8 * 3;
	ck_assert_uint_eq(b.data[nv + 1], 3);
	x[nv] = 0xff;
	corrupt(k, x, b.len, &b);
	/* the unchanged bytes still decode */
	memcpy(x, b.data, b.len);
	ck_assert_int_eq(ist_gov_decode(k, x, b.len), 0);
	free(x);
	ist_buf_fini(&b);
	ist_gov_free(k);
	ist_gov_free(g);
}

/* A record of version 1 (before route limits) still loads: its pauses
 * and proposals, with no limits and no parameters. */
START_TEST(record_version_1)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put_u8(&b, 1);
	ist_buf_put_be64(&b, 3);          /* next id */
	ist_buf_put_be32(&b, 1);
	ist_buf_put_be64(&b, 7);          /* chain 7 paused */
	ist_buf_put_be32(&b, 0);
	ist_buf_put_be32(&b, 1);          /* one proposal */
	ist_buf_put_be64(&b, 2);
	uint8_t proposer[32] = { 1 };
	ist_buf_put(&b, proposer, 32);
	ist_buf_put_be32(&b, IST_GOV_PAUSE_CHAIN);
	ist_buf_put_be64(&b, 7);
	ist_buf_put_be64(&b, 0);
	ist_buf_put_be64(&b, 0);
	ist_buf_put_be64(&b, 10);         /* created */
	ist_buf_put_be64(&b, 20);         /* closes */
	ist_buf_put_u8(&b, IST_GOV_PASSED);
	ist_buf_put_be64(&b, 12);
	ist_buf_put_be64(&b, 3);
	ist_buf_put_be64(&b, 4);
	ist_buf_put_be16(&b, 0);
	ck_assert_int_eq(ist_buf_err(&b), 0);
	struct ist_gov *g = ist_gov_new();
	ck_assert_int_eq(ist_gov_decode(g, b.data, b.len), 0);
	ck_assert(ist_gov_chain_paused(g, 7));
	const struct ist_gov_proposal *p = ist_gov_proposal_get(g, 2);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->closes, 20);
	ck_assert_uint_eq(p->decided, 12);
	const struct ist_gov_route_state *rs;
	ck_assert_uint_eq(ist_gov_routes(g, &rs), 0);
	ist_buf_fini(&b);
	ist_gov_free(g);
}
END_TEST

/* ---- route limits ---- */

#define NL 16
static struct ist_gov_leaf leaves[NL];
static size_t n_leaves;

static int leaf_of(void *ctx, uint64_t index, struct ist_gov_leaf *ret)
{
	(void)ctx;
	if (index >= n_leaves)
		return -IST_ENOTFOUND;
	*ret = leaves[index];
	return 0;
}

/* Appends a leaf observed at height h worth v. */
static void add_leaf(uint64_t h, uint64_t v)
{
	ck_assert_uint_lt(n_leaves, NL);
	leaves[n_leaves] = (struct ist_gov_leaf){ h, v, (n_leaves ? leaves[n_leaves - 1].cum_value : 0) + v };
	n_leaves++;
}

/* The leaves observed up to source height s. */
static uint64_t size_at(uint64_t s)
{
	uint64_t k = 0;
	while (k < n_leaves && leaves[k].height <= s)
		k++;
	return k;
}

/* ist_gov_allowed on route 1->2 at source height s. */
static uint64_t allowed(const struct ist_gov *g, uint64_t s, struct ist_gov_hold *hold)
{
	uint64_t m = UINT64_MAX;
	ck_assert_int_eq(ist_gov_allowed(ist_gov_route(g, 1, 2), s, size_at(s), leaf_of, NULL, &m, hold), 0);
	return m;
}

/* Passes a set_route_limits proposal for 1->2 at height h (validators 0..2 of 4 vote yes). */
static void pass_limits(struct ist_gov *g, uint64_t h, struct ist_gov_limits l)
{
	static const uint64_t s[NV] = { 1, 1, 1, 1 };
	struct ist_gov_set set = set_of(NV, s);
	struct ist_tx t = propose_tx(IST_GOV_SET_ROUTE_LIMITS, 0, 1, 2, 10);
	t.u.gov_propose.window_blocks = l.window_blocks;
	t.u.gov_propose.max_count = l.max_count;
	t.u.gov_propose.max_value = l.max_value;
	t.u.gov_propose.high_value = l.high_value;
	t.u.gov_propose.delay_blocks = l.delay_blocks;
	submit(g, &t, 0, h, &set);
	uint64_t id = ist_gov_proposal_at(g, ist_gov_n_proposals(g) - 1)->id;
	struct ist_tx v = vote_tx(id, true);
	submit(g, &v, 1, h, &set);
	submit(g, &v, 2, h, &set);
	ck_assert_int_eq(ist_gov_proposal_get(g, id)->status, IST_GOV_PASSED);
}

START_TEST(limits_checks)
{
	struct ist_gov *g = ist_gov_new();
	ck_assert_ptr_nonnull(g);
	struct ist_tx t = propose_tx(IST_GOV_SET_ROUTE_LIMITS, 0, 2, 2, 10);
	refused(g, &t, keys[0], true, "two different chains");
	t = propose_tx(IST_GOV_SET_ROUTE_LIMITS, 0, 1, 2, 10);
	t.u.gov_propose.window_blocks = 10;
	refused(g, &t, keys[0], true, "max_count is 1 to 100000 (got 0)");
	t.u.gov_propose.window_blocks = 0;
	t.u.gov_propose.max_value = 5;
	refused(g, &t, keys[0], true, "need a window");
	t.u.gov_propose.max_value = 0;
	t.u.gov_propose.high_value = 5;
	refused(g, &t, keys[0], true, "high_value and delay_blocks go together");
	t = propose_tx(IST_GOV_SET_PARAM, 0, 0, 0, 10);
	t.u.gov_propose.param = 99;
	refused(g, &t, keys[0], true, "unknown parameter 99");
	t = propose_tx(IST_GOV_RELEASE_HELD, 0, 0, 2, 10);
	refused(g, &t, keys[0], true, "two different chains");
	ck_assert_str_eq(ist_gov_param_name(IST_GOV_PARAM_MAX_VALIDATORS), "max_validators");
	ck_assert_uint_eq(ist_gov_param_by_name("min_stake"), IST_GOV_PARAM_MIN_STAKE);
	ck_assert_uint_eq(ist_gov_param_by_name("epoch_length_blocks"), 0);
	ist_gov_free(g);
}
END_TEST

START_TEST(window_count)
{
	struct ist_gov *g = ist_gov_new();
	ck_assert_ptr_nonnull(g);
	n_leaves = 0;
	for (int i = 0; i < 5; i++)
		add_leaf(100, 1);
	add_leaf(104, 1);
	/* no limits: everything observed */
	ck_assert_uint_eq(allowed(g, 100, NULL), 5);
	ist_gov_checkpoint(g, 1, 2, 50, 0);   /* nothing: a size must grow */
	pass_limits(g, 7, (struct ist_gov_limits){ .window_blocks = 10, .max_count = 3 });
	struct ist_gov_hold h;
	ck_assert_uint_eq(allowed(g, 100, &h), 3);
	ck_assert_int_eq(h.rule, IST_GOV_HOLD_COUNT);
	ck_assert_uint_eq(h.index, 3);
	ck_assert_uint_eq(h.release_height, 0);   /* needs a checkpoint first */
	ck_assert_str_eq(ist_gov_hold_rule_name(h.rule), "window_count");
	/* a checkpoint of 3 at 100 commits: leaf 3 passes once 100 leaves the window */
	ist_gov_checkpoint(g, 1, 2, 100, 3);
	ck_assert_uint_eq(allowed(g, 105, &h), 3);
	ck_assert_uint_eq(h.index, 3);
	ck_assert_uint_eq(h.release_height, 110);
	ck_assert_uint_eq(allowed(g, 109, NULL), 3);
	ck_assert_uint_eq(allowed(g, 110, &h), 6);   /* the window slid: 3, 4 and 5 fit */
	ck_assert_int_eq(h.rule, IST_GOV_HOLD_NONE);
	/* the routes record keeps it; the governance record does not touch it */
	ck_assert(ist_gov_routes_dirty(g));
	struct ist_buf b, b2;
	ist_buf_init(&b, 0);
	ist_gov_routes_encode(g, &b);
	ck_assert_int_eq(ist_buf_err(&b), 0);
	encode(g, &b2);
	struct ist_gov *k = ist_gov_new();
	ck_assert_int_eq(ist_gov_routes_decode(k, b.data, b.len), 0);
	ck_assert_int_eq(ist_gov_decode(k, b2.data, b2.len), 0);
	ck_assert_uint_eq(allowed(k, 105, NULL), 3);
	ck_assert_uint_eq(allowed(k, 110, NULL), 6);
	/* every truncation of the routes record is refused, nothing changed */
	for (size_t len = 0; len < b.len; len++)
		ck_assert_int_eq(ist_gov_routes_decode(k, b.data, len), -IST_EDB_CORRUPT);
	ck_assert_uint_eq(allowed(k, 105, NULL), 3);
	ist_buf_fini(&b);
	ist_buf_fini(&b2);
	ist_gov_free(k);
	/* limits removed: everything again */
	pass_limits(g, 8, (struct ist_gov_limits){ 0 });
	ck_assert_uint_eq(allowed(g, 105, NULL), 6);
	ist_gov_free(g);
}
END_TEST

START_TEST(window_value_and_delay)
{
	struct ist_gov *g = ist_gov_new();
	ck_assert_ptr_nonnull(g);
	n_leaves = 0;
	add_leaf(10, 4);     /* 0 */
	add_leaf(10, 5);     /* 1: 9 together */
	add_leaf(11, 2);     /* 2: 11 > 10, held */
	add_leaf(30, 100);   /* 3: worth more than the window, alone */
	add_leaf(30, 1);     /* 4 */
	pass_limits(g, 3, (struct ist_gov_limits){ .window_blocks = 5, .max_count = 100, .max_value = 10 });
	struct ist_gov_hold h;
	ck_assert_uint_eq(allowed(g, 11, &h), 2);
	ck_assert_int_eq(h.rule, IST_GOV_HOLD_VALUE);
	ck_assert_uint_eq(h.index, 2);
	ist_gov_checkpoint(g, 1, 2, 10, 2);
	ck_assert_uint_eq(allowed(g, 12, &h), 2);
	ck_assert_uint_eq(h.release_height, 15);
	ck_assert_uint_eq(allowed(g, 15, NULL), 3);
	ist_gov_checkpoint(g, 1, 2, 15, 3);
	/* leaf 3 alone in an empty window passes; 4 waits behind it */
	ck_assert_uint_eq(allowed(g, 30, &h), 4);
	ck_assert_int_eq(h.rule, IST_GOV_HOLD_VALUE);
	ck_assert_uint_eq(h.index, 4);
	ist_gov_checkpoint(g, 1, 2, 30, 4);
	ck_assert_uint_eq(allowed(g, 34, NULL), 4);
	ck_assert_uint_eq(allowed(g, 35, NULL), 5);

	/* a delay rule on a fresh route: the high-value message waits, the
	 * one behind it too, in order */
	struct ist_gov *d = ist_gov_new();
	n_leaves = 0;
	add_leaf(10, 1);     /* 0 */
	add_leaf(11, 60);    /* 1: above 50, waits 7 blocks: passes at 18 */
	add_leaf(12, 1);     /* 2: behind it */
	pass_limits(d, 3, (struct ist_gov_limits){ .high_value = 50, .delay_blocks = 7 });
	ck_assert_uint_eq(allowed(d, 12, &h), 1);
	ck_assert_int_eq(h.rule, IST_GOV_HOLD_DELAY);
	ck_assert_uint_eq(h.index, 1);
	ck_assert_uint_eq(h.release_height, 18);
	ck_assert_str_eq(ist_gov_hold_rule_name(h.rule), "high_value_delay");
	ck_assert_uint_eq(allowed(d, 17, NULL), 1);
	ck_assert_uint_eq(allowed(d, 18, NULL), 3);
	/* released early by governance */
	static const uint64_t s[NV] = { 1, 1, 1, 1 };
	struct ist_gov_set set = set_of(NV, s);
	struct ist_tx t = propose_tx(IST_GOV_RELEASE_HELD, 0, 1, 2, 10);
	t.u.gov_propose.release_through = 1;
	submit(d, &t, 0, 4, &set);
	ck_assert_uint_eq(allowed(d, 12, NULL), 1);   /* not passed yet */
	struct ist_tx v = vote_tx(2, true);
	submit(d, &v, 1, 4, &set);
	submit(d, &v, 3, 4, &set);
	ck_assert_uint_eq(allowed(d, 12, &h), 3);
	ck_assert_uint_eq(ist_gov_route(d, 1, 2)->released, 2);
	ist_gov_free(d);
	ist_gov_free(g);
}
END_TEST

START_TEST(param_changes)
{
	struct ist_gov *g = ist_gov_new();
	ck_assert_ptr_nonnull(g);
	static const uint64_t s[NV] = { 1, 1, 1, 1 };
	struct ist_gov_set set = set_of(NV, s);
	struct ist_tx t = propose_tx(IST_GOV_SET_PARAM, 0, 0, 0, 10);
	t.u.gov_propose.param = IST_GOV_PARAM_MIN_STAKE;
	t.u.gov_propose.param_value = 77;
	submit(g, &t, 0, 1, &set);
	const struct ist_gov_param_set *ps;
	ck_assert_uint_eq(ist_gov_params(g, &ps), 0);
	struct ist_tx v = vote_tx(1, true);
	submit(g, &v, 1, 2, &set);
	submit(g, &v, 2, 2, &set);
	ck_assert_uint_eq(ist_gov_params(g, &ps), 1);
	ck_assert_uint_eq(ps[0].param, IST_GOV_PARAM_MIN_STAKE);
	ck_assert_uint_eq(ps[0].value, 77);
	/* a later change of the same parameter replaces it */
	t.u.gov_propose.param_value = 78;
	submit(g, &t, 0, 3, &set);
	v = vote_tx(2, true);
	submit(g, &v, 1, 3, &set);
	submit(g, &v, 3, 3, &set);
	ck_assert_uint_eq(ist_gov_params(g, &ps), 1);
	ck_assert_uint_eq(ps[0].value, 78);
	ist_gov_free(g);
}
END_TEST
END_TEST

int main(void)
{
	Suite *s = suite_create("gov");
	TCase *tc = tcase_create("gov");
	tcase_add_checked_fixture(tc, make_keys, NULL);
	tcase_add_test(tc, checks_and_reasons);
	tcase_add_test(tc, more_than_two_thirds);
	tcase_add_test(tc, expiry_and_set_changes);
	tcase_add_test(tc, pause_and_resume);
	tcase_add_test(tc, kept_proposals);
	tcase_add_test(tc, record_round_trip);
	tcase_add_test(tc, corrupt_records);
	tcase_add_test(tc, record_version_1);
	tcase_add_test(tc, limits_checks);
	tcase_add_test(tc, window_count);
	tcase_add_test(tc, window_value_and_delay);
	tcase_add_test(tc, param_changes);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
