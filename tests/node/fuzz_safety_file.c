/*
 * Fuzz target 'node-safety-file': the parser of the safety state file that
 * `isthmus safety import` reads (node/safety.h), a decoder of outside input
 * (a file carried from another machine).
 *
 * When the bytes parse, it checks what the parser promises: the state
 * decodes to the descriptive fields, formatting the file and parsing the
 * text gives the same state, and a state never lowers itself
 * (ist_node_safety_not_lower of a state against itself allows it). When
 * they do not parse, the error must name the file and format as one line.
 *
 * Seed corpus: tests/fuzz/corpus/node-safety-file/, written by
 *   build/tests/node/test_node_safety --write-corpus tests/fuzz/corpus/node-safety-file
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/safety.h"
#include "node/safety.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL "fuzz/safety.json"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ist_node_safety_file *f = malloc(sizeof(*f)), *back = malloc(sizeof(*back));
	struct ist_cons_safety *s = malloc(sizeof(*s));
	check(f && back && s);
	struct ist_json_err err;
	char line[2048];
	int r = ist_node_safety_file_parse((const char *)data, size, LABEL, f, &err);
	if (r < 0) {
		ist_json_err_format(&err, line, sizeof(line));
		check(strncmp(line, LABEL ": ", strlen(LABEL) + 2) == 0);
		check(strchr(line, '\n') == NULL && strchr(line, '\r') == NULL);
		goto out;
	}
	check(f->state_len >= 1 && f->state_len <= IST_CONS_SAFETY_MAX_BYTES);
	check(ist_cons_safety_decode(f->state, f->state_len, s) == 0);
	check(s->epoch == f->safety.epoch && s->last_voted_view == f->safety.last_voted_view);
	check(s->high_qc.view == f->safety.high_qc.view);
	check(ist_node_safety_not_lower(&f->safety, &f->safety, line, sizeof(line)) == 0);

	char *text = NULL;
	check(ist_node_safety_file_format(f, &text) == 0);
	check(ist_node_safety_file_parse(text, strlen(text), LABEL, back, &err) == 0);
	check(back->state_len == f->state_len && memcmp(back->state, f->state, f->state_len) == 0);
	check(back->network_id == f->network_id && strcmp(back->chain_id, f->chain_id) == 0);
	check(memcmp(back->genesis_hash, f->genesis_hash, sizeof(f->genesis_hash)) == 0);
	check(memcmp(back->node_key, f->node_key, sizeof(f->node_key)) == 0);
	free(text);
out:
	free(s);
	free(back);
	free(f);
	return 0;
}
