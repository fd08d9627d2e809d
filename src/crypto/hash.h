/*
 * SHA-256, SHA-512 (libsodium) and tagged hashing for domain separation.
 *
 * A tagged hash is SHA-256(tag || data...), where tag is one of the ASCII
 * strings of crypto/tags.h. That is the form DESIGN.md fixes for message ids
 * and attestation digests, so that a destination chain can recompute it with
 * one plain SHA-256. Domain separation then rests on the tags being
 * prefix-free (no tag is a prefix of another), which tests/crypto checks.
 */
#ifndef IST_CRYPTO_HASH_H
#define IST_CRYPTO_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

#define IST_HASH_BYTES 32      /* SHA-256 output: every hash and id in isthmus */
#define IST_SHA512_BYTES 64

/* One-shot digests. `out` may alias nothing in `data`. */
void ist_sha256(const void *data, size_t len, uint8_t out32[IST_HASH_BYTES]);
void ist_sha512(const void *data, size_t len, uint8_t out64[IST_SHA512_BYTES]);

/* Incremental SHA-256. The state is plain memory: no _fini needed, but wipe
 * it (ist_wipe) when it has absorbed secrets. */
struct ist_sha256_ctx {
	/* large enough for libsodium's crypto_hash_sha256_state (104 bytes) */
	_Alignas(16) uint8_t opaque[128];
};

void ist_sha256_init(struct ist_sha256_ctx *ctx);
void ist_sha256_update(struct ist_sha256_ctx *ctx, const void *data, size_t len);
void ist_sha256_final(struct ist_sha256_ctx *ctx, uint8_t out32[IST_HASH_BYTES]);

/* SHA-256(tag || data). `tag` is a NUL-terminated string from crypto/tags.h;
 * the NUL is not hashed. */
void ist_tagged_hash(const char *tag, const void *data, size_t len, uint8_t out32[IST_HASH_BYTES]);

/* Starts an incremental SHA-256 that has absorbed `tag` (for data in parts). */
void ist_tagged_hash_init(struct ist_sha256_ctx *ctx, const char *tag);

#endif
