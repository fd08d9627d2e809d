/*
 * The node's attestation pipeline (DESIGN "Data, end to end", steps 2-5):
 * route trees from the watchers' observations, checkpoints in proposals,
 * the vote-time checks, multisig signature shares on commit, and the
 * certificates they form. Everything here runs on the consensus thread (the
 * one LMDB writer), except where a function says otherwise.
 *
 * Route checkpoints. A checkpoint {src, dst, src_height, tree_size, root}
 * is valid for this node when its own watcher has observed src_height, the
 * route's tree held tree_size leaves after that height, and its root at
 * that size is root. A leader proposes, for each route whose tree grew past
 * the last committed (or proposed) checkpoint, its latest one. A validator
 * votes only when every checkpoint in the block is valid for it and
 * advances its route (tree_size above the last committed one, src_height
 * not below it); while its watcher is behind it defers the vote
 * (NOT_YET), until the view ends. A checkpoint for a tree size this node
 * knows with another root is a conflict: the signed proposal is kept as
 * evidence and counted.
 *
 * Certificates. When a block with checkpoints commits, each validator signs
 * its batch root (ist_wire_attest_digest) with its attestation key, once it
 * has checked the checkpoints against its own watcher, after persisting
 * each route's watermark (the largest tree size it signed, and that root)
 * and its share; the shares travel to every validator (AttestShare
 * envelopes), and each node forms the certificate once the signers hold
 * more than 2/3 of the stake, signatures in validator order.
 */
#ifndef IST_NODE_ATTEST_H
#define IST_NODE_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "consensus/consensus.h"
#include "storage/store.h"
#include "wire/types.h"

struct ist_node;

/* A finalized source block as a watcher observed it. Heap parts: msgs. */
struct ist_node_obs {
	uint64_t chain;
	uint64_t height;
	uint8_t hash[IST_HASH_BYTES];
	size_t n_msgs;
	struct ist_message *msgs;
};
void ist_node_obs_free(struct ist_node_obs *o);

/* Checkpoints record, in the checkpoints database, where they were
 * committed: value = height (u64) || index in the batch (u32) || checkpoints
 * in the block (u32) || encoded checkpoint. */
#define IST_NODE_CP_HEAD_BYTES 16

/* Loads the routes, committed checkpoints, watermarks and watch cursors.
 * Start-up, before the consensus thread runs. */
int ist_node_attest_init(struct ist_node *n, char *errbuf, size_t errlen) IST_WUR;
void ist_node_attest_fini(struct ist_node *n);

/* A watcher's observation (takes it). Returns 0 or a fatal error. */
int ist_node_attest_observe(struct ist_node *n, struct ist_node_obs *o) IST_WUR;

/* The checkpoints this node proposes when it leads: appended to out from
 * index 0; returns how many (at most max). */
size_t ist_node_attest_propose(struct ist_node *n, struct ist_payload_item *out, size_t max);

/* Route (src, dst) at source height s: *ret_size_at leaves observed up to
 * s, of which the first *ret_allowed pass the route's limits
 * (ist_gov_allowed; all when it has none); *ret_hold (may be NULL) the
 * first held leaf. Returns 0 or a store error (logged). */
struct ist_gov_hold;
/* Sets the held-message gauges of the limited routes. */
void ist_node_attest_held_metrics(struct ist_node *n);
int ist_node_route_allowed(struct ist_node *n, struct ist_txn *txn, uint64_t src, uint64_t dst, uint64_t s,
			   uint64_t *ret_size_at, uint64_t *ret_allowed, struct ist_gov_hold *ret_hold) IST_WUR;

/* The vote-time verdict on the checkpoints of b (other items ignored). */
enum ist_cons_verdict ist_node_attest_validate(struct ist_node *n, const struct ist_block *b);

/* An uncommitted block was stored (STORE_BLOCK): remember what it proposes. */
void ist_node_attest_pending(struct ist_node *n, const struct ist_block *b);

/* In the commit's write transaction: index the block's checkpoints. Must
 * not change memory (the write may run again). */
int ist_node_attest_commit_txn(struct ist_txn *txn, const struct ist_block *b) IST_WUR;
/* After the commit is durable: advance the routes, sign. */
void ist_node_attest_committed(struct ist_node *n, const struct ist_block *b);

/* A share from a peer (or our own). */
void ist_node_attest_share(struct ist_node *n, uint32_t peer, const struct ist_attest_share *s);

/* A peer's proposal is about to be stepped: remember it (when it carries
 * checkpoints) so that it can be kept as evidence. */
void ist_node_attest_seen_proposal(struct ist_node *n, const struct ist_proposal *p);
/* After a step (a proposal or a recheck): keep the signed proposal whose
 * checkpoint conflicted with this node's trees, if validate met one. */
void ist_node_attest_keep_evidence(struct ist_node *n);

#endif
