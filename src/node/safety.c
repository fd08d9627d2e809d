/* The safety state of a node home outside the node (safety.h). */
#include "node/safety.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "node/datadir.h"
#include "storage/blocks.h"

/* ---- the file ------------------------------------------------------------- */

static const char *const file_fields[] = {
	"format", "version", "chain_id", "network_id", "genesis_hash", "node_key", "epoch",
	"last_voted_view", "last_timeout_view", "high_qc_view", "high_qc_block", "state", NULL,
};

/* The "state" member: hex (an optional 0x) of at most
 * IST_CONS_SAFETY_MAX_BYTES, decoded into f->state and f->safety. */
static void state_read(struct ist_json_reader *jr, json_t *root, struct ist_node_safety_file *f)
{
	const char *s = ist_json_string(jr, root, "", "state", true, "");
	if (!ist_json_ok(jr))
		return;
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n % 2 || n > 2 * (size_t)IST_CONS_SAFETY_MAX_BYTES) {
		ist_json_fail(jr, -IST_ECONFIG, "state",
				 "must be the state bytes in hex, an even number of 2 to %d digits (got %zu)",
				 2 * IST_CONS_SAFETY_MAX_BYTES, n);
		return;
	}
	if (ist_hex_decode(s, f->state, n / 2) < 0) {
		ist_json_fail(jr, -IST_ECONFIG, "state", "must be the state bytes in hex (got a non-hex character)");
		return;
	}
	f->state_len = n / 2;
	int r = ist_cons_safety_decode(f->state, f->state_len, &f->safety);
	if (r == -IST_EUNSUPPORTED)
		ist_json_fail(jr, r, "state", "unsupported safety state version %u (this isthmus reads version %d)",
				 f->state[0], IST_CONS_SAFETY_VERSION);
	else if (r == -IST_ENOMEM)
		ist_json_fail(jr, r, "state", "out of memory");
	else if (r < 0)
		ist_json_fail(jr, -IST_ECONFIG, "state",
				 "not a valid safety state (%zu bytes: truncated, trailing bytes or inconsistent fields)",
				 f->state_len);
}

/* A descriptive u64 field must say what the state says. */
static void agree_u64(struct ist_json_reader *jr, const char *key, uint64_t said, uint64_t is)
{
	if (ist_json_ok(jr) && said != is)
		ist_json_fail(jr, -IST_ECONFIG, key,
				 "is %llu, but the state holds %llu (this field describes \"state\": an edited value "
				 "is refused, not obeyed)", (unsigned long long)said, (unsigned long long)is);
}

int ist_node_safety_file_parse(const char *json, size_t len, const char *label, struct ist_node_safety_file *ret,
			       struct ist_json_err *err)
{
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, label, err);
	if (len > IST_NODE_SAFETY_FILE_MAX)
		return ist_json_fail(&jr, -IST_ETOOBIG, "", "larger than %u bytes", IST_NODE_SAFETY_FILE_MAX);
	struct ist_node_safety_file *f = calloc(1, sizeof(*f));
	if (!f)
		return ist_json_fail(&jr, -IST_ENOMEM, "", "out of memory");
	json_t *root = ist_json_parse(&jr, json, len);

	/* what the file is, before any other field: a newer file says
	 * "unsupported version", not "unknown field" */
	const char *format = ist_json_string(&jr, root, "", "format", true, "");
	if (ist_json_ok(&jr) && strcmp(format, IST_NODE_SAFETY_FORMAT) != 0) {
		char got[96];
		ist_json_fail(&jr, -IST_ECONFIG, "format", "must be \"%s\" (got %s): not a safety state file",
				 IST_NODE_SAFETY_FORMAT, ist_json_describe(json_object_get(root, "format"), got,
									       sizeof(got)));
	}
	uint64_t version = ist_json_uint(&jr, root, "", "version", true, 0, 1, UINT32_MAX);
	if (ist_json_ok(&jr) && version != IST_NODE_SAFETY_FORMAT_VERSION)
		ist_json_fail(&jr, -IST_EUNSUPPORTED, "version", "unsupported version %llu (this isthmus reads "
				 "version %d)", (unsigned long long)version, IST_NODE_SAFETY_FORMAT_VERSION);
	ist_json_object(&jr, root, "", file_fields);

	const char *chain_id = ist_json_string(&jr, root, "", "chain_id", true, "");
	if (ist_json_ok(&jr) && !ist_node_chain_id_valid(chain_id)) {
		char got[96];
		ist_json_fail(&jr, -IST_ECONFIG, "chain_id", "must be 1 to %d of a-z 0-9 - (got %s)",
				 IST_NODE_CHAIN_ID_MAX, ist_json_describe(json_object_get(root, "chain_id"), got,
									     sizeof(got)));
	} else if (ist_json_ok(&jr)) {
		snprintf(f->chain_id, sizeof(f->chain_id), "%s", chain_id);
	}
	f->network_id = ist_json_u64(&jr, root, "", "network_id", true, 0, 0);
	ist_json_hex(&jr, root, "", "genesis_hash", f->genesis_hash, IST_HASH_BYTES, "a genesis hash");
	ist_json_hex(&jr, root, "", "node_key", f->node_key, IST_ED25519_PUBKEY_BYTES, "an Ed25519 public key");
	uint64_t epoch = ist_json_u64(&jr, root, "", "epoch", true, 0, 0);
	uint64_t voted = ist_json_u64(&jr, root, "", "last_voted_view", true, 0, 0);
	uint64_t timed_out = ist_json_u64(&jr, root, "", "last_timeout_view", true, 0, 0);
	uint64_t hqc_view = ist_json_u64(&jr, root, "", "high_qc_view", true, 0, 0);
	uint8_t hqc_block[IST_HASH_BYTES];
	ist_json_hex(&jr, root, "", "high_qc_block", hqc_block, IST_HASH_BYTES, "a block id");
	state_read(&jr, root, f);

	const struct ist_cons_safety *s = &f->safety;
	agree_u64(&jr, "epoch", epoch, s->epoch);
	agree_u64(&jr, "last_voted_view", voted, s->last_voted_view);
	agree_u64(&jr, "last_timeout_view", timed_out, s->last_timeout_view);
	agree_u64(&jr, "high_qc_view", hqc_view, s->high_qc.view);
	if (ist_json_ok(&jr) && memcmp(hqc_block, s->high_qc.block_id, IST_HASH_BYTES) != 0)
		ist_json_fail(&jr, -IST_ECONFIG, "high_qc_block",
				 "is not the block of the state's highest QC (this field describes \"state\": an "
				 "edited value is refused, not obeyed)");
	json_decref(root);
	int r = ist_json_code(&jr);
	if (r == 0)
		memcpy(ret, f, sizeof(*f));
	free(f);
	return r;
}

static json_t *hex_json(const uint8_t *p, size_t len)
{
	char *hex = malloc(2 * len + 1);
	if (!hex)
		return NULL;
	ist_hex_encode(p, len, hex);
	json_t *j = json_string(hex);
	free(hex);
	return j;
}

int ist_node_safety_file_format(const struct ist_node_safety_file *f, char **ret_json)
{
	const struct ist_cons_safety *s = &f->safety;
	json_t *root = json_object();
	/* json_object_set_new consumes its value even when it fails, and fails
	 * for a NULL one (a constructor out of memory) */
	bool ok = root && json_object_set_new(root, "format", json_string(IST_NODE_SAFETY_FORMAT)) == 0 &&
		  json_object_set_new(root, "version", json_integer(IST_NODE_SAFETY_FORMAT_VERSION)) == 0 &&
		  json_object_set_new(root, "chain_id", json_string(f->chain_id)) == 0 &&
		  json_object_set_new(root, "network_id", ist_json_from_u64(f->network_id)) == 0 &&
		  json_object_set_new(root, "genesis_hash", hex_json(f->genesis_hash, IST_HASH_BYTES)) == 0 &&
		  json_object_set_new(root, "node_key", hex_json(f->node_key, IST_ED25519_PUBKEY_BYTES)) == 0 &&
		  json_object_set_new(root, "epoch", ist_json_from_u64(s->epoch)) == 0 &&
		  json_object_set_new(root, "last_voted_view", ist_json_from_u64(s->last_voted_view)) == 0 &&
		  json_object_set_new(root, "last_timeout_view", ist_json_from_u64(s->last_timeout_view)) == 0 &&
		  json_object_set_new(root, "high_qc_view", ist_json_from_u64(s->high_qc.view)) == 0 &&
		  json_object_set_new(root, "high_qc_block", hex_json(s->high_qc.block_id, IST_HASH_BYTES)) == 0 &&
		  json_object_set_new(root, "state", hex_json(f->state, f->state_len)) == 0;
	int r = ist_json_dump_text(ok ? root : NULL, ret_json);
	json_decref(root);
	return r;
}

int ist_node_safety_file_check(const struct ist_node_safety_file *f, const char *label,
			       const struct ist_node_genesis *g, const uint8_t node_key32[IST_ED25519_PUBKEY_BYTES],
			       struct ist_json_err *err)
{
	char a[2 * IST_HASH_BYTES + 1], b[2 * IST_HASH_BYTES + 1];
	if (strcmp(f->chain_id, g->chain_id) != 0) {
		ist_json_err_set(err, label, "chain_id", "the state is for chain \"%s\", this home runs \"%s\"",
				 f->chain_id, g->chain_id);
		return -IST_ECONFIG;
	}
	if (f->network_id != g->network_id) {
		ist_json_err_set(err, label, "network_id", "the state is for network %llu, this home runs network %llu",
				 (unsigned long long)f->network_id, (unsigned long long)g->network_id);
		return -IST_ECONFIG;
	}
	if (memcmp(f->genesis_hash, g->hash, IST_HASH_BYTES) != 0) {
		ist_hex_encode(f->genesis_hash, IST_HASH_BYTES, a);
		ist_hex_encode(g->hash, IST_HASH_BYTES, b);
		ist_json_err_set(err, label, "genesis_hash",
				 "the state is for genesis %.16s..., this home's genesis.json is %.16s... (a state "
				 "belongs to one chain)", a, b);
		return -IST_ECONFIG;
	}
	if (memcmp(f->node_key, node_key32, IST_ED25519_PUBKEY_BYTES) != 0) {
		ist_hex_encode(f->node_key, IST_ED25519_PUBKEY_BYTES, a);
		ist_hex_encode(node_key32, IST_ED25519_PUBKEY_BYTES, b);
		ist_json_err_set(err, label, "node_key",
				 "the state is for node key %.16s..., this home's node key is %.16s... (a state "
				 "belongs to one validator key)", a, b);
		return -IST_ECONFIG;
	}
	return 0;
}

/* ---- the rule ---------------------------------------------------------------- */

int ist_node_safety_not_lower(const struct ist_cons_safety *cur, const struct ist_cons_safety *next, char *problem,
			      size_t len)
{
	unsigned long long c, x;
	if (next->epoch != cur->epoch) {
		if (next->epoch > cur->epoch)
			return 0;
		snprintf(problem, len, "it is of epoch %llu, older than this home's state (epoch %llu)",
			 (unsigned long long)next->epoch, (unsigned long long)cur->epoch);
		return -IST_ESTATE;
	}
	if (next->last_voted_view < cur->last_voted_view) {
		c = cur->last_voted_view;
		x = next->last_voted_view;
		snprintf(problem, len, "it would lower the last voted view from %llu to %llu: the node could vote "
			 "again in views %llu to %llu (is the file older than this home's state?)", c, x, x + 1, c);
		return -IST_ESTATE;
	}
	if (next->last_timeout_view < cur->last_timeout_view) {
		c = cur->last_timeout_view;
		x = next->last_timeout_view;
		snprintf(problem, len, "it would lower the last timeout view from %llu to %llu: the node could sign "
			 "a second timeout for view %llu", c, x, c);
		return -IST_ESTATE;
	}
	if (next->last_timeout_view == cur->last_timeout_view && cur->last_timeout_view &&
	    next->last_timeout_hqc_view != cur->last_timeout_hqc_view) {
		snprintf(problem, len, "both states timed out in view %llu, with different QCs (views %llu and "
			 "%llu): two histories of one validator (was it run twice?)",
			 (unsigned long long)cur->last_timeout_view, (unsigned long long)cur->last_timeout_hqc_view,
			 (unsigned long long)next->last_timeout_hqc_view);
		return -IST_ESTATE;
	}
	if (next->high_qc.view < cur->high_qc.view) {
		snprintf(problem, len, "it would lower the highest QC, the lock, from view %llu to %llu",
			 (unsigned long long)cur->high_qc.view, (unsigned long long)next->high_qc.view);
		return -IST_ESTATE;
	}
	return 0;
}

/* ---- the store ----------------------------------------------------------------- */

/* Opens the home's store, wording the two errors an operator meets here:
 * the node is running, and (export) there is no store. */
static int store_open(const struct ist_node_config *cfg, const struct ist_node_genesis *g, bool must_exist,
		      const char *doing, struct ist_store **ret, char *errbuf, size_t errlen)
{
	int r = ist_node_store_open(cfg, g, must_exist, ret, errbuf, errlen);
	if (r == -IST_EDB_LOCKED)
		snprintf(errbuf, errlen, "%s: the node is running (another process holds its database): stop isthmusd "
			 "on this home before %s its safety state: a running validator goes on voting", cfg->data_path,
			 doing);
	else if (r == -IST_ENOTFOUND)
		snprintf(errbuf, errlen, "%s: no database: the node has never run on this home, so it has no safety "
			 "state", cfg->data_path);
	return r;
}

int ist_node_safety_export(const struct ist_node_config *cfg, const struct ist_node_genesis *g,
			   const uint8_t node_key32[IST_ED25519_PUBKEY_BYTES], struct ist_node_safety_file *ret,
			   char *errbuf, size_t errlen)
{
	struct ist_store *s = NULL;
	struct ist_txn *txn = NULL;
	int r = store_open(cfg, g, true, "exporting", &s, errbuf, errlen);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	const uint8_t *val;
	size_t vlen;
	if ((r = ist_store_read_begin(s, &txn)) < 0 || (r = ist_store_safety_get(txn, &val, &vlen)) < 0) {
		if (r == -IST_ENOTFOUND)
			snprintf(errbuf, errlen, "%s: no safety state yet: the node has not voted or timed out on this "
				 "home", cfg->data_path);
		else
			snprintf(errbuf, errlen, "%s: cannot read the safety state: %s", cfg->data_path, ist_strerror(r));
		goto out;
	}
	if (vlen > sizeof(ret->state)) {
		r = -IST_EDB_CORRUPT;
	} else {
		memcpy(ret->state, val, vlen);   /* borrowed until the transaction ends */
		ret->state_len = vlen;
		r = ist_cons_safety_decode(ret->state, ret->state_len, &ret->safety);
	}
	if (r < 0) {
		snprintf(errbuf, errlen, "%s: the stored safety state is unreadable (%zu bytes: %s)", cfg->data_path,
			 vlen, ist_strerror(r));
		r = r == -IST_ENOMEM ? r : -IST_EDB_CORRUPT;
		goto out;
	}
	snprintf(ret->chain_id, sizeof(ret->chain_id), "%s", g->chain_id);
	ret->network_id = g->network_id;
	memcpy(ret->genesis_hash, g->hash, IST_HASH_BYTES);
	memcpy(ret->node_key, node_key32, IST_ED25519_PUBKEY_BYTES);
out:
	ist_store_read_end(txn);
	ist_store_close(s);
	return r;
}

struct import_ctx {
	const struct ist_node_safety_file *f;
	struct ist_cons_safety *prev;   /* heap */
	bool had;
	char problem[IST_JSON_ERR_PROBLEM_MAX];
};

/* Read, compare and write in one transaction: nothing can slip between the
 * check and the write. Run again from the start when the map grows. */
static int import_fn(struct ist_txn *txn, void *ctx)
{
	struct import_ctx *x = ctx;
	const uint8_t *val;
	size_t vlen;
	x->had = false;
	x->problem[0] = '\0';
	int r = ist_store_safety_get(txn, &val, &vlen);
	if (r == 0) {
		x->had = true;
		if ((r = ist_cons_safety_decode(val, vlen, x->prev)) < 0) {
			snprintf(x->problem, sizeof(x->problem), "this home's own safety state is unreadable (%s): "
				 "nothing to compare the file with", ist_strerror(r));
			return r == -IST_ENOMEM ? r : -IST_EDB_CORRUPT;
		}
		if ((r = ist_node_safety_not_lower(x->prev, &x->f->safety, x->problem, sizeof(x->problem))) < 0)
			return r;
	} else if (r != -IST_ENOTFOUND) {
		return r;
	}
	return ist_store_safety_put(txn, x->f->state, x->f->state_len);
}

int ist_node_safety_import(const struct ist_node_config *cfg, const struct ist_node_genesis *g,
			   const struct ist_node_safety_file *f, bool *ret_had_prev, struct ist_cons_safety *ret_prev,
			   char *errbuf, size_t errlen)
{
	struct ist_store *s = NULL;
	struct import_ctx x = { .f = f };
	int r = store_open(cfg, g, false, "importing", &s, errbuf, errlen);
	if (r < 0)
		return r;
	if (!(x.prev = malloc(sizeof(*x.prev)))) {
		snprintf(errbuf, errlen, "out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	r = ist_store_write(s, import_fn, &x);
	if (r < 0) {
		if (x.problem[0])
			snprintf(errbuf, errlen, "%s: refused: %s", cfg->data_path, x.problem);
		else
			snprintf(errbuf, errlen, "%s: cannot write the safety state: %s", cfg->data_path,
				 ist_strerror(r));
		goto out;
	}
	*ret_had_prev = x.had;
	if (x.had && ret_prev)
		*ret_prev = *x.prev;
out:
	free(x.prev);
	ist_store_close(s);
	return r;
}
