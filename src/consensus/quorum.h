/*
 * Quorums: stake-weighted thresholds, verification of quorum and timeout
 * certificates against an epoch's set, and the pools that aggregate votes
 * and timeouts into them.
 *
 * A QC or TC needs signers holding MORE than 2/3 of the epoch's stake,
 * checked as 3 * signed > 2 * total in 128-bit arithmetic (no rounding, no
 * overflow whatever the stakes). Joining a later view's timeouts needs more
 * than 1/3 (3 * signed > total): at least one honest validator among them
 * when the faulty hold less than 1/3.
 */
#ifndef IST_CONSENSUS_QUORUM_H
#define IST_CONSENSUS_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "consensus/consensus.h"
#include "wire/types.h"

/* ---- Thresholds ---- */

/* True when `stake` is more than 2/3 of e->total. */
bool ist_cons_quorum_reached(const struct ist_cons_epoch *e, uint64_t stake) IST_WUR;
/* True when `stake` is more than 1/3 of e->total. */
bool ist_cons_quorum_weak(const struct ist_cons_epoch *e, uint64_t stake) IST_WUR;

/* The stake of the set bits of `bitmap`. Out: *ret_stake. Returns false
 * when a bit at or above e->n is set (the bitmap names no such validator). */
bool ist_cons_quorum_bitmap_stake(const struct ist_cons_epoch *e, const uint8_t bitmap[IST_WIRE_BITMAP_BYTES],
				  uint64_t *ret_stake) IST_WUR;

/* ---- Signature checks ---- */

/* What the verifications need: the network id (bound into every signed
 * layout), the optional cache and a counter of real verifications. */
struct ist_cons_verifier {
	uint64_t network_id;
	const struct ist_cons_sigcache *cache;
	uint64_t verifications;
};

/* Ed25519 verification through the cache (see struct ist_cons_sigcache). */
bool ist_cons_sig_verify(struct ist_cons_verifier *v, const uint8_t pub32[IST_ED25519_PUBKEY_BYTES],
			 const uint8_t *msg, size_t len, const uint8_t sig64[IST_SIG_BYTES]) IST_WUR;

/*
 * True when `qc` certifies its (epoch, view, block_id) in epoch `e`:
 * qc->epoch == e->number; for view 0, it is the epoch's genesis QC exactly
 * (block_id == e->root_id, no signer); otherwise the bitmap names only
 * members, n_sigs equals its count, the signers hold more than 2/3 of the
 * stake, and every signature verifies over the vote signing bytes.
 */
bool ist_cons_qc_verify(struct ist_cons_verifier *v, const struct ist_cons_epoch *e,
			const struct ist_qc *qc) IST_WUR;

/*
 * True when `tc`'s own signatures certify (epoch, view) in `e`: view >= 1,
 * the bitmap and stake as for a QC, every reported QC view below the TC's
 * view, tc->high_qc.view equal to the highest reported one and
 * tc->high_qc.epoch == e->number, and every signature verifies over the
 * timeout signing bytes with its reported QC view. tc->high_qc's own
 * signatures are NOT checked here: pass it to ist_cons_qc_verify.
 */
bool ist_cons_tc_verify(struct ist_cons_verifier *v, const struct ist_cons_epoch *e,
			const struct ist_tc *tc) IST_WUR;

/* ---- Pools ---- */

enum ist_cons_pool_result {
	IST_CONS_POOL_ADDED = 0,     /* kept; no certificate yet */
	IST_CONS_POOL_CERT,          /* kept, and it completed a certificate (written out) */
	IST_CONS_POOL_DUPLICATE,     /* the same message again (ignored) */
	IST_CONS_POOL_EQUIVOCATION,  /* the signer already signed something else (ignored) */
	IST_CONS_POOL_DONE,          /* kept nothing: the certificate was already formed */
};

/*
 * The votes of one view, from verified messages. A QC is formed once, for
 * the first block whose voters reach the threshold; it lists every vote for
 * that block received so far, in validator order.
 */
struct ist_cons_vote_pool {
	uint64_t view;
	uint32_t n;
	bool done;
	uint8_t has[IST_WIRE_BITMAP_BYTES];
	uint8_t (*block)[IST_HASH_BYTES];   /* n entries */
	uint8_t (*sig)[IST_SIG_BYTES];      /* n entries */
};

/* Returns 0 or -IST_ENOMEM. _fini accepts a zeroed pool. */
int ist_cons_vote_pool_init(struct ist_cons_vote_pool *p, uint32_t n, uint64_t view) IST_WUR;
void ist_cons_vote_pool_fini(struct ist_cons_vote_pool *p);

/* The pool's view of the voter: DUPLICATE when the voter already voted the
 * same way (same block and signature), EQUIVOCATION when it voted for
 * another block, ADDED when new. Read-only: lets the caller skip the
 * signature check of a duplicate. */
enum ist_cons_pool_result ist_cons_vote_pool_peek(const struct ist_cons_vote_pool *p, const struct ist_vote *vote);

/* Adds a verified vote of epoch e (vote->voter < p->n). On CERT, *ret_qc
 * holds the new QC (caller's memory, about 16 KiB). */
enum ist_cons_pool_result ist_cons_vote_pool_add(struct ist_cons_vote_pool *p, const struct ist_cons_epoch *e,
						 const struct ist_vote *vote, struct ist_qc *ret_qc);

/*
 * The timeouts of one view, from verified messages: per signer its reported
 * QC view and signature, and one copy of each distinct QC reported (so that
 * every timeout can be rebuilt to be forwarded, and the TC can carry the
 * highest).
 */
struct ist_cons_timeout_pool {
	uint64_t view;
	uint32_t n;
	bool done;
	uint64_t stake;
	uint8_t has[IST_WIRE_BITMAP_BYTES];
	uint64_t *hqc_view;                 /* n entries */
	uint8_t (*sig)[IST_SIG_BYTES];      /* n entries */
	struct ist_qc **qcs;                /* distinct reported QCs, by view; n slots */
	size_t n_qcs;
};

int ist_cons_timeout_pool_init(struct ist_cons_timeout_pool *p, uint32_t n, uint64_t view) IST_WUR;
void ist_cons_timeout_pool_fini(struct ist_cons_timeout_pool *p);

enum ist_cons_pool_result ist_cons_timeout_pool_peek(const struct ist_cons_timeout_pool *p,
						     const struct ist_timeout *t);

/*
 * Adds a verified timeout (its signature and its high_qc checked). Keeps a
 * copy of its QC when no kept QC has that view. On CERT, *ret_tc holds the
 * new TC (caller's memory, about 35 KiB). Unlike votes, timeouts are still
 * kept after the TC (DONE is not returned) so they can be forwarded.
 * Returns -IST_ENOMEM as a negative value when the QC copy fails.
 */
int ist_cons_timeout_pool_add(struct ist_cons_timeout_pool *p, const struct ist_cons_epoch *e,
			      const struct ist_timeout *t, struct ist_tc *ret_tc) IST_WUR;

/* True when the signers of the pool hold more than 1/3 of the stake. */
bool ist_cons_timeout_pool_weak(const struct ist_cons_timeout_pool *p, const struct ist_cons_epoch *e) IST_WUR;

/* Rebuilds the timeout of `voter` as it was received (for forwarding).
 * Returns false when the pool has none from that voter. */
bool ist_cons_timeout_pool_get(const struct ist_cons_timeout_pool *p, uint64_t epoch, uint32_t voter,
			       struct ist_timeout *ret) IST_WUR;

#endif
