/* Library start-up for the crypto module. */
#ifndef IST_CRYPTO_CRYPTO_H
#define IST_CRYPTO_CRYPTO_H

#include "common/macro.h"

/* Initialises libsodium and the shared secp256k1 context. Safe to call more
 * than once and from several threads. Returns 0 or -IST_ECRYPTO. Every
 * program calls it before any other crypto function. */
int ist_crypto_init(void) IST_WUR;

#endif
