/* `isthmus keys show NAME`: the public keys; with a passphrase, a check or
 * (asked for explicitly) the secrets. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/keys.h"
#include "common/bytes.h"
#include "common/err.h"

static const char help[] =
	"usage: isthmus keys show NAME [--json] [--verify] [--reveal-secret] [options]\n"
	"\n"
	"Shows the public keys of keyset NAME and the EIP-55 Ethereum address of its\n"
	"attestation key. No passphrase is needed, except:\n"
	"  --verify         decrypts the file and checks every public key against its\n"
	"                   secret (a wrong passphrase or a tampered file: status 1)\n"
	"  --reveal-secret  also prints the secret keys in hex on stdout, with a\n"
	"                   warning on stderr. Anyone who sees them owns the keys.\n"
	"\n"
	"Options:\n"
	"  --json                   print the public description as JSON (not with\n"
	"                           --reveal-secret)\n"
	"  --verify                 decrypt and check (needs the passphrase)\n"
	"  --reveal-secret          print the secret keys (needs the passphrase)\n"
	IST_CLI_KEYS_HELP_KEYSTORE
	IST_CLI_KEYS_HELP_PASSFILE
	IST_CLI_KEYS_HELP_HELP
	"\n"
	IST_CLI_KEYS_HELP_PASSPHRASE("")
	"\n"
	"Examples:\n"
	"  isthmus keys show val1\n"
	"  isthmus keys show val1 --verify --passphrase-file ./pass.txt\n";

/* Prints "secret <type> <hex>" lines. The hex is a secret too: it is made in
 * guarded memory and written with write(2), so that no copy stays behind in
 * stdio's buffer; sodium_free wipes it. */
static int print_secrets(const struct ist_keyset *ks)
{
	enum { LINE = 24 + 2 * IST_KEYSTORE_SECRET_BYTES + 2 };
	char *line = sodium_malloc(LINE);
	if (!line) {
		ist_cli_err("out of memory");
		return -IST_ENOMEM;
	}
	int r = 0;
	fflush(stdout);
	const struct ist_keyset_info *info = ist_keyset_info(ks);
	for (size_t i = 0; i < info->n_keys && r == 0; i++) {
		/* "secret       " then the type padded to 11, then the hex */
		memset(line, ' ', 24);
		memcpy(line, "secret", 6);
		const char *type = ist_key_type_name(info->keys[i].type);
		memcpy(line + 13, type, strlen(type));
		ist_hex_encode(ist_keyset_secret(ks, i), IST_KEYSTORE_SECRET_BYTES, line + 24);
		line[24 + 2 * IST_KEYSTORE_SECRET_BYTES] = '\n';
		size_t len = 24 + 2 * IST_KEYSTORE_SECRET_BYTES + 1, off = 0;
		while (off < len) {
			ssize_t n = write(STDOUT_FILENO, line + off, len - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				ist_cli_err("cannot write to standard output: %s", strerror(errno));
				r = -IST_EIO;
				break;
			}
			off += (size_t)n;
		}
	}
	sodium_free(line);
	return r;
}

int ist_cli_keys_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, IST_CLI_OPT_JSON },
		{ "verify", no_argument, NULL, IST_CLI_OPT_VERIFY },
		{ "reveal-secret", no_argument, NULL, IST_CLI_OPT_REVEAL },
		{ "keystore", required_argument, NULL, IST_CLI_OPT_KEYSTORE },
		{ "passphrase-file", required_argument, NULL, IST_CLI_OPT_PASSFILE },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *keystore = NULL, *passfile = NULL;
	bool json = false, verify = false, reveal = false;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case IST_CLI_OPT_JSON: json = true; break;
		case IST_CLI_OPT_VERIFY: verify = true; break;
		case IST_CLI_OPT_REVEAL: reveal = true; break;
		case IST_CLI_OPT_KEYSTORE: keystore = optarg; break;
		case IST_CLI_OPT_PASSFILE: passfile = optarg; break;
		default: return ist_cli_bad_option("keys show", c, argv);
		}
	}
	const char *name;
	int r = ist_cli_keys_name_arg("keys show", argc, argv, &name);
	if (r)
		return r;
	if (json && reveal)
		return ist_cli_usage_err("keys show", "--reveal-secret prints text only, not with --json");
	if ((r = ist_cli_keys_check_name("keys show", name)))
		return r;

	char *path = NULL;
	struct ist_keystore_file *f = NULL;
	struct ist_keyset *ks = NULL;
	struct ist_cli_pass pass = { 0 };
	if ((r = ist_cli_keys_load(keystore, name, &f, &path)) < 0)
		goto out;
	if (verify || reveal) {
		if ((r = ist_cli_passphrase_get(passfile, false, name, &pass)) < 0)
			goto out;
		char err[1024];
		r = ist_keystore_decrypt(path, f, pass.buf, pass.len, &ks, err, sizeof(err));
		ist_cli_passphrase_free(&pass);
		if (r < 0) {
			ist_cli_err("%s", err);
			goto out;
		}
	}
	if (json) {
		json_t *o = ist_cli_keys_info_json(&f->info, path);
		if (o && verify)
			json_object_set_new(o, "verified", json_true());
		r = ist_cli_print_json(o);
		goto out;
	}
	ist_cli_keys_info_print(&f->info, path);
	if (verify)
		printf("verified     the passphrase opens the file; every public key matches its secret\n");
	if (reveal) {
		ist_cli_warn("printing secret keys: anyone who sees them controls these keys");
		if ((r = ist_keyset_unseal(ks)) < 0) {
			ist_cli_err("cannot read the secrets: %s", ist_strerror(r));
			goto out;
		}
		r = print_secrets(ks);
		ist_keyset_seal(ks);
		if (r < 0)
			goto out;
	}
out:
	ist_cli_passphrase_free(&pass);
	ist_keyset_free(ks);
	free(f);
	free(path);
	return ist_cli_status(r);
}
