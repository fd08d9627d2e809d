/*
 * Participants of a DKG run of the ledger's FROST state
 * (state/frost_ledger.h) with real keys: Ed25519 node keys, X25519 DKG
 * keys, the real DKG and FROST, and the signed items they post (round 1,
 * 2, 3, nonce commitments, certificates). Deterministic: everything is
 * drawn from a seeded rng, so the same seed gives the same items.
 *
 * Shared by tests/state/test_frost_ledger.c and the fuzz target
 * tests/state/fuzz_frost_item.c; no Check dependency: a failure of the
 * fixture itself aborts.
 */
#ifndef IST_TESTS_FROST_FIXTURE_H
#define IST_TESTS_FROST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/rng.h"
#include "crypto/dkg.h"
#include "crypto/frost.h"
#include "state/frost_ledger.h"

#define FX_MAX 16            /* participants */
#define FX_MAX_NONCES 64     /* secret nonces kept per member */

struct fx {
	uint64_t net, epoch;
	uint16_t n, t;
	struct ist_rng_det rng;
	uint8_t seed[FX_MAX][32], node[FX_MAX][32];    /* Ed25519 node keys */
	uint8_t esec[FX_MAX][32], epub[FX_MAX][32];    /* X25519 DKG keys */
	struct ist_dkg_params p;
	struct ist_dkg_dealer *dealer[FX_MAX];
	struct ist_dkg_round1 *r1;                     /* [FX_MAX], heap */
	struct ist_dkg_round2 *r2;                     /* [FX_MAX], heap */
	bool have_r2[FX_MAX];
	uint8_t shares[FX_MAX][FX_MAX][32];            /* shares[me - 1][dealer - 1] */
	uint8_t signing[FX_MAX][32];                   /* after fx_signing_shares */
	/* secret nonces by member, indexed by sequence number */
	struct ist_frost_nonce nonces[FX_MAX][FX_MAX_NONCES];
};

/* A new fixture (heap) of n participants for `epoch` of network `net`,
 * keys drawn from `seed`. Free with fx_free. */
struct fx *fx_new(uint16_t n, uint64_t seed, uint64_t net, uint64_t epoch);
void fx_free(struct fx *x);
/* The same participants (keys) for another epoch: forgets the run. */
void fx_set_epoch(struct fx *x, uint64_t epoch);

/* Reorders the participants (their keys) as node_keys[0..n) lists them:
 * identifiers follow a set's order. Before any round. */
void fx_reorder(struct fx *x, const uint8_t (*node_keys)[32]);

/* Appends the item's Ed25519 signature by participant `id` (1-based) over
 * ist_fl_item_signed_bytes(net, b). */
void fx_sign(const struct fx *x, uint16_t id, struct ist_buf *b);

/* Round 1 of `id`: draws its polynomial; *b gets the signed item. */
void fx_round1(struct fx *x, uint16_t id, struct ist_buf *b);
/* Round 2 of `id` given the accepted set (p.n entries): makes the package
 * (kept in x->r2[id - 1]) without an item; fx_round2_item signs it. */
void fx_round2_pkg(struct fx *x, uint16_t id, const bool *accepted);
void fx_round2_item(const struct fx *x, uint16_t id, struct ist_buf *b);
/* Dealer `dealer` re-seals a wrong (random) share to `recipient` in its
 * round-2 package (the box still has the right shape). */
void fx_bad_share(struct fx *x, uint16_t dealer, uint16_t recipient);
/* Round 3 of `me`: opens its boxes from every dealer with a round-2
 * package (dealers in accepted), keeps the good shares, and complains
 * about the rest. *ret_complaints (may be NULL) counts the complaints. */
void fx_round3(struct fx *x, uint16_t me, const bool *accepted, struct ist_buf *b, size_t *ret_complaints);
/* A signed round-3 item of `me` with an arbitrary complaint list. */
void fx_round3_item(const struct fx *x, uint16_t me, const struct ist_dkg_complaint *c, size_t n,
		    struct ist_buf *b);

/* Every qualified member's signing share from the group (0 on success,
 * else the error of ist_dkg_signing_share). */
int fx_signing_shares(struct fx *x, const struct ist_fl_group *g);
/* The expected group key: sum of phi_i0 over the qualified dealers. */
void fx_expected_key(const struct fx *x, const bool *qualified, uint8_t ret32[32]);

/* Member `id` commits `count` nonces (sequence numbers first..) with its
 * signing share and posts them: *b gets the signed nonce item. */
void fx_nonces(struct fx *x, uint64_t epoch, uint16_t id, uint32_t first, uint16_t count, struct ist_buf *b);
/* The assigned signers of job `j` sign its digest with their committed
 * nonces (session API). Returns 0 or the first error. */
int fx_sign_job(struct fx *x, const struct ist_fl_group *g, const struct ist_fl_job *j, uint8_t ret_sig64[64]);

/* ---- share reports (IST_FL_SHARES) ---- */

/* Signer `id` of job j's current attempt: its signature share of the
 * job's digest with its committed nonce (a copy: the fixture keeps the
 * nonce, so the share can be made again). Returns 0 or the error. */
int fx_share(const struct fx *x, const struct ist_fl_group *g, const struct ist_fl_job *j, uint16_t id,
	     uint8_t ret_z32[32]);
/* The Ed25519 signature by participant `signer` (node key) over
 * ist_fl_share_signed_bytes(net, epoch, height, attempt, id, z). */
void fx_share_sig(const struct fx *x, uint16_t signer, uint64_t epoch, uint64_t height, uint32_t attempt, uint16_t id,
		  const uint8_t z[32], uint8_t ret_sig64[64]);
/* A report's head: 5 || epoch || height || attempt || count. */
void fx_report_head(struct ist_buf *b, uint64_t epoch, uint64_t height, uint32_t attempt, uint16_t count);
/* One entry of a report on job j's current attempt: id || z || signature
 * by `signer` (normally id itself). */
void fx_report_entry(const struct fx *x, const struct ist_fl_job *j, uint16_t signer, uint16_t id, const uint8_t z[32],
		     struct ist_buf *b);
/* A whole report on j's current attempt with the valid, signed shares of
 * the n signers ids[0..n). */
void fx_report(const struct fx *x, const struct ist_fl_group *g, const struct ist_fl_job *j, const uint16_t *ids,
	       uint16_t n, struct ist_buf *b);

#endif
