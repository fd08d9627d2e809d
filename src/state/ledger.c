/* The ledger (ledger.h): accounts, stake, epochs, jailing and slashing. */
#include "state/ledger.h"

#include <inttypes.h>
#include <stdarg.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/dkg.h"
#include "state/breaker.h"
#include "state/evidence.h"
#include "state/frost_ledger.h"
#include "state/gov.h"
#include "state/verify.h"
#include "wire/canonical.h"

#define STATE_VERSION 2
#define HISTORY_MAX 32

struct pend {
	enum ist_ledger_table t;
	uint8_t key[IST_HASH_BYTES + 8];
	size_t klen;
	uint8_t *val;      /* owned */
	size_t vlen;
};

struct ist_ledger {
	struct ist_ledger_params p;
	uint64_t network_id;
	uint64_t height;
	struct ist_ledger_account *accts;   /* sorted by key */
	size_t n_accts, cap_accts;
	struct ist_ledger_validator *vals;  /* registration order */
	size_t n_vals;
	struct ist_ledger_bond *bonds;
	size_t n_bonds, cap_bonds;
	struct ist_ledger_unbonding *unb;
	size_t n_unb, cap_unb;
	struct ist_ledger_set cur;
	uint32_t voted[IST_WIRE_MAX_VALIDATORS], missed[IST_WIRE_MAX_VALIDATORS];
	struct ist_ledger_set *hist;        /* ended sets, oldest first */
	size_t n_hist;
	struct ist_ledger_set next;         /* the last outcome's; the pending one while handover_pending */
	bool handover_pending;              /* the epoch waits for next's DKG */
	uint64_t dkg_tried;                 /* epoch + 1 of the last in-epoch DKG started */
	struct ist_fl *fl;                  /* NULL: FROST off */
	struct ist_gov *gov;
	struct ist_breaker *brk;
	bool state_dirty;
	struct pend *pend;
	size_t n_pend, cap_pend;
};

/* ---- params ---- */

int ist_ledger_params_check(const struct ist_ledger_params *p, const char **ret_field)
{
	const char *f = NULL;
	if (p->epoch_length_blocks < 1)
		f = "epoch_length_blocks";
	else if (p->max_validators < 1 || p->max_validators > IST_WIRE_MAX_VALIDATORS)
		f = "max_validators";
	else if (p->min_stake < 1)
		f = "min_stake";
	else if (p->unbonding_epochs < 1 || p->unbonding_epochs > 1000000)
		f = "unbonding_epochs";
	else if (p->slash_fraction_bps > 10000)
		f = "slash_fraction_bps";
	else if (p->jail_missed_bps < 1 || p->jail_missed_bps > 10000)
		f = "jail_missed_bps";
	else if (p->jail_cooldown_epochs > 1000000)
		f = "jail_cooldown_epochs";
	else if (p->frost_round_blocks > 1000)
		f = "dkg_round_blocks";
	else if (p->frost_round_blocks && (p->frost_sign_timeout_blocks < 1 || p->frost_sign_timeout_blocks > 1000))
		f = "sign_timeout_blocks";
	if (ret_field)
		*ret_field = f;
	return f ? -IST_EINVAL : 0;
}

const char *ist_ledger_status_name(enum ist_ledger_status s)
{
	switch (s) {
	case IST_LEDGER_CANDIDATE:
		return "candidate";
	case IST_LEDGER_ACTIVE:
		return "active";
	case IST_LEDGER_JAILED:
		return "jailed";
	case IST_LEDGER_REMOVED:
		return "removed";
	}
	return "unknown";
}

/* Room for one more element in a growable array: doubles *cap (from
 * `first`) when *n == *cap. Returns 0 or -IST_ENOMEM (the array is kept). */
static int grow(void *arrp, size_t n, size_t *cap, size_t elem, size_t first)
{
	void **arr = arrp;
	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : first;
	void *v = realloc(*arr, c * elem);
	if (!v)
		return -IST_ENOMEM;
	*arr = v;
	*cap = c;
	return 0;
}

/* ---- lookups ---- */

static size_t acct_pos(const struct ist_ledger *l, const uint8_t *key, bool *found)
{
	size_t lo = 0, hi = l->n_accts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(l->accts[mid].key, key, IST_ED25519_PUBKEY_BYTES);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

const struct ist_ledger_account *ist_ledger_account(const struct ist_ledger *l, const uint8_t key32[IST_ED25519_PUBKEY_BYTES])
{
	bool found;
	size_t i = acct_pos(l, key32, &found);
	return found ? &l->accts[i] : NULL;
}

static struct ist_ledger_account *acct_get(struct ist_ledger *l, const uint8_t *key, bool create)
{
	bool found;
	size_t i = acct_pos(l, key, &found);
	if (found)
		return &l->accts[i];
	if (!create)
		return NULL;
	if (grow(&l->accts, l->n_accts, &l->cap_accts, sizeof(*l->accts), 64) < 0)
		return NULL;
	memmove(&l->accts[i + 1], &l->accts[i], (l->n_accts - i) * sizeof(*l->accts));
	l->n_accts++;
	memset(&l->accts[i], 0, sizeof(l->accts[i]));
	memcpy(l->accts[i].key, key, IST_ED25519_PUBKEY_BYTES);
	return &l->accts[i];
}

static struct ist_ledger_validator *val_find(const struct ist_ledger *l, const uint8_t *node_key)
{
	for (size_t i = 0; i < l->n_vals; i++)
		if (!memcmp(l->vals[i].node_key, node_key, IST_ED25519_PUBKEY_BYTES))
			return &l->vals[i];
	return NULL;
}

static struct ist_ledger_validator *val_by_operator(const struct ist_ledger *l, const uint8_t *op)
{
	for (size_t i = 0; i < l->n_vals; i++)
		if (!memcmp(l->vals[i].operator_key, op, IST_ED25519_PUBKEY_BYTES))
			return &l->vals[i];
	return NULL;
}

static struct ist_ledger_bond *bond_find(const struct ist_ledger *l, const uint8_t *val, const uint8_t *del)
{
	for (size_t i = 0; i < l->n_bonds; i++)
		if (!memcmp(l->bonds[i].validator, val, IST_ED25519_PUBKEY_BYTES) &&
		    !memcmp(l->bonds[i].delegator, del, IST_ED25519_PUBKEY_BYTES))
			return &l->bonds[i];
	return NULL;
}

static uint32_t set_index(const struct ist_ledger_set *s, const uint8_t *node_key)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (!memcmp(s->node_keys[i], node_key, IST_ED25519_PUBKEY_BYTES))
			return i;
	return UINT32_MAX;
}

const struct ist_ledger_validator *ist_ledger_validator_find(const struct ist_ledger *l,
							       const uint8_t node_key32[IST_ED25519_PUBKEY_BYTES])
{
	return val_find(l, node_key32);
}

const struct ist_ledger_validator *ist_ledger_validator_by_operator(const struct ist_ledger *l,
								     const uint8_t key32[IST_ED25519_PUBKEY_BYTES])
{
	return val_by_operator(l, key32);
}

enum ist_ledger_status ist_ledger_validator_status(const struct ist_ledger *l, const struct ist_ledger_validator *v)
{
	if (v->removed)
		return IST_LEDGER_REMOVED;
	if (v->jailed)
		return IST_LEDGER_JAILED;
	return set_index(&l->cur, v->node_key) != UINT32_MAX ? IST_LEDGER_ACTIVE : IST_LEDGER_CANDIDATE;
}

uint64_t ist_ledger_height(const struct ist_ledger *l) { return l->height; }
const struct ist_ledger_params *ist_ledger_params_get(const struct ist_ledger *l) { return &l->p; }
const struct ist_ledger_set *ist_ledger_current(const struct ist_ledger *l) { return &l->cur; }
size_t ist_ledger_n_validators(const struct ist_ledger *l) { return l->n_vals; }
const struct ist_ledger_validator *ist_ledger_validator_at(const struct ist_ledger *l, size_t i) { return i < l->n_vals ? &l->vals[i] : NULL; }
size_t ist_ledger_n_bonds(const struct ist_ledger *l) { return l->n_bonds; }
const struct ist_ledger_bond *ist_ledger_bond_at(const struct ist_ledger *l, size_t i) { return i < l->n_bonds ? &l->bonds[i] : NULL; }
size_t ist_ledger_n_unbonding(const struct ist_ledger *l) { return l->n_unb; }
const struct ist_ledger_unbonding *ist_ledger_unbonding_at(const struct ist_ledger *l, size_t i) { return i < l->n_unb ? &l->unb[i] : NULL; }

const struct ist_ledger_set *ist_ledger_set_get(const struct ist_ledger *l, uint64_t epoch)
{
	if (epoch == l->cur.epoch)
		return &l->cur;
	for (size_t i = 0; i < l->n_hist; i++)
		if (l->hist[i].epoch == epoch)
			return &l->hist[i];
	return NULL;
}

bool ist_ledger_set_key_public(const struct ist_ledger_set *s)
{
	return s->has_group_key && (!s->late_key || s->epoch == 0);
}

void ist_ledger_set_valset(uint64_t network_id, const struct ist_ledger_set *s, struct ist_valset *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->network_id = network_id;
	ret->epoch = s->epoch;
	ret->n = s->n;
	for (uint32_t i = 0; i < s->n; i++) {
		memcpy(ret->keys[i], s->attest_keys[i], IST_SECP_PUBKEY_BYTES);
		ret->stakes[i] = s->stakes[i];
	}
	ret->total = s->total;
	ret->has_group_key = ist_ledger_set_key_public(s);
	if (ret->has_group_key)
		memcpy(ret->group_key, s->group_key, IST_ED25519_PUBKEY_BYTES);
}

/* ---- pending writes ---- */

static int pend_add(struct ist_ledger *l, enum ist_ledger_table t, const uint8_t *key, size_t klen, struct ist_buf *val)
{
	int r = ist_buf_err(val);
	if (r < 0)
		return r;
	if (grow(&l->pend, l->n_pend, &l->cap_pend, sizeof(*l->pend), 16) < 0)
		return -IST_ENOMEM;
	struct pend *p = &l->pend[l->n_pend];
	p->t = t;
	memcpy(p->key, key, klen);
	p->klen = klen;
	p->vlen = val->len;
	p->val = malloc(val->len ? val->len : 1);
	if (!p->val)
		return -IST_ENOMEM;
	memcpy(p->val, val->data, val->len);
	l->n_pend++;
	return 0;
}

static void put_set(struct ist_buf *b, const struct ist_ledger_set *s)
{
	ist_buf_put_be64(b, s->epoch);
	ist_buf_put_be64(b, s->start_height);
	ist_buf_put_be64(b, s->end_height);
	ist_buf_put_be32(b, s->n);
	for (uint32_t i = 0; i < s->n; i++) {
		ist_buf_put(b, s->node_keys[i], IST_ED25519_PUBKEY_BYTES);
		ist_buf_put(b, s->attest_keys[i], IST_SECP_PUBKEY_BYTES);
		ist_buf_put_be64(b, s->stakes[i]);
	}
	ist_buf_put_u8(b, (uint8_t)(s->has_group_key ? (s->late_key ? 2 : 1) : 0));
	if (s->has_group_key)
		ist_buf_put(b, s->group_key, IST_ED25519_PUBKEY_BYTES);
}

static int pend_set(struct ist_ledger *l, const struct ist_ledger_set *s)
{
	struct ist_buf b;
	uint8_t key[8];
	ist_buf_init(&b, 0);
	put_set(&b, s);
	ist_put_be64(key, s->epoch);
	int r = pend_add(l, IST_LEDGER_T_EPOCH, key, 8, &b);
	ist_buf_fini(&b);
	return r;
}

/* ---- reading records ---- */


static void rdstr(struct ist_cur *r, char *out, size_t max)
{
	size_t n = ist_cur_u8(r);
	if (n > max) {
		r->failed = true;
		return;
	}
	ist_cur_get(r, out, n);
	out[r->failed ? 0 : n] = '\0';
}

static void putstr(struct ist_buf *b, const char *s)
{
	size_t n = strlen(s);
	uint8_t k = (uint8_t)(n > 255 ? 255 : n);
	ist_buf_put(b, &k, 1);
	ist_buf_put(b, s, k);
}

static void rd_set(struct ist_cur *r, struct ist_ledger_set *s)
{
	memset(s, 0, sizeof(*s));
	s->epoch = ist_cur_be64(r);
	s->start_height = ist_cur_be64(r);
	s->end_height = ist_cur_be64(r);
	s->n = ist_cur_be32(r);
	if (s->n > IST_WIRE_MAX_VALIDATORS) {
		r->failed = true;
		return;
	}
	for (uint32_t i = 0; i < s->n && !r->failed; i++) {
		ist_cur_get(r, s->node_keys[i], IST_ED25519_PUBKEY_BYTES);
		ist_cur_get(r, s->attest_keys[i], IST_SECP_PUBKEY_BYTES);
		s->stakes[i] = ist_cur_be64(r);
		s->total += s->stakes[i];
	}
	uint8_t gk = ist_cur_u8(r);
	if (gk > 2)
		r->failed = true;
	s->has_group_key = gk != 0;
	s->late_key = gk == 2;
	if (s->has_group_key)
		ist_cur_get(r, s->group_key, IST_ED25519_PUBKEY_BYTES);
}

int ist_ledger_set_decode(const uint8_t *val, size_t len, struct ist_ledger_set *ret)
{
	struct ist_cur r;
	ist_cur_init(&r, val, len);
	rd_set(&r, ret);
	return !ist_cur_done(&r) ? -IST_EDB_CORRUPT : 0;
}

/* ---- creation ---- */

static void set_total(struct ist_ledger_set *s)
{
	s->total = 0;
	for (uint32_t i = 0; i < s->n; i++)
		s->total += s->stakes[i];
}

static bool add_ok(uint64_t a, uint64_t b, uint64_t *sum)
{
	return !__builtin_add_overflow(a, b, sum);
}

int ist_ledger_new(const struct ist_ledger_params *p, uint64_t network_id,
		   const struct ist_ledger_genesis_validator *vals, size_t n_vals,
		   const struct ist_ledger_genesis_account *accts, size_t n_accts, struct ist_ledger **ret)
{
	if (ist_ledger_params_check(p, NULL) < 0 || !n_vals || n_vals > IST_WIRE_MAX_VALIDATORS)
		return -IST_EINVAL;
	struct ist_ledger *l = calloc(1, sizeof(*l));
	if (!l)
		return -IST_ENOMEM;
	int r = -IST_ENOMEM;
	l->p = *p;
	l->network_id = network_id;
	l->vals = calloc(IST_LEDGER_MAX_REGISTERED, sizeof(*l->vals));
	l->hist = calloc(HISTORY_MAX, sizeof(*l->hist));
	if (!l->vals || !l->hist)
		goto fail;
	if (p->frost_round_blocks &&
	    !(l->fl = ist_fl_new(network_id, p->frost_round_blocks, p->frost_sign_timeout_blocks)))
		goto fail;
	if (!(l->gov = ist_gov_new()) || !(l->brk = ist_breaker_new()))
		goto fail;
	uint64_t supply = 0;
	for (size_t i = 0; i < n_accts; i++) {
		struct ist_ledger_account *a = acct_get(l, accts[i].key, true);
		if (!a)
			goto fail;
		r = -IST_EINVAL;
		if (a->balance)
			goto fail;
		r = -IST_ERANGE;
		if (!add_ok(supply, accts[i].balance, &supply))
			goto fail;
		a->balance = accts[i].balance;
		a->dirty = true;
	}
	for (size_t i = 0; i < n_vals; i++) {
		const struct ist_ledger_genesis_validator *g = &vals[i];
		r = -IST_EINVAL;
		if (val_find(l, g->node_key) || !g->stake)
			goto fail;
		r = -IST_ERANGE;
		if (!add_ok(supply, g->stake, &supply))
			goto fail;
		struct ist_ledger_validator *v = &l->vals[l->n_vals++];
		memcpy(v->node_key, g->node_key, IST_ED25519_PUBKEY_BYTES);
		memcpy(v->operator_key, g->node_key, IST_ED25519_PUBKEY_BYTES);
		memcpy(v->attest_key, g->attest_key, IST_SECP_PUBKEY_BYTES);
		memcpy(v->dkg_key, g->dkg_key, IST_X25519_PUBKEY_BYTES);
		snprintf(v->name, sizeof(v->name), "%s", g->name ? g->name : "");
		snprintf(v->address, sizeof(v->address), "%s", g->address ? g->address : "");
		v->bonded = g->stake;
		if ((r = grow(&l->bonds, l->n_bonds, &l->cap_bonds, sizeof(*l->bonds), 16)) < 0)
			goto fail;
		struct ist_ledger_bond *b = &l->bonds[l->n_bonds++];
		memcpy(b->validator, g->node_key, IST_ED25519_PUBKEY_BYTES);
		memcpy(b->delegator, g->node_key, IST_ED25519_PUBKEY_BYTES);
		b->amount = g->stake;
		memcpy(l->cur.node_keys[i], g->node_key, IST_ED25519_PUBKEY_BYTES);
		memcpy(l->cur.attest_keys[i], g->attest_key, IST_SECP_PUBKEY_BYTES);
		l->cur.stakes[i] = g->stake;
	}
	l->cur.n = (uint32_t)n_vals;
	l->cur.epoch = 0;
	l->cur.start_height = 1;
	set_total(&l->cur);
	l->state_dirty = true;
	if ((r = pend_set(l, &l->cur)) < 0)
		goto fail;
	*ret = l;
	return 0;
fail:
	ist_ledger_free(l);
	return r;
}

void ist_ledger_free(struct ist_ledger *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_pend; i++)
		free(l->pend[i].val);
	free(l->pend);
	free(l->accts);
	free(l->vals);
	free(l->bonds);
	free(l->unb);
	free(l->hist);
	ist_fl_free(l->fl);
	ist_gov_free(l->gov);
	ist_breaker_free(l->brk);
	free(l);
}

const struct ist_fl *ist_ledger_frost(const struct ist_ledger *l) { return l->fl; }
const struct ist_gov *ist_ledger_gov(const struct ist_ledger *l) { return l->gov; }

int ist_ledger_genesis_route_limits(struct ist_ledger *l, uint64_t src, uint64_t dst, const struct ist_gov_limits *lim)
{
	if (l->height)
		return -IST_ESTATE;
	ist_gov_set_route_limits(l->gov, src, dst, lim, 0);
	return 0;
}
const struct ist_breaker *ist_ledger_breaker(const struct ist_ledger *l) { return l->brk; }

static struct ist_gov_set gov_set(const struct ist_ledger *l)
{
	return (struct ist_gov_set){ .n = l->cur.n, .node_keys = (const uint8_t (*)[32])l->cur.node_keys,
				     .stakes = l->cur.stakes, .total = l->cur.total };
}
const struct ist_ledger_set *ist_ledger_pending_next(const struct ist_ledger *l)
{
	return l->handover_pending ? &l->next : NULL;
}

/* ---- transactions ---- */

static const char *kind_name(enum ist_tx_kind k)
{
	switch (k) {
	case IST_TX_TRANSFER:
		return "transfer";
	case IST_TX_REGISTER_VALIDATOR:
		return "register_validator";
	case IST_TX_BOND:
		return "bond";
	case IST_TX_UNBOND:
		return "unbond";
	case IST_TX_WITHDRAW:
		return "withdraw";
	case IST_TX_UNJAIL:
		return "unjail";
	case IST_TX_GOV_PROPOSE:
		return "gov_propose";
	case IST_TX_GOV_VOTE:
		return "gov_vote";
	}
	return "unknown";
}

static uint64_t withdrawable(const struct ist_ledger *l, const uint8_t *del, uint64_t *next_release)
{
	uint64_t sum = 0;
	*next_release = 0;
	for (size_t i = 0; i < l->n_unb; i++) {
		if (memcmp(l->unb[i].delegator, del, IST_ED25519_PUBKEY_BYTES) != 0)
			continue;
		if (l->unb[i].release_epoch <= l->cur.epoch)
			sum += l->unb[i].amount;
		else if (!*next_release || l->unb[i].release_epoch < *next_release)
			*next_release = l->unb[i].release_epoch;
	}
	return sum;
}

static bool key_used(const struct ist_ledger *l, const struct ist_tx *tx)
{
	for (size_t i = 0; i < l->n_vals; i++) {
		const struct ist_ledger_validator *v = &l->vals[i];
		if (!memcmp(v->node_key, tx->u.register_validator.node_key, IST_ED25519_PUBKEY_BYTES) ||
		    !memcmp(v->attest_key, tx->u.register_validator.attest_key, IST_SECP_PUBKEY_BYTES) ||
		    !memcmp(v->dkg_key, tx->u.register_validator.dkg_key, IST_X25519_PUBKEY_BYTES))
			return true;
	}
	return false;
}

/* bad(why, why_len, fmt, ...): a refusal with its reason (common/err.h) */
#define bad ist_err_reason

/* In reasons, the first 8 bytes of a key are enough to tell keys apart. */
struct hex16 {
	char s[17];
};

static struct hex16 short_hex(const uint8_t *k)
{
	struct hex16 h;
	ist_hex_encode(k, 8, h.s);
	return h;
}

/* Sets one parameter governance may change; false for an unknown one. */
static bool set_param(struct ist_ledger_params *p, uint32_t param, uint64_t value)
{
	switch ((enum ist_gov_param)param) {
	case IST_GOV_PARAM_MIN_STAKE:
		p->min_stake = value;
		return true;
	case IST_GOV_PARAM_UNBONDING_EPOCHS:
		p->unbonding_epochs = value;
		return true;
	case IST_GOV_PARAM_SLASH_FRACTION_BPS:
		p->slash_fraction_bps = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
		return true;
	case IST_GOV_PARAM_JAIL_MISSED_BPS:
		p->jail_missed_bps = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
		return true;
	case IST_GOV_PARAM_JAIL_COOLDOWN_EPOCHS:
		p->jail_cooldown_epochs = value;
		return true;
	case IST_GOV_PARAM_MAX_VALIDATORS:
		p->max_validators = value > UINT32_MAX ? UINT32_MAX : (uint32_t)value;
		return true;
	}
	return false;
}

/* The body's rules against the current state, the sender's balance being
 * `balance` (after the fee). Changes nothing. */
static int check_body(const struct ist_ledger *l, const struct ist_tx *tx, uint64_t balance, char *why, size_t why_len)
{
	switch (tx->kind) {
	case IST_TX_TRANSFER: {
		if (!tx->u.transfer.amount)
			return bad(why, why_len, "transfer of 0");
		if (tx->u.transfer.amount > balance)
			return bad(why, why_len, "insufficient balance: %" PRIu64 " < %" PRIu64 " (amount + fee)",
				   balance + tx->fee, tx->u.transfer.amount + tx->fee);
		const struct ist_ledger_account *to = ist_ledger_account(l, tx->u.transfer.to);
		uint64_t s;
		if (to && !add_ok(to->balance, tx->u.transfer.amount, &s))
			return bad(why, why_len, "the recipient's balance would overflow");
		return 0;
	}
	case IST_TX_REGISTER_VALIDATOR:
		if (val_by_operator(l, tx->sender))
			return bad(why, why_len, "this account already operates validator %s…",
				   short_hex(val_by_operator(l, tx->sender)->node_key).s);
		if (key_used(l, tx))
			return bad(why, why_len, "a registered validator already uses one of these keys");
		if (l->n_vals >= IST_LEDGER_MAX_REGISTERED)
			return bad(why, why_len, "the registry is full (%d validators)", IST_LEDGER_MAX_REGISTERED);
		if (crypto_core_ed25519_is_valid_point(tx->u.register_validator.node_key) != 1)
			return bad(why, why_len, "node_key is not a valid Ed25519 public key");
		/* a DKG complaint can only be proven against a key in the
		 * prime-order subgroup (crypto/dkg.h) */
		if (!ist_dkg_enc_key_valid(tx->u.register_validator.dkg_key))
			return bad(why, why_len, "dkg_key is not a valid X25519 public key (canonical, in the prime-order subgroup)");
		{
			uint8_t addr[IST_ETH_ADDRESS_BYTES];
			if (ist_secp_eth_address(tx->u.register_validator.attest_key, addr) < 0)
				return bad(why, why_len, "attest_key is not a compressed secp256k1 public key");
		}
		if (strncmp(tx->u.register_validator.address, "tcp://", 6) != 0 &&
		    strncmp(tx->u.register_validator.address, "tls+tcp://", 10) != 0)
			return bad(why, why_len, "address must be a tcp:// or tls+tcp:// URL");
		return 0;
	case IST_TX_BOND: {
		const struct ist_ledger_validator *v = val_find(l, tx->u.bond.validator);
		if (!v)
			return bad(why, why_len, "no validator with node key %s…", short_hex(tx->u.bond.validator).s);
		if (v->removed)
			return bad(why, why_len, "validator %s… was slashed and removed", short_hex(v->node_key).s);
		if (!tx->u.bond.amount)
			return bad(why, why_len, "bond of 0");
		if (tx->u.bond.amount > balance)
			return bad(why, why_len, "insufficient balance: %" PRIu64 " < %" PRIu64 " (amount + fee)",
				   balance + tx->fee, tx->u.bond.amount + tx->fee);
		return 0;
	}
	case IST_TX_UNBOND: {
		const struct ist_ledger_bond *b = bond_find(l, tx->u.unbond.validator, tx->sender);
		if (!tx->u.unbond.amount)
			return bad(why, why_len, "unbond of 0");
		if (!b)
			return bad(why, why_len, "no bond with validator %s…", short_hex(tx->u.unbond.validator).s);
		if (b->amount < tx->u.unbond.amount)
			return bad(why, why_len, "bonded %" PRIu64 " < %" PRIu64, b->amount, tx->u.unbond.amount);
		if (l->n_unb >= IST_LEDGER_MAX_ENTRIES)
			return bad(why, why_len, "too many unbonding entries in the ledger; try later");
		return 0;
	}
	case IST_TX_WITHDRAW: {
		uint64_t next;
		if (!withdrawable(l, tx->sender, &next)) {
			if (next)
				return bad(why, why_len, "nothing to withdraw yet: the next release is at epoch %" PRIu64
					   " (now %" PRIu64 ")", next, l->cur.epoch);
			return bad(why, why_len, "nothing to withdraw: no unbonding stake");
		}
		return 0;
	}
	case IST_TX_UNJAIL: {
		const struct ist_ledger_validator *v = val_by_operator(l, tx->sender);
		if (!v)
			return bad(why, why_len, "this account operates no validator");
		if (v->removed)
			return bad(why, why_len, "validator %s… was slashed and removed for good", short_hex(v->node_key).s);
		if (!v->jailed)
			return bad(why, why_len, "validator %s… is not jailed", short_hex(v->node_key).s);
		if (l->cur.epoch < v->jailed_epoch + l->p.jail_cooldown_epochs)
			return bad(why, why_len, "jailed at epoch %" PRIu64 ": may unjail from epoch %" PRIu64
				   " (now %" PRIu64 ")", v->jailed_epoch, v->jailed_epoch + l->p.jail_cooldown_epochs,
				   l->cur.epoch);
		return 0;
	}
	case IST_TX_GOV_PROPOSE:
	case IST_TX_GOV_VOTE: {
		const struct ist_ledger_validator *v = val_by_operator(l, tx->sender);
		bool in_set = v && set_index(&l->cur, v->node_key) < l->cur.n;
		if (tx->kind == IST_TX_GOV_PROPOSE && tx->u.gov_propose.action == IST_GOV_SET_PARAM) {
			struct ist_ledger_params p = l->p;
			const char *field = NULL;
			if (set_param(&p, tx->u.gov_propose.param, tx->u.gov_propose.param_value) &&
			    ist_ledger_params_check(&p, &field) < 0)
				return bad(why, why_len, "%s cannot be %" PRIu64, field, tx->u.gov_propose.param_value);
		}
		return ist_gov_check(l->gov, tx, v ? v->node_key : NULL, in_set, why, why_len);
	}
	}
	return bad(why, why_len, "unknown transaction kind");
}

int ist_ledger_tx_precheck(const struct ist_ledger *l, const struct ist_tx *tx, uint64_t max_ahead, char *why,
			   size_t why_len)
{
	const struct ist_ledger_account *a = ist_ledger_account(l, tx->sender);
	uint64_t nonce = a ? a->nonce : 0, balance = a ? a->balance : 0;
	if (tx->nonce < nonce)
		return bad(why, why_len, "nonce %" PRIu64 " already used (the account's next is %" PRIu64 ")", tx->nonce,
			   nonce);
	if (tx->nonce - nonce > max_ahead)
		return bad(why, why_len, "nonce %" PRIu64 " is too far ahead of the account's next (%" PRIu64 ")",
			   tx->nonce, nonce);
	if (balance < tx->fee)
		return bad(why, why_len, "insufficient balance for the fee: %" PRIu64 " < %" PRIu64, balance, tx->fee);
	return check_body(l, tx, balance - tx->fee, why, why_len);
}

static int bond_add(struct ist_ledger *l, const uint8_t *val, const uint8_t *del, uint64_t amount)
{
	struct ist_ledger_bond *b = bond_find(l, val, del);
	if (!b) {
		if (grow(&l->bonds, l->n_bonds, &l->cap_bonds, sizeof(*l->bonds), 16) < 0)
			return -IST_ENOMEM;
		b = &l->bonds[l->n_bonds++];
		memcpy(b->validator, val, IST_ED25519_PUBKEY_BYTES);
		memcpy(b->delegator, del, IST_ED25519_PUBKEY_BYTES);
		b->amount = 0;
	}
	b->amount += amount;
	return 0;
}

static void bonds_compact(struct ist_ledger *l)
{
	size_t k = 0;
	for (size_t i = 0; i < l->n_bonds; i++)
		if (l->bonds[i].amount)
			l->bonds[k++] = l->bonds[i];
	l->n_bonds = k;
	k = 0;
	for (size_t i = 0; i < l->n_unb; i++)
		if (l->unb[i].amount)
			l->unb[k++] = l->unb[i];
	l->n_unb = k;
}

/* Puts the parameters passed proposals set over the genesis ones. */
static void gov_params(struct ist_ledger *l)
{
	const struct ist_gov_param_set *ps;
	size_t n = ist_gov_params(l->gov, &ps);
	for (size_t i = 0; i < n; i++) {
		struct ist_ledger_params p = l->p;
		if (set_param(&p, ps[i].param, ps[i].value) && ist_ledger_params_check(&p, NULL) == 0)
			l->p = p;
	}
}

/* Applies a body that check_body accepted. */
static int apply_body(struct ist_ledger *l, const struct ist_tx *tx, struct ist_ledger_account *a, uint64_t height)
{
	switch (tx->kind) {
	case IST_TX_GOV_PROPOSE:
	case IST_TX_GOV_VOTE: {
		struct ist_gov_set set = gov_set(l);
		int r = ist_gov_apply(l->gov, tx, val_by_operator(l, tx->sender)->node_key, height, &set);
		gov_params(l);
		return r;
	}
	case IST_TX_TRANSFER: {
		uint64_t amount = tx->u.transfer.amount;
		a->balance -= amount;
		a->dirty = true;
		/* a may move: acct_get can insert */
		struct ist_ledger_account *to = acct_get(l, tx->u.transfer.to, true);
		if (!to)
			return -IST_ENOMEM;
		to->balance += amount;
		to->dirty = true;
		return 0;
	}
	case IST_TX_REGISTER_VALIDATOR: {
		struct ist_ledger_validator *v = &l->vals[l->n_vals++];
		memset(v, 0, sizeof(*v));
		memcpy(v->node_key, tx->u.register_validator.node_key, IST_ED25519_PUBKEY_BYTES);
		memcpy(v->operator_key, tx->sender, IST_ED25519_PUBKEY_BYTES);
		memcpy(v->attest_key, tx->u.register_validator.attest_key, IST_SECP_PUBKEY_BYTES);
		memcpy(v->dkg_key, tx->u.register_validator.dkg_key, IST_X25519_PUBKEY_BYTES);
		snprintf(v->address, sizeof(v->address), "%s", tx->u.register_validator.address);
		v->commission_bps = tx->u.register_validator.commission_bps;
		return 0;
	}
	case IST_TX_BOND: {
		int r = bond_add(l, tx->u.bond.validator, tx->sender, tx->u.bond.amount);
		if (r < 0)
			return r;
		a->balance -= tx->u.bond.amount;
		a->dirty = true;
		val_find(l, tx->u.bond.validator)->bonded += tx->u.bond.amount;
		return 0;
	}
	case IST_TX_UNBOND: {
		if (grow(&l->unb, l->n_unb, &l->cap_unb, sizeof(*l->unb), 16) < 0)
			return -IST_ENOMEM;
		struct ist_ledger_bond *b = bond_find(l, tx->u.unbond.validator, tx->sender);
		struct ist_ledger_unbonding *u = &l->unb[l->n_unb++];
		memcpy(u->validator, tx->u.unbond.validator, IST_ED25519_PUBKEY_BYTES);
		memcpy(u->delegator, tx->sender, IST_ED25519_PUBKEY_BYTES);
		u->amount = tx->u.unbond.amount;
		u->release_epoch = l->cur.epoch + l->p.unbonding_epochs;
		b->amount -= tx->u.unbond.amount;
		struct ist_ledger_validator *v = val_find(l, tx->u.unbond.validator);
		if (v)
			v->bonded -= tx->u.unbond.amount;
		bonds_compact(l);
		return 0;
	}
	case IST_TX_WITHDRAW: {
		uint64_t next, sum = withdrawable(l, tx->sender, &next);
		for (size_t i = 0; i < l->n_unb; i++)
			if (!memcmp(l->unb[i].delegator, tx->sender, IST_ED25519_PUBKEY_BYTES) &&
			    l->unb[i].release_epoch <= l->cur.epoch)
				l->unb[i].amount = 0;
		bonds_compact(l);
		a->balance += sum;
		a->dirty = true;
		return 0;
	}
	case IST_TX_UNJAIL:
		val_by_operator(l, tx->sender)->jailed = false;
		return 0;
	}
	return 0;
}

/* A receipt; `proposal`: the number an applied gov_propose got (0: none),
 * appended as a be64 after the reason. */
static int receipt(struct ist_ledger *l, const struct ist_tx *tx, uint64_t height, uint32_t index, bool ok,
		   const char *reason, uint64_t proposal)
{
	uint8_t id[IST_HASH_BYTES];
	int r = ist_wire_tx_id(tx, id);
	if (r < 0)
		return r;
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put_be64(&b, height);
	ist_buf_put_be32(&b, index);
	uint8_t f[2] = { ok ? 1 : 0, (uint8_t)tx->kind };
	ist_buf_put(&b, f, 2);
	ist_buf_put(&b, tx->sender, IST_ED25519_PUBKEY_BYTES);
	ist_buf_put_be64(&b, tx->nonce);
	putstr(&b, ok ? "" : reason);
	if (proposal)
		ist_buf_put_be64(&b, proposal);
	r = pend_add(l, IST_LEDGER_T_RECEIPT, id, IST_HASH_BYTES, &b);
	ist_buf_fini(&b);
	return r;
}

int ist_ledger_receipt_decode(const uint8_t *val, size_t len, struct ist_ledger_receipt *ret)
{
	struct ist_cur r;
	ist_cur_init(&r, val, len);
	struct ist_ledger_receipt x;
	memset(&x, 0, sizeof(x));
	x.height = ist_cur_be64(&r);
	x.index = ist_cur_be32(&r);
	x.ok = ist_cur_u8(&r) != 0;
	x.kind = (enum ist_tx_kind)ist_cur_u8(&r);
	ist_cur_get(&r, x.sender, IST_ED25519_PUBKEY_BYTES);
	x.nonce = ist_cur_be64(&r);
	rdstr(&r, x.reason, sizeof(x.reason) - 1);
	if (ist_cur_ok(&r) && r.len == 8 && x.ok && x.kind == IST_TX_GOV_PROPOSE)
		x.proposal = ist_cur_be64(&r);
	if (!ist_cur_done(&r))
		return -IST_EDB_CORRUPT;
	*ret = x;
	return 0;
}

const char *ist_ledger_tx_kind_name(enum ist_tx_kind k)
{
	return kind_name(k);
}

static int apply_tx(struct ist_ledger *l, const struct ist_tx *tx, uint64_t height, uint32_t index, bool *failed)
{
	char why[IST_LEDGER_REASON_MAX];
	struct ist_ledger_account *a = acct_get(l, tx->sender, false);
	uint64_t nonce = a ? a->nonce : 0, balance = a ? a->balance : 0;
	*failed = true;
	if (tx->nonce != nonce) {
		snprintf(why, sizeof(why), "nonce %" PRIu64 " is not the account's next (%" PRIu64 "): skipped", tx->nonce,
			 nonce);
		return receipt(l, tx, height, index, false, why, 0);
	}
	if (balance < tx->fee) {
		snprintf(why, sizeof(why), "insufficient balance for the fee: %" PRIu64 " < %" PRIu64 ": skipped", balance,
			 tx->fee);
		return receipt(l, tx, height, index, false, why, 0);
	}
	if (!a && !(a = acct_get(l, tx->sender, true)))
		return -IST_ENOMEM;
	a->balance -= tx->fee;
	a->nonce++;
	a->dirty = true;
	if (check_body(l, tx, a->balance, why, sizeof(why)) < 0)
		return receipt(l, tx, height, index, false, why, 0);
	int r = apply_body(l, tx, a, height);
	if (r < 0)
		return r;
	*failed = false;
	/* a proposal is the newest one once applied */
	uint64_t proposal = tx->kind == IST_TX_GOV_PROPOSE
				    ? ist_gov_proposal_at(l->gov, ist_gov_n_proposals(l->gov) - 1)->id
				    : 0;
	return receipt(l, tx, height, index, true, NULL, proposal);
}

/* ---- evidence ---- */

static void evidence_set(const struct ist_ledger *l, const struct ist_ledger_set *s, struct ist_evidence_set *out)
{
	out->network_id = l->network_id;
	out->epoch = s->epoch;
	out->n = s->n;
	out->node_keys = (const uint8_t (*)[IST_ED25519_PUBKEY_BYTES])s->node_keys;
	out->attest_keys = (const uint8_t (*)[IST_SECP_PUBKEY_BYTES])s->attest_keys;
}

/* Verifies evidence bytes. Out: the offender's record on success. */
static int evidence_verify(const struct ist_ledger *l, const uint8_t *p, size_t len, struct ist_evidence *ev,
			   struct ist_ledger_validator **ret_v, char *why, size_t why_len)
{
	const char *dwhy = NULL;
	if (ist_evidence_decode(p, len, ev, &dwhy) < 0)
		return bad(why, why_len, "malformed evidence: %s", dwhy ? dwhy : "?");
	uint64_t ea, eb;
	ist_evidence_epochs(ev, &ea, &eb);
	const struct ist_ledger_set *sa = ist_ledger_set_get(l, ea), *sb = ist_ledger_set_get(l, eb);
	if (!sa || !sb)
		return bad(why, why_len, "evidence of epoch %" PRIu64 ": too old (sets are kept for %" PRIu64
			   " epochs) or not reached", !sa ? ea : eb, l->p.unbonding_epochs + 1);
	struct ist_evidence_set xa, xb;
	evidence_set(l, sa, &xa);
	evidence_set(l, sb, &xb);
	uint8_t off[IST_ED25519_PUBKEY_BYTES];
	if (!ist_evidence_verify(ev, &xa, &xb, off, why, why_len))
		return -IST_EINVAL;
	struct ist_ledger_validator *v = val_find(l, off);
	if (!v)
		return bad(why, why_len, "the offender %s… is not a registered validator", short_hex(off).s);
	if (v->removed)
		return bad(why, why_len, "validator %s… was already slashed and removed", short_hex(off).s);
	*ret_v = v;
	return 0;
}

/* Verifies a finality report (state/breaker.h): its shape, network and
 * signature, and whether its reporter may report now. */
static int report_verify(const struct ist_ledger *l, const uint8_t *p, size_t len, struct ist_evidence *ev,
			 char *why, size_t why_len)
{
	const char *dwhy = NULL;
	if (ist_evidence_decode(p, len, ev, &dwhy) < 0)
		return bad(why, why_len, "malformed evidence: %s", dwhy ? dwhy : "?");
	if (!ist_evidence_report_verify(ev, l->network_id, why, why_len))
		return -IST_EINVAL;
	struct ist_gov_set set = gov_set(l);
	return ist_breaker_report_check(l->brk, &set, ev->u.report.chain, ev->u.report.reporter, ev->u.report.height,
					why, why_len);
}

static bool is_report(const uint8_t *p, size_t len)
{
	return len && p[0] == IST_EVIDENCE_FINALITY_REPORT;
}

int ist_ledger_evidence_check(const struct ist_ledger *l, const uint8_t *ev, size_t len, char *why, size_t why_len)
{
	struct ist_evidence e;
	struct ist_ledger_validator *v;
	if (is_report(ev, len))
		return report_verify(l, ev, len, &e, why, why_len);
	return evidence_verify(l, ev, len, &e, &v, why, why_len);
}

static uint64_t cut(uint64_t amount, uint32_t bps)
{
	return (uint64_t)(((unsigned __int128)amount * bps) / 10000);
}

static int apply_evidence(struct ist_ledger *l, const uint8_t *p, size_t len, uint64_t height, uint32_t index,
			  bool *ret_in_set)
{
	char why[IST_LEDGER_REASON_MAX] = "";
	struct ist_evidence ev;
	struct ist_ledger_validator *v = NULL;
	struct ist_ledger_evidence_record rec;
	memset(&rec, 0, sizeof(rec));
	ist_evidence_id(p, len, rec.id);
	rec.height = height;
	rec.kind = len ? p[0] : 0;
	*ret_in_set = false;
	int r;
	if (is_report(p, len)) {
		/* counted for the breaker, not slashed: the reporter is recorded
		 * as the record's "offender" */
		if (report_verify(l, p, len, &ev, why, sizeof(why)) == 0) {
			if ((r = ist_breaker_report_add(l->brk, ev.u.report.chain, ev.u.report.reporter,
							ev.u.report.height, height)) < 0)
				return r;
			rec.epoch = l->cur.epoch;
			rec.ok = true;
			memcpy(rec.offender, ev.u.report.reporter, IST_ED25519_PUBKEY_BYTES);
		} else {
			snprintf(rec.reason, sizeof(rec.reason), "%s", why);
		}
	} else if (evidence_verify(l, p, len, &ev, &v, why, sizeof(why)) == 0) {
		uint64_t ea, eb;
		ist_evidence_epochs(&ev, &ea, &eb);
		rec.epoch = ea;
		rec.ok = true;
		if (ev.kind == IST_EVIDENCE_CONFLICTING_CHECKPOINTS) {
			/* f+1 stake signing conflicting checkpoints of a source
			 * chain trips its breaker: the offender's stake then */
			const struct ist_ledger_set *sa = ist_ledger_set_get(l, ea);
			if ((r = ist_breaker_offence(l->brk, ev.u.cps.a.cp.src_chain, v->node_key, ea,
						     sa->stakes[ev.u.cps.a.signer], sa->total)) < 0)
				return r;
		}
		memcpy(rec.offender, v->node_key, IST_ED25519_PUBKEY_BYTES);
		uint32_t bps = l->p.slash_fraction_bps;
		for (size_t i = 0; i < l->n_bonds; i++)
			if (!memcmp(l->bonds[i].validator, v->node_key, IST_ED25519_PUBKEY_BYTES)) {
				uint64_t c = cut(l->bonds[i].amount, bps);
				l->bonds[i].amount -= c;
				v->bonded -= c;
				rec.slashed += c;
			}
		for (size_t i = 0; i < l->n_unb; i++)
			if (!memcmp(l->unb[i].validator, v->node_key, IST_ED25519_PUBKEY_BYTES)) {
				uint64_t c = cut(l->unb[i].amount, bps);
				l->unb[i].amount -= c;
				rec.slashed += c;
			}
		bonds_compact(l);
		v->slashed += rec.slashed;
		v->removed = true;
		*ret_in_set = set_index(&l->cur, v->node_key) != UINT32_MAX;
	} else {
		snprintf(rec.reason, sizeof(rec.reason), "%s", why);
	}
	struct ist_buf b;
	uint8_t key[12];
	ist_put_be64(key, height);
	ist_put_be32(key + 8, index);
	ist_buf_init(&b, 0);
	ist_buf_put(&b, rec.id, IST_HASH_BYTES);
	ist_buf_put_be64(&b, rec.epoch);
	ist_buf_put(&b, &rec.kind, 1);
	ist_buf_put(&b, rec.offender, IST_ED25519_PUBKEY_BYTES);
	ist_buf_put_be64(&b, rec.slashed);
	uint8_t ok = rec.ok;
	ist_buf_put(&b, &ok, 1);
	putstr(&b, rec.reason);
	r = pend_add(l, IST_LEDGER_T_EVIDENCE, key, sizeof(key), &b);
	ist_buf_fini(&b);
	return r;
}

int ist_ledger_evidence_record_decode(const uint8_t *val, size_t len, struct ist_ledger_evidence_record *ret)
{
	struct ist_cur r;
	ist_cur_init(&r, val, len);
	struct ist_ledger_evidence_record x;
	memset(&x, 0, sizeof(x));
	ist_cur_get(&r, x.id, IST_HASH_BYTES);
	x.epoch = ist_cur_be64(&r);
	x.kind = ist_cur_u8(&r);
	ist_cur_get(&r, x.offender, IST_ED25519_PUBKEY_BYTES);
	x.slashed = ist_cur_be64(&r);
	x.ok = ist_cur_u8(&r) != 0;
	rdstr(&r, x.reason, sizeof(x.reason) - 1);
	if (!ist_cur_done(&r))
		return -IST_EDB_CORRUPT;
	*ret = x;
	return 0;
}

/* ---- epochs ---- */

static int by_stake(const void *a, const void *b)
{
	const struct ist_ledger_validator *x = *(struct ist_ledger_validator *const *)a;
	const struct ist_ledger_validator *y = *(struct ist_ledger_validator *const *)b;
	if (x->bonded != y->bonded)
		return x->bonded > y->bonded ? -1 : 1;
	return memcmp(x->node_key, y->node_key, IST_ED25519_PUBKEY_BYTES);
}

/* Jails the epoch's absentees and chooses the next set into l->next. */
static void choose_next(struct ist_ledger *l)
{
	struct ist_ledger_set *cur = &l->cur;
	/* liveness: judged on enough QCs (short epochs: half of them) */
	uint64_t min_qcs = IST_LEDGER_LIVENESS_MIN_QCS;
	if (l->p.epoch_length_blocks / 2 < min_qcs)
		min_qcs = l->p.epoch_length_blocks / 2 ? l->p.epoch_length_blocks / 2 : 1;
	for (uint32_t i = 0; i < cur->n; i++) {
		uint64_t total = (uint64_t)l->voted[i] + l->missed[i];
		if (total < min_qcs)
			continue;
		if ((uint64_t)l->missed[i] * 10000 <= (uint64_t)l->p.jail_missed_bps * total)
			continue;
		struct ist_ledger_validator *v = val_find(l, cur->node_keys[i]);
		if (v && !v->removed && !v->jailed) {
			v->jailed = true;
			v->jailed_epoch = cur->epoch;
		}
	}
	/* the next set */
	struct ist_ledger_validator *cand[IST_LEDGER_MAX_REGISTERED];
	size_t k = 0;
	for (size_t i = 0; i < l->n_vals; i++) {
		struct ist_ledger_validator *v = &l->vals[i];
		if (!v->jailed && !v->removed && v->bonded >= l->p.min_stake)
			cand[k++] = v;
	}
	qsort(cand, k, sizeof(cand[0]), by_stake);
	if (k > l->p.max_validators)
		k = l->p.max_validators;
	struct ist_ledger_set *next = &l->next;
	memset(next, 0, sizeof(*next));
	uint64_t total = 0;
	for (size_t i = 0; i < k; i++) {
		uint64_t t;
		if (!add_ok(total, cand[i]->bonded, &t))
			break;   /* cannot happen: the supply fits 64 bits */
		total = t;
		memcpy(next->node_keys[next->n], cand[i]->node_key, IST_ED25519_PUBKEY_BYTES);
		memcpy(next->attest_keys[next->n], cand[i]->attest_key, IST_SECP_PUBKEY_BYTES);
		next->stakes[next->n++] = cand[i]->bonded;
	}
	if (!next->n) {
		/* nobody qualifies: keep the set rather than stop the network */
		*next = *cur;
		next->has_group_key = false;
		next->late_key = false;
	}
	next->epoch = cur->epoch + 1;
	next->end_height = 0;
	set_total(next);
}

/* Ends the current epoch at `height`: l->next becomes current. */
static int switch_epoch(struct ist_ledger *l, uint64_t height)
{
	struct ist_ledger_set *cur = &l->cur, *next = &l->next;
	cur->end_height = height;
	next->start_height = height + 1;
	l->handover_pending = false;
	int r = pend_set(l, cur);
	if (r == 0)
		r = pend_set(l, next);
	if (r < 0)
		return r;
	/* keep the ended set */
	size_t keep = l->p.unbonding_epochs + 1;
	if (keep < IST_LEDGER_HISTORY_MIN)
		keep = IST_LEDGER_HISTORY_MIN;
	if (keep > HISTORY_MAX)
		keep = HISTORY_MAX;
	if (l->n_hist == keep) {
		memmove(&l->hist[0], &l->hist[1], (keep - 1) * sizeof(*l->hist));
		l->n_hist--;
	}
	l->hist[l->n_hist++] = *cur;
	*cur = *next;
	memset(l->voted, 0, sizeof(l->voted));
	memset(l->missed, 0, sizeof(l->missed));
	if (l->fl)
		ist_fl_prune(l->fl, cur->epoch ? cur->epoch - 1 : 0);
	return 0;
}

/* Starts a DKG for set `s` at `start`. False when it cannot run (a member
 * without a valid DKG key, too many members). */
static bool dkg_start(struct ist_ledger *l, const struct ist_ledger_set *s, bool handover, uint64_t start, int *ret)
{
	uint8_t (*nk)[32] = calloc(s->n ? s->n : 1, 32), (*ek)[32] = calloc(s->n ? s->n : 1, 32);
	*ret = 0;
	if (!nk || !ek) {
		free(nk);
		free(ek);
		*ret = -IST_ENOMEM;
		return false;
	}
	for (uint32_t i = 0; i < s->n; i++) {
		const struct ist_ledger_validator *v = val_find(l, s->node_keys[i]);
		memcpy(nk[i], s->node_keys[i], 32);
		if (v)
			memcpy(ek[i], v->dkg_key, 32);
	}
	int r = ist_fl_dkg_start(l->fl, s->epoch, handover, start, (uint16_t)(s->n > 65535 ? 65535 : s->n),
				 (const uint8_t (*)[32])nk, (const uint8_t (*)[32])ek);
	free(nk);
	free(ek);
	if (r == -IST_ENOMEM)
		*ret = r;
	return r == 0;
}

static bool has_checkpoints(const struct ist_block *b)
{
	for (size_t i = 0; i < b->n_items; i++)
		if (b->items[i].kind == IST_PAYLOAD_CHECKPOINT)
			return true;
	return false;
}

/* The pause events of block `height` as a record, for the store. */
static int pend_pauses(struct ist_ledger *l, uint64_t height)
{
	struct ist_gov_event ev[IST_GOV_MAX_BLOCK_EVENTS];
	size_t n = ist_gov_events_at(l->gov, height, ev, IST_GOV_MAX_BLOCK_EVENTS);
	if (!n)
		return 0;
	struct ist_buf b;
	uint8_t key[8];
	ist_buf_init(&b, 0);
	ist_gov_events_encode(ev, n, &b);
	ist_put_be64(key, height);
	int r = pend_add(l, IST_LEDGER_T_PAUSES, key, 8, &b);
	ist_buf_fini(&b);
	return r;
}

size_t ist_ledger_pause_leaves(const struct ist_ledger *l, uint64_t height, uint8_t (*leaves)[IST_HASH_BYTES])
{
	struct ist_gov_event ev[IST_GOV_MAX_BLOCK_EVENTS];
	size_t n = IST_MIN(ist_gov_events_at(l->gov, height, ev, IST_GOV_MAX_BLOCK_EVENTS),
			   (size_t)IST_GOV_MAX_BLOCK_EVENTS);
	ist_gov_event_leaves(ev, n, l->network_id, leaves);
	return n;
}

/* A signing job for block b of the current epoch when it has a group key. */
static int frost_job(struct ist_ledger *l, const struct ist_block *b, bool ends)
{
	uint8_t (*leaves)[IST_HASH_BYTES] = malloc((IST_GOV_MAX_BLOCK_EVENTS + 1) * IST_HASH_BYTES);
	if (!leaves)
		return -IST_ENOMEM;
	size_t n = ist_ledger_pause_leaves(l, b->height, leaves);
	if (!l->cur.has_group_key || (!ends && !has_checkpoints(b) && !n)) {
		free(leaves);
		return 0;
	}
	uint8_t root[IST_HASH_BYTES], digest[IST_HASH_BYTES];
	if (ends) {
		struct ist_valset *vs = malloc(sizeof(*vs));
		if (!vs) {
			free(leaves);
			return -IST_ENOMEM;
		}
		ist_ledger_set_valset(l->network_id, &l->next, vs);
		ist_handover_leaf_hash(vs, leaves[n++]);
		free(vs);
	}
	size_t count;
	int r = ist_wire_block_batch_root_leaves(b, (const uint8_t (*)[IST_HASH_BYTES])leaves, n, root, &count);
	free(leaves);
	if (r < 0)
		return r;
	ist_wire_attest_digest(l->network_id, l->cur.epoch, b->height, root, digest);
	return ist_fl_job_add(l->fl, l->cur.epoch, b->height, digest);
}

/* FROST after the items of block b (l->height already b->height); decides
 * whether the block ends its epoch. */
static int frost_step(struct ist_ledger *l, const struct ist_block *b, bool force_end, bool scheduled, bool *ret_ends)
{
	int r = 0;
	struct ist_fl_group *g = malloc(sizeof(*g));
	if (!g)
		return -IST_ENOMEM;
	enum ist_fl_step st = ist_fl_dkg_step(l->fl, b->height, g);
	if (st == IST_FL_DONE) {
		if ((r = ist_fl_group_set(l->fl, g)) < 0)
			goto out;
		struct ist_ledger_set *s = g->epoch == l->cur.epoch ? &l->cur
					   : l->handover_pending && g->epoch == l->next.epoch ? &l->next : NULL;
		if (s) {
			s->has_group_key = true;
			s->late_key = s == &l->cur;
			memcpy(s->group_key, g->group_key, 32);
			if (s == &l->cur && (r = pend_set(l, s)) < 0)
				goto out;
		}
	}
	bool ends = false;
	if (l->handover_pending) {
		if (force_end) {
			/* evidence ended the epoch: at once, without the next key */
			ist_fl_dkg_abort(l->fl);
			choose_next(l);
			ends = true;
		} else if (!ist_fl_dkg_get(l->fl)) {
			ends = true;   /* the next set's DKG finished, or failed */
		}
	} else if (force_end || scheduled) {
		choose_next(l);
		ends = true;
		if (!force_end) {
			bool ok = dkg_start(l, &l->next, true, b->height + 1, &r);
			if (r < 0)
				goto out;
			if (ok) {
				l->handover_pending = true;
				ends = false;
			}
		}
	}
	if ((r = frost_job(l, b, ends)) < 0)
		goto out;
	*ret_ends = ends;
out:
	free(g);
	return r;
}

int ist_ledger_apply_block(struct ist_ledger *l, const struct ist_block *b, const uint8_t id32[IST_HASH_BYTES],
			   struct ist_ledger_outcome *ret)
{
	(void)id32;
	memset(ret, 0, sizeof(*ret));
	if (b->height != l->height + 1)
		return -IST_EINVAL;
	/* who voted for the parent (the epoch's own QCs; its genesis QC has no
	 * signature) */
	if (b->justify.epoch == l->cur.epoch && b->justify.n_sigs > 0)
		for (uint32_t i = 0; i < l->cur.n; i++) {
			if (b->justify.signers[i / 8] & (1u << (i % 8)))
				l->voted[i]++;
			else
				l->missed[i]++;
		}
	bool force_end = false;
	int r = 0;
	for (size_t i = 0; i < b->n_items && r == 0; i++) {
		const struct ist_payload_item *it = &b->items[i];
		if (it->kind == IST_PAYLOAD_TRANSACTION) {
			bool failed;
			r = apply_tx(l, &it->u.tx, b->height, (uint32_t)i, &failed);
			ret->n_txs++;
			ret->n_failed += failed;
		} else if (it->kind == IST_PAYLOAD_EVIDENCE) {
			bool in_set;
			r = apply_evidence(l, it->u.opaque.data, it->u.opaque.len, b->height, (uint32_t)i, &in_set);
			ret->n_evidence++;
			force_end |= in_set;
		} else if (l->fl && (it->kind == IST_PAYLOAD_DKG || it->kind == IST_PAYLOAD_NONCE_COMMITMENTS)) {
			r = ist_fl_apply_item(l->fl, it->kind == IST_PAYLOAD_NONCE_COMMITMENTS, it->u.opaque.data,
					      it->u.opaque.len, b->height, NULL);
		}
	}
	if (r < 0)
		return r;
	l->height = b->height;
	l->state_dirty = true;
	/* governance before the epoch's end and FROST: the pauses this block
	 * made are leaves of its batch tree */
	for (size_t i = 0; i < b->n_items; i++)
		if (b->items[i].kind == IST_PAYLOAD_CHECKPOINT) {
			const struct ist_checkpoint *cp = &b->items[i].u.checkpoint;
			ist_gov_checkpoint(l->gov, cp->src_chain, cp->dst_chain, cp->src_height, cp->tree_size);
		}
	struct ist_gov_set set = gov_set(l);
	ist_gov_step(l->gov, b->height, &set);
	ist_breaker_step(l->brk, l->gov, b->height, &set);
	gov_params(l);
	if ((r = pend_pauses(l, b->height)) < 0)
		return r;
	bool scheduled = b->height >= l->cur.start_height + l->p.epoch_length_blocks - 1;
	bool ends = force_end || scheduled;
	if (l->fl) {
		if ((r = frost_step(l, b, force_end, scheduled, &ends)) < 0)
			return r;
	} else if (ends) {
		choose_next(l);
	}
	if (ends) {
		if ((r = switch_epoch(l, b->height)) < 0)
			return r;
		ret->epoch_ended = true;
		ret->next = &l->cur;
	}
	if (l->fl) {
		/* an epoch without a key makes one for itself, once */
		if (!l->handover_pending && !l->cur.has_group_key && !ist_fl_dkg_get(l->fl) &&
		    l->dkg_tried != l->cur.epoch + 1) {
			l->dkg_tried = l->cur.epoch + 1;
			dkg_start(l, &l->cur, false, b->height + 1, &r);
			if (r < 0)
				return r;
		}
		ist_fl_jobs_step(l->fl, b->height);
	}
	return 0;
}

/* ---- persistence ---- */

static void put_state(const struct ist_ledger *l, struct ist_buf *b)
{
	uint8_t v = STATE_VERSION;
	ist_buf_put(b, &v, 1);
	ist_buf_put_be64(b, l->height);
	ist_buf_put_be32(b, (uint32_t)l->n_vals);
	for (size_t i = 0; i < l->n_vals; i++) {
		const struct ist_ledger_validator *x = &l->vals[i];
		ist_buf_put(b, x->node_key, IST_ED25519_PUBKEY_BYTES);
		ist_buf_put(b, x->operator_key, IST_ED25519_PUBKEY_BYTES);
		ist_buf_put(b, x->attest_key, IST_SECP_PUBKEY_BYTES);
		ist_buf_put(b, x->dkg_key, IST_X25519_PUBKEY_BYTES);
		putstr(b, x->name);
		putstr(b, x->address);
		ist_buf_put_be32(b, x->commission_bps);
		ist_buf_put_be64(b, x->bonded);
		ist_buf_put_be64(b, x->slashed);
		uint8_t f = (x->jailed ? 1 : 0) | (x->removed ? 2 : 0);
		ist_buf_put(b, &f, 1);
		ist_buf_put_be64(b, x->jailed_epoch);
	}
	ist_buf_put_be32(b, (uint32_t)l->n_bonds);
	for (size_t i = 0; i < l->n_bonds; i++) {
		ist_buf_put(b, l->bonds[i].validator, IST_ED25519_PUBKEY_BYTES);
		ist_buf_put(b, l->bonds[i].delegator, IST_ED25519_PUBKEY_BYTES);
		ist_buf_put_be64(b, l->bonds[i].amount);
	}
	ist_buf_put_be32(b, (uint32_t)l->n_unb);
	for (size_t i = 0; i < l->n_unb; i++) {
		ist_buf_put(b, l->unb[i].validator, IST_ED25519_PUBKEY_BYTES);
		ist_buf_put(b, l->unb[i].delegator, IST_ED25519_PUBKEY_BYTES);
		ist_buf_put_be64(b, l->unb[i].amount);
		ist_buf_put_be64(b, l->unb[i].release_epoch);
	}
	put_set(b, &l->cur);
	for (uint32_t i = 0; i < l->cur.n; i++) {
		ist_buf_put_be32(b, l->voted[i]);
		ist_buf_put_be32(b, l->missed[i]);
	}
	ist_buf_put_be32(b, (uint32_t)l->n_hist);
	for (size_t i = 0; i < l->n_hist; i++)
		put_set(b, &l->hist[i]);
	ist_buf_put_u8(b, l->handover_pending);
	if (l->handover_pending)
		put_set(b, &l->next);
	ist_buf_put_be64(b, l->dkg_tried);
}

/* Writes one record (key: the name) from b, which it finalises. */
static int put_record(const struct ist_ledger_sink *sink, enum ist_ledger_table t, const char *name, struct ist_buf *b)
{
	int r = ist_buf_err(b);
	if (r == 0)
		r = sink->put(sink->ctx, t, (const uint8_t *)name, strlen(name), b->data, b->len);
	ist_buf_fini(b);
	return r;
}

int ist_ledger_flush(const struct ist_ledger *l, const struct ist_ledger_sink *sink)
{
	int r = 0;
	if (l->state_dirty) {
		struct ist_buf b;
		ist_buf_init(&b, 0);
		put_state(l, &b);
		if ((r = put_record(sink, IST_LEDGER_T_STATE, "state", &b)) < 0)
			return r;
	}
	for (size_t i = 0; i < l->n_accts; i++) {
		const struct ist_ledger_account *a = &l->accts[i];
		if (!a->dirty)
			continue;
		uint8_t v[16];
		ist_put_be64(v, a->balance);
		ist_put_be64(v + 8, a->nonce);
		if ((r = sink->put(sink->ctx, IST_LEDGER_T_ACCOUNT, a->key, IST_ED25519_PUBKEY_BYTES, v, sizeof(v))) < 0)
			return r;
	}
	if (ist_gov_dirty(l->gov)) {
		struct ist_buf b;
		ist_buf_init(&b, 0);
		ist_gov_encode(l->gov, &b);
		if ((r = put_record(sink, IST_LEDGER_T_GOV, "gov", &b)) < 0)
			return r;
	}
	if (ist_gov_routes_dirty(l->gov)) {
		struct ist_buf b;
		ist_buf_init(&b, 0);
		ist_gov_routes_encode(l->gov, &b);
		if ((r = put_record(sink, IST_LEDGER_T_GOV_ROUTES, "routes", &b)) < 0)
			return r;
	}
	if (ist_breaker_dirty(l->brk)) {
		struct ist_buf b;
		ist_buf_init(&b, 0);
		ist_breaker_encode(l->brk, &b);
		if ((r = put_record(sink, IST_LEDGER_T_BREAKER, "breaker", &b)) < 0)
			return r;
	}
	if (l->fl && ist_fl_dirty(l->fl)) {
		struct ist_buf b;
		ist_buf_init(&b, 0);
		ist_fl_encode(l->fl, &b);
		if ((r = put_record(sink, IST_LEDGER_T_FROST, "frost", &b)) < 0)
			return r;
	}
	for (size_t i = 0; i < l->n_pend; i++)
		if ((r = sink->put(sink->ctx, l->pend[i].t, l->pend[i].key, l->pend[i].klen, l->pend[i].val,
				   l->pend[i].vlen)) < 0)
			return r;
	return 0;
}

void ist_ledger_flushed(struct ist_ledger *l)
{
	l->state_dirty = false;
	if (l->fl)
		ist_fl_clean(l->fl);
	ist_gov_clean(l->gov);
	ist_breaker_clean(l->brk);
	for (size_t i = 0; i < l->n_accts; i++)
		l->accts[i].dirty = false;
	for (size_t i = 0; i < l->n_pend; i++)
		free(l->pend[i].val);
	l->n_pend = 0;
}

int ist_ledger_load_state(struct ist_ledger *l, const uint8_t *val, size_t len)
{
	struct ist_cur r;
	ist_cur_init(&r, val, len);
	if (ist_cur_u8(&r) != STATE_VERSION)
		return -IST_EDB_CORRUPT;
	uint64_t height = ist_cur_be64(&r);
	uint32_t nv = ist_cur_be32(&r);
	if (r.failed || nv > IST_LEDGER_MAX_REGISTERED)
		return -IST_EDB_CORRUPT;
	struct ist_ledger_validator *vals = calloc(IST_LEDGER_MAX_REGISTERED, sizeof(*vals));
	struct ist_ledger_bond *bonds = NULL;
	struct ist_ledger_unbonding *unb = NULL;
	struct ist_ledger_set *hist = calloc(HISTORY_MAX, sizeof(*hist));
	struct ist_ledger_set *cur = calloc(1, sizeof(*cur));
	int rc = -IST_ENOMEM;
	if (!vals || !hist || !cur)
		goto fail;
	rc = -IST_EDB_CORRUPT;
	for (uint32_t i = 0; i < nv && !r.failed; i++) {
		struct ist_ledger_validator *x = &vals[i];
		ist_cur_get(&r, x->node_key, IST_ED25519_PUBKEY_BYTES);
		ist_cur_get(&r, x->operator_key, IST_ED25519_PUBKEY_BYTES);
		ist_cur_get(&r, x->attest_key, IST_SECP_PUBKEY_BYTES);
		ist_cur_get(&r, x->dkg_key, IST_X25519_PUBKEY_BYTES);
		rdstr(&r, x->name, IST_LEDGER_NAME_MAX);
		rdstr(&r, x->address, IST_LEDGER_ADDRESS_MAX);
		x->commission_bps = ist_cur_be32(&r);
		x->bonded = ist_cur_be64(&r);
		x->slashed = ist_cur_be64(&r);
		uint8_t f = ist_cur_u8(&r);
		x->jailed = f & 1;
		x->removed = (f & 2) != 0;
		x->jailed_epoch = ist_cur_be64(&r);
	}
	uint32_t nb = ist_cur_be32(&r);
	if (r.failed || nb > IST_LEDGER_MAX_ENTRIES)
		goto fail;
	rc = -IST_ENOMEM;
	if (nb && !(bonds = calloc(nb, sizeof(*bonds))))
		goto fail;
	rc = -IST_EDB_CORRUPT;
	for (uint32_t i = 0; i < nb && !r.failed; i++) {
		ist_cur_get(&r, bonds[i].validator, IST_ED25519_PUBKEY_BYTES);
		ist_cur_get(&r, bonds[i].delegator, IST_ED25519_PUBKEY_BYTES);
		bonds[i].amount = ist_cur_be64(&r);
	}
	uint32_t nu = ist_cur_be32(&r);
	if (r.failed || nu > IST_LEDGER_MAX_ENTRIES)
		goto fail;
	rc = -IST_ENOMEM;
	if (nu && !(unb = calloc(nu, sizeof(*unb))))
		goto fail;
	rc = -IST_EDB_CORRUPT;
	for (uint32_t i = 0; i < nu && !r.failed; i++) {
		ist_cur_get(&r, unb[i].validator, IST_ED25519_PUBKEY_BYTES);
		ist_cur_get(&r, unb[i].delegator, IST_ED25519_PUBKEY_BYTES);
		unb[i].amount = ist_cur_be64(&r);
		unb[i].release_epoch = ist_cur_be64(&r);
	}
	rd_set(&r, cur);
	uint32_t voted[IST_WIRE_MAX_VALIDATORS] = { 0 }, missed[IST_WIRE_MAX_VALIDATORS] = { 0 };
	for (uint32_t i = 0; i < cur->n && !r.failed; i++) {
		voted[i] = ist_cur_be32(&r);
		missed[i] = ist_cur_be32(&r);
	}
	uint32_t nh = ist_cur_be32(&r);
	if (r.failed || nh > HISTORY_MAX)
		goto fail;
	for (uint32_t i = 0; i < nh && !r.failed; i++)
		rd_set(&r, &hist[i]);
	bool pending = ist_cur_u8(&r) != 0;
	if (pending)
		rd_set(&r, &l->next);
	uint64_t tried = ist_cur_be64(&r);
	if (!ist_cur_done(&r) || !cur->n)
		goto fail;
	l->handover_pending = pending;
	l->dkg_tried = tried;
	free(l->vals);
	free(l->bonds);
	free(l->unb);
	free(l->hist);
	l->vals = vals;
	l->n_vals = nv;
	l->bonds = bonds;
	l->n_bonds = l->cap_bonds = nb;
	l->unb = unb;
	l->n_unb = l->cap_unb = nu;
	l->hist = hist;
	l->n_hist = nh;
	l->cur = *cur;
	free(cur);
	memcpy(l->voted, voted, sizeof(voted));
	memcpy(l->missed, missed, sizeof(missed));
	l->height = height;
	l->state_dirty = false;
	for (size_t i = 0; i < l->n_accts; i++)
		l->accts[i].dirty = false;
	for (size_t i = 0; i < l->n_pend; i++)
		free(l->pend[i].val);
	l->n_pend = 0;
	return 0;
fail:
	free(vals);
	free(bonds);
	free(unb);
	free(hist);
	free(cur);
	return rc;
}

int ist_ledger_load_gov_routes(struct ist_ledger *l, const uint8_t *val, size_t len)
{
	return ist_gov_routes_decode(l->gov, val, len);
}

int ist_ledger_load_gov(struct ist_ledger *l, const uint8_t *val, size_t len)
{
	int r = ist_gov_decode(l->gov, val, len);
	if (r == 0)
		gov_params(l);
	return r;
}

int ist_ledger_load_breaker(struct ist_ledger *l, const uint8_t *val, size_t len)
{
	return ist_breaker_decode(l->brk, val, len);
}

int ist_ledger_load_frost(struct ist_ledger *l, const uint8_t *val, size_t len)
{
	if (!l->fl)
		return 0;   /* FROST off: a record left by no genesis of ours */
	return ist_fl_decode(l->fl, val, len);
}

int ist_ledger_load_account(struct ist_ledger *l, const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen)
{
	if (klen != IST_ED25519_PUBKEY_BYTES || vlen != 16)
		return -IST_EDB_CORRUPT;
	struct ist_ledger_account *a = acct_get(l, key, true);
	if (!a)
		return -IST_ENOMEM;
	a->balance = ist_get_be64(val);
	a->nonce = ist_get_be64(val + 8);
	a->dirty = false;
	return 0;
}
