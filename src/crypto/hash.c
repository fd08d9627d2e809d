#include "crypto/hash.h"

#include <sodium.h>
#include <string.h>

_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((struct ist_sha256_ctx *)0)->opaque),
	       "ist_sha256_ctx too small for libsodium's state");
_Static_assert(crypto_hash_sha256_BYTES == IST_HASH_BYTES, "sha256 size");
_Static_assert(crypto_hash_sha512_BYTES == IST_SHA512_BYTES, "sha512 size");

void ist_sha256(const void *data, size_t len, uint8_t out32[IST_HASH_BYTES])
{
	crypto_hash_sha256(out32, data, len);
}

void ist_sha512(const void *data, size_t len, uint8_t out64[IST_SHA512_BYTES])
{
	crypto_hash_sha512(out64, data, len);
}

void ist_sha256_init(struct ist_sha256_ctx *ctx)
{
	crypto_hash_sha256_init((crypto_hash_sha256_state *)ctx->opaque);
}

void ist_sha256_update(struct ist_sha256_ctx *ctx, const void *data, size_t len)
{
	crypto_hash_sha256_update((crypto_hash_sha256_state *)ctx->opaque, data, len);
}

void ist_sha256_final(struct ist_sha256_ctx *ctx, uint8_t out32[IST_HASH_BYTES])
{
	crypto_hash_sha256_final((crypto_hash_sha256_state *)ctx->opaque, out32);
}

void ist_tagged_hash_init(struct ist_sha256_ctx *ctx, const char *tag)
{
	ist_sha256_init(ctx);
	ist_sha256_update(ctx, tag, strlen(tag));
}

void ist_tagged_hash(const char *tag, const void *data, size_t len, uint8_t out32[IST_HASH_BYTES])
{
	struct ist_sha256_ctx ctx;
	ist_tagged_hash_init(&ctx, tag);
	ist_sha256_update(&ctx, data, len);
	ist_sha256_final(&ctx, out32);
}
