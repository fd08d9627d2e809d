/*
 * Vectors and properties of the key types: crypto/ed25519.h,
 * crypto/secp256k1.h (with the Ethereum address helpers) and crypto/x25519.h.
 *
 * Sources of the expected values:
 *  - Ed25519: RFC 8032 section 7.1, TEST 1, TEST 2 and TEST 3 (secret key,
 *    public key, message, signature), byte for byte. The group order L for
 *    the non-canonical S test is RFC 8032 section 5.1 (2^252 +
 *    27742317777372353535851937790883648493).
 *  - secp256k1, private key 1: its public key is the generator G of SEC 2
 *    section 2.4.1 (compressed 02 79BE667E...16F81798); its Ethereum address
 *    0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf is the well-known address of
 *    key 1, cross-checked with a pure-Python computation (affine point
 *    arithmetic and a FIPS 202 Keccak of our own, see test_hash.c).
 *  - EIP-55 checksummed addresses: the four test cases of the EIP-55 text.
 *  - RFC 6979 over secp256k1 with SHA-256: the community vector published in
 *    bitcointalk.org topic 285142 (also in trezor-crypto's test_check.c):
 *    key 1, message SHA-256("Satoshi Nakamoto"), k = 8F8A276C...74F15D15,
 *    r = 934b1ea1...210ee3d8, s = dbbd3162...a586675c. That s is high; our
 *    signatures carry the low-s form n - s = 2442ce9d...2aafd9e5, and the
 *    recovery id 1 (R.y is even, flipped by the negation), both computed in
 *    Python from k.
 *  - X25519: RFC 7748 section 6.1 (Alice's and Bob's keys, shared secret).
 */
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/macro.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "crypto/tags.h"
#include "crypto/x25519.h"
#include "lib/ist_test.h"

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
}

/* An rng that always fails, and one that returns only zero bytes. */
static int fill_fail(void *ctx IST_UNUSED, uint8_t *buf IST_UNUSED, size_t len IST_UNUSED)
{
	return -IST_EIO;
}

static int fill_zero(void *ctx IST_UNUSED, uint8_t *buf, size_t len)
{
	memset(buf, 0, len);
	return 0;
}

static const struct ist_rng rng_fail = { .fill = fill_fail };
static const struct ist_rng rng_zero = { .fill = fill_zero };

/* =================================================================== Ed25519 */

struct ed_vector {
	const char *name;
	const char *seed;
	const char *pub;
	const char *msg; /* hex */
	size_t msg_len;
	const char *sig;
};

static const struct ed_vector rfc8032[] = {
	{ "TEST 1",
	  "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	  "", 0,
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "TEST 2",
	  "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	  "72", 1,
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
	{ "TEST 3",
	  "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	  "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
	  "af82", 2,
	  "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
	  "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a" },
};

/* The Ed25519 group order L, little-endian (RFC 8032 section 5.1). */
static const char ED_L_LE[] = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

START_TEST(test_ed25519_rfc8032)
{
	const struct ed_vector *v = &rfc8032[_i];
	uint8_t seed[32], pub[32], msg[2], sig[64], got[64];
	ist_test_unhex(v->seed, seed, 32);
	ist_test_unhex(v->pub, pub, 32);
	ist_test_unhex(v->sig, sig, 64);
	if (v->msg_len)
		ist_test_unhex(v->msg, msg, v->msg_len);

	ck_assert_int_eq(ist_ed25519_pubkey(seed, got), 0);
	ck_assert_msg(memcmp(got, pub, 32) == 0, "%s: public key", v->name);

	ck_assert_int_eq(ist_ed25519_sign(seed, msg, v->msg_len, got), 0);
	ck_assert_msg(memcmp(got, sig, 64) == 0, "%s: signature", v->name);

	ck_assert_msg(ist_ed25519_verify(pub, msg, v->msg_len, sig), "%s: verify", v->name);
}
END_TEST

START_TEST(test_ed25519_empty_message_null)
{
	/* TEST 1 signs the empty message; a NULL pointer with length 0 is the
	 * same message */
	const struct ed_vector *v = &rfc8032[0];
	uint8_t seed[32], pub[32], sig[64], got[64];
	ist_test_unhex(v->seed, seed, 32);
	ist_test_unhex(v->pub, pub, 32);
	ist_test_unhex(v->sig, sig, 64);
	ck_assert_int_eq(ist_ed25519_sign(seed, NULL, 0, got), 0);
	ck_assert(memcmp(got, sig, 64) == 0);
	ck_assert(ist_ed25519_verify(pub, NULL, 0, sig));
}
END_TEST

START_TEST(test_ed25519_rejects_tampering)
{
	/* TEST 3 has a two-byte message, so every field can be bent */
	const struct ed_vector *v = &rfc8032[2];
	uint8_t pub[32], msg[2], sig[64];
	ist_test_unhex(v->pub, pub, 32);
	ist_test_unhex(v->msg, msg, 2);
	ist_test_unhex(v->sig, sig, 64);
	ck_assert(ist_ed25519_verify(pub, msg, 2, sig));

	/* any single flipped bit of the signature (R and S halves) */
	for (size_t bit = 0; bit < 64 * 8; bit++) {
		uint8_t bad[64];
		memcpy(bad, sig, 64);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(!ist_ed25519_verify(pub, msg, 2, bad), "sig bit %zu", bit);
	}
	/* any single flipped bit of the message */
	for (size_t bit = 0; bit < 2 * 8; bit++) {
		uint8_t bad[2];
		memcpy(bad, msg, 2);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(!ist_ed25519_verify(pub, bad, 2, sig), "msg bit %zu", bit);
	}
	/* a longer or shorter message */
	uint8_t longer[3] = { msg[0], msg[1], 0 };
	ck_assert(!ist_ed25519_verify(pub, longer, 3, sig));
	ck_assert(!ist_ed25519_verify(pub, msg, 1, sig));
	/* any single flipped bit of the public key */
	for (size_t bit = 0; bit < 32 * 8; bit++) {
		uint8_t bad[32];
		memcpy(bad, pub, 32);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(!ist_ed25519_verify(bad, msg, 2, sig), "key bit %zu", bit);
	}
	/* another valid key */
	uint8_t other[32];
	ist_test_unhex(rfc8032[1].pub, other, 32);
	ck_assert(!ist_ed25519_verify(other, msg, 2, sig));
}
END_TEST

START_TEST(test_ed25519_rejects_noncanonical_s)
{
	/* S' = S + L is the same scalar mod L, so a verifier that reduces S
	 * would accept it: a second encoding of one signature (malleability).
	 * RFC 8032 section 5.1.7 requires S < L. */
	uint8_t L[32];
	ist_test_unhex(ED_L_LE, L, 32);
	for (size_t t = 0; t < IST_ARRAY_SIZE(rfc8032); t++) {
		const struct ed_vector *v = &rfc8032[t];
		uint8_t pub[32], msg[2], sig[64];
		ist_test_unhex(v->pub, pub, 32);
		ist_test_unhex(v->sig, sig, 64);
		if (v->msg_len)
			ist_test_unhex(v->msg, msg, v->msg_len);

		unsigned carry = 0;
		for (size_t i = 0; i < 32; i++) {
			unsigned sum = (unsigned)sig[32 + i] + L[i] + carry;
			sig[32 + i] = (uint8_t)sum;
			carry = sum >> 8;
		}
		ck_assert_uint_eq(carry, 0); /* S < L < 2^253, so S + L fits */
		ck_assert_msg(!ist_ed25519_verify(pub, msg, v->msg_len, sig), "%s: S + L accepted", v->name);
	}
}
END_TEST

START_TEST(test_ed25519_rejects_small_order)
{
	/* A = identity (y = 1), R = identity, S = 0: the cofactorless equation
	 * [S]B = R + [k]A holds for every message, so a verifier without the
	 * small-order checks would accept this "signature" of anything. */
	uint8_t pub[32] = { 1 };
	uint8_t sig[64] = { 1 };
	ck_assert(!ist_ed25519_verify(pub, (const uint8_t *)"anything", 8, sig));
	ck_assert(!ist_ed25519_verify(pub, NULL, 0, sig));
}
END_TEST

START_TEST(test_ed25519_generate)
{
	struct ist_rng_det d;
	ist_rng_det_init(&d, 25519);
	uint8_t seed[32], pub[32], pub2[32], sig[64];
	uint8_t seed_b[32], pub_b[32];
	ck_assert_int_eq(ist_ed25519_generate(&d.rng, seed, pub), 0);
	ck_assert_int_eq(ist_ed25519_pubkey(seed, pub2), 0);
	ck_assert(memcmp(pub, pub2, 32) == 0);

	const uint8_t msg[] = "isthmus vote";
	ck_assert_int_eq(ist_ed25519_sign(seed, msg, sizeof(msg), sig), 0);
	ck_assert(ist_ed25519_verify(pub, msg, sizeof(msg), sig));

	/* a second key from the stream is a different key */
	ck_assert_int_eq(ist_ed25519_generate(&d.rng, seed_b, pub_b), 0);
	ck_assert(memcmp(seed, seed_b, 32) != 0);
	ck_assert(memcmp(pub, pub_b, 32) != 0);
	ck_assert(!ist_ed25519_verify(pub_b, msg, sizeof(msg), sig));

	/* the system rng works too */
	ck_assert_int_eq(ist_ed25519_generate(ist_rng_system(), seed_b, pub_b), 0);
	ck_assert_int_eq(ist_ed25519_sign(seed_b, msg, sizeof(msg), sig), 0);
	ck_assert(ist_ed25519_verify(pub_b, msg, sizeof(msg), sig));

	/* an rng failure is reported and the outputs are left alone */
	memset(seed, 0xa5, 32);
	memset(pub, 0x5a, 32);
	ck_assert_int_eq(ist_ed25519_generate(&rng_fail, seed, pub), -IST_EIO);
	for (size_t i = 0; i < 32; i++) {
		ck_assert_uint_eq(seed[i], 0xa5);
		ck_assert_uint_eq(pub[i], 0x5a);
	}
}
END_TEST

/* ================================================================ secp256k1 */

static const char SECP_N[] = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

/* out = n - s (big-endian, 32 bytes); s must be in (0, n) */
static void secp_negate_s(const uint8_t s[32], uint8_t out[32])
{
	uint8_t n[32];
	ist_test_unhex(SECP_N, n, 32);
	int borrow = 0;
	for (int i = 31; i >= 0; i--) {
		int diff = (int)n[i] - (int)s[i] - borrow;
		borrow = diff < 0;
		out[i] = (uint8_t)(diff + (borrow ? 256 : 0));
	}
	ck_assert_int_eq(borrow, 0);
}

START_TEST(test_secp_key_one)
{
	uint8_t sk[32] = { 0 }, pub[33], addr[20];
	char text[43];
	sk[31] = 1;
	ck_assert(ist_secp_seckey_valid(sk));
	ck_assert_int_eq(ist_secp_pubkey(sk, pub), 0);
	ist_test_assert_hex(pub, 33, "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
	ck_assert_int_eq(ist_secp_eth_address(pub, addr), 0);
	ist_test_assert_hex(addr, 20, "7e5f4552091a69125d5dfcb7b8c2659029395bdf");
	ist_eth_address_format(addr, text);
	ck_assert_str_eq(text, "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf");
}
END_TEST

START_TEST(test_secp_eip55_examples)
{
	static const char *const examples[] = {
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
		"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
		"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(examples); i++) {
		uint8_t addr[20];
		char text[43];
		/* ist_hex_decode accepts mixed case, so this is the raw address */
		ist_test_unhex(examples[i], addr, 20);
		memset(text, 'X', sizeof(text));
		ist_eth_address_format(addr, text);
		ck_assert_str_eq(text, examples[i]);
		ck_assert_uint_eq(strlen(text), 42);
	}
}
END_TEST

START_TEST(test_secp_rfc6979_vector)
{
	uint8_t sk[32] = { 0 }, digest[32], sig[65], pub[33], rec[33];
	sk[31] = 1;
	ist_sha256("Satoshi Nakamoto", 16, digest);
	ck_assert_int_eq(ist_secp_sign(sk, digest, sig), 0);
	ist_test_assert_hex(sig, 32, "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8");
	ist_test_assert_hex(sig + 32, 32, "2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5");
	ck_assert_uint_eq(sig[64], 1);

	ck_assert_int_eq(ist_secp_pubkey(sk, pub), 0);
	ck_assert(ist_secp_verify(pub, digest, sig));
	ck_assert_int_eq(ist_secp_recover(digest, sig, rec), 0);
	ck_assert(memcmp(rec, pub, 33) == 0);
}
END_TEST

START_TEST(test_secp_deterministic)
{
	struct ist_rng_det d;
	ist_rng_det_init(&d, 6979);
	uint8_t sk[32], pub[33], digest[32], a[65], b[65];
	ck_assert_int_eq(ist_secp_generate(&d.rng, sk, pub), 0);
	ist_tagged_hash(IST_TAG_ATTEST, "batch", 5, digest);
	ck_assert_int_eq(ist_secp_sign(sk, digest, a), 0);
	ck_assert_int_eq(ist_secp_sign(sk, digest, b), 0);
	ck_assert(memcmp(a, b, 65) == 0);
	/* another digest, another signature (and another nonce: r differs) */
	digest[0] ^= 1;
	ck_assert_int_eq(ist_secp_sign(sk, digest, b), 0);
	ck_assert(memcmp(a, b, 32) != 0);
}
END_TEST

START_TEST(test_secp_roundtrip)
{
	struct ist_rng_det d;
	ist_rng_det_init(&d, 0x5ec9256b1ull);
	for (int i = 0; i < 32; i++) {
		uint8_t sk[32], pub[33], pub2[33], rec[33], digest[32], sig[65];
		const struct ist_rng *rng = (i % 4 == 0) ? ist_rng_system() : &d.rng;
		ck_assert_int_eq(ist_secp_generate(rng, sk, pub), 0);
		ck_assert(ist_secp_seckey_valid(sk));
		ck_assert(pub[0] == 0x02 || pub[0] == 0x03);
		ck_assert_int_eq(ist_secp_pubkey(sk, pub2), 0);
		ck_assert(memcmp(pub, pub2, 33) == 0);

		ck_assert_int_eq(ist_rng_fill(&d.rng, digest, 32), 0);
		ck_assert_int_eq(ist_secp_sign(sk, digest, sig), 0);
		ck_assert_uint_le(sig[64], 3);
		ck_assert(ist_secp_verify(pub, digest, sig));
		ck_assert_int_eq(ist_secp_recover(digest, sig, rec), 0);
		ck_assert_msg(memcmp(rec, pub, 33) == 0, "recovered key differs (round %d)", i);

		/* the address of the recovered key is the signer's address */
		uint8_t a1[20], a2[20];
		ck_assert_int_eq(ist_secp_eth_address(pub, a1), 0);
		ck_assert_int_eq(ist_secp_eth_address(rec, a2), 0);
		ck_assert(memcmp(a1, a2, 20) == 0);
	}
}
END_TEST

START_TEST(test_secp_verify_rejects)
{
	struct ist_rng_det d;
	ist_rng_det_init(&d, 42);
	uint8_t sk[32], pub[33], sk2[32], pub2[33], digest[32], sig[65], bad[65], rec[33];
	ck_assert_int_eq(ist_secp_generate(&d.rng, sk, pub), 0);
	ck_assert_int_eq(ist_secp_generate(&d.rng, sk2, pub2), 0);
	ck_assert_int_eq(ist_rng_fill(&d.rng, digest, 32), 0);
	ck_assert_int_eq(ist_secp_sign(sk, digest, sig), 0);
	ck_assert(ist_secp_verify(pub, digest, sig));

	/* a flipped bit anywhere in r or s */
	for (size_t bit = 0; bit < 64 * 8; bit++) {
		memcpy(bad, sig, 65);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(!ist_secp_verify(pub, digest, bad), "sig bit %zu", bit);
	}
	/* a flipped bit of the digest */
	for (size_t bit = 0; bit < 32 * 8; bit += 7) {
		uint8_t dg[32];
		memcpy(dg, digest, 32);
		dg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_msg(!ist_secp_verify(pub, dg, sig), "digest bit %zu", bit);
	}
	/* the wrong key */
	ck_assert(!ist_secp_verify(pub2, digest, sig));
	/* a key that is not a compressed point: uncompressed prefix, or an x
	 * with no point on the curve (x = 5: 5^3 + 7 = 132 is not a square
	 * mod p) */
	uint8_t badpub[33];
	memcpy(badpub, pub, 33);
	badpub[0] = 0x04;
	ck_assert(!ist_secp_verify(badpub, digest, sig));
	memset(badpub, 0, 33);
	badpub[0] = 0x02;
	badpub[32] = 5;
	ck_assert(!ist_secp_verify(badpub, digest, sig));

	/* recovery ids out of range: 2 and 3 (which ecrecover refuses), 4, and
	 * the EVM's 27/28 (callers add 27 themselves) */
	static const uint8_t bad_recids[] = { 2, 3, 4, 5, 27, 28, 0xff };
	for (size_t i = 0; i < IST_ARRAY_SIZE(bad_recids); i++) {
		memcpy(bad, sig, 65);
		bad[64] = bad_recids[i];
		ck_assert_msg(!ist_secp_verify(pub, digest, bad), "recid %u", bad_recids[i]);
		ck_assert_int_eq(ist_secp_recover(digest, bad, rec), -IST_EBADSIG);
	}

	/* the other recovery id: a valid ECDSA signature with the wrong v, which
	 * ecrecover would attribute to some other key; verify refuses it */
	memcpy(bad, sig, 65);
	bad[64] ^= 1;
	ck_assert(!ist_secp_verify(pub, digest, bad));
	if (ist_secp_recover(digest, bad, rec) == 0)
		ck_assert(memcmp(rec, pub, 33) != 0);

	/* r or s not below n, and r = 0, s = 0 */
	memcpy(bad, sig, 65);
	memset(bad, 0xff, 32);
	ck_assert(!ist_secp_verify(pub, digest, bad));
	ck_assert_int_eq(ist_secp_recover(digest, bad, rec), -IST_EBADSIG);
	memcpy(bad, sig, 65);
	memset(bad + 32, 0xff, 32);
	ck_assert(!ist_secp_verify(pub, digest, bad));
	memcpy(bad, sig, 65);
	memset(bad, 0, 32);
	ck_assert(!ist_secp_verify(pub, digest, bad));
	ck_assert_int_eq(ist_secp_recover(digest, bad, rec), -IST_EBADSIG);
	memcpy(bad, sig, 65);
	memset(bad + 32, 0, 32);
	ck_assert(!ist_secp_verify(pub, digest, bad));
	ck_assert_int_eq(ist_secp_recover(digest, bad, rec), -IST_EBADSIG);

	/* nothing is written on failure */
	memset(rec, 0xee, 33);
	bad[64] = 9;
	ck_assert_int_eq(ist_secp_recover(digest, bad, rec), -IST_EBADSIG);
	for (size_t i = 0; i < 33; i++)
		ck_assert_uint_eq(rec[i], 0xee);
}
END_TEST

START_TEST(test_secp_rejects_high_s)
{
	struct ist_rng_det d;
	ist_rng_det_init(&d, 7);
	uint8_t sk[32], pub[33], digest[32], sig[65], high[65], rec[33];
	ck_assert_int_eq(ist_secp_generate(&d.rng, sk, pub), 0);
	ck_assert_int_eq(ist_rng_fill(&d.rng, digest, 32), 0);
	ck_assert_int_eq(ist_secp_sign(sk, digest, sig), 0);

	/* (r, n - s) with the recovery id's parity flipped is the malleated
	 * twin of the signature: the same R with the other y */
	memcpy(high, sig, 32);
	secp_negate_s(sig + 32, high + 32);
	high[64] = sig[64] ^ 1;

	/* it is a genuine signature by the key for libsecp256k1's recovery,
	 * which does not enforce low s ... */
	const secp256k1_context *ctx = secp256k1_context_static;
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_pubkey pk;
	uint8_t ser[33];
	size_t len = sizeof(ser);
	ck_assert_int_eq(secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, high, high[64]), 1);
	ck_assert_int_eq(secp256k1_ecdsa_recover(ctx, &pk, &rs, digest), 1);
	ck_assert_int_eq(secp256k1_ec_pubkey_serialize(ctx, ser, &len, &pk, SECP256K1_EC_COMPRESSED), 1);
	ck_assert(memcmp(ser, pub, 33) == 0);

	/* ... and ours refuses it, in verify and in recover */
	ck_assert(!ist_secp_verify(pub, digest, high));
	ck_assert_int_eq(ist_secp_recover(digest, high, rec), -IST_EBADSIG);
	/* the low-s original still passes */
	ck_assert(ist_secp_verify(pub, digest, sig));
}
END_TEST

START_TEST(test_secp_invalid_seckeys)
{
	uint8_t zero[32] = { 0 }, n[32], n_minus_1[32], ff[32], pub[33], sig[65], digest[32] = { 1 };
	ist_test_unhex(SECP_N, n, 32);
	memcpy(n_minus_1, n, 32);
	n_minus_1[31] -= 1;
	memset(ff, 0xff, 32);

	const uint8_t *invalid[] = { zero, n, ff };
	for (size_t i = 0; i < IST_ARRAY_SIZE(invalid); i++) {
		ck_assert(!ist_secp_seckey_valid(invalid[i]));
		memset(pub, 0xcc, sizeof(pub));
		ck_assert_int_eq(ist_secp_pubkey(invalid[i], pub), -IST_EBADKEY);
		ck_assert_uint_eq(pub[0], 0xcc); /* not written */
		ck_assert_int_eq(ist_secp_sign(invalid[i], digest, sig), -IST_EBADKEY);
	}
	/* n - 1 is the largest valid key; its public key is -G (x of G, odd y) */
	ck_assert(ist_secp_seckey_valid(n_minus_1));
	ck_assert_int_eq(ist_secp_pubkey(n_minus_1, pub), 0);
	ist_test_assert_hex(pub, 33, "0379be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798");
}
END_TEST

START_TEST(test_secp_generate_rng)
{
	uint8_t sk[32], pub[33];
	memset(sk, 0xa5, 32);
	ck_assert_int_eq(ist_secp_generate(&rng_fail, sk, pub), -IST_EIO);
	ck_assert_uint_eq(sk[0], 0xa5);
	/* an rng that only ever yields the invalid key 0 does not hang us */
	ck_assert_int_eq(ist_secp_generate(&rng_zero, sk, pub), -IST_ECRYPTO);
	ck_assert_uint_eq(sk[0], 0xa5);
}
END_TEST

START_TEST(test_secp_eth_address_rejects_bad_key)
{
	uint8_t pub[33] = { 0x02 }, addr[20];
	pub[32] = 5; /* no point with x = 5 */
	ck_assert_int_eq(ist_secp_eth_address(pub, addr), -IST_EBADKEY);
	pub[0] = 0x05;
	ck_assert_int_eq(ist_secp_eth_address(pub, addr), -IST_EBADKEY);
}
END_TEST

/* ================================================================== X25519 */

START_TEST(test_x25519_rfc7748)
{
	uint8_t a[32], b[32], pub[32], want_a[32], want_b[32], k[32];
	ist_test_unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	ist_test_unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	ist_test_unhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", want_a, 32);
	ist_test_unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", want_b, 32);

	ck_assert_int_eq(ist_x25519_pubkey(a, pub), 0);
	ck_assert(memcmp(pub, want_a, 32) == 0);
	ck_assert_int_eq(ist_x25519_pubkey(b, pub), 0);
	ck_assert(memcmp(pub, want_b, 32) == 0);

	/* the keys agree on the RFC's shared secret */
	ck_assert_int_eq(crypto_scalarmult(k, a, want_b), 0);
	ist_test_assert_hex(k, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	ck_assert_int_eq(crypto_scalarmult(k, b, want_a), 0);
	ist_test_assert_hex(k, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}
END_TEST

START_TEST(test_x25519_generate_and_seal)
{
	struct ist_rng_det d;
	ist_rng_det_init(&d, 7748);
	uint8_t sec[32], pub[32], pub2[32], sec_b[32], pub_b[32];
	ck_assert_int_eq(ist_x25519_generate(&d.rng, sec, pub), 0);
	ck_assert_int_eq(ist_x25519_pubkey(sec, pub2), 0);
	ck_assert(memcmp(pub, pub2, 32) == 0);

	/* a dealer seals a share to pub; only sec opens it */
	const uint8_t share[] = "a FROST secret share, 32 bytes..";
	uint8_t boxed[sizeof(share) + crypto_box_SEALBYTES], opened[sizeof(share)];
	ck_assert_int_eq(crypto_box_seal(boxed, share, sizeof(share), pub), 0);
	ck_assert_int_eq(crypto_box_seal_open(opened, boxed, sizeof(boxed), pub, sec), 0);
	ck_assert(memcmp(opened, share, sizeof(share)) == 0);

	ck_assert_int_eq(ist_x25519_generate(ist_rng_system(), sec_b, pub_b), 0);
	ck_assert(memcmp(pub, pub_b, 32) != 0);
	ck_assert_int_ne(crypto_box_seal_open(opened, boxed, sizeof(boxed), pub_b, sec_b), 0);

	/* the key pair also works in libsodium's crypto_box (not just seal) */
	uint8_t nonce[crypto_box_NONCEBYTES] = { 0 };
	uint8_t c[sizeof(share) + crypto_box_MACBYTES];
	ck_assert_int_eq(crypto_box_easy(c, share, sizeof(share), nonce, pub, sec_b), 0);
	ck_assert_int_eq(crypto_box_open_easy(opened, c, sizeof(c), nonce, pub_b, sec), 0);
	ck_assert(memcmp(opened, share, sizeof(share)) == 0);

	/* an rng failure is reported, outputs untouched */
	memset(sec, 0x11, 32);
	ck_assert_int_eq(ist_x25519_generate(&rng_fail, sec, pub), -IST_EIO);
	ck_assert_uint_eq(sec[0], 0x11);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("keys");

	TCase *tc = tcase_create("ed25519");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_ed25519_rfc8032, 0, (int)IST_ARRAY_SIZE(rfc8032));
	tcase_add_test(tc, test_ed25519_empty_message_null);
	tcase_add_test(tc, test_ed25519_rejects_tampering);
	tcase_add_test(tc, test_ed25519_rejects_noncanonical_s);
	tcase_add_test(tc, test_ed25519_rejects_small_order);
	tcase_add_test(tc, test_ed25519_generate);
	suite_add_tcase(s, tc);

	tc = tcase_create("secp256k1");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_secp_key_one);
	tcase_add_test(tc, test_secp_eip55_examples);
	tcase_add_test(tc, test_secp_rfc6979_vector);
	tcase_add_test(tc, test_secp_deterministic);
	tcase_add_test(tc, test_secp_roundtrip);
	tcase_add_test(tc, test_secp_verify_rejects);
	tcase_add_test(tc, test_secp_rejects_high_s);
	tcase_add_test(tc, test_secp_invalid_seckeys);
	tcase_add_test(tc, test_secp_generate_rng);
	tcase_add_test(tc, test_secp_eth_address_rejects_bad_key);
	suite_add_tcase(s, tc);

	tc = tcase_create("x25519");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_x25519_rfc7748);
	tcase_add_test(tc, test_x25519_generate_and_seal);
	suite_add_tcase(s, tc);

	return ist_test_run(s);
}
