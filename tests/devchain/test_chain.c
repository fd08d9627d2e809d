/*
 * The devchain's chain library in process (devchain/chain.h), on a manual
 * clock with blocks produced by hand: genesis and block hashes recomputed
 * independently, finality by depth, nonces per route and their order in
 * blocks, the per-block payload limit, persistence across a reopen, the
 * lock and the chain id check, the reorg and rewrite hooks, the inbox with
 * real deliveries (tests/state/fixture.h), and the request body decoders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "devchain/body.h"
#include "devchain/chain.h"
#include "fixture.h"
#include "lib/ist_test.h"
#include "wire/canonical.h"
#include "wire/codec.h"

static struct ist_clock_manual clk;
static char *dir;

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
	ist_clock_manual_init(&clk, 1700000000000ull);
	dir = ist_test_tmpdir("devchain");
}

static void teardown(void)
{
	ist_test_rmtree(dir);
	free(dir);
}

static struct ist_dc *open_chain(uint64_t id, uint64_t depth, const struct ist_valset *trust)
{
	struct ist_dc_options o = { .data_dir = dir, .chain_id = id, .block_ms = 100, .finality_depth = depth,
				    .trust = trust, .accept = IST_VERIFY_ACCEPT_MULTISIG, .clock = &clk.clock };
	struct ist_dc *c = NULL;
	char err[IST_DC_ERRBUF_BYTES];
	int r = ist_dc_open(&o, &c, err, sizeof(err));
	ck_assert_msg(r == 0, "open: %s", err);
	return c;
}

static void produce(struct ist_dc *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ist_clock_manual_advance(&clk, 100);
		ck_assert_int_eq(ist_dc_produce(c, NULL), 0);
	}
}

static void send_to(struct ist_dc *c, uint64_t dst, const char *payload, uint64_t want_nonce)
{
	struct ist_message m;
	memset(&m, 0, sizeof(m));
	m.dst_chain = dst;
	memset(m.recipient, 0x22, sizeof(m.recipient));
	m.value = 5;
	m.payload = (uint8_t *)payload;
	m.payload_len = payload ? strlen(payload) : 0;
	struct ist_dc_msg sent;
	ck_assert_int_eq(ist_dc_send(c, &m, &sent), 0);
	ck_assert_uint_eq(sent.m.nonce, want_nonce);
	ck_assert_uint_eq(sent.m.src_chain, ist_dc_chain_id(c));
	uint8_t id[IST_HASH_BYTES];
	ck_assert_int_eq(ist_wire_message_id(&sent.m, id), 0);
	ck_assert_mem_eq(id, sent.id, sizeof(id));
}

/* The block hash, written out from the documented layout. */
static void expect_hash(uint64_t chain, const struct ist_dc_block *b)
{
	uint8_t buf[8192];
	size_t n = 0;
	memcpy(buf, "isthmus/devchain/block/v1", 25);
	n = 25;
	ist_put_be64(buf + n, chain);
	ist_put_be64(buf + n + 8, b->height);
	memcpy(buf + n + 16, b->parent, 32);
	ist_put_be64(buf + n + 48, b->timestamp_ms);
	ist_put_be32(buf + n + 56, (uint32_t)b->n_msgs);
	n += 60;
	for (size_t i = 0; i < b->n_msgs; i++) {
		ck_assert_uint_lt(n + 32, sizeof(buf));
		memcpy(buf + n, b->msgs[i].id, 32);
		n += 32;
	}
	uint8_t h[IST_HASH_BYTES];
	ist_sha256(buf, n, h);
	ck_assert_mem_eq(h, b->hash, sizeof(h));
}

/* Every block's hash and parent link, from genesis to the head. */
static void expect_chain(struct ist_dc *c)
{
	struct ist_dc_head head;
	ck_assert_int_eq(ist_dc_head(c, &head), 0);
	uint8_t prev[IST_HASH_BYTES] = { 0 };
	for (uint64_t h = 0; h <= head.height; h++) {
		struct ist_dc_block b;
		ck_assert_int_eq(ist_dc_block_get(c, h, &b), 0);
		ck_assert_mem_eq(b.parent, prev, sizeof(prev));
		expect_hash(ist_dc_chain_id(c), &b);
		for (size_t i = 0; i < b.n_msgs; i++) {
			uint8_t id[IST_HASH_BYTES];
			ck_assert_int_eq(ist_wire_message_id(&b.msgs[i].m, id), 0);
			ck_assert_mem_eq(id, b.msgs[i].id, sizeof(id));
		}
		memcpy(prev, b.hash, sizeof(prev));
		ist_dc_block_fini(&b);
	}
	ck_assert_mem_eq(prev, head.hash, sizeof(prev));
}

START_TEST(test_blocks_and_finality)
{
	struct ist_dc *c = open_chain(7, 2, NULL);
	struct ist_dc_head h;
	ck_assert_int_eq(ist_dc_head(c, &h), 0);
	ck_assert_uint_eq(h.height, 0);
	ck_assert_uint_eq(h.finalized, 0);
	for (uint64_t i = 1; i <= 5; i++) {
		produce(c, 1);
		ck_assert_int_eq(ist_dc_head(c, &h), 0);
		ck_assert_uint_eq(h.height, i);
		ck_assert_uint_eq(h.finalized, i > 2 ? i - 2 : 0);
	}
	struct ist_dc_block b;
	ck_assert_int_eq(ist_dc_block_get(c, 3, &b), 0);
	ck_assert(b.finalized);
	ck_assert_uint_eq(b.timestamp_ms, 1700000000000ull + 300);
	ist_dc_block_fini(&b);
	ck_assert_int_eq(ist_dc_block_get(c, 4, &b), 0);
	ck_assert(!b.finalized);
	ist_dc_block_fini(&b);
	ck_assert_int_eq(ist_dc_block_get(c, 6, &b), -IST_ENOTFOUND);
	expect_chain(c);
	ist_dc_close(c);
}
END_TEST

START_TEST(test_send_and_include)
{
	struct ist_dc *c = open_chain(1, 2, NULL);
	send_to(c, 2, "a", 0);
	send_to(c, 2, "b", 1);
	send_to(c, 3, NULL, 0);
	send_to(c, 2, "c", 2);
	struct ist_message m;
	memset(&m, 0, sizeof(m));
	struct ist_dc_msg sent;
	m.dst_chain = 1;
	ck_assert_int_eq(ist_dc_send(c, &m, &sent), -IST_EINVAL);
	m.dst_chain = 0;
	ck_assert_int_eq(ist_dc_send(c, &m, &sent), -IST_EINVAL);

	produce(c, 1);
	struct ist_dc_block b;
	ck_assert_int_eq(ist_dc_block_get(c, 1, &b), 0);
	ck_assert_uint_eq(b.n_msgs, 4);
	/* in the order sent: nonce order within each route */
	static const uint64_t dst[] = { 2, 2, 3, 2 }, nonce[] = { 0, 1, 0, 2 };
	for (size_t i = 0; i < 4; i++) {
		ck_assert_uint_eq(b.msgs[i].m.src_chain, 1);
		ck_assert_uint_eq(b.msgs[i].m.dst_chain, dst[i]);
		ck_assert_uint_eq(b.msgs[i].m.nonce, nonce[i]);
		ck_assert_uint_eq(b.msgs[i].m.value, 5);
	}
	ck_assert_uint_eq(b.msgs[3].m.payload_len, 1);
	ck_assert_int_eq(b.msgs[3].m.payload[0], 'c');
	ist_dc_block_fini(&b);
	/* the next block is empty */
	produce(c, 1);
	ck_assert_int_eq(ist_dc_block_get(c, 2, &b), 0);
	ck_assert_uint_eq(b.n_msgs, 0);
	ist_dc_block_fini(&b);
	expect_chain(c);
	ist_dc_close(c);
}
END_TEST

START_TEST(test_block_payload_limit)
{
	struct ist_dc *c = open_chain(1, 2, NULL);
	/* 17 messages of 64 KiB: 16 fill a block's 1 MiB, the last goes next */
	struct ist_message m;
	memset(&m, 0, sizeof(m));
	m.dst_chain = 2;
	m.payload_len = IST_WIRE_MAX_MSG_PAYLOAD;
	m.payload = calloc(1, m.payload_len);
	ck_assert_ptr_nonnull(m.payload);
	for (int i = 0; i < 17; i++) {
		struct ist_dc_msg sent;
		m.payload[0] = (uint8_t)i;
		ck_assert_int_eq(ist_dc_send(c, &m, &sent), 0);
	}
	free(m.payload);
	produce(c, 2);
	struct ist_dc_block b;
	ck_assert_int_eq(ist_dc_block_get(c, 1, &b), 0);
	ck_assert_uint_eq(b.n_msgs, 16);
	ist_dc_block_fini(&b);
	ck_assert_int_eq(ist_dc_block_get(c, 2, &b), 0);
	ck_assert_uint_eq(b.n_msgs, 1);
	ck_assert_uint_eq(b.msgs[0].m.nonce, 16);
	ck_assert_int_eq(b.msgs[0].m.payload[0], 16);
	ist_dc_block_fini(&b);
	ist_dc_close(c);
}
END_TEST

START_TEST(test_reopen)
{
	struct ist_dc *c = open_chain(9, 2, NULL);
	send_to(c, 2, "x", 0);
	produce(c, 3);
	send_to(c, 2, "y", 1);   /* still waiting for a block */
	struct ist_dc_head before;
	ck_assert_int_eq(ist_dc_head(c, &before), 0);

	/* one process at a time */
	struct ist_dc_options o = { .data_dir = dir, .chain_id = 9, .block_ms = 100, .finality_depth = 2,
				    .clock = &clk.clock };
	struct ist_dc *other = NULL;
	char err[IST_DC_ERRBUF_BYTES];
	ck_assert_int_eq(ist_dc_open(&o, &other, err, sizeof(err)), -IST_EDB_LOCKED);
	ck_assert_ptr_nonnull(strstr(err, "in use by another isthmus-devchain"));
	ist_dc_close(c);

	/* another chain id is refused */
	o.chain_id = 10;
	ck_assert_int_eq(ist_dc_open(&o, &other, err, sizeof(err)), -IST_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "holds chain 9, not --chain-id 10"));

	/* the same chain: same head, the waiting message, the next nonce */
	c = open_chain(9, 2, NULL);
	struct ist_dc_head after;
	ck_assert_int_eq(ist_dc_head(c, &after), 0);
	ck_assert_uint_eq(after.height, before.height);
	ck_assert_mem_eq(after.hash, before.hash, IST_HASH_BYTES);
	send_to(c, 2, "z", 2);
	produce(c, 1);
	struct ist_dc_block b;
	ck_assert_int_eq(ist_dc_block_get(c, 4, &b), 0);
	ck_assert_uint_eq(b.n_msgs, 2);
	ck_assert_uint_eq(b.msgs[0].m.nonce, 1);
	ck_assert_uint_eq(b.msgs[1].m.nonce, 2);
	ist_dc_block_fini(&b);
	expect_chain(c);
	ist_dc_close(c);
}
END_TEST

START_TEST(test_reorg)
{
	struct ist_dc *c = open_chain(1, 3, NULL);
	produce(c, 4);
	send_to(c, 2, "m0", 0);
	produce(c, 1);            /* block 5: m0 */
	send_to(c, 2, "m1", 1);
	send_to(c, 3, "n0", 0);
	produce(c, 1);            /* block 6: m1, n0 */
	produce(c, 1);            /* block 7: empty; head 7, final 4 */
	struct ist_dc_block old[3];
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ist_dc_block_get(c, 5 + (uint64_t)i, &old[i]), 0);

	struct ist_dc_head oh, nh;
	char why[256];
	ck_assert_int_eq(ist_dc_reorg(c, 4, &oh, &nh, why, sizeof(why)), -IST_ERANGE);
	ck_assert_ptr_nonnull(strstr(why, "which is final"));
	ck_assert_int_eq(ist_dc_reorg(c, 0, &oh, &nh, why, sizeof(why)), -IST_ERANGE);
	ck_assert_int_eq(ist_dc_reorg(c, 3, &oh, &nh, why, sizeof(why)), 0);
	ck_assert_uint_eq(oh.height, 7);
	ck_assert_uint_eq(nh.height, 8);
	ck_assert_uint_eq(nh.finalized, 5);

	/* block 5 is now empty; 6, 7, 8 carry the old 5, 6, 7; all new hashes */
	struct ist_dc_block b;
	ck_assert_int_eq(ist_dc_block_get(c, 5, &b), 0);
	ck_assert_uint_eq(b.n_msgs, 0);
	ck_assert_mem_eq(b.parent, old[0].parent, IST_HASH_BYTES);
	ck_assert(memcmp(b.hash, old[0].hash, IST_HASH_BYTES) != 0);
	ist_dc_block_fini(&b);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(ist_dc_block_get(c, 6 + (uint64_t)i, &b), 0);
		ck_assert(memcmp(b.hash, old[i].hash, IST_HASH_BYTES) != 0);
		if (i < 2)
			ck_assert(memcmp(b.hash, old[i + 1].hash, IST_HASH_BYTES) != 0);
		ck_assert_uint_eq(b.n_msgs, old[i].n_msgs);
		for (size_t k = 0; k < b.n_msgs; k++)
			ck_assert_mem_eq(b.msgs[k].id, old[i].msgs[k].id, IST_HASH_BYTES);
		ist_dc_block_fini(&b);
		ist_dc_block_fini(&old[i]);
	}
	expect_chain(c);
	/* the new blocks are not final either: another reorg may replace them */
	ck_assert_int_eq(ist_dc_reorg(c, 3, &oh, &nh, why, sizeof(why)), 0);
	/* nonces continue after the reorg */
	send_to(c, 2, "m2", 2);
	ist_dc_close(c);
}
END_TEST

START_TEST(test_rewrite_finalized)
{
	struct ist_dc *c = open_chain(1, 2, NULL);
	send_to(c, 2, "hello", 0);
	send_to(c, 2, NULL, 1);
	produce(c, 1);             /* block 1: two messages */
	produce(c, 4);             /* head 5, final 3 */
	struct ist_dc_block before1, before4;
	ck_assert_int_eq(ist_dc_block_get(c, 1, &before1), 0);
	ck_assert_int_eq(ist_dc_block_get(c, 4, &before4), 0);

	struct ist_dc_block b;
	uint8_t old_hash[IST_HASH_BYTES], old_id[IST_HASH_BYTES];
	char why[256];
	ck_assert_int_eq(ist_dc_rewrite_finalized(c, 0, &b, old_hash, old_id, why, sizeof(why)), -IST_ERANGE);
	ck_assert_int_eq(ist_dc_rewrite_finalized(c, 4, &b, old_hash, old_id, why, sizeof(why)), -IST_ERANGE);
	ck_assert_ptr_nonnull(strstr(why, "not final"));
	ck_assert_int_eq(ist_dc_rewrite_finalized(c, 2, &b, old_hash, old_id, why, sizeof(why)), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_dc_rewrite_finalized(c, 1, &b, old_hash, old_id, why, sizeof(why)), 0);
	ck_assert_mem_eq(old_hash, before1.hash, IST_HASH_BYTES);
	ck_assert_mem_eq(old_id, before1.msgs[0].id, IST_HASH_BYTES);
	ck_assert(memcmp(b.hash, before1.hash, IST_HASH_BYTES) != 0);
	ck_assert(memcmp(b.msgs[0].id, before1.msgs[0].id, IST_HASH_BYTES) != 0);
	ck_assert_int_eq(b.msgs[0].m.payload[0], 'h' ^ 1);
	ck_assert_mem_eq(b.msgs[1].id, before1.msgs[1].id, IST_HASH_BYTES);
	ist_dc_block_fini(&b);
	/* later reads show it, and later blocks hang from it */
	ck_assert_int_eq(ist_dc_block_get(c, 4, &b), 0);
	ck_assert(memcmp(b.hash, before4.hash, IST_HASH_BYTES) != 0);
	ist_dc_block_fini(&b);
	expect_chain(c);
	/* an empty payload becomes the one byte 0x01 */
	send_to(c, 3, NULL, 0);
	produce(c, 3);             /* block 6: the message; head 8, final 6 */
	ck_assert_int_eq(ist_dc_rewrite_finalized(c, 6, &b, old_hash, old_id, why, sizeof(why)), 0);
	ck_assert_uint_eq(b.msgs[0].m.payload_len, 1);
	ck_assert_int_eq(b.msgs[0].m.payload[0], 1);
	ist_dc_block_fini(&b);
	expect_chain(c);
	ist_dc_block_fini(&before1);
	ist_dc_block_fini(&before4);
	ist_dc_close(c);
}
END_TEST

START_TEST(test_inbox)
{
	static struct fx_spec s;
	fx_spec_default(&s, 4, 77);
	s.dst_chain = 5;
	static struct ist_valset vs;
	ck_assert_int_eq(fx_valset(&s, &vs), 0);
	static struct ist_delivery d;
	ck_assert_int_eq(fx_delivery(&s, &d), 0);
	enum ist_dc_refusal why;
	struct ist_verify_result vr;
	struct ist_dc_inbox_entry e;

	/* without a trusted set: refused */
	struct ist_dc *c = open_chain(5, 2, NULL);
	ck_assert_int_eq(ist_dc_deliver(c, &d, &why, &vr, &e), 0);
	ck_assert_int_eq(why, IST_DC_REFUSED_NO_TRUST);
	ck_assert_str_eq(ist_dc_refusal_name(why, &vr), "no-validator-set");
	ist_dc_close(c);

	c = open_chain(5, 2, &vs);
	produce(c, 2);
	ck_assert_int_eq(ist_dc_inbox_get(c, 1, 3, &e), -IST_ENOTFOUND);
	ck_assert_int_eq(ist_dc_deliver(c, &d, &why, &vr, &e), 0);
	ck_assert_int_eq(why, IST_DC_DELIVERED);
	ck_assert_uint_eq(e.height, 2);
	uint8_t id[IST_HASH_BYTES];
	ck_assert_int_eq(ist_wire_message_id(&d.message, id), 0);
	ck_assert_mem_eq(e.message_id, id, sizeof(id));
	ck_assert_int_eq(ist_dc_inbox_get(c, 1, 3, &e), 0);
	ck_assert_mem_eq(e.message_id, id, sizeof(id));

	/* the same again: a replay, of the same message */
	produce(c, 1);
	ck_assert_int_eq(ist_dc_deliver(c, &d, &why, &vr, &e), 0);
	ck_assert_int_eq(why, IST_DC_REFUSED_REPLAY);
	ck_assert_uint_eq(e.height, 2);
	ck_assert_mem_eq(e.message_id, vr.message_id, IST_HASH_BYTES);

	/* a forgery: refused with its reason, the inbox unchanged */
	d.certificate.sigs[0][5] ^= 1;
	ck_assert_int_eq(ist_dc_deliver(c, &d, &why, &vr, &e), 0);
	ck_assert_int_eq(why, IST_DC_REFUSED_VERIFY);
	ck_assert_str_eq(ist_dc_refusal_name(why, &vr), "bad-signature");
	d.certificate.sigs[0][5] ^= 1;
	ist_dc_close(c);
	c = open_chain(5, 2, &vs);
	ck_assert_int_eq(ist_dc_inbox_get(c, 1, 3, &e), 0);   /* kept across a reopen */
	ck_assert_int_eq(ist_dc_deliver(c, &d, &why, &vr, &e), 0);
	ck_assert_int_eq(why, IST_DC_REFUSED_REPLAY);
	ist_dc_close(c);
	ist_wire_delivery_fini(&d);
}
END_TEST

START_TEST(test_bodies)
{
	struct ist_message m;
	struct ist_json_err err;
	char line[1024];
#define R32 "2222222222222222222222222222222222222222222222222222222222222222"
	const char *ok = "{\"dst_chain\":2,\"recipient\":\"" R32 "\",\"sender\":\"0x" R32 "\",\"value\":\"18446744073709551615\","
			 "\"payload\":\"00ff\"}";
	ck_assert_int_eq(ist_dc_parse_send(ok, strlen(ok), &m, &err), 0);
	ck_assert_uint_eq(m.dst_chain, 2);
	ck_assert_uint_eq(m.value, UINT64_MAX);
	ck_assert_uint_eq(m.payload_len, 2);
	ck_assert_int_eq(m.payload[1], 0xff);
	ck_assert_int_eq(m.sender[0], 0x22);
	ist_wire_message_fini(&m);
	const char *min = "{\"dst_chain\":2,\"recipient\":\"" R32 "\"}";
	ck_assert_int_eq(ist_dc_parse_send(min, strlen(min), &m, &err), 0);
	ck_assert_uint_eq(m.payload_len, 0);
	ck_assert_ptr_null(m.payload);
	ck_assert_int_eq(m.sender[31], 0);

	static const struct { const char *body; const char *line; } bad[] = {
		{ "", "request body: empty (a JSON object is expected)" },
		{ "{", "request body: line 1, column 1: invalid JSON" },
		{ "{\"recipient\":\"" R32 "\"}", "request body: dst_chain: missing required field" },
		{ "{\"dst_chain\":0,\"recipient\":\"" R32 "\"}", "request body: dst_chain: must be a positive integer (got 0)" },
		{ "{\"dst_chain\":2}", "request body: recipient: missing required field" },
		{ "{\"dst_chain\":2,\"recipient\":\"" R32 "\",\"payload\":\"abc\"}",
		  "request body: payload: must be an even number of hex digits" },
		{ "{\"dst_chain\":2,\"recipient\":\"" R32 "\",\"payload\":\"zz\"}",
		  "request body: payload: must be hex digits (got a non-hex character)" },
		{ "{\"dst_chain\":2,\"recipient\":\"" R32 "\",\"nonce\":3}",
		  "request body: nonce: unknown field" },
		{ "{\"dst_chain\":2,\"recipient\":\"" R32 "\",\"value\":-1}",
		  "request body: value: must be a non-negative integer (got -1)" },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(bad); i++) {
		int r = ist_dc_parse_send(bad[i].body, strlen(bad[i].body), &m, &err);
		ck_assert_int_lt(r, 0);
		ist_json_err_format(&err, line, sizeof(line));
		ck_assert_msg(strncmp(line, bad[i].line, strlen(bad[i].line)) == 0, "case %zu: %s", i, line);
	}
	/* a payload one byte over the limit */
	size_t n = 2 * (IST_WIRE_MAX_MSG_PAYLOAD + 1);
	char *big = malloc(n + 200);
	ck_assert_ptr_nonnull(big);
	int k = snprintf(big, 200, "{\"dst_chain\":2,\"recipient\":\"" R32 "\",\"payload\":\"");
	memset(big + k, 'a', n);
	memcpy(big + k + n, "\"}", 3);
	ck_assert_int_lt(ist_dc_parse_send(big, strlen(big), &m, &err), 0);
	ck_assert_str_eq(err.field, "payload");
	free(big);

	/* the inbox body */
	struct ist_delivery *d = NULL;
	const char *nodel = "{\"delivery\":\"\"}";
	ck_assert_int_eq(ist_dc_parse_inbox(nodel, strlen(nodel), &d, &err), -IST_EPARSE);
	ck_assert_str_eq(err.field, "delivery");
	const char *junk = "{\"delivery\":\"0a00\",\"x\":1}";
	ck_assert_int_eq(ist_dc_parse_inbox(junk, strlen(junk), &d, &err), -IST_ECONFIG);
	static struct fx_spec s;
	fx_spec_default(&s, 3, 5);
	static struct ist_delivery real;
	ck_assert_int_eq(fx_delivery(&s, &real), 0);
	uint8_t *enc;
	size_t len;
	ck_assert_int_eq(ist_wire_delivery_encode(&real, &enc, &len), 0);
	char *body = malloc(2 * len + 32);
	ck_assert_ptr_nonnull(body);
	k = sprintf(body, "{\"delivery\":\"");
	ist_hex_encode(enc, len, body + k);
	strcat(body, "\"}");
	ck_assert_int_eq(ist_dc_parse_inbox(body, strlen(body), &d, &err), 0);
	ck_assert(ist_wire_delivery_equal(d, &real));
	ist_wire_delivery_free(d);
	free(body);
	free(enc);
	ist_wire_delivery_fini(&real);

	/* the hooks' bodies */
	uint64_t v;
	ck_assert_int_eq(ist_dc_parse_u64_body("{\"depth\":3}", 11, "depth", 1, &v, &err), 0);
	ck_assert_uint_eq(v, 3);
	ck_assert_int_lt(ist_dc_parse_u64_body("{\"depth\":0}", 11, "depth", 1, &v, &err), 0);
	ck_assert_int_lt(ist_dc_parse_u64_body("{\"height\":1}", 12, "depth", 1, &v, &err), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("devchain-chain");
	TCase *tc = tcase_create("chain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_blocks_and_finality);
	tcase_add_test(tc, test_send_and_include);
	tcase_add_test(tc, test_block_payload_limit);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_reorg);
	tcase_add_test(tc, test_rewrite_finalized);
	tcase_add_test(tc, test_inbox);
	tcase_add_test(tc, test_bodies);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
