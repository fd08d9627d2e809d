/*
 * Destination-side verification (state/verify.h) and the validator-set file.
 */
#include "state/verify.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/merkle.h"
#include "crypto/tags.h"
#include "wire/canonical.h"
#include "wire/codec.h"

/* ---- the validator-set file ------------------------------------------------ */

/* The checks of ist_valset_check with reader `jr`, field paths under
 * `parent`. Sets vs->total on success. */
static void valset_check(struct ist_json_reader *jr, const char *parent, struct ist_valset *vs)
{
	char path[IST_JSON_ERR_FIELD_MAX], base[IST_JSON_ERR_FIELD_MAX], vals[IST_JSON_ERR_FIELD_MAX];
	if (!ist_json_ok(jr))
		return;
	ist_json_path(vals, parent, "validators");
	if (vs->network_id == 0) {
		ist_json_path(path, parent, "network_id");
		ist_json_fail(jr, -IST_ECONFIG, path, "must be a positive integer (got 0)");
		return;
	}
	if (vs->n < 1 || vs->n > IST_WIRE_MAX_VALIDATORS) {
		ist_json_fail(jr, -IST_ECONFIG, vals, "must have 1 to %d elements (got %zu)", IST_WIRE_MAX_VALIDATORS,
			      vs->n);
		return;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < vs->n; i++) {
		ist_json_index(base, vals, i);
		uint8_t addr[IST_ETH_ADDRESS_BYTES];
		if (ist_secp_eth_address(vs->keys[i], addr) < 0) {
			ist_json_path(path, base, "attestation_key");
			ist_json_fail(jr, -IST_ECONFIG, path, "is not a valid compressed secp256k1 public key");
			return;
		}
		for (size_t j = 0; j < i; j++) {
			if (memcmp(vs->keys[i], vs->keys[j], IST_SECP_PUBKEY_BYTES) == 0) {
				ist_json_path(path, base, "attestation_key");
				ist_json_fail(jr, -IST_ECONFIG, path, "duplicate of validators[%zu].attestation_key", j);
				return;
			}
		}
		ist_json_path(path, base, "stake");
		if (vs->stakes[i] == 0) {
			ist_json_fail(jr, -IST_ECONFIG, path, "must be a positive integer (got 0)");
			return;
		}
		if (vs->stakes[i] > UINT64_MAX - total) {
			ist_json_fail(jr, -IST_ECONFIG, path, "the total stake exceeds 2^64 - 1");
			return;
		}
		total += vs->stakes[i];
	}
	/* libsodium's check: canonical, on the curve, not of small order */
	if (vs->has_group_key && !crypto_core_ed25519_is_valid_point(vs->group_key)) {
		ist_json_path(path, parent, "group_key");
		ist_json_fail(jr, -IST_ECONFIG, path, "is not a valid Ed25519 public key");
		return;
	}
	vs->total = total;
}

int ist_valset_check(struct ist_valset *vs, const char *label, struct ist_json_err *err)
{
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, label, err);
	valset_check(&jr, "", vs);
	return ist_json_code(&jr);
}

/* Reads a set from the object `root` at `parent` into *vs (all of it
 * written; meaningful when jr is still ok afterwards). */
static void valset_read(struct ist_json_reader *jr, json_t *root, const char *parent, struct ist_valset *vs)
{
	/* total_stake, index, name, node_key and attestation_address are what a
	 * node's GET /v1/validators adds for people: checked when present */
	static const char *const fields[] = { "format", "network_id", "epoch", "validators", "group_key", "total_stake",
					      NULL };
	static const char *const vfields[] = { "attestation_key", "stake", "index", "name", "node_key",
					       "attestation_address", NULL };
	char path[IST_JSON_ERR_FIELD_MAX], vals[IST_JSON_ERR_FIELD_MAX];
	memset(vs, 0, sizeof(*vs));
	if (!ist_json_object(jr, root, parent, fields))
		return;
	const char *format = ist_json_string(jr, root, parent, "format", true, NULL);
	if (ist_json_ok(jr) && strcmp(format, IST_VALSET_FORMAT) != 0) {
		char got[96];
		ist_json_path(path, parent, "format");
		ist_json_fail(jr, -IST_EUNSUPPORTED, path, "must be \"" IST_VALSET_FORMAT "\" (got %s)",
			      ist_json_describe(json_object_get(root, "format"), got, sizeof(got)));
	}
	vs->network_id = ist_json_u64(jr, root, parent, "network_id", true, 0, 1);
	vs->epoch = ist_json_u64(jr, root, parent, "epoch", true, 0, 0);
	json_t *vals_v = ist_json_array(jr, root, parent, "validators", true, 1, IST_WIRE_MAX_VALIDATORS);
	ist_json_path(vals, parent, "validators");
	if (vals_v) {
		vs->n = json_array_size(vals_v);
		for (size_t i = 0; i < vs->n && ist_json_ok(jr); i++) {
			char base[IST_JSON_ERR_FIELD_MAX];
			json_t *o = json_array_get(vals_v, i);
			ist_json_index(base, vals, i);
			if (!ist_json_object(jr, o, base, vfields))
				break;
			ist_json_hex(jr, o, base, "attestation_key", vs->keys[i], IST_SECP_PUBKEY_BYTES,
				     "a compressed secp256k1 public key");
			vs->stakes[i] = ist_json_u64(jr, o, base, "stake", true, 0, 1);
			if (json_object_get(o, "index") &&
			    ist_json_uint(jr, o, base, "index", true, 0, 0, IST_WIRE_MAX_VALIDATORS) != i && ist_json_ok(jr)) {
				ist_json_path(path, base, "index");
				ist_json_fail(jr, -IST_ECONFIG, path, "must be %zu, the validator's position", i);
			}
			(void)ist_json_string(jr, o, base, "name", false, NULL);
			uint8_t nk[IST_ED25519_PUBKEY_BYTES];
			if (json_object_get(o, "node_key"))
				ist_json_hex(jr, o, base, "node_key", nk, sizeof(nk), "an Ed25519 public key");
			const char *addr = ist_json_string(jr, o, base, "attestation_address", false, NULL);
			if (addr && ist_json_ok(jr)) {
				uint8_t a20[IST_ETH_ADDRESS_BYTES];
				char want[43];
				if (ist_secp_eth_address(vs->keys[i], a20) == 0) {
					ist_eth_address_format(a20, want);
					if (strcmp(addr, want) != 0) {
						ist_json_path(path, base, "attestation_address");
						ist_json_fail(jr, -IST_ECONFIG, path,
							      "is not the EIP-55 address of attestation_key (expected %s)", want);
					}
				}
			}
		}
	}
	if (ist_json_ok(jr) && json_object_get(root, "group_key")) {
		ist_json_hex(jr, root, parent, "group_key", vs->group_key, IST_ED25519_PUBKEY_BYTES, "an Ed25519 public key");
		vs->has_group_key = true;
	}
	valset_check(jr, parent, vs);
	if (ist_json_ok(jr) && json_object_get(root, "total_stake") &&
	    ist_json_u64(jr, root, parent, "total_stake", true, 0, 0) != vs->total && ist_json_ok(jr)) {
		ist_json_path(path, parent, "total_stake");
		ist_json_fail(jr, -IST_ECONFIG, path, "must be %llu, the sum of the stakes", (unsigned long long)vs->total);
	}
}

int ist_valset_parse(const char *json, size_t len, const char *label, struct ist_valset *ret,
		     struct ist_json_err *err)
{
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, label, err);
	if (len > IST_VALSET_FILE_MAX)
		return ist_json_fail(&jr, -IST_ETOOBIG, "", "larger than %u bytes", IST_VALSET_FILE_MAX);
	/* on the heap: the struct is large and parse may run on a small stack */
	struct ist_valset *vs = calloc(1, sizeof(*vs));
	if (!vs)
		return ist_json_fail(&jr, -IST_ENOMEM, "", "out of memory");
	json_t *root = ist_json_parse(&jr, json, len);
	if (root)
		valset_read(&jr, root, "", vs);
	json_decref(root);
	if (jr.code == 0)
		*ret = *vs;
	free(vs);
	return jr.code;
}

int ist_valset_load(const char *path, struct ist_valset *ret, struct ist_json_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int r = ist_json_file_read(path, IST_VALSET_FILE_MAX, &text, &len, err);
	if (r < 0)
		return r;
	r = ist_valset_parse(text, len, path, ret, err);
	free(text);
	return r;
}

int ist_valset_format(const struct ist_valset *vs, char **ret_json)
{
	json_t *root = json_object(), *vals = json_array();
	int bad = !root || !vals;
	bad |= json_object_set_new(root, "format", json_string(IST_VALSET_FORMAT));
	bad |= json_object_set_new(root, "network_id", ist_json_from_u64(vs->network_id));
	bad |= json_object_set_new(root, "epoch", ist_json_from_u64(vs->epoch));
	for (size_t i = 0; i < vs->n; i++) {
		json_t *o = json_object();
		bad |= !o;
		bad |= json_object_set_new(o, "attestation_key", ist_json_from_hex(vs->keys[i], IST_SECP_PUBKEY_BYTES));
		bad |= json_object_set_new(o, "stake", ist_json_from_u64(vs->stakes[i]));
		bad |= json_array_append_new(vals, o);
	}
	bad |= json_object_set(root, "validators", vals);
	if (vs->has_group_key)
		bad |= json_object_set_new(root, "group_key", ist_json_from_hex(vs->group_key, IST_ED25519_PUBKEY_BYTES));
	int r = bad ? -IST_ENOMEM : ist_json_dump_text(root, ret_json);
	json_decref(vals);
	json_decref(root);
	return r;
}

/* ---- verification ------------------------------------------------------------ */

static const char *const reason_names[] = {
#define IST_VERIFY_NAME(name, str) [IST_VERIFY_##name] = str,
	IST_VERIFY_REASONS(IST_VERIFY_NAME)
#undef IST_VERIFY_NAME
};

bool ist_verify_accept_parse(const char *text, unsigned *ret)
{
	unsigned flags = 0;
	for (const char *p = text;; p++) {
		size_t n = strcspn(p, ",");
		if (n == 8 && strncmp(p, "multisig", n) == 0)
			flags |= IST_VERIFY_ACCEPT_MULTISIG;
		else if (n == 5 && strncmp(p, "frost", n) == 0)
			flags |= IST_VERIFY_ACCEPT_FROST;
		else if (n != 0)
			return false;
		p += n;
		if (*p == '\0')
			break;
	}
	if (!flags)
		return false;
	*ret = flags;
	return true;
}

const char *ist_verify_reason_name(enum ist_verify_reason r)
{
	if ((unsigned)r >= IST_ARRAY_SIZE(reason_names))
		return "unknown";
	return reason_names[r];
}

/* Records a failure in *res and returns false. */
static bool IST_PRINTF(3, 4) fail(struct ist_verify_result *res, enum ist_verify_reason reason, const char *fmt, ...)
{
	res->reason = reason;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	return false;
}

static const char *scheme_name(enum ist_cert_scheme s)
{
	switch (s) {
	case IST_CERT_MULTISIG_SECP256K1: return "multisig-secp256k1";
	case IST_CERT_FROST_ED25519: return "frost-ed25519";
	}
	return "unknown";
}

static bool verify_multisig(const struct ist_valset *vs, const struct ist_certificate *cert,
			    struct ist_verify_result *res)
{
	/* every set bit names a validator of the set */
	for (unsigned i = (unsigned)vs->n; i < IST_WIRE_MAX_VALIDATORS; i++)
		if (ist_wire_bitmap_get(cert->signers, i))
			return fail(res, IST_VERIFY_SIGNER_RANGE,
				    "signer bitmap names validator %u, but the set has %zu validators", i, vs->n);
	size_t count = ist_wire_bitmap_count(cert->signers);
	if (cert->n_sigs != count)
		return fail(res, IST_VERIFY_SIGNATURE_COUNT, "%zu signatures for %zu signers in the bitmap",
			    cert->n_sigs, count);

	uint8_t digest[IST_HASH_BYTES];
	ist_wire_certificate_digest(cert, digest);
	uint64_t stake = 0;   /* cannot overflow: each validator once, and the total fits */
	size_t k = 0;
	for (unsigned i = 0; i < vs->n; i++) {
		if (!ist_wire_bitmap_get(cert->signers, i))
			continue;
		uint8_t pub[IST_SECP_PUBKEY_BYTES];
		if (ist_secp_recover(digest, cert->sigs[k], pub) < 0)
			return fail(res, IST_VERIFY_BAD_SIGNATURE,
				    "signature %zu (validator %u) is not a valid signature of the attestation digest", k, i);
		if (memcmp(pub, vs->keys[i], IST_SECP_PUBKEY_BYTES) != 0)
			return fail(res, IST_VERIFY_BAD_SIGNATURE,
				    "signature %zu (validator %u) was not made by validator %u's attestation key", k, i, i);
		stake += vs->stakes[i];
		k++;
	}
	res->signed_stake = stake;
	if (!((unsigned __int128)stake * 3 > (unsigned __int128)vs->total * 2))
		return fail(res, IST_VERIFY_QUORUM,
			    "signers hold %" PRIu64 " of %" PRIu64 " stake; more than 2/3 is needed", stake, vs->total);
	return true;
}

static bool verify_frost(const struct ist_valset *vs, const struct ist_certificate *cert,
			 struct ist_verify_result *res)
{
	if (!vs->has_group_key)
		return fail(res, IST_VERIFY_GROUP_KEY, "the trusted validator set has no FROST group key");
	if (memcmp(cert->group_key, vs->group_key, IST_ED25519_PUBKEY_BYTES) != 0)
		return fail(res, IST_VERIFY_GROUP_KEY, "the certificate's group key is not the set's");
	uint8_t digest[IST_HASH_BYTES];
	ist_wire_certificate_digest(cert, digest);
	if (!ist_ed25519_verify(vs->group_key, digest, sizeof(digest), cert->frost_sig))
		return fail(res, IST_VERIFY_BAD_SIGNATURE,
			    "the FROST signature is not a valid Ed25519 signature of the attestation digest");
	return true;
}

bool ist_verify_certificate(const struct ist_valset *vs, unsigned accept, const struct ist_certificate *cert,
			    struct ist_verify_result *ret)
{
	struct ist_verify_result local;
	struct ist_verify_result *res = ret ? ret : &local;
	memset(res, 0, sizeof(*res));
	IST_REQUIRE(vs->n >= 1 && vs->n <= IST_WIRE_MAX_VALIDATORS);

	unsigned flag = cert->scheme == IST_CERT_MULTISIG_SECP256K1 ? IST_VERIFY_ACCEPT_MULTISIG
			: cert->scheme == IST_CERT_FROST_ED25519    ? IST_VERIFY_ACCEPT_FROST
								    : 0;
	if (!(accept & flag))
		return fail(res, IST_VERIFY_SCHEME, "certificate scheme %s is not accepted here",
			    scheme_name(cert->scheme));
	if (cert->network_id != vs->network_id)
		return fail(res, IST_VERIFY_NETWORK, "certificate of network %" PRIu64 ", the trusted set is of network %" PRIu64,
			    cert->network_id, vs->network_id);
	if (cert->epoch != vs->epoch)
		return fail(res, IST_VERIFY_UNKNOWN_EPOCH, "certificate of epoch %" PRIu64 ", the trusted set is of epoch %" PRIu64,
			    cert->epoch, vs->epoch);
	bool ok = cert->scheme == IST_CERT_MULTISIG_SECP256K1 ? verify_multisig(vs, cert, res)
							      : verify_frost(vs, cert, res);
	if (ok) {
		res->reason = IST_VERIFY_OK;
		res->detail[0] = '\0';
	}
	return ok;
}

bool ist_verify_delivery(const struct ist_valset *vs, uint64_t my_chain, unsigned accept,
			 const struct ist_delivery *d, struct ist_verify_result *ret)
{
	struct ist_verify_result local;
	struct ist_verify_result *res = ret ? ret : &local;
	memset(res, 0, sizeof(*res));
	const struct ist_message *m = &d->message;
	const struct ist_checkpoint *cp = &d->checkpoint;
	const struct ist_inclusion_proof *mp = &d->message_proof, *cpp = &d->checkpoint_proof;

	if (ist_wire_message_id(m, res->message_id) < 0)
		return fail(res, IST_VERIFY_MALFORMED, "message payload over %d bytes", IST_WIRE_MAX_MSG_PAYLOAD);
	if (m->dst_chain != my_chain)
		return fail(res, IST_VERIFY_WRONG_DESTINATION, "message for chain %" PRIu64 ", this is chain %" PRIu64,
			    m->dst_chain, my_chain);
	if (cp->src_chain != m->src_chain || cp->dst_chain != m->dst_chain)
		return fail(res, IST_VERIFY_ROUTE_MISMATCH,
			    "checkpoint of route %" PRIu64 "->%" PRIu64 ", message of route %" PRIu64 "->%" PRIu64,
			    cp->src_chain, cp->dst_chain, m->src_chain, m->dst_chain);

	if (mp->tree_size != cp->tree_size)
		return fail(res, IST_VERIFY_MESSAGE_PROOF, "message proof for a tree of %" PRIu64
			    " messages, the checkpoint's has %" PRIu64, mp->tree_size, cp->tree_size);
	if (mp->leaf_index != m->nonce)
		return fail(res, IST_VERIFY_MESSAGE_PROOF, "message proof for leaf %" PRIu64
			    ", the message's nonce is %" PRIu64, mp->leaf_index, m->nonce);
	if (m->nonce >= cp->tree_size)
		return fail(res, IST_VERIFY_MESSAGE_PROOF, "nonce %" PRIu64 " is not in the checkpoint's tree of %" PRIu64
			    " messages", m->nonce, cp->tree_size);
	uint8_t leaf[IST_HASH_BYTES];
	ist_merkle_leaf_hash(res->message_id, IST_HASH_BYTES, leaf);
	if (!ist_merkle_verify_inclusion(leaf, mp->leaf_index, cp->tree_size,
					 (const uint8_t (*)[IST_HASH_BYTES])mp->path, mp->path_len, cp->root))
		return fail(res, IST_VERIFY_MESSAGE_PROOF,
			    "message proof does not lead from the message id to the checkpoint's root");

	ist_wire_checkpoint_leaf_hash(cp, leaf);
	if (!ist_merkle_verify_inclusion(leaf, cpp->leaf_index, cpp->tree_size,
					 (const uint8_t (*)[IST_HASH_BYTES])cpp->path, cpp->path_len,
					 d->certificate.batch_root))
		return fail(res, IST_VERIFY_CHECKPOINT_PROOF,
			    "checkpoint proof (leaf %" PRIu64 " of %" PRIu64 ") does not lead to the certificate's batch root",
			    cpp->leaf_index, cpp->tree_size);

	uint8_t id[IST_HASH_BYTES];
	memcpy(id, res->message_id, sizeof(id));
	bool ok = ist_verify_certificate(vs, accept, &d->certificate, res);
	memcpy(res->message_id, id, sizeof(id));
	return ok;
}

/* ---- Epoch hand-over ---- */

void ist_valset_hash(const struct ist_valset *vs, uint8_t ret_hash32[IST_HASH_BYTES])
{
	struct ist_sha256_ctx h;
	uint8_t b8[8], b4[4], flag = vs->has_group_key ? 1 : 0;
	static const uint8_t zero[IST_ED25519_PUBKEY_BYTES];
	ist_tagged_hash_init(&h, IST_TAG_VALSET);
	ist_put_be64(b8, vs->network_id);
	ist_sha256_update(&h, b8, 8);
	ist_put_be64(b8, vs->epoch);
	ist_sha256_update(&h, b8, 8);
	ist_put_be32(b4, (uint32_t)vs->n);
	ist_sha256_update(&h, b4, 4);
	for (size_t i = 0; i < vs->n; i++) {
		ist_sha256_update(&h, vs->keys[i], IST_SECP_PUBKEY_BYTES);
		ist_put_be64(b8, vs->stakes[i]);
		ist_sha256_update(&h, b8, 8);
	}
	ist_sha256_update(&h, &flag, 1);
	ist_sha256_update(&h, vs->has_group_key ? vs->group_key : zero, IST_ED25519_PUBKEY_BYTES);
	ist_sha256_final(&h, ret_hash32);
}

void ist_handover_leaf_hash(const struct ist_valset *next, uint8_t ret_leaf32[IST_HASH_BYTES])
{
	uint8_t data[IST_HANDOVER_LEAF_BYTES];
	size_t tl = strlen(IST_TAG_EPOCH);
	memcpy(data, IST_TAG_EPOCH, tl);
	ist_put_be64(data + tl, next->epoch);
	ist_valset_hash(next, data + tl + 8);
	ist_merkle_leaf_hash(data, sizeof(data), ret_leaf32);
}

/* The RFC 9162 path of `proof` leads from `leaf` to `root`. */
static bool leads_to(const uint8_t leaf[IST_HASH_BYTES], const struct ist_inclusion_proof *proof,
		     const uint8_t root[IST_HASH_BYTES])
{
	return ist_merkle_verify_inclusion(leaf, proof->leaf_index, proof->tree_size,
					   (const uint8_t (*)[IST_HASH_BYTES])proof->path, proof->path_len, root);
}

bool ist_verify_handover(const struct ist_valset *trusted, const struct ist_valset *next,
			 const struct ist_inclusion_proof *proof, const struct ist_certificate *cert, unsigned accept,
			 struct ist_verify_result *ret)
{
	struct ist_verify_result local;
	struct ist_verify_result *res = ret ? ret : &local;
	memset(res, 0, sizeof(*res));
	if (next->network_id != trusted->network_id)
		return fail(res, IST_VERIFY_NETWORK, "hand-over to a set of network %" PRIu64 ", the trusted set is of network %" PRIu64,
			    next->network_id, trusted->network_id);
	if (trusted->epoch == UINT64_MAX || next->epoch != trusted->epoch + 1)
		return fail(res, IST_VERIFY_HANDOVER_EPOCH,
			    "hand-over to epoch %" PRIu64 ", the trusted set is of epoch %" PRIu64
			    " (only a hand-over to the next epoch, %" PRIu64 ", can follow it)",
			    next->epoch, trusted->epoch, trusted->epoch + 1);
	if (proof->tree_size == 0 || proof->leaf_index != proof->tree_size - 1)
		return fail(res, IST_VERIFY_HANDOVER_PROOF,
			    "hand-over proof of leaf %" PRIu64 " of %" PRIu64 ": the hand-over leaf must be the last leaf of "
			    "the batch tree", proof->leaf_index, proof->tree_size);
	uint8_t leaf[IST_HASH_BYTES];
	ist_handover_leaf_hash(next, leaf);
	if (!leads_to(leaf, proof, cert->batch_root))
		return fail(res, IST_VERIFY_HANDOVER_PROOF,
			    "hand-over proof (leaf %" PRIu64 " of %" PRIu64 ") does not lead from the hand-over leaf of the "
			    "epoch %" PRIu64 " set to the certificate's batch root", proof->leaf_index, proof->tree_size,
			    next->epoch);
	return ist_verify_certificate(trusted, accept, cert, res);
}

bool ist_verify_pause(const struct ist_valset *vs, const struct ist_pause *p, const struct ist_inclusion_proof *proof,
		      const struct ist_certificate *cert, unsigned accept, struct ist_verify_result *ret)
{
	struct ist_verify_result local;
	struct ist_verify_result *res = ret ? ret : &local;
	memset(res, 0, sizeof(*res));
	if (p->network_id != vs->network_id)
		return fail(res, IST_VERIFY_NETWORK, "a pause of network %" PRIu64 ", the trusted set is of network %" PRIu64,
			    p->network_id, vs->network_id);
	if (cert->height != p->height)
		return fail(res, IST_VERIFY_PAUSE_PROOF, "the pause took effect at height %" PRIu64
			    ", the certificate is of height %" PRIu64, p->height, cert->height);
	uint8_t leaf[IST_HASH_BYTES];
	ist_wire_pause_leaf_hash(p, leaf);
	if (proof->tree_size == 0 || proof->leaf_index >= proof->tree_size || !leads_to(leaf, proof, cert->batch_root))
		return fail(res, IST_VERIFY_PAUSE_PROOF,
			    "pause proof (leaf %" PRIu64 " of %" PRIu64 ") does not lead from the pause leaf to the "
			    "certificate's batch root", proof->leaf_index, proof->tree_size);
	return ist_verify_certificate(vs, accept, cert, res);
}

/* ---- the hand-over document ---------------------------------------------------- */

void ist_json_proof_read(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key,
			 struct ist_inclusion_proof *ret)
{
	static const char *const fields[] = { "leaf_index", "tree_size", "path", NULL };
	char path[IST_JSON_ERR_FIELD_MAX], pp[IST_JSON_ERR_FIELD_MAX];
	json_t *o = ist_json_member(jr, obj, parent, key, true);
	ist_json_path(path, parent, key);
	if (!ist_json_object(jr, o, path, fields))
		return;
	ret->leaf_index = ist_json_u64(jr, o, path, "leaf_index", true, 0, 0);
	ret->tree_size = ist_json_u64(jr, o, path, "tree_size", true, 0, 0);
	json_t *arr = ist_json_array(jr, o, path, "path", true, 0, IST_WIRE_MAX_PROOF_DEPTH);
	ist_json_path(pp, path, "path");
	ret->path_len = json_array_size(arr);
	for (size_t i = 0; i < ret->path_len && ist_json_ok(jr); i++) {
		char ip[IST_JSON_ERR_FIELD_MAX], got[96];
		ist_json_index(ip, pp, i);
		json_t *h = json_array_get(arr, i);
		const char *s = json_string_value(h);
		if (!s || strlen(s) != 2 * IST_HASH_BYTES || ist_hex_decode(s, ret->path[i], IST_HASH_BYTES) < 0)
			ist_json_fail(jr, -IST_ECONFIG, ip, "must be a hash of 64 hex digits (got %s)",
				      ist_json_describe(h, got, sizeof(got)));
	}
}

void ist_handover_read(struct ist_json_reader *jr, json_t *doc, const char *parent, struct ist_handover *ret)
{
	static const char *const fields[] = { "epoch", "start_height", "end_height", "validator_set", "handover", NULL };
	static const char *const hfields[] = { "height", "certificate", "leaf", "proof", NULL };
	char path[IST_JSON_ERR_FIELD_MAX], hp[IST_JSON_ERR_FIELD_MAX];
	if (!ist_json_ok(jr))
		return;
	struct ist_handover *h = calloc(1, sizeof(*h));
	if (!h) {
		ist_json_fail(jr, -IST_ENOMEM, parent, "out of memory");
		return;
	}
	if (!ist_json_object(jr, doc, parent, fields))
		goto out;
	h->epoch = ist_json_u64(jr, doc, parent, "epoch", true, 0, 0);
	h->start_height = ist_json_u64(jr, doc, parent, "start_height", true, 0, 0);
	json_t *end = ist_json_member(jr, doc, parent, "end_height", false);
	if (end && !json_is_null(end)) {
		h->has_end_height = true;
		h->end_height = ist_json_u64(jr, doc, parent, "end_height", true, 0, 0);
		ist_json_path(path, parent, "end_height");
		if (ist_json_ok(jr) && h->end_height < h->start_height)
			ist_json_fail(jr, -IST_ECONFIG, path, "must not be below start_height (%" PRIu64 ")",
				      h->start_height);
	}
	json_t *vs = ist_json_member(jr, doc, parent, "validator_set", true);
	ist_json_path(path, parent, "validator_set");
	if (ist_json_ok(jr))
		valset_read(jr, vs, path, &h->next);
	if (ist_json_ok(jr) && h->next.epoch != h->epoch) {
		ist_json_path(path, parent, "epoch");
		ist_json_fail(jr, -IST_ECONFIG, path, "must be the validator_set's epoch (%" PRIu64 ")", h->next.epoch);
	}
	json_t *ho = ist_json_member(jr, doc, parent, "handover", true);
	ist_json_path(hp, parent, "handover");
	if (!ist_json_ok(jr))
		goto out;
	if (json_is_null(ho)) {
		if (h->epoch != 0)
			ist_json_fail(jr, -IST_ECONFIG, hp, "must not be null for epoch %" PRIu64
				      " (only epoch 0 has no hand-over)", h->epoch);
		goto out;
	}
	if (h->epoch == 0) {
		ist_json_fail(jr, -IST_ECONFIG, hp, "must be null for epoch 0 (it has no hand-over)");
		goto out;
	}
	if (!ist_json_object(jr, ho, hp, hfields))
		goto out;
	h->has_handover = true;
	h->height = ist_json_u64(jr, ho, hp, "height", true, 0, 0);
	ist_json_proof_read(jr, ho, hp, "proof", &h->proof);
	if (ist_json_ok(jr) && json_object_get(ho, "leaf")) {
		uint8_t got[IST_HASH_BYTES], want[IST_HASH_BYTES];
		ist_json_hex(jr, ho, hp, "leaf", got, sizeof(got), "a hash");
		ist_handover_leaf_hash(&h->next, want);
		char wh[2 * IST_HASH_BYTES + 1];
		ist_hex_encode(want, sizeof(want), wh);
		ist_json_path(path, hp, "leaf");
		if (ist_json_ok(jr) && memcmp(got, want, sizeof(want)) != 0)
			ist_json_fail(jr, -IST_ECONFIG, path, "is not the hand-over leaf of validator_set (expected %s)", wh);
	}
	json_t *cv = ist_json_member(jr, ho, hp, "certificate", true);
	if (ist_json_ok(jr) && !json_is_null(cv)) {
		uint8_t *bytes = NULL;
		size_t n = 0;
		ist_json_hex_alloc(jr, ho, hp, "certificate", true, IST_WIRE_MAX_CERTIFICATE_BYTES, &bytes, &n);
		if (ist_json_ok(jr)) {
			struct ist_certificate *c = NULL;
			const char *why = NULL;
			int r = ist_wire_certificate_decode(bytes, n, &c, &why);
			ist_json_path(path, hp, "certificate");
			if (r < 0) {
				ist_json_fail(jr, r, path, "not a valid Certificate (%s)", why ? why : ist_strerror(r));
			} else {
				h->cert = *c;
				h->has_certificate = true;
				ist_wire_certificate_free(c);
			}
		}
		free(bytes);
	}
out:
	if (ist_json_ok(jr))
		*ret = *h;
	free(h);
}

int ist_handover_parse(const char *json, size_t len, const char *label, struct ist_handover *ret,
		       struct ist_json_err *err)
{
	struct ist_json_reader jr;
	ist_json_reader_init(&jr, label, err);
	if (len > IST_HANDOVER_DOC_MAX)
		return ist_json_fail(&jr, -IST_ETOOBIG, "", "larger than %u bytes", IST_HANDOVER_DOC_MAX);
	json_t *root = ist_json_parse(&jr, json, len);
	if (root)
		ist_handover_read(&jr, root, "", ret);
	json_decref(root);
	return jr.code;
}

int ist_handover_to_json(const struct ist_handover *h, json_t **ret_doc)
{
	char *text = NULL;
	uint8_t *enc = NULL;
	size_t enc_len = 0;
	json_t *doc = NULL, *vs = NULL, *ho = NULL;
	int r = ist_valset_format(&h->next, &text);
	if (r < 0)
		goto fail;
	r = -IST_ENOMEM;
	if (!(vs = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) || !(doc = json_object()))
		goto fail;
	int bad = json_object_set_new(doc, "epoch", ist_json_from_u64(h->epoch));
	bad |= json_object_set_new(doc, "start_height", ist_json_from_u64(h->start_height));
	bad |= json_object_set_new(doc, "end_height", h->has_end_height ? ist_json_from_u64(h->end_height) : json_null());
	bad |= json_object_set(doc, "validator_set", vs);
	if (!h->has_handover) {
		bad |= json_object_set_new(doc, "handover", json_null());
	} else {
		uint8_t leaf[IST_HASH_BYTES];
		ist_handover_leaf_hash(&h->next, leaf);
		json_t *path = json_array();
		bad |= !(ho = json_object()) || !path;
		for (size_t i = 0; path && i < h->proof.path_len; i++)
			bad |= json_array_append_new(path, ist_json_from_hex(h->proof.path[i], IST_HASH_BYTES));
		json_t *proof = json_object();
		bad |= !proof;
		bad |= json_object_set_new(proof, "leaf_index", ist_json_from_u64(h->proof.leaf_index));
		bad |= json_object_set_new(proof, "tree_size", ist_json_from_u64(h->proof.tree_size));
		bad |= json_object_set_new(proof, "path", path);
		bad |= json_object_set_new(ho, "height", ist_json_from_u64(h->height));
		if (h->has_certificate) {
			int e = ist_wire_certificate_encode(&h->cert, &enc, &enc_len);
			if (e < 0) {
				json_decref(proof);
				r = e == -IST_ENOMEM ? e : -IST_EINVAL;
				goto fail;
			}
			bad |= json_object_set_new(ho, "certificate", ist_json_from_hex(enc, enc_len));
		} else {
			bad |= json_object_set_new(ho, "certificate", json_null());
		}
		bad |= json_object_set_new(ho, "leaf", ist_json_from_hex(leaf, sizeof(leaf)));
		bad |= json_object_set_new(ho, "proof", proof);
		bad |= json_object_set(doc, "handover", ho);
	}
	if (bad)
		goto fail;
	json_decref(vs);
	json_decref(ho);
	free(text);
	free(enc);
	*ret_doc = doc;
	return 0;
fail:
	json_decref(doc);
	json_decref(vs);
	json_decref(ho);
	free(text);
	free(enc);
	return r;
}
