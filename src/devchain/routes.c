/* The devchain's HTTP routes (devchain/routes.h, docs/devchain.md). */
#include "devchain/routes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "devchain/body.h"
#include "wire/codec.h"

#define SUBSYS "devchain"

/* ---- JSON of chain objects ---- */

static json_t *msg_json(const struct ist_dc_msg *x)
{
	const struct ist_message *m = &x->m;
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
			 "src_chain", ist_json_from_u64(m->src_chain),
			 "dst_chain", ist_json_from_u64(m->dst_chain),
			 "nonce", ist_json_from_u64(m->nonce),
			 "sender", ist_json_from_hex(m->sender, sizeof(m->sender)),
			 "recipient", ist_json_from_hex(m->recipient, sizeof(m->recipient)),
			 "value", ist_json_from_u64(m->value),
			 "payload", ist_json_from_hex(m->payload, m->payload_len),
			 "id", ist_json_from_hex(x->id, sizeof(x->id)));
}

static json_t *block_json(const struct ist_dc_block *b)
{
	json_t *msgs = json_array();
	for (size_t i = 0; msgs && i < b->n_msgs; i++) {
		if (json_array_append_new(msgs, msg_json(&b->msgs[i])) != 0) {
			json_decref(msgs);
			msgs = NULL;
		}
	}
	if (!msgs)
		return NULL;
	return json_pack("{s:o,s:o,s:o,s:o,s:b,s:o}",
			 "height", ist_json_from_u64(b->height),
			 "hash", ist_json_from_hex(b->hash, sizeof(b->hash)),
			 "parent_hash", ist_json_from_hex(b->parent, sizeof(b->parent)),
			 "timestamp_ms", ist_json_from_u64(b->timestamp_ms),
			 "finalized", b->finalized,
			 "messages", msgs);
}

static json_t *head_json(const struct ist_dc_head *h)
{
	return json_pack("{s:o,s:o,s:o}", "height", ist_json_from_u64(h->height),
			 "hash", ist_json_from_hex(h->hash, sizeof(h->hash)),
			 "finalized_height", ist_json_from_u64(h->finalized));
}

/* An error from the chain that is nobody's fault but ours or the disk's. */
static void reply_chain_error(struct ist_http_response *res, int r)
{
	if (r == -IST_EDB_FULL)
		ist_http_reply_error(res, 507, "database-full", "the devchain's database is full");
	else if (r == -IST_EAGAIN)
		ist_http_reply_error(res, 503, "busy", "%s", ist_strerror(r));
	else
		ist_http_reply_error(res, 500, "internal", "%s", ist_strerror(r));
	if (r != -IST_EAGAIN)
		ist_log_error(SUBSYS, "request failed: %s", ist_strerror(r));
}

static void reply_body_error(struct ist_http_response *res, const char *code, int r, const struct ist_json_err *err)
{
	char line[IST_JSON_ERR_FILE_MAX + IST_JSON_ERR_FIELD_MAX + IST_JSON_ERR_PROBLEM_MAX];
	ist_json_err_format(err, line, sizeof(line));
	ist_http_reply_error(res, r == -IST_ETOOBIG ? 413 : r == -IST_ENOMEM ? 500 : 400, code, "%s", line);
}

/* A path parameter: a decimal u64. */
static bool path_u64(const char *s, size_t len, uint64_t *ret)
{
	char tmp[24];
	if (len == 0 || len >= sizeof(tmp))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return ist_json_decimal_u64(tmp, ret);
}

/* ---- handlers ---- */

static void get_head(struct ist_dc_routes *rt, struct ist_http_response *res)
{
	struct ist_dc_head h;
	int r = ist_dc_head(rt->chain, &h);
	if (r < 0) {
		reply_chain_error(res, r);
		return;
	}
	ist_http_reply_json(res, 200, json_pack("{s:o,s:o,s:o,s:o}", "chain_id", ist_json_from_u64(ist_dc_chain_id(rt->chain)),
						"height", ist_json_from_u64(h.height),
						"hash", ist_json_from_hex(h.hash, sizeof(h.hash)),
						"finalized_height", ist_json_from_u64(h.finalized)));
}

static void get_block(struct ist_dc_routes *rt, const char *arg, struct ist_http_response *res)
{
	uint64_t height;
	if (!path_u64(arg, strlen(arg), &height)) {
		ist_http_reply_error(res, 400, "bad-request", "height must be a decimal integer below 2^64");
		return;
	}
	struct ist_dc_block b;
	int r = ist_dc_block_get(rt->chain, height, &b);
	if (r == -IST_ENOTFOUND) {
		struct ist_dc_head h;
		if (ist_dc_head(rt->chain, &h) == 0)
			ist_http_reply_error(res, 404, "not-found", "no block at height %" PRIu64 " (the head is %" PRIu64 ")",
					     height, h.height);
		else
			ist_http_reply_error(res, 404, "not-found", "no block at height %" PRIu64, height);
		return;
	}
	if (r < 0) {
		reply_chain_error(res, r);
		return;
	}
	ist_http_reply_json(res, 200, block_json(&b));
	ist_dc_block_fini(&b);
}

struct range {
	json_t *msgs;
	uint64_t last;       /* the last height covered */
	size_t bytes;        /* JSON written, roughly */
	bool failed;
};

static bool range_block(void *ctx, const struct ist_dc_block *b)
{
	struct range *g = ctx;
	/* stop before a block that would take the answer over its size, but
	 * never before the first one */
	size_t need = 0;
	for (size_t i = 0; i < b->n_msgs; i++)
		need += 2 * b->msgs[i].m.payload_len + 600;
	if (g->bytes > 0 && g->bytes + need > IST_DC_RANGE_SOFT_BYTES)
		return false;
	char hash[2 * IST_HASH_BYTES + 1];
	ist_hex_encode(b->hash, IST_HASH_BYTES, hash);
	for (size_t i = 0; i < b->n_msgs; i++) {
		json_t *m = msg_json(&b->msgs[i]);
		if (!m || json_object_set_new(m, "height", ist_json_from_u64(b->height)) != 0 ||
		    json_object_set_new(m, "block_hash", json_string(hash)) != 0 ||
		    json_array_append_new(g->msgs, m) != 0) {
			g->failed = true;
			return false;
		}
	}
	g->bytes += need;
	g->last = b->height;
	return true;
}

static bool query_u64(const struct ist_http_request *req, const char *name, uint64_t *ret,
		      struct ist_http_response *res)
{
	char v[32];
	bool present = false;
	if (!ist_http_query_get(req->query, name, v, sizeof(v), &present) || !ist_json_decimal_u64(v, ret)) {
		ist_http_reply_error(res, 400, "bad-request", present ? "%s must be a decimal integer below 2^64"
						   : "%s is required (a height)", name);
		return false;
	}
	return true;
}

static void get_messages(struct ist_dc_routes *rt, const struct ist_http_request *req, struct ist_http_response *res)
{
	uint64_t from, to;
	if (!query_u64(req, "from_height", &from, res) || !query_u64(req, "to_height", &to, res))
		return;
	if (from > to) {
		ist_http_reply_error(res, 400, "bad-request", "from_height (%" PRIu64 ") is above to_height (%" PRIu64 ")",
				     from, to);
		return;
	}
	if (to - from >= IST_DC_MAX_RANGE) {
		ist_http_reply_error(res, 400, "bad-request", "at most %d blocks per call (asked for %" PRIu64 " to %" PRIu64 ")",
				     IST_DC_MAX_RANGE, from, to);
		return;
	}
	struct range g = { .msgs = json_array() };
	struct ist_dc_head head;
	int r = g.msgs ? ist_dc_blocks_read(rt->chain, from, to, range_block, &g, &head) : -IST_ENOMEM;
	if (r == -IST_ENOTFOUND) {
		json_decref(g.msgs);
		ist_http_reply_error(res, 404, "not-found", "from_height %" PRIu64 " is above the head (%" PRIu64 ")", from,
				     head.height);
		return;
	}
	if (r == 0 && g.failed)
		r = -IST_ENOMEM;
	if (r < 0) {
		json_decref(g.msgs);
		reply_chain_error(res, r);
		return;
	}
	ist_http_reply_json(res, 200, json_pack("{s:o,s:o,s:o,s:o}", "from_height", ist_json_from_u64(from),
						"to_height", ist_json_from_u64(g.last),
						"head", ist_json_from_u64(head.height), "messages", g.msgs));
}

static void post_message(struct ist_dc_routes *rt, const struct ist_http_request *req, struct ist_http_response *res)
{
	struct ist_message m;
	struct ist_json_err err;
	int r = ist_dc_parse_send((const char *)req->body, req->body_len, &m, &err);
	if (r < 0) {
		reply_body_error(res, "bad-request", r, &err);
		return;
	}
	struct ist_dc_msg sent;
	r = ist_dc_send(rt->chain, &m, &sent);
	if (r == -IST_EINVAL)
		ist_http_reply_error(res, 400, "bad-request", "dst_chain must be another chain than this one (%" PRIu64 ")",
				     ist_dc_chain_id(rt->chain));
	else if (r == -IST_EAGAIN)
		ist_http_reply_error(res, 503, "outbox-full", "%d messages wait for a block; try again after the next one",
				     IST_DC_MAX_PENDING);
	else if (r < 0)
		reply_chain_error(res, r);
	else
		ist_http_reply_json(res, 202, json_pack("{s:o,s:o,s:o,s:o,s:o}",
							"src_chain", ist_json_from_u64(sent.m.src_chain),
							"dst_chain", ist_json_from_u64(sent.m.dst_chain),
							"nonce", ist_json_from_u64(sent.m.nonce),
							"leaf_index", ist_json_from_u64(sent.m.nonce),
							"message_id", ist_json_from_hex(sent.id, sizeof(sent.id))));
	ist_wire_message_fini(&m);
}

static void post_inbox(struct ist_dc_routes *rt, const struct ist_http_request *req, struct ist_http_response *res)
{
	struct ist_delivery *d = NULL;
	struct ist_json_err err;
	int r = ist_dc_parse_inbox((const char *)req->body, req->body_len, &d, &err);
	if (r < 0) {
		ist_dc_count_rejection(rt->chain, "malformed");
		reply_body_error(res, "malformed", r, &err);
		return;
	}
	enum ist_dc_refusal why;
	struct ist_verify_result vr;
	struct ist_dc_inbox_entry e;
	r = ist_dc_deliver(rt->chain, d, &why, &vr, &e);
	if (r < 0) {
		reply_chain_error(res, r);
		ist_wire_delivery_free(d);
		return;
	}
	const struct ist_message *m = &d->message;
	switch (why) {
	case IST_DC_DELIVERED:
		ist_log_info(SUBSYS, "inbox: delivered message %" PRIu64 "/%" PRIu64 " at height %" PRIu64, m->src_chain,
			     m->nonce, e.height);
		ist_http_reply_json(res, 200, json_pack("{s:s,s:o,s:o,s:o,s:o}", "status", "delivered",
							"message_id", ist_json_from_hex(e.message_id, IST_HASH_BYTES),
							"src_chain", ist_json_from_u64(m->src_chain),
							"nonce", ist_json_from_u64(m->nonce),
							"height", ist_json_from_u64(e.height)));
		break;
	case IST_DC_REFUSED_VERIFY:
		ist_log_info(SUBSYS, "inbox: refused (%s): %s", ist_verify_reason_name(vr.reason), vr.detail);
		ist_http_reply_json(res, 400, json_pack("{s:s,s:s,s:o}", "error", ist_verify_reason_name(vr.reason),
							"detail", vr.detail,
							"message_id", ist_json_from_hex(vr.message_id, IST_HASH_BYTES)));
		break;
	case IST_DC_REFUSED_NO_TRUST:
		ist_http_reply_error(res, 400, "no-validator-set",
				     "this devchain was started without --trust: it has no validator set to verify "
				     "deliveries against, and refuses them all");
		break;
	case IST_DC_REFUSED_REPLAY: {
		bool same = memcmp(e.message_id, vr.message_id, IST_HASH_BYTES) == 0;
		char detail[256];
		snprintf(detail, sizeof(detail),
			 "message %" PRIu64 "/%" PRIu64 " was delivered at height %" PRIu64 "%s", m->src_chain, m->nonce,
			 e.height, same ? " (this very message: nothing left to do)" : " (another message with this nonce)");
		ist_http_reply_json(res, 409, json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:b}", "error", "replay", "detail", detail,
							"message_id", ist_json_from_hex(e.message_id, IST_HASH_BYTES),
							"src_chain", ist_json_from_u64(m->src_chain),
							"nonce", ist_json_from_u64(m->nonce),
							"height", ist_json_from_u64(e.height), "same_message", same));
		break;
	}
	}
	ist_wire_delivery_free(d);
}

static void post_epochs(struct ist_dc_routes *rt, const struct ist_http_request *req, struct ist_http_response *res)
{
	struct ist_handover *h = malloc(sizeof(*h));
	if (!h) {
		reply_chain_error(res, -IST_ENOMEM);
		return;
	}
	struct ist_json_err err;
	int r = ist_dc_parse_handover((const char *)req->body, req->body_len, h, &err);
	if (r < 0) {
		ist_dc_count_handover_rejection(rt->chain, "malformed");
		reply_body_error(res, "malformed", r, &err);
		goto out;
	}
	if (!h->has_handover) {
		ist_dc_count_handover_rejection(rt->chain, "malformed");
		ist_http_reply_error(res, 400, "malformed", IST_DC_BODY_LABEL ": handover.handover: null: epoch 0 has no "
				     "hand-over to follow (a chain's first set is given with --trust)");
		goto out;
	}
	if (!h->has_certificate) {
		ist_dc_count_handover_rejection(rt->chain, "handover-uncertified");
		ist_http_reply_error(res, 400, "handover-uncertified",
				     "the hand-over to epoch %" PRIu64 " has no certificate yet (block %" PRIu64
				     "'s signatures are still being gathered): fetch the document again later",
				     h->epoch, h->height);
		goto out;
	}
	enum ist_dc_handover_outcome o;
	struct ist_verify_result vr;
	uint64_t since = 0;
	char why[256];
	r = ist_dc_handover(rt->chain, h, &o, &vr, &since, why, sizeof(why));
	if (r < 0) {
		reply_chain_error(res, r);
		goto out;
	}
	switch (o) {
	case IST_DC_HANDOVER_ACCEPTED:
	case IST_DC_HANDOVER_ALREADY:
		ist_http_reply_json(res, 200, json_pack("{s:o,s:b,s:b,s:o}", "epoch", ist_json_from_u64(h->epoch),
							"trusted", 1, "already", o == IST_DC_HANDOVER_ALREADY,
							"since_height", ist_json_from_u64(since)));
		break;
	case IST_DC_HANDOVER_REFUSED:
		ist_log_info(SUBSYS, "inbox: hand-over to epoch %" PRIu64 " refused (%s): %s", h->epoch,
			     ist_verify_reason_name(vr.reason), vr.detail);
		ist_http_reply_json(res, 400, json_pack("{s:s,s:s,s:o}", "error", ist_verify_reason_name(vr.reason),
							"detail", vr.detail, "epoch", ist_json_from_u64(h->epoch)));
		break;
	case IST_DC_HANDOVER_NO_TRUST:
		ist_http_reply_error(res, 400, "no-validator-set",
				     "this devchain trusts no validator set (started without --trust): it has nothing to "
				     "follow a hand-over from");
		break;
	case IST_DC_HANDOVER_CONFLICT:
		ist_log_warn(SUBSYS, "inbox: hand-over to epoch %" PRIu64 " refused: %s", h->epoch, why);
		ist_http_reply_json(res, 409, json_pack("{s:s,s:s,s:o}", "error", "handover-conflict", "detail", why,
							"epoch", ist_json_from_u64(h->epoch)));
		break;
	}
out:
	free(h);
}

static void get_epochs(struct ist_dc_routes *rt, struct ist_http_response *res)
{
	struct ist_dc_epochs e;
	int r = ist_dc_epochs_get(rt->chain, &e);
	if (r < 0) {
		reply_chain_error(res, r);
		return;
	}
	json_t *trusted = json_array();
	int bad = !trusted;
	if (e.has_trust && e.previous)
		bad |= json_array_append_new(trusted, ist_json_from_u64(e.current - 1));
	if (e.has_trust)
		bad |= json_array_append_new(trusted, ist_json_from_u64(e.current));
	if (bad) {
		json_decref(trusted);
		reply_chain_error(res, -IST_ENOMEM);
		return;
	}
	bool handed = e.has_trust && e.current > e.first;
	ist_http_reply_json(res, 200, json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o}",
						"current", e.has_trust ? ist_json_from_u64(e.current) : json_null(),
						"trusted", trusted,
						"first", e.has_trust ? ist_json_from_u64(e.first) : json_null(),
						"since_height", e.has_trust ? ist_json_from_u64(e.since) : json_null(),
						"grace_blocks", ist_json_from_u64(e.grace_blocks),
						"grace_until", handed ? ist_json_from_u64(e.grace_until) : json_null(),
						"head", ist_json_from_u64(e.head)));
}

static void get_inbox(struct ist_dc_routes *rt, const char *arg, struct ist_http_response *res)
{
	const char *slash = strchr(arg, '/');
	uint64_t src, nonce;
	if (!slash || !path_u64(arg, (size_t)(slash - arg), &src) || !path_u64(slash + 1, strlen(slash + 1), &nonce)) {
		ist_http_reply_error(res, 400, "bad-request",
				     "expected /v1/inbox/{src_chain}/{nonce} with decimal integers below 2^64");
		return;
	}
	struct ist_dc_inbox_entry e;
	int r = ist_dc_inbox_get(rt->chain, src, nonce, &e);
	if (r == -IST_ENOTFOUND)
		ist_http_reply_json(res, 200, json_pack("{s:b}", "delivered", 0));
	else if (r < 0)
		reply_chain_error(res, r);
	else
		ist_http_reply_json(res, 200, json_pack("{s:b,s:o,s:o}", "delivered", 1,
							"message_id", ist_json_from_hex(e.message_id, IST_HASH_BYTES),
							"height", ist_json_from_u64(e.height)));
}

static void post_reorg(struct ist_dc_routes *rt, const struct ist_http_request *req, struct ist_http_response *res)
{
	uint64_t depth;
	struct ist_json_err err;
	int r = ist_dc_parse_u64_body((const char *)req->body, req->body_len, "depth", 1, &depth, &err);
	if (r < 0) {
		reply_body_error(res, "bad-request", r, &err);
		return;
	}
	struct ist_dc_head oh, nh;
	char why[256] = "";
	r = ist_dc_reorg(rt->chain, depth, &oh, &nh, why, sizeof(why));
	if (r == -IST_ERANGE)
		ist_http_reply_error(res, 409, "reorg-refused", "%s", why);
	else if (r < 0)
		reply_chain_error(res, r);
	else
		ist_http_reply_json(res, 200, json_pack("{s:o,s:o,s:o,s:o}", "depth", ist_json_from_u64(depth),
							"replaced_from", ist_json_from_u64(oh.height - depth + 1),
							"old_head", head_json(&oh), "new_head", head_json(&nh)));
}

static void post_rewrite(struct ist_dc_routes *rt, const struct ist_http_request *req, struct ist_http_response *res)
{
	uint64_t height;
	struct ist_json_err err;
	int r = ist_dc_parse_u64_body((const char *)req->body, req->body_len, "height", 0, &height, &err);
	if (r < 0) {
		reply_body_error(res, "bad-request", r, &err);
		return;
	}
	struct ist_dc_block b;
	uint8_t old_hash[IST_HASH_BYTES], old_id[IST_HASH_BYTES];
	char why[256] = "";
	r = ist_dc_rewrite_finalized(rt->chain, height, &b, old_hash, old_id, why, sizeof(why));
	if (r == -IST_ERANGE || r == -IST_ENOTFOUND) {
		ist_http_reply_error(res, 409, "rewrite-refused", "%s", why);
		return;
	}
	if (r < 0) {
		reply_chain_error(res, r);
		return;
	}
	ist_http_reply_json(res, 200, json_pack("{s:o,s:o,s:o,s:o,s:o}", "height", ist_json_from_u64(height),
						"old_hash", ist_json_from_hex(old_hash, IST_HASH_BYTES),
						"new_hash", ist_json_from_hex(b.hash, IST_HASH_BYTES),
						"old_message_id", ist_json_from_hex(old_id, IST_HASH_BYTES),
						"message", msg_json(&b.msgs[0])));
	ist_dc_block_fini(&b);
}

static void post_produce(struct ist_dc_routes *rt, const struct ist_http_request *req, struct ist_http_response *res)
{
	uint64_t n;
	struct ist_json_err err;
	int r = ist_dc_parse_u64_body((const char *)req->body, req->body_len, "blocks", 1, &n, &err);
	if (r < 0) {
		reply_body_error(res, "bad-request", r, &err);
		return;
	}
	if (n > IST_DC_MAX_PRODUCE) {
		ist_http_reply_error(res, 400, "bad-request", IST_DC_BODY_LABEL ": blocks: at most %d per call (got %" PRIu64 ")",
				     IST_DC_MAX_PRODUCE, n);
		return;
	}
	struct ist_dc_head h;
	for (uint64_t i = 0; i < n; i++) {
		if ((r = ist_dc_produce(rt->chain, &h)) < 0) {
			reply_chain_error(res, r);
			return;
		}
	}
	ist_http_reply_json(res, 200, json_pack("{s:o,s:o}", "blocks", ist_json_from_u64(n), "head", head_json(&h)));
}

static void get_metrics(struct ist_dc_routes *rt, struct ist_http_response *res)
{
	struct ist_buf b;
	ist_buf_init(&b, IST_HTTP_MAX_RESPONSE);
	if (ist_metrics_render(rt->metrics, &b) != 0) {
		ist_buf_fini(&b);
		ist_http_reply_error(res, 500, "internal", "cannot render the metrics");
		return;
	}
	ist_http_reply_text(res, 200, (const char *)b.data, b.len);
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	ist_buf_fini(&b);
}

static void get_healthz(struct ist_dc_routes *rt, struct ist_http_response *res)
{
	int failed = ist_dc_failed(rt->chain);
	char text[160];
	int n = failed ? snprintf(text, sizeof(text), "block producer stopped: %s\n", ist_strerror(failed))
		       : snprintf(text, sizeof(text), "ok\n");
	ist_http_reply_text(res, failed ? 503 : 200, text, (size_t)n);
}

/* ---- routing ---- */

enum route {
	R_NONE, R_HEALTHZ, R_METRICS, R_HEAD, R_BLOCK, R_MESSAGES, R_INBOX, R_INBOX_GET, R_EPOCHS, R_REORG, R_REWRITE,
	R_PRODUCE
};

#define GET 1u
#define POST 2u

static const unsigned route_methods[] = {
	[R_HEALTHZ] = GET, [R_METRICS] = GET, [R_HEAD] = GET, [R_BLOCK] = GET, [R_MESSAGES] = GET | POST,
	[R_INBOX] = POST, [R_INBOX_GET] = GET, [R_EPOCHS] = GET | POST, [R_REORG] = POST, [R_REWRITE] = POST,
	[R_PRODUCE] = POST,
};

/* The route of a path; *ret_arg is what follows a route's prefix. */
static enum route match(const char *p, const char **ret_arg)
{
	*ret_arg = "";
	if (strcmp(p, "/healthz") == 0)
		return R_HEALTHZ;
	if (strcmp(p, "/metrics") == 0)
		return R_METRICS;
	if (strcmp(p, "/v1/head") == 0)
		return R_HEAD;
	if (strncmp(p, "/v1/blocks/", 11) == 0 && !strchr(p + 11, '/')) {
		*ret_arg = p + 11;
		return R_BLOCK;
	}
	if (strcmp(p, "/v1/messages") == 0)
		return R_MESSAGES;
	if (strcmp(p, "/v1/inbox") == 0)
		return R_INBOX;
	if (strcmp(p, "/v1/inbox/epochs") == 0)
		return R_EPOCHS;
	if (strncmp(p, "/v1/inbox/", 10) == 0) {
		*ret_arg = p + 10;
		return R_INBOX_GET;
	}
	if (strcmp(p, "/v1/test/reorg") == 0)
		return R_REORG;
	if (strcmp(p, "/v1/test/rewrite-finalized") == 0)
		return R_REWRITE;
	if (strcmp(p, "/v1/test/produce") == 0)
		return R_PRODUCE;
	return R_NONE;
}

void ist_dc_routes_handle(void *ctx, const struct ist_http_request *req, struct ist_http_response *res)
{
	struct ist_dc_routes *rt = ctx;
	const char *arg;
	enum route r = match(req->path, &arg);
	unsigned method = strcmp(req->method, "GET") == 0 ? GET : strcmp(req->method, "POST") == 0 ? POST : 0;
	if (r == R_NONE) {
		ist_http_reply_error(res, 404, "not-found", "no such endpoint (docs/devchain.md lists them)");
		return;
	}
	if ((r == R_REORG || r == R_REWRITE || r == R_PRODUCE) && !rt->test_hooks) {
		ist_http_reply_error(res, 403, "test-hooks-disabled",
				     "the test hooks are off: start isthmus-devchain with --test-hooks to use /v1/test/*");
		return;
	}
	if (!(route_methods[r] & method)) {
		unsigned a = route_methods[r];
		ist_http_reply_error(res, 405, "method-not-allowed", "%s is not allowed here; use %s", req->method,
				     a == (GET | POST) ? "GET or POST" : a == POST ? "POST" : "GET");
		return;
	}
	switch (r) {
	case R_HEALTHZ: get_healthz(rt, res); break;
	case R_METRICS: get_metrics(rt, res); break;
	case R_HEAD: get_head(rt, res); break;
	case R_BLOCK: get_block(rt, arg, res); break;
	case R_MESSAGES:
		if (method == GET)
			get_messages(rt, req, res);
		else
			post_message(rt, req, res);
		break;
	case R_INBOX: post_inbox(rt, req, res); break;
	case R_INBOX_GET: get_inbox(rt, arg, res); break;
	case R_EPOCHS:
		if (method == GET)
			get_epochs(rt, res);
		else
			post_epochs(rt, req, res);
		break;
	case R_PRODUCE: post_produce(rt, req, res); break;
	case R_REORG: post_reorg(rt, req, res); break;
	case R_REWRITE: post_rewrite(rt, req, res); break;
	case R_NONE: break;
	}
}
