/*
 * FROST(Ed25519, SHA-512) of RFC 9591: two-round threshold Schnorr
 * signatures whose result is an ordinary Ed25519 signature (any RFC 8032
 * verifier, libsodium's crypto_sign_verify_detached and OpenSSL included,
 * accepts it under the group public key).
 *
 * Vocabulary (RFC 9591 section 2 and 5):
 *  - identifier: a participant's non-zero scalar; here the integers
 *    1..IST_FROST_MAX_PARTICIPANTS (an epoch's validator index + 1).
 *  - signing share s_i: participant i's secret (f(i) of the group's secret
 *    polynomial); verification share (public share) PK_i = G * s_i.
 *  - nonce pair (d_i, e_i), secret; its commitment (D_i, E_i) = (G*d_i, G*e_i),
 *    public, published before the message is known. A nonce signs ONCE.
 *  - commitment list: the (identifier, D, E) of the chosen signers, sorted by
 *    identifier, no duplicates.
 *  - binding factor rho_i = H1(PK || H4(msg) || H5(encoded list) || i),
 *    group commitment R = sum(D_i + rho_i * E_i), challenge
 *    c = H2(R || PK || msg), signature share z_i = d_i + e_i*rho_i +
 *    lambda_i*s_i*c, signature (R, z = sum z_i).
 *
 * Encodings are RFC 9591's: elements are 32-byte compressed Edwards points,
 * scalars 32 bytes little-endian below the group order L. Every element that
 * comes from outside (commitments, public keys, verification shares) is
 * checked as RFC 9591's DeserializeElement does: canonical encoding, on the
 * curve, not the identity, in the prime-order subgroup; every scalar from
 * outside must be canonical (< L).
 *
 * Two layers:
 *  1. RFC-shaped one-shot functions (ist_frost_commit, _binding_factors,
 *     _group_commitment, _sign, _verify_share, _aggregate), a direct
 *     transcription of RFC 9591 on libsodium's crypto_core_ed25519_* and
 *     crypto_scalarmult_ed25519_*noclamp. Simple, and what the RFC vectors
 *     check; a signer's cost grows by ~0.2 ms per co-signer (no multi-scalar
 *     multiplication, decompressions at every addition, a subgroup check per
 *     commitment).
 *  2. The session (struct ist_frost_session): built from the group key and
 *     the commitment list BEFORE the message is known (in the node, when the
 *     block's signer set and commitments are fixed by committed state), it
 *     checks every element once, sums the D_i and builds a table per E_i.
 *     Binding it to the message then costs the hashes plus one multi-scalar
 *     multiplication over public data (crypto/ge25519.h). Same results, byte
 *     for byte (the tests compare the two layers).
 *
 * Secrets: nonces and signing shares are secret. Functions that take them
 * use libsodium's constant-time arithmetic only and wipe their temporaries.
 * Callers keep long-lived shares and nonces in sodium_malloc'd memory.
 *
 * Errors, for every int function: 0 or a negative -IST_E* code. Outputs
 * (ret_*) are written only on success. ist_crypto_init() (sodium_init) must
 * have succeeded.
 */
#ifndef IST_CRYPTO_FROST_H
#define IST_CRYPTO_FROST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/rng.h"

#define IST_FROST_SCALAR_BYTES 32
#define IST_FROST_ELEMENT_BYTES 32
#define IST_FROST_SIG_BYTES 64
/* the largest identifier, and so the most participants of one key */
#define IST_FROST_MAX_PARTICIPANTS 1024
/* the RFC 9591 context string of this ciphersuite */
#define IST_FROST_CONTEXT "FROST-ED25519-SHA512-v1"

/* A participant's nonce pair for one signature, with its commitment.
 * SECRET (hiding, binding); the commitments are public. Made by
 * ist_frost_commit; consumed (wiped) by a successful sign. */
struct ist_frost_nonce {
	uint8_t hiding[IST_FROST_SCALAR_BYTES];
	uint8_t binding[IST_FROST_SCALAR_BYTES];
	uint8_t hiding_commit[IST_FROST_ELEMENT_BYTES];
	uint8_t binding_commit[IST_FROST_ELEMENT_BYTES];
};

/* One entry of a commitment list: public. */
struct ist_frost_commitment {
	uint16_t id;                                 /* identifier, 1..IST_FROST_MAX_PARTICIPANTS */
	uint8_t hiding[IST_FROST_ELEMENT_BYTES];     /* D = G * hiding nonce */
	uint8_t binding[IST_FROST_ELEMENT_BYTES];    /* E = G * binding nonce */
};

/* ---- scalars and elements ---- */

/* True when s32 is a canonical scalar (< L). */
bool ist_frost_scalar_valid(const uint8_t s32[IST_FROST_SCALAR_BYTES]) IST_WUR;
/* True when e32 deserializes as RFC 9591 requires: canonical, on the curve,
 * not the identity, in the prime-order subgroup. */
bool ist_frost_element_valid(const uint8_t e32[IST_FROST_ELEMENT_BYTES]) IST_WUR;
/* The scalar of an identifier (little-endian id, zero-padded). */
void ist_frost_identifier(uint16_t id, uint8_t ret_s32[IST_FROST_SCALAR_BYTES]);

/* ---- keys ---- */

/* Verification share of a signing share (G * share; also the group public
 * key of the group secret). Returns 0, -IST_EBADKEY (share not canonical or
 * zero) or -IST_ECRYPTO. */
int ist_frost_pubkey(const uint8_t share32[IST_FROST_SCALAR_BYTES],
		     uint8_t ret_pub32[IST_FROST_ELEMENT_BYTES]) IST_WUR;

/* Trusted-dealer key generation (RFC 9591 Appendix C), deterministic: the
 * caller supplies the group secret and the t - 1 further coefficients of
 * f(x) = secret + coeffs[0] x + ... + coeffs[t-2] x^(t-1) (random in real
 * use: ist_frost_keygen_random). For tests and vectors; a network uses the
 * DKG (crypto/dkg.h), where nobody ever holds the group secret.
 * In:  secret32, coeffs (t - 1 scalars; may be NULL when t == 1), t, n with
 *      1 <= t <= n <= IST_FROST_MAX_PARTICIPANTS.
 * Out: ret_shares[n] (SECRET: share of identifier i at index i - 1),
 *      ret_vss[t] (the VSS commitment G*secret, G*coeffs[0], ...; may be
 *      NULL), ret_group_pub32.
 * Returns 0, -IST_EINVAL (t, n out of range), -IST_EBADKEY (a scalar not
 * canonical or zero, or some share f(i) = 0: probability n/L). */
int ist_frost_keygen(const uint8_t secret32[IST_FROST_SCALAR_BYTES], const uint8_t (*coeffs)[IST_FROST_SCALAR_BYTES],
		     uint16_t t, uint16_t n, uint8_t (*ret_shares)[IST_FROST_SCALAR_BYTES],
		     uint8_t (*ret_vss)[IST_FROST_ELEMENT_BYTES], uint8_t ret_group_pub32[IST_FROST_ELEMENT_BYTES]) IST_WUR;
/* As ist_frost_keygen with the secret and coefficients drawn from rng.
 * Returns the same codes and the rng's error. */
int ist_frost_keygen_random(const struct ist_rng *rng, uint16_t t, uint16_t n,
			    uint8_t (*ret_shares)[IST_FROST_SCALAR_BYTES], uint8_t (*ret_vss)[IST_FROST_ELEMENT_BYTES],
			    uint8_t ret_group_pub32[IST_FROST_ELEMENT_BYTES]) IST_WUR;

/* RFC 9591 vss_verify: true when G * share32 = sum_k vss[k] * id^k, i.e. the
 * share is f(id) of the polynomial the t elements of vss commit to. False
 * also for an invalid element in vss, a non-canonical share, t == 0 or id 0. */
bool ist_frost_vss_verify(uint16_t id, const uint8_t share32[IST_FROST_SCALAR_BYTES],
			  const uint8_t (*vss)[IST_FROST_ELEMENT_BYTES], uint16_t t) IST_WUR;
/* The verification share of identifier id from a VSS commitment (RFC 9591
 * derive_group_info for one participant): sum_k vss[k] * id^k. Public data,
 * variable-time arithmetic. Returns 0, -IST_EINVAL (id 0 or t 0) or
 * -IST_EBADKEY (an element of vss invalid, or the sum is the identity). */
int ist_frost_vss_pubshare(uint16_t id, const uint8_t (*vss)[IST_FROST_ELEMENT_BYTES], uint16_t t,
			   uint8_t ret_pub32[IST_FROST_ELEMENT_BYTES]) IST_WUR;

/* ---- round one ---- */

/* RFC 9591 nonce_generate: H3(random32 || secret32), reduced mod L. random32
 * must be fresh randomness (32 bytes from the system rng) in real use; it is
 * a parameter so that the vectors reproduce. Cannot fail. */
void ist_frost_nonce_generate(const uint8_t secret32[IST_FROST_SCALAR_BYTES], const uint8_t random32[32],
			      uint8_t ret_nonce32[IST_FROST_SCALAR_BYTES]);

/* RFC 9591 commit: the hiding and binding nonces from share32 and the two
 * random strings, and their commitments.
 * Out: *ret_nonce (SECRET; keep it until it signs once, then it is wiped).
 * Returns 0, -IST_EBADKEY (share not canonical) or -IST_ECRYPTO (a nonce of
 * zero: probability 2^-252). */
int ist_frost_commit(const uint8_t share32[IST_FROST_SCALAR_BYTES], const uint8_t hiding_random32[32],
		     const uint8_t binding_random32[32], struct ist_frost_nonce *ret_nonce) IST_WUR;
/* As ist_frost_commit with both random strings drawn from rng
 * (ist_rng_system() in real use). Adds the rng's error. */
int ist_frost_commit_random(const struct ist_rng *rng, const uint8_t share32[IST_FROST_SCALAR_BYTES],
			    struct ist_frost_nonce *ret_nonce) IST_WUR;

/* True when list[0..n) is a commitment list RFC 9591 accepts: 1 <= n <=
 * IST_FROST_MAX_PARTICIPANTS, identifiers in 1..IST_FROST_MAX_PARTICIPANTS
 * strictly increasing, every element valid (ist_frost_element_valid: this
 * costs two subgroup checks per entry). */
bool ist_frost_commitments_valid(const struct ist_frost_commitment *list, size_t n) IST_WUR;

/* ---- round two, RFC-shaped (libsodium arithmetic) ----
 *
 * Each takes the group public key, the commitment list and the message;
 * each checks the list (ist_frost_commitments_valid) and the group key and
 * fails with -IST_EINVAL (list malformed: empty, too long, unsorted,
 * duplicate or bad identifier) or -IST_EBADKEY (an invalid element).
 * `msg` may be NULL when msg_len is 0. */

/* Binding factors of every entry, in list order (RFC 9591
 * compute_binding_factors). Out: ret_rho[n]. */
int ist_frost_binding_factors(const uint8_t group_pub32[IST_FROST_ELEMENT_BYTES],
			      const struct ist_frost_commitment *list, size_t n, const uint8_t *msg, size_t msg_len,
			      uint8_t (*ret_rho)[IST_FROST_SCALAR_BYTES]) IST_WUR;

/* Group commitment R of the list under binding factors rho[n] (in list
 * order, as ist_frost_binding_factors gives them). Also -IST_EBADKEY when R
 * is the identity (no valid signature then; only malicious commitments
 * could cause it). */
int ist_frost_group_commitment(const struct ist_frost_commitment *list, size_t n,
			       const uint8_t (*rho)[IST_FROST_SCALAR_BYTES],
			       uint8_t ret_R32[IST_FROST_ELEMENT_BYTES]) IST_WUR;

/* RFC 9591 compute_challenge: H2(R || PK || msg) mod L, the challenge of
 * Ed25519 itself. No check of its inputs. Cannot fail. */
void ist_frost_challenge(const uint8_t R32[IST_FROST_ELEMENT_BYTES], const uint8_t group_pub32[IST_FROST_ELEMENT_BYTES],
			 const uint8_t *msg, size_t msg_len, uint8_t ret_c32[IST_FROST_SCALAR_BYTES]);

/* Lagrange coefficient of identifier id at 0 over the set ids[0..n)
 * (RFC 9591 derive_interpolating_value). Returns 0 or -IST_EINVAL (id not in
 * ids, a duplicate or zero identifier, n 0 or over the maximum). */
int ist_frost_lagrange(uint16_t id, const uint16_t *ids, size_t n, uint8_t ret_lambda32[IST_FROST_SCALAR_BYTES]) IST_WUR;

/* RFC 9591 sign: participant `id`'s signature share z over msg.
 * In:  share32 (SECRET), nonce (SECRET; its commitment must be id's entry of
 *      the list, byte for byte).
 * Out: ret_z32; on success *nonce is wiped (a nonce signs once: the caller
 *      must also have marked it used durably before z leaves the node).
 * Returns 0, -IST_EINVAL (list as above, or id not in it), -IST_EBADKEY
 * (invalid element, share not canonical, or nonce not matching id's
 * commitment), -IST_ECRYPTO. */
int ist_frost_sign(uint16_t id, const uint8_t share32[IST_FROST_SCALAR_BYTES],
		   const uint8_t group_pub32[IST_FROST_ELEMENT_BYTES], struct ist_frost_nonce *nonce,
		   const uint8_t *msg, size_t msg_len, const struct ist_frost_commitment *list, size_t n,
		   uint8_t ret_z32[IST_FROST_SCALAR_BYTES]) IST_WUR;

/* RFC 9591 verify_signature_share: true when z32 is participant id's valid
 * share over msg, given its verification share pub32. False for anything
 * invalid (list, elements, id not in the list, z not canonical). */
bool ist_frost_verify_share(uint16_t id, const uint8_t pub32[IST_FROST_ELEMENT_BYTES],
			    const uint8_t z32[IST_FROST_SCALAR_BYTES], const uint8_t group_pub32[IST_FROST_ELEMENT_BYTES],
			    const uint8_t *msg, size_t msg_len, const struct ist_frost_commitment *list,
			    size_t n) IST_WUR;

/* RFC 9591 aggregate: (R, sum z[k]) with z[k] the share of list[k].
 * Does NOT verify the shares (see ist_frost_session_aggregate for that).
 * Returns 0, -IST_EINVAL, -IST_EBADKEY (list, elements, or a z not
 * canonical). */
int ist_frost_aggregate(const uint8_t group_pub32[IST_FROST_ELEMENT_BYTES], const struct ist_frost_commitment *list,
			size_t n, const uint8_t *msg, size_t msg_len, const uint8_t (*z)[IST_FROST_SCALAR_BYTES],
			uint8_t ret_sig64[IST_FROST_SIG_BYTES]) IST_WUR;

/* True when sig64 is a valid Ed25519 signature of msg under group_pub32
 * (crypto_sign_verify_detached: what any destination checks). */
bool ist_frost_verify(const uint8_t group_pub32[IST_FROST_ELEMENT_BYTES], const uint8_t *msg, size_t msg_len,
		      const uint8_t sig64[IST_FROST_SIG_BYTES]) IST_WUR;

/* ---- the session: precomputed ahead of the message ----
 *
 * Life cycle: _new (checks and precomputes: group key, list, per-entry
 * tables, sum of the D_i, every entry's Lagrange coefficient) -> _bind to
 * ONE message (binding factors, R, challenge) -> any number of _sign (each
 * participant its own), _verify_share, _aggregate -> _free. A session binds
 * once: the nonces behind its list must never sign two messages.
 * A session holds only public data; it is not thread-safe while binding,
 * and read-only (shareable between threads) once bound. */
struct ist_frost_session;

/* In: group_pub32, list[0..n) (copied; the caller's array may go away).
 * Out: *ret_session (heap; free with ist_frost_session_free).
 * Cost: two subgroup checks and a table per entry (about 0.1 ms per entry
 * on the development machine). Returns 0, -IST_EINVAL (list malformed),
 * -IST_EBADKEY (an invalid element), -IST_ENOMEM. */
int ist_frost_session_new(const uint8_t group_pub32[IST_FROST_ELEMENT_BYTES], const struct ist_frost_commitment *list,
			  size_t n, struct ist_frost_session **ret_session) IST_WUR;
void ist_frost_session_free(struct ist_frost_session *s);

/* Binds the session to msg (copied; `msg` may be NULL when msg_len is 0).
 * Returns 0, -IST_ESTATE (already bound), -IST_ENOMEM, or -IST_EBADKEY (R is
 * the identity: the list is malicious). */
int ist_frost_session_bind(struct ist_frost_session *s, const uint8_t *msg, size_t msg_len) IST_WUR;

/* Number of entries, and entry k's identifier (k < count). */
size_t ist_frost_session_count(const struct ist_frost_session *s);
uint16_t ist_frost_session_id(const struct ist_frost_session *s, size_t k);

/* After _bind: the group commitment R, the challenge c, and id's binding
 * factor and Lagrange coefficient. Each returns 0, -IST_ESTATE (not bound)
 * or -IST_EINVAL (id not in the list). _lagrange works unbound too. */
int ist_frost_session_group_commitment(const struct ist_frost_session *s, uint8_t ret_R32[IST_FROST_ELEMENT_BYTES]) IST_WUR;
int ist_frost_session_challenge(const struct ist_frost_session *s, uint8_t ret_c32[IST_FROST_SCALAR_BYTES]) IST_WUR;
int ist_frost_session_binding_factor(const struct ist_frost_session *s, uint16_t id,
				     uint8_t ret_rho32[IST_FROST_SCALAR_BYTES]) IST_WUR;
int ist_frost_session_lagrange(const struct ist_frost_session *s, uint16_t id,
			       uint8_t ret_lambda32[IST_FROST_SCALAR_BYTES]) IST_WUR;

/* Participant id's share, as ist_frost_sign (same checks on share and
 * nonce, same wipe of *nonce on success). Returns 0, -IST_ESTATE (not
 * bound), -IST_EINVAL (id not in the list), -IST_EBADKEY, -IST_ECRYPTO. */
int ist_frost_session_sign(const struct ist_frost_session *s, uint16_t id, const uint8_t share32[IST_FROST_SCALAR_BYTES],
			   struct ist_frost_nonce *nonce, uint8_t ret_z32[IST_FROST_SCALAR_BYTES]) IST_WUR;

/* As ist_frost_verify_share, on a bound session (false when unbound). */
bool ist_frost_session_verify_share(const struct ist_frost_session *s, uint16_t id,
				    const uint8_t pub32[IST_FROST_ELEMENT_BYTES],
				    const uint8_t z32[IST_FROST_SCALAR_BYTES]) IST_WUR;

/* The coordinator's step: checks every share against its signer's
 * verification share, then aggregates and checks the result with
 * crypto_sign_verify_detached.
 * In:  pubs[k], z[k]: verification share and signature share of entry k
 *      (list order).
 * Out: ret_sig64 on success; on -IST_EBADSIG, *ret_bad_id (may be NULL) is
 *      the identifier of the first signer whose share is invalid (its pub
 *      invalid too), the one exception to "outputs only on success".
 * Returns 0, -IST_ESTATE (not bound), -IST_EBADSIG (a bad share), or
 * -IST_ECRYPTO (every share valid but the signature is not: impossible
 * unless the verification shares do not belong to the group key). */
int ist_frost_session_aggregate(const struct ist_frost_session *s, const uint8_t (*pubs)[IST_FROST_ELEMENT_BYTES],
				const uint8_t (*z)[IST_FROST_SCALAR_BYTES], uint8_t ret_sig64[IST_FROST_SIG_BYTES],
				uint16_t *ret_bad_id) IST_WUR;

#endif
