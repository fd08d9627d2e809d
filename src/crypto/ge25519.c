/*
 * Edwards25519 arithmetic for public data (see ge25519.h: VARIABLE TIME).
 *
 * The field is GF(2^255 - 19) in five 51-bit limbs, products in unsigned
 * __int128 (the "donna64" representation). Every add and sub carries, so
 * limbs stay below 2^52 between operations and no bound has to be tracked
 * across calls: simpler to check than lazy reduction, at a small cost.
 *
 * Points use extended twisted Edwards coordinates (Hisil-Wong-Carter-Dawson
 * 2008) with a = -1: add-2008-hwcd-3 and dbl-2008-hwcd of the Explicit
 * Formulas Database. The addition is unified and complete on this curve, so
 * doubling through it, the identity and P + (-P) need no special case.
 */
#include "crypto/ge25519.h"

#include <string.h>

typedef unsigned __int128 u128;

#define MASK51 ((uint64_t)0x7ffffffffffff)

/* d = -121665/121666, 2d, sqrt(-1) */
static const ist_fe fe_d = {0x00034dca135978a3, 0x0001a8283b156ebd, 0x0005e7a26001c029, 0x000739c663a03cbb,
			    0x00052036cee2b6ff};
static const ist_fe fe_d2 = {0x00069b9426b2f159, 0x00035050762add7a, 0x0003cf44c0038052, 0x0006738cc7407977,
			     0x0002406d9dc56dff};
static const ist_fe fe_sqrtm1 = {0x00061b274a0ea0b0, 0x0000d5a5fc8f189d, 0x0007ef5e9cbd0c60, 0x00078595a6804c9e,
				 0x0002b8324804fc1d};

/* L = 2^252 + 27742317777372353535851937790883648493, little-endian */
static const uint8_t order_L[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* ---- field ---- */

static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void store64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void ist_fe_one(ist_fe h)
{
	h[0] = 1;
	h[1] = h[2] = h[3] = h[4] = 0;
}

static void fe_zero(ist_fe h)
{
	memset(h, 0, sizeof(ist_fe));
}

static void fe_copy(ist_fe h, const ist_fe f)
{
	memcpy(h, f, sizeof(ist_fe));
}

static void fe_carry(ist_fe h)
{
	uint64_t c;
	c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
	c = h[1] >> 51; h[1] &= MASK51; h[2] += c;
	c = h[2] >> 51; h[2] &= MASK51; h[3] += c;
	c = h[3] >> 51; h[3] &= MASK51; h[4] += c;
	c = h[4] >> 51; h[4] &= MASK51; h[0] += 19 * c;
}

void ist_fe_frombytes(ist_fe h, const uint8_t s[32])
{
	h[0] = load64(s) & MASK51;
	h[1] = (load64(s + 6) >> 3) & MASK51;
	h[2] = (load64(s + 12) >> 6) & MASK51;
	h[3] = (load64(s + 19) >> 1) & MASK51;
	h[4] = (load64(s + 24) >> 12) & MASK51;
}

void ist_fe_tobytes(uint8_t s[32], const ist_fe f)
{
	ist_fe h;
	fe_copy(h, f);
	fe_carry(h);
	fe_carry(h);
	/* now h < 2^255 + small; q = 1 when h >= p */
	uint64_t q = (h[0] + 19) >> 51;
	q = (h[1] + q) >> 51;
	q = (h[2] + q) >> 51;
	q = (h[3] + q) >> 51;
	q = (h[4] + q) >> 51;
	h[0] += 19 * q;
	uint64_t c;
	c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
	c = h[1] >> 51; h[1] &= MASK51; h[2] += c;
	c = h[2] >> 51; h[2] &= MASK51; h[3] += c;
	c = h[3] >> 51; h[3] &= MASK51; h[4] += c;
	h[4] &= MASK51;
	store64(s, h[0] | (h[1] << 51));
	store64(s + 8, (h[1] >> 13) | (h[2] << 38));
	store64(s + 16, (h[2] >> 26) | (h[3] << 25));
	store64(s + 24, (h[3] >> 39) | (h[4] << 12));
}

bool ist_fe_bytes_canonical(const uint8_t s[32])
{
	/* p = 2^255 - 19: 0xed, 0xff * 30, 0x7f (bit 255 ignored) */
	if ((s[31] & 0x7f) != 0x7f)
		return true;
	for (int i = 30; i > 0; i--)
		if (s[i] != 0xff)
			return true;
	return s[0] < 0xed;
}

void ist_fe_add(ist_fe h, const ist_fe f, const ist_fe g)
{
	for (int i = 0; i < 5; i++)
		h[i] = f[i] + g[i];
	fe_carry(h);
}

void ist_fe_sub(ist_fe h, const ist_fe f, const ist_fe g)
{
	/* + 4p, so that no limb goes negative (inputs are below 2^52) */
	h[0] = f[0] + 0x1fffffffffffb4 - g[0];
	h[1] = f[1] + 0x1ffffffffffffc - g[1];
	h[2] = f[2] + 0x1ffffffffffffc - g[2];
	h[3] = f[3] + 0x1ffffffffffffc - g[3];
	h[4] = f[4] + 0x1ffffffffffffc - g[4];
	fe_carry(h);
}

static void fe_neg(ist_fe h, const ist_fe f)
{
	ist_fe z;
	fe_zero(z);
	ist_fe_sub(h, z, f);
}

static void fe_reduce_wide(ist_fe h, u128 r0, u128 r1, u128 r2, u128 r3, u128 r4)
{
	uint64_t c;
	r1 += (uint64_t)(r0 >> 51); h[0] = (uint64_t)r0 & MASK51;
	r2 += (uint64_t)(r1 >> 51); h[1] = (uint64_t)r1 & MASK51;
	r3 += (uint64_t)(r2 >> 51); h[2] = (uint64_t)r2 & MASK51;
	r4 += (uint64_t)(r3 >> 51); h[3] = (uint64_t)r3 & MASK51;
	c = (uint64_t)(r4 >> 51); h[4] = (uint64_t)r4 & MASK51;
	h[0] += c * 19;
	c = h[0] >> 51; h[0] &= MASK51; h[1] += c;
}

void ist_fe_mul(ist_fe h, const ist_fe f, const ist_fe g)
{
	uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
	uint64_t g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4];
	uint64_t g1_19 = 19 * g1, g2_19 = 19 * g2, g3_19 = 19 * g3, g4_19 = 19 * g4;
	u128 r0 = (u128)f0 * g0 + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
	u128 r1 = (u128)f0 * g1 + (u128)f1 * g0 + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
	u128 r2 = (u128)f0 * g2 + (u128)f1 * g1 + (u128)f2 * g0 + (u128)f3 * g4_19 + (u128)f4 * g3_19;
	u128 r3 = (u128)f0 * g3 + (u128)f1 * g2 + (u128)f2 * g1 + (u128)f3 * g0 + (u128)f4 * g4_19;
	u128 r4 = (u128)f0 * g4 + (u128)f1 * g3 + (u128)f2 * g2 + (u128)f3 * g1 + (u128)f4 * g0;
	fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sq(ist_fe h, const ist_fe f)
{
	uint64_t f0 = f[0], f1 = f[1], f2 = f[2], f3 = f[3], f4 = f[4];
	uint64_t f0_2 = 2 * f0, f1_2 = 2 * f1;
	uint64_t f3_19 = 19 * f3, f4_19 = 19 * f4;
	u128 r0 = (u128)f0 * f0 + (u128)f1_2 * f4_19 + (u128)(2 * f2) * f3_19;
	u128 r1 = (u128)f0_2 * f1 + (u128)(2 * f2) * f4_19 + (u128)f3 * f3_19;
	u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)(2 * f3) * f4_19;
	u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4 * f4_19;
	u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
	fe_reduce_wide(h, r0, r1, r2, r3, r4);
}

static void fe_sqn(ist_fe h, const ist_fe f, int n)
{
	fe_sq(h, f);
	for (int i = 1; i < n; i++)
		fe_sq(h, h);
}

/* z^(2^250 - 1) and z^11: the common prefix of the inversion and square-root chains */
static void fe_pow_2_250_1(ist_fe out, ist_fe z11, const ist_fe z)
{
	ist_fe t0, t1, t2, t3;
	fe_sq(t0, z);             /* 2 */
	fe_sqn(t1, t0, 2);        /* 8 */
	ist_fe_mul(t1, z, t1);    /* 9 */
	ist_fe_mul(t0, t0, t1);   /* 11 */
	fe_copy(z11, t0);
	fe_sq(t2, t0);            /* 22 */
	ist_fe_mul(t1, t1, t2);   /* 31 = 2^5 - 1 */
	fe_sqn(t2, t1, 5);
	ist_fe_mul(t1, t2, t1);   /* 2^10 - 1 */
	fe_sqn(t2, t1, 10);
	ist_fe_mul(t2, t2, t1);   /* 2^20 - 1 */
	fe_sqn(t3, t2, 20);
	ist_fe_mul(t2, t3, t2);   /* 2^40 - 1 */
	fe_sqn(t2, t2, 10);
	ist_fe_mul(t1, t2, t1);   /* 2^50 - 1 */
	fe_sqn(t2, t1, 50);
	ist_fe_mul(t2, t2, t1);   /* 2^100 - 1 */
	fe_sqn(t3, t2, 100);
	ist_fe_mul(t2, t3, t2);   /* 2^200 - 1 */
	fe_sqn(t2, t2, 50);
	ist_fe_mul(out, t2, t1);  /* 2^250 - 1 */
}

void ist_fe_invert(ist_fe out, const ist_fe z)
{
	ist_fe t, z11;
	fe_pow_2_250_1(t, z11, z);
	fe_sqn(t, t, 5);          /* 2^255 - 32 */
	ist_fe_mul(out, t, z11);  /* 2^255 - 21 = p - 2 */
}

/* z^((p - 5) / 8) = z^(2^252 - 3) */
static void fe_pow22523(ist_fe out, const ist_fe z)
{
	ist_fe t, z11;
	fe_pow_2_250_1(t, z11, z);
	fe_sqn(t, t, 2);          /* 2^252 - 4 */
	ist_fe_mul(out, t, z);
}

bool ist_fe_is_zero(const ist_fe f)
{
	uint8_t s[32];
	ist_fe_tobytes(s, f);
	uint8_t acc = 0;
	for (int i = 0; i < 32; i++)
		acc |= s[i];
	return acc == 0;
}

static bool fe_is_negative(const ist_fe f)
{
	uint8_t s[32];
	ist_fe_tobytes(s, f);
	return s[0] & 1;
}

static bool fe_equal(const ist_fe f, const ist_fe g)
{
	ist_fe d;
	ist_fe_sub(d, f, g);
	return ist_fe_is_zero(d);
}

/* ---- points ---- */

void ist_ge_identity(struct ist_ge *r)
{
	fe_zero(r->X);
	ist_fe_one(r->Y);
	ist_fe_one(r->Z);
	fe_zero(r->T);
}

bool ist_ge_frombytes(struct ist_ge *r, const uint8_t s[32])
{
	if (!ist_fe_bytes_canonical(s))
		return false;
	ist_fe y, u, v, v3, vxx, x, one;
	ist_fe_frombytes(y, s);
	ist_fe_one(one);
	fe_sq(u, y);
	ist_fe_mul(v, u, fe_d);
	ist_fe_sub(u, u, one);       /* u = y^2 - 1 */
	ist_fe_add(v, v, one);       /* v = d y^2 + 1 */
	fe_sq(v3, v);
	ist_fe_mul(v3, v3, v);       /* v^3 */
	fe_sq(x, v3);
	ist_fe_mul(x, x, v);
	ist_fe_mul(x, x, u);         /* u v^7 */
	fe_pow22523(x, x);
	ist_fe_mul(x, x, v3);
	ist_fe_mul(x, x, u);         /* u v^3 (u v^7)^((p-5)/8) */
	fe_sq(vxx, x);
	ist_fe_mul(vxx, vxx, v);
	if (!fe_equal(vxx, u)) {
		ist_fe nu;
		fe_neg(nu, u);
		if (!fe_equal(vxx, nu))
			return false;
		ist_fe_mul(x, x, fe_sqrtm1);
	}
	bool sign = s[31] >> 7;
	if (ist_fe_is_zero(x) && sign)
		return false;
	if (fe_is_negative(x) != sign)
		fe_neg(x, x);
	fe_copy(r->X, x);
	fe_copy(r->Y, y);
	ist_fe_one(r->Z);
	ist_fe_mul(r->T, x, y);
	return true;
}

bool ist_ge_frombytes_checked(struct ist_ge *r, const uint8_t s[32])
{
	struct ist_ge p, l;
	if (!ist_ge_frombytes(&p, s))
		return false;
	if (ist_ge_is_identity(&p))
		return false;
	/* in the prime-order subgroup iff L * P is the identity (this also
	 * rejects the small-order points, which are not the identity) */
	ist_ge_scalarmult(&l, order_L, &p);
	if (!ist_ge_is_identity(&l))
		return false;
	*r = p;
	return true;
}

void ist_ge_tobytes(uint8_t s[32], const struct ist_ge *p)
{
	ist_fe zi, x, y;
	ist_fe_invert(zi, p->Z);
	ist_fe_mul(x, p->X, zi);
	ist_fe_mul(y, p->Y, zi);
	ist_fe_tobytes(s, y);
	s[31] |= (uint8_t)(fe_is_negative(x) << 7);
}

bool ist_ge_is_identity(const struct ist_ge *p)
{
	/* X = 0 and Y = Z */
	return ist_fe_is_zero(p->X) && fe_equal(p->Y, p->Z);
}

bool ist_ge_equal(const struct ist_ge *p, const struct ist_ge *q)
{
	ist_fe a, b;
	ist_fe_mul(a, p->X, q->Z);
	ist_fe_mul(b, q->X, p->Z);
	if (!fe_equal(a, b))
		return false;
	ist_fe_mul(a, p->Y, q->Z);
	ist_fe_mul(b, q->Y, p->Z);
	return fe_equal(a, b);
}

void ist_ge_to_cached(struct ist_ge_cached *r, const struct ist_ge *p)
{
	ist_fe_add(r->YplusX, p->Y, p->X);
	ist_fe_sub(r->YminusX, p->Y, p->X);
	fe_copy(r->Z, p->Z);
	ist_fe_mul(r->T2d, p->T, fe_d2);
}

/* add-2008-hwcd-3 with the second point cached; `neg` adds -q instead */
static void ge_add_cached(struct ist_ge *r, const struct ist_ge *p, const struct ist_ge_cached *q, bool neg)
{
	ist_fe a, b, c, d, e, f, g, h, t;
	ist_fe_sub(t, p->Y, p->X);
	ist_fe_mul(a, t, neg ? q->YplusX : q->YminusX);
	ist_fe_add(t, p->Y, p->X);
	ist_fe_mul(b, t, neg ? q->YminusX : q->YplusX);
	ist_fe_mul(c, p->T, q->T2d);
	ist_fe_mul(d, p->Z, q->Z);
	ist_fe_add(d, d, d);
	ist_fe_sub(e, b, a);
	ist_fe_add(h, b, a);
	if (neg) {
		ist_fe_add(f, d, c);
		ist_fe_sub(g, d, c);
	} else {
		ist_fe_sub(f, d, c);
		ist_fe_add(g, d, c);
	}
	ist_fe_mul(r->X, e, f);
	ist_fe_mul(r->Y, g, h);
	ist_fe_mul(r->T, e, h);
	ist_fe_mul(r->Z, f, g);
}

void ist_ge_add(struct ist_ge *r, const struct ist_ge *p, const struct ist_ge_cached *q)
{
	ge_add_cached(r, p, q, false);
}

void ist_ge_sub(struct ist_ge *r, const struct ist_ge *p, const struct ist_ge_cached *q)
{
	ge_add_cached(r, p, q, true);
}

/* dbl-2008-hwcd with a = -1 */
void ist_ge_dbl(struct ist_ge *r, const struct ist_ge *p)
{
	ist_fe a, b, c, e, f, g, h, t;
	fe_sq(a, p->X);
	fe_sq(b, p->Y);
	fe_sq(c, p->Z);
	ist_fe_add(c, c, c);
	ist_fe_add(t, p->X, p->Y);
	fe_sq(e, t);
	ist_fe_sub(e, e, a);
	ist_fe_sub(e, e, b);      /* E = (X+Y)^2 - A - B */
	ist_fe_sub(g, b, a);      /* G = D + B with D = -A */
	ist_fe_sub(f, g, c);      /* F = G - C */
	ist_fe_add(h, a, b);
	fe_neg(h, h);             /* H = D - B = -A - B */
	ist_fe_mul(r->X, e, f);
	ist_fe_mul(r->Y, g, h);
	ist_fe_mul(r->T, e, h);
	ist_fe_mul(r->Z, f, g);
}

void ist_ge_mul8(struct ist_ge *r, const struct ist_ge *p)
{
	ist_ge_dbl(r, p);
	ist_ge_dbl(r, r);
	ist_ge_dbl(r, r);
}

void ist_ge_table_init(struct ist_ge_table *t, const struct ist_ge *p)
{
	struct ist_ge p2, acc = *p;
	struct ist_ge_cached p2c;
	ist_ge_dbl(&p2, p);
	ist_ge_to_cached(&p2c, &p2);
	ist_ge_to_cached(&t->p[0], p);
	for (int i = 1; i < IST_GE_TABLE_SIZE; i++) {
		ist_ge_add(&acc, &acc, &p2c);
		ist_ge_to_cached(&t->p[i], &acc);
	}
}

/* Signed width-5 window form of a scalar below 2^253 (ref10's "slide"):
 * r[i] odd in [-15, 15] or 0, sum of r[i] 2^i = a, nonzero digits at least
 * five positions apart. */
static void slide(int8_t r[256], const uint8_t a[32])
{
	for (int i = 0; i < 256; i++)
		r[i] = (int8_t)(1 & (a[i >> 3] >> (i & 7)));
	for (int i = 0; i < 256; i++) {
		if (!r[i])
			continue;
		for (int b = 1; b <= 6 && i + b < 256; b++) {
			if (!r[i + b])
				continue;
			if (r[i] + (r[i + b] << b) <= 15) {
				r[i] = (int8_t)(r[i] + (r[i + b] << b));
				r[i + b] = 0;
			} else if (r[i] - (r[i + b] << b) >= -15) {
				r[i] = (int8_t)(r[i] - (r[i + b] << b));
				for (int k = i + b; k < 256; k++) {
					if (!r[k]) {
						r[k] = 1;
						break;
					}
					r[k] = 0;
				}
			} else {
				break;
			}
		}
	}
}

static void add_digit(struct ist_ge *acc, const struct ist_ge_table *t, int8_t d)
{
	if (d > 0)
		ist_ge_add(acc, acc, &t->p[d / 2]);
	else if (d < 0)
		ist_ge_sub(acc, acc, &t->p[(-d) / 2]);
}

void ist_ge_scalarmult(struct ist_ge *r, const uint8_t s[32], const struct ist_ge *p)
{
	struct ist_ge_table t;
	ist_ge_table_init(&t, p);
	ist_ge_msm(r, (const uint8_t (*)[32])s, &t, 1);
}

/* points per pass: the digit arrays live on the stack (128 * 256 bytes) */
#define MSM_CHUNK 128

void ist_ge_msm(struct ist_ge *r, const uint8_t (*s)[32], const struct ist_ge_table *tables, size_t n)
{
	struct ist_ge total;
	ist_ge_identity(&total);
	int8_t digits[MSM_CHUNK][256];
	for (size_t base = 0; base < n; base += MSM_CHUNK) {
		size_t m = IST_MIN(n - base, (size_t)MSM_CHUNK);
		int top = -1;
		for (size_t k = 0; k < m; k++) {
			slide(digits[k], s[base + k]);
			for (int i = 255; i > top; i--)
				if (digits[k][i]) {
					top = i;
					break;
				}
		}
		struct ist_ge acc;
		ist_ge_identity(&acc);
		for (int i = top; i >= 0; i--) {
			ist_ge_dbl(&acc, &acc);
			for (size_t k = 0; k < m; k++)
				add_digit(&acc, &tables[base + k], digits[k][i]);
		}
		struct ist_ge_cached c;
		ist_ge_to_cached(&c, &acc);
		ist_ge_add(&total, &total, &c);
	}
	*r = total;
}
