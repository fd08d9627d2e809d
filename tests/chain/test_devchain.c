/*
 * The isthmus-devchain adapter (chain/devchain.h): its JSON parsers alone
 * (chain/devchain_json.h), then the whole adapter over real HTTP against a
 * tiny server in the test that answers canned bytes on 127.0.0.1 (raw
 * sockets, so that a test decides every byte: chunked bodies, no
 * Content-Length, lies about the length, silence), and last a watcher over
 * such an adapter.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chain/chain.h"
#include "chain/devchain.h"
#include "chain/devchain_json.h"
#include "chain/watcher.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "lib/ist_test.h"
#include "wire/canonical.h"

#define CHAIN 7
#define TIMEOUT_MS 10000   /* generous: only the silent server reaches a timeout */

/* ---- JSON of blocks ---------------------------------------------------- */

static const char HASH_A[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char HASH_B[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/* A message of chain CHAIN with the given nonce and payload, and its id. */
static void sample_message(uint64_t nonce, const uint8_t *payload, size_t len, struct ist_message *m,
			   uint8_t id[IST_HASH_BYTES])
{
	memset(m, 0, sizeof(*m));
	m->src_chain = CHAIN;
	m->dst_chain = 9;
	m->nonce = nonce;
	memset(m->sender, 0x5a, sizeof(m->sender));
	memset(m->recipient, 0xa5, sizeof(m->recipient));
	m->value = UINT64_MAX;
	m->payload = (uint8_t *)payload;
	m->payload_len = len;
	ck_assert_int_eq(ist_wire_message_id(m, id), 0);
}

/* The JSON of a message, u64s above 2^53 as decimal strings. */
static void message_json(struct ist_buf *b, const struct ist_message *m, const uint8_t id[IST_HASH_BYTES])
{
	ist_buf_putf(b, "{\"src_chain\":%" PRIu64 ",\"dst_chain\":%" PRIu64 ",\"nonce\":%" PRIu64 ",\"sender\":\"",
		     m->src_chain, m->dst_chain, m->nonce);
	ist_buf_put_hex(b, m->sender, 32);
	ist_buf_puts(b, "\",\"recipient\":\"0x");
	ist_buf_put_hex(b, m->recipient, 32);
	ist_buf_putf(b, "\",\"value\":\"%" PRIu64 "\",\"payload\":\"", m->value);
	ist_buf_put_hex(b, m->payload, m->payload_len);
	ist_buf_puts(b, "\",\"id\":\"");
	ist_buf_put_hex(b, id, IST_HASH_BYTES);
	ist_buf_puts(b, "\",\"unknown_field\":[1,2]}");
}

/* A block of two messages (payloads "" and 3 bytes) as JSON: malloc'd. */
static char *sample_block_json(uint64_t height, const char *hash, const char *parent)
{
	static const uint8_t pl[] = { 1, 2, 3 };
	struct ist_message m[2];
	uint8_t id[2][IST_HASH_BYTES];
	sample_message(1, NULL, 0, &m[0], id[0]);
	sample_message(2, pl, sizeof(pl), &m[1], id[1]);
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_putf(&b, "{\"height\":%" PRIu64 ",\"hash\":\"%s\",\"parent_hash\":\"%s\",\"timestamp_ms\":1700000000000,"
		     "\"finalized\":true,\"messages\":[", height, hash, parent);
	message_json(&b, &m[0], id[0]);
	ist_buf_puts(&b, ",");
	message_json(&b, &m[1], id[1]);
	ist_buf_puts(&b, "]}");
	ist_buf_put_u8(&b, 0);
	uint8_t *data;
	size_t len;
	ck_assert_int_eq(ist_buf_take(&b, &data, &len), 0);
	return (char *)data;
}

static void check_sample_block(const struct ist_chain_block *b, uint64_t height)
{
	ck_assert_uint_eq(b->height, height);
	ist_test_assert_hex(b->hash, 32, HASH_A);
	ist_test_assert_hex(b->parent_hash, 32, HASH_B);
	ck_assert_uint_eq(b->n_msgs, 2);
	for (size_t k = 0; k < 2; k++) {
		ck_assert_uint_eq(b->msgs[k].src_chain, CHAIN);
		ck_assert_uint_eq(b->msgs[k].dst_chain, 9);
		ck_assert_uint_eq(b->msgs[k].nonce, k + 1);
		ck_assert_uint_eq(b->msgs[k].value, UINT64_MAX);
		ck_assert_uint_eq(b->msgs[k].sender[31], 0x5a);
		ck_assert_uint_eq(b->msgs[k].recipient[0], 0xa5);
		uint8_t id[IST_HASH_BYTES];
		ck_assert_int_eq(ist_wire_message_id(&b->msgs[k], id), 0);
		ck_assert_mem_eq(id, b->ids[k], IST_HASH_BYTES);
	}
	ck_assert_uint_eq(b->msgs[0].payload_len, 0);
	ck_assert_ptr_null(b->msgs[0].payload);
	ck_assert_uint_eq(b->msgs[1].payload_len, 3);
	ck_assert_uint_eq(b->msgs[1].payload[2], 3);
}

/* ---- the parsers ------------------------------------------------------- */

/* The reason names the same field as `want` ("FIELD: ..."), or, for a
 * want of "invalid JSON", a line and column. The wording of the problem is
 * the common JSON reader's (tests/common/test_json.c). */
static bool same_field(const char *why, const char *want)
{
	if (strncmp(want, "invalid JSON", 12) == 0)
		return strncmp(why, "line ", 5) == 0;
	const char *colon = strstr(want, ": ");
	size_t k = colon ? (size_t)(colon - want) + 2 : strlen(want);
	return strncmp(why, want, k) == 0 && strlen(why) > k;
}

START_TEST(test_parse_head)
{
	struct ist_chain_devchain_head h;
	char why[256];
	char text[256];
	snprintf(text, sizeof(text), "{\"chain_id\":7,\"height\":\"12\",\"hash\":\"0x%s\",\"finalized_height\":10,"
		 "\"x\":null}", HASH_A);
	ck_assert_int_eq(ist_chain_devchain_parse_head(text, strlen(text), &h, why, sizeof(why)), 0);
	ck_assert_uint_eq(h.chain_id, 7);
	ck_assert_uint_eq(h.height, 12);
	ck_assert_uint_eq(h.finalized_height, 10);
	ist_test_assert_hex(h.hash, 32, HASH_A);

	snprintf(text, sizeof(text), "{\"chain_id\":7,\"height\":9,\"hash\":\"%s\",\"finalized_height\":10}", HASH_A);
	ck_assert_int_eq(ist_chain_devchain_parse_head(text, strlen(text), &h, why, sizeof(why)), -IST_EPARSE);
	ck_assert_msg(strstr(why, "finalized_height") != NULL, "why: %s", why);

	snprintf(text, sizeof(text), "{\"chain_id\":7,\"height\":9,\"finalized_height\":1}");
	ck_assert_int_eq(ist_chain_devchain_parse_head(text, strlen(text), &h, why, sizeof(why)), -IST_EPARSE);
	ck_assert_str_eq(why, "hash: missing required field");
}
END_TEST

START_TEST(test_parse_block)
{
	char *text = sample_block_json(3, HASH_A, HASH_B);
	struct ist_chain_block b;
	char why[256];
	ck_assert_int_eq(ist_chain_devchain_parse_block(text, strlen(text), &b, why, sizeof(why)), 0);
	check_sample_block(&b, 3);
	ist_chain_block_fini(&b);
	ist_chain_block_fini(&b);   /* a zeroed block is fine */
	free(text);

	const char *empty = "{\"height\":0,\"hash\":\"00000000000000000000000000000000000000000000000000000000000000"
			    "00\",\"parent_hash\":\"0000000000000000000000000000000000000000000000000000000000000000\","
			    "\"timestamp_ms\":0,\"finalized\":false,\"messages\":[]}";
	ck_assert_int_eq(ist_chain_devchain_parse_block(empty, strlen(empty), &b, why, sizeof(why)), 0);
	ck_assert_uint_eq(b.n_msgs, 0);
	ck_assert_ptr_null(b.msgs);
	ck_assert_ptr_null(b.ids);
	ist_chain_block_fini(&b);
}
END_TEST

/* Replaces the first occurrence of `from` in the sample block with `to`. */
static char *sample_edited(const char *from, const char *to)
{
	char *text = sample_block_json(3, HASH_A, HASH_B);
	char *at = strstr(text, from);
	ck_assert_msg(at != NULL, "%s not in the sample", from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = malloc(n);
	ck_assert_ptr_nonnull(out);
	snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	free(text);
	return out;
}

START_TEST(test_parse_block_errors)
{
	static const struct {
		const char *from, *to, *why;
	} cases[] = {
		{ "\"hash\":", "\"hush\":", "hash: missing required field" },
		{ "\"hash\":\"aa", "\"hash\":\"", "hash: must be a hex string of 32 bytes (got 62 hex digits)" },
		{ "\"parent_hash\":\"bb", "\"parent_hash\":\"zz", "parent_hash: must be a hex string of 32 bytes (got a non-hex character)" },
		{ "\"height\":3", "\"height\":-3", "height: must be a non-negative integer" },
		{ "\"height\":3", "\"height\":3.0", "height: must be a non-negative integer" },
		{ "\"height\":3", "\"height\":\"03\"", "height: must be a non-negative integer" },
		{ "\"height\":3", "\"height\":\"18446744073709551616\"", "height: must be a non-negative integer" },
		{ "\"finalized\":true", "\"finalized\":\"yes\"", "finalized: must be true or false (got \"yes\")" },
		{ "\"timestamp_ms\":1700000000000", "\"timestamp_ms\":null", "timestamp_ms: must be a non-negative integer" },
		{ "\"messages\":[", "\"messages\":{\"a\":[", "invalid JSON" },
		{ "\"messages\":[{", "\"messages\":[7,{", "messages[0]: must be an object (got 7)" },
		{ "\"nonce\":1,", "", "messages[0].nonce: missing required field" },
		{ "\"nonce\":2", "\"nonce\":true", "messages[1].nonce: must be a non-negative integer or a string of decimal digits below 2^64 (got true)" },
		{ "\"sender\":\"5a", "\"sender\":\"", "messages[0].sender: must be a hex string of 32 bytes (got 62 hex digits)" },
		{ "\"recipient\":\"0xa5", "\"recipient\":\"0xg5", "messages[0].recipient: must be a hex string of 32 bytes (got a non-hex character)" },
		{ "\"payload\":\"010203\"", "\"payload\":\"01020\"", "messages[1].payload: must be a hex string of at most 65536 bytes (got an odd number of hex digits, 5)" },
		{ "\"payload\":\"010203\"", "\"payload\":3", "messages[1].payload: must be a hex string of at most 65536 bytes (got 3)" },
		{ "\"id\":\"", "\"id\":\"00", "messages[0].id: must be a hex string of 32 bytes (got 66 hex digits)" },
		{ "{\"height\"", "{\"height\":1,\"height\"", "invalid JSON" },
		{ "{\"height\"", "[{\"height\"", "invalid JSON" },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(cases); i++) {
		char *text = sample_edited(cases[i].from, cases[i].to);
		struct ist_chain_block b;
		memset(&b, 0x5c, sizeof(b));
		char why[256] = "";
		int r = ist_chain_devchain_parse_block(text, strlen(text), &b, why, sizeof(why));
		ck_assert_msg(r == -IST_EPARSE, "case %zu: %s", i, ist_errname(r));
		ck_assert_msg(same_field(why, cases[i].why), "case %zu: why \"%s\", want \"%s\"", i, why, cases[i].why);
		ck_assert_uint_eq(b.height, 0x5c5c5c5c5c5c5c5cull);   /* untouched */
		free(text);
	}

	/* a payload one byte over the limit */
	size_t n = 2 * (IST_WIRE_MAX_MSG_PAYLOAD + 1);
	char *big = malloc(n + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', n);
	big[n] = '\0';
	char *to = NULL;
	ck_assert_int_gt(asprintf(&to, "\"payload\":\"%s\"", big), 0);
	char *text = sample_edited("\"payload\":\"010203\"", to);
	struct ist_chain_block b;
	char why[256];
	ck_assert_int_eq(ist_chain_devchain_parse_block(text, strlen(text), &b, why, sizeof(why)), -IST_EPARSE);
	ck_assert_msg(same_field(why, "messages[1].payload: too long"), "why: %s", why);
	free(text);
	free(to);
	free(big);

	/* not JSON, and JSON of the wrong kind */
	ck_assert_int_eq(ist_chain_devchain_parse_block("nope", 4, &b, why, sizeof(why)), -IST_EPARSE);
	ck_assert_msg(strncmp(why, "line 1, column", 14) == 0, "why: %s", why);
	ck_assert_int_eq(ist_chain_devchain_parse_block("[]", 2, &b, why, sizeof(why)), -IST_EPARSE);
	ck_assert_msg(strstr(why, "object") != NULL, "why: %s", why);
	ck_assert_int_eq(ist_chain_devchain_parse_block(NULL, 0, &b, why, sizeof(why)), -IST_EPARSE);
}
END_TEST

/* ---- a tiny HTTP server ------------------------------------------------ */

#define MAX_ROUTES 8

struct route {
	char path[64];
	char *raw;                 /* the whole response, bytes as sent */
	size_t len;
};

struct server {
	int lfd;
	uint16_t port;
	int wake[2];               /* a pipe: stop */
	pthread_t thread;
	pthread_mutex_t lock;
	struct route routes[MAX_ROUTES];
	size_t n_routes;
	unsigned requests;
	char last_request[2048];
};

/* Waits for fd to be readable or the stop pipe; false on stop or after 30 s. */
static bool wait_readable(struct server *s, int fd)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = s->wake[0], .events = POLLIN } };
	int r = poll(p, 2, 30000);
	return r > 0 && !(p[1].revents & POLLIN) && (p[0].revents & (POLLIN | POLLHUP | POLLERR));
}

static void serve_one(struct server *s, int fd)
{
	char req[2048];
	size_t len = 0;
	while (len < sizeof(req) - 1) {
		if (!wait_readable(s, fd))
			return;
		ssize_t n = read(fd, req + len, sizeof(req) - 1 - len);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	char path[256] = "";
	if (sscanf(req, "GET %255s HTTP/1.1", path) != 1)
		return;
	pthread_mutex_lock(&s->lock);
	s->requests++;
	snprintf(s->last_request, sizeof(s->last_request), "%s", req);
	const struct route *rt = NULL;
	for (size_t i = 0; i < s->n_routes && !rt; i++) {
		if (strcmp(s->routes[i].path, path) == 0)
			rt = &s->routes[i];
	}
	static const char nf_body[] = "{\"error\":{\"code\":\"not_found\",\"message\":\"no such block\"}}";
	char nf[256];
	snprintf(nf, sizeof(nf), "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
		 "Connection: close\r\n\r\n%s", strlen(nf_body), nf_body);
	const char *out = rt ? rt->raw : nf;
	size_t n = rt ? rt->len : strlen(nf);
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, out + off, n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	pthread_mutex_unlock(&s->lock);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	for (;;) {
		if (!wait_readable(s, s->lfd))
			return NULL;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(s, fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
}

static void server_start(struct server *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	ck_assert_int_eq(pipe2(s->wake, O_CLOEXEC), 0);
	s->lfd = ist_test_listen_loopback(&s->port);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	ck_assert_int_eq(write(s->wake[1], "x", 1), 1);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	close(s->wake[0]);
	close(s->wake[1]);
	for (size_t i = 0; i < s->n_routes; i++)
		free(s->routes[i].raw);
	pthread_mutex_destroy(&s->lock);
}

/* Serves `raw` (copied) at `path`, replacing an earlier route there. */
static void server_route_raw(struct server *s, const char *path, const char *raw, size_t len)
{
	pthread_mutex_lock(&s->lock);
	struct route *rt = NULL;
	for (size_t i = 0; i < s->n_routes && !rt; i++) {
		if (strcmp(s->routes[i].path, path) == 0)
			rt = &s->routes[i];
	}
	if (!rt) {
		ck_assert_uint_lt(s->n_routes, MAX_ROUTES);
		rt = &s->routes[s->n_routes++];
		snprintf(rt->path, sizeof(rt->path), "%s", path);
	}
	free(rt->raw);
	rt->raw = malloc(len);
	ck_assert_ptr_nonnull(rt->raw);
	memcpy(rt->raw, raw, len);
	rt->len = len;
	pthread_mutex_unlock(&s->lock);
}

/* A response with Content-Length. */
static void server_route(struct server *s, const char *path, int status, const char *body)
{
	char *raw = NULL;
	int n = asprintf(&raw, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s", status, strlen(body), body);
	ck_assert_int_gt(n, 0);
	server_route_raw(s, path, raw, (size_t)n);
	free(raw);
}

static void head_json(char *out, size_t len, uint64_t chain, uint64_t height, uint64_t fin)
{
	snprintf(out, len, "{\"chain_id\":%" PRIu64 ",\"height\":%" PRIu64 ",\"hash\":\"%s\",\"finalized_height\":%"
		 PRIu64 "}", chain, height, HASH_A, fin);
}

static struct ist_chain_adapter *adapter_for(struct server *s, const char *path, uint32_t timeout_ms)
{
	char url[128], err[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)s->port, path);
	struct ist_chain_adapter *a = NULL;
	ck_assert_msg(ist_chain_devchain_new(url, CHAIN, timeout_ms, &a, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(a->url, url);
	return a;
}

/* ---- the adapter over HTTP -------------------------------------------- */

START_TEST(test_http_head)
{
	struct server s;
	server_start(&s);
	struct ist_chain_adapter *a = adapter_for(&s, "", TIMEOUT_MS);
	char body[256];
	head_json(body, sizeof(body), CHAIN, 12, 10);
	server_route(&s, "/v1/head", 200, body);
	uint64_t head = 0, fin = 0;
	ck_assert_int_eq(a->ops->head(a, &head, &fin), 0);
	ck_assert_uint_eq(head, 12);
	ck_assert_uint_eq(fin, 10);
	pthread_mutex_lock(&s.lock);
	ck_assert_msg(strstr(s.last_request, "GET /v1/head HTTP/1.1\r\n") == s.last_request, "%s", s.last_request);
	ck_assert_msg(strstr(s.last_request, "Host: 127.0.0.1") != NULL, "%s", s.last_request);
	pthread_mutex_unlock(&s.lock);

	/* the same adapter again and again (one client, one connection each) */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(a->ops->head(a, &head, &fin), 0);

	/* another chain: refused */
	head_json(body, sizeof(body), CHAIN + 1, 12, 10);
	server_route(&s, "/v1/head", 200, body);
	head = fin = 99;
	ck_assert_int_eq(a->ops->head(a, &head, &fin), -IST_ECONFIG);
	ck_assert_uint_eq(head, 99);   /* untouched */

	/* malformed, missing, inconsistent, not there, failing server */
	server_route(&s, "/v1/head", 200, "{\"chain_id\":7,");
	ck_assert_int_eq(a->ops->head(a, &head, &fin), -IST_EPARSE);
	server_route(&s, "/v1/head", 200, "{\"chain_id\":7,\"height\":1,\"finalized_height\":1}");
	ck_assert_int_eq(a->ops->head(a, &head, &fin), -IST_EPARSE);
	head_json(body, sizeof(body), CHAIN, 3, 4);
	server_route(&s, "/v1/head", 200, body);
	ck_assert_int_eq(a->ops->head(a, &head, &fin), -IST_EPARSE);
	server_route(&s, "/v1/head", 404, "{}");
	ck_assert_int_eq(a->ops->head(a, &head, &fin), -IST_EPARSE);
	server_route(&s, "/v1/head", 503, "{}");
	ck_assert_int_eq(a->ops->head(a, &head, &fin), -IST_ENET);
	ck_assert_uint_eq(head, 99);

	ist_chain_adapter_destroy(a);
	server_stop(&s);
}
END_TEST

START_TEST(test_http_block)
{
	struct server s;
	server_start(&s);
	struct ist_chain_adapter *a = adapter_for(&s, "/dev/", TIMEOUT_MS);
	char *json = sample_block_json(3, HASH_A, HASH_B);
	server_route(&s, "/dev/v1/blocks/3", 200, json);
	struct ist_chain_block b;
	ck_assert_int_eq(a->ops->block(a, 3, &b), 0);
	check_sample_block(&b, 3);
	ist_chain_block_fini(&b);

	/* above the head: 404 */
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(a->ops->block(a, 4, &b), -IST_ENOTFOUND);
	/* the block of another height */
	server_route(&s, "/dev/v1/blocks/4", 200, json);
	ck_assert_int_eq(a->ops->block(a, 4, &b), -IST_EPARSE);
	ck_assert_uint_eq(b.n_msgs, 0);

	/* chunked, with an extension and a trailer */
	size_t n = strlen(json), half = n / 2;
	char *raw = NULL;
	int rn = asprintf(&raw, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
			  "%zx;ext=1\r\n%.*s\r\n%zX\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n", half, (int)half, json,
			  n - half, json + half);
	ck_assert_int_gt(rn, 0);
	server_route_raw(&s, "/dev/v1/blocks/3", raw, (size_t)rn);
	ck_assert_int_eq(a->ops->block(a, 3, &b), 0);
	check_sample_block(&b, 3);
	ist_chain_block_fini(&b);
	free(raw);

	/* chunked but cut short */
	rn = asprintf(&raw, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%.*s", n, (int)half, json);
	server_route_raw(&s, "/dev/v1/blocks/3", raw, (size_t)rn);
	ck_assert_int_eq(a->ops->block(a, 3, &b), -IST_EPARSE);
	free(raw);

	/* no Content-Length: the body ends with the connection */
	rn = asprintf(&raw, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n%s", json);
	server_route_raw(&s, "/dev/v1/blocks/3", raw, (size_t)rn);
	ck_assert_int_eq(a->ops->block(a, 3, &b), 0);
	check_sample_block(&b, 3);
	ist_chain_block_fini(&b);
	free(raw);

	/* a Content-Length over the limit is refused before reading */
	rn = asprintf(&raw, "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n{}", IST_CHAIN_DEVCHAIN_MAX_BODY + 1);
	server_route_raw(&s, "/dev/v1/blocks/3", raw, (size_t)rn);
	ck_assert_int_eq(a->ops->block(a, 3, &b), -IST_EPARSE);
	free(raw);

	/* a Content-Length longer than what comes */
	rn = asprintf(&raw, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", n + 10, json);
	server_route_raw(&s, "/dev/v1/blocks/3", raw, (size_t)rn);
	ck_assert_int_eq(a->ops->block(a, 3, &b), -IST_ENET);
	free(raw);

	/* not HTTP at all */
	server_route_raw(&s, "/dev/v1/blocks/3", "garbage\r\n\r\n", 11);
	int r = a->ops->block(a, 3, &b);
	ck_assert_msg(r == -IST_EPARSE || r == -IST_ENET, "%s", ist_errname(r));

	/* a bad body: a reason, an error */
	char *bad = sample_edited("\"id\":\"", "\"id\":\"00");
	server_route(&s, "/dev/v1/blocks/3", 200, bad);
	ck_assert_int_eq(a->ops->block(a, 3, &b), -IST_EPARSE);
	free(bad);

	pthread_mutex_lock(&s.lock);
	ck_assert_msg(strstr(s.last_request, "GET /dev/v1/blocks/3 HTTP/1.1\r\n") == s.last_request, "%s",
		      s.last_request);
	pthread_mutex_unlock(&s.lock);
	free(json);
	ist_chain_adapter_destroy(a);
	server_stop(&s);
}
END_TEST

START_TEST(test_http_unreachable)
{
	/* a port nobody listens on: refused */
	uint16_t port;
	int fd = ist_test_listen_loopback(&port);
	close(fd);
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
	struct ist_chain_adapter *a = NULL;
	ck_assert_int_eq(ist_chain_devchain_new(url, CHAIN, TIMEOUT_MS, &a, NULL, 0), 0);
	uint64_t head, fin;
	ck_assert_int_eq(a->ops->head(a, &head, &fin), -IST_ENET);
	ck_assert_int_eq(a->ops->head(a, &head, &fin), -IST_ENET);   /* and again, with a fresh client */
	ist_chain_adapter_destroy(a);

	/* a server that takes the connection and never answers: the request
	 * ends at the adapter's timeout (the kernel accepts into the backlog) */
	fd = ist_test_listen_loopback(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
	ck_assert_int_eq(ist_chain_devchain_new(url, CHAIN, 200, &a, NULL, 0), 0);
	ck_assert_int_eq(a->ops->head(a, &head, &fin), -IST_ETIMEOUT);
	struct ist_chain_block b;
	ck_assert_int_eq(a->ops->block(a, 1, &b), -IST_ETIMEOUT);
	ist_chain_adapter_destroy(a);
	close(fd);
}
END_TEST

START_TEST(test_new_invalid)
{
	struct ist_chain_adapter *a = NULL;
	char err[256];
	ck_assert_int_eq(ist_chain_devchain_new("https://127.0.0.1:1", CHAIN, 1000, &a, err, sizeof(err)), -IST_EINVAL);
	ck_assert_msg(strstr(err, "http://") != NULL, "%s", err);
	ck_assert_int_eq(ist_chain_devchain_new("tcp://127.0.0.1:1", CHAIN, 1000, &a, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_chain_devchain_new("http://127.0.0.1:1/x?y=1", CHAIN, 1000, &a, err, sizeof(err)),
			 -IST_EINVAL);
	ck_assert_int_eq(ist_chain_devchain_new("not a url", CHAIN, 1000, &a, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_chain_devchain_new("http://127.0.0.1:1", CHAIN, 0, &a, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_chain_devchain_new("http://127.0.0.1:1", CHAIN, IST_CHAIN_DEVCHAIN_MAX_TIMEOUT_MS + 1, &a,
						err, sizeof(err)), -IST_EINVAL);
	char long_url[IST_CHAIN_URL_MAX + 32];
	snprintf(long_url, sizeof(long_url), "http://127.0.0.1:1/%0*d", IST_CHAIN_URL_MAX, 0);
	ck_assert_int_eq(ist_chain_devchain_new(long_url, CHAIN, 1000, &a, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_chain_devchain_new(NULL, CHAIN, 1000, &a, NULL, 0), -IST_EINVAL);
	ck_assert_ptr_null(a);
	ist_chain_adapter_destroy(NULL);
}
END_TEST

/* ---- a watcher over the adapter --------------------------------------- */

static pthread_mutex_t obs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t obs_cond = PTHREAD_COND_INITIALIZER;
static uint64_t obs_last;
static size_t obs_msgs;

static int count_block(void *ctx, const struct ist_chain_block *b)
{
	(void)ctx;
	pthread_mutex_lock(&obs_lock);
	obs_last = b->height;
	obs_msgs += b->n_msgs;
	pthread_cond_broadcast(&obs_cond);
	pthread_mutex_unlock(&obs_lock);
	return 0;
}

START_TEST(test_watcher_over_http)
{
	struct server s;
	server_start(&s);
	/* heights 1..3 linked by their hashes: 1 -> HASH_A, 2 -> HASH_B, 3 */
	static const char *hashes[] = { HASH_B, HASH_A, HASH_B, HASH_A };
	for (uint64_t h = 1; h <= 3; h++) {
		char *json = sample_block_json(h, hashes[h], hashes[h - 1]);
		char path[32];
		snprintf(path, sizeof(path), "/v1/blocks/%" PRIu64, h);
		server_route(&s, path, 200, json);
		free(json);
	}
	char body[256];
	head_json(body, sizeof(body), CHAIN, 5, 3);
	server_route(&s, "/v1/head", 200, body);

	struct ist_chain_adapter *ad[] = { adapter_for(&s, "", TIMEOUT_MS) };
	struct ist_watcher_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	cfg.chain_id = CHAIN;
	cfg.adapters = ad;
	cfg.n_adapters = 1;
	cfg.poll_ms = 1;
	cfg.next_height = 1;
	cfg.on_block = count_block;
	struct ist_watcher *w;
	ck_assert_int_eq(ist_watcher_start(&cfg, &w), 0);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 30;
	pthread_mutex_lock(&obs_lock);
	while (obs_last < 3 && pthread_cond_timedwait(&obs_cond, &obs_lock, &dl) != ETIMEDOUT)
		;
	uint64_t last = obs_last;
	size_t msgs = obs_msgs;
	pthread_mutex_unlock(&obs_lock);
	ist_watcher_stop(w);
	ck_assert_uint_eq(last, 3);
	ck_assert_uint_eq(msgs, 6);
	ist_chain_adapter_destroy(ad[0]);
	server_stop(&s);
}
END_TEST

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
	/* the adapter's reasons are part of what is tested by eye in the log */
	ist_log_set_level(IST_LOG_DEBUG);
}

int main(void)
{
	Suite *s = suite_create("chain-devchain");
	TCase *tc = tcase_create("devchain");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_parse_head);
	tcase_add_test(tc, test_parse_block);
	tcase_add_test(tc, test_parse_block_errors);
	tcase_add_test(tc, test_http_head);
	tcase_add_test(tc, test_http_block);
	tcase_add_test(tc, test_http_unreachable);
	tcase_add_test(tc, test_new_invalid);
	tcase_add_test(tc, test_watcher_over_http);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
