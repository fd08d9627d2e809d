/*
 * Fuzz target 'node-genesis': the genesis.json parser, a decoder of outside
 * input (an operator's file, a file a coordinator hands out).
 *
 * When the bytes parse, it checks what the parser promises: counts within
 * their limits, the total stake the sum of the stakes, the hash that of the
 * canonical bytes, and that formatting the genesis and parsing the text gives
 * the same hash (what `isthmus testnet` relies on). When they do not, the
 * error must name the file and format as one line.
 *
 * Seed corpus: tests/fuzz/corpus/node-genesis/ (hand-written: valid files and
 * one of each class of error).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/hash.h"
#include "crypto/tags.h"
#include "node/genesis.h"
#include "wire/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL "fuzz/genesis.json"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ist_crypto_init() < 0)
		abort();
	struct ist_node_genesis g;
	struct ist_json_err err;
	char line[2048];
	int r = ist_node_genesis_parse((const char *)data, size, LABEL, &g, &err);
	if (r < 0) {
		ist_json_err_format(&err, line, sizeof(line));
		check(strncmp(line, LABEL ": ", strlen(LABEL) + 2) == 0);
		check(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL);
		return 0;
	}
	check(g.n_validators >= 1 && g.n_validators <= IST_WIRE_MAX_VALIDATORS);
	check(g.n_accounts <= IST_NODE_GENESIS_MAX_ACCOUNTS);
	check(ist_node_chain_id_valid(g.chain_id));
	uint64_t total = 0;
	for (size_t i = 0; i < g.n_validators; i++) {
		check(g.validators[i].stake > 0);
		total += g.validators[i].stake;
		check(ist_node_genesis_find(&g, g.validators[i].node_key) == (long)i);
	}
	check(total == g.total_stake);

	uint8_t *bytes = NULL, h[IST_HASH_BYTES];
	size_t len = 0;
	check(ist_node_genesis_bytes(&g, &bytes, &len) == 0);
	ist_tagged_hash(IST_TAG_GENESIS, bytes, len, h);
	free(bytes);
	check(memcmp(h, g.hash, IST_HASH_BYTES) == 0);

	char *text = NULL;
	check(ist_node_genesis_format(&g, &text) == 0);
	struct ist_node_genesis back;
	check(ist_node_genesis_parse(text, strlen(text), LABEL, &back, &err) == 0);
	check(memcmp(back.hash, g.hash, IST_HASH_BYTES) == 0);
	free(text);
	ist_node_genesis_fini(&back);
	ist_node_genesis_fini(&g);
	return 0;
}
