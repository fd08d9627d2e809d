/* The mempool (node/mempool.h): order, duplicates, bounds, reservations
 * released by commits, items dropped when committed. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/ed25519.h"
#include "lib/ist_test.h"
#include "node/mempool.h"
#include "wire/canonical.h"

static struct ist_payload_item data_item(unsigned v)
{
	struct ist_payload_item it = { .kind = IST_PAYLOAD_DATA };
	it.u.opaque.len = 32;
	it.u.opaque.data = calloc(1, 32);
	ck_assert_ptr_nonnull(it.u.opaque.data);
	memcpy(it.u.opaque.data, &v, sizeof(v));
	return it;
}

static unsigned data_value(const struct ist_payload_item *it)
{
	unsigned v;
	ck_assert_int_eq(it->kind, IST_PAYLOAD_DATA);
	memcpy(&v, it->u.opaque.data, sizeof(v));
	return v;
}

static struct ist_payload_item tx_item(uint8_t sender, uint64_t nonce)
{
	struct ist_payload_item it = { .kind = IST_PAYLOAD_TRANSACTION };
	it.u.tx.network_id = 1337;
	memset(it.u.tx.sender, sender, sizeof(it.u.tx.sender));
	it.u.tx.nonce = nonce;
	it.u.tx.kind = IST_TX_TRANSFER;
	it.u.tx.u.transfer.amount = 1;
	return it;
}

/* A committed block holding `n` items (shallow copies of `items`). */
static struct ist_block block_of(uint64_t epoch, uint64_t view, struct ist_payload_item *items, size_t n)
{
	struct ist_block b = { .epoch = epoch, .view = view, .items = items, .n_items = n };
	return b;
}

START_TEST(test_fifo_and_duplicates)
{
	struct ist_mempool *mp;
	struct ist_mempool_config cfg = { 0 };
	ck_assert_int_eq(ist_mempool_new(&cfg, &mp), 0);
	for (unsigned v = 0; v < 5; v++) {
		struct ist_payload_item it = data_item(v);
		ck_assert_int_eq(ist_mempool_add(mp, &it), 0);
		ck_assert_ptr_null(it.u.opaque.data);   /* the pool owns it */
	}
	struct ist_payload_item dup = data_item(3);
	ck_assert_int_eq(ist_mempool_add(mp, &dup), -IST_EEXISTS);
	ist_wire_payload_item_fini(&dup);
	ck_assert_uint_eq(ist_mempool_count(mp), 5);

	struct ist_payload_item out[8];
	size_t k = ist_mempool_reserve(mp, 0, 7, 3, SIZE_MAX, out);
	ck_assert_uint_eq(k, 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_uint_eq(data_value(&out[i]), i);
	ck_assert_uint_eq(ist_mempool_ready(mp), 2);
	/* the next proposal takes what was not reserved */
	k = ist_mempool_reserve(mp, 0, 8, 8, SIZE_MAX, out);
	ck_assert_uint_eq(k, 2);
	ck_assert_uint_eq(data_value(&out[0]), 3);
	ist_mempool_free(mp);   /* frees what is left (ASan checks) */
}
END_TEST

/* The block of view 7 commits: its items leave; view 8's reservation stays
 * (it may still commit). A block of view 9 without view 8's items commits:
 * they are offered again, in their order. */
START_TEST(test_commit_releases)
{
	struct ist_mempool *mp;
	struct ist_mempool_config cfg = { 0 };
	ck_assert_int_eq(ist_mempool_new(&cfg, &mp), 0);
	for (unsigned v = 0; v < 4; v++) {
		struct ist_payload_item it = data_item(v);
		ck_assert_int_eq(ist_mempool_add(mp, &it), 0);
	}
	struct ist_payload_item out[8], mine[2];
	ck_assert_uint_eq(ist_mempool_reserve(mp, 0, 7, 2, SIZE_MAX, out), 2);
	mine[0] = data_item(0);
	mine[1] = data_item(1);
	ck_assert_uint_eq(ist_mempool_reserve(mp, 0, 8, 2, SIZE_MAX, out), 2);
	ck_assert_uint_eq(ist_mempool_ready(mp), 0);

	struct ist_block b7 = block_of(0, 7, mine, 2);
	ist_mempool_committed(mp, &b7);
	ck_assert_uint_eq(ist_mempool_count(mp), 2);
	ck_assert_uint_eq(ist_mempool_ready(mp), 0);

	struct ist_block b9 = block_of(0, 9, NULL, 0);
	ist_mempool_committed(mp, &b9);
	ck_assert_uint_eq(ist_mempool_ready(mp), 2);
	ck_assert_uint_eq(ist_mempool_reserve(mp, 0, 10, 8, SIZE_MAX, out), 2);
	ck_assert_uint_eq(data_value(&out[0]), 2);
	ck_assert_uint_eq(data_value(&out[1]), 3);

	/* a new epoch restarts views: (1, 1) is after (0, 10) */
	struct ist_block e1 = block_of(1, 1, NULL, 0);
	ist_mempool_committed(mp, &e1);
	ck_assert_uint_eq(ist_mempool_ready(mp), 2);
	ist_wire_payload_item_fini(&mine[0]);
	ist_wire_payload_item_fini(&mine[1]);
	ist_mempool_free(mp);
}
END_TEST

/* Items committed by another node's block leave this pool too, reserved
 * or not. */
START_TEST(test_commit_drops_foreign)
{
	struct ist_mempool *mp;
	struct ist_mempool_config cfg = { 0 };
	ck_assert_int_eq(ist_mempool_new(&cfg, &mp), 0);
	struct ist_payload_item it = data_item(42), copy = data_item(42);
	ck_assert_int_eq(ist_mempool_add(mp, &it), 0);
	struct ist_block b = block_of(0, 3, &copy, 1);
	ist_mempool_committed(mp, &b);
	ck_assert_uint_eq(ist_mempool_count(mp), 0);
	ck_assert_uint_eq(ist_mempool_ready(mp), 0);
	/* and may be submitted again */
	ck_assert_int_eq(ist_mempool_add(mp, &copy), 0);
	ist_mempool_free(mp);
}
END_TEST

START_TEST(test_bounds)
{
	struct ist_mempool *mp;
	struct ist_mempool_config cfg = { .max_items = 4, .max_per_sender = 2 };
	ck_assert_int_eq(ist_mempool_new(&cfg, &mp), 0);
	struct ist_payload_item a = tx_item(1, 0), b = tx_item(1, 1), c = tx_item(1, 2), d = tx_item(2, 0);
	ck_assert_int_eq(ist_mempool_add(mp, &a), 0);
	ck_assert_int_eq(ist_mempool_add(mp, &b), 0);
	/* the sender's share is full; another sender still gets in */
	ck_assert_int_eq(ist_mempool_add(mp, &c), -IST_EAGAIN);
	ck_assert_int_eq(ist_mempool_add(mp, &d), 0);
	struct ist_payload_item e = data_item(1), f = data_item(2);
	ck_assert_int_eq(ist_mempool_add(mp, &e), 0);
	/* the pool is full */
	ck_assert_int_eq(ist_mempool_add(mp, &f), -IST_EAGAIN);
	ist_wire_payload_item_fini(&f);
	/* committing sender 1's first transaction makes room for its third */
	struct ist_payload_item a2 = tx_item(1, 0);
	struct ist_block blk = block_of(0, 1, &a2, 1);
	ist_mempool_committed(mp, &blk);
	ck_assert_int_eq(ist_mempool_add(mp, &c), 0);

	/* the byte budget of a proposal keeps the order: it stops at the
	 * first item that does not fit */
	struct ist_payload_item out[8], probe = tx_item(1, 1);
	size_t one = ist_mempool_item_bytes(&probe);
	ck_assert_uint_eq(ist_mempool_reserve(mp, 0, 2, 8, one, out), 1);
	ck_assert_uint_eq(ist_mempool_reserve(mp, 0, 3, 8, 0, out), 0);
	ist_mempool_free(mp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("node-mempool");
	TCase *tc = tcase_create("mempool");
	tcase_add_test(tc, test_fifo_and_duplicates);
	tcase_add_test(tc, test_commit_releases);
	tcase_add_test(tc, test_commit_drops_foreign);
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
