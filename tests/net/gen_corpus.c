/*
 * Writes the seed corpora of the net fuzz targets, deterministically:
 *
 *   net-gen-corpus DIR      (DIR is tests/fuzz/corpus in the source tree)
 *
 * DIR/net-handshake/: a valid HELLO and AUTH, and broken variants (another
 * version, truncated, one byte long, a wrong type, a flipped byte).
 * DIR/net-frame/: streams of whole frames cut at various chunk sizes, an
 * oversized prefix, a zero prefix, a truncated frame, PING/PONG. Files the fuzzers
 * found are kept beside them (this program never deletes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/bytes.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "net/frame.h"
#include "net/handshake.h"

static const char *root;

static void die(const char *what)
{
	fprintf(stderr, "net-gen-corpus: %s\n", what);
	exit(1);
}

static void write_file(const char *target, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, target);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
		die(path);
}

static void handshake_seeds(void)
{
	uint8_t seed[32], pub[32];
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(i + 1);
	if (ist_ed25519_pubkey(seed, pub) < 0)
		die("pubkey");
	struct ist_net_hello h = { .version = IST_NET_VERSION, .network_id = 7 };
	memset(h.genesis_hash, 0x6e, 32);
	memcpy(h.pubkey, pub, 32);
	memset(h.nonce, 0xa5, 32);
	uint8_t hello[IST_NET_HELLO_BYTES];
	ist_net_hello_encode(&h, hello);
	write_file("net-handshake", "hello", hello, sizeof(hello));
	write_file("net-handshake", "hello-cut1", hello, sizeof(hello) - 1);
	write_file("net-handshake", "hello-head", hello, 3);
	write_file("net-handshake", "one-byte", hello, 1);
	uint8_t v2[IST_NET_HELLO_BYTES];
	memcpy(v2, hello, sizeof(v2));
	ist_put_be16(v2 + 1, 2);
	write_file("net-handshake", "hello-v2", v2, sizeof(v2));
	memcpy(v2, hello, sizeof(v2));
	v2[0] = IST_NET_FRAME_ENVELOPE;
	write_file("net-handshake", "hello-wrong-type", v2, sizeof(v2));

	uint8_t t[IST_NET_TRANSCRIPT_BYTES], auth[IST_NET_AUTH_BYTES];
	ist_net_transcript(7, h.genesis_hash, pub, pub, h.nonce, h.nonce, IST_NET_ROLE_DIALER, t);
	if (ist_net_auth_sign(seed, t, auth) < 0)
		die("sign");
	write_file("net-handshake", "auth", auth, sizeof(auth));
	write_file("net-handshake", "auth-cut1", auth, sizeof(auth) - 1);
	auth[20] ^= 0x10;
	write_file("net-handshake", "auth-flip", auth, sizeof(auth));
}

/* Target input: limit selector, chunk selector, stream. */
static void frame_seed(const char *name, uint8_t limit_sel, uint8_t chunk_sel, const uint8_t *s, size_t n)
{
	uint8_t *buf = malloc(n + 2);
	if (!buf)
		die("out of memory");
	buf[0] = limit_sel;
	buf[1] = chunk_sel;
	memcpy(buf + 2, s, n);
	write_file("net-frame", name, buf, n + 2);
	free(buf);
}

static void frame_seeds(void)
{
	uint8_t s[600];
	size_t n = 0;
	/* three frames: 10, 1 and 200 body bytes */
	size_t sizes[3] = { 10, 1, 200 };
	for (int k = 0; k < 3; k++) {
		ist_put_be32(s + n, (uint32_t)sizes[k]);
		n += 4;
		for (size_t i = 0; i < sizes[k]; i++)
			s[n++] = (uint8_t)(k + 1 + i);
	}
	frame_seed("three-whole", 4, 36, s, n);    /* limit 300, chunks of 37 */
	frame_seed("three-bytewise", 4, 0, s, n);  /* chunks of 1 */
	frame_seed("three-tight", 3, 5, s, n);     /* limit 107: the third is too big */
	frame_seed("three-cut", 4, 10, s, n - 7);  /* truncated */
	uint8_t big[8] = { 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4 };
	frame_seed("oversized", 6, 3, big, sizeof(big));
	uint8_t zero[6] = { 0, 0, 0, 0, 1, 1 };
	frame_seed("zero", 6, 3, zero, sizeof(zero));
	uint8_t tiny[5] = { 0, 0, 0, 1, 4 };
	frame_seed("goodbye", 0, 0, tiny, sizeof(tiny));
	/* the heartbeat: PING, PONG, a PING with a (reserved, ignored) payload */
	uint8_t hb[] = { 0, 0, 0, 1, IST_NET_FRAME_PING, 0, 0, 0, 1, IST_NET_FRAME_PONG,
			 0, 0, 0, 3, IST_NET_FRAME_PING, 0xaa, 0xbb };
	frame_seed("heartbeat", 1, 2, hb, sizeof(hb)); /* limit 5: the last is too big */
	frame_seed("heartbeat-wide", 2, 0, hb, sizeof(hb));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: net-gen-corpus DIR\n");
		return 2;
	}
	if (ist_crypto_init() < 0)
		die("crypto init");
	root = argv[1];
	handshake_seeds();
	frame_seeds();
	return 0;
}
