/*
 * The node's side of the ledger: load, apply, persist, epoch changes and
 * epoch sync (ledger.c has the storage keys). Consensus thread, except
 * where a function says otherwise; API threads read n->ledger only under
 * n->ledger_mu.
 */
#ifndef IST_NODE_LEDGER_H
#define IST_NODE_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"
#include "consensus/consensus.h"
#include "state/ledger.h"
#include "storage/store.h"

struct ist_node;

/* (Re)builds n->ledger from genesis and the store, checks it is at
 * `committed_height`, and sets *n->epoch to its current set. */
int ist_node_ledger_load(struct ist_node *n, uint64_t committed_height, char *errbuf, size_t errlen) IST_WUR;
/* The core's apply callback (ctx: the node). */
int ist_node_apply(void *ctx, const struct ist_block *b, struct ist_cons_epoch *ret_next);
/* In the commit's write transaction; may run again. */
int ist_node_ledger_flush_txn(struct ist_node *n, struct ist_txn *txn) IST_WUR;
/* After it is durable. */
void ist_node_ledger_flushed(struct ist_node *n);

/* An epoch's set from the store (any thread, in a read transaction).
 * Returns 0, -IST_ENOTFOUND, -IST_EDB*. */
int ist_node_epoch_set_read(struct ist_txn *txn, uint64_t epoch, struct ist_ledger_set *ret) IST_WUR;
/* Whether committed block b ends its epoch, and then the hand-over leaf of
 * the next set (any thread). */
int ist_node_handover_leaf(struct ist_node *n, struct ist_txn *txn, const struct ist_block *b, bool *ret_ends,
			   uint8_t ret_leaf32[IST_HASH_BYTES]) IST_WUR;
/* The pause events committed block `height` made (at most
 * IST_GOV_MAX_BLOCK_EVENTS into out): from the ledger's record, or from
 * the ledger in memory while that record is not written yet (any thread;
 * takes ledger_mu). Returns 0, -IST_EDB_CORRUPT, -IST_EDB*. */
struct ist_gov_event;
int ist_node_pause_events(struct ist_node *n, struct ist_txn *txn, uint64_t height, struct ist_gov_event *out,
			  size_t *ret_n) IST_WUR;
/* The batch root of committed block b: its checkpoints, its pause leaves
 * and, when it ends its epoch, the hand-over leaf (any thread). */
int ist_node_batch_root(struct ist_node *n, struct ist_txn *txn, const struct ist_block *b,
			uint8_t ret_root32[IST_HASH_BYTES], size_t *ret_count, bool *ret_ends) IST_WUR;

/* The inclusion proof of leaf `index` of committed block `height`'s batch
 * tree (its checkpoints in block order, its pause leaves, then the hand-over
 * leaf when it ends its epoch): a checkpoint's position; with
 * IST_NODE_PAUSE_INDEX(k), of the k-th pause leaf; with
 * IST_NODE_HANDOVER_INDEX, of the hand-over leaf. The leaf's hash goes to
 * ret_leaf32, the block's epoch to *ret_epoch (each may be NULL). Any thread. Returns 0,
 * -IST_EDB_CORRUPT (no such leaf: the caller's index came from the store),
 * -IST_ENOTFOUND, -IST_ENOMEM, -IST_EDB*. */
#define IST_NODE_HANDOVER_INDEX UINT32_MAX
/* The k-th pause leaf of the block (after its checkpoints). */
#define IST_NODE_PAUSE_INDEX(k) (0x80000000u + (uint32_t)(k))
int ist_node_batch_proof(struct ist_node *n, struct ist_txn *txn, uint64_t height, uint32_t index,
			 struct ist_inclusion_proof *ret, uint8_t ret_leaf32[IST_HASH_BYTES], uint64_t *ret_epoch) IST_WUR;

/* The EPOCH action: keep its proof, switch the node's epoch and peers. */
void ist_node_epoch_changed(struct ist_node *n, struct ist_cons_action *a);
/* Peers = the current set at its indices, then other registered validators. */
void ist_node_peers_update(struct ist_node *n);
/* FETCH_EPOCH / SEND_EPOCH_PROOF and a peer's EpochRequest. */
void ist_node_epoch_fetch(struct ist_node *n, uint32_t to, uint64_t epoch);
void ist_node_epoch_serve(struct ist_node *n, uint32_t peer, uint64_t epoch);

#endif
