/*
 * Fuzz target 'state-handover': the hand-over document parser
 * (ist_handover_parse), a decoder of outside input (a node's
 * GET /v1/epochs/{n} answer, carried by an untrusted relayer to an inbox's
 * POST /v1/inbox/epochs).
 *
 * When the bytes parse, it checks what the parser promises: the epoch is
 * the set's, a hand-over exactly when the epoch is not 0, a proof path
 * within its limit, an end height not below the start; that writing the
 * document and parsing it gives the same document; and that verifying the
 * hand-over against a fixed trusted set never crashes (and fails: the
 * fuzzer holds no key of that set). When they do not parse, the error must
 * name the label and format as one line.
 *
 * Seed corpus: tests/fuzz/corpus/state-handover/ (documents made by
 * tests/devchain/mkhandover with real keys, and hand-written errors).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "state/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL "fuzz/handover.json"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ist_crypto_init() < 0)
		abort();
	static struct ist_handover h, back;
	static struct ist_valset trusted;
	struct ist_json_err err;
	char line[2048];
	int r = ist_handover_parse((const char *)data, size, LABEL, &h, &err);
	if (r < 0) {
		ist_json_err_format(&err, line, sizeof(line));
		check(strncmp(line, LABEL ": ", strlen(LABEL) + 2) == 0);
		check(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL);
		return 0;
	}
	check(h.epoch == h.next.epoch);
	check(h.has_handover == (h.epoch != 0));
	check(h.next.n >= 1 && h.next.n <= IST_WIRE_MAX_VALIDATORS);
	check(!h.has_end_height || h.end_height >= h.start_height);
	check(!h.has_handover || h.proof.path_len <= IST_WIRE_MAX_PROOF_DEPTH);
	check(h.has_handover || !h.has_certificate);

	json_t *doc = NULL;
	check(ist_handover_to_json(&h, &doc) == 0);
	char *text = json_dumps(doc, JSON_COMPACT);
	check(text != NULL);
	json_decref(doc);
	memset(&back, 0xa5, sizeof(back));
	check(ist_handover_parse(text, strlen(text), LABEL, &back, &err) == 0);
	free(text);
	check(back.epoch == h.epoch && back.start_height == h.start_height);
	check(back.has_end_height == h.has_end_height && (!h.has_end_height || back.end_height == h.end_height));
	check(back.next.n == h.next.n && back.next.total == h.next.total && back.next.epoch == h.next.epoch);
	check(memcmp(back.next.keys, h.next.keys, h.next.n * IST_SECP_PUBKEY_BYTES) == 0);
	check(back.has_handover == h.has_handover && back.has_certificate == h.has_certificate);
	if (h.has_handover) {
		check(back.height == h.height && back.proof.leaf_index == h.proof.leaf_index);
		check(back.proof.tree_size == h.proof.tree_size && back.proof.path_len == h.proof.path_len);
		check(memcmp(back.proof.path, h.proof.path, h.proof.path_len * IST_HASH_BYTES) == 0);
	}
	if (h.has_certificate) {
		check(back.cert.epoch == h.cert.epoch && back.cert.height == h.cert.height);
		check(memcmp(back.cert.batch_root, h.cert.batch_root, IST_HASH_BYTES) == 0);
	}

	if (h.has_certificate && h.epoch > 0) {
		/* a trusted set of the previous epoch whose one key is the
		 * generator (secret key 1): no fuzzer input holds its signature
		 * over a digest it did not choose... */
		static const uint8_t g[IST_SECP_PUBKEY_BYTES] = {
			0x02, 0x79, 0xbe, 0x66, 0x7e, 0xf9, 0xdc, 0xbb, 0xac, 0x55, 0xa0, 0x62, 0x95, 0xce, 0x87, 0x0b, 0x07,
			0x02, 0x9b, 0xfc, 0xdb, 0x2d, 0xce, 0x28, 0xd9, 0x59, 0xf2, 0x81, 0x5b, 0x16, 0xf8, 0x17, 0x98,
		};
		memset(&trusted, 0, sizeof(trusted));
		trusted.network_id = h.next.network_id;
		trusted.epoch = h.epoch - 1;
		trusted.n = 1;
		memcpy(trusted.keys[0], g, sizeof(g));
		trusted.stakes[0] = 1;
		check(ist_valset_check(&trusted, "trusted", NULL) == 0);
		struct ist_verify_result res;
		bool ok = ist_verify_handover(&trusted, &h.next, &h.proof, &h.cert,
					      IST_VERIFY_ACCEPT_MULTISIG | IST_VERIFY_ACCEPT_FROST, &res);
		/* ...except by knowing that key (1): tolerated, not required */
		(void)ok;
		check(ok ? res.reason == IST_VERIFY_OK : res.reason != IST_VERIFY_OK);
	}
	return 0;
}
