#include "crypto/x25519.h"

#include <sodium.h>
#include <string.h>

#include "common/err.h"

_Static_assert(crypto_box_SECRETKEYBYTES == IST_X25519_SECKEY_BYTES, "x25519 secret key size");
_Static_assert(crypto_box_PUBLICKEYBYTES == IST_X25519_PUBKEY_BYTES, "x25519 public key size");
_Static_assert(crypto_scalarmult_SCALARBYTES == IST_X25519_SECKEY_BYTES, "x25519 scalar size");
_Static_assert(crypto_scalarmult_BYTES == IST_X25519_PUBKEY_BYTES, "x25519 point size");

/*
 * This is crypto_box_keypair() with our rng in place of randombytes: the
 * secret is 32 random bytes kept as drawn, and crypto_scalarmult_base clamps
 * a copy (clear bits 0-2 and 255, set bit 254) each time it is used, as
 * crypto_box_beforenm and crypto_box_seal_open do too. So the keys are
 * interchangeable with libsodium's own crypto_box keys.
 */

int ist_x25519_pubkey(const uint8_t sec32[IST_X25519_SECKEY_BYTES],
		      uint8_t ret_pub32[IST_X25519_PUBKEY_BYTES])
{
	uint8_t pk[IST_X25519_PUBKEY_BYTES];
	if (crypto_scalarmult_base(pk, sec32) != 0)
		return -IST_ECRYPTO;
	memcpy(ret_pub32, pk, sizeof(pk));
	return 0;
}

int ist_x25519_generate(const struct ist_rng *rng, uint8_t ret_sec32[IST_X25519_SECKEY_BYTES],
			uint8_t ret_pub32[IST_X25519_PUBKEY_BYTES])
{
	uint8_t sk[IST_X25519_SECKEY_BYTES];
	uint8_t pk[IST_X25519_PUBKEY_BYTES];
	int r = ist_rng_fill(rng, sk, sizeof(sk));
	if (r < 0)
		goto out;
	r = ist_x25519_pubkey(sk, pk);
	if (r < 0)
		goto out;
	memcpy(ret_sec32, sk, sizeof(sk));
	memcpy(ret_pub32, pk, sizeof(pk));
out:
	sodium_memzero(sk, sizeof(sk));
	return r;
}
