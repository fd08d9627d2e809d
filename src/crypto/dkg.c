/*
 * Pedersen DKG with proofs of knowledge (crypto/dkg.h; docs/frost.md).
 *
 * Secrets (polynomial coefficients, shares, X25519 secret keys, proof
 * nonces) only meet libsodium's constant-time arithmetic. Checks over
 * public data (commitments, proofs, verification shares) use the
 * variable-time arithmetic of crypto/ge25519.h.
 *
 * The complaint. A box is crypto_box_seal's: epk || crypto_box(share,
 * nonce = BLAKE2b-192(epk || pk_j), pk_j, esk). Its key is
 * HSalsa20(X25519(sk_j, epk)), so whoever knows the X25519 shared secret
 * opens it. The complainer publishes that shared secret as an Edwards point
 * S and proves in zero knowledge that it is right: with A the Edwards form
 * of pk_j (A = w*G, w = +-(clamped sk_j mod L)) and E the prime-order
 * component of epk's Edwards form (E = 8^-1 * 8 * lift(epk)), S = w*E, and a
 * Chaum-Pedersen proof shows log_G(A) = log_E(S). Why S is the shared
 * secret: X25519 multiplies by the clamped scalar a, a multiple of 8, which
 * kills the torsion part of lift(epk); a*lift(epk) = (a mod L)*E = +-S, and
 * the u-coordinate (1+y)/(1-y) does not see the sign. So the verdict rests
 * only on public data and the proof: a dealer cannot make an honest
 * complaint fail, and a complainer cannot present another key for a good
 * box (that would need a false DLEQ proof).
 */
#include "crypto/dkg.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/frost_internal.h"
#include "crypto/ge25519.h"
#include "crypto/tags.h"

#define SB IST_FROST_SCALAR_BYTES
#define EB IST_FROST_ELEMENT_BYTES
#define MAXN IST_DKG_MAX_PARTICIPANTS

_Static_assert(IST_DKG_BOX_BYTES == crypto_box_SEALBYTES + SB, "box size");
_Static_assert(crypto_box_SEALBYTES == crypto_box_PUBLICKEYBYTES + crypto_box_MACBYTES, "seal layout");

static const uint8_t base_point[32] = {
	0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
};

struct ist_dkg_dealer {
	uint16_t id;
	uint16_t t;
	uint8_t coeffs[MAXN][SB]; /* a_0 .. a_{t-1} */
};

uint16_t ist_dkg_threshold(uint16_t n)
{
	return n == 0 ? 0 : (uint16_t)(2u * n / 3u + 1u);
}

/* ---- Montgomery <-> Edwards, public data ---- */

/* The Edwards point of sign 0 whose u-coordinate is u32: y = (u - 1)/(u + 1).
 * False for a non-canonical u (>= p or bit 255 set), u = -1, or no point. */
static bool mont_lift(const uint8_t u32[32], struct ist_ge *ret)
{
	if ((u32[31] & 0x80) || !ist_fe_bytes_canonical(u32))
		return false;
	ist_fe u, one, num, den, y;
	ist_fe_frombytes(u, u32);
	ist_fe_one(one);
	ist_fe_sub(num, u, one);
	ist_fe_add(den, u, one);
	if (ist_fe_is_zero(den))
		return false;
	ist_fe_invert(den, den);
	ist_fe_mul(y, num, den);
	uint8_t yb[32];
	ist_fe_tobytes(yb, y);
	return ist_ge_frombytes(ret, yb);
}

/* u = (1 + y)/(1 - y) of an Edwards point given compressed (not the identity) */
static void edwards_to_u(const uint8_t s32[32], uint8_t ret_u32[32])
{
	ist_fe y, one, num, den;
	ist_fe_frombytes(y, s32);
	ist_fe_one(one);
	ist_fe_add(num, one, y);
	ist_fe_sub(den, one, y);
	ist_fe_invert(den, den);
	ist_fe_mul(num, num, den);
	ist_fe_tobytes(ret_u32, num);
}

bool ist_dkg_enc_key_valid(const uint8_t pub32[IST_X25519_PUBKEY_BYTES])
{
	struct ist_ge a;
	uint8_t enc[32];
	if (!mont_lift(pub32, &a))
		return false;
	ist_ge_tobytes(enc, &a);
	return ist_ge_frombytes_checked(&a, enc);
}

/* The prime-order component E = 8^-1 * (8 * lift(epk)) of a box's
 * ephemeral key, compressed. False when epk does not lift or E is the
 * identity. */
static bool box_point(const uint8_t epk[32], uint8_t ret_e32[32])
{
	struct ist_ge p, p8, e;
	if (!mont_lift(epk, &p))
		return false;
	ist_ge_mul8(&p8, &p);
	if (ist_ge_is_identity(&p8))
		return false;
	uint8_t eight[SB] = {8}, inv8[SB];
	if (crypto_core_ed25519_scalar_invert(inv8, eight) != 0)
		return false;
	ist_ge_scalarmult(&e, inv8, &p8);
	ist_ge_tobytes(ret_e32, &e);
	return true;
}

/* ---- parameters ---- */

bool ist_dkg_params_valid(const struct ist_dkg_params *p)
{
	if (!p || p->n < 1 || p->n > MAXN || p->t < 1 || p->t > p->n || !p->enc_keys)
		return false;
	for (uint16_t j = 0; j < p->n; j++)
		if (!ist_dkg_enc_key_valid(p->enc_keys[j]))
			return false;
	return true;
}

/* Cheap shape check for the functions that run often; the keys are
 * checked where they are used. */
static bool params_shape(const struct ist_dkg_params *p)
{
	return p && p->n >= 1 && p->n <= MAXN && p->t >= 1 && p->t <= p->n && p->enc_keys;
}

/* ---- round 1 ---- */

/* c = SHA-512(tag || network_id || epoch || n || t || dealer || phi_0 .. phi_{t-1} || R)
 * mod L. The paper binds phi_0 only; binding every commitment as well makes
 * the whole package non-malleable (nobody can swap a later commitment and
 * keep the proof), at no cost. */
static void pok_challenge(const struct ist_dkg_params *p, uint16_t dealer, const uint8_t (*commit)[EB],
			  const uint8_t R[EB], uint8_t ret_c[SB])
{
	uint8_t hdr[8 + 8 + 2 + 2 + 2], wide[64];
	ist_put_be64(hdr, p->network_id);
	ist_put_be64(hdr + 8, p->epoch);
	ist_put_be16(hdr + 16, p->n);
	ist_put_be16(hdr + 18, p->t);
	ist_put_be16(hdr + 20, dealer);
	crypto_hash_sha512_state st;
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, (const uint8_t *)IST_TAG_DKG_POK, strlen(IST_TAG_DKG_POK));
	crypto_hash_sha512_update(&st, hdr, sizeof(hdr));
	crypto_hash_sha512_update(&st, commit[0], (size_t)p->t * EB);
	crypto_hash_sha512_update(&st, R, EB);
	crypto_hash_sha512_final(&st, wide);
	crypto_core_ed25519_scalar_reduce(ret_c, wide);
}

void ist_dkg_dealer_free(struct ist_dkg_dealer *d)
{
	if (d)
		sodium_free(d); /* sodium_free wipes */
}

int ist_dkg_round1(const struct ist_dkg_params *p, uint16_t id, const struct ist_rng *rng,
		   struct ist_dkg_dealer **ret_dealer, struct ist_dkg_round1 *ret_pkg)
{
	if (!params_shape(p) || id < 1 || id > p->n)
		return -IST_EINVAL;
	if (!ist_dkg_params_valid(p))
		return -IST_EBADKEY;
	struct ist_dkg_dealer *d = sodium_malloc(sizeof(*d));
	struct ist_dkg_round1 *pkg = calloc(1, sizeof(*pkg));
	uint8_t k[1][SB], c[SB];
	int r = -IST_ENOMEM;
	if (!d || !pkg)
		goto fail;
	memset(d, 0, sizeof(*d));
	d->id = id;
	d->t = p->t;
	r = ist_frost_random_scalars(rng, d->coeffs, p->t);
	if (r < 0)
		goto fail;
	r = ist_frost_random_scalars(rng, k, 1);
	if (r < 0)
		goto fail;
	pkg->dealer = id;
	pkg->t = p->t;
	r = -IST_ECRYPTO;
	for (uint16_t j = 0; j < p->t; j++)
		if (crypto_scalarmult_ed25519_base_noclamp(pkg->commit[j], d->coeffs[j]) != 0)
			goto fail;
	/* Schnorr proof of knowledge of a_0: R = k*G, z = k + a_0 * c */
	if (crypto_scalarmult_ed25519_base_noclamp(pkg->pok_R, k[0]) != 0)
		goto fail;
	pok_challenge(p, id, (const uint8_t (*)[EB])pkg->commit, pkg->pok_R, c);
	crypto_core_ed25519_scalar_mul(pkg->pok_z, d->coeffs[0], c);
	crypto_core_ed25519_scalar_add(pkg->pok_z, pkg->pok_z, k[0]);
	*ret_dealer = d;
	*ret_pkg = *pkg;
	d = NULL;
	r = 0;
fail:
	sodium_memzero(k, sizeof(k));
	ist_dkg_dealer_free(d);
	free(pkg);
	return r;
}

/* sum s[k] * P_k over public points (tables made here) */
static void msm2(struct ist_ge *r, const uint8_t s0[SB], const struct ist_ge *p0, const uint8_t s1[SB],
		 const struct ist_ge *p1)
{
	uint8_t sc[2][32];
	struct ist_ge_table tabs[2];
	memcpy(sc[0], s0, SB);
	memcpy(sc[1], s1, SB);
	ist_ge_table_init(&tabs[0], p0);
	ist_ge_table_init(&tabs[1], p1);
	ist_ge_msm(r, (const uint8_t (*)[32])sc, tabs, 2);
}

bool ist_dkg_round1_verify(const struct ist_dkg_params *p, const struct ist_dkg_round1 *pkg)
{
	if (!params_shape(p) || pkg->dealer < 1 || pkg->dealer > p->n || pkg->t != p->t)
		return false;
	if (!ist_frost_scalar_valid(pkg->pok_z))
		return false;
	struct ist_ge phi0, g, rr;
	for (uint16_t j = 0; j < pkg->t; j++) {
		struct ist_ge tmp;
		if (!ist_ge_frombytes_checked(j == 0 ? &phi0 : &tmp, pkg->commit[j]))
			return false;
	}
	/* R == z*G - c*phi_0 */
	uint8_t c[SB], negc[SB], want[EB];
	pok_challenge(p, pkg->dealer, (const uint8_t (*)[EB])pkg->commit, pkg->pok_R, c);
	crypto_core_ed25519_scalar_negate(negc, c);
	IST_REQUIRE(ist_ge_frombytes(&g, base_point));
	msm2(&rr, pkg->pok_z, &g, negc, &phi0);
	ist_ge_tobytes(want, &rr);
	return memcmp(want, pkg->pok_R, EB) == 0;
}

/* ---- round 2 ---- */

static void seal_nonce(const uint8_t epk[32], const uint8_t pk[32], uint8_t ret_nonce[crypto_box_NONCEBYTES])
{
	/* crypto_box_seal's nonce: BLAKE2b-192(epk || pk) */
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, crypto_box_NONCEBYTES);
	crypto_generichash_update(&st, epk, 32);
	crypto_generichash_update(&st, pk, 32);
	crypto_generichash_final(&st, ret_nonce, crypto_box_NONCEBYTES);
}

void ist_dkg_dealer_own_share(const struct ist_dkg_dealer *d, uint8_t ret_share32[SB])
{
	ist_frost_poly_eval((const uint8_t (*)[SB])d->coeffs, d->t, d->id, ret_share32);
}

int ist_dkg_round2(const struct ist_dkg_dealer *d, const struct ist_dkg_params *p, const bool *accepted,
		   const struct ist_rng *rng, struct ist_dkg_round2 *ret_pkg)
{
	if (!params_shape(p) || d->t != p->t || d->id > p->n || !accepted[d->id - 1])
		return -IST_EINVAL;
	struct ist_dkg_round2 *pkg = calloc(1, sizeof(*pkg));
	if (!pkg)
		return -IST_ENOMEM;
	uint8_t share[SB], esk[32], nonce[crypto_box_NONCEBYTES];
	int r = 0;
	pkg->dealer = d->id;
	for (uint16_t j = 1; j <= p->n && r == 0; j++) {
		if (j == d->id || !accepted[j - 1])
			continue;
		if (!ist_dkg_enc_key_valid(p->enc_keys[j - 1])) {
			r = -IST_EBADKEY;
			break;
		}
		struct ist_dkg_box *b = &pkg->boxes[pkg->count++];
		b->recipient = j;
		r = ist_rng_fill(rng, esk, sizeof(esk));
		if (r < 0)
			break;
		r = -IST_ECRYPTO;
		if (crypto_scalarmult_base(b->box, esk) != 0)
			break;
		seal_nonce(b->box, p->enc_keys[j - 1], nonce);
		ist_frost_poly_eval((const uint8_t (*)[SB])d->coeffs, d->t, j, share);
		if (crypto_box_easy(b->box + crypto_box_PUBLICKEYBYTES, share, SB, nonce, p->enc_keys[j - 1], esk) != 0)
			break;
		r = 0;
	}
	if (r == 0)
		*ret_pkg = *pkg;
	sodium_memzero(share, sizeof(share));
	sodium_memzero(esk, sizeof(esk));
	free(pkg);
	return r;
}

static const struct ist_dkg_box *find_box(const struct ist_dkg_round2 *r2, uint16_t j)
{
	for (uint16_t k = 0; k < r2->count && k < MAXN - 1; k++)
		if (r2->boxes[k].recipient == j)
			return &r2->boxes[k];
	return NULL;
}

bool ist_dkg_round2_check(const struct ist_dkg_params *p, const bool *accepted, const struct ist_dkg_round2 *pkg)
{
	if (!params_shape(p) || pkg->dealer < 1 || pkg->dealer > p->n || !accepted[pkg->dealer - 1])
		return false;
	if (pkg->count > MAXN - 1)
		return false;
	uint16_t k = 0;
	for (uint16_t j = 1; j <= p->n; j++) {
		if (j == pkg->dealer || !accepted[j - 1])
			continue;
		if (k >= pkg->count || pkg->boxes[k].recipient != j)
			return false;
		uint8_t e[EB];
		if (!box_point(pkg->boxes[k].box, e))
			return false;
		k++;
	}
	return k == pkg->count;
}

/* G * share == sum_k commit[k] * j^k */
static bool share_matches(const struct ist_dkg_round1 *r1, uint16_t j, const uint8_t share[SB])
{
	if (!ist_frost_scalar_valid(share) || ist_frost_scalar_is_zero(share) || r1->t < 1 || r1->t > MAXN)
		return false;
	struct ist_ge *pts = malloc((size_t)r1->t * sizeof(*pts));
	if (!pts)
		return false;
	bool ok = false;
	uint8_t want[EB], got[EB];
	for (uint16_t k = 0; k < r1->t; k++)
		if (!ist_ge_frombytes(&pts[k], r1->commit[k]))
			goto out;
	struct ist_ge y;
	ist_frost_point_poly_eval(pts, r1->t, j, &y);
	ist_ge_tobytes(want, &y);
	if (crypto_scalarmult_ed25519_base_noclamp(got, share) != 0)
		goto out;
	ok = memcmp(want, got, EB) == 0;
out:
	free(pts);
	return ok;
}

int ist_dkg_receive(const struct ist_dkg_params *p, uint16_t me, const uint8_t my_enc_sec32[IST_X25519_SECKEY_BYTES],
		    const struct ist_dkg_round1 *r1, const struct ist_dkg_round2 *r2, uint8_t ret_share32[SB])
{
	if (!params_shape(p) || me < 1 || me > p->n || r1->dealer != r2->dealer || me == r2->dealer)
		return -IST_EINVAL;
	const struct ist_dkg_box *b = find_box(r2, me);
	if (!b)
		return -IST_EINVAL;
	uint8_t share[SB];
	int r = -IST_EBADPROOF;
	if (crypto_box_seal_open(share, b->box, IST_DKG_BOX_BYTES, p->enc_keys[me - 1], my_enc_sec32) != 0)
		goto out;
	if (!share_matches(r1, me, share))
		goto out;
	memcpy(ret_share32, share, SB);
	r = 0;
out:
	sodium_memzero(share, sizeof(share));
	return r;
}

/* ---- complaints ---- */

static void complaint_challenge(const struct ist_dkg_params *p, uint16_t dealer, uint16_t complainer,
				const uint8_t A[EB], const uint8_t E[EB], const uint8_t S[EB], const uint8_t T1[EB],
				const uint8_t T2[EB], uint8_t ret_c[SB])
{
	uint8_t hdr[8 + 8 + 2 + 2], wide[64];
	ist_put_be64(hdr, p->network_id);
	ist_put_be64(hdr + 8, p->epoch);
	ist_put_be16(hdr + 16, dealer);
	ist_put_be16(hdr + 18, complainer);
	crypto_hash_sha512_state st;
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, (const uint8_t *)IST_TAG_DKG_COMPLAINT, strlen(IST_TAG_DKG_COMPLAINT));
	crypto_hash_sha512_update(&st, hdr, sizeof(hdr));
	crypto_hash_sha512_update(&st, A, EB);
	crypto_hash_sha512_update(&st, E, EB);
	crypto_hash_sha512_update(&st, S, EB);
	crypto_hash_sha512_update(&st, T1, EB);
	crypto_hash_sha512_update(&st, T2, EB);
	crypto_hash_sha512_final(&st, wide);
	crypto_core_ed25519_scalar_reduce(ret_c, wide);
}

/* the compressed Edwards form of an X25519 public key (sign 0) */
static bool enc_key_point(const uint8_t pub32[32], uint8_t ret_a32[EB])
{
	struct ist_ge a;
	if (!mont_lift(pub32, &a))
		return false;
	ist_ge_tobytes(ret_a32, &a);
	return true;
}

int ist_dkg_complain(const struct ist_dkg_params *p, uint16_t me, const uint8_t my_enc_sec32[IST_X25519_SECKEY_BYTES],
		     const struct ist_dkg_round2 *r2, const struct ist_rng *rng, struct ist_dkg_complaint *ret_complaint)
{
	if (!params_shape(p) || me < 1 || me > p->n || me == r2->dealer)
		return -IST_EINVAL;
	const struct ist_dkg_box *b = find_box(r2, me);
	if (!b)
		return -IST_EINVAL;
	const uint8_t *pub = p->enc_keys[me - 1];
	uint8_t A[EB], E[EB], a[64] = {0}, w[SB], wg[EB], k[1][SB], T1[EB], T2[EB];
	struct ist_dkg_complaint c = {.dealer = r2->dealer, .complainer = me};
	int r = -IST_EBADKEY;
	if (!enc_key_point(pub, A) || !box_point(b->box, E))
		goto out;
	/* w = +-(clamped secret mod L), the sign that gives A = w*G */
	memcpy(a, my_enc_sec32, 32);
	a[0] &= 248;
	a[31] &= 127;
	a[31] |= 64;
	crypto_core_ed25519_scalar_reduce(w, a);
	if (crypto_scalarmult_ed25519_base_noclamp(wg, w) != 0)
		goto out;
	if (memcmp(wg, A, EB) != 0) {
		crypto_core_ed25519_scalar_negate(w, w);
		if (crypto_scalarmult_ed25519_base_noclamp(wg, w) != 0 || memcmp(wg, A, EB) != 0)
			goto out; /* the secret is not me's */
	}
	r = -IST_ECRYPTO;
	if (crypto_scalarmult_ed25519_noclamp(c.shared, w, E) != 0)
		goto out;
	r = ist_frost_random_scalars(rng, k, 1);
	if (r < 0)
		goto out;
	r = -IST_ECRYPTO;
	if (crypto_scalarmult_ed25519_base_noclamp(T1, k[0]) != 0 || crypto_scalarmult_ed25519_noclamp(T2, k[0], E) != 0)
		goto out;
	complaint_challenge(p, c.dealer, me, A, E, c.shared, T1, T2, c.c);
	crypto_core_ed25519_scalar_mul(c.z, c.c, w);
	crypto_core_ed25519_scalar_add(c.z, c.z, k[0]);
	*ret_complaint = c;
	r = 0;
out:
	sodium_memzero(a, sizeof(a));
	sodium_memzero(w, sizeof(w));
	sodium_memzero(k, sizeof(k));
	return r;
}

/* The complaint's proof: T1 = z*G - c*A, T2 = z*E - c*S, c == H(..., T1, T2). */
static bool complaint_proof_ok(const struct ist_dkg_params *p, const struct ist_dkg_complaint *c, const uint8_t A[EB],
			       const uint8_t E[EB])
{
	struct ist_ge ga, ge, gs, gg, t;
	if (!ist_frost_scalar_valid(c->c) || !ist_frost_scalar_valid(c->z))
		return false;
	if (!ist_ge_frombytes(&ga, A) || !ist_ge_frombytes(&ge, E) || !ist_ge_frombytes_checked(&gs, c->shared))
		return false;
	IST_REQUIRE(ist_ge_frombytes(&gg, base_point));
	uint8_t negc[SB], T1[EB], T2[EB], cc[SB];
	crypto_core_ed25519_scalar_negate(negc, c->c);
	msm2(&t, c->z, &gg, negc, &ga);
	ist_ge_tobytes(T1, &t);
	msm2(&t, c->z, &ge, negc, &gs);
	ist_ge_tobytes(T2, &t);
	complaint_challenge(p, c->dealer, c->complainer, A, E, c->shared, T1, T2, cc);
	return memcmp(cc, c->c, SB) == 0;
}

int ist_dkg_complaint_judge(const struct ist_dkg_params *p, const struct ist_dkg_round1 *r1,
			    const struct ist_dkg_round2 *r2, const struct ist_dkg_complaint *c,
			    enum ist_dkg_verdict *ret_verdict)
{
	if (!params_shape(p) || r1->dealer != r2->dealer || c->dealer != r2->dealer || c->complainer < 1 ||
	    c->complainer > p->n || c->complainer == c->dealer)
		return -IST_EINVAL;
	const struct ist_dkg_box *b = find_box(r2, c->complainer);
	if (!b)
		return -IST_EINVAL;
	uint8_t A[EB], E[EB];
	if (!enc_key_point(p->enc_keys[c->complainer - 1], A) || !box_point(b->box, E) ||
	    !complaint_proof_ok(p, c, A, E)) {
		/* an unusable key or box leaves nothing to prove against: the
		 * key is checked at registration, the box by round2_check */
		*ret_verdict = IST_DKG_COMPLAINT_INVALID;
		return 0;
	}
	/* open the box as the complainer did: key = HSalsa20(u(S)) */
	static const uint8_t zero16[16];
	uint8_t u[32], key[crypto_box_BEFORENMBYTES], nonce[crypto_box_NONCEBYTES], share[SB];
	edwards_to_u(c->shared, u);
	crypto_core_hsalsa20(key, zero16, u, NULL);
	seal_nonce(b->box, p->enc_keys[c->complainer - 1], nonce);
	bool good = crypto_box_open_easy_afternm(share, b->box + crypto_box_PUBLICKEYBYTES,
						 IST_DKG_BOX_BYTES - crypto_box_PUBLICKEYBYTES, nonce, key) == 0 &&
		    share_matches(r1, c->complainer, share);
	*ret_verdict = good ? IST_DKG_COMPLAINER_FAULT : IST_DKG_DEALER_FAULT;
	sodium_memzero(key, sizeof(key));
	sodium_memzero(share, sizeof(share));
	return 0;
}

/* ---- finalisation ---- */

int ist_dkg_group_compute(const struct ist_dkg_params *p, const struct ist_dkg_round1 *const *round1,
			  struct ist_dkg_group *ret_group)
{
	if (!params_shape(p))
		return -IST_EINVAL;
	struct ist_dkg_group *g = calloc(1, sizeof(*g));
	struct ist_ge *phi = malloc((size_t)p->t * sizeof(*phi)); /* sum over Q of each coefficient's commitment */
	int r = -IST_ENOMEM;
	if (!g || !phi)
		goto out;
	g->n = p->n;
	g->t = p->t;
	for (uint16_t k = 0; k < p->t; k++)
		ist_ge_identity(&phi[k]);
	r = -IST_EBADKEY;
	for (uint16_t i = 1; i <= p->n; i++) {
		const struct ist_dkg_round1 *r1 = round1[i - 1];
		if (!r1)
			continue;
		if (r1->dealer != i || r1->t != p->t) {
			r = -IST_EINVAL;
			goto out;
		}
		g->qualified[i - 1] = true;
		g->count++;
		for (uint16_t k = 0; k < p->t; k++) {
			struct ist_ge pt;
			struct ist_ge_cached c;
			if (!ist_ge_frombytes(&pt, r1->commit[k]))
				goto out;
			ist_ge_to_cached(&c, &pt);
			ist_ge_add(&phi[k], &phi[k], &c);
		}
	}
	if (g->count < p->t) {
		r = -IST_ERANGE;
		goto out;
	}
	if (ist_ge_is_identity(&phi[0]))
		goto out;
	ist_ge_tobytes(g->group_pub, &phi[0]);
	for (uint16_t j = 1; j <= p->n; j++) {
		if (!g->qualified[j - 1])
			continue;
		struct ist_ge y;
		ist_frost_point_poly_eval(phi, p->t, j, &y);
		if (ist_ge_is_identity(&y))
			goto out;
		ist_ge_tobytes(g->pubshares[j - 1], &y);
	}
	*ret_group = *g;
	r = 0;
out:
	free(g);
	free(phi);
	return r;
}

int ist_dkg_signing_share(const struct ist_dkg_group *g, uint16_t me, const uint8_t (*shares)[SB],
			  uint8_t ret_share32[SB])
{
	if (me < 1 || me > g->n || g->n > MAXN || !g->qualified[me - 1])
		return -IST_EINVAL;
	uint8_t s[SB] = {0}, pub[EB];
	int r = -IST_EBADKEY;
	for (uint16_t i = 1; i <= g->n; i++) {
		if (!g->qualified[i - 1])
			continue;
		if (!ist_frost_scalar_valid(shares[i - 1]))
			goto out;
		crypto_core_ed25519_scalar_add(s, s, shares[i - 1]);
	}
	if (ist_frost_pubkey(s, pub) != 0 || memcmp(pub, g->pubshares[me - 1], EB) != 0)
		goto out;
	memcpy(ret_share32, s, SB);
	r = 0;
out:
	sodium_memzero(s, sizeof(s));
	return r;
}

/* ---- encodings ---- */

size_t ist_dkg_round1_encoded_len(const struct ist_dkg_round1 *pkg)
{
	IST_REQUIRE(pkg->t >= 1 && pkg->t <= MAXN);
	return IST_DKG_ROUND1_BYTES(pkg->t);
}

void ist_dkg_round1_encode(const struct ist_dkg_round1 *pkg, uint8_t *out)
{
	IST_REQUIRE(pkg->t >= 1 && pkg->t <= MAXN);
	ist_put_be16(out, pkg->dealer);
	ist_put_be16(out + 2, pkg->t);
	memcpy(out + 4, pkg->commit, (size_t)pkg->t * EB);
	memcpy(out + 4 + (size_t)pkg->t * EB, pkg->pok_R, EB);
	memcpy(out + 4 + (size_t)pkg->t * EB + EB, pkg->pok_z, SB);
}

static int length_error(size_t len, size_t want, size_t max)
{
	if (len > max)
		return -IST_ETOOBIG;
	return len < want ? -IST_ETRUNCATED : -IST_EPARSE;
}

int ist_dkg_round1_decode(const uint8_t *in, size_t len, struct ist_dkg_round1 *ret_pkg)
{
	if (len > IST_DKG_ROUND1_MAX_BYTES)
		return -IST_ETOOBIG;
	if (len < IST_DKG_ROUND1_BYTES(1))
		return -IST_ETRUNCATED;
	uint16_t dealer = ist_get_be16(in), t = ist_get_be16(in + 2);
	if (dealer < 1 || dealer > MAXN || t < 1 || t > MAXN)
		return -IST_EPARSE;
	if (len != IST_DKG_ROUND1_BYTES(t))
		return length_error(len, IST_DKG_ROUND1_BYTES(t), IST_DKG_ROUND1_MAX_BYTES);
	const uint8_t *z = in + 4 + (size_t)t * EB + EB;
	if (!ist_frost_scalar_valid(z))
		return -IST_EPARSE;
	struct ist_dkg_round1 *pkg = calloc(1, sizeof(*pkg));
	if (!pkg)
		return -IST_ENOMEM;
	pkg->dealer = dealer;
	pkg->t = t;
	memcpy(pkg->commit, in + 4, (size_t)t * EB);
	memcpy(pkg->pok_R, in + 4 + (size_t)t * EB, EB);
	memcpy(pkg->pok_z, z, SB);
	*ret_pkg = *pkg;
	free(pkg);
	return 0;
}

size_t ist_dkg_round2_encoded_len(const struct ist_dkg_round2 *pkg)
{
	IST_REQUIRE(pkg->count <= MAXN - 1);
	return IST_DKG_ROUND2_BYTES(pkg->count);
}

void ist_dkg_round2_encode(const struct ist_dkg_round2 *pkg, uint8_t *out)
{
	IST_REQUIRE(pkg->count <= MAXN - 1);
	ist_put_be16(out, pkg->dealer);
	ist_put_be16(out + 2, pkg->count);
	uint8_t *q = out + 4;
	for (uint16_t k = 0; k < pkg->count; k++) {
		ist_put_be16(q, pkg->boxes[k].recipient);
		memcpy(q + 2, pkg->boxes[k].box, IST_DKG_BOX_BYTES);
		q += 2 + IST_DKG_BOX_BYTES;
	}
}

int ist_dkg_round2_decode(const uint8_t *in, size_t len, struct ist_dkg_round2 *ret_pkg)
{
	if (len > IST_DKG_ROUND2_MAX_BYTES)
		return -IST_ETOOBIG;
	if (len < IST_DKG_ROUND2_BYTES(0))
		return -IST_ETRUNCATED;
	uint16_t dealer = ist_get_be16(in), count = ist_get_be16(in + 2);
	if (dealer < 1 || dealer > MAXN || count > MAXN - 1)
		return -IST_EPARSE;
	if (len != IST_DKG_ROUND2_BYTES(count))
		return length_error(len, IST_DKG_ROUND2_BYTES(count), IST_DKG_ROUND2_MAX_BYTES);
	struct ist_dkg_round2 *pkg = calloc(1, sizeof(*pkg));
	if (!pkg)
		return -IST_ENOMEM;
	int r = -IST_EPARSE;
	pkg->dealer = dealer;
	pkg->count = count;
	const uint8_t *q = in + 4;
	for (uint16_t k = 0; k < count; k++) {
		uint16_t j = ist_get_be16(q);
		if (j < 1 || j > MAXN || j == dealer || (k > 0 && j <= pkg->boxes[k - 1].recipient))
			goto out;
		pkg->boxes[k].recipient = j;
		memcpy(pkg->boxes[k].box, q + 2, IST_DKG_BOX_BYTES);
		q += 2 + IST_DKG_BOX_BYTES;
	}
	*ret_pkg = *pkg;
	r = 0;
out:
	free(pkg);
	return r;
}

void ist_dkg_complaint_encode(const struct ist_dkg_complaint *c, uint8_t out[IST_DKG_COMPLAINT_BYTES])
{
	ist_put_be16(out, c->dealer);
	ist_put_be16(out + 2, c->complainer);
	memcpy(out + 4, c->shared, EB);
	memcpy(out + 4 + EB, c->c, SB);
	memcpy(out + 4 + EB + SB, c->z, SB);
}

int ist_dkg_complaint_decode(const uint8_t *in, size_t len, struct ist_dkg_complaint *ret_c)
{
	if (len != IST_DKG_COMPLAINT_BYTES)
		return length_error(len, IST_DKG_COMPLAINT_BYTES, IST_DKG_COMPLAINT_BYTES);
	struct ist_dkg_complaint c;
	c.dealer = ist_get_be16(in);
	c.complainer = ist_get_be16(in + 2);
	if (c.dealer < 1 || c.dealer > MAXN || c.complainer < 1 || c.complainer > MAXN || c.dealer == c.complainer)
		return -IST_EPARSE;
	memcpy(c.shared, in + 4, EB);
	memcpy(c.c, in + 4 + EB, SB);
	memcpy(c.z, in + 4 + EB + SB, SB);
	if (!ist_frost_scalar_valid(c.c) || !ist_frost_scalar_valid(c.z))
		return -IST_EPARSE;
	*ret_c = c;
	return 0;
}
