/*
 * The genesis of an isthmus network: genesis.json, parsed and checked, and
 * its hash.
 *
 * The file (docs/configuration.md has the full reference):
 *
 *   {"chain_id": "isthmus-devnet", "network_id": 1337,
 *    "genesis_time": "2024-01-01T00:00:00Z",
 *    "consensus": {"timeout_base_ms": 1000, "timeout_max_ms": 60000,
 *                  "max_block_items": 1024, "max_block_bytes": 1048576,
 *                  "epoch_length_blocks": 1000},
 *    "validators": [{"name": "node0", "node_key": "<hex32>",
 *                    "attestation_key": "<hex33>", "attestation_address": "0x...",
 *                    "dkg_key": "<hex32>", "address": "tcp://127.0.0.1:26600",
 *                    "stake": 1000000}, ...],
 *    "accounts": [{"key": "<hex32>", "balance": 5000}],
 *    "chains": [{"id": 1, "name": "devchain-a"}, {"id": 2, "name": "devchain-b"}],
 *    "staking": {"max_validators": 100, "min_stake": 1, "unbonding_epochs": 2,
 *                "slash_fraction_bps": 1000, "jail_missed_bps": 9000,
 *                "jail_cooldown_epochs": 1}}
 *
 * Every field is checked: its type and range, no unknown field anywhere
 * (a typo must not pass silently), every key a valid point, no two
 * validators with the same name, key or address, 1..IST_WIRE_MAX_VALIDATORS
 * validators, no overflow of the total stake or supply. `attestation_address`
 * and `accounts` may be left out; everything else is required (the rules of
 * a network are written in its genesis, not in a binary's defaults).
 *
 * u64 amounts and ids (network_id, stake, balance) are JSON integers up to
 * 2^53 or strings of decimal digits up to 2^64 - 1: above 2^53 many JSON
 * tools round numbers silently.
 *
 * The genesis hash is ist_tagged_hash(IST_TAG_GENESIS, canonical bytes of the
 * parsed values) (layout in ist_node_genesis_bytes below), so whitespace, key
 * order and number spelling in the file never change it, and any value does.
 */
#ifndef IST_NODE_GENESIS_H
#define IST_NODE_GENESIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "crypto/x25519.h"
#include "node/home.h"
#include "state/gov.h"
#include "state/ledger.h"

#define IST_NODE_CHAIN_ID_MAX 64          /* [a-z0-9-], at least 1 */
#define IST_NODE_NAME_MAX 64              /* validator names: as keyset names */
#define IST_NODE_GENESIS_MAX_ACCOUNTS 10000
#define IST_NODE_GENESIS_FILE_MAX (4u << 20)
#define IST_NODE_MAX_CHAINS 64                /* source/destination chains of a network */
#define IST_NODE_CHAIN_NAME_MAX 64            /* [a-z0-9-], at least 1 */

/* Bounds of the consensus parameters (inclusive). */
#define IST_NODE_TIMEOUT_MIN_MS 100
#define IST_NODE_TIMEOUT_MAX_MS 3600000         /* an hour */
#define IST_NODE_MIN_BLOCK_BYTES 4096
#define IST_NODE_EPOCH_MIN_BLOCKS 10
#define IST_NODE_EPOCH_MAX_BLOCKS 100000000

/* genesis_time bounds: 1970-01-01T00:00:00Z .. 9999-12-31T23:59:59Z */
#define IST_NODE_TIME_MAX 253402300799ULL

struct ist_node_consensus_params {
	uint64_t timeout_base_ms;      /* IST_NODE_TIMEOUT_MIN_MS..IST_NODE_TIMEOUT_MAX_MS */
	uint64_t timeout_max_ms;       /* timeout_base_ms..IST_NODE_TIMEOUT_MAX_MS */
	uint32_t max_block_items;      /* 1..IST_WIRE_MAX_BLOCK_ITEMS */
	uint32_t max_block_bytes;      /* IST_NODE_MIN_BLOCK_BYTES..IST_WIRE_MAX_BLOCK_BYTES */
	uint64_t epoch_length_blocks;  /* IST_NODE_EPOCH_MIN_BLOCKS..IST_NODE_EPOCH_MAX_BLOCKS */
};

struct ist_node_validator {
	char name[IST_NODE_NAME_MAX + 1];
	uint8_t node_key[IST_ED25519_PUBKEY_BYTES];
	uint8_t attestation_key[IST_SECP_PUBKEY_BYTES];
	uint8_t attestation_address[IST_ETH_ADDRESS_BYTES];   /* derived from the key */
	uint8_t dkg_key[IST_X25519_PUBKEY_BYTES];
	char address[IST_NODE_URL_MAX + 1];                    /* tcp:// or tls+tcp:// */
	uint64_t stake;                                        /* > 0 */
};

struct ist_node_account {
	uint8_t key[IST_ED25519_PUBKEY_BYTES];
	uint64_t balance;
};

/* A chain the network connects: every ordered pair of two different chains
 * is a route (source, destination) with its own message tree. */
struct ist_node_chain {
	uint64_t id;                                   /* > 0, unique */
	char name[IST_NODE_CHAIN_NAME_MAX + 1];        /* unique */
};

/* A parsed genesis. The arrays are heap memory owned by the struct
 * (ist_node_genesis_fini). */
#define IST_NODE_MAX_ROUTE_LIMITS 256

/* A route's limits from the genesis (optional "route_limits"; docs/
 * configuration.md): in force from the first block, as if governance had
 * set them at height 0. */
struct ist_node_route_limit {
	uint64_t src, dst;                     /* two different chains of "chains" */
	struct ist_gov_limits lim;             /* ist_gov_limits_check holds */
};

struct ist_node_genesis {
	char chain_id[IST_NODE_CHAIN_ID_MAX + 1];
	uint64_t network_id;
	uint64_t genesis_time;                 /* Unix seconds, UTC */
	struct ist_node_consensus_params consensus;
	size_t n_validators;                   /* 1..IST_WIRE_MAX_VALIDATORS */
	struct ist_node_validator *validators; /* in file order: index i is validator i */
	size_t n_accounts;                     /* 0..IST_NODE_GENESIS_MAX_ACCOUNTS */
	struct ist_node_account *accounts;     /* NULL when none */
	size_t n_chains;                       /* 0..IST_NODE_MAX_CHAINS */
	struct ist_node_chain chains[IST_NODE_MAX_CHAINS];
	/* "staking": the ledger's rules (epoch_length_blocks is consensus') */
	struct ist_ledger_params staking;
	size_t n_route_limits;                 /* 0..IST_NODE_MAX_ROUTE_LIMITS; in the hash only when > 0 */
	struct ist_node_route_limit route_limits[IST_NODE_MAX_ROUTE_LIMITS];
	uint64_t total_stake;                  /* sum of the stakes (fits a u64) */
	uint8_t hash[IST_HASH_BYTES];          /* set by parse/load/ist_node_genesis_hash */
};

/* The staking rules `isthmus testnet` writes (the example above). */
struct ist_ledger_params ist_node_staking_defaults(void);

/* Zeroes `g` (no validators, no accounts). */
void ist_node_genesis_init(struct ist_node_genesis *g);
/* Frees the arrays and zeroes `g`. Accepts a zeroed struct. */
void ist_node_genesis_fini(struct ist_node_genesis *g);

/* The consensus parameters `isthmus testnet` writes: timeouts 1 s .. 60 s,
 * 1024 items and 1 MiB per block, epochs of 1000 blocks. */
struct ist_node_consensus_params ist_node_consensus_defaults(void);

/* Parses and checks genesis JSON text (`len` bytes, need not be
 * NUL-terminated): a decoder of outside input. `label` names the file in
 * errors. Out: *ret_g (ist_node_genesis_fini it), with its hash; written only
 * on success. Returns 0 or, with `err` set:
 *   -IST_EPARSE   not JSON (err has line and column),
 *   -IST_ECONFIG  JSON that is not a valid genesis (err has the field),
 *   -IST_ETOOBIG  longer than IST_NODE_GENESIS_FILE_MAX,
 *   -IST_ENOMEM. */
int ist_node_genesis_parse(const char *json, size_t len, const char *label, struct ist_node_genesis *ret_g,
			   struct ist_json_err *err) IST_WUR;

/* Reads and parses the genesis file at `path` (labelled by `path`).
 * Returns 0, the errors of ist_node_genesis_parse, or those of
 * ist_json_file_read (-IST_ENOTFOUND "no such file", ...). */
int ist_node_genesis_load(const char *path, struct ist_node_genesis *ret_g, struct ist_json_err *err) IST_WUR;

/* Checks a genesis built in memory (what parse checks after reading the
 * JSON: names, keys, addresses, ranges, duplicates, totals) and sets its
 * total_stake and hash. Returns 0 or -IST_ECONFIG with `err` naming the
 * field as in the file (`label` as the file). */
int ist_node_genesis_check(struct ist_node_genesis *g, const char *label, struct ist_json_err *err) IST_WUR;

/*
 * The canonical bytes the genesis hash covers (all integers big-endian; a
 * "var" is a u32 length then the bytes; nothing else, no padding):
 *
 *   var   chain_id
 *   u64   network_id
 *   u64   genesis_time (Unix seconds)
 *   u64   consensus.timeout_base_ms
 *   u64   consensus.timeout_max_ms
 *   u32   consensus.max_block_items
 *   u32   consensus.max_block_bytes
 *   u64   consensus.epoch_length_blocks
 *   u32   number of validators, then for each, in file order:
 *           var name, 32 node_key, 33 attestation_key, 32 dkg_key,
 *           var address, u64 stake
 *   u32   number of accounts, then for each, in file order:
 *           32 key, u64 balance
 *   u32   number of chains, then for each, in file order:
 *           u64 id, var name
 *   u32   staking.max_validators
 *   u64   staking.min_stake
 *   u64   staking.unbonding_epochs
 *   u32   staking.slash_fraction_bps
 *   u32   staking.jail_missed_bps
 *   u64   staking.jail_cooldown_epochs
 *   only with a "frost" section: u8 1, u32 frost.dkg_round_blocks,
 *         u32 frost.sign_timeout_blocks
 *
 * attestation_address is not covered: it is a function of attestation_key.
 * Out: *ret_bytes (malloc'd, caller frees), *ret_len. Returns 0 or
 * -IST_ENOMEM.
 */
int ist_node_genesis_bytes(const struct ist_node_genesis *g, uint8_t **ret_bytes, size_t *ret_len) IST_WUR;

/* Computes g->hash = SHA-256(IST_TAG_GENESIS || canonical bytes).
 * Returns 0 or -IST_ENOMEM. */
int ist_node_genesis_hash(struct ist_node_genesis *g) IST_WUR;

/* Serialises `g` as genesis.json text (two-space indent, the fields in the
 * order above, attestation_address in EIP-55 form, u64 values above 2^53 as
 * decimal strings, "accounts" only when there are some, a final newline).
 * Parsing the text gives `g` back. Out: *ret_json (malloc'd, caller frees).
 * Returns 0 or -IST_ENOMEM. */
int ist_node_genesis_format(const struct ist_node_genesis *g, char **ret_json) IST_WUR;

/* The chain with id `id`, or NULL. */
const struct ist_node_chain *ist_node_genesis_chain(const struct ist_node_genesis *g, uint64_t id);

/* The index of the validator whose node key is `node_key32`, or -1. */
long ist_node_genesis_find(const struct ist_node_genesis *g, const uint8_t node_key32[IST_ED25519_PUBKEY_BYTES]);

/* RFC 3339 UTC times of the form "YYYY-MM-DDTHH:MM:SSZ" (nothing else: no
 * fraction, no offset), years 1970..9999. Parse returns 0 or -IST_EINVAL;
 * format writes 21 bytes (with the NUL) for t <= IST_NODE_TIME_MAX. */
int ist_node_time_parse(const char *s, uint64_t *ret_unix) IST_WUR;
void ist_node_time_format(uint64_t unix_s, char out[21]);

/* True when `s` is a valid chain id: 1..64 bytes of [a-z0-9-]. */
bool ist_node_chain_id_valid(const char *s) IST_WUR;

#endif
