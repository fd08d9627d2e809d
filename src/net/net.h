/*
 * The validator transport: authenticated, rate-limited peer connections that
 * carry consensus envelopes (DESIGN "Node architecture"; the protocol is
 * specified in docs/protocol/transport.md).
 *
 * Every validator listens on one address and dials every other validator of
 * the current set. A connection is a TCP (or, optionally, TLS over TCP)
 * byte stream of NNG (nng_stream), framed by us (net/frame.h); before
 * anything else both ends run the signed handshake of net/handshake.h, which
 * proves the node key, the network id and the genesis hash. Only keys of the
 * current validator set (ist_net_set_peers) pass it, so only validators of
 * the current set can send consensus messages. One connection is kept per
 * pair of validators; when both dialled at once, both ends keep the one
 * dialled by the lower node key (memcmp order) and retire the other: it is
 * read until the peer's GOODBYE frame, so nothing written to it is lost.
 * Delivery is in order per connection and at most once across a crash.
 *
 * Everything a peer sends is untrusted. A frame that is malformed, oversized,
 * unauthenticated, over the peer's rate, or an envelope that fails to decode
 * is dropped, counted in isthmus_net_dropped_total{reason} (the reasons are
 * the IST_NET_DROP_* strings below) and, when it breaks the framing or the
 * handshake, the connection is closed. It never crashes the node, and every
 * allocation a peer can cause has a limit (struct ist_net_limits).
 *
 * Liveness. A connection that goes dead without a FIN or RST (the peer's
 * address changed, a NAT or firewall forgot the flow, a cable) is noticed
 * by an application heartbeat, not by TCP keepalive (hours). When nothing
 * at all has been read on an authenticated connection for ping_interval_ms,
 * a PING frame is sent, which the peer answers with a PONG (any bytes count
 * as life, so a busy connection sends no PING). After silence_timeout_ms
 * without a byte the connection is closed, counted as
 * isthmus_net_dropped_total{reason="peer_silent"}, logged at warn level
 * naming the peer, and redialled by the normal back-off. A connection is
 * closed for silence only once its peer has sent a PING or PONG on it (each
 * side PINGs as soon as it authenticates), so a peer of an older build that
 * drops these frames as unknown is never cut. A transport whose own thread
 * was stalled (process stopped, VM paused) restarts the count rather than
 * blaming its peers.
 *
 * Replacement. When a new connection authenticates while the one in use
 * has read nothing for 2 * ping_interval_ms (a live connection never stays
 * that quiet: both ends PING), the new one wins whatever the tie-break says,
 * and the old one is retired (counted as peer_silent). Two fresh
 * connections, as in a simultaneous dial, still meet the tie-break.
 *
 * Threading model.
 *  - NNG completes I/O on its own task threads. on_envelope runs there,
 *    concurrently for different peers, in arrival order for one connection.
 *  - One thread of ours (started by ist_net_start) runs timers (reconnect
 *    back-off, handshake deadlines), frees closed connections and calls
 *    on_peer. It also sends heartbeats and closes silent connections.
 *  - All state is behind one mutex. No hook is called with it held except
 *    on_drop, which therefore must not call any ist_net_* function.
 *  - ist_net_send, ist_net_broadcast, ist_net_set_peers, ist_net_peer_count
 *    and ist_net_peer_connected may be called from any thread, hooks
 *    included (except on_drop). ist_net_free must not be called from a hook.
 *
 * Metrics (when a registry is given; families are registered by
 * ist_net_new, shared when several transports use one registry):
 *   isthmus_net_messages_in_total{type}    envelopes delivered (proposal, vote, timeout)
 *   isthmus_net_messages_out_total{type}   envelopes written to a peer's socket
 *   isthmus_net_dropped_total{reason}      frames dropped, connections refused or closed for silence
 *   isthmus_net_decode_errors_total{reason} envelope decode failures by wire reason
 *   isthmus_net_peers_connected             peers with an authenticated connection
 */
#ifndef IST_NET_NET_H
#define IST_NET_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "common/rng.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "wire/types.h"

/* ---- Drop reasons (label values of isthmus_net_dropped_total) ---- */

/* framing (connection closed) */
#define IST_NET_DROP_FRAME_TOO_LARGE     "frame_too_large"     /* length prefix over the limit */
#define IST_NET_DROP_FRAME_EMPTY         "frame_empty"         /* length prefix of 0 */
#define IST_NET_DROP_TRUNCATED           "truncated_frame"     /* closed in the middle of a frame */
/* handshake (connection closed) */
#define IST_NET_DROP_HANDSHAKE_MALFORMED "handshake_malformed" /* HELLO/AUTH of a wrong length */
#define IST_NET_DROP_HANDSHAKE_UNEXPECTED "handshake_unexpected" /* a frame out of the handshake's order */
#define IST_NET_DROP_HANDSHAKE_VERSION   "handshake_version"   /* another protocol version */
#define IST_NET_DROP_HANDSHAKE_NETWORK   "handshake_network_id" /* another network id */
#define IST_NET_DROP_HANDSHAKE_GENESIS   "handshake_genesis"   /* another genesis hash */
#define IST_NET_DROP_HANDSHAKE_SELF      "handshake_self"      /* our own node key */
#define IST_NET_DROP_HANDSHAKE_UNKNOWN   "handshake_unknown_key" /* a key not in the validator set */
#define IST_NET_DROP_HANDSHAKE_WRONG_KEY "handshake_wrong_key" /* dialled peer answered with another key */
#define IST_NET_DROP_HANDSHAKE_BAD_SIG   "handshake_bad_signature" /* AUTH does not verify (forged, replayed) */
#define IST_NET_DROP_HANDSHAKE_TIMEOUT   "handshake_timeout"   /* not authenticated in time */
#define IST_NET_DROP_PEER_CONNS          "too_many_peer_connections" /* a key with IST_NET_MAX_CONNS_PER_PEER already */
#define IST_NET_DROP_TOO_MANY_UNAUTH     "too_many_unauthenticated" /* refused at accept */
#define IST_NET_DROP_TLS                 "tls_error"           /* TLS failed (handshake, certificate, record) */
/* after the handshake (frame dropped, connection kept) */
#define IST_NET_DROP_RATE_LIMITED        "rate_limited"        /* over the peer's frame or byte budget */
#define IST_NET_DROP_MALFORMED_ENVELOPE  "malformed_envelope"  /* decode failed (detail in decode_errors) */
#define IST_NET_DROP_UNSUPPORTED_ENVELOPE "unsupported_envelope" /* a kind this version does not know */
#define IST_NET_DROP_UNEXPECTED_FRAME    "unexpected_frame"    /* HELLO or AUTH after the handshake */
#define IST_NET_DROP_UNKNOWN_FRAME       "unknown_frame_type"  /* a frame type this version does not know */
/* liveness (connection closed) */
#define IST_NET_DROP_SILENT              "peer_silent"         /* nothing read for silence_timeout_ms, or replaced while silent */
#define IST_NET_DROP_NOMEM               "out_of_memory"       /* a frame could not be held */
/* outbound */
#define IST_NET_DROP_SEND_QUEUE_FULL     "send_queue_full"     /* oldest queued frame dropped for a newer one */

/* ---- Configuration ---- */

#define IST_NET_URL_MAX 256   /* bytes of a URL, NUL included */
/* Connections one validator key may hold at once, in any state: the one in
 * use, one being retired, one dial of ours and one of theirs. */
#define IST_NET_MAX_CONNS_PER_PEER 4

/* Default heartbeat interval; the silence timeout defaults to 3 times it. */
#define IST_NET_PING_INTERVAL_MS 2000

/* One validator of the current set. */
struct ist_net_peer {
	uint32_t index;                              /* its index in the epoch's set */
	uint8_t pubkey[IST_ED25519_PUBKEY_BYTES];    /* its node key */
	/* where to dial it: "tcp://host:port" or "tls+tcp://host:port"; "" = do
	 * not dial (wait for it to dial us). Our own entry may be in the list:
	 * it is recognised by its key and ignored. */
	char url[IST_NET_URL_MAX];
};

/* Limits; 0 in any field means its default (in brackets). */
struct ist_net_limits {
	size_t max_message_bytes;      /* largest envelope accepted or sent [IST_WIRE_MAX_ENVELOPE_BYTES] */
	uint32_t rate_frames_per_sec;  /* per peer, inbound envelopes [500] */
	uint32_t burst_frames;         /* [1000] */
	uint64_t rate_bytes_per_sec;   /* per peer, inbound envelope bytes [8 MiB] */
	uint64_t burst_bytes;          /* >= one largest frame [4 * largest frame] */
	size_t max_queue_bytes;        /* per peer, outbound, >= one largest frame [2 * largest frame] */
	uint32_t max_unauth_total;     /* unauthenticated inbound connections at once [64] */
	uint32_t max_unauth_per_addr;  /* ... from one IP address [4] */
	uint32_t handshake_timeout_ms; /* dial + handshake must finish within [5000] */
	uint32_t backoff_min_ms;       /* reconnect delay, first retry [100] */
	uint32_t backoff_max_ms;       /* ... cap [10000] */
	/* Heartbeat (see "Liveness" above): a PING after this long without a
	 * byte from the peer, at most an hour [IST_NET_PING_INTERVAL_MS] ... */
	uint32_t ping_interval_ms;
	/* ... and the connection closed (then redialled) after this long
	 * without one; above ping_interval_ms [3 * ping_interval_ms] */
	uint32_t silence_timeout_ms;
};

struct ist_net_config {
	/* "tcp://127.0.0.1:7100", "tcp://0.0.0.0:0" (any free port; see
	 * ist_net_bound_port), "tls+tcp://..."; NULL = do not listen. */
	const char *listen_url;
	uint64_t network_id;
	uint8_t genesis_hash[IST_HASH_BYTES];
	/* The Ed25519 node seed. Copied into guarded memory (sodium_malloc),
	 * wiped by ist_net_free; the caller may wipe its copy after ist_net_new. */
	const uint8_t *node_seed;
	/* The initial validator set (copied); may be empty and set later. */
	const struct ist_net_peer *peers;
	size_t n_peers;
	struct ist_net_limits limits;
	/* TLS, used for tls+tcp:// URLs only (files are read by ist_net_new).
	 * The listener presents cert+key; dials verify the peer's certificate
	 * against ca_file and its URL host, or (ca_file NULL) do not verify:
	 * the handshake still proves the node key, TLS then only encrypts. */
	const char *tls_cert_file;     /* PEM certificate (chain) */
	const char *tls_key_file;      /* PEM private key */
	const char *tls_ca_file;       /* PEM CA bundle for dials; NULL = no verification */
};

/* Callbacks. ctx is passed back to each. */
struct ist_net_hooks {
	/* Required. An envelope from an authenticated validator. `env` is owned
	 * by the callee (ist_wire_envelope_free). Runs on an NNG thread: decode
	 * and size checks are done, the consensus signature is not; the callee
	 * must only enqueue (never block on I/O or on the consensus thread). */
	void (*on_envelope)(void *ctx, uint32_t peer_index, const uint8_t pubkey32[IST_ED25519_PUBKEY_BYTES],
			    struct ist_envelope *env);
	/* Optional. A peer's connection state changed. Level-triggered and
	 * coalesced: a short down-up flap may be reported as nothing. Runs on the
	 * transport's own thread. */
	void (*on_peer)(void *ctx, uint32_t peer_index, const uint8_t pubkey32[IST_ED25519_PUBKEY_BYTES],
			bool connected);
	/* Optional. Called after a drop was counted, with the transport's lock
	 * held: must not call into the transport (for tests and logs). */
	void (*on_drop)(void *ctx, const char *reason);
	void *ctx;
};

struct ist_net;

/* ---- Lifecycle ---- */

/*
 * Creates a transport (nothing is listened on or dialled yet).
 * In: cfg (copied; node_seed required, URLs checked), clock (borrowed for the
 * transport's life: rate limits and deadlines; ist_clock_system() in the
 * node; NULL = that), rng (borrowed, used under the transport's lock:
 * reconnect jitter only, nonces always come from the kernel; NULL =
 * ist_rng_system()), metrics (borrowed, may be NULL), hooks (copied;
 * on_envelope required).
 * Out: *ret_net, freed with ist_net_free.
 * Returns 0, -IST_EINVAL (a bad argument or limit, a duplicate peer index or
 * key, a URL too long or of an unsupported scheme), -IST_ECONFIG (a TLS file
 * that cannot be loaded), -IST_ECRYPTO, -IST_ENOMEM. On failure a message
 * naming the problem is written to errbuf (errlen bytes, may be 0).
 */
int ist_net_new(const struct ist_net_config *cfg, const struct ist_clock *clock, const struct ist_rng *rng,
		struct ist_metrics *metrics, const struct ist_net_hooks *hooks, struct ist_net **ret_net,
		char *errbuf, size_t errlen) IST_WUR;

/*
 * Listens (when a listen URL was given) and starts the transport's thread,
 * which dials every peer of the set with a URL. Returns 0, -IST_ESTATE
 * (already started), -IST_ENET (cannot listen: address in use, bad
 * address), -IST_ENOMEM; errbuf as for ist_net_new.
 */
int ist_net_start(struct ist_net *net, char *errbuf, size_t errlen) IST_WUR;

/*
 * Stops everything: closes the listener and every connection, waits for
 * NNG callbacks in flight and for the transport's thread, frees all (queued
 * outbound frames are discarded). No hook runs after it returns. Accepts
 * NULL. Must not be called from a hook.
 */
void ist_net_free(struct ist_net *net);

/* The TCP port the listener is bound to (useful after listening on port 0).
 * Returns 0 and *ret_port, or -IST_ESTATE (not listening). */
int ist_net_bound_port(struct ist_net *net, uint16_t *ret_port) IST_WUR;

/* ---- Validator set ---- */

/*
 * Replaces the validator set (at an epoch change). Peers that stay (same
 * key) keep their connection, queue and rate budget, with their new index
 * and URL; peers that leave are disconnected and their queues discarded;
 * new peers are dialled. Returns 0 or -IST_EINVAL (more than
 * IST_WIRE_MAX_VALIDATORS, a duplicate index or key, a bad URL), -IST_ENOMEM;
 * nothing changes on failure.
 */
int ist_net_set_peers(struct ist_net *net, const struct ist_net_peer *peers, size_t n_peers) IST_WUR;

/* Peers with an authenticated connection now. */
size_t ist_net_peer_count(struct ist_net *net);

/* True when the peer of that index has an authenticated connection. */
bool ist_net_peer_connected(struct ist_net *net, uint32_t peer_index);

/* ---- Sending ---- */

/*
 * Queues an envelope for one peer (encoded here; the caller keeps env). A
 * peer that is not connected now gets it when it is (queues survive
 * reconnects). When the peer's queue would exceed max_queue_bytes the oldest
 * frames are dropped (consensus favours new messages) and counted as
 * send_queue_full. Returns 0; -IST_ENOTFOUND (no such index in the set);
 * -IST_EINVAL (our own index, or env does not encode); -IST_ETOOBIG (over
 * max_message_bytes); -IST_ESTATE (being freed); -IST_ENOMEM.
 */
int ist_net_send(struct ist_net *net, uint32_t peer_index, const struct ist_envelope *env) IST_WUR;

/* Queues an envelope for every peer of the set but us (encoded once, one
 * buffer shared by all queues). Returns as ist_net_send, without
 * -IST_ENOTFOUND. */
int ist_net_broadcast(struct ist_net *net, const struct ist_envelope *env) IST_WUR;

#endif
