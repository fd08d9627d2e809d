/*
 * The clock interface. Code that must be deterministic (consensus, state,
 * the simulator) never reads time itself: it is handed a struct ist_clock.
 * The node passes ist_clock_system(); tests pass a fake.
 */
#ifndef IST_COMMON_CLOCK_H
#define IST_COMMON_CLOCK_H

#include <stdint.h>

struct ist_clock {
	/* Wall-clock time, milliseconds since the Unix epoch. */
	uint64_t (*now_ms)(void *ctx);
	/* Monotonic time in milliseconds from an arbitrary origin. */
	uint64_t (*mono_ms)(void *ctx);
	void *ctx;
};

static inline uint64_t ist_clock_now_ms(const struct ist_clock *c) { return c->now_ms(c->ctx); }
static inline uint64_t ist_clock_mono_ms(const struct ist_clock *c) { return c->mono_ms(c->ctx); }

/* The operating system's clocks (CLOCK_REALTIME, CLOCK_MONOTONIC). Static
 * storage; never freed. */
const struct ist_clock *ist_clock_system(void);

/* A manual clock for tests: time moves only when told to. */
struct ist_clock_manual {
	struct ist_clock clock;
	uint64_t now_ms;   /* wall clock */
	uint64_t mono_ms;
};

void ist_clock_manual_init(struct ist_clock_manual *m, uint64_t start_ms);
void ist_clock_manual_advance(struct ist_clock_manual *m, uint64_t ms);

#endif
