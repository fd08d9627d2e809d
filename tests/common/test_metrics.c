/* The metrics registry: golden text per type, escaping, the series bound,
 * registration rules, exact concurrent counts, and promtool's verdict on
 * what we render. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/metrics.h"
#include "lib/ist_test.h"

extern char **environ;

/* Renders `r` into a NUL-terminated malloc'd string. */
static char *render(struct ist_metrics *r)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ck_assert_int_eq(ist_metrics_render(r, &b), 0);
	ist_buf_put_u8(&b, 0);
	uint8_t *data;
	size_t len;
	ck_assert_int_eq(ist_buf_take(&b, &data, &len), 0);
	return (char *)data;
}

static size_t count_lines_with(const char *text, const char *needle)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

START_TEST(test_counter_golden)
{
	struct ist_metrics *r = ist_metrics_new();
	ck_assert_ptr_nonnull(r);
	struct ist_metric *plain = ist_metrics_counter(r, "isthmus_node_commits_total", "Blocks committed.", NULL);
	struct ist_metric *by = ist_metrics_counter(r, "isthmus_net_dropped_total", "Messages dropped by reason.", "reason");
	ck_assert_ptr_nonnull(plain);
	ck_assert_ptr_nonnull(by);
	ist_metric_inc(plain, NULL);
	ist_metric_add(plain, NULL, 41);
	ist_metric_inc(by, "too_big");
	ist_metric_add(by, "bad_sig", 3);
	ist_metric_inc(by, "too_big");
	ist_metric_add(by, NULL, 5);   /* NULL is the value "" */
	/* a counter never goes down nor is set */
	ist_metric_set(plain, NULL, 1);
	ist_metric_observe(plain, NULL, 1);
	/* a huge counter stays exact (no float on the way) */
	struct ist_metric *big = ist_metrics_counter(r, "big_total", "Big.", NULL);
	ist_metric_add(big, NULL, UINT64_MAX - 1);

	char *text = render(r);
	ck_assert_str_eq(text,
		"# HELP isthmus_node_commits_total Blocks committed.\n"
		"# TYPE isthmus_node_commits_total counter\n"
		"isthmus_node_commits_total 42\n"
		"# HELP isthmus_net_dropped_total Messages dropped by reason.\n"
		"# TYPE isthmus_net_dropped_total counter\n"
		"isthmus_net_dropped_total{reason=\"too_big\"} 2\n"
		"isthmus_net_dropped_total{reason=\"bad_sig\"} 3\n"
		"isthmus_net_dropped_total{reason=\"\"} 5\n"
		"# HELP big_total Big.\n"
		"# TYPE big_total counter\n"
		"big_total 18446744073709551614\n");
	free(text);
	ck_assert(ist_metric_value(plain, NULL) == 42);
	ck_assert(ist_metric_value(by, "bad_sig") == 3);
	ck_assert(ist_metric_value(by, "absent") == 0);
	ist_metrics_free(r);
}
END_TEST

START_TEST(test_gauge_golden)
{
	struct ist_metrics *r = ist_metrics_new();
	struct ist_metric *g = ist_metrics_gauge(r, "isthmus_value", "Values of every shape.", "case");
	ck_assert_ptr_nonnull(g);
	ist_metric_set(g, "int", 7);
	ist_metric_set(g, "neg", -3);
	ist_metric_set(g, "zero", -0.0);
	ist_metric_set(g, "frac", 0.1);
	ist_metric_set(g, "third", 1.0 / 3.0);
	ist_metric_set(g, "big", 1e300);
	ist_metric_set(g, "exact53", 9007199254740991.0);
	ist_metric_set(g, "sum", 0.1 + 0.2);
	ist_metric_set(g, "nan", NAN);
	ist_metric_set(g, "pinf", INFINITY);
	ist_metric_set(g, "ninf", -INFINITY);
	ist_metric_set(g, "added", 1.5);
	ist_metric_add(g, "added", 2);  /* a gauge may be added to */
	ist_metric_inc(g, "added");
	ist_metric_observe(g, "added", 100); /* not a histogram: ignored */
	struct ist_metric *u = ist_metrics_gauge(r, "isthmus_db_bytes", "Database size.", NULL);
	ist_metric_set(u, "ignored", 4096);  /* no label: the value is ignored */

	char *text = render(r);
	ck_assert_str_eq(text,
		"# HELP isthmus_value Values of every shape.\n"
		"# TYPE isthmus_value gauge\n"
		"isthmus_value{case=\"int\"} 7\n"
		"isthmus_value{case=\"neg\"} -3\n"
		"isthmus_value{case=\"zero\"} 0\n"
		"isthmus_value{case=\"frac\"} 0.1\n"
		"isthmus_value{case=\"third\"} 0.3333333333333333\n"
		"isthmus_value{case=\"big\"} 1e+300\n"
		"isthmus_value{case=\"exact53\"} 9007199254740991\n"
		"isthmus_value{case=\"sum\"} 0.30000000000000004\n"
		"isthmus_value{case=\"nan\"} NaN\n"
		"isthmus_value{case=\"pinf\"} +Inf\n"
		"isthmus_value{case=\"ninf\"} -Inf\n"
		"isthmus_value{case=\"added\"} 4.5\n"
		"# HELP isthmus_db_bytes Database size.\n"
		"# TYPE isthmus_db_bytes gauge\n"
		"isthmus_db_bytes 4096\n");
	free(text);
	ck_assert(ist_metric_value(g, "added") == 4.5);
	ck_assert(isnan(ist_metric_value(g, "nan")));
	ist_metrics_free(r);
}
END_TEST

START_TEST(test_histogram_golden)
{
	struct ist_metrics *r = ist_metrics_new();
	const double bounds[] = { 0.005, 0.1, 1, 2.5 };
	struct ist_metric *h = ist_metrics_histogram(r, "isthmus_api_request_seconds", "Request latency.",
						     "route", bounds, IST_ARRAY_SIZE(bounds));
	struct ist_metric *plain = ist_metrics_histogram(r, "isthmus_batch_items", "Items per batch.", NULL,
							 bounds, 2);
	struct ist_metric *none = ist_metrics_histogram(r, "isthmus_only_inf", "No bounds.", NULL, NULL, 0);
	ck_assert_ptr_nonnull(h);
	ck_assert_ptr_nonnull(plain);
	ck_assert_ptr_nonnull(none);
	ist_metric_observe(h, "/v1/status", 0.001);
	ist_metric_observe(h, "/v1/status", 0.1);   /* on the bound: counted in it (le) */
	ist_metric_observe(h, "/v1/status", 3);     /* only +Inf */
	ist_metric_observe(h, "/healthz", 0.5);
	ist_metric_inc(h, "/healthz");               /* not a counter: ignored */
	ist_metric_observe(none, NULL, 7);

	char *text = render(r);
	ck_assert_str_eq(text,
		"# HELP isthmus_api_request_seconds Request latency.\n"
		"# TYPE isthmus_api_request_seconds histogram\n"
		"isthmus_api_request_seconds_bucket{route=\"/v1/status\",le=\"0.005\"} 1\n"
		"isthmus_api_request_seconds_bucket{route=\"/v1/status\",le=\"0.1\"} 2\n"
		"isthmus_api_request_seconds_bucket{route=\"/v1/status\",le=\"1\"} 2\n"
		"isthmus_api_request_seconds_bucket{route=\"/v1/status\",le=\"2.5\"} 2\n"
		"isthmus_api_request_seconds_bucket{route=\"/v1/status\",le=\"+Inf\"} 3\n"
		"isthmus_api_request_seconds_sum{route=\"/v1/status\"} 3.101\n"
		"isthmus_api_request_seconds_count{route=\"/v1/status\"} 3\n"
		"isthmus_api_request_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 0\n"
		"isthmus_api_request_seconds_bucket{route=\"/healthz\",le=\"0.1\"} 0\n"
		"isthmus_api_request_seconds_bucket{route=\"/healthz\",le=\"1\"} 1\n"
		"isthmus_api_request_seconds_bucket{route=\"/healthz\",le=\"2.5\"} 1\n"
		"isthmus_api_request_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1\n"
		"isthmus_api_request_seconds_sum{route=\"/healthz\"} 0.5\n"
		"isthmus_api_request_seconds_count{route=\"/healthz\"} 1\n"
		"# HELP isthmus_batch_items Items per batch.\n"
		"# TYPE isthmus_batch_items histogram\n"
		"isthmus_batch_items_bucket{le=\"0.005\"} 0\n"
		"isthmus_batch_items_bucket{le=\"0.1\"} 0\n"
		"isthmus_batch_items_bucket{le=\"+Inf\"} 0\n"
		"isthmus_batch_items_sum 0\n"
		"isthmus_batch_items_count 0\n"
		"# HELP isthmus_only_inf No bounds.\n"
		"# TYPE isthmus_only_inf histogram\n"
		"isthmus_only_inf_bucket{le=\"+Inf\"} 1\n"
		"isthmus_only_inf_sum 7\n"
		"isthmus_only_inf_count 1\n");
	free(text);
	/* for a histogram the value read is its observation count */
	ck_assert(ist_metric_value(h, "/v1/status") == 3);
	ist_metrics_free(r);
}
END_TEST

START_TEST(test_escaping)
{
	struct ist_metrics *r = ist_metrics_new();
	struct ist_metric *c = ist_metrics_counter(r, "esc_total", "Back\\slash, \"quotes\" and\nnewline.", "v");
	ck_assert_ptr_nonnull(c);
	ist_metric_inc(c, "a\\b");
	ist_metric_inc(c, "say \"hi\"");
	ist_metric_inc(c, "two\nlines");
	ist_metric_inc(c, "caf\xc3\xa9");          /* valid UTF-8 is kept */
	ist_metric_inc(c, "bad\xff\xc3 end");       /* invalid bytes become '?' */
	char *text = render(r);
	ck_assert_str_eq(text,
		"# HELP esc_total Back\\\\slash, \"quotes\" and\\nnewline.\n"
		"# TYPE esc_total counter\n"
		"esc_total{v=\"a\\\\b\"} 1\n"
		"esc_total{v=\"say \\\"hi\\\"\"} 1\n"
		"esc_total{v=\"two\\nlines\"} 1\n"
		"esc_total{v=\"caf\xc3\xa9\"} 1\n"
		"esc_total{v=\"bad?? end\"} 1\n");
	free(text);
	/* the sanitized value is the key: reading with the raw value finds it */
	ck_assert(ist_metric_value(c, "bad\xff\xc3 end") == 1);
	ist_metrics_free(r);
}
END_TEST

START_TEST(test_value_truncated)
{
	struct ist_metrics *r = ist_metrics_new();
	struct ist_metric *c = ist_metrics_counter(r, "trunc_total", "Long values.", "v");
	char longv[200];
	memset(longv, 'x', sizeof(longv) - 1);
	longv[sizeof(longv) - 1] = '\0';
	ist_metric_inc(c, longv);
	longv[100] = '\0';   /* same first 63 bytes: the same series */
	ist_metric_inc(c, longv);
	/* a 2-byte character straddling byte 63 is dropped whole */
	char utf[80];
	memset(utf, 'y', 62);
	memcpy(utf + 62, "\xc3\xa9zz", 5);
	ist_metric_inc(c, utf);
	char *text = render(r);
	char want[512];
	snprintf(want, sizeof(want),
		 "# HELP trunc_total Long values.\n# TYPE trunc_total counter\n"
		 "trunc_total{v=\"%.63s\"} 2\ntrunc_total{v=\"%.62s\"} 1\n", longv, utf);
	ck_assert_str_eq(text, want);
	free(text);
	ist_metrics_free(r);
}
END_TEST

START_TEST(test_series_bound)
{
	struct ist_metrics *r = ist_metrics_new();
	struct ist_metric *c = ist_metrics_counter(r, "peer_msgs_total", "Per peer.", "peer");
	const double bounds[] = { 1 };
	struct ist_metric *h = ist_metrics_histogram(r, "peer_lat", "Per peer.", "peer", bounds, 1);
	char v[32];
	for (int i = 0; i < 100; i++) {
		snprintf(v, sizeof(v), "p%03d", i);
		ist_metric_add(c, v, 2);
		ist_metric_observe(h, v, 0.5);
	}
	/* an existing value keeps its own series after the bound is reached */
	ist_metric_inc(c, "p000");
	char *text = render(r);
	ck_assert_uint_eq(count_lines_with(text, "peer_msgs_total{"), IST_METRICS_MAX_SERIES);
	ck_assert_uint_eq(count_lines_with(text, "peer_lat_count{"), IST_METRICS_MAX_SERIES);
	ck_assert_ptr_nonnull(strstr(text, "peer_msgs_total{peer=\"p062\"} 2\n"));
	ck_assert_ptr_null(strstr(text, "p063"));
	/* 100 - 63 values fell into "other" */
	ck_assert_ptr_nonnull(strstr(text, "peer_msgs_total{peer=\"other\"} 74\n"));
	ck_assert_ptr_nonnull(strstr(text, "peer_lat_count{peer=\"other\"} 37\n"));
	ck_assert(ist_metric_value(c, "p000") == 3);
	ck_assert(ist_metric_value(c, "p099") == 0);
	ck_assert(ist_metric_value(c, "other") == 74);
	free(text);
	ist_metrics_free(r);
}
END_TEST

START_TEST(test_reregistration)
{
	struct ist_metrics *r = ist_metrics_new();
	const double b1[] = { 1, 2 }, b2[] = { 1, 3 };
	struct ist_metric *c = ist_metrics_counter(r, "a_total", "A.", "x");
	struct ist_metric *g = ist_metrics_gauge(r, "b", "B.", NULL);
	struct ist_metric *h = ist_metrics_histogram(r, "c_seconds", "C.", NULL, b1, 2);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(g);
	ck_assert_ptr_nonnull(h);
	/* the same registration returns the same family, counts are shared */
	ck_assert_ptr_eq(ist_metrics_counter(r, "a_total", "A.", "x"), c);
	ck_assert_ptr_eq(ist_metrics_gauge(r, "b", "B.", NULL), g);
	ck_assert_ptr_eq(ist_metrics_histogram(r, "c_seconds", "C.", NULL, b1, 2), h);
	/* any disagreement is refused */
	ck_assert_ptr_null(ist_metrics_counter(r, "a_total", "Other help.", "x"));
	ck_assert_ptr_null(ist_metrics_counter(r, "a_total", "A.", "y"));
	ck_assert_ptr_null(ist_metrics_counter(r, "a_total", "A.", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, "a_total", "A.", "x"));
	ck_assert_ptr_null(ist_metrics_gauge(r, "b", "B.", "x"));
	ck_assert_ptr_null(ist_metrics_histogram(r, "c_seconds", "C.", NULL, b2, 2));
	ck_assert_ptr_null(ist_metrics_histogram(r, "c_seconds", "C.", NULL, b1, 1));
	/* names a histogram writes cannot be taken by another family, and back */
	ck_assert_ptr_null(ist_metrics_gauge(r, "c_seconds_count", "X.", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, "c_seconds_sum", "X.", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, "c_seconds_bucket", "X.", NULL));
	/* a_total is none of the names histogram "a" writes */
	ck_assert_ptr_nonnull(ist_metrics_histogram(r, "a", "X.", NULL, b1, 2));
	ck_assert_ptr_nonnull(ist_metrics_gauge(r, "d_sum", "D.", NULL));
	ck_assert_ptr_null(ist_metrics_histogram(r, "d", "X.", NULL, b1, 2));
	ist_metric_inc(c, "k");
	ist_metric_inc(ist_metrics_counter(r, "a_total", "A.", "x"), "k");
	ck_assert(ist_metric_value(c, "k") == 2);
	/* refused registrations left nothing behind */
	char *text = render(r);
	ck_assert_uint_eq(count_lines_with(text, "# TYPE"), 5);
	free(text);
	ist_metrics_free(r);
}
END_TEST

START_TEST(test_invalid_rejected)
{
	struct ist_metrics *r = ist_metrics_new();
	const double ok[] = { 1, 2 }, flat[] = { 1, 1 }, down[] = { 2, 1 }, nan[] = { 1, NAN },
		     inf[] = { 1, INFINITY };
	double many[IST_METRICS_MAX_BUCKETS + 1];
	for (size_t i = 0; i < IST_ARRAY_SIZE(many); i++)
		many[i] = (double)i;

	ck_assert_ptr_null(ist_metrics_gauge(r, "", "H.", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, NULL, "H.", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, "1abc", "H.", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, "a-b", "H.", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, "a b", "H.", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, "caf\xc3\xa9", "H.", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, "ok", NULL, NULL));          /* help is required */
	ck_assert_ptr_null(ist_metrics_gauge(r, "ok", "", NULL));
	ck_assert_ptr_null(ist_metrics_gauge(r, "ok", "H.", ""));            /* label names */
	ck_assert_ptr_null(ist_metrics_gauge(r, "ok", "H.", "a:b"));
	ck_assert_ptr_null(ist_metrics_gauge(r, "ok", "H.", "9a"));
	ck_assert_ptr_null(ist_metrics_gauge(r, "ok", "H.", "__reserved"));
	ck_assert_ptr_null(ist_metrics_counter(r, "requests", "H.", NULL));  /* counters end in _total */
	ck_assert_ptr_null(ist_metrics_histogram(r, "h", "H.", "le", ok, 2));
	ck_assert_ptr_null(ist_metrics_histogram(r, "h", "H.", NULL, flat, 2));
	ck_assert_ptr_null(ist_metrics_histogram(r, "h", "H.", NULL, down, 2));
	ck_assert_ptr_null(ist_metrics_histogram(r, "h", "H.", NULL, nan, 2));
	ck_assert_ptr_null(ist_metrics_histogram(r, "h", "H.", NULL, inf, 2));
	ck_assert_ptr_null(ist_metrics_histogram(r, "h", "H.", NULL, NULL, 2));
	ck_assert_ptr_null(ist_metrics_histogram(r, "h", "H.", NULL, many, IST_ARRAY_SIZE(many)));
	ck_assert_ptr_nonnull(ist_metrics_histogram(r, "h", "H.", NULL, many, IST_METRICS_MAX_BUCKETS));
	ck_assert_ptr_nonnull(ist_metrics_gauge(r, "ns:sub_name_2", "Colons are fine.", "_x1"));
	ck_assert_ptr_null(ist_metrics_counter(NULL, "x_total", "H.", NULL));

	/* a failed registration returns NULL, and updating NULL is harmless */
	ist_metric_inc(NULL, "x");
	ist_metric_add(NULL, NULL, 1);
	ist_metric_set(NULL, NULL, 1);
	ist_metric_observe(NULL, NULL, 1);
	ck_assert(ist_metric_value(NULL, NULL) == 0);
	ist_metrics_free(NULL);
	ist_metrics_free(r);
}
END_TEST

/* ---- concurrency ------------------------------------------------------ */

#define THREADS 8
#define ROUNDS 20000

struct worker {
	struct ist_metric *c, *g, *h;
	int id;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char label[16];
	for (int i = 0; i < ROUNDS; i++) {
		snprintf(label, sizeof(label), "l%d", i % 5);
		ist_metric_inc(w->c, label);
		ist_metric_add(w->g, NULL, 2);
		ist_metric_observe(w->h, NULL, (i % 2) ? 0.5 : 2.0);
	}
	return NULL;
}

START_TEST(test_concurrent_exact)
{
	struct ist_metrics *r = ist_metrics_new();
	const double bounds[] = { 1 };
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct ist_metric *c = ist_metrics_counter(r, "conc_total", "Concurrent.", "k");
	struct ist_metric *g = ist_metrics_gauge(r, "conc_gauge", "Concurrent.", NULL);
	struct ist_metric *h = ist_metrics_histogram(r, "conc_hist", "Concurrent.", NULL, bounds, 1);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .c = c, .g = g, .h = h, .id = i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	/* rendering while the workers run must be safe (snapshot per family) */
	for (int i = 0; i < 50; i++)
		free(render(r));
	for (int i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (int k = 0; k < 5; k++) {
		char label[16];
		snprintf(label, sizeof(label), "l%d", k);
		ck_assert(ist_metric_value(c, label) == THREADS * ROUNDS / 5);
	}
	ck_assert(ist_metric_value(g, NULL) == 2.0 * THREADS * ROUNDS);
	ck_assert(ist_metric_value(h, NULL) == THREADS * ROUNDS);
	char *text = render(r);
	char want[128];
	snprintf(want, sizeof(want), "conc_hist_bucket{le=\"1\"} %d\n", THREADS * ROUNDS / 2);
	ck_assert_ptr_nonnull(strstr(text, want));
	snprintf(want, sizeof(want), "conc_hist_sum %d\n", THREADS * ROUNDS / 2 * 5 / 2);
	ck_assert_ptr_nonnull(strstr(text, want));
	free(text);
	ist_metrics_free(r);
}
END_TEST

/* ---- promtool --------------------------------------------------------- */

/* Runs `promtool check metrics` with `text` on its stdin. Returns its exit
 * status, or -1 when promtool is not installed; its output goes to *ret_out. */
static int promtool_check(const char *text, char **ret_out)
{
	char *dir = ist_test_tmpdir("ist-metrics");
	char *in = NULL, *out = NULL;
	ck_assert_int_gt(asprintf(&in, "%s/metrics.txt", dir), 0);
	ck_assert_int_gt(asprintf(&out, "%s/promtool.out", dir), 0);
	FILE *f = fopen(in, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	char *argv[] = { "promtool", "check", "metrics", NULL };
	pid_t pid;
	int rc = posix_spawnp(&pid, "promtool", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	int result = -1;
	*ret_out = NULL;
	if (rc == 0) {
		int st;
		ck_assert_int_eq(waitpid(pid, &st, 0), pid);
		ck_assert_msg(WIFEXITED(st), "promtool did not exit normally");
		result = WEXITSTATUS(st);
		*ret_out = ist_test_read_file(out, NULL);
	} else {
		ck_assert_msg(rc == ENOENT, "posix_spawnp promtool: %s", strerror(rc));
	}
	ist_test_rmtree(dir);
	free(in);
	free(out);
	free(dir);
	return result;
}

START_TEST(test_promtool_accepts)
{
	struct ist_metrics *r = ist_metrics_new();
	const double bounds[] = { 0.001, 0.01, 0.1, 1, 10 };
	struct ist_metric *c = ist_metrics_counter(r, "isthmus_test_events_total", "Events by \"kind\"\\\nsecond line.", "kind");
	struct ist_metric *g = ist_metrics_gauge(r, "isthmus_test_level", "Levels.", "which");
	struct ist_metric *h = ist_metrics_histogram(r, "isthmus_test_duration_seconds", "Durations.", "op", bounds,
						     IST_ARRAY_SIZE(bounds));
	ck_assert_ptr_nonnull(ist_metrics_counter(r, "isthmus_test_unused_total", "Never used, no series.", "x"));
	ck_assert_ptr_nonnull(ist_metrics_gauge(r, "isthmus_test_plain", "A plain gauge.", NULL));
	ist_metric_inc(c, "a\\b\"c\nd");
	ist_metric_inc(c, "caf\xc3\xa9");
	ist_metric_inc(c, "bad\xff");
	ist_metric_set(g, "nan", NAN);
	ist_metric_set(g, "pinf", INFINITY);
	ist_metric_set(g, "ninf", -INFINITY);
	ist_metric_set(g, "small", 1e-300);
	ist_metric_set(g, "big", -1.5e300);
	ist_metric_observe(h, "read", 0.0005);
	ist_metric_observe(h, "read", 0.05);
	ist_metric_observe(h, "write", 100);
	char *text = render(r);
	char *out = NULL;
	int rc = promtool_check(text, &out);
	if (rc < 0) {
		printf("# SKIP promtool check: promtool is not installed (tools/setup installs it)\n");
		fflush(stdout);
	} else {
		ck_assert_msg(rc == 0, "promtool check metrics failed (%d): %s\n--- input:\n%s", rc, out, text);
	}
	free(out);
	free(text);
	/* and the check is real: promtool refuses a broken exposition */
	rc = promtool_check("# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"\\q\"} 1\n", &out);
	if (rc >= 0)
		ck_assert_int_ne(rc, 0);
	free(out);
	ist_metrics_free(r);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_counter_golden);
	tcase_add_test(tc, test_gauge_golden);
	tcase_add_test(tc, test_histogram_golden);
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_value_truncated);
	tcase_add_test(tc, test_series_bound);
	tcase_add_test(tc, test_reregistration);
	tcase_add_test(tc, test_invalid_rejected);
	tcase_add_test(tc, test_concurrent_exact);
	tcase_add_test(tc, test_promtool_accepts);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ist_test_run(metrics_suite());
}
