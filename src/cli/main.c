/*
 * isthmus: the command-line tool of the isthmus network.
 *
 * A table of commands, one file per command (wireguard-tools style); each
 * command parses its own options and returns the exit status.
 */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "cli/cli.h"
#include "common/err.h"
#include "crypto/crypto.h"

#ifndef IST_VERSION
#define IST_VERSION "unknown"
#endif

static const struct ist_cli_cmd commands[] = {
	{ "init", ist_cli_init, "create a validator node home: config.json and keys" },
	{ "testnet", ist_cli_testnet, "write the node homes and genesis of a local devnet" },
	{ "config", ist_cli_config, "check a node home's configuration and genesis" },
	{ "keys", ist_cli_keys, "manage validator keys: new, list, show, export, import, delete" },
	{ "safety", ist_cli_safety, "export or import a validator's safety state (moving a validator)" },
	{ "send", ist_cli_send, "send a cross-chain message on a chain's outbox" },
	{ "relay", ist_cli_relay, "carry certified messages from validators to destination inboxes" },
	{ "verify", ist_cli_verify, "check a delivery offline against a validator set" },
	{ "tx", ist_cli_tx, "send a ledger transaction: transfer funds" },
	{ "stake", ist_cli_stake, "register a validator, bond, unbond, withdraw, unjail, show stake" },
	{ "gov", ist_cli_gov, "propose and vote on pausing or resuming chains and routes" },
	{ "query", ist_cli_query, "read the ledger: accounts, validators, epochs, evidence, transactions" },
	{ "version", ist_cli_version, "print the version" },
};

static const char usage_head[] =
	"usage: isthmus [--help] [--version] <command> [<args>]\n"
	"\n"
	"The command-line tool of the isthmus cross-chain validator network.\n"
	"\n"
	"Commands:\n";

static const char usage_tail[] =
	"\n"
	"Options:\n"
	"  -h, --help      show this help\n"
	"  --version       print the version\n"
	"\n"
	"Run 'isthmus <command> --help' for the options of a command.\n"
	"Exit status: 0 success, 1 error (one line on stderr), 2 usage error.\n"
	"\n"
	"Example:\n"
	"  isthmus keys new val1\n";

static void usage(FILE *out)
{
	ist_cli_print_usage(out, usage_head, commands, IST_ARRAY_SIZE(commands), usage_tail);
}

/* `isthmus version` and `isthmus --version` */
static int print_version(void)
{
	printf("isthmus %s\n", IST_VERSION);
	return IST_CLI_OK;
}

static const char version_help[] =
	"usage: isthmus version\n"
	"\n"
	"Prints the version of isthmus.\n"
	"\n"
	"Options:\n"
	"  -h, --help      show this help\n"
	"\n"
	"Example:\n"
	"  isthmus version\n";

int ist_cli_version(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return ist_cli_help(version_help);
		return ist_cli_bad_option("version", c, argv);
	}
	if (optind < argc)
		return ist_cli_usage_err("version", "unexpected argument '%s'", argv[optind]);
	return print_version();
}

static int run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	ist_cli_getopt_reset();
	int c;
	/* '+': stop at the command name; what follows is the command's */
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return IST_CLI_OK;
		case 'V':
			return print_version();
		default:
			return ist_cli_bad_option(NULL, c, argv);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return IST_CLI_USAGE;
	}
	if (ist_crypto_init() < 0) {
		ist_cli_err("cannot initialise the crypto libraries");
		return IST_CLI_ERROR;
	}
	return ist_cli_dispatch("isthmus", commands, IST_ARRAY_SIZE(commands), argc - optind, argv + optind);
}

int main(int argc, char **argv)
{
	/* This process reads passphrases and decrypts keys. sodium_malloc keeps
	 * its guarded copies out of core dumps, but not every copy that passes
	 * through (ISTHMUS_PASSPHRASE in the environment, temporaries of the
	 * crypto libraries): no core dump, and no ptrace or /proc/PID/mem access
	 * by other processes of the same user. Best effort: the commands work
	 * without it. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	int status = run(argc, argv);
	/* a full disk or a closed pipe must not pass for success */
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ist_cli_err("cannot write to standard output");
		if (status == IST_CLI_OK)
			status = IST_CLI_ERROR;
	}
	return status;
}
