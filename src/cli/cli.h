/*
 * Shared helpers of the `isthmus` command: command tables, option errors,
 * one-line error messages, passphrases, the keystore directory, JSON output.
 *
 * Exit statuses: 0 success, 1 an error (the reason is one line on stderr),
 * 2 a usage error (bad options or arguments).
 */
#ifndef IST_CLI_CLI_H
#define IST_CLI_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/macro.h"
#include "crypto/keystore.h"

enum {
	IST_CLI_OK = 0,
	IST_CLI_ERROR = 1,
	IST_CLI_USAGE = 2,
};

/* One command of a table (wireguard-tools style). `fn` gets the arguments
 * from the command's own name on (argv[0] is the name) and returns an exit
 * status. `help` is the one-line summary of the table listing. */
struct ist_cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* Runs the command named argv[0] from `cmds`. `prefix` is the command path
 * for messages ("isthmus keys"). An unknown name is a usage error (2). */
int ist_cli_dispatch(const char *prefix, const struct ist_cli_cmd *cmds, size_t n_cmds, int argc, char **argv);

/* Prints a table's usage page: `head`, then the table as "  name  help"
 * lines, then `tail`. */
void ist_cli_print_usage(FILE *out, const char *head, const struct ist_cli_cmd *cmds, size_t n_cmds,
			 const char *tail);

/* Runs a command made of subcommands (`isthmus keys`), argv[0] being its
 * name `cmd` ("keys"): -h/--help prints the usage page (as
 * ist_cli_print_usage) on stdout and returns 0; no subcommand prints it on
 * stderr and returns IST_CLI_USAGE; else runs the subcommand named next
 * (ist_cli_dispatch, prefix "isthmus <cmd>"). */
int ist_cli_group(const char *cmd, const char *head, const struct ist_cli_cmd *cmds, size_t n_cmds, const char *tail,
		  int argc, char **argv);

/* "isthmus: <message>\n" on stderr, with control characters replaced so that
 * it is always one line. */
void ist_cli_err(const char *fmt, ...) IST_PRINTF(1, 2);
/* "isthmus: warning: <message>\n" on stderr. */
void ist_cli_warn(const char *fmt, ...) IST_PRINTF(1, 2);
/* Prints "isthmus: <cmd>: <message> (see 'isthmus <cmd> --help')", or for
 * the top level (cmd NULL) "isthmus: <message> (see 'isthmus --help')", and
 * returns IST_CLI_USAGE. */
int ist_cli_usage_err(const char *cmd, const char *fmt, ...) IST_PRINTF(2, 3);

/* Resets getopt for a new argument vector (each level parses its own). */
void ist_cli_getopt_reset(void);
/* Reports the option getopt_long just refused (it returned '?' or ':' with
 * opterr = 0 and an optstring starting with ':') as a usage error of `cmd`
 * (NULL: the top level) and returns IST_CLI_USAGE. */
int ist_cli_bad_option(const char *cmd, int c, char **argv);

/* Prints `text` (a help page) on stdout and returns IST_CLI_OK. */
int ist_cli_help(const char *text);

/*
 * Passphrases. The text lives in sodium_malloc'd memory; free it with
 * ist_cli_passphrase_free(), which wipes it.
 */
struct ist_cli_pass {
	char *buf;   /* NUL-terminated; NULL when none */
	size_t len;
};

/* Gets the passphrase from, in order: `file` (its first line, the newline
 * stripped) when not NULL, the ISTHMUS_PASSPHRASE environment variable, or a
 * prompt without echo when stdin is a terminal (asked twice when `confirm`).
 * `what` names the keyset in the prompt. An empty passphrase is refused.
 * Prints the error itself. Returns 0 or -IST_EPASSPHRASE, -IST_ENOMEM. */
int ist_cli_passphrase_get(const char *file, bool confirm, const char *what, struct ist_cli_pass *ret) IST_WUR;
void ist_cli_passphrase_free(struct ist_cli_pass *p);

/* The keystore directory: `opt` (--keystore), else $ISTHMUS_HOME/keys, else
 * ~/.isthmus/keys. Out: malloc'd path, or NULL after printing an error. */
char *ist_cli_keystore_dir(const char *opt);

/* The node home: `opt` (--home), else $ISTHMUS_HOME, else ~/.isthmus.
 * Out: malloc'd path, or NULL after printing an error. */
char *ist_cli_home_dir(const char *opt);

/* The KDF cost of new files: fast when `fast` (--kdf-fast) or when
 * ISTHMUS_KEYSTORE_KDF=fast, the default (moderate) otherwise. Returns 0, or
 * -IST_EINVAL for another value of the variable (after printing it). */
int ist_cli_kdf(bool fast, struct ist_keystore_kdf *ret_kdf) IST_WUR;

/* Prints `j` (consumed) as indented JSON and a newline on stdout. Returns 0
 * or -IST_ENOMEM / -IST_EIO after printing an error. */
int ist_cli_print_json(json_t *j);

/* Maps a -IST_E* code to an exit status (0 or 1). */
static inline int ist_cli_status(int r) { return r < 0 ? IST_CLI_ERROR : IST_CLI_OK; }

/* The top-level commands. */
int ist_cli_keys(int argc, char **argv);
int ist_cli_version(int argc, char **argv);
int ist_cli_init(int argc, char **argv);
int ist_cli_testnet(int argc, char **argv);
int ist_cli_config(int argc, char **argv);
int ist_cli_safety(int argc, char **argv);
int ist_cli_send(int argc, char **argv);
int ist_cli_verify(int argc, char **argv);
int ist_cli_relay(int argc, char **argv);
int ist_cli_tx(int argc, char **argv);
int ist_cli_stake(int argc, char **argv);
int ist_cli_gov(int argc, char **argv);
/* `isthmus gov pauses` (cli/gov_pauses.c). */
int ist_cli_gov_pauses(int argc, char **argv);
int ist_cli_query(int argc, char **argv);

#endif
