/*
 * The batches of the storage crash test, shared by the child that writes
 * them (crash_child.c) and the parent that checks them (test_crash.c).
 *
 * Batch b (b >= 1) is one ist_store_write of crash_batch_keys(b) keys
 * be64(b) || be32(i) in the accounts database, each with the value
 * crash_batch_value(b, i), plus the marker safety["crash-last"] = be64(b).
 * Everything is derived from b, so the parent can check any batch.
 */
#ifndef IST_TEST_CRASH_BATCH_H
#define IST_TEST_CRASH_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "storage/store.h"

#define CRASH_DB IST_STORE_DB_ACCOUNTS
#define CRASH_MARKER_DB IST_STORE_DB_SAFETY
#define CRASH_MARKER "crash-last"
#define CRASH_KEY_BYTES 12
#define CRASH_VALUE_MAX 600
/* The child's map: tiny at first, so that it grows while being killed. */
#define CRASH_MAP_SIZE (64u << 10)
#define CRASH_MAP_MAX (1ull << 30)

/* 16..64 keys, varying from batch to batch. */
static inline uint32_t crash_batch_keys(uint64_t b)
{
	return 16 + (uint32_t)((b * 2654435761u) % 49);
}

static inline void crash_key(uint8_t k[CRASH_KEY_BYTES], uint64_t b, uint32_t i)
{
	ist_put_be64(k, b);
	ist_put_be32(k + 8, i);
}

/* Writes the value of key i of batch b into v (CRASH_VALUE_MAX bytes of
 * room); returns its length, 24..CRASH_VALUE_MAX. The value embeds the
 * batch number and key index, then a pattern. */
static inline size_t crash_value(uint8_t *v, uint64_t b, uint32_t i)
{
	size_t len = 24 + (size_t)((b * 31 + (uint64_t)i * 17) % (CRASH_VALUE_MAX - 24 + 1));
	ist_put_be64(v, b);
	ist_put_be32(v + 8, i);
	for (size_t j = 12; j < len; j++)
		v[j] = (uint8_t)(b * 7 + i * 13 + j);
	return len;
}

#endif
