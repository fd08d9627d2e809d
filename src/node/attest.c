/*
 * The attestation pipeline (attest.h).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/merkle.h"
#include "crypto/secp256k1.h"
#include "node/internal.h"
#include "node/ledger.h"
#include "state/gov.h"
#include "storage/attest.h"
#include "storage/blocks.h"
#include "storage/routes.h"
#include "wire/canonical.h"
#include "wire/codec.h"

#define SUBSYS "attest"

/* safety database: "w" || src || dst -> tree size (u64) || root (32), the
 * largest tree this validator signed for the route (written before the
 * share leaves). */
#define WM_PREFIX 'w'
#define WM_KEY_BYTES 17

/* evidence database: "cp" || src || dst || tree size || proposer (u32) ->
 * the encoded proposal that carried a conflicting checkpoint. */
#define EV_KEY_BYTES 30

void ist_node_obs_free(struct ist_node_obs *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_msgs; i++)
		ist_wire_message_fini(&o->msgs[i]);
	free(o->msgs);
	free(o);
}

/* ---- routes ---- */

static long chain_index(const struct ist_node *n, uint64_t id)
{
	for (size_t i = 0; i < n->att.n_chains; i++)
		if (n->att.chains[i].id == id)
			return (long)i;
	return -1;
}

/* The route (src, dst) between two different genesis chains, or NULL. */
static struct ist_node_route *route_of(struct ist_node *n, uint64_t src, uint64_t dst)
{
	long i = chain_index(n, src), j = chain_index(n, dst);
	if (i < 0 || j < 0 || i == j)
		return NULL;
	return &n->att.routes[(size_t)i * n->att.n_chains + (size_t)j];
}

static void wm_key(uint8_t k[WM_KEY_BYTES], uint64_t src, uint64_t dst)
{
	k[0] = WM_PREFIX;
	ist_put_be64(k + 1, src);
	ist_put_be64(k + 9, dst);
}

static int cp_value_decode(const uint8_t *v, size_t len, uint64_t *ret_height, struct ist_checkpoint *ret)
{
	if (len <= IST_NODE_CP_HEAD_BYTES)
		return -IST_EDB_CORRUPT;
	struct ist_checkpoint *cp = NULL;
	if (ist_wire_checkpoint_decode(v + IST_NODE_CP_HEAD_BYTES, len - IST_NODE_CP_HEAD_BYTES, &cp, NULL) < 0)
		return -IST_EDB_CORRUPT;
	*ret = *cp;
	ist_wire_checkpoint_free(cp);
	if (ret_height)
		*ret_height = ist_get_be64(v);
	return 0;
}

static int message_value(void *ctx, const uint8_t *msg, size_t len, uint64_t *ret)
{
	(void)ctx;
	struct ist_message *m = NULL;
	int r = ist_wire_message_decode(msg, len, &m, NULL);
	if (r < 0)
		return -IST_EDB_CORRUPT;
	*ret = m->value;
	ist_wire_message_free(m);
	return 0;
}

/* Leaves an older version appended have no leaf facts (source height,
 * value) for the route limits: write them once, at start. */
static int backfill_fn(struct ist_txn *txn, void *ctx)
{
	struct ist_node *n = ctx;
	for (size_t i = 0; i < n->att.n_chains * n->att.n_chains; i++) {
		const struct ist_node_route *rt = &n->att.routes[i];
		if (rt->src == rt->dst)
			continue;
		uint64_t filled;
		int r = ist_store_route_meta_backfill(txn, rt->src, rt->dst, message_value, NULL, &filled);
		if (r < 0)
			return r;
		if (filled)
			ist_log_info(SUBSYS, "route %" PRIu64 "->%" PRIu64 ": wrote the limits' facts of %" PRIu64
				     " messages observed by an older version", rt->src, rt->dst, filled);
	}
	return 0;
}

int ist_node_attest_init(struct ist_node *n, char *errbuf, size_t errlen)
{
	struct ist_node_attest *a = &n->att;
	a->n_chains = n->g.n_chains;
	for (size_t i = 0; i < a->n_chains; i++)
		a->chains[i].id = n->g.chains[i].id;
	if (a->n_chains) {
		a->routes = calloc(a->n_chains * a->n_chains, sizeof(*a->routes));
		if (!a->routes) {
			snprintf(errbuf, errlen, "out of memory");
			return -IST_ENOMEM;
		}
	}
	struct ist_txn *txn;
	int r = ist_store_read_begin(n->store, &txn);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: cannot read the attestation state: %s", n->cfg.data_path, ist_strerror(r));
		return r;
	}
	for (size_t i = 0; i < a->n_chains && r == 0; i++) {
		struct ist_node_chainst *cs = &a->chains[i];
		r = ist_store_chain_cursor_get(txn, cs->id, &cs->observed, cs->hash);
		if (r == -IST_ENOTFOUND)
			r = 0;
		for (size_t j = 0; j < a->n_chains && r == 0; j++) {
			if (i == j)
				continue;
			struct ist_node_route *rt = &a->routes[i * a->n_chains + j];
			rt->src = a->chains[i].id;
			rt->dst = a->chains[j].id;
			uint64_t size;
			const uint8_t *v;
			size_t len;
			r = ist_store_checkpoint_last(txn, rt->src, rt->dst, &size, &v, &len);
			if (r == 0) {
				r = cp_value_decode(v, len, NULL, &rt->committed);
				rt->has_committed = r == 0;
			} else if (r == -IST_ENOTFOUND) {
				r = 0;
			}
			uint8_t k[WM_KEY_BYTES];
			wm_key(k, rt->src, rt->dst);
			if (r == 0 && (r = ist_store_get(txn, IST_STORE_DB_SAFETY, k, sizeof(k), &v, &len)) == 0) {
				if (len != 8 + IST_HASH_BYTES) {
					r = -IST_EDB_CORRUPT;
				} else {
					rt->has_wm = true;
					rt->wm_size = ist_get_be64(v);
					memcpy(rt->wm_root, v + 8, IST_HASH_BYTES);
				}
			} else if (r == -IST_ENOTFOUND) {
				r = 0;
			}
		}
	}
	ist_store_read_end(txn);
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: cannot load the attestation state: %s", n->cfg.data_path, ist_strerror(r));
		return r;
	}
	if ((r = ist_store_write(n->store, backfill_fn, n)) < 0)
		snprintf(errbuf, errlen, "%s: cannot write the route limits' leaf facts of messages observed by an "
			 "older version: %s", n->cfg.data_path, ist_strerror(r));
	return r;
}

void ist_node_attest_fini(struct ist_node *n)
{
	free(n->att.routes);
	free(n->att.unsigned_heights);
	free(n->att.early);
	for (size_t i = 0; i < IST_NODE_RECENT_PROPOSALS; i++)
		free(n->att.recent[i].enc);
	n->att.routes = NULL;
	n->att.unsigned_heights = NULL;
	n->att.early = NULL;
}

/* ---- observations ---- */

struct obs_write {
	struct ist_node *n;
	const struct ist_node_obs *o;
	const bool *take;          /* per message: appended (else ignored) */
};

static int obs_write_fn(struct ist_txn *txn, void *ctx)
{
	const struct obs_write *w = ctx;
	const struct ist_node_obs *o = w->o;
	int r = 0;
	for (size_t i = 0; i < o->n_msgs && r == 0; i++) {
		if (!w->take[i])
			continue;
		const struct ist_message *m = &o->msgs[i];
		uint8_t id[IST_HASH_BYTES], leaf[IST_HASH_BYTES];
		uint8_t *enc = NULL;
		size_t len = 0;
		if ((r = ist_wire_message_id(m, id)) < 0 || (r = ist_wire_message_encode(m, &enc, &len)) < 0)
			break;
		ist_merkle_leaf_hash(id, IST_HASH_BYTES, leaf);
		uint64_t index;
		r = ist_store_route_leaf_append(txn, m->src_chain, m->dst_chain, leaf, enc, len, &index);
		free(enc);
		if (r == 0)
			r = ist_store_route_meta_put(txn, m->src_chain, m->dst_chain, index, o->height, m->value);
		if (r == 0)
			r = ist_store_route_height_put(txn, m->src_chain, m->dst_chain, o->height, index + 1);
	}
	if (r == 0)
		r = ist_store_chain_cursor_put(txn, o->chain, o->height, o->hash);
	return r;
}

static void halt_chain(struct ist_node *n, struct ist_node_chainst *cs, const char *fmt, ...) IST_PRINTF(3, 4);
static void halt_chain(struct ist_node *n, struct ist_node_chainst *cs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cs->why, sizeof(cs->why), fmt, ap);
	va_end(ap);
	if (!cs->halted)
		ist_log_error(SUBSYS, "chain %" PRIu64 ": attestation stopped: %s", cs->id, cs->why);
	cs->halted = true;
	(void)n;
}

int ist_node_attest_observe(struct ist_node *n, struct ist_node_obs *o)
{
	long ci = chain_index(n, o->chain);
	int r = 0;
	if (ci < 0) {
		ist_node_obs_free(o);
		return 0;
	}
	struct ist_node_chainst *cs = &n->att.chains[ci];
	if (cs->halted || o->height != cs->observed + 1) {
		/* a watcher only moves forward from the cursor it was given */
		if (!cs->halted)
			ist_log_warn(SUBSYS, "chain %" PRIu64 ": observation of height %" PRIu64 " out of order (at %" PRIu64 ")",
				     o->chain, o->height, cs->observed);
		ist_node_obs_free(o);
		return 0;
	}
	bool *take = calloc(o->n_msgs ? o->n_msgs : 1, sizeof(*take));
	if (!take) {
		ist_node_obs_free(o);
		return -IST_ENOMEM;
	}
	/* next nonce per destination: the route's size, plus this block's */
	uint64_t next[IST_NODE_MAX_CHAINS] = { 0 };
	bool known[IST_NODE_MAX_CHAINS] = { 0 };
	struct ist_txn *txn = NULL;
	if ((r = ist_store_read_begin(n->store, &txn)) < 0)
		goto out;
	for (size_t i = 0; i < o->n_msgs; i++) {
		const struct ist_message *m = &o->msgs[i];
		long dj = chain_index(n, m->dst_chain);
		if (m->src_chain != o->chain || dj < 0 || dj == ci) {
			/* to a chain this network does not connect: not ours */
			ist_metric_inc(n->att.m_ignored, "unknown_destination");
			continue;
		}
		if (!known[dj]) {
			if ((r = ist_store_route_size(txn, m->src_chain, m->dst_chain, &next[dj])) < 0)
				break;
			known[dj] = true;
		}
		if (m->nonce != next[dj]) {
			halt_chain(n, cs, "height %" PRIu64 ": message to chain %" PRIu64 " has nonce %" PRIu64
				   ", the route expects %" PRIu64 " (a gap or a replay in the source's outbox)",
				   o->height, m->dst_chain, m->nonce, next[dj]);
			ist_store_read_end(txn);
			txn = NULL;
			goto out;
		}
		next[dj]++;
		take[i] = true;
	}
	ist_store_read_end(txn);
	txn = NULL;
	if (r < 0)
		goto out;
	struct obs_write w = { .n = n, .o = o, .take = take };
	if ((r = ist_store_write(n->store, obs_write_fn, &w)) < 0) {
		ist_log_error(SUBSYS, "chain %" PRIu64 ": cannot store height %" PRIu64 ": %s", o->chain, o->height,
			      ist_strerror(r));
		goto out;
	}
	cs->observed = o->height;
	memcpy(cs->hash, o->hash, IST_HASH_BYTES);
	ist_metric_set(n->att.m_observed, NULL, 0);   /* the family exists even before the first */
	{
		char label[24];
		snprintf(label, sizeof(label), "%" PRIu64, o->chain);
		ist_metric_set(n->att.m_observed, label, (double)o->height);
	}
	n->att.observed_new = true;
out:
	free(take);
	ist_node_obs_free(o);
	return r;
}

/* ---- route limits ---- */

struct leaf_ctx {
	struct ist_txn *txn;
	uint64_t src, dst;
};

static int leaf_fn(void *ctx, uint64_t index, struct ist_gov_leaf *ret)
{
	const struct leaf_ctx *lc = ctx;
	struct ist_store_leaf_meta m;
	int r = ist_store_route_meta_get(lc->txn, lc->src, lc->dst, index, &m);
	if (r < 0)
		return r;
	*ret = (struct ist_gov_leaf){ .height = m.height, .value = m.value, .cum_value = m.cum_value };
	return 0;
}

int ist_node_route_allowed(struct ist_node *n, struct ist_txn *txn, uint64_t src, uint64_t dst, uint64_t s,
			   uint64_t *ret_size_at, uint64_t *ret_allowed, struct ist_gov_hold *ret_hold)
{
	int r = ist_store_route_size_at(txn, src, dst, s, ret_size_at);
	if (r < 0)
		return r;
	struct leaf_ctx lc = { txn, src, dst };
	r = ist_gov_allowed(ist_gov_route(ist_ledger_gov(n->ledger), src, dst), s, *ret_size_at, leaf_fn, &lc,
			    ret_allowed, ret_hold);
	if (r < 0)
		ist_log_error(SUBSYS, "route %" PRIu64 "->%" PRIu64 ": cannot read the leaves its limits need: %s",
			      src, dst, ist_strerror(r));
	return r;
}

void ist_node_attest_held_metrics(struct ist_node *n)
{
	const struct ist_gov_route_state *rs;
	size_t nrs = ist_gov_routes(ist_ledger_gov(n->ledger), &rs);
	struct ist_txn *txn = NULL;
	for (size_t i = 0; i < nrs; i++) {
		const struct ist_gov_route_state *x = &rs[i];
		long ci = chain_index(n, x->src);
		if (ci < 0)
			continue;
		uint64_t size = 0, allowed = 0;
		double value = 0;
		/* a route without limits (or whose limits were removed) holds nothing */
		if (x->limited) {
			if (!txn && ist_store_read_begin(n->store, &txn) < 0)
				continue;
			struct ist_store_leaf_meta last, first;
			if (ist_node_route_allowed(n, txn, x->src, x->dst, n->att.chains[ci].observed, &size, &allowed,
						   NULL) < 0)
				continue;
			if (allowed < size && ist_store_route_meta_get(txn, x->src, x->dst, size - 1, &last) == 0) {
				unsigned __int128 v = last.cum_value;
				if (allowed > 0 && ist_store_route_meta_get(txn, x->src, x->dst, allowed - 1, &first) == 0)
					v -= first.cum_value;
				value = (double)v;
			}
		}
		char label[48];
		snprintf(label, sizeof(label), "%" PRIu64 "->%" PRIu64, x->src, x->dst);
		ist_metric_set(n->att.m_held, label, (double)(size - allowed));
		ist_metric_set(n->att.m_held_value, label, value);
	}
	ist_store_read_end(txn);
}

/* ---- proposing and checking checkpoints ---- */

static bool later(uint64_t e1, uint64_t v1, uint64_t e2, uint64_t v2)
{
	return e1 > e2 || (e1 == e2 && v1 > v2);
}

size_t ist_node_attest_propose(struct ist_node *n, struct ist_payload_item *out, size_t max)
{
	struct ist_node_attest *a = &n->att;
	if (!a->n_chains || !max)
		return 0;
	struct ist_txn *txn;
	if (ist_store_read_begin(n->store, &txn) < 0)
		return 0;
	size_t k = 0;
	for (size_t i = 0; i < a->n_chains && k < max; i++) {
		const struct ist_node_chainst *cs = &a->chains[i];
		if (cs->halted)
			continue;
		for (size_t j = 0; j < a->n_chains && k < max; j++) {
			if (i == j)
				continue;
			const struct ist_node_route *rt = &a->routes[i * a->n_chains + j];
			if (ist_gov_route_paused(ist_ledger_gov(n->ledger), rt->src, rt->dst))
				continue;   /* a circuit breaker: no new checkpoint */
			uint64_t floor = rt->has_committed ? rt->committed.tree_size : 0;
			if (rt->pend_size > floor && later(rt->pend_epoch, rt->pend_view, a->commit_epoch, a->commit_view))
				floor = rt->pend_size;
			uint64_t size, have;
			uint8_t root[IST_HASH_BYTES];
			if (ist_node_route_allowed(n, txn, rt->src, rt->dst, cs->observed, &have, &size, NULL) < 0 ||
			    size <= floor)
				continue;   /* nothing new, or all of it held by the route's limits */
			struct ist_store_route_source rs;
			ist_store_route_source_init(&rs, txn, rt->src, rt->dst);
			if (ist_merkle_source_root(&rs.source, size, root) < 0)
				continue;
			struct ist_payload_item *it = &out[k++];
			memset(it, 0, sizeof(*it));
			it->kind = IST_PAYLOAD_CHECKPOINT;
			it->u.checkpoint.src_chain = rt->src;
			it->u.checkpoint.dst_chain = rt->dst;
			it->u.checkpoint.src_height = cs->observed;
			it->u.checkpoint.tree_size = size;
			memcpy(it->u.checkpoint.root, root, IST_HASH_BYTES);
		}
	}
	ist_store_read_end(txn);
	return k;
}

enum cp_check {
	CP_OK,
	CP_NOT_YET,     /* the watcher has not reached src_height */
	CP_HELD,        /* covers leaves the route's limits hold (as this node's ledger stands) */
	CP_MISMATCH,    /* another tree size at src_height */
	CP_CONFLICT,    /* the same tree size with another root */
	CP_ERROR,
};

/* Checks cp against this node's own route tree (in txn). */
static enum cp_check cp_check(struct ist_node *n, struct ist_txn *txn, const struct ist_checkpoint *cp)
{
	long ci = chain_index(n, cp->src_chain);
	if (ci < 0)
		return CP_MISMATCH;
	const struct ist_node_chainst *cs = &n->att.chains[ci];
	if (cs->observed < cp->src_height)
		return CP_NOT_YET;
	uint64_t size, allowed;
	if (ist_node_route_allowed(n, txn, cp->src_chain, cp->dst_chain, cp->src_height, &size, &allowed, NULL) < 0)
		return CP_ERROR;
	uint64_t have;
	if (ist_store_route_size(txn, cp->src_chain, cp->dst_chain, &have) < 0)
		return CP_ERROR;
	if (cp->tree_size > have)
		return CP_MISMATCH;
	struct ist_store_route_source rs;
	ist_store_route_source_init(&rs, txn, cp->src_chain, cp->dst_chain);
	uint8_t root[IST_HASH_BYTES];
	if (cp->tree_size > 0 && ist_merkle_source_root(&rs.source, cp->tree_size, root) < 0)
		return CP_ERROR;
	if (cp->tree_size > 0 && sodium_memcmp(root, cp->root, IST_HASH_BYTES) != 0)
		return CP_CONFLICT;
	const struct ist_gov_route_state *grs = ist_gov_route(ist_ledger_gov(n->ledger), cp->src_chain, cp->dst_chain);
	if (!grs || !grs->limited)
		return size == cp->tree_size ? CP_OK : CP_MISMATCH;
	/* a limited route: any prefix within what the limits let through
	 * (a leader whose ledger is behind may let through less) */
	if (cp->tree_size > size)
		return CP_MISMATCH;
	return cp->tree_size <= allowed ? CP_OK : CP_HELD;
}

enum ist_cons_verdict ist_node_attest_validate(struct ist_node *n, const struct ist_block *b)
{
	enum ist_cons_verdict v = IST_CONS_VALID;
	struct ist_txn *txn = NULL;
	bool seen[IST_NODE_MAX_CHAINS * IST_NODE_MAX_CHAINS];
	bool any = false;
	for (size_t i = 0; i < b->n_items && v != IST_CONS_INVALID; i++) {
		if (b->items[i].kind != IST_PAYLOAD_CHECKPOINT)
			continue;
		const struct ist_checkpoint *cp = &b->items[i].u.checkpoint;
		struct ist_node_route *rt = route_of(n, cp->src_chain, cp->dst_chain);
		if (!any) {
			memset(seen, 0, sizeof(seen));
			any = true;
		}
		const char *why = NULL;
		size_t ri = rt ? (size_t)(rt - n->att.routes) : 0;
		if (!rt)
			why = "not a route of this network";
		else if (seen[ri])
			why = "a second checkpoint for the route in one block";
		else if (cp->tree_size == 0)
			why = "an empty tree";
		else if (rt->has_committed &&
			 (cp->tree_size <= rt->committed.tree_size || cp->src_height < rt->committed.src_height))
			why = "does not advance the route's last committed checkpoint";
		else if (n->att.chains[chain_index(n, cp->src_chain)].halted)
			why = "attestation of the source chain is stopped on this node";
		else if (ist_gov_route_paused(ist_ledger_gov(n->ledger), cp->src_chain, cp->dst_chain))
			why = "the route (or one of its chains) is paused by governance";
		if (why) {
			ist_log_warn(SUBSYS, "block %" PRIu64 " view %" PRIu64 ": checkpoint %" PRIu64 "->%" PRIu64
				     " size %" PRIu64 ": %s", b->height, b->view, cp->src_chain, cp->dst_chain,
				     cp->tree_size, why);
			v = IST_CONS_INVALID;
			break;
		}
		seen[ri] = true;
		if (!txn && ist_store_read_begin(n->store, &txn) < 0)
			return IST_CONS_NOT_YET;
		switch (cp_check(n, txn, cp)) {
		case CP_OK:
			break;
		case CP_NOT_YET:
			v = IST_CONS_NOT_YET;
			break;
		case CP_HELD:
			/* asked again as this node's ledger and watcher move */
			ist_log_info(SUBSYS, "block %" PRIu64 " view %" PRIu64 ": checkpoint %" PRIu64 "->%" PRIu64
				     " size %" PRIu64 " covers messages the route's limits still hold here: not yet",
				     b->height, b->view, cp->src_chain, cp->dst_chain, cp->tree_size);
			v = IST_CONS_NOT_YET;
			break;
		case CP_CONFLICT:
			n->att.conflict = true;
			n->att.conflict_cp = *cp;
			n->att.conflict_view = b->view;
			n->att.conflict_epoch = b->epoch;
			n->att.conflict_proposer = b->proposer;
			ist_metric_inc(n->att.m_evidence, "checkpoint");
			ist_log_error(SUBSYS, "block %" PRIu64 " view %" PRIu64 " from validator %" PRIu32
				      ": checkpoint %" PRIu64 "->%" PRIu64 " size %" PRIu64
				      " has another root than this node's tree: refused, kept as evidence",
				      b->height, b->view, b->proposer, cp->src_chain, cp->dst_chain, cp->tree_size);
			v = IST_CONS_INVALID;
			break;
		case CP_MISMATCH:
			ist_log_warn(SUBSYS, "block %" PRIu64 " view %" PRIu64 ": checkpoint %" PRIu64 "->%" PRIu64
				     " at source height %" PRIu64 " with size %" PRIu64
				     " does not match this node's watcher: refused", b->height, b->view, cp->src_chain,
				     cp->dst_chain, cp->src_height, cp->tree_size);
			v = IST_CONS_INVALID;
			break;
		case CP_ERROR:
			v = IST_CONS_NOT_YET;
			break;
		}
	}
	ist_store_read_end(txn);
	return v;
}

void ist_node_attest_pending(struct ist_node *n, const struct ist_block *b)
{
	for (size_t i = 0; i < b->n_items; i++) {
		if (b->items[i].kind != IST_PAYLOAD_CHECKPOINT)
			continue;
		const struct ist_checkpoint *cp = &b->items[i].u.checkpoint;
		struct ist_node_route *rt = route_of(n, cp->src_chain, cp->dst_chain);
		if (rt && (cp->tree_size > rt->pend_size || later(b->epoch, b->view, rt->pend_epoch, rt->pend_view))) {
			rt->pend_size = IST_MAX(rt->pend_size, cp->tree_size);
			rt->pend_epoch = b->epoch;
			rt->pend_view = b->view;
		}
	}
}

static bool has_checkpoints(const struct ist_block *b);

void ist_node_attest_seen_proposal(struct ist_node *n, const struct ist_proposal *p)
{
	if (!has_checkpoints(&p->block))
		return;
	struct ist_node_attest *a = &n->att;
	struct ist_node_recent *slot = &a->recent[a->recent_next++ % IST_NODE_RECENT_PROPOSALS];
	free(slot->enc);
	memset(slot, 0, sizeof(*slot));
	if (ist_wire_proposal_encode(p, &slot->enc, &slot->len) < 0)
		return;
	slot->view = p->block.view;
	slot->epoch = p->block.epoch;
	slot->proposer = p->block.proposer;
}

void ist_node_attest_keep_evidence(struct ist_node *n)
{
	struct ist_node_attest *a = &n->att;
	if (!a->conflict)
		return;
	a->conflict = false;
	/* the signed proposal that carried the conflicting checkpoint: among
	 * the recent ones (validate may have met it on a recheck, after the
	 * proposal itself was stepped) */
	const struct ist_node_recent *found = NULL;
	for (size_t i = 0; i < IST_NODE_RECENT_PROPOSALS; i++) {
		const struct ist_node_recent *r = &a->recent[i];
		if (r->enc && r->view == a->conflict_view && r->epoch == a->conflict_epoch &&
		    r->proposer == a->conflict_proposer)
			found = r;
	}
	if (!found) {
		ist_log_warn(SUBSYS, "the proposal with the conflicting checkpoint is no longer at hand: counted, not kept");
		return;
	}
	const struct ist_checkpoint *cp = &a->conflict_cp;
	uint8_t k[EV_KEY_BYTES];
	k[0] = 'c';
	k[1] = 'p';
	ist_put_be64(k + 2, cp->src_chain);
	ist_put_be64(k + 10, cp->dst_chain);
	ist_put_be64(k + 18, cp->tree_size);
	ist_put_be32(k + 26, found->proposer);
	struct ist_node_kv kv = { .db = IST_STORE_DB_EVIDENCE, .key = k, .klen = sizeof(k), .val = found->enc,
				  .vlen = found->len };
	int r = ist_store_write(n->store, ist_node_kv_write, &kv);
	if (r < 0)
		ist_log_error(SUBSYS, "cannot store the evidence: %s", ist_strerror(r));
}

/* ---- commits ---- */

int ist_node_attest_commit_txn(struct ist_txn *txn, const struct ist_block *b)
{
	size_t count = 0;
	for (size_t i = 0; i < b->n_items; i++)
		count += b->items[i].kind == IST_PAYLOAD_CHECKPOINT;
	size_t idx = 0;
	for (size_t i = 0; i < b->n_items; i++) {
		if (b->items[i].kind != IST_PAYLOAD_CHECKPOINT)
			continue;
		const struct ist_checkpoint *cp = &b->items[i].u.checkpoint;
		uint8_t *enc = NULL;
		size_t len = 0;
		int r = ist_wire_checkpoint_encode(cp, &enc, &len);
		if (r < 0)
			return r;
		uint8_t *v = malloc(IST_NODE_CP_HEAD_BYTES + len);
		if (!v) {
			free(enc);
			return -IST_ENOMEM;
		}
		ist_put_be64(v, b->height);
		ist_put_be32(v + 8, (uint32_t)idx);
		ist_put_be32(v + 12, (uint32_t)count);
		memcpy(v + IST_NODE_CP_HEAD_BYTES, enc, len);
		free(enc);
		/* the first commit of a (route, size) is where relayers find it */
		const uint8_t *old;
		size_t olen;
		r = ist_store_checkpoint_get(txn, cp->src_chain, cp->dst_chain, cp->tree_size, &old, &olen);
		if (r == -IST_ENOTFOUND)
			r = ist_store_checkpoint_put(txn, cp->src_chain, cp->dst_chain, cp->tree_size, v,
						     IST_NODE_CP_HEAD_BYTES + len);
		free(v);
		if (r < 0)
			return r;
		idx++;
	}
	return 0;
}

/* ---- signing ---- */

struct sign_write {
	const struct ist_block *b;
	struct ist_node *n;
	const struct ist_attest_share *share;
};

static int sign_write_fn(struct ist_txn *txn, void *ctx)
{
	const struct sign_write *w = ctx;
	int r = 0;
	for (size_t i = 0; i < w->b->n_items && r == 0; i++) {
		if (w->b->items[i].kind != IST_PAYLOAD_CHECKPOINT)
			continue;
		const struct ist_checkpoint *cp = &w->b->items[i].u.checkpoint;
		const struct ist_node_route *rt = route_of(w->n, cp->src_chain, cp->dst_chain);
		if (!rt || (rt->has_wm && cp->tree_size <= rt->wm_size))
			continue;
		uint8_t k[WM_KEY_BYTES], v[8 + IST_HASH_BYTES];
		wm_key(k, cp->src_chain, cp->dst_chain);
		ist_put_be64(v, cp->tree_size);
		memcpy(v + 8, cp->root, IST_HASH_BYTES);
		r = ist_store_put(txn, IST_STORE_DB_SAFETY, k, sizeof(k), v, sizeof(v));
	}
	if (r == 0)
		r = ist_store_share_put(txn, w->share->height, w->share->signer, w->share->signature,
					IST_SECP_SIG_BYTES);
	return r;
}

static void unsigned_push(struct ist_node *n, uint64_t height)
{
	struct ist_node_attest *a = &n->att;
	if (a->n_unsigned == IST_NODE_MAX_UNSIGNED) {
		ist_log_warn(SUBSYS, "too many blocks waiting for this node's watcher: height %" PRIu64
			     " will not be signed by this node", a->unsigned_heights[0]);
		memmove(a->unsigned_heights, a->unsigned_heights + 1, (a->n_unsigned - 1) * sizeof(uint64_t));
		a->n_unsigned--;
	}
	if (!a->unsigned_heights) {
		a->unsigned_heights = calloc(IST_NODE_MAX_UNSIGNED, sizeof(uint64_t));
		if (!a->unsigned_heights)
			return;
	}
	a->unsigned_heights[a->n_unsigned++] = height;
}

/* Signs committed block b if its checkpoints match this node's trees.
 * Returns false when the watcher is still behind (try again later). */
static bool sign_block(struct ist_node *n, const struct ist_block *b)
{
	struct ist_node_attest *a = &n->att;
	if (!a->has_seckey)
		return true;
	struct ist_txn *txn;
	if (ist_store_read_begin(n->store, &txn) < 0)
		return false;
	/* our index in the block's epoch, if we are one of its validators */
	struct ist_ledger_set *set = malloc(sizeof(*set));
	uint32_t me = UINT32_MAX;
	if (!set || ist_node_epoch_set_read(txn, b->epoch, set) < 0) {
		free(set);
		ist_store_read_end(txn);
		return false;
	}
	for (uint32_t i = 0; i < set->n; i++)
		if (!memcmp(set->node_keys[i], n->pub, IST_ED25519_PUBKEY_BYTES))
			me = i;
	free(set);
	if (me == UINT32_MAX) {
		ist_store_read_end(txn);
		return true;
	}
	const uint8_t *v;
	size_t vlen;
	bool done = ist_store_share_get(txn, b->height, me, &v, &vlen) == 0;
	enum cp_check worst = CP_OK;
	for (size_t i = 0; i < b->n_items && !done && worst == CP_OK; i++) {
		if (b->items[i].kind != IST_PAYLOAD_CHECKPOINT)
			continue;
		const struct ist_checkpoint *cp = &b->items[i].u.checkpoint;
		const struct ist_node_route *rt = route_of(n, cp->src_chain, cp->dst_chain);
		worst = rt ? cp_check(n, txn, cp) : CP_MISMATCH;
		if (worst == CP_OK && rt->has_wm && cp->tree_size == rt->wm_size &&
		    sodium_memcmp(cp->root, rt->wm_root, IST_HASH_BYTES) != 0)
			worst = CP_CONFLICT;
	}
	struct ist_attest_share s = { .epoch = b->epoch, .height = b->height, .signer = me };
	const struct ist_node_root *known = &a->roots[b->height % IST_NODE_RECENT_ROOTS];
	bool rooted = true;
	if (known->height == b->height && b->height > 0)
		memcpy(s.batch_root, known->batch_root, IST_HASH_BYTES);
	else if (!done && worst == CP_OK)
		rooted = ist_node_batch_root(n, txn, b, s.batch_root, NULL, NULL) == 0;
	ist_store_read_end(txn);
	if (done)
		return true;
	if (worst == CP_NOT_YET || worst == CP_ERROR || !rooted)
		return false;
	if (worst != CP_OK) {
		ist_metric_inc(a->m_refused, NULL);
		ist_log_error(SUBSYS, "height %" PRIu64 ": the committed checkpoints do not match this node's "
			      "watcher: not signing (check this node's source-chain RPC)", b->height);
		return true;
	}
	uint8_t digest[IST_HASH_BYTES];
	ist_wire_attest_digest(n->g.network_id, b->epoch, b->height, s.batch_root, digest);
	if (ist_secp_sign(a->seckey, digest, s.signature) < 0)
		return false;
	struct sign_write w = { .b = b, .n = n, .share = &s };
	int r = ist_store_write(n->store, sign_write_fn, &w);
	if (r < 0) {
		ist_log_error(SUBSYS, "height %" PRIu64 ": cannot persist the share: %s", b->height, ist_strerror(r));
		return false;
	}
	/* durable: the watermarks may move, the share may leave */
	for (size_t i = 0; i < b->n_items; i++) {
		if (b->items[i].kind != IST_PAYLOAD_CHECKPOINT)
			continue;
		const struct ist_checkpoint *cp = &b->items[i].u.checkpoint;
		struct ist_node_route *rt = route_of(n, cp->src_chain, cp->dst_chain);
		if (rt && (!rt->has_wm || cp->tree_size > rt->wm_size)) {
			rt->has_wm = true;
			rt->wm_size = cp->tree_size;
			memcpy(rt->wm_root, cp->root, IST_HASH_BYTES);
		}
	}
	ist_metric_inc(a->m_signed, NULL);
	struct ist_envelope env = { .kind = IST_ENVELOPE_ATTEST_SHARE };
	env.u.attest_share = s;
	if ((r = ist_net_broadcast(n->net, &env)) < 0)
		ist_log_warn(SUBSYS, "cannot broadcast the share of height %" PRIu64 ": %s", b->height, ist_strerror(r));
	ist_node_attest_share(n, me, &s);
	return true;
}

static bool has_checkpoints(const struct ist_block *b)
{
	for (size_t i = 0; i < b->n_items; i++)
		if (b->items[i].kind == IST_PAYLOAD_CHECKPOINT)
			return true;
	return false;
}

static void early_replay(struct ist_node *n, uint64_t height);

void ist_node_attest_committed(struct ist_node *n, const struct ist_block *b)
{
	struct ist_node_attest *a = &n->att;
	a->commit_epoch = b->epoch;
	a->commit_view = b->view;
	a->commit_height = b->height;
	const struct ist_ledger_set *es = ist_ledger_set_get(n->ledger, b->epoch);
	bool ends = es && es->end_height == b->height;
	if (!has_checkpoints(b) && !ends && !ist_gov_events_at(ist_ledger_gov(n->ledger), b->height, NULL, 0))
		return;   /* nothing to certify */
	struct ist_node_root *root = &a->roots[b->height % IST_NODE_RECENT_ROOTS];
	root->height = 0;
	struct ist_txn *txn;
	if (ist_store_read_begin(n->store, &txn) == 0) {
		if (ist_node_batch_root(n, txn, b, root->batch_root, NULL, NULL) == 0) {
			root->height = b->height;
			root->epoch = b->epoch;
		}
		ist_store_read_end(txn);
	}
	for (size_t i = 0; i < b->n_items; i++) {
		if (b->items[i].kind != IST_PAYLOAD_CHECKPOINT)
			continue;
		const struct ist_checkpoint *cp = &b->items[i].u.checkpoint;
		struct ist_node_route *rt = route_of(n, cp->src_chain, cp->dst_chain);
		if (rt && (!rt->has_committed || cp->tree_size > rt->committed.tree_size)) {
			rt->committed = *cp;
			rt->has_committed = true;
		}
	}
	if (!sign_block(n, b))
		unsigned_push(n, b->height);
	early_replay(n, b->height);
}

/* The watcher moved: sign what waited for it. */
void ist_node_attest_retry(struct ist_node *n)
{
	struct ist_node_attest *a = &n->att;
	size_t k = 0;
	for (size_t i = 0; i < a->n_unsigned; i++) {
		uint64_t h = a->unsigned_heights[i];
		struct ist_block *b = NULL;
		bool keep = true;
		struct ist_txn *txn;
		if (ist_store_read_begin(n->store, &txn) == 0) {
			if (ist_node_block_at(txn, h, &b, NULL) < 0)
				keep = false;
			ist_store_read_end(txn);
		}
		if (b) {
			keep = !sign_block(n, b);
			ist_wire_block_free(b);
		}
		if (keep)
			a->unsigned_heights[k++] = h;
	}
	a->n_unsigned = k;
}

/* ---- shares and certificates ---- */

struct cert_write {
	uint64_t height;
	const uint8_t *enc;
	size_t len;
	const struct ist_attest_share *share;   /* to store first, or NULL */
};

static int cert_write_fn(struct ist_txn *txn, void *ctx)
{
	const struct cert_write *w = ctx;
	int r = 0;
	if (w->share)
		r = ist_store_share_put(txn, w->share->height, w->share->signer, w->share->signature, IST_SECP_SIG_BYTES);
	if (r == 0 && w->enc)
		r = ist_store_certificate_put(txn, w->height, w->enc, w->len);
	return r;
}

static void early_keep(struct ist_node *n, const struct ist_attest_share *s)
{
	struct ist_node_attest *a = &n->att;
	if (!a->early && !(a->early = calloc(IST_NODE_MAX_EARLY_SHARES, sizeof(*a->early))))
		return;
	if (a->n_early == IST_NODE_MAX_EARLY_SHARES) {
		ist_metric_inc(a->m_shares, "dropped_early");
		return;
	}
	a->early[a->n_early++] = *s;
}

static void early_replay(struct ist_node *n, uint64_t height)
{
	struct ist_node_attest *a = &n->att;
	size_t k = 0;
	for (size_t i = 0; i < a->n_early; i++) {
		struct ist_attest_share s = a->early[i];
		if (s.height <= height)
			ist_node_attest_share(n, s.signer, &s);
		else
			a->early[k++] = s;
	}
	a->n_early = k;
}

void ist_node_attest_share(struct ist_node *n, uint32_t peer, const struct ist_attest_share *s)
{
	struct ist_node_attest *a = &n->att;
	(void)peer;
	if (s->height > a->commit_height) {
		early_keep(n, s);
		return;
	}
	struct ist_txn *txn;
	if (ist_store_read_begin(n->store, &txn) < 0)
		return;
	struct ist_ledger_set *set = malloc(sizeof(*set));
	if (!set || ist_node_epoch_set_read(txn, s->epoch, set) < 0 || s->signer >= set->n) {
		ist_store_read_end(txn);
		free(set);
		ist_metric_inc(a->m_shares, "unknown_signer");
		return;
	}
	const uint8_t *v;
	size_t vlen;
	struct ist_block *b = NULL;
	bool have_cert = ist_store_certificate_get(txn, s->height, &v, &vlen) == 0;
	bool have_share = ist_store_share_get(txn, s->height, s->signer, &v, &vlen) == 0;
	bool self = !memcmp(set->node_keys[s->signer], n->pub, IST_ED25519_PUBKEY_BYTES);
	/* the batch root of our own block at that height: remembered at commit,
	 * or (an older height) recomputed from the stored block */
	const struct ist_node_root *known = &a->roots[s->height % IST_NODE_RECENT_ROOTS];
	struct ist_node_root mine = { 0 };
	bool have_root = known->height == s->height && s->height > 0;
	if (have_root)
		mine = *known;
	else if (!have_cert && (!have_share || self) && ist_node_block_at(txn, s->height, &b, NULL) == 0) {
		mine.height = s->height;
		mine.epoch = b->epoch;
		have_root = ist_node_batch_root(n, txn, b, mine.batch_root, NULL, NULL) == 0;
		ist_wire_block_free(b);
	}
	ist_store_read_end(txn);
	if (have_cert || (have_share && !self) || !have_root) {
		free(set);
		return;
	}
	uint8_t digest[IST_HASH_BYTES], pub[IST_SECP_PUBKEY_BYTES];
	bool ok = mine.epoch == s->epoch && sodium_memcmp(mine.batch_root, s->batch_root, IST_HASH_BYTES) == 0;
	if (ok) {
		ist_wire_attest_digest(n->g.network_id, s->epoch, s->height, s->batch_root, digest);
		ok = ist_secp_recover(digest, s->signature, pub) == 0 &&
		     sodium_memcmp(pub, set->attest_keys[s->signer], IST_SECP_PUBKEY_BYTES) == 0;
	}
	if (!ok) {
		free(set);
		ist_metric_inc(a->m_shares, "invalid");
		ist_log_warn(SUBSYS, "invalid share from validator %" PRIu32 " for height %" PRIu64 ": dropped",
			     s->signer, s->height);
		return;
	}
	ist_metric_inc(a->m_shares, "valid");

	/* gather the shares of this height, in validator order */
	struct ist_certificate *cert = calloc(1, sizeof(*cert));
	if (!cert) {
		free(set);
		return;
	}
	cert->scheme = IST_CERT_MULTISIG_SECP256K1;
	cert->network_id = n->g.network_id;
	cert->epoch = s->epoch;
	cert->height = s->height;
	memcpy(cert->batch_root, s->batch_root, IST_HASH_BYTES);
	uint64_t stake = 0;
	if (ist_store_read_begin(n->store, &txn) < 0) {
		free(cert);
		free(set);
		return;
	}
	for (uint32_t i = 0; i < set->n; i++) {
		const uint8_t *sig = NULL;
		size_t slen = 0;
		if (i == s->signer)
			sig = s->signature;
		else if (ist_store_share_get(txn, s->height, i, &sig, &slen) < 0 || slen != IST_SECP_SIG_BYTES)
			continue;
		if (ist_wire_bitmap_set(cert->signers, i) < 0)
			continue;
		memcpy(cert->sigs[cert->n_sigs++], sig, IST_SECP_SIG_BYTES);
		stake += set->stakes[i];
	}
	ist_store_read_end(txn);
	/* more than 2/3 of the stake, without overflow */
	bool quorum = (unsigned __int128)stake * 3 > (unsigned __int128)set->total * 2;
	free(set);
	struct cert_write w = { .height = s->height, .share = self ? NULL : s };
	uint8_t *enc = NULL;
	if (quorum && ist_wire_certificate_encode(cert, &enc, &w.len) == 0)
		w.enc = enc;
	size_t signers = cert->n_sigs;
	free(cert);
	if (w.share || w.enc) {
		int r = ist_store_write(n->store, cert_write_fn, &w);
		if (r < 0)
			ist_log_error(SUBSYS, "height %" PRIu64 ": cannot store the share or certificate: %s", s->height,
				      ist_strerror(r));
		else if (w.enc) {
			ist_metric_inc(a->m_certs, NULL);
			ist_log_info(SUBSYS, "certificate for height %" PRIu64 " (%zu signers)", s->height, signers);
			ist_node_events_push(n, s->height);
		}
	}
	free(enc);
}
