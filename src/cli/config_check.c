/* `isthmus config`: its sub-table, and `isthmus config check`, which checks a
 * node home as the node does at start. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/bytes.h"
#include "common/err.h"
#include "node/config.h"
#include "node/genesis.h"

static int config_check(int argc, char **argv);

static const struct ist_cli_cmd config_cmds[] = {
	{ "check", config_check, "check a node home's config.json, genesis.json and keys" },
};

static const char config_head[] =
	"usage: isthmus config <subcommand> [<args>]\n"
	"\n"
	"Works on the configuration of a node home (docs/configuration.md).\n"
	"\n"
	"Subcommands:\n";

static const char config_tail[] =
	"\n"
	"Options:\n"
	"  -h, --help               show this help\n"
	"\n"
	"Example:\n"
	"  isthmus config check --home /var/lib/isthmus\n";

static const char check_help[] =
	"usage: isthmus config check [--home DIR]\n"
	"\n"
	"Checks a node home as the node does before it starts: DIR/config.json,\n"
	"DIR/genesis.json, and that the node's keyset (public part: no passphrase\n"
	"needed) is a genesis validator's, unless the config says \"role\": \"observer\".\n"
	"Prints OK and what the node would be, or one line naming the file, the field\n"
	"and the problem, e.g.\n"
	"  isthmus: DIR/genesis.json: validators[2].stake: must be a positive integer (got -5)\n"
	"\n"
	"Options:\n"
	"  --home DIR               the node home (default: $ISTHMUS_HOME, else ~/.isthmus)\n"
	"  -h, --help               show this help\n"
	"\n"
	"Exit status: 0 when the node would start, 1 when it would refuse, 2 usage.\n"
	"\n"
	"Example:\n"
	"  isthmus config check --home ./devnet/node0\n";

int ist_cli_config(int argc, char **argv)
{
	return ist_cli_group("config", config_head, config_cmds, IST_ARRAY_SIZE(config_cmds), config_tail, argc, argv);
}

static int config_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "home", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *home_opt = NULL;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(check_help);
		case 'H': home_opt = optarg; break;
		default: return ist_cli_bad_option("config check", c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err("config check", "unexpected argument '%s'", argv[optind]);
	char *home = ist_cli_home_dir(home_opt);
	if (!home)
		return IST_CLI_ERROR;
	struct ist_node_config cfg;
	struct ist_node_genesis g;
	struct ist_node_identity id;
	struct ist_json_err err;
	int r = ist_node_home_load(home, &cfg, &g, &id, &err);
	if (r < 0) {
		char line[2048];
		ist_cli_err("%s", ist_json_err_format(&err, line, sizeof(line)));
		free(home);
		return IST_CLI_ERROR;
	}
	char hash[2 * IST_HASH_BYTES + 1];
	ist_hex_encode(g.hash, sizeof(g.hash), hash);
	printf("OK: %s\n", home);
	printf("  chain        %s (network id %llu)\n", g.chain_id, (unsigned long long)g.network_id);
	printf("  genesis      %s (%zu validators, total stake %llu)\n", hash, g.n_validators,
	       (unsigned long long)g.total_stake);
	if (id.validator && id.index == IST_NODE_NOT_IN_GENESIS)
		printf("  role         validator not in the genesis: it joins by staking (isthmus stake register)\n");
	else if (id.validator)
		printf("  role         validator %zu of %zu (\"%s\")\n", id.index, g.n_validators,
		       g.validators[id.index].name);
	else
		printf("  role         observer\n");
	printf("  moniker      %s\n", cfg.moniker);
	printf("  listen       %s\n", cfg.listen);
	printf("  api          %s\n", cfg.api);
	printf("  key          %s\n", cfg.role == IST_NODE_ROLE_VALIDATOR ? cfg.key_path : "(not used by an observer)");
	printf("  data         %s\n", cfg.data_path);
	ist_node_config_fini(&cfg);
	ist_node_genesis_fini(&g);
	free(home);
	return IST_CLI_OK;
}
