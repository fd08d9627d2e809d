/*
 * secp256k1 recoverable ECDSA (libsecp256k1): attestation keys, whose
 * signatures a destination on an EVM chain checks with ecrecover.
 *
 * Signatures are 65 bytes: r (32, big-endian) || s (32, low-s normalised) ||
 * v (1, the recovery id 0 or 1; EVM callers add 27). They sign a 32-byte
 * digest the caller computed (ist_tagged_hash), never raw data.
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

/* Checks that seckey32 is a valid secret key (0 < k < n). */
bool ist_secp_seckey_valid(const uint8_t seckey32[IST_SECP_SECKEY_BYTES]) IST_WUR;

/* Makes a new key from `rng`. Returns 0, -IST_EIO or -IST_ECRYPTO. */
int ist_secp_generate(const struct ist_rng *rng, uint8_t ret_seckey32[IST_SECP_SECKEY_BYTES],
		      uint8_t ret_pub33[IST_SECP_PUBKEY_BYTES]) IST_WUR;

/* Compressed public key of a secret key. Returns 0 or -IST_EBADKEY. */
int ist_secp_pubkey(const uint8_t seckey32[IST_SECP_SECKEY_BYTES],
		    uint8_t ret_pub33[IST_SECP_PUBKEY_BYTES]) IST_WUR;

/* Signs digest32 (RFC 6979 nonces, low s). Returns 0 or -IST_EBADKEY. */
int ist_secp_sign(const uint8_t seckey32[IST_SECP_SECKEY_BYTES], const uint8_t digest32[32],
		  uint8_t ret_sig65[IST_SECP_SIG_BYTES]) IST_WUR;

/* True when sig65 is a valid low-s signature of digest32 by pub33. */
bool ist_secp_verify(const uint8_t pub33[IST_SECP_PUBKEY_BYTES], const uint8_t digest32[32],
		     const uint8_t sig65[IST_SECP_SIG_BYTES]) IST_WUR;

/* Recovers the signer's compressed public key from sig65 over digest32.
 * Returns 0 or -IST_EBADSIG. */
int ist_secp_recover(const uint8_t digest32[32], const uint8_t sig65[IST_SECP_SIG_BYTES],
		     uint8_t ret_pub33[IST_SECP_PUBKEY_BYTES]) IST_WUR;

/* The Ethereum address of a public key: the last 20 bytes of
 * Keccak-256(uncompressed point without its 0x04 prefix).
 * Returns 0 or -IST_EBADKEY. */
int ist_secp_eth_address(const uint8_t pub33[IST_SECP_PUBKEY_BYTES],
			 uint8_t ret_addr20[IST_ETH_ADDRESS_BYTES]) IST_WUR;

/* EIP-55 mixed-case checksummed form "0x..." of addr20 into out (43 bytes
 * with the NUL). */
void ist_eth_address_format(const uint8_t addr20[IST_ETH_ADDRESS_BYTES], char out[43]);

#endif
