/*
 * The API's data source (api.h): status from the consensus thread's
 * snapshot, blocks from short LMDB read transactions. Runs on NNG's threads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "node/internal.h"
#include "storage/blocks.h"
#include "wire/canonical.h"
#include "wire/codec.h"

#ifndef IST_VERSION
#define IST_VERSION "0.0.0"
#endif

static int src_status(void *ctx, struct ist_api_status *out)
{
	struct ist_node *n = ctx;
	pthread_mutex_lock(&n->st_mu);
	out->height = n->st_height;
	out->view = n->st_view;
	out->epoch = n->st_epoch;
	out->last_commit_ms = n->st_last_commit_ms;
	memcpy(out->last_block_id, n->st_last_id, IST_HASH_BYTES);
	pthread_mutex_unlock(&n->st_mu);
	out->peers_connected = n->net ? (uint32_t)ist_net_peer_count(n->net) : 0;
	out->peers_total = n->g.n_validators ? (uint32_t)n->g.n_validators - 1 : 0;
	memcpy(out->node_key, n->pub, IST_ED25519_PUBKEY_BYTES);
	out->network_id = n->g.network_id;
	snprintf(out->chain_id, sizeof(out->chain_id), "%s", n->g.chain_id);
	snprintf(out->version, sizeof(out->version), "%s", IST_VERSION);
	return 0;
}

void ist_node_json_hex(struct ist_buf *b, const char *name, const uint8_t *p, size_t len)
{
	ist_buf_putf(b, "\"%s\":\"", name);
	ist_buf_put_hex(b, p, len);
	ist_buf_puts(b, "\"");
}

void ist_node_json_proof(struct ist_buf *b, const struct ist_inclusion_proof *p)
{
	ist_buf_putf(b, "{\"leaf_index\":\"%" PRIu64 "\",\"tree_size\":\"%" PRIu64 "\",\"path\":[", p->leaf_index,
		     p->tree_size);
	for (size_t i = 0; i < p->path_len; i++) {
		ist_buf_puts(b, i ? ",\"" : "\"");
		ist_buf_put_hex(b, p->path[i], IST_HASH_BYTES);
		ist_buf_puts(b, "\"");
	}
	ist_buf_puts(b, "]}");
}

void ist_node_json_checkpoint_fields(struct ist_buf *b, const struct ist_checkpoint *cp)
{
	ist_buf_putf(b, "\"src_chain\":\"%" PRIu64 "\",\"dst_chain\":\"%" PRIu64 "\",\"src_height\":\"%" PRIu64
		     "\",\"tree_size\":\"%" PRIu64 "\",", cp->src_chain, cp->dst_chain, cp->src_height, cp->tree_size);
	ist_node_json_hex(b, "root", cp->root, IST_HASH_BYTES);
}

static const char *item_kind(enum ist_payload_kind k)
{
	switch (k) {
	case IST_PAYLOAD_CHECKPOINT: return "checkpoint";
	case IST_PAYLOAD_TRANSACTION: return "transaction";
	case IST_PAYLOAD_EVIDENCE: return "evidence";
	case IST_PAYLOAD_DKG: return "dkg";
	case IST_PAYLOAD_NONCE_COMMITMENTS: return "nonce_commitments";
	case IST_PAYLOAD_DATA: return "data";
	}
	return "unknown";
}

/* One payload item: its kind and what a client needs to recognise it (a
 * checkpoint's fields, a transaction's id, the bytes of a data item, the
 * size of the other opaque kinds). */
static void item_json(struct ist_buf *out, const struct ist_payload_item *it)
{
	ist_buf_putf(out, "{\"kind\":\"%s\"", item_kind(it->kind));
	switch (it->kind) {
	case IST_PAYLOAD_CHECKPOINT:
		ist_buf_puts(out, ",");
		ist_node_json_checkpoint_fields(out, &it->u.checkpoint);
		break;
	case IST_PAYLOAD_TRANSACTION: {
		uint8_t id[IST_HASH_BYTES];
		if (ist_wire_tx_id(&it->u.tx, id) == 0) {
			ist_buf_puts(out, ",");
			ist_node_json_hex(out, "id", id, IST_HASH_BYTES);
		}
		break;
	}
	case IST_PAYLOAD_DATA:
		ist_buf_puts(out, ",");
		ist_node_json_hex(out, "data", it->u.opaque.data, it->u.opaque.len);
		break;
	case IST_PAYLOAD_EVIDENCE:
	case IST_PAYLOAD_DKG:
	case IST_PAYLOAD_NONCE_COMMITMENTS:
		ist_buf_putf(out, ",\"bytes\":%zu", it->u.opaque.len);
		break;
	}
	ist_buf_puts(out, "}");
}

int ist_node_block_json(const struct ist_block *b, const uint8_t id[IST_HASH_BYTES], struct ist_buf *out)
{
	/* u64 values are decimal strings (JSON readers round above 2^53), as
	 * in genesis.json */
	ist_buf_puts(out, "{");
	ist_node_json_hex(out, "id", id, IST_HASH_BYTES);
	ist_buf_putf(out, ",\"height\":\"%" PRIu64 "\",\"epoch\":\"%" PRIu64 "\",\"view\":\"%" PRIu64 "\",", b->height,
		b->epoch, b->view);
	ist_node_json_hex(out, "parent_id", b->parent_id, IST_HASH_BYTES);
	ist_buf_putf(out, ",\"network_id\":\"%" PRIu64 "\",\"proposer\":%" PRIu32 ",\"timestamp_ms\":\"%" PRIu64 "\",",
		b->network_id, b->proposer, b->timestamp_ms);
	ist_buf_putf(out, "\"justify\":{\"epoch\":\"%" PRIu64 "\",\"view\":\"%" PRIu64 "\",", b->justify.epoch,
		b->justify.view);
	ist_node_json_hex(out, "block_id", b->justify.block_id, IST_HASH_BYTES);
	ist_buf_puts(out, ",");
	ist_node_json_hex(out, "signers", b->justify.signers, IST_WIRE_BITMAP_BYTES);
	ist_buf_putf(out, ",\"signatures\":%zu},\"items\":[", b->justify.n_sigs);
	for (size_t i = 0; i < b->n_items; i++) {
		if (i)
			ist_buf_puts(out, ",");
		item_json(out, &b->items[i]);
	}
	ist_buf_puts(out, "]}");
	return ist_buf_err(out);
}

static int src_block(void *ctx, uint64_t height, struct ist_buf *json_out)
{
	struct ist_node *n = ctx;
	struct ist_txn *txn;
	int r = ist_store_read_begin(n->store, &txn);
	if (r < 0)
		return r;
	uint8_t id[IST_HASH_BYTES];
	const uint8_t *enc;
	size_t len;
	struct ist_block *b = NULL;
	r = ist_store_height_get(txn, height, id);
	if (r == 0)
		r = ist_store_block_get(txn, id, &enc, &len);
	if (r == 0 && ist_wire_block_decode(enc, len, &b, NULL) < 0)
		r = -IST_EDB_CORRUPT;
	ist_store_read_end(txn);
	if (r < 0)
		return r;
	r = ist_node_block_json(b, id, json_out);
	ist_wire_block_free(b);
	return r;
}

static bool src_healthy(void *ctx, char *why, size_t why_len)
{
	struct ist_node *n = ctx;
	pthread_mutex_lock(&n->st_mu);
	bool failed = n->st_failed;
	pthread_mutex_unlock(&n->st_mu);
	if (failed) {
		snprintf(why, why_len, "the consensus thread stopped on an error");
		return false;
	}
	return true;
}

void ist_node_api_source(struct ist_node *n, struct ist_api_source *ret)
{
	*ret = (struct ist_api_source){
		.status = src_status,
		.block = src_block,
		.healthy = src_healthy,
		.submit_tx = ist_node_submit,
		.get = ist_node_api_get,
		.ctx = n,
	};
}
