/*
 * Node configuration and genesis: values and defaults, the genesis hash
 * (golden, stable across formatting, sensitive to every value), one test per
 * class of error with its exact one-line message, and the checks against the
 * keystore that decide whether a node may start.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/keystore.h"
#include "lib/ist_test.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/home.h"

/*
 * The golden genesis. Its keys are derived from fixed secrets (computed with
 * Python's `cryptography`, independently of this code base):
 *   ED(i)   Ed25519 public key of the seed of 32 bytes i
 *   SECP(i) compressed secp256k1 public key of the secret scalar i (1: G)
 *   X(i)    X25519 public key of the secret of 32 bytes 0x40+i
 * and the EIP-55 addresses of SECP(1), SECP(2) are the well-known addresses
 * of the secret keys 1 and 2.
 */
#define ED1 "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
#define ED2 "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394"
#define ED3 "ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1"
#define SECP1 "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
#define SECP2 "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"
#define SECP3 "02f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9"
#define X1 "7a1a4e709bf085ac494aba0469b9b1eda0ab1f78b16aabb79ffeda90623e8522"
#define X2 "132c442be010fbd57e72603328aa76e71fccc1503aae219327d14d9c9993f472"
#define X3 "cdefd8783a91b446640e2e1f95599db35e484a0071bd2182b3b60d0812c10c70"
#define ADDR1 "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"
#define ADDR2 "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF"

static const char GOLDEN[] =
	"{\n"
	"  \"chain_id\": \"golden-net\",\n"
	"  \"network_id\": \"1152921504606846983\",\n"
	"  \"genesis_time\": \"2024-01-01T00:00:00Z\",\n"
	"  \"consensus\": {\"timeout_base_ms\": 1000, \"timeout_max_ms\": 60000, \"max_block_items\": 1024,\n"
	"                \"max_block_bytes\": 1048576, \"epoch_length_blocks\": 1000},\n"
	"  \"validators\": [\n"
	"    {\"name\": \"alice\", \"node_key\": \"" ED1 "\", \"attestation_key\": \"" SECP1 "\",\n"
	"     \"attestation_address\": \"" ADDR1 "\", \"dkg_key\": \"" X1 "\",\n"
	"     \"address\": \"tcp://127.0.0.1:26600\", \"stake\": 1000},\n"
	"    {\"name\": \"bob\", \"node_key\": \"" ED2 "\", \"attestation_key\": \"" SECP2 "\",\n"
	"     \"dkg_key\": \"" X2 "\", \"address\": \"tls+tcp://node.example:26601\",\n"
	"     \"stake\": \"1152921504606846976\"}\n"
	"  ],\n"
	"  \"accounts\": [{\"key\": \"" ED3 "\", \"balance\": 5000}],\n"
	"  \"chains\": [{\"id\": 5, \"name\": \"devchain-a\"}],\n"
	"  \"staking\": {\"max_validators\": 100, \"min_stake\": 1, \"unbonding_epochs\": 2,\n"
	"              \"slash_fraction_bps\": 1000, \"jail_missed_bps\": 9000, \"jail_cooldown_epochs\": 1}\n"
	"}\n";

/*
 * The canonical bytes of GOLDEN, written out by the layout of
 * docs/configuration.md (and node/genesis.h), field by field, and their
 * tagged hash SHA-256("isthmus/genesis/v1" || bytes), both computed by a
 * separate Python implementation of that layout.
 */
static const char GOLDEN_BYTES[] =
	"0000000a" "676f6c64656e2d6e6574"          /* var chain_id "golden-net" */
	"1000000000000007"                        /* network_id 2^60 + 7 */
	"0000000065920080"                        /* genesis_time 1704067200 */
	"00000000000003e8" "000000000000ea60"     /* timeouts 1000, 60000 */
	"00000400" "00100000"                     /* max_block_items 1024, max_block_bytes 2^20 */
	"00000000000003e8"                        /* epoch_length_blocks 1000 */
	"00000002"                                /* two validators */
	"00000005" "616c696365" ED1 SECP1 X1      /* alice */
	"00000015" "7463703a2f2f3132372e302e302e313a3236363030" "00000000000003e8"
	"00000003" "626f62" ED2 SECP2 X2          /* bob */
	"0000001c" "746c732b7463703a2f2f6e6f64652e6578616d706c653a3236363031" "1000000000000000"
	"00000001" ED3 "0000000000001388"         /* one account, balance 5000 */
	"00000001" "0000000000000005"             /* one chain, id 5 */
	"0000000a" "646576636861696e2d61"         /* name "devchain-a" */
	"00000064" "0000000000000001"             /* staking: max_validators 100, min_stake 1 */
	"0000000000000002"                        /* unbonding_epochs 2 */
	"000003e8" "00002328"                     /* slash_fraction_bps 1000, jail_missed_bps 9000 */
	"0000000000000001";                       /* jail_cooldown_epochs 1 */
#define GOLDEN_HASH "c676ebf8178916cd4b7e79c7b56719bae6e388d4bffd048950395d3a1f6cb985"

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
}

/* ---- helpers ------------------------------------------------------------------ */

static char *line_of(const struct ist_json_err *e)
{
	static char line[2048];
	return (char *)ist_json_err_format(e, line, sizeof(line));
}

static void parse_ok(const char *text, struct ist_node_genesis *g)
{
	struct ist_json_err err;
	int r = ist_node_genesis_parse(text, strlen(text), "genesis.json", g, &err);
	ck_assert_msg(r == 0, "parse failed: %s", line_of(&err));
}

static void hash_hex(const struct ist_node_genesis *g, char out[65])
{
	ist_hex_encode(g->hash, IST_HASH_BYTES, out);
}

static json_t *golden(void)
{
	json_error_t je;
	json_t *j = json_loads(GOLDEN, JSON_REJECT_DUPLICATES, &je);
	ck_assert_msg(j != NULL, "GOLDEN: %s", je.text);
	return j;
}

static json_t *val(json_t *g, size_t i)
{
	return json_array_get(json_object_get(g, "validators"), i);
}

/* Parses `j` (consumed) as genesis.json and checks the error line and code. */
static void expect_genesis_err(json_t *j, int code, const char *want)
{
	char *text = json_dumps(j, JSON_INDENT(2));
	json_decref(j);
	ck_assert_ptr_nonnull(text);
	struct ist_node_genesis g;
	struct ist_json_err err;
	int r = ist_node_genesis_parse(text, strlen(text), "genesis.json", &g, &err);
	free(text);
	ck_assert_msg(r == code, "got %s (%s), want %s", ist_errname(r), r ? line_of(&err) : "", ist_errname(code));
	ck_assert_str_eq(line_of(&err), want);
}

static void expect_genesis_text_err(const char *text, int code, const char *want)
{
	struct ist_node_genesis g;
	struct ist_json_err err;
	int r = ist_node_genesis_parse(text, strlen(text), "genesis.json", &g, &err);
	ck_assert_msg(r == code, "got %s, want %s", ist_errname(r), ist_errname(code));
	ck_assert_str_eq(line_of(&err), want);
}

/* The hash of `j` (consumed). */
static void hash_of(json_t *j, char out[65])
{
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	struct ist_node_genesis g;
	parse_ok(text, &g);
	free(text);
	hash_hex(&g, out);
	ist_node_genesis_fini(&g);
}

static void expect_config_err(const char *text, int code, const char *want)
{
	struct ist_node_config cfg;
	struct ist_json_err err;
	int r = ist_node_config_parse(text, strlen(text), "config.json", "/srv/node", &cfg, &err);
	ck_assert_msg(r == code, "got %s (%s), want %s", ist_errname(r), r ? line_of(&err) : "", ist_errname(code));
	ck_assert_str_eq(line_of(&err), want);
}

/* ---- the genesis: values and hash --------------------------------------------------------------- */

START_TEST(genesis_golden_values)
{
	struct ist_node_genesis g;
	parse_ok(GOLDEN, &g);
	ck_assert_str_eq(g.chain_id, "golden-net");
	ck_assert_uint_eq(g.network_id, (1ULL << 60) + 7);
	ck_assert_uint_eq(g.genesis_time, 1704067200);
	ck_assert_uint_eq(g.consensus.timeout_base_ms, 1000);
	ck_assert_uint_eq(g.consensus.timeout_max_ms, 60000);
	ck_assert_uint_eq(g.consensus.max_block_items, 1024);
	ck_assert_uint_eq(g.consensus.max_block_bytes, 1048576);
	ck_assert_uint_eq(g.consensus.epoch_length_blocks, 1000);
	ck_assert_uint_eq(g.n_validators, 2);
	ck_assert_str_eq(g.validators[0].name, "alice");
	ck_assert_str_eq(g.validators[1].address, "tls+tcp://node.example:26601");
	ck_assert_uint_eq(g.validators[1].stake, 1ULL << 60);
	uint8_t want[33];
	ist_test_unhex(ED2, want, 32);
	ck_assert_mem_eq(g.validators[1].node_key, want, 32);
	ist_test_unhex(SECP1, want, 33);
	ck_assert_mem_eq(g.validators[0].attestation_key, want, 33);
	ist_test_unhex(X2, want, 32);
	ck_assert_mem_eq(g.validators[1].dkg_key, want, 32);
	/* the address is derived even where the file leaves it out */
	char addr[43];
	ist_eth_address_format(g.validators[1].attestation_address, addr);
	ck_assert_str_eq(addr, ADDR2);
	ck_assert_uint_eq(g.total_stake, (1ULL << 60) + 1000);
	ck_assert_uint_eq(g.n_accounts, 1);
	ck_assert_uint_eq(g.accounts[0].balance, 5000);
	ck_assert_int_eq(ist_node_genesis_find(&g, want), -1);
	ist_test_unhex(ED2, want, 32);
	ck_assert_int_eq(ist_node_genesis_find(&g, want), 1);
	ist_node_genesis_fini(&g);
}
END_TEST

START_TEST(genesis_golden_hash)
{
	struct ist_node_genesis g;
	parse_ok(GOLDEN, &g);
	uint8_t *bytes = NULL;
	size_t len = 0;
	ck_assert_int_eq(ist_node_genesis_bytes(&g, &bytes, &len), 0);
	char *hex = malloc(2 * len + 1);
	ist_hex_encode(bytes, len, hex);
	ck_assert_str_eq(hex, GOLDEN_BYTES);
	free(hex);
	free(bytes);
	char h[65];
	hash_hex(&g, h);
	ck_assert_str_eq(h, GOLDEN_HASH);
	ist_node_genesis_fini(&g);
}
END_TEST

START_TEST(genesis_hash_ignores_formatting)
{
	char h[65];
	/* compact, keys sorted: a different text, the same values */
	json_t *j = golden();
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	ck_assert_str_ne(text, GOLDEN);
	struct ist_node_genesis g;
	parse_ok(text, &g);
	free(text);
	hash_hex(&g, h);
	ck_assert_str_eq(h, GOLDEN_HASH);
	ist_node_genesis_fini(&g);
	/* a number spelt as a decimal string, the address left out, keys in
	 * upper case with a 0x prefix */
	j = golden();
	json_object_set_new(val(j, 0), "stake", json_string("1000"));
	json_object_del(val(j, 0), "attestation_address");
	json_object_set_new(val(j, 1), "node_key", json_string("0x8139770EA87D175F56A35466C34C7ECCCB8D8A91B4EE37A25DF60F5B8FC9B394"));
	hash_of(j, h);
	ck_assert_str_eq(h, GOLDEN_HASH);
}
END_TEST

START_TEST(genesis_hash_covers_every_value)
{
	/* each mutation still parses and must change the hash; all differ */
	enum { N = 22 };
	char seen[N][65];
	for (int m = 0; m < N; m++) {
		json_t *j = golden();
		json_t *c = json_object_get(j, "consensus");
		json_t *v0 = val(j, 0), *v1 = val(j, 1);
		switch (m) {
		case 0: json_object_set_new(j, "chain_id", json_string("golden-net2")); break;
		case 1: json_object_set_new(j, "network_id", json_integer(7)); break;
		case 2: json_object_set_new(j, "genesis_time", json_string("2024-01-01T00:00:01Z")); break;
		case 3: json_object_set_new(c, "timeout_base_ms", json_integer(999)); break;
		case 4: json_object_set_new(c, "timeout_max_ms", json_integer(60001)); break;
		case 5: json_object_set_new(c, "max_block_items", json_integer(1023)); break;
		case 6: json_object_set_new(c, "max_block_bytes", json_integer(1048575)); break;
		case 7: json_object_set_new(c, "epoch_length_blocks", json_integer(1001)); break;
		case 8: json_object_set_new(v0, "name", json_string("alicia")); break;
		case 9: json_object_set_new(v0, "node_key", json_string(ED3)); break;
		case 10:
			json_object_set_new(v0, "attestation_key", json_string(SECP3));
			json_object_del(v0, "attestation_address");
			break;
		case 11: json_object_set_new(v0, "dkg_key", json_string(X3)); break;
		case 12: json_object_set_new(v0, "address", json_string("tcp://127.0.0.1:26602")); break;
		case 13: json_object_set_new(v0, "stake", json_integer(1001)); break;
		case 14: {
			/* the order of the validators is their index */
			json_t *vals = json_object_get(j, "validators");
			json_incref(v0);
			json_array_remove(vals, 0);
			json_array_append_new(vals, v0);
			break;
		}
		case 15: json_object_set_new(json_array_get(json_object_get(j, "accounts"), 0), "balance", json_integer(5001)); break;
		case 16: json_object_set_new(json_array_get(json_object_get(j, "accounts"), 0), "key", json_string(ED1)); break;
		case 17: json_object_del(j, "accounts"); break;
		case 18: (void)v1; json_array_remove(json_object_get(j, "validators"), 1); break;
		case 19: json_object_set_new(json_object_get(j, "staking"), "max_validators", json_integer(99)); break;
		case 20: json_object_set_new(json_object_get(j, "staking"), "slash_fraction_bps", json_integer(999)); break;
		case 21: json_object_set_new(json_object_get(j, "staking"), "jail_cooldown_epochs", json_integer(2)); break;
		}
		hash_of(j, seen[m]);
		ck_assert_msg(strcmp(seen[m], GOLDEN_HASH) != 0, "mutation %d kept the hash", m);
		for (int k = 0; k < m; k++)
			ck_assert_msg(strcmp(seen[m], seen[k]) != 0, "mutations %d and %d collide", k, m);
	}
}
END_TEST

START_TEST(genesis_format_round_trip)
{
	struct ist_node_genesis g, back;
	parse_ok(GOLDEN, &g);
	char *text = NULL;
	ck_assert_int_eq(ist_node_genesis_format(&g, &text), 0);
	/* u64 above 2^53 are written as strings, the address always */
	ck_assert_ptr_nonnull(strstr(text, "\"network_id\": \"1152921504606846983\""));
	ck_assert_ptr_nonnull(strstr(text, "\"attestation_address\": \"" ADDR2 "\""));
	ck_assert_ptr_nonnull(strstr(text, "\"balance\": 5000"));
	parse_ok(text, &back);
	ck_assert_mem_eq(back.hash, g.hash, IST_HASH_BYTES);
	char *again = NULL;
	ck_assert_int_eq(ist_node_genesis_format(&back, &again), 0);
	ck_assert_str_eq(again, text);
	free(again);
	free(text);
	ist_node_genesis_fini(&back);
	ist_node_genesis_fini(&g);
}
END_TEST

/* A genesis's route limits: parsed, formatted back the same, in the hash
 * only when present, and refused with the field and the reason when wrong. */
static json_t *two_chains(void)
{
	json_t *j = golden();
	json_object_set_new(j, "chains", json_pack("[{s:i,s:s},{s:i,s:s}]", "id", 5, "name", "devchain-a", "id", 6, "name",
						   "devchain-b"));
	return j;
}

static json_t *limited(int dst, int window, int count, int high, int delay)
{
	json_t *j = two_chains();
	json_object_set_new(j, "route_limits",
			    json_pack("[{s:i,s:i,s:i,s:i,s:i,s:i}]", "src_chain", 5, "dst_chain", dst, "window_blocks", window,
				      "max_count", count, "high_value", high, "delay_blocks", delay));
	return j;
}

START_TEST(genesis_route_limits)
{
	char without[65], with[65];
	hash_of(two_chains(), without);
	json_t *j = limited(6, 100, 10, 1000, 50);
	char *text = json_dumps(j, JSON_INDENT(2));
	hash_of(j, with);
	ck_assert_str_ne(with, without);
	struct ist_node_genesis g, back;
	parse_ok(text, &g);
	free(text);
	ck_assert_uint_eq(g.n_route_limits, 1);
	ck_assert_uint_eq(g.route_limits[0].src, 5);
	ck_assert_uint_eq(g.route_limits[0].dst, 6);
	ck_assert_uint_eq(g.route_limits[0].lim.window_blocks, 100);
	ck_assert_uint_eq(g.route_limits[0].lim.max_count, 10);
	ck_assert_uint_eq(g.route_limits[0].lim.max_value, 0);
	ck_assert_uint_eq(g.route_limits[0].lim.delay_blocks, 50);
	char *out = NULL;
	ck_assert_int_eq(ist_node_genesis_format(&g, &out), 0);
	parse_ok(out, &back);
	free(out);
	ck_assert_mem_eq(back.hash, g.hash, IST_HASH_BYTES);
	ck_assert_uint_eq(back.n_route_limits, 1);
	ist_node_genesis_fini(&back);
	ist_node_genesis_fini(&g);

	expect_genesis_err(limited(7, 100, 10, 0, 0), -IST_ECONFIG,
			   "genesis.json: route_limits[0]: must be a route between two different chains of \"chains\" "
			   "(got 5 -> 7)");
	expect_genesis_err(limited(5, 100, 10, 0, 0), -IST_ECONFIG,
			   "genesis.json: route_limits[0]: must be a route between two different chains of \"chains\" "
			   "(got 5 -> 5)");
	expect_genesis_err(limited(6, 100, 0, 0, 0), -IST_ECONFIG,
			   "genesis.json: route_limits[0]: with a window, max_count is 1 to 100000 (got 0)");
	expect_genesis_err(limited(6, 0, 0, 1000, 0), -IST_ECONFIG,
			   "genesis.json: route_limits[0]: high_value and delay_blocks go together (both 0 for no delay rule)");
	expect_genesis_err(limited(6, 0, 0, 0, 0), -IST_ECONFIG,
			   "genesis.json: route_limits[0]: limits nothing: give a window (window_blocks, max_count) or a "
			   "delay (high_value, delay_blocks)");
	j = limited(6, 100, 10, 0, 0);
	json_array_append(json_object_get(j, "route_limits"), json_array_get(json_object_get(j, "route_limits"), 0));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: route_limits[1]: route 5 -> 6 is limited twice (also route_limits[0])");
}
END_TEST

START_TEST(genesis_check_in_memory)
{
	/* what `isthmus testnet` builds goes through the same rules */
	struct ist_node_genesis g;
	parse_ok(GOLDEN, &g);
	struct ist_json_err err;
	memcpy(g.validators[1].dkg_key, g.validators[0].dkg_key, 32);
	ck_assert_int_eq(ist_node_genesis_check(&g, "genesis.json", &err), -IST_ECONFIG);
	ck_assert_str_eq(line_of(&err), "genesis.json: validators[1].dkg_key: duplicate of validators[0].dkg_key");
	ist_node_genesis_fini(&g);
}
END_TEST

/* ---- the genesis: errors, one class per test ---------------------------------------- */

START_TEST(genesis_err_wrong_type)
{
	json_t *j = golden();
	json_object_set_new(j, "chain_id", json_integer(5));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: chain_id: must be a string (got 5)");
	j = golden();
	json_object_set_new(j, "consensus", json_array());
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: consensus: must be an object (got an array)");
	j = golden();
	json_object_set_new(val(j, 1), "stake", json_real(2.5));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators[1].stake: must be a positive integer (got 2.5)");
	j = golden();
	json_object_set_new(val(j, 0), "stake", json_string("12abc"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[0].stake: must be a positive integer (got \"12abc\")");
	j = golden();
	json_object_set_new(j, "validators", json_true());
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators: must be an array (got true)");
	expect_genesis_text_err("[1, 2]", -IST_ECONFIG, "genesis.json: must be a JSON object (got an array)");
}
END_TEST

START_TEST(genesis_err_out_of_range)
{
	json_t *j = golden();
	json_object_set_new(val(j, 1), "stake", json_integer(-5));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators[1].stake: must be a positive integer (got -5)");
	j = golden();
	json_object_set_new(val(j, 1), "stake", json_integer(0));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators[1].stake: must be a positive integer (got 0)");
	j = golden();
	json_object_set_new(json_object_get(j, "consensus"), "timeout_base_ms", json_integer(50));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: consensus.timeout_base_ms: must be an integer from 100 to 3600000 (got 50)");
	j = golden();
	json_object_set_new(json_object_get(j, "consensus"), "timeout_max_ms", json_integer(999));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: consensus.timeout_max_ms: must be an integer from 1000 to 3600000 (got 999)");
	j = golden();
	json_object_set_new(json_object_get(j, "consensus"), "max_block_items", json_integer(1025));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: consensus.max_block_items: must be an integer from 1 to 1024 (got 1025)");
	/* above 2^53 a JSON number is not exact in every tool: a string is required */
	j = golden();
	json_object_set_new(j, "network_id", json_integer(9007199254740993LL));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: network_id: must be a decimal string when above 2^53, which JSON tools round "
			   "(got 9007199254740993)");
	j = golden();
	json_object_set_new(j, "network_id", json_string("18446744073709551616"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: network_id: must be a positive integer (got \"18446744073709551616\")");
	j = golden();
	json_object_set_new(val(j, 0), "stake", json_string("18446744073709551615"));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators[1].stake: the total stake exceeds 2^64 - 1");
	j = golden();
	json_object_set_new(json_array_get(json_object_get(j, "accounts"), 0), "balance",
			    json_string("18446744073709550000"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: accounts[0].balance: the total supply (stakes and balances) exceeds 2^64 - 1");
	j = golden();
	json_object_set_new(j, "validators", json_array());
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators: must list 1 to 256 validators (got 0)");
	j = golden();
	json_t *many = json_array();
	for (int i = 0; i < 257; i++)
		json_array_append(many, val(j, 0));
	json_object_set_new(j, "validators", many);
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators: must list 1 to 256 validators (got 257)");
	j = golden();
	json_object_set_new(j, "genesis_time", json_string("2023-02-29T00:00:00Z"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: genesis_time: must be an RFC 3339 UTC time YYYY-MM-DDTHH:MM:SSZ from 1970 to "
			   "9999 (got \"2023-02-29T00:00:00Z\")");
	j = golden();
	json_object_set_new(j, "chain_id", json_string("Golden_Net"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: chain_id: must be 1 to 64 characters of a-z, 0-9 and - (got \"Golden_Net\")");
	j = golden();
	json_object_set_new(val(j, 1), "name", json_string(".bob"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[1].name: must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and "
			   "'-', not starting with '.' or '-' (got \".bob\")");
}
END_TEST

START_TEST(genesis_err_unknown_field)
{
	json_t *j = golden();
	json_object_set_new(val(j, 1), "stak", json_integer(5));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators[1].stak: unknown field (did you mean \"stake\"?)");
	j = golden();
	json_object_set_new(j, "fees", json_integer(5));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: fees: unknown field");
	j = golden();
	json_object_set_new(json_object_get(j, "consensus"), "epoch_length", json_integer(5));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: consensus.epoch_length: unknown field");
	j = golden();
	json_object_set_new(j, "bad\nkey", json_integer(5));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: unknown field (a string of 7 bytes)");
}
END_TEST

START_TEST(genesis_err_missing_field)
{
	json_t *j = golden();
	json_object_del(val(j, 1), "dkg_key");
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators[1].dkg_key: missing required field");
	j = golden();
	json_object_del(j, "consensus");
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: consensus: missing required field");
	j = golden();
	json_object_del(json_object_get(j, "consensus"), "epoch_length_blocks");
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: consensus.epoch_length_blocks: missing required field");
}
END_TEST

START_TEST(genesis_err_duplicates)
{
	static const char *const fields[] = { "name", "node_key", "attestation_key", "dkg_key", "address" };
	for (size_t i = 0; i < 5; i++) {
		json_t *j = golden();
		json_object_set(val(j, 1), fields[i], json_object_get(val(j, 0), fields[i]));
		char want[256];
		snprintf(want, sizeof(want), "genesis.json: validators[1].%s: duplicate of validators[0].%s", fields[i],
			 fields[i]);
		expect_genesis_err(j, -IST_ECONFIG, want);
	}
	json_t *j = golden();
	json_t *accts = json_object_get(j, "accounts");
	json_array_append(accts, json_array_get(accts, 0));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: accounts[1].key: duplicate of accounts[0].key");
	/* the same key twice in one object is a JSON error, with its place */
	expect_genesis_text_err("{\"chain_id\": \"a\",\n \"chain_id\": \"b\"}", -IST_EPARSE,
				"genesis.json: line 2, column 11: invalid JSON: duplicate object key near "
				"'\"chain_id\"'");
}
END_TEST

START_TEST(genesis_err_bad_keys)
{
	json_t *j = golden();
	json_object_set_new(val(j, 0), "node_key", json_string(&ED1[1])); /* 63 hex digits */
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[0].node_key: must be an Ed25519 public key of 64 hex digits (got 63 "
			   "characters)");
	j = golden();
	json_object_set_new(val(j, 0), "dkg_key", json_string("zz1a4e709bf085ac494aba0469b9b1eda0ab1f78b16aabb79ffeda90623e8522"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[0].dkg_key: must be an X25519 public key of 64 hex digits (got a "
			   "non-hex character)");
	/* valid hex, not a valid point: y = 0 is a point of small order */
	j = golden();
	json_object_set_new(val(j, 0), "node_key",
			    json_string("0000000000000000000000000000000000000000000000000000000000000000"));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators[0].node_key: is not a valid Ed25519 public key");
	j = golden();
	json_object_set_new(val(j, 1), "attestation_key",
			    json_string("04c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[1].attestation_key: is not a valid compressed secp256k1 public key");
	j = golden();
	json_object_set_new(val(j, 1), "dkg_key",
			    json_string("0000000000000000000000000000000000000000000000000000000000000000"));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: validators[1].dkg_key: is not a valid X25519 public key");
	j = golden();
	json_object_set_new(json_array_get(json_object_get(j, "accounts"), 0), "key",
			    json_string("0100000000000000000000000000000000000000000000000000000000000000"));
	expect_genesis_err(j, -IST_ECONFIG, "genesis.json: accounts[0].key: is not a valid Ed25519 public key");
}
END_TEST

START_TEST(genesis_err_bad_url)
{
	json_t *j = golden();
	json_object_set_new(val(j, 0), "address", json_string("tcp://127.0.0.1"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[0].address: must be tcp://HOST:PORT or tls+tcp://HOST:PORT (got "
			   "\"tcp://127.0.0.1\": port missing)");
	j = golden();
	json_object_set_new(val(j, 0), "address", json_string("http://127.0.0.1:26600"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[0].address: must be tcp://HOST:PORT or tls+tcp://HOST:PORT (got "
			   "\"http://127.0.0.1:26600\": unsupported scheme)");
	j = golden();
	json_object_set_new(val(j, 0), "address", json_string("tcp://0.0.0.0:26600"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[0].address: must be tcp://HOST:PORT or tls+tcp://HOST:PORT (got "
			   "\"tcp://0.0.0.0:26600\": 0.0.0.0 is a bind address, not one peers can connect to)");
	j = golden();
	json_object_set_new(val(j, 0), "address", json_string("tcp://127.0.0.1:65536"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[0].address: must be tcp://HOST:PORT or tls+tcp://HOST:PORT (got "
			   "\"tcp://127.0.0.1:65536\": port must be from 1 to 65535)");
}
END_TEST

START_TEST(genesis_err_eip55)
{
	json_t *j = golden();
	json_object_set_new(val(j, 0), "attestation_address", json_string("0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[0].attestation_address: is not the EIP-55 address of attestation_key "
			   "(expected " ADDR1 ")");
	j = golden();
	json_object_set_new(val(j, 0), "attestation_address", json_string(ADDR2));
	expect_genesis_err(j, -IST_ECONFIG,
			   "genesis.json: validators[0].attestation_address: is not the EIP-55 address of attestation_key "
			   "(expected " ADDR1 ")");
}
END_TEST

START_TEST(genesis_err_json_syntax)
{
	expect_genesis_text_err("{\n  \"chain_id\": \"x\",\n  \"network_id\": 1,,\n}", -IST_EPARSE,
				"genesis.json: line 3, column 19: invalid JSON: string or '}' expected near ','");
	expect_genesis_text_err("", -IST_EPARSE,
				"genesis.json: line 1, column 1: invalid JSON: '[' or '{' expected near end of file");
	/* a cut-off file names where it ends */
	size_t cut = strlen(GOLDEN) / 2;
	struct ist_node_genesis g;
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_genesis_parse(GOLDEN, cut, "genesis.json", &g, &err), -IST_EPARSE);
	ck_assert_int_gt(err.line, 1);
	ck_assert_ptr_nonnull(strstr(line_of(&err), "invalid JSON"));
}
END_TEST

START_TEST(genesis_err_file)
{
	char *dir = ist_test_tmpdir("ist-genesis");
	char *path = NULL;
	ck_assert_int_gt(asprintf(&path, "%s/genesis.json", dir), 0);
	struct ist_node_genesis g;
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_genesis_load(path, &g, &err), -IST_ENOTFOUND);
	char want[512];
	snprintf(want, sizeof(want), "%s: no such file", path);
	ck_assert_str_eq(line_of(&err), want);
	ck_assert_int_eq(ist_node_file_write(path, GOLDEN, strlen(GOLDEN), false, &err), 0);
	ck_assert_int_eq(ist_node_genesis_load(path, &g, &err), 0);
	char h[65];
	hash_hex(&g, h);
	ck_assert_str_eq(h, GOLDEN_HASH);
	ist_node_genesis_fini(&g);
	/* a syntax error in a file names the file */
	ck_assert_int_eq(ist_node_file_write(path, "{\"a\" 1}", 7, true, &err), 0);
	ck_assert_int_eq(ist_node_genesis_load(path, &g, &err), -IST_EPARSE);
	snprintf(want, sizeof(want), "%s: line 1, column 6: invalid JSON: ':' expected near '1'", path);
	ck_assert_str_eq(line_of(&err), want);
	ck_assert_int_eq(ist_node_genesis_load(dir, &g, &err), -IST_EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	ck_assert_str_eq(line_of(&err), want);
	ist_test_rmtree(dir);
	free(path);
	free(dir);
}
END_TEST

/* ---- config.json ----------------------------------------------------------------------------- */

static const char CONFIG_FULL[] =
	"{\"moniker\": \"val-1\", \"role\": \"validator\", \"listen\": \"tls+tcp://0.0.0.0:27000\",\n"
	" \"api\": \"http://[::1]:27100\",\n"
	" \"key\": {\"keystore\": \"/etc/isthmus/keys\", \"name\": \"val1\", \"passphrase_file\": \"secret/pass\"},\n"
	" \"data_dir\": \"db\", \"log\": {\"level\": \"info,net=debug\", \"format\": \"json\"},\n"
	" \"peers\": [{\"node_key\": \"" ED2 "\", \"address\": \"tcp://10.0.0.2:26600\"}],\n"
	" \"limits\": {\"max_peer_msgs_per_sec\": 50, \"max_peer_burst\": 100, \"max_frame_bytes\": 500000},\n"
	" \"metrics\": {\"enabled\": false}}\n";

START_TEST(config_defaults)
{
	struct ist_node_config cfg;
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_config_parse("{}", 2, "config.json", "/srv/node", &cfg, &err), 0);
	ck_assert_str_eq(cfg.moniker, "validator");
	ck_assert_int_eq(cfg.role, IST_NODE_ROLE_VALIDATOR);
	ck_assert_str_eq(cfg.listen, "tcp://127.0.0.1:26600");
	ck_assert_str_eq(cfg.api, "http://127.0.0.1:26700");
	ck_assert_str_eq(cfg.listen_url.host, "127.0.0.1");
	ck_assert_uint_eq(cfg.listen_url.port, 26600);
	ck_assert_uint_eq(cfg.api_url.port, 26700);
	ck_assert_str_eq(cfg.key_name, "validator");
	ck_assert_str_eq(cfg.passphrase_file, "");
	ck_assert_ptr_null(cfg.passphrase_path);
	ck_assert_str_eq(cfg.keystore_path, "/srv/node/keys");
	ck_assert_str_eq(cfg.key_path, "/srv/node/keys/validator.json");
	ck_assert_str_eq(cfg.data_path, "/srv/node/data");
	ck_assert_str_eq(cfg.genesis_path, "/srv/node/genesis.json");
	ck_assert_str_eq(cfg.config_path, "config.json");
	ck_assert_str_eq(cfg.log_level, "info");
	ck_assert_int_eq(cfg.log_format, IST_LOG_TEXT);
	ck_assert_uint_eq(cfg.n_peers, 0);
	ck_assert_uint_eq(cfg.limits.max_peer_msgs_per_sec, 1000);
	ck_assert_uint_eq(cfg.limits.max_peer_burst, 2000);
	ck_assert_uint_eq(cfg.limits.max_frame_bytes, 1098000);
	ck_assert(cfg.metrics_enabled);
	ist_node_config_fini(&cfg);
	/* the moniker follows the key name unless given */
	const char *t = "{\"key\": {\"name\": \"v7\"}}";
	ck_assert_int_eq(ist_node_config_parse(t, strlen(t), "config.json", "/srv/node", &cfg, &err), 0);
	ck_assert_str_eq(cfg.moniker, "v7");
	ck_assert_str_eq(cfg.key_path, "/srv/node/keys/v7.json");
	ist_node_config_fini(&cfg);
}
END_TEST

START_TEST(config_values)
{
	struct ist_node_config cfg;
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_config_parse(CONFIG_FULL, strlen(CONFIG_FULL), "config.json", "/srv/node", &cfg, &err), 0);
	ck_assert_str_eq(cfg.moniker, "val-1");
	ck_assert_str_eq(cfg.listen_url.scheme, "tls+tcp");
	ck_assert_str_eq(cfg.listen_url.host, "0.0.0.0");
	ck_assert_uint_eq(cfg.listen_url.port, 27000);
	ck_assert_str_eq(cfg.api_url.host, "[::1]");
	ck_assert_str_eq(cfg.keystore_path, "/etc/isthmus/keys");   /* absolute stays */
	ck_assert_str_eq(cfg.key_path, "/etc/isthmus/keys/val1.json");
	ck_assert_str_eq(cfg.passphrase_path, "/srv/node/secret/pass");
	ck_assert_str_eq(cfg.data_path, "/srv/node/db");
	ck_assert_str_eq(cfg.log_level, "info,net=debug");
	ck_assert_int_eq(cfg.log_format, IST_LOG_JSON);
	ck_assert_uint_eq(cfg.n_peers, 1);
	ck_assert_str_eq(cfg.peers[0].address, "tcp://10.0.0.2:26600");
	uint8_t k[32];
	ist_test_unhex(ED2, k, 32);
	ck_assert_mem_eq(cfg.peers[0].node_key, k, 32);
	ck_assert_uint_eq(cfg.limits.max_peer_msgs_per_sec, 50);
	ck_assert_uint_eq(cfg.limits.max_peer_burst, 100);
	ck_assert_uint_eq(cfg.limits.max_frame_bytes, 500000);
	ck_assert(!cfg.metrics_enabled);
	/* format and parse again: the same values */
	char *text = NULL, *again = NULL;
	ck_assert_int_eq(ist_node_config_format(&cfg, &text), 0);
	struct ist_node_config back;
	ck_assert_int_eq(ist_node_config_parse(text, strlen(text), "config.json", "/srv/node", &back, &err), 0);
	ck_assert_int_eq(ist_node_config_format(&back, &again), 0);
	ck_assert_str_eq(again, text);
	ck_assert_str_eq(back.passphrase_path, cfg.passphrase_path);
	ck_assert_mem_eq(&back.limits, &cfg.limits, sizeof(cfg.limits));
	free(again);
	free(text);
	ist_node_config_fini(&back);
	ist_node_config_fini(&cfg);
}
END_TEST

START_TEST(config_errors)
{
	/* one per class, each the exact line */
	expect_config_err("{\"listen\": 26600}", -IST_ECONFIG, "config.json: listen: must be a string (got 26600)");
	expect_config_err("{\"limits\": {\"max_frame_bytes\": 10}}", -IST_ECONFIG,
			  "config.json: limits.max_frame_bytes: must be an integer from 4096 to 1098000 (got 10)");
	expect_config_err("{\"limits\": {\"max_peer_burst\": -1}}", -IST_ECONFIG,
			  "config.json: limits.max_peer_burst: must be an integer from 1 to 1000000 (got -1)");
	expect_config_err("{\"metrics\": {\"enable\": true}}", -IST_ECONFIG,
			  "config.json: metrics.enable: unknown field (did you mean \"enabled\"?)");
	expect_config_err("{\"moniker\": \"a\", \"listn\": \"tcp://1.2.3.4:1\"}", -IST_ECONFIG,
			  "config.json: listn: unknown field (did you mean \"listen\"?)");
	expect_config_err("{\"peers\": [{\"node_key\": \"" ED2 "\"}]}", -IST_ECONFIG,
			  "config.json: peers[0].address: missing required field");
	expect_config_err("{\"peers\": [{\"node_key\": \"" ED2 "\", \"address\": \"tcp://a:1\"},"
			  " {\"node_key\": \"" ED2 "\", \"address\": \"tcp://b:1\"}]}",
			  -IST_ECONFIG, "config.json: peers[1].node_key: duplicate of peers[0].node_key");
	expect_config_err("{\"api\": \"tcp://127.0.0.1:26700\"}", -IST_ECONFIG,
			  "config.json: api: must be http://HOST:PORT (got \"tcp://127.0.0.1:26700\": unsupported scheme)");
	expect_config_err("{\"listen\": \"tcp://bad_host:1\"}", -IST_ECONFIG,
			  "config.json: listen: must be tcp://HOST:PORT or tls+tcp://HOST:PORT (got \"tcp://bad_host:1\": "
			  "invalid host)");
	expect_config_err("{\"listen\": \"tcp://1.2.3.4:80/x\"}", -IST_ECONFIG,
			  "config.json: listen: must be tcp://HOST:PORT or tls+tcp://HOST:PORT (got \"tcp://1.2.3.4:80/x\": "
			  "a path is not allowed)");
	expect_config_err("{\"api\": \"http://127.0.0.1:26600\"}", -IST_ECONFIG,
			  "config.json: api: must not use the host and port of listen (tcp://127.0.0.1:26600)");
	expect_config_err("{\"role\": \"leader\"}", -IST_ECONFIG,
			  "config.json: role: must be \"validator\" or \"observer\" (got \"leader\")");
	expect_config_err("{\"log\": {\"format\": \"xml\"}}", -IST_ECONFIG,
			  "config.json: log.format: must be \"text\" or \"json\" (got \"xml\")");
	expect_config_err("{\"log\": {\"level\": \"info,net=loud\"}}", -IST_ECONFIG,
			  "config.json: log.level: must be a level (error, warn, info, debug, trace), optionally followed "
			  "by ,SUBSYSTEM=LEVEL overrides (got \"info,net=loud\")");
	expect_config_err("{\"key\": {\"name\": \"../x\"}}", -IST_ECONFIG,
			  "config.json: key.name: must be 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', not "
			  "starting with '.' or '-' (got \"../x\")");
	expect_config_err("{\"data_dir\": \"\"}", -IST_ECONFIG,
			  "config.json: data_dir: must be a path of 1 to 1024 bytes (got 0 bytes)");
	expect_config_err("{\"metrics\": {\"enabled\": 1}}", -IST_ECONFIG,
			  "config.json: metrics.enabled: must be true or false (got 1)");
	expect_config_err("{\n\"moniker\": \"x\"\n\"role\": 1}", -IST_EPARSE,
			  "config.json: line 3, column 6: invalid JSON: '}' expected near '\"role\"'");
}
END_TEST

START_TEST(config_file_missing)
{
	char *dir = ist_test_tmpdir("ist-config");
	struct ist_node_config cfg;
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_config_load(dir, &cfg, &err), -IST_ENOTFOUND);
	char want[512];
	snprintf(want, sizeof(want), "%s/config.json: no such file", dir);
	ck_assert_str_eq(line_of(&err), want);
	ist_test_rmtree(dir);
	free(dir);
}
END_TEST

/* ---- a home: config + genesis + keystore ------------------------------------------------------ */

struct home {
	char *dir;
	struct ist_keyset_info keys;
};

/* A home with a validator keyset "validator" (min KDF cost) and a genesis
 * whose validator 1 holds it (validator 0 is alice). */
/* home_make keeps the golden genesis's chain (id 5) only when this is set:
 * the other home tests are about keys and files, not chains */
static bool home_with_chains;

static void home_make(struct home *h, const char *config, bool in_genesis)
{
	static const enum ist_key_type types[] = { IST_KEY_ED25519, IST_KEY_SECP256K1, IST_KEY_X25519 };
	h->dir = ist_test_tmpdir("ist-home");
	struct ist_rng_det det;
	ist_rng_det_init(&det, 7);
	struct ist_keyset *ks = NULL;
	ck_assert_int_eq(ist_keyset_generate("validator", types, 3, &det.rng, &ks), 0);
	h->keys = *ist_keyset_info(ks);
	char *keys = NULL, *path = NULL;
	ck_assert_int_gt(asprintf(&keys, "%s/keys", h->dir), 0);
	struct ist_keystore_kdf kdf = ist_keystore_kdf_min();
	char line[1024];
	ck_assert_int_eq(ist_keystore_write(keys, ks, "pw", 2, &kdf, false, NULL, line, sizeof(line)), 0);
	ist_keyset_free(ks);
	free(keys);

	struct ist_node_genesis g;
	struct ist_json_err err;
	parse_ok(GOLDEN, &g);
	if (!home_with_chains)
		g.n_chains = 0;
	if (in_genesis) {
		memcpy(g.validators[1].node_key, h->keys.keys[0].pub, 32);
		memcpy(g.validators[1].attestation_key, h->keys.keys[1].pub, 33);
		memcpy(g.validators[1].attestation_address, h->keys.keys[1].addr, 20);
		memcpy(g.validators[1].dkg_key, h->keys.keys[2].pub, 32);
	}
	ck_assert_int_eq(ist_node_genesis_check(&g, "genesis.json", &err), 0);
	char *text = NULL;
	ck_assert_int_eq(ist_node_genesis_format(&g, &text), 0);
	ck_assert_int_gt(asprintf(&path, "%s/genesis.json", h->dir), 0);
	ck_assert_int_eq(ist_node_file_write(path, text, strlen(text), false, &err), 0);
	free(text);
	free(path);
	ist_node_genesis_fini(&g);
	ck_assert_int_gt(asprintf(&path, "%s/config.json", h->dir), 0);
	ck_assert_int_eq(ist_node_file_write(path, config, strlen(config), false, &err), 0);
	free(path);
}

static void home_free(struct home *h)
{
	ist_test_rmtree(h->dir);
	free(h->dir);
}

/* Loads the home; checks the code and, unless NULL, the line with "HOME"
 * standing for the home directory. */
static void expect_home(struct home *h, int code, const char *want)
{
	struct ist_node_config cfg;
	struct ist_node_genesis g;
	struct ist_node_identity id;
	struct ist_json_err err;
	int r = ist_node_home_load(h->dir, &cfg, &g, &id, &err);
	ck_assert_msg(r == code, "got %s (%s), want %s", ist_errname(r), r ? line_of(&err) : "", ist_errname(code));
	if (r == 0) {
		ist_node_config_fini(&cfg);
		ist_node_genesis_fini(&g);
	}
	if (!want)
		return;
	char expect[2048];
	size_t off = 0;
	for (const char *p = want; *p && off < sizeof(expect);) {
		const char *q = strstr(p, "HOME");
		int n = q ? snprintf(expect + off, sizeof(expect) - off, "%.*s%s", (int)(q - p), p, h->dir)
			  : snprintf(expect + off, sizeof(expect) - off, "%s", p);
		off += (size_t)n;
		if (!q)
			break;
		p = q + 4;
	}
	expect[sizeof(expect) - 1] = '\0';
	ck_assert_str_eq(line_of(&err), expect);
}

START_TEST(home_validator)
{
	struct home h;
	home_make(&h, "{}", true);
	struct ist_node_config cfg;
	struct ist_node_genesis g;
	struct ist_node_identity id;
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_home_load(h.dir, &cfg, &g, &id, &err), 0);
	ck_assert(id.validator);
	ck_assert_uint_eq(id.index, 1);
	ck_assert_mem_eq(id.keys.keys[0].pub, g.validators[1].node_key, 32);
	ist_node_config_fini(&cfg);
	ist_node_genesis_fini(&g);
	home_free(&h);
}
END_TEST

/* A validator must watch every chain of the genesis, and only those. */
START_TEST(home_chains)
{
	struct home h;
	home_with_chains = true;
	home_make(&h, "{}", true);
	expect_home(&h, -IST_ECONFIG,
		    "HOME/config.json: chains: has no RPC for chain 5 (devchain-a) of HOME/genesis.json: a validator "
		    "watches every chain of its network");
	home_free(&h);
	home_make(&h, "{\"chains\": [{\"id\": 6, \"rpc\": [\"http://127.0.0.1:8545\"]}]}", true);
	expect_home(&h, -IST_ECONFIG, "HOME/config.json: chains[0].id: chain 6 is not in the chains of HOME/genesis.json");
	home_free(&h);
	home_make(&h, "{\"chains\": [{\"id\": 5, \"rpc\": []}]}", true);
	expect_home(&h, -IST_ECONFIG, "HOME/config.json: chains[0].rpc: must be an array of 1 to 16 http:// URLs (got 0)");
	home_free(&h);
	home_make(&h, "{\"chains\": [{\"id\": 5, \"rpc\": [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"], "
		  "\"finality_depth\": 3}]}", true);
	struct ist_node_config cfg;
	struct ist_node_genesis g;
	struct ist_node_identity id;
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_home_load(h.dir, &cfg, &g, &id, &err), 0);
	ck_assert_uint_eq(cfg.n_chains, 1);
	ck_assert_uint_eq(cfg.chains[0].n_rpc, 2);
	ck_assert_str_eq(cfg.chains[0].rpc[1], "http://127.0.0.1:8546");
	ck_assert_uint_eq(cfg.chains[0].finality_depth, 3);
	ck_assert_uint_eq(cfg.chains[0].poll_ms, IST_NODE_DEFAULT_POLL_MS);
	ist_node_config_fini(&cfg);
	ist_node_genesis_fini(&g);
	home_free(&h);
	home_with_chains = false;
}
END_TEST

START_TEST(home_not_in_genesis)
{
	struct home h;
	home_make(&h, "{}", false);
	/* a validator keyset not in the genesis: one that joins by staking */
	expect_home(&h, 0, NULL);
	home_free(&h);
	/* an observer needs no place in the genesis, nor a keyset */
	home_make(&h, "{\"role\": \"observer\", \"key\": {\"name\": \"nobody\"}}", false);
	expect_home(&h, 0, NULL);
	home_free(&h);
}
END_TEST

START_TEST(home_key_mismatch)
{
	struct home h;
	home_make(&h, "{}", true);
	/* the genesis lists the node key with another attestation key */
	char *path = NULL, *text = NULL;
	ck_assert_int_gt(asprintf(&path, "%s/genesis.json", h.dir), 0);
	struct ist_node_genesis g;
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_genesis_load(path, &g, &err), 0);
	ist_test_unhex(SECP3, g.validators[1].attestation_key, 33);
	ck_assert_int_eq(ist_secp_eth_address(g.validators[1].attestation_key, g.validators[1].attestation_address), 0);
	ck_assert_int_eq(ist_node_genesis_check(&g, "x", &err), 0);
	ck_assert_int_eq(ist_node_genesis_format(&g, &text), 0);
	ck_assert_int_eq(ist_node_file_write(path, text, strlen(text), true, &err), 0);
	expect_home(&h, -IST_ECONFIG,
		    "HOME/config.json: key.name: keyset \"validator\" has the node key of genesis validators[1] "
		    "(\"bob\") but not its attestation_key");
	free(text);
	free(path);
	ist_node_genesis_fini(&g);
	home_free(&h);
}
END_TEST

START_TEST(home_file_problems)
{
	struct home h;
	home_make(&h, "{}", true);
	char *key = NULL, *keys = NULL;
	ck_assert_int_gt(asprintf(&key, "%s/keys/validator.json", h.dir), 0);
	ck_assert_int_gt(asprintf(&keys, "%s/keys", h.dir), 0);
	ck_assert_int_eq(chmod(key, 0644), 0);
	expect_home(&h, -IST_EPERM,
		    "HOME/keys/validator.json: key file is accessible by group or others (mode 0644); fix with: chmod 600 "
		    "HOME/keys/validator.json");
	ck_assert_int_eq(chmod(key, 0600), 0);
	ck_assert_int_eq(chmod(keys, 0755), 0);
	expect_home(&h, -IST_EPERM,
		    "HOME/keys: keystore directory is accessible by group or others (mode 0755); fix with: chmod 700 "
		    "HOME/keys");
	ck_assert_int_eq(chmod(keys, 0700), 0);
	ck_assert_int_eq(unlink(key), 0);
	expect_home(&h, -IST_ENOTFOUND, "HOME/keys/validator.json: no such key file");
	free(key);
	free(keys);
	home_free(&h);

	/* a passphrase file the config names must exist and be private */
	home_make(&h, "{\"key\": {\"passphrase_file\": \"pass\"}}", true);
	expect_home(&h, -IST_ENOTFOUND, "HOME/config.json: key.passphrase_file: HOME/pass: no such file");
	char *pass = NULL;
	ck_assert_int_gt(asprintf(&pass, "%s/pass", h.dir), 0);
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_file_write(pass, "pw\n", 3, false, &err), 0);
	expect_home(&h, 0, NULL);
	ck_assert_int_eq(chmod(pass, 0640), 0);
	expect_home(&h, -IST_EPERM,
		    "HOME/config.json: key.passphrase_file: HOME/pass is accessible by group or others (mode 0640); fix "
		    "with: chmod 600 HOME/pass");
	free(pass);
	home_free(&h);

	/* the genesis is checked at start too */
	home_make(&h, "{}", true);
	char *gpath = NULL;
	ck_assert_int_gt(asprintf(&gpath, "%s/genesis.json", h.dir), 0);
	ck_assert_int_eq(unlink(gpath), 0);
	expect_home(&h, -IST_ENOTFOUND, "HOME/genesis.json: no such file");
	free(gpath);
	home_free(&h);
}
END_TEST

START_TEST(home_peers_and_limits)
{
	struct home h;
	home_make(&h, "{\"peers\": [{\"node_key\": \"" ED1 "\", \"address\": \"tcp://10.1.1.1:26600\"}]}", true);
	expect_home(&h, 0, NULL);   /* alice is a genesis validator */
	home_free(&h);
	home_make(&h, "{\"peers\": [{\"node_key\": \"" ED3 "\", \"address\": \"tcp://10.1.1.1:26600\"}]}", true);
	expect_home(&h, -IST_ECONFIG, "HOME/config.json: peers[0].node_key: is not a validator's node key in HOME/genesis.json");
	home_free(&h);
	home_make(&h, "{\"limits\": {\"max_frame_bytes\": 500000}}", true);
	expect_home(&h, -IST_ECONFIG,
		    "HOME/config.json: limits.max_frame_bytes: must be at least 1098000 to carry the largest proposal of the "
		    "genesis (consensus.max_block_bytes 1048576) (got 500000)");
	home_free(&h);
}
END_TEST

/* ---- small parts --------------------------------------------------------------------------------- */

START_TEST(urls)
{
	struct ist_node_url u;
	char p[256];
	ck_assert_int_eq(ist_node_url_parse("tcp://[::1]:26600", IST_NODE_URL_P2P, false, &u, p, sizeof(p)), 0);
	ck_assert_str_eq(u.host, "[::1]");
	ck_assert_uint_eq(u.port, 26600);
	ck_assert_int_eq(ist_node_url_parse("tls+tcp://a.b-c.example:1", IST_NODE_URL_P2P, false, &u, p, sizeof(p)), 0);
	ck_assert_str_eq(u.scheme, "tls+tcp");
	ck_assert_int_eq(ist_node_url_parse("tcp://[::]:1", IST_NODE_URL_P2P, true, &u, p, sizeof(p)), 0);
	static const char *const bad[] = {
		"tcp://[::]:1", "tcp://1.2.3.4:0", "tcp://1.2.3.4:08", "tcp://1.2.3.4:123456", "tcp://:1",
		"tcp://999.1.1.1:1", "tcp://a..b:1", "tcp://-a:1", "tcp//a:1", "udp://a:1", "tcp://[zz]:1",
		"tcp://[::1]", "tcp://a:1:2", "tcp://user@a:1", "",
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(bad); i++)
		ck_assert_msg(ist_node_url_parse(bad[i], IST_NODE_URL_P2P, false, &u, p, sizeof(p)) == -IST_EINVAL,
			      "accepted %s", bad[i]);
}
END_TEST

START_TEST(times)
{
	uint64_t t;
	char s[21];
	ck_assert_int_eq(ist_node_time_parse("1970-01-01T00:00:00Z", &t), 0);
	ck_assert_uint_eq(t, 0);
	ck_assert_int_eq(ist_node_time_parse("2024-02-29T23:59:59Z", &t), 0);
	ck_assert_uint_eq(t, 1709251199);
	ist_node_time_format(t, s);
	ck_assert_str_eq(s, "2024-02-29T23:59:59Z");
	ck_assert_int_eq(ist_node_time_parse("9999-12-31T23:59:59Z", &t), 0);
	ck_assert_uint_eq(t, IST_NODE_TIME_MAX);
	ist_node_time_format(IST_NODE_TIME_MAX, s);
	ck_assert_str_eq(s, "9999-12-31T23:59:59Z");
	ck_assert_int_eq(ist_node_time_parse("2000-02-29T00:00:00Z", &t), 0);   /* 400-year leap */
	static const char *const bad[] = {
		"1900-02-29T00:00:00Z", "1969-12-31T23:59:59Z", "2024-13-01T00:00:00Z", "2024-04-31T00:00:00Z",
		"2024-01-01T24:00:00Z", "2024-01-01T00:60:00Z", "2024-01-01T00:00:60Z", "2024-01-01 00:00:00Z",
		"2024-01-01T00:00:00+00:00", "2024-01-01T00:00:00.5Z", "2024-01-01t00:00:00z",
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(bad); i++)
		ck_assert_msg(ist_node_time_parse(bad[i], &t) == -IST_EINVAL, "accepted %s", bad[i]);
}
END_TEST

START_TEST(log_specs)
{
	ck_assert(ist_node_log_spec_valid("info"));
	ck_assert(ist_node_log_spec_valid("warn,net=debug,storage=trace"));
	ck_assert(!ist_node_log_spec_valid(""));
	ck_assert(!ist_node_log_spec_valid("info,"));
	ck_assert(!ist_node_log_spec_valid("info,=debug"));
	ck_assert(!ist_node_log_spec_valid("NET=debug"));
	ck_assert(!ist_node_log_spec_valid("info,net=debug=x"));
}
END_TEST

START_TEST(files_and_errors)
{
	char *dir = ist_test_tmpdir("ist-files");
	char *path = NULL, *sub = NULL;
	ck_assert_int_gt(asprintf(&path, "%s/f.json", dir), 0);
	ck_assert_int_gt(asprintf(&sub, "%s/a/b", dir), 0);
	struct ist_json_err err;
	ck_assert_int_eq(ist_node_file_write(path, "x", 1, false, &err), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(ist_node_file_write(path, "y", 1, false, &err), -IST_EEXISTS);
	char want[512];
	snprintf(want, sizeof(want), "%s: file exists", path);
	ck_assert_str_eq(line_of(&err), want);
	char *text = NULL;
	size_t len;
	ck_assert_int_eq(ist_json_file_read(path, 1, &text, &len, &err), 0);
	ck_assert_str_eq(text, "x");
	free(text);
	ck_assert_int_eq(ist_node_file_write(path, "yz", 2, true, &err), 0);
	ck_assert_int_eq(ist_json_file_read(path, 1, &text, &len, &err), -IST_ETOOBIG);
	snprintf(want, sizeof(want), "%s: larger than 1 bytes", path);
	ck_assert_str_eq(line_of(&err), want);
	ck_assert_int_eq(ist_node_dir_make(sub, &err), 0);
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0700);
	ck_assert_int_eq(chmod(sub, 0750), 0);
	ck_assert_int_eq(ist_node_dir_make(sub, &err), -IST_EPERM);
	/* the three shapes of an error line, never with a control character */
	ist_json_err_set(&err, "a.json", "x.y", "bad\nvalue %d", 7);
	ck_assert_str_eq(line_of(&err), "a.json: x.y: bad?value 7");
	ist_json_err_set(&err, "a.json", NULL, "gone");
	ck_assert_str_eq(line_of(&err), "a.json: gone");
	err.line = 3;
	err.column = 4;
	ck_assert_str_eq(line_of(&err), "a.json: line 3, column 4: gone");
	ist_test_rmtree(dir);
	free(sub);
	free(path);
	free(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("node-config");
	TCase *tc = tcase_create("genesis");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, genesis_golden_values);
	tcase_add_test(tc, genesis_golden_hash);
	tcase_add_test(tc, genesis_hash_ignores_formatting);
	tcase_add_test(tc, genesis_hash_covers_every_value);
	tcase_add_test(tc, genesis_format_round_trip);
	tcase_add_test(tc, genesis_check_in_memory);
	tcase_add_test(tc, genesis_route_limits);
	tcase_add_test(tc, genesis_err_wrong_type);
	tcase_add_test(tc, genesis_err_out_of_range);
	tcase_add_test(tc, genesis_err_unknown_field);
	tcase_add_test(tc, genesis_err_missing_field);
	tcase_add_test(tc, genesis_err_duplicates);
	tcase_add_test(tc, genesis_err_bad_keys);
	tcase_add_test(tc, genesis_err_bad_url);
	tcase_add_test(tc, genesis_err_eip55);
	tcase_add_test(tc, genesis_err_json_syntax);
	tcase_add_test(tc, genesis_err_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("config");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, config_defaults);
	tcase_add_test(tc, config_values);
	tcase_add_test(tc, config_errors);
	tcase_add_test(tc, config_file_missing);
	tcase_add_test(tc, home_validator);
	tcase_add_test(tc, home_chains);
	tcase_add_test(tc, home_not_in_genesis);
	tcase_add_test(tc, home_key_mismatch);
	tcase_add_test(tc, home_file_problems);
	tcase_add_test(tc, home_peers_and_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("parts");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, urls);
	tcase_add_test(tc, times);
	tcase_add_test(tc, log_specs);
	tcase_add_test(tc, files_and_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ist_test_run(suite());
}
