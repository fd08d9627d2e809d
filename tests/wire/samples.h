/*
 * Deterministic sample values of every wire kind, shared by the unit tests
 * and the corpus generator, and a minimal protobuf writer (independent of
 * protobuf-c) for hand-made encodings: reordered fields, unknown fields,
 * values over the limits that our encoder refuses to produce.
 *
 * The sample values are part of the golden tests: changing one changes the
 * expected canonical bytes in test_wire.c.
 */
#ifndef IST_TESTS_WIRE_SAMPLES_H
#define IST_TESTS_WIRE_SAMPLES_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "wire/types.h"

#define SAMPLE_NETWORK_ID 7

/* p[i] = start + i (mod 256) */
void sample_fill(uint8_t *p, size_t n, uint8_t start);

/* Every sample_* function overwrites the whole struct (heap parts are
 * malloc'd; release with the kind's _fini). */
void sample_message(struct ist_message *m, size_t payload_len);
void sample_checkpoint(struct ist_checkpoint *cp, unsigned seed);
void sample_proof(struct ist_inclusion_proof *p, size_t depth, uint8_t seed);
void sample_certificate_multisig(struct ist_certificate *cert, size_t n_signers);
void sample_certificate_frost(struct ist_certificate *cert);
void sample_delivery(struct ist_delivery *d);
void sample_tx(struct ist_tx *tx, enum ist_tx_kind kind);
/* signers are validators 0, 3, 6, ... (n of them) */
void sample_qc(struct ist_qc *qc, size_t n_signers);
/* signers are validators 0, 2, 4, ... (n of them) */
void sample_tc(struct ist_tc *tc, size_t n_signers);
/* items cycle through checkpoint, transfer tx, evidence, dkg, nonce
 * commitments, register-validator tx */
void sample_block(struct ist_block *b, size_t n_items);
void sample_proposal(struct ist_proposal *p, size_t n_items, int with_tc);
void sample_vote(struct ist_vote *v);
void sample_timeout(struct ist_timeout *t);
void sample_envelope(struct ist_envelope *e, enum ist_envelope_kind kind);

/* ---- A minimal protobuf writer over ist_buf ---- */
void pbw_varint(struct ist_buf *b, uint64_t v);
void pbw_tag(struct ist_buf *b, unsigned field, unsigned wire_type);
/* field of wire type 0 (varint); written even when 0 */
void pbw_u64(struct ist_buf *b, unsigned field, uint64_t v);
/* field of wire type 2 (length-delimited) */
void pbw_bytes(struct ist_buf *b, unsigned field, const void *p, size_t n);
/* a nested message: the bytes of `inner` as a length-delimited field */
void pbw_msg(struct ist_buf *b, unsigned field, const struct ist_buf *inner);

#endif
