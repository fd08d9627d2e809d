/*
 * Keccak-256 as Ethereum uses it (the original Keccak padding 0x01, not the
 * SHA3-256 padding 0x06), on nettle's public Keccak-f[1600] permutation
 * (sha3_permute): no hand-written permutation core.
 */
#ifndef IST_CRYPTO_KECCAK_H
#define IST_CRYPTO_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define IST_KECCAK256_BYTES 32

/* out32 = Keccak-256(data). keccak256("") =
 * c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470.
 * `data` may be NULL when len is 0. Cannot fail. Internal state that held the
 * input is wiped before returning. */
void ist_keccak256(const void *data, size_t len, uint8_t out32[IST_KECCAK256_BYTES]);

#endif
