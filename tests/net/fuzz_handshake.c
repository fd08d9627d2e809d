/*
 * libFuzzer target: the handshake decoders of outside input (net/handshake.h).
 *
 * Every input goes to both decoders, as a HELLO body and as an AUTH body.
 * A decoded HELLO must re-encode to exactly the input and pass through the
 * acceptance check without harm; a decoded AUTH signature is verified
 * against a fixed transcript (it must simply not crash). Failures must be
 * the documented codes and write nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/crypto.h"
#include "net/handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void die(const char *what)
{
	fprintf(stderr, "fuzz-net-handshake: %s\n", what);
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (ist_crypto_init() < 0)
		die("crypto init");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t self[32] = { 1 }, genesis[32] = { 2 };
	struct ist_net_hello h, untouched;
	memset(&h, 0x5c, sizeof(h));
	memcpy(&untouched, &h, sizeof(h));
	int r = ist_net_hello_decode(data, size, &h);
	if (r == 0) {
		uint8_t enc[IST_NET_HELLO_BYTES];
		ist_net_hello_encode(&h, enc);
		if (size != sizeof(enc) || memcmp(enc, data, size) != 0)
			die("HELLO: encode(decode(x)) != x");
		(void)ist_net_hello_check(&h, 7, genesis, self);
	} else {
		if (r != -IST_EPARSE && r != -IST_EUNSUPPORTED)
			die("HELLO: unexpected error code");
		if (memcmp(&h, &untouched, sizeof(h)) != 0)
			die("HELLO: output written on failure");
	}

	uint8_t sig[64];
	memset(sig, 0x5c, sizeof(sig));
	r = ist_net_auth_decode(data, size, sig);
	if (r == 0) {
		if (size != IST_NET_AUTH_BYTES || memcmp(sig, data + 1, 64) != 0)
			die("AUTH: wrong signature bytes");
		uint8_t t[IST_NET_TRANSCRIPT_BYTES];
		ist_net_transcript(7, genesis, self, genesis, self, genesis, IST_NET_ROLE_DIALER, t);
		if (ist_net_auth_verify(self, t, sig))
			die("AUTH: a forged signature verified");
	} else if (r != -IST_EPARSE) {
		die("AUTH: unexpected error code");
	}
	return 0;
}
