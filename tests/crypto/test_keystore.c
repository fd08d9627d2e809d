/*
 * The keystore: round trips, every way a file can be wrong, file modes, and
 * the guards on what a file may make us spend.
 *
 * Run as `test_keystore --write-corpus DIR` it writes the seed corpus of the
 * 'keystore' fuzz target (tests/fuzz/corpus/keystore/) deterministically:
 * fixed keys, salts and nonces from a seeded generator, the minimum KDF cost.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/keystore.h"
#include "crypto/secp256k1.h"
#include "crypto/tags.h"
#include "crypto/x25519.h"
#include "lib/ist_test.h"

#define PASS "correct horse battery staple"
#define CREATED 1714564800u   /* 2024-05-01T12:00:00Z */

static const enum ist_key_type validator[] = { IST_KEY_ED25519, IST_KEY_SECP256K1, IST_KEY_X25519 };

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
}

static struct ist_keyset *make_keyset(const char *name, const enum ist_key_type *types, size_t n, uint64_t seed)
{
	struct ist_rng_det det;
	ist_rng_det_init(&det, seed);
	struct ist_keyset *ks = NULL;
	ck_assert_int_eq(ist_keyset_generate(name, types, n, &det.rng, &ks), 0);
	return ks;
}

/* The key file text of a keyset, encrypted under PASS at the minimum cost. */
static char *make_file(struct ist_keyset *ks, uint64_t seed)
{
	struct ist_rng_det det;
	ist_rng_det_init(&det, seed);
	struct ist_keystore_kdf kdf = ist_keystore_kdf_min();
	char *json = NULL;
	int r = ist_keystore_encrypt(ks, PASS, strlen(PASS), &kdf, &det.rng, CREATED, &json);
	ck_assert_int_eq(r, 0);
	return json;
}

static int parse(const char *text, struct ist_keystore_file *f, char *err, size_t errlen)
{
	return ist_keystore_parse("val1.json", text, strlen(text), f, err, errlen);
}

/* Parses and decrypts text; returns the first error. */
static int parse_and_decrypt(const char *text, const char *pass, char *err, size_t errlen)
{
	struct ist_keystore_file f;
	int r = parse(text, &f, err, errlen);
	if (r < 0)
		return r;
	struct ist_keyset *ks = NULL;
	r = ist_keystore_decrypt("val1.json", &f, pass, strlen(pass), &ks, err, errlen);
	ist_keyset_free(ks);
	return r;
}

static void assert_same_keyset(struct ist_keyset *a, struct ist_keyset *b)
{
	const struct ist_keyset_info *ia = ist_keyset_info(a), *ib = ist_keyset_info(b);
	ck_assert_str_eq(ia->name, ib->name);
	ck_assert_uint_eq(ia->n_keys, ib->n_keys);
	ck_assert_int_eq(ist_keyset_unseal(a), 0);
	ck_assert_int_eq(ist_keyset_unseal(b), 0);
	for (size_t i = 0; i < ia->n_keys; i++) {
		ck_assert_int_eq(ia->keys[i].type, ib->keys[i].type);
		ck_assert_uint_eq(ia->keys[i].pub_len, ib->keys[i].pub_len);
		ck_assert_mem_eq(ia->keys[i].pub, ib->keys[i].pub, ia->keys[i].pub_len);
		ck_assert_mem_eq(ist_keyset_secret(a, i), ist_keyset_secret(b, i), IST_KEYSTORE_SECRET_BYTES);
	}
	ist_keyset_seal(a);
	ist_keyset_seal(b);
}

/* ---- JSON surgery on a valid file ---------------------------------------- */

static json_t *jload(const char *text)
{
	json_error_t e;
	json_t *root = json_loads(text, 0, &e);
	ck_assert_msg(root != NULL, "test file is not JSON: %s", e.text);
	return root;
}

static char *jdump(json_t *root)
{
	char *s = json_dumps(root, JSON_INDENT(2));
	ck_assert_ptr_nonnull(s);
	json_decref(root);
	return s;
}

static json_t *jkey(json_t *root, size_t i)
{
	json_t *k = json_array_get(json_object_get(root, "keys"), i);
	ck_assert_ptr_nonnull(k);
	return k;
}

/* Flips the lowest bit of the hex digit at `pos` of a string field. */
static void flip_hex(json_t *obj, const char *key, size_t pos)
{
	const char *s = json_string_value(json_object_get(obj, key));
	ck_assert_ptr_nonnull(s);
	char *c = strdup(s);
	ck_assert_uint_lt(pos, strlen(c));
	c[pos] = c[pos] == '0' ? '1' : '0';
	json_object_set_new(obj, key, json_string(c));
	free(c);
}

/* ---- round trips ---------------------------------------------------------- */

START_TEST(test_roundtrip_each_kind)
{
	static const char *const kinds[] = { "validator", "ed25519", "secp256k1", "x25519" };
	for (size_t k = 0; k < IST_ARRAY_SIZE(kinds); k++) {
		enum ist_key_type types[IST_KEYSTORE_MAX_KEYS];
		size_t n = 0;
		ck_assert_int_eq(ist_keyset_kind_parse(kinds[k], types, &n), 0);
		ck_assert_uint_eq(n, strcmp(kinds[k], "validator") == 0 ? 3 : 1);
		struct ist_keyset *ks = make_keyset("val1", types, n, 7 + k);
		char *text = make_file(ks, 99);

		struct ist_keystore_file f;
		char err[256] = "";
		ck_assert_int_eq(parse(text, &f, err, sizeof(err)), 0);
		ck_assert_str_eq(f.info.name, "val1");
		ck_assert_str_eq(f.info.created, "2024-05-01T12:00:00Z");
		ck_assert_uint_eq(f.info.n_keys, n);
		ck_assert_uint_eq(f.kdf.opslimit, crypto_pwhash_OPSLIMIT_MIN);
		ck_assert_uint_eq(f.kdf.memlimit, crypto_pwhash_MEMLIMIT_MIN);
		for (size_t i = 0; i < n; i++) {
			ck_assert_int_eq(f.info.keys[i].type, types[i]);
			ck_assert_mem_eq(f.info.keys[i].pub, ist_keyset_info(ks)->keys[i].pub, f.info.keys[i].pub_len);
		}
		struct ist_keyset *back = NULL;
		ck_assert_int_eq(ist_keystore_decrypt("val1.json", &f, PASS, strlen(PASS), &back, err, sizeof(err)), 0);
		assert_same_keyset(ks, back);

		/* the public parts say what they are */
		json_t *root = jload(text);
		ck_assert_str_eq(json_string_value(json_object_get(root, "format")), "isthmus-keystore");
		ck_assert_int_eq(json_integer_value(json_object_get(root, "version")), 1);
		for (size_t i = 0; i < n; i++) {
			json_t *key = jkey(root, i);
			ck_assert_str_eq(json_string_value(json_object_get(key, "type")), ist_key_type_name(types[i]));
			ck_assert_str_eq(json_string_value(json_object_get(key, "purpose")), ist_key_type_purpose(types[i]));
			ck_assert_int_eq(json_object_get(key, "address") != NULL, types[i] == IST_KEY_SECP256K1);
		}
		json_decref(root);
		ist_keyset_free(back);
		ist_keyset_free(ks);
		free(text);
	}
}
END_TEST

START_TEST(test_public_keys_are_those_of_the_secrets)
{
	struct ist_keyset *ks = make_keyset("v", validator, 3, 1);
	const struct ist_keyset_info *info = ist_keyset_info(ks);
	ck_assert_int_eq(ist_keyset_unseal(ks), 0);
	uint8_t pub[33], addr[20];
	ck_assert_int_eq(ist_ed25519_pubkey(ist_keyset_secret(ks, 0), pub), 0);
	ck_assert_mem_eq(pub, info->keys[0].pub, 32);
	ck_assert_int_eq(ist_secp_pubkey(ist_keyset_secret(ks, 1), pub), 0);
	ck_assert_mem_eq(pub, info->keys[1].pub, 33);
	ck_assert_int_eq(ist_secp_eth_address(pub, addr), 0);
	ck_assert_mem_eq(addr, info->keys[1].addr, 20);
	ck_assert_int_eq(ist_x25519_pubkey(ist_keyset_secret(ks, 2), pub), 0);
	ck_assert_mem_eq(pub, info->keys[2].pub, 32);

	/* the same secrets imported give the same keyset */
	uint8_t *secrets = sodium_malloc(96);
	ck_assert_ptr_nonnull(secrets);
	for (size_t i = 0; i < 3; i++)
		memcpy(secrets + 32 * i, ist_keyset_secret(ks, i), 32);
	ist_keyset_seal(ks);
	struct ist_keyset *imp = NULL;
	ck_assert_int_eq(ist_keyset_from_secrets("v", validator, 3, secrets, 96, &imp), 0);
	assert_same_keyset(ks, imp);
	ist_keyset_free(imp);

	/* a secp256k1 secret of zero is no key */
	memset(secrets + 32, 0, 32);
	ck_assert_int_eq(ist_keyset_from_secrets("v", validator, 3, secrets, 96, &imp), -IST_EBADKEY);
	ck_assert_int_eq(ist_keyset_from_secrets("v", validator, 3, secrets, 64, &imp), -IST_EINVAL);
	sodium_free(secrets);
	ist_keyset_free(ks);
}
END_TEST

START_TEST(test_bad_arguments)
{
	struct ist_rng_det det;
	ist_rng_det_init(&det, 1);
	struct ist_keyset *ks = NULL;
	static const enum ist_key_type twice[] = { IST_KEY_ED25519, IST_KEY_ED25519 };
	ck_assert_int_eq(ist_keyset_generate("v", twice, 2, &det.rng, &ks), -IST_EINVAL);
	ck_assert_int_eq(ist_keyset_generate("v", validator, 0, &det.rng, &ks), -IST_EINVAL);
	ck_assert_int_eq(ist_keyset_generate("../etc/passwd", validator, 3, &det.rng, &ks), -IST_EINVAL);
	ck_assert_ptr_null(ks);

	ck_assert(ist_keystore_name_valid("val-1_a.b"));
	ck_assert(!ist_keystore_name_valid(""));
	ck_assert(!ist_keystore_name_valid(".hidden"));
	ck_assert(!ist_keystore_name_valid("-opt"));
	ck_assert(!ist_keystore_name_valid("a/b"));
	ck_assert(!ist_keystore_name_valid("a b"));
	char long_name[IST_KEYSTORE_NAME_MAX + 2];
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert(!ist_keystore_name_valid(long_name));
	long_name[IST_KEYSTORE_NAME_MAX] = '\0';
	ck_assert(ist_keystore_name_valid(long_name));

	enum ist_key_type types[3];
	size_t n;
	ck_assert_int_eq(ist_keyset_kind_parse("rsa", types, &n), -IST_EINVAL);

	/* an empty passphrase and a cost below the minimum are refused */
	ks = make_keyset("v", validator, 3, 1);
	char *json = NULL;
	struct ist_keystore_kdf kdf = ist_keystore_kdf_min();
	ck_assert_int_eq(ist_keystore_encrypt(ks, "", 0, &kdf, &det.rng, CREATED, &json), -IST_EINVAL);
	kdf.memlimit = crypto_pwhash_MEMLIMIT_MIN - 1;
	ck_assert_int_eq(ist_keystore_encrypt(ks, PASS, strlen(PASS), &kdf, &det.rng, CREATED, &json), -IST_EINVAL);
	ck_assert_ptr_null(json);
	ist_keyset_free(ks);
}
END_TEST

/* ---- the file says nothing secret ----------------------------------------- */

static bool contains_ci(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

START_TEST(test_no_secret_in_file)
{
	struct ist_keyset *ks = make_keyset("val1", validator, 3, 5);
	char *text = make_file(ks, 6);
	size_t len = strlen(text);
	ck_assert_int_eq(ist_keyset_unseal(ks), 0);
	for (size_t i = 0; i < 3; i++) {
		const uint8_t *sec = ist_keyset_secret(ks, i);
		char hex[65];
		ist_hex_encode(sec, 32, hex);
		ck_assert_msg(!contains_ci(text, hex), "secret %zu appears in hex", i);
		/* nor any 8-byte window of it, raw */
		for (size_t off = 0; off + 8 <= 32; off++)
			ck_assert_ptr_null(memmem(text, len, sec + off, 8));
		/* nor a 16-digit window of its hex */
		for (size_t off = 0; off + 16 <= 64; off += 4) {
			char win[17];
			memcpy(win, hex + off, 16);
			win[16] = '\0';
			ck_assert_msg(!contains_ci(text, win), "secret %zu hex window at %zu appears", i, off);
		}
	}
	ist_keyset_seal(ks);
	ck_assert_ptr_null(strstr(text, PASS));
	ist_keyset_free(ks);
	free(text);
}
END_TEST

/* ---- wrong passphrase and tampering ----------------------------------------- */

START_TEST(test_wrong_passphrase)
{
	struct ist_keyset *ks = make_keyset("val1", validator, 3, 5);
	char *text = make_file(ks, 6);
	char err[256] = "";
	ck_assert_int_eq(parse_and_decrypt(text, "Correct horse battery staple", err, sizeof(err)), -IST_EDECRYPT);
	ck_assert_str_eq(err, "val1.json: wrong passphrase or tampered file");
	ck_assert_int_eq(parse_and_decrypt(text, PASS " ", err, sizeof(err)), -IST_EDECRYPT);
	ck_assert_int_eq(parse_and_decrypt(text, PASS, err, sizeof(err)), 0);
	ist_keyset_free(ks);
	free(text);
}
END_TEST

/* An edit of the file; returns the edited text (caller frees). */
typedef void (*edit_fn)(json_t *root);

static char *edited(const char *text, edit_fn fn)
{
	json_t *root = jload(text);
	fn(root);
	return jdump(root);
}

static void ed_ciphertext_first(json_t *r) { flip_hex(json_object_get(r, "cipher"), "ciphertext", 0); }
static void ed_ciphertext_last(json_t *r)
{
	json_t *c = json_object_get(r, "cipher");
	flip_hex(c, "ciphertext", strlen(json_string_value(json_object_get(c, "ciphertext"))) - 1);
}
static void ed_salt(json_t *r) { flip_hex(json_object_get(r, "kdf"), "salt", 5); }
static void ed_nonce(json_t *r) { flip_hex(json_object_get(r, "cipher"), "nonce", 47); }
static void ed_name(json_t *r) { json_object_set_new(r, "name", json_string("val2")); }
static void ed_created(json_t *r) { json_object_set_new(r, "created", json_string("2024-05-01T12:00:01Z")); }
static void ed_opslimit(json_t *r) { json_object_set_new(json_object_get(r, "kdf"), "opslimit", json_integer(2)); }
static void ed_x25519_pub(json_t *r) { flip_hex(jkey(r, 2), "public", 10); }

/* Replaces the node key by another valid Ed25519 key: the parser accepts it,
 * the AEAD must not. */
static void ed_ed25519_pub(json_t *r)
{
	uint8_t seed[32] = { 1 }, pub[32];
	ck_assert_int_eq(ist_ed25519_pubkey(seed, pub), 0);
	char hex[65];
	ist_hex_encode(pub, 32, hex);
	json_object_set_new(jkey(r, 0), "public", json_string(hex));
}

/* Replaces the attestation key by another valid key with its right address. */
static void ed_secp_pub(json_t *r)
{
	uint8_t sec[32] = { 0 }, pub[33], addr[20];
	sec[31] = 7;
	ck_assert_int_eq(ist_secp_pubkey(sec, pub), 0);
	ck_assert_int_eq(ist_secp_eth_address(pub, addr), 0);
	char hex[67], a[43];
	ist_hex_encode(pub, 33, hex);
	ist_eth_address_format(addr, a);
	json_object_set_new(jkey(r, 1), "public", json_string(hex));
	json_object_set_new(jkey(r, 1), "address", json_string(a));
}

/* Drops the last key (and its part of the ciphertext). */
static void ed_drop_key(json_t *r)
{
	json_array_remove(json_object_get(r, "keys"), 2);
	json_t *c = json_object_get(r, "cipher");
	const char *ct = json_string_value(json_object_get(c, "ciphertext"));
	char *cut = strdup(ct);
	cut[strlen(cut) - 64] = '\0';
	json_object_set_new(c, "ciphertext", json_string(cut));
	free(cut);
}

START_TEST(test_tampering_is_detected)
{
	static const struct {
		const char *what;
		edit_fn fn;
	} edits[] = {
		{ "ciphertext first byte", ed_ciphertext_first },
		{ "ciphertext tag", ed_ciphertext_last },
		{ "salt", ed_salt },
		{ "nonce", ed_nonce },
		{ "name", ed_name },
		{ "created", ed_created },
		{ "kdf opslimit", ed_opslimit },
		{ "ed25519 public key", ed_ed25519_pub },
		{ "secp256k1 public key and address", ed_secp_pub },
		{ "x25519 public key", ed_x25519_pub },
		{ "a key dropped", ed_drop_key },
	};
	struct ist_keyset *ks = make_keyset("val1", validator, 3, 5);
	char *text = make_file(ks, 6);
	for (size_t i = 0; i < IST_ARRAY_SIZE(edits); i++) {
		char *bad = edited(text, edits[i].fn);
		char err[256] = "";
		int r = parse_and_decrypt(bad, PASS, err, sizeof(err));
		ck_assert_msg(r == -IST_EDECRYPT, "%s: got %s (%s)", edits[i].what, ist_errname(r), err);
		ck_assert_str_eq(err, "val1.json: wrong passphrase or tampered file");
		free(bad);
	}
	/* the untouched file still decrypts (the edits above are the cause) */
	char err[256];
	ck_assert_int_eq(parse_and_decrypt(text, PASS, err, sizeof(err)), 0);
	ist_keyset_free(ks);
	free(text);
}
END_TEST

/* The associated data as DESIGN fixes it, rebuilt here independently, so a
 * file whose public key and AEAD agree but whose secret does not can be made:
 * that is what the re-derivation after decryption is for. */
static void put_var(struct ist_buf *b, const void *p, size_t n) { ist_buf_put_var(b, p, n); }

START_TEST(test_public_key_mismatch_after_decryption)
{
	struct ist_keyset *ks = make_keyset("val1", validator, 3, 5);
	char *text = make_file(ks, 6);
	struct ist_keystore_file f;
	char err[256] = "";
	ck_assert_int_eq(parse(text, &f, err, sizeof(err)), 0);

	/* swap in another valid ed25519 public key */
	uint8_t seed[32] = { 9 };
	ck_assert_int_eq(ist_ed25519_pubkey(seed, f.info.keys[0].pub), 0);

	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put(&b, IST_TAG_KEYSTORE, strlen(IST_TAG_KEYSTORE));
	ist_buf_put_be32(&b, 1);
	put_var(&b, f.info.name, strlen(f.info.name));
	put_var(&b, f.info.created, strlen(f.info.created));
	ist_buf_put_u8(&b, 3);
	for (size_t i = 0; i < 3; i++) {
		const char *t = ist_key_type_name(f.info.keys[i].type), *p = ist_key_type_purpose(f.info.keys[i].type);
		put_var(&b, t, strlen(t));
		put_var(&b, p, strlen(p));
		put_var(&b, f.info.keys[i].pub, f.info.keys[i].pub_len);
	}
	put_var(&b, "argon2id13", 10);
	ist_buf_put_be64(&b, f.kdf.opslimit);
	ist_buf_put_be64(&b, f.kdf.memlimit);
	put_var(&b, f.salt, 16);
	put_var(&b, "xchacha20poly1305-ietf", 22);
	uint8_t *ad;
	size_t ad_len;
	ck_assert_int_eq(ist_buf_take(&b, &ad, &ad_len), 0);

	uint8_t key[32];
	ck_assert_int_eq(crypto_pwhash(key, 32, PASS, strlen(PASS), f.salt, f.kdf.opslimit, f.kdf.memlimit,
				       crypto_pwhash_ALG_ARGON2ID13), 0);
	uint8_t plain[96];
	ck_assert_int_eq(ist_keyset_unseal(ks), 0);
	for (size_t i = 0; i < 3; i++)
		memcpy(plain + 32 * i, ist_keyset_secret(ks, i), 32);
	ist_keyset_seal(ks);
	unsigned long long clen;
	ck_assert_int_eq(crypto_aead_xchacha20poly1305_ietf_encrypt(f.ciphertext, &clen, plain, 96, ad, ad_len, NULL,
								    f.nonce, key), 0);
	sodium_memzero(plain, sizeof(plain));

	struct ist_keyset *out = NULL;
	ck_assert_int_eq(ist_keystore_decrypt("val1.json", &f, PASS, strlen(PASS), &out, err, sizeof(err)),
			 -IST_EBADKEY);
	ck_assert_str_eq(err, "val1.json: public key does not match secret (keys[0], ed25519)");
	ck_assert_ptr_null(out);

	/* the same AD with the original key decrypts: the layout above is the
	 * one the keystore uses */
	struct ist_keystore_file g;
	ck_assert_int_eq(parse(text, &g, err, sizeof(err)), 0);
	memcpy(f.info.keys[0].pub, g.info.keys[0].pub, 32);
	f.ciphertext_len = g.ciphertext_len;
	memcpy(f.ciphertext, g.ciphertext, g.ciphertext_len);
	ck_assert_int_eq(ist_keystore_decrypt("val1.json", &f, PASS, strlen(PASS), &out, err, sizeof(err)), 0);
	ist_keyset_free(out);
	free(ad);
	ist_keyset_free(ks);
	free(text);
}
END_TEST

/* ---- malformed files --------------------------------------------------------- */

START_TEST(test_truncated_every_length)
{
	struct ist_keyset *ks = make_keyset("val1", validator, 3, 5);
	char *text = make_file(ks, 6);
	size_t end = strlen(text);   /* then back to the closing brace */
	while (end > 0 && text[end] != '}')
		end--;
	for (size_t cut = 0; cut <= end; cut++) {
		struct ist_keystore_file f;
		char err[256] = "";
		char *part = malloc(cut ? cut : 1);
		memcpy(part, text, cut);   /* exact size: ASan sees any over-read */
		int r = ist_keystore_parse("val1.json", part, cut, &f, err, sizeof(err));
		free(part);
		ck_assert_msg(r == -IST_ETRUNCATED, "cut %zu: %s (%s)", cut, ist_errname(r), err);
		ck_assert_msg(strncmp(err, "val1.json: ", 11) == 0, "cut %zu: %s", cut, err);
		ck_assert_ptr_null(strchr(err, '\n'));
		if (cut > 0)
			ck_assert_msg(strstr(err, "truncated or not JSON (line ") != NULL, "cut %zu: %s", cut, err);
	}
	ist_keyset_free(ks);
	free(text);
}
END_TEST

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *fp = fopen(path, "wb");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(test_truncated_files_on_disk)
{
	char *dir = ist_test_tmpdir("ks-trunc");
	struct ist_keyset *ks = make_keyset("val1", validator, 3, 5);
	char *text = make_file(ks, 6);
	size_t len = strlen(text);
	char *path = NULL;
	ck_assert_int_gt(asprintf(&path, "%s/val1.json", dir), 0);
	for (size_t i = 0; i < 20; i++) {
		size_t cut = (len - 2) * i / 20;
		write_text(path, text, cut);
		char err[512] = "";
		struct ist_keyset *out = NULL;
		int r = ist_keystore_unlock(path, PASS, strlen(PASS), &out, err, sizeof(err));
		ck_assert_int_eq(r, -IST_ETRUNCATED);
		ck_assert_ptr_null(out);
		ck_assert_msg(strncmp(err, path, strlen(path)) == 0 && err[strlen(path)] == ':', "%s", err);
		ck_assert_ptr_null(strchr(err, '\n'));
	}
	free(path);
	ist_keyset_free(ks);
	free(text);
	ist_test_rmtree(dir);
	free(dir);
}
END_TEST

static void ed_no_salt(json_t *r) { json_object_del(json_object_get(r, "kdf"), "salt"); }
static void ed_no_keys(json_t *r) { json_object_del(r, "keys"); }
static void ed_version2(json_t *r) { json_object_set_new(r, "version", json_integer(2)); }
static void ed_version_str(json_t *r) { json_object_set_new(r, "version", json_string("1")); }
static void ed_format(json_t *r) { json_object_set_new(r, "format", json_string("ethereum-keystore")); }
static void ed_unknown(json_t *r) { json_object_set_new(r, "comment", json_string("hi")); }
static void ed_ops0(json_t *r) { json_object_set_new(json_object_get(r, "kdf"), "opslimit", json_integer(0)); }
static void ed_ops_huge(json_t *r) { json_object_set_new(json_object_get(r, "kdf"), "opslimit", json_integer(65)); }
static void ed_mem_small(json_t *r) { json_object_set_new(json_object_get(r, "kdf"), "memlimit", json_integer(4096)); }
static void ed_mem_huge(json_t *r)
{
	json_object_set_new(json_object_get(r, "kdf"), "memlimit", json_integer(((json_int_t)1 << 30) + 1));
}
static void ed_mem_neg(json_t *r) { json_object_set_new(json_object_get(r, "kdf"), "memlimit", json_integer(-1)); }
static void ed_kdf_name(json_t *r) { json_object_set_new(json_object_get(r, "kdf"), "name", json_string("scrypt")); }
static void ed_cipher_name(json_t *r)
{
	json_object_set_new(json_object_get(r, "cipher"), "name", json_string("aes-256-gcm"));
}
static void ed_purpose(json_t *r) { json_object_set_new(jkey(r, 0), "purpose", json_string("attestation")); }
static void ed_type(json_t *r) { json_object_set_new(jkey(r, 0), "type", json_string("rsa")); }
static void ed_dup_type(json_t *r) { json_array_append(json_object_get(r, "keys"), jkey(r, 0)); json_array_remove(json_object_get(r, "keys"), 2); }
static void ed_address_case(json_t *r)
{
	const char *a = json_string_value(json_object_get(jkey(r, 1), "address"));
	char *l = strdup(a);
	for (char *c = l + 2; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
		else if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	json_object_set_new(jkey(r, 1), "address", json_string(l));
	free(l);
}
static void ed_secp_not_point(json_t *r)
{
	json_object_set_new(jkey(r, 1), "public",
			    json_string("02ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"));
}
static void ed_salt_short(json_t *r) { json_object_set_new(json_object_get(r, "kdf"), "salt", json_string("00ff")); }
static void ed_salt_nothex(json_t *r)
{
	json_object_set_new(json_object_get(r, "kdf"), "salt", json_string("zz0102030405060708090a0b0c0d0e0f"));
}
static void ed_ct_short(json_t *r) { json_object_set_new(json_object_get(r, "cipher"), "ciphertext", json_string("00")); }
static void ed_name_path(json_t *r) { json_object_set_new(r, "name", json_string("../x")); }
static void ed_created_bad(json_t *r) { json_object_set_new(r, "created", json_string("yesterday")); }
static void ed_empty_keys(json_t *r) { json_array_clear(json_object_get(r, "keys")); }
static void ed_key_not_obj(json_t *r) { json_array_set_new(json_object_get(r, "keys"), 0, json_integer(1)); }
static void ed_extra_addr(json_t *r) { json_object_set_new(jkey(r, 0), "address", json_string("0x00")); }

START_TEST(test_malformed_files_are_named)
{
	static const struct {
		edit_fn fn;
		int err;
		const char *msg;
	} cases[] = {
		{ ed_no_salt, -IST_EPARSE, "val1.json: not a keystore file (missing field \"kdf.salt\")" },
		{ ed_no_keys, -IST_EPARSE, "val1.json: not a keystore file (missing field \"keys\")" },
		{ ed_version2, -IST_EUNSUPPORTED, "val1.json: unsupported keystore version 2 (this isthmus reads version 1)" },
		{ ed_version_str, -IST_EPARSE, "val1.json: not a keystore file (field \"version\" is not an integer)" },
		{ ed_format, -IST_EPARSE, "val1.json: not a keystore file (field \"format\" is not \"isthmus-keystore\")" },
		{ ed_unknown, -IST_EPARSE, "val1.json: not a keystore file (unknown field \"comment\")" },
		{ ed_ops0, -IST_ERANGE, NULL },
		{ ed_ops_huge, -IST_ERANGE, NULL },
		{ ed_mem_small, -IST_ERANGE, NULL },
		{ ed_mem_huge, -IST_ERANGE, NULL },
		{ ed_mem_neg, -IST_ERANGE, NULL },
		{ ed_kdf_name, -IST_EUNSUPPORTED, NULL },
		{ ed_cipher_name, -IST_EUNSUPPORTED, NULL },
		{ ed_purpose, -IST_EPARSE, "val1.json: not a keystore file (field \"keys[0].purpose\" must be \"node\" for type ed25519)" },
		{ ed_type, -IST_EUNSUPPORTED, NULL },
		{ ed_dup_type, -IST_EPARSE, "val1.json: not a keystore file (two ed25519 keys in field \"keys\")" },
		{ ed_address_case, -IST_EBADKEY, "val1.json: field \"keys[1].address\" is not the EIP-55 address of its public key" },
		{ ed_secp_not_point, -IST_EBADKEY, NULL },
		{ ed_salt_short, -IST_EPARSE, "val1.json: not a keystore file (field \"kdf.salt\" is not a 16-byte hex string)" },
		{ ed_salt_nothex, -IST_EPARSE, NULL },
		{ ed_ct_short, -IST_EPARSE, NULL },
		{ ed_name_path, -IST_EPARSE, NULL },
		{ ed_created_bad, -IST_EPARSE, NULL },
		{ ed_empty_keys, -IST_EPARSE, NULL },
		{ ed_key_not_obj, -IST_EPARSE, NULL },
		{ ed_extra_addr, -IST_EPARSE, NULL },
	};
	struct ist_keyset *ks = make_keyset("val1", validator, 3, 5);
	char *text = make_file(ks, 6);
	for (size_t i = 0; i < IST_ARRAY_SIZE(cases); i++) {
		char *bad = edited(text, cases[i].fn);
		struct ist_keystore_file f;
		char err[512] = "";
		int r = parse(bad, &f, err, sizeof(err));
		ck_assert_msg(r == cases[i].err, "case %zu: %s, want %s (%s)", i, ist_errname(r),
			      ist_errname(cases[i].err), err);
		ck_assert_msg(strncmp(err, "val1.json: ", 11) == 0, "case %zu: %s", i, err);
		ck_assert_ptr_null(strchr(err, '\n'));
		if (cases[i].msg)
			ck_assert_str_eq(err, cases[i].msg);
		if (cases[i].err == -IST_ERANGE)
			ck_assert_msg(strstr(err, "KDF cost out of bounds") != NULL, "%s", err);
		free(bad);
	}

	/* not JSON at all, and JSON that is no object */
	static const char *const junk[] = { "hello", "{\"format\":", "[]", "{} trailing", "\x01\x02", "{\"a\":1,\"a\":2}" };
	for (size_t i = 0; i < IST_ARRAY_SIZE(junk); i++) {
		struct ist_keystore_file f;
		char err[256] = "";
		int r = parse(junk[i], &f, err, sizeof(err));
		ck_assert_msg(r == -IST_EPARSE || r == -IST_ETRUNCATED, "junk %zu: %s", i, ist_errname(r));
		ck_assert_msg(strncmp(err, "val1.json: ", 11) == 0, "junk %zu: %s", i, err);
	}
	struct ist_keystore_file f;
	char err[256];
	ck_assert_int_eq(parse("{\"format\":", &f, err, sizeof(err)), -IST_ETRUNCATED);
	ck_assert_str_eq(err, "val1.json: truncated or not JSON (line 1, column 10)");
	ck_assert_int_eq(parse("  \n", &f, err, sizeof(err)), -IST_ETRUNCATED);
	ck_assert_str_eq(err, "val1.json: empty file, not a keystore file");

	/* a NUL or a control character in a label never splits the line */
	ck_assert_int_eq(ist_keystore_parse("a\nb.json", "x", 1, &f, err, sizeof(err)), -IST_EPARSE);
	ck_assert_ptr_null(strchr(err, '\n'));

	/* too large to read */
	size_t big = IST_KEYSTORE_FILE_MAX + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	ck_assert_int_eq(ist_keystore_parse("val1.json", huge, big, &f, err, sizeof(err)), -IST_ETOOBIG);
	free(huge);

	ist_keyset_free(ks);
	free(text);
}
END_TEST

START_TEST(test_parse_error_never_quotes_input)
{
	/* a secret file given where a keystore is expected: its bytes must not
	 * come back in the error line */
	const char *secret = "4f3a9b1c2d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdd\n";
	struct ist_keystore_file f;
	char err[256] = "";
	ck_assert_int_lt(parse(secret, &f, err, sizeof(err)), 0);
	ck_assert_ptr_null(strstr(err, "4f3a"));
	ck_assert_ptr_null(strstr(err, "aabbccdd"));
}
END_TEST

/* ---- files, directories, modes -------------------------------------------------- */

static mode_t mode_of(const char *path)
{
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

START_TEST(test_write_unlock_modes)
{
	char *base = ist_test_tmpdir("ks-files");
	char *dir = NULL;
	ck_assert_int_gt(asprintf(&dir, "%s/home/keys", base), 0);
	mode_t old = umask(022);
	struct ist_keyset *ks = make_keyset("val1", validator, 3, 5);
	struct ist_keystore_kdf kdf = ist_keystore_kdf_min();
	char *path = NULL;
	char err[512] = "";
	ck_assert_int_eq(ist_keystore_write(dir, ks, PASS, strlen(PASS), &kdf, false, &path, err, sizeof(err)), 0);
	umask(old);
	ck_assert_uint_eq(mode_of(dir), 0700);
	ck_assert_uint_eq(mode_of(path), 0600);
	ck_assert(strstr(path, "/home/keys/val1.json") != NULL);

	struct ist_keystore_file f;
	ck_assert_int_eq(ist_keystore_load_public(path, &f, err, sizeof(err)), 0);
	ck_assert_str_eq(f.info.name, "val1");
	ck_assert_uint_eq(strlen(f.info.created), 20);

	struct ist_keyset *back = NULL;
	ck_assert_int_eq(ist_keystore_unlock(path, PASS, strlen(PASS), &back, err, sizeof(err)), 0);
	assert_same_keyset(ks, back);
	ist_keyset_free(back);

	ck_assert_int_eq(ist_keystore_unlock(path, "nope", 4, &back, err, sizeof(err)), -IST_EDECRYPT);
	char *want = NULL;
	ck_assert_int_gt(asprintf(&want, "%s: wrong passphrase or tampered file", path), 0);
	ck_assert_str_eq(err, want);
	free(want);

	/* no overwrite without force; with force the new keys replace the old */
	struct ist_keyset *ks2 = make_keyset("val1", validator, 3, 77);
	ck_assert_int_eq(ist_keystore_write(dir, ks2, PASS, strlen(PASS), &kdf, false, NULL, err, sizeof(err)),
			 -IST_EEXISTS);
	ck_assert(strstr(err, "already exists (use --force") != NULL);
	ck_assert_int_eq(ist_keystore_unlock(path, PASS, strlen(PASS), &back, err, sizeof(err)), 0);
	assert_same_keyset(ks, back);
	ist_keyset_free(back);
	ck_assert_int_eq(ist_keystore_write(dir, ks2, PASS, strlen(PASS), &kdf, true, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(mode_of(path), 0600);
	ck_assert_int_eq(ist_keystore_unlock(path, PASS, strlen(PASS), &back, err, sizeof(err)), 0);
	assert_same_keyset(ks2, back);
	ist_keyset_free(back);

	/* a second keyset, a stray file, a temp file: the list has the key files */
	struct ist_keyset *ks3 = make_keyset("a-node", validator, 1, 78);
	ck_assert_int_eq(ist_keystore_write(dir, ks3, PASS, strlen(PASS), &kdf, false, NULL, err, sizeof(err)), 0);
	char *stray = NULL;
	ck_assert_int_gt(asprintf(&stray, "%s/notes.txt", dir), 0);
	write_text(stray, "x", 1);
	free(stray);
	ck_assert_int_gt(asprintf(&stray, "%s/.val1.json.abc123", dir), 0);
	write_text(stray, "x", 1);
	free(stray);
	char **names = NULL;
	size_t n = 0;
	ck_assert_int_eq(ist_keystore_list(dir, &names, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "a-node");
	ck_assert_str_eq(names[1], "val1");
	ist_keystore_names_free(names, n);

	/* delete, then the key is missing, and said so by name */
	ck_assert_int_eq(ist_keystore_delete(dir, "val1", err, sizeof(err)), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(ist_keystore_delete(dir, "val1", err, sizeof(err)), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_keystore_unlock(path, PASS, strlen(PASS), &back, err, sizeof(err)), -IST_ENOTFOUND);
	ck_assert_int_gt(asprintf(&want, "%s: no such key file", path), 0);
	ck_assert_str_eq(err, want);
	free(want);
	ck_assert_int_eq(ist_keystore_delete(dir, "../x", err, sizeof(err)), -IST_EINVAL);

	ist_keyset_free(ks);
	ist_keyset_free(ks2);
	ist_keyset_free(ks3);
	free(path);
	free(dir);
	ist_test_rmtree(base);
	free(base);
}
END_TEST

START_TEST(test_open_directory_refused)
{
	char *base = ist_test_tmpdir("ks-perm");
	char *dir = NULL;
	ck_assert_int_gt(asprintf(&dir, "%s/keys", base), 0);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	char err[512] = "";
	ck_assert_int_eq(ist_keystore_dir_check(dir, false, err, sizeof(err)), 0);

	static const mode_t bad[] = { 0755, 0705, 0750, 0701, 0710, 0777 };
	struct ist_keyset *ks = make_keyset("val1", validator, 3, 5);
	struct ist_keystore_kdf kdf = ist_keystore_kdf_min();
	for (size_t i = 0; i < IST_ARRAY_SIZE(bad); i++) {
		ck_assert_int_eq(chmod(dir, bad[i]), 0);
		ck_assert_int_eq(ist_keystore_dir_check(dir, false, err, sizeof(err)), -IST_EPERM);
		ck_assert_msg(strncmp(err, dir, strlen(dir)) == 0, "%s", err);
		ck_assert_msg(strstr(err, "accessible by group or others") != NULL, "%s", err);
		ck_assert_msg(strstr(err, "chmod 700") != NULL, "%s", err);
		ck_assert_int_eq(ist_keystore_write(dir, ks, PASS, strlen(PASS), &kdf, false, NULL, err, sizeof(err)),
				 -IST_EPERM);
	}
	ck_assert_int_eq(chmod(dir, 0700), 0);
	/* nothing was written while the directory was open */
	char **names = NULL;
	size_t n = 9;
	ck_assert_int_eq(ist_keystore_list(dir, &names, &n, err, sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
	ist_keystore_names_free(names, n);

	/* missing: refused without create, made 0700 with it */
	char *sub = NULL;
	ck_assert_int_gt(asprintf(&sub, "%s/a/b", base), 0);
	ck_assert_int_eq(ist_keystore_dir_check(sub, false, err, sizeof(err)), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_keystore_dir_check(sub, true, err, sizeof(err)), 0);
	ck_assert_uint_eq(mode_of(sub), 0700);
	/* a file is not a directory */
	char *file = NULL;
	ck_assert_int_gt(asprintf(&file, "%s/plain", base), 0);
	write_text(file, "x", 1);
	ck_assert_int_eq(ist_keystore_dir_check(file, false, err, sizeof(err)), -IST_EINVAL);

	ist_keyset_free(ks);
	free(file);
	free(sub);
	free(dir);
	ist_test_rmtree(base);
	free(base);
}
END_TEST

/* A path that is no regular file is refused at once, naming it: a FIFO must
 * not make the reader wait for a writer (this test would hang, then time
 * out), nor a directory be read. */
START_TEST(test_special_files_refused)
{
	char *base = ist_test_tmpdir("ks-special");
	char *fifo = NULL, *dir = NULL, *want = NULL;
	ck_assert_int_gt(asprintf(&fifo, "%s/fifo.json", base), 0);
	ck_assert_int_gt(asprintf(&dir, "%s/dir.json", base), 0);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	const char *paths[] = { fifo, dir };
	for (size_t i = 0; i < IST_ARRAY_SIZE(paths); i++) {
		struct ist_keystore_file f;
		struct ist_keyset *ks = NULL;
		char err[512] = "";
		ck_assert_int_eq(ist_keystore_load_public(paths[i], &f, err, sizeof(err)), -IST_EINVAL);
		ck_assert_int_gt(asprintf(&want, "%s: not a regular file", paths[i]), 0);
		ck_assert_str_eq(err, want);
		free(want);
		ck_assert_int_eq(ist_keystore_unlock(paths[i], PASS, strlen(PASS), &ks, err, sizeof(err)), -IST_EINVAL);
		ck_assert_ptr_null(ks);
	}
	free(fifo);
	free(dir);
	ist_test_rmtree(base);
	free(base);
}
END_TEST

START_TEST(test_kdf_limits)
{
	struct ist_keystore_kdf k = ist_keystore_kdf_default();
	ck_assert(ist_keystore_kdf_acceptable(&k));
	ck_assert_uint_eq(k.opslimit, crypto_pwhash_OPSLIMIT_MODERATE);
	ck_assert_uint_eq(k.memlimit, crypto_pwhash_MEMLIMIT_MODERATE);
	k = ist_keystore_kdf_fast();
	ck_assert(ist_keystore_kdf_acceptable(&k));
	ck_assert_uint_eq(k.opslimit, crypto_pwhash_OPSLIMIT_INTERACTIVE);
	k = ist_keystore_kdf_min();
	ck_assert(ist_keystore_kdf_acceptable(&k));
	k.opslimit = 0;
	ck_assert(!ist_keystore_kdf_acceptable(&k));
	k = (struct ist_keystore_kdf){ crypto_pwhash_OPSLIMIT_SENSITIVE, crypto_pwhash_MEMLIMIT_SENSITIVE };
	ck_assert(ist_keystore_kdf_acceptable(&k));   /* 1 GiB is the cap, included */
	k.memlimit++;
	ck_assert(!ist_keystore_kdf_acceptable(&k));
	k = (struct ist_keystore_kdf){ IST_KEYSTORE_OPSLIMIT_MAX + 1, crypto_pwhash_MEMLIMIT_MIN };
	ck_assert(!ist_keystore_kdf_acceptable(&k));
	ck_assert(!ist_keystore_kdf_acceptable(NULL));
}
END_TEST

/* ---- the fuzz corpus ------------------------------------------------------------- */

static void corpus_put(const char *dir, const char *name, const char *text, size_t len)
{
	char *path = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		exit(1);
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(text, 1, len, fp) != len || fclose(fp) != 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		exit(1);
	}
	free(path);
}

static void corpus_edit(const char *dir, const char *name, const char *text, edit_fn fn)
{
	char *bad = edited(text, fn);
	corpus_put(dir, name, bad, strlen(bad));
	free(bad);
}

static int write_corpus(const char *dir)
{
	static const struct {
		const char *kind;
		const char *file;
	} kinds[] = {
		{ "validator", "valid-validator.json" },
		{ "ed25519", "valid-ed25519.json" },
		{ "secp256k1", "valid-secp256k1.json" },
		{ "x25519", "valid-x25519.json" },
	};
	char *validator_text = NULL;
	for (size_t i = 0; i < IST_ARRAY_SIZE(kinds); i++) {
		enum ist_key_type types[3];
		size_t n;
		if (ist_keyset_kind_parse(kinds[i].kind, types, &n) < 0)
			return 1;
		struct ist_keyset *ks = make_keyset(i == 0 ? "val1" : kinds[i].kind, types, n, 1000 + i);
		char *text = make_file(ks, 2000 + i);
		corpus_put(dir, kinds[i].file, text, strlen(text));
		ist_keyset_free(ks);
		if (i == 0)
			validator_text = text;
		else
			free(text);
	}
	const char *t = validator_text;
	size_t len = strlen(t);
	static const unsigned cuts[] = { 1, 10, 50, 90, 99 };   /* percent of the file */
	for (size_t i = 0; i < IST_ARRAY_SIZE(cuts); i++) {
		char name[64];
		snprintf(name, sizeof(name), "truncated-%02u.json", cuts[i]);
		corpus_put(dir, name, t, len * cuts[i] / 100);
	}
	corpus_edit(dir, "tampered-ciphertext.json", t, ed_ciphertext_first);
	corpus_edit(dir, "tampered-pubkey.json", t, ed_ed25519_pub);
	corpus_edit(dir, "tampered-address-case.json", t, ed_address_case);
	corpus_edit(dir, "bad-secp-point.json", t, ed_secp_not_point);
	corpus_edit(dir, "missing-salt.json", t, ed_no_salt);
	corpus_edit(dir, "unknown-field.json", t, ed_unknown);
	corpus_edit(dir, "version-2.json", t, ed_version2);
	corpus_edit(dir, "kdf-too-costly.json", t, ed_mem_huge);
	corpus_edit(dir, "kdf-too-weak.json", t, ed_ops0);
	corpus_edit(dir, "wrong-purpose.json", t, ed_purpose);
	corpus_edit(dir, "duplicate-type.json", t, ed_dup_type);
	corpus_edit(dir, "short-salt.json", t, ed_salt_short);
	corpus_edit(dir, "short-ciphertext.json", t, ed_ct_short);
	corpus_edit(dir, "empty-keys.json", t, ed_empty_keys);
	static const char dup[] = "{\"format\":\"isthmus-keystore\",\"format\":\"x\"}";
	corpus_put(dir, "duplicate-json-key.json", dup, sizeof(dup) - 1);
	static const char big[] = "{\"format\":\"isthmus-keystore\",\"version\":1e400}";
	corpus_put(dir, "huge-number.json", big, sizeof(big) - 1);
	static const char arr[] = "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]";
	corpus_put(dir, "nested-arrays.json", arr, sizeof(arr) - 1);
	static const char garbage[] = { 0x00, (char)0xff, 0x7b, 0x22, (char)0xc3, 0x28, 0x22, 0x3a, 0x0a, 0x01 };
	corpus_put(dir, "garbage.bin", garbage, sizeof(garbage));
	corpus_put(dir, "empty.json", "", 0);
	free(validator_text);
	return 0;
}

/* The corpus is written from inside a Check test: the helpers above use
 * Check's assertions, which need its runner. */
static const char *corpus_dir;

START_TEST(test_write_corpus)
{
	ck_assert_int_eq(write_corpus(corpus_dir), 0);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0) {
		corpus_dir = argv[2];
		Suite *s = suite_create("keystore-corpus");
		TCase *tc = tcase_create("corpus");
		tcase_add_checked_fixture(tc, setup, NULL);
		tcase_add_test(tc, test_write_corpus);
		suite_add_tcase(s, tc);
		return ist_test_run(s);
	}
	Suite *s = suite_create("keystore");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_roundtrip_each_kind);
	tcase_add_test(tc, test_public_keys_are_those_of_the_secrets);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_no_secret_in_file);
	tcase_add_test(tc, test_wrong_passphrase);
	tcase_add_test(tc, test_tampering_is_detected);
	tcase_add_test(tc, test_public_key_mismatch_after_decryption);
	tcase_add_test(tc, test_truncated_every_length);
	tcase_add_test(tc, test_truncated_files_on_disk);
	tcase_add_test(tc, test_malformed_files_are_named);
	tcase_add_test(tc, test_parse_error_never_quotes_input);
	tcase_add_test(tc, test_write_unlock_modes);
	tcase_add_test(tc, test_open_directory_refused);
	tcase_add_test(tc, test_special_files_refused);
	tcase_add_test(tc, test_kdf_limits);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
