/* Small language helpers shared by every module. */
#ifndef IST_COMMON_MACRO_H
#define IST_COMMON_MACRO_H

#include <stddef.h>
#include <stdlib.h>

/* A verdict or a result the caller must look at. */
#define IST_WUR __attribute__((warn_unused_result))
#define IST_UNUSED __attribute__((unused))
#define IST_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define IST_NORETURN __attribute__((noreturn))

#define IST_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define IST_MIN(a, b) ((a) < (b) ? (a) : (b))
#define IST_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Invariants of our own code (never input from outside, which gets an error
 * instead). Active in every build type, unlike assert(). */
IST_NORETURN void ist_require_failed(const char *expr, const char *file, int line);
#define IST_REQUIRE(expr) \
	do { if (!(expr)) ist_require_failed(#expr, __FILE__, __LINE__); } while (0)

/* Scope-bound cleanup, systemd style: `_cleanup_free_ char *p = NULL;` */
#define _cleanup_(f) __attribute__((cleanup(f)))
static inline void ist_freep(void *p) { free(*(void **)p); }
#define _cleanup_free_ _cleanup_(ist_freep)

#endif
