/*
 * The consensus simulator (sim.h). Everything runs in one thread on virtual
 * time; the only source of choice is one ist_rng_det.
 */
#include "consensus/sim.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/rng.h"
#include "consensus/consensus.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "wire/canonical.h"
#include "wire/codec.h"
#include "wire/types.h"

#define MAX_EPOCHS 64
#define RING 32
#define FETCH_DEPTH 16
#define EVENT_BUDGET 50000000ull
#define NETWORK_ID 0x15714d05ull

/* ---- Messages in flight (shared by every recipient, refcounted) ---- */

enum { MSG_BUNDLE = 100 };

struct smsg {
	int refs;
	int kind;                    /* enum ist_envelope_kind, or MSG_BUNDLE */
	struct ist_proposal *prop;
	struct ist_vote *vote;
	struct ist_timeout *tmo;
	size_t n_blocks;
	struct ist_block **blocks;   /* bundle: a chain, top first (BLOCKS event) */
	struct ist_qc *qc;           /* bundle: a QC for the top block, or NULL */
};

static struct smsg *smsg_new(int kind)
{
	struct smsg *m = calloc(1, sizeof(*m));
	if (!m)
		abort();
	m->refs = 1;
	m->kind = kind;
	return m;
}

static struct smsg *smsg_ref(struct smsg *m)
{
	m->refs++;
	return m;
}

static void smsg_unref(struct smsg *m)
{
	if (!m || --m->refs > 0)
		return;
	ist_wire_proposal_free(m->prop);
	free(m->vote);
	free(m->tmo);
	for (size_t i = 0; i < m->n_blocks; i++)
		ist_wire_block_free(m->blocks[i]);
	free(m->blocks);
	free(m->qc);
	free(m);
}

static uint64_t smsg_epoch(const struct smsg *m)
{
	switch (m->kind) {
	case IST_ENVELOPE_PROPOSAL: return m->prop->block.epoch;
	case IST_ENVELOPE_VOTE: return m->vote->epoch;
	case IST_ENVELOPE_TIMEOUT: return m->tmo->epoch;
	default: return m->n_blocks ? m->blocks[0]->epoch : 0;
	}
}

/* ---- Events ---- */

enum ev_kind {
	EV_DELIVER = 1,
	EV_TIMER,
	EV_PERSIST,
	EV_PAYLOAD,
	EV_CRASH,
	EV_RESTART,
	EV_RECHECK,
	EV_BYZ,
	EV_FETCH,
	EV_FETCH_EPOCH,
	EV_LIVE,
};

/* sev.b of EV_CRASH and EV_RESTART (struct ist_sim_crash) */
#define RESTART_NEW_DISK 1u
#define RESTART_LOSE_SAFETY 2u

struct sev {
	uint64_t t, seq;
	uint8_t kind;
	uint32_t node, from, inc;
	struct smsg *msg;
	uint64_t a, b;
	uint8_t id[IST_HASH_BYTES];
	uint8_t *data;
	size_t len;
};

/* ---- A small open-addressing map: 48-byte keys to 32-byte values ---- */

struct hent {
	bool used;
	uint8_t key[48];
	uint8_t val[32];
};

struct hmap {
	struct hent *v;
	size_t cap, len;
};

static uint64_t hkey(const uint8_t key[48])
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < 48; i++)
		h = (h ^ key[i]) * 0x100000001b3ull;
	return h;
}

static struct hent *hmap_slot(struct hmap *m, const uint8_t key[48])
{
	size_t i = hkey(key) & (m->cap - 1);
	while (m->v[i].used && memcmp(m->v[i].key, key, 48) != 0)
		i = (i + 1) & (m->cap - 1);
	return &m->v[i];
}

static struct hent *hmap_find(struct hmap *m, const uint8_t key[48])
{
	if (!m->cap)
		return NULL;
	struct hent *e = hmap_slot(m, key);
	return e->used ? e : NULL;
}

static struct hent *hmap_put(struct hmap *m, const uint8_t key[48])
{
	if ((m->len + 1) * 2 > m->cap) {
		struct hmap n = { .cap = m->cap ? m->cap * 2 : 1024 };
		n.v = calloc(n.cap, sizeof(*n.v));
		if (!n.v)
			abort();
		for (size_t i = 0; i < m->cap; i++)
			if (m->v[i].used) {
				*hmap_slot(&n, m->v[i].key) = m->v[i];
				n.len++;
			}
		free(m->v);
		*m = n;
	}
	struct hent *e = hmap_slot(m, key);
	if (!e->used) {
		e->used = true;
		memcpy(e->key, key, 48);
		m->len++;
	}
	return e;
}

/* ---- Nodes and the simulation ---- */

struct sim;

struct snode {
	struct sim *sim;
	uint32_t id;
	uint8_t seed[32], pub[32];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	bool byz;
	bool up;
	uint32_t inc;
	struct ist_cons *core;
	/* disk */
	uint8_t *safety;
	size_t safety_len;
	struct ist_block **chain;            /* chain[h] = the committed block at height h */
	uint8_t (*chain_id)[IST_HASH_BYTES];
	size_t chain_len, chain_cap;
	uint64_t epoch;
	struct ist_cons_epoch *epoch_set;    /* from the last EPOCH action, or NULL (epoch 0) */
	struct ist_block **stored;           /* uncommitted blocks (STORE_BLOCK) */
	size_t n_stored, stored_cap;
	struct ist_block **proof_blocks[MAX_EPOCHS];   /* the epoch proofs, top first */
	size_t n_proof_blocks[MAX_EPOCHS];
	struct ist_qc *proof_qc[MAX_EPOCHS];
	uint64_t persist_at;
	/* volatile */
	uint32_t last_future_from;
	uint8_t ready[8][IST_HASH_BYTES];    /* validations that answered NOT_YET */
	bool ready_ok[8];
	size_t ready_next;
	/* liveness */
	bool live;
	uint64_t live_height;
	uint64_t live_view, live_epoch;
	uint64_t max_gap;
	/* byzantine */
	struct smsg *ring[RING];
	size_t ring_n, ring_next;
};

struct sim {
	const struct ist_sim_config *cfg;
	struct ist_sim_result *res;
	struct ist_rng_det rng;
	uint64_t now, seq;
	struct sev *heap;
	size_t hlen, hcap;
	uint32_t n_nodes;
	struct snode *nodes;
	uint16_t *lat;                        /* per link base latency */
	struct ist_cons_epoch *epochs[MAX_EPOCHS];
	uint32_t members[MAX_EPOCHS][IST_SIM_MAX_NODES];
	bool epoch_root_set[MAX_EPOCHS];
	struct ist_block *genesis;
	uint8_t genesis_id[IST_HASH_BYTES];
	/* checker */
	uint8_t (*height_id)[IST_HASH_BYTES];
	bool *height_set;
	size_t heights_cap;
	struct hmap signed_map;
	struct hmap cache_map;
	struct ist_cons_sigcache cache_if;
	bool failed;
	struct ist_sha256_ctx digest;
	uint32_t cur_from;                    /* the sender of the message being stepped */
	bool live_started;
	uint32_t live_done;                   /* honest nodes with min_new_commits */
	uint32_t n_honest;
};

static void fail(struct sim *s, const char *fmt, ...) IST_PRINTF(2, 3);
static void fail(struct sim *s, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = true;
	s->res->ok = false;
	va_list ap;
	va_start(ap, fmt);
	int k = snprintf(s->res->why, sizeof(s->res->why), "t=%" PRIu64 "ms: ", s->now);
	if (k > 0 && (size_t)k < sizeof(s->res->why))
		vsnprintf(s->res->why + k, sizeof(s->res->why) - (size_t)k, fmt, ap);
	va_end(ap);
	if (s->cfg->trace)
		fprintf(s->cfg->trace, "FAIL %s\n", s->res->why);
}

static void trace(struct sim *s, const char *fmt, ...) IST_PRINTF(2, 3);
static void trace(struct sim *s, const char *fmt, ...)
{
	if (!s->cfg->trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(s->cfg->trace, "%8" PRIu64 " ", s->now);
	vfprintf(s->cfg->trace, fmt, ap);
	fputc('\n', s->cfg->trace);
	va_end(ap);
}

static uint64_t rnd(struct sim *s, uint64_t bound)
{
	return bound ? ist_rng_det_below(&s->rng, bound) : 0;
}

static bool chance(struct sim *s, uint32_t pm)
{
	return pm && rnd(s, 1000) < pm;
}

/* ---- Event queue: a binary heap on (time, sequence) ---- */

static bool ev_before(const struct sev *a, const struct sev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static struct sev *ev_new(struct sim *s, uint64_t t, uint8_t kind, uint32_t node)
{
	if (s->hlen == s->hcap) {
		s->hcap = s->hcap ? s->hcap * 2 : 1024;
		s->heap = realloc(s->heap, s->hcap * sizeof(*s->heap));
		if (!s->heap)
			abort();
	}
	/* the caller fills the event in place; ev_push then sifts it up */
	struct sev *e = &s->heap[s->hlen];
	memset(e, 0, sizeof(*e));
	e->t = t;
	e->seq = s->seq++;
	e->kind = kind;
	e->node = node;
	return e;
}

static void ev_push(struct sim *s)
{
	size_t i = s->hlen++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ev_before(&s->heap[i], &s->heap[p]))
			break;
		struct sev t = s->heap[i];
		s->heap[i] = s->heap[p];
		s->heap[p] = t;
		i = p;
	}
}

static struct sev ev_pop(struct sim *s)
{
	struct sev top = s->heap[0];
	s->heap[0] = s->heap[--s->hlen];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->hlen && ev_before(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->hlen && ev_before(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		struct sev t = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = t;
		i = m;
	}
	return top;
}

/* ---- Signatures: the cache shared by every core ---- */

static int cache_lookup(void *ctx, const uint8_t key32[IST_HASH_BYTES])
{
	struct sim *s = ctx;
	uint8_t k[48] = { 0 };
	memcpy(k, key32, IST_HASH_BYTES);
	struct hent *e = hmap_find(&s->cache_map, k);
	return e ? e->val[0] : -1;
}

static void cache_store(void *ctx, const uint8_t key32[IST_HASH_BYTES], bool valid)
{
	struct sim *s = ctx;
	uint8_t k[48] = { 0 };
	memcpy(k, key32, IST_HASH_BYTES);
	hmap_put(&s->cache_map, k)->val[0] = valid ? 1 : 0;
}

static int node_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[IST_SIG_BYTES])
{
	struct snode *nd = ctx;
	return crypto_sign_detached(sig, NULL, msg, len, nd->sk) == 0 ? 0 : -IST_ECRYPTO;
}

static void byz_sign(struct snode *nd, const uint8_t *msg, size_t len, uint8_t sig[IST_SIG_BYTES])
{
	if (node_sign(nd, msg, len, sig) < 0)
		abort();
}

/* ---- Epochs ---- */

static uint32_t global_of(struct sim *s, uint64_t epoch, uint32_t index)
{
	if (epoch >= MAX_EPOCHS || !s->epochs[epoch] || index >= s->epochs[epoch]->n)
		return UINT32_MAX;
	return s->members[epoch][index];
}

static uint32_t index_in(struct sim *s, uint64_t epoch, uint32_t node)
{
	if (epoch >= MAX_EPOCHS || !s->epochs[epoch])
		return IST_CONS_PEER_NONE;
	for (uint32_t i = 0; i < s->epochs[epoch]->n; i++)
		if (s->members[epoch][i] == node)
			return i;
	return IST_CONS_PEER_NONE;
}

static uint64_t node_epoch(const struct snode *nd)
{
	return nd->core ? ist_cons_epoch_current(nd->core)->number : nd->epoch;
}

/* ---- The application callbacks ---- */

static enum ist_cons_verdict app_validate(void *ctx, const struct ist_block *b)
{
	struct snode *nd = ctx;
	struct sim *s = nd->sim;
	if (b->n_items && b->items[0].kind == IST_PAYLOAD_DKG && b->items[0].u.opaque.len &&
	    b->items[0].u.opaque.data[0] == 0xBB)
		return IST_CONS_INVALID;
	if (!s->cfg->notyet_pm)
		return IST_CONS_VALID;
	uint8_t id[IST_HASH_BYTES];
	if (ist_wire_block_id(b, id) < 0)
		return IST_CONS_INVALID;
	for (size_t i = 0; i < 8; i++)
		if (memcmp(nd->ready[i], id, IST_HASH_BYTES) == 0)
			return nd->ready_ok[i] ? IST_CONS_VALID : IST_CONS_NOT_YET;
	if (!chance(s, s->cfg->notyet_pm))
		return IST_CONS_VALID;
	size_t k = nd->ready_next++ % 8;
	memcpy(nd->ready[k], id, IST_HASH_BYTES);
	nd->ready_ok[k] = false;
	/* the "watcher" catches up after a while, sometimes too late */
	struct sev *e = ev_new(s, s->now + 1 + rnd(s, s->cfg->timeout_base_ms), EV_RECHECK, nd->id);
	e->inc = nd->inc;
	memcpy(e->id, id, IST_HASH_BYTES);
	ev_push(s);
	return IST_CONS_NOT_YET;
}

static int app_apply(void *ctx, const struct ist_block *b, struct ist_cons_epoch *ret_next)
{
	struct snode *nd = ctx;
	struct sim *s = nd->sim;
	uint64_t h = s->cfg->epoch_change_height, every = s->cfg->epoch_every;
	const struct ist_cons_epoch *next;
	if (every) {
		if (b->height % every != 0 || b->epoch + 1 >= MAX_EPOCHS || !s->epochs[b->epoch + 1])
			return 0;
		next = s->epochs[b->epoch + 1];
	} else {
		if (!h || b->height != h || b->epoch != 0 || !s->epochs[1])
			return 0;
		next = s->epochs[1];
	}
	ret_next->n = next->n;
	memcpy(ret_next->pubkeys, next->pubkeys, sizeof(ret_next->pubkeys));
	memcpy(ret_next->stakes, next->stakes, sizeof(ret_next->stakes));
	return 1;
}

/* ---- Node lifecycle ---- */

static void node_step(struct sim *s, struct snode *nd, const struct ist_cons_event *ev);

static int node_start(struct sim *s, struct snode *nd)
{
	struct ist_cons_config cfg = { 0 };
	cfg.network_id = NETWORK_ID;
	cfg.epoch = nd->epoch_set ? nd->epoch_set : s->epochs[0];
	cfg.root = nd->chain[nd->chain_len - 1];
	cfg.blocks = (const struct ist_block *const *)nd->stored;
	cfg.n_blocks = nd->n_stored;
	cfg.has_key = true;
	memcpy(cfg.pubkey, nd->pub, 32);
	cfg.signer.sign = node_sign;
	cfg.signer.ctx = nd;
	cfg.app.validate = app_validate;
	cfg.app.apply = app_apply;
	cfg.app.ctx = nd;
	cfg.sigcache = s->cfg->sigcache ? &s->cache_if : NULL;
	cfg.safety = nd->safety;
	cfg.safety_len = nd->safety_len;
	cfg.timeout_base_ms = s->cfg->timeout_base_ms;
	cfg.timeout_max_ms = s->cfg->timeout_max_ms;
	int r = ist_cons_new(&cfg, &nd->core);
	if (r < 0) {
		fail(s, "node %u: ist_cons_new: %s", nd->id, ist_strerror(r));
		return r;
	}
	nd->up = true;
	nd->inc++;
	struct ist_cons_event ev = { .kind = IST_CONS_EV_START, .from = IST_CONS_PEER_NONE };
	node_step(s, nd, &ev);
	return 0;
}

static void node_crash(struct sim *s, struct snode *nd)
{
	if (!nd->up)
		return;
	trace(s, "n%u CRASH", nd->id);
	ist_cons_free(nd->core);
	nd->core = NULL;
	nd->up = false;
	nd->inc++;
	nd->ready_next = 0;
	memset(nd->ready, 0, sizeof(nd->ready));
}

/* ---- The checker ---- */

static void record_signed(struct sim *s, struct snode *nd, int kind, uint64_t epoch, uint64_t view,
			  const uint8_t val[32])
{
	uint8_t key[48] = { 0 };
	ist_put_be32(key, nd->id);
	key[4] = (uint8_t)kind;
	ist_put_be64(key + 8, epoch);
	ist_put_be64(key + 16, view);
	struct hent *e = hmap_find(&s->signed_map, key);
	if (e) {
		if (memcmp(e->val, val, 32) != 0)
			fail(s, "equivocation: honest node %u signed two different %s for epoch %" PRIu64
				" view %" PRIu64, nd->id,
			     kind == IST_ENVELOPE_VOTE ? "votes" : kind == IST_ENVELOPE_TIMEOUT ? "timeouts" : "proposals",
			     epoch, view);
		return;
	}
	memcpy(hmap_put(&s->signed_map, key)->val, val, 32);
}

static void check_send(struct sim *s, struct snode *nd, const struct ist_cons_action *a)
{
	uint64_t ep = a->u.send.epoch;
	uint8_t val[32] = { 0 };
	if (a->u.send.vote && global_of(s, a->u.send.vote->epoch, a->u.send.vote->voter) == nd->id) {
		memcpy(val, a->u.send.vote->block_id, 32);
		record_signed(s, nd, IST_ENVELOPE_VOTE, a->u.send.vote->epoch, a->u.send.vote->view, val);
	}
	if (a->u.send.timeout && global_of(s, a->u.send.timeout->epoch, a->u.send.timeout->voter) == nd->id) {
		ist_put_be64(val, a->u.send.timeout->high_qc.view);
		record_signed(s, nd, IST_ENVELOPE_TIMEOUT, a->u.send.timeout->epoch, a->u.send.timeout->view, val);
	}
	if (a->u.send.proposal && global_of(s, ep, a->u.send.proposal->block.proposer) == nd->id) {
		if (ist_wire_block_id(&a->u.send.proposal->block, val) < 0)
			fail(s, "node %u sent a proposal without a block id", nd->id);
		record_signed(s, nd, IST_ENVELOPE_PROPOSAL, a->u.send.proposal->block.epoch,
			      a->u.send.proposal->block.view, val);
	}
}

static void check_commit(struct sim *s, struct snode *nd, const struct ist_block *b, const uint8_t id[32])
{
	uint64_t h = b->height;
	if (h != nd->chain_len) {
		fail(s, "node %u committed height %" PRIu64 " after %zu", nd->id, h, nd->chain_len - 1);
		return;
	}
	if (memcmp(b->parent_id, nd->chain_id[h - 1], 32) != 0) {
		fail(s, "node %u: committed block at height %" PRIu64 " does not extend its chain", nd->id, h);
		return;
	}
	if (nd->byz)
		return;
	if (h >= s->heights_cap) {
		size_t cap = s->heights_cap ? s->heights_cap * 2 : 256;
		while (cap <= h)
			cap *= 2;
		s->height_id = realloc(s->height_id, cap * sizeof(*s->height_id));
		s->height_set = realloc(s->height_set, cap * sizeof(*s->height_set));
		if (!s->height_id || !s->height_set)
			abort();
		memset(s->height_set + s->heights_cap, 0, (cap - s->heights_cap) * sizeof(bool));
		s->heights_cap = cap;
	}
	if (s->height_set[h]) {
		if (memcmp(s->height_id[h], id, 32) != 0)
			fail(s, "fork: honest nodes committed different blocks at height %" PRIu64 " (node %u)", h, nd->id);
		return;
	}
	s->height_set[h] = true;
	memcpy(s->height_id[h], id, 32);
	s->res->blocks++;
}

/* ---- Network ---- */

static bool partitioned(struct sim *s, uint32_t a, uint32_t b)
{
	for (uint32_t i = 0; i < s->cfg->n_partitions; i++) {
		const struct ist_sim_partition *p = &s->cfg->partitions[i];
		if (s->now >= p->start_ms && s->now < p->end_ms && p->side[a] != p->side[b])
			return true;
	}
	return false;
}

static void net_send(struct sim *s, uint32_t src, uint32_t dst, struct smsg *m)
{
	if (dst >= s->n_nodes || dst == src)
		return;
	switch (m->kind) {
	case IST_ENVELOPE_PROPOSAL: s->res->msgs_proposal++; break;
	case IST_ENVELOPE_VOTE: s->res->msgs_vote++; break;
	case IST_ENVELOPE_TIMEOUT: s->res->msgs_timeout++; break;
	default: s->res->msgs_sync++; break;
	}
	const struct ist_sim_config *cfg = s->cfg;
	if (partitioned(s, src, dst))
		return;
	bool pre = s->now < cfg->gst_ms;
	if (pre && chance(s, cfg->loss_pm))
		return;
	int copies = chance(s, cfg->dup_pm) ? 2 : 1;
	uint64_t bound = (pre ? cfg->gst_ms : s->now) + cfg->delta_ms;
	for (int k = 0; k < copies; k++) {
		uint64_t lat = s->lat[src * s->n_nodes + dst] + rnd(s, cfg->delta_ms / 2 + 1);
		if (pre && chance(s, cfg->slow_pm))
			lat += rnd(s, 8 * cfg->delta_ms);
		uint64_t at = s->now + lat;
		if (at > bound)
			at = bound;
		if (at <= s->now)
			at = s->now + 1;
		struct sev *e = ev_new(s, at, EV_DELIVER, dst);
		e->from = src;
		e->msg = smsg_ref(m);
		ev_push(s);
	}
}

static void net_broadcast(struct sim *s, uint32_t src, struct smsg *m)
{
	for (uint32_t i = 0; i < s->n_nodes; i++)
		if (i != src)
			net_send(s, src, i, m);
}

/* Sends m through the wire encoder and decoder (what a real node does). */
static struct smsg *codec_roundtrip(struct sim *s, struct smsg *m)
{
	struct ist_envelope *env = calloc(1, sizeof(*env));
	if (!env)
		abort();
	env->kind = (enum ist_envelope_kind)m->kind;
	if (m->prop)
		env->u.proposal = *m->prop;
	else if (m->vote)
		env->u.vote = *m->vote;
	else
		env->u.timeout = *m->tmo;
	uint8_t *buf;
	size_t len;
	int r = ist_wire_envelope_encode(env, &buf, &len);
	free(env);   /* shallow: the items still belong to m */
	if (r < 0) {
		fail(s, "wire encode of an honest message: %s", ist_strerror(r));
		return m;
	}
	struct ist_envelope *d;
	const char *why;
	r = ist_wire_envelope_decode(buf, len, &d, &why);
	free(buf);
	if (r < 0) {
		fail(s, "wire decode of an encoded message: %s (%s)", ist_strerror(r), why ? why : "");
		return m;
	}
	struct smsg *n = smsg_new(d->kind);
	switch (d->kind) {
	case IST_ENVELOPE_PROPOSAL:
		n->prop = malloc(sizeof(*n->prop));
		if (!n->prop)
			abort();
		*n->prop = d->u.proposal;
		memset(&d->u.proposal, 0, sizeof(d->u.proposal));
		break;
	case IST_ENVELOPE_VOTE:
		n->vote = malloc(sizeof(*n->vote));
		if (!n->vote)
			abort();
		*n->vote = d->u.vote;
		break;
	case IST_ENVELOPE_TIMEOUT:
		n->tmo = malloc(sizeof(*n->tmo));
		if (!n->tmo)
			abort();
		*n->tmo = d->u.timeout;
		break;
	case IST_ENVELOPE_EPOCH_REQUEST:
	case IST_ENVELOPE_FROST:
	case IST_ENVELOPE_BLOCK_REQUEST:
	case IST_ENVELOPE_BLOCK_RESPONSE:
	case IST_ENVELOPE_ATTEST_SHARE:
		/* the simulator carries blocks as FETCH/BLOCKS events, not
		 * envelopes: a re-encoded consensus message never has these */
		fail(s, "wire round trip turned a consensus message into kind %d", (int)d->kind);
		break;
	}
	ist_wire_envelope_free(d);
	smsg_unref(m);
	return n;
}

/* ---- Byzantine tampering ---- */

static void ring_keep(struct snode *nd, struct smsg *m)
{
	size_t i = nd->ring_next++ % RING;
	if (nd->ring_n < RING)
		nd->ring_n++;
	if (nd->ring[i])
		smsg_unref(nd->ring[i]);
	nd->ring[i] = smsg_ref(m);
}

static void corrupt_sig(struct sim *s, struct smsg *m)
{
	uint8_t *sig = m->prop ? m->prop->signature : m->vote ? m->vote->signature : m->tmo->signature;
	sig[rnd(s, IST_SIG_BYTES)] ^= (uint8_t)(1u << rnd(s, 8));
}

static struct smsg *vote_msg(struct snode *nd, uint64_t epoch, uint64_t view, const uint8_t id[32], uint32_t voter)
{
	struct smsg *m = smsg_new(IST_ENVELOPE_VOTE);
	m->vote = calloc(1, sizeof(*m->vote));
	if (!m->vote)
		abort();
	m->vote->epoch = epoch;
	m->vote->view = view;
	memcpy(m->vote->block_id, id, 32);
	m->vote->voter = voter;
	uint8_t msg[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(NETWORK_ID, epoch, view, id, msg);
	byz_sign(nd, msg, sizeof(msg), m->vote->signature);
	return m;
}

/* A Byzantine node's SEND: returns true when it handled the sending itself. */
static bool byz_send(struct sim *s, struct snode *nd, struct smsg *m, uint64_t epoch, uint32_t to)
{
	uint32_t mask = s->cfg->byz_mask;
	if ((mask & IST_SIM_BYZ_BAD_SIG) && m->kind != MSG_BUNDLE && chance(s, 333))
		corrupt_sig(s, m);
	if (m->kind == IST_ENVELOPE_VOTE) {
		if (mask & IST_SIM_BYZ_WITHHOLD)
			return true;
		if (mask & IST_SIM_BYZ_DOUBLE_VOTE) {
			uint8_t other[32];
			for (int i = 0; i < 32; i++)
				other[i] = (uint8_t)rnd(s, 256);
			struct smsg *v2 = vote_msg(nd, m->vote->epoch, m->vote->view, other, m->vote->voter);
			net_send(s, nd->id, global_of(s, epoch, to), v2);
			smsg_unref(v2);
		}
		return false;
	}
	if (m->kind == IST_ENVELOPE_PROPOSAL && global_of(s, epoch, m->prop->block.proposer) == nd->id) {
		if ((mask & IST_SIM_BYZ_WITHHOLD) && chance(s, 500))
			return true;
		if ((mask & IST_SIM_BYZ_EQUIVOCATE) && to == IST_CONS_TO_ALL) {
			/* a second block for the same view, signed: half get each */
			struct smsg *m2 = smsg_new(IST_ENVELOPE_PROPOSAL);
			m2->prop = malloc(sizeof(*m2->prop));
			if (!m2->prop)
				abort();
			*m2->prop = *m->prop;
			m2->prop->block.n_items = 0;
			m2->prop->block.items = NULL;
			m2->prop->block.timestamp_ms += 1 + rnd(s, 1000);
			uint8_t id2[32];
			if (ist_wire_block_id(&m2->prop->block, id2) < 0)
				abort();
			uint8_t msg[IST_WIRE_PROPOSAL_SIGNING_BYTES];
			ist_wire_proposal_signing_bytes_with_id(m2->prop, id2, msg);
			byz_sign(nd, msg, sizeof(msg), m2->prop->signature);
			for (uint32_t i = 0; i < s->n_nodes; i++)
				if (i != nd->id)
					net_send(s, nd->id, i, rnd(s, 2) ? m : m2);
			if (s->cfg->byz_mask & IST_SIM_BYZ_DOUBLE_VOTE) {
				const struct ist_cons_epoch *e = s->epochs[epoch];
				uint32_t next = ist_cons_epoch_leader(e, m2->prop->block.view + 1);
				struct smsg *v2 = vote_msg(nd, epoch, m2->prop->block.view, id2,
							   index_in(s, epoch, nd->id));
				net_send(s, nd->id, global_of(s, epoch, next), v2);
				smsg_unref(v2);
			}
			smsg_unref(m2);
			return true;
		}
	}
	return false;
}

static void byz_tick(struct sim *s, struct snode *nd)
{
	uint32_t mask = s->cfg->byz_mask;
	uint64_t epoch = node_epoch(nd);
	uint32_t me = index_in(s, epoch, nd->id);
	if ((mask & IST_SIM_BYZ_REPLAY) && nd->ring_n) {
		struct smsg *m = nd->ring[rnd(s, nd->ring_n)];
		net_send(s, nd->id, (uint32_t)rnd(s, s->n_nodes), m);
	}
	if ((mask & IST_SIM_BYZ_FUTURE) && nd->core && me != IST_CONS_PEER_NONE) {
		uint64_t v = ist_cons_view(nd->core) + 2 + rnd(s, 2) * (30 + rnd(s, 1000000));
		struct smsg *m = smsg_new(IST_ENVELOPE_TIMEOUT);
		m->tmo = calloc(1, sizeof(*m->tmo));
		if (!m->tmo)
			abort();
		m->tmo->epoch = epoch;
		m->tmo->view = v;
		m->tmo->high_qc = *ist_cons_high_qc(nd->core);
		m->tmo->voter = me;
		uint8_t msg[IST_WIRE_TIMEOUT_SIGNING_BYTES];
		ist_wire_timeout_signing_bytes(NETWORK_ID, epoch, v, m->tmo->high_qc.view, msg);
		byz_sign(nd, msg, sizeof(msg), m->tmo->signature);
		net_broadcast(s, nd->id, m);
		smsg_unref(m);
		uint8_t id[32];
		for (int i = 0; i < 32; i++)
			id[i] = (uint8_t)rnd(s, 256);
		struct smsg *vm = vote_msg(nd, epoch, v, id, me);
		net_send(s, nd->id, global_of(s, epoch, ist_cons_epoch_leader(s->epochs[epoch], v + 1)), vm);
		smsg_unref(vm);
	}
	if (mask & IST_SIM_BYZ_GARBAGE) {
		uint8_t *buf = NULL;
		size_t len = 0;
		if (nd->ring_n && rnd(s, 2)) {
			struct smsg *src = nd->ring[rnd(s, nd->ring_n)];
			if (src->kind != MSG_BUNDLE) {
				struct ist_envelope *env = calloc(1, sizeof(*env));
				if (!env)
					abort();
				env->kind = (enum ist_envelope_kind)src->kind;
				if (src->prop)
					env->u.proposal = *src->prop;
				else if (src->vote)
					env->u.vote = *src->vote;
				else
					env->u.timeout = *src->tmo;
				if (ist_wire_envelope_encode(env, &buf, &len) < 0)
					buf = NULL;
				free(env);
				for (uint64_t k = 1 + rnd(s, 4); buf && len && k > 0; k--)
					buf[rnd(s, len)] ^= (uint8_t)(1 + rnd(s, 255));
			}
		}
		if (!buf) {
			len = 1 + rnd(s, 512);
			buf = malloc(len);
			if (!buf)
				abort();
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)rnd(s, 256);
		}
		struct ist_envelope *d;
		const char *why;
		if (ist_wire_envelope_decode(buf, len, &d, &why) == 0) {
			struct smsg *m = smsg_new(d->kind);
			if (d->kind == IST_ENVELOPE_PROPOSAL) {
				m->prop = malloc(sizeof(*m->prop));
				*m->prop = d->u.proposal;
				memset(&d->u.proposal, 0, sizeof(d->u.proposal));
			} else if (d->kind == IST_ENVELOPE_VOTE) {
				m->vote = malloc(sizeof(*m->vote));
				*m->vote = d->u.vote;
			} else {
				m->tmo = malloc(sizeof(*m->tmo));
				*m->tmo = d->u.timeout;
			}
			ist_wire_envelope_free(d);
			if ((m->kind == IST_ENVELOPE_PROPOSAL && !m->prop) || (m->kind == IST_ENVELOPE_VOTE && !m->vote) ||
			    (m->kind == IST_ENVELOPE_TIMEOUT && !m->tmo))
				abort();
			net_send(s, nd->id, (uint32_t)rnd(s, s->n_nodes), m);
			smsg_unref(m);
		}
		free(buf);
	}
	ev_new(s, s->now + 1 + rnd(s, 4 * s->cfg->delta_ms), EV_BYZ, nd->id);
	ev_push(s);
}

/* ---- Actions ---- */

static void serve_fetch_epoch(struct sim *s, struct snode *nd, uint32_t to, uint64_t epoch);

static void digest_u64(struct sim *s, uint64_t v)
{
	uint8_t b[8];
	ist_put_be64(b, v);
	ist_sha256_update(&s->digest, b, 8);
}

static void digest_action(struct sim *s, struct snode *nd, const struct ist_cons_action *a)
{
	digest_u64(s, nd->id);
	digest_u64(s, a->kind);
	uint8_t *buf = NULL;
	size_t len = 0;
	switch (a->kind) {
	case IST_CONS_ACT_PERSIST:
		digest_u64(s, a->u.persist.seq);
		ist_sha256_update(&s->digest, a->u.persist.state, a->u.persist.len);
		break;
	case IST_CONS_ACT_SEND:
		digest_u64(s, a->u.send.epoch);
		digest_u64(s, a->u.send.to);
		if (a->u.send.proposal && ist_wire_proposal_encode(a->u.send.proposal, &buf, &len) < 0)
			fail(s, "cannot encode a proposal");
		if (a->u.send.vote && ist_wire_vote_encode(a->u.send.vote, &buf, &len) < 0)
			fail(s, "cannot encode a vote");
		if (a->u.send.timeout && ist_wire_timeout_encode(a->u.send.timeout, &buf, &len) < 0)
			fail(s, "cannot encode a timeout");
		if (buf)
			ist_sha256_update(&s->digest, buf, len);
		free(buf);
		break;
	case IST_CONS_ACT_COMMIT:
		ist_sha256_update(&s->digest, a->u.commit.id, 32);
		break;
	case IST_CONS_ACT_STORE_BLOCK:
		ist_sha256_update(&s->digest, a->u.store_block.id, 32);
		break;
	case IST_CONS_ACT_TIMER:
		digest_u64(s, a->u.timer.seq);
		digest_u64(s, a->u.timer.view);
		digest_u64(s, a->u.timer.ms);
		break;
	case IST_CONS_ACT_GET_PAYLOAD:
		digest_u64(s, a->u.get_payload.view);
		digest_u64(s, a->u.get_payload.height);
		ist_sha256_update(&s->digest, a->u.get_payload.parent_id, 32);
		break;
	case IST_CONS_ACT_FETCH:
		digest_u64(s, a->u.fetch.to);
		ist_sha256_update(&s->digest, a->u.fetch.block_id, 32);
		break;
	case IST_CONS_ACT_FETCH_EPOCH:
		digest_u64(s, a->u.fetch_epoch.epoch);
		digest_u64(s, a->u.fetch_epoch.to);
		break;
	case IST_CONS_ACT_SEND_EPOCH_PROOF:
		digest_u64(s, a->u.send_epoch_proof.epoch);
		digest_u64(s, a->u.send_epoch_proof.to);
		break;
	case IST_CONS_ACT_EPOCH:
		digest_u64(s, a->u.epoch.next->number);
		digest_u64(s, a->u.epoch.n_proof_blocks);
		ist_sha256_update(&s->digest, a->u.epoch.next->root_id, 32);
		break;
	}
}

static void act_send(struct sim *s, struct snode *nd, struct ist_cons_action *a)
{
	if (!nd->byz)
		check_send(s, nd, a);
	struct smsg *m = smsg_new(a->u.send.msg);
	m->prop = a->u.send.proposal;
	m->vote = a->u.send.vote;
	m->tmo = a->u.send.timeout;
	a->u.send.proposal = NULL;
	a->u.send.vote = NULL;
	a->u.send.timeout = NULL;
	if (s->cfg->codec)
		m = codec_roundtrip(s, m);
	uint64_t epoch = a->u.send.epoch;
	uint32_t to = a->u.send.to;
	if (nd->byz && byz_send(s, nd, m, epoch, to)) {
		smsg_unref(m);
		return;
	}
	if (to == IST_CONS_TO_ALL)
		net_broadcast(s, nd->id, m);
	else
		net_send(s, nd->id, global_of(s, epoch, to), m);
	smsg_unref(m);
}

/* The disk drops stored blocks that can no longer matter. */
static void stored_prune(struct snode *nd)
{
	size_t w = 0;
	uint64_t h = nd->chain_len - 1;
	for (size_t i = 0; i < nd->n_stored; i++) {
		struct ist_block *b = nd->stored[i];
		if (b->height <= h || b->epoch < nd->epoch) {
			ist_wire_block_free(b);
			continue;
		}
		nd->stored[w++] = b;
	}
	nd->n_stored = w;
}

static void act_store(struct snode *nd, struct ist_cons_action *a)
{
	if (nd->n_stored == nd->stored_cap) {
		nd->stored_cap = nd->stored_cap ? nd->stored_cap * 2 : 16;
		nd->stored = realloc(nd->stored, nd->stored_cap * sizeof(*nd->stored));
		if (!nd->stored)
			abort();
	}
	nd->stored[nd->n_stored++] = a->u.store_block.block;
	a->u.store_block.block = NULL;
}

static void act_commit(struct sim *s, struct snode *nd, struct ist_cons_action *a)
{
	struct ist_block *b = a->u.commit.block;
	check_commit(s, nd, b, a->u.commit.id);
	if (s->failed)
		return;
	trace(s, "n%u COMMIT h=%" PRIu64 " v=%" PRIu64 " e=%" PRIu64, nd->id, b->height, b->view, b->epoch);
	if (nd->chain_len == nd->chain_cap) {
		nd->chain_cap *= 2;
		nd->chain = realloc(nd->chain, nd->chain_cap * sizeof(*nd->chain));
		nd->chain_id = realloc(nd->chain_id, nd->chain_cap * sizeof(*nd->chain_id));
		if (!nd->chain || !nd->chain_id)
			abort();
	}
	nd->chain[nd->chain_len] = b;
	memcpy(nd->chain_id[nd->chain_len], a->u.commit.id, 32);
	nd->chain_len++;
	a->u.commit.block = NULL;
	stored_prune(nd);
	if (!nd->byz && nd->live && nd->core) {
		uint64_t ep = node_epoch(nd), v = ist_cons_view(nd->core);
		if (ep == nd->live_epoch && v > nd->live_view && v - nd->live_view > nd->max_gap)
			nd->max_gap = v - nd->live_view;
		nd->live_view = v;
		nd->live_epoch = ep;
		if (nd->chain_len - 1 - nd->live_height == s->cfg->min_new_commits)
			s->live_done++;
	}
}

static void proof_free(struct snode *nd, uint64_t e)
{
	for (size_t i = 0; i < nd->n_proof_blocks[e]; i++)
		ist_wire_block_free(nd->proof_blocks[e][i]);
	free(nd->proof_blocks[e]);
	free(nd->proof_qc[e]);
	nd->proof_blocks[e] = NULL;
	nd->n_proof_blocks[e] = 0;
	nd->proof_qc[e] = NULL;
}

/* A new disk for a crashed node (struct ist_sim_crash, new_disk): what a
 * validator moved to a new machine starts from. The chain goes back to the
 * genesis block (the checker sees the heights committed again, as on a real
 * node), the stored blocks, the epoch proofs and the later epoch go; the
 * safety state stays unless `lose_safety`. */
static void node_new_disk(struct snode *nd, bool lose_safety)
{
	for (size_t h = 1; h < nd->chain_len; h++)
		ist_wire_block_free(nd->chain[h]);
	nd->chain_len = 1;
	for (size_t k = 0; k < nd->n_stored; k++)
		ist_wire_block_free(nd->stored[k]);
	nd->n_stored = 0;
	free(nd->epoch_set);
	nd->epoch_set = NULL;
	nd->epoch = 0;
	for (int e = 0; e < MAX_EPOCHS; e++)
		proof_free(nd, (uint64_t)e);
	if (lose_safety) {
		free(nd->safety);
		nd->safety = NULL;
		nd->safety_len = 0;
	}
}

static void act_epoch(struct sim *s, struct snode *nd, struct ist_cons_action *a)
{
	const struct ist_cons_epoch *e = a->u.epoch.next;
	if (e->number >= MAX_EPOCHS || !s->epochs[e->number]) {
		fail(s, "node %u moved to an unexpected epoch %" PRIu64, nd->id, e->number);
		return;
	}
	struct ist_cons_epoch *known = s->epochs[e->number];
	if (memcmp(e->root_id, nd->chain_id[nd->chain_len - 1], 32) != 0) {
		fail(s, "node %u: epoch %" PRIu64 " does not start at its last committed block", nd->id, e->number);
		return;
	}
	/* Byzantine nodes run honest cores: they must agree too, but only the
	 * honest ones are held to it */
	if (!nd->byz && s->epoch_root_set[e->number] && memcmp(known->root_id, e->root_id, 32) != 0) {
		fail(s, "honest nodes disagree on the root of epoch %" PRIu64, e->number);
		return;
	}
	if (!nd->byz && (e->n != known->n || memcmp(e->pubkeys, known->pubkeys, e->n * 32) != 0)) {
		fail(s, "honest nodes disagree on the set of epoch %" PRIu64, e->number);
		return;
	}
	if (!s->epoch_root_set[e->number] || !nd->byz) {
		memcpy(known->root_id, e->root_id, 32);
		s->epoch_root_set[e->number] = true;
	}
	trace(s, "n%u EPOCH %" PRIu64, nd->id, e->number);
	nd->epoch = e->number;
	free(nd->epoch_set);
	nd->epoch_set = a->u.epoch.next;
	a->u.epoch.next = NULL;
	stored_prune(nd);
	uint64_t old = e->number - 1;
	proof_free(nd, old);
	nd->proof_blocks[old] = a->u.epoch.proof_blocks;
	nd->n_proof_blocks[old] = a->u.epoch.n_proof_blocks;
	nd->proof_qc[old] = a->u.epoch.proof_qc;
	a->u.epoch.proof_blocks = NULL;
	a->u.epoch.n_proof_blocks = 0;
	a->u.epoch.proof_qc = NULL;
	if (!nd->byz && e->number > s->res->epochs)
		s->res->epochs = e->number;
}

static void handle_action(struct sim *s, struct snode *nd, struct ist_cons_action *a)
{
	const struct ist_sim_config *cfg = s->cfg;
	if (cfg->digest)
		digest_action(s, nd, a);
	struct sev *e;
	switch (a->kind) {
	case IST_CONS_ACT_PERSIST: {
		uint64_t at = s->now + 1 + rnd(s, cfg->persist_ms);
		if (at < nd->persist_at)
			at = nd->persist_at;   /* the disk writes in order */
		nd->persist_at = at;
		e = ev_new(s, at, EV_PERSIST, nd->id);
		e->inc = nd->inc;
		e->a = a->u.persist.seq;
		e->data = a->u.persist.state;
		e->len = a->u.persist.len;
		a->u.persist.state = NULL;
		ev_push(s);
		break;
	}
	case IST_CONS_ACT_SEND:
		trace(s, "n%u SEND %s e=%" PRIu64 " v=%" PRIu64 " to=%d", nd->id,
		      a->u.send.proposal ? "proposal" : a->u.send.vote ? "vote" : "timeout", a->u.send.epoch,
		      a->u.send.proposal ? a->u.send.proposal->block.view
		      : a->u.send.vote ? a->u.send.vote->view : a->u.send.timeout->view, (int)a->u.send.to);
		act_send(s, nd, a);
		break;
	case IST_CONS_ACT_COMMIT:
		act_commit(s, nd, a);
		break;
	case IST_CONS_ACT_STORE_BLOCK:
		act_store(nd, a);
		break;
	case IST_CONS_ACT_TIMER:
		e = ev_new(s, s->now + a->u.timer.ms, EV_TIMER, nd->id);
		e->inc = nd->inc;
		e->a = a->u.timer.seq;
		ev_push(s);
		break;
	case IST_CONS_ACT_GET_PAYLOAD:
		e = ev_new(s, s->now + rnd(s, 3), EV_PAYLOAD, nd->id);
		e->inc = nd->inc;
		e->a = a->u.get_payload.epoch;
		e->b = a->u.get_payload.view;
		ev_push(s);
		break;
	case IST_CONS_ACT_FETCH: {
		uint32_t to = global_of(s, a->u.fetch.epoch, a->u.fetch.to);
		trace(s, "n%u FETCH %02x%02x from n%u", nd->id, a->u.fetch.block_id[0], a->u.fetch.block_id[1], to);
		if (to >= s->n_nodes || to == nd->id)
			break;
		s->res->msgs_sync++;
		if (partitioned(s, nd->id, to))
			break;
		e = ev_new(s, s->now + 1 + s->lat[nd->id * s->n_nodes + to], EV_FETCH, to);
		e->from = nd->id;
		memcpy(e->id, a->u.fetch.block_id, 32);
		ev_push(s);
		break;
	}
	case IST_CONS_ACT_FETCH_EPOCH: {
		uint32_t to = a->u.fetch_epoch.to == IST_CONS_PEER_NONE
				      ? nd->last_future_from
				      : global_of(s, a->u.fetch_epoch.epoch, a->u.fetch_epoch.to);
		if (to >= s->n_nodes || to == nd->id)
			to = (uint32_t)rnd(s, s->n_nodes);
		if (to == nd->id)
			break;
		trace(s, "n%u FETCH_EPOCH %" PRIu64 " from n%u", nd->id, a->u.fetch_epoch.epoch, to);
		s->res->msgs_sync++;
		if (partitioned(s, nd->id, to))
			break;
		e = ev_new(s, s->now + 1 + s->lat[nd->id * s->n_nodes + to], EV_FETCH_EPOCH, to);
		e->from = nd->id;
		e->a = a->u.fetch_epoch.epoch;
		ev_push(s);
		break;
	}
	case IST_CONS_ACT_SEND_EPOCH_PROOF: {
		uint32_t to = a->u.send_epoch_proof.to == IST_CONS_PEER_NONE
				      ? s->cur_from
				      : global_of(s, node_epoch(nd), a->u.send_epoch_proof.to);
		if (to < s->n_nodes)
			serve_fetch_epoch(s, nd, to, a->u.send_epoch_proof.epoch);
		break;
	}
	case IST_CONS_ACT_EPOCH:
		act_epoch(s, nd, a);
		break;
	}
}

static void node_step(struct sim *s, struct snode *nd, const struct ist_cons_event *ev)
{
	if (!nd->up || s->failed)
		return;
	struct ist_cons_actions acts;
	ist_cons_actions_init(&acts);
	uint32_t inc = nd->inc;
	int r = ist_cons_step(nd->core, ev, &acts);
	if (r < 0) {
		fail(s, "node %u: step (event %d) failed: %s", nd->id, ev->kind, ist_strerror(r));
	} else {
		if (acts.drop < 32)
			s->res->drops[acts.drop]++;
		if (acts.drop && s->cfg->trace)
			trace(s, "n%u dropped event %d: %s", nd->id, ev->kind, ist_cons_drop_str(acts.drop));
		for (size_t i = 0; i < acts.len && !s->failed && nd->up && nd->inc == inc; i++)
			handle_action(s, nd, &acts.v[i]);
	}
	ist_cons_actions_fini(&acts);
}

/* ---- Event handlers ---- */

static void deliver(struct sim *s, struct snode *nd, uint32_t from, struct smsg *m)
{
	if (!nd->up)
		return;
	uint64_t my = node_epoch(nd);
	if (smsg_epoch(m) > my)
		nd->last_future_from = from;
	if (nd->byz)
		ring_keep(nd, m);
	struct ist_cons_event ev = { .from = index_in(s, my, from) };
	s->cur_from = from;
	switch (m->kind) {
	case IST_ENVELOPE_PROPOSAL:
		ev.kind = IST_CONS_EV_PROPOSAL;
		ev.u.proposal = m->prop;
		node_step(s, nd, &ev);
		break;
	case IST_ENVELOPE_VOTE:
		ev.kind = IST_CONS_EV_VOTE;
		ev.u.vote = m->vote;
		node_step(s, nd, &ev);
		break;
	case IST_ENVELOPE_TIMEOUT:
		ev.kind = IST_CONS_EV_TIMEOUT;
		ev.u.timeout = m->tmo;
		node_step(s, nd, &ev);
		break;
	case MSG_BUNDLE:
		ev.kind = IST_CONS_EV_BLOCKS;
		ev.u.blocks.v = (const struct ist_block *const *)m->blocks;
		ev.u.blocks.n = m->n_blocks;
		ev.u.blocks.qc = m->qc;
		node_step(s, nd, &ev);
		break;
	}
	s->cur_from = UINT32_MAX;
}

static struct ist_block *chain_find(struct snode *nd, const uint8_t id[32])
{
	for (size_t i = nd->chain_len; i > 0; i--)
		if (memcmp(nd->chain_id[i - 1], id, 32) == 0)
			return nd->chain[i - 1];
	return NULL;
}

static void serve_fetch(struct sim *s, struct snode *nd, uint32_t to, const uint8_t want[32])
{
	if (!nd->up || nd->byz)
		return;
	struct ist_block *found[FETCH_DEPTH];
	struct ist_qc *qc = NULL;
	size_t k = 0;
	uint8_t id[32];
	memcpy(id, want, 32);
	while (k < FETCH_DEPTH) {
		struct ist_block *b = NULL;
		if (ist_cons_block_get(nd->core, id, &b, k == 0 ? &qc : NULL) < 0) {
			const struct ist_block *c = chain_find(nd, id);
			if (!c || ist_cons_block_dup(c, &b) < 0)
				break;
		}
		found[k++] = b;
		if (b->height <= 1)
			break;
		memcpy(id, b->parent_id, 32);
	}
	trace(s, "n%u serves %zu blocks for %02x%02x to n%u", nd->id, k, want[0], want[1], to);
	if (!k) {
		free(qc);
		return;
	}
	struct smsg *m = smsg_new(MSG_BUNDLE);
	m->blocks = calloc(k, sizeof(*m->blocks));
	if (!m->blocks)
		abort();
	for (size_t i = 0; i < k; i++)
		m->blocks[i] = found[i];   /* top first: the block asked for, then its ancestors */
	m->n_blocks = k;
	m->qc = qc;
	net_send(s, nd->id, to, m);
	smsg_unref(m);
}

static void serve_fetch_epoch(struct sim *s, struct snode *nd, uint32_t to, uint64_t epoch)
{
	if (!nd->up || nd->byz || epoch >= MAX_EPOCHS || !nd->n_proof_blocks[epoch])
		return;
	trace(s, "n%u sends the proof of epoch %" PRIu64 " to n%u", nd->id, epoch, to);
	struct smsg *m = smsg_new(MSG_BUNDLE);
	m->blocks = calloc(nd->n_proof_blocks[epoch], sizeof(*m->blocks));
	m->qc = malloc(sizeof(*m->qc));
	if (!m->blocks || !m->qc)
		abort();
	for (size_t i = 0; i < nd->n_proof_blocks[epoch]; i++)
		if (ist_cons_block_dup(nd->proof_blocks[epoch][i], &m->blocks[m->n_blocks++]) < 0)
			abort();
	*m->qc = *nd->proof_qc[epoch];
	net_send(s, nd->id, to, m);
	smsg_unref(m);
}

static void on_persist(struct sim *s, struct snode *nd, struct sev *e)
{
	if (!nd->up || nd->inc != e->inc)
		return;
	uint32_t pm = s->cfg->persist_crash_pm;
	if (chance(s, pm / 2)) {
		/* the machine dies before the write reaches the disk */
		node_crash(s, nd);
		ev_new(s, s->now + 1 + rnd(s, 4 * s->cfg->delta_ms), EV_RESTART, nd->id);
		ev_push(s);
		return;
	}
	trace(s, "n%u PERSISTED seq=%" PRIu64, nd->id, e->a);
	free(nd->safety);
	nd->safety = e->data;
	nd->safety_len = e->len;
	e->data = NULL;
	if (chance(s, pm / 2)) {
		/* written, but the acknowledgement never reaches the core */
		node_crash(s, nd);
		ev_new(s, s->now + 1 + rnd(s, 4 * s->cfg->delta_ms), EV_RESTART, nd->id);
		ev_push(s);
		return;
	}
	struct ist_cons_event ev = { .kind = IST_CONS_EV_PERSISTED, .from = IST_CONS_PEER_NONE };
	ev.u.persisted.seq = e->a;
	node_step(s, nd, &ev);
}

static void on_payload(struct sim *s, struct snode *nd, struct sev *e)
{
	if (!nd->up || nd->inc != e->inc)
		return;
	uint8_t data[16];
	ist_put_be32(data, nd->id);
	ist_put_be32(data + 4, (uint32_t)e->a);
	ist_put_be64(data + 8, e->b);
	if (nd->byz && (s->cfg->byz_mask & IST_SIM_BYZ_BAD_PAYLOAD) && rnd(s, 2))
		data[0] = 0xBB;
	struct ist_payload_item item = { .kind = IST_PAYLOAD_DKG };
	item.u.opaque.data = data;
	item.u.opaque.len = sizeof(data);
	struct ist_cons_event ev = { .kind = IST_CONS_EV_PAYLOAD, .from = IST_CONS_PEER_NONE };
	ev.u.payload.epoch = e->a;
	ev.u.payload.view = e->b;
	ev.u.payload.timestamp_ms = s->now;
	ev.u.payload.items = &item;
	ev.u.payload.n_items = 1;
	node_step(s, nd, &ev);
}

static void on_recheck(struct sim *s, struct snode *nd, struct sev *e)
{
	if (!nd->up || nd->inc != e->inc)
		return;
	for (size_t i = 0; i < 8; i++)
		if (memcmp(nd->ready[i], e->id, 32) == 0)
			nd->ready_ok[i] = true;
	struct ist_cons_event ev = { .kind = IST_CONS_EV_RECHECK, .from = IST_CONS_PEER_NONE };
	node_step(s, nd, &ev);
}

static void on_live(struct sim *s)
{
	s->live_started = true;
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		struct snode *nd = &s->nodes[i];
		if (nd->byz)
			continue;
		nd->live = true;
		nd->live_height = nd->chain_len - 1;
		nd->live_epoch = node_epoch(nd);
		nd->live_view = nd->core ? ist_cons_view(nd->core) : 0;
	}
}

static void dispatch(struct sim *s, struct sev *e)
{
	struct snode *nd = &s->nodes[e->node];
	switch (e->kind) {
	case EV_DELIVER:
		deliver(s, nd, e->from, e->msg);
		break;
	case EV_TIMER:
		if (nd->up && nd->inc == e->inc) {
			struct ist_cons_event ev = { .kind = IST_CONS_EV_TIMER, .from = IST_CONS_PEER_NONE };
			ev.u.timer.seq = e->a;
			node_step(s, nd, &ev);
		}
		break;
	case EV_PERSIST:
		on_persist(s, nd, e);
		break;
	case EV_PAYLOAD:
		on_payload(s, nd, e);
		break;
	case EV_CRASH:
		if (nd->up) {
			node_crash(s, nd);
			struct sev *r = ev_new(s, s->now + e->a, EV_RESTART, nd->id);
			r->b = e->b;
			ev_push(s);
		}
		break;
	case EV_RESTART:
		if (!nd->up) {
			trace(s, "n%u RESTART%s", nd->id, e->b & RESTART_NEW_DISK ? " on a new disk" : "");
			if (e->b & RESTART_NEW_DISK)
				node_new_disk(nd, e->b & RESTART_LOSE_SAFETY);
			node_start(s, nd);
		}
		break;
	case EV_RECHECK:
		on_recheck(s, nd, e);
		break;
	case EV_BYZ:
		byz_tick(s, nd);
		break;
	case EV_FETCH:
		serve_fetch(s, nd, e->from, e->id);
		break;
	case EV_FETCH_EPOCH:
		serve_fetch_epoch(s, nd, e->from, e->a);
		break;
	case EV_LIVE:
		on_live(s);
		break;
	}
}

/* ---- Setup ---- */

static int setup(struct sim *s)
{
	const struct ist_sim_config *cfg = s->cfg;
	if (cfg->n < 1 || cfg->n >= IST_SIM_MAX_NODES || cfg->delta_ms < 2 || !cfg->timeout_base_ms)
		return -IST_EINVAL;
	if (sodium_init() < 0)
		return -IST_ECRYPTO;
	ist_rng_det_init(&s->rng, cfg->seed);
	s->n_nodes = cfg->n + (cfg->epoch_change_height ? 1 : 0);
	s->nodes = calloc(s->n_nodes, sizeof(*s->nodes));
	s->lat = calloc((size_t)s->n_nodes * s->n_nodes, sizeof(*s->lat));
	if (!s->nodes || !s->lat)
		return -IST_ENOMEM;
	for (size_t i = 0; i < (size_t)s->n_nodes * s->n_nodes; i++)
		s->lat[i] = (uint16_t)(1 + rnd(s, cfg->delta_ms / 2));

	/* keys */
	struct ist_rng_det krng;
	ist_rng_det_init(&krng, cfg->seed ^ 0x6b657973ull);
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		struct snode *nd = &s->nodes[i];
		nd->sim = s;
		nd->id = i;
		for (int k = 0; k < 32; k += 8)
			ist_put_be64(nd->seed + k, ist_rng_det_next(&krng));
		if (crypto_sign_seed_keypair(nd->pub, nd->sk, nd->seed) != 0)
			return -IST_ECRYPTO;
	}
	for (uint32_t k = 0; k < cfg->n_byz; k++)
		if (cfg->byz_nodes[k] < s->n_nodes) {
			s->nodes[cfg->byz_nodes[k]].byz = true;
			trace(s, "n%u is Byzantine (mask %#x)", cfg->byz_nodes[k], cfg->byz_mask);
		}

	/* genesis and the epochs */
	s->genesis = calloc(1, sizeof(*s->genesis));
	if (!s->genesis)
		return -IST_ENOMEM;
	s->genesis->network_id = NETWORK_ID;
	if (ist_wire_block_id(s->genesis, s->genesis_id) < 0)
		return -IST_EINVAL;
	if (cfg->epoch_every && (cfg->epoch_change_height || (cfg->out_to > cfg->out_from && cfg->out_node >= cfg->n)))
		return -IST_EINVAL;
	int n_epochs = cfg->epoch_every ? MAX_EPOCHS : cfg->epoch_change_height ? 2 : 1;
	for (int e = 0; e < n_epochs; e++) {
		struct ist_cons_epoch *ep = calloc(1, sizeof(*ep));
		if (!ep)
			return -IST_ENOMEM;
		ep->number = (uint64_t)e;
		bool out = cfg->epoch_every && (uint64_t)e >= cfg->out_from && (uint64_t)e < cfg->out_to;
		for (uint32_t i = 0; i < cfg->n; i++) {
			uint32_t g = i + (cfg->epoch_every ? 0 : (uint32_t)e);
			if (out && g == cfg->out_node)
				continue;
			memcpy(ep->pubkeys[ep->n], s->nodes[g].pub, 32);
			ep->stakes[ep->n] = cfg->stakes[g] ? cfg->stakes[g] : 1;
			s->members[e][ep->n++] = g;
		}
		if (e == 0)
			memcpy(ep->root_id, s->genesis_id, 32);
		int r = ist_cons_epoch_check(ep);
		if (r < 0) {
			free(ep);
			return r;
		}
		s->epochs[e] = ep;
	}
	s->epoch_root_set[0] = true;

	s->cur_from = UINT32_MAX;
	for (uint32_t i = 0; i < s->n_nodes; i++)
		s->n_honest += !s->nodes[i].byz;
	s->cache_if.lookup = cache_lookup;
	s->cache_if.store = cache_store;
	s->cache_if.ctx = s;
	ist_sha256_init(&s->digest);

	for (uint32_t i = 0; i < s->n_nodes; i++) {
		struct snode *nd = &s->nodes[i];
		nd->chain_cap = 64;
		nd->chain = calloc(nd->chain_cap, sizeof(*nd->chain));
		nd->chain_id = calloc(nd->chain_cap, sizeof(*nd->chain_id));
		if (!nd->chain || !nd->chain_id || ist_cons_block_dup(s->genesis, &nd->chain[0]) < 0)
			return -IST_ENOMEM;
		memcpy(nd->chain_id[0], s->genesis_id, 32);
		nd->chain_len = 1;
		nd->last_future_from = UINT32_MAX;
	}
	for (uint32_t i = 0; i < s->n_nodes && !s->failed; i++) {
		int r = node_start(s, &s->nodes[i]);
		if (r < 0)
			return r;
		if (s->nodes[i].byz) {
			ev_new(s, 1 + rnd(s, 4 * cfg->delta_ms), EV_BYZ, i);
			ev_push(s);
		}
	}
	for (uint32_t k = 0; k < cfg->n_crashes; k++) {
		const struct ist_sim_crash *c = &cfg->crashes[k];
		if (c->node >= s->n_nodes)
			continue;
		struct sev *e = ev_new(s, c->at_ms, EV_CRASH, c->node);
		e->a = c->down_ms ? c->down_ms : 1;
		e->b = (c->new_disk ? RESTART_NEW_DISK : 0) | (c->lose_safety ? RESTART_LOSE_SAFETY : 0);
		ev_push(s);
	}
	if (cfg->check_liveness) {
		ev_new(s, cfg->live_from_ms, EV_LIVE, 0);
		ev_push(s);
	}
	return 0;
}

static void teardown(struct sim *s)
{
	while (s->hlen) {
		struct sev e = ev_pop(s);
		smsg_unref(e.msg);
		free(e.data);
	}
	free(s->heap);
	for (uint32_t i = 0; s->nodes && i < s->n_nodes; i++) {
		struct snode *nd = &s->nodes[i];
		ist_cons_free(nd->core);
		free(nd->safety);
		for (size_t h = 0; h < nd->chain_len; h++)
			ist_wire_block_free(nd->chain[h]);
		free(nd->chain);
		free(nd->chain_id);
		for (size_t k = 0; k < nd->n_stored; k++)
			ist_wire_block_free(nd->stored[k]);
		free(nd->stored);
		free(nd->epoch_set);
		for (int e = 0; e < MAX_EPOCHS; e++)
			proof_free(nd, (uint64_t)e);
		for (size_t k = 0; k < nd->ring_n; k++)
			smsg_unref(nd->ring[k]);
		sodium_memzero(nd->sk, sizeof(nd->sk));
	}
	free(s->nodes);
	free(s->lat);
	for (int e = 0; e < MAX_EPOCHS; e++)
		free(s->epochs[e]);
	ist_wire_block_free(s->genesis);
	free(s->height_id);
	free(s->height_set);
	free(s->signed_map.v);
	free(s->cache_map.v);
}

static void finish(struct sim *s)
{
	struct ist_sim_result *res = s->res;
	const struct ist_sim_config *cfg = s->cfg;
	res->min_height = UINT64_MAX;
	res->min_new_commits = UINT64_MAX;
	res->min_epoch = UINT64_MAX;
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		struct snode *nd = &s->nodes[i];
		if (nd->byz)
			continue;
		if (node_epoch(nd) < res->min_epoch)
			res->min_epoch = node_epoch(nd);
		uint64_t h = nd->chain_len - 1;
		if (h < res->min_height)
			res->min_height = h;
		if (h > res->max_height)
			res->max_height = h;
		if (nd->core && ist_cons_view(nd->core) > res->max_view)
			res->max_view = ist_cons_view(nd->core);
		if (!nd->live)
			continue;
		uint64_t fresh = h - nd->live_height;
		if (fresh < res->min_new_commits)
			res->min_new_commits = fresh;
		uint64_t gap = nd->max_gap;
		if (nd->core && node_epoch(nd) == nd->live_epoch && ist_cons_view(nd->core) > nd->live_view &&
		    ist_cons_view(nd->core) - nd->live_view > gap)
			gap = ist_cons_view(nd->core) - nd->live_view;
		if (gap > res->max_view_gap)
			res->max_view_gap = gap;
	}
	for (uint32_t i = 0; i < s->n_nodes; i++) {
		if (!s->nodes[i].core)
			continue;
		const struct ist_cons_stats *st = ist_cons_stats_get(s->nodes[i].core);
		res->verifications += st->sig_verifications;
		res->signed_msgs += st->votes_sent + st->timeouts_sent + st->proposals_sent;
	}
	if (res->min_height == UINT64_MAX)
		res->min_height = 0;
	if (res->min_epoch == UINT64_MAX)
		res->min_epoch = 0;
	if (res->min_new_commits == UINT64_MAX)
		res->min_new_commits = 0;
	if (cfg->check_liveness && !s->failed) {
		if (res->min_new_commits < cfg->min_new_commits)
			fail(s, "liveness: an honest node committed only %" PRIu64 " blocks after t=%" PRIu64
				"ms (want %" PRIu64 ")", res->min_new_commits, cfg->live_from_ms, cfg->min_new_commits);
		else if (cfg->max_view_gap && res->max_view_gap > cfg->max_view_gap)
			fail(s, "liveness: %" PRIu64 " views between two commits (bound %" PRIu64 ")",
			     res->max_view_gap, cfg->max_view_gap);
	}
	ist_sha256_final(&s->digest, res->digest);
}

int ist_sim_run(const struct ist_sim_config *cfg, struct ist_sim_result *res)
{
	memset(res, 0, sizeof(*res));
	res->ok = true;
	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		return -IST_ENOMEM;
	s->cfg = cfg;
	s->res = res;
	int r = setup(s);
	while (r == 0 && !s->failed && s->hlen) {
		struct sev e = ev_pop(s);
		if (e.t > cfg->end_ms) {
			smsg_unref(e.msg);
			free(e.data);
			break;
		}
		s->now = e.t;
		if (++res->events > EVENT_BUDGET)
			fail(s, "event budget exhausted");
		else
			dispatch(s, &e);
		smsg_unref(e.msg);
		free(e.data);
		if (cfg->stop_when_live && s->live_started && s->live_done >= s->n_honest)
			break;
	}
	if (r == 0)
		finish(s);
	teardown(s);
	free(s);
	return r;
}

/* ---- Configurations ---- */

void ist_sim_config_default(struct ist_sim_config *cfg, uint64_t seed, uint32_t n)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->seed = seed;
	cfg->n = n;
	cfg->delta_ms = 50;
	cfg->gst_ms = 0;
	cfg->persist_ms = 5;
	cfg->timeout_base_ms = 400;
	cfg->timeout_max_ms = 1600;
	cfg->end_ms = 10000;
	cfg->sigcache = true;
}

void ist_sim_config_random(struct ist_sim_config *cfg, uint64_t seed, uint32_t n)
{
	struct ist_rng_det r;
	ist_rng_det_init(&r, seed * 0x9e3779b97f4a7c15ull + 0x5eedull);
#define R(b) ist_rng_det_below(&r, (b))
	ist_sim_config_default(cfg, seed, n);
	uint32_t f = (n - 1) / 3;
	cfg->delta_ms = 20 + R(61);
	cfg->timeout_base_ms = cfg->delta_ms * (6 + R(5));
	cfg->timeout_max_ms = cfg->timeout_base_ms * 2;
	cfg->persist_ms = 1 + R(cfg->delta_ms / 2);
	cfg->gst_ms = R(2000);
	cfg->loss_pm = (uint32_t)R(4) == 0 ? 0 : (uint32_t)R(300);
	cfg->dup_pm = (uint32_t)R(100);
	cfg->slow_pm = (uint32_t)R(200);
	cfg->codec = R(8) == 0;
	cfg->notyet_pm = R(4) == 0 ? (uint32_t)R(300) : 0;
	cfg->epoch_change_height = (n >= 4 && R(6) == 0) ? 3 + R(8) : 0;
	uint32_t nodes = n + (cfg->epoch_change_height ? 1 : 0);

	/* stakes: equal, or random with the Byzantine nodes under 1/3 */
	bool weighted = R(4) == 0;
	uint64_t total = 0;
	for (uint32_t i = 0; i < nodes; i++) {
		cfg->stakes[i] = weighted ? 1 + R(10) : 1;
		if (i < n)
			total += cfg->stakes[i];
	}
	/* Byzantine nodes among 1..n-1 (present in both epochs of an epoch change) */
	uint32_t want = f ? (uint32_t)R(f + 1) : 0;
	uint64_t byz_stake = 0, total1 = total - cfg->stakes[0] + (cfg->epoch_change_height ? cfg->stakes[n] : 0);
	for (uint32_t tries = 0; cfg->n_byz < want && tries < 8 * n; tries++) {
		uint32_t c = 1 + (uint32_t)R(n - 1);
		bool dup = false;
		for (uint32_t k = 0; k < cfg->n_byz; k++)
			dup |= cfg->byz_nodes[k] == c;
		if (dup || 3 * (byz_stake + cfg->stakes[c]) >= total ||
		    (cfg->epoch_change_height && 3 * (byz_stake + cfg->stakes[c]) >= total1))
			continue;
		cfg->byz_nodes[cfg->n_byz++] = c;
		byz_stake += cfg->stakes[c];
	}
	cfg->byz_mask = cfg->n_byz ? (uint32_t)(1 + R(IST_SIM_BYZ_ALL)) : 0;

	/* crashes and partitions; with liveness checked when all end before GST */
	bool late = R(4) == 0;
	uint64_t horizon = late ? cfg->gst_ms + 10 * cfg->timeout_base_ms : cfg->gst_ms;
	if (R(2)) {
		cfg->n_crashes = 1 + (uint32_t)R(4);
		for (uint32_t k = 0; k < cfg->n_crashes; k++) {
			struct ist_sim_crash *c = &cfg->crashes[k];
			c->node = (uint32_t)R(nodes);
			c->at_ms = R(horizon + 1);
			c->down_ms = 1 + R(3 * cfg->timeout_base_ms);
			if (!late && c->at_ms + c->down_ms >= cfg->gst_ms)
				c->at_ms = c->down_ms >= cfg->gst_ms ? 0 : R(cfg->gst_ms - c->down_ms);
			if (!late && c->at_ms + c->down_ms >= cfg->gst_ms)
				c->down_ms = 1;
		}
	}
	cfg->persist_crash_pm = R(3) == 0 ? (uint32_t)R(40) : 0;
	if (R(3) == 0) {
		cfg->n_partitions = 1 + (uint32_t)R(2);
		for (uint32_t k = 0; k < cfg->n_partitions; k++) {
			struct ist_sim_partition *p = &cfg->partitions[k];
			p->start_ms = R(horizon + 1);
			p->end_ms = p->start_ms + 1 + R(4 * cfg->timeout_base_ms);
			if (!late && p->end_ms > cfg->gst_ms)
				p->end_ms = cfg->gst_ms;
			for (uint32_t i = 0; i < nodes; i++)
				p->side[i] = (uint8_t)R(2);
		}
	}
	/* liveness: after GST and time to settle (a full back-off and a
	 * round of timeouts), every honest node commits 3 more blocks */
	bool live = !late && cfg->persist_crash_pm == 0;
	cfg->live_from_ms = cfg->gst_ms + 2 * cfg->timeout_max_ms + 4 * cfg->delta_ms;
	cfg->end_ms = cfg->live_from_ms + 30 * cfg->timeout_base_ms;
	cfg->check_liveness = live;
	cfg->stop_when_live = live;
	cfg->min_new_commits = 3;
	cfg->max_view_gap = 3 * (uint64_t)n + 12;
	if (!live)
		cfg->end_ms = (late ? horizon : cfg->gst_ms) + 8 * cfg->timeout_base_ms;
#undef R
}
