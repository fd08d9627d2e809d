/*
 * Fuzz target 'node-config': the config.json parser, a decoder of outside
 * input.
 *
 * When the bytes parse, the derived paths and URLs must be set and
 * formatting the config must give text that parses to the same text again
 * (format is a fixed point after one round). When they do not, the error
 * must name the file and format as one line.
 *
 * Seed corpus: tests/fuzz/corpus/node-config/ (hand-written).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "node/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL "fuzz/config.json"
#define HOME "/fuzz/home"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ist_crypto_init() < 0)
		abort();
	struct ist_node_config cfg;
	struct ist_json_err err;
	char line[2048];
	int r = ist_node_config_parse((const char *)data, size, LABEL, HOME, &cfg, &err);
	if (r < 0) {
		ist_json_err_format(&err, line, sizeof(line));
		check(strncmp(line, LABEL ": ", strlen(LABEL) + 2) == 0);
		check(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL);
		return 0;
	}
	check(cfg.key_path && cfg.keystore_path && cfg.data_path && cfg.genesis_path);
	check((cfg.passphrase_file[0] != 0) == (cfg.passphrase_path != NULL));
	check(cfg.listen_url.port > 0 && cfg.api_url.port > 0);
	check(cfg.n_peers <= IST_NODE_MAX_PEERS);

	char *text = NULL, *again = NULL;
	check(ist_node_config_format(&cfg, &text) == 0);
	struct ist_node_config back;
	check(ist_node_config_parse(text, strlen(text), LABEL, HOME, &back, &err) == 0);
	check(ist_node_config_format(&back, &again) == 0);
	check(strcmp(text, again) == 0);
	check(strcmp(back.key_path, cfg.key_path) == 0);
	free(again);
	free(text);
	ist_node_config_fini(&back);
	ist_node_config_fini(&cfg);
	return 0;
}
