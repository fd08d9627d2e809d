/*
 * The relayer API (docs/api.md, docs/api/openapi.yaml): the /v1/ routes the
 * API module passes to the source's get callback. Runs on NNG's threads with
 * short LMDB read transactions.
 *
 *   GET /v1/routes[?scheme=S]
 *   GET /v1/checkpoints/{src}/{dst}/latest[?scheme=S]
 *   GET /v1/checkpoints/{src}/{dst}/{tree_size}[?scheme=S]
 *   GET /v1/certificates/{height}[?scheme=S]
 *   GET /v1/proofs/{src}/{dst}/{nonce}[?tree_size=N]
 *   GET /v1/deliveries/{src}/{dst}/{nonce}[?scheme=S]
 *   GET /v1/validators
 *   GET /v1/events[?after=SEQ][&wait_ms=MS]
 *
 * S is the certificate scheme asked for: multisig-secp256k1 (the default)
 * or frost-ed25519 (a block has one certificate of each once both formed;
 * "certified" and the certificate served are of S). Events stay those of
 * the multisig certificates.
 *
 * u64 values are decimal strings, as in /v1/blocks (JSON readers round
 * numbers above 2^53); bytes are lower-case hex.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/json.h"
#include "api/http.h"
#include "crypto/merkle.h"
#include "node/attest.h"
#include "node/internal.h"
#include "node/ledger.h"
#include "state/gov.h"
#include "storage/attest.h"
#include "storage/routes.h"
#include "wire/canonical.h"
#include "wire/codec.h"

#define MAX_SEGMENTS 6
#define MAX_EVENTS 256
#define EVENT_WAIT_DEFAULT_MS 0

/* The value of `key` in the query string, copied to out (api/http.h); a
 * value too long for out, or a key without one, is copied as "x" so that it
 * fails to parse rather than passing as absent. */
static bool query_get(const char *query, const char *key, char *out, size_t outlen)
{
	bool present = false;
	if (ist_http_query_get(query, key, out, outlen, &present))
		return true;
	if (present)
		snprintf(out, outlen, "x");
	return present;
}

/* ---- certificate schemes ---- */

int ist_node_query_scheme(const char *query, struct ist_buf *out, enum ist_cert_scheme *ret)
{
	char name[32];
	*ret = IST_CERT_MULTISIG_SECP256K1;
	if (!query_get(query, "scheme", name, sizeof(name)) || ist_wire_cert_scheme_parse(name, ret))
		return 0;
	return ist_node_reason(out, -IST_EINVAL, "scheme must be multisig-secp256k1 (the default) or frost-ed25519");
}

int ist_node_certificate_get(struct ist_txn *txn, enum ist_cert_scheme scheme, uint64_t height,
			     const uint8_t **ret_enc, size_t *ret_len)
{
	if (scheme == IST_CERT_FROST_ED25519)
		return ist_store_frost_certificate_get(txn, height, ret_enc, ret_len);
	return ist_store_certificate_get(txn, height, ret_enc, ret_len);
}

/* What a missing certificate of the scheme is called in reasons. */
static const char *cert_noun(enum ist_cert_scheme scheme)
{
	return scheme == IST_CERT_FROST_ED25519 ? "FROST certificate (frost-ed25519)" : "certificate";
}

/* The certificate of `scheme` of block `height`, decoded. Returns 0 (*ret:
 * free with ist_wire_certificate_free), -IST_ENOTFOUND, -IST_EDB*. */
static int cert_decoded(struct ist_txn *txn, enum ist_cert_scheme scheme, uint64_t height, struct ist_certificate **ret)
{
	const uint8_t *v;
	size_t len;
	int r = ist_node_certificate_get(txn, scheme, height, &v, &len);
	if (r < 0)
		return r;
	return ist_wire_certificate_decode(v, len, ret, NULL) < 0 ? -IST_EDB_CORRUPT : 0;
}

static void put_checkpoint(struct ist_buf *b, const struct ist_checkpoint *cp)
{
	ist_buf_puts(b, "{");
	ist_node_json_checkpoint_fields(b, cp);
	ist_buf_puts(b, "}");
}

static void put_message(struct ist_buf *b, const struct ist_message *m)
{
	uint8_t id[IST_HASH_BYTES];
	ist_buf_putf(b, "{\"src_chain\":\"%" PRIu64 "\",\"dst_chain\":\"%" PRIu64 "\",\"nonce\":\"%" PRIu64 "\",",
		     m->src_chain, m->dst_chain, m->nonce);
	ist_node_json_hex(b, "sender", m->sender, sizeof(m->sender));
	ist_buf_puts(b, ",");
	ist_node_json_hex(b, "recipient", m->recipient, sizeof(m->recipient));
	ist_buf_putf(b, ",\"value\":\"%" PRIu64 "\",", m->value);
	ist_node_json_hex(b, "payload", m->payload, m->payload_len);
	if (ist_wire_message_id(m, id) == 0) {
		ist_buf_puts(b, ",");
		ist_node_json_hex(b, "id", id, IST_HASH_BYTES);
	}
	ist_buf_puts(b, "}");
}

/* A committed checkpoint record: where it was committed and the checkpoint. */
struct cp_rec {
	uint64_t height;
	uint32_t index, count;
	struct ist_checkpoint cp;
};

static int cp_rec_decode(const uint8_t *v, size_t len, struct cp_rec *ret)
{
	if (len <= IST_NODE_CP_HEAD_BYTES)
		return -IST_EDB_CORRUPT;
	struct ist_checkpoint *cp = NULL;
	if (ist_wire_checkpoint_decode(v + IST_NODE_CP_HEAD_BYTES, len - IST_NODE_CP_HEAD_BYTES, &cp, NULL) < 0)
		return -IST_EDB_CORRUPT;
	ret->height = ist_get_be64(v);
	ret->index = ist_get_be32(v + 8);
	ret->count = ist_get_be32(v + 12);
	ret->cp = *cp;
	ist_wire_checkpoint_free(cp);
	return 0;
}

static void put_cp_rec(struct ist_txn *txn, enum ist_cert_scheme scheme, struct ist_buf *b, const struct cp_rec *rec)
{
	const uint8_t *v;
	size_t len;
	bool certified = ist_node_certificate_get(txn, scheme, rec->height, &v, &len) == 0;
	ist_buf_puts(b, "{\"checkpoint\":");
	put_checkpoint(b, &rec->cp);
	ist_buf_putf(b, ",\"height\":\"%" PRIu64 "\",\"batch_index\":%" PRIu32 ",\"batch_size\":%" PRIu32
		     ",\"certified\":%s}", rec->height, rec->index, rec->count, certified ? "true" : "false");
}

/* ---- routes ---- */

static int get_routes(struct ist_node *n, struct ist_txn *txn, enum ist_cert_scheme scheme, struct ist_buf *out)
{
	ist_buf_puts(out, "{\"routes\":[");
	bool first = true;
	for (size_t i = 0; i < n->g.n_chains; i++) {
		for (size_t j = 0; j < n->g.n_chains; j++) {
			if (i == j)
				continue;
			uint64_t src = n->g.chains[i].id, dst = n->g.chains[j].id, size = 0, csize;
			uint8_t root[IST_HASH_BYTES];
			int r = ist_store_route_root(txn, src, dst, &size, root);
			if (r < 0)
				return r;
			ist_buf_putf(out, "%s{\"src_chain\":\"%" PRIu64 "\",\"dst_chain\":\"%" PRIu64
				     "\",\"observed_tree_size\":\"%" PRIu64 "\",\"latest\":", first ? "" : ",", src, dst, size);
			first = false;
			const uint8_t *v;
			size_t len;
			struct cp_rec rec;
			r = ist_store_checkpoint_last(txn, src, dst, &csize, &v, &len);
			if (r == 0 && (r = cp_rec_decode(v, len, &rec)) == 0)
				put_cp_rec(txn, scheme, out, &rec);
			else if (r == -IST_ENOTFOUND)
				ist_buf_puts(out, "null");
			else
				return r;
			ist_buf_puts(out, "}");
		}
	}
	ist_buf_puts(out, "]}");
	return 0;
}

static int get_checkpoint(struct ist_txn *txn, enum ist_cert_scheme scheme, uint64_t src, uint64_t dst,
			  const char *which, struct ist_buf *out)
{
	const uint8_t *v;
	size_t len;
	uint64_t size;
	int r;
	if (strcmp(which, "latest") == 0) {
		r = ist_store_checkpoint_last(txn, src, dst, &size, &v, &len);
	} else {
		if (!ist_json_decimal_u64(which, &size))
			return ist_node_reason(out, -IST_EINVAL, "tree size must be a decimal integer or \"latest\"");
		r = ist_store_checkpoint_get(txn, src, dst, size, &v, &len);
	}
	if (r == -IST_ENOTFOUND)
		return ist_node_reason(out, r, "no committed checkpoint for this route %s",
				       strcmp(which, "latest") == 0 ? "yet" : "and tree size");
	struct cp_rec rec;
	if (r < 0 || (r = cp_rec_decode(v, len, &rec)) < 0)
		return r;
	put_cp_rec(txn, scheme, out, &rec);
	return 0;
}

static int get_certificate(struct ist_node *n, struct ist_txn *txn, enum ist_cert_scheme scheme, uint64_t height,
			   struct ist_buf *out)
{
	const uint8_t *v;
	size_t len;
	int r = ist_node_certificate_get(txn, scheme, height, &v, &len);
	if (r == -IST_ENOTFOUND)
		return ist_node_reason(out, r, "no %s for this height (not committed, no checkpoints, or still %s)",
				       cert_noun(scheme), scheme == IST_CERT_FROST_ED25519 ? "being signed" : "gathering signatures");
	if (r < 0)
		return r;
	struct ist_certificate *c = NULL;
	if (ist_wire_certificate_decode(v, len, &c, NULL) < 0)
		return -IST_EDB_CORRUPT;
	ist_buf_putf(out, "{\"height\":\"%" PRIu64 "\",\"epoch\":\"%" PRIu64 "\",\"network_id\":\"%" PRIu64
		     "\",\"scheme\":\"%s\",", c->height, c->epoch, c->network_id, ist_wire_cert_scheme_name(c->scheme));
	ist_node_json_hex(out, "batch_root", c->batch_root, IST_HASH_BYTES);
	if (c->scheme == IST_CERT_FROST_ED25519) {
		/* one signature by the epoch's group key: signers stays empty */
		ist_buf_puts(out, ",");
		ist_node_json_hex(out, "group_key", c->group_key, IST_ED25519_PUBKEY_BYTES);
	}
	ist_buf_puts(out, ",\"signers\":[");
	bool first = true;
	uint64_t stake = 0;
	for (unsigned i = 0; i < IST_WIRE_MAX_VALIDATORS; i++) {
		if (!ist_wire_bitmap_get(c->signers, i))
			continue;
		ist_buf_putf(out, "%s%u", first ? "" : ",", i);
		first = false;
		if (i < n->epoch->n)
			stake += n->epoch->stakes[i];
	}
	ist_buf_putf(out, "],\"signed_stake\":\"%" PRIu64 "\",\"total_stake\":\"%" PRIu64 "\",", stake, n->epoch->total);
	ist_node_json_hex(out, "certificate", v, len);
	ist_buf_puts(out, "}");
	ist_wire_certificate_free(c);
	return 0;
}

/* ---- proofs and deliveries ---- */

static int message_at(struct ist_txn *txn, uint64_t src, uint64_t dst, uint64_t nonce, struct ist_message **ret)
{
	const uint8_t *enc;
	size_t len;
	int r = ist_store_route_message_get(txn, src, dst, nonce, &enc, &len);
	if (r < 0)
		return r;
	return ist_wire_message_decode(enc, len, ret, NULL) < 0 ? -IST_EDB_CORRUPT : 0;
}

static int message_proof(struct ist_txn *txn, uint64_t src, uint64_t dst, uint64_t nonce, uint64_t size,
			 struct ist_inclusion_proof *ret)
{
	struct ist_store_route_source rs;
	ist_store_route_source_init(&rs, txn, src, dst);
	memset(ret, 0, sizeof(*ret));
	ret->leaf_index = nonce;
	ret->tree_size = size;
	return ist_merkle_source_inclusion_proof(&rs.source, size, nonce, ret->path, &ret->path_len);
}

static int get_proof(struct ist_node *n, struct ist_txn *txn, uint64_t src, uint64_t dst, uint64_t nonce,
		     const char *query, struct ist_buf *out)
{
	(void)n;
	char tmp[32];
	uint64_t size;
	if (query_get(query, "tree_size", tmp, sizeof(tmp))) {
		if (!ist_json_decimal_u64(tmp, &size))
			return ist_node_reason(out, -IST_EINVAL, "tree_size must be a decimal integer");
	} else {
		const uint8_t *v;
		size_t len;
		int r = ist_store_checkpoint_last(txn, src, dst, &size, &v, &len);
		if (r == -IST_ENOTFOUND)
			return ist_node_reason(out, r, "no committed checkpoint for this route yet");
		if (r < 0)
			return r;
	}
	uint64_t have;
	int r = ist_store_route_size(txn, src, dst, &have);
	if (r < 0)
		return r;
	if (nonce >= size || size > have)
		return ist_node_reason(out, -IST_ENOTFOUND, "the message is not in the route's tree of that size on this node");
	struct ist_inclusion_proof p;
	if ((r = message_proof(txn, src, dst, nonce, size, &p)) < 0)
		return r;
	ist_buf_puts(out, "{\"proof\":");
	ist_node_json_proof(out, &p);
	ist_buf_puts(out, "}");
	return 0;
}

static int pending(struct ist_buf *out, const char *reason, const char *fmt, ...) IST_PRINTF(3, 4);
static int pending(struct ist_buf *out, const char *reason, const char *fmt, ...)
{
	char detail[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	ist_buf_putf(out, "{\"status\":\"pending\",\"reason\":\"%s\",\"detail\":\"%s\"}", reason, detail);
	return 0;
}

/* When the route's limits hold message `nonce` (with the source chain
 * observed up to `h`), answers that it is held, by which rule and until
 * when, and returns 1; 0 when they do not hold it; < 0 on a store error. */
static int held(struct ist_node *n, struct ist_txn *txn, uint64_t src, uint64_t dst, uint64_t nonce,
		struct ist_buf *out)
{
	uint64_t h = 0, size, allowed;
	uint8_t hash[IST_HASH_BYTES];
	if (ist_store_chain_cursor_get(txn, src, &h, hash) < 0)
		return 0;
	struct ist_gov_hold hold;
	pthread_mutex_lock(&n->ledger_mu);
	int r = ist_node_route_allowed(n, txn, src, dst, h, &size, &allowed, &hold);
	pthread_mutex_unlock(&n->ledger_mu);
	if (r < 0)
		return r;
	if (hold.rule == IST_GOV_HOLD_NONE || nonce < hold.index)
		return 0;
	char when[96], behind[64] = "";
	if (hold.release_height)
		snprintf(when, sizeof(when), "passes at source height %" PRIu64, hold.release_height);
	else
		snprintf(when, sizeof(when), "passes once the messages before it are checkpointed and the window slides");
	if (nonce > hold.index)
		snprintf(behind, sizeof(behind), "waits in order behind message %" PRIu64 ", which ", hold.index);
	const char *what = hold.rule == IST_GOV_HOLD_DELAY ? "its value is above the route's high_value: it waits "
			   "delay_blocks" : hold.rule == IST_GOV_HOLD_COUNT ? "the route's window holds max_count messages "
			   "already" : "the route's window holds max_value already";
	ist_buf_putf(out, "{\"status\":\"pending\",\"reason\":\"held\",\"hold\":{\"rule\":\"%s\",\"first_held\":\"%" PRIu64
		     "\",\"release_height\":", ist_gov_hold_rule_name(hold.rule), hold.index);
	if (hold.release_height)
		ist_buf_putf(out, "\"%" PRIu64 "\"", hold.release_height);
	else
		ist_buf_puts(out, "null");
	ist_buf_putf(out, ",\"source_height\":\"%" PRIu64 "\"},\"detail\":\"message %" PRIu64 " of route %" PRIu64
		     "->%" PRIu64 " is held by the route's limits: %s%s (%s); source chain %" PRIu64 " is at height %"
		     PRIu64 "\"}", h, nonce, src, dst, behind, when, what, src, h);
	return 1;
}

/* How many later checkpoints a delivery looks at for one with a
 * certificate (this node may have missed the shares of some blocks). */
#define DELIVERY_SEARCH 64

static int get_delivery(struct ist_node *n, struct ist_txn *txn, enum ist_cert_scheme scheme, uint64_t src,
			uint64_t dst, uint64_t nonce, struct ist_buf *out)
{
	if (src == dst || !ist_node_genesis_chain(&n->g, src) || !ist_node_genesis_chain(&n->g, dst))
		return ist_node_reason(out, -IST_ENOTFOUND, "not a route of this network (see /v1/routes)");
	struct ist_message *m = NULL;
	int r = message_at(txn, src, dst, nonce, &m);
	if (r == -IST_ENOTFOUND) {
		uint64_t h = 0;
		uint8_t hash[IST_HASH_BYTES];
		if (ist_store_chain_cursor_get(txn, src, &h, hash) < 0)
			h = 0;
		return pending(out, "not_observed",
			       "this validator has not observed message %" PRIu64 " of route %" PRIu64 "->%" PRIu64
			       " in a final source block (observed up to height %" PRIu64 ")", nonce, src, dst, h);
	}
	if (r < 0)
		return r;
	struct ist_delivery *d = calloc(1, sizeof(*d));
	if (!d) {
		ist_wire_message_free(m);
		return -IST_ENOMEM;
	}
	d->message = *m;
	free(m);   /* its payload now belongs to d */
	uint64_t min = nonce + 1;
	struct cp_rec rec = { 0 };
	bool found = false, any = false;
	for (int tries = 0; tries < DELIVERY_SEARCH && !found; tries++) {
		const uint8_t *v;
		size_t len;
		uint64_t size;
		struct ist_certificate *c = NULL;
		r = ist_store_checkpoint_next(txn, src, dst, min, &size, &v, &len);
		if (r == -IST_ENOTFOUND)
			break;
		if (r < 0 || (r = cp_rec_decode(v, len, &rec)) < 0)
			goto out;
		any = true;
		r = cert_decoded(txn, scheme, rec.height, &c);
		if (r == 0) {
			d->certificate = *c;
			ist_wire_certificate_free(c);
			found = true;
		} else if (r != -IST_ENOTFOUND) {
			goto out;
		}
		min = size + 1;
	}
	r = 0;
	if (!found) {
		if (any)
			r = pending(out, "awaiting_certificate",
				    "message %" PRIu64 " is in a committed checkpoint (height %" PRIu64 "); its %s is still %s",
				    nonce, rec.height, cert_noun(scheme),
				    scheme == IST_CERT_FROST_ED25519 ? "missing (being signed, or this validator does not "
				    "make FROST certificates)" : "gathering signatures");
		else if ((r = held(n, txn, src, dst, nonce, out)) != 0)
			r = r < 0 ? r : 0;
		else
			r = pending(out, "awaiting_checkpoint",
				    "message %" PRIu64 " was observed; no committed checkpoint of route %" PRIu64
				    "->%" PRIu64 " covers it yet", nonce, src, dst);
		goto out;
	}
	/* a certificate of the newest epoch when the route has one: a
	 * destination accepts an older epoch's only within its grace after a
	 * hand-over, so a message certified before a set change and delivered
	 * late must come with the latest checkpoint's certificate */
	{
		const uint8_t *v;
		size_t len;
		uint64_t size;
		struct cp_rec last;
		struct ist_certificate *c = NULL;
		if (ist_store_checkpoint_last(txn, src, dst, &size, &v, &len) == 0 && cp_rec_decode(v, len, &last) == 0 &&
		    last.height > rec.height && cert_decoded(txn, scheme, last.height, &c) == 0) {
			if (c->epoch > d->certificate.epoch) {
				d->certificate = *c;
				rec = last;
			}
			ist_wire_certificate_free(c);
		}
	}
	d->checkpoint = rec.cp;
	if ((r = message_proof(txn, src, dst, nonce, rec.cp.tree_size, &d->message_proof)) < 0 ||
	    (r = ist_node_batch_proof(n, txn, rec.height, rec.index, &d->checkpoint_proof, NULL, NULL)) < 0)
		goto out;
	uint8_t *enc = NULL;
	size_t len = 0;
	if ((r = ist_wire_delivery_encode(d, &enc, &len)) < 0)
		goto out;
	ist_buf_puts(out, "{\"status\":\"ready\",\"message\":");
	put_message(out, &d->message);
	ist_buf_puts(out, ",\"checkpoint\":");
	put_checkpoint(out, &d->checkpoint);
	ist_buf_putf(out, ",\"height\":\"%" PRIu64 "\",\"message_proof\":", rec.height);
	ist_node_json_proof(out, &d->message_proof);
	ist_buf_puts(out, ",\"checkpoint_proof\":");
	ist_node_json_proof(out, &d->checkpoint_proof);
	ist_buf_puts(out, ",");
	ist_node_json_hex(out, "delivery", enc, len);
	ist_buf_puts(out, "}");
	free(enc);
out:
	ist_wire_delivery_free(d);
	return r;
}

/* ---- validators and events ---- */

static int get_events(struct ist_node *n, struct ist_txn *txn, const char *query, bool final, struct ist_buf *out,
		      uint32_t *ret_wait_ms)
{
	char tmp[32];
	uint64_t after = 0, wait = EVENT_WAIT_DEFAULT_MS;
	if (query_get(query, "after", tmp, sizeof(tmp)) && !ist_json_decimal_u64(tmp, &after))
		return ist_node_reason(out, -IST_EINVAL, "after must be a decimal integer");
	if (query_get(query, "wait_ms", tmp, sizeof(tmp)) && (!ist_json_decimal_u64(tmp, &wait) || wait > IST_API_MAX_WAIT_MS))
		return ist_node_reason(out, -IST_EINVAL, "wait_ms must be a decimal integer up to 60000");
	struct ist_node_event *ev = calloc(MAX_EVENTS, sizeof(*ev));
	if (!ev)
		return -IST_ENOMEM;
	uint64_t last;
	size_t k = ist_node_events_since(n, after, ev, MAX_EVENTS, &last);
	if (k == 0 && wait > 0 && !final) {
		free(ev);
		*ret_wait_ms = (uint32_t)wait;
		return -IST_EAGAIN;
	}
	ist_buf_puts(out, "{\"events\":[");
	for (size_t i = 0; i < k; i++) {
		ist_buf_putf(out, "%s{\"seq\":\"%" PRIu64 "\",\"kind\":\"certificate\",\"height\":\"%" PRIu64
			     "\",\"checkpoints\":[", i ? "," : "", ev[i].seq, ev[i].height);
		struct ist_block *b = NULL;
		if (ist_node_block_at(txn, ev[i].height, &b, NULL) == 0) {
			bool first = true;
			for (size_t j = 0; j < b->n_items; j++) {
				if (b->items[j].kind != IST_PAYLOAD_CHECKPOINT)
					continue;
				ist_buf_puts(out, first ? "" : ",");
				put_checkpoint(out, &b->items[j].u.checkpoint);
				first = false;
			}
			ist_wire_block_free(b);
		}
		ist_buf_puts(out, "]}");
	}
	ist_buf_putf(out, "],\"last\":\"%" PRIu64 "\",\"boot\":\"%016" PRIx64 "\"}", last, n->ev.boot);
	free(ev);
	return 0;
}

/* ---- the router ---- */

int ist_node_api_get(void *ctx, const char *path, const char *query, bool final, struct ist_buf *out,
		     const char **ret_route, uint32_t *ret_wait_ms)
{
	struct ist_node *n = ctx;
	char buf[256];
	char *seg[MAX_SEGMENTS];
	size_t ns = 0;
	if (strlen(path) >= sizeof(buf))
		return -IST_ENOTFOUND;
	memcpy(buf, path, strlen(path) + 1);
	for (char *p = buf, *save = NULL, *t; ns < MAX_SEGMENTS && (t = strtok_r(p, "/", &save)); p = NULL)
		seg[ns++] = t;
	if (ns == 0)
		return -IST_ENOTFOUND;
	uint64_t a = 0, b = 0, c = 0;
	bool nums = (ns < 2 || ist_json_decimal_u64(seg[1], &a)) && (ns < 3 || ist_json_decimal_u64(seg[2], &b));
	const char *route = NULL;
	enum { R_ROUTES, R_CP, R_CERT, R_PROOF, R_DELIVERY, R_EVENTS } which;
	{
		/* the ledger's routes */
		struct ist_txn *ltxn;
		int lr = ist_store_read_begin(n->store, &ltxn);
		if (lr < 0)
			return lr;
		lr = ist_node_ledger_get(n, ltxn, seg, ns, query, out, ret_route);
		ist_store_read_end(ltxn);
		if (lr != 1)
			return lr;
	}
	if (ns == 1 && strcmp(seg[0], "routes") == 0) {
		route = "/v1/routes";
		which = R_ROUTES;
	} else if (ns == 4 && strcmp(seg[0], "checkpoints") == 0) {
		route = strcmp(seg[3], "latest") == 0 ? "/v1/checkpoints/{src}/{dst}/latest"
						      : "/v1/checkpoints/{src}/{dst}/{tree_size}";
		which = R_CP;
	} else if (ns == 2 && strcmp(seg[0], "certificates") == 0) {
		route = "/v1/certificates/{height}";
		which = R_CERT;
	} else if (ns == 4 && strcmp(seg[0], "proofs") == 0) {
		route = "/v1/proofs/{src}/{dst}/{nonce}";
		which = R_PROOF;
	} else if (ns == 4 && strcmp(seg[0], "deliveries") == 0) {
		route = "/v1/deliveries/{src}/{dst}/{nonce}";
		which = R_DELIVERY;
	} else if (ns == 1 && strcmp(seg[0], "events") == 0) {
		route = "/v1/events";
		which = R_EVENTS;
	} else {
		return -IST_ENOTFOUND;
	}
	*ret_route = route;
	if (!nums || ((which == R_PROOF || which == R_DELIVERY) && !ist_json_decimal_u64(seg[3], &c)))
		return ist_node_reason(out, -IST_EINVAL, "path parameters must be decimal integers below 2^64");
	enum ist_cert_scheme scheme = IST_CERT_MULTISIG_SECP256K1;
	int r = 0;
	if (which == R_ROUTES || which == R_CP || which == R_CERT || which == R_DELIVERY)
		r = ist_node_query_scheme(query, out, &scheme);
	if (r < 0)
		return r;
	struct ist_txn *txn;
	r = ist_store_read_begin(n->store, &txn);
	if (r < 0)
		return r;
	switch (which) {
	case R_ROUTES:
		r = get_routes(n, txn, scheme, out);
		break;
	case R_CP:
		r = get_checkpoint(txn, scheme, a, b, seg[3], out);
		break;
	case R_CERT:
		r = get_certificate(n, txn, scheme, a, out);
		break;
	case R_PROOF:
		r = get_proof(n, txn, a, b, c, query, out);
		break;
	case R_DELIVERY:
		r = get_delivery(n, txn, scheme, a, b, c, out);
		break;
	case R_EVENTS:
		r = get_events(n, txn, query, final, out, ret_wait_ms);
		break;
	}
	ist_store_read_end(txn);
	return r;
}
