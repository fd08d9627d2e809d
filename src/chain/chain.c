#include "chain/chain.h"

#include <stdlib.h>
#include <string.h>

#include "chain/internal.h"
#include "common/clock.h"

void ist_chain_block_fini(struct ist_chain_block *b)
{
	if (!b)
		return;
	if (b->msgs) {
		for (size_t i = 0; i < b->n_msgs; i++)
			ist_wire_message_fini(&b->msgs[i]);
	}
	free(b->msgs);
	free(b->ids);
	memset(b, 0, sizeof(*b));
}

bool ist_chain_block_equal(const struct ist_chain_block *a, const struct ist_chain_block *b)
{
	if (a->height != b->height || a->n_msgs != b->n_msgs || memcmp(a->hash, b->hash, sizeof(a->hash)) != 0 ||
	    memcmp(a->parent_hash, b->parent_hash, sizeof(a->parent_hash)) != 0)
		return false;
	for (size_t i = 0; i < a->n_msgs; i++) {
		if (!ist_wire_message_equal(&a->msgs[i], &b->msgs[i]) ||
		    memcmp(a->ids[i], b->ids[i], IST_HASH_BYTES) != 0)
			return false;
	}
	return true;
}

void ist_chain_adapter_destroy(struct ist_chain_adapter *a)
{
	if (a)
		a->ops->destroy(a);
}

bool ist_chain_ratelimit_ok(struct ist_chain_ratelimit *rl, uint64_t now_ms, uint64_t *ret_suppressed)
{
	if (rl->used && now_ms - rl->last_ms < IST_CHAIN_LOG_EVERY_MS) {
		rl->suppressed++;
		return false;
	}
	rl->used = true;
	rl->last_ms = now_ms;
	*ret_suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

uint64_t ist_chain_mono_ms(void)
{
	return ist_clock_mono_ms(ist_clock_system());
}
