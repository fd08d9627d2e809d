/*
 * FROST(Ed25519, SHA-512), RFC 9591. See frost.h for the contract.
 *
 * The RFC-shaped functions transcribe RFC 9591 sections 4 and 5 on
 * libsodium (constant time where secrets are involved). The session does
 * the public part of the same computation with crypto/ge25519.h, whose
 * variable-time arithmetic only ever sees public data: commitments, binding
 * factors, challenges, Lagrange coefficients and verification shares.
 */
#include "crypto/frost.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/ge25519.h"
#include "crypto/frost_internal.h"

#define SB IST_FROST_SCALAR_BYTES
#define EB IST_FROST_ELEMENT_BYTES

_Static_assert(crypto_core_ed25519_SCALARBYTES == SB, "scalar size");
_Static_assert(crypto_core_ed25519_BYTES == EB, "element size");
_Static_assert(crypto_sign_BYTES == IST_FROST_SIG_BYTES, "signature size");

static const uint8_t order_L[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* the compressed base point, and the identity */
static const uint8_t base_point[32] = {
	0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
};
static const uint8_t identity_point[32] = {1};

/* ---- scalars ---- */

bool ist_frost_scalar_valid(const uint8_t s32[SB])
{
	/* s < L, without branching on s (shares and nonces pass through here):
	 * the borrow of s - L, byte by byte from the least significant */
	unsigned borrow = 0;
	for (int i = 0; i < 32; i++) {
		unsigned d = (unsigned)s32[i] - (unsigned)order_L[i] - borrow;
		borrow = (d >> 8) & 1;
	}
	return borrow == 1;
}

bool ist_frost_scalar_is_zero(const uint8_t s32[SB])
{
	return sodium_is_zero(s32, SB) == 1;
}

void ist_frost_identifier(uint16_t id, uint8_t ret_s32[SB])
{
	memset(ret_s32, 0, SB);
	ret_s32[0] = (uint8_t)id;
	ret_s32[1] = (uint8_t)(id >> 8);
}

bool ist_frost_element_valid(const uint8_t e32[EB])
{
	return crypto_core_ed25519_is_valid_point(e32) == 1;
}

/* ---- the hashes of RFC 9591 section 6.1 ---- */

static void h_ctx(crypto_hash_sha512_state *st, const char *label)
{
	crypto_hash_sha512_init(st);
	crypto_hash_sha512_update(st, (const uint8_t *)IST_FROST_CONTEXT, strlen(IST_FROST_CONTEXT));
	crypto_hash_sha512_update(st, (const uint8_t *)label, strlen(label));
}

static void h_reduce(crypto_hash_sha512_state *st, uint8_t out32[SB])
{
	uint8_t wide[64];
	crypto_hash_sha512_final(st, wide);
	crypto_core_ed25519_scalar_reduce(out32, wide);
	sodium_memzero(wide, sizeof(wide));
}

void ist_frost_nonce_generate(const uint8_t secret32[SB], const uint8_t random32[32], uint8_t ret_nonce32[SB])
{
	crypto_hash_sha512_state st;
	h_ctx(&st, "nonce"); /* H3 */
	crypto_hash_sha512_update(&st, random32, 32);
	crypto_hash_sha512_update(&st, secret32, SB);
	h_reduce(&st, ret_nonce32);
	sodium_memzero(&st, sizeof(st));
}

void ist_frost_challenge(const uint8_t R32[EB], const uint8_t group_pub32[EB], const uint8_t *msg, size_t msg_len,
			 uint8_t ret_c32[SB])
{
	IST_REQUIRE(msg != NULL || msg_len == 0);
	crypto_hash_sha512_state st; /* H2: plain SHA-512, as Ed25519 */
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, R32, EB);
	crypto_hash_sha512_update(&st, group_pub32, EB);
	if (msg_len)
		crypto_hash_sha512_update(&st, msg, msg_len);
	h_reduce(&st, ret_c32);
}

/* H4(msg) and H5(encode_group_commitment_list(list)) */
static void hash_msg(const uint8_t *msg, size_t msg_len, uint8_t out64[64])
{
	IST_REQUIRE(msg != NULL || msg_len == 0);
	crypto_hash_sha512_state st;
	h_ctx(&st, "msg");
	if (msg_len)
		crypto_hash_sha512_update(&st, msg, msg_len);
	crypto_hash_sha512_final(&st, out64);
}

static void hash_commitments(const struct ist_frost_commitment *list, size_t n, uint8_t out64[64])
{
	crypto_hash_sha512_state st;
	h_ctx(&st, "com");
	for (size_t k = 0; k < n; k++) {
		uint8_t id[SB];
		ist_frost_identifier(list[k].id, id);
		crypto_hash_sha512_update(&st, id, SB);
		crypto_hash_sha512_update(&st, list[k].hiding, EB);
		crypto_hash_sha512_update(&st, list[k].binding, EB);
	}
	crypto_hash_sha512_final(&st, out64);
}

/* H1(pk || H4(msg) || H5(list) || id) for every entry */
static void binding_factors(const uint8_t group_pub32[EB], const uint8_t msg_hash[64], const uint8_t com_hash[64],
			    const struct ist_frost_commitment *list, size_t n, uint8_t (*ret_rho)[SB])
{
	crypto_hash_sha512_state prefix;
	h_ctx(&prefix, "rho");
	crypto_hash_sha512_update(&prefix, group_pub32, EB);
	crypto_hash_sha512_update(&prefix, msg_hash, 64);
	crypto_hash_sha512_update(&prefix, com_hash, 64);
	for (size_t k = 0; k < n; k++) {
		crypto_hash_sha512_state st = prefix;
		uint8_t id[SB];
		ist_frost_identifier(list[k].id, id);
		crypto_hash_sha512_update(&st, id, SB);
		h_reduce(&st, ret_rho[k]);
	}
}

/* ---- keys ---- */

int ist_frost_pubkey(const uint8_t share32[SB], uint8_t ret_pub32[EB])
{
	if (!ist_frost_scalar_valid(share32) || ist_frost_scalar_is_zero(share32))
		return -IST_EBADKEY;
	uint8_t pub[EB];
	if (crypto_scalarmult_ed25519_base_noclamp(pub, share32) != 0)
		return -IST_ECRYPTO;
	memcpy(ret_pub32, pub, EB);
	return 0;
}

void ist_frost_poly_eval(const uint8_t (*coeffs)[SB], uint16_t t, uint16_t x, uint8_t ret32[SB])
{
	/* Horner: ((a_{t-1} x + a_{t-2}) x + ...) x + a_0 */
	uint8_t xs[SB], acc[SB];
	ist_frost_identifier(x, xs);
	memcpy(acc, coeffs[t - 1], SB);
	for (int k = (int)t - 2; k >= 0; k--) {
		crypto_core_ed25519_scalar_mul(acc, acc, xs);
		crypto_core_ed25519_scalar_add(acc, acc, coeffs[k]);
	}
	memcpy(ret32, acc, SB);
	sodium_memzero(acc, sizeof(acc));
}

int ist_frost_keygen(const uint8_t secret32[SB], const uint8_t (*coeffs)[SB], uint16_t t, uint16_t n,
		     uint8_t (*ret_shares)[SB], uint8_t (*ret_vss)[EB], uint8_t ret_group_pub32[EB])
{
	if (t < 1 || t > n || n > IST_FROST_MAX_PARTICIPANTS || (t > 1 && !coeffs))
		return -IST_EINVAL;
	int r = -IST_EBADKEY;
	uint8_t (*poly)[SB] = sodium_malloc((size_t)t * SB);
	uint8_t (*vss)[EB] = malloc((size_t)t * EB);
	uint8_t (*shares)[SB] = sodium_malloc((size_t)n * SB);
	if (!poly || !vss || !shares) {
		r = -IST_ENOMEM;
		goto fail;
	}
	memcpy(poly[0], secret32, SB);
	if (t > 1)
		memcpy(poly[1], coeffs[0], (size_t)(t - 1) * SB);
	for (uint16_t k = 0; k < t; k++)
		if (!ist_frost_scalar_valid(poly[k]))
			goto fail;
	for (uint16_t k = 0; k < t; k++)
		if (ist_frost_scalar_is_zero(poly[k]))
			goto fail; /* its commitment would be the identity, which no verifier accepts */
	for (uint16_t k = 0; k < t; k++) {
		if (crypto_scalarmult_ed25519_base_noclamp(vss[k], poly[k]) != 0) {
			r = -IST_ECRYPTO;
			goto fail;
		}
	}
	for (uint16_t i = 1; i <= n; i++)
		ist_frost_poly_eval((const uint8_t (*)[SB])poly, t, i, shares[i - 1]);
	for (uint16_t i = 0; i < n; i++)
		if (ist_frost_scalar_is_zero(shares[i]))
			goto fail; /* f(i) = 0 for some i: probability n/L, refuse */
	memcpy(ret_shares, shares, (size_t)n * SB);
	if (ret_vss)
		memcpy(ret_vss, vss, (size_t)t * EB);
	memcpy(ret_group_pub32, vss[0], EB);
	r = 0;
fail:
	if (poly)
		sodium_free(poly);
	if (shares)
		sodium_free(shares);
	free(vss);
	return r;
}

int ist_frost_keygen_random(const struct ist_rng *rng, uint16_t t, uint16_t n, uint8_t (*ret_shares)[SB],
			    uint8_t (*ret_vss)[EB], uint8_t ret_group_pub32[EB])
{
	if (t < 1 || t > n || n > IST_FROST_MAX_PARTICIPANTS)
		return -IST_EINVAL;
	uint8_t (*poly)[SB] = sodium_malloc((size_t)t * SB);
	if (!poly)
		return -IST_ENOMEM;
	int r = ist_frost_random_scalars(rng, poly, t);
	if (r == 0)
		r = ist_frost_keygen(poly[0], t > 1 ? (const uint8_t (*)[SB])poly[1] : NULL, t, n, ret_shares, ret_vss,
				     ret_group_pub32);
	sodium_free(poly);
	return r;
}

int ist_frost_random_scalars(const struct ist_rng *rng, uint8_t (*out)[SB], size_t count)
{
	uint8_t wide[64];
	int r = 0;
	for (size_t k = 0; k < count; k++) {
		/* 64 bytes reduced mod L: uniform, and never zero in practice
		 * (the redraw below is for a broken rng) */
		int tries = 0;
		do {
			r = ist_rng_fill(rng, wide, sizeof(wide));
			if (r < 0)
				goto out;
			crypto_core_ed25519_scalar_reduce(out[k], wide);
		} while (ist_frost_scalar_is_zero(out[k]) && ++tries < 16);
		if (ist_frost_scalar_is_zero(out[k])) {
			r = -IST_ECRYPTO;
			goto out;
		}
	}
out:
	sodium_memzero(wide, sizeof(wide));
	return r;
}

/* sum_k P[k] * x^k by Horner over our public-data arithmetic; `pts` already
 * decoded. x is small, so each step is a handful of doublings. */
void ist_frost_point_poly_eval(const struct ist_ge *pts, uint16_t t, uint16_t x, struct ist_ge *ret)
{
	uint8_t xs[32];
	ist_frost_identifier(x, xs);
	struct ist_ge acc = pts[t - 1];
	for (int k = (int)t - 2; k >= 0; k--) {
		struct ist_ge m;
		struct ist_ge_cached c;
		ist_ge_scalarmult(&m, xs, &acc);
		ist_ge_to_cached(&c, &pts[k]);
		ist_ge_add(&acc, &m, &c);
	}
	*ret = acc;
}

int ist_frost_vss_pubshare(uint16_t id, const uint8_t (*vss)[EB], uint16_t t, uint8_t ret_pub32[EB])
{
	if (id == 0 || t == 0 || t > IST_FROST_MAX_PARTICIPANTS)
		return -IST_EINVAL;
	struct ist_ge *pts = malloc((size_t)t * sizeof(*pts));
	if (!pts)
		return -IST_ENOMEM;
	int r = -IST_EBADKEY;
	for (uint16_t k = 0; k < t; k++)
		if (!ist_ge_frombytes_checked(&pts[k], vss[k]))
			goto out;
	struct ist_ge y;
	ist_frost_point_poly_eval(pts, t, id, &y);
	if (ist_ge_is_identity(&y))
		goto out;
	ist_ge_tobytes(ret_pub32, &y);
	r = 0;
out:
	free(pts);
	return r;
}

bool ist_frost_vss_verify(uint16_t id, const uint8_t share32[SB], const uint8_t (*vss)[EB], uint16_t t)
{
	uint8_t want[EB], got[EB];
	if (ist_frost_vss_pubshare(id, vss, t, want) != 0)
		return false;
	if (ist_frost_pubkey(share32, got) != 0)
		return false;
	return memcmp(want, got, EB) == 0;
}

/* ---- round one ---- */

int ist_frost_commit(const uint8_t share32[SB], const uint8_t hiding_random32[32], const uint8_t binding_random32[32],
		     struct ist_frost_nonce *ret_nonce)
{
	if (!ist_frost_scalar_valid(share32))
		return -IST_EBADKEY;
	struct ist_frost_nonce n;
	int r = -IST_ECRYPTO;
	ist_frost_nonce_generate(share32, hiding_random32, n.hiding);
	ist_frost_nonce_generate(share32, binding_random32, n.binding);
	if (crypto_scalarmult_ed25519_base_noclamp(n.hiding_commit, n.hiding) != 0 ||
	    crypto_scalarmult_ed25519_base_noclamp(n.binding_commit, n.binding) != 0)
		goto out;
	*ret_nonce = n;
	r = 0;
out:
	sodium_memzero(&n, sizeof(n));
	return r;
}

int ist_frost_commit_random(const struct ist_rng *rng, const uint8_t share32[SB], struct ist_frost_nonce *ret_nonce)
{
	uint8_t rnd[64];
	int r = ist_rng_fill(rng, rnd, sizeof(rnd));
	if (r == 0)
		r = ist_frost_commit(share32, rnd, rnd + 32, ret_nonce);
	sodium_memzero(rnd, sizeof(rnd));
	return r;
}

/* The list's shape: size, identifiers in range and strictly increasing. */
static bool list_shape_ok(const struct ist_frost_commitment *list, size_t n)
{
	if (n == 0 || n > IST_FROST_MAX_PARTICIPANTS || !list)
		return false;
	for (size_t k = 0; k < n; k++) {
		if (list[k].id == 0 || list[k].id > IST_FROST_MAX_PARTICIPANTS)
			return false;
		if (k > 0 && list[k].id <= list[k - 1].id)
			return false;
	}
	return true;
}

bool ist_frost_commitments_valid(const struct ist_frost_commitment *list, size_t n)
{
	if (!list_shape_ok(list, n))
		return false;
	for (size_t k = 0; k < n; k++)
		if (!ist_frost_element_valid(list[k].hiding) || !ist_frost_element_valid(list[k].binding))
			return false;
	return true;
}

/* Checks shared by the RFC-shaped round-two functions. */
static int check_inputs(const uint8_t group_pub32[EB], const struct ist_frost_commitment *list, size_t n)
{
	if (!list_shape_ok(list, n))
		return -IST_EINVAL;
	if (!ist_frost_element_valid(group_pub32) || !ist_frost_commitments_valid(list, n))
		return -IST_EBADKEY;
	return 0;
}

static ptrdiff_t find_id(const struct ist_frost_commitment *list, size_t n, uint16_t id)
{
	size_t lo = 0, hi = n; /* sorted: binary search */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (list[mid].id == id)
			return (ptrdiff_t)mid;
		if (list[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* ---- round two, RFC-shaped ---- */

int ist_frost_binding_factors(const uint8_t group_pub32[EB], const struct ist_frost_commitment *list, size_t n,
			      const uint8_t *msg, size_t msg_len, uint8_t (*ret_rho)[SB])
{
	int r = check_inputs(group_pub32, list, n);
	if (r < 0)
		return r;
	uint8_t mh[64], ch[64];
	hash_msg(msg, msg_len, mh);
	hash_commitments(list, n, ch);
	binding_factors(group_pub32, mh, ch, list, n, ret_rho);
	return 0;
}

int ist_frost_group_commitment(const struct ist_frost_commitment *list, size_t n, const uint8_t (*rho)[SB],
			       uint8_t ret_R32[EB])
{
	if (!list_shape_ok(list, n))
		return -IST_EINVAL;
	if (!ist_frost_commitments_valid(list, n))
		return -IST_EBADKEY;
	uint8_t acc[EB], t[EB];
	memcpy(acc, identity_point, EB);
	for (size_t k = 0; k < n; k++) {
		if (crypto_core_ed25519_add(acc, acc, list[k].hiding) != 0)
			return -IST_ECRYPTO;
		if (!ist_frost_scalar_is_zero(rho[k])) { /* 0 * E: the identity, which libsodium refuses to output */
			if (crypto_scalarmult_ed25519_noclamp(t, rho[k], list[k].binding) != 0)
				return -IST_ECRYPTO;
			if (crypto_core_ed25519_add(acc, acc, t) != 0)
				return -IST_ECRYPTO;
		}
	}
	if (sodium_memcmp(acc, identity_point, EB) == 0)
		return -IST_EBADKEY;
	memcpy(ret_R32, acc, EB);
	return 0;
}

int ist_frost_lagrange(uint16_t id, const uint16_t *ids, size_t n, uint8_t ret_lambda32[SB])
{
	if (id == 0 || n == 0 || n > IST_FROST_MAX_PARTICIPANTS)
		return -IST_EINVAL;
	uint8_t num[SB], den[SB], xi[SB], xj[SB], d[SB];
	bool found = false;
	ist_frost_identifier(1, num);
	ist_frost_identifier(1, den);
	ist_frost_identifier(id, xi);
	for (size_t k = 0; k < n; k++) {
		if (ids[k] == 0)
			return -IST_EINVAL;
		for (size_t m = 0; m < k; m++)
			if (ids[m] == ids[k])
				return -IST_EINVAL;
		if (ids[k] == id) {
			found = true;
			continue;
		}
		ist_frost_identifier(ids[k], xj);
		crypto_core_ed25519_scalar_mul(num, num, xj);
		crypto_core_ed25519_scalar_sub(d, xj, xi);
		crypto_core_ed25519_scalar_mul(den, den, d);
	}
	if (!found)
		return -IST_EINVAL;
	if (crypto_core_ed25519_scalar_invert(den, den) != 0)
		return -IST_EINVAL;
	crypto_core_ed25519_scalar_mul(ret_lambda32, num, den);
	return 0;
}

static int list_lagrange(uint16_t id, const struct ist_frost_commitment *list, size_t n, uint8_t ret32[SB])
{
	uint16_t *ids = malloc(n * sizeof(*ids));
	if (!ids)
		return -IST_ENOMEM;
	for (size_t k = 0; k < n; k++)
		ids[k] = list[k].id;
	int r = ist_frost_lagrange(id, ids, n, ret32);
	free(ids);
	return r;
}

/* z = d + e * rho + lambda * s * c: the only arithmetic on secrets in
 * signing, all libsodium's (constant time). */
int ist_frost_share_compute(const uint8_t share32[SB], const struct ist_frost_nonce *nonce, const uint8_t rho32[SB],
			    const uint8_t lambda32[SB], const uint8_t c32[SB], uint8_t ret_z32[SB])
{
	uint8_t a[SB], b[SB];
	crypto_core_ed25519_scalar_mul(a, nonce->binding, rho32);
	crypto_core_ed25519_scalar_add(a, a, nonce->hiding);
	crypto_core_ed25519_scalar_mul(b, lambda32, c32);
	crypto_core_ed25519_scalar_mul(b, b, share32);
	crypto_core_ed25519_scalar_add(ret_z32, a, b);
	sodium_memzero(a, sizeof(a));
	sodium_memzero(b, sizeof(b));
	return 0;
}

/* The signer's checks of its own inputs (RFC 9591 section 5.2): a canonical
 * share, and a nonce whose commitment is its entry in the list. */
static int check_signer(const struct ist_frost_commitment *entry, const uint8_t share32[SB],
			const struct ist_frost_nonce *nonce)
{
	if (!ist_frost_scalar_valid(share32) || ist_frost_scalar_is_zero(share32))
		return -IST_EBADKEY;
	if (!ist_frost_scalar_valid(nonce->hiding) || !ist_frost_scalar_valid(nonce->binding))
		return -IST_EBADKEY;
	if (memcmp(entry->hiding, nonce->hiding_commit, EB) != 0 || memcmp(entry->binding, nonce->binding_commit, EB) != 0)
		return -IST_EBADKEY;
	return 0;
}

int ist_frost_sign(uint16_t id, const uint8_t share32[SB], const uint8_t group_pub32[EB], struct ist_frost_nonce *nonce,
		   const uint8_t *msg, size_t msg_len, const struct ist_frost_commitment *list, size_t n,
		   uint8_t ret_z32[SB])
{
	int r = check_inputs(group_pub32, list, n);
	if (r < 0)
		return r;
	ptrdiff_t me = find_id(list, n, id);
	if (me < 0)
		return -IST_EINVAL;
	r = check_signer(&list[me], share32, nonce);
	if (r < 0)
		return r;
	uint8_t (*rho)[SB] = malloc(n * SB);
	if (!rho)
		return -IST_ENOMEM;
	uint8_t R[EB], c[SB], lambda[SB], z[SB];
	r = ist_frost_binding_factors(group_pub32, list, n, msg, msg_len, rho);
	if (r == 0)
		r = ist_frost_group_commitment(list, n, (const uint8_t (*)[SB])rho, R);
	if (r == 0)
		r = list_lagrange(id, list, n, lambda);
	if (r == 0) {
		ist_frost_challenge(R, group_pub32, msg, msg_len, c);
		r = ist_frost_share_compute(share32, nonce, rho[me], lambda, c, z);
	}
	if (r == 0) {
		memcpy(ret_z32, z, SB);
		sodium_memzero(nonce, sizeof(*nonce));
	}
	free(rho);
	return r;
}

bool ist_frost_verify_share(uint16_t id, const uint8_t pub32[EB], const uint8_t z32[SB], const uint8_t group_pub32[EB],
			    const uint8_t *msg, size_t msg_len, const struct ist_frost_commitment *list, size_t n)
{
	if (check_inputs(group_pub32, list, n) < 0 || !ist_frost_element_valid(pub32) || !ist_frost_scalar_valid(z32))
		return false;
	ptrdiff_t me = find_id(list, n, id);
	if (me < 0)
		return false;
	bool ok = false;
	uint8_t (*rho)[SB] = malloc(n * SB);
	if (!rho)
		return false;
	uint8_t R[EB], c[SB], lambda[SB], cl[SB], l[EB], rhs[EB], t[EB];
	if (ist_frost_binding_factors(group_pub32, list, n, msg, msg_len, rho) != 0 ||
	    ist_frost_group_commitment(list, n, (const uint8_t (*)[SB])rho, R) != 0 ||
	    list_lagrange(id, list, n, lambda) != 0)
		goto out;
	ist_frost_challenge(R, group_pub32, msg, msg_len, c);
	/* G * z == D + E * rho + PK_i * (c * lambda) */
	if (crypto_scalarmult_ed25519_base_noclamp(l, z32) != 0)
		goto out;
	memcpy(rhs, list[me].hiding, EB);
	if (!ist_frost_scalar_is_zero(rho[me])) {
		if (crypto_scalarmult_ed25519_noclamp(t, rho[me], list[me].binding) != 0 ||
		    crypto_core_ed25519_add(rhs, rhs, t) != 0)
			goto out;
	}
	crypto_core_ed25519_scalar_mul(cl, c, lambda);
	if (!ist_frost_scalar_is_zero(cl)) {
		if (crypto_scalarmult_ed25519_noclamp(t, cl, pub32) != 0 || crypto_core_ed25519_add(rhs, rhs, t) != 0)
			goto out;
	}
	ok = memcmp(l, rhs, EB) == 0;
out:
	free(rho);
	return ok;
}

int ist_frost_aggregate(const uint8_t group_pub32[EB], const struct ist_frost_commitment *list, size_t n,
			const uint8_t *msg, size_t msg_len, const uint8_t (*z)[SB], uint8_t ret_sig64[IST_FROST_SIG_BYTES])
{
	int r = check_inputs(group_pub32, list, n);
	if (r < 0)
		return r;
	uint8_t (*rho)[SB] = malloc(n * SB);
	if (!rho)
		return -IST_ENOMEM;
	uint8_t sig[IST_FROST_SIG_BYTES], sum[SB] = {0};
	r = ist_frost_binding_factors(group_pub32, list, n, msg, msg_len, rho);
	if (r == 0)
		r = ist_frost_group_commitment(list, n, (const uint8_t (*)[SB])rho, sig);
	for (size_t k = 0; r == 0 && k < n; k++) {
		if (!ist_frost_scalar_valid(z[k]))
			r = -IST_EBADKEY;
		else
			crypto_core_ed25519_scalar_add(sum, sum, z[k]);
	}
	if (r == 0) {
		memcpy(sig + EB, sum, SB);
		memcpy(ret_sig64, sig, sizeof(sig));
	}
	free(rho);
	return r;
}

bool ist_frost_verify(const uint8_t group_pub32[EB], const uint8_t *msg, size_t msg_len,
		      const uint8_t sig64[IST_FROST_SIG_BYTES])
{
	static const uint8_t empty[1];
	IST_REQUIRE(msg != NULL || msg_len == 0);
	return crypto_sign_verify_detached(sig64, msg ? msg : empty, msg_len, group_pub32) == 0;
}

/* ---- the session ---- */

struct ist_frost_session {
	uint8_t group_pub[EB];
	size_t n;
	struct ist_frost_commitment *list;
	uint8_t com_hash[64];          /* H5 of the encoded list: independent of the message */
	struct ist_ge *d, *e;          /* decoded D_i, E_i */
	struct ist_ge_table *etab;     /* odd multiples of each E_i */
	struct ist_ge dsum;            /* sum of the D_i */
	struct ist_ge_table base;      /* odd multiples of G, for share verification */
	uint8_t (*lambda)[SB];         /* Lagrange coefficient of each entry */
	bool bound;
	uint8_t (*rho)[SB];
	uint8_t R[EB];
	uint8_t c[SB];
	uint8_t *msg;                  /* the bound message (a copy) */
	size_t msg_len;
};

void ist_frost_session_free(struct ist_frost_session *s)
{
	if (!s)
		return;
	free(s->list);
	free(s->d);
	free(s->e);
	free(s->etab);
	free(s->lambda);
	free(s->rho);
	free(s->msg);
	free(s);
}

/* every entry's Lagrange coefficient: lambda_i = prod_{j!=i} x_j / (x_j - x_i),
 * the denominators inverted together (Montgomery's trick: one inversion) */
static int all_lagrange(const struct ist_frost_commitment *list, size_t n, uint8_t (*out)[SB])
{
	uint8_t (*den)[SB] = malloc(n * SB);
	uint8_t (*pre)[SB] = malloc(n * SB);
	int r = -IST_ENOMEM;
	if (!den || !pre)
		goto out;
	uint8_t all[SB], xi[SB], xj[SB], d[SB], inv[SB], acc[SB];
	ist_frost_identifier(1, all);
	for (size_t k = 0; k < n; k++) {
		ist_frost_identifier(list[k].id, xi);
		crypto_core_ed25519_scalar_mul(all, all, xi);
	}
	for (size_t i = 0; i < n; i++) {
		/* den_i * x_i: then lambda_i = all / (den_i * x_i) */
		ist_frost_identifier(list[i].id, xi);
		memcpy(den[i], xi, SB);
		for (size_t j = 0; j < n; j++) {
			if (j == i)
				continue;
			ist_frost_identifier(list[j].id, xj);
			crypto_core_ed25519_scalar_sub(d, xj, xi);
			crypto_core_ed25519_scalar_mul(den[i], den[i], d);
		}
	}
	ist_frost_identifier(1, acc);
	for (size_t i = 0; i < n; i++) {
		memcpy(pre[i], acc, SB);
		crypto_core_ed25519_scalar_mul(acc, acc, den[i]);
	}
	if (crypto_core_ed25519_scalar_invert(inv, acc) != 0) {
		r = -IST_EINVAL;
		goto out;
	}
	for (size_t i = n; i-- > 0;) {
		uint8_t di[SB];
		crypto_core_ed25519_scalar_mul(di, inv, pre[i]);    /* 1 / den_i */
		crypto_core_ed25519_scalar_mul(inv, inv, den[i]);
		crypto_core_ed25519_scalar_mul(out[i], all, di);
	}
	r = 0;
out:
	free(den);
	free(pre);
	return r;
}

int ist_frost_session_new(const uint8_t group_pub32[EB], const struct ist_frost_commitment *list, size_t n,
			  struct ist_frost_session **ret_session)
{
	if (!list_shape_ok(list, n))
		return -IST_EINVAL;
	struct ist_ge g;
	if (!ist_ge_frombytes_checked(&g, group_pub32))
		return -IST_EBADKEY;
	int r = -IST_ENOMEM;
	struct ist_frost_session *s = calloc(1, sizeof(*s));
	if (!s)
		return -IST_ENOMEM;
	s->n = n;
	s->list = malloc(n * sizeof(*s->list));
	s->d = malloc(n * sizeof(*s->d));
	s->e = malloc(n * sizeof(*s->e));
	s->etab = malloc(n * sizeof(*s->etab));
	s->lambda = malloc(n * SB);
	s->rho = malloc(n * SB);
	if (!s->list || !s->d || !s->e || !s->etab || !s->lambda || !s->rho)
		goto fail;
	memcpy(s->group_pub, group_pub32, EB);
	memcpy(s->list, list, n * sizeof(*list));
	r = -IST_EBADKEY;
	ist_ge_identity(&s->dsum);
	for (size_t k = 0; k < n; k++) {
		if (!ist_ge_frombytes_checked(&s->d[k], list[k].hiding) ||
		    !ist_ge_frombytes_checked(&s->e[k], list[k].binding))
			goto fail;
		struct ist_ge_cached c;
		ist_ge_to_cached(&c, &s->d[k]);
		ist_ge_add(&s->dsum, &s->dsum, &c);
		ist_ge_table_init(&s->etab[k], &s->e[k]);
	}
	struct ist_ge b;
	IST_REQUIRE(ist_ge_frombytes(&b, base_point));
	ist_ge_table_init(&s->base, &b);
	hash_commitments(list, n, s->com_hash);
	r = all_lagrange(list, n, s->lambda);
	if (r < 0)
		goto fail;
	*ret_session = s;
	return 0;
fail:
	ist_frost_session_free(s);
	return r;
}

int ist_frost_session_bind(struct ist_frost_session *s, const uint8_t *msg, size_t msg_len)
{
	if (s->bound)
		return -IST_ESTATE;
	IST_REQUIRE(msg != NULL || msg_len == 0);
	free(s->msg);
	s->msg = malloc(msg_len ? msg_len : 1);
	if (!s->msg)
		return -IST_ENOMEM;
	if (msg_len)
		memcpy(s->msg, msg, msg_len);
	s->msg_len = msg_len;
	uint8_t mh[64];
	hash_msg(msg, msg_len, mh);
	binding_factors(s->group_pub, mh, s->com_hash, s->list, s->n, s->rho);
	struct ist_ge R;
	ist_ge_msm(&R, (const uint8_t (*)[32])s->rho, s->etab, s->n);
	struct ist_ge_cached c;
	ist_ge_to_cached(&c, &s->dsum);
	ist_ge_add(&R, &R, &c);
	if (ist_ge_is_identity(&R))
		return -IST_EBADKEY;
	ist_ge_tobytes(s->R, &R);
	ist_frost_challenge(s->R, s->group_pub, msg, msg_len, s->c);
	s->bound = true;
	return 0;
}

size_t ist_frost_session_count(const struct ist_frost_session *s)
{
	return s->n;
}

uint16_t ist_frost_session_id(const struct ist_frost_session *s, size_t k)
{
	IST_REQUIRE(k < s->n);
	return s->list[k].id;
}

int ist_frost_session_group_commitment(const struct ist_frost_session *s, uint8_t ret_R32[EB])
{
	if (!s->bound)
		return -IST_ESTATE;
	memcpy(ret_R32, s->R, EB);
	return 0;
}

int ist_frost_session_challenge(const struct ist_frost_session *s, uint8_t ret_c32[SB])
{
	if (!s->bound)
		return -IST_ESTATE;
	memcpy(ret_c32, s->c, SB);
	return 0;
}

int ist_frost_session_binding_factor(const struct ist_frost_session *s, uint16_t id, uint8_t ret_rho32[SB])
{
	if (!s->bound)
		return -IST_ESTATE;
	ptrdiff_t k = find_id(s->list, s->n, id);
	if (k < 0)
		return -IST_EINVAL;
	memcpy(ret_rho32, s->rho[k], SB);
	return 0;
}

int ist_frost_session_lagrange(const struct ist_frost_session *s, uint16_t id, uint8_t ret_lambda32[SB])
{
	ptrdiff_t k = find_id(s->list, s->n, id);
	if (k < 0)
		return -IST_EINVAL;
	memcpy(ret_lambda32, s->lambda[k], SB);
	return 0;
}

int ist_frost_session_sign(const struct ist_frost_session *s, uint16_t id, const uint8_t share32[SB],
			   struct ist_frost_nonce *nonce, uint8_t ret_z32[SB])
{
	if (!s->bound)
		return -IST_ESTATE;
	ptrdiff_t k = find_id(s->list, s->n, id);
	if (k < 0)
		return -IST_EINVAL;
	int r = check_signer(&s->list[k], share32, nonce);
	if (r < 0)
		return r;
	r = ist_frost_share_compute(share32, nonce, s->rho[k], s->lambda[k], s->c, ret_z32);
	if (r == 0)
		sodium_memzero(nonce, sizeof(*nonce));
	return r;
}

/* G*z == D + rho*E + (c*lambda)*PK, i.e. rho*E + (c*lambda)*PK - z*G + D is
 * the identity: one multi-scalar multiplication over public data. */
static bool session_share_ok(const struct ist_frost_session *s, size_t k, const struct ist_ge *pk,
			     const uint8_t z32[SB])
{
	uint8_t sc[3][32];
	struct ist_ge_table tabs[3];
	memcpy(sc[0], s->rho[k], SB);
	tabs[0] = s->etab[k];
	crypto_core_ed25519_scalar_mul(sc[1], s->c, s->lambda[k]);
	ist_ge_table_init(&tabs[1], pk);
	crypto_core_ed25519_scalar_negate(sc[2], z32);
	tabs[2] = s->base;
	struct ist_ge acc;
	struct ist_ge_cached dc;
	ist_ge_msm(&acc, (const uint8_t (*)[32])sc, tabs, 3);
	ist_ge_to_cached(&dc, &s->d[k]);
	ist_ge_add(&acc, &acc, &dc);
	return ist_ge_is_identity(&acc);
}

bool ist_frost_session_verify_share(const struct ist_frost_session *s, uint16_t id, const uint8_t pub32[EB],
				    const uint8_t z32[SB])
{
	if (!s->bound || !ist_frost_scalar_valid(z32))
		return false;
	ptrdiff_t k = find_id(s->list, s->n, id);
	if (k < 0)
		return false;
	struct ist_ge pk;
	if (!ist_ge_frombytes_checked(&pk, pub32))
		return false;
	return session_share_ok(s, (size_t)k, &pk, z32);
}

int ist_frost_session_aggregate(const struct ist_frost_session *s, const uint8_t (*pubs)[EB], const uint8_t (*z)[SB],
				uint8_t ret_sig64[IST_FROST_SIG_BYTES], uint16_t *ret_bad_id)
{
	if (!s->bound)
		return -IST_ESTATE;
	uint8_t sum[SB] = {0};
	for (size_t k = 0; k < s->n; k++) {
		if (!ist_frost_session_verify_share(s, s->list[k].id, pubs[k], z[k])) {
			if (ret_bad_id)
				*ret_bad_id = s->list[k].id;
			return -IST_EBADSIG;
		}
		crypto_core_ed25519_scalar_add(sum, sum, z[k]);
	}
	uint8_t sig[IST_FROST_SIG_BYTES];
	memcpy(sig, s->R, EB);
	memcpy(sig + EB, sum, SB);
	/* a valid signature by construction, unless the verification shares
	 * are not those of the group key: check what leaves the coordinator */
	if (!ist_frost_verify(s->group_pub, s->msg, s->msg_len, sig))
		return -IST_ECRYPTO;
	memcpy(ret_sig64, sig, sizeof(sig));
	return 0;
}
