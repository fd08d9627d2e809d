/*
 * The consensus core: HotStuff with the two-chain commit rule (Jolteon /
 * DiemBFT v4), as a pure state machine (DESIGN "Consensus",
 * docs/protocol/consensus.md).
 *
 * Events in, actions out. The core does no I/O, reads no clock, starts no
 * thread, logs nothing and has no global state: ist_cons_step() applies one
 * event and appends what the node must do to an action list. The same core
 * state and the same event always give byte-identical actions (no pointer
 * values, no hash-table order, no time in any output). The node (or the
 * simulator of tests/consensus) owns the world: sockets, disk, timers, the
 * payload, and feeds the core.
 *
 * The node's duties, in short:
 *
 *   - PERSIST: write the safety state durably, then step PERSISTED{seq}.
 *     Votes, timeouts and proposals that depend on that state are released
 *     (as SEND actions) only by that event: persist before you speak. A
 *     crash before the acknowledgement loses nothing that was ever sent.
 *   - SEND: deliver a message to one validator (by index in the action's
 *     epoch) or to every validator of the epoch but this one. The message
 *     belongs to the action list; the node may take it (set the pointer to
 *     NULL) to avoid a copy.
 *   - STORE_BLOCK: keep this uncommitted block durably (written no later
 *     than the next PERSIST: a vote for a block is released only after a
 *     PERSIST that follows the block's STORE_BLOCK), and hand the stored
 *     blocks back to ist_cons_new after a restart. Blocks at or below the
 *     committed height may be deleted.
 *   - COMMIT: a block is final; store it and apply it. Commits come in
 *     height order, each once per core; a restarted core continues above
 *     the root it was given, so commits the node had not stored come again.
 *   - TIMER: (re)arm the single view timer; when it fires, step
 *     TIMER{seq}. A newer TIMER replaces the older one.
 *   - GET_PAYLOAD: this validator leads a view: build a payload and step
 *     PAYLOAD{epoch, view, items}. Late answers are ignored.
 *   - FETCH / FETCH_EPOCH: ask a peer for a block (and its ancestors) or for
 *     the proof that an epoch ended; deliver what comes back as a BLOCKS
 *     event. Answer peers' requests with ist_cons_block_get, the committed
 *     chain (the block, then its ancestors, at most IST_CONS_MAX_CHAIN) and
 *     the stored epoch proofs.
 *   - SEND_EPOCH_PROOF: a peer is still in an epoch that ended: send it the
 *     proof kept from that epoch's EPOCH action (it steps it as BLOCKS).
 *   - EPOCH: the core moved to a new epoch: persist its validator set and
 *     keep the proof (a chain of blocks and the QC for its top that made the
 *     epoch's last block final) to answer other nodes' FETCH_EPOCH.
 *
 * The node carries the actions out in the order they come: an action may
 * depend on the ones before it (STORE_BLOCK, COMMIT and EPOCH before the
 * PERSIST that follows them).
 *
 * Threading: a core is used by one thread at a time. Borrowed pointers in an
 * event are read during the call only.
 */
#ifndef IST_CONSENSUS_CONSENSUS_H
#define IST_CONSENSUS_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "wire/types.h"

/* ---- Epochs ---- */

/*
 * An epoch's validator set. Plain memory (about 10 KiB: keep it on the heap
 * or in a long-lived struct). Validator i (0 <= i < n) has pubkeys[i] and
 * stakes[i]; the leader of view v is validator v mod n (round robin). Views
 * restart at 1 in every epoch.
 *
 * root_id is the block the epoch starts from: the genesis block for epoch 0,
 * and for a later epoch the committed block whose application returned this
 * set. The epoch's genesis QC is {number, view 0, root_id, no signatures};
 * the first block of the epoch has it as justify and root_id as parent.
 */
struct ist_cons_epoch {
	uint64_t number;
	uint8_t root_id[IST_HASH_BYTES];
	uint32_t n;                                  /* 1..IST_WIRE_MAX_VALIDATORS */
	uint8_t pubkeys[IST_WIRE_MAX_VALIDATORS][IST_ED25519_PUBKEY_BYTES];
	uint64_t stakes[IST_WIRE_MAX_VALIDATORS];    /* each > 0 */
	uint64_t total;                              /* sum of stakes; set by ist_cons_epoch_check */
};

/* Checks an epoch's set and computes `total`: 1 <= n <= 256, every stake
 * > 0, the total fits in 64 bits, no public key twice. Returns 0,
 * -IST_EINVAL or -IST_ERANGE (stake overflow). */
int ist_cons_epoch_check(struct ist_cons_epoch *e) IST_WUR;

/* The leader of `view` in epoch `e` (view mod n). */
uint32_t ist_cons_epoch_leader(const struct ist_cons_epoch *e, uint64_t view);

/* The index of `pub32` in `e`, or IST_CONS_OBSERVER when it is not a member. */
uint32_t ist_cons_epoch_index(const struct ist_cons_epoch *e, const uint8_t pub32[IST_ED25519_PUBKEY_BYTES]);

/* The genesis QC of epoch `e` (see struct ist_cons_epoch). */
void ist_cons_epoch_genesis_qc(const struct ist_cons_epoch *e, struct ist_qc *ret);

#define IST_CONS_OBSERVER UINT32_MAX   /* "not a validator of this epoch" */
#define IST_CONS_PEER_NONE UINT32_MAX  /* an event whose sender is not known */

/* ---- Interfaces the node provides ---- */

/* Signs with this node's key. Ed25519 is deterministic, so the core stays
 * pure. Returns 0 or a negative -IST_E* (the step then fails with it). */
struct ist_cons_signer {
	int (*sign)(void *ctx, const uint8_t *msg, size_t len, uint8_t ret_sig64[IST_SIG_BYTES]);
	void *ctx;
};

/*
 * Optional cache of signature verifications, keyed by
 * SHA-256(pubkey || signature || message). The core always asks the cache
 * first and, on a miss, runs ist_ed25519_verify and stores the result: a
 * result the cache holds was produced by a real verification (of this core
 * or of another sharing the cache). lookup returns 1 (valid), 0 (invalid) or
 * -1 (unknown). Meant for simulations with many cores in one process.
 */
struct ist_cons_sigcache {
	int (*lookup)(void *ctx, const uint8_t key32[IST_HASH_BYTES]);
	void (*store)(void *ctx, const uint8_t key32[IST_HASH_BYTES], bool valid);
	void *ctx;
};

enum ist_cons_verdict {
	IST_CONS_VALID = 1,     /* vote for it */
	IST_CONS_INVALID = 2,   /* never vote for it */
	IST_CONS_NOT_YET = 3,   /* cannot tell yet: the vote is deferred until a
				 * RECHECK event answers VALID, at most until
				 * the view ends */
};

/*
 * The application: the block payload is opaque to the core.
 *
 * validate: may this validator vote for block b (its payload)? Called for a
 *   proposal of the current view that the safety rules allow to vote for,
 *   and again on each RECHECK while it answers NOT_YET. NULL = always valid.
 *
 * apply: called once for each committed block, in height order, before its
 *   COMMIT action is appended. Returns 0 (same validator set) or 1 with
 *   *ret_next filled (n, pubkeys, stakes; the core sets number, root_id and
 *   total): the block ends its epoch, see "Epoch change" below. A negative
 *   -IST_E* fails the step. Must be a deterministic function of the chain.
 *   NULL = never changes the set.
 *
 * Epoch change: when apply returns a new set for block B of epoch e, B is
 * the last block of epoch e. Blocks of epoch e that descend from B are
 * abandoned (never committed; their payload must be proposed again), and
 * the core moves to epoch e+1, whose root is B and whose views start at 1.
 * Every honest node commits the same B, so every node switches at the same
 * block, whichever QC made B final for it.
 */
struct ist_cons_app {
	enum ist_cons_verdict (*validate)(void *ctx, const struct ist_block *b);
	int (*apply)(void *ctx, const struct ist_block *b, struct ist_cons_epoch *ret_next);
	void *ctx;
};

/* ---- Configuration ---- */

struct ist_cons_config {
	uint64_t network_id;
	/* The current epoch's set (copied; `total` is recomputed). */
	const struct ist_cons_epoch *epoch;
	/*
	 * The last committed block (deep-copied): the genesis block of a new
	 * chain, or after a restart the last block the node stored from a
	 * COMMIT action (or an EPOCH action's root). Must belong to `epoch`, or
	 * be its root (id == epoch->root_id).
	 */
	const struct ist_block *root;
	/* This node's public key and signer. Without a key (has_key false), or
	 * when the key is not in an epoch's set, the core is an observer for
	 * that epoch: it follows and commits but never signs. */
	bool has_key;
	uint8_t pubkey[IST_ED25519_PUBKEY_BYTES];
	struct ist_cons_signer signer;
	struct ist_cons_app app;
	const struct ist_cons_sigcache *sigcache;   /* optional, borrowed for the core's life */
	/* The last safety state the node persisted (PERSIST action bytes), or
	 * NULL/0 for a new node. Copied. */
	const uint8_t *safety;
	size_t safety_len;
	/* The uncommitted blocks the node stored from STORE_BLOCK actions, in
	 * any order (copied). Those of another epoch or that do not descend
	 * from `root` are ignored. They were checked when first received and
	 * are not checked again: they come from the node's own disk. Without
	 * them a node that restarts loses the certified blocks it voted for,
	 * and if every other holder is faulty, the chain cannot grow. */
	const struct ist_block *const *blocks;
	size_t n_blocks;
	/* View timer: base duration, doubled for each view in a row that ended
	 * without a QC, capped at max; back to base on a QC. 0 = defaults
	 * (1000 ms, 60000 ms). */
	uint64_t timeout_base_ms;
	uint64_t timeout_max_ms;
};

/* ---- Events ---- */

enum ist_cons_event_kind {
	IST_CONS_EV_START = 1,     /* once, after ist_cons_new: arms the timer */
	IST_CONS_EV_PROPOSAL,      /* u.proposal from a peer */
	IST_CONS_EV_VOTE,          /* u.vote from a peer */
	IST_CONS_EV_TIMEOUT,       /* u.timeout from a peer */
	IST_CONS_EV_TIMER,         /* the timer of the TIMER action u.timer.seq fired */
	IST_CONS_EV_PAYLOAD,       /* the answer to a GET_PAYLOAD */
	IST_CONS_EV_PERSISTED,     /* the PERSIST action u.persisted.seq is durable */
	IST_CONS_EV_BLOCKS,        /* blocks from a peer's sync answer (FETCH, FETCH_EPOCH) */
	IST_CONS_EV_RECHECK,       /* ask validate again about deferred proposals */
};

/*
 * One event. `from` is the validator index, in the core's current epoch, of
 * the peer that delivered a message (the transport authenticated it; it
 * need not be the signer: messages may be forwarded), or IST_CONS_PEER_NONE
 * when the peer is not a validator of that epoch. It never counts as a
 * signature: it only chooses whom to ask for missing blocks and whom to
 * help catch up (a peer that sent its own message for a view or an epoch
 * we left). Everything reached through a pointer is borrowed for the call
 * and untrusted.
 */
struct ist_cons_event {
	enum ist_cons_event_kind kind;
	uint32_t from;
	union {
		const struct ist_proposal *proposal;
		const struct ist_vote *vote;
		const struct ist_timeout *timeout;
		struct {
			uint64_t seq;
		} timer;
		struct {
			uint64_t epoch;
			uint64_t view;
			uint64_t timestamp_ms;            /* the block's timestamp */
			const struct ist_payload_item *items; /* copied */
			size_t n_items;                   /* <= IST_WIRE_MAX_BLOCK_ITEMS */
		} payload;
		struct {
			uint64_t seq;
		} persisted;
		/*
		 * A chain, top first: v[0] is a block the core asked for or
		 * the one `qc` certifies; each v[i + 1] must be the parent of
		 * v[i] (checked by id: the first that is not ends the chain).
		 * At most IST_CONS_MAX_CHAIN are used.
		 */
		struct {
			const struct ist_block *const *v;
			size_t n;
			const struct ist_qc *qc;          /* a QC certifying v[0], or NULL */
		} blocks;
	} u;
};

/* ---- Actions ---- */

enum ist_cons_action_kind {
	IST_CONS_ACT_PERSIST = 1,
	IST_CONS_ACT_SEND,
	IST_CONS_ACT_STORE_BLOCK,
	IST_CONS_ACT_COMMIT,
	IST_CONS_ACT_TIMER,
	IST_CONS_ACT_GET_PAYLOAD,
	IST_CONS_ACT_FETCH,
	IST_CONS_ACT_FETCH_EPOCH,
	IST_CONS_ACT_SEND_EPOCH_PROOF,
	IST_CONS_ACT_EPOCH,
};

#define IST_CONS_TO_ALL UINT32_MAX   /* send.to: every validator of send.epoch but this one */
#define IST_CONS_MAX_CHAIN 64        /* blocks used from one BLOCKS event */

/*
 * One action. Heap parts (state, messages, blocks, the epoch and its proof)
 * belong to the action list until ist_cons_actions_reset/_fini; the node may
 * take one by copying the pointer and setting the member to NULL.
 */
struct ist_cons_action {
	enum ist_cons_action_kind kind;
	union {
		struct {
			uint64_t seq;
			uint8_t *state;           /* the safety state, version byte first */
			size_t len;
		} persist;
		struct {
			uint64_t epoch;
			uint32_t to;              /* validator index in `epoch`, or IST_CONS_TO_ALL */
			enum ist_envelope_kind msg; /* which of the three is set */
			struct ist_proposal *proposal;
			struct ist_vote *vote;
			struct ist_timeout *timeout;
		} send;
		struct {
			struct ist_block *block;
			uint8_t id[IST_HASH_BYTES];
		} commit, store_block;
		struct {
			uint64_t seq;
			uint64_t epoch;
			uint64_t view;
			uint64_t ms;              /* fire after this long */
		} timer;
		struct {
			uint64_t epoch;
			uint64_t view;
			uint64_t height;
			uint8_t parent_id[IST_HASH_BYTES];
		} get_payload;
		struct {
			uint64_t epoch;           /* the epoch `to` is counted in */
			uint32_t to;
			uint8_t block_id[IST_HASH_BYTES];
		} fetch;
		struct {
			uint64_t epoch;           /* the epoch whose end is wanted */
			uint32_t to;              /* index in `epoch`, or IST_CONS_PEER_NONE:
						   * the peer that delivered this event */
		} fetch_epoch;
		struct {
			uint64_t epoch;           /* the ended epoch the peer is in */
			uint32_t to;              /* index in the current epoch, or
						   * IST_CONS_PEER_NONE: the peer that
						   * delivered this event */
		} send_epoch_proof;
		struct {
			struct ist_cons_epoch *next;   /* the new epoch (root_id = the last block of the old) */
			/* The proof that root_id is final: blocks of the old epoch,
			 * top first, down to root_id's child (step them as a BLOCKS
			 * event), and the QC for the top. Each block is owned. */
			struct ist_block **proof_blocks;
			size_t n_proof_blocks;
			struct ist_qc *proof_qc;
		} epoch;
	} u;
};

/*
 * Drop reasons: why an event was not (fully) used. The last one is in
 * struct ist_cons_actions.drop after each step, and every one is counted in
 * struct ist_cons_stats, for metrics.
 */
#define IST_CONS_DROPS(X) \
	X(NONE,            "accepted") \
	X(BAD_EVENT,       "malformed event") \
	X(WRONG_NETWORK,   "another network's block") \
	X(PAST_EPOCH,      "message of an earlier epoch") \
	X(FUTURE_EPOCH,    "message of a later epoch") \
	X(BAD_INDEX,       "validator index out of range") \
	X(NOT_LEADER,      "proposer is not the view's leader") \
	X(BAD_SIGNATURE,   "invalid signature") \
	X(BAD_QC,          "invalid quorum certificate") \
	X(BAD_TC,          "invalid timeout certificate") \
	X(BAD_BLOCK,       "block inconsistent with its parent or justify") \
	X(STALE,           "view already passed") \
	X(TOO_FAR,         "view too far ahead") \
	X(DUPLICATE,       "already known") \
	X(EQUIVOCATION,    "second different message for a view") \
	X(UNSOLICITED,     "block not asked for") \
	X(FULL,            "a memory bound was reached") \
	X(NOT_NEXT_LEADER, "vote sent to the wrong leader") \
	X(PAYLOAD_INVALID, "payload rejected by the application") \
	X(STALE_EVENT,     "timer, payload or acknowledgement no longer current")

enum ist_cons_drop {
#define IST_CONS_DROP_ENUM(name, msg) IST_CONS_DROP_##name,
	IST_CONS_DROPS(IST_CONS_DROP_ENUM)
#undef IST_CONS_DROP_ENUM
	IST_CONS_DROP__COUNT
};

/* A static description of a drop reason; never NULL. */
const char *ist_cons_drop_str(enum ist_cons_drop d);

/* An action list. Zero-initialised memory (or _init) is an empty list. */
struct ist_cons_actions {
	struct ist_cons_action *v;
	size_t len;
	size_t cap;
	enum ist_cons_drop drop;   /* why the last event was dropped, or NONE */
};

void ist_cons_actions_init(struct ist_cons_actions *a);
/* Frees what the actions own and empties the list (keeps its storage). */
void ist_cons_actions_reset(struct ist_cons_actions *a);
/* _reset, then frees the storage. */
void ist_cons_actions_fini(struct ist_cons_actions *a);

/* ---- The core ---- */

struct ist_cons;

/*
 * Creates a core from its configuration (everything is copied). With
 * cfg->safety, resumes from that persisted state: it never votes in a view
 * at or below the persisted last voted view, nor signs a different timeout
 * for a view it already timed out in; a state of an earlier epoch than
 * cfg->epoch is replaced by a fresh state of cfg->epoch. Step START next.
 *
 * Returns 0 and *ret (free with ist_cons_free), or
 *   -IST_EINVAL      a bad configuration (epoch set, root not in the epoch,
 *                    a key without a signer, timeouts)
 *   -IST_ERANGE      stake total overflow
 *   -IST_EPARSE      the safety state is malformed (truncated, trailing
 *                    bytes, inconsistent signer bitmap)
 *   -IST_EUNSUPPORTED the safety state has an unknown version
 *   -IST_ESTATE      the safety state belongs to a later epoch than cfg->epoch
 *   -IST_ENOMEM
 */
int ist_cons_new(const struct ist_cons_config *cfg, struct ist_cons **ret) IST_WUR;

/* Frees a core. Accepts NULL. */
void ist_cons_free(struct ist_cons *c);

/*
 * Applies one event and appends the resulting actions to `out` (which is not
 * emptied first), in the order the node must carry them out. Sets out->drop.
 *
 * Returns 0 (also when the event was dropped: see out->drop), or
 *   -IST_EINVAL  the event itself is malformed (unknown kind, NULL pointer)
 *   -IST_ENOMEM, or the signer's or apply's error: the core may then be
 *                half-way through the event and must be discarded and
 *                restarted from the persisted state (as after a crash).
 */
int ist_cons_step(struct ist_cons *c, const struct ist_cons_event *ev, struct ist_cons_actions *out) IST_WUR;

/* ---- Read-only accessors (for the node, metrics and tests) ---- */

struct ist_cons_stats {
	uint64_t drops[IST_CONS_DROP__COUNT];
	uint64_t votes_sent;
	uint64_t timeouts_sent;
	uint64_t proposals_sent;
	uint64_t qcs_formed;
	uint64_t tcs_formed;
	uint64_t blocks_committed;
	uint64_t sig_verifications;   /* real ones (cache misses) */
};

const struct ist_cons_stats *ist_cons_stats_get(const struct ist_cons *c);
/* The current epoch (borrowed; changes on an epoch switch). */
const struct ist_cons_epoch *ist_cons_epoch_current(const struct ist_cons *c);
uint64_t ist_cons_view(const struct ist_cons *c);
/* This node's index in the current epoch, or IST_CONS_OBSERVER. */
uint32_t ist_cons_self(const struct ist_cons *c);
/* Height and id of the last committed block. */
uint64_t ist_cons_committed_height(const struct ist_cons *c);
void ist_cons_committed_id(const struct ist_cons *c, uint8_t ret_id32[IST_HASH_BYTES]);
/* The highest QC known (borrowed until the next step). */
const struct ist_qc *ist_cons_high_qc(const struct ist_cons *c);

/*
 * Copies a block of the core's tree (uncommitted blocks and the last
 * committed one), to answer a peer's FETCH. Out: *ret_block (free with
 * ist_wire_block_free) and, when ret_qc is not NULL, *ret_qc: a QC
 * certifying the block if the core knows one, else NULL (free with free()).
 * Returns 0, -IST_ENOTFOUND or -IST_ENOMEM.
 */
int ist_cons_block_get(const struct ist_cons *c, const uint8_t id32[IST_HASH_BYTES],
		       struct ist_block **ret_block, struct ist_qc **ret_qc) IST_WUR;

/* Deep copy of a block (items and their opaque bytes). Returns 0 and *ret
 * (free with ist_wire_block_free), or -IST_ENOMEM. */
int ist_cons_block_dup(const struct ist_block *b, struct ist_block **ret) IST_WUR;

#endif
