#include "consensus/quorum.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "wire/canonical.h"

/* ---- Epochs ---- */

int ist_cons_epoch_check(struct ist_cons_epoch *e)
{
	if (e->n < 1 || e->n > IST_WIRE_MAX_VALIDATORS)
		return -IST_EINVAL;
	uint64_t total = 0;
	for (uint32_t i = 0; i < e->n; i++) {
		if (e->stakes[i] == 0)
			return -IST_EINVAL;
		if (total > UINT64_MAX - e->stakes[i])
			return -IST_ERANGE;
		total += e->stakes[i];
		for (uint32_t j = 0; j < i; j++)
			if (memcmp(e->pubkeys[i], e->pubkeys[j], IST_ED25519_PUBKEY_BYTES) == 0)
				return -IST_EINVAL;
	}
	e->total = total;
	return 0;
}

uint32_t ist_cons_epoch_leader(const struct ist_cons_epoch *e, uint64_t view)
{
	return (uint32_t)(view % e->n);
}

uint32_t ist_cons_epoch_index(const struct ist_cons_epoch *e, const uint8_t pub32[IST_ED25519_PUBKEY_BYTES])
{
	for (uint32_t i = 0; i < e->n; i++)
		if (memcmp(e->pubkeys[i], pub32, IST_ED25519_PUBKEY_BYTES) == 0)
			return i;
	return IST_CONS_OBSERVER;
}

void ist_cons_epoch_genesis_qc(const struct ist_cons_epoch *e, struct ist_qc *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->epoch = e->number;
	ret->view = 0;
	memcpy(ret->block_id, e->root_id, IST_HASH_BYTES);
}

/* ---- Thresholds ---- */

bool ist_cons_quorum_reached(const struct ist_cons_epoch *e, uint64_t stake)
{
	return (unsigned __int128)stake * 3 > (unsigned __int128)e->total * 2;
}

bool ist_cons_quorum_weak(const struct ist_cons_epoch *e, uint64_t stake)
{
	return (unsigned __int128)stake * 3 > (unsigned __int128)e->total;
}

bool ist_cons_quorum_bitmap_stake(const struct ist_cons_epoch *e, const uint8_t bitmap[IST_WIRE_BITMAP_BYTES],
				  uint64_t *ret_stake)
{
	uint64_t s = 0;
	for (unsigned i = 0; i < IST_WIRE_MAX_VALIDATORS; i++) {
		if (!ist_wire_bitmap_get(bitmap, i))
			continue;
		if (i >= e->n)
			return false;
		s += e->stakes[i];   /* cannot overflow: the total fits */
	}
	*ret_stake = s;
	return true;
}

/* ---- Signatures ---- */

bool ist_cons_sig_verify(struct ist_cons_verifier *v, const uint8_t pub32[IST_ED25519_PUBKEY_BYTES],
			 const uint8_t *msg, size_t len, const uint8_t sig64[IST_SIG_BYTES])
{
	uint8_t key[IST_HASH_BYTES];
	if (v->cache) {
		struct ist_sha256_ctx h;
		ist_sha256_init(&h);
		ist_sha256_update(&h, pub32, IST_ED25519_PUBKEY_BYTES);
		ist_sha256_update(&h, sig64, IST_SIG_BYTES);
		ist_sha256_update(&h, msg, len);
		ist_sha256_final(&h, key);
		int r = v->cache->lookup(v->cache->ctx, key);
		if (r >= 0)
			return r == 1;
	}
	v->verifications++;
	bool ok = ist_ed25519_verify(pub32, msg, len, sig64);
	if (v->cache)
		v->cache->store(v->cache->ctx, key, ok);
	return ok;
}

static bool bitmap_zero(const uint8_t bitmap[IST_WIRE_BITMAP_BYTES])
{
	for (size_t i = 0; i < IST_WIRE_BITMAP_BYTES; i++)
		if (bitmap[i])
			return false;
	return true;
}

bool ist_cons_qc_verify(struct ist_cons_verifier *v, const struct ist_cons_epoch *e, const struct ist_qc *qc)
{
	if (qc->epoch != e->number)
		return false;
	if (qc->view == 0)
		return qc->n_sigs == 0 && bitmap_zero(qc->signers) &&
		       memcmp(qc->block_id, e->root_id, IST_HASH_BYTES) == 0;
	uint64_t stake;
	if (qc->n_sigs > IST_WIRE_MAX_VALIDATORS || !ist_cons_quorum_bitmap_stake(e, qc->signers, &stake) ||
	    ist_wire_bitmap_count(qc->signers) != qc->n_sigs || !ist_cons_quorum_reached(e, stake))
		return false;
	uint8_t msg[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(v->network_id, qc->epoch, qc->view, qc->block_id, msg);
	size_t k = 0;
	for (uint32_t i = 0; i < e->n; i++) {
		if (!ist_wire_bitmap_get(qc->signers, i))
			continue;
		if (!ist_cons_sig_verify(v, e->pubkeys[i], msg, sizeof(msg), qc->sigs[k]))
			return false;
		k++;
	}
	return true;
}

bool ist_cons_tc_verify(struct ist_cons_verifier *v, const struct ist_cons_epoch *e, const struct ist_tc *tc)
{
	if (tc->epoch != e->number || tc->view == 0 || tc->high_qc.epoch != e->number)
		return false;
	uint64_t stake;
	if (tc->n_sigs > IST_WIRE_MAX_VALIDATORS || !ist_cons_quorum_bitmap_stake(e, tc->signers, &stake) ||
	    ist_wire_bitmap_count(tc->signers) != tc->n_sigs || !ist_cons_quorum_reached(e, stake))
		return false;
	uint64_t max = 0;
	for (size_t k = 0; k < tc->n_sigs; k++) {
		if (tc->high_qc_views[k] >= tc->view)
			return false;
		if (tc->high_qc_views[k] > max)
			max = tc->high_qc_views[k];
	}
	if (tc->high_qc.view != max)
		return false;
	size_t k = 0;
	for (uint32_t i = 0; i < e->n; i++) {
		if (!ist_wire_bitmap_get(tc->signers, i))
			continue;
		uint8_t msg[IST_WIRE_TIMEOUT_SIGNING_BYTES];
		ist_wire_timeout_signing_bytes(v->network_id, tc->epoch, tc->view, tc->high_qc_views[k], msg);
		if (!ist_cons_sig_verify(v, e->pubkeys[i], msg, sizeof(msg), tc->sigs[k]))
			return false;
		k++;
	}
	return true;
}

/* ---- Vote pool ---- */

int ist_cons_vote_pool_init(struct ist_cons_vote_pool *p, uint32_t n, uint64_t view)
{
	memset(p, 0, sizeof(*p));
	p->block = calloc(n, sizeof(*p->block));
	p->sig = calloc(n, sizeof(*p->sig));
	if (!p->block || !p->sig) {
		ist_cons_vote_pool_fini(p);
		return -IST_ENOMEM;
	}
	p->n = n;
	p->view = view;
	return 0;
}

void ist_cons_vote_pool_fini(struct ist_cons_vote_pool *p)
{
	free(p->block);
	free(p->sig);
	memset(p, 0, sizeof(*p));
}

enum ist_cons_pool_result ist_cons_vote_pool_peek(const struct ist_cons_vote_pool *p, const struct ist_vote *vote)
{
	uint32_t i = vote->voter;
	if (i >= p->n || !ist_wire_bitmap_get(p->has, i))
		return IST_CONS_POOL_ADDED;
	if (memcmp(p->block[i], vote->block_id, IST_HASH_BYTES) != 0)
		return IST_CONS_POOL_EQUIVOCATION;
	return memcmp(p->sig[i], vote->signature, IST_SIG_BYTES) == 0 ? IST_CONS_POOL_DUPLICATE
								      : IST_CONS_POOL_EQUIVOCATION;
}

enum ist_cons_pool_result ist_cons_vote_pool_add(struct ist_cons_vote_pool *p, const struct ist_cons_epoch *e,
						 const struct ist_vote *vote, struct ist_qc *ret_qc)
{
	uint32_t i = vote->voter;
	IST_REQUIRE(i < p->n && p->n == e->n && vote->view == p->view);
	enum ist_cons_pool_result r = ist_cons_vote_pool_peek(p, vote);
	if (r != IST_CONS_POOL_ADDED)
		return r;
	if (p->done)
		return IST_CONS_POOL_DONE;
	IST_REQUIRE(ist_wire_bitmap_set(p->has, i) == 0);
	memcpy(p->block[i], vote->block_id, IST_HASH_BYTES);
	memcpy(p->sig[i], vote->signature, IST_SIG_BYTES);

	uint64_t stake = 0;
	for (uint32_t j = 0; j < p->n; j++)
		if (ist_wire_bitmap_get(p->has, j) && memcmp(p->block[j], vote->block_id, IST_HASH_BYTES) == 0)
			stake += e->stakes[j];
	if (!ist_cons_quorum_reached(e, stake))
		return IST_CONS_POOL_ADDED;

	memset(ret_qc, 0, sizeof(*ret_qc));
	ret_qc->epoch = vote->epoch;
	ret_qc->view = p->view;
	memcpy(ret_qc->block_id, vote->block_id, IST_HASH_BYTES);
	for (uint32_t j = 0; j < p->n; j++) {
		if (!ist_wire_bitmap_get(p->has, j) || memcmp(p->block[j], vote->block_id, IST_HASH_BYTES) != 0)
			continue;
		IST_REQUIRE(ist_wire_bitmap_set(ret_qc->signers, j) == 0);
		memcpy(ret_qc->sigs[ret_qc->n_sigs++], p->sig[j], IST_SIG_BYTES);
	}
	p->done = true;
	return IST_CONS_POOL_CERT;
}

/* ---- Timeout pool ---- */

int ist_cons_timeout_pool_init(struct ist_cons_timeout_pool *p, uint32_t n, uint64_t view)
{
	memset(p, 0, sizeof(*p));
	p->hqc_view = calloc(n, sizeof(*p->hqc_view));
	p->sig = calloc(n, sizeof(*p->sig));
	p->qcs = calloc(n, sizeof(*p->qcs));
	if (!p->hqc_view || !p->sig || !p->qcs) {
		ist_cons_timeout_pool_fini(p);
		return -IST_ENOMEM;
	}
	p->n = n;
	p->view = view;
	return 0;
}

void ist_cons_timeout_pool_fini(struct ist_cons_timeout_pool *p)
{
	if (p->qcs)
		for (size_t i = 0; i < p->n_qcs; i++)
			free(p->qcs[i]);
	free(p->qcs);
	free(p->hqc_view);
	free(p->sig);
	memset(p, 0, sizeof(*p));
}

enum ist_cons_pool_result ist_cons_timeout_pool_peek(const struct ist_cons_timeout_pool *p,
						     const struct ist_timeout *t)
{
	uint32_t i = t->voter;
	if (i >= p->n || !ist_wire_bitmap_get(p->has, i))
		return IST_CONS_POOL_ADDED;
	if (p->hqc_view[i] != t->high_qc.view)
		return IST_CONS_POOL_EQUIVOCATION;
	return memcmp(p->sig[i], t->signature, IST_SIG_BYTES) == 0 ? IST_CONS_POOL_DUPLICATE
								   : IST_CONS_POOL_EQUIVOCATION;
}

static const struct ist_qc *pool_qc(const struct ist_cons_timeout_pool *p, uint64_t view)
{
	for (size_t i = 0; i < p->n_qcs; i++)
		if (p->qcs[i]->view == view)
			return p->qcs[i];
	return NULL;
}

int ist_cons_timeout_pool_add(struct ist_cons_timeout_pool *p, const struct ist_cons_epoch *e,
			      const struct ist_timeout *t, struct ist_tc *ret_tc)
{
	uint32_t i = t->voter;
	IST_REQUIRE(i < p->n && p->n == e->n && t->view == p->view);
	enum ist_cons_pool_result r = ist_cons_timeout_pool_peek(p, t);
	if (r != IST_CONS_POOL_ADDED)
		return (int)r;
	if (!pool_qc(p, t->high_qc.view)) {
		IST_REQUIRE(p->n_qcs < p->n);
		struct ist_qc *q = malloc(sizeof(*q));
		if (!q)
			return -IST_ENOMEM;
		*q = t->high_qc;
		p->qcs[p->n_qcs++] = q;
	}
	IST_REQUIRE(ist_wire_bitmap_set(p->has, i) == 0);
	p->hqc_view[i] = t->high_qc.view;
	memcpy(p->sig[i], t->signature, IST_SIG_BYTES);
	p->stake += e->stakes[i];
	if (p->done || !ist_cons_quorum_reached(e, p->stake))
		return IST_CONS_POOL_ADDED;

	memset(ret_tc, 0, sizeof(*ret_tc));
	ret_tc->epoch = t->epoch;
	ret_tc->view = p->view;
	uint64_t max = 0;
	for (uint32_t j = 0; j < p->n; j++) {
		if (!ist_wire_bitmap_get(p->has, j))
			continue;
		IST_REQUIRE(ist_wire_bitmap_set(ret_tc->signers, j) == 0);
		ret_tc->high_qc_views[ret_tc->n_sigs] = p->hqc_view[j];
		memcpy(ret_tc->sigs[ret_tc->n_sigs], p->sig[j], IST_SIG_BYTES);
		ret_tc->n_sigs++;
		if (p->hqc_view[j] > max)
			max = p->hqc_view[j];
	}
	const struct ist_qc *hq = pool_qc(p, max);
	IST_REQUIRE(hq);
	ret_tc->high_qc = *hq;
	p->done = true;
	return IST_CONS_POOL_CERT;
}

bool ist_cons_timeout_pool_weak(const struct ist_cons_timeout_pool *p, const struct ist_cons_epoch *e)
{
	return ist_cons_quorum_weak(e, p->stake);
}

bool ist_cons_timeout_pool_get(const struct ist_cons_timeout_pool *p, uint64_t epoch, uint32_t voter,
			       struct ist_timeout *ret)
{
	if (voter >= p->n || !ist_wire_bitmap_get(p->has, voter))
		return false;
	const struct ist_qc *q = pool_qc(p, p->hqc_view[voter]);
	IST_REQUIRE(q);
	memset(ret, 0, sizeof(*ret));
	ret->epoch = epoch;
	ret->view = p->view;
	ret->high_qc = *q;
	ret->voter = voter;
	memcpy(ret->signature, p->sig[voter], IST_SIG_BYTES);
	return true;
}
