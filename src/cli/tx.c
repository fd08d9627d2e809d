/*
 * `isthmus tx`: ledger transactions that are not about stake. One
 * subcommand today, `tx transfer`; the staking ones are `isthmus stake`
 * (stake.c). The transaction's life is cli/txsubmit.h's.
 */
#include <string.h>

#include "cli/cli.h"
#include "cli/txsubmit.h"

static int tx_transfer(int argc, char **argv);

static const struct ist_cli_cmd tx_cmds[] = {
	{ "transfer", tx_transfer, "move funds from the keyset's account to another account" },
};

static const char tx_head[] =
	"usage: isthmus tx <subcommand> [<args>]\n"
	"\n"
	"Signs a ledger transaction with a keyset's Ed25519 node key (its account),\n"
	"submits it to a node (POST /v1/txs) and waits until it is committed.\n"
	"Staking transactions are 'isthmus stake'.\n"
	"\n"
	"Subcommands:\n";

static const char tx_tail[] =
	"\n"
	"Options:\n"
	"  -h, --help               show this help\n"
	"\n"
	"Run 'isthmus tx <subcommand> --help' for the options of a subcommand.\n"
	"\n"
	"Example:\n"
	"  isthmus tx transfer --key val1 --to 3b6a27bc...da29 --amount 1000\n";

int ist_cli_tx(int argc, char **argv)
{
	return ist_cli_group("tx", tx_head, tx_cmds, IST_ARRAY_SIZE(tx_cmds), tx_tail, argc, argv);
}

static const char transfer_help[] =
	"usage: isthmus tx transfer --key NAME --to HEX32 --amount N [options]\n"
	"\n"
	"Moves N from the account of keyset NAME (its Ed25519 node key) to the account\n"
	"HEX32 (an Ed25519 public key, 64 hex digits), paying --fee on top. Waits for\n"
	"the commit and prints the transaction id and the outcome:\n"
	"\n"
	"  committed at height H: ok\n"
	"  committed at height H: failed: REASON\n"
	"\n"
	"Options:\n"
	"  --to HEX32               the receiving account (required)\n"
	"  --amount N               the amount, 1 to 2^64-1 (required)\n"
	IST_CLI_HELP_TX
	"\n"
	IST_CLI_HELP_TX_STATUS
	"\n"
	"Example:\n"
	"  isthmus tx transfer --key val1 --to 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29 \\\n"
	"      --amount 5000 --passphrase-file ./pass.txt\n";

enum { OPT_TO = IST_CLI_LOPT_OWN, OPT_AMOUNT };

static int tx_transfer(int argc, char **argv)
{
	static const struct option opts[] = {
		IST_CLI_TX_LONGOPTS,
		{ "to", required_argument, NULL, OPT_TO },
		{ "amount", required_argument, NULL, OPT_AMOUNT },
		{ 0 },
	};
	static const char *cmd = "tx transfer";
	struct ist_cli_txopts o;
	ist_cli_txopts_init(&o);
	struct ist_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.kind = IST_TX_TRANSFER;
	bool has_to = false, has_amount = false;
	int r, c;
	ist_cli_getopt_reset();
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return ist_cli_help(transfer_help);
		if ((r = ist_cli_txopts_take(cmd, c, optarg, &o)) == 0)
			continue;
		if (r != 1)
			return r;
		switch (c) {
		case OPT_TO:
			if ((r = ist_cli_hex32_arg(cmd, "--to", optarg, tx.u.transfer.to)))
				return r;
			has_to = true;
			break;
		case OPT_AMOUNT:
			if ((r = ist_cli_u64_arg(cmd, "--amount", optarg, 1, &tx.u.transfer.amount)))
				return r;
			has_amount = true;
			break;
		default:
			return ist_cli_bad_option(cmd, c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	if (!o.key)
		return ist_cli_usage_err(cmd, "--key NAME is required");
	if (!has_to)
		return ist_cli_usage_err(cmd, "--to HEX32 is required");
	if (!has_amount)
		return ist_cli_usage_err(cmd, "--amount N is required");
	return ist_cli_tx_run(cmd, &o, &tx);
}
