/*
 * The watcher (chain/watcher.h) against in-process fake endpoints whose
 * blocks, heads and lies the test controls.
 *
 * Synchronisation is by condition variables only: the fakes count their
 * head() calls, so "a whole poll went by" is "head() was called twice more",
 * and every wait is bounded (a broken watcher fails the test, it does not
 * hang it). Nothing is timed.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/chain.h"
#include "chain/watcher.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/metrics.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "lib/ist_test.h"
#include "wire/canonical.h"

#define CHAIN 7
#define WAIT_S 30   /* bound on any one wait; only a broken watcher reaches it */

/* One lock for the fakes and the observer: simple, and the test is small. */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond;

/* ---- the source chain ------------------------------------------------- */

/* Block hashes of a chain "variant": variant 0 is the honest history; a
 * rewrite is another variant from some height on. */
static void block_hash(uint64_t variant, uint64_t h, uint8_t out[32])
{
	uint8_t in[16];
	ist_put_be64(in, variant);
	ist_put_be64(in + 8, h);
	ist_sha256(in, sizeof(in), out);
}

/* The block at h of the chain whose blocks from `fork_from` on are of
 * `variant` (variant 0 below). 1..3 messages, ids computed. */
static void make_block(uint64_t variant, uint64_t fork_from, uint64_t h, struct ist_chain_block *b)
{
	memset(b, 0, sizeof(*b));
	b->height = h;
	block_hash(h >= fork_from ? variant : 0, h, b->hash);
	if (h > 0)
		block_hash(h - 1 >= fork_from ? variant : 0, h - 1, b->parent_hash);
	b->n_msgs = 1 + h % 3;
	b->msgs = calloc(b->n_msgs, sizeof(*b->msgs));
	b->ids = calloc(b->n_msgs, sizeof(*b->ids));
	ck_assert(b->msgs && b->ids);
	for (size_t k = 0; k < b->n_msgs; k++) {
		struct ist_message *m = &b->msgs[k];
		m->src_chain = CHAIN;
		m->dst_chain = 2;
		m->nonce = h * 10 + k;
		memset(m->sender, 0x11, sizeof(m->sender));
		memset(m->recipient, 0x22, sizeof(m->recipient));
		m->value = h;
		m->payload_len = k * 3;
		if (m->payload_len) {
			m->payload = malloc(m->payload_len);
			ck_assert_ptr_nonnull(m->payload);
			memset(m->payload, (int)(h + k), m->payload_len);
		}
		ck_assert_int_eq(ist_wire_message_id(m, b->ids[k]), 0);
	}
}

/* ---- the fake endpoint ------------------------------------------------ */

enum lie {
	LIE_NONE,
	LIE_MESSAGE,     /* a different message (its id right): a valid block, another one */
	LIE_ID,          /* a reported id that is not the message's */
	LIE_HASH,        /* another block hash */
	LIE_SRC,         /* a message of another chain (its id right) */
};

struct fake {
	struct ist_chain_adapter base;
	/* under g_lock */
	uint64_t head, finalized;
	int head_err;            /* head() fails with it when nonzero */
	enum lie lie;
	uint64_t variant, fork_from;
	unsigned head_calls, block_calls;
};

static int fake_head(struct ist_chain_adapter *a, uint64_t *ret_head, uint64_t *ret_finalized)
{
	struct fake *f = (struct fake *)a;
	pthread_mutex_lock(&g_lock);
	f->head_calls++;
	int r = f->head_err;
	if (r == 0) {
		*ret_head = f->head;
		*ret_finalized = f->finalized;
	}
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_lock);
	return r;
}

static int fake_block(struct ist_chain_adapter *a, uint64_t height, struct ist_chain_block *ret)
{
	struct fake *f = (struct fake *)a;
	pthread_mutex_lock(&g_lock);
	f->block_calls++;
	uint64_t head = f->head, variant = f->variant, fork_from = f->fork_from;
	enum lie lie = f->lie;
	pthread_mutex_unlock(&g_lock);
	if (height > head)
		return -IST_ENOTFOUND;
	make_block(variant, fork_from, height, ret);
	struct ist_message *m = &ret->msgs[0];
	switch (lie) {
	case LIE_NONE:
		break;
	case LIE_MESSAGE:
		m->value += 1000;
		ck_assert_int_eq(ist_wire_message_id(m, ret->ids[0]), 0);
		break;
	case LIE_ID:
		ret->ids[0][5] ^= 0x40;
		break;
	case LIE_HASH:
		ret->hash[0] ^= 0x01;
		break;
	case LIE_SRC:
		m->src_chain = CHAIN + 1;
		ck_assert_int_eq(ist_wire_message_id(m, ret->ids[0]), 0);
		break;
	}
	return 0;
}

static void fake_destroy(struct ist_chain_adapter *a)
{
	(void)a;   /* the fakes live in the test's memory */
}

static const struct ist_chain_adapter_ops fake_ops = { fake_head, fake_block, fake_destroy };

static void fake_init(struct fake *f, size_t index, uint64_t head, uint64_t finalized)
{
	memset(f, 0, sizeof(*f));
	f->base.ops = &fake_ops;
	snprintf(f->base.url, sizeof(f->base.url), "fake://%zu", index);
	f->head = head;
	f->finalized = finalized;
	f->fork_from = UINT64_MAX;
}

static void fake_set(struct fake *f, uint64_t head, uint64_t finalized)
{
	pthread_mutex_lock(&g_lock);
	f->head = head;
	f->finalized = finalized;
	pthread_mutex_unlock(&g_lock);
}

static void fake_lie(struct fake *f, enum lie lie)
{
	pthread_mutex_lock(&g_lock);
	f->lie = lie;
	pthread_mutex_unlock(&g_lock);
}

/* ---- the observer (the node's side) ----------------------------------- */

#define MAX_OBS 256

struct obs {
	/* under g_lock */
	size_t n;
	uint64_t heights[MAX_OBS];
	uint8_t hashes[MAX_OBS][32];
	size_t calls;            /* on_block calls, EAGAIN ones included */
	uint64_t call_heights[MAX_OBS];
	unsigned eagain_left;    /* answer EAGAIN this many times ... */
	uint64_t eagain_at;      /* ... at this height */
	int fail_with;           /* answer this (an error) when nonzero */
	bool mismatch;           /* a block was not the honest one of its height */
	uint64_t variant, fork_from;  /* what an honest block is */
	size_t violations;       /* on_violation calls */
	struct ist_watcher_violation violation;   /* the last one */
};

static void on_violation(void *ctx, const struct ist_watcher_violation *v)
{
	struct obs *o = ctx;
	pthread_mutex_lock(&g_lock);
	o->violations++;
	o->violation = *v;
	pthread_mutex_unlock(&g_lock);
}

static int on_block(void *ctx, const struct ist_chain_block *b)
{
	struct obs *o = ctx;
	pthread_mutex_lock(&g_lock);
	int r = 0;
	if (o->calls < MAX_OBS)
		o->call_heights[o->calls] = b->height;
	o->calls++;
	if (o->fail_with) {
		r = o->fail_with;
	} else if (o->eagain_left > 0 && b->height == o->eagain_at) {
		o->eagain_left--;
		r = -IST_EAGAIN;
	} else {
		struct ist_chain_block want;
		make_block(o->variant, o->fork_from, b->height, &want);
		if (!ist_chain_block_equal(&want, b))
			o->mismatch = true;
		ist_chain_block_fini(&want);
		if (o->n < MAX_OBS) {
			o->heights[o->n] = b->height;
			memcpy(o->hashes[o->n], b->hash, 32);
		}
		o->n++;
	}
	pthread_cond_broadcast(&g_cond);
	pthread_mutex_unlock(&g_lock);
	return r;
}

static void obs_init(struct obs *o)
{
	memset(o, 0, sizeof(*o));
	o->fork_from = UINT64_MAX;
}

/* ---- bounded waits ---------------------------------------------------- */

static struct timespec deadline(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += WAIT_S;
	return ts;
}

/* Waits (g_lock held) for a broadcast; false at the deadline. */
static bool wait_until(const struct timespec *dl)
{
	return pthread_cond_timedwait(&g_cond, &g_lock, dl) != ETIMEDOUT;
}

/* Waits until `n` blocks were observed in all. */
static void wait_observed(struct obs *o, size_t n)
{
	struct timespec dl = deadline();
	pthread_mutex_lock(&g_lock);
	while (o->n < n) {
		if (!wait_until(&dl))
			break;
	}
	size_t got = o->n;
	pthread_mutex_unlock(&g_lock);
	ck_assert_msg(got >= n, "observed %zu blocks, waited for %zu", got, n);
}

/* Waits until `f` was asked for its head `polls` more times: the poll in
 * progress when this is called has finished by then. */
static void wait_polls(struct fake *f, unsigned polls)
{
	struct timespec dl = deadline();
	pthread_mutex_lock(&g_lock);
	unsigned target = f->head_calls + polls;
	while (f->head_calls < target) {
		if (!wait_until(&dl))
			break;
	}
	unsigned got = f->head_calls;
	pthread_mutex_unlock(&g_lock);
	ck_assert_msg(got >= target, "the watcher stopped polling");
}

static size_t observed(struct obs *o)
{
	pthread_mutex_lock(&g_lock);
	size_t n = o->n;
	pthread_mutex_unlock(&g_lock);
	return n;
}

/* Observations are exactly first..last, in order, once each, honest. */
static void assert_observed_range(struct obs *o, uint64_t first, uint64_t last)
{
	pthread_mutex_lock(&g_lock);
	size_t n = o->n;
	bool mismatch = o->mismatch;
	uint64_t h[MAX_OBS];
	memcpy(h, o->heights, sizeof(h));
	pthread_mutex_unlock(&g_lock);
	ck_assert_uint_eq(n, last - first + 1);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(h[i], first + i);
	ck_assert_msg(!mismatch, "a block observed is not the honest one");
}

/* ---- metrics ---------------------------------------------------------- */

/* The value of one series ("name{label=\"v\"}") in the rendered registry,
 * 0 when absent. */
static double metric(struct ist_metrics *r, const char *series)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ck_assert_int_eq(ist_metrics_render(r, &b), 0);
	ist_buf_put_u8(&b, 0);
	double v = 0;
	size_t n = strlen(series);
	for (const char *line = (const char *)b.data; line && *line;) {
		if (strncmp(line, series, n) == 0 && line[n] == ' ') {
			v = strtod(line + n + 1, NULL);
			break;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	ist_buf_fini(&b);
	return v;
}

/* ---- set-up ------------------------------------------------------------ */

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g_cond, &ca);
	pthread_condattr_destroy(&ca);
}

/* Waits until the watcher halts (the fakes' head calls wake the wait: a
 * halted watcher still polls). Out: why. */
static void wait_halted(struct ist_watcher *w, char *why, size_t len)
{
	struct timespec dl = deadline();
	bool halted;
	while (!(halted = ist_watcher_halted(w, why, len))) {
		pthread_mutex_lock(&g_lock);
		bool woken = wait_until(&dl);
		pthread_mutex_unlock(&g_lock);
		if (!woken)
			break;
	}
	ck_assert_msg(halted || ist_watcher_halted(w, why, len), "the watcher did not halt");
}

/* Waits until `f` was asked for `n` blocks in all. */
static void wait_block_calls(struct fake *f, unsigned n)
{
	struct timespec dl = deadline();
	pthread_mutex_lock(&g_lock);
	while (f->block_calls < n && wait_until(&dl))
		;
	unsigned got = f->block_calls;
	pthread_mutex_unlock(&g_lock);
	ck_assert_uint_ge(got, n);
}

/* A watcher over n fakes, an observer and a metrics registry. */
struct rig {
	size_t n;
	struct fake f[IST_WATCHER_MAX_ADAPTERS];
	struct ist_chain_adapter *ad[IST_WATCHER_MAX_ADAPTERS];
	struct obs o;
	struct ist_metrics *m;
	struct ist_watcher_config cfg;
	struct ist_watcher *w;
};

/* Fakes with that head and finalized height, and a config (poll 1 ms,
 * from height 1); nothing started. */
static struct rig *rig_new(size_t n, uint64_t head, uint64_t finalized)
{
	struct rig *r = calloc(1, sizeof(*r));
	ck_assert_ptr_nonnull(r);
	r->n = n;
	for (size_t i = 0; i < n; i++) {
		fake_init(&r->f[i], i, head, finalized);
		r->ad[i] = &r->f[i].base;
	}
	r->m = ist_metrics_new();
	ck_assert_ptr_nonnull(r->m);
	r->cfg.chain_id = CHAIN;
	r->cfg.adapters = r->ad;
	r->cfg.n_adapters = n;
	r->cfg.poll_ms = 1;
	r->cfg.next_height = 1;
	r->cfg.on_block = on_block;
	r->cfg.on_violation = on_violation;
	r->cfg.ctx = &r->o;
	r->cfg.metrics = r->m;
	obs_init(&r->o);
	return r;
}

/* Starts a watcher with r->cfg and a fresh observer (to start one with an
 * observer set up otherwise, call ist_watcher_start on r->cfg). */
static void rig_start(struct rig *r)
{
	ck_assert_ptr_null(r->w);
	obs_init(&r->o);
	ck_assert_int_eq(ist_watcher_start(&r->cfg, &r->w), 0);
}

static void rig_stop(struct rig *r)
{
	ist_watcher_stop(r->w);
	r->w = NULL;
}

static void rig_free(struct rig *r)
{
	rig_stop(r);
	ist_metrics_free(r->m);
	free(r);
}

static double rig_metric(struct rig *r, const char *series)
{
	return metric(r->m, series);
}

#define DISAGREEMENTS "isthmus_chain_disagreements_total{chain=\"7\"}"
#define VIOLATIONS "isthmus_chain_finality_violations_total{chain=\"7\"}"
#define RPC_ERRORS(i) "isthmus_chain_rpc_errors_total{endpoint=\"7/" #i "\"}"

/* ---- tests ------------------------------------------------------------- */

START_TEST(test_in_order_once)
{
	struct rig *r = rig_new(1, 10, 10);
	rig_start(r);
	wait_observed(&r->o, 10);
	wait_polls(&r->f[0], 3);
	assert_observed_range(&r->o, 1, 10);
	ck_assert_uint_eq(ist_watcher_next_height(r->w), 11);
	ck_assert(rig_metric(r, "isthmus_chain_observed_height{chain=\"7\"}") == 10);

	/* the chain grows: the watcher follows */
	fake_set(&r->f[0], 15, 15);
	wait_observed(&r->o, 15);
	wait_polls(&r->f[0], 3);
	assert_observed_range(&r->o, 1, 15);
	ck_assert(!ist_watcher_halted(r->w, NULL, 0));
	ck_assert(rig_metric(r, DISAGREEMENTS) == 0);
	rig_free(r);
}
END_TEST

START_TEST(test_finalized_and_depth_bound)
{
	/* one endpoint: finalized 6 of head 20 */
	struct rig *r = rig_new(1, 20, 6);
	rig_start(r);
	wait_observed(&r->o, 6);
	wait_polls(&r->f[0], 3);
	assert_observed_range(&r->o, 1, 6);
	rig_stop(r);

	/* depth: finalized 20 of head 20, depth 5: up to 15 only */
	fake_set(&r->f[0], 20, 20);
	r->cfg.finality_depth = 5;
	rig_start(r);
	wait_observed(&r->o, 15);
	wait_polls(&r->f[0], 3);
	assert_observed_range(&r->o, 1, 15);
	/* the head moves, the finalized height does not: still bounded by it */
	fake_set(&r->f[0], 40, 18);
	wait_observed(&r->o, 18);
	wait_polls(&r->f[0], 3);
	assert_observed_range(&r->o, 1, 18);
	rig_stop(r);

	/* a head below the depth: nothing at all */
	fake_set(&r->f[0], 4, 4);
	rig_start(r);
	wait_polls(&r->f[0], 3);
	ck_assert_uint_eq(observed(&r->o), 0);
	rig_free(r);
}
END_TEST

START_TEST(test_majority_bound)
{
	/* three endpoints final at 8, 12, 20: a majority (two) has 12 final */
	struct rig *r = rig_new(3, 30, 8);
	fake_set(&r->f[1], 30, 12);
	fake_set(&r->f[2], 30, 20);
	rig_start(r);
	wait_observed(&r->o, 12);
	wait_polls(&r->f[0], 3);
	assert_observed_range(&r->o, 1, 12);
	rig_stop(r);

	/* the endpoint at 20 is down: the two left must both have it final,
	 * so 8 (an endpoint that does not answer counts against) */
	fake_set(&r->f[0], 30, 12);
	fake_set(&r->f[1], 30, 8);
	pthread_mutex_lock(&g_lock);
	r->f[2].head_err = -IST_ENET;
	pthread_mutex_unlock(&g_lock);
	rig_start(r);
	wait_observed(&r->o, 8);
	wait_polls(&r->f[0], 3);
	assert_observed_range(&r->o, 1, 8);
	ck_assert(rig_metric(r, RPC_ERRORS(2)) >= 1);
	ck_assert(rig_metric(r, RPC_ERRORS(0)) == 0);

	/* and two down of three: no majority, nothing more */
	pthread_mutex_lock(&g_lock);
	r->f[1].head_err = -IST_ETIMEOUT;
	pthread_mutex_unlock(&g_lock);
	fake_set(&r->f[0], 30, 30);
	wait_polls(&r->f[0], 3);
	ck_assert_uint_eq(observed(&r->o), 8);
	rig_free(r);
}
END_TEST

/* One liar of three, first in the list (so it is always asked): every kind
 * of lie is outvoted and the honest blocks are observed; a majority existed,
 * so no disagreement is counted. */
START_TEST(test_minority_liar)
{
	static const enum lie lies[] = { LIE_MESSAGE, LIE_ID, LIE_HASH, LIE_SRC };
	for (size_t li = 0; li < IST_ARRAY_SIZE(lies); li++) {
		struct rig *r = rig_new(3, 9, 9);
		r->f[0].lie = lies[li];
		rig_start(r);
		wait_observed(&r->o, 9);
		wait_polls(&r->f[1], 3);
		assert_observed_range(&r->o, 1, 9);
		ck_assert_msg(rig_metric(r, DISAGREEMENTS) == 0, "lie %d", lies[li]);
		/* ids and chains are checked by the watcher itself: bad answers */
		if (lies[li] == LIE_ID || lies[li] == LIE_SRC)
			ck_assert(rig_metric(r, RPC_ERRORS(0)) >= 1);
		rig_free(r);
	}
}
END_TEST

/* Two endpoints that disagree: no majority (both are needed), nothing is
 * observed from there on, the disagreement is counted, and the height is
 * asked again, not skipped: once the liar is fixed it is observed. */
START_TEST(test_two_disagree)
{
	struct rig *r = rig_new(2, 2, 2);
	rig_start(r);
	wait_observed(&r->o, 2);
	ck_assert(rig_metric(r, DISAGREEMENTS) == 0);

	fake_lie(&r->f[1], LIE_MESSAGE);
	fake_set(&r->f[0], 6, 6);
	fake_set(&r->f[1], 6, 6);
	wait_polls(&r->f[0], 4);
	assert_observed_range(&r->o, 1, 2);
	ck_assert(rig_metric(r, DISAGREEMENTS) >= 2);

	fake_lie(&r->f[1], LIE_NONE);
	wait_observed(&r->o, 6);
	wait_polls(&r->f[0], 3);
	assert_observed_range(&r->o, 1, 6);
	rig_free(r);
}
END_TEST

/* A reported id that is not the message's id is refused even from the only
 * endpoint; three endpoints with one honest and two with bad ids disagree. */
START_TEST(test_bad_id_rejected)
{
	struct rig *r = rig_new(1, 3, 3);
	r->f[0].lie = LIE_ID;
	rig_start(r);
	/* the endpoint is backed off after each bad answer: wait for answers,
	 * not polls; the third may still be in progress, two were counted */
	wait_block_calls(&r->f[0], 3);
	ck_assert_uint_eq(observed(&r->o), 0);
	ck_assert(rig_metric(r, RPC_ERRORS(0)) >= 2);
	/* one answer is not a disagreement */
	ck_assert(rig_metric(r, DISAGREEMENTS) == 0);
	fake_lie(&r->f[0], LIE_NONE);
	wait_observed(&r->o, 3);
	assert_observed_range(&r->o, 1, 3);
	rig_free(r);

	r = rig_new(3, 3, 3);
	r->f[1].lie = LIE_ID;
	r->f[2].lie = LIE_ID;
	rig_start(r);
	wait_block_calls(&r->f[2], 2);
	ck_assert_uint_eq(observed(&r->o), 0);
	ck_assert(rig_metric(r, DISAGREEMENTS) >= 1);
	rig_free(r);
}
END_TEST

/* A final block rewritten on the source: block 6 of the new history does not
 * extend the block observed at 5. The watcher halts, says why, counts it,
 * hands the violation to on_violation once, keeps polling and never
 * observes again. */
START_TEST(test_parent_break_halts)
{
	struct rig *r = rig_new(3, 5, 5);
	rig_start(r);
	wait_observed(&r->o, 5);

	pthread_mutex_lock(&g_lock);
	for (size_t i = 0; i < 3; i++) {
		r->f[i].variant = 1;
		r->f[i].fork_from = 5;   /* block 5 rewritten, and everything after it */
		r->f[i].head = 9;
		r->f[i].finalized = 9;
	}
	pthread_mutex_unlock(&g_lock);

	char why[256] = "";
	wait_halted(r->w, why, sizeof(why));
	ck_assert_msg(strstr(why, "finality violation") != NULL, "why: %s", why);
	ck_assert_msg(strstr(why, "block 6") != NULL, "why: %s", why);
	ck_assert(rig_metric(r, VIOLATIONS) == 1);
	/* on_violation had it once: the block observed at 5 and the parent
	 * block 6 names now */
	pthread_mutex_lock(&g_lock);
	ck_assert_uint_eq(r->o.violations, 1);
	ck_assert_uint_eq(r->o.violation.height, 5);
	ck_assert_uint_eq(r->o.heights[4], 5);
	ck_assert(!memcmp(r->o.violation.observed, r->o.hashes[4], 32));
	ck_assert(memcmp(r->o.violation.rewritten, r->o.hashes[4], 32) != 0);
	pthread_mutex_unlock(&g_lock);
	/* still polling, never observing */
	wait_polls(&r->f[0], 4);
	assert_observed_range(&r->o, 1, 5);
	ck_assert_uint_eq(ist_watcher_next_height(r->w), 6);
	ck_assert(rig_metric(r, VIOLATIONS) == 1);
	rig_free(r);
}
END_TEST

/* A full node queue: the same block again until it is taken. */
START_TEST(test_eagain_same_block)
{
	struct rig *r = rig_new(1, 4, 4);
	r->o.eagain_at = 2;
	r->o.eagain_left = 3;
	ck_assert_int_eq(ist_watcher_start(&r->cfg, &r->w), 0);
	wait_observed(&r->o, 4);
	wait_polls(&r->f[0], 2);
	assert_observed_range(&r->o, 1, 4);
	pthread_mutex_lock(&g_lock);
	size_t calls = r->o.calls;
	uint64_t ch[MAX_OBS];
	memcpy(ch, r->o.call_heights, sizeof(ch));
	pthread_mutex_unlock(&g_lock);
	static const uint64_t want[] = { 1, 2, 2, 2, 2, 3, 4 };
	ck_assert_uint_eq(calls, IST_ARRAY_SIZE(want));
	for (size_t i = 0; i < calls; i++)
		ck_assert_uint_eq(ch[i], want[i]);
	rig_free(r);
}
END_TEST

START_TEST(test_on_block_error_halts)
{
	struct rig *r = rig_new(1, 4, 4);
	r->o.fail_with = -IST_EIO;
	ck_assert_int_eq(ist_watcher_start(&r->cfg, &r->w), 0);
	char why[256] = "";
	wait_halted(r->w, why, sizeof(why));
	ck_assert_msg(strstr(why, "refused block 1") != NULL, "why: %s", why);
	wait_polls(&r->f[0], 3);
	rig_stop(r);
	ck_assert_uint_eq(r->o.calls, 1);
	ck_assert_uint_eq(r->o.n, 0);
	rig_free(r);
}
END_TEST

/* A restart resumes at next_height, checking it against the hash the node
 * kept; a wrong kept hash is a finality violation at once. */
START_TEST(test_restart_resumes)
{
	struct rig *r = rig_new(1, 5, 5);
	rig_start(r);
	wait_observed(&r->o, 5);
	rig_stop(r);
	uint8_t last[32];
	memcpy(last, r->o.hashes[4], 32);

	fake_set(&r->f[0], 10, 10);
	r->cfg.next_height = 6;
	memcpy(r->cfg.prev_hash, last, 32);
	r->cfg.has_prev_hash = true;
	rig_start(r);
	wait_observed(&r->o, 5);
	wait_polls(&r->f[0], 2);
	assert_observed_range(&r->o, 6, 10);
	ck_assert(!ist_watcher_halted(r->w, NULL, 0));
	rig_stop(r);

	/* the node kept another hash for 5 */
	r->cfg.prev_hash[0] ^= 1;
	rig_start(r);
	wait_halted(r->w, NULL, 0);
	ck_assert_uint_eq(observed(&r->o), 0);
	rig_stop(r);

	/* without a kept hash the first block is taken as it is */
	r->cfg.has_prev_hash = false;
	rig_start(r);
	wait_observed(&r->o, 5);
	assert_observed_range(&r->o, 6, 10);
	rig_free(r);
}
END_TEST

/* Stop is prompt even with an hour between polls: it wakes the wait. */
START_TEST(test_stop_wakes_long_poll)
{
	struct rig *r = rig_new(1, 2, 2);
	r->cfg.poll_ms = IST_WATCHER_MAX_POLL_MS;
	rig_start(r);
	wait_observed(&r->o, 2);
	rig_stop(r);   /* would take an hour without the condition variable */
	assert_observed_range(&r->o, 1, 2);
	rig_free(r);
}
END_TEST

START_TEST(test_start_invalid)
{
	struct rig *r = rig_new(IST_WATCHER_MAX_ADAPTERS, 2, 2);
	struct ist_watcher_config cfg = r->cfg;
	struct ist_watcher *w = NULL;
	cfg.n_adapters = 0;
	ck_assert_int_eq(ist_watcher_start(&cfg, &w), -IST_EINVAL);
	cfg.n_adapters = IST_WATCHER_MAX_ADAPTERS + 1;
	ck_assert_int_eq(ist_watcher_start(&cfg, &w), -IST_EINVAL);
	cfg.n_adapters = 1;
	cfg.on_block = NULL;
	ck_assert_int_eq(ist_watcher_start(&cfg, &w), -IST_EINVAL);
	cfg.on_block = on_block;
	cfg.poll_ms = 0;
	ck_assert_int_eq(ist_watcher_start(&cfg, &w), -IST_EINVAL);
	cfg.poll_ms = IST_WATCHER_MAX_POLL_MS + 1;
	ck_assert_int_eq(ist_watcher_start(&cfg, &w), -IST_EINVAL);
	cfg.poll_ms = 1;
	struct ist_chain_adapter *none[] = { NULL };
	cfg.adapters = none;
	ck_assert_int_eq(ist_watcher_start(&cfg, &w), -IST_EINVAL);
	ck_assert_ptr_null(w);
	/* sixteen is fine: nine must agree */
	rig_start(r);
	wait_observed(&r->o, 2);
	assert_observed_range(&r->o, 1, 2);
	rig_free(r);
	ist_watcher_stop(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chain-watcher");
	TCase *tc = tcase_create("watcher");
	tcase_add_unchecked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_in_order_once);
	tcase_add_test(tc, test_finalized_and_depth_bound);
	tcase_add_test(tc, test_majority_bound);
	tcase_add_test(tc, test_minority_liar);
	tcase_add_test(tc, test_two_disagree);
	tcase_add_test(tc, test_bad_id_rejected);
	tcase_add_test(tc, test_parent_break_halts);
	tcase_add_test(tc, test_eagain_same_block);
	tcase_add_test(tc, test_on_block_error_halts);
	tcase_add_test(tc, test_restart_resumes);
	tcase_add_test(tc, test_stop_wakes_long_poll);
	tcase_add_test(tc, test_start_invalid);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
