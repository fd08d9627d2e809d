/* The node's internals shared by node.c (start-up and wiring), loop.c (the
 * consensus thread) and source.c (the API's data source). Not a contract. */
#ifndef IST_NODE_INTERNAL_H
#define IST_NODE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "chain/watcher.h"
#include "common/metrics.h"
#include "consensus/consensus.h"
#include "net/net.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/attest.h"
#include "node/ledger.h"
#include "node/mempool.h"
#include "node/node.h"
#include "node/queue.h"
#include "storage/store.h"

/* safety database: "p" || height (u64 BE) || block id -> 1 byte: the index of
 * stored uncommitted blocks (the blocks themselves are in `blocks`), so a
 * restart finds them without scanning the chain. */
/* An empty block is proposed no sooner than this after it was asked for:
 * without transactions the chain would otherwise commit as fast as the disk
 * syncs (hundreds of blocks a second) and grow the database for nothing.
 * A block with a payload is proposed at once. */
#define IST_NODE_EMPTY_BLOCK_DELAY_MS 100

#define IST_NODE_PENDING_PREFIX 'p'
#define IST_NODE_PENDING_KEY_BYTES (1 + 8 + IST_HASH_BYTES)

/* One block write of a batch (STORE_BLOCK or COMMIT), done in the next
 * PERSIST's transaction or at the end of the action list. */
struct ist_node_bw {
	bool commit;
	struct ist_block *block;     /* owned */
	uint8_t id[IST_HASH_BYTES];
	uint8_t *enc;                /* owned */
	size_t len;
	uint8_t *qc_enc;             /* commit: the block's justify (QC of its parent), or NULL */
	size_t qc_len;
};

struct ist_node_batch {
	struct ist_node_bw *v;
	size_t len, cap;
	const uint8_t *safety;       /* borrowed from the PERSIST action, or NULL */
	size_t safety_len;
	struct ist_node *node;       /* set by the flush */
	bool ledger_now;             /* write the ledger's changes with it */
};

/* Internal events the consensus thread feeds back to the core after the
 * current action list. */
struct ist_node_ievent {
	enum ist_cons_event_kind kind;   /* PERSISTED or PAYLOAD */
	uint64_t a, b;                   /* seq, or epoch and view */
};

/* Blocks with checkpoints waiting for this node's watcher before it signs,
 * and shares that came before their block committed here. */
#define IST_NODE_MAX_UNSIGNED 1024
#define IST_NODE_MAX_EARLY_SHARES 4096

struct ist_node_chainst {
	uint64_t id;
	uint64_t observed;                  /* last observed height (0: none yet) */
	uint8_t hash[IST_HASH_BYTES];       /* its block hash */
	bool halted;                        /* attestation from this chain stopped */
	char why[256];
};

struct ist_node_route {
	uint64_t src, dst;
	bool has_committed;
	struct ist_checkpoint committed;    /* the largest committed tree */
	uint64_t pend_size;                 /* the largest in a stored uncommitted block */
	uint64_t pend_epoch, pend_view;     /* that block's */
	bool has_wm;                        /* this validator's signed watermark */
	uint64_t wm_size;
	uint8_t wm_root[IST_HASH_BYTES];
};

/* The last proposals with checkpoints this node received (encoded), for
 * evidence: at most this many, of at most a block's size each. */
#define IST_NODE_RECENT_PROPOSALS 4

struct ist_node_recent {
	uint64_t epoch, view;
	uint32_t proposer;
	uint8_t *enc;
	size_t len;
};

/* The batch roots of the last committed blocks with checkpoints, by height
 * modulo this (shares for them are checked without reading the block). */
#define IST_NODE_RECENT_ROOTS 64

struct ist_node_root {
	uint64_t height;                    /* 0: empty */
	uint64_t epoch;
	uint8_t batch_root[IST_HASH_BYTES];
};

struct ist_node_attest {
	size_t n_chains;
	struct ist_node_chainst chains[IST_NODE_MAX_CHAINS];
	struct ist_node_route *routes;      /* n_chains^2, [i * n + j] for i != j */
	uint64_t commit_epoch, commit_view, commit_height;
	uint64_t *unsigned_heights;
	size_t n_unsigned;
	struct ist_attest_share *early;
	size_t n_early;
	bool observed_new;                  /* an observation since the last RECHECK */
	bool conflict;                      /* validate met a conflicting checkpoint */
	struct ist_checkpoint conflict_cp;
	uint64_t conflict_view, conflict_epoch;
	uint32_t conflict_proposer;
	struct ist_node_recent recent[IST_NODE_RECENT_PROPOSALS];
	struct ist_node_root roots[IST_NODE_RECENT_ROOTS];
	size_t recent_next;
	bool has_seckey;
	uint8_t *seckey;                    /* sodium_malloc'd attestation key */
	struct ist_metric *m_observed, *m_ignored, *m_evidence, *m_refused, *m_signed, *m_shares, *m_certs;
	struct ist_metric *m_held, *m_held_value;
};

#define IST_NODE_EVENTS_RING 4096

struct ist_node_event {
	uint64_t seq;
	uint64_t height;                    /* a certificate formed for this block */
};

struct ist_node_events {
	pthread_mutex_t mu;
	uint64_t seq;                       /* the last event's number (0: none) */
	uint64_t boot;                      /* random per start: numbers restart with it */
	struct ist_node_event ring[IST_NODE_EVENTS_RING];
};

struct ist_chain_adapter;

/* A chain's watcher and its RPC adapters (chains.c). */
struct ist_node_watch {
	struct ist_node *n;
	uint64_t chain;
	struct ist_chain_adapter *adapters[IST_NODE_MAX_RPC_URLS];
	size_t n_adapters;
	struct ist_watcher *watcher;
};

/* A finality violation a watcher met (breaker.c), kept for the consensus
 * thread to report: under the node's brk_mu. */
struct ist_node_violation {
	bool set;
	bool noted;                         /* consensus thread: the report was logged */
	struct ist_watcher_violation v;
};

/* One key -> value put in its own write transaction (ist_node_kv_write). */
struct ist_node_kv {
	enum ist_store_db db;
	const void *key;
	size_t klen;
	const void *val;
	size_t vlen;
};
int ist_node_kv_write(struct ist_txn *txn, void *ctx);

/* Votes received lately, by (view, voter) slot: for equivocation. */
#define IST_NODE_SEEN_VOTES 4096

struct ist_node_seen_vote {
	bool used, reported;
	uint64_t epoch, view;
	uint32_t voter;
	uint8_t block_id[IST_HASH_BYTES];
	uint8_t sig[IST_SIG_BYTES];
};

struct ist_node {
	struct ist_node_options opts;
	struct ist_node_config cfg;
	struct ist_node_genesis g;
	struct ist_node_identity ident;
	uint8_t *seed;                         /* sodium_malloc'd node seed */
	uint8_t pub[IST_ED25519_PUBKEY_BYTES];

	struct ist_store *store;
	struct ist_metrics *metrics;
	struct ist_net *net;
	struct ist_api *api;
	struct ist_cons *core;
	struct ist_cons_epoch *epoch;          /* the current epoch (the core's) */
	struct ist_ledger *ledger;             /* written by the consensus thread under ledger_mu */
	pthread_mutex_t ledger_mu;
	struct ist_block genesis;
	uint8_t genesis_id[IST_HASH_BYTES];

	struct ist_node_queue q;
	struct ist_mempool *mempool;
	struct ist_node_attest att;
	struct ist_node_events ev;
	struct ist_node_watch watch[IST_NODE_MAX_CHAINS];
	pthread_t thread;
	bool thread_started;
	int fatal;                             /* the consensus thread's error */
	bool core_failed;                      /* the last error came from ist_cons_step */

	/* consensus thread only */
	bool timer_armed;
	uint64_t timer_seq, timer_deadline;
	/* a GET_PAYLOAD answered (with an empty block) at payload_deadline */
	bool payload_pending;
	uint64_t payload_epoch, payload_view, payload_deadline;
	struct ist_payload_item payload_items[IST_WIRE_MAX_BLOCK_ITEMS];   /* the PAYLOAD event's */
	struct ist_node_batch batch;
	struct ist_node_ievent *iev;
	size_t iev_len, iev_cap;
	uint64_t last_timeouts_sent;
	uint64_t commits_logged_ms;
	uint64_t commits_since_log;

	/* the status snapshot (API threads read it) */
	pthread_mutex_t st_mu;
	uint64_t st_height, st_view, st_epoch, st_last_commit_ms;
	uint8_t st_last_id[IST_HASH_BYTES];
	bool st_failed;
	bool st_in_set;                        /* a validator of the current epoch */

	/* metrics */
	struct ist_metric *m_height, *m_view, *m_commits, *m_timeouts, *m_latency, *m_db_bytes;
	struct ist_metric *m_drops, *m_queue_dropped;
	struct ist_metric *m_txs, *m_evidence_applied, *m_epoch, *m_evidence_sent;
	struct ist_node_seen_vote *seen_votes;  /* IST_NODE_SEEN_VOTES; consensus thread */
	/* the automatic circuit breakers (breaker.c): violations by chain index */
	pthread_mutex_t brk_mu;
	struct ist_node_violation violations[IST_NODE_MAX_CHAINS];
	struct ist_metric *m_breaker_reports, *m_breaker_tripped, *m_breaker_reporters;
	struct ist_node_frost *fr;              /* frost.c; NULL without a DKG key */
};

/* equivocation.c: a vote from a peer (before the core sees it). */
void ist_node_vote_seen(struct ist_node *n, const struct ist_vote *v);
#ifdef IST_FAULT_INJECTION
void ist_node_fault_vote(struct ist_node *n, uint32_t to, const struct ist_vote *v);
#endif

/* attest.c */
void ist_node_attest_retry(struct ist_node *n);

/* chains.c: the watchers of the genesis chains (after the consensus thread
 * starts; stopped before it stops). */
int ist_node_chains_start(struct ist_node *n, char *errbuf, size_t errlen) IST_WUR;
void ist_node_chains_stop(struct ist_node *n);
/* events.c: a certificate formed at `height` (wakes the API's long polls) */
void ist_node_events_push(struct ist_node *n, uint64_t height);
/* The events after number `after`, oldest first (at most max; older ones
 * than the ring holds are gone). *ret_last: the newest event's number.
 * Any thread. */
size_t ist_node_events_since(struct ist_node *n, uint64_t after, struct ist_node_event *out, size_t max,
			     uint64_t *ret_last);

/* breaker.c: the automatic circuit breakers' node side */
/* The metrics (isthmus_breaker_*). Returns 0 or -IST_ENOMEM. */
int ist_node_breaker_metrics_init(struct ist_node *n) IST_WUR;
/* A watcher's on_violation (ctx: its struct ist_node_watch). Any thread. */
void ist_node_breaker_violation(void *ctx, const struct ist_watcher_violation *v);
/* Consensus thread, before this node proposes: puts a signed finality
 * report for each chain whose watcher met a violation into the mempool,
 * while the ledger would count it (once it is committed, or stale after a
 * resume, it stops). */
void ist_node_breaker_poll(struct ist_node *n);
/* Consensus thread, after a block applied: the breaker gauges. */
void ist_node_breaker_metrics(struct ist_node *n);

/* loop.c */
/* The committed block at `height` (decoded; ist_wire_block_free it) and its
 * id (may be NULL). Returns 0, -IST_ENOTFOUND or -IST_EDB*. */
int ist_node_block_at(struct ist_txn *txn, uint64_t height, struct ist_block **ret, uint8_t ret_id[IST_HASH_BYTES]);
/* The core's signer: Ed25519 with the node seed. */
int ist_node_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t ret_sig64[IST_SIG_BYTES]);
void *ist_node_loop(void *arg);
/* Reads the store and builds the core (root, safety, stored blocks). */
int ist_node_core_load(struct ist_node *n, char *errbuf, size_t errlen) IST_WUR;

/* app.c */
/* Checks a transaction as far as this node can without the ledger: its
 * network and signature. Returns 0 or an error with a reason in why. */
int ist_node_tx_check(const struct ist_node *n, const struct ist_tx *tx, char *why, size_t why_len) IST_WUR;
/* The core's validate callback (ctx: the node). */
enum ist_cons_verdict ist_node_validate(void *ctx, const struct ist_block *b);
/* Fills out (room for IST_WIRE_MAX_BLOCK_ITEMS) with the payload of the
 * block this node proposes for (epoch, view); returns the item count. The
 * items point into the mempool. */
size_t ist_node_payload(struct ist_node *n, uint64_t epoch, uint64_t view, struct ist_payload_item *out);
/* A request's failure: `out` holds just the reason (the API makes it the
 * error's message). Returns `code`. */
int ist_node_reason(struct ist_buf *out, int code, const char *fmt, ...) IST_PRINTF(3, 4);
/* The API's submit_tx (ctx: the node): POST /v1/txs. */
int ist_node_submit(void *ctx, const uint8_t *body, size_t len, struct ist_buf *out);

/* relayapi.c: the API's get (the relayer routes) */
int ist_node_api_get(void *ctx, const char *path, const char *query, bool final, struct ist_buf *out,
		     const char **ret_route, uint32_t *ret_wait_ms);
/* The certificate scheme a request asks for with ?scheme= (the routes that
 * serve certificates: docs/api.md): multisig-secp256k1 when absent. Out:
 * *ret. Returns 0, or -IST_EINVAL with the reason in out (an unknown name:
 * a 400 that lists the names). */
int ist_node_query_scheme(const char *query, struct ist_buf *out, enum ist_cert_scheme *ret) IST_WUR;
/* The encoded certificate of `scheme` of block `height` (the multisig one
 * or the FROST one, storage/attest.h). Out: *ret_enc, *ret_len (borrowed
 * until txn ends). Returns 0, -IST_ENOTFOUND, -IST_EDB*. */
int ist_node_certificate_get(struct ist_txn *txn, enum ist_cert_scheme scheme, uint64_t height,
			     const uint8_t **ret_enc, size_t *ret_len) IST_WUR;

/* ledgerapi.c: the ledger's GET routes (segments after /v1/). Returns 1
 * when the path is not one of them, else as the API's get. */
int ist_node_ledger_get(struct ist_node *n, struct ist_txn *txn, char **seg, size_t ns, const char *query,
			struct ist_buf *out, const char **ret_route);
int ist_node_get_validators(struct ist_node *n, struct ist_txn *txn, const char *query, struct ist_buf *out);

/* source.c */
void ist_node_api_source(struct ist_node *n, struct ist_api_source *ret);
/* JSON pieces of the node's answers: "NAME":"<hex>", and a checkpoint's
 * members (u64 as decimal strings) without the braces. */
void ist_node_json_hex(struct ist_buf *b, const char *name, const uint8_t *p, size_t len);
/* {"leaf_index":"i","tree_size":"n","path":["<hex>",...]}, as every route prints a proof. */
void ist_node_json_proof(struct ist_buf *b, const struct ist_inclusion_proof *p);
void ist_node_json_checkpoint_fields(struct ist_buf *b, const struct ist_checkpoint *cp);
/* Appends a block as JSON. */
int ist_node_block_json(const struct ist_block *b, const uint8_t id[IST_HASH_BYTES], struct ist_buf *out) IST_WUR;

#endif
