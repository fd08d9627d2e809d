#include "net/handshake.h"

#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/tags.h"
#include "net/frame.h"
#include "net/net.h"

_Static_assert(sizeof(IST_TAG_HANDSHAKE) - 1 == 20, "transcript layout assumes a 20-byte tag");
_Static_assert(IST_NET_HELLO_BYTES == 107, "HELLO layout");
_Static_assert(IST_NET_TRANSCRIPT_BYTES == 191, "transcript layout");

void ist_net_hello_encode(const struct ist_net_hello *h, uint8_t out[IST_NET_HELLO_BYTES])
{
	uint8_t *p = out;
	*p++ = IST_NET_FRAME_HELLO;
	ist_put_be16(p, h->version);
	p += 2;
	ist_put_be64(p, h->network_id);
	p += 8;
	memcpy(p, h->genesis_hash, IST_HASH_BYTES);
	p += IST_HASH_BYTES;
	memcpy(p, h->pubkey, IST_ED25519_PUBKEY_BYTES);
	p += IST_ED25519_PUBKEY_BYTES;
	memcpy(p, h->nonce, IST_NET_NONCE_BYTES);
}

int ist_net_hello_decode(const uint8_t *body, size_t len, struct ist_net_hello *ret)
{
	struct ist_cur c;
	struct ist_net_hello h;

	if (!body || len < 3 || body[0] != IST_NET_FRAME_HELLO)
		return -IST_EPARSE;
	ist_cur_init(&c, body + 1, len - 1);
	h.version = ist_cur_be16(&c);
	if (h.version != IST_NET_VERSION)
		return -IST_EUNSUPPORTED;
	h.network_id = ist_cur_be64(&c);
	ist_cur_get(&c, h.genesis_hash, sizeof(h.genesis_hash));
	ist_cur_get(&c, h.pubkey, sizeof(h.pubkey));
	ist_cur_get(&c, h.nonce, sizeof(h.nonce));
	if (!ist_cur_done(&c))
		return -IST_EPARSE;
	*ret = h;
	return 0;
}

const char *ist_net_hello_check(const struct ist_net_hello *h, uint64_t network_id,
				const uint8_t genesis32[IST_HASH_BYTES],
				const uint8_t self_pub32[IST_ED25519_PUBKEY_BYTES])
{
	if (h->network_id != network_id)
		return IST_NET_DROP_HANDSHAKE_NETWORK;
	if (memcmp(h->genesis_hash, genesis32, IST_HASH_BYTES) != 0)
		return IST_NET_DROP_HANDSHAKE_GENESIS;
	if (memcmp(h->pubkey, self_pub32, IST_ED25519_PUBKEY_BYTES) == 0)
		return IST_NET_DROP_HANDSHAKE_SELF;
	return NULL;
}

void ist_net_transcript(uint64_t network_id, const uint8_t genesis32[IST_HASH_BYTES],
			const uint8_t dialer_pub32[IST_ED25519_PUBKEY_BYTES],
			const uint8_t listener_pub32[IST_ED25519_PUBKEY_BYTES],
			const uint8_t dialer_nonce32[IST_NET_NONCE_BYTES],
			const uint8_t listener_nonce32[IST_NET_NONCE_BYTES], enum ist_net_role signer,
			uint8_t out[IST_NET_TRANSCRIPT_BYTES])
{
	uint8_t *p = out;
	memcpy(p, IST_TAG_HANDSHAKE, 20);
	p += 20;
	ist_put_be16(p, IST_NET_VERSION);
	p += 2;
	ist_put_be64(p, network_id);
	p += 8;
	memcpy(p, genesis32, IST_HASH_BYTES);
	p += IST_HASH_BYTES;
	memcpy(p, dialer_pub32, IST_ED25519_PUBKEY_BYTES);
	p += IST_ED25519_PUBKEY_BYTES;
	memcpy(p, listener_pub32, IST_ED25519_PUBKEY_BYTES);
	p += IST_ED25519_PUBKEY_BYTES;
	memcpy(p, dialer_nonce32, IST_NET_NONCE_BYTES);
	p += IST_NET_NONCE_BYTES;
	memcpy(p, listener_nonce32, IST_NET_NONCE_BYTES);
	p += IST_NET_NONCE_BYTES;
	*p = (uint8_t)signer;
}

int ist_net_auth_sign(const uint8_t seed32[IST_ED25519_SEED_BYTES],
		      const uint8_t transcript[IST_NET_TRANSCRIPT_BYTES], uint8_t out[IST_NET_AUTH_BYTES])
{
	uint8_t sig[IST_SIG_BYTES];
	int r = ist_ed25519_sign(seed32, transcript, IST_NET_TRANSCRIPT_BYTES, sig);
	if (r < 0)
		return r;
	out[0] = IST_NET_FRAME_AUTH;
	memcpy(out + 1, sig, IST_SIG_BYTES);
	return 0;
}

int ist_net_auth_decode(const uint8_t *body, size_t len, uint8_t ret_sig64[IST_SIG_BYTES])
{
	if (!body || len != IST_NET_AUTH_BYTES || body[0] != IST_NET_FRAME_AUTH)
		return -IST_EPARSE;
	memcpy(ret_sig64, body + 1, IST_SIG_BYTES);
	return 0;
}

bool ist_net_auth_verify(const uint8_t pub32[IST_ED25519_PUBKEY_BYTES],
			 const uint8_t transcript[IST_NET_TRANSCRIPT_BYTES], const uint8_t sig64[IST_SIG_BYTES])
{
	return ist_ed25519_verify(pub32, transcript, IST_NET_TRANSCRIPT_BYTES, sig64);
}
