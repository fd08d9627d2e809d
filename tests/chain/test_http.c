/*
 * The HTTP client (chain/http.h) against the project's own HTTP server
 * (api/http.h) on 127.0.0.1: methods, paths with a prefix and a query,
 * request bodies and their Content-Type, every status handed back as an
 * answer, the body limit, and the failures that are not answers: nobody
 * listening (-IST_ENET), a server that never answers (-IST_ETIMEOUT, also
 * with a per-request timeout) and an abort from another thread
 * (-IST_ECLOSED). The byte-level cases (chunked bodies, lies about the
 * length) are in test_devchain.c, through the devchain adapter.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http.h"
#include "chain/http.h"
#include "common/err.h"
#include "lib/ist_test.h"

#define TIMEOUT_MS 10000   /* generous: only the silent server reaches a timeout */

/* Answers {"method":..,"path":..,"query":..,"type":..,"body":..}; a path
 * /status/N answers status N; /big answers 5000 bytes. */
static void handler(void *ctx, const struct ist_http_request *req, struct ist_http_response *res)
{
	(void)ctx;
	int code;
	if (sscanf(req->path, "/status/%d", &code) == 1) {
		ist_http_reply_error(res, (uint16_t)code, "as-asked", "status %d", code);
		return;
	}
	if (strcmp(req->path, "/big") == 0) {
		res->status = 200;
		res->content_type = "text/plain";
		for (int i = 0; i < 5000; i++)
			ist_buf_put_u8(&res->body, 'x');
		return;
	}
	char body[256] = "";
	snprintf(body, sizeof(body), "%.*s", (int)req->body_len, req->body ? (const char *)req->body : "");
	ist_http_reply_json(res, 200, json_pack("{s:s,s:s,s:s,s:s}", "method", req->method, "path", req->path,
						"query", req->query, "body", body));
}

static struct ist_http_server *server_start(char *url, size_t len)
{
	struct ist_http_server *s = NULL;
	char err[256];
	ck_assert_msg(ist_http_server_start("http://127.0.0.1:0", 0, handler, NULL, &s, err, sizeof(err)) == 0, "%s",
		      err);
	snprintf(url, len, "http://127.0.0.1:%u", (unsigned)ist_http_server_port(s));
	return s;
}

static struct ist_http_client *client_for(const char *url, size_t max_body)
{
	struct ist_http_client *c = NULL;
	char err[IST_HTTP_CLIENT_ERR_MAX];
	ck_assert_msg(ist_http_client_new(url, TIMEOUT_MS, max_body, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(ist_http_client_url(c), url);
	return c;
}

START_TEST(test_requests)
{
	char base[64], url[96], err[IST_HTTP_CLIENT_ERR_MAX];
	struct ist_http_server *s = server_start(base, sizeof(base));
	struct ist_http_client *c = client_for(base, 4096);
	struct ist_http_answer a;

	ck_assert_int_eq(ist_http_client_request(c, "GET", "/v1/x?after=3&wait_ms=0", NULL, 0, NULL, 0, &a, err,
						 sizeof(err)), 0);
	ck_assert_uint_eq(a.status, 200);
	ck_assert_uint_eq(a.len, strlen(a.body));
	ck_assert_msg(strstr(a.body, "\"method\":\"GET\"") && strstr(a.body, "\"path\":\"/v1/x\"") &&
		      strstr(a.body, "\"query\":\"after=3&wait_ms=0\""), "%s", a.body);
	ist_http_answer_fini(&a);
	ist_http_answer_fini(&a);   /* twice is harmless */

	/* a POST body arrives whole; the same client again and again */
	static const char doc[] = "{\"delivery\":\"0a0b\"}";
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(ist_http_client_request(c, "POST", "/v1/inbox", doc, strlen(doc), "application/json",
							 0, &a, err, sizeof(err)), 0);
		ck_assert_uint_eq(a.status, 200);
		ck_assert_msg(strstr(a.body, "\"method\":\"POST\"") && strstr(a.body, "\\\"delivery\\\":\\\"0a0b\\\""),
			      "%s", a.body);
		ist_http_answer_fini(&a);
	}

	/* every status is an answer, with its body */
	static const int statuses[] = { 400, 404, 409, 503 };
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		char path[32];
		snprintf(path, sizeof(path), "/status/%d", statuses[i]);
		ck_assert_int_eq(ist_http_client_request(c, "GET", path, NULL, 0, NULL, 0, &a, err, sizeof(err)), 0);
		ck_assert_uint_eq(a.status, (unsigned)statuses[i]);
		ck_assert_msg(strstr(a.body, "as-asked") != NULL, "%s", a.body);
		ist_http_answer_fini(&a);
	}

	/* a body over the limit is refused, and the client goes on */
	ck_assert_int_eq(ist_http_client_request(c, "GET", "/big", NULL, 0, NULL, 0, &a, err, sizeof(err)),
			 -IST_EPARSE);
	ck_assert_msg(strstr(err, "limit") != NULL, "%s", err);
	ck_assert_int_eq(ist_http_client_request(c, "GET", "/v1/y", NULL, 0, NULL, 0, &a, err, sizeof(err)), 0);
	ist_http_answer_fini(&a);

	/* bad methods and paths never leave the client */
	ck_assert_int_eq(ist_http_client_request(c, "get", "/x", NULL, 0, NULL, 0, &a, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_http_client_request(c, "GET", "x", NULL, 0, NULL, 0, &a, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_http_client_request(c, "GET", "/a b", NULL, 0, NULL, 0, &a, err, sizeof(err)),
			 -IST_EINVAL);
	ck_assert_int_eq(ist_http_client_request(c, "GET", "/x\r\nX: 1", NULL, 0, NULL, 0, &a, err, sizeof(err)),
			 -IST_EINVAL);
	ist_http_client_free(c);

	/* a prefix, its trailing slashes dropped */
	snprintf(url, sizeof(url), "%s/pre//", base);
	c = client_for(url, 4096);
	ck_assert_str_eq(ist_http_client_prefix(c), "/pre");
	ck_assert_int_eq(ist_http_client_request(c, "GET", "/v1/z", NULL, 0, NULL, 0, &a, err, sizeof(err)), 0);
	ck_assert_msg(strstr(a.body, "\"path\":\"/pre/v1/z\"") != NULL, "%s", a.body);
	ist_http_answer_fini(&a);
	ist_http_client_free(c);
	ist_http_server_stop(s);
}
END_TEST

START_TEST(test_failures)
{
	char url[64], err[IST_HTTP_CLIENT_ERR_MAX];
	struct ist_http_answer a = { 0 };
	uint16_t port;

	/* nobody listens: a connection error, the step named, twice */
	int fd = ist_test_listen_loopback(&port);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
	struct ist_http_client *c = client_for(url, 4096);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(ist_http_client_request(c, "GET", "/v1/x", NULL, 0, NULL, 0, &a, err, sizeof(err)),
				 -IST_ENET);
		ck_assert_msg(strncmp(err, "connect: ", 9) == 0, "%s", err);
		ck_assert_ptr_null(a.body);
	}
	ist_http_client_free(c);

	/* a server that takes the connection and never answers: the
	 * per-request timeout ends it (the kernel accepts into the backlog) */
	fd = ist_test_listen_loopback(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
	c = client_for(url, 4096);
	ck_assert_int_eq(ist_http_client_request(c, "GET", "/v1/x", NULL, 0, NULL, 200, &a, err, sizeof(err)),
			 -IST_ETIMEOUT);
	ck_assert_int_eq(ist_http_client_request(c, "GET", "/v1/x", NULL, 0, NULL, IST_HTTP_CLIENT_MAX_TIMEOUT_MS + 1,
						 &a, err, sizeof(err)), -IST_EINVAL);
	ist_http_client_free(c);
	close(fd);
}
END_TEST

struct aborter {
	struct ist_http_client *c;
	int lfd;
};

/* Waits until the client's connection is there, then aborts the request. */
static void *abort_main(void *arg)
{
	struct aborter *ab = arg;
	struct pollfd p = { .fd = ab->lfd, .events = POLLIN };
	if (poll(&p, 1, 30000) == 1) {
		int fd = accept(ab->lfd, NULL, NULL);
		ist_http_client_abort(ab->c);
		if (fd >= 0)
			close(fd);
	} else {
		ist_http_client_abort(ab->c);
	}
	return NULL;
}

START_TEST(test_abort)
{
	char url[64], err[IST_HTTP_CLIENT_ERR_MAX];
	uint16_t port;
	int fd = ist_test_listen_loopback(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)port);
	struct ist_http_client *c = client_for(url, 4096);
	struct aborter ab = { .c = c, .lfd = fd };
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, abort_main, &ab), 0);
	/* a long poll that the other thread ends, well before its time */
	struct ist_http_answer a;
	ck_assert_int_eq(ist_http_client_request(c, "GET", "/v1/events?wait_ms=60000", NULL, 0, NULL, 120000, &a, err,
						 sizeof(err)), -IST_ECLOSED);
	pthread_join(t, NULL);
	/* and every request after it */
	ck_assert_int_eq(ist_http_client_request(c, "GET", "/v1/x", NULL, 0, NULL, 0, &a, err, sizeof(err)),
			 -IST_ECLOSED);
	ist_http_client_free(c);
	ist_http_client_abort(NULL);
	close(fd);
}
END_TEST

START_TEST(test_new_invalid)
{
	struct ist_http_client *c = NULL;
	char err[IST_HTTP_CLIENT_ERR_MAX];
	ck_assert_int_eq(ist_http_client_new("https://127.0.0.1:1", 1000, 10, &c, err, sizeof(err)), -IST_EINVAL);
	ck_assert_msg(strstr(err, "http://HOST:PORT") != NULL, "%s", err);
	ck_assert_int_eq(ist_http_client_new("http://127.0.0.1:1/x?y=1", 1000, 10, &c, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_http_client_new("http://u@127.0.0.1:1", 1000, 10, &c, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_http_client_new("not a url", 1000, 10, &c, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_http_client_new("http://127.0.0.1:1", 0, 10, &c, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_http_client_new("http://127.0.0.1:1", 1000, 0, &c, err, sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_http_client_new("http://127.0.0.1:1", 1000, IST_HTTP_CLIENT_MAX_BODY + 1, &c, err,
					     sizeof(err)), -IST_EINVAL);
	ck_assert_int_eq(ist_http_client_new(NULL, 1000, 10, &c, NULL, 0), -IST_EINVAL);
	ck_assert_ptr_null(c);
	ist_http_client_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chain-http");
	TCase *tc = tcase_create("http");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_requests);
	tcase_add_test(tc, test_failures);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_new_invalid);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
