/*
 * The consensus thread's inbox: a bounded FIFO of events (envelopes from
 * peers, with the peer's index) guarded by a mutex and a condition variable
 * on CLOCK_MONOTONIC, so the one thread that owns consensus can sleep until
 * an event arrives, its view timer is due, or it is told to stop.
 *
 * Producers (NNG callbacks, any thread) only push; they never block: when
 * the queue is full the event is refused and the caller drops it (consensus
 * recovers lost messages through its timeouts). The consumer is one thread.
 */
#ifndef IST_NODE_QUEUE_H
#define IST_NODE_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "wire/types.h"

#define IST_NODE_QUEUE_DEFAULT_CAP 4096

struct ist_node_obs;

/* An envelope from a peer, or (env NULL) a watcher's observation. */
struct ist_node_qitem {
	uint32_t peer;                 /* validator index of the sender */
	struct ist_envelope *env;      /* owned by the queue until popped */
	struct ist_node_obs *obs;      /* owned by the queue until popped */
};

struct ist_node_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;             /* CLOCK_MONOTONIC */
	struct ist_node_qitem *v;
	size_t cap, head, len;
	bool stop;
	bool kicked;                   /* ist_node_queue_kick since the last pop */
	uint64_t dropped;              /* refused because full */
};

/* Returns 0, -IST_ENOMEM or -IST_EINVAL (cap 0). */
int ist_node_queue_init(struct ist_node_queue *q, size_t cap) IST_WUR;
/* Frees what is still queued and the queue's storage. */
void ist_node_queue_fini(struct ist_node_queue *q);

/* Takes ownership of env on success (returns true); on false (full or
 * stopped) the caller still owns env. Never blocks for long. */
bool ist_node_queue_push(struct ist_node_queue *q, uint32_t peer, struct ist_envelope *env) IST_WUR;

/* Wakes the consumer without an item (something else it watches changed,
 * e.g. the mempool): its next or current pop returns IST_NODE_POP_KICK
 * once. Never blocks for long. */
void ist_node_queue_kick(struct ist_node_queue *q);

/* Queues a watcher's observation: as ist_node_queue_push (the caller keeps
 * obs on false). Observations share the queue's bound with envelopes. */
bool ist_node_queue_push_obs(struct ist_node_queue *q, struct ist_node_obs *obs) IST_WUR;

/* Asks the consumer to stop: a waiting pop returns at once. */
void ist_node_queue_stop(struct ist_node_queue *q);

enum ist_node_pop {
	IST_NODE_POP_ITEM = 0,   /* *ret holds an item (its env is the caller's) */
	IST_NODE_POP_TIMEOUT,    /* the deadline passed */
	IST_NODE_POP_STOP,       /* stop was asked */
	IST_NODE_POP_KICK,       /* ist_node_queue_kick was called */
};

/* Waits until an item, the monotonic deadline (ms of ist_clock_system's
 * mono_ms; UINT64_MAX = none) or stop. */
enum ist_node_pop ist_node_queue_pop(struct ist_node_queue *q, uint64_t deadline_mono_ms, struct ist_node_qitem *ret);

#endif
