#include "crypto/crypto.h"

#include <pthread.h>
#include <sodium.h>

#include "common/err.h"
#include "crypto/internal.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_result = -IST_ECRYPTO;
static secp256k1_context *secp_ctx;

static void do_init(void)
{
	if (sodium_init() < 0)
		return;
	secp_ctx = secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
	if (!secp_ctx)
		return;
	unsigned char seed[32];
	randombytes_buf(seed, sizeof(seed));
	int ok = secp256k1_context_randomize(secp_ctx, seed);
	sodium_memzero(seed, sizeof(seed));
	if (!ok)
		return;
	init_result = 0;
}

int ist_crypto_init(void)
{
	pthread_once(&once, do_init);
	return init_result;
}

const secp256k1_context *ist_crypto_secp_ctx(void)
{
	IST_REQUIRE(ist_crypto_init() == 0);
	return secp_ctx;
}
