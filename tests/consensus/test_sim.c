/*
 * Whole clusters in the simulator (sim.h): seeded safety schedules,
 * liveness after GST, partitions that heal, restarts around persists,
 * validators moved to a new disk with their safety state, an epoch change, a
 * validator catching up across many epochs (jailed out of their sets),
 * the regression seeds and determinism.
 *
 *   test_consensus_sim safety N FIRST COUNT   random schedules FIRST..FIRST+COUNT-1
 *   test_consensus_sim scale N FIRST COUNT    the same for large n (slow suite)
 *   test_consensus_sim scenarios              liveness, partition, restart, move,
 *                                             epoch, regression, determinism
 *
 * meson runs several ranges in parallel (tests/consensus/meson.build). A
 * failing schedule names its seed and the consensus-sim command that replays
 * it with a trace.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/sim.h"
#include "lib/ist_test.h"

/* Seeds per Check test: one TAP line each. */
#define CHUNK 50

static uint32_t g_n;
static uint64_t g_first, g_count;

static const char *replay_tool(void)
{
	const char *p = getenv("IST_CONS_SIM");
	return p && *p ? p : "build/tests/consensus/consensus-sim";
}

static void run_checked(const struct ist_sim_config *cfg, bool random, struct ist_sim_result *res)
{
	int r = ist_sim_run(cfg, res);
	ck_assert_msg(r == 0, "seed %" PRIu64 " n=%u: the simulator could not run (%d)", cfg->seed, cfg->n, r);
	ck_assert_msg(res->ok, "seed %" PRIu64 " n=%u: %s\n# replay: %s%s --seed %" PRIu64 " --n %u --trace", cfg->seed,
		      cfg->n, res->why, replay_tool(), random ? " --random" : "", cfg->seed, cfg->n);
}

/* ---- Random schedules ---- */

START_TEST(test_schedules)
{
	uint64_t from = g_first + (uint64_t)_i * CHUNK;
	uint64_t to = from + CHUNK;
	if (to > g_first + g_count)
		to = g_first + g_count;
	printf("# consensus schedules n=%u seeds %" PRIu64 "..%" PRIu64 "\n", g_n, from, to - 1);
	fflush(stdout);
	uint64_t live = 0, commits = 0;
	for (uint64_t seed = from; seed < to; seed++) {
		struct ist_sim_config cfg;
		ist_sim_config_random(&cfg, seed, g_n);
		struct ist_sim_result res;
		run_checked(&cfg, true, &res);
		live += cfg.check_liveness;
		commits += res.blocks;
	}
	printf("# n=%u seeds %" PRIu64 "..%" PRIu64 ": %" PRIu64 " with liveness checked, %" PRIu64
	       " heights committed\n", g_n, from, to - 1, live, commits);
	fflush(stdout);
}
END_TEST

/* ---- Scenarios ---- */

/* After GST, with f Byzantine validators doing everything they can, every
 * honest validator commits, with a bounded number of views between commits. */
START_TEST(test_liveness_after_gst)
{
	static const uint32_t ns[] = { 4, 7, 10 };
	for (size_t k = 0; k < 3; k++) {
		uint32_t n = ns[k], f = (n - 1) / 3;
		for (uint64_t seed = 1; seed <= 6; seed++) {
			struct ist_sim_config cfg;
			ist_sim_config_default(&cfg, 7000 + seed, n);
			cfg.gst_ms = 3000;
			cfg.loss_pm = 300;
			cfg.dup_pm = 50;
			cfg.slow_pm = 200;
			/* the Byzantine leaders next to each other: the worst place */
			cfg.n_byz = f;
			for (uint32_t i = 0; i < f; i++)
				cfg.byz_nodes[i] = 1 + i + (uint32_t)(seed % 2) * (n - f - 1);
			cfg.byz_mask = seed <= 2 ? IST_SIM_BYZ_ALL
				       : seed <= 4 ? IST_SIM_BYZ_WITHHOLD | IST_SIM_BYZ_EQUIVOCATE
						   : IST_SIM_BYZ_BAD_PAYLOAD | IST_SIM_BYZ_DOUBLE_VOTE;
			cfg.check_liveness = true;
			cfg.live_from_ms = cfg.gst_ms + 2 * cfg.timeout_max_ms + 4 * cfg.delta_ms;
			cfg.end_ms = cfg.live_from_ms + 60 * cfg.timeout_base_ms;
			cfg.min_new_commits = 10;
			/* three honest leaders in a row commit; the round robin gives
			 * at most f faulty leaders between them */
			cfg.max_view_gap = f + 4;
			struct ist_sim_result res;
			run_checked(&cfg, false, &res);
			printf("# liveness n=%u seed %" PRIu64 ": %" PRIu64 " new commits, at most %" PRIu64
			       " views between commits\n", n, cfg.seed, res.min_new_commits, res.max_view_gap);
		}
	}
	fflush(stdout);
}
END_TEST

/* A partition with no quorum on either side: nothing commits during it;
 * after it heals, progress resumes. */
START_TEST(test_partition_heals)
{
	static const uint32_t ns[] = { 4, 7, 10 };
	for (size_t k = 0; k < 3; k++) {
		uint32_t n = ns[k];
		struct ist_sim_config cfg;
		ist_sim_config_default(&cfg, 8000 + n, n);
		cfg.n_partitions = 1;
		cfg.partitions[0].start_ms = 1500;
		cfg.partitions[0].end_ms = 9000;
		for (uint32_t i = 0; i < n; i++)
			cfg.partitions[0].side[i] = i < n / 2;
		cfg.gst_ms = 9000;   /* the heal is the stabilisation */
		cfg.end_ms = 9000;
		struct ist_sim_result before;
		run_checked(&cfg, false, &before);
		/* the same run, longer: the same schedule up to 9 s, then healed */
		cfg.check_liveness = true;
		cfg.live_from_ms = 9000;
		cfg.end_ms = 9000 + 40 * cfg.timeout_base_ms;
		cfg.min_new_commits = 5;
		struct ist_sim_result after;
		run_checked(&cfg, false, &after);
		ck_assert_uint_eq(after.max_view_gap <= 4 * n, 1);
		printf("# partition n=%u: height %" PRIu64 " when it healed, %" PRIu64 " new commits after\n", n,
		       before.max_height, after.min_new_commits);
	}
	fflush(stdout);
}
END_TEST

/* Crashes everywhere, many of them right before or after a persist reaches
 * the disk: a restarted validator never signs two different votes (or
 * timeouts, or proposals) in one view. The simulator records every message
 * an honest key sends and fails on a conflict. */
START_TEST(test_restart_no_equivocation)
{
	static const uint32_t ns[] = { 4, 7 };
	uint64_t crashes = 0;
	for (size_t k = 0; k < 2; k++) {
		for (uint64_t seed = 1; seed <= 12; seed++) {
			struct ist_sim_config cfg;
			ist_sim_config_default(&cfg, 9000 + seed, ns[k]);
			cfg.persist_crash_pm = 150;
			cfg.persist_ms = 30;
			cfg.n_crashes = IST_SIM_MAX_CRASHES;
			for (uint32_t i = 0; i < cfg.n_crashes; i++) {
				cfg.crashes[i].node = (uint32_t)((seed + i) % ns[k]);
				cfg.crashes[i].at_ms = 200 + 400 * i + seed * 13;
				cfg.crashes[i].down_ms = 50 + 37 * i;
			}
			cfg.dup_pm = 100;
			cfg.end_ms = 9000;
			struct ist_sim_result res;
			run_checked(&cfg, false, &res);
			crashes += cfg.n_crashes;
		}
	}
	printf("# restarts: 24 runs, %" PRIu64 " scheduled crashes plus crashes around persists, no equivocation\n",
	       crashes);
	fflush(stdout);
}
END_TEST

/* The moves of one schedule: each validator in turn crashes and comes back
 * soon, on a new disk (sim.h, struct ist_sim_crash: the chain back to the
 * genesis block), with its safety state unless `lose_safety`. */
static void moves(struct ist_sim_config *cfg, uint64_t seed, uint32_t n, bool lose_safety)
{
	ist_sim_config_default(cfg, 9700 + seed, n);
	cfg->dup_pm = 100;
	cfg->n_crashes = 8;
	for (uint32_t i = 0; i < cfg->n_crashes; i++) {
		struct ist_sim_crash *c = &cfg->crashes[i];
		c->node = (uint32_t)((seed + i) % n);
		c->at_ms = 300 + 600 * i + seed * 7;
		c->down_ms = 1 + (seed * 31 + i * 17) % 120;
		c->new_disk = true;
		c->lose_safety = lose_safety;
	}
	cfg->check_liveness = true;
	cfg->live_from_ms = 300 + 600 * cfg->n_crashes + 400;
	cfg->min_new_commits = 5;
	cfg->end_ms = cfg->live_from_ms + 4000;
}

/* Validators moved to a new machine with their safety state (`isthmus
 * safety import`): restarted from the state alone, with the committed chain
 * back to the genesis block and no stored block, soon enough that the
 * others are still in the views they signed in. None signs twice in one
 * view, and each catches up by sync and commits again. The same schedules
 * with a blank state (a move without the import) make some validator sign
 * twice, and the checker says so: the test can see what it guards against. */
START_TEST(test_moved_validator)
{
	static const uint32_t ns[] = { 4, 7 };
	unsigned caught = 0, runs = 0;
	for (size_t k = 0; k < 2; k++) {
		for (uint64_t seed = 1; seed <= 8; seed++) {
			struct ist_sim_config cfg;
			struct ist_sim_result res;
			moves(&cfg, seed, ns[k], false);
			run_checked(&cfg, false, &res);
			moves(&cfg, seed, ns[k], true);
			cfg.check_liveness = false;
			ck_assert_int_eq(ist_sim_run(&cfg, &res), 0);
			caught += !res.ok && strstr(res.why, "equivocation") != NULL;
			runs++;
		}
	}
	printf("# moved validators: %u runs with the safety state, no equivocation, all live; the same moves "
	       "with a blank state: caught signing twice in %u\n", runs, caught);
	fflush(stdout);
	ck_assert_uint_gt(caught, 0);
}
END_TEST

/* Every honest validator crashes at once, while the only other holder of
 * the latest certified blocks is a Byzantine validator that neither votes
 * nor answers fetches: restarted from their disks (safety state and stored
 * blocks), they must still make progress. */
START_TEST(test_restart_all_at_once)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct ist_sim_config cfg;
		ist_sim_config_default(&cfg, 9300 + seed, 4);
		cfg.n_byz = 1;
		cfg.byz_nodes[0] = 3;
		cfg.byz_mask = IST_SIM_BYZ_WITHHOLD;
		cfg.n_crashes = 3;
		for (uint32_t i = 0; i < 3; i++) {
			cfg.crashes[i].node = i;
			cfg.crashes[i].at_ms = 600 + 37 * seed;
			cfg.crashes[i].down_ms = 300;
		}
		cfg.check_liveness = true;
		cfg.live_from_ms = 2000;
		cfg.end_ms = 8000;
		cfg.min_new_commits = 5;
		struct ist_sim_result res;
		run_checked(&cfg, false, &res);
	}
}
END_TEST

/* A committed block hands over to a new set: validator 0 leaves, a new one
 * joins. Everyone moves to epoch 1 at the same block and commits there. */
START_TEST(test_epoch_change)
{
	static const uint32_t ns[] = { 4, 7 };
	for (size_t k = 0; k < 2; k++) {
		for (uint64_t seed = 1; seed <= 3; seed++) {
			struct ist_sim_config cfg;
			ist_sim_config_default(&cfg, 9500 + seed, ns[k]);
			cfg.epoch_change_height = 4 + seed;
			cfg.loss_pm = seed == 3 ? 200 : 0;
			cfg.gst_ms = seed == 3 ? 2000 : 0;
			cfg.check_liveness = true;
			cfg.live_from_ms = 4000;
			cfg.end_ms = 9000;
			cfg.min_new_commits = 5;
			struct ist_sim_result res;
			run_checked(&cfg, false, &res);
			ck_assert_msg(res.epochs == 1, "seed %" PRIu64 ": the set never changed", cfg.seed);
			ck_assert_uint_gt(res.min_height, cfg.epoch_change_height + 5);
			printf("# epoch change n=%u at height %" PRIu64 ": every node reached height %" PRIu64 "\n",
			       ns[k], cfg.epoch_change_height, res.min_height);
		}
	}
	fflush(stdout);
}
END_TEST

/*
 * A validator down for many epochs (and, in some runs, jailed out of the
 * sets of the epochs it missed) restarts far behind: it must catch up
 * epoch after epoch (the blocks between its root and each epoch's last
 * block, then the end-of-epoch proof) and reach the network's epoch.
 */
START_TEST(test_epoch_catch_up)
{
	for (uint64_t seed = 1; seed <= 6; seed++) {
		struct ist_sim_config cfg;
		ist_sim_config_default(&cfg, 9700 + seed, seed <= 4 ? 4 : 7);
		cfg.epoch_every = 5 + 3 * (seed % 3);
		cfg.n_crashes = 1;
		cfg.crashes[0].node = cfg.n - 1;
		cfg.crashes[0].at_ms = 1000 + 300 * seed;
		cfg.crashes[0].down_ms = 25000;
		if (seed % 2 == 0) {
			/* jailed: out of the set from the epoch after it stopped */
			cfg.out_node = cfg.n - 1;
			cfg.out_from = 2;
			cfg.out_to = 12;
		}
		cfg.loss_pm = seed == 3 ? 100 : 0;
		cfg.end_ms = cfg.crashes[0].at_ms + cfg.crashes[0].down_ms + 30000;
		struct ist_sim_result res;
		run_checked(&cfg, false, &res);
		ck_assert_msg(res.epochs >= 8, "seed %" PRIu64 ": only %" PRIu64 " epochs", cfg.seed, res.epochs);
		ck_assert_msg(res.min_epoch + 1 >= res.epochs,
			      "seed %" PRIu64 ": the restarted validator stayed in epoch %" PRIu64 " (network at %" PRIu64
			      ", heights %" PRIu64 "..%" PRIu64 ")",
			      cfg.seed, res.min_epoch, res.epochs, res.min_height, res.max_height);
		ck_assert_uint_ge(res.min_height + 2 * cfg.epoch_every, res.max_height);
		printf("# epoch catch-up n=%u every %" PRIu64 " blocks: epoch %" PRIu64 "..%" PRIu64 ", heights %" PRIu64
		       "..%" PRIu64 "\n", cfg.n, cfg.epoch_every, res.min_epoch, res.epochs, res.min_height, res.max_height);
	}
	fflush(stdout);
}
END_TEST

/*
 * Every schedule that ever failed, with what it caught. They are seeds of
 * ist_sim_config_random as it is now: changing that function changes what a
 * seed means, so re-derive the list (reintroduce each bug, find a seed).
 */
static const struct {
	uint32_t n;
	uint64_t seed;
	const char *caught;
} regressions[] = {
	/* A leader queued its proposal before its own vote marked the safety
	 * state dirty, so the proposal left before the persist; a crash and
	 * restart then proposed again in the same view: an honest proposal
	 * equivocation (consensus.c on_payload now marks the state first). */
	{ 4, 7, "re-proposal after restart, epoch 1 view 4" },
	{ 4, 8, "re-proposal after restart, epoch 0 view 54" },
	{ 7, 10, "re-proposal after restart, view 1" },
	{ 10, 9, "re-proposal after restart, view 1" },
	/* The validator that made the epoch-ending block final switched to the
	 * new epoch and ignored the old one; the others could not form a
	 * quorum without it and never learned that the epoch had ended (the
	 * core now answers old-epoch messages with SEND_EPOCH_PROOF). */
	{ 4, 104, "validators stranded in an ended epoch" },
	{ 4, 115, "validators stranded in an ended epoch" },
	/* A laggard always asked the same peer for the epoch proof: a
	 * Byzantine one never answers (FETCH_EPOCH now rotates peers). */
	{ 7, 312, "epoch proof asked of a silent Byzantine peer" },
	{ 10, 100, "epoch proof asked of a silent Byzantine peer" },
	{ 10, 162, "epoch proof asked of a silent Byzantine peer" },
	/* Three validators crashed together and lost the certified blocks
	 * that only the Byzantine one still held: the chain could not grow
	 * (blocks are now stored, STORE_BLOCK, and handed back at restart). */
	{ 4, 2708, "certified blocks lost in simultaneous crashes" },
	/* Found by the slow suite. One validator alone completed a TC (its own
	 * timeout had been lost before GST) and moved on; the others, short of
	 * that timeout, never got it: only the view's leader forwarded TCs
	 * and each peer was answered once per view (helpers now also send
	 * their own timeout of the laggard's view, once per timer period). */
	{ 4, 13336, "TC completed by one validator only" },
	/* A node whose one fetch answer was lost never asked again: it kept
	 * entering views through others' QCs, so its timer never fired
	 * (missing blocks are now asked for again on view changes too). */
	{ 4, 21752, "lost fetch answer never asked again" },
	{ 4, 19271, "lost fetch answer never asked again" },
	/* The epoch proof was one certified block, but it sat above blocks of
	 * the old epoch that every switched node had discarded, so a laggard
	 * could never connect it (the proof is now the chain down to the
	 * epoch's last block, and sync answers are chains). */
	{ 4, 21276, "epoch proof that could not be connected" },
};

START_TEST(test_regressions)
{
	for (size_t i = 0; i < sizeof(regressions) / sizeof(regressions[0]); i++) {
		struct ist_sim_config cfg;
		ist_sim_config_random(&cfg, regressions[i].seed, regressions[i].n);
		struct ist_sim_result res;
		run_checked(&cfg, true, &res);
		printf("# regression n=%u seed %" PRIu64 " ok (once: %s)\n", regressions[i].n, regressions[i].seed,
		       regressions[i].caught);
	}
	fflush(stdout);
}
END_TEST

/* The same schedule twice: the same actions, byte for byte, at every node. */
START_TEST(test_determinism)
{
	static const uint64_t seeds[] = { 3, 17, 91 };
	for (size_t k = 0; k < 3; k++) {
		struct ist_sim_config cfg;
		ist_sim_config_random(&cfg, seeds[k], 7);
		cfg.digest = true;
		cfg.codec = true;
		struct ist_sim_result a, b;
		run_checked(&cfg, true, &a);
		run_checked(&cfg, true, &b);
		ck_assert_mem_eq(a.digest, b.digest, sizeof(a.digest));
		ck_assert_uint_eq(a.events, b.events);
		cfg.seed++;
		struct ist_sim_result c;
		run_checked(&cfg, true, &c);
		ck_assert(memcmp(a.digest, c.digest, sizeof(a.digest)) != 0);
	}
}
END_TEST

static int usage(const char *argv0)
{
	fprintf(stderr, "usage: %s safety|scale N FIRST COUNT | scenarios\n", argv0);
	return 2;
}

int main(int argc, char **argv)
{
	Suite *s = suite_create("consensus-sim");
	TCase *tc;
	if (argc == 5 && (!strcmp(argv[1], "safety") || !strcmp(argv[1], "scale"))) {
		g_n = (uint32_t)strtoul(argv[2], NULL, 10);
		g_first = strtoull(argv[3], NULL, 10);
		g_count = strtoull(argv[4], NULL, 10);
		if (g_n < 1 || g_n >= IST_SIM_MAX_NODES || g_count == 0)
			return usage(argv[0]);
		tc = tcase_create("schedules");
		tcase_set_timeout(tc, 3600);
		tcase_add_loop_test(tc, test_schedules, 0, (int)((g_count + CHUNK - 1) / CHUNK));
	} else if (argc == 2 && !strcmp(argv[1], "scenarios")) {
		tc = tcase_create("scenarios");
		tcase_set_timeout(tc, 600);
		tcase_add_test(tc, test_liveness_after_gst);
		tcase_add_test(tc, test_partition_heals);
		tcase_add_test(tc, test_restart_no_equivocation);
		tcase_add_test(tc, test_restart_all_at_once);
		tcase_add_test(tc, test_moved_validator);
		tcase_add_test(tc, test_epoch_change);
		tcase_add_test(tc, test_epoch_catch_up);
		tcase_add_test(tc, test_regressions);
		tcase_add_test(tc, test_determinism);
	} else {
		return usage(argv[0]);
	}
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
