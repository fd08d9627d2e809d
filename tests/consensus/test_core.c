/*
 * The core, one event at a time: persist before speak, restart from the
 * persisted state without equivocating, untrusted input dropped with a
 * reason, deferred votes, the determinism of actions.
 */
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "consensus/consensus.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "lib/ist_test.h"
#include "wire/canonical.h"

#define NET 91
#define N 4

static uint8_t seeds[N][32];
static struct ist_cons_epoch *epoch;
static struct ist_block *genesis;
static uint8_t genesis_id[32];

static int sign_cb(void *ctx, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	return ist_ed25519_sign(ctx, msg, len, sig);
}

static enum ist_cons_verdict verdict = IST_CONS_VALID;
static int validations;

static enum ist_cons_verdict validate_cb(void *ctx, const struct ist_block *b)
{
	(void)ctx;
	(void)b;
	validations++;
	return verdict;
}

static void setup(void)
{
	epoch = calloc(1, sizeof(*epoch));
	genesis = calloc(1, sizeof(*genesis));
	ck_assert(epoch && genesis);
	genesis->network_id = NET;
	ck_assert_int_eq(ist_wire_block_id(genesis, genesis_id), 0);
	epoch->n = N;
	memcpy(epoch->root_id, genesis_id, 32);
	for (int i = 0; i < N; i++) {
		memset(seeds[i], 0x10 + i, 32);
		ck_assert_int_eq(ist_ed25519_pubkey(seeds[i], epoch->pubkeys[i]), 0);
		epoch->stakes[i] = 1;
	}
	ck_assert_int_eq(ist_cons_epoch_check(epoch), 0);
	verdict = IST_CONS_VALID;
	validations = 0;
}

static void teardown(void)
{
	free(epoch);
	free(genesis);
}

static struct ist_cons *core_new(uint32_t self, const uint8_t *safety, size_t len)
{
	struct ist_cons_config cfg = { 0 };
	cfg.network_id = NET;
	cfg.epoch = epoch;
	cfg.root = genesis;
	cfg.has_key = true;
	memcpy(cfg.pubkey, epoch->pubkeys[self], 32);
	cfg.signer.sign = sign_cb;
	cfg.signer.ctx = seeds[self];
	cfg.app.validate = validate_cb;
	cfg.safety = safety;
	cfg.safety_len = len;
	cfg.timeout_base_ms = 100;
	cfg.timeout_max_ms = 800;
	struct ist_cons *c;
	ck_assert_int_eq(ist_cons_new(&cfg, &c), 0);
	return c;
}

static void step(struct ist_cons *c, const struct ist_cons_event *ev, struct ist_cons_actions *out)
{
	ist_cons_actions_reset(out);
	ck_assert_int_eq(ist_cons_step(c, ev, out), 0);
}

static const struct ist_cons_action *find(const struct ist_cons_actions *a, enum ist_cons_action_kind k)
{
	for (size_t i = 0; i < a->len; i++)
		if (a->v[i].kind == k)
			return &a->v[i];
	return NULL;
}

static size_t count(const struct ist_cons_actions *a, enum ist_cons_action_kind k)
{
	size_t n = 0;
	for (size_t i = 0; i < a->len; i++)
		n += a->v[i].kind == k;
	return n;
}

/* A proposal of view 1 by its leader (validator 1) on genesis. */
static struct ist_proposal *proposal_v1(uint8_t tag, uint8_t ret_id[32])
{
	struct ist_proposal *p = calloc(1, sizeof(*p));
	ck_assert_ptr_nonnull(p);
	struct ist_block *b = &p->block;
	b->network_id = NET;
	b->view = 1;
	b->height = 1;
	memcpy(b->parent_id, genesis_id, 32);
	b->proposer = 1;
	b->timestamp_ms = tag;
	ist_cons_epoch_genesis_qc(epoch, &b->justify);
	uint8_t id[32];
	ck_assert_int_eq(ist_wire_block_id(b, id), 0);
	uint8_t msg[IST_WIRE_PROPOSAL_SIGNING_BYTES];
	ist_wire_proposal_signing_bytes_with_id(p, id, msg);
	ck_assert_int_eq(ist_ed25519_sign(seeds[1], msg, sizeof(msg), p->signature), 0);
	if (ret_id)
		memcpy(ret_id, id, 32);
	return p;
}

static void start(struct ist_cons *c, struct ist_cons_actions *out)
{
	struct ist_cons_event ev = { .kind = IST_CONS_EV_START, .from = IST_CONS_PEER_NONE };
	step(c, &ev, out);
	ck_assert_ptr_nonnull(find(out, IST_CONS_ACT_TIMER));
}

static enum ist_cons_drop give_proposal(struct ist_cons *c, const struct ist_proposal *p, struct ist_cons_actions *out)
{
	struct ist_cons_event ev = { .kind = IST_CONS_EV_PROPOSAL, .from = 1, .u.proposal = p };
	step(c, &ev, out);
	return out->drop;
}

static void ack(struct ist_cons *c, uint64_t seq, struct ist_cons_actions *out)
{
	struct ist_cons_event ev = { .kind = IST_CONS_EV_PERSISTED, .from = IST_CONS_PEER_NONE };
	ev.u.persisted.seq = seq;
	step(c, &ev, out);
}

START_TEST(test_persist_before_vote)
{
	struct ist_cons_actions out;
	ist_cons_actions_init(&out);
	struct ist_cons *c = core_new(0, NULL, 0);
	start(c, &out);
	uint8_t id[32];
	struct ist_proposal *p = proposal_v1(1, id);
	ck_assert_int_eq(give_proposal(c, p, &out), IST_CONS_DROP_NONE);
	/* the vote is decided and the state goes to disk, but nothing is sent */
	const struct ist_cons_action *pa = find(&out, IST_CONS_ACT_PERSIST);
	ck_assert_ptr_nonnull(pa);
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_SEND));
	ck_assert_ptr_nonnull(find(&out, IST_CONS_ACT_STORE_BLOCK));
	/* the block is stored before the state that votes for it */
	ck_assert(find(&out, IST_CONS_ACT_STORE_BLOCK) < pa);
	uint64_t seq = pa->u.persist.seq;
	/* an old or unknown acknowledgement releases nothing */
	struct ist_cons_event ev = { .kind = IST_CONS_EV_PERSISTED, .from = IST_CONS_PEER_NONE };
	ev.u.persisted.seq = seq + 1;
	step(c, &ev, &out);
	ck_assert_int_eq(out.drop, IST_CONS_DROP_BAD_EVENT);
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_SEND));
	/* the right one releases the vote, to the next leader (validator 2) */
	ack(c, seq, &out);
	const struct ist_cons_action *sa = find(&out, IST_CONS_ACT_SEND);
	ck_assert_ptr_nonnull(sa);
	ck_assert_ptr_nonnull(sa->u.send.vote);
	ck_assert_uint_eq(sa->u.send.to, 2);
	ck_assert_uint_eq(sa->u.send.vote->view, 1);
	ck_assert_mem_eq(sa->u.send.vote->block_id, id, 32);
	ack(c, seq, &out);
	ck_assert_int_eq(out.drop, IST_CONS_DROP_STALE_EVENT);
	ist_wire_proposal_free(p);
	ist_cons_free(c);
	ist_cons_actions_fini(&out);
}
END_TEST

START_TEST(test_restart_never_votes_twice)
{
	struct ist_cons_actions out;
	ist_cons_actions_init(&out);
	struct ist_cons *c = core_new(0, NULL, 0);
	start(c, &out);
	struct ist_proposal *p1 = proposal_v1(1, NULL);
	give_proposal(c, p1, &out);
	const struct ist_cons_action *pa = find(&out, IST_CONS_ACT_PERSIST);
	ck_assert_ptr_nonnull(pa);
	size_t len = pa->u.persist.len;
	uint8_t *state = malloc(len);
	memcpy(state, pa->u.persist.state, len);
	ist_cons_free(c);

	/* crash after the write, before the acknowledgement: restart from it,
	 * and the (equivocating) leader's other proposal for view 1 gets no vote */
	c = core_new(0, state, len);
	ck_assert_uint_eq(ist_cons_view(c), 1);
	start(c, &out);
	struct ist_proposal *p2 = proposal_v1(2, NULL);
	give_proposal(c, p2, &out);
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_PERSIST));
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_SEND));
	/* nor the first one again */
	ist_cons_free(c);
	c = core_new(0, state, len);
	start(c, &out);
	give_proposal(c, p1, &out);
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_SEND));
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_PERSIST));

	/* crash before the write: the old state has no vote, so voting for
	 * either is fine (nothing was ever sent) */
	ist_cons_free(c);
	c = core_new(0, NULL, 0);
	start(c, &out);
	give_proposal(c, p2, &out);
	ck_assert_ptr_nonnull(find(&out, IST_CONS_ACT_PERSIST));

	/* a damaged state is a clear error, never a crash */
	struct ist_cons_config cfg = { 0 };
	cfg.network_id = NET;
	cfg.epoch = epoch;
	cfg.root = genesis;
	cfg.safety = state;
	cfg.safety_len = len - 1;
	struct ist_cons *bad = NULL;
	ck_assert_int_eq(ist_cons_new(&cfg, &bad), -IST_EPARSE);
	state[0] = 99;
	cfg.safety_len = len;
	ck_assert_int_eq(ist_cons_new(&cfg, &bad), -IST_EUNSUPPORTED);
	state[0] = 1;
	ist_put_be64(state + 1, 7);   /* an epoch its QC does not belong to */
	ck_assert_int_eq(ist_cons_new(&cfg, &bad), -IST_EPARSE);
	ist_put_be64(state + 1 + 32, 7);   /* consistent, but later than the set we are given */
	ck_assert_int_eq(ist_cons_new(&cfg, &bad), -IST_ESTATE);
	ck_assert_ptr_null(bad);

	free(state);
	ist_wire_proposal_free(p1);
	ist_wire_proposal_free(p2);
	ist_cons_free(c);
	ist_cons_actions_fini(&out);
}
END_TEST

static struct ist_vote *vote_for(uint32_t voter, uint64_t view, const uint8_t id[32])
{
	struct ist_vote *v = calloc(1, sizeof(*v));
	v->view = view;
	v->voter = voter;
	memcpy(v->block_id, id, 32);
	uint8_t msg[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(NET, 0, view, id, msg);
	ck_assert_int_eq(ist_ed25519_sign(seeds[voter], msg, sizeof(msg), v->signature), 0);
	return v;
}

static enum ist_cons_drop give_vote(struct ist_cons *c, const struct ist_vote *v, struct ist_cons_actions *out)
{
	struct ist_cons_event ev = { .kind = IST_CONS_EV_VOTE, .from = v->voter % N, .u.vote = v };
	step(c, &ev, out);
	return out->drop;
}

START_TEST(test_votes_untrusted)
{
	struct ist_cons_actions out;
	ist_cons_actions_init(&out);
	/* validator 2 leads view 2: it collects the votes of view 1 */
	struct ist_cons *c = core_new(2, NULL, 0);
	start(c, &out);
	uint8_t id[32];
	struct ist_proposal *p = proposal_v1(1, id);
	give_proposal(c, p, &out);

	struct ist_vote *v = vote_for(0, 1, id);
	/* voter index out of range */
	v->voter = 300;
	ck_assert_int_eq(give_vote(c, v, &out), IST_CONS_DROP_BAD_INDEX);
	v->voter = 0;
	/* another epoch */
	v->epoch = 1;
	ck_assert_int_eq(give_vote(c, v, &out), IST_CONS_DROP_FUTURE_EPOCH);
	ck_assert_ptr_nonnull(find(&out, IST_CONS_ACT_FETCH_EPOCH));
	v->epoch = 0;
	/* a bad signature */
	v->signature[10] ^= 4;
	ck_assert_int_eq(give_vote(c, v, &out), IST_CONS_DROP_BAD_SIGNATURE);
	v->signature[10] ^= 4;
	/* a view far ahead is not buffered */
	struct ist_vote *far = vote_for(0, 1000001, id);   /* the view before one we lead */
	ck_assert_int_eq(give_vote(c, far, &out), IST_CONS_DROP_TOO_FAR);
	struct ist_vote *huge = vote_for(0, UINT64_MAX - 2, id);
	ck_assert_int_eq(give_vote(c, huge, &out), IST_CONS_DROP_TOO_FAR);
	/* not for us: the leader of view 3 collects view 2 */
	struct ist_vote *other = vote_for(0, 2, id);
	ck_assert_int_eq(give_vote(c, other, &out), IST_CONS_DROP_NOT_NEXT_LEADER);
	/* a good vote, then the same again */
	ck_assert_int_eq(give_vote(c, v, &out), IST_CONS_DROP_NONE);
	ck_assert_int_eq(give_vote(c, v, &out), IST_CONS_DROP_DUPLICATE);
	/* the same voter for another block: equivocation */
	uint8_t id2[32];
	memset(id2, 0x55, 32);
	struct ist_vote *v2 = vote_for(0, 1, id2);
	ck_assert_int_eq(give_vote(c, v2, &out), IST_CONS_DROP_EQUIVOCATION);
	/* a second honest vote: with ours (after its persist), a quorum */
	struct ist_vote *v3 = vote_for(3, 1, id);
	ck_assert_int_eq(give_vote(c, v3, &out), IST_CONS_DROP_NONE);
	ck_assert_uint_eq(ist_cons_view(c), 1);
	const struct ist_cons_action *pa = find(&out, IST_CONS_ACT_PERSIST);
	ck_assert_ptr_null(pa);
	ist_cons_actions_reset(&out);
	/* our own vote was persisted when we voted on the proposal: ack it */
	ack(c, 1, &out);
	ck_assert_uint_eq(ist_cons_view(c), 2);
	ck_assert_uint_eq(ist_cons_stats_get(c)->qcs_formed, 1);
	/* as leader of view 2, we ask for a payload */
	const struct ist_cons_action *gp = find(&out, IST_CONS_ACT_GET_PAYLOAD);
	ck_assert_ptr_nonnull(gp);
	ck_assert_uint_eq(gp->u.get_payload.view, 2);
	ck_assert_uint_eq(gp->u.get_payload.height, 2);
	ck_assert_mem_eq(gp->u.get_payload.parent_id, id, 32);
	/* the payload makes a proposal that leaves after its persist */
	uint8_t data[3] = { 1, 2, 3 };
	struct ist_payload_item item = { .kind = IST_PAYLOAD_EVIDENCE };
	item.u.opaque.data = data;
	item.u.opaque.len = 3;
	struct ist_cons_event ev = { .kind = IST_CONS_EV_PAYLOAD, .from = IST_CONS_PEER_NONE };
	ev.u.payload.epoch = 0;
	ev.u.payload.view = 2;
	ev.u.payload.items = &item;
	ev.u.payload.n_items = 1;
	ev.u.payload.timestamp_ms = 1234;
	step(c, &ev, &out);
	pa = find(&out, IST_CONS_ACT_PERSIST);
	ck_assert_ptr_nonnull(pa);
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_SEND));
	ack(c, pa->u.persist.seq, &out);
	ck_assert_uint_eq(count(&out, IST_CONS_ACT_SEND), 2);
	const struct ist_cons_action *sp = find(&out, IST_CONS_ACT_SEND);
	ck_assert_ptr_nonnull(sp->u.send.proposal);
	ck_assert_uint_eq(sp->u.send.to, IST_CONS_TO_ALL);
	ck_assert(sp->u.send.proposal->block.justify.view == 1 && !sp->u.send.proposal->has_tc);
	ck_assert_uint_eq(sp->u.send.proposal->block.n_items, 1);
	/* the payload again (late): ignored */
	step(c, &ev, &out);
	ck_assert_int_eq(out.drop, IST_CONS_DROP_STALE_EVENT);

	free(v);
	free(v2);
	free(v3);
	free(far);
	free(huge);
	free(other);
	ist_wire_proposal_free(p);
	ist_cons_free(c);
	ist_cons_actions_fini(&out);
}
END_TEST

START_TEST(test_proposals_untrusted)
{
	struct ist_cons_actions out;
	ist_cons_actions_init(&out);
	struct ist_cons *c = core_new(0, NULL, 0);
	start(c, &out);
	struct ist_proposal *p = proposal_v1(1, NULL);
	/* the wrong leader */
	p->block.proposer = 2;
	ck_assert_int_eq(give_proposal(c, p, &out), IST_CONS_DROP_NOT_LEADER);
	p->block.proposer = 9;
	ck_assert_int_eq(give_proposal(c, p, &out), IST_CONS_DROP_BAD_INDEX);
	p->block.proposer = 1;
	/* another network */
	p->block.network_id++;
	ck_assert_int_eq(give_proposal(c, p, &out), IST_CONS_DROP_WRONG_NETWORK);
	p->block.network_id--;
	/* a signature over other content */
	p->block.timestamp_ms++;
	ck_assert_int_eq(give_proposal(c, p, &out), IST_CONS_DROP_BAD_SIGNATURE);
	p->block.timestamp_ms--;
	/* a view its justify does not reach, without a TC */
	p->block.view = 5;   /* led by validator 1 too (5 mod 4) */
	ck_assert_int_eq(give_proposal(c, p, &out), IST_CONS_DROP_BAD_BLOCK);
	p->block.view = 1;
	/* a justify for another block than the parent */
	p->block.justify.block_id[0] ^= 1;
	ck_assert_int_eq(give_proposal(c, p, &out), IST_CONS_DROP_BAD_BLOCK);
	p->block.justify.block_id[0] ^= 1;
	/* a QC with too little stake: a proposal of view 5 justified by a
	 * "QC" of view 4 signed by one validator */
	struct ist_proposal *q = proposal_v1(1, NULL);
	q->block.view = 5;
	q->block.justify.view = 4;
	memcpy(q->block.justify.block_id, genesis_id, 32);
	ck_assert_int_eq(ist_wire_bitmap_set(q->block.justify.signers, 0), 0);
	q->block.justify.n_sigs = 1;
	uint8_t msg[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(NET, 0, 4, genesis_id, msg);
	ck_assert_int_eq(ist_ed25519_sign(seeds[0], msg, sizeof(msg), q->block.justify.sigs[0]), 0);
	uint8_t qid[32];
	ck_assert_int_eq(ist_wire_block_id(&q->block, qid), 0);
	uint8_t pmsg[IST_WIRE_PROPOSAL_SIGNING_BYTES];
	ist_wire_proposal_signing_bytes_with_id(q, qid, pmsg);
	ck_assert_int_eq(ist_ed25519_sign(seeds[1], pmsg, sizeof(pmsg), q->signature), 0);
	ck_assert_int_eq(give_proposal(c, q, &out), IST_CONS_DROP_BAD_QC);
	ck_assert_uint_eq(ist_cons_view(c), 1);   /* no jump */
	/* the good one is accepted once */
	ck_assert_int_eq(give_proposal(c, p, &out), IST_CONS_DROP_NONE);
	ck_assert_int_eq(give_proposal(c, p, &out), IST_CONS_DROP_DUPLICATE);
	ck_assert_uint_eq(ist_cons_stats_get(c)->drops[IST_CONS_DROP_BAD_QC], 1);
	ist_wire_proposal_free(p);
	ist_wire_proposal_free(q);
	ist_cons_free(c);
	ist_cons_actions_fini(&out);
}
END_TEST

/* A block of `view` on `parent` (justified by `justify`) by the view's leader. */
static struct ist_block *chain_block(uint64_t view, uint64_t height, const uint8_t parent[32],
				     const struct ist_qc *justify)
{
	struct ist_block *b = calloc(1, sizeof(*b));
	ck_assert_ptr_nonnull(b);
	b->network_id = NET;
	b->view = view;
	b->height = height;
	memcpy(b->parent_id, parent, 32);
	b->proposer = (uint32_t)(view % N);
	b->justify = *justify;
	return b;
}

/* A QC for (view, id) by validators 0, 1 and 2. */
static struct ist_qc *qc_for(uint64_t view, const uint8_t id[32])
{
	struct ist_qc *q = calloc(1, sizeof(*q));
	ck_assert_ptr_nonnull(q);
	q->view = view;
	memcpy(q->block_id, id, 32);
	uint8_t msg[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(NET, 0, view, id, msg);
	for (uint32_t i = 0; i < 3; i++) {
		ck_assert_int_eq(ist_wire_bitmap_set(q->signers, i), 0);
		ck_assert_int_eq(ist_ed25519_sign(seeds[i], msg, sizeof(msg), q->sigs[q->n_sigs++]), 0);
	}
	return q;
}

static enum ist_cons_drop give_chain(struct ist_cons *c, const struct ist_block *const *v, size_t n,
				     const struct ist_qc *qc, struct ist_cons_actions *out)
{
	struct ist_cons_event ev = { .kind = IST_CONS_EV_BLOCKS, .from = 1 };
	ev.u.blocks.v = v;
	ev.u.blocks.n = n;
	ev.u.blocks.qc = qc;
	step(c, &ev, out);
	return out->drop;
}

/* Sync answers are chains, top first: certified or asked-for top, parents
 * by id; placed parents first. */
START_TEST(test_sync_chains)
{
	struct ist_cons_actions out;
	ist_cons_actions_init(&out);
	/* b1 (view 1) <- b2 (view 2) <- b3 (view 3), each justified by a QC */
	struct ist_qc *g = calloc(1, sizeof(*g));
	ist_cons_epoch_genesis_qc(epoch, g);
	struct ist_block *b1 = chain_block(1, 1, genesis_id, g);
	uint8_t id1[32], id2[32], id3[32];
	ck_assert_int_eq(ist_wire_block_id(b1, id1), 0);
	struct ist_qc *q1 = qc_for(1, id1);
	struct ist_block *b2 = chain_block(2, 2, id1, q1);
	ck_assert_int_eq(ist_wire_block_id(b2, id2), 0);
	struct ist_qc *q2 = qc_for(2, id2);
	struct ist_block *b3 = chain_block(3, 3, id2, q2);
	ck_assert_int_eq(ist_wire_block_id(b3, id3), 0);
	struct ist_qc *q3 = qc_for(3, id3);

	/* nothing asked for, no QC: refused */
	struct ist_cons *c = core_new(0, NULL, 0);
	start(c, &out);
	const struct ist_block *chain[3] = { b3, b2, b1 };
	ck_assert_int_eq(give_chain(c, chain, 3, NULL, &out), IST_CONS_DROP_UNSOLICITED);
	ck_assert_uint_eq(ist_cons_committed_height(c), 0);
	/* a QC for a block other than the top: refused */
	ck_assert_int_eq(give_chain(c, chain, 3, q2, &out), IST_CONS_DROP_BAD_QC);
	/* with the top's QC: all three placed, and two certified blocks in
	 * consecutive views above b1 and b2 make them final */
	give_chain(c, chain, 3, q3, &out);
	ck_assert_uint_eq(count(&out, IST_CONS_ACT_STORE_BLOCK), 3);
	ck_assert_uint_eq(count(&out, IST_CONS_ACT_COMMIT), 2);
	ck_assert_uint_eq(ist_cons_committed_height(c), 2);
	ck_assert_uint_eq(ist_cons_view(c), 4);
	ist_cons_free(c);

	/* a chain whose second block is not the top's parent is cut there: the
	 * top waits as an orphan and its real parent is fetched */
	c = core_new(0, NULL, 0);
	start(c, &out);
	const struct ist_block *broken[2] = { b3, b1 };
	give_chain(c, broken, 2, q3, &out);
	ck_assert_uint_eq(count(&out, IST_CONS_ACT_STORE_BLOCK), 0);
	const struct ist_cons_action *f = find(&out, IST_CONS_ACT_FETCH);
	ck_assert_ptr_nonnull(f);
	ck_assert_mem_eq(f->u.fetch.block_id, id2, 32);
	/* the answer: b2 (now asked for) and its parent */
	const struct ist_block *answer[2] = { b2, b1 };
	give_chain(c, answer, 2, NULL, &out);
	ck_assert_uint_eq(count(&out, IST_CONS_ACT_STORE_BLOCK), 3);
	ck_assert_uint_eq(ist_cons_committed_height(c), 2);
	ist_cons_free(c);

	free(g);
	free(q1);
	free(q2);
	free(q3);
	ist_wire_block_free(b1);
	ist_wire_block_free(b2);
	ist_wire_block_free(b3);
	ist_cons_actions_fini(&out);
}
END_TEST

/* A leader that signs many blocks for its view cannot fill the tree. */
START_TEST(test_equivocating_leader_bounded)
{
	struct ist_cons_actions out;
	ist_cons_actions_init(&out);
	struct ist_cons *c = core_new(0, NULL, 0);
	start(c, &out);
	for (uint8_t tag = 1; tag <= 10; tag++) {
		struct ist_proposal *p = proposal_v1(tag, NULL);
		enum ist_cons_drop d = give_proposal(c, p, &out);
		/* the first is voted for, the second kept (either may be
		 * certified), the rest dropped as equivocation */
		ck_assert_int_eq(d, tag <= 2 ? IST_CONS_DROP_NONE : IST_CONS_DROP_EQUIVOCATION);
		ck_assert(tag == 1 ? find(&out, IST_CONS_ACT_PERSIST) != NULL : find(&out, IST_CONS_ACT_PERSIST) == NULL);
		ist_wire_proposal_free(p);
	}
	ck_assert_uint_eq(ist_cons_stats_get(c)->drops[IST_CONS_DROP_EQUIVOCATION], 8);
	ist_cons_free(c);
	ist_cons_actions_fini(&out);
}
END_TEST

START_TEST(test_deferred_vote)
{
	struct ist_cons_actions out;
	ist_cons_actions_init(&out);
	struct ist_cons *c = core_new(0, NULL, 0);
	start(c, &out);
	verdict = IST_CONS_NOT_YET;
	struct ist_proposal *p = proposal_v1(1, NULL);
	give_proposal(c, p, &out);
	ck_assert_int_eq(validations, 1);
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_PERSIST));
	/* still not ready */
	struct ist_cons_event ev = { .kind = IST_CONS_EV_RECHECK, .from = IST_CONS_PEER_NONE };
	step(c, &ev, &out);
	ck_assert_int_eq(validations, 2);
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_PERSIST));
	/* the watcher caught up */
	verdict = IST_CONS_VALID;
	step(c, &ev, &out);
	ck_assert_ptr_nonnull(find(&out, IST_CONS_ACT_PERSIST));
	ist_cons_free(c);

	/* too late: the view timed out first, so no vote at all */
	c = core_new(0, NULL, 0);
	start(c, &out);
	uint64_t tseq = find(&out, IST_CONS_ACT_TIMER)->u.timer.seq;
	verdict = IST_CONS_NOT_YET;
	give_proposal(c, p, &out);
	struct ist_cons_event t = { .kind = IST_CONS_EV_TIMER, .from = IST_CONS_PEER_NONE };
	t.u.timer.seq = tseq;
	step(c, &t, &out);
	const struct ist_cons_action *pa = find(&out, IST_CONS_ACT_PERSIST);
	ck_assert_ptr_nonnull(pa);   /* the timeout */
	ack(c, pa->u.persist.seq, &out);
	const struct ist_cons_action *sa = find(&out, IST_CONS_ACT_SEND);
	ck_assert(sa && sa->u.send.timeout && sa->u.send.to == IST_CONS_TO_ALL);
	verdict = IST_CONS_VALID;
	step(c, &ev, &out);
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_SEND));
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_PERSIST));
	/* an invalid payload is never voted for */
	ist_cons_free(c);
	c = core_new(0, NULL, 0);
	start(c, &out);
	verdict = IST_CONS_INVALID;
	give_proposal(c, p, &out);
	ck_assert_ptr_null(find(&out, IST_CONS_ACT_PERSIST));
	ck_assert_uint_eq(ist_cons_stats_get(c)->drops[IST_CONS_DROP_PAYLOAD_INVALID], 1);

	ist_wire_proposal_free(p);
	ist_cons_free(c);
	ist_cons_actions_fini(&out);
}
END_TEST

/* Same state, same event: the same actions, byte for byte. */
static void actions_digest(const struct ist_cons_actions *a, uint8_t out[32])
{
	struct ist_sha256_ctx h;
	ist_sha256_init(&h);
	for (size_t i = 0; i < a->len; i++) {
		const struct ist_cons_action *x = &a->v[i];
		uint8_t k = (uint8_t)x->kind;
		ist_sha256_update(&h, &k, 1);
		if (x->kind == IST_CONS_ACT_PERSIST)
			ist_sha256_update(&h, x->u.persist.state, x->u.persist.len);
		if (x->kind == IST_CONS_ACT_TIMER)
			ist_sha256_update(&h, &x->u.timer, sizeof(x->u.timer));
		if (x->kind == IST_CONS_ACT_STORE_BLOCK)
			ist_sha256_update(&h, x->u.store_block.id, 32);
	}
	ist_sha256_final(&h, out);
}

START_TEST(test_same_event_same_actions)
{
	struct ist_cons_actions o1, o2;
	ist_cons_actions_init(&o1);
	ist_cons_actions_init(&o2);
	struct ist_cons *a = core_new(3, NULL, 0), *b = core_new(3, NULL, 0);
	start(a, &o1);
	start(b, &o2);
	struct ist_proposal *p = proposal_v1(7, NULL);
	give_proposal(a, p, &o1);
	give_proposal(b, p, &o2);
	uint8_t d1[32], d2[32];
	actions_digest(&o1, d1);
	actions_digest(&o2, d2);
	ck_assert_uint_eq(o1.len, o2.len);
	ck_assert_mem_eq(d1, d2, 32);
	ist_wire_proposal_free(p);
	ist_cons_free(a);
	ist_cons_free(b);
	ist_cons_actions_fini(&o1);
	ist_cons_actions_fini(&o2);
}
END_TEST

START_TEST(test_bad_config)
{
	struct ist_cons_config cfg = { 0 };
	struct ist_cons *c = NULL;
	ck_assert_int_eq(ist_cons_new(&cfg, &c), -IST_EINVAL);
	cfg.epoch = epoch;
	cfg.root = genesis;
	cfg.has_key = true;   /* a key without a signer */
	ck_assert_int_eq(ist_cons_new(&cfg, &c), -IST_EINVAL);
	cfg.has_key = false;
	cfg.timeout_base_ms = 10;
	cfg.timeout_max_ms = 5;
	ck_assert_int_eq(ist_cons_new(&cfg, &c), -IST_EINVAL);
	cfg.timeout_max_ms = 0;
	/* a root outside the epoch */
	struct ist_block *other = calloc(1, sizeof(*other));
	other->network_id = NET;
	other->epoch = 5;
	other->view = 3;
	cfg.root = other;
	ck_assert_int_eq(ist_cons_new(&cfg, &c), -IST_EINVAL);
	free(other);
	cfg.root = genesis;
	/* an observer: no key */
	ck_assert_int_eq(ist_cons_new(&cfg, &c), 0);
	ck_assert_uint_eq(ist_cons_self(c), IST_CONS_OBSERVER);
	struct ist_cons_actions out;
	ist_cons_actions_init(&out);
	struct ist_cons_event ev = { .kind = 99 };
	ck_assert_int_eq(ist_cons_step(c, &ev, &out), -IST_EINVAL);
	ev.kind = IST_CONS_EV_PROPOSAL;
	ck_assert_int_eq(ist_cons_step(c, &ev, &out), -IST_EINVAL);
	ist_cons_actions_fini(&out);
	ist_cons_free(c);
	ist_cons_free(NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("consensus-core");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_persist_before_vote);
	tcase_add_test(tc, test_restart_never_votes_twice);
	tcase_add_test(tc, test_votes_untrusted);
	tcase_add_test(tc, test_proposals_untrusted);
	tcase_add_test(tc, test_equivocating_leader_bounded);
	tcase_add_test(tc, test_sync_chains);
	tcase_add_test(tc, test_deferred_vote);
	tcase_add_test(tc, test_same_event_same_actions);
	tcase_add_test(tc, test_bad_config);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ist_test_run(suite());
}
