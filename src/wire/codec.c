/*
 * protobuf-c <-> native structs.
 *
 * Decoding runs in three stages, so that no stage trusts the one before:
 *   1. the length against the kind's limit, before protobuf-c sees a byte;
 *   2. protobuf-c unpacks under a memory budget (an allocator that refuses
 *      to hand out more than 64 KiB + 4 * len in total: an encoding of many
 *      empty items or unknown fields would otherwise make it allocate tens
 *      of bytes per byte received);
 *   3. <kind>_from_pb copies into the native struct what has the expected
 *      shape (fixed lengths, counts within limits before any copy, required
 *      sub-messages, oneofs, nested encoded sizes), then <kind>_check
 *      verifies the native struct against the rules that encoding checks
 *      too. Sharing the check is what makes "whatever encodes, decodes" hold.
 *
 * Encoding runs <kind>_check, builds a protobuf-c tree that borrows the
 * native struct's bytes (its allocations are tracked in the context and
 * released together), checks the nested encoded sizes as decoding does, and
 * packs. protobuf-c packs fields in field-number order and we never set a
 * default-valued field differently, so the encoding is deterministic.
 *
 * Every failure records one static reason string (the first one wins).
 */
#include "wire/codec.h"

#include <protobuf-c/protobuf-c.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "attest.pb-c.h"
#include "consensus.pb-c.h"
#include "envelope.pb-c.h"
#include "ledger.pb-c.h"

#define DECODE_BUDGET_BASE (64 * 1024)
#define DECODE_BUDGET_FACTOR 4

static const char reason_nomem[] = "out of memory";

/* ---- Context: the first error, its reason, and the encoder's allocations ---- */

struct ctx {
	int err;
	const char *reason;
	/* the code for a broken rule that is not a size: -IST_EPARSE when
	 * decoding (the input is malformed), -IST_EINVAL when encoding (the
	 * caller's struct is) */
	int bad;
	void **allocs;
	size_t n_allocs;
	size_t cap_allocs;
};

static int fail(struct ctx *c, int err, const char *reason)
{
	if (!c->err) {
		c->err = err;
		c->reason = reason;
	}
	return c->err;
}

static int bad(struct ctx *c, const char *reason) { return fail(c, c->bad, reason); }
static int toobig(struct ctx *c, const char *reason) { return fail(c, -IST_ETOOBIG, reason); }

#define TRY(expr)                       \
	do {                            \
		int try_r_ = (expr);    \
		if (try_r_ < 0)         \
			return try_r_;  \
	} while (0)

/* Zeroed memory for the encoder's protobuf-c tree, freed by ctx_release. */
static void *ctx_alloc(struct ctx *c, size_t size)
{
	if (c->err)
		return NULL;
	if (c->n_allocs == c->cap_allocs) {
		size_t cap = c->cap_allocs ? 2 * c->cap_allocs : 16;
		void **a = realloc(c->allocs, cap * sizeof(*a));
		if (!a) {
			fail(c, -IST_ENOMEM, reason_nomem);
			return NULL;
		}
		c->allocs = a;
		c->cap_allocs = cap;
	}
	void *p = calloc(1, size ? size : 1);
	if (!p) {
		fail(c, -IST_ENOMEM, reason_nomem);
		return NULL;
	}
	c->allocs[c->n_allocs++] = p;
	return p;
}

static void *ctx_array(struct ctx *c, size_t n, size_t size)
{
	if (n == 0)
		return NULL;
	if (n > SIZE_MAX / size) {
		fail(c, -IST_ENOMEM, reason_nomem);
		return NULL;
	}
	return ctx_alloc(c, n * size);
}

static void ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->n_allocs; i++)
		free(c->allocs[i]);
	free(c->allocs);
	c->allocs = NULL;
	c->n_allocs = c->cap_allocs = 0;
}

/* ---- The unpacker's memory budget ---- */

struct budget {
	ProtobufCAllocator alloc;
	size_t left;
	bool over;
	bool nomem;
};

static void *budget_alloc(void *data, size_t size)
{
	struct budget *b = data;
	if (size == 0)
		size = 1;
	if (size > b->left) {
		b->over = true;
		return NULL;
	}
	void *p = malloc(size);
	if (!p) {
		b->nomem = true;
		return NULL;
	}
	b->left -= size;
	return p;
}

static void budget_free(void *data, void *p)
{
	(void)data;
	free(p);
}

/* ---- Shared field helpers ---- */

static ProtobufCBinaryData bin(const void *p, size_t len)
{
	ProtobufCBinaryData b = { .len = len, .data = (uint8_t *)p };
	return b;
}

/* A fixed-size bytes field: exactly n bytes. */
static int get_fixed(struct ctx *c, const ProtobufCBinaryData *bd, void *out, size_t n, const char *reason)
{
	if (bd->len != n)
		return bad(c, reason);
	memcpy(out, bd->data, n);
	return 0;
}

/* A signer bitmap: up to IST_WIRE_BITMAP_BYTES, missing bytes are zero. */
static int get_bitmap(struct ctx *c, const ProtobufCBinaryData *bd, uint8_t out[IST_WIRE_BITMAP_BYTES],
		      const char *reason)
{
	if (bd->len > IST_WIRE_BITMAP_BYTES)
		return toobig(c, reason);
	memset(out, 0, IST_WIRE_BITMAP_BYTES);
	if (bd->len)
		memcpy(out, bd->data, bd->len);
	return 0;
}

/* The shortest encoding of a bitmap: without trailing zero bytes. */
static ProtobufCBinaryData put_bitmap(const uint8_t bitmap[IST_WIRE_BITMAP_BYTES])
{
	size_t n = IST_WIRE_BITMAP_BYTES;
	while (n > 0 && bitmap[n - 1] == 0)
		n--;
	return bin(bitmap, n);
}

/* A sub-message must fit its own kind's limit, so that what is accepted
 * nested can be stored and decoded alone. Checked alike on both paths. */
static int nested_size(struct ctx *c, const ProtobufCMessage *m, size_t max, const char *reason)
{
	if (protobuf_c_message_get_packed_size(m) > max)
		return toobig(c, reason);
	return 0;
}

/* A oneof with nothing we know: a newer peer's kind (the unknown field is
 * kept by protobuf-c) or nothing at all. */
static int unknown_kind(struct ctx *c, const ProtobufCMessage *m, const char *unsupported, const char *missing)
{
	if (m->n_unknown_fields > 0)
		return fail(c, -IST_EUNSUPPORTED, unsupported);
	return bad(c, missing);
}

/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF; and no NUL, which C strings could not carry. */
static bool utf8_text_ok(const uint8_t *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint8_t b = s[i];
		if (b == 0)
			return false;
		if (b < 0x80) {
			i++;
			continue;
		}
		size_t n;
		uint32_t cp, min;
		if ((b & 0xe0) == 0xc0) {
			n = 1; cp = b & 0x1f; min = 0x80;
		} else if ((b & 0xf0) == 0xe0) {
			n = 2; cp = b & 0x0f; min = 0x800;
		} else if ((b & 0xf8) == 0xf0) {
			n = 3; cp = b & 0x07; min = 0x10000;
		} else {
			return false;
		}
		if (n > len - i - 1)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* ======================================================================
 * Checks of native structs: shared by decode (after conversion) and encode
 * (before). Sizes give -IST_ETOOBIG, everything else c->bad.
 * ====================================================================== */

static int message_check(struct ctx *c, const struct ist_message *m)
{
	if (m->payload_len > IST_WIRE_MAX_MSG_PAYLOAD)
		return toobig(c, "message.payload: too long");
	if (m->payload_len && !m->payload)
		return bad(c, "message.payload: missing");
	return 0;
}

static int proof_check(struct ctx *c, const struct ist_inclusion_proof *p)
{
	if (p->path_len > IST_WIRE_MAX_PROOF_DEPTH)
		return toobig(c, "inclusion_proof.path: too long");
	return 0;
}

static int signers_check(struct ctx *c, const uint8_t signers[IST_WIRE_BITMAP_BYTES], size_t n_sigs,
			 const char *too_many, const char *mismatch)
{
	if (n_sigs > IST_WIRE_MAX_VALIDATORS)
		return toobig(c, too_many);
	if (ist_wire_bitmap_count(signers) != n_sigs)
		return bad(c, mismatch);
	return 0;
}

static int certificate_check(struct ctx *c, const struct ist_certificate *cert)
{
	switch (cert->scheme) {
	case IST_CERT_MULTISIG_SECP256K1:
		return signers_check(c, cert->signers, cert->n_sigs, "certificate.signatures: too many",
				     "certificate.signatures: count differs from signers");
	case IST_CERT_FROST_ED25519:
		return 0;
	}
	return bad(c, "certificate.scheme: unknown");
}

static int delivery_check(struct ctx *c, const struct ist_delivery *d)
{
	TRY(message_check(c, &d->message));
	TRY(proof_check(c, &d->message_proof));
	TRY(proof_check(c, &d->checkpoint_proof));
	return certificate_check(c, &d->certificate);
}

static int tx_check(struct ctx *c, const struct ist_tx *tx)
{
	switch (tx->kind) {
	case IST_TX_TRANSFER:
	case IST_TX_BOND:
	case IST_TX_UNBOND:
	case IST_TX_WITHDRAW:
	case IST_TX_UNJAIL:
	case IST_TX_GOV_PROPOSE:
	case IST_TX_GOV_VOTE:
		return 0;
	case IST_TX_REGISTER_VALIDATOR: {
		const typeof(tx->u.register_validator) *r = &tx->u.register_validator;
		if (r->address_len > IST_WIRE_MAX_ADDRESS_BYTES)
			return toobig(c, "tx.register_validator.address: too long");
		if (r->address_len == 0)
			return bad(c, "tx.register_validator.address: empty");
		if (!utf8_text_ok((const uint8_t *)r->address, r->address_len))
			return bad(c, "tx.register_validator.address: not UTF-8 text");
		if (r->commission_bps > IST_WIRE_MAX_COMMISSION_BPS)
			return toobig(c, "tx.register_validator.commission_bps: over 10000");
		return 0;
	}
	}
	return bad(c, "tx.body: unknown kind");
}

static int qc_check(struct ctx *c, const struct ist_qc *qc)
{
	return signers_check(c, qc->signers, qc->n_sigs, "qc.signatures: too many",
			     "qc.signatures: count differs from signers");
}

static int tc_check(struct ctx *c, const struct ist_tc *tc)
{
	TRY(signers_check(c, tc->signers, tc->n_sigs, "tc.signatures: too many",
			  "tc.signatures: count differs from signers"));
	return qc_check(c, &tc->high_qc);
}

static int item_check(struct ctx *c, const struct ist_payload_item *it)
{
	switch (it->kind) {
	case IST_PAYLOAD_CHECKPOINT:
		return 0;
	case IST_PAYLOAD_TRANSACTION:
		return tx_check(c, &it->u.tx);
	case IST_PAYLOAD_EVIDENCE:
	case IST_PAYLOAD_DKG:
	case IST_PAYLOAD_NONCE_COMMITMENTS:
	case IST_PAYLOAD_DATA:
		if (it->u.opaque.len > ist_wire_payload_opaque_max(it->kind))
			return toobig(c, "payload_item: opaque item too long");
		if (it->u.opaque.len == 0 || !it->u.opaque.data)
			return bad(c, "payload_item: opaque item empty");
		return 0;
	}
	return bad(c, "payload_item: unknown kind");
}

static int block_check(struct ctx *c, const struct ist_block *b)
{
	if (b->proposer >= IST_WIRE_MAX_VALIDATORS)
		return toobig(c, "block.proposer: index out of range");
	TRY(qc_check(c, &b->justify));
	if (b->n_items > IST_WIRE_MAX_BLOCK_ITEMS)
		return toobig(c, "block.payload: too many items");
	if (b->n_items && !b->items)
		return bad(c, "block.payload: missing");
	for (size_t i = 0; i < b->n_items; i++)
		TRY(item_check(c, &b->items[i]));
	return 0;
}

static int proposal_check(struct ctx *c, const struct ist_proposal *p)
{
	TRY(block_check(c, &p->block));
	if (p->has_tc)
		TRY(tc_check(c, &p->tc));
	return 0;
}

static int vote_check(struct ctx *c, const struct ist_vote *v)
{
	if (v->voter >= IST_WIRE_MAX_VALIDATORS)
		return toobig(c, "vote.voter: index out of range");
	return 0;
}

static int timeout_check(struct ctx *c, const struct ist_timeout *t)
{
	if (t->voter >= IST_WIRE_MAX_VALIDATORS)
		return toobig(c, "timeout.voter: index out of range");
	return qc_check(c, &t->high_qc);
}

static int block_request_check(struct ctx *c, const struct ist_block_request *r)
{
	if (r->max_blocks == 0)
		return bad(c, "block_request.max_blocks: zero");
	if (r->max_blocks > IST_WIRE_MAX_SYNC_BLOCKS)
		return toobig(c, "block_request.max_blocks: too many");
	return 0;
}

static int block_response_check(struct ctx *c, const struct ist_block_response *r)
{
	if (r->n_blocks == 0)
		return bad(c, "block_response.blocks: empty");
	if (r->n_blocks > IST_WIRE_MAX_SYNC_BLOCKS)
		return toobig(c, "block_response.blocks: too many");
	if (!r->blocks)
		return bad(c, "block_response.blocks: missing");
	for (size_t i = 0; i < r->n_blocks; i++)
		TRY(block_check(c, &r->blocks[i]));
	if (r->has_qc)
		TRY(qc_check(c, &r->qc));
	return 0;
}

static int envelope_check(struct ctx *c, const struct ist_envelope *e)
{
	switch (e->kind) {
	case IST_ENVELOPE_BLOCK_REQUEST:
		return block_request_check(c, &e->u.block_request);
	case IST_ENVELOPE_BLOCK_RESPONSE:
		return block_response_check(c, &e->u.block_response);
	case IST_ENVELOPE_EPOCH_REQUEST:
		return 0;
	case IST_ENVELOPE_FROST:
		if (e->u.frost.len < 1 || e->u.frost.len > IST_WIRE_MAX_FROST_MSG_BYTES)
			return toobig(c, "frost.data: must hold 1 to 32768 bytes");
		return 0;
	case IST_ENVELOPE_ATTEST_SHARE:
		if (e->u.attest_share.signer >= IST_WIRE_MAX_VALIDATORS)
			return toobig(c, "attest_share.signer: index out of range");
		return 0;
	case IST_ENVELOPE_PROPOSAL:
		return proposal_check(c, &e->u.proposal);
	case IST_ENVELOPE_VOTE:
		return vote_check(c, &e->u.vote);
	case IST_ENVELOPE_TIMEOUT:
		return timeout_check(c, &e->u.timeout);
	}
	return bad(c, "envelope: unknown kind");
}

static int checkpoint_check(struct ctx *c, const struct ist_checkpoint *cp)
{
	(void)c;
	(void)cp;
	return 0;
}

/* ======================================================================
 * protobuf-c -> native (decode)
 * ====================================================================== */

static int message_from_pb(struct ctx *c, const Isthmus__V1__Message *pb, struct ist_message *m)
{
	m->src_chain = pb->src_chain;
	m->dst_chain = pb->dst_chain;
	m->nonce = pb->nonce;
	m->value = pb->value;
	TRY(get_fixed(c, &pb->sender, m->sender, sizeof(m->sender), "message.sender: wrong length"));
	TRY(get_fixed(c, &pb->recipient, m->recipient, sizeof(m->recipient), "message.recipient: wrong length"));
	if (pb->payload.len > IST_WIRE_MAX_MSG_PAYLOAD)
		return toobig(c, "message.payload: too long");
	if (pb->payload.len) {
		m->payload = malloc(pb->payload.len);
		if (!m->payload)
			return fail(c, -IST_ENOMEM, reason_nomem);
		memcpy(m->payload, pb->payload.data, pb->payload.len);
		m->payload_len = pb->payload.len;
	}
	return 0;
}

static int checkpoint_from_pb(struct ctx *c, const Isthmus__V1__Checkpoint *pb, struct ist_checkpoint *cp)
{
	cp->src_chain = pb->src_chain;
	cp->dst_chain = pb->dst_chain;
	cp->src_height = pb->src_height;
	cp->tree_size = pb->tree_size;
	return get_fixed(c, &pb->root, cp->root, sizeof(cp->root), "checkpoint.root: wrong length");
}

static int proof_from_pb(struct ctx *c, const Isthmus__V1__InclusionProof *pb, struct ist_inclusion_proof *p)
{
	p->leaf_index = pb->leaf_index;
	p->tree_size = pb->tree_size;
	if (pb->n_path > IST_WIRE_MAX_PROOF_DEPTH)
		return toobig(c, "inclusion_proof.path: too long");
	for (size_t i = 0; i < pb->n_path; i++)
		TRY(get_fixed(c, &pb->path[i], p->path[i], IST_HASH_BYTES, "inclusion_proof.path: wrong hash length"));
	p->path_len = pb->n_path;
	return 0;
}

static int certificate_from_pb(struct ctx *c, const Isthmus__V1__Certificate *pb, struct ist_certificate *cert)
{
	cert->network_id = pb->network_id;
	cert->epoch = pb->epoch;
	cert->height = pb->height;
	TRY(get_fixed(c, &pb->batch_root, cert->batch_root, sizeof(cert->batch_root),
		      "certificate.batch_root: wrong length"));
	switch (pb->scheme) {
	case ISTHMUS__V1__CERT_SCHEME__CERT_SCHEME_MULTISIG_SECP256K1: {
		cert->scheme = IST_CERT_MULTISIG_SECP256K1;
		if (pb->signatures_case != ISTHMUS__V1__CERTIFICATE__SIGNATURES_MULTISIG)
			return bad(c, "certificate: signatures do not match the scheme");
		const Isthmus__V1__MultisigSignatures *ms = pb->multisig;
		TRY(get_bitmap(c, &ms->signers, cert->signers, "certificate.signers: bitmap too long"));
		if (ms->n_signatures > IST_WIRE_MAX_VALIDATORS)
			return toobig(c, "certificate.signatures: too many");
		for (size_t i = 0; i < ms->n_signatures; i++)
			TRY(get_fixed(c, &ms->signatures[i], cert->sigs[i], IST_SECP_SIG_BYTES,
				      "certificate.signatures: wrong length"));
		cert->n_sigs = ms->n_signatures;
		return 0;
	}
	case ISTHMUS__V1__CERT_SCHEME__CERT_SCHEME_FROST_ED25519: {
		cert->scheme = IST_CERT_FROST_ED25519;
		if (pb->signatures_case != ISTHMUS__V1__CERTIFICATE__SIGNATURES_FROST)
			return bad(c, "certificate: signatures do not match the scheme");
		const Isthmus__V1__FrostSignature *fs = pb->frost;
		TRY(get_fixed(c, &fs->group_key, cert->group_key, sizeof(cert->group_key),
			      "certificate.group_key: wrong length"));
		return get_fixed(c, &fs->signature, cert->frost_sig, sizeof(cert->frost_sig),
				 "certificate.signature: wrong length");
	}
	case ISTHMUS__V1__CERT_SCHEME__CERT_SCHEME_UNSPECIFIED:
		return bad(c, "certificate.scheme: missing");
	default:
		/* a scheme of a newer version */
		return fail(c, -IST_EUNSUPPORTED, "certificate.scheme: unknown");
	}
}

static int delivery_from_pb(struct ctx *c, const Isthmus__V1__Delivery *pb, struct ist_delivery *d)
{
	if (!pb->message)
		return bad(c, "delivery.message: missing");
	if (!pb->message_proof)
		return bad(c, "delivery.message_proof: missing");
	if (!pb->checkpoint)
		return bad(c, "delivery.checkpoint: missing");
	if (!pb->checkpoint_proof)
		return bad(c, "delivery.checkpoint_proof: missing");
	if (!pb->certificate)
		return bad(c, "delivery.certificate: missing");
	TRY(nested_size(c, &pb->message->base, IST_WIRE_MAX_MESSAGE_BYTES, "delivery.message: too big"));
	TRY(nested_size(c, &pb->checkpoint->base, IST_WIRE_MAX_CHECKPOINT_BYTES, "delivery.checkpoint: too big"));
	TRY(nested_size(c, &pb->certificate->base, IST_WIRE_MAX_CERTIFICATE_BYTES,
			"delivery.certificate: too big"));
	TRY(message_from_pb(c, pb->message, &d->message));
	TRY(proof_from_pb(c, pb->message_proof, &d->message_proof));
	TRY(checkpoint_from_pb(c, pb->checkpoint, &d->checkpoint));
	TRY(proof_from_pb(c, pb->checkpoint_proof, &d->checkpoint_proof));
	return certificate_from_pb(c, pb->certificate, &d->certificate);
}

static int tx_from_pb(struct ctx *c, const Isthmus__V1__Transaction *pb, struct ist_tx *tx)
{
	tx->network_id = pb->network_id;
	tx->nonce = pb->nonce;
	tx->fee = pb->fee;
	TRY(get_fixed(c, &pb->sender, tx->sender, sizeof(tx->sender), "tx.sender: wrong length"));
	TRY(get_fixed(c, &pb->signature, tx->signature, sizeof(tx->signature), "tx.signature: wrong length"));
	switch (pb->body_case) {
	case ISTHMUS__V1__TRANSACTION__BODY_TRANSFER:
		tx->kind = IST_TX_TRANSFER;
		tx->u.transfer.amount = pb->transfer->amount;
		return get_fixed(c, &pb->transfer->to, tx->u.transfer.to, sizeof(tx->u.transfer.to),
				 "tx.transfer.to: wrong length");
	case ISTHMUS__V1__TRANSACTION__BODY_REGISTER_VALIDATOR: {
		const Isthmus__V1__RegisterValidator *in = pb->register_validator;
		typeof(tx->u.register_validator) *r = &tx->u.register_validator;
		tx->kind = IST_TX_REGISTER_VALIDATOR;
		TRY(get_fixed(c, &in->node_key, r->node_key, sizeof(r->node_key),
			      "tx.register_validator.node_key: wrong length"));
		TRY(get_fixed(c, &in->attest_key, r->attest_key, sizeof(r->attest_key),
			      "tx.register_validator.attest_key: wrong length"));
		TRY(get_fixed(c, &in->dkg_key, r->dkg_key, sizeof(r->dkg_key),
			      "tx.register_validator.dkg_key: wrong length"));
		if (in->address.len > IST_WIRE_MAX_ADDRESS_BYTES)
			return toobig(c, "tx.register_validator.address: too long");
		if (in->address.len)
			memcpy(r->address, in->address.data, in->address.len);
		r->address[in->address.len] = '\0';
		r->address_len = in->address.len;
		r->commission_bps = in->commission_bps;
		return 0;
	}
	case ISTHMUS__V1__TRANSACTION__BODY_BOND:
		tx->kind = IST_TX_BOND;
		tx->u.bond.amount = pb->bond->amount;
		return get_fixed(c, &pb->bond->validator, tx->u.bond.validator, sizeof(tx->u.bond.validator),
				 "tx.bond.validator: wrong length");
	case ISTHMUS__V1__TRANSACTION__BODY_UNBOND:
		tx->kind = IST_TX_UNBOND;
		tx->u.unbond.amount = pb->unbond->amount;
		return get_fixed(c, &pb->unbond->validator, tx->u.unbond.validator, sizeof(tx->u.unbond.validator),
				 "tx.unbond.validator: wrong length");
	case ISTHMUS__V1__TRANSACTION__BODY_WITHDRAW:
		tx->kind = IST_TX_WITHDRAW;
		return 0;
	case ISTHMUS__V1__TRANSACTION__BODY_UNJAIL:
		tx->kind = IST_TX_UNJAIL;
		return 0;
	case ISTHMUS__V1__TRANSACTION__BODY_GOV_PROPOSE:
		tx->kind = IST_TX_GOV_PROPOSE;
		tx->u.gov_propose.action = pb->gov_propose->action;
		tx->u.gov_propose.chain = pb->gov_propose->chain;
		tx->u.gov_propose.src_chain = pb->gov_propose->src_chain;
		tx->u.gov_propose.dst_chain = pb->gov_propose->dst_chain;
		tx->u.gov_propose.voting_blocks = pb->gov_propose->voting_blocks;
		tx->u.gov_propose.window_blocks = pb->gov_propose->window_blocks;
		tx->u.gov_propose.max_count = pb->gov_propose->max_count;
		tx->u.gov_propose.max_value = pb->gov_propose->max_value;
		tx->u.gov_propose.high_value = pb->gov_propose->high_value;
		tx->u.gov_propose.delay_blocks = pb->gov_propose->delay_blocks;
		tx->u.gov_propose.release_through = pb->gov_propose->release_through;
		tx->u.gov_propose.param_value = pb->gov_propose->param_value;
		tx->u.gov_propose.param = pb->gov_propose->param;
		return 0;
	case ISTHMUS__V1__TRANSACTION__BODY_GOV_VOTE:
		tx->kind = IST_TX_GOV_VOTE;
		tx->u.gov_vote.proposal = pb->gov_vote->proposal;
		tx->u.gov_vote.approve = pb->gov_vote->approve;
		return 0;
	default:
		return unknown_kind(c, &pb->base, "tx.body: unknown kind", "tx.body: missing");
	}
}

static int qc_from_pb(struct ctx *c, const Isthmus__V1__QuorumCert *pb, struct ist_qc *qc)
{
	qc->epoch = pb->epoch;
	qc->view = pb->view;
	TRY(get_fixed(c, &pb->block_id, qc->block_id, sizeof(qc->block_id), "qc.block_id: wrong length"));
	TRY(get_bitmap(c, &pb->signers, qc->signers, "qc.signers: bitmap too long"));
	if (pb->n_signatures > IST_WIRE_MAX_VALIDATORS)
		return toobig(c, "qc.signatures: too many");
	for (size_t i = 0; i < pb->n_signatures; i++)
		TRY(get_fixed(c, &pb->signatures[i], qc->sigs[i], IST_SIG_BYTES, "qc.signatures: wrong length"));
	qc->n_sigs = pb->n_signatures;
	return 0;
}

/* A required QC nested in another kind. */
static int nested_qc_from_pb(struct ctx *c, const Isthmus__V1__QuorumCert *pb, struct ist_qc *qc,
			     const char *missing, const char *too_big)
{
	if (!pb)
		return bad(c, missing);
	TRY(nested_size(c, &pb->base, IST_WIRE_MAX_QC_BYTES, too_big));
	return qc_from_pb(c, pb, qc);
}

static int tc_from_pb(struct ctx *c, const Isthmus__V1__TimeoutCert *pb, struct ist_tc *tc)
{
	tc->epoch = pb->epoch;
	tc->view = pb->view;
	TRY(get_bitmap(c, &pb->signers, tc->signers, "tc.signers: bitmap too long"));
	if (pb->n_signatures > IST_WIRE_MAX_VALIDATORS)
		return toobig(c, "tc.signatures: too many");
	if (pb->n_high_qc_views > IST_WIRE_MAX_VALIDATORS)
		return toobig(c, "tc.high_qc_views: too many");
	if (pb->n_high_qc_views != pb->n_signatures)
		return bad(c, "tc.high_qc_views: count differs from signatures");
	for (size_t i = 0; i < pb->n_signatures; i++) {
		TRY(get_fixed(c, &pb->signatures[i], tc->sigs[i], IST_SIG_BYTES, "tc.signatures: wrong length"));
		tc->high_qc_views[i] = pb->high_qc_views[i];
	}
	tc->n_sigs = pb->n_signatures;
	return nested_qc_from_pb(c, pb->high_qc, &tc->high_qc, "tc.high_qc: missing", "tc.high_qc: too big");
}

static int item_from_pb(struct ctx *c, const Isthmus__V1__PayloadItem *pb, struct ist_payload_item *it)
{
	const ProtobufCBinaryData *opaque;
	switch (pb->item_case) {
	case ISTHMUS__V1__PAYLOAD_ITEM__ITEM_CHECKPOINT:
		it->kind = IST_PAYLOAD_CHECKPOINT;
		TRY(nested_size(c, &pb->checkpoint->base, IST_WIRE_MAX_CHECKPOINT_BYTES,
				"payload_item.checkpoint: too big"));
		return checkpoint_from_pb(c, pb->checkpoint, &it->u.checkpoint);
	case ISTHMUS__V1__PAYLOAD_ITEM__ITEM_TRANSACTION:
		it->kind = IST_PAYLOAD_TRANSACTION;
		TRY(nested_size(c, &pb->transaction->base, IST_WIRE_MAX_TX_BYTES, "payload_item.transaction: too big"));
		return tx_from_pb(c, pb->transaction, &it->u.tx);
	case ISTHMUS__V1__PAYLOAD_ITEM__ITEM_EVIDENCE:
		it->kind = IST_PAYLOAD_EVIDENCE;
		opaque = &pb->evidence;
		break;
	case ISTHMUS__V1__PAYLOAD_ITEM__ITEM_DKG:
		it->kind = IST_PAYLOAD_DKG;
		opaque = &pb->dkg;
		break;
	case ISTHMUS__V1__PAYLOAD_ITEM__ITEM_NONCE_COMMITMENTS:
		it->kind = IST_PAYLOAD_NONCE_COMMITMENTS;
		opaque = &pb->nonce_commitments;
		break;
	case ISTHMUS__V1__PAYLOAD_ITEM__ITEM_DATA:
		it->kind = IST_PAYLOAD_DATA;
		opaque = &pb->data;
		break;
	default:
		return unknown_kind(c, &pb->base, "payload_item: unknown kind", "payload_item: missing");
	}
	if (opaque->len > ist_wire_payload_opaque_max(it->kind))
		return toobig(c, "payload_item: opaque item too long");
	if (opaque->len == 0)
		return bad(c, "payload_item: opaque item empty");
	it->u.opaque.data = malloc(opaque->len);
	if (!it->u.opaque.data)
		return fail(c, -IST_ENOMEM, reason_nomem);
	memcpy(it->u.opaque.data, opaque->data, opaque->len);
	it->u.opaque.len = opaque->len;
	return 0;
}

static int block_from_pb(struct ctx *c, const Isthmus__V1__Block *pb, struct ist_block *b)
{
	b->network_id = pb->network_id;
	b->epoch = pb->epoch;
	b->view = pb->view;
	b->height = pb->height;
	b->proposer = pb->proposer;
	b->timestamp_ms = pb->timestamp_ms;
	TRY(get_fixed(c, &pb->parent_id, b->parent_id, sizeof(b->parent_id), "block.parent_id: wrong length"));
	TRY(nested_qc_from_pb(c, pb->justify, &b->justify, "block.justify: missing", "block.justify: too big"));
	if (pb->n_payload > IST_WIRE_MAX_BLOCK_ITEMS)
		return toobig(c, "block.payload: too many items");
	if (pb->n_payload) {
		/* zeroed, so that _fini is safe on the items not converted yet */
		b->items = calloc(pb->n_payload, sizeof(*b->items));
		if (!b->items)
			return fail(c, -IST_ENOMEM, reason_nomem);
		b->n_items = pb->n_payload;
		for (size_t i = 0; i < pb->n_payload; i++)
			TRY(item_from_pb(c, pb->payload[i], &b->items[i]));
	}
	return 0;
}

static int proposal_from_pb(struct ctx *c, const Isthmus__V1__Proposal *pb, struct ist_proposal *p)
{
	if (!pb->block)
		return bad(c, "proposal.block: missing");
	TRY(nested_size(c, &pb->block->base, IST_WIRE_MAX_BLOCK_BYTES, "proposal.block: too big"));
	TRY(get_fixed(c, &pb->signature, p->signature, sizeof(p->signature), "proposal.signature: wrong length"));
	if (pb->tc) {
		TRY(nested_size(c, &pb->tc->base, IST_WIRE_MAX_TC_BYTES, "proposal.tc: too big"));
		TRY(tc_from_pb(c, pb->tc, &p->tc));
		p->has_tc = true;
	}
	return block_from_pb(c, pb->block, &p->block);
}

static int vote_from_pb(struct ctx *c, const Isthmus__V1__Vote *pb, struct ist_vote *v)
{
	v->epoch = pb->epoch;
	v->view = pb->view;
	v->voter = pb->voter;
	TRY(get_fixed(c, &pb->block_id, v->block_id, sizeof(v->block_id), "vote.block_id: wrong length"));
	return get_fixed(c, &pb->signature, v->signature, sizeof(v->signature), "vote.signature: wrong length");
}

static int timeout_from_pb(struct ctx *c, const Isthmus__V1__Timeout *pb, struct ist_timeout *t)
{
	t->epoch = pb->epoch;
	t->view = pb->view;
	t->voter = pb->voter;
	TRY(get_fixed(c, &pb->signature, t->signature, sizeof(t->signature), "timeout.signature: wrong length"));
	return nested_qc_from_pb(c, pb->high_qc, &t->high_qc, "timeout.high_qc: missing", "timeout.high_qc: too big");
}

static int block_request_from_pb(struct ctx *c, const Isthmus__V1__BlockRequest *pb, struct ist_block_request *r)
{
	TRY(get_fixed(c, &pb->block_id, r->block_id, sizeof(r->block_id), "block_request.block_id: wrong length"));
	r->max_blocks = pb->max_blocks;
	return 0;
}

static int block_response_from_pb(struct ctx *c, const Isthmus__V1__BlockResponse *pb, struct ist_block_response *r)
{
	if (pb->n_blocks > IST_WIRE_MAX_SYNC_BLOCKS)
		return toobig(c, "block_response.blocks: too many");
	if (pb->n_blocks == 0)
		return bad(c, "block_response.blocks: empty");
	/* zeroed, so that _fini is safe on the blocks not converted yet */
	r->blocks = calloc(pb->n_blocks, sizeof(*r->blocks));
	if (!r->blocks)
		return fail(c, -IST_ENOMEM, reason_nomem);
	r->n_blocks = pb->n_blocks;
	for (size_t i = 0; i < pb->n_blocks; i++) {
		TRY(nested_size(c, &pb->blocks[i]->base, IST_WIRE_MAX_BLOCK_BYTES, "block_response.blocks: too big"));
		TRY(block_from_pb(c, pb->blocks[i], &r->blocks[i]));
	}
	if (pb->qc) {
		TRY(nested_qc_from_pb(c, pb->qc, &r->qc, "block_response.qc: missing", "block_response.qc: too big"));
		r->has_qc = true;
	}
	return 0;
}

static int attest_share_from_pb(struct ctx *c, const Isthmus__V1__AttestShare *pb, struct ist_attest_share *s)
{
	s->epoch = pb->epoch;
	s->height = pb->height;
	s->signer = pb->signer;
	TRY(get_fixed(c, &pb->batch_root, s->batch_root, sizeof(s->batch_root), "attest_share.batch_root: wrong length"));
	return get_fixed(c, &pb->signature, s->signature, sizeof(s->signature), "attest_share.signature: wrong length");
}

static int envelope_from_pb(struct ctx *c, const Isthmus__V1__Envelope *pb, struct ist_envelope *e)
{
	switch (pb->kind_case) {
	case ISTHMUS__V1__ENVELOPE__KIND_ATTEST_SHARE:
		e->kind = IST_ENVELOPE_ATTEST_SHARE;
		TRY(nested_size(c, &pb->attest_share->base, 256, "envelope.attest_share: too big"));
		return attest_share_from_pb(c, pb->attest_share, &e->u.attest_share);
	case ISTHMUS__V1__ENVELOPE__KIND_FROST:
		e->kind = IST_ENVELOPE_FROST;
		TRY(nested_size(c, &pb->frost->base, IST_WIRE_MAX_FROST_MSG_BYTES + 16, "envelope.frost: too big"));
		if (pb->frost->data.len < 1 || pb->frost->data.len > IST_WIRE_MAX_FROST_MSG_BYTES)
			return toobig(c, "frost.data: must hold 1 to 32768 bytes");
		memcpy(e->u.frost.data, pb->frost->data.data, pb->frost->data.len);
		e->u.frost.len = pb->frost->data.len;
		return 0;
	case ISTHMUS__V1__ENVELOPE__KIND_EPOCH_REQUEST:
		e->kind = IST_ENVELOPE_EPOCH_REQUEST;
		TRY(nested_size(c, &pb->epoch_request->base, 32, "envelope.epoch_request: too big"));
		e->u.epoch_request.epoch = pb->epoch_request->epoch;
		return 0;
	case ISTHMUS__V1__ENVELOPE__KIND_BLOCK_REQUEST:
		e->kind = IST_ENVELOPE_BLOCK_REQUEST;
		TRY(nested_size(c, &pb->block_request->base, 64, "envelope.block_request: too big"));
		return block_request_from_pb(c, pb->block_request, &e->u.block_request);
	case ISTHMUS__V1__ENVELOPE__KIND_BLOCK_RESPONSE:
		e->kind = IST_ENVELOPE_BLOCK_RESPONSE;
		return block_response_from_pb(c, pb->block_response, &e->u.block_response);
	case ISTHMUS__V1__ENVELOPE__KIND_PROPOSAL:
		e->kind = IST_ENVELOPE_PROPOSAL;
		TRY(nested_size(c, &pb->proposal->base, IST_WIRE_MAX_PROPOSAL_BYTES, "envelope.proposal: too big"));
		return proposal_from_pb(c, pb->proposal, &e->u.proposal);
	case ISTHMUS__V1__ENVELOPE__KIND_VOTE:
		e->kind = IST_ENVELOPE_VOTE;
		TRY(nested_size(c, &pb->vote->base, IST_WIRE_MAX_VOTE_BYTES, "envelope.vote: too big"));
		return vote_from_pb(c, pb->vote, &e->u.vote);
	case ISTHMUS__V1__ENVELOPE__KIND_TIMEOUT:
		e->kind = IST_ENVELOPE_TIMEOUT;
		TRY(nested_size(c, &pb->timeout->base, IST_WIRE_MAX_TIMEOUT_BYTES, "envelope.timeout: too big"));
		return timeout_from_pb(c, pb->timeout, &e->u.timeout);
	default:
		return unknown_kind(c, &pb->base, "envelope: unknown kind", "envelope: missing kind");
	}
}

/* ======================================================================
 * native -> protobuf-c (encode). The tree borrows the native bytes; its
 * own memory comes from ctx_alloc. Every function returns NULL with c->err
 * set on failure.
 * ====================================================================== */

#define NEW(c, type, init) ({                    \
	type *new_ = ctx_alloc((c), sizeof(type)); \
	if (new_)                                  \
		init(new_);                        \
	new_;                                      \
})

static Isthmus__V1__Message *message_to_pb(struct ctx *c, const struct ist_message *m)
{
	Isthmus__V1__Message *pb = NEW(c, Isthmus__V1__Message, isthmus__v1__message__init);
	if (!pb)
		return NULL;
	pb->src_chain = m->src_chain;
	pb->dst_chain = m->dst_chain;
	pb->nonce = m->nonce;
	pb->sender = bin(m->sender, sizeof(m->sender));
	pb->recipient = bin(m->recipient, sizeof(m->recipient));
	pb->value = m->value;
	pb->payload = bin(m->payload, m->payload_len);
	return pb;
}

static Isthmus__V1__Checkpoint *checkpoint_to_pb(struct ctx *c, const struct ist_checkpoint *cp)
{
	Isthmus__V1__Checkpoint *pb = NEW(c, Isthmus__V1__Checkpoint, isthmus__v1__checkpoint__init);
	if (!pb)
		return NULL;
	pb->src_chain = cp->src_chain;
	pb->dst_chain = cp->dst_chain;
	pb->src_height = cp->src_height;
	pb->tree_size = cp->tree_size;
	pb->root = bin(cp->root, sizeof(cp->root));
	return pb;
}

static Isthmus__V1__InclusionProof *proof_to_pb(struct ctx *c, const struct ist_inclusion_proof *p)
{
	Isthmus__V1__InclusionProof *pb = NEW(c, Isthmus__V1__InclusionProof, isthmus__v1__inclusion_proof__init);
	ProtobufCBinaryData *path = ctx_array(c, p->path_len, sizeof(*path));
	if (c->err)
		return NULL;
	pb->leaf_index = p->leaf_index;
	pb->tree_size = p->tree_size;
	for (size_t i = 0; i < p->path_len; i++)
		path[i] = bin(p->path[i], IST_HASH_BYTES);
	pb->n_path = p->path_len;
	pb->path = path;
	return pb;
}

static Isthmus__V1__Certificate *certificate_to_pb(struct ctx *c, const struct ist_certificate *cert)
{
	Isthmus__V1__Certificate *pb = NEW(c, Isthmus__V1__Certificate, isthmus__v1__certificate__init);
	if (!pb)
		return NULL;
	pb->network_id = cert->network_id;
	pb->epoch = cert->epoch;
	pb->height = cert->height;
	pb->batch_root = bin(cert->batch_root, sizeof(cert->batch_root));
	if (cert->scheme == IST_CERT_MULTISIG_SECP256K1) {
		Isthmus__V1__MultisigSignatures *ms =
			NEW(c, Isthmus__V1__MultisigSignatures, isthmus__v1__multisig_signatures__init);
		ProtobufCBinaryData *sigs = ctx_array(c, cert->n_sigs, sizeof(*sigs));
		if (c->err)
			return NULL;
		ms->signers = put_bitmap(cert->signers);
		for (size_t i = 0; i < cert->n_sigs; i++)
			sigs[i] = bin(cert->sigs[i], IST_SECP_SIG_BYTES);
		ms->n_signatures = cert->n_sigs;
		ms->signatures = sigs;
		pb->scheme = ISTHMUS__V1__CERT_SCHEME__CERT_SCHEME_MULTISIG_SECP256K1;
		pb->signatures_case = ISTHMUS__V1__CERTIFICATE__SIGNATURES_MULTISIG;
		pb->multisig = ms;
	} else {
		Isthmus__V1__FrostSignature *fs = NEW(c, Isthmus__V1__FrostSignature, isthmus__v1__frost_signature__init);
		if (!fs)
			return NULL;
		fs->group_key = bin(cert->group_key, sizeof(cert->group_key));
		fs->signature = bin(cert->frost_sig, sizeof(cert->frost_sig));
		pb->scheme = ISTHMUS__V1__CERT_SCHEME__CERT_SCHEME_FROST_ED25519;
		pb->signatures_case = ISTHMUS__V1__CERTIFICATE__SIGNATURES_FROST;
		pb->frost = fs;
	}
	return pb;
}

static Isthmus__V1__Delivery *delivery_to_pb(struct ctx *c, const struct ist_delivery *d)
{
	Isthmus__V1__Delivery *pb = NEW(c, Isthmus__V1__Delivery, isthmus__v1__delivery__init);
	if (!pb)
		return NULL;
	pb->message = message_to_pb(c, &d->message);
	pb->message_proof = proof_to_pb(c, &d->message_proof);
	pb->checkpoint = checkpoint_to_pb(c, &d->checkpoint);
	pb->checkpoint_proof = proof_to_pb(c, &d->checkpoint_proof);
	pb->certificate = certificate_to_pb(c, &d->certificate);
	if (c->err)
		return NULL;
	if (nested_size(c, &pb->message->base, IST_WIRE_MAX_MESSAGE_BYTES, "delivery.message: too big") < 0 ||
	    nested_size(c, &pb->checkpoint->base, IST_WIRE_MAX_CHECKPOINT_BYTES, "delivery.checkpoint: too big") < 0 ||
	    nested_size(c, &pb->certificate->base, IST_WIRE_MAX_CERTIFICATE_BYTES, "delivery.certificate: too big") < 0)
		return NULL;
	return pb;
}

static Isthmus__V1__Transaction *tx_to_pb(struct ctx *c, const struct ist_tx *tx)
{
	Isthmus__V1__Transaction *pb = NEW(c, Isthmus__V1__Transaction, isthmus__v1__transaction__init);
	if (!pb)
		return NULL;
	pb->network_id = tx->network_id;
	pb->sender = bin(tx->sender, sizeof(tx->sender));
	pb->nonce = tx->nonce;
	pb->fee = tx->fee;
	pb->signature = bin(tx->signature, sizeof(tx->signature));
	switch (tx->kind) {
	case IST_TX_TRANSFER: {
		Isthmus__V1__Transfer *b = NEW(c, Isthmus__V1__Transfer, isthmus__v1__transfer__init);
		if (!b)
			return NULL;
		b->to = bin(tx->u.transfer.to, sizeof(tx->u.transfer.to));
		b->amount = tx->u.transfer.amount;
		pb->body_case = ISTHMUS__V1__TRANSACTION__BODY_TRANSFER;
		pb->transfer = b;
		break;
	}
	case IST_TX_REGISTER_VALIDATOR: {
		const typeof(tx->u.register_validator) *r = &tx->u.register_validator;
		Isthmus__V1__RegisterValidator *b =
			NEW(c, Isthmus__V1__RegisterValidator, isthmus__v1__register_validator__init);
		if (!b)
			return NULL;
		b->node_key = bin(r->node_key, sizeof(r->node_key));
		b->attest_key = bin(r->attest_key, sizeof(r->attest_key));
		b->dkg_key = bin(r->dkg_key, sizeof(r->dkg_key));
		b->address = bin(r->address, r->address_len);
		b->commission_bps = r->commission_bps;
		pb->body_case = ISTHMUS__V1__TRANSACTION__BODY_REGISTER_VALIDATOR;
		pb->register_validator = b;
		break;
	}
	case IST_TX_BOND: {
		Isthmus__V1__Bond *b = NEW(c, Isthmus__V1__Bond, isthmus__v1__bond__init);
		if (!b)
			return NULL;
		b->validator = bin(tx->u.bond.validator, sizeof(tx->u.bond.validator));
		b->amount = tx->u.bond.amount;
		pb->body_case = ISTHMUS__V1__TRANSACTION__BODY_BOND;
		pb->bond = b;
		break;
	}
	case IST_TX_UNBOND: {
		Isthmus__V1__Unbond *b = NEW(c, Isthmus__V1__Unbond, isthmus__v1__unbond__init);
		if (!b)
			return NULL;
		b->validator = bin(tx->u.unbond.validator, sizeof(tx->u.unbond.validator));
		b->amount = tx->u.unbond.amount;
		pb->body_case = ISTHMUS__V1__TRANSACTION__BODY_UNBOND;
		pb->unbond = b;
		break;
	}
	case IST_TX_WITHDRAW: {
		Isthmus__V1__Withdraw *b = NEW(c, Isthmus__V1__Withdraw, isthmus__v1__withdraw__init);
		if (!b)
			return NULL;
		pb->body_case = ISTHMUS__V1__TRANSACTION__BODY_WITHDRAW;
		pb->withdraw = b;
		break;
	}
	case IST_TX_UNJAIL: {
		Isthmus__V1__Unjail *b = NEW(c, Isthmus__V1__Unjail, isthmus__v1__unjail__init);
		if (!b)
			return NULL;
		pb->body_case = ISTHMUS__V1__TRANSACTION__BODY_UNJAIL;
		pb->unjail = b;
		break;
	}
	case IST_TX_GOV_PROPOSE: {
		Isthmus__V1__GovPropose *b = NEW(c, Isthmus__V1__GovPropose, isthmus__v1__gov_propose__init);
		if (!b)
			return NULL;
		b->action = tx->u.gov_propose.action;
		b->chain = tx->u.gov_propose.chain;
		b->src_chain = tx->u.gov_propose.src_chain;
		b->dst_chain = tx->u.gov_propose.dst_chain;
		b->voting_blocks = tx->u.gov_propose.voting_blocks;
		b->window_blocks = tx->u.gov_propose.window_blocks;
		b->max_count = tx->u.gov_propose.max_count;
		b->max_value = tx->u.gov_propose.max_value;
		b->high_value = tx->u.gov_propose.high_value;
		b->delay_blocks = tx->u.gov_propose.delay_blocks;
		b->release_through = tx->u.gov_propose.release_through;
		b->param_value = tx->u.gov_propose.param_value;
		b->param = tx->u.gov_propose.param;
		pb->body_case = ISTHMUS__V1__TRANSACTION__BODY_GOV_PROPOSE;
		pb->gov_propose = b;
		break;
	}
	case IST_TX_GOV_VOTE: {
		Isthmus__V1__GovVote *b = NEW(c, Isthmus__V1__GovVote, isthmus__v1__gov_vote__init);
		if (!b)
			return NULL;
		b->proposal = tx->u.gov_vote.proposal;
		b->approve = tx->u.gov_vote.approve;
		pb->body_case = ISTHMUS__V1__TRANSACTION__BODY_GOV_VOTE;
		pb->gov_vote = b;
		break;
	}
	default:
		/* tx_check refused it already */
		bad(c, "tx.body: unknown kind");
		return NULL;
	}
	return pb;
}

static Isthmus__V1__QuorumCert *qc_to_pb(struct ctx *c, const struct ist_qc *qc)
{
	Isthmus__V1__QuorumCert *pb = NEW(c, Isthmus__V1__QuorumCert, isthmus__v1__quorum_cert__init);
	ProtobufCBinaryData *sigs = ctx_array(c, qc->n_sigs, sizeof(*sigs));
	if (c->err)
		return NULL;
	pb->epoch = qc->epoch;
	pb->view = qc->view;
	pb->block_id = bin(qc->block_id, sizeof(qc->block_id));
	pb->signers = put_bitmap(qc->signers);
	for (size_t i = 0; i < qc->n_sigs; i++)
		sigs[i] = bin(qc->sigs[i], IST_SIG_BYTES);
	pb->n_signatures = qc->n_sigs;
	pb->signatures = sigs;
	return pb;
}

static Isthmus__V1__QuorumCert *nested_qc_to_pb(struct ctx *c, const struct ist_qc *qc, const char *too_big)
{
	Isthmus__V1__QuorumCert *pb = qc_to_pb(c, qc);
	if (!pb || nested_size(c, &pb->base, IST_WIRE_MAX_QC_BYTES, too_big) < 0)
		return NULL;
	return pb;
}

static Isthmus__V1__TimeoutCert *tc_to_pb(struct ctx *c, const struct ist_tc *tc)
{
	Isthmus__V1__TimeoutCert *pb = NEW(c, Isthmus__V1__TimeoutCert, isthmus__v1__timeout_cert__init);
	ProtobufCBinaryData *sigs = ctx_array(c, tc->n_sigs, sizeof(*sigs));
	if (c->err)
		return NULL;
	pb->epoch = tc->epoch;
	pb->view = tc->view;
	pb->signers = put_bitmap(tc->signers);
	for (size_t i = 0; i < tc->n_sigs; i++)
		sigs[i] = bin(tc->sigs[i], IST_SIG_BYTES);
	pb->n_signatures = tc->n_sigs;
	pb->signatures = sigs;
	pb->n_high_qc_views = tc->n_sigs;
	pb->high_qc_views = tc->n_sigs ? (uint64_t *)tc->high_qc_views : NULL;
	pb->high_qc = nested_qc_to_pb(c, &tc->high_qc, "tc.high_qc: too big");
	return c->err ? NULL : pb;
}

static Isthmus__V1__PayloadItem *item_to_pb(struct ctx *c, const struct ist_payload_item *it)
{
	Isthmus__V1__PayloadItem *pb = NEW(c, Isthmus__V1__PayloadItem, isthmus__v1__payload_item__init);
	if (!pb)
		return NULL;
	switch (it->kind) {
	case IST_PAYLOAD_CHECKPOINT:
		pb->item_case = ISTHMUS__V1__PAYLOAD_ITEM__ITEM_CHECKPOINT;
		pb->checkpoint = checkpoint_to_pb(c, &it->u.checkpoint);
		if (!pb->checkpoint || nested_size(c, &pb->checkpoint->base, IST_WIRE_MAX_CHECKPOINT_BYTES,
						   "payload_item.checkpoint: too big") < 0)
			return NULL;
		break;
	case IST_PAYLOAD_TRANSACTION:
		pb->item_case = ISTHMUS__V1__PAYLOAD_ITEM__ITEM_TRANSACTION;
		pb->transaction = tx_to_pb(c, &it->u.tx);
		if (!pb->transaction || nested_size(c, &pb->transaction->base, IST_WIRE_MAX_TX_BYTES,
						    "payload_item.transaction: too big") < 0)
			return NULL;
		break;
	case IST_PAYLOAD_EVIDENCE:
		pb->item_case = ISTHMUS__V1__PAYLOAD_ITEM__ITEM_EVIDENCE;
		pb->evidence = bin(it->u.opaque.data, it->u.opaque.len);
		break;
	case IST_PAYLOAD_DKG:
		pb->item_case = ISTHMUS__V1__PAYLOAD_ITEM__ITEM_DKG;
		pb->dkg = bin(it->u.opaque.data, it->u.opaque.len);
		break;
	case IST_PAYLOAD_NONCE_COMMITMENTS:
		pb->item_case = ISTHMUS__V1__PAYLOAD_ITEM__ITEM_NONCE_COMMITMENTS;
		pb->nonce_commitments = bin(it->u.opaque.data, it->u.opaque.len);
		break;
	case IST_PAYLOAD_DATA:
		pb->item_case = ISTHMUS__V1__PAYLOAD_ITEM__ITEM_DATA;
		pb->data = bin(it->u.opaque.data, it->u.opaque.len);
		break;
	default:
		bad(c, "payload_item: unknown kind");
		return NULL;
	}
	return pb;
}

static Isthmus__V1__Block *block_to_pb(struct ctx *c, const struct ist_block *b)
{
	Isthmus__V1__Block *pb = NEW(c, Isthmus__V1__Block, isthmus__v1__block__init);
	Isthmus__V1__PayloadItem **items = ctx_array(c, b->n_items, sizeof(*items));
	if (c->err)
		return NULL;
	pb->network_id = b->network_id;
	pb->epoch = b->epoch;
	pb->view = b->view;
	pb->height = b->height;
	pb->parent_id = bin(b->parent_id, sizeof(b->parent_id));
	pb->proposer = b->proposer;
	pb->timestamp_ms = b->timestamp_ms;
	pb->justify = nested_qc_to_pb(c, &b->justify, "block.justify: too big");
	for (size_t i = 0; i < b->n_items && !c->err; i++)
		items[i] = item_to_pb(c, &b->items[i]);
	pb->n_payload = b->n_items;
	pb->payload = items;
	return c->err ? NULL : pb;
}

static Isthmus__V1__Proposal *proposal_to_pb(struct ctx *c, const struct ist_proposal *p)
{
	Isthmus__V1__Proposal *pb = NEW(c, Isthmus__V1__Proposal, isthmus__v1__proposal__init);
	if (!pb)
		return NULL;
	pb->block = block_to_pb(c, &p->block);
	if (!pb->block || nested_size(c, &pb->block->base, IST_WIRE_MAX_BLOCK_BYTES, "proposal.block: too big") < 0)
		return NULL;
	if (p->has_tc) {
		pb->tc = tc_to_pb(c, &p->tc);
		if (!pb->tc || nested_size(c, &pb->tc->base, IST_WIRE_MAX_TC_BYTES, "proposal.tc: too big") < 0)
			return NULL;
	}
	pb->signature = bin(p->signature, sizeof(p->signature));
	return pb;
}

static Isthmus__V1__Vote *vote_to_pb(struct ctx *c, const struct ist_vote *v)
{
	Isthmus__V1__Vote *pb = NEW(c, Isthmus__V1__Vote, isthmus__v1__vote__init);
	if (!pb)
		return NULL;
	pb->epoch = v->epoch;
	pb->view = v->view;
	pb->block_id = bin(v->block_id, sizeof(v->block_id));
	pb->voter = v->voter;
	pb->signature = bin(v->signature, sizeof(v->signature));
	return pb;
}

static Isthmus__V1__Timeout *timeout_to_pb(struct ctx *c, const struct ist_timeout *t)
{
	Isthmus__V1__Timeout *pb = NEW(c, Isthmus__V1__Timeout, isthmus__v1__timeout__init);
	if (!pb)
		return NULL;
	pb->epoch = t->epoch;
	pb->view = t->view;
	pb->voter = t->voter;
	pb->signature = bin(t->signature, sizeof(t->signature));
	pb->high_qc = nested_qc_to_pb(c, &t->high_qc, "timeout.high_qc: too big");
	return c->err ? NULL : pb;
}

static Isthmus__V1__BlockRequest *block_request_to_pb(struct ctx *c, const struct ist_block_request *r)
{
	Isthmus__V1__BlockRequest *pb = NEW(c, Isthmus__V1__BlockRequest, isthmus__v1__block_request__init);
	if (!pb)
		return NULL;
	pb->block_id = bin(r->block_id, sizeof(r->block_id));
	pb->max_blocks = r->max_blocks;
	return pb;
}

static Isthmus__V1__BlockResponse *block_response_to_pb(struct ctx *c, const struct ist_block_response *r)
{
	Isthmus__V1__BlockResponse *pb = NEW(c, Isthmus__V1__BlockResponse, isthmus__v1__block_response__init);
	Isthmus__V1__Block **blocks = ctx_array(c, r->n_blocks, sizeof(*blocks));
	if (c->err)
		return NULL;
	for (size_t i = 0; i < r->n_blocks && !c->err; i++) {
		blocks[i] = block_to_pb(c, &r->blocks[i]);
		if (blocks[i])
			nested_size(c, &blocks[i]->base, IST_WIRE_MAX_BLOCK_BYTES, "block_response.blocks: too big");
	}
	pb->n_blocks = r->n_blocks;
	pb->blocks = blocks;
	if (r->has_qc)
		pb->qc = nested_qc_to_pb(c, &r->qc, "block_response.qc: too big");
	return c->err ? NULL : pb;
}

static Isthmus__V1__Envelope *envelope_to_pb(struct ctx *c, const struct ist_envelope *e)
{
	Isthmus__V1__Envelope *pb = NEW(c, Isthmus__V1__Envelope, isthmus__v1__envelope__init);
	if (!pb)
		return NULL;
	switch (e->kind) {
	case IST_ENVELOPE_BLOCK_REQUEST:
		pb->kind_case = ISTHMUS__V1__ENVELOPE__KIND_BLOCK_REQUEST;
		pb->block_request = block_request_to_pb(c, &e->u.block_request);
		break;
	case IST_ENVELOPE_BLOCK_RESPONSE:
		pb->kind_case = ISTHMUS__V1__ENVELOPE__KIND_BLOCK_RESPONSE;
		pb->block_response = block_response_to_pb(c, &e->u.block_response);
		break;
	case IST_ENVELOPE_FROST: {
		Isthmus__V1__FrostMessage *q = NEW(c, Isthmus__V1__FrostMessage, isthmus__v1__frost_message__init);
		if (!q)
			break;
		q->data = bin(e->u.frost.data, e->u.frost.len);
		pb->kind_case = ISTHMUS__V1__ENVELOPE__KIND_FROST;
		pb->frost = q;
		break;
	}
	case IST_ENVELOPE_EPOCH_REQUEST: {
		Isthmus__V1__EpochRequest *q = NEW(c, Isthmus__V1__EpochRequest, isthmus__v1__epoch_request__init);
		if (!q)
			break;
		q->epoch = e->u.epoch_request.epoch;
		pb->kind_case = ISTHMUS__V1__ENVELOPE__KIND_EPOCH_REQUEST;
		pb->epoch_request = q;
		break;
	}
	case IST_ENVELOPE_ATTEST_SHARE: {
		const struct ist_attest_share *s = &e->u.attest_share;
		Isthmus__V1__AttestShare *a = NEW(c, Isthmus__V1__AttestShare, isthmus__v1__attest_share__init);
		if (!a)
			break;
		a->epoch = s->epoch;
		a->height = s->height;
		a->batch_root = bin(s->batch_root, sizeof(s->batch_root));
		a->signer = s->signer;
		a->signature = bin(s->signature, sizeof(s->signature));
		pb->kind_case = ISTHMUS__V1__ENVELOPE__KIND_ATTEST_SHARE;
		pb->attest_share = a;
		break;
	}
	case IST_ENVELOPE_PROPOSAL:
		pb->kind_case = ISTHMUS__V1__ENVELOPE__KIND_PROPOSAL;
		pb->proposal = proposal_to_pb(c, &e->u.proposal);
		if (pb->proposal)
			nested_size(c, &pb->proposal->base, IST_WIRE_MAX_PROPOSAL_BYTES, "envelope.proposal: too big");
		break;
	case IST_ENVELOPE_VOTE:
		pb->kind_case = ISTHMUS__V1__ENVELOPE__KIND_VOTE;
		pb->vote = vote_to_pb(c, &e->u.vote);
		if (pb->vote)
			nested_size(c, &pb->vote->base, IST_WIRE_MAX_VOTE_BYTES, "envelope.vote: too big");
		break;
	case IST_ENVELOPE_TIMEOUT:
		pb->kind_case = ISTHMUS__V1__ENVELOPE__KIND_TIMEOUT;
		pb->timeout = timeout_to_pb(c, &e->u.timeout);
		if (pb->timeout)
			nested_size(c, &pb->timeout->base, IST_WIRE_MAX_TIMEOUT_BYTES, "envelope.timeout: too big");
		break;
	default:
		bad(c, "envelope: unknown kind");
	}
	return c->err ? NULL : pb;
}

/* ======================================================================
 * The generic drivers and one table row per kind
 * ====================================================================== */

struct codec {
	const ProtobufCMessageDescriptor *desc;
	size_t max;                 /* encoded size limit */
	size_t native_size;
	const char *too_big;        /* reasons of the driver's own failures */
	const char *malformed;
	const char *over_budget;
	int (*from_pb)(struct ctx *c, const ProtobufCMessage *pb, void *native);
	ProtobufCMessage *(*to_pb)(struct ctx *c, const void *native);
	int (*check)(struct ctx *c, const void *native);
	void (*fini)(void *native);  /* NULL: plain memory */
};

static int decode(const struct codec *k, const uint8_t *buf, size_t len, void **ret, const char **ret_reason)
{
	static const uint8_t empty[1];
	struct ctx c = { .bad = -IST_EPARSE };
	struct budget b = {
		.alloc = { .alloc = budget_alloc, .free = budget_free },
		.left = DECODE_BUDGET_BASE,
	};
	b.alloc.allocator_data = &b;
	ProtobufCMessage *pb = NULL;
	void *native = NULL;

	if (len > k->max) {
		fail(&c, -IST_ETOOBIG, k->too_big);
		goto out;
	}
	if (!buf) {
		if (len) {
			fail(&c, -IST_EINVAL, "no input buffer");
			goto out;
		}
		buf = empty;
	}
	b.left += DECODE_BUDGET_FACTOR * len; /* len <= k->max: no overflow */
	pb = protobuf_c_message_unpack(k->desc, &b.alloc, len, buf);
	if (!pb) {
		if (b.nomem)
			fail(&c, -IST_ENOMEM, reason_nomem);
		else if (b.over)
			fail(&c, -IST_ETOOBIG, k->over_budget);
		else
			fail(&c, -IST_EPARSE, k->malformed);
		goto out;
	}
	native = calloc(1, k->native_size);
	if (!native) {
		fail(&c, -IST_ENOMEM, reason_nomem);
		goto out;
	}
	if (k->from_pb(&c, pb, native) == 0)
		k->check(&c, native);
out:
	if (pb)
		protobuf_c_message_free_unpacked(pb, &b.alloc);
	if (c.err) {
		if (native && k->fini)
			k->fini(native);
		free(native);
		if (ret_reason)
			*ret_reason = c.reason;
		return c.err;
	}
	*ret = native;
	return 0;
}

static int encode(const struct codec *k, const void *x, uint8_t **ret_buf, size_t *ret_len)
{
	struct ctx c = { .bad = -IST_EINVAL };
	ProtobufCMessage *pb = NULL;
	uint8_t *out = NULL;
	size_t n = 0;

	if (!x)
		return -IST_EINVAL;
	if (k->check(&c, x) < 0)
		goto out;
	pb = k->to_pb(&c, x);
	if (!pb) {
		IST_REQUIRE(c.err);
		goto out;
	}
	n = protobuf_c_message_get_packed_size(pb);
	if (n > k->max) {
		fail(&c, -IST_ETOOBIG, k->too_big);
		goto out;
	}
	out = malloc(n ? n : 1);
	if (!out) {
		fail(&c, -IST_ENOMEM, reason_nomem);
		goto out;
	}
	IST_REQUIRE(protobuf_c_message_pack(pb, out) == n);
out:
	ctx_release(&c);
	if (c.err)
		return c.err;
	*ret_buf = out;
	*ret_len = n;
	return 0;
}

/* Typed adapters for the table, then the table rows and public functions. */
#define KIND(kind, pbtype, pbname, MAX, FINI)                                                               \
	static int kind##_from_any(struct ctx *c, const ProtobufCMessage *pb, void *native)               \
	{                                                                                                  \
		return kind##_from_pb(c, (const pbtype *)pb, native);                                      \
	}                                                                                                  \
	static ProtobufCMessage *kind##_to_any(struct ctx *c, const void *native)                         \
	{                                                                                                  \
		pbtype *pb = kind##_to_pb(c, native);                                                      \
		return pb ? &pb->base : NULL;                                                              \
	}                                                                                                  \
	static int kind##_check_any(struct ctx *c, const void *native) { return kind##_check(c, native); } \
	static const struct codec kind##_codec = {                                                         \
		.desc = &isthmus__v1__##pbname##__descriptor,                                              \
		.max = (MAX),                                                                              \
		.native_size = sizeof(struct ist_##kind),                                                  \
		.too_big = #kind ": over the size limit",                                                  \
		.malformed = #kind ": malformed protobuf",                                                 \
		.over_budget = #kind ": over the decoding memory budget",                                  \
		.from_pb = kind##_from_any,                                                                \
		.to_pb = kind##_to_any,                                                                    \
		.check = kind##_check_any,                                                                 \
		.fini = (FINI),                                                                            \
	};                                                                                                 \
	int ist_wire_##kind##_decode(const uint8_t *buf, size_t len, struct ist_##kind **ret,             \
				     const char **ret_reason)                                              \
	{                                                                                                  \
		void *native;                                                                              \
		int r = decode(&kind##_codec, buf, len, &native, ret_reason);                              \
		if (r == 0)                                                                                \
			*ret = native;                                                                     \
		return r;                                                                                  \
	}                                                                                                  \
	int ist_wire_##kind##_encode(const struct ist_##kind *x, uint8_t **ret_buf, size_t *ret_len)      \
	{                                                                                                  \
		return encode(&kind##_codec, x, ret_buf, ret_len);                                         \
	}

static void message_fini_any(void *p) { ist_wire_message_fini(p); }
static void delivery_fini_any(void *p) { ist_wire_delivery_fini(p); }
static void block_fini_any(void *p) { ist_wire_block_fini(p); }
static void proposal_fini_any(void *p) { ist_wire_proposal_fini(p); }
static void envelope_fini_any(void *p) { ist_wire_envelope_fini(p); }

KIND(message, Isthmus__V1__Message, message, IST_WIRE_MAX_MESSAGE_BYTES, message_fini_any)
KIND(checkpoint, Isthmus__V1__Checkpoint, checkpoint, IST_WIRE_MAX_CHECKPOINT_BYTES, NULL)
KIND(certificate, Isthmus__V1__Certificate, certificate, IST_WIRE_MAX_CERTIFICATE_BYTES, NULL)
KIND(delivery, Isthmus__V1__Delivery, delivery, IST_WIRE_MAX_DELIVERY_BYTES, delivery_fini_any)
KIND(tx, Isthmus__V1__Transaction, transaction, IST_WIRE_MAX_TX_BYTES, NULL)
KIND(qc, Isthmus__V1__QuorumCert, quorum_cert, IST_WIRE_MAX_QC_BYTES, NULL)
KIND(tc, Isthmus__V1__TimeoutCert, timeout_cert, IST_WIRE_MAX_TC_BYTES, NULL)
KIND(block, Isthmus__V1__Block, block, IST_WIRE_MAX_BLOCK_BYTES, block_fini_any)
KIND(proposal, Isthmus__V1__Proposal, proposal, IST_WIRE_MAX_PROPOSAL_BYTES, proposal_fini_any)
KIND(vote, Isthmus__V1__Vote, vote, IST_WIRE_MAX_VOTE_BYTES, NULL)
KIND(timeout, Isthmus__V1__Timeout, timeout, IST_WIRE_MAX_TIMEOUT_BYTES, NULL)
KIND(envelope, Isthmus__V1__Envelope, envelope, IST_WIRE_MAX_ENVELOPE_BYTES, envelope_fini_any)
