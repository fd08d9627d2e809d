/*
 * The consensus thread: the only owner of the core and the only writer of
 * the store (node.h). It steps the core with one event at a time and carries
 * out the actions in order; block writes are batched into the transaction of
 * the next PERSIST (or one at the end of the action list), and the
 * acknowledgements and payloads the core asked for are fed back right after
 * the current action list, as a node with a slower disk would.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "node/frost.h"
#include "node/internal.h"
#include "storage/blocks.h"
#include "wire/canonical.h"
#include "wire/codec.h"

#define SUBSYS "consensus"
#define COMMIT_LOG_INTERVAL_MS 10000   /* one info line about commits per interval */
#define CORE_RESTARTS_MAX 3            /* core rebuilds after failed steps before giving up */
#define PRUNE_MAX 64                   /* pending-index entries removed per transaction */

static void pending_key(uint8_t out[IST_NODE_PENDING_KEY_BYTES], uint64_t height, const uint8_t id[IST_HASH_BYTES])
{
	out[0] = IST_NODE_PENDING_PREFIX;
	ist_put_be64(out + 1, height);
	memcpy(out + 9, id, IST_HASH_BYTES);
}

/* ---- start-up: the core from the store ---- */

struct genesis_write {
	const uint8_t *id;
	const uint8_t *enc;
	size_t len;
};

static int write_genesis(struct ist_txn *txn, void *ctx)
{
	const struct genesis_write *w = ctx;
	int r = ist_store_block_put(txn, w->id, w->enc, w->len);
	if (r == 0)
		r = ist_store_height_put(txn, 0, w->id);
	return r;
}

static int block_read(struct ist_txn *txn, const uint8_t id[IST_HASH_BYTES], struct ist_block **ret)
{
	const uint8_t *enc;
	size_t len;
	int r = ist_store_block_get(txn, id, &enc, &len);
	if (r < 0)
		return r;
	return ist_wire_block_decode(enc, len, ret, NULL) < 0 ? -IST_EDB_CORRUPT : 0;
}

int ist_node_block_at(struct ist_txn *txn, uint64_t height, struct ist_block **ret, uint8_t ret_id[IST_HASH_BYTES])
{
	uint8_t id[IST_HASH_BYTES];
	int r = ist_store_height_get(txn, height, id);
	if (r < 0)
		return r;
	if (ret_id)
		memcpy(ret_id, id, IST_HASH_BYTES);
	return block_read(txn, id, ret);
}

int ist_node_kv_write(struct ist_txn *txn, void *ctx)
{
	const struct ist_node_kv *kv = ctx;
	return ist_store_put(txn, kv->db, kv->key, kv->klen, kv->val, kv->vlen);
}

int ist_node_core_load(struct ist_node *n, char *errbuf, size_t errlen)
{
	struct ist_txn *txn = NULL;
	struct ist_block *root = NULL;
	struct ist_block **blocks = NULL;
	size_t n_blocks = 0, cap = 0;
	uint8_t *safety = NULL;
	size_t safety_len = 0;
	struct ist_store_cursor *cur = NULL;
	uint64_t height = 0;
	uint8_t id[IST_HASH_BYTES];
	const char *what = "the last committed block";

	int r = ist_store_read_begin(n->store, &txn);
	if (r < 0)
		goto out;
	r = ist_store_height_last(txn, &height, id);
	if (r == -IST_ENOTFOUND) {
		/* a new store: record the genesis block as height 0 */
		ist_store_read_end(txn);
		txn = NULL;
		uint8_t *enc = NULL;
		size_t len = 0;
		if ((r = ist_wire_block_encode(&n->genesis, &enc, &len)) < 0) {
			what = "the genesis block";
			goto out;
		}
		struct genesis_write w = { .id = n->genesis_id, .enc = enc, .len = len };
		r = ist_store_write(n->store, write_genesis, &w);
		free(enc);
		if (r < 0) {
			what = "the genesis block";
			goto out;
		}
		if ((r = ist_store_read_begin(n->store, &txn)) < 0)
			goto out;
		height = 0;
		memcpy(id, n->genesis_id, IST_HASH_BYTES);
	} else if (r < 0) {
		goto out;
	}
	if (height == 0 && memcmp(id, n->genesis_id, IST_HASH_BYTES) != 0) {
		r = -IST_ECONFIG;
		what = "the genesis block (the store holds another network's)";
		goto out;
	}
	if ((r = block_read(txn, id, &root)) < 0)
		goto out;
	/* the ledger at the same height, and with it the current epoch */
	ist_store_read_end(txn);
	txn = NULL;
	if ((r = ist_node_ledger_load(n, height, errbuf, errlen)) < 0) {
		what = NULL;
		goto out;
	}
	if ((r = ist_store_read_begin(n->store, &txn)) < 0)
		goto out;

	const uint8_t *val;
	size_t vlen;
	r = ist_store_safety_get(txn, &val, &vlen);
	if (r == 0) {
		safety = malloc(vlen ? vlen : 1);
		if (!safety) {
			r = -IST_ENOMEM;
			goto out;
		}
		memcpy(safety, val, vlen);
		safety_len = vlen;
	} else if (r != -IST_ENOTFOUND) {
		what = "the safety state";
		goto out;
	}

	/* the stored uncommitted blocks above the root */
	what = "the stored uncommitted blocks";
	if ((r = ist_store_cursor_open(txn, IST_STORE_DB_SAFETY, &cur)) < 0)
		goto out;
	uint8_t k0[IST_NODE_PENDING_KEY_BYTES] = { 0 };
	pending_key(k0, height + 1, k0 + 9);
	const uint8_t *key;
	size_t klen;
	for (r = ist_store_cursor_get(cur, IST_STORE_SEEK_GE, k0, 9, &key, &klen, NULL, NULL); r == 0;
	     r = ist_store_cursor_get(cur, IST_STORE_NEXT, NULL, 0, &key, &klen, NULL, NULL)) {
		if (klen != IST_NODE_PENDING_KEY_BYTES || key[0] != IST_NODE_PENDING_PREFIX)
			break;
		struct ist_block *b;
		if (block_read(txn, key + 9, &b) < 0)
			continue;   /* a block pruned after a crash: the core refetches what matters */
		if (n_blocks == cap) {
			cap = cap ? cap * 2 : 16;
			struct ist_block **nv = realloc(blocks, cap * sizeof(*blocks));
			if (!nv) {
				ist_wire_block_free(b);
				r = -IST_ENOMEM;
				goto out;
			}
			blocks = nv;
		}
		blocks[n_blocks++] = b;
	}
	if (r != -IST_ENOTFOUND && r < 0)
		goto out;
	ist_store_cursor_close(cur);
	cur = NULL;
	ist_store_read_end(txn);
	txn = NULL;

	struct ist_cons_config cc = { 0 };
	cc.network_id = n->g.network_id;
	cc.epoch = n->epoch;
	cc.root = root;
	cc.has_key = true;
	memcpy(cc.pubkey, n->pub, IST_ED25519_PUBKEY_BYTES);
	cc.signer.sign = ist_node_sign;
	cc.signer.ctx = n;
	cc.app.validate = ist_node_validate;
	cc.app.apply = ist_node_apply;
	cc.app.ctx = n;
	cc.safety = safety;
	cc.safety_len = safety_len;
	cc.blocks = (const struct ist_block *const *)blocks;
	cc.n_blocks = n_blocks;
	cc.timeout_base_ms = n->g.consensus.timeout_base_ms;
	cc.timeout_max_ms = n->g.consensus.timeout_max_ms;
	what = "the consensus state";
	r = ist_cons_new(&cc, &n->core);
	if (r == 0) {
		pthread_mutex_lock(&n->st_mu);
		n->st_height = root->height;
		memcpy(n->st_last_id, id, IST_HASH_BYTES);
		pthread_mutex_unlock(&n->st_mu);
		n->last_timeouts_sent = 0;
		ist_metric_set(n->m_height, NULL, (double)root->height);
		/* a safety state with nothing else is a new data directory given
		 * one (isthmus safety import): the chain comes by block sync, and
		 * the core signs nothing at or below the state's views */
		if (root->height > 0 || n_blocks || safety)
			ist_log_info("node", "resuming at height %" PRIu64 " in view %" PRIu64 " with %zu stored "
				     "uncommitted block(s)%s", root->height, ist_cons_view(n->core), n_blocks,
				     safety ? " and the saved safety state" : "");
	}
out:
	if (r < 0 && what)
		snprintf(errbuf, errlen, "%s: cannot load %s: %s", n->cfg.data_path, what, ist_strerror(r));
	ist_store_cursor_close(cur);
	ist_store_read_end(txn);
	ist_wire_block_free(root);
	for (size_t i = 0; i < n_blocks; i++)
		ist_wire_block_free(blocks[i]);
	free(blocks);
	free(safety);
	return r;
}

int ist_node_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t ret_sig64[IST_SIG_BYTES])
{
	struct ist_node *n = ctx;
	return ist_ed25519_sign(n->seed, msg, len, ret_sig64);
}

/* ---- the write batch ---- */

static int batch_add(struct ist_node *n, bool commit, struct ist_block *b, const uint8_t id[IST_HASH_BYTES])
{
	struct ist_node_batch *bt = &n->batch;
	if (bt->len == bt->cap) {
		size_t cap = bt->cap ? bt->cap * 2 : 16;
		struct ist_node_bw *nv = realloc(bt->v, cap * sizeof(*nv));
		if (!nv) {
			ist_wire_block_free(b);
			return -IST_ENOMEM;
		}
		bt->v = nv;
		bt->cap = cap;
	}
	struct ist_node_bw *w = &bt->v[bt->len];
	memset(w, 0, sizeof(*w));
	w->commit = commit;
	w->block = b;
	memcpy(w->id, id, IST_HASH_BYTES);
	int r = ist_wire_block_encode(b, &w->enc, &w->len);
	if (r == 0 && commit && b->justify.n_sigs > 0)
		r = ist_wire_qc_encode(&b->justify, &w->qc_enc, &w->qc_len);
	if (r < 0) {
		ist_wire_block_free(b);
		free(w->enc);
		return r;
	}
	bt->len++;
	return 0;
}

/* Removes pending-index entries at or below `height` (and the blocks of
 * those that lost: not the committed one at their height). */
static int prune_pending(struct ist_txn *txn, uint64_t height)
{
	uint8_t keys[PRUNE_MAX][IST_NODE_PENDING_KEY_BYTES];
	size_t nk = 0;
	struct ist_store_cursor *cur;
	int r = ist_store_cursor_open(txn, IST_STORE_DB_SAFETY, &cur);
	if (r < 0)
		return r;
	uint8_t k0 = IST_NODE_PENDING_PREFIX;
	const uint8_t *key;
	size_t klen;
	for (r = ist_store_cursor_get(cur, IST_STORE_SEEK_GE, &k0, 1, &key, &klen, NULL, NULL); r == 0 && nk < PRUNE_MAX;
	     r = ist_store_cursor_get(cur, IST_STORE_NEXT, NULL, 0, &key, &klen, NULL, NULL)) {
		if (klen != IST_NODE_PENDING_KEY_BYTES || key[0] != IST_NODE_PENDING_PREFIX ||
		    ist_get_be64(key + 1) > height)
			break;
		memcpy(keys[nk++], key, IST_NODE_PENDING_KEY_BYTES);
	}
	ist_store_cursor_close(cur);
	if (r < 0 && r != -IST_ENOTFOUND)
		return r;
	for (size_t i = 0; i < nk; i++) {
		if ((r = ist_store_del(txn, IST_STORE_DB_SAFETY, keys[i], IST_NODE_PENDING_KEY_BYTES)) < 0)
			return r;
		uint8_t cid[IST_HASH_BYTES];
		r = ist_store_height_get(txn, ist_get_be64(keys[i] + 1), cid);
		if (r == 0 && memcmp(cid, keys[i] + 9, IST_HASH_BYTES) != 0) {
			r = ist_store_del(txn, IST_STORE_DB_BLOCKS, keys[i] + 9, IST_HASH_BYTES);
			if (r < 0 && r != -IST_ENOTFOUND)
				return r;
		} else if (r < 0 && r != -IST_ENOTFOUND) {
			return r;
		}
	}
	return 0;
}

static int batch_write(struct ist_txn *txn, void *ctx)
{
	const struct ist_node_batch *bt = ctx;
	int r = 0;
	uint64_t top = 0;
	bool committed = false;
	for (size_t i = 0; i < bt->len && r == 0; i++) {
		const struct ist_node_bw *w = &bt->v[i];
		r = ist_store_block_put(txn, w->id, w->enc, w->len);
		if (r < 0)
			break;
		if (w->commit) {
			r = ist_store_height_put(txn, w->block->height, w->id);
			if (r == 0)
				r = ist_node_attest_commit_txn(txn, w->block);
			if (r == 0 && w->qc_enc)
				r = ist_store_qc_put(txn, w->block->parent_id, w->qc_enc, w->qc_len);
			top = w->block->height;
			committed = true;
		} else {
			uint8_t key[IST_NODE_PENDING_KEY_BYTES];
			pending_key(key, w->block->height, w->id);
			uint8_t one = 1;
			r = ist_store_put(txn, IST_STORE_DB_SAFETY, key, sizeof(key), &one, 1);
		}
	}
	if (r == 0 && committed)
		r = prune_pending(txn, top);
	if (r == 0 && committed && bt->ledger_now)
		r = ist_node_ledger_flush_txn(bt->node, txn);
	if (r == 0 && bt->safety)
		r = ist_store_safety_put(txn, bt->safety, bt->safety_len);
	return r;
}

/* After a durable write: metrics, status and logs of the commits. */
static void commits_applied(struct ist_node *n)
{
	uint64_t now = ist_clock_now_ms(ist_clock_system());
	uint64_t mono = ist_clock_mono_ms(ist_clock_system());
	const struct ist_node_bw *last = NULL;
	for (size_t i = 0; i < n->batch.len; i++) {
		const struct ist_node_bw *w = &n->batch.v[i];
		if (!w->commit)
			continue;
		last = w;
		ist_node_attest_committed(n, w->block);
		ist_node_frost_committed(n, w->block);
		ist_metric_inc(n->m_commits, NULL);
		if (now >= w->block->timestamp_ms && w->block->height > 0)
			ist_metric_observe(n->m_latency, NULL, (double)(now - w->block->timestamp_ms) / 1000.0);
		n->commits_since_log++;
		char idhex[2 * IST_HASH_BYTES + 1];
		ist_hex_encode(w->id, IST_HASH_BYTES, idhex);
		ist_log_debug(SUBSYS, "commit height %" PRIu64 " view %" PRIu64 " block %.16s items %zu",
			      w->block->height, w->block->view, idhex, w->block->n_items);
	}
	if (!last)
		return;
	pthread_mutex_lock(&n->st_mu);
	n->st_height = last->block->height;
	memcpy(n->st_last_id, last->id, IST_HASH_BYTES);
	n->st_last_commit_ms = now;
	pthread_mutex_unlock(&n->st_mu);
	ist_metric_set(n->m_height, NULL, (double)last->block->height);
	struct ist_store_stat st;
	if (ist_store_stat(n->store, &st) == 0)
		ist_metric_set(n->m_db_bytes, NULL, (double)st.used_bytes);
	if (!n->commits_logged_ms || mono - n->commits_logged_ms >= COMMIT_LOG_INTERVAL_MS) {
		char idhex[2 * IST_HASH_BYTES + 1];
		ist_hex_encode(last->id, IST_HASH_BYTES, idhex);
		ist_log_info(SUBSYS, "committed height %" PRIu64 " (block %.16s, view %" PRIu64 "; %" PRIu64
			     " block(s) since the last line)", last->block->height, idhex, last->block->view,
			     n->commits_since_log);
		n->commits_logged_ms = mono;
		n->commits_since_log = 0;
	}
}

static int batch_flush(struct ist_node *n)
{
	struct ist_node_batch *bt = &n->batch;
	if (!bt->len && !bt->safety)
		return 0;
	bt->node = n;
	/* the ledger goes with the commit of the block it was last applied
	 * to; a batch that commits only some of the blocks the core applied
	 * in this step leaves it to the batch that commits the last one */
	uint64_t top = 0;
	for (size_t i = 0; i < bt->len; i++)
		if (bt->v[i].commit)
			top = bt->v[i].block->height;
	bt->ledger_now = top && top == ist_ledger_height(n->ledger);
	bool has_commit = bt->ledger_now;
	int r = ist_store_write(n->store, batch_write, bt);
	if (r == 0) {
		/* forget only what this transaction wrote: a batch without a
		 * commit (a safety state alone) writes no ledger change */
		if (has_commit)
			ist_node_ledger_flushed(n);
		commits_applied(n);
	}
	for (size_t i = 0; i < bt->len; i++) {
		ist_wire_block_free(bt->v[i].block);
		free(bt->v[i].enc);
		free(bt->v[i].qc_enc);
	}
	bt->len = 0;
	bt->safety = NULL;
	bt->safety_len = 0;
	return r;
}

/* ---- actions ---- */

static int iev_push(struct ist_node *n, enum ist_cons_event_kind kind, uint64_t a, uint64_t b)
{
	if (n->iev_len == n->iev_cap) {
		size_t cap = n->iev_cap ? n->iev_cap * 2 : 8;
		struct ist_node_ievent *nv = realloc(n->iev, cap * sizeof(*nv));
		if (!nv)
			return -IST_ENOMEM;
		n->iev = nv;
		n->iev_cap = cap;
	}
	n->iev[n->iev_len++] = (struct ist_node_ievent){ .kind = kind, .a = a, .b = b };
	return 0;
}

static void act_send(struct ist_node *n, struct ist_cons_action *a)
{
	/* the envelope is a shallow copy on the heap (a proposal is ~52 KiB):
	 * its heap parts stay the action's */
	struct ist_envelope *env = calloc(1, sizeof(*env));
	if (!env)
		return;
	env->kind = a->u.send.msg;
	switch (a->u.send.msg) {
	case IST_ENVELOPE_PROPOSAL:
		if (a->u.send.proposal)
			env->u.proposal = *a->u.send.proposal;
		break;
	case IST_ENVELOPE_VOTE:
		if (a->u.send.vote)
			env->u.vote = *a->u.send.vote;
#ifdef IST_FAULT_INJECTION
		if (a->u.send.vote)
			ist_node_fault_vote(n, a->u.send.to, a->u.send.vote);
#endif
		break;
	case IST_ENVELOPE_TIMEOUT:
		if (a->u.send.timeout)
			env->u.timeout = *a->u.send.timeout;
		break;
	case IST_ENVELOPE_BLOCK_REQUEST:
	case IST_ENVELOPE_BLOCK_RESPONSE:
	case IST_ENVELOPE_ATTEST_SHARE:
	case IST_ENVELOPE_EPOCH_REQUEST:
	case IST_ENVELOPE_FROST:
		/* the core never sends these: the node's sync and attest do */
		free(env);
		return;
	}
	int r = a->u.send.to == IST_CONS_TO_ALL ? ist_net_broadcast(n->net, env)
						 : ist_net_send(n->net, a->u.send.to, env);
	if (r < 0)
		ist_log_warn(SUBSYS, "cannot send a message of kind %d to %" PRIu32 ": %s", (int)a->u.send.msg,
			     a->u.send.to, ist_strerror(r));
	free(env);
}

/* ---- block sync ---- */

/*
 * Whom to ask for blocks or an epoch proof: the peer the core chose (a
 * validator of our epoch, by index) when it is connected, else the next
 * connected peer of the whole list (which also holds the registered
 * validators outside the set). A node far behind may be in an epoch whose
 * validators have left or stopped: any node that has the chain can answer,
 * since the core checks every block it is given against the QCs of its
 * epoch's set. Returns `to` itself when no peer is connected (the request
 * then waits in its queue).
 */
static uint32_t sync_peer(struct ist_node *n, uint32_t to)
{
	uint32_t self = ist_cons_self(n->core);
	if (to != self && to < IST_WIRE_MAX_VALIDATORS && ist_net_peer_connected(n->net, to))
		return to;
	uint32_t start = to < IST_WIRE_MAX_VALIDATORS ? to : 0;
	for (uint32_t k = 1; k <= IST_WIRE_MAX_VALIDATORS; k++) {
		uint32_t c = (start + k) % IST_WIRE_MAX_VALIDATORS;
		if (c != self && ist_net_peer_connected(n->net, c))
			return c;
	}
	return to;
}

/* FETCH: ask the peer for the block and its ancestors (answered by
 * serve_blocks on its side; the answer comes back as BLOCK events). */
static void fetch(struct ist_node *n, const struct ist_cons_action *a)
{
	/* a FETCH of the epoch we just left names a peer by its index there */
	if (a->u.fetch.epoch != n->epoch->number)
		return;
	uint32_t to = sync_peer(n, a->u.fetch.to);
	if (to == ist_cons_self(n->core))
		return;
	struct ist_envelope *env = calloc(1, sizeof(*env));
	if (!env)
		return;
	env->kind = IST_ENVELOPE_BLOCK_REQUEST;
	memcpy(env->u.block_request.block_id, a->u.fetch.block_id, IST_HASH_BYTES);
	env->u.block_request.max_blocks = IST_WIRE_MAX_SYNC_BLOCKS;
	int r = ist_net_send(n->net, to, env);
	char idhex[2 * IST_HASH_BYTES + 1];
	ist_hex_encode(a->u.fetch.block_id, IST_HASH_BYTES, idhex);
	if (r < 0)
		ist_log_warn(SUBSYS, "cannot ask peer %" PRIu32 " for block %.16s: %s", to, idhex, ist_strerror(r));
	else
		ist_log_debug(SUBSYS, "asked peer %" PRIu32 " for block %.16s", to, idhex);
	free(env);
}

/* A block by id: from the core's tree, else from the store (committed
 * blocks, and stored ones the core has pruned). With ret_qc, also a QC
 * certifying it when one is known (the core's, else the qcs database). */
static int block_find(struct ist_node *n, struct ist_txn **txn, const uint8_t id[IST_HASH_BYTES],
		      struct ist_block **ret, struct ist_qc **ret_qc)
{
	if (ist_cons_block_get(n->core, id, ret, ret_qc) == 0)
		return 0;
	int r;
	if (!*txn && (r = ist_store_read_begin(n->store, txn)) < 0)
		return r;
	if ((r = block_read(*txn, id, ret)) < 0)
		return r;
	if (ret_qc) {
		const uint8_t *enc;
		size_t len;
		*ret_qc = NULL;
		if (ist_store_qc_get(*txn, id, &enc, &len) == 0 && ist_wire_qc_decode(enc, len, ret_qc, NULL) < 0)
			*ret_qc = NULL;
	}
	return 0;
}

/* A peer's BLOCK_REQUEST: the block and up to max_blocks - 1 ancestors,
 * oldest first, within the envelope's size limit. Any authenticated peer is
 * answered, not only the validators of our epoch: a validator that was
 * jailed out of the set (or any node many epochs behind) catches up by
 * fetching the chain between its root and each epoch's last block from the
 * nodes of the set that moved on. The net layer's rate limit per peer
 * bounds what it costs. */
static void serve_blocks(struct ist_node *n, uint32_t peer, const struct ist_block_request *req)
{
	if (peer == ist_cons_self(n->core))
		return;
	struct ist_block *found[IST_WIRE_MAX_SYNC_BLOCKS];
	struct ist_qc *qc = NULL;
	struct ist_txn *txn = NULL;
	size_t k = 0, total = 0;
	/* room for the QC and the envelope's own fields */
	const size_t budget = IST_WIRE_MAX_ENVELOPE_BYTES - IST_WIRE_MAX_QC_BYTES - 1024;
	size_t max = IST_MIN(req->max_blocks, (uint32_t)IST_WIRE_MAX_SYNC_BLOCKS);
	uint8_t id[IST_HASH_BYTES];
	memcpy(id, req->block_id, IST_HASH_BYTES);
	while (k < max) {
		struct ist_block *b = NULL;
		if (block_find(n, &txn, id, &b, k == 0 ? &qc : NULL) < 0)
			break;
		uint8_t *enc = NULL;
		size_t len = 0;
		if (ist_wire_block_encode(b, &enc, &len) < 0 || total + len + 16 > budget) {
			free(enc);
			ist_wire_block_free(b);
			break;
		}
		free(enc);
		total += len + 16;
		found[k++] = b;
		if (b->height <= 1)
			break;   /* every node has the genesis block */
		memcpy(id, b->parent_id, IST_HASH_BYTES);
	}
	ist_store_read_end(txn);
	if (!k) {
		free(qc);
		return;
	}
	struct ist_envelope *env = calloc(1, sizeof(*env));
	struct ist_block *blocks = calloc(k, sizeof(*blocks));
	if (!env || !blocks) {
		free(env);
		free(blocks);
		for (size_t i = 0; i < k; i++)
			ist_wire_block_free(found[i]);
		free(qc);
		return;
	}
	env->kind = IST_ENVELOPE_BLOCK_RESPONSE;
	/* move each block (its heap parts too) into the response, oldest first */
	for (size_t i = 0; i < k; i++) {
		blocks[i] = *found[k - 1 - i];
		free(found[k - 1 - i]);
	}
	env->u.block_response.blocks = blocks;
	env->u.block_response.n_blocks = k;
	if (qc) {
		env->u.block_response.has_qc = true;
		env->u.block_response.qc = *qc;
		free(qc);
	}
	int r = ist_net_send(n->net, peer, env);
	if (r < 0)
		ist_log_debug(SUBSYS, "cannot answer peer %" PRIu32 "'s block request: %s", peer, ist_strerror(r));
	else
		ist_log_debug(SUBSYS, "sent %zu block(s) to peer %" PRIu32, k, peer);
	ist_wire_envelope_free(env);
}

static int handle_action(struct ist_node *n, struct ist_cons_action *a)
{
	int r = 0;
	switch (a->kind) {
	case IST_CONS_ACT_PERSIST:
		n->batch.safety = a->u.persist.state;
		n->batch.safety_len = a->u.persist.len;
		if ((r = batch_flush(n)) < 0) {
			ist_log_error(SUBSYS, "cannot persist the safety state: %s", ist_strerror(r));
			return r;
		}
		return iev_push(n, IST_CONS_EV_PERSISTED, a->u.persist.seq, 0);
	case IST_CONS_ACT_SEND:
		act_send(n, a);
		return 0;
	case IST_CONS_ACT_STORE_BLOCK:
	case IST_CONS_ACT_COMMIT: {
		bool commit = a->kind == IST_CONS_ACT_COMMIT;
		struct ist_block *b = commit ? a->u.commit.block : a->u.store_block.block;
		const uint8_t *id = commit ? a->u.commit.id : a->u.store_block.id;
		if (commit)
			a->u.commit.block = NULL;
		else
			a->u.store_block.block = NULL;
		if (!b)
			return 0;
		if (commit)
			ist_mempool_committed(n->mempool, b);
		else
			ist_node_attest_pending(n, b);
		return batch_add(n, commit, b, id);
	}
	case IST_CONS_ACT_TIMER:
		n->timer_armed = true;
		n->timer_seq = a->u.timer.seq;
		n->timer_deadline = ist_clock_mono_ms(ist_clock_system()) + a->u.timer.ms;
		return 0;
	case IST_CONS_ACT_GET_PAYLOAD:
		/* proposed by the loop: at once when the mempool has items (or
		 * as soon as some arrive), an empty block a little later (see
		 * IST_NODE_EMPTY_BLOCK_DELAY_MS); a newer request replaces it */
		n->payload_pending = true;
		n->payload_epoch = a->u.get_payload.epoch;
		n->payload_view = a->u.get_payload.view;
		n->payload_deadline = ist_clock_mono_ms(ist_clock_system()) + IST_NODE_EMPTY_BLOCK_DELAY_MS;
		return 0;
	case IST_CONS_ACT_FETCH:
		fetch(n, a);
		return 0;
	case IST_CONS_ACT_FETCH_EPOCH:
		ist_node_epoch_fetch(n,
				     a->u.fetch_epoch.to == IST_CONS_PEER_NONE ? IST_CONS_PEER_NONE
									   : sync_peer(n, a->u.fetch_epoch.to),
				     a->u.fetch_epoch.epoch);
		return 0;
	case IST_CONS_ACT_SEND_EPOCH_PROOF:
		if (a->u.send_epoch_proof.to != IST_CONS_PEER_NONE)
			ist_node_epoch_serve(n, a->u.send_epoch_proof.to, a->u.send_epoch_proof.epoch);
		return 0;
	case IST_CONS_ACT_EPOCH:
		/* the commit that ended the epoch first: the new set's records
		 * are in its transaction */
		if ((r = batch_flush(n)) < 0)
			return r;
		ist_node_epoch_changed(n, a);
		return 0;
	}
	return 0;
}

static void status_update(struct ist_node *n, const struct ist_cons_actions *acts)
{
	uint64_t view = ist_cons_view(n->core);
	const struct ist_cons_epoch *e = ist_cons_epoch_current(n->core);
	pthread_mutex_lock(&n->st_mu);
	n->st_view = view;
	n->st_epoch = e ? e->number : 0;
	n->st_in_set = ist_cons_self(n->core) != IST_CONS_OBSERVER;
	pthread_mutex_unlock(&n->st_mu);
	ist_metric_set(n->m_view, NULL, (double)view);
	const struct ist_cons_stats *s = ist_cons_stats_get(n->core);
	if (s->timeouts_sent > n->last_timeouts_sent) {
		ist_metric_add(n->m_timeouts, NULL, s->timeouts_sent - n->last_timeouts_sent);
		n->last_timeouts_sent = s->timeouts_sent;
	}
	if (acts->drop != IST_CONS_DROP_NONE)
		ist_metric_inc(n->m_drops, ist_cons_drop_str(acts->drop));
}

/* Steps one event and everything it leads to (acknowledgements, payloads). */
static int step(struct ist_node *n, const struct ist_cons_event *first)
{
	struct ist_cons_actions acts;
	ist_cons_actions_init(&acts);
	const struct ist_cons_event *ev = first;
	struct ist_cons_event iev;
	size_t next = 0;
	int r = 0;
	for (;;) {
		r = ist_cons_step(n->core, ev, &acts);
		if (r < 0) {
			ist_log_error(SUBSYS, "consensus step failed (event %d): %s", (int)ev->kind, ist_strerror(r));
			n->core_failed = true;
			break;
		}
		status_update(n, &acts);
		for (size_t i = 0; i < acts.len && r == 0; i++)
			r = handle_action(n, &acts.v[i]);
		if (r == 0 && (r = batch_flush(n)) < 0)
			ist_log_error(SUBSYS, "cannot write blocks: %s", ist_strerror(r));
		ist_cons_actions_reset(&acts);
		if (r < 0 || next == n->iev_len)
			break;
		const struct ist_node_ievent *ie = &n->iev[next++];
		iev = (struct ist_cons_event){ .kind = ie->kind, .from = IST_CONS_PEER_NONE };
		if (ie->kind == IST_CONS_EV_PERSISTED) {
			iev.u.persisted.seq = ie->a;
		} else {
			iev.u.payload.epoch = ie->a;
			iev.u.payload.view = ie->b;
			iev.u.payload.timestamp_ms = ist_clock_now_ms(ist_clock_system());
			iev.u.payload.items = NULL;
			iev.u.payload.n_items = 0;
		}
		ev = &iev;
	}
	n->iev_len = 0;
	ist_cons_actions_fini(&acts);
	return r;
}

static int step_envelope(struct ist_node *n, uint32_t peer, const struct ist_envelope *env)
{
	struct ist_cons_event ev = { .from = peer < n->epoch->n ? peer : IST_CONS_PEER_NONE };
	if (env->kind == IST_ENVELOPE_BLOCK_REQUEST) {
		serve_blocks(n, peer, &env->u.block_request);
		return 0;
	}
	if (env->kind == IST_ENVELOPE_EPOCH_REQUEST) {
		ist_node_epoch_serve(n, peer, env->u.epoch_request.epoch);
		return 0;
	}
	if (env->kind == IST_ENVELOPE_BLOCK_RESPONSE) {
		/* the wire lists the chain oldest first, the core takes it top
		 * first (the block asked for, then its ancestors) */
		const struct ist_block_response *resp = &env->u.block_response;
		const struct ist_block *chain[IST_WIRE_MAX_SYNC_BLOCKS];
		size_t k = IST_MIN(resp->n_blocks, (size_t)IST_WIRE_MAX_SYNC_BLOCKS);
		for (size_t i = 0; i < k; i++)
			chain[i] = &resp->blocks[resp->n_blocks - 1 - i];
		ev.kind = IST_CONS_EV_BLOCKS;
		ev.u.blocks.v = chain;
		ev.u.blocks.n = k;
		ev.u.blocks.qc = resp->has_qc ? &resp->qc : NULL;
		return step(n, &ev);
	}
	if (env->kind == IST_ENVELOPE_ATTEST_SHARE) {
		ist_node_attest_share(n, peer, &env->u.attest_share);
		return 0;
	}
	if (env->kind == IST_ENVELOPE_FROST) {
		ist_node_frost_message(n, peer, env->u.frost.data, env->u.frost.len);
		return 0;
	}
	if (env->kind == IST_ENVELOPE_PROPOSAL) {
		ev.kind = IST_CONS_EV_PROPOSAL;
		ev.u.proposal = &env->u.proposal;
		ist_node_attest_seen_proposal(n, &env->u.proposal);
		int r = step(n, &ev);
		ist_node_attest_keep_evidence(n);
		return r;
	}
	switch (env->kind) {
	case IST_ENVELOPE_PROPOSAL:
		ev.kind = IST_CONS_EV_PROPOSAL;
		ev.u.proposal = &env->u.proposal;
		break;
	case IST_ENVELOPE_VOTE:
		ist_node_vote_seen(n, &env->u.vote);
		ev.kind = IST_CONS_EV_VOTE;
		ev.u.vote = &env->u.vote;
		break;
	case IST_ENVELOPE_TIMEOUT:
		ev.kind = IST_CONS_EV_TIMEOUT;
		ev.u.timeout = &env->u.timeout;
		break;
	default:
		return 0;
	}
	return step(n, &ev);
}

void *ist_node_loop(void *arg)
{
	struct ist_node *n = arg;
	struct ist_cons_event start = { .kind = IST_CONS_EV_START, .from = IST_CONS_PEER_NONE };
	int r = step(n, &start);
	unsigned restarts = 0;
	for (;;) {
		if (r < 0 && n->core_failed && restarts < CORE_RESTARTS_MAX) {
			/* the core may be half-way through the event: discard it
			 * and rebuild it from what is durable (consensus.h), as
			 * after a crash. Nothing of the failed step was written:
			 * the batch is flushed after each complete action list. */
			restarts++;
			n->core_failed = false;
			n->timer_armed = false;
			n->payload_pending = false;
			n->iev_len = 0;
			ist_cons_free(n->core);
			n->core = NULL;
			char err[512];
			if ((r = ist_node_core_load(n, err, sizeof(err))) < 0) {
				ist_log_error(SUBSYS, "cannot restart the consensus core: %s", err);
				break;
			}
			ist_log_warn(SUBSYS, "restarted the consensus core from the database (%u of %d)", restarts,
				     CORE_RESTARTS_MAX);
			r = step(n, &start);
			continue;
		}
		if (r < 0)
			break;
		/* due timers first: a steady flow of envelopes must not starve
		 * them (the queue only reports a deadline when it is empty) */
		uint64_t now = ist_clock_mono_ms(ist_clock_system());
		if (n->payload_pending && (now >= n->payload_deadline || ist_mempool_ready(n->mempool) > 0)) {
			n->payload_pending = false;
			struct ist_cons_event ev = { .kind = IST_CONS_EV_PAYLOAD, .from = IST_CONS_PEER_NONE };
			ev.u.payload.epoch = n->payload_epoch;
			ev.u.payload.view = n->payload_view;
			ev.u.payload.timestamp_ms = ist_clock_now_ms(ist_clock_system());
			ev.u.payload.items = n->payload_items;
			ev.u.payload.n_items = ist_node_payload(n, n->payload_epoch, n->payload_view, n->payload_items);
			r = step(n, &ev);
			continue;
		}
		if (n->timer_armed && now >= n->timer_deadline) {
			n->timer_armed = false;
			struct ist_cons_event ev = { .kind = IST_CONS_EV_TIMER, .from = IST_CONS_PEER_NONE };
			ev.u.timer.seq = n->timer_seq;
			r = step(n, &ev);
			continue;
		}
		uint64_t deadline = n->timer_armed ? n->timer_deadline : UINT64_MAX;
		if (n->payload_pending && n->payload_deadline < deadline)
			deadline = n->payload_deadline;
		struct ist_node_qitem it;
		enum ist_node_pop p = ist_node_queue_pop(&n->q, deadline, &it);
		if (p == IST_NODE_POP_STOP)
			break;
		if (p == IST_NODE_POP_TIMEOUT || p == IST_NODE_POP_KICK)
			continue;   /* handled at the top */
		if (it.obs) {
			if ((r = ist_node_attest_observe(n, it.obs)) < 0)
				continue;
			if (n->att.observed_new) {
				/* the watcher moved: deferred votes and signatures
				 * may go now */
				n->att.observed_new = false;
				ist_node_attest_retry(n);
				struct ist_cons_event ev = { .kind = IST_CONS_EV_RECHECK, .from = IST_CONS_PEER_NONE };
				r = step(n, &ev);
				ist_node_attest_keep_evidence(n);
				ist_node_attest_held_metrics(n);
			}
			continue;
		}
		r = step_envelope(n, it.peer, it.env);
		ist_wire_envelope_free(it.env);
	}
	if (r < 0) {
		n->fatal = r;
		pthread_mutex_lock(&n->st_mu);
		n->st_failed = true;
		pthread_mutex_unlock(&n->st_mu);
		ist_log_error("node", "the consensus thread stopped: %s", ist_strerror(r));
		if (n->opts.on_fatal)
			n->opts.on_fatal(n->opts.ctx);
	}
	return NULL;
}
