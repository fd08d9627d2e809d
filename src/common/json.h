/*
 * Reading and writing the JSON of files and request bodies (jansson), with
 * errors that name the file, the field and the problem.
 *
 * One reader for every module that reads JSON from outside: the node's
 * config.json and genesis.json, validator-set files (state), the devchain's
 * request bodies and the chain adapters' RPC answers.
 *
 * Errors. A problem is a struct ist_json_err: the file (or another label,
 * "request body"), the JSON path of the field ("validators[2].stake", ""
 * when the problem is the text as a whole) and the problem, which
 * ist_json_err_format() turns into one line: "vs.json: validators[2].stake:
 * must be a positive integer (got -5)". A JSON syntax error names a line and
 * a column instead of a field: "vs.json: line 3, column 7: invalid JSON:
 * ...". The line never holds a control character.
 *
 * u64 values. Many JSON tools read numbers as doubles and round integers
 * above 2^53 silently, so a u64 is written as a JSON integer up to
 * IST_JSON_SAFE_INT and as a string of decimal digits above it; a reader
 * accepts both spellings up to 2^53 and only the string above.
 */
#ifndef IST_COMMON_JSON_H
#define IST_COMMON_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

/* ---- errors --------------------------------------------------------------- */

#define IST_JSON_ERR_FILE_MAX 1024
#define IST_JSON_ERR_FIELD_MAX 128
#define IST_JSON_ERR_PROBLEM_MAX 384

/* A problem with a JSON text. Plain memory. Strings are truncated to fit and
 * never hold control characters. */
struct ist_json_err {
	char file[IST_JSON_ERR_FILE_MAX];        /* the label the caller gave */
	char field[IST_JSON_ERR_FIELD_MAX];      /* JSON path, "" for the text as a whole */
	char problem[IST_JSON_ERR_PROBLEM_MAX];  /* what is wrong, without the file and field */
	int line, column;                        /* JSON syntax errors only (1-based), else 0 */
};

/* Sets every part of `err` (a NULL `err` is ignored). `field` may be NULL
 * or "". Control characters become '?'. */
void ist_json_err_set(struct ist_json_err *err, const char *file, const char *field, const char *fmt, ...)
	IST_PRINTF(4, 5);

/* Formats `err` as one line without a newline:
 *   "FILE: FIELD: PROBLEM", or "FILE: PROBLEM" when there is no field, or
 *   "FILE: line L, column C: PROBLEM" for a JSON syntax error.
 * Always NUL-terminates `buf` (len > 0); returns `buf`. */
const char *ist_json_err_format(const struct ist_json_err *err, char *buf, size_t len);

/* Reads the regular file `path`, at most `max` bytes.
 * Out: *ret_text (malloc'd, NUL-terminated, caller frees), *ret_len.
 * Returns 0 or, with `err` set (file `path`, field ""):
 *   -IST_ENOTFOUND "no such file", -IST_EINVAL "not a regular file",
 *   -IST_ETOOBIG "larger than MAX bytes", -IST_EPERM/-IST_EIO "cannot read: ...",
 *   -IST_ENOMEM. */
int ist_json_file_read(const char *path, size_t max, char **ret_text, size_t *ret_len,
		       struct ist_json_err *err) IST_WUR;

/* ---- the reader ------------------------------------------------------------
 *
 * A reader fails once and stays failed: the first problem is kept in `err`,
 * later calls do nothing and return their default (NULL, "", 0, false), and
 * the caller checks ist_json_code() once at the end. A `parent` is the JSON
 * path of the object read ("" at the top, "validators[2]"); the field's path
 * is parent.key. Problems with values fail with -IST_ECONFIG; the caller
 * may present that code as it likes (a bad request, a bad file). */
struct ist_json_reader {
	const char *file;
	struct ist_json_err *err;   /* may be NULL */
	int code;                   /* 0, or the -IST_E* code of the first failure */
};

/* The largest integer every JSON reader keeps exactly (2^53). */
#define IST_JSON_SAFE_INT 9007199254740992ULL

void ist_json_reader_init(struct ist_json_reader *jr, const char *file, struct ist_json_err *err);
static inline int ist_json_code(const struct ist_json_reader *jr) { return jr->code; }
static inline bool ist_json_ok(const struct ist_json_reader *jr) { return jr->code == 0; }

/* Records a failure (only the first counts): `code` (a negative -IST_E*,
 * anything else counts as -IST_ECONFIG) and the problem at `path` ("" for
 * the text). Returns jr's code. */
int ist_json_fail(struct ist_json_reader *jr, int code, const char *path, const char *fmt, ...) IST_PRINTF(4, 5);

/* Joins a path: "parent.key", or "key" at the top. Truncates to fit. */
void ist_json_path(char out[IST_JSON_ERR_FIELD_MAX], const char *parent, const char *key);
/* "parent[i]". */
void ist_json_index(char out[IST_JSON_ERR_FIELD_MAX], const char *parent, size_t i);

/* Parses `len` bytes of JSON text (need not be NUL-terminated; an object at
 * the top; duplicate keys are refused). Returns a new reference (caller
 * decrefs) or NULL after failing with -IST_EPARSE and a line and column (or
 * -IST_ECONFIG "must be a JSON object"). */
json_t *ist_json_parse(struct ist_json_reader *jr, const char *text, size_t len);

/* Checks that `v` (at `path`) is an object whose keys are all in `allowed`
 * (NULL-terminated): "unknown field", with a suggestion when a known field is
 * one or two edits away. */
bool ist_json_object(struct ist_json_reader *jr, json_t *v, const char *path, const char *const *allowed);

/* The member `key` of `obj` (borrowed), or NULL when absent: then a failure
 * "missing required field" when `required`. */
json_t *ist_json_member(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required);

/* An array member of min..max elements (borrowed), NULL when absent and not
 * required. "must be an array (got 5)", "must have 1 to 256 elements (got 0)". */
json_t *ist_json_array(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required,
		       size_t min, size_t max);

/* A string member (borrowed from `obj`), `def` when absent and not required.
 * "must be a string (got 5)". */
const char *ist_json_string(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key,
			    bool required, const char *def);

/* An integer member in [min, max] (a JSON integer: no fraction, no
 * exponent), `def` when absent and not required. "must be an integer from
 * MIN to MAX (got X)", "must be a positive integer (got -5)". */
uint64_t ist_json_uint(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required,
		       uint64_t def, uint64_t min, uint64_t max);

/* A u64 member >= min: a JSON integer up to IST_JSON_SAFE_INT or a string
 * of decimal digits (no sign, no leading zero) up to 2^64 - 1. */
uint64_t ist_json_u64(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required,
		      uint64_t def, uint64_t min);

/* A boolean member, `def` when absent. */
bool ist_json_bool(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool def);

/* A required string member of exactly 2*len hex digits (an optional "0x"
 * prefix) decoded into out[len]; `what` names it in the problem ("must be 64
 * hex digits (an Ed25519 public key)"). `out` is zeroed on failure. */
void ist_json_hex(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, uint8_t *out,
		  size_t len, const char *what);

/* A string member of an even number of hex digits (an optional "0x"
 * prefix) decoding to at most `max` bytes, decoded into a new buffer.
 * Absent and not required: *ret_buf NULL, *ret_len 0. Out: *ret_buf
 * (malloc'd, caller frees; NULL for zero bytes), *ret_len; written only
 * when the reader is still ok afterwards. "must be hex of at most N bytes
 * (got 131074 hex digits)". */
void ist_json_hex_alloc(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required,
			size_t max, uint8_t **ret_buf, size_t *ret_len);

/* Sets `err` to "WHAT: <strerror(e)>" for the file `path` and returns the
 * -IST_E* code of errno value `e`. */
int ist_json_err_errno(struct ist_json_err *err, const char *path, const char *what, int e);

/* Describes a C string for a problem's "(got ...)": in quotes when short
 * and printable, else "a string of N bytes". Returns `buf`. */
const char *ist_json_describe_str(const char *s, char *buf, size_t len);

/* Describes a JSON value for a problem's "(got ...)": the number, true,
 * false, null, a short printable string in quotes, else "a string", "an
 * object", "an array". Returns `buf`. */
const char *ist_json_describe(const json_t *v, char *buf, size_t len);

/* Strict decimal u64: digits only, no sign, no leading zero (but "0"), at
 * most 2^64 - 1. True and *ret on success (*ret untouched otherwise). */
bool ist_json_decimal_u64(const char *s, uint64_t *ret) IST_WUR;

/* ---- writing ---------------------------------------------------------------- */

/* A new JSON value for a u64: an integer up to IST_JSON_SAFE_INT, else a
 * string of decimal digits. NULL when out of memory (json_object_set_new
 * then fails, which the caller checks). */
json_t *ist_json_from_u64(uint64_t v);

/* A new JSON string of the lower-case hex of `len` bytes ("" for none).
 * NULL when out of memory. */
json_t *ist_json_from_hex(const uint8_t *p, size_t len);

/* The text of a file: `root` with a two-space indent, members in insertion
 * order, and a final newline. Out: *ret_text (malloc'd, caller frees).
 * Returns 0 or -IST_ENOMEM (also for a NULL root, the sign of a failed
 * build). */
int ist_json_dump_text(const json_t *root, char **ret_text) IST_WUR;

#endif
