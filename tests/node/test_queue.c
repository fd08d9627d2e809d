/* The consensus thread's inbox (node/queue.h) and the genesis block
 * (node/node.h). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/err.h"
#include "lib/ist_test.h"
#include "node/node.h"
#include "node/queue.h"
#include "wire/canonical.h"

static struct ist_envelope *vote_env(uint64_t view)
{
	struct ist_envelope *e = calloc(1, sizeof(*e));
	ck_assert_ptr_nonnull(e);
	e->kind = IST_ENVELOPE_VOTE;
	e->u.vote.view = view;
	return e;
}

START_TEST(test_fifo_and_bound)
{
	struct ist_node_queue q;
	ck_assert_int_eq(ist_node_queue_init(&q, 0), -IST_EINVAL);
	ck_assert_int_eq(ist_node_queue_init(&q, 3), 0);
	for (uint64_t v = 1; v <= 3; v++)
		ck_assert(ist_node_queue_push(&q, (uint32_t)v, vote_env(v)));
	/* full: refused, the caller keeps the envelope */
	struct ist_envelope *extra = vote_env(4);
	ck_assert(!ist_node_queue_push(&q, 4, extra));
	ist_wire_envelope_free(extra);
	ck_assert_uint_eq(q.dropped, 1);
	struct ist_node_qitem it;
	for (uint64_t v = 1; v <= 2; v++) {
		ck_assert_int_eq(ist_node_queue_pop(&q, UINT64_MAX, &it), IST_NODE_POP_ITEM);
		ck_assert_uint_eq(it.peer, v);
		ck_assert_uint_eq(it.env->u.vote.view, v);
		ist_wire_envelope_free(it.env);
	}
	/* wraps around */
	ck_assert(ist_node_queue_push(&q, 5, vote_env(5)));
	ck_assert_int_eq(ist_node_queue_pop(&q, UINT64_MAX, &it), IST_NODE_POP_ITEM);
	ck_assert_uint_eq(it.peer, 3);
	ist_wire_envelope_free(it.env);
	/* what is left is freed by fini (ASan checks) */
	ist_node_queue_fini(&q);
}
END_TEST

START_TEST(test_deadline)
{
	struct ist_node_queue q;
	ck_assert_int_eq(ist_node_queue_init(&q, 4), 0);
	struct ist_node_qitem it;
	uint64_t now = ist_clock_mono_ms(ist_clock_system());
	ck_assert_int_eq(ist_node_queue_pop(&q, now, &it), IST_NODE_POP_TIMEOUT);
	ck_assert_int_eq(ist_node_queue_pop(&q, now + 20, &it), IST_NODE_POP_TIMEOUT);
	ck_assert_uint_ge(ist_clock_mono_ms(ist_clock_system()), now + 20);
	/* an item wins over a passed deadline */
	ck_assert(ist_node_queue_push(&q, 0, vote_env(1)));
	ck_assert_int_eq(ist_node_queue_pop(&q, now, &it), IST_NODE_POP_ITEM);
	ist_wire_envelope_free(it.env);
	ist_node_queue_fini(&q);
}
END_TEST

static void *popper(void *arg)
{
	struct ist_node_qitem it;
	return (void *)(intptr_t)ist_node_queue_pop(arg, UINT64_MAX, &it);
}

START_TEST(test_stop_wakes)
{
	struct ist_node_queue q;
	ck_assert_int_eq(ist_node_queue_init(&q, 4), 0);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, popper, &q), 0);
	ist_node_queue_stop(&q);
	void *res;
	ck_assert_int_eq(pthread_join(t, &res), 0);
	ck_assert_int_eq((int)(intptr_t)res, IST_NODE_POP_STOP);
	/* stopped: pushes are refused */
	struct ist_envelope *e = vote_env(1);
	ck_assert(!ist_node_queue_push(&q, 0, e));
	ist_wire_envelope_free(e);
	ist_node_queue_fini(&q);
}
END_TEST

START_TEST(test_genesis_block)
{
	struct ist_node_genesis g;
	ist_node_genesis_init(&g);
	g.network_id = 1337;
	g.genesis_time = 1704067200;
	memset(g.hash, 0xab, sizeof(g.hash));
	struct ist_block a, b;
	ist_node_genesis_block(&g, &a);
	ist_node_genesis_block(&g, &b);
	ck_assert_uint_eq(a.height, 0);
	ck_assert_uint_eq(a.epoch, 0);
	ck_assert_uint_eq(a.view, 0);
	ck_assert_uint_eq(a.network_id, 1337);
	ck_assert_uint_eq(a.timestamp_ms, 1704067200000ull);
	ck_assert_mem_eq(a.parent_id, g.hash, IST_HASH_BYTES);
	uint8_t ida[IST_HASH_BYTES], idb[IST_HASH_BYTES];
	ck_assert_int_eq(ist_wire_block_id(&a, ida), 0);
	ck_assert_int_eq(ist_wire_block_id(&b, idb), 0);
	ck_assert_mem_eq(ida, idb, IST_HASH_BYTES);
	/* another genesis, another root */
	g.hash[0] ^= 1;
	ist_node_genesis_block(&g, &b);
	ck_assert_int_eq(ist_wire_block_id(&b, idb), 0);
	ck_assert(memcmp(ida, idb, IST_HASH_BYTES) != 0);
}
END_TEST

/* A kick wakes a waiting consumer without an item, once; items queued
 * meanwhile are not lost. */
START_TEST(test_kick)
{
	struct ist_node_queue q;
	ck_assert_int_eq(ist_node_queue_init(&q, 4), 0);
	struct ist_node_qitem it;
	ist_node_queue_kick(&q);
	ck_assert(ist_node_queue_push(&q, 1, vote_env(1)));
	ck_assert_int_eq(ist_node_queue_pop(&q, UINT64_MAX, &it), IST_NODE_POP_KICK);
	/* the kick was consumed: the item comes next, then a deadline */
	ck_assert_int_eq(ist_node_queue_pop(&q, UINT64_MAX, &it), IST_NODE_POP_ITEM);
	ist_wire_envelope_free(it.env);
	uint64_t now = ist_clock_mono_ms(ist_clock_system());
	ck_assert_int_eq(ist_node_queue_pop(&q, now, &it), IST_NODE_POP_TIMEOUT);
	ist_node_queue_fini(&q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("node-queue");
	TCase *tc = tcase_create("queue");
	tcase_add_test(tc, test_fifo_and_bound);
	tcase_add_test(tc, test_deadline);
	tcase_add_test(tc, test_stop_wakes);
	tcase_add_test(tc, test_kick);
	tcase_add_test(tc, test_genesis_block);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
