/* `isthmus init`: a new validator node home. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/keys.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/rng.h"
#include "node/config.h"
#include "node/home.h"

static const char help[] =
	"usage: isthmus init [--home DIR] [--moniker NAME] [--listen URL] [--api URL]\n"
	"                    [--key-name NAME] [--force] [options]\n"
	"\n"
	"Creates the home of a validator node: DIR (mode 0700) with config.json, a new\n"
	"validator keyset in DIR/keys (encrypted with a passphrase, as 'isthmus keys\n"
	"new') and DIR/public.json, this validator's entry for the network's genesis\n"
	"(name, public keys, address), which is also printed: send it to the genesis\n"
	"coordinator. The node can start once the network's genesis.json is in DIR;\n"
	"'isthmus config check --home DIR' checks the home. Files are 0600.\n"
	"\n"
	"Options:\n"
	"  --home DIR               the node home (default: $ISTHMUS_HOME, else ~/.isthmus)\n"
	"  --moniker NAME           the node's name, and its name in the genesis (default:\n"
	"                           the host name when it is a valid name, else the key name)\n"
	"  --listen URL             the peer-to-peer address, tcp://HOST:PORT or\n"
	"                           tls+tcp://HOST:PORT (default tcp://127.0.0.1:26600)\n"
	"  --api URL                the relayer API, http://HOST:PORT\n"
	"                           (default http://127.0.0.1:26700)\n"
	"  --key-name NAME          the keyset's name in DIR/keys (default validator)\n"
	"  --force                  rewrite config.json and public.json of an existing home;\n"
	"                           an existing keyset is kept, never replaced\n"
	IST_CLI_KEYS_HELP_PASSFILE
	IST_CLI_KEYS_HELP_KDF
	IST_CLI_KEYS_HELP_HELP
	"\n"
	IST_CLI_KEYS_HELP_PASSPHRASE(" (asked twice)")
	"No passphrase is asked when DIR/keys already holds the keyset. config.json\n"
	"names no passphrase file: add \"passphrase_file\" under \"key\" for unattended\n"
	"starts, or give the node $ISTHMUS_PASSPHRASE. docs/configuration.md has the\n"
	"formats.\n"
	"\n"
	"Example:\n"
	"  isthmus init --home /var/lib/isthmus --moniker val1 --listen tcp://203.0.113.7:26600\n";

enum {
	OPT_HOME = 0x200,
	OPT_MONIKER,
	OPT_LISTEN,
	OPT_API,
	OPT_KEY_NAME,
};

static void default_moniker(const char *key_name, char *out, size_t len)
{
	char host[256];
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		char *dot = strchr(host, '.');
		if (dot)
			*dot = '\0';
		if (ist_keystore_name_valid(host) && strlen(host) < len) {
			memcpy(out, host, strlen(host) + 1);
			return;
		}
	}
	snprintf(out, len, "%s", key_name);
}

/* The genesis entry of this validator, without the stake the coordinator
 * decides. */
static json_t *public_json(const char *moniker, const char *address, const struct ist_keyset_info *info)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "name", json_string(moniker));
	for (size_t i = 0; i < info->n_keys; i++) {
		const struct ist_keystore_key *k = &info->keys[i];
		char hex[2 * IST_KEYSTORE_PUBKEY_MAX + 1], addr[43];
		ist_hex_encode(k->pub, k->pub_len, hex);
		switch (k->type) {
		case IST_KEY_ED25519:
			json_object_set_new(o, "node_key", json_string(hex));
			break;
		case IST_KEY_SECP256K1:
			ist_eth_address_format(k->addr, addr);
			json_object_set_new(o, "attestation_key", json_string(hex));
			json_object_set_new(o, "attestation_address", json_string(addr));
			break;
		case IST_KEY_X25519:
			json_object_set_new(o, "dkg_key", json_string(hex));
			break;
		}
	}
	json_object_set_new(o, "address", json_string(address));
	return o;
}

static int print_node_err(const struct ist_json_err *e, int r)
{
	char line[2048];
	ist_cli_err("%s", ist_json_err_format(e, line, sizeof(line)));
	return r;
}

/* Loads the existing keyset at key_path into *info. */
static int keys_load(const char *keys_dir, const char *key_path, const char *key_name, struct ist_keyset_info *info)
{
	char err[1024];
	int r;
	struct ist_keystore_file *f = calloc(1, sizeof(*f));
	if (!f) {
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	if ((r = ist_keystore_dir_check(keys_dir, false, err, sizeof(err))) < 0 ||
	    (r = ist_keystore_load_public(key_path, f, err, sizeof(err))) < 0) {
		ist_cli_err("%s", err);
		free(f);
		return r;
	}
	if (!ist_keyset_info_find(&f->info, IST_KEY_ED25519) || !ist_keyset_info_find(&f->info, IST_KEY_SECP256K1) ||
	    !ist_keyset_info_find(&f->info, IST_KEY_X25519) || strcmp(f->info.name, key_name) != 0) {
		ist_cli_err("%s: not the validator keyset \"%s\" (it needs node, attestation and dkg keys)", key_path,
			    key_name);
		free(f);
		return -IST_ECONFIG;
	}
	*info = f->info;
	free(f);
	return 0;
}

/* Makes a validator keyset and writes it encrypted under `pass`. */
static int keys_make(const char *keys_dir, const char *key_name, const struct ist_cli_pass *pass,
		     const struct ist_keystore_kdf *kdf, struct ist_keyset_info *info)
{
	static const enum ist_key_type types[] = { IST_KEY_ED25519, IST_KEY_SECP256K1, IST_KEY_X25519 };
	struct ist_keyset *ks = NULL;
	char err[1024];
	int r = ist_keyset_generate(key_name, types, IST_ARRAY_SIZE(types), ist_rng_system(), &ks);
	if (r < 0) {
		ist_cli_err("cannot make keys: %s", ist_strerror(r));
		return r;
	}
	r = ist_keystore_write(keys_dir, ks, pass->buf, pass->len, kdf, false, NULL, err, sizeof(err));
	if (r < 0)
		ist_cli_err("%s", err);
	else
		*info = *ist_keyset_info(ks);
	ist_keyset_free(ks);
	return r;
}

int ist_cli_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "home", required_argument, NULL, OPT_HOME },
		{ "moniker", required_argument, NULL, OPT_MONIKER },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "api", required_argument, NULL, OPT_API },
		{ "key-name", required_argument, NULL, OPT_KEY_NAME },
		{ "force", no_argument, NULL, IST_CLI_OPT_FORCE },
		{ "passphrase-file", required_argument, NULL, IST_CLI_OPT_PASSFILE },
		{ "kdf-fast", no_argument, NULL, IST_CLI_OPT_KDF_FAST },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *home_opt = NULL, *moniker = NULL, *listen = IST_NODE_DEFAULT_LISTEN, *api = IST_NODE_DEFAULT_API;
	const char *key_name = IST_NODE_DEFAULT_KEY_NAME, *passfile = NULL;
	bool force = false, kdf_fast = false;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case OPT_HOME: home_opt = optarg; break;
		case OPT_MONIKER: moniker = optarg; break;
		case OPT_LISTEN: listen = optarg; break;
		case OPT_API: api = optarg; break;
		case OPT_KEY_NAME: key_name = optarg; break;
		case IST_CLI_OPT_FORCE: force = true; break;
		case IST_CLI_OPT_PASSFILE: passfile = optarg; break;
		case IST_CLI_OPT_KDF_FAST: kdf_fast = true; break;
		default: return ist_cli_bad_option("init", c, argv);
		}
	}
	if (optind < argc)
		return ist_cli_usage_err("init", "unexpected argument '%s'", argv[optind]);
	if (!ist_keystore_name_valid(key_name))
		return ist_cli_usage_err("init", "invalid --key-name (1 to %d of A-Z a-z 0-9 . _ -, not starting "
					 "with '.' or '-')", IST_KEYSTORE_NAME_MAX);
	if (moniker && !ist_keystore_name_valid(moniker))
		return ist_cli_usage_err("init", "invalid --moniker (1 to %d of A-Z a-z 0-9 . _ -, not starting "
					 "with '.' or '-')", IST_NODE_MONIKER_MAX);
	char problem[256];
	struct ist_node_url lurl, aurl;
	if (ist_node_url_parse(listen, IST_NODE_URL_P2P, true, &lurl, problem, sizeof(problem)) < 0)
		return ist_cli_usage_err("init", "--listen %s", problem);
	if (ist_node_url_parse(api, IST_NODE_URL_HTTP, true, &aurl, problem, sizeof(problem)) < 0)
		return ist_cli_usage_err("init", "--api %s", problem);
	if (lurl.port == aurl.port && strcmp(lurl.host, aurl.host) == 0)
		return ist_cli_usage_err("init", "--api must not use the host and port of --listen");
	struct ist_keystore_kdf kdf;
	if (ist_cli_kdf(kdf_fast, &kdf) < 0)
		return IST_CLI_USAGE;

	struct ist_node_config cfg;
	ist_node_config_init(&cfg);
	struct ist_json_err nerr;
	char *home = NULL, *cfg_path = NULL, *keys_dir = NULL, *key_path = NULL, *pub_path = NULL;
	char *cfg_text = NULL, *pub_text = NULL;
	json_t *pub = NULL;
	struct ist_cli_pass pass = { 0 };
	int r = -IST_ENOMEM;
	if (!(home = ist_cli_home_dir(home_opt)))
		goto out;
	if (ist_node_home_path(home, IST_NODE_CONFIG_FILE, &cfg_path) < 0 ||
	    ist_node_home_path(home, IST_NODE_KEYS_DIR, &keys_dir) < 0 ||
	    ist_node_home_path(home, IST_NODE_PUBLIC_FILE, &pub_path) < 0 ||
	    ist_keystore_path(keys_dir, key_name, &key_path) < 0) {
		ist_cli_err("out of memory");
		goto out;
	}
	struct stat st;
	if (!force && lstat(cfg_path, &st) == 0) {
		ist_cli_err("%s: file exists: %s is a node home already (use --force to rewrite its config)", cfg_path,
			    home);
		r = -IST_EEXISTS;
		goto out;
	}
	/* the passphrase first: a refused one leaves nothing behind */
	bool made = lstat(key_path, &st) < 0;
	if (made && (r = ist_cli_passphrase_get(passfile, true, key_name, &pass)) < 0)
		goto out;
	if ((r = ist_node_dir_make(home, &nerr)) < 0) {
		print_node_err(&nerr, r);
		goto out;
	}
	struct ist_keyset_info info;
	r = made ? keys_make(keys_dir, key_name, &pass, &kdf, &info) : keys_load(keys_dir, key_path, key_name, &info);
	ist_cli_passphrase_free(&pass);
	if (r < 0)
		goto out;

	snprintf(cfg.key_name, sizeof(cfg.key_name), "%s", key_name);
	if (moniker)
		snprintf(cfg.moniker, sizeof(cfg.moniker), "%s", moniker);
	else
		default_moniker(key_name, cfg.moniker, sizeof(cfg.moniker));
	snprintf(cfg.listen, sizeof(cfg.listen), "%s", listen);
	snprintf(cfg.api, sizeof(cfg.api), "%s", api);
	if ((r = ist_node_config_format(&cfg, &cfg_text)) < 0) {
		ist_cli_err("cannot make config.json: %s", ist_strerror(r));
		goto out;
	}
	if ((r = ist_node_file_write(cfg_path, cfg_text, strlen(cfg_text), force, &nerr)) < 0) {
		print_node_err(&nerr, r);
		goto out;
	}
	pub = public_json(cfg.moniker, listen, &info);
	if (!pub || !(pub_text = json_dumps(pub, JSON_INDENT(2)))) {
		ist_cli_err("out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	size_t n = strlen(pub_text);
	pub_text[n] = '\n';   /* replaces the NUL: written by length below */
	r = ist_node_file_write(pub_path, pub_text, n + 1, true, &nerr);
	pub_text[n] = '\0';
	if (r < 0) {
		print_node_err(&nerr, r);
		goto out;
	}
	printf("created node home %s\n", home);
	printf("  config   %s\n", cfg_path);
	printf("  keys     %s (%s)\n", key_path, made ? "new" : "existing, kept");
	printf("  public   %s\n", pub_path);
	printf("send %s to the genesis coordinator; it lists this validator as:\n%s\n", pub_path, pub_text);
	printf("next: copy the network's genesis.json into %s, then run: isthmus config check --home %s\n", home,
	       home);
	char problem2[256];
	if (ist_node_url_parse(listen, IST_NODE_URL_P2P, false, NULL, problem2, sizeof(problem2)) < 0)
		ist_cli_warn("%s: a genesis needs an address peers can connect to: edit \"address\" in %s", listen,
			     pub_path);
	else if (strcmp(lurl.host, "127.0.0.1") == 0 || strcmp(lurl.host, "localhost") == 0 ||
		 strcmp(lurl.host, "[::1]") == 0)
		ist_cli_warn("%s is reachable from this machine only: use --listen with a reachable address "
			     "for a network of several machines", listen);
	r = 0;
out:
	ist_cli_passphrase_free(&pass);
	json_decref(pub);
	free(pub_text);
	free(cfg_text);
	free(pub_path);
	free(key_path);
	free(keys_dir);
	free(cfg_path);
	free(home);
	ist_node_config_fini(&cfg);
	return ist_cli_status(r);
}
