/* Governance in the ledger (gov.h). */
#include "state/gov.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "wire/canonical.h"

#define GOV_VERSION 2

struct ist_gov {
	uint64_t next_id;
	struct ist_gov_proposal *props;    /* oldest first */
	size_t n_props;
	uint64_t chains[IST_GOV_MAX_PAUSED];
	size_t n_chains;
	struct ist_gov_route routes[IST_GOV_MAX_PAUSED];
	size_t n_routes;
	struct ist_gov_route_state *rs;    /* IST_GOV_MAX_ROUTES, by (src, dst) in arrival order */
	size_t n_rs;
	struct ist_gov_param_set params[IST_GOV_MAX_PARAMS];
	size_t n_params;
	struct ist_gov_event events[IST_GOV_MAX_EVENTS];
	size_t n_events;
	bool dirty, routes_dirty;
};

struct ist_gov *ist_gov_new(void)
{
	struct ist_gov *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->props = calloc(IST_GOV_MAX_KEPT, sizeof(*g->props));
	g->rs = calloc(IST_GOV_MAX_ROUTES, sizeof(*g->rs));
	if (!g->props || !g->rs) {
		free(g->props);
		free(g->rs);
		free(g);
		return NULL;
	}
	g->next_id = 1;
	return g;
}

void ist_gov_free(struct ist_gov *g)
{
	if (!g)
		return;
	free(g->props);
	free(g->rs);
	free(g);
}

const char *ist_gov_status_name(enum ist_gov_status s)
{
	switch (s) {
	case IST_GOV_OPEN:
		return "open";
	case IST_GOV_PASSED:
		return "passed";
	case IST_GOV_REJECTED:
		return "rejected";
	}
	return "unknown";
}

const char *ist_gov_action_name(uint32_t action)
{
	switch (action) {
	case IST_GOV_PAUSE_CHAIN:
		return "pause_chain";
	case IST_GOV_RESUME_CHAIN:
		return "resume_chain";
	case IST_GOV_PAUSE_ROUTE:
		return "pause_route";
	case IST_GOV_RESUME_ROUTE:
		return "resume_route";
	case IST_GOV_SET_ROUTE_LIMITS:
		return "set_route_limits";
	case IST_GOV_RELEASE_HELD:
		return "release_held";
	case IST_GOV_SET_PARAM:
		return "set_param";
	}
	return "unknown";
}

static const char *const PARAM_NAMES[] = {
	[IST_GOV_PARAM_MIN_STAKE] = "min_stake",
	[IST_GOV_PARAM_UNBONDING_EPOCHS] = "unbonding_epochs",
	[IST_GOV_PARAM_SLASH_FRACTION_BPS] = "slash_fraction_bps",
	[IST_GOV_PARAM_JAIL_MISSED_BPS] = "jail_missed_bps",
	[IST_GOV_PARAM_JAIL_COOLDOWN_EPOCHS] = "jail_cooldown_epochs",
	[IST_GOV_PARAM_MAX_VALIDATORS] = "max_validators",
};

const char *ist_gov_param_name(uint32_t param)
{
	return param < IST_ARRAY_SIZE(PARAM_NAMES) ? PARAM_NAMES[param] : NULL;
}

uint32_t ist_gov_param_by_name(const char *name)
{
	for (uint32_t i = 1; i < IST_ARRAY_SIZE(PARAM_NAMES); i++)
		if (strcmp(PARAM_NAMES[i], name) == 0)
			return i;
	return 0;
}

const char *ist_gov_hold_rule_name(enum ist_gov_hold_rule r)
{
	switch (r) {
	case IST_GOV_HOLD_DELAY:
		return "high_value_delay";
	case IST_GOV_HOLD_COUNT:
		return "window_count";
	case IST_GOV_HOLD_VALUE:
		return "window_value";
	case IST_GOV_HOLD_NONE:
		break;
	}
	return "none";
}

bool ist_gov_dirty(const struct ist_gov *g) { return g->dirty; }
bool ist_gov_routes_dirty(const struct ist_gov *g) { return g->routes_dirty; }
void ist_gov_clean(struct ist_gov *g) { g->dirty = g->routes_dirty = false; }
size_t ist_gov_n_proposals(const struct ist_gov *g) { return g->n_props; }
const struct ist_gov_proposal *ist_gov_proposal_at(const struct ist_gov *g, size_t i) { return i < g->n_props ? &g->props[i] : NULL; }

const struct ist_gov_proposal *ist_gov_proposal_get(const struct ist_gov *g, uint64_t id)
{
	for (size_t i = 0; i < g->n_props; i++)
		if (g->props[i].id == id)
			return &g->props[i];
	return NULL;
}

size_t ist_gov_params(const struct ist_gov *g, const struct ist_gov_param_set **ret)
{
	*ret = g->params;
	return g->n_params;
}

size_t ist_gov_routes(const struct ist_gov *g, const struct ist_gov_route_state **ret)
{
	*ret = g->rs;
	return g->n_rs;
}

const struct ist_gov_route_state *ist_gov_route(const struct ist_gov *g, uint64_t src, uint64_t dst)
{
	for (size_t i = 0; i < g->n_rs; i++)
		if (g->rs[i].src == src && g->rs[i].dst == dst)
			return &g->rs[i];
	return NULL;
}

/* The route's state, made when missing; NULL when IST_GOV_MAX_ROUTES are
 * followed already. */
static struct ist_gov_route_state *route_get(struct ist_gov *g, uint64_t src, uint64_t dst)
{
	struct ist_gov_route_state *rs = (struct ist_gov_route_state *)ist_gov_route(g, src, dst);
	if (rs || g->n_rs == IST_GOV_MAX_ROUTES)
		return rs;
	rs = &g->rs[g->n_rs++];
	memset(rs, 0, sizeof(*rs));
	rs->src = src;
	rs->dst = dst;
	return rs;
}

size_t ist_gov_paused_chains(const struct ist_gov *g, const uint64_t **ret)
{
	*ret = g->chains;
	return g->n_chains;
}

size_t ist_gov_paused_routes(const struct ist_gov *g, const struct ist_gov_route **ret)
{
	*ret = g->routes;
	return g->n_routes;
}

bool ist_gov_chain_paused(const struct ist_gov *g, uint64_t chain)
{
	for (size_t i = 0; i < g->n_chains; i++)
		if (g->chains[i] == chain)
			return true;
	return false;
}

/* The route itself is paused (its chains aside). */
static bool route_listed(const struct ist_gov *g, uint64_t src, uint64_t dst)
{
	for (size_t i = 0; i < g->n_routes; i++)
		if (g->routes[i].src == src && g->routes[i].dst == dst)
			return true;
	return false;
}

bool ist_gov_route_paused(const struct ist_gov *g, uint64_t src, uint64_t dst)
{
	return ist_gov_chain_paused(g, src) || ist_gov_chain_paused(g, dst) || route_listed(g, src, dst);
}

/* bad(why, why_len, fmt, ...): a refusal with its reason (common/err.h) */
#define bad ist_err_reason

static size_t n_open(const struct ist_gov *g)
{
	size_t k = 0;
	for (size_t i = 0; i < g->n_props; i++)
		k += g->props[i].status == IST_GOV_OPEN;
	return k;
}

int ist_gov_limits_check(const struct ist_gov_limits *l, char *why, size_t why_len)
{
	if (l->window_blocks > IST_GOV_MAX_WINDOW_BLOCKS)
		return bad(why, why_len, "window_blocks is at most %d (got %" PRIu64 ")", IST_GOV_MAX_WINDOW_BLOCKS,
			   l->window_blocks);
	if (l->window_blocks && (l->max_count < 1 || l->max_count > IST_GOV_MAX_WINDOW_COUNT))
		return bad(why, why_len, "with a window, max_count is 1 to %d (got %" PRIu64 ")", IST_GOV_MAX_WINDOW_COUNT,
			   l->max_count);
	if (!l->window_blocks && (l->max_count || l->max_value))
		return bad(why, why_len, "max_count and max_value need a window (window_blocks >= 1)");
	if (l->delay_blocks > IST_GOV_MAX_DELAY_BLOCKS)
		return bad(why, why_len, "delay_blocks is at most %d (got %" PRIu64 ")", IST_GOV_MAX_DELAY_BLOCKS,
			   l->delay_blocks);
	if (!l->high_value != !l->delay_blocks)
		return bad(why, why_len, "high_value and delay_blocks go together (both 0 for no delay rule)");
	return 0;
}

int ist_gov_check(const struct ist_gov *g, const struct ist_tx *tx, const uint8_t *validator, bool in_set, char *why,
		  size_t why_len)
{
	if (!validator)
		return bad(why, why_len, "this account operates no validator: only the operators of the current set's "
			   "validators propose and vote");
	if (!in_set)
		return bad(why, why_len, "this account's validator is not in the current set");
	if (tx->kind == IST_TX_GOV_PROPOSE) {
		const typeof(tx->u.gov_propose) *p = &tx->u.gov_propose;
		if (p->voting_blocks < 1 || p->voting_blocks > IST_GOV_MAX_VOTING_BLOCKS)
			return bad(why, why_len, "voting_blocks must be 1 to %d (got %" PRIu32 ")",
				   IST_GOV_MAX_VOTING_BLOCKS, p->voting_blocks);
		switch (p->action) {
		case IST_GOV_PAUSE_CHAIN:
		case IST_GOV_RESUME_CHAIN:
			if (!p->chain)
				return bad(why, why_len, "a chain id is 1 or more");
			break;
		case IST_GOV_PAUSE_ROUTE:
		case IST_GOV_RESUME_ROUTE:
		case IST_GOV_RELEASE_HELD:
			if (!p->src_chain || !p->dst_chain || p->src_chain == p->dst_chain)
				return bad(why, why_len, "a route is two different chains, ids 1 or more");
			break;
		case IST_GOV_SET_ROUTE_LIMITS:
			if (!p->src_chain || !p->dst_chain || p->src_chain == p->dst_chain)
				return bad(why, why_len, "a route is two different chains, ids 1 or more");
			{
				struct ist_gov_limits l = { p->window_blocks, p->max_count, p->max_value, p->high_value,
							    p->delay_blocks };
				if (ist_gov_limits_check(&l, why, why_len) < 0)
					return -IST_EINVAL;
			}
			break;
		case IST_GOV_SET_PARAM:
			if (!ist_gov_param_name(p->param))
				return bad(why, why_len, "unknown parameter %" PRIu32, p->param);
			break;   /* the ledger checks the value */
		default:
			return bad(why, why_len, "unknown action %" PRIu32, p->action);
		}
		if (n_open(g) >= IST_GOV_MAX_OPEN)
			return bad(why, why_len, "%d proposals are open already", IST_GOV_MAX_OPEN);
		return 0;
	}
	if (tx->kind == IST_TX_GOV_VOTE) {
		const struct ist_gov_proposal *p = ist_gov_proposal_get(g, tx->u.gov_vote.proposal);
		if (!p)
			return bad(why, why_len, "no proposal %" PRIu64, tx->u.gov_vote.proposal);
		if (p->status != IST_GOV_OPEN)
			return bad(why, why_len, "proposal %" PRIu64 " is %s", p->id, ist_gov_status_name(p->status));
		return 0;
	}
	return bad(why, why_len, "not a governance transaction");
}

static void event(struct ist_gov *g, struct ist_gov_event e)
{
	if (g->n_events == IST_GOV_MAX_EVENTS) {
		memmove(&g->events[0], &g->events[1], (IST_GOV_MAX_EVENTS - 1) * sizeof(g->events[0]));
		g->n_events--;
	}
	g->events[g->n_events++] = e;
}

/* Pauses (on) or resumes a chain; an event when that changed something. */
static void pause_chain(struct ist_gov *g, uint64_t chain, bool on, uint64_t height, uint64_t proposal)
{
	bool was = ist_gov_chain_paused(g, chain);
	size_t k = 0;
	for (size_t i = 0; i < g->n_chains; i++)
		if (g->chains[i] != chain)
			g->chains[k++] = g->chains[i];
	g->n_chains = k;
	if (on && g->n_chains < IST_GOV_MAX_PAUSED)
		g->chains[g->n_chains++] = chain;
	if (was != ist_gov_chain_paused(g, chain))
		event(g, (struct ist_gov_event){ height, IST_PAUSE_CHAIN, chain, 0, on, proposal });
}

static void pause_route(struct ist_gov *g, uint64_t src, uint64_t dst, bool on, uint64_t height, uint64_t proposal)
{
	bool was = route_listed(g, src, dst);
	size_t k = 0;
	for (size_t i = 0; i < g->n_routes; i++)
		if (g->routes[i].src != src || g->routes[i].dst != dst)
			g->routes[k++] = g->routes[i];
	g->n_routes = k;
	if (on && g->n_routes < IST_GOV_MAX_PAUSED)
		g->routes[g->n_routes++] = (struct ist_gov_route){ src, dst };
	if (was != route_listed(g, src, dst))
		event(g, (struct ist_gov_event){ height, IST_PAUSE_ROUTE, src, dst, on, proposal });
}

size_t ist_gov_events(const struct ist_gov *g, const struct ist_gov_event **ret)
{
	*ret = g->events;
	return g->n_events;
}

size_t ist_gov_events_at(const struct ist_gov *g, uint64_t height, struct ist_gov_event *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < g->n_events; i++)
		if (g->events[i].height == height) {
			if (k < max)
				out[k] = g->events[i];
			k++;
		}
	return k;
}

void ist_gov_events_encode(const struct ist_gov_event *e, size_t n, struct ist_buf *b)
{
	n = IST_MIN(n, (size_t)IST_GOV_MAX_BLOCK_EVENTS);
	ist_buf_put_u8(b, (uint8_t)n);
	for (size_t i = 0; i < n; i++) {
		ist_buf_put_u8(b, e[i].scope);
		ist_buf_put_be64(b, e[i].a);
		ist_buf_put_be64(b, e[i].b);
		ist_buf_put_u8(b, e[i].paused);
		ist_buf_put_be64(b, e[i].proposal);
	}
}

int ist_gov_events_decode(const uint8_t *p, size_t len, uint64_t height, struct ist_gov_event *out, size_t max,
			  size_t *ret_n)
{
	struct ist_cur c;
	ist_cur_init(&c, p, len);
	size_t n = ist_cur_u8(&c);
	if (!ist_cur_ok(&c) || n > max || n > IST_GOV_MAX_BLOCK_EVENTS)
		return -IST_EDB_CORRUPT;
	for (size_t i = 0; i < n; i++) {
		out[i].height = height;
		out[i].scope = ist_cur_u8(&c);
		out[i].a = ist_cur_be64(&c);
		out[i].b = ist_cur_be64(&c);
		uint8_t on = ist_cur_u8(&c);
		out[i].proposal = ist_cur_be64(&c);
		if (!ist_cur_ok(&c) || (out[i].scope != IST_PAUSE_CHAIN && out[i].scope != IST_PAUSE_ROUTE) || on > 1)
			return -IST_EDB_CORRUPT;
		out[i].paused = on;
	}
	if (!ist_cur_done(&c))
		return -IST_EDB_CORRUPT;
	*ret_n = n;
	return 0;
}

void ist_gov_event_leaves(const struct ist_gov_event *ev, size_t n, uint64_t network_id,
			  uint8_t (*leaves)[IST_HASH_BYTES])
{
	for (size_t i = 0; i < n; i++) {
		const struct ist_pause p = { .network_id = network_id, .height = ev[i].height, .scope = ev[i].scope,
					     .a = ev[i].a, .b = ev[i].b, .paused = ev[i].paused };
		ist_wire_pause_leaf_hash(&p, leaves[i]);
	}
}

void ist_gov_set_route_limits(struct ist_gov *g, uint64_t src, uint64_t dst, const struct ist_gov_limits *l,
			      uint64_t height)
{
	struct ist_gov_route_state *rs = route_get(g, src, dst);
	if (!rs)
		return;
	g->routes_dirty = true;
	if (!l->window_blocks && !l->high_value) {
		rs->limited = false;
		rs->n_log = 0;
		memset(&rs->lim, 0, sizeof(rs->lim));
		return;
	}
	if (!rs->limited) {
		/* the window starts at the last committed checkpoint */
		rs->n_log = 1;
		rs->log[0] = (struct ist_gov_cp){ rs->cp_height, rs->cp_size };
	}
	rs->limited = true;
	rs->lim = *l;
	rs->limits_since = height;
}

static void execute(struct ist_gov *g, const struct ist_gov_proposal *p, uint64_t height)
{
	struct ist_gov_route_state *rs;
	switch (p->action) {
	case IST_GOV_SET_ROUTE_LIMITS:
		ist_gov_set_route_limits(g, p->src, p->dst, &p->limits, height);
		break;
	case IST_GOV_RELEASE_HELD:
		if ((rs = route_get(g, p->src, p->dst)) && p->release_through < UINT64_MAX)
			rs->released = IST_MAX(rs->released, p->release_through + 1);
		g->routes_dirty = true;
		break;
	case IST_GOV_SET_PARAM: {
		size_t i = 0;
		while (i < g->n_params && g->params[i].param != p->param)
			i++;
		if (i == g->n_params && g->n_params < IST_GOV_MAX_PARAMS)
			g->n_params++;
		if (i < g->n_params)
			g->params[i] = (struct ist_gov_param_set){ p->param, p->param_value };
		break;
	}
	case IST_GOV_PAUSE_CHAIN:
	case IST_GOV_RESUME_CHAIN:
		pause_chain(g, p->chain, p->action == IST_GOV_PAUSE_CHAIN, height, p->id);
		break;
	case IST_GOV_PAUSE_ROUTE:
	case IST_GOV_RESUME_ROUTE:
		pause_route(g, p->src, p->dst, p->action == IST_GOV_PAUSE_ROUTE, height, p->id);
		break;
	}
}

/* Counts the yes stake of the set's validators; passes the proposal when
 * it is more than 2/3. */
static void tally(struct ist_gov *g, struct ist_gov_proposal *p, uint64_t height, const struct ist_gov_set *set)
{
	uint64_t yes = 0;
	for (uint32_t i = 0; i < set->n; i++)
		for (uint16_t v = 0; v < p->n_votes; v++)
			if (p->votes[v].approve && memcmp(p->votes[v].validator, set->node_keys[i], 32) == 0)
				yes += set->stakes[i];
	p->yes_stake = yes;
	p->total_stake = set->total;
	if ((unsigned __int128)yes * 3 > (unsigned __int128)set->total * 2) {
		p->status = IST_GOV_PASSED;
		p->decided = height;
		execute(g, p, height);
	}
	g->dirty = true;
}

static void vote(struct ist_gov_proposal *p, const uint8_t validator[32], bool approve)
{
	for (uint16_t v = 0; v < p->n_votes; v++)
		if (memcmp(p->votes[v].validator, validator, 32) == 0) {
			p->votes[v].approve = approve;
			return;
		}
	if (p->n_votes < IST_WIRE_MAX_VALIDATORS) {
		memcpy(p->votes[p->n_votes].validator, validator, 32);
		p->votes[p->n_votes++].approve = approve;
	}
}

int ist_gov_apply(struct ist_gov *g, const struct ist_tx *tx, const uint8_t validator[32], uint64_t height,
		  const struct ist_gov_set *set)
{
	struct ist_gov_proposal *p;
	if (tx->kind == IST_TX_GOV_PROPOSE) {
		if (g->n_props == IST_GOV_MAX_KEPT) {
			/* drop the oldest closed one (at most IST_GOV_MAX_OPEN are open) */
			size_t i = 0;
			while (i < g->n_props && g->props[i].status == IST_GOV_OPEN)
				i++;
			memmove(&g->props[i], &g->props[i + 1], (g->n_props - i - 1) * sizeof(*g->props));
			g->n_props--;
		}
		p = &g->props[g->n_props++];
		memset(p, 0, sizeof(*p));
		p->id = g->next_id++;
		memcpy(p->proposer, validator, 32);
		p->action = tx->u.gov_propose.action;
		p->chain = tx->u.gov_propose.chain;
		p->src = tx->u.gov_propose.src_chain;
		p->dst = tx->u.gov_propose.dst_chain;
		p->limits = (struct ist_gov_limits){
			.window_blocks = tx->u.gov_propose.window_blocks,
			.max_count = tx->u.gov_propose.max_count,
			.max_value = tx->u.gov_propose.max_value,
			.high_value = tx->u.gov_propose.high_value,
			.delay_blocks = tx->u.gov_propose.delay_blocks,
		};
		p->release_through = tx->u.gov_propose.release_through;
		p->param = tx->u.gov_propose.param;
		p->param_value = tx->u.gov_propose.param_value;
		p->created = height;
		p->closes = height + tx->u.gov_propose.voting_blocks;
		p->status = IST_GOV_OPEN;
		vote(p, validator, true);
	} else {
		p = (struct ist_gov_proposal *)ist_gov_proposal_get(g, tx->u.gov_vote.proposal);
		if (!p || p->status != IST_GOV_OPEN)
			return 0;   /* check_body refused it already */
		vote(p, validator, tx->u.gov_vote.approve);
	}
	tally(g, p, height, set);
	return 0;
}

void ist_gov_step(struct ist_gov *g, uint64_t height, const struct ist_gov_set *set)
{
	for (size_t i = 0; i < g->n_props; i++) {
		struct ist_gov_proposal *p = &g->props[i];
		if (p->status != IST_GOV_OPEN)
			continue;
		tally(g, p, height, set);
		if (p->status == IST_GOV_OPEN && height >= p->closes) {
			p->status = IST_GOV_REJECTED;
			p->decided = height;
		}
	}
}

void ist_gov_breaker_trip(struct ist_gov *g, uint64_t chain, uint64_t height)
{
	pause_chain(g, chain, true, height, 0);
	g->dirty = true;
}

void ist_gov_checkpoint(struct ist_gov *g, uint64_t src, uint64_t dst, uint64_t src_height, uint64_t tree_size)
{
	struct ist_gov_route_state *rs = route_get(g, src, dst);
	if (!rs || tree_size <= rs->cp_size)
		return;
	rs->cp_height = src_height;
	rs->cp_size = tree_size;
	g->routes_dirty = true;
	if (!rs->limited)
		return;
	if (rs->n_log == IST_GOV_LOG_MAX) {
		/* drop the oldest entry after the base: leaves counted in the
		 * window a little longer, never shorter */
		memmove(&rs->log[1], &rs->log[2], (IST_GOV_LOG_MAX - 2) * sizeof(rs->log[0]));
		rs->n_log--;
	}
	rs->log[rs->n_log++] = (struct ist_gov_cp){ src_height, tree_size };
	/* the base any later window needs: the last entry at or below
	 * src_height - window (later source heights only move it on) */
	uint64_t w = rs->lim.window_blocks;
	while (w && rs->n_log >= 2 && src_height >= w && rs->log[1].src_height <= src_height - w) {
		memmove(&rs->log[0], &rs->log[1], (rs->n_log - 1) * sizeof(rs->log[0]));
		rs->n_log--;
	}
}

/* ---- route limits ---- */

/* The window's base at source height s: the tree size of the last logged
 * checkpoint at or below s - window (log[0]'s when none is). */
static uint64_t window_base(const struct ist_gov_route_state *rs, uint64_t s)
{
	uint64_t w = rs->lim.window_blocks;
	uint64_t base = rs->n_log ? rs->log[0].tree_size : 0;
	if (s < w)
		return base;
	for (uint16_t i = 0; i < rs->n_log && rs->log[i].src_height <= s - w; i++)
		base = rs->log[i].tree_size;
	return base;
}

/* The source height at which the window no longer holds leaf `index`
 * (whose facts are `x`) for rule `rule`, as the log stands; 0 when no
 * logged checkpoint would do. */
static int window_release(const struct ist_gov_route_state *rs, enum ist_gov_hold_rule rule, uint64_t index,
			  const struct ist_gov_leaf *x, ist_gov_leaf_fn leaf, void *ctx, uint64_t *ret)
{
	*ret = 0;
	for (uint16_t i = 0; i < rs->n_log; i++) {
		uint64_t base = rs->log[i].tree_size;
		if (base > index)
			break;
		bool fits;
		if (rule == IST_GOV_HOLD_COUNT) {
			fits = index + 1 - base <= rs->lim.max_count;
		} else {
			unsigned __int128 before = 0;
			if (base > 0) {
				struct ist_gov_leaf b;
				int r = leaf(ctx, base - 1, &b);
				if (r < 0)
					return r;
				before = b.cum_value;
			}
			fits = base == index || x->cum_value - before <= rs->lim.max_value;
		}
		if (fits) {
			*ret = rs->log[i].src_height + rs->lim.window_blocks;
			return 0;
		}
	}
	return 0;
}

int ist_gov_allowed(const struct ist_gov_route_state *rs, uint64_t s, uint64_t size_at_s, ist_gov_leaf_fn leaf,
		    void *ctx, uint64_t *ret_allowed, struct ist_gov_hold *ret_hold)
{
	struct ist_gov_hold hold = { .rule = IST_GOV_HOLD_NONE };
	uint64_t m = size_at_s;
	int r = 0;
	if (rs && rs->limited) {
		const struct ist_gov_limits *l = &rs->lim;
		m = IST_MAX(rs->cp_size, IST_MIN(rs->released, size_at_s));
		uint64_t base = window_base(rs, s);
		unsigned __int128 before = 0;
		if (l->max_value && base > 0 && m < size_at_s) {
			struct ist_gov_leaf b;
			if ((r = leaf(ctx, base - 1, &b)) < 0)
				return r;
			before = b.cum_value;
		}
		for (; m < size_at_s; m++) {
			struct ist_gov_leaf x;
			if ((r = leaf(ctx, m, &x)) < 0)
				return r;
			if (l->high_value && x.value > l->high_value && x.height + l->delay_blocks > s) {
				hold = (struct ist_gov_hold){ IST_GOV_HOLD_DELAY, m, x.height + l->delay_blocks };
				break;
			}
			if (!l->window_blocks)
				continue;
			enum ist_gov_hold_rule rule = IST_GOV_HOLD_NONE;
			if (m >= base && m + 1 - base > l->max_count)
				rule = IST_GOV_HOLD_COUNT;
			else if (l->max_value && m > base && x.cum_value - before > l->max_value)
				rule = IST_GOV_HOLD_VALUE;
			if (rule != IST_GOV_HOLD_NONE) {
				hold.rule = rule;
				hold.index = m;
				if ((r = window_release(rs, rule, m, &x, leaf, ctx, &hold.release_height)) < 0)
					return r;
				break;
			}
		}
	}
	*ret_allowed = m;
	if (ret_hold)
		*ret_hold = hold;
	return 0;
}

/* ---- persistence ---- */

static void put_limits(struct ist_buf *b, const struct ist_gov_limits *l)
{
	ist_buf_put_be64(b, l->window_blocks);
	ist_buf_put_be64(b, l->max_count);
	ist_buf_put_be64(b, l->max_value);
	ist_buf_put_be64(b, l->high_value);
	ist_buf_put_be64(b, l->delay_blocks);
}

static void get_limits(struct ist_cur *c, struct ist_gov_limits *l)
{
	l->window_blocks = ist_cur_be64(c);
	l->max_count = ist_cur_be64(c);
	l->max_value = ist_cur_be64(c);
	l->high_value = ist_cur_be64(c);
	l->delay_blocks = ist_cur_be64(c);
}

void ist_gov_encode(const struct ist_gov *g, struct ist_buf *b)
{
	ist_buf_put_u8(b, GOV_VERSION);
	ist_buf_put_be64(b, g->next_id);
	ist_buf_put_be32(b, (uint32_t)g->n_chains);
	for (size_t i = 0; i < g->n_chains; i++)
		ist_buf_put_be64(b, g->chains[i]);
	ist_buf_put_be32(b, (uint32_t)g->n_routes);
	for (size_t i = 0; i < g->n_routes; i++) {
		ist_buf_put_be64(b, g->routes[i].src);
		ist_buf_put_be64(b, g->routes[i].dst);
	}
	ist_buf_put_be32(b, (uint32_t)g->n_props);
	for (size_t i = 0; i < g->n_props; i++) {
		const struct ist_gov_proposal *p = &g->props[i];
		ist_buf_put_be64(b, p->id);
		ist_buf_put(b, p->proposer, 32);
		ist_buf_put_be32(b, p->action);
		ist_buf_put_be64(b, p->chain);
		ist_buf_put_be64(b, p->src);
		ist_buf_put_be64(b, p->dst);
		put_limits(b, &p->limits);
		ist_buf_put_be64(b, p->release_through);
		ist_buf_put_be32(b, p->param);
		ist_buf_put_be64(b, p->param_value);
		ist_buf_put_be64(b, p->created);
		ist_buf_put_be64(b, p->closes);
		ist_buf_put_u8(b, (uint8_t)p->status);
		ist_buf_put_be64(b, p->decided);
		ist_buf_put_be64(b, p->yes_stake);
		ist_buf_put_be64(b, p->total_stake);
		ist_buf_put_be16(b, p->n_votes);
		for (uint16_t v = 0; v < p->n_votes; v++) {
			ist_buf_put(b, p->votes[v].validator, 32);
			ist_buf_put_u8(b, p->votes[v].approve);
		}
	}
	ist_buf_put_be32(b, (uint32_t)g->n_params);
	for (size_t i = 0; i < g->n_params; i++) {
		ist_buf_put_be32(b, g->params[i].param);
		ist_buf_put_be64(b, g->params[i].value);
	}
	ist_buf_put_be32(b, (uint32_t)g->n_events);
	for (size_t i = 0; i < g->n_events; i++) {
		const struct ist_gov_event *e = &g->events[i];
		ist_buf_put_be64(b, e->height);
		ist_buf_put_u8(b, e->scope);
		ist_buf_put_be64(b, e->a);
		ist_buf_put_be64(b, e->b);
		ist_buf_put_u8(b, e->paused);
		ist_buf_put_be64(b, e->proposal);
	}
}

int ist_gov_decode(struct ist_gov *g, const uint8_t *p, size_t len)
{
	struct ist_gov *n = ist_gov_new();
	if (!n)
		return -IST_ENOMEM;
	struct ist_cur c;
	ist_cur_init(&c, p, len);
	/* version 1 (before route limits and parameters) reads on */
	uint8_t version = ist_cur_u8(&c);
	if (version != 1 && version != GOV_VERSION)
		goto fail;
	n->next_id = ist_cur_be64(&c);
	uint32_t nc = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || nc > IST_GOV_MAX_PAUSED)
		goto fail;
	for (uint32_t i = 0; i < nc; i++)
		n->chains[n->n_chains++] = ist_cur_be64(&c);
	uint32_t nr = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || nr > IST_GOV_MAX_PAUSED)
		goto fail;
	for (uint32_t i = 0; i < nr; i++) {
		n->routes[i].src = ist_cur_be64(&c);
		n->routes[i].dst = ist_cur_be64(&c);
	}
	n->n_routes = nr;
	uint32_t np = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || np > IST_GOV_MAX_KEPT)
		goto fail;
	for (uint32_t i = 0; i < np; i++) {
		struct ist_gov_proposal *x = &n->props[i];
		x->id = ist_cur_be64(&c);
		ist_cur_get(&c, x->proposer, 32);
		x->action = ist_cur_be32(&c);
		x->chain = ist_cur_be64(&c);
		x->src = ist_cur_be64(&c);
		x->dst = ist_cur_be64(&c);
		if (version >= 2) {
			get_limits(&c, &x->limits);
			x->release_through = ist_cur_be64(&c);
			x->param = ist_cur_be32(&c);
			x->param_value = ist_cur_be64(&c);
		}
		x->created = ist_cur_be64(&c);
		x->closes = ist_cur_be64(&c);
		uint8_t st = ist_cur_u8(&c);
		x->decided = ist_cur_be64(&c);
		x->yes_stake = ist_cur_be64(&c);
		x->total_stake = ist_cur_be64(&c);
		x->n_votes = ist_cur_be16(&c);
		if (!ist_cur_ok(&c) || st < IST_GOV_OPEN || st > IST_GOV_REJECTED || x->n_votes > IST_WIRE_MAX_VALIDATORS)
			goto fail;
		x->status = (enum ist_gov_status)st;
		for (uint16_t v = 0; v < x->n_votes; v++) {
			ist_cur_get(&c, x->votes[v].validator, 32);
			x->votes[v].approve = ist_cur_u8(&c) != 0;
		}
	}
	n->n_props = np;
	if (version == 1)
		goto done;
	uint32_t npar = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || npar > IST_GOV_MAX_PARAMS)
		goto fail;
	for (uint32_t i = 0; i < npar; i++) {
		n->params[i].param = ist_cur_be32(&c);
		n->params[i].value = ist_cur_be64(&c);
	}
	n->n_params = npar;
	uint32_t nev = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || nev > IST_GOV_MAX_EVENTS)
		goto fail;
	for (uint32_t i = 0; i < nev; i++) {
		struct ist_gov_event *e = &n->events[i];
		e->height = ist_cur_be64(&c);
		e->scope = ist_cur_u8(&c);
		e->a = ist_cur_be64(&c);
		e->b = ist_cur_be64(&c);
		uint8_t on = ist_cur_u8(&c);
		e->proposal = ist_cur_be64(&c);
		if (!ist_cur_ok(&c) || (e->scope != IST_PAUSE_CHAIN && e->scope != IST_PAUSE_ROUTE) || on > 1)
			goto fail;
		e->paused = on;
	}
	n->n_events = nev;
done:
	if (!ist_cur_done(&c))
		goto fail;
	/* the routes are the other record's */
	free(n->rs);
	n->rs = g->rs;
	n->n_rs = g->n_rs;
	n->routes_dirty = g->routes_dirty;
	free(g->props);
	*g = *n;
	free(n);
	g->dirty = false;
	return 0;
fail:
	ist_gov_free(n);
	return -IST_EDB_CORRUPT;
}

#define GOV_ROUTES_VERSION 1

void ist_gov_routes_encode(const struct ist_gov *g, struct ist_buf *b)
{
	ist_buf_put_u8(b, GOV_ROUTES_VERSION);
	ist_buf_put_be32(b, (uint32_t)g->n_rs);
	for (size_t i = 0; i < g->n_rs; i++) {
		const struct ist_gov_route_state *rs = &g->rs[i];
		ist_buf_put_be64(b, rs->src);
		ist_buf_put_be64(b, rs->dst);
		ist_buf_put_be64(b, rs->cp_height);
		ist_buf_put_be64(b, rs->cp_size);
		ist_buf_put_u8(b, rs->limited);
		put_limits(b, &rs->lim);
		ist_buf_put_be64(b, rs->limits_since);
		ist_buf_put_be64(b, rs->released);
		ist_buf_put_be16(b, rs->n_log);
		for (uint16_t k = 0; k < rs->n_log; k++) {
			ist_buf_put_be64(b, rs->log[k].src_height);
			ist_buf_put_be64(b, rs->log[k].tree_size);
		}
	}
}

int ist_gov_routes_decode(struct ist_gov *g, const uint8_t *p, size_t len)
{
	struct ist_gov_route_state *rs_all = calloc(IST_GOV_MAX_ROUTES, sizeof(*rs_all));
	if (!rs_all)
		return -IST_ENOMEM;
	struct ist_gov tmp = { .rs = rs_all };
	struct ist_gov *n = &tmp;
	struct ist_cur c;
	ist_cur_init(&c, p, len);
	if (ist_cur_u8(&c) != GOV_ROUTES_VERSION)
		goto fail;
	uint32_t nrs = ist_cur_be32(&c);
	if (!ist_cur_ok(&c) || nrs > IST_GOV_MAX_ROUTES)
		goto fail;
	for (uint32_t i = 0; i < nrs; i++) {
		struct ist_gov_route_state *rs = &n->rs[i];
		rs->src = ist_cur_be64(&c);
		rs->dst = ist_cur_be64(&c);
		rs->cp_height = ist_cur_be64(&c);
		rs->cp_size = ist_cur_be64(&c);
		rs->limited = ist_cur_u8(&c) != 0;
		get_limits(&c, &rs->lim);
		rs->limits_since = ist_cur_be64(&c);
		rs->released = ist_cur_be64(&c);
		rs->n_log = ist_cur_be16(&c);
		if (!ist_cur_ok(&c) || rs->n_log > IST_GOV_LOG_MAX)
			goto fail;
		for (uint16_t k = 0; k < rs->n_log; k++) {
			rs->log[k].src_height = ist_cur_be64(&c);
			rs->log[k].tree_size = ist_cur_be64(&c);
		}
	}
	n->n_rs = nrs;
	if (!ist_cur_done(&c))
		goto fail;
	free(g->rs);
	g->rs = n->rs;
	g->n_rs = n->n_rs;
	g->routes_dirty = false;
	return 0;
fail:
	free(rs_all);
	return -IST_EDB_CORRUPT;
}
