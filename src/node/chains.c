/*
 * The node's watchers: one per chain of the genesis, over the RPC URLs of
 * config.json (chain/watcher.h), started after the consensus thread and
 * stopped before it. Their observations go to the consensus thread through
 * its queue (attest.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/devchain.h"
#include "chain/watcher.h"
#include "common/err.h"
#include "common/log.h"
#include "node/internal.h"

#define SUBSYS "chain"
#define RPC_TIMEOUT_MS 5000

/* On the watcher's thread: copy the block into an observation and queue it. */
static int on_block(void *ctx, const struct ist_chain_block *b)
{
	struct ist_node_watch *w = ctx;
	struct ist_node_obs *o = calloc(1, sizeof(*o));
	if (!o)
		return -IST_EAGAIN;
	o->chain = w->chain;
	o->height = b->height;
	memcpy(o->hash, b->hash, IST_HASH_BYTES);
	if (b->n_msgs) {
		o->msgs = calloc(b->n_msgs, sizeof(*o->msgs));
		if (!o->msgs) {
			free(o);
			return -IST_EAGAIN;
		}
	}
	for (size_t i = 0; i < b->n_msgs; i++) {
		o->msgs[i] = b->msgs[i];
		o->msgs[i].payload = NULL;
		if (b->msgs[i].payload_len) {
			o->msgs[i].payload = malloc(b->msgs[i].payload_len);
			if (!o->msgs[i].payload) {
				o->n_msgs = i;
				ist_node_obs_free(o);
				return -IST_EAGAIN;
			}
			memcpy(o->msgs[i].payload, b->msgs[i].payload, b->msgs[i].payload_len);
		}
		o->n_msgs = i + 1;
	}
	if (!ist_node_queue_push_obs(&w->n->q, o)) {
		ist_node_obs_free(o);
		return -IST_EAGAIN;   /* the watcher offers it again */
	}
	return 0;
}

int ist_node_chains_start(struct ist_node *n, char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < n->att.n_chains; i++) {
		struct ist_node_watch *w = &n->watch[i];
		const struct ist_node_chain_rpc *rpc = NULL;
		for (size_t k = 0; k < n->cfg.n_chains; k++)
			if (n->cfg.chains[k].id == n->att.chains[i].id)
				rpc = &n->cfg.chains[k];
		if (!rpc)
			continue;   /* checked at load for validators */
		w->n = n;
		w->chain = rpc->id;
		for (size_t k = 0; k < rpc->n_rpc; k++) {
			int r = ist_chain_devchain_new(rpc->rpc[k], rpc->id, RPC_TIMEOUT_MS, &w->adapters[k], errbuf,
						       errlen);
			if (r < 0)
				return r;
			w->n_adapters = k + 1;
		}
		struct ist_watcher_config wc = {
			.chain_id = rpc->id,
			.adapters = w->adapters,
			.n_adapters = w->n_adapters,
			.finality_depth = rpc->finality_depth,
			.poll_ms = rpc->poll_ms,
			.next_height = n->att.chains[i].observed + 1,
			.has_prev_hash = n->att.chains[i].observed > 0,
			.on_block = on_block,
			.on_violation = ist_node_breaker_violation,
			.ctx = w,
			.metrics = n->metrics,
		};
		memcpy(wc.prev_hash, n->att.chains[i].hash, IST_HASH_BYTES);
		int r = ist_watcher_start(&wc, &w->watcher);
		if (r < 0) {
			snprintf(errbuf, errlen, "chain %" PRIu64 ": cannot start its watcher: %s", rpc->id, ist_strerror(r));
			return r;
		}
		ist_log_info(SUBSYS, "watching chain %" PRIu64 " (%s) from height %" PRIu64 " through %zu RPC URL(s)",
			     rpc->id, n->g.chains[i].name, wc.next_height, w->n_adapters);
	}
	return 0;
}

void ist_node_chains_stop(struct ist_node *n)
{
	for (size_t i = 0; i < IST_NODE_MAX_CHAINS; i++) {
		struct ist_node_watch *w = &n->watch[i];
		if (w->watcher)
			ist_watcher_stop(w->watcher);
		w->watcher = NULL;
		for (size_t k = 0; k < w->n_adapters; k++)
			if (w->adapters[k])
				ist_chain_adapter_destroy(w->adapters[k]);
		w->n_adapters = 0;
	}
}
