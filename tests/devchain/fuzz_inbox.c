/*
 * Fuzz target 'devchain-inbox': the body of POST /v1/inbox, outside input
 * from any relayer: the JSON, the hex, the protobuf Delivery
 * (ist_dc_parse_inbox), then the verification a devchain runs on it
 * (ist_verify_delivery) against a fixed validator set.
 *
 * Checks: a decoded delivery encodes and decodes back to an equal one;
 * verification always gives a known reason, with a detail when it refuses
 * and the message's id; an error is one line labelled "request body".
 *
 * The set's keys are the public keys of the secret keys 0x01..01, 0x02..02,
 * 0x03..03 and 0x04..04 (32 bytes each), the group key that of the seed
 * 0x05..05: the seeds in tests/fuzz/corpus/devchain-inbox/ were made with
 * tests/devchain/mkdelivery and those keys, so that the fuzzer starts from
 * deliveries that pass and explores the certificate checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "devchain/body.h"
#include "state/verify.h"
#include "wire/canonical.h"
#include "wire/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char valset_json[] =
	"{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1337,\"epoch\":0,\"validators\":["
	"{\"attestation_key\":\"031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f\",\"stake\":1000},"
	"{\"attestation_key\":\"024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766\",\"stake\":1000},"
	"{\"attestation_key\":\"02531fe6068134503d2723133227c867ac8fa6c83c537e9a44c3c5bdbdcb1fe337\",\"stake\":1000},"
	"{\"attestation_key\":\"03462779ad4aad39514614751a71085f2f10e1c7a593e4e030efb5b8721ce55b0b\",\"stake\":1000}],"
	"\"group_key\":\"" "6e7a1cdd29b0b78fd13af4c5598feff4ef2a97166e3ca6f2e4fbfccd80505bf1" "\"}";

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ist_valset vs;
	static bool ready;
	if (!ready) {
		struct ist_json_err err;
		if (ist_crypto_init() < 0 || ist_valset_parse(valset_json, strlen(valset_json), "fuzz", &vs, &err) < 0)
			abort();
		ready = true;
	}
	struct ist_delivery *d = NULL;
	struct ist_json_err err;
	if (ist_dc_parse_inbox((const char *)data, size, &d, &err) < 0) {
		char line[2048];
		ist_json_err_format(&err, line, sizeof(line));
		check(strncmp(line, IST_DC_BODY_LABEL ": ", strlen(IST_DC_BODY_LABEL) + 2) == 0);
		check(strchr(line, '\n') == NULL);
		return 0;
	}
	uint8_t *enc = NULL;
	size_t len = 0;
	check(ist_wire_delivery_encode(d, &enc, &len) == 0);
	struct ist_delivery *back = NULL;
	check(ist_wire_delivery_decode(enc, len, &back, NULL) == 0);
	check(ist_wire_delivery_equal(d, back));
	free(enc);
	ist_wire_delivery_free(back);

	struct ist_verify_result res;
	bool ok = ist_verify_delivery(&vs, 2, IST_VERIFY_ACCEPT_MULTISIG | IST_VERIFY_ACCEPT_FROST, d, &res);
	check(strcmp(ist_verify_reason_name(res.reason), "unknown") != 0);
	check(ok == (res.reason == IST_VERIFY_OK));
	check(ok || res.detail[0] != '\0');
	uint8_t id[IST_HASH_BYTES];
	check(ist_wire_message_id(&d->message, id) == 0);
	check(memcmp(id, res.message_id, sizeof(id)) == 0);
	ist_wire_delivery_free(d);
	return 0;
}
