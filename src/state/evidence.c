/* Evidence of misbehaviour: encoding and verification (evidence.h). */
#include "state/evidence.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "crypto/merkle.h"
#include "crypto/tags.h"
#include "wire/canonical.h"

const char *ist_evidence_kind_name(uint8_t kind)
{
	switch (kind) {
	case IST_EVIDENCE_DOUBLE_VOTE:
		return "double-vote";
	case IST_EVIDENCE_CONFLICTING_CHECKPOINTS:
		return "conflicting-checkpoints";
	case IST_EVIDENCE_FINALITY_REPORT:
		return "finality-report";
	default:
		return "unknown";
	}
}

void ist_evidence_id(const uint8_t *p, size_t len, uint8_t ret_id32[IST_HASH_BYTES])
{
	ist_tagged_hash(IST_TAG_EVIDENCE, p, len, ret_id32);
}

/* ---- decoding ---- */


/* A decoding refusal: its reason in *why. */
static int refuse(const char **why, const char *msg)
{
	*why = msg;
	return -IST_EPARSE;
}

static int cp_from_bytes(const uint8_t b[IST_WIRE_CHECKPOINT_BYTES], struct ist_checkpoint *cp)
{
	size_t tl = strlen(IST_TAG_CHECKPOINT);
	if (memcmp(b, IST_TAG_CHECKPOINT, tl) != 0)
		return -IST_EPARSE;
	cp->src_chain = ist_get_be64(b + tl);
	cp->dst_chain = ist_get_be64(b + tl + 8);
	cp->src_height = ist_get_be64(b + tl + 16);
	cp->tree_size = ist_get_be64(b + tl + 24);
	memcpy(cp->root, b + tl + 32, IST_HASH_BYTES);
	return 0;
}

static int rd_signed_cp(struct ist_cur *r, struct ist_evidence_signed_cp *s, const char **why)
{
	s->epoch = ist_cur_be64(r);
	s->height = ist_cur_be64(r);
	ist_cur_get(r, s->batch_root, IST_HASH_BYTES);
	s->signer = ist_cur_be32(r);
	ist_cur_get(r, s->sig, IST_SECP_SIG_BYTES);
	uint8_t cpb[IST_WIRE_CHECKPOINT_BYTES];
	ist_cur_get(r, cpb, sizeof(cpb));
	s->proof.leaf_index = ist_cur_be64(r);
	s->proof.tree_size = ist_cur_be64(r);
	const uint8_t *pl = ist_cur_ptr(r, 1);
	if (r->failed)
		return refuse(why, "truncated");
	if (cp_from_bytes(cpb, &s->cp) < 0)
		return refuse(why, "checkpoint bytes without the checkpoint tag");
	if (*pl > IST_WIRE_MAX_PROOF_DEPTH)
		return refuse(why, "proof longer than the deepest tree");
	s->proof.path_len = *pl;
	for (size_t i = 0; i < s->proof.path_len; i++)
		ist_cur_get(r, s->proof.path[i], IST_HASH_BYTES);
	if (r->failed)
		return refuse(why, "truncated");
	if (s->signer >= IST_WIRE_MAX_VALIDATORS)
		return refuse(why, "signer index out of range");
	return 0;
}

static int cp_order(const struct ist_evidence_signed_cp *a, const struct ist_evidence_signed_cp *b)
{
	if (a->epoch != b->epoch)
		return a->epoch < b->epoch ? -1 : 1;
	if (a->height != b->height)
		return a->height < b->height ? -1 : 1;
	return memcmp(a->batch_root, b->batch_root, IST_HASH_BYTES);
}

int ist_evidence_decode(const uint8_t *p, size_t len, struct ist_evidence *ret, const char **ret_why)
{
	const char *why_local = NULL, **why = ret_why ? ret_why : &why_local;
	struct ist_evidence ev;
	memset(&ev, 0, sizeof(ev));
	struct ist_cur r;
	ist_cur_init(&r, p, len);
	if (!len || len > IST_EVIDENCE_MAX_BYTES)
		return refuse(why, len ? "longer than any evidence" : "empty");
	ev.kind = p[0];
	ist_cur_ptr(&r, 1);
	switch (ev.kind) {
	case IST_EVIDENCE_DOUBLE_VOTE:
		ev.u.vote.epoch = ist_cur_be64(&r);
		ev.u.vote.view = ist_cur_be64(&r);
		ev.u.vote.voter = ist_cur_be32(&r);
		ist_cur_get(&r, ev.u.vote.block_a, IST_HASH_BYTES);
		ist_cur_get(&r, ev.u.vote.sig_a, IST_SIG_BYTES);
		ist_cur_get(&r, ev.u.vote.block_b, IST_HASH_BYTES);
		ist_cur_get(&r, ev.u.vote.sig_b, IST_SIG_BYTES);
		if (r.failed)
			return refuse(why, "truncated");
		if (ev.u.vote.voter >= IST_WIRE_MAX_VALIDATORS)
			return refuse(why, "voter index out of range");
		if (memcmp(ev.u.vote.block_a, ev.u.vote.block_b, IST_HASH_BYTES) >= 0)
			return refuse(why, "the two block ids are equal or not in increasing order");
		break;
	case IST_EVIDENCE_CONFLICTING_CHECKPOINTS:
		if (rd_signed_cp(&r, &ev.u.cps.a, why) < 0 || rd_signed_cp(&r, &ev.u.cps.b, why) < 0)
			return -IST_EPARSE;
		if (cp_order(&ev.u.cps.a, &ev.u.cps.b) >= 0)
			return refuse(why, "the two signed checkpoints are equal or not in canonical order");
		break;
	case IST_EVIDENCE_FINALITY_REPORT:
		ev.u.report.network_id = ist_cur_be64(&r);
		ev.u.report.chain = ist_cur_be64(&r);
		ev.u.report.height = ist_cur_be64(&r);
		ist_cur_get(&r, ev.u.report.observed, IST_HASH_BYTES);
		ist_cur_get(&r, ev.u.report.rewritten, IST_HASH_BYTES);
		ist_cur_get(&r, ev.u.report.reporter, IST_ED25519_PUBKEY_BYTES);
		ist_cur_get(&r, ev.u.report.sig, IST_SIG_BYTES);
		if (r.failed)
			return refuse(why, "truncated");
		if (!ev.u.report.chain)
			return refuse(why, "a finality report for chain 0 (chain ids are 1 or more)");
		if (!memcmp(ev.u.report.observed, ev.u.report.rewritten, IST_HASH_BYTES))
			return refuse(why, "a finality report whose two hashes are equal (no violation)");
		break;
	default:
		return refuse(why, "unknown evidence kind");
	}
	if (r.len)
		return refuse(why, "trailing bytes");
	*ret = ev;
	return 0;
}

/* ---- encoding ---- */

static void put_signed_cp(struct ist_buf *out, const struct ist_evidence_signed_cp *s)
{
	uint8_t cpb[IST_WIRE_CHECKPOINT_BYTES];
	ist_buf_put_be64(out, s->epoch);
	ist_buf_put_be64(out, s->height);
	ist_buf_put(out, s->batch_root, IST_HASH_BYTES);
	ist_buf_put_be32(out, s->signer);
	ist_buf_put(out, s->sig, IST_SECP_SIG_BYTES);
	ist_wire_checkpoint_bytes(&s->cp, cpb);
	ist_buf_put(out, cpb, sizeof(cpb));
	ist_buf_put_be64(out, s->proof.leaf_index);
	ist_buf_put_be64(out, s->proof.tree_size);
	uint8_t pl = (uint8_t)s->proof.path_len;
	ist_buf_put(out, &pl, 1);
	for (size_t i = 0; i < s->proof.path_len; i++)
		ist_buf_put(out, s->proof.path[i], IST_HASH_BYTES);
}

void ist_evidence_normalize(struct ist_evidence *ev)
{
	if (ev->kind == IST_EVIDENCE_DOUBLE_VOTE &&
	    memcmp(ev->u.vote.block_a, ev->u.vote.block_b, IST_HASH_BYTES) > 0) {
		uint8_t b[IST_HASH_BYTES], s[IST_SIG_BYTES];
		memcpy(b, ev->u.vote.block_a, sizeof(b));
		memcpy(s, ev->u.vote.sig_a, sizeof(s));
		memcpy(ev->u.vote.block_a, ev->u.vote.block_b, sizeof(b));
		memcpy(ev->u.vote.sig_a, ev->u.vote.sig_b, sizeof(s));
		memcpy(ev->u.vote.block_b, b, sizeof(b));
		memcpy(ev->u.vote.sig_b, s, sizeof(s));
	} else if (ev->kind == IST_EVIDENCE_CONFLICTING_CHECKPOINTS && cp_order(&ev->u.cps.a, &ev->u.cps.b) > 0) {
		struct ist_evidence_signed_cp t = ev->u.cps.a;
		ev->u.cps.a = ev->u.cps.b;
		ev->u.cps.b = t;
	}
}

int ist_evidence_encode(const struct ist_evidence *ev, struct ist_buf *out)
{
	ist_buf_put(out, &ev->kind, 1);
	switch (ev->kind) {
	case IST_EVIDENCE_DOUBLE_VOTE:
		if (memcmp(ev->u.vote.block_a, ev->u.vote.block_b, IST_HASH_BYTES) >= 0)
			return -IST_EINVAL;
		ist_buf_put_be64(out, ev->u.vote.epoch);
		ist_buf_put_be64(out, ev->u.vote.view);
		ist_buf_put_be32(out, ev->u.vote.voter);
		ist_buf_put(out, ev->u.vote.block_a, IST_HASH_BYTES);
		ist_buf_put(out, ev->u.vote.sig_a, IST_SIG_BYTES);
		ist_buf_put(out, ev->u.vote.block_b, IST_HASH_BYTES);
		ist_buf_put(out, ev->u.vote.sig_b, IST_SIG_BYTES);
		break;
	case IST_EVIDENCE_CONFLICTING_CHECKPOINTS:
		if (cp_order(&ev->u.cps.a, &ev->u.cps.b) >= 0 || ev->u.cps.a.proof.path_len > IST_WIRE_MAX_PROOF_DEPTH ||
		    ev->u.cps.b.proof.path_len > IST_WIRE_MAX_PROOF_DEPTH)
			return -IST_EINVAL;
		put_signed_cp(out, &ev->u.cps.a);
		put_signed_cp(out, &ev->u.cps.b);
		break;
	case IST_EVIDENCE_FINALITY_REPORT:
		if (!ev->u.report.chain || !memcmp(ev->u.report.observed, ev->u.report.rewritten, IST_HASH_BYTES))
			return -IST_EINVAL;
		ist_buf_put_be64(out, ev->u.report.network_id);
		ist_buf_put_be64(out, ev->u.report.chain);
		ist_buf_put_be64(out, ev->u.report.height);
		ist_buf_put(out, ev->u.report.observed, IST_HASH_BYTES);
		ist_buf_put(out, ev->u.report.rewritten, IST_HASH_BYTES);
		ist_buf_put(out, ev->u.report.reporter, IST_ED25519_PUBKEY_BYTES);
		ist_buf_put(out, ev->u.report.sig, IST_SIG_BYTES);
		break;
	default:
		return -IST_EINVAL;
	}
	return ist_buf_err(out);
}

void ist_evidence_epochs(const struct ist_evidence *ev, uint64_t *ret_a, uint64_t *ret_b)
{
	if (ev->kind == IST_EVIDENCE_CONFLICTING_CHECKPOINTS) {
		*ret_a = ev->u.cps.a.epoch;
		*ret_b = ev->u.cps.b.epoch;
	} else if (ev->kind == IST_EVIDENCE_FINALITY_REPORT) {
		*ret_a = *ret_b = 0;
	} else {
		*ret_a = *ret_b = ev->u.vote.epoch;
	}
}

/* ---- verification ---- */

static bool fail(char *why, size_t why_len, const char *msg)
{
	snprintf(why, why_len, "%s", msg);
	return false;
}

static bool signed_cp_ok(const struct ist_evidence_signed_cp *s, const struct ist_evidence_set *set, char *why,
			 size_t why_len)
{
	if (s->epoch != set->epoch)
		return fail(why, why_len, "a signed checkpoint's epoch is not its set's");
	if (s->signer >= set->n)
		return fail(why, why_len, "signer index beyond the epoch's set");
	uint8_t digest[IST_HASH_BYTES], leaf[IST_HASH_BYTES];
	ist_wire_attest_digest(set->network_id, s->epoch, s->height, s->batch_root, digest);
	if (!ist_secp_verify(set->attest_keys[s->signer], digest, s->sig))
		return fail(why, why_len, "an attestation signature does not verify with the signer's key");
	ist_wire_checkpoint_leaf_hash(&s->cp, leaf);
	if (!ist_merkle_verify_inclusion(leaf, s->proof.leaf_index, s->proof.tree_size,
					 (const uint8_t (*)[IST_HASH_BYTES])s->proof.path, s->proof.path_len,
					 s->batch_root))
		return fail(why, why_len, "a checkpoint is not in the batch root its signature covers");
	return true;
}

bool ist_evidence_verify(const struct ist_evidence *ev, const struct ist_evidence_set *set_a,
			 const struct ist_evidence_set *set_b, uint8_t ret_offender[IST_ED25519_PUBKEY_BYTES],
			 char *why, size_t why_len)
{
	if (ev->kind == IST_EVIDENCE_DOUBLE_VOTE) {
		const struct ist_evidence_set *s = set_a;
		if (ev->u.vote.epoch != s->epoch)
			return fail(why, why_len, "the votes' epoch is not the set's");
		if (ev->u.vote.voter >= s->n)
			return fail(why, why_len, "voter index beyond the epoch's set");
		if (!memcmp(ev->u.vote.block_a, ev->u.vote.block_b, IST_HASH_BYTES))
			return fail(why, why_len, "the two votes are for the same block");
		uint8_t m[IST_WIRE_VOTE_SIGNING_BYTES];
		const uint8_t *key = s->node_keys[ev->u.vote.voter];
		ist_wire_vote_signing_bytes(s->network_id, ev->u.vote.epoch, ev->u.vote.view, ev->u.vote.block_a, m);
		if (!ist_ed25519_verify(key, m, sizeof(m), ev->u.vote.sig_a))
			return fail(why, why_len, "the first vote's signature does not verify with the voter's key");
		ist_wire_vote_signing_bytes(s->network_id, ev->u.vote.epoch, ev->u.vote.view, ev->u.vote.block_b, m);
		if (!ist_ed25519_verify(key, m, sizeof(m), ev->u.vote.sig_b))
			return fail(why, why_len, "the second vote's signature does not verify with the voter's key");
		memcpy(ret_offender, key, IST_ED25519_PUBKEY_BYTES);
		return true;
	}
	if (ev->kind == IST_EVIDENCE_FINALITY_REPORT)
		return fail(why, why_len, "a finality report accuses nobody");
	if (ev->kind != IST_EVIDENCE_CONFLICTING_CHECKPOINTS)
		return fail(why, why_len, "unknown evidence kind");
	const struct ist_evidence_signed_cp *a = &ev->u.cps.a, *b = &ev->u.cps.b;
	if (a->cp.src_chain != b->cp.src_chain || a->cp.dst_chain != b->cp.dst_chain)
		return fail(why, why_len, "the two checkpoints are for different routes");
	if (a->cp.tree_size != b->cp.tree_size)
		return fail(why, why_len, "the two checkpoints are for different tree sizes");
	if (!memcmp(a->cp.root, b->cp.root, IST_HASH_BYTES))
		return fail(why, why_len, "the two checkpoints have the same root: no conflict");
	if (!signed_cp_ok(a, set_a, why, why_len) || !signed_cp_ok(b, set_b, why, why_len))
		return false;
	if (memcmp(set_a->node_keys[a->signer], set_b->node_keys[b->signer], IST_ED25519_PUBKEY_BYTES) != 0)
		return fail(why, why_len, "the two checkpoints are signed by different validators");
	memcpy(ret_offender, set_a->node_keys[a->signer], IST_ED25519_PUBKEY_BYTES);
	return true;
}

/* ---- finality reports ---- */

void ist_evidence_report_signing_bytes(const struct ist_evidence *ev,
				       uint8_t ret[IST_EVIDENCE_REPORT_SIGNING_BYTES])
{
	size_t tl = sizeof(IST_TAG_FINALITY_REPORT) - 1;
	memcpy(ret, IST_TAG_FINALITY_REPORT, tl);
	ist_put_be64(ret + tl, ev->u.report.network_id);
	ist_put_be64(ret + tl + 8, ev->u.report.chain);
	ist_put_be64(ret + tl + 16, ev->u.report.height);
	memcpy(ret + tl + 24, ev->u.report.observed, IST_HASH_BYTES);
	memcpy(ret + tl + 24 + IST_HASH_BYTES, ev->u.report.rewritten, IST_HASH_BYTES);
	memcpy(ret + tl + 24 + 2 * IST_HASH_BYTES, ev->u.report.reporter, IST_ED25519_PUBKEY_BYTES);
}

bool ist_evidence_report_verify(const struct ist_evidence *ev, uint64_t network_id, char *why, size_t why_len)
{
	if (ev->kind != IST_EVIDENCE_FINALITY_REPORT)
		return fail(why, why_len, "not a finality report");
	if (ev->u.report.network_id != network_id)
		return fail(why, why_len, "a finality report of another network");
	uint8_t m[IST_EVIDENCE_REPORT_SIGNING_BYTES];
	ist_evidence_report_signing_bytes(ev, m);
	if (!ist_ed25519_verify(ev->u.report.reporter, m, sizeof(m), ev->u.report.sig))
		return fail(why, why_len, "the finality report's signature does not verify with the reporter's node key");
	return true;
}
