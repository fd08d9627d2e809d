/* The consensus thread's bounded inbox (queue.h). */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "common/err.h"
#include "node/attest.h"
#include "node/queue.h"

int ist_node_queue_init(struct ist_node_queue *q, size_t cap)
{
	if (!cap)
		return -IST_EINVAL;
	*q = (struct ist_node_queue){ 0 };
	q->v = calloc(cap, sizeof(*q->v));
	if (!q->v)
		return -IST_ENOMEM;
	q->cap = cap;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&q->mu, NULL);
	return 0;
}

void ist_node_queue_fini(struct ist_node_queue *q)
{
	if (!q->v)
		return;
	for (size_t i = 0; i < q->len; i++) {
		ist_wire_envelope_free(q->v[(q->head + i) % q->cap].env);
		ist_node_obs_free(q->v[(q->head + i) % q->cap].obs);
	}
	free(q->v);
	q->v = NULL;
	pthread_cond_destroy(&q->cv);
	pthread_mutex_destroy(&q->mu);
}

bool ist_node_queue_push(struct ist_node_queue *q, uint32_t peer, struct ist_envelope *env)
{
	bool ok = false;
	pthread_mutex_lock(&q->mu);
	if (!q->stop && q->len < q->cap) {
		q->v[(q->head + q->len) % q->cap] = (struct ist_node_qitem){ .peer = peer, .env = env };
		q->len++;
		ok = true;
		pthread_cond_signal(&q->cv);
	} else {
		q->dropped++;
	}
	pthread_mutex_unlock(&q->mu);
	return ok;
}

bool ist_node_queue_push_obs(struct ist_node_queue *q, struct ist_node_obs *obs)
{
	bool ok = false;
	pthread_mutex_lock(&q->mu);
	if (!q->stop && q->len < q->cap) {
		q->v[(q->head + q->len) % q->cap] = (struct ist_node_qitem){ .obs = obs };
		q->len++;
		ok = true;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	return ok;
}

void ist_node_queue_kick(struct ist_node_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->kicked = true;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

void ist_node_queue_stop(struct ist_node_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

enum ist_node_pop ist_node_queue_pop(struct ist_node_queue *q, uint64_t deadline, struct ist_node_qitem *ret)
{
	enum ist_node_pop r;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		if (q->stop) {
			r = IST_NODE_POP_STOP;
			break;
		}
		if (q->kicked) {
			q->kicked = false;
			r = IST_NODE_POP_KICK;
			break;
		}
		if (q->len) {
			*ret = q->v[q->head];
			q->v[q->head].env = NULL;
			q->v[q->head].obs = NULL;
			q->head = (q->head + 1) % q->cap;
			q->len--;
			r = IST_NODE_POP_ITEM;
			break;
		}
		if (deadline == UINT64_MAX) {
			pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		if (mono_ms() >= deadline) {
			r = IST_NODE_POP_TIMEOUT;
			break;
		}
		struct timespec ts = { .tv_sec = (time_t)(deadline / 1000u),
				       .tv_nsec = (long)(deadline % 1000u) * 1000000L };
		int e = pthread_cond_timedwait(&q->cv, &q->mu, &ts);
		if (e == ETIMEDOUT && !q->len && !q->stop && !q->kicked) {
			r = IST_NODE_POP_TIMEOUT;
			break;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return r;
}
