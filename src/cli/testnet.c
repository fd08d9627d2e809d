/* `isthmus testnet`: the node homes and genesis of a local devnet. */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/keys.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/rng.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/home.h"
#include "state/verify.h"
#include "wire/types.h"

#define DEFAULT_BASE_PORT 26600
#define DEFAULT_HOST "127.0.0.1"
#define DEFAULT_CHAIN_ID "isthmus-devnet"
#define DEFAULT_NETWORK_ID 1337
#define DEFAULT_STAKE 1000000
#define DEFAULT_GENESIS_TIME "2024-01-01T00:00:00Z"
#define PASS_BYTES 24   /* a generated passphrase: 48 hex digits */

static const char help[] =
	"usage: isthmus testnet --validators N --output DIR [--base-port P]\n"
	"                       [--hosts H0,H1,...] [--chain-id NAME] [--network-id ID]\n"
	"                       [--stake S] [--genesis-time TIME] [--chains M]\n"
	"                       [--max-block-items K] [--epoch-length L] [--frost]\n"
	"                       [--balance B] [--passphrase-file FILE] [--kdf-fast]\n"
	"\n"
	"Writes a local devnet of N validators into DIR, which must be new or empty\n"
	"(mode 0700): DIR/genesis.json listing the N validators with equal stake, and\n"
	"one node home per validator, DIR/node0 .. DIR/node<N-1>, each with\n"
	"config.json, genesis.json (a copy), a validator keyset in keys/validator.json\n"
	"and its passphrase in passphrase (0600). Start node i with\n"
	"'isthmusd --home DIR/node<i>'. Apart from keys and passphrases the output\n"
	"depends on the options only.\n"
	"\n"
	"Addresses: node i listens on port P+i and serves the API on port P+A+i,\n"
	"where A is 100 for up to 100 validators (100 * ceil(N/100) beyond), both on\n"
	"127.0.0.1, or on host Hi with --hosts (the genesis names tcp://Hi:P+i). With\n"
	"--chains M the genesis lists chains 1..M (devchain-1 ..) and every node\n"
	"watches chain k through a devchain at http://127.0.0.1:(P+2A+k-1). Ports\n"
	"past 65535 are refused.\n"
	"\n"
	"DEVNETS ONLY: every passphrase sits next to its key file, so the keys are\n"
	"only as safe as the directory. Never stake real value on these keys.\n"
	"\n"
	"Options:\n"
	"  --validators N           number of validators, 1 to 256\n"
	"  --output DIR             where to write (new or empty)\n"
	"  --base-port P            first port (default 26600)\n"
	"  --hosts H0,H1,...        one host per validator, in order, where node i binds\n"
	"                           and peers reach it: a DNS name, an IPv4 address or an\n"
	"                           [IPv6] address, not 0.0.0.0 or [::] (default 127.0.0.1\n"
	"                           for all)\n"
	"  --chain-id NAME          chain id, 1 to 64 of a-z 0-9 - (default isthmus-devnet)\n"
	"  --network-id ID          network id in every signature, 1 to 2^64-1 (default 1337)\n"
	"  --stake S                each validator's stake (default 1000000)\n"
	"  --genesis-time TIME      RFC 3339 UTC, YYYY-MM-DDTHH:MM:SSZ\n"
	"                           (default 2024-01-01T00:00:00Z)\n"
	"  --chains M               source/destination chains, 0 to 64 (default 0)\n"
	"  --max-block-items K      at most K payload items per block, 1 to 1024 (default\n"
	"                           1024; genesis consensus.max_block_items)\n"
	"  --epoch-length L         blocks per epoch, 10 to 100000000 (default 1000;\n"
	"                           genesis consensus.epoch_length_blocks)\n"
	"  --balance B              each validator's account balance: its node key is\n"
	"                           the account that pays its transactions (default\n"
	"                           1000000000; 0 for none)\n"
	"  --frost                  threshold certificates too: a genesis \"frost\" section\n"
	"                           (DKG rounds of 5 blocks, signing bound 5 blocks)\n"
	"  --passphrase-file FILE   encrypt every keyset with the first line of FILE (it is\n"
	"                           copied into each home); default: a random passphrase\n"
	"                           per node\n"
	IST_CLI_KEYS_HELP_KDF
	IST_CLI_KEYS_HELP_HELP
	"\n"
	"Example:\n"
	"  isthmus testnet --validators 4 --output ./devnet --kdf-fast\n";

enum {
	OPT_VALIDATORS = 0x200,
	OPT_OUTPUT,
	OPT_EPOCH_LENGTH,
	OPT_BALANCE,
	OPT_FROST,
	OPT_BASE_PORT,
	OPT_HOSTS,
	OPT_CHAIN_ID,
	OPT_NETWORK_ID,
	OPT_STAKE,
	OPT_GENESIS_TIME,
	OPT_CHAINS,
	OPT_MAX_BLOCK_ITEMS,
};

/* A decimal u64 in [min, max]: digits only. */
static bool parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	if (!*s || strlen(s) > 20)
		return false;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		uint64_t d = (uint64_t)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		return false;
	*ret = v;
	return true;
}

static int print_node_err(const struct ist_json_err *e, int r)
{
	char line[2048];
	ist_cli_err("%s", ist_json_err_format(e, line, sizeof(line)));
	return r;
}

/* Refuses an existing DIR that holds anything. */
static int output_empty(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		ist_cli_err("%s: %s", dir, strerror(errno));
		return ist_err_from_errno(errno);
	}
	struct dirent *e;
	int r = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			ist_cli_err("%s: exists and is not empty (testnet writes only into a new or empty directory)", dir);
			r = -IST_EEXISTS;
			break;
		}
	}
	closedir(d);
	return r;
}

struct plan {
	size_t n;
	size_t n_chains;
	uint64_t base_port, api_offset, stake;
	const char *hosts[IST_WIRE_MAX_VALIDATORS];   /* node i's host; into hosts_buf or static */
	const char *out;
	const char *passfile;
	struct ist_keystore_kdf kdf;
};

/* The longest host --hosts takes: node i's API URL "http://HOST:PORT" must
 * fit IST_NODE_URL_MAX whatever the port. */
#define HOST_MAX (IST_NODE_URL_MAX - (int)sizeof("http://:65535") + 1)

/* Splits --hosts, a comma-separated list of exactly p->n hosts, into
 * p->hosts (pointers into *ret_buf, a malloc'd copy of `list` that the caller
 * frees, also after a failure). Each host must be one peers can connect to,
 * as a genesis address requires (so not 0.0.0.0 or [::]). Prints the error
 * itself. Returns 0, IST_CLI_USAGE or IST_CLI_ERROR (out of memory). */
static int parse_hosts(struct plan *p, const char *list, char **ret_buf)
{
	char *buf = strdup(list);
	*ret_buf = buf;
	if (!buf) {
		ist_cli_err("out of memory");
		return IST_CLI_ERROR;
	}
	size_t k = 0;
	char *h = buf;
	for (;;) {
		char *comma = strchr(h, ',');
		if (comma)
			*comma = '\0';
		if (k < p->n)
			p->hosts[k] = h;
		k++;
		if (!comma)
			break;
		h = comma + 1;
	}
	if (k != p->n)
		return ist_cli_usage_err("testnet", "--hosts names %zu host%s for %zu validator%s (one per validator, "
					 "comma-separated)", k, k == 1 ? "" : "s", p->n, p->n == 1 ? "" : "s");
	for (size_t i = 0; i < p->n; i++) {
		char url[IST_NODE_URL_MAX + 1], problem[512];
		bool ok = strlen(p->hosts[i]) <= HOST_MAX;
		if (ok) {
			snprintf(url, sizeof(url), "tcp://%s:1", p->hosts[i]);
			ok = ist_node_url_parse(url, IST_NODE_URL_P2P, false, NULL, problem, sizeof(problem)) == 0;
		}
		if (!ok)
			return ist_cli_usage_err("testnet", "--hosts: node%zu's host \"%s\" must be a DNS name, an IPv4 "
						 "address or an [IPv6] address, at most %d bytes, that peers can "
						 "connect to (not 0.0.0.0 or [::])", i, p->hosts[i], HOST_MAX);
	}
	return 0;
}

/* Makes node i's home: passphrase, keys, config. Out: its genesis entry. */
static int make_node(const struct plan *p, size_t i, const struct ist_cli_pass *shared,
		     struct ist_node_validator *v)
{
	static const enum ist_key_type types[] = { IST_KEY_ED25519, IST_KEY_SECP256K1, IST_KEY_X25519 };
	struct ist_json_err nerr;
	struct ist_node_config cfg;
	ist_node_config_init(&cfg);
	char *home = NULL, *path = NULL, *keys = NULL, *text = NULL;
	struct ist_keyset *ks = NULL;
	/* room for the longest passphrase and its newline (a generated one is
	 * shorter) */
	char *pass = sodium_malloc(IST_KEYSTORE_PASSPHRASE_MAX + 2);
	size_t pass_len;
	char err[1024];
	int r = -IST_ENOMEM;
	if (!pass || asprintf(&home, "%s/node%zu", p->out, i) < 0) {
		home = NULL;
		ist_cli_err("out of memory");
		goto out;
	}
	if ((r = ist_node_dir_make(home, &nerr)) < 0) {
		print_node_err(&nerr, r);
		goto out;
	}
	if (shared) {
		memcpy(pass, shared->buf, shared->len);
		pass_len = shared->len;
	} else {
		uint8_t raw[PASS_BYTES];
		if ((r = ist_rng_fill(ist_rng_system(), raw, sizeof(raw))) < 0) {
			ist_cli_err("cannot make a passphrase: %s", ist_strerror(r));
			goto out;
		}
		ist_hex_encode(raw, sizeof(raw), pass);
		sodium_memzero(raw, sizeof(raw));
		pass_len = 2 * PASS_BYTES;
	}
	pass[pass_len] = '\n';
	if ((r = ist_node_home_path(home, IST_NODE_PASSPHRASE_FILE, &path)) < 0 ||
	    (r = ist_node_home_path(home, IST_NODE_KEYS_DIR, &keys)) < 0) {
		ist_cli_err("out of memory");
		goto out;
	}
	if ((r = ist_node_file_write(path, pass, pass_len + 1, false, &nerr)) < 0) {
		print_node_err(&nerr, r);
		goto out;
	}
	if ((r = ist_keyset_generate(IST_NODE_DEFAULT_KEY_NAME, types, IST_ARRAY_SIZE(types), ist_rng_system(), &ks)) < 0) {
		ist_cli_err("cannot make keys: %s", ist_strerror(r));
		goto out;
	}
	if ((r = ist_keystore_write(keys, ks, pass, pass_len, &p->kdf, false, NULL, err, sizeof(err))) < 0) {
		ist_cli_err("%s", err);
		goto out;
	}

	snprintf(cfg.moniker, sizeof(cfg.moniker), "node%zu", i);
	snprintf(cfg.listen, sizeof(cfg.listen), "tcp://%s:%llu", p->hosts[i], (unsigned long long)(p->base_port + i));
	snprintf(cfg.api, sizeof(cfg.api), "http://%s:%llu", p->hosts[i],
		 (unsigned long long)(p->base_port + p->api_offset + i));
	snprintf(cfg.passphrase_file, sizeof(cfg.passphrase_file), "%s", IST_NODE_PASSPHRASE_FILE);
	/* a devnet takes application data through its API (benchmarks, demos) */
	cfg.mempool.accept_data = true;
	/* chain k (id k) is a devchain serving its RPC on P + 2A + k - 1 */
	if (p->n_chains) {
		if (!(cfg.chains = calloc(p->n_chains, sizeof(*cfg.chains)))) {
			r = -IST_ENOMEM;
			goto out;
		}
		cfg.n_chains = p->n_chains;
		for (size_t k = 0; k < p->n_chains; k++) {
			cfg.chains[k].id = k + 1;
			cfg.chains[k].n_rpc = 1;
			snprintf(cfg.chains[k].rpc[0], sizeof(cfg.chains[k].rpc[0]), "http://127.0.0.1:%llu",
				 (unsigned long long)(p->base_port + 2 * p->api_offset + k));
			cfg.chains[k].poll_ms = 200;
		}
	}
	free(path);
	path = NULL;
	if ((r = ist_node_config_format(&cfg, &text)) < 0 || (r = ist_node_home_path(home, IST_NODE_CONFIG_FILE, &path)) < 0) {
		ist_cli_err("cannot make config.json: %s", ist_strerror(r));
		goto out;
	}
	if ((r = ist_node_file_write(path, text, strlen(text), false, &nerr)) < 0) {
		print_node_err(&nerr, r);
		goto out;
	}

	const struct ist_keyset_info *info = ist_keyset_info(ks);
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", cfg.moniker);
	memcpy(v->node_key, ist_keyset_info_find(info, IST_KEY_ED25519)->pub, sizeof(v->node_key));
	memcpy(v->attestation_key, ist_keyset_info_find(info, IST_KEY_SECP256K1)->pub, sizeof(v->attestation_key));
	memcpy(v->attestation_address, ist_keyset_info_find(info, IST_KEY_SECP256K1)->addr,
	       sizeof(v->attestation_address));
	memcpy(v->dkg_key, ist_keyset_info_find(info, IST_KEY_X25519)->pub, sizeof(v->dkg_key));
	snprintf(v->address, sizeof(v->address), "%s", cfg.listen);
	v->stake = p->stake;
	r = 0;
out:
	if (pass)
		sodium_free(pass);   /* wipes */
	ist_keyset_free(ks);
	ist_node_config_fini(&cfg);
	free(text);
	free(keys);
	free(path);
	free(home);
	return r;
}

static int write_genesis(const struct plan *p, const char *text)
{
	struct ist_json_err nerr;
	char *path = NULL;
	int r;
	for (size_t i = 0; i <= p->n; i++) {
		/* DIR/genesis.json, then one copy per home */
		int n = i == 0 ? asprintf(&path, "%s/%s", p->out, IST_NODE_GENESIS_FILE)
			       : asprintf(&path, "%s/node%zu/%s", p->out, i - 1, IST_NODE_GENESIS_FILE);
		if (n < 0) {
			ist_cli_err("out of memory");
			return -IST_ENOMEM;
		}
		r = ist_node_file_write(path, text, strlen(text), false, &nerr);
		free(path);
		if (r < 0)
			return print_node_err(&nerr, r);
	}
	return 0;
}

/* DIR/validator-set.json: what a destination of this devnet trusts (the
 * devchains' --trust, isthmus verify --validators). */
static int write_valset(const struct plan *p, const struct ist_node_genesis *g)
{
	struct ist_valset *vs = calloc(1, sizeof(*vs));
	if (!vs) {
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	vs->network_id = g->network_id;
	vs->epoch = 0;
	vs->n = g->n_validators;
	for (size_t i = 0; i < g->n_validators; i++) {
		memcpy(vs->keys[i], g->validators[i].attestation_key, IST_SECP_PUBKEY_BYTES);
		vs->stakes[i] = g->validators[i].stake;
	}
	struct ist_json_err jerr;
	char *text = NULL, *path = NULL;
	int r = ist_valset_check(vs, "validator-set.json", &jerr);
	if (r == 0)
		r = ist_valset_format(vs, &text);
	free(vs);
	if (r < 0) {
		ist_cli_err("cannot make validator-set.json: %s", ist_strerror(r));
		return r;
	}
	struct ist_json_err nerr;
	if (asprintf(&path, "%s/validator-set.json", p->out) < 0) {
		free(text);
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	r = ist_node_file_write(path, text, strlen(text), false, &nerr);
	free(text);
	free(path);
	return r < 0 ? print_node_err(&nerr, r) : 0;
}

/* Loads every home as the node will: the testnet must start as written. */
static int verify_homes(const struct plan *p, const struct ist_node_genesis *want)
{
	for (size_t i = 0; i < p->n; i++) {
		char *home = NULL;
		if (asprintf(&home, "%s/node%zu", p->out, i) < 0) {
			ist_cli_err("out of memory");
			return -IST_ENOMEM;
		}
		struct ist_node_config cfg;
		struct ist_node_genesis g;
		struct ist_node_identity id;
		struct ist_json_err nerr;
		int r = ist_node_home_load(home, &cfg, &g, &id, &nerr);
		free(home);
		if (r < 0)
			return print_node_err(&nerr, r);
		bool ok = id.validator && id.index == i && memcmp(g.hash, want->hash, IST_HASH_BYTES) == 0;
		ist_node_config_fini(&cfg);
		ist_node_genesis_fini(&g);
		if (!ok) {
			ist_cli_err("%s/node%zu: internal error: the home does not load as written", p->out, i);
			return -IST_EINTERNAL;
		}
	}
	return 0;
}

int ist_cli_testnet(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "validators", required_argument, NULL, OPT_VALIDATORS },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "base-port", required_argument, NULL, OPT_BASE_PORT },
		{ "hosts", required_argument, NULL, OPT_HOSTS },
		{ "chain-id", required_argument, NULL, OPT_CHAIN_ID },
		{ "network-id", required_argument, NULL, OPT_NETWORK_ID },
		{ "stake", required_argument, NULL, OPT_STAKE },
		{ "genesis-time", required_argument, NULL, OPT_GENESIS_TIME },
		{ "chains", required_argument, NULL, OPT_CHAINS },
		{ "max-block-items", required_argument, NULL, OPT_MAX_BLOCK_ITEMS },
		{ "epoch-length", required_argument, NULL, OPT_EPOCH_LENGTH },
		{ "balance", required_argument, NULL, OPT_BALANCE },
		{ "frost", no_argument, NULL, OPT_FROST },
		{ "passphrase-file", required_argument, NULL, IST_CLI_OPT_PASSFILE },
		{ "kdf-fast", no_argument, NULL, IST_CLI_OPT_KDF_FAST },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *validators = NULL, *chain_id = DEFAULT_CHAIN_ID, *network_id = NULL, *stake = NULL;
	const char *base_port = NULL, *hosts = NULL, *genesis_time = DEFAULT_GENESIS_TIME, *chains = NULL;
	const char *max_items = NULL, *epoch_len = NULL, *balance = NULL;
	uint64_t epoch_blocks = 1000, bal = 1000000000ull;
	struct plan p = { .base_port = DEFAULT_BASE_PORT, .stake = DEFAULT_STAKE };
	bool kdf_fast = false, frost = false;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case OPT_VALIDATORS: validators = optarg; break;
		case OPT_OUTPUT: p.out = optarg; break;
		case OPT_BASE_PORT: base_port = optarg; break;
		case OPT_HOSTS: hosts = optarg; break;
		case OPT_CHAIN_ID: chain_id = optarg; break;
		case OPT_NETWORK_ID: network_id = optarg; break;
		case OPT_STAKE: stake = optarg; break;
		case OPT_GENESIS_TIME: genesis_time = optarg; break;
		case OPT_CHAINS: chains = optarg; break;
		case OPT_MAX_BLOCK_ITEMS: max_items = optarg; break;
		case OPT_EPOCH_LENGTH: epoch_len = optarg; break;
		case OPT_BALANCE: balance = optarg; break;
		case OPT_FROST: frost = true; break;
		case IST_CLI_OPT_PASSFILE: p.passfile = optarg; break;
		case IST_CLI_OPT_KDF_FAST: kdf_fast = true; break;
		default: return ist_cli_bad_option("testnet", c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err("testnet", "unexpected argument '%s'", argv[optind]);
	uint64_t n = 0, nid = DEFAULT_NETWORK_ID, when = 0, block_items = IST_WIRE_MAX_BLOCK_ITEMS;
	if (!validators)
		return ist_cli_usage_err("testnet", "missing --validators N");
	if (!parse_num(validators, 1, IST_WIRE_MAX_VALIDATORS, &n))
		return ist_cli_usage_err("testnet", "--validators must be a number from 1 to %d", IST_WIRE_MAX_VALIDATORS);
	if (!p.out || !*p.out)
		return ist_cli_usage_err("testnet", "missing --output DIR");
	if (base_port && !parse_num(base_port, 1, 65535, &p.base_port))
		return ist_cli_usage_err("testnet", "--base-port must be a number from 1 to 65535");
	if (!ist_node_chain_id_valid(chain_id))
		return ist_cli_usage_err("testnet", "--chain-id must be 1 to %d of a-z 0-9 -", IST_NODE_CHAIN_ID_MAX);
	if (network_id && !parse_num(network_id, 1, UINT64_MAX, &nid))
		return ist_cli_usage_err("testnet", "--network-id must be a number from 1 to 18446744073709551615");
	if (stake && !parse_num(stake, 1, UINT64_MAX / n, &p.stake))
		return ist_cli_usage_err("testnet", "--stake must be a number from 1 to %llu for %llu validators "
					 "(the total must fit 64 bits)", (unsigned long long)(UINT64_MAX / n),
					 (unsigned long long)n);
	if (ist_node_time_parse(genesis_time, &when) < 0)
		return ist_cli_usage_err("testnet", "--genesis-time must be YYYY-MM-DDTHH:MM:SSZ (UTC, 1970 to 9999)");
	uint64_t m = 0;
	if (chains && !parse_num(chains, 0, IST_NODE_MAX_CHAINS, &m))
		return ist_cli_usage_err("testnet", "--chains must be a number from 0 to %d", IST_NODE_MAX_CHAINS);
	p.n_chains = (size_t)m;
	if (max_items && !parse_num(max_items, 1, IST_WIRE_MAX_BLOCK_ITEMS, &block_items))
		return ist_cli_usage_err("testnet", "--max-block-items must be a number from 1 to %d",
					 IST_WIRE_MAX_BLOCK_ITEMS);
	if (epoch_len && !parse_num(epoch_len, IST_NODE_EPOCH_MIN_BLOCKS, IST_NODE_EPOCH_MAX_BLOCKS, &epoch_blocks))
		return ist_cli_usage_err("testnet", "--epoch-length must be a number from %d to %d", IST_NODE_EPOCH_MIN_BLOCKS,
					 IST_NODE_EPOCH_MAX_BLOCKS);
	if (balance && !parse_num(balance, 0, UINT64_MAX / n - p.stake, &bal))
		return ist_cli_usage_err("testnet", "--balance must be a number from 0 to %llu (stakes and balances must "
					 "fit 64 bits)", (unsigned long long)(UINT64_MAX / n - p.stake));
	p.n = (size_t)n;
	p.api_offset = 100 * ((n + 99) / 100);
	if (m && p.base_port + 2 * p.api_offset + m - 1 > 65535)
		return ist_cli_usage_err("testnet", "the devchain ports from %llu exceed 65535: use a lower --base-port",
					 (unsigned long long)(p.base_port + 2 * p.api_offset));
	if (p.base_port + p.api_offset + n - 1 > 65535)
		return ist_cli_usage_err("testnet", "ports %llu..%llu (listen) and %llu..%llu (api) exceed 65535: "
					 "use a lower --base-port",
					 (unsigned long long)p.base_port, (unsigned long long)(p.base_port + n - 1),
					 (unsigned long long)(p.base_port + p.api_offset),
					 (unsigned long long)(p.base_port + p.api_offset + n - 1));
	for (size_t i = 0; i < p.n; i++)
		p.hosts[i] = DEFAULT_HOST;
	char *hosts_buf = NULL;   /* p.hosts points into it: freed at the end */
	int st = hosts ? parse_hosts(&p, hosts, &hosts_buf) : 0;
	if (st == 0 && ist_cli_kdf(kdf_fast, &p.kdf) < 0)
		st = IST_CLI_USAGE;
	if (st != 0) {
		free(hosts_buf);
		return st;
	}

	struct ist_node_genesis g;
	ist_node_genesis_init(&g);
	struct ist_cli_pass shared = { 0 };
	struct ist_json_err nerr;
	char *text = NULL;
	int r;
	if ((r = output_empty(p.out)) < 0)
		goto out;
	if (p.passfile && (r = ist_cli_passphrase_get(p.passfile, false, "testnet", &shared)) < 0)
		goto out;
	if ((r = ist_node_dir_make(p.out, &nerr)) < 0) {
		print_node_err(&nerr, r);
		goto out;
	}
	snprintf(g.chain_id, sizeof(g.chain_id), "%s", chain_id);
	g.network_id = nid;
	g.genesis_time = when;
	g.consensus = ist_node_consensus_defaults();
	g.n_chains = p.n_chains;
	for (size_t k = 0; k < p.n_chains; k++) {
		g.chains[k].id = k + 1;
		snprintf(g.chains[k].name, sizeof(g.chains[k].name), "devchain-%zu", k + 1);
	}
	g.consensus.max_block_items = (uint32_t)block_items;
	g.n_validators = p.n;
	if (!(g.validators = calloc(p.n, sizeof(*g.validators)))) {
		ist_cli_err("out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	g.consensus.epoch_length_blocks = epoch_blocks;
	g.staking = ist_node_staking_defaults();
	if (frost) {
		g.staking.frost_round_blocks = 5;
		g.staking.frost_sign_timeout_blocks = 5;
	}
	for (size_t i = 0; i < p.n; i++)
		if ((r = make_node(&p, i, p.passfile ? &shared : NULL, &g.validators[i])) < 0)
			goto out;
	if (bal) {
		if (!(g.accounts = calloc(p.n, sizeof(*g.accounts)))) {
			ist_cli_err("out of memory");
			r = -IST_ENOMEM;
			goto out;
		}
		g.n_accounts = p.n;
		for (size_t i = 0; i < p.n; i++) {
			memcpy(g.accounts[i].key, g.validators[i].node_key, IST_ED25519_PUBKEY_BYTES);
			g.accounts[i].balance = bal;
		}
	}
	if ((r = ist_node_genesis_check(&g, IST_NODE_GENESIS_FILE, &nerr)) < 0) {
		print_node_err(&nerr, r);
		goto out;
	}
	if ((r = ist_node_genesis_format(&g, &text)) < 0) {
		ist_cli_err("cannot make genesis.json: %s", ist_strerror(r));
		goto out;
	}
	if ((r = write_genesis(&p, text)) < 0 || (r = write_valset(&p, &g)) < 0 || (r = verify_homes(&p, &g)) < 0)
		goto out;

	char hash[2 * IST_HASH_BYTES + 1];
	ist_hex_encode(g.hash, sizeof(g.hash), hash);
	printf("created a testnet of %zu validators in %s\n", p.n, p.out);
	printf("  chain id      %s\n", g.chain_id);
	printf("  network id    %llu\n", (unsigned long long)g.network_id);
	printf("  genesis       %s/%s\n", p.out, IST_NODE_GENESIS_FILE);
	printf("  validator set %s/validator-set.json (what a destination trusts)\n", p.out);
	printf("  genesis hash  %s\n", hash);
	printf("%-8s %-24s %-26s %s\n", "node", "listen", "api", "node key");
	for (size_t i = 0; i < p.n; i++) {
		char key[2 * IST_ED25519_PUBKEY_BYTES + 1], api[IST_NODE_URL_MAX + 1];
		ist_hex_encode(g.validators[i].node_key, IST_ED25519_PUBKEY_BYTES, key);
		snprintf(api, sizeof(api), "http://%s:%llu", p.hosts[i],
			 (unsigned long long)(p.base_port + p.api_offset + i));
		printf("node%-4zu %-24s %-26s %s\n", i, g.validators[i].address, api, key);
	}
	for (size_t k = 0; k < p.n_chains; k++)
		printf("chain %zu (%s): a devchain expected at http://127.0.0.1:%llu\n", k + 1, g.chains[k].name,
		       (unsigned long long)(p.base_port + 2 * p.api_offset + k));
	printf("start node i with: isthmusd --home %s/node<i>\n", p.out);
	printf("devnet only: each home keeps its keystore passphrase in %s (0600)\n", IST_NODE_PASSPHRASE_FILE);
	r = 0;
out:
	free(text);
	free(hosts_buf);
	ist_cli_passphrase_free(&shared);
	ist_node_genesis_fini(&g);
	return ist_cli_status(r);
}
