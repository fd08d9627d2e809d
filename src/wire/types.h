/*
 * Native forms of everything the network carries (the .proto files of proto/), with the
 * size limit of every field and repeated item.
 *
 * These structs are what the rest of isthmus works with; protobuf-c types
 * never leave src/wire. wire/codec.h converts between the two, enforcing the
 * limits below, and wire/canonical.h produces the bytes that are hashed and
 * signed.
 *
 * Memory. Fixed-size and bounded parts are stored inline (hashes, keys,
 * signatures, signer bitmaps and signature lists of certificates, proof
 * paths, validator addresses), so most kinds are plain memory that can be
 * copied with `=`. Only three things live on the heap: a message's payload,
 * a block's payload items and the bytes of an opaque payload item. Kinds that
 * (directly or through a member) own heap parts have an _fini that frees
 * them with free(3); every kind has an _free for a heap struct, as returned
 * by the decoders. A struct you fill yourself owns what its pointers point
 * to: give it malloc'd memory if you will _fini it, or do not _fini it.
 *
 * Signer bitmaps: validator index i (in the epoch's validator set) is bit
 * (i % 8) of byte (i / 8), least significant bit first. A certificate's
 * signatures are listed in increasing validator index order, one for each set
 * bit, so signatures[k] belongs to the k-th set bit.
 */
#ifndef IST_WIRE_TYPES_H
#define IST_WIRE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/secp256k1.h"
#include "crypto/x25519.h"

/* ---- Limits of fields and repeated items ----
 *
 * A decoder rejects one over any of these with -IST_ETOOBIG, and an encoder
 * refuses to produce it (so whatever encodes also decodes). Changing one is a
 * protocol change (docs/protocol-wire.md). */

/* Validators in an epoch's set; a validator index is below this. */
#define IST_WIRE_MAX_VALIDATORS 256
/* Bytes of a signer bitmap (one bit per validator). */
#define IST_WIRE_BITMAP_BYTES (IST_WIRE_MAX_VALIDATORS / 8)
/* Bytes of a cross-chain message's payload. */
#define IST_WIRE_MAX_MSG_PAYLOAD 65536
/* Entries of an inclusion proof's path (the deepest tree of 2^64 - 1 leaves). */
#define IST_WIRE_MAX_PROOF_DEPTH IST_MERKLE_MAX_DEPTH
/* Bytes of a validator's network address (UTF-8, no NUL, at least 1). */
#define IST_WIRE_MAX_ADDRESS_BYTES 255
/* Largest validator commission, in basis points (100%). */
#define IST_WIRE_MAX_COMMISSION_BPS 10000
/* Items in a block's payload. */
#define IST_WIRE_MAX_BLOCK_ITEMS 1024
/* Bytes of one opaque payload item, per kind (each must hold at least 1). */
#define IST_WIRE_MAX_EVIDENCE_BYTES 65536
#define IST_WIRE_MAX_DKG_BYTES 65536
#define IST_WIRE_MAX_NONCE_COMMIT_BYTES 16384
#define IST_WIRE_MAX_DATA_BYTES 1024

/* ---- Limits of whole encodings ----
 *
 * Checked before anything is unpacked, for every kind whether decoded alone
 * or nested in another (so anything accepted inside a proposal or a delivery
 * can be stored and decoded on its own). Each is a generous bound on the
 * largest encoding that respects the field limits above, except for the
 * block, whose size is a limit of its own (the field limits would allow
 * 1024 items of 64 KiB). */
#define IST_WIRE_MAX_MESSAGE_BYTES (IST_WIRE_MAX_MSG_PAYLOAD + 256)
#define IST_WIRE_MAX_CHECKPOINT_BYTES 128
#define IST_WIRE_MAX_CERTIFICATE_BYTES 20480
#define IST_WIRE_MAX_DELIVERY_BYTES (IST_WIRE_MAX_MESSAGE_BYTES + IST_WIRE_MAX_CERTIFICATE_BYTES + 8192)
#define IST_WIRE_MAX_TX_BYTES 4096
#define IST_WIRE_MAX_QC_BYTES 20480
#define IST_WIRE_MAX_TC_BYTES 49152
#define IST_WIRE_MAX_VOTE_BYTES 256
#define IST_WIRE_MAX_TIMEOUT_BYTES (IST_WIRE_MAX_QC_BYTES + 256)
#define IST_WIRE_MAX_BLOCK_BYTES (1024 * 1024)
#define IST_WIRE_MAX_PROPOSAL_BYTES (IST_WIRE_MAX_BLOCK_BYTES + IST_WIRE_MAX_TC_BYTES + 256)
#define IST_WIRE_MAX_ENVELOPE_BYTES (IST_WIRE_MAX_PROPOSAL_BYTES + 16)

/* ---- Attestation side (proto/attest.proto) ---- */

/* A cross-chain message (DESIGN "Data, end to end", step 1). Heap part:
 * payload (NULL when payload_len is 0). */
struct ist_message {
	uint64_t src_chain;
	uint64_t dst_chain;
	uint64_t nonce;
	uint8_t sender[32];
	uint8_t recipient[32];
	uint64_t value;
	uint8_t *payload;
	size_t payload_len;        /* <= IST_WIRE_MAX_MSG_PAYLOAD */
};

/* A route's tree at a source height. Plain memory. */
struct ist_checkpoint {
	uint64_t src_chain;
	uint64_t dst_chain;
	uint64_t src_height;
	uint64_t tree_size;
	uint8_t root[IST_HASH_BYTES];
};

/* An RFC 9162 inclusion proof, path from the leaf upwards. Plain memory.
 * The wire checks only the shape; ist_merkle_verify_inclusion the rest. */
struct ist_inclusion_proof {
	uint64_t leaf_index;
	uint64_t tree_size;
	size_t path_len;           /* <= IST_WIRE_MAX_PROOF_DEPTH */
	uint8_t path[IST_WIRE_MAX_PROOF_DEPTH][IST_HASH_BYTES];
};

enum ist_cert_scheme {
	IST_CERT_MULTISIG_SECP256K1 = 1,
	IST_CERT_FROST_ED25519 = 2,
};

/* A scheme's name in the API, in documents and on the command line:
 * "multisig-secp256k1", "frost-ed25519" ("unknown" for another value).
 * Static storage. */
const char *ist_wire_cert_scheme_name(enum ist_cert_scheme scheme);
/* The scheme whose ist_wire_cert_scheme_name is `name` (exactly). True and
 * *ret (written only then), else false. */
bool ist_wire_cert_scheme_parse(const char *name, enum ist_cert_scheme *ret) IST_WUR;

/* Validators' attestation of a block's batch root. Plain memory. The signed
 * digest is ist_wire_attest_digest() of (network_id, epoch, height,
 * batch_root) for both schemes. Only the members of `scheme` are meaningful;
 * the decoder zeroes the others. */
struct ist_certificate {
	enum ist_cert_scheme scheme;
	uint64_t network_id;
	uint64_t epoch;
	uint64_t height;
	uint8_t batch_root[IST_HASH_BYTES];
	/* IST_CERT_MULTISIG_SECP256K1: one signature per set bit of signers */
	uint8_t signers[IST_WIRE_BITMAP_BYTES];
	size_t n_sigs;
	uint8_t sigs[IST_WIRE_MAX_VALIDATORS][IST_SECP_SIG_BYTES];
	/* IST_CERT_FROST_ED25519 */
	uint8_t group_key[IST_ED25519_PUBKEY_BYTES];
	uint8_t frost_sig[IST_SIG_BYTES];
};

/* A pause or resume of a source chain or a route, as certified in the
 * batch tree of the block it took effect in (docs/protocol.md,
 * "Certified pauses"). Plain memory. */
enum ist_pause_scope {
	IST_PAUSE_CHAIN = 1,       /* a: the chain, b: 0 */
	IST_PAUSE_ROUTE = 2,       /* a: source chain, b: destination chain */
};
struct ist_pause {
	uint64_t network_id;
	uint64_t height;           /* the block it took effect in */
	uint8_t scope;             /* enum ist_pause_scope */
	uint64_t a, b;
	bool paused;               /* false: resumed */
};

/* What a relayer delivers to a destination inbox. Heap part: the message's
 * payload. */
struct ist_delivery {
	struct ist_message message;
	struct ist_inclusion_proof message_proof;     /* message id in the route tree */
	struct ist_checkpoint checkpoint;
	struct ist_inclusion_proof checkpoint_proof;  /* checkpoint in the batch tree */
	struct ist_certificate certificate;
};

/* ---- Ledger (proto/ledger.proto) ---- */

enum ist_tx_kind {
	IST_TX_TRANSFER = 1,
	IST_TX_REGISTER_VALIDATOR = 2,
	IST_TX_BOND = 3,
	IST_TX_UNBOND = 4,
	IST_TX_WITHDRAW = 5,
	IST_TX_UNJAIL = 6,
	IST_TX_GOV_PROPOSE = 7,
	IST_TX_GOV_VOTE = 8,
};

/* Governance actions (a proposal's `action`). */
enum ist_gov_action {
	IST_GOV_PAUSE_CHAIN = 1,
	IST_GOV_RESUME_CHAIN = 2,
	IST_GOV_PAUSE_ROUTE = 3,
	IST_GOV_RESUME_ROUTE = 4,
	IST_GOV_SET_ROUTE_LIMITS = 5,
	IST_GOV_RELEASE_HELD = 6,
	IST_GOV_SET_PARAM = 7,
};

/* A signed ledger transaction. Plain memory. Only the union member of
 * `kind` is meaningful (withdraw and unjail have none). */
struct ist_tx {
	uint64_t network_id;
	uint8_t sender[IST_ED25519_PUBKEY_BYTES];
	uint64_t nonce;
	uint64_t fee;
	enum ist_tx_kind kind;
	union {
		struct {
			uint8_t to[IST_ED25519_PUBKEY_BYTES];
			uint64_t amount;
		} transfer;
		struct {
			uint8_t node_key[IST_ED25519_PUBKEY_BYTES];
			uint8_t attest_key[IST_SECP_PUBKEY_BYTES];
			uint8_t dkg_key[IST_X25519_PUBKEY_BYTES];
			uint32_t commission_bps;   /* <= IST_WIRE_MAX_COMMISSION_BPS */
			size_t address_len;        /* 1..IST_WIRE_MAX_ADDRESS_BYTES */
			/* UTF-8 without NUL; NUL-terminated for convenience (the
			 * terminator is not part of the address) */
			char address[IST_WIRE_MAX_ADDRESS_BYTES + 1];
		} register_validator;
		struct {
			uint8_t validator[IST_ED25519_PUBKEY_BYTES];
			uint64_t amount;
		} bond, unbond;
		struct {
			uint32_t action;           /* enum ist_gov_action (the ledger judges it) */
			uint64_t chain;
			uint64_t src_chain, dst_chain;
			uint32_t voting_blocks;
			/* IST_GOV_SET_ROUTE_LIMITS (src_chain, dst_chain) */
			uint64_t window_blocks, max_count, max_value, high_value, delay_blocks;
			uint64_t release_through;  /* IST_GOV_RELEASE_HELD: a leaf index */
			uint32_t param;            /* IST_GOV_SET_PARAM: enum ist_gov_param */
			uint64_t param_value;
		} gov_propose;
		struct {
			uint64_t proposal;
			bool approve;
		} gov_vote;
	} u;
	uint8_t signature[IST_SIG_BYTES];
};

/* ---- Consensus (proto/consensus.proto) ---- */

/* A quorum certificate: votes for block_id in (epoch, view). Plain memory.
 * The genesis QC has no signatures. */
struct ist_qc {
	uint64_t epoch;
	uint64_t view;
	uint8_t block_id[IST_HASH_BYTES];
	uint8_t signers[IST_WIRE_BITMAP_BYTES];
	size_t n_sigs;             /* == number of set bits of signers */
	uint8_t sigs[IST_WIRE_MAX_VALIDATORS][IST_SIG_BYTES];
};

/* A timeout certificate: timeouts for (epoch, view). Signer k (the k-th set
 * bit) signed the timeout bytes with high_qc_views[k]; high_qc is the highest
 * of those QCs. Plain memory. */
struct ist_tc {
	uint64_t epoch;
	uint64_t view;
	uint8_t signers[IST_WIRE_BITMAP_BYTES];
	size_t n_sigs;             /* == number of set bits of signers */
	uint64_t high_qc_views[IST_WIRE_MAX_VALIDATORS];
	uint8_t sigs[IST_WIRE_MAX_VALIDATORS][IST_SIG_BYTES];
	struct ist_qc high_qc;
};

enum ist_payload_kind {
	IST_PAYLOAD_CHECKPOINT = 1,
	IST_PAYLOAD_TRANSACTION = 2,
	IST_PAYLOAD_EVIDENCE = 3,          /* opaque for now */
	IST_PAYLOAD_DKG = 4,               /* opaque for now */
	IST_PAYLOAD_NONCE_COMMITMENTS = 5, /* opaque for now */
	IST_PAYLOAD_DATA = 6,              /* application data: committed, never
					    * interpreted (devnets, benchmarks) */
};

/* One item of a block's payload. Heap part: opaque.data for the opaque
 * kinds (1..the kind's limit bytes). */
struct ist_payload_item {
	enum ist_payload_kind kind;
	union {
		struct ist_checkpoint checkpoint;
		struct ist_tx tx;
		struct {
			uint8_t *data;
			size_t len;
		} opaque;
	} u;
};

/* A block. Heap parts: the items array (NULL when n_items is 0) and each
 * opaque item's bytes. */
struct ist_block {
	uint64_t network_id;
	uint64_t epoch;
	uint64_t view;
	uint64_t height;
	uint8_t parent_id[IST_HASH_BYTES];
	uint32_t proposer;         /* < IST_WIRE_MAX_VALIDATORS */
	uint64_t timestamp_ms;
	struct ist_qc justify;
	size_t n_items;            /* <= IST_WIRE_MAX_BLOCK_ITEMS */
	struct ist_payload_item *items;
};

/* A leader's proposal, signed by block.proposer. Heap parts: the block's. */
struct ist_proposal {
	struct ist_block block;
	bool has_tc;
	struct ist_tc tc;          /* meaningful when has_tc (zeroed otherwise) */
	uint8_t signature[IST_SIG_BYTES];
};

/* A vote for a block. Plain memory. */
struct ist_vote {
	uint64_t epoch;
	uint64_t view;
	uint8_t block_id[IST_HASH_BYTES];
	uint32_t voter;            /* < IST_WIRE_MAX_VALIDATORS */
	uint8_t signature[IST_SIG_BYTES];
};

/* A timeout of a view, carrying the sender's highest QC. Plain memory. */
struct ist_timeout {
	uint64_t epoch;
	uint64_t view;
	struct ist_qc high_qc;
	uint32_t voter;            /* < IST_WIRE_MAX_VALIDATORS */
	uint8_t signature[IST_SIG_BYTES];
};

/* ---- Envelope (proto/envelope.proto) ---- */

enum ist_envelope_kind {
	IST_ENVELOPE_PROPOSAL = 1,
	IST_ENVELOPE_VOTE = 2,
	IST_ENVELOPE_TIMEOUT = 3,
	IST_ENVELOPE_BLOCK_REQUEST = 4,    /* block sync: "send me these blocks" */
	IST_ENVELOPE_BLOCK_RESPONSE = 5,   /* block sync: the answer */
	IST_ENVELOPE_ATTEST_SHARE = 6,     /* a multisig signature share */
	IST_ENVELOPE_EPOCH_REQUEST = 7,    /* epoch sync: "prove epoch e ended" */
	IST_ENVELOPE_FROST = 8,            /* FROST share or item (node/frost.c parses it) */
};

#define IST_WIRE_MAX_FROST_MSG_BYTES 32768

/* A validator's signature share over a committed block's batch root
 * (proto/envelope.proto AttestShare). Plain memory. */
struct ist_attest_share {
	uint64_t epoch;
	uint64_t height;
	uint8_t batch_root[IST_HASH_BYTES];
	uint32_t signer;           /* < IST_WIRE_MAX_VALIDATORS */
	uint8_t signature[IST_SECP_SIG_BYTES];
};

/* Blocks in one sync answer (and the most one request may ask for). */
#define IST_WIRE_MAX_SYNC_BLOCKS 16

/* "Send me block_id and up to max_blocks - 1 of its ancestors". Plain memory. */
struct ist_block_request {
	uint8_t block_id[IST_HASH_BYTES];
	uint32_t max_blocks;       /* 1..IST_WIRE_MAX_SYNC_BLOCKS */
};

/* A sync answer: blocks oldest first, the last one the block asked for, and
 * a QC certifying the last block when has_qc. Heap parts: the blocks array
 * and each block's. The whole envelope stays within
 * IST_WIRE_MAX_ENVELOPE_BYTES, and each block within IST_WIRE_MAX_BLOCK_BYTES. */
struct ist_block_response {
	size_t n_blocks;           /* 1..IST_WIRE_MAX_SYNC_BLOCKS */
	struct ist_block *blocks;
	bool has_qc;
	struct ist_qc qc;          /* meaningful when has_qc (zeroed otherwise) */
};

/* What a peer sends. Heap parts: the proposal's, when kind is PROPOSAL; the
 * response's, when kind is IST_ENVELOPE_BLOCK_RESPONSE. */
struct ist_envelope {
	enum ist_envelope_kind kind;
	union {
		struct ist_proposal proposal;
		struct ist_vote vote;
		struct ist_timeout timeout;
		struct ist_block_request block_request;
		struct ist_block_response block_response;
		struct ist_attest_share attest_share;
		struct {
			uint64_t epoch;
		} epoch_request;
		struct {
			size_t len;        /* 1..IST_WIRE_MAX_FROST_MSG_BYTES */
			uint8_t data[IST_WIRE_MAX_FROST_MSG_BYTES];
		} frost;
	} u;
};

/* ---- Lifecycle ----
 *
 * ist_wire_<kind>_fini(x): frees x's heap parts with free(3) and zeroes x;
 * x itself stays (caller's memory). Accepts NULL.
 * ist_wire_<kind>_free(x): _fini, then free(x). Accepts NULL. */
void ist_wire_message_fini(struct ist_message *m);
void ist_wire_message_free(struct ist_message *m);
void ist_wire_checkpoint_free(struct ist_checkpoint *cp);
void ist_wire_certificate_free(struct ist_certificate *cert);
void ist_wire_delivery_fini(struct ist_delivery *d);
void ist_wire_delivery_free(struct ist_delivery *d);
void ist_wire_tx_free(struct ist_tx *tx);
void ist_wire_qc_free(struct ist_qc *qc);
void ist_wire_tc_free(struct ist_tc *tc);
void ist_wire_payload_item_fini(struct ist_payload_item *item);
void ist_wire_block_fini(struct ist_block *b);
void ist_wire_block_free(struct ist_block *b);
void ist_wire_proposal_fini(struct ist_proposal *p);
void ist_wire_proposal_free(struct ist_proposal *p);
void ist_wire_vote_free(struct ist_vote *v);
void ist_wire_timeout_free(struct ist_timeout *t);
void ist_wire_block_response_fini(struct ist_block_response *r);
void ist_wire_envelope_fini(struct ist_envelope *e);
void ist_wire_envelope_free(struct ist_envelope *e);

/* ---- Equality ----
 *
 * True when a and b hold the same protocol content: every field that the
 * encoding carries, and nothing else (union members of another kind, bytes
 * past a count, padding are ignored). Not constant time: for public data. */
bool ist_wire_message_equal(const struct ist_message *a, const struct ist_message *b) IST_WUR;
bool ist_wire_checkpoint_equal(const struct ist_checkpoint *a, const struct ist_checkpoint *b) IST_WUR;
bool ist_wire_inclusion_proof_equal(const struct ist_inclusion_proof *a,
				    const struct ist_inclusion_proof *b) IST_WUR;
bool ist_wire_certificate_equal(const struct ist_certificate *a, const struct ist_certificate *b) IST_WUR;
bool ist_wire_delivery_equal(const struct ist_delivery *a, const struct ist_delivery *b) IST_WUR;
bool ist_wire_tx_equal(const struct ist_tx *a, const struct ist_tx *b) IST_WUR;
bool ist_wire_qc_equal(const struct ist_qc *a, const struct ist_qc *b) IST_WUR;
bool ist_wire_tc_equal(const struct ist_tc *a, const struct ist_tc *b) IST_WUR;
bool ist_wire_payload_item_equal(const struct ist_payload_item *a, const struct ist_payload_item *b) IST_WUR;
bool ist_wire_block_equal(const struct ist_block *a, const struct ist_block *b) IST_WUR;
bool ist_wire_proposal_equal(const struct ist_proposal *a, const struct ist_proposal *b) IST_WUR;
bool ist_wire_vote_equal(const struct ist_vote *a, const struct ist_vote *b) IST_WUR;
bool ist_wire_timeout_equal(const struct ist_timeout *a, const struct ist_timeout *b) IST_WUR;
bool ist_wire_envelope_equal(const struct ist_envelope *a, const struct ist_envelope *b) IST_WUR;

/* ---- Limits by kind ---- */

/* The byte limit of an opaque payload item of kind `k` (evidence, dkg,
 * nonce commitments, data: IST_WIRE_MAX_*_BYTES), or 0 for a kind that is
 * not opaque. */
size_t ist_wire_payload_opaque_max(enum ist_payload_kind k);

/* ---- Signer bitmaps ---- */

/* True when validator `index` is set (false for index >= IST_WIRE_MAX_VALIDATORS). */
bool ist_wire_bitmap_get(const uint8_t bitmap[IST_WIRE_BITMAP_BYTES], unsigned index) IST_WUR;
/* Sets validator `index`. Returns 0 or -IST_ERANGE (index too large). */
int ist_wire_bitmap_set(uint8_t bitmap[IST_WIRE_BITMAP_BYTES], unsigned index) IST_WUR;
/* Number of set bits. */
size_t ist_wire_bitmap_count(const uint8_t bitmap[IST_WIRE_BITMAP_BYTES]);

#endif
