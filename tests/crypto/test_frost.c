/*
 * FROST(Ed25519, SHA-512) (crypto/frost.h): every value of the RFC 9591
 * vectors byte for byte (tests/vectors/rfc9591-frost-ed25519-sha512.json),
 * through both layers (RFC-shaped functions and the precomputed session);
 * t-of-n signing with keys from the trusted dealer, verified by libsodium;
 * a bad share found and its signer named; tampered signatures, lists and
 * inputs refused. Also the internal public-data arithmetic
 * (crypto/ge25519.h) against libsodium's results.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/frost.h"
#include "crypto/ge25519.h"
#include "lib/ist_test.h"

#define SB IST_FROST_SCALAR_BYTES
#define EB IST_FROST_ELEMENT_BYTES

/* ---- the vectors ---- */

static json_t *vec;

static const char *vs(const char *key)
{
	json_t *v = json_object_get(json_object_get(vec, "values"), key);
	ck_assert_msg(json_is_string(v), "vector field '%s' missing", key);
	return json_string_value(v);
}

static void vhex(const char *key, uint8_t *out, size_t len)
{
	ist_test_unhex(vs(key), out, len);
}

static void load_vectors(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
	if (vec)
		return;
	char *path = ist_test_vector_path("rfc9591-frost-ed25519-sha512.json");
	json_error_t jerr;
	vec = json_load_file(path, 0, &jerr);
	ck_assert_msg(vec != NULL, "%s: %s", path, jerr.text);
	free(path);
}

START_TEST(test_rfc9591_vectors)
{
	load_vectors();
	ck_assert_str_eq(vs("MAX_PARTICIPANTS"), "3");
	ck_assert_str_eq(vs("MIN_PARTICIPANTS"), "2");
	ck_assert_str_eq(vs("NUM_PARTICIPANTS"), "2");
	ck_assert_str_eq(vs("participant_list"), "1,3");
	const uint16_t n = 3, t = 2;
	const uint16_t ids[2] = {1, 3};

	/* key generation: shares and group key */
	uint8_t secret[SB], coef[1][SB], shares[3][SB], vss[2][EB], gpk[EB];
	vhex("group_secret_key", secret, SB);
	vhex("share_polynomial_coefficients[1]", coef[0], SB);
	ck_assert_int_eq(ist_frost_keygen(secret, (const uint8_t (*)[SB])coef, t, n, shares, vss, gpk), 0);
	ist_test_assert_hex(gpk, EB, vs("group_public_key"));
	char key[64];
	for (int i = 1; i <= 3; i++) {
		snprintf(key, sizeof(key), "P%d participant_share", i);
		ist_test_assert_hex(shares[i - 1], SB, vs(key));
		ck_assert(ist_frost_vss_verify((uint16_t)i, shares[i - 1], (const uint8_t (*)[EB])vss, t));
		uint8_t pub[EB], pub2[EB];
		ck_assert_int_eq(ist_frost_pubkey(shares[i - 1], pub), 0);
		ck_assert_int_eq(ist_frost_vss_pubshare((uint16_t)i, (const uint8_t (*)[EB])vss, t, pub2), 0);
		ck_assert_mem_eq(pub, pub2, EB);
	}
	uint8_t pub_gs[EB];
	ck_assert_int_eq(ist_frost_pubkey(secret, pub_gs), 0);
	ck_assert_mem_eq(pub_gs, gpk, EB);

	/* round one: nonces from the vector's randomness, commitments */
	struct ist_frost_nonce nonce[2];
	struct ist_frost_commitment list[2];
	for (int k = 0; k < 2; k++) {
		int p = ids[k];
		uint8_t hr[32], br[32], hn[SB], bn[SB];
		snprintf(key, sizeof(key), "P%d hiding_nonce_randomness", p);
		vhex(key, hr, 32);
		snprintf(key, sizeof(key), "P%d binding_nonce_randomness", p);
		vhex(key, br, 32);
		ist_frost_nonce_generate(shares[p - 1], hr, hn);
		snprintf(key, sizeof(key), "P%d hiding_nonce", p);
		ist_test_assert_hex(hn, SB, vs(key));
		ist_frost_nonce_generate(shares[p - 1], br, bn);
		snprintf(key, sizeof(key), "P%d binding_nonce", p);
		ist_test_assert_hex(bn, SB, vs(key));
		ck_assert_int_eq(ist_frost_commit(shares[p - 1], hr, br, &nonce[k]), 0);
		ck_assert_mem_eq(nonce[k].hiding, hn, SB);
		ck_assert_mem_eq(nonce[k].binding, bn, SB);
		snprintf(key, sizeof(key), "P%d hiding_nonce_commitment", p);
		ist_test_assert_hex(nonce[k].hiding_commit, EB, vs(key));
		snprintf(key, sizeof(key), "P%d binding_nonce_commitment", p);
		ist_test_assert_hex(nonce[k].binding_commit, EB, vs(key));
		list[k].id = ids[k];
		memcpy(list[k].hiding, nonce[k].hiding_commit, EB);
		memcpy(list[k].binding, nonce[k].binding_commit, EB);
	}
	ck_assert(ist_frost_commitments_valid(list, 2));

	uint8_t msg[64];
	size_t msg_len = strlen(vs("message")) / 2;
	ck_assert_uint_le(msg_len, sizeof(msg));
	vhex("message", msg, msg_len);

	/* binding factors: the input, rebuilt here from RFC 9591 section 4.4,
	 * then the factor */
	uint8_t rho[2][SB];
	ck_assert_int_eq(ist_frost_binding_factors(gpk, list, 2, msg, msg_len, rho), 0);
	for (int k = 0; k < 2; k++) {
		int p = ids[k];
		uint8_t input[32 + 64 + 64 + 32], h[64], red[SB];
		crypto_hash_sha512_state st;
		memcpy(input, gpk, 32);
		crypto_hash_sha512_init(&st);
		crypto_hash_sha512_update(&st, (const uint8_t *)"FROST-ED25519-SHA512-v1msg", 26);
		crypto_hash_sha512_update(&st, msg, msg_len);
		crypto_hash_sha512_final(&st, input + 32);
		crypto_hash_sha512_init(&st);
		crypto_hash_sha512_update(&st, (const uint8_t *)"FROST-ED25519-SHA512-v1com", 26);
		for (int j = 0; j < 2; j++) {
			uint8_t idb[SB];
			ist_frost_identifier(list[j].id, idb);
			crypto_hash_sha512_update(&st, idb, SB);
			crypto_hash_sha512_update(&st, list[j].hiding, EB);
			crypto_hash_sha512_update(&st, list[j].binding, EB);
		}
		crypto_hash_sha512_final(&st, input + 96);
		ist_frost_identifier((uint16_t)p, input + 160);
		snprintf(key, sizeof(key), "P%d binding_factor_input", p);
		ist_test_assert_hex(input, sizeof(input), vs(key));
		crypto_hash_sha512_init(&st);
		crypto_hash_sha512_update(&st, (const uint8_t *)"FROST-ED25519-SHA512-v1rho", 26);
		crypto_hash_sha512_update(&st, input, sizeof(input));
		crypto_hash_sha512_final(&st, h);
		crypto_core_ed25519_scalar_reduce(red, h);
		snprintf(key, sizeof(key), "P%d binding_factor", p);
		ist_test_assert_hex(rho[k], SB, vs(key));
		ck_assert_mem_eq(red, rho[k], SB);
	}

	/* the session computes the same factors, R and challenge */
	struct ist_frost_session *s;
	ck_assert_int_eq(ist_frost_session_new(gpk, list, 2, &s), 0);
	uint8_t R[EB], R2[EB], c[SB], c2[SB], tmp[SB];
	ck_assert_int_eq(ist_frost_session_group_commitment(s, R2), -IST_ESTATE);
	ck_assert_int_eq(ist_frost_session_bind(s, msg, msg_len), 0);
	ck_assert_int_eq(ist_frost_session_bind(s, msg, msg_len), -IST_ESTATE);
	ck_assert_int_eq(ist_frost_group_commitment(list, 2, (const uint8_t (*)[SB])rho, R), 0);
	ck_assert_int_eq(ist_frost_session_group_commitment(s, R2), 0);
	ck_assert_mem_eq(R, R2, EB);
	ist_frost_challenge(R, gpk, msg, msg_len, c);
	ck_assert_int_eq(ist_frost_session_challenge(s, c2), 0);
	ck_assert_mem_eq(c, c2, SB);
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(ist_frost_session_binding_factor(s, ids[k], tmp), 0);
		ck_assert_mem_eq(tmp, rho[k], SB);
	}

	/* round two: shares, both layers */
	uint8_t z[2][SB], zs[2][SB], pubs[2][EB];
	for (int k = 0; k < 2; k++) {
		int p = ids[k];
		struct ist_frost_nonce copy = nonce[k];
		ck_assert_int_eq(ist_frost_sign(ids[k], shares[p - 1], gpk, &copy, msg, msg_len, list, 2, z[k]), 0);
		ck_assert(sodium_is_zero((const uint8_t *)&copy, sizeof(copy))); /* consumed */
		snprintf(key, sizeof(key), "P%d sig_share", p);
		ist_test_assert_hex(z[k], SB, vs(key));
		copy = nonce[k];
		ck_assert_int_eq(ist_frost_session_sign(s, ids[k], shares[p - 1], &copy, zs[k]), 0);
		ck_assert_mem_eq(zs[k], z[k], SB);
		ck_assert_int_eq(ist_frost_pubkey(shares[p - 1], pubs[k]), 0);
		ck_assert(ist_frost_verify_share(ids[k], pubs[k], z[k], gpk, msg, msg_len, list, 2));
		ck_assert(ist_frost_session_verify_share(s, ids[k], pubs[k], z[k]));
	}

	/* the signature */
	uint8_t sig[64], sig2[64];
	ck_assert_int_eq(ist_frost_aggregate(gpk, list, 2, msg, msg_len, (const uint8_t (*)[SB])z, sig), 0);
	ist_test_assert_hex(sig, 64, vs("sig"));
	uint16_t bad = 0;
	ck_assert_int_eq(ist_frost_session_aggregate(s, (const uint8_t (*)[EB])pubs, (const uint8_t (*)[SB])z, sig2, &bad), 0);
	ck_assert_mem_eq(sig, sig2, 64);
	ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, msg_len, gpk), 0);
	ck_assert(ist_frost_verify(gpk, msg, msg_len, sig));

	/* the group secret interpolates from the two shares */
	uint8_t l1[SB], l3[SB], a[SB], b[SB];
	ck_assert_int_eq(ist_frost_lagrange(1, ids, 2, l1), 0);
	ck_assert_int_eq(ist_frost_lagrange(3, ids, 2, l3), 0);
	crypto_core_ed25519_scalar_mul(a, l1, shares[0]);
	crypto_core_ed25519_scalar_mul(b, l3, shares[2]);
	crypto_core_ed25519_scalar_add(a, a, b);
	ck_assert_mem_eq(a, secret, SB);
	ck_assert_int_eq(ist_frost_session_lagrange(s, 3, tmp), 0);
	ck_assert_mem_eq(tmp, l3, SB);
	ist_frost_session_free(s);
}
END_TEST

/* ---- t of n with the trusted dealer, both layers ---- */

struct group {
	uint16_t t, n;
	uint8_t (*shares)[SB];
	uint8_t (*pubs)[EB];
	uint8_t vss[64][EB];
	uint8_t gpk[EB];
};

static void group_make(struct group *g, struct ist_rng_det *rng, uint16_t t, uint16_t n)
{
	g->t = t;
	g->n = n;
	g->shares = malloc((size_t)n * SB);
	g->pubs = malloc((size_t)n * EB);
	ck_assert(g->shares && g->pubs && t <= 64);
	ck_assert_int_eq(ist_frost_keygen_random(&rng->rng, t, n, g->shares, g->vss, g->gpk), 0);
	for (uint16_t i = 1; i <= n; i++) {
		ck_assert(ist_frost_vss_verify(i, g->shares[i - 1], (const uint8_t (*)[EB])g->vss, t));
		ck_assert_int_eq(ist_frost_pubkey(g->shares[i - 1], g->pubs[i - 1]), 0);
	}
}

static void group_free(struct group *g)
{
	free(g->shares);
	free(g->pubs);
}

/* Signs msg with the signers ids[0..m) (sorted); corrupts the share of
 * `corrupt` (0 = none). Returns what session_aggregate returned; writes the
 * signature and the named bad signer. */
static int sign_with(const struct group *g, struct ist_rng_det *rng, const uint16_t *ids, size_t m, const uint8_t *msg,
		     size_t msg_len, uint16_t corrupt, uint8_t sig[64], uint16_t *bad)
{
	struct ist_frost_nonce *nonces = calloc(m, sizeof(*nonces));
	struct ist_frost_commitment *list = calloc(m, sizeof(*list));
	uint8_t (*z)[SB] = calloc(m, SB);
	uint8_t (*zr)[SB] = calloc(m, SB);
	uint8_t (*pubs)[EB] = calloc(m, EB);
	ck_assert(nonces && list && z && zr && pubs);
	for (size_t k = 0; k < m; k++) {
		ck_assert_int_eq(ist_frost_commit_random(&rng->rng, g->shares[ids[k] - 1], &nonces[k]), 0);
		list[k].id = ids[k];
		memcpy(list[k].hiding, nonces[k].hiding_commit, EB);
		memcpy(list[k].binding, nonces[k].binding_commit, EB);
		memcpy(pubs[k], g->pubs[ids[k] - 1], EB);
	}
	struct ist_frost_session *s;
	ck_assert_int_eq(ist_frost_session_new(g->gpk, list, m, &s), 0);
	ck_assert_int_eq(ist_frost_session_bind(s, msg, msg_len), 0);
	for (size_t k = 0; k < m; k++) {
		struct ist_frost_nonce copy = nonces[k];
		ck_assert_int_eq(ist_frost_session_sign(s, ids[k], g->shares[ids[k] - 1], &nonces[k], z[k]), 0);
		/* the RFC-shaped layer gives the same share */
		ck_assert_int_eq(ist_frost_sign(ids[k], g->shares[ids[k] - 1], g->gpk, &copy, msg, msg_len, list, m, zr[k]), 0);
		ck_assert_mem_eq(z[k], zr[k], SB);
		if (ids[k] == corrupt)
			z[k][0] ^= 1;
		bool good = ids[k] != corrupt;
		ck_assert(ist_frost_session_verify_share(s, ids[k], pubs[k], z[k]) == good);
		ck_assert(ist_frost_verify_share(ids[k], pubs[k], z[k], g->gpk, msg, msg_len, list, m) == good);
	}
	int r = ist_frost_session_aggregate(s, (const uint8_t (*)[EB])pubs, (const uint8_t (*)[SB])z, sig, bad);
	if (r == 0) {
		uint8_t sig2[64];
		ck_assert_int_eq(ist_frost_aggregate(g->gpk, list, m, msg, msg_len, (const uint8_t (*)[SB])z, sig2), 0);
		ck_assert_mem_eq(sig, sig2, 64);
	}
	ist_frost_session_free(s);
	free(nonces);
	free(list);
	free(z);
	free(zr);
	free(pubs);
	return r;
}

START_TEST(test_t_of_n)
{
	load_vectors();
	struct ist_rng_det rng;
	ist_rng_det_init(&rng, 9591);
	static const uint16_t sizes[][2] = {{1, 1}, {2, 3}, {3, 4}, {5, 7}, {7, 10}, {11, 16}};
	const uint8_t msg[] = "isthmus batch root";
	for (size_t q = 0; q < IST_ARRAY_SIZE(sizes); q++) {
		struct group g;
		group_make(&g, &rng, sizes[q][0], sizes[q][1]);
		/* three different subsets of t signers, and one of n */
		for (int trial = 0; trial < 4; trial++) {
			uint16_t ids[64];
			size_t m = trial == 3 ? g.n : g.t;
			/* a random subset of size m, sorted */
			uint16_t perm[64];
			for (uint16_t i = 0; i < g.n; i++)
				perm[i] = (uint16_t)(i + 1);
			for (uint16_t i = 0; i < g.n; i++) {
				uint16_t j = (uint16_t)(i + ist_rng_det_below(&rng, g.n - i));
				uint16_t x = perm[i];
				perm[i] = perm[j];
				perm[j] = x;
			}
			for (size_t k = 0; k < m; k++)
				ids[k] = perm[k];
			for (size_t a = 0; a < m; a++)
				for (size_t b = a + 1; b < m; b++)
					if (ids[b] < ids[a]) {
						uint16_t x = ids[a];
						ids[a] = ids[b];
						ids[b] = x;
					}
			uint8_t sig[64];
			ck_assert_int_eq(sign_with(&g, &rng, ids, m, msg, sizeof(msg) - 1, 0, sig, NULL), 0);
			ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, sizeof(msg) - 1, g.gpk), 0);
			/* tampered: any bit of R or z, or the message */
			for (int bit = 0; bit < 512; bit += 37) {
				uint8_t bad[64];
				memcpy(bad, sig, 64);
				bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
				ck_assert(!ist_frost_verify(g.gpk, msg, sizeof(msg) - 1, bad));
			}
			ck_assert(!ist_frost_verify(g.gpk, msg, sizeof(msg) - 2, sig));
		}
		group_free(&g);
	}
}
END_TEST

START_TEST(test_bad_share_names_signer)
{
	load_vectors();
	struct ist_rng_det rng;
	ist_rng_det_init(&rng, 7);
	struct group g;
	group_make(&g, &rng, 5, 7);
	const uint16_t ids[5] = {1, 2, 4, 6, 7};
	const uint8_t msg[] = "m";
	uint8_t sig[64];
	uint16_t bad = 0;
	ck_assert_int_eq(sign_with(&g, &rng, ids, 5, msg, 1, 4, sig, &bad), -IST_EBADSIG);
	ck_assert_uint_eq(bad, 4);
	ck_assert_int_eq(sign_with(&g, &rng, ids, 5, msg, 1, 7, sig, &bad), -IST_EBADSIG);
	ck_assert_uint_eq(bad, 7);

	/* a valid share of another signer does not pass for this one, nor
	 * under another verification share */
	struct ist_frost_nonce nonces[5];
	struct ist_frost_commitment list[5];
	for (int k = 0; k < 5; k++) {
		ck_assert_int_eq(ist_frost_commit_random(&rng.rng, g.shares[ids[k] - 1], &nonces[k]), 0);
		list[k].id = ids[k];
		memcpy(list[k].hiding, nonces[k].hiding_commit, EB);
		memcpy(list[k].binding, nonces[k].binding_commit, EB);
	}
	struct ist_frost_session *s;
	ck_assert_int_eq(ist_frost_session_new(g.gpk, list, 5, &s), 0);
	ck_assert_int_eq(ist_frost_session_bind(s, msg, 1), 0);
	uint8_t z[SB];
	struct ist_frost_nonce keep = nonces[1];
	/* a signer's nonce under another identifier, a wrong share: refused */
	ck_assert_int_eq(ist_frost_session_sign(s, 1, g.shares[1], &nonces[1], z), -IST_EBADKEY);
	ck_assert_int_eq(ist_frost_session_sign(s, 3, g.shares[2], &nonces[1], z), -IST_EINVAL);
	ck_assert_int_eq(ist_frost_session_sign(s, 2, g.shares[1], &nonces[1], z), 0);
	ck_assert(sodium_is_zero((const uint8_t *)&nonces[1], sizeof(nonces[1])));
	ck_assert(ist_frost_session_verify_share(s, 2, g.pubs[1], z));
	ck_assert(!ist_frost_session_verify_share(s, 1, g.pubs[1], z));
	ck_assert(!ist_frost_session_verify_share(s, 2, g.pubs[0], z));
	ck_assert(!ist_frost_session_verify_share(s, 3, g.pubs[1], z)); /* not a signer */
	/* a share made with the wrong signing share */
	nonces[1] = keep;
	ck_assert_int_eq(ist_frost_session_sign(s, 2, g.shares[3], &nonces[1], z), 0);
	ck_assert(!ist_frost_session_verify_share(s, 2, g.pubs[1], z));
	ist_frost_session_free(s);
	group_free(&g);
}
END_TEST

START_TEST(test_input_checks)
{
	load_vectors();
	struct ist_rng_det rng;
	ist_rng_det_init(&rng, 11);
	struct group g;
	group_make(&g, &rng, 2, 3);
	struct ist_frost_nonce nonces[2];
	struct ist_frost_commitment list[2];
	for (int k = 0; k < 2; k++) {
		ck_assert_int_eq(ist_frost_commit_random(&rng.rng, g.shares[k], &nonces[k]), 0);
		list[k].id = (uint16_t)(k + 1);
		memcpy(list[k].hiding, nonces[k].hiding_commit, EB);
		memcpy(list[k].binding, nonces[k].binding_commit, EB);
	}
	struct ist_frost_session *s = NULL;
	uint8_t rho[2][SB];
	/* shape: unsorted, duplicate, zero id, empty */
	struct ist_frost_commitment l2[2] = {list[1], list[0]};
	ck_assert_int_eq(ist_frost_session_new(g.gpk, l2, 2, &s), -IST_EINVAL);
	ck_assert_int_eq(ist_frost_binding_factors(g.gpk, l2, 2, NULL, 0, rho), -IST_EINVAL);
	l2[0] = list[0];
	l2[1] = list[0];
	ck_assert_int_eq(ist_frost_session_new(g.gpk, l2, 2, &s), -IST_EINVAL);
	l2[1] = list[1];
	l2[0].id = 0;
	ck_assert_int_eq(ist_frost_session_new(g.gpk, l2, 2, &s), -IST_EINVAL);
	ck_assert_int_eq(ist_frost_session_new(g.gpk, list, 0, &s), -IST_EINVAL);

	/* elements: identity, a small-order point, a torsioned point, a
	 * non-canonical encoding, a point off the curve */
	static const char *bad_points[] = {
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0200000000000000000000000000000000000000000000000000000000000000",
	};
	uint8_t torsioned[EB], t8[EB];
	ist_test_unhex(bad_points[2], t8, EB);
	ck_assert_int_eq(crypto_core_ed25519_add(torsioned, list[0].hiding, t8), 0);
	for (size_t b = 0; b <= IST_ARRAY_SIZE(bad_points); b++) {
		uint8_t p[EB];
		if (b < IST_ARRAY_SIZE(bad_points))
			ist_test_unhex(bad_points[b], p, EB);
		else
			memcpy(p, torsioned, EB);
		ck_assert(!ist_frost_element_valid(p));
		l2[0] = list[0];
		l2[1] = list[1];
		memcpy(l2[1].binding, p, EB);
		ck_assert_int_eq(ist_frost_session_new(g.gpk, l2, 2, &s), -IST_EBADKEY);
		ck_assert_int_eq(ist_frost_binding_factors(g.gpk, l2, 2, NULL, 0, rho), -IST_EBADKEY);
		ck_assert_int_eq(ist_frost_session_new(p, list, 2, &s), -IST_EBADKEY);
		ck_assert(!ist_frost_verify_share(1, p, g.shares[0], g.gpk, NULL, 0, list, 2));
	}

	/* scalars: L itself is not canonical */
	uint8_t L[SB];
	ist_test_unhex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", L, SB);
	ck_assert(!ist_frost_scalar_valid(L));
	L[0]--;
	ck_assert(ist_frost_scalar_valid(L));
	L[0]++;
	ck_assert_int_eq(ist_frost_pubkey(L, rho[0]), -IST_EBADKEY);
	struct ist_frost_nonce nn;
	ck_assert_int_eq(ist_frost_commit(L, L, L, &nn), -IST_EBADKEY);

	/* a session with z of L refused */
	ck_assert_int_eq(ist_frost_session_new(g.gpk, list, 2, &s), 0);
	ck_assert_int_eq(ist_frost_session_bind(s, (const uint8_t *)"x", 1), 0);
	ck_assert(!ist_frost_session_verify_share(s, 1, g.pubs[0], L));
	ist_frost_session_free(s);
	ist_frost_session_free(NULL);

	/* lagrange: id not in the set, duplicates */
	uint16_t ids[3] = {1, 2, 2};
	ck_assert_int_eq(ist_frost_lagrange(3, ids, 2, rho[0]), -IST_EINVAL);
	ck_assert_int_eq(ist_frost_lagrange(1, ids, 3, rho[0]), -IST_EINVAL);
	/* keygen bounds */
	uint8_t sh[3][SB], vss[3][EB], gpk[EB];
	ck_assert_int_eq(ist_frost_keygen_random(&rng.rng, 4, 3, sh, vss, gpk), -IST_EINVAL);
	ck_assert_int_eq(ist_frost_keygen_random(&rng.rng, 0, 3, sh, vss, gpk), -IST_EINVAL);
	/* vss: a share checked under another id fails */
	ck_assert(!ist_frost_vss_verify(2, g.shares[0], (const uint8_t (*)[EB])g.vss, 2));
	group_free(&g);
}
END_TEST

/* ---- crypto/ge25519.h against libsodium ---- */

static void random_point(uint8_t p[EB], uint8_t s[SB])
{
	crypto_core_ed25519_scalar_random(s);
	ck_assert_int_eq(crypto_scalarmult_ed25519_base_noclamp(p, s), 0);
}

START_TEST(test_ge_against_libsodium)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
	/* the field constants: d * 121666 = -121665, sqrt(-1)^2 = -1 */
	for (int iter = 0; iter < 200; iter++) {
		uint8_t a[EB], b[EB], sa[SB], sb[SB], want[EB], got[EB];
		random_point(a, sa);
		random_point(b, sb);
		struct ist_ge pa, pb, r;
		ck_assert(ist_ge_frombytes_checked(&pa, a));
		ck_assert(ist_ge_frombytes_checked(&pb, b));
		ist_ge_tobytes(got, &pa);
		ck_assert_mem_eq(got, a, EB);
		/* add, sub, dbl */
		struct ist_ge_cached cb;
		ist_ge_to_cached(&cb, &pb);
		ist_ge_add(&r, &pa, &cb);
		ck_assert_int_eq(crypto_core_ed25519_add(want, a, b), 0);
		ist_ge_tobytes(got, &r);
		ck_assert_mem_eq(got, want, EB);
		ist_ge_sub(&r, &pa, &cb);
		ck_assert_int_eq(crypto_core_ed25519_sub(want, a, b), 0);
		ist_ge_tobytes(got, &r);
		ck_assert_mem_eq(got, want, EB);
		ist_ge_dbl(&r, &pa);
		ck_assert_int_eq(crypto_core_ed25519_add(want, a, a), 0);
		ist_ge_tobytes(got, &r);
		ck_assert_mem_eq(got, want, EB);
		/* scalar multiplication */
		uint8_t k[SB];
		crypto_core_ed25519_scalar_random(k);
		if (iter == 0)
			memset(k, 0, SB), k[0] = 1;
		ist_ge_scalarmult(&r, k, &pa);
		ck_assert_int_eq(crypto_scalarmult_ed25519_noclamp(want, k, a), 0);
		ist_ge_tobytes(got, &r);
		ck_assert_mem_eq(got, want, EB);
		/* a torsioned point decodes but fails the subgroup check, as in
		 * libsodium */
		uint8_t t8[EB], tp[EB];
		ist_test_unhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", t8, EB);
		ck_assert_int_eq(crypto_core_ed25519_add(tp, a, t8), 0);
		ck_assert(ist_ge_frombytes(&r, tp));
		ck_assert(!ist_ge_frombytes_checked(&r, tp));
		ck_assert(!crypto_core_ed25519_is_valid_point(tp));
		struct ist_ge m8, p8;
		ist_ge_mul8(&m8, &r);
		ist_ge_mul8(&p8, &pa);
		ck_assert(ist_ge_equal(&m8, &p8));
	}
	/* random bytes: both decoders agree on every verdict */
	for (int iter = 0; iter < 2000; iter++) {
		uint8_t p[EB];
		randombytes_buf(p, EB);
		if (iter % 3 == 0)
			p[31] &= 0x7f;
		struct ist_ge r;
		ck_assert_int_eq(ist_ge_frombytes_checked(&r, p), crypto_core_ed25519_is_valid_point(p) == 1);
	}
	/* the multi-scalar multiplication, against sums of libsodium products,
	 * for sizes around the chunk size */
	static const size_t sizes[] = {0, 1, 2, 5, 67, 129};
	for (size_t q = 0; q < IST_ARRAY_SIZE(sizes); q++) {
		size_t n = sizes[q];
		uint8_t (*s)[32] = malloc((n + 1) * 32);
		struct ist_ge_table *tabs = malloc((n + 1) * sizeof(*tabs));
		uint8_t acc[EB] = {1}, pt[EB], sp[SB], prod[EB], got[EB];
		ck_assert(s && tabs);
		for (size_t k = 0; k < n; k++) {
			random_point(pt, sp);
			struct ist_ge g;
			ck_assert(ist_ge_frombytes(&g, pt));
			ist_ge_table_init(&tabs[k], &g);
			crypto_core_ed25519_scalar_random(s[k]);
			if (k == 1)
				memset(s[k], 0, 32); /* a zero scalar */
			if (k != 1) {
				ck_assert_int_eq(crypto_scalarmult_ed25519_noclamp(prod, s[k], pt), 0);
				ck_assert_int_eq(crypto_core_ed25519_add(acc, acc, prod), 0);
			}
		}
		struct ist_ge r;
		ist_ge_msm(&r, (const uint8_t (*)[32])s, tabs, n);
		ist_ge_tobytes(got, &r);
		ck_assert_mem_eq(got, acc, EB);
		free(s);
		free(tabs);
	}
}
END_TEST

static Suite *frost_suite(void)
{
	Suite *s = suite_create("frost");
	TCase *tc = tcase_create("frost");
	tcase_add_test(tc, test_rfc9591_vectors);
	tcase_add_test(tc, test_t_of_n);
	tcase_add_test(tc, test_bad_share_names_signer);
	tcase_add_test(tc, test_input_checks);
	tcase_add_test(tc, test_ge_against_libsodium);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	int r = ist_test_run(frost_suite());
	json_decref(vec);
	return r;
}
