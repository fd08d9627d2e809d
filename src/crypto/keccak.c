#include "crypto/keccak.h"

#include <nettle/sha3.h>
#include <string.h>

#include "common/bytes.h"

/* Keccak-256: capacity 512 bits, so the rate is 1600/8 - 64 = 136 bytes,
 * i.e. 17 lanes of the 25. Nettle's SHA3-256 has the same rate; only the
 * padding differs (0x01 here, 0x06 for SHA3). */
#define RATE 136
#define RATE_LANES (RATE / 8)

_Static_assert(SHA3_256_BLOCK_SIZE == RATE, "Keccak-256 and SHA3-256 share the rate");
_Static_assert(SHA3_STATE_LENGTH == 25, "Keccak-f[1600] has 25 lanes");

/* Nettle keeps lane i as a host uint64_t holding bytes 8i..8i+7 of the state
 * in little-endian order (FIPS 202's byte/lane mapping), whatever the host
 * byte order: load and store bytewise so that this holds on any host. */
static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void store_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void absorb_block(struct sha3_state *st, const uint8_t *block)
{
	for (int i = 0; i < RATE_LANES; i++)
		st->a[i] ^= load_le64(block + 8 * i);
	sha3_permute(st);
}

void ist_keccak256(const void *data, size_t len, uint8_t out32[IST_KECCAK256_BYTES])
{
	const uint8_t *p = data;
	struct sha3_state st;
	memset(&st, 0, sizeof(st));

	while (len >= RATE) {
		absorb_block(&st, p);
		p += RATE;
		len -= RATE;
	}

	/* The last, partial block (possibly empty) with the original Keccak
	 * pad10*1: a 1 bit right after the message, a 1 bit at the end of the
	 * block. When only one byte is left for padding both land in it: 0x81. */
	uint8_t last[RATE] = { 0 };
	if (len)
		memcpy(last, p, len);
	last[len] ^= 0x01;
	last[RATE - 1] ^= 0x80;
	absorb_block(&st, last);

	/* The digest is the first 32 bytes of the state: 4 lanes, one squeeze. */
	for (int i = 0; i < IST_KECCAK256_BYTES / 8; i++)
		store_le64(out32 + 8 * i, st.a[i]);

	/* The input may be secret (a hashed key, a preimage): wipe what held it. */
	ist_wipe(last, sizeof(last));
	ist_wipe(&st, sizeof(st));
}
