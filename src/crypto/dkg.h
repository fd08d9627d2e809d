/*
 * Pedersen distributed key generation with proofs of knowledge (Komlo and
 * Goldberg, "FROST", Figure 1), producing keys for FROST(Ed25519, SHA-512)
 * (crypto/frost.h). Pure functions: no I/O, no clock; randomness comes in
 * through struct ist_rng (ist_rng_system() in real use). docs/frost.md
 * describes the protocol as the node runs it through consensus.
 *
 * Participants are identified 1..n (an epoch's validator index + 1); each
 * has an X25519 public key (crypto/x25519.h, the "DKG key" registered with
 * its stake) to which dealers encrypt its secret shares.
 *
 *  Round 1 (public, through consensus). Dealer i draws f_i of degree t - 1,
 *    publishes the commitments phi_ik = G * a_ik (k < t) and a Schnorr proof
 *    of knowledge of a_i0 bound to (network id, epoch, n, t, i) and to all
 *    t commitments. Anyone
 *    checks it (ist_dkg_round1_verify); a package that fails is ignored and
 *    its dealer takes no further part. A participant without an accepted
 *    round-1 package (absent, late, bad proof) is excluded.
 *  Round 2 (public, through consensus). Dealer i encrypts f_i(j) to every
 *    other participant j accepted in round 1 with crypto_box_seal (its
 *    ephemeral key drawn from the rng) and publishes the package. Anyone
 *    checks its shape (ist_dkg_round2_check); a dealer without a package
 *    that passes is disqualified.
 *  Complaints (public). Recipient j decrypts its box and checks the share
 *    against the dealer's commitments (ist_dkg_receive). If that fails it
 *    publishes a complaint (ist_dkg_complain): the box's Diffie-Hellman
 *    shared point with a DLEQ proof that it is the right one, so that anyone
 *    can open the box and see what j saw (ist_dkg_complaint_judge), without
 *    learning j's key or any other box. An upheld complaint disqualifies the
 *    dealer; a complaint whose proof holds but whose share is good proves
 *    the complainer lied (evidence against it); a complaint whose proof
 *    fails is ignored.
 *  Finalisation. Q = dealers with an accepted round 1, a round 2 that
 *    passed the check, and no upheld complaint; Q are also the signers.
 *    Everyone computes the group key Y = sum_{i in Q} phi_i0 and every
 *    verification share Y_j = sum_{i in Q} sum_k phi_ik j^k
 *    (ist_dkg_group_compute); member j sums its shares
 *    s_j = sum_{i in Q} f_i(j) (ist_dkg_signing_share). |Q| must be >= t.
 *
 * What is public: every round-1 and round-2 package, every complaint (and
 * so the one share a complaint discloses: the complainer's own share from
 * that dealer). What is secret: the dealer's polynomial (struct
 * ist_dkg_dealer, in sodium_malloc memory), the decrypted shares, s_j,
 * X25519 secret keys.
 *
 * Errors, for every int function: 0 or a negative -IST_E* code; outputs
 * (ret_*) are written only on success. ist_crypto_init() must have
 * succeeded. Package structs are plain memory (no pointers): copy them
 * freely; they are large (see the sizes), so keep them on the heap.
 */
#ifndef IST_CRYPTO_DKG_H
#define IST_CRYPTO_DKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/rng.h"
#include "crypto/frost.h"
#include "crypto/x25519.h"

/* The most participants of one DKG (and so the largest t). */
#define IST_DKG_MAX_PARTICIPANTS 256
/* A sealed share: X25519 ephemeral key (32) || Poly1305 tag (16) ||
 * XSalsa20 ciphertext of the 32-byte share (crypto_box_seal's format). */
#define IST_DKG_BOX_BYTES 80

/* Encoded sizes (see the encoders). */
#define IST_DKG_ROUND1_BYTES(t) (4 + 32 * (size_t)(t) + 64)
#define IST_DKG_ROUND1_MAX_BYTES IST_DKG_ROUND1_BYTES(IST_DKG_MAX_PARTICIPANTS)
#define IST_DKG_ROUND2_BYTES(count) (4 + (2 + IST_DKG_BOX_BYTES) * (size_t)(count))
#define IST_DKG_ROUND2_MAX_BYTES IST_DKG_ROUND2_BYTES(IST_DKG_MAX_PARTICIPANTS - 1)
#define IST_DKG_COMPLAINT_BYTES 100

/* The public parameters of one DKG, the same at every participant. */
struct ist_dkg_params {
	uint64_t network_id;
	uint64_t epoch;
	uint16_t n;   /* participants, identifiers 1..n; 1 <= n <= IST_DKG_MAX_PARTICIPANTS */
	uint16_t t;   /* threshold: any t of the final signers sign; 1 <= t <= n */
	/* enc_keys[j - 1]: participant j's X25519 public key (borrowed for
	 * the duration of each call) */
	const uint8_t (*enc_keys)[IST_X25519_PUBKEY_BYTES];
};

/* floor(2n/3) + 1: the smallest t such that t signers hold more than 2/3 of
 * n equal stakes. The threshold is the caller's choice; this is the usual
 * one. Returns 0 for n == 0. */
uint16_t ist_dkg_threshold(uint16_t n);

/* True when n and t are in range and every key in enc_keys is valid
 * (ist_dkg_enc_key_valid). */
bool ist_dkg_params_valid(const struct ist_dkg_params *p) IST_WUR;

/* True when pub32 is an X25519 public key a complaint can be proven
 * against: a canonical u-coordinate (< p, top bit clear) whose Edwards
 * point is in the prime-order subgroup and not the identity. Every key
 * made by crypto_box_keypair or ist_x25519_generate is; check keys when
 * validators register them. */
bool ist_dkg_enc_key_valid(const uint8_t pub32[IST_X25519_PUBKEY_BYTES]) IST_WUR;

/* ---- round 1 ---- */

struct ist_dkg_round1 {
	uint16_t dealer;                                      /* i */
	uint16_t t;                                           /* commitments used */
	uint8_t commit[IST_DKG_MAX_PARTICIPANTS][IST_FROST_ELEMENT_BYTES]; /* phi_i0 .. phi_i(t-1) */
	uint8_t pok_R[IST_FROST_ELEMENT_BYTES];               /* proof of knowledge of a_i0: */
	uint8_t pok_z[IST_FROST_SCALAR_BYTES];                /* G*z = R + c*phi_i0 */
};

/* A dealer's secret state between rounds: its polynomial. Opaque,
 * sodium_malloc'd, wiped and freed by ist_dkg_dealer_free. */
struct ist_dkg_dealer;

/* Round 1 of participant `id`: draws the polynomial and the proof's nonce
 * from rng. p is checked with ist_dkg_params_valid.
 * Out: *ret_dealer (free with ist_dkg_dealer_free), *ret_pkg (publish it).
 * Returns 0, -IST_EINVAL (params, or id not in 1..n), -IST_EBADKEY (a key
 * in params), -IST_ENOMEM, the rng's error, -IST_ECRYPTO. */
int ist_dkg_round1(const struct ist_dkg_params *p, uint16_t id, const struct ist_rng *rng,
		   struct ist_dkg_dealer **ret_dealer, struct ist_dkg_round1 *ret_pkg) IST_WUR;
/* Accepts NULL. */
void ist_dkg_dealer_free(struct ist_dkg_dealer *d);

/* True when pkg is a valid round-1 package under p: dealer in 1..n,
 * t == p->t, every commitment a valid element (canonical, prime-order
 * subgroup, not the identity), and the proof of knowledge holds for this
 * network id, epoch, n, t, dealer and these commitments. */
bool ist_dkg_round1_verify(const struct ist_dkg_params *p, const struct ist_dkg_round1 *pkg) IST_WUR;

/* ---- round 2 ---- */

struct ist_dkg_box {
	uint16_t recipient;
	uint8_t box[IST_DKG_BOX_BYTES];
};

struct ist_dkg_round2 {
	uint16_t dealer;
	uint16_t count;                                       /* boxes used */
	struct ist_dkg_box boxes[IST_DKG_MAX_PARTICIPANTS - 1]; /* by increasing recipient */
};

/* Round 2 of dealer d: one sealed share for every participant j != d with
 * accepted[j - 1] (accepted[] has p->n entries: whose round-1 package the
 * dealer accepted, its own included; everyone must use the same set, i.e.
 * what consensus committed). Ephemeral keys come from rng.
 * Out: *ret_pkg (publish it).
 * Returns 0, -IST_EINVAL (params, or the dealer itself not accepted),
 * -IST_EBADKEY (a recipient's key invalid), the rng's error, -IST_ECRYPTO. */
int ist_dkg_round2(const struct ist_dkg_dealer *d, const struct ist_dkg_params *p, const bool *accepted,
		   const struct ist_rng *rng, struct ist_dkg_round2 *ret_pkg) IST_WUR;

/* The dealer's own share f_d(d) (SECRET), for its ist_dkg_signing_share. */
void ist_dkg_dealer_own_share(const struct ist_dkg_dealer *d, uint8_t ret_share32[IST_FROST_SCALAR_BYTES]);

/* True when pkg has the shape everyone can check: dealer accepted, exactly
 * one box per other accepted participant, by increasing recipient, and
 * every box's ephemeral key a canonical u-coordinate of a point whose
 * prime-order component is not the identity (so that a complaint can be
 * proven about it). A dealer whose package fails is disqualified. */
bool ist_dkg_round2_check(const struct ist_dkg_params *p, const bool *accepted,
			  const struct ist_dkg_round2 *pkg) IST_WUR;

/* Participant `me` opens its box of r2 and checks the share against the
 * dealer's commitments in r1 (r1 verified, r2 checked, same dealer).
 * In:  my_enc_sec32 (SECRET: me's X25519 secret key).
 * Out: ret_share32 = f_dealer(me) (SECRET).
 * Returns 0; -IST_EBADPROOF when the box does not open, holds no canonical
 * non-zero scalar, or the share does not match the commitments: the
 * dealer's fault, complain (ist_dkg_complain); -IST_EINVAL (dealers differ,
 * me is the dealer or has no box). */
int ist_dkg_receive(const struct ist_dkg_params *p, uint16_t me, const uint8_t my_enc_sec32[IST_X25519_SECKEY_BYTES],
		    const struct ist_dkg_round1 *r1, const struct ist_dkg_round2 *r2,
		    uint8_t ret_share32[IST_FROST_SCALAR_BYTES]) IST_WUR;

/* ---- complaints ---- */

/* Recipient `complainer` discloses the X25519 shared point of its box from
 * `dealer`, as an Edwards point S, with a Chaum-Pedersen proof (c, z) that
 * log_G(A) = log_E(S), where A is the Edwards form of the complainer's DKG
 * key and E the prime-order component of the box's ephemeral key. */
struct ist_dkg_complaint {
	uint16_t dealer;
	uint16_t complainer;
	uint8_t shared[IST_FROST_ELEMENT_BYTES];
	uint8_t c[IST_FROST_SCALAR_BYTES];
	uint8_t z[IST_FROST_SCALAR_BYTES];
};

/* Makes me's complaint against the dealer of r2 (call it after
 * ist_dkg_receive returned -IST_EBADPROOF). The proof's nonce comes from rng.
 * Returns 0, -IST_EINVAL (me has no box in r2), -IST_EBADKEY (my_enc_sec32
 * does not match me's key in p, or the box's ephemeral key is unusable:
 * r2 should have failed ist_dkg_round2_check), the rng's error,
 * -IST_ECRYPTO. */
int ist_dkg_complain(const struct ist_dkg_params *p, uint16_t me, const uint8_t my_enc_sec32[IST_X25519_SECKEY_BYTES],
		     const struct ist_dkg_round2 *r2, const struct ist_rng *rng,
		     struct ist_dkg_complaint *ret_complaint) IST_WUR;

enum ist_dkg_verdict {
	IST_DKG_DEALER_FAULT = 1,     /* upheld: disqualify the dealer */
	IST_DKG_COMPLAINER_FAULT,     /* proof valid, share good: a false complaint (evidence) */
	IST_DKG_COMPLAINT_INVALID,    /* the proof does not hold: ignore it */
};

/* Judges complaint c against the dealer's round-1 (verified) and round-2
 * (checked) packages; deterministic, the same verdict everywhere.
 * Out: *ret_verdict.
 * Returns 0, or -IST_EINVAL when c does not concern these packages (dealers
 * differ, complainer has no box in r2). */
int ist_dkg_complaint_judge(const struct ist_dkg_params *p, const struct ist_dkg_round1 *r1,
			    const struct ist_dkg_round2 *r2, const struct ist_dkg_complaint *c,
			    enum ist_dkg_verdict *ret_verdict) IST_WUR;

/* ---- finalisation ---- */

/* The group: public, computed by anyone from the qualified round-1
 * packages. */
struct ist_dkg_group {
	uint16_t n, t;
	uint16_t count;                                       /* |Q| */
	bool qualified[IST_DKG_MAX_PARTICIPANTS];             /* qualified[j - 1]: j in Q */
	uint8_t group_pub[IST_FROST_ELEMENT_BYTES];           /* Y */
	/* pubshares[j - 1] = Y_j for j in Q, zero otherwise */
	uint8_t pubshares[IST_DKG_MAX_PARTICIPANTS][IST_FROST_ELEMENT_BYTES];
};

/* In:  round1[j - 1] for j = 1..n: j's verified round-1 package if j is in
 *      Q, NULL otherwise (borrowed for the call).
 * Out: *ret_group.
 * Returns 0, -IST_EINVAL (params), -IST_ERANGE (|Q| < t), -IST_EBADKEY (an
 * invalid commitment, or Y or some Y_j the identity), -IST_ENOMEM. */
int ist_dkg_group_compute(const struct ist_dkg_params *p, const struct ist_dkg_round1 *const *round1,
			  struct ist_dkg_group *ret_group) IST_WUR;

/* Member me's signing share s_me = sum over i in Q of shares[i - 1]
 * (shares[i - 1] = f_i(me) as ist_dkg_receive gave it, or the dealer's own
 * share for i = me; entries for i not in Q are ignored), checked against
 * Y_me. Out: ret_share32 (SECRET).
 * Returns 0, -IST_EINVAL (me not in Q), -IST_EBADKEY (the sum does not match
 * Y_me: a share was not checked). */
int ist_dkg_signing_share(const struct ist_dkg_group *g, uint16_t me, const uint8_t (*shares)[IST_FROST_SCALAR_BYTES],
			  uint8_t ret_share32[IST_FROST_SCALAR_BYTES]) IST_WUR;

/* ---- encodings (integers big-endian) ----
 *
 * round 1:   u16 dealer | u16 t | commit[32] * t | pok_R[32] | pok_z[32]
 * round 2:   u16 dealer | u16 count | (u16 recipient | box[80]) * count
 * complaint: u16 dealer | u16 complainer | shared[32] | c[32] | z[32]
 *
 * The encoders write exactly the _encoded_len bytes. The decoders check the
 * length (exact; -IST_ETOOBIG above the maximum, -IST_ETRUNCATED short,
 * -IST_EPARSE trailing bytes), identifiers in 1..IST_DKG_MAX_PARTICIPANTS,
 * t and count in range, recipients strictly increasing and not the dealer,
 * scalars canonical (-IST_EPARSE); points are checked by _verify, _check and
 * _judge, not here. Decoding then encoding gives the input back. */
size_t ist_dkg_round1_encoded_len(const struct ist_dkg_round1 *pkg);
void ist_dkg_round1_encode(const struct ist_dkg_round1 *pkg, uint8_t *out);
int ist_dkg_round1_decode(const uint8_t *in, size_t len, struct ist_dkg_round1 *ret_pkg) IST_WUR;

size_t ist_dkg_round2_encoded_len(const struct ist_dkg_round2 *pkg);
void ist_dkg_round2_encode(const struct ist_dkg_round2 *pkg, uint8_t *out);
int ist_dkg_round2_decode(const uint8_t *in, size_t len, struct ist_dkg_round2 *ret_pkg) IST_WUR;

void ist_dkg_complaint_encode(const struct ist_dkg_complaint *c, uint8_t out[IST_DKG_COMPLAINT_BYTES]);
int ist_dkg_complaint_decode(const uint8_t *in, size_t len, struct ist_dkg_complaint *ret_c) IST_WUR;

#endif
