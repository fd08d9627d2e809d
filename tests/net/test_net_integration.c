/*
 * Integration tests of the transport: real NNG sockets on 127.0.0.1 only,
 * several transports in one process, and a raw TCP client (socket(2)) that
 * plays a hostile or broken peer.
 *
 * Synchronisation: the hooks (on_envelope, on_peer, on_drop) record what
 * happened under one mutex and broadcast a condition variable; the test
 * waits for a predicate with a generous bound (WAIT_S) that fails the test
 * rather than hanging. Nothing sleeps to synchronise, and nothing asserts on
 * timing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "lib/ist_test.h"
#include "net/frame.h"
#include "net/handshake.h"
#include "net/net.h"
#include "wire/codec.h"
#include "wire/samples.h"

#define WAIT_S 30
#define MAXN 8
#define MAX_RX 1024
#define NETWORK_ID 7

/* ---- test nodes ---- */

struct rx {
	uint32_t from;
	bool pub_ok;               /* the pubkey passed matches validator `from` */
	enum ist_envelope_kind kind;
	uint64_t view;
	size_t size;               /* proposals: payload bytes of item 2 */
};

struct node {
	uint32_t id;               /* validator index (also the key's id) */
	uint8_t seed[32], pub[32];
	struct ist_net *net;
	struct ist_metrics *metrics;
	uint16_t port;
	bool up[MAXN];             /* from on_peer */
	size_t n_rx;
	struct rx rx[MAX_RX];
};

static pthread_mutex_t g_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond;
static uint8_t g_genesis[32];

static void key_of(uint32_t id, uint8_t seed[32], uint8_t pub[32])
{
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(0x51 + id * 13 + i);
	ck_assert_int_eq(ist_ed25519_pubkey(seed, pub), 0);
}

static void on_envelope(void *ctx, uint32_t from, const uint8_t pub[32], struct ist_envelope *env)
{
	struct node *n = ctx;
	uint8_t seed[32], expect[32];
	key_of(from, seed, expect);
	pthread_mutex_lock(&g_mtx);
	if (n->n_rx < MAX_RX) {
		struct rx *r = &n->rx[n->n_rx++];
		r->from = from;
		r->pub_ok = memcmp(pub, expect, 32) == 0;
		r->kind = env->kind;
		r->size = 0;
		switch (env->kind) {
		case IST_ENVELOPE_VOTE:
			r->view = env->u.vote.view;
			break;
		case IST_ENVELOPE_TIMEOUT:
			r->view = env->u.timeout.view;
			break;
		case IST_ENVELOPE_PROPOSAL:
			r->view = env->u.proposal.block.view;
			if (env->u.proposal.block.n_items > 2)
				r->size = env->u.proposal.block.items[2].u.opaque.len;
			break;
		case IST_ENVELOPE_BLOCK_REQUEST:
		case IST_ENVELOPE_BLOCK_RESPONSE:
		case IST_ENVELOPE_ATTEST_SHARE:
		case IST_ENVELOPE_EPOCH_REQUEST:
		case IST_ENVELOPE_FROST:
			break;
		}
	}
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_mtx);
	ist_wire_envelope_free(env);
}

static void on_peer(void *ctx, uint32_t idx, const uint8_t pub[32], bool connected)
{
	struct node *n = ctx;
	(void)pub;
	pthread_mutex_lock(&g_mtx);
	if (idx < MAXN)
		n->up[idx] = connected;
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_mtx);
}

static void on_drop(void *ctx, const char *reason)
{
	(void)ctx;
	(void)reason;
	pthread_mutex_lock(&g_mtx);
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_mtx);
}

/* Waits (up to WAIT_S) until pred(arg) holds; g_mtx is held while pred
 * runs. pred may read test state and metrics, never call the transport.
 * The wait is cut in slices so that state the hooks do not signal (the
 * out-counters) is seen too. */
static bool wait_for(bool (*pred)(void *), void *arg)
{
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += WAIT_S;
	pthread_mutex_lock(&g_mtx);
	bool ok;
	while (!(ok = pred(arg))) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
		struct timespec slice = now;
		slice.tv_nsec += 100 * 1000000L;
		if (slice.tv_nsec >= 1000000000L) {
			slice.tv_sec++;
			slice.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g_cond, &g_mtx, &slice);
	}
	pthread_mutex_unlock(&g_mtx);
	return ok;
}

/* As wait_for, for predicates that call the transport: those run without
 * g_mtx (on_drop takes g_mtx under the transport's lock). */
static bool wait_for_api(bool (*pred)(void *), void *arg)
{
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += WAIT_S;
	for (;;) {
		if (pred(arg))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return pred(arg);
		struct timespec slice = now;
		slice.tv_nsec += 100 * 1000000L;
		if (slice.tv_nsec >= 1000000000L) {
			slice.tv_sec++;
			slice.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&g_mtx);
		pthread_cond_timedwait(&g_cond, &g_mtx, &slice);
		pthread_mutex_unlock(&g_mtx);
	}
}

/* A counter or gauge of a node's registry, from the rendered text (so the
 * exposition itself is checked too). label may be NULL. */
static double metric(struct node *n, const char *name, const char *label, const char *value)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ck_assert_int_eq(ist_metrics_render(n->metrics, &b), 0);
	ist_buf_put_u8(&b, 0);
	char want[256];
	if (label)
		snprintf(want, sizeof(want), "\n%s{%s=\"%s\"} ", name, label, value);
	else
		snprintf(want, sizeof(want), "\n%s ", name);
	const char *p = strstr((const char *)b.data, want);
	double v = p ? strtod(p + strlen(want), NULL) : 0;
	ist_buf_fini(&b);
	return v;
}

/* The sum of every series of a labelled family. */
static double family_sum(struct node *n, const char *name)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ck_assert_int_eq(ist_metrics_render(n->metrics, &b), 0);
	ist_buf_put_u8(&b, 0);
	char want[128];
	snprintf(want, sizeof(want), "\n%s{", name);
	double t = 0;
	for (const char *p = strstr((const char *)b.data, want); p; p = strstr(p + 1, want)) {
		const char *sp = strstr(p + 1, "} "); /* label values may hold spaces */
		if (sp)
			t += strtod(sp + 2, NULL);
	}
	ist_buf_fini(&b);
	return t;
}

static double drops(struct node *n, const char *reason)
{
	return metric(n, "isthmus_net_dropped_total", "reason", reason);
}

static double drops_total(struct node *n)
{
	static const char *const all[] = {
		IST_NET_DROP_FRAME_TOO_LARGE, IST_NET_DROP_FRAME_EMPTY, IST_NET_DROP_TRUNCATED,
		IST_NET_DROP_HANDSHAKE_MALFORMED, IST_NET_DROP_HANDSHAKE_UNEXPECTED,
		IST_NET_DROP_HANDSHAKE_VERSION, IST_NET_DROP_HANDSHAKE_NETWORK, IST_NET_DROP_HANDSHAKE_GENESIS,
		IST_NET_DROP_HANDSHAKE_SELF, IST_NET_DROP_HANDSHAKE_UNKNOWN, IST_NET_DROP_HANDSHAKE_WRONG_KEY,
		IST_NET_DROP_HANDSHAKE_BAD_SIG, IST_NET_DROP_HANDSHAKE_TIMEOUT, IST_NET_DROP_PEER_CONNS,
		IST_NET_DROP_TOO_MANY_UNAUTH,
		IST_NET_DROP_RATE_LIMITED, IST_NET_DROP_MALFORMED_ENVELOPE, IST_NET_DROP_UNSUPPORTED_ENVELOPE,
		IST_NET_DROP_UNEXPECTED_FRAME, IST_NET_DROP_UNKNOWN_FRAME, IST_NET_DROP_NOMEM,
		IST_NET_DROP_TLS, IST_NET_DROP_SILENT,
	};
	double t = 0;
	for (size_t i = 0; i < IST_ARRAY_SIZE(all); i++)
		t += drops(n, all[i]);
	return t;
}

struct node_opts {
	uint64_t network_id;       /* 0 = NETWORK_ID */
	const uint8_t *genesis;    /* NULL = g_genesis */
	struct ist_net_limits limits;
	const struct ist_clock *clock;
	const char *scheme;        /* "tcp" (default) or "tls+tcp" */
	const char *tls_cert, *tls_key, *tls_ca;
	uint16_t port;             /* 0 = any */
};

/* The validator set as `self` sees it: ids[0..n) with keys; URLs from the
 * nodes' ports where given (and dial_to allows), "" otherwise. */
static void make_set(struct ist_net_peer *out, const uint32_t *ids, size_t n, struct node **nodes,
		     const char *scheme, const bool *dial_to)
{
	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		uint8_t seed[32];
		out[i].index = ids[i];
		key_of(ids[i], seed, out[i].pubkey);
		if (nodes && nodes[i] && nodes[i]->port && (!dial_to || dial_to[i]))
			snprintf(out[i].url, sizeof(out[i].url), "%s://127.0.0.1:%u", scheme ? scheme : "tcp",
				 nodes[i]->port);
	}
}

static void node_start(struct node *n, uint32_t id, const struct ist_net_peer *set, size_t n_set,
		       const struct node_opts *o)
{
	struct node_opts def;
	if (!o) {
		memset(&def, 0, sizeof(def));
		o = &def;
	}
	memset(n, 0, sizeof(*n));
	n->id = id;
	key_of(id, n->seed, n->pub);
	n->metrics = ist_metrics_new();
	ck_assert_ptr_nonnull(n->metrics);
	char url[64];
	snprintf(url, sizeof(url), "%s://127.0.0.1:%u", o->scheme ? o->scheme : "tcp", o->port);
	struct ist_net_config cfg = {
		.listen_url = url,
		.network_id = o->network_id ? o->network_id : NETWORK_ID,
		.node_seed = n->seed,
		.peers = set,
		.n_peers = n_set,
		.limits = o->limits,
		.tls_cert_file = o->tls_cert,
		.tls_key_file = o->tls_key,
		.tls_ca_file = o->tls_ca,
	};
	memcpy(cfg.genesis_hash, o->genesis ? o->genesis : g_genesis, 32);
	struct ist_net_hooks hooks = { .on_envelope = on_envelope, .on_peer = on_peer, .on_drop = on_drop, .ctx = n };
	char err[256];
	int r = ist_net_new(&cfg, o->clock, NULL, n->metrics, &hooks, &n->net, err, sizeof(err));
	ck_assert_msg(r == 0, "ist_net_new: %s: %s", ist_strerror(r), err);
	r = ist_net_start(n->net, err, sizeof(err));
	ck_assert_msg(r == 0, "ist_net_start: %s: %s", ist_strerror(r), err);
	ck_assert_int_eq(ist_net_bound_port(n->net, &n->port), 0);
	ck_assert_uint_ne(n->port, 0);
}

static void node_stop(struct node *n)
{
	ist_net_free(n->net);
	n->net = NULL;
	ist_metrics_free(n->metrics);
	n->metrics = NULL;
}

/* A vote from `voter` for `view`: what the tests send around. */
static void vote(struct ist_envelope *e, uint32_t voter, uint64_t view)
{
	sample_envelope(e, IST_ENVELOPE_VOTE);
	e->u.vote.voter = voter;
	e->u.vote.view = view;
}

/* A proposal whose encoding spans many reads (item 2 carries big_bytes). */
static void big_proposal(struct ist_envelope *e, uint64_t view, size_t big_bytes)
{
	memset(e, 0, sizeof(*e));
	e->kind = IST_ENVELOPE_PROPOSAL;
	sample_proposal(&e->u.proposal, 6, 1);
	e->u.proposal.block.view = view;
	struct ist_payload_item *it = &e->u.proposal.block.items[2];
	ck_assert_int_eq(it->kind, IST_PAYLOAD_EVIDENCE);
	free(it->u.opaque.data);
	it->u.opaque.data = malloc(big_bytes);
	ck_assert_ptr_nonnull(it->u.opaque.data);
	sample_fill(it->u.opaque.data, big_bytes, 3);
	it->u.opaque.len = big_bytes;
}

/* ---- predicates (called with g_mtx held) ---- */

struct got_arg {
	struct node *n;
	uint32_t from;
	uint64_t view;
	enum ist_envelope_kind kind;
};

static bool pred_got(void *a)
{
	struct got_arg *g = a;
	for (size_t i = 0; i < g->n->n_rx; i++) {
		const struct rx *r = &g->n->rx[i];
		if (r->from == g->from && r->view == g->view && r->kind == g->kind) {
			ck_assert(r->pub_ok);
			return true;
		}
	}
	return false;
}

static void expect_got(struct node *n, uint32_t from, uint64_t view, enum ist_envelope_kind kind)
{
	struct got_arg g = { n, from, view, kind };
	ck_assert_msg(wait_for(pred_got, &g), "node %u: no envelope (view %llu) from %u within %d s", n->id,
		      (unsigned long long)view, from, WAIT_S);
}

struct mesh_arg {
	struct node **nodes;
	size_t n;
};

static bool pred_mesh_up(void *a)
{
	struct mesh_arg *m = a;
	for (size_t i = 0; i < m->n; i++)
		for (size_t j = 0; j < m->n; j++)
			if (i != j && !m->nodes[i]->up[m->nodes[j]->id])
				return false;
	return true;
}

struct drop_arg {
	struct node *n;
	const char *reason;
	double at_least;
};

static bool pred_drops(void *a)
{
	struct drop_arg *d = a;
	return (d->reason ? drops(d->n, d->reason) : drops_total(d->n)) >= d->at_least;
}

static void expect_drops(struct node *n, const char *reason, double at_least)
{
	struct drop_arg d = { n, reason, at_least };
	ck_assert_msg(wait_for(pred_drops, &d), "node %u: dropped{%s} = %g, expected >= %g", n->id,
		      reason ? reason : "*", reason ? drops(n, reason) : drops_total(n), at_least);
}

struct metric_arg {
	struct node *n;
	const char *name, *label, *value;
	double at_least;
};

static bool pred_metric(void *a)
{
	struct metric_arg *m = a;
	return metric(m->n, m->name, m->label, m->value) >= m->at_least;
}

static bool pred_three_peers(void *net)
{
	return ist_net_peer_count(net) == 3 && ist_net_peer_connected(net, 3) && ist_net_peer_connected(net, 0);
}

/* Starts nodes ids[0..n) with the whole set known, then tells each the
 * others' URLs (ports are known only once all listen). */
static void mesh_start(struct node *nodes, const uint32_t *ids, size_t n, const struct node_opts *o)
{
	struct ist_net_peer set[MAXN];
	struct node *ptrs[MAXN];
	make_set(set, ids, n, NULL, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		node_start(&nodes[i], ids[i], set, n, o);
		ptrs[i] = &nodes[i];
	}
	make_set(set, ids, n, ptrs, o ? o->scheme : NULL, NULL);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(ist_net_set_peers(nodes[i].net, set, n), 0);
	struct mesh_arg m = { ptrs, n };
	ck_assert_msg(wait_for(pred_mesh_up, &m), "the mesh did not connect within %d s", WAIT_S);
}

static void setup(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g_cond, &ca);
	pthread_condattr_destroy(&ca);
	memset(g_genesis, 0x6e, sizeof(g_genesis));
}

/* ---- a raw TCP client ---- */

static int raw_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	struct timeval tv = { .tv_sec = WAIT_S };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "connect: %s", strerror(errno));
	return fd;
}

/* Sends everything; a peer that already closed is not an error here. */
static void raw_send(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		b += w;
		n -= (size_t)w;
	}
}

static bool raw_read(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* Reads one frame body (<= cap bytes). */
static size_t raw_read_frame(int fd, uint8_t *body, size_t cap)
{
	uint8_t hdr[4];
	ck_assert(raw_read(fd, hdr, 4));
	size_t len = ist_get_be32(hdr);
	ck_assert_uint_le(len, cap);
	ck_assert(raw_read(fd, body, len));
	return len;
}

/* True once the server closed the connection (EOF or reset), reading and
 * discarding whatever came before. */
static bool raw_closed(int fd)
{
	uint8_t buf[512];
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0 && errno != EINTR)
			return false; /* timeout */
	}
}

static void raw_hello(int fd, uint32_t id, const uint8_t nonce[32], uint16_t version, uint64_t network_id)
{
	uint8_t seed[32];
	struct ist_net_hello h = { .version = version, .network_id = network_id };
	key_of(id, seed, h.pubkey);
	memcpy(h.genesis_hash, g_genesis, 32);
	memcpy(h.nonce, nonce, 32);
	uint8_t frame[4 + IST_NET_HELLO_BYTES];
	ist_put_be32(frame, IST_NET_HELLO_BYTES);
	ist_net_hello_encode(&h, frame + 4);
	raw_send(fd, frame, sizeof(frame));
}

/* The server's HELLO (sent at accept). */
static void raw_server_hello(int fd, struct ist_net_hello *h)
{
	uint8_t body[IST_NET_HELLO_BYTES];
	size_t len = raw_read_frame(fd, body, sizeof(body));
	ck_assert_int_eq(ist_net_hello_decode(body, len, h), 0);
}

/* A full handshake as validator `id` against `server`. Out: the AUTH frame
 * we sent (for the replay test) and our nonce. Returns the socket. */
static int raw_handshake(struct node *server, uint32_t id, const uint8_t nonce[32],
			 uint8_t ret_auth_frame[4 + IST_NET_AUTH_BYTES])
{
	uint8_t seed[32], pub[32];
	key_of(id, seed, pub);
	int fd = raw_connect(server->port);
	raw_hello(fd, id, nonce, IST_NET_VERSION, NETWORK_ID);
	struct ist_net_hello sh;
	raw_server_hello(fd, &sh);
	ck_assert_mem_eq(sh.pubkey, server->pub, 32);

	uint8_t t[IST_NET_TRANSCRIPT_BYTES], frame[4 + IST_NET_AUTH_BYTES];
	ist_net_transcript(NETWORK_ID, g_genesis, pub, server->pub, nonce, sh.nonce, IST_NET_ROLE_DIALER, t);
	ist_put_be32(frame, IST_NET_AUTH_BYTES);
	ck_assert_int_eq(ist_net_auth_sign(seed, t, frame + 4), 0);
	raw_send(fd, frame, sizeof(frame));
	if (ret_auth_frame)
		memcpy(ret_auth_frame, frame, sizeof(frame));

	/* the server proves its key too */
	uint8_t body[IST_NET_AUTH_BYTES], sig[64];
	size_t len = raw_read_frame(fd, body, sizeof(body));
	ck_assert_int_eq(ist_net_auth_decode(body, len, sig), 0);
	ist_net_transcript(NETWORK_ID, g_genesis, pub, server->pub, nonce, sh.nonce, IST_NET_ROLE_LISTENER, t);
	ck_assert(ist_net_auth_verify(server->pub, t, sig));
	return fd;
}

static void raw_frame(int fd, uint8_t type, const uint8_t *payload, size_t n)
{
	uint8_t *f = malloc(5 + n);
	ck_assert_ptr_nonnull(f);
	ist_net_frame_header(f, (enum ist_net_frame_type)type, 1 + n);
	if (n)
		memcpy(f + 5, payload, n);
	raw_send(fd, f, 5 + n);
	free(f);
}

static void raw_envelope(int fd, const struct ist_envelope *e)
{
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(ist_wire_envelope_encode(e, &buf, &len), 0);
	raw_frame(fd, IST_NET_FRAME_ENVELOPE, buf, len);
	free(buf);
}

/* ---- tests ---- */

START_TEST(test_mesh_broadcast_and_direct)
{
	struct node nodes[4];
	uint32_t ids[4] = { 0, 1, 2, 3 };
	mesh_start(nodes, ids, 4, NULL);

	struct ist_envelope e;
	/* broadcast: every other node gets it, from index 0 */
	vote(&e, 0, 100);
	ck_assert_int_eq(ist_net_broadcast(nodes[0].net, &e), 0);
	for (int i = 1; i < 4; i++)
		expect_got(&nodes[i], 0, 100, IST_ENVELOPE_VOTE);

	/* direct */
	vote(&e, 2, 200);
	ck_assert_int_eq(ist_net_send(nodes[2].net, 3, &e), 0);
	expect_got(&nodes[3], 2, 200, IST_ENVELOPE_VOTE);

	/* a proposal bigger than a read, broadcast by everyone */
	struct ist_envelope p;
	big_proposal(&p, 300, 60000);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ist_net_broadcast(nodes[i].net, &p), 0);
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			if (i != j)
				expect_got(&nodes[i], (uint32_t)j, 300, IST_ENVELOPE_PROPOSAL);
	pthread_mutex_lock(&g_mtx);
	for (int i = 0; i < 4; i++)
		for (size_t k = 0; k < nodes[i].n_rx; k++)
			if (nodes[i].rx[k].kind == IST_ENVELOPE_PROPOSAL)
				ck_assert_uint_eq(nodes[i].rx[k].size, 60000);
	pthread_mutex_unlock(&g_mtx);
	ist_wire_envelope_fini(&p);

	/* API errors */
	ck_assert_int_eq(ist_net_send(nodes[0].net, 0, &e), -IST_EINVAL);    /* ourselves */
	ck_assert_int_eq(ist_net_send(nodes[0].net, 9, &e), -IST_ENOTFOUND);
	/* (waited for: a duplicate connection being handed over can make a
	 * peer briefly unconnected) */
	ck_assert(wait_for_api(pred_three_peers, nodes[1].net));
	ck_assert(!ist_net_peer_connected(nodes[1].net, 1));

	/* counters: node 0 wrote its vote and proposal to three peers; node
	 * 1 received three proposals; the gauge says 3 */
	struct metric_arg m = { &nodes[0], "isthmus_net_messages_out_total", "type", "vote", 3 };
	ck_assert(wait_for(pred_metric, &m));
	m.value = "proposal";
	ck_assert(wait_for(pred_metric, &m));
	ck_assert(metric(&nodes[1], "isthmus_net_messages_in_total", "type", "proposal") >= 3);
	struct metric_arg g3 = { &nodes[1], "isthmus_net_peers_connected", NULL, NULL, 3 };
	ck_assert(wait_for(pred_metric, &g3));
	/* nobody dropped anything */
	for (int i = 0; i < 4; i++)
		ck_assert_msg(drops_total(&nodes[i]) == 0, "node %d dropped %g", i, drops_total(&nodes[i]));

	for (int i = 0; i < 4; i++)
		node_stop(&nodes[i]);
}
END_TEST

struct restart_arg {
	struct node *n;
	size_t want;
};

static bool pred_up_count(void *a)
{
	struct restart_arg *r = a;
	size_t c = 0;
	for (size_t i = 0; i < MAXN; i++)
		c += r->n->up[i];
	return c >= r->want;
}

/* Waits for an envelope from `from` at `n`, sending it again every few
 * seconds: across a peer's crash the transport delivers at most once (a
 * frame written to a connection the kernel has not yet seen die is lost),
 * and consensus retransmits; so does this test. */
static void send_until_got(struct node *sender, struct node *n, uint64_t view)
{
	struct ist_envelope e;
	vote(&e, sender->id, view);
	for (int attempt = 0; attempt < 10; attempt++) {
		ck_assert_int_eq(ist_net_send(sender->net, n->id, &e), 0);
		struct got_arg g = { n, sender->id, view, IST_ENVELOPE_VOTE };
		struct timespec end;
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += 3;
		pthread_mutex_lock(&g_mtx);
		while (!pred_got(&g))
			if (pthread_cond_timedwait(&g_cond, &g_mtx, &end) == ETIMEDOUT)
				break;
		bool ok = pred_got(&g);
		pthread_mutex_unlock(&g_mtx);
		if (ok)
			return;
	}
	ck_abort_msg("node %u never got view %llu from %u", n->id, (unsigned long long)view, sender->id);
}

START_TEST(test_restart_reconnects)
{
	struct node nodes[4];
	uint32_t ids[4] = { 0, 1, 2, 3 };
	struct node_opts o = { .limits = { .backoff_min_ms = 20, .backoff_max_ms = 500 } };
	mesh_start(nodes, ids, 4, &o);

	/* node 2 goes away and comes back on the same port, same key */
	struct ist_net_peer set[4];
	struct node *ptrs[4] = { &nodes[0], &nodes[1], &nodes[2], &nodes[3] };
	make_set(set, ids, 4, ptrs, NULL, NULL);
	uint16_t port = nodes[2].port;
	node_stop(&nodes[2]);
	o.port = port;
	node_start(&nodes[2], 2, set, 4, &o);
	ck_assert_uint_eq(nodes[2].port, port);

	struct restart_arg r = { &nodes[2], 3 };
	ck_assert_msg(wait_for(pred_up_count, &r), "the restarted node did not reconnect to all");
	for (int i = 0; i < 4; i++) {
		if (i == 2)
			continue;
		send_until_got(&nodes[2], &nodes[i], 1000 + (uint64_t)i);
		send_until_got(&nodes[i], &nodes[2], 2000 + (uint64_t)i);
	}
	for (int i = 0; i < 4; i++)
		node_stop(&nodes[i]);
}
END_TEST

START_TEST(test_refused_peers)
{
	/* validators 0 and 1 run; 2 is in their set but shows up with the
	 * wrong network id, then with the wrong genesis; 5 is not in the set */
	struct node nodes[2];
	uint32_t ids[3] = { 0, 1, 2 };
	struct ist_net_peer set[3];
	make_set(set, ids, 3, NULL, NULL, NULL);
	node_start(&nodes[0], 0, set, 3, NULL);
	node_start(&nodes[1], 1, set, 3, NULL);
	struct node *ptrs[3] = { &nodes[0], &nodes[1], NULL };
	make_set(set, ids, 3, ptrs, NULL, NULL);
	ck_assert_int_eq(ist_net_set_peers(nodes[0].net, set, 3), 0);
	ck_assert_int_eq(ist_net_set_peers(nodes[1].net, set, 3), 0);

	/* an unknown key, that knows and dials 0 and 1 */
	struct node stranger;
	uint32_t sids[3] = { 0, 1, 5 };
	struct ist_net_peer sset[3];
	make_set(sset, sids, 3, ptrs, NULL, NULL);
	node_start(&stranger, 5, sset, 3, NULL);
	expect_drops(&nodes[0], IST_NET_DROP_HANDSHAKE_UNKNOWN, 1);
	expect_drops(&nodes[1], IST_NET_DROP_HANDSHAKE_UNKNOWN, 1);
	node_stop(&stranger);

	/* validator 2 on another network */
	struct node wrong;
	struct node_opts o = { .network_id = NETWORK_ID + 1 };
	node_start(&wrong, 2, set, 3, &o);
	expect_drops(&nodes[0], IST_NET_DROP_HANDSHAKE_NETWORK, 1);
	expect_drops(&wrong, IST_NET_DROP_HANDSHAKE_NETWORK, 1); /* and it refuses us */
	node_stop(&wrong);

	/* validator 2 with another genesis */
	uint8_t other_genesis[32];
	memset(other_genesis, 0x11, 32);
	struct node_opts og = { .genesis = other_genesis };
	node_start(&wrong, 2, set, 3, &og);
	expect_drops(&nodes[0], IST_NET_DROP_HANDSHAKE_GENESIS, 1);
	expect_drops(&nodes[1], IST_NET_DROP_HANDSHAKE_GENESIS, 1);
	node_stop(&wrong);

	/* none of them ever got in, and 0 and 1 still talk */
	pthread_mutex_lock(&g_mtx);
	ck_assert(!nodes[0].up[2] && !nodes[0].up[5]);
	pthread_mutex_unlock(&g_mtx);
	struct ist_envelope e;
	vote(&e, 1, 77);
	ck_assert_int_eq(ist_net_send(nodes[1].net, 0, &e), 0);
	expect_got(&nodes[0], 1, 77, IST_ENVELOPE_VOTE);
	ck_assert_uint_eq(ist_net_peer_count(nodes[0].net), 1);

	node_stop(&nodes[0]);
	node_stop(&nodes[1]);
}
END_TEST

/* Validators 0 and 1 run; validator 2 exists only as a raw client whose key
 * the test holds (node 0 never dials it). Only 1 dials 0, so that there is
 * exactly one connection between them and node 0's counts are 1's doing or
 * the raw client's, never a duplicate's. */
static void raw_pair(struct node nodes[2], const struct node_opts *o0)
{
	uint32_t ids[3] = { 0, 1, 2 };
	struct ist_net_peer set[3];
	make_set(set, ids, 3, NULL, NULL, NULL);
	node_start(&nodes[0], 0, set, 3, o0);
	node_start(&nodes[1], 1, set, 3, NULL);
	struct node *ptrs[3] = { &nodes[0], &nodes[1], NULL };
	make_set(set, ids, 3, ptrs, NULL, NULL);
	ck_assert_int_eq(ist_net_set_peers(nodes[1].net, set, 3), 0);
	set[1].url[0] = '\0';
	ck_assert_int_eq(ist_net_set_peers(nodes[0].net, set, 3), 0);
	struct mesh_arg m = { (struct node *[]){ &nodes[0], &nodes[1] }, 2 };
	ck_assert(wait_for(pred_mesh_up, &m));
}

/* 0 and 1 still exchange envelopes both ways. */
static void still_working(struct node nodes[2], uint64_t view)
{
	struct ist_envelope e;
	vote(&e, 1, view);
	ck_assert_int_eq(ist_net_send(nodes[1].net, 0, &e), 0);
	expect_got(&nodes[0], 1, view, IST_ENVELOPE_VOTE);
	vote(&e, 0, view + 1);
	ck_assert_int_eq(ist_net_send(nodes[0].net, 1, &e), 0);
	expect_got(&nodes[1], 0, view + 1, IST_ENVELOPE_VOTE);
}

START_TEST(test_raw_garbage)
{
	struct node nodes[2];
	struct node_opts o = { .limits = { .handshake_timeout_ms = 1500 } };
	raw_pair(nodes, &o);
	struct node *s = &nodes[0];
	int fd;

	/* random bytes (deterministic), then close */
	struct ist_rng_det d;
	ist_rng_det_init(&d, 1234);
	uint8_t junk[2048];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)ist_rng_det_next(&d);
	double before = drops_total(s);
	fd = raw_connect(s->port);
	raw_send(fd, junk, sizeof(junk));
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, NULL, before + 1);

	/* an oversized length prefix */
	fd = raw_connect(s->port);
	raw_send(fd, "\xff\xff\xff\xff", 4);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_FRAME_TOO_LARGE, 1);

	/* a prefix of zero */
	fd = raw_connect(s->port);
	raw_send(fd, "\0\0\0\0", 4);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_FRAME_EMPTY, 1);

	/* a truncated frame, then close */
	fd = raw_connect(s->port);
	uint8_t part[4 + 10] = { 0, 0, 0, 50, IST_NET_FRAME_HELLO };
	raw_send(fd, part, sizeof(part));
	shutdown(fd, SHUT_WR);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_TRUNCATED, 1);

	/* an envelope before any handshake */
	fd = raw_connect(s->port);
	raw_frame(fd, IST_NET_FRAME_ENVELOPE, (const uint8_t *)"\x12\x00", 2);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_HANDSHAKE_UNEXPECTED, 1);

	/* a HELLO of another version; one of a wrong length */
	uint8_t nonce[32];
	memset(nonce, 0x21, 32);
	fd = raw_connect(s->port);
	raw_hello(fd, 2, nonce, 2, NETWORK_ID);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_HANDSHAKE_VERSION, 1);
	fd = raw_connect(s->port);
	raw_frame(fd, IST_NET_FRAME_HELLO, (const uint8_t *)"\x00\x01\x02", 3);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_HANDSHAKE_MALFORMED, 1);

	/* a valid-looking HELLO of a known key, then an unsigned AUTH */
	fd = raw_connect(s->port);
	raw_hello(fd, 2, nonce, IST_NET_VERSION, NETWORK_ID);
	uint8_t zero_sig[IST_SIG_BYTES] = { 0 };
	raw_frame(fd, IST_NET_FRAME_AUTH, zero_sig, sizeof(zero_sig));
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_HANDSHAKE_BAD_SIG, 1);

	/* a HELLO of a known key and then silence: the deadline */
	fd = raw_connect(s->port);
	raw_hello(fd, 2, nonce, IST_NET_VERSION, NETWORK_ID);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_HANDSHAKE_TIMEOUT, 1);

	/* our own key */
	fd = raw_connect(s->port);
	raw_hello(fd, 0, nonce, IST_NET_VERSION, NETWORK_ID);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_HANDSHAKE_SELF, 1);

	/* nothing of that reached the application, and 0 and 1 still talk */
	pthread_mutex_lock(&g_mtx);
	ck_assert_uint_eq(nodes[0].n_rx, 0);
	pthread_mutex_unlock(&g_mtx);
	still_working(nodes, 10);
	node_stop(&nodes[0]);
	node_stop(&nodes[1]);
}
END_TEST

START_TEST(test_raw_replay_and_after_handshake)
{
	struct node nodes[2];
	raw_pair(nodes, NULL);
	struct node *s = &nodes[0];
	uint8_t nonce[32], auth[4 + IST_NET_AUTH_BYTES];
	memset(nonce, 0x42, 32);

	/* an honest handshake as validator 2, then frames after it */
	int fd = raw_handshake(s, 2, nonce, auth);
	struct ist_envelope e;
	vote(&e, 2, 501);
	raw_envelope(fd, &e);
	expect_got(s, 2, 501, IST_ENVELOPE_VOTE);

	raw_frame(fd, IST_NET_FRAME_ENVELOPE, (const uint8_t *)"\xff\xff\xff", 3); /* bad protobuf */
	expect_drops(s, IST_NET_DROP_MALFORMED_ENVELOPE, 1);
	/* also counted under the decoder's reason */
	ck_assert(family_sum(s, "isthmus_net_decode_errors_total") >= 1);
	raw_frame(fd, 9, (const uint8_t *)"x", 1);                                /* a future frame type */
	expect_drops(s, IST_NET_DROP_UNKNOWN_FRAME, 1);
	raw_hello(fd, 2, nonce, IST_NET_VERSION, NETWORK_ID);                     /* HELLO again */
	expect_drops(s, IST_NET_DROP_UNEXPECTED_FRAME, 1);
	/* an envelope kind this version does not know (field 9: a newer
	 * peer's): unsupported, not malformed */
	raw_frame(fd, IST_NET_FRAME_ENVELOPE, (const uint8_t *)"\x4a\x00", 2);
	expect_drops(s, IST_NET_DROP_UNSUPPORTED_ENVELOPE, 1);
	/* the connection survived all that */
	vote(&e, 2, 502);
	raw_envelope(fd, &e);
	expect_got(s, 2, 502, IST_ENVELOPE_VOTE);
	/* a frame over the limit closes it */
	uint8_t big[4];
	ist_put_be32(big, IST_WIRE_MAX_ENVELOPE_BYTES + 2);
	raw_send(fd, big, 4);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_FRAME_TOO_LARGE, 1);

	/* replay: the same nonce and the AUTH of the first connection; the
	 * server's nonce is new, so the signature does not verify */
	fd = raw_connect(s->port);
	raw_hello(fd, 2, nonce, IST_NET_VERSION, NETWORK_ID);
	struct ist_net_hello sh;
	raw_server_hello(fd, &sh);
	raw_send(fd, auth, sizeof(auth));
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_HANDSHAKE_BAD_SIG, 1);

	ck_assert(family_sum(s, "isthmus_net_decode_errors_total") >= 2);
	still_working(nodes, 20);
	node_stop(&nodes[0]);
	node_stop(&nodes[1]);
}
END_TEST

START_TEST(test_peer_connection_cap)
{
	/* one key, many authenticated connections: each new one retires the
	 * one before (the raw client never answers GOODBYE, and the deadline
	 * is far), so the key holds 4; the fifth is refused */
	struct node nodes[2];
	struct node_opts o = { .limits = { .handshake_timeout_ms = 120000 } };
	raw_pair(nodes, &o);
	struct node *s = &nodes[0];
	uint8_t nonce[32];
	int fds[4];
	for (int i = 0; i < 4; i++) {
		memset(nonce, 0x50 + i, 32);
		fds[i] = raw_handshake(s, 2, nonce, NULL);
	}
	memset(nonce, 0x60, 32);
	int fd = raw_connect(s->port);
	raw_hello(fd, 2, nonce, IST_NET_VERSION, NETWORK_ID);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(s, IST_NET_DROP_PEER_CONNS, 1);
	/* the newest of the four is the one in use */
	struct ist_envelope e;
	vote(&e, 2, 71);
	raw_envelope(fds[3], &e);
	expect_got(s, 2, 71, IST_ENVELOPE_VOTE);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	still_working(nodes, 80);
	node_stop(&nodes[0]);
	node_stop(&nodes[1]);
}
END_TEST

START_TEST(test_rate_limit)
{
	/* node 0's clock never moves: its budget for validator 2 is exactly
	 * the burst, whatever the speed of this machine */
	struct ist_clock_manual mc;
	ist_clock_manual_init(&mc, 5000);
	struct node nodes[2];
	struct node_opts o = { .clock = &mc.clock, .limits = { .rate_frames_per_sec = 1, .burst_frames = 5 } };
	raw_pair(nodes, &o);
	struct node *s = &nodes[0];
	uint8_t nonce[32];
	memset(nonce, 0x43, 32);

	int fd = raw_handshake(s, 2, nonce, NULL);
	struct ist_envelope e;
	for (uint64_t v = 0; v < 200; v++) {
		vote(&e, 2, 1000 + v);
		raw_envelope(fd, &e);
	}
	expect_drops(s, IST_NET_DROP_RATE_LIMITED, 195);
	pthread_mutex_lock(&g_mtx);
	size_t from2 = 0;
	for (size_t i = 0; i < s->n_rx; i++)
		from2 += s->rx[i].from == 2;
	pthread_mutex_unlock(&g_mtx);
	ck_assert_uint_eq(from2, 5);
	ck_assert(drops(s, IST_NET_DROP_RATE_LIMITED) == 195);
	close(fd);
	node_stop(&nodes[0]);
	node_stop(&nodes[1]);
}
END_TEST

START_TEST(test_rate_limit_between_transports)
{
	/* the same between two transports: 1 sends 100 frames, 0 lets 3 in */
	struct ist_clock_manual mc;
	ist_clock_manual_init(&mc, 5000);
	struct node nodes[2];
	struct node_opts o = { .clock = &mc.clock, .limits = { .rate_frames_per_sec = 1, .burst_frames = 3 } };
	raw_pair(nodes, &o);
	struct ist_envelope e;
	for (uint64_t v = 0; v < 100; v++) {
		vote(&e, 1, 3000 + v);
		ck_assert_int_eq(ist_net_send(nodes[1].net, 0, &e), 0);
	}
	expect_drops(&nodes[0], IST_NET_DROP_RATE_LIMITED, 97);
	pthread_mutex_lock(&g_mtx);
	ck_assert_uint_le(nodes[0].n_rx, 3);
	pthread_mutex_unlock(&g_mtx);
	node_stop(&nodes[0]);
	node_stop(&nodes[1]);
}
END_TEST

START_TEST(test_unauthenticated_limit)
{
	struct node nodes[2];
	struct node_opts o = { .limits = { .max_unauth_total = 6, .max_unauth_per_addr = 6 } };
	raw_pair(nodes, &o);
	struct node *s = &nodes[0];

	/* six silent connections are accepted (each gets the server's
	 * HELLO), the seventh is refused at once */
	int fds[6];
	for (int i = 0; i < 6; i++) {
		fds[i] = raw_connect(s->port);
		struct ist_net_hello h;
		raw_server_hello(fds[i], &h);
	}
	int extra = raw_connect(s->port);
	ck_assert(raw_closed(extra));
	close(extra);
	expect_drops(s, IST_NET_DROP_TOO_MANY_UNAUTH, 1);
	for (int i = 0; i < 6; i++)
		close(fds[i]);
	/* the slots come back: a full handshake succeeds again */
	uint8_t nonce[32];
	memset(nonce, 0x44, 32);
	int fd;
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += WAIT_S;
	for (;;) {
		/* the server may not have seen all six closes yet: retry
		 * while refused (each refusal is counted, none is a crash) */
		fd = raw_connect(s->port);
		uint8_t hdr[4];
		if (recv(fd, hdr, 4, MSG_PEEK) == 4)
			break;
		close(fd);
		clock_gettime(CLOCK_MONOTONIC, &now);
		ck_assert_msg(now.tv_sec < end.tv_sec, "the unauthenticated slots never came back");
	}
	close(fd);
	fd = raw_handshake(s, 2, nonce, NULL);
	struct ist_envelope e;
	vote(&e, 2, 9);
	raw_envelope(fd, &e);
	expect_got(s, 2, 9, IST_ENVELOPE_VOTE);
	close(fd);
	still_working(nodes, 30);
	node_stop(&nodes[0]);
	node_stop(&nodes[1]);
}
END_TEST

START_TEST(test_set_change)
{
	/* three validators; the set changes to {0, 1} with new indices:
	 * 2 is cut off and refused from then on */
	struct node nodes[3];
	uint32_t ids[3] = { 0, 1, 2 };
	mesh_start(nodes, ids, 3, NULL);
	struct ist_net_peer set[3];
	struct node *ptrs[3] = { &nodes[0], &nodes[1], &nodes[2] };
	make_set(set, ids, 3, ptrs, NULL, NULL);
	/* same keys, new indices: 0 -> 10, 1 -> 11 */
	struct ist_net_peer next[2] = { set[0], set[1] };
	next[0].index = 10;
	next[1].index = 11;
	ck_assert_int_eq(ist_net_set_peers(nodes[0].net, next, 2), 0);
	ck_assert_int_eq(ist_net_set_peers(nodes[1].net, next, 2), 0);
	/* the connection between 0 and 1 stays; envelopes carry new indices */
	struct ist_envelope e;
	vote(&e, 11, 40);
	ck_assert_int_eq(ist_net_send(nodes[1].net, 10, &e), 0);
	/* (not expect_got: pub_ok compares with the key of id 11, which is
	 * not this one) */
	struct got_arg g = { &nodes[0], 11, 40, IST_ENVELOPE_VOTE };
	bool got = false;
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += WAIT_S;
	pthread_mutex_lock(&g_mtx);
	while (!got) {
		for (size_t i = 0; i < nodes[0].n_rx; i++)
			if (nodes[0].rx[i].from == g.from && nodes[0].rx[i].view == g.view)
				got = true;
		if (!got && pthread_cond_timedwait(&g_cond, &g_mtx, &end) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&g_mtx);
	ck_assert_msg(got, "no envelope under the new index");
	/* 2 is out: sending to its old index fails, and it is refused */
	ck_assert_int_eq(ist_net_send(nodes[0].net, 2, &e), -IST_ENOTFOUND);
	expect_drops(&nodes[0], IST_NET_DROP_HANDSHAKE_UNKNOWN, 1);
	for (int i = 0; i < 3; i++)
		node_stop(&nodes[i]);
}
END_TEST

/* ---- TLS ---- */

/* ---- liveness: a TCP proxy whose connections can be frozen ---- */

/*
 * Forwards 127.0.0.1:port to 127.0.0.1:target, one thread, poll(2). A
 * frozen pair is no longer polled: both sockets stay open and nothing more
 * is forwarded either way (what a path that died without a FIN or RST
 * looks like: a peer whose address changed, a NAT that forgot the flow).
 * Connections accepted after a freeze are forwarded normally.
 */
#define PROXY_PAIRS 16

struct proxy {
	int lfd, wake[2];
	uint16_t port, target;
	pthread_t thread;
	pthread_mutex_t mtx;
	bool stop;
	struct {
		int a, b;              /* accepted, and our connection to the target */
		bool frozen;
	} pairs[PROXY_PAIRS];
	size_t n_pairs;
	unsigned accepted;         /* connections accepted so far */
};

static void proxy_drop_pair_locked(struct proxy *px, size_t i)
{
	close(px->pairs[i].a);
	close(px->pairs[i].b);
	px->pairs[i] = px->pairs[--px->n_pairs];
}

static void *proxy_main(void *arg)
{
	struct proxy *px = arg;
	for (;;) {
		struct pollfd fds[2 + 2 * PROXY_PAIRS];
		size_t idx[2 + 2 * PROXY_PAIRS];
		size_t nf = 0;
		pthread_mutex_lock(&px->mtx);
		if (px->stop) {
			pthread_mutex_unlock(&px->mtx);
			return NULL;
		}
		fds[nf++] = (struct pollfd){ .fd = px->wake[0], .events = POLLIN };
		fds[nf++] = (struct pollfd){ .fd = px->lfd, .events = POLLIN };
		for (size_t i = 0; i < px->n_pairs; i++) {
			if (px->pairs[i].frozen)
				continue;
			idx[nf] = i;
			fds[nf++] = (struct pollfd){ .fd = px->pairs[i].a, .events = POLLIN };
			idx[nf] = i;
			fds[nf++] = (struct pollfd){ .fd = px->pairs[i].b, .events = POLLIN };
		}
		pthread_mutex_unlock(&px->mtx);
		if (poll(fds, nf, -1) < 0)
			continue;
		pthread_mutex_lock(&px->mtx);
		if (fds[0].revents) {
			char c;
			(void)!read(px->wake[0], &c, 1);
		} else if (fds[1].revents) {
			int a = accept(px->lfd, NULL, NULL);
			if (a >= 0) {
				int b = socket(AF_INET, SOCK_STREAM, 0);
				struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(px->target) };
				sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
				if (b < 0 || px->n_pairs == PROXY_PAIRS ||
				    connect(b, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
					close(a);
					if (b >= 0)
						close(b);
				} else {
					px->pairs[px->n_pairs].a = a;
					px->pairs[px->n_pairs].b = b;
					px->pairs[px->n_pairs].frozen = false;
					px->n_pairs++;
					px->accepted++;
				}
			}
		} else {
			/* one ready socket per round: indices stay valid */
			for (size_t k = 2; k < nf; k++) {
				if (!fds[k].revents)
					continue;
				size_t i = idx[k];
				int from = fds[k].fd, to = from == px->pairs[i].a ? px->pairs[i].b : px->pairs[i].a;
				uint8_t buf[16384];
				ssize_t r = recv(from, buf, sizeof(buf), 0);
				bool ok = r > 0;
				for (ssize_t off = 0; ok && off < r;) {
					ssize_t w = send(to, buf + off, (size_t)(r - off), MSG_NOSIGNAL);
					ok = w > 0;
					off += ok ? w : 0;
				}
				if (!ok)
					proxy_drop_pair_locked(px, i);
				break;
			}
		}
		pthread_cond_broadcast(&g_cond);
		pthread_mutex_unlock(&px->mtx);
	}
}

static void proxy_start(struct proxy *px, uint16_t target)
{
	memset(px, 0, sizeof(*px));
	px->target = target;
	pthread_mutex_init(&px->mtx, NULL);
	ck_assert_int_eq(pipe(px->wake), 0);
	px->lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(px->lfd, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(px->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(px->lfd, 16), 0);
	socklen_t sl = sizeof(sa);
	ck_assert_int_eq(getsockname(px->lfd, (struct sockaddr *)&sa, &sl), 0);
	px->port = ntohs(sa.sin_port);
	ck_assert_int_eq(pthread_create(&px->thread, NULL, proxy_main, px), 0);
}

static void proxy_poke(struct proxy *px)
{
	(void)!write(px->wake[1], "x", 1);
}

/* Freezes every connection the proxy holds now. */
static void proxy_freeze(struct proxy *px)
{
	pthread_mutex_lock(&px->mtx);
	for (size_t i = 0; i < px->n_pairs; i++)
		px->pairs[i].frozen = true;
	pthread_mutex_unlock(&px->mtx);
	proxy_poke(px);
}

static unsigned proxy_accepted(struct proxy *px)
{
	pthread_mutex_lock(&px->mtx);
	unsigned n = px->accepted;
	pthread_mutex_unlock(&px->mtx);
	return n;
}

static void proxy_stop(struct proxy *px)
{
	pthread_mutex_lock(&px->mtx);
	px->stop = true;
	pthread_mutex_unlock(&px->mtx);
	proxy_poke(px);
	pthread_join(px->thread, NULL);
	while (px->n_pairs)
		proxy_drop_pair_locked(px, 0);
	close(px->lfd);
	close(px->wake[0]);
	close(px->wake[1]);
	pthread_mutex_destroy(&px->mtx);
}

struct silent_arg {
	struct node *n;            /* counted peer_silent at least once */
	struct proxy *px;          /* ... and the proxy accepted at least `accepted` */
	unsigned accepted;
};

static bool pred_silent_and_redialled(void *a)
{
	struct silent_arg *s = a;
	return drops(s->n, IST_NET_DROP_SILENT) >= 1 && proxy_accepted(s->px) >= s->accepted;
}

/* Node 1 dials node 0 through the proxy (0 never dials 1). The path then
 * dies silently: the heartbeat notices, node 1 closes the connection and
 * dials again (a new connection through the proxy), and envelopes flow both
 * ways. Without the heartbeat only TCP keepalive (hours) would notice. */
START_TEST(test_silent_connection_redialled)
{
	struct node nodes[2];
	struct proxy px;
	struct node_opts o = { .limits = { .ping_interval_ms = 100, .silence_timeout_ms = 400,
					   .backoff_min_ms = 20, .backoff_max_ms = 200 } };
	uint32_t ids[2] = { 0, 1 };
	struct ist_net_peer set[2];
	make_set(set, ids, 2, NULL, NULL, NULL);
	node_start(&nodes[0], 0, set, 2, &o);
	proxy_start(&px, nodes[0].port);
	snprintf(set[0].url, sizeof(set[0].url), "tcp://127.0.0.1:%u", px.port);
	node_start(&nodes[1], 1, set, 2, &o);
	struct mesh_arg m = { (struct node *[]){ &nodes[0], &nodes[1] }, 2 };
	ck_assert(wait_for(pred_mesh_up, &m));
	still_working(nodes, 10);
	ck_assert_uint_eq(proxy_accepted(&px), 1);

	proxy_freeze(&px);
	struct silent_arg s = { &nodes[1], &px, 2 };
	ck_assert_msg(wait_for(pred_silent_and_redialled, &s),
		      "node 1: peer_silent = %g, proxy connections = %u: the dead connection was kept",
		      drops(&nodes[1], IST_NET_DROP_SILENT), proxy_accepted(&px));
	/* (a frame written into the dead path before it was noticed is lost:
	 * at most once; hence the retransmitting sends) */
	send_until_got(&nodes[1], &nodes[0], 20);
	send_until_got(&nodes[0], &nodes[1], 21);

	node_stop(&nodes[0]);
	node_stop(&nodes[1]);
	proxy_stop(&px);
}
END_TEST

/* The lower key L dials H through the proxy, so the tie-break keeps that
 * connection. The path dies silently, and H "moves": it comes back on
 * another port and dials L. The silence timeout is far away (60 s): only
 * the replacement rule lets L prefer H's new connection over the dead one
 * that the tie-break alone would keep. */
START_TEST(test_silent_connection_replaced)
{
	uint8_t seed[32], pub0[32], pub1[32];
	key_of(0, seed, pub0);
	key_of(1, seed, pub1);
	uint32_t lo = memcmp(pub0, pub1, 32) < 0 ? 0 : 1, hi = 1 - lo;
	struct node nodes[2]; /* [lo], [hi] */
	struct node *L = &nodes[lo], *H = &nodes[hi];
	struct proxy px;
	struct node_opts o = { .limits = { .ping_interval_ms = 100, .silence_timeout_ms = 60000,
					   .backoff_min_ms = 20, .backoff_max_ms = 200 } };
	uint32_t ids[2] = { 0, 1 };
	struct ist_net_peer set[2];
	make_set(set, ids, 2, NULL, NULL, NULL);
	node_start(H, hi, set, 2, &o);
	proxy_start(&px, H->port);
	snprintf(set[hi].url, sizeof(set[hi].url), "tcp://127.0.0.1:%u", px.port);
	node_start(L, lo, set, 2, &o);
	struct mesh_arg m = { (struct node *[]){ L, H }, 2 };
	ck_assert(wait_for(pred_mesh_up, &m));
	still_working(nodes, 30);

	proxy_freeze(&px);
	node_stop(H); /* its socket into the frozen proxy: L never hears of it */
	make_set(set, ids, 2, NULL, NULL, NULL);
	snprintf(set[lo].url, sizeof(set[lo].url), "tcp://127.0.0.1:%u", L->port);
	node_start(H, hi, set, 2, &o);

	send_until_got(H, L, 40);
	send_until_got(L, H, 41);
	expect_drops(L, IST_NET_DROP_SILENT, 1); /* the replaced connection */
	ck_assert_uint_eq(proxy_accepted(&px), 1); /* L never dialled the old address */

	node_stop(L);
	node_stop(H);
	proxy_stop(&px);
}
END_TEST

/* Reads frames until one of `type` (others skipped); false when closed. */
static bool raw_read_until(int fd, uint8_t type)
{
	uint8_t hdr[4], body[IST_NET_AUTH_BYTES];
	for (;;) {
		if (!raw_read(fd, hdr, 4))
			return false;
		size_t len = ist_get_be32(hdr);
		ck_assert_uint_ge(len, 1);
		ck_assert_uint_le(len, sizeof(body)); /* no envelopes are sent to it here */
		if (!raw_read(fd, body, len))
			return false;
		if (body[0] == type)
			return true;
	}
}

/* True while fd is open: whatever is buffered is read and discarded. */
static bool raw_still_open(int fd)
{
	uint8_t buf[512];
	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0)
			continue;
		return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
	}
}

/* The frames on the wire, with raw clients: a PING as soon as the
 * handshake is done, a PONG for a PING, a close for a peer that answered
 * once and then went silent; and a peer that never speaks the heartbeat
 * (an older build, which drops PING as an unknown type) is never closed
 * for silence. */
START_TEST(test_heartbeat_frames)
{
	struct node n0;
	uint32_t ids[3] = { 0, 2, 3 };
	struct ist_net_peer set[3];
	make_set(set, ids, 3, NULL, NULL, NULL);
	struct node_opts o = { .limits = { .ping_interval_ms = 100, .silence_timeout_ms = 300 } };
	node_start(&n0, 0, set, 3, &o);
	uint8_t nonce[32];

	/* 3: an older build; it reads nothing and answers nothing */
	memset(nonce, 0x33, 32);
	int old = raw_handshake(&n0, 3, nonce, NULL);
	ck_assert(raw_read_until(old, IST_NET_FRAME_PING));

	/* 2: answers one PING and sends one, then falls silent */
	memset(nonce, 0x22, 32);
	int fd = raw_handshake(&n0, 2, nonce, NULL);
	ck_assert(raw_read_until(fd, IST_NET_FRAME_PING));
	raw_frame(fd, IST_NET_FRAME_PONG, NULL, 0);
	raw_frame(fd, IST_NET_FRAME_PING, (const uint8_t *)"xy", 2); /* a payload is ignored */
	ck_assert(raw_read_until(fd, IST_NET_FRAME_PONG));
	ck_assert(raw_closed(fd)); /* (within WAIT_S) */
	close(fd);
	expect_drops(&n0, IST_NET_DROP_SILENT, 1);

	/* 3 has been silent longer than 2 was, and is still connected */
	ck_assert(raw_still_open(old));
	ck_assert(ist_net_peer_connected(n0.net, 3));
	ck_assert(!ist_net_peer_connected(n0.net, 2));
	ck_assert_uint_eq(drops(&n0, IST_NET_DROP_SILENT), 1);
	ck_assert_uint_eq(drops(&n0, IST_NET_DROP_UNKNOWN_FRAME), 0);
	struct ist_envelope e;
	vote(&e, 3, 50);
	raw_envelope(old, &e);
	expect_got(&n0, 3, 50, IST_ENVELOPE_VOTE);
	close(old);
	node_stop(&n0);
}
END_TEST

START_TEST(test_heartbeat_limits)
{
	struct ist_net_config cfg = { .network_id = 1, .node_seed = (const uint8_t[32]){ 1 } };
	struct ist_net_hooks hooks = { .on_envelope = on_envelope };
	struct ist_net *net = NULL;
	char err[256];
	cfg.limits.ping_interval_ms = 1000;
	cfg.limits.silence_timeout_ms = 1000;
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net, err, sizeof(err)), -IST_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "silence_timeout_ms"));
	cfg.limits.silence_timeout_ms = 1001;
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net, err, sizeof(err)), 0);
	ist_net_free(net);
}
END_TEST

static char *g_tls_dir;

static bool make_cert(char **ret_cert, char **ret_key)
{
	if (system("command -v openssl >/dev/null 2>&1") != 0)
		return false;
	g_tls_dir = ist_test_tmpdir("ist-net-tls");
	char cmd[1024];
	ck_assert_int_gt(asprintf(ret_cert, "%s/cert.pem", g_tls_dir), 0);
	ck_assert_int_gt(asprintf(ret_key, "%s/key.pem", g_tls_dir), 0);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
		 "-subj /CN=127.0.0.1 -keyout %s -out %s >/dev/null 2>&1",
		 *ret_key, *ret_cert);
	ck_assert_msg(system(cmd) == 0, "openssl could not make a test certificate");
	return true;
}

START_TEST(test_tls)
{
	char *cert, *key;
	if (!make_cert(&cert, &key)) {
		fprintf(stderr, "# openssl not found: TLS test skipped\n");
		return;
	}
	struct node nodes[3];
	uint32_t ids[3] = { 0, 1, 2 };
	struct node_opts o = { .scheme = "tls+tcp", .tls_cert = cert, .tls_key = key, .tls_ca = cert };
	mesh_start(nodes, ids, 3, &o);
	struct ist_envelope e;
	vote(&e, 0, 61);
	ck_assert_int_eq(ist_net_broadcast(nodes[0].net, &e), 0);
	expect_got(&nodes[1], 0, 61, IST_ENVELOPE_VOTE);
	expect_got(&nodes[2], 0, 61, IST_ENVELOPE_VOTE);

	/* plain bytes at a TLS port: a TLS failure, counted; still working */
	int fd = raw_connect(nodes[0].port);
	raw_send(fd, "\x16\x03\x01\x00\x05hello", 10);
	ck_assert(raw_closed(fd));
	close(fd);
	expect_drops(&nodes[0], NULL, 1);
	vote(&e, 1, 62);
	ck_assert_int_eq(ist_net_send(nodes[1].net, 0, &e), 0);
	expect_got(&nodes[0], 1, 62, IST_ENVELOPE_VOTE);
	for (int i = 0; i < 3; i++)
		node_stop(&nodes[i]);
	ist_test_rmtree(g_tls_dir);
	free(g_tls_dir);
	free(cert);
	free(key);
}
END_TEST

START_TEST(test_config_errors)
{
	uint8_t seed[32], pub[32];
	key_of(0, seed, pub);
	struct ist_net_hooks hooks = { .on_envelope = on_envelope };
	struct ist_net *net = NULL;
	char err[256];
	struct ist_net_peer set[2];
	uint32_t ids[2] = { 0, 1 };
	make_set(set, ids, 2, NULL, NULL, NULL);
	struct ist_net_config cfg = { .listen_url = "tcp://127.0.0.1:0", .node_seed = seed, .peers = set, .n_peers = 2 };

	cfg.listen_url = "udp://127.0.0.1:0";
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net, err, sizeof(err)), -IST_EINVAL);
	ck_assert(strstr(err, "listen_url") != NULL);
	cfg.listen_url = "tcp://127.0.0.1:0";
	set[1].index = 0;
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net, err, sizeof(err)), -IST_EINVAL);
	ck_assert(strstr(err, "index") != NULL);
	set[1].index = 1;
	snprintf(set[1].url, sizeof(set[1].url), "http://x");
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net, err, sizeof(err)), -IST_EINVAL);
	set[1].url[0] = '\0';
	cfg.limits.max_queue_bytes = 10;
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net, err, sizeof(err)), -IST_EINVAL);
	ck_assert(strstr(err, "max_queue_bytes") != NULL);
	cfg.limits.max_queue_bytes = 0;
	cfg.listen_url = "tls+tcp://127.0.0.1:0";
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net, err, sizeof(err)), -IST_ECONFIG);
	cfg.listen_url = "tcp://127.0.0.1:0";
	cfg.tls_ca_file = "/nonexistent/ca.pem";
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net, err, sizeof(err)), -IST_ECONFIG);
	cfg.tls_ca_file = NULL;
	ck_assert_ptr_null(net);

	/* a port in use */
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net, err, sizeof(err)), 0);
	ck_assert_int_eq(ist_net_start(net, err, sizeof(err)), 0);
	ck_assert_int_eq(ist_net_start(net, err, sizeof(err)), -IST_ESTATE);
	uint16_t port;
	ck_assert_int_eq(ist_net_bound_port(net, &port), 0);
	struct ist_net *net2 = NULL;
	char url[64];
	snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
	cfg.listen_url = url;
	ck_assert_int_eq(ist_net_new(&cfg, NULL, NULL, NULL, &hooks, &net2, err, sizeof(err)), 0);
	ck_assert_int_eq(ist_net_start(net2, err, sizeof(err)), -IST_ENET);
	ck_assert(strstr(err, "listen") != NULL);
	ist_net_free(net2);

	/* set_peers refuses bad sets and keeps the old one */
	struct ist_net_peer dup[2] = { set[0], set[0] };
	dup[1].index = 5;
	ck_assert_int_eq(ist_net_set_peers(net, dup, 2), -IST_EINVAL);
	struct ist_envelope e;
	vote(&e, 0, 1);
	ck_assert_int_eq(ist_net_send(net, 1, &e), 0); /* queued for the absent peer */
	ck_assert_int_eq(ist_net_send(net, 5, &e), -IST_ENOTFOUND);
	ist_net_free(net);
	ist_net_free(NULL);
}
END_TEST

static TCase *tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *suite(void)
{
	Suite *s = suite_create("net-integration");
	TCase *tc = tcase(s, "mesh");
	tcase_add_test(tc, test_mesh_broadcast_and_direct);
	tcase_add_test(tc, test_restart_reconnects);
	tcase_add_test(tc, test_set_change);
	tc = tcase(s, "refused");
	tcase_add_test(tc, test_refused_peers);
	tcase_add_test(tc, test_raw_garbage);
	tcase_add_test(tc, test_raw_replay_and_after_handshake);
	tcase_add_test(tc, test_unauthenticated_limit);
	tcase_add_test(tc, test_peer_connection_cap);
	tc = tcase(s, "liveness");
	tcase_add_test(tc, test_silent_connection_redialled);
	tcase_add_test(tc, test_silent_connection_replaced);
	tcase_add_test(tc, test_heartbeat_frames);
	tcase_add_test(tc, test_heartbeat_limits);
	tc = tcase(s, "limits");
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_rate_limit_between_transports);
	tc = tcase(s, "tls");
	tcase_add_test(tc, test_tls);
	tc = tcase(s, "config");
	tcase_add_test(tc, test_config_errors);
	return s;
}

int main(void)
{
	if (ist_crypto_init() < 0)
		return 1;
	/* IST_TEST_LOG=net=debug shows the transport's story */
	const char *log = getenv("IST_TEST_LOG");
	if (log && ist_log_configure(log) < 0)
		return 1;
	return ist_test_run(suite());
}
