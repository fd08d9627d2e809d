/* `isthmus keys import NAME`: from a key file backup, or from hex secrets. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/keys.h"
#include "common/bytes.h"
#include "common/err.h"

#define SECRET_FILE_MAX 4096

static const char help[] =
	"usage: isthmus keys import NAME --from FILE [options]\n"
	"       isthmus keys import NAME [--type TYPE] --secret-file FILE [options]\n"
	"\n"
	"With --from, FILE is an isthmus key file (a backup, possibly of another name):\n"
	"it must open with the passphrase; it is then encrypted again, under the same\n"
	"passphrase and the name NAME, into KEYSTORE/NAME.json.\n"
	"\n"
	"With --secret-file, FILE holds secret keys in hex, one per line (64 hex digits,\n"
	"an optional 0x; blank lines are ignored): for --type validator (the default)\n"
	"three lines, the Ed25519 seed, the secp256k1 secret and the X25519 secret, in\n"
	"that order; for another type one line. They are encrypted with a new\n"
	"passphrase. The public keys are derived from the secrets. Delete the secret\n"
	"file afterwards: isthmus does not.\n"
	"\n"
	"Options:\n"
	"  --from FILE              import an encrypted key file\n"
	"  --secret-file FILE       import hex secrets\n"
	"  --type TYPE              with --secret-file: validator (default), ed25519,\n"
	"                           secp256k1 or x25519\n"
	"  --force                  replace an existing key file NAME\n"
	IST_CLI_KEYS_HELP_KEYSTORE
	IST_CLI_KEYS_HELP_PASSFILE
	IST_CLI_KEYS_HELP_KDF
	"  --json                   print the result as JSON\n"
	IST_CLI_KEYS_HELP_HELP
	"\n"
	IST_CLI_KEYS_HELP_PASSPHRASE(" (asked twice for --secret-file)")
	"\n"
	"Examples:\n"
	"  isthmus keys import val1 --from /backup/val1.json\n"
	"  isthmus keys import val2 --secret-file ./val2.hex\n";

/* Reads the secrets of `n` keys from `file` into guarded memory.
 * Out: *ret_secrets (sodium_free it), n * 32 bytes. Prints the error. */
static int read_secrets(const char *file, const enum ist_key_type *types, size_t n, uint8_t **ret_secrets)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;
		ist_cli_err("%s: cannot open the secret file: %s", file, strerror(e));
		return ist_err_from_errno(e);
	}
	char *text = sodium_malloc(SECRET_FILE_MAX + 1);
	uint8_t *secrets = sodium_malloc(IST_KEYSTORE_MAX_KEYS * IST_KEYSTORE_SECRET_BYTES);
	int r = 0;
	size_t len = 0;
	if (!text || !secrets) {
		ist_cli_err("out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	while (len < SECRET_FILE_MAX + 1) {
		ssize_t got = read(fd, text + len, SECRET_FILE_MAX + 1 - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			ist_cli_err("%s: cannot read the secret file: %s", file, strerror(errno));
			r = -IST_EIO;
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	if (len > SECRET_FILE_MAX) {
		ist_cli_err("%s: too large for a secret file (at most %d bytes)", file, SECRET_FILE_MAX);
		r = -IST_ETOOBIG;
		goto out;
	}
	text[len] = '\0';
	size_t count = 0, line = 0;
	char *p = text;
	while (p && *p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		/* trim blanks at both ends */
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		size_t l = strlen(p);
		while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t' || p[l - 1] == '\r'))
			p[--l] = '\0';
		if (l > 0) {
			if (count == n) {
				ist_cli_err("%s: more than %zu secret line%s", file, n, n == 1 ? "" : "s");
				r = -IST_EPARSE;
				goto out;
			}
			/* the line is a secret: say where it is wrong, never what it says */
			if (ist_hex_decode(p, secrets + count * IST_KEYSTORE_SECRET_BYTES, IST_KEYSTORE_SECRET_BYTES) < 0) {
				ist_cli_err("%s: line %zu is not a %s secret of 64 hex digits", file, line,
					    ist_key_type_name(types[count]));
				r = -IST_EPARSE;
				goto out;
			}
			count++;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (count != n) {
		ist_cli_err("%s: expected %zu secret line%s (%s), found %zu", file, n, n == 1 ? "" : "s",
			    n == 3 ? "ed25519, secp256k1, x25519" : ist_key_type_name(types[0]), count);
		r = -IST_EPARSE;
		goto out;
	}
	*ret_secrets = secrets;
	secrets = NULL;
out:
	close(fd);
	if (text)
		sodium_free(text);
	if (secrets)
		sodium_free(secrets);
	return r;
}

int ist_cli_keys_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, IST_CLI_OPT_FROM },
		{ "secret-file", required_argument, NULL, IST_CLI_OPT_SECRET_FILE },
		{ "type", required_argument, NULL, IST_CLI_OPT_TYPE },
		{ "force", no_argument, NULL, IST_CLI_OPT_FORCE },
		{ "keystore", required_argument, NULL, IST_CLI_OPT_KEYSTORE },
		{ "passphrase-file", required_argument, NULL, IST_CLI_OPT_PASSFILE },
		{ "kdf-fast", no_argument, NULL, IST_CLI_OPT_KDF_FAST },
		{ "json", no_argument, NULL, IST_CLI_OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *from = NULL, *secret_file = NULL, *type = NULL, *keystore = NULL, *passfile = NULL;
	bool force = false, kdf_fast = false, json = false;
	ist_cli_getopt_reset();
	int c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h': return ist_cli_help(help);
		case IST_CLI_OPT_FROM: from = optarg; break;
		case IST_CLI_OPT_SECRET_FILE: secret_file = optarg; break;
		case IST_CLI_OPT_TYPE: type = optarg; break;
		case IST_CLI_OPT_FORCE: force = true; break;
		case IST_CLI_OPT_KEYSTORE: keystore = optarg; break;
		case IST_CLI_OPT_PASSFILE: passfile = optarg; break;
		case IST_CLI_OPT_KDF_FAST: kdf_fast = true; break;
		case IST_CLI_OPT_JSON: json = true; break;
		default: return ist_cli_bad_option("keys import", c, argv);
		}
	}
	const char *name;
	int r = ist_cli_keys_name_arg("keys import", argc, argv, &name);
	if (r)
		return r;
	if (!from == !secret_file)
		return ist_cli_usage_err("keys import", "give one of --from FILE or --secret-file FILE");
	if (from && type)
		return ist_cli_usage_err("keys import", "--type goes with --secret-file (a key file says its types)");
	if ((r = ist_cli_keys_check_name("keys import", name)))
		return r;
	enum ist_key_type types[IST_KEYSTORE_MAX_KEYS];
	size_t n_types = 0;
	if ((r = ist_cli_keys_type_arg("keys import", type ? type : "validator", types, &n_types)))
		return r;
	struct ist_keystore_kdf kdf;
	if (ist_cli_kdf(kdf_fast, &kdf) < 0)
		return IST_CLI_USAGE;

	char *dir = NULL;
	struct ist_keystore_file *src = NULL;
	struct ist_keyset *ks = NULL;
	struct ist_cli_pass pass = { 0 };
	uint8_t *secrets = NULL;
	char err[1024];
	if ((r = ist_cli_keys_dir_for_new(keystore, name, force, &dir)) < 0)
		goto out;

	if (from) {
		if (!(src = calloc(1, sizeof(*src)))) {
			ist_cli_err("out of memory");
			r = -IST_ENOMEM;
			goto out;
		}
		if ((r = ist_keystore_load_public(from, src, err, sizeof(err))) < 0) {
			ist_cli_err("%s", err);
			goto out;
		}
		if ((r = ist_cli_passphrase_get(passfile, false, src->info.name, &pass)) < 0)
			goto out;
		if ((r = ist_keystore_decrypt(from, src, pass.buf, pass.len, &ks, err, sizeof(err))) < 0) {
			ist_cli_err("%s", err);
			goto out;
		}
		if ((r = ist_keyset_rename(ks, name)) < 0) {
			ist_cli_err("invalid keyset name");
			goto out;
		}
	} else {
		if ((r = read_secrets(secret_file, types, n_types, &secrets)) < 0)
			goto out;
		r = ist_keyset_from_secrets(name, types, n_types, secrets, n_types * IST_KEYSTORE_SECRET_BYTES, &ks);
		sodium_free(secrets);
		secrets = NULL;
		if (r < 0) {
			ist_cli_err("%s: %s", secret_file,
				    r == -IST_EBADKEY ? "a secret is not a valid key (a secp256k1 secret must be in 1..n-1)"
						      : ist_strerror(r));
			goto out;
		}
		if ((r = ist_cli_passphrase_get(passfile, true, name, &pass)) < 0)
			goto out;
	}
	r = ist_cli_keys_write(dir, ks, &pass, &kdf, force, json, "imported", "into");
out:
	if (secrets)
		sodium_free(secrets);
	ist_cli_passphrase_free(&pass);
	ist_keyset_free(ks);
	free(src);
	free(dir);
	return ist_cli_status(r);
}
