/*
 * The safety rules of the core, apart from the pacemaker (liveness) and from
 * everything that checks signatures: what this validator may sign, and when
 * a block becomes final. Plain functions over a small state that is
 * persisted (PERSIST action) before any vote, timeout or proposal made under
 * it leaves the node. docs/protocol/consensus.md gives the safety argument.
 *
 * Jolteon keeps no separate "locked QC": the lock is the highest QC. A vote
 * for a block raises high_qc to at least the block's justify before the vote
 * is signed, and every timeout carries high_qc, so the QCs that a TC reports
 * are never below what an honest voter was locked on.
 */
#ifndef IST_CONSENSUS_SAFETY_H
#define IST_CONSENSUS_SAFETY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "wire/types.h"

/* The version byte that starts the persisted encoding. */
#define IST_CONS_SAFETY_VERSION 1
/* Largest encoding: header, then a QC with 256 signatures. */
#define IST_CONS_SAFETY_MAX_BYTES (1 + 4 * 8 + 8 + 8 + IST_HASH_BYTES + IST_WIRE_BITMAP_BYTES + 2 + \
				   IST_WIRE_MAX_VALIDATORS * IST_SIG_BYTES)

struct ist_cons_safety {
	uint64_t epoch;
	/* No vote and no proposal in a view at or below this. Raised by a vote,
	 * a proposal and a timeout (a view that timed out gets no vote: the
	 * TC's QCs could miss it). */
	uint64_t last_voted_view;
	/* The last timeout signed: its view (0: none) and the QC view it
	 * carried. At most one timeout per view. */
	uint64_t last_timeout_view;
	uint64_t last_timeout_hqc_view;
	/* The highest QC known when the state was last changed (heap part of the
	 * core, about 16 KiB). */
	struct ist_qc high_qc;
};

/* A fresh state of `epoch`: nothing signed, high_qc = the epoch's genesis QC. */
void ist_cons_safety_init(struct ist_cons_safety *s, uint64_t epoch, const struct ist_qc *genesis_qc);

/*
 * May this validator vote for a block of `view` whose justify QC has view
 * `justify_view`, proposed with a TC for view tc_view (has_tc) whose highest
 * reported QC view is tc_hqc_view? True iff
 *   view > last_voted_view, justify_view < view, and
 *   justify_view + 1 == view (the parent is certified in the previous view),
 *   or has_tc, tc_view + 1 == view and justify_view >= tc_hqc_view (the
 *   block extends the highest QC any of the TC's signers had).
 */
bool ist_cons_safety_vote_ok(const struct ist_cons_safety *s, uint64_t view, uint64_t justify_view,
			     bool has_tc, uint64_t tc_view, uint64_t tc_hqc_view) IST_WUR;

/* Records a vote (or own proposal) in `view`: last_voted_view = view.
 * Requires ist_cons_safety_vote_ok, and justify_view <= high_qc.view (the
 * caller raised high_qc first). */
void ist_cons_safety_vote_record(struct ist_cons_safety *s, uint64_t view, uint64_t justify_view);

/*
 * May this validator sign a timeout for `view` carrying its high_qc? True
 * when it has not voted in a higher view and either never timed out in
 * `view` (view > last_timeout_view) or did so with the same QC view (the
 * same bytes again: Ed25519 is deterministic).
 */
bool ist_cons_safety_timeout_ok(const struct ist_cons_safety *s, uint64_t view) IST_WUR;

/* Records a timeout for `view` with high_qc: no vote in `view` afterwards. */
void ist_cons_safety_timeout_record(struct ist_cons_safety *s, uint64_t view);

/* Raises high_qc to `qc` when qc->view is higher (the caller verified qc).
 * Returns true when it changed. */
bool ist_cons_safety_qc_update(struct ist_cons_safety *s, const struct ist_qc *qc);

/*
 * The two-chain commit rule: a QC for a block of view `view` whose justify
 * (a QC for its parent, same epoch) has view `justify_view` makes the parent
 * final iff the views are consecutive.
 */
bool ist_cons_safety_commits(uint64_t view, uint64_t justify_view) IST_WUR;

/*
 * The persisted encoding (docs/protocol/consensus.md, "Safety state"):
 *
 *   u8   version (1)
 *   be64 epoch, last_voted_view, last_timeout_view, last_timeout_hqc_view
 *   be64 high_qc.epoch, high_qc.view
 *   [32] high_qc.block_id
 *   [32] high_qc.signers
 *   be16 n_sigs, then n_sigs * 64 signature bytes
 *
 * _encode: Returns 0 and *ret_buf (malloc'd, caller frees), *ret_len; or
 * -IST_ENOMEM.
 * _decode: strict (exact length, signature count equal to the bitmap's).
 * Returns 0 and *ret, or -IST_EUNSUPPORTED (version), -IST_EPARSE.
 */
int ist_cons_safety_encode(const struct ist_cons_safety *s, uint8_t **ret_buf, size_t *ret_len) IST_WUR;
int ist_cons_safety_decode(const uint8_t *buf, size_t len, struct ist_cons_safety *ret) IST_WUR;

#endif
