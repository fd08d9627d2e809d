/* The validator node: start-up, wiring and shutdown (node.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "crypto/crypto.h"
#include "crypto/keystore.h"
#include "node/datadir.h"
#include "node/frost.h"
#include "node/internal.h"
#include "storage/blocks.h"
#include "wire/canonical.h"

#define SUBSYS "node"

static void errf(char *buf, size_t len, const char *fmt, ...) IST_PRINTF(3, 4);
static void errf(char *buf, size_t len, const char *fmt, ...)
{
	if (!buf || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

void ist_node_genesis_block(const struct ist_node_genesis *g, struct ist_block *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->network_id = g->network_id;
	memcpy(ret->parent_id, g->hash, IST_HASH_BYTES);
	ret->timestamp_ms = g->genesis_time * 1000u;
}

/* ---- keys ---- */

/* The passphrase: the first line of key.passphrase_file, else
 * $ISTHMUS_PASSPHRASE. Out: *ret (sodium_malloc'd, NUL-terminated). */
static int passphrase_get(const struct ist_node_config *cfg, char **ret, size_t *ret_len, char *errbuf,
			  size_t errlen)
{
	char *p = sodium_malloc(IST_KEYSTORE_PASSPHRASE_MAX + 2);
	if (!p) {
		errf(errbuf, errlen, "out of memory");
		return -IST_ENOMEM;
	}
	size_t len = 0;
	if (cfg->passphrase_path) {
		int fd = open(cfg->passphrase_path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			errf(errbuf, errlen, "%s: cannot read the passphrase: %s", cfg->passphrase_path, strerror(e));
			sodium_free(p);
			return -IST_EPASSPHRASE;
		}
		for (;;) {
			ssize_t k = read(fd, p + len, IST_KEYSTORE_PASSPHRASE_MAX + 1 - len);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			len += (size_t)k;
			if (len >= IST_KEYSTORE_PASSPHRASE_MAX + 1)
				break;
		}
		close(fd);
		p[len] = '\0';
		char *nl = memchr(p, '\n', len);
		if (nl) {
			*nl = '\0';
			len = (size_t)(nl - p);
		}
		if (len && p[len - 1] == '\r')
			p[--len] = '\0';
		if (len > IST_KEYSTORE_PASSPHRASE_MAX || len == 0) {
			errf(errbuf, errlen, "%s: the first line must hold a passphrase of 1 to %d bytes",
			     cfg->passphrase_path, IST_KEYSTORE_PASSPHRASE_MAX);
			sodium_free(p);
			return -IST_EPASSPHRASE;
		}
	} else {
		const char *env = getenv("ISTHMUS_PASSPHRASE");
		if (!env || !*env) {
			errf(errbuf, errlen, "%s: key.passphrase_file is not set and ISTHMUS_PASSPHRASE is empty: "
			     "no passphrase for the keystore", cfg->config_path);
			sodium_free(p);
			return -IST_EPASSPHRASE;
		}
		len = strlen(env);
		if (len > IST_KEYSTORE_PASSPHRASE_MAX) {
			errf(errbuf, errlen, "ISTHMUS_PASSPHRASE: longer than %d bytes", IST_KEYSTORE_PASSPHRASE_MAX);
			sodium_free(p);
			return -IST_EPASSPHRASE;
		}
		memcpy(p, env, len + 1);
	}
	*ret = p;
	*ret_len = len;
	return 0;
}

static int keys_load(struct ist_node *n, char *errbuf, size_t errlen)
{
	char *pass = NULL;
	size_t pass_len = 0;
	int r = passphrase_get(&n->cfg, &pass, &pass_len, errbuf, errlen);
	if (r < 0)
		return r;
	struct ist_keyset *ks = NULL;
	r = ist_keystore_unlock(n->cfg.key_path, pass, pass_len, &ks, errbuf, errlen);
	sodium_free(pass);
	if (r < 0)
		return r;
	const struct ist_keyset_info *info = ist_keyset_info(ks);
	const struct ist_keystore_key *k = ist_keyset_info_find(info, IST_KEY_ED25519);
	if (!k || info->keys[0].type != IST_KEY_ED25519) {
		errf(errbuf, errlen, "%s: no Ed25519 node key", n->cfg.key_path);
		ist_keyset_free(ks);
		return -IST_EBADKEY;
	}
	n->seed = sodium_malloc(IST_ED25519_SEED_BYTES);
	if (!n->seed || (r = ist_keyset_unseal(ks)) < 0) {
		errf(errbuf, errlen, "cannot hold the node key in guarded memory");
		ist_keyset_free(ks);
		return -IST_ENOMEM;
	}
	memcpy(n->seed, ist_keyset_secret(ks, 0), IST_ED25519_SEED_BYTES);
	/* the attestation key (secp256k1) signs certificate shares */
	for (size_t i = 0; i < info->n_keys; i++) {
		if (info->keys[i].type != IST_KEY_SECP256K1)
			continue;
		n->att.seckey = sodium_malloc(IST_SECP_SECKEY_BYTES);
		if (!n->att.seckey) {
			ist_keyset_seal(ks);
			ist_keyset_free(ks);
			errf(errbuf, errlen, "cannot hold the attestation key in guarded memory");
			return -IST_ENOMEM;
		}
		memcpy(n->att.seckey, ist_keyset_secret(ks, i), IST_SECP_SECKEY_BYTES);
		n->att.has_seckey = true;
		break;
	}
	/* the DKG key (X25519) opens DKG shares and keeps FROST secrets at rest */
	for (size_t i = 0; i < info->n_keys; i++) {
		if (info->keys[i].type != IST_KEY_X25519)
			continue;
		if ((r = ist_node_frost_init(n, ist_keyset_secret(ks, i), errbuf, errlen)) < 0) {
			ist_keyset_seal(ks);
			ist_keyset_free(ks);
			return r;
		}
		break;
	}
	ist_keyset_seal(ks);
	uint8_t want[IST_ED25519_PUBKEY_BYTES];
	memcpy(want, k->pub, sizeof(want));   /* k borrows from ks */
	ist_keyset_free(ks);
	if ((r = ist_ed25519_pubkey(n->seed, n->pub)) < 0 || memcmp(n->pub, want, IST_ED25519_PUBKEY_BYTES) != 0) {
		errf(errbuf, errlen, "%s: the node key does not match its public key", n->cfg.key_path);
		return -IST_EBADKEY;
	}
	return 0;
}

/* ---- the transport's callbacks (NNG threads: enqueue only) ---- */

static void on_envelope(void *ctx, uint32_t peer, const uint8_t pub32[IST_ED25519_PUBKEY_BYTES],
			struct ist_envelope *env)
{
	(void)pub32;
	struct ist_node *n = ctx;
	if (!ist_node_queue_push(&n->q, peer, env)) {
		ist_metric_inc(n->m_queue_dropped, NULL);
		ist_wire_envelope_free(env);
	}
}

static void on_peer(void *ctx, uint32_t peer, const uint8_t pub32[IST_ED25519_PUBKEY_BYTES], bool connected)
{
	(void)pub32;
	struct ist_node *n = ctx;
	const char *name = peer < n->g.n_validators ? n->g.validators[peer].name : "?";
	ist_log_info("net", "peer %" PRIu32 " (%s) %s", peer, name, connected ? "connected" : "disconnected");
}

/* ---- lifecycle ---- */

static int metrics_setup(struct ist_node *n)
{
	static const double lat_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };
	struct ist_metrics *m = n->metrics;
	n->m_height = ist_metrics_gauge(m, "isthmus_height", "Height of the last committed block.", NULL);
	n->m_view = ist_metrics_gauge(m, "isthmus_view", "Current consensus view.", NULL);
	n->m_commits = ist_metrics_counter(m, "isthmus_commits_total", "Blocks committed by this node.", NULL);
	n->m_timeouts = ist_metrics_counter(m, "isthmus_timeouts_total",
					    "Views this node timed out in (timeout messages signed).", NULL);
	n->m_latency = ist_metrics_histogram(m, "isthmus_commit_latency_seconds",
					     "Time from a block's timestamp to its commit on this node.", NULL, lat_bounds,
					     IST_ARRAY_SIZE(lat_bounds));
	n->m_db_bytes = ist_metrics_gauge(m, "isthmus_db_bytes", "Bytes of the LMDB map in use.", NULL);
	n->m_drops = ist_metrics_counter(m, "isthmus_consensus_dropped_total",
					 "Consensus events the core dropped, by reason.", "reason");
	n->m_queue_dropped = ist_metrics_counter(m, "isthmus_node_queue_dropped_total",
						 "Envelopes dropped because the consensus queue was full.", NULL);
	n->m_txs = ist_metrics_counter(m, "isthmus_ledger_transactions_total",
				       "Committed transactions applied by the ledger, by result.", "result");
	n->m_evidence_applied = ist_metrics_counter(m, "isthmus_ledger_evidence_total",
						    "Committed evidence items the ledger judged.", NULL);
	n->m_evidence_sent = ist_metrics_counter(m, "isthmus_ledger_evidence_submitted_total",
						 "Evidence of equivocation this node found and put in its mempool.", NULL);
	n->m_epoch = ist_metrics_gauge(m, "isthmus_epoch", "Current epoch.", NULL);
	struct ist_node_attest *a = &n->att;
	a->m_observed = ist_metrics_gauge(m, "isthmus_attest_observed_height",
					  "Last source height this node's watcher observed, by chain.", "chain");
	a->m_ignored = ist_metrics_counter(m, "isthmus_attest_messages_ignored_total",
					   "Source messages not attested, by reason.", "reason");
	a->m_evidence = ist_metrics_counter(m, "isthmus_attest_evidence_total",
					    "Conflicting signed checkpoints kept as evidence, by kind.", "kind");
	a->m_held = ist_metrics_gauge(m, "isthmus_route_held_messages",
				      "Observed messages the route's limits hold (at the observed source height), by route.",
				      "route");
	a->m_held_value = ist_metrics_gauge(m, "isthmus_route_held_value",
					    "Declared value of the messages the route's limits hold, by route.", "route");
	a->m_refused = ist_metrics_counter(m, "isthmus_attest_refused_total",
					   "Committed blocks this node refused to sign (its watcher disagrees).", NULL);
	a->m_signed = ist_metrics_counter(m, "isthmus_attest_signed_total",
					  "Batch roots this node signed.", NULL);
	a->m_shares = ist_metrics_counter(m, "isthmus_attest_shares_total",
					  "Signature shares received, by outcome.", "outcome");
	a->m_certs = ist_metrics_counter(m, "isthmus_attest_certificates_total",
					 "Certificates this node formed.", NULL);
	if (!n->m_height || !n->m_view || !n->m_commits || !n->m_timeouts || !n->m_latency || !n->m_db_bytes ||
	    !n->m_drops || !n->m_queue_dropped || !a->m_observed || !a->m_ignored || !a->m_evidence || !a->m_refused ||
	    !a->m_signed || !a->m_shares || !a->m_certs || ist_node_breaker_metrics_init(n) < 0)
		return -IST_ENOMEM;
	ist_metric_add(a->m_evidence, "checkpoint", 0);
	ist_metric_add(a->m_shares, "valid", 0);
	ist_metric_add(a->m_shares, "invalid", 0);
	return 0;
}

int ist_node_new(const struct ist_node_options *opts, struct ist_node **ret, char *errbuf, size_t errlen)
{
	if (!opts || !opts->home || !ret)
		return -IST_EINVAL;
	int r = ist_crypto_init();
	if (r < 0) {
		errf(errbuf, errlen, "cannot initialise the crypto libraries: %s", ist_strerror(r));
		return r;
	}
	struct ist_node *n = calloc(1, sizeof(*n));
	if (!n) {
		errf(errbuf, errlen, "out of memory");
		return -IST_ENOMEM;
	}
	n->opts = *opts;
	pthread_mutex_init(&n->st_mu, NULL);
	pthread_mutex_init(&n->ledger_mu, NULL);
	pthread_mutex_init(&n->brk_mu, NULL);
	if (!(n->seen_votes = calloc(IST_NODE_SEEN_VOTES, sizeof(*n->seen_votes)))) {
		free(n);
		errf(errbuf, errlen, "out of memory");
		return -IST_ENOMEM;
	}
	pthread_mutex_init(&n->ev.mu, NULL);
	randombytes_buf(&n->ev.boot, sizeof(n->ev.boot));
	ist_node_config_init(&n->cfg);
	ist_node_genesis_init(&n->g);
	if ((r = ist_node_queue_init(&n->q, IST_NODE_QUEUE_DEFAULT_CAP)) < 0) {
		errf(errbuf, errlen, "out of memory");
		goto fail;
	}

	struct ist_json_err nerr;
	memset(&nerr, 0, sizeof(nerr));
	if ((r = ist_node_home_load(opts->home, &n->cfg, &n->g, &n->ident, &nerr)) < 0) {
		ist_json_err_format(&nerr, errbuf, errlen);
		goto fail;
	}
	const char *level = opts->log_level ? opts->log_level : n->cfg.log_level;
	if ((r = ist_log_configure(level)) < 0) {
		errf(errbuf, errlen, "--log-level: invalid level spec \"%s\" (error|warn|info|debug|trace, "
		     "optionally followed by ,SUBSYS=LEVEL)", level);
		goto fail;
	}
	ist_log_set_format(n->cfg.log_format);
	if (n->cfg.role != IST_NODE_ROLE_VALIDATOR || !n->ident.validator) {
		errf(errbuf, errlen, "%s: role: \"%s\" nodes are not supported by isthmusd yet (use \"validator\")",
		     n->cfg.config_path, ist_node_role_name(n->cfg.role));
		r = -IST_EUNSUPPORTED;
		goto fail;
	}

	/* the store first: a second isthmusd on this home stops here, before
	 * spending time on the key derivation */
	if ((r = ist_node_store_open(&n->cfg, &n->g, false, &n->store, errbuf, errlen)) < 0)
		goto fail;
	if ((r = keys_load(n, errbuf, errlen)) < 0)
		goto fail;
	long gi = ist_node_genesis_find(&n->g, n->pub);
	if (gi >= 0 && gi != (long)n->ident.index) {
		errf(errbuf, errlen, "%s: the node key is validator %ld of %s, not %zu", n->cfg.key_path, gi,
		     n->cfg.genesis_path, n->ident.index);
		r = -IST_ECONFIG;
		goto fail;
	}

	/* the genesis block; the current epoch comes from the ledger
	 * (ist_node_core_load) */
	n->epoch = calloc(1, sizeof(*n->epoch));
	if (!n->epoch) {
		r = -IST_ENOMEM;
		errf(errbuf, errlen, "out of memory");
		goto fail;
	}
	ist_node_genesis_block(&n->g, &n->genesis);
	if ((r = ist_wire_block_id(&n->genesis, n->genesis_id)) < 0) {
		errf(errbuf, errlen, "cannot hash the genesis block: %s", ist_strerror(r));
		goto fail;
	}

	struct ist_mempool_config mc = { .max_items = n->cfg.mempool.max_items,
					 .max_bytes = n->cfg.mempool.max_bytes,
					 .max_per_sender = n->cfg.mempool.max_per_sender };
	if ((r = ist_mempool_new(&mc, &n->mempool)) < 0) {
		errf(errbuf, errlen, "out of memory");
		goto fail;
	}
	n->metrics = ist_metrics_new();
	if (!n->metrics || (r = metrics_setup(n)) < 0) {
		r = -IST_ENOMEM;
		errf(errbuf, errlen, "cannot set up the metrics registry");
		goto fail;
	}
	if ((r = ist_node_attest_init(n, errbuf, errlen)) < 0 || (r = ist_node_core_load(n, errbuf, errlen)) < 0)
		goto fail;
	*ret = n;
	return 0;
fail:
	ist_node_free(n);
	return r;
}

int ist_node_start(struct ist_node *n, char *errbuf, size_t errlen)
{
	int r;
	struct ist_net_peer *peers = calloc(n->g.n_validators, sizeof(*peers));
	if (!peers) {
		errf(errbuf, errlen, "out of memory");
		return -IST_ENOMEM;
	}
	for (size_t i = 0; i < n->g.n_validators; i++) {
		const struct ist_node_validator *v = &n->g.validators[i];
		peers[i].index = (uint32_t)i;
		memcpy(peers[i].pubkey, v->node_key, IST_ED25519_PUBKEY_BYTES);
		const char *url = v->address;
		for (size_t k = 0; k < n->cfg.n_peers; k++)
			if (memcmp(n->cfg.peers[k].node_key, v->node_key, IST_ED25519_PUBKEY_BYTES) == 0)
				url = n->cfg.peers[k].address;
		snprintf(peers[i].url, sizeof(peers[i].url), "%s", url);
	}
	struct ist_net_config nc = { 0 };
	nc.listen_url = n->cfg.listen;
	nc.network_id = n->g.network_id;
	memcpy(nc.genesis_hash, n->g.hash, IST_HASH_BYTES);
	nc.node_seed = n->seed;
	nc.peers = peers;
	nc.n_peers = n->g.n_validators;
	nc.limits.max_message_bytes = n->cfg.limits.max_frame_bytes;
	nc.limits.rate_frames_per_sec = n->cfg.limits.max_peer_msgs_per_sec;
	nc.limits.burst_frames = n->cfg.limits.max_peer_burst;
	struct ist_net_hooks hooks = { .on_envelope = on_envelope, .on_peer = on_peer, .ctx = n };
	char nerr[512] = "";
	r = ist_net_new(&nc, ist_clock_system(), NULL, n->metrics, &hooks, &n->net, nerr, sizeof(nerr));
	free(peers);
	if (r < 0) {
		errf(errbuf, errlen, "%s: listen: %s", n->cfg.config_path, nerr[0] ? nerr : ist_strerror(r));
		return r;
	}
	/* the current set and the registered validators, from the ledger */
	ist_node_peers_update(n);
	if ((r = ist_net_start(n->net, nerr, sizeof(nerr))) < 0) {
		errf(errbuf, errlen, "%s: listen: cannot listen on %s: %s", n->cfg.config_path, n->cfg.listen,
		     nerr[0] ? nerr : ist_strerror(r));
		return r;
	}

	struct ist_api_config ac = { .listen_url = n->cfg.api };
	struct ist_api_source src;
	ist_node_api_source(n, &src);
	n->api = ist_api_new(&ac, &src, n->cfg.metrics_enabled ? n->metrics : NULL, nerr, sizeof(nerr));
	if (!n->api) {
		errf(errbuf, errlen, "%s: api: %s", n->cfg.config_path, nerr);
		return -IST_EINVAL;
	}
	if ((r = ist_api_start(n->api, nerr, sizeof(nerr))) < 0) {
		errf(errbuf, errlen, "%s: api: cannot listen on %s: %s", n->cfg.config_path, n->cfg.api,
		     nerr[0] ? nerr : ist_strerror(r));
		return r;
	}

	if (pthread_create(&n->thread, NULL, ist_node_loop, n) != 0) {
		errf(errbuf, errlen, "cannot start the consensus thread");
		return -IST_ENOMEM;
	}
	n->thread_started = true;
	if ((r = ist_node_chains_start(n, errbuf, errlen)) < 0)
		return r;
	char key[2 * IST_ED25519_PUBKEY_BYTES + 1];
	ist_hex_encode(n->pub, IST_ED25519_PUBKEY_BYTES, key);
	ist_log_info(SUBSYS, "started %s (node key %.16s..., %s) chain %s, p2p %s, api %s, height %" PRIu64 ", epoch %" PRIu64,
		     n->cfg.moniker, key, ist_cons_self(n->core) == IST_CONS_OBSERVER ? "not in the current set" : "in the current set",
		     n->g.chain_id, n->cfg.listen, n->cfg.api, ist_cons_committed_height(n->core), n->epoch->number);
	return 0;
}

void ist_node_stop(struct ist_node *n)
{
	if (n)
		ist_node_queue_stop(&n->q);
}

int ist_node_free(struct ist_node *n)
{
	if (!n)
		return 0;
	/* the watchers first: they feed the queue */
	ist_node_chains_stop(n);
	ist_node_queue_stop(&n->q);
	if (n->thread_started)
		pthread_join(n->thread, NULL);
	int r = n->fatal;
	ist_api_free(n->api);
	ist_net_free(n->net);
	ist_node_queue_fini(&n->q);
	ist_mempool_free(n->mempool);
	ist_cons_free(n->core);
	for (size_t i = 0; i < n->batch.len; i++) {
		ist_wire_block_free(n->batch.v[i].block);
		free(n->batch.v[i].enc);
		free(n->batch.v[i].qc_enc);
	}
	free(n->batch.v);
	free(n->iev);
	ist_store_close(n->store);
	ist_metrics_free(n->metrics);
	free(n->epoch);
	ist_ledger_free(n->ledger);
	free(n->seen_votes);
	pthread_mutex_destroy(&n->ledger_mu);
	pthread_mutex_destroy(&n->brk_mu);
	if (n->seed)
		sodium_free(n->seed);   /* wipes */
	if (n->att.seckey)
		sodium_free(n->att.seckey);
	ist_node_frost_fini(n);
	ist_node_attest_fini(n);
	ist_node_config_fini(&n->cfg);
	ist_node_genesis_fini(&n->g);
	pthread_mutex_destroy(&n->st_mu);
	pthread_mutex_destroy(&n->ev.mu);
	free(n);
	return r;
}
