/*
 * A strict reader of JSON documents that come from outside (an RPC answer, a
 * file), on jansson.
 *
 * The reader fails once and stays failed (STYLE.md "Errors"): every call
 * after the first failure does nothing and returns a zero value, and the
 * caller checks ist_json_ok() once at the end. The first failure is kept as
 * "PATH: PROBLEM", where PATH names the field the way a person would look it
 * up ("messages[3].payload") and PROBLEM says what was wanted and what came
 * ("must be a hex string of at most 65536 bytes (got 70000 bytes)"). Values
 * from the document are quoted only when they are short printable ASCII, so
 * a reason is always one safe line for a log.
 *
 * Every member read through the reader is required; members the caller
 * never asks for are ignored. Numbers: a u64 is a non-negative JSON integer
 * or a string of decimal digits (JSON tools round integers above 2^53, so
 * large values travel as strings); a fraction, an exponent or a sign is an
 * error.
 *
 * Thread safety: a reader is used by one thread; the functions keep no
 * global state.
 */
#ifndef IST_COMMON_JSON_H
#define IST_COMMON_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

/* Bytes of a field path ("messages[3].payload"), NUL included; longer paths
 * are cut. */
#define IST_JSON_PATH_MAX 96
/* Bytes of a failure reason, NUL included. */
#define IST_JSON_WHY_MAX 256

struct ist_json_reader {
	int err;                         /* 0, or the -IST_E* of the first failure */
	char why[IST_JSON_WHY_MAX];      /* "PATH: PROBLEM" of the first failure */
};

void ist_json_reader_init(struct ist_json_reader *jr);
static inline bool ist_json_ok(const struct ist_json_reader *jr) { return jr->err == 0; }

/* Records a failure at `path` ("" for the document) with -IST_EPARSE, or
 * `code` when it is negative; only the first failure counts. Returns the
 * reader's code. */
int ist_json_fail(struct ist_json_reader *jr, int code, const char *path, const char *fmt, ...) IST_PRINTF(4, 5);

/* "parent.key", or "key" at the top. */
void ist_json_path(char out[IST_JSON_PATH_MAX], const char *parent, const char *key);
/* "parent[i]". */
void ist_json_index(char out[IST_JSON_PATH_MAX], const char *parent, size_t i);

/* A short description of a value for a problem text: 5, true, "abc", or "a
 * string of 300 bytes", "an object", "an array". Returns buf. */
const char *ist_json_describe(const json_t *v, char *buf, size_t len);

/* Strict decimal u64: digits only, no sign, no leading zero (but "0"), at
 * most 2^64 - 1. Returns false (and leaves *ret) otherwise. */
bool ist_json_decimal_u64(const char *s, uint64_t *ret) IST_WUR;

/* Parses `len` bytes (not NUL-terminated) that must hold one JSON object;
 * duplicate keys are refused. Returns a new reference (the caller decrefs)
 * or NULL after failing ("invalid JSON at line 1 column 7: ..."). */
json_t *ist_json_parse(struct ist_json_reader *jr, const char *text, size_t len);

/* The member `key` of the object `obj` (which lives at `parent`), borrowed
 * from obj; fails "missing required field" when absent, and "must be an
 * object" when obj is not one. */
json_t *ist_json_member(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key);

/* A u64 member (see the top). */
uint64_t ist_json_u64(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key);

/* A boolean member. */
bool ist_json_bool(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key);

/* A string member of exactly 2*len hex digits (either case, an optional "0x"
 * prefix) decoded into out[len]; out is zeroed on failure. */
void ist_json_hex(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, uint8_t *out,
		  size_t len);

/* A string member of an even number of hex digits (an optional "0x"), at
 * most 2*max of them. Out: *ret_len. Returns a malloc'd buffer the caller
 * frees, or NULL when the value is empty (*ret_len = 0) or on failure
 * (out of memory fails with -IST_ENOMEM). */
uint8_t *ist_json_hex_alloc(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key,
			    size_t max, size_t *ret_len);

/* An array member of at most `max` items, borrowed from obj. */
json_t *ist_json_array(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, size_t max);

#endif
