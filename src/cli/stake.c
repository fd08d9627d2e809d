/*
 * `isthmus stake`: the staking transactions (register, bond, unbond,
 * withdraw, unjail) and `stake show`, a validator's row in the registry with
 * its operator's stake. The transactions share one option parser: each
 * subcommand takes the common options (cli/txsubmit.h) and its own.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/ledger_json.h"
#include "cli/txsubmit.h"
#include "common/bytes.h"
#include "common/err.h"

static int stake_register(int argc, char **argv);
static int stake_bond(int argc, char **argv);
static int stake_unbond(int argc, char **argv);
static int stake_withdraw(int argc, char **argv);
static int stake_unjail(int argc, char **argv);
static int stake_show(int argc, char **argv);

static const struct ist_cli_cmd stake_cmds[] = {
	{ "register", stake_register, "register the keyset as a validator (its three public keys)" },
	{ "bond", stake_bond, "bond funds to a validator (default: the keyset's own)" },
	{ "unbond", stake_unbond, "start unbonding stake (released after the unbonding epochs)" },
	{ "withdraw", stake_withdraw, "move matured unbonded stake back to the balance" },
	{ "unjail", stake_unjail, "unjail the validator the keyset operates, after the cooldown" },
	{ "show", stake_show, "show a validator's registry row and its operator's stake" },
};

static const char stake_head[] =
	"usage: isthmus stake <subcommand> [<args>]\n"
	"\n"
	"Staking on the isthmus ledger. A validator keyset ('isthmus keys new') holds\n"
	"the Ed25519 node key, which is also the operator's account: staking\n"
	"transactions are signed with it. Stake bonded before an epoch ends counts for\n"
	"the set of the next epoch (the top validators by bonded stake above the\n"
	"minimum); unbonded stake is released after the unbonding epochs and then\n"
	"withdrawn to the balance.\n"
	"\n"
	"Subcommands:\n";

static const char stake_tail[] =
	"\n"
	"Options:\n"
	"  -h, --help               show this help\n"
	"\n"
	"Run 'isthmus stake <subcommand> --help' for the options of a subcommand.\n"
	"\n"
	"Example:\n"
	"  isthmus stake register --key val5 --address tcp://10.0.0.5:26600\n"
	"  isthmus stake bond --key val5 --amount 1000000\n";

int ist_cli_stake(int argc, char **argv)
{
	return ist_cli_group("stake", stake_head, stake_cmds, IST_ARRAY_SIZE(stake_cmds), stake_tail, argc, argv);
}

/* ---- the transactions ----------------------------------------------------------------- */

static const char register_help[] =
	"usage: isthmus stake register --key NAME --address URL [--commission-bps N]\n"
	"                              [options]\n"
	"\n"
	"Registers keyset NAME (a validator keyset: node, attestation and DKG keys) as a\n"
	"validator operated by its own account, reachable by its peers at URL (the NNG\n"
	"address isthmusd listens on, e.g. tcp://10.0.0.5:26600). It joins the active\n"
	"set at an epoch change once its bonded stake ('isthmus stake bond') ranks\n"
	"among the top validators and is at least the minimum.\n"
	"\n"
	"Options:\n"
	"  --address URL            the validator's NNG address, 1 to 255 bytes (required)\n"
	"  --commission-bps N       the commission on delegators' rewards in basis\n"
	"                           points, 0 to 10000 (default 0)\n"
	IST_CLI_HELP_TX
	"\n"
	IST_CLI_HELP_TX_STATUS
	"\n"
	"Example:\n"
	"  isthmus stake register --key val5 --address tcp://10.0.0.5:26600 --commission-bps 500\n";

static const char bond_help[] =
	"usage: isthmus stake bond --key NAME [--validator HEX32] --amount N [options]\n"
	"\n"
	"Bonds N from the account of keyset NAME to a validator: HEX32, its node key,\n"
	"or by default the keyset's own (an operator bonds to itself). Any account may\n"
	"bond to any registered validator. The stake counts from the next epoch.\n"
	"\n"
	"Options:\n"
	"  --validator HEX32        the validator's node key (default: the keyset's)\n"
	"  --amount N               the amount, 1 to 2^64-1 (required)\n"
	IST_CLI_HELP_TX
	"\n"
	IST_CLI_HELP_TX_STATUS
	"\n"
	"Example:\n"
	"  isthmus stake bond --key val5 --amount 1000000\n";

static const char unbond_help[] =
	"usage: isthmus stake unbond --key NAME [--validator HEX32] --amount N [options]\n"
	"\n"
	"Unbonds N of the stake the account of keyset NAME bonded to a validator (HEX32,\n"
	"or by default the keyset's own). The stake stops counting at the next epoch\n"
	"and is released after the network's unbonding epochs ('isthmus stake show'\n"
	"gives the release epoch); then 'isthmus stake withdraw' moves it back.\n"
	"\n"
	"Options:\n"
	"  --validator HEX32        the validator's node key (default: the keyset's)\n"
	"  --amount N               the amount, 1 to 2^64-1 (required)\n"
	IST_CLI_HELP_TX
	"\n"
	IST_CLI_HELP_TX_STATUS
	"\n"
	"Example:\n"
	"  isthmus stake unbond --key val5 --amount 250000\n";

static const char withdraw_help[] =
	"usage: isthmus stake withdraw --key NAME [options]\n"
	"\n"
	"Moves every unbonding entry of the account of keyset NAME whose release epoch\n"
	"has come back to its balance.\n"
	"\n"
	"Options:\n"
	IST_CLI_HELP_TX
	"\n"
	IST_CLI_HELP_TX_STATUS
	"\n"
	"Example:\n"
	"  isthmus stake withdraw --key val5\n";

static const char unjail_help[] =
	"usage: isthmus stake unjail --key NAME [options]\n"
	"\n"
	"Unjails the validator operated by the account of keyset NAME (a validator\n"
	"jailed for missing too many votes), once its cooldown has passed ('isthmus\n"
	"stake show' gives the epoch from which it may). A validator removed for\n"
	"equivocation cannot come back.\n"
	"\n"
	"Options:\n"
	IST_CLI_HELP_TX
	"\n"
	IST_CLI_HELP_TX_STATUS
	"\n"
	"Example:\n"
	"  isthmus stake unjail --key val5\n";

enum {
	OPT_VALIDATOR = IST_CLI_LOPT_OWN,
	OPT_AMOUNT,
	OPT_ADDRESS,
	OPT_COMMISSION,
};

/* The long name of option value c in opts. */
static const char *opt_name(const struct option *opts, int c)
{
	for (; opts->name; opts++)
		if (opts->val == c)
			return opts->name;
	return "?";
}

/* Parses and sends a staking transaction of `kind`. Options that `kind`
 * does not take are unknown options. */
static int stake_tx(int argc, char **argv, const char *cmd, const char *help, enum ist_tx_kind kind)
{
	static const struct option opts[] = {
		IST_CLI_TX_LONGOPTS,
		{ "validator", required_argument, NULL, OPT_VALIDATOR },
		{ "amount", required_argument, NULL, OPT_AMOUNT },
		{ "address", required_argument, NULL, OPT_ADDRESS },
		{ "commission-bps", required_argument, NULL, OPT_COMMISSION },
		{ 0 },
	};
	bool amounts = kind == IST_TX_BOND || kind == IST_TX_UNBOND, reg = kind == IST_TX_REGISTER_VALIDATOR;
	struct ist_cli_txopts o;
	ist_cli_txopts_init(&o);
	struct ist_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.kind = kind;
	/* bond and unbond share their layout */
	uint8_t *validator = kind == IST_TX_UNBOND ? tx.u.unbond.validator : tx.u.bond.validator;
	uint64_t *amount = kind == IST_TX_UNBOND ? &tx.u.unbond.amount : &tx.u.bond.amount;
	const char *address = NULL;
	bool has_amount = false;
	uint64_t v;
	int r, c;
	ist_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return ist_cli_help(help);
		if ((r = ist_cli_txopts_take(cmd, c, optarg, &o)) == 0)
			continue;
		if (r != 1)
			return r;
		if (((c == OPT_VALIDATOR || c == OPT_AMOUNT) && !amounts) ||
		    ((c == OPT_ADDRESS || c == OPT_COMMISSION) && !reg))
			return ist_cli_usage_err(cmd, "unknown option '--%s'", opt_name(opts, c));
		switch (c) {
		case OPT_VALIDATOR:
			if ((r = ist_cli_hex32_arg(cmd, "--validator", optarg, validator)))
				return r;
			break;
		case OPT_AMOUNT:
			if ((r = ist_cli_u64_arg(cmd, "--amount", optarg, 1, amount)))
				return r;
			has_amount = true;
			break;
		case OPT_ADDRESS: address = optarg; break;
		case OPT_COMMISSION:
			if (!ist_json_decimal_u64(optarg, &v) || v > 10000)
				return ist_cli_usage_err(cmd, "--commission-bps must be an integer from 0 to 10000 (got '%s')",
							 optarg);
			tx.u.register_validator.commission_bps = (uint32_t)v;
			break;
		default:
			return ist_cli_bad_option(cmd, c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	if (!o.key)
		return ist_cli_usage_err(cmd, "--key NAME is required");
	if (amounts && !has_amount)
		return ist_cli_usage_err(cmd, "--amount N is required");
	if (reg) {
		if (!address)
			return ist_cli_usage_err(cmd, "--address URL is required");
		size_t len = strlen(address);
		if (len < 1 || len > IST_WIRE_MAX_ADDRESS_BYTES)
			return ist_cli_usage_err(cmd, "--address must be 1 to %d bytes", IST_WIRE_MAX_ADDRESS_BYTES);
		/* the wire format wants UTF-8 (the encoder checks); an address is
		 * a URL: "scheme://host:port" */
		if (!strstr(address, "://"))
			return ist_cli_usage_err(cmd, "--address must be an NNG URL such as tcp://HOST:PORT (got '%s')",
						 address);
		memcpy(tx.u.register_validator.address, address, len + 1);
		tx.u.register_validator.address_len = len;
	}
	return ist_cli_tx_run(cmd, &o, &tx);
}

static int stake_register(int argc, char **argv)
{
	return stake_tx(argc, argv, "stake register", register_help, IST_TX_REGISTER_VALIDATOR);
}

static int stake_bond(int argc, char **argv)
{
	return stake_tx(argc, argv, "stake bond", bond_help, IST_TX_BOND);
}

static int stake_unbond(int argc, char **argv)
{
	return stake_tx(argc, argv, "stake unbond", unbond_help, IST_TX_UNBOND);
}

static int stake_withdraw(int argc, char **argv)
{
	return stake_tx(argc, argv, "stake withdraw", withdraw_help, IST_TX_WITHDRAW);
}

static int stake_unjail(int argc, char **argv)
{
	return stake_tx(argc, argv, "stake unjail", unjail_help, IST_TX_UNJAIL);
}

/* ---- stake show -------------------------------------------------------------------------- */

static const char show_help[] =
	"usage: isthmus stake show (--key NAME | --validator HEX32) [options]\n"
	"\n"
	"Shows a validator's row in the registry (GET /v1/staking: status, bonded\n"
	"stake, commission, address, keys, jail and slashing) and the stake of an\n"
	"account (GET /v1/accounts: balance, bonds, unbonding entries with their\n"
	"release epochs). With --key, the account is keyset NAME's and the validator\n"
	"the one it operates, if any; with --validator, the validator is HEX32 (its\n"
	"node key) and the account its operator's. No passphrase is needed.\n"
	"\n"
	"Options:\n"
	"  --key NAME               the keyset whose account to show\n"
	"  --validator HEX32        the validator's node key\n"
	IST_CLI_HELP_KEYSTORE
	IST_CLI_HELP_NODE
	"  --json                   print {\"validator\": the registry row or null,\n"
	"                           \"account\": the account} as the node gave them\n"
	"  -h, --help               show this help\n"
	"\n"
	"Example:\n"
	"  isthmus stake show --key val5\n";

static void hex_of(const uint8_t *p, size_t len, char *out)
{
	ist_hex_encode(p, len, out);
}

static void print_validator(const struct ist_cli_lj_validator *v, const struct ist_cli_lj_staking *s)
{
	char hex[67];
	hex_of(v->node_key, sizeof(v->node_key), hex);
	printf("validator    %s\n", hex);
	printf("name         %s\n", v->has_name ? v->name : "-");
	hex_of(v->operator_key, sizeof(v->operator_key), hex);
	printf("operator     %s\n", hex);
	printf("status       %s\n", v->status);
	printf("bonded       %" PRIu64 "\n", v->bonded);
	printf("commission   %u.%02u%% (%u bps)\n", v->commission_bps / 100, v->commission_bps % 100,
	       v->commission_bps);
	printf("address      %s\n", v->address);
	hex_of(v->attestation_key, sizeof(v->attestation_key), hex);
	printf("attestation  %s\n", hex);
	hex_of(v->dkg_key, sizeof(v->dkg_key), hex);
	printf("dkg          %s\n", hex);
	if (v->has_jailed_epoch) {
		printf("jailed       at epoch %" PRIu64, v->jailed_epoch);
		if (v->has_unjail_epoch)
			printf(", may unjail from epoch %" PRIu64, v->unjail_epoch);
		printf("\n");
	}
	printf("slashed      %" PRIu64 "\n", v->slashed);
	printf("epoch        %" PRIu64 " (unbonding takes %" PRIu64 " epoch%s)\n", s->epoch, s->unbonding_epochs,
	       s->unbonding_epochs == 1 ? "" : "s");
}

/* The row of /v1/staking's validators[] whose node_key is key32 (borrowed
 * from doc), or NULL. doc was decoded already, so the row is an object. */
static json_t *raw_row(json_t *doc, const uint8_t key32[32])
{
	char hex[65];
	ist_hex_encode(key32, 32, hex);
	json_t *arr = json_object_get(doc, "validators"), *e;
	size_t i;
	json_array_foreach(arr, i, e) {
		const char *k = json_string_value(json_object_get(e, "node_key"));
		uint8_t b[32];
		if (k && ist_hex_decode(k, b, sizeof(b)) == 0 && memcmp(b, key32, 32) == 0)
			return e;
	}
	return NULL;
}

static int stake_show(int argc, char **argv)
{
	static const struct option opts[] = {
		IST_CLI_QUERY_LONGOPTS,
		IST_CLI_KEY_LONGOPTS,
		{ "validator", required_argument, NULL, OPT_VALIDATOR },
		{ 0 },
	};
	static const char *cmd = "stake show";
	struct ist_cli_txopts o;
	ist_cli_txopts_init(&o);
	uint8_t want[32];
	bool has_validator = false;
	int r, c;
	ist_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return ist_cli_help(show_help);
		if ((r = ist_cli_txopts_take(cmd, c, optarg, &o)) == 0)
			continue;
		if (r != 1)
			return r;
		if (c != OPT_VALIDATOR)
			return ist_cli_bad_option(cmd, c, argv);
		if ((r = ist_cli_hex32_arg(cmd, "--validator", optarg, want)))
			return r;
		has_validator = true;
	}
	if (optind < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	if (!o.key == !has_validator)
		return ist_cli_usage_err(cmd, "give one of --key NAME and --validator HEX32");
	uint8_t account[32];
	if (o.key) {
		struct ist_keystore_file *f = NULL;
		char *path = NULL;
		if ((r = ist_cli_keyset_open(cmd, o.keystore, o.key, false, &f, &path)))
			return r;
		memcpy(account, ist_cli_keyset_account(f), 32);
		free(f);
		free(path);
	}
	struct ist_cli_node node;
	if ((r = ist_cli_node_open(cmd, o.node, &node)))
		return r;

	struct ist_cli_rpc_answer sa = { 0 }, aa = { 0 };
	struct ist_cli_lj_staking st = { 0 };
	struct ist_cli_lj_account acc = { 0 };
	struct ist_json_err jerr;
	const struct ist_cli_lj_validator *row = NULL;
	char apath[128] = "/v1/accounts/";
	if ((r = ist_cli_node_get(&node, "/v1/staking", false, &sa)) < 0)
		goto out;
	if ((r = ist_cli_lj_staking_parse(sa.doc, "/v1/staking", &st, &jerr)) < 0) {
		r = ist_cli_node_bad_answer(&node, "/v1/staking", r, &jerr);
		goto out;
	}
	if (has_validator) {
		if (!(row = ist_cli_lj_staking_find(&st, want))) {
			char hex[65];
			ist_hex_encode(want, 32, hex);
			ist_cli_err("no validator with node key %s in the registry of %s", hex, node.url);
			r = -IST_ENOTFOUND;
			goto out;
		}
		memcpy(account, row->operator_key, 32);
	}
	ist_hex_encode(account, 32, apath + strlen(apath));
	if ((r = ist_cli_node_get(&node, apath, false, &aa)) < 0)
		goto out;
	if ((r = ist_cli_lj_account_parse(aa.doc, apath, &acc, &jerr)) < 0) {
		r = ist_cli_node_bad_answer(&node, apath, r, &jerr);
		goto out;
	}
	if (!row) {
		/* the validator the account operates; else its own key's, if registered */
		row = ist_cli_lj_staking_find(&st, acc.has_validator ? acc.validator : account);
	}
	if (o.json) {
		json_t *out = json_object();
		json_t *raw = row ? raw_row(sa.doc, row->node_key) : NULL;
		if (out && (json_object_set(out, "validator", raw ? raw : json_null()) < 0 ||
			    json_object_set(out, "account", aa.doc) < 0)) {
			json_decref(out);
			out = NULL;
		}
		r = ist_cli_print_json(out);
		goto out;
	}
	if (row)
		print_validator(row, &st);
	else
		printf("validator    none: the account operates no registered validator\n");
	ist_cli_account_print(&acc);
	r = 0;
out:
	ist_cli_lj_account_fini(&acc);
	ist_cli_lj_staking_fini(&st);
	ist_cli_rpc_answer_fini(&aa);
	ist_cli_rpc_answer_fini(&sa);
	ist_cli_node_close(&node);
	return ist_cli_status(r);
}
