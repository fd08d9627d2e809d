/*
 * Helpers shared by the files of src/chain; not part of the module's
 * interface.
 */
#ifndef IST_CHAIN_INTERNAL_H
#define IST_CHAIN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* The log subsystem of the module. */
#define IST_CHAIN_SUBSYS "chain"

/* How often one repeated problem is logged at warn level or above; the
 * repeats in between go to debug, and the next warning says how many there
 * were. */
#define IST_CHAIN_LOG_EVERY_MS 30000

/* A log rate limit for one kind of problem of one endpoint or watcher.
 * Zeroed memory is a fresh limit. Not thread-safe (one owner thread). */
struct ist_chain_ratelimit {
	bool used;
	uint64_t last_ms;
	uint64_t suppressed;   /* held back since the last one let through */
};

/* True when a message may be logged now (at most one per
 * IST_CHAIN_LOG_EVERY_MS). Out: *ret_suppressed, the number held back since
 * the last one let through (counted only when it returns true; reset then). */
bool ist_chain_ratelimit_ok(struct ist_chain_ratelimit *rl, uint64_t now_ms, uint64_t *ret_suppressed);

/* Monotonic milliseconds (the system clock). */
uint64_t ist_chain_mono_ms(void);

#endif
