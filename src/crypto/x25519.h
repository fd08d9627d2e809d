/*
 * X25519 keys (libsodium crypto_box): the DKG key each validator publishes so
 * that dealers can encrypt secret shares to it (crypto_box_seal).
 */
#ifndef IST_CRYPTO_X25519_H
#define IST_CRYPTO_X25519_H

#include <stdint.h>

#include "common/macro.h"
#include "common/rng.h"

#define IST_X25519_SECKEY_BYTES 32
#define IST_X25519_PUBKEY_BYTES 32

/* Makes a new key from `rng`. Returns 0, -IST_EIO or -IST_ECRYPTO. */
int ist_x25519_generate(const struct ist_rng *rng, uint8_t ret_sec32[IST_X25519_SECKEY_BYTES],
			uint8_t ret_pub32[IST_X25519_PUBKEY_BYTES]) IST_WUR;

/* Public key of a secret key. Returns 0 or -IST_ECRYPTO. */
int ist_x25519_pubkey(const uint8_t sec32[IST_X25519_SECKEY_BYTES],
		      uint8_t ret_pub32[IST_X25519_PUBKEY_BYTES]) IST_WUR;

#endif
