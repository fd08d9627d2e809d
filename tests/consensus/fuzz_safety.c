/*
 * Fuzz target 'consensus-safety': the decoder of the persisted safety state
 * (ist_cons_safety_decode), which reads the node's disk at every start, and
 * ist_cons_new, which must turn whatever it finds into a core or a clear
 * error, never a crash.
 *
 * What it checks: a state that decodes re-encodes to the same bytes (the
 * encoding is canonical), and a core built from it never starts in a view at
 * or below the last one it voted or timed out in.
 *
 * Seed corpus: tests/fuzz/corpus/consensus-safety/, written by
 *   build/tests/consensus/test_consensus_rules --write-corpus tests/fuzz/corpus/consensus-safety
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/consensus.h"
#include "consensus/safety.h"
#include "wire/canonical.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static int no_sign(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	(void)ctx;
	(void)msg;
	(void)len;
	memset(sig, 0, 64);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ist_cons_safety *s = calloc(1, sizeof(*s));
	check(s != NULL);
	if (ist_cons_safety_decode(data, size, s) == 0) {
		uint8_t *buf;
		size_t len;
		check(ist_cons_safety_encode(s, &buf, &len) == 0);
		check(len == size && memcmp(buf, data, size) == 0);
		free(buf);
	}

	/* a core for epoch 0 of one validator, resumed from these bytes */
	struct ist_cons_epoch *e = calloc(1, sizeof(*e));
	struct ist_block *g = calloc(1, sizeof(*g));
	check(e && g);
	g->network_id = 5;
	check(ist_wire_block_id(g, e->root_id) == 0);
	e->n = 1;
	e->stakes[0] = 1;
	memset(e->pubkeys[0], 9, 32);
	struct ist_cons_config cfg = { 0 };
	cfg.network_id = 5;
	cfg.epoch = e;
	cfg.root = g;
	cfg.has_key = true;
	memset(cfg.pubkey, 9, 32);
	cfg.signer.sign = no_sign;
	cfg.safety = data;
	cfg.safety_len = size;
	struct ist_cons *c = NULL;
	int r = ist_cons_new(&cfg, &c);
	if (r == 0) {
		if (size && s->epoch == 0) {
			check(ist_cons_view(c) >= s->last_voted_view);
			check(ist_cons_view(c) > s->high_qc.view);
		}
		ist_cons_free(c);
	} else {
		check(c == NULL);
	}
	free(e);
	free(g);
	free(s);
	return 0;
}
