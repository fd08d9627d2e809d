/*
 * Governance in the ledger (docs/protocol.md, "Governance"): proposals,
 * votes by stake, and what passed proposals change (for now: pausing and
 * resuming a source chain or a route, the circuit breakers). Pure, like
 * the rest of the ledger (state/ledger.h), which owns one and calls it.
 *
 * Rules:
 *  - gov_propose{action, chain | src, dst, voting_blocks}: the sender is the
 *    operator of a validator of the current set; voting_blocks 1..100000;
 *    a chain id >= 1, a route between two different chains; at most
 *    IST_GOV_MAX_OPEN proposals open. The proposal gets the next number
 *    (from 1), the proposer's vote counts as yes, and it closes at height
 *    created + voting_blocks.
 *  - gov_vote{proposal, approve}: the sender operates a validator of the
 *    current set; the proposal is open; a later vote of the same validator
 *    replaces its earlier one.
 *  - A proposal passes at the first block where the validators of the
 *    current set that voted yes hold MORE than 2/3 of its stake (3 * yes >
 *    2 * total); its action takes effect in that block. One that has not
 *    passed when it closes is rejected.
 *  - A paused chain gets no new checkpoint on any route from or to it; a
 *    paused route none on that route; everything else goes on. Resuming
 *    undoes it (pausing twice, or resuming what is not paused, changes
 *    nothing).
 */
#ifndef IST_STATE_GOV_H
#define IST_STATE_GOV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/macro.h"
#include "wire/types.h"

#define IST_GOV_MAX_OPEN 64
#define IST_GOV_MAX_KEPT 256          /* proposals kept (closed ones drop out oldest first) */
#define IST_GOV_MAX_VOTING_BLOCKS 100000
#define IST_GOV_MAX_PAUSED 256

enum ist_gov_status {
	IST_GOV_OPEN = 1,
	IST_GOV_PASSED = 2,
	IST_GOV_REJECTED = 3,
};
const char *ist_gov_status_name(enum ist_gov_status s);
/* "pause_chain", "resume_chain", "pause_route", "resume_route"; "unknown". */
const char *ist_gov_action_name(uint32_t action);

struct ist_gov_vote {
	uint8_t validator[32];       /* node key */
	bool approve;
};

struct ist_gov_proposal {
	uint64_t id;
	uint8_t proposer[32];        /* the proposer's validator (node key) */
	uint32_t action;
	uint64_t chain, src, dst;
	uint64_t created, closes;    /* heights */
	enum ist_gov_status status;
	uint64_t decided;            /* the height it passed or was rejected at */
	uint64_t yes_stake, total_stake;   /* at the last tally */
	uint16_t n_votes;
	struct ist_gov_vote votes[IST_WIRE_MAX_VALIDATORS];
};

struct ist_gov_route {
	uint64_t src, dst;
};

/* The validator set a tally counts (the current one): node keys and stakes. */
struct ist_gov_set {
	uint32_t n;
	const uint8_t (*node_keys)[32];
	const uint64_t *stakes;
	uint64_t total;
};

struct ist_gov;

struct ist_gov *ist_gov_new(void);
void ist_gov_free(struct ist_gov *g);

/* Checks a body (the sender's validator: `validator`, NULL when the sender
 * operates none; `in_set`: it is in the current set). Returns 0 or
 * -IST_EINVAL with the reason in why. */
int ist_gov_check(const struct ist_gov *g, const struct ist_tx *tx, const uint8_t *validator, bool in_set, char *why,
		  size_t why_len) IST_WUR;
/* Applies a body ist_gov_check accepted, at `height`, then tallies it.
 * Returns 0. */
int ist_gov_apply(struct ist_gov *g, const struct ist_tx *tx, const uint8_t validator[32], uint64_t height,
		  const struct ist_gov_set *set) IST_WUR;
/* After block `height`: tallies the open proposals against `set` (the set
 * may have changed) and closes the expired ones. */
void ist_gov_step(struct ist_gov *g, uint64_t height, const struct ist_gov_set *set);

/* ---- reading ---- */
bool ist_gov_chain_paused(const struct ist_gov *g, uint64_t chain);
/* The route, or either of its chains, is paused. */
bool ist_gov_route_paused(const struct ist_gov *g, uint64_t src, uint64_t dst);
size_t ist_gov_n_proposals(const struct ist_gov *g);
const struct ist_gov_proposal *ist_gov_proposal_at(const struct ist_gov *g, size_t i);   /* oldest first */
const struct ist_gov_proposal *ist_gov_proposal_get(const struct ist_gov *g, uint64_t id);
size_t ist_gov_paused_chains(const struct ist_gov *g, const uint64_t **ret);
size_t ist_gov_paused_routes(const struct ist_gov *g, const struct ist_gov_route **ret);

/* ---- persistence (one record) ---- */
bool ist_gov_dirty(const struct ist_gov *g);
void ist_gov_clean(struct ist_gov *g);
void ist_gov_encode(const struct ist_gov *g, struct ist_buf *b);
/* Returns 0 or -IST_EDB_CORRUPT (nothing changed). */
int ist_gov_decode(struct ist_gov *g, const uint8_t *p, size_t len) IST_WUR;

#endif
