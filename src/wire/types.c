#include "wire/types.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

/* ---- Lifecycle ---- */

void ist_wire_message_fini(struct ist_message *m)
{
	if (!m)
		return;
	free(m->payload);
	memset(m, 0, sizeof(*m));
}

void ist_wire_message_free(struct ist_message *m)
{
	ist_wire_message_fini(m);
	free(m);
}

void ist_wire_checkpoint_free(struct ist_checkpoint *cp) { free(cp); }
void ist_wire_certificate_free(struct ist_certificate *cert) { free(cert); }

void ist_wire_delivery_fini(struct ist_delivery *d)
{
	if (!d)
		return;
	ist_wire_message_fini(&d->message);
	memset(d, 0, sizeof(*d));
}

void ist_wire_delivery_free(struct ist_delivery *d)
{
	ist_wire_delivery_fini(d);
	free(d);
}

void ist_wire_tx_free(struct ist_tx *tx) { free(tx); }
void ist_wire_qc_free(struct ist_qc *qc) { free(qc); }
void ist_wire_tc_free(struct ist_tc *tc) { free(tc); }
void ist_wire_vote_free(struct ist_vote *v) { free(v); }
void ist_wire_timeout_free(struct ist_timeout *t) { free(t); }

size_t ist_wire_payload_opaque_max(enum ist_payload_kind k)
{
	switch (k) {
	case IST_PAYLOAD_EVIDENCE:
		return IST_WIRE_MAX_EVIDENCE_BYTES;
	case IST_PAYLOAD_DKG:
		return IST_WIRE_MAX_DKG_BYTES;
	case IST_PAYLOAD_NONCE_COMMITMENTS:
		return IST_WIRE_MAX_NONCE_COMMIT_BYTES;
	case IST_PAYLOAD_DATA:
		return IST_WIRE_MAX_DATA_BYTES;
	default:
		return 0;
	}
}

void ist_wire_payload_item_fini(struct ist_payload_item *item)
{
	if (!item)
		return;
	if (ist_wire_payload_opaque_max(item->kind) > 0)
		free(item->u.opaque.data);
	memset(item, 0, sizeof(*item));
}

void ist_wire_block_fini(struct ist_block *b)
{
	if (!b)
		return;
	if (b->items) {
		for (size_t i = 0; i < b->n_items; i++)
			ist_wire_payload_item_fini(&b->items[i]);
		free(b->items);
	}
	memset(b, 0, sizeof(*b));
}

void ist_wire_block_free(struct ist_block *b)
{
	ist_wire_block_fini(b);
	free(b);
}

void ist_wire_proposal_fini(struct ist_proposal *p)
{
	if (!p)
		return;
	ist_wire_block_fini(&p->block);
	memset(p, 0, sizeof(*p));
}

void ist_wire_proposal_free(struct ist_proposal *p)
{
	ist_wire_proposal_fini(p);
	free(p);
}

void ist_wire_envelope_fini(struct ist_envelope *e)
{
	if (!e)
		return;
	if (e->kind == IST_ENVELOPE_PROPOSAL)
		ist_wire_proposal_fini(&e->u.proposal);
	else if (e->kind == IST_ENVELOPE_BLOCK_RESPONSE)
		ist_wire_block_response_fini(&e->u.block_response);
	memset(e, 0, sizeof(*e));
}

void ist_wire_block_response_fini(struct ist_block_response *r)
{
	if (!r)
		return;
	for (size_t i = 0; r->blocks && i < r->n_blocks; i++)
		ist_wire_block_fini(&r->blocks[i]);
	free(r->blocks);
	memset(r, 0, sizeof(*r));
}

void ist_wire_envelope_free(struct ist_envelope *e)
{
	ist_wire_envelope_fini(e);
	free(e);
}

/* ---- Certificate schemes ---- */

const char *ist_wire_cert_scheme_name(enum ist_cert_scheme scheme)
{
	switch (scheme) {
	case IST_CERT_MULTISIG_SECP256K1: return "multisig-secp256k1";
	case IST_CERT_FROST_ED25519: return "frost-ed25519";
	}
	return "unknown";
}

bool ist_wire_cert_scheme_parse(const char *name, enum ist_cert_scheme *ret)
{
	static const enum ist_cert_scheme all[] = { IST_CERT_MULTISIG_SECP256K1, IST_CERT_FROST_ED25519 };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, ist_wire_cert_scheme_name(all[i])) == 0) {
			*ret = all[i];
			return true;
		}
	}
	return false;
}

/* ---- Equality: field by field, never memcmp of whole structs (padding,
 * union members of another kind and bytes past a count are not content) ---- */

#define SAME(field) (a->field == b->field)
#define SAME_BYTES(field) (memcmp(a->field, b->field, sizeof(a->field)) == 0)

bool ist_wire_message_equal(const struct ist_message *a, const struct ist_message *b)
{
	return SAME(src_chain) && SAME(dst_chain) && SAME(nonce) && SAME_BYTES(sender) &&
	       SAME_BYTES(recipient) && SAME(value) && SAME(payload_len) &&
	       (a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0);
}

bool ist_wire_checkpoint_equal(const struct ist_checkpoint *a, const struct ist_checkpoint *b)
{
	return SAME(src_chain) && SAME(dst_chain) && SAME(src_height) && SAME(tree_size) && SAME_BYTES(root);
}

bool ist_wire_inclusion_proof_equal(const struct ist_inclusion_proof *a, const struct ist_inclusion_proof *b)
{
	return SAME(leaf_index) && SAME(tree_size) && SAME(path_len) && a->path_len <= IST_WIRE_MAX_PROOF_DEPTH &&
	       memcmp(a->path, b->path, a->path_len * sizeof(a->path[0])) == 0;
}

bool ist_wire_certificate_equal(const struct ist_certificate *a, const struct ist_certificate *b)
{
	if (!(SAME(scheme) && SAME(network_id) && SAME(epoch) && SAME(height) && SAME_BYTES(batch_root)))
		return false;
	switch (a->scheme) {
	case IST_CERT_MULTISIG_SECP256K1:
		return SAME_BYTES(signers) && SAME(n_sigs) && a->n_sigs <= IST_WIRE_MAX_VALIDATORS &&
		       memcmp(a->sigs, b->sigs, a->n_sigs * sizeof(a->sigs[0])) == 0;
	case IST_CERT_FROST_ED25519:
		return SAME_BYTES(group_key) && SAME_BYTES(frost_sig);
	}
	return true; /* an unknown scheme carries nothing more */
}

bool ist_wire_delivery_equal(const struct ist_delivery *a, const struct ist_delivery *b)
{
	return ist_wire_message_equal(&a->message, &b->message) &&
	       ist_wire_inclusion_proof_equal(&a->message_proof, &b->message_proof) &&
	       ist_wire_checkpoint_equal(&a->checkpoint, &b->checkpoint) &&
	       ist_wire_inclusion_proof_equal(&a->checkpoint_proof, &b->checkpoint_proof) &&
	       ist_wire_certificate_equal(&a->certificate, &b->certificate);
}

bool ist_wire_tx_equal(const struct ist_tx *a, const struct ist_tx *b)
{
	if (!(SAME(network_id) && SAME_BYTES(sender) && SAME(nonce) && SAME(fee) && SAME(kind) &&
	      SAME_BYTES(signature)))
		return false;
	switch (a->kind) {
	case IST_TX_TRANSFER:
		return SAME_BYTES(u.transfer.to) && SAME(u.transfer.amount);
	case IST_TX_REGISTER_VALIDATOR:
		return SAME_BYTES(u.register_validator.node_key) && SAME_BYTES(u.register_validator.attest_key) &&
		       SAME_BYTES(u.register_validator.dkg_key) && SAME(u.register_validator.commission_bps) &&
		       SAME(u.register_validator.address_len) &&
		       a->u.register_validator.address_len <= IST_WIRE_MAX_ADDRESS_BYTES &&
		       memcmp(a->u.register_validator.address, b->u.register_validator.address,
			      a->u.register_validator.address_len) == 0;
	case IST_TX_BOND:
		return SAME_BYTES(u.bond.validator) && SAME(u.bond.amount);
	case IST_TX_UNBOND:
		return SAME_BYTES(u.unbond.validator) && SAME(u.unbond.amount);
	case IST_TX_WITHDRAW:
	case IST_TX_UNJAIL:
		return true;
	case IST_TX_GOV_PROPOSE:
		return SAME(u.gov_propose.action) && SAME(u.gov_propose.chain) && SAME(u.gov_propose.src_chain) &&
		       SAME(u.gov_propose.dst_chain) && SAME(u.gov_propose.voting_blocks) && SAME(u.gov_propose.window_blocks) &&
		       SAME(u.gov_propose.max_count) && SAME(u.gov_propose.max_value) && SAME(u.gov_propose.high_value) &&
		       SAME(u.gov_propose.delay_blocks) && SAME(u.gov_propose.release_through) &&
		       SAME(u.gov_propose.param) && SAME(u.gov_propose.param_value);
	case IST_TX_GOV_VOTE:
		return SAME(u.gov_vote.proposal) && SAME(u.gov_vote.approve);
	}
	return true;
}

bool ist_wire_qc_equal(const struct ist_qc *a, const struct ist_qc *b)
{
	return SAME(epoch) && SAME(view) && SAME_BYTES(block_id) && SAME_BYTES(signers) && SAME(n_sigs) &&
	       a->n_sigs <= IST_WIRE_MAX_VALIDATORS && memcmp(a->sigs, b->sigs, a->n_sigs * sizeof(a->sigs[0])) == 0;
}

bool ist_wire_tc_equal(const struct ist_tc *a, const struct ist_tc *b)
{
	return SAME(epoch) && SAME(view) && SAME_BYTES(signers) && SAME(n_sigs) &&
	       a->n_sigs <= IST_WIRE_MAX_VALIDATORS &&
	       memcmp(a->high_qc_views, b->high_qc_views, a->n_sigs * sizeof(a->high_qc_views[0])) == 0 &&
	       memcmp(a->sigs, b->sigs, a->n_sigs * sizeof(a->sigs[0])) == 0 &&
	       ist_wire_qc_equal(&a->high_qc, &b->high_qc);
}

bool ist_wire_payload_item_equal(const struct ist_payload_item *a, const struct ist_payload_item *b)
{
	if (!SAME(kind))
		return false;
	switch (a->kind) {
	case IST_PAYLOAD_CHECKPOINT:
		return ist_wire_checkpoint_equal(&a->u.checkpoint, &b->u.checkpoint);
	case IST_PAYLOAD_TRANSACTION:
		return ist_wire_tx_equal(&a->u.tx, &b->u.tx);
	case IST_PAYLOAD_EVIDENCE:
	case IST_PAYLOAD_DKG:
	case IST_PAYLOAD_NONCE_COMMITMENTS:
	case IST_PAYLOAD_DATA:
		return SAME(u.opaque.len) &&
		       (a->u.opaque.len == 0 || memcmp(a->u.opaque.data, b->u.opaque.data, a->u.opaque.len) == 0);
	}
	return true;
}

bool ist_wire_block_equal(const struct ist_block *a, const struct ist_block *b)
{
	if (!(SAME(network_id) && SAME(epoch) && SAME(view) && SAME(height) && SAME_BYTES(parent_id) &&
	      SAME(proposer) && SAME(timestamp_ms) && ist_wire_qc_equal(&a->justify, &b->justify) && SAME(n_items)))
		return false;
	for (size_t i = 0; i < a->n_items; i++)
		if (!ist_wire_payload_item_equal(&a->items[i], &b->items[i]))
			return false;
	return true;
}

bool ist_wire_proposal_equal(const struct ist_proposal *a, const struct ist_proposal *b)
{
	return ist_wire_block_equal(&a->block, &b->block) && SAME(has_tc) &&
	       (!a->has_tc || ist_wire_tc_equal(&a->tc, &b->tc)) && SAME_BYTES(signature);
}

bool ist_wire_vote_equal(const struct ist_vote *a, const struct ist_vote *b)
{
	return SAME(epoch) && SAME(view) && SAME_BYTES(block_id) && SAME(voter) && SAME_BYTES(signature);
}

bool ist_wire_timeout_equal(const struct ist_timeout *a, const struct ist_timeout *b)
{
	return SAME(epoch) && SAME(view) && ist_wire_qc_equal(&a->high_qc, &b->high_qc) && SAME(voter) &&
	       SAME_BYTES(signature);
}

bool ist_wire_envelope_equal(const struct ist_envelope *a, const struct ist_envelope *b)
{
	if (!SAME(kind))
		return false;
	switch (a->kind) {
	case IST_ENVELOPE_PROPOSAL:
		return ist_wire_proposal_equal(&a->u.proposal, &b->u.proposal);
	case IST_ENVELOPE_VOTE:
		return ist_wire_vote_equal(&a->u.vote, &b->u.vote);
	case IST_ENVELOPE_TIMEOUT:
		return ist_wire_timeout_equal(&a->u.timeout, &b->u.timeout);
	case IST_ENVELOPE_ATTEST_SHARE: {
		const struct ist_attest_share *x = &a->u.attest_share, *y = &b->u.attest_share;
		return x->epoch == y->epoch && x->height == y->height && x->signer == y->signer &&
		       memcmp(x->batch_root, y->batch_root, IST_HASH_BYTES) == 0 &&
		       memcmp(x->signature, y->signature, IST_SECP_SIG_BYTES) == 0;
	}
	case IST_ENVELOPE_EPOCH_REQUEST:
		return a->u.epoch_request.epoch == b->u.epoch_request.epoch;
	case IST_ENVELOPE_FROST:
		return a->u.frost.len == b->u.frost.len && memcmp(a->u.frost.data, b->u.frost.data, a->u.frost.len) == 0;
	case IST_ENVELOPE_BLOCK_REQUEST:
		return memcmp(a->u.block_request.block_id, b->u.block_request.block_id, IST_HASH_BYTES) == 0 &&
		       a->u.block_request.max_blocks == b->u.block_request.max_blocks;
	case IST_ENVELOPE_BLOCK_RESPONSE: {
		const struct ist_block_response *x = &a->u.block_response, *y = &b->u.block_response;
		if (x->n_blocks != y->n_blocks || x->has_qc != y->has_qc)
			return false;
		for (size_t i = 0; i < x->n_blocks; i++)
			if (!ist_wire_block_equal(&x->blocks[i], &y->blocks[i]))
				return false;
		return !x->has_qc || ist_wire_qc_equal(&x->qc, &y->qc);
	}
	}
	return true;
}

#undef SAME
#undef SAME_BYTES

/* ---- Signer bitmaps ---- */

bool ist_wire_bitmap_get(const uint8_t bitmap[IST_WIRE_BITMAP_BYTES], unsigned index)
{
	if (index >= IST_WIRE_MAX_VALIDATORS)
		return false;
	return (bitmap[index / 8] >> (index % 8)) & 1;
}

int ist_wire_bitmap_set(uint8_t bitmap[IST_WIRE_BITMAP_BYTES], unsigned index)
{
	if (index >= IST_WIRE_MAX_VALIDATORS)
		return -IST_ERANGE;
	bitmap[index / 8] |= (uint8_t)(1u << (index % 8));
	return 0;
}

size_t ist_wire_bitmap_count(const uint8_t bitmap[IST_WIRE_BITMAP_BYTES])
{
	size_t n = 0;
	for (size_t i = 0; i < IST_WIRE_BITMAP_BYTES; i++)
		n += (size_t)__builtin_popcount(bitmap[i]);
	return n;
}
