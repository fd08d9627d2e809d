/*
 * The relayer's routes and its state file:
 *
 *   {"format": "isthmus-relay-state/v1",
 *    "validator": "http://127.0.0.1:26800", "boot": "9f86d081884c7d65", "after": 12,
 *    "routes": [{"src_chain": 1, "dst_chain": 2, "next_nonce": 17}, ...]}
 *
 * "validator", "boot" and "after" are the event cursor of that validator
 * (absent together when there is none). u64 values follow the JSON rule of
 * common/json.h. Written atomically with mode 0600 (common/file.h); losing
 * the last writes (a crash) only makes the relayer deliver some messages
 * again, which the destination refuses as replays.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/relay.h"
#include "common/err.h"
#include "common/file.h"
#include "common/json.h"
#include "common/log.h"

static struct relay_dest *dest_of(struct relay *r, uint64_t chain)
{
	for (size_t i = 0; i < r->n_dest; i++)
		if (r->dest[i].chain == chain)
			return &r->dest[i];
	return NULL;
}

struct relay_route *relay_route_get(struct relay *r, uint64_t src, uint64_t dst, bool create)
{
	for (size_t i = 0; i < r->n_routes; i++)
		if (r->routes[i].src == src && r->routes[i].dst == dst)
			return &r->routes[i];
	if (!create)
		return NULL;
	if (r->n_routes == RELAY_MAX_ROUTES) {
		if (!r->routes_full_logged)
			ist_log_error(RELAY_SUBSYS, "more than %d routes: route %" PRIu64 "->%" PRIu64 " and later ones are ignored",
				      RELAY_MAX_ROUTES, src, dst);
		r->routes_full_logged = true;
		return NULL;
	}
	struct relay_route *rt = &r->routes[r->n_routes++];
	memset(rt, 0, sizeof(*rt));
	rt->src = src;
	rt->dst = dst;
	rt->dest = dest_of(r, dst);
	snprintf(rt->label, sizeof(rt->label), "%" PRIu64 "-%" PRIu64, src, dst);
	return rt;
}

static const char *const top_fields[] = { "format", "validator", "boot", "after", "routes", NULL };
static const char *const route_fields[] = { "src_chain", "dst_chain", "next_nonce", NULL };

int relay_state_load(struct relay *r, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	struct ist_json_err jerr;
	char line[2048];
	int rc = ist_json_file_read(r->state_path, RELAY_STATE_MAX, &text, &len, &jerr);
	if (rc == -IST_ENOTFOUND) {
		ist_log_info(RELAY_SUBSYS, "%s: no state file yet: every route starts at nonce 0", r->state_path);
		return 0;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", ist_json_err_format(&jerr, line, sizeof(line)));
		return rc;
	}
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, r->state_path, &jerr);
	json_t *doc = ist_json_parse(&jr, text, len);
	ist_json_object(&jr, doc, "", top_fields);
	const char *format = ist_json_string(&jr, doc, "", "format", true, "");
	if (ist_json_ok(&jr) && strcmp(format, RELAY_STATE_FORMAT) != 0)
		ist_json_fail(&jr, -IST_EUNSUPPORTED, "format", "must be \"%s\"", RELAY_STATE_FORMAT);
	const char *url = ist_json_string(&jr, doc, "", "validator", false, NULL);
	const char *boot = ist_json_string(&jr, doc, "", "boot", url != NULL, "");
	uint64_t after = ist_json_u64(&jr, doc, "", "after", url != NULL, 0, 0);
	if (ist_json_ok(&jr) && strlen(boot) >= RELAY_BOOT_MAX)
		ist_json_fail(&jr, -IST_ECONFIG, "boot", "must be at most %d characters", RELAY_BOOT_MAX - 1);
	json_t *routes = ist_json_array(&jr, doc, "", "routes", true, 0, RELAY_MAX_ROUTES);
	for (size_t i = 0; ist_json_ok(&jr) && i < json_array_size(routes); i++) {
		char path[IST_JSON_ERR_FIELD_MAX];
		ist_json_index(path, "routes", i);
		json_t *o = json_array_get(routes, i);
		ist_json_object(&jr, o, path, route_fields);
		uint64_t src = ist_json_u64(&jr, o, path, "src_chain", true, 0, 1);
		uint64_t dst = ist_json_u64(&jr, o, path, "dst_chain", true, 0, 1);
		uint64_t next = ist_json_u64(&jr, o, path, "next_nonce", true, 0, 0);
		if (!ist_json_ok(&jr))
			break;
		if (relay_route_get(r, src, dst, false)) {
			ist_json_fail(&jr, -IST_ECONFIG, path, "route %" PRIu64 "->%" PRIu64 " is listed twice", src, dst);
			break;
		}
		struct relay_route *rt = relay_route_get(r, src, dst, true);
		rt->next = next;
		rt->target = next;
	}
	if (ist_json_ok(&jr) && url) {
		for (size_t i = 0; i < r->n_val; i++) {
			if (strcmp(r->val[i].url, url) == 0) {
				r->cur = i;
				r->have_boot = true;
				snprintf(r->boot, sizeof(r->boot), "%s", boot);
				r->after = after;
			}
		}
		if (!r->have_boot)
			ist_log_info(RELAY_SUBSYS, "%s: the event cursor is of %s, which is not a --validator now: not kept",
				     r->state_path, url);
	}
	json_decref(doc);
	free(text);
	if (!ist_json_ok(&jr)) {
		snprintf(err, errlen, "%s", ist_json_err_format(&jerr, line, sizeof(line)));
		return ist_json_code(&jr);
	}
	for (size_t i = 0; i < r->n_routes; i++)
		relay_route_changed(r, &r->routes[i]);
	ist_log_info(RELAY_SUBSYS, "%s: %zu routes, event cursor %s", r->state_path, r->n_routes,
		     r->have_boot ? "kept" : "none");
	return 0;
}

static json_t *state_json(struct relay *r)
{
	json_t *o = json_object(), *routes = json_array();
	if (!o || !routes) {
		json_decref(o);
		json_decref(routes);
		return NULL;
	}
	bool ok = json_object_set_new(o, "format", json_string(RELAY_STATE_FORMAT)) == 0;
	if (r->have_boot) {
		ok = ok && json_object_set_new(o, "validator", json_string(r->val[r->cur].url)) == 0;
		ok = ok && json_object_set_new(o, "boot", json_string(r->boot)) == 0;
		ok = ok && json_object_set_new(o, "after", ist_json_from_u64(r->after)) == 0;
	}
	for (size_t i = 0; ok && i < r->n_routes; i++) {
		const struct relay_route *rt = &r->routes[i];
		json_t *jr = json_object();
		ok = jr && json_object_set_new(jr, "src_chain", ist_json_from_u64(rt->src)) == 0 &&
		     json_object_set_new(jr, "dst_chain", ist_json_from_u64(rt->dst)) == 0 &&
		     json_object_set_new(jr, "next_nonce", ist_json_from_u64(rt->next)) == 0;
		ok = json_array_append_new(routes, jr) == 0 && ok;
	}
	ok = json_object_set_new(o, "routes", routes) == 0 && ok;
	if (!ok) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int relay_state_save(struct relay *r)
{
	if (!r->dirty)
		return 0;
	char *text = NULL;
	json_t *o = state_json(r);
	int rc = ist_json_dump_text(o, &text);
	json_decref(o);
	if (rc < 0) {
		ist_log_error(RELAY_SUBSYS, "%s: cannot save the state: %s", r->state_path, ist_strerror(rc));
		return rc;
	}
	struct ist_file_fail f;
	rc = ist_file_write_atomic(r->state_path, text, strlen(text), 0600, true, &f);
	free(text);
	if (rc < 0) {
		/* the next save tries again; meanwhile a restart redelivers a
		 * little more, which the destinations refuse as replays */
		ist_log_error(RELAY_SUBSYS, "%s: cannot save the state: %s", r->state_path,
			      f.errnum ? strerror(f.errnum) : ist_strerror(rc));
		return rc;
	}
	r->dirty = false;
	r->unsaved = 0;
	return 0;
}
