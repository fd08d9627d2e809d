/*
 * A node's configuration: HOME/config.json, parsed and checked, and checked
 * against the genesis and the node's keystore.
 *
 * The file (docs/configuration.md has the full reference; every field is
 * optional and has the default shown):
 *
 *   {"moniker": "<key.name>",
 *    "role": "validator",                     // or "observer"
 *    "listen": "tcp://127.0.0.1:26600",       // tcp:// or tls+tcp://
 *    "api": "http://127.0.0.1:26700",
 *    "key": {"keystore": "keys", "name": "validator",
 *            "passphrase_file": "passphrase"},  // no default: else $ISTHMUS_PASSPHRASE
 *    "data_dir": "data",
 *    "log": {"level": "info", "format": "text"},  // "info,net=debug"; "text" or "json"
 *    "peers": [{"node_key": "<hex32>", "address": "tcp://10.0.0.2:26600"}],
 *    "limits": {"max_peer_msgs_per_sec": 1000, "max_peer_burst": 2000,
 *               "max_frame_bytes": IST_WIRE_MAX_ENVELOPE_BYTES},
 *    "mempool": {"max_items": 100000, "max_bytes": 67108864,
 *                "max_per_sender": 256, "accept_data": false},
 *    "chains": [{"id": 1, "rpc": ["http://127.0.0.1:8545"],
 *                "finality_depth": 0, "poll_ms": 500}],
 *    "metrics": {"enabled": true}}
 *
 * Relative paths are relative to the home. Unknown fields are refused, as in
 * genesis.json. `peers` overrides the genesis address of the validators it
 * names (a peer behind NAT, a private network).
 *
 * Role. A "validator" (the default) must hold the keys of one validator of
 * the genesis: its keyset's node key must be a genesis validator's, with the
 * same attestation and DKG keys; otherwise the node refuses to start
 * (ist_node_config_check_genesis). An "observer" follows the chain without
 * voting or signing and needs no keyset in the genesis.
 */
#ifndef IST_NODE_CONFIG_H
#define IST_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "common/macro.h"
#include "crypto/ed25519.h"
#include "crypto/keystore.h"
#include "node/genesis.h"
#include "node/home.h"
#include "node/mempool.h"

#define IST_NODE_CONFIG_FILE_MAX 65536
#define IST_NODE_MONIKER_MAX 64            /* as validator names */
#define IST_NODE_LOG_SPEC_MAX 255
#define IST_NODE_MAX_PEERS 256

#define IST_NODE_DEFAULT_LISTEN "tcp://127.0.0.1:26600"
#define IST_NODE_DEFAULT_API "http://127.0.0.1:26700"
#define IST_NODE_DEFAULT_KEY_NAME "validator"

/* Bounds of the limits (inclusive). */
#define IST_NODE_MAX_MSGS_PER_SEC 1000000
#define IST_NODE_MIN_FRAME_BYTES 4096

enum ist_node_role {
	IST_NODE_ROLE_VALIDATOR = 0,
	IST_NODE_ROLE_OBSERVER,
};

struct ist_node_peer {
	uint8_t node_key[IST_ED25519_PUBKEY_BYTES];
	char address[IST_NODE_URL_MAX + 1];
};

/* Source-chain RPC (the watchers, chain/watcher.h). */
#define IST_NODE_MAX_RPC_URLS 16
#define IST_NODE_DEFAULT_POLL_MS 500
#define IST_NODE_MAX_FINALITY_DEPTH 1000000

struct ist_node_chain_rpc {
	uint64_t id;                                   /* a genesis chain's id */
	size_t n_rpc;                                  /* 1..IST_NODE_MAX_RPC_URLS */
	char rpc[IST_NODE_MAX_RPC_URLS][IST_NODE_URL_MAX + 1];
	uint64_t finality_depth;                       /* on top of the chain's own finality */
	uint32_t poll_ms;                              /* 50..60000 */
};

/* Bounds of the mempool section (inclusive; the minimum of max_bytes is
 * IST_NODE_MIN_BLOCK_BYTES). */
#define IST_NODE_MEMPOOL_MAX_ITEMS 1000000
#define IST_NODE_MEMPOOL_MAX_BYTES (1u << 30)

/* The mempool (node/mempool.h). accept_data: take application data items
 * (POST /v1/txs {"data": [...]}) from the API: for devnets and benchmarks;
 * a public node leaves it off. */
struct ist_node_mempool {
	uint32_t max_items;
	uint32_t max_bytes;
	uint32_t max_per_sender;
	bool accept_data;
};

struct ist_node_limits {
	uint32_t max_peer_msgs_per_sec;   /* 1..IST_NODE_MAX_MSGS_PER_SEC */
	uint32_t max_peer_burst;          /* 1..IST_NODE_MAX_MSGS_PER_SEC */
	uint32_t max_frame_bytes;         /* IST_NODE_MIN_FRAME_BYTES..IST_WIRE_MAX_ENVELOPE_BYTES */
};

/*
 * A configuration. The first part is what the file says (defaults filled
 * in): ist_node_config_format() writes it back. The second part is derived
 * by ist_node_config_parse/_load from the home: malloc'd paths and parsed
 * URLs. ist_node_config_fini() frees both.
 */
struct ist_node_config {
	char moniker[IST_NODE_MONIKER_MAX + 1];
	enum ist_node_role role;
	char listen[IST_NODE_URL_MAX + 1];
	char api[IST_NODE_URL_MAX + 1];
	char keystore[IST_NODE_PATH_MAX + 1];
	char key_name[IST_KEYSTORE_NAME_MAX + 1];
	char passphrase_file[IST_NODE_PATH_MAX + 1];   /* "" when none */
	char data_dir[IST_NODE_PATH_MAX + 1];
	char log_level[IST_NODE_LOG_SPEC_MAX + 1];
	enum ist_log_format log_format;
	size_t n_peers;
	struct ist_node_peer *peers;                   /* heap, NULL when none */
	struct ist_node_limits limits;
	struct ist_node_mempool mempool;
	size_t n_chains;
	struct ist_node_chain_rpc *chains;             /* heap, NULL when none */
	bool metrics_enabled;

	/* derived (NULL/zero until parsed) */
	char *home;              /* as given */
	char *config_path;       /* HOME/config.json: the label of errors */
	char *genesis_path;      /* HOME/genesis.json */
	char *keystore_path;     /* keystore joined to the home */
	char *key_path;          /* KEYSTORE/NAME.json */
	char *passphrase_path;   /* passphrase_file joined to the home, NULL when none */
	char *data_path;         /* data_dir joined to the home */
	struct ist_node_url listen_url, api_url;
};

/* Fills `cfg` with the defaults (moniker = key name, no peers, nothing
 * derived). No heap memory: _fini is optional until a parse. */
void ist_node_config_init(struct ist_node_config *cfg);
/* Frees the peers and derived paths and zeroes `cfg`. Accepts a zeroed or
 * init'ed struct. */
void ist_node_config_fini(struct ist_node_config *cfg);

/* Parses and checks config JSON text (`len` bytes, need not be
 * NUL-terminated): a decoder of outside input. `label` names the file in
 * errors; `home` resolves relative paths. Out: *ret_cfg (ist_node_config_fini
 * it), written only on success. Returns 0 or, with `err` set:
 *   -IST_EPARSE (line and column), -IST_ECONFIG (field), -IST_ETOOBIG,
 *   -IST_ENOMEM. */
int ist_node_config_parse(const char *json, size_t len, const char *label, const char *home,
			  struct ist_node_config *ret_cfg, struct ist_json_err *err) IST_WUR;

/* Reads and parses HOME/config.json. Returns 0, the errors of
 * ist_node_config_parse, or of ist_json_file_read (-IST_ENOTFOUND "no such
 * file", ...). */
int ist_node_config_load(const char *home, struct ist_node_config *ret_cfg, struct ist_json_err *err) IST_WUR;

/* Serialises the file part of `cfg` (every field, passphrase_file and peers
 * only when set; two-space indent; a final newline). Out: *ret_json
 * (malloc'd, caller frees). Returns 0, -IST_EINVAL (a value that would not
 * parse back: an invalid URL, name or log spec) or -IST_ENOMEM. */
int ist_node_config_format(const struct ist_node_config *cfg, char **ret_json) IST_WUR;

#define IST_NODE_NOT_IN_GENESIS SIZE_MAX

/* Where the node stands in the network. Plain memory. */
struct ist_node_identity {
	bool validator;                 /* role validator, found in the genesis */
	size_t index;                   /* its index in genesis->validators, or
					 * IST_NODE_NOT_IN_GENESIS (a validator that
					 * joins by staking) */
	struct ist_keyset_info keys;    /* public keys of the keyset (when validator) */
};

/*
 * Checks `cfg` against `g` and the node's keystore (public part only: no
 * passphrase needed):
 *  - role validator: the keystore directory is 0700 and the key file 0600,
 *    the file holds a validator keyset named key.name, and its node key,
 *    attestation key and DKG key are those of one genesis validator;
 *  - key.passphrase_file, when set, is a regular file group and others
 *    cannot access;
 *  - every peers[i].node_key is a genesis validator's;
 *  - limits.max_frame_bytes carries the largest proposal the genesis allows.
 * Out: *ret_id (may be NULL). Returns 0, -IST_ECONFIG, -IST_EPERM, or a
 * keystore error (-IST_ENOTFOUND, -IST_EPARSE, ...), with `err` set: the file
 * is config.json (or the key file for a key file's own problem).
 */
int ist_node_config_check_genesis(const struct ist_node_config *cfg, const struct ist_node_genesis *g,
				  struct ist_node_identity *ret_id, struct ist_json_err *err) IST_WUR;

/* Everything a node checks at start: HOME/config.json, HOME/genesis.json,
 * and ist_node_config_check_genesis. Out: *ret_cfg, *ret_g (fini both),
 * *ret_id (may be NULL); written only on success. Returns 0 or the first
 * error of the three, with `err` set. */
int ist_node_home_load(const char *home, struct ist_node_config *ret_cfg, struct ist_node_genesis *ret_g,
		       struct ist_node_identity *ret_id, struct ist_json_err *err) IST_WUR;

/* True when `spec` is a log level spec: "LEVEL" or "LEVEL,SUBSYS=LEVEL,..."
 * with levels error|warn|info|debug|trace, subsystems of 1..23 characters of
 * [a-z0-9_-], at most 16 overrides, at most IST_NODE_LOG_SPEC_MAX bytes
 * (what ist_log_configure accepts). */
bool ist_node_log_spec_valid(const char *spec) IST_WUR;

/* "validator" or "observer". */
const char *ist_node_role_name(enum ist_node_role role);

#endif
