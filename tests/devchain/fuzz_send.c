/*
 * Fuzz target 'devchain-send': the decoders of the devchain's small request
 * bodies, outside input from any HTTP client: POST /v1/messages
 * (ist_dc_parse_send) and the test hooks' {"depth": N} / {"height": N}
 * (ist_dc_parse_u64_body). Every input goes to all three.
 *
 * On success it checks what the decoder promises (a destination, a payload
 * within its limit, so the message has an id); on failure that the error
 * is one line labelled "request body".
 *
 * Seed corpus: tests/fuzz/corpus/devchain-send/ (hand-written).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "devchain/body.h"
#include "wire/canonical.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_err(const struct ist_json_err *err)
{
	char line[2048];
	ist_json_err_format(err, line, sizeof(line));
	check(strncmp(line, IST_DC_BODY_LABEL ": ", strlen(IST_DC_BODY_LABEL) + 2) == 0);
	check(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ist_crypto_init() < 0)
		abort();
	struct ist_message m;
	struct ist_json_err err;
	if (ist_dc_parse_send((const char *)data, size, &m, &err) == 0) {
		check(m.dst_chain >= 1);
		check(m.payload_len <= IST_WIRE_MAX_MSG_PAYLOAD);
		check((m.payload == NULL) == (m.payload_len == 0));
		uint8_t id[IST_HASH_BYTES];
		check(ist_wire_message_id(&m, id) == 0);
		ist_wire_message_fini(&m);
	} else {
		check_err(&err);
	}
	uint64_t v;
	if (ist_dc_parse_u64_body((const char *)data, size, "depth", 1, &v, &err) == 0)
		check(v >= 1);
	else
		check_err(&err);
	if (ist_dc_parse_u64_body((const char *)data, size, "height", 0, &v, &err) != 0)
		check_err(&err);
	return 0;
}
