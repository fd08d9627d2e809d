#include "samples.h"

#include <stdlib.h>
#include <string.h>

void sample_fill(uint8_t *p, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		abort();
	return p;
}

void sample_message(struct ist_message *m, size_t payload_len)
{
	memset(m, 0, sizeof(*m));
	m->src_chain = 1;
	m->dst_chain = 2;
	m->nonce = 9;
	sample_fill(m->sender, sizeof(m->sender), 0x11);
	sample_fill(m->recipient, sizeof(m->recipient), 0x22);
	m->value = 1000;
	if (payload_len) {
		m->payload = xmalloc(payload_len);
		for (size_t i = 0; i < payload_len; i++)
			m->payload[i] = (uint8_t)(i * 31 + 7);
	}
	m->payload_len = payload_len;
}

void sample_checkpoint(struct ist_checkpoint *cp, unsigned seed)
{
	memset(cp, 0, sizeof(*cp));
	cp->src_chain = 1;
	cp->dst_chain = 2;
	cp->src_height = 1000 + seed;
	cp->tree_size = 10 + seed;
	sample_fill(cp->root, sizeof(cp->root), (uint8_t)(0xa0 + seed));
}

void sample_proof(struct ist_inclusion_proof *p, size_t depth, uint8_t seed)
{
	memset(p, 0, sizeof(*p));
	p->leaf_index = 5;
	p->tree_size = 12;
	for (size_t i = 0; i < depth; i++)
		sample_fill(p->path[i], IST_HASH_BYTES, (uint8_t)(seed + i));
	p->path_len = depth;
}

/* What the samples of both schemes share. */
static void certificate_head(struct ist_certificate *cert, enum ist_cert_scheme scheme)
{
	memset(cert, 0, sizeof(*cert));
	cert->scheme = scheme;
	cert->network_id = SAMPLE_NETWORK_ID;
	cert->epoch = 2;
	cert->height = 100;
	sample_fill(cert->batch_root, sizeof(cert->batch_root), 0x33);
}

void sample_certificate_multisig(struct ist_certificate *cert, size_t n_signers)
{
	certificate_head(cert, IST_CERT_MULTISIG_SECP256K1);
	for (size_t k = 0; k < n_signers; k++) {
		if (ist_wire_bitmap_set(cert->signers, (unsigned)k) < 0)
			abort();
		sample_fill(cert->sigs[k], IST_SECP_SIG_BYTES, (uint8_t)(0xc0 + k));
	}
	cert->n_sigs = n_signers;
}

void sample_certificate_frost(struct ist_certificate *cert)
{
	certificate_head(cert, IST_CERT_FROST_ED25519);
	sample_fill(cert->group_key, sizeof(cert->group_key), 0x44);
	sample_fill(cert->frost_sig, sizeof(cert->frost_sig), 0x55);
}

void sample_delivery(struct ist_delivery *d)
{
	memset(d, 0, sizeof(*d));
	sample_message(&d->message, 20);
	sample_proof(&d->message_proof, 4, 0x10);
	sample_checkpoint(&d->checkpoint, 0);
	sample_proof(&d->checkpoint_proof, 2, 0x60);
	sample_certificate_multisig(&d->certificate, 3);
}

void sample_tx(struct ist_tx *tx, enum ist_tx_kind kind)
{
	static const char address[] = "tcp://10.0.0.1:7000";
	memset(tx, 0, sizeof(*tx));
	tx->network_id = SAMPLE_NETWORK_ID;
	sample_fill(tx->sender, sizeof(tx->sender), 0x66);
	tx->nonce = 3;
	tx->fee = 10;
	tx->kind = kind;
	sample_fill(tx->signature, sizeof(tx->signature), 0x77);
	switch (kind) {
	case IST_TX_TRANSFER:
		sample_fill(tx->u.transfer.to, sizeof(tx->u.transfer.to), 0x88);
		tx->u.transfer.amount = 500;
		break;
	case IST_TX_REGISTER_VALIDATOR:
		sample_fill(tx->u.register_validator.node_key, IST_ED25519_PUBKEY_BYTES, 0x01);
		sample_fill(tx->u.register_validator.attest_key, IST_SECP_PUBKEY_BYTES, 0x02);
		sample_fill(tx->u.register_validator.dkg_key, IST_X25519_PUBKEY_BYTES, 0x03);
		tx->u.register_validator.commission_bps = 250;
		memcpy(tx->u.register_validator.address, address, sizeof(address));
		tx->u.register_validator.address_len = sizeof(address) - 1;
		break;
	case IST_TX_BOND:
		sample_fill(tx->u.bond.validator, IST_ED25519_PUBKEY_BYTES, 0x01);
		tx->u.bond.amount = 1000;
		break;
	case IST_TX_UNBOND:
		sample_fill(tx->u.unbond.validator, IST_ED25519_PUBKEY_BYTES, 0x01);
		tx->u.unbond.amount = 400;
		break;
	case IST_TX_WITHDRAW:
	case IST_TX_UNJAIL:
		break;
	case IST_TX_GOV_PROPOSE:
		tx->u.gov_propose.action = IST_GOV_PAUSE_ROUTE;
		tx->u.gov_propose.src_chain = 1;
		tx->u.gov_propose.dst_chain = 2;
		tx->u.gov_propose.voting_blocks = 100;
		break;
	case IST_TX_GOV_VOTE:
		tx->u.gov_vote.proposal = 3;
		tx->u.gov_vote.approve = true;
		break;
	}
}

void sample_qc(struct ist_qc *qc, size_t n_signers)
{
	memset(qc, 0, sizeof(*qc));
	qc->epoch = 2;
	qc->view = 41;
	sample_fill(qc->block_id, sizeof(qc->block_id), 0x20);
	for (size_t k = 0; k < n_signers; k++) {
		if (ist_wire_bitmap_set(qc->signers, (unsigned)(3 * k)) < 0)
			abort();
		sample_fill(qc->sigs[k], IST_SIG_BYTES, (uint8_t)(0x80 + k));
	}
	qc->n_sigs = n_signers;
}

void sample_tc(struct ist_tc *tc, size_t n_signers)
{
	memset(tc, 0, sizeof(*tc));
	tc->epoch = 2;
	tc->view = 43;
	for (size_t k = 0; k < n_signers; k++) {
		if (ist_wire_bitmap_set(tc->signers, (unsigned)(2 * k)) < 0)
			abort();
		tc->high_qc_views[k] = 40 + k % 2;
		sample_fill(tc->sigs[k], IST_SIG_BYTES, (uint8_t)(0x90 + k));
	}
	tc->n_sigs = n_signers;
	sample_qc(&tc->high_qc, 3);
}

static void opaque(struct ist_payload_item *it, enum ist_payload_kind kind, const char *text)
{
	it->kind = kind;
	it->u.opaque.len = strlen(text);
	it->u.opaque.data = xmalloc(it->u.opaque.len);
	memcpy(it->u.opaque.data, text, it->u.opaque.len);
}

void sample_block(struct ist_block *b, size_t n_items)
{
	memset(b, 0, sizeof(*b));
	b->network_id = SAMPLE_NETWORK_ID;
	b->epoch = 2;
	b->view = 42;
	b->height = 17;
	sample_fill(b->parent_id, sizeof(b->parent_id), 0x20);
	b->proposer = 3;
	b->timestamp_ms = 1700000000000ull;
	sample_qc(&b->justify, 3);
	if (n_items) {
		b->items = calloc(n_items, sizeof(*b->items));
		if (!b->items)
			abort();
	}
	for (size_t i = 0; i < n_items; i++) {
		struct ist_payload_item *it = &b->items[i];
		switch (i % 7) {
		case 0:
			it->kind = IST_PAYLOAD_CHECKPOINT;
			sample_checkpoint(&it->u.checkpoint, (unsigned)i);
			break;
		case 1:
			it->kind = IST_PAYLOAD_TRANSACTION;
			sample_tx(&it->u.tx, IST_TX_TRANSFER);
			it->u.tx.nonce += i;
			break;
		case 2:
			opaque(it, IST_PAYLOAD_EVIDENCE, "evidence");
			break;
		case 3:
			opaque(it, IST_PAYLOAD_DKG, "dkg round 1");
			break;
		case 4:
			opaque(it, IST_PAYLOAD_NONCE_COMMITMENTS, "nonces");
			break;
		case 5:
			it->kind = IST_PAYLOAD_TRANSACTION;
			sample_tx(&it->u.tx, IST_TX_REGISTER_VALIDATOR);
			break;
		case 6:
			opaque(it, IST_PAYLOAD_DATA, "application data");
			break;
		}
	}
	b->n_items = n_items;
}

void sample_proposal(struct ist_proposal *p, size_t n_items, int with_tc)
{
	memset(p, 0, sizeof(*p));
	sample_block(&p->block, n_items);
	if (with_tc) {
		p->has_tc = true;
		sample_tc(&p->tc, 3);
	}
	sample_fill(p->signature, sizeof(p->signature), 0x99);
}

void sample_vote(struct ist_vote *v)
{
	memset(v, 0, sizeof(*v));
	v->epoch = 2;
	v->view = 42;
	sample_fill(v->block_id, sizeof(v->block_id), 0x00);
	v->voter = 5;
	sample_fill(v->signature, sizeof(v->signature), 0x40);
}

void sample_timeout(struct ist_timeout *t)
{
	memset(t, 0, sizeof(*t));
	t->epoch = 2;
	t->view = 43;
	sample_qc(&t->high_qc, 3);
	t->voter = 7;
	sample_fill(t->signature, sizeof(t->signature), 0x50);
}

void sample_envelope(struct ist_envelope *e, enum ist_envelope_kind kind)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	if (kind == IST_ENVELOPE_BLOCK_REQUEST) {
		sample_fill(e->u.block_request.block_id, IST_HASH_BYTES, 0x51);
		e->u.block_request.max_blocks = IST_WIRE_MAX_SYNC_BLOCKS;
		return;
	}
	if (kind == IST_ENVELOPE_BLOCK_RESPONSE) {
		struct ist_block_response *r = &e->u.block_response;
		r->n_blocks = 3;
		r->blocks = calloc(r->n_blocks, sizeof(*r->blocks));
		if (!r->blocks)
			abort();
		for (size_t i = 0; i < r->n_blocks; i++)
			sample_block(&r->blocks[i], i);
		r->has_qc = true;
		sample_qc(&r->qc, 3);
		return;
	}
	switch (kind) {
	case IST_ENVELOPE_PROPOSAL:
		sample_proposal(&e->u.proposal, 4, 1);
		break;
	case IST_ENVELOPE_VOTE:
		sample_vote(&e->u.vote);
		break;
	case IST_ENVELOPE_TIMEOUT:
		sample_timeout(&e->u.timeout);
		break;
	case IST_ENVELOPE_ATTEST_SHARE:
		e->u.attest_share.epoch = 2;
		e->u.attest_share.height = 77;
		sample_fill(e->u.attest_share.batch_root, IST_HASH_BYTES, 0x61);
		e->u.attest_share.signer = 3;
		sample_fill(e->u.attest_share.signature, IST_SECP_SIG_BYTES, 0x62);
		break;
	case IST_ENVELOPE_EPOCH_REQUEST:
		e->u.epoch_request.epoch = 5;
		break;
	case IST_ENVELOPE_FROST:
		e->u.frost.len = 40;
		sample_fill(e->u.frost.data, 40, 0x63);
		break;
	case IST_ENVELOPE_BLOCK_REQUEST:
	case IST_ENVELOPE_BLOCK_RESPONSE:
		break;   /* handled above */
	}
}

/* ---- protobuf writer ---- */

void pbw_varint(struct ist_buf *b, uint64_t v)
{
	do {
		uint8_t byte = v & 0x7f;
		v >>= 7;
		if (v)
			byte |= 0x80;
		ist_buf_put_u8(b, byte);
	} while (v);
}

void pbw_tag(struct ist_buf *b, unsigned field, unsigned wire_type)
{
	pbw_varint(b, ((uint64_t)field << 3) | wire_type);
}

void pbw_u64(struct ist_buf *b, unsigned field, uint64_t v)
{
	pbw_tag(b, field, 0);
	pbw_varint(b, v);
}

void pbw_bytes(struct ist_buf *b, unsigned field, const void *p, size_t n)
{
	pbw_tag(b, field, 2);
	pbw_varint(b, n);
	ist_buf_put(b, p, n);
}

void pbw_msg(struct ist_buf *b, unsigned field, const struct ist_buf *inner)
{
	pbw_bytes(b, field, inner->data, inner->len);
}
