/*
 * Decoders of the node's ledger answers (cli/ledger_json.h). Each one reads
 * with a common/json.h reader, which fails once and stays failed: the
 * decoders read on regardless and look at the reader once at the end.
 */
#include "cli/ledger_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "state/verify.h"
#include "wire/codec.h"

/* Starts a decoder: the reader, and `doc` must be an object. */
static bool begin(struct ist_json_reader *jr, json_t *doc, const char *label, struct ist_json_err *err)
{
	ist_json_reader_init(jr, label, err);
	if (!json_is_object(doc)) {
		char got[96];
		ist_json_fail(jr, -IST_ECONFIG, "", "must be a JSON object (got %s)", ist_json_describe(doc, got, sizeof(got)));
		return false;
	}
	return true;
}

/* A member that may be absent or null: NULL for both. */
static json_t *nullable(struct ist_json_reader *jr, json_t *obj, const char *key)
{
	if (jr->code || !json_is_object(obj))
		return NULL;
	json_t *v = json_object_get(obj, key);
	return v && !json_is_null(v) ? v : NULL;
}

/* Copies a string for display: cut to fit, control characters as '?'. */
static void copy_text(char *out, size_t len, const char *s)
{
	snprintf(out, len, "%s", s);
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static void string_into(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required,
			char *out, size_t len)
{
	const char *s = ist_json_string(jr, obj, parent, key, required, "");
	copy_text(out, len, jr->code ? "" : s);
}

/* An element of an array that must be an object; its path in `path`. */
static json_t *element(struct ist_json_reader *jr, json_t *arr, const char *parent, size_t i,
		       char path[IST_JSON_ERR_FIELD_MAX])
{
	char apath[IST_JSON_ERR_FIELD_MAX];
	snprintf(apath, sizeof(apath), "%s", parent);
	ist_json_index(path, apath, i);
	json_t *v = json_array_get(arr, i);
	if (!jr->code && !json_is_object(v)) {
		char got[96];
		ist_json_fail(jr, -IST_ECONFIG, path, "must be a JSON object (got %s)", ist_json_describe(v, got, sizeof(got)));
		return NULL;
	}
	return v;
}

/* calloc of n elements, or NULL for none; fails the reader when out of memory. */
static void *alloc_n(struct ist_json_reader *jr, size_t n, size_t size)
{
	if (jr->code || n == 0)
		return NULL;
	void *p = calloc(n, size);
	if (!p)
		ist_json_fail(jr, -IST_ENOMEM, "", "out of memory");
	return p;
}

/* The path "parent.key" of an array, for its elements' paths. */
static void member_path(char out[IST_JSON_ERR_FIELD_MAX], const char *parent, const char *key)
{
	ist_json_path(out, parent, key);
}

int ist_cli_lj_network_id(json_t *doc, const char *label, uint64_t *ret, struct ist_json_err *err)
{
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	uint64_t id = ist_json_u64(&jr, doc, "", "network_id", true, 0, 1);
	if (!ist_json_ok(&jr))
		return ist_json_code(&jr);
	*ret = id;
	return 0;
}

int ist_cli_lj_submitted(json_t *doc, const char *label, uint8_t ret_id32[IST_HASH_BYTES], struct ist_json_err *err)
{
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	uint8_t id[IST_HASH_BYTES];
	ist_json_hex(&jr, doc, "", "id", id, sizeof(id), "a transaction id");
	if (!ist_json_ok(&jr))
		return ist_json_code(&jr);
	memcpy(ret_id32, id, sizeof(id));
	return 0;
}

/* ---- accounts ------------------------------------------------------------------ */

static struct ist_cli_lj_bond *bond_list(struct ist_json_reader *jr, json_t *doc, const char *key, bool unbonding,
					 size_t *ret_n)
{
	*ret_n = 0;
	json_t *arr = ist_json_array(jr, doc, "", key, true, 0, IST_CLI_LJ_MAX_BONDS);
	size_t n = arr ? json_array_size(arr) : 0;
	struct ist_cli_lj_bond *b = alloc_n(jr, n, sizeof(*b));
	char apath[IST_JSON_ERR_FIELD_MAX], path[IST_JSON_ERR_FIELD_MAX];
	member_path(apath, "", key);
	for (size_t i = 0; i < n && !jr->code; i++) {
		json_t *e = element(jr, arr, apath, i, path);
		ist_json_hex(jr, e, path, "validator", b[i].validator, sizeof(b[i].validator),
			     "a validator's node key");
		b[i].amount = ist_json_u64(jr, e, path, "amount", true, 0, 0);
		if (unbonding)
			b[i].release_epoch = ist_json_u64(jr, e, path, "release_epoch", true, 0, 0);
	}
	*ret_n = b ? n : 0;
	return b;
}

int ist_cli_lj_account_parse(json_t *doc, const char *label, struct ist_cli_lj_account *ret,
			     struct ist_json_err *err)
{
	memset(ret, 0, sizeof(*ret));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	ist_json_hex(&jr, doc, "", "key", ret->key, sizeof(ret->key), "an account key");
	ret->balance = ist_json_u64(&jr, doc, "", "balance", true, 0, 0);
	ret->nonce = ist_json_u64(&jr, doc, "", "nonce", true, 0, 0);
	ist_json_member(&jr, doc, "", "validator", true);
	if (nullable(&jr, doc, "validator")) {
		ist_json_hex(&jr, doc, "", "validator", ret->validator, sizeof(ret->validator), "a validator's node key");
		ret->has_validator = true;
	}
	ret->bonds = bond_list(&jr, doc, "bonds", false, &ret->n_bonds);
	ret->unbonding = bond_list(&jr, doc, "unbonding", true, &ret->n_unbonding);
	return ist_json_code(&jr);
}

void ist_cli_lj_account_fini(struct ist_cli_lj_account *a)
{
	if (!a)
		return;
	free(a->bonds);
	free(a->unbonding);
	memset(a, 0, sizeof(*a));
}

/* ---- transactions ----------------------------------------------------------------- */

int ist_cli_lj_tx_parse(json_t *doc, const char *label, struct ist_cli_lj_tx *ret, struct ist_json_err *err)
{
	struct ist_cli_lj_tx t;
	memset(&t, 0, sizeof(t));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	ist_json_hex(&jr, doc, "", "id", t.id, sizeof(t.id), "a transaction id");
	const char *status = ist_json_string(&jr, doc, "", "status", true, "");
	if (jr.code)
		return jr.code;
	if (strcmp(status, "pending") == 0) {
		*ret = t;
		return 0;
	}
	if (strcmp(status, "committed") != 0) {
		char got[96];
		return ist_json_fail(&jr, -IST_ECONFIG, "status", "must be \"pending\" or \"committed\" (got %s)",
				     ist_json_describe_str(status, got, sizeof(got)));
	}
	t.committed = true;
	t.height = ist_json_u64(&jr, doc, "", "height", true, 0, 0);
	t.index = (uint32_t)ist_json_uint(&jr, doc, "", "index", true, 0, 0, UINT32_MAX);
	string_into(&jr, doc, "", "kind", true, t.kind, sizeof(t.kind));
	ist_json_hex(&jr, doc, "", "sender", t.sender, sizeof(t.sender), "an account key");
	t.nonce = ist_json_u64(&jr, doc, "", "nonce", true, 0, 0);
	const char *result = ist_json_string(&jr, doc, "", "result", true, "");
	if (jr.code)
		return jr.code;
	if (strcmp(result, "ok") == 0) {
		t.ok = true;
	} else if (strcmp(result, "failed") == 0) {
		string_into(&jr, doc, "", "reason", true, t.reason, sizeof(t.reason));
	} else {
		char got[96];
		return ist_json_fail(&jr, -IST_ECONFIG, "result", "must be \"ok\" or \"failed\" (got %s)",
				     ist_json_describe_str(result, got, sizeof(got)));
	}
	if (nullable(&jr, doc, "proposal")) {
		t.proposal = ist_json_u64(&jr, doc, "", "proposal", true, 0, 1);
		t.has_proposal = true;
	}
	if (jr.code)
		return jr.code;
	*ret = t;
	return 0;
}

/* ---- staking ---------------------------------------------------------------------- */

static void validator_row(struct ist_json_reader *jr, json_t *e, const char *path, struct ist_cli_lj_validator *v)
{
	ist_json_hex(jr, e, path, "node_key", v->node_key, sizeof(v->node_key), "an Ed25519 node key");
	ist_json_hex(jr, e, path, "operator", v->operator_key, sizeof(v->operator_key), "an account key");
	ist_json_member(jr, e, path, "name", true);
	if (nullable(jr, e, "name")) {
		string_into(jr, e, path, "name", true, v->name, sizeof(v->name));
		v->has_name = true;
	}
	ist_json_hex(jr, e, path, "attestation_key", v->attestation_key, sizeof(v->attestation_key),
		     "a compressed secp256k1 key");
	ist_json_hex(jr, e, path, "dkg_key", v->dkg_key, sizeof(v->dkg_key), "an X25519 key");
	string_into(jr, e, path, "address", true, v->address, sizeof(v->address));
	v->commission_bps = (uint32_t)ist_json_uint(jr, e, path, "commission_bps", true, 0, 0, 10000);
	v->bonded = ist_json_u64(jr, e, path, "bonded", true, 0, 0);
	string_into(jr, e, path, "status", true, v->status, sizeof(v->status));
	if (nullable(jr, e, "jailed_epoch")) {
		v->jailed_epoch = ist_json_u64(jr, e, path, "jailed_epoch", true, 0, 0);
		v->has_jailed_epoch = true;
	}
	if (nullable(jr, e, "unjail_epoch")) {
		v->unjail_epoch = ist_json_u64(jr, e, path, "unjail_epoch", true, 0, 0);
		v->has_unjail_epoch = true;
	}
	v->slashed = ist_json_u64(jr, e, path, "slashed", false, 0, 0);
}

int ist_cli_lj_staking_parse(json_t *doc, const char *label, struct ist_cli_lj_staking *ret,
			     struct ist_json_err *err)
{
	memset(ret, 0, sizeof(*ret));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	ret->epoch = ist_json_u64(&jr, doc, "", "epoch", true, 0, 0);
	ret->epoch_start_height = ist_json_u64(&jr, doc, "", "epoch_start_height", true, 0, 0);
	ret->epoch_length_blocks = ist_json_u64(&jr, doc, "", "epoch_length_blocks", true, 0, 1);
	json_t *p = ist_json_member(&jr, doc, "", "params", true);
	if (!jr.code && !json_is_object(p)) {
		char got[96];
		ist_json_fail(&jr, -IST_ECONFIG, "params", "must be a JSON object (got %s)",
			      ist_json_describe(p, got, sizeof(got)));
	}
	ret->max_validators = ist_json_u64(&jr, p, "params", "max_validators", true, 0, 0);
	ret->min_stake = ist_json_u64(&jr, p, "params", "min_stake", true, 0, 0);
	ret->unbonding_epochs = ist_json_u64(&jr, p, "params", "unbonding_epochs", true, 0, 0);
	ret->slash_fraction_bps = ist_json_u64(&jr, p, "params", "slash_fraction_bps", false, 0, 0);
	ret->jail_missed_bps = ist_json_u64(&jr, p, "params", "jail_missed_bps", false, 0, 0);
	ret->jail_cooldown_epochs = ist_json_u64(&jr, p, "params", "jail_cooldown_epochs", false, 0, 0);
	json_t *arr = ist_json_array(&jr, doc, "", "validators", true, 0, IST_CLI_LJ_MAX_VALIDATORS);
	size_t n = arr ? json_array_size(arr) : 0;
	ret->validators = alloc_n(&jr, n, sizeof(*ret->validators));
	ret->n = ret->validators ? n : 0;
	char path[IST_JSON_ERR_FIELD_MAX];
	for (size_t i = 0; i < ret->n && !jr.code; i++) {
		json_t *e = element(&jr, arr, "validators", i, path);
		validator_row(&jr, e, path, &ret->validators[i]);
	}
	return ist_json_code(&jr);
}

void ist_cli_lj_staking_fini(struct ist_cli_lj_staking *s)
{
	if (!s)
		return;
	free(s->validators);
	memset(s, 0, sizeof(*s));
}

const struct ist_cli_lj_validator *ist_cli_lj_staking_find(const struct ist_cli_lj_staking *s,
							    const uint8_t key32[IST_ED25519_PUBKEY_BYTES])
{
	for (size_t i = 0; i < s->n; i++)
		if (memcmp(s->validators[i].node_key, key32, IST_ED25519_PUBKEY_BYTES) == 0)
			return &s->validators[i];
	return NULL;
}

/* ---- validator sets --------------------------------------------------------------- */

static void valset_read(struct ist_json_reader *jr, json_t *doc, const char *parent, struct ist_cli_lj_valset *ret)
{
	if (!jr->code && !json_is_object(doc)) {
		char got[96];
		ist_json_fail(jr, -IST_ECONFIG, parent, "must be a JSON object (got %s)",
			      ist_json_describe(doc, got, sizeof(got)));
		return;
	}
	const char *format = ist_json_string(jr, doc, parent, "format", true, "");
	if (!jr->code && strcmp(format, "isthmus-validator-set/v1") != 0) {
		char path[IST_JSON_ERR_FIELD_MAX], got[96];
		ist_json_path(path, parent, "format");
		ist_json_fail(jr, -IST_ECONFIG, path, "must be \"isthmus-validator-set/v1\" (got %s)",
			      ist_json_describe_str(format, got, sizeof(got)));
	}
	ret->network_id = ist_json_u64(jr, doc, parent, "network_id", true, 0, 0);
	ret->epoch = ist_json_u64(jr, doc, parent, "epoch", true, 0, 0);
	json_t *arr = ist_json_array(jr, doc, parent, "validators", true, 0, IST_CLI_LJ_MAX_VALIDATORS);
	size_t n = arr ? json_array_size(arr) : 0;
	ret->members = alloc_n(jr, n, sizeof(*ret->members));
	ret->n = ret->members ? n : 0;
	char apath[IST_JSON_ERR_FIELD_MAX], path[IST_JSON_ERR_FIELD_MAX];
	member_path(apath, parent, "validators");
	uint64_t sum = 0;
	bool overflow = false;
	for (size_t i = 0; i < ret->n && !jr->code; i++) {
		struct ist_cli_lj_member *m = &ret->members[i];
		json_t *e = element(jr, arr, apath, i, path);
		m->index = (uint32_t)ist_json_uint(jr, e, path, "index", false, i, 0, UINT32_MAX);
		if (nullable(jr, e, "name")) {
			string_into(jr, e, path, "name", true, m->name, sizeof(m->name));
			m->has_name = true;
		}
		if (nullable(jr, e, "node_key")) {
			ist_json_hex(jr, e, path, "node_key", m->node_key, sizeof(m->node_key), "an Ed25519 node key");
			m->has_node_key = true;
		}
		ist_json_hex(jr, e, path, "attestation_key", m->attestation_key, sizeof(m->attestation_key),
			     "a compressed secp256k1 key");
		m->stake = ist_json_u64(jr, e, path, "stake", true, 0, 0);
		overflow |= sum + m->stake < sum;
		sum += m->stake;
	}
	if (overflow && !jr->code)
		ist_json_fail(jr, -IST_ECONFIG, apath, "the stakes add up to more than 2^64 - 1");
	ret->total_stake = ist_json_u64(jr, doc, parent, "total_stake", false, sum, 0);
}

int ist_cli_lj_valset_parse(json_t *doc, const char *label, struct ist_cli_lj_valset *ret,
			    struct ist_json_err *err)
{
	memset(ret, 0, sizeof(*ret));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	valset_read(&jr, doc, "", ret);
	return ist_json_code(&jr);
}

void ist_cli_lj_valset_fini(struct ist_cli_lj_valset *v)
{
	if (!v)
		return;
	free(v->members);
	memset(v, 0, sizeof(*v));
}

/* ---- epochs ----------------------------------------------------------------------- */

int ist_cli_lj_epochs_parse(json_t *doc, const char *label, struct ist_cli_lj_epochs *ret,
			    struct ist_json_err *err)
{
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	struct ist_cli_lj_epochs e;
	e.current = ist_json_u64(&jr, doc, "", "current", true, 0, 0);
	e.start_height = ist_json_u64(&jr, doc, "", "start_height", true, 0, 0);
	e.epoch_length_blocks = ist_json_u64(&jr, doc, "", "epoch_length_blocks", true, 0, 1);
	if (!ist_json_ok(&jr))
		return ist_json_code(&jr);
	*ret = e;
	return 0;
}

int ist_cli_lj_epoch_parse(json_t *doc, const char *label, struct ist_cli_lj_epoch *ret, struct ist_json_err *err)
{
	memset(ret, 0, sizeof(*ret));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	ret->epoch = ist_json_u64(&jr, doc, "", "epoch", true, 0, 0);
	ret->start_height = ist_json_u64(&jr, doc, "", "start_height", true, 0, 0);
	ist_json_member(&jr, doc, "", "end_height", true);
	if (nullable(&jr, doc, "end_height")) {
		ret->end_height = ist_json_u64(&jr, doc, "", "end_height", true, 0, 0);
		ret->has_end_height = true;
	}
	json_t *vs = ist_json_member(&jr, doc, "", "validator_set", true);
	valset_read(&jr, vs, "validator_set", &ret->set);
	json_t *h = nullable(&jr, doc, "handover");
	if (h) {
		if (!json_is_object(h)) {
			char got[96];
			ist_json_fail(&jr, -IST_ECONFIG, "handover", "must be a JSON object or null (got %s)",
				      ist_json_describe(h, got, sizeof(got)));
		}
		ret->has_handover = true;
		ret->handover_height = ist_json_u64(&jr, h, "handover", "height", true, 0, 0);
		ist_json_hex(&jr, h, "handover", "leaf", ret->leaf, sizeof(ret->leaf), "a hash");
		if (nullable(&jr, h, "certificate")) {
			uint8_t *cert = NULL;
			size_t len = 0;
			ist_json_hex_alloc(&jr, h, "handover", "certificate", true, 1u << 20, &cert, &len);
			free(cert);
			ret->has_certificate = !jr.code;
			ret->certificate_bytes = jr.code ? 0 : len;
		}
	}
	return ist_json_code(&jr);
}

void ist_cli_lj_epoch_fini(struct ist_cli_lj_epoch *e)
{
	if (!e)
		return;
	ist_cli_lj_valset_fini(&e->set);
	memset(e, 0, sizeof(*e));
}

/* ---- evidence --------------------------------------------------------------------- */

int ist_cli_lj_evidence_parse(json_t *doc, const char *label, struct ist_cli_lj_evidence *ret,
			      struct ist_json_err *err)
{
	memset(ret, 0, sizeof(*ret));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	json_t *arr = ist_json_array(&jr, doc, "", "evidence", true, 0, IST_CLI_LJ_MAX_EVIDENCE);
	size_t n = arr ? json_array_size(arr) : 0;
	ret->items = alloc_n(&jr, n, sizeof(*ret->items));
	ret->n = ret->items ? n : 0;
	char path[IST_JSON_ERR_FIELD_MAX];
	for (size_t i = 0; i < ret->n && !jr.code; i++) {
		struct ist_cli_lj_evidence_item *it = &ret->items[i];
		json_t *e = element(&jr, arr, "evidence", i, path);
		ist_json_hex(&jr, e, path, "id", it->id, sizeof(it->id), "an evidence id");
		string_into(&jr, e, path, "kind", true, it->kind, sizeof(it->kind));
		ist_json_hex(&jr, e, path, "offender", it->offender, sizeof(it->offender), "an Ed25519 node key");
		it->epoch = ist_json_u64(&jr, e, path, "epoch", true, 0, 0);
		it->height = ist_json_u64(&jr, e, path, "height", true, 0, 0);
		it->slashed = ist_json_u64(&jr, e, path, "slashed", true, 0, 0);
	}
	return ist_json_code(&jr);
}

void ist_cli_lj_evidence_fini(struct ist_cli_lj_evidence *e)
{
	if (!e)
		return;
	free(e->items);
	memset(e, 0, sizeof(*e));
}

/* ---- governance ------------------------------------------------------------------- */

/* Element i of an array of u64s (read as a member of a one-member object
 * whose key is the element's path, so that a problem names it). */
static uint64_t u64_element(struct ist_json_reader *jr, json_t *arr, const char *parent, size_t i)
{
	char path[IST_JSON_ERR_FIELD_MAX];
	ist_json_index(path, parent, i);
	json_t *one = json_object();
	if (!one || json_object_set(one, path, json_array_get(arr, i)) < 0) {
		json_decref(one);
		ist_json_fail(jr, -IST_ENOMEM, "", "out of memory");
		return 0;
	}
	uint64_t v = ist_json_u64(jr, one, "", path, true, 0, 0);
	json_decref(one);
	return v;
}

/* e's member "limits", an object. */
static void limits_read(struct ist_json_reader *jr, json_t *e, const char *path, struct ist_cli_lj_limits *l)
{
	char lpath[IST_JSON_ERR_FIELD_MAX];
	member_path(lpath, path, "limits");
	json_t *o = json_object_get(e, "limits");
	if (!json_is_object(o)) {
		ist_json_fail(jr, -IST_ECONFIG, lpath, "must be an object");
		return;
	}
	l->window_blocks = ist_json_u64(jr, o, lpath, "window_blocks", true, 0, 0);
	l->max_count = ist_json_u64(jr, o, lpath, "max_count", true, 0, 0);
	l->max_value = ist_json_u64(jr, o, lpath, "max_value", true, 0, 0);
	l->high_value = ist_json_u64(jr, o, lpath, "high_value", true, 0, 0);
	l->delay_blocks = ist_json_u64(jr, o, lpath, "delay_blocks", true, 0, 0);
}

static void proposal_read(struct ist_json_reader *jr, json_t *e, const char *path, struct ist_cli_lj_proposal *p)
{
	p->id = ist_json_u64(jr, e, path, "id", true, 0, 1);
	string_into(jr, e, path, "action", true, p->action, sizeof(p->action));
	if (nullable(jr, e, "chain")) {
		p->chain = ist_json_u64(jr, e, path, "chain", true, 0, 0);
	} else if (nullable(jr, e, "param")) {
		string_into(jr, e, path, "param", true, p->param, sizeof(p->param));
		p->value = ist_json_u64(jr, e, path, "value", true, 0, 0);
		p->is_param = true;
	} else {
		p->src = ist_json_u64(jr, e, path, "src_chain", true, 0, 0);
		p->dst = ist_json_u64(jr, e, path, "dst_chain", true, 0, 0);
		p->is_route = true;
	}
	if (nullable(jr, e, "limits")) {
		limits_read(jr, e, path, &p->limits);
		p->has_limits = true;
	}
	if (nullable(jr, e, "release_through")) {
		p->release_through = ist_json_u64(jr, e, path, "release_through", true, 0, 0);
		p->has_release = true;
	}
	ist_json_hex(jr, e, path, "proposer", p->proposer, sizeof(p->proposer), "a validator's node key");
	string_into(jr, e, path, "status", true, p->status, sizeof(p->status));
	p->created = ist_json_u64(jr, e, path, "created", true, 0, 0);
	p->closes = ist_json_u64(jr, e, path, "closes", true, 0, 0);
	ist_json_member(jr, e, path, "decided", true);
	if (nullable(jr, e, "decided")) {
		p->decided = ist_json_u64(jr, e, path, "decided", true, 0, 0);
		p->has_decided = true;
	}
	p->yes_stake = ist_json_u64(jr, e, path, "yes_stake", true, 0, 0);
	p->total_stake = ist_json_u64(jr, e, path, "total_stake", true, 0, 0);
	json_t *arr = ist_json_array(jr, e, path, "votes", true, 0, IST_CLI_LJ_MAX_VOTES);
	size_t n = arr ? json_array_size(arr) : 0;
	p->votes = alloc_n(jr, n, sizeof(*p->votes));
	p->n_votes = p->votes ? n : 0;
	char apath[IST_JSON_ERR_FIELD_MAX], vpath[IST_JSON_ERR_FIELD_MAX];
	member_path(apath, path, "votes");
	for (size_t i = 0; i < p->n_votes && !jr->code; i++) {
		json_t *v = element(jr, arr, apath, i, vpath);
		ist_json_hex(jr, v, vpath, "validator", p->votes[i].validator, sizeof(p->votes[i].validator),
			     "a validator's node key");
		ist_json_member(jr, v, vpath, "approve", true);
		p->votes[i].approve = ist_json_bool(jr, v, vpath, "approve", false);
	}
}

int ist_cli_lj_proposal_parse(json_t *doc, const char *label, struct ist_cli_lj_proposal *ret,
			      struct ist_json_err *err)
{
	memset(ret, 0, sizeof(*ret));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	proposal_read(&jr, doc, "", ret);
	return ist_json_code(&jr);
}

void ist_cli_lj_proposal_fini(struct ist_cli_lj_proposal *p)
{
	if (!p)
		return;
	free(p->votes);
	memset(p, 0, sizeof(*p));
}

int ist_cli_lj_gov_parse(json_t *doc, const char *label, struct ist_cli_lj_gov *ret, struct ist_json_err *err)
{
	memset(ret, 0, sizeof(*ret));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	char path[IST_JSON_ERR_FIELD_MAX];
	json_t *arr = ist_json_array(&jr, doc, "", "paused_chains", true, 0, IST_CLI_LJ_MAX_PAUSED);
	size_t n = arr ? json_array_size(arr) : 0;
	ret->chains = alloc_n(&jr, n, sizeof(*ret->chains));
	ret->n_chains = ret->chains ? n : 0;
	for (size_t i = 0; i < ret->n_chains && !jr.code; i++)
		ret->chains[i] = u64_element(&jr, arr, "paused_chains", i);
	arr = ist_json_array(&jr, doc, "", "paused_routes", true, 0, IST_CLI_LJ_MAX_PAUSED);
	n = arr ? json_array_size(arr) : 0;
	ret->routes = alloc_n(&jr, n, sizeof(*ret->routes));
	ret->n_routes = ret->routes ? n : 0;
	for (size_t i = 0; i < ret->n_routes && !jr.code; i++) {
		json_t *e = element(&jr, arr, "paused_routes", i, path);
		ret->routes[i].src = ist_json_u64(&jr, e, path, "src_chain", true, 0, 0);
		ret->routes[i].dst = ist_json_u64(&jr, e, path, "dst_chain", true, 0, 0);
	}
	arr = ist_json_array(&jr, doc, "", "breakers", false, 0, IST_CLI_LJ_MAX_PAUSED);
	n = arr ? json_array_size(arr) : 0;
	ret->breakers = alloc_n(&jr, n, sizeof(*ret->breakers));
	ret->n_breakers = ret->breakers ? n : 0;
	for (size_t i = 0; i < ret->n_breakers && !jr.code; i++) {
		struct ist_cli_lj_breaker *x = &ret->breakers[i];
		json_t *e = element(&jr, arr, "breakers", i, path);
		x->chain = ist_json_u64(&jr, e, path, "chain", true, 0, 1);
		ist_json_member(&jr, e, path, "tripped", true);
		x->tripped = ist_json_bool(&jr, e, path, "tripped", false);
		if (x->tripped) {
			x->tripped_at = ist_json_u64(&jr, e, path, "tripped_at", true, 0, 0);
			string_into(&jr, e, path, "reason", true, x->reason, sizeof(x->reason));
		}
		json_t *rep = ist_json_array(&jr, e, path, "reporters", true, 0, IST_CLI_LJ_MAX_VOTES);
		x->n_reporters = rep ? json_array_size(rep) : 0;
	}
	arr = ist_json_array(&jr, doc, "", "route_limits", false, 0, IST_CLI_LJ_MAX_PAUSED);
	n = arr ? json_array_size(arr) : 0;
	ret->limits = alloc_n(&jr, n, sizeof(*ret->limits));
	ret->n_limits = ret->limits ? n : 0;
	for (size_t i = 0; i < ret->n_limits && !jr.code; i++) {
		struct ist_cli_lj_route_limits *x = &ret->limits[i];
		json_t *e = element(&jr, arr, "route_limits", i, path);
		x->src = ist_json_u64(&jr, e, path, "src_chain", true, 0, 0);
		x->dst = ist_json_u64(&jr, e, path, "dst_chain", true, 0, 0);
		ist_json_member(&jr, e, path, "limits", true);
		if (nullable(&jr, e, "limits")) {
			limits_read(&jr, e, path, &x->limits);
			x->has_limits = true;
		}
		x->since = ist_json_u64(&jr, e, path, "since", true, 0, 0);
		x->released_below = ist_json_u64(&jr, e, path, "released_below", true, 0, 0);
		char cpath[IST_JSON_ERR_FIELD_MAX];
		member_path(cpath, path, "checkpoint");
		json_t *cp = json_object_get(e, "checkpoint");
		if (!json_is_object(cp)) {
			ist_json_fail(&jr, -IST_ECONFIG, cpath, "must be an object");
			break;
		}
		x->cp_height = ist_json_u64(&jr, cp, cpath, "src_height", true, 0, 0);
		x->cp_size = ist_json_u64(&jr, cp, cpath, "tree_size", true, 0, 0);
	}
	arr = ist_json_array(&jr, doc, "", "proposals", true, 0, IST_CLI_LJ_MAX_PROPOSALS);
	n = arr ? json_array_size(arr) : 0;
	ret->proposals = alloc_n(&jr, n, sizeof(*ret->proposals));
	ret->n = ret->proposals ? n : 0;
	for (size_t i = 0; i < ret->n && !jr.code; i++) {
		json_t *e = element(&jr, arr, "proposals", i, path);
		proposal_read(&jr, e, path, &ret->proposals[i]);
	}
	return ist_json_code(&jr);
}

void ist_cli_lj_gov_fini(struct ist_cli_lj_gov *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		ist_cli_lj_proposal_fini(&g->proposals[i]);
	free(g->proposals);
	free(g->chains);
	free(g->routes);
	free(g->limits);
	free(g->breakers);
	memset(g, 0, sizeof(*g));
}

/* ---- GET /v1/gov/pauses ---- */

static void pause_read(struct ist_json_reader *jr, json_t *e, const char *path, struct ist_cli_lj_pause *x)
{
	x->p.height = ist_json_u64(jr, e, path, "height", true, 0, 1);
	x->epoch = ist_json_u64(jr, e, path, "epoch", true, 0, 0);
	char scope[IST_CLI_LJ_WORD_MAX];
	string_into(jr, e, path, "scope", true, scope, sizeof(scope));
	if (jr->code)
		return;
	if (strcmp(scope, "chain") == 0) {
		x->p.scope = IST_PAUSE_CHAIN;
		x->p.a = ist_json_u64(jr, e, path, "chain", true, 0, 1);
	} else if (strcmp(scope, "route") == 0) {
		x->p.scope = IST_PAUSE_ROUTE;
		x->p.a = ist_json_u64(jr, e, path, "src_chain", true, 0, 1);
		x->p.b = ist_json_u64(jr, e, path, "dst_chain", true, 0, 1);
	} else {
		char sp[IST_JSON_ERR_FIELD_MAX];
		member_path(sp, path, "scope");
		ist_json_fail(jr, -IST_ECONFIG, sp, "must be \"chain\" or \"route\"");
		return;
	}
	ist_json_member(jr, e, path, "paused", true);
	x->p.paused = ist_json_bool(jr, e, path, "paused", false);
	if (nullable(jr, e, "proposal"))
		x->proposal = ist_json_u64(jr, e, path, "proposal", true, 0, 1);
	ist_json_proof_read(jr, e, path, "proof", &x->proof);
	if (nullable(jr, e, "certificate"))
		ist_json_hex_alloc(jr, e, path, "certificate", true, IST_WIRE_MAX_CERTIFICATE_BYTES, &x->cert,
				   &x->cert_len);
}

int ist_cli_lj_pauses_parse(json_t *doc, const char *label, struct ist_cli_lj_pauses *ret, struct ist_json_err *err)
{
	memset(ret, 0, sizeof(*ret));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	json_t *arr = ist_json_array(&jr, doc, "", "pauses", true, 0, IST_CLI_LJ_MAX_PAUSED);
	size_t n = arr ? json_array_size(arr) : 0;
	ret->v = alloc_n(&jr, n, sizeof(*ret->v));
	ret->n = ret->v ? n : 0;
	char path[IST_JSON_ERR_FIELD_MAX];
	for (size_t i = 0; i < ret->n && !jr.code; i++) {
		json_t *e = element(&jr, arr, "pauses", i, path);
		pause_read(&jr, e, path, &ret->v[i]);
	}
	return ist_json_code(&jr);
}

void ist_cli_lj_pauses_fini(struct ist_cli_lj_pauses *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].cert);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* ---- GET /v1/deliveries/{src}/{dst}/{nonce} ---- */

int ist_cli_lj_delivery_status_parse(json_t *doc, const char *label, struct ist_cli_lj_delivery_status *ret,
				     struct ist_json_err *err)
{
	memset(ret, 0, sizeof(*ret));
	struct ist_json_reader jr;
	if (!begin(&jr, doc, label, err))
		return ist_json_code(&jr);
	char status[IST_CLI_LJ_WORD_MAX];
	string_into(&jr, doc, "", "status", true, status, sizeof(status));
	if (jr.code)
		return ist_json_code(&jr);
	if (strcmp(status, "ready") == 0) {
		ret->ready = true;
		json_t *cp = nullable(&jr, doc, "checkpoint");
		if (cp) {
			ret->cp_tree_size = ist_json_u64(&jr, cp, "checkpoint", "tree_size", true, 0, 1);
			ret->cp_src_height = ist_json_u64(&jr, cp, "checkpoint", "src_height", true, 0, 0);
			ret->has_checkpoint = true;
		}
		return ist_json_code(&jr);
	}
	if (strcmp(status, "pending") != 0) {
		ist_json_fail(&jr, -IST_ECONFIG, "status", "must be \"ready\" or \"pending\"");
		return ist_json_code(&jr);
	}
	string_into(&jr, doc, "", "reason", true, ret->reason, sizeof(ret->reason));
	string_into(&jr, doc, "", "detail", false, ret->detail, sizeof(ret->detail));
	if (jr.code || strcmp(ret->reason, "held") != 0)
		return ist_json_code(&jr);
	json_t *h = ist_json_member(&jr, doc, "", "hold", true);
	if (!jr.code && !json_is_object(h))
		ist_json_fail(&jr, -IST_ECONFIG, "hold", "must be an object when the reason is \"held\"");
	if (jr.code)
		return ist_json_code(&jr);
	ret->held = true;
	string_into(&jr, h, "hold", "rule", true, ret->rule, sizeof(ret->rule));
	ret->first_held = ist_json_u64(&jr, h, "hold", "first_held", true, 0, 0);
	ret->source_height = ist_json_u64(&jr, h, "hold", "source_height", true, 0, 0);
	ist_json_member(&jr, h, "hold", "release_height", true);
	if (nullable(&jr, h, "release_height")) {
		ret->release_height = ist_json_u64(&jr, h, "hold", "release_height", true, 0, 0);
		ret->has_release = true;
	}
	return ist_json_code(&jr);
}
