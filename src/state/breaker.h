/*
 * Automatic circuit breakers (docs/protocol.md, "Circuit breakers"): the
 * ledger pauses a source chain by itself when validators holding more than
 * 1/3 of the stake say that chain broke its finality. Pure, like the rest
 * of the ledger (state/ledger.h), which owns one and calls it.
 *
 * Rules:
 *  - A finality report (state/evidence.h, kind 3) counts for chain C when
 *    it verifies (network, signature), its reporter is in the current set,
 *    the reporter has no report counted for C yet (one per chain per
 *    validator), and its source height is above the height governance last
 *    resumed C from (see below). Otherwise it is refused with a reason
 *    (recorded, like refused evidence). Reports still count once C's
 *    breaker tripped: the tally then says who else saw the violation, and
 *    a resume makes all of them stale (validators meet one rewrite at
 *    different heights: each at the height its watcher had reached).
 *  - Accepted conflicting-checkpoints evidence (state/evidence.h, kind 2)
 *    for source chain C counts its offender for C, with its stake in the
 *    set of the offence's epoch.
 *  - After every block (ist_breaker_step), for each chain not tripped:
 *    when the validators of the current set with a counted report hold
 *    MORE than 1/3 of its stake (3 * reported > total), or the offenders
 *    of one epoch held more than 1/3 of that epoch's stake, the breaker
 *    trips: the chain is paused exactly as by governance
 *    (ist_gov_breaker_trip), and the trip is recorded (height, reason,
 *    who). Reports are tallied against the set at the time of the tally,
 *    so a set change can trip it; a reporter that left the set counts
 *    nothing.
 *  - A governance resume_chain of C that passes in a block clears C's
 *    breaker and tally at the end of that block (before the trips are
 *    evaluated): reports at source heights up to the highest one cleared
 *    are stale from then on, so the reports of the violation governance
 *    resumed from do not trip it again; a violation above it does. (A
 *    validator whose report of the old violation lands only after the
 *    resume, above every counted one, counts again: governance should
 *    resume once the reports have settled.)
 */
#ifndef IST_STATE_BREAKER_H
#define IST_STATE_BREAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/macro.h"
#include "state/gov.h"
#include "wire/types.h"

/* Chains with a tally at once (a network has at most 64 chains). */
#define IST_BREAKER_MAX_CHAINS 64

enum ist_breaker_reason {
	IST_BREAKER_NONE = 0,
	IST_BREAKER_FINALITY_VIOLATION = 1,
	IST_BREAKER_CONFLICTING_CHECKPOINTS = 2,
};
/* "finality_violation", "conflicting_checkpoints"; "none". */
const char *ist_breaker_reason_name(enum ist_breaker_reason r);

struct ist_breaker_report {
	uint8_t validator[32];       /* the reporter's node key */
	uint64_t source_height;      /* the rewritten height it saw */
	uint64_t height;             /* the block that carried it */
};

struct ist_breaker_offender {
	uint8_t validator[32];       /* node key */
	uint64_t epoch;              /* of the offence */
	uint64_t stake, total;       /* its stake in that epoch's set, and the set's total */
};

struct ist_breaker_chain {
	uint64_t chain;
	bool tripped;
	uint64_t tripped_at;         /* the height it tripped at (when tripped) */
	enum ist_breaker_reason reason;
	bool has_resumed;
	uint64_t resumed_below;      /* reports at source heights <= this are stale (has_resumed) */
	uint16_t n_reports;
	struct ist_breaker_report reports[IST_WIRE_MAX_VALIDATORS];
	uint16_t n_offenders;
	struct ist_breaker_offender offenders[IST_WIRE_MAX_VALIDATORS];
};

struct ist_breaker;

struct ist_breaker *ist_breaker_new(void);
void ist_breaker_free(struct ist_breaker *b);

/* Whether validator `reporter` may report a finality violation of `chain`
 * at source height `source_height` now (the rules above, the signature
 * aside: state/evidence.h checks it). Returns 0 or -IST_EINVAL with the
 * reason in why. */
int ist_breaker_report_check(const struct ist_breaker *b, const struct ist_gov_set *set, uint64_t chain,
			     const uint8_t reporter[32], uint64_t source_height, char *why, size_t why_len) IST_WUR;
/* Counts a report ist_breaker_report_check accepted, carried by block
 * `height`. Returns 0 or -IST_ENOMEM. */
int ist_breaker_report_add(struct ist_breaker *b, uint64_t chain, const uint8_t reporter[32],
			   uint64_t source_height, uint64_t height) IST_WUR;
/* Counts the offender of accepted conflicting-checkpoints evidence for
 * source chain `chain` (its stake in the offence epoch's set, and that
 * set's total). A tripped chain, or one whose table is full, ignores it.
 * Returns 0 or -IST_ENOMEM. */
int ist_breaker_offence(struct ist_breaker *b, uint64_t chain, const uint8_t offender[32], uint64_t epoch,
			uint64_t stake, uint64_t total) IST_WUR;
/* After block `height` (and after ist_gov_step): clears the chains
 * governance resumed in it, then trips those whose tally is over 1/3,
 * pausing them in `g`. */
void ist_breaker_step(struct ist_breaker *b, struct ist_gov *g, uint64_t height, const struct ist_gov_set *set);

/* ---- reading ---- */
size_t ist_breaker_n_chains(const struct ist_breaker *b);
const struct ist_breaker_chain *ist_breaker_chain_at(const struct ist_breaker *b, size_t i);   /* by chain id */
const struct ist_breaker_chain *ist_breaker_chain_get(const struct ist_breaker *b, uint64_t chain);
/* Appends the JSON array of GET /v1/gov's "breakers" (docs/api.md): the
 * chains that tripped or have a tally, by chain id. */
void ist_breaker_json(const struct ist_breaker *b, struct ist_buf *out);

/* ---- persistence (one record) ---- */
bool ist_breaker_dirty(const struct ist_breaker *b);
void ist_breaker_clean(struct ist_breaker *b);
void ist_breaker_encode(const struct ist_breaker *b, struct ist_buf *out);
/* Returns 0, -IST_EDB_CORRUPT or -IST_ENOMEM (nothing changed). */
int ist_breaker_decode(struct ist_breaker *b, const uint8_t *p, size_t len) IST_WUR;

#endif
