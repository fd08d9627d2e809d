/*
 * The peer handshake: a mutual challenge-response that proves, on every new
 * connection, that the other end holds the Ed25519 node key it claims and
 * runs the same network (network id and genesis hash).
 *
 *   both sides, at once:   HELLO {version, network_id, genesis_hash, pubkey, nonce}
 *   on the peer's HELLO:   AUTH  {Ed25519(my seed, transcript(signer = my role))}
 *   on the peer's AUTH:    verify under the pubkey of its HELLO -> authenticated
 *
 * The transcript binds both keys and both fresh nonces in a fixed order
 * (dialer first) and the signer's role, so a signature is good for one
 * connection and one direction only: replaying an AUTH from an earlier
 * connection fails against the new nonce, and reflecting a peer's own AUTH
 * back fails on the role byte. Byte layouts: docs/protocol/transport.md.
 *
 * These functions are pure (no I/O, no allocation); net.c drives them.
 */
#ifndef IST_NET_HANDSHAKE_H
#define IST_NET_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"

#define IST_NET_VERSION 1
#define IST_NET_NONCE_BYTES 32

/* Frame bodies (type byte included). */
#define IST_NET_HELLO_BYTES (1 + 2 + 8 + IST_HASH_BYTES + IST_ED25519_PUBKEY_BYTES + IST_NET_NONCE_BYTES) /* 107 */
#define IST_NET_AUTH_BYTES (1 + IST_SIG_BYTES) /* 65 */

/* The signed bytes: tag (20) || version be16 || network_id be64 ||
 * genesis_hash || dialer pubkey || listener pubkey || dialer nonce ||
 * listener nonce || signer role u8. */
#define IST_NET_TRANSCRIPT_BYTES \
	(20 + 2 + 8 + IST_HASH_BYTES + 2 * IST_ED25519_PUBKEY_BYTES + 2 * IST_NET_NONCE_BYTES + 1) /* 191 */

struct ist_net_hello {
	uint16_t version;
	uint64_t network_id;
	uint8_t genesis_hash[IST_HASH_BYTES];
	uint8_t pubkey[IST_ED25519_PUBKEY_BYTES];
	uint8_t nonce[IST_NET_NONCE_BYTES];
};

enum ist_net_role {
	IST_NET_ROLE_DIALER = 1,
	IST_NET_ROLE_LISTENER = 2,
};

/* Writes the HELLO frame body (type byte first). */
void ist_net_hello_encode(const struct ist_net_hello *h, uint8_t out[IST_NET_HELLO_BYTES]);

/* Decodes a HELLO frame body (type byte first) of untrusted bytes.
 * Returns 0 and *ret; -IST_EUNSUPPORTED when the version is not
 * IST_NET_VERSION (checked first, so that a later version may change the
 * layout); -IST_EPARSE for a wrong type byte or length. *ret is written only
 * on success. */
int ist_net_hello_decode(const uint8_t *body, size_t len, struct ist_net_hello *ret) IST_WUR;

/* Checks a decoded HELLO against this node: network id, genesis hash, and
 * that the key is not our own (`self_pub32`). Returns NULL when acceptable,
 * or the drop reason (IST_NET_DROP_HANDSHAKE_* of net/net.h, static). The
 * validator-set check is the caller's. */
const char *ist_net_hello_check(const struct ist_net_hello *h, uint64_t network_id,
				const uint8_t genesis32[IST_HASH_BYTES],
				const uint8_t self_pub32[IST_ED25519_PUBKEY_BYTES]);

/* Builds the transcript the `signer` signs (layout above). */
void ist_net_transcript(uint64_t network_id, const uint8_t genesis32[IST_HASH_BYTES],
			const uint8_t dialer_pub32[IST_ED25519_PUBKEY_BYTES],
			const uint8_t listener_pub32[IST_ED25519_PUBKEY_BYTES],
			const uint8_t dialer_nonce32[IST_NET_NONCE_BYTES],
			const uint8_t listener_nonce32[IST_NET_NONCE_BYTES], enum ist_net_role signer,
			uint8_t out[IST_NET_TRANSCRIPT_BYTES]);

/* Signs a transcript with the node seed and writes the AUTH frame body.
 * Returns 0 or -IST_ECRYPTO; out is written only on success. */
int ist_net_auth_sign(const uint8_t seed32[IST_ED25519_SEED_BYTES],
		      const uint8_t transcript[IST_NET_TRANSCRIPT_BYTES], uint8_t out[IST_NET_AUTH_BYTES]) IST_WUR;

/* Decodes an AUTH frame body (type byte first) of untrusted bytes.
 * Returns 0 and ret_sig64, or -IST_EPARSE (wrong type or length). */
int ist_net_auth_decode(const uint8_t *body, size_t len, uint8_t ret_sig64[IST_SIG_BYTES]) IST_WUR;

/* True when sig64 is pub32's signature of the transcript. */
bool ist_net_auth_verify(const uint8_t pub32[IST_ED25519_PUBKEY_BYTES],
			 const uint8_t transcript[IST_NET_TRANSCRIPT_BYTES],
			 const uint8_t sig64[IST_SIG_BYTES]) IST_WUR;

#endif
