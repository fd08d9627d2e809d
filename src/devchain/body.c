/* Request body decoders (devchain/body.h). */
#include "devchain/body.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "wire/codec.h"

/* Starts reading a body: its size and its JSON. NULL after a failure. */
static json_t *open_body(struct ist_json_reader *jr, const char *body, size_t len, struct ist_json_err *err)
{
	ist_json_reader_init(jr, IST_DC_BODY_LABEL, err);
	if (len > IST_DC_MAX_BODY) {
		ist_json_fail(jr, -IST_ETOOBIG, "", "larger than %d bytes", IST_DC_MAX_BODY);
		return NULL;
	}
	if (len == 0) {
		ist_json_fail(jr, -IST_EPARSE, "", "empty (a JSON object is expected)");
		return NULL;
	}
	return ist_json_parse(jr, body, len);
}

int ist_dc_parse_send(const char *body, size_t len, struct ist_message *ret, struct ist_json_err *err)
{
	static const char *const fields[] = { "dst_chain", "recipient", "sender", "value", "payload", NULL };
	struct ist_json_reader jr;
	json_t *root = open_body(&jr, body, len, err);
	if (!root)
		return ist_json_code(&jr);
	struct ist_message m;
	memset(&m, 0, sizeof(m));
	if (ist_json_object(&jr, root, "", fields)) {
		m.dst_chain = ist_json_u64(&jr, root, "", "dst_chain", true, 0, 1);
		ist_json_hex(&jr, root, "", "recipient", m.recipient, sizeof(m.recipient), "an address");
		if (ist_json_member(&jr, root, "", "sender", false))
			ist_json_hex(&jr, root, "", "sender", m.sender, sizeof(m.sender), "an address");
		m.value = ist_json_u64(&jr, root, "", "value", false, 0, 0);
		ist_json_hex_alloc(&jr, root, "", "payload", false, IST_WIRE_MAX_MSG_PAYLOAD, &m.payload, &m.payload_len);
	}
	json_decref(root);
	if (!ist_json_ok(&jr)) {
		ist_wire_message_fini(&m);
		return ist_json_code(&jr);
	}
	*ret = m;
	return 0;
}

int ist_dc_parse_inbox(const char *body, size_t len, struct ist_delivery **ret, struct ist_json_err *err)
{
	static const char *const fields[] = { "delivery", NULL };
	struct ist_json_reader jr;
	json_t *root = open_body(&jr, body, len, err);
	if (!root)
		return ist_json_code(&jr);
	uint8_t *bytes = NULL;
	size_t n = 0;
	if (ist_json_object(&jr, root, "", fields))
		ist_json_hex_alloc(&jr, root, "", "delivery", true, IST_WIRE_MAX_DELIVERY_BYTES, &bytes, &n);
	json_decref(root);
	if (!ist_json_ok(&jr))
		return ist_json_code(&jr);
	const char *why = NULL;
	struct ist_delivery *d = NULL;
	int r = ist_wire_delivery_decode(bytes, n, &d, &why);
	free(bytes);
	if (r < 0)
		return ist_json_fail(&jr, r, "delivery", "not a valid Delivery (%s)", why ? why : ist_strerror(r));
	*ret = d;
	return 0;
}

int ist_dc_parse_handover(const char *body, size_t len, struct ist_handover *ret, struct ist_json_err *err)
{
	static const char *const fields[] = { "handover", NULL };
	struct ist_json_reader jr;
	json_t *root = open_body(&jr, body, len, err);
	if (!root)
		return ist_json_code(&jr);
	if (ist_json_object(&jr, root, "", fields)) {
		json_t *doc = ist_json_member(&jr, root, "", "handover", true);
		if (doc)
			ist_handover_read(&jr, doc, "handover", ret);
	}
	json_decref(root);
	return ist_json_code(&jr);
}

int ist_dc_parse_u64_body(const char *body, size_t len, const char *key, uint64_t min, uint64_t *ret,
			  struct ist_json_err *err)
{
	const char *fields[] = { key, NULL };
	struct ist_json_reader jr;
	json_t *root = open_body(&jr, body, len, err);
	if (!root)
		return ist_json_code(&jr);
	uint64_t v = 0;
	if (ist_json_object(&jr, root, "", fields))
		v = ist_json_u64(&jr, root, "", key, true, 0, min);
	json_decref(root);
	if (!ist_json_ok(&jr))
		return ist_json_code(&jr);
	*ret = v;
	return 0;
}
