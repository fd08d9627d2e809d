/*
 * Epoch hand-over (state/verify.h) with real keys, signatures and RFC 9162
 * trees (tests/state/fixture.h): a good hand-over in both schemes; every
 * refusal with its reason (an epoch skipped or repeated, another network,
 * the leaf not the last of the batch tree, the leaf of another set, a
 * certificate by a set the verifier does not trust or of another epoch, too
 * little stake); three hand-overs followed in a row, then a delivery of the
 * last set; and the hand-over document: round trip, and one error of each
 * class, naming the field.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/crypto.h"
#include "fixture.h"
#include "lib/ist_test.h"
#include "state/verify.h"
#include "crypto/merkle.h"
#include "wire/codec.h"

#define MS IST_VERIFY_ACCEPT_MULTISIG
#define ALL (IST_VERIFY_ACCEPT_MULTISIG | IST_VERIFY_ACCEPT_FROST)

/* Epoch e's spec: n validators with keys of seed 100 + e. */
static struct fx_spec *spec_of(uint64_t epoch, size_t n)
{
	struct fx_spec *s = calloc(1, sizeof(*s));
	ck_assert_ptr_nonnull(s);
	fx_spec_default(s, n, 100 + epoch);
	s->epoch = epoch;
	s->height = 30 * (epoch + 1);
	return s;
}

static struct ist_valset *set_of(const struct fx_spec *s)
{
	struct ist_valset *vs = calloc(1, sizeof(*vs));
	ck_assert_ptr_nonnull(vs);
	ck_assert_int_eq(fx_valset(s, vs), 0);
	return vs;
}

static struct ist_handover *handover_new(void)
{
	struct ist_handover *h = calloc(1, sizeof(*h));
	ck_assert_ptr_nonnull(h);
	return h;
}

static void expect(const struct ist_valset *trusted, const struct ist_handover *h, unsigned accept,
		   enum ist_verify_reason want, const char *what)
{
	struct ist_verify_result res;
	bool ok = ist_verify_handover(trusted, &h->next, &h->proof, &h->cert, accept, &res);
	ck_assert_msg(res.reason == want, "%s: reason %s (%s), want %s", what, ist_verify_reason_name(res.reason),
		      res.detail, ist_verify_reason_name(want));
	ck_assert_int_eq(ok, want == IST_VERIFY_OK);
	if (want != IST_VERIFY_OK)
		ck_assert_msg(res.detail[0] != '\0', "%s: no detail", what);
}

static void setup(void)
{
	ck_assert_int_eq(ist_crypto_init(), 0);
}

START_TEST(test_good)
{
	struct fx_spec *s0 = spec_of(0, 4), *s1 = spec_of(1, 5);
	struct ist_valset *v0 = set_of(s0), *v1 = set_of(s1);
	struct ist_handover *h = handover_new();
	/* 0 to 7 checkpoints before the leaf: trees of every shape */
	for (size_t k = 0; k < 8; k++) {
		ck_assert_int_eq(fx_handover(s0, v1, k, k, h), 0);
		struct ist_verify_result res;
		ck_assert(ist_verify_handover(v0, v1, &h->proof, &h->cert, MS, &res));
		ck_assert_int_eq(res.reason, IST_VERIFY_OK);
		ck_assert_str_eq(res.detail, "");
		ck_assert_uint_eq(res.signed_stake, 4000);
		ck_assert(ist_verify_handover(v0, v1, &h->proof, &h->cert, MS, NULL));
	}
	/* FROST: the certificate of the outgoing group key */
	s0->scheme = IST_CERT_FROST_ED25519;
	ck_assert_int_eq(fx_handover(s0, v1, 2, 2, h), 0);
	expect(v0, h, ALL, IST_VERIFY_OK, "frost");
	expect(v0, h, MS, IST_VERIFY_SCHEME, "frost not accepted");
	free(h);
	free(v0);
	free(v1);
	free(s0);
	free(s1);
}
END_TEST

START_TEST(test_wrong_epoch)
{
	struct fx_spec *s0 = spec_of(0, 4), *s2 = spec_of(2, 4), *s0b = spec_of(0, 3);
	struct ist_valset *v0 = set_of(s0), *v2 = set_of(s2), *v0b = set_of(s0b);
	struct ist_handover *h = handover_new();
	/* an epoch skipped: epoch 0 hands over to epoch 2 */
	ck_assert_int_eq(fx_handover(s0, v2, 3, 3, h), 0);
	expect(v0, h, MS, IST_VERIFY_HANDOVER_EPOCH, "skips epoch 1");
	/* an epoch repeated: a set of epoch 0 "follows" epoch 0 */
	ck_assert_int_eq(fx_handover(s0, v0b, 3, 3, h), 0);
	expect(v0, h, MS, IST_VERIFY_HANDOVER_EPOCH, "repeats epoch 0");
	/* the next set of another network */
	struct fx_spec *s1 = spec_of(1, 4);
	s1->network_id = 9;
	struct ist_valset *v1 = set_of(s1);
	ck_assert_int_eq(fx_handover(s0, v1, 3, 3, h), 0);
	expect(v0, h, MS, IST_VERIFY_NETWORK, "another network");
	/* the last epoch there is has no next one */
	struct ist_valset *vmax = set_of(s0);
	vmax->epoch = UINT64_MAX;
	struct ist_valset *vz = set_of(s1);
	vz->network_id = 1337;
	vz->epoch = 0;
	ck_assert_int_eq(fx_handover(s0, vz, 1, 1, h), 0);
	expect(vmax, h, MS, IST_VERIFY_HANDOVER_EPOCH, "after epoch 2^64-1");
	free(h);
	free(v0);
	free(v2);
	free(v0b);
	free(v1);
	free(vmax);
	free(vz);
	free(s0);
	free(s2);
	free(s0b);
	free(s1);
}
END_TEST

START_TEST(test_not_last_leaf)
{
	struct fx_spec *s0 = spec_of(0, 4), *s1 = spec_of(1, 4);
	struct ist_valset *v0 = set_of(s0), *v1 = set_of(s1);
	struct ist_handover *h = handover_new();
	/* the leaf among the checkpoints, with a correct proof of where it is */
	for (size_t pos = 0; pos < 4; pos++) {
		ck_assert_int_eq(fx_handover(s0, v1, 4, pos, h), 0);
		/* a correct proof of where the leaf is: refused for its place */
		uint8_t leaf[IST_HASH_BYTES];
		ist_handover_leaf_hash(v1, leaf);
		ck_assert(ist_merkle_verify_inclusion(leaf, pos, 5, (const uint8_t (*)[IST_HASH_BYTES])h->proof.path,
						      h->proof.path_len, h->cert.batch_root));
		expect(v0, h, MS, IST_VERIFY_HANDOVER_PROOF, "leaf among the checkpoints");
	}
	/* a good proof that claims another shape */
	ck_assert_int_eq(fx_handover(s0, v1, 4, 4, h), 0);
	h->proof.tree_size = 6;
	expect(v0, h, MS, IST_VERIFY_HANDOVER_PROOF, "not the last of a larger tree");
	h->proof.tree_size = 0;
	h->proof.leaf_index = UINT64_MAX;
	expect(v0, h, MS, IST_VERIFY_HANDOVER_PROOF, "empty tree");
	/* a flipped bit in the path */
	ck_assert_int_eq(fx_handover(s0, v1, 4, 4, h), 0);
	h->proof.path[0][5] ^= 0x20;
	expect(v0, h, MS, IST_VERIFY_HANDOVER_PROOF, "path bit");
	free(h);
	free(v0);
	free(v1);
	free(s0);
	free(s1);
}
END_TEST

START_TEST(test_leaf_of_another_set)
{
	struct fx_spec *s0 = spec_of(0, 4), *s1 = spec_of(1, 4);
	struct ist_valset *v0 = set_of(s0), *v1 = set_of(s1);
	struct ist_handover *h = handover_new();
	ck_assert_int_eq(fx_handover(s0, v1, 2, 2, h), 0);
	expect(v0, h, MS, IST_VERIFY_OK, "untampered");
	struct ist_handover *t = handover_new();
	/* a stake raised (a relayer that wants to weigh a key more) */
	*t = *h;
	t->next.stakes[2] += 1;
	t->next.total += 1;
	expect(v0, t, MS, IST_VERIFY_HANDOVER_PROOF, "tampered stake");
	/* a key swapped for the relayer's own */
	*t = *h;
	memcpy(t->next.keys[0], v0->keys[0], IST_SECP_PUBKEY_BYTES);
	expect(v0, t, MS, IST_VERIFY_HANDOVER_PROOF, "tampered key");
	/* a validator dropped */
	*t = *h;
	t->next.n--;
	expect(v0, t, MS, IST_VERIFY_HANDOVER_PROOF, "validator dropped");
	/* the group key removed */
	*t = *h;
	t->next.has_group_key = false;
	expect(v0, t, MS, IST_VERIFY_HANDOVER_PROOF, "group key dropped");
	free(t);
	free(h);
	free(v0);
	free(v1);
	free(s0);
	free(s1);
}
END_TEST

START_TEST(test_untrusted_certificate)
{
	struct fx_spec *s0 = spec_of(0, 4), *s1 = spec_of(1, 4);
	struct ist_valset *v0 = set_of(s0), *v1 = set_of(s1);
	struct ist_handover *h = handover_new();
	/* a set of epoch 0 with other keys certifies the hand-over */
	struct fx_spec *fake = spec_of(0, 4);
	fx_spec_default(fake, 4, 999);
	fake->height = s0->height;
	ck_assert_int_eq(fx_handover(fake, v1, 3, 3, h), 0);
	expect(v0, h, MS, IST_VERIFY_BAD_SIGNATURE, "another set's keys");
	/* the incoming set certifies itself */
	struct fx_spec *self = spec_of(1, 4);
	self->epoch = 0;
	ck_assert_int_eq(fx_handover(self, v1, 3, 3, h), 0);
	expect(v0, h, MS, IST_VERIFY_BAD_SIGNATURE, "self-certified");
	/* the right keys, a certificate of another epoch */
	s0->epoch = 5;
	ck_assert_int_eq(fx_handover(s0, v1, 3, 3, h), 0);
	expect(v0, h, MS, IST_VERIFY_UNKNOWN_EPOCH, "certificate of epoch 5");
	s0->epoch = 0;
	/* too little stake: 2 of 4 sign */
	memset(s0->signers, 0, sizeof(s0->signers));
	ck_assert_int_eq(ist_wire_bitmap_set(s0->signers, 0), 0);
	ck_assert_int_eq(ist_wire_bitmap_set(s0->signers, 3), 0);
	ck_assert_int_eq(fx_handover(s0, v1, 3, 3, h), 0);
	expect(v0, h, MS, IST_VERIFY_QUORUM, "2 of 4");
	/* a signature bit flipped */
	fx_spec_default(s0, 4, 100);
	ck_assert_int_eq(fx_handover(s0, v1, 3, 3, h), 0);
	h->cert.sigs[1][7] ^= 1;
	expect(v0, h, MS, IST_VERIFY_BAD_SIGNATURE, "signature bit");
	free(h);
	free(v0);
	free(v1);
	free(s0);
	free(s1);
	free(fake);
	free(self);
}
END_TEST

START_TEST(test_chain_of_three)
{
	struct fx_spec *s[4];
	struct ist_valset *v[4];
	for (uint64_t e = 0; e < 4; e++) {
		s[e] = spec_of(e, 3 + e);
		v[e] = set_of(s[e]);
	}
	struct ist_handover *h[3];
	for (int e = 0; e < 3; e++) {
		h[e] = handover_new();
		ck_assert_int_eq(fx_handover(s[e], v[e + 1], (size_t)e + 1, (size_t)e + 1, h[e]), 0);
	}
	/* a verifier that trusts epoch 0 follows 0 -> 1 -> 2 -> 3, each
	 * hand-over through the documents' JSON as a relayer carries them */
	struct ist_valset *trusted = calloc(1, sizeof(*trusted));
	ck_assert_ptr_nonnull(trusted);
	*trusted = *v[0];
	for (int e = 0; e < 3; e++) {
		/* the one after next is refused before the next one is trusted */
		if (e < 2) {
			struct ist_verify_result res;
			ck_assert(!ist_verify_handover(trusted, &h[e + 1]->next, &h[e + 1]->proof, &h[e + 1]->cert, MS, &res));
			ck_assert_int_eq(res.reason, IST_VERIFY_HANDOVER_EPOCH);
		}
		json_t *doc = NULL;
		ck_assert_int_eq(ist_handover_to_json(h[e], &doc), 0);
		char *text = json_dumps(doc, JSON_COMPACT);
		ck_assert_ptr_nonnull(text);
		struct ist_handover *back = handover_new();
		struct ist_json_err err;
		ck_assert_int_eq(ist_handover_parse(text, strlen(text), "doc", back, &err), 0);
		ck_assert(ist_verify_handover(trusted, &back->next, &back->proof, &back->cert, MS, NULL));
		*trusted = back->next;
		ck_assert_uint_eq(trusted->epoch, (uint64_t)e + 1);
		free(back);
		free(text);
		json_decref(doc);
	}
	/* a delivery of the last set verifies with what was followed; one of
	 * an earlier set does not */
	struct ist_delivery d;
	ck_assert_int_eq(fx_delivery(s[3], &d), 0);
	ck_assert(ist_verify_delivery(trusted, 2, MS, &d, NULL));
	ist_wire_delivery_fini(&d);
	ck_assert_int_eq(fx_delivery(s[2], &d), 0);
	struct ist_verify_result res;
	ck_assert(!ist_verify_delivery(trusted, 2, MS, &d, &res));
	ck_assert_int_eq(res.reason, IST_VERIFY_UNKNOWN_EPOCH);
	ist_wire_delivery_fini(&d);
	for (int e = 0; e < 4; e++) {
		free(s[e]);
		free(v[e]);
	}
	for (int e = 0; e < 3; e++)
		free(h[e]);
	free(trusted);
}
END_TEST

/* ---- the document ---- */

static char *doc_text(const struct ist_handover *h)
{
	json_t *doc = NULL;
	ck_assert_int_eq(ist_handover_to_json(h, &doc), 0);
	char *text = json_dumps(doc, JSON_COMPACT);
	ck_assert_ptr_nonnull(text);
	json_decref(doc);
	return text;
}

/* Replaces the first `from` of text with `to`. */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);
	ck_assert_msg(p != NULL, "no %s in the document", from);
	size_t n = strlen(text) - strlen(from) + strlen(to);
	char *out = malloc(n + 1);
	ck_assert_ptr_nonnull(out);
	size_t k = (size_t)(p - text);
	memcpy(out, text, k);
	strcpy(out + k, to);
	strcat(out, p + strlen(from));
	return out;
}

static void expect_doc_error(const char *text, int code, const char *field, const char *problem_part)
{
	struct ist_handover *h = handover_new();
	struct ist_json_err err;
	int r = ist_handover_parse(text, strlen(text), "doc.json", h, &err);
	char line[2048];
	ist_json_err_format(&err, line, sizeof(line));
	ck_assert_msg(r == code, "got %s (%s), want %s", ist_errname(r), line, ist_errname(code));
	ck_assert_msg(strcmp(err.field, field) == 0, "field %s, want %s (%s)", err.field, field, line);
	ck_assert_msg(strstr(err.problem, problem_part) != NULL, "problem %s lacks %s", err.problem, problem_part);
	free(h);
}

START_TEST(test_document)
{
	struct fx_spec *s2 = spec_of(2, 4), *s3 = spec_of(3, 4);
	struct ist_valset *v3 = set_of(s3);
	struct ist_handover *h = handover_new(), *back = handover_new();
	ck_assert_int_eq(fx_handover(s2, v3, 5, 5, h), 0);
	h->has_end_height = true;
	h->end_height = 120;
	char *text = doc_text(h);
	struct ist_json_err err;
	ck_assert_int_eq(ist_handover_parse(text, strlen(text), "doc.json", back, &err), 0);
	ck_assert_int_eq(memcmp(h, back, sizeof(*h)), 0);

	/* what a node serves: decimal strings, the set's fields for people */
	ck_assert_ptr_nonnull(strstr(text, "\"epoch\":3"));
	char *s = edit(text, "\"epoch\":3", "\"epoch\":\"3\"");
	ck_assert_int_eq(ist_handover_parse(s, strlen(s), "doc.json", back, &err), 0);
	ck_assert_uint_eq(back->epoch, 3);
	free(s);

	/* not certified yet */
	const char *cert_key = "\"certificate\":\"";
	char *c0 = strstr(text, cert_key);
	ck_assert_ptr_nonnull(c0);
	char *cend = strchr(c0 + strlen(cert_key), '"');
	char *nocert = malloc(strlen(text) + 8);
	ck_assert_ptr_nonnull(nocert);
	sprintf(nocert, "%.*s\"certificate\":null%s", (int)(c0 - text), text, cend + 1);
	ck_assert_int_eq(ist_handover_parse(nocert, strlen(nocert), "doc.json", back, &err), 0);
	ck_assert(back->has_handover && !back->has_certificate);
	json_t *round = NULL;
	ck_assert_int_eq(ist_handover_to_json(back, &round), 0);
	ck_assert(json_is_null(json_object_get(json_object_get(round, "handover"), "certificate")));
	json_decref(round);

	/* errors, each naming its field */
	expect_doc_error("[1]", -IST_ECONFIG, "", "must be a JSON object");
	expect_doc_error("{\"epoch\":", -IST_EPARSE, "", "invalid JSON");
	s = edit(text, "\"epoch\":3", "\"epoch\":4");
	expect_doc_error(s, -IST_ECONFIG, "epoch", "validator_set's epoch (3)");
	free(s);
	s = edit(text, "\"start_height\":", "\"start_heigth\":");
	expect_doc_error(s, -IST_ECONFIG, "start_heigth", "did you mean \"start_height\"");
	free(s);
	s = edit(text, "\"end_height\":120", "\"end_height\":1");
	expect_doc_error(s, -IST_ECONFIG, "end_height", "start_height");
	free(s);
	s = edit(text, "\"stake\":1000", "\"stake\":0");
	expect_doc_error(s, -IST_ECONFIG, "validator_set.validators[0].stake", "positive");
	free(s);
	s = edit(text, "isthmus-validator-set/v1", "isthmus-validator-set/v9");
	expect_doc_error(s, -IST_EUNSUPPORTED, "validator_set.format", "must be");
	free(s);
	s = edit(text, "\"leaf\":\"", "\"leaf\":\"00");
	expect_doc_error(s, -IST_ECONFIG, "handover.leaf", "64 hex digits");
	free(s);
	/* the leaf of another set: stake 1000 of validator 0 now 1001 (the
	 * total follows) */
	s = edit(text, "\"stake\":1000", "\"stake\":1001");
	expect_doc_error(s, -IST_ECONFIG, "handover.leaf", "not the hand-over leaf");
	free(s);
	s = edit(text, "\"tree_size\":6", "\"tree_size\":[]");
	expect_doc_error(s, -IST_ECONFIG, "handover.proof.tree_size", "");
	free(s);
	s = edit(text, "\"path\":[\"", "\"path\":[\"zz");
	expect_doc_error(s, -IST_ECONFIG, "handover.proof.path[0]", "64 hex digits");
	free(s);
	s = edit(text, cert_key, "\"certificate\":\"0a");
	expect_doc_error(s, -IST_EPARSE, "handover.certificate", "not a valid Certificate");
	free(s);
	/* a hand-over for epoch 0, none for a later one */
	json_t *nd = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(nd);
	ck_assert_int_eq(json_object_set_new(nd, "handover", json_null()), 0);
	s = json_dumps(nd, JSON_COMPACT);
	expect_doc_error(s, -IST_ECONFIG, "handover", "must not be null for epoch 3");
	free(s);
	json_decref(nd);

	/* nested in a request body: the paths say where */
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, "request body", &err);
	char *body = malloc(strlen(text) + 32);
	ck_assert_ptr_nonnull(body);
	s = edit(text, "\"stake\":1000", "\"stake\":0");
	sprintf(body, "{\"handover\":%s}", s);
	free(s);
	json_t *root = ist_json_parse(&jr, body, strlen(body));
	ck_assert_ptr_nonnull(root);
	ist_handover_read(&jr, json_object_get(root, "handover"), "handover", back);
	ck_assert_int_eq(ist_json_code(&jr), -IST_ECONFIG);
	ck_assert_str_eq(err.field, "handover.validator_set.validators[0].stake");
	json_decref(root);
	free(body);

	/* epoch 0: no hand-over */
	struct fx_spec *s0 = spec_of(0, 2);
	struct ist_handover *g = handover_new();
	ck_assert_int_eq(fx_valset(s0, &g->next), 0);
	char *gt = doc_text(g);
	ck_assert_ptr_nonnull(strstr(gt, "\"handover\":null"));
	ck_assert_int_eq(ist_handover_parse(gt, strlen(gt), "doc.json", back, &err), 0);
	ck_assert(!back->has_handover && !back->has_end_height);
	free(gt);

	free(g);
	free(s0);
	free(nocert);
	free(text);
	free(h);
	free(back);
	free(v3);
	free(s2);
	free(s3);
}
END_TEST

START_TEST(test_reason_names)
{
	ck_assert_str_eq(ist_verify_reason_name(IST_VERIFY_HANDOVER_EPOCH), "handover-epoch");
	ck_assert_str_eq(ist_verify_reason_name(IST_VERIFY_HANDOVER_PROOF), "handover-proof");
	ck_assert_str_eq(ist_verify_reason_name(IST_VERIFY_EPOCH_EXPIRED), "epoch-expired");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state-handover");
	TCase *tc = tcase_create("handover");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_wrong_epoch);
	tcase_add_test(tc, test_not_last_leaf);
	tcase_add_test(tc, test_leaf_of_another_set);
	tcase_add_test(tc, test_untrusted_certificate);
	tcase_add_test(tc, test_chain_of_three);
	tcase_add_test(tc, test_document);
	tcase_add_test(tc, test_reason_names);
	suite_add_tcase(s, tc);
	return ist_test_run(s);
}
