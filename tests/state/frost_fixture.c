/* Participants of a ledger DKG with real keys (frost_fixture.h). */
#include "frost_fixture.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/x25519.h"

static void need(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "frost fixture: %s\n", what);
		abort();
	}
}

static void params_init(struct fx *x)
{
	x->p.network_id = x->net;
	x->p.epoch = x->epoch;
	x->p.n = x->n;
	x->p.t = x->t;
	x->p.enc_keys = (const uint8_t (*)[32])x->epub;
}

struct fx *fx_new(uint16_t n, uint64_t seed, uint64_t net, uint64_t epoch)
{
	need(ist_crypto_init() == 0, "crypto init");
	need(n >= 1 && n <= FX_MAX, "n");
	struct fx *x = calloc(1, sizeof(*x));
	need(x != NULL, "calloc");
	x->r1 = calloc(FX_MAX, sizeof(*x->r1));
	x->r2 = calloc(FX_MAX, sizeof(*x->r2));
	need(x->r1 && x->r2, "calloc");
	x->net = net;
	x->epoch = epoch;
	x->n = n;
	x->t = ist_dkg_threshold(n);
	ist_rng_det_init(&x->rng, seed);
	for (uint16_t i = 0; i < n; i++) {
		need(ist_ed25519_generate(&x->rng.rng, x->seed[i], x->node[i]) == 0, "ed25519");
		need(ist_x25519_generate(&x->rng.rng, x->esec[i], x->epub[i]) == 0, "x25519");
	}
	params_init(x);
	return x;
}

void fx_set_epoch(struct fx *x, uint64_t epoch)
{
	for (int i = 0; i < FX_MAX; i++) {
		ist_dkg_dealer_free(x->dealer[i]);
		x->dealer[i] = NULL;
	}
	memset(x->r1, 0, FX_MAX * sizeof(*x->r1));
	memset(x->r2, 0, FX_MAX * sizeof(*x->r2));
	memset(x->have_r2, 0, sizeof(x->have_r2));
	sodium_memzero(x->shares, sizeof(x->shares));
	sodium_memzero(x->signing, sizeof(x->signing));
	sodium_memzero(x->nonces, sizeof(x->nonces));
	x->epoch = epoch;
	params_init(x);
}

void fx_free(struct fx *x)
{
	if (!x)
		return;
	for (int i = 0; i < FX_MAX; i++)
		ist_dkg_dealer_free(x->dealer[i]);
	free(x->r1);
	free(x->r2);
	sodium_memzero(x, sizeof(*x));
	free(x);
}

void fx_reorder(struct fx *x, const uint8_t (*node_keys)[32])
{
	uint8_t seed[FX_MAX][32], node[FX_MAX][32], esec[FX_MAX][32], epub[FX_MAX][32];
	for (uint16_t i = 0; i < x->n; i++) {
		uint16_t k = 0;
		while (k < x->n && memcmp(x->node[k], node_keys[i], 32) != 0)
			k++;
		need(k < x->n, "a key of no participant");
		memcpy(seed[i], x->seed[k], 32);
		memcpy(node[i], x->node[k], 32);
		memcpy(esec[i], x->esec[k], 32);
		memcpy(epub[i], x->epub[k], 32);
	}
	memcpy(x->seed, seed, (size_t)x->n * 32);
	memcpy(x->node, node, (size_t)x->n * 32);
	memcpy(x->esec, esec, (size_t)x->n * 32);
	memcpy(x->epub, epub, (size_t)x->n * 32);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(esec, sizeof(esec));
}

void fx_sign(const struct fx *x, uint16_t id, struct ist_buf *b)
{
	need(id >= 1 && id <= x->n, "signer id");
	struct ist_buf m;
	ist_buf_init(&m, 0);
	ist_fl_item_signed_bytes(x->net, b->data, b->len, &m);
	uint8_t sig[64];
	need(ist_buf_err(&m) == 0 && ist_ed25519_sign(x->seed[id - 1], m.data, m.len, sig) == 0, "sign item");
	ist_buf_fini(&m);
	ist_buf_put(b, sig, 64);
}

void fx_round1(struct fx *x, uint16_t id, struct ist_buf *b)
{
	ist_dkg_dealer_free(x->dealer[id - 1]);
	x->dealer[id - 1] = NULL;
	need(ist_dkg_round1(&x->p, id, &x->rng.rng, &x->dealer[id - 1], &x->r1[id - 1]) == 0, "round 1");
	size_t len = ist_dkg_round1_encoded_len(&x->r1[id - 1]);
	uint8_t *body = malloc(len);
	need(body != NULL, "malloc");
	ist_dkg_round1_encode(&x->r1[id - 1], body);
	ist_fl_item_head(b, IST_FL_ROUND1, x->epoch, id);
	ist_buf_put(b, body, len);
	free(body);
	fx_sign(x, id, b);
}

void fx_round2_pkg(struct fx *x, uint16_t id, const bool *accepted)
{
	need(ist_dkg_round2(x->dealer[id - 1], &x->p, accepted, &x->rng.rng, &x->r2[id - 1]) == 0, "round 2");
	ist_dkg_dealer_own_share(x->dealer[id - 1], x->shares[id - 1][id - 1]);
	x->have_r2[id - 1] = true;
}

void fx_round2_item(const struct fx *x, uint16_t id, struct ist_buf *b)
{
	size_t len = ist_dkg_round2_encoded_len(&x->r2[id - 1]);
	uint8_t *body = malloc(len);
	need(body != NULL, "malloc");
	ist_dkg_round2_encode(&x->r2[id - 1], body);
	ist_fl_item_head(b, IST_FL_ROUND2, x->epoch, id);
	ist_buf_put(b, body, len);
	free(body);
	fx_sign(x, id, b);
}

void fx_bad_share(struct fx *x, uint16_t dealer, uint16_t recipient)
{
	struct ist_dkg_round2 *pkg = &x->r2[dealer - 1];
	uint8_t wrong[32];
	crypto_core_ed25519_scalar_random(wrong);
	bool found = false;
	for (uint16_t k = 0; k < pkg->count; k++)
		if (pkg->boxes[k].recipient == recipient) {
			need(crypto_box_seal(pkg->boxes[k].box, wrong, 32, x->epub[recipient - 1]) == 0, "seal");
			found = true;
		}
	need(found, "no box for the recipient");
}

void fx_round3_item(const struct fx *x, uint16_t me, const struct ist_dkg_complaint *c, size_t n, struct ist_buf *b)
{
	ist_fl_item_head(b, IST_FL_ROUND3, x->epoch, me);
	ist_buf_put_be16(b, (uint16_t)n);
	for (size_t k = 0; k < n; k++) {
		uint8_t enc[IST_DKG_COMPLAINT_BYTES];
		ist_dkg_complaint_encode(&c[k], enc);
		ist_buf_put(b, enc, sizeof(enc));
	}
	fx_sign(x, me, b);
}

void fx_round3(struct fx *x, uint16_t me, const bool *accepted, struct ist_buf *b, size_t *ret_complaints)
{
	struct ist_dkg_complaint c[FX_MAX];
	size_t nc = 0;
	for (uint16_t i = 1; i <= x->n; i++) {
		if (i == me || !accepted[i - 1] || !x->have_r2[i - 1])
			continue;
		int r = ist_dkg_receive(&x->p, me, x->esec[me - 1], &x->r1[i - 1], &x->r2[i - 1], x->shares[me - 1][i - 1]);
		if (r == 0)
			continue;
		need(r == -IST_EBADPROOF, "receive");
		need(ist_dkg_complain(&x->p, me, x->esec[me - 1], &x->r2[i - 1], &x->rng.rng, &c[nc]) == 0, "complain");
		nc++;
	}
	fx_round3_item(x, me, c, nc, b);
	if (ret_complaints)
		*ret_complaints = nc;
}

static void dkg_group_of(const struct fx *x, const struct ist_fl_group *g, struct ist_dkg_group *dg)
{
	memset(dg, 0, sizeof(*dg));
	dg->n = g->n;
	dg->t = g->t;
	for (uint16_t i = 0; i < g->n; i++)
		dg->count += g->qualified[i];
	memcpy(dg->qualified, g->qualified, sizeof(dg->qualified));
	memcpy(dg->group_pub, g->group_key, 32);
	memcpy(dg->pubshares, g->pubshares, sizeof(dg->pubshares));
	(void)x;
}

int fx_signing_shares(struct fx *x, const struct ist_fl_group *g)
{
	struct ist_dkg_group *dg = malloc(sizeof(*dg));
	need(dg != NULL, "malloc");
	dkg_group_of(x, g, dg);
	int r = 0;
	for (uint16_t j = 1; j <= x->n && r == 0; j++)
		if (g->qualified[j - 1])
			r = ist_dkg_signing_share(dg, j, (const uint8_t (*)[32])x->shares[j - 1], x->signing[j - 1]);
	free(dg);
	return r;
}

void fx_expected_key(const struct fx *x, const bool *qualified, uint8_t ret32[32])
{
	bool first = true;
	for (uint16_t i = 0; i < x->n; i++) {
		if (!qualified[i])
			continue;
		if (first)
			memcpy(ret32, x->r1[i].commit[0], 32);
		else
			need(crypto_core_ed25519_add(ret32, ret32, x->r1[i].commit[0]) == 0, "add");
		first = false;
	}
	need(!first, "no qualified dealer");
}

void fx_nonces(struct fx *x, uint64_t epoch, uint16_t id, uint32_t first, uint16_t count, struct ist_buf *b)
{
	need(first + count <= FX_MAX_NONCES, "too many nonces for the fixture");
	ist_fl_nonce_head(b, epoch, id, first, count);
	for (uint16_t k = 0; k < count; k++) {
		struct ist_frost_nonce *nc = &x->nonces[id - 1][first + k];
		need(ist_frost_commit_random(&x->rng.rng, x->signing[id - 1], nc) == 0, "commit");
		ist_buf_put(b, nc->hiding_commit, 32);
		ist_buf_put(b, nc->binding_commit, 32);
	}
	fx_sign(x, id, b);
}

int fx_sign_job(struct fx *x, const struct ist_fl_group *g, const struct ist_fl_job *j, uint8_t ret_sig64[64])
{
	struct ist_frost_commitment list[FX_MAX];
	uint8_t pubs[FX_MAX][32], z[FX_MAX][32];
	need(j->n_signers >= 1 && j->n_signers <= FX_MAX, "signers");
	for (uint16_t k = 0; k < j->n_signers; k++) {
		list[k] = j->signers[k].c;
		memcpy(pubs[k], g->pubshares[list[k].id - 1], 32);
	}
	struct ist_frost_session *s = NULL;
	int r = ist_frost_session_new(g->group_key, list, j->n_signers, &s);
	if (r == 0)
		r = ist_frost_session_bind(s, j->digest, IST_HASH_BYTES);
	for (uint16_t k = 0; k < j->n_signers && r == 0; k++) {
		uint16_t id = list[k].id;
		uint32_t seq = j->signers[k].seq;
		need(seq < FX_MAX_NONCES, "seq");
		r = ist_frost_session_sign(s, id, x->signing[id - 1], &x->nonces[id - 1][seq], z[k]);
	}
	if (r == 0)
		r = ist_frost_session_aggregate(s, (const uint8_t (*)[32])pubs, (const uint8_t (*)[32])z, ret_sig64, NULL);
	ist_frost_session_free(s);
	return r;
}

int fx_share(const struct fx *x, const struct ist_fl_group *g, const struct ist_fl_job *j, uint16_t id,
	     uint8_t ret_z32[32])
{
	struct ist_frost_commitment list[FX_MAX];
	need(j->n_signers >= 1 && j->n_signers <= FX_MAX, "signers");
	int k = -1;
	for (uint16_t i = 0; i < j->n_signers; i++) {
		list[i] = j->signers[i].c;
		if (list[i].id == id)
			k = i;
	}
	need(k >= 0, "not a signer of the attempt");
	uint32_t seq = j->signers[k].seq;
	need(seq < FX_MAX_NONCES, "seq");
	struct ist_frost_nonce nc = x->nonces[id - 1][seq];   /* session_sign wipes it */
	struct ist_frost_session *s = NULL;
	int r = ist_frost_session_new(g->group_key, list, j->n_signers, &s);
	if (r == 0)
		r = ist_frost_session_bind(s, j->digest, IST_HASH_BYTES);
	if (r == 0)
		r = ist_frost_session_sign(s, id, x->signing[id - 1], &nc, ret_z32);
	ist_frost_session_free(s);
	sodium_memzero(&nc, sizeof(nc));
	return r;
}

void fx_share_sig(const struct fx *x, uint16_t signer, uint64_t epoch, uint64_t height, uint32_t attempt, uint16_t id,
		  const uint8_t z[32], uint8_t ret_sig64[64])
{
	need(signer >= 1 && signer <= x->n, "signer id");
	struct ist_buf m;
	ist_buf_init(&m, 0);
	ist_fl_share_signed_bytes(x->net, epoch, height, attempt, id, z, &m);
	need(ist_buf_err(&m) == 0 && ist_ed25519_sign(x->seed[signer - 1], m.data, m.len, ret_sig64) == 0, "sign share");
	ist_buf_fini(&m);
}

void fx_report_head(struct ist_buf *b, uint64_t epoch, uint64_t height, uint32_t attempt, uint16_t count)
{
	ist_buf_put_u8(b, IST_FL_SHARES);
	ist_buf_put_be64(b, epoch);
	ist_buf_put_be64(b, height);
	ist_buf_put_be32(b, attempt);
	ist_buf_put_be16(b, count);
}

void fx_report_entry(const struct fx *x, const struct ist_fl_job *j, uint16_t signer, uint16_t id, const uint8_t z[32],
		     struct ist_buf *b)
{
	uint8_t sig[64];
	fx_share_sig(x, signer, j->epoch, j->height, j->attempt, id, z, sig);
	ist_buf_put_be16(b, id);
	ist_buf_put(b, z, 32);
	ist_buf_put(b, sig, 64);
}

void fx_report(const struct fx *x, const struct ist_fl_group *g, const struct ist_fl_job *j, const uint16_t *ids,
	       uint16_t n, struct ist_buf *b)
{
	fx_report_head(b, j->epoch, j->height, j->attempt, n);
	for (uint16_t k = 0; k < n; k++) {
		uint8_t z[32];
		need(fx_share(x, g, j, ids[k], z) == 0, "share");
		fx_report_entry(x, j, ids[k], ids[k], z, b);
	}
}
