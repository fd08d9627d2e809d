/*
 * Equivocation detection: the votes this node received lately, so that two
 * signed votes of one validator for different blocks in one view become
 * double-vote evidence (state/evidence.h) in this node's mempool, for the
 * ledger to slash. And, in builds with -Dfault_injection=true only, the
 * fault that tests use to make a validator equivocate.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "node/internal.h"
#include "state/evidence.h"
#include "wire/canonical.h"

#define SUBSYS "evidence"

void ist_node_vote_seen(struct ist_node *n, const struct ist_vote *v)
{
	const struct ist_cons_epoch *e = n->epoch;
	if (v->epoch != e->number || v->voter >= e->n)
		return;
	struct ist_node_seen_vote *ring = n->seen_votes;
	size_t slot = (size_t)((v->view * 31 + v->voter) % IST_NODE_SEEN_VOTES);
	struct ist_node_seen_vote *s = &ring[slot];
	if (!(s->used && s->epoch == v->epoch && s->view == v->view && s->voter == v->voter)) {
		s->used = true;
		s->epoch = v->epoch;
		s->view = v->view;
		s->voter = v->voter;
		s->reported = false;
		memcpy(s->block_id, v->block_id, IST_HASH_BYTES);
		memcpy(s->sig, v->signature, IST_SIG_BYTES);
		return;
	}
	if (s->reported || !memcmp(s->block_id, v->block_id, IST_HASH_BYTES))
		return;
	struct ist_evidence ev = { .kind = IST_EVIDENCE_DOUBLE_VOTE };
	ev.u.vote.epoch = v->epoch;
	ev.u.vote.view = v->view;
	ev.u.vote.voter = v->voter;
	memcpy(ev.u.vote.block_a, s->block_id, IST_HASH_BYTES);
	memcpy(ev.u.vote.sig_a, s->sig, IST_SIG_BYTES);
	memcpy(ev.u.vote.block_b, v->block_id, IST_HASH_BYTES);
	memcpy(ev.u.vote.sig_b, v->signature, IST_SIG_BYTES);
	ist_evidence_normalize(&ev);
	/* both votes must be the voter's before they accuse it: the ledger's
	 * own check (a double vote needs the node keys only) */
	const struct ist_evidence_set set = { .network_id = n->g.network_id, .epoch = e->number, .n = e->n,
					      .node_keys = (const uint8_t (*)[IST_ED25519_PUBKEY_BYTES])e->pubkeys };
	uint8_t key[IST_ED25519_PUBKEY_BYTES];
	char why[IST_LEDGER_REASON_MAX];
	if (!ist_evidence_verify(&ev, &set, &set, key, why, sizeof(why)))
		return;
	s->reported = true;
	struct ist_buf b;
	ist_buf_init(&b, 0);
	if (ist_evidence_encode(&ev, &b) < 0) {
		ist_buf_fini(&b);
		return;
	}
	struct ist_payload_item it = { .kind = IST_PAYLOAD_EVIDENCE };
	it.u.opaque.len = b.len;
	it.u.opaque.data = malloc(b.len);
	if (it.u.opaque.data)
		memcpy(it.u.opaque.data, b.data, b.len);
	ist_buf_fini(&b);
	if (!it.u.opaque.data)
		return;
	char key_hex[2 * IST_ED25519_PUBKEY_BYTES + 1];
	ist_hex_encode(key, IST_ED25519_PUBKEY_BYTES, key_hex);
	int r = ist_mempool_add(n->mempool, &it);
	ist_wire_payload_item_fini(&it);
	ist_log_warn(SUBSYS, "validator %" PRIu32 " (%.16s...) voted for two blocks in epoch %" PRIu64 " view %" PRIu64
		     ": double-vote evidence %s", v->voter, key_hex, v->epoch, v->view,
		     r == 0 ? "submitted for the next block this node proposes" : ist_strerror(r));
	if (r == 0) {
		ist_metric_inc(n->m_evidence_sent, NULL);
		ist_node_queue_kick(&n->q);
	}
}

#ifdef IST_FAULT_INJECTION
#include <stdio.h>

/* ISTHMUS_FAULT=equivocate: with every vote, also send a signed vote for
 * another block of the same view. Tests only: never in a release build. */
void ist_node_fault_vote(struct ist_node *n, uint32_t to, const struct ist_vote *v)
{
	const char *f = getenv("ISTHMUS_FAULT");
	if (!f || strcmp(f, "equivocate") != 0)
		return;
	struct ist_envelope env = { .kind = IST_ENVELOPE_VOTE };
	env.u.vote = *v;
	ist_sha256(v->block_id, IST_HASH_BYTES, env.u.vote.block_id);
	uint8_t m[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(n->g.network_id, v->epoch, v->view, env.u.vote.block_id, m);
	if (ist_node_sign(n, m, sizeof(m), env.u.vote.signature) < 0)
		return;
	int r = to == IST_CONS_TO_ALL ? ist_net_broadcast(n->net, &env) : ist_net_send(n->net, to, &env);
	ist_log_warn(SUBSYS, "FAULT INJECTION: sent a second vote in view %" PRIu64 " (%s)", v->view,
		     r < 0 ? ist_strerror(r) : "ok");
}
#endif
