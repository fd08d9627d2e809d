/*
 * bench-node: committed items per second and commit latency of a local
 * cluster of real isthmusd processes, fed through the HTTP API.
 *
 *   bench-node --isthmus PATH --isthmusd PATH [--output FILE] [--n N]...
 *              [--batch B]... [--window K]... [--warmup S] [--seconds S]
 *              [--poll-ms MS] [--idle-wait S] [--tmpdir DIR] [--keep]
 *
 * For each cluster size n (default 4 and 7), batch size B (default 1, 100
 * and 400) and window K (default 1 and 2): `isthmus testnet
 * --max-block-items B` in a new directory under TMPDIR, n isthmusd
 * processes (logs beside their homes), then a load of 32-byte data items:
 *
 *   - one submitter thread per node keeps K * B items outstanding at that
 *     node (submitted, not yet seen committed), topping up with one
 *     POST /v1/txs of up to 1024 items whenever it falls below; there is no
 *     mempool gossip, so every node gets its own share and proposes it when
 *     it leads;
 *   - the main thread follows the chain on node 0 (GET /v1/blocks/{h+1},
 *     again after --poll-ms while the answer is 404) and marks each of its
 *     items committed at the time it read the block.
 *
 * Each item carries a run tag and a sequence number, so its latency is the
 * client's clock from just before its POST to the read of the block that
 * holds it (both CLOCK_MONOTONIC). Items committed during the warm-up are
 * not counted; throughput is items (and blocks) seen committed in the
 * measured window divided by its length; the percentiles are over those
 * items. CPU over the same window, in percent of one core: the nodes' from
 * /proc/PID/stat, this process's from getrusage, and the rest of the
 * machine's (other jobs) from /proc/stat.
 *
 * On a shared machine, --idle-wait S waits before each run (up to S
 * seconds) until the machine is idle (under 15% of one core busy over 2 s);
 * the "other" column shows what other processes took during the run anyway.
 *
 * Every wait is bounded: the cluster must answer within 30 s, a run stops
 * at warm-up + measure seconds, and a chain that commits nothing for 10 s
 * fails the run. The nodes get SIGTERM at the end and SIGKILL if they are
 * not gone 10 s later; on SIGINT/SIGTERM/SIGHUP, or if this process dies,
 * they get SIGKILL (PR_SET_PDEATHSIG). A failed run keeps its directory.
 *
 * Prints a table and writes JSON (default build/bench/node.json). A
 * benchmark, not a test: nothing here asserts a speed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ITEM_BYTES 32
#define POST_MAX_ITEMS 1024          /* the API's limit per request */
#define SEQ_CAP (1u << 22)           /* items one run may submit */
#define MAX_NODES 16
#define MAX_RUNS 32
#define MAX_LIST 8
#define READY_TIMEOUT_S 30
#define STALL_TIMEOUT_S 10
#define STOP_TIMEOUT_S 10
#define IO_TIMEOUT_S 10
#define TMPFS_MAGIC_ 0x01021994
#define IDLE_PCT 15                  /* --idle-wait: "idle" is under 15% of one core busy */
#define IDLE_SAMPLE_MS 2000
#define IST_CLAMP(x, lo, hi) ((x) < (lo) ? (lo) : (x) > (hi) ? (hi) : (x))

/* libhotstuff (its own client, 4 replicas, best settings) on the same
 * 2-core machine: the figures. */
struct reference {
	uint32_t batch;
	double items_s, p50_ms;
};
static const struct reference refs[] = {
	{ 1, 440, 8 }, { 10, 5000, 13 }, { 100, 14000, 50 }, { 400, 27000, 100 },
};

static const struct reference *reference_for(uint32_t batch)
{
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		if (refs[i].batch == batch)
			return &refs[i];
	return NULL;
}

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void sleep_ms(unsigned ms)
{
	struct timespec t = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* ---- the node processes (killed with SIGKILL on any way out) ---- */

static volatile sig_atomic_t g_n_pids;
static volatile pid_t g_pids[MAX_NODES];
static char g_dir[PATH_MAX];   /* the current run's directory, for the signal handler */

static void kill_all(void)
{
	for (int i = 0; i < g_n_pids; i++)
		if (g_pids[i] > 0)
			kill(g_pids[i], SIGKILL);
}

static void on_signal(int sig)
{
	kill_all();
	if (g_dir[0]) {
		/* write(2) only: async-signal-safe */
		static const char a[] = "\nbench-node: interrupted; the nodes are killed, their homes left in ";
		ssize_t ignored = write(2, a, sizeof(a) - 1);
		ignored = write(2, g_dir, strlen(g_dir));
		ignored = write(2, "\n", 1);
		(void)ignored;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Runs argv with stdin from /dev/null and stdout and stderr appended to
 * log. Returns the pid, or -1. The child dies with this process. */
static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int in = open("/dev/null", O_RDONLY);
	int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	execv(argv[0], argv);
	dprintf(2, "bench-node: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Node CPU seconds (user + system) from /proc/PID/stat, or -1. */
static double proc_cpu_s(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	const char *p = strrchr(buf, ')');
	unsigned long ut, st;
	/* after the command: state (3) ... utime (14), stime (15) */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* The machine's busy CPU seconds (all cores) from /proc/stat, or -1. */
static double machine_busy_s(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return -1;
	unsigned long long v[8] = { 0 };
	int k = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		       &v[6], &v[7]);
	fclose(f);
	if (k < 5)
		return -1;
	/* user nice system idle iowait irq softirq steal: all but idle and iowait */
	unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec * 1e-6;
}

/* ---- HTTP/1.1 on one keep-alive TCP connection (the node's API sends
 * Content-Length on every answer) ---- */

struct conn {
	uint16_t port;
	int fd;
	char *buf;
	size_t cap, len;     /* received bytes not yet consumed */
	char *req;
	size_t req_cap;
};

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static int conn_open(struct conn *c)
{
	conn_close(c);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(c->port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	c->fd = fd;
	return 0;
}

static void conn_fini(struct conn *c)
{
	conn_close(c);
	free(c->buf);
	free(c->req);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads until at least `want` bytes are buffered. */
static int fill(struct conn *c, size_t want)
{
	if (want + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		while (cap < want + 1)
			cap *= 2;
		char *nb = realloc(c->buf, cap);
		if (!nb)
			return -1;
		c->buf = nb;
		c->cap = cap;
	}
	while (c->len < want) {
		ssize_t r = recv(c->fd, c->buf + c->len, c->cap - 1 - c->len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c->len += (size_t)r;
	}
	return 0;
}

/*
 * One request and its answer. Out: the status and the body (in c's buffer,
 * NUL-terminated, valid until the next call on c). A GET is retried once on
 * a new connection if the old one was closed; a POST is not (it may have
 * been taken). Returns 0 or -1.
 */
static int http_do(struct conn *c, const char *method, const char *path, const char *body, size_t blen,
		   int *ret_status, const char **ret_body, size_t *ret_len)
{
	bool get = body == NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0 && conn_open(c) < 0)
			return -1;
		size_t need = 256 + strlen(path) + blen;
		if (need > c->req_cap) {
			char *nr = realloc(c->req, need);
			if (!nr)
				return -1;
			c->req = nr;
			c->req_cap = need;
		}
		int hl = get ? snprintf(c->req, c->req_cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", method, path,
					c->port)
			     : snprintf(c->req, c->req_cap,
					"%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Type: application/json\r\n"
					"Content-Length: %zu\r\n\r\n",
					method, path, c->port, blen);
		if (hl < 0 || (size_t)hl + blen > c->req_cap)
			return -1;
		if (blen)
			memcpy(c->req + hl, body, blen);
		c->len = 0;
		if (write_all(c->fd, c->req, (size_t)hl + blen) < 0 || fill(c, 1) < 0) {
			conn_close(c);
			if (get)
				continue;
			return -1;
		}
		/* the head */
		char *end;
		for (;;) {
			c->buf[c->len] = '\0';
			if ((end = strstr(c->buf, "\r\n\r\n")) != NULL)
				break;
			if (c->len > 65536 || fill(c, c->len + 1) < 0) {
				conn_close(c);
				return -1;
			}
		}
		size_t head = (size_t)(end - c->buf) + 4;
		int status = 0;
		if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1) {
			conn_close(c);
			return -1;
		}
		size_t clen = 0;
		bool have_len = false, closing = false;
		for (char *l = strstr(c->buf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
			if (strncasecmp(l + 2, "Content-Length:", 15) == 0) {
				clen = strtoul(l + 17, NULL, 10);
				have_len = true;
			} else if (strncasecmp(l + 2, "Connection: close", 17) == 0) {
				closing = true;
			}
		}
		if (!have_len || fill(c, head + clen) < 0) {
			conn_close(c);
			return -1;
		}
		memmove(c->buf, c->buf + head, clen);
		c->buf[clen] = '\0';
		c->len = 0;
		if (closing)
			close(c->fd), c->fd = -1;
		*ret_status = status;
		*ret_body = c->buf;
		*ret_len = clen;
		return 0;
	}
	return -1;
}

/* ---- the load ---- */

struct load {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint32_t n;
	uint32_t window;            /* items outstanding per node */
	uint16_t api_base;
	uint8_t tag[8];             /* this run's, in every item */
	uint64_t next_seq;
	uint64_t *t_sub, *t_com;    /* per sequence number, ns; 0 = not yet */
	uint64_t *t_prop;           /* per sequence number: its block's timestamp_ms, as ns */
	int64_t real_minus_mono;    /* CLOCK_REALTIME - CLOCK_MONOTONIC, ns */
	uint8_t *owner;             /* per sequence number: the node it went to */
	uint32_t outstanding[MAX_NODES];
	bool stop;
	bool failed;
	char why[2 * PATH_MAX];
	uint64_t posts, dups;
	uint64_t post_ns;           /* total time of the POSTs, request to answer */
};

struct submitter {
	struct load *ld;
	uint32_t node;
	pthread_t th;
};

static void load_fail(struct load *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void load_fail(struct load *ld, const char *fmt, ...)
{
	pthread_mutex_lock(&ld->mu);
	if (!ld->failed) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ld->why, sizeof(ld->why), fmt, ap);
		va_end(ap);
		ld->failed = true;
	}
	ld->stop = true;
	pthread_cond_broadcast(&ld->cv);
	pthread_mutex_unlock(&ld->mu);
}

static const char hexdig[] = "0123456789abcdef";

static void *submit_main(void *arg)
{
	struct submitter *s = arg;
	struct load *ld = s->ld;
	struct conn c = { .port = (uint16_t)(ld->api_base + s->node), .fd = -1 };
	char *body = malloc(16 + (size_t)POST_MAX_ITEMS * (2 * ITEM_BYTES + 3));
	if (!body) {
		load_fail(ld, "out of memory");
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&ld->mu);
		while (!ld->stop && ld->outstanding[s->node] >= ld->window) {
			struct timespec t;
			clock_gettime(CLOCK_REALTIME, &t);
			t.tv_nsec += 100000000L;
			if (t.tv_nsec >= 1000000000L)
				t.tv_sec++, t.tv_nsec -= 1000000000L;
			pthread_cond_timedwait(&ld->cv, &ld->mu, &t);
		}
		uint64_t k = ld->stop ? 0 : ld->window - ld->outstanding[s->node];
		if (k > POST_MAX_ITEMS)
			k = POST_MAX_ITEMS;
		if (k > SEQ_CAP - ld->next_seq)
			k = SEQ_CAP - ld->next_seq;
		if (k == 0) {
			bool stop = ld->stop;
			pthread_mutex_unlock(&ld->mu);
			if (stop)
				break;
			sleep_ms(10);   /* SEQ_CAP reached: wait for the end */
			continue;
		}
		uint64_t seq0 = ld->next_seq;
		ld->next_seq += k;
		ld->outstanding[s->node] += (uint32_t)k;
		uint64_t t = now_ns();
		for (uint64_t q = seq0; q < seq0 + k; q++) {
			ld->t_sub[q] = t;
			ld->owner[q] = (uint8_t)s->node;
		}
		ld->posts++;
		pthread_mutex_unlock(&ld->mu);

		/* item: tag (8) || sequence number (8, big endian) || node (1) || zeros */
		char *p = body;
		p += sprintf(p, "{\"data\":[");
		for (uint64_t q = seq0; q < seq0 + k; q++) {
			uint8_t item[ITEM_BYTES] = { 0 };
			memcpy(item, ld->tag, 8);
			for (int b = 0; b < 8; b++)
				item[8 + b] = (uint8_t)(q >> (56 - 8 * b));
			item[16] = (uint8_t)s->node;
			*p++ = q == seq0 ? '"' : ',';
			if (q != seq0)
				*p++ = '"';
			for (int b = 0; b < ITEM_BYTES; b++) {
				*p++ = hexdig[item[b] >> 4];
				*p++ = hexdig[item[b] & 15];
			}
			*p++ = '"';
		}
		p += sprintf(p, "]}");
		int status;
		const char *resp;
		size_t rlen;
		uint64_t t_post = now_ns();
		if (http_do(&c, "POST", "/v1/txs", body, (size_t)(p - body), &status, &resp, &rlen) < 0) {
			load_fail(ld, "node %u: POST /v1/txs: no answer", s->node);
			break;
		}
		t_post = now_ns() - t_post;
		pthread_mutex_lock(&ld->mu);
		ld->post_ns += t_post;
		pthread_mutex_unlock(&ld->mu);
		char want[48];
		snprintf(want, sizeof(want), "\"accepted\":%" PRIu64 "}", k);
		if (status != 202 || !strstr(resp, want)) {
			load_fail(ld, "node %u: POST /v1/txs: %d %.120s", s->node, status, resp);
			break;
		}
	}
	free(body);
	conn_fini(&c);
	return NULL;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* A committed block's items: marks ours committed at time t. Returns how
 * many items the block has, or -1 if the JSON is not a block. */
static long block_seen(struct load *ld, const char *body, size_t len, uint64_t height, uint64_t t)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	json_t *items = json_object_get(root, "items");
	const char *h = json_string_value(json_object_get(root, "height"));
	const char *ts = json_string_value(json_object_get(root, "timestamp_ms"));
	if (!json_is_array(items) || !h || strtoull(h, NULL, 10) != height || !ts) {
		json_decref(root);
		return -1;
	}
	/* the proposer's wall clock when it proposed, on our monotonic clock
	 * (same machine, so the same wall clock; millisecond resolution) */
	uint64_t t_prop = (uint64_t)((int64_t)(strtoull(ts, NULL, 10) * 1000000u) - ld->real_minus_mono);
	size_t k = json_array_size(items);
	pthread_mutex_lock(&ld->mu);
	for (size_t i = 0; i < k; i++) {
		const char *d = json_string_value(json_object_get(json_array_get(items, i), "data"));
		uint8_t item[17];
		if (!d || strlen(d) != 2 * ITEM_BYTES)
			continue;
		bool ok = true;
		for (int b = 0; b < 17; b++) {
			int hi = hexval(d[2 * b]), lo = hexval(d[2 * b + 1]);
			ok &= hi >= 0 && lo >= 0;
			item[b] = (uint8_t)(hi << 4 | lo);
		}
		if (!ok || memcmp(item, ld->tag, 8) != 0)
			continue;
		uint64_t q = 0;
		for (int b = 0; b < 8; b++)
			q = q << 8 | item[8 + b];
		if (q >= ld->next_seq || item[16] != ld->owner[q])
			continue;
		if (ld->t_com[q]) {
			ld->dups++;
			continue;
		}
		ld->t_com[q] = t;
		ld->t_prop[q] = t_prop;
		ld->outstanding[item[16]]--;
	}
	pthread_cond_broadcast(&ld->cv);
	pthread_mutex_unlock(&ld->mu);
	json_decref(root);
	return (long)k;
}

/* ---- one run: a cluster of n, batch B ---- */

struct row {
	uint32_t n, batch, window_blocks, window;
	double measure_s;
	uint64_t items, blocks, block_items, full_blocks, posts, dups, in_flight;
	double post_ms;
	double items_s, blocks_s, items_per_block;
	double p50_ms, p90_ms, p99_ms, max_ms, mean_ms;
	double queue_p50_ms, queue_p99_ms, cons_p50_ms, cons_p99_ms;
	double node_cpu_pct, client_cpu_pct, other_cpu_pct;
	bool ok;
	char why[2 * PATH_MAX];
};

struct opts {
	const char *isthmus, *isthmusd, *output, *tmpdir;
	double warmup_s, measure_s, idle_wait_s;
	uint32_t poll_ms;
	bool keep;
};

static bool port_free(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static uint16_t free_base_port(uint32_t n)
{
	for (int t = 0; t < 100; t++) {
		uint16_t base = (uint16_t)(20000 + (uint32_t)(rand() % 40000));
		bool ok = true;
		for (uint32_t i = 0; i < n && ok; i++)
			ok = port_free((uint16_t)(base + i)) && port_free((uint16_t)(base + 100 + i));
		if (ok)
			return base;
	}
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)v[i] / 1e6;
}

/* GET /v1/status: the height, or -1. */
static long long status_height(struct conn *c)
{
	int st;
	const char *b;
	size_t l;
	if (http_do(c, "GET", "/v1/status", NULL, 0, &st, &b, &l) < 0 || st != 200)
		return -1;
	const char *h = strstr(b, "\"height\":");
	return h ? strtoll(h + 9, NULL, 10) : -1;
}

/* The first node that has exited (left unreaped for stop_nodes), or -1. */
static int dead_node(uint32_t n, const pid_t *pids)
{
	for (uint32_t i = 0; i < n; i++) {
		siginfo_t si = { 0 };
		if (pids[i] > 0 && waitid(P_PID, (id_t)pids[i], &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
			return (int)i;
	}
	return -1;
}

/* Appends a note to w->why ("; " between notes). */
static void note(struct row *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct row *w, const char *fmt, ...)
{
	size_t len = strlen(w->why);
	if (len && len + 2 < sizeof(w->why)) {
		memcpy(w->why + len, "; ", 3);
		len += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->why + len, sizeof(w->why) - len, fmt, ap);
	va_end(ap);
}

static int exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Stops the nodes: notes any that died during the run, SIGTERM, then
 * SIGKILL after STOP_TIMEOUT_S. Returns true if a node misbehaved (died,
 * or did not stop cleanly). */
static bool stop_nodes(uint32_t n, pid_t *pids, struct row *w)
{
	bool trouble = false;
	for (uint32_t i = 0; i < n; i++) {
		int status = 0;
		if (pids[i] > 0 && waitpid(pids[i], &status, WNOHANG) == pids[i]) {
			note(w, "node %u died during the run (status %d)", i, exit_code(status));
			pids[i] = 0;
			trouble = true;
		}
	}
	for (uint32_t i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	uint64_t deadline = now_ns() + (uint64_t)STOP_TIMEOUT_S * 1000000000u;
	for (uint32_t i = 0; i < n; i++) {
		if (pids[i] <= 0)
			continue;
		int status = 0;
		pid_t r;
		while ((r = waitpid(pids[i], &status, WNOHANG)) == 0 && now_ns() < deadline)
			sleep_ms(20);
		if (r == 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &status, 0);
			note(w, "node %u did not stop on SIGTERM within %d s", i, STOP_TIMEOUT_S);
			trouble = true;
		} else if (r > 0 && exit_code(status) != 0) {
			note(w, "node %u exited with status %d on SIGTERM", i, exit_code(status));
			trouble = true;
		}
		pids[i] = 0;
	}
	for (uint32_t i = 0; i < MAX_NODES; i++)
		g_pids[i] = 0;
	g_n_pids = 0;
	return trouble;
}

/* Waits up to max_s for the machine to be idle: under IDLE_PCT of one core
 * busy over IDLE_SAMPLE_MS. Returns true once it is. */
static bool wait_idle(double max_s)
{
	uint64_t deadline = now_ns() + (uint64_t)(max_s * 1e9);
	do {
		double a = machine_busy_s();
		sleep_ms(IDLE_SAMPLE_MS);
		double b = machine_busy_s();
		if (a >= 0 && b >= 0 && 100 * (b - a) * 1000 / IDLE_SAMPLE_MS < IDLE_PCT)
			return true;
	} while (now_ns() < deadline);
	return false;
}

static void run(const struct opts *o, uint32_t n, uint32_t batch, uint32_t window_blocks, struct row *w)
{
	memset(w, 0, sizeof(*w));
	w->n = n;
	w->batch = batch;
	w->window_blocks = window_blocks;
	w->window = window_blocks * batch;
	w->measure_s = o->measure_s;
	pid_t pids[MAX_NODES] = { 0 };
	char dir[PATH_MAX], path[PATH_MAX + 64], arg_n[16], arg_port[16], arg_batch[16];
	struct load ld;
	memset(&ld, 0, sizeof(ld));
	pthread_mutex_init(&ld.mu, NULL);
	pthread_cond_init(&ld.cv, NULL);
	struct submitter subs[MAX_NODES];
	uint32_t n_subs = 0;
	struct conn follow = { .fd = -1 };
	uint64_t *lat = NULL;
	bool made_dir = false, keep = o->keep;

	if (o->idle_wait_s > 0 && !wait_idle(o->idle_wait_s))
		note(w, "the machine was still busy after %.0f s of --idle-wait", o->idle_wait_s);
	snprintf(dir, sizeof(dir), "%s/isthmus-bench-node.XXXXXX", o->tmpdir);
	if (!mkdtemp(dir)) {
		snprintf(w->why, sizeof(w->why), "mkdtemp %s: %s", dir, strerror(errno));
		goto out;
	}
	made_dir = true;
	memcpy(g_dir, dir, sizeof(g_dir));
	uint16_t base = free_base_port(n);
	if (!base) {
		snprintf(w->why, sizeof(w->why), "no free base port found");
		goto out;
	}
	snprintf(arg_n, sizeof(arg_n), "%u", n);
	snprintf(arg_port, sizeof(arg_port), "%u", base);
	snprintf(arg_batch, sizeof(arg_batch), "%u", batch);
	snprintf(path, sizeof(path), "%s/net", dir);
	char log[PATH_MAX + 64];
	snprintf(log, sizeof(log), "%s/testnet.log", dir);
	{
		char *argv[] = { (char *)o->isthmus, "testnet", "--validators", arg_n, "--output", path,
				 "--base-port", arg_port, "--max-block-items", arg_batch, "--kdf-fast", NULL };
		pid_t p = spawn(argv, log);
		int status = 0;
		if (p < 0 || waitpid(p, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			snprintf(w->why, sizeof(w->why), "isthmus testnet failed (see %s)", log);
			goto out;
		}
	}
	for (uint32_t i = 0; i < n; i++) {
		char home[PATH_MAX + 80];
		snprintf(home, sizeof(home), "%s/net/node%u", dir, i);
		snprintf(log, sizeof(log), "%s/node%u.log", dir, i);
		char *argv[] = { (char *)o->isthmusd, "--home", home, NULL };
		pids[i] = spawn(argv, log);
		g_pids[i] = pids[i];
		g_n_pids = (sig_atomic_t)(i + 1);
		if (pids[i] < 0) {
			snprintf(w->why, sizeof(w->why), "cannot start isthmusd: %s", strerror(errno));
			goto out;
		}
	}

	/* every node answers, and the chain moves */
	ld.api_base = (uint16_t)(base + 100);
	follow.port = ld.api_base;
	uint64_t deadline = now_ns() + (uint64_t)READY_TIMEOUT_S * 1000000000u;
	for (uint32_t i = 0; i < n; i++) {
		struct conn c = { .port = (uint16_t)(ld.api_base + i), .fd = -1 };
		long long h;
		while ((h = status_height(&c)) < (i == 0 ? 1 : 0) && now_ns() < deadline && dead_node(n, pids) < 0) {
			conn_close(&c);
			sleep_ms(50);
		}
		conn_fini(&c);
		if (h < (i == 0 ? 1 : 0)) {
			if (dead_node(n, pids) >= 0)
				snprintf(w->why, sizeof(w->why), "the cluster did not start");
			else
				snprintf(w->why, sizeof(w->why), "node %u not ready within %d s", i, READY_TIMEOUT_S);
			goto out;
		}
	}
	long long h0 = status_height(&follow);
	if (h0 < 0) {
		snprintf(w->why, sizeof(w->why), "node 0 stopped answering");
		goto out;
	}

	ld.n = n;
	ld.window = w->window;
	{
		struct timespec rt;
		clock_gettime(CLOCK_REALTIME, &rt);
		ld.real_minus_mono = (int64_t)((uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec) - (int64_t)now_ns();
	}
	uint64_t tag = ((uint64_t)getpid() << 32) ^ now_ns();
	for (int b = 0; b < 8; b++)
		ld.tag[b] = (uint8_t)(tag >> (8 * b));
	ld.t_sub = calloc(SEQ_CAP, sizeof(uint64_t));
	ld.t_com = calloc(SEQ_CAP, sizeof(uint64_t));
	ld.t_prop = calloc(SEQ_CAP, sizeof(uint64_t));
	ld.owner = calloc(SEQ_CAP, 1);
	if (!ld.t_sub || !ld.t_com || !ld.t_prop || !ld.owner) {
		snprintf(w->why, sizeof(w->why), "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < n; i++) {
		subs[i] = (struct submitter){ .ld = &ld, .node = i };
		if (pthread_create(&subs[i].th, NULL, submit_main, &subs[i]) != 0) {
			snprintf(w->why, sizeof(w->why), "cannot start a thread");
			load_fail(&ld, "stopped");
			goto out;
		}
		n_subs++;
	}

	/* follow node 0's chain */
	uint64_t t0 = now_ns();
	uint64_t t_warm = t0 + (uint64_t)(o->warmup_s * 1e9), t_end = t_warm + (uint64_t)(o->measure_s * 1e9);
	uint64_t next = (uint64_t)h0 + 1, last_block = t0, last_check = t0;
	bool warm = false;
	double cpu_nodes0 = 0, cpu_self0 = 0, cpu_all0 = 0;
	for (;;) {
		uint64_t t = now_ns();
		if (!warm && t >= t_warm) {
			warm = true;
			for (uint32_t i = 0; i < n; i++)
				cpu_nodes0 += proc_cpu_s(pids[i]);
			cpu_self0 = self_cpu_s();
			cpu_all0 = machine_busy_s();
		}
		if (t >= t_end)
			break;
		pthread_mutex_lock(&ld.mu);
		bool failed = ld.failed;
		pthread_mutex_unlock(&ld.mu);
		if (failed)
			break;
		if (t - last_check > 200000000u) {
			last_check = t;
			int d = dead_node(n, pids);
			if (d >= 0) {
				load_fail(&ld, "node %d died", d);
				break;
			}
		}
		if (t - last_block > (uint64_t)STALL_TIMEOUT_S * 1000000000u) {
			load_fail(&ld, "no block committed for %d s", STALL_TIMEOUT_S);
			break;
		}
		char p[64];
		snprintf(p, sizeof(p), "/v1/blocks/%" PRIu64, next);
		int st;
		const char *b;
		size_t l;
		if (http_do(&follow, "GET", p, NULL, 0, &st, &b, &l) < 0) {
			load_fail(&ld, "node 0: GET %s: no answer", p);
			break;
		}
		if (st == 404) {
			sleep_ms(o->poll_ms);
			continue;
		}
		t = now_ns();
		long k = st == 200 ? block_seen(&ld, b, l, next, t) : -1;
		if (k < 0) {
			load_fail(&ld, "node 0: GET %s: %d %.120s", p, st, b);
			break;
		}
		if (warm) {
			w->blocks++;
			w->block_items += (uint64_t)k;
			w->full_blocks += (uint64_t)k == batch;
		}
		last_block = t;
		next++;
	}
	double cpu_nodes1 = 0, cpu_self1 = self_cpu_s(), cpu_all1 = machine_busy_s();
	for (uint32_t i = 0; i < n; i++)
		cpu_nodes1 += proc_cpu_s(pids[i]);
	pthread_mutex_lock(&ld.mu);
	ld.stop = true;
	pthread_cond_broadcast(&ld.cv);
	pthread_mutex_unlock(&ld.mu);
	for (uint32_t i = 0; i < n_subs; i++)
		pthread_join(subs[i].th, NULL);
	n_subs = 0;
	if (ld.failed) {
		snprintf(w->why, sizeof(w->why), "%s", ld.why);
		goto out;
	}

	/* the items seen committed in the measured window: latency, and its two
	 * parts, submit to proposal (waiting in the mempool for the node's
	 * turn) and proposal to seen committed (consensus, storage, our poll) */
	size_t cap = ld.next_seq ? ld.next_seq : 1;
	lat = malloc(3 * cap * sizeof(*lat));
	if (!lat) {
		snprintf(w->why, sizeof(w->why), "out of memory");
		goto out;
	}
	size_t nl = 0;
	double sum = 0;
	for (uint64_t q = 0; q < ld.next_seq; q++) {
		if (!ld.t_com[q]) {
			w->in_flight++;
			continue;
		}
		if (ld.t_com[q] < t_warm || ld.t_com[q] >= t_end)
			continue;
		uint64_t prop = IST_CLAMP(ld.t_prop[q], ld.t_sub[q], ld.t_com[q]);
		lat[nl] = ld.t_com[q] - ld.t_sub[q];
		lat[cap + nl] = prop - ld.t_sub[q];
		lat[2 * cap + nl] = ld.t_com[q] - prop;
		sum += (double)lat[nl];
		nl++;
	}
	qsort(lat, nl, sizeof(*lat), cmp_u64);
	qsort(lat + cap, nl, sizeof(*lat), cmp_u64);
	qsort(lat + 2 * cap, nl, sizeof(*lat), cmp_u64);
	w->queue_p50_ms = pct_ms(lat + cap, nl, 0.50);
	w->queue_p99_ms = pct_ms(lat + cap, nl, 0.99);
	w->cons_p50_ms = pct_ms(lat + 2 * cap, nl, 0.50);
	w->cons_p99_ms = pct_ms(lat + 2 * cap, nl, 0.99);
	w->items = nl;
	w->items_s = (double)nl / o->measure_s;
	w->blocks_s = (double)w->blocks / o->measure_s;
	w->items_per_block = w->blocks ? (double)w->block_items / (double)w->blocks : 0;
	w->p50_ms = pct_ms(lat, nl, 0.50);
	w->p90_ms = pct_ms(lat, nl, 0.90);
	w->p99_ms = pct_ms(lat, nl, 0.99);
	w->max_ms = nl ? (double)lat[nl - 1] / 1e6 : 0;
	w->mean_ms = nl ? sum / (double)nl / 1e6 : 0;
	w->node_cpu_pct = 100 * (cpu_nodes1 - cpu_nodes0) / o->measure_s;
	w->client_cpu_pct = 100 * (cpu_self1 - cpu_self0) / o->measure_s;
	/* other processes: what the machine was busy with besides the nodes and us */
	w->other_cpu_pct = 100 * (cpu_all1 - cpu_all0) / o->measure_s - w->node_cpu_pct - w->client_cpu_pct;
	if (w->other_cpu_pct < 0)
		w->other_cpu_pct = 0;
	w->posts = ld.posts;
	w->post_ms = ld.posts ? (double)ld.post_ns / (double)ld.posts / 1e6 : 0;
	w->dups = ld.dups;
	w->ok = nl > 0;
	if (!w->ok)
		snprintf(w->why, sizeof(w->why), "no item committed in the measured window");
out:
	if (n_subs) {
		load_fail(&ld, "stopped");
		for (uint32_t i = 0; i < n_subs; i++)
			pthread_join(subs[i].th, NULL);
	}
	conn_fini(&follow);
	if (stop_nodes(n, pids, w) || !w->ok)
		keep = true;
	g_dir[0] = '\0';
	if (made_dir && !keep) {
		char *argv[] = { "/bin/rm", "-rf", dir, NULL };
		pid_t p = spawn(argv, "/dev/null");
		if (p > 0)
			waitpid(p, NULL, 0);
	} else if (made_dir) {
		note(w, "node homes and logs kept in %s", dir);
	}
	free(lat);
	free(ld.t_sub);
	free(ld.t_com);
	free(ld.t_prop);
	free(ld.owner);
	pthread_cond_destroy(&ld.cv);
	pthread_mutex_destroy(&ld.mu);
}

/* ---- output ---- */

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

static void print_row(const struct row *w)
{
	const struct reference *ref = reference_for(w->batch);
	char refs_txt[48] = "-";
	if (ref)
		snprintf(refs_txt, sizeof(refs_txt), "%.0f/s, p50 %.0f ms", ref->items_s, ref->p50_ms);
	if (!w->ok) {
		printf("%3u %6u %7u   failed: %s\n", w->n, w->batch, w->window, w->why);
		return;
	}
	printf("%3u %6u %7u %9.0f %9.1f %9.1f %8.1f %8.1f %6.0f %6.0f %6.0f   %s\n", w->n, w->batch, w->window,
	       w->items_s, w->blocks_s, w->items_per_block, w->p50_ms, w->p99_ms, w->node_cpu_pct, w->client_cpu_pct,
	       w->other_cpu_pct, refs_txt);
	if (w->why[0])
		printf("    note: %s\n", w->why);
	fflush(stdout);
}

static int write_json(const char *output, const struct opts *o, const struct row *rows, size_t n_rows,
		      const char *fs)
{
	if (mkdirs_for(output) < 0) {
		fprintf(stderr, "bench-node: cannot create the directory of %s: %s\n", output, strerror(errno));
		return -1;
	}
	FILE *f = fopen(output, "w");
	if (!f) {
		fprintf(stderr, "bench-node: cannot write %s: %s\n", output, strerror(errno));
		return -1;
	}
	fprintf(f, "{\n  \"benchmark\": \"node\",\n  \"item_bytes\": %d,\n  \"warmup_s\": %.1f,\n  \"measure_s\": %.1f,\n"
		   "  \"poll_ms\": %u,\n  \"idle_wait_s\": %.0f,\n  \"data_fs\": \"%s\",\n  \"cpus\": %ld,\n"
		   "  \"reference\": {\"name\": \"libhotstuff\", \"replicas\": 4, \"results\": [",
		ITEM_BYTES, o->warmup_s, o->measure_s, o->poll_ms, o->idle_wait_s, fs, sysconf(_SC_NPROCESSORS_ONLN));
	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
		fprintf(f, "%s{\"batch\": %u, \"items_per_s\": %.0f, \"p50_ms\": %.0f}", i ? ", " : "", refs[i].batch,
			refs[i].items_s, refs[i].p50_ms);
	fprintf(f, "]},\n  \"results\": [\n");
	for (size_t k = 0; k < n_rows; k++) {
		const struct row *w = &rows[k];
		fprintf(f, "    {\"n\": %u, \"batch\": %u, \"window_blocks\": %u, \"window_per_node\": %u, \"ok\": %s",
			w->n, w->batch, w->window_blocks, w->window, w->ok ? "true" : "false");
		if (w->ok)
			fprintf(f,
				", \"items\": %" PRIu64 ", \"items_per_s\": %.1f, \"blocks\": %" PRIu64
				", \"blocks_per_s\": %.2f, \"items_per_block\": %.2f, \"full_blocks\": %" PRIu64
				", \"latency_ms\": {\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"max\": %.2f, \"mean\": %.2f}"
				", \"to_proposal_ms\": {\"p50\": %.2f, \"p99\": %.2f}"
				", \"proposal_to_seen_ms\": {\"p50\": %.2f, \"p99\": %.2f}"
				", \"node_cpu_pct\": %.1f, \"client_cpu_pct\": %.1f, \"other_cpu_pct\": %.1f"
				", \"posts\": %" PRIu64 ", \"post_ms_mean\": %.3f"
				", \"duplicates\": %" PRIu64 ", \"in_flight_at_end\": %" PRIu64,
				w->items, w->items_s, w->blocks, w->blocks_s, w->items_per_block, w->full_blocks, w->p50_ms,
				w->p90_ms, w->p99_ms, w->max_ms, w->mean_ms, w->queue_p50_ms, w->queue_p99_ms,
				w->cons_p50_ms, w->cons_p99_ms, w->node_cpu_pct, w->client_cpu_pct,
				w->other_cpu_pct, w->posts, w->post_ms,
				w->dups, w->in_flight);
		if (w->why[0]) {
			fprintf(f, ", \"note\": \"");
			for (const char *p = w->why; *p; p++)
				fprintf(f, *p == '"' || *p == '\\' ? "\\%c" : ((unsigned char)*p < 0x20 ? "?" : "%c"), *p);
			fprintf(f, "\"");
		}
		fprintf(f, "}%s\n", k + 1 < n_rows ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "bench-node: cannot write %s\n", output);
		return -1;
	}
	return 0;
}

static bool parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || !*s || *end || v < min || v > max)
		return false;
	*ret = (uint32_t)v;
	return true;
}

static bool parse_secs(const char *s, double min, double max, double *ret)
{
	char *end;
	double v = strtod(s, &end);
	if (!*s || *end || !(v >= min && v <= max))
		return false;
	*ret = v;
	return true;
}

/* Appends a number of a repeatable option, replacing the defaults at the
 * first one. */
static bool list_add(uint32_t *v, size_t *len, bool *custom, const char *s, uint32_t min, uint32_t max)
{
	if (!*custom) {
		*len = 0;
		*custom = true;
	}
	return *len < MAX_LIST && parse_u32(s, min, max, &v[(*len)++]);
}

int main(int argc, char **argv)
{
	struct opts o = { .output = "build/bench/node.json", .warmup_s = 2, .measure_s = 10, .poll_ms = 1 };
	uint32_t ns[MAX_LIST] = { 4, 7 }, batches[MAX_LIST] = { 1, 100, 400 }, windows[MAX_LIST] = { 1, 2 };
	size_t n_ns = 2, n_batches = 3, n_windows = 2;
	bool custom_n = false, custom_b = false, custom_w = false;
	o.tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	bool bad = false;
	for (int i = 1; i < argc && !bad; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--keep")) {
			o.keep = true;
			continue;
		}
		if (!v) {
			bad = true;
			break;
		}
		i++;
		if (!strcmp(a, "--isthmus"))
			o.isthmus = v;
		else if (!strcmp(a, "--isthmusd"))
			o.isthmusd = v;
		else if (!strcmp(a, "--output"))
			o.output = v;
		else if (!strcmp(a, "--tmpdir"))
			o.tmpdir = v;
		else if (!strcmp(a, "--n"))
			bad = !list_add(ns, &n_ns, &custom_n, v, 1, MAX_NODES);
		else if (!strcmp(a, "--batch"))
			bad = !list_add(batches, &n_batches, &custom_b, v, 1, POST_MAX_ITEMS);
		else if (!strcmp(a, "--window"))
			bad = !list_add(windows, &n_windows, &custom_w, v, 1, 16);
		else if (!strcmp(a, "--warmup"))
			bad = !parse_secs(v, 0, 600, &o.warmup_s);
		else if (!strcmp(a, "--seconds"))
			bad = !parse_secs(v, 0.5, 600, &o.measure_s);
		else if (!strcmp(a, "--idle-wait"))
			bad = !parse_secs(v, 0, 3600, &o.idle_wait_s);
		else if (!strcmp(a, "--poll-ms"))
			bad = !parse_u32(v, 1, 1000, &o.poll_ms);
		else
			bad = true;
	}
	if (bad || !o.isthmus || !o.isthmusd || n_ns * n_batches * n_windows > MAX_RUNS) {
		fprintf(stderr,
			"usage: %s --isthmus PATH --isthmusd PATH [--output FILE] [--n N]... [--batch B]...\n"
			"       [--window K]... [--warmup S] [--seconds S] [--poll-ms MS] [--idle-wait S]\n"
			"       [--tmpdir DIR] [--keep]\n"
			"(at most %d runs: n x batch x window)\n",
			argv[0], MAX_RUNS);
		return 2;
	}

	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)(now_ns() ^ (uint64_t)getpid()));

	struct statfs sf;
	const char *fs = "unknown";
	if (statfs(o.tmpdir, &sf) == 0)
		fs = sf.f_type == TMPFS_MAGIC_ ? "tmpfs" : "disk";
	printf("node benchmark: local isthmusd clusters; %d-byte data items through POST /v1/txs, blocks of at\n"
	       "most `batch` items; `window` items outstanding per node; %.0f s warm-up, %.0f s measured; latency\n"
	       "= submit to seen committed on node 0 (client clock); cpu: %% of one core (%ld cores) for the\n"
	       "nodes, this client and other processes; node data in %s (%s)\n\n",
	       ITEM_BYTES, o.warmup_s, o.measure_s, sysconf(_SC_NPROCESSORS_ONLN), o.tmpdir, fs);
	if (o.idle_wait_s > 0)
		printf("each run waits up to %.0f s for the machine to be idle (under %d%% of one core busy)\n\n",
		       o.idle_wait_s, IDLE_PCT);
	if (!strcmp(fs, "tmpfs"))
		printf("WARNING: %s is tmpfs: fsync costs nothing there, the figures are not durable ones\n\n", o.tmpdir);
	printf("%3s %6s %7s %9s %9s %9s %8s %8s %6s %6s %6s   %s\n", "n", "batch", "window", "items/s", "blocks/s",
	       "items/blk", "p50 ms", "p99 ms", "nodes", "client", "other", "libhotstuff (4 replicas)");
	static struct row rows[MAX_RUNS];
	size_t n_rows = 0;
	int failed = 0;
	for (size_t i = 0; i < n_ns; i++) {
		for (size_t j = 0; j < n_batches; j++) {
			for (size_t k = 0; k < n_windows; k++) {
				struct row *w = &rows[n_rows++];
				run(&o, ns[i], batches[j], windows[k], w);
				failed += !w->ok;
				print_row(w);
			}
		}
	}
	if (write_json(o.output, &o, rows, n_rows, fs) < 0)
		return 1;
	printf("\nwrote %s\n", o.output);
	return failed ? 1 : 0;
}
