/* Shared state of the crypto module; not for other modules. */
#ifndef IST_CRYPTO_INTERNAL_H
#define IST_CRYPTO_INTERNAL_H

#include <secp256k1.h>

/* The process-wide secp256k1 context (signing and verification, randomized
 * against side channels), created by ist_crypto_init(). Never NULL after a
 * successful init. */
const secp256k1_context *ist_crypto_secp_ctx(void);

#endif
