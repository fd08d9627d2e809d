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

/* Makes a new key from `rng`, as crypto_box_keypair() does: the secret is 32
 * bytes drawn from it, kept as drawn (X25519 clamps a copy at each use), and
 * the public key is crypto_scalarmult_base of it. The pair works with
 * crypto_box and crypto_box_seal/_seal_open. Outputs are written only on
 * success. Returns 0, the rng's error (-IST_EIO) or -IST_ECRYPTO. */
int ist_x25519_generate(const struct ist_rng *rng, uint8_t ret_sec32[IST_X25519_SECKEY_BYTES],
			uint8_t ret_pub32[IST_X25519_PUBKEY_BYTES]) IST_WUR;

/* Public key of a secret key (any 32 bytes; clamped internally). Returns 0 or
 * -IST_ECRYPTO (libsodium failure; not expected). */
int ist_x25519_pubkey(const uint8_t sec32[IST_X25519_SECKEY_BYTES],
		      uint8_t ret_pub32[IST_X25519_PUBKEY_BYTES]) IST_WUR;

#endif
