/* The node's internals shared by node.c (start-up and wiring), loop.c (the
 * consensus thread) and source.c (the API's data source). Not a contract. */
#ifndef IST_NODE_INTERNAL_H
#define IST_NODE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "common/metrics.h"
#include "consensus/consensus.h"
#include "net/net.h"
#include "node/config.h"
#include "node/genesis.h"
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
};

/* Internal events the consensus thread feeds back to the core after the
 * current action list. */
struct ist_node_ievent {
	enum ist_cons_event_kind kind;   /* PERSISTED or PAYLOAD */
	uint64_t a, b;                   /* seq, or epoch and view */
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
	struct ist_cons_epoch *epoch;          /* epoch 0 */
	struct ist_block genesis;
	uint8_t genesis_id[IST_HASH_BYTES];

	struct ist_node_queue q;
	struct ist_mempool *mempool;
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

	/* metrics */
	struct ist_metric *m_height, *m_view, *m_commits, *m_timeouts, *m_latency, *m_db_bytes;
	struct ist_metric *m_drops, *m_queue_dropped;
};

/* loop.c */
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
/* The API's submit_tx (ctx: the node): POST /v1/txs. */
int ist_node_submit(void *ctx, const uint8_t *body, size_t len, struct ist_buf *out);

/* source.c */
void ist_node_api_source(struct ist_node *n, struct ist_api_source *ret);
/* Appends a block as JSON. */
int ist_node_block_json(const struct ist_block *b, const uint8_t id[IST_HASH_BYTES], struct ist_buf *out) IST_WUR;

#endif
