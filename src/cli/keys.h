/*
 * `isthmus keys`: the sub-table and what its subcommands share.
 * Each subcommand lives in its own file keys_<name>.c.
 */
#ifndef IST_CLI_KEYS_H
#define IST_CLI_KEYS_H

#include <jansson.h>
#include <stdbool.h>

#include "cli/cli.h"
#include "crypto/keystore.h"

int ist_cli_keys_new(int argc, char **argv);
int ist_cli_keys_list(int argc, char **argv);
int ist_cli_keys_show(int argc, char **argv);
int ist_cli_keys_export(int argc, char **argv);
int ist_cli_keys_import(int argc, char **argv);
int ist_cli_keys_delete(int argc, char **argv);

/* Option help lines shared by the subcommands' help pages. */
#define IST_CLI_KEYS_HELP_KEYSTORE \
	"  --keystore DIR           the keystore directory (default: $ISTHMUS_HOME/keys,\n" \
	"                           else ~/.isthmus/keys)\n"
#define IST_CLI_KEYS_HELP_PASSFILE \
	"  --passphrase-file FILE   read the passphrase from the first line of FILE\n"
#define IST_CLI_KEYS_HELP_KDF \
	"  --kdf-fast               a cheaper key derivation (Argon2id interactive limits):\n" \
	"                           for tests and devnets only; ISTHMUS_KEYSTORE_KDF=fast\n" \
	"                           does the same\n"
#define IST_CLI_KEYS_HELP_HELP \
	"  -h, --help               show this help\n"
#define IST_CLI_KEYS_HELP_PASSPHRASE(prompt) \
	"The passphrase comes from --passphrase-file, else $ISTHMUS_PASSPHRASE, else a\n" \
	"prompt without echo when stdin is a terminal" prompt ".\n"

/* Long option values of the shared options (above any short option). */
enum {
	IST_CLI_OPT_KEYSTORE = 0x100,
	IST_CLI_OPT_PASSFILE,
	IST_CLI_OPT_KDF_FAST,
	IST_CLI_OPT_JSON,
	IST_CLI_OPT_FORCE,
	IST_CLI_OPT_TYPE,
	IST_CLI_OPT_VERIFY,
	IST_CLI_OPT_REVEAL,
	IST_CLI_OPT_OUTPUT,
	IST_CLI_OPT_FROM,
	IST_CLI_OPT_SECRET_FILE,
	IST_CLI_OPT_YES,
};

/* Resolves and checks the keystore directory (see ist_cli_keystore_dir),
 * creating it (0700) when `create`. Prints the error; when the directory is
 * missing and `name` is not NULL, as "DIR/NAME.json: no such key file".
 * Out: *ret_dir (malloc'd). Returns 0 or a -IST_E* code. */
int ist_cli_keys_dir(const char *opt, bool create, const char *name, char **ret_dir) IST_WUR;

/* Checks that NAME may name a keyset; a usage error (2) otherwise. */
int ist_cli_keys_check_name(const char *cmd, const char *name) IST_WUR;

/* Loads DIR/NAME.json without a passphrase, refusing a file that group or
 * others may access and a file holding a keyset of another name. Prints the
 * error (one line naming the file). Out: *ret_file, *ret_path (malloc'd).
 * Returns 0 or a -IST_E* code. */
int ist_cli_keys_load(const char *dir, const char *name, struct ist_keystore_file *ret_file,
		      char **ret_path) IST_WUR;

/* "validator" for the three keys in order, else the type names joined by
 * commas. Static or in `buf`. */
const char *ist_cli_keys_kind(const struct ist_keyset_info *info, char *buf, size_t len);

/* The public description as JSON: {"name", "file", "created", "keys": [...]}
 * (file and created only when known). New reference, or NULL. */
json_t *ist_cli_keys_info_json(const struct ist_keyset_info *info, const char *path);

/* The public description as aligned text on stdout. */
void ist_cli_keys_info_print(const struct ist_keyset_info *info, const char *path);

#endif
