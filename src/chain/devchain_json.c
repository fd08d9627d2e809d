#include "chain/devchain_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/json.h"

/* Every problem with an answer is -IST_EPARSE for the adapter (but memory). */
static int finish(struct ist_json_reader *jr, struct ist_json_err *err, json_t *root, char *why, size_t whylen)
{
	json_decref(root);
	int r = ist_json_code(jr);
	if (r && why && whylen) {
		/* "field: problem" (the adapter's caller names the endpoint) */
		if (err->field[0])
			snprintf(why, whylen, "%s: %s", err->field, err->problem);
		else if (err->line)
			snprintf(why, whylen, "line %d, column %d: %s", err->line, err->column, err->problem);
		else
			snprintf(why, whylen, "%s", err->problem);
	}
	return r == 0 || r == -IST_ENOMEM ? r : -IST_EPARSE;
}

/* The answer's JSON object (a new reference), or NULL after failing. */
static json_t *open_answer(struct ist_json_reader *jr, struct ist_json_err *err, const char *text, size_t len)
{
	memset(err, 0, sizeof(*err));
	ist_json_reader_init(jr, "answer", err);
	if (len > IST_CHAIN_DEVCHAIN_MAX_BODY) {
		ist_json_fail(jr, -IST_EPARSE, "", "answer of %zu bytes is over the limit of %u", len,
			      IST_CHAIN_DEVCHAIN_MAX_BODY);
		return NULL;
	}
	return ist_json_parse(jr, text, len);
}

int ist_chain_devchain_parse_head(const char *text, size_t len, struct ist_chain_devchain_head *ret, char *why,
				  size_t whylen)
{
	struct ist_json_reader jr;
	struct ist_json_err err;
	json_t *root = open_answer(&jr, &err, text, len);
	struct ist_chain_devchain_head h;
	h.chain_id = ist_json_u64(&jr, root, "", "chain_id", true, 0, 0);
	h.height = ist_json_u64(&jr, root, "", "height", true, 0, 0);
	ist_json_hex(&jr, root, "", "hash", h.hash, sizeof(h.hash), "a block hash");
	h.finalized_height = ist_json_u64(&jr, root, "", "finalized_height", true, 0, 0);
	if (ist_json_ok(&jr) && h.finalized_height > h.height)
		ist_json_fail(&jr, -IST_EPARSE, "finalized_height", "%llu is above height %llu",
			      (unsigned long long)h.finalized_height, (unsigned long long)h.height);
	int r = finish(&jr, &err, root, why, whylen);
	if (r == 0)
		*ret = h;
	return r;
}

static void parse_message(struct ist_json_reader *jr, json_t *o, const char *path, struct ist_message *m,
			  uint8_t id[IST_HASH_BYTES])
{
	if (ist_json_ok(jr) && !json_is_object(o)) {
		char got[64];
		ist_json_fail(jr, -IST_EPARSE, path, "must be an object (got %s)", ist_json_describe(o, got, sizeof(got)));
		return;
	}
	m->src_chain = ist_json_u64(jr, o, path, "src_chain", true, 0, 0);
	m->dst_chain = ist_json_u64(jr, o, path, "dst_chain", true, 0, 0);
	m->nonce = ist_json_u64(jr, o, path, "nonce", true, 0, 0);
	ist_json_hex(jr, o, path, "sender", m->sender, sizeof(m->sender), "32 bytes");
	ist_json_hex(jr, o, path, "recipient", m->recipient, sizeof(m->recipient), "32 bytes");
	m->value = ist_json_u64(jr, o, path, "value", true, 0, 0);
	ist_json_hex_alloc(jr, o, path, "payload", true, IST_WIRE_MAX_MSG_PAYLOAD, &m->payload, &m->payload_len);
	ist_json_hex(jr, o, path, "id", id, IST_HASH_BYTES, "a message id");
}

int ist_chain_devchain_parse_block(const char *text, size_t len, struct ist_chain_block *ret, char *why,
				   size_t whylen)
{
	struct ist_json_reader jr;
	struct ist_json_err err;
	json_t *root = open_answer(&jr, &err, text, len);
	struct ist_chain_block b;
	memset(&b, 0, sizeof(b));
	b.height = ist_json_u64(&jr, root, "", "height", true, 0, 0);
	ist_json_hex(&jr, root, "", "hash", b.hash, sizeof(b.hash), "a block hash");
	ist_json_hex(&jr, root, "", "parent_hash", b.parent_hash, sizeof(b.parent_hash), "a block hash");
	(void)ist_json_u64(&jr, root, "", "timestamp_ms", true, 0, 0);
	(void)ist_json_bool(&jr, root, "", "finalized", false);
	json_t *msgs = ist_json_array(&jr, root, "", "messages", true, 0, IST_CHAIN_DEVCHAIN_MAX_MSGS);
	size_t n = ist_json_ok(&jr) ? json_array_size(msgs) : 0;
	if (n > 0) {
		b.msgs = calloc(n, sizeof(*b.msgs));
		b.ids = calloc(n, sizeof(*b.ids));
		if (!b.msgs || !b.ids)
			ist_json_fail(&jr, -IST_ENOMEM, "messages", "out of memory");
		else
			b.n_msgs = n;
	}
	for (size_t i = 0; i < b.n_msgs && ist_json_ok(&jr); i++) {
		char path[IST_JSON_ERR_FIELD_MAX];
		ist_json_index(path, "messages", i);
		parse_message(&jr, json_array_get(msgs, i), path, &b.msgs[i], b.ids[i]);
	}
	int r = finish(&jr, &err, root, why, whylen);
	if (r < 0) {
		ist_chain_block_fini(&b);   /* frees what was filled (payloads too) */
		return r;
	}
	*ret = b;
	return 0;
}
