#include "common/clock.h"

#include <time.h>

#include "common/macro.h"

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t sys_now(void *ctx IST_UNUSED) { return read_clock(CLOCK_REALTIME); }
static uint64_t sys_mono(void *ctx IST_UNUSED) { return read_clock(CLOCK_MONOTONIC); }

static const struct ist_clock system_clock = { .now_ms = sys_now, .mono_ms = sys_mono };

const struct ist_clock *ist_clock_system(void) { return &system_clock; }

static uint64_t man_now(void *ctx) { return ((struct ist_clock_manual *)ctx)->now_ms; }
static uint64_t man_mono(void *ctx) { return ((struct ist_clock_manual *)ctx)->mono_ms; }

void ist_clock_manual_init(struct ist_clock_manual *m, uint64_t start_ms)
{
	m->clock.now_ms = man_now;
	m->clock.mono_ms = man_mono;
	m->clock.ctx = m;
	m->now_ms = start_ms;
	m->mono_ms = 0;
}

void ist_clock_manual_advance(struct ist_clock_manual *m, uint64_t ms)
{
	m->now_ms += ms;
	m->mono_ms += ms;
}
