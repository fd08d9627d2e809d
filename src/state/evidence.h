/*
 * Evidence of misbehaviour (DESIGN "Ledger", slashing): what anyone may put
 * in a block as an `evidence` payload item, and how it is checked.
 *
 * Two kinds of offence, each a pair of statements signed by one validator
 * that no honest validator ever makes:
 *
 *  - double-vote: two consensus votes of one validator in one (epoch, view)
 *    for different blocks (each an Ed25519 signature by its node key over
 *    ist_wire_vote_signing_bytes).
 *  - conflicting-checkpoints: two attestation signatures of one validator
 *    (recoverable ECDSA by its attestation key over ist_wire_attest_digest
 *    of (network, epoch, height, batch root)), each with a checkpoint and
 *    its inclusion proof in that batch root, for the same route and tree
 *    size but different roots.
 *
 * And one kind that accuses nobody (state/breaker.h):
 *
 *  - finality-report: a validator's statement, signed by its node key
 *    (Ed25519 over ist_evidence_report_signing_bytes), that its watcher
 *    saw a final block of a source chain rewritten. Reports of more than
 *    1/3 of the current set's stake trip the chain's circuit breaker.
 *
 * The encoding (integers big-endian; no other form is accepted, so an
 * item's bytes, and its id, are unique):
 *
 *   u8 kind (1 double-vote, 2 conflicting-checkpoints, 3 finality-report), then
 *   kind 1:  u64 epoch, u64 view, u32 voter (index in the epoch's set),
 *            32 block_a, 64 sig_a, 32 block_b, 64 sig_b   with block_a < block_b
 *   kind 2:  two signed checkpoints, a then b, each:
 *              u64 epoch, u64 height, 32 batch_root, u32 signer, 65 sig,
 *              85 checkpoint bytes (ist_wire_checkpoint_bytes),
 *              u64 leaf_index, u64 tree_size, u8 path length, 32 x path
 *            with a's (epoch, height) below b's, or equal and a's batch
 *            root below b's.
 *   kind 3:  u64 network_id, u64 chain (>= 1), u64 height (the source
 *            height whose final block was rewritten), 32 observed (the
 *            hash the reporter observed at height), 32 rewritten (the
 *            parent hash block height + 1 now names; != observed),
 *            32 reporter (its node key), 64 sig     (185 bytes)
 *            signed bytes: "isthmus/finality-report/v1" || network_id ||
 *            chain || height || observed || rewritten || reporter
 *
 * evidence id = SHA-256("isthmus/evidence/v1" || bytes).
 */
#ifndef IST_STATE_EVIDENCE_H
#define IST_STATE_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/macro.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "crypto/tags.h"
#include "wire/types.h"

#define IST_EVIDENCE_DOUBLE_VOTE 1
#define IST_EVIDENCE_CONFLICTING_CHECKPOINTS 2
#define IST_EVIDENCE_FINALITY_REPORT 3
#define IST_EVIDENCE_DOUBLE_VOTE_BYTES 213
#define IST_EVIDENCE_FINALITY_REPORT_BYTES (1 + 8 + 8 + 8 + 3 * IST_HASH_BYTES + IST_SIG_BYTES)
#define IST_EVIDENCE_REPORT_SIGNING_BYTES (sizeof(IST_TAG_FINALITY_REPORT) - 1 + 24 + 3 * IST_HASH_BYTES)
#define IST_EVIDENCE_MAX_BYTES (1 + 2 * (8 + 8 + 32 + 4 + 65 + 85 + 8 + 8 + 1 + 32 * IST_WIRE_MAX_PROOF_DEPTH))

struct ist_evidence_signed_cp {
	uint64_t epoch;
	uint64_t height;
	uint8_t batch_root[IST_HASH_BYTES];
	uint32_t signer;
	uint8_t sig[IST_SECP_SIG_BYTES];
	struct ist_checkpoint cp;
	struct ist_inclusion_proof proof;
};

/* Plain memory. */
struct ist_evidence {
	uint8_t kind;
	union {
		struct {
			uint64_t epoch;
			uint64_t view;
			uint32_t voter;
			uint8_t block_a[IST_HASH_BYTES];
			uint8_t sig_a[IST_SIG_BYTES];
			uint8_t block_b[IST_HASH_BYTES];
			uint8_t sig_b[IST_SIG_BYTES];
		} vote;
		struct {
			struct ist_evidence_signed_cp a, b;
		} cps;
		struct {
			uint64_t network_id;
			uint64_t chain;
			uint64_t height;
			uint8_t observed[IST_HASH_BYTES];
			uint8_t rewritten[IST_HASH_BYTES];
			uint8_t reporter[IST_ED25519_PUBKEY_BYTES];
			uint8_t sig[IST_SIG_BYTES];
		} report;
	} u;
};

/* The kind's name ("double-vote", "conflicting-checkpoints",
 * "finality-report", "unknown"). */
const char *ist_evidence_kind_name(uint8_t kind);

/* Decodes evidence bytes: a decoder of outside input. Out: *ret (written
 * only on success). Returns 0 or -IST_EPARSE with *ret_why (static text)
 * saying what is wrong (may be NULL). */
int ist_evidence_decode(const uint8_t *p, size_t len, struct ist_evidence *ret, const char **ret_why) IST_WUR;

/* Appends the encoding of `ev` (which must be in the canonical order: see
 * ist_evidence_normalize). Returns 0, -IST_EINVAL, -IST_ENOMEM. */
int ist_evidence_encode(const struct ist_evidence *ev, struct ist_buf *out) IST_WUR;

/* Puts the two statements in canonical order (swaps a and b if needed). */
void ist_evidence_normalize(struct ist_evidence *ev);

void ist_evidence_id(const uint8_t *p, size_t len, uint8_t ret_id32[IST_HASH_BYTES]);

/* The bytes a finality report's signature covers (its kind must be
 * IST_EVIDENCE_FINALITY_REPORT). */
void ist_evidence_report_signing_bytes(const struct ist_evidence *ev,
				       uint8_t ret[IST_EVIDENCE_REPORT_SIGNING_BYTES]);

/* Verifies a finality report: of network `network_id`, and signed by the
 * node key it names. True, or false with the reason in why. Whether the
 * reporter may report is the ledger's question (state/breaker.h). Pure. */
bool ist_evidence_report_verify(const struct ist_evidence *ev, uint64_t network_id, char *why,
				size_t why_len) IST_WUR;

/* The validator set the evidence is checked against: its epoch's members'
 * node and attestation keys by index. */
struct ist_evidence_set {
	uint64_t network_id;
	uint64_t epoch;
	uint32_t n;
	const uint8_t (*node_keys)[IST_ED25519_PUBKEY_BYTES];
	const uint8_t (*attest_keys)[IST_SECP_PUBKEY_BYTES];   /* may be NULL for a double vote */
};

/* The epoch(s) whose sets the evidence needs: double-vote one; conflicting
 * checkpoints a's and b's (may differ: the offender is found by its node
 * key in both); a finality report none (0, 0). */
void ist_evidence_epochs(const struct ist_evidence *ev, uint64_t *ret_a, uint64_t *ret_b);

/* Verifies `ev` against the sets of its epochs (set_a for the first
 * statement, set_b for the second; the same for a double vote). True with
 * *ret_offender (the offender's node key) when it proves misbehaviour;
 * false with the reason in why (always for a finality report, which
 * accuses nobody). Pure. */
bool ist_evidence_verify(const struct ist_evidence *ev, const struct ist_evidence_set *set_a,
			 const struct ist_evidence_set *set_b, uint8_t ret_offender[IST_ED25519_PUBKEY_BYTES],
			 char *why, size_t why_len) IST_WUR;

#endif
