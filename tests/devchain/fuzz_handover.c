/*
 * Fuzz target 'devchain-handover': the body of POST /v1/inbox/epochs,
 * outside input from any relayer: {"handover": <a node's GET /v1/epochs/{n}
 * document>} (ist_dc_parse_handover), then the verification the inbox runs
 * on it (ist_verify_handover) against a fixed trusted set of epoch 0.
 *
 * Checks: an error is one line labelled "request body"; a parsed document verifies to a known reason,
 * with a detail when it is refused.
 *
 * The trusted set's keys are the public keys of the secret keys 0x01..01
 * to 0x04..04 (32 bytes each), as in fuzz_inbox.c: the seeds in
 * tests/fuzz/corpus/devchain-handover/ were made with tests/devchain/mkhandover
 * and those keys (--epoch 0), so the fuzzer starts from hand-overs that pass.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "devchain/body.h"
#include "state/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char valset_json[] =
	"{\"format\":\"isthmus-validator-set/v1\",\"network_id\":1337,\"epoch\":0,\"validators\":["
	"{\"attestation_key\":\"031b84c5567b126440995d3ed5aaba0565d71e1834604819ff9c17f5e9d5dd078f\",\"stake\":1000},"
	"{\"attestation_key\":\"024d4b6cd1361032ca9bd2aeb9d900aa4d45d9ead80ac9423374c451a7254d0766\",\"stake\":1000},"
	"{\"attestation_key\":\"02531fe6068134503d2723133227c867ac8fa6c83c537e9a44c3c5bdbdcb1fe337\",\"stake\":1000},"
	"{\"attestation_key\":\"03462779ad4aad39514614751a71085f2f10e1c7a593e4e030efb5b8721ce55b0b\",\"stake\":1000}]}";

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ist_valset vs;
	static struct ist_handover h;
	static bool ready;
	if (!ready) {
		struct ist_json_err err;
		if (ist_crypto_init() < 0 || ist_valset_parse(valset_json, strlen(valset_json), "fuzz", &vs, &err) < 0)
			abort();
		ready = true;
	}
	struct ist_json_err err;
	if (ist_dc_parse_handover((const char *)data, size, &h, &err) < 0) {
		char line[2048];
		ist_json_err_format(&err, line, sizeof(line));
		check(strncmp(line, IST_DC_BODY_LABEL ": ", strlen(IST_DC_BODY_LABEL) + 2) == 0);
		check(strchr(line, '\n') == NULL);
		return 0;
	}
	check(h.epoch == h.next.epoch);
	if (!h.has_handover || !h.has_certificate)
		return 0;
	struct ist_verify_result res;
	bool ok = ist_verify_handover(&vs, &h.next, &h.proof, &h.cert,
				      IST_VERIFY_ACCEPT_MULTISIG | IST_VERIFY_ACCEPT_FROST, &res);
	check(res.reason < IST_VERIFY__COUNT);
	check(ok == (res.reason == IST_VERIFY_OK));
	check(ok ? res.detail[0] == '\0' : res.detail[0] != '\0');
	return 0;
}
