/*
 * Destination-side verification: what every verifier of a delivery checks
 * (a devchain's inbox, `isthmus verify` offline, later the EVM contracts'
 * reference), against a validator set it trusts. docs/protocol.md,
 * "Delivery verification", is the same list in prose; keep them together.
 *
 * A delivery (wire/types.h) is {message, message proof, checkpoint,
 * checkpoint proof, certificate}. ist_verify_delivery() checks, in order,
 * stopping at the first failure:
 *
 *   0. the message has an id (payload within its limit; always so for a
 *      decoded delivery)                                     malformed
 *   1. message.dst_chain is the verifier's chain          wrong-destination
 *   2. checkpoint.src_chain, dst_chain are the message's  route-mismatch
 *   3. message id (ist_wire_message_id) is leaf `nonce` of the route tree
 *      of checkpoint.tree_size leaves with root checkpoint.root: the proof's
 *      tree_size equals checkpoint.tree_size, its leaf_index equals the
 *      message's nonce (nonces start at 0 per route and a route tree holds
 *      every message of the route in nonce order), and the RFC 9162 path
 *      leads from SHA-256(0x00 || id) to the root                message-proof
 *   4. the checkpoint's leaf hash (ist_wire_checkpoint_leaf_hash) is leaf
 *      checkpoint_proof.leaf_index of the batch tree of
 *      checkpoint_proof.tree_size leaves with root certificate.batch_root
 *                                                            checkpoint-proof
 *   5. the certificate (ist_verify_certificate).
 *
 * ist_verify_certificate() checks, in order:
 *
 *   1. the scheme is one the caller accepts                  scheme
 *   2. network_id is the set's                               network
 *   3. epoch is the set's (one set = one epoch)              unknown-epoch
 *   multisig-secp256k1, over digest = ist_wire_certificate_digest(cert):
 *   4. no signer bit at or above the set's size              signer-range
 *   5. one signature per set bit                             signature-count
 *   6. signature k recovers (recovery id 0 or 1, low s) to the key of the
 *      validator of the k-th set bit; any bad signature fails the whole
 *      certificate (an honest relayer never sends one)       bad-signature
 *   7. the signers' stake is MORE than 2/3 of the set's total
 *      (3 * signed > 2 * total in 128-bit arithmetic)        quorum
 *   frost-ed25519:
 *   4. the set has a group key and the certificate's equals it  group-key
 *   5. the 64-byte signature is a valid Ed25519 signature of the 32-byte
 *      digest under the group key (libsodium's strict checks) bad-signature
 *
 * The certificate's height is not checked: a destination does not follow
 * isthmus heights; it is bound into the signed digest all the same.
 *
 * Pure: no I/O, clock or logging in the verification functions.
 * ist_crypto_init() must have succeeded before any of them is called.
 */
#ifndef IST_STATE_VERIFY_H
#define IST_STATE_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/macro.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "wire/types.h"

/* ---- The validator set a verifier trusts ----
 *
 * The file (docs/protocol.md, "Delivery verification"):
 *
 *   {"format": "isthmus-validator-set/v1", "network_id": 1337, "epoch": 0,
 *    "validators": [{"attestation_key": "<hex33>", "stake": 1000000}, ...],
 *    "group_key": "<hex32>"}
 *
 * The order of "validators" is the validator index (bit i of a signer
 * bitmap). "group_key" (the FROST group key of the epoch) is optional.
 * network_id >= 1, epoch and stakes (>= 1) are u64: JSON integers up to 2^53
 * or decimal strings (common/json.h). Every key must be a valid point (a
 * compressed secp256k1 key; an Ed25519 group key), no attestation key may
 * appear twice (one key would count its stake twice), the total stake must
 * fit 64 bits, and unknown fields are refused. A node's GET /v1/validators
 * serves this format with fields for people added, which are checked when
 * present: "total_stake" (the sum), and per validator "index" (its
 * position), "name", "node_key" and "attestation_address" (the EIP-55
 * address of the key).
 */
#define IST_VALSET_FORMAT "isthmus-validator-set/v1"
#define IST_VALSET_FILE_MAX (1u << 20)

/* Plain memory (about 11 KiB): copy it with `=`. */
struct ist_valset {
	uint64_t network_id;
	uint64_t epoch;
	size_t n;                                               /* 1..IST_WIRE_MAX_VALIDATORS */
	uint8_t keys[IST_WIRE_MAX_VALIDATORS][IST_SECP_PUBKEY_BYTES];  /* attestation keys, by index */
	uint64_t stakes[IST_WIRE_MAX_VALIDATORS];               /* each >= 1 */
	uint64_t total;                                         /* sum of the stakes */
	bool has_group_key;
	uint8_t group_key[IST_ED25519_PUBKEY_BYTES];            /* meaningful when has_group_key */
};

/* Checks a set built in memory (what parse checks after reading the JSON)
 * and sets vs->total. `label` names the set in errors, whose fields are
 * those of the file ("validators[2].stake"). Returns 0 or -IST_ECONFIG with
 * `err` (may be NULL) set. */
int ist_valset_check(struct ist_valset *vs, const char *label, struct ist_json_err *err) IST_WUR;

/* Parses and checks validator-set JSON text (`len` bytes, need not be
 * NUL-terminated): a decoder of outside input. `label` names the file in
 * errors. Out: *ret (written only on success). Returns 0 or, with `err` set:
 *   -IST_EPARSE   not JSON (err has line and column),
 *   -IST_ECONFIG  JSON that is not a valid set (err names the field),
 *   -IST_EUNSUPPORTED  another "format" than IST_VALSET_FORMAT,
 *   -IST_ETOOBIG  longer than IST_VALSET_FILE_MAX,
 *   -IST_ENOMEM. */
int ist_valset_parse(const char *json, size_t len, const char *label, struct ist_valset *ret,
		     struct ist_json_err *err) IST_WUR;

/* Reads and parses the file at `path` (labelled by `path`). Returns 0, the
 * errors of ist_valset_parse, or those of ist_json_file_read
 * (-IST_ENOTFOUND "no such file", ...). */
int ist_valset_load(const char *path, struct ist_valset *ret, struct ist_json_err *err) IST_WUR;

/* The file's text for `vs` (two-space indent, fields in the order above,
 * u64 above 2^53 as strings, "group_key" only when has_group_key, a final
 * newline); parsing it gives `vs` back. Out: *ret_json (malloc'd, caller
 * frees). Returns 0 or -IST_ENOMEM. */
int ist_valset_format(const struct ist_valset *vs, char **ret_json) IST_WUR;

/* ---- Epoch hand-over (docs/protocol.md, "Epochs and hand-over") ----
 *
 * The outgoing set certifies the incoming one: the block that ends epoch e
 * gets one more leaf at the end of its batch tree (after its checkpoints),
 * the hand-over leaf of epoch e + 1, and the certificate of that block (by
 * epoch e's set) covers it. A verifier that trusts epoch e checks the
 * certificate with its set, the leaf's inclusion proof against the
 * certificate's batch root, and then trusts epoch e + 1.
 *
 * valset hash = SHA-256 of (integers big-endian):
 *   "isthmus/valset/v1" || network_id u64 || epoch u64 || n u32 ||
 *   n x (attestation key 33 || stake u64) || has_group_key u8 (0 or 1) ||
 *   group_key 32 (zeros without one)
 * hand-over leaf data = "isthmus/epoch/v1" || epoch u64 || valset hash 32
 * (56 bytes; the leaf hash is SHA-256(0x00 || data), as every RFC 9162
 * leaf), where epoch is the incoming set's (vs->epoch). */
#define IST_HANDOVER_LEAF_BYTES 56

void ist_valset_hash(const struct ist_valset *vs, uint8_t ret_hash32[IST_HASH_BYTES]);
void ist_handover_leaf_hash(const struct ist_valset *next, uint8_t ret_leaf32[IST_HASH_BYTES]);

/* ---- The hand-over document ----
 *
 * What a node answers on GET /v1/epochs/{n} (docs/api.md) and what an inbox
 * takes to follow a set change (docs/devchain.md, POST /v1/inbox/epochs):
 *
 *   {"epoch": 3, "start_height": 61, "end_height": 90 | null,
 *    "validator_set": <isthmus-validator-set/v1 of epoch 3, as
 *                      GET /v1/validators?epoch=3 answers it>,
 *    "handover": null | {"height": 60,
 *                        "certificate": null | "<hex of a protobuf Certificate>",
 *                        "leaf": "<hex32>" (optional),
 *                        "proof": {"leaf_index": "2", "tree_size": "3",
 *                                  "path": ["<hex32>", ...]}}}
 *
 * u64 values are JSON integers up to 2^53 or decimal strings (common/json.h).
 * Shape rules checked by the parser: "epoch" equals validator_set.epoch;
 * "handover" is null only for epoch 0 (which has no hand-over) and must be
 * null there; "end_height", when not null, is at least "start_height";
 * "leaf", when present, is ist_handover_leaf_hash(validator_set) (a wrong
 * leaf is named here rather than later as a failed proof); the proof's path
 * has at most IST_WIRE_MAX_PROOF_DEPTH entries. "certificate" null means the
 * node has not formed the certificate of the hand-over block yet: ask again
 * later. Unknown fields are refused at every level but inside
 * validator_set, whose extra fields for people ist_valset_parse accepts.
 * Whether the hand-over is valid is ist_verify_handover's business.
 */
#define IST_HANDOVER_DOC_MAX (2u * IST_VALSET_FILE_MAX)

/* Plain memory (about 30 KiB): copy it with `=`; keep it off small stacks. */
struct ist_handover {
	uint64_t epoch;                      /* the incoming epoch (== next.epoch) */
	uint64_t start_height;
	bool has_end_height;                 /* false: the epoch is the current one */
	uint64_t end_height;
	struct ist_valset next;              /* the incoming set */
	bool has_handover;                   /* false only for epoch 0 */
	/* meaningful when has_handover: */
	uint64_t height;                     /* the block whose batch tree holds the leaf */
	struct ist_inclusion_proof proof;    /* of the leaf in that block's batch tree */
	bool has_certificate;                /* false: not formed yet (retry later) */
	struct ist_certificate cert;         /* meaningful when has_certificate */
};

/* Reads the document from `doc` (a parsed JSON value, borrowed) at `parent`
 * ("" at the top; "handover" when nested in a request body) with reader
 * `jr`, which fails as described in common/json.h (-IST_ECONFIG for a bad
 * field, -IST_EUNSUPPORTED for another validator-set format, -IST_ENOMEM);
 * the field paths of errors are prefixed by `parent`. Out: *ret (written
 * only when jr is still ok afterwards). A decoder of outside input. */
void ist_handover_read(struct ist_json_reader *jr, json_t *doc, const char *parent, struct ist_handover *ret);

/* Parses the document from `len` bytes of JSON text (need not be
 * NUL-terminated); `label` names it in errors. Out: *ret (written only on
 * success). Returns 0 or, with `err` (may be NULL) set: -IST_EPARSE (not
 * JSON), -IST_ECONFIG (a field is wrong: err names it), -IST_EUNSUPPORTED,
 * -IST_ETOOBIG (over IST_HANDOVER_DOC_MAX bytes), -IST_ENOMEM. */
int ist_handover_parse(const char *json, size_t len, const char *label, struct ist_handover *ret,
		       struct ist_json_err *err) IST_WUR;

/* The document's JSON for `h` (the shape above; validator_set as
 * ist_valset_format writes it; u64 values as common/json.h writes them;
 * "leaf" computed; a certificate that does not encode is an error).
 * Parsing it gives `h` back. Out: *ret_doc (a new reference, caller
 * decrefs). Returns 0, -IST_EINVAL (the certificate does not encode),
 * -IST_ENOMEM. */
int ist_handover_to_json(const struct ist_handover *h, json_t **ret_doc) IST_WUR;

/* ---- Verification ---- */

/* Schemes a verifier accepts (flags, ORed). */
#define IST_VERIFY_ACCEPT_MULTISIG (1u << 0)
#define IST_VERIFY_ACCEPT_FROST (1u << 1)

/* Parses the --accept spelling of the flags shared by the programs that
 * verify: "multisig", "frost" or both, a list joined by ',' (in any order;
 * empty items are skipped, at least one scheme is needed). True and *ret
 * (written only then) on success; false for anything else. */
bool ist_verify_accept_parse(const char *text, unsigned *ret) IST_WUR;

/* Reasons, with their stable short names (metric labels, HTTP error codes:
 * never rename one). "epoch-expired" is never given by the functions
 * below: a verifier that follows hand-overs (an inbox) gives it to a
 * certificate of an epoch it trusted once but no longer accepts. */
#define IST_VERIFY_REASONS(X) \
	X(OK,                "ok") \
	X(MALFORMED,         "malformed") \
	X(WRONG_DESTINATION, "wrong-destination") \
	X(ROUTE_MISMATCH,    "route-mismatch") \
	X(MESSAGE_PROOF,     "message-proof") \
	X(CHECKPOINT_PROOF,  "checkpoint-proof") \
	X(SCHEME,            "scheme") \
	X(NETWORK,           "network") \
	X(UNKNOWN_EPOCH,     "unknown-epoch") \
	X(SIGNER_RANGE,      "signer-range") \
	X(SIGNATURE_COUNT,   "signature-count") \
	X(BAD_SIGNATURE,     "bad-signature") \
	X(QUORUM,            "quorum") \
	X(GROUP_KEY,         "group-key") \
	X(HANDOVER_EPOCH,    "handover-epoch") \
	X(HANDOVER_PROOF,    "handover-proof") \
	X(EPOCH_EXPIRED,     "epoch-expired") \
	X(PAUSE_PROOF,       "pause-proof")

enum ist_verify_reason {
#define IST_VERIFY_ENUM(name, str) IST_VERIFY_##name,
	IST_VERIFY_REASONS(IST_VERIFY_ENUM)
#undef IST_VERIFY_ENUM
	IST_VERIFY__COUNT
};

#define IST_VERIFY_DETAIL_MAX 192

/* What a verification found. */
struct ist_verify_result {
	enum ist_verify_reason reason;          /* IST_VERIFY_OK when valid */
	char detail[IST_VERIFY_DETAIL_MAX];     /* one line for people, "" when valid */
	/* ist_verify_delivery: the message's id (always computed, valid or not) */
	uint8_t message_id[IST_HASH_BYTES];
	/* multisig: the signers' stake, once their signatures were checked */
	uint64_t signed_stake;
};

/* The short name of a reason ("quorum"); "unknown" for a value outside the
 * enum. Never NULL. */
const char *ist_verify_reason_name(enum ist_verify_reason r);

/* True when `cert` is a valid certificate of the set `vs` (checked by
 * ist_valset_check or parse) in a scheme of `accept`. *ret (may be NULL) is
 * always written: the reason and detail of the first failure. */
bool ist_verify_certificate(const struct ist_valset *vs, unsigned accept, const struct ist_certificate *cert,
			    struct ist_verify_result *ret) IST_WUR;

/* True when `d` proves that its message was sent to chain `my_chain` and
 * certified by `vs` in a scheme of `accept` (the checks at the top).
 * Replay is the caller's business: this says nothing about whether the
 * message was delivered before. *ret (may be NULL) is always written. */
bool ist_verify_delivery(const struct ist_valset *vs, uint64_t my_chain, unsigned accept,
			 const struct ist_delivery *d, struct ist_verify_result *ret) IST_WUR;

/*
 * True when the hand-over to `next` is proven by a verifier that trusts
 * `trusted` (checked sets both): the certificate `cert` of the block that
 * ends trusted's epoch, and `proof`, the inclusion proof of next's hand-over
 * leaf in that block's batch tree. The checks, in order:
 *
 *   1. next->network_id is trusted's                           network
 *   2. next->epoch is trusted->epoch + 1 (no epoch skipped, none
 *      repeated)                                           handover-epoch
 *   3. the proof is of the LAST leaf of the batch tree (leaf_index ==
 *      tree_size - 1, tree_size >= 1): the hand-over leaf comes after a
 *      block's checkpoints, so no checkpoint leaf can pose as one; and
 *      the RFC 9162 path leads from ist_handover_leaf_hash(next) to
 *      cert->batch_root                                    handover-proof
 *   4. the certificate is valid for `trusted` in a scheme of `accept`
 *      (ist_verify_certificate, so cert->epoch == trusted->epoch)
 *                                               its reasons (unknown-epoch...)
 *
 * The incoming set's own content (keys, stakes, group key) is bound by the
 * leaf, which hashes all of it (ist_valset_hash). *ret (may be NULL) is
 * always written: the reason and detail of the first failure; on success
 * ret->signed_stake is the certificate's (multisig).
 */
bool ist_verify_handover(const struct ist_valset *trusted, const struct ist_valset *next,
			 const struct ist_inclusion_proof *proof, const struct ist_certificate *cert, unsigned accept,
			 struct ist_verify_result *ret) IST_WUR;

/*
 * True when pause (or resume) `p` is certified by `vs`: `proof` is the
 * inclusion proof of its leaf (ist_wire_pause_leaf_hash) in the batch tree
 * of block p->height, and `cert` that block's certificate, valid for `vs`
 * in a scheme of `accept`. The checks, in order: p->network_id is vs's
 * (network); cert->height is p->height and the RFC 9162 path leads from the
 * leaf to cert->batch_root (pause-proof); then ist_verify_certificate. A
 * pause leaf's preimage has its own length and tag, so no checkpoint or
 * hand-over leaf can pose as one. *ret (may be NULL) is always written.
 */
bool ist_verify_pause(const struct ist_valset *vs, const struct ist_pause *p, const struct ist_inclusion_proof *proof,
		      const struct ist_certificate *cert, unsigned accept, struct ist_verify_result *ret) IST_WUR;

/* An inclusion proof object {"leaf_index", "tree_size", "path": [hex32...]}
 * (the counts as decimal strings, as the node's API gives them) at
 * parent.key, into *ret; failures go to jr. */
void ist_json_proof_read(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key,
			 struct ist_inclusion_proof *ret);

#endif
