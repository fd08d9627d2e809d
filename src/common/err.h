/*
 * The one error space of isthmus.
 *
 * Functions return int: 0 on success or a negative -IST_E* code from the table
 * below. Codes of LMDB, NNG, errno and the crypto libraries are translated at
 * the module boundary and never escape it. Verification functions return bool
 * instead (true = valid).
 *
 * To add a code, add one line to IST_ERRORS; values are assigned in order and
 * are not stable across versions (never persist or send them).
 */
#ifndef IST_COMMON_ERR_H
#define IST_COMMON_ERR_H

#include <stddef.h>

#define IST_ERRORS(X) \
	X(NOMEM,          "out of memory") \
	X(INVAL,          "invalid argument") \
	X(RANGE,          "value out of range") \
	X(IO,             "input/output error") \
	X(NOTFOUND,       "not found") \
	X(EXISTS,         "already exists") \
	X(PERM,           "permission denied") \
	X(PARSE,          "malformed input") \
	X(TOOBIG,         "size limit exceeded") \
	X(TRUNCATED,      "input truncated") \
	X(BADHEX,         "invalid hexadecimal") \
	X(UNSUPPORTED,    "unsupported version or feature") \
	X(CRYPTO,         "cryptographic library failure") \
	X(BADKEY,         "invalid key") \
	X(BADSIG,         "invalid signature") \
	X(BADPROOF,       "invalid proof") \
	X(DECRYPT,        "decryption failed: wrong passphrase or tampered data") \
	X(PASSPHRASE,     "passphrase unavailable or rejected") \
	X(DB,             "database error") \
	X(DB_FULL,        "database map full") \
	X(DB_CORRUPT,     "database corrupt") \
	X(DB_SCHEMA,      "database schema incompatible") \
	X(DB_LOCKED,      "database in use by another process") \
	X(CONFIG,         "invalid configuration") \
	X(NET,            "network error") \
	X(TIMEOUT,        "timed out") \
	X(AGAIN,          "try again") \
	X(CLOSED,         "closed") \
	X(STATE,          "operation not valid in the current state") \
	X(INTERNAL,       "internal error")

enum ist_err {
	IST_OK = 0,
	IST__ERR_BASE = 1000, /* keeps our codes away from errno values */
#define IST_ERR_ENUM(name, msg) IST_E##name,
	IST_ERRORS(IST_ERR_ENUM)
#undef IST_ERR_ENUM
	IST__ERR_END
};

/* Returns a static message for `err` (negative or positive code). Unknown
 * codes give "unknown error". Never NULL. */
const char *ist_strerror(int err);

/* Returns the symbolic name of `err` ("IST_ENOTFOUND"), or "IST_OK" for 0 and
 * "IST_E?" for an unknown code. Never NULL. */
const char *ist_errname(int err);

/* Translates an errno value (positive) to -IST_E*. */
int ist_err_from_errno(int errnum);

/* Writes the formatted reason into why (why_len bytes, NUL-terminated,
 * truncated) and returns -IST_EINVAL: the "refused, and why" of the
 * ledger's checks. */
int ist_err_reason(char *why, size_t why_len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
