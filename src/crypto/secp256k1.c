/* Our header first; libsecp256k1's own <secp256k1.h> comes in through
 * crypto/internal.h. The two names do not clash because no target uses
 * implicit include directories. */
#include "crypto/secp256k1.h"

#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <string.h>

#include "common/err.h"
#include "crypto/internal.h"
#include "crypto/keccak.h"

/* libsecp256k1 accepts recovery ids 0..3 (2 and 3 when R.x >= n, which a
 * random signature hits with probability ~2^-127); anything else is not a
 * signature, and handing it to the library would trip its argument check,
 * which aborts the process. */
/* ecrecover on EVM chains takes v = 27 or 28 only, i.e. recovery ids 0 and 1;
 * ids 2 and 3 (r >= n, probability ~2^-127) are refused everywhere. */
#define RECID_MAX 1

/* Bounded retries for a secret key out of [1, n-1]: an honest rng lands there
 * with probability 1 - 2^-128, so running out means the rng is broken (e.g.
 * returns constant bytes). */
#define GENERATE_TRIES 16

bool ist_secp_seckey_valid(const uint8_t seckey32[IST_SECP_SECKEY_BYTES])
{
	return secp256k1_ec_seckey_verify(ist_crypto_secp_ctx(), seckey32) == 1;
}

static int pubkey_serialize(const secp256k1_pubkey *pk, uint8_t out33[IST_SECP_PUBKEY_BYTES])
{
	size_t len = IST_SECP_PUBKEY_BYTES;
	if (!secp256k1_ec_pubkey_serialize(ist_crypto_secp_ctx(), out33, &len, pk, SECP256K1_EC_COMPRESSED) ||
	    len != IST_SECP_PUBKEY_BYTES)
		return -IST_ECRYPTO;
	return 0;
}

int ist_secp_pubkey(const uint8_t seckey32[IST_SECP_SECKEY_BYTES],
		    uint8_t ret_pub33[IST_SECP_PUBKEY_BYTES])
{
	secp256k1_pubkey pk;
	uint8_t out[IST_SECP_PUBKEY_BYTES];
	if (!secp256k1_ec_pubkey_create(ist_crypto_secp_ctx(), &pk, seckey32))
		return -IST_EBADKEY;
	int r = pubkey_serialize(&pk, out);
	if (r < 0)
		return r;
	memcpy(ret_pub33, out, sizeof(out));
	return 0;
}

int ist_secp_generate(const struct ist_rng *rng, uint8_t ret_seckey32[IST_SECP_SECKEY_BYTES],
		      uint8_t ret_pub33[IST_SECP_PUBKEY_BYTES])
{
	uint8_t sk[IST_SECP_SECKEY_BYTES];
	uint8_t pk[IST_SECP_PUBKEY_BYTES];
	int r = -IST_ECRYPTO;
	for (int i = 0; i < GENERATE_TRIES; i++) {
		int rr = ist_rng_fill(rng, sk, sizeof(sk));
		if (rr < 0) {
			r = rr;
			goto out;
		}
		if (ist_secp_seckey_valid(sk)) {
			r = 0;
			break;
		}
	}
	if (r < 0)
		goto out;
	/* A valid key always has a public key; a failure here is the library's. */
	if (ist_secp_pubkey(sk, pk) < 0) {
		r = -IST_ECRYPTO;
		goto out;
	}
	memcpy(ret_seckey32, sk, sizeof(sk));
	memcpy(ret_pub33, pk, sizeof(pk));
out:
	sodium_memzero(sk, sizeof(sk));
	return r;
}

int ist_secp_sign(const uint8_t seckey32[IST_SECP_SECKEY_BYTES], const uint8_t digest32[32],
		  uint8_t ret_sig65[IST_SECP_SIG_BYTES])
{
	const secp256k1_context *ctx = ist_crypto_secp_ctx();
	secp256k1_ecdsa_recoverable_signature sig;
	uint8_t out[IST_SECP_SIG_BYTES];
	int recid = -1;

	/* NULL nonce function: RFC 6979 (HMAC-SHA256), so the same key and
	 * digest always give the same signature. The library signs in low-s
	 * form and adjusts the recovery id to match. Its only failure with the
	 * default nonce function is an invalid secret key. */
	if (!secp256k1_ecdsa_sign_recoverable(ctx, &sig, digest32, seckey32, NULL, NULL))
		return -IST_EBADKEY;
	if (!secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, out, &recid, &sig) ||
	    recid < 0 || recid > RECID_MAX)
		return -IST_ECRYPTO;
	out[64] = (uint8_t)recid;
	memcpy(ret_sig65, out, sizeof(out));
	return 0;
}

/* Parses sig65 as a recoverable signature: recovery id in range and r, s
 * below the group order. Says nothing about low s. */
static bool parse_recoverable(const uint8_t sig65[IST_SECP_SIG_BYTES],
			      secp256k1_ecdsa_recoverable_signature *ret_sig)
{
	if (sig65[64] > RECID_MAX)
		return false;
	return secp256k1_ecdsa_recoverable_signature_parse_compact(ist_crypto_secp_ctx(), ret_sig, sig65,
								   sig65[64]) == 1;
}

/* True when the signature is in low-s form (s <= n/2). */
static bool is_low_s(const secp256k1_ecdsa_signature *sig)
{
	/* normalize returns 1 when it had to change (i.e. s was high) */
	return secp256k1_ecdsa_signature_normalize(ist_crypto_secp_ctx(), NULL, sig) == 0;
}

bool ist_secp_verify(const uint8_t pub33[IST_SECP_PUBKEY_BYTES], const uint8_t digest32[32],
		     const uint8_t sig65[IST_SECP_SIG_BYTES])
{
	/* Valid means what the destination will check: ecrecover on
	 * (digest, r, s, v) yields this key. A plain ECDSA check would also
	 * accept the signature with the other v, which recovers another key and
	 * would make a certificate fail on chain. */
	secp256k1_pubkey pk;
	if (!secp256k1_ec_pubkey_parse(ist_crypto_secp_ctx(), &pk, pub33, IST_SECP_PUBKEY_BYTES))
		return false;
	uint8_t rec[IST_SECP_PUBKEY_BYTES];
	if (ist_secp_recover(digest32, sig65, rec) < 0)
		return false;
	return memcmp(rec, pub33, IST_SECP_PUBKEY_BYTES) == 0;
}

int ist_secp_recover(const uint8_t digest32[32], const uint8_t sig65[IST_SECP_SIG_BYTES],
		     uint8_t ret_pub33[IST_SECP_PUBKEY_BYTES])
{
	const secp256k1_context *ctx = ist_crypto_secp_ctx();
	secp256k1_ecdsa_recoverable_signature rsig;
	secp256k1_ecdsa_signature sig;
	secp256k1_pubkey pk;
	uint8_t out[IST_SECP_PUBKEY_BYTES];

	if (!parse_recoverable(sig65, &rsig))
		return -IST_EBADSIG;
	/* Recovery itself would accept high s (and recover the same key);
	 * refuse it so that recover and verify agree on what a signature is. */
	secp256k1_ecdsa_recoverable_signature_convert(ctx, &sig, &rsig);
	if (!is_low_s(&sig))
		return -IST_EBADSIG;
	if (!secp256k1_ecdsa_recover(ctx, &pk, &rsig, digest32))
		return -IST_EBADSIG;
	int r = pubkey_serialize(&pk, out);
	if (r < 0)
		return r;
	memcpy(ret_pub33, out, sizeof(out));
	return 0;
}

int ist_secp_eth_address(const uint8_t pub33[IST_SECP_PUBKEY_BYTES],
			 uint8_t ret_addr20[IST_ETH_ADDRESS_BYTES])
{
	const secp256k1_context *ctx = ist_crypto_secp_ctx();
	secp256k1_pubkey pk;
	uint8_t full[IST_SECP_PUBKEY_UNCOMPRESSED_BYTES];
	uint8_t h[IST_KECCAK256_BYTES];
	size_t len = sizeof(full);

	if (!secp256k1_ec_pubkey_parse(ctx, &pk, pub33, IST_SECP_PUBKEY_BYTES))
		return -IST_EBADKEY;
	if (!secp256k1_ec_pubkey_serialize(ctx, full, &len, &pk, SECP256K1_EC_UNCOMPRESSED) ||
	    len != sizeof(full))
		return -IST_ECRYPTO;
	/* x || y, without the 0x04 prefix */
	ist_keccak256(full + 1, sizeof(full) - 1, h);
	memcpy(ret_addr20, h + sizeof(h) - IST_ETH_ADDRESS_BYTES, IST_ETH_ADDRESS_BYTES);
	return 0;
}

void ist_eth_address_format(const uint8_t addr20[IST_ETH_ADDRESS_BYTES], char out[43])
{
	static const char digits[] = "0123456789abcdef";
	char lower[2 * IST_ETH_ADDRESS_BYTES];
	uint8_t h[IST_KECCAK256_BYTES];

	for (size_t i = 0; i < IST_ETH_ADDRESS_BYTES; i++) {
		lower[2 * i] = digits[addr20[i] >> 4];
		lower[2 * i + 1] = digits[addr20[i] & 0x0f];
	}
	/* EIP-55: hash the 40 lower-case hex characters (ASCII, no "0x"); a
	 * letter is upper-cased when the matching nibble of the hash is >= 8. */
	ist_keccak256(lower, sizeof(lower), h);

	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < sizeof(lower); i++) {
		uint8_t nibble = (i % 2 == 0) ? (uint8_t)(h[i / 2] >> 4) : (uint8_t)(h[i / 2] & 0x0f);
		char c = lower[i];
		if (c >= 'a' && c <= 'f' && nibble >= 8)
			c = (char)(c - 'a' + 'A');
		out[2 + i] = c;
	}
	out[2 + sizeof(lower)] = '\0';
}
