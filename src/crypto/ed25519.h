/*
 * Ed25519 (RFC 8032, libsodium): node keys, consensus signatures.
 *
 * A secret key is the 32-byte seed of RFC 8032; the 64-byte libsodium form
 * (seed || public key) is derived when signing and wiped afterwards. Callers
 * keep seeds in sodium_malloc'd memory when they live long.
 */
#ifndef IST_CRYPTO_ED25519_H
#define IST_CRYPTO_ED25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/rng.h"

#define IST_ED25519_SEED_BYTES 32
#define IST_ED25519_PUBKEY_BYTES 32
#define IST_SIG_BYTES 64   /* an Ed25519 signature */

/* Derives the public key of a seed. Returns 0 or -IST_ECRYPTO (libsodium
 * failure; not expected). Outputs are written only on success, here and
 * below. */
int ist_ed25519_pubkey(const uint8_t seed32[IST_ED25519_SEED_BYTES],
		       uint8_t ret_pub32[IST_ED25519_PUBKEY_BYTES]) IST_WUR;

/* Makes a new key from `rng` (pass ist_rng_system() for real keys): the seed
 * is 32 bytes drawn from it. Out: seed and public key. Returns 0, the rng's
 * error (-IST_EIO) or -IST_ECRYPTO. */
int ist_ed25519_generate(const struct ist_rng *rng, uint8_t ret_seed32[IST_ED25519_SEED_BYTES],
			 uint8_t ret_pub32[IST_ED25519_PUBKEY_BYTES]) IST_WUR;

/* Signs `msg` (pure Ed25519 of RFC 8032, deterministic: the same seed and
 * message always give the same signature). `msg` may be NULL when msg_len is
 * 0. The expanded secret key is derived for the call and wiped before it
 * returns. Returns 0 or -IST_ECRYPTO. */
int ist_ed25519_sign(const uint8_t seed32[IST_ED25519_SEED_BYTES], const uint8_t *msg, size_t msg_len,
		     uint8_t ret_sig64[IST_SIG_BYTES]) IST_WUR;

/* True when sig64 is a valid signature of msg under pub32. Rejects small-order
 * and non-canonical keys and signatures (libsodium's strict checks), and any S
 * not below the group order L (no malleated S + L). `msg` may be NULL when
 * msg_len is 0. */
bool ist_ed25519_verify(const uint8_t pub32[IST_ED25519_PUBKEY_BYTES], const uint8_t *msg, size_t msg_len,
			const uint8_t sig64[IST_SIG_BYTES]) IST_WUR;

#endif
