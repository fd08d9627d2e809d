/*
 * The node's side of the automatic circuit breakers (state/breaker.h): a
 * watcher that halts on a finality violation hands it here (on its own
 * thread); before this node proposes, the consensus thread signs a finality
 * report (state/evidence.h, kind 3) with the node key and puts it in the
 * mempool, again each time the ledger would still count it: the mempool
 * offers an item again when its proposal failed, and once the report is
 * committed (or governance resumed the chain from this violation) the
 * ledger refuses it and nothing more is sent. After a
 * restart the watcher meets the violation again at the same height, and
 * the same report (Ed25519 is deterministic) is refused as counted.
 *
 * Metrics:
 *   isthmus_breaker_reports_total{chain}   reports this node put in its mempool
 *   isthmus_breaker_reporters{chain}       reports the ledger counts for the chain
 *   isthmus_breaker_tripped{chain}         1 while the chain's breaker is tripped
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "node/internal.h"
#include "state/breaker.h"
#include "state/evidence.h"

#define SUBSYS "breaker"

int ist_node_breaker_metrics_init(struct ist_node *n)
{
	struct ist_metrics *m = n->metrics;
	n->m_breaker_reports = ist_metrics_counter(m, "isthmus_breaker_reports_total",
						   "Finality reports this node put in its mempool, by chain.", "chain");
	n->m_breaker_reporters = ist_metrics_gauge(m, "isthmus_breaker_reporters",
						   "Finality reports the ledger counts towards the chain's breaker.", "chain");
	n->m_breaker_tripped = ist_metrics_gauge(m, "isthmus_breaker_tripped",
						 "1 while the chain's automatic circuit breaker is tripped (the chain is paused).",
						 "chain");
	return n->m_breaker_reports && n->m_breaker_reporters && n->m_breaker_tripped ? 0 : -IST_ENOMEM;
}

void ist_node_breaker_violation(void *ctx, const struct ist_watcher_violation *v)
{
	struct ist_node_watch *w = ctx;
	struct ist_node *n = w->n;
	size_t i = (size_t)(w - n->watch);
	pthread_mutex_lock(&n->brk_mu);
	if (!n->violations[i].set) {
		n->violations[i].set = true;
		n->violations[i].v = *v;
	}
	pthread_mutex_unlock(&n->brk_mu);
}

static void chain_label(uint64_t chain, char label[24])
{
	snprintf(label, 24, "%" PRIu64, chain);
}

/* Signs and submits the report of chain index i's violation while the
 * ledger would count it. */
static void report(struct ist_node *n, size_t i, const struct ist_watcher_violation *v)
{
	uint64_t chain = n->att.chains[i].id;
	struct ist_evidence ev = { .kind = IST_EVIDENCE_FINALITY_REPORT };
	ev.u.report.network_id = n->g.network_id;
	ev.u.report.chain = chain;
	ev.u.report.height = v->height;
	memcpy(ev.u.report.observed, v->observed, IST_HASH_BYTES);
	memcpy(ev.u.report.rewritten, v->rewritten, IST_HASH_BYTES);
	memcpy(ev.u.report.reporter, n->pub, IST_ED25519_PUBKEY_BYTES);
	uint8_t m[IST_EVIDENCE_REPORT_SIGNING_BYTES];
	ist_evidence_report_signing_bytes(&ev, m);
	if (ist_node_sign(n, m, sizeof(m), ev.u.report.sig) < 0)
		return;
	struct ist_buf b;
	ist_buf_init(&b, 0);
	char why[IST_LEDGER_REASON_MAX];
	int r = ist_evidence_encode(&ev, &b);
	if (r == 0) {
		pthread_mutex_lock(&n->ledger_mu);
		r = ist_ledger_evidence_check(n->ledger, b.data, b.len, why, sizeof(why));
		pthread_mutex_unlock(&n->ledger_mu);
	}
	struct ist_payload_item it = { .kind = IST_PAYLOAD_EVIDENCE };
	uint8_t id[IST_HASH_BYTES];
	if (r < 0 || !(it.u.opaque.data = malloc(b.len))) {
		ist_buf_fini(&b);
		return;   /* counted already, or stale: nothing to say */
	}
	memcpy(it.u.opaque.data, b.data, b.len);
	it.u.opaque.len = b.len;
	ist_buf_fini(&b);
	if (ist_mempool_item_id(&it, id) < 0 || ist_mempool_has(n->mempool, id)) {
		ist_wire_payload_item_fini(&it);
		return;   /* waiting for its proposal to commit */
	}
	r = ist_mempool_add(n->mempool, &it);
	ist_wire_payload_item_fini(&it);
	if (r < 0) {
		ist_log_warn(SUBSYS, "chain %" PRIu64 ": cannot put the finality report in the mempool (%s): trying "
			     "again when this node next proposes", chain, ist_strerror(r));
		return;
	}
	char label[24];
	chain_label(chain, label);
	ist_metric_inc(n->m_breaker_reports, label);
	if (!n->violations[i].noted) {
		n->violations[i].noted = true;
		char hex[2 * IST_HASH_BYTES + 1];
		ist_hex_encode(id, IST_HASH_BYTES, hex);
		ist_log_warn(SUBSYS, "chain %" PRIu64 ": finality violation at source height %" PRIu64
			     ": finality report %.16s... submitted for the next block this node proposes (the chain "
			     "pauses when reports of more than 1/3 of the stake are committed)", chain, v->height, hex);
	}
}

void ist_node_breaker_poll(struct ist_node *n)
{
	for (size_t i = 0; i < n->att.n_chains; i++) {
		pthread_mutex_lock(&n->brk_mu);
		bool set = n->violations[i].set;
		struct ist_watcher_violation v = n->violations[i].v;
		pthread_mutex_unlock(&n->brk_mu);
		if (set)
			report(n, i, &v);
	}
}

void ist_node_breaker_metrics(struct ist_node *n)
{
	pthread_mutex_lock(&n->ledger_mu);
	const struct ist_breaker *b = ist_ledger_breaker(n->ledger);
	for (size_t i = 0; i < n->att.n_chains; i++) {
		const struct ist_breaker_chain *c = ist_breaker_chain_get(b, n->att.chains[i].id);
		char label[24];
		chain_label(n->att.chains[i].id, label);
		ist_metric_set(n->m_breaker_tripped, label, c && c->tripped ? 1 : 0);
		ist_metric_set(n->m_breaker_reporters, label, c ? c->n_reports : 0);
	}
	pthread_mutex_unlock(&n->ledger_mu);
}
