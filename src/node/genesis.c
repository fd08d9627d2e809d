/*
 * genesis.json: parsing, checking, the canonical bytes and hash, and
 * formatting.
 *
 * Parsing is in two steps: the JSON step checks what only the text can get
 * wrong (types, unknown and missing fields, hex, the optional EIP-55
 * address) and fills the struct; ist_node_genesis_check() then checks the
 * values (ranges, names, points, addresses, duplicates, totals), so that a
 * genesis built in memory (`isthmus testnet`) passes the very same rules.
 */
#include "node/genesis.h"

#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/keystore.h"
#include "crypto/tags.h"
#include "wire/types.h"

void ist_node_genesis_init(struct ist_node_genesis *g)
{
	memset(g, 0, sizeof(*g));
}

void ist_node_genesis_fini(struct ist_node_genesis *g)
{
	free(g->validators);
	free(g->accounts);
	memset(g, 0, sizeof(*g));
}

struct ist_node_consensus_params ist_node_consensus_defaults(void)
{
	return (struct ist_node_consensus_params){
		.timeout_base_ms = 1000,
		.timeout_max_ms = 60000,
		.max_block_items = IST_WIRE_MAX_BLOCK_ITEMS,
		.max_block_bytes = IST_WIRE_MAX_BLOCK_BYTES,
		.epoch_length_blocks = 1000,
	};
}

struct ist_ledger_params ist_node_staking_defaults(void)
{
	return (struct ist_ledger_params){
		.epoch_length_blocks = 1000,
		.max_validators = 100,
		.min_stake = 1,
		.unbonding_epochs = 2,
		.slash_fraction_bps = 1000,
		.jail_missed_bps = 9000,
		.jail_cooldown_epochs = 1,
	};
}

/* ---- times ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil), for years >= 1. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = y / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int ist_node_time_parse(const char *s, uint64_t *ret_unix)
{
	static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
	if (strlen(s) != sizeof(pattern) - 1)
		return -IST_EINVAL;
	for (size_t i = 0; pattern[i]; i++)
		if (pattern[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pattern[i])
			return -IST_EINVAL;
#define NUM2(p) ((unsigned)((p)[0] - '0') * 10 + (unsigned)((p)[1] - '0'))
	unsigned y = NUM2(s) * 100 + NUM2(s + 2), mo = NUM2(s + 5), d = NUM2(s + 8);
	unsigned h = NUM2(s + 11), mi = NUM2(s + 14), se = NUM2(s + 17);
#undef NUM2
	static const unsigned mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59)
		return -IST_EINVAL;
	if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return -IST_EINVAL;
	*ret_unix = (uint64_t)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

void ist_node_time_format(uint64_t unix_s, char out[21])
{
	if (unix_s > IST_NODE_TIME_MAX)
		unix_s = IST_NODE_TIME_MAX;
	uint64_t z = unix_s / 86400 + 719468, secs = unix_s % 86400;
	uint64_t era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	uint64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	char buf[64];
	snprintf(buf, sizeof(buf), "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)y, (unsigned)m, (unsigned)d,
		 (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
	memcpy(out, buf, 21);   /* 20 characters and the NUL: y <= 9999 */
}

bool ist_node_chain_id_valid(const char *s)
{
	size_t n = strlen(s);
	if (n < 1 || n > IST_NODE_CHAIN_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* ---- key checks --------------------------------------------------------------- */

/* A canonical X25519 public key (u < 2^255 - 19) of large order: what
 * crypto_box_keypair makes. libsodium's scalar multiplication refuses the
 * small-order points (and an all-zero result). */
static bool x25519_pub_valid(const uint8_t pub[IST_X25519_PUBKEY_BYTES])
{
	if (pub[31] & 0x80)
		return false;
	bool ge_p = pub[31] == 0x7f && pub[0] >= 0xed;
	for (size_t i = 1; i < 31 && ge_p; i++)
		ge_p = pub[i] == 0xff;
	if (ge_p)
		return false;
	static const uint8_t scalar[crypto_scalarmult_SCALARBYTES] = { 0x4b, 0x66, 0xe9, 0xd4, 0xd1, 0xb4, 0x67, 0x3c,
								       0x5a, 0xd2, 0x26, 0x91, 0x95, 0x7d, 0x6a, 0xf5,
								       0xc1, 0x1b, 0x64, 0x21, 0xe0, 0xea, 0x01, 0xd4,
								       0x2c, 0xa4, 0x16, 0x9e, 0x79, 0x18, 0xba, 0x0d };
	uint8_t out[crypto_scalarmult_BYTES];
	int r = crypto_scalarmult(out, scalar, pub);
	sodium_memzero(out, sizeof(out));
	return r == 0;
}

/* ---- checking the values ------------------------------------------------------- */

#define CHAIN_ID_RULE "must be 1 to 64 characters of a-z, 0-9 and -"
#define NAME_RULE "must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', not starting with '.' or '-'"

static void describe_cstr(const char *s, char *buf, size_t len)
{
	json_t *j = json_string(s);
	if (j)
		ist_json_describe(j, buf, len);
	else
		snprintf(buf, len, "a string that is not UTF-8");
	json_decref(j);
}

static int check_range(struct ist_json_reader *jr, const char *path, uint64_t v, uint64_t min, uint64_t max)
{
	if (v < min || v > max)
		return ist_json_fail(jr, -IST_ECONFIG, path, "must be an integer from %llu to %llu (got %llu)",
					(unsigned long long)min, (unsigned long long)max, (unsigned long long)v);
	return 0;
}

static void check_validator(struct ist_json_reader *jr, const struct ist_node_validator *v, size_t i)
{
	char base[IST_JSON_ERR_FIELD_MAX], path[IST_JSON_ERR_FIELD_MAX], got[96];
	ist_json_index(base, "validators", i);
	if (!ist_keystore_name_valid(v->name)) {
		ist_json_path(path, base, "name");
		describe_cstr(v->name, got, sizeof(got));
		ist_json_fail(jr, -IST_ECONFIG, path, NAME_RULE " (got %s)", got);
		return;
	}
	if (!crypto_core_ed25519_is_valid_point(v->node_key)) {
		ist_json_path(path, base, "node_key");
		ist_json_fail(jr, -IST_ECONFIG, path, "is not a valid Ed25519 public key");
		return;
	}
	uint8_t addr[IST_ETH_ADDRESS_BYTES];
	if (ist_secp_eth_address(v->attestation_key, addr) < 0) {
		ist_json_path(path, base, "attestation_key");
		ist_json_fail(jr, -IST_ECONFIG, path, "is not a valid compressed secp256k1 public key");
		return;
	}
	if (!x25519_pub_valid(v->dkg_key)) {
		ist_json_path(path, base, "dkg_key");
		ist_json_fail(jr, -IST_ECONFIG, path, "is not a valid X25519 public key");
		return;
	}
	char problem[256];
	if (ist_node_url_parse(v->address, IST_NODE_URL_P2P, false, NULL, problem, sizeof(problem)) < 0) {
		ist_json_path(path, base, "address");
		ist_json_fail(jr, -IST_ECONFIG, path, "%s", problem);
		return;
	}
	if (v->stake == 0) {
		ist_json_path(path, base, "stake");
		ist_json_fail(jr, -IST_ECONFIG, path, "must be a positive integer (got 0)");
	}
}

/* The first j < i whose field equals validator i's, or -1. */
static long dup_of(const struct ist_node_genesis *g, size_t i, int what)
{
	const struct ist_node_validator *a = &g->validators[i];
	for (size_t j = 0; j < i; j++) {
		const struct ist_node_validator *b = &g->validators[j];
		bool same = false;
		switch (what) {
		case 0: same = strcmp(a->name, b->name) == 0; break;
		case 1: same = memcmp(a->node_key, b->node_key, sizeof(a->node_key)) == 0; break;
		case 2: same = memcmp(a->attestation_key, b->attestation_key, sizeof(a->attestation_key)) == 0; break;
		case 3: same = memcmp(a->dkg_key, b->dkg_key, sizeof(a->dkg_key)) == 0; break;
		default: same = strcmp(a->address, b->address) == 0; break;
		}
		if (same)
			return (long)j;
	}
	return -1;
}

int ist_node_genesis_check(struct ist_node_genesis *g, const char *label, struct ist_json_err *err)
{
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, label, err);
	char got[96], path[IST_JSON_ERR_FIELD_MAX];
	if (!ist_node_chain_id_valid(g->chain_id)) {
		describe_cstr(g->chain_id, got, sizeof(got));
		return ist_json_fail(&jr, -IST_ECONFIG, "chain_id", CHAIN_ID_RULE " (got %s)", got);
	}
	if (g->network_id == 0)
		return ist_json_fail(&jr, -IST_ECONFIG, "network_id", "must be a positive integer (got 0)");
	if (g->genesis_time > IST_NODE_TIME_MAX)
		return ist_json_fail(&jr, -IST_ECONFIG, "genesis_time", "must be a time before the year 10000");
	const struct ist_node_consensus_params *c = &g->consensus;
	if (check_range(&jr, "consensus.timeout_base_ms", c->timeout_base_ms, IST_NODE_TIMEOUT_MIN_MS,
			IST_NODE_TIMEOUT_MAX_MS) ||
	    check_range(&jr, "consensus.timeout_max_ms", c->timeout_max_ms, c->timeout_base_ms, IST_NODE_TIMEOUT_MAX_MS) ||
	    check_range(&jr, "consensus.max_block_items", c->max_block_items, 1, IST_WIRE_MAX_BLOCK_ITEMS) ||
	    check_range(&jr, "consensus.max_block_bytes", c->max_block_bytes, IST_NODE_MIN_BLOCK_BYTES,
			IST_WIRE_MAX_BLOCK_BYTES) ||
	    check_range(&jr, "consensus.epoch_length_blocks", c->epoch_length_blocks, IST_NODE_EPOCH_MIN_BLOCKS,
			IST_NODE_EPOCH_MAX_BLOCKS))
		return jr.code;
	if (g->n_validators < 1 || g->n_validators > IST_WIRE_MAX_VALIDATORS)
		return ist_json_fail(&jr, -IST_ECONFIG, "validators", "must list 1 to %d validators (got %zu)",
					IST_WIRE_MAX_VALIDATORS, g->n_validators);
	static const char *const what[] = { "name", "node_key", "attestation_key", "dkg_key", "address" };
	uint64_t total = 0;
	for (size_t i = 0; i < g->n_validators; i++) {
		check_validator(&jr, &g->validators[i], i);
		if (jr.code)
			return jr.code;
		char base[IST_JSON_ERR_FIELD_MAX], other[IST_JSON_ERR_FIELD_MAX];
		ist_json_index(base, "validators", i);
		for (int w = 0; w < 5; w++) {
			long j = dup_of(g, i, w);
			if (j >= 0) {
				ist_json_path(path, base, what[w]);
				ist_json_index(other, "validators", (size_t)j);
				return ist_json_fail(&jr, -IST_ECONFIG, path, "duplicate of %s.%s", other, what[w]);
			}
		}
		if (g->validators[i].stake > UINT64_MAX - total) {
			ist_json_path(path, base, "stake");
			return ist_json_fail(&jr, -IST_ECONFIG, path, "the total stake exceeds 2^64 - 1");
		}
		total += g->validators[i].stake;
	}
	if (g->n_accounts > IST_NODE_GENESIS_MAX_ACCOUNTS)
		return ist_json_fail(&jr, -IST_ECONFIG, "accounts", "must list at most %d accounts (got %zu)",
					IST_NODE_GENESIS_MAX_ACCOUNTS, g->n_accounts);
	uint64_t supply = total;
	for (size_t i = 0; i < g->n_accounts; i++) {
		const struct ist_node_account *a = &g->accounts[i];
		char base[IST_JSON_ERR_FIELD_MAX];
		ist_json_index(base, "accounts", i);
		if (!crypto_core_ed25519_is_valid_point(a->key)) {
			ist_json_path(path, base, "key");
			return ist_json_fail(&jr, -IST_ECONFIG, path, "is not a valid Ed25519 public key");
		}
		for (size_t j = 0; j < i; j++) {
			if (memcmp(g->accounts[j].key, a->key, sizeof(a->key)) == 0) {
				ist_json_path(path, base, "key");
				return ist_json_fail(&jr, -IST_ECONFIG, path, "duplicate of accounts[%zu].key", j);
			}
		}
		if (a->balance > UINT64_MAX - supply) {
			ist_json_path(path, base, "balance");
			return ist_json_fail(&jr, -IST_ECONFIG, path,
						"the total supply (stakes and balances) exceeds 2^64 - 1");
		}
		supply += a->balance;
	}
	if (g->n_chains > IST_NODE_MAX_CHAINS)
		return ist_json_fail(&jr, -IST_ECONFIG, "chains", "must list at most %d chains (got %zu)",
					IST_NODE_MAX_CHAINS, g->n_chains);
	for (size_t i = 0; i < g->n_chains; i++) {
		const struct ist_node_chain *ch = &g->chains[i];
		char base[IST_JSON_ERR_FIELD_MAX];
		ist_json_index(base, "chains", i);
		if (ch->id == 0) {
			ist_json_path(path, base, "id");
			return ist_json_fail(&jr, -IST_ECONFIG, path, "must be at least 1");
		}
		if (!ist_node_chain_id_valid(ch->name)) {
			ist_json_path(path, base, "name");
			return ist_json_fail(&jr, -IST_ECONFIG, path, "must be 1 to 64 of a-z 0-9 -");
		}
		for (size_t j = 0; j < i; j++) {
			const char *dup = g->chains[j].id == ch->id ? "id" : strcmp(g->chains[j].name, ch->name) == 0 ? "name" : NULL;
			if (dup) {
				ist_json_path(path, base, dup);
				return ist_json_fail(&jr, -IST_ECONFIG, path, "duplicate of chains[%zu].%s", j, dup);
			}
		}
	}
	g->staking.epoch_length_blocks = g->consensus.epoch_length_blocks;
	const char *sfield = NULL;
	if (ist_ledger_params_check(&g->staking, &sfield) < 0) {
		ist_json_path(path, "staking", sfield);
		return ist_json_fail(&jr, -IST_ECONFIG, path, "out of range (docs/configuration.md gives the bounds)");
	}
	int r = ist_node_genesis_hash(g);
	if (r < 0)
		return ist_json_fail(&jr, r, "", "out of memory");
	g->total_stake = total;
	return 0;
}

/* ---- parsing -------------------------------------------------------------------------- */

static void copy_str(struct ist_json_reader *jr, const char *path, const char *s, char *out, size_t cap,
		     const char *rule)
{
	if (!ist_json_ok(jr))
		return;
	if (strlen(s) >= cap) {
		char got[96];
		describe_cstr(s, got, sizeof(got));
		ist_json_fail(jr, -IST_ECONFIG, path, "%s (got %s)", rule, got);
		return;
	}
	memcpy(out, s, strlen(s) + 1);
}

static void parse_consensus(struct ist_json_reader *jr, json_t *root, struct ist_node_consensus_params *c)
{
	static const char *const fields[] = { "timeout_base_ms", "timeout_max_ms", "max_block_items", "max_block_bytes",
					      "epoch_length_blocks", NULL };
	json_t *o = ist_json_member(jr, root, "", "consensus", true);
	if (!ist_json_object(jr, o, "consensus", fields))
		return;
	c->timeout_base_ms = ist_json_uint(jr, o, "consensus", "timeout_base_ms", true, 0, IST_NODE_TIMEOUT_MIN_MS,
					      IST_NODE_TIMEOUT_MAX_MS);
	c->timeout_max_ms = ist_json_uint(jr, o, "consensus", "timeout_max_ms", true, 0, c->timeout_base_ms,
					     IST_NODE_TIMEOUT_MAX_MS);
	c->max_block_items = (uint32_t)ist_json_uint(jr, o, "consensus", "max_block_items", true, 0, 1,
							IST_WIRE_MAX_BLOCK_ITEMS);
	c->max_block_bytes = (uint32_t)ist_json_uint(jr, o, "consensus", "max_block_bytes", true, 0,
							IST_NODE_MIN_BLOCK_BYTES, IST_WIRE_MAX_BLOCK_BYTES);
	c->epoch_length_blocks = ist_json_uint(jr, o, "consensus", "epoch_length_blocks", true, 0,
						  IST_NODE_EPOCH_MIN_BLOCKS, IST_NODE_EPOCH_MAX_BLOCKS);
}

static void parse_staking(struct ist_json_reader *jr, json_t *root, struct ist_ledger_params *p)
{
	static const char *const fields[] = { "max_validators", "min_stake", "unbonding_epochs", "slash_fraction_bps",
					      "jail_missed_bps", "jail_cooldown_epochs", NULL };
	json_t *o = ist_json_member(jr, root, "", "staking", true);
	if (!ist_json_object(jr, o, "staking", fields))
		return;
	p->max_validators = (uint32_t)ist_json_uint(jr, o, "staking", "max_validators", true, 0, 1,
						       IST_WIRE_MAX_VALIDATORS);
	p->min_stake = ist_json_u64(jr, o, "staking", "min_stake", true, 0, 1);
	p->unbonding_epochs = ist_json_uint(jr, o, "staking", "unbonding_epochs", true, 0, 1, 1000000);
	p->slash_fraction_bps = (uint32_t)ist_json_uint(jr, o, "staking", "slash_fraction_bps", true, 0, 0, 10000);
	p->jail_missed_bps = (uint32_t)ist_json_uint(jr, o, "staking", "jail_missed_bps", true, 0, 1, 10000);
	p->jail_cooldown_epochs = ist_json_uint(jr, o, "staking", "jail_cooldown_epochs", true, 0, 0, 1000000);
}

/* "frost" (optional): threshold certificates, with the DKG's round length
 * and the signing bound, both in blocks. */
static void parse_frost(struct ist_json_reader *jr, json_t *root, struct ist_ledger_params *p)
{
	static const char *const fields[] = { "dkg_round_blocks", "sign_timeout_blocks", NULL };
	json_t *o = ist_json_member(jr, root, "", "frost", false);
	if (!o || !ist_json_object(jr, o, "frost", fields))
		return;
	p->frost_round_blocks = (uint32_t)ist_json_uint(jr, o, "frost", "dkg_round_blocks", true, 0, 1, 1000);
	p->frost_sign_timeout_blocks = (uint32_t)ist_json_uint(jr, o, "frost", "sign_timeout_blocks", true, 0, 1, 1000);
}

/* "route_limits" (optional): [{"src_chain","dst_chain","window_blocks",
 * "max_count","max_value","high_value","delay_blocks"}], routes between
 * two different chains of "chains" (parsed before), each once. */
static void parse_route_limits(struct ist_json_reader *jr, json_t *root, struct ist_node_genesis *g)
{
	static const char *const fields[] = { "src_chain", "dst_chain", "window_blocks", "max_count", "max_value",
					      "high_value", "delay_blocks", NULL };
	json_t *a = ist_json_member(jr, root, "", "route_limits", false);
	if (!a || !ist_json_ok(jr))
		return;
	if (!json_is_array(a) || json_array_size(a) > IST_NODE_MAX_ROUTE_LIMITS) {
		ist_json_fail(jr, -IST_ECONFIG, "route_limits", "must be an array of at most %d routes' limits",
			      IST_NODE_MAX_ROUTE_LIMITS);
		return;
	}
	for (size_t i = 0; i < json_array_size(a) && ist_json_ok(jr); i++) {
		char base[IST_JSON_ERR_FIELD_MAX];
		ist_json_index(base, "route_limits", i);
		json_t *o = json_array_get(a, i);
		if (!ist_json_object(jr, o, base, fields))
			return;
		struct ist_node_route_limit *x = &g->route_limits[i];
		x->src = ist_json_u64(jr, o, base, "src_chain", true, 0, 1);
		x->dst = ist_json_u64(jr, o, base, "dst_chain", true, 0, 1);
		x->lim.window_blocks = ist_json_u64(jr, o, base, "window_blocks", false, 0, 0);
		x->lim.max_count = ist_json_u64(jr, o, base, "max_count", false, 0, 0);
		x->lim.max_value = ist_json_u64(jr, o, base, "max_value", false, 0, 0);
		x->lim.high_value = ist_json_u64(jr, o, base, "high_value", false, 0, 0);
		x->lim.delay_blocks = ist_json_u64(jr, o, base, "delay_blocks", false, 0, 0);
		if (!ist_json_ok(jr))
			return;
		char why[160];
		if (x->src == x->dst || !ist_node_genesis_chain(g, x->src) || !ist_node_genesis_chain(g, x->dst))
			ist_json_fail(jr, -IST_ECONFIG, base, "must be a route between two different chains of \"chains\" "
				      "(got %" PRIu64 " -> %" PRIu64 ")", x->src, x->dst);
		else if (ist_gov_limits_check(&x->lim, why, sizeof(why)) < 0)
			ist_json_fail(jr, -IST_ECONFIG, base, "%s", why);
		else if (!x->lim.window_blocks && !x->lim.high_value)
			ist_json_fail(jr, -IST_ECONFIG, base, "limits nothing: give a window (window_blocks, max_count) "
				      "or a delay (high_value, delay_blocks)");
		for (size_t k = 0; k < i && ist_json_ok(jr); k++)
			if (g->route_limits[k].src == x->src && g->route_limits[k].dst == x->dst)
				ist_json_fail(jr, -IST_ECONFIG, base, "route %" PRIu64 " -> %" PRIu64 " is limited twice "
					      "(also route_limits[%zu])", x->src, x->dst, k);
		g->n_route_limits = i + 1;
	}
}

static void parse_validator(struct ist_json_reader *jr, json_t *o, size_t i, struct ist_node_validator *v)
{
	static const char *const fields[] = { "name", "node_key", "attestation_key", "attestation_address", "dkg_key",
					      "address", "stake", NULL };
	char base[IST_JSON_ERR_FIELD_MAX], path[IST_JSON_ERR_FIELD_MAX];
	ist_json_index(base, "validators", i);
	if (!ist_json_object(jr, o, base, fields))
		return;
	ist_json_path(path, base, "name");
	copy_str(jr, path, ist_json_string(jr, o, base, "name", true, NULL), v->name, sizeof(v->name), NAME_RULE);
	ist_json_hex(jr, o, base, "node_key", v->node_key, sizeof(v->node_key), "an Ed25519 public key");
	ist_json_hex(jr, o, base, "attestation_key", v->attestation_key, sizeof(v->attestation_key),
			"a compressed secp256k1 public key");
	const char *eip55 = ist_json_string(jr, o, base, "attestation_address", false, NULL);
	ist_json_hex(jr, o, base, "dkg_key", v->dkg_key, sizeof(v->dkg_key), "an X25519 public key");
	const char *addr = ist_json_string(jr, o, base, "address", true, NULL);
	char problem[256];
	if (ist_json_ok(jr) && ist_node_url_parse(addr, IST_NODE_URL_P2P, false, NULL, problem, sizeof(problem)) < 0) {
		ist_json_path(path, base, "address");
		ist_json_fail(jr, -IST_ECONFIG, path, "%s", problem);
	}
	ist_json_path(path, base, "address");
	copy_str(jr, path, addr, v->address, sizeof(v->address), "must be at most 255 bytes");
	v->stake = ist_json_u64(jr, o, base, "stake", true, 0, 1);
	if (!ist_json_ok(jr))
		return;
	if (ist_secp_eth_address(v->attestation_key, v->attestation_address) < 0) {
		ist_json_path(path, base, "attestation_key");
		ist_json_fail(jr, -IST_ECONFIG, path, "is not a valid compressed secp256k1 public key");
		return;
	}
	if (eip55) {
		char want[43];
		ist_eth_address_format(v->attestation_address, want);
		ist_json_path(path, base, "attestation_address");
		if (strcmp(eip55, want) != 0)
			ist_json_fail(jr, -IST_ECONFIG, path,
					 "is not the EIP-55 address of attestation_key (expected %s)", want);
	}
}

static void parse_account(struct ist_json_reader *jr, json_t *o, size_t i, struct ist_node_account *a)
{
	static const char *const fields[] = { "key", "balance", NULL };
	char base[IST_JSON_ERR_FIELD_MAX];
	ist_json_index(base, "accounts", i);
	if (!ist_json_object(jr, o, base, fields))
		return;
	ist_json_hex(jr, o, base, "key", a->key, sizeof(a->key), "an Ed25519 public key");
	a->balance = ist_json_u64(jr, o, base, "balance", true, 0, 0);
}

/* The array member `key`: NULL when absent and optional; fails when it is
 * not an array or holds more than `max` items. */
static json_t *array_member(struct ist_json_reader *jr, json_t *root, const char *key, bool required, size_t min,
			    size_t max, const char *items)
{
	json_t *a = ist_json_member(jr, root, "", key, required);
	if (!a || !ist_json_ok(jr))
		return NULL;
	char got[96];
	if (!json_is_array(a)) {
		ist_json_fail(jr, -IST_ECONFIG, key, "must be an array (got %s)", ist_json_describe(a, got, sizeof(got)));
		return NULL;
	}
	if (json_array_size(a) < min || json_array_size(a) > max) {
		ist_json_fail(jr, -IST_ECONFIG, key, "must list %zu to %zu %s (got %zu)", min, max, items,
				 json_array_size(a));
		return NULL;
	}
	return a;
}

int ist_node_genesis_parse(const char *json, size_t len, const char *label, struct ist_node_genesis *ret_g,
			   struct ist_json_err *err)
{
	static const char *const fields[] = { "chain_id", "network_id", "genesis_time", "consensus", "validators",
					      "accounts", "chains", "staking", "frost", "route_limits", NULL };
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, label, err);
	if (len > IST_NODE_GENESIS_FILE_MAX)
		return ist_json_fail(&jr, -IST_ETOOBIG, "", "larger than %u bytes", IST_NODE_GENESIS_FILE_MAX);
	struct ist_node_genesis g;
	ist_node_genesis_init(&g);
	json_t *root = ist_json_parse(&jr, json, len);
	if (!root)
		return jr.code;
	char got[96];
	if (!ist_json_object(&jr, root, "", fields))
		goto out;
	const char *chain_id = ist_json_string(&jr, root, "", "chain_id", true, NULL);
	if (ist_json_ok(&jr) && !ist_node_chain_id_valid(chain_id)) {
		describe_cstr(chain_id, got, sizeof(got));
		ist_json_fail(&jr, -IST_ECONFIG, "chain_id", CHAIN_ID_RULE " (got %s)", got);
	}
	copy_str(&jr, "chain_id", chain_id, g.chain_id, sizeof(g.chain_id), CHAIN_ID_RULE);
	g.network_id = ist_json_u64(&jr, root, "", "network_id", true, 0, 1);
	const char *t = ist_json_string(&jr, root, "", "genesis_time", true, NULL);
	if (ist_json_ok(&jr) && ist_node_time_parse(t, &g.genesis_time) < 0) {
		describe_cstr(t, got, sizeof(got));
		ist_json_fail(&jr, -IST_ECONFIG, "genesis_time",
				 "must be an RFC 3339 UTC time YYYY-MM-DDTHH:MM:SSZ from 1970 to 9999 (got %s)", got);
	}
	parse_consensus(&jr, root, &g.consensus);
	parse_staking(&jr, root, &g.staking);
	parse_frost(&jr, root, &g.staking);
	g.staking.epoch_length_blocks = g.consensus.epoch_length_blocks;

	json_t *vals = array_member(&jr, root, "validators", true, 1, IST_WIRE_MAX_VALIDATORS, "validators");
	if (vals) {
		g.n_validators = json_array_size(vals);
		g.validators = calloc(g.n_validators, sizeof(*g.validators));
		if (!g.validators) {
			ist_json_fail(&jr, -IST_ENOMEM, "", "out of memory");
			goto out;
		}
		for (size_t i = 0; i < g.n_validators && ist_json_ok(&jr); i++)
			parse_validator(&jr, json_array_get(vals, i), i, &g.validators[i]);
	}
	json_t *accts = array_member(&jr, root, "accounts", false, 0, IST_NODE_GENESIS_MAX_ACCOUNTS, "accounts");
	if (accts && json_array_size(accts) > 0) {
		g.n_accounts = json_array_size(accts);
		g.accounts = calloc(g.n_accounts, sizeof(*g.accounts));
		if (!g.accounts) {
			ist_json_fail(&jr, -IST_ENOMEM, "", "out of memory");
			goto out;
		}
		for (size_t i = 0; i < g.n_accounts && ist_json_ok(&jr); i++)
			parse_account(&jr, json_array_get(accts, i), i, &g.accounts[i]);
	}
	json_t *chains = array_member(&jr, root, "chains", false, 0, IST_NODE_MAX_CHAINS, "chains");
	if (chains) {
		static const char *const cfields[] = { "id", "name", NULL };
		g.n_chains = json_array_size(chains);
		for (size_t i = 0; i < g.n_chains && ist_json_ok(&jr); i++) {
			json_t *o = json_array_get(chains, i);
			char base[IST_JSON_ERR_FIELD_MAX];
			ist_json_index(base, "chains", i);
			if (!ist_json_object(&jr, o, base, cfields))
				break;
			g.chains[i].id = ist_json_u64(&jr, o, base, "id", true, 0, 1);
			const char *name = ist_json_string(&jr, o, base, "name", true, NULL);
			char path[IST_JSON_ERR_FIELD_MAX];
			ist_json_path(path, base, "name");
			if (ist_json_ok(&jr) && !ist_node_chain_id_valid(name)) {
				describe_cstr(name, got, sizeof(got));
				ist_json_fail(&jr, -IST_ECONFIG, path, "must be 1 to 64 of a-z 0-9 - (got %s)", got);
			}
			copy_str(&jr, path, name ? name : "", g.chains[i].name, sizeof(g.chains[i].name),
				 "must be 1 to 64 of a-z 0-9 -");
		}
	}
	parse_route_limits(&jr, root, &g);
	if (ist_json_ok(&jr)) {
		int r = ist_node_genesis_check(&g, label, err);
		if (r < 0)
			jr.code = r;
	}
out:
	json_decref(root);
	if (jr.code) {
		ist_node_genesis_fini(&g);
		return jr.code;
	}
	*ret_g = g;
	return 0;
}

int ist_node_genesis_load(const char *path, struct ist_node_genesis *ret_g, struct ist_json_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int r = ist_json_file_read(path, IST_NODE_GENESIS_FILE_MAX, &text, &len, err);
	if (r < 0)
		return r;
	r = ist_node_genesis_parse(text, len, path, ret_g, err);
	free(text);
	return r;
}

/* ---- canonical bytes, hash, format ------------------------------------------------------ */

int ist_node_genesis_bytes(const struct ist_node_genesis *g, uint8_t **ret_bytes, size_t *ret_len)
{
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put_var(&b, g->chain_id, strlen(g->chain_id));
	ist_buf_put_be64(&b, g->network_id);
	ist_buf_put_be64(&b, g->genesis_time);
	ist_buf_put_be64(&b, g->consensus.timeout_base_ms);
	ist_buf_put_be64(&b, g->consensus.timeout_max_ms);
	ist_buf_put_be32(&b, g->consensus.max_block_items);
	ist_buf_put_be32(&b, g->consensus.max_block_bytes);
	ist_buf_put_be64(&b, g->consensus.epoch_length_blocks);
	ist_buf_put_be32(&b, (uint32_t)g->n_validators);
	for (size_t i = 0; i < g->n_validators; i++) {
		const struct ist_node_validator *v = &g->validators[i];
		ist_buf_put_var(&b, v->name, strlen(v->name));
		ist_buf_put(&b, v->node_key, sizeof(v->node_key));
		ist_buf_put(&b, v->attestation_key, sizeof(v->attestation_key));
		ist_buf_put(&b, v->dkg_key, sizeof(v->dkg_key));
		ist_buf_put_var(&b, v->address, strlen(v->address));
		ist_buf_put_be64(&b, v->stake);
	}
	ist_buf_put_be32(&b, (uint32_t)g->n_accounts);
	for (size_t i = 0; i < g->n_accounts; i++) {
		ist_buf_put(&b, g->accounts[i].key, sizeof(g->accounts[i].key));
		ist_buf_put_be64(&b, g->accounts[i].balance);
	}
	ist_buf_put_be32(&b, (uint32_t)g->n_chains);
	for (size_t i = 0; i < g->n_chains; i++) {
		ist_buf_put_be64(&b, g->chains[i].id);
		ist_buf_put_var(&b, g->chains[i].name, strlen(g->chains[i].name));
	}
	ist_buf_put_be32(&b, g->staking.max_validators);
	ist_buf_put_be64(&b, g->staking.min_stake);
	ist_buf_put_be64(&b, g->staking.unbonding_epochs);
	ist_buf_put_be32(&b, g->staking.slash_fraction_bps);
	ist_buf_put_be32(&b, g->staking.jail_missed_bps);
	ist_buf_put_be64(&b, g->staking.jail_cooldown_epochs);
	if (g->staking.frost_round_blocks) {
		ist_buf_put_u8(&b, 1);
		ist_buf_put_be32(&b, g->staking.frost_round_blocks);
		ist_buf_put_be32(&b, g->staking.frost_sign_timeout_blocks);
	}
	if (g->n_route_limits) {
		ist_buf_put_u8(&b, 2);
		ist_buf_put_be32(&b, (uint32_t)g->n_route_limits);
		for (size_t i = 0; i < g->n_route_limits; i++) {
			const struct ist_node_route_limit *x = &g->route_limits[i];
			ist_buf_put_be64(&b, x->src);
			ist_buf_put_be64(&b, x->dst);
			ist_buf_put_be64(&b, x->lim.window_blocks);
			ist_buf_put_be64(&b, x->lim.max_count);
			ist_buf_put_be64(&b, x->lim.max_value);
			ist_buf_put_be64(&b, x->lim.high_value);
			ist_buf_put_be64(&b, x->lim.delay_blocks);
		}
	}
	return ist_buf_take(&b, ret_bytes, ret_len);
}

int ist_node_genesis_hash(struct ist_node_genesis *g)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	int r = ist_node_genesis_bytes(g, &bytes, &len);
	if (r < 0)
		return r;
	ist_tagged_hash(IST_TAG_GENESIS, bytes, len, g->hash);
	free(bytes);
	return 0;
}

int ist_node_genesis_format(const struct ist_node_genesis *g, char **ret_json)
{
	json_t *root = json_object(), *cons = json_object(), *vals = json_array();
	char t[21];
	int bad = !root || !cons || !vals;
	ist_node_time_format(g->genesis_time, t);
	bad |= json_object_set_new(root, "chain_id", json_string(g->chain_id));
	bad |= json_object_set_new(root, "network_id", ist_json_from_u64(g->network_id));
	bad |= json_object_set_new(root, "genesis_time", json_string(t));
	bad |= json_object_set_new(cons, "timeout_base_ms", json_integer((json_int_t)g->consensus.timeout_base_ms));
	bad |= json_object_set_new(cons, "timeout_max_ms", json_integer((json_int_t)g->consensus.timeout_max_ms));
	bad |= json_object_set_new(cons, "max_block_items", json_integer(g->consensus.max_block_items));
	bad |= json_object_set_new(cons, "max_block_bytes", json_integer(g->consensus.max_block_bytes));
	bad |= json_object_set_new(cons, "epoch_length_blocks", json_integer((json_int_t)g->consensus.epoch_length_blocks));
	bad |= json_object_set(root, "consensus", cons);
	for (size_t i = 0; i < g->n_validators; i++) {
		const struct ist_node_validator *v = &g->validators[i];
		json_t *o = json_object();
		char addr[43];
		ist_eth_address_format(v->attestation_address, addr);
		bad |= !o;
		bad |= json_object_set_new(o, "name", json_string(v->name));
		bad |= json_object_set_new(o, "node_key", ist_json_from_hex(v->node_key, sizeof(v->node_key)));
		bad |= json_object_set_new(o, "attestation_key", ist_json_from_hex(v->attestation_key, sizeof(v->attestation_key)));
		bad |= json_object_set_new(o, "attestation_address", json_string(addr));
		bad |= json_object_set_new(o, "dkg_key", ist_json_from_hex(v->dkg_key, sizeof(v->dkg_key)));
		bad |= json_object_set_new(o, "address", json_string(v->address));
		bad |= json_object_set_new(o, "stake", ist_json_from_u64(v->stake));
		bad |= json_array_append_new(vals, o);
	}
	bad |= json_object_set(root, "validators", vals);
	if (g->n_accounts > 0) {
		json_t *accts = json_array();
		bad |= !accts;
		for (size_t i = 0; i < g->n_accounts; i++) {
			json_t *o = json_object();
			bad |= !o;
			bad |= json_object_set_new(o, "key", ist_json_from_hex(g->accounts[i].key, sizeof(g->accounts[i].key)));
			bad |= json_object_set_new(o, "balance", ist_json_from_u64(g->accounts[i].balance));
			bad |= json_array_append_new(accts, o);
		}
		bad |= json_object_set_new(root, "accounts", accts);
	}
	if (g->n_chains > 0) {
		json_t *chains = json_array();
		bad |= !chains;
		for (size_t i = 0; i < g->n_chains; i++) {
			json_t *o = json_object();
			bad |= !o;
			bad |= json_object_set_new(o, "id", ist_json_from_u64(g->chains[i].id));
			bad |= json_object_set_new(o, "name", json_string(g->chains[i].name));
			bad |= json_array_append_new(chains, o);
		}
		bad |= json_object_set_new(root, "chains", chains);
	}
	json_t *st = json_object();
	bad |= !st;
	bad |= json_object_set_new(st, "max_validators", json_integer(g->staking.max_validators));
	bad |= json_object_set_new(st, "min_stake", ist_json_from_u64(g->staking.min_stake));
	bad |= json_object_set_new(st, "unbonding_epochs", json_integer((json_int_t)g->staking.unbonding_epochs));
	bad |= json_object_set_new(st, "slash_fraction_bps", json_integer(g->staking.slash_fraction_bps));
	bad |= json_object_set_new(st, "jail_missed_bps", json_integer(g->staking.jail_missed_bps));
	bad |= json_object_set_new(st, "jail_cooldown_epochs", json_integer((json_int_t)g->staking.jail_cooldown_epochs));
	bad |= json_object_set_new(root, "staking", st);
	if (g->staking.frost_round_blocks) {
		json_t *fr = json_object();
		bad |= !fr;
		bad |= json_object_set_new(fr, "dkg_round_blocks", json_integer(g->staking.frost_round_blocks));
		bad |= json_object_set_new(fr, "sign_timeout_blocks", json_integer(g->staking.frost_sign_timeout_blocks));
		bad |= json_object_set_new(root, "frost", fr);
	}
	if (g->n_route_limits) {
		json_t *rl = json_array();
		bad |= !rl;
		for (size_t i = 0; i < g->n_route_limits; i++) {
			const struct ist_node_route_limit *x = &g->route_limits[i];
			json_t *o = json_object();
			bad |= !o;
			bad |= json_object_set_new(o, "src_chain", ist_json_from_u64(x->src));
			bad |= json_object_set_new(o, "dst_chain", ist_json_from_u64(x->dst));
			bad |= json_object_set_new(o, "window_blocks", ist_json_from_u64(x->lim.window_blocks));
			bad |= json_object_set_new(o, "max_count", ist_json_from_u64(x->lim.max_count));
			bad |= json_object_set_new(o, "max_value", ist_json_from_u64(x->lim.max_value));
			bad |= json_object_set_new(o, "high_value", ist_json_from_u64(x->lim.high_value));
			bad |= json_object_set_new(o, "delay_blocks", ist_json_from_u64(x->lim.delay_blocks));
			bad |= json_array_append_new(rl, o);
		}
		bad |= json_object_set_new(root, "route_limits", rl);
	}
	int r = ist_json_dump_text(bad ? NULL : root, ret_json);
	json_decref(cons);
	json_decref(vals);
	json_decref(root);
	return r;
}

const struct ist_node_chain *ist_node_genesis_chain(const struct ist_node_genesis *g, uint64_t id)
{
	for (size_t i = 0; i < g->n_chains; i++)
		if (g->chains[i].id == id)
			return &g->chains[i];
	return NULL;
}

long ist_node_genesis_find(const struct ist_node_genesis *g, const uint8_t node_key32[IST_ED25519_PUBKEY_BYTES])
{
	for (size_t i = 0; i < g->n_validators; i++)
		if (memcmp(g->validators[i].node_key, node_key32, IST_ED25519_PUBKEY_BYTES) == 0)
			return (long)i;
	return -1;
}
