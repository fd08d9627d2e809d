/*
 * A FROST(Ed25519, SHA-512) signature is a standard Ed25519 signature:
 * OpenSSL's `openssl pkeyutl -verify -rawin` accepts it under the group key,
 * given as a DER SubjectPublicKeyInfo (RFC 8410), and refuses it tampered.
 * Checked for the RFC 9591 vector's signature and for a fresh 7-of-10
 * signature. Exit status: 0 pass, 1 fail, 77 skip (no openssl on PATH).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/frost.h"

#define SB IST_FROST_SCALAR_BYTES
#define EB IST_FROST_ELEMENT_BYTES

static char dir[256];
static int failures;

static void check(int ok, const char *what)
{
	printf("%s - %s\n", ok ? "ok" : "not ok", what);
	if (!ok)
		failures++;
}

static int write_file(const char *name, const void *p, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t w = fwrite(p, 1, len, f);
	return fclose(f) == 0 && w == len ? 0 : -1;
}

/* 0 when openssl verifies sig over msg under the Ed25519 key pub32 */
static int openssl_verify(const uint8_t pub32[EB], const uint8_t *msg, size_t msg_len, const uint8_t sig64[64])
{
	/* SubjectPublicKeyInfo { AlgorithmIdentifier { id-Ed25519 (1.3.101.112) }, BIT STRING key } */
	static const uint8_t spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
	uint8_t der[44];
	memcpy(der, spki_prefix, sizeof(spki_prefix));
	memcpy(der + sizeof(spki_prefix), pub32, EB);
	if (write_file("pub.der", der, sizeof(der)) || write_file("msg", msg, msg_len) || write_file("sig", sig64, 64))
		return -1;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "openssl pkeyutl -verify -pubin -inkey '%s/pub.der' -keyform DER -rawin -in '%s/msg' "
		 "-sigfile '%s/sig' >/dev/null 2>&1",
		 dir, dir, dir);
	return system(cmd) == 0 ? 0 : 1;
}

static int vector_sig(uint8_t pub[EB], uint8_t *msg, size_t *msg_len, uint8_t sig[64])
{
	const char *vdir = getenv("IST_TEST_VECTORS");
	if (!vdir)
		return -1;
	char path[512];
	snprintf(path, sizeof(path), "%s/rfc9591-frost-ed25519-sha512.json", vdir);
	json_t *root = json_load_file(path, 0, NULL);
	if (!root)
		return -1;
	json_t *v = json_object_get(root, "values");
	const char *m = json_string_value(json_object_get(v, "message"));
	int r = -1;
	if (m && strlen(m) / 2 <= 64 &&
	    ist_hex_decode(json_string_value(json_object_get(v, "group_public_key")), pub, EB) == 0 &&
	    ist_hex_decode(json_string_value(json_object_get(v, "sig")), sig, 64) == 0 &&
	    ist_hex_decode(m, msg, strlen(m) / 2) == 0) {
		*msg_len = strlen(m) / 2;
		r = 0;
	}
	json_decref(root);
	return r;
}

/* a 7-of-10 signature with keys from the trusted dealer */
static int fresh_sig(uint8_t pub[EB], const uint8_t *msg, size_t msg_len, uint8_t sig[64])
{
	struct ist_rng_det rng;
	ist_rng_det_init(&rng, 8410);
	uint8_t shares[10][SB], pubs[10][EB], vss[7][EB];
	if (ist_frost_keygen_random(&rng.rng, 7, 10, shares, vss, pub) != 0)
		return -1;
	static const uint16_t ids[7] = {1, 2, 4, 5, 7, 8, 10};
	struct ist_frost_nonce nonces[7];
	struct ist_frost_commitment list[7];
	uint8_t z[7][SB], zp[7][EB];
	for (int k = 0; k < 7; k++) {
		if (ist_frost_commit_random(&rng.rng, shares[ids[k] - 1], &nonces[k]) != 0 ||
		    ist_frost_pubkey(shares[ids[k] - 1], pubs[k]) != 0)
			return -1;
		list[k].id = ids[k];
		memcpy(list[k].hiding, nonces[k].hiding_commit, EB);
		memcpy(list[k].binding, nonces[k].binding_commit, EB);
	}
	struct ist_frost_session *s;
	if (ist_frost_session_new(pub, list, 7, &s) != 0)
		return -1;
	int r = ist_frost_session_bind(s, msg, msg_len);
	for (int k = 0; r == 0 && k < 7; k++) {
		r = ist_frost_session_sign(s, ids[k], shares[ids[k] - 1], &nonces[k], z[k]);
		memcpy(zp[k], pubs[k], EB);
	}
	if (r == 0)
		r = ist_frost_session_aggregate(s, (const uint8_t (*)[EB])zp, (const uint8_t (*)[SB])z, sig, NULL);
	ist_frost_session_free(s);
	return r;
}

int main(void)
{
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		printf("1..0 # SKIP openssl not found\n");
		return 77;
	}
	if (ist_crypto_init() != 0)
		return 1;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof(dir), "%s/frost-openssl-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	printf("1..4\n");
	uint8_t pub[EB], msg[64], sig[64];
	size_t msg_len = 0;
	int r = vector_sig(pub, msg, &msg_len, sig);
	check(r == 0 && openssl_verify(pub, msg, msg_len, sig) == 0, "openssl verifies the RFC 9591 vector signature");

	const uint8_t root[32] = "isthmus batch root, 32 bytes...";
	r = fresh_sig(pub, root, sizeof(root), sig);
	check(r == 0 && ist_frost_verify(pub, root, sizeof(root), sig) &&
		      openssl_verify(pub, root, sizeof(root), sig) == 0,
	      "openssl verifies a fresh 7-of-10 FROST signature");
	sig[40] ^= 0x01;
	check(r == 0 && openssl_verify(pub, root, sizeof(root), sig) == 1, "openssl refuses a tampered z");
	sig[40] ^= 0x01;
	sig[3] ^= 0x80;
	check(r == 0 && openssl_verify(pub, root, sizeof(root), sig) == 1, "openssl refuses a tampered R");

	const char *names[] = {"pub.der", "msg", "sig"};
	for (size_t i = 0; i < 3; i++) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
	return failures ? 1 : 0;
}
