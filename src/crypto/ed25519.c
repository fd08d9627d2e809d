#include "crypto/ed25519.h"

#include <sodium.h>
#include <string.h>

#include "common/err.h"

_Static_assert(crypto_sign_SEEDBYTES == IST_ED25519_SEED_BYTES, "ed25519 seed size");
_Static_assert(crypto_sign_PUBLICKEYBYTES == IST_ED25519_PUBKEY_BYTES, "ed25519 public key size");
_Static_assert(crypto_sign_BYTES == IST_SIG_BYTES, "ed25519 signature size");

/* A NULL message of length 0 is an empty message; libsodium is handed a real
 * pointer all the same. */
static const uint8_t empty_msg[1];

int ist_ed25519_pubkey(const uint8_t seed32[IST_ED25519_SEED_BYTES],
		       uint8_t ret_pub32[IST_ED25519_PUBKEY_BYTES])
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	int r = crypto_sign_seed_keypair(pk, sk, seed32);
	sodium_memzero(sk, sizeof(sk));
	if (r != 0)
		return -IST_ECRYPTO;
	memcpy(ret_pub32, pk, sizeof(pk));
	return 0;
}

int ist_ed25519_generate(const struct ist_rng *rng, uint8_t ret_seed32[IST_ED25519_SEED_BYTES],
			 uint8_t ret_pub32[IST_ED25519_PUBKEY_BYTES])
{
	uint8_t seed[IST_ED25519_SEED_BYTES];
	uint8_t pk[IST_ED25519_PUBKEY_BYTES];
	int r = ist_rng_fill(rng, seed, sizeof(seed));
	if (r < 0)
		goto out;
	r = ist_ed25519_pubkey(seed, pk);
	if (r < 0)
		goto out;
	memcpy(ret_seed32, seed, sizeof(seed));
	memcpy(ret_pub32, pk, sizeof(pk));
out:
	sodium_memzero(seed, sizeof(seed));
	return r;
}

int ist_ed25519_sign(const uint8_t seed32[IST_ED25519_SEED_BYTES], const uint8_t *msg, size_t msg_len,
		     uint8_t ret_sig64[IST_SIG_BYTES])
{
	IST_REQUIRE(msg != NULL || msg_len == 0);
	if (!msg)
		msg = empty_msg;

	/* libsodium signs with the expanded form seed || public key; it lives
	 * only for this call. */
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sig[crypto_sign_BYTES];
	int r = -IST_ECRYPTO;
	if (crypto_sign_seed_keypair(pk, sk, seed32) != 0)
		goto out;
	if (crypto_sign_detached(sig, NULL, msg, msg_len, sk) != 0)
		goto out;
	memcpy(ret_sig64, sig, sizeof(sig));
	r = 0;
out:
	sodium_memzero(sk, sizeof(sk));
	return r;
}

bool ist_ed25519_verify(const uint8_t pub32[IST_ED25519_PUBKEY_BYTES], const uint8_t *msg, size_t msg_len,
			const uint8_t sig64[IST_SIG_BYTES])
{
	IST_REQUIRE(msg != NULL || msg_len == 0);
	if (!msg)
		msg = empty_msg;
	return crypto_sign_verify_detached(sig64, msg, msg_len, pub32) == 0;
}
