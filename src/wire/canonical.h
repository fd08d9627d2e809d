/*
 * Canonical bytes: what isthmus hashes and signs.
 *
 * Signatures and ids never cover a protobuf encoding (which admits many
 * encodings of one value). They cover the fixed layouts below, built from
 * the native structs of wire/types.h, so two encodings of the same content
 * always give the same bytes, ids and signatures.
 *
 * Every layout is: a domain tag from crypto/tags.h (its ASCII bytes, no
 * length, no NUL; the tags are prefix-free), then the network id where the
 * kind is signed, then the fields in a fixed order: integers big-endian of
 * their declared width, fixed-size byte arrays as they are, variable fields
 * as a be32 length followed by the bytes. docs/protocol-wire.md has the same
 * layouts with offsets; tests/wire/test_wire.c pins one golden value each.
 *
 * Where a kind does not carry the network id itself (votes, timeouts), the
 * caller passes its own, so a signature made for one network never verifies
 * in another.
 */
#ifndef IST_WIRE_CANONICAL_H
#define IST_WIRE_CANONICAL_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/macro.h"
#include "crypto/hash.h"
#include "wire/types.h"

/* ---- Cross-chain message (DESIGN step 1) ----
 *
 * canonical(message), no tag and no network id (DESIGN fixes the id as
 * SHA-256("isthmus/msg/v1" || canonical(message)), which a source chain's
 * outbox computes without knowing the isthmus network):
 *
 *   off  len  field
 *     0    8  src_chain      be64
 *     8    8  dst_chain      be64
 *    16    8  nonce          be64
 *    24   32  sender
 *    56   32  recipient
 *    88    8  value          be64
 *    96    4  payload_len    be32
 *   100    n  payload
 */
#define IST_WIRE_MESSAGE_FIXED_BYTES 100

/* Appends canonical(m) to `out`.
 * Returns 0, -IST_ETOOBIG (payload over IST_WIRE_MAX_MSG_PAYLOAD, or out's
 * limit) or -IST_ENOMEM; `out` is then failed (ist_buf_err). */
int ist_wire_message_canonical(const struct ist_message *m, struct ist_buf *out) IST_WUR;

/* message_id = SHA-256("isthmus/msg/v1" || canonical(m)): the route tree's
 * leaf is then SHA-256(0x00 || message_id) (ist_merkle_leaf_hash).
 * Returns 0 or -IST_ETOOBIG (payload over the limit); ret_id32 is written
 * only on success. No allocation. */
int ist_wire_message_id(const struct ist_message *m, uint8_t ret_id32[IST_HASH_BYTES]) IST_WUR;

/* ---- Checkpoint: the leaf of a block's batch tree ----
 *
 *   off  len  field
 *     0   21  "isthmus/checkpoint/v1"
 *    21    8  src_chain      be64
 *    29    8  dst_chain      be64
 *    37    8  src_height     be64
 *    45    8  tree_size      be64
 *    53   32  root
 *
 * No network id: a checkpoint is only ever trusted through a certificate
 * over its batch root, and the attestation digest binds the network id. */
#define IST_WIRE_CHECKPOINT_BYTES 85

void ist_wire_checkpoint_bytes(const struct ist_checkpoint *cp, uint8_t out[IST_WIRE_CHECKPOINT_BYTES]);

/* The batch tree leaf hash: SHA-256(0x00 || checkpoint bytes). */
void ist_wire_checkpoint_leaf_hash(const struct ist_checkpoint *cp, uint8_t ret_hash32[IST_HASH_BYTES]);

/* The batch root of a block: the RFC 9162 root over the leaf hashes of its
 * checkpoint items, in block order (other items are skipped).
 * Out: ret_root32 (SHA-256("") when there are none), *ret_count (may be NULL)
 * the number of checkpoints. Returns 0 or -IST_ENOMEM. */
int ist_wire_block_batch_root(const struct ist_block *b, uint8_t ret_root32[IST_HASH_BYTES],
			      size_t *ret_count) IST_WUR;

/* The batch root of a block that ends an epoch: its checkpoint leaves, then
 * one last leaf, `extra_leaf32` (the epoch hand-over leaf hash,
 * ist_handover_leaf_hash of state/verify.h). With extra_leaf32 NULL, as
 * ist_wire_block_batch_root. *ret_count counts every leaf (the extra one
 * too). Returns 0 or -IST_ENOMEM. */
int ist_wire_block_batch_root_ex(const struct ist_block *b, const uint8_t *extra_leaf32,
				 uint8_t ret_root32[IST_HASH_BYTES], size_t *ret_count) IST_WUR;

/* The batch root over the checkpoint leaves, then n_extra more leaves
 * (pause leaves, then the hand-over leaf). *ret_count counts every leaf.
 * Returns 0 or -IST_ENOMEM. */
int ist_wire_block_batch_root_leaves(const struct ist_block *b, const uint8_t (*extra)[IST_HASH_BYTES],
				     size_t n_extra, uint8_t ret_root32[IST_HASH_BYTES], size_t *ret_count) IST_WUR;

/* ---- Pause leaf: a certified pause or resume ----
 *
 *   off  len  field
 *     0   16  "isthmus/pause/v1"
 *    16    8  network_id     be64
 *    24    8  height         be64   (the block it took effect in)
 *    32    1  scope          1 chain, 2 route
 *    33    8  a              be64   (the chain, or the route's source)
 *    41    8  b              be64   (0, or the route's destination)
 *    49    1  paused         1 paused, 0 resumed
 *
 * Its leaf is SHA-256(0x00 || these 50 bytes): a preimage length no
 * checkpoint leaf (85 bytes after 0x00) or hand-over leaf (56) has. */
#define IST_WIRE_PAUSE_BYTES 50
void ist_wire_pause_bytes(const struct ist_pause *p, uint8_t out[IST_WIRE_PAUSE_BYTES]);
void ist_wire_pause_leaf_hash(const struct ist_pause *p, uint8_t ret_leaf32[IST_HASH_BYTES]);

/* ---- Attestation digest (DESIGN step 4), signed by both schemes ----
 *
 *   off  len  field
 *     0   17  "isthmus/attest/v1"
 *    17    8  network_id     be64
 *    25    8  epoch          be64
 *    33    8  height         be64
 *    41   32  batch_root
 *
 * digest = SHA-256(those 73 bytes). */
#define IST_WIRE_ATTEST_BYTES 73

void ist_wire_attest_bytes(uint64_t network_id, uint64_t epoch, uint64_t height,
			   const uint8_t batch_root32[IST_HASH_BYTES], uint8_t out[IST_WIRE_ATTEST_BYTES]);
void ist_wire_attest_digest(uint64_t network_id, uint64_t epoch, uint64_t height,
			    const uint8_t batch_root32[IST_HASH_BYTES], uint8_t ret_digest32[IST_HASH_BYTES]);
/* The digest a certificate's signatures cover (its own network id, epoch,
 * height and batch root). */
void ist_wire_certificate_digest(const struct ist_certificate *cert, uint8_t ret_digest32[IST_HASH_BYTES]);

/* ---- Block id ----
 *
 * block_id = SHA-256(header bytes):
 *
 *   off  len  field
 *     0   16  "isthmus/block/v1"
 *    16    8  network_id     be64
 *    24    8  epoch          be64
 *    32    8  view           be64
 *    40    8  height         be64
 *    48   32  parent_id
 *    80    4  proposer       be32
 *    84    8  timestamp_ms   be64
 *    92    8  justify.epoch  be64
 *   100    8  justify.view   be64
 *   108   32  justify.block_id
 *   140   32  payload_hash
 *
 * The justify QC is bound by what it certifies, not by its signatures (any
 * quorum of them certifies the same thing). payload_hash = SHA-256(canonical
 * payload), with no tag of its own (it is only ever hashed inside the tagged
 * header; it starts with a small count, so it can never be a tagged layout):
 *
 *   be32 n_items, then per item:  u8 kind (enum ist_payload_kind)
 *                                 be32 len, then len bytes:
 *     checkpoint          the 85 checkpoint bytes
 *     transaction         tx signing bytes || signature (what the tx id hashes)
 *     evidence, dkg,
 *     nonce_commitments,
 *     data                the opaque bytes
 */
#define IST_WIRE_BLOCK_HEADER_BYTES 172

/* Appends the canonical payload of b to `out`. Returns 0, -IST_EINVAL (an
 * item of unknown kind or over its limit, too many items), -IST_ETOOBIG
 * (out's limit) or -IST_ENOMEM. */
int ist_wire_block_payload_canonical(const struct ist_block *b, struct ist_buf *out) IST_WUR;
/* SHA-256(canonical payload), without allocating. Returns 0 or -IST_EINVAL. */
int ist_wire_block_payload_hash(const struct ist_block *b, uint8_t ret_hash32[IST_HASH_BYTES]) IST_WUR;
/* The header bytes (computes the payload hash). Returns 0 or -IST_EINVAL. */
int ist_wire_block_header_bytes(const struct ist_block *b, uint8_t out[IST_WIRE_BLOCK_HEADER_BYTES]) IST_WUR;
/* block_id. Returns 0 or -IST_EINVAL; ret_id32 written only on success. */
int ist_wire_block_id(const struct ist_block *b, uint8_t ret_id32[IST_HASH_BYTES]) IST_WUR;

/* ---- Proposal signing bytes (Ed25519 by block.proposer's node key) ----
 *
 *   off  len  field
 *     0   19  "isthmus/proposal/v1"
 *    19    8  network_id     be64 (block.network_id)
 *    27    8  epoch          be64 (block.epoch)
 *    35    8  view           be64 (block.view)
 *    43    8  height         be64 (block.height)
 *    51   32  block_id
 *    83    1  has_tc         0 or 1
 *    84    8  tc.view        be64 (0 without a TC)
 *
 * Binding the TC's view stops a forwarder from stripping the TC that
 * justifies the proposal's view. */
#define IST_WIRE_PROPOSAL_SIGNING_BYTES 92

/* Returns 0 or -IST_EINVAL (from the block id). */
int ist_wire_proposal_signing_bytes(const struct ist_proposal *p,
				    uint8_t out[IST_WIRE_PROPOSAL_SIGNING_BYTES]) IST_WUR;
/* The same when the caller already has the block id. */
void ist_wire_proposal_signing_bytes_with_id(const struct ist_proposal *p,
					     const uint8_t block_id32[IST_HASH_BYTES],
					     uint8_t out[IST_WIRE_PROPOSAL_SIGNING_BYTES]);

/* ---- Vote signing bytes (what a QC's signatures cover too) ----
 *
 *   off  len  field
 *     0   15  "isthmus/vote/v1"
 *    15    8  network_id     be64
 *    23    8  epoch          be64
 *    31    8  view           be64
 *    39   32  block_id
 *
 * Field by field, so the same call rebuilds what each signer of a QC signed:
 * (network_id, qc.epoch, qc.view, qc.block_id). */
#define IST_WIRE_VOTE_SIGNING_BYTES 71

void ist_wire_vote_signing_bytes(uint64_t network_id, uint64_t epoch, uint64_t view,
				 const uint8_t block_id32[IST_HASH_BYTES],
				 uint8_t out[IST_WIRE_VOTE_SIGNING_BYTES]);

/* ---- Timeout signing bytes (what a TC's signatures cover too) ----
 *
 *   off  len  field
 *     0   18  "isthmus/timeout/v1"
 *    18    8  network_id     be64
 *    26    8  epoch          be64
 *    34    8  view           be64
 *    42    8  high_qc_view   be64
 *
 * A timeout signs (network_id, t.epoch, t.view, t.high_qc.view); signer k of
 * a TC signed (network_id, tc.epoch, tc.view, tc.high_qc_views[k]). */
#define IST_WIRE_TIMEOUT_SIGNING_BYTES 50

void ist_wire_timeout_signing_bytes(uint64_t network_id, uint64_t epoch, uint64_t view,
				    uint64_t high_qc_view, uint8_t out[IST_WIRE_TIMEOUT_SIGNING_BYTES]);

/* ---- Transaction signing bytes and id ----
 *
 *   off  len  field
 *     0   13  "isthmus/tx/v1"
 *    13    8  network_id     be64
 *    21   32  sender
 *    53    8  nonce          be64
 *    61    8  fee            be64
 *    69    1  kind           (enum ist_tx_kind)
 *    70       body, by kind:
 *     transfer            to[32] amount be64                       (40 bytes)
 *     register_validator  node_key[32] attest_key[33] dkg_key[32]
 *                         commission_bps be32
 *                         be32 address_len, address               (105 + len)
 *     bond, unbond        validator[32] amount be64               (40 bytes)
 *     withdraw, unjail    nothing
 *
 * tx_id = SHA-256(signing bytes || signature): the id of the signed
 * transaction (the signing bytes already start with the tag). */
#define IST_WIRE_TX_SIGNING_FIXED_BYTES 70
#define IST_WIRE_MAX_TX_SIGNING_BYTES (IST_WIRE_TX_SIGNING_FIXED_BYTES + 105 + IST_WIRE_MAX_ADDRESS_BYTES)

/* Out: out (room for IST_WIRE_MAX_TX_SIGNING_BYTES), *ret_len.
 * Returns 0 or -IST_EINVAL (unknown kind, address length out of
 * 1..IST_WIRE_MAX_ADDRESS_BYTES); nothing is written on failure. */
int ist_wire_tx_signing_bytes(const struct ist_tx *tx, uint8_t out[IST_WIRE_MAX_TX_SIGNING_BYTES],
			      size_t *ret_len) IST_WUR;
/* Returns 0 or -IST_EINVAL. */
int ist_wire_tx_id(const struct ist_tx *tx, uint8_t ret_id32[IST_HASH_BYTES]) IST_WUR;

#endif
