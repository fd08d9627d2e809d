/*
 * The ledger's API routes (docs/api.md, "Ledger and staking"):
 *
 *   GET /v1/accounts/{key}     balance, nonce, bonds, unbonding entries
 *   GET /v1/txs/{id}           pending (in this node's mempool) or committed, with its result
 *   GET /v1/staking            the parameters and every registered validator
 *   GET /v1/validators?epoch=N the set of an epoch (isthmus-validator-set/v1)
 *   GET /v1/epochs             the current epoch
 *   GET /v1/epochs/{n}[?scheme=S] an epoch's set and its hand-over certificate (of scheme S:
 *                              multisig-secp256k1, the default, or frost-ed25519)
 *   GET /v1/evidence           evidence the ledger judged
 *   GET /v1/gov/pauses[?scheme=S] the recent pauses and resumes, each with its leaf, its
 *                              inclusion proof and its block's certificate
 *
 * API threads: the ledger is read under n->ledger_mu, the store in the
 * caller's read transaction.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "common/bytes.h"
#include "common/err.h"
#include "common/json.h"
#include "crypto/merkle.h"
#include "node/internal.h"
#include "node/ledger.h"
#include "state/breaker.h"
#include "state/evidence.h"
#include "state/frost_ledger.h"
#include "state/gov.h"
#include "storage/attest.h"
#include "storage/blocks.h"
#include "wire/canonical.h"
#include "wire/codec.h"

#define MAX_EVIDENCE 256

static void put_hexf(struct ist_buf *b, const char *name, const uint8_t *p, size_t len)
{
	ist_node_json_hex(b, name, p, len);
}

/* ---- accounts and transactions ---- */

static int get_account(struct ist_node *n, const char *hex, struct ist_buf *out)
{
	uint8_t key[IST_ED25519_PUBKEY_BYTES];
	if (strlen(hex) != 2 * sizeof(key) || ist_hex_decode(hex, key, sizeof(key)) < 0)
		return ist_node_reason(out, -IST_EINVAL, "the account must be 64 hex digits (an Ed25519 public key)");
	pthread_mutex_lock(&n->ledger_mu);
	const struct ist_ledger *l = n->ledger;
	const struct ist_ledger_account *a = ist_ledger_account(l, key);
	ist_buf_puts(out, "{");
	put_hexf(out, "key", key, sizeof(key));
	ist_buf_putf(out, ",\"balance\":\"%" PRIu64 "\",\"nonce\":\"%" PRIu64 "\",\"validator\":", a ? a->balance : 0,
		     a ? a->nonce : 0);
	const struct ist_ledger_validator *op = ist_ledger_validator_by_operator(l, key);
	if (op) {
		ist_buf_puts(out, "\"");
		ist_buf_put_hex(out, op->node_key, IST_ED25519_PUBKEY_BYTES);
		ist_buf_puts(out, "\"");
	} else {
		ist_buf_puts(out, "null");
	}
	ist_buf_puts(out, ",\"bonds\":[");
	bool first = true;
	for (size_t i = 0; i < ist_ledger_n_bonds(l); i++) {
		const struct ist_ledger_bond *b = ist_ledger_bond_at(l, i);
		if (memcmp(b->delegator, key, sizeof(key)) != 0)
			continue;
		ist_buf_puts(out, first ? "{" : ",{");
		put_hexf(out, "validator", b->validator, IST_ED25519_PUBKEY_BYTES);
		ist_buf_putf(out, ",\"amount\":\"%" PRIu64 "\"}", b->amount);
		first = false;
	}
	ist_buf_puts(out, "],\"unbonding\":[");
	first = true;
	for (size_t i = 0; i < ist_ledger_n_unbonding(l); i++) {
		const struct ist_ledger_unbonding *u = ist_ledger_unbonding_at(l, i);
		if (memcmp(u->delegator, key, sizeof(key)) != 0)
			continue;
		ist_buf_puts(out, first ? "{" : ",{");
		put_hexf(out, "validator", u->validator, IST_ED25519_PUBKEY_BYTES);
		ist_buf_putf(out, ",\"amount\":\"%" PRIu64 "\",\"release_epoch\":%" PRIu64 "}", u->amount,
			     u->release_epoch);
		first = false;
	}
	ist_buf_putf(out, "],\"epoch\":%" PRIu64 "}", ist_ledger_current(l)->epoch);
	pthread_mutex_unlock(&n->ledger_mu);
	return 0;
}

static void put_json_str(struct ist_buf *b, const char *s)
{
	json_t *j = json_string(s);
	char *t = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	ist_buf_puts(b, t ? t : "\"\"");
	free(t);
	json_decref(j);
}

static int get_tx(struct ist_node *n, struct ist_txn *txn, const char *hex, struct ist_buf *out)
{
	uint8_t id[IST_HASH_BYTES + 1];
	if (strlen(hex) != 2 * IST_HASH_BYTES || ist_hex_decode(hex, id + 1, IST_HASH_BYTES) < 0)
		return ist_node_reason(out, -IST_EINVAL, "the transaction id must be 64 hex digits");
	id[0] = 't';
	const uint8_t *v;
	size_t vlen;
	int r = ist_store_get(txn, IST_STORE_DB_ACCOUNTS, id, sizeof(id), &v, &vlen);
	if (r == -IST_ENOTFOUND) {
		if (!ist_mempool_has(n->mempool, id + 1))
			return ist_node_reason(out, -IST_ENOTFOUND, "no such transaction: not committed, and not waiting "
					       "in this node's mempool");
		ist_buf_puts(out, "{");
		put_hexf(out, "id", id + 1, IST_HASH_BYTES);
		ist_buf_puts(out, ",\"status\":\"pending\"}");
		return 0;
	}
	if (r < 0)
		return r;
	struct ist_ledger_receipt rc;
	if ((r = ist_ledger_receipt_decode(v, vlen, &rc)) < 0)
		return r;
	ist_buf_puts(out, "{");
	put_hexf(out, "id", id + 1, IST_HASH_BYTES);
	ist_buf_putf(out, ",\"status\":\"committed\",\"height\":%" PRIu64 ",\"index\":%" PRIu32 ",\"kind\":\"%s\",",
		     rc.height, rc.index, ist_ledger_tx_kind_name(rc.kind));
	put_hexf(out, "sender", rc.sender, IST_ED25519_PUBKEY_BYTES);
	ist_buf_putf(out, ",\"nonce\":\"%" PRIu64 "\",\"result\":\"%s\"", rc.nonce, rc.ok ? "ok" : "failed");
	if (rc.proposal)
		ist_buf_putf(out, ",\"proposal\":%" PRIu64, rc.proposal);
	if (!rc.ok) {
		ist_buf_puts(out, ",\"reason\":");
		put_json_str(out, rc.reason);
	}
	ist_buf_puts(out, "}");
	return 0;
}

/* ---- staking ---- */

static void put_opt_u64(struct ist_buf *b, const char *name, bool has, uint64_t v)
{
	if (has)
		ist_buf_putf(b, ",\"%s\":%" PRIu64, name, v);
	else
		ist_buf_putf(b, ",\"%s\":null", name);
}

static int get_staking(struct ist_node *n, struct ist_buf *out)
{
	pthread_mutex_lock(&n->ledger_mu);
	const struct ist_ledger *l = n->ledger;
	const struct ist_ledger_params *p = ist_ledger_params_get(l);
	const struct ist_ledger_set *cur = ist_ledger_current(l);
	ist_buf_putf(out, "{\"epoch\":%" PRIu64 ",\"epoch_start_height\":%" PRIu64 ",\"epoch_length_blocks\":%" PRIu64
		     ",\"height\":%" PRIu64 ",\"params\":{\"max_validators\":%" PRIu32 ",\"min_stake\":\"%" PRIu64
		     "\",\"unbonding_epochs\":%" PRIu64 ",\"slash_fraction_bps\":%" PRIu32 ",\"jail_missed_bps\":%" PRIu32
		     ",\"jail_cooldown_epochs\":%" PRIu64 "},\"validators\":[",
		     cur->epoch, cur->start_height, p->epoch_length_blocks, ist_ledger_height(l), p->max_validators,
		     p->min_stake, p->unbonding_epochs, p->slash_fraction_bps, p->jail_missed_bps, p->jail_cooldown_epochs);
	for (size_t i = 0; i < ist_ledger_n_validators(l); i++) {
		const struct ist_ledger_validator *v = ist_ledger_validator_at(l, i);
		ist_buf_puts(out, i ? ",{" : "{");
		put_hexf(out, "node_key", v->node_key, IST_ED25519_PUBKEY_BYTES);
		ist_buf_puts(out, ",");
		put_hexf(out, "operator", v->operator_key, IST_ED25519_PUBKEY_BYTES);
		ist_buf_puts(out, ",\"name\":");
		if (v->name[0])
			put_json_str(out, v->name);
		else
			ist_buf_puts(out, "null");
		ist_buf_puts(out, ",");
		put_hexf(out, "attestation_key", v->attest_key, IST_SECP_PUBKEY_BYTES);
		ist_buf_puts(out, ",");
		put_hexf(out, "dkg_key", v->dkg_key, IST_X25519_PUBKEY_BYTES);
		ist_buf_puts(out, ",\"address\":");
		put_json_str(out, v->address);
		ist_buf_putf(out, ",\"commission_bps\":%" PRIu32 ",\"bonded\":\"%" PRIu64 "\",\"status\":\"%s\"",
			     v->commission_bps, v->bonded, ist_ledger_status_name(ist_ledger_validator_status(l, v)));
		put_opt_u64(out, "jailed_epoch", v->jailed, v->jailed_epoch);
		put_opt_u64(out, "unjail_epoch", v->jailed, v->jailed_epoch + p->jail_cooldown_epochs);
		ist_buf_putf(out, ",\"slashed\":\"%" PRIu64 "\"}", v->slashed);
	}
	ist_buf_puts(out, "]}");
	pthread_mutex_unlock(&n->ledger_mu);
	return 0;
}

/* The set in isthmus-validator-set/v1 with the fields for people. */
static void put_valset(struct ist_node *n, struct ist_buf *out, const struct ist_ledger_set *s)
{
	ist_buf_putf(out, "{\"format\":\"isthmus-validator-set/v1\",\"network_id\":\"%" PRIu64 "\",\"epoch\":\"%" PRIu64
		     "\",\"total_stake\":\"%" PRIu64 "\",\"validators\":[", n->g.network_id, s->epoch, s->total);
	pthread_mutex_lock(&n->ledger_mu);
	for (uint32_t i = 0; i < s->n; i++) {
		const struct ist_ledger_validator *v = ist_ledger_validator_find(n->ledger, s->node_keys[i]);
		ist_buf_putf(out, "%s{\"index\":%" PRIu32 ",\"name\":", i ? "," : "", i);
		put_json_str(out, v && v->name[0] ? v->name : "");
		ist_buf_puts(out, ",");
		put_hexf(out, "node_key", s->node_keys[i], IST_ED25519_PUBKEY_BYTES);
		ist_buf_puts(out, ",");
		put_hexf(out, "attestation_key", s->attest_keys[i], IST_SECP_PUBKEY_BYTES);
		uint8_t addr[IST_ETH_ADDRESS_BYTES];
		char a[43] = "";
		if (ist_secp_eth_address(s->attest_keys[i], addr) == 0)
			ist_eth_address_format(addr, a);
		ist_buf_putf(out, ",\"attestation_address\":\"%s\",\"stake\":\"%" PRIu64 "\"}", a, s->stakes[i]);
	}
	pthread_mutex_unlock(&n->ledger_mu);
	ist_buf_puts(out, "]");
	/* the FROST group key once the epoch's key generation formed it: part
	 * of the set a destination trusts (and of the hand-over leaf; a key
	 * made late, after the hand-over, is not: ist_ledger_set_valset) */
	if (ist_ledger_set_key_public(s)) {
		ist_buf_puts(out, ",");
		put_hexf(out, "group_key", s->group_key, IST_ED25519_PUBKEY_BYTES);
	}
	ist_buf_puts(out, "}");
}

static uint64_t current_epoch(struct ist_node *n)
{
	pthread_mutex_lock(&n->ledger_mu);
	uint64_t e = ist_ledger_current(n->ledger)->epoch;
	pthread_mutex_unlock(&n->ledger_mu);
	return e;
}

static int read_set(struct ist_txn *txn, uint64_t epoch, struct ist_ledger_set **ret, struct ist_buf *out)
{
	struct ist_ledger_set *s = malloc(sizeof(*s));
	if (!s)
		return -IST_ENOMEM;
	int r = ist_node_epoch_set_read(txn, epoch, s);
	if (r == -IST_ENOTFOUND) {
		free(s);
		return ist_node_reason(out, r, "epoch %" PRIu64 " has not started", epoch);
	}
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int ist_node_get_validators(struct ist_node *n, struct ist_txn *txn, const char *query, struct ist_buf *out)
{
	char tmp[32];
	bool present = false;
	uint64_t epoch;
	if (ist_http_query_get(query, "epoch", tmp, sizeof(tmp), &present)) {
		if (!ist_json_decimal_u64(tmp, &epoch))
			return ist_node_reason(out, -IST_EINVAL, "epoch must be a decimal integer");
	} else if (present) {
		return ist_node_reason(out, -IST_EINVAL, "epoch must be a decimal integer");
	} else {
		epoch = current_epoch(n);
	}
	struct ist_ledger_set *s = NULL;
	int r = read_set(txn, epoch, &s, out);
	if (r < 0)
		return r;
	put_valset(n, out, s);
	free(s);
	return 0;
}

static int get_epochs(struct ist_node *n, struct ist_buf *out)
{
	pthread_mutex_lock(&n->ledger_mu);
	const struct ist_ledger_set *cur = ist_ledger_current(n->ledger);
	ist_buf_putf(out, "{\"current\":%" PRIu64 ",\"start_height\":%" PRIu64 ",\"epoch_length_blocks\":%" PRIu64
		     ",\"height\":%" PRIu64 "}", cur->epoch, cur->start_height,
		     ist_ledger_params_get(n->ledger)->epoch_length_blocks, ist_ledger_height(n->ledger));
	pthread_mutex_unlock(&n->ledger_mu);
	return 0;
}

static int get_epoch(struct ist_node *n, struct ist_txn *txn, uint64_t epoch, const char *query, struct ist_buf *out)
{
	enum ist_cert_scheme scheme;
	int r = ist_node_query_scheme(query, out, &scheme);
	if (r < 0)
		return r;
	struct ist_ledger_set *s = NULL;
	if ((r = read_set(txn, epoch, &s, out)) < 0)
		return r;
	ist_buf_putf(out, "{\"epoch\":%" PRIu64 ",\"start_height\":%" PRIu64 ",", epoch, s->start_height);
	if (s->end_height)
		ist_buf_putf(out, "\"end_height\":%" PRIu64 ",", s->end_height);
	else
		ist_buf_puts(out, "\"end_height\":null,");
	ist_buf_puts(out, "\"validator_set\":");
	put_valset(n, out, s);
	ist_buf_puts(out, ",\"handover\":");
	uint64_t h = s->start_height - 1;
	free(s);
	if (epoch == 0) {
		ist_buf_puts(out, "null}");
		return 0;
	}
	uint8_t leaf[IST_HASH_BYTES];
	struct ist_inclusion_proof *proof = malloc(sizeof(*proof));
	if (!proof)
		return -IST_ENOMEM;
	if ((r = ist_node_batch_proof(n, txn, h, IST_NODE_HANDOVER_INDEX, proof, leaf, NULL)) < 0) {
		free(proof);
		return r;
	}
	ist_buf_putf(out, "{\"height\":%" PRIu64 ",", h);
	put_hexf(out, "leaf", leaf, IST_HASH_BYTES);
	ist_buf_puts(out, ",\"proof\":");
	ist_node_json_proof(out, proof);
	ist_buf_puts(out, ",\"certificate\":");
	free(proof);
	const uint8_t *cv;
	size_t clen;
	r = ist_node_certificate_get(txn, scheme, h, &cv, &clen);
	if (r == 0) {
		ist_buf_puts(out, "\"");
		ist_buf_put_hex(out, cv, clen);
		ist_buf_puts(out, "\"}}");
	} else if (r == -IST_ENOTFOUND) {
		ist_buf_puts(out, "null}}");
	} else {
		return r;
	}
	return 0;
}

static void put_limits(struct ist_buf *out, const struct ist_gov_limits *l)
{
	ist_buf_putf(out, "{\"window_blocks\":\"%" PRIu64 "\",\"max_count\":\"%" PRIu64 "\",\"max_value\":\"%" PRIu64
		     "\",\"high_value\":\"%" PRIu64 "\",\"delay_blocks\":\"%" PRIu64 "\"}", l->window_blocks, l->max_count,
		     l->max_value, l->high_value, l->delay_blocks);
}

static void put_proposal(struct ist_buf *out, const struct ist_gov_proposal *p)
{
	ist_buf_putf(out, "{\"id\":%" PRIu64 ",\"action\":\"%s\",", p->id, ist_gov_action_name(p->action));
	if (p->action == IST_GOV_PAUSE_CHAIN || p->action == IST_GOV_RESUME_CHAIN)
		ist_buf_putf(out, "\"chain\":\"%" PRIu64 "\",", p->chain);
	else if (p->action == IST_GOV_SET_PARAM)
		ist_buf_putf(out, "\"param\":\"%s\",\"value\":\"%" PRIu64 "\",", ist_gov_param_name(p->param),
			     p->param_value);
	else
		ist_buf_putf(out, "\"src_chain\":\"%" PRIu64 "\",\"dst_chain\":\"%" PRIu64 "\",", p->src, p->dst);
	if (p->action == IST_GOV_SET_ROUTE_LIMITS) {
		ist_buf_puts(out, "\"limits\":");
		put_limits(out, &p->limits);
		ist_buf_puts(out, ",");
	} else if (p->action == IST_GOV_RELEASE_HELD) {
		ist_buf_putf(out, "\"release_through\":\"%" PRIu64 "\",", p->release_through);
	}
	put_hexf(out, "proposer", p->proposer, 32);
	ist_buf_putf(out, ",\"status\":\"%s\",\"created\":%" PRIu64 ",\"closes\":%" PRIu64 ",",
		     ist_gov_status_name(p->status), p->created, p->closes);
	if (p->status == IST_GOV_OPEN)
		ist_buf_puts(out, "\"decided\":null,");
	else
		ist_buf_putf(out, "\"decided\":%" PRIu64 ",", p->decided);
	ist_buf_putf(out, "\"yes_stake\":\"%" PRIu64 "\",\"total_stake\":\"%" PRIu64 "\",\"votes\":[", p->yes_stake,
		     p->total_stake);
	for (uint16_t v = 0; v < p->n_votes; v++) {
		ist_buf_puts(out, v ? ",{" : "{");
		put_hexf(out, "validator", p->votes[v].validator, 32);
		ist_buf_putf(out, ",\"approve\":%s}", p->votes[v].approve ? "true" : "false");
	}
	ist_buf_puts(out, "]}");
}

/* GET /v1/gov: what is paused, and the proposals (newest first);
 * /v1/gov/proposals/{id}: one. */
static int get_gov(struct ist_node *n, const char *id_text, struct ist_buf *out)
{
	uint64_t id = 0;
	if (id_text && !ist_json_decimal_u64(id_text, &id))
		return ist_node_reason(out, -IST_EINVAL, "a proposal number is a decimal integer");
	pthread_mutex_lock(&n->ledger_mu);
	const struct ist_gov *g = ist_ledger_gov(n->ledger);
	int r = 0;
	if (id_text) {
		const struct ist_gov_proposal *p = ist_gov_proposal_get(g, id);
		if (p)
			put_proposal(out, p);
		else
			r = ist_node_reason(out, -IST_ENOTFOUND, "no proposal %" PRIu64 " (or too old to be kept)", id);
		pthread_mutex_unlock(&n->ledger_mu);
		return r;
	}
	const uint64_t *chains;
	const struct ist_gov_route *routes;
	size_t nc = ist_gov_paused_chains(g, &chains), nr = ist_gov_paused_routes(g, &routes);
	ist_buf_puts(out, "{\"paused_chains\":[");
	for (size_t i = 0; i < nc; i++)
		ist_buf_putf(out, "%s\"%" PRIu64 "\"", i ? "," : "", chains[i]);
	ist_buf_puts(out, "],\"paused_routes\":[");
	for (size_t i = 0; i < nr; i++)
		ist_buf_putf(out, "%s{\"src_chain\":\"%" PRIu64 "\",\"dst_chain\":\"%" PRIu64 "\"}", i ? "," : "",
			     routes[i].src, routes[i].dst);
	ist_buf_puts(out, "],\"route_limits\":[");
	const struct ist_gov_route_state *rs;
	size_t nrs = ist_gov_routes(g, &rs), k = 0;
	for (size_t i = 0; i < nrs; i++) {
		if (!rs[i].limited && !rs[i].released)
			continue;
		ist_buf_putf(out, "%s{\"src_chain\":\"%" PRIu64 "\",\"dst_chain\":\"%" PRIu64 "\",\"limits\":",
			     k++ ? "," : "", rs[i].src, rs[i].dst);
		if (rs[i].limited)
			put_limits(out, &rs[i].lim);
		else
			ist_buf_puts(out, "null");
		ist_buf_putf(out, ",\"since\":%" PRIu64 ",\"released_below\":\"%" PRIu64 "\",\"checkpoint\":{\"src_height\":\"%"
			     PRIu64 "\",\"tree_size\":\"%" PRIu64 "\"}}", rs[i].limits_since, rs[i].released,
			     rs[i].cp_height, rs[i].cp_size);
	}
	ist_buf_puts(out, "],\"params\":[");
	const struct ist_gov_param_set *ps;
	size_t npar = ist_gov_params(g, &ps);
	for (size_t i = 0; i < npar; i++)
		ist_buf_putf(out, "%s{\"name\":\"%s\",\"value\":\"%" PRIu64 "\"}", i ? "," : "",
			     ist_gov_param_name(ps[i].param), ps[i].value);
	ist_buf_puts(out, "],\"proposals\":[");
	size_t np = ist_gov_n_proposals(g);
	for (size_t i = 0; i < np; i++) {
		if (i)
			ist_buf_puts(out, ",");
		put_proposal(out, ist_gov_proposal_at(g, np - 1 - i));
	}
	ist_buf_puts(out, "],\"breakers\":");
	ist_breaker_json(ist_ledger_breaker(n->ledger), out);
	ist_buf_puts(out, "}");
	pthread_mutex_unlock(&n->ledger_mu);
	return 0;
}

/* GET /v1/gov/pauses: the pauses and resumes the ledger keeps (newest
 * first), each certified as a leaf of its block's batch tree. */
static int get_pauses(struct ist_node *n, struct ist_txn *txn, const char *query, struct ist_buf *out)
{
	enum ist_cert_scheme scheme;
	int r = ist_node_query_scheme(query, out, &scheme);
	if (r < 0)
		return r;
	struct ist_gov_event *ev = malloc(IST_GOV_MAX_EVENTS * sizeof(*ev));
	struct ist_inclusion_proof *proof = malloc(sizeof(*proof));
	if (!ev || !proof) {
		free(ev);
		free(proof);
		return -IST_ENOMEM;
	}
	pthread_mutex_lock(&n->ledger_mu);
	const struct ist_gov_event *all;
	size_t ne = ist_gov_events(ist_ledger_gov(n->ledger), &all);
	memcpy(ev, all, ne * sizeof(*ev));
	pthread_mutex_unlock(&n->ledger_mu);
	ist_buf_puts(out, "{\"pauses\":[");
	size_t k = 0;
	uint64_t last_h = 0;
	size_t nth = 0;
	/* oldest first to number each height's events, printed newest first */
	size_t *pos = calloc(ne ? ne : 1, sizeof(*pos));
	if (!pos) {
		free(ev);
		free(proof);
		return -IST_ENOMEM;
	}
	for (size_t i = 0; i < ne; i++) {
		nth = i && ev[i].height == last_h ? nth + 1 : 0;
		last_h = ev[i].height;
		pos[i] = nth;
	}
	for (size_t j = ne; j-- > 0 && r == 0;) {
		const struct ist_gov_event *e = &ev[j];
		uint8_t leaf[IST_HASH_BYTES];
		uint64_t epoch = 0;
		if (pos[j] >= IST_GOV_MAX_BLOCK_EVENTS)
			continue;   /* beyond what one block certifies */
		r = ist_node_batch_proof(n, txn, e->height, IST_NODE_PAUSE_INDEX(pos[j]), proof, leaf, &epoch);
		if (r == -IST_EDB_CORRUPT || r == -IST_ENOTFOUND) {   /* not committed here yet */
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		ist_buf_putf(out, "%s{\"height\":%" PRIu64 ",\"epoch\":%" PRIu64 ",", k++ ? "," : "", e->height, epoch);
		if (e->scope == IST_PAUSE_CHAIN)
			ist_buf_putf(out, "\"scope\":\"chain\",\"chain\":\"%" PRIu64 "\",", e->a);
		else
			ist_buf_putf(out, "\"scope\":\"route\",\"src_chain\":\"%" PRIu64 "\",\"dst_chain\":\"%" PRIu64 "\",",
				     e->a, e->b);
		ist_buf_putf(out, "\"paused\":%s,\"cause\":\"%s\",\"proposal\":", e->paused ? "true" : "false",
			     e->proposal ? "proposal" : "circuit_breaker");
		if (e->proposal)
			ist_buf_putf(out, "%" PRIu64 ",", e->proposal);
		else
			ist_buf_puts(out, "null,");
		put_hexf(out, "leaf", leaf, IST_HASH_BYTES);
		ist_buf_puts(out, ",\"proof\":");
		ist_node_json_proof(out, proof);
		ist_buf_puts(out, ",\"certificate\":");
		const uint8_t *cv;
		size_t clen;
		r = ist_node_certificate_get(txn, scheme, e->height, &cv, &clen);
		if (r == 0) {
			ist_buf_puts(out, "\"");
			ist_buf_put_hex(out, cv, clen);
			ist_buf_puts(out, "\"}");
		} else if (r == -IST_ENOTFOUND) {
			ist_buf_puts(out, "null}");
			r = 0;
		}
	}
	ist_buf_puts(out, "]}");
	free(pos);
	free(ev);
	free(proof);
	return r;
}

/* GET /v1/frost: the DKG run, the groups and the signing jobs. */
static int get_frost(struct ist_node *n, struct ist_buf *out)
{
	pthread_mutex_lock(&n->ledger_mu);
	const struct ist_fl *fl = ist_ledger_frost(n->ledger);
	if (!fl) {
		pthread_mutex_unlock(&n->ledger_mu);
		ist_buf_puts(out, "{\"enabled\":false}");
		return 0;
	}
	const struct ist_ledger_params *p = ist_ledger_params_get(n->ledger);
	ist_buf_putf(out, "{\"enabled\":true,\"dkg_round_blocks\":%" PRIu32 ",\"sign_timeout_blocks\":%" PRIu32
		     ",\"dkg\":", p->frost_round_blocks, p->frost_sign_timeout_blocks);
	const struct ist_fl_dkg *d = ist_fl_dkg_get(fl);
	if (!d) {
		ist_buf_puts(out, "null");
	} else {
		ist_buf_putf(out, "{\"epoch\":%" PRIu64 ",\"for_handover\":%s,\"start_height\":%" PRIu64
			     ",\"round\":%u,\"round_deadline\":%" PRIu64 ",\"n\":%u,\"threshold\":%u,\"participants\":[",
			     d->epoch, d->handover ? "true" : "false", d->start, d->round, d->round_end, d->n, d->t);
		for (uint16_t i = 0; i < d->n; i++) {
			ist_buf_putf(out, "%s{\"id\":%u,", i ? "," : "", i + 1);
			put_hexf(out, "node_key", d->node_keys[i], IST_ED25519_PUBKEY_BYTES);
			ist_buf_putf(out, ",\"round1\":%s,\"round2\":%s,\"round3\":%s,\"disqualified\":%s}",
				     d->r1[i] ? "true" : "false", d->r2[i] ? "true" : "false", d->r3[i] ? "true" : "false",
				     d->disq[i] ? "true" : "false");
		}
		ist_buf_puts(out, "]}");
	}
	ist_buf_puts(out, ",\"groups\":[");
	const struct ist_ledger_set *cur = ist_ledger_current(n->ledger);
	bool first = true;
	for (uint64_t e = cur->epoch > 3 ? cur->epoch - 3 : 0; e <= cur->epoch + 1; e++) {
		const struct ist_fl_group *g = ist_fl_group_get(fl, e);
		if (!g)
			continue;
		ist_buf_putf(out, "%s{\"epoch\":%" PRIu64 ",\"n\":%u,\"threshold\":%u,", first ? "" : ",", g->epoch, g->n,
			     g->t);
		first = false;
		put_hexf(out, "group_key", g->group_key, IST_ED25519_PUBKEY_BYTES);
		ist_buf_puts(out, ",\"members\":[");
		for (uint16_t i = 0; i < g->n; i++) {
			size_t unused;
			uint32_t next;
			ist_fl_nonces(fl, g->epoch, (uint16_t)(i + 1), &unused, &next);
			ist_buf_putf(out, "%s{\"id\":%u,", i ? "," : "", i + 1);
			put_hexf(out, "node_key", g->node_keys[i], IST_ED25519_PUBKEY_BYTES);
			ist_buf_putf(out, ",\"qualified\":%s,\"absent\":%s,\"bad_share\":%s,\"unused_nonces\":%zu}",
				     g->qualified[i] ? "true" : "false", g->absent[i] ? "true" : "false",
				     g->bad[i] ? "true" : "false", unused);
		}
		ist_buf_puts(out, "]}");
	}
	ist_buf_putf(out, "],\"pending_jobs\":%zu}", ist_fl_n_jobs(fl));
	pthread_mutex_unlock(&n->ledger_mu);
	return 0;
}

static int get_evidence(struct ist_txn *txn, struct ist_buf *out)
{
	struct ist_store_cursor *cur;
	int r = ist_store_cursor_open(txn, IST_STORE_DB_EVIDENCE, &cur);
	if (r < 0)
		return r;
	ist_buf_puts(out, "{\"evidence\":[");
	const uint8_t *k, *v;
	size_t klen, vlen, count = 0;
	uint8_t x = 'x';
	for (r = ist_store_cursor_get(cur, IST_STORE_SEEK_GE, &x, 1, &k, &klen, &v, &vlen);
	     r == 0 && count < MAX_EVIDENCE; r = ist_store_cursor_get(cur, IST_STORE_NEXT, NULL, 0, &k, &klen, &v, &vlen)) {
		if (klen != 13 || k[0] != 'x')
			break;
		struct ist_ledger_evidence_record rec;
		if (ist_ledger_evidence_record_decode(v, vlen, &rec) < 0)
			continue;
		ist_buf_puts(out, count ? ",{" : "{");
		put_hexf(out, "id", rec.id, IST_HASH_BYTES);
		ist_buf_putf(out, ",\"kind\":\"%s\",\"height\":%" PRIu64 ",\"result\":\"%s\"", ist_evidence_kind_name(rec.kind),
			     ist_get_be64(k + 1),
			     !rec.ok ? "refused" : rec.kind == IST_EVIDENCE_FINALITY_REPORT ? "counted" : "slashed");
		if (rec.ok) {
			ist_buf_putf(out, ",\"epoch\":%" PRIu64 ",", rec.epoch);
			put_hexf(out, "offender", rec.offender, IST_ED25519_PUBKEY_BYTES);
			ist_buf_putf(out, ",\"slashed\":\"%" PRIu64 "\"", rec.slashed);
		} else {
			ist_buf_puts(out, ",\"reason\":");
			put_json_str(out, rec.reason);
		}
		ist_buf_puts(out, "}");
		count++;
	}
	ist_store_cursor_close(cur);
	if (r < 0 && r != -IST_ENOTFOUND)
		return r;
	ist_buf_puts(out, "]}");
	return 0;
}

int ist_node_ledger_get(struct ist_node *n, struct ist_txn *txn, char **seg, size_t ns, const char *query,
			struct ist_buf *out, const char **ret_route)
{
	uint64_t num = 0;
	if (ns == 2 && strcmp(seg[0], "accounts") == 0) {
		*ret_route = "/v1/accounts/{key}";
		return get_account(n, seg[1], out);
	}
	if (ns == 2 && strcmp(seg[0], "txs") == 0) {
		*ret_route = "/v1/txs/{id}";
		return get_tx(n, txn, seg[1], out);
	}
	if (ns == 1 && strcmp(seg[0], "staking") == 0) {
		*ret_route = "/v1/staking";
		return get_staking(n, out);
	}
	if (ns == 1 && strcmp(seg[0], "validators") == 0) {
		*ret_route = "/v1/validators";
		return ist_node_get_validators(n, txn, query, out);
	}
	if (ns == 1 && strcmp(seg[0], "epochs") == 0) {
		*ret_route = "/v1/epochs";
		return get_epochs(n, out);
	}
	if (ns == 2 && strcmp(seg[0], "epochs") == 0) {
		*ret_route = "/v1/epochs/{n}";
		if (!ist_json_decimal_u64(seg[1], &num))
			return ist_node_reason(out, -IST_EINVAL, "the epoch must be a decimal integer below 2^64");
		return get_epoch(n, txn, num, query, out);
	}
	if (ns == 1 && strcmp(seg[0], "gov") == 0) {
		*ret_route = "/v1/gov";
		return get_gov(n, NULL, out);
	}
	if (ns == 2 && strcmp(seg[0], "gov") == 0 && strcmp(seg[1], "pauses") == 0) {
		*ret_route = "/v1/gov/pauses";
		return get_pauses(n, txn, query, out);
	}
	if (ns == 3 && strcmp(seg[0], "gov") == 0 && strcmp(seg[1], "proposals") == 0) {
		*ret_route = "/v1/gov/proposals/{id}";
		return get_gov(n, seg[2], out);
	}
	if (ns == 1 && strcmp(seg[0], "frost") == 0) {
		*ret_route = "/v1/frost";
		return get_frost(n, out);
	}
	if (ns == 1 && strcmp(seg[0], "evidence") == 0) {
		*ret_route = "/v1/evidence";
		return get_evidence(txn, out);
	}
	return 1;
}
