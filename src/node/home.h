/*
 * A node home: its layout, the error that names a file, a field and a
 * problem, and the reading and writing of its JSON files.
 *
 * A home directory (mode 0700) holds (docs/configuration.md):
 *
 *   config.json     this node's settings            (struct ist_node_config, node/config.h)
 *   genesis.json    the network's genesis           (struct ist_node_genesis, node/genesis.h)
 *   keys/           the keystore (0700), keys/NAME.json per keyset (0600)
 *   passphrase      devnets only: the keystore passphrase (0600)
 *   public.json     what `isthmus init` told the operator to send to the
 *                   genesis coordinator (public keys and address)
 *   data/           the node's database (made by the daemon)
 *
 * Errors. Everything that reads config.json, genesis.json or a file they
 * point to reports a problem as a struct ist_node_err: the file, the JSON
 * path of the field ("validators[2].stake", "" when the problem is the file
 * as a whole) and the problem, which ist_node_err_format() turns into one
 * line: "genesis.json: validators[2].stake: must be a positive integer (got
 * -5)". A JSON syntax error names a line and a column instead of a field:
 * "config.json: line 3, column 7: invalid JSON: ...". The line never holds a
 * control character.
 *
 * The JSON reader (struct ist_node_jr) is the common machinery of
 * node/config.c and node/genesis.c; other modules read the parsed structs.
 */
#ifndef IST_NODE_HOME_H
#define IST_NODE_HOME_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

/* ---- layout --------------------------------------------------------------- */

#define IST_NODE_CONFIG_FILE "config.json"
#define IST_NODE_GENESIS_FILE "genesis.json"
#define IST_NODE_KEYS_DIR "keys"
#define IST_NODE_DATA_DIR "data"
#define IST_NODE_PASSPHRASE_FILE "passphrase"
#define IST_NODE_PUBLIC_FILE "public.json"

/* The longest path a config may give (a relative one is joined to the home
 * first) and the longest home path. */
#define IST_NODE_PATH_MAX 1024

/* Joins `rel` to `home`: `rel` itself when it is absolute, else
 * "HOME/REL". Out: *ret_path (malloc'd, caller frees). Returns 0,
 * -IST_EINVAL (empty `rel`) or -IST_ENOMEM. */
int ist_node_home_path(const char *home, const char *rel, char **ret_path) IST_WUR;

/* ---- errors --------------------------------------------------------------- */

#define IST_NODE_ERR_FILE_MAX 1024
#define IST_NODE_ERR_FIELD_MAX 128
#define IST_NODE_ERR_PROBLEM_MAX 384

/* A problem with a file of the home. Plain memory. Strings are truncated to
 * fit and never hold control characters. */
struct ist_node_err {
	char file[IST_NODE_ERR_FILE_MAX];        /* the path as the caller named it */
	char field[IST_NODE_ERR_FIELD_MAX];      /* JSON path, "" for the file as a whole */
	char problem[IST_NODE_ERR_PROBLEM_MAX];  /* what is wrong, without the file and field */
	int line, column;                        /* JSON syntax errors only (1-based), else 0 */
};

/* Sets every part of `err` (a NULL `err` is ignored). `field` may be NULL
 * or "". Control characters become '?'. */
void ist_node_err_set(struct ist_node_err *err, const char *file, const char *field, const char *fmt, ...)
	IST_PRINTF(4, 5);

/* Formats `err` as one line without a newline:
 *   "FILE: FIELD: PROBLEM", or "FILE: PROBLEM" when there is no field, or
 *   "FILE: line L, column C: PROBLEM" for a JSON syntax error.
 * Always NUL-terminates `buf` (len > 0); returns `buf`. */
const char *ist_node_err_format(const struct ist_node_err *err, char *buf, size_t len);

/* ---- files ------------------------------------------------------------------ */

/* Reads the regular file `path`, at most `max` bytes.
 * Out: *ret_text (malloc'd, NUL-terminated, caller frees), *ret_len.
 * Returns 0 or, with `err` set (field ""):
 *   -IST_ENOTFOUND "no such file", -IST_EINVAL "not a regular file",
 *   -IST_ETOOBIG "larger than MAX bytes", -IST_EPERM/-IST_EIO "cannot read: ...",
 *   -IST_ENOMEM. */
int ist_node_file_read(const char *path, size_t max, char **ret_text, size_t *ret_len, struct ist_node_err *err) IST_WUR;

/* Writes `len` bytes to `path` with mode 0600, atomically and durably
 * (ist_file_write_atomic, common/file.h: a temporary file in the same
 * directory, fsync, rename, fsync of the directory). An existing file is
 * replaced only with `replace`. Returns 0, -IST_EEXISTS ("file exists"),
 * -IST_EIO/-IST_EPERM/... ("cannot write: ..." or "cannot sync its directory:
 * ..."), -IST_ENOMEM; `err` names `path`. */
int ist_node_file_write(const char *path, const void *data, size_t len, bool replace, struct ist_node_err *err) IST_WUR;

/* Makes the directory `dir` (and missing parents) with mode 0700, or checks
 * an existing one: a directory owned by the effective user that group and
 * others cannot access. Returns 0, -IST_EINVAL (not a directory), -IST_EPERM
 * (another owner, or group/other permission bits: the problem says how to fix
 * it), -IST_EIO; `err` names `dir`. */
int ist_node_dir_make(const char *dir, struct ist_node_err *err) IST_WUR;

/* ---- URLs ------------------------------------------------------------------------ */

#define IST_NODE_URL_MAX 255   /* = IST_WIRE_MAX_ADDRESS_BYTES: a genesis address fits the wire */
#define IST_NODE_HOST_MAX 253

/* A parsed "SCHEME://HOST:PORT". HOST is a DNS name or IPv4 address
 * ([A-Za-z0-9.-]) or an IPv6 address in brackets (kept with them). No user,
 * no path, no query. */
struct ist_node_url {
	char scheme[16];
	char host[IST_NODE_HOST_MAX + 1];
	uint16_t port;   /* 1..65535 */
};

/* Schemes of the node's peer-to-peer address (NNG) and of its API. */
#define IST_NODE_URL_P2P  "tcp\0tls+tcp\0"
#define IST_NODE_URL_HTTP "http\0"

/* Parses `url` (at most IST_NODE_URL_MAX bytes) whose scheme must be one of
 * `schemes`, a list of NUL-terminated names ended by an empty one (one of the
 * IST_NODE_URL_* above). With !allow_unspecified, the hosts 0.0.0.0 and [::]
 * (a bind address nobody can connect to) are refused. Out: *ret_url (may be
 * NULL). Returns 0 or -IST_EINVAL with a problem ("must be tcp://HOST:PORT or
 * tls+tcp://HOST:PORT (got \"...\")") in `problem` (NUL-terminated, len > 0). */
int ist_node_url_parse(const char *url, const char *schemes, bool allow_unspecified, struct ist_node_url *ret_url,
		       char *problem, size_t len) IST_WUR;

/* ---- the JSON reader (node/config.c and node/genesis.c) ------------------------
 *
 * A reader fails once and stays failed: the first problem is kept in `err`,
 * later calls do nothing and return their default (NULL, "", 0, false), and
 * the caller checks ist_node_jr_code() once at the end. A `parent` is the
 * JSON path of the object read ("" at the top, "validators[2]"); the field's
 * path is parent.key. */
struct ist_node_jr {
	const char *file;
	struct ist_node_err *err;   /* may be NULL */
	int code;                   /* 0, or the -IST_E* code of the first failure */
};

/* The largest integer every JSON reader keeps exactly (2^53): a u64 above it
 * must be written as a decimal string. */
#define IST_NODE_JSON_SAFE_INT 9007199254740992ULL

void ist_node_jr_init(struct ist_node_jr *jr, const char *file, struct ist_node_err *err);
static inline int ist_node_jr_code(const struct ist_node_jr *jr) { return jr->code; }
static inline bool ist_node_jr_ok(const struct ist_node_jr *jr) { return jr->code == 0; }

/* Records a failure (only the first counts): `code` and the problem at
 * `path` ("" for the file). Returns jr's code. */
int ist_node_jr_fail(struct ist_node_jr *jr, int code, const char *path, const char *fmt, ...) IST_PRINTF(4, 5);

/* Joins a path: "parent.key", or "key" at the top. Truncates to fit. */
void ist_node_jr_path(char out[IST_NODE_ERR_FIELD_MAX], const char *parent, const char *key);
/* "parent[i]". */
void ist_node_jr_index(char out[IST_NODE_ERR_FIELD_MAX], const char *parent, size_t i);

/* Parses `len` bytes of JSON text (an object at the top; duplicate keys are
 * refused). Returns a new reference (caller decrefs) or NULL after failing
 * with -IST_EPARSE and a line and column. */
json_t *ist_node_jr_parse(struct ist_node_jr *jr, const char *text, size_t len);

/* Checks that `v` (at `path`) is an object whose keys are all in `allowed`
 * (NULL-terminated): "unknown field", with a suggestion when a known field is
 * one or two edits away. Fails -IST_ECONFIG. */
bool ist_node_jr_object(struct ist_node_jr *jr, json_t *v, const char *path, const char *const *allowed);

/* The member `key` of `obj` (borrowed), or NULL when absent: then a failure
 * "missing required field" when `required`. */
json_t *ist_node_jr_member(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, bool required);

/* A string member (borrowed from `obj`), `def` when absent and not required.
 * "must be a string (got 5)". */
const char *ist_node_jr_string(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key,
			       bool required, const char *def);

/* An integer member in [min, max] (a JSON integer: no fraction, no
 * exponent), `def` when absent and not required. "must be an integer from
 * MIN to MAX (got X)", "must be a positive integer (got -5)". */
uint64_t ist_node_jr_uint(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, bool required,
			  uint64_t def, uint64_t min, uint64_t max);

/* A u64 member >= min: a JSON integer up to IST_NODE_JSON_SAFE_INT or a
 * string of decimal digits (no sign, no leading zero) up to 2^64 - 1. */
uint64_t ist_node_jr_u64(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, bool required,
			 uint64_t def, uint64_t min);

/* A boolean member, `def` when absent. */
bool ist_node_jr_bool(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, bool def);

/* A required string member of exactly 2*len hex digits (an optional "0x"
 * prefix) decoded into out[len]; `what` names it in the problem ("must be 64
 * hex digits (an Ed25519 public key)"). `out` is zeroed on failure. */
void ist_node_jr_hex(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, uint8_t *out,
		     size_t len, const char *what);

/* A u64 as JSON that the readers above give back exactly
 * (ist_node_jr_u64): an integer up to IST_NODE_JSON_SAFE_INT, else a string
 * of decimal digits. New reference, or NULL (out of memory). */
json_t *ist_node_json_u64(uint64_t v);

/* The text of a file of the home: `root` (not consumed; NULL is out of
 * memory) with a two-space indent and a final newline. Out: *ret_text
 * (malloc'd, caller frees). Returns 0 or -IST_ENOMEM. */
int ist_node_json_text(const json_t *root, char **ret_text) IST_WUR;

/* Describes a JSON value for a problem's "(got ...)": the number, true,
 * false, null, a short printable string in quotes, else "a string", "an
 * object", "an array". Returns `buf`. */
const char *ist_node_jr_describe(const json_t *v, char *buf, size_t len);

#endif
