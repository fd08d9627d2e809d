#include "crypto/keystore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/file.h"
#include "crypto/ed25519.h"
#include "crypto/tags.h"
#include "crypto/x25519.h"

#define KDF_NAME "argon2id13"
#define CIPHER_NAME "xchacha20poly1305-ietf"
#define KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define SECRETS_CAP (IST_KEYSTORE_MAX_KEYS * IST_KEYSTORE_SECRET_BYTES)

_Static_assert(IST_KEYSTORE_SALT_BYTES == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(IST_KEYSTORE_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(IST_KEYSTORE_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(KEY_BYTES == 32, "AEAD key size");

struct ist_keyset {
	struct ist_keyset_info info;
	uint8_t *secrets;   /* sodium_malloc(SECRETS_CAP); PROT_NONE while sealed */
	unsigned unsealed;  /* nesting depth of ist_keyset_unseal() */
};

/* ---- error lines ---------------------------------------------------- */

/* Writes "label: message" into errbuf, with every control character replaced
 * so that the result is always exactly one line (file names and jansson's
 * positions come from outside). */
static void IST_PRINTF(4, 5) seterr(char *errbuf, size_t errlen, const char *label, const char *fmt, ...)
{
	if (!errbuf || errlen == 0)
		return;
	int n = snprintf(errbuf, errlen, "%s: ", label ? label : "keystore");
	if (n < 0)
		n = 0;
	if ((size_t)n < errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errbuf + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	for (char *p = errbuf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* ---- key types -------------------------------------------------------- */

/* One row per key type, in the order of a validator keyset. */
static const struct key_type_def {
	enum ist_key_type type;
	const char *name;
	const char *purpose;
	size_t pub_len;
} key_types[] = {
	{ IST_KEY_ED25519, "ed25519", "node", IST_ED25519_PUBKEY_BYTES },
	{ IST_KEY_SECP256K1, "secp256k1", "attestation", IST_SECP_PUBKEY_BYTES },
	{ IST_KEY_X25519, "x25519", "dkg", IST_X25519_PUBKEY_BYTES },
};

static const struct key_type_def *type_def(enum ist_key_type type)
{
	for (size_t i = 0; i < IST_ARRAY_SIZE(key_types); i++)
		if (key_types[i].type == type)
			return &key_types[i];
	return NULL;
}

const char *ist_key_type_name(enum ist_key_type type)
{
	const struct key_type_def *d = type_def(type);
	return d ? d->name : "?";
}

const char *ist_key_type_purpose(enum ist_key_type type)
{
	const struct key_type_def *d = type_def(type);
	return d ? d->purpose : "?";
}

size_t ist_key_type_pubkey_len(enum ist_key_type type)
{
	const struct key_type_def *d = type_def(type);
	return d ? d->pub_len : 0;
}

int ist_key_type_parse(const char *s, enum ist_key_type *ret_type)
{
	if (!s)
		return -IST_EINVAL;
	for (size_t i = 0; i < IST_ARRAY_SIZE(key_types); i++)
		if (strcmp(s, key_types[i].name) == 0) {
			*ret_type = key_types[i].type;
			return 0;
		}
	return -IST_EINVAL;
}

int ist_keyset_kind_parse(const char *s, enum ist_key_type ret_types[IST_KEYSTORE_MAX_KEYS], size_t *ret_n)
{
	if (s && strcmp(s, "validator") == 0) {
		_Static_assert(IST_ARRAY_SIZE(key_types) == IST_KEYSTORE_MAX_KEYS, "a validator has every key type");
		for (size_t i = 0; i < IST_ARRAY_SIZE(key_types); i++)
			ret_types[i] = key_types[i].type;
		*ret_n = IST_ARRAY_SIZE(key_types);
		return 0;
	}
	enum ist_key_type t;
	int r = ist_key_type_parse(s, &t);
	if (r < 0)
		return r;
	ret_types[0] = t;
	*ret_n = 1;
	return 0;
}

bool ist_keystore_name_valid(const char *name)
{
	if (!name)
		return false;
	size_t n = strlen(name);
	if (n == 0 || n > IST_KEYSTORE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

const struct ist_keystore_key *ist_keyset_info_find(const struct ist_keyset_info *info, enum ist_key_type type)
{
	for (size_t i = 0; i < info->n_keys && i < IST_KEYSTORE_MAX_KEYS; i++)
		if (info->keys[i].type == type)
			return &info->keys[i];
	return NULL;
}

static bool types_valid(const enum ist_key_type *types, size_t n)
{
	if (!types || n == 0 || n > IST_KEYSTORE_MAX_KEYS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (ist_key_type_pubkey_len(types[i]) == 0)
			return false;
		for (size_t j = 0; j < i; j++)
			if (types[j] == types[i])
				return false;
	}
	return true;
}

/* ---- KDF cost ----------------------------------------------------------- */

struct ist_keystore_kdf ist_keystore_kdf_default(void)
{
	return (struct ist_keystore_kdf){ crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE };
}

struct ist_keystore_kdf ist_keystore_kdf_fast(void)
{
	return (struct ist_keystore_kdf){ crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE };
}

struct ist_keystore_kdf ist_keystore_kdf_min(void)
{
	return (struct ist_keystore_kdf){ crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN };
}

bool ist_keystore_kdf_acceptable(const struct ist_keystore_kdf *kdf)
{
	return kdf && kdf->opslimit >= crypto_pwhash_OPSLIMIT_MIN && kdf->opslimit <= IST_KEYSTORE_OPSLIMIT_MAX &&
	       kdf->memlimit >= crypto_pwhash_MEMLIMIT_MIN && kdf->memlimit <= IST_KEYSTORE_MEMLIMIT_MAX;
}

/* ---- keysets ------------------------------------------------------------ */

static struct ist_keyset *keyset_alloc(void)
{
	struct ist_keyset *ks = calloc(1, sizeof(*ks));
	if (!ks)
		return NULL;
	ks->secrets = sodium_malloc(SECRETS_CAP);
	if (!ks->secrets) {
		free(ks);
		return NULL;
	}
	sodium_memzero(ks->secrets, SECRETS_CAP);
	ks->unsealed = 1;   /* writable until keyset_finish() */
	return ks;
}

/* Called once the secrets are in place: from now on they are PROT_NONE
 * except while a caller has them unsealed. */
static void keyset_finish(struct ist_keyset *ks)
{
	ks->unsealed = 0;
	sodium_mprotect_noaccess(ks->secrets);
}

void ist_keyset_free(struct ist_keyset *ks)
{
	if (!ks)
		return;
	/* sodium_free() unlocks, wipes and unmaps whatever the protection */
	sodium_free(ks->secrets);
	sodium_memzero(ks, sizeof(*ks));
	free(ks);
}

const struct ist_keyset_info *ist_keyset_info(const struct ist_keyset *ks)
{
	return &ks->info;
}

int ist_keyset_rename(struct ist_keyset *ks, const char *name)
{
	if (!ist_keystore_name_valid(name))
		return -IST_EINVAL;
	snprintf(ks->info.name, sizeof(ks->info.name), "%s", name);
	ks->info.created[0] = '\0';
	return 0;
}

int ist_keyset_unseal(struct ist_keyset *ks)
{
	if (ks->unsealed == 0 && sodium_mprotect_readonly(ks->secrets) != 0)
		return -IST_ECRYPTO;
	ks->unsealed++;
	return 0;
}

void ist_keyset_seal(struct ist_keyset *ks)
{
	IST_REQUIRE(ks->unsealed > 0);
	if (--ks->unsealed == 0)
		sodium_mprotect_noaccess(ks->secrets);
}

const uint8_t *ist_keyset_secret(const struct ist_keyset *ks, size_t index)
{
	IST_REQUIRE(ks->unsealed > 0);
	IST_REQUIRE(index < ks->info.n_keys);
	return ks->secrets + index * IST_KEYSTORE_SECRET_BYTES;
}

/* Derives the public key (and for secp256k1 the address) of one secret. */
static int derive_public(enum ist_key_type type, const uint8_t sec32[IST_KEYSTORE_SECRET_BYTES],
			 struct ist_keystore_key *ret_key)
{
	struct ist_keystore_key k;
	memset(&k, 0, sizeof(k));
	k.type = type;
	k.pub_len = ist_key_type_pubkey_len(type);
	int r;
	switch (type) {
	case IST_KEY_ED25519:
		r = ist_ed25519_pubkey(sec32, k.pub);
		break;
	case IST_KEY_SECP256K1:
		if (!ist_secp_seckey_valid(sec32))
			return -IST_EBADKEY;
		r = ist_secp_pubkey(sec32, k.pub);
		if (r == 0)
			r = ist_secp_eth_address(k.pub, k.addr);
		break;
	case IST_KEY_X25519:
		r = ist_x25519_pubkey(sec32, k.pub);
		break;
	default:
		return -IST_EINVAL;
	}
	if (r < 0)
		return r;
	*ret_key = k;
	return 0;
}

int ist_keyset_generate(const char *name, const enum ist_key_type *types, size_t n_types,
			const struct ist_rng *rng, struct ist_keyset **ret_ks)
{
	if (!ist_keystore_name_valid(name) || !types_valid(types, n_types) || !rng)
		return -IST_EINVAL;
	struct ist_keyset *ks = keyset_alloc();
	if (!ks)
		return -IST_ENOMEM;
	ks->info.version = IST_KEYSTORE_VERSION;
	snprintf(ks->info.name, sizeof(ks->info.name), "%s", name);
	int r = 0;
	for (size_t i = 0; i < n_types && r == 0; i++) {
		uint8_t *sec = ks->secrets + i * IST_KEYSTORE_SECRET_BYTES;
		struct ist_keystore_key *k = &ks->info.keys[i];
		k->type = types[i];
		k->pub_len = ist_key_type_pubkey_len(types[i]);
		switch (types[i]) {
		case IST_KEY_ED25519:
			r = ist_ed25519_generate(rng, sec, k->pub);
			break;
		case IST_KEY_SECP256K1:
			r = ist_secp_generate(rng, sec, k->pub);
			if (r == 0)
				r = ist_secp_eth_address(k->pub, k->addr);
			break;
		case IST_KEY_X25519:
			r = ist_x25519_generate(rng, sec, k->pub);
			break;
		}
	}
	if (r < 0) {
		ist_keyset_free(ks);
		return r;
	}
	ks->info.n_keys = n_types;
	keyset_finish(ks);
	*ret_ks = ks;
	return 0;
}

int ist_keyset_from_secrets(const char *name, const enum ist_key_type *types, size_t n_types,
			    const uint8_t *secrets, size_t secrets_len, struct ist_keyset **ret_ks)
{
	if (!ist_keystore_name_valid(name) || !types_valid(types, n_types) || !secrets ||
	    secrets_len != n_types * IST_KEYSTORE_SECRET_BYTES)
		return -IST_EINVAL;
	struct ist_keyset *ks = keyset_alloc();
	if (!ks)
		return -IST_ENOMEM;
	ks->info.version = IST_KEYSTORE_VERSION;
	snprintf(ks->info.name, sizeof(ks->info.name), "%s", name);
	memcpy(ks->secrets, secrets, secrets_len);
	int r = 0;
	for (size_t i = 0; i < n_types && r == 0; i++)
		r = derive_public(types[i], ks->secrets + i * IST_KEYSTORE_SECRET_BYTES, &ks->info.keys[i]);
	if (r < 0) {
		ist_keyset_free(ks);
		return r == -IST_EINVAL ? r : -IST_EBADKEY;
	}
	ks->info.n_keys = n_types;
	keyset_finish(ks);
	*ret_ks = ks;
	return 0;
}

/* ---- the associated data ------------------------------------------------- */

/* Every public field but the nonce and the ciphertext, in a fixed layout of
 * length-prefixed fields, so that no two different files share it. */
static int build_ad(const struct ist_keystore_file *f, uint8_t **ret_ad, size_t *ret_len)
{
	struct ist_buf b;
	ist_buf_init(&b, 4096);
	ist_buf_put(&b, IST_TAG_KEYSTORE, strlen(IST_TAG_KEYSTORE));
	ist_buf_put_be32(&b, f->info.version);
	ist_buf_put_var(&b, f->info.name, strlen(f->info.name));
	ist_buf_put_var(&b, f->info.created, strlen(f->info.created));
	ist_buf_put_u8(&b, (uint8_t)f->info.n_keys);
	for (size_t i = 0; i < f->info.n_keys; i++) {
		const struct ist_keystore_key *k = &f->info.keys[i];
		const char *t = ist_key_type_name(k->type), *p = ist_key_type_purpose(k->type);
		ist_buf_put_var(&b, t, strlen(t));
		ist_buf_put_var(&b, p, strlen(p));
		ist_buf_put_var(&b, k->pub, k->pub_len);
	}
	ist_buf_put_var(&b, KDF_NAME, strlen(KDF_NAME));
	ist_buf_put_be64(&b, f->kdf.opslimit);
	ist_buf_put_be64(&b, (uint64_t)f->kdf.memlimit);
	ist_buf_put_var(&b, f->salt, sizeof(f->salt));
	ist_buf_put_var(&b, CIPHER_NAME, strlen(CIPHER_NAME));
	return ist_buf_take(&b, ret_ad, ret_len);
}

/* Argon2id of the passphrase into guarded memory. Out: *ret_key
 * (sodium_free it). */
static int derive_kek(const char *pass, size_t pass_len, const struct ist_keystore_file *f, uint8_t **ret_key)
{
	uint8_t *key = sodium_malloc(KEY_BYTES);
	if (!key)
		return -IST_ENOMEM;
	if (crypto_pwhash(key, KEY_BYTES, pass, pass_len, f->salt, f->kdf.opslimit, f->kdf.memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_free(key);
		return -IST_ENOMEM;   /* libsodium fails here only when it cannot get the memory */
	}
	*ret_key = key;
	return 0;
}

static bool pass_ok(const char *pass, size_t pass_len)
{
	return pass && pass_len > 0 && pass_len <= IST_KEYSTORE_PASSPHRASE_MAX;
}

/* ---- encryption and serialisation ------------------------------------ */

/* json_object_set_new that says whether it worked: it consumes `v` either
 * way, and fails for a NULL `obj` or `v` (a json_* constructor out of
 * memory), so that a chain of them stops at the first failure. */
static bool set(json_t *obj, const char *key, json_t *v)
{
	return json_object_set_new(obj, key, v) == 0;
}

/* `obj` when every set into it worked, else NULL (and `obj` released). */
static json_t *built(json_t *obj, bool ok)
{
	if (ok)
		return obj;
	json_decref(obj);
	return NULL;
}

static bool hex_set(json_t *obj, const char *key, const uint8_t *p, size_t len)
{
	char hex[2 * IST_KEYSTORE_CIPHERTEXT_MAX + 1];
	IST_REQUIRE(len <= IST_KEYSTORE_CIPHERTEXT_MAX);
	ist_hex_encode(p, len, hex);
	return set(obj, key, json_string(hex));
}

static json_t *key_json(const struct ist_keystore_key *k)
{
	IST_REQUIRE(k->pub_len <= IST_KEYSTORE_PUBKEY_MAX);
	json_t *o = json_object();
	bool ok = set(o, "type", json_string(ist_key_type_name(k->type))) &&
		  set(o, "purpose", json_string(ist_key_type_purpose(k->type))) && hex_set(o, "public", k->pub, k->pub_len);
	if (ok && k->type == IST_KEY_SECP256K1) {
		char addr[43];
		ist_eth_address_format(k->addr, addr);
		ok = set(o, "address", json_string(addr));
	}
	return built(o, ok);
}

json_t *ist_keystore_keys_json(const struct ist_keyset_info *info)
{
	json_t *keys = json_array();
	if (!keys)
		return NULL;
	for (size_t i = 0; i < info->n_keys; i++) {
		/* consumes the key's object, and fails for a NULL one */
		if (json_array_append_new(keys, key_json(&info->keys[i])) != 0) {
			json_decref(keys);
			return NULL;
		}
	}
	return keys;
}

static json_t *kdf_json(const struct ist_keystore_file *f)
{
	json_t *o = json_object();
	bool ok = set(o, "name", json_string(KDF_NAME)) &&
		  set(o, "opslimit", json_integer((json_int_t)f->kdf.opslimit)) &&
		  set(o, "memlimit", json_integer((json_int_t)f->kdf.memlimit)) &&
		  hex_set(o, "salt", f->salt, sizeof(f->salt));
	return built(o, ok);
}

static json_t *cipher_json(const struct ist_keystore_file *f)
{
	json_t *o = json_object();
	bool ok = set(o, "name", json_string(CIPHER_NAME)) && hex_set(o, "nonce", f->nonce, sizeof(f->nonce)) &&
		  hex_set(o, "ciphertext", f->ciphertext, f->ciphertext_len);
	return built(o, ok);
}

/* The key file's text, or NULL when out of memory: never a file with a
 * field missing, which would not open again. */
static char *file_to_json(const struct ist_keystore_file *f)
{
	json_t *root = json_object();
	/* every set runs (no short cut), so that each part built is consumed */
	bool ok = set(root, "format", json_string(IST_KEYSTORE_FORMAT));
	ok = set(root, "version", json_integer(f->info.version)) && ok;
	ok = set(root, "name", json_string(f->info.name)) && ok;
	ok = set(root, "keys", ist_keystore_keys_json(&f->info)) && ok;
	ok = set(root, "kdf", kdf_json(f)) && ok;
	ok = set(root, "cipher", cipher_json(f)) && ok;
	ok = set(root, "created", json_string(f->info.created)) && ok;
	char *text = NULL, *dumped = ok ? json_dumps(root, JSON_INDENT(2)) : NULL;
	if (dumped) {
		/* a trailing newline, as text files have */
		size_t n = strlen(dumped);
		text = malloc(n + 2);
		if (text) {
			memcpy(text, dumped, n);
			text[n] = '\n';
			text[n + 1] = '\0';
		}
		free(dumped);
	}
	json_decref(root);
	return text;
}

static void format_created(uint64_t unix_s, char out[IST_KEYSTORE_CREATED_MAX + 1])
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, IST_KEYSTORE_CREATED_MAX + 1, "%Y-%m-%dT%H:%M:%SZ", &tm) != 20)
		snprintf(out, IST_KEYSTORE_CREATED_MAX + 1, "1970-01-01T00:00:00Z");
}

int ist_keystore_encrypt(struct ist_keyset *ks, const char *pass, size_t pass_len,
			 const struct ist_keystore_kdf *kdf, const struct ist_rng *rng, uint64_t created_unix,
			 char **ret_json)
{
	struct ist_keystore_kdf def = ist_keystore_kdf_default();
	if (!kdf)
		kdf = &def;
	if (!ks || !pass_ok(pass, pass_len) || !ist_keystore_kdf_acceptable(kdf) || !rng)
		return -IST_EINVAL;

	struct ist_keystore_file *f = calloc(1, sizeof(*f));
	uint8_t *key = NULL, *ad = NULL;
	size_t ad_len = 0;
	int r = -IST_ENOMEM;
	if (!f)
		return r;
	f->info = ks->info;
	f->info.version = IST_KEYSTORE_VERSION;
	format_created(created_unix, f->info.created);
	f->kdf = *kdf;
	if ((r = ist_rng_fill(rng, f->salt, sizeof(f->salt))) < 0 ||
	    (r = ist_rng_fill(rng, f->nonce, sizeof(f->nonce))) < 0)
		goto out;
	if ((r = derive_kek(pass, pass_len, f, &key)) < 0)
		goto out;
	if ((r = build_ad(f, &ad, &ad_len)) < 0)
		goto out;
	if ((r = ist_keyset_unseal(ks)) < 0)
		goto out;
	unsigned long long clen = 0;
	int ok = crypto_aead_xchacha20poly1305_ietf_encrypt(f->ciphertext, &clen, ks->secrets,
							     f->info.n_keys * IST_KEYSTORE_SECRET_BYTES, ad, ad_len,
							     NULL, f->nonce, key);
	ist_keyset_seal(ks);
	if (ok != 0) {
		r = -IST_ECRYPTO;
		goto out;
	}
	f->ciphertext_len = (size_t)clen;
	char *text = file_to_json(f);
	if (!text) {
		r = -IST_ENOMEM;
		goto out;
	}
	*ret_json = text;
	r = 0;
out:
	if (key)
		sodium_free(key);
	free(ad);
	free(f);
	return r;
}

/* ---- parsing ----------------------------------------------------------- */

struct parser {
	const char *label;
	char *errbuf;
	size_t errlen;
};

static int schema_err(struct parser *p, const char *fmt, ...) IST_PRINTF(2, 3);
static int schema_err(struct parser *p, const char *fmt, ...)
{
	char detail[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	seterr(p->errbuf, p->errlen, p->label, "not a keystore file (%s)", detail);
	return -IST_EPARSE;
}

static const char *json_type_word(json_type t)
{
	switch (t) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	default: return "of the right type";
	}
}

/* Looks up `key` of `obj` (whose dotted path is `where`, "" at the top) and
 * checks its type. Returns the borrowed value or NULL after setting the
 * error. */
static json_t *field(struct parser *p, json_t *obj, const char *where, const char *key, json_type type, int *err)
{
	char path[64];
	snprintf(path, sizeof(path), "%s%s%s", where, *where ? "." : "", key);
	json_t *v = json_object_get(obj, key);
	if (!v) {
		*err = schema_err(p, "missing field \"%s\"", path);
		return NULL;
	}
	if (json_typeof(v) != type) {
		*err = schema_err(p, "field \"%s\" is not %s", path, json_type_word(type));
		return NULL;
	}
	return v;
}

static const char *field_str(struct parser *p, json_t *obj, const char *where, const char *key, int *err)
{
	json_t *v = field(p, obj, where, key, JSON_STRING, err);
	return v ? json_string_value(v) : NULL;
}

/* Rejects any key of `obj` not in the NULL-terminated list: everything a file
 * says is either understood and authenticated, or refused. */
static int only_fields(struct parser *p, json_t *obj, const char *where, const char *const *allowed)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			/* the key may be anything: show it only when it is short and tame */
			bool tame = strlen(key) <= 32;
			for (const char *c = key; *c && tame; c++)
				tame = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
				       *c == '_' || *c == '-';
			if (tame)
				return schema_err(p, "unknown field \"%s%s%s\"", where, *where ? "." : "", key);
			return schema_err(p, "unknown field in %s", *where ? where : "the top-level object");
		}
	}
	return 0;
}

/* Decodes a hex field of exactly `len` bytes. */
static int hex_field(struct parser *p, json_t *obj, const char *where, const char *key, uint8_t *out, size_t len)
{
	int err = 0;
	const char *s = field_str(p, obj, where, key, &err);
	if (!s)
		return err;
	if (ist_hex_decode(s, out, len) < 0)
		return schema_err(p, "field \"%s%s%s\" is not a %zu-byte hex string", where, *where ? "." : "", key,
				  len);
	return 0;
}

static bool rfc3339_utc(const char *s)
{
	/* exactly YYYY-MM-DDTHH:MM:SSZ, as we write it */
	static const char pattern[] = "dddd-dd-ddTdd:dd:ddZ";
	if (strlen(s) != sizeof(pattern) - 1)
		return false;
	for (size_t i = 0; pattern[i]; i++) {
		if (pattern[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pattern[i])
			return false;
	}
	return true;
}

static int parse_key(struct parser *p, json_t *o, size_t i, struct ist_keystore_key *ret_key)
{
	char where[16];
	snprintf(where, sizeof(where), "keys[%zu]", i);
	if (!json_is_object(o))
		return schema_err(p, "field \"%s\" is not an object", where);
	int err = 0;
	const char *type = field_str(p, o, where, "type", &err);
	if (!type)
		return err;
	struct ist_keystore_key k;
	memset(&k, 0, sizeof(k));
	if (ist_key_type_parse(type, &k.type) < 0) {
		seterr(p->errbuf, p->errlen, p->label, "unsupported key type in field \"%s.type\"", where);
		return -IST_EUNSUPPORTED;
	}
	const char *purpose = field_str(p, o, where, "purpose", &err);
	if (!purpose)
		return err;
	if (strcmp(purpose, ist_key_type_purpose(k.type)) != 0)
		return schema_err(p, "field \"%s.purpose\" must be \"%s\" for type %s", where,
				  ist_key_type_purpose(k.type), ist_key_type_name(k.type));
	static const char *const plain[] = { "type", "purpose", "public", NULL };
	static const char *const secp[] = { "type", "purpose", "public", "address", NULL };
	if ((err = only_fields(p, o, where, k.type == IST_KEY_SECP256K1 ? secp : plain)) < 0)
		return err;
	k.pub_len = ist_key_type_pubkey_len(k.type);
	if ((err = hex_field(p, o, where, "public", k.pub, k.pub_len)) < 0)
		return err;
	if (k.type == IST_KEY_ED25519 && !crypto_core_ed25519_is_valid_point(k.pub)) {
		seterr(p->errbuf, p->errlen, p->label, "field \"%s.public\" is not a valid ed25519 public key", where);
		return -IST_EBADKEY;
	}
	if (k.type == IST_KEY_SECP256K1) {
		const char *addr = field_str(p, o, where, "address", &err);
		if (!addr)
			return err;
		if (ist_secp_eth_address(k.pub, k.addr) < 0) {
			seterr(p->errbuf, p->errlen, p->label, "field \"%s.public\" is not a valid secp256k1 public key",
			       where);
			return -IST_EBADKEY;
		}
		char want[43];
		ist_eth_address_format(k.addr, want);
		if (strcmp(addr, want) != 0) {
			seterr(p->errbuf, p->errlen, p->label,
			       "field \"%s.address\" is not the EIP-55 address of its public key", where);
			return -IST_EBADKEY;
		}
	}
	*ret_key = k;
	return 0;
}

static int parse_root(struct parser *p, json_t *root, struct ist_keystore_file *f)
{
	int err = 0;
	if (!json_is_object(root))
		return schema_err(p, "not a JSON object");

	const char *format = field_str(p, root, "", "format", &err);
	if (!format)
		return err;
	if (strcmp(format, IST_KEYSTORE_FORMAT) != 0)
		return schema_err(p, "field \"format\" is not \"" IST_KEYSTORE_FORMAT "\"");
	json_t *v = field(p, root, "", "version", JSON_INTEGER, &err);
	if (!v)
		return err;
	json_int_t version = json_integer_value(v);
	if (version != IST_KEYSTORE_VERSION) {
		seterr(p->errbuf, p->errlen, p->label, "unsupported keystore version %lld (this isthmus reads version %d)",
		       (long long)version, IST_KEYSTORE_VERSION);
		return -IST_EUNSUPPORTED;
	}
	f->info.version = IST_KEYSTORE_VERSION;
	static const char *const top[] = { "format", "version", "name", "keys", "kdf", "cipher", "created", NULL };
	if ((err = only_fields(p, root, "", top)) < 0)
		return err;

	const char *name = field_str(p, root, "", "name", &err);
	if (!name)
		return err;
	if (!ist_keystore_name_valid(name))
		return schema_err(p, "field \"name\" is not a valid keyset name");
	snprintf(f->info.name, sizeof(f->info.name), "%s", name);

	const char *created = field_str(p, root, "", "created", &err);
	if (!created)
		return err;
	if (!rfc3339_utc(created))
		return schema_err(p, "field \"created\" is not a time like 2024-05-01T12:00:00Z");
	snprintf(f->info.created, sizeof(f->info.created), "%s", created);

	json_t *keys = field(p, root, "", "keys", JSON_ARRAY, &err);
	if (!keys)
		return err;
	size_t n = json_array_size(keys);
	if (n == 0 || n > IST_KEYSTORE_MAX_KEYS)
		return schema_err(p, "field \"keys\" must hold 1 to %d keys", IST_KEYSTORE_MAX_KEYS);
	for (size_t i = 0; i < n; i++) {
		if ((err = parse_key(p, json_array_get(keys, i), i, &f->info.keys[i])) < 0)
			return err;
		for (size_t j = 0; j < i; j++)
			if (f->info.keys[j].type == f->info.keys[i].type)
				return schema_err(p, "two %s keys in field \"keys\"", ist_key_type_name(f->info.keys[i].type));
	}
	f->info.n_keys = n;

	json_t *kdf = field(p, root, "", "kdf", JSON_OBJECT, &err);
	if (!kdf)
		return err;
	const char *kdf_name = field_str(p, kdf, "kdf", "name", &err);
	if (!kdf_name)
		return err;
	if (strcmp(kdf_name, KDF_NAME) != 0) {
		seterr(p->errbuf, p->errlen, p->label, "unsupported KDF in field \"kdf.name\" (this isthmus reads \"%s\")",
		       KDF_NAME);
		return -IST_EUNSUPPORTED;
	}
	static const char *const kdf_fields[] = { "name", "opslimit", "memlimit", "salt", NULL };
	if ((err = only_fields(p, kdf, "kdf", kdf_fields)) < 0)
		return err;
	json_t *ops = field(p, kdf, "kdf", "opslimit", JSON_INTEGER, &err);
	if (!ops)
		return err;
	json_t *mem = field(p, kdf, "kdf", "memlimit", JSON_INTEGER, &err);
	if (!mem)
		return err;
	json_int_t opsv = json_integer_value(ops), memv = json_integer_value(mem);
	/* out-of-range values map to something the bounds check below refuses */
	f->kdf.opslimit = opsv < 0 ? 0 : (uint64_t)opsv;
	f->kdf.memlimit = memv < 0 ? 0
			  : (unsigned long long)memv > IST_KEYSTORE_MEMLIMIT_MAX ? IST_KEYSTORE_MEMLIMIT_MAX + 1
										  : (size_t)memv;
	if (!ist_keystore_kdf_acceptable(&f->kdf)) {
		seterr(p->errbuf, p->errlen, p->label,
		       "KDF cost out of bounds (opslimit %lld, memlimit %lld; accepted: opslimit %llu..%d, "
		       "memlimit %llu..%zu), refusing to read",
		       (long long)json_integer_value(ops), (long long)json_integer_value(mem),
		       (unsigned long long)crypto_pwhash_OPSLIMIT_MIN, IST_KEYSTORE_OPSLIMIT_MAX,
		       (unsigned long long)crypto_pwhash_MEMLIMIT_MIN, IST_KEYSTORE_MEMLIMIT_MAX);
		return -IST_ERANGE;
	}
	if ((err = hex_field(p, kdf, "kdf", "salt", f->salt, sizeof(f->salt))) < 0)
		return err;

	json_t *cipher = field(p, root, "", "cipher", JSON_OBJECT, &err);
	if (!cipher)
		return err;
	const char *cipher_name = field_str(p, cipher, "cipher", "name", &err);
	if (!cipher_name)
		return err;
	if (strcmp(cipher_name, CIPHER_NAME) != 0) {
		seterr(p->errbuf, p->errlen, p->label,
		       "unsupported cipher in field \"cipher.name\" (this isthmus reads \"%s\")", CIPHER_NAME);
		return -IST_EUNSUPPORTED;
	}
	static const char *const cipher_fields[] = { "name", "nonce", "ciphertext", NULL };
	if ((err = only_fields(p, cipher, "cipher", cipher_fields)) < 0)
		return err;
	if ((err = hex_field(p, cipher, "cipher", "nonce", f->nonce, sizeof(f->nonce))) < 0)
		return err;
	f->ciphertext_len = n * IST_KEYSTORE_SECRET_BYTES + IST_KEYSTORE_TAG_BYTES;
	if ((err = hex_field(p, cipher, "cipher", "ciphertext", f->ciphertext, f->ciphertext_len)) < 0)
		return err;
	return 0;
}

int ist_keystore_parse(const char *label, const char *text, size_t len, struct ist_keystore_file *ret_file,
		       char *errbuf, size_t errlen)
{
	struct parser p = { .label = label, .errbuf = errbuf, .errlen = errlen };
	if (!text && len > 0)
		return -IST_EINVAL;
	if (len > IST_KEYSTORE_FILE_MAX) {
		seterr(errbuf, errlen, label, "file too large for a keystore file (%zu bytes, at most %d)", len,
		       IST_KEYSTORE_FILE_MAX);
		return -IST_ETOOBIG;
	}
	size_t i = 0;
	while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\r' || text[i] == '\t'))
		i++;
	if (i == len) {
		seterr(errbuf, errlen, label, "empty file, not a keystore file");
		return -IST_ETRUNCATED;
	}

	json_error_t jerr;
	json_t *root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson's own text may quote the input; it stays out of the line
		 * (someone may point us at a file of secrets by mistake) */
		seterr(errbuf, errlen, label, "truncated or not JSON (line %d, column %d)", jerr.line, jerr.column);
		return json_error_code(&jerr) == json_error_premature_end_of_input ? -IST_ETRUNCATED : -IST_EPARSE;
	}
	struct ist_keystore_file *f = calloc(1, sizeof(*f));
	if (!f) {
		json_decref(root);
		seterr(errbuf, errlen, label, "out of memory");
		return -IST_ENOMEM;
	}
	int r = parse_root(&p, root, f);
	json_decref(root);
	if (r == 0)
		*ret_file = *f;
	free(f);
	return r;
}

/* ---- decryption ---------------------------------------------------------- */

int ist_keystore_decrypt(const char *label, const struct ist_keystore_file *file, const char *pass,
			 size_t pass_len, struct ist_keyset **ret_ks, char *errbuf, size_t errlen)
{
	if (!pass_ok(pass, pass_len)) {
		seterr(errbuf, errlen, label, "empty or too long passphrase");
		return -IST_EINVAL;
	}
	const struct ist_keyset_info *info = &file->info;
	if (info->n_keys == 0 || info->n_keys > IST_KEYSTORE_MAX_KEYS ||
	    file->ciphertext_len != info->n_keys * IST_KEYSTORE_SECRET_BYTES + IST_KEYSTORE_TAG_BYTES ||
	    !ist_keystore_kdf_acceptable(&file->kdf)) {
		seterr(errbuf, errlen, label, "invalid keystore parameters");
		return -IST_EINVAL;
	}

	uint8_t *key = NULL, *ad = NULL;
	size_t ad_len = 0;
	struct ist_keyset *ks = NULL;
	int r = derive_kek(pass, pass_len, file, &key);
	if (r < 0) {
		seterr(errbuf, errlen, label, "not enough memory for the key derivation (memlimit %zu)",
		       file->kdf.memlimit);
		goto out;
	}
	if ((r = build_ad(file, &ad, &ad_len)) < 0 || !(ks = keyset_alloc())) {
		r = r < 0 ? r : -IST_ENOMEM;
		seterr(errbuf, errlen, label, "out of memory");
		goto out;
	}
	unsigned long long mlen = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(ks->secrets, &mlen, NULL, file->ciphertext,
						       file->ciphertext_len, ad, ad_len, file->nonce, key) != 0 ||
	    mlen != info->n_keys * IST_KEYSTORE_SECRET_BYTES) {
		seterr(errbuf, errlen, label, "wrong passphrase or tampered file");
		r = -IST_EDECRYPT;
		goto out;
	}
	ks->info = *info;
	/* defence in depth: the file's public keys must be those of its secrets */
	for (size_t i = 0; i < info->n_keys; i++) {
		struct ist_keystore_key k;
		r = derive_public(info->keys[i].type, ks->secrets + i * IST_KEYSTORE_SECRET_BYTES, &k);
		if (r < 0 || k.pub_len != info->keys[i].pub_len || sodium_memcmp(k.pub, info->keys[i].pub, k.pub_len) != 0) {
			seterr(errbuf, errlen, label, "public key does not match secret (keys[%zu], %s)", i,
			       ist_key_type_name(info->keys[i].type));
			r = -IST_EBADKEY;
			goto out;
		}
	}
	keyset_finish(ks);
	*ret_ks = ks;
	ks = NULL;
	r = 0;
out:
	ist_keyset_free(ks);
	if (key)
		sodium_free(key);
	free(ad);
	return r;
}

/* ---- files ------------------------------------------------------------- */

static int errno_err(char *errbuf, size_t errlen, const char *label, const char *what, int e)
{
	seterr(errbuf, errlen, label, "%s: %s", what, strerror(e));
	return ist_err_from_errno(e);
}

/* mkdir -p with mode 0700 for every directory it makes. */
static int mkdir_p(const char *dir)
{
	size_t n = strlen(dir);
	if (n == 0 || n >= PATH_MAX)
		return ENAMETOOLONG;
	char path[PATH_MAX];
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST)
			return errno;
		path[i] = c;
	}
	return 0;
}

int ist_keystore_dir_check(const char *dir, bool create, char *errbuf, size_t errlen)
{
	struct stat st;
	if (!dir || !*dir) {
		seterr(errbuf, errlen, "keystore", "no keystore directory given");
		return -IST_EINVAL;
	}
	if (stat(dir, &st) < 0) {
		int e = errno;
		if (e != ENOENT)
			return errno_err(errbuf, errlen, dir, "keystore directory", e);
		if (!create) {
			seterr(errbuf, errlen, dir, "keystore directory does not exist");
			return -IST_ENOTFOUND;
		}
		if ((e = mkdir_p(dir)) != 0)
			return errno_err(errbuf, errlen, dir, "cannot create the keystore directory", e);
		/* whatever the umask did, the directory we made is 0700 */
		if (chmod(dir, 0700) < 0 || stat(dir, &st) < 0)
			return errno_err(errbuf, errlen, dir, "keystore directory", errno);
	}
	if (!S_ISDIR(st.st_mode)) {
		seterr(errbuf, errlen, dir, "keystore path is not a directory");
		return -IST_EINVAL;
	}
	if (st.st_uid != geteuid()) {
		seterr(errbuf, errlen, dir, "keystore directory is owned by uid %u, not by the current user",
		       (unsigned)st.st_uid);
		return -IST_EPERM;
	}
	if (st.st_mode & 077) {
		seterr(errbuf, errlen, dir,
		       "keystore directory is accessible by group or others (mode %04o); fix with: chmod 700 %s",
		       (unsigned)(st.st_mode & 07777), dir);
		return -IST_EPERM;
	}
	return 0;
}

int ist_keystore_path(const char *dir, const char *name, char **ret_path)
{
	if (!dir || !ist_keystore_name_valid(name))
		return -IST_EINVAL;
	char *path = NULL;
	size_t dl = strlen(dir);
	bool slash = dl > 0 && dir[dl - 1] == '/';
	if (asprintf(&path, "%s%s%s.json", dir, slash ? "" : "/", name) < 0)
		return -IST_ENOMEM;
	*ret_path = path;
	return 0;
}

int ist_keystore_load_public(const char *path, struct ist_keystore_file *ret_file, char *errbuf, size_t errlen)
{
	/* O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer
	 * before the check below refuses it; it changes nothing for the reads
	 * of a regular file */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT) {
			seterr(errbuf, errlen, path, "no such key file");
			return -IST_ENOTFOUND;
		}
		return errno_err(errbuf, errlen, path, "cannot open", e);
	}
	struct stat st;
	char *buf = NULL;
	int r;
	if (fstat(fd, &st) < 0) {
		r = errno_err(errbuf, errlen, path, "cannot stat", errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(errbuf, errlen, path, "not a regular file");
		r = -IST_EINVAL;
		goto out;
	}
	/* read at most one byte past the limit, whatever st_size claims */
	buf = malloc(IST_KEYSTORE_FILE_MAX + 1);
	if (!buf) {
		seterr(errbuf, errlen, path, "out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	size_t len = 0;
	while (len < IST_KEYSTORE_FILE_MAX + 1) {
		ssize_t n = read(fd, buf + len, IST_KEYSTORE_FILE_MAX + 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = errno_err(errbuf, errlen, path, "read error", errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	r = ist_keystore_parse(path, buf, len, ret_file, errbuf, errlen);
out:
	free(buf);
	close(fd);
	return r;
}

int ist_keystore_unlock(const char *path, const char *pass, size_t pass_len, struct ist_keyset **ret_ks,
			char *errbuf, size_t errlen)
{
	struct ist_keystore_file *f = calloc(1, sizeof(*f));
	if (!f) {
		seterr(errbuf, errlen, path, "out of memory");
		return -IST_ENOMEM;
	}
	int r = ist_keystore_load_public(path, f, errbuf, errlen);
	if (r == 0)
		r = ist_keystore_decrypt(path, f, pass, pass_len, ret_ks, errbuf, errlen);
	free(f);
	return r;
}

int ist_keystore_write(const char *dir, struct ist_keyset *ks, const char *pass, size_t pass_len,
		       const struct ist_keystore_kdf *kdf, bool force, char **ret_path, char *errbuf, size_t errlen)
{
	char *path = NULL, *json = NULL;
	int r;
	if ((r = ist_keystore_dir_check(dir, true, errbuf, errlen)) < 0)
		return r;
	if ((r = ist_keystore_path(dir, ks->info.name, &path)) < 0) {
		seterr(errbuf, errlen, dir, "invalid keyset name");
		return r;
	}
	struct stat st;
	if (!force && lstat(path, &st) == 0) {
		/* checked before the costly KDF; the write below checks again */
		seterr(errbuf, errlen, path, "key file already exists (use --force to replace it)");
		r = -IST_EEXISTS;
		goto out;
	}
	uint64_t now = ist_clock_now_ms(ist_clock_system()) / 1000;
	if ((r = ist_keystore_encrypt(ks, pass, pass_len, kdf, ist_rng_system(), now, &json)) < 0) {
		seterr(errbuf, errlen, path, "cannot encrypt the keyset: %s", ist_strerror(r));
		goto out;
	}
	struct ist_file_fail ff;
	if ((r = ist_file_write_atomic(path, json, strlen(json), 0600, force, &ff)) < 0) {
		switch (ff.step) {
		case IST_FILE_STEP_CREATE:
			errno_err(errbuf, errlen, dir, "cannot create a temporary file", ff.errnum);
			break;
		case IST_FILE_STEP_WRITE:
			errno_err(errbuf, errlen, ff.tmp, "cannot write", ff.errnum);
			break;
		case IST_FILE_STEP_RENAME:
			if (!force && ff.errnum == EEXIST) {
				seterr(errbuf, errlen, path, "key file already exists (use --force to replace it)");
				r = -IST_EEXISTS;
			} else {
				errno_err(errbuf, errlen, path, "cannot rename the temporary file", ff.errnum);
			}
			break;
		case IST_FILE_STEP_SYNC_DIR:
			errno_err(errbuf, errlen, dir, "cannot sync the keystore directory", ff.errnum);
			break;
		case IST_FILE_STEP_PREPARE:
		case IST_FILE_STEP_NONE:
		default:
			seterr(errbuf, errlen, path, "out of memory");
			r = -IST_ENOMEM;
			break;
		}
		goto out;
	}
	if (ret_path) {
		*ret_path = path;
		path = NULL;
	}
	r = 0;
out:
	free(json);
	free(path);
	return r;
}

int ist_keystore_delete(const char *dir, const char *name, char *errbuf, size_t errlen)
{
	char *path = NULL;
	if (ist_keystore_path(dir, name, &path) < 0) {
		seterr(errbuf, errlen, dir ? dir : "keystore", "invalid keyset name");
		return -IST_EINVAL;
	}
	int r = 0;
	if (unlink(path) < 0) {
		int e = errno;
		if (e == ENOENT) {
			seterr(errbuf, errlen, path, "no such key file");
			r = -IST_ENOTFOUND;
		} else {
			r = errno_err(errbuf, errlen, path, "cannot delete", e);
		}
	} else {
		int e = 0;
		if (ist_file_sync_dir(dir, &e) < 0)
			r = errno_err(errbuf, errlen, dir, "cannot sync the keystore directory", e);
	}
	free(path);
	return r;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void ist_keystore_names_free(char **names, size_t n)
{
	if (!names)
		return;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int ist_keystore_list(const char *dir, char ***ret_names, size_t *ret_n, char *errbuf, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		int e = errno;
		if (e == ENOENT) {
			seterr(errbuf, errlen, dir, "keystore directory does not exist");
			return -IST_ENOTFOUND;
		}
		return errno_err(errbuf, errlen, dir, "cannot read the keystore directory", e);
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0, read_err = 0;
	for (;;) {
		/* readdir returns NULL at the end and on an error, which only
		 * errno tells apart: a failed read must not pass for a short list */
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			read_err = errno;
			break;
		}
		size_t len = strlen(e->d_name);
		if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		char *name = strndup(e->d_name, len - 5);
		if (!name) {
			r = -IST_ENOMEM;
			break;
		}
		if (!ist_keystore_name_valid(name)) {
			free(name);
			continue;
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				free(name);
				r = -IST_ENOMEM;
				break;
			}
			names = nn;
		}
		names[n++] = name;
	}
	closedir(d);
	if (r < 0 || read_err) {
		ist_keystore_names_free(names, n);
		if (r < 0) {
			seterr(errbuf, errlen, dir, "out of memory");
			return r;
		}
		return errno_err(errbuf, errlen, dir, "cannot read the keystore directory", read_err);
	}
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	*ret_names = names;
	*ret_n = n;
	return 0;
}
