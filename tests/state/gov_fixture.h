/*
 * What the governance and breaker tests share: NV validator keys (0..NV-1
 * in the set, NV outside it) and a set of them with given stakes. Static,
 * one copy per test program.
 */
#ifndef IST_TESTS_STATE_GOV_FIXTURE_H
#define IST_TESTS_STATE_GOV_FIXTURE_H

#include <stdint.h>
#include <string.h>

#include "state/gov.h"

#define NV 4

static uint8_t keys[NV + 1][32];   /* validators 0..3; 4 is outside the set */
static uint64_t stakes[NV];

/* Fills the keys: key i is 32 bytes of `base + i`. */
static inline void make_keys_from(uint8_t base)
{
	for (int i = 0; i <= NV; i++)
		memset(keys[i], base + i, 32);
}

/* The set of validators 0..n-1 with the given stakes. */
static inline struct ist_gov_set set_of(uint32_t n, const uint64_t *s)
{
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		stakes[i] = s[i];
		total += s[i];
	}
	return (struct ist_gov_set){ .n = n, .node_keys = (const uint8_t (*)[32])keys, .stakes = stakes, .total = total };
}

#endif
