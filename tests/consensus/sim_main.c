/*
 * consensus-sim: runs one simulated schedule, to replay a failing seed.
 *
 *   consensus-sim [--random] --seed S --n N [--trace] [--count K]
 *                 [--epoch-every E] [--down AT MS] [--jailed FROM TO] [--end MS]
 *
 * --epoch-every, --down, --jailed and --end replay test_epoch_catch_up:
 * epochs of E blocks, validator N-1 down from AT for MS milliseconds, out
 * of the sets of epochs FROM..TO-1, the run ending at MS.
 * --random draws the schedule from the seed as the safety tests do
 * (ist_sim_config_random); without it, a fault-free cluster runs. --count
 * runs K consecutive seeds. --trace prints every commit, crash and restart
 * to stderr. Exits 0 when every run passed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/sim.h"

int main(int argc, char **argv)
{
	uint64_t seed = 1, count = 1;
	uint32_t n = 4;
	bool random = false, tr = false;
	uint64_t every = 0, down_at = 0, down_ms = 0, out_from = 0, out_to = 0, end = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--random"))
			random = true;
		else if (!strcmp(argv[i], "--trace"))
			tr = true;
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--n") && i + 1 < argc)
			n = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			count = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--epoch-every") && i + 1 < argc)
			every = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--end") && i + 1 < argc)
			end = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--down") && i + 2 < argc) {
			down_at = strtoull(argv[++i], NULL, 0);
			down_ms = strtoull(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--jailed") && i + 2 < argc) {
			out_from = strtoull(argv[++i], NULL, 0);
			out_to = strtoull(argv[++i], NULL, 0);
		}
		else {
			fprintf(stderr, "usage: %s [--random] --seed S --n N [--count K] [--trace] [--epoch-every E] "
				"[--down AT MS] [--jailed FROM TO] [--end MS]\n", argv[0]);
			return 2;
		}
	}
	int bad = 0;
	for (uint64_t k = 0; k < count; k++) {
		struct ist_sim_config cfg;
		if (random)
			ist_sim_config_random(&cfg, seed + k, n);
		else
			ist_sim_config_default(&cfg, seed + k, n);
		cfg.trace = tr ? stderr : NULL;
		if (every)
			cfg.epoch_every = every;
		if (down_ms) {
			cfg.n_crashes = 1;
			cfg.crashes[0].node = n - 1;
			cfg.crashes[0].at_ms = down_at;
			cfg.crashes[0].down_ms = down_ms;
		}
		if (out_to > out_from) {
			cfg.out_node = n - 1;
			cfg.out_from = out_from;
			cfg.out_to = out_to;
		}
		if (end)
			cfg.end_ms = end;
		struct ist_sim_result res;
		int r = ist_sim_run(&cfg, &res);
		if (r < 0) {
			fprintf(stderr, "seed %" PRIu64 ": cannot run (%d)\n", seed + k, r);
			return 2;
		}
		printf("seed %" PRIu64 " n=%u byz=%u mask=%#x crashes=%u parts=%u loss=%u gst=%" PRIu64
		       " epoch_at=%" PRIu64 " live=%d: %s heights %" PRIu64 "..%" PRIu64 " views %" PRIu64
		       " gap %" PRIu64 " new %" PRIu64 " msgs p=%" PRIu64 " v=%" PRIu64 " t=%" PRIu64 " s=%" PRIu64
		       " epochs %" PRIu64 "..%" PRIu64 " events %" PRIu64 "%s%s\n",
		       seed + k, n, cfg.n_byz, cfg.byz_mask, cfg.n_crashes, cfg.n_partitions, cfg.loss_pm, cfg.gst_ms,
		       cfg.epoch_change_height, cfg.check_liveness, res.ok ? "ok" : "FAIL", res.min_height,
		       res.max_height, res.max_view, res.max_view_gap, res.min_new_commits, res.msgs_proposal,
		       res.msgs_vote, res.msgs_timeout, res.msgs_sync, res.min_epoch, res.epochs, res.events, res.ok ? "" : ": ", res.why);
		bad |= !res.ok;
	}
	return bad;
}
