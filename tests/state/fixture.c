#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/rng.h"
#include "crypto/merkle.h"
#include "wire/canonical.h"

void fx_spec_default(struct fx_spec *s, size_t n, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->network_id = 1337;
	s->epoch = 0;
	s->height = 7;
	s->src_chain = 1;
	s->dst_chain = 2;
	s->src_height = 100;
	s->tree_size = 5;
	s->nonce = 3;
	s->n_checkpoints = 3;
	s->cp_index = 1;
	s->n_validators = n;
	s->scheme = IST_CERT_MULTISIG_SECP256K1;
	s->has_group_key = true;
	struct ist_rng_det det;
	ist_rng_det_init(&det, seed);
	for (size_t i = 0; i < n; i++) {
		uint8_t pub[IST_SECP_PUBKEY_BYTES];
		if (ist_secp_generate(&det.rng, s->seckeys[i], pub) < 0)
			abort();
		s->stakes[i] = 1000;
		if (ist_wire_bitmap_set(s->signers, (unsigned)i) < 0)
			abort();
	}
	if (ist_rng_fill(&det.rng, s->frost_seed, sizeof(s->frost_seed)) < 0)
		abort();
}

void fx_message(uint64_t src, uint64_t dst, uint64_t nonce, struct ist_message *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->src_chain = src;
	ret->dst_chain = dst;
	ret->nonce = nonce;
	memset(ret->sender, 0x11, sizeof(ret->sender));
	memset(ret->recipient, 0x22, sizeof(ret->recipient));
	ret->value = nonce;
	char text[40];
	int n = snprintf(text, sizeof(text), "message %llu", (unsigned long long)nonce);
	ret->payload = malloc((size_t)n);
	if (!ret->payload)
		abort();
	memcpy(ret->payload, text, (size_t)n);
	ret->payload_len = (size_t)n;
}

int fx_valset(const struct fx_spec *s, struct ist_valset *ret)
{
	struct ist_valset *vs = calloc(1, sizeof(*vs));
	if (!vs)
		return -IST_ENOMEM;
	vs->network_id = s->network_id;
	vs->epoch = s->epoch;
	vs->n = s->n_validators;
	int r = 0;
	for (size_t i = 0; i < s->n_validators && r == 0; i++) {
		r = ist_secp_pubkey(s->seckeys[i], vs->keys[i]);
		vs->stakes[i] = s->stakes[i];
	}
	if (r == 0 && s->has_group_key) {
		vs->has_group_key = true;
		r = ist_ed25519_pubkey(s->frost_seed, vs->group_key);
	}
	if (r == 0)
		r = ist_valset_check(vs, "fixture", NULL);
	if (r == 0)
		*ret = *vs;
	free(vs);
	return r;
}

int fx_sign(const struct fx_spec *s, struct ist_certificate *cert)
{
	uint8_t digest[IST_HASH_BYTES];
	ist_wire_certificate_digest(cert, digest);
	if (cert->scheme == IST_CERT_FROST_ED25519) {
		int r = ist_ed25519_pubkey(s->frost_seed, cert->group_key);
		if (r == 0)
			r = ist_ed25519_sign(s->frost_seed, digest, sizeof(digest), cert->frost_sig);
		return r;
	}
	memcpy(cert->signers, s->signers, sizeof(cert->signers));
	cert->n_sigs = 0;
	for (unsigned i = 0; i < IST_WIRE_MAX_VALIDATORS; i++) {
		if (!ist_wire_bitmap_get(s->signers, i))
			continue;
		if (i >= s->n_validators)
			return -IST_ERANGE;
		int r = ist_secp_sign(s->seckeys[i], digest, cert->sigs[cert->n_sigs++]);
		if (r < 0)
			return r;
	}
	return 0;
}

int fx_delivery(const struct fx_spec *s, struct ist_delivery *ret)
{
	uint64_t src = s->message ? s->message->src_chain : s->src_chain;
	uint64_t dst = s->message ? s->message->dst_chain : s->dst_chain;
	uint64_t nonce = s->message ? s->message->nonce : s->nonce;
	if (s->tree_size < 1 || s->tree_size > FX_MAX_TREE || nonce >= s->tree_size ||
	    s->n_checkpoints < 1 || s->n_checkpoints > FX_MAX_CHECKPOINTS || s->cp_index >= s->n_checkpoints)
		return -IST_ERANGE;
	int r = 0;
	struct ist_delivery d;
	memset(&d, 0, sizeof(d));
	uint8_t (*leaves)[IST_HASH_BYTES] = calloc(s->tree_size, IST_HASH_BYTES);
	if (!leaves)
		return -IST_ENOMEM;

	/* the route tree: message i at leaf i */
	for (uint64_t i = 0; i < s->tree_size && r == 0; i++) {
		struct ist_message m;
		if (i == nonce && s->message) {
			m = *s->message;
			m.payload = NULL;
			if (m.payload_len) {
				m.payload = malloc(m.payload_len);
				if (!m.payload) {
					r = -IST_ENOMEM;
					break;
				}
				memcpy(m.payload, s->message->payload, m.payload_len);
			}
		} else {
			fx_message(src, dst, i, &m);
		}
		uint8_t id[IST_HASH_BYTES];
		r = ist_wire_message_id(&m, id);
		ist_merkle_leaf_hash(id, sizeof(id), leaves[i]);
		if (i == nonce)
			d.message = m;
		else
			ist_wire_message_fini(&m);
	}
	if (r == 0)
		r = ist_merkle_root((const uint8_t (*)[IST_HASH_BYTES])leaves, s->tree_size, d.checkpoint.root);
	if (r == 0)
		r = ist_merkle_inclusion_proof((const uint8_t (*)[IST_HASH_BYTES])leaves, s->tree_size, nonce,
					       d.message_proof.path, &d.message_proof.path_len);
	d.message_proof.leaf_index = nonce;
	d.message_proof.tree_size = s->tree_size;
	d.checkpoint.src_chain = src;
	d.checkpoint.dst_chain = dst;
	d.checkpoint.src_height = s->src_height;
	d.checkpoint.tree_size = s->tree_size;

	/* the batch tree: other routes' checkpoints around ours */
	uint8_t cps[FX_MAX_CHECKPOINTS][IST_HASH_BYTES];
	for (size_t i = 0; i < s->n_checkpoints && r == 0; i++) {
		if (i == s->cp_index) {
			ist_wire_checkpoint_leaf_hash(&d.checkpoint, cps[i]);
			continue;
		}
		struct ist_checkpoint other = { .src_chain = src + 100 + i, .dst_chain = dst, .src_height = 9,
						.tree_size = i + 1 };
		memset(other.root, (int)(0x40 + i), sizeof(other.root));
		ist_wire_checkpoint_leaf_hash(&other, cps[i]);
	}
	if (r == 0)
		r = ist_merkle_root((const uint8_t (*)[IST_HASH_BYTES])cps, s->n_checkpoints, d.certificate.batch_root);
	if (r == 0)
		r = ist_merkle_inclusion_proof((const uint8_t (*)[IST_HASH_BYTES])cps, s->n_checkpoints, s->cp_index,
					       d.checkpoint_proof.path, &d.checkpoint_proof.path_len);
	d.checkpoint_proof.leaf_index = s->cp_index;
	d.checkpoint_proof.tree_size = s->n_checkpoints;

	d.certificate.scheme = s->scheme;
	d.certificate.network_id = s->network_id;
	d.certificate.epoch = s->epoch;
	d.certificate.height = s->height;
	if (r == 0)
		r = fx_sign(s, &d.certificate);
	free(leaves);
	if (r < 0) {
		ist_wire_delivery_fini(&d);
		return r;
	}
	*ret = d;
	return 0;
}

int fx_handover(const struct fx_spec *s, const struct ist_valset *next, size_t n_checkpoints, size_t leaf_pos,
		struct ist_handover *ret)
{
	if (n_checkpoints >= FX_MAX_CHECKPOINTS || leaf_pos > n_checkpoints)
		return -IST_ERANGE;
	size_t n = n_checkpoints + 1;
	uint8_t leaves[FX_MAX_CHECKPOINTS][IST_HASH_BYTES];
	for (size_t i = 0, k = 0; i < n; i++) {
		if (i == leaf_pos) {
			ist_handover_leaf_hash(next, leaves[i]);
			continue;
		}
		struct ist_checkpoint cp = { .src_chain = 1, .dst_chain = 2 + k, .src_height = 50 + k, .tree_size = k + 1 };
		memset(cp.root, (int)(0x60 + k), sizeof(cp.root));
		ist_wire_checkpoint_leaf_hash(&cp, leaves[i]);
		k++;
	}
	struct ist_handover *h = calloc(1, sizeof(*h));
	if (!h)
		return -IST_ENOMEM;
	h->epoch = next->epoch;
	h->start_height = s->height + 1;
	h->next = *next;
	h->has_handover = true;
	h->height = s->height;
	h->has_certificate = true;
	h->cert.scheme = s->scheme;
	h->cert.network_id = s->network_id;
	h->cert.epoch = s->epoch;
	h->cert.height = s->height;
	int r = ist_merkle_root((const uint8_t (*)[IST_HASH_BYTES])leaves, n, h->cert.batch_root);
	if (r == 0)
		r = ist_merkle_inclusion_proof((const uint8_t (*)[IST_HASH_BYTES])leaves, n, leaf_pos, h->proof.path,
					       &h->proof.path_len);
	h->proof.leaf_index = leaf_pos;
	h->proof.tree_size = n;
	if (r == 0)
		r = fx_sign(s, &h->cert);
	if (r == 0)
		*ret = *h;
	free(h);
	return r;
}
