/*
 * The mempool (mempool.h): a FIFO of entries with two chained hash tables,
 * one by item id (duplicates) and one by sender (per-sender bounds). Both
 * tables have a fixed number of buckets, a power of two sized from
 * max_items, so nothing is rehashed under the lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "node/mempool.h"
#include "wire/canonical.h"

struct entry {
	uint8_t id[IST_HASH_BYTES];
	struct ist_payload_item item;
	size_t bytes;
	bool has_sender;
	uint8_t sender[IST_ED25519_PUBKEY_BYTES];
	bool reserved;
	uint64_t res_epoch, res_view;
	struct entry *prev, *next;   /* FIFO, oldest first */
	struct entry *hnext;         /* id bucket chain */
};

struct sender {
	uint8_t key[IST_ED25519_PUBKEY_BYTES];
	size_t count;
	struct sender *hnext;
};

struct ist_mempool {
	pthread_mutex_t mu;
	struct ist_mempool_config cfg;
	struct entry *head, *tail;
	size_t count, ready, bytes;
	struct entry **ids;
	struct sender **senders;
	size_t mask;                 /* buckets - 1 */
};

static size_t bucket(const struct ist_mempool *mp, const uint8_t *key)
{
	/* ids and keys are hashes or public keys: their bytes are uniform */
	return (size_t)ist_get_be64(key) & mp->mask;
}

int ist_mempool_new(const struct ist_mempool_config *cfg, struct ist_mempool **ret)
{
	*ret = NULL;
	struct ist_mempool *mp = calloc(1, sizeof(*mp));
	if (!mp)
		return -IST_ENOMEM;
	mp->cfg = *cfg;
	if (!mp->cfg.max_items)
		mp->cfg.max_items = IST_MEMPOOL_DEFAULT_MAX_ITEMS;
	if (!mp->cfg.max_bytes)
		mp->cfg.max_bytes = IST_MEMPOOL_DEFAULT_MAX_BYTES;
	if (!mp->cfg.max_per_sender)
		mp->cfg.max_per_sender = IST_MEMPOOL_DEFAULT_MAX_PER_SENDER;
	size_t buckets = 64;
	while (buckets < mp->cfg.max_items && buckets < ((size_t)1 << 20))
		buckets <<= 1;
	mp->mask = buckets - 1;
	mp->ids = calloc(buckets, sizeof(*mp->ids));
	mp->senders = calloc(buckets, sizeof(*mp->senders));
	if (!mp->ids || !mp->senders) {
		ist_mempool_free(mp);
		return -IST_ENOMEM;
	}
	pthread_mutex_init(&mp->mu, NULL);
	*ret = mp;
	return 0;
}

void ist_mempool_free(struct ist_mempool *mp)
{
	if (!mp)
		return;
	for (struct entry *e = mp->head, *next; e; e = next) {
		next = e->next;
		ist_wire_payload_item_fini(&e->item);
		free(e);
	}
	if (mp->senders)
		for (size_t i = 0; i <= mp->mask; i++)
			for (struct sender *s = mp->senders[i], *next; s; s = next) {
				next = s->hnext;
				free(s);
			}
	if (mp->ids)
		pthread_mutex_destroy(&mp->mu);
	free(mp->ids);
	free(mp->senders);
	free(mp);
}

int ist_mempool_item_id(const struct ist_payload_item *it, uint8_t ret_id[IST_HASH_BYTES])
{
	switch (it->kind) {
	case IST_PAYLOAD_TRANSACTION:
		return ist_wire_tx_id(&it->u.tx, ret_id);
	case IST_PAYLOAD_EVIDENCE:
	case IST_PAYLOAD_DKG:
	case IST_PAYLOAD_NONCE_COMMITMENTS:
	case IST_PAYLOAD_DATA:
		ist_sha256(it->u.opaque.data, it->u.opaque.len, ret_id);
		return 0;
	case IST_PAYLOAD_CHECKPOINT:
		break;
	}
	return -IST_EINVAL;
}

size_t ist_mempool_item_bytes(const struct ist_payload_item *it)
{
	size_t head = 1 + 4;   /* kind, length (wire/canonical.h) */
	switch (it->kind) {
	case IST_PAYLOAD_CHECKPOINT:
		return head + IST_WIRE_CHECKPOINT_BYTES;
	case IST_PAYLOAD_TRANSACTION: {
		uint8_t tx[IST_WIRE_MAX_TX_SIGNING_BYTES];
		size_t len = sizeof(tx);
		if (ist_wire_tx_signing_bytes(&it->u.tx, tx, &len) < 0)
			len = sizeof(tx);
		return head + len + IST_SIG_BYTES;
	}
	case IST_PAYLOAD_EVIDENCE:
	case IST_PAYLOAD_DKG:
	case IST_PAYLOAD_NONCE_COMMITMENTS:
	case IST_PAYLOAD_DATA:
		return head + it->u.opaque.len;
	}
	return head;
}

static struct entry **id_slot(struct ist_mempool *mp, const uint8_t id[IST_HASH_BYTES])
{
	struct entry **p = &mp->ids[bucket(mp, id)];
	while (*p && memcmp((*p)->id, id, IST_HASH_BYTES) != 0)
		p = &(*p)->hnext;
	return p;
}

static struct sender **sender_slot(struct ist_mempool *mp, const uint8_t key[IST_ED25519_PUBKEY_BYTES])
{
	struct sender **p = &mp->senders[bucket(mp, key)];
	while (*p && memcmp((*p)->key, key, IST_ED25519_PUBKEY_BYTES) != 0)
		p = &(*p)->hnext;
	return p;
}

bool ist_mempool_has(struct ist_mempool *mp, const uint8_t id[IST_HASH_BYTES])
{
	pthread_mutex_lock(&mp->mu);
	bool found = *id_slot(mp, id) != NULL;
	pthread_mutex_unlock(&mp->mu);
	return found;
}

int ist_mempool_add(struct ist_mempool *mp, struct ist_payload_item *it)
{
	struct entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -IST_ENOMEM;
	int r = ist_mempool_item_id(it, e->id);
	if (r < 0) {
		free(e);
		return r;
	}
	e->bytes = ist_mempool_item_bytes(it);
	if (it->kind == IST_PAYLOAD_TRANSACTION) {
		e->has_sender = true;
		memcpy(e->sender, it->u.tx.sender, IST_ED25519_PUBKEY_BYTES);
	}

	pthread_mutex_lock(&mp->mu);
	struct entry **slot = id_slot(mp, e->id);
	struct sender **ss = NULL;
	if (*slot) {
		r = -IST_EEXISTS;
		goto out;
	}
	if (mp->count >= mp->cfg.max_items || mp->bytes + e->bytes > mp->cfg.max_bytes) {
		r = -IST_EAGAIN;
		goto out;
	}
	if (e->has_sender) {
		ss = sender_slot(mp, e->sender);
		if (*ss && (*ss)->count >= mp->cfg.max_per_sender) {
			r = -IST_EAGAIN;
			goto out;
		}
		if (!*ss) {
			*ss = calloc(1, sizeof(**ss));
			if (!*ss) {
				r = -IST_ENOMEM;
				goto out;
			}
			memcpy((*ss)->key, e->sender, IST_ED25519_PUBKEY_BYTES);
		}
		(*ss)->count++;
	}
	e->item = *it;
	memset(it, 0, sizeof(*it));
	*slot = e;
	e->prev = mp->tail;
	if (mp->tail)
		mp->tail->next = e;
	else
		mp->head = e;
	mp->tail = e;
	mp->count++;
	mp->ready++;
	mp->bytes += e->bytes;
	e = NULL;
	r = 0;
out:
	pthread_mutex_unlock(&mp->mu);
	free(e);
	return r;
}

size_t ist_mempool_ready(struct ist_mempool *mp)
{
	pthread_mutex_lock(&mp->mu);
	size_t k = mp->ready;
	pthread_mutex_unlock(&mp->mu);
	return k;
}

size_t ist_mempool_count(struct ist_mempool *mp)
{
	pthread_mutex_lock(&mp->mu);
	size_t k = mp->count;
	pthread_mutex_unlock(&mp->mu);
	return k;
}

size_t ist_mempool_reserve(struct ist_mempool *mp, uint64_t epoch, uint64_t view, size_t max_items,
			   size_t max_bytes, struct ist_payload_item *out)
{
	size_t k = 0, bytes = 0;
	pthread_mutex_lock(&mp->mu);
	for (struct entry *e = mp->head; e && k < max_items && mp->ready; e = e->next) {
		if (e->reserved)
			continue;
		if (bytes + e->bytes > max_bytes)
			break;   /* keep the order: the next block takes it first */
		e->reserved = true;
		e->res_epoch = epoch;
		e->res_view = view;
		mp->ready--;
		bytes += e->bytes;
		out[k++] = e->item;
	}
	pthread_mutex_unlock(&mp->mu);
	return k;
}

static void drop(struct ist_mempool *mp, struct entry *e)
{
	struct entry **slot = id_slot(mp, e->id);
	if (*slot == e)
		*slot = e->hnext;
	if (e->has_sender) {
		struct sender **ss = sender_slot(mp, e->sender);
		if (*ss && --(*ss)->count == 0) {
			struct sender *s = *ss;
			*ss = s->hnext;
			free(s);
		}
	}
	if (e->prev)
		e->prev->next = e->next;
	else
		mp->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		mp->tail = e->prev;
	mp->count--;
	if (!e->reserved)
		mp->ready--;
	mp->bytes -= e->bytes;
	ist_wire_payload_item_fini(&e->item);
	free(e);
}

void ist_mempool_committed(struct ist_mempool *mp, const struct ist_block *b)
{
	pthread_mutex_lock(&mp->mu);
	for (size_t i = 0; i < b->n_items && mp->count; i++) {
		uint8_t id[IST_HASH_BYTES];
		if (ist_mempool_item_id(&b->items[i], id) < 0)
			continue;
		struct entry *e = *id_slot(mp, id);
		if (e)
			drop(mp, e);
	}
	/* the reserved entries are the ones not ready: stop after the last */
	size_t reserved = mp->count - mp->ready;
	for (struct entry *e = mp->head; e && reserved; e = e->next) {
		if (!e->reserved)
			continue;
		reserved--;
		if (e->res_epoch < b->epoch || (e->res_epoch == b->epoch && e->res_view <= b->view)) {
			e->reserved = false;
			mp->ready++;
		}
	}
	pthread_mutex_unlock(&mp->mu);
}
