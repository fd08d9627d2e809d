#include "common/rng.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "common/bytes.h"
#include "common/err.h"

static int sys_fill(void *ctx IST_UNUSED, uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = getrandom(buf, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -IST_EIO;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static const struct ist_rng system_rng = { .fill = sys_fill };

const struct ist_rng *ist_rng_system(void) { return &system_rng; }

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t ist_rng_det_next(struct ist_rng_det *d)
{
	uint64_t *s = d->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t ist_rng_det_below(struct ist_rng_det *d, uint64_t bound)
{
	IST_REQUIRE(bound > 0);
	uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
	uint64_t x;
	do
		x = ist_rng_det_next(d);
	while (x >= limit);
	return x % bound;
}

static int det_fill(void *ctx, uint8_t *buf, size_t len)
{
	struct ist_rng_det *d = ctx;
	while (len > 0) {
		uint8_t w[8];
		ist_put_be64(w, ist_rng_det_next(d));
		size_t n = len < 8 ? len : 8;
		memcpy(buf, w, n);
		buf += n;
		len -= n;
	}
	return 0;
}

void ist_rng_det_init(struct ist_rng_det *d, uint64_t seed)
{
	for (int i = 0; i < 4; i++) {
		/* splitmix64 */
		uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		d->s[i] = z ^ (z >> 31);
	}
	d->rng.fill = det_fill;
	d->rng.ctx = d;
}
