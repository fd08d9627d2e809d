/*
 * Edwards25519 point arithmetic of our own, internal to src/crypto (FROST and
 * the DKG); not for other modules.
 *
 * VARIABLE TIME. Every function here branches and indexes tables on its
 * inputs, so it must only ever see PUBLIC data: nonce commitments, binding
 * factors, verification shares, DKG commitments, small participant
 * identifiers. Anything secret (nonces, shares, polynomial coefficients)
 * goes through libsodium's constant-time crypto_scalarmult_ed25519_*.
 *
 * Why it exists: libsodium has no multi-scalar multiplication, and its
 * crypto_core_ed25519_add decompresses both operands at every call. A FROST
 * signer at 67-of-100 must compute R = sum(D_i + rho_i * E_i) over all 67
 * co-signers for every message; here that is one Straus multi-scalar
 * multiplication in extended coordinates over a radix-2^51 field
 * (unsigned __int128 products), with the per-point tables and the sum of
 * the D_i built ahead of the message (crypto/frost.h, the session).
 *
 * Correctness is checked against libsodium's results in
 * tests/crypto/test_frost.c (addition, doubling, scalar multiplication,
 * decoding, subgroup checks, the multi-scalar multiplication).
 *
 * Scalars are 32-byte little-endian integers below 2^253 (every reduced
 * scalar mod L qualifies). Points decode from and encode to the 32-byte
 * compressed form of RFC 8032.
 */
#ifndef IST_CRYPTO_GE25519_H
#define IST_CRYPTO_GE25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

typedef uint64_t ist_fe[5];

/* extended coordinates: x = X/Z, y = Y/Z, T = XY/Z */
struct ist_ge {
	ist_fe X, Y, Z, T;
};

/* a point ready to be added: (Y+X, Y-X, Z, 2dT) */
struct ist_ge_cached {
	ist_fe YplusX, YminusX, Z, T2d;
};

/* odd multiples P, 3P, ..., 15P of one point, for the width-5 signed window */
#define IST_GE_TABLE_SIZE 8
struct ist_ge_table {
	struct ist_ge_cached p[IST_GE_TABLE_SIZE];
};

void ist_ge_identity(struct ist_ge *r);
/* Decodes a compressed point (RFC 8032 section 5.1.3): false when y is not
 * canonical (y >= p), no x exists, or x = 0 with the sign bit set. Does not
 * check the subgroup; the result may be the identity or have small order. */
bool ist_ge_frombytes(struct ist_ge *r, const uint8_t s[32]) IST_WUR;
/* As ist_ge_frombytes, and also false for the identity and for any point
 * outside the prime-order subgroup (RFC 9591's DeserializeElement; the same
 * verdict as libsodium's crypto_core_ed25519_is_valid_point). */
bool ist_ge_frombytes_checked(struct ist_ge *r, const uint8_t s[32]) IST_WUR;
void ist_ge_tobytes(uint8_t s[32], const struct ist_ge *p);
bool ist_ge_is_identity(const struct ist_ge *p);
bool ist_ge_equal(const struct ist_ge *p, const struct ist_ge *q);

void ist_ge_to_cached(struct ist_ge_cached *r, const struct ist_ge *p);
/* r = p + q, r = p - q; r may alias p */
void ist_ge_add(struct ist_ge *r, const struct ist_ge *p, const struct ist_ge_cached *q);
void ist_ge_sub(struct ist_ge *r, const struct ist_ge *p, const struct ist_ge_cached *q);
void ist_ge_dbl(struct ist_ge *r, const struct ist_ge *p);

void ist_ge_table_init(struct ist_ge_table *t, const struct ist_ge *p);
/* r = s * p for a public scalar below 2^253 (and for small integers). */
void ist_ge_scalarmult(struct ist_ge *r, const uint8_t s[32], const struct ist_ge *p);
/* r = sum of s[i] * P_i, where tables[i] was made from P_i with
 * ist_ge_table_init: Straus with width-5 signed windows, 253 doublings shared
 * by all points. n may be 0 (r = identity). s[i] below 2^253. */
void ist_ge_msm(struct ist_ge *r, const uint8_t (*s)[32], const struct ist_ge_table *tables, size_t n);
/* r = 8 * p (clears the torsion component). */
void ist_ge_mul8(struct ist_ge *r, const struct ist_ge *p);

/* ---- the field, for the Montgomery <-> Edwards maps of the DKG ---- */

void ist_fe_frombytes(ist_fe h, const uint8_t s[32]); /* ignores bit 255 */
void ist_fe_tobytes(uint8_t s[32], const ist_fe h);   /* canonical */
void ist_fe_add(ist_fe h, const ist_fe f, const ist_fe g);
void ist_fe_sub(ist_fe h, const ist_fe f, const ist_fe g);
void ist_fe_mul(ist_fe h, const ist_fe f, const ist_fe g);
void ist_fe_invert(ist_fe out, const ist_fe z); /* 1/z, and 0 for z = 0 */
void ist_fe_one(ist_fe h);
bool ist_fe_is_zero(const ist_fe f);
/* True when s, read as a 255-bit integer (bit 255 ignored), is below p. */
bool ist_fe_bytes_canonical(const uint8_t s[32]);

#endif
