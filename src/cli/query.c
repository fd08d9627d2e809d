/*
 * `isthmus query`: reads the ledger through a node's API: accounts,
 * validators (an epoch's set, or the whole registry), epochs, evidence of
 * equivocation, transactions. Text is aligned tables; --json prints the
 * node's answer as it came (indented), after the same checks as the text.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ledger_json.h"
#include "cli/txsubmit.h"
#include "common/bytes.h"
#include "common/err.h"

static int query_account(int argc, char **argv);
static int query_validators(int argc, char **argv);
static int query_epoch(int argc, char **argv);
static int query_evidence(int argc, char **argv);
static int query_tx(int argc, char **argv);
static int query_message(int argc, char **argv);

static const struct ist_cli_cmd query_cmds[] = {
	{ "account", query_account, "an account: balance, next nonce, bonds, unbonding" },
	{ "validators", query_validators, "an epoch's validator set, or the whole registry (--all)" },
	{ "epoch", query_epoch, "the current epoch, or one epoch and its hand-over" },
	{ "evidence", query_evidence, "evidence of equivocation and what it slashed" },
	{ "tx", query_tx, "a transaction: pending, or committed and its result" },
	{ "message", query_message, "a cross-chain message: ready, pending (why) or held (by which limit, until when)" },
};

static const char query_head[] =
	"usage: isthmus query <subcommand> [<args>]\n"
	"\n"
	"Reads the ledger through a node's API. Nothing is signed; no passphrase.\n"
	"\n"
	"Subcommands:\n";

static const char query_tail[] =
	"\n"
	"Options:\n"
	"  -h, --help               show this help\n"
	"\n"
	"Every subcommand takes --node URL (default: $ISTHMUS_NODE, else\n"
	IST_CLI_NODE_DEFAULT ") and --json (the node's answer, indented).\n"
	"Run 'isthmus query <subcommand> --help' for its options.\n"
	"\n"
	"Example:\n"
	"  isthmus query validators --all\n";

int ist_cli_query(int argc, char **argv)
{
	return ist_cli_group("query", query_head, query_cmds, IST_ARRAY_SIZE(query_cmds), query_tail, argc, argv);
}

#define HELP_COMMON \
	IST_CLI_HELP_NODE \
	IST_CLI_HELP_JSON \
	"  -h, --help               show this help\n"

enum { OPT_EPOCH = IST_CLI_LOPT_OWN, OPT_ALL };

/* Parses the common options and, through `take` (may be NULL) with `ctx`,
 * a command's own (take returns 0 or a usage status). Returns with *done
 * false to go on (the operands from optind), or with *done true an exit
 * status (--help printed, a usage error). */
typedef int (*take_fn)(const char *cmd, int c, const char *arg, void *ctx);

static int parse(const char *cmd, const char *help, int argc, char **argv, const struct option *opts, take_fn take,
		 void *ctx, struct ist_cli_txopts *o, bool *done)
{
	ist_cli_txopts_init(o);
	*done = true;
	int r, c;
	ist_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return ist_cli_help(help);
		if ((r = ist_cli_txopts_take(cmd, c, optarg, o)) == 0)
			continue;
		if (r != 1)
			return r;
		if (c == '?' || c == ':' || !take)
			return ist_cli_bad_option(cmd, c, argv);
		if ((r = take(cmd, c, optarg, ctx)))
			return r;
	}
	*done = false;
	return 0;
}

/* GETs `path` and prints the answer with --json; else leaves it in *ret. */
static int get(struct ist_cli_node *node, const char *path, struct ist_cli_rpc_answer *ret)
{
	return ist_cli_node_get(node, path, false, ret);
}

static void hex_of(const uint8_t *p, size_t len, char *out)
{
	ist_hex_encode(p, len, out);
}

/* ---- query account --------------------------------------------------------------------- */

static const char account_help[] =
	"usage: isthmus query account (HEX32 | --key NAME) [--node URL] [--json]\n"
	"\n"
	"Shows an account (GET /v1/accounts/HEX32): its balance, the nonce its next\n"
	"transaction must carry, the validator it operates, its bonds and its\n"
	"unbonding entries with their release epochs. An account the ledger has never\n"
	"seen shows zeros. HEX32 is an Ed25519 public key; --key NAME takes keyset\n"
	"NAME's node key (no passphrase needed).\n"
	"\n"
	"Options:\n"
	"  --key NAME               the account of keyset NAME\n"
	IST_CLI_HELP_KEYSTORE
	HELP_COMMON
	"\n"
	"Example:\n"
	"  isthmus query account --key val1\n";

void ist_cli_account_print(const struct ist_cli_lj_account *a)
{
	char hex[65];
	hex_of(a->key, sizeof(a->key), hex);
	printf("account      %s\n", hex);
	printf("balance      %" PRIu64 "\n", a->balance);
	printf("next nonce   %" PRIu64 "\n", a->nonce);
	if (a->has_validator) {
		hex_of(a->validator, sizeof(a->validator), hex);
		printf("operates     %s\n", hex);
	} else {
		printf("operates     -\n");
	}
	if (a->n_bonds == 0) {
		printf("bonds        none\n");
	} else {
		printf("bonds        %-64s  %20s\n", "VALIDATOR", "AMOUNT");
		for (size_t i = 0; i < a->n_bonds; i++) {
			hex_of(a->bonds[i].validator, 32, hex);
			printf("             %-64s  %20" PRIu64 "\n", hex, a->bonds[i].amount);
		}
	}
	if (a->n_unbonding == 0) {
		printf("unbonding    none\n");
	} else {
		printf("unbonding    %-64s  %20s  %s\n", "VALIDATOR", "AMOUNT", "RELEASE EPOCH");
		for (size_t i = 0; i < a->n_unbonding; i++) {
			hex_of(a->unbonding[i].validator, 32, hex);
			printf("             %-64s  %20" PRIu64 "  %" PRIu64 "\n", hex, a->unbonding[i].amount,
			       a->unbonding[i].release_epoch);
		}
	}
}

static int query_account(int argc, char **argv)
{
	static const struct option opts[] = {
		IST_CLI_QUERY_LONGOPTS,
		IST_CLI_KEY_LONGOPTS,
		{ 0 },
	};
	static const char *cmd = "query account";
	struct ist_cli_txopts o;
	bool done;
	int r = parse(cmd, account_help, argc, argv, opts, NULL, NULL, &o, &done);
	if (done)
		return r;
	uint8_t key[32];
	if (optind + 1 < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind + 1]);
	if ((optind < argc) == !!o.key)
		return ist_cli_usage_err(cmd, "give the account as HEX32 or --key NAME (one of them)");
	if (o.key) {
		struct ist_keystore_file *f = NULL;
		char *path = NULL;
		if ((r = ist_cli_keyset_open(cmd, o.keystore, o.key, false, &f, &path)))
			return r;
		memcpy(key, ist_cli_keyset_account(f), 32);
		free(f);
		free(path);
	} else if ((r = ist_cli_hex32_arg(cmd, "the account", argv[optind], key))) {
		return r;
	}
	struct ist_cli_node node;
	if ((r = ist_cli_node_open(cmd, o.node, &node)))
		return r;
	char path[128] = "/v1/accounts/";
	ist_hex_encode(key, 32, path + strlen(path));
	struct ist_cli_rpc_answer a = { 0 };
	struct ist_cli_lj_account acc;
	struct ist_json_err jerr;
	memset(&acc, 0, sizeof(acc));
	if ((r = get(&node, path, &a)) < 0)
		goto out;
	if ((r = ist_cli_lj_account_parse(a.doc, path, &acc, &jerr)) < 0) {
		r = ist_cli_node_bad_answer(&node, path, r, &jerr);
		goto out;
	}
	if (o.json)
		r = ist_cli_print_json(json_incref(a.doc));
	else
		ist_cli_account_print(&acc);
out:
	ist_cli_lj_account_fini(&acc);
	ist_cli_rpc_answer_fini(&a);
	ist_cli_node_close(&node);
	return ist_cli_status(r);
}

/* ---- query validators ---------------------------------------------------------------------- */

static const char validators_help[] =
	"usage: isthmus query validators [--epoch N | --all] [--node URL] [--json]\n"
	"\n"
	"Without --all: the validator set of epoch N (default: the current epoch), the\n"
	"one whose signatures certify that epoch's blocks (GET /v1/validators,\n"
	"isthmus-validator-set/v1): index, name, node key, stake. With --all: every\n"
	"registered validator (GET /v1/staking), active or not: status, bonded stake,\n"
	"commission, node key, address.\n"
	"\n"
	"Options:\n"
	"  --epoch N                the set of epoch N\n"
	"  --all                    the whole registry instead of one epoch's set\n"
	HELP_COMMON
	"\n"
	"Examples:\n"
	"  isthmus query validators\n"
	"  isthmus query validators --all --node http://10.0.0.5:26700\n";

struct validators_args {
	bool all, has_epoch;
	uint64_t epoch;
};

static int validators_take(const char *cmd, int c, const char *arg, void *ctx)
{
	struct validators_args *va = ctx;
	if (c == OPT_ALL) {
		va->all = true;
		return 0;
	}
	va->has_epoch = true;
	return ist_cli_u64_arg(cmd, "--epoch", arg, 0, &va->epoch);
}

static int name_width(const char *const *names, size_t n)
{
	size_t w = 4;
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) > w)
			w = strlen(names[i]);
	return (int)w;
}

/* An epoch's set as a table. */
static void print_set(const struct ist_cli_lj_valset *vs)
{
	const char **names = calloc(vs->n ? vs->n : 1, sizeof(*names));
	for (size_t i = 0; names && i < vs->n; i++)
		names[i] = vs->members[i].has_name ? vs->members[i].name : "-";
	int w = names ? name_width(names, vs->n) : 16;
	printf("epoch %" PRIu64 " of network %" PRIu64 ": %zu validator%s, total stake %" PRIu64 "\n", vs->epoch,
	       vs->network_id, vs->n, vs->n == 1 ? "" : "s", vs->total_stake);
	printf("%-5s  %-*s  %-64s  %20s\n", "INDEX", w, "NAME", "NODE KEY", "STAKE");
	for (size_t i = 0; i < vs->n; i++) {
		const struct ist_cli_lj_member *m = &vs->members[i];
		char hex[65] = "-";
		if (m->has_node_key)
			hex_of(m->node_key, sizeof(m->node_key), hex);
		printf("%-5" PRIu32 "  %-*s  %-64s  %20" PRIu64 "\n", m->index, w, names ? names[i] : "-", hex, m->stake);
	}
	free(names);
}

static void print_registry(const struct ist_cli_lj_staking *s)
{
	const char **names = calloc(s->n ? s->n : 1, sizeof(*names));
	for (size_t i = 0; names && i < s->n; i++)
		names[i] = s->validators[i].has_name ? s->validators[i].name : "-";
	int w = names ? name_width(names, s->n) : 16;
	printf("epoch %" PRIu64 " (from height %" PRIu64 ", %" PRIu64 " blocks): %zu validator%s registered; at most %" PRIu64
	       " active, minimum stake %" PRIu64 ", unbonding %" PRIu64 " epoch%s\n",
	       s->epoch, s->epoch_start_height, s->epoch_length_blocks, s->n, s->n == 1 ? "" : "s", s->max_validators,
	       s->min_stake, s->unbonding_epochs, s->unbonding_epochs == 1 ? "" : "s");
	printf("%-*s  %-9s  %20s  %10s  %-64s  %s\n", w, "NAME", "STATUS", "BONDED", "COMMISSION", "NODE KEY", "ADDRESS");
	for (size_t i = 0; i < s->n; i++) {
		const struct ist_cli_lj_validator *v = &s->validators[i];
		char hex[65], comm[16];
		hex_of(v->node_key, sizeof(v->node_key), hex);
		snprintf(comm, sizeof(comm), "%u.%02u%%", v->commission_bps / 100, v->commission_bps % 100);
		printf("%-*s  %-9s  %20" PRIu64 "  %10s  %-64s  %s\n", w, names ? names[i] : "-", v->status, v->bonded, comm,
		       hex, v->address);
	}
	free(names);
}

static int query_validators(int argc, char **argv)
{
	static const struct option opts[] = {
		IST_CLI_QUERY_LONGOPTS,
		{ "epoch", required_argument, NULL, OPT_EPOCH },
		{ "all", no_argument, NULL, OPT_ALL },
		{ 0 },
	};
	static const char *cmd = "query validators";
	struct ist_cli_txopts o;
	struct validators_args va = { 0 };
	bool done;
	int r = parse(cmd, validators_help, argc, argv, opts, validators_take, &va, &o, &done);
	if (done)
		return r;
	if (optind < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	if (va.all && va.has_epoch)
		return ist_cli_usage_err(cmd, "--all and --epoch exclude each other");
	struct ist_cli_node node;
	if ((r = ist_cli_node_open(cmd, o.node, &node)))
		return r;
	char path[64];
	if (va.all)
		snprintf(path, sizeof(path), "/v1/staking");
	else if (va.has_epoch)
		snprintf(path, sizeof(path), "/v1/validators?epoch=%" PRIu64, va.epoch);
	else
		snprintf(path, sizeof(path), "/v1/validators");
	struct ist_cli_rpc_answer a = { 0 };
	struct ist_cli_lj_staking st;
	struct ist_cli_lj_valset vs;
	struct ist_json_err jerr;
	memset(&st, 0, sizeof(st));
	memset(&vs, 0, sizeof(vs));
	if ((r = get(&node, path, &a)) < 0)
		goto out;
	r = va.all ? ist_cli_lj_staking_parse(a.doc, path, &st, &jerr) : ist_cli_lj_valset_parse(a.doc, path, &vs, &jerr);
	if (r < 0) {
		r = ist_cli_node_bad_answer(&node, path, r, &jerr);
		goto out;
	}
	if (o.json)
		r = ist_cli_print_json(json_incref(a.doc));
	else if (va.all)
		print_registry(&st);
	else
		print_set(&vs);
out:
	ist_cli_lj_staking_fini(&st);
	ist_cli_lj_valset_fini(&vs);
	ist_cli_rpc_answer_fini(&a);
	ist_cli_node_close(&node);
	return ist_cli_status(r);
}

/* ---- query epoch ------------------------------------------------------------------------------ */

static const char epoch_help[] =
	"usage: isthmus query epoch [N] [--node URL] [--json]\n"
	"\n"
	"Without N: the current epoch, the height it started at, the epoch length and\n"
	"the height the next one starts at (GET /v1/epochs). With N: epoch N's heights,\n"
	"its validator set, and its hand-over: the block where the outgoing set\n"
	"certified the incoming one, with the certificate (GET /v1/epochs/N).\n"
	"\n"
	"Options:\n"
	HELP_COMMON
	"\n"
	"Examples:\n"
	"  isthmus query epoch\n"
	"  isthmus query epoch 2 --json\n";

static int query_epoch(int argc, char **argv)
{
	static const struct option opts[] = {
		IST_CLI_QUERY_LONGOPTS,
		{ 0 },
	};
	static const char *cmd = "query epoch";
	struct ist_cli_txopts o;
	bool done;
	int r = parse(cmd, epoch_help, argc, argv, opts, NULL, NULL, &o, &done);
	if (done)
		return r;
	uint64_t n = 0;
	bool has_n = optind < argc;
	if (optind + 1 < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind + 1]);
	if (has_n && (r = ist_cli_u64_arg(cmd, "the epoch", argv[optind], 0, &n)))
		return r;
	struct ist_cli_node node;
	if ((r = ist_cli_node_open(cmd, o.node, &node)))
		return r;
	char path[64];
	if (has_n)
		snprintf(path, sizeof(path), "/v1/epochs/%" PRIu64, n);
	else
		snprintf(path, sizeof(path), "/v1/epochs");
	struct ist_cli_rpc_answer a = { 0 };
	struct ist_cli_lj_epochs es;
	struct ist_cli_lj_epoch e;
	struct ist_json_err jerr;
	memset(&e, 0, sizeof(e));
	if ((r = get(&node, path, &a)) < 0)
		goto out;
	r = has_n ? ist_cli_lj_epoch_parse(a.doc, path, &e, &jerr) : ist_cli_lj_epochs_parse(a.doc, path, &es, &jerr);
	if (r < 0) {
		r = ist_cli_node_bad_answer(&node, path, r, &jerr);
		goto out;
	}
	if (o.json) {
		r = ist_cli_print_json(json_incref(a.doc));
		goto out;
	}
	if (!has_n) {
		printf("epoch        %" PRIu64 "\n", es.current);
		printf("started at   height %" PRIu64 "\n", es.start_height);
		printf("length       %" PRIu64 " blocks\n", es.epoch_length_blocks);
		if (es.start_height <= UINT64_MAX - es.epoch_length_blocks)
			printf("next epoch   from height %" PRIu64 "\n", es.start_height + es.epoch_length_blocks);
		goto out;
	}
	printf("epoch        %" PRIu64 "\n", e.epoch);
	if (e.has_end_height)
		printf("heights      %" PRIu64 " to %" PRIu64 "\n", e.start_height, e.end_height);
	else
		printf("heights      %" PRIu64 " on (the current epoch)\n", e.start_height);
	if (e.has_handover) {
		char leaf[65];
		hex_of(e.leaf, sizeof(e.leaf), leaf);
		printf("hand-over    at height %" PRIu64 ", leaf %s\n", e.handover_height, leaf);
		if (e.has_certificate)
			printf("certificate  %zu bytes\n", e.certificate_bytes);
		else
			printf("certificate  not yet\n");
	} else {
		printf("hand-over    none yet\n");
	}
	print_set(&e.set);
out:
	ist_cli_lj_epoch_fini(&e);
	ist_cli_rpc_answer_fini(&a);
	ist_cli_node_close(&node);
	return ist_cli_status(r);
}

/* ---- query evidence ----------------------------------------------------------------------------- */

static const char evidence_help[] =
	"usage: isthmus query evidence [--node URL] [--json]\n"
	"\n"
	"Lists the evidence of equivocation the ledger has applied (GET /v1/evidence):\n"
	"double votes and conflicting checkpoints, with the offender's node key, where\n"
	"it happened and the stake it lost. An offender is removed for good.\n"
	"\n"
	"Options:\n"
	HELP_COMMON
	"\n"
	"Example:\n"
	"  isthmus query evidence\n";

static int query_evidence(int argc, char **argv)
{
	static const struct option opts[] = {
		IST_CLI_QUERY_LONGOPTS,
		{ 0 },
	};
	static const char *cmd = "query evidence";
	struct ist_cli_txopts o;
	bool done;
	int r = parse(cmd, evidence_help, argc, argv, opts, NULL, NULL, &o, &done);
	if (done)
		return r;
	if (optind < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	struct ist_cli_node node;
	if ((r = ist_cli_node_open(cmd, o.node, &node)))
		return r;
	static const char *path = "/v1/evidence";
	struct ist_cli_rpc_answer a = { 0 };
	struct ist_cli_lj_evidence ev;
	struct ist_json_err jerr;
	memset(&ev, 0, sizeof(ev));
	if ((r = get(&node, path, &a)) < 0)
		goto out;
	if ((r = ist_cli_lj_evidence_parse(a.doc, path, &ev, &jerr)) < 0) {
		r = ist_cli_node_bad_answer(&node, path, r, &jerr);
		goto out;
	}
	if (o.json) {
		r = ist_cli_print_json(json_incref(a.doc));
		goto out;
	}
	if (ev.n == 0) {
		printf("no evidence\n");
		goto out;
	}
	printf("%-64s  %-23s  %-64s  %10s  %10s  %20s\n", "ID", "KIND", "OFFENDER", "EPOCH", "HEIGHT", "SLASHED");
	for (size_t i = 0; i < ev.n; i++) {
		const struct ist_cli_lj_evidence_item *it = &ev.items[i];
		char id[65], off[65];
		hex_of(it->id, sizeof(it->id), id);
		hex_of(it->offender, sizeof(it->offender), off);
		printf("%-64s  %-23s  %-64s  %10" PRIu64 "  %10" PRIu64 "  %20" PRIu64 "\n", id, it->kind, off, it->epoch,
		       it->height, it->slashed);
	}
out:
	ist_cli_lj_evidence_fini(&ev);
	ist_cli_rpc_answer_fini(&a);
	ist_cli_node_close(&node);
	return ist_cli_status(r);
}

/* ---- query tx ------------------------------------------------------------------------------------- */

static const char tx_help[] =
	"usage: isthmus query tx ID [--node URL] [--json]\n"
	"\n"
	"Shows transaction ID (64 hex digits, what the tx commands print): pending in\n"
	"the node's mempool, or committed with its height, position, kind, sender,\n"
	"nonce and result (ok, or failed with the reason: a failed transaction's fee\n"
	"is charged and its nonce used). Status 0 when the node knows it, whatever the\n"
	"result; 1 when it does not.\n"
	"\n"
	"Options:\n"
	HELP_COMMON
	"\n"
	"Example:\n"
	"  isthmus query tx 6dfe1595a8d4f2b0e0c3d9b1e1f0a7c4d2b8e6f5a3c1d9e7b5a3f1e9d7c5b875\n";

static int query_tx(int argc, char **argv)
{
	static const struct option opts[] = {
		IST_CLI_QUERY_LONGOPTS,
		{ 0 },
	};
	static const char *cmd = "query tx";
	struct ist_cli_txopts o;
	bool done;
	int r = parse(cmd, tx_help, argc, argv, opts, NULL, NULL, &o, &done);
	if (done)
		return r;
	if (optind >= argc)
		return ist_cli_usage_err(cmd, "missing ID");
	if (optind + 1 < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind + 1]);
	uint8_t id[32];
	if ((r = ist_cli_hex32_arg(cmd, "ID", argv[optind], id)))
		return r;
	struct ist_cli_node node;
	if ((r = ist_cli_node_open(cmd, o.node, &node)))
		return r;
	char path[128] = "/v1/txs/", hex[65];
	hex_of(id, 32, hex);
	strcat(path, hex);
	struct ist_cli_rpc_answer a = { 0 };
	struct ist_cli_lj_tx t;
	struct ist_json_err jerr;
	if ((r = ist_cli_node_get(&node, path, true, &a)) < 0) {
		if (r == -IST_ENOTFOUND)
			ist_cli_err("tx %s is not known to the node at %s (neither in its mempool nor committed)", hex,
				    node.url);
		goto out;
	}
	if ((r = ist_cli_lj_tx_parse(a.doc, path, &t, &jerr)) == 0 && memcmp(t.id, id, 32) != 0) {
		ist_json_err_set(&jerr, path, "id", "is another transaction than the one asked for");
		r = -IST_ECONFIG;
	}
	if (r < 0) {
		r = ist_cli_node_bad_answer(&node, path, r, &jerr);
		goto out;
	}
	if (o.json) {
		r = ist_cli_print_json(json_incref(a.doc));
		goto out;
	}
	printf("tx           %s\n", hex);
	if (!t.committed) {
		printf("status       pending (in the node's mempool)\n");
		goto out;
	}
	char sender[65];
	hex_of(t.sender, sizeof(t.sender), sender);
	printf("status       committed at height %" PRIu64 " (item %" PRIu32 ")\n", t.height, t.index);
	printf("kind         %s\n", t.kind);
	printf("sender       %s\n", sender);
	printf("nonce        %" PRIu64 "\n", t.nonce);
	if (t.ok)
		printf("result       ok\n");
	else
		printf("result       failed: %s\n", t.reason);
out:
	ist_cli_rpc_answer_fini(&a);
	ist_cli_node_close(&node);
	return ist_cli_status(r);
}

/* ---- query message ---------------------------------------------------------------------- */

static const char message_help[] =
	"usage: isthmus query message SRC DST NONCE [--node URL] [--json]\n"
	"\n"
	"Shows where message NONCE of route SRC->DST stands on the node\n"
	"(GET /v1/deliveries/SRC/DST/NONCE):\n"
	"  ready     certified: a relayer can deliver it (its checkpoint is shown)\n"
	"  pending   not yet, and why: not observed yet, awaiting a checkpoint or a\n"
	"            certificate\n"
	"  held      the route's limits hold it (governance sets them): the rule\n"
	"            (high_value_delay, window_count, window_value), the first held\n"
	"            message it waits behind, and the source height it passes at\n"
	"Status 0 whatever the answer; 1 when the node cannot be asked.\n"
	"\n"
	"Options:\n"
	HELP_COMMON
	"\n"
	"Example:\n"
	"  isthmus query message 1 2 17\n";

static int query_message(int argc, char **argv)
{
	static const struct option opts[] = {
		IST_CLI_QUERY_LONGOPTS,
		{ 0 },
	};
	static const char *cmd = "query message";
	struct ist_cli_txopts o;
	bool done;
	int r = parse(cmd, message_help, argc, argv, opts, NULL, NULL, &o, &done);
	if (done)
		return r;
	if (argc - optind != 3)
		return ist_cli_usage_err(cmd, "give SRC DST NONCE");
	uint64_t src, dst, nonce;
	if ((r = ist_cli_u64_arg(cmd, "SRC", argv[optind], 1, &src)) || (r = ist_cli_u64_arg(cmd, "DST", argv[optind + 1], 1, &dst)) ||
	    (r = ist_cli_u64_arg(cmd, "NONCE", argv[optind + 2], 0, &nonce)))
		return r;
	struct ist_cli_node node;
	if ((r = ist_cli_node_open(cmd, o.node, &node)))
		return r;
	char path[96];
	snprintf(path, sizeof(path), "/v1/deliveries/%" PRIu64 "/%" PRIu64 "/%" PRIu64, src, dst, nonce);
	struct ist_cli_rpc_answer a = { 0 };
	struct ist_cli_lj_delivery_status d;
	struct ist_json_err jerr;
	if ((r = ist_cli_node_get(&node, path, false, &a)) < 0)
		goto out;
	if ((r = ist_cli_lj_delivery_status_parse(a.doc, path, &d, &jerr)) < 0) {
		r = ist_cli_node_bad_answer(&node, path, r, &jerr);
		goto out;
	}
	if (o.json) {
		r = ist_cli_print_json(json_incref(a.doc));
		goto out;
	}
	printf("message      %" PRIu64 "->%" PRIu64 " nonce %" PRIu64 "\n", src, dst, nonce);
	if (d.ready) {
		printf("status       ready (certified; a relayer can deliver it)\n");
		if (d.has_checkpoint)
			printf("checkpoint   tree size %" PRIu64 " at source height %" PRIu64 "\n", d.cp_tree_size,
			       d.cp_src_height);
	} else if (d.held) {
		printf("status       held\n");
		printf("rule         %s\n", d.rule);
		if (d.first_held != nonce)
			printf("behind       message %" PRIu64 " (held messages pass in nonce order)\n", d.first_held);
		if (d.has_release)
			printf("release      at source height %" PRIu64 " (chain %" PRIu64 " is at %" PRIu64 ")\n",
			       d.release_height, src, d.source_height);
		else
			printf("release      once the messages before it are checkpointed and the window slides\n");
	} else {
		printf("status       pending (%s)\n", d.reason);
	}
	if (d.detail[0])
		printf("detail       %s\n", d.detail);
out:
	ist_cli_rpc_answer_fini(&a);
	ist_cli_node_close(&node);
	return ist_cli_status(r);
}
