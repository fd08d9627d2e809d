/*
 * The node's event log for relayers (GET /v1/events): a bounded ring of
 * "a certificate formed at height h" events numbered from 1, filled by the
 * consensus thread and read by API threads.
 */
#include <string.h>

#include "node/internal.h"

void ist_node_events_push(struct ist_node *n, uint64_t height)
{
	struct ist_node_events *e = &n->ev;
	pthread_mutex_lock(&e->mu);
	e->seq++;
	e->ring[e->seq % IST_NODE_EVENTS_RING] = (struct ist_node_event){ .seq = e->seq, .height = height };
	pthread_mutex_unlock(&e->mu);
	if (n->api)
		ist_api_notify(n->api);
}

size_t ist_node_events_since(struct ist_node *n, uint64_t after, struct ist_node_event *out, size_t max,
			     uint64_t *ret_last)
{
	struct ist_node_events *e = &n->ev;
	size_t k = 0;
	pthread_mutex_lock(&e->mu);
	uint64_t first = e->seq > IST_NODE_EVENTS_RING ? e->seq - IST_NODE_EVENTS_RING + 1 : 1;
	if (after + 1 > first)
		first = after + 1;
	for (uint64_t s = first; s <= e->seq && k < max; s++)
		out[k++] = e->ring[s % IST_NODE_EVENTS_RING];
	*ret_last = e->seq;
	pthread_mutex_unlock(&e->mu);
	return k;
}
