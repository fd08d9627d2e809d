/*
 * The ledger: the deterministic state every validator computes from the
 * committed chain (DESIGN "Ledger"): accounts and balances, validators and
 * their stake, epochs, jailing and slashing. docs/protocol.md, "Ledger",
 * has the same rules in prose; keep them together.
 *
 * Pure: no I/O, clock, randomness or logging. The node applies each
 * committed block (ist_ledger_apply_block), writes what changed in the same
 * LMDB transaction as the block (ist_ledger_flush through a sink it
 * provides), and at start loads the state back (ist_ledger_load_*). The
 * same genesis and the same blocks always give byte-identical state.
 *
 * Rules, in short:
 *
 *  - An account is an Ed25519 public key with a balance and the nonce its
 *    next transaction must carry. A transaction in a committed block whose
 *    nonce is not the account's next, or whose sender cannot pay its fee,
 *    is skipped (result "failed", nothing changes). Otherwise the fee is
 *    taken (burned), the nonce used, and the body applied; a body that
 *    breaks a rule fails with a reason and changes nothing else.
 *  - transfer: amount from sender to `to`.
 *  - register_validator: the sender becomes the operator of a new
 *    validator (node key, attestation key, DKG key, address, commission).
 *    One validator per operator; keys unique among registered validators.
 *    It starts as a candidate with no stake.
 *  - bond: amount from the sender's balance to its bond with a validator
 *    (not removed). unbond: amount from the bond into an unbonding entry
 *    released at epoch (current + unbonding_epochs). withdraw: every
 *    released entry of the sender back to its balance. Bonded and
 *    unbonding stake of a slashed validator lose the slash fraction.
 *  - unjail: the sender's validator, jailed, after its cooldown.
 *  - gov_propose, gov_vote: governance by the current set's operators
 *    (state/gov.h): pause or resume a chain or a route.
 *  - Finality reports (evidence kind 3) and conflicting-checkpoints
 *    evidence feed the automatic circuit breakers (state/breaker.h): more
 *    than 1/3 of the stake pauses the chain as governance would.
 *  - Epochs: epoch e starts after its root block; it ends at the block of
 *    height start + epoch_length_blocks - 1 (or earlier, at a block whose
 *    evidence removes a member of the set). Then the next set is the top
 *    max_validators validators by bonded stake, among those not jailed,
 *    not removed and with at least min_stake (ties by node key); each
 *    validator's voting weight is its bonded stake. Should no validator
 *    qualify, the set stays as it is (the network must not stop).
 *  - Liveness: each block's justify QC shows which members voted for its
 *    parent. At the end of an epoch, a member that was in none of more
 *    than jail_missed_bps / 10000 of the epoch's QCs (at least
 *    IST_LEDGER_LIVENESS_MIN_QCS of them counted, or half the epoch
 *    length when that is less) is jailed; it may send
 *    unjail from epoch (jailed epoch + jail_cooldown_epochs) on.
 *  - Evidence (state/evidence.h): verified against the set of its epoch
 *    (kept for unbonding_epochs + 1 epochs; older evidence is refused).
 *    The offender loses slash_fraction_bps / 10000 of its bonded and
 *    unbonding stake and is removed for good; if it is in the current set,
 *    the epoch ends with the block.
 *  - FROST (frost_round_blocks > 0; state/frost_ledger.h): an epoch whose
 *    set has no group key runs a DKG for itself from the block after its
 *    first; at a scheduled epoch end the next set is chosen, as above,
 *    but the epoch goes on while that set's DKG runs, and ends at the
 *    block where it finishes (with the group key in the next set, and so
 *    in the hand-over) or fails. An epoch ended by evidence switches at
 *    once, without a key. Blocks of an epoch with a group key that carry
 *    checkpoints or end the epoch get a signing job.
 */
#ifndef IST_STATE_LEDGER_H
#define IST_STATE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/macro.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "crypto/x25519.h"
#include "state/verify.h"
#include "wire/types.h"

#define IST_LEDGER_MAX_REGISTERED 1024     /* validators ever registered */
#define IST_LEDGER_MAX_ENTRIES 65536       /* bonds, and unbonding entries */
#define IST_LEDGER_LIVENESS_MIN_QCS 10
#define IST_LEDGER_REASON_MAX 160
#define IST_LEDGER_NAME_MAX 64
#define IST_LEDGER_ADDRESS_MAX IST_WIRE_MAX_ADDRESS_BYTES
/* Epoch sets kept for evidence and the API beyond unbonding_epochs. */
#define IST_LEDGER_HISTORY_MIN 4

struct ist_ledger_params {
	uint64_t epoch_length_blocks;   /* >= 1 */
	uint32_t max_validators;        /* 1..IST_WIRE_MAX_VALIDATORS */
	uint64_t min_stake;             /* >= 1 */
	uint64_t unbonding_epochs;      /* >= 1 */
	uint32_t slash_fraction_bps;    /* 0..10000 */
	uint32_t jail_missed_bps;       /* 1..10000 */
	uint64_t jail_cooldown_epochs;  /* >= 0 */
	/* FROST (state/frost_ledger.h): 0 = no threshold certificates;
	 * otherwise the blocks each DKG round may take (1..1000) */
	uint32_t frost_round_blocks;
	uint32_t frost_sign_timeout_blocks; /* 1..1000 when frost_round_blocks > 0 */
};

/* Checks the ranges above. Returns 0 or -IST_EINVAL with *ret_field (may be
 * NULL) naming the first bad field ("max_validators", ...). */
int ist_ledger_params_check(const struct ist_ledger_params *p, const char **ret_field) IST_WUR;

enum ist_ledger_status {
	IST_LEDGER_CANDIDATE = 1,   /* registered, not in the current set */
	IST_LEDGER_ACTIVE = 2,      /* in the current set */
	IST_LEDGER_JAILED = 3,
	IST_LEDGER_REMOVED = 4,     /* slashed: for good */
};
const char *ist_ledger_status_name(enum ist_ledger_status s);
/* "transfer", "register_validator", "bond", "unbond", "withdraw", "unjail". */
const char *ist_ledger_tx_kind_name(enum ist_tx_kind k);

struct ist_ledger_validator {
	uint8_t node_key[IST_ED25519_PUBKEY_BYTES];
	uint8_t operator_key[IST_ED25519_PUBKEY_BYTES];
	uint8_t attest_key[IST_SECP_PUBKEY_BYTES];
	uint8_t dkg_key[IST_X25519_PUBKEY_BYTES];
	char name[IST_LEDGER_NAME_MAX + 1];          /* genesis validators; "" otherwise */
	char address[IST_LEDGER_ADDRESS_MAX + 1];
	uint32_t commission_bps;
	uint64_t bonded;                             /* sum of its bonds */
	uint64_t slashed;                            /* total lost to slashing */
	bool jailed;
	bool removed;
	uint64_t jailed_epoch;                       /* meaningful when jailed */
};

struct ist_ledger_account {
	uint8_t key[IST_ED25519_PUBKEY_BYTES];
	uint64_t balance;
	uint64_t nonce;                              /* the next transaction's */
	bool dirty;
};

struct ist_ledger_bond {
	uint8_t validator[IST_ED25519_PUBKEY_BYTES];
	uint8_t delegator[IST_ED25519_PUBKEY_BYTES];
	uint64_t amount;
};

struct ist_ledger_unbonding {
	uint8_t validator[IST_ED25519_PUBKEY_BYTES];
	uint8_t delegator[IST_ED25519_PUBKEY_BYTES];
	uint64_t amount;
	uint64_t release_epoch;
};

/* One epoch's active set: members by index (the validator index of
 * signer bitmaps), each with its node key, attestation key and weight. */
struct ist_ledger_set {
	uint64_t epoch;
	uint64_t start_height;                       /* its first block */
	uint64_t end_height;                         /* its last; 0 while current */
	uint32_t n;
	uint8_t node_keys[IST_WIRE_MAX_VALIDATORS][IST_ED25519_PUBKEY_BYTES];
	uint8_t attest_keys[IST_WIRE_MAX_VALIDATORS][IST_SECP_PUBKEY_BYTES];
	uint64_t stakes[IST_WIRE_MAX_VALIDATORS];
	uint64_t total;
	bool has_group_key;                          /* FROST: the DKG of the epoch formed a key */
	/* the key formed within the epoch (its hand-over DKG failed), so the
	 * hand-over leaf, made before, does not cover it: a destination
	 * cannot follow it, and ist_ledger_set_valset leaves it out (except
	 * for epoch 0, which has no hand-over: its key is a trust root) */
	bool late_key;
	uint8_t group_key[IST_ED25519_PUBKEY_BYTES];
};

struct ist_ledger_genesis_validator {
	const char *name;
	const uint8_t *node_key;      /* 32 */
	const uint8_t *attest_key;    /* 33 */
	const uint8_t *dkg_key;       /* 32 */
	const char *address;
	uint64_t stake;               /* its operator's (= node key's) bond */
};

struct ist_ledger_genesis_account {
	const uint8_t *key;           /* 32 */
	uint64_t balance;
};

struct ist_ledger;

/* A new ledger at genesis: the accounts, the validators registered,
 * operated by their own node key and bonded by it with their stake, and
 * epoch 0's set = the genesis validators in genesis order (their stakes
 * as weights), starting at height 1. Everything is copied. Returns 0 and
 * *ret, -IST_EINVAL (params, a duplicate key, no validator, too many),
 * -IST_ERANGE (totals over 2^64) or -IST_ENOMEM. */
int ist_ledger_new(const struct ist_ledger_params *p, uint64_t network_id,
		   const struct ist_ledger_genesis_validator *vals, size_t n_vals,
		   const struct ist_ledger_genesis_account *accts, size_t n_accts, struct ist_ledger **ret) IST_WUR;
void ist_ledger_free(struct ist_ledger *l);

/* ---- applying blocks ---- */

/* What applying one block did. */
struct ist_ledger_outcome {
	bool epoch_ended;             /* the block ends its epoch: next is the new set */
	const struct ist_ledger_set *next;   /* borrowed until the next apply */
	size_t n_txs, n_failed, n_evidence;
};

/* Applies committed block `b` (whose id is `id32`). Must be called for
 * every committed block in height order, starting above the height the
 * ledger is at. Transactions are assumed to carry a valid signature for
 * this network (the node's validate checked it); evidence is verified
 * here. Out: *ret. Returns 0, -IST_EINVAL (a block out of order) or
 * -IST_ENOMEM. A failed transaction is not an error (see receipts). */
int ist_ledger_apply_block(struct ist_ledger *l, const struct ist_block *b, const uint8_t id32[IST_HASH_BYTES],
			   struct ist_ledger_outcome *ret) IST_WUR;

/* Checks a transaction against the current state, as the mempool's
 * admission: the nonce (not used yet, at most `max_ahead` above the
 * account's next), the fee and amount against the balance, and the body's
 * rules as if it were applied now. Returns 0 or -IST_EINVAL with the reason
 * in why (NUL-terminated). */
int ist_ledger_tx_precheck(const struct ist_ledger *l, const struct ist_tx *tx, uint64_t max_ahead, char *why,
			   size_t why_len) IST_WUR;

/* Checks one evidence item (state/evidence.h) against the ledger's epoch
 * sets, as the validate callback does for a block. Returns 0 or a negative
 * error with the reason in why. */
int ist_ledger_evidence_check(const struct ist_ledger *l, const uint8_t *ev, size_t len, char *why,
			      size_t why_len) IST_WUR;

/* ---- reading (borrowed pointers live until the next apply or load) ---- */

uint64_t ist_ledger_height(const struct ist_ledger *l);
const struct ist_ledger_params *ist_ledger_params_get(const struct ist_ledger *l);
/* The current epoch's set. */
const struct ist_ledger_set *ist_ledger_current(const struct ist_ledger *l);
/* A kept epoch's set, or NULL (never existed, or too old). */
const struct ist_ledger_set *ist_ledger_set_get(const struct ist_ledger *l, uint64_t epoch);
/* The account, or NULL when it has never been touched. */
const struct ist_ledger_account *ist_ledger_account(const struct ist_ledger *l, const uint8_t key32[IST_ED25519_PUBKEY_BYTES]);
size_t ist_ledger_n_validators(const struct ist_ledger *l);
const struct ist_ledger_validator *ist_ledger_validator_at(const struct ist_ledger *l, size_t i);
const struct ist_ledger_validator *ist_ledger_validator_find(const struct ist_ledger *l,
							       const uint8_t node_key32[IST_ED25519_PUBKEY_BYTES]);
/* The validator operated by account `key32`, or NULL. */
const struct ist_ledger_validator *ist_ledger_validator_by_operator(const struct ist_ledger *l,
								     const uint8_t key32[IST_ED25519_PUBKEY_BYTES]);
enum ist_ledger_status ist_ledger_validator_status(const struct ist_ledger *l, const struct ist_ledger_validator *v);
/* Bonds and unbonding entries (all of them; filter by key). */
size_t ist_ledger_n_bonds(const struct ist_ledger *l);
const struct ist_ledger_bond *ist_ledger_bond_at(const struct ist_ledger *l, size_t i);
size_t ist_ledger_n_unbonding(const struct ist_ledger *l);
const struct ist_ledger_unbonding *ist_ledger_unbonding_at(const struct ist_ledger *l, size_t i);

/* The FROST state (state/frost_ledger.h), or NULL when FROST is off. */
struct ist_fl;
const struct ist_fl *ist_ledger_frost(const struct ist_ledger *l);
/* Governance (state/gov.h): proposals, votes, paused chains and routes. */
struct ist_gov;
const struct ist_gov *ist_ledger_gov(const struct ist_ledger *l);
/* The automatic circuit breakers (state/breaker.h): finality reports and
 * their tally per chain. */
struct ist_breaker;
const struct ist_breaker *ist_ledger_breaker(const struct ist_ledger *l);
/* The next epoch's set while its DKG runs before the hand-over, or NULL. */
const struct ist_ledger_set *ist_ledger_pending_next(const struct ist_ledger *l);

/* Whether the set's group key is part of it as a destination sees it (the
 * valset, and so the hand-over leaf): a key made late is not, except epoch
 * 0's (see late_key). */
bool ist_ledger_set_key_public(const struct ist_ledger_set *s);

/* The set as a destination's validator set (state/verify.h) of network
 * `network_id`, its epoch included. */
void ist_ledger_set_valset(uint64_t network_id, const struct ist_ledger_set *s, struct ist_valset *ret);

/* ---- persistence ---- */

enum ist_ledger_table {
	IST_LEDGER_T_ACCOUNT = 1,   /* key: account key (32); value: balance u64 || nonce u64 */
	IST_LEDGER_T_STATE,         /* key: "state"; value: the rest (ist_ledger_load_state) */
	IST_LEDGER_T_RECEIPT,       /* key: tx id (32); value: see ist_ledger_receipt_decode */
	IST_LEDGER_T_EVIDENCE,      /* key: height u64 || index u32; value: see ist_ledger_evidence_record_decode */
	IST_LEDGER_T_EPOCH,         /* key: epoch u64; value: an ended or new set (ist_ledger_set_decode) */
	IST_LEDGER_T_FROST,         /* key: "frost"; value: ist_fl_encode */
	IST_LEDGER_T_GOV,           /* key: "gov"; value: ist_gov_encode */
	IST_LEDGER_T_GOV_ROUTES,    /* key: "routes"; value: ist_gov_routes_encode */
	IST_LEDGER_T_PAUSES,        /* key: height u64; value: that block's pause events (ist_gov_events_encode) */
	IST_LEDGER_T_BREAKER,       /* key: "breaker"; value: ist_breaker_encode */
};

struct ist_ledger_sink {
	int (*put)(void *ctx, enum ist_ledger_table t, const uint8_t *key, size_t klen, const uint8_t *val,
		   size_t vlen);
	void *ctx;
};

/* The pause leaves (wire/canonical.h) of the events block `height` made,
 * while the governance state still keeps them: at most
 * IST_GOV_MAX_BLOCK_EVENTS into `leaves`. Returns how many. */
size_t ist_ledger_pause_leaves(const struct ist_ledger *l, uint64_t height, uint8_t (*leaves)[IST_HASH_BYTES]);

/* Writes everything that changed since the last ist_ledger_flushed (or
 * load) through `sink`. Changes no memory, so a write transaction that is
 * run again may call it again. Returns 0, -IST_ENOMEM or the sink's error. */
int ist_ledger_flush(const struct ist_ledger *l, const struct ist_ledger_sink *sink) IST_WUR;
/* The last flush is durable: forget what it wrote. */
void ist_ledger_flushed(struct ist_ledger *l);

/* Restores a ledger made by ist_ledger_new with the same genesis to a
 * persisted state: first the IST_LEDGER_T_STATE value, then every
 * IST_LEDGER_T_ACCOUNT record (and the gov, breaker and frost records when
 * stored). Returns 0, -IST_EDB_CORRUPT (a malformed
 * record), -IST_ENOMEM. */
int ist_ledger_load_state(struct ist_ledger *l, const uint8_t *val, size_t len) IST_WUR;
int ist_ledger_load_frost(struct ist_ledger *l, const uint8_t *val, size_t len) IST_WUR;
int ist_ledger_load_gov(struct ist_ledger *l, const uint8_t *val, size_t len) IST_WUR;
struct ist_gov_limits;
/* A genesis's route limits (ist_gov_set_route_limits at height 0), before
 * the first block. Returns 0, or -IST_ESTATE once a block was applied. */
int ist_ledger_genesis_route_limits(struct ist_ledger *l, uint64_t src, uint64_t dst,
				    const struct ist_gov_limits *lim) IST_WUR;
int ist_ledger_load_gov_routes(struct ist_ledger *l, const uint8_t *val, size_t len) IST_WUR;
int ist_ledger_load_breaker(struct ist_ledger *l, const uint8_t *val, size_t len) IST_WUR;
int ist_ledger_load_account(struct ist_ledger *l, const uint8_t *key, size_t klen, const uint8_t *val,
			    size_t vlen) IST_WUR;

struct ist_ledger_receipt {
	uint64_t height;
	uint32_t index;               /* in the block's payload */
	bool ok;
	enum ist_tx_kind kind;
	uint8_t sender[IST_ED25519_PUBKEY_BYTES];
	uint64_t nonce;
	char reason[IST_LEDGER_REASON_MAX];   /* "" when ok */
	uint64_t proposal;            /* an applied gov_propose: the proposal's number; else 0 */
};
int ist_ledger_receipt_decode(const uint8_t *val, size_t len, struct ist_ledger_receipt *ret) IST_WUR;

struct ist_ledger_evidence_record {
	uint8_t id[IST_HASH_BYTES];
	uint64_t height;              /* committed in */
	uint64_t epoch;               /* of the offence */
	uint8_t kind;                 /* IST_EVIDENCE_* */
	uint8_t offender[IST_ED25519_PUBKEY_BYTES];   /* a finality report: its reporter */
	uint64_t slashed;
	bool ok;                      /* false: refused (reason) */
	char reason[IST_LEDGER_REASON_MAX];
};
int ist_ledger_evidence_record_decode(const uint8_t *val, size_t len, struct ist_ledger_evidence_record *ret) IST_WUR;

int ist_ledger_set_decode(const uint8_t *val, size_t len, struct ist_ledger_set *ret) IST_WUR;

#endif
