/*
 * The automatic circuit breakers (src/state/breaker.h) on their own, with
 * the governance they pause chains in: reports below and above 1/3 of the
 * stake (exactly 1/3 does not trip), one report per validator per chain,
 * reporters outside the current set, a set change, conflicting-checkpoint
 * offenders of one epoch, a passed resume_chain that clears the tally and
 * makes the resumed violation's reports stale, and the persisted record
 * (round trip; corruptions refused, nothing changed). The ledger's side
 * (signed reports in blocks) is in test_ledger.c.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "gov_fixture.h"
#include "lib/ist_test.h"
#include "state/breaker.h"
#include "state/gov.h"

static void make_keys(void)
{
	make_keys_from(0xb0);
}

/* Validator v reports chain at source height sh in block h: the check must pass. */
static void report(struct ist_breaker *b, const struct ist_gov_set *set, int v, uint64_t chain, uint64_t sh, uint64_t h)
{
	char why[200] = "";
	ck_assert_msg(ist_breaker_report_check(b, set, chain, keys[v], sh, why, sizeof(why)) == 0, "refused: %s", why);
	ck_assert_int_eq(ist_breaker_report_add(b, chain, keys[v], sh, h), 0);
}

/* The check refuses validator v's report with a reason containing want. */
static void refused(const struct ist_breaker *b, const struct ist_gov_set *set, int v, uint64_t chain, uint64_t sh,
		    const char *want)
{
	char why[200] = "";
	ck_assert_int_eq(ist_breaker_report_check(b, set, chain, keys[v], sh, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, want) != NULL, "reason '%s' lacks '%s'", why, want);
}

static const struct ist_breaker_chain *chain_of(const struct ist_breaker *b, uint64_t chain)
{
	const struct ist_breaker_chain *c = ist_breaker_chain_get(b, chain);
	ck_assert_ptr_nonnull(c);
	return c;
}

START_TEST(more_than_a_third)
{
	struct ist_breaker *b = ist_breaker_new();
	struct ist_gov *g = ist_gov_new();
	/* 3 of 9 is exactly 1/3: no trip; 4 of 9 is more */
	struct ist_gov_set set = set_of(NV, (const uint64_t[]){ 3, 1, 2, 3 });
	report(b, &set, 1, 7, 100, 10);
	report(b, &set, 2, 7, 101, 11);
	ist_breaker_step(b, g, 11, &set);
	ck_assert(!chain_of(b, 7)->tripped);
	ck_assert(!ist_gov_chain_paused(g, 7));
	/* a report for another chain counts for that one only */
	report(b, &set, 3, 8, 5, 12);
	ist_breaker_step(b, g, 12, &set);
	ck_assert(!chain_of(b, 7)->tripped);
	ck_assert(!chain_of(b, 8)->tripped);
	/* the same validator again: refused, counted once */
	refused(b, &set, 1, 7, 100, "counted already");
	refused(b, &set, 1, 7, 120, "counted already");
	ck_assert_uint_eq(chain_of(b, 7)->n_reports, 2);
	/* outside the set: refused */
	refused(b, &set, 4, 7, 100, "not a validator of the current set");
	/* validator 0's report makes 6 of 9 */
	report(b, &set, 0, 7, 100, 13);
	ck_assert(!chain_of(b, 7)->tripped);   /* only after the block */
	ist_breaker_step(b, g, 13, &set);
	const struct ist_breaker_chain *c = chain_of(b, 7);
	ck_assert(c->tripped);
	ck_assert_uint_eq(c->tripped_at, 13);
	ck_assert_int_eq(c->reason, IST_BREAKER_FINALITY_VIOLATION);
	ck_assert_str_eq(ist_breaker_reason_name(c->reason), "finality_violation");
	/* paused as governance pauses: every route from or to it */
	ck_assert(ist_gov_chain_paused(g, 7));
	ck_assert(ist_gov_route_paused(g, 7, 8));
	ck_assert(ist_gov_route_paused(g, 9, 7));
	ck_assert(!ist_gov_route_paused(g, 8, 9));
	ck_assert(ist_gov_dirty(g));
	/* a tripped chain still counts who saw the violation, once each */
	report(b, &set, 3, 7, 104, 14);
	ist_breaker_step(b, g, 14, &set);
	ck_assert_uint_eq(chain_of(b, 7)->n_reports, 4);
	ck_assert_uint_eq(chain_of(b, 7)->tripped_at, 13);
	refused(b, &set, 3, 7, 104, "counted already");
	/* the API's JSON names it, with its reporters */
	struct ist_buf j;
	ist_buf_init(&j, 0);
	ist_breaker_json(b, &j);
	ist_buf_put_u8(&j, 0);
	ck_assert_msg(strstr((char *)j.data, "{\"chain\":\"7\",\"tripped\":true,\"tripped_at\":13,"
				"\"reason\":\"finality_violation\",\"reporters\":[\"b1b1") != NULL, "%s", j.data);
	ck_assert_msg(strstr((char *)j.data, "{\"chain\":\"8\",\"tripped\":false,\"tripped_at\":null") != NULL, "%s",
		      j.data);
	ist_buf_fini(&j);
	ist_gov_free(g);
	ist_breaker_free(b);
}
END_TEST

/* Reporters count with their stake in the set of the tally: one that left
 * counts nothing, and a set change can trip the breaker. */
START_TEST(set_changes)
{
	struct ist_breaker *b = ist_breaker_new();
	struct ist_gov *g = ist_gov_new();
	struct ist_gov_set set = set_of(NV, (const uint64_t[]){ 1, 1, 1, 1 });
	report(b, &set, 3, 2, 50, 5);
	ist_breaker_step(b, g, 5, &set);
	ck_assert(!chain_of(b, 2)->tripped);   /* 1 of 4 */
	/* validator 3 leaves: its report counts nothing */
	struct ist_gov_set three = set_of(3, (const uint64_t[]){ 1, 1, 1 });
	report(b, &three, 0, 2, 50, 6);
	ist_breaker_step(b, g, 6, &three);
	ck_assert(!chain_of(b, 2)->tripped);   /* 1 of 3 */
	/* validator 0's stake grows: 3 of 5 */
	struct ist_gov_set grown = set_of(3, (const uint64_t[]){ 3, 1, 1 });
	ist_breaker_step(b, g, 7, &grown);
	ck_assert(chain_of(b, 2)->tripped);
	ck_assert_uint_eq(chain_of(b, 2)->tripped_at, 7);
	ck_assert(ist_gov_chain_paused(g, 2));
	ist_gov_free(g);
	ist_breaker_free(b);
}
END_TEST

/* Offenders of conflicting-checkpoints evidence for a source chain: more
 * than 1/3 of their epoch's stake trips it. */
START_TEST(conflicting_checkpoints)
{
	struct ist_breaker *b = ist_breaker_new();
	struct ist_gov *g = ist_gov_new();
	struct ist_gov_set set = set_of(NV, (const uint64_t[]){ 1, 1, 1, 1 });
	ck_assert_int_eq(ist_breaker_offence(b, 3, keys[0], 1, 100, 400), 0);
	ck_assert_int_eq(ist_breaker_offence(b, 3, keys[0], 1, 100, 400), 0);   /* once */
	/* another epoch's offender does not add up with epoch 1's */
	ck_assert_int_eq(ist_breaker_offence(b, 3, keys[1], 2, 100, 400), 0);
	ist_breaker_step(b, g, 20, &set);
	ck_assert(!chain_of(b, 3)->tripped);
	ck_assert_uint_eq(chain_of(b, 3)->n_offenders, 2);
	ck_assert_int_eq(ist_breaker_offence(b, 3, keys[2], 1, 100, 400), 0);
	ist_breaker_step(b, g, 21, &set);
	const struct ist_breaker_chain *c = chain_of(b, 3);
	ck_assert(c->tripped);
	ck_assert_int_eq(c->reason, IST_BREAKER_CONFLICTING_CHECKPOINTS);
	ck_assert(ist_gov_chain_paused(g, 3));
	ist_gov_free(g);
	ist_breaker_free(b);
}
END_TEST

static void gov_submit(struct ist_gov *g, const struct ist_tx *tx, int v, uint64_t h, const struct ist_gov_set *set)
{
	char why[200] = "";
	ck_assert_msg(ist_gov_check(g, tx, keys[v], true, why, sizeof(why)) == 0, "refused: %s", why);
	ck_assert_int_eq(ist_gov_apply(g, tx, keys[v], h, set), 0);
}

/* resume_chain of `chain` proposed by 0, passed with 1's and 2's votes, at h. */
static void resume(struct ist_gov *g, uint64_t chain, uint64_t h, const struct ist_gov_set *set)
{
	struct ist_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.kind = IST_TX_GOV_PROPOSE;
	tx.u.gov_propose.action = IST_GOV_RESUME_CHAIN;
	tx.u.gov_propose.chain = chain;
	tx.u.gov_propose.voting_blocks = 10;
	gov_submit(g, &tx, 0, h, set);
	uint64_t id = ist_gov_proposal_at(g, ist_gov_n_proposals(g) - 1)->id;
	memset(&tx, 0, sizeof(tx));
	tx.kind = IST_TX_GOV_VOTE;
	tx.u.gov_vote.proposal = id;
	tx.u.gov_vote.approve = true;
	gov_submit(g, &tx, 1, h, set);
	gov_submit(g, &tx, 2, h, set);
	ck_assert_int_eq(ist_gov_proposal_get(g, id)->status, IST_GOV_PASSED);
}

START_TEST(resume_clears)
{
	struct ist_breaker *b = ist_breaker_new();
	struct ist_gov *g = ist_gov_new();
	struct ist_gov_set set = set_of(NV, (const uint64_t[]){ 1, 1, 1, 1 });
	report(b, &set, 0, 4, 30, 5);
	report(b, &set, 1, 4, 31, 5);
	ist_breaker_step(b, g, 5, &set);
	ck_assert(chain_of(b, 4)->tripped);
	ck_assert(ist_gov_chain_paused(g, 4));
	/* a report below 1/3 for chain 5, cleared by a resume of chain 5 */
	report(b, &set, 2, 5, 9, 6);
	ist_breaker_step(b, g, 6, &set);
	resume(g, 4, 8, &set);
	resume(g, 5, 8, &set);
	ck_assert(!ist_gov_chain_paused(g, 4));
	ist_breaker_step(b, g, 8, &set);
	const struct ist_breaker_chain *c = chain_of(b, 4);
	ck_assert(!c->tripped);
	ck_assert_uint_eq(c->n_reports, 0);
	ck_assert_uint_eq(chain_of(b, 5)->n_reports, 0);
	ck_assert(!ist_gov_chain_paused(g, 4));
	/* the resumed violation's reports are stale: they do not trip it again */
	refused(b, &set, 2, 4, 31, "governance resumed the chain");
	refused(b, &set, 0, 4, 30, "governance resumed the chain");
	/* a later violation counts again */
	report(b, &set, 0, 4, 40, 9);
	report(b, &set, 3, 4, 41, 9);
	ist_breaker_step(b, g, 9, &set);
	ck_assert(chain_of(b, 4)->tripped);
	ck_assert(ist_gov_chain_paused(g, 4));
	/* nothing to show for a chain with a floor only */
	struct ist_buf j;
	ist_buf_init(&j, 0);
	ist_breaker_json(b, &j);
	ist_buf_put_u8(&j, 0);
	ck_assert_msg(strstr((char *)j.data, "\"chain\":\"5\"") == NULL, "%s", j.data);
	ist_buf_fini(&j);
	ist_gov_free(g);
	ist_breaker_free(b);
}
END_TEST

START_TEST(record_round_trip)
{
	struct ist_breaker *b = ist_breaker_new();
	struct ist_gov *g = ist_gov_new();
	struct ist_gov_set set = set_of(NV, (const uint64_t[]){ 1, 1, 1, 1 });
	report(b, &set, 0, 9, 70, 3);
	report(b, &set, 1, 9, 71, 3);
	report(b, &set, 2, 1, 5, 3);
	ck_assert_int_eq(ist_breaker_offence(b, 1, keys[3], 0, 1, 4), 0);
	ist_breaker_step(b, g, 3, &set);
	ck_assert(ist_breaker_dirty(b));
	struct ist_buf e;
	ist_buf_init(&e, 0);
	ist_breaker_encode(b, &e);
	ck_assert_int_eq(ist_buf_err(&e), 0);
	struct ist_breaker *k = ist_breaker_new();
	ck_assert_int_eq(ist_breaker_decode(k, e.data, e.len), 0);
	ck_assert(!ist_breaker_dirty(k));
	struct ist_buf e2;
	ist_buf_init(&e2, 0);
	ist_breaker_encode(k, &e2);
	ck_assert_uint_eq(e2.len, e.len);
	ck_assert(!memcmp(e2.data, e.data, e.len));
	ck_assert_uint_eq(ist_breaker_n_chains(k), 2);
	ck_assert(chain_of(k, 9)->tripped);
	ck_assert_uint_eq(chain_of(k, 9)->tripped_at, 3);
	ck_assert_uint_eq(chain_of(k, 1)->n_offenders, 1);
	/* corruptions: refused, the loaded state unchanged */
	uint8_t *x = malloc(e.len + 1);
	memcpy(x, e.data, e.len);
	ck_assert_int_eq(ist_breaker_decode(k, x, e.len - 1), -IST_EDB_CORRUPT);   /* truncated */
	x[e.len] = 0;
	ck_assert_int_eq(ist_breaker_decode(k, x, e.len + 1), -IST_EDB_CORRUPT);   /* trailing */
	x[0] = 2;
	ck_assert_int_eq(ist_breaker_decode(k, x, e.len), -IST_EDB_CORRUPT);       /* version */
	x[0] = e.data[0];
	x[1] = 0xff;
	ck_assert_int_eq(ist_breaker_decode(k, x, e.len), -IST_EDB_CORRUPT);       /* too many chains */
	x[1] = e.data[1];
	x[5 + 8] = 4;                                                               /* flags */
	ck_assert_int_eq(ist_breaker_decode(k, x, e.len), -IST_EDB_CORRUPT);
	x[5 + 8] = e.data[5 + 8];
	/* chains out of order: the second chain's id below the first's */
	memset(x + 5, 0xff, 8);
	ck_assert_int_eq(ist_breaker_decode(k, x, e.len), -IST_EDB_CORRUPT);
	ck_assert(chain_of(k, 9)->tripped);
	ck_assert_uint_eq(ist_breaker_n_chains(k), 2);
	free(x);
	ist_buf_fini(&e);
	ist_buf_fini(&e2);
	ist_breaker_free(k);
	ist_gov_free(g);
	ist_breaker_free(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("breaker");
	TCase *tc = tcase_create("breaker");
	tcase_add_checked_fixture(tc, make_keys, NULL);
	tcase_add_test(tc, more_than_a_third);
	tcase_add_test(tc, set_changes);
	tcase_add_test(tc, conflicting_checkpoints);
	tcase_add_test(tc, resume_clears);
	tcase_add_test(tc, record_round_trip);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
