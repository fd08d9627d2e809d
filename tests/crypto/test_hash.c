/*
 * Vectors for crypto/hash.h (SHA-256, SHA-512, tagged hashes), the tags of
 * crypto/tags.h and crypto/keccak.h.
 *
 * Sources of the expected values:
 *  - SHA-256("abc"), SHA-256 of the 448-bit "abcdbcdecdef...nopq" and
 *    SHA-512("abc"): FIPS 180-2, Appendix B.1, B.2 and C.1.
 *  - SHA-256(""): the well-known empty-string digest (NIST CAVP
 *    SHA256ShortMsg, Len = 0).
 *  - Tagged-hash known answers: Python's hashlib.sha256 over the ASCII tag
 *    followed by the data (e.g. sha256(b"isthmus/msg/v1abc")).
 *  - Keccak-256 of "" and of "The quick brown fox jumps over the lazy dog":
 *    the values every Ethereum library publishes (the brief quotes them).
 *  - Keccak-256 of 135, 136 and 137 bytes (one byte short of the rate, the
 *    rate, one past it): the Keccak team's round-3 ShortMsgKAT_256.txt
 *    (Len = 1080, 1088, 1096), i.e. Keccak[r=1088, c=512] with the original
 *    pad10*1 padding, as copied in github.com/glatan/ghash
 *    components/hashes/keccak/tests/keccak/short_msg_kat_256.rs. Ethereum's
 *    Keccak-256 is exactly that function.
 *  - Keccak-256 of 272 bytes (two full blocks, so the padding takes a block
 *    of its own) with byte i = i mod 256: the KAT file stops at 255 bytes, so
 *    this one comes from a pure-Python Keccak written from FIPS 202 (its own
 *    permutation, not nettle's) that reproduces hashlib.sha3_256 for every
 *    length 0..299 when given the SHA-3 padding, and the "" / fox / KAT
 *    values above when given the Keccak padding.
 * Beyond the fixed vectors, ist_keccak256 is compared for every length up to
 * 700 bytes with a second sponge in this file that absorbs byte by byte.
 */
#include <nettle/sha3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/macro.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/keccak.h"
#include "crypto/tags.h"
#include "lib/ist_test.h"

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
}

/* ---- SHA-256 / SHA-512 */

static const char FIPS_448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

START_TEST(test_sha256_fips)
{
	uint8_t h[IST_HASH_BYTES];
	ist_sha256("abc", 3, h);
	ist_test_assert_hex(h, sizeof(h), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ist_sha256("", 0, h);
	ist_test_assert_hex(h, sizeof(h), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ist_sha256(FIPS_448, strlen(FIPS_448), h);
	ist_test_assert_hex(h, sizeof(h), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
END_TEST

START_TEST(test_sha512_fips)
{
	uint8_t h[IST_SHA512_BYTES];
	ist_sha512("abc", 3, h);
	ist_test_assert_hex(h, sizeof(h),
		   "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		   "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
}
END_TEST

START_TEST(test_sha256_incremental)
{
	/* the FIPS two-block message fed one byte at a time gives the FIPS value */
	struct ist_sha256_ctx ctx;
	uint8_t h[IST_HASH_BYTES];
	ist_sha256_init(&ctx);
	for (size_t i = 0; i < strlen(FIPS_448); i++)
		ist_sha256_update(&ctx, FIPS_448 + i, 1);
	ist_sha256_final(&ctx, h);
	ist_test_assert_hex(h, sizeof(h), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

	/* any split of a 3-block input (into two and three parts, with empty
	 * parts allowed) equals the one-shot digest */
	uint8_t msg[150];
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 37 + 11);
	uint8_t want[IST_HASH_BYTES];
	ist_sha256(msg, sizeof(msg), want);
	for (size_t a = 0; a <= sizeof(msg); a++) {
		ist_sha256_init(&ctx);
		ist_sha256_update(&ctx, msg, a);
		ist_sha256_update(&ctx, msg + a, sizeof(msg) - a);
		ist_sha256_final(&ctx, h);
		ck_assert_msg(memcmp(h, want, sizeof(h)) == 0, "split at %zu", a);
		for (size_t b = a; b <= sizeof(msg); b += 7) {
			ist_sha256_init(&ctx);
			ist_sha256_update(&ctx, msg, a);
			ist_sha256_update(&ctx, msg + a, b - a);
			ist_sha256_update(&ctx, msg + b, sizeof(msg) - b);
			ist_sha256_final(&ctx, h);
			ck_assert_msg(memcmp(h, want, sizeof(h)) == 0, "split at %zu, %zu", a, b);
		}
	}
	/* and a different message gives a different digest */
	msg[149] ^= 1;
	ist_sha256(msg, sizeof(msg), h);
	ck_assert(memcmp(h, want, sizeof(h)) != 0);
}
END_TEST

/* ---- tagged hashes and tags */

static const char *const all_tags[] = {
#define TAG_ENTRY(t) t,
	IST_TAGS(TAG_ENTRY)
#undef TAG_ENTRY
};

START_TEST(test_tagged_hash_known_answers)
{
	uint8_t h[IST_HASH_BYTES];
	/* hashlib.sha256(b"isthmus/msg/v1abc") */
	ist_tagged_hash(IST_TAG_MSG, "abc", 3, h);
	ist_test_assert_hex(h, sizeof(h), "b34d28d11fec2af1ace1dd9f342ce8917afbca78890e55c8e3a305eab2bb3b17");
	/* hashlib.sha256(b"isthmus/attest/v1"): no data, the NUL not hashed */
	ist_tagged_hash(IST_TAG_ATTEST, "", 0, h);
	ist_test_assert_hex(h, sizeof(h), "598be33c88e791185f28f37e4137a7bb583977f16f39cd30653c53a2c470d232");
}
END_TEST

START_TEST(test_tagged_hash_is_sha256_of_tag_and_data)
{
	uint8_t data[100];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(255 - i);

	for (size_t t = 0; t < IST_ARRAY_SIZE(all_tags); t++) {
		const char *tag = all_tags[t];
		size_t tl = strlen(tag);
		/* by hand: one buffer tag || data, one plain SHA-256 */
		uint8_t buf[64 + sizeof(data)];
		ck_assert_uint_le(tl, 64);
		memcpy(buf, tag, tl);
		memcpy(buf + tl, data, sizeof(data));
		uint8_t want[IST_HASH_BYTES], got[IST_HASH_BYTES];
		ist_sha256(buf, tl + sizeof(data), want);

		ist_tagged_hash(tag, data, sizeof(data), got);
		ck_assert_msg(memcmp(got, want, sizeof(got)) == 0, "tag %s", tag);

		/* the incremental form, data in parts */
		struct ist_sha256_ctx ctx;
		ist_tagged_hash_init(&ctx, tag);
		ist_sha256_update(&ctx, data, 33);
		ist_sha256_update(&ctx, data + 33, sizeof(data) - 33);
		ist_sha256_final(&ctx, got);
		ck_assert_msg(memcmp(got, want, sizeof(got)) == 0, "tag %s (incremental)", tag);

		/* the tag matters: untagged data hashes differently */
		ist_sha256(data, sizeof(data), got);
		ck_assert(memcmp(got, want, sizeof(got)) != 0);
	}
}
END_TEST

/* True when a is a prefix of b (including a == b). */
static bool is_prefix(const char *a, const char *b)
{
	return strncmp(a, b, strlen(a)) == 0;
}

START_TEST(test_tags_prefix_free_and_distinct)
{
	/* the predicate itself works */
	ck_assert(is_prefix("isthmus/msg", "isthmus/msg/v1"));
	ck_assert(!is_prefix("isthmus/msg/v1", "isthmus/msg"));
	ck_assert(!is_prefix("isthmus/tx/v1", "isthmus/msg/v1"));

	size_t n = IST_ARRAY_SIZE(all_tags);
	ck_assert_uint_ge(n, 2);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(strlen(all_tags[i]) > 0, "empty tag");
		for (size_t j = 0; j < n; j++) {
			if (i == j)
				continue;
			ck_assert_msg(strcmp(all_tags[i], all_tags[j]) != 0, "duplicate tag %s", all_tags[i]);
			ck_assert_msg(!is_prefix(all_tags[i], all_tags[j]), "tag %s is a prefix of %s",
				      all_tags[i], all_tags[j]);
		}
	}
}
END_TEST

/* ---- Keccak-256 */

/*
 * A second, deliberately plain Keccak-256 sponge for the tests: the same
 * nettle permutation, but the message is XORed into the state one byte at a
 * time (byte k of the state is byte k%8 of lane k/8, little-endian) and the
 * output read back the same way. It shares no code with ist_keccak256's
 * block absorption or padding.
 */
#define REF_RATE 136

static void ref_xor_byte(struct sha3_state *st, size_t pos, uint8_t b)
{
	st->a[pos / 8] ^= (uint64_t)b << (8 * (pos % 8));
}

static void ref_keccak256(const uint8_t *m, size_t len, uint8_t out[32])
{
	struct sha3_state st;
	memset(&st, 0, sizeof(st));
	size_t pos = 0;
	for (size_t i = 0; i < len; i++) {
		ref_xor_byte(&st, pos, m[i]);
		if (++pos == REF_RATE) {
			sha3_permute(&st);
			pos = 0;
		}
	}
	ref_xor_byte(&st, pos, 0x01);
	ref_xor_byte(&st, REF_RATE - 1, 0x80);
	sha3_permute(&st);
	for (size_t i = 0; i < 32; i++)
		out[i] = (uint8_t)(st.a[i / 8] >> (8 * (i % 8)));
}

static void check_keccak_hex(const char *msg_hex, size_t len, const char *want_hex)
{
	uint8_t *msg = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(msg);
	ist_test_unhex(msg_hex, msg, len);
	uint8_t h[IST_KECCAK256_BYTES];
	ist_keccak256(msg, len, h);
	ist_test_assert_hex(h, sizeof(h), want_hex);
	free(msg);
}

START_TEST(test_keccak_known_answers)
{
	uint8_t h[IST_KECCAK256_BYTES];

	ist_keccak256("", 0, h);
	ist_test_assert_hex(h, sizeof(h), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
	ist_keccak256(NULL, 0, h);
	ist_test_assert_hex(h, sizeof(h), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");

	const char *fox = "The quick brown fox jumps over the lazy dog";
	ist_keccak256(fox, strlen(fox), h);
	ist_test_assert_hex(h, sizeof(h), "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15");

	/* ShortMsgKAT_256, Len = 1080: 135 bytes, the padding is the single byte 0x81 */
	check_keccak_hex("2f3fb9e6321405869ff0e6271369357ee08c9c27837fe300adf3766a61979591"
			 "d64e7809627e8f026e762982df5f00bfeb9ce76f1ccb70c9bee6331f7dc8b154"
			 "17295d7aa7ec7c1662a69842059901f136e96052b4d01b72b64f92331744872f"
			 "6de4a915d0262b33ccc375d25d77c3936023e514f30187a9501adc685e6497cc"
			 "4841e119670d4d",
			 135, "0484f02cc16415e7e9f28f95b6bb77209e1b25ec35015de84facbc8f9605b39e");
	/* Len = 1088: 136 bytes, exactly one block; the padding takes a block */
	check_keccak_hex("33d0c3052e3ac8c19beca6b0dfa73888f753655fb2c9f77e1238602c9f6d7ad3"
			 "3e3dd96c78a22e148ed4c46d7cfdf674505bd40325cb813804e264a450de778f"
			 "1c50fc94f32aa881fe6def7b6ae6efbb42c3be678f40a09322053773e3af0200"
			 "00fe94f3283c7527aa64a2144b92cf8d568df4e6cd957af09ab1637e61667e61"
			 "6412558d4fcab4f9",
			 136, "b30ad6fc320c0d70309dc39953895cb7cf3fbedec7d86a5f7aa9f2bb760f6dba");
	/* Len = 1096: 137 bytes, one block and one byte */
	check_keccak_hex("2f570e7aeadd07406bfc263992a0292c528daab4f32816573b6be58a36998465"
			 "f192e0db70e81cdbe5431477e43ea437cb4eebbe760116b26dfb3ca395c10987"
			 "53e962c3d27f9fb8c2b32fa6f1d3debd22c97b99cb924b388d87db2348e5aa9c"
			 "cf0d60a18cff594eb389f5a55dd362809dde19687064a0feec7c213561cbd130"
			 "d832d264312cb3e4b6",
			 137, "6cf9e0e9008f6b5b2d28fb38c47a0212e7b28f6a7f44815f10c53141c2f1c84d");

	/* 272 bytes, byte i = i mod 256 (pure-Python reference, see the top) */
	uint8_t m272[272];
	for (size_t i = 0; i < sizeof(m272); i++)
		m272[i] = (uint8_t)i;
	ist_keccak256(m272, sizeof(m272), h);
	ist_test_assert_hex(h, sizeof(h), "fdf2ec49e749960d3c8521a0219af8d03e30e2b3bf19bd16150ee0eaf133d66e");
	/* and its neighbours 135..137 of the same pattern, same source */
	ist_keccak256(m272, 135, h);
	ist_test_assert_hex(h, sizeof(h), "cbdfd9dee5faad3818d6b06f95a219fd290b0e1706f6a82e5a595b9ce9faca62");
	ist_keccak256(m272, 136, h);
	ist_test_assert_hex(h, sizeof(h), "7ce759f1ab7f9ce437719970c26b0a66ff11fe3e38e17df89cf5d29c7d7f807e");
	ist_keccak256(m272, 137, h);
	ist_test_assert_hex(h, sizeof(h), "ac73d4fae68b8453f764007c1a20ce95994187861f0c3227a3a8e99a73a3b1db");
}
END_TEST

START_TEST(test_keccak_matches_bytewise_sponge)
{
	enum { MAX = 700 };
	uint8_t *buf = malloc(MAX + 1);
	ck_assert_ptr_nonnull(buf);
	struct ist_rng_det d;
	ist_rng_det_init(&d, 0x6b656363616bull);
	ck_assert_int_eq(ist_rng_fill(&d.rng, buf, MAX + 1), 0);

	uint8_t got[32], want[32];
	/* every length through five blocks, so every position of the padding
	 * byte and every number of full blocks up to 5 */
	for (size_t len = 0; len <= MAX; len++) {
		ref_keccak256(buf, len, want);
		ist_keccak256(buf, len, got);
		ck_assert_msg(memcmp(got, want, 32) == 0, "length %zu", len);
		/* input that is not 8-byte aligned */
		ref_keccak256(buf + 1, len, want);
		ist_keccak256(buf + 1, len, got);
		ck_assert_msg(memcmp(got, want, 32) == 0, "length %zu, unaligned", len);
	}
	/* the reference is itself anchored to a published value */
	ref_keccak256((const uint8_t *)"", 0, want);
	ist_test_assert_hex(want, 32, "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
	free(buf);
}
END_TEST

START_TEST(test_keccak_is_not_sha3)
{
	/* The classic mix-up: SHA3-256 (padding 0x06) of "" is a7ffc6f8...; the
	 * Keccak-256 of Ethereum must differ. */
	struct sha3_256_ctx c;
	uint8_t sha3[SHA3_256_DIGEST_SIZE], k[IST_KECCAK256_BYTES];
	sha3_256_init(&c);
	sha3_256_digest(&c, sizeof(sha3), sha3);
	ist_test_assert_hex(sha3, sizeof(sha3), "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
	ist_keccak256("", 0, k);
	ck_assert(memcmp(sha3, k, sizeof(k)) != 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hash");

	TCase *tc = tcase_create("sha2");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_sha256_fips);
	tcase_add_test(tc, test_sha512_fips);
	tcase_add_test(tc, test_sha256_incremental);
	suite_add_tcase(s, tc);

	tc = tcase_create("tags");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_tagged_hash_known_answers);
	tcase_add_test(tc, test_tagged_hash_is_sha256_of_tag_and_data);
	tcase_add_test(tc, test_tags_prefix_free_and_distinct);
	suite_add_tcase(s, tc);

	tc = tcase_create("keccak");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_keccak_known_answers);
	tcase_add_test(tc, test_keccak_matches_bytewise_sponge);
	tcase_add_test(tc, test_keccak_is_not_sha3);
	suite_add_tcase(s, tc);

	return ist_test_run(s);
}
