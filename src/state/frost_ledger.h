/*
 * The ledger's FROST state (docs/frost.md, "In the node"): distributed key
 * generation runs, nonce commitments and signing jobs, all of it a
 * function of the committed chain, as the rest of the ledger
 * (state/ledger.h). Pure: no I/O, clock, randomness or logging.
 *
 * Rules, in short (W = dkg_round_blocks, R = sign_timeout_blocks):
 *
 *  - A DKG run has a target epoch and the participants of that epoch's
 *    set (identifier = index + 1, t = floor(2n/3) + 1). It starts at a
 *    height S. Round 1 accepts round-1 packages until every participant
 *    has one, or until S + W - 1; then round 2 (round-2 packages of the
 *    dealers accepted in round 1) for at most W blocks, then round 3
 *    (each participant's complaints, an empty list meaning "all my shares
 *    check") for at most W blocks. The run finalizes at the block where
 *    every participant still in has posted round 3, or at the round-3
 *    deadline: Q = accepted dealers with a checked round-2 package and no
 *    upheld complaint; |Q| >= t gives the group key, otherwise the run
 *    fails.
 *  - Items are signed by the participant's node key (Ed25519) over
 *    "isthmus/frost-item/v1" || network_id || the item without its
 *    signature; a participant's first valid item of a round counts, later
 *    ones are ignored.
 *  - Nonce commitments: a member of an epoch with a group key publishes
 *    batches (epoch, member, first sequence number, pairs (D, E)); a batch
 *    must start at the member's next sequence number. Unused commitments
 *    queue per member.
 *  - A signing job is made for every block of an epoch with a group key
 *    that has checkpoints or ends its epoch: its digest is the attestation
 *    digest of the block's batch root. Its signers: t qualified members
 *    with an unused commitment, ordered by SHA-256(digest || attempt ||
 *    identifier); each gives its oldest commitment, which is used up
 *    whether or not it signs. An attempt that has no certificate item
 *    after R blocks is replaced by the next (attempt + 1, new signers and
 *    nonces); after IST_FL_MAX_ATTEMPTS attempts the job is dropped.
 *  - A certificate item (epoch, height, 64-byte signature) that verifies
 *    under the epoch's group key for a pending job completes it.
 *  - A report (IST_FL_SHARES: epoch, height, attempt, then signed shares)
 *    tells which chosen signers answered the current attempt: each share's
 *    signature is checked with its member's node key, then the share with
 *    the FROST share check. A checked share clears the member's absence; a
 *    signed share that fails its check marks the member bad for the epoch
 *    (the report is the evidence). When an attempt times out, its signers
 *    without a checked share are marked absent; the next attempt chooses
 *    members neither bad nor absent first.
 */
#ifndef IST_STATE_FROST_LEDGER_H
#define IST_STATE_FROST_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/macro.h"
#include "crypto/dkg.h"
#include "crypto/frost.h"
#include "crypto/hash.h"

#define IST_FL_ITEM_DOMAIN "isthmus/frost-item/v1"
#define IST_FL_MAX_ATTEMPTS 8
#define IST_FL_MAX_BATCH 64          /* nonce commitments per item */
#define IST_FL_MAX_QUEUE 256         /* unused commitments kept per member */
#define IST_FL_MAX_JOBS 4096

/* DKG item types (first byte of an IST_PAYLOAD_DKG item). */
enum ist_fl_item {
	IST_FL_ROUND1 = 1,
	IST_FL_ROUND2 = 2,
	IST_FL_ROUND3 = 3,       /* complaints (possibly none) */
	IST_FL_CERT = 4,         /* a FROST certificate for a signing job */
	IST_FL_SHARES = 5,       /* signed signature shares of a job's attempt (a report) */
};

/* A signature share, signed by its member's node key over
 * ist_fl_item_signed_bytes of: 6 || epoch || height || attempt || id || z. */
#define IST_FL_SHARE_TAG 6
void ist_fl_share_signed_bytes(uint64_t network_id, uint64_t epoch, uint64_t height, uint32_t attempt, uint16_t id,
			       const uint8_t z[32], struct ist_buf *ret);

/* A DKG run. Heap parts: r1[i], r2[i]. */
struct ist_fl_dkg {
	uint64_t epoch;                    /* the target epoch */
	bool handover;                     /* for the next epoch (its set is pending) */
	uint64_t start;                    /* first height of round 1 */
	uint8_t round;                     /* 1, 2, 3 */
	uint64_t round_end;                /* the current round's last height */
	uint16_t n, t;
	uint8_t node_keys[IST_DKG_MAX_PARTICIPANTS][32];
	uint8_t enc_keys[IST_DKG_MAX_PARTICIPANTS][32];
	struct ist_dkg_round1 *r1[IST_DKG_MAX_PARTICIPANTS];
	struct ist_dkg_round2 *r2[IST_DKG_MAX_PARTICIPANTS];
	bool accepted[IST_DKG_MAX_PARTICIPANTS];   /* round 1 accepted (fixed when round 2 starts) */
	bool r3[IST_DKG_MAX_PARTICIPANTS];         /* posted round 3 */
	bool disq[IST_DKG_MAX_PARTICIPANTS];       /* no round 2, or an upheld complaint */
	uint32_t false_complaints;                 /* complaints judged the complainer's fault */
};

/* The result of a run: the group, with every member's verification share. */
struct ist_fl_group {
	uint64_t epoch;
	uint16_t n, t;
	bool qualified[IST_DKG_MAX_PARTICIPANTS];
	uint8_t group_key[32];
	uint8_t node_keys[IST_DKG_MAX_PARTICIPANTS][32];   /* who signs nonce items */
	uint8_t pubshares[IST_DKG_MAX_PARTICIPANTS][32];
	/* signing record of the epoch: a member that let an attempt time out
	 * without a share is absent (chosen last) until a report shows a share
	 * of it; one whose signed share did not check is bad (never chosen) */
	bool absent[IST_DKG_MAX_PARTICIPANTS];
	bool bad[IST_DKG_MAX_PARTICIPANTS];
	uint32_t bad_shares;
};

struct ist_fl_nonce {
	uint32_t seq;
	struct ist_frost_commitment c;     /* identifier, hiding D, binding E */
};

struct ist_fl_job {
	uint64_t epoch, height;
	uint8_t digest[IST_HASH_BYTES];
	uint32_t attempt;
	uint64_t assigned;                 /* height the signers were chosen at; 0: none yet */
	uint16_t n_signers;
	struct ist_fl_nonce signers[IST_DKG_MAX_PARTICIPANTS];   /* sorted by identifier */
	bool got[IST_DKG_MAX_PARTICIPANTS];  /* by position in signers: a report showed its share */
};

struct ist_fl;

struct ist_fl *ist_fl_new(uint64_t network_id, uint32_t round_blocks, uint32_t sign_timeout_blocks);
void ist_fl_free(struct ist_fl *f);

/* ---- driven by the ledger ---- */

/* Starts a run for `epoch` with `n` participants (node keys, X25519 keys)
 * at height `start`, replacing any run. n > IST_DKG_MAX_PARTICIPANTS or a
 * participant without a valid DKG key: returns -IST_ERANGE, no run. */
int ist_fl_dkg_start(struct ist_fl *f, uint64_t epoch, bool handover, uint64_t start, uint16_t n,
		     const uint8_t (*node_keys)[32], const uint8_t (*enc_keys)[32]) IST_WUR;

/* Applies one DKG-kind or nonce-commitment item at `height` (invalid
 * items are ignored; *ret_why says why, for receipts and logs). Returns 0
 * or -IST_ENOMEM. */
int ist_fl_apply_item(struct ist_fl *f, bool nonce_kind, const uint8_t *p, size_t len, uint64_t height,
		      const char **ret_why) IST_WUR;

/* Ends the run, if any, without a result. */
void ist_fl_dkg_abort(struct ist_fl *f);

enum ist_fl_step {
	IST_FL_IDLE = 0,        /* no run */
	IST_FL_RUNNING,
	IST_FL_DONE,            /* the run finalized: *ret_group */
	IST_FL_FAILED,          /* fewer than t qualified: the run is over */
};
/* A cheap admission check for an item a peer hands over (before it
 * enters the mempool): a DKG round item from a participant of the running
 * run with its signature, a nonce batch from a qualified member of a known
 * group with its signature, a certificate or report of the right length.
 * The ledger still judges it at commit. */
bool ist_fl_item_plausible(const struct ist_fl *f, bool nonce_kind, const uint8_t *p, size_t len) IST_WUR;

/* After the items of block `height`: advances rounds and finalizes. */
enum ist_fl_step ist_fl_dkg_step(struct ist_fl *f, uint64_t height, struct ist_fl_group *ret_group);

/* Installs a group (a finalized run's, or one loaded back). */
int ist_fl_group_set(struct ist_fl *f, const struct ist_fl_group *g) IST_WUR;
const struct ist_fl_group *ist_fl_group_get(const struct ist_fl *f, uint64_t epoch);
/* Forgets groups, nonces and jobs of epochs below `epoch`. */
void ist_fl_prune(struct ist_fl *f, uint64_t epoch);

/* A block of `epoch` (with a group) at `height` needs a certificate over
 * `digest`. */
int ist_fl_job_add(struct ist_fl *f, uint64_t epoch, uint64_t height, const uint8_t digest[IST_HASH_BYTES]) IST_WUR;
/* After block `height`: chooses signers for jobs without, and replaces
 * timed-out attempts. */
void ist_fl_jobs_step(struct ist_fl *f, uint64_t height);

/* ---- reading ---- */
const struct ist_fl_dkg *ist_fl_dkg_get(const struct ist_fl *f);   /* NULL: no run */
size_t ist_fl_n_jobs(const struct ist_fl *f);
const struct ist_fl_job *ist_fl_job_at(const struct ist_fl *f, size_t i);
/* Unused commitments of member `id` of `epoch`, and the sequence number
 * its next batch must start at. */
void ist_fl_nonces(const struct ist_fl *f, uint64_t epoch, uint16_t id, size_t *ret_unused, uint32_t *ret_next_seq);
/* The first identifier (1-based) of node key `key` in the run, 0 if none. */
uint16_t ist_fl_dkg_id(const struct ist_fl_dkg *d, const uint8_t key[32]);
/* The same in a group. */
uint16_t ist_fl_group_id(const struct ist_fl_group *g, const uint8_t key[32]);
/* The signing session of a job's current attempt: its signers'
 * commitments under the group key, bound to its digest. Out: *ret (free
 * with ist_frost_session_free). Returns 0 or the error of
 * ist_frost_session_new / _bind (-IST_ENOMEM among them). */
int ist_fl_job_session(const struct ist_fl_job *j, const struct ist_fl_group *g, struct ist_frost_session **ret) IST_WUR;
bool ist_fl_dirty(const struct ist_fl *f);

/* ---- persistence (one record) ---- */
void ist_fl_encode(const struct ist_fl *f, struct ist_buf *b);
int ist_fl_decode(struct ist_fl *f, const uint8_t *p, size_t len) IST_WUR;
void ist_fl_clean(struct ist_fl *f);

/* ---- items (for the node that makes them) ---- */

/* The bytes an item's signature covers: domain || network_id || item
 * without the signature. Out: *ret (ist_buf). */
void ist_fl_item_signed_bytes(uint64_t network_id, const uint8_t *item, size_t len_wo_sig, struct ist_buf *ret);
/* Header of a signed DKG item: type || epoch || sender. */
void ist_fl_item_head(struct ist_buf *b, enum ist_fl_item type, uint64_t epoch, uint16_t sender);
/* A nonce item's head: epoch || member || first seq || count. */
void ist_fl_nonce_head(struct ist_buf *b, uint64_t epoch, uint16_t member, uint32_t first_seq, uint16_t count);
/* Parses a certificate item: epoch, height, signature. */
bool ist_fl_cert_item_parse(const uint8_t *p, size_t len, uint64_t *ret_epoch, uint64_t *ret_height,
			    uint8_t ret_sig64[64]) IST_WUR;
void ist_fl_cert_item(struct ist_buf *b, uint64_t epoch, uint64_t height, const uint8_t sig64[64]);

#endif
