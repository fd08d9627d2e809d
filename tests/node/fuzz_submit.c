/*
 * Fuzz target 'node-submit': the body of POST /v1/txs (ist_node_submit), a
 * decoder of outside input: JSON with a hex transaction or hex data items.
 *
 * A node with only what submission touches (genesis network id, config,
 * mempool, queue) takes the bytes. Whatever they are: no crash, an answer
 * (JSON on acceptance, a reason otherwise), and the mempool never holds
 * more than it was given room for. The pool is emptied between inputs.
 *
 * Seed corpus: tests/fuzz/corpus/node-submit/ (hand-written).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "node/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define POOL_ITEMS 64

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ist_node *n;
	if (!n) {
		check(ist_crypto_init() == 0);
		n = calloc(1, sizeof(*n));
		check(n != NULL);
		n->g.network_id = 1337;
		n->cfg.mempool.accept_data = true;
		check(ist_node_queue_init(&n->q, 16) == 0);
	}
	struct ist_mempool_config mc = { .max_items = POOL_ITEMS, .max_per_sender = 4 };
	check(ist_mempool_new(&mc, &n->mempool) == 0);
	struct ist_buf out;
	ist_buf_init(&out, 1 << 20);
	int r = ist_node_submit(n, data, size, &out);
	check(r <= 0);
	check(ist_buf_err(&out) == 0);
	check(r == 0 ? out.len > 0 && out.data[0] == '{' : out.len > 0);
	check(ist_mempool_count(n->mempool) <= POOL_ITEMS);
	ist_buf_fini(&out);
	ist_mempool_free(n->mempool);
	n->mempool = NULL;
	return 0;
}
