/*
 * src/wire: round trips of every kind, canonical bytes pinned by golden
 * values (each spelled out field by field from the layouts of
 * docs/protocol-wire.md; the hashes were recomputed independently by
 * tests/wire/golden.py), every limit, malformed and hostile input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"
#include "crypto/tags.h"
#include "lib/ist_test.h"
#include "samples.h"
#include "wire/canonical.h"
#include "wire/codec.h"
#include "wire/types.h"

/* ---- helpers ---- */

static uint8_t *take(struct ist_buf *b, size_t *len)
{
	uint8_t *p;
	ck_assert_int_eq(ist_buf_take(b, &p, len), 0);
	return p;
}

/* The encoding of a multisig certificate (scheme 1, a zero batch root)
 * around the MultisigSignatures in `ms`, which it releases. */
static uint8_t *multisig_cert_bytes(struct ist_buf *ms, size_t *len)
{
	static const uint8_t zero_root[32];
	struct ist_buf b;
	ist_buf_init(&b, 0);
	pbw_u64(&b, 1, 1);
	pbw_bytes(&b, 5, zero_root, sizeof(zero_root));
	pbw_msg(&b, 6, ms);
	ist_buf_fini(ms);
	return take(&b, len);
}

/* The structs with inline signature lists are large: keep them off the
 * stack of the test functions. */
static void *zalloc(size_t n)
{
	void *p = calloc(1, n);
	ck_assert_ptr_nonnull(p);
	return p;
}

/* Encode x, decode, check equality and byte-identical re-encoding. */
#define ROUNDTRIP(kind, x)                                                                   \
	do {                                                                                 \
		uint8_t *enc_, *enc2_;                                                       \
		size_t len_, len2_;                                                          \
		struct ist_##kind *dec_ = NULL;                                              \
		const char *why_ = NULL;                                                     \
		ck_assert_int_eq(ist_wire_##kind##_encode((x), &enc_, &len_), 0);            \
		int r_ = ist_wire_##kind##_decode(enc_, len_, &dec_, &why_);                 \
		ck_assert_msg(r_ == 0, "%s decode: %s (%s)", #kind, ist_errname(r_), why_);  \
		ck_assert(ist_wire_##kind##_equal((x), dec_));                               \
		ck_assert_int_eq(ist_wire_##kind##_encode(dec_, &enc2_, &len2_), 0);         \
		ck_assert_uint_eq(len_, len2_);                                              \
		ck_assert_mem_eq(enc_, enc2_, len_);                                         \
		ist_wire_##kind##_free(dec_);                                                \
		free(enc_);                                                                  \
		free(enc2_);                                                                 \
	} while (0)

/* Decoding must fail with `err` and the given reason (NULL: any reason). */
#define DECODE_FAILS(kind, buf, len, err, why)                                               \
	do {                                                                                 \
		struct ist_##kind *dec_ = (void *)0x1;                                       \
		const char *why_ = NULL;                                                     \
		int r_ = ist_wire_##kind##_decode((buf), (len), &dec_, &why_);               \
		ck_assert_msg(r_ == (err), "%s: got %s (%s), want %s", #kind, ist_errname(r_), \
			      why_ ? why_ : "-", ist_errname(err));                          \
		ck_assert_ptr_eq(dec_, (void *)0x1); /* untouched on failure */              \
		ck_assert_ptr_nonnull(why_);                                                 \
		if ((why) != NULL)                                                           \
			ck_assert_str_eq(why_, (const char *)(why));                         \
	} while (0)

/* ---- Round trips ---- */

START_TEST(test_roundtrip_attest_side)
{
	struct ist_message m;
	sample_message(&m, 0);
	ROUNDTRIP(message, &m);
	ist_wire_message_fini(&m);
	sample_message(&m, 1000);
	ROUNDTRIP(message, &m);
	ist_wire_message_fini(&m);
	sample_message(&m, IST_WIRE_MAX_MSG_PAYLOAD);
	ROUNDTRIP(message, &m);
	ist_wire_message_fini(&m);

	struct ist_checkpoint cp;
	sample_checkpoint(&cp, 3);
	ROUNDTRIP(checkpoint, &cp);
	memset(&cp, 0, sizeof(cp)); /* all-default: encodes to the root alone */
	ROUNDTRIP(checkpoint, &cp);
	cp.src_height = UINT64_MAX;
	ROUNDTRIP(checkpoint, &cp);

	struct ist_certificate *cert = zalloc(sizeof(*cert));
	sample_certificate_multisig(cert, 0);
	ROUNDTRIP(certificate, cert);
	sample_certificate_multisig(cert, 5);
	ROUNDTRIP(certificate, cert);
	sample_certificate_multisig(cert, IST_WIRE_MAX_VALIDATORS);
	ROUNDTRIP(certificate, cert);
	sample_certificate_frost(cert);
	ROUNDTRIP(certificate, cert);
	free(cert);

	struct ist_delivery *d = zalloc(sizeof(*d));
	sample_delivery(d);
	ROUNDTRIP(delivery, d);
	/* the largest delivery: full payload, deepest proofs, all signers */
	ist_wire_message_fini(&d->message);
	sample_message(&d->message, IST_WIRE_MAX_MSG_PAYLOAD);
	sample_proof(&d->message_proof, IST_WIRE_MAX_PROOF_DEPTH, 1);
	sample_proof(&d->checkpoint_proof, IST_WIRE_MAX_PROOF_DEPTH, 2);
	sample_certificate_multisig(&d->certificate, IST_WIRE_MAX_VALIDATORS);
	ROUNDTRIP(delivery, d);
	ist_wire_delivery_free(d);
}
END_TEST

START_TEST(test_roundtrip_tx)
{
	struct ist_tx tx;
	for (int k = IST_TX_TRANSFER; k <= IST_TX_GOV_VOTE; k++) {
		sample_tx(&tx, (enum ist_tx_kind)k);
		ROUNDTRIP(tx, &tx);
	}
	/* the longest address, multi-byte UTF-8 */
	sample_tx(&tx, IST_TX_REGISTER_VALIDATOR);
	memset(tx.u.register_validator.address, 'a', IST_WIRE_MAX_ADDRESS_BYTES);
	memcpy(tx.u.register_validator.address, "tls+tcp://\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 19);
	tx.u.register_validator.address[IST_WIRE_MAX_ADDRESS_BYTES] = '\0';
	tx.u.register_validator.address_len = IST_WIRE_MAX_ADDRESS_BYTES;
	tx.u.register_validator.commission_bps = IST_WIRE_MAX_COMMISSION_BPS;
	ROUNDTRIP(tx, &tx);
}
END_TEST

START_TEST(test_roundtrip_consensus)
{
	struct ist_qc *qc = zalloc(sizeof(*qc));
	sample_qc(qc, 0); /* a genesis QC has no signatures */
	ROUNDTRIP(qc, qc);
	sample_qc(qc, 7);
	ROUNDTRIP(qc, qc);
	/* every validator signs */
	memset(qc->signers, 0xff, sizeof(qc->signers));
	qc->n_sigs = IST_WIRE_MAX_VALIDATORS;
	ROUNDTRIP(qc, qc);
	free(qc);

	struct ist_tc *tc = zalloc(sizeof(*tc));
	sample_tc(tc, 4);
	ROUNDTRIP(tc, tc);
	sample_tc(tc, IST_WIRE_MAX_VALIDATORS / 2);
	ROUNDTRIP(tc, tc);
	free(tc);

	struct ist_vote v;
	sample_vote(&v);
	ROUNDTRIP(vote, &v);
	v.voter = IST_WIRE_MAX_VALIDATORS - 1;
	ROUNDTRIP(vote, &v);

	struct ist_timeout *t = zalloc(sizeof(*t));
	sample_timeout(t);
	ROUNDTRIP(timeout, t);
	free(t);

	struct ist_block *b = zalloc(sizeof(*b));
	sample_block(b, 0);
	ROUNDTRIP(block, b);
	ist_wire_block_fini(b);
	sample_block(b, 12);
	ROUNDTRIP(block, b);
	ist_wire_block_free(b);

	struct ist_proposal *p = zalloc(sizeof(*p));
	sample_proposal(p, 6, 0);
	ROUNDTRIP(proposal, p);
	ist_wire_proposal_fini(p);
	sample_proposal(p, 6, 1);
	ROUNDTRIP(proposal, p);
	ist_wire_proposal_free(p);

	struct ist_envelope *e = zalloc(sizeof(*e));
	for (int k = IST_ENVELOPE_PROPOSAL; k <= (int)IST_ENVELOPE_FROST; k++) {
		sample_envelope(e, (enum ist_envelope_kind)k);
		ROUNDTRIP(envelope, e);
		ist_wire_envelope_fini(e);
	}
	free(e);
}
END_TEST

START_TEST(test_equal_sees_every_field)
{
	/* equality is what the round trips rely on: it must notice a change */
	struct ist_block *a = zalloc(sizeof(*a)), *b = zalloc(sizeof(*b));
	sample_block(a, 6);
	sample_block(b, 6);
	ck_assert(ist_wire_block_equal(a, b));
	b->items[5].u.tx.u.register_validator.address[3] ^= 1;
	ck_assert(!ist_wire_block_equal(a, b));
	b->items[5].u.tx.u.register_validator.address[3] ^= 1;
	b->justify.sigs[2][63] ^= 1;
	ck_assert(!ist_wire_block_equal(a, b));
	b->justify.sigs[2][63] ^= 1;
	b->items[2].u.opaque.data[0] ^= 1;
	ck_assert(!ist_wire_block_equal(a, b));
	b->items[2].u.opaque.data[0] ^= 1;
	ck_assert(ist_wire_block_equal(a, b));
	ist_wire_block_free(a);
	ist_wire_block_free(b);

	struct ist_vote v1, v2;
	sample_vote(&v1);
	sample_vote(&v2);
	v2.voter++;
	ck_assert(!ist_wire_vote_equal(&v1, &v2));
}
END_TEST

/* ---- Canonical bytes: golden values ---- */

START_TEST(test_golden_message)
{
	struct ist_message m;
	sample_message(&m, 5);
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ck_assert_int_eq(ist_wire_message_canonical(&m, &b), 0);
	size_t len;
	uint8_t *got = take(&b, &len);
	ck_assert_uint_eq(len, IST_WIRE_MESSAGE_FIXED_BYTES + 5);
	ist_test_assert_hex(got, len,
		  "0000000000000001"                                                 /* src_chain 1 */
		  "0000000000000002"                                                 /* dst_chain 2 */
		  "0000000000000009"                                                 /* nonce 9 */
		  "1112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f30" /* sender */
		  "22232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f4041" /* recipient */
		  "00000000000003e8"                                                 /* value 1000 */
		  "00000005"                                                         /* payload_len 5 */
		  "0726456483");                                                     /* payload */

	/* message_id = SHA-256("isthmus/msg/v1" || canonical), by hand */
	uint8_t want[IST_HASH_BYTES], id[IST_HASH_BYTES];
	struct ist_sha256_ctx h;
	ist_sha256_init(&h);
	ist_sha256_update(&h, "isthmus/msg/v1", 14);
	ist_sha256_update(&h, got, len);
	ist_sha256_final(&h, want);
	ck_assert_int_eq(ist_wire_message_id(&m, id), 0);
	ck_assert_mem_eq(id, want, sizeof(id));
	ist_test_assert_hex(id, sizeof(id), "c05caa6973a17c68626df387d186911081b0a0c3dc2d5685acac5fe67ea6e221");
	free(got);
	ist_wire_message_fini(&m);

	/* an empty payload still has its length field */
	sample_message(&m, 0);
	ist_buf_init(&b, 0);
	ck_assert_int_eq(ist_wire_message_canonical(&m, &b), 0);
	got = take(&b, &len);
	ck_assert_uint_eq(len, IST_WIRE_MESSAGE_FIXED_BYTES);
	ck_assert_mem_eq(got + 96, "\0\0\0\0", 4);
	free(got);

	/* over the limit: refused, never truncated */
	m.payload_len = IST_WIRE_MAX_MSG_PAYLOAD + 1;
	ck_assert_int_eq(ist_wire_message_id(&m, id), -IST_ETOOBIG);
	ist_buf_init(&b, 0);
	ck_assert_int_eq(ist_wire_message_canonical(&m, &b), -IST_ETOOBIG);
	ist_buf_fini(&b);
}
END_TEST

START_TEST(test_golden_checkpoint_and_attest)
{
	struct ist_checkpoint cp;
	sample_checkpoint(&cp, 0);
	uint8_t bytes[IST_WIRE_CHECKPOINT_BYTES];
	ist_wire_checkpoint_bytes(&cp, bytes);
	ist_test_assert_hex(bytes, sizeof(bytes),
		  "697374686d75732f636865636b706f696e742f7631"                       /* "isthmus/checkpoint/v1" */
		  "0000000000000001"                                                 /* src_chain 1 */
		  "0000000000000002"                                                 /* dst_chain 2 */
		  "00000000000003e8"                                                 /* src_height 1000 */
		  "000000000000000a"                                                 /* tree_size 10 */
		  "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"); /* root */
	uint8_t leaf[IST_HASH_BYTES], want[IST_HASH_BYTES];
	ist_wire_checkpoint_leaf_hash(&cp, leaf);
	ist_merkle_leaf_hash(bytes, sizeof(bytes), want);
	ck_assert_mem_eq(leaf, want, sizeof(leaf));
	ist_test_assert_hex(leaf, sizeof(leaf), "e94352d57cc46286c233ca3d0946a49c9e460959fcd246139703a23a6f9c653b");

	/* DESIGN step 4, literally:
	 * SHA-256("isthmus/attest/v1" || network id || epoch || height || batch root) */
	uint8_t root[IST_HASH_BYTES];
	sample_fill(root, sizeof(root), 0x33);
	uint8_t pre[17 + 8 + 8 + 8 + 32];
	memcpy(pre, "isthmus/attest/v1", 17);
	ist_put_be64(pre + 17, SAMPLE_NETWORK_ID);
	ist_put_be64(pre + 25, 2);
	ist_put_be64(pre + 33, 100);
	memcpy(pre + 41, root, 32);
	ist_sha256(pre, sizeof(pre), want);

	uint8_t att[IST_WIRE_ATTEST_BYTES], digest[IST_HASH_BYTES];
	ist_wire_attest_bytes(SAMPLE_NETWORK_ID, 2, 100, root, att);
	ck_assert_mem_eq(att, pre, sizeof(pre));
	ist_wire_attest_digest(SAMPLE_NETWORK_ID, 2, 100, root, digest);
	ck_assert_mem_eq(digest, want, sizeof(want));
	ist_test_assert_hex(digest, sizeof(digest), "5eee05dde72f3c42501ee60536b37bb59ddade9ac09527163681d4807e0a80e2");

	/* a certificate's digest is the same thing from its own fields */
	struct ist_certificate *cert = zalloc(sizeof(*cert));
	sample_certificate_frost(cert);
	ist_wire_certificate_digest(cert, digest);
	ck_assert_mem_eq(digest, want, sizeof(want));
	cert->network_id++; /* another network: another digest */
	ist_wire_certificate_digest(cert, digest);
	ck_assert(memcmp(digest, want, sizeof(want)) != 0);
	free(cert);
}
END_TEST

/* The pause leaf, literally as docs/protocol-wire.md lays it out:
 * SHA-256(0x00 || "isthmus/pause/v1" || network id || height || scope ||
 * a || b || paused); one field changed changes it. */
START_TEST(test_pause_leaf)
{
	struct ist_pause p = { .network_id = SAMPLE_NETWORK_ID, .height = 21, .scope = IST_PAUSE_ROUTE, .a = 1, .b = 2,
			       .paused = true };
	uint8_t pre[1 + IST_WIRE_PAUSE_BYTES];
	pre[0] = 0x00;
	memcpy(pre + 1, "isthmus/pause/v1", 16);
	ist_put_be64(pre + 17, SAMPLE_NETWORK_ID);
	ist_put_be64(pre + 25, 21);
	pre[33] = 2;
	ist_put_be64(pre + 34, 1);
	ist_put_be64(pre + 42, 2);
	pre[50] = 1;
	uint8_t bytes[IST_WIRE_PAUSE_BYTES], want[IST_HASH_BYTES], leaf[IST_HASH_BYTES];
	ist_wire_pause_bytes(&p, bytes);
	ck_assert_mem_eq(bytes, pre + 1, sizeof(bytes));
	ist_sha256(pre, sizeof(pre), want);
	ist_wire_pause_leaf_hash(&p, leaf);
	ck_assert_mem_eq(leaf, want, sizeof(want));
	p.paused = false;
	ist_wire_pause_leaf_hash(&p, leaf);
	ck_assert(memcmp(leaf, want, sizeof(want)) != 0);
}
END_TEST

START_TEST(test_golden_vote_timeout)
{
	struct ist_vote v;
	sample_vote(&v);
	uint8_t vb[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(SAMPLE_NETWORK_ID, v.epoch, v.view, v.block_id, vb);
	ist_test_assert_hex(vb, sizeof(vb),
		  "697374686d75732f766f74652f7631"                                   /* "isthmus/vote/v1" */
		  "0000000000000007"                                                 /* network_id 7 */
		  "0000000000000002"                                                 /* epoch 2 */
		  "000000000000002a"                                                 /* view 42 */
		  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"); /* block_id */

	struct ist_timeout *t = zalloc(sizeof(*t));
	sample_timeout(t);
	uint8_t tb[IST_WIRE_TIMEOUT_SIGNING_BYTES];
	ist_wire_timeout_signing_bytes(SAMPLE_NETWORK_ID, t->epoch, t->view, t->high_qc.view, tb);
	ist_test_assert_hex(tb, sizeof(tb),
		  "697374686d75732f74696d656f75742f7631" /* "isthmus/timeout/v1" */
		  "0000000000000007"                     /* network_id 7 */
		  "0000000000000002"                     /* epoch 2 */
		  "000000000000002b"                     /* view 43 */
		  "0000000000000029");                   /* high_qc view 41 */
	free(t);
}
END_TEST

START_TEST(test_golden_tx)
{
	struct ist_tx tx;
	uint8_t b[IST_WIRE_MAX_TX_SIGNING_BYTES], id[IST_HASH_BYTES];
	size_t len;

	sample_tx(&tx, IST_TX_TRANSFER);
	ck_assert_int_eq(ist_wire_tx_signing_bytes(&tx, b, &len), 0);
	ist_test_assert_hex(b, len,
		  "697374686d75732f74782f7631"                                       /* "isthmus/tx/v1" */
		  "0000000000000007"                                                 /* network_id 7 */
		  "666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485" /* sender */
		  "0000000000000003"                                                 /* nonce 3 */
		  "000000000000000a"                                                 /* fee 10 */
		  "01"                                                               /* kind: transfer */
		  "88898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7" /* to */
		  "00000000000001f4");                                               /* amount 500 */
	ck_assert_int_eq(ist_wire_tx_id(&tx, id), 0);
	ist_test_assert_hex(id, sizeof(id), "16f34afaaea7c8951a1edc814cab1e77b2e19180ca43c6cc55184026e34c5096");

	sample_tx(&tx, IST_TX_REGISTER_VALIDATOR);
	ck_assert_int_eq(ist_wire_tx_signing_bytes(&tx, b, &len), 0);
	ist_test_assert_hex(b, len,
		  "697374686d75732f74782f7631"                                       /* "isthmus/tx/v1" */
		  "0000000000000007"                                                 /* network_id 7 */
		  "666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485" /* sender */
		  "0000000000000003"                                                 /* nonce 3 */
		  "000000000000000a"                                                 /* fee 10 */
		  "02"                                                               /* kind: register */
		  "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20" /* node_key */
		  "02030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122" /* attest_key */
		  "030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122" /* dkg_key */
		  "000000fa"                                                         /* commission 250 */
		  "00000013"                                                         /* address_len 19 */
		  "7463703a2f2f31302e302e302e313a37303030");                         /* tcp://10.0.0.1:7000 */
	ck_assert_int_eq(ist_wire_tx_id(&tx, id), 0);
	ist_test_assert_hex(id, sizeof(id), "8aab21f2423bf68d602cdf0bb24023c2e86c134db4a2add12016bfda2d0adabf");

	/* a body-less kind is the fixed part alone */
	sample_tx(&tx, IST_TX_WITHDRAW);
	ck_assert_int_eq(ist_wire_tx_signing_bytes(&tx, b, &len), 0);
	ck_assert_uint_eq(len, IST_WIRE_TX_SIGNING_FIXED_BYTES);
	ck_assert_uint_eq(b[69], IST_TX_WITHDRAW);
	ck_assert_int_eq(ist_wire_tx_id(&tx, id), 0);
	ist_test_assert_hex(id, sizeof(id), "8fd6d6435e93e3073f203696cc2335b4886adc07831e6f3931fba3e19fa60c53");

	/* the id covers the signature; the signing bytes do not */
	uint8_t id2[IST_HASH_BYTES], b2[IST_WIRE_MAX_TX_SIGNING_BYTES];
	size_t len2;
	tx.signature[0] ^= 1;
	ck_assert_int_eq(ist_wire_tx_id(&tx, id2), 0);
	ck_assert(memcmp(id, id2, sizeof(id)) != 0);
	ck_assert_int_eq(ist_wire_tx_signing_bytes(&tx, b2, &len2), 0);
	ck_assert_uint_eq(len, len2);
	ck_assert_mem_eq(b, b2, len);

	/* unusable structs are refused */
	tx.kind = 99;
	ck_assert_int_eq(ist_wire_tx_id(&tx, id), -IST_EINVAL);
	sample_tx(&tx, IST_TX_REGISTER_VALIDATOR);
	tx.u.register_validator.address_len = 0;
	ck_assert_int_eq(ist_wire_tx_signing_bytes(&tx, b, &len), -IST_EINVAL);
	tx.u.register_validator.address_len = IST_WIRE_MAX_ADDRESS_BYTES + 1;
	ck_assert_int_eq(ist_wire_tx_signing_bytes(&tx, b, &len), -IST_EINVAL);
}
END_TEST

START_TEST(test_golden_block_and_proposal)
{
	struct ist_proposal *p = zalloc(sizeof(*p));
	sample_proposal(p, 3, 1);
	struct ist_block *b = &p->block;

	/* the canonical payload, item by item */
	struct ist_buf pb;
	ist_buf_init(&pb, 0);
	ck_assert_int_eq(ist_wire_block_payload_canonical(b, &pb), 0);
	size_t plen;
	uint8_t *payload = take(&pb, &plen);
	ist_test_assert_hex(payload, plen,
		  "00000003"                                                         /* 3 items */
		  "01" "00000055"                                                    /* checkpoint, 85 bytes */
		  "697374686d75732f636865636b706f696e742f7631"
		  "0000000000000001" "0000000000000002" "00000000000003e8" "000000000000000a"
		  "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
		  "02" "000000ae"                                                    /* tx, 110 + 64 bytes */
		  "697374686d75732f74782f7631" "0000000000000007"
		  "666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485"
		  "0000000000000004" "000000000000000a" "01"                         /* nonce 4, fee, transfer */
		  "88898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7" "00000000000001f4"
		  "7778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f90919293949596" /* signature */
		  "9798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6"
		  "03" "00000008" "65766964656e6365");                               /* evidence "evidence" */
	uint8_t want[IST_HASH_BYTES], hash[IST_HASH_BYTES];
	ist_sha256(payload, plen, want);
	free(payload);
	ck_assert_int_eq(ist_wire_block_payload_hash(b, hash), 0);
	ck_assert_mem_eq(hash, want, sizeof(hash));

	uint8_t header[IST_WIRE_BLOCK_HEADER_BYTES];
	ck_assert_int_eq(ist_wire_block_header_bytes(b, header), 0);
	ist_test_assert_hex(header, sizeof(header),
		  "697374686d75732f626c6f636b2f7631"                                 /* "isthmus/block/v1" */
		  "0000000000000007"                                                 /* network_id 7 */
		  "0000000000000002"                                                 /* epoch 2 */
		  "000000000000002a"                                                 /* view 42 */
		  "0000000000000011"                                                 /* height 17 */
		  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" /* parent_id */
		  "00000003"                                                         /* proposer 3 */
		  "0000018bcfe56800"                                                 /* timestamp_ms */
		  "0000000000000002"                                                 /* justify.epoch 2 */
		  "0000000000000029"                                                 /* justify.view 41 */
		  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f" /* justify.block_id */
		  "954826d7c1bdd6cce3c04986dafbdc897aa1c3325e76256a40503000f2c3d9db"); /* payload hash */
	uint8_t id[IST_HASH_BYTES];
	ck_assert_int_eq(ist_wire_block_id(b, id), 0);
	ist_sha256(header, sizeof(header), want);
	ck_assert_mem_eq(id, want, sizeof(id));
	ist_test_assert_hex(id, sizeof(id), "b30db13363a81f30c876f6ac42022653041c01b840dfa9003bfc6eb32009f822");

	uint8_t ps[IST_WIRE_PROPOSAL_SIGNING_BYTES];
	ck_assert_int_eq(ist_wire_proposal_signing_bytes(p, ps), 0);
	ist_test_assert_hex(ps, sizeof(ps),
		  "697374686d75732f70726f706f73616c2f7631"                           /* "isthmus/proposal/v1" */
		  "0000000000000007"                                                 /* network_id 7 */
		  "0000000000000002"                                                 /* epoch 2 */
		  "000000000000002a"                                                 /* view 42 */
		  "0000000000000011"                                                 /* height 17 */
		  "b30db13363a81f30c876f6ac42022653041c01b840dfa9003bfc6eb32009f822" /* block_id */
		  "01"                                                               /* has_tc */
		  "000000000000002b");                                               /* tc.view 43 */
	p->has_tc = false;
	ck_assert_int_eq(ist_wire_proposal_signing_bytes(p, ps), 0);
	ck_assert_mem_eq(ps + 83, "\0\0\0\0\0\0\0\0\0", 9);

	/* the justify QC's signatures are not part of the id; what it certifies is */
	b->justify.sigs[0][0] ^= 1;
	ck_assert_int_eq(ist_wire_block_id(b, hash), 0);
	ck_assert_mem_eq(hash, id, sizeof(id));
	b->justify.view++;
	ck_assert_int_eq(ist_wire_block_id(b, hash), 0);
	ck_assert(memcmp(hash, id, sizeof(id)) != 0);
	b->justify.view--;
	/* every payload byte is */
	b->items[2].u.opaque.data[7] ^= 1;
	ck_assert_int_eq(ist_wire_block_id(b, hash), 0);
	ck_assert(memcmp(hash, id, sizeof(id)) != 0);
	ist_wire_proposal_free(p);
}
END_TEST

START_TEST(test_batch_root)
{
	struct ist_block *b = zalloc(sizeof(*b));
	sample_block(b, 15); /* checkpoints at items 0, 7 and 14 */
	uint8_t root[IST_HASH_BYTES], want[IST_HASH_BYTES];
	uint8_t leaves[3][IST_HASH_BYTES];
	ist_wire_checkpoint_leaf_hash(&b->items[0].u.checkpoint, leaves[0]);
	ist_wire_checkpoint_leaf_hash(&b->items[7].u.checkpoint, leaves[1]);
	ist_wire_checkpoint_leaf_hash(&b->items[14].u.checkpoint, leaves[2]);
	ck_assert_int_eq(ist_merkle_root((const uint8_t (*)[IST_HASH_BYTES])leaves, 3, want), 0);
	size_t n = 0;
	ck_assert_int_eq(ist_wire_block_batch_root(b, root, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(root, want, sizeof(root));
	ist_wire_block_fini(b);

	sample_block(b, 0);
	ck_assert_int_eq(ist_wire_block_batch_root(b, root, &n), 0);
	ck_assert_uint_eq(n, 0);
	ist_sha256("", 0, want);
	ck_assert_mem_eq(root, want, sizeof(root));
	ist_wire_block_free(b);
}
END_TEST

/* ---- Two encodings, one content ---- */

START_TEST(test_reordered_encoding_same_canonical)
{
	/* a vote with its fields in reverse order, an unknown field and a
	 * non-minimal varint: decodes to the same vote */
	struct ist_vote v;
	sample_vote(&v);
	uint8_t *enc;
	size_t len;
	ck_assert_int_eq(ist_wire_vote_encode(&v, &enc, &len), 0);

	struct ist_buf b;
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 5, v.signature, sizeof(v.signature));
	pbw_tag(&b, 4, 0);
	ist_buf_put(&b, "\x85\x00", 2); /* voter 5 as a two-byte varint */
	pbw_u64(&b, 99, 12345);         /* unknown field */
	pbw_bytes(&b, 3, v.block_id, sizeof(v.block_id));
	pbw_u64(&b, 2, v.view);
	pbw_u64(&b, 1, v.epoch);
	size_t len2;
	uint8_t *enc2 = take(&b, &len2);
	ck_assert(len2 != len || memcmp(enc, enc2, len) != 0);

	struct ist_vote *d1, *d2;
	ck_assert_int_eq(ist_wire_vote_decode(enc, len, &d1, NULL), 0);
	ck_assert_int_eq(ist_wire_vote_decode(enc2, len2, &d2, NULL), 0);
	ck_assert(ist_wire_vote_equal(d1, d2));
	uint8_t s1[IST_WIRE_VOTE_SIGNING_BYTES], s2[IST_WIRE_VOTE_SIGNING_BYTES];
	ist_wire_vote_signing_bytes(SAMPLE_NETWORK_ID, d1->epoch, d1->view, d1->block_id, s1);
	ist_wire_vote_signing_bytes(SAMPLE_NETWORK_ID, d2->epoch, d2->view, d2->block_id, s2);
	ck_assert_mem_eq(s1, s2, sizeof(s1));
	ist_wire_vote_free(d1);
	ist_wire_vote_free(d2);
	free(enc);
	free(enc2);

	/* a message, reordered, with a QC-style unknown sub-message: same id */
	struct ist_message m;
	sample_message(&m, 33);
	ck_assert_int_eq(ist_wire_message_encode(&m, &enc, &len), 0);
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 7, m.payload, m.payload_len);
	pbw_u64(&b, 6, m.value);
	pbw_bytes(&b, 5, m.recipient, 32);
	pbw_bytes(&b, 4, m.sender, 32);
	pbw_bytes(&b, 42, "ignored", 7);
	pbw_u64(&b, 3, m.nonce);
	pbw_u64(&b, 2, m.dst_chain);
	pbw_u64(&b, 1, m.src_chain);
	enc2 = take(&b, &len2);
	struct ist_message *m1, *m2;
	ck_assert_int_eq(ist_wire_message_decode(enc, len, &m1, NULL), 0);
	ck_assert_int_eq(ist_wire_message_decode(enc2, len2, &m2, NULL), 0);
	uint8_t id0[IST_HASH_BYTES], id1[IST_HASH_BYTES], id2[IST_HASH_BYTES];
	ck_assert_int_eq(ist_wire_message_id(&m, id0), 0);
	ck_assert_int_eq(ist_wire_message_id(m1, id1), 0);
	ck_assert_int_eq(ist_wire_message_id(m2, id2), 0);
	ck_assert_mem_eq(id0, id1, sizeof(id0));
	ck_assert_mem_eq(id0, id2, sizeof(id0));
	ist_wire_message_free(m1);
	ist_wire_message_free(m2);
	ist_wire_message_fini(&m);
	free(enc);
	free(enc2);

	/* a QC whose bitmap carries trailing zero bytes: same QC, and it
	 * re-encodes to the minimal form */
	struct ist_qc *qc = zalloc(sizeof(*qc));
	sample_qc(qc, 2); /* validators 0 and 3: one bitmap byte */
	ist_buf_init(&b, 0);
	pbw_u64(&b, 1, qc->epoch);
	pbw_u64(&b, 2, qc->view);
	pbw_bytes(&b, 3, qc->block_id, 32);
	pbw_bytes(&b, 4, qc->signers, IST_WIRE_BITMAP_BYTES); /* all 32 bytes */
	pbw_bytes(&b, 5, qc->sigs[0], 64);
	pbw_bytes(&b, 5, qc->sigs[1], 64);
	enc2 = take(&b, &len2);
	struct ist_qc *q2;
	ck_assert_int_eq(ist_wire_qc_decode(enc2, len2, &q2, NULL), 0);
	ck_assert(ist_wire_qc_equal(qc, q2));
	ck_assert_int_eq(ist_wire_qc_encode(q2, &enc, &len), 0);
	ck_assert_uint_eq(len, len2 - (IST_WIRE_BITMAP_BYTES - 1));
	ist_wire_qc_free(q2);
	free(qc);
	free(enc);
	free(enc2);
}
END_TEST

/* ---- Limits: one over fails with -IST_ETOOBIG, a wrong fixed length with
 * -IST_EPARSE ---- */

/* A vote encoding with the given lengths of block_id and signature. */
static uint8_t *vote_with(size_t id_len, size_t sig_len, uint32_t voter, size_t *ret_len)
{
	uint8_t zeros[128] = { 0 };
	struct ist_buf b;
	ist_buf_init(&b, 0);
	pbw_u64(&b, 1, 2);
	pbw_u64(&b, 2, 42);
	pbw_bytes(&b, 3, zeros, id_len);
	pbw_u64(&b, 4, voter);
	pbw_bytes(&b, 5, zeros, sig_len);
	return take(&b, ret_len);
}

START_TEST(test_fixed_lengths)
{
	size_t len;
	uint8_t *p;
	p = vote_with(32, 64, 0, &len);
	struct ist_vote *v;
	ck_assert_int_eq(ist_wire_vote_decode(p, len, &v, NULL), 0);
	ist_wire_vote_free(v);
	free(p);
	p = vote_with(31, 64, 0, &len);
	DECODE_FAILS(vote, p, len, -IST_EPARSE, "vote.block_id: wrong length");
	free(p);
	p = vote_with(33, 64, 0, &len);
	DECODE_FAILS(vote, p, len, -IST_EPARSE, "vote.block_id: wrong length");
	free(p);
	p = vote_with(32, 65, 0, &len);
	DECODE_FAILS(vote, p, len, -IST_EPARSE, "vote.signature: wrong length");
	free(p);
	p = vote_with(32, 0, 0, &len); /* a missing field is a wrong length */
	DECODE_FAILS(vote, p, len, -IST_EPARSE, "vote.signature: wrong length");
	free(p);
	p = vote_with(32, 64, IST_WIRE_MAX_VALIDATORS, &len);
	DECODE_FAILS(vote, p, len, -IST_ETOOBIG, "vote.voter: index out of range");
	free(p);

	/* the other fixed fields, one of each kind */
	struct ist_buf b;
	uint8_t z[128] = { 0 };
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 5, z, 31); /* checkpoint.root */
	p = take(&b, &len);
	DECODE_FAILS(checkpoint, p, len, -IST_EPARSE, "checkpoint.root: wrong length");
	free(p);

	ist_buf_init(&b, 0);
	pbw_bytes(&b, 4, z, 32);
	pbw_bytes(&b, 5, z, 31); /* message.recipient */
	p = take(&b, &len);
	DECODE_FAILS(message, p, len, -IST_EPARSE, "message.recipient: wrong length");
	free(p);

	/* tx: a 33-byte node key where 32 belong, a 32-byte attestation key
	 * where 33 belong */
	struct ist_buf body;
	ist_buf_init(&body, 0);
	pbw_bytes(&body, 1, z, 32);
	pbw_bytes(&body, 2, z, 32);
	pbw_bytes(&body, 3, z, 32);
	pbw_bytes(&body, 4, "x", 1);
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 2, z, 32);
	pbw_bytes(&b, 5, z, 64);
	pbw_msg(&b, 11, &body);
	ist_buf_fini(&body);
	p = take(&b, &len);
	DECODE_FAILS(tx, p, len, -IST_EPARSE, "tx.register_validator.attest_key: wrong length");
	free(p);

	/* certificate: a 64-byte secp256k1 signature */
	struct ist_buf ms;
	ist_buf_init(&ms, 0);
	pbw_bytes(&ms, 1, "\x01", 1);
	pbw_bytes(&ms, 2, z, 64);
	p = multisig_cert_bytes(&ms, &len);
	DECODE_FAILS(certificate, p, len, -IST_EPARSE, "certificate.signatures: wrong length");
	free(p);
}
END_TEST

/* Encodes x after `mutate` broke it through the protobuf writer is not
 * possible with our encoder (it refuses), so the over-limit encodings below
 * are built by hand or by encoding a legal struct and appending. */

static uint8_t *qc_bytes(size_t n_sigs, size_t bitmap_len, size_t sig_len, size_t *ret_len)
{
	uint8_t bm[64], z[64] = { 0 };
	memset(bm, 0, sizeof(bm));
	for (size_t i = 0; i < n_sigs && i < 8 * bitmap_len; i++)
		bm[i / 8] |= (uint8_t)(1u << (i % 8));
	struct ist_buf b;
	ist_buf_init(&b, 0);
	pbw_u64(&b, 1, 2);
	pbw_u64(&b, 2, 41);
	pbw_bytes(&b, 3, z, 32);
	pbw_bytes(&b, 4, bm, bitmap_len);
	for (size_t i = 0; i < n_sigs; i++)
		pbw_bytes(&b, 5, z, sig_len);
	return take(&b, ret_len);
}

START_TEST(test_limits_signatures)
{
	size_t len;
	uint8_t *p;
	struct ist_qc *qc;

	p = qc_bytes(IST_WIRE_MAX_VALIDATORS, IST_WIRE_BITMAP_BYTES, 64, &len);
	ck_assert_int_eq(ist_wire_qc_decode(p, len, &qc, NULL), 0);
	ck_assert_uint_eq(qc->n_sigs, IST_WIRE_MAX_VALIDATORS);
	ist_wire_qc_free(qc);
	free(p);

	p = qc_bytes(IST_WIRE_MAX_VALIDATORS + 1, IST_WIRE_BITMAP_BYTES, 64, &len);
	DECODE_FAILS(qc, p, len, -IST_ETOOBIG, "qc.signatures: too many");
	free(p);
	p = qc_bytes(3, IST_WIRE_BITMAP_BYTES + 1, 64, &len);
	DECODE_FAILS(qc, p, len, -IST_ETOOBIG, "qc.signers: bitmap too long");
	free(p);
	p = qc_bytes(3, 1, 63, &len);
	DECODE_FAILS(qc, p, len, -IST_EPARSE, "qc.signatures: wrong length");
	free(p);
	/* one signature more than the bitmap's signers */
	p = qc_bytes(3, 1, 64, &len);
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put(&b, p, len);
	uint8_t z[128] = { 0 };
	pbw_bytes(&b, 5, z, 64);
	free(p);
	p = take(&b, &len);
	DECODE_FAILS(qc, p, len, -IST_EPARSE, "qc.signatures: count differs from signers");
	free(p);

	/* the encoder refuses the same mistakes */
	qc = zalloc(sizeof(*qc));
	sample_qc(qc, 3);
	uint8_t *enc;
	qc->n_sigs = 4;
	ck_assert_int_eq(ist_wire_qc_encode(qc, &enc, &len), -IST_EINVAL);
	qc->n_sigs = IST_WIRE_MAX_VALIDATORS + 1;
	ck_assert_int_eq(ist_wire_qc_encode(qc, &enc, &len), -IST_ETOOBIG);
	free(qc);

	/* a TC needs one high_qc view per signature */
	struct ist_tc *tc = zalloc(sizeof(*tc));
	sample_tc(tc, 2);
	ck_assert_int_eq(ist_wire_tc_encode(tc, &enc, &len), 0);
	ist_buf_init(&b, 0);
	ist_buf_put(&b, enc, len);
	pbw_u64(&b, 4, 40); /* an extra, unpacked high_qc view */
	free(enc);
	p = take(&b, &len);
	DECODE_FAILS(tc, p, len, -IST_EPARSE, "tc.high_qc_views: count differs from signatures");
	free(p);
	free(tc);

	/* certificates: 257 signatures */
	struct ist_buf ms;
	ist_buf_init(&ms, 0);
	uint8_t bm[IST_WIRE_BITMAP_BYTES];
	memset(bm, 0xff, sizeof(bm));
	pbw_bytes(&ms, 1, bm, sizeof(bm));
	for (int i = 0; i <= IST_WIRE_MAX_VALIDATORS; i++)
		pbw_bytes(&ms, 2, z, 65);
	p = multisig_cert_bytes(&ms, &len);
	DECODE_FAILS(certificate, p, len, -IST_ETOOBIG, "certificate.signatures: too many");
	free(p);
}
END_TEST

START_TEST(test_limits_sizes)
{
	uint8_t *p, *enc;
	size_t len;
	struct ist_buf b;
	uint8_t z[128] = { 0 };

	/* a message payload one byte over */
	uint8_t *big = calloc(1, IST_WIRE_MAX_MSG_PAYLOAD + 1);
	ck_assert_ptr_nonnull(big);
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 4, z, 32);
	pbw_bytes(&b, 5, z, 32);
	pbw_bytes(&b, 7, big, IST_WIRE_MAX_MSG_PAYLOAD + 1);
	p = take(&b, &len);
	ck_assert_uint_le(len, IST_WIRE_MAX_MESSAGE_BYTES); /* the field limit bites first */
	DECODE_FAILS(message, p, len, -IST_ETOOBIG, "message.payload: too long");
	free(p);
	struct ist_message m;
	sample_message(&m, 1);
	free(m.payload);
	m.payload = big;
	m.payload_len = IST_WIRE_MAX_MSG_PAYLOAD + 1;
	ck_assert_int_eq(ist_wire_message_encode(&m, &enc, &len), -IST_ETOOBIG);
	ist_wire_message_fini(&m);

	/* every kind: one byte over its encoded-size limit is refused unread */
	static const size_t limits[] = {
		IST_WIRE_MAX_MESSAGE_BYTES, IST_WIRE_MAX_CHECKPOINT_BYTES, IST_WIRE_MAX_CERTIFICATE_BYTES,
		IST_WIRE_MAX_DELIVERY_BYTES, IST_WIRE_MAX_TX_BYTES, IST_WIRE_MAX_QC_BYTES, IST_WIRE_MAX_TC_BYTES,
		IST_WIRE_MAX_BLOCK_BYTES, IST_WIRE_MAX_PROPOSAL_BYTES, IST_WIRE_MAX_VOTE_BYTES,
		IST_WIRE_MAX_TIMEOUT_BYTES, IST_WIRE_MAX_ENVELOPE_BYTES,
	};
	uint8_t *huge = calloc(1, IST_WIRE_MAX_ENVELOPE_BYTES + 1);
	ck_assert_ptr_nonnull(huge);
	DECODE_FAILS(message, huge, limits[0] + 1, -IST_ETOOBIG, "message: over the size limit");
	DECODE_FAILS(checkpoint, huge, limits[1] + 1, -IST_ETOOBIG, "checkpoint: over the size limit");
	DECODE_FAILS(certificate, huge, limits[2] + 1, -IST_ETOOBIG, "certificate: over the size limit");
	DECODE_FAILS(delivery, huge, limits[3] + 1, -IST_ETOOBIG, "delivery: over the size limit");
	DECODE_FAILS(tx, huge, limits[4] + 1, -IST_ETOOBIG, "tx: over the size limit");
	DECODE_FAILS(qc, huge, limits[5] + 1, -IST_ETOOBIG, "qc: over the size limit");
	DECODE_FAILS(tc, huge, limits[6] + 1, -IST_ETOOBIG, "tc: over the size limit");
	DECODE_FAILS(block, huge, limits[7] + 1, -IST_ETOOBIG, "block: over the size limit");
	DECODE_FAILS(proposal, huge, limits[8] + 1, -IST_ETOOBIG, "proposal: over the size limit");
	DECODE_FAILS(vote, huge, limits[9] + 1, -IST_ETOOBIG, "vote: over the size limit");
	DECODE_FAILS(timeout, huge, limits[10] + 1, -IST_ETOOBIG, "timeout: over the size limit");
	DECODE_FAILS(envelope, huge, limits[11] + 1, -IST_ETOOBIG, "envelope: over the size limit");
	free(huge);

	/* inclusion proofs: 65 path entries */
	struct ist_delivery *d = zalloc(sizeof(*d));
	sample_delivery(d);
	d->message_proof.path_len = IST_WIRE_MAX_PROOF_DEPTH + 1;
	ck_assert_int_eq(ist_wire_delivery_encode(d, &enc, &len), -IST_ETOOBIG);
	d->message_proof.path_len = IST_WIRE_MAX_PROOF_DEPTH;
	ck_assert_int_eq(ist_wire_delivery_encode(d, &enc, &len), 0);
	/* append one more path entry to the encoded proof by hand */
	struct ist_buf proof;
	ist_buf_init(&proof, 0);
	pbw_u64(&proof, 1, 5);
	pbw_u64(&proof, 2, 12);
	for (int i = 0; i <= IST_WIRE_MAX_PROOF_DEPTH; i++)
		pbw_bytes(&proof, 3, z, 32);
	ist_buf_init(&b, 0);
	ist_buf_put(&b, enc, len);
	pbw_msg(&b, 2, &proof); /* a repeated sub-message merges: 64 + 65 entries */
	ist_buf_fini(&proof);
	free(enc);
	p = take(&b, &len);
	DECODE_FAILS(delivery, p, len, -IST_ETOOBIG, "inclusion_proof.path: too long");
	free(p);
	ist_wire_delivery_free(d);

	/* the address: 256 bytes, empty, bad UTF-8, a NUL; commission over 100% */
	struct ist_tx tx;
	sample_tx(&tx, IST_TX_REGISTER_VALIDATOR);
	tx.u.register_validator.address_len = IST_WIRE_MAX_ADDRESS_BYTES + 1;
	ck_assert_int_eq(ist_wire_tx_encode(&tx, &enc, &len), -IST_ETOOBIG);
	static const struct {
		const char *addr;
		size_t len;
		int err;
		const char *why;
	} addrs[] = {
		{ "", 0, -IST_EPARSE, "tx.register_validator.address: empty" },
		{ "a\0b", 3, -IST_EPARSE, "tx.register_validator.address: not UTF-8 text" },
		{ "\xc3", 1, -IST_EPARSE, "tx.register_validator.address: not UTF-8 text" },
		{ "\xc0\xaf", 2, -IST_EPARSE, "tx.register_validator.address: not UTF-8 text" },     /* overlong */
		{ "\xed\xa0\x80", 3, -IST_EPARSE, "tx.register_validator.address: not UTF-8 text" }, /* surrogate */
		{ "\xf4\x90\x80\x80", 4, -IST_EPARSE, "tx.register_validator.address: not UTF-8 text" },
		{ "\xff", 1, -IST_EPARSE, "tx.register_validator.address: not UTF-8 text" },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(addrs); i++) {
		struct ist_buf body;
		ist_buf_init(&body, 0);
		pbw_bytes(&body, 1, z, 32);
		pbw_bytes(&body, 2, z, 33);
		pbw_bytes(&body, 3, z, 32);
		pbw_bytes(&body, 4, addrs[i].addr, addrs[i].len);
		ist_buf_init(&b, 0);
		pbw_bytes(&b, 2, z, 32);
		pbw_bytes(&b, 5, z, 64);
		pbw_msg(&b, 11, &body);
		ist_buf_fini(&body);
		p = take(&b, &len);
		DECODE_FAILS(tx, p, len, addrs[i].err, addrs[i].why);
		free(p);
	}
	char long_addr[IST_WIRE_MAX_ADDRESS_BYTES + 1];
	memset(long_addr, 'a', sizeof(long_addr));
	struct ist_buf body;
	ist_buf_init(&body, 0);
	pbw_bytes(&body, 1, z, 32);
	pbw_bytes(&body, 2, z, 33);
	pbw_bytes(&body, 3, z, 32);
	pbw_bytes(&body, 4, long_addr, sizeof(long_addr));
	pbw_u64(&body, 5, IST_WIRE_MAX_COMMISSION_BPS);
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 2, z, 32);
	pbw_bytes(&b, 5, z, 64);
	pbw_msg(&b, 11, &body);
	ist_buf_fini(&body);
	p = take(&b, &len);
	DECODE_FAILS(tx, p, len, -IST_ETOOBIG, "tx.register_validator.address: too long");
	free(p);

	sample_tx(&tx, IST_TX_REGISTER_VALIDATOR);
	tx.u.register_validator.commission_bps = IST_WIRE_MAX_COMMISSION_BPS + 1;
	ck_assert_int_eq(ist_wire_tx_encode(&tx, &enc, &len), -IST_ETOOBIG);
	for (uint32_t bps = IST_WIRE_MAX_COMMISSION_BPS; bps <= IST_WIRE_MAX_COMMISSION_BPS + 1; bps++) {
		ist_buf_init(&body, 0);
		pbw_bytes(&body, 1, z, 32);
		pbw_bytes(&body, 2, z, 33);
		pbw_bytes(&body, 3, z, 32);
		pbw_bytes(&body, 4, "x", 1);
		pbw_u64(&body, 5, bps);
		ist_buf_init(&b, 0);
		pbw_bytes(&b, 2, z, 32);
		pbw_bytes(&b, 5, z, 64);
		pbw_msg(&b, 11, &body);
		ist_buf_fini(&body);
		p = take(&b, &len);
		if (bps == IST_WIRE_MAX_COMMISSION_BPS) {
			struct ist_tx *dec;
			ck_assert_int_eq(ist_wire_tx_decode(p, len, &dec, NULL), 0);
			ck_assert_uint_eq(dec->u.register_validator.commission_bps, bps);
			ist_wire_tx_free(dec);
		} else {
			DECODE_FAILS(tx, p, len, -IST_ETOOBIG, "tx.register_validator.commission_bps: over 10000");
		}
		free(p);
	}
}
END_TEST

/* A block encoding of the sample block followed by extra raw items. */
static uint8_t *block_plus(size_t n_items, const struct ist_buf *extra_items, size_t *ret_len)
{
	struct ist_block *blk = zalloc(sizeof(*blk));
	sample_block(blk, n_items);
	uint8_t *enc;
	size_t len;
	ck_assert_int_eq(ist_wire_block_encode(blk, &enc, &len), 0);
	ist_wire_block_free(blk);
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put(&b, enc, len);
	free(enc);
	if (extra_items)
		ist_buf_put(&b, extra_items->data, extra_items->len);
	return take(&b, ret_len);
}

START_TEST(test_limits_block)
{
	uint8_t *p, *enc;
	size_t len;
	struct ist_buf items, item;

	/* 1024 items decode; 1025 do not */
	struct ist_block *blk = zalloc(sizeof(*blk));
	sample_block(blk, IST_WIRE_MAX_BLOCK_ITEMS);
	ROUNDTRIP(block, blk);
	ist_wire_block_fini(blk);
	sample_block(blk, IST_WIRE_MAX_BLOCK_ITEMS + 1);
	ck_assert_int_eq(ist_wire_block_encode(blk, &enc, &len), -IST_ETOOBIG);
	ist_wire_block_free(blk);

	ist_buf_init(&item, 0);
	pbw_bytes(&item, 3, "e", 1);
	ist_buf_init(&items, 0);
	pbw_msg(&items, 9, &item);
	p = block_plus(IST_WIRE_MAX_BLOCK_ITEMS, &items, &len);
	DECODE_FAILS(block, p, len, -IST_ETOOBIG, "block.payload: too many items");
	free(p);
	ist_buf_fini(&items);
	ist_buf_fini(&item);

	/* opaque items: over their limit, or empty */
	static const struct {
		unsigned field;
		size_t max;
	} opaque[] = {
		{ 3, IST_WIRE_MAX_EVIDENCE_BYTES },
		{ 4, IST_WIRE_MAX_DKG_BYTES },
		{ 5, IST_WIRE_MAX_NONCE_COMMIT_BYTES },
		{ 6, IST_WIRE_MAX_DATA_BYTES },
	};
	uint8_t *big = calloc(1, IST_WIRE_MAX_EVIDENCE_BYTES + 1);
	ck_assert_ptr_nonnull(big);
	for (size_t i = 0; i < IST_ARRAY_SIZE(opaque); i++) {
		for (int over = 0; over <= 1; over++) {
			ist_buf_init(&item, 0);
			pbw_bytes(&item, opaque[i].field, big, opaque[i].max + (size_t)over);
			ist_buf_init(&items, 0);
			pbw_msg(&items, 9, &item);
			p = block_plus(1, &items, &len);
			struct ist_block *d = NULL;
			if (!over) {
				ck_assert_int_eq(ist_wire_block_decode(p, len, &d, NULL), 0);
				ck_assert_uint_eq(d->items[1].u.opaque.len, opaque[i].max);
				ist_wire_block_free(d);
			} else {
				DECODE_FAILS(block, p, len, -IST_ETOOBIG, "payload_item: opaque item too long");
			}
			free(p);
			ist_buf_fini(&items);
			ist_buf_fini(&item);
		}
		ist_buf_init(&item, 0);
		pbw_bytes(&item, opaque[i].field, "", 0);
		ist_buf_init(&items, 0);
		pbw_msg(&items, 9, &item);
		p = block_plus(1, &items, &len);
		DECODE_FAILS(block, p, len, -IST_EPARSE, "payload_item: opaque item empty");
		free(p);
		ist_buf_fini(&items);
		ist_buf_fini(&item);
	}
	free(big);

	/* a block over 1 MiB: refused by the encoder, and by a proposal that
	 * would carry it (the proposal's own limit is larger) */
	blk = zalloc(sizeof(*blk));
	sample_block(blk, 0);
	blk->n_items = 20;
	blk->items = calloc(blk->n_items, sizeof(*blk->items));
	ck_assert_ptr_nonnull(blk->items);
	for (size_t i = 0; i < blk->n_items; i++) {
		blk->items[i].kind = IST_PAYLOAD_DKG;
		blk->items[i].u.opaque.len = IST_WIRE_MAX_DKG_BYTES;
		blk->items[i].u.opaque.data = calloc(1, IST_WIRE_MAX_DKG_BYTES);
		ck_assert_ptr_nonnull(blk->items[i].u.opaque.data);
	}
	ck_assert_int_eq(ist_wire_block_encode(blk, &enc, &len), -IST_ETOOBIG);
	struct ist_proposal *prop = zalloc(sizeof(*prop));
	prop->block = *blk; /* borrowed */
	ck_assert_int_eq(ist_wire_proposal_encode(prop, &enc, &len), -IST_ETOOBIG);
	/* hand-made: a proposal whose block is 16 items of 64 KiB (over the
	 * block's limit, within the proposal's) */
	struct ist_block *small = zalloc(sizeof(*small));
	sample_block(small, 0);
	uint8_t *benc;
	size_t blen;
	ck_assert_int_eq(ist_wire_block_encode(small, &benc, &blen), 0);
	ist_wire_block_free(small);
	struct ist_buf block;
	ist_buf_init(&block, 0);
	ist_buf_put(&block, benc, blen);
	free(benc);
	for (size_t i = 0; i < 16; i++) {
		ist_buf_init(&item, 0);
		pbw_bytes(&item, 4, blk->items[i].u.opaque.data, IST_WIRE_MAX_DKG_BYTES);
		pbw_msg(&block, 9, &item);
		ist_buf_fini(&item);
	}
	ck_assert_uint_gt(block.len, IST_WIRE_MAX_BLOCK_BYTES);
	struct ist_buf b;
	ist_buf_init(&b, 0);
	pbw_msg(&b, 1, &block);
	uint8_t z[128] = { 0 };
	pbw_bytes(&b, 3, z, 64);
	ist_buf_fini(&block);
	p = take(&b, &len);
	ck_assert_uint_le(len, IST_WIRE_MAX_PROPOSAL_BYTES);
	DECODE_FAILS(proposal, p, len, -IST_ETOOBIG, "proposal.block: too big");
	free(p);
	ist_wire_block_free(blk);
	free(prop);
}
END_TEST

START_TEST(test_decode_memory_budget)
{
	/* 1 MiB of empty payload items (2 bytes each on the wire, tens of bytes
	 * each unpacked) trips the budget instead of allocating ~20 MiB */
	struct ist_buf items;
	ist_buf_init(&items, 0);
	while (items.len + 2 <= IST_WIRE_MAX_BLOCK_BYTES - 4096)
		ist_buf_put(&items, "\x4a\x00", 2);
	size_t len;
	uint8_t *p = block_plus(0, &items, &len);
	ist_buf_fini(&items);
	ck_assert_uint_le(len, IST_WIRE_MAX_BLOCK_BYTES);
	DECODE_FAILS(block, p, len, -IST_ETOOBIG, "block: over the decoding memory budget");
	free(p);

	/* the same with unknown fields in a vote-sized budget */
	struct ist_buf b;
	ist_buf_init(&b, 0);
	while (b.len + 2 <= IST_WIRE_MAX_TX_BYTES)
		ist_buf_put(&b, "\xa8\x06", 2); /* field 101, varint ... */
	/* ... whose values are the next tag byte: a long run of unknown
	 * fields, all stored by protobuf-c */
	p = take(&b, &len);
	struct ist_tx *tx = NULL;
	int r = ist_wire_tx_decode(p, len, &tx, NULL);
	ck_assert(r < 0); /* no body and no sender: never valid, never a crash */
	free(p);
}
END_TEST

/* ---- Malformed and hostile input ---- */

/* Every proper prefix of a valid encoding fails for kinds whose last field
 * is required; for every kind, cutting the last byte fails. */
#define ALL_PREFIXES_FAIL(kind, x)                                                          \
	do {                                                                                \
		uint8_t *enc_;                                                              \
		size_t len_;                                                                \
		ck_assert_int_eq(ist_wire_##kind##_encode((x), &enc_, &len_), 0);           \
		for (size_t n_ = 0; n_ < len_; n_++) {                                      \
			uint8_t *cut_ = malloc(n_ ? n_ : 1);                                \
			ck_assert_ptr_nonnull(cut_);                                        \
			memcpy(cut_, enc_, n_);                                             \
			struct ist_##kind *d_ = NULL;                                       \
			int r_ = ist_wire_##kind##_decode(cut_, n_, &d_, NULL);             \
			ck_assert_msg(r_ < 0, "%s: prefix %zu of %zu decoded", #kind, n_, len_); \
			free(cut_);                                                         \
		}                                                                           \
		free(enc_);                                                                 \
	} while (0)

#define LAST_BYTE_CUT_FAILS(kind, x)                                                        \
	do {                                                                                \
		uint8_t *enc_;                                                              \
		size_t len_;                                                                \
		ck_assert_int_eq(ist_wire_##kind##_encode((x), &enc_, &len_), 0);           \
		DECODE_FAILS(kind, enc_, len_ - 1, -IST_EPARSE, #kind ": malformed protobuf"); \
		free(enc_);                                                                 \
	} while (0)

START_TEST(test_truncated)
{
	struct ist_vote v;
	sample_vote(&v);
	ALL_PREFIXES_FAIL(vote, &v);
	struct ist_checkpoint cp;
	sample_checkpoint(&cp, 1);
	ALL_PREFIXES_FAIL(checkpoint, &cp);
	struct ist_tx tx;
	sample_tx(&tx, IST_TX_REGISTER_VALIDATOR);
	ALL_PREFIXES_FAIL(tx, &tx);
	struct ist_timeout *t = zalloc(sizeof(*t));
	sample_timeout(t);
	ALL_PREFIXES_FAIL(timeout, t);
	free(t);
	struct ist_certificate *cert = zalloc(sizeof(*cert));
	sample_certificate_multisig(cert, 2);
	ALL_PREFIXES_FAIL(certificate, cert);
	free(cert);
	struct ist_delivery *d = zalloc(sizeof(*d));
	sample_delivery(d);
	ALL_PREFIXES_FAIL(delivery, d);
	ist_wire_delivery_free(d);
	struct ist_proposal *p = zalloc(sizeof(*p));
	sample_proposal(p, 2, 1);
	ALL_PREFIXES_FAIL(proposal, p);
	ist_wire_proposal_free(p);
	struct ist_envelope *e = zalloc(sizeof(*e));
	sample_envelope(e, IST_ENVELOPE_VOTE);
	ALL_PREFIXES_FAIL(envelope, e);

	/* the repeated or optional last fields: a cut inside them fails */
	struct ist_message m;
	sample_message(&m, 10);
	LAST_BYTE_CUT_FAILS(message, &m);
	ist_wire_message_fini(&m);
	struct ist_block *b = zalloc(sizeof(*b));
	sample_block(b, 3);
	LAST_BYTE_CUT_FAILS(block, b);
	ist_wire_block_free(b);
	struct ist_tc *tc = zalloc(sizeof(*tc));
	sample_tc(tc, 3);
	LAST_BYTE_CUT_FAILS(tc, tc);
	free(tc);
	/* (a QC cut before its signers is a valid QC without signatures, like
	 * the genesis QC; cut inside a signature it is not) */
	struct ist_qc *qc = zalloc(sizeof(*qc));
	sample_qc(qc, 3);
	LAST_BYTE_CUT_FAILS(qc, qc);
	free(qc);
	sample_envelope(e, IST_ENVELOPE_PROPOSAL);
	LAST_BYTE_CUT_FAILS(envelope, e);
	ist_wire_envelope_free(e);
}
END_TEST

START_TEST(test_garbage)
{
	static const struct {
		const char *bytes;
		size_t len;
	} junk[] = {
		{ "\xff\xff\xff\xff\xff\xff\xff\xff", 8 },                    /* endless varint tag */
		{ "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12 },   /* 11-byte varint */
		{ "\x1a\x20\x00", 3 },                                         /* length past the end */
		{ "\x1a\xff\xff\xff\xff\x0f", 6 },                             /* 4 GiB length */
		{ "\x0f", 1 },                                                 /* wire type 7 */
		{ "\x0b\x0c", 2 },                                             /* groups */
		{ "\x00\x00", 2 },                                             /* field number 0 */
		{ "\x0d\x01\x02", 3 },                                         /* short fixed32 */
		{ "GET / HTTP/1.1\r\n\r\n", 18 },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(junk); i++) {
		const uint8_t *g = (const uint8_t *)junk[i].bytes;
		size_t n = junk[i].len;
		DECODE_FAILS(message, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(checkpoint, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(certificate, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(delivery, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(tx, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(qc, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(tc, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(block, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(proposal, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(vote, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(timeout, g, n, -IST_EPARSE, NULL);
		DECODE_FAILS(envelope, g, n, -IST_EPARSE, NULL);
	}
	/* empty input: nothing required is there */
	DECODE_FAILS(vote, NULL, 0, -IST_EPARSE, "vote.block_id: wrong length");
	DECODE_FAILS(envelope, (const uint8_t *)"", 0, -IST_EPARSE, "envelope: missing kind");
	DECODE_FAILS(block, (const uint8_t *)"", 0, -IST_EPARSE, "block.parent_id: wrong length");

	/* a deterministic stream of random inputs: whatever decodes must
	 * round-trip (checked in depth by the fuzz targets) */
	uint64_t s = 0x9e3779b97f4a7c15ull;
	uint8_t buf[256];
	for (int i = 0; i < 2000; i++) {
		size_t n = (size_t)(i % 256);
		for (size_t k = 0; k < n; k++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			buf[k] = (uint8_t)s;
		}
		struct ist_envelope *e = NULL;
		const char *why = NULL;
		int r = ist_wire_envelope_decode(buf, n, &e, &why);
		if (r == 0)
			ist_wire_envelope_free(e);
		else
			ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(test_oneofs_and_enums)
{
	struct ist_buf b;
	size_t len;
	uint8_t *p;
	uint8_t z[128] = { 0 };

	/* an envelope of a kind from a newer version: unsupported */
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 9, "future", 6);
	p = take(&b, &len);
	DECODE_FAILS(envelope, p, len, -IST_EUNSUPPORTED, "envelope: unknown kind");
	free(p);

	/* a payload item of a newer kind */
	struct ist_buf item, items;
	ist_buf_init(&item, 0);
	pbw_bytes(&item, 20, "x", 1);
	ist_buf_init(&items, 0);
	pbw_msg(&items, 9, &item);
	p = block_plus(2, &items, &len);
	DECODE_FAILS(block, p, len, -IST_EUNSUPPORTED, "payload_item: unknown kind");
	free(p);
	ist_buf_fini(&items);
	ist_buf_fini(&item);
	/* an empty payload item */
	ist_buf_init(&items, 0);
	pbw_bytes(&items, 9, "", 0);
	p = block_plus(2, &items, &len);
	DECODE_FAILS(block, p, len, -IST_EPARSE, "payload_item: missing");
	free(p);
	ist_buf_fini(&items);

	/* a transaction without a body */
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 2, z, 32);
	pbw_bytes(&b, 5, z, 64);
	p = take(&b, &len);
	DECODE_FAILS(tx, p, len, -IST_EPARSE, "tx.body: missing");
	free(p);

	/* certificates: no scheme, an unknown scheme, a scheme that does not
	 * match its signatures */
	struct ist_buf fs;
	ist_buf_init(&fs, 0);
	pbw_bytes(&fs, 1, z, 32);
	pbw_bytes(&fs, 2, z, 64);
	static const struct {
		uint64_t scheme;
		int err;
		const char *why;
	} cases[] = {
		{ 0, -IST_EPARSE, "certificate.scheme: missing" },
		{ 3, -IST_EUNSUPPORTED, "certificate.scheme: unknown" },
		{ 1, -IST_EPARSE, "certificate: signatures do not match the scheme" },
		{ 2, 0, NULL },
	};
	for (size_t i = 0; i < IST_ARRAY_SIZE(cases); i++) {
		ist_buf_init(&b, 0);
		pbw_u64(&b, 1, cases[i].scheme);
		pbw_bytes(&b, 5, z, 32);
		pbw_msg(&b, 7, &fs);
		p = take(&b, &len);
		if (cases[i].err) {
			DECODE_FAILS(certificate, p, len, cases[i].err, cases[i].why);
		} else {
			struct ist_certificate *c;
			ck_assert_int_eq(ist_wire_certificate_decode(p, len, &c, NULL), 0);
			ck_assert_int_eq(c->scheme, IST_CERT_FROST_ED25519);
			ck_assert_uint_eq(c->n_sigs, 0);
			ist_wire_certificate_free(c);
		}
		free(p);
	}
	ist_buf_fini(&fs);

	/* required sub-messages */
	ist_buf_init(&b, 0);
	pbw_u64(&b, 1, 2);
	pbw_bytes(&b, 5, z, 64);
	p = take(&b, &len);
	DECODE_FAILS(timeout, p, len, -IST_EPARSE, "timeout.high_qc: missing");
	free(p);
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 3, z, 64);
	p = take(&b, &len);
	DECODE_FAILS(proposal, p, len, -IST_EPARSE, "proposal.block: missing");
	free(p);
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 5, z, 32);
	p = take(&b, &len);
	DECODE_FAILS(block, p, len, -IST_EPARSE, "block.justify: missing");
	free(p);

	/* the encoder refuses unknown kinds */
	uint8_t *enc;
	struct ist_envelope *e = zalloc(sizeof(*e));
	e->kind = 0;
	ck_assert_int_eq(ist_wire_envelope_encode(e, &enc, &len), -IST_EINVAL);
	free(e);
	struct ist_tx tx;
	sample_tx(&tx, IST_TX_BOND);
	tx.kind = 0;
	ck_assert_int_eq(ist_wire_tx_encode(&tx, &enc, &len), -IST_EINVAL);
	struct ist_certificate *cert = zalloc(sizeof(*cert));
	sample_certificate_frost(cert);
	cert->scheme = 0;
	ck_assert_int_eq(ist_wire_certificate_encode(cert, &enc, &len), -IST_EINVAL);
	free(cert);
	ck_assert_int_eq(ist_wire_vote_encode(NULL, &enc, &len), -IST_EINVAL);
}
END_TEST

START_TEST(test_bitmap)
{
	uint8_t bm[IST_WIRE_BITMAP_BYTES] = { 0 };
	ck_assert_uint_eq(ist_wire_bitmap_count(bm), 0);
	ck_assert_int_eq(ist_wire_bitmap_set(bm, 0), 0);
	ck_assert_int_eq(ist_wire_bitmap_set(bm, 9), 0);
	ck_assert_int_eq(ist_wire_bitmap_set(bm, 255), 0);
	ck_assert_int_eq(ist_wire_bitmap_set(bm, 256), -IST_ERANGE);
	/* least significant bit first */
	ck_assert_uint_eq(bm[0], 0x01);
	ck_assert_uint_eq(bm[1], 0x02);
	ck_assert_uint_eq(bm[31], 0x80);
	ck_assert(ist_wire_bitmap_get(bm, 9));
	ck_assert(!ist_wire_bitmap_get(bm, 8));
	ck_assert(!ist_wire_bitmap_get(bm, 256));
	ck_assert_uint_eq(ist_wire_bitmap_count(bm), 3);
}
END_TEST

START_TEST(test_free_null)
{
	ist_wire_message_free(NULL);
	ist_wire_message_fini(NULL);
	ist_wire_checkpoint_free(NULL);
	ist_wire_certificate_free(NULL);
	ist_wire_delivery_free(NULL);
	ist_wire_delivery_fini(NULL);
	ist_wire_tx_free(NULL);
	ist_wire_qc_free(NULL);
	ist_wire_tc_free(NULL);
	ist_wire_payload_item_fini(NULL);
	ist_wire_block_free(NULL);
	ist_wire_block_fini(NULL);
	ist_wire_proposal_free(NULL);
	ist_wire_proposal_fini(NULL);
	ist_wire_vote_free(NULL);
	ist_wire_timeout_free(NULL);
	ist_wire_envelope_free(NULL);
	ist_wire_envelope_fini(NULL);
}
END_TEST

START_TEST(test_sync_kinds_limits)
{
	struct ist_envelope *e = zalloc(sizeof(*e));
	uint8_t *enc = NULL;
	size_t len = 0;
	struct ist_envelope *d = NULL;
	const char *why = NULL;

	/* a request for 0 or too many blocks neither encodes nor decodes */
	sample_envelope(e, IST_ENVELOPE_BLOCK_REQUEST);
	e->u.block_request.max_blocks = 0;
	ck_assert_int_eq(ist_wire_envelope_encode(e, &enc, &len), -IST_EINVAL);
	e->u.block_request.max_blocks = IST_WIRE_MAX_SYNC_BLOCKS + 1;
	ck_assert_int_eq(ist_wire_envelope_encode(e, &enc, &len), -IST_ETOOBIG);
	e->u.block_request.max_blocks = 1;
	ck_assert_int_eq(ist_wire_envelope_encode(e, &enc, &len), 0);
	ck_assert_int_eq(ist_wire_envelope_decode(enc, len, &d, &why), 0);
	ck_assert(ist_wire_envelope_equal(e, d));
	ist_wire_envelope_free(d);
	free(enc);

	/* a response: without blocks, with too many, without a QC */
	sample_envelope(e, IST_ENVELOPE_BLOCK_RESPONSE);
	size_t n = e->u.block_response.n_blocks;
	e->u.block_response.n_blocks = 0;
	ck_assert_int_eq(ist_wire_envelope_encode(e, &enc, &len), -IST_EINVAL);
	e->u.block_response.n_blocks = IST_WIRE_MAX_SYNC_BLOCKS + 1;
	ck_assert_int_eq(ist_wire_envelope_encode(e, &enc, &len), -IST_ETOOBIG);
	e->u.block_response.n_blocks = n;
	e->u.block_response.has_qc = false;
	memset(&e->u.block_response.qc, 0, sizeof(e->u.block_response.qc));
	ck_assert_int_eq(ist_wire_envelope_encode(e, &enc, &len), 0);
	ck_assert_int_eq(ist_wire_envelope_decode(enc, len, &d, &why), 0);
	ck_assert(ist_wire_envelope_equal(e, d));
	ck_assert(!d->u.block_response.has_qc);
	ist_wire_envelope_free(d);
	free(enc);
	/* every prefix fails, never crashes (ASan) */
	ck_assert_int_eq(ist_wire_envelope_encode(e, &enc, &len), 0);
	for (size_t k = 0; k < len; k++) {
		d = NULL;
		if (ist_wire_envelope_decode(enc, k, &d, &why) == 0)
			ist_wire_envelope_free(d);
	}
	free(enc);
	ist_wire_envelope_free(e);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_roundtrip_attest_side);
	tcase_add_test(tc, test_roundtrip_tx);
	tcase_add_test(tc, test_roundtrip_consensus);
	tcase_add_test(tc, test_equal_sees_every_field);
	tcase_add_test(tc, test_golden_message);
	tcase_add_test(tc, test_golden_checkpoint_and_attest);
	tcase_add_test(tc, test_pause_leaf);
	tcase_add_test(tc, test_golden_vote_timeout);
	tcase_add_test(tc, test_golden_tx);
	tcase_add_test(tc, test_golden_block_and_proposal);
	tcase_add_test(tc, test_batch_root);
	tcase_add_test(tc, test_reordered_encoding_same_canonical);
	tcase_add_test(tc, test_fixed_lengths);
	tcase_add_test(tc, test_limits_signatures);
	tcase_add_test(tc, test_limits_sizes);
	tcase_add_test(tc, test_limits_block);
	tcase_add_test(tc, test_decode_memory_budget);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_garbage);
	tcase_add_test(tc, test_oneofs_and_enums);
	tcase_add_test(tc, test_bitmap);
	tcase_add_test(tc, test_free_null);
	tcase_add_test(tc, test_sync_kinds_limits);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
