/*
 * Protobuf encodings (the .proto files of proto/) <-> native structs (wire/types.h).
 *
 * For every kind K in: message, checkpoint, certificate, delivery, tx, qc,
 * tc, block, proposal, vote, timeout, envelope:
 *
 *   int ist_wire_K_decode(const uint8_t *buf, size_t len,
 *                         struct ist_K **ret, const char **ret_reason);
 *
 *     Decodes untrusted bytes. Checks, in this order: len against
 *     IST_WIRE_MAX_K_BYTES before anything is unpacked; the protobuf
 *     encoding (under a memory budget of 64 KiB + 4 * len, so a peer cannot
 *     make the unpacker allocate much more than it sent); then every field:
 *     fixed-size bytes of exactly their size, every repeated count and
 *     variable field within its limit (wire/types.h), strings valid UTF-8
 *     without NUL, enums known, oneofs and required sub-messages present,
 *     one signature per set bit of a signer bitmap, validator indices below
 *     IST_WIRE_MAX_VALIDATORS, and every nested kind within its own encoded
 *     size limit. Unknown fields are skipped (forward compatibility); they
 *     never reach the native struct nor the canonical bytes.
 *
 *     Returns 0 and *ret, a new heap struct the caller releases with
 *     ist_wire_K_free(); or
 *       -IST_ETOOBIG  over a size or count limit
 *       -IST_EPARSE   malformed: bad protobuf, a wrong fixed length, a
 *                     missing field, a bad enum, bad UTF-8, ...
 *       -IST_EUNSUPPORTED  a oneof that holds only a kind this version does
 *                     not know (a newer peer's envelope or payload item)
 *       -IST_ENOMEM
 *       -IST_EINVAL   buf is NULL while len is not 0 (a caller's bug)
 *     On failure *ret is untouched and, when ret_reason is not NULL,
 *     *ret_reason is a static string naming the field and the problem
 *     ("vote.signature: wrong length"), meant for logs and metric labels
 *     (a small fixed set). Never crashes, whatever the input.
 *
 *   int ist_wire_K_encode(const struct ist_K *x, uint8_t **ret_buf,
 *                         size_t *ret_len);
 *
 *     Checks x against the same rules (so what encodes always decodes, to an
 *     equal struct) and encodes it deterministically: a given struct always
 *     gives the same bytes; signer bitmaps are written without trailing
 *     zero bytes. Returns 0 and *ret_buf (malloc'd, caller frees; never NULL,
 *     even for an empty encoding) and *ret_len; or -IST_EINVAL (x breaks a
 *     rule that is not a size: unknown kind, wrong signature count, bad
 *     address), -IST_ETOOBIG (over a limit) or -IST_ENOMEM.
 */
#ifndef IST_WIRE_CODEC_H
#define IST_WIRE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "wire/types.h"

/* ---- Attestation side ---- */

int ist_wire_message_decode(const uint8_t *buf, size_t len, struct ist_message **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_message_encode(const struct ist_message *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

int ist_wire_checkpoint_decode(const uint8_t *buf, size_t len, struct ist_checkpoint **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_checkpoint_encode(const struct ist_checkpoint *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

int ist_wire_certificate_decode(const uint8_t *buf, size_t len, struct ist_certificate **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_certificate_encode(const struct ist_certificate *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

int ist_wire_delivery_decode(const uint8_t *buf, size_t len, struct ist_delivery **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_delivery_encode(const struct ist_delivery *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

/* ---- Ledger ---- */

int ist_wire_tx_decode(const uint8_t *buf, size_t len, struct ist_tx **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_tx_encode(const struct ist_tx *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

/* ---- Consensus ---- */

int ist_wire_qc_decode(const uint8_t *buf, size_t len, struct ist_qc **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_qc_encode(const struct ist_qc *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

int ist_wire_tc_decode(const uint8_t *buf, size_t len, struct ist_tc **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_tc_encode(const struct ist_tc *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

int ist_wire_block_decode(const uint8_t *buf, size_t len, struct ist_block **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_block_encode(const struct ist_block *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

int ist_wire_proposal_decode(const uint8_t *buf, size_t len, struct ist_proposal **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_proposal_encode(const struct ist_proposal *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

int ist_wire_vote_decode(const uint8_t *buf, size_t len, struct ist_vote **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_vote_encode(const struct ist_vote *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

int ist_wire_timeout_decode(const uint8_t *buf, size_t len, struct ist_timeout **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_timeout_encode(const struct ist_timeout *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

/* ---- Peer envelope ---- */

int ist_wire_envelope_decode(const uint8_t *buf, size_t len, struct ist_envelope **ret,
		const char **ret_reason) IST_WUR;
int ist_wire_envelope_encode(const struct ist_envelope *x, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

#endif
