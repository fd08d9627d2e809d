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

/* The one NAME argument of `cmd` (argv[optind], after getopt_long): a usage
 * error (2, printed) when it is missing or followed by another argument.
 * Says nothing of the name itself (ist_cli_keys_check_name does).
 * Out: *ret_name, borrowed from argv. Returns 0 or IST_CLI_USAGE. */
int ist_cli_keys_name_arg(const char *cmd, int argc, char **argv, const char **ret_name) IST_WUR;

/* Checks that NAME may name a keyset; a usage error (2) otherwise. */
int ist_cli_keys_check_name(const char *cmd, const char *name) IST_WUR;

/* The keyset kind of `cmd`'s --type option: validator, ed25519, secp256k1 or
 * x25519 (ist_keyset_kind_parse); a usage error (2, printed) otherwise.
 * Out: ret_types[0..*ret_n). Returns 0 or IST_CLI_USAGE. */
int ist_cli_keys_type_arg(const char *cmd, const char *type, enum ist_key_type ret_types[IST_KEYSTORE_MAX_KEYS],
			  size_t *ret_n) IST_WUR;

/* For a command that is about to write KEYSTORE/NAME.json: resolves the
 * keystore directory (ist_cli_keys_dir, made 0700 when missing) and, unless
 * `force`, refuses an existing key file, so that the operator does not type a
 * passphrase in vain (ist_keystore_write checks again, atomically). Prints
 * the error. Out: *ret_dir (malloc'd). Returns 0 or a -IST_E* code. */
int ist_cli_keys_dir_for_new(const char *opt, const char *name, bool force, char **ret_dir) IST_WUR;

/* Encrypts `ks` into DIR/NAME.json (ist_keystore_write; NAME is the
 * keyset's), wipes and frees *pass whatever happens, reads the file back and
 * prints what is on disk: "<verb> keyset NAME <prep> FILE" and the public
 * keys, or with `json` the object of `show --json`. Prints the error.
 * Returns 0 or a -IST_E* code. */
int ist_cli_keys_write(const char *dir, struct ist_keyset *ks, struct ist_cli_pass *pass,
		       const struct ist_keystore_kdf *kdf, bool force, bool json, const char *verb,
		       const char *prep) IST_WUR;

/* When `info`, read from `path`, is not the keyset `name` (the file was
 * renamed): writes the error line into `err` and returns -IST_EPARSE.
 * Returns 0 otherwise. */
int ist_cli_keys_check_holds(const struct ist_keyset_info *info, const char *path, const char *name, char *err,
			     size_t errlen) IST_WUR;

/* Loads KEYSTORE/NAME.json without a passphrase: resolves the keystore
 * directory (ist_cli_keys_dir with `opt`, never created), refuses a key file
 * that group or others may access and a file holding a keyset of another
 * name. Prints the error (one line naming the file).
 * Out: *ret_file and *ret_path (both malloc'd; free them).
 * Returns 0 or a -IST_E* code. */
int ist_cli_keys_load(const char *opt, const char *name, struct ist_keystore_file **ret_file,
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
