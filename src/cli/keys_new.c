/* `isthmus keys new NAME`: makes a keyset and writes it encrypted. */
#include <stdlib.h>

#include "cli/keys.h"
#include "common/err.h"
#include "common/rng.h"

static const char help[] =
	"usage: isthmus keys new NAME [--type TYPE] [--force] [options]\n"
	"\n"
	"Makes new keys and writes them, encrypted with a passphrase, to\n"
	"KEYSTORE/NAME.json (mode 0600). The default type, validator, makes the three\n"
	"keys of a validator: an Ed25519 node key, a secp256k1 attestation key and an\n"
	"X25519 DKG key. Prints the public keys and the file; never the secrets.\n"
	"\n"
	"Options:\n"
	"  --type TYPE              validator (default), ed25519, secp256k1 or x25519\n"
	"  --force                  replace an existing key file of the same name (its\n"
	"                           keys are lost unless backed up)\n"
	IST_CLI_KEYS_HELP_KEYSTORE
	IST_CLI_KEYS_HELP_PASSFILE
	IST_CLI_KEYS_HELP_KDF
	"  --json                   print the result as JSON\n"
	IST_CLI_KEYS_HELP_HELP
	"\n"
	IST_CLI_KEYS_HELP_PASSPHRASE(" (asked twice)")
	"An empty passphrase is refused. The key derivation is Argon2id with\n"
	"libsodium's moderate limits (256 MiB, under a second on a current CPU).\n"
	"\n"
	"Examples:\n"
	"  isthmus keys new val1\n"
	"  isthmus keys new relayer --type secp256k1 --passphrase-file ./pass.txt\n";

int ist_cli_keys_new(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "type", required_argument, NULL, IST_CLI_OPT_TYPE },
		{ "force", no_argument, NULL, IST_CLI_OPT_FORCE },
		{ "keystore", required_argument, NULL, IST_CLI_OPT_KEYSTORE },
		{ "passphrase-file", required_argument, NULL, IST_CLI_OPT_PASSFILE },
		{ "kdf-fast", no_argument, NULL, IST_CLI_OPT_KDF_FAST },
		{ "json", no_argument, NULL, IST_CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *type = "validator", *keystore = NULL, *passfile = NULL;
	bool force = false, kdf_fast = false, json = false;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case IST_CLI_OPT_TYPE: type = optarg; break;
		case IST_CLI_OPT_FORCE: force = true; break;
		case IST_CLI_OPT_KEYSTORE: keystore = optarg; break;
		case IST_CLI_OPT_PASSFILE: passfile = optarg; break;
		case IST_CLI_OPT_KDF_FAST: kdf_fast = true; break;
		case IST_CLI_OPT_JSON: json = true; break;
		default: return ist_cli_bad_option("keys new", c, argv);
		}
	}
	const char *name;
	int r = ist_cli_keys_name_arg("keys new", argc, argv, &name);
	if (r)
		return r;
	if ((r = ist_cli_keys_check_name("keys new", name)))
		return r;
	enum ist_key_type types[IST_KEYSTORE_MAX_KEYS];
	size_t n_types = 0;
	if ((r = ist_cli_keys_type_arg("keys new", type, types, &n_types)))
		return r;
	struct ist_keystore_kdf kdf;
	if (ist_cli_kdf(kdf_fast, &kdf) < 0)
		return IST_CLI_USAGE;

	char *dir = NULL;
	struct ist_keyset *ks = NULL;
	struct ist_cli_pass pass = { 0 };
	if ((r = ist_cli_keys_dir_for_new(keystore, name, force, &dir)) < 0)
		goto out;
	if ((r = ist_cli_passphrase_get(passfile, true, name, &pass)) < 0)
		goto out;
	if ((r = ist_keyset_generate(name, types, n_types, ist_rng_system(), &ks)) < 0) {
		ist_cli_err("cannot make keys: %s", ist_strerror(r));
		goto out;
	}
	r = ist_cli_keys_write(dir, ks, &pass, &kdf, force, json, "created", "in");
out:
	ist_cli_passphrase_free(&pass);
	ist_keyset_free(ks);
	free(dir);
	return ist_cli_status(r);
}
