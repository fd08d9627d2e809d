/*
 * bench-consensus: the consensus simulator (tests/consensus/sim.h) with real
 * Ed25519 signatures and no verification cache, on a fault-free network,
 * for clusters of n = 4, 16, 64 and 100 validators. Every validator runs in
 * this one process, so the CPU time measured (CLOCK_PROCESS_CPUTIME_ID) is
 * the whole cluster's: signing, verifying, the cores and the simulator.
 *
 *   bench-consensus [--output FILE] [--ms VIRTUAL_MS] [--n N]...
 *
 * Prints a table and writes JSON (default build/bench/consensus.json):
 *   blocks_per_cpu_s       committed blocks per second of CPU
 *   cpu_us_per_block_val   CPU microseconds per committed block per validator
 *   msgs_per_block         messages sent (per recipient) per committed block
 *   verifs_per_block_val   real signature verifications per block per validator
 * A benchmark, not a test: nothing here asserts a speed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "consensus/sim.h"

static double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct row {
	uint32_t n;
	uint64_t blocks, msgs, proposals, votes, timeouts, sync, verifs, views;
	double cpu_s;
};

static int mkdirs_for(const char *path)
{
	char *d = strdup(path);
	if (!d)
		return -1;
	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST) {
			free(d);
			return -1;
		}
		*p = '/';
	}
	free(d);
	return 0;
}

int main(int argc, char **argv)
{
	const char *output = "build/bench/consensus.json";
	uint64_t ms = 6000;
	uint32_t ns[16] = { 4, 16, 64, 100 };
	size_t n_ns = 4, custom = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--output") && i + 1 < argc) {
			output = argv[++i];
		} else if (!strcmp(argv[i], "--ms") && i + 1 < argc) {
			ms = strtoull(argv[++i], NULL, 10);
		} else if (!strcmp(argv[i], "--n") && i + 1 < argc && custom < 16) {
			ns[custom++] = (uint32_t)strtoul(argv[++i], NULL, 10);
			n_ns = custom;
		} else {
			fprintf(stderr, "usage: %s [--output FILE] [--ms VIRTUAL_MS] [--n N]...\n", argv[0]);
			return 2;
		}
	}

	struct row rows[16];
	printf("consensus benchmark: fault-free network (delta 50 ms), real Ed25519, no verification cache,\n"
	       "%" PRIu64 " ms of virtual time per cluster; CPU is the whole cluster's (one process)\n\n", ms);
	printf("%5s %7s %7s %10s %12s %14s %11s %11s\n", "n", "blocks", "cpu s", "blocks/s", "us/blk/val",
	       "msgs/block", "msgs/blk/n", "verif/b/v");
	for (size_t k = 0; k < n_ns; k++) {
		struct ist_sim_config cfg;
		ist_sim_config_default(&cfg, 1, ns[k]);
		cfg.sigcache = false;
		cfg.end_ms = ms;
		struct ist_sim_result res;
		double t0 = cpu_seconds();
		int r = ist_sim_run(&cfg, &res);
		double t1 = cpu_seconds();
		if (r < 0 || !res.ok || res.blocks == 0) {
			fprintf(stderr, "n=%u: the simulation failed (%d): %s\n", ns[k], r, res.why);
			return 1;
		}
		struct row *w = &rows[k];
		w->n = ns[k];
		w->blocks = res.blocks;
		w->proposals = res.msgs_proposal;
		w->votes = res.msgs_vote;
		w->timeouts = res.msgs_timeout;
		w->sync = res.msgs_sync;
		w->msgs = w->proposals + w->votes + w->timeouts + w->sync;
		w->verifs = res.verifications;
		w->views = res.max_view;
		w->cpu_s = t1 - t0;
		printf("%5u %7" PRIu64 " %7.2f %10.1f %12.0f %14.1f %11.2f %11.1f\n", w->n, w->blocks, w->cpu_s,
		       (double)w->blocks / w->cpu_s, w->cpu_s * 1e6 / (double)w->blocks / w->n,
		       (double)w->msgs / (double)w->blocks, (double)w->msgs / (double)w->blocks / w->n,
		       (double)w->verifs / (double)w->blocks / w->n);
		fflush(stdout);
	}

	if (mkdirs_for(output) < 0) {
		fprintf(stderr, "cannot create the directory of %s: %s\n", output, strerror(errno));
		return 1;
	}
	FILE *f = fopen(output, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", output, strerror(errno));
		return 1;
	}
	fprintf(f, "{\n  \"benchmark\": \"consensus\",\n  \"virtual_ms\": %" PRIu64 ",\n  \"delta_ms\": 50,\n"
		   "  \"signatures\": \"ed25519\",\n  \"verification_cache\": false,\n  \"results\": [\n", ms);
	for (size_t k = 0; k < n_ns; k++) {
		const struct row *w = &rows[k];
		fprintf(f,
			"    {\"n\": %u, \"blocks\": %" PRIu64 ", \"views\": %" PRIu64 ", \"cpu_s\": %.4f, "
			"\"blocks_per_cpu_s\": %.2f, \"cpu_us_per_block_val\": %.1f, \"msgs_per_block\": %.2f, "
			"\"proposal_msgs\": %" PRIu64 ", \"vote_msgs\": %" PRIu64 ", \"timeout_msgs\": %" PRIu64
			", \"sync_msgs\": %" PRIu64 ", \"verifs_per_block_val\": %.2f}%s\n",
			w->n, w->blocks, w->views, w->cpu_s, (double)w->blocks / w->cpu_s,
			w->cpu_s * 1e6 / (double)w->blocks / w->n, (double)w->msgs / (double)w->blocks, w->proposals,
			w->votes, w->timeouts, w->sync, (double)w->verifs / (double)w->blocks / w->n,
			k + 1 < n_ns ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", output);
		return 1;
	}
	printf("\nwrote %s\n", output);
	return 0;
}
