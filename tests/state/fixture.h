/*
 * Real deliveries for tests: a route tree of messages, a checkpoint, a batch
 * tree of checkpoints and a certificate signed with real keys (secp256k1
 * attestation keys; an Ed25519 key standing in for a FROST group, whose
 * aggregate signature any Ed25519 verifier checks the same way), built with
 * src/crypto/merkle and src/wire/canonical. Used by tests/state/test_verify.c
 * and tests/devchain/mkdelivery.c.
 */
#ifndef IST_TESTS_STATE_FIXTURE_H
#define IST_TESTS_STATE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/verify.h"
#include "wire/types.h"

#define FX_MAX_TREE 4096         /* messages in a route tree */
#define FX_MAX_CHECKPOINTS 64    /* checkpoints in a batch tree */

struct fx_spec {
	uint64_t network_id, epoch, height;     /* of the certificate and the set */
	uint64_t src_chain, dst_chain;          /* the route */
	uint64_t src_height;                    /* of the checkpoint */
	uint64_t tree_size;                     /* messages in the route tree, 1..FX_MAX_TREE */
	uint64_t nonce;                         /* the delivered message, < tree_size */
	/* optional: the delivered message itself (copied; its route and nonce
	 * override src_chain, dst_chain and nonce); other leaves are
	 * fx_message() */
	const struct ist_message *message;
	size_t n_checkpoints;                   /* 1..FX_MAX_CHECKPOINTS */
	size_t cp_index;                        /* where ours is, < n_checkpoints */
	size_t n_validators;                    /* 1..IST_WIRE_MAX_VALIDATORS */
	uint8_t seckeys[IST_WIRE_MAX_VALIDATORS][IST_SECP_SECKEY_BYTES];
	uint64_t stakes[IST_WIRE_MAX_VALIDATORS];
	uint8_t signers[IST_WIRE_BITMAP_BYTES]; /* who signs (multisig) */
	enum ist_cert_scheme scheme;
	bool has_group_key;                     /* the set carries the FROST group key */
	uint8_t frost_seed[IST_ED25519_SEED_BYTES];
};

/* A spec with n validators of stake 1000 whose keys are derived from
 * `seed` (deterministic), all signing, multisig, network 1337, epoch 0,
 * height 7, route 1 -> 2 at source height 100, a tree of 5 messages with
 * nonce 3 delivered, checkpoint 1 of 3, a group key. */
void fx_spec_default(struct fx_spec *s, size_t n, uint64_t seed);

/* Synthetic message `nonce` of a route (sender 0x11..., recipient 0x22...,
 * value nonce, payload "message <nonce>"): malloc'd payload (fini it). */
void fx_message(uint64_t src, uint64_t dst, uint64_t nonce, struct ist_message *ret);

/* The validator set of the spec (checked). Returns 0 or -IST_E*. */
int fx_valset(const struct fx_spec *s, struct ist_valset *ret);

/* Builds the delivery (ret owns the message payload: ist_wire_delivery_fini).
 * Returns 0 or -IST_E*. */
int fx_delivery(const struct fx_spec *s, struct ist_delivery *ret);

/* Signs `cert` (its scheme, network, epoch, height and batch root as they
 * are) as the spec says: multisig by the spec's signers with their keys,
 * frost with frost_seed. Returns 0 or -IST_E*. */
int fx_sign(const struct fx_spec *s, struct ist_certificate *cert);

/* A hand-over (state/verify.h) from the spec's set (its epoch, signing as
 * fx_sign does; s->height is the hand-over block's) to `next`: a batch tree
 * of n_checkpoints synthetic checkpoint leaves with next's hand-over leaf
 * inserted at leaf_pos (n_checkpoints: after them, the last leaf, as the
 * protocol has it; another position to test the refusal), the certificate
 * over its root and the proof of that leaf. start_height is the height + 1,
 * no end height. Out: *ret. Returns 0 or -IST_E* (-IST_ERANGE for
 * n_checkpoints over FX_MAX_CHECKPOINTS - 1 or leaf_pos above it). */
int fx_handover(const struct fx_spec *s, const struct ist_valset *next, size_t n_checkpoints, size_t leaf_pos,
		struct ist_handover *ret);

#endif
