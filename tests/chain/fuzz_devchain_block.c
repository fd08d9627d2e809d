/*
 * Fuzz target 'chain-devchain-block': the parsers of isthmus-devchain's JSON
 * answers (chain/devchain_json.h), decoders of what an RPC endpoint sends.
 *
 * The bytes go to the block parser and the head parser. On failure the error
 * must be -IST_EPARSE or -IST_ENOMEM with a one-line reason. On success the
 * block must respect the limits, and writing it back as JSON (u64s as
 * decimal strings, hex with "0x") and parsing that must give the same block.
 *
 * Seed corpus: tests/fuzz/corpus/chain-devchain-block/ (hand-written: valid
 * blocks and heads, and one of most classes of error).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/chain.h"
#include "chain/devchain_json.h"
#include "common/bytes.h"
#include "common/err.h"
#include "wire/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz-chain-devchain-block: %s\n", what);
		abort();
	}
}

static void check_failure(int r, const char *why)
{
	check(r == -IST_EPARSE || r == -IST_ENOMEM, "unexpected error code");
	check(why[0] != '\0', "failure without a reason");
	check(strchr(why, '\n') == NULL && strchr(why, '\r') == NULL, "reason of more than one line");
}

static void put_hex(struct ist_buf *b, const char *key, const uint8_t *p, size_t len)
{
	ist_buf_putf(b, "\"%s\":\"0x", key);
	ist_buf_put_hex(b, p, len);
	ist_buf_puts(b, "\",");
}

static void block_json(const struct ist_chain_block *blk, struct ist_buf *b)
{
	ist_buf_putf(b, "{\"height\":\"%" PRIu64 "\",", blk->height);
	put_hex(b, "hash", blk->hash, 32);
	put_hex(b, "parent_hash", blk->parent_hash, 32);
	ist_buf_puts(b, "\"timestamp_ms\":0,\"finalized\":false,\"messages\":[");
	for (size_t i = 0; i < blk->n_msgs; i++) {
		const struct ist_message *m = &blk->msgs[i];
		ist_buf_putf(b, "%s{\"src_chain\":\"%" PRIu64 "\",\"dst_chain\":\"%" PRIu64 "\",\"nonce\":\"%" PRIu64
			     "\",\"value\":\"%" PRIu64 "\",", i ? "," : "", m->src_chain, m->dst_chain, m->nonce,
			     m->value);
		put_hex(b, "sender", m->sender, 32);
		put_hex(b, "recipient", m->recipient, 32);
		put_hex(b, "payload", m->payload, m->payload_len);
		ist_buf_puts(b, "\"id\":\"");
		ist_buf_put_hex(b, blk->ids[i], IST_HASH_BYTES);
		ist_buf_puts(b, "\"}");
	}
	ist_buf_puts(b, "]}");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char why[512] = "";

	struct ist_chain_devchain_head h;
	int r = ist_chain_devchain_parse_head(text, size, &h, why, sizeof(why));
	if (r < 0)
		check_failure(r, why);
	else
		check(h.finalized_height <= h.height, "finalized above head");

	struct ist_chain_block b;
	why[0] = '\0';
	r = ist_chain_devchain_parse_block(text, size, &b, why, sizeof(why));
	if (r < 0) {
		check_failure(r, why);
		return 0;
	}
	check(b.n_msgs <= IST_CHAIN_DEVCHAIN_MAX_MSGS, "too many messages");
	check((b.n_msgs == 0) == (b.msgs == NULL) && (b.n_msgs == 0) == (b.ids == NULL), "arrays and count differ");
	for (size_t i = 0; i < b.n_msgs; i++) {
		check(b.msgs[i].payload_len <= IST_WIRE_MAX_MSG_PAYLOAD, "payload over the limit");
		check((b.msgs[i].payload_len == 0) == (b.msgs[i].payload == NULL), "payload and length differ");
	}

	struct ist_buf out;
	ist_buf_init(&out, 0);
	block_json(&b, &out);
	check(ist_buf_err(&out) == 0, "writing the block failed");
	struct ist_chain_block again;
	r = ist_chain_devchain_parse_block((const char *)out.data, out.len, &again, why, sizeof(why));
	if (r == -IST_EPARSE && out.len > IST_CHAIN_DEVCHAIN_MAX_BODY) {
		/* the written form may be longer than the input was */
	} else {
		check(r == 0, "the block written back does not parse");
		check(ist_chain_block_equal(&b, &again), "the block written back is another block");
		ist_chain_block_fini(&again);
	}
	ist_buf_fini(&out);
	ist_chain_block_fini(&b);
	return 0;
}
