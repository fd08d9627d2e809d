#include "chain/watcher.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chain/internal.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "wire/canonical.h"

#define BACKOFF_MIN_MS 100
/* Heights observed in a row before the heads are asked again: a long
 * catch-up still notices a new head or a failing endpoint now and then. */
#define BATCH_MAX 64

struct endpoint {
	struct ist_chain_adapter *a;
	size_t index;
	char label[48];            /* the metrics label: "CHAIN/INDEX" */
	bool up;                   /* answered head in this poll and has not failed since */
	bool failing;              /* failed since its last good head (logs the transitions) */
	bool has_safe;
	uint64_t safe;             /* min(finalized, head - depth), when has_safe */
	uint64_t retry_at;         /* monotonic ms: skipped before */
	uint32_t backoff_ms;
	struct ist_chain_ratelimit rl_bad;
};

struct ist_watcher {
	struct ist_watcher_config cfg;  /* cfg.adapters points to adapters below */
	struct ist_chain_adapter *adapters[IST_WATCHER_MAX_ADAPTERS];
	struct endpoint ep[IST_WATCHER_MAX_ADAPTERS];
	size_t n;
	size_t majority;           /* n / 2 + 1 */
	char chain[24];            /* the metrics label and log prefix: the chain id */

	struct ist_metric *m_height, *m_disagree, *m_violations, *m_rpc_errors;

	pthread_mutex_t lock;
	pthread_cond_t cond;       /* signalled by stop; on CLOCK_MONOTONIC */
	pthread_t thread;
	/* under lock */
	bool stop;
	bool halted;
	char why[256];
	uint64_t next;             /* written by the thread only */

	/* the thread's own */
	uint8_t prev_hash[32];
	bool has_prev;
	struct ist_chain_block pending;  /* agreed and continuous; on_block said EAGAIN */
	bool has_pending;
	struct ist_chain_ratelimit rl_disagree;
};

/* ---- state shared with other threads ---------------------------------- */

static bool stopping(struct ist_watcher *w)
{
	pthread_mutex_lock(&w->lock);
	bool s = w->stop;
	pthread_mutex_unlock(&w->lock);
	return s;
}

static void halt(struct ist_watcher *w, const char *fmt, ...) IST_PRINTF(2, 3);
static void halt(struct ist_watcher *w, const char *fmt, ...)
{
	pthread_mutex_lock(&w->lock);
	if (!w->halted) {
		w->halted = true;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(w->why, sizeof(w->why), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&w->lock);
}

static bool is_halted(struct ist_watcher *w)
{
	return ist_watcher_halted(w, NULL, 0);
}

/* Waits ms or until stop; true when stopping. */
static bool sleep_or_stop(struct ist_watcher *w, uint32_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT)
			break;
	}
	bool s = w->stop;
	pthread_mutex_unlock(&w->lock);
	return s;
}

/* " (N more since the last warning)" for a rate-limited warning, or "". */
static const char *held_note(uint64_t held, char *buf, size_t len)
{
	if (held == 0)
		return "";
	snprintf(buf, len, " (%" PRIu64 " more since the last warning)", held);
	return buf;
}

/* ---- endpoints ---------------------------------------------------------- */

static void backoff(struct ist_watcher *w, struct endpoint *ep)
{
	uint32_t first = IST_MIN(IST_MAX(w->cfg.poll_ms, (uint32_t)BACKOFF_MIN_MS), (uint32_t)IST_WATCHER_BACKOFF_MAX_MS);
	ep->backoff_ms = ep->backoff_ms ? IST_MIN(ep->backoff_ms * 2, (uint32_t)IST_WATCHER_BACKOFF_MAX_MS) : first;
	ep->retry_at = ist_chain_mono_ms() + ep->backoff_ms;
}

/* A call that failed (the adapter logged why). Not found is an answer
 * ("not there"), not a sign of a dead endpoint: no back-off for it. */
static void rpc_failed(struct ist_watcher *w, struct endpoint *ep, const char *op, int err)
{
	ist_metric_inc(w->m_rpc_errors, ep->label);
	ep->up = false;
	if (err == -IST_ENOTFOUND) {
		ist_log_debug(IST_CHAIN_SUBSYS, "chain %s: endpoint %zu (%s): %s: %s", w->chain, ep->index, ep->a->url,
			      op, ist_strerror(err));
		return;
	}
	backoff(w, ep);
	if (!ep->failing) {
		ep->failing = true;
		ist_log_warn(IST_CHAIN_SUBSYS, "chain %s: endpoint %zu (%s) failing (%s: %s); retrying with back-off",
			     w->chain, ep->index, ep->a->url, op, ist_strerror(err));
	} else {
		ist_log_debug(IST_CHAIN_SUBSYS, "chain %s: endpoint %zu (%s): %s: %s; next try in %" PRIu32 " ms",
			      w->chain, ep->index, ep->a->url, op, ist_strerror(err), ep->backoff_ms);
	}
}

/* An answer that parsed but cannot be true: counted with the RPC errors,
 * logged (rate-limited), and the endpoint is not asked again this poll. */
static void bad_answer(struct ist_watcher *w, struct endpoint *ep, const char *fmt, ...) IST_PRINTF(3, 4);
static void bad_answer(struct ist_watcher *w, struct endpoint *ep, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ist_metric_inc(w->m_rpc_errors, ep->label);
	ep->up = false;
	backoff(w, ep);
	char note[64];
	uint64_t held;
	if (ist_chain_ratelimit_ok(&ep->rl_bad, ist_chain_mono_ms(), &held))
		ist_log_warn(IST_CHAIN_SUBSYS, "chain %s: endpoint %zu (%s): bad answer refused: %s%s", w->chain,
			     ep->index, ep->a->url, why, held_note(held, note, sizeof(note)));
	else
		ist_log_debug(IST_CHAIN_SUBSYS, "chain %s: endpoint %zu (%s): bad answer refused: %s", w->chain,
			      ep->index, ep->a->url, why);
}

/* Asks every endpoint that is not backed off for its head. */
static void poll_heads(struct ist_watcher *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct endpoint *ep = &w->ep[i];
		ep->up = false;
		if (ist_chain_mono_ms() < ep->retry_at || stopping(w))
			continue;
		uint64_t head = 0, fin = 0;
		int r = ep->a->ops->head(ep->a, &head, &fin);
		if (r < 0) {
			rpc_failed(w, ep, "head", r);
			continue;
		}
		if (fin > head) {
			bad_answer(w, ep, "finalized height %" PRIu64 " above head %" PRIu64, fin, head);
			continue;
		}
		if (ep->failing)
			ist_log_info(IST_CHAIN_SUBSYS, "chain %s: endpoint %zu (%s) answers again", w->chain, ep->index,
				     ep->a->url);
		ep->failing = false;
		ep->backoff_ms = 0;
		ep->retry_at = 0;
		ep->up = true;
		ep->has_safe = head >= w->cfg.finality_depth;
		ep->safe = ep->has_safe ? IST_MIN(fin, head - w->cfg.finality_depth) : 0;
	}
}

/* The highest height final for a majority: the majority-th highest bound
 * over the endpoints that answered (the others count against it). */
static bool final_bound(struct ist_watcher *w, uint64_t *ret)
{
	uint64_t v[IST_WATCHER_MAX_ADAPTERS];
	size_t k = 0;
	for (size_t i = 0; i < w->n; i++) {
		if (w->ep[i].up && w->ep[i].has_safe)
			v[k++] = w->ep[i].safe;
	}
	if (k < w->majority)
		return false;
	/* descending insertion sort of at most 16 */
	for (size_t i = 1; i < k; i++) {
		uint64_t x = v[i];
		size_t j = i;
		for (; j > 0 && v[j - 1] < x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	*ret = v[w->majority - 1];
	return true;
}

/* ---- blocks ------------------------------------------------------------- */

/* What the watcher checks of one endpoint's block by itself: the height
 * asked for, messages from this chain, and ids that are the messages' ids. */
static bool block_valid(struct ist_watcher *w, uint64_t h, const struct ist_chain_block *b, char *why, size_t len)
{
	if (b->height != h) {
		snprintf(why, len, "block at height %" PRIu64 " when %" PRIu64 " was asked for", b->height, h);
		return false;
	}
	if (b->n_msgs > 0 && (!b->msgs || !b->ids)) {
		snprintf(why, len, "block %" PRIu64 ": %zu messages without their arrays", h, b->n_msgs);
		return false;
	}
	for (size_t k = 0; k < b->n_msgs; k++) {
		const struct ist_message *m = &b->msgs[k];
		if (m->src_chain != w->cfg.chain_id) {
			snprintf(why, len, "block %" PRIu64 " message %zu: src_chain %" PRIu64 " is not chain %s", h, k,
				 m->src_chain, w->chain);
			return false;
		}
		uint8_t id[IST_HASH_BYTES];
		if (ist_wire_message_id(m, id) < 0) {
			snprintf(why, len, "block %" PRIu64 " message %zu: payload of %zu bytes over the limit", h, k,
				 m->payload_len);
			return false;
		}
		if (memcmp(id, b->ids[k], IST_HASH_BYTES) != 0) {
			char got[2 * IST_HASH_BYTES + 1], want[2 * IST_HASH_BYTES + 1];
			ist_hex_encode(b->ids[k], IST_HASH_BYTES, got);
			ist_hex_encode(id, IST_HASH_BYTES, want);
			snprintf(why, len, "block %" PRIu64 " message %zu: reported id %s is not its id %s", h, k, got,
				 want);
			return false;
		}
	}
	return true;
}

/*
 * Asks the endpoints for which h is final for block h until a majority of
 * all endpoints returned the same valid block. Out: *ret (the caller finis
 * it). Returns false when no majority agrees (yet).
 */
static bool agree(struct ist_watcher *w, uint64_t h, struct ist_chain_block *ret)
{
	struct ist_chain_block got[IST_WATCHER_MAX_ADAPTERS];
	size_t votes[IST_WATCHER_MAX_ADAPTERS];
	size_t nv = 0, bad = 0, best = 0;
	bool found = false;

	for (size_t i = 0; i < w->n && !found; i++) {
		struct endpoint *ep = &w->ep[i];
		if (!ep->up || !ep->has_safe || ep->safe < h || stopping(w))
			continue;
		struct ist_chain_block b;
		memset(&b, 0, sizeof(b));
		int r = ep->a->ops->block(ep->a, h, &b);
		if (r < 0) {
			rpc_failed(w, ep, "block", r);
			continue;
		}
		char why[200];
		if (!block_valid(w, h, &b, why, sizeof(why))) {
			bad_answer(w, ep, "%s", why);
			ist_chain_block_fini(&b);
			bad++;
			continue;
		}
		size_t j = 0;
		while (j < nv && !ist_chain_block_equal(&got[j], &b))
			j++;
		if (j < nv) {
			votes[j]++;
			ist_chain_block_fini(&b);
		} else {
			got[nv] = b;
			votes[nv++] = 1;
		}
		best = IST_MAX(best, votes[j]);
		if (votes[j] >= w->majority) {
			*ret = got[j];
			memset(&got[j], 0, sizeof(got[j]));
			found = true;
		}
	}
	for (size_t j = 0; j < nv; j++)
		ist_chain_block_fini(&got[j]);
	if (found)
		return true;

	/* Endpoints that answered differently, none with a majority: refused
	 * and asked again at the next poll. Too few answers is not a
	 * disagreement, only a wait. */
	if (nv + bad >= 2) {
		ist_metric_inc(w->m_disagree, w->chain);
		char note[64];
		uint64_t held;
		if (ist_chain_ratelimit_ok(&w->rl_disagree, ist_chain_mono_ms(), &held))
			ist_log_warn(IST_CHAIN_SUBSYS, "chain %s: endpoints disagree on block %" PRIu64
				     ": %zu different answers (%zu bad), at most %zu alike, %zu of %zu needed; "
				     "not observed, asking again%s", w->chain, h, nv + bad, bad, best, w->majority,
				     w->n, held_note(held, note, sizeof(note)));
		else
			ist_log_debug(IST_CHAIN_SUBSYS, "chain %s: endpoints disagree on block %" PRIu64, w->chain, h);
	}
	return false;
}

/* Block h must extend the block observed at h - 1. */
static bool continuous(struct ist_watcher *w, const struct ist_chain_block *b)
{
	if (!w->has_prev || memcmp(b->parent_hash, w->prev_hash, sizeof(w->prev_hash)) == 0)
		return true;
	char parent[65], prev[65];
	ist_hex_encode(b->parent_hash, 32, parent);
	ist_hex_encode(w->prev_hash, 32, prev);
	ist_log_error(IST_CHAIN_SUBSYS, "chain %s: FINALITY VIOLATION: a majority of endpoints gives block %" PRIu64
		      " the parent %s, but the block observed at %" PRIu64 " is %s: a final block was rewritten; "
		      "this chain is no longer observed", w->chain, b->height, parent, b->height - 1, prev);
	ist_metric_inc(w->m_violations, w->chain);
	if (w->cfg.on_violation && !is_halted(w)) {
		struct ist_watcher_violation v = { .height = b->height - 1 };
		memcpy(v.observed, w->prev_hash, sizeof(v.observed));
		memcpy(v.rewritten, b->parent_hash, sizeof(v.rewritten));
		w->cfg.on_violation(w->cfg.ctx, &v);
	}
	halt(w, "finality violation: block %" PRIu64 " has parent %.16s..., the block observed at %" PRIu64
	     " is %.16s...", b->height, parent, b->height - 1, prev);
	return false;
}

/* Hands the pending block to the node. Returns 0 (observed), -IST_EAGAIN
 * (keep it, try later) or the node's error (the watcher halts). */
static int deliver(struct ist_watcher *w)
{
	int r = w->cfg.on_block(w->cfg.ctx, &w->pending);
	if (r == -IST_EAGAIN)
		return r;
	uint64_t h = w->pending.height;
	if (r != 0) {
		if (r > 0)
			r = -IST_EINTERNAL;
		ist_log_error(IST_CHAIN_SUBSYS, "chain %s: the node refused block %" PRIu64 ": %s; this chain is no "
			      "longer observed", w->chain, h, ist_strerror(r));
		halt(w, "the node refused block %" PRIu64 ": %s", h, ist_strerror(r));
	} else {
		memcpy(w->prev_hash, w->pending.hash, sizeof(w->prev_hash));
		w->has_prev = true;
		pthread_mutex_lock(&w->lock);
		w->next = h + 1;
		pthread_mutex_unlock(&w->lock);
		ist_metric_set(w->m_height, w->chain, (double)h);
		ist_log_debug(IST_CHAIN_SUBSYS, "chain %s: observed block %" PRIu64 " (%zu messages)", w->chain, h,
			      w->pending.n_msgs);
		if (h == UINT64_MAX)
			halt(w, "height %" PRIu64 " observed: no height follows", h);
	}
	ist_chain_block_fini(&w->pending);
	w->has_pending = false;
	return r;
}

/* ---- the thread --------------------------------------------------------- */

/* One poll. Returns how long to wait before the next (0: at once). */
static uint32_t poll_once(struct ist_watcher *w)
{
	if (w->has_pending && deliver(w) != 0)
		return w->cfg.poll_ms;
	/* halted: the heads are still asked (the endpoints' metrics stay
	 * live), nothing is observed again */
	poll_heads(w);
	uint64_t bound;
	if (is_halted(w) || !final_bound(w, &bound))
		return w->cfg.poll_ms;
	for (unsigned k = 0; k < BATCH_MAX && w->next <= bound; k++) {
		if (stopping(w) || is_halted(w))
			return w->cfg.poll_ms;
		struct ist_chain_block b;
		if (!agree(w, w->next, &b))
			return w->cfg.poll_ms;
		if (!continuous(w, &b)) {
			ist_chain_block_fini(&b);
			return w->cfg.poll_ms;
		}
		w->pending = b;
		w->has_pending = true;
		if (deliver(w) != 0)
			return w->cfg.poll_ms;
	}
	return w->next <= bound ? 0 : w->cfg.poll_ms;
}

static void *run(void *arg)
{
	struct ist_watcher *w = arg;
	while (!stopping(w)) {
		uint32_t wait = poll_once(w);
		if (wait > 0 && sleep_or_stop(w, wait))
			break;
	}
	ist_chain_block_fini(&w->pending);
	w->has_pending = false;
	return NULL;
}

/* ---- lifecycle ---------------------------------------------------------- */

static void register_metrics(struct ist_watcher *w, struct ist_metrics *r)
{
	if (!r)
		return;
	w->m_height = ist_metrics_gauge(r, "isthmus_chain_observed_height",
					"Height of the last source-chain block observed as final, by chain.", "chain");
	w->m_disagree = ist_metrics_counter(r, "isthmus_chain_disagreements_total",
					    "Polls where a source chain's endpoints answered differently for a final "
					    "height and no majority agreed, by chain.", "chain");
	w->m_violations = ist_metrics_counter(r, "isthmus_chain_finality_violations_total",
					      "Final source-chain blocks found rewritten (a block whose parent is not "
					      "the block observed before it), by chain.", "chain");
	w->m_rpc_errors = ist_metrics_counter(r, "isthmus_chain_rpc_errors_total",
					      "Failed calls to source-chain endpoints and answers refused as bad, by "
					      "endpoint (CHAIN/INDEX: the chain id and the endpoint's position in "
					      "the chain's config).", "endpoint");
	if (!w->m_height || !w->m_disagree || !w->m_violations || !w->m_rpc_errors)
		ist_log_warn(IST_CHAIN_SUBSYS, "chain %s: some metrics could not be registered", w->chain);
}

int ist_watcher_start(const struct ist_watcher_config *cfg, struct ist_watcher **ret)
{
	if (!cfg || !ret || !cfg->adapters || cfg->n_adapters == 0 || cfg->n_adapters > IST_WATCHER_MAX_ADAPTERS ||
	    !cfg->on_block || cfg->poll_ms == 0 || cfg->poll_ms > IST_WATCHER_MAX_POLL_MS)
		return -IST_EINVAL;
	for (size_t i = 0; i < cfg->n_adapters; i++) {
		const struct ist_chain_adapter *a = cfg->adapters[i];
		if (!a || !a->ops || !a->ops->head || !a->ops->block)
			return -IST_EINVAL;
	}
	struct ist_watcher *w = calloc(1, sizeof(*w));
	if (!w)
		return -IST_ENOMEM;
	w->cfg = *cfg;
	w->n = cfg->n_adapters;
	memcpy(w->adapters, cfg->adapters, w->n * sizeof(w->adapters[0]));
	w->cfg.adapters = w->adapters;
	w->majority = w->n / 2 + 1;
	snprintf(w->chain, sizeof(w->chain), "%" PRIu64, cfg->chain_id);
	for (size_t i = 0; i < w->n; i++) {
		w->ep[i].a = w->adapters[i];
		w->ep[i].index = i;
		snprintf(w->ep[i].label, sizeof(w->ep[i].label), "%s/%zu", w->chain, i);
	}
	w->next = cfg->next_height;
	w->has_prev = cfg->has_prev_hash;
	memcpy(w->prev_hash, cfg->prev_hash, sizeof(w->prev_hash));

	register_metrics(w, cfg->metrics);
	if (cfg->next_height > 0)
		ist_metric_set(w->m_height, w->chain, (double)(cfg->next_height - 1));

	pthread_condattr_t ca;
	int r = -IST_EIO;
	if (pthread_mutex_init(&w->lock, NULL) != 0)
		goto fail_free;
	if (pthread_condattr_init(&ca) != 0)
		goto fail_mutex;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 || pthread_cond_init(&w->cond, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail_mutex;
	}
	pthread_condattr_destroy(&ca);
	/* before the thread starts: it owns w from then on */
	ist_log_info(IST_CHAIN_SUBSYS, "chain %s: watching from height %" PRIu64 " with %zu endpoints (%zu must agree), "
		     "finality depth %" PRIu64, w->chain, w->next, w->n, w->majority, cfg->finality_depth);
	if (pthread_create(&w->thread, NULL, run, w) != 0)
		goto fail_cond;
	*ret = w;
	return 0;
fail_cond:
	pthread_cond_destroy(&w->cond);
fail_mutex:
	pthread_mutex_destroy(&w->lock);
fail_free:
	free(w);
	return r;
}

void ist_watcher_stop(struct ist_watcher *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

bool ist_watcher_halted(struct ist_watcher *w, char *why, size_t whylen)
{
	pthread_mutex_lock(&w->lock);
	bool h = w->halted;
	if (h && why && whylen)
		snprintf(why, whylen, "%s", w->why);
	pthread_mutex_unlock(&w->lock);
	return h;
}

uint64_t ist_watcher_next_height(struct ist_watcher *w)
{
	pthread_mutex_lock(&w->lock);
	uint64_t n = w->next;
	pthread_mutex_unlock(&w->lock);
	return n;
}
