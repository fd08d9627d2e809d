/*
 * Crash test of the store (suite integration): a child process
 * (store-crash-child, found through $IST_CRASH_CHILD) commits numbered
 * batches and is SIGKILLed at points that vary, ROUNDS times, on one store
 * that accumulates. After each kill the store must hold every batch the
 * child reported committed, in full, and no part of any later batch.
 *
 * The kill point varies without sleeps: the parent reads the child's
 * reports until a random count (0..MAX_AHEAD, from a seeded generator), then
 * kills it while it keeps working (inside a put, a commit's fsync, a map
 * growth, or even its open). The seed is printed as a TAP comment;
 * IST_CRASH_SEED=<seed> replays the same schedule (the exact kill points
 * still depend on scheduling).
 *
 * The store lives under $IST_CRASH_DIR, else $TMPDIR, else /tmp, and keeps
 * LMDB's default sync-on-commit (about 7 s for the whole test on an ordinary
 * disk). What is tested is a process killed at any instruction, not power
 * loss: the page cache survives a SIGKILL, so IST_CRASH_DIR=/dev/shm (tmpfs,
 * where fsync costs nothing) tests the same property, faster, on a slow disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/rng.h"
#include "crash_batch.h"
#include "lib/ist_test.h"
#include "storage/store.h"

#define ROUNDS 60
#define MAX_AHEAD 40 /* reports read before the kill: 0..MAX_AHEAD */

/* Reads one 8-byte report. Returns 1, 0 at EOF, or fails the test. */
static int read_report(int fd, uint64_t *ret)
{
	uint8_t b[8];
	size_t got = 0;
	while (got < sizeof(b)) {
		ssize_t n = read(fd, b + got, sizeof(b) - got);
		if (n < 0 && errno == EINTR)
			continue;
		ck_assert_msg(n >= 0, "read from the child: %s", strerror(errno));
		if (n == 0) {
			ck_assert_msg(got == 0, "a torn report (%zu bytes)", got);
			return 0;
		}
		got += (size_t)n;
	}
	*ret = ist_get_be64(b);
	return 1;
}

static char *crash_dir(void)
{
	const char *base = getenv("IST_CRASH_DIR");
	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	char *path = NULL;
	ck_assert_int_gt(asprintf(&path, "%s/ist-crash-XXXXXX", base), 0);
	ck_assert_msg(mkdtemp(path) != NULL, "mkdtemp %s: %s", path, strerror(errno));
	return path;
}

/*
 * Opens the store after a kill and checks it. Returns the marker (the last
 * batch committed, 0 if none). The accounts database must hold exactly the
 * batches 1..marker, each with all its keys and values: nothing missing,
 * nothing torn, nothing beyond.
 */
static uint64_t check_store(const char *dir, uint64_t seed, int round, struct ist_store_stat *ret_stat)
{
	struct ist_store_options o = { .map_size = CRASH_MAP_SIZE, .map_size_max = CRASH_MAP_MAX };
	struct ist_store *s;
	char err[IST_STORE_ERRBUF_BYTES];
	int r = ist_store_open(dir, &o, &s, err, sizeof(err));
	ck_assert_msg(r == 0, "seed %" PRIu64 " round %d: reopen after the kill: %s", seed, round, err);
	struct ist_txn *t;
	ck_assert_int_eq(ist_store_read_begin(s, &t), 0);

	uint64_t marker = 0;
	const uint8_t *v;
	size_t n;
	r = ist_store_get(t, CRASH_MARKER_DB, CRASH_MARKER, strlen(CRASH_MARKER), &v, &n);
	if (r == 0) {
		ck_assert_uint_eq(n, 8);
		marker = ist_get_be64(v);
	} else {
		ck_assert_msg(r == -IST_ENOTFOUND, "marker: %s", ist_errname(r));
	}

	struct ist_store_cursor *cur;
	ck_assert_int_eq(ist_store_cursor_open(t, CRASH_DB, &cur), 0);
	uint64_t b = 1;
	uint32_t i = 0;
	uint8_t want[CRASH_VALUE_MAX];
	const uint8_t *k;
	size_t kn;
	/* Check's ck_assert records every call it passes through (a pipe
	 * write each), so the per-entry checks use plain ifs */
	while ((r = ist_store_cursor_get(cur, IST_STORE_NEXT, NULL, 0, &k, &kn, &v, &n)) == 0) {
		if (kn != CRASH_KEY_BYTES)
			ck_abort_msg("seed %" PRIu64 " round %d: a key of %zu bytes", seed, round, kn);
		uint64_t kb = ist_get_be64(k);
		uint32_t ki = ist_get_be32(k + 8);
		if (kb > marker)
			ck_abort_msg("seed %" PRIu64 " round %d: key %u of batch %" PRIu64 " is visible beyond the "
				     "last committed batch %" PRIu64, seed, round, ki, kb, marker);
		if (kb != b || ki != i)
			ck_abort_msg("seed %" PRIu64 " round %d: batch %" PRIu64 " is partial: key %u missing "
				     "(next key found: batch %" PRIu64 " key %u)", seed, round, b, i, kb, ki);
		size_t len = crash_value(want, b, i);
		if (n != len || memcmp(v, want, len) != 0)
			ck_abort_msg("seed %" PRIu64 " round %d: batch %" PRIu64 " key %u has a wrong value",
				     seed, round, b, i);
		if (++i == crash_batch_keys(b)) {
			b++;
			i = 0;
		}
	}
	ck_assert_int_eq(r, -IST_ENOTFOUND);
	ck_assert_msg(b == marker + 1 && i == 0, "seed %" PRIu64 " round %d: batch %" PRIu64 " is partial "
		      "(%u of %u keys; marker %" PRIu64 ")", seed, round, b, i, crash_batch_keys(b), marker);
	ist_store_cursor_close(cur);
	ist_store_read_end(t);
	ck_assert_int_eq(ist_store_stat(s, ret_stat), 0);
	ist_store_close(s);
	return marker;
}

START_TEST(test_sigkill_never_tears_a_batch)
{
	const char *child = getenv("IST_CRASH_CHILD");
	ck_assert_msg(child && *child, "IST_CRASH_CHILD is not set (run the test through meson test)");
	uint64_t seed;
	const char *seed_env = getenv("IST_CRASH_SEED");
	if (seed_env && *seed_env) {
		seed = strtoull(seed_env, NULL, 0);
	} else {
		uint8_t b[8];
		ck_assert_int_eq(ist_rng_fill(ist_rng_system(), b, sizeof(b)), 0);
		seed = ist_get_be64(b);
	}
	struct ist_rng_det rng;
	ist_rng_det_init(&rng, seed);
	char *base = crash_dir();
	char *dir = NULL;
	ck_assert_int_gt(asprintf(&dir, "%s/db", base), 0);
	printf("# crash test: seed %" PRIu64 " (IST_CRASH_SEED=%" PRIu64 " replays the schedule), store %s\n",
	       seed, seed, dir);
	fflush(stdout);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t committed = 0;  /* the marker found after the previous round */
	int unreported = 0;      /* kills between a commit and its report */
	int grew_rounds = 0;     /* rounds during which the child grew the map */
	uint64_t map = CRASH_MAP_SIZE;
	struct ist_store_stat st = { 0 };
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t target = ist_rng_det_below(&rng, MAX_AHEAD + 1);
		int fds[2];
		ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
		fflush(NULL);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			/* the write end survives the exec, nothing else */
			char fdstr[16];
			snprintf(fdstr, sizeof(fdstr), "%d", fds[1]);
			if (fcntl(fds[1], F_SETFD, 0) != 0)
				_exit(126);
			execl(child, child, dir, fdstr, (char *)NULL);
			_exit(127);
		}
		close(fds[1]);

		uint64_t reported = committed, b;
		for (uint64_t got = 0; got < target && read_report(fds[0], &b) == 1; got++) {
			ck_assert_msg(b == reported + 1, "seed %" PRIu64 " round %d: child reported batch %" PRIu64
				      " after %" PRIu64, seed, round, b, reported);
			reported = b;
		}
		/* no pause: the child is somewhere in its next batch */
		kill(pid, SIGKILL);
		int status;
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			      "seed %" PRIu64 " round %d: the child ended by itself (status 0x%x; see its stderr)",
			      seed, round, status);
		/* reports written before the kill count as committed too */
		while (read_report(fds[0], &b) == 1) {
			ck_assert_uint_eq(b, reported + 1);
			reported = b;
		}
		close(fds[0]);

		uint64_t marker = check_store(dir, seed, round, &st);
		ck_assert_msg(marker >= reported, "seed %" PRIu64 " round %d: batch %" PRIu64
			      " was reported committed but the store ends at %" PRIu64, seed, round, reported, marker);
		/* the child reports right after each commit, so at most the
		 * batch it was reporting can be ahead */
		ck_assert_msg(marker <= reported + 1, "seed %" PRIu64 " round %d: store at batch %" PRIu64
			      ", child reported only %" PRIu64, seed, round, marker, reported);
		if (marker == reported + 1)
			unreported++;
		if (st.map_bytes > map)
			grew_rounds++;
		map = st.map_bytes;
		committed = marker;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("# crash test: %d rounds in %.1f s, %" PRIu64 " batches committed, %d kills between a commit and "
	       "its report, map grown in %d rounds to %" PRIu64 " bytes (used %" PRIu64 ")\n",
	       ROUNDS, secs, committed, unreported, grew_rounds, map, st.used_bytes);
	fflush(stdout);
	/* the map grew while the child was being killed */
	ck_assert_uint_gt(map, CRASH_MAP_SIZE);
	ck_assert_int_gt(grew_rounds, 1);
	ck_assert_uint_gt(committed, ROUNDS);

	ist_test_rmtree(base);
	free(dir);
	free(base);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("storage-crash");
	TCase *tc = tcase_create("crash");
	tcase_set_timeout(tc, 280);
	tcase_add_test(tc, test_sigkill_never_tears_a_batch);
	suite_add_tcase(su, tc);
	return ist_test_run(su);
}
