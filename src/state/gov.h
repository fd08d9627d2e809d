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
 *  - set_route_limits gives a route its limits (struct ist_gov_limits; all
 *    zero removes them); release_held lets the route's leaves 0..index
 *    past them; set_param changes a ledger parameter (the ledger checks
 *    the value when the proposal is made and applies it when it passes).
 *
 * Route limits (docs/protocol.md, "Route limits"). The ledger follows every
 * route's last committed checkpoint and, for a limited route, a log of the
 * committed checkpoints (source height, tree size) since its limits were
 * set, as far back as the window needs. From that and the per-leaf facts
 * every validator has (source height, declared value), ist_gov_allowed
 * says how many leaves a checkpoint of the route at source height s may
 * cover: a pure function of committed state and source heights, so every
 * validator holds the same messages.
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
#define IST_GOV_MAX_ROUTES 256        /* routes the ledger follows */
#define IST_GOV_LOG_MAX 128           /* committed checkpoints logged per limited route */
#define IST_GOV_MAX_WINDOW_BLOCKS 10000000
#define IST_GOV_MAX_WINDOW_COUNT 100000
#define IST_GOV_MAX_DELAY_BLOCKS 10000000
#define IST_GOV_MAX_PARAMS 16
#define IST_GOV_MAX_EVENTS 128        /* pause events kept (oldest drop out) */
#define IST_GOV_MAX_BLOCK_EVENTS 64   /* pause leaves one block certifies (later ones are not) */

/* Ledger parameters governance may change (set_param). */
enum ist_gov_param {
	IST_GOV_PARAM_MIN_STAKE = 1,
	IST_GOV_PARAM_UNBONDING_EPOCHS = 2,
	IST_GOV_PARAM_SLASH_FRACTION_BPS = 3,
	IST_GOV_PARAM_JAIL_MISSED_BPS = 4,
	IST_GOV_PARAM_JAIL_COOLDOWN_EPOCHS = 5,
	IST_GOV_PARAM_MAX_VALIDATORS = 6,
};
/* "min_stake", ...; NULL for an unknown one. */
const char *ist_gov_param_name(uint32_t param);
/* The parameter named `name`, or 0. */
uint32_t ist_gov_param_by_name(const char *name);

/* A route's limits. Counted in source blocks of the route's source chain. */
struct ist_gov_limits {
	uint64_t window_blocks;   /* the sliding window; 0: no window rule */
	uint64_t max_count;       /* messages per window: 1..IST_GOV_MAX_WINDOW_COUNT with a window */
	uint64_t max_value;       /* declared value per window; 0: no value rule */
	uint64_t high_value;      /* a message whose value is above it waits delay_blocks; 0: none */
	uint64_t delay_blocks;
};

struct ist_gov_cp {
	uint64_t src_height, tree_size;
};

/* What the ledger keeps of a route. */
struct ist_gov_route_state {
	uint64_t src, dst;
	uint64_t cp_height, cp_size;      /* its last committed checkpoint (0, 0: none) */
	bool limited;
	struct ist_gov_limits lim;
	uint64_t limits_since;            /* the ledger height they took effect */
	uint64_t released;                /* leaves with index < released pass the limits */
	uint16_t n_log;
	/* committed checkpoints, oldest first; log[0] is the window's base
	 * (the limits do not count leaves below its tree size) */
	struct ist_gov_cp log[IST_GOV_LOG_MAX];
};
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
	struct ist_gov_limits limits;   /* set_route_limits */
	uint64_t release_through;       /* release_held */
	uint32_t param;                 /* set_param */
	uint64_t param_value;
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

/* A pause or resume that changed something, at the height it took effect
 * (the ledger certifies it as a leaf of that block's batch tree). */
struct ist_gov_event {
	uint64_t height;
	uint8_t scope;               /* enum ist_pause_scope */
	uint64_t a, b;               /* the chain (b = 0), or the route */
	bool paused;
	uint64_t proposal;           /* the passed proposal; 0: the circuit breaker */
};
/* The newest IST_GOV_MAX_EVENTS events, oldest first. */
size_t ist_gov_events(const struct ist_gov *g, const struct ist_gov_event **ret);
/* The events of `height`, in the order they took effect (at most max).
 * Returns how many there are (may exceed max). */
size_t ist_gov_events_at(const struct ist_gov *g, uint64_t height, struct ist_gov_event *out, size_t max);
/* The record of one height's events (at most IST_GOV_MAX_BLOCK_EVENTS):
 * count (u8), then per event scope (u8), a, b (be64), paused (u8),
 * proposal (be64). decode returns 0 or -IST_EDB_CORRUPT. */
void ist_gov_events_encode(const struct ist_gov_event *e, size_t n, struct ist_buf *b);
int ist_gov_events_decode(const uint8_t *p, size_t len, uint64_t height, struct ist_gov_event *out, size_t max,
			  size_t *ret_n) IST_WUR;
/* The pause leaves (wire/canonical.h) of events ev[0..n-1] of network
 * `network_id`, into leaves[0..n-1]: what a block's batch tree certifies. */
void ist_gov_event_leaves(const struct ist_gov_event *ev, size_t n, uint64_t network_id,
			  uint8_t (*leaves)[IST_HASH_BYTES]);

/* Checks a route's limits (the rules of set_route_limits). Returns 0 or
 * -IST_EINVAL with the reason in why ("with a window, max_count is 1 to
 * 100000 (got 0)"). */
int ist_gov_limits_check(const struct ist_gov_limits *l, char *why, size_t why_len) IST_WUR;
/* Gives route (src, dst) the limits `l` (checked) from ledger height
 * `height`, as a passed set_route_limits does; all zero removes them. The
 * ledger calls it for a genesis's route_limits at height 0. */
void ist_gov_set_route_limits(struct ist_gov *g, uint64_t src, uint64_t dst, const struct ist_gov_limits *l,
			      uint64_t height);

/* The ledger calls it for every checkpoint of a committed block. */
void ist_gov_checkpoint(struct ist_gov *g, uint64_t src, uint64_t dst, uint64_t src_height, uint64_t tree_size);

/* Trips a chain's circuit breaker: pauses it as governance would. */
void ist_gov_breaker_trip(struct ist_gov *g, uint64_t chain, uint64_t height);

/* The parameters passed proposals have set, in the order they passed
 * (a later change of the same parameter replaces the earlier one). */
struct ist_gov_param_set {
	uint32_t param;
	uint64_t value;
};
size_t ist_gov_params(const struct ist_gov *g, const struct ist_gov_param_set **ret);

/* ---- route limits ---- */

/* A leaf's facts, as the node's route store keeps them. */
struct ist_gov_leaf {
	uint64_t height;              /* the source height it was observed at */
	uint64_t value;
	unsigned __int128 cum_value;  /* the values of leaves 0..index */
};
/* Reads leaf `index` (one the caller's route has). Returns 0 or < 0. */
typedef int (*ist_gov_leaf_fn)(void *ctx, uint64_t index, struct ist_gov_leaf *ret);

enum ist_gov_hold_rule {
	IST_GOV_HOLD_NONE = 0,
	IST_GOV_HOLD_DELAY = 1,       /* a high-value message waits its delay */
	IST_GOV_HOLD_COUNT = 2,       /* the window's message count is spent */
	IST_GOV_HOLD_VALUE = 3,       /* the window's value is spent */
};
/* "high_value_delay", "window_count", "window_value"; "none". */
const char *ist_gov_hold_rule_name(enum ist_gov_hold_rule r);

/* The first held leaf of a route, when one is. */
struct ist_gov_hold {
	enum ist_gov_hold_rule rule;
	uint64_t index;               /* the first held leaf (the ones after it wait behind it) */
	uint64_t release_height;      /* the source height it passes at, as things stand;
				       * 0 when that depends on checkpoints not yet committed */
};

/*
 * How many leaves a checkpoint of route rs (NULL: a route the ledger does
 * not follow yet) at source height s may cover, when size_at_s leaves were
 * observed up to s: the longest prefix whose leaves pass, in order, from
 * the last committed checkpoint on:
 *  - released: index < rs->released passes;
 *  - delay: value > high_value waits until height + delay_blocks <= s;
 *  - window: with base = the tree size of the last logged checkpoint at or
 *    below s - window_blocks (log[0]'s when none), the leaves base..index
 *    number at most max_count and, unless the leaf is alone in the window
 *    (index == base), are worth at most max_value together.
 * Out: *ret_allowed (<= size_at_s); *ret_hold (may be NULL) the first held
 * leaf, rule NONE when none is. Returns 0 or what leaf() returned.
 */
int ist_gov_allowed(const struct ist_gov_route_state *rs, uint64_t s, uint64_t size_at_s, ist_gov_leaf_fn leaf,
		    void *ctx, uint64_t *ret_allowed, struct ist_gov_hold *ret_hold) IST_WUR;

/* ---- reading ---- */
const struct ist_gov_route_state *ist_gov_route(const struct ist_gov *g, uint64_t src, uint64_t dst);
size_t ist_gov_routes(const struct ist_gov *g, const struct ist_gov_route_state **ret);
bool ist_gov_chain_paused(const struct ist_gov *g, uint64_t chain);
/* The route, or either of its chains, is paused. */
bool ist_gov_route_paused(const struct ist_gov *g, uint64_t src, uint64_t dst);
size_t ist_gov_n_proposals(const struct ist_gov *g);
const struct ist_gov_proposal *ist_gov_proposal_at(const struct ist_gov *g, size_t i);   /* oldest first */
const struct ist_gov_proposal *ist_gov_proposal_get(const struct ist_gov *g, uint64_t id);
size_t ist_gov_paused_chains(const struct ist_gov *g, const uint64_t **ret);
size_t ist_gov_paused_routes(const struct ist_gov *g, const struct ist_gov_route **ret);

/* ---- persistence (two records) ----
 * The governance record (proposals, pauses, parameters, events) changes
 * with governance; the routes record (each route's last checkpoint, its
 * limits and window log) with most blocks, so it is kept apart and small.
 * Each decode leaves the other record's part alone. */
bool ist_gov_dirty(const struct ist_gov *g);
bool ist_gov_routes_dirty(const struct ist_gov *g);
void ist_gov_clean(struct ist_gov *g);   /* both */
void ist_gov_encode(const struct ist_gov *g, struct ist_buf *b);
/* Returns 0 or -IST_EDB_CORRUPT (nothing changed). */
int ist_gov_decode(struct ist_gov *g, const uint8_t *p, size_t len) IST_WUR;
void ist_gov_routes_encode(const struct ist_gov *g, struct ist_buf *b);
int ist_gov_routes_decode(struct ist_gov *g, const uint8_t *p, size_t len) IST_WUR;

#endif
