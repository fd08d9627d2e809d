/*
 * The simulated chain of isthmus-devchain (docs/devchain.md): an outbox that
 * numbers messages per route and puts them in blocks, finality by depth,
 * injected reorgs and finality violations, and an inbox that takes verified
 * deliveries once.
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

struct ist_dc_options {
	const char *data_dir;         /* created (0700) if missing */
	uint64_t chain_id;            /* >= 1; recorded at creation, checked after */
	uint64_t block_ms;            /* IST_DC_MIN_BLOCK_MS..IST_DC_MAX_BLOCK_MS */
	uint64_t finality_depth;      /* 0..IST_DC_MAX_FINALITY_DEPTH */
	const struct ist_valset *trust;  /* the inbox's validator set (copied), or NULL */
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
 * (a newer layout), -IST_EDB_CORRUPT, -IST_EDB, -IST_EPERM, -IST_EIO, -IST_ENOMEM.
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
bool ist_dc_has_trust(const struct ist_dc *c);

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

/* Why a delivery was refused. */
enum ist_dc_refusal {
	IST_DC_DELIVERED = 0,
	IST_DC_REFUSED_VERIFY,        /* result.reason says which check */
	IST_DC_REFUSED_NO_TRUST,      /* started without --trust */
	IST_DC_REFUSED_REPLAY,        /* (src_chain, nonce) delivered before: *ret_entry */
};

/* Verifies `d` against the trusted set (state/verify.h) and records it in
 * the inbox in the same write transaction that checks for replay.
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
