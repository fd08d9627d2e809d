/*
 * The API's data source (api.h): status from the consensus thread's
 * snapshot, blocks from short LMDB read transactions. Runs on NNG's threads.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "node/internal.h"
#include "storage/blocks.h"
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

static void put_str(struct ist_buf *b, const char *s)
{
	ist_buf_put(b, s, strlen(s));
}

static void put_fmt(struct ist_buf *b, const char *fmt, ...) IST_PRINTF(2, 3);
static void put_fmt(struct ist_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k > 0)
		ist_buf_put(b, tmp, (size_t)k < sizeof(tmp) ? (size_t)k : sizeof(tmp) - 1);
}

static void put_hex(struct ist_buf *b, const char *name, const uint8_t *p, size_t len)
{
	char hex[2 * IST_WIRE_BITMAP_BYTES + 1];
	if (len > IST_WIRE_BITMAP_BYTES)
		len = IST_WIRE_BITMAP_BYTES;
	ist_hex_encode(p, len, hex);
	put_fmt(b, "\"%s\":\"%s\"", name, hex);
}

static const char *item_kind(enum ist_payload_kind k)
{
	switch (k) {
	case IST_PAYLOAD_CHECKPOINT: return "checkpoint";
	case IST_PAYLOAD_TRANSACTION: return "transaction";
	case IST_PAYLOAD_EVIDENCE: return "evidence";
	case IST_PAYLOAD_DKG: return "dkg";
	case IST_PAYLOAD_NONCE_COMMITMENTS: return "nonce_commitments";
	}
	return "unknown";
}

int ist_node_block_json(const struct ist_block *b, const uint8_t id[IST_HASH_BYTES], struct ist_buf *out)
{
	/* u64 values are decimal strings (JSON readers round above 2^53), as
	 * in genesis.json */
	put_str(out, "{");
	put_hex(out, "id", id, IST_HASH_BYTES);
	put_fmt(out, ",\"height\":\"%" PRIu64 "\",\"epoch\":\"%" PRIu64 "\",\"view\":\"%" PRIu64 "\",", b->height,
		b->epoch, b->view);
	put_hex(out, "parent_id", b->parent_id, IST_HASH_BYTES);
	put_fmt(out, ",\"network_id\":\"%" PRIu64 "\",\"proposer\":%" PRIu32 ",\"timestamp_ms\":\"%" PRIu64 "\",",
		b->network_id, b->proposer, b->timestamp_ms);
	put_fmt(out, "\"justify\":{\"epoch\":\"%" PRIu64 "\",\"view\":\"%" PRIu64 "\",", b->justify.epoch,
		b->justify.view);
	put_hex(out, "block_id", b->justify.block_id, IST_HASH_BYTES);
	put_str(out, ",");
	put_hex(out, "signers", b->justify.signers, IST_WIRE_BITMAP_BYTES);
	put_fmt(out, ",\"signatures\":%zu},\"items\":[", b->justify.n_sigs);
	for (size_t i = 0; i < b->n_items; i++)
		put_fmt(out, "%s{\"kind\":\"%s\"}", i ? "," : "", item_kind(b->items[i].kind));
	put_str(out, "]}");
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

static int src_submit_tx(void *ctx, const uint8_t *body, size_t len, struct ist_buf *json_out)
{
	(void)ctx;
	(void)body;
	(void)len;
	(void)json_out;
	/* the ledger (src/state) fixes the transaction encoding: until then
	 * blocks are empty and /v1/txs answers 501 */
	return -IST_EUNSUPPORTED;
}

void ist_node_api_source(struct ist_node *n, struct ist_api_source *ret)
{
	*ret = (struct ist_api_source){
		.status = src_status,
		.block = src_block,
		.healthy = src_healthy,
		.submit_tx = src_submit_tx,
		.ctx = n,
	};
}
