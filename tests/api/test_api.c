/*
 * The HTTP API end to end: a real NNG HTTP server on 127.0.0.1, real sockets
 * and a real client (NNG's HTTP client; a raw socket where the exact bytes on
 * the wire matter: HEAD, Expect: 100-continue, chunked and oversized bodies).
 * Only the data source is a fake.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/api.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/metrics.h"
#include "lib/ist_test.h"

extern char **environ;

/* ---- the fake source -------------------------------------------------- */

struct fake {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ist_api_status st;
	int status_rc;
	bool healthy;
	char why[64];
	int tx_rc;
	bool tx_reply;                /* write {"tx_id":...} on success */
	uint8_t tx_body[4096];
	size_t tx_len;
	unsigned tx_calls;
	uint64_t last_height;
	/* a status call that blocks until released (lifecycle test) */
	bool block_status;
	bool entered, released, returned;
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->st.height = 42;
	f->st.view = 57;
	f->st.epoch = 3;
	f->st.peers_connected = 3;
	f->st.peers_total = 4;
	f->st.last_commit_ms = 1700000000123ull;
	memset(f->st.last_block_id, 0xab, sizeof(f->st.last_block_id));
	memset(f->st.node_key, 0x01, sizeof(f->st.node_key));
	f->st.network_id = 18446744073709551615ull;
	snprintf(f->st.chain_id, sizeof(f->st.chain_id), "isthmus-devnet-1");
	snprintf(f->st.version, sizeof(f->st.version), "0.1.0");
	f->healthy = true;
	f->tx_reply = true;
}

static void fake_fini(struct fake *f)
{
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
}

static int fake_status(void *ctx, struct ist_api_status *out)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	if (f->block_status) {
		f->entered = true;
		pthread_cond_broadcast(&f->cond);
		while (!f->released)
			pthread_cond_wait(&f->cond, &f->lock);
	}
	*out = f->st;
	int rc = f->status_rc;
	f->returned = true;
	pthread_mutex_unlock(&f->lock);
	return rc;
}

static int fake_block(void *ctx, uint64_t height, struct ist_buf *json_out)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	f->last_height = height;
	pthread_mutex_unlock(&f->lock);
	if (height == 0 || height > 3)
		return -IST_ENOTFOUND;
	char doc[128];
	int n = snprintf(doc, sizeof(doc), "{\"height\":%llu,\"proposer\":\"v%llu\"}", (unsigned long long)height,
			 (unsigned long long)height % 4);
	ist_buf_put(json_out, doc, (size_t)n);
	return 0;
}

static bool fake_healthy(void *ctx, char *why, size_t len)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	bool ok = f->healthy;
	if (!ok)
		snprintf(why, len, "%s", f->why);
	pthread_mutex_unlock(&f->lock);
	return ok;
}

static int fake_submit(void *ctx, const uint8_t *body, size_t len, struct ist_buf *json_out)
{
	struct fake *f = ctx;
	pthread_mutex_lock(&f->lock);
	f->tx_calls++;
	f->tx_len = IST_MIN(len, sizeof(f->tx_body));
	memcpy(f->tx_body, body, f->tx_len);
	int rc = f->tx_rc;
	bool reply = f->tx_reply;
	pthread_mutex_unlock(&f->lock);
	if (rc == 0 && reply) {
		char doc[64];
		int n = snprintf(doc, sizeof(doc), "{\"tx_id\":\"len-%zu\"}", len);
		ist_buf_put(json_out, doc, (size_t)n);
	}
	return rc;
}

static struct ist_api_source fake_source(struct fake *f)
{
	return (struct ist_api_source){
		.status = fake_status,
		.block = fake_block,
		.healthy = fake_healthy,
		.submit_tx = fake_submit,
		.ctx = f,
	};
}

/* ---- a server per test ------------------------------------------------ */

#define MAX_BODY 1024

static struct fake F;
static struct ist_metrics *M;
static struct ist_api *A;
static uint16_t PORT;

static struct ist_api *start_api(const struct ist_api_config *cfg, const struct ist_api_source *src,
				 struct ist_metrics *metrics)
{
	char err[256] = "";
	struct ist_api *api = ist_api_new(cfg, src, metrics, err, sizeof(err));
	ck_assert_msg(api != NULL, "ist_api_new: %s", err);
	ck_assert_uint_eq(ist_api_port(api), 0);
	int rc = ist_api_start(api, err, sizeof(err));
	ck_assert_msg(rc == 0, "ist_api_start: %s (%s)", ist_strerror(rc), err);
	ck_assert_uint_ne(ist_api_port(api), 0);
	return api;
}

static void setup(void)
{
	fake_init(&F);
	M = ist_metrics_new();
	ck_assert_ptr_nonnull(M);
	struct ist_api_config cfg = { .listen_url = "http://127.0.0.1:0", .max_body = MAX_BODY };
	struct ist_api_source src = fake_source(&F);
	A = start_api(&cfg, &src, M);
	PORT = ist_api_port(A);
}

static void teardown(void)
{
	ist_api_free(A);
	A = NULL;
	ist_metrics_free(M);
	M = NULL;
	fake_fini(&F);
}

/* ---- NNG's HTTP client ------------------------------------------------ */

struct reply {
	int status;
	char ctype[128];
	char allow[64];
	char retry_after[16];
	char connection[32];
	char *body;     /* NUL-terminated */
	size_t len;
	json_t *json;   /* parsed when the type is application/json */
};

static void copy_header(nng_http_res *res, const char *name, char *out, size_t outlen)
{
	const char *v = nng_http_res_get_header(res, name);
	snprintf(out, outlen, "%s", v ? v : "");
}

static void http_call(uint16_t port, const char *method, const char *uri, const void *body, size_t len,
		      const char *hname, const char *hval, struct reply *out)
{
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%u/", (unsigned)port);
	nng_url *url;
	nng_http_client *cli;
	nng_http_req *req;
	nng_http_res *res;
	nng_aio *aio;
	ck_assert_int_eq(nng_url_parse(&url, base), 0);
	ck_assert_int_eq(nng_http_client_alloc(&cli, url), 0);
	ck_assert_int_eq(nng_http_req_alloc(&req, url), 0);
	ck_assert_int_eq(nng_http_res_alloc(&res), 0);
	ck_assert_int_eq(nng_http_req_set_method(req, method), 0);
	ck_assert_int_eq(nng_http_req_set_uri(req, uri), 0);
	if (body)
		ck_assert_int_eq(nng_http_req_copy_data(req, body, len), 0);
	if (hname)
		ck_assert_int_eq(nng_http_req_set_header(req, hname, hval), 0);
	ck_assert_int_eq(nng_aio_alloc(&aio, NULL, NULL), 0);
	/* a guard against a hung test, not a timing assertion */
	nng_aio_set_timeout(aio, 60000);
	nng_http_client_transact(cli, req, res, aio);
	nng_aio_wait(aio);
	int rv = nng_aio_result(aio);
	ck_assert_msg(rv == 0, "%s %s: %s", method, uri, nng_strerror(rv));

	memset(out, 0, sizeof(*out));
	out->status = nng_http_res_get_status(res);
	copy_header(res, "Content-Type", out->ctype, sizeof(out->ctype));
	copy_header(res, "Allow", out->allow, sizeof(out->allow));
	copy_header(res, "Retry-After", out->retry_after, sizeof(out->retry_after));
	copy_header(res, "Connection", out->connection, sizeof(out->connection));
	void *data;
	size_t size;
	nng_http_res_get_data(res, &data, &size);
	out->body = malloc(size + 1);
	ck_assert_ptr_nonnull(out->body);
	if (size)
		memcpy(out->body, data, size);
	out->body[size] = '\0';
	out->len = size;
	if (strncmp(out->ctype, "application/json", 16) == 0) {
		json_error_t jerr;
		out->json = json_loadb(out->body, out->len, 0, &jerr);
		ck_assert_msg(out->json != NULL, "%s %s: bad JSON (%s): %s", method, uri, jerr.text, out->body);
	}
	nng_aio_free(aio);
	nng_http_res_free(res);
	nng_http_req_free(req);
	nng_http_client_free(cli);
	nng_url_free(url);
}

static void reply_fini(struct reply *r)
{
	free(r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

static void get(const char *uri, struct reply *out)
{
	http_call(PORT, "GET", uri, NULL, 0, NULL, NULL, out);
}

/* Asserts a JSON error response {"error":{"code":code,"message":...}}. */
static void assert_error(const struct reply *r, int status, const char *code)
{
	ck_assert_msg(r->status == status, "status %d, expected %d: %s", r->status, status, r->body);
	ck_assert_str_eq(r->ctype, "application/json");
	ck_assert_ptr_nonnull(r->json);
	ck_assert_uint_eq(json_object_size(r->json), 1);
	json_t *e = json_object_get(r->json, "error");
	ck_assert(json_is_object(e));
	ck_assert_str_eq(json_string_value(json_object_get(e, "code")), code);
	const char *msg = json_string_value(json_object_get(e, "message"));
	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_gt(strlen(msg), 0);
}

/* ---- raw sockets ------------------------------------------------------ */

static int raw_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	struct timeval tv = { .tv_sec = 60 };  /* hang guard only */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s", strerror(errno));
	return fd;
}

static void raw_send(int fd, const void *p, size_t len)
{
	const char *c = p;
	while (len > 0) {
		ssize_t n = send(fd, c, len, MSG_NOSIGNAL);
		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		c += n;
		len -= (size_t)n;
	}
}

/* Reads until `stop` appears (NULL: until EOF or a reset). Returns a
 * malloc'd NUL-terminated string. */
static char *raw_read(int fd, const char *stop)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	ck_assert_ptr_nonnull(buf);
	for (;;) {
		buf[len] = '\0';
		if (stop && strstr(buf, stop))
			break;
		if (len + 1 == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			break;
		ck_assert_msg(n > 0, "recv: %s", strerror(errno));
		len += (size_t)n;
	}
	ck_assert_msg(!stop || strstr(buf, stop), "connection ended before \"%s\": %s", stop, buf);
	return buf;
}

/* Sends `request` on a new connection and reads the reply until EOF. */
static char *raw_exchange(uint16_t port, const char *request)
{
	int fd = raw_connect(port);
	raw_send(fd, request, strlen(request));
	char *reply = raw_read(fd, NULL);
	close(fd);
	return reply;
}

/* ---- promtool --------------------------------------------------------- */

/* Returns promtool's exit status for `text`, or -1 when it is not installed. */
static int promtool_check(const char *text, char **ret_out)
{
	char *dir = ist_test_tmpdir("ist-api");
	char *in = NULL, *out = NULL;
	ck_assert_int_gt(asprintf(&in, "%s/metrics.txt", dir), 0);
	ck_assert_int_gt(asprintf(&out, "%s/promtool.out", dir), 0);
	FILE *f = fopen(in, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert(fputs(text, f) >= 0);
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
		ck_assert(WIFEXITED(st));
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

/* ---- tests ------------------------------------------------------------ */

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	ck_assert_msg(s != NULL, "no string \"%s\"", key);
	return s;
}

static json_int_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	ck_assert_msg(json_is_integer(v), "no integer \"%s\"", key);
	return json_integer_value(v);
}

START_TEST(test_status)
{
	struct reply r;
	get("/v1/status", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.ctype, "application/json");
	ck_assert_str_eq(jstr(r.json, "version"), "0.1.0");
	ck_assert_str_eq(jstr(r.json, "chain_id"), "isthmus-devnet-1");
	ck_assert_str_eq(jstr(r.json, "network_id"), "18446744073709551615");
	ck_assert_str_eq(jstr(r.json, "node_key"),
			 "0101010101010101010101010101010101010101010101010101010101010101");
	ck_assert_int_eq(jint(r.json, "height"), 42);
	ck_assert_int_eq(jint(r.json, "view"), 57);
	ck_assert_int_eq(jint(r.json, "epoch"), 3);
	json_t *peers = json_object_get(r.json, "peers");
	ck_assert_int_eq(jint(peers, "connected"), 3);
	ck_assert_int_eq(jint(peers, "total"), 4);
	json_t *last = json_object_get(r.json, "last_commit");
	ck_assert_int_eq(jint(last, "time_ms"), 1700000000123ll);
	ck_assert_str_eq(jstr(last, "block_id"),
			 "abababababababababababababababababababababababababababababababab");
	ck_assert_uint_eq(json_object_size(r.json), 9);
	reply_fini(&r);

	/* nothing committed yet: last_commit is null; a query string is ignored */
	pthread_mutex_lock(&F.lock);
	F.st.last_commit_ms = 0;
	F.st.height = 0;
	pthread_mutex_unlock(&F.lock);
	get("/v1/status?pretty=1", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(json_is_null(json_object_get(r.json, "last_commit")));
	ck_assert_int_eq(jint(r.json, "height"), 0);
	reply_fini(&r);

	/* the source failing maps to an HTTP status */
	pthread_mutex_lock(&F.lock);
	F.status_rc = -IST_EAGAIN;
	pthread_mutex_unlock(&F.lock);
	get("/v1/status", &r);
	assert_error(&r, 503, "unavailable");
	reply_fini(&r);
	pthread_mutex_lock(&F.lock);
	F.status_rc = -IST_EDB;
	pthread_mutex_unlock(&F.lock);
	get("/v1/status", &r);
	assert_error(&r, 500, "internal");
	reply_fini(&r);

	/* invalid UTF-8 from the source never reaches a client as JSON */
	pthread_mutex_lock(&F.lock);
	F.status_rc = 0;
	snprintf(F.st.chain_id, sizeof(F.st.chain_id), "bad\xff");
	pthread_mutex_unlock(&F.lock);
	get("/v1/status", &r);
	assert_error(&r, 500, "internal");
	reply_fini(&r);
}
END_TEST

START_TEST(test_blocks)
{
	struct reply r;
	get("/v1/blocks/2", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.ctype, "application/json");
	ck_assert_int_eq(jint(r.json, "height"), 2);
	ck_assert_str_eq(jstr(r.json, "proposer"), "v2");
	reply_fini(&r);

	get("/v1/blocks/99", &r);
	assert_error(&r, 404, "not_found");
	reply_fini(&r);
	ck_assert_uint_eq(F.last_height, 99);

	/* the largest height reaches the source, one more is a 400 */
	get("/v1/blocks/18446744073709551615", &r);
	assert_error(&r, 404, "not_found");
	reply_fini(&r);
	ck_assert(F.last_height == UINT64_MAX);
	F.last_height = 7;
	static const char *const bad[] = {
		"/v1/blocks/18446744073709551616", "/v1/blocks/99999999999999999999999",
		"/v1/blocks/abc", "/v1/blocks/-1", "/v1/blocks/+1", "/v1/blocks/1.5",
		"/v1/blocks/0x10", "/v1/blocks/", "/v1/blocks/1%20",
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(bad); i++) {
		get(bad[i], &r);
		assert_error(&r, 400, "bad_request");
		reply_fini(&r);
	}
	ck_assert_uint_eq(F.last_height, 7);  /* none of them reached the source */

	get("/v1/blocks", &r);
	assert_error(&r, 404, "not_found");
	reply_fini(&r);
	get("/v1/blocks/1/extra", &r);
	assert_error(&r, 404, "not_found");
	reply_fini(&r);
}
END_TEST

START_TEST(test_healthz)
{
	struct reply r;
	get("/healthz", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.ctype, "text/plain; charset=utf-8");
	ck_assert_str_eq(r.body, "ok\n");
	reply_fini(&r);

	pthread_mutex_lock(&F.lock);
	F.healthy = false;
	snprintf(F.why, sizeof(F.why), "no commit for 120 s");
	pthread_mutex_unlock(&F.lock);
	get("/healthz", &r);
	ck_assert_int_eq(r.status, 503);
	ck_assert_str_eq(r.ctype, "text/plain; charset=utf-8");
	ck_assert_str_eq(r.body, "no commit for 120 s\n");
	reply_fini(&r);
}
END_TEST

START_TEST(test_unknown_and_methods)
{
	struct reply r;
	static const char *const unknown[] = { "/", "/v1", "/v1/", "/v1/statuses", "/v2/status",
					       "/v1/status/", "/metrics/x", "/healthz2" };
	for (size_t i = 0; i < IST_ARRAY_SIZE(unknown); i++) {
		get(unknown[i], &r);
		assert_error(&r, 404, "not_found");
		reply_fini(&r);
	}
	http_call(PORT, "DELETE", "/nowhere", NULL, 0, NULL, NULL, &r);
	assert_error(&r, 404, "not_found");
	reply_fini(&r);

	static const struct { const char *method, *uri, *allow; } wrong[] = {
		{ "POST", "/v1/status", "GET, HEAD" },
		{ "DELETE", "/v1/blocks/1", "GET, HEAD" },
		{ "PUT", "/metrics", "GET, HEAD" },
		{ "POST", "/healthz", "GET, HEAD" },
		{ "GET", "/v1/txs", "POST" },
		{ "PUT", "/v1/txs", "POST" },
		{ "OPTIONS", "/v1/status", "GET, HEAD" },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(wrong); i++) {
		http_call(PORT, wrong[i].method, wrong[i].uri, NULL, 0, NULL, NULL, &r);
		assert_error(&r, 405, "method_not_allowed");
		ck_assert_str_eq(r.allow, wrong[i].allow);
		reply_fini(&r);
	}
	/* no CORS headers, even when asked */
	int fd = raw_connect(PORT);
	const char *req = "GET /v1/status HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\n"
			  "Connection: close\r\n\r\n";
	raw_send(fd, req, strlen(req));
	char *all = raw_read(fd, NULL);
	close(fd);
	ck_assert_msg(strncmp(all, "HTTP/1.1 200", 12) == 0, "%s", all);
	ck_assert_ptr_null(strcasestr(all, "Access-Control-"));
	free(all);
}
END_TEST

START_TEST(test_head)
{
	char *all = raw_exchange(PORT, "HEAD /v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	ck_assert_msg(strncmp(all, "HTTP/1.1 200", 12) == 0, "%s", all);
	ck_assert_ptr_nonnull(strcasestr(all, "Content-Type: application/json"));
	char *end = strstr(all, "\r\n\r\n");
	ck_assert_ptr_nonnull(end);
	ck_assert_str_eq(end + 4, "");   /* headers only */
	free(all);
}
END_TEST

START_TEST(test_txs)
{
	struct reply r;
	const char tx[] = "\x0a\x03" "abc\x00\xff";
	http_call(PORT, "POST", "/v1/txs", tx, sizeof(tx) - 1, "Content-Type", "application/octet-stream", &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert_str_eq(r.ctype, "application/json");
	ck_assert_str_eq(jstr(r.json, "tx_id"), "len-7");
	reply_fini(&r);
	ck_assert_uint_eq(F.tx_len, sizeof(tx) - 1);
	ck_assert_mem_eq(F.tx_body, tx, sizeof(tx) - 1);

	/* exactly the limit is fine; one byte more is a 413 that closes */
	uint8_t *big = malloc(MAX_BODY + 1);
	for (size_t i = 0; i <= MAX_BODY; i++)
		big[i] = (uint8_t)(i * 7);
	http_call(PORT, "POST", "/v1/txs", big, MAX_BODY, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert_str_eq(jstr(r.json, "tx_id"), "len-1024");
	reply_fini(&r);
	ck_assert_uint_eq(F.tx_len, MAX_BODY);
	ck_assert_mem_eq(F.tx_body, big, MAX_BODY);
	unsigned calls = F.tx_calls;
	http_call(PORT, "POST", "/v1/txs", big, MAX_BODY + 1, NULL, NULL, &r);
	assert_error(&r, 413, "payload_too_large");
	ck_assert_str_eq(r.connection, "close");
	reply_fini(&r);
	ck_assert_uint_eq(F.tx_calls, calls);   /* the source never saw it */
	free(big);

	/* the source's verdicts, and a source with nothing to say */
	pthread_mutex_lock(&F.lock);
	F.tx_rc = -IST_EPARSE;
	pthread_mutex_unlock(&F.lock);
	http_call(PORT, "POST", "/v1/txs", "junk", 4, NULL, NULL, &r);
	assert_error(&r, 400, "bad_request");
	ck_assert_str_eq(jstr(json_object_get(r.json, "error"), "message"), ist_strerror(-IST_EPARSE));
	reply_fini(&r);
	pthread_mutex_lock(&F.lock);
	F.tx_rc = -IST_EAGAIN;
	pthread_mutex_unlock(&F.lock);
	http_call(PORT, "POST", "/v1/txs", "tx", 2, NULL, NULL, &r);
	assert_error(&r, 503, "unavailable");
	reply_fini(&r);
	pthread_mutex_lock(&F.lock);
	F.tx_rc = -IST_EEXISTS;
	pthread_mutex_unlock(&F.lock);
	http_call(PORT, "POST", "/v1/txs", "tx", 2, NULL, NULL, &r);
	assert_error(&r, 409, "conflict");
	reply_fini(&r);
	pthread_mutex_lock(&F.lock);
	F.tx_rc = -IST_EUNSUPPORTED;
	pthread_mutex_unlock(&F.lock);
	http_call(PORT, "POST", "/v1/txs", "tx", 2, NULL, NULL, &r);
	assert_error(&r, 501, "not_implemented");
	reply_fini(&r);
	pthread_mutex_lock(&F.lock);
	F.tx_rc = 0;
	F.tx_reply = false;
	pthread_mutex_unlock(&F.lock);
	http_call(PORT, "POST", "/v1/txs", "tx", 2, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 202);
	ck_assert(json_is_true(json_object_get(r.json, "accepted")));
	reply_fini(&r);

	/* no body */
	calls = F.tx_calls;
	http_call(PORT, "POST", "/v1/txs", NULL, 0, NULL, NULL, &r);
	assert_error(&r, 400, "bad_request");
	reply_fini(&r);
	ck_assert_uint_eq(F.tx_calls, calls);
}
END_TEST

START_TEST(test_txs_wire)
{
	/* a body far over the limit, announced but never sent: 413 at once */
	char *all = raw_exchange(PORT, "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
	ck_assert_msg(strncmp(all, "HTTP/1.1 413", 12) == 0, "%s", all);
	ck_assert_ptr_nonnull(strcasestr(all, "Connection: close"));
	ck_assert_ptr_nonnull(strstr(all, "\"payload_too_large\""));
	free(all);

	/* chunked bodies are refused */
	all = raw_exchange(PORT, "POST /v1/txs HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
				 "2\r\nab\r\n0\r\n\r\n");
	ck_assert_msg(strncmp(all, "HTTP/1.1 411", 12) == 0, "%s", all);
	ck_assert_ptr_nonnull(strstr(all, "\"length_required\""));
	free(all);

	/* a malformed length */
	all = raw_exchange(PORT, "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Length: 12x\r\n\r\n");
	ck_assert_msg(strncmp(all, "HTTP/1.1 400", 12) == 0, "%s", all);
	free(all);

	/* Expect: 100-continue: the interim answer comes before the body */
	int fd = raw_connect(PORT);
	const char *head = "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
			   "Connection: close\r\n\r\n";
	raw_send(fd, head, strlen(head));
	char *interim = raw_read(fd, "\r\n\r\n");
	ck_assert_str_eq(interim, "HTTP/1.1 100 Continue\r\n\r\n");
	free(interim);
	raw_send(fd, "hello", 5);
	all = raw_read(fd, NULL);
	close(fd);
	ck_assert_msg(strncmp(all, "HTTP/1.1 202", 12) == 0, "%s", all);
	ck_assert_ptr_nonnull(strstr(all, "{\"tx_id\":\"len-5\"}"));
	free(all);
	ck_assert_mem_eq(F.tx_body, "hello", 5);

	/* over the limit with Expect: refused before the body is sent */
	all = raw_exchange(PORT, "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n"
				 "Expect: 100-continue\r\n\r\n");
	ck_assert_msg(strncmp(all, "HTTP/1.1 413", 12) == 0, "%s", all);
	free(all);

	/* keep-alive: two requests on one connection, the body of the first
	 * read exactly (else the second would not parse) */
	fd = raw_connect(PORT);
	const char *two = "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"
			  "GET /v1/blocks/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	raw_send(fd, two, strlen(two));
	all = raw_read(fd, NULL);
	close(fd);
	ck_assert_msg(strncmp(all, "HTTP/1.1 202", 12) == 0, "%s", all);
	char *second = strstr(all + 12, "HTTP/1.1 200");
	ck_assert_msg(second != NULL, "%s", all);
	ck_assert_ptr_nonnull(strstr(second, "{\"height\":3,"));
	free(all);

	/* a GET carrying a body is answered, then the connection is closed
	 * (the body was not read) */
	struct reply r;
	http_call(PORT, "GET", "/v1/status", "zz", 2, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.connection, "close");
	reply_fini(&r);
}
END_TEST

/* Looks up one sample line "name{labels} value" in an exposition. */
static double sample(const char *text, const char *series)
{
	char needle[256];
	snprintf(needle, sizeof(needle), "\n%s ", series);
	const char *p = strstr(text, needle);
	ck_assert_msg(p != NULL, "no sample %s in:\n%s", series, text);
	return strtod(p + strlen(needle), NULL);
}

START_TEST(test_metrics)
{
	struct ist_metric *mine = ist_metrics_gauge(M, "isthmus_test_level", "A family of the node.", NULL);
	ck_assert_ptr_nonnull(mine);
	ist_metric_set(mine, NULL, 12.5);
	struct reply r;
	for (int i = 0; i < 3; i++) {
		get("/v1/status", &r);
		reply_fini(&r);
	}
	get("/v1/blocks/1", &r);
	reply_fini(&r);
	get("/v1/blocks/x", &r);
	reply_fini(&r);
	get("/nope/\"quoted\"", &r);
	reply_fini(&r);

	get("/metrics", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert(sample(r.body, "isthmus_test_level") == 12.5);
	ck_assert(sample(r.body, "isthmus_api_requests_total{route=\"/v1/status\"}") == 3);
	ck_assert(sample(r.body, "isthmus_api_requests_total{route=\"/v1/blocks/{height}\"}") == 2);
	ck_assert(sample(r.body, "isthmus_api_requests_total{route=\"unmatched\"}") == 1);
	ck_assert(sample(r.body, "isthmus_api_request_seconds_count{route=\"/v1/status\"}") == 3);
	ck_assert(sample(r.body, "isthmus_api_request_seconds_bucket{route=\"/v1/status\",le=\"+Inf\"}") == 3);
	ck_assert(sample(r.body, "isthmus_api_responses_total{code=\"200\"}") == 4);
	ck_assert(sample(r.body, "isthmus_api_responses_total{code=\"400\"}") == 1);
	ck_assert(sample(r.body, "isthmus_api_responses_total{code=\"404\"}") == 1);
	/* a raw path never becomes a label */
	ck_assert_ptr_null(strstr(r.body, "nope"));

	char *out = NULL;
	int rc = promtool_check(r.body, &out);
	if (rc < 0) {
		printf("# SKIP promtool check: promtool is not installed (tools/setup installs it)\n");
		fflush(stdout);
	} else {
		ck_assert_msg(rc == 0, "promtool check metrics failed (%d): %s\n--- input:\n%s", rc, out, r.body);
	}
	free(out);
	reply_fini(&r);

	/* the scrape itself was counted once it was answered */
	get("/metrics", &r);
	ck_assert(sample(r.body, "isthmus_api_requests_total{route=\"/metrics\"}") == 1);
	reply_fini(&r);
}
END_TEST

#define CLIENTS 4
#define PER_CLIENT 25

static void *client_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_CLIENT; i++) {
		struct reply r;
		get(i % 2 ? "/v1/status" : "/metrics", &r);
		ck_assert_int_eq(r.status, 200);
		reply_fini(&r);
	}
	return NULL;
}

START_TEST(test_concurrent_clients)
{
	pthread_t t[CLIENTS];
	for (int i = 0; i < CLIENTS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, client_thread, NULL), 0);
	for (int i = 0; i < CLIENTS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	/* the registry's own view: the same family registered again */
	struct ist_metric *req = ist_metrics_counter(M, "isthmus_api_requests_total", "HTTP API requests by route.",
						     "route");
	ck_assert_ptr_nonnull(req);
	double status = ist_metric_value(req, "/v1/status"), metrics = ist_metric_value(req, "/metrics");
	ck_assert_msg(status == CLIENTS * (PER_CLIENT / 2), "%g /v1/status requests counted", status);
	ck_assert_msg(metrics == CLIENTS * (PER_CLIENT - PER_CLIENT / 2), "%g /metrics requests counted", metrics);
}
END_TEST

START_TEST(test_rate_limit)
{
	struct fake f;
	fake_init(&f);
	struct ist_clock_manual clk;
	ist_clock_manual_init(&clk, 1000000);
	struct ist_metrics *m = ist_metrics_new();
	struct ist_api_config cfg = {
		.listen_url = "http://127.0.0.1:0", .rate_per_sec = 1, .rate_burst = 2, .clock = &clk.clock,
	};
	struct ist_api_source src = fake_source(&f);
	struct ist_api *api = start_api(&cfg, &src, m);
	uint16_t port = ist_api_port(api);
	struct reply r;
	for (int i = 0; i < 2; i++) {
		http_call(port, "GET", "/v1/status", NULL, 0, NULL, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		reply_fini(&r);
	}
	http_call(port, "GET", "/v1/blocks/1", NULL, 0, NULL, NULL, &r);
	assert_error(&r, 429, "too_many_requests");
	ck_assert_str_eq(r.retry_after, "1");
	reply_fini(&r);
	/* monitoring is never limited */
	http_call(port, "GET", "/healthz", NULL, 0, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	reply_fini(&r);
	http_call(port, "GET", "/metrics", NULL, 0, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert(sample(r.body, "isthmus_api_responses_total{code=\"429\"}") == 1);
	reply_fini(&r);
	/* half a second refills half a request: still limited */
	ist_clock_manual_advance(&clk, 500);
	http_call(port, "POST", "/v1/txs", "tx", 2, NULL, NULL, &r);
	assert_error(&r, 429, "too_many_requests");
	reply_fini(&r);
	ck_assert_uint_eq(f.tx_calls, 0);
	ist_clock_manual_advance(&clk, 500);
	http_call(port, "GET", "/v1/status", NULL, 0, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	reply_fini(&r);
	/* a long pause refills only up to the burst */
	ist_clock_manual_advance(&clk, 3600 * 1000);
	for (int i = 0; i < 3; i++) {
		http_call(port, "GET", "/v1/status", NULL, 0, NULL, NULL, &r);
		ck_assert_int_eq(r.status, i < 2 ? 200 : 429);
		reply_fini(&r);
	}
	ist_api_free(api);
	ist_metrics_free(m);
	fake_fini(&f);
}
END_TEST

START_TEST(test_lifecycle_config)
{
	struct fake f;
	fake_init(&f);
	struct ist_api_source src = fake_source(&f);
	char err[256];
	static const char *const bad[] = {
		"https://127.0.0.1:0", "tcp://127.0.0.1:0", "http://127.0.0.1:0/prefix",
		"http://127.0.0.1:0?x=1", "not a url", "",
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(bad); i++) {
		struct ist_api_config cfg = { .listen_url = bad[i] };
		err[0] = '\0';
		ck_assert_msg(ist_api_new(&cfg, &src, NULL, err, sizeof(err)) == NULL, "accepted %s", bad[i]);
		ck_assert_msg(err[0] != '\0', "no message for %s", bad[i]);
	}
	ck_assert_ptr_null(ist_api_new(NULL, &src, NULL, NULL, 0));

	/* a registry where the API's names mean something else */
	struct ist_metrics *clash = ist_metrics_new();
	ck_assert_ptr_nonnull(ist_metrics_gauge(clash, "isthmus_api_request_seconds", "Not a histogram.", NULL));
	struct ist_api_config cfg = { .listen_url = "http://127.0.0.1:0" };
	err[0] = '\0';
	ck_assert_ptr_null(ist_api_new(&cfg, &src, clash, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "metrics"));
	ist_metrics_free(clash);

	/* two servers on port 0 get two ports; a private registry works */
	struct ist_api *a = start_api(&cfg, &src, NULL);
	struct ist_api *b = start_api(&cfg, &src, NULL);
	ck_assert_uint_ne(ist_api_port(a), ist_api_port(b));
	ck_assert_int_eq(ist_api_start(a, err, sizeof(err)), -IST_ESTATE);
	struct reply r;
	http_call(ist_api_port(b), "GET", "/metrics", NULL, 0, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "# TYPE isthmus_api_requests_total counter"));
	reply_fini(&r);

	/* an address in use: by another api of this process ... */
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)ist_api_port(a));
	struct ist_api_config same = { .listen_url = url };
	struct ist_api *c = ist_api_new(&same, &src, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	err[0] = '\0';
	ck_assert_int_eq(ist_api_start(c, err, sizeof(err)), -IST_ENET);
	ck_assert_msg(strstr(err, url + 7) != NULL, "%s", err);
	ck_assert_uint_eq(ist_api_port(c), 0);
	ist_api_free(c);
	/* ... still served by the first */
	http_call(ist_api_port(a), "GET", "/healthz", NULL, 0, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	reply_fini(&r);

	/* ... and by another socket */
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
	struct ist_api_config taken = { .listen_url = url };
	c = ist_api_new(&taken, &src, NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(ist_api_start(c, err, sizeof(err)), -IST_ENET);
	ist_api_free(c);
	close(fd);

	/* freed, the port no longer answers */
	uint16_t pa = ist_api_port(a);
	ist_api_free(a);
	ist_api_free(b);
	ist_api_free(NULL);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_port = htons(pa);
	ck_assert_int_ne(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	fake_fini(&f);
}
END_TEST

START_TEST(test_not_implemented)
{
	struct fake f;
	fake_init(&f);
	struct ist_api_source src = { .ctx = &f };  /* every callback NULL */
	struct ist_api_config cfg = { .listen_url = "http://127.0.0.1:0" };
	struct ist_api *api = start_api(&cfg, &src, NULL);
	uint16_t port = ist_api_port(api);
	struct reply r;
	http_call(port, "GET", "/v1/status", NULL, 0, NULL, NULL, &r);
	assert_error(&r, 501, "not_implemented");
	reply_fini(&r);
	http_call(port, "GET", "/v1/blocks/1", NULL, 0, NULL, NULL, &r);
	assert_error(&r, 501, "not_implemented");
	reply_fini(&r);
	http_call(port, "POST", "/v1/txs", "tx", 2, NULL, NULL, &r);
	assert_error(&r, 501, "not_implemented");
	reply_fini(&r);
	http_call(port, "GET", "/healthz", NULL, 0, NULL, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	reply_fini(&r);
	ist_api_free(api);
	fake_fini(&f);
}
END_TEST

/* ist_api_free() with a body half received: it returns, the client sees
 * the connection end, and (under ASan) nothing leaks or is used after free. */
START_TEST(test_free_during_body)
{
	int fd = raw_connect(PORT);
	const char *head = "POST /v1/txs HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n";
	raw_send(fd, head, strlen(head));
	char *interim = raw_read(fd, "\r\n\r\n");   /* now the server waits for the body */
	free(interim);
	raw_send(fd, "partial", 7);
	ist_api_free(A);
	A = NULL;
	char *rest = raw_read(fd, NULL);
	ck_assert_str_eq(rest, "");
	free(rest);
	close(fd);
	ck_assert_uint_eq(F.tx_calls, 0);
}
END_TEST

struct freer {
	struct ist_api *api;
	struct fake *f;
	bool callback_returned_first;
};

static void *free_thread(void *arg)
{
	struct freer *fr = arg;
	ist_api_free(fr->api);
	pthread_mutex_lock(&fr->f->lock);
	fr->callback_returned_first = fr->f->returned;
	pthread_mutex_unlock(&fr->f->lock);
	return NULL;
}

static void *status_thread(void *arg)
{
	uint16_t port = *(uint16_t *)arg;
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%u/v1/status", (unsigned)port);
	nng_url *url;
	nng_http_client *cli;
	nng_http_req *req;
	nng_http_res *res;
	nng_aio *aio;
	ck_assert_int_eq(nng_url_parse(&url, base), 0);
	ck_assert_int_eq(nng_http_client_alloc(&cli, url), 0);
	ck_assert_int_eq(nng_http_req_alloc(&req, url), 0);
	ck_assert_int_eq(nng_http_res_alloc(&res), 0);
	ck_assert_int_eq(nng_aio_alloc(&aio, NULL, NULL), 0);
	nng_aio_set_timeout(aio, 60000);
	nng_http_client_transact(cli, req, res, aio);
	nng_aio_wait(aio);
	/* the server went away mid-request: any outcome but a hang is fine */
	nng_aio_free(aio);
	nng_http_res_free(res);
	nng_http_req_free(req);
	nng_http_client_free(cli);
	nng_url_free(url);
	return NULL;
}

/* ist_api_free() waits for a source callback in progress. */
START_TEST(test_free_waits_for_callback)
{
	pthread_mutex_lock(&F.lock);
	F.block_status = true;
	pthread_mutex_unlock(&F.lock);
	pthread_t client, freer;
	ck_assert_int_eq(pthread_create(&client, NULL, status_thread, &PORT), 0);
	pthread_mutex_lock(&F.lock);
	while (!F.entered)
		pthread_cond_wait(&F.cond, &F.lock);
	pthread_mutex_unlock(&F.lock);

	struct freer fr = { .api = A, .f = &F };
	A = NULL;
	ck_assert_int_eq(pthread_create(&freer, NULL, free_thread, &fr), 0);
	pthread_mutex_lock(&F.lock);
	F.released = true;
	pthread_cond_broadcast(&F.cond);
	pthread_mutex_unlock(&F.lock);
	ck_assert_int_eq(pthread_join(freer, NULL), 0);
	ck_assert(fr.callback_returned_first);
	ck_assert_int_eq(pthread_join(client, NULL), 0);
}
END_TEST

static Suite *api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase_create("http");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_blocks);
	tcase_add_test(tc, test_healthz);
	tcase_add_test(tc, test_unknown_and_methods);
	tcase_add_test(tc, test_head);
	tcase_add_test(tc, test_txs);
	tcase_add_test(tc, test_txs_wire);
	tcase_add_test(tc, test_metrics);
	tcase_add_test(tc, test_concurrent_clients);
	tcase_add_test(tc, test_free_during_body);
	tcase_add_test(tc, test_free_waits_for_callback);
	suite_add_tcase(s, tc);
	TCase *own = tcase_create("own-server");
	tcase_add_test(own, test_rate_limit);
	tcase_add_test(own, test_lifecycle_config);
	tcase_add_test(own, test_not_implemented);
	suite_add_tcase(s, own);
	return s;
}

int main(void)
{
	ist_log_set_level(IST_LOG_ERROR);  /* the expected warnings are noise here */
	return ist_test_run(api_suite());
}
