/*
 * The safety state file of a node home (node/safety.h): the round trip, one
 * test per class of file error with its field and problem, the checks
 * against the home, the never-lower rule, and export and import against a
 * real store (the lock, a missing store, a refused import leaving the store
 * as it was).
 *
 * Run as `test_node_safety --write-corpus DIR` it writes the seed corpus of
 * the fuzz target node-safety-file (tests/fuzz/corpus/node-safety-file/).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/err.h"
#include "consensus/safety.h"
#include "crypto/crypto.h"
#include "lib/ist_test.h"
#include "node/config.h"
#include "node/datadir.h"
#include "node/genesis.h"
#include "node/safety.h"
#include "storage/blocks.h"
#include "storage/store.h"

#define LABEL "moved.json"

static struct ist_node_genesis g;
static uint8_t node_key[32];

/* A state of epoch 0 that voted in `voted`, timed out last in `tview`
 * (carrying a QC of view `thqc`), with a highest QC of view `hqc` signed by
 * three validators, for the home of `g` and `node_key`. No Check assertion:
 * write_corpus runs it outside a test. Returns 0 or -1. */
static int state_build(struct ist_node_safety_file *f, uint64_t voted, uint64_t tview, uint64_t thqc, uint64_t hqc)
{
	struct ist_cons_safety *s = calloc(1, sizeof(*s));
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = -1;
	if (!s)
		return -1;
	s->last_voted_view = voted;
	s->last_timeout_view = tview;
	s->last_timeout_hqc_view = thqc;
	s->high_qc.view = hqc;
	memset(s->high_qc.block_id, (int)(0x40 + hqc), 32);
	for (unsigned i = 0; i < 3; i++) {
		if (ist_wire_bitmap_set(s->high_qc.signers, i) < 0)
			goto out;
		memset(s->high_qc.sigs[s->high_qc.n_sigs++], (int)(0x30 + i), 64);
	}
	if (ist_cons_safety_encode(s, &buf, &len) < 0 || len > sizeof(f->state))
		goto out;
	memset(f, 0, sizeof(*f));
	snprintf(f->chain_id, sizeof(f->chain_id), "%s", g.chain_id);
	f->network_id = g.network_id;
	memcpy(f->genesis_hash, g.hash, 32);
	memcpy(f->node_key, node_key, 32);
	memcpy(f->state, buf, len);
	f->state_len = len;
	r = ist_cons_safety_decode(f->state, f->state_len, &f->safety) < 0 ? -1 : 0;
out:
	free(buf);
	free(s);
	return r;
}

static void state_make(struct ist_node_safety_file *f, uint64_t voted, uint64_t tview, uint64_t thqc, uint64_t hqc)
{
	ck_assert_int_eq(state_build(f, voted, tview, thqc, hqc), 0);
}

/* The home the states are for: its genesis (what a state is checked
 * against: chain id, network id, hash) and node key. */
static void home_init(void)
{
	ist_node_genesis_init(&g);
	snprintf(g.chain_id, sizeof(g.chain_id), "isthmus-devnet");
	g.network_id = 1337;
	memset(g.hash, 0xa5, sizeof(g.hash));
	memset(node_key, 0x8d, sizeof(node_key));
}

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
	home_init();
}

/* ---- the file ---- */

START_TEST(file_round_trip)
{
	struct ist_node_safety_file *f = malloc(sizeof(*f)), *back = malloc(sizeof(*back));
	ck_assert(f && back);
	state_make(f, 812, 790, 788, 811);
	char *text = NULL, *again = NULL;
	ck_assert_int_eq(ist_node_safety_file_format(f, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"format\": \"isthmus-safety-state\""));
	ck_assert_ptr_nonnull(strstr(text, "\"last_voted_view\": 812,"));
	ck_assert_ptr_nonnull(strstr(text, "\"high_qc_view\": 811,"));
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_safety_file_parse(text, strlen(text), LABEL, back, &err), 0);
	ck_assert_str_eq(back->chain_id, "isthmus-devnet");
	ck_assert_uint_eq(back->network_id, 1337);
	ck_assert_mem_eq(back->genesis_hash, g.hash, 32);
	ck_assert_mem_eq(back->node_key, node_key, 32);
	ck_assert_uint_eq(back->state_len, f->state_len);
	ck_assert_mem_eq(back->state, f->state, f->state_len);
	ck_assert_uint_eq(back->safety.last_voted_view, 812);
	ck_assert_uint_eq(back->safety.last_timeout_view, 790);
	ck_assert_uint_eq(back->safety.high_qc.view, 811);
	ck_assert_int_eq(ist_node_safety_file_format(back, &again), 0);
	ck_assert_str_eq(again, text);
	/* u64 values above 2^53 as decimal strings, read back exactly */
	f->network_id = UINT64_MAX;
	free(text);
	ck_assert_int_eq(ist_node_safety_file_format(f, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"network_id\": \"18446744073709551615\""));
	ck_assert_int_eq(ist_node_safety_file_parse(text, strlen(text), LABEL, back, &err), 0);
	ck_assert_uint_eq(back->network_id, UINT64_MAX);
	free(again);
	free(text);
	free(back);
	free(f);
}
END_TEST

/* Parses the file of state_make(812, 790, 788, 811) edited by `edit` (a
 * member to set, from JSON text, or to delete when `json` is NULL) and
 * checks the error: code, field, and a piece of the problem. */
static void expect_file_err(const char *key, const char *json, int code, const char *field, const char *problem)
{
	struct ist_node_safety_file *f = malloc(sizeof(*f));
	ck_assert_ptr_nonnull(f);
	state_make(f, 812, 790, 788, 811);
	char *text = NULL;
	ck_assert_int_eq(ist_node_safety_file_format(f, &text), 0);
	json_t *o = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(o);
	free(text);
	if (json) {
		json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
		ck_assert_msg(v != NULL, "test JSON %s", json);
		json_object_set_new(o, key, v);
	} else {
		json_object_del(o, key);
	}
	text = json_dumps(o, 0);
	json_decref(o);
	struct ist_json_err err;
	memset(&err, 0, sizeof(err));
	int r = ist_node_safety_file_parse(text, strlen(text), LABEL, f, &err);
	char line[2048];
	ist_json_err_format(&err, line, sizeof(line));
	ck_assert_msg(r == code, "%s = %s: got %s (%s), want %s", key, json ? json : "(deleted)", ist_errname(r),
		      line, ist_errname(code));
	ck_assert_str_eq(err.file, LABEL);
	ck_assert_msg(strcmp(err.field, field) == 0, "%s: field \"%s\", want \"%s\"", line, err.field, field);
	ck_assert_msg(strstr(err.problem, problem) != NULL, "%s: want \"%s\"", line, problem);
	free(text);
	free(f);
}

START_TEST(file_errors)
{
	expect_file_err("format", "\"isthmus-keystore\"", -IST_ECONFIG, "format",
			"must be \"isthmus-safety-state\" (got \"isthmus-keystore\"): not a safety state file");
	expect_file_err("format", NULL, -IST_ECONFIG, "format", "missing required field");
	expect_file_err("version", "2", -IST_EUNSUPPORTED, "version",
			"unsupported version 2 (this isthmus reads version 1)");
	expect_file_err("version", "\"1\"", -IST_ECONFIG, "version", "must be an integer from 1 to");
	expect_file_err("lst_voted_view", "1", -IST_ECONFIG, "lst_voted_view",
			"unknown field (did you mean \"last_voted_view\"?)");
	expect_file_err("chain_id", "\"Dev\"", -IST_ECONFIG, "chain_id", "must be 1 to 64 of a-z 0-9 -");
	expect_file_err("network_id", "-1", -IST_ECONFIG, "network_id", "must be a non-negative integer");
	expect_file_err("genesis_hash", "\"abcd\"", -IST_ECONFIG, "genesis_hash",
			"must be a genesis hash of 64 hex digits (got 4 characters)");
	expect_file_err("node_key", "5", -IST_ECONFIG, "node_key", "must be an Ed25519 public key of 64 hex digits");
	expect_file_err("epoch", "1.5", -IST_ECONFIG, "epoch", "must be a non-negative integer (got 1.5");
	expect_file_err("last_voted_view", "813", -IST_ECONFIG, "last_voted_view",
			"is 813, but the state holds 812");
	expect_file_err("last_timeout_view", "0", -IST_ECONFIG, "last_timeout_view", "is 0, but the state holds 790");
	expect_file_err("high_qc_view", "\"900\"", -IST_ECONFIG, "high_qc_view", "is 900, but the state holds 811");
	expect_file_err("epoch", "1", -IST_ECONFIG, "epoch", "is 1, but the state holds 0");
	expect_file_err("high_qc_block", "\"" "0000000000000000000000000000000000000000000000000000000000000000" "\"",
			-IST_ECONFIG, "high_qc_block", "is not the block of the state's highest QC");
	expect_file_err("state", "\"\"", -IST_ECONFIG, "state", "an even number of 2 to");
	expect_file_err("state", "\"010\"", -IST_ECONFIG, "state", "an even number of 2 to");
	expect_file_err("state", "\"01zz\"", -IST_ECONFIG, "state", "got a non-hex character");
	expect_file_err("state", "\"0100\"", -IST_ECONFIG, "state", "not a valid safety state (2 bytes");
	expect_file_err("state", "\"02\"", -IST_EUNSUPPORTED, "state",
			"unsupported safety state version 2 (this isthmus reads version 1)");
	expect_file_err("state", "[]", -IST_ECONFIG, "state", "must be a string (got an array)");
	expect_file_err("state", NULL, -IST_ECONFIG, "state", "missing required field");
}
END_TEST

START_TEST(file_not_json)
{
	struct ist_node_safety_file *f = malloc(sizeof(*f));
	ck_assert_ptr_nonnull(f);
	struct ist_json_err err;
	static const char cut[] = "{\"format\": \"isthmus-safety-state\",\n \"version\": ";
	ck_assert_int_eq(ist_node_safety_file_parse(cut, strlen(cut), LABEL, f, &err), -IST_EPARSE);
	ck_assert_int_eq(err.line, 2);
	ck_assert_int_eq(ist_node_safety_file_parse("[1]", 3, LABEL, f, &err), -IST_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err.problem, "must be a JSON object"));
	ck_assert_int_eq(ist_node_safety_file_parse("", 0, LABEL, f, &err), -IST_EPARSE);
	char *big = malloc(IST_NODE_SAFETY_FILE_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, ' ', IST_NODE_SAFETY_FILE_MAX + 1);
	ck_assert_int_eq(ist_node_safety_file_parse(big, IST_NODE_SAFETY_FILE_MAX + 1, LABEL, f, &err), -IST_ETOOBIG);
	free(big);
	free(f);
}
END_TEST

START_TEST(file_check_home)
{
	struct ist_node_safety_file *f = malloc(sizeof(*f));
	ck_assert_ptr_nonnull(f);
	struct ist_json_err err;
	state_make(f, 5, 0, 0, 4);
	ck_assert_int_eq(ist_node_safety_file_check(f, LABEL, &g, node_key, &err), 0);
	snprintf(f->chain_id, sizeof(f->chain_id), "other-chain");
	ck_assert_int_eq(ist_node_safety_file_check(f, LABEL, &g, node_key, &err), -IST_ECONFIG);
	ck_assert_str_eq(err.field, "chain_id");
	ck_assert_str_eq(err.problem, "the state is for chain \"other-chain\", this home runs \"isthmus-devnet\"");
	state_make(f, 5, 0, 0, 4);
	f->network_id = 1;
	ck_assert_int_eq(ist_node_safety_file_check(f, LABEL, &g, node_key, &err), -IST_ECONFIG);
	ck_assert_str_eq(err.field, "network_id");
	state_make(f, 5, 0, 0, 4);
	f->genesis_hash[31] ^= 1;
	ck_assert_int_eq(ist_node_safety_file_check(f, LABEL, &g, node_key, &err), -IST_ECONFIG);
	ck_assert_str_eq(err.field, "genesis_hash");
	ck_assert_ptr_nonnull(strstr(err.problem, "the state is for genesis a5a5a5a5a5a5a5a5..."));
	state_make(f, 5, 0, 0, 4);
	f->node_key[0] = 0x11;
	ck_assert_int_eq(ist_node_safety_file_check(f, LABEL, &g, node_key, &err), -IST_ECONFIG);
	ck_assert_str_eq(err.field, "node_key");
	ck_assert_str_eq(err.problem, "the state is for node key 118d8d8d8d8d8d8d..., this home's node key is "
				      "8d8d8d8d8d8d8d8d... (a state belongs to one validator key)");
	free(f);
}
END_TEST

/* ---- the rule ---- */

START_TEST(never_lower)
{
	struct ist_node_safety_file *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	ck_assert(a && b);
	char why[IST_JSON_ERR_PROBLEM_MAX];
	struct {
		uint64_t cur[4], next[4];   /* voted, timeout view, its QC view, high QC view */
		const char *why;            /* NULL: allowed */
	} cases[] = {
		{ { 10, 8, 6, 9 }, { 10, 8, 6, 9 }, NULL },                   /* the same state */
		{ { 10, 8, 6, 9 }, { 20, 18, 16, 19 }, NULL },                /* further on */
		{ { 0, 0, 0, 0 }, { 1, 0, 0, 0 }, NULL },
		{ { 10, 8, 6, 9 }, { 10, 8, 6, 12 }, NULL },                  /* a higher QC only */
		{ { 20, 8, 6, 19 }, { 10, 8, 6, 19 },
		  "it would lower the last voted view from 20 to 10: the node could vote again in views 11 to 20" },
		{ { 20, 18, 16, 19 }, { 20, 8, 6, 19 },
		  "it would lower the last timeout view from 18 to 8: the node could sign a second timeout for view 18" },
		{ { 20, 18, 16, 19 }, { 20, 18, 17, 19 },
		  "both states timed out in view 18, with different QCs (views 16 and 17)" },
		{ { 20, 18, 16, 19 }, { 20, 18, 16, 17 }, "it would lower the highest QC, the lock, from view 19 to 17" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		state_make(a, cases[i].cur[0], cases[i].cur[1], cases[i].cur[2], cases[i].cur[3]);
		state_make(b, cases[i].next[0], cases[i].next[1], cases[i].next[2], cases[i].next[3]);
		why[0] = '\0';
		int r = ist_node_safety_not_lower(&a->safety, &b->safety, why, sizeof(why));
		if (!cases[i].why) {
			ck_assert_msg(r == 0, "case %zu refused: %s", i, why);
			continue;
		}
		ck_assert_msg(r == -IST_ESTATE, "case %zu allowed", i);
		ck_assert_msg(strstr(why, cases[i].why) != NULL, "case %zu: %s", i, why);
	}
	/* epochs: a later one starts its views again; an earlier one is refused */
	state_make(a, 500, 0, 0, 499);
	state_make(b, 3, 0, 0, 2);
	b->safety.epoch = 1;
	ck_assert_int_eq(ist_node_safety_not_lower(&a->safety, &b->safety, why, sizeof(why)), 0);
	ck_assert_int_eq(ist_node_safety_not_lower(&b->safety, &a->safety, why, sizeof(why)), -IST_ESTATE);
	ck_assert_str_eq(why, "it is of epoch 0, older than this home's state (epoch 1)");
	free(a);
	free(b);
}
END_TEST

/* ---- export and import against a store ---- */

static char *tmp;
static struct ist_node_config cfg;

static void store_setup(void)
{
	setup();
	tmp = ist_test_tmpdir("ist-node-safety");
	ist_node_config_init(&cfg);
	ck_assert_int_gt(asprintf(&cfg.data_path, "%s/data", tmp), 0);
}

static void store_teardown(void)
{
	ist_test_rmtree(tmp);
	free(tmp);
	ist_node_config_fini(&cfg);
}

static int put_state(struct ist_txn *txn, void *ctx)
{
	const struct ist_node_safety_file *f = ctx;
	return ist_store_safety_put(txn, f->state, f->state_len);
}

START_TEST(export_import)
{
	struct ist_node_safety_file *f = malloc(sizeof(*f)), *got = malloc(sizeof(*got));
	struct ist_cons_safety *prev = malloc(sizeof(*prev));
	ck_assert(f && got && prev);
	char line[1024];
	bool had = true;
	struct stat st;

	/* no store: nothing to export, and nothing made */
	ck_assert_int_eq(ist_node_safety_export(&cfg, &g, node_key, got, line, sizeof(line)), -IST_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(line, "/data: no database: the node has never run on this home"));
	ck_assert_int_ne(stat(cfg.data_path, &st), 0);

	/* a store without a state (a node that never signed) */
	struct ist_store *s = NULL;
	ck_assert_int_eq(ist_node_store_open(&cfg, &g, false, &s, line, sizeof(line)), 0);
	ist_store_close(s);
	ck_assert_int_eq(ist_node_safety_export(&cfg, &g, node_key, got, line, sizeof(line)), -IST_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(line, "/data: no safety state yet: the node has not voted or timed out"));

	/* import into it, export it back */
	state_make(f, 40, 38, 36, 39);
	ck_assert_int_eq(ist_node_safety_import(&cfg, &g, f, &had, prev, line, sizeof(line)), 0);
	ck_assert(!had);
	ck_assert_int_eq(ist_node_safety_export(&cfg, &g, node_key, got, line, sizeof(line)), 0);
	ck_assert_uint_eq(got->state_len, f->state_len);
	ck_assert_mem_eq(got->state, f->state, f->state_len);
	ck_assert_str_eq(got->chain_id, g.chain_id);
	ck_assert_uint_eq(got->network_id, g.network_id);
	ck_assert_mem_eq(got->genesis_hash, g.hash, 32);
	ck_assert_mem_eq(got->node_key, node_key, 32);
	ck_assert_uint_eq(got->safety.last_voted_view, 40);

	/* a lower state is refused and the store keeps its own */
	state_make(f, 30, 28, 26, 29);
	ck_assert_int_eq(ist_node_safety_import(&cfg, &g, f, &had, prev, line, sizeof(line)), -IST_ESTATE);
	ck_assert_ptr_nonnull(strstr(line, "/data: refused: it would lower the last voted view from 40 to 30"));
	ck_assert_int_eq(ist_node_safety_export(&cfg, &g, node_key, got, line, sizeof(line)), 0);
	ck_assert_uint_eq(got->safety.last_voted_view, 40);

	/* a higher one replaces it, and says what it replaced */
	state_make(f, 50, 48, 46, 49);
	ck_assert_int_eq(ist_node_safety_import(&cfg, &g, f, &had, prev, line, sizeof(line)), 0);
	ck_assert(had);
	ck_assert_uint_eq(prev->last_voted_view, 40);

	/* while another process holds the home (isthmusd): both refused */
	ck_assert_int_eq(ist_node_store_open(&cfg, &g, false, &s, line, sizeof(line)), 0);
	ck_assert_int_eq(ist_node_safety_export(&cfg, &g, node_key, got, line, sizeof(line)), -IST_EDB_LOCKED);
	ck_assert_ptr_nonnull(strstr(line, "/data: the node is running (another process holds its database): "
					   "stop isthmusd on this home before exporting its safety state"));
	ck_assert_int_eq(ist_node_safety_import(&cfg, &g, f, &had, prev, line, sizeof(line)), -IST_EDB_LOCKED);
	ck_assert_ptr_nonnull(strstr(line, "before importing its safety state"));

	/* a store whose state does not decode: nothing to compare with */
	state_make(got, 60, 0, 0, 59);
	got->state_len -= 1;
	ck_assert_int_eq(ist_store_write(s, put_state, got), 0);
	ist_store_close(s);
	ck_assert_int_eq(ist_node_safety_import(&cfg, &g, f, &had, prev, line, sizeof(line)), -IST_EDB_CORRUPT);
	ck_assert_ptr_nonnull(strstr(line, "this home's own safety state is unreadable"));
	ck_assert_int_eq(ist_node_safety_export(&cfg, &g, node_key, got, line, sizeof(line)), -IST_EDB_CORRUPT);
	ck_assert_ptr_nonnull(strstr(line, "the stored safety state is unreadable"));

	/* a store of another network */
	struct ist_node_genesis other = g;
	other.hash[0] ^= 1;
	ck_assert_int_eq(ist_node_safety_export(&cfg, &other, node_key, got, line, sizeof(line)), -IST_ECONFIG);
	free(prev);
	free(got);
	free(f);
}
END_TEST

/* ---- the seed corpus ---- */

static int write_seed(const char *dir, const char *name, const char *text)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *out = fopen(path, "wb");
	if (!out || fwrite(text, 1, strlen(text), out) != strlen(text) || fclose(out) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		return 1;
	}
	return 0;
}

static int write_corpus(const char *dir)
{
	if (ist_crypto_init() < 0)
		return 1;
	home_init();
	struct ist_node_safety_file *f = malloc(sizeof(*f));
	if (!f)
		return 1;
	struct {
		const char *name;
		uint64_t voted, tview, thqc, hqc;
		const char *from, *to;   /* a replacement in the text, or NULL */
	} seeds[] = {
		{ "voted.json", 812, 790, 788, 811, NULL, NULL },
		{ "zero-views.json", 0, 0, 0, 0, NULL, NULL },
		{ "edited-view.json", 812, 0, 0, 811, "\"last_voted_view\": 812", "\"last_voted_view\": 900" },
		{ "version-2.json", 5, 0, 0, 4, "\"version\": 1", "\"version\": 2" },
		{ "unknown-field.json", 5, 0, 0, 4, "\"epoch\"", "\"extra\": true, \"epoch\"" },
		{ "state-version-2.json", 5, 0, 0, 4, "\"state\": \"01", "\"state\": \"02" },
		{ "state-odd.json", 5, 0, 0, 4, "\"state\": \"01", "\"state\": \"1" },
		{ "big-network-id.json", 5, 0, 0, 4, "\"network_id\": 1337", "\"network_id\": \"18446744073709551615\"" },
		{ "truncated.json", 5, 0, 0, 4, "\"high_qc_view\"", "" },
	};
	int r = 0;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]) && !r; i++) {
		char *text = NULL;
		if (state_build(f, seeds[i].voted, seeds[i].tview, seeds[i].thqc, seeds[i].hqc) < 0 ||
		    ist_node_safety_file_format(f, &text) < 0)
			return 1;
		char *at = seeds[i].from ? strstr(text, seeds[i].from) : NULL;
		if (seeds[i].from && !at) {
			fprintf(stderr, "%s: no \"%s\" in the text\n", seeds[i].name, seeds[i].from);
			return 1;
		}
		if (at && !*seeds[i].to) {
			*at = '\0';   /* cut short here */
			r = write_seed(dir, seeds[i].name, text);
		} else if (at) {
			char *out = NULL;
			*at = '\0';
			if (asprintf(&out, "%s%s%s", text, seeds[i].to, at + strlen(seeds[i].from)) < 0)
				return 1;
			r = write_seed(dir, seeds[i].name, out);
			free(out);
		} else {
			r = write_seed(dir, seeds[i].name, text);
		}
		free(text);
	}
	free(f);
	return r;
}

static Suite *suite(void)
{
	Suite *s = suite_create("node-safety");
	TCase *tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, file_round_trip);
	tcase_add_test(tc, file_errors);
	tcase_add_test(tc, file_not_json);
	tcase_add_test(tc, file_check_home);
	tcase_add_test(tc, never_lower);
	suite_add_tcase(s, tc);
	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, store_setup, store_teardown);
	tcase_add_test(tc, export_import);
	suite_add_tcase(s, tc);
	return s;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	return ist_test_run(suite());
}
