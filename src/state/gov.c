/* Governance in the ledger (gov.h). */
#include "state/gov.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#define GOV_VERSION 1

struct ist_gov {
	uint64_t next_id;
	struct ist_gov_proposal *props;    /* oldest first */
	size_t n_props;
	uint64_t chains[IST_GOV_MAX_PAUSED];
	size_t n_chains;
	struct ist_gov_route routes[IST_GOV_MAX_PAUSED];
	size_t n_routes;
	bool dirty;
};

struct ist_gov *ist_gov_new(void)
{
	struct ist_gov *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->props = calloc(IST_GOV_MAX_KEPT, sizeof(*g->props));
	if (!g->props) {
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
	}
	return "unknown";
}

bool ist_gov_dirty(const struct ist_gov *g) { return g->dirty; }
void ist_gov_clean(struct ist_gov *g) { g->dirty = false; }
size_t ist_gov_n_proposals(const struct ist_gov *g) { return g->n_props; }
const struct ist_gov_proposal *ist_gov_proposal_at(const struct ist_gov *g, size_t i) { return i < g->n_props ? &g->props[i] : NULL; }

const struct ist_gov_proposal *ist_gov_proposal_get(const struct ist_gov *g, uint64_t id)
{
	for (size_t i = 0; i < g->n_props; i++)
		if (g->props[i].id == id)
			return &g->props[i];
	return NULL;
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

bool ist_gov_route_paused(const struct ist_gov *g, uint64_t src, uint64_t dst)
{
	if (ist_gov_chain_paused(g, src) || ist_gov_chain_paused(g, dst))
		return true;
	for (size_t i = 0; i < g->n_routes; i++)
		if (g->routes[i].src == src && g->routes[i].dst == dst)
			return true;
	return false;
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
			if (!p->src_chain || !p->dst_chain || p->src_chain == p->dst_chain)
				return bad(why, why_len, "a route is two different chains, ids 1 or more");
			break;
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

static void pause_chain(struct ist_gov *g, uint64_t chain, bool on)
{
	size_t k = 0;
	for (size_t i = 0; i < g->n_chains; i++)
		if (g->chains[i] != chain)
			g->chains[k++] = g->chains[i];
	g->n_chains = k;
	if (on && g->n_chains < IST_GOV_MAX_PAUSED)
		g->chains[g->n_chains++] = chain;
}

static void pause_route(struct ist_gov *g, uint64_t src, uint64_t dst, bool on)
{
	size_t k = 0;
	for (size_t i = 0; i < g->n_routes; i++)
		if (g->routes[i].src != src || g->routes[i].dst != dst)
			g->routes[k++] = g->routes[i];
	g->n_routes = k;
	if (on && g->n_routes < IST_GOV_MAX_PAUSED)
		g->routes[g->n_routes++] = (struct ist_gov_route){ src, dst };
}

static void execute(struct ist_gov *g, const struct ist_gov_proposal *p)
{
	switch (p->action) {
	case IST_GOV_PAUSE_CHAIN:
		pause_chain(g, p->chain, true);
		break;
	case IST_GOV_RESUME_CHAIN:
		pause_chain(g, p->chain, false);
		break;
	case IST_GOV_PAUSE_ROUTE:
		pause_route(g, p->src, p->dst, true);
		break;
	case IST_GOV_RESUME_ROUTE:
		pause_route(g, p->src, p->dst, false);
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
		execute(g, p);
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

/* ---- persistence ---- */

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
}

int ist_gov_decode(struct ist_gov *g, const uint8_t *p, size_t len)
{
	struct ist_gov *n = ist_gov_new();
	if (!n)
		return -IST_ENOMEM;
	struct ist_cur c;
	ist_cur_init(&c, p, len);
	if (ist_cur_u8(&c) != GOV_VERSION)
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
	if (!ist_cur_done(&c))
		goto fail;
	free(g->props);
	*g = *n;
	free(n);
	g->dirty = false;
	return 0;
fail:
	ist_gov_free(n);
	return -IST_EDB_CORRUPT;
}
