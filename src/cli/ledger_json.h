/*
 * Decoders of the node's JSON answers that the ledger commands read
 * (`isthmus tx`, `isthmus stake`, `isthmus query`): GET /v1/status (its
 * network id), POST /v1/txs (the id), GET /v1/accounts/{key}, /v1/txs/{id}, /v1/staking,
 * /v1/validators, /v1/epochs, /v1/epochs/{n}, /v1/evidence, /v1/gov,
 * /v1/gov/proposals/{id}, /v1/gov/pauses and /v1/deliveries/... (docs/api.md). They are decoders of outside input (fuzz target
 * 'cli-ledger-json', tests/cli/fuzz_ledger_json.c).
 *
 * Every decoder takes the parsed answer `doc` (borrowed; any JSON value) and
 * fills a struct the caller owns. It checks the type of every field it
 * reads and the range of every value, and fails on the first problem with
 * -IST_ECONFIG and `err` (file: `label`, field: the JSON path, the problem),
 * which ist_json_err_format() turns into one line:
 *   "GET /v1/staking: validators[2].bonded: must be a non-negative integer
 *    (got -5)".
 * Fields it does not read are ignored, so that a newer node may add some.
 * u64 values are accepted as decimal strings or JSON integers up to 2^53
 * (common/json.h); epochs and heights likewise. Strings that are shown to
 * people (names, reasons, addresses, statuses) are copied and cut to their
 * buffers, with control characters replaced by '?'.
 *
 * On failure the output is left in a state its _fini accepts. Structs with a
 * _fini own heap arrays (free(3)); the others are plain memory.
 */
#ifndef IST_CLI_LEDGER_JSON_H
#define IST_CLI_LEDGER_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/macro.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "crypto/x25519.h"
#include "wire/types.h"

/* Bounds on the lists an answer may carry (more is refused as malformed). */
#define IST_CLI_LJ_MAX_BONDS 4096        /* bonds, unbonding entries of an account */
#define IST_CLI_LJ_MAX_VALIDATORS 65536  /* the registry of /v1/staking */
#define IST_CLI_LJ_MAX_EVIDENCE 65536
#define IST_CLI_LJ_MAX_PROPOSALS 4096    /* proposals of /v1/gov */
#define IST_CLI_LJ_MAX_PAUSED 4096       /* paused chains, paused routes */
#define IST_CLI_LJ_MAX_VOTES 4096        /* votes on a proposal */
/* Bytes kept of the strings shown to people, NUL included. */
#define IST_CLI_LJ_NAME_MAX 65
#define IST_CLI_LJ_WORD_MAX 32           /* kinds, statuses, results */
#define IST_CLI_LJ_REASON_MAX 384
#define IST_CLI_LJ_ADDRESS_MAX 256

/* GET /v1/status: the network id (a decimal string or an integer, >= 1).
 * Returns 0 or -IST_ECONFIG. */
int ist_cli_lj_network_id(json_t *doc, const char *label, uint64_t *ret, struct ist_json_err *err) IST_WUR;

/* POST /v1/txs, 202: {"id": "<hex32>"}. Out: ret_id32. Returns 0 or
 * -IST_ECONFIG. */
int ist_cli_lj_submitted(json_t *doc, const char *label, uint8_t ret_id32[IST_HASH_BYTES],
			 struct ist_json_err *err) IST_WUR;

/* ---- GET /v1/accounts/{key} ---- */

struct ist_cli_lj_bond {
	uint8_t validator[IST_ED25519_PUBKEY_BYTES];
	uint64_t amount;
	uint64_t release_epoch;   /* unbonding entries only */
};

struct ist_cli_lj_account {
	uint8_t key[IST_ED25519_PUBKEY_BYTES];
	uint64_t balance;
	uint64_t nonce;           /* the next nonce the account's transaction must carry */
	bool has_validator;       /* the account operates a validator */
	uint8_t validator[IST_ED25519_PUBKEY_BYTES];
	size_t n_bonds, n_unbonding;
	struct ist_cli_lj_bond *bonds;      /* malloc'd; NULL when none */
	struct ist_cli_lj_bond *unbonding;  /* malloc'd; NULL when none */
};

/* {"key","balance","nonce","validator": hex|null,"bonds":[{"validator",
 * "amount"}],"unbonding":[{"validator","amount","release_epoch"}]}.
 * Out: *ret (release with _fini, also after a failure). Returns 0,
 * -IST_ECONFIG or -IST_ENOMEM. */
int ist_cli_lj_account_parse(json_t *doc, const char *label, struct ist_cli_lj_account *ret,
			     struct ist_json_err *err) IST_WUR;
void ist_cli_lj_account_fini(struct ist_cli_lj_account *a);

/* ---- GET /v1/txs/{id} ---- */

struct ist_cli_lj_tx {
	uint8_t id[IST_HASH_BYTES];
	bool committed;           /* false: "pending" (in the node's mempool) */
	/* the rest only when committed */
	uint64_t height;
	uint32_t index;
	char kind[IST_CLI_LJ_WORD_MAX];
	uint8_t sender[IST_ED25519_PUBKEY_BYTES];
	uint64_t nonce;
	bool ok;                  /* "result": "ok"; else "failed" with a reason */
	char reason[IST_CLI_LJ_REASON_MAX];
	bool has_proposal;        /* an applied gov_propose: the proposal's number */
	uint64_t proposal;
};

/* {"id","status":"pending"} or {"id","status":"committed","height","index",
 * "kind","sender","nonce","result":"ok"|"failed","reason","proposal"}
 * ("reason" required when failed; "proposal", >= 1, optional). Plain
 * memory. Returns 0 or -IST_ECONFIG. */
int ist_cli_lj_tx_parse(json_t *doc, const char *label, struct ist_cli_lj_tx *ret, struct ist_json_err *err) IST_WUR;

/* ---- GET /v1/staking ---- */

struct ist_cli_lj_validator {
	uint8_t node_key[IST_ED25519_PUBKEY_BYTES];
	uint8_t operator_key[IST_ED25519_PUBKEY_BYTES];
	bool has_name;
	char name[IST_CLI_LJ_NAME_MAX];
	uint8_t attestation_key[IST_SECP_PUBKEY_BYTES];
	uint8_t dkg_key[IST_X25519_PUBKEY_BYTES];
	char address[IST_CLI_LJ_ADDRESS_MAX];
	uint32_t commission_bps;  /* 0..10000 */
	uint64_t bonded;
	char status[IST_CLI_LJ_WORD_MAX];   /* active, candidate, jailed, removed (others shown as given) */
	bool has_jailed_epoch, has_unjail_epoch;
	uint64_t jailed_epoch, unjail_epoch;
	uint64_t slashed;
};

struct ist_cli_lj_staking {
	uint64_t epoch, epoch_start_height, epoch_length_blocks;
	/* params */
	uint64_t max_validators, min_stake, unbonding_epochs, slash_fraction_bps, jail_missed_bps,
		jail_cooldown_epochs;
	size_t n;
	struct ist_cli_lj_validator *validators;   /* malloc'd; NULL when none */
};

/* The answer of GET /v1/staking (docs/cli-stake.md). Out: *ret (release with
 * _fini, also after a failure). Returns 0, -IST_ECONFIG or -IST_ENOMEM. */
int ist_cli_lj_staking_parse(json_t *doc, const char *label, struct ist_cli_lj_staking *ret,
			     struct ist_json_err *err) IST_WUR;
void ist_cli_lj_staking_fini(struct ist_cli_lj_staking *s);
/* The row whose node key is key32, or NULL. Borrowed from `s`. */
const struct ist_cli_lj_validator *ist_cli_lj_staking_find(const struct ist_cli_lj_staking *s,
							    const uint8_t key32[IST_ED25519_PUBKEY_BYTES]);

/* ---- GET /v1/validators (isthmus-validator-set/v1) ---- */

struct ist_cli_lj_member {
	uint32_t index;
	bool has_name;
	char name[IST_CLI_LJ_NAME_MAX];
	bool has_node_key;
	uint8_t node_key[IST_ED25519_PUBKEY_BYTES];
	uint8_t attestation_key[IST_SECP_PUBKEY_BYTES];
	uint64_t stake;
};

struct ist_cli_lj_valset {
	uint64_t network_id, epoch, total_stake;
	size_t n;
	struct ist_cli_lj_member *members;   /* malloc'd; NULL when none */
};

/* A validator set (format "isthmus-validator-set/v1"; another format is
 * refused): "index" defaults to the position, "name" and "node_key" are
 * optional, "total_stake" defaults to the sum. At most
 * IST_CLI_LJ_MAX_VALIDATORS members. Out: *ret (release with _fini, also
 * after a failure). Returns 0, -IST_ECONFIG or -IST_ENOMEM. */
int ist_cli_lj_valset_parse(json_t *doc, const char *label, struct ist_cli_lj_valset *ret,
			    struct ist_json_err *err) IST_WUR;
void ist_cli_lj_valset_fini(struct ist_cli_lj_valset *v);

/* ---- GET /v1/epochs and /v1/epochs/{n} ---- */

struct ist_cli_lj_epochs {
	uint64_t current, start_height, epoch_length_blocks;
};

/* {"current","start_height","epoch_length_blocks" (>= 1)}. Plain memory.
 * Returns 0 or -IST_ECONFIG. */
int ist_cli_lj_epochs_parse(json_t *doc, const char *label, struct ist_cli_lj_epochs *ret,
			    struct ist_json_err *err) IST_WUR;

struct ist_cli_lj_epoch {
	uint64_t epoch, start_height;
	bool has_end_height;
	uint64_t end_height;
	struct ist_cli_lj_valset set;     /* "validator_set" */
	bool has_handover;
	uint64_t handover_height;
	bool has_certificate;             /* the hand-over's certificate (hex) is there */
	size_t certificate_bytes;
	uint8_t leaf[IST_HASH_BYTES];
};

/* {"epoch","start_height","end_height": n|null,"validator_set":{...},
 * "handover": null|{"height","certificate": hex|null,"leaf","proof"}} (the
 * proof is not read). Out: *ret (release with _fini, also after a
 * failure). Returns 0, -IST_ECONFIG or -IST_ENOMEM. */
int ist_cli_lj_epoch_parse(json_t *doc, const char *label, struct ist_cli_lj_epoch *ret,
			   struct ist_json_err *err) IST_WUR;
void ist_cli_lj_epoch_fini(struct ist_cli_lj_epoch *e);

/* ---- GET /v1/evidence ---- */

struct ist_cli_lj_evidence_item {
	uint8_t id[IST_HASH_BYTES];
	char kind[IST_CLI_LJ_WORD_MAX];
	uint8_t offender[IST_ED25519_PUBKEY_BYTES];
	uint64_t epoch, height, slashed;
};

struct ist_cli_lj_evidence {
	size_t n;
	struct ist_cli_lj_evidence_item *items;   /* malloc'd; NULL when none */
};

/* {"evidence":[{"id","kind","offender","epoch","height","slashed"}]}.
 * Out: *ret (release with _fini, also after a failure). Returns 0,
 * -IST_ECONFIG or -IST_ENOMEM. */
int ist_cli_lj_evidence_parse(json_t *doc, const char *label, struct ist_cli_lj_evidence *ret,
			      struct ist_json_err *err) IST_WUR;
void ist_cli_lj_evidence_fini(struct ist_cli_lj_evidence *e);

/* ---- GET /v1/gov and /v1/gov/proposals/{id} ---- */

struct ist_cli_lj_gov_vote {
	uint8_t validator[IST_ED25519_PUBKEY_BYTES];
	bool approve;
};

struct ist_cli_lj_limits {
	uint64_t window_blocks, max_count, max_value, high_value, delay_blocks;
};

struct ist_cli_lj_proposal {
	uint64_t id;                        /* >= 1 */
	char action[IST_CLI_LJ_WORD_MAX];   /* pause_chain, resume_chain, pause_route, resume_route,
					     * set_route_limits, release_held, set_param (others as given) */
	bool is_route;                      /* src, dst given */
	bool is_param;                      /* param, value given; else (neither) chain */
	uint64_t chain, src, dst;
	char param[IST_CLI_LJ_WORD_MAX];
	uint64_t value;
	bool has_limits;                    /* "limits" (set_route_limits) */
	struct ist_cli_lj_limits limits;
	bool has_release;                   /* "release_through" (release_held) */
	uint64_t release_through;
	uint8_t proposer[IST_ED25519_PUBKEY_BYTES];
	char status[IST_CLI_LJ_WORD_MAX];   /* open, passed, rejected (others as given) */
	uint64_t created, closes;
	bool has_decided;
	uint64_t decided;
	uint64_t yes_stake, total_stake;
	size_t n_votes;
	struct ist_cli_lj_gov_vote *votes;  /* malloc'd; NULL when none */
};

struct ist_cli_lj_route {
	uint64_t src, dst;
};

/* One entry of "route_limits". */
struct ist_cli_lj_route_limits {
	uint64_t src, dst;
	bool has_limits;                    /* "limits" is not null */
	struct ist_cli_lj_limits limits;
	uint64_t since, released_below, cp_height, cp_size;
};

/* One entry of "breakers" (the automatic circuit breakers). */
struct ist_cli_lj_breaker {
	uint64_t chain;
	bool tripped;
	uint64_t tripped_at;                /* meaningful when tripped */
	char reason[IST_CLI_LJ_WORD_MAX];   /* finality_violation, conflicting_checkpoints; "" when not tripped */
	size_t n_reporters;
};

struct ist_cli_lj_gov {
	size_t n_chains, n_routes, n, n_limits, n_breakers;
	struct ist_cli_lj_route_limits *limits;   /* malloc'd, NULL when none */
	struct ist_cli_lj_breaker *breakers;      /* malloc'd, NULL when none */
	uint64_t *chains;                   /* paused; malloc'd, NULL when none */
	struct ist_cli_lj_route *routes;    /* paused; malloc'd, NULL when none */
	struct ist_cli_lj_proposal *proposals;   /* newest first; malloc'd, NULL when none */
};

/* One proposal: {"id","action","chain" | "src_chain","dst_chain","proposer",
 * "status","created","closes","decided": h|null,"yes_stake","total_stake",
 * "votes":[{"validator","approve"}]}; a proposal has "chain" or both
 * "src_chain" and "dst_chain". Out: *ret (release with _fini, also after a
 * failure). Returns 0, -IST_ECONFIG or -IST_ENOMEM. */
int ist_cli_lj_proposal_parse(json_t *doc, const char *label, struct ist_cli_lj_proposal *ret,
			      struct ist_json_err *err) IST_WUR;
void ist_cli_lj_proposal_fini(struct ist_cli_lj_proposal *p);

/* {"paused_chains":["1",...],"paused_routes":[{"src_chain","dst_chain"}],
 * "route_limits":[{"src_chain","dst_chain","limits": {...} | null,"since",
 * "released_below","checkpoint":{"src_height","tree_size"}}],
 * "params":[...] (not read), "breakers":[{"chain","tripped","tripped_at",
 * "reason","reporters":[...]}], "proposals":[proposal...]}; route_limits
 * and breakers may be absent (an older node). Out: *ret (release with _fini, also after a
 * failure). Returns 0, -IST_ECONFIG or -IST_ENOMEM. */
int ist_cli_lj_gov_parse(json_t *doc, const char *label, struct ist_cli_lj_gov *ret, struct ist_json_err *err) IST_WUR;
void ist_cli_lj_gov_fini(struct ist_cli_lj_gov *g);

/* ---- GET /v1/gov/pauses ---- */

struct ist_cli_lj_pause {
	struct ist_pause p;                 /* network_id 0: the answer does not carry it */
	uint64_t epoch;
	uint64_t proposal;                  /* 0: the circuit breaker */
	struct ist_inclusion_proof proof;
	uint8_t *cert;                      /* the encoded certificate, malloc'd; NULL: not formed yet */
	size_t cert_len;
};

struct ist_cli_lj_pauses {
	size_t n;
	struct ist_cli_lj_pause *v;         /* newest first; malloc'd, NULL when none */
};

/* {"pauses":[{"height","epoch","scope":"chain"|"route","chain" |
 * "src_chain","dst_chain","paused","cause","proposal": n|null,"leaf",
 * "proof":{...},"certificate": hex|null}]}. Out: *ret (release with
 * _fini, also after a failure). Returns 0, -IST_ECONFIG or -IST_ENOMEM. */
int ist_cli_lj_pauses_parse(json_t *doc, const char *label, struct ist_cli_lj_pauses *ret,
			    struct ist_json_err *err) IST_WUR;
void ist_cli_lj_pauses_fini(struct ist_cli_lj_pauses *p);

/* ---- GET /v1/deliveries/{src}/{dst}/{nonce} (where a message stands) ---- */

struct ist_cli_lj_delivery_status {
	bool ready;                         /* else pending */
	char reason[IST_CLI_LJ_WORD_MAX];   /* pending: not_observed, awaiting_checkpoint, held, ... */
	char detail[IST_CLI_LJ_REASON_MAX];
	bool has_checkpoint;                /* ready: its checkpoint */
	uint64_t cp_tree_size, cp_src_height;
	bool held;                          /* pending, reason held: the hold below */
	char rule[IST_CLI_LJ_WORD_MAX];
	uint64_t first_held, source_height;
	bool has_release;
	uint64_t release_height;
};

/* {"status":"ready","checkpoint":{...},...} or {"status":"pending",
 * "reason","detail","hold":{"rule","first_held","release_height": h|null,
 * "source_height"}} (hold with reason "held" only). Plain memory. Returns 0
 * or -IST_ECONFIG. */
int ist_cli_lj_delivery_status_parse(json_t *doc, const char *label, struct ist_cli_lj_delivery_status *ret,
				     struct ist_json_err *err) IST_WUR;

#endif
