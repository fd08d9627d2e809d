/*
 * The application side of consensus: what a block may carry (the core's
 * validate callback), what this node proposes when it leads, and what it
 * accepts from the API into its mempool.
 *
 * A block may carry route checkpoints (checked against this node's own
 * watcher, node/attest.h), signed transactions (checked for network and
 * signature; the ledger's own rules come with it) and application data;
 * nothing else yet.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "node/internal.h"
#include "state/evidence.h"
#include "wire/canonical.h"
#include "wire/codec.h"

#define SUBSYS "node"

/* What a proposer leaves free in max_block_bytes for the block's header,
 * its justify QC and the protobuf framing of its items, so that the encoded
 * block stays within the limit the validators check (the canonical payload
 * within max_block_bytes) and within the wire's. */
#define BLOCK_OVERHEAD_BYTES (IST_WIRE_MAX_QC_BYTES + 8192)

int ist_node_tx_check(const struct ist_node *n, const struct ist_tx *tx, char *why, size_t why_len)
{
	if (tx->network_id != n->g.network_id) {
		snprintf(why, why_len, "transaction for network %" PRIu64 ", this is network %" PRIu64, tx->network_id,
			 n->g.network_id);
		return -IST_EINVAL;
	}
	uint8_t msg[IST_WIRE_MAX_TX_SIGNING_BYTES];
	size_t len = sizeof(msg);
	int r = ist_wire_tx_signing_bytes(tx, msg, &len);
	if (r < 0) {
		snprintf(why, why_len, "transaction cannot be encoded: %s", ist_strerror(r));
		return r;
	}
	if (!ist_ed25519_verify(tx->sender, msg, len, tx->signature)) {
		snprintf(why, why_len, "transaction signature does not verify with the sender's key");
		return -IST_EBADSIG;
	}
	return 0;
}

/* Whether `chain` is a chain of the genesis (what a finality report may
 * name: a block with another is invalid, so the API refuses it too). */
static bool genesis_chain(const struct ist_node *n, uint64_t chain)
{
	for (size_t i = 0; i < n->g.n_chains; i++)
		if (n->g.chains[i].id == chain)
			return true;
	return false;
}

enum ist_cons_verdict ist_node_validate(void *ctx, const struct ist_block *b)
{
	struct ist_node *n = ctx;
	char why[160];
	size_t bytes = 4;
	if (b->n_items > n->g.consensus.max_block_items) {
		ist_log_warn(SUBSYS, "block %" PRIu64 " view %" PRIu64 ": %zu items, the genesis allows %" PRIu32,
			     b->height, b->view, b->n_items, n->g.consensus.max_block_items);
		return IST_CONS_INVALID;
	}
	for (size_t i = 0; i < b->n_items; i++) {
		const struct ist_payload_item *it = &b->items[i];
		bytes += ist_mempool_item_bytes(it);
		switch (it->kind) {
		case IST_PAYLOAD_TRANSACTION:
			if (ist_node_tx_check(n, &it->u.tx, why, sizeof(why)) < 0) {
				ist_log_warn(SUBSYS, "block %" PRIu64 " view %" PRIu64 " item %zu: %s", b->height, b->view,
					     i, why);
				return IST_CONS_INVALID;
			}
			break;
		case IST_PAYLOAD_DATA:
		case IST_PAYLOAD_CHECKPOINT:
			break;
		case IST_PAYLOAD_EVIDENCE: {
			/* the shape here; the ledger judges it when it commits
			 * (a refused item is recorded, not a reason to stall) */
			struct ist_evidence ev;
			const char *ewhy = NULL;
			if (ist_evidence_decode(it->u.opaque.data, it->u.opaque.len, &ev, &ewhy) < 0) {
				ist_log_warn(SUBSYS, "block %" PRIu64 " view %" PRIu64 " item %zu: malformed evidence (%s)",
					     b->height, b->view, i, ewhy ? ewhy : "?");
				return IST_CONS_INVALID;
			}
			/* a finality report names a chain of this network (the
			 * ledger does not know the genesis chains) */
			if (ev.kind == IST_EVIDENCE_FINALITY_REPORT && !genesis_chain(n, ev.u.report.chain)) {
				ist_log_warn(SUBSYS, "block %" PRIu64 " view %" PRIu64 " item %zu: a finality report for "
					     "chain %" PRIu64 ", not a chain of the genesis", b->height, b->view, i,
					     ev.u.report.chain);
				return IST_CONS_INVALID;
			}
			break;
		}
		case IST_PAYLOAD_DKG:
		case IST_PAYLOAD_NONCE_COMMITMENTS:
			/* the ledger judges them when they commit (a refused one
			 * is ignored, not a reason to stall) */
			if (!n->g.staking.frost_round_blocks) {
				ist_log_warn(SUBSYS, "block %" PRIu64 " view %" PRIu64 " item %zu: a FROST item (kind %d), "
					     "but the genesis has no \"frost\" section", b->height, b->view, i, (int)it->kind);
				return IST_CONS_INVALID;
			}
			break;
		}
	}
	if (bytes > n->g.consensus.max_block_bytes) {
		ist_log_warn(SUBSYS, "block %" PRIu64 " view %" PRIu64 ": payload of %zu bytes, the genesis allows %" PRIu32,
			     b->height, b->view, bytes, n->g.consensus.max_block_bytes);
		return IST_CONS_INVALID;
	}
	return ist_node_attest_validate(n, b);
}

size_t ist_node_payload(struct ist_node *n, uint64_t epoch, uint64_t view, struct ist_payload_item *out)
{
	size_t budget = n->g.consensus.max_block_bytes;
	budget = budget > BLOCK_OVERHEAD_BYTES + 4 ? budget - BLOCK_OVERHEAD_BYTES - 4 : 0;
	ist_node_breaker_poll(n);   /* finality reports join the mempool first */
	/* checkpoints first: they are what the network is for */
	size_t k = ist_node_attest_propose(n, out, n->g.consensus.max_block_items);
	for (size_t i = 0; i < k; i++) {
		size_t b = ist_mempool_item_bytes(&out[i]);
		budget = budget > b ? budget - b : 0;
	}
	return k + ist_mempool_reserve(n->mempool, epoch, view, n->g.consensus.max_block_items - k, budget, out + k);
}

/* ---- submission (API threads) ---- */

static int add_item(struct ist_node *n, struct ist_payload_item *it, const char *what, struct ist_buf *out);

/* {"evidence": "<hex>"}: checked by the ledger now (its verdict at commit
 * is the same unless the sets it needs age out meanwhile). */
static int submit_evidence(struct ist_node *n, json_t *evid, struct ist_buf *out)
{
	uint8_t *raw = NULL;
	size_t len = 0;
	char why[IST_LEDGER_REASON_MAX];
	if (!json_is_string(evid) || ist_hex_decode_alloc(json_string_value(evid), &raw, &len) < 0)
		return ist_node_reason(out, -IST_EBADHEX, "evidence: must be a hex string");
	struct ist_evidence ev;
	if (ist_evidence_decode(raw, len, &ev, NULL) == 0 && ev.kind == IST_EVIDENCE_FINALITY_REPORT &&
	    !genesis_chain(n, ev.u.report.chain)) {
		free(raw);
		return ist_node_reason(out, -IST_EINVAL, "evidence: a finality report for chain %" PRIu64
				       ", not a chain of this network's genesis", ev.u.report.chain);
	}
	pthread_mutex_lock(&n->ledger_mu);
	int r = ist_ledger_evidence_check(n->ledger, raw, len, why, sizeof(why));
	pthread_mutex_unlock(&n->ledger_mu);
	if (r < 0) {
		free(raw);
		return ist_node_reason(out, -IST_EINVAL, "evidence: %s", why);
	}
	struct ist_payload_item it = { .kind = IST_PAYLOAD_EVIDENCE };
	it.u.opaque.data = raw;
	it.u.opaque.len = len;
	uint8_t id[IST_HASH_BYTES];
	ist_evidence_id(raw, len, id);
	if ((r = add_item(n, &it, "evidence", out)) < 0)
		return r;
	ist_buf_puts(out, "{");
	ist_node_json_hex(out, "id", id, IST_HASH_BYTES);
	ist_buf_puts(out, "}");
	ist_node_queue_kick(&n->q);
	return 0;
}

int ist_node_reason(struct ist_buf *out, int code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ist_buf_reset(out);
	ist_buf_put(out, msg, strlen(msg));
	return code;
}

static int add_item(struct ist_node *n, struct ist_payload_item *it, const char *what, struct ist_buf *out)
{
	int r = ist_mempool_add(n->mempool, it);
	ist_wire_payload_item_fini(it);
	switch (-r) {
	case 0:
		return 0;
	case IST_EEXISTS:
		return ist_node_reason(out, r, "%s: already waiting in the mempool", what);
	case IST_EAGAIN:
		return ist_node_reason(out, r, "%s: the mempool is full (or holds this sender's limit): try again later", what);
	default:
		return ist_node_reason(out, r, "%s: %s", what, ist_strerror(r));
	}
}

/*
 * POST /v1/txs. The body is JSON, one of
 *   {"tx": "<hex of a protobuf Transaction>"}
 *   {"data": ["<hex>", ...]}    (application data; mempool.accept_data only)
 * Answers {"id": "<hex>"} for a transaction, {"accepted": k, "ids": [...]}
 * for data (all or nothing: a bad item refuses the whole request before any
 * is added; a full pool may stop it part way, and then says how many went
 * in).
 */
int ist_node_submit(void *ctx, const uint8_t *body, size_t len, struct ist_buf *out)
{
	struct ist_node *n = ctx;
	/* without mempool gossip, a node out of the set never puts an item
	 * in a block: refuse it rather than let it wait for ever */
	pthread_mutex_lock(&n->st_mu);
	bool in_set = n->st_in_set;
	uint64_t epoch = n->st_epoch;
	pthread_mutex_unlock(&n->st_mu);
	if (!in_set)
		return ist_node_reason(out, -IST_EAGAIN, "this node is not in the current validator set (epoch %" PRIu64
				       ") and would never propose the item: submit it to a validator of the set "
				       "(GET /v1/validators)", epoch);
	json_error_t jerr;
	json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root || !json_is_object(root)) {
		json_decref(root);
		return ist_node_reason(out, -IST_EPARSE, "body: not a JSON object (%s)", root ? "another JSON value" : jerr.text);
	}
	json_t *tx = json_object_get(root, "tx"), *data = json_object_get(root, "data");
	json_t *evid = json_object_get(root, "evidence");
	int r = 0;
	if ((tx != NULL) + (data != NULL) + (evid != NULL) != 1 || json_object_size(root) != 1) {
		r = ist_node_reason(out, -IST_EINVAL, "body: must have exactly one member, \"tx\", \"evidence\" or \"data\"");
		goto out;
	}
	if (evid) {
		r = submit_evidence(n, evid, out);
		goto out;
	}
	if (tx) {
		uint8_t *raw = NULL;
		size_t rawlen = 0;
		struct ist_tx *t = NULL;
		const char *why = NULL;
		char cwhy[160];
		if (!json_is_string(tx) || ist_hex_decode_alloc(json_string_value(tx), &raw, &rawlen) < 0) {
			r = ist_node_reason(out, -IST_EBADHEX, "tx: must be a hex string");
			goto out;
		}
		r = ist_wire_tx_decode(raw, rawlen, &t, &why);
		free(raw);
		if (r < 0) {
			r = ist_node_reason(out, r, "%s", why ? why : ist_strerror(r));
			goto out;
		}
		if ((r = ist_node_tx_check(n, t, cwhy, sizeof(cwhy))) < 0) {
			ist_wire_tx_free(t);
			r = ist_node_reason(out, r, "tx: %s", cwhy);
			goto out;
		}
		/* the ledger's rules against the committed state: what would
		 * surely fail is refused now, with its reason */
		pthread_mutex_lock(&n->ledger_mu);
		r = ist_ledger_tx_precheck(n->ledger, t, n->cfg.mempool.max_per_sender, cwhy, sizeof(cwhy));
		pthread_mutex_unlock(&n->ledger_mu);
		if (r < 0) {
			ist_wire_tx_free(t);
			r = ist_node_reason(out, r, "tx: %s", cwhy);
			goto out;
		}
		struct ist_payload_item it = { .kind = IST_PAYLOAD_TRANSACTION };
		it.u.tx = *t;
		ist_wire_tx_free(t);
		uint8_t id[IST_HASH_BYTES];
		char idhex[2 * IST_HASH_BYTES + 1];
		if ((r = ist_mempool_item_id(&it, id)) < 0 || (r = add_item(n, &it, "tx", out)) < 0)
			goto out;
		ist_hex_encode(id, IST_HASH_BYTES, idhex);
		ist_buf_putf(out, "{\"id\":\"%s\"}", idhex);
		ist_node_queue_kick(&n->q);
		goto out;
	}
	if (!n->cfg.mempool.accept_data) {
		r = ist_node_reason(out, -IST_EPERM, "data: this node does not take application data (mempool.accept_data is off)");
		goto out;
	}
	size_t k = json_is_array(data) ? json_array_size(data) : 0;
	if (!k || k > IST_WIRE_MAX_BLOCK_ITEMS) {
		r = ist_node_reason(out, -IST_EINVAL, "data: must be an array of 1..%d hex strings", IST_WIRE_MAX_BLOCK_ITEMS);
		goto out;
	}
	for (size_t i = 0; i < k; i++) {
		const char *s = json_string_value(json_array_get(data, i));
		size_t hl = s ? strlen(s) : 0;
		if (!s || hl == 0 || hl % 2 || hl / 2 > IST_WIRE_MAX_DATA_BYTES || strspn(s, "0123456789abcdefABCDEF") != hl) {
			r = ist_node_reason(out, -IST_EINVAL, "data[%zu]: must be a hex string of 1..%d bytes", i,
				   IST_WIRE_MAX_DATA_BYTES);
			goto out;
		}
	}
	ist_buf_puts(out, "{\"ids\":[");
	size_t added = 0;
	for (size_t i = 0; i < k; i++) {
		struct ist_payload_item it = { .kind = IST_PAYLOAD_DATA };
		uint8_t id[IST_HASH_BYTES];
		char idhex[2 * IST_HASH_BYTES + 1], what[32];
		snprintf(what, sizeof(what), "data[%zu]", i);
		if ((r = ist_hex_decode_alloc(json_string_value(json_array_get(data, i)), &it.u.opaque.data,
					      &it.u.opaque.len)) < 0) {
			r = ist_node_reason(out, r, "%s: invalid hex", what);
			break;
		}
		if ((r = ist_mempool_item_id(&it, id)) < 0) {
			ist_wire_payload_item_fini(&it);
			break;
		}
		if ((r = add_item(n, &it, what, out)) < 0) {
			if (added)
				ist_buf_putf(out, " (the first %zu item(s) were accepted)", added);
			break;
		}
		ist_hex_encode(id, IST_HASH_BYTES, idhex);
		ist_buf_putf(out, "%s\"%s\"", added ? "," : "", idhex);
		added++;
	}
	if (added)
		ist_node_queue_kick(&n->q);
	if (r == 0)
		ist_buf_putf(out, "],\"accepted\":%zu}", added);
out:
	json_decref(root);
	return r;
}
