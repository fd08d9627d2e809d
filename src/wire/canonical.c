#include "wire/canonical.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/merkle.h"
#include "crypto/tags.h"

/*
 * Fixed layouts are written straight into the caller's array through this
 * small writer. Its bounds check and the IST_REQUIRE at the end of each
 * layout (exactly the documented size) guard against bugs of ours: the
 * sizes never depend on input.
 */
struct fixed {
	uint8_t *p;
	size_t off;
	size_t cap;
};

#define FIXED(out, size) { (out), 0, (size) }

static void fx_put(struct fixed *w, const void *p, size_t len)
{
	IST_REQUIRE(len <= w->cap - w->off);
	if (len)
		memcpy(w->p + w->off, p, len);
	w->off += len;
}

static void fx_tag(struct fixed *w, const char *tag) { fx_put(w, tag, strlen(tag)); }

static void fx_u8(struct fixed *w, uint8_t v) { fx_put(w, &v, 1); }

static void fx_be32(struct fixed *w, uint32_t v)
{
	uint8_t b[4];
	ist_put_be32(b, v);
	fx_put(w, b, sizeof(b));
}

static void fx_be64(struct fixed *w, uint64_t v)
{
	uint8_t b[8];
	ist_put_be64(b, v);
	fx_put(w, b, sizeof(b));
}

/* ---- Message ---- */

/* The fixed part of canonical(m): everything up to and including the
 * payload length. The caller has checked payload_len against its limit. */
static void message_head(const struct ist_message *m, uint8_t out[IST_WIRE_MESSAGE_FIXED_BYTES])
{
	struct fixed w = FIXED(out, IST_WIRE_MESSAGE_FIXED_BYTES);
	fx_be64(&w, m->src_chain);
	fx_be64(&w, m->dst_chain);
	fx_be64(&w, m->nonce);
	fx_put(&w, m->sender, sizeof(m->sender));
	fx_put(&w, m->recipient, sizeof(m->recipient));
	fx_be64(&w, m->value);
	fx_be32(&w, (uint32_t)m->payload_len);
	IST_REQUIRE(w.off == IST_WIRE_MESSAGE_FIXED_BYTES);
}

int ist_wire_message_canonical(const struct ist_message *m, struct ist_buf *out)
{
	if (m->payload_len > IST_WIRE_MAX_MSG_PAYLOAD) {
		if (!out->err)
			out->err = -IST_ETOOBIG;
		return -IST_ETOOBIG;
	}
	uint8_t head[IST_WIRE_MESSAGE_FIXED_BYTES];
	message_head(m, head);
	ist_buf_put(out, head, sizeof(head));
	ist_buf_put(out, m->payload, m->payload_len);
	return ist_buf_err(out);
}

int ist_wire_message_id(const struct ist_message *m, uint8_t ret_id32[IST_HASH_BYTES])
{
	if (m->payload_len > IST_WIRE_MAX_MSG_PAYLOAD)
		return -IST_ETOOBIG;
	/* the fixed part, then the payload hashed in place (no copy) */
	uint8_t head[IST_WIRE_MESSAGE_FIXED_BYTES];
	message_head(m, head);
	struct ist_sha256_ctx h;
	ist_tagged_hash_init(&h, IST_TAG_MSG);
	ist_sha256_update(&h, head, sizeof(head));
	if (m->payload_len)
		ist_sha256_update(&h, m->payload, m->payload_len);
	ist_sha256_final(&h, ret_id32);
	return 0;
}

/* ---- Checkpoint ---- */

void ist_wire_checkpoint_bytes(const struct ist_checkpoint *cp, uint8_t out[IST_WIRE_CHECKPOINT_BYTES])
{
	struct fixed w = FIXED(out, IST_WIRE_CHECKPOINT_BYTES);
	fx_tag(&w, IST_TAG_CHECKPOINT);
	fx_be64(&w, cp->src_chain);
	fx_be64(&w, cp->dst_chain);
	fx_be64(&w, cp->src_height);
	fx_be64(&w, cp->tree_size);
	fx_put(&w, cp->root, sizeof(cp->root));
	IST_REQUIRE(w.off == IST_WIRE_CHECKPOINT_BYTES);
}

void ist_wire_checkpoint_leaf_hash(const struct ist_checkpoint *cp, uint8_t ret_hash32[IST_HASH_BYTES])
{
	uint8_t b[IST_WIRE_CHECKPOINT_BYTES];
	ist_wire_checkpoint_bytes(cp, b);
	ist_merkle_leaf_hash(b, sizeof(b), ret_hash32);
}

int ist_wire_block_batch_root(const struct ist_block *b, uint8_t ret_root32[IST_HASH_BYTES], size_t *ret_count)
{
	return ist_wire_block_batch_root_ex(b, NULL, ret_root32, ret_count);
}

int ist_wire_block_batch_root_ex(const struct ist_block *b, const uint8_t *extra_leaf32,
				 uint8_t ret_root32[IST_HASH_BYTES], size_t *ret_count)
{
	return ist_wire_block_batch_root_leaves(b, (const uint8_t (*)[IST_HASH_BYTES])extra_leaf32, extra_leaf32 != NULL,
						ret_root32, ret_count);
}

void ist_wire_pause_bytes(const struct ist_pause *p, uint8_t out[IST_WIRE_PAUSE_BYTES])
{
	struct fixed w = FIXED(out, IST_WIRE_PAUSE_BYTES);
	fx_tag(&w, IST_TAG_PAUSE);
	fx_be64(&w, p->network_id);
	fx_be64(&w, p->height);
	fx_u8(&w, p->scope);
	fx_be64(&w, p->a);
	fx_be64(&w, p->b);
	fx_u8(&w, p->paused ? 1 : 0);
	IST_REQUIRE(w.off == IST_WIRE_PAUSE_BYTES);
}

void ist_wire_pause_leaf_hash(const struct ist_pause *p, uint8_t ret_leaf32[IST_HASH_BYTES])
{
	uint8_t bytes[IST_WIRE_PAUSE_BYTES];
	ist_wire_pause_bytes(p, bytes);
	ist_merkle_leaf_hash(bytes, sizeof(bytes), ret_leaf32);
}

int ist_wire_block_batch_root_leaves(const struct ist_block *b, const uint8_t (*extra)[IST_HASH_BYTES],
				     size_t n_extra, uint8_t ret_root32[IST_HASH_BYTES], size_t *ret_count)
{
	size_t n = n_extra;
	for (size_t i = 0; i < b->n_items; i++)
		n += b->items[i].kind == IST_PAYLOAD_CHECKPOINT;
	uint8_t (*leaves)[IST_HASH_BYTES] = NULL;
	if (n && !(leaves = malloc(n * sizeof(*leaves))))
		return -IST_ENOMEM;
	size_t k = 0;
	for (size_t i = 0; i < b->n_items; i++)
		if (b->items[i].kind == IST_PAYLOAD_CHECKPOINT)
			ist_wire_checkpoint_leaf_hash(&b->items[i].u.checkpoint, leaves[k++]);
	for (size_t i = 0; i < n_extra; i++)
		memcpy(leaves[k++], extra[i], IST_HASH_BYTES);
	int r = ist_merkle_root((const uint8_t (*)[IST_HASH_BYTES])leaves, n, ret_root32);
	free(leaves);
	if (r < 0)
		return r;
	if (ret_count)
		*ret_count = n;
	return 0;
}

/* ---- Attestation ---- */

void ist_wire_attest_bytes(uint64_t network_id, uint64_t epoch, uint64_t height,
			   const uint8_t batch_root32[IST_HASH_BYTES], uint8_t out[IST_WIRE_ATTEST_BYTES])
{
	struct fixed w = FIXED(out, IST_WIRE_ATTEST_BYTES);
	fx_tag(&w, IST_TAG_ATTEST);
	fx_be64(&w, network_id);
	fx_be64(&w, epoch);
	fx_be64(&w, height);
	fx_put(&w, batch_root32, IST_HASH_BYTES);
	IST_REQUIRE(w.off == IST_WIRE_ATTEST_BYTES);
}

void ist_wire_attest_digest(uint64_t network_id, uint64_t epoch, uint64_t height,
			    const uint8_t batch_root32[IST_HASH_BYTES], uint8_t ret_digest32[IST_HASH_BYTES])
{
	uint8_t b[IST_WIRE_ATTEST_BYTES];
	ist_wire_attest_bytes(network_id, epoch, height, batch_root32, b);
	ist_sha256(b, sizeof(b), ret_digest32);
}

void ist_wire_certificate_digest(const struct ist_certificate *cert, uint8_t ret_digest32[IST_HASH_BYTES])
{
	ist_wire_attest_digest(cert->network_id, cert->epoch, cert->height, cert->batch_root, ret_digest32);
}

/* ---- Transactions ---- */

static bool tx_body_ok(const struct ist_tx *tx)
{
	switch (tx->kind) {
	case IST_TX_TRANSFER:
	case IST_TX_BOND:
	case IST_TX_UNBOND:
	case IST_TX_WITHDRAW:
	case IST_TX_UNJAIL:
	case IST_TX_GOV_PROPOSE:
	case IST_TX_GOV_VOTE:
		return true;
	case IST_TX_REGISTER_VALIDATOR:
		return tx->u.register_validator.address_len >= 1 &&
		       tx->u.register_validator.address_len <= IST_WIRE_MAX_ADDRESS_BYTES;
	}
	return false;
}

int ist_wire_tx_signing_bytes(const struct ist_tx *tx, uint8_t out[IST_WIRE_MAX_TX_SIGNING_BYTES], size_t *ret_len)
{
	if (!tx_body_ok(tx))
		return -IST_EINVAL;
	struct fixed w = FIXED(out, IST_WIRE_MAX_TX_SIGNING_BYTES);
	fx_tag(&w, IST_TAG_TX);
	fx_be64(&w, tx->network_id);
	fx_put(&w, tx->sender, sizeof(tx->sender));
	fx_be64(&w, tx->nonce);
	fx_be64(&w, tx->fee);
	fx_u8(&w, (uint8_t)tx->kind);
	IST_REQUIRE(w.off == IST_WIRE_TX_SIGNING_FIXED_BYTES);
	switch (tx->kind) {
	case IST_TX_TRANSFER:
		fx_put(&w, tx->u.transfer.to, sizeof(tx->u.transfer.to));
		fx_be64(&w, tx->u.transfer.amount);
		break;
	case IST_TX_REGISTER_VALIDATOR: {
		const typeof(tx->u.register_validator) *r = &tx->u.register_validator;
		fx_put(&w, r->node_key, sizeof(r->node_key));
		fx_put(&w, r->attest_key, sizeof(r->attest_key));
		fx_put(&w, r->dkg_key, sizeof(r->dkg_key));
		fx_be32(&w, r->commission_bps);
		fx_be32(&w, (uint32_t)r->address_len);
		fx_put(&w, r->address, r->address_len);
		break;
	}
	case IST_TX_BOND:
		fx_put(&w, tx->u.bond.validator, sizeof(tx->u.bond.validator));
		fx_be64(&w, tx->u.bond.amount);
		break;
	case IST_TX_UNBOND:
		fx_put(&w, tx->u.unbond.validator, sizeof(tx->u.unbond.validator));
		fx_be64(&w, tx->u.unbond.amount);
		break;
	case IST_TX_WITHDRAW:
	case IST_TX_UNJAIL:
		break;
	case IST_TX_GOV_PROPOSE: {
		const typeof(tx->u.gov_propose) *g = &tx->u.gov_propose;
		fx_be32(&w, g->action);
		fx_be64(&w, g->chain);
		fx_be64(&w, g->src_chain);
		fx_be64(&w, g->dst_chain);
		fx_be32(&w, g->voting_blocks);
		fx_be64(&w, g->window_blocks);
		fx_be64(&w, g->max_count);
		fx_be64(&w, g->max_value);
		fx_be64(&w, g->high_value);
		fx_be64(&w, g->delay_blocks);
		fx_be64(&w, g->release_through);
		fx_be32(&w, g->param);
		fx_be64(&w, g->param_value);
		break;
	}
	case IST_TX_GOV_VOTE:
		fx_be64(&w, tx->u.gov_vote.proposal);
		fx_u8(&w, tx->u.gov_vote.approve ? 1 : 0);
		break;
	}
	IST_REQUIRE(w.off <= IST_WIRE_MAX_TX_SIGNING_BYTES);
	*ret_len = w.off;
	return 0;
}

int ist_wire_tx_id(const struct ist_tx *tx, uint8_t ret_id32[IST_HASH_BYTES])
{
	uint8_t b[IST_WIRE_MAX_TX_SIGNING_BYTES + IST_SIG_BYTES];
	size_t n;
	int r = ist_wire_tx_signing_bytes(tx, b, &n);
	if (r < 0)
		return r;
	memcpy(b + n, tx->signature, IST_SIG_BYTES);
	ist_sha256(b, n + IST_SIG_BYTES, ret_id32);
	return 0;
}

/* ---- Block ----
 *
 * The canonical payload goes either to a buffer or straight into a hash, by
 * one function, so the two can never disagree. */
struct sink {
	struct ist_buf *buf;
	struct ist_sha256_ctx *hash;
};

static void sink_put(struct sink *s, const void *p, size_t len)
{
	if (s->buf)
		ist_buf_put(s->buf, p, len);
	else if (len)
		ist_sha256_update(s->hash, p, len);
}

static void sink_head(struct sink *s, uint8_t kind, size_t len)
{
	uint8_t h[5];
	h[0] = kind;
	ist_put_be32(h + 1, (uint32_t)len);
	sink_put(s, h, sizeof(h));
}

static int payload_write(const struct ist_block *b, struct sink *s)
{
	if (b->n_items > IST_WIRE_MAX_BLOCK_ITEMS)
		return -IST_EINVAL;
	uint8_t n[4];
	ist_put_be32(n, (uint32_t)b->n_items);
	sink_put(s, n, sizeof(n));
	for (size_t i = 0; i < b->n_items; i++) {
		const struct ist_payload_item *it = &b->items[i];
		switch (it->kind) {
		case IST_PAYLOAD_CHECKPOINT: {
			uint8_t cp[IST_WIRE_CHECKPOINT_BYTES];
			ist_wire_checkpoint_bytes(&it->u.checkpoint, cp);
			sink_head(s, (uint8_t)it->kind, sizeof(cp));
			sink_put(s, cp, sizeof(cp));
			break;
		}
		case IST_PAYLOAD_TRANSACTION: {
			uint8_t tx[IST_WIRE_MAX_TX_SIGNING_BYTES];
			size_t len;
			int r = ist_wire_tx_signing_bytes(&it->u.tx, tx, &len);
			if (r < 0)
				return r;
			sink_head(s, (uint8_t)it->kind, len + IST_SIG_BYTES);
			sink_put(s, tx, len);
			sink_put(s, it->u.tx.signature, IST_SIG_BYTES);
			break;
		}
		case IST_PAYLOAD_EVIDENCE:
		case IST_PAYLOAD_DKG:
		case IST_PAYLOAD_NONCE_COMMITMENTS:
		case IST_PAYLOAD_DATA:
			if (it->u.opaque.len > ist_wire_payload_opaque_max(it->kind))
				return -IST_EINVAL;
			sink_head(s, (uint8_t)it->kind, it->u.opaque.len);
			sink_put(s, it->u.opaque.data, it->u.opaque.len);
			break;
		default:
			return -IST_EINVAL;
		}
	}
	return 0;
}

int ist_wire_block_payload_canonical(const struct ist_block *b, struct ist_buf *out)
{
	struct sink s = { .buf = out };
	int r = payload_write(b, &s);
	if (r < 0) {
		if (!out->err)
			out->err = r;
		return r;
	}
	return ist_buf_err(out);
}

int ist_wire_block_payload_hash(const struct ist_block *b, uint8_t ret_hash32[IST_HASH_BYTES])
{
	struct ist_sha256_ctx h;
	ist_sha256_init(&h);
	struct sink s = { .hash = &h };
	int r = payload_write(b, &s);
	if (r < 0)
		return r;
	ist_sha256_final(&h, ret_hash32);
	return 0;
}

int ist_wire_block_header_bytes(const struct ist_block *b, uint8_t out[IST_WIRE_BLOCK_HEADER_BYTES])
{
	uint8_t payload_hash[IST_HASH_BYTES];
	int r = ist_wire_block_payload_hash(b, payload_hash);
	if (r < 0)
		return r;
	struct fixed w = FIXED(out, IST_WIRE_BLOCK_HEADER_BYTES);
	fx_tag(&w, IST_TAG_BLOCK);
	fx_be64(&w, b->network_id);
	fx_be64(&w, b->epoch);
	fx_be64(&w, b->view);
	fx_be64(&w, b->height);
	fx_put(&w, b->parent_id, sizeof(b->parent_id));
	fx_be32(&w, b->proposer);
	fx_be64(&w, b->timestamp_ms);
	fx_be64(&w, b->justify.epoch);
	fx_be64(&w, b->justify.view);
	fx_put(&w, b->justify.block_id, sizeof(b->justify.block_id));
	fx_put(&w, payload_hash, sizeof(payload_hash));
	IST_REQUIRE(w.off == IST_WIRE_BLOCK_HEADER_BYTES);
	return 0;
}

int ist_wire_block_id(const struct ist_block *b, uint8_t ret_id32[IST_HASH_BYTES])
{
	uint8_t h[IST_WIRE_BLOCK_HEADER_BYTES];
	int r = ist_wire_block_header_bytes(b, h);
	if (r < 0)
		return r;
	ist_sha256(h, sizeof(h), ret_id32);
	return 0;
}

/* ---- Consensus signing bytes ---- */

void ist_wire_proposal_signing_bytes_with_id(const struct ist_proposal *p, const uint8_t block_id32[IST_HASH_BYTES],
					     uint8_t out[IST_WIRE_PROPOSAL_SIGNING_BYTES])
{
	struct fixed w = FIXED(out, IST_WIRE_PROPOSAL_SIGNING_BYTES);
	fx_tag(&w, IST_TAG_PROPOSAL);
	fx_be64(&w, p->block.network_id);
	fx_be64(&w, p->block.epoch);
	fx_be64(&w, p->block.view);
	fx_be64(&w, p->block.height);
	fx_put(&w, block_id32, IST_HASH_BYTES);
	fx_u8(&w, p->has_tc ? 1 : 0);
	fx_be64(&w, p->has_tc ? p->tc.view : 0);
	IST_REQUIRE(w.off == IST_WIRE_PROPOSAL_SIGNING_BYTES);
}

int ist_wire_proposal_signing_bytes(const struct ist_proposal *p, uint8_t out[IST_WIRE_PROPOSAL_SIGNING_BYTES])
{
	uint8_t id[IST_HASH_BYTES];
	int r = ist_wire_block_id(&p->block, id);
	if (r < 0)
		return r;
	ist_wire_proposal_signing_bytes_with_id(p, id, out);
	return 0;
}

void ist_wire_vote_signing_bytes(uint64_t network_id, uint64_t epoch, uint64_t view,
				 const uint8_t block_id32[IST_HASH_BYTES], uint8_t out[IST_WIRE_VOTE_SIGNING_BYTES])
{
	struct fixed w = FIXED(out, IST_WIRE_VOTE_SIGNING_BYTES);
	fx_tag(&w, IST_TAG_VOTE);
	fx_be64(&w, network_id);
	fx_be64(&w, epoch);
	fx_be64(&w, view);
	fx_put(&w, block_id32, IST_HASH_BYTES);
	IST_REQUIRE(w.off == IST_WIRE_VOTE_SIGNING_BYTES);
}

void ist_wire_timeout_signing_bytes(uint64_t network_id, uint64_t epoch, uint64_t view, uint64_t high_qc_view,
				    uint8_t out[IST_WIRE_TIMEOUT_SIGNING_BYTES])
{
	struct fixed w = FIXED(out, IST_WIRE_TIMEOUT_SIGNING_BYTES);
	fx_tag(&w, IST_TAG_TIMEOUT);
	fx_be64(&w, network_id);
	fx_be64(&w, epoch);
	fx_be64(&w, view);
	fx_be64(&w, high_qc_view);
	IST_REQUIRE(w.off == IST_WIRE_TIMEOUT_SIGNING_BYTES);
}
