/*
 * Fuzz target 'state-valset': the validator-set file parser
 * (ist_valset_parse), a decoder of outside input (the file a verifier is
 * told to trust).
 *
 * When the bytes parse, it checks what the parser promises: 1..256
 * validators, positive stakes summing to the total, no duplicate key, and
 * that formatting the set and parsing the text gives the same set. When they
 * do not, the error must name the file and format as one line.
 *
 * Seed corpus: tests/fuzz/corpus/state-valset/ (hand-written: valid files
 * and one of each class of error).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "state/verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL "fuzz/valset.json"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ist_crypto_init() < 0)
		abort();
	static struct ist_valset vs, back;
	struct ist_json_err err;
	char line[2048];
	int r = ist_valset_parse((const char *)data, size, LABEL, &vs, &err);
	if (r < 0) {
		ist_json_err_format(&err, line, sizeof(line));
		check(strncmp(line, LABEL ": ", strlen(LABEL) + 2) == 0);
		check(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL);
		return 0;
	}
	check(vs.n >= 1 && vs.n <= IST_WIRE_MAX_VALIDATORS);
	check(vs.network_id >= 1);
	uint64_t total = 0;
	for (size_t i = 0; i < vs.n; i++) {
		check(vs.stakes[i] > 0);
		total += vs.stakes[i];
		for (size_t j = 0; j < i; j++)
			check(memcmp(vs.keys[i], vs.keys[j], IST_SECP_PUBKEY_BYTES) != 0);
	}
	check(total == vs.total);

	char *text = NULL;
	check(ist_valset_format(&vs, &text) == 0);
	check(ist_valset_parse(text, strlen(text), LABEL, &back, &err) == 0);
	free(text);
	check(back.network_id == vs.network_id && back.epoch == vs.epoch && back.n == vs.n);
	check(back.total == vs.total && back.has_group_key == vs.has_group_key);
	check(memcmp(back.keys, vs.keys, vs.n * IST_SECP_PUBKEY_BYTES) == 0);
	check(memcmp(back.stakes, vs.stakes, vs.n * sizeof(vs.stakes[0])) == 0);
	check(!vs.has_group_key || memcmp(back.group_key, vs.group_key, sizeof(vs.group_key)) == 0);
	return 0;
}
