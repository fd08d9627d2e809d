/*
 * The ledger (src/state/ledger.h) with real keys and signatures: transfers,
 * nonces and fees; register, bond and the next epoch's set; unbond and
 * withdraw after the unbonding epochs; jailing from missed QCs and unjail
 * after the cooldown; slashing from double-vote and conflicting-checkpoint
 * evidence (the epoch ends at once); submission prechecks with their
 * reasons; a flush/load round trip that continues identically;
 * governance transactions with their receipts (the proposal number); and
 * signed finality reports that trip a chain's circuit breaker.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/merkle.h"
#include "crypto/secp256k1.h"
#include "crypto/x25519.h"
#include "lib/ist_test.h"
#include "state/breaker.h"
#include "state/evidence.h"
#include "state/gov.h"
#include "state/ledger.h"
#include "wire/canonical.h"

#define NET 1337
#define NV 4
#define EPOCH_LEN 10

struct who {
	uint8_t seed[32], pub[32];
	uint8_t asec[32], apub[33];
	uint8_t dkg[32];
};

static struct who vals[NV + 2];   /* 0..3 genesis, 4 joins, 5 a plain account */

static void make_keys(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
	for (int i = 0; i < NV + 2; i++) {
		memset(vals[i].seed, 0x10 + i, 32);
		ck_assert_int_eq(ist_ed25519_pubkey(vals[i].seed, vals[i].pub), 0);
		memset(vals[i].asec, 0x40 + i, 32);
		ck_assert_int_eq(ist_secp_pubkey(vals[i].asec, vals[i].apub), 0);
		uint8_t dsec[32];
		memset(dsec, 0x70 + i, 32);
		ck_assert_int_eq(ist_x25519_pubkey(dsec, vals[i].dkg), 0);
	}
}

static struct ist_ledger_params params(void)
{
	return (struct ist_ledger_params){ .epoch_length_blocks = EPOCH_LEN, .max_validators = 10, .min_stake = 100,
					   .unbonding_epochs = 2, .slash_fraction_bps = 1000, .jail_missed_bps = 5000,
					   .jail_cooldown_epochs = 1 };
}

static struct ist_ledger *new_ledger(void)
{
	struct ist_ledger_genesis_validator gv[NV];
	struct ist_ledger_genesis_account ga[NV + 1];
	for (int i = 0; i < NV; i++) {
		gv[i] = (struct ist_ledger_genesis_validator){ .name = "v", .node_key = vals[i].pub,
								.attest_key = vals[i].apub, .dkg_key = vals[i].dkg,
								.address = "tcp://127.0.0.1:1", .stake = 1000 };
		ga[i] = (struct ist_ledger_genesis_account){ .key = vals[i].pub, .balance = 100000 };
	}
	ga[NV] = (struct ist_ledger_genesis_account){ .key = vals[NV].pub, .balance = 0 };
	struct ist_ledger_params p = params();
	struct ist_ledger *l = NULL;
	ck_assert_int_eq(ist_ledger_new(&p, NET, gv, NV, ga, NV + 1, &l), 0);
	return l;
}

static void sign_tx(struct ist_tx *tx, int who)
{
	tx->network_id = NET;
	memcpy(tx->sender, vals[who].pub, 32);
	uint8_t msg[IST_WIRE_MAX_TX_SIGNING_BYTES];
	size_t len = sizeof(msg);
	ck_assert_int_eq(ist_wire_tx_signing_bytes(tx, msg, &len), 0);
	ck_assert_int_eq(ist_ed25519_sign(vals[who].seed, msg, len, tx->signature), 0);
}

/* A block at the ledger's next height, with a QC signed by `voters`
 * (bitmap of the current set's indices; 0 = the epoch's genesis QC). */
static void block_init(struct ist_ledger *l, struct ist_block *b, uint8_t voters)
{
	memset(b, 0, sizeof(*b));
	b->network_id = NET;
	b->epoch = ist_ledger_current(l)->epoch;
	b->height = ist_ledger_height(l) + 1;
	b->justify.epoch = b->epoch;
	b->justify.signers[0] = voters;
	b->justify.n_sigs = (size_t)__builtin_popcount(voters);
}

static struct ist_ledger_outcome apply(struct ist_ledger *l, struct ist_payload_item *items, size_t n, uint8_t voters)
{
	struct ist_block b;
	block_init(l, &b, voters);
	b.items = items;
	b.n_items = n;
	struct ist_ledger_outcome o;
	ck_assert_int_eq(ist_ledger_apply_block(l, &b, NULL, &o), 0);
	return o;
}

static struct ist_ledger_outcome apply_tx(struct ist_ledger *l, struct ist_tx *tx)
{
	struct ist_payload_item it = { .kind = IST_PAYLOAD_TRANSACTION };
	it.u.tx = *tx;
	return apply(l, &it, 1, 0x0f);
}

/* Empty blocks (all four voting) until the epoch ends; returns the new epoch. */
static uint64_t finish_epoch(struct ist_ledger *l, uint8_t voters)
{
	for (int i = 0; i < 100; i++) {
		struct ist_ledger_outcome o = apply(l, NULL, 0, voters);
		if (o.epoch_ended)
			return ist_ledger_current(l)->epoch;
	}
	ck_abort_msg("the epoch never ended");
	return 0;
}

static uint64_t balance(struct ist_ledger *l, int who)
{
	const struct ist_ledger_account *a = ist_ledger_account(l, vals[who].pub);
	return a ? a->balance : 0;
}

static uint64_t nonce_of(struct ist_ledger *l, int who)
{
	const struct ist_ledger_account *a = ist_ledger_account(l, vals[who].pub);
	return a ? a->nonce : 0;
}

static bool in_set(const struct ist_ledger_set *s, int who)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (!memcmp(s->node_keys[i], vals[who].pub, 32))
			return true;
	return false;
}

static struct ist_tx transfer(struct ist_ledger *l, int from, int to, uint64_t amount, uint64_t fee)
{
	struct ist_tx tx = { .kind = IST_TX_TRANSFER, .fee = fee, .nonce = nonce_of(l, from) };
	memcpy(tx.u.transfer.to, vals[to].pub, 32);
	tx.u.transfer.amount = amount;
	sign_tx(&tx, from);
	return tx;
}

START_TEST(transfers_nonces_fees)
{
	struct ist_ledger *l = new_ledger();
	struct ist_tx tx = transfer(l, 0, 5, 500, 7);
	char why[200];
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &tx, 8, why, sizeof(why)), 0);
	struct ist_ledger_outcome o = apply_tx(l, &tx);
	ck_assert_uint_eq(o.n_txs, 1);
	ck_assert_uint_eq(o.n_failed, 0);
	ck_assert_uint_eq(balance(l, 0), 100000 - 507);
	ck_assert_uint_eq(balance(l, 5), 500);
	ck_assert_uint_eq(nonce_of(l, 0), 1);
	/* the same transaction again: its nonce is used */
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &tx, 8, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, "already used") != NULL, "%s", why);
	o = apply_tx(l, &tx);
	ck_assert_uint_eq(o.n_failed, 1);
	ck_assert_uint_eq(balance(l, 0), 100000 - 507);
	/* more than the balance: refused at submission; committed anyway, it
	 * fails, its fee is taken and its nonce used */
	tx = transfer(l, 5, 0, 1000, 10);
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &tx, 8, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, "insufficient balance") != NULL, "%s", why);
	o = apply_tx(l, &tx);
	ck_assert_uint_eq(o.n_failed, 1);
	ck_assert_uint_eq(balance(l, 5), 490);
	ck_assert_uint_eq(nonce_of(l, 5), 1);
	/* a nonce too far ahead */
	tx = transfer(l, 0, 5, 1, 0);
	tx.nonce += 9;
	sign_tx(&tx, 0);
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &tx, 8, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, "too far ahead") != NULL, "%s", why);
	ist_ledger_free(l);
}
END_TEST

static void register_and_bond(struct ist_ledger *l, int who, uint64_t amount)
{
	struct ist_tx tx = { .kind = IST_TX_REGISTER_VALIDATOR, .nonce = nonce_of(l, who) };
	memcpy(tx.u.register_validator.node_key, vals[who].pub, 32);
	memcpy(tx.u.register_validator.attest_key, vals[who].apub, 33);
	memcpy(tx.u.register_validator.dkg_key, vals[who].dkg, 32);
	strcpy(tx.u.register_validator.address, "tcp://127.0.0.1:9");
	tx.u.register_validator.address_len = strlen(tx.u.register_validator.address);
	tx.u.register_validator.commission_bps = 500;
	sign_tx(&tx, who);
	ck_assert_uint_eq(apply_tx(l, &tx).n_failed, 0);
	struct ist_tx b = { .kind = IST_TX_BOND, .nonce = nonce_of(l, who) };
	memcpy(b.u.bond.validator, vals[who].pub, 32);
	b.u.bond.amount = amount;
	sign_tx(&b, who);
	ck_assert_uint_eq(apply_tx(l, &b).n_failed, 0);
}

START_TEST(register_checks_keys)
{
	struct ist_ledger *l = new_ledger();
	struct ist_tx tx = transfer(l, 0, 4, 5000, 0);
	apply_tx(l, &tx);
	struct ist_tx r = { .kind = IST_TX_REGISTER_VALIDATOR, .nonce = 0 };
	memcpy(r.u.register_validator.node_key, vals[4].pub, 32);
	memcpy(r.u.register_validator.attest_key, vals[4].apub, 33);
	memset(r.u.register_validator.dkg_key, 0x70, 32);   /* not an X25519 key of the subgroup */
	strcpy(r.u.register_validator.address, "tcp://127.0.0.1:9");
	r.u.register_validator.address_len = strlen(r.u.register_validator.address);
	sign_tx(&r, 4);
	char why[200];
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &r, 8, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, "dkg_key") != NULL, "%s", why);
	/* another validator's attestation key */
	memcpy(r.u.register_validator.dkg_key, vals[4].dkg, 32);
	memcpy(r.u.register_validator.attest_key, vals[1].apub, 33);
	sign_tx(&r, 4);
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &r, 8, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, "already uses") != NULL, "%s", why);
	ist_ledger_free(l);
}
END_TEST

START_TEST(join_leave_withdraw)
{
	struct ist_ledger *l = new_ledger();
	struct ist_tx tx = transfer(l, 0, 4, 5000, 0);
	apply_tx(l, &tx);
	register_and_bond(l, 4, 3000);
	const struct ist_ledger_validator *v = ist_ledger_validator_find(l, vals[4].pub);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(ist_ledger_validator_status(l, v), IST_LEDGER_CANDIDATE);
	ck_assert(!in_set(ist_ledger_current(l), 4));
	uint64_t e = finish_epoch(l, 0x0f);
	ck_assert_uint_eq(e, 1);
	const struct ist_ledger_set *s = ist_ledger_current(l);
	ck_assert_uint_eq(s->n, 5);
	/* ordered by stake: the newcomer with 3000 is index 0 */
	ck_assert_mem_eq(s->node_keys[0], vals[4].pub, 32);
	ck_assert_uint_eq(s->stakes[0], 3000);
	ck_assert_uint_eq(s->total, 7000);
	ck_assert_uint_eq(s->start_height, EPOCH_LEN + 1);
	/* the ended set is kept, with its end */
	ck_assert_uint_eq(ist_ledger_set_get(l, 0)->end_height, EPOCH_LEN);
	/* validator 1 unbonds everything: out at the next epoch */
	struct ist_tx u = { .kind = IST_TX_UNBOND, .nonce = nonce_of(l, 1) };
	memcpy(u.u.unbond.validator, vals[1].pub, 32);
	u.u.unbond.amount = 1000;
	sign_tx(&u, 1);
	ck_assert_uint_eq(apply_tx(l, &u).n_failed, 0);
	e = finish_epoch(l, 0x1f);
	ck_assert(!in_set(ist_ledger_current(l), 1));
	ck_assert_uint_eq(ist_ledger_current(l)->n, 4);
	/* released at epoch 1 + 2 = 3: withdraw fails before, works after */
	struct ist_tx w = { .kind = IST_TX_WITHDRAW, .nonce = nonce_of(l, 1) };
	sign_tx(&w, 1);
	char why[200];
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &w, 8, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, "epoch 3") != NULL, "%s", why);
	finish_epoch(l, 0x0f);
	ck_assert_uint_eq(ist_ledger_current(l)->epoch, 3);
	uint64_t before = balance(l, 1);
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &w, 8, why, sizeof(why)), 0);
	ck_assert_uint_eq(apply_tx(l, &w).n_failed, 0);
	ck_assert_uint_eq(balance(l, 1), before + 1000);
	ck_assert_uint_eq(ist_ledger_n_unbonding(l), 0);
	ist_ledger_free(l);
}
END_TEST

START_TEST(jail_and_unjail)
{
	struct ist_ledger *l = new_ledger();
	/* validator 3 (index 3 of epoch 0) is in no QC of the epoch */
	finish_epoch(l, 0x07);
	const struct ist_ledger_validator *v = ist_ledger_validator_find(l, vals[3].pub);
	ck_assert(v->jailed);
	ck_assert_uint_eq(v->jailed_epoch, 0);
	ck_assert(!in_set(ist_ledger_current(l), 3));
	ck_assert_uint_eq(ist_ledger_current(l)->n, 3);
	/* cooldown of one epoch: unjail works from epoch 1 */
	struct ist_tx t = { .kind = IST_TX_UNJAIL, .nonce = nonce_of(l, 3) };
	sign_tx(&t, 3);
	char why[200];
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &t, 8, why, sizeof(why)), 0);
	ck_assert_uint_eq(apply_tx(l, &t).n_failed, 0);
	ck_assert(!v->jailed);
	finish_epoch(l, 0x07);
	ck_assert(in_set(ist_ledger_current(l), 3));
	/* a member that misses a few QCs is not jailed */
	for (int i = 0; i < 3; i++)
		apply(l, NULL, 0, 0x0d);
	finish_epoch(l, 0x0f);
	ck_assert(!ist_ledger_validator_find(l, vals[1].pub)->jailed);
	ist_ledger_free(l);
}
END_TEST

static void vote_sig(int who, uint64_t epoch, uint64_t view, const uint8_t block[32], uint8_t sig[64])
{
	uint8_t m[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(NET, epoch, view, block, m);
	ck_assert_int_eq(ist_ed25519_sign(vals[who].seed, m, sizeof(m), sig), 0);
}

static void encode(struct ist_evidence *ev, struct ist_payload_item *it)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_evidence_normalize(ev);
	ck_assert_int_eq(ist_evidence_encode(ev, &b), 0);
	it->kind = IST_PAYLOAD_EVIDENCE;
	it->u.opaque.data = malloc(b.len);
	memcpy(it->u.opaque.data, b.data, b.len);
	it->u.opaque.len = b.len;
	ist_buf_fini(&b);
}

START_TEST(slash_double_vote)
{
	struct ist_ledger *l = new_ledger();
	const struct ist_ledger_set *s = ist_ledger_current(l);
	uint32_t idx = 2;   /* epoch 0 is genesis order */
	struct ist_evidence ev = { .kind = IST_EVIDENCE_DOUBLE_VOTE };
	ev.u.vote.epoch = 0;
	ev.u.vote.view = 7;
	ev.u.vote.voter = idx;
	memset(ev.u.vote.block_a, 0xaa, 32);
	memset(ev.u.vote.block_b, 0xbb, 32);
	vote_sig(2, 0, 7, ev.u.vote.block_a, ev.u.vote.sig_a);
	vote_sig(2, 0, 7, ev.u.vote.block_b, ev.u.vote.sig_b);
	struct ist_payload_item it;
	encode(&ev, &it);
	char why[200];
	ck_assert_int_eq(ist_ledger_evidence_check(l, it.u.opaque.data, it.u.opaque.len, why, sizeof(why)), 0);
	/* a forged one: the second vote signed by another key */
	struct ist_evidence bad = ev;
	vote_sig(1, 0, 7, bad.u.vote.block_b, bad.u.vote.sig_b);
	struct ist_payload_item bit;
	encode(&bad, &bit);
	ck_assert_int_eq(ist_ledger_evidence_check(l, bit.u.opaque.data, bit.u.opaque.len, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, "does not verify") != NULL, "%s", why);

	struct ist_ledger_outcome o = apply(l, &it, 1, 0x0f);
	ck_assert(o.epoch_ended);   /* the offender was in the set: the epoch ends now */
	const struct ist_ledger_validator *v = ist_ledger_validator_find(l, vals[2].pub);
	ck_assert(v->removed);
	ck_assert_uint_eq(v->slashed, 100);
	ck_assert_uint_eq(v->bonded, 900);
	ck_assert(!in_set(ist_ledger_current(l), 2));
	ck_assert_int_eq(ist_ledger_validator_status(l, v), IST_LEDGER_REMOVED);
	/* the same evidence again: refused, nothing more is taken */
	ck_assert_int_eq(ist_ledger_evidence_check(l, it.u.opaque.data, it.u.opaque.len, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, "already slashed") != NULL, "%s", why);
	o = apply(l, &it, 1, 0x07);
	ck_assert(!o.epoch_ended);
	ck_assert_uint_eq(v->slashed, 100);
	/* unjail cannot bring a removed validator back */
	struct ist_tx t = { .kind = IST_TX_UNJAIL, .nonce = nonce_of(l, 2) };
	sign_tx(&t, 2);
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &t, 8, why, sizeof(why)), -IST_EINVAL);
	(void)s;
	free(it.u.opaque.data);
	free(bit.u.opaque.data);
	ist_ledger_free(l);
}
END_TEST

START_TEST(slash_conflicting_checkpoints)
{
	struct ist_ledger *l = new_ledger();
	/* validator 1 signs two batch roots holding different checkpoints of
	 * route 1->2 at tree size 5 */
	struct ist_evidence ev = { .kind = IST_EVIDENCE_CONFLICTING_CHECKPOINTS };
	struct ist_evidence_signed_cp *sc[2] = { &ev.u.cps.a, &ev.u.cps.b };
	for (int k = 0; k < 2; k++) {
		struct ist_evidence_signed_cp *x = sc[k];
		x->epoch = 0;
		x->height = 3 + (uint64_t)k;
		x->signer = 1;
		x->cp = (struct ist_checkpoint){ .src_chain = 1, .dst_chain = 2, .src_height = 10, .tree_size = 5 };
		memset(x->cp.root, 0x30 + k, 32);
		uint8_t leaves[2][32];
		ist_wire_checkpoint_leaf_hash(&x->cp, leaves[0]);
		memset(leaves[1], 0x77, 32);
		ck_assert_int_eq(ist_merkle_root((const uint8_t (*)[32])leaves, 2, x->batch_root), 0);
		x->proof.leaf_index = 0;
		x->proof.tree_size = 2;
		ck_assert_int_eq(ist_merkle_inclusion_proof((const uint8_t (*)[32])leaves, 2, 0, x->proof.path,
							    &x->proof.path_len), 0);
		uint8_t d[32];
		ist_wire_attest_digest(NET, x->epoch, x->height, x->batch_root, d);
		ck_assert_int_eq(ist_secp_sign(vals[1].asec, d, x->sig), 0);
	}
	struct ist_payload_item it;
	encode(&ev, &it);
	/* the decoder round-trips it */
	struct ist_evidence back;
	ck_assert_int_eq(ist_evidence_decode(it.u.opaque.data, it.u.opaque.len, &back, NULL), 0);
	char why[200];
	ck_assert_int_eq(ist_ledger_evidence_check(l, it.u.opaque.data, it.u.opaque.len, why, sizeof(why)), 0);
	/* the same root twice is no conflict */
	struct ist_evidence same = ev;
	memcpy(&same.u.cps.b.cp.root, same.u.cps.a.cp.root, 32);
	struct ist_evidence_set es = { .network_id = NET, .epoch = 0, .n = 4 };
	uint8_t nk[4][32], ak[4][33], off[32];
	for (int i = 0; i < 4; i++) {
		memcpy(nk[i], vals[i].pub, 32);
		memcpy(ak[i], vals[i].apub, 33);
	}
	es.node_keys = (const uint8_t (*)[32])nk;
	es.attest_keys = (const uint8_t (*)[33])ak;
	ck_assert(!ist_evidence_verify(&same, &es, &es, off, why, sizeof(why)));
	ck_assert_msg(strstr(why, "same root") != NULL, "%s", why);
	apply(l, &it, 1, 0x0f);
	ck_assert(ist_ledger_validator_find(l, vals[1].pub)->removed);
	free(it.u.opaque.data);
	ist_ledger_free(l);
}
END_TEST

/* ---- persistence ---- */

struct mem {
	struct {
		int t;
		uint8_t key[48];
		size_t klen;
		uint8_t *val;
		size_t vlen;
	} r[4096];
	size_t n;
};

static int mem_put(void *ctx, enum ist_ledger_table t, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	struct mem *m = ctx;
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == (int)t && m->r[i].klen == klen && !memcmp(m->r[i].key, key, klen)) {
			free(m->r[i].val);
			m->r[i].val = malloc(vlen ? vlen : 1);
			memcpy(m->r[i].val, val, vlen);
			m->r[i].vlen = vlen;
			return 0;
		}
	ck_assert_uint_lt(m->n, 4096);
	m->r[m->n].t = (int)t;
	memcpy(m->r[m->n].key, key, klen);
	m->r[m->n].klen = klen;
	m->r[m->n].val = malloc(vlen ? vlen : 1);
	memcpy(m->r[m->n].val, val, vlen);
	m->r[m->n].vlen = vlen;
	m->n++;
	return 0;
}

START_TEST(flush_load_round_trip)
{
	struct mem *m = calloc(1, sizeof(*m));
	struct ist_ledger_sink sink = { .put = mem_put, .ctx = m };
	struct ist_ledger *l = new_ledger();
	struct ist_tx tx = transfer(l, 0, 4, 5000, 3);
	apply_tx(l, &tx);
	register_and_bond(l, 4, 3000);
	apply(l, NULL, 0, 0x07);
	ck_assert_int_eq(ist_ledger_flush(l, &sink), 0);
	ist_ledger_flushed(l);
	/* a second ledger from the same genesis, loaded from the records */
	struct ist_ledger *k = new_ledger();
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == IST_LEDGER_T_STATE)
			ck_assert_int_eq(ist_ledger_load_state(k, m->r[i].val, m->r[i].vlen), 0);
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == IST_LEDGER_T_ACCOUNT)
			ck_assert_int_eq(ist_ledger_load_account(k, m->r[i].key, m->r[i].klen, m->r[i].val, m->r[i].vlen), 0);
	ck_assert_uint_eq(ist_ledger_height(k), ist_ledger_height(l));
	ck_assert_uint_eq(balance(k, 4), balance(l, 4));
	ck_assert_uint_eq(nonce_of(k, 4), nonce_of(l, 4));
	/* both go on identically, through an epoch end that jails 3 */
	uint64_t el = finish_epoch(l, 0x07), ek = finish_epoch(k, 0x07);
	ck_assert_uint_eq(el, ek);
	const struct ist_ledger_set *sl = ist_ledger_current(l), *sk = ist_ledger_current(k);
	ck_assert_uint_eq(sl->n, sk->n);
	ck_assert_mem_eq(sl->node_keys, sk->node_keys, sl->n * 32);
	ck_assert_mem_eq(sl->stakes, sk->stakes, sl->n * 8);
	ck_assert(ist_ledger_validator_find(k, vals[3].pub)->jailed);
	/* a receipt was written for every transaction */
	size_t receipts = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == IST_LEDGER_T_RECEIPT) {
			struct ist_ledger_receipt rc;
			ck_assert_int_eq(ist_ledger_receipt_decode(m->r[i].val, m->r[i].vlen, &rc), 0);
			ck_assert(rc.ok);
			receipts++;
		}
	ck_assert_uint_eq(receipts, 3);
	/* a corrupt state record is refused */
	uint8_t junk[3] = { 1, 2, 3 };
	ck_assert_int_eq(ist_ledger_load_state(k, junk, sizeof(junk)), -IST_EDB_CORRUPT);
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].val);
	free(m);
	ist_ledger_free(l);
	ist_ledger_free(k);
}
END_TEST

/* The receipt of tx among the flushed records. */
static struct ist_ledger_receipt receipt_of(const struct mem *m, const struct ist_tx *tx)
{
	uint8_t id[32];
	ck_assert_int_eq(ist_wire_tx_id(tx, id), 0);
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == IST_LEDGER_T_RECEIPT && m->r[i].klen == 32 && !memcmp(m->r[i].key, id, 32)) {
			struct ist_ledger_receipt rc;
			ck_assert_int_eq(ist_ledger_receipt_decode(m->r[i].val, m->r[i].vlen, &rc), 0);
			return rc;
		}
	ck_abort_msg("no receipt");
	return (struct ist_ledger_receipt){ 0 };
}

static struct ist_tx gov_tx(struct ist_ledger *l, int who, enum ist_tx_kind kind, uint64_t proposal)
{
	struct ist_tx tx;
	memset(&tx, 0, sizeof(tx));
	tx.kind = kind;
	tx.nonce = nonce_of(l, who);
	if (kind == IST_TX_GOV_PROPOSE)
		tx.u.gov_propose = (typeof(tx.u.gov_propose)){ .action = IST_GOV_PAUSE_ROUTE, .src_chain = 1,
							       .dst_chain = 2, .voting_blocks = 50 };
	else
		tx.u.gov_vote = (typeof(tx.u.gov_vote)){ .proposal = proposal, .approve = true };
	sign_tx(&tx, who);
	return tx;
}

/* gov_propose and gov_vote through the ledger: the receipt carries the
 * proposal's number, a non-operator is refused at submission with the
 * reason, three of four pause the route, and the record is persisted. */
START_TEST(governance)
{
	struct mem *m = calloc(1, sizeof(*m));
	struct ist_ledger_sink sink = { .put = mem_put, .ctx = m };
	struct ist_ledger *l = new_ledger();
	struct ist_tx p1 = gov_tx(l, 0, IST_TX_GOV_PROPOSE, 0);
	apply_tx(l, &p1);
	struct ist_tx p2 = gov_tx(l, 3, IST_TX_GOV_PROPOSE, 0);
	apply_tx(l, &p2);
	char why[IST_LEDGER_REASON_MAX];
	struct ist_tx bad = gov_tx(l, NV + 1, IST_TX_GOV_VOTE, 1);
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &bad, 16, why, sizeof(why)), -IST_EINVAL);
	ck_assert_msg(strstr(why, "this account operates no validator") != NULL, "%s", why);
	struct ist_tx v1 = gov_tx(l, 1, IST_TX_GOV_VOTE, 1);
	apply_tx(l, &v1);
	ck_assert(!ist_gov_route_paused(ist_ledger_gov(l), 1, 2));
	struct ist_tx v2 = gov_tx(l, 2, IST_TX_GOV_VOTE, 1);
	apply_tx(l, &v2);
	ck_assert(ist_gov_route_paused(ist_ledger_gov(l), 1, 2));
	/* a vote on the passed proposal fails (its receipt says why) */
	struct ist_tx late = gov_tx(l, 3, IST_TX_GOV_VOTE, 1);
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &late, 16, why, sizeof(why)), -IST_EINVAL);
	ck_assert_str_eq(why, "proposal 1 is passed");
	apply_tx(l, &late);
	ck_assert_int_eq(ist_ledger_flush(l, &sink), 0);
	ist_ledger_flushed(l);
	struct ist_ledger_receipt rc = receipt_of(m, &p1);
	ck_assert(rc.ok);
	ck_assert_uint_eq(rc.proposal, 1);
	rc = receipt_of(m, &p2);
	ck_assert_uint_eq(rc.proposal, 2);
	rc = receipt_of(m, &v2);
	ck_assert(rc.ok);
	ck_assert_uint_eq(rc.proposal, 0);
	rc = receipt_of(m, &late);
	ck_assert(!rc.ok);
	ck_assert_str_eq(rc.reason, "proposal 1 is passed");
	ck_assert_uint_eq(rc.proposal, 0);
	/* the governance record restores the pause */
	struct ist_ledger *k = new_ledger();
	bool found = false;
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == IST_LEDGER_T_GOV) {
			ck_assert_int_eq(ist_ledger_load_gov(k, m->r[i].val, m->r[i].vlen), 0);
			found = true;
		}
	ck_assert(found);
	/* the pause is recorded at the height it took effect, for its leaf */
	size_t pauses = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == IST_LEDGER_T_PAUSES) {
			struct ist_gov_event ev[IST_GOV_MAX_BLOCK_EVENTS];
			size_t ne = 0;
			ck_assert_uint_eq(m->r[i].klen, 8);
			ck_assert_int_eq(ist_gov_events_decode(m->r[i].val, m->r[i].vlen, ist_get_be64(m->r[i].key), ev,
							       IST_GOV_MAX_BLOCK_EVENTS, &ne), 0);
			ck_assert_uint_eq(ne, 1);
			ck_assert_int_eq(ev[0].scope, IST_PAUSE_ROUTE);
			ck_assert(ev[0].paused && ev[0].a == 1 && ev[0].b == 2 && ev[0].proposal == 1);
			uint8_t leaves[IST_GOV_MAX_BLOCK_EVENTS][IST_HASH_BYTES];
			ck_assert_uint_eq(ist_ledger_pause_leaves(l, ev[0].height, leaves), 1);
			pauses++;
		}
	ck_assert_uint_eq(pauses, 1);
	ck_assert(ist_gov_route_paused(ist_ledger_gov(k), 1, 2));
	ck_assert_uint_eq(ist_gov_n_proposals(ist_ledger_gov(k)), 2);
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].val);
	free(m);
	ist_ledger_free(k);
	ist_ledger_free(l);
}
END_TEST

/* set_param through the ledger: a value the parameters' checks refuse is
 * refused at submission with the reason; a passed change applies at once
 * and comes back with the governance record. */
START_TEST(governance_params)
{
	struct mem *m = calloc(1, sizeof(*m));
	struct ist_ledger_sink sink = { .put = mem_put, .ctx = m };
	struct ist_ledger *l = new_ledger();
	char why[IST_LEDGER_REASON_MAX];
	struct ist_tx bad = gov_tx(l, 0, IST_TX_GOV_PROPOSE, 0);
	bad.u.gov_propose = (typeof(bad.u.gov_propose)){ .action = IST_GOV_SET_PARAM, .voting_blocks = 50,
							  .param = IST_GOV_PARAM_SLASH_FRACTION_BPS, .param_value = 10001 };
	sign_tx(&bad, 0);
	ck_assert_int_eq(ist_ledger_tx_precheck(l, &bad, 16, why, sizeof(why)), -IST_EINVAL);
	ck_assert_str_eq(why, "slash_fraction_bps cannot be 10001");
	uint64_t before = ist_ledger_params_get(l)->min_stake;
	struct ist_tx p = gov_tx(l, 0, IST_TX_GOV_PROPOSE, 0);
	p.u.gov_propose = (typeof(p.u.gov_propose)){ .action = IST_GOV_SET_PARAM, .voting_blocks = 50,
						      .param = IST_GOV_PARAM_MIN_STAKE, .param_value = before + 5 };
	sign_tx(&p, 0);
	apply_tx(l, &p);
	struct ist_tx v1 = gov_tx(l, 1, IST_TX_GOV_VOTE, 1);
	apply_tx(l, &v1);
	ck_assert_uint_eq(ist_ledger_params_get(l)->min_stake, before);
	struct ist_tx v2 = gov_tx(l, 2, IST_TX_GOV_VOTE, 1);
	apply_tx(l, &v2);
	ck_assert_uint_eq(ist_ledger_params_get(l)->min_stake, before + 5);
	ck_assert_int_eq(ist_ledger_flush(l, &sink), 0);
	ist_ledger_flushed(l);
	struct ist_ledger *k = new_ledger();
	for (size_t i = 0; i < m->n; i++)
		if (m->r[i].t == IST_LEDGER_T_GOV)
			ck_assert_int_eq(ist_ledger_load_gov(k, m->r[i].val, m->r[i].vlen), 0);
	ck_assert_uint_eq(ist_ledger_params_get(k)->min_stake, before + 5);
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].val);
	free(m);
	ist_ledger_free(k);
	ist_ledger_free(l);
}
END_TEST

/* A finality report of chain `chain` at source height sh by `who`, signed
 * for network `net`. */
static void finality_report(int who, uint64_t net, uint64_t chain, uint64_t sh, struct ist_payload_item *it)
{
	struct ist_evidence ev = { .kind = IST_EVIDENCE_FINALITY_REPORT };
	ev.u.report.network_id = net;
	ev.u.report.chain = chain;
	ev.u.report.height = sh;
	memset(ev.u.report.observed, 0x11, 32);
	memset(ev.u.report.rewritten, 0x22, 32);
	memcpy(ev.u.report.reporter, vals[who].pub, 32);
	uint8_t m[IST_EVIDENCE_REPORT_SIGNING_BYTES];
	ist_evidence_report_signing_bytes(&ev, m);
	ck_assert_int_eq(ist_ed25519_sign(vals[who].seed, m, sizeof(m), ev.u.report.sig), 0);
	encode(&ev, it);
}

static void report_refused(struct ist_ledger *l, const struct ist_payload_item *it, const char *want)
{
	char why[IST_LEDGER_REASON_MAX];
	ck_assert_int_eq(ist_ledger_evidence_check(l, it->u.opaque.data, it->u.opaque.len, why, sizeof(why)),
			 -IST_EINVAL);
	ck_assert_msg(strstr(why, want) != NULL, "reason '%s' lacks '%s'", why, want);
}

/* Signed finality reports in blocks: checked (network, signature, set,
 * one per validator), recorded, and two of four equal stakes (more than
 * 1/3) pause the chain at the end of the block; the record persists. */
START_TEST(finality_reports)
{
	struct mem *m = calloc(1, sizeof(*m));
	struct ist_ledger_sink sink = { .put = mem_put, .ctx = m };
	struct ist_ledger *l = new_ledger();
	struct ist_payload_item r0, r0b, r1, other_net, outsider, forged;
	finality_report(0, NET, 3, 40, &r0);
	finality_report(0, NET, 3, 41, &r0b);
	finality_report(1, NET, 3, 42, &r1);
	finality_report(1, NET + 1, 3, 42, &other_net);
	finality_report(NV, NET, 3, 42, &outsider);
	finality_report(2, NET, 3, 42, &forged);
	forged.u.opaque.data[20] ^= 1;   /* the height: the signature no longer covers it */
	char why[IST_LEDGER_REASON_MAX];
	ck_assert_int_eq(ist_ledger_evidence_check(l, r0.u.opaque.data, r0.u.opaque.len, why, sizeof(why)), 0);
	report_refused(l, &other_net, "another network");
	report_refused(l, &outsider, "not a validator of the current set");
	report_refused(l, &forged, "does not verify");
	/* one report: 1/4, nothing paused; it is not slashing */
	struct ist_ledger_outcome o = apply(l, &r0, 1, 0x0f);
	ck_assert(!o.epoch_ended);
	ck_assert(!ist_gov_chain_paused(ist_ledger_gov(l), 3));
	ck_assert_uint_eq(ist_ledger_validator_find(l, vals[0].pub)->slashed, 0);
	report_refused(l, &r0b, "counted already");
	/* the same validator again and validator 1 in one block: 2/4 */
	struct ist_payload_item two[2] = { r0b, r1 };
	apply(l, two, 2, 0x0f);
	ck_assert(ist_gov_chain_paused(ist_ledger_gov(l), 3));
	ck_assert(ist_gov_route_paused(ist_ledger_gov(l), 1, 3));
	ck_assert(!ist_gov_route_paused(ist_ledger_gov(l), 1, 2));
	const struct ist_breaker_chain *c = ist_breaker_chain_get(ist_ledger_breaker(l), 3);
	ck_assert_ptr_nonnull(c);
	ck_assert(c->tripped);
	ck_assert_uint_eq(c->tripped_at, ist_ledger_height(l));
	ck_assert_uint_eq(c->n_reports, 2);
	ck_assert_int_eq(ist_ledger_flush(l, &sink), 0);
	/* the records: counted, refused (the duplicate), counted */
	size_t counted = 0, refusals = 0;
	struct ist_ledger *k = new_ledger();
	for (size_t i = 0; i < m->n; i++) {
		if (m->r[i].t == IST_LEDGER_T_EVIDENCE) {
			struct ist_ledger_evidence_record rec;
			ck_assert_int_eq(ist_ledger_evidence_record_decode(m->r[i].val, m->r[i].vlen, &rec), 0);
			ck_assert_int_eq(rec.kind, IST_EVIDENCE_FINALITY_REPORT);
			counted += rec.ok;
			refusals += !rec.ok && strstr(rec.reason, "counted already") != NULL;
		}
		if (m->r[i].t == IST_LEDGER_T_BREAKER)
			ck_assert_int_eq(ist_ledger_load_breaker(k, m->r[i].val, m->r[i].vlen), 0);
	}
	ck_assert_uint_eq(counted, 2);
	ck_assert_uint_eq(refusals, 1);
	c = ist_breaker_chain_get(ist_ledger_breaker(k), 3);
	ck_assert(c && c->tripped && c->n_reports == 2);
	struct ist_payload_item *all[] = { &r0, &r0b, &r1, &other_net, &outsider, &forged };
	for (size_t i = 0; i < IST_ARRAY_SIZE(all); i++)
		free(all[i]->u.opaque.data);
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].val);
	free(m);
	ist_ledger_free(k);
	ist_ledger_free(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("ledger");
	tcase_add_checked_fixture(tc, make_keys, NULL);
	tcase_add_test(tc, transfers_nonces_fees);
	tcase_add_test(tc, register_checks_keys);
	tcase_add_test(tc, join_leave_withdraw);
	tcase_add_test(tc, jail_and_unjail);
	tcase_add_test(tc, slash_double_vote);
	tcase_add_test(tc, slash_conflicting_checkpoints);
	tcase_add_test(tc, flush_load_round_trip);
	tcase_add_test(tc, governance);
	tcase_add_test(tc, governance_params);
	tcase_add_test(tc, finality_reports);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
