/*
 * The consensus core (consensus.h). The protocol and its safety argument are
 * in docs/protocol/consensus.md; this file explains the mechanics.
 *
 * One step runs one handler, then flush(): the safety state, if it changed,
 * goes out as one PERSIST; messages signed under it wait in `pend` until the
 * node acknowledges that PERSIST (PERSISTED{seq}), then leave as SEND actions
 * (or, when this node is their recipient, are handed to its own pools).
 * Errors inside a step are sticky in c->err (like a failed ist_buf): handlers
 * stop at the next check and the step returns it.
 */
#include "consensus/consensus.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "consensus/pacemaker.h"
#include "consensus/quorum.h"
#include "consensus/safety.h"
#include "consensus/tree.h"
#include "wire/canonical.h"

/* Votes and timeouts are kept for views in [view - 1, view + VIEW_WINDOW]. */
#define VIEW_WINDOW 32
#define POOL_SLOTS (VIEW_WINDOW + 2)
#define MAX_TREE_BLOCKS 1024
#define MAX_ORPHANS 64
#define MAX_WANTS 32
#define KNOWN_QCS 4
/* Proposals kept per view: an honest leader makes one; a second shows an
 * equivocation (kept, so that either can be certified); more are dropped,
 * or a faulty leader could fill the tree with its view's blocks. A block
 * certified by a QC still comes in by id (FETCH). */
#define MAX_PROPOSALS_PER_VIEW 2
/* Messages waiting for a PERSISTED: bounded in case the node never answers. */
#define MAX_PENDING 4096
/* Our own timeouts kept after their view, for peers still in it. */
#define OLD_TIMEOUTS 4

#define DEFAULT_BASE_MS 1000
#define DEFAULT_MAX_MS 60000

enum pend_kind {
	PEND_SEND,           /* act is a SEND action to append */
	PEND_LOCAL_VOTE,     /* our vote, for our own pool (we lead the next view) */
	PEND_LOCAL_TIMEOUT,  /* our timeout, for our own pool */
};

struct pend {
	uint64_t seq;        /* released once PERSISTED{seq' >= seq} */
	enum pend_kind kind;
	struct ist_cons_action act;
	struct ist_vote *vote;
	struct ist_timeout *timeout;
};

/* A block whose parent is not known yet. */
struct orphan {
	uint8_t id[IST_HASH_BYTES];
	struct ist_proposal *prop;   /* when it came as a proposal, else NULL */
	struct ist_block *block;     /* when it came from sync, else NULL */
	struct ist_qc *qc;           /* a verified QC for it, or NULL */
	uint32_t from;
};

/* A block asked for with FETCH. */
struct want {
	uint8_t id[IST_HASH_BYTES];
	uint32_t to;      /* the peer asked last */
	uint32_t age;     /* views entered since */
};

/* A block arriving by proposal or by sync, checked, not yet placed. */
struct incoming {
	const struct ist_block *b;
	const struct ist_proposal *prop;
	const struct ist_qc *qc;
	uint8_t id[IST_HASH_BYTES];
	uint32_t from;
};

struct ist_cons {
	uint64_t network_id;
	struct ist_cons_epoch *epoch;
	uint64_t epoch_gen;          /* bumped on every epoch switch */
	uint32_t self;
	bool has_key;
	uint8_t pubkey[IST_ED25519_PUBKEY_BYTES];
	struct ist_cons_signer signer;
	struct ist_cons_app app;
	struct ist_cons_verifier ver;

	struct ist_cons_safety *safety;
	struct ist_cons_pacemaker pm;
	struct ist_cons_tree tree;
	bool started;

	/* the current view */
	struct ist_tc *last_tc;          /* the TC of the highest view known */
	struct ist_proposal *cur_prop;   /* the proposal of the current view */
	struct ist_timeout *my_timeout;  /* our timeout of the current view */
	bool payload_requested;
	bool has_deferred;               /* a vote waits for validate */
	uint8_t deferred_id[IST_HASH_BYTES];
	bool deferred_has_tc;
	uint64_t deferred_tc_view, deferred_tc_hqc;

	struct ist_cons_vote_pool *vpools[POOL_SLOTS];
	struct ist_cons_timeout_pool *tpools[POOL_SLOTS];
	uint64_t *peer_tview;            /* highest view each validator timed out in */
	uint8_t synced[IST_WIRE_BITMAP_BYTES];  /* peers helped to catch up this timer period */
	struct ist_timeout *old_timeouts[OLD_TIMEOUTS];  /* ours, of views we left */
	size_t old_next;

	/* persist before speak */
	uint64_t persist_seq;
	uint64_t persisted_seq;
	bool dirty;
	struct pend *pend;
	size_t pend_head, pend_len, pend_cap;

	uint64_t timer_seq;

	struct want wants[MAX_WANTS];
	size_t n_wants;
	struct orphan orphans[MAX_ORPHANS];
	size_t n_orphans;
	bool epoch_fetch_sent;
	uint32_t epoch_fetch_to;                    /* whom we asked last, or PEER_NONE */
	uint8_t proof_sent[IST_WIRE_BITMAP_BYTES];  /* peers sent an epoch proof this timer period */
	uint32_t proof_sent_anon;                   /* the same, to peers outside the set */

	/* certificates already verified, to skip checking them again */
	struct ist_qc *known_qc[KNOWN_QCS];
	size_t known_next;
	struct ist_tc *known_tc;

	struct ist_cons_epoch *scratch_epoch;
	struct ist_cons_stats stats;

	/* during a step */
	struct ist_cons_actions *out;
	int err;
	enum ist_cons_drop drop;
};

static const char *const drop_names[] = {
#define IST_CONS_DROP_STR(name, msg) msg,
	IST_CONS_DROPS(IST_CONS_DROP_STR)
#undef IST_CONS_DROP_STR
};

const char *ist_cons_drop_str(enum ist_cons_drop d)
{
	if ((unsigned)d >= IST_CONS_DROP__COUNT)
		return "unknown";
	return drop_names[d];
}

/* ---- Action lists ---- */

void ist_cons_actions_init(struct ist_cons_actions *a)
{
	memset(a, 0, sizeof(*a));
}

static void action_fini(struct ist_cons_action *a)
{
	switch (a->kind) {
	case IST_CONS_ACT_PERSIST:
		free(a->u.persist.state);
		break;
	case IST_CONS_ACT_SEND:
		ist_wire_proposal_free(a->u.send.proposal);
		ist_wire_vote_free(a->u.send.vote);
		ist_wire_timeout_free(a->u.send.timeout);
		break;
	case IST_CONS_ACT_COMMIT:
		ist_wire_block_free(a->u.commit.block);
		break;
	case IST_CONS_ACT_STORE_BLOCK:
		ist_wire_block_free(a->u.store_block.block);
		break;
	case IST_CONS_ACT_EPOCH:
		free(a->u.epoch.next);
		for (size_t i = 0; i < a->u.epoch.n_proof_blocks; i++)
			ist_wire_block_free(a->u.epoch.proof_blocks[i]);
		free(a->u.epoch.proof_blocks);
		free(a->u.epoch.proof_qc);
		break;
	case IST_CONS_ACT_TIMER:
	case IST_CONS_ACT_GET_PAYLOAD:
	case IST_CONS_ACT_FETCH:
	case IST_CONS_ACT_FETCH_EPOCH:
	case IST_CONS_ACT_SEND_EPOCH_PROOF:
		break;
	}
	memset(a, 0, sizeof(*a));
}

void ist_cons_actions_reset(struct ist_cons_actions *a)
{
	for (size_t i = 0; i < a->len; i++)
		action_fini(&a->v[i]);
	a->len = 0;
	a->drop = IST_CONS_DROP_NONE;
}

void ist_cons_actions_fini(struct ist_cons_actions *a)
{
	ist_cons_actions_reset(a);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* Appends a zeroed action of `kind`, or sets c->err and returns NULL. */
static struct ist_cons_action *emit(struct ist_cons *c, enum ist_cons_action_kind kind)
{
	struct ist_cons_actions *o = c->out;
	if (c->err)
		return NULL;
	if (o->len == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		struct ist_cons_action *v = realloc(o->v, cap * sizeof(*v));
		if (!v) {
			c->err = -IST_ENOMEM;
			return NULL;
		}
		o->v = v;
		o->cap = cap;
	}
	struct ist_cons_action *a = &o->v[o->len++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

static void drop(struct ist_cons *c, enum ist_cons_drop d)
{
	c->stats.drops[d]++;
	if (c->drop == IST_CONS_DROP_NONE)
		c->drop = d;
}

/* ---- Copies ---- */

static int items_dup(const struct ist_block *src, struct ist_block *dst)
{
	dst->items = NULL;
	if (!src->n_items)
		return 0;
	dst->items = calloc(src->n_items, sizeof(*dst->items));
	if (!dst->items) {
		dst->n_items = 0;
		return -IST_ENOMEM;
	}
	for (size_t i = 0; i < src->n_items; i++) {
		dst->items[i] = src->items[i];
		/* the opaque kinds own their bytes (wire/types.h) */
		if (!ist_wire_payload_opaque_max(src->items[i].kind))
			continue;
		dst->items[i].u.opaque.data = NULL;
		if (!src->items[i].u.opaque.len)
			continue;
		dst->items[i].u.opaque.data = malloc(src->items[i].u.opaque.len);
		if (!dst->items[i].u.opaque.data) {
			/* the items after i are still zero: _fini skips them */
			dst->n_items = i + 1;
			return -IST_ENOMEM;
		}
		memcpy(dst->items[i].u.opaque.data, src->items[i].u.opaque.data, src->items[i].u.opaque.len);
	}
	return 0;
}

int ist_cons_block_dup(const struct ist_block *b, struct ist_block **ret)
{
	struct ist_block *d = malloc(sizeof(*d));
	if (!d)
		return -IST_ENOMEM;
	*d = *b;
	if (items_dup(b, d) < 0) {
		ist_wire_block_free(d);
		return -IST_ENOMEM;
	}
	*ret = d;
	return 0;
}

static struct ist_block *block_dup(struct ist_cons *c, const struct ist_block *b)
{
	struct ist_block *d = NULL;
	if (!c->err && ist_cons_block_dup(b, &d) < 0)
		c->err = -IST_ENOMEM;
	return d;
}

static struct ist_proposal *prop_dup(struct ist_cons *c, const struct ist_proposal *p)
{
	if (c->err)
		return NULL;
	struct ist_proposal *d = malloc(sizeof(*d));
	if (!d) {
		c->err = -IST_ENOMEM;
		return NULL;
	}
	*d = *p;
	if (items_dup(&p->block, &d->block) < 0) {
		ist_wire_proposal_free(d);
		c->err = -IST_ENOMEM;
		return NULL;
	}
	return d;
}

static void *mem_dup(struct ist_cons *c, const void *p, size_t len)
{
	if (c->err)
		return NULL;
	void *d = malloc(len);
	if (!d) {
		c->err = -IST_ENOMEM;
		return NULL;
	}
	memcpy(d, p, len);
	return d;
}

/* Tells the node to keep a block of the tree durably. */
static void emit_store(struct ist_cons *c, const struct ist_block *b, const uint8_t id[IST_HASH_BYTES])
{
	struct ist_cons_action *a = emit(c, IST_CONS_ACT_STORE_BLOCK);
	if (!a)
		return;
	a->u.store_block.block = block_dup(c, b);
	memcpy(a->u.store_block.id, id, IST_HASH_BYTES);
}

/* ---- Small helpers ---- */

static uint32_t leader(const struct ist_cons *c, uint64_t view)
{
	return ist_cons_epoch_leader(c->epoch, view);
}

static bool is_validator(const struct ist_cons *c)
{
	return c->self != IST_CONS_OBSERVER;
}

static uint32_t peer(const struct ist_cons *c, uint32_t from)
{
	return from < c->epoch->n ? from : IST_CONS_PEER_NONE;
}

static struct ist_cons_tnode *root(const struct ist_cons *c)
{
	return ist_cons_tree_root(&c->tree);
}

/* ---- Pending messages (persist before speak) ---- */

static uint64_t pend_seq(const struct ist_cons *c)
{
	return c->dirty ? c->persist_seq + 1 : c->persist_seq;
}

static struct pend *pend_push(struct ist_cons *c, enum pend_kind kind)
{
	if (c->err)
		return NULL;
	if (c->pend_len >= MAX_PENDING) {
		drop(c, IST_CONS_DROP_FULL);
		return NULL;
	}
	if (c->pend_head + c->pend_len == c->pend_cap) {
		if (c->pend_head) {
			memmove(c->pend, c->pend + c->pend_head, c->pend_len * sizeof(*c->pend));
			c->pend_head = 0;
		} else {
			size_t cap = c->pend_cap ? c->pend_cap * 2 : 16;
			struct pend *v = realloc(c->pend, cap * sizeof(*v));
			if (!v) {
				c->err = -IST_ENOMEM;
				return NULL;
			}
			c->pend = v;
			c->pend_cap = cap;
		}
	}
	struct pend *p = &c->pend[c->pend_head + c->pend_len++];
	memset(p, 0, sizeof(*p));
	p->seq = pend_seq(c);
	p->kind = kind;
	return p;
}

static void pend_free(struct pend *p)
{
	action_fini(&p->act);
	free(p->vote);
	free(p->timeout);
}

/* Queues a SEND of a message we own (taken, also on failure). */
static void pend_send(struct ist_cons *c, uint32_t to, struct ist_proposal *prop, struct ist_vote *vote,
		      struct ist_timeout *tmo)
{
	struct pend *p = pend_push(c, PEND_SEND);
	if (!p) {
		ist_wire_proposal_free(prop);
		free(vote);
		free(tmo);
		return;
	}
	p->act.kind = IST_CONS_ACT_SEND;
	p->act.u.send.epoch = c->epoch->number;
	p->act.u.send.to = to;
	p->act.u.send.msg = prop ? IST_ENVELOPE_PROPOSAL : vote ? IST_ENVELOPE_VOTE : IST_ENVELOPE_TIMEOUT;
	p->act.u.send.proposal = prop;
	p->act.u.send.vote = vote;
	p->act.u.send.timeout = tmo;
}

/* ---- Timer, views, pools ---- */

static void arm_timer(struct ist_cons *c)
{
	struct ist_cons_action *a = emit(c, IST_CONS_ACT_TIMER);
	if (!a)
		return;
	a->u.timer.seq = ++c->timer_seq;
	a->u.timer.epoch = c->epoch->number;
	a->u.timer.view = c->pm.view;
	a->u.timer.ms = ist_cons_pacemaker_duration(&c->pm);
}

static void pools_prune(struct ist_cons *c)
{
	for (size_t i = 0; i < POOL_SLOTS; i++) {
		if (c->vpools[i] && c->vpools[i]->view + 1 < c->pm.view) {
			ist_cons_vote_pool_fini(c->vpools[i]);
			free(c->vpools[i]);
			c->vpools[i] = NULL;
		}
		if (c->tpools[i] && c->tpools[i]->view + 1 < c->pm.view) {
			ist_cons_timeout_pool_fini(c->tpools[i]);
			free(c->tpools[i]);
			c->tpools[i] = NULL;
		}
	}
}

static void pools_clear(struct ist_cons *c)
{
	for (size_t i = 0; i < POOL_SLOTS; i++) {
		if (c->vpools[i])
			ist_cons_vote_pool_fini(c->vpools[i]);
		free(c->vpools[i]);
		c->vpools[i] = NULL;
		if (c->tpools[i])
			ist_cons_timeout_pool_fini(c->tpools[i]);
		free(c->tpools[i]);
		c->tpools[i] = NULL;
	}
}

static bool in_window(const struct ist_cons *c, uint64_t view)
{
	return view + 1 >= c->pm.view && view <= c->pm.view + VIEW_WINDOW;
}

static struct ist_cons_vote_pool *vpool(struct ist_cons *c, uint64_t view, bool create)
{
	size_t i = view % POOL_SLOTS;
	struct ist_cons_vote_pool *p = c->vpools[i];
	if (p && p->view == view)
		return p;
	if (!create || c->err)
		return NULL;
	IST_REQUIRE(in_window(c, view));
	if (p) {
		/* every view of the window has its own slot: this one is old */
		ist_cons_vote_pool_fini(p);
	} else if (!(p = calloc(1, sizeof(*p)))) {
		c->err = -IST_ENOMEM;
		return NULL;
	}
	c->vpools[i] = p;
	if (ist_cons_vote_pool_init(p, c->epoch->n, view) < 0) {
		free(p);
		c->vpools[i] = NULL;
		c->err = -IST_ENOMEM;
		return NULL;
	}
	return p;
}

static struct ist_cons_timeout_pool *tpool(struct ist_cons *c, uint64_t view, bool create)
{
	size_t i = view % POOL_SLOTS;
	struct ist_cons_timeout_pool *p = c->tpools[i];
	if (p && p->view == view)
		return p;
	if (!create || c->err)
		return NULL;
	IST_REQUIRE(in_window(c, view));
	if (p) {
		ist_cons_timeout_pool_fini(p);
	} else if (!(p = calloc(1, sizeof(*p)))) {
		c->err = -IST_ENOMEM;
		return NULL;
	}
	c->tpools[i] = p;
	if (ist_cons_timeout_pool_init(p, c->epoch->n, view) < 0) {
		free(p);
		c->tpools[i] = NULL;
		c->err = -IST_ENOMEM;
		return NULL;
	}
	return p;
}

static void refetch(struct ist_cons *c, bool all);

static void enter_view(struct ist_cons *c, uint64_t view, bool progress)
{
	if (c->err || !ist_cons_pacemaker_enter(&c->pm, view, progress))
		return;
	ist_wire_proposal_free(c->cur_prop);
	c->cur_prop = NULL;
	if (c->my_timeout) {
		free(c->old_timeouts[c->old_next]);
		c->old_timeouts[c->old_next] = c->my_timeout;
		c->old_next = (c->old_next + 1) % OLD_TIMEOUTS;
		c->my_timeout = NULL;
	}
	c->payload_requested = false;
	c->has_deferred = false;
	pools_prune(c);
	arm_timer(c);
	/* a node that keeps entering views through others' QCs may never see
	 * its timer fire: missing blocks are asked for again here too */
	refetch(c, false);
}

static void old_timeouts_clear(struct ist_cons *c)
{
	for (size_t i = 0; i < OLD_TIMEOUTS; i++) {
		free(c->old_timeouts[i]);
		c->old_timeouts[i] = NULL;
	}
}

/* ---- Certificates ---- */

static bool qc_ok(struct ist_cons *c, const struct ist_qc *qc)
{
	if (qc->epoch != c->epoch->number || qc->n_sigs > IST_WIRE_MAX_VALIDATORS)
		return false;
	if (qc->view == 0)
		return ist_cons_qc_verify(&c->ver, c->epoch, qc);
	if (ist_wire_qc_equal(qc, &c->safety->high_qc))
		return true;
	for (size_t i = 0; i < KNOWN_QCS; i++)
		if (c->known_qc[i] && ist_wire_qc_equal(qc, c->known_qc[i]))
			return true;
	if (!ist_cons_qc_verify(&c->ver, c->epoch, qc))
		return false;
	struct ist_qc *k = mem_dup(c, qc, sizeof(*qc));
	if (k) {
		free(c->known_qc[c->known_next]);
		c->known_qc[c->known_next] = k;
		c->known_next = (c->known_next + 1) % KNOWN_QCS;
	}
	return true;
}

static bool tc_ok(struct ist_cons *c, const struct ist_tc *tc)
{
	if (tc->epoch != c->epoch->number || tc->n_sigs > IST_WIRE_MAX_VALIDATORS)
		return false;
	if (c->known_tc && ist_wire_tc_equal(tc, c->known_tc))
		return true;
	if (!ist_cons_tc_verify(&c->ver, c->epoch, tc) || !qc_ok(c, &tc->high_qc))
		return false;
	struct ist_tc *k = mem_dup(c, tc, sizeof(*tc));
	if (k) {
		free(c->known_tc);
		c->known_tc = k;
	}
	return true;
}

/* ---- Sync: wanted blocks, orphans ---- */

static bool want_has(const struct ist_cons *c, const uint8_t id[IST_HASH_BYTES])
{
	for (size_t i = 0; i < c->n_wants; i++)
		if (memcmp(c->wants[i].id, id, IST_HASH_BYTES) == 0)
			return true;
	return false;
}

static void want_remove(struct ist_cons *c, const uint8_t id[IST_HASH_BYTES])
{
	for (size_t i = 0; i < c->n_wants; i++)
		if (memcmp(c->wants[i].id, id, IST_HASH_BYTES) == 0) {
			memmove(&c->wants[i], &c->wants[i + 1], (c->n_wants - i - 1) * sizeof(c->wants[0]));
			c->n_wants--;
			return;
		}
}

static void emit_fetch(struct ist_cons *c, const struct want *w)
{
	struct ist_cons_action *a = emit(c, IST_CONS_ACT_FETCH);
	if (!a)
		return;
	a->u.fetch.epoch = c->epoch->number;
	a->u.fetch.to = w->to;
	memcpy(a->u.fetch.block_id, w->id, IST_HASH_BYTES);
}

static uint32_t next_peer(const struct ist_cons *c, uint32_t p)
{
	uint32_t n = c->epoch->n;
	if (n == 1)
		return 0;
	p = p < n ? (p + 1) % n : 0;
	if (p == c->self)
		p = (p + 1) % n;
	return p;
}

static bool orphan_has(const struct ist_cons *c, const uint8_t id[IST_HASH_BYTES])
{
	for (size_t i = 0; i < c->n_orphans; i++)
		if (memcmp(c->orphans[i].id, id, IST_HASH_BYTES) == 0)
			return true;
	return false;
}

/* Asks peer `to` (or another when unknown) for block `id`. */
static void want(struct ist_cons *c, const uint8_t id[IST_HASH_BYTES], uint32_t to)
{
	if (ist_cons_tree_find(&c->tree, id) || orphan_has(c, id) || want_has(c, id))
		return;
	if (c->n_wants == MAX_WANTS) {
		memmove(&c->wants[0], &c->wants[1], (MAX_WANTS - 1) * sizeof(c->wants[0]));
		c->n_wants--;
	}
	struct want *w = &c->wants[c->n_wants++];
	memcpy(w->id, id, IST_HASH_BYTES);
	w->to = (to < c->epoch->n && to != c->self) ? to : next_peer(c, c->self);
	w->age = 0;
	emit_fetch(c, w);
}

static void orphan_fini(struct orphan *o)
{
	ist_wire_proposal_free(o->prop);
	ist_wire_block_free(o->block);
	free(o->qc);
	memset(o, 0, sizeof(*o));
}

static const struct ist_block *orphan_block(const struct orphan *o)
{
	return o->prop ? &o->prop->block : o->block;
}

static void orphans_clear(struct ist_cons *c)
{
	for (size_t i = 0; i < c->n_orphans; i++)
		orphan_fini(&c->orphans[i]);
	c->n_orphans = 0;
}

static void orphans_prune(struct ist_cons *c)
{
	size_t w = 0;
	for (size_t i = 0; i < c->n_orphans; i++) {
		if (orphan_block(&c->orphans[i])->height <= root(c)->height) {
			orphan_fini(&c->orphans[i]);
			continue;
		}
		c->orphans[w++] = c->orphans[i];
	}
	c->n_orphans = w;
}

/*
 * Asks again for what is still missing, each time another peer: every
 * wanted block (`all`, on the timer) or those not asked for during the last
 * two views. The missing parent at the bottom of each orphan chain stays
 * wanted even if the list of wants overflowed.
 */
static void refetch(struct ist_cons *c, bool all)
{
	for (size_t i = 0; i < c->n_orphans && !c->err; i++) {
		const uint8_t *pid = orphan_block(&c->orphans[i])->parent_id;
		if (!ist_cons_tree_find(&c->tree, pid) && !orphan_has(c, pid))
			want(c, pid, c->orphans[i].from);
	}
	for (size_t i = 0; i < c->n_wants && !c->err; i++) {
		struct want *w = &c->wants[i];
		if (!all && ++w->age < 2)
			continue;
		w->age = 0;
		w->to = next_peer(c, w->to);
		emit_fetch(c, w);
	}
}

/* ---- Epochs ---- */

/* Emits a PERSIST of the state now if it changed. */
static void persist_now(struct ist_cons *c)
{
	if (c->err || !c->dirty)
		return;
	uint8_t *buf;
	size_t len;
	if (ist_cons_safety_encode(c->safety, &buf, &len) < 0) {
		c->err = -IST_ENOMEM;
		return;
	}
	struct ist_cons_action *a = emit(c, IST_CONS_ACT_PERSIST);
	if (!a) {
		free(buf);
		return;
	}
	a->u.persist.seq = ++c->persist_seq;
	a->u.persist.state = buf;
	a->u.persist.len = len;
	c->dirty = false;
}

static void peers_reset(struct ist_cons *c)
{
	free(c->peer_tview);
	c->peer_tview = calloc(c->epoch->n, sizeof(*c->peer_tview));
	if (!c->peer_tview)
		c->err = -IST_ENOMEM;
	memset(c->synced, 0, sizeof(c->synced));
	old_timeouts_clear(c);
}

static void certs_clear(struct ist_cons *c)
{
	for (size_t i = 0; i < KNOWN_QCS; i++) {
		free(c->known_qc[i]);
		c->known_qc[i] = NULL;
	}
	free(c->known_tc);
	c->known_tc = NULL;
	free(c->last_tc);
	c->last_tc = NULL;
}

/*
 * Block `nr` (just committed) ends the epoch: `next` (filled by apply) starts
 * from it. The proof for peers is the chain `proof` (n blocks of the tree,
 * top first, down to nr's child) and the QC `pq` for its top whose
 * processing made nr final.
 */
static void epoch_switch(struct ist_cons *c, const struct ist_cons_tnode *nr, struct ist_cons_epoch *next,
			 struct ist_cons_tnode *const *proof, size_t n, const struct ist_qc *pq)
{
	next->number = c->epoch->number + 1;
	memcpy(next->root_id, nr->id, IST_HASH_BYTES);
	if (ist_cons_epoch_check(next) < 0) {
		/* the application handed us a set we cannot run */
		c->err = -IST_EINVAL;
		return;
	}
	struct ist_cons_action *a = emit(c, IST_CONS_ACT_EPOCH);
	if (!a)
		return;
	a->u.epoch.next = mem_dup(c, next, sizeof(*next));
	a->u.epoch.proof_qc = mem_dup(c, pq, sizeof(*pq));
	if (!c->err && !(a->u.epoch.proof_blocks = calloc(n, sizeof(*a->u.epoch.proof_blocks))))
		c->err = -IST_ENOMEM;
	for (size_t i = 0; i < n && !c->err; i++)
		a->u.epoch.proof_blocks[a->u.epoch.n_proof_blocks++] = block_dup(c, proof[i]->block);
	struct ist_block *nroot = block_dup(c, nr->block);
	if (c->err) {
		ist_wire_block_free(nroot);
		return;
	}
	uint8_t rid[IST_HASH_BYTES];
	memcpy(rid, nr->id, IST_HASH_BYTES);
	/* what was signed in the old epoch is persisted under the old state
	 * (this PERSIST follows the EPOCH action, so a node that acknowledged
	 * it has stored the switch too) */
	persist_now(c);
	/* from here on nr, proof and pq are gone */
	ist_cons_tree_fini(&c->tree);
	if (ist_cons_tree_init(&c->tree, nroot, rid, 0, MAX_TREE_BLOCKS) < 0) {
		c->err = -IST_ENOMEM;
		return;
	}
	*c->epoch = *next;
	c->epoch_gen++;
	c->self = c->has_key ? ist_cons_epoch_index(c->epoch, c->pubkey) : IST_CONS_OBSERVER;
	pools_clear(c);
	peers_reset(c);
	orphans_clear(c);
	c->n_wants = 0;
	certs_clear(c);
	ist_wire_proposal_free(c->cur_prop);
	c->cur_prop = NULL;
	free(c->my_timeout);
	c->my_timeout = NULL;
	c->payload_requested = false;
	c->has_deferred = false;
	c->epoch_fetch_sent = false;
	c->epoch_fetch_to = IST_CONS_PEER_NONE;
	memset(c->proof_sent, 0, sizeof(c->proof_sent));
	c->proof_sent_anon = 0;

	struct ist_qc *g = malloc(sizeof(*g));
	if (!g) {
		c->err = -IST_ENOMEM;
		return;
	}
	ist_cons_epoch_genesis_qc(c->epoch, g);
	ist_cons_safety_init(c->safety, c->epoch->number, g);
	free(g);
	ist_cons_pacemaker_init(&c->pm, c->pm.base_ms, c->pm.max_ms, 1);
	arm_timer(c);
}

/* ---- Commit ---- */

/*
 * Commits block `target_id` and its uncommitted ancestors, in height order.
 * `pn` is the certified block (a child of target) whose QC `pq` made target
 * final: with the blocks between, the epoch change proof, should one of them
 * end the epoch.
 */
static void commit_to(struct ist_cons *c, const uint8_t target_id[IST_HASH_BYTES], struct ist_cons_tnode *pn,
		      const struct ist_qc *pq)
{
	struct ist_cons_tnode *t = ist_cons_tree_find(&c->tree, target_id);
	struct ist_cons_tnode *r = root(c);
	if (c->err || !t || t->height <= r->height)
		return;
	size_t k = (size_t)(t->height - r->height);
	struct ist_cons_tnode **path = calloc(k, sizeof(*path));
	if (!path) {
		c->err = -IST_ENOMEM;
		return;
	}
	struct ist_cons_tnode *n = t;
	for (size_t i = k; i > 0; i--) {
		/* every block of the tree descends from the root, one height
		 * per step */
		IST_REQUIRE(n && n != r);
		path[i - 1] = n;
		n = ist_cons_tree_find(&c->tree, n->block->parent_id);
	}
	IST_REQUIRE(n == r);

	/* pq may live in a node the epoch switch frees: copy it first */
	struct ist_qc *proof_q = mem_dup(c, pq, sizeof(*pq));
	for (size_t i = 0; i < k && !c->err; i++) {
		struct ist_cons_tnode *b = path[i];
		int changed = 0;
		if (c->app.apply) {
			memset(c->scratch_epoch, 0, sizeof(*c->scratch_epoch));
			changed = c->app.apply(c->app.ctx, b->block, c->scratch_epoch);
			if (changed < 0) {
				c->err = changed;
				break;
			}
		}
		struct ist_cons_action *a = emit(c, IST_CONS_ACT_COMMIT);
		if (!a)
			break;
		a->u.commit.block = block_dup(c, b->block);
		memcpy(a->u.commit.id, b->id, IST_HASH_BYTES);
		c->stats.blocks_committed++;
		if (changed == 1) {
			/* the rest of the path is abandoned with the epoch; the
			 * proof is that rest and the certified child, top first */
			struct ist_cons_tnode **proof = calloc(k - i, sizeof(*proof));
			if (!proof) {
				c->err = -IST_ENOMEM;
				break;
			}
			size_t np = 0;
			proof[np++] = pn;
			for (size_t j = k; j > i + 1; j--)
				proof[np++] = path[j - 1];
			if (proof_q)
				epoch_switch(c, b, c->scratch_epoch, proof, np, proof_q);
			free(proof);
			goto out;
		}
	}
	if (!c->err) {
		ist_cons_tree_prune(&c->tree, t->id);
		orphans_prune(c);
	}
out:
	free(proof_q);
	free(path);
}

/* The two-chain rule: `qc` certifies node n; if n's parent was certified
 * in the view just before n's, the parent is final. */
static void check_commit(struct ist_cons *c, struct ist_cons_tnode *n, const struct ist_qc *qc)
{
	if (c->err || !n || n == root(c))
		return;
	const struct ist_block *b = n->block;
	if (b->justify.epoch != c->epoch->number || !ist_cons_safety_commits(n->view, b->justify.view))
		return;
	commit_to(c, b->parent_id, n, qc);
}

/* A verified QC: raise high_qc, move the view on, attach it to its block,
 * and apply the commit rule (or fetch the block). */
static void process_qc(struct ist_cons *c, const struct ist_qc *qc, uint32_t from)
{
	if (c->err || qc->epoch != c->epoch->number)
		return;
	ist_cons_safety_qc_update(c->safety, qc);
	enter_view(c, qc->view + 1, true);
	struct ist_cons_tnode *n = ist_cons_tree_find(&c->tree, qc->block_id);
	if (n) {
		if (!n->qc && qc->view > 0)
			n->qc = mem_dup(c, qc, sizeof(*qc));
		check_commit(c, n, qc);
	} else if (qc->view > root(c)->view) {
		want(c, qc->block_id, from < c->epoch->n ? from : leader(c, qc->view));
	}
}

static void process_tc(struct ist_cons *c, const struct ist_tc *tc, uint32_t from)
{
	uint64_t gen = c->epoch_gen;
	process_qc(c, &tc->high_qc, from);
	if (c->err || gen != c->epoch_gen)
		return;
	if (!c->last_tc || tc->view > c->last_tc->view) {
		struct ist_tc *k = mem_dup(c, tc, sizeof(*tc));
		if (!k)
			return;
		free(c->last_tc);
		c->last_tc = k;
	}
	enter_view(c, tc->view + 1, false);
}

/* ---- Voting ---- */

static int sign(struct ist_cons *c, const uint8_t *msg, size_t len, uint8_t sig[IST_SIG_BYTES])
{
	if (c->err)
		return c->err;
	int r = c->signer.sign(c->signer.ctx, msg, len, sig);
	if (r < 0)
		c->err = r;
	return r;
}

static void do_vote(struct ist_cons *c, struct ist_cons_tnode *n)
{
	struct ist_vote *v = calloc(1, sizeof(*v));
	if (!v) {
		c->err = -IST_ENOMEM;
		return;
	}
	v->epoch = c->epoch->number;
	v->view = n->view;
	memcpy(v->block_id, n->id, IST_HASH_BYTES);
	v->voter = c->self;
	uint8_t msg[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(c->network_id, v->epoch, v->view, v->block_id, msg);
	if (sign(c, msg, sizeof(msg), v->signature) < 0) {
		free(v);
		return;
	}
	ist_cons_safety_vote_record(c->safety, n->view, n->block->justify.view);
	c->dirty = true;
	c->has_deferred = false;
	c->stats.votes_sent++;
	uint32_t next = leader(c, n->view + 1);
	if (next == c->self) {
		struct pend *p = pend_push(c, PEND_LOCAL_VOTE);
		if (!p) {
			free(v);
			return;
		}
		p->vote = v;
	} else {
		pend_send(c, next, NULL, v, NULL);
	}
}

/* Votes for n (a block of the current view) if the rules and the
 * application allow it. */
static void consider_vote(struct ist_cons *c, struct ist_cons_tnode *n, bool has_tc, uint64_t tc_view,
			  uint64_t tc_hqc)
{
	if (c->err || !is_validator(c) || n->view != c->pm.view)
		return;
	if (!ist_cons_safety_vote_ok(c->safety, n->view, n->block->justify.view, has_tc, tc_view, tc_hqc))
		return;
	enum ist_cons_verdict v = c->app.validate ? c->app.validate(c->app.ctx, n->block) : IST_CONS_VALID;
	switch (v) {
	case IST_CONS_VALID:
		do_vote(c, n);
		return;
	case IST_CONS_NOT_YET:
		c->has_deferred = true;
		memcpy(c->deferred_id, n->id, IST_HASH_BYTES);
		c->deferred_has_tc = has_tc;
		c->deferred_tc_view = tc_view;
		c->deferred_tc_hqc = tc_hqc;
		return;
	case IST_CONS_INVALID:
	default:
		c->has_deferred = false;
		drop(c, IST_CONS_DROP_PAYLOAD_INVALID);
		return;
	}
}

/* ---- Placing blocks ---- */

static void place(struct ist_cons *c, const struct incoming *in);

static void connect_orphans(struct ist_cons *c, const uint8_t parent_id[IST_HASH_BYTES])
{
	for (size_t i = 0; i < c->n_orphans && !c->err;) {
		struct orphan *o = &c->orphans[i];
		if (memcmp(orphan_block(o)->parent_id, parent_id, IST_HASH_BYTES) != 0) {
			i++;
			continue;
		}
		struct orphan taken = *o;
		memmove(o, o + 1, (c->n_orphans - i - 1) * sizeof(*o));
		c->n_orphans--;
		struct incoming in = {
			.b = orphan_block(&taken), .prop = taken.prop, .qc = taken.qc, .from = taken.from,
		};
		memcpy(in.id, taken.id, IST_HASH_BYTES);
		uint64_t gen = c->epoch_gen;
		place(c, &in);
		orphan_fini(&taken);
		if (gen != c->epoch_gen)
			return;
		i = 0;   /* the list changed under us: start over */
	}
}

static void after_insert(struct ist_cons *c, struct ist_cons_tnode *n, const struct incoming *in)
{
	uint64_t gen = c->epoch_gen;
	uint8_t id[IST_HASH_BYTES];
	memcpy(id, n->id, IST_HASH_BYTES);
	want_remove(c, id);
	/* the new block's justify certifies its parent */
	check_commit(c, ist_cons_tree_find(&c->tree, n->block->parent_id), &n->block->justify);
	if (c->err || gen != c->epoch_gen)
		return;
	/* a commit may have pruned n away (it is then not on the final chain) */
	n = ist_cons_tree_find(&c->tree, id);
	if (!n)
		return;
	/* a block fetched because our highest QC named it: that QC is its */
	const struct ist_qc *hq = &c->safety->high_qc;
	if (!n->qc && hq->view == n->view && hq->view > 0 && memcmp(hq->block_id, id, IST_HASH_BYTES) == 0)
		n->qc = mem_dup(c, hq, sizeof(*hq));
	if (n->qc) {
		check_commit(c, n, n->qc);
		if (c->err || gen != c->epoch_gen || !(n = ist_cons_tree_find(&c->tree, id)))
			return;
	}
	if (in->prop && n->view == c->pm.view) {
		if (!c->cur_prop)
			c->cur_prop = prop_dup(c, in->prop);
		consider_vote(c, n, in->prop->has_tc, in->prop->tc.view, in->prop->tc.high_qc.view);
	}
	connect_orphans(c, id);
}

/* Puts a checked block into the tree, or among the orphans (and asks for
 * its parent). */
static void place(struct ist_cons *c, const struct incoming *in)
{
	const struct ist_block *b = in->b;
	if (c->err)
		return;
	if (b->height <= root(c)->height) {
		drop(c, IST_CONS_DROP_STALE);
		return;
	}
	if (ist_cons_tree_find(&c->tree, in->id) || orphan_has(c, in->id)) {
		drop(c, IST_CONS_DROP_DUPLICATE);
		return;
	}
	if (in->prop) {
		size_t same = 0;
		for (size_t i = 0; i < c->tree.len; i++)
			same += c->tree.v[i]->view == b->view;
		for (size_t i = 0; i < c->n_orphans; i++)
			same += orphan_block(&c->orphans[i])->view == b->view;
		if (same >= MAX_PROPOSALS_PER_VIEW) {
			drop(c, IST_CONS_DROP_EQUIVOCATION);
			return;
		}
	}
	struct ist_cons_tnode *parent = ist_cons_tree_find(&c->tree, b->parent_id);
	if (!parent) {
		if (c->n_orphans == MAX_ORPHANS) {
			drop(c, IST_CONS_DROP_FULL);
			return;
		}
		struct orphan o = { .from = in->from };
		memcpy(o.id, in->id, IST_HASH_BYTES);
		if (in->prop)
			o.prop = prop_dup(c, in->prop);
		else
			o.block = block_dup(c, b);
		if (in->qc)
			o.qc = mem_dup(c, in->qc, sizeof(*in->qc));
		if (c->err) {
			orphan_fini(&o);
			return;
		}
		c->orphans[c->n_orphans++] = o;
		want(c, b->parent_id, in->from);
		return;
	}
	if (b->height != parent->height + 1 || b->view <= parent->view) {
		drop(c, IST_CONS_DROP_BAD_BLOCK);
		return;
	}
	struct ist_block *copy = block_dup(c, b);
	if (!copy)
		return;
	struct ist_cons_tnode *n;
	int r = ist_cons_tree_insert(&c->tree, copy, in->id, &n);
	if (r < 0) {
		ist_wire_block_free(copy);
		if (r == -IST_ENOMEM)
			c->err = r;
		else
			drop(c, IST_CONS_DROP_FULL);
		return;
	}
	if (in->qc)
		n->qc = mem_dup(c, in->qc, sizeof(*in->qc));
	emit_store(c, n->block, n->id);
	after_insert(c, n, in);
}

/* Checks of a block that need neither its parent nor a signature. */
static enum ist_cons_drop block_shape(const struct ist_cons *c, const struct ist_block *b)
{
	if (b->network_id != c->network_id)
		return IST_CONS_DROP_WRONG_NETWORK;
	if (b->epoch < c->epoch->number)
		return IST_CONS_DROP_PAST_EPOCH;
	if (b->epoch > c->epoch->number)
		return IST_CONS_DROP_FUTURE_EPOCH;
	if (b->proposer >= c->epoch->n)
		return IST_CONS_DROP_BAD_INDEX;
	if (b->view == 0 || b->n_items > IST_WIRE_MAX_BLOCK_ITEMS || (b->n_items && !b->items))
		return IST_CONS_DROP_BAD_BLOCK;
	if (b->proposer != leader(c, b->view))
		return IST_CONS_DROP_NOT_LEADER;
	if (b->justify.epoch != c->epoch->number || b->justify.n_sigs > IST_WIRE_MAX_VALIDATORS)
		return IST_CONS_DROP_BAD_QC;
	if (b->justify.view >= b->view || memcmp(b->justify.block_id, b->parent_id, IST_HASH_BYTES) != 0)
		return IST_CONS_DROP_BAD_BLOCK;
	return IST_CONS_DROP_NONE;
}

/* A peer is still in an epoch that ended: push it the proof (a few times
 * per timer period at most). */
static void past_epoch(struct ist_cons *c, uint64_t epoch, uint32_t from)
{
	uint32_t to = peer(c, from);
	if (to == c->self && to != IST_CONS_PEER_NONE)
		return;
	if (to == IST_CONS_PEER_NONE) {
		if (c->proof_sent_anon >= 4)
			return;
		c->proof_sent_anon++;
	} else {
		if (ist_wire_bitmap_get(c->proof_sent, to))
			return;
		IST_REQUIRE(ist_wire_bitmap_set(c->proof_sent, to) == 0);
	}
	struct ist_cons_action *a = emit(c, IST_CONS_ACT_SEND_EPOCH_PROOF);
	if (!a)
		return;
	a->u.send_epoch_proof.epoch = epoch;
	a->u.send_epoch_proof.to = to;
}

/* A message of a later epoch: ask for the proof that ours ended, once per
 * timer period; first the sender, then each time another peer (a faulty
 * one may never answer). */
static void future_epoch(struct ist_cons *c, uint32_t from)
{
	if (c->epoch_fetch_sent)
		return;
	struct ist_cons_action *a = emit(c, IST_CONS_ACT_FETCH_EPOCH);
	if (!a)
		return;
	uint32_t to = c->epoch_fetch_to == IST_CONS_PEER_NONE ? peer(c, from) : next_peer(c, c->epoch_fetch_to);
	a->u.fetch_epoch.epoch = c->epoch->number;
	a->u.fetch_epoch.to = to;
	c->epoch_fetch_to = to;
	c->epoch_fetch_sent = true;
}

/* ---- Helping a lagging peer ---- */

/*
 * A peer sent its own message for view `w`, which we left: send it what
 * brought us here. The proposal of our view carries its QC or TC. Without
 * one, the leader of our view forwards the timeouts that formed its TC (the
 * peer aggregates them itself). Everyone sends its own timeout for `w` if it
 * signed one (what the peer lacks to form that TC is the timeouts of those
 * who moved on) and its timeout of the current view (its highest QC; enough
 * of those make the peer join us, more than 1/3 of the stake). Each message
 * costs O(1) per helper. Once per peer and timer period (a lost answer is
 * sent again), and only to the signer itself: a replayed message must not
 * make us talk to whoever replays it.
 */
static void sync_reply(struct ist_cons *c, uint32_t to, uint32_t signer, uint64_t w)
{
	if (c->err || to >= c->epoch->n || to != signer || to == c->self || ist_wire_bitmap_get(c->synced, to))
		return;
	IST_REQUIRE(ist_wire_bitmap_set(c->synced, to) == 0);
	for (size_t i = 0; i < OLD_TIMEOUTS; i++)
		if (c->old_timeouts[i] && c->old_timeouts[i]->view == w)
			pend_send(c, to, NULL, NULL, mem_dup(c, c->old_timeouts[i], sizeof(*c->old_timeouts[i])));
	if (c->cur_prop) {
		pend_send(c, to, prop_dup(c, c->cur_prop), NULL, NULL);
	} else if (c->last_tc && c->last_tc->view + 1 == c->pm.view && leader(c, c->pm.view) == c->self) {
		struct ist_cons_timeout_pool *p = tpool(c, c->last_tc->view, false);
		for (uint32_t i = 0; p && i < p->n && !c->err; i++) {
			struct ist_timeout *t = malloc(sizeof(*t));
			if (!t) {
				c->err = -IST_ENOMEM;
				return;
			}
			if (!ist_cons_timeout_pool_get(p, c->epoch->number, i, t)) {
				free(t);
				continue;
			}
			pend_send(c, to, NULL, NULL, t);
		}
	}
	if (c->my_timeout && c->my_timeout->view == c->pm.view)
		pend_send(c, to, NULL, NULL, mem_dup(c, c->my_timeout, sizeof(*c->my_timeout)));
}

/* ---- Timeouts ---- */

static void join_check(struct ist_cons *c);

static void timeout_collect(struct ist_cons *c, const struct ist_timeout *t, uint32_t from)
{
	if (c->err || !in_window(c, t->view))
		return;
	if (c->peer_tview[t->voter] < t->view)
		c->peer_tview[t->voter] = t->view;
	struct ist_cons_timeout_pool *p = tpool(c, t->view, true);
	if (!p)
		return;
	struct ist_tc *tc = malloc(sizeof(*tc));
	if (!tc) {
		c->err = -IST_ENOMEM;
		return;
	}
	int r = ist_cons_timeout_pool_add(p, c->epoch, t, tc);
	if (r < 0) {
		c->err = r;
	} else if (r == IST_CONS_POOL_EQUIVOCATION) {
		drop(c, IST_CONS_DROP_EQUIVOCATION);
	} else if (r == IST_CONS_POOL_DUPLICATE) {
		drop(c, IST_CONS_DROP_DUPLICATE);
	} else if (r == IST_CONS_POOL_CERT) {
		c->stats.tcs_formed++;
		process_tc(c, tc, from);
	}
	free(tc);
}

/* Signs (or signs again) our timeout of the current view and broadcasts it. */
static void local_timeout(struct ist_cons *c)
{
	if (c->err || !is_validator(c))
		return;
	uint64_t v = c->pm.view;
	if (c->my_timeout && c->my_timeout->view == v) {
		pend_send(c, IST_CONS_TO_ALL, NULL, NULL, mem_dup(c, c->my_timeout, sizeof(*c->my_timeout)));
		c->stats.timeouts_sent++;
		return;
	}
	if (!ist_cons_safety_timeout_ok(c->safety, v))
		return;
	struct ist_timeout *t = calloc(1, sizeof(*t));
	if (!t) {
		c->err = -IST_ENOMEM;
		return;
	}
	t->epoch = c->epoch->number;
	t->view = v;
	t->high_qc = c->safety->high_qc;
	t->voter = c->self;
	uint8_t msg[IST_WIRE_TIMEOUT_SIGNING_BYTES];
	ist_wire_timeout_signing_bytes(c->network_id, t->epoch, v, t->high_qc.view, msg);
	if (sign(c, msg, sizeof(msg), t->signature) < 0) {
		free(t);
		return;
	}
	if (c->safety->last_timeout_view != v) {
		ist_cons_safety_timeout_record(c->safety, v);
		c->dirty = true;
	}
	c->has_deferred = false;
	c->my_timeout = t;
	c->stats.timeouts_sent++;
	pend_send(c, IST_CONS_TO_ALL, NULL, NULL, mem_dup(c, t, sizeof(*t)));
	struct pend *p = pend_push(c, PEND_LOCAL_TIMEOUT);
	if (p)
		p->timeout = mem_dup(c, t, sizeof(*t));
}

/*
 * Bracha's amplification: when validators holding more than 1/3 of the stake
 * timed out in view V >= ours (at least one honest one among them), join V
 * and time out too. Each validator counts with the highest view it timed
 * out in, so a far-future view costs no memory.
 */
struct vstake {
	uint64_t view, stake;
};

static int vstake_desc(const void *a, const void *b)
{
	uint64_t x = ((const struct vstake *)a)->view, y = ((const struct vstake *)b)->view;
	return x < y ? 1 : x > y ? -1 : 0;
}

static void join_check(struct ist_cons *c)
{
	if (c->err || !is_validator(c))
		return;
	uint32_t n = c->epoch->n;
	/* the largest V with stake{i : peer_tview[i] >= V} > 1/3: the views at
	 * or above ours, highest first, until their stake adds up */
	struct vstake vs[IST_WIRE_MAX_VALIDATORS];
	size_t k = 0;
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++)
		if (c->peer_tview[i] >= c->pm.view) {
			vs[k].view = c->peer_tview[i];
			vs[k++].stake = c->epoch->stakes[i];
			total += c->epoch->stakes[i];
		}
	if (!ist_cons_quorum_weak(c->epoch, total))
		return;
	qsort(vs, k, sizeof(vs[0]), vstake_desc);
	uint64_t best = 0, acc = 0;
	for (size_t i = 0; i < k; i++) {
		acc += vs[i].stake;
		if (ist_cons_quorum_weak(c->epoch, acc)) {
			best = vs[i].view;
			break;
		}
	}
	if (best == 0 || best < c->pm.view)
		return;
	if (best == c->pm.view && c->my_timeout && c->my_timeout->view == best)
		return;
	enter_view(c, best, false);
	local_timeout(c);
}

/* ---- Proposing ---- */

/* The parent and certificate a proposal of the current view would use, if
 * this node leads it and may propose. */
static struct ist_cons_tnode *propose_parent(struct ist_cons *c, bool *ret_has_tc)
{
	uint64_t v = c->pm.view;
	if (!is_validator(c) || leader(c, v) != c->self || c->safety->last_voted_view >= v)
		return NULL;
	const struct ist_qc *hq = &c->safety->high_qc;
	bool has_tc = hq->view + 1 != v;
	if (has_tc && !(c->last_tc && c->last_tc->view + 1 == v))
		return NULL;
	struct ist_cons_tnode *parent = ist_cons_tree_find(&c->tree, hq->block_id);
	if (!parent) {
		want(c, hq->block_id, leader(c, hq->view));
		return NULL;
	}
	*ret_has_tc = has_tc;
	return parent;
}

static void try_propose(struct ist_cons *c)
{
	bool has_tc;
	if (c->err || c->payload_requested || !c->started)
		return;
	struct ist_cons_tnode *parent = propose_parent(c, &has_tc);
	if (!parent)
		return;
	struct ist_cons_action *a = emit(c, IST_CONS_ACT_GET_PAYLOAD);
	if (!a)
		return;
	a->u.get_payload.epoch = c->epoch->number;
	a->u.get_payload.view = c->pm.view;
	a->u.get_payload.height = parent->height + 1;
	memcpy(a->u.get_payload.parent_id, parent->id, IST_HASH_BYTES);
	c->payload_requested = true;
}

static void on_payload(struct ist_cons *c, const struct ist_cons_event *ev)
{
	bool has_tc;
	if (ev->u.payload.epoch != c->epoch->number || ev->u.payload.view != c->pm.view || !c->payload_requested) {
		drop(c, IST_CONS_DROP_STALE_EVENT);
		return;
	}
	if (ev->u.payload.n_items > IST_WIRE_MAX_BLOCK_ITEMS || (ev->u.payload.n_items && !ev->u.payload.items)) {
		drop(c, IST_CONS_DROP_BAD_EVENT);
		return;
	}
	struct ist_cons_tnode *parent = propose_parent(c, &has_tc);
	if (!parent) {
		drop(c, IST_CONS_DROP_STALE_EVENT);
		return;
	}
	struct ist_proposal *p = calloc(1, sizeof(*p));
	if (!p) {
		c->err = -IST_ENOMEM;
		return;
	}
	struct ist_block *b = &p->block;
	b->network_id = c->network_id;
	b->epoch = c->epoch->number;
	b->view = c->pm.view;
	b->height = parent->height + 1;
	memcpy(b->parent_id, parent->id, IST_HASH_BYTES);
	b->proposer = c->self;
	b->timestamp_ms = ev->u.payload.timestamp_ms;
	b->justify = c->safety->high_qc;
	struct ist_block src = { .n_items = ev->u.payload.n_items,
				 .items = (struct ist_payload_item *)ev->u.payload.items };
	b->n_items = src.n_items;
	if (items_dup(&src, b) < 0) {
		ist_wire_proposal_free(p);
		c->err = -IST_ENOMEM;
		return;
	}
	p->has_tc = has_tc;
	if (has_tc)
		p->tc = *c->last_tc;
	uint8_t id[IST_HASH_BYTES];
	if (ist_wire_block_id(b, id) < 0) {
		ist_wire_proposal_free(p);
		drop(c, IST_CONS_DROP_BAD_EVENT);
		return;
	}
	uint64_t tc_hqc = has_tc ? p->tc.high_qc.view : 0;
	uint64_t tc_view = has_tc ? p->tc.view : 0;
	/* by construction (high_qc is at least the TC's highest QC) */
	IST_REQUIRE(ist_cons_safety_vote_ok(c->safety, b->view, b->justify.view, has_tc, tc_view, tc_hqc));
	uint8_t msg[IST_WIRE_PROPOSAL_SIGNING_BYTES];
	ist_wire_proposal_signing_bytes_with_id(p, id, msg);
	struct ist_block *copy = NULL;
	struct ist_cons_tnode *n = NULL;
	if (sign(c, msg, sizeof(msg), p->signature) < 0 || !(copy = block_dup(c, b))) {
		ist_wire_proposal_free(p);
		return;
	}
	if (ist_cons_tree_insert(&c->tree, copy, id, &n) < 0) {
		ist_wire_block_free(copy);
		ist_wire_proposal_free(p);
		drop(c, IST_CONS_DROP_FULL);
		return;
	}
	c->stats.proposals_sent++;
	emit_store(c, n->block, n->id);
	ist_wire_proposal_free(c->cur_prop);
	c->cur_prop = p;
	/* the proposal leaves with our vote, after the persist that records it:
	 * mark the state changed before queueing, so the proposal waits for
	 * that persist too (do_vote records the vote itself) */
	c->dirty = true;
	pend_send(c, IST_CONS_TO_ALL, prop_dup(c, p), NULL, NULL);
	do_vote(c, n);
}

/* ---- Handlers ---- */

static void on_proposal(struct ist_cons *c, uint32_t from, const struct ist_proposal *p)
{
	const struct ist_block *b = &p->block;
	enum ist_cons_drop d = block_shape(c, b);
	if (d == IST_CONS_DROP_FUTURE_EPOCH)
		future_epoch(c, from);
	if (d == IST_CONS_DROP_PAST_EPOCH)
		past_epoch(c, b->epoch, from);
	if (d != IST_CONS_DROP_NONE) {
		drop(c, d);
		return;
	}
	if (p->has_tc && (p->tc.epoch != c->epoch->number || p->tc.view + 1 != b->view)) {
		drop(c, IST_CONS_DROP_BAD_TC);
		return;
	}
	/* a proposal justifies its own view: a QC or a TC of the view before */
	if (b->justify.view + 1 != b->view && !p->has_tc) {
		drop(c, IST_CONS_DROP_BAD_BLOCK);
		return;
	}
	uint8_t id[IST_HASH_BYTES];
	if (ist_wire_block_id(b, id) < 0) {
		drop(c, IST_CONS_DROP_BAD_BLOCK);
		return;
	}
	if (b->height <= root(c)->height) {
		drop(c, IST_CONS_DROP_STALE);
		return;
	}
	if (ist_cons_tree_find(&c->tree, id) || orphan_has(c, id)) {
		drop(c, IST_CONS_DROP_DUPLICATE);
		return;
	}
	uint8_t msg[IST_WIRE_PROPOSAL_SIGNING_BYTES];
	ist_wire_proposal_signing_bytes_with_id(p, id, msg);
	if (!ist_cons_sig_verify(&c->ver, c->epoch->pubkeys[b->proposer], msg, sizeof(msg), p->signature)) {
		drop(c, IST_CONS_DROP_BAD_SIGNATURE);
		return;
	}
	if (!qc_ok(c, &b->justify)) {
		drop(c, IST_CONS_DROP_BAD_QC);
		return;
	}
	if (p->has_tc && !tc_ok(c, &p->tc)) {
		drop(c, IST_CONS_DROP_BAD_TC);
		return;
	}
	uint64_t gen = c->epoch_gen;
	process_qc(c, &b->justify, from);
	if (c->err || gen != c->epoch_gen)
		return;
	if (p->has_tc) {
		process_tc(c, &p->tc, from);
		if (c->err || gen != c->epoch_gen)
			return;
	}
	struct incoming in = { .b = b, .prop = p, .qc = NULL, .from = peer(c, from) };
	memcpy(in.id, id, IST_HASH_BYTES);
	place(c, &in);
}

static bool msg_epoch_ok(struct ist_cons *c, uint64_t epoch, uint32_t from)
{
	if (epoch < c->epoch->number) {
		past_epoch(c, epoch, from);
		drop(c, IST_CONS_DROP_PAST_EPOCH);
		return false;
	}
	if (epoch > c->epoch->number) {
		future_epoch(c, from);
		drop(c, IST_CONS_DROP_FUTURE_EPOCH);
		return false;
	}
	return true;
}

static void on_vote(struct ist_cons *c, uint32_t from, const struct ist_vote *v)
{
	if (!msg_epoch_ok(c, v->epoch, from))
		return;
	if (v->voter >= c->epoch->n) {
		drop(c, IST_CONS_DROP_BAD_INDEX);
		return;
	}
	if (v->view == 0 || v->view == UINT64_MAX) {
		drop(c, IST_CONS_DROP_BAD_EVENT);
		return;
	}
	if (!is_validator(c) || leader(c, v->view + 1) != c->self) {
		drop(c, IST_CONS_DROP_NOT_NEXT_LEADER);
		return;
	}
	if (v->view + 1 < c->pm.view) {
		drop(c, IST_CONS_DROP_STALE);
		sync_reply(c, peer(c, from), v->voter, v->view);
		return;
	}
	if (v->view > c->pm.view + VIEW_WINDOW) {
		drop(c, IST_CONS_DROP_TOO_FAR);
		return;
	}
	struct ist_cons_vote_pool *p = vpool(c, v->view, true);
	if (!p)
		return;
	enum ist_cons_pool_result pr = ist_cons_vote_pool_peek(p, v);
	if (pr == IST_CONS_POOL_DUPLICATE || (pr == IST_CONS_POOL_ADDED && p->done)) {
		drop(c, IST_CONS_DROP_DUPLICATE);
		return;
	}
	uint8_t msg[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(c->network_id, v->epoch, v->view, v->block_id, msg);
	if (!ist_cons_sig_verify(&c->ver, c->epoch->pubkeys[v->voter], msg, sizeof(msg), v->signature)) {
		drop(c, IST_CONS_DROP_BAD_SIGNATURE);
		return;
	}
	if (pr == IST_CONS_POOL_EQUIVOCATION) {
		/* FIXME: hand both signed votes to the node as slashing evidence
		 * (DESIGN "Slashing"); for now the second is only dropped. */
		drop(c, IST_CONS_DROP_EQUIVOCATION);
		return;
	}
	struct ist_qc *qc = malloc(sizeof(*qc));
	if (!qc) {
		c->err = -IST_ENOMEM;
		return;
	}
	if (ist_cons_vote_pool_add(p, c->epoch, v, qc) == IST_CONS_POOL_CERT) {
		c->stats.qcs_formed++;
		process_qc(c, qc, peer(c, from));
	}
	free(qc);
}

static void own_vote(struct ist_cons *c, const struct ist_vote *v)
{
	if (v->epoch != c->epoch->number || !in_window(c, v->view))
		return;
	struct ist_cons_vote_pool *p = vpool(c, v->view, true);
	if (!p || p->done)
		return;
	struct ist_qc *qc = malloc(sizeof(*qc));
	if (!qc) {
		c->err = -IST_ENOMEM;
		return;
	}
	if (ist_cons_vote_pool_add(p, c->epoch, v, qc) == IST_CONS_POOL_CERT) {
		c->stats.qcs_formed++;
		process_qc(c, qc, IST_CONS_PEER_NONE);
	}
	free(qc);
}

static void on_timeout(struct ist_cons *c, uint32_t from, const struct ist_timeout *t)
{
	if (!msg_epoch_ok(c, t->epoch, from))
		return;
	if (t->voter >= c->epoch->n) {
		drop(c, IST_CONS_DROP_BAD_INDEX);
		return;
	}
	if (t->view == 0) {
		drop(c, IST_CONS_DROP_BAD_EVENT);
		return;
	}
	if (t->high_qc.epoch != c->epoch->number || t->high_qc.view >= t->view ||
	    t->high_qc.n_sigs > IST_WIRE_MAX_VALIDATORS) {
		drop(c, IST_CONS_DROP_BAD_QC);
		return;
	}
	bool stale = t->view < c->pm.view;
	if (stale && t->high_qc.view <= c->safety->high_qc.view) {
		drop(c, IST_CONS_DROP_STALE);
		sync_reply(c, peer(c, from), t->voter, t->view);
		return;
	}
	if (!stale && in_window(c, t->view)) {
		struct ist_cons_timeout_pool *p = tpool(c, t->view, false);
		if (p && ist_cons_timeout_pool_peek(p, t) == IST_CONS_POOL_DUPLICATE) {
			drop(c, IST_CONS_DROP_DUPLICATE);
			return;
		}
	}
	uint8_t msg[IST_WIRE_TIMEOUT_SIGNING_BYTES];
	ist_wire_timeout_signing_bytes(c->network_id, t->epoch, t->view, t->high_qc.view, msg);
	if (!ist_cons_sig_verify(&c->ver, c->epoch->pubkeys[t->voter], msg, sizeof(msg), t->signature)) {
		drop(c, IST_CONS_DROP_BAD_SIGNATURE);
		return;
	}
	if (!qc_ok(c, &t->high_qc)) {
		drop(c, IST_CONS_DROP_BAD_QC);
		return;
	}
	uint64_t gen = c->epoch_gen;
	process_qc(c, &t->high_qc, peer(c, from));
	if (c->err || gen != c->epoch_gen)
		return;
	if (stale) {
		drop(c, IST_CONS_DROP_STALE);
		sync_reply(c, peer(c, from), t->voter, t->view);
		return;
	}
	bool raised = c->peer_tview[t->voter] < t->view;
	if (raised)
		c->peer_tview[t->voter] = t->view;
	if (!in_window(c, t->view))
		drop(c, IST_CONS_DROP_TOO_FAR);
	else
		timeout_collect(c, t, peer(c, from));
	if (raised && !c->err && gen == c->epoch_gen)
		join_check(c);
}

/*
 * One block of a sync chain, already authenticated: wanted, certified by
 * `qc`, or the parent of one that is. Checks it like any block and places it.
 */
static void accept_block(struct ist_cons *c, uint32_t from, const struct ist_block *b,
			 const uint8_t id[IST_HASH_BYTES], const struct ist_qc *qc)
{
	enum ist_cons_drop d = block_shape(c, b);
	if (d != IST_CONS_DROP_NONE) {
		drop(c, d);
		return;
	}
	if (b->height <= root(c)->height) {
		drop(c, IST_CONS_DROP_STALE);
		return;
	}
	if (ist_cons_tree_find(&c->tree, id) || orphan_has(c, id)) {
		if (qc)
			process_qc(c, qc, peer(c, from));
		drop(c, IST_CONS_DROP_DUPLICATE);
		return;
	}
	if (!qc_ok(c, &b->justify)) {
		drop(c, IST_CONS_DROP_BAD_QC);
		return;
	}
	uint64_t gen = c->epoch_gen;
	process_qc(c, &b->justify, peer(c, from));
	if (c->err || gen != c->epoch_gen)
		return;
	struct incoming in = { .b = b, .prop = NULL, .qc = qc, .from = peer(c, from) };
	memcpy(in.id, id, IST_HASH_BYTES);
	place(c, &in);
	if (qc && !c->err && gen == c->epoch_gen)
		process_qc(c, qc, peer(c, from));
}

/*
 * A chain from a sync answer, top first. The top is taken when the core
 * wants it or `qc` certifies it; each next block when its id is the
 * previous one's parent (so a peer can send nothing we did not ask for or
 * that is not certified). Then placed bottom up, parents first.
 */
static void on_blocks(struct ist_cons *c, uint32_t from, const struct ist_block *const *v, size_t n,
		      const struct ist_qc *qc)
{
	if (n > IST_CONS_MAX_CHAIN)
		n = IST_CONS_MAX_CHAIN;
	for (size_t i = 0; i < n; i++)
		if (!v[i]) {
			drop(c, IST_CONS_DROP_BAD_EVENT);
			return;
		}
	if (!n) {
		drop(c, IST_CONS_DROP_BAD_EVENT);
		return;
	}
	enum ist_cons_drop d = block_shape(c, v[0]);
	if (d == IST_CONS_DROP_FUTURE_EPOCH)
		future_epoch(c, from);
	if (d != IST_CONS_DROP_NONE) {
		drop(c, d);
		return;
	}
	uint8_t (*ids)[IST_HASH_BYTES] = calloc(n, sizeof(*ids));
	if (!ids) {
		c->err = -IST_ENOMEM;
		return;
	}
	size_t k = 0;
	for (; k < n; k++) {
		if (ist_wire_block_id(v[k], ids[k]) < 0)
			break;
		if (k > 0 && memcmp(ids[k], v[k - 1]->parent_id, IST_HASH_BYTES) != 0)
			break;
	}
	if (k == 0) {
		drop(c, IST_CONS_DROP_BAD_BLOCK);
		goto out;
	}
	if (qc && (memcmp(qc->block_id, ids[0], IST_HASH_BYTES) != 0 || qc->view != v[0]->view || !qc_ok(c, qc))) {
		drop(c, IST_CONS_DROP_BAD_QC);
		goto out;
	}
	if (!qc && !want_has(c, ids[0]) && !ist_cons_tree_find(&c->tree, ids[0]) && !orphan_has(c, ids[0])) {
		drop(c, IST_CONS_DROP_UNSOLICITED);
		goto out;
	}
	uint64_t gen = c->epoch_gen;
	for (size_t i = k; i > 0 && !c->err && gen == c->epoch_gen; i--)
		accept_block(c, from, v[i - 1], ids[i - 1], i == 1 ? qc : NULL);
out:
	free(ids);
}

static void on_timer(struct ist_cons *c, uint64_t seq)
{
	if (seq != c->timer_seq) {
		drop(c, IST_CONS_DROP_STALE_EVENT);
		return;
	}
	local_timeout(c);
	refetch(c, true);
	c->epoch_fetch_sent = false;
	memset(c->proof_sent, 0, sizeof(c->proof_sent));
	c->proof_sent_anon = 0;
	memset(c->synced, 0, sizeof(c->synced));
	arm_timer(c);
}

static void on_recheck(struct ist_cons *c)
{
	if (!c->has_deferred)
		return;
	struct ist_cons_tnode *n = ist_cons_tree_find(&c->tree, c->deferred_id);
	if (!n || n->view != c->pm.view) {
		c->has_deferred = false;
		return;
	}
	consider_vote(c, n, c->deferred_has_tc, c->deferred_tc_view, c->deferred_tc_hqc);
}

static void on_persisted(struct ist_cons *c, uint64_t seq)
{
	if (seq > c->persist_seq) {
		drop(c, IST_CONS_DROP_BAD_EVENT);
		return;
	}
	if (seq <= c->persisted_seq) {
		drop(c, IST_CONS_DROP_STALE_EVENT);
		return;
	}
	c->persisted_seq = seq;
}

/* ---- Flush: persist, then release what it covers ---- */

static void release(struct ist_cons *c, struct pend *p)
{
	switch (p->kind) {
	case PEND_SEND: {
		struct ist_cons_action *a = emit(c, IST_CONS_ACT_SEND);
		if (!a)
			break;
		*a = p->act;
		memset(&p->act, 0, sizeof(p->act));
		break;
	}
	case PEND_LOCAL_VOTE:
		own_vote(c, p->vote);
		break;
	case PEND_LOCAL_TIMEOUT:
		if (p->timeout->epoch == c->epoch->number) {
			uint64_t gen = c->epoch_gen;
			timeout_collect(c, p->timeout, IST_CONS_PEER_NONE);
			if (!c->err && gen == c->epoch_gen)
				join_check(c);
		}
		break;
	}
}

static void flush(struct ist_cons *c)
{
	for (int round = 0; round < 64 && !c->err; round++) {
		bool progressed = false;
		persist_now(c);
		while (c->pend_len && c->pend[c->pend_head].seq <= c->persisted_seq && !c->err) {
			struct pend p = c->pend[c->pend_head];
			c->pend_head++;
			c->pend_len--;
			if (!c->pend_len)
				c->pend_head = 0;
			release(c, &p);
			pend_free(&p);
			progressed = true;
		}
		try_propose(c);
		if (!c->dirty && !progressed)
			return;
	}
}

/* ---- Public ---- */

int ist_cons_step(struct ist_cons *c, const struct ist_cons_event *ev, struct ist_cons_actions *out)
{
	if (!c || !ev || !out)
		return -IST_EINVAL;
	c->out = out;
	c->err = 0;
	c->drop = IST_CONS_DROP_NONE;
	int r = 0;
	switch (ev->kind) {
	case IST_CONS_EV_START:
		if (c->started) {
			drop(c, IST_CONS_DROP_BAD_EVENT);
			break;
		}
		c->started = true;
		arm_timer(c);
		break;
	case IST_CONS_EV_PROPOSAL:
		if (!ev->u.proposal)
			r = -IST_EINVAL;
		else if (c->started)
			on_proposal(c, ev->from, ev->u.proposal);
		else
			drop(c, IST_CONS_DROP_STALE_EVENT);
		break;
	case IST_CONS_EV_VOTE:
		if (!ev->u.vote)
			r = -IST_EINVAL;
		else if (c->started)
			on_vote(c, ev->from, ev->u.vote);
		else
			drop(c, IST_CONS_DROP_STALE_EVENT);
		break;
	case IST_CONS_EV_TIMEOUT:
		if (!ev->u.timeout)
			r = -IST_EINVAL;
		else if (c->started)
			on_timeout(c, ev->from, ev->u.timeout);
		else
			drop(c, IST_CONS_DROP_STALE_EVENT);
		break;
	case IST_CONS_EV_TIMER:
		if (c->started)
			on_timer(c, ev->u.timer.seq);
		else
			drop(c, IST_CONS_DROP_STALE_EVENT);
		break;
	case IST_CONS_EV_PAYLOAD:
		on_payload(c, ev);
		break;
	case IST_CONS_EV_PERSISTED:
		on_persisted(c, ev->u.persisted.seq);
		break;
	case IST_CONS_EV_BLOCKS:
		if (!ev->u.blocks.v)
			r = -IST_EINVAL;
		else if (c->started)
			on_blocks(c, ev->from, ev->u.blocks.v, ev->u.blocks.n, ev->u.blocks.qc);
		else
			drop(c, IST_CONS_DROP_STALE_EVENT);
		break;
	case IST_CONS_EV_RECHECK:
		on_recheck(c);
		break;
	default:
		r = -IST_EINVAL;
		break;
	}
	if (r == 0 && !c->err)
		flush(c);
	out->drop = c->drop;
	c->stats.sig_verifications = c->ver.verifications;
	c->out = NULL;
	return r ? r : c->err;
}

/*
 * Rebuilds the tree from the node's stored blocks: whatever descends from
 * the root, parents first (repeated passes: the list has no order). Their
 * justify QCs were verified before the blocks were stored; they certify
 * the parents and may raise high_qc.
 */
static int load_blocks(struct ist_cons *c, const struct ist_block *const *blocks, size_t n)
{
	if (!n)
		return 0;
	if (!blocks)
		return -IST_EINVAL;
	bool *done = calloc(n, sizeof(*done));
	if (!done)
		return -IST_ENOMEM;
	int r = 0;
	for (bool progress = true; progress && r == 0;) {
		progress = false;
		for (size_t i = 0; i < n && r == 0; i++) {
			const struct ist_block *b = blocks[i];
			uint8_t id[IST_HASH_BYTES];
			if (done[i] || !b)
				continue;
			struct ist_cons_tnode *parent = ist_cons_tree_find(&c->tree, b->parent_id);
			if (!parent)
				continue;
			done[i] = true;
			progress = true;
			if (block_shape(c, b) != IST_CONS_DROP_NONE || b->height != parent->height + 1 ||
			    b->view <= parent->view || ist_wire_block_id(b, id) < 0 ||
			    ist_cons_tree_find(&c->tree, id))
				continue;
			struct ist_block *copy;
			struct ist_cons_tnode *node;
			if ((r = ist_cons_block_dup(b, &copy)) < 0)
				break;
			if ((r = ist_cons_tree_insert(&c->tree, copy, id, &node)) < 0) {
				ist_wire_block_free(copy);
				if (r != -IST_ENOMEM)
					r = 0;   /* full: the rest is fetched again */
				continue;
			}
			if (b->justify.view > 0 && !parent->qc) {
				if (!(parent->qc = malloc(sizeof(*parent->qc)))) {
					r = -IST_ENOMEM;
					break;
				}
				*parent->qc = b->justify;
			}
			ist_cons_safety_qc_update(c->safety, &b->justify);
		}
	}
	free(done);
	return r;
}

int ist_cons_new(const struct ist_cons_config *cfg, struct ist_cons **ret)
{
	if (!cfg || !cfg->epoch || !cfg->root || (cfg->has_key && !cfg->signer.sign))
		return -IST_EINVAL;
	uint64_t base = cfg->timeout_base_ms ? cfg->timeout_base_ms : DEFAULT_BASE_MS;
	uint64_t max = cfg->timeout_max_ms ? cfg->timeout_max_ms : DEFAULT_MAX_MS;
	if (max < base)
		return -IST_EINVAL;
	uint8_t root_id[IST_HASH_BYTES];
	if (ist_wire_block_id(cfg->root, root_id) < 0)
		return -IST_EINVAL;
	bool epoch_root = memcmp(root_id, cfg->epoch->root_id, IST_HASH_BYTES) == 0;
	if (!epoch_root && (cfg->root->epoch != cfg->epoch->number || cfg->root->view == 0))
		return -IST_EINVAL;

	struct ist_cons *c = calloc(1, sizeof(*c));
	if (!c)
		return -IST_ENOMEM;
	int r = -IST_ENOMEM;
	c->epoch = malloc(sizeof(*c->epoch));
	c->scratch_epoch = malloc(sizeof(*c->scratch_epoch));
	c->safety = calloc(1, sizeof(*c->safety));
	struct ist_qc *g = malloc(sizeof(*g));
	if (!c->epoch || !c->scratch_epoch || !c->safety || !g)
		goto fail;
	*c->epoch = *cfg->epoch;
	if ((r = ist_cons_epoch_check(c->epoch)) < 0)
		goto fail;
	c->network_id = cfg->network_id;
	c->has_key = cfg->has_key;
	memcpy(c->pubkey, cfg->pubkey, sizeof(c->pubkey));
	c->signer = cfg->signer;
	c->app = cfg->app;
	c->ver.network_id = cfg->network_id;
	c->ver.cache = cfg->sigcache;
	c->self = c->has_key ? ist_cons_epoch_index(c->epoch, c->pubkey) : IST_CONS_OBSERVER;

	ist_cons_epoch_genesis_qc(c->epoch, g);
	ist_cons_safety_init(c->safety, c->epoch->number, g);
	if (cfg->safety && cfg->safety_len) {
		if ((r = ist_cons_safety_decode(cfg->safety, cfg->safety_len, c->safety)) < 0)
			goto fail;
		if (c->safety->epoch > c->epoch->number) {
			r = -IST_ESTATE;
			goto fail;
		}
		if (c->safety->epoch < c->epoch->number)
			ist_cons_safety_init(c->safety, c->epoch->number, g);
	}

	uint64_t root_view = epoch_root ? 0 : cfg->root->view;
	struct ist_block *rb;
	if ((r = ist_cons_block_dup(cfg->root, &rb)) < 0)
		goto fail;
	if ((r = ist_cons_tree_init(&c->tree, rb, root_id, root_view, MAX_TREE_BLOCKS)) < 0)
		goto fail;

	if ((r = load_blocks(c, cfg->blocks, cfg->n_blocks)) < 0)
		goto fail;

	const struct ist_cons_safety *s = c->safety;
	uint64_t view = root_view + 1;
	view = IST_MAX(view, s->high_qc.view + 1);
	view = IST_MAX(view, s->last_voted_view);
	view = IST_MAX(view, s->last_timeout_view);
	ist_cons_pacemaker_init(&c->pm, base, max, view);

	c->epoch_fetch_to = IST_CONS_PEER_NONE;
	c->peer_tview = calloc(c->epoch->n, sizeof(*c->peer_tview));
	r = -IST_ENOMEM;
	if (!c->peer_tview)
		goto fail;
	free(g);
	*ret = c;
	return 0;
fail:
	free(g);
	ist_cons_free(c);
	return r;
}

void ist_cons_free(struct ist_cons *c)
{
	if (!c)
		return;
	pools_clear(c);
	orphans_clear(c);
	certs_clear(c);
	for (size_t i = 0; i < c->pend_len; i++)
		pend_free(&c->pend[c->pend_head + i]);
	free(c->pend);
	if (c->tree.v)
		ist_cons_tree_fini(&c->tree);
	ist_wire_proposal_free(c->cur_prop);
	free(c->my_timeout);
	old_timeouts_clear(c);
	free(c->peer_tview);
	free(c->safety);
	free(c->epoch);
	free(c->scratch_epoch);
	free(c);
}

/* ---- Accessors ---- */

const struct ist_cons_stats *ist_cons_stats_get(const struct ist_cons *c) { return &c->stats; }

const struct ist_cons_epoch *ist_cons_epoch_current(const struct ist_cons *c) { return c->epoch; }
uint64_t ist_cons_view(const struct ist_cons *c) { return c->pm.view; }
uint32_t ist_cons_self(const struct ist_cons *c) { return c->self; }
uint64_t ist_cons_committed_height(const struct ist_cons *c) { return root(c)->height; }

void ist_cons_committed_id(const struct ist_cons *c, uint8_t ret_id32[IST_HASH_BYTES])
{
	memcpy(ret_id32, root(c)->id, IST_HASH_BYTES);
}

const struct ist_qc *ist_cons_high_qc(const struct ist_cons *c) { return &c->safety->high_qc; }

int ist_cons_block_get(const struct ist_cons *c, const uint8_t id32[IST_HASH_BYTES], struct ist_block **ret_block,
		       struct ist_qc **ret_qc)
{
	const struct ist_cons_tnode *n = ist_cons_tree_find(&c->tree, id32);
	if (!n)
		return -IST_ENOTFOUND;
	struct ist_block *b;
	struct ist_qc *q = NULL;
	if (ist_cons_block_dup(n->block, &b) < 0)
		return -IST_ENOMEM;
	if (ret_qc && n->qc) {
		q = malloc(sizeof(*q));
		if (!q) {
			ist_wire_block_free(b);
			return -IST_ENOMEM;
		}
		*q = *n->qc;
	}
	*ret_block = b;
	if (ret_qc)
		*ret_qc = q;
	return 0;
}
