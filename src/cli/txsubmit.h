/*
 * What the ledger commands share (`isthmus tx`, `isthmus stake`, `isthmus
 * query`): their common options, the node they talk to, and the life of a
 * transaction: build, sign with the keyset's Ed25519 node key, submit
 * (POST /v1/txs), wait for its commit (GET /v1/txs/{id}) and print the
 * outcome. docs/cli-stake.md describes the behaviour a user sees.
 *
 * Every function that can fail prints its error itself (one line on stderr,
 * "isthmus: ...") and returns a -IST_E* code, except where it says it
 * returns an exit status.
 */
#ifndef IST_CLI_TXSUBMIT_H
#define IST_CLI_TXSUBMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "cli/ledger_json.h"
#include "cli/rpc.h"
#include "common/json.h"
#include "crypto/keystore.h"
#include "wire/types.h"

/* The node when neither --node nor $ISTHMUS_NODE says. */
#define IST_CLI_NODE_DEFAULT "http://127.0.0.1:26700"
/* --timeout: the default and the largest, in seconds. */
#define IST_CLI_TX_TIMEOUT_DEFAULT 60
#define IST_CLI_TX_TIMEOUT_MAX 86400

/* Long option values of the common options; a command's own start at
 * IST_CLI_LOPT_OWN. */
enum {
	IST_CLI_LOPT_NODE = 0x300,
	IST_CLI_LOPT_KEYSTORE,
	IST_CLI_LOPT_PASSFILE,
	IST_CLI_LOPT_FEE,
	IST_CLI_LOPT_NONCE,
	IST_CLI_LOPT_NETWORK_ID,
	IST_CLI_LOPT_TIMEOUT,
	IST_CLI_LOPT_NO_WAIT,
	IST_CLI_LOPT_JSON,
	IST_CLI_LOPT_KEY,
	IST_CLI_LOPT_OWN = 0x340,
};

/* struct option entries of the options every ledger command takes, of
 * --key and --keystore, and of all a transaction takes (used inside a
 * command's option array). */
#define IST_CLI_QUERY_LONGOPTS                                               \
	{ "node", required_argument, NULL, IST_CLI_LOPT_NODE },              \
	{ "json", no_argument, NULL, IST_CLI_LOPT_JSON },                    \
	{ "help", no_argument, NULL, 'h' }
/* --key NAME and where its keyset is */
#define IST_CLI_KEY_LONGOPTS                                                 \
	{ "key", required_argument, NULL, IST_CLI_LOPT_KEY },                \
	{ "keystore", required_argument, NULL, IST_CLI_LOPT_KEYSTORE }
#define IST_CLI_TX_LONGOPTS                                                  \
	IST_CLI_QUERY_LONGOPTS,                                              \
	IST_CLI_KEY_LONGOPTS,                                                \
	{ "passphrase-file", required_argument, NULL, IST_CLI_LOPT_PASSFILE }, \
	{ "fee", required_argument, NULL, IST_CLI_LOPT_FEE },                \
	{ "nonce", required_argument, NULL, IST_CLI_LOPT_NONCE },            \
	{ "network-id", required_argument, NULL, IST_CLI_LOPT_NETWORK_ID },  \
	{ "timeout", required_argument, NULL, IST_CLI_LOPT_TIMEOUT },        \
	{ "no-wait", no_argument, NULL, IST_CLI_LOPT_NO_WAIT }

/* Help lines of the common options. */
#define IST_CLI_HELP_NODE \
	"  --node URL               the node's API (default: $ISTHMUS_NODE, else\n" \
	"                           " IST_CLI_NODE_DEFAULT ")\n"
#define IST_CLI_HELP_JSON \
	"  --json                   print JSON instead of text\n"
#define IST_CLI_HELP_KEYSTORE \
	"  --keystore DIR           the keystore directory (default: $ISTHMUS_HOME/keys,\n" \
	"                           else ~/.isthmus/keys)\n"
#define IST_CLI_HELP_TX \
	"  --key NAME               the keyset that signs: its Ed25519 node key is the\n" \
	"                           sending account (required)\n" \
	IST_CLI_HELP_KEYSTORE \
	"  --passphrase-file FILE   read the keyset's passphrase from the first line of\n" \
	"                           FILE (else $ISTHMUS_PASSPHRASE, else a prompt)\n" \
	"  --fee N                  the fee, burned (default 0)\n" \
	"  --nonce N                the nonce (default: the account's next, from the node)\n" \
	"  --network-id N           the network id (default: the node's, GET /v1/status)\n" \
	"  --timeout SECONDS        how long to wait for the commit (default 60)\n" \
	"  --no-wait                print the transaction id once the node took it\n" \
	IST_CLI_HELP_NODE \
	IST_CLI_HELP_JSON \
	"  -h, --help               show this help\n"
#define IST_CLI_HELP_TX_STATUS \
	"Exit status: 0 committed and applied (or, with --no-wait, accepted by the\n" \
	"node), 1 an error: refused by the node, committed but failed (its fee is\n" \
	"charged and its nonce used), not committed within --timeout, no node, a\n" \
	"wrong passphrase (one line on stderr); 2 a usage error.\n"

/* The common options, as parsed. */
struct ist_cli_txopts {
	const char *node;        /* --node, NULL: $ISTHMUS_NODE or the default */
	const char *keystore;    /* --keystore */
	const char *passfile;    /* --passphrase-file */
	const char *key;         /* --key NAME */
	uint64_t fee;
	bool has_nonce, has_network_id;
	uint64_t nonce, network_id;
	uint32_t timeout_s;
	bool no_wait, json;
};

/* Defaults: no key, fee 0, timeout 60 s, text output. */
void ist_cli_txopts_init(struct ist_cli_txopts *o);

/* Takes option `c` (getopt_long's value) with its argument `arg` for `cmd`
 * ("stake bond"). Returns 0 when it was a common option, 1 when it is not
 * one (the command handles it), IST_CLI_USAGE after printing a bad value. */
int ist_cli_txopts_take(const char *cmd, int c, const char *arg, struct ist_cli_txopts *o) IST_WUR;

/* Parses a decimal u64 option value >= min ("--amount"). Returns 0 or
 * IST_CLI_USAGE after printing. */
int ist_cli_u64_arg(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t *ret) IST_WUR;

/* Parses 64 hex digits (an optional 0x) naming a key or an id. Returns 0 or
 * IST_CLI_USAGE after printing ("OPT must be 64 hex digits (32 bytes)"). */
int ist_cli_hex32_arg(const char *cmd, const char *opt, const char *arg, uint8_t ret32[32]) IST_WUR;

/* The first 8 hex digits of an id followed by an ellipsis, for progress lines. */
void ist_cli_short_id(const uint8_t id32[32], char out[16]);

/* ---- the node ---- */

struct ist_cli_node {
	struct ist_http_client *http;
	char url[IST_HTTP_CLIENT_URL_MAX];
};

/* Opens a client for `opt` (--node), else $ISTHMUS_NODE, else the default;
 * the node is not contacted. Out: *ret (close with ist_cli_node_close).
 * Returns 0, or IST_CLI_USAGE after printing a bad URL as a usage error of
 * `cmd`, or IST_CLI_ERROR after printing another failure: an exit status. */
int ist_cli_node_open(const char *cmd, const char *opt, struct ist_cli_node *ret) IST_WUR;
void ist_cli_node_close(struct ist_cli_node *n);

/* GET `path` (with its query) and expect 200 with a JSON object. Out: *ret
 * (written on success; release with ist_cli_rpc_answer_fini). Returns 0,
 * -IST_ENOTFOUND for a 404 (printed, with the node's message, unless
 * `quiet_404`), -IST_ENET (unreachable), -IST_ETIMEOUT, -IST_EPARSE (not
 * JSON), -IST_EIO (another status; the node's code and message printed). */
int ist_cli_node_get(struct ist_cli_node *n, const char *path, bool quiet_404, struct ist_cli_rpc_answer *ret) IST_WUR;

/* Prints "URL: GET PATH: unexpected answer: <err>" and returns -IST_EPARSE:
 * what a command says when a decoder (cli/ledger_json.h) refuses an answer
 * (or -IST_ENOMEM, printed as such, when r is that). */
int ist_cli_node_bad_answer(const struct ist_cli_node *n, const char *path, int r, const struct ist_json_err *err);

/* ---- keysets ---- */

/* Loads the public part of keyset `name` (no passphrase; ist_cli_keys_load)
 * for `cmd`: a bad name is a usage error. With `validator`, the keyset must
 * hold the three keys of a validator, else an Ed25519 key. Out: *ret_file,
 * *ret_path (malloc'd; free both). Returns 0, IST_CLI_USAGE or IST_CLI_ERROR
 * (printed): an exit status. */
int ist_cli_keyset_open(const char *cmd, const char *keystore, const char *name, bool validator,
			struct ist_keystore_file **ret_file, char **ret_path) IST_WUR;

/* The Ed25519 (node, account) public key of a loaded keyset, or NULL. */
const uint8_t *ist_cli_keyset_account(const struct ist_keystore_file *f);

/* ---- transactions ---- */

/*
 * Sends a transaction for `cmd` and prints its outcome: `tx` has its kind
 * and body set (the rest is filled here), except that the keyset fills the
 * three keys of register_validator, and a bond or unbond validator of 32
 * zero bytes (never a valid key) stands for the keyset's own node key;
 * `o` gives the keyset (o->key, in
 * o->keystore), the fee, nonce and network id (asked from `node` when not
 * given: GET /v1/status, GET /v1/accounts/{sender}), the passphrase source,
 * the timeout, --no-wait and --json.
 *
 * Steps: loads the keyset's public part, resolves the network id and nonce,
 * gets the passphrase and decrypts (the secret stays in the keyset's guarded
 * memory and is wiped when it is freed), signs the canonical signing bytes
 * (wire/canonical.h), encodes, POSTs, and unless --no-wait polls the
 * transaction until it is committed or o->timeout_s passes, with a progress
 * line on stderr (rewritten in place on a terminal, a line every 5 s
 * otherwise). Once committed it prints "tx ID", "committed at height H:
 * ok" (or "failed: REASON") and, for a gov_propose, "proposal N" (--json:
 * one object). Returns an exit status: 0 committed with result ok (or
 * accepted, with --no-wait), 1 anything else (printed), 2 a usage error.
 */
int ist_cli_tx_send(const char *cmd, const struct ist_cli_txopts *o, struct ist_cli_node *node, struct ist_tx *tx);

/* The end of every transaction command: --key must be given (else a usage
 * error of `cmd`), then opens the node of o->node, ist_cli_tx_send()s `tx`
 * and closes the node. Returns an exit status. */
int ist_cli_tx_run(const char *cmd, const struct ist_cli_txopts *o, struct ist_tx *tx);

/* Prints an account (GET /v1/accounts) as aligned text on stdout: key,
 * balance, next nonce, the validator it operates, its bonds and unbonding
 * entries. `query account` and `stake show` print it. */
void ist_cli_account_print(const struct ist_cli_lj_account *a);

/* "transfer", "register_validator", "bond", ...: the name of a kind. */
const char *ist_cli_tx_kind_name(enum ist_tx_kind kind);

#endif
