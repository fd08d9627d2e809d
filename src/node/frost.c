/*
 * The node's side of FROST (docs/frost.md, "In the node"): it takes part
 * in the DKG runs the ledger starts, keeps its signing share and nonces
 * encrypted at rest, publishes nonce commitments, signs its share of the
 * signing jobs the ledger assigns (a nonce is deleted durably before its
 * share leaves), aggregates the shares it receives, and stores the
 * frost-ed25519 certificates. Consensus thread only.
 *
 * Keys in the dkg database (values: secretbox nonce 24 || ciphertext,
 * under a key derived from this validator's X25519 DKG secret key):
 *   's' || epoch (u64)              -> the epoch's signing share (32)
 *   'n' || epoch (u64) || seq (u32) -> a nonce pair, hiding || binding (64)
 *
 * FrostMessage envelopes (the bytes):
 *   1 || epoch u64 || height u64 || attempt u32 || id u16 || z (32) ||
 *     signature (64, the member's node key, ist_fl_share_signed_bytes)  a share
 *   2 || payload kind u8 || item bytes                               an item
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/log.h"
#include "common/rng.h"
#include "crypto/dkg.h"
#include "crypto/ed25519.h"
#include "crypto/frost.h"
#include "node/frost.h"
#include "node/internal.h"
#include "node/ledger.h"
#include "state/frost_ledger.h"
#include "storage/attest.h"
#include "wire/canonical.h"
#include "wire/codec.h"

#define SUBSYS "frost"
#define NONCE_LOW 16
#define NONCE_BATCH 32
#define MSG_SHARE 1
#define MSG_ITEM 2
#define SHARE_MSG_BYTES (1 + 8 + 8 + 4 + 2 + 32 + 64)
#define MAX_AGG 64

struct agg {
	bool used;
	uint64_t epoch, height;
	uint32_t attempt;
	uint16_t n_have;
	bool reported;
	uint16_t ids[IST_DKG_MAX_PARTICIPANTS];
	uint8_t z[IST_DKG_MAX_PARTICIPANTS][32];
	uint8_t sig[IST_DKG_MAX_PARTICIPANTS][64];
};

/* A share that came before this node committed its job's block. */
struct early {
	bool used;
	uint8_t m[SHARE_MSG_BYTES];
};
#define MAX_EARLY 256

/* An item a peer handed over before this node could check it (its DKG or
 * group not formed here yet): checked again after the next commits. */
struct early_item {
	uint8_t *p;                        /* payload kind || item */
	size_t len;
	uint64_t until;                    /* dropped after this height */
};
#define MAX_EARLY_ITEMS 64
#define EARLY_ITEM_BLOCKS 20

struct ist_node_frost {
	uint8_t *enc_sec;                  /* sodium_malloc'd X25519 DKG secret key */
	uint8_t *at_rest;                  /* sodium_malloc'd secretbox key */
	/* the DKG this node deals in */
	struct ist_dkg_dealer *dealer;
	uint64_t dealer_epoch;
	bool sent[4];                      /* rounds 1..3 sent for dealer_epoch */
	uint8_t (*shares)[32];             /* sodium_malloc'd, IST_DKG_MAX_PARTICIPANTS: f_i(me) by dealer */
	bool have_shares;
	/* the signing share of share_epoch */
	uint8_t *share;                    /* sodium_malloc'd */
	bool has_share;
	uint64_t share_epoch;
	/* the last nonce batch sent: (epoch, first seq) at height sent_at */
	bool sent_valid;
	uint64_t sent_epoch, sent_at;
	uint32_t sent_seq;
	/* signed: (epoch, height, attempt) of the last jobs this node signed */
	struct { uint64_t epoch, height; uint32_t attempt; } signed_[256];
	size_t signed_next;
	struct agg agg[MAX_AGG];
	size_t agg_next;
	uint64_t pruned_below;             /* secrets of epochs below it are gone */
	struct early early[MAX_EARLY];
	size_t early_next;
	struct early_item early_items[MAX_EARLY_ITEMS];
	size_t early_items_next;
	struct ist_metric *m_shares, *m_bad, *m_certs, *m_dkg;
};

/* ---- secrets at rest ---- */

static void k_share(uint8_t k[9], uint64_t epoch)
{
	k[0] = 's';
	ist_put_be64(k + 1, epoch);
}

static void k_nonce(uint8_t k[13], uint64_t epoch, uint32_t seq)
{
	k[0] = 'n';
	ist_put_be64(k + 1, epoch);
	ist_put_be32(k + 9, seq);
}

static void seal(const struct ist_node_frost *f, const uint8_t *m, size_t len, uint8_t *out)
{
	randombytes_buf(out, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, m, len, out, f->at_rest);
}

static int open_box(const struct ist_node_frost *f, const uint8_t *c, size_t clen, uint8_t *out, size_t len)
{
	if (clen != crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len)
		return -IST_EDB_CORRUPT;
	if (crypto_secretbox_open_easy(out, c + crypto_secretbox_NONCEBYTES, clen - crypto_secretbox_NONCEBYTES, c,
				       f->at_rest) != 0)
		return -IST_EDB_CORRUPT;
	return 0;
}

struct puts {
	size_t n;
	uint8_t keys[NONCE_BATCH + 1][13];
	size_t klen[NONCE_BATCH + 1];
	uint8_t vals[NONCE_BATCH + 1][crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 64];
	size_t vlen[NONCE_BATCH + 1];
	bool del;
};

static int puts_fn(struct ist_txn *txn, void *ctx)
{
	struct puts *p = ctx;
	for (size_t i = 0; i < p->n; i++) {
		int r = p->del ? ist_store_del(txn, IST_STORE_DB_DKG, p->keys[i], p->klen[i])
			       : ist_store_put(txn, IST_STORE_DB_DKG, p->keys[i], p->klen[i], p->vals[i], p->vlen[i]);
		if (r < 0 && !(p->del && r == -IST_ENOTFOUND))
			return r;
	}
	return 0;
}

/* ---- sending ---- */

static void broadcast(struct ist_node *n, const uint8_t *data, size_t len)
{
	struct ist_envelope *env = calloc(1, sizeof(*env));
	if (!env || len > IST_WIRE_MAX_FROST_MSG_BYTES) {
		free(env);
		return;
	}
	env->kind = IST_ENVELOPE_FROST;
	memcpy(env->u.frost.data, data, len);
	env->u.frost.len = len;
	int r = ist_net_broadcast(n->net, env);
	if (r < 0)
		ist_log_warn(SUBSYS, "cannot broadcast a FROST message: %s", ist_strerror(r));
	free(env);
}

/* Puts an item in this node's mempool and hands it to every peer. */
static void submit_item(struct ist_node *n, enum ist_payload_kind kind, const uint8_t *p, size_t len, const char *what)
{
	struct ist_payload_item it = { .kind = kind };
	it.u.opaque.data = malloc(len);
	if (!it.u.opaque.data)
		return;
	memcpy(it.u.opaque.data, p, len);
	it.u.opaque.len = len;
	int r = ist_mempool_add(n->mempool, &it);
	ist_wire_payload_item_fini(&it);
	if (r < 0 && r != -IST_EEXISTS)
		ist_log_warn(SUBSYS, "cannot queue %s: %s", what, ist_strerror(r));
	uint8_t *m = malloc(len + 2);
	if (m) {
		m[0] = MSG_ITEM;
		m[1] = (uint8_t)kind;
		memcpy(m + 2, p, len);
		broadcast(n, m, len + 2);
		free(m);
	}
	ist_node_queue_kick(&n->q);
}

/* Signs an item made in b (the signature is appended) and submits it. */
static void sign_submit(struct ist_node *n, enum ist_payload_kind kind, struct ist_buf *b, const char *what)
{
	struct ist_buf sb;
	ist_buf_init(&sb, 0);
	ist_fl_item_signed_bytes(n->g.network_id, b->data, b->len, &sb);
	uint8_t sig[64];
	if (ist_buf_err(&sb) == 0 && ist_buf_err(b) == 0 && ist_node_sign(n, sb.data, sb.len, sig) == 0) {
		ist_buf_put(b, sig, 64);
		if (ist_buf_err(b) == 0)
			submit_item(n, kind, b->data, b->len, what);
	}
	ist_buf_fini(&sb);
}

/* ---- start ---- */

int ist_node_frost_init(struct ist_node *n, const uint8_t *enc_sec32, char *errbuf, size_t errlen)
{
	struct ist_node_frost *f = calloc(1, sizeof(*f));
	if (!f)
		goto nomem;
	n->fr = f;
	f->enc_sec = sodium_malloc(32);
	f->at_rest = sodium_malloc(crypto_secretbox_KEYBYTES);
	f->share = sodium_malloc(32);
	f->shares = sodium_malloc(IST_DKG_MAX_PARTICIPANTS * 32);
	if (!f->enc_sec || !f->at_rest || !f->share || !f->shares)
		goto nomem;
	memcpy(f->enc_sec, enc_sec32, 32);
	static const char ctx[] = "isthmus/frost-at-rest/v1";
	crypto_generichash(f->at_rest, crypto_secretbox_KEYBYTES, (const uint8_t *)ctx, sizeof(ctx) - 1, f->enc_sec, 32);
	return 0;
nomem:
	snprintf(errbuf, errlen, "cannot hold the FROST keys in guarded memory");
	return -IST_ENOMEM;
}

/* The metrics, registered at the first use (the registry comes after the
 * keys at start-up). */
static void metrics(struct ist_node *n)
{
	struct ist_node_frost *f = n->fr;
	if (f->m_shares || !n->metrics)
		return;
	f->m_shares = ist_metrics_counter(n->metrics, "isthmus_frost_shares_total",
					  "FROST signature shares this node received and checked.", "result");
	f->m_bad = ist_metrics_counter(n->metrics, "isthmus_frost_bad_shares_total",
				       "FROST signature shares that failed their check (the signer is named in the log and the evidence database).",
				       NULL);
	f->m_certs = ist_metrics_counter(n->metrics, "isthmus_frost_certificates_total",
					 "frost-ed25519 certificates this node formed or received.", "source");
	f->m_dkg = ist_metrics_counter(n->metrics, "isthmus_frost_dkg_items_total",
				       "DKG and nonce items this node published.", "kind");
}

void ist_node_frost_fini(struct ist_node *n)
{
	struct ist_node_frost *f = n->fr;
	if (!f)
		return;
	ist_dkg_dealer_free(f->dealer);
	for (size_t i = 0; i < MAX_EARLY_ITEMS; i++)
		free(f->early_items[i].p);
	if (f->enc_sec)
		sodium_free(f->enc_sec);
	if (f->at_rest)
		sodium_free(f->at_rest);
	if (f->share)
		sodium_free(f->share);
	if (f->shares)
		sodium_free(f->shares);
	free(f);
	n->fr = NULL;
}

/* The signing share of `epoch`, from memory or the store. */
static bool share_of(struct ist_node *n, uint64_t epoch)
{
	struct ist_node_frost *f = n->fr;
	if (f->has_share && f->share_epoch == epoch)
		return true;
	struct ist_txn *txn;
	if (ist_store_read_begin(n->store, &txn) < 0)
		return false;
	uint8_t k[9];
	k_share(k, epoch);
	const uint8_t *v;
	size_t vlen;
	bool ok = ist_store_get(txn, IST_STORE_DB_DKG, k, sizeof(k), &v, &vlen) == 0 &&
		  open_box(f, v, vlen, f->share, 32) == 0;
	ist_store_read_end(txn);
	if (ok) {
		f->has_share = true;
		f->share_epoch = epoch;
	}
	return ok;
}

/* ---- the DKG ---- */

static struct ist_dkg_params params_of(const struct ist_node *n, const struct ist_fl_dkg *d)
{
	return (struct ist_dkg_params){ .network_id = n->g.network_id, .epoch = d->epoch, .n = d->n, .t = d->t,
					.enc_keys = (const uint8_t (*)[IST_X25519_PUBKEY_BYTES])d->enc_keys };
}

/* A DKG item of `type` with `body` (its sender `me`), signed and submitted. */
static void send_dkg_item(struct ist_node *n, enum ist_fl_item type, uint64_t epoch, uint16_t me, const uint8_t *body,
			  size_t len, const char *what, const char *metric)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_fl_item_head(&b, type, epoch, me);
	ist_buf_put(&b, body, len);
	sign_submit(n, IST_PAYLOAD_DKG, &b, what);
	ist_buf_fini(&b);
	ist_metric_inc(n->fr->m_dkg, metric);
}

static void dkg_round1(struct ist_node *n, const struct ist_fl_dkg *d, uint16_t me)
{
	struct ist_node_frost *f = n->fr;
	struct ist_dkg_params p = params_of(n, d);
	struct ist_dkg_round1 *pkg = malloc(sizeof(*pkg));
	if (!pkg)
		return;
	ist_dkg_dealer_free(f->dealer);
	f->dealer = NULL;
	if (ist_dkg_round1(&p, me, ist_rng_system(), &f->dealer, pkg) < 0) {
		free(pkg);
		return;
	}
	f->dealer_epoch = d->epoch;
	memset(f->sent, 0, sizeof(f->sent));
	f->have_shares = false;
	sodium_memzero(f->shares, IST_DKG_MAX_PARTICIPANTS * 32);
	size_t len = ist_dkg_round1_encoded_len(pkg);
	uint8_t *enc = malloc(len);
	if (enc) {
		ist_dkg_round1_encode(pkg, enc);
		send_dkg_item(n, IST_FL_ROUND1, d->epoch, me, enc, len, "a DKG round-1 package", "round1");
		free(enc);
		f->sent[1] = true;
		ist_log_info(SUBSYS, "DKG for epoch %" PRIu64 ": round-1 package sent (participant %u of %u, threshold %u)",
			     d->epoch, me, d->n, d->t);
	}
	free(pkg);
}

static void dkg_round2(struct ist_node *n, const struct ist_fl_dkg *d, uint16_t me)
{
	struct ist_node_frost *f = n->fr;
	struct ist_dkg_params p = params_of(n, d);
	struct ist_dkg_round2 *pkg = malloc(sizeof(*pkg));
	if (!pkg)
		return;
	if (ist_dkg_round2(f->dealer, &p, d->accepted, ist_rng_system(), pkg) == 0) {
#ifdef IST_FAULT_INJECTION
		/* ISTHMUS_FAULT=dkg-bad-share: the box for the first other
		 * recipient holds a share that does not match the commitments */
		const char *fault = getenv("ISTHMUS_FAULT");
		if (fault && strcmp(fault, "dkg-bad-share") == 0 && pkg->count > 0) {
			uint8_t bad[32] = { 7 };
			crypto_box_seal(pkg->boxes[0].box, bad, 32, d->enc_keys[pkg->boxes[0].recipient - 1]);
			ist_log_warn(SUBSYS, "fault injection: a bad DKG share for participant %u", pkg->boxes[0].recipient);
		}
#endif
		size_t len = ist_dkg_round2_encoded_len(pkg);
		uint8_t *enc = malloc(len);
		if (enc) {
			ist_dkg_round2_encode(pkg, enc);
			send_dkg_item(n, IST_FL_ROUND2, d->epoch, me, enc, len, "a DKG round-2 package", "round2");
			free(enc);
			ist_log_info(SUBSYS, "DKG for epoch %" PRIu64 ": round-2 package sent", d->epoch);
		}
	}
	f->sent[2] = true;
	free(pkg);
}

static void dkg_round3(struct ist_node *n, const struct ist_fl_dkg *d, uint16_t me)
{
	struct ist_node_frost *f = n->fr;
	struct ist_dkg_params p = params_of(n, d);
	struct ist_buf cl;   /* the body: u16 count, then the complaints */
	ist_buf_init(&cl, 0);
	ist_buf_put_be16(&cl, 0);
	uint16_t nc = 0;
	ist_dkg_dealer_own_share(f->dealer, f->shares[me - 1]);
	for (uint16_t j = 1; j <= d->n; j++) {
		if (j == me || !d->accepted[j - 1] || d->disq[j - 1] || !d->r1[j - 1] || !d->r2[j - 1])
			continue;
		if (ist_dkg_receive(&p, me, f->enc_sec, d->r1[j - 1], d->r2[j - 1], f->shares[j - 1]) == 0)
			continue;
		struct ist_dkg_complaint c;
		if (ist_dkg_complain(&p, me, f->enc_sec, d->r2[j - 1], ist_rng_system(), &c) == 0) {
			uint8_t enc[IST_DKG_COMPLAINT_BYTES];
			ist_dkg_complaint_encode(&c, enc);
			ist_buf_put(&cl, enc, sizeof(enc));
			nc++;
			ist_log_warn(SUBSYS, "DKG for epoch %" PRIu64 ": the share from participant %u does not check: "
				     "complaint sent", d->epoch, j);
		}
	}
	f->have_shares = true;
	if (ist_buf_err(&cl) == 0) {
		ist_put_be16(cl.data, nc);
		send_dkg_item(n, IST_FL_ROUND3, d->epoch, me, cl.data, cl.len, "DKG complaints", "round3");
	}
	ist_buf_fini(&cl);
	f->sent[3] = true;
}

/* The run finished with a group for the dealer's epoch: the signing share. */
static void dkg_finish(struct ist_node *n, const struct ist_fl_group *g)
{
	struct ist_node_frost *f = n->fr;
	uint16_t me = ist_fl_group_id(g, n->pub);
	f->have_shares = false;
	if (!me || !g->qualified[me - 1]) {
		ist_log_warn(SUBSYS, "epoch %" PRIu64 ": the group key formed without this validator", g->epoch);
		return;
	}
	struct ist_dkg_group *dg = calloc(1, sizeof(*dg));
	if (!dg)
		return;
	dg->n = g->n;
	dg->t = g->t;
	for (uint16_t i = 0; i < g->n; i++)
		dg->count += g->qualified[i];
	memcpy(dg->qualified, g->qualified, sizeof(dg->qualified));
	memcpy(dg->group_pub, g->group_key, 32);
	memcpy(dg->pubshares, g->pubshares, sizeof(dg->pubshares));
	int r = ist_dkg_signing_share(dg, me, (const uint8_t (*)[32])f->shares, f->share);
	free(dg);
	sodium_memzero(f->shares, IST_DKG_MAX_PARTICIPANTS * 32);
	if (r < 0) {
		ist_log_error(SUBSYS, "epoch %" PRIu64 ": cannot make the signing share: %s", g->epoch, ist_strerror(r));
		return;
	}
	struct puts *p = calloc(1, sizeof(*p));
	if (!p)
		return;
	k_share(p->keys[0], g->epoch);
	p->klen[0] = 9;
	seal(f, f->share, 32, p->vals[0]);
	p->vlen[0] = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 32;
	p->n = 1;
	r = ist_store_write(n->store, puts_fn, p);
	free(p);
	if (r < 0) {
		ist_log_error(SUBSYS, "cannot store the signing share: %s", ist_strerror(r));
		return;
	}
	f->has_share = true;
	f->share_epoch = g->epoch;
	char hex[65];
	ist_hex_encode(g->group_key, 32, hex);
	ist_log_info(SUBSYS, "epoch %" PRIu64 ": group key %s, this validator signs as participant %u", g->epoch, hex, me);
}

static void dkg_step(struct ist_node *n, const struct ist_fl *fl)
{
	struct ist_node_frost *f = n->fr;
	const struct ist_fl_dkg *d = ist_fl_dkg_get(fl);
	if (f->have_shares && (!d || d->epoch != f->dealer_epoch)) {
		const struct ist_fl_group *g = ist_fl_group_get(fl, f->dealer_epoch);
		if (g)
			dkg_finish(n, g);
		else if (!d)
			f->have_shares = false;
	}
	if (!d)
		return;
	uint16_t me = ist_fl_dkg_id(d, n->pub);
	if (!me)
		return;
	if (f->dealer_epoch != d->epoch || !f->dealer) {
		if (d->round == 1 && !d->r1[me - 1])
			dkg_round1(n, d, me);
		return;
	}
	if (d->round == 2 && d->accepted[me - 1] && !f->sent[2])
		dkg_round2(n, d, me);
	else if (d->round == 3 && d->accepted[me - 1] && !d->disq[me - 1] && !f->sent[3])
		dkg_round3(n, d, me);
}

/* ---- nonces ---- */

/* Commitments of the stored nonces of `epoch` from `first` on (at most
 * NONCE_BATCH, while they last) into b; returns how many. */
static uint16_t stored_batch(struct ist_node *n, uint64_t epoch, uint32_t first, struct ist_buf *b)
{
	struct ist_node_frost *f = n->fr;
	struct ist_txn *txn;
	if (ist_store_read_begin(n->store, &txn) < 0)
		return 0;
	uint16_t k = 0;
	for (; k < NONCE_BATCH; k++) {
		uint8_t key[13], sec[64], D[32], E[32];
		k_nonce(key, epoch, first + k);
		const uint8_t *v;
		size_t vlen;
		if (ist_store_get(txn, IST_STORE_DB_DKG, key, sizeof(key), &v, &vlen) < 0 ||
		    open_box(f, v, vlen, sec, 64) < 0)
			break;
		int r = crypto_scalarmult_ed25519_base_noclamp(D, sec) | crypto_scalarmult_ed25519_base_noclamp(E, sec + 32);
		sodium_memzero(sec, sizeof(sec));
		if (r != 0)
			break;
		ist_buf_put(b, D, 32);
		ist_buf_put(b, E, 32);
	}
	ist_store_read_end(txn);
	return k;
}

/* New nonces of `epoch` from `first` on, durable before their commitments
 * leave (appended to b). Returns 0 or an error. */
static int new_batch(struct ist_node *n, uint64_t epoch, uint32_t first, struct ist_buf *b)
{
	struct ist_node_frost *f = n->fr;
	struct puts *p = calloc(1, sizeof(*p));
	struct ist_frost_nonce *nc = sodium_malloc(sizeof(*nc));
	int r = -IST_ENOMEM;
	if (!p || !nc)
		goto out;
	r = 0;
	for (uint32_t i = 0; i < NONCE_BATCH && r == 0; i++) {
		if ((r = ist_frost_commit_random(ist_rng_system(), f->share, nc)) < 0)
			break;
		uint8_t sec[64];
		memcpy(sec, nc->hiding, 32);
		memcpy(sec + 32, nc->binding, 32);
		k_nonce(p->keys[i], epoch, first + i);
		p->klen[i] = 13;
		seal(f, sec, 64, p->vals[i]);
		p->vlen[i] = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 64;
		sodium_memzero(sec, sizeof(sec));
		ist_buf_put(b, nc->hiding_commit, 32);
		ist_buf_put(b, nc->binding_commit, 32);
		p->n++;
	}
	if (r == 0)
		r = ist_store_write(n->store, puts_fn, p);
out:
	if (nc)
		sodium_free(nc);
	free(p);
	return r;
}

/* Keeps NONCE_LOW or more unused commitments of this member in the ledger.
 * A batch is made once (its secrets are never overwritten); while it has
 * not committed it is sent again, rebuilt from the stored secrets, every
 * 20 blocks. */
static void nonces_step(struct ist_node *n, const struct ist_fl *fl, uint64_t epoch, uint64_t height)
{
	struct ist_node_frost *f = n->fr;
	const struct ist_fl_group *g = ist_fl_group_get(fl, epoch);
	if (!g || !share_of(n, epoch))
		return;
	uint16_t me = ist_fl_group_id(g, n->pub);
	if (!me || !g->qualified[me - 1])
		return;
	size_t unused;
	uint32_t next;
	ist_fl_nonces(fl, epoch, me, &unused, &next);
	if (unused >= NONCE_LOW)
		return;
	if (f->sent_epoch == epoch && f->sent_seq == next && f->sent_valid && height < f->sent_at + 20)
		return;
	struct ist_buf body;
	ist_buf_init(&body, 0);
	uint16_t count = stored_batch(n, epoch, next, &body);
	int r = 0;
	bool fresh = count == 0;
	if (fresh) {
		ist_buf_reset(&body);
		if ((r = new_batch(n, epoch, next, &body)) == 0)
			count = NONCE_BATCH;
	}
	if (r == 0 && count) {
		struct ist_buf b;
		ist_buf_init(&b, 0);
		ist_fl_nonce_head(&b, epoch, me, next, count);
		ist_buf_put(&b, body.data, body.len);
		sign_submit(n, IST_PAYLOAD_NONCE_COMMITMENTS, &b, "nonce commitments");
		ist_buf_fini(&b);
		f->sent_epoch = epoch;
		f->sent_seq = next;
		f->sent_at = height;
		f->sent_valid = true;
		ist_metric_inc(f->m_dkg, "nonces");
		ist_log_debug(SUBSYS, "epoch %" PRIu64 ": %u nonce commitments from %" PRIu32 " %s", epoch, count, next,
			      fresh ? "made and sent" : "sent again");
	} else if (r < 0) {
		ist_log_error(SUBSYS, "cannot make nonce commitments: %s", ist_strerror(r));
	}
	ist_buf_fini(&body);
}

/* ---- signing and aggregating ---- */

static const struct ist_fl_job *job_find(const struct ist_fl *fl, uint64_t epoch, uint64_t height)
{
	for (size_t i = 0; i < ist_fl_n_jobs(fl); i++) {
		const struct ist_fl_job *j = ist_fl_job_at(fl, i);
		if (j->epoch == epoch && j->height == height)
			return j;
	}
	return NULL;
}

static struct agg *agg_find(struct ist_node_frost *f, uint64_t epoch, uint64_t height, uint32_t attempt)
{
	for (size_t i = 0; i < MAX_AGG; i++)
		if (f->agg[i].used && f->agg[i].epoch == epoch && f->agg[i].height == height &&
		    f->agg[i].attempt == attempt)
			return &f->agg[i];
	return NULL;
}

static struct agg *agg_get(struct ist_node_frost *f, uint64_t epoch, uint64_t height, uint32_t attempt)
{
	struct agg *found = agg_find(f, epoch, height, attempt);
	if (found)
		return found;
	struct agg *a = &f->agg[f->agg_next];
	f->agg_next = (f->agg_next + 1) % MAX_AGG;
	memset(a, 0, sizeof(*a));
	a->used = true;
	a->epoch = epoch;
	a->height = height;
	a->attempt = attempt;
	return a;
}

static struct ist_frost_session *session_of(const struct ist_fl_job *j, const struct ist_fl_group *g)
{
	struct ist_frost_session *s = NULL;
	return ist_fl_job_session(j, g, &s) == 0 ? s : NULL;
}

struct cert_put {
	uint64_t height;
	uint8_t *enc;
	size_t len;
};

static int cert_put_fn(struct ist_txn *txn, void *ctx)
{
	struct cert_put *c = ctx;
	return ist_store_frost_certificate_put(txn, c->height, c->enc, c->len);
}

/* Stores the certificate of block `height` of `epoch` (once). */
static int cert_store(struct ist_node *n, uint64_t epoch, uint64_t height, const uint8_t group_key[32],
		      const uint8_t sig[64], const char *source)
{
	struct ist_node_frost *f = n->fr;
	struct ist_txn *txn;
	int r = ist_store_read_begin(n->store, &txn);
	if (r < 0)
		return r;
	const uint8_t *v;
	size_t vlen;
	bool have = ist_store_frost_certificate_get(txn, height, &v, &vlen) == 0;
	struct ist_certificate *c = calloc(1, sizeof(*c));
	if (!c) {
		ist_store_read_end(txn);
		return -IST_ENOMEM;
	}
	c->scheme = IST_CERT_FROST_ED25519;
	c->network_id = n->g.network_id;
	c->epoch = epoch;
	c->height = height;
	struct ist_block *blk = NULL;
	if (!have && (r = ist_node_block_at(txn, height, &blk, NULL)) == 0)
		r = ist_node_batch_root(n, txn, blk, c->batch_root, NULL, NULL);
	ist_wire_block_free(blk);
	ist_store_read_end(txn);
	if (have || r < 0) {
		free(c);
		return r;
	}
	memcpy(c->group_key, group_key, 32);
	memcpy(c->frost_sig, sig, 64);
	uint8_t digest[IST_HASH_BYTES];
	ist_wire_certificate_digest(c, digest);
	if (crypto_sign_verify_detached(sig, digest, IST_HASH_BYTES, group_key) != 0) {
		free(c);
		ist_log_warn(SUBSYS, "height %" PRIu64 ": a FROST signature that does not verify (%s)", height, source);
		return -IST_EBADSIG;
	}
	struct cert_put cp = { .height = height };
	r = ist_wire_certificate_encode(c, &cp.enc, &cp.len);
	free(c);
	if (r == 0)
		r = ist_store_write(n->store, cert_put_fn, &cp);
	free(cp.enc);
	if (r == 0) {
		ist_metric_inc(f->m_certs, source);
		ist_log_info(SUBSYS, "frost-ed25519 certificate for height %" PRIu64 " (%s)", height, source);
		ist_node_events_push(n, height);
	}
	return r;
}

static void bad_share(struct ist_node *n, const struct ist_fl_job *j, uint32_t attempt, uint16_t id, const uint8_t z[32])
{
	struct ist_node_frost *f = n->fr;
	ist_metric_inc(f->m_bad, NULL);
	ist_log_warn(SUBSYS, "height %" PRIu64 " attempt %" PRIu32 ": the signature share of participant %u does not "
		     "check: kept as evidence", j->height, attempt, id);
	uint8_t key[1 + 8 + 8 + 4 + 2], val[32 + IST_HASH_BYTES];
	key[0] = 'f';
	ist_put_be64(key + 1, j->epoch);
	ist_put_be64(key + 9, j->height);
	ist_put_be32(key + 17, attempt);
	ist_put_be16(key + 21, id);
	memcpy(val, z, 32);
	memcpy(val + 32, j->digest, IST_HASH_BYTES);
	struct ist_node_kv kv = { .db = IST_STORE_DB_EVIDENCE, .key = key, .klen = sizeof(key), .val = val,
				  .vlen = sizeof(val) };
	if (ist_store_write(n->store, ist_node_kv_write, &kv) < 0)
		ist_log_error(SUBSYS, "cannot store the bad share");
}

/* A report of the shares this node holds for the attempt (the ledger
 * learns who answered, and keeps a bad signed share as evidence). */
static void report(struct ist_node *n, struct agg *a)
{
	if (a->reported || !a->n_have)
		return;
	a->reported = true;
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put_u8(&b, IST_FL_SHARES);
	ist_buf_put_be64(&b, a->epoch);
	ist_buf_put_be64(&b, a->height);
	ist_buf_put_be32(&b, a->attempt);
	ist_buf_put_be16(&b, a->n_have);
	/* by identifier, so that nodes holding the same shares send the same bytes */
	for (uint16_t id = 1, done = 0; done < a->n_have && id <= IST_DKG_MAX_PARTICIPANTS; id++)
		for (uint16_t x = 0; x < a->n_have; x++)
			if (a->ids[x] == id) {
				ist_buf_put_be16(&b, id);
				ist_buf_put(&b, a->z[x], 32);
				ist_buf_put(&b, a->sig[x], 64);
				done++;
			}
	if (ist_buf_err(&b) == 0)
		submit_item(n, IST_PAYLOAD_DKG, b.data, b.len, "a share report");
	ist_buf_fini(&b);
}

/* A share (ours or a peer's) for a job of the ledger copy `fl`. */
static void share_in(struct ist_node *n, const struct ist_fl *fl, uint64_t epoch, uint64_t height, uint32_t attempt,
		     uint16_t id, const uint8_t z[32], const uint8_t sig[64])
{
	struct ist_node_frost *f = n->fr;
	const struct ist_fl_job *j = job_find(fl, epoch, height);
	const struct ist_fl_group *g = ist_fl_group_get(fl, epoch);
	if (!j || !g || j->attempt != attempt || !j->assigned) {
		/* ahead of this node (its block is not committed here yet): kept
		 * for a while */
		if (height > ist_ledger_height(n->ledger) || (j && attempt > j->attempt)) {
			struct early *e = &f->early[f->early_next];
			f->early_next = (f->early_next + 1) % MAX_EARLY;
			e->used = true;
			e->m[0] = MSG_SHARE;
			ist_put_be64(e->m + 1, epoch);
			ist_put_be64(e->m + 9, height);
			ist_put_be32(e->m + 17, attempt);
			ist_put_be16(e->m + 21, id);
			memcpy(e->m + 23, z, 32);
			memcpy(e->m + 55, sig, 64);
			ist_metric_inc(f->m_shares, "early");
		} else {
			ist_metric_inc(f->m_shares, "stale");
		}
		return;
	}
	int k = -1;
	for (uint16_t i = 0; i < j->n_signers; i++)
		if (j->signers[i].c.id == id)
			k = i;
	if (k < 0) {
		ist_metric_inc(f->m_shares, "not_a_signer");
		return;
	}
	struct ist_buf sb;
	ist_buf_init(&sb, 0);
	ist_fl_share_signed_bytes(n->g.network_id, epoch, height, attempt, id, z, &sb);
	bool sig_ok = ist_buf_err(&sb) == 0 && id <= g->n && ist_ed25519_verify(g->node_keys[id - 1], sb.data, sb.len, sig);
	ist_buf_fini(&sb);
	if (!sig_ok) {
		ist_metric_inc(f->m_shares, "bad_signature");
		return;
	}
	struct agg *a = agg_get(f, epoch, height, attempt);
	for (uint16_t i = 0; i < a->n_have; i++)
		if (a->ids[i] == id)
			return;
	a->ids[a->n_have] = id;
	memcpy(a->z[a->n_have], z, 32);
	memcpy(a->sig[a->n_have], sig, 64);
	a->n_have++;
	ist_metric_inc(f->m_shares, "ok");
	if (a->n_have < j->n_signers)
		return;
	/* all in: check each, aggregate */
	struct ist_frost_session *s = session_of(j, g);
	if (!s)
		return;
	uint8_t (*pubs)[32] = calloc(j->n_signers, 32), (*zs)[32] = calloc(j->n_signers, 32);
	if (pubs && zs) {
		for (uint16_t i = 0; i < j->n_signers; i++) {
			uint16_t sid = j->signers[i].c.id;
			memcpy(pubs[i], g->pubshares[sid - 1], 32);
			for (uint16_t x = 0; x < a->n_have; x++)
				if (a->ids[x] == sid)
					memcpy(zs[i], a->z[x], 32);
		}
		uint8_t fsig[64];
		uint16_t bad = 0;
		int r = ist_frost_session_aggregate(s, (const uint8_t (*)[32])pubs, (const uint8_t (*)[32])zs, fsig, &bad);
		if (r == -IST_EBADSIG) {
			for (uint16_t i = 0; i < j->n_signers; i++)
				if (!ist_frost_session_verify_share(s, j->signers[i].c.id, pubs[i], zs[i]))
					bad_share(n, j, attempt, j->signers[i].c.id, zs[i]);
			report(n, a);
		} else if (r == 0 && cert_store(n, epoch, height, g->group_key, fsig, "formed") == 0) {
			struct ist_buf b;
			ist_buf_init(&b, 0);
			ist_fl_cert_item(&b, epoch, height, fsig);
			if (ist_buf_err(&b) == 0)
				submit_item(n, IST_PAYLOAD_DKG, b.data, b.len, "a FROST certificate");
			ist_buf_fini(&b);
		}
	}
	free(pubs);
	free(zs);
	ist_frost_session_free(s);
}

static bool signed_before(struct ist_node_frost *f, const struct ist_fl_job *j)
{
	for (size_t i = 0; i < 256; i++)
		if (f->signed_[i].epoch == j->epoch && f->signed_[i].height == j->height &&
		    f->signed_[i].attempt == j->attempt && j->height)
			return true;
	return false;
}

static void sign_job(struct ist_node *n, const struct ist_fl *fl, const struct ist_fl_job *j, uint16_t me,
		     const struct ist_fl_nonce *mine)
{
	struct ist_node_frost *f = n->fr;
	const struct ist_fl_group *g = ist_fl_group_get(fl, j->epoch);
	f->signed_[f->signed_next].epoch = j->epoch;
	f->signed_[f->signed_next].height = j->height;
	f->signed_[f->signed_next].attempt = j->attempt;
	f->signed_next = (f->signed_next + 1) % 256;
	/* the nonce: read, then deleted durably before anything leaves */
	struct ist_frost_nonce *nc = sodium_malloc(sizeof(*nc));
	struct puts *p = calloc(1, sizeof(*p));
	if (!nc || !p || !g)
		goto out;
	struct ist_txn *txn;
	if (ist_store_read_begin(n->store, &txn) < 0)
		goto out;
	k_nonce(p->keys[0], j->epoch, mine->seq);
	p->klen[0] = 13;
	const uint8_t *v;
	size_t vlen;
	uint8_t sec[64];
	int r = ist_store_get(txn, IST_STORE_DB_DKG, p->keys[0], 13, &v, &vlen);
	if (r == 0)
		r = open_box(f, v, vlen, sec, 64);
	ist_store_read_end(txn);
	if (r < 0) {
		ist_log_warn(SUBSYS, "height %" PRIu64 ": nonce %" PRIu32 " is used or gone: this validator does not sign "
			     "attempt %" PRIu32, j->height, mine->seq, j->attempt);
		goto out;
	}
	p->n = 1;
	p->del = true;
	if ((r = ist_store_write(n->store, puts_fn, p)) < 0) {
		sodium_memzero(sec, sizeof(sec));
		ist_log_error(SUBSYS, "cannot mark nonce %" PRIu32 " used: not signing: %s", mine->seq, ist_strerror(r));
		goto out;
	}
	memcpy(nc->hiding, sec, 32);
	memcpy(nc->binding, sec + 32, 32);
	memcpy(nc->hiding_commit, mine->c.hiding, 32);
	memcpy(nc->binding_commit, mine->c.binding, 32);
	sodium_memzero(sec, sizeof(sec));
	struct ist_frost_session *s = session_of(j, g);
	uint8_t z[32];
	if (!s || ist_frost_session_sign(s, me, f->share, nc, z) < 0) {
		ist_frost_session_free(s);
		goto out;
	}
	ist_frost_session_free(s);
#ifdef IST_FAULT_INJECTION
	const char *fault = getenv("ISTHMUS_FAULT");
	if (fault && strcmp(fault, "frost-bad-share") == 0)
		z[0] ^= 1;
	if (fault && strcmp(fault, "frost-withhold") == 0)
		goto out;
#endif
	uint8_t m[SHARE_MSG_BYTES];
	struct ist_buf sb;
	ist_buf_init(&sb, 0);
	ist_fl_share_signed_bytes(n->g.network_id, j->epoch, j->height, j->attempt, me, z, &sb);
	r = ist_buf_err(&sb) == 0 ? ist_node_sign(n, sb.data, sb.len, m + 55) : -IST_ENOMEM;
	ist_buf_fini(&sb);
	if (r < 0)
		goto out;
	m[0] = MSG_SHARE;
	ist_put_be64(m + 1, j->epoch);
	ist_put_be64(m + 9, j->height);
	ist_put_be32(m + 17, j->attempt);
	ist_put_be16(m + 21, me);
	memcpy(m + 23, z, 32);
	broadcast(n, m, sizeof(m));
	share_in(n, fl, j->epoch, j->height, j->attempt, me, z, m + 55);
out:
	if (nc)
		sodium_free(nc);
	free(p);
}

static void jobs_step(struct ist_node *n, const struct ist_fl *fl, uint64_t height)
{
	struct ist_node_frost *f = n->fr;
	uint32_t half = n->g.staking.frost_sign_timeout_blocks / 2;
	for (size_t i = 0; i < ist_fl_n_jobs(fl); i++) {
		const struct ist_fl_job *j = ist_fl_job_at(fl, i);
		/* an attempt half way to its bound: say who answered */
		struct agg *a = j->assigned ? agg_find(f, j->epoch, j->height, j->attempt) : NULL;
		if (a && height >= j->assigned + (half ? half : 1))
			report(n, a);
		if (!j->assigned || signed_before(f, j) || !share_of(n, j->epoch))
			continue;
		const struct ist_fl_group *g = ist_fl_group_get(fl, j->epoch);
		if (!g)
			continue;
		uint16_t me = ist_fl_group_id(g, n->pub);
		for (uint16_t k = 0; me && k < j->n_signers; k++)
			if (j->signers[k].c.id == me)
				sign_job(n, fl, j, me, &j->signers[k]);
	}
}

/* Deletes the shares and nonces of epochs below `epoch` (none of their
 * jobs can be signed any more: the ledger keeps the previous epoch's). */
struct prune {
	uint64_t below;
	bool more;        /* out: the batch was full, more may be left */
};

static int prune_fn(struct ist_txn *txn, void *ctx)
{
	struct prune *p = ctx;
	struct ist_store_cursor *cur;
	int r = ist_store_cursor_open(txn, IST_STORE_DB_DKG, &cur);
	if (r < 0)
		return r;
	uint8_t kill[64][13];
	size_t lens[64], nk = 0;
	const uint8_t *key;
	size_t klen;
	for (r = ist_store_cursor_get(cur, IST_STORE_FIRST, NULL, 0, &key, &klen, NULL, NULL); r == 0 && nk < 64;
	     r = ist_store_cursor_get(cur, IST_STORE_NEXT, NULL, 0, &key, &klen, NULL, NULL)) {
		if (klen >= 9 && klen <= 13 && (key[0] == 's' || key[0] == 'n') && ist_get_be64(key + 1) < p->below) {
			memcpy(kill[nk], key, klen);
			lens[nk++] = klen;
		}
	}
	ist_store_cursor_close(cur);
	if (r < 0 && r != -IST_ENOTFOUND)
		return r;
	p->more = nk == 64;
	for (size_t i = 0; i < nk; i++)
		if ((r = ist_store_del(txn, IST_STORE_DB_DKG, kill[i], lens[i])) < 0)
			return r;
	return 0;
}

/* Deletes the shares and nonces of epochs below the previous one (their
 * jobs are gone from the ledger), 64 keys per block until none is left. */
static void prune(struct ist_node *n, uint64_t epoch)
{
	struct ist_node_frost *f = n->fr;
	struct prune p = { .below = epoch > 0 ? epoch - 1 : 0 };
	if (p.below <= f->pruned_below)
		return;
	if (ist_store_write(n->store, prune_fn, &p) == 0 && !p.more)
		f->pruned_below = p.below;
}

/* Puts a peer's item (kind || bytes) into the mempool when the ledger
 * may take it. Returns false when it cannot be checked yet. */
static bool item_in(struct ist_node *n, const uint8_t *p, size_t len)
{
	if (!ist_fl_item_plausible(ist_ledger_frost(n->ledger), p[0] == IST_PAYLOAD_NONCE_COMMITMENTS, p + 1, len - 1))
		return false;
	struct ist_payload_item it = { .kind = (enum ist_payload_kind)p[0] };
	it.u.opaque.data = malloc(len - 1);
	if (!it.u.opaque.data)
		return true;
	memcpy(it.u.opaque.data, p + 1, len - 1);
	it.u.opaque.len = len - 1;
	if (ist_mempool_add(n->mempool, &it) == 0)
		ist_node_queue_kick(&n->q);
	ist_wire_payload_item_fini(&it);
	return true;
}

/* After a commit: the early items that can now be checked. */
static void early_items_retry(struct ist_node *n, uint64_t height)
{
	struct ist_node_frost *f = n->fr;
	for (size_t i = 0; i < MAX_EARLY_ITEMS; i++) {
		struct early_item *e = &f->early_items[i];
		if (!e->p)
			continue;
		if (item_in(n, e->p, e->len) || height > e->until) {
			if (height > e->until)
				ist_metric_inc(f->m_shares, "item_refused");
			free(e->p);
			e->p = NULL;
		}
	}
}

/* ---- entry points ---- */

/* A private copy of the ledger's FROST state (the API threads read the
 * ledger under its lock; this thread is its only writer, so reading it
 * here without a copy is safe). */
void ist_node_frost_committed(struct ist_node *n, const struct ist_block *b)
{
	if (!n->fr || !ist_ledger_frost(n->ledger))
		return;
	metrics(n);
	const struct ist_fl *fl = ist_ledger_frost(n->ledger);
	/* certificates other nodes formed */
	for (size_t i = 0; i < b->n_items; i++) {
		const struct ist_payload_item *it = &b->items[i];
		uint64_t e, h;
		uint8_t sig[64];
		if (it->kind != IST_PAYLOAD_DKG ||
		    !ist_fl_cert_item_parse(it->u.opaque.data, it->u.opaque.len, &e, &h, sig))
			continue;
		const struct ist_ledger_set *s = ist_ledger_set_get(n->ledger, e);
		if (s && s->has_group_key)
			(void)cert_store(n, e, h, s->group_key, sig, "committed");
	}
	dkg_step(n, fl);
	prune(n, ist_ledger_current(n->ledger)->epoch);
	nonces_step(n, fl, ist_ledger_current(n->ledger)->epoch, b->height);
	jobs_step(n, fl, b->height);
	early_items_retry(n, b->height);
	/* shares that came early, for jobs this node now has */
	for (size_t i = 0; i < MAX_EARLY; i++) {
		struct early *e = &n->fr->early[i];
		if (!e->used)
			continue;
		const uint8_t *m = e->m;
		const struct ist_fl_job *j = job_find(fl, ist_get_be64(m + 1), ist_get_be64(m + 9));
		if (ist_get_be64(m + 9) > b->height || (j && j->attempt < ist_get_be32(m + 17)))
			continue;   /* still ahead */
		e->used = false;
		if (j && j->attempt == ist_get_be32(m + 17))
			share_in(n, fl, ist_get_be64(m + 1), ist_get_be64(m + 9), ist_get_be32(m + 17), ist_get_be16(m + 21),
				 m + 23, m + 55);
	}
}

void ist_node_frost_message(struct ist_node *n, uint32_t peer, const uint8_t *p, size_t len)
{
	(void)peer;
	if (!n->fr || !ist_ledger_frost(n->ledger) || len < 1)
		return;
	metrics(n);
	if (p[0] == MSG_SHARE && len == SHARE_MSG_BYTES) {
		share_in(n, ist_ledger_frost(n->ledger), ist_get_be64(p + 1), ist_get_be64(p + 9), ist_get_be32(p + 17),
			 ist_get_be16(p + 21), p + 23, p + 55);
	} else if (p[0] == MSG_ITEM && len > 2 &&
		   (p[1] == IST_PAYLOAD_DKG || p[1] == IST_PAYLOAD_NONCE_COMMITMENTS)) {
		/* only what the ledger may take: a peer cannot fill the pool
		 * with items nobody signed; one this node cannot check yet
		 * (it is a block behind the sender) waits a few blocks */
		if (item_in(n, p + 1, len - 1))
			return;
		struct ist_node_frost *f = n->fr;
		struct early_item *e = &f->early_items[f->early_items_next];
		f->early_items_next = (f->early_items_next + 1) % MAX_EARLY_ITEMS;
		free(e->p);
		e->p = malloc(len - 1);
		if (!e->p)
			return;
		memcpy(e->p, p + 1, len - 1);
		e->len = len - 1;
		e->until = ist_ledger_height(n->ledger) + EARLY_ITEM_BLOCKS;
		ist_metric_inc(f->m_shares, "item_early");
	} else {
		ist_metric_inc(n->fr->m_shares, "malformed");
	}
}
