/*
 * secp256k1 recoverable ECDSA (libsecp256k1): attestation keys, whose
 * signatures a destination on an EVM chain checks with ecrecover.
 *
 * Signatures are 65 bytes: r (32, big-endian) || s (32, big-endian, low-s
 * normalised: s <= n/2) || v (1, the recovery id 0 or 1; EVM callers add 27).
 * Recovery ids 2 and 3 (r overflowed the group order, probability ~2^-127)
 * are refused everywhere, because ecrecover on an EVM chain takes only 27/28.
 * They sign a 32-byte digest the caller computed (ist_tagged_hash), never raw
 * data.
 *
 * Public keys are always the 33-byte compressed form; an input key that is
 * not a valid compressed point is refused. Outputs are written only on
 * success. ist_crypto_init() must have succeeded.
 */
#ifndef IST_CRYPTO_SECP256K1_H
#define IST_CRYPTO_SECP256K1_H

#include <stdbool.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/rng.h"

#define IST_SECP_SECKEY_BYTES 32
#define IST_SECP_PUBKEY_BYTES 33          /* compressed SEC1 */
#define IST_SECP_PUBKEY_UNCOMPRESSED_BYTES 65
#define IST_SECP_SIG_BYTES 65             /* r || s || recid */
#define IST_ETH_ADDRESS_BYTES 20

/* True when seckey32, read as a big-endian integer k, is a valid secret key
 * (0 < k < n, the group order). */
bool ist_secp_seckey_valid(const uint8_t seckey32[IST_SECP_SECKEY_BYTES]) IST_WUR;

/* Makes a new key from `rng`: 32 bytes drawn until they form a valid key, at
 * most 16 draws. Returns 0, the rng's error (-IST_EIO), or -IST_ECRYPTO when
 * no draw was valid (a broken rng: an honest one fails a draw with
 * probability ~2^-128). */
int ist_secp_generate(const struct ist_rng *rng, uint8_t ret_seckey32[IST_SECP_SECKEY_BYTES],
		      uint8_t ret_pub33[IST_SECP_PUBKEY_BYTES]) IST_WUR;

/* Compressed public key of a secret key. Returns 0 or -IST_EBADKEY (secret
 * key out of range). */
int ist_secp_pubkey(const uint8_t seckey32[IST_SECP_SECKEY_BYTES],
		    uint8_t ret_pub33[IST_SECP_PUBKEY_BYTES]) IST_WUR;

/* Signs digest32 (RFC 6979 nonces with HMAC-SHA256, so the same key and
 * digest always give the same signature; low s; the recovery id set to
 * match). Returns 0, -IST_EBADKEY (secret key out of range) or -IST_ECRYPTO
 * (the signature would need recovery id 2 or 3: probability ~2^-127). */
int ist_secp_sign(const uint8_t seckey32[IST_SECP_SECKEY_BYTES], const uint8_t digest32[32],
		  uint8_t ret_sig65[IST_SECP_SIG_BYTES]) IST_WUR;

/* True when sig65 is a signature of digest32 that ecrecover attributes to
 * pub33: a valid low-s ECDSA signature whose recovery id (0 or 1) recovers
 * exactly pub33. So a signature with the wrong v is refused here, as it would
 * be on chain. Also false for r or s of 0 or not below n, high s, and a pub33
 * that is not a compressed point. */
bool ist_secp_verify(const uint8_t pub33[IST_SECP_PUBKEY_BYTES], const uint8_t digest32[32],
		     const uint8_t sig65[IST_SECP_SIG_BYTES]) IST_WUR;

/* Recovers the signer's compressed public key from sig65 over digest32.
 * Success means sig65 is a valid signature of digest32 by that key.
 * Returns 0 or -IST_EBADSIG (recovery id above 1, r or s out of range, high s,
 * or no key recovers). */
int ist_secp_recover(const uint8_t digest32[32], const uint8_t sig65[IST_SECP_SIG_BYTES],
		     uint8_t ret_pub33[IST_SECP_PUBKEY_BYTES]) IST_WUR;

/* The Ethereum address of a public key: the last 20 bytes of
 * Keccak-256(uncompressed point without its 0x04 prefix).
 * Returns 0 or -IST_EBADKEY (pub33 is not a compressed point). */
int ist_secp_eth_address(const uint8_t pub33[IST_SECP_PUBKEY_BYTES],
			 uint8_t ret_addr20[IST_ETH_ADDRESS_BYTES]) IST_WUR;

/* EIP-55 mixed-case checksummed form of addr20 into out: "0x", 40 hex digits
 * (a letter upper-cased when the matching nibble of Keccak-256 of the
 * lower-case hex is >= 8), NUL; 43 bytes in all. Cannot fail. */
void ist_eth_address_format(const uint8_t addr20[IST_ETH_ADDRESS_BYTES], char out[43]);

#endif
