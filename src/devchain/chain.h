/*
 * The simulated chain of isthmus-devchain (docs/devchain.md): an outbox that
 * numbers messages per route and puts them in blocks, finality by depth,
 * injected reorgs and finality violations, and an inbox that takes verified
 * deliveries once, certified by the validator sets it trusts, which follow
 * epoch hand-overs.
 *
 * State lives in an LMDB environment in the data directory (db.c has the
 * layout); a restart resumes the same chain. One process at a time: the
 * directory's devchain.lock is held (flock) while the chain is open.
 *
 * Threads. Reads (ist_dc_head, ist_dc_block_get, ist_dc_blocks_read,
 * ist_dc_inbox_get) use their own LMDB read transaction and may run on any
 * thread, concurrently. Writes (send, produce, reorg, rewrite, deliver) take
 * the chain's mutex and run one LMDB write transaction each, so they are
 * atomic and serialised whatever thread calls them; the block producer
 * (ist_dc_start) is one more writer.
 *
 * Block hash (tag in crypto/tags.h):
 *   SHA-256("isthmus/devchain/block/v1" || chain_id be64 || height be64 ||
 *            parent_hash[32] || timestamp_ms be64 || n be32 || id[32] * n)
 * with the ids of the block's messages in block order. Height 0 is the
 * genesis block (parent all zero, no messages).
 */
#ifndef IST_DEVCHAIN_CHAIN_H
#define IST_DEVCHAIN_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/macro.h"
#include "common/metrics.h"
#include "crypto/hash.h"
#include "state/verify.h"
#include "wire/types.h"

#define IST_DC_LOCK_FILE "devchain.lock"
#define IST_DC_ERRBUF_BYTES 512
#define IST_DC_MAX_BLOCK_MSGS 1000                /* messages per block */
#define IST_DC_MAX_BLOCK_PAYLOAD (1024 * 1024)    /* payload bytes per block */
#define IST_DC_MAX_PENDING 10000                  /* messages sent, not yet in a block */
#define IST_DC_MAX_FINALITY_DEPTH 1000
#define IST_DC_MIN_BLOCK_MS 10
#define IST_DC_MAX_BLOCK_MS 3600000
#define IST_DC_DEFAULT_GRACE_BLOCKS 20
#define IST_DC_MAX_GRACE_BLOCKS 1000000

struct ist_dc_options {
	const char *data_dir;         /* created (0700) if missing */
	uint64_t chain_id;            /* >= 1; recorded at creation, checked after */
	uint64_t block_ms;            /* IST_DC_MIN_BLOCK_MS..IST_DC_MAX_BLOCK_MS */
	uint64_t finality_depth;      /* 0..IST_DC_MAX_FINALITY_DEPTH */
	/* The inbox's first trusted validator set (copied), or NULL. Recorded
	 * in the database when it holds no set yet; afterwards the chain trusts
	 * what it recorded (that set and the hand-overs it accepted), and a
	 * `trust` given again must be the recorded set of its epoch. */
	const struct ist_valset *trust;
	/* Blocks after a hand-over during which certificates of the previous
	 * epoch are still accepted (0..IST_DC_MAX_GRACE_BLOCKS). */
	uint64_t grace_blocks;
	unsigned accept;              /* IST_VERIFY_ACCEPT_* flags */
	const struct ist_clock *clock;   /* NULL = the system clock; borrowed */
	struct ist_metrics *metrics;  /* NULL = none; borrowed, outlives the chain */
};

struct ist_dc;

/* The head and what is final. */
struct ist_dc_head {
	uint64_t height;
	uint64_t finalized;           /* max(0, height - finality depth) */
	uint8_t hash[IST_HASH_BYTES];
};

/* A message in the outbox, with its id. Heap part: m.payload. */
struct ist_dc_msg {
	struct ist_message m;
	uint8_t id[IST_HASH_BYTES];
};

/* A block. Heap parts: msgs and their payloads (ist_dc_block_fini). */
struct ist_dc_block {
	uint64_t height;
	uint8_t hash[IST_HASH_BYTES];
	uint8_t parent[IST_HASH_BYTES];
	uint64_t timestamp_ms;
	bool finalized;
	size_t n_msgs;
	struct ist_dc_msg *msgs;
};

void ist_dc_block_fini(struct ist_dc_block *b);

/*
 * Opens (creating when new) the chain in opts->data_dir. Nothing runs until
 * ist_dc_start. Out: *ret. On failure errbuf gets one line naming the
 * directory. Returns 0, -IST_EINVAL (bad options), -IST_EDB_LOCKED (another
 * process has it), -IST_ECONFIG (created for another chain id), -IST_EDB_SCHEMA
 * (a newer layout), -IST_EDB_CORRUPT, -IST_EDB, -IST_EPERM, -IST_EIO, -IST_ENOMEM;
 * -IST_ECONFIG also when opts->trust is not the set the chain recorded for
 * its epoch, or is of an epoch the chain does not hold.
 */
int ist_dc_open(const struct ist_dc_options *opts, struct ist_dc **ret, char *errbuf, size_t errlen) IST_WUR;

/* Starts the block producer thread (a block every block_ms). Returns 0 or
 * -IST_ESTATE (already started), -IST_ENOMEM. */
int ist_dc_start(struct ist_dc *c) IST_WUR;

/* Stops the producer (if started), waits for it, closes the database and
 * releases the lock. The HTTP servers must be stopped first. Accepts NULL. */
void ist_dc_close(struct ist_dc *c);

/* Set when the producer thread failed (a database error): 0 or -IST_E*. */
int ist_dc_failed(struct ist_dc *c);

uint64_t ist_dc_chain_id(const struct ist_dc *c);
/* True when the inbox trusts a validator set (any thread). */
bool ist_dc_has_trust(struct ist_dc *c);

/* ---- reads (any thread) ---- */

/* Returns 0 or -IST_EDB*. */
int ist_dc_head(struct ist_dc *c, struct ist_dc_head *ret) IST_WUR;

/* The block at `height`. Returns 0, -IST_ENOTFOUND above the head, -IST_EDB*,
 * -IST_ENOMEM. */
int ist_dc_block_get(struct ist_dc *c, uint64_t height, struct ist_dc_block *ret) IST_WUR;

/* Calls fn for the blocks from..to (clipped to the head) in one read
 * transaction (one consistent view), in height order; fn returns true to go
 * on. The block is valid for the call only. Out: *ret_head (may be NULL),
 * the head of that view. Returns 0, -IST_ENOTFOUND when from is above the
 * head, -IST_EDB*, -IST_ENOMEM. */
int ist_dc_blocks_read(struct ist_dc *c, uint64_t from, uint64_t to,
		       bool (*fn)(void *ctx, const struct ist_dc_block *b), void *ctx,
		       struct ist_dc_head *ret_head) IST_WUR;

struct ist_dc_inbox_entry {
	uint8_t message_id[IST_HASH_BYTES];
	uint64_t height;              /* the head when the delivery was recorded */
};

/* Returns 0 (delivered), -IST_ENOTFOUND, -IST_EDB*. */
int ist_dc_inbox_get(struct ist_dc *c, uint64_t src_chain, uint64_t nonce, struct ist_dc_inbox_entry *ret) IST_WUR;

/* ---- writes ---- */

/* Sends a message: m's dst_chain, sender, recipient, value, payload are
 * taken; src_chain is this chain and the nonce the route's next (from 0).
 * Out: *ret (nonce and id filled in; payload borrowed from m). Returns 0,
 * -IST_EINVAL (dst_chain 0 or this chain), -IST_ETOOBIG (payload over
 * IST_WIRE_MAX_MSG_PAYLOAD), -IST_EAGAIN (IST_DC_MAX_PENDING messages wait
 * for a block), -IST_EDB*. */
int ist_dc_send(struct ist_dc *c, const struct ist_message *m, struct ist_dc_msg *ret) IST_WUR;

/* Produces the next block now (the producer thread's work; tests call it
 * directly): the waiting messages in the order sent, within the per-block
 * limits. Out: *ret_head (may be NULL). Returns 0 or -IST_EDB*. */
int ist_dc_produce(struct ist_dc *c, struct ist_dc_head *ret_head) IST_WUR;

/* Test hook: replaces the last `depth` blocks with new ones of other
 * hashes: an empty block at the first replaced height, then the replaced
 * blocks' messages one block later each, in the same order (the head grows
 * by one). Refused when it would replace a finalized block or the genesis.
 * Out: *ret_old, *ret_new heads. Returns 0, -IST_ERANGE (depth 0, or
 * reaching a final block; `why` says which), -IST_EDB*. */
int ist_dc_reorg(struct ist_dc *c, uint64_t depth, struct ist_dc_head *ret_old, struct ist_dc_head *ret_new,
		 char *why, size_t whylen) IST_WUR;

/* Test hook: a finality violation. Alters the first message of the
 * FINALIZED block at `height` (payload byte 0 XOR 0x01, or the payload
 * "\x01" when it was empty), so its id and the block's hash change, and
 * rehashes every later block (their parent changed); they keep their
 * messages. Out: the new block (ist_dc_block_fini), the old block hash and
 * message id. Returns 0, -IST_ERANGE (genesis, not final, above the head),
 * -IST_ENOTFOUND (the block has no message), with `why`; -IST_EDB*. */
int ist_dc_rewrite_finalized(struct ist_dc *c, uint64_t height, struct ist_dc_block *ret_block,
			     uint8_t ret_old_hash[IST_HASH_BYTES], uint8_t ret_old_id[IST_HASH_BYTES], char *why,
			     size_t whylen) IST_WUR;

/* ---- epochs: the validator sets the inbox trusts ----
 *
 * The chain trusts one current epoch (the last set it accepted: its first
 * set, then each hand-over in turn) and, for grace_blocks blocks after the
 * hand-over to it, the previous one: a delivery certified by the previous
 * set just before the change is still accepted for a while. Counted in
 * blocks of this chain rather than wall time: the chain's own height is
 * what a real destination (a contract) can see, it is the same for every
 * observer, and it does not run on while the chain is stopped. Every
 * accepted set is recorded in the database (table `epochs`) with the head
 * height at its acceptance, so a restart keeps them and the grace. */
struct ist_dc_epochs {
	bool has_trust;               /* false: no set; nothing below is meaningful */
	uint64_t current;             /* the current epoch */
	uint64_t first;               /* the first epoch trusted (the --trust set's) */
	uint64_t since;               /* the head height when current was accepted */
	bool previous;                /* current - 1 is still accepted (within the grace) */
	uint64_t grace_until;         /* the head height from which current - 1 is refused
				       * (since + grace; meaningful when current > first) */
	uint64_t grace_blocks;
	uint64_t head;                /* the head height of this view */
	uint64_t total_stake;         /* of the current set */
	size_t n_validators;          /* of the current set */
};

/* Returns 0 or -IST_EDB*. */
int ist_dc_epochs_get(struct ist_dc *c, struct ist_dc_epochs *ret) IST_WUR;

enum ist_dc_handover_outcome {
	IST_DC_HANDOVER_ACCEPTED = 0, /* the incoming set is now the current one */
	IST_DC_HANDOVER_ALREADY,      /* that very set is trusted for its epoch already */
	IST_DC_HANDOVER_REFUSED,      /* result.reason says which check failed */
	IST_DC_HANDOVER_NO_TRUST,     /* the chain trusts no set to follow from */
	IST_DC_HANDOVER_CONFLICT,     /* the epoch is known with another set, or is
				       * before the first trusted one (why says) */
};

/* Follows a hand-over (h: parsed, has_handover and has_certificate):
 * ist_verify_handover against the current set with the accepted schemes,
 * then, in one write transaction, records the incoming set with the head
 * height. Serialised with every other write. Out: *ret_outcome,
 * *ret_result (the verification), why (whylen bytes: a sentence for
 * ALREADY and CONFLICT), *ret_since (ACCEPTED, ALREADY: the head height
 * when the set was accepted). Returns 0 (look at *ret_outcome),
 * -IST_EINVAL (no hand-over or no certificate in h), -IST_EDB*,
 * -IST_ENOMEM. Counts the outcome in the metrics. */
int ist_dc_handover(struct ist_dc *c, const struct ist_handover *h, enum ist_dc_handover_outcome *ret_outcome,
		    struct ist_verify_result *ret_result, uint64_t *ret_since, char *why, size_t whylen) IST_WUR;

/* Short name of a hand-over outcome for metrics and HTTP ("no-validator-set",
 * "handover-conflict", or the verification reason). */
const char *ist_dc_handover_outcome_name(enum ist_dc_handover_outcome o, const struct ist_verify_result *res);

/* Counts a hand-over refusal that never reached ist_dc_handover (a body
 * that does not parse, a document without a certificate). */
void ist_dc_count_handover_rejection(struct ist_dc *c, const char *reason);

/* Why a delivery was refused. */
enum ist_dc_refusal {
	IST_DC_DELIVERED = 0,
	IST_DC_REFUSED_VERIFY,        /* result.reason says which check (or
				       * unknown-epoch, epoch-expired: the certificate's
				       * epoch is not one the chain accepts now) */
	IST_DC_REFUSED_NO_TRUST,      /* the chain trusts no set */
	IST_DC_REFUSED_REPLAY,        /* (src_chain, nonce) delivered before: *ret_entry */
};

/* Verifies `d` against the trusted set of its certificate's epoch
 * (state/verify.h): the current epoch, or the previous one within the
 * grace; any other epoch is refused (unknown-epoch: never trusted, or not
 * yet handed over; epoch-expired: trusted once, no longer accepted). Then
 * records it in the inbox in the same write transaction that checks for
 * replay and checks the epoch again (a hand-over or a block may have come
 * in between).
 * Out: *ret_refusal, *ret_result (the verification), *ret_entry (the
 * recorded entry, or the earlier one on replay). Returns 0 (look at
 * *ret_refusal) or -IST_EDB*. Counts the outcome in the metrics. */
int ist_dc_deliver(struct ist_dc *c, const struct ist_delivery *d, enum ist_dc_refusal *ret_refusal,
		   struct ist_verify_result *ret_result, struct ist_dc_inbox_entry *ret_entry) IST_WUR;

/* Short name of a refusal for metrics and HTTP ("replay", "no-validator-set",
 * or the verification reason). */
const char *ist_dc_refusal_name(enum ist_dc_refusal r, const struct ist_verify_result *res);

/* Counts an inbox rejection that never reached ist_dc_deliver (a malformed
 * body: reason "malformed"). */
void ist_dc_count_rejection(struct ist_dc *c, const char *reason);

/* The block hash of the layout above. */
void ist_dc_block_hash(uint64_t chain_id, uint64_t height, const uint8_t parent32[IST_HASH_BYTES],
		       uint64_t timestamp_ms, const uint8_t (*ids)[IST_HASH_BYTES], size_t n,
		       uint8_t ret_hash32[IST_HASH_BYTES]);

#endif
