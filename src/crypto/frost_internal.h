/*
 * Helpers shared by frost.c and dkg.c; internal to src/crypto.
 */
#ifndef IST_CRYPTO_FROST_INTERNAL_H
#define IST_CRYPTO_FROST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/rng.h"
#include "crypto/frost.h"
#include "crypto/ge25519.h"

/* True when s32 is all zero (constant time). */
bool ist_frost_scalar_is_zero(const uint8_t s32[IST_FROST_SCALAR_BYTES]) IST_WUR;

/* f(x) = sum coeffs[k] x^k mod L, t >= 1 coefficients (SECRET: libsodium
 * arithmetic; temporaries wiped). */
void ist_frost_poly_eval(const uint8_t (*coeffs)[IST_FROST_SCALAR_BYTES], uint16_t t, uint16_t x,
			 uint8_t ret32[IST_FROST_SCALAR_BYTES]);

/* sum_k pts[k] x^k over public points (variable time). t >= 1. */
void ist_frost_point_poly_eval(const struct ist_ge *pts, uint16_t t, uint16_t x, struct ist_ge *ret);

/* `count` uniform non-zero scalars from rng (64 bytes each, reduced).
 * Returns 0, the rng's error, or -IST_ECRYPTO (a broken rng). */
int ist_frost_random_scalars(const struct ist_rng *rng, uint8_t (*out)[IST_FROST_SCALAR_BYTES], size_t count) IST_WUR;

/* z = hiding + binding * rho + lambda * share * c (constant time). Returns 0. */
int ist_frost_share_compute(const uint8_t share32[IST_FROST_SCALAR_BYTES], const struct ist_frost_nonce *nonce,
			    const uint8_t rho32[IST_FROST_SCALAR_BYTES], const uint8_t lambda32[IST_FROST_SCALAR_BYTES],
			    const uint8_t c32[IST_FROST_SCALAR_BYTES], uint8_t ret_z32[IST_FROST_SCALAR_BYTES]);

#endif
