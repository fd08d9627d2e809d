/*
 * Destination-side verification (state/verify.h) with real keys, real
 * signatures and real RFC 9162 trees (tests/state/fixture.h): a valid
 * delivery passes in both schemes, and every forgery is rejected with its
 * own reason: a key outside the set, stake at or below 2/3, another epoch or
 * network, one flipped bit anywhere in a signature, the batch root, the
 * message, the checkpoint or a proof path, the wrong destination, a route
 * mismatch, signer bitmap tricks. Then the validator-set file: round trip
 * and one error of each class, naming the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/merkle.h"
#include "fixture.h"
#include "lib/ist_test.h"
#include "state/verify.h"
#include "wire/canonical.h"
#include "wire/codec.h"

#define ALL (IST_VERIFY_ACCEPT_MULTISIG | IST_VERIFY_ACCEPT_FROST)

/* A spec, its set and its delivery. */
struct world {
	struct fx_spec spec;
	struct ist_valset vs;
	struct ist_delivery d;
};

static struct world *world_new(size_t n, uint64_t seed)
{
	struct world *w = calloc(1, sizeof(*w));
	ck_assert_ptr_nonnull(w);
	fx_spec_default(&w->spec, n, seed);
	return w;
}

/* (Re)builds the set and the delivery from the spec. */
static void world_build(struct world *w)
{
	ist_wire_delivery_fini(&w->d);
	ck_assert_int_eq(fx_valset(&w->spec, &w->vs), 0);
	ck_assert_int_eq(fx_delivery(&w->spec, &w->d), 0);
}

static void world_free(struct world *w)
{
	ist_wire_delivery_fini(&w->d);
	free(w);
}

/* Verifies w's delivery on chain 2 and checks the reason. */
static void expect(struct world *w, unsigned accept, enum ist_verify_reason want, const char *what)
{
	struct ist_verify_result res;
	bool ok = ist_verify_delivery(&w->vs, 2, accept, &w->d, &res);
	ck_assert_msg(res.reason == want, "%s: reason %s (%s), want %s", what, ist_verify_reason_name(res.reason),
		      res.detail, ist_verify_reason_name(want));
	ck_assert_int_eq(ok, want == IST_VERIFY_OK);
	if (want != IST_VERIFY_OK)
		ck_assert_msg(res.detail[0] != '\0', "%s: no detail", what);
}

static void assert_valset_eq(const struct ist_valset *a, const struct ist_valset *b)
{
	ck_assert_uint_eq(a->network_id, b->network_id);
	ck_assert_uint_eq(a->epoch, b->epoch);
	ck_assert_uint_eq(a->n, b->n);
	ck_assert_mem_eq(a->keys, b->keys, a->n * IST_SECP_PUBKEY_BYTES);
	ck_assert_mem_eq(a->stakes, b->stakes, a->n * sizeof(a->stakes[0]));
	ck_assert_uint_eq(a->total, b->total);
	ck_assert_int_eq(a->has_group_key, b->has_group_key);
	if (a->has_group_key)
		ck_assert_mem_eq(a->group_key, b->group_key, IST_ED25519_PUBKEY_BYTES);
}

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
}

/* ---- valid deliveries ---- */

START_TEST(test_valid_multisig)
{
	struct world *w = world_new(4, 1);
	world_build(w);
	struct ist_verify_result res;
	ck_assert(ist_verify_delivery(&w->vs, 2, IST_VERIFY_ACCEPT_MULTISIG, &w->d, &res));
	ck_assert_int_eq(res.reason, IST_VERIFY_OK);
	ck_assert_str_eq(res.detail, "");
	ck_assert_uint_eq(res.signed_stake, 4000);
	uint8_t id[IST_HASH_BYTES];
	ck_assert_int_eq(ist_wire_message_id(&w->d.message, id), 0);
	ck_assert_mem_eq(res.message_id, id, sizeof(id));

	/* what a relayer sends: encoded and decoded, it verifies the same */
	uint8_t *enc = NULL;
	size_t len = 0;
	ck_assert_int_eq(ist_wire_delivery_encode(&w->d, &enc, &len), 0);
	struct ist_delivery *back = NULL;
	ck_assert_int_eq(ist_wire_delivery_decode(enc, len, &back, NULL), 0);
	ck_assert(ist_verify_delivery(&w->vs, 2, IST_VERIFY_ACCEPT_MULTISIG, back, NULL));
	ist_wire_delivery_free(back);
	free(enc);
	world_free(w);
}
END_TEST

START_TEST(test_valid_shapes)
{
	/* first, last and only leaves; one checkpoint; up to 7 validators */
	static const struct { uint64_t size, nonce; size_t ncp, cpi, n; } cases[] = {
		{ 1, 0, 1, 0, 1 }, { 2, 0, 2, 1, 2 }, { 2, 1, 5, 4, 3 }, { 8, 7, 8, 0, 4 },
		{ 9, 8, 9, 8, 5 }, { 100, 37, 17, 16, 7 }, { 1000, 999, 64, 63, 4 },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(cases); i++) {
		struct world *w = world_new(cases[i].n, 10 + i);
		w->spec.tree_size = cases[i].size;
		w->spec.nonce = cases[i].nonce;
		w->spec.n_checkpoints = cases[i].ncp;
		w->spec.cp_index = cases[i].cpi;
		world_build(w);
		expect(w, IST_VERIFY_ACCEPT_MULTISIG, IST_VERIFY_OK, "shape");
		world_free(w);
	}
}
END_TEST

START_TEST(test_valid_frost)
{
	struct world *w = world_new(4, 2);
	w->spec.scheme = IST_CERT_FROST_ED25519;
	world_build(w);
	expect(w, IST_VERIFY_ACCEPT_FROST, IST_VERIFY_OK, "frost");
	expect(w, ALL, IST_VERIFY_OK, "frost, both accepted");
	world_free(w);
}
END_TEST

/* ---- the certificate ---- */

START_TEST(test_scheme_not_accepted)
{
	struct world *w = world_new(4, 3);
	world_build(w);
	expect(w, IST_VERIFY_ACCEPT_FROST, IST_VERIFY_SCHEME, "multisig where only frost is accepted");
	expect(w, 0, IST_VERIFY_SCHEME, "nothing accepted");
	w->spec.scheme = IST_CERT_FROST_ED25519;
	world_build(w);
	expect(w, IST_VERIFY_ACCEPT_MULTISIG, IST_VERIFY_SCHEME, "frost where only multisig is accepted");
	w->d.certificate.scheme = (enum ist_cert_scheme)7;
	expect(w, ALL, IST_VERIFY_SCHEME, "unknown scheme");
	world_free(w);
}
END_TEST

START_TEST(test_wrong_network_and_epoch)
{
	struct world *w = world_new(4, 4);
	world_build(w);
	/* signed properly, but for another network or epoch than the set's */
	w->d.certificate.network_id = 1338;
	ck_assert_int_eq(fx_sign(&w->spec, &w->d.certificate), 0);
	expect(w, ALL, IST_VERIFY_NETWORK, "other network");
	w->d.certificate.network_id = 1337;
	w->d.certificate.epoch = 1;
	ck_assert_int_eq(fx_sign(&w->spec, &w->d.certificate), 0);
	expect(w, ALL, IST_VERIFY_UNKNOWN_EPOCH, "other epoch");
	/* and the same for frost */
	w->spec.scheme = IST_CERT_FROST_ED25519;
	world_build(w);
	w->d.certificate.epoch = 5;
	ck_assert_int_eq(fx_sign(&w->spec, &w->d.certificate), 0);
	expect(w, ALL, IST_VERIFY_UNKNOWN_EPOCH, "frost, other epoch");
	world_free(w);
}
END_TEST

START_TEST(test_quorum_threshold)
{
	/* 2 of 3 equal stakes is exactly 2/3: not enough */
	struct world *w = world_new(3, 5);
	memset(w->spec.signers, 0, sizeof(w->spec.signers));
	ck_assert_int_eq(ist_wire_bitmap_set(w->spec.signers, 0), 0);
	ck_assert_int_eq(ist_wire_bitmap_set(w->spec.signers, 2), 0);
	world_build(w);
	expect(w, ALL, IST_VERIFY_QUORUM, "2 of 3 equal stakes");
	/* all three: passes */
	ck_assert_int_eq(ist_wire_bitmap_set(w->spec.signers, 1), 0);
	world_build(w);
	expect(w, ALL, IST_VERIFY_OK, "3 of 3");
	world_free(w);

	/* 3 of 4 equal stakes: 3/4 > 2/3 */
	w = world_new(4, 6);
	memset(w->spec.signers, 0, sizeof(w->spec.signers));
	for (unsigned i = 1; i < 4; i++)
		ck_assert_int_eq(ist_wire_bitmap_set(w->spec.signers, i), 0);
	world_build(w);
	expect(w, ALL, IST_VERIFY_OK, "3 of 4");
	world_free(w);

	/* stakes 100, 100, 1: exactly 200/300 fails, 201/301 passes */
	static const struct { uint64_t stakes[3]; unsigned signers; bool ok; } cases[] = {
		{ { 100, 100, 100 }, 0x3, false },       /* 200 of 300 */
		{ { 101, 100, 100 }, 0x3, true },        /* 201 of 301 */
		{ { 100, 100, 101 }, 0x3, false },       /* 200 of 301 */
		{ { 1, 1, 1 }, 0x7, true },
		{ { 1, 1, 1 }, 0x0, false },             /* nobody */
		/* at the top of the range: 3 * stake overflows 64 bits */
		{ { UINT64_MAX / 3, UINT64_MAX / 3, UINT64_MAX / 3 }, 0x3, false },
		{ { UINT64_MAX / 3 + 1, UINT64_MAX / 3, UINT64_MAX / 3 - 1 }, 0x3, true },
		{ { UINT64_MAX - 2, 1, 1 }, 0x1, true },
		{ { UINT64_MAX - 2, 1, 1 }, 0x6, false },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(cases); i++) {
		w = world_new(3, 7);
		memset(w->spec.signers, 0, sizeof(w->spec.signers));
		for (unsigned v = 0; v < 3; v++) {
			w->spec.stakes[v] = cases[i].stakes[v];
			if (cases[i].signers & (1u << v))
				ck_assert_int_eq(ist_wire_bitmap_set(w->spec.signers, v), 0);
		}
		world_build(w);
		char what[32];
		snprintf(what, sizeof(what), "stake case %zu", i);
		expect(w, ALL, cases[i].ok ? IST_VERIFY_OK : IST_VERIFY_QUORUM, what);
		world_free(w);
	}
}
END_TEST

START_TEST(test_unknown_key)
{
	/* validator 1's signature made by a key outside the set */
	struct world *w = world_new(4, 8);
	world_build(w);
	struct fx_spec outsider;
	fx_spec_default(&outsider, 4, 999);
	uint8_t digest[IST_HASH_BYTES];
	ist_wire_certificate_digest(&w->d.certificate, digest);
	ck_assert_int_eq(ist_secp_sign(outsider.seckeys[0], digest, w->d.certificate.sigs[1]), 0);
	expect(w, ALL, IST_VERIFY_BAD_SIGNATURE, "signature by an outsider");

	/* a whole certificate by a set of outsiders of the same shape */
	world_build(w);
	memcpy(outsider.signers, w->spec.signers, sizeof(outsider.signers));
	ck_assert_int_eq(fx_sign(&outsider, &w->d.certificate), 0);
	expect(w, ALL, IST_VERIFY_BAD_SIGNATURE, "certificate by outsiders");

	/* validator 2's valid signature put in validator 1's place */
	world_build(w);
	memcpy(w->d.certificate.sigs[1], w->d.certificate.sigs[2], IST_SECP_SIG_BYTES);
	expect(w, ALL, IST_VERIFY_BAD_SIGNATURE, "signature of another validator");
	world_free(w);
}
END_TEST

START_TEST(test_signer_tricks)
{
	struct world *w = world_new(4, 9);
	world_build(w);

	/* one signer in the bitmap, its signature twice */
	memset(w->d.certificate.signers, 0, IST_WIRE_BITMAP_BYTES);
	ck_assert_int_eq(ist_wire_bitmap_set(w->d.certificate.signers, 0), 0);
	memcpy(w->d.certificate.sigs[1], w->d.certificate.sigs[0], IST_SECP_SIG_BYTES);
	w->d.certificate.n_sigs = 2;
	expect(w, ALL, IST_VERIFY_SIGNATURE_COUNT, "two signatures for one signer");

	/* three signers in the bitmap, validator 0's signature for all three */
	world_build(w);
	memset(w->d.certificate.signers, 0, IST_WIRE_BITMAP_BYTES);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(ist_wire_bitmap_set(w->d.certificate.signers, i), 0);
		memcpy(w->d.certificate.sigs[i], w->d.certificate.sigs[0], IST_SECP_SIG_BYTES);
	}
	w->d.certificate.n_sigs = 3;
	expect(w, ALL, IST_VERIFY_BAD_SIGNATURE, "one signature counted three times");

	/* more bits than signatures */
	world_build(w);
	w->d.certificate.n_sigs = 3;
	expect(w, ALL, IST_VERIFY_SIGNATURE_COUNT, "four signers, three signatures");

	/* a signer beyond the set: with and without a signature for it */
	world_build(w);
	ck_assert_int_eq(ist_wire_bitmap_set(w->d.certificate.signers, 4), 0);
	memcpy(w->d.certificate.sigs[4], w->d.certificate.sigs[0], IST_SECP_SIG_BYTES);
	w->d.certificate.n_sigs = 5;
	expect(w, ALL, IST_VERIFY_SIGNER_RANGE, "signer 4 of a set of 4");
	world_build(w);
	ck_assert_int_eq(ist_wire_bitmap_set(w->d.certificate.signers, 255), 0);
	expect(w, ALL, IST_VERIFY_SIGNER_RANGE, "signer 255 of a set of 4");
	world_free(w);
}
END_TEST

/* Flips every bit of `len` bytes at `p` in turn and expects `want` each time. */
static void flip_each(struct world *w, uint8_t *p, size_t len, enum ist_verify_reason want, const char *what)
{
	for (size_t i = 0; i < len; i++) {
		for (unsigned b = 0; b < 8; b++) {
			p[i] ^= (uint8_t)(1u << b);
			char desc[96];
			snprintf(desc, sizeof(desc), "%s, byte %zu bit %u", what, i, b);
			expect(w, ALL, want, desc);
			p[i] ^= (uint8_t)(1u << b);
		}
	}
	expect(w, ALL, IST_VERIFY_OK, what);
}

START_TEST(test_bit_flips)
{
	struct world *w = world_new(4, 11);
	world_build(w);
	struct ist_delivery *d = &w->d;
	struct ist_certificate *c = &d->certificate;
	for (size_t k = 0; k < c->n_sigs; k++)
		flip_each(w, c->sigs[k], IST_SECP_SIG_BYTES, IST_VERIFY_BAD_SIGNATURE, "signature");
	/* the batch root: the checkpoint proof no longer leads to it */
	flip_each(w, c->batch_root, IST_HASH_BYTES, IST_VERIFY_CHECKPOINT_PROOF, "batch root");
	/* the certificate's height is signed */
	flip_each(w, (uint8_t *)&c->height, sizeof(c->height), IST_VERIFY_BAD_SIGNATURE, "certificate height");
	/* the message: its id changes */
	flip_each(w, d->message.payload, d->message.payload_len, IST_VERIFY_MESSAGE_PROOF, "message payload");
	flip_each(w, d->message.sender, sizeof(d->message.sender), IST_VERIFY_MESSAGE_PROOF, "message sender");
	flip_each(w, d->message.recipient, sizeof(d->message.recipient), IST_VERIFY_MESSAGE_PROOF,
		  "message recipient");
	flip_each(w, (uint8_t *)&d->message.value, sizeof(d->message.value), IST_VERIFY_MESSAGE_PROOF,
		  "message value");
	/* the checkpoint: its root breaks the message proof, its other
	 * fields its leaf in the batch tree */
	flip_each(w, d->checkpoint.root, IST_HASH_BYTES, IST_VERIFY_MESSAGE_PROOF, "checkpoint root");
	flip_each(w, (uint8_t *)&d->checkpoint.src_height, sizeof(d->checkpoint.src_height),
		  IST_VERIFY_CHECKPOINT_PROOF, "checkpoint src_height");
	/* every element of both proof paths */
	for (size_t k = 0; k < d->message_proof.path_len; k++)
		flip_each(w, d->message_proof.path[k], IST_HASH_BYTES, IST_VERIFY_MESSAGE_PROOF, "message proof path");
	for (size_t k = 0; k < d->checkpoint_proof.path_len; k++)
		flip_each(w, d->checkpoint_proof.path[k], IST_HASH_BYTES, IST_VERIFY_CHECKPOINT_PROOF,
			  "checkpoint proof path");
	world_free(w);
}
END_TEST

START_TEST(test_frost_forgeries)
{
	struct world *w = world_new(4, 12);
	w->spec.scheme = IST_CERT_FROST_ED25519;
	world_build(w);
	flip_each(w, w->d.certificate.frost_sig, IST_SIG_BYTES, IST_VERIFY_BAD_SIGNATURE, "frost signature");
	flip_each(w, w->d.certificate.batch_root, IST_HASH_BYTES, IST_VERIFY_CHECKPOINT_PROOF, "frost batch root");

	/* a valid signature under another group key */
	struct fx_spec other = w->spec;
	other.frost_seed[0] ^= 1;
	ck_assert_int_eq(fx_sign(&other, &w->d.certificate), 0);
	expect(w, ALL, IST_VERIFY_GROUP_KEY, "another group");
	/* the set's group key, someone else's signature */
	ck_assert_int_eq(ist_ed25519_pubkey(w->spec.frost_seed, w->d.certificate.group_key), 0);
	expect(w, ALL, IST_VERIFY_BAD_SIGNATURE, "the set's key, another signer");
	/* a set without a group key accepts no frost certificate */
	w->spec.has_group_key = false;
	world_build(w);
	expect(w, ALL, IST_VERIFY_GROUP_KEY, "set without a group key");
	world_free(w);
}
END_TEST

/* ---- the delivery around the certificate ---- */

START_TEST(test_destination_and_route)
{
	struct world *w = world_new(4, 13);
	world_build(w);
	struct ist_verify_result res;
	ck_assert(!ist_verify_delivery(&w->vs, 3, ALL, &w->d, &res));
	ck_assert_int_eq(res.reason, IST_VERIFY_WRONG_DESTINATION);
	ck_assert_str_eq(ist_verify_reason_name(res.reason), "wrong-destination");

	/* a message for chain 3, correctly certified, delivered on chain 2 */
	w->spec.dst_chain = 3;
	world_build(w);
	expect(w, ALL, IST_VERIFY_WRONG_DESTINATION, "certified for chain 3");

	/* the message of one route with another route's checkpoint */
	w->spec.dst_chain = 2;
	world_build(w);
	w->d.checkpoint.src_chain = 5;
	expect(w, ALL, IST_VERIFY_ROUTE_MISMATCH, "checkpoint of another source");
	world_build(w);
	w->d.checkpoint.dst_chain = 3;
	expect(w, ALL, IST_VERIFY_ROUTE_MISMATCH, "checkpoint of another destination");
	world_build(w);
	w->d.message.src_chain = 9;
	expect(w, ALL, IST_VERIFY_ROUTE_MISMATCH, "message of another source");
	world_free(w);
}
END_TEST

START_TEST(test_message_proof_shape)
{
	struct world *w = world_new(4, 14);
	w->spec.tree_size = 8;
	w->spec.nonce = 5;
	world_build(w);
	expect(w, ALL, IST_VERIFY_OK, "baseline");

	/* the right path, claimed for another nonce */
	w->d.message.nonce = 4;
	expect(w, ALL, IST_VERIFY_MESSAGE_PROOF, "nonce differs from the leaf index");
	w->d.message_proof.leaf_index = 4;
	expect(w, ALL, IST_VERIFY_MESSAGE_PROOF, "path of leaf 5 used for leaf 4");
	world_build(w);
	w->d.message_proof.leaf_index = 4;
	expect(w, ALL, IST_VERIFY_MESSAGE_PROOF, "leaf index differs from the nonce");

	/* a proof for another tree size than the checkpoint's */
	world_build(w);
	w->d.message_proof.tree_size = 7;
	expect(w, ALL, IST_VERIFY_MESSAGE_PROOF, "proof tree size 7, checkpoint 8");
	/* a checkpoint that says another size (its leaf changes too) */
	world_build(w);
	w->d.checkpoint.tree_size = 6;
	w->d.message_proof.tree_size = 6;
	expect(w, ALL, IST_VERIFY_MESSAGE_PROOF, "checkpoint size 6");
	w->d.checkpoint.tree_size = 5;
	w->d.message_proof.tree_size = 5;
	expect(w, ALL, IST_VERIFY_MESSAGE_PROOF, "nonce beyond the checkpoint's tree");

	/* a path one element short and one too long */
	world_build(w);
	w->d.message_proof.path_len--;
	expect(w, ALL, IST_VERIFY_MESSAGE_PROOF, "short path");
	world_build(w);
	memset(w->d.message_proof.path[w->d.message_proof.path_len], 0, IST_HASH_BYTES);
	w->d.message_proof.path_len++;
	expect(w, ALL, IST_VERIFY_MESSAGE_PROOF, "long path");

	/* the checkpoint proof for another leaf */
	world_build(w);
	w->d.checkpoint_proof.leaf_index = 0;
	expect(w, ALL, IST_VERIFY_CHECKPOINT_PROOF, "checkpoint proof index");
	world_build(w);
	w->d.checkpoint_proof.tree_size = 9;
	expect(w, ALL, IST_VERIFY_CHECKPOINT_PROOF, "checkpoint proof size");

	/* a tree whose leaf 2 holds a message with nonce 6 (a source that
	 * broke the nonce order), correctly certified: the proof is valid for
	 * leaf 2, but the nonce the inbox would record is not the leaf's */
	world_build(w);
	w->spec.n_checkpoints = 1;
	w->spec.cp_index = 0;
	uint8_t leaves[8][IST_HASH_BYTES];
	struct ist_message odd;
	for (uint64_t i = 0; i < 8; i++) {
		fx_message(1, 2, i == 2 ? 6 : i, &odd);
		uint8_t id[IST_HASH_BYTES];
		ck_assert_int_eq(ist_wire_message_id(&odd, id), 0);
		ist_merkle_leaf_hash(id, sizeof(id), leaves[i]);
		if (i == 2) {
			ist_wire_message_fini(&w->d.message);
			w->d.message = odd;
		} else {
			ist_wire_message_fini(&odd);
		}
	}
	struct ist_delivery *d = &w->d;
	ck_assert_int_eq(ist_merkle_root((const uint8_t (*)[IST_HASH_BYTES])leaves, 8, d->checkpoint.root), 0);
	ck_assert_int_eq(ist_merkle_inclusion_proof((const uint8_t (*)[IST_HASH_BYTES])leaves, 8, 2,
						    d->message_proof.path, &d->message_proof.path_len), 0);
	d->message_proof.leaf_index = 2;
	ist_wire_checkpoint_leaf_hash(&d->checkpoint, d->certificate.batch_root);
	d->checkpoint_proof.leaf_index = 0;
	d->checkpoint_proof.tree_size = 1;
	d->checkpoint_proof.path_len = 0;
	ck_assert_int_eq(fx_sign(&w->spec, &d->certificate), 0);
	expect(w, ALL, IST_VERIFY_MESSAGE_PROOF, "message with nonce 6 at leaf 2");
	w->spec.n_checkpoints = 3;
	w->spec.cp_index = 1;

	/* a payload over the limit has no id */
	world_build(w);
	w->d.message.payload_len = IST_WIRE_MAX_MSG_PAYLOAD + 1;
	expect(w, ALL, IST_VERIFY_MALFORMED, "oversized payload");
	w->d.message.payload_len = 0;
	world_free(w);
}
END_TEST

/* A pause certified in a batch tree of [checkpoint, pause, checkpoint],
 * signed per w's spec. */
static void pause_world(struct world *w, struct ist_pause *p, struct ist_inclusion_proof *proof,
			struct ist_certificate *cert)
{
	*p = (struct ist_pause){ .network_id = w->spec.network_id, .height = w->spec.height, .scope = IST_PAUSE_ROUTE,
				 .a = 1, .b = 2, .paused = true };
	uint8_t leaves[3][IST_HASH_BYTES];
	for (int i = 0; i < 3; i += 2) {
		struct ist_checkpoint cp = { .src_chain = 1, .dst_chain = 2, .src_height = 7 + i, .tree_size = 1 + i };
		ist_wire_checkpoint_leaf_hash(&cp, leaves[i]);
	}
	ist_wire_pause_leaf_hash(p, leaves[1]);
	memset(cert, 0, sizeof(*cert));
	cert->scheme = w->spec.scheme;
	cert->network_id = w->spec.network_id;
	cert->epoch = w->spec.epoch;
	cert->height = w->spec.height;
	ck_assert_int_eq(ist_merkle_root((const uint8_t (*)[IST_HASH_BYTES])leaves, 3, cert->batch_root), 0);
	memset(proof, 0, sizeof(*proof));
	ck_assert_int_eq(ist_merkle_inclusion_proof((const uint8_t (*)[IST_HASH_BYTES])leaves, 3, 1, proof->path,
						    &proof->path_len), 0);
	proof->leaf_index = 1;
	proof->tree_size = 3;
	ck_assert_int_eq(fx_sign(&w->spec, cert), 0);
}

static void expect_pause(const struct world *w, const struct ist_pause *p, const struct ist_inclusion_proof *proof,
			 const struct ist_certificate *cert, enum ist_verify_reason want, const char *what)
{
	struct ist_verify_result res;
	bool ok = ist_verify_pause(&w->vs, p, proof, cert, ALL, &res);
	ck_assert_msg(res.reason == want, "%s: reason %s (%s), want %s", what, ist_verify_reason_name(res.reason),
		      res.detail, ist_verify_reason_name(want));
	ck_assert_int_eq(ok, want == IST_VERIFY_OK);
}

/* A certified pause verifies in both schemes; a resume posing as the
 * pause, another height, another network, a checkpoint leaf's proof, a
 * flipped path bit and a certificate of another set are refused. */
START_TEST(test_pause)
{
	for (int frost = 0; frost < 2; frost++) {
		struct world *w = world_new(4, 91 + frost);
		if (frost)
			w->spec.scheme = IST_CERT_FROST_ED25519;
		world_build(w);
		struct ist_pause p;
		struct ist_inclusion_proof proof;
		struct ist_certificate cert;
		pause_world(w, &p, &proof, &cert);
		expect_pause(w, &p, &proof, &cert, IST_VERIFY_OK, "the certified pause");
		struct ist_pause x = p;
		x.paused = false;
		expect_pause(w, &x, &proof, &cert, IST_VERIFY_PAUSE_PROOF, "a resume posing as the pause");
		x = p;
		x.height++;
		expect_pause(w, &x, &proof, &cert, IST_VERIFY_PAUSE_PROOF, "another height");
		x = p;
		x.network_id++;
		expect_pause(w, &x, &proof, &cert, IST_VERIFY_NETWORK, "another network");
		x = p;
		x.scope = IST_PAUSE_CHAIN;
		expect_pause(w, &x, &proof, &cert, IST_VERIFY_PAUSE_PROOF, "a chain pause posing as a route pause");
		struct ist_inclusion_proof q = proof;
		q.leaf_index = 0;   /* the checkpoint's position */
		expect_pause(w, &p, &q, &cert, IST_VERIFY_PAUSE_PROOF, "the proof of another leaf");
		q = proof;
		q.path[0][5] ^= 0x10;
		expect_pause(w, &p, &q, &cert, IST_VERIFY_PAUSE_PROOF, "a flipped path bit");
		struct world *o = world_new(4, 7 + frost);
		if (frost)
			o->spec.scheme = IST_CERT_FROST_ED25519;
		world_build(o);
		expect_pause(o, &p, &proof, &cert, frost ? IST_VERIFY_GROUP_KEY : IST_VERIFY_BAD_SIGNATURE,
			     "a certificate of another set");
		world_free(o);
		world_free(w);
	}
}
END_TEST

START_TEST(test_reason_names)
{
	/* stable: these are metric labels and HTTP error codes */
	static const char *const want[] = { "ok", "malformed", "wrong-destination", "route-mismatch",
					    "message-proof", "checkpoint-proof", "scheme", "network",
					    "unknown-epoch", "signer-range", "signature-count",
					    "bad-signature", "quorum", "group-key", "handover-epoch",
					    "handover-proof", "epoch-expired", "pause-proof" };
	ck_assert_int_eq(IST_VERIFY__COUNT, IST_ARRAY_SIZE(want));
	for (int i = 0; i < IST_VERIFY__COUNT; i++)
		ck_assert_str_eq(ist_verify_reason_name((enum ist_verify_reason)i), want[i]);
	ck_assert_str_eq(ist_verify_reason_name((enum ist_verify_reason)99), "unknown");
}
END_TEST

/* ---- the validator-set file ---- */

START_TEST(test_accept_parse)
{
	static const struct {
		const char *text;
		bool ok;
		unsigned flags;
	} cases[] = {
		{ "multisig", true, IST_VERIFY_ACCEPT_MULTISIG },
		{ "frost", true, IST_VERIFY_ACCEPT_FROST },
		{ "multisig,frost", true, IST_VERIFY_ACCEPT_MULTISIG | IST_VERIFY_ACCEPT_FROST },
		{ "frost,multisig", true, IST_VERIFY_ACCEPT_MULTISIG | IST_VERIFY_ACCEPT_FROST },
		{ "multisig,", true, IST_VERIFY_ACCEPT_MULTISIG },
		{ "multisig,multisig", true, IST_VERIFY_ACCEPT_MULTISIG },
		{ "", false, 0 },
		{ ",", false, 0 },
		{ "bogus", false, 0 },
		{ "multisig,bogus", false, 0 },
		{ "multisigx", false, 0 },
		{ "MULTISIG", false, 0 },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(cases); i++) {
		unsigned flags = 99;
		ck_assert_msg(ist_verify_accept_parse(cases[i].text, &flags) == cases[i].ok, "%s", cases[i].text);
		ck_assert_uint_eq(flags, cases[i].ok ? cases[i].flags : 99);
	}
}
END_TEST

START_TEST(test_valset_round_trip)
{
	struct world *w = world_new(5, 15);
	w->spec.network_id = 18446744073709551615ull;   /* above 2^53: a string */
	w->spec.epoch = 9007199254740992ull;             /* 2^53: a number */
	w->spec.stakes[3] = 12345678901234567ull;
	ck_assert_int_eq(fx_valset(&w->spec, &w->vs), 0);
	char *text = NULL;
	ck_assert_int_eq(ist_valset_format(&w->vs, &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"format\": \"isthmus-validator-set/v1\""));
	ck_assert_ptr_nonnull(strstr(text, "\"network_id\": \"18446744073709551615\""));
	ck_assert_ptr_nonnull(strstr(text, "\"epoch\": 9007199254740992"));
	ck_assert_ptr_nonnull(strstr(text, "\"stake\": \"12345678901234567\""));
	struct ist_valset back;
	struct ist_json_err err;
	ck_assert_int_eq(ist_valset_parse(text, strlen(text), "vs.json", &back, &err), 0);
	assert_valset_eq(&back, &w->vs);
	ck_assert_uint_eq(back.total, 4000 + 12345678901234567ull);

	/* written to a file and loaded */
	char *dir = ist_test_tmpdir("valset");
	char *path = NULL;
	ck_assert_int_gt(asprintf(&path, "%s/vs.json", dir), 0);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	memset(&back, 0, sizeof(back));
	ck_assert_int_eq(ist_valset_load(path, &back, &err), 0);
	assert_valset_eq(&back, &w->vs);
	/* without a group key */
	w->spec.has_group_key = false;
	ck_assert_int_eq(fx_valset(&w->spec, &w->vs), 0);
	free(text);
	ck_assert_int_eq(ist_valset_format(&w->vs, &text), 0);
	ck_assert_ptr_null(strstr(text, "group_key"));
	ck_assert_int_eq(ist_valset_parse(text, strlen(text), "vs.json", &back, &err), 0);
	ck_assert(!back.has_group_key);

	char line[512];
	ck_assert_int_eq(ist_valset_load("/nonexistent/vs.json", &back, &err), -IST_ENOTFOUND);
	ck_assert_str_eq(ist_json_err_format(&err, line, sizeof(line)), "/nonexistent/vs.json: no such file");
	free(text);
	ist_test_rmtree(dir);
	free(dir);
	free(path);
	world_free(w);
}
END_TEST

#define K1 "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
#define K2 "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
#define GK "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

START_TEST(test_valset_errors)
{
	static const struct { const char *json; int code; const char *line; } cases[] = {
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stake\":1}]}", 0, NULL },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":\"1\",\"epoch\":\"0\","
		  "\"validators\":[{\"attestation_key\":\"0x" K1 "\",\"stake\":\"1\"}],\"group_key\":\"" GK "\"}", 0, NULL },
		{ "{\"format\":\"isthmus-validator-set/v1\",", -IST_EPARSE, "vs.json: line 1, column" },
		{ "[]", -IST_ECONFIG, "vs.json: must be a JSON object (got an array)" },
		{ "{\"format\":\"isthmus-validator-set/v2\",\"network_id\":1,\"epoch\":0,\"validators\":[]}",
		  -IST_EUNSUPPORTED, "vs.json: format: must be \"isthmus-validator-set/v1\" (got \"isthmus-validator-set/v2\")" },
		{ "{\"network_id\":1,\"epoch\":0,\"validators\":[]}", -IST_ECONFIG, "vs.json: format: missing required field" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":0,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stake\":1}]}",
		  -IST_ECONFIG, "vs.json: network_id: must be a positive integer (got 0)" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,\"validators\":[]}",
		  -IST_ECONFIG, "vs.json: validators: must have 1 to 256 elements (got 0)" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stake\":0}]}",
		  -IST_ECONFIG, "vs.json: validators[0].stake: must be a positive integer (got 0)" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stake\":1},"
		  "{\"attestation_key\":\"" K1 "\",\"stake\":1}]}",
		  -IST_ECONFIG, "vs.json: validators[1].attestation_key: duplicate of validators[0].attestation_key" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"05" K1 "\",\"stake\":1}]}",
		  -IST_ECONFIG, "vs.json: validators[0].attestation_key: must be a compressed secp256k1 public key of 66 hex digits (got 68 characters)" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"04" K1 "\",\"stake\":1}]}",
		  -IST_ECONFIG, "vs.json: validators[0].attestation_key:" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"05" "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
		  "\",\"stake\":1}]}",
		  -IST_ECONFIG, "vs.json: validators[0].attestation_key: is not a valid compressed secp256k1 public key" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stake\":\"18446744073709551615\"},"
		  "{\"attestation_key\":\"" K2 "\",\"stake\":1}]}",
		  -IST_ECONFIG, "vs.json: validators[1].stake: the total stake exceeds 2^64 - 1" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stake\":9007199254740993}]}",
		  -IST_ECONFIG, "vs.json: validators[0].stake: must be a decimal string when above 2^53" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stak\":1}]}",
		  -IST_ECONFIG, "vs.json: validators[0].stak: unknown field (did you mean \"stake\"?)" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":-1,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stake\":1}]}",
		  -IST_ECONFIG, "vs.json: epoch: must be a non-negative integer (got -1)" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stake\":1}],\"group_key\":\"" K1 "\"}",
		  -IST_ECONFIG, "vs.json: group_key: must be an Ed25519 public key of 64 hex digits (got 66 characters)" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1,\"epoch\":0,"
		  "\"validators\":[{\"attestation_key\":\"" K1 "\",\"stake\":1}],"
		  "\"group_key\":\"0000000000000000000000000000000000000000000000000000000000000000\"}",
		  -IST_ECONFIG, "vs.json: group_key: is not a valid Ed25519 public key" },
		{ "{\"format\":\"isthmus-validator-set/v1\",\"format\":\"x\"}", -IST_EPARSE, "vs.json: line 1" },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(cases); i++) {
		struct ist_valset vs;
		struct ist_json_err err;
		memset(&err, 0, sizeof(err));
		int r = ist_valset_parse(cases[i].json, strlen(cases[i].json), "vs.json", &vs, &err);
		char line[1024];
		ist_json_err_format(&err, line, sizeof(line));
		ck_assert_msg(r == cases[i].code, "case %zu: %d (%s), want %d", i, r, line, cases[i].code);
		if (cases[i].line)
			ck_assert_msg(strncmp(line, cases[i].line, strlen(cases[i].line)) == 0,
				      "case %zu: \"%s\", want it to start \"%s\"", i, line, cases[i].line);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state-verify");
	TCase *tc = tcase_create("verify");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_valid_multisig);
	tcase_add_test(tc, test_valid_shapes);
	tcase_add_test(tc, test_valid_frost);
	tcase_add_test(tc, test_scheme_not_accepted);
	tcase_add_test(tc, test_wrong_network_and_epoch);
	tcase_add_test(tc, test_quorum_threshold);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_signer_tricks);
	tcase_add_test(tc, test_bit_flips);
	tcase_add_test(tc, test_frost_forgeries);
	tcase_add_test(tc, test_destination_and_route);
	tcase_add_test(tc, test_message_proof_shape);
	tcase_add_test(tc, test_pause);
	tcase_add_test(tc, test_reason_names);
	tcase_add_test(tc, test_accept_parse);
	tcase_add_test(tc, test_valset_round_trip);
	tcase_add_test(tc, test_valset_errors);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
