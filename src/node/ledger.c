/*
 * The node's side of the ledger (state/ledger.h): loading it from the store,
 * the core's apply callback, writing what changed in the commit's
 * transaction, epoch changes (the new set for the core and the network, the
 * proof other nodes fetch to follow), and the batch root of a block that
 * ends an epoch (its last leaf is the hand-over of the next set).
 *
 * Keys (docs/architecture.md, "Storage"):
 *   accounts    'a' || key (32)          -> balance u64 || nonce u64
 *               't' || tx id (32)        -> receipt (ist_ledger_receipt_decode)
 *   validators  "state"                  -> the rest of the ledger
 *               "frost"                  -> the FROST state (state/frost_ledger.h)
 *               "gov"                    -> governance (state/gov.h)
 *               "breaker"                -> the circuit breakers (state/breaker.h)
 *   epochs      'e' || epoch (u64)       -> set (ist_ledger_set_decode)
 *               'p' || epoch (u64)       -> proof that the epoch ended:
 *                                           u32 count, count x (u32 len, block),
 *                                           u32 len, QC (top first)
 *   evidence    'x' || height || index   -> evidence record
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "node/internal.h"
#include "node/ledger.h"
#include "state/gov.h"
#include "storage/blocks.h"
#include "wire/canonical.h"
#include "wire/codec.h"

#define SUBSYS "ledger"

static const uint8_t STATE_KEY[] = "state";
static const uint8_t FROST_KEY[] = "frost";
static const uint8_t GOV_KEY[] = "gov";
static const uint8_t BREAKER_KEY[] = "breaker";
static const uint8_t ROUTES_KEY[] = "routes";

static int sink_put(void *ctx, enum ist_ledger_table t, const uint8_t *key, size_t klen, const uint8_t *val,
		    size_t vlen)
{
	struct ist_txn *txn = ctx;
	uint8_t k[1 + 64];
	if (klen > 64)
		return -IST_EINVAL;
	switch (t) {
	case IST_LEDGER_T_ACCOUNT:
		k[0] = 'a';
		memcpy(k + 1, key, klen);
		return ist_store_put(txn, IST_STORE_DB_ACCOUNTS, k, klen + 1, val, vlen);
	case IST_LEDGER_T_RECEIPT:
		k[0] = 't';
		memcpy(k + 1, key, klen);
		return ist_store_put(txn, IST_STORE_DB_ACCOUNTS, k, klen + 1, val, vlen);
	case IST_LEDGER_T_STATE:
		return ist_store_put(txn, IST_STORE_DB_VALIDATORS, STATE_KEY, 5, val, vlen);
	case IST_LEDGER_T_FROST:
		return ist_store_put(txn, IST_STORE_DB_VALIDATORS, FROST_KEY, 5, val, vlen);
	case IST_LEDGER_T_GOV:
		return ist_store_put(txn, IST_STORE_DB_VALIDATORS, GOV_KEY, 3, val, vlen);
	case IST_LEDGER_T_PAUSES:
		k[0] = 'P';
		memcpy(k + 1, key, klen);
		return ist_store_put(txn, IST_STORE_DB_VALIDATORS, k, klen + 1, val, vlen);
	case IST_LEDGER_T_GOV_ROUTES:
		return ist_store_put(txn, IST_STORE_DB_VALIDATORS, ROUTES_KEY, 6, val, vlen);
	case IST_LEDGER_T_BREAKER:
		return ist_store_put(txn, IST_STORE_DB_VALIDATORS, BREAKER_KEY, 7, val, vlen);
	case IST_LEDGER_T_EPOCH:
		k[0] = 'e';
		memcpy(k + 1, key, klen);
		return ist_store_put(txn, IST_STORE_DB_EPOCHS, k, klen + 1, val, vlen);
	case IST_LEDGER_T_EVIDENCE:
		k[0] = 'x';
		memcpy(k + 1, key, klen);
		return ist_store_put(txn, IST_STORE_DB_EVIDENCE, k, klen + 1, val, vlen);
	}
	return -IST_EINVAL;
}

int ist_node_ledger_flush_txn(struct ist_node *n, struct ist_txn *txn)
{
	struct ist_ledger_sink sink = { .put = sink_put, .ctx = txn };
	return ist_ledger_flush(n->ledger, &sink);
}

void ist_node_ledger_flushed(struct ist_node *n)
{
	pthread_mutex_lock(&n->ledger_mu);
	ist_ledger_flushed(n->ledger);
	pthread_mutex_unlock(&n->ledger_mu);
}

int ist_node_epoch_set_read(struct ist_txn *txn, uint64_t epoch, struct ist_ledger_set *ret)
{
	uint8_t k[9] = { 'e' };
	ist_put_be64(k + 1, epoch);
	const uint8_t *v;
	size_t vlen;
	int r = ist_store_get(txn, IST_STORE_DB_EPOCHS, k, sizeof(k), &v, &vlen);
	if (r < 0)
		return r;
	return ist_ledger_set_decode(v, vlen, ret);
}

/* ---- loading ---- */

static int ledger_new(struct ist_node *n, struct ist_ledger **ret)
{
	const struct ist_node_genesis *g = &n->g;
	struct ist_ledger_genesis_validator *vals = calloc(g->n_validators, sizeof(*vals));
	struct ist_ledger_genesis_account *accts = calloc(g->n_accounts ? g->n_accounts : 1, sizeof(*accts));
	int r = -IST_ENOMEM;
	if (vals && accts) {
		for (size_t i = 0; i < g->n_validators; i++) {
			vals[i].name = g->validators[i].name;
			vals[i].node_key = g->validators[i].node_key;
			vals[i].attest_key = g->validators[i].attestation_key;
			vals[i].dkg_key = g->validators[i].dkg_key;
			vals[i].address = g->validators[i].address;
			vals[i].stake = g->validators[i].stake;
		}
		for (size_t i = 0; i < g->n_accounts; i++) {
			accts[i].key = g->accounts[i].key;
			accts[i].balance = g->accounts[i].balance;
		}
		r = ist_ledger_new(&g->staking, g->network_id, vals, g->n_validators, accts, g->n_accounts, ret);
		/* the genesis's route limits, in force from the first block (a
		 * stored routes record, loaded after, replaces them) */
		for (size_t i = 0; r == 0 && i < g->n_route_limits; i++)
			r = ist_ledger_genesis_route_limits(*ret, g->route_limits[i].src, g->route_limits[i].dst,
							    &g->route_limits[i].lim);
	}
	free(vals);
	free(accts);
	return r;
}

static void epoch_from_set(const struct ist_ledger_set *s, const uint8_t root_id[IST_HASH_BYTES],
			   struct ist_cons_epoch *e)
{
	memset(e, 0, sizeof(*e));
	e->number = s->epoch;
	memcpy(e->root_id, root_id, IST_HASH_BYTES);
	e->n = s->n;
	for (uint32_t i = 0; i < s->n; i++) {
		memcpy(e->pubkeys[i], s->node_keys[i], IST_ED25519_PUBKEY_BYTES);
		e->stakes[i] = s->stakes[i];
	}
}

/* Loads the optional record `key` (NUL-terminated) of the validators
 * database into l with `load`. Returns 0 (also when there is none) or the
 * error. */
static int load_record(struct ist_txn *txn, struct ist_ledger *l, const uint8_t *key,
		       int (*load)(struct ist_ledger *, const uint8_t *, size_t))
{
	const uint8_t *v;
	size_t vlen;
	int r = ist_store_get(txn, IST_STORE_DB_VALIDATORS, key, strlen((const char *)key), &v, &vlen);
	if (r == 0)
		r = load(l, v, vlen);
	return r == -IST_ENOTFOUND ? 0 : r;
}

int ist_node_ledger_load(struct ist_node *n, uint64_t committed_height, char *errbuf, size_t errlen)
{
	struct ist_ledger *l = NULL;
	struct ist_txn *txn = NULL;
	struct ist_store_cursor *cur = NULL;
	const char *what = "the ledger";
	int r = ledger_new(n, &l);
	if (r < 0)
		goto out;
	if ((r = ist_store_read_begin(n->store, &txn)) < 0)
		goto out;
	const uint8_t *v;
	size_t vlen;
	r = ist_store_get(txn, IST_STORE_DB_VALIDATORS, STATE_KEY, 5, &v, &vlen);
	if (r == -IST_ENOTFOUND) {
		if (committed_height > 0) {
			r = -IST_EDB_CORRUPT;
			what = "the ledger (none stored, yet blocks are committed: a data directory of an older "
			       "isthmusd? start from a new one)";
			goto out;
		}
		r = 0;   /* genesis: the first commit writes it */
	} else if (r < 0) {
		goto out;
	} else {
		if ((r = ist_ledger_load_state(l, v, vlen)) < 0)
			goto out;
		what = "the governance state";
		if ((r = load_record(txn, l, GOV_KEY, ist_ledger_load_gov)) < 0)
			goto out;
		what = "the routes' governance state (last checkpoints, limits)";
		if ((r = load_record(txn, l, ROUTES_KEY, ist_ledger_load_gov_routes)) < 0)
			goto out;
		what = "the circuit breakers";
		if ((r = load_record(txn, l, BREAKER_KEY, ist_ledger_load_breaker)) < 0)
			goto out;
		what = "the FROST state";
		if ((r = load_record(txn, l, FROST_KEY, ist_ledger_load_frost)) < 0)
			goto out;
		what = "the accounts";
		if ((r = ist_store_cursor_open(txn, IST_STORE_DB_ACCOUNTS, &cur)) < 0)
			goto out;
		const uint8_t *key;
		size_t klen;
		uint8_t a = 'a';
		for (r = ist_store_cursor_get(cur, IST_STORE_SEEK_GE, &a, 1, &key, &klen, &v, &vlen); r == 0;
		     r = ist_store_cursor_get(cur, IST_STORE_NEXT, NULL, 0, &key, &klen, &v, &vlen)) {
			if (key[0] != 'a')
				break;
			if ((r = ist_ledger_load_account(l, key + 1, klen - 1, v, vlen)) < 0)
				goto out;
		}
		if (r < 0 && r != -IST_ENOTFOUND)
			goto out;
		r = 0;
		/* behind the chain (a crash between the commit of a block and
		 * the write of the ledger that goes with a later one): apply
		 * the committed blocks again, from the store */
		while (ist_ledger_height(l) < committed_height) {
			struct ist_block *b = NULL;
			struct ist_ledger_outcome o;
			uint64_t h = ist_ledger_height(l) + 1;
			what = "a committed block to apply again";
			if ((r = ist_node_block_at(txn, h, &b, NULL)) < 0)
				goto out;
			r = ist_ledger_apply_block(l, b, NULL, &o);
			ist_wire_block_free(b);
			if (r < 0)
				goto out;
			ist_log_warn(SUBSYS, "the ledger was behind the chain: applied block %" PRIu64 " again", h);
		}
		if (ist_ledger_height(l) != committed_height) {
			r = -IST_EDB_CORRUPT;
			snprintf(errbuf, errlen, "%s: the ledger is at height %" PRIu64 " but the chain at %" PRIu64,
				 n->cfg.data_path, ist_ledger_height(l), committed_height);
			what = NULL;
			goto out;
		}
	}
	/* the core's epoch: the ledger's current set, rooted at the block
	 * before its first */
	const struct ist_ledger_set *s = ist_ledger_current(l);
	uint8_t root[IST_HASH_BYTES];
	memcpy(root, n->genesis_id, IST_HASH_BYTES);
	if (s->start_height > 1) {
		what = "the root block of the current epoch";
		if ((r = ist_store_height_get(txn, s->start_height - 1, root)) < 0)
			goto out;
	}
	epoch_from_set(s, root, n->epoch);
	what = "the current epoch's set";
	if ((r = ist_cons_epoch_check(n->epoch)) < 0)
		goto out;
	pthread_mutex_lock(&n->ledger_mu);
	struct ist_ledger *old = n->ledger;
	n->ledger = l;
	pthread_mutex_unlock(&n->ledger_mu);
	ist_ledger_free(old);
	l = NULL;
out:
	if (r < 0 && what)
		snprintf(errbuf, errlen, "%s: cannot load %s: %s", n->cfg.data_path, what, ist_strerror(r));
	ist_store_cursor_close(cur);
	ist_store_read_end(txn);
	ist_ledger_free(l);
	return r;
}

/* ---- apply ---- */

int ist_node_apply(void *ctx, const struct ist_block *b, struct ist_cons_epoch *ret_next)
{
	struct ist_node *n = ctx;
	struct ist_ledger_outcome o;
	pthread_mutex_lock(&n->ledger_mu);
	uint64_t epoch = ist_ledger_current(n->ledger)->epoch;
	int r = b->epoch == epoch ? ist_ledger_apply_block(n->ledger, b, NULL, &o) : -IST_ESTATE;
	struct ist_ledger_set next;
	if (r == 0 && o.epoch_ended)
		next = *o.next;
	pthread_mutex_unlock(&n->ledger_mu);
	if (r < 0) {
		ist_log_error(SUBSYS, "cannot apply block %" PRIu64 " (epoch %" PRIu64 ", the ledger's %" PRIu64 "): %s",
			      b->height, b->epoch, epoch, ist_strerror(r));
		return r;
	}
	if (o.n_txs)
		ist_metric_add(n->m_txs, "ok", o.n_txs - o.n_failed);
	if (o.n_failed)
		ist_metric_add(n->m_txs, "failed", o.n_failed);
	if (o.n_evidence)
		ist_metric_add(n->m_evidence_applied, NULL, o.n_evidence);
	ist_node_breaker_metrics(n);
	if (!o.epoch_ended)
		return 0;
	memset(ret_next, 0, sizeof(*ret_next));
	ret_next->n = next.n;
	for (uint32_t i = 0; i < next.n; i++) {
		memcpy(ret_next->pubkeys[i], next.node_keys[i], IST_ED25519_PUBKEY_BYTES);
		ret_next->stakes[i] = next.stakes[i];
	}
	ist_log_info(SUBSYS, "epoch %" PRIu64 " ends at height %" PRIu64 ": epoch %" PRIu64 " has %" PRIu32
		     " validator(s), total stake %" PRIu64, b->epoch, b->height, next.epoch, next.n, next.total);
	return 1;
}

/* ---- the hand-over leaf and batch roots ---- */

int ist_node_handover_leaf(struct ist_node *n, struct ist_txn *txn, const struct ist_block *b, bool *ret_ends,
			   uint8_t ret_leaf32[IST_HASH_BYTES])
{
	struct ist_ledger_set *s = malloc(sizeof(*s));
	if (!s)
		return -IST_ENOMEM;
	*ret_ends = false;
	int r = ist_node_epoch_set_read(txn, b->epoch, s);
	if (r == 0 && s->end_height == b->height) {
		if ((r = ist_node_epoch_set_read(txn, b->epoch + 1, s)) == 0) {
			struct ist_valset *vs = malloc(sizeof(*vs));
			if (!vs) {
				free(s);
				return -IST_ENOMEM;
			}
			ist_ledger_set_valset(n->g.network_id, s, vs);
			ist_handover_leaf_hash(vs, ret_leaf32);
			free(vs);
			*ret_ends = true;
		}
	} else if (r == -IST_ENOTFOUND) {
		r = 0;
	}
	free(s);
	return r;
}

int ist_node_pause_events(struct ist_node *n, struct ist_txn *txn, uint64_t height, struct ist_gov_event *out,
			  size_t *ret_n)
{
	uint8_t k[9] = { 'P' };
	ist_put_be64(k + 1, height);
	const uint8_t *v;
	size_t vlen;
	int r = ist_store_get(txn, IST_STORE_DB_VALIDATORS, k, sizeof(k), &v, &vlen);
	if (r == 0)
		return ist_gov_events_decode(v, vlen, height, out, IST_GOV_MAX_BLOCK_EVENTS, ret_n);
	if (r != -IST_ENOTFOUND)
		return r;
	/* not written yet (the ledger's record goes with a later commit), or
	 * none: the ledger in memory knows the recent ones */
	pthread_mutex_lock(&n->ledger_mu);
	size_t k2 = ist_gov_events_at(ist_ledger_gov(n->ledger), height, out, IST_GOV_MAX_BLOCK_EVENTS);
	pthread_mutex_unlock(&n->ledger_mu);
	*ret_n = IST_MIN(k2, (size_t)IST_GOV_MAX_BLOCK_EVENTS);
	return 0;
}

/* The extra leaves of committed block b's batch tree, after its
 * checkpoints: its pause leaves, then the hand-over leaf when it ends its
 * epoch. leaves: room for IST_GOV_MAX_BLOCK_EVENTS + 1. */
static int extra_leaves(struct ist_node *n, struct ist_txn *txn, const struct ist_block *b,
			uint8_t (*leaves)[IST_HASH_BYTES], size_t *ret_pauses, bool *ret_ends)
{
	struct ist_gov_event *ev = malloc(IST_GOV_MAX_BLOCK_EVENTS * sizeof(*ev));
	if (!ev)
		return -IST_ENOMEM;
	size_t np = 0;
	int r = ist_node_pause_events(n, txn, b->height, ev, &np);
	if (r == 0)
		ist_gov_event_leaves(ev, np, n->g.network_id, leaves);
	free(ev);
	if (r == 0)
		r = ist_node_handover_leaf(n, txn, b, ret_ends, leaves[np]);
	*ret_pauses = np;
	return r;
}

int ist_node_batch_root(struct ist_node *n, struct ist_txn *txn, const struct ist_block *b,
			uint8_t ret_root32[IST_HASH_BYTES], size_t *ret_count, bool *ret_ends)
{
	uint8_t (*leaves)[IST_HASH_BYTES] = malloc((IST_GOV_MAX_BLOCK_EVENTS + 1) * IST_HASH_BYTES);
	if (!leaves)
		return -IST_ENOMEM;
	bool ends = false;
	size_t np = 0;
	int r = extra_leaves(n, txn, b, leaves, &np, &ends);
	if (r == 0) {
		if (ret_ends)
			*ret_ends = ends;
		r = ist_wire_block_batch_root_leaves(b, (const uint8_t (*)[IST_HASH_BYTES])leaves, np + ends, ret_root32,
						     ret_count);
	}
	free(leaves);
	return r;
}

int ist_node_batch_proof(struct ist_node *n, struct ist_txn *txn, uint64_t height, uint32_t index,
			 struct ist_inclusion_proof *ret, uint8_t ret_leaf32[IST_HASH_BYTES], uint64_t *ret_epoch)
{
	struct ist_block *b = NULL;
	int r = ist_node_block_at(txn, height, &b, NULL);
	if (r < 0)
		return r;
	if (ret_epoch)
		*ret_epoch = b->epoch;
	uint8_t (*leaves)[IST_HASH_BYTES] = calloc(b->n_items + IST_GOV_MAX_BLOCK_EVENTS + 1, IST_HASH_BYTES);
	if (!leaves) {
		ist_wire_block_free(b);
		return -IST_ENOMEM;
	}
	size_t k = 0;
	for (size_t i = 0; i < b->n_items; i++)
		if (b->items[i].kind == IST_PAYLOAD_CHECKPOINT)
			ist_wire_checkpoint_leaf_hash(&b->items[i].u.checkpoint, leaves[k++]);
	/* then the block's pause leaves, and the hand-over as the last leaf
	 * of a block that ends its epoch */
	bool ends = false;
	size_t cps = k, np = 0;
	r = extra_leaves(n, txn, b, leaves + k, &np, &ends);
	ist_wire_block_free(b);
	k += np + ends;
	if (r == 0 && index == IST_NODE_HANDOVER_INDEX) {
		if (!ends)
			r = -IST_EDB_CORRUPT;   /* the set says this block ended the epoch */
		index = (uint32_t)(cps + np);
	} else if (r == 0 && index >= IST_NODE_PAUSE_INDEX(0) && index - IST_NODE_PAUSE_INDEX(0) < np) {
		index = (uint32_t)(cps + index - IST_NODE_PAUSE_INDEX(0));
	} else if (r == 0 && index >= cps) {
		r = -IST_EDB_CORRUPT;
	}
	if (r == 0 && ret_leaf32)
		memcpy(ret_leaf32, leaves[index], IST_HASH_BYTES);
	if (r == 0) {
		memset(ret, 0, sizeof(*ret));
		ret->leaf_index = index;
		ret->tree_size = k;
		r = ist_merkle_inclusion_proof((const uint8_t (*)[IST_HASH_BYTES])leaves, k, index, ret->path,
					       &ret->path_len);
	}
	free(leaves);
	return r;
}

/* ---- epoch changes and epoch sync ---- */

struct proof_write {
	uint64_t epoch;
	const uint8_t *data;
	size_t len;
};

static int proof_write_fn(struct ist_txn *txn, void *ctx)
{
	const struct proof_write *w = ctx;
	uint8_t k[9] = { 'p' };
	ist_put_be64(k + 1, w->epoch);
	return ist_store_put(txn, IST_STORE_DB_EPOCHS, k, sizeof(k), w->data, w->len);
}

void ist_node_peers_update(struct ist_node *n)
{
	if (!n->net)
		return;
	const struct ist_cons_epoch *e = n->core ? ist_cons_epoch_current(n->core) : n->epoch;
	struct ist_net_peer *peers = calloc(IST_WIRE_MAX_VALIDATORS, sizeof(*peers));
	if (!peers)
		return;
	size_t k = 0;
	pthread_mutex_lock(&n->ledger_mu);
	/* the set's members at their index, then other registered validators
	 * (candidates, jailed ones catching up) after them */
	for (uint32_t i = 0; i < e->n; i++) {
		peers[k].index = i;
		memcpy(peers[k].pubkey, e->pubkeys[i], IST_ED25519_PUBKEY_BYTES);
		k++;
	}
	for (size_t i = 0; i < ist_ledger_n_validators(n->ledger) && k < IST_WIRE_MAX_VALIDATORS; i++) {
		const struct ist_ledger_validator *v = ist_ledger_validator_at(n->ledger, i);
		if (v->removed || ist_cons_epoch_index(e, v->node_key) != IST_CONS_OBSERVER)
			continue;
		peers[k].index = (uint32_t)k;
		memcpy(peers[k].pubkey, v->node_key, IST_ED25519_PUBKEY_BYTES);
		k++;
	}
	for (size_t j = 0; j < k; j++) {
		const struct ist_ledger_validator *v = ist_ledger_validator_find(n->ledger, peers[j].pubkey);
		const char *url = v ? v->address : "";
		for (size_t c = 0; c < n->cfg.n_peers; c++)
			if (memcmp(n->cfg.peers[c].node_key, peers[j].pubkey, IST_ED25519_PUBKEY_BYTES) == 0)
				url = n->cfg.peers[c].address;
		snprintf(peers[j].url, sizeof(peers[j].url), "%s", url);
	}
	pthread_mutex_unlock(&n->ledger_mu);
	int r = ist_net_set_peers(n->net, peers, k);
	if (r < 0)
		ist_log_warn(SUBSYS, "cannot update the peer set: %s", ist_strerror(r));
	free(peers);
}

void ist_node_epoch_changed(struct ist_node *n, struct ist_cons_action *a)
{
	const struct ist_cons_epoch *next = a->u.epoch.next;
	/* the proof that the old epoch ended, for peers that follow */
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put_be32(&b, (uint32_t)a->u.epoch.n_proof_blocks);
	for (size_t i = 0; i < a->u.epoch.n_proof_blocks; i++) {
		uint8_t *enc = NULL;
		size_t len = 0;
		if (ist_wire_block_encode(a->u.epoch.proof_blocks[i], &enc, &len) < 0) {
			ist_buf_fini(&b);
			return;
		}
		ist_buf_put_be32(&b, (uint32_t)len);
		ist_buf_put(&b, enc, len);
		free(enc);
	}
	uint8_t *qenc = NULL;
	size_t qlen = 0;
	if (a->u.epoch.proof_qc && ist_wire_qc_encode(a->u.epoch.proof_qc, &qenc, &qlen) == 0) {
		ist_buf_put_be32(&b, (uint32_t)qlen);
		ist_buf_put(&b, qenc, qlen);
		free(qenc);
	} else {
		ist_buf_put_be32(&b, 0);
	}
	if (ist_buf_err(&b) == 0) {
		struct proof_write w = { .epoch = next->number - 1, .data = b.data, .len = b.len };
		int r = ist_store_write(n->store, proof_write_fn, &w);
		if (r < 0)
			ist_log_warn(SUBSYS, "cannot keep the proof of epoch %" PRIu64 ": %s", w.epoch, ist_strerror(r));
	}
	ist_buf_fini(&b);
	*n->epoch = *next;
	uint32_t self = ist_cons_epoch_index(next, n->pub);
	pthread_mutex_lock(&n->st_mu);
	n->st_epoch = next->number;
	pthread_mutex_unlock(&n->st_mu);
	ist_metric_set(n->m_epoch, NULL, (double)next->number);
	if (self == IST_CONS_OBSERVER)
		ist_log_info(SUBSYS, "now in epoch %" PRIu64 " (%" PRIu32 " validators): this node is not one of them "
			     "(it follows the chain and signs nothing)", next->number, next->n);
	else
		ist_log_info(SUBSYS, "now in epoch %" PRIu64 " as validator %" PRIu32 " of %" PRIu32, next->number, self,
			     next->n);
	ist_node_peers_update(n);
}

/* The most blocks of a stored epoch proof this node serves. A proof is
 * normally a few blocks (the rest of the path above the epoch's last block
 * when it became final, and the certified block on top); the core places
 * at most IST_CONS_MAX_CHAIN blocks of one answer and keeps a bounded number
 * of unconnected ones, so a longer one could not be followed anyway. */
#define EPOCH_PROOF_MAX_BLOCKS 256

/* Sends blocks v[0..k-1] (top first) as one BlockResponse, with `qc` for the
 * top when not NULL. Takes the blocks (freed here, sent or not). */
static int proof_chunk_send(struct ist_node *n, uint32_t peer, struct ist_block **v, size_t k, const struct ist_qc *qc)
{
	struct ist_envelope *env = calloc(1, sizeof(*env));
	struct ist_block *blocks = calloc(k, sizeof(*blocks));
	if (!env || !blocks) {
		free(env);
		free(blocks);
		for (size_t i = 0; i < k; i++) {
			ist_wire_block_free(v[i]);
			v[i] = NULL;
		}
		return -IST_ENOMEM;
	}
	env->kind = IST_ENVELOPE_BLOCK_RESPONSE;
	/* the wire wants oldest first: move each block (its heap parts too) */
	for (size_t i = 0; i < k; i++) {
		blocks[k - 1 - i] = *v[i];
		free(v[i]);
		v[i] = NULL;
	}
	env->u.block_response.blocks = blocks;
	env->u.block_response.n_blocks = k;
	if (qc) {
		env->u.block_response.qc = *qc;
		env->u.block_response.has_qc = true;
	}
	int r = ist_net_send(n->net, peer, env);
	ist_wire_envelope_free(env);
	return r;
}

/*
 * Sends the proof that `epoch` ended (kept at the switch, top first) to a
 * peer still in it. A proof longer than one BlockResponse allows (count or
 * bytes) goes in several, from the top down: the first with the QC that
 * certifies the top, each next one topped by the parent of the lowest block
 * of the one before, which the peer's core then wants (its blocks wait as
 * orphans until the chain reaches the epoch's last block, which the peer
 * fetches, with the blocks between its root and that block, like any
 * other). The peer's core checks every block against the epoch's set.
 */
void ist_node_epoch_serve(struct ist_node *n, uint32_t peer, uint64_t epoch)
{
	struct ist_txn *txn;
	if (ist_store_read_begin(n->store, &txn) < 0)
		return;
	uint8_t k[9] = { 'p' };
	ist_put_be64(k + 1, epoch);
	const uint8_t *v;
	size_t vlen;
	struct ist_block **blocks = NULL;
	struct ist_qc *qc = NULL;
	uint32_t cnt = 0, got = 0;
	if (ist_store_get(txn, IST_STORE_DB_EPOCHS, k, sizeof(k), &v, &vlen) < 0 || vlen < 4)
		goto out;
	cnt = ist_get_be32(v);
	if (!cnt || cnt > EPOCH_PROOF_MAX_BLOCKS) {
		ist_log_warn(SUBSYS, "the proof of epoch %" PRIu64 " has %" PRIu32 " blocks: not served", epoch, cnt);
		goto out;
	}
	if (!(blocks = calloc(cnt, sizeof(*blocks))))
		goto out;
	size_t off = 4;
	for (; got < cnt; got++) {
		if (off + 4 > vlen)
			goto out;
		uint32_t len = ist_get_be32(v + off);
		off += 4;
		if (off + len > vlen || ist_wire_block_decode(v + off, len, &blocks[got], NULL) < 0)
			goto out;
		off += len;
	}
	if (off + 4 <= vlen) {
		uint32_t qlen = ist_get_be32(v + off);
		off += 4;
		if (qlen && off + qlen <= vlen && ist_wire_qc_decode(v + off, qlen, &qc, NULL) < 0)
			qc = NULL;
	}
	ist_store_read_end(txn);
	txn = NULL;
	/* room for the QC and the envelope's own fields, as serve_blocks */
	const size_t budget = IST_WIRE_MAX_ENVELOPE_BYTES - IST_WIRE_MAX_QC_BYTES - 1024;
	size_t first = 0, chunks = 0;
	int r = 0;
	while (first < cnt && r == 0) {
		size_t m = 0, total = 0;
		while (first + m < cnt && m < IST_WIRE_MAX_SYNC_BLOCKS) {
			uint8_t *enc = NULL;
			size_t len = 0;
			if (ist_wire_block_encode(blocks[first + m], &enc, &len) < 0) {
				r = -IST_ENOMEM;
				break;
			}
			free(enc);
			if (m > 0 && total + len + 16 > budget)
				break;
			total += len + 16;
			m++;
		}
		if (r < 0 || !m)
			break;
		r = proof_chunk_send(n, peer, blocks + first, m, first == 0 ? qc : NULL);
		first += m;
		chunks++;
	}
	ist_log_debug(SUBSYS, "sent the proof of epoch %" PRIu64 " (%" PRIu32 " block(s), %zu message(s)) to peer %" PRIu32
		      ": %s", epoch, cnt, chunks, peer, r < 0 ? ist_strerror(r) : "ok");
out:
	for (uint32_t i = 0; blocks && i < got; i++)
		ist_wire_block_free(blocks[i]);
	free(blocks);
	free(qc);
	ist_store_read_end(txn);
}

void ist_node_epoch_fetch(struct ist_node *n, uint32_t to, uint64_t epoch)
{
	struct ist_envelope env = { .kind = IST_ENVELOPE_EPOCH_REQUEST };
	env.u.epoch_request.epoch = epoch;
	int r = to == IST_CONS_PEER_NONE ? ist_net_broadcast(n->net, &env) : ist_net_send(n->net, to, &env);
	ist_log_debug(SUBSYS, "asked %s for the end of epoch %" PRIu64 ": %s",
		      to == IST_CONS_PEER_NONE ? "every peer" : "a peer", epoch, r < 0 ? ist_strerror(r) : "ok");
}
