/*
 * The randomness interface. Key generation and nonces use ist_rng_system()
 * (the kernel's getrandom); deterministic code and the simulator are handed a
 * seeded ist_rng_det, which is NOT for secrets.
 */
#ifndef IST_COMMON_RNG_H
#define IST_COMMON_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

struct ist_rng {
	/* Fills `len` bytes. Returns 0 or -IST_EIO. */
	int (*fill)(void *ctx, uint8_t *buf, size_t len);
	void *ctx;
};

static inline int IST_WUR ist_rng_fill(const struct ist_rng *r, uint8_t *buf, size_t len)
{
	return r->fill(r->ctx, buf, len);
}

/* The kernel CSPRNG. Static storage; never freed. */
const struct ist_rng *ist_rng_system(void);

/* A seeded, reproducible generator (xoshiro256**, seeded by splitmix64) for
 * simulations and tests. Same seed, same stream, on every platform. */
struct ist_rng_det {
	struct ist_rng rng;
	uint64_t s[4];
};

void ist_rng_det_init(struct ist_rng_det *d, uint64_t seed);
uint64_t ist_rng_det_next(struct ist_rng_det *d);
/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint64_t ist_rng_det_below(struct ist_rng_det *d, uint64_t bound);

#endif
