#include "net/limits.h"

#define BUCKET_MAX_BURST (UINT64_C(1) << 40)

void ist_net_bucket_init(struct ist_net_bucket *b, uint64_t rate_per_sec, uint64_t burst, uint64_t now_ms)
{
	if (rate_per_sec == 0)
		rate_per_sec = 1;
	if (rate_per_sec > BUCKET_MAX_BURST)
		rate_per_sec = BUCKET_MAX_BURST;
	if (burst == 0)
		burst = 1;
	if (burst > BUCKET_MAX_BURST)
		burst = BUCKET_MAX_BURST;
	b->rate = rate_per_sec;
	b->cap_milli = burst * 1000;
	b->milli = b->cap_milli;
	b->last_ms = now_ms;
}

void ist_net_bucket_refill(struct ist_net_bucket *b, uint64_t now_ms)
{
	if (now_ms <= b->last_ms)
		return;
	uint64_t elapsed = now_ms - b->last_ms;
	b->last_ms = now_ms;
	/* rate tokens/s over elapsed ms = rate * elapsed thousandths. Past the
	 * time that refills an empty bucket the product only overflows. */
	uint64_t full_after = b->cap_milli / b->rate + 1;
	if (elapsed >= full_after) {
		b->milli = b->cap_milli;
		return;
	}
	uint64_t earned = elapsed * b->rate;
	b->milli = (b->cap_milli - b->milli <= earned) ? b->cap_milli : b->milli + earned;
}

bool ist_net_bucket_has(const struct ist_net_bucket *b, uint64_t n)
{
	return n <= BUCKET_MAX_BURST && b->milli >= n * 1000;
}

void ist_net_bucket_take(struct ist_net_bucket *b, uint64_t n)
{
	uint64_t m = n * 1000;
	b->milli = m >= b->milli ? 0 : b->milli - m;
}

bool ist_net_bucket_consume(struct ist_net_bucket *b, uint64_t now_ms, uint64_t n)
{
	ist_net_bucket_refill(b, now_ms);
	if (!ist_net_bucket_has(b, n))
		return false;
	ist_net_bucket_take(b, n);
	return true;
}

uint64_t ist_net_backoff_ms(uint32_t attempt, uint64_t min_ms, uint64_t max_ms, const struct ist_rng *rng)
{
	if (min_ms == 0)
		min_ms = 1;
	if (max_ms < min_ms)
		max_ms = min_ms;
	uint64_t d = min_ms;
	for (uint32_t i = 0; i < attempt && d < max_ms; i++)
		d = d > max_ms / 2 ? max_ms : d * 2;
	if (d > max_ms)
		d = max_ms;
	uint64_t lo = d / 2, span = d - lo + 1;
	uint8_t r[8];
	if (!rng || ist_rng_fill(rng, r, sizeof(r)) < 0)
		return d;
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | r[i];
	/* a modulo bias of at most span/2^64: irrelevant for a delay */
	return lo + v % span;
}
