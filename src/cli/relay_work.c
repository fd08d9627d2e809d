/*
 * The relayer's work: asking validators (with fail-over), reading their
 * events, resynchronising, and carrying deliveries to destination inboxes.
 *
 * Nothing a validator says is trusted beyond what it costs us: an answer
 * that does not parse, a delivery that does not decode or is not the one
 * asked for, counts as a failure of that validator (the next one is used);
 * a delivery the destination refuses is tried once more from another
 * validator before its route is blocked. Tree sizes from a validator only
 * ever make us ask for more deliveries, which stop at the first `pending`.
 *
 * Epoch hand-overs: before posting a delivery whose certificate is of an
 * epoch above the destination's current trusted one, the relayer brings the
 * destination up to date, one hand-over document (GET /v1/epochs/{k} of a
 * validator, parsed by state/verify.h's ist_handover_read, which has its
 * fuzz targets) after the other (POST /v1/inbox/epochs). A hand-over whose
 * certificate has not formed yet makes the destination's routes wait (a
 * hold, retried with a back-off), like a destination that is down.
 *
 * FIXME: the parsers of validators' and inboxes' answers below read outside
 * input through the bounded common/json.h reader, but have no libFuzzer
 * target of their own yet: they would need to move out of the `isthmus`
 * executable into a library the fuzz build can link.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/relay.h"
#include "cli/rpc.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/json.h"
#include "common/log.h"
#include "state/verify.h"
#include "wire/canonical.h"
#include "wire/codec.h"

/* Short message ids in logs: 12 hex digits. */
#define SHORT_ID 12

/* ---- validators ------------------------------------------------------------ */

/* Uses the next validator: its event cursor is unknown, so the next answer
 * of its events resynchronises. */
static void switch_validator(struct relay *r)
{
	r->have_boot = false;
	r->boot_seen = false;
	r->after = 0;
	r->dirty = true;
	if (r->n_val == 1)
		return;
	r->cur = (r->cur + 1) % r->n_val;
	ist_log_info(RELAY_SUBSYS, "using validator %s (%zu of %zu)", r->val[r->cur].url, r->cur + 1, r->n_val);
}

/* A validator failed: counted, logged, and the next one is used. */
static void val_failed(struct relay *r, size_t idx, const char *what, const char *why)
{
	ist_metric_inc(r->m.val_errors, NULL);
	r->val_streak++;
	ist_log_warn(RELAY_SUBSYS, "validator %s: %s: %s", r->val[idx].url, what, why);
	if (idx == r->cur)
		switch_validator(r);
}

/* The reader's check that v (at path) is an object; the reader's own
 * lookups pass over a parent that is not one without failing. */
static void need_object(struct ist_json_reader *jr, json_t *v, const char *path)
{
	if (ist_json_ok(jr) && !json_is_object(v)) {
		char got[96];
		ist_json_fail(jr, -IST_EPARSE, path, "must be an object (got %s)", ist_json_describe(v, got, sizeof(got)));
	}
}

/* The label of a validator's answer in parse errors. */
static void answer_label(struct relay *r, size_t idx, const char *path, char *out, size_t len)
{
	snprintf(out, len, "validator %s: GET %s", r->val[idx].url, path);
}

/*
 * One request to validator idx: GET path on its data client (or its events
 * client, with a longer timeout). An answer is usable when it is 200 or 404
 * and a JSON object. Out: *ret (on success; the caller finishes it), why
 * (on failure). Returns 0, -IST_ECLOSED (aborted: stopping), -IST_ENOMEM,
 * or another error with why set.
 */
static int val_request(struct relay *r, size_t idx, const char *path, bool events, uint32_t timeout_ms,
		       struct ist_cli_rpc_answer *ret, char *why, size_t whylen)
{
	struct relay_validator *v = &r->val[idx];
	int rc = ist_cli_rpc_call(events ? v->events : v->data, "GET", path, NULL, timeout_ms, ret, why, whylen);
	if (rc < 0)
		return rc;
	if ((ret->status != 200 && ret->status != 404) || !ret->doc) {
		char code[IST_CLI_RPC_CODE_MAX], detail[IST_CLI_RPC_DETAIL_MAX];
		ist_cli_rpc_error(ret, code, detail);
		if (ret->status == 200)
			snprintf(why, whylen, "the answer is not a JSON object");
		else
			snprintf(why, whylen, "HTTP status %u%s%s: %s", (unsigned)ret->status, code[0] ? " " : "", code,
				 detail);
		ist_cli_rpc_answer_fini(ret);
		return -IST_EPARSE;
	}
	return 0;
}

/* GET path from the validator in use, failing over to the next on any
 * failure, for at most one round. Returns 0 with *ret (from validator
 * *ret_idx), -IST_ENET when none answered, -IST_ECLOSED, -IST_ENOMEM. */
static int val_get(struct relay *r, const char *path, struct ist_cli_rpc_answer *ret, size_t *ret_idx)
{
	char why[IST_HTTP_CLIENT_ERR_MAX], what[RELAY_PATH_MAX + 8];
	snprintf(what, sizeof(what), "GET %s", path);
	for (size_t tries = 0; tries < r->n_val; tries++) {
		if (relay_stopping(r))
			return -IST_ECLOSED;
		size_t idx = r->cur;
		int rc = val_request(r, idx, path, false, 0, ret, why, sizeof(why));
		if (rc == 0) {
			r->val_streak = 0;
			*ret_idx = idx;
			return 0;
		}
		if (rc == -IST_ECLOSED || rc == -IST_ENOMEM)
			return rc;
		val_failed(r, idx, what, why);
	}
	return -IST_ENET;
}

/* ---- targets ------------------------------------------------------------------- */

/* A committed tree size of route src->dst: nonces below it may be
 * delivered once certified. Routes to chains this relayer does not serve
 * are ignored. */
static void note_target(struct relay *r, uint64_t src, uint64_t dst, uint64_t tree_size)
{
	bool served = false;
	for (size_t i = 0; i < r->n_dest && !served; i++)
		served = r->dest[i].chain == dst;
	if (!served || src == dst)
		return;
	struct relay_route *rt = relay_route_get(r, src, dst, true);
	if (!rt)
		return;
	if (tree_size > rt->target)
		rt->target = tree_size;
	if (rt->st == ROUTE_PENDING)
		rt->st = ROUTE_IDLE;
	relay_route_changed(r, rt);
}

void relay_route_changed(struct relay *r, struct relay_route *rt)
{
	ist_metric_set(r->m.next_nonce, rt->label, (double)rt->next);
}

/* ---- resync -------------------------------------------------------------------- */

int relay_resync(struct relay *r)
{
	static const char path[] = "/v1/routes";
	for (size_t tries = 0; tries < r->n_val; tries++) {
		struct ist_cli_rpc_answer a;
		size_t idx;
		int rc = val_get(r, path, &a, &idx);
		if (rc < 0)
			return rc;
		char label[IST_HTTP_CLIENT_URL_MAX + 64], line[1024];
		struct ist_json_err err;
		struct ist_json_reader jr;
		answer_label(r, idx, path, label, sizeof(label));
		ist_json_reader_init(&jr, label, &err);
		if (a.status != 200)
			ist_json_fail(&jr, -IST_EPARSE, "", "HTTP status %u", (unsigned)a.status);
		json_t *routes = ist_json_array(&jr, a.doc, "", "routes", true, 0, 65536);
		/* the whole answer is checked before any of it is used */
		for (int pass = 0; pass < 2 && ist_json_ok(&jr); pass++) {
			for (size_t i = 0; i < json_array_size(routes) && ist_json_ok(&jr); i++) {
				char p[IST_JSON_ERR_FIELD_MAX], lp[IST_JSON_ERR_FIELD_MAX], cp[IST_JSON_ERR_FIELD_MAX];
				json_t *o = json_array_get(routes, i);
				ist_json_index(p, "routes", i);
				need_object(&jr, o, p);
				uint64_t src = ist_json_u64(&jr, o, p, "src_chain", true, 0, 1);
				uint64_t dst = ist_json_u64(&jr, o, p, "dst_chain", true, 0, 1);
				json_t *latest = ist_json_member(&jr, o, p, "latest", true);
				if (!latest || json_is_null(latest))
					continue;
				ist_json_path(lp, p, "latest");
				need_object(&jr, latest, lp);
				json_t *cpo = ist_json_member(&jr, latest, lp, "checkpoint", true);
				ist_json_path(cp, lp, "checkpoint");
				need_object(&jr, cpo, cp);
				uint64_t size = ist_json_u64(&jr, cpo, cp, "tree_size", true, 0, 0);
				if (pass == 1 && ist_json_ok(&jr))
					note_target(r, src, dst, size);
			}
		}
		ist_cli_rpc_answer_fini(&a);
		if (ist_json_ok(&jr)) {
			ist_log_debug(RELAY_SUBSYS, "resynchronised from %s", r->val[idx].url);
			return 0;
		}
		ist_json_err_format(&err, line, sizeof(line));
		ist_metric_inc(r->m.val_errors, NULL);
		r->val_streak++;
		ist_log_warn(RELAY_SUBSYS, "%s", line);
		if (idx == r->cur)
			switch_validator(r);
	}
	return -IST_ENET;
}

/* ---- events -------------------------------------------------------------------- */

struct event_cp {
	uint64_t seq, src, dst, tree_size;
};

uint64_t relay_dest_ready_at(const struct relay_dest *d)
{
	uint64_t at = d->down ? d->retry_at_ms : 0;
	return IST_MAX(at, d->hold_until_ms);
}

uint32_t relay_wait_ms(struct relay *r)
{
	uint64_t now = relay_now_ms(), wait = r->wait_ms;
	for (size_t i = 0; i < r->n_routes; i++) {
		const struct relay_route *rt = &r->routes[i];
		if (!rt->dest || rt->st != ROUTE_IDLE || rt->next >= rt->target)
			continue;
		uint64_t at = relay_dest_ready_at(rt->dest);
		if (at <= now)
			return 0;
		if (at - now < wait)
			wait = at - now;
	}
	return (uint32_t)wait;
}

/* What an events answer says. */
struct events {
	struct event_cp *cps;            /* malloc'd: the checkpoints of certificate events, in order */
	size_t n;
	uint64_t first_seq;              /* 0: no event */
	uint64_t last_seq;               /* of the last event listed */
	uint64_t last;                   /* the validator's newest event */
	char boot[RELAY_BOOT_MAX];
};

static int add_cp(struct events *ev, size_t *cap, struct event_cp e)
{
	if (ev->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct event_cp *n = realloc(ev->cps, ncap * sizeof(*n));
		if (!n)
			return -IST_ENOMEM;
		ev->cps = n;
		*cap = ncap;
	}
	ev->cps[ev->n++] = e;
	return 0;
}

/* Parses an events answer into *ev (zeroed first; the caller frees
 * ev->cps). Returns 0, -IST_ENOMEM, or -IST_EPARSE with line set. */
static int parse_events(const char *label, json_t *doc, struct events *ev, char *line, size_t linelen)
{
	struct ist_json_err err;
	struct ist_json_reader jr;
	memset(ev, 0, sizeof(*ev));
	ist_json_reader_init(&jr, label, &err);
	json_t *events = ist_json_array(&jr, doc, "", "events", true, 0, 4096);
	ev->last = ist_json_u64(&jr, doc, "", "last", true, 0, 0);
	const char *b = ist_json_string(&jr, doc, "", "boot", true, "");
	if (ist_json_ok(&jr) && (b[0] == '\0' || strlen(b) >= RELAY_BOOT_MAX))
		ist_json_fail(&jr, -IST_EPARSE, "boot", "must be 1 to %d characters", RELAY_BOOT_MAX - 1);
	size_t cap = 0;
	for (size_t i = 0; ist_json_ok(&jr) && i < json_array_size(events); i++) {
		char p[IST_JSON_ERR_FIELD_MAX], q[IST_JSON_ERR_FIELD_MAX], cpp[IST_JSON_ERR_FIELD_MAX];
		json_t *e = json_array_get(events, i);
		ist_json_index(p, "events", i);
		need_object(&jr, e, p);
		uint64_t seq = ist_json_u64(&jr, e, p, "seq", true, 0, 1);
		const char *kind = ist_json_string(&jr, e, p, "kind", true, "");
		if (ist_json_ok(&jr) && i > 0 && seq <= ev->last_seq)
			ist_json_fail(&jr, -IST_EPARSE, p, "seq %" PRIu64 " does not follow %" PRIu64, seq, ev->last_seq);
		if (i == 0)
			ev->first_seq = seq;
		ev->last_seq = seq;
		if (!ist_json_ok(&jr) || strcmp(kind, "certificate") != 0)
			continue;   /* a kind of a later version: nothing to do */
		json_t *arr = ist_json_array(&jr, e, p, "checkpoints", true, 0, 65536);
		ist_json_path(q, p, "checkpoints");
		for (size_t j = 0; ist_json_ok(&jr) && j < json_array_size(arr); j++) {
			json_t *cp = json_array_get(arr, j);
			ist_json_index(cpp, q, j);
			need_object(&jr, cp, cpp);
			struct event_cp c = { .seq = seq };
			c.src = ist_json_u64(&jr, cp, cpp, "src_chain", true, 0, 1);
			c.dst = ist_json_u64(&jr, cp, cpp, "dst_chain", true, 0, 1);
			c.tree_size = ist_json_u64(&jr, cp, cpp, "tree_size", true, 0, 0);
			if (ist_json_ok(&jr) && add_cp(ev, &cap, c) < 0)
				return -IST_ENOMEM;
		}
	}
	if (ist_json_ok(&jr) && ev->first_seq && ev->last_seq > ev->last)
		ist_json_fail(&jr, -IST_EPARSE, "last", "%" PRIu64 " is below the seq %" PRIu64 " listed", ev->last,
			      ev->last_seq);
	if (!ist_json_ok(&jr)) {
		ist_json_err_format(&err, line, linelen);
		return -IST_EPARSE;
	}
	snprintf(ev->boot, sizeof(ev->boot), "%s", b);
	return 0;
}

static bool any_pending(struct relay *r)
{
	for (size_t i = 0; i < r->n_routes; i++)
		if (r->routes[i].dest && r->routes[i].st == ROUTE_PENDING)
			return true;
	return false;
}

int relay_poll(struct relay *r)
{
	size_t idx = r->cur;
	uint32_t wait = r->boot_seen ? relay_wait_ms(r) : 0;
	uint64_t after = r->have_boot ? r->after : 0;
	char path[96], what[112], why[IST_HTTP_CLIENT_ERR_MAX], label[IST_HTTP_CLIENT_URL_MAX + 96], line[1024];
	snprintf(path, sizeof(path), "/v1/events?after=%" PRIu64 "&wait_ms=%" PRIu32, after, wait);
	snprintf(what, sizeof(what), "GET %s", path);
	answer_label(r, idx, path, label, sizeof(label));
	struct ist_cli_rpc_answer a;
	int rc = val_request(r, idx, path, true, wait + RELAY_POLL_SLACK_MS, &a, why, sizeof(why));
	if (rc == -IST_ECLOSED || rc == -IST_ENOMEM)
		return rc;
	if (rc < 0) {
		val_failed(r, idx, what, why);
		return -IST_ENET;
	}
	struct events ev = { 0 };
	if (a.status != 200) {
		snprintf(line, sizeof(line), "%s: HTTP status %u", label, (unsigned)a.status);
		rc = -IST_EPARSE;
	} else {
		rc = parse_events(label, a.doc, &ev, line, sizeof(line));
	}
	ist_cli_rpc_answer_fini(&a);
	if (rc == -IST_ENOMEM) {
		free(ev.cps);
		return rc;
	}
	if (rc < 0) {
		free(ev.cps);
		ist_metric_inc(r->m.val_errors, NULL);
		r->val_streak++;
		ist_log_warn(RELAY_SUBSYS, "%s", line);
		switch_validator(r);
		return -IST_ENET;
	}
	r->val_streak = 0;
	r->boot_seen = true;

	bool restarted = !r->have_boot || strcmp(ev.boot, r->boot) != 0 || ev.last < r->after;
	bool missed = !restarted && ev.first_seq > r->after + 1;
	if (restarted || missed) {
		free(ev.cps);
		if (!r->have_boot)
			ist_log_info(RELAY_SUBSYS, "validator %s (boot %s): resynchronising", r->val[idx].url, ev.boot);
		else if (restarted)
			ist_log_info(RELAY_SUBSYS, "validator %s restarted (boot %s, was %s): resynchronising",
				     r->val[idx].url, ev.boot, r->boot);
		else
			ist_log_info(RELAY_SUBSYS, "validator %s: events %" PRIu64 "..%" PRIu64 " were missed: resynchronising",
				     r->val[idx].url, r->after + 1, ev.first_seq - 1);
		if ((rc = relay_resync(r)) < 0)
			return rc;
		if (r->cur != idx)
			return 0;   /* the resync moved on to another validator: its events are next */
		/* everything up to `last` is covered by the resync, which came after */
		r->have_boot = true;
		snprintf(r->boot, sizeof(r->boot), "%s", ev.boot);
		r->after = ev.last;
		r->dirty = true;
		ist_metric_set(r->m.event_seq, NULL, (double)r->after);
		return 0;
	}
	for (size_t i = 0; i < ev.n; i++)
		if (ev.cps[i].seq > r->after)
			note_target(r, ev.cps[i].src, ev.cps[i].dst, ev.cps[i].tree_size);
	free(ev.cps);
	if (ev.first_seq == 0) {
		/* an idle answer: a route left pending (a validator without the
		 * certificate yet) is asked about again */
		return any_pending(r) ? relay_resync(r) : 0;
	}
	if (ev.last_seq > r->after) {
		r->after = ev.last_seq;
		r->dirty = true;
		ist_metric_set(r->m.event_seq, NULL, (double)r->after);
	}
	return 0;
}

/* ---- deliveries ------------------------------------------------------------------ */

enum fetch_result { FETCH_READY, FETCH_PENDING, FETCH_FAILED };

/*
 * Asks validator idx for the delivery of rt's next nonce. Out (FETCH_READY):
 * *ret_hex (malloc'd), id (the message id, computed here), *ret_epoch (its
 * certificate's epoch). An answer that
 * does not parse, a delivery that does not decode or is not the message
 * asked for: FETCH_FAILED with why. Returns a fetch_result, or an error of
 * the request (why set), -IST_ENOMEM.
 */
static int fetch_from(struct relay *r, size_t idx, const struct relay_route *rt, char **ret_hex,
		      uint8_t id[IST_HASH_BYTES], uint64_t *ret_epoch, char *why, size_t whylen)
{
	char path[RELAY_PATH_MAX], label[IST_HTTP_CLIENT_URL_MAX + RELAY_PATH_MAX];
	snprintf(path, sizeof(path), "/v1/deliveries/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "%s", rt->src, rt->dst, rt->next,
		 r->scheme_query);
	struct ist_cli_rpc_answer a;
	int rc = val_request(r, idx, path, false, 0, &a, why, whylen);
	if (rc < 0)
		return rc;
	if (a.status == 404) {
		char code[IST_CLI_RPC_CODE_MAX], detail[IST_CLI_RPC_DETAIL_MAX];
		ist_cli_rpc_error(&a, code, detail);
		ist_cli_rpc_answer_fini(&a);
		ist_log_warn(RELAY_SUBSYS, "validator %s does not know route %" PRIu64 "->%" PRIu64 " (%s): waiting",
			     r->val[idx].url, rt->src, rt->dst, detail);
		return FETCH_PENDING;
	}
	answer_label(r, idx, path, label, sizeof(label));
	struct ist_json_err err;
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, label, &err);
	const char *status = ist_json_string(&jr, a.doc, "", "status", true, "");
	if (ist_json_ok(&jr) && strcmp(status, "pending") == 0) {
		const char *reason = ist_json_string(&jr, a.doc, "", "reason", false, "?");
		ist_log_debug(RELAY_SUBSYS, "%" PRIu64 "->%" PRIu64 " nonce %" PRIu64 ": pending on %s (%s)", rt->src,
			      rt->dst, rt->next, r->val[idx].url, reason);
		ist_cli_rpc_answer_fini(&a);
		return FETCH_PENDING;
	}
	if (ist_json_ok(&jr) && strcmp(status, "ready") != 0)
		ist_json_fail(&jr, -IST_EPARSE, "status", "must be \"ready\" or \"pending\"");
	const char *hex = ist_json_string(&jr, a.doc, "", "delivery", true, "");
	if (!ist_json_ok(&jr)) {
		ist_json_err_format(&err, why, whylen);
		ist_cli_rpc_answer_fini(&a);
		return FETCH_FAILED;
	}
	uint8_t *bytes = NULL;
	size_t len = 0;
	struct ist_delivery *d = NULL;
	const char *reason = NULL;
	int result = FETCH_FAILED;
	if (strlen(hex) > 2 * (size_t)IST_WIRE_MAX_DELIVERY_BYTES + 2) {
		snprintf(why, whylen, "%s: delivery: over %d bytes", label, IST_WIRE_MAX_DELIVERY_BYTES);
	} else if ((rc = ist_hex_decode_alloc(hex, &bytes, &len)) < 0) {
		if (rc == -IST_ENOMEM)
			result = -IST_ENOMEM;
		snprintf(why, whylen, "%s: delivery: not hex", label);
	} else if ((rc = ist_wire_delivery_decode(bytes, len, &d, &reason)) < 0) {
		if (rc == -IST_ENOMEM)
			result = -IST_ENOMEM;
		snprintf(why, whylen, "%s: delivery: not a valid Delivery (%s)", label, reason ? reason : ist_strerror(rc));
	} else if (d->message.src_chain != rt->src || d->message.dst_chain != rt->dst || d->message.nonce != rt->next) {
		snprintf(why, whylen, "%s: delivery: carries message %" PRIu64 " of route %" PRIu64 "->%" PRIu64
			 ", not the one asked for", label, d->message.nonce, d->message.src_chain, d->message.dst_chain);
	} else if (ist_wire_message_id(&d->message, id) < 0) {
		snprintf(why, whylen, "%s: delivery: the message has no id", label);
	} else if (d->certificate.scheme != r->scheme) {
		/* a validator that does not know ?scheme= serves its default */
		snprintf(why, whylen, "%s: delivery: certified with %s, not the %s asked for", label,
			 ist_wire_cert_scheme_name(d->certificate.scheme), ist_wire_cert_scheme_name(r->scheme));
	} else if (!(*ret_hex = strdup(hex))) {
		result = -IST_ENOMEM;
	} else {
		*ret_epoch = d->certificate.epoch;
		result = FETCH_READY;
	}
	ist_wire_delivery_free(d);
	free(bytes);
	ist_cli_rpc_answer_fini(&a);
	return result;
}

/* fetch_from the validator in use, failing over like val_get. Returns
 * FETCH_READY or FETCH_PENDING (*ret_idx: the validator that said so),
 * -IST_ENET (none answered), -IST_ECLOSED, -IST_ENOMEM. */
static int fetch(struct relay *r, const struct relay_route *rt, char **ret_hex, uint8_t id[IST_HASH_BYTES],
		 uint64_t *ret_epoch, size_t *ret_idx)
{
	char why[IST_HTTP_CLIENT_ERR_MAX + 512], what[RELAY_PATH_MAX + 8];
	snprintf(what, sizeof(what), "GET /v1/deliveries/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "%s", rt->src, rt->dst, rt->next,
		 r->scheme_query);
	for (size_t tries = 0; tries < r->n_val; tries++) {
		if (relay_stopping(r))
			return -IST_ECLOSED;
		size_t idx = r->cur;
		int rc = fetch_from(r, idx, rt, ret_hex, id, ret_epoch, why, sizeof(why));
		if (rc == FETCH_READY || rc == FETCH_PENDING) {
			r->val_streak = 0;
			*ret_idx = idx;
			return rc;
		}
		if (rc == -IST_ECLOSED || rc == -IST_ENOMEM)
			return rc;
		val_failed(r, idx, what, why);
	}
	return -IST_ENET;
}

enum post_result { POST_DELIVERED, POST_REPLAY, POST_REFUSED, POST_DOWN };

struct post_out {
	uint64_t height;                 /* DELIVERED, REPLAY: the destination's height */
	uint8_t id[IST_HASH_BYTES];      /* DELIVERED, REPLAY: the message id recorded */
	bool same;                       /* REPLAY: the recorded message is this one */
	char code[IST_CLI_RPC_CODE_MAX]; /* REFUSED: the reason */
	char detail[IST_CLI_RPC_DETAIL_MAX + IST_HTTP_CLIENT_ERR_MAX + 64];   /* REFUSED, DOWN: why */
};

/* Keeps a reason from a destination as a metric label only when it looks
 * like one (a-z, 0-9, '-'; at most 32): anything else is "other". */
static const char *reason_label(const char *code)
{
	size_t n = strlen(code);
	if (n == 0 || n > 32)
		return "other";
	for (size_t i = 0; i < n; i++)
		if (!((code[i] >= 'a' && code[i] <= 'z') || (code[i] >= '0' && code[i] <= '9') || code[i] == '-'))
			return "other";
	return code;
}

/* POSTs {"delivery": hex} to the destination's inbox. Returns a
 * post_result, or -IST_ENOMEM. */
static int post(struct relay_dest *dst, const char *hex, struct post_out *out)
{
	memset(out, 0, sizeof(*out));
	json_t *body = json_pack("{s:s}", "delivery", hex);
	if (!body)
		return -IST_ENOMEM;
	struct ist_cli_rpc_answer a;
	char why[IST_HTTP_CLIENT_ERR_MAX];
	int rc = ist_cli_rpc_call(dst->http, "POST", "/v1/inbox", body, 0, &a, why, sizeof(why));
	json_decref(body);
	if (rc == -IST_ENOMEM)
		return rc;
	if (rc < 0) {
		snprintf(out->detail, sizeof(out->detail), "POST /v1/inbox: %s", why);
		return POST_DOWN;
	}
	char detail[IST_CLI_RPC_DETAIL_MAX];
	ist_cli_rpc_error(&a, out->code, detail);
	int result = POST_DOWN;
	struct ist_json_err err;
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, "POST /v1/inbox", &err);
	if (a.status == 200 || (a.status == 409 && strcmp(out->code, "replay") == 0)) {
		need_object(&jr, a.doc, "");
		out->height = ist_json_u64(&jr, a.doc, "", "height", true, 0, 0);
		ist_json_hex(&jr, a.doc, "", "message_id", out->id, sizeof(out->id), "a message id");
		out->same = a.status == 200 || ist_json_bool(&jr, a.doc, "", "same_message", false);
		if (ist_json_ok(&jr))
			result = a.status == 200 ? POST_DELIVERED : POST_REPLAY;
		else
			ist_json_err_format(&err, out->detail, sizeof(out->detail));
	} else if (a.status == 400 && out->code[0]) {
		snprintf(out->detail, sizeof(out->detail), "%s", detail);
		result = POST_REFUSED;
	} else {
		/* 5xx: the chain cannot answer now; another 4xx: it does not
		 * speak the inbox protocol (a wrong URL?): retried later either
		 * way, and logged */
		snprintf(out->detail, sizeof(out->detail), "POST /v1/inbox: HTTP status %u%s%s: %s", (unsigned)a.status,
			 out->code[0] ? " " : "", out->code, detail);
	}
	ist_cli_rpc_answer_fini(&a);
	return result;
}

static void dest_down(struct relay *r, struct relay_dest *d, const char *why)
{
	ist_metric_inc(r->m.dest_errors, NULL);
	if (!d->down)
		ist_log_warn(RELAY_SUBSYS, "chain %" PRIu64 " at %s: %s (retrying, with a back-off up to %d s)", d->chain,
			     d->url, why, RELAY_BACKOFF_MAX_MS / 1000);
	else
		ist_log_debug(RELAY_SUBSYS, "chain %" PRIu64 " at %s: %s", d->chain, d->url, why);
	d->backoff_ms = d->down ? IST_MIN(d->backoff_ms * 2, (uint32_t)RELAY_BACKOFF_MAX_MS) : RELAY_DEST_BACKOFF_MIN_MS;
	d->down = true;
	d->retry_at_ms = relay_now_ms() + d->backoff_ms;
	r->problems++;
}

static void dest_up(struct relay_dest *d)
{
	if (d->down)
		ist_log_info(RELAY_SUBSYS, "chain %" PRIu64 " at %s answers again", d->chain, d->url);
	d->down = false;
	d->backoff_ms = 0;
}

/* ---- epoch hand-overs ---------------------------------------------------------- */

enum follow_result { FOLLOW_OK = 0, FOLLOW_WAIT, FOLLOW_REFUSED };

/* The destination's routes wait for a hand-over (a back-off from
 * RELAY_HOLD_MIN_MS doubling to RELAY_BACKOFF_MAX_MS): logged at info the
 * first time, at debug after. */
static void hold(struct relay *r, struct relay_dest *d, const char *why)
{
	bool first = d->hold_ms == 0;
	d->hold_ms = first ? RELAY_HOLD_MIN_MS : IST_MIN(d->hold_ms * 2, (uint32_t)RELAY_BACKOFF_MAX_MS);
	d->hold_until_ms = relay_now_ms() + d->hold_ms;
	r->problems++;
	if (first)
		ist_log_info(RELAY_SUBSYS, "chain %" PRIu64 ": %s; its deliveries wait (retrying, with a back-off up to %d s)",
			     d->chain, why, RELAY_BACKOFF_MAX_MS / 1000);
	else
		ist_log_debug(RELAY_SUBSYS, "chain %" PRIu64 ": %s; retrying in %u ms", d->chain, why, (unsigned)d->hold_ms);
}

static void unhold(struct relay_dest *d)
{
	d->hold_ms = 0;
	d->hold_until_ms = 0;
}

/* GET /v1/inbox/epochs of the destination: its current trusted epoch.
 * Returns FOLLOW_OK (d->epoch_known, d->epoch set; or d->no_epochs),
 * FOLLOW_WAIT (the destination is down: logged), -IST_ENOMEM. */
static int dest_epoch(struct relay *r, struct relay_dest *d)
{
	struct ist_cli_rpc_answer a;
	char why[IST_HTTP_CLIENT_ERR_MAX], line[1024];
	int rc = ist_cli_rpc_call(d->http, "GET", "/v1/inbox/epochs", NULL, 0, &a, why, sizeof(why));
	if (rc == -IST_ENOMEM)
		return rc;
	if (rc < 0) {
		snprintf(line, sizeof(line), "GET /v1/inbox/epochs: %s", why);
		dest_down(r, d, line);
		return FOLLOW_WAIT;
	}
	if (a.status == 404) {
		ist_cli_rpc_answer_fini(&a);
		if (!d->no_epochs)
			ist_log_warn(RELAY_SUBSYS, "chain %" PRIu64 " at %s does not serve GET /v1/inbox/epochs: epoch "
				     "hand-overs are not brought to it (its deliveries still are)", d->chain, d->url);
		d->no_epochs = true;
		return FOLLOW_OK;
	}
	struct ist_json_err err;
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, "GET /v1/inbox/epochs", &err);
	if (a.status != 200)
		ist_json_fail(&jr, -IST_EPARSE, "", "HTTP status %u", (unsigned)a.status);
	need_object(&jr, a.doc, "");
	json_t *cur = ist_json_member(&jr, a.doc, "", "current", true);
	uint64_t epoch = 0;
	bool known = cur && !json_is_null(cur);
	if (known)
		epoch = ist_json_u64(&jr, a.doc, "", "current", true, 0, 0);
	ist_cli_rpc_answer_fini(&a);
	if (!ist_json_ok(&jr)) {
		dest_down(r, d, ist_json_err_format(&err, line, sizeof(line)));
		return FOLLOW_WAIT;
	}
	dest_up(d);
	if (!known) {
		/* it trusts no set: nothing to follow from; the delivery will be
		 * refused (no-validator-set) and say so */
		d->epoch_known = false;
		return FOLLOW_OK;
	}
	if (!d->epoch_known || d->epoch != epoch)
		ist_log_info(RELAY_SUBSYS, "chain %" PRIu64 " trusts the validator set of epoch %" PRIu64, d->chain, epoch);
	d->epoch_known = true;
	d->epoch = epoch;
	char label[24];
	snprintf(label, sizeof(label), "%" PRIu64, d->chain);
	ist_metric_set(r->m.dest_epoch, label, (double)epoch);
	return FOLLOW_OK;
}

/*
 * The hand-over document of epoch k from the validators (failing over).
 * Out: *ret_doc (a new reference: the node's JSON, to be posted as it is),
 * *h (parsed). Returns FOLLOW_OK, FOLLOW_WAIT (not certified yet, or no
 * validator knows epoch k yet: d held), -IST_ENET (no validator answered
 * usably), -IST_ECLOSED, -IST_ENOMEM.
 */
static int fetch_handover(struct relay *r, struct relay_dest *d, uint64_t k, struct ist_handover *h, json_t **ret_doc)
{
	char path[RELAY_PATH_MAX], label[IST_HTTP_CLIENT_URL_MAX + RELAY_PATH_MAX], line[1024], why[256 + RELAY_PATH_MAX];
	snprintf(path, sizeof(path), "/v1/epochs/%" PRIu64 "%s", k, r->scheme_query);
	for (size_t tries = 0; tries < r->n_val; tries++) {
		struct ist_cli_rpc_answer a;
		size_t idx;
		int rc = val_get(r, path, &a, &idx);
		if (rc < 0)
			return rc;
		if (a.status == 404) {
			ist_cli_rpc_answer_fini(&a);
			snprintf(why, sizeof(why), "validator %s does not know epoch %" PRIu64 " yet (GET %s: 404)",
				 r->val[idx].url, k, path);
			hold(r, d, why);
			return FOLLOW_WAIT;
		}
		struct ist_json_err err;
		struct ist_json_reader jr;
		answer_label(r, idx, path, label, sizeof(label));
		ist_json_reader_init(&jr, label, &err);
		ist_handover_read(&jr, a.doc, "", h);
		if (ist_json_ok(&jr) && h->epoch != k)
			ist_json_fail(&jr, -IST_EPARSE, "epoch", "%" PRIu64 ", not the epoch asked for", h->epoch);
		if (ist_json_ok(&jr) && h->has_certificate && h->cert.scheme != r->scheme)
			ist_json_fail(&jr, -IST_EPARSE, "handover.certificate", "certified with %s, not the %s asked for",
				      ist_wire_cert_scheme_name(h->cert.scheme), ist_wire_cert_scheme_name(r->scheme));
		if (ist_json_code(&jr) == -IST_ENOMEM) {
			ist_cli_rpc_answer_fini(&a);
			return -IST_ENOMEM;
		}
		if (ist_json_ok(&jr)) {
			if (!h->has_certificate) {
				ist_cli_rpc_answer_fini(&a);
				snprintf(why, sizeof(why), "the hand-over to epoch %" PRIu64 " (block %" PRIu64 ") has no "
					 "certificate yet%s%s%s on validator %s", k, h->height, r->scheme_query[0] ? " (" : "",
					 r->scheme_query[0] ? ist_wire_cert_scheme_name(r->scheme) : "",
					 r->scheme_query[0] ? ")" : "", r->val[idx].url);
				hold(r, d, why);
				return FOLLOW_WAIT;
			}
			*ret_doc = json_incref(a.doc);
			ist_cli_rpc_answer_fini(&a);
			return FOLLOW_OK;
		}
		ist_cli_rpc_answer_fini(&a);
		ist_json_err_format(&err, line, sizeof(line));
		ist_metric_inc(r->m.val_errors, NULL);
		r->val_streak++;
		ist_log_warn(RELAY_SUBSYS, "%s", line);
		if (idx == r->cur)
			switch_validator(r);
	}
	return -IST_ENET;
}

/*
 * Brings destination d up to `epoch` (a delivery's certificate epoch):
 * when it is above the destination's current trusted epoch, posts the
 * hand-overs to current + 1 .. epoch in turn. Out: code (FOLLOW_REFUSED:
 * the destination's reason). Returns FOLLOW_OK (post the delivery),
 * FOLLOW_WAIT (d is down or held: logged), FOLLOW_REFUSED (d refused a
 * hand-over: logged and counted), -IST_ENET, -IST_ECLOSED, -IST_ENOMEM.
 */
static int follow_epochs(struct relay *r, struct relay_dest *d, uint64_t epoch, char code[IST_CLI_RPC_CODE_MAX])
{
	code[0] = '\0';
	/* epoch 0 never needs a hand-over (and then a destination is not even
	 * asked: a network that has not changed sets costs no request) */
	if (epoch == 0 || d->no_epochs || (d->epoch_known && epoch <= d->epoch))
		return FOLLOW_OK;
	int rc = dest_epoch(r, d);
	if (rc == FOLLOW_OK && (d->no_epochs || !d->epoch_known || epoch <= d->epoch))
		unhold(d);   /* up to date (another relayer, perhaps): nothing to wait for */
	if (rc != FOLLOW_OK || d->no_epochs || !d->epoch_known || epoch <= d->epoch)
		return rc;
	ist_log_info(RELAY_SUBSYS, "chain %" PRIu64 " trusts epoch %" PRIu64 ", a delivery is certified by epoch %" PRIu64
		     ": bringing it the hand-overs", d->chain, d->epoch, epoch);
	struct ist_handover *h = malloc(sizeof(*h));
	if (!h)
		return -IST_ENOMEM;
	char label[24];
	snprintf(label, sizeof(label), "%" PRIu64, d->chain);
	rc = FOLLOW_OK;
	for (uint64_t k = d->epoch + 1; k <= epoch && rc == FOLLOW_OK; k++) {
		if (relay_stopping(r)) {
			rc = -IST_ECLOSED;
			break;
		}
		json_t *doc = NULL;
		if ((rc = fetch_handover(r, d, k, h, &doc)) != FOLLOW_OK)
			break;
		json_t *body = json_pack("{s:o}", "handover", doc);
		if (!body) {
			rc = -IST_ENOMEM;
			break;
		}
		struct ist_cli_rpc_answer a;
		char why[IST_HTTP_CLIENT_ERR_MAX], detail[IST_CLI_RPC_DETAIL_MAX], line[IST_CLI_RPC_DETAIL_MAX + 256];
		int prc = ist_cli_rpc_call(d->http, "POST", "/v1/inbox/epochs", body, 0, &a, why, sizeof(why));
		json_decref(body);
		if (prc == -IST_ENOMEM) {
			rc = prc;
			break;
		}
		if (prc < 0) {
			snprintf(line, sizeof(line), "POST /v1/inbox/epochs: %s", why);
			dest_down(r, d, line);
			rc = FOLLOW_WAIT;
			break;
		}
		ist_cli_rpc_error(&a, code, detail);
		bool already = a.status == 200 && a.doc && json_is_true(json_object_get(a.doc, "already"));
		uint16_t status = a.status;
		ist_cli_rpc_answer_fini(&a);
		if (status == 200) {
			dest_up(d);
			unhold(d);
			d->epoch = k;
			ist_metric_set(r->m.dest_epoch, label, (double)k);
			if (already) {
				ist_log_info(RELAY_SUBSYS, "chain %" PRIu64 ": the hand-over to epoch %" PRIu64 " was there already",
					     d->chain, k);
			} else {
				ist_metric_inc(r->m.handovers, label);
				ist_log_info(RELAY_SUBSYS, "chain %" PRIu64 " follows the hand-over to epoch %" PRIu64 " (%zu "
					     "validators, %" PRIu64 " stake; certified by epoch %" PRIu64 " at height %" PRIu64 ")",
					     d->chain, k, h->next.n, h->next.total, h->cert.epoch, h->height);
			}
			continue;
		}
		if (status == 400 && (strcmp(code, "handover-epoch") == 0 || strcmp(code, "handover-uncertified") == 0)) {
			/* our view of the destination was stale (it moved back: a new
			 * chain on the same URL?), or the node's document changed
			 * under us: ask it again after a wait */
			d->epoch_known = false;
			snprintf(line, sizeof(line), "it refused the hand-over to epoch %" PRIu64 " (%s: %s)", k, code, detail);
			ist_metric_inc(r->m.handover_rejected, code);
			hold(r, d, line);
			rc = FOLLOW_WAIT;
			break;
		}
		if ((status == 400 || status == 409) && code[0]) {
			ist_metric_inc(r->m.handover_rejected, code);
			r->problems++;
			ist_log_error(RELAY_SUBSYS, "chain %" PRIu64 " refused the hand-over to epoch %" PRIu64 " from validator "
				      "%s: %s: %s", d->chain, k, r->val[r->cur].url, code, detail);
			d->epoch_known = false;
			rc = FOLLOW_REFUSED;
			break;
		}
		snprintf(line, sizeof(line), "POST /v1/inbox/epochs: HTTP status %u%s%s: %s", (unsigned)status,
			 code[0] ? " " : "", code, detail);
		dest_down(r, d, line);
		rc = FOLLOW_WAIT;
	}
	free(h);
	return rc;
}

static void advance(struct relay *r, struct relay_route *rt)
{
	rt->next++;
	r->dirty = true;
	r->unsaved++;
	relay_route_changed(r, rt);
	if (r->unsaved >= RELAY_SAVE_EVERY)
		(void)relay_state_save(r);
}

static void block(struct relay *r, struct relay_route *rt, const char *code)
{
	rt->st = ROUTE_BLOCKED;
	size_t k = 0;
	for (size_t i = 0; i < r->n_routes; i++)
		k += r->routes[i].st == ROUTE_BLOCKED;
	ist_metric_set(r->m.blocked, NULL, (double)k);
	ist_log_error(RELAY_SUBSYS, "route %" PRIu64 "->%" PRIu64 " is blocked at nonce %" PRIu64 ": chain %" PRIu64
		      " refuses its delivery (%s); the other routes go on. Look into it, then restart the relayer to "
		      "try again", rt->src, rt->dst, rt->next, rt->dst, code);
}

static void log_done(const struct relay_route *rt, int result, const struct post_out *out,
		     const uint8_t id[IST_HASH_BYTES])
{
	char rid[2 * IST_HASH_BYTES + 1], sid[2 * IST_HASH_BYTES + 1];
	ist_hex_encode(out->id, sizeof(out->id), rid);
	ist_hex_encode(id, IST_HASH_BYTES, sid);
	if (result == POST_DELIVERED)
		ist_log_info(RELAY_SUBSYS, "delivered %" PRIu64 "->%" PRIu64 " nonce %" PRIu64 " (id %.*s) at height %" PRIu64
			     " of chain %" PRIu64, rt->src, rt->dst, rt->next, SHORT_ID, rid, out->height, rt->dst);
	else if (out->same)
		ist_log_info(RELAY_SUBSYS, "%" PRIu64 "->%" PRIu64 " nonce %" PRIu64 " (id %.*s) was delivered before"
			     " (height %" PRIu64 " of chain %" PRIu64 "): done", rt->src, rt->dst, rt->next, SHORT_ID, rid,
			     out->height, rt->dst);
	else
		ist_log_error(RELAY_SUBSYS, "%" PRIu64 "->%" PRIu64 " nonce %" PRIu64 ": chain %" PRIu64 " holds another "
			      "message for this nonce (id %.*s, height %" PRIu64 ") than the certified one (id %.*s): a sign "
			      "of equivocation upstream; the nonce is used up, moving on", rt->src, rt->dst, rt->next,
			      rt->dst, SHORT_ID, rid, out->height, SHORT_ID, sid);
}

/* Delivers rt's next nonce. Returns 0 (delivered, or the route's state
 * changed), 1 (the destination is down), or -IST_ENET, -IST_ECLOSED,
 * -IST_ENOMEM. */
static int deliver_one(struct relay *r, struct relay_route *rt)
{
	char *hex = NULL;
	uint8_t id[IST_HASH_BYTES];
	uint64_t epoch = 0;
	size_t idx;
	int rc = fetch(r, rt, &hex, id, &epoch, &idx);
	if (rc < 0)
		return rc;
	if (rc == FETCH_PENDING) {
		rt->st = ROUTE_PENDING;
		return 0;
	}
	struct post_out out;
	for (int attempt = 0;; attempt++) {
		char code[IST_CLI_RPC_CODE_MAX];
		rc = follow_epochs(r, rt->dest, epoch, code);
		if (rc != FOLLOW_OK)
			free(hex);
		if (rc < 0)
			return rc;
		if (rc == FOLLOW_WAIT)
			return 1;
		if (rc == FOLLOW_REFUSED) {
			block(r, rt, code);
			return 0;
		}
		rc = post(rt->dest, hex, &out);
		free(hex);
		hex = NULL;
		if (rc < 0)
			return rc;
		if (rc == POST_DOWN) {
			dest_down(r, rt->dest, out.detail);
			return 1;
		}
		dest_up(rt->dest);
		if (rc == POST_DELIVERED || rc == POST_REPLAY)
			break;
		/* refused: the destination checked the delivery and it failed */
		char sid[2 * IST_HASH_BYTES + 1];
		ist_hex_encode(id, sizeof(id), sid);
		ist_metric_inc(r->m.rejected, reason_label(out.code));
		r->problems++;
		ist_log_error(RELAY_SUBSYS, "%" PRIu64 "->%" PRIu64 " nonce %" PRIu64 " (id %.*s): chain %" PRIu64
			      " refused the delivery from %s: %s: %s", rt->src, rt->dst, rt->next, SHORT_ID, sid, rt->dst,
			      r->val[idx].url, out.code, out.detail);
		if (strcmp(out.code, "unknown-epoch") == 0 || strcmp(out.code, "epoch-expired") == 0)
			ist_log_error(RELAY_SUBSYS, "%" PRIu64 "->%" PRIu64 " nonce %" PRIu64 ": the delivery's certificate is of "
				      "epoch %" PRIu64 "; chain %" PRIu64 " %s", rt->src, rt->dst, rt->next, epoch, rt->dst,
				      out.code[0] == 'u' ? "has not followed the hand-overs to it"
							 : "no longer accepts that epoch (past its grace after a hand-over): a "
							   "delivery certified by a later epoch is needed");
		if (attempt > 0 || r->n_val == 1) {
			block(r, rt, out.code);
			return 0;
		}
		/* once more, from the next validator */
		size_t other = (idx + 1) % r->n_val;
		char why[IST_HTTP_CLIENT_ERR_MAX + 512];
		ist_log_info(RELAY_SUBSYS, "%" PRIu64 "->%" PRIu64 " nonce %" PRIu64 ": trying the delivery of %s", rt->src,
			     rt->dst, rt->next, r->val[other].url);
		rc = fetch_from(r, other, rt, &hex, id, &epoch, why, sizeof(why));
		if (rc == -IST_ENOMEM)
			return rc;
		if (rc != FETCH_READY) {
			if (rc != FETCH_PENDING)
				ist_log_warn(RELAY_SUBSYS, "validator %s: %s", r->val[other].url, why);
			block(r, rt, out.code);
			return 0;
		}
		idx = other;
	}
	if (rc == POST_DELIVERED)
		ist_metric_inc(r->m.delivered, rt->label);
	else
		ist_metric_inc(r->m.replays, NULL);
	log_done(rt, rc, &out, id);
	advance(r, rt);
	return 0;
}

int relay_catch_up(struct relay *r)
{
	for (;;) {
		bool worked = false;
		for (size_t i = 0; i < r->n_routes; i++) {
			struct relay_route *rt = &r->routes[i];
			if (!rt->dest || rt->st != ROUTE_IDLE || rt->next >= rt->target)
				continue;
			if (relay_now_ms() < relay_dest_ready_at(rt->dest))
				continue;   /* down, or waiting for a hand-over */
			for (int k = 0; k < RELAY_BATCH && rt->st == ROUTE_IDLE && rt->next < rt->target; k++) {
				if (relay_stopping(r)) {
					(void)relay_state_save(r);
					return -IST_ECLOSED;
				}
				int rc = deliver_one(r, rt);
				if (rc < 0) {
					(void)relay_state_save(r);
					return rc;
				}
				if (rc == 1)
					break;
				worked = true;
			}
			(void)relay_state_save(r);
		}
		if (!worked)
			return 0;
	}
}
