/*
 * The Pedersen DKG (crypto/dkg.h): whole runs for n = 4, 7 and 10 whose
 * group key then signs with FROST (any t of the signers) and verifies with
 * crypto_sign_verify_detached; a dealer sending a bad share is caught by a
 * complaint anyone can judge and disqualified, and the key still forms; an
 * absent participant is excluded; a bad or replayed proof of knowledge is
 * refused; false and forged complaints are told apart; the encodings
 * round-trip and their decoders refuse malformed input.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/dkg.h"
#include "crypto/frost.h"
#include "crypto/x25519.h"
#include "lib/ist_test.h"

#define SB IST_FROST_SCALAR_BYTES
#define EB IST_FROST_ELEMENT_BYTES
#define MAXT 16

struct sim {
	struct ist_dkg_params p;
	struct ist_rng_det rng;
	uint8_t enc_sec[MAXT][32], enc_pub[MAXT][32];
	struct ist_dkg_dealer *dealers[MAXT];
	struct ist_dkg_round1 *r1;   /* [n] */
	struct ist_dkg_round2 *r2;   /* [n] */
	bool present[MAXT];          /* took part in round 1 */
	bool accepted[MAXT];         /* round-1 package accepted by everyone */
	bool disqualified[MAXT];
	uint8_t shares[MAXT][MAXT][SB]; /* shares[me][dealer] */
	struct ist_dkg_group group;
};

static void sim_init(struct sim *s, uint16_t n, uint64_t seed)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
	memset(s, 0, sizeof(*s));
	ck_assert_uint_le(n, MAXT);
	ist_rng_det_init(&s->rng, seed);
	for (uint16_t j = 0; j < n; j++) {
		ck_assert_int_eq(ist_x25519_generate(&s->rng.rng, s->enc_sec[j], s->enc_pub[j]), 0);
		ck_assert(ist_dkg_enc_key_valid(s->enc_pub[j]));
		s->present[j] = true;
	}
	s->p.network_id = 0x1571;
	s->p.epoch = 42;
	s->p.n = n;
	s->p.t = ist_dkg_threshold(n);
	s->p.enc_keys = (const uint8_t (*)[32])s->enc_pub;
	ck_assert(ist_dkg_params_valid(&s->p));
	s->r1 = calloc(n, sizeof(*s->r1));
	s->r2 = calloc(n, sizeof(*s->r2));
	ck_assert(s->r1 && s->r2);
}

static void sim_free(struct sim *s)
{
	for (int j = 0; j < MAXT; j++)
		ist_dkg_dealer_free(s->dealers[j]);
	free(s->r1);
	free(s->r2);
}

/* round 1 for every present participant; packages go through their
 * encoding, as they would through consensus */
static void sim_round1(struct sim *s)
{
	for (uint16_t i = 1; i <= s->p.n; i++) {
		if (!s->present[i - 1])
			continue;
		struct ist_dkg_round1 *pkg = malloc(sizeof(*pkg));
		ck_assert_int_eq(ist_dkg_round1(&s->p, i, &s->rng.rng, &s->dealers[i - 1], pkg), 0);
		size_t len = ist_dkg_round1_encoded_len(pkg);
		ck_assert_uint_eq(len, IST_DKG_ROUND1_BYTES(s->p.t));
		uint8_t *buf = malloc(len);
		ist_dkg_round1_encode(pkg, buf);
		ck_assert_int_eq(ist_dkg_round1_decode(buf, len, &s->r1[i - 1]), 0);
		free(buf);
		free(pkg);
	}
}

static void sim_accept(struct sim *s)
{
	for (uint16_t i = 1; i <= s->p.n; i++)
		s->accepted[i - 1] = s->present[i - 1] && ist_dkg_round1_verify(&s->p, &s->r1[i - 1]);
}

static void sim_round2(struct sim *s)
{
	for (uint16_t i = 1; i <= s->p.n; i++) {
		if (!s->accepted[i - 1])
			continue;
		struct ist_dkg_round2 *pkg = malloc(sizeof(*pkg));
		ck_assert_int_eq(ist_dkg_round2(s->dealers[i - 1], &s->p, s->accepted, &s->rng.rng, pkg), 0);
		size_t len = ist_dkg_round2_encoded_len(pkg);
		uint8_t *buf = malloc(len);
		ist_dkg_round2_encode(pkg, buf);
		ck_assert_int_eq(ist_dkg_round2_decode(buf, len, &s->r2[i - 1]), 0);
		ck_assert_mem_eq(&s->r2[i - 1], pkg, sizeof(*pkg));
		free(buf);
		free(pkg);
		ist_dkg_dealer_own_share(s->dealers[i - 1], s->shares[i - 1][i - 1]);
	}
}

/* every recipient opens its boxes; a failure gives a complaint, judged by
 * everyone. Returns the number of upheld complaints. */
static int sim_receive(struct sim *s)
{
	int upheld = 0;
	for (uint16_t i = 1; i <= s->p.n; i++) {
		if (!s->accepted[i - 1])
			continue;
		if (!ist_dkg_round2_check(&s->p, s->accepted, &s->r2[i - 1])) {
			s->disqualified[i - 1] = true;
			continue;
		}
		for (uint16_t j = 1; j <= s->p.n; j++) {
			if (j == i || !s->accepted[j - 1])
				continue;
			int r = ist_dkg_receive(&s->p, j, s->enc_sec[j - 1], &s->r1[i - 1], &s->r2[i - 1],
						s->shares[j - 1][i - 1]);
			if (r == 0)
				continue;
			ck_assert_int_eq(r, -IST_EBADPROOF);
			struct ist_dkg_complaint c, d;
			ck_assert_int_eq(ist_dkg_complain(&s->p, j, s->enc_sec[j - 1], &s->r2[i - 1], &s->rng.rng, &c), 0);
			uint8_t enc[IST_DKG_COMPLAINT_BYTES];
			ist_dkg_complaint_encode(&c, enc);
			ck_assert_int_eq(ist_dkg_complaint_decode(enc, sizeof(enc), &d), 0);
			enum ist_dkg_verdict v;
			ck_assert_int_eq(ist_dkg_complaint_judge(&s->p, &s->r1[i - 1], &s->r2[i - 1], &d, &v), 0);
			ck_assert_int_eq(v, IST_DKG_DEALER_FAULT);
			s->disqualified[i - 1] = true;
			upheld++;
		}
	}
	return upheld;
}

static void sim_finalise(struct sim *s)
{
	const struct ist_dkg_round1 *q[MAXT] = {0};
	for (uint16_t i = 1; i <= s->p.n; i++)
		if (s->accepted[i - 1] && !s->disqualified[i - 1])
			q[i - 1] = &s->r1[i - 1];
	ck_assert_int_eq(ist_dkg_group_compute(&s->p, q, &s->group), 0);
	/* everyone computes the same group: check against a second run */
	struct ist_dkg_group *g2 = malloc(sizeof(*g2));
	ck_assert_int_eq(ist_dkg_group_compute(&s->p, q, g2), 0);
	ck_assert_mem_eq(g2, &s->group, sizeof(*g2));
	free(g2);
}

/* signs with a random t-subset of Q; every member's signing share must
 * match its verification share */
static void sim_sign(struct sim *s, int trials)
{
	uint8_t sh[MAXT][SB];
	uint16_t members[MAXT];
	size_t m = 0;
	for (uint16_t j = 1; j <= s->p.n; j++) {
		if (!s->group.qualified[j - 1])
			continue;
		members[m++] = j;
		ck_assert_int_eq(ist_dkg_signing_share(&s->group, j, (const uint8_t (*)[SB])s->shares[j - 1], sh[j - 1]), 0);
		uint8_t pub[EB];
		ck_assert_int_eq(ist_frost_pubkey(sh[j - 1], pub), 0);
		ck_assert_mem_eq(pub, s->group.pubshares[j - 1], EB);
	}
	ck_assert_uint_ge(m, s->p.t);
	for (int trial = 0; trial < trials; trial++) {
		/* choose t of the m members */
		bool pick[MAXT] = {0};
		size_t chosen = 0;
		while (chosen < s->p.t) {
			size_t k = (size_t)ist_rng_det_below(&s->rng, m);
			if (!pick[k]) {
				pick[k] = true;
				chosen++;
			}
		}
		struct ist_frost_commitment list[MAXT];
		struct ist_frost_nonce nonces[MAXT];
		uint8_t z[MAXT][SB], pubs[MAXT][EB];
		size_t c = 0;
		for (size_t k = 0; k < m; k++) {
			if (!pick[k])
				continue;
			uint16_t j = members[k];
			ck_assert_int_eq(ist_frost_commit_random(&s->rng.rng, sh[j - 1], &nonces[c]), 0);
			list[c].id = j;
			memcpy(list[c].hiding, nonces[c].hiding_commit, EB);
			memcpy(list[c].binding, nonces[c].binding_commit, EB);
			memcpy(pubs[c], s->group.pubshares[j - 1], EB);
			c++;
		}
		const uint8_t msg[] = "epoch 42 batch root";
		struct ist_frost_session *ss;
		ck_assert_int_eq(ist_frost_session_new(s->group.group_pub, list, c, &ss), 0);
		ck_assert_int_eq(ist_frost_session_bind(ss, msg, sizeof(msg)), 0);
		for (size_t k = 0; k < c; k++)
			ck_assert_int_eq(ist_frost_session_sign(ss, list[k].id, sh[list[k].id - 1], &nonces[k], z[k]), 0);
		uint8_t sig[64];
		ck_assert_int_eq(ist_frost_session_aggregate(ss, (const uint8_t (*)[EB])pubs, (const uint8_t (*)[SB])z, sig, NULL), 0);
		ist_frost_session_free(ss);
		ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, sizeof(msg), s->group.group_pub), 0);
	}
	sodium_memzero(sh, sizeof(sh));
}

START_TEST(test_dkg_complete)
{
	static const uint16_t ns[] = {4, 7, 10};
	for (size_t q = 0; q < IST_ARRAY_SIZE(ns); q++) {
		struct sim *s = malloc(sizeof(*s));
		sim_init(s, ns[q], 100 + q);
		ck_assert_uint_eq(s->p.t, ns[q] * 2 / 3 + 1);
		sim_round1(s);
		sim_accept(s);
		for (uint16_t i = 0; i < ns[q]; i++)
			ck_assert(s->accepted[i]);
		sim_round2(s);
		ck_assert_int_eq(sim_receive(s), 0);
		sim_finalise(s);
		ck_assert_uint_eq(s->group.count, ns[q]);
		sim_sign(s, 3);
		sim_free(s);
		free(s);
	}
}
END_TEST

START_TEST(test_dkg_bad_share_complaint)
{
	struct sim *s = malloc(sizeof(*s));
	sim_init(s, 7, 200);
	sim_round1(s);
	sim_accept(s);
	sim_round2(s);
	/* dealer 2 seals a wrong share to recipient 3 (the box is well formed:
	 * round2_check passes) */
	struct ist_dkg_round2 *pkg = &s->r2[1];
	uint8_t wrong[SB];
	crypto_core_ed25519_scalar_random(wrong);
	for (uint16_t k = 0; k < pkg->count; k++)
		if (pkg->boxes[k].recipient == 3)
			ck_assert_int_eq(crypto_box_seal(pkg->boxes[k].box, wrong, SB, s->enc_pub[2]), 0);
	ck_assert(ist_dkg_round2_check(&s->p, s->accepted, pkg));
	/* a false complaint against honest dealer 1 by participant 4, and a
	 * forged one, are told apart from the real one */
	struct ist_dkg_complaint c;
	enum ist_dkg_verdict v;
	ck_assert_int_eq(ist_dkg_complain(&s->p, 4, s->enc_sec[3], &s->r2[0], &s->rng.rng, &c), 0);
	ck_assert_int_eq(ist_dkg_complaint_judge(&s->p, &s->r1[0], &s->r2[0], &c, &v), 0);
	ck_assert_int_eq(v, IST_DKG_COMPLAINER_FAULT);
	c.z[0] ^= 1;
	ck_assert_int_eq(ist_dkg_complaint_judge(&s->p, &s->r1[0], &s->r2[0], &c, &v), 0);
	ck_assert_int_eq(v, IST_DKG_COMPLAINT_INVALID);
	/* participant 4 cannot complain with another's key */
	ck_assert_int_eq(ist_dkg_complain(&s->p, 4, s->enc_sec[4], &s->r2[0], &s->rng.rng, &c), -IST_EBADKEY);

	ck_assert_int_eq(sim_receive(s), 1);
	ck_assert(s->disqualified[1]);
	for (int i = 0; i < 7; i++)
		ck_assert(i == 1 || !s->disqualified[i]);

	/* the real complaint, with a wrong shared point (another valid point,
	 * the proof then fails) */
	ck_assert_int_eq(ist_dkg_complain(&s->p, 3, s->enc_sec[2], &s->r2[1], &s->rng.rng, &c), 0);
	ck_assert_int_eq(ist_dkg_complaint_judge(&s->p, &s->r1[1], &s->r2[1], &c, &v), 0);
	ck_assert_int_eq(v, IST_DKG_DEALER_FAULT);
	struct ist_dkg_complaint f = c;
	ck_assert_int_eq(crypto_core_ed25519_add(f.shared, c.shared, s->r1[0].commit[0]), 0);
	ck_assert_int_eq(ist_dkg_complaint_judge(&s->p, &s->r1[1], &s->r2[1], &f, &v), 0);
	ck_assert_int_eq(v, IST_DKG_COMPLAINT_INVALID);
	/* a complaint judged against another dealer's packages is refused */
	ck_assert_int_eq(ist_dkg_complaint_judge(&s->p, &s->r1[0], &s->r2[0], &c, &v), -IST_EINVAL);

	/* garbage in a box (the MAC fails): also upheld */
	for (uint16_t k = 0; k < s->r2[4].count; k++)
		if (s->r2[4].boxes[k].recipient == 6)
			s->r2[4].boxes[k].box[50] ^= 0x40;
	uint8_t share[SB];
	ck_assert_int_eq(ist_dkg_receive(&s->p, 6, s->enc_sec[5], &s->r1[4], &s->r2[4], share), -IST_EBADPROOF);
	ck_assert_int_eq(ist_dkg_complain(&s->p, 6, s->enc_sec[5], &s->r2[4], &s->rng.rng, &c), 0);
	ck_assert_int_eq(ist_dkg_complaint_judge(&s->p, &s->r1[4], &s->r2[4], &c, &v), 0);
	ck_assert_int_eq(v, IST_DKG_DEALER_FAULT);
	s->disqualified[4] = true;

	/* the key forms from the other five (t = 5) and signs */
	sim_finalise(s);
	ck_assert_uint_eq(s->group.count, 5);
	ck_assert(!s->group.qualified[1] && !s->group.qualified[4]);
	sim_sign(s, 2);
	sim_free(s);
	free(s);
}
END_TEST

START_TEST(test_dkg_absent_participant)
{
	struct sim *s = malloc(sizeof(*s));
	sim_init(s, 7, 300);
	s->present[4] = false; /* participant 5 sends nothing */
	sim_round1(s);
	sim_accept(s);
	ck_assert(!s->accepted[4]);
	sim_round2(s);
	for (int i = 0; i < 7; i++)
		if (i != 4)
			ck_assert_uint_eq(s->r2[i].count, 5); /* no box for 5 */
	ck_assert_int_eq(sim_receive(s), 0);
	sim_finalise(s);
	ck_assert_uint_eq(s->group.count, 6);
	ck_assert(!s->group.qualified[4]);
	sim_sign(s, 2);
	/* a package with a box missing fails the check */
	struct ist_dkg_round2 *pkg = &s->r2[0];
	pkg->count--;
	ck_assert(!ist_dkg_round2_check(&s->p, s->accepted, pkg));
	pkg->count++;
	/* too few left: with 3 of 4 absent nothing forms */
	const struct ist_dkg_round1 *q[MAXT] = {&s->r1[0], &s->r1[1], NULL, NULL, NULL, NULL, NULL};
	struct ist_dkg_group *g = malloc(sizeof(*g));
	ck_assert_int_eq(ist_dkg_group_compute(&s->p, q, g), -IST_ERANGE);
	free(g);
	sim_free(s);
	free(s);
}
END_TEST

START_TEST(test_dkg_bad_proof)
{
	struct sim *s = malloc(sizeof(*s));
	sim_init(s, 4, 400);
	sim_round1(s);
	/* tampered z, tampered R, tampered commitment, wrong t */
	struct ist_dkg_round1 *b = malloc(sizeof(*b));
	*b = s->r1[0];
	b->pok_z[0] ^= 1;
	ck_assert(!ist_dkg_round1_verify(&s->p, b));
	*b = s->r1[0];
	b->pok_R[0] ^= 1;
	ck_assert(!ist_dkg_round1_verify(&s->p, b));
	*b = s->r1[0];
	memcpy(b->commit[0], s->r1[1].commit[0], EB);
	ck_assert(!ist_dkg_round1_verify(&s->p, b));
	*b = s->r1[0];
	b->t--;
	ck_assert(!ist_dkg_round1_verify(&s->p, b));
	/* replayed: dealer 1's package claimed by dealer 2, or for another epoch */
	*b = s->r1[0];
	b->dealer = 2;
	ck_assert(!ist_dkg_round1_verify(&s->p, b));
	*b = s->r1[0];
	ck_assert(ist_dkg_round1_verify(&s->p, b));
	struct ist_dkg_params p2 = s->p;
	p2.epoch++;
	ck_assert(!ist_dkg_round1_verify(&p2, b));
	p2 = s->p;
	p2.network_id++;
	ck_assert(!ist_dkg_round1_verify(&p2, b));
	/* a commitment outside the subgroup */
	uint8_t t8[EB];
	ist_test_unhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", t8, EB);
	ck_assert_int_eq(crypto_core_ed25519_add(b->commit[1], s->r1[0].commit[1], t8), 0);
	ck_assert(!ist_dkg_round1_verify(&s->p, b));

	/* in the run: dealer 3's proof is bad, so it is rejected and the rest
	 * form the key (3 of 4, t = 3) */
	s->r1[2].pok_z[5] ^= 0x10;
	sim_accept(s);
	ck_assert(!s->accepted[2]);
	sim_round2(s);
	ck_assert_int_eq(sim_receive(s), 0);
	sim_finalise(s);
	ck_assert_uint_eq(s->group.count, 3);
	sim_sign(s, 1);
	free(b);
	sim_free(s);
	free(s);
}
END_TEST

START_TEST(test_dkg_encodings)
{
	struct sim *s = malloc(sizeof(*s));
	sim_init(s, 4, 500);
	sim_round1(s);
	sim_accept(s);
	sim_round2(s);
	struct ist_dkg_round1 *r1 = malloc(sizeof(*r1));
	struct ist_dkg_round2 *r2 = malloc(sizeof(*r2));
	uint8_t buf[IST_DKG_ROUND2_MAX_BYTES + 1];
	/* round 1: truncated, trailing byte, too big, bad t and dealer, z >= L */
	size_t len = ist_dkg_round1_encoded_len(&s->r1[0]);
	ist_dkg_round1_encode(&s->r1[0], buf);
	ck_assert_int_eq(ist_dkg_round1_decode(buf, len - 1, r1), -IST_ETRUNCATED);
	ck_assert_int_eq(ist_dkg_round1_decode(buf, len + 1, r1), -IST_EPARSE);
	ck_assert_int_eq(ist_dkg_round1_decode(buf, IST_DKG_ROUND1_MAX_BYTES + 1, r1), -IST_ETOOBIG);
	ck_assert_int_eq(ist_dkg_round1_decode(buf, 3, r1), -IST_ETRUNCATED);
	buf[3] = 0;
	buf[2] = 0;
	ck_assert_int_eq(ist_dkg_round1_decode(buf, len, r1), -IST_EPARSE);
	ist_dkg_round1_encode(&s->r1[0], buf);
	buf[1] = 0;
	ck_assert_int_eq(ist_dkg_round1_decode(buf, len, r1), -IST_EPARSE);
	ist_dkg_round1_encode(&s->r1[0], buf);
	memset(buf + len - 32, 0xff, 32);
	ck_assert_int_eq(ist_dkg_round1_decode(buf, len, r1), -IST_EPARSE);
	/* round 2: recipients out of order, the dealer as recipient */
	len = ist_dkg_round2_encoded_len(&s->r2[0]);
	ck_assert_uint_eq(len, IST_DKG_ROUND2_BYTES(3));
	ist_dkg_round2_encode(&s->r2[0], buf);
	ck_assert_int_eq(ist_dkg_round2_decode(buf, len, r2), 0);
	ck_assert_int_eq(ist_dkg_round2_decode(buf, len - 1, r2), -IST_ETRUNCATED);
	ck_assert_int_eq(ist_dkg_round2_decode(buf, len + 1, r2), -IST_EPARSE);
	ck_assert_int_eq(ist_dkg_round2_decode(buf, IST_DKG_ROUND2_MAX_BYTES + 1, r2), -IST_ETOOBIG);
	buf[4 + 82 + 1] = buf[4 + 1]; /* second recipient = first */
	ck_assert_int_eq(ist_dkg_round2_decode(buf, len, r2), -IST_EPARSE);
	ist_dkg_round2_encode(&s->r2[0], buf);
	buf[4 + 1] = 1; /* the dealer (1) to itself */
	ck_assert_int_eq(ist_dkg_round2_decode(buf, len, r2), -IST_EPARSE);
	/* complaint */
	struct ist_dkg_complaint c, d;
	ck_assert_int_eq(ist_dkg_complain(&s->p, 2, s->enc_sec[1], &s->r2[0], &s->rng.rng, &c), 0);
	ist_dkg_complaint_encode(&c, buf);
	ck_assert_int_eq(ist_dkg_complaint_decode(buf, IST_DKG_COMPLAINT_BYTES, &d), 0);
	ck_assert_mem_eq(&c, &d, sizeof(c));
	ck_assert_int_eq(ist_dkg_complaint_decode(buf, IST_DKG_COMPLAINT_BYTES - 1, &d), -IST_ETRUNCATED);
	ck_assert_int_eq(ist_dkg_complaint_decode(buf, IST_DKG_COMPLAINT_BYTES + 1, &d), -IST_ETOOBIG);
	buf[3] = buf[1];
	buf[2] = buf[0];
	ck_assert_int_eq(ist_dkg_complaint_decode(buf, IST_DKG_COMPLAINT_BYTES, &d), -IST_EPARSE);

	/* keys: low-order and non-canonical u refused */
	uint8_t u[32] = {0};
	ck_assert(!ist_dkg_enc_key_valid(u));
	u[0] = 1;
	ck_assert(!ist_dkg_enc_key_valid(u));
	memset(u, 0xff, 32);
	u[31] = 0x7f;
	ck_assert(!ist_dkg_enc_key_valid(u));
	ck_assert_uint_eq(ist_dkg_threshold(4), 3);
	ck_assert_uint_eq(ist_dkg_threshold(100), 67);
	ck_assert_uint_eq(ist_dkg_threshold(3), 3);
	free(r1);
	free(r2);
	sim_free(s);
	free(s);
}
END_TEST

static Suite *dkg_suite(void)
{
	Suite *s = suite_create("dkg");
	TCase *tc = tcase_create("dkg");
	tcase_add_test(tc, test_dkg_complete);
	tcase_add_test(tc, test_dkg_bad_share_complaint);
	tcase_add_test(tc, test_dkg_absent_participant);
	tcase_add_test(tc, test_dkg_bad_proof);
	tcase_add_test(tc, test_dkg_encodings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ist_test_run(dkg_suite());
}
