/*
 * The validator transport (net.h): NNG byte streams, our framing, the signed
 * handshake, limits.
 *
 * Objects and lifetimes.
 *  - struct peer: one validator of the current set. Plain memory (no NNG
 *    resource), freed under the lock when it leaves the set; connections
 *    that pointed to it are closed and their pointer cleared first.
 *  - struct conn: one connection, from the dial (DIALING) or the accept
 *    (HANDSHAKE) to its close. It owns two aios (rx: the dial, then reads;
 *    tx: writes), its stream and, for a dial, the stream dialer. Closing
 *    (conn_close_locked) only marks it, detaches it from its peer and moves
 *    it to the reap list; the transport's thread then stops both aios
 *    (nng_aio_stop waits for a callback in flight, and no operation can
 *    start on a stopped aio), frees the stream and the memory. So a callback
 *    always finds its conn alive, and NNG is never torn down under our lock
 *    (its callbacks take that lock: stopping an aio while holding it could
 *    deadlock).
 *  - struct msg: an outbound frame, reference-counted (a broadcast shares
 *    one buffer between all queues; a frame being written is also held by
 *    its conn until the conn is reaped, since NNG may still read it).
 *
 * Locking. One mutex (net->mtx) guards everything above. We call NNG's
 * submit functions (send, recv, dial, accept) with it held: NNG completes
 * those on its task threads, never inline. Hooks run without it, except
 * on_drop (documented in net.h).
 */
#include "net/net.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <sodium.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "net/frame.h"
#include "net/handshake.h"
#include "net/limits.h"
#include "wire/codec.h"

#define LOG "net"

/* Bytes read from a socket at a time (and held per connection). */
#define RX_CHUNK 16384
/* Envelopes handed over per batch before the lock is taken again. */
#define PEND_MAX 32
/* Delay before accepting again after an accept error (EMFILE, ...). */
#define ACCEPT_RETRY_MS 100
/* The transport's thread wakes at least this often (so that a manual clock
 * that moved is noticed). */
#define WORKER_MAX_WAIT_MS 1000
/* A connection in use that read nothing for this many ping intervals is
 * "silent": a new connection from the same peer replaces it whatever the
 * tie-break says (a live one is never that quiet: both ends PING). */
#define STALE_PING_INTERVALS 2
/* Bounds ping_interval_ms (an hour), so that its multiples fit in 32 bits. */
#define PING_INTERVAL_MAX_MS 3600000u

struct msg {
	unsigned refs;
	bool goodbye;              /* the GOODBYE frame */
	uint8_t heartbeat;         /* IST_NET_FRAME_PING or _PONG for those frames, else 0 */
	const char *type;          /* messages_out label; NULL for handshake frames */
	size_t len;
	uint8_t data[];            /* the whole frame, length prefix included */
};

struct qitem {
	struct qitem *next;
	struct msg *m;
};

struct peer {
	uint32_t index;
	uint8_t pub[IST_ED25519_PUBKEY_BYTES];
	char url[IST_NET_URL_MAX];
	bool self;
	struct conn *active;       /* the authenticated connection in use */
	struct conn *out;          /* our dial in progress (DIALING or HANDSHAKE) */
	uint32_t attempts;         /* failed dials since the last success */
	uint64_t next_dial_ms;
	bool reported_up;          /* what on_peer was last told */
	struct ist_net_bucket frames, bytes;
	struct qitem *q_head, *q_tail;
	size_t q_bytes;
};

enum conn_state {
	CONN_DIALING,
	CONN_HANDSHAKE,
	CONN_ACTIVE,
};

struct conn {
	struct ist_net *net;
	struct conn *prev, *next;  /* net->live (doubly linked) or net->reap (next only) */
	uint64_t id;               /* for logs */
	enum conn_state state;
	bool closing;
	bool outbound;
	struct peer *peer;         /* outbound: from the start; inbound: after a good HELLO */
	nng_stream *stream;
	nng_stream_dialer *dialer;
	nng_aio *rx_aio, *tx_aio;
	uint8_t *rxbuf;            /* RX_CHUNK bytes */
	struct ist_net_framer framer;
	uint64_t deadline_ms;      /* dial + handshake must end by then */
	uint8_t addr[17];          /* inbound: family byte (4, 6, 0 unknown) + address */
	/* handshake */
	bool got_hello, got_auth;
	uint8_t my_nonce[IST_NET_NONCE_BYTES];
	uint8_t peer_nonce[IST_NET_NONCE_BYTES];
	uint8_t peer_pub[IST_ED25519_PUBKEY_BYTES];
	/* sending */
	struct qitem *ctl_head, *ctl_tail; /* handshake frames, before anything else */
	struct msg *tx_msg;        /* being written (held until reaped if closing) */
	size_t tx_off;
	bool tx_busy;
	bool tx_from_peer;         /* tx_msg came from the peer's queue */
	/* retiring: a duplicate being drained (see conn_retire_locked) */
	bool retiring;
	bool bye_sent, bye_recv;
	/* liveness (CONN_ACTIVE): see net.h "Liveness" */
	uint64_t last_rx_ms;       /* when bytes were last read (or it authenticated) */
	bool hb_peer;              /* the peer sent a PING or PONG: it speaks the heartbeat */
	bool pinged;               /* a PING was queued since the last read */
	bool ping_queued, pong_queued; /* one of each at most waits in ctl (bounded by that) */
};

struct ist_net {
	pthread_mutex_t mtx;
	pthread_cond_t cond;       /* wakes the transport's thread */
	pthread_t thread;
	bool thread_started;
	bool started;
	bool stopping;
	bool peers_dirty;          /* on_peer may have something to report */

	char *listen_url;
	bool listen_tls;
	uint64_t network_id;
	uint8_t genesis[IST_HASH_BYTES];
	uint8_t *seed;             /* sodium_malloc'd */
	uint8_t pub[IST_ED25519_PUBKEY_BYTES];
	struct ist_net_limits lim; /* defaults resolved */
	size_t max_body;           /* largest frame body after the handshake */
	const struct ist_clock *clock;
	const struct ist_rng *rng;
	struct ist_net_hooks hooks;

	nng_tls_config *tls_server;
	char *tls_ca_file;

	nng_stream_listener *listener;
	nng_aio *accept_aio;
	bool accept_retry;
	uint64_t accept_retry_ms;

	struct peer **peers;
	size_t n_peers;
	struct conn *live;
	struct conn *reap;
	uint32_t n_unauth;         /* inbound connections not yet authenticated */
	uint64_t next_id;
	uint64_t last_tick_ms;     /* the transport's thread last ran its timers */

	struct ist_metric *m_in, *m_out, *m_drop, *m_decode, *m_peers;
};

static const char *const drop_reasons[] = {
	IST_NET_DROP_FRAME_TOO_LARGE,
	IST_NET_DROP_FRAME_EMPTY,
	IST_NET_DROP_TRUNCATED,
	IST_NET_DROP_HANDSHAKE_MALFORMED,
	IST_NET_DROP_HANDSHAKE_UNEXPECTED,
	IST_NET_DROP_HANDSHAKE_VERSION,
	IST_NET_DROP_HANDSHAKE_NETWORK,
	IST_NET_DROP_HANDSHAKE_GENESIS,
	IST_NET_DROP_HANDSHAKE_SELF,
	IST_NET_DROP_HANDSHAKE_UNKNOWN,
	IST_NET_DROP_HANDSHAKE_WRONG_KEY,
	IST_NET_DROP_HANDSHAKE_BAD_SIG,
	IST_NET_DROP_HANDSHAKE_TIMEOUT,
	IST_NET_DROP_PEER_CONNS,
	IST_NET_DROP_TOO_MANY_UNAUTH,
	IST_NET_DROP_TLS,
	IST_NET_DROP_RATE_LIMITED,
	IST_NET_DROP_MALFORMED_ENVELOPE,
	IST_NET_DROP_UNSUPPORTED_ENVELOPE,
	IST_NET_DROP_UNEXPECTED_FRAME,
	IST_NET_DROP_UNKNOWN_FRAME,
	IST_NET_DROP_SILENT,
	IST_NET_DROP_NOMEM,
	IST_NET_DROP_SEND_QUEUE_FULL,
};

static void conn_close_locked(struct conn *c, const char *reason);
static void conn_kick_locked(struct conn *c);
static void conn_retire_locked(struct conn *c);

/* ---- small helpers ---- */

IST_PRINTF(4, 5)
static int fail(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
	if (errbuf && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* NNG's codes stop here (STYLE.md "Errors"). */
static int err_from_nng(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case NNG_ENOMEM:
		return -IST_ENOMEM;
	case NNG_EINVAL:
	case NNG_EADDRINVAL:
		return -IST_EINVAL;
	case NNG_ETIMEDOUT:
		return -IST_ETIMEOUT;
	case NNG_ECLOSED:
	case NNG_ECONNSHUT:
		return -IST_ECLOSED;
	case NNG_ENOTSUP:
		return -IST_EUNSUPPORTED;
	case NNG_EPERM:
		return -IST_EPERM;
	default:
		return -IST_ENET;
	}
}

static uint64_t now_ms(const struct ist_net *net)
{
	return ist_clock_mono_ms(net->clock);
}

static void wake_locked(struct ist_net *net)
{
	pthread_cond_signal(&net->cond);
}

static bool url_scheme_ok(const char *url, bool *ret_tls)
{
	static const char *const plain[] = { "tcp://", "tcp4://", "tcp6://" };
	static const char *const tls[] = { "tls+tcp://", "tls+tcp4://", "tls+tcp6://" };
	for (size_t i = 0; i < IST_ARRAY_SIZE(plain); i++) {
		if (strncmp(url, plain[i], strlen(plain[i])) == 0) {
			*ret_tls = false;
			return true;
		}
		if (strncmp(url, tls[i], strlen(tls[i])) == 0) {
			*ret_tls = true;
			return true;
		}
	}
	return false;
}

/* The metric label of a kind; the default keeps any other value (from a newer
 * peer, say) counted as "unknown". */
static const char *kind_label(enum ist_envelope_kind kind)
{
	switch (kind) {
	case IST_ENVELOPE_BLOCK_REQUEST:
		return "block_request";
	case IST_ENVELOPE_BLOCK_RESPONSE:
		return "block_response";
	case IST_ENVELOPE_ATTEST_SHARE:
		return "attest_share";
	case IST_ENVELOPE_FROST:
		return "frost";
	case IST_ENVELOPE_PROPOSAL:
		return "proposal";
	case IST_ENVELOPE_VOTE:
		return "vote";
	case IST_ENVELOPE_TIMEOUT:
		return "timeout";
	default:
		return "unknown";
	}
}

static void count_drop_locked(struct ist_net *net, const char *reason)
{
	ist_metric_inc(net->m_drop, reason);
	ist_log_debug(LOG, "dropped: %s", reason);
	if (net->hooks.on_drop)
		net->hooks.on_drop(net->hooks.ctx, reason);
}

/* ---- outbound frames ---- */

static struct msg *msg_new(size_t len, const char *type)
{
	struct msg *m = malloc(sizeof(*m) + len);
	if (!m)
		return NULL;
	m->refs = 1;
	m->goodbye = false;
	m->heartbeat = 0;
	m->type = type;
	m->len = len;
	return m;
}

static void msg_release(struct msg *m)
{
	if (m && --m->refs == 0)
		free(m);
}

static void q_free(struct qitem *q)
{
	while (q) {
		struct qitem *next = q->next;
		msg_release(q->m);
		free(q);
		q = next;
	}
}

static struct msg *peer_pop_locked(struct peer *p)
{
	struct qitem *q = p->q_head;
	if (!q)
		return NULL;
	p->q_head = q->next;
	if (!p->q_head)
		p->q_tail = NULL;
	p->q_bytes -= q->m->len;
	struct msg *m = q->m; /* the queue's reference moves to the caller */
	free(q);
	return m;
}

/* Appends (or, for a frame taken back from a closed connection, prepends)
 * m, dropping the oldest frames while over the byte limit. Takes its own
 * reference. */
static int peer_enqueue_locked(struct ist_net *net, struct peer *p, struct msg *m, bool front)
{
	struct qitem *q = malloc(sizeof(*q));
	if (!q) {
		count_drop_locked(net, IST_NET_DROP_NOMEM);
		return -IST_ENOMEM;
	}
	if (!front) {
		while (p->q_head && p->q_bytes + m->len > net->lim.max_queue_bytes) {
			msg_release(peer_pop_locked(p));
			count_drop_locked(net, IST_NET_DROP_SEND_QUEUE_FULL);
		}
	}
	m->refs++;
	q->m = m;
	q->next = NULL;
	if (front) {
		q->next = p->q_head;
		p->q_head = q;
		if (!p->q_tail)
			p->q_tail = q;
	} else {
		if (p->q_tail)
			p->q_tail->next = q;
		else
			p->q_head = q;
		p->q_tail = q;
	}
	p->q_bytes += m->len;
	if (p->active)
		conn_kick_locked(p->active);
	return 0;
}

static int ctl_push_locked(struct conn *c, struct msg *m)
{
	struct qitem *q = malloc(sizeof(*q));
	if (!q) {
		msg_release(m);
		return -IST_ENOMEM;
	}
	q->m = m; /* the caller's reference moves to the queue */
	q->next = NULL;
	if (c->ctl_tail)
		c->ctl_tail->next = q;
	else
		c->ctl_head = q;
	c->ctl_tail = q;
	return 0;
}

static struct msg *ctl_pop_locked(struct conn *c)
{
	struct qitem *q = c->ctl_head;
	if (!q)
		return NULL;
	c->ctl_head = q->next;
	if (!c->ctl_head)
		c->ctl_tail = NULL;
	struct msg *m = q->m;
	free(q);
	return m;
}

/* ---- peers ---- */

static struct peer *peer_by_pub(struct ist_net *net, const uint8_t pub[IST_ED25519_PUBKEY_BYTES])
{
	for (size_t i = 0; i < net->n_peers; i++)
		if (memcmp(net->peers[i]->pub, pub, IST_ED25519_PUBKEY_BYTES) == 0)
			return net->peers[i];
	return NULL;
}

static struct peer *peer_by_index(struct ist_net *net, uint32_t index)
{
	for (size_t i = 0; i < net->n_peers; i++)
		if (net->peers[i]->index == index)
			return net->peers[i];
	return NULL;
}

static size_t peer_count_locked(struct ist_net *net)
{
	size_t n = 0;
	for (size_t i = 0; i < net->n_peers; i++)
		if (net->peers[i]->active)
			n++;
	return n;
}

static void peers_changed_locked(struct ist_net *net)
{
	ist_metric_set(net->m_peers, NULL, (double)peer_count_locked(net));
	net->peers_dirty = true;
	wake_locked(net);
}

static void peer_free(struct peer *p)
{
	if (!p)
		return;
	q_free(p->q_head);
	free(p);
}

/* ---- connections ---- */

static void conn_rx_cb(void *arg);
static void conn_tx_cb(void *arg);

static void live_link_locked(struct ist_net *net, struct conn *c)
{
	c->prev = NULL;
	c->next = net->live;
	if (net->live)
		net->live->prev = c;
	net->live = c;
}

static void live_unlink_locked(struct ist_net *net, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		net->live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* Frees a conn that never ran (its aios have no operation in flight). */
static void conn_destroy(struct conn *c)
{
	if (!c)
		return;
	nng_aio_free(c->rx_aio);
	nng_aio_free(c->tx_aio);
	ist_net_framer_fini(&c->framer);
	free(c->rxbuf);
	free(c);
}

static int conn_alloc_locked(struct ist_net *net, struct conn **ret)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -IST_ENOMEM;
	c->net = net;
	c->id = ++net->next_id;
	ist_net_framer_init(&c->framer, IST_NET_HELLO_BYTES);
	c->rxbuf = malloc(RX_CHUNK);
	int r = -IST_ENOMEM;
	if (!c->rxbuf || nng_aio_alloc(&c->rx_aio, conn_rx_cb, c) != 0 ||
	    nng_aio_alloc(&c->tx_aio, conn_tx_cb, c) != 0)
		goto fail;
	/* the challenge: always from the kernel, whatever rng the caller gave */
	r = ist_rng_fill(ist_rng_system(), c->my_nonce, sizeof(c->my_nonce));
	if (r < 0)
		goto fail;
	c->deadline_ms = now_ms(net) + net->lim.handshake_timeout_ms;
	*ret = c;
	return 0;
fail:
	conn_destroy(c);
	return r;
}

static void conn_recv_locked(struct conn *c)
{
	nng_iov iov = { .iov_buf = c->rxbuf, .iov_len = RX_CHUNK };
	nng_aio_set_iov(c->rx_aio, 1, &iov);
	nng_stream_recv(c->stream, c->rx_aio);
}

static void tx_submit_locked(struct conn *c)
{
	nng_iov iov = { .iov_buf = c->tx_msg->data + c->tx_off, .iov_len = c->tx_msg->len - c->tx_off };
	nng_aio_set_iov(c->tx_aio, 1, &iov);
	nng_stream_send(c->stream, c->tx_aio);
}

/* Starts writing the next frame, if any and if idle: handshake frames
 * first; the peer's queue once this is its active connection. */
static void conn_kick_locked(struct conn *c)
{
	if (c->closing || c->tx_busy || c->state == CONN_DIALING)
		return;
	bool from_peer = false;
	struct msg *m = ctl_pop_locked(c);
	if (!m && c->state == CONN_ACTIVE && c->peer && c->peer->active == c) {
		m = peer_pop_locked(c->peer);
		from_peer = true;
	}
	if (!m)
		return;
	c->tx_msg = m;
	c->tx_off = 0;
	c->tx_from_peer = from_peer;
	c->tx_busy = true;
	tx_submit_locked(c);
}

/* Sets up a connected stream: options, our HELLO, the first read. */
static int conn_begin_locked(struct conn *c)
{
	struct ist_net *net = c->net;
	/* best effort: a TLS stream may not pass the TCP options down */
	(void)nng_stream_set_bool(c->stream, NNG_OPT_TCP_NODELAY, true);
	(void)nng_stream_set_bool(c->stream, NNG_OPT_TCP_KEEPALIVE, true);

	struct ist_net_hello h = { .version = IST_NET_VERSION, .network_id = net->network_id };
	memcpy(h.genesis_hash, net->genesis, IST_HASH_BYTES);
	memcpy(h.pubkey, net->pub, IST_ED25519_PUBKEY_BYTES);
	memcpy(h.nonce, c->my_nonce, IST_NET_NONCE_BYTES);
	struct msg *m = msg_new(IST_NET_FRAME_HEADER_BYTES + IST_NET_HELLO_BYTES, NULL);
	if (!m)
		return -IST_ENOMEM;
	ist_put_be32(m->data, IST_NET_HELLO_BYTES);
	ist_net_hello_encode(&h, m->data + IST_NET_FRAME_HEADER_BYTES);
	int r = ctl_push_locked(c, m);
	if (r < 0)
		return r;
	c->state = CONN_HANDSHAKE;
	conn_kick_locked(c);
	conn_recv_locked(c);
	return 0;
}

/* Both pubkeys and nonces in the fixed order: dialer first. */
static void conn_transcript(const struct conn *c, enum ist_net_role signer, uint8_t out[IST_NET_TRANSCRIPT_BYTES])
{
	const struct ist_net *net = c->net;
	if (c->outbound)
		ist_net_transcript(net->network_id, net->genesis, net->pub, c->peer_pub, c->my_nonce,
				   c->peer_nonce, signer, out);
	else
		ist_net_transcript(net->network_id, net->genesis, c->peer_pub, net->pub, c->peer_nonce,
				   c->my_nonce, signer, out);
}

/* Has the connection in use read nothing for long enough that a new one
 * should replace it (net.h "Replacement")? */
static bool conn_stale(const struct conn *e, uint64_t now)
{
	uint64_t quiet = (uint64_t)STALE_PING_INTERVALS * e->net->lim.ping_interval_ms;
	return now >= e->last_rx_ms + quiet;
}

/* Of two authenticated connections to one peer, does `c` (the newer) win
 * over `e`? Both ends must choose the same one without talking: keep the
 * one dialled by the lower node key. Two dialled by the same side can only
 * mean the older one died without us noticing yet: keep the newer. So does
 * an older one that has been silent (conn_stale): the peer moved or the path
 * died, and the other end, which sees the same silence, makes the same
 * choice; should it not (a half-dead path), the GOODBYEs retire both and the
 * next dial settles it. Two fresh connections (a simultaneous dial) are
 * never stale, so they still converge on the tie-break. */
static bool conn_wins(const struct conn *c, const struct conn *e)
{
	if (c->outbound == e->outbound)
		return true;
	if (conn_stale(e, now_ms(c->net)))
		return true;
	bool we_lower = memcmp(c->net->pub, c->peer->pub, IST_ED25519_PUBKEY_BYTES) < 0;
	return c->outbound == we_lower;
}

/* Queues a PING or PONG on an active connection (ahead of the peer's
 * queue: handshake-control frames go first). At most one of each waits at a
 * time, so a peer flooding PINGs without reading costs us one frame.
 * Nothing follows a GOODBYE, so a retiring connection sends neither. */
static void conn_heartbeat_locked(struct conn *c, enum ist_net_frame_type type)
{
	bool *queued = type == IST_NET_FRAME_PING ? &c->ping_queued : &c->pong_queued;
	if (c->closing || c->retiring || c->state != CONN_ACTIVE)
		return;
	if (type == IST_NET_FRAME_PING)
		c->pinged = true; /* also when one still waits: that one will do */
	if (*queued)
		return;
	struct msg *m = msg_new(IST_NET_FRAME_HEADER_BYTES + 1, NULL);
	if (!m || ctl_push_locked(c, m) < 0)
		return; /* out of memory: the next timer tick tries again */
	m->heartbeat = (uint8_t)type;
	ist_net_frame_header(m->data, type, 1);
	*queued = true;
	conn_kick_locked(c);
}

/* A short hex prefix of a key, for logs. */
static void key_tag(const uint8_t pub[IST_ED25519_PUBKEY_BYTES], char out[17])
{
	ist_hex_encode(pub, 8, out);
}

/*
 * Retires an authenticated connection that lost the tie-break (or that the
 * peer retired): nothing new is sent on it, but it is read until the peer's
 * GOODBYE, so that frames the peer wrote to it before it saw the duplicate
 * are not lost. Both ends send GOODBYE as their last frame and close once
 * they have sent theirs and read the other's (or at the deadline).
 */
static void conn_retire_locked(struct conn *c)
{
	struct ist_net *net = c->net;
	if (c->retiring || c->closing)
		return;
	c->retiring = true;
	c->deadline_ms = now_ms(net) + net->lim.handshake_timeout_ms;
	struct peer *p = c->peer;
	if (p && p->active == c) {
		p->active = NULL;
		p->next_dial_ms = now_ms(net) + ist_net_backoff_ms(0, net->lim.backoff_min_ms,
								   net->lim.backoff_max_ms, net->rng);
		peers_changed_locked(net);
	}
	struct msg *m = msg_new(IST_NET_FRAME_HEADER_BYTES + 1, NULL);
	if (!m || ctl_push_locked(c, m) < 0) {
		conn_close_locked(c, NULL);
		return;
	}
	m->goodbye = true;
	ist_net_frame_header(m->data, IST_NET_FRAME_GOODBYE, 1);
	conn_kick_locked(c);
}

static void conn_authenticated_locked(struct conn *c)
{
	struct ist_net *net = c->net;
	struct peer *p = c->peer;

	if (!c->outbound)
		net->n_unauth--;
	c->state = CONN_ACTIVE;
	if (p->out == c)
		p->out = NULL;
	c->framer.max_body = net->max_body;
	uint64_t now = now_ms(net);
	c->last_rx_ms = now;
	struct conn *e = p->active;
	if (e && !conn_wins(c, e)) {
		ist_log_debug(LOG, "conn %llu: duplicate of conn %llu to peer %u, retired",
			      (unsigned long long)c->id, (unsigned long long)e->id, p->index);
		conn_retire_locked(c);
		return;
	}
	if (e && conn_stale(e, now)) {
		/* given up for its silence (when both were dialled by the same
		 * side the newer would have won anyway, but the old one is dead
		 * all the same: counted alike) */
		char tag[17];
		key_tag(p->pub, tag);
		ist_log_warn(LOG, "peer %u (%s...): conn %llu read nothing for %llu ms, replaced by conn %llu",
			     p->index, tag, (unsigned long long)e->id, (unsigned long long)(now - e->last_rx_ms),
			     (unsigned long long)c->id);
		count_drop_locked(net, IST_NET_DROP_SILENT);
	}
	if (e) {
		ist_log_debug(LOG, "conn %llu: replaces conn %llu to peer %u", (unsigned long long)c->id,
			      (unsigned long long)e->id, p->index);
		conn_retire_locked(e);
	}
	p->active = c;
	p->attempts = 0;
	ist_log_debug(LOG, "conn %llu: peer %u authenticated (%s)", (unsigned long long)c->id, p->index,
		      c->outbound ? "dialled" : "accepted");
	peers_changed_locked(net);
	/* at once: the peer's PONG shows that it speaks the heartbeat */
	conn_heartbeat_locked(c, IST_NET_FRAME_PING);
	conn_kick_locked(c);
}

static void conn_hello_locked(struct conn *c, const uint8_t *body, size_t len)
{
	struct ist_net *net = c->net;
	struct ist_net_hello h;
	int r = ist_net_hello_decode(body, len, &h);
	if (r < 0) {
		conn_close_locked(c, r == -IST_EUNSUPPORTED ? IST_NET_DROP_HANDSHAKE_VERSION
							     : IST_NET_DROP_HANDSHAKE_MALFORMED);
		return;
	}
	const char *why = ist_net_hello_check(&h, net->network_id, net->genesis, net->pub);
	if (why) {
		conn_close_locked(c, why);
		return;
	}
	struct peer *p = peer_by_pub(net, h.pubkey);
	if (!p) {
		conn_close_locked(c, IST_NET_DROP_HANDSHAKE_UNKNOWN);
		return;
	}
	if (c->outbound && c->peer != p) {
		conn_close_locked(c, IST_NET_DROP_HANDSHAKE_WRONG_KEY);
		return;
	}
	/* a key's connections are few in any honest state; more is someone
	 * cycling connections faster than duplicates retire */
	unsigned others = 0;
	for (struct conn *o = net->live; o; o = o->next)
		others += o != c && o->peer == p;
	if (others >= IST_NET_MAX_CONNS_PER_PEER) {
		conn_close_locked(c, IST_NET_DROP_PEER_CONNS);
		return;
	}
	c->peer = p;
	c->got_hello = true;
	memcpy(c->peer_pub, h.pubkey, sizeof(c->peer_pub));
	memcpy(c->peer_nonce, h.nonce, sizeof(c->peer_nonce));

	uint8_t t[IST_NET_TRANSCRIPT_BYTES];
	conn_transcript(c, c->outbound ? IST_NET_ROLE_DIALER : IST_NET_ROLE_LISTENER, t);
	struct msg *m = msg_new(IST_NET_FRAME_HEADER_BYTES + IST_NET_AUTH_BYTES, NULL);
	if (!m) {
		conn_close_locked(c, IST_NET_DROP_NOMEM);
		return;
	}
	ist_put_be32(m->data, IST_NET_AUTH_BYTES);
	r = ist_net_auth_sign(net->seed, t, m->data + IST_NET_FRAME_HEADER_BYTES);
	if (r == 0)
		r = ctl_push_locked(c, m);
	else
		msg_release(m);
	if (r < 0) {
		ist_log_error(LOG, "conn %llu: cannot sign the handshake: %s", (unsigned long long)c->id,
			      ist_strerror(r));
		conn_close_locked(c, NULL);
		return;
	}
	conn_kick_locked(c);
}

static void conn_auth_locked(struct conn *c, const uint8_t *body, size_t len)
{
	uint8_t sig[IST_SIG_BYTES];
	if (ist_net_auth_decode(body, len, sig) < 0) {
		conn_close_locked(c, IST_NET_DROP_HANDSHAKE_MALFORMED);
		return;
	}
	uint8_t t[IST_NET_TRANSCRIPT_BYTES];
	conn_transcript(c, c->outbound ? IST_NET_ROLE_LISTENER : IST_NET_ROLE_DIALER, t);
	if (!ist_net_auth_verify(c->peer_pub, t, sig)) {
		conn_close_locked(c, IST_NET_DROP_HANDSHAKE_BAD_SIG);
		return;
	}
	c->got_auth = true;
	conn_authenticated_locked(c);
}

/* An envelope accepted for delivery, with who sent it. */
struct pend {
	uint8_t *body;
	size_t len;
	uint32_t index;
	uint8_t pub[IST_ED25519_PUBKEY_BYTES];
};

/* One whole frame (body owned here). Envelopes that pass the rate limit go
 * to pend[*np] to be decoded and delivered without the lock. */
static void conn_frame_locked(struct conn *c, uint8_t *body, size_t len, struct pend *pend, size_t *np)
{
	struct ist_net *net = c->net;
	uint8_t type = body[0];

	if (c->state != CONN_ACTIVE) {
		if (type == IST_NET_FRAME_HELLO && !c->got_hello)
			conn_hello_locked(c, body, len);
		else if (type == IST_NET_FRAME_AUTH && c->got_hello && !c->got_auth)
			conn_auth_locked(c, body, len);
		else
			conn_close_locked(c, IST_NET_DROP_HANDSHAKE_UNEXPECTED);
		free(body);
		return;
	}
	struct peer *p = c->peer;
	const char *drop = NULL;
	switch (type) {
	case IST_NET_FRAME_ENVELOPE: {
		uint64_t now = now_ms(net), nbytes = IST_NET_FRAME_HEADER_BYTES + len;
		ist_net_bucket_refill(&p->frames, now);
		ist_net_bucket_refill(&p->bytes, now);
		if (!ist_net_bucket_has(&p->frames, 1) || !ist_net_bucket_has(&p->bytes, nbytes)) {
			drop = IST_NET_DROP_RATE_LIMITED;
			break;
		}
		ist_net_bucket_take(&p->frames, 1);
		ist_net_bucket_take(&p->bytes, nbytes);
		pend[*np].body = body;
		pend[*np].len = len;
		pend[*np].index = p->index;
		memcpy(pend[*np].pub, p->pub, IST_ED25519_PUBKEY_BYTES);
		(*np)++;
		return;
	}
	case IST_NET_FRAME_PING:
	case IST_NET_FRAME_PONG: {
		/* liveness is counted for any bytes read (conn_rx_cb); these only
		 * say the peer speaks the heartbeat, and a PING wants an answer.
		 * Not charged to the envelope budget: a flood of PINGs costs what
		 * one of unknown frames does, and at most one PONG waits for it. */
		free(body);
		c->hb_peer = true;
		if (type == IST_NET_FRAME_PING)
			conn_heartbeat_locked(c, IST_NET_FRAME_PONG);
		return;
	}
	case IST_NET_FRAME_GOODBYE:
		free(body);
		c->bye_recv = true;
		conn_retire_locked(c);
		if (c->bye_sent)
			conn_close_locked(c, NULL);
		return;
	case IST_NET_FRAME_HELLO:
	case IST_NET_FRAME_AUTH:
		drop = IST_NET_DROP_UNEXPECTED_FRAME;
		break;
	default:
		drop = IST_NET_DROP_UNKNOWN_FRAME;
		break;
	}
	count_drop_locked(net, drop);
	free(body);
}

/* Decodes and delivers, without the lock. */
static void deliver(struct ist_net *net, struct pend *pend, size_t np)
{
	for (size_t i = 0; i < np; i++) {
		struct ist_envelope *env = NULL;
		const char *reason = NULL;
		int r = ist_wire_envelope_decode(pend[i].body + 1, pend[i].len - 1, &env, &reason);
		free(pend[i].body);
		if (r < 0) {
			const char *drop = r == -IST_EUNSUPPORTED ? IST_NET_DROP_UNSUPPORTED_ENVELOPE
					 : r == -IST_ENOMEM       ? IST_NET_DROP_NOMEM
								  : IST_NET_DROP_MALFORMED_ENVELOPE;
			ist_metric_inc(net->m_decode, reason ? reason : "unknown");
			ist_log_debug(LOG, "peer %u: envelope dropped: %s", pend[i].index, reason ? reason : "?");
			pthread_mutex_lock(&net->mtx);
			count_drop_locked(net, drop);
			pthread_mutex_unlock(&net->mtx);
			continue;
		}
		ist_metric_inc(net->m_in, kind_label(env->kind));
		net->hooks.on_envelope(net->hooks.ctx, pend[i].index, pend[i].pub, env);
	}
}

static const char *framer_reason(int r)
{
	switch (r) {
	case -IST_ETOOBIG:
		return IST_NET_DROP_FRAME_TOO_LARGE;
	case -IST_EPARSE:
		return IST_NET_DROP_FRAME_EMPTY;
	default:
		return IST_NET_DROP_NOMEM;
	}
}

/* What a failed read or write says about the peer: a TLS failure, a frame
 * cut short, or nothing worth counting (the peer went away). */
static const char *io_reason(int rv, const struct ist_net_framer *f)
{
	if (rv == NNG_ECRYPTO || rv == NNG_EPEERAUTH)
		return IST_NET_DROP_TLS;
	if (f && ist_net_framer_partial(f))
		return IST_NET_DROP_TRUNCATED;
	return NULL;
}

static void conn_dial_done_locked(struct conn *c)
{
	int rv = nng_aio_result(c->rx_aio);
	if (rv == 0)
		c->stream = nng_aio_get_output(c->rx_aio, 0); /* freed by the reaper if we close now */
	if (c->closing)
		return;
	if (rv != 0) {
		ist_log_debug(LOG, "conn %llu: dial %s: %s", (unsigned long long)c->id,
			      c->peer ? c->peer->url : "?", nng_strerror(rv));
		conn_close_locked(c, io_reason(rv, NULL));
		return;
	}
	int r = conn_begin_locked(c);
	if (r < 0) {
		ist_log_warn(LOG, "conn %llu: %s", (unsigned long long)c->id, ist_strerror(r));
		conn_close_locked(c, NULL);
	}
}

static void conn_rx_cb(void *arg)
{
	struct conn *c = arg;
	struct ist_net *net = c->net;

	pthread_mutex_lock(&net->mtx);
	if (c->state == CONN_DIALING) {
		conn_dial_done_locked(c);
		pthread_mutex_unlock(&net->mtx);
		return;
	}
	int rv = nng_aio_result(c->rx_aio);
	if (c->closing) {
		pthread_mutex_unlock(&net->mtx);
		return;
	}
	if (rv != 0) {
		ist_log_debug(LOG, "conn %llu: read: %s", (unsigned long long)c->id, nng_strerror(rv));
		conn_close_locked(c, io_reason(rv, &c->framer));
		pthread_mutex_unlock(&net->mtx);
		return;
	}
	size_t n = nng_aio_count(c->rx_aio), off = 0;
	if (n > 0) {
		/* any bytes, even part of a frame: a large frame on a slow link is life */
		c->last_rx_ms = now_ms(net);
		c->pinged = false;
	}
	while (off < n && !c->closing) {
		struct pend pend[PEND_MAX];
		size_t np = 0;
		while (off < n && np < PEND_MAX && !c->closing) {
			size_t used = 0, blen = 0;
			uint8_t *body = NULL;
			int r = ist_net_framer_feed(&c->framer, c->rxbuf + off, n - off, &used, &body, &blen);
			off += used;
			if (r < 0) {
				conn_close_locked(c, framer_reason(r));
				break;
			}
			if (r == 0)
				break;
			conn_frame_locked(c, body, blen, pend, &np);
		}
		if (np > 0) {
			/* in order for this connection: no read is in flight meanwhile */
			pthread_mutex_unlock(&net->mtx);
			deliver(net, pend, np);
			pthread_mutex_lock(&net->mtx);
		}
	}
	if (!c->closing)
		conn_recv_locked(c);
	pthread_mutex_unlock(&net->mtx);
}

static void conn_tx_cb(void *arg)
{
	struct conn *c = arg;
	struct ist_net *net = c->net;

	pthread_mutex_lock(&net->mtx);
	int rv = nng_aio_result(c->tx_aio);
	if (c->closing) {
		pthread_mutex_unlock(&net->mtx);
		return;
	}
	size_t n = nng_aio_count(c->tx_aio);
	if (rv != 0 || n == 0) {
		ist_log_debug(LOG, "conn %llu: write: %s", (unsigned long long)c->id, nng_strerror(rv));
		conn_close_locked(c, io_reason(rv, NULL));
		pthread_mutex_unlock(&net->mtx);
		return;
	}
	c->tx_off += n;
	if (c->tx_off < c->tx_msg->len) {
		tx_submit_locked(c);
		pthread_mutex_unlock(&net->mtx);
		return;
	}
	if (c->tx_msg->type)
		ist_metric_inc(net->m_out, c->tx_msg->type);
	bool bye = c->tx_msg->goodbye;
	if (c->tx_msg->heartbeat == IST_NET_FRAME_PING)
		c->ping_queued = false;
	else if (c->tx_msg->heartbeat == IST_NET_FRAME_PONG)
		c->pong_queued = false;
	msg_release(c->tx_msg);
	c->tx_msg = NULL;
	c->tx_busy = false;
	if (bye) {
		c->bye_sent = true;
		if (c->bye_recv)
			conn_close_locked(c, NULL);
	} else {
		conn_kick_locked(c);
	}
	pthread_mutex_unlock(&net->mtx);
}

/* Marks c closed, detaches it from its peer (scheduling the next dial) and
 * hands it to the reaper. `reason` (may be NULL) is counted as a drop. */
static void conn_close_locked(struct conn *c, const char *reason)
{
	struct ist_net *net = c->net;
	if (c->closing)
		return;
	c->closing = true;
	if (reason)
		count_drop_locked(net, reason);
	if (!c->outbound && c->state == CONN_HANDSHAKE)
		net->n_unauth--;
	struct peer *p = c->peer;
	if (p) {
		uint64_t now = now_ms(net);
		if (p->active == c) {
			p->active = NULL;
			p->next_dial_ms = now + ist_net_backoff_ms(0, net->lim.backoff_min_ms,
								   net->lim.backoff_max_ms, net->rng);
			peers_changed_locked(net);
		}
		if (p->out == c) {
			p->out = NULL;
			p->next_dial_ms = now + ist_net_backoff_ms(p->attempts, net->lim.backoff_min_ms,
								   net->lim.backoff_max_ms, net->rng);
			if (p->attempts < 64)
				p->attempts++;
		}
		/* a frame cut by the close goes out again on the next
		 * connection (whole: the receiver may see it twice, never half) */
		if (c->tx_busy && c->tx_from_peer && !net->stopping)
			(void)peer_enqueue_locked(net, p, c->tx_msg, true);
	}
	q_free(c->ctl_head);
	c->ctl_head = c->ctl_tail = NULL;
	live_unlink_locked(net, c);
	c->next = net->reap;
	net->reap = c;
	ist_log_debug(LOG, "conn %llu: closed%s%s", (unsigned long long)c->id, reason ? ": " : "",
		      reason ? reason : "");
	wake_locked(net);
}

/*
 * Runs on the transport's thread, without the lock.
 *
 * The stream (and a dialer) are closed *before* the aios are stopped: NNG
 * 1.5's TLS stream cancels a queued read only by aborting its own TCP read,
 * which does nothing while that is idle (mid-handshake), so nng_aio_stop
 * alone can wait forever; closing the stream fails every queued operation
 * (TCP and TLS alike). Then stopping waits for our callbacks to return.
 */
static void conn_reap(struct ist_net *net, struct conn *c)
{
	pthread_mutex_lock(&net->mtx);
	nng_stream *closed = c->stream;
	pthread_mutex_unlock(&net->mtx);
	if (c->dialer)
		nng_stream_dialer_close(c->dialer);
	if (closed)
		nng_stream_close(closed);
	nng_aio_stop(c->rx_aio);
	nng_aio_stop(c->tx_aio);
	/* no callback runs now, and none can start */
	pthread_mutex_lock(&net->mtx);
	msg_release(c->tx_msg);
	c->tx_msg = NULL;
	nng_stream *s = c->stream; /* a dial may have completed meanwhile */
	pthread_mutex_unlock(&net->mtx);
	if (s) {
		if (s != closed)
			nng_stream_close(s);
		nng_stream_free(s);
	}
	if (c->dialer)
		nng_stream_dialer_free(c->dialer);
	conn_destroy(c);
}

static int addr_of(nng_stream *s, uint8_t out[17])
{
	nng_sockaddr sa;
	memset(out, 0, 17);
	if (nng_stream_get_addr(s, NNG_OPT_REMADDR, &sa) != 0)
		return -1;
	if (sa.s_family == NNG_AF_INET) {
		out[0] = 4;
		memcpy(out + 1, &sa.s_in.sa_addr, 4);
	} else if (sa.s_family == NNG_AF_INET6) {
		out[0] = 6;
		memcpy(out + 1, sa.s_in6.sa_addr, 16);
	} else {
		return -1;
	}
	return 0;
}

static uint32_t unauth_from_locked(struct ist_net *net, const uint8_t addr[17])
{
	uint32_t n = 0;
	for (struct conn *c = net->live; c; c = c->next)
		if (!c->outbound && c->state == CONN_HANDSHAKE && memcmp(c->addr, addr, 17) == 0)
			n++;
	return n;
}

static void accept_cb(void *arg)
{
	struct ist_net *net = arg;
	nng_stream *drop = NULL;

	pthread_mutex_lock(&net->mtx);
	int rv = nng_aio_result(net->accept_aio);
	if (rv != 0) {
		if (!net->stopping && rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
			ist_log_warn(LOG, "accept: %s", nng_strerror(rv));
			net->accept_retry = true;
			net->accept_retry_ms = now_ms(net) + ACCEPT_RETRY_MS;
			wake_locked(net);
		}
		pthread_mutex_unlock(&net->mtx);
		return;
	}
	nng_stream *s = nng_aio_get_output(net->accept_aio, 0);
	if (net->stopping) {
		drop = s;
	} else {
		uint8_t addr[17];
		(void)addr_of(s, addr);
		struct conn *c = NULL;
		if (net->n_unauth >= net->lim.max_unauth_total ||
		    unauth_from_locked(net, addr) >= net->lim.max_unauth_per_addr) {
			count_drop_locked(net, IST_NET_DROP_TOO_MANY_UNAUTH);
			drop = s;
		} else if (conn_alloc_locked(net, &c) < 0) {
			count_drop_locked(net, IST_NET_DROP_NOMEM);
			drop = s;
		} else {
			c->stream = s;
			memcpy(c->addr, addr, sizeof(c->addr));
			net->n_unauth++;
			c->state = CONN_HANDSHAKE;
			live_link_locked(net, c);
			ist_log_debug(LOG, "conn %llu: accepted", (unsigned long long)c->id);
			if (conn_begin_locked(c) < 0)
				conn_close_locked(c, IST_NET_DROP_NOMEM);
		}
		nng_stream_listener_accept(net->listener, net->accept_aio);
	}
	pthread_mutex_unlock(&net->mtx);
	if (drop) {
		nng_stream_close(drop);
		nng_stream_free(drop);
	}
}

/* A TLS client configuration for one dial: verification against the CA and
 * the URL's host when a CA is configured. */
static int tls_client_config(struct ist_net *net, const char *url, nng_tls_config **ret)
{
	nng_tls_config *cfg = NULL;
	nng_url *u = NULL;
	int rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
	if (rv != 0)
		return err_from_nng(rv);
	if (net->tls_ca_file) {
		rv = nng_tls_config_ca_file(cfg, net->tls_ca_file);
		if (rv == 0)
			rv = nng_url_parse(&u, url);
		if (rv == 0)
			rv = nng_tls_config_server_name(cfg, u->u_hostname);
		if (rv == 0)
			rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_REQUIRED);
	} else {
		rv = nng_tls_config_auth_mode(cfg, NNG_TLS_AUTH_MODE_NONE);
	}
	if (u)
		nng_url_free(u);
	if (rv != 0) {
		nng_tls_config_free(cfg);
		return err_from_nng(rv);
	}
	*ret = cfg;
	return 0;
}

static void dial_start_locked(struct ist_net *net, struct peer *p, uint64_t now)
{
	struct conn *c = NULL;
	nng_tls_config *tls = NULL;
	bool is_tls = false;
	int r = conn_alloc_locked(net, &c);
	if (r < 0)
		goto fail;
	(void)url_scheme_ok(p->url, &is_tls);
	int rv = nng_stream_dialer_alloc(&c->dialer, p->url);
	if (rv == 0 && is_tls) {
		r = tls_client_config(net, p->url, &tls);
		if (r < 0)
			goto fail;
		rv = nng_stream_dialer_set_ptr(c->dialer, NNG_OPT_TLS_CONFIG, tls);
		nng_tls_config_free(tls); /* the dialer holds its own reference */
	}
	if (rv != 0) {
		r = err_from_nng(rv);
		goto fail;
	}
	c->outbound = true;
	c->peer = p;
	c->state = CONN_DIALING;
	p->out = c;
	live_link_locked(net, c);
	ist_log_debug(LOG, "conn %llu: dialling peer %u at %s", (unsigned long long)c->id, p->index, p->url);
	nng_stream_dialer_dial(c->dialer, c->rx_aio);
	return;
fail:
	ist_log_warn(LOG, "peer %u: cannot dial %s: %s", p->index, p->url, ist_strerror(r));
	if (c) {
		if (c->dialer)
			nng_stream_dialer_free(c->dialer); /* never used: nothing in flight */
		conn_destroy(c);
	}
	p->next_dial_ms = now + ist_net_backoff_ms(p->attempts, net->lim.backoff_min_ms, net->lim.backoff_max_ms,
						   net->rng);
	if (p->attempts < 64)
		p->attempts++;
}

/* ---- the transport's thread ---- */

/* The heartbeat of an active connection (net.h "Liveness"): a PING after
 * ping_interval_ms without a byte, the close after silence_timeout_ms (only
 * once the peer has shown it answers). The next deadline goes to *next. */
static void liveness_locked(struct conn *c, uint64_t now, uint64_t *next)
{
	struct ist_net *net = c->net;
	uint64_t silent = now >= c->last_rx_ms ? now - c->last_rx_ms : 0;
	if (c->hb_peer && silent >= net->lim.silence_timeout_ms) {
		struct peer *p = c->peer;
		char tag[17];
		key_tag(p->pub, tag);
		ist_log_warn(LOG, "peer %u (%s...%s%s): conn %llu read nothing for %llu ms, closed; %s",
			     p->index, tag, p->url[0] ? " at " : "", p->url, (unsigned long long)c->id,
			     (unsigned long long)silent, p->url[0] ? "redialling" : "waiting for it to dial");
		conn_close_locked(c, IST_NET_DROP_SILENT);
		return;
	}
	if (!c->pinged && silent >= net->lim.ping_interval_ms)
		conn_heartbeat_locked(c, IST_NET_FRAME_PING);
	/* While a PING is out, a read clears `pinged` without waking us and
	 * moves the next PING earlier: look again every half interval, so that
	 * a live peer is PINGed at most 1.5 intervals after its last byte (and
	 * a PING that could not be queued is tried again). */
	uint64_t at = now + IST_MAX(net->lim.ping_interval_ms / 2, 1u);
	if (!c->pinged && c->last_rx_ms + net->lim.ping_interval_ms > now)
		at = c->last_rx_ms + net->lim.ping_interval_ms;
	if (c->hb_peer)
		at = IST_MIN(at, c->last_rx_ms + net->lim.silence_timeout_ms); /* > now, or closed above */
	if (at < *next)
		*next = at;
}

/* Deadlines and dials; the earliest next deadline goes to *next. */
static void timers_locked(struct ist_net *net, uint64_t now, uint64_t *next)
{
	/* Were we ourselves stalled (process stopped, VM paused, clock jump)?
	 * This thread wakes at least every WORKER_MAX_WAIT_MS and at every
	 * heartbeat deadline, so a gap well over both is ours, not the peers':
	 * their silence starts anew. */
	uint64_t gap = now - IST_MIN(now, net->last_tick_ms);
	bool stalled = net->last_tick_ms &&
		       gap > IST_MAX((uint64_t)net->lim.ping_interval_ms, (uint64_t)WORKER_MAX_WAIT_MS) +
				     WORKER_MAX_WAIT_MS;
	net->last_tick_ms = now;
	struct conn *c = net->live;
	while (c) {
		struct conn *following = c->next;
		if (c->state == CONN_ACTIVE && !c->retiring) {
			if (stalled) {
				c->last_rx_ms = now;
				c->pinged = false;
			}
			liveness_locked(c, now, next);
		} else {
			if (now >= c->deadline_ms)
				/* a dial that never connected is not the peer's
				 * doing; a retiring duplicate just ends */
				conn_close_locked(c, c->state == CONN_HANDSHAKE ? IST_NET_DROP_HANDSHAKE_TIMEOUT : NULL);
			else if (c->deadline_ms < *next)
				*next = c->deadline_ms;
		}
		c = following;
	}
	for (size_t i = 0; i < net->n_peers; i++) {
		struct peer *p = net->peers[i];
		if (p->self || p->active || p->out || !p->url[0])
			continue;
		if (now >= p->next_dial_ms)
			dial_start_locked(net, p, now);
		else if (p->next_dial_ms < *next)
			*next = p->next_dial_ms;
	}
	if (net->accept_retry) {
		if (now >= net->accept_retry_ms) {
			net->accept_retry = false;
			nng_stream_listener_accept(net->listener, net->accept_aio);
		} else if (net->accept_retry_ms < *next) {
			*next = net->accept_retry_ms;
		}
	}
}

struct report {
	uint32_t index;
	uint8_t pub[IST_ED25519_PUBKEY_BYTES];
	bool up;
};

static void *worker_main(void *arg)
{
	struct ist_net *net = arg;
	/* static: one thread per transport, and only this thread uses it */
	struct report *reports = malloc(IST_WIRE_MAX_VALIDATORS * sizeof(*reports));

	pthread_mutex_lock(&net->mtx);
	for (;;) {
		if (net->reap) {
			struct conn *list = net->reap;
			net->reap = NULL;
			pthread_mutex_unlock(&net->mtx);
			while (list) {
				struct conn *c = list;
				list = c->next;
				conn_reap(net, c);
			}
			pthread_mutex_lock(&net->mtx);
			continue;
		}
		if (net->stopping) {
			if (!net->live)
				break;
			pthread_cond_wait(&net->cond, &net->mtx);
			continue;
		}
		uint64_t now = now_ms(net), next = now + WORKER_MAX_WAIT_MS;
		timers_locked(net, now, &next);
		if (net->reap)
			continue;
		if (net->peers_dirty) {
			size_t n = 0;
			net->peers_dirty = false;
			for (size_t i = 0; i < net->n_peers && reports; i++) {
				struct peer *p = net->peers[i];
				bool up = p->active != NULL;
				if (up == p->reported_up)
					continue;
				p->reported_up = up;
				reports[n].index = p->index;
				memcpy(reports[n].pub, p->pub, IST_ED25519_PUBKEY_BYTES);
				reports[n].up = up;
				n++;
			}
			if (n && net->hooks.on_peer) {
				pthread_mutex_unlock(&net->mtx);
				for (size_t i = 0; i < n; i++)
					net->hooks.on_peer(net->hooks.ctx, reports[i].index, reports[i].pub,
							   reports[i].up);
				pthread_mutex_lock(&net->mtx);
			}
			continue;
		}
		uint64_t wait = next > now ? next - now : 0;
		if (wait == 0)
			continue;
		if (wait > WORKER_MAX_WAIT_MS)
			wait = WORKER_MAX_WAIT_MS;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(wait / 1000);
		ts.tv_nsec += (long)(wait % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&net->cond, &net->mtx, &ts);
	}
	pthread_mutex_unlock(&net->mtx);
	free(reports);
	return NULL;
}

/* ---- configuration ---- */

static int resolve_limits(const struct ist_net_limits *in, struct ist_net_limits *out, char *errbuf, size_t errlen)
{
	*out = *in;
	if (!out->max_message_bytes)
		out->max_message_bytes = IST_WIRE_MAX_ENVELOPE_BYTES;
	if (out->max_message_bytes > IST_WIRE_MAX_ENVELOPE_BYTES)
		return fail(errbuf, errlen, -IST_EINVAL, "limits.max_message_bytes: over %u (the envelope limit)",
			    (unsigned)IST_WIRE_MAX_ENVELOPE_BYTES);
	size_t frame = IST_NET_FRAME_HEADER_BYTES + 1 + out->max_message_bytes;
	if (!out->rate_frames_per_sec)
		out->rate_frames_per_sec = 500;
	if (!out->burst_frames)
		out->burst_frames = 1000;
	if (!out->rate_bytes_per_sec)
		out->rate_bytes_per_sec = 8u << 20;
	if (!out->burst_bytes)
		out->burst_bytes = 4 * (uint64_t)frame;
	if (out->burst_bytes < frame)
		return fail(errbuf, errlen, -IST_EINVAL, "limits.burst_bytes: below one largest frame (%zu bytes)",
			    frame);
	if (!out->max_queue_bytes)
		out->max_queue_bytes = 2 * frame;
	if (out->max_queue_bytes < frame)
		return fail(errbuf, errlen, -IST_EINVAL,
			    "limits.max_queue_bytes: below one largest frame (%zu bytes)", frame);
	if (!out->max_unauth_total)
		out->max_unauth_total = 64;
	if (!out->max_unauth_per_addr)
		out->max_unauth_per_addr = 4;
	if (!out->handshake_timeout_ms)
		out->handshake_timeout_ms = 5000;
	if (!out->backoff_min_ms)
		out->backoff_min_ms = 100;
	if (!out->backoff_max_ms)
		out->backoff_max_ms = IST_MAX(10000u, out->backoff_min_ms);
	if (out->backoff_max_ms < out->backoff_min_ms)
		return fail(errbuf, errlen, -IST_EINVAL, "limits.backoff_max_ms: below backoff_min_ms");
	if (!out->ping_interval_ms)
		out->ping_interval_ms = IST_NET_PING_INTERVAL_MS;
	if (out->ping_interval_ms > PING_INTERVAL_MAX_MS)
		return fail(errbuf, errlen, -IST_EINVAL, "limits.ping_interval_ms: over %u", PING_INTERVAL_MAX_MS);
	if (!out->silence_timeout_ms)
		out->silence_timeout_ms = 3 * out->ping_interval_ms;
	if (out->silence_timeout_ms <= out->ping_interval_ms)
		return fail(errbuf, errlen, -IST_EINVAL, "limits.silence_timeout_ms: not above ping_interval_ms");
	return 0;
}

static int peers_validate(const struct ist_net_peer *peers, size_t n, char *errbuf, size_t errlen)
{
	if (n > IST_WIRE_MAX_VALIDATORS)
		return fail(errbuf, errlen, -IST_EINVAL, "peers: %zu, more than %d", n, IST_WIRE_MAX_VALIDATORS);
	if (n && !peers)
		return fail(errbuf, errlen, -IST_EINVAL, "peers: NULL");
	for (size_t i = 0; i < n; i++) {
		const struct ist_net_peer *p = &peers[i];
		bool tls;
		if (p->index >= IST_WIRE_MAX_VALIDATORS)
			return fail(errbuf, errlen, -IST_EINVAL, "peers[%zu].index: %u, not below %d", i, p->index,
				    IST_WIRE_MAX_VALIDATORS);
		if (!memchr(p->url, '\0', sizeof(p->url)))
			return fail(errbuf, errlen, -IST_EINVAL, "peers[%zu].url: not NUL-terminated", i);
		if (p->url[0] && !url_scheme_ok(p->url, &tls))
			return fail(errbuf, errlen, -IST_EINVAL,
				    "peers[%zu].url: \"%s\": scheme not tcp:// or tls+tcp://", i, p->url);
		for (size_t j = 0; j < i; j++) {
			if (peers[j].index == p->index)
				return fail(errbuf, errlen, -IST_EINVAL, "peers[%zu].index: %u also at peers[%zu]", i,
					    p->index, j);
			if (memcmp(peers[j].pubkey, p->pubkey, IST_ED25519_PUBKEY_BYTES) == 0)
				return fail(errbuf, errlen, -IST_EINVAL, "peers[%zu].pubkey: also at peers[%zu]", i, j);
		}
	}
	return 0;
}

static char *read_text_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct ist_buf b;
	ist_buf_init(&b, 1u << 20);
	uint8_t chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ist_buf_put(&b, chunk, n);
	bool bad = ferror(f) != 0;
	fclose(f);
	ist_buf_put_u8(&b, 0);
	uint8_t *data;
	size_t len;
	if (bad || ist_buf_take(&b, &data, &len) != 0) {
		ist_buf_fini(&b);
		return NULL;
	}
	return (char *)data;
}

static int tls_setup(struct ist_net *net, const struct ist_net_config *cfg, bool need_server, char *errbuf,
		     size_t errlen)
{
	if (cfg->tls_ca_file) {
		/* load it once now, so that a bad file is a start-up error */
		nng_tls_config *probe;
		int rv = nng_tls_config_alloc(&probe, NNG_TLS_MODE_CLIENT);
		if (rv == 0) {
			rv = nng_tls_config_ca_file(probe, cfg->tls_ca_file);
			nng_tls_config_free(probe);
		}
		if (rv != 0)
			return fail(errbuf, errlen, -IST_ECONFIG, "tls_ca_file: %s: %s", cfg->tls_ca_file,
				    nng_strerror(rv));
		net->tls_ca_file = strdup(cfg->tls_ca_file);
		if (!net->tls_ca_file)
			return fail(errbuf, errlen, -IST_ENOMEM, "out of memory");
	}
	if (!need_server)
		return 0;
	if (!cfg->tls_cert_file || !cfg->tls_key_file)
		return fail(errbuf, errlen, -IST_ECONFIG,
			    "listen_url: tls+tcp:// needs tls_cert_file and tls_key_file");
	char *cert = read_text_file(cfg->tls_cert_file);
	if (!cert)
		return fail(errbuf, errlen, -IST_ECONFIG, "tls_cert_file: %s: cannot read", cfg->tls_cert_file);
	char *key = read_text_file(cfg->tls_key_file);
	if (!key) {
		free(cert);
		return fail(errbuf, errlen, -IST_ECONFIG, "tls_key_file: %s: cannot read", cfg->tls_key_file);
	}
	int rv = nng_tls_config_alloc(&net->tls_server, NNG_TLS_MODE_SERVER);
	if (rv == 0)
		rv = nng_tls_config_own_cert(net->tls_server, cert, key, NULL);
	if (rv == 0)
		rv = nng_tls_config_auth_mode(net->tls_server, NNG_TLS_AUTH_MODE_NONE);
	free(cert);
	sodium_memzero(key, strlen(key));
	free(key);
	if (rv != 0)
		return fail(errbuf, errlen, -IST_ECONFIG, "tls_cert_file/tls_key_file: %s", nng_strerror(rv));
	return 0;
}

static void register_metrics(struct ist_net *net, struct ist_metrics *r)
{
	if (!r)
		return;
	net->m_in = ist_metrics_counter(r, "isthmus_net_messages_in_total",
					"Envelopes received from authenticated validators, by type.", "type");
	net->m_out = ist_metrics_counter(r, "isthmus_net_messages_out_total",
					 "Envelopes written to a peer connection, by type.", "type");
	net->m_drop = ist_metrics_counter(r, "isthmus_net_dropped_total",
					  "Frames dropped and connections refused by the transport, by reason.",
					  "reason");
	net->m_decode = ist_metrics_counter(r, "isthmus_net_decode_errors_total",
					    "Envelopes from peers that failed to decode, by decoder reason.",
					    "reason");
	net->m_peers = ist_metrics_gauge(r, "isthmus_net_peers_connected",
					 "Validators with an authenticated connection.", NULL);
	/* our own labels first, so that decoder reasons can never push them
	 * into "other" */
	for (size_t i = 0; i < IST_ARRAY_SIZE(drop_reasons); i++)
		ist_metric_add(net->m_drop, drop_reasons[i], 0);
	for (int k = IST_ENVELOPE_PROPOSAL; k <= IST_ENVELOPE_ATTEST_SHARE; k++) {
		ist_metric_add(net->m_in, kind_label((enum ist_envelope_kind)k), 0);
		ist_metric_add(net->m_out, kind_label((enum ist_envelope_kind)k), 0);
	}
	ist_metric_set(net->m_peers, NULL, 0);
}

static struct peer *peer_new(struct ist_net *net, const struct ist_net_peer *in, uint64_t now)
{
	struct peer *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->index = in->index;
	memcpy(p->pub, in->pubkey, IST_ED25519_PUBKEY_BYTES);
	snprintf(p->url, sizeof(p->url), "%s", in->url);
	p->self = memcmp(p->pub, net->pub, IST_ED25519_PUBKEY_BYTES) == 0;
	ist_net_bucket_init(&p->frames, net->lim.rate_frames_per_sec, net->lim.burst_frames, now);
	ist_net_bucket_init(&p->bytes, net->lim.rate_bytes_per_sec, net->lim.burst_bytes, now);
	return p;
}

/* Installs a validated set. Called with the lock held (or before anyone
 * else can see net). */
static int peers_install_locked(struct ist_net *net, const struct ist_net_peer *in, size_t n)
{
	uint64_t now = now_ms(net);
	struct peer **nv = calloc(n ? n : 1, sizeof(*nv));
	if (!nv)
		return -IST_ENOMEM;
	/* first everything that can fail: the new peers */
	for (size_t i = 0; i < n; i++) {
		if (peer_by_pub(net, in[i].pubkey))
			continue;
		nv[i] = peer_new(net, &in[i], now);
		if (!nv[i]) {
			for (size_t j = 0; j < i; j++)
				if (nv[j])
					peer_free(nv[j]);
			free(nv);
			return -IST_ENOMEM;
		}
	}
	/* then the peers that stay */
	bool *kept = calloc(net->n_peers ? net->n_peers : 1, sizeof(*kept));
	if (!kept) {
		for (size_t i = 0; i < n; i++)
			peer_free(nv[i]);
		free(nv);
		return -IST_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (nv[i])
			continue;
		for (size_t j = 0; j < net->n_peers; j++) {
			struct peer *p = net->peers[j];
			if (memcmp(p->pub, in[i].pubkey, IST_ED25519_PUBKEY_BYTES) != 0)
				continue;
			p->index = in[i].index;
			snprintf(p->url, sizeof(p->url), "%s", in[i].url);
			nv[i] = p;
			kept[j] = true;
			break;
		}
	}
	/* and the peers that leave */
	for (size_t j = 0; j < net->n_peers; j++) {
		if (kept[j])
			continue;
		struct peer *p = net->peers[j];
		struct conn *c = net->live;
		while (c) {
			struct conn *following = c->next;
			if (c->peer == p)
				conn_close_locked(c, NULL);
			c = following;
		}
		for (c = net->reap; c; c = c->next)
			if (c->peer == p)
				c->peer = NULL;
		peer_free(p);
	}
	free(kept);
	free(net->peers);
	net->peers = nv;
	net->n_peers = n;
	peers_changed_locked(net);
	return 0;
}

/* ---- public API ---- */

int ist_net_new(const struct ist_net_config *cfg, const struct ist_clock *clock, const struct ist_rng *rng,
		struct ist_metrics *metrics, const struct ist_net_hooks *hooks, struct ist_net **ret_net,
		char *errbuf, size_t errlen)
{
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!cfg || !ret_net)
		return fail(errbuf, errlen, -IST_EINVAL, "no configuration");
	if (!cfg->node_seed)
		return fail(errbuf, errlen, -IST_EINVAL, "node_seed: missing");
	if (!hooks || !hooks->on_envelope)
		return fail(errbuf, errlen, -IST_EINVAL, "hooks.on_envelope: missing");
	bool listen_tls = false;
	if (cfg->listen_url) {
		if (strlen(cfg->listen_url) >= IST_NET_URL_MAX || !url_scheme_ok(cfg->listen_url, &listen_tls))
			return fail(errbuf, errlen, -IST_EINVAL,
				    "listen_url: \"%s\": not a tcp:// or tls+tcp:// URL of at most %d bytes",
				    cfg->listen_url, IST_NET_URL_MAX - 1);
	}
	int r = peers_validate(cfg->peers, cfg->n_peers, errbuf, errlen);
	if (r < 0)
		return r;
	r = ist_crypto_init();
	if (r < 0)
		return fail(errbuf, errlen, r, "crypto initialisation failed");

	struct ist_net *net = calloc(1, sizeof(*net));
	if (!net)
		return fail(errbuf, errlen, -IST_ENOMEM, "out of memory");
	pthread_mutex_init(&net->mtx, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&net->cond, &ca);
	pthread_condattr_destroy(&ca);

	net->clock = clock ? clock : ist_clock_system();
	net->rng = rng ? rng : ist_rng_system();
	net->hooks = *hooks;
	net->network_id = cfg->network_id;
	memcpy(net->genesis, cfg->genesis_hash, IST_HASH_BYTES);
	net->listen_tls = listen_tls;
	r = resolve_limits(&cfg->limits, &net->lim, errbuf, errlen);
	if (r < 0)
		goto fail;
	net->max_body = 1 + net->lim.max_message_bytes;

	net->seed = sodium_malloc(IST_ED25519_SEED_BYTES);
	if (!net->seed) {
		r = fail(errbuf, errlen, -IST_ENOMEM, "out of memory (guarded memory for the node seed)");
		goto fail;
	}
	memcpy(net->seed, cfg->node_seed, IST_ED25519_SEED_BYTES);
	r = ist_ed25519_pubkey(net->seed, net->pub);
	if (r < 0) {
		fail(errbuf, errlen, r, "node_seed: cannot derive the public key");
		goto fail;
	}
	if (cfg->listen_url) {
		net->listen_url = strdup(cfg->listen_url);
		if (!net->listen_url) {
			r = fail(errbuf, errlen, -IST_ENOMEM, "out of memory");
			goto fail;
		}
	}
	r = tls_setup(net, cfg, listen_tls, errbuf, errlen);
	if (r < 0)
		goto fail;
	register_metrics(net, metrics);
	r = peers_install_locked(net, cfg->peers, cfg->n_peers);
	if (r < 0) {
		fail(errbuf, errlen, r, "out of memory");
		goto fail;
	}
	*ret_net = net;
	return 0;
fail:
	ist_net_free(net);
	return r;
}

int ist_net_start(struct ist_net *net, char *errbuf, size_t errlen)
{
	if (errbuf && errlen)
		errbuf[0] = '\0';
	if (!net)
		return fail(errbuf, errlen, -IST_EINVAL, "no transport");
	pthread_mutex_lock(&net->mtx);
	bool busy = net->started || net->stopping;
	net->started = true;
	pthread_mutex_unlock(&net->mtx);
	if (busy)
		return fail(errbuf, errlen, -IST_ESTATE, "already started");

	int r = 0, rv;
	nng_stream_listener *l = NULL;
	if (net->listen_url) {
		rv = nng_aio_alloc(&net->accept_aio, accept_cb, net);
		if (rv == 0)
			rv = nng_stream_listener_alloc(&l, net->listen_url);
		if (rv == 0 && net->listen_tls)
			rv = nng_stream_listener_set_ptr(l, NNG_OPT_TLS_CONFIG, net->tls_server);
		if (rv == 0)
			rv = nng_stream_listener_listen(l);
		if (rv != 0) {
			r = err_from_nng(rv);
			if (r != -IST_ENOMEM)
				r = -IST_ENET;
			fail(errbuf, errlen, r, "listen %s: %s", net->listen_url, nng_strerror(rv));
			goto fail;
		}
	}
	pthread_mutex_lock(&net->mtx);
	net->listener = l;
	rv = pthread_create(&net->thread, NULL, worker_main, net);
	if (rv != 0) {
		pthread_mutex_unlock(&net->mtx);
		r = fail(errbuf, errlen, ist_err_from_errno(rv), "cannot start the transport thread: %s",
			 strerror(rv));
		net->listener = NULL;
		goto fail;
	}
	net->thread_started = true;
	if (l)
		nng_stream_listener_accept(l, net->accept_aio);
	pthread_mutex_unlock(&net->mtx);
	ist_log_info(LOG, "transport started%s%s", net->listen_url ? ", listening on " : "",
		     net->listen_url ? net->listen_url : "");
	return 0;
fail:
	if (l)
		nng_stream_listener_free(l);
	nng_aio_free(net->accept_aio);
	net->accept_aio = NULL;
	pthread_mutex_lock(&net->mtx);
	net->started = false;
	pthread_mutex_unlock(&net->mtx);
	return r;
}

void ist_net_free(struct ist_net *net)
{
	if (!net)
		return;
	pthread_mutex_lock(&net->mtx);
	net->stopping = true;
	pthread_mutex_unlock(&net->mtx);

	/* no accept callback after this, so no new connection (closing
	 * first fails a pending accept, whatever the cancel path does) */
	if (net->listener)
		nng_stream_listener_close(net->listener);
	if (net->accept_aio)
		nng_aio_stop(net->accept_aio);

	pthread_mutex_lock(&net->mtx);
	while (net->live)
		conn_close_locked(net->live, NULL);
	wake_locked(net);
	pthread_mutex_unlock(&net->mtx);

	if (net->thread_started) {
		pthread_join(net->thread, NULL);
	} else {
		/* never started: no conn ever ran, but be thorough */
		while (net->reap) {
			struct conn *c = net->reap;
			net->reap = c->next;
			conn_reap(net, c);
		}
	}
	if (net->listener)
		nng_stream_listener_free(net->listener);
	nng_aio_free(net->accept_aio);
	for (size_t i = 0; i < net->n_peers; i++)
		peer_free(net->peers[i]);
	free(net->peers);
	if (net->tls_server)
		nng_tls_config_free(net->tls_server);
	free(net->tls_ca_file);
	if (net->seed)
		sodium_free(net->seed); /* wipes */
	free(net->listen_url);
	pthread_cond_destroy(&net->cond);
	pthread_mutex_destroy(&net->mtx);
	free(net);
}

int ist_net_bound_port(struct ist_net *net, uint16_t *ret_port)
{
	int port = 0;
	if (!net || !net->listener)
		return -IST_ESTATE;
	int rv = nng_stream_listener_get_int(net->listener, NNG_OPT_TCP_BOUND_PORT, &port);
	if (rv != 0)
		return err_from_nng(rv);
	if (port <= 0 || port > 65535)
		return -IST_ESTATE;
	*ret_port = (uint16_t)port;
	return 0;
}

int ist_net_set_peers(struct ist_net *net, const struct ist_net_peer *peers, size_t n_peers)
{
	if (!net)
		return -IST_EINVAL;
	char err[160];
	int r = peers_validate(peers, n_peers, err, sizeof(err));
	if (r < 0) {
		ist_log_warn(LOG, "set_peers: %s", err);
		return r;
	}
	pthread_mutex_lock(&net->mtx);
	r = net->stopping ? -IST_ESTATE : peers_install_locked(net, peers, n_peers);
	pthread_mutex_unlock(&net->mtx);
	return r;
}

size_t ist_net_peer_count(struct ist_net *net)
{
	pthread_mutex_lock(&net->mtx);
	size_t n = peer_count_locked(net);
	pthread_mutex_unlock(&net->mtx);
	return n;
}

bool ist_net_peer_connected(struct ist_net *net, uint32_t peer_index)
{
	pthread_mutex_lock(&net->mtx);
	struct peer *p = peer_by_index(net, peer_index);
	bool up = p && p->active;
	pthread_mutex_unlock(&net->mtx);
	return up;
}

static int envelope_msg(struct ist_net *net, const struct ist_envelope *env, struct msg **ret)
{
	uint8_t *buf;
	size_t len;
	if (!env)
		return -IST_EINVAL;
	int r = ist_wire_envelope_encode(env, &buf, &len);
	if (r < 0)
		return r;
	if (len > net->lim.max_message_bytes) {
		free(buf);
		return -IST_ETOOBIG;
	}
	struct msg *m = msg_new(IST_NET_FRAME_HEADER_BYTES + 1 + len, kind_label(env->kind));
	if (!m) {
		free(buf);
		return -IST_ENOMEM;
	}
	ist_net_frame_header(m->data, IST_NET_FRAME_ENVELOPE, 1 + len);
	memcpy(m->data + IST_NET_FRAME_HEADER_BYTES + 1, buf, len);
	free(buf);
	*ret = m;
	return 0;
}

int ist_net_send(struct ist_net *net, uint32_t peer_index, const struct ist_envelope *env)
{
	struct msg *m;
	if (!net)
		return -IST_EINVAL;
	int r = envelope_msg(net, env, &m);
	if (r < 0)
		return r;
	pthread_mutex_lock(&net->mtx);
	struct peer *p = peer_by_index(net, peer_index);
	if (net->stopping)
		r = -IST_ESTATE;
	else if (!p)
		r = -IST_ENOTFOUND;
	else if (p->self)
		r = -IST_EINVAL;
	else
		r = peer_enqueue_locked(net, p, m, false);
	msg_release(m);
	pthread_mutex_unlock(&net->mtx);
	return r;
}

int ist_net_broadcast(struct ist_net *net, const struct ist_envelope *env)
{
	struct msg *m;
	if (!net)
		return -IST_EINVAL;
	int r = envelope_msg(net, env, &m);
	if (r < 0)
		return r;
	pthread_mutex_lock(&net->mtx);
	if (net->stopping) {
		r = -IST_ESTATE;
	} else {
		for (size_t i = 0; i < net->n_peers; i++) {
			if (net->peers[i]->self)
				continue;
			int e = peer_enqueue_locked(net, net->peers[i], m, false);
			if (e < 0)
				r = e;
		}
	}
	msg_release(m);
	pthread_mutex_unlock(&net->mtx);
	return r;
}
