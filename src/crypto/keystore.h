/*
 * The keystore: named keysets of validator keys, encrypted on disk.
 *
 * A key file holds one named *keyset* of 1..3 keys of distinct types:
 *
 *   type       purpose       secret                public
 *   ed25519    node          32-byte RFC 8032 seed 32 bytes
 *   secp256k1  attestation   32-byte scalar        33 bytes (compressed) + EIP-55 address
 *   x25519     dkg           32-byte scalar        32 bytes
 *
 * A validator keyset is all three, in that order. The file is JSON
 * (docs/cli-keys.md has the full layout):
 *
 *   {"format":"isthmus-keystore","version":1,"name":"val1",
 *    "keys":[{"type":"ed25519","purpose":"node","public":"<hex>"}, ...],
 *    "kdf":{"name":"argon2id13","opslimit":N,"memlimit":N,"salt":"<hex16>"},
 *    "cipher":{"name":"xchacha20poly1305-ietf","nonce":"<hex24>","ciphertext":"<hex>"},
 *    "created":"2024-05-01T12:00:00Z"}
 *
 * The plaintext is the secrets concatenated in key order. The key is
 * Argon2id(passphrase, salt, opslimit, memlimit); the AEAD associated data is
 * IST_TAG_KEYSTORE followed by a canonical encoding of every other public
 * field (version, name, created, each key's type, purpose and public key, the
 * KDF parameters and salt), so an edit anywhere in the public part makes the
 * decryption fail. After decrypting, every public key is derived again from
 * its secret and compared.
 *
 * Secrets live only in sodium_malloc'd memory owned by a struct ist_keyset,
 * kept inaccessible (PROT_NONE) except between ist_keyset_unseal() and
 * ist_keyset_seal(); ist_keyset_free() wipes and frees it.
 *
 * Error details: the functions that take `errbuf`/`errlen` write one line,
 * without a newline, that names the file (or the `label` given) and the
 * problem, e.g. "keys/val1.json: wrong passphrase or tampered file". The line
 * never contains secret material or control characters. `errbuf` may be NULL
 * (errlen 0); it is written only on failure.
 *
 * Every function needs ist_crypto_init() to have succeeded.
 */
#ifndef IST_CRYPTO_KEYSTORE_H
#define IST_CRYPTO_KEYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"
#include "common/rng.h"
#include "crypto/secp256k1.h"

#define IST_KEYSTORE_FORMAT "isthmus-keystore"
#define IST_KEYSTORE_VERSION 1
#define IST_KEYSTORE_MAX_KEYS 3
#define IST_KEYSTORE_SECRET_BYTES 32   /* every key type has a 32-byte secret */
#define IST_KEYSTORE_PUBKEY_MAX 33     /* the longest public key (secp256k1) */
#define IST_KEYSTORE_NAME_MAX 64       /* bytes of a keyset name */
#define IST_KEYSTORE_CREATED_MAX 32    /* bytes of the "created" string */
#define IST_KEYSTORE_SALT_BYTES 16     /* crypto_pwhash_SALTBYTES */
#define IST_KEYSTORE_NONCE_BYTES 24    /* crypto_aead_xchacha20poly1305_ietf_NPUBBYTES */
#define IST_KEYSTORE_TAG_BYTES 16      /* crypto_aead_xchacha20poly1305_ietf_ABYTES */
#define IST_KEYSTORE_CIPHERTEXT_MAX (IST_KEYSTORE_MAX_KEYS * IST_KEYSTORE_SECRET_BYTES + IST_KEYSTORE_TAG_BYTES)
#define IST_KEYSTORE_FILE_MAX 65536    /* a key file larger than this is refused unread */
#define IST_KEYSTORE_PASSPHRASE_MAX 1024

/* Bounds on the KDF cost a file may declare. A reader refuses anything below
 * libsodium's minimum (too weak to be ours) or above these caps (a file that
 * would make us spend minutes or gigabytes is a denial of service). */
#define IST_KEYSTORE_OPSLIMIT_MAX 64
#define IST_KEYSTORE_MEMLIMIT_MAX ((size_t)1 << 30)   /* 1 GiB */

enum ist_key_type {
	IST_KEY_ED25519 = 1,   /* purpose "node" */
	IST_KEY_SECP256K1,     /* purpose "attestation" */
	IST_KEY_X25519,        /* purpose "dkg" */
};

/* "ed25519", "secp256k1", "x25519"; "?" for anything else. Static. */
const char *ist_key_type_name(enum ist_key_type type);
/* "node", "attestation", "dkg"; "?" for anything else. Static. */
const char *ist_key_type_purpose(enum ist_key_type type);
/* Length of the public key of `type` (32 or 33), 0 for an unknown type. */
size_t ist_key_type_pubkey_len(enum ist_key_type type);
/* Parses a type name. Returns 0 or -IST_EINVAL. */
int ist_key_type_parse(const char *s, enum ist_key_type *ret_type) IST_WUR;
/* Parses the kind of a keyset: "validator" (the three types, in order) or one
 * type name. Out: ret_types[0..*ret_n). Returns 0 or -IST_EINVAL. */
int ist_keyset_kind_parse(const char *s, enum ist_key_type ret_types[IST_KEYSTORE_MAX_KEYS],
			  size_t *ret_n) IST_WUR;

/* True when `name` may name a keyset (and so a file NAME.json): 1..64 bytes
 * of [A-Za-z0-9._-], not starting with '.' or '-'. */
bool ist_keystore_name_valid(const char *name) IST_WUR;

/* One public key of a keyset. */
struct ist_keystore_key {
	enum ist_key_type type;
	uint8_t pub[IST_KEYSTORE_PUBKEY_MAX];
	size_t pub_len;
	uint8_t addr[IST_ETH_ADDRESS_BYTES];   /* secp256k1 only: the Ethereum address */
};

/* The public description of a keyset: plain memory, no secrets, no _fini. */
struct ist_keyset_info {
	uint32_t version;
	char name[IST_KEYSTORE_NAME_MAX + 1];
	char created[IST_KEYSTORE_CREATED_MAX + 1];   /* RFC 3339 UTC, "" until written */
	size_t n_keys;                                 /* 1..IST_KEYSTORE_MAX_KEYS */
	struct ist_keystore_key keys[IST_KEYSTORE_MAX_KEYS];
};

/* Returns the key of `type` in `info`, or NULL when the keyset has none.
 * The pointer borrows from `info`. */
const struct ist_keystore_key *ist_keyset_info_find(const struct ist_keyset_info *info,
						    enum ist_key_type type);

/* KDF cost (crypto_pwhash, Argon2id v1.3). */
struct ist_keystore_kdf {
	uint64_t opslimit;
	size_t memlimit;
};

/* crypto_pwhash_OPSLIMIT_MODERATE / MEMLIMIT_MODERATE: for real keys. */
struct ist_keystore_kdf ist_keystore_kdf_default(void);
/* crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE: for tests and
 * devnets only (about four times cheaper to attack). */
struct ist_keystore_kdf ist_keystore_kdf_fast(void);
/* crypto_pwhash_OPSLIMIT_MIN / MEMLIMIT_MIN: the least a reader accepts; for
 * unit tests and fuzz corpora, never for keys that matter. */
struct ist_keystore_kdf ist_keystore_kdf_min(void);
/* True when a reader accepts this cost (MIN <= cost <= the caps above). */
bool ist_keystore_kdf_acceptable(const struct ist_keystore_kdf *kdf) IST_WUR;

/* A parsed key file: the public part plus the parameters of the encryption.
 * Plain memory (holds no secret); no _fini. */
struct ist_keystore_file {
	struct ist_keyset_info info;
	struct ist_keystore_kdf kdf;
	uint8_t salt[IST_KEYSTORE_SALT_BYTES];
	uint8_t nonce[IST_KEYSTORE_NONCE_BYTES];
	uint8_t ciphertext[IST_KEYSTORE_CIPHERTEXT_MAX];
	size_t ciphertext_len;   /* n_keys * 32 + 16 */
};

/*
 * A keyset with its secrets, in guarded memory. Opaque.
 */
struct ist_keyset;

/* Makes a keyset of new keys, one per entry of `types` (1..3 distinct types),
 * from `rng` (ist_rng_system() for real keys).
 * Out: *ret_ks, owned by the caller (ist_keyset_free).
 * Returns 0, -IST_EINVAL (bad name or types), -IST_ENOMEM, -IST_EIO or
 * -IST_ECRYPTO. */
int ist_keyset_generate(const char *name, const enum ist_key_type *types, size_t n_types,
			const struct ist_rng *rng, struct ist_keyset **ret_ks) IST_WUR;

/* Makes a keyset from existing secrets: `secrets` holds n_types * 32 bytes,
 * the secret of types[i] at offset 32*i (borrowed, copied into guarded
 * memory; the caller wipes its copy). The public keys are derived.
 * Out: *ret_ks (caller frees). Returns 0, -IST_EINVAL (bad name, types or
 * length), -IST_EBADKEY (a secp256k1 secret out of range), -IST_ENOMEM or
 * -IST_ECRYPTO. */
int ist_keyset_from_secrets(const char *name, const enum ist_key_type *types, size_t n_types,
			    const uint8_t *secrets, size_t secrets_len, struct ist_keyset **ret_ks) IST_WUR;

/* Wipes the secrets and frees. Accepts NULL. */
void ist_keyset_free(struct ist_keyset *ks);

/* The public description of `ks`, borrowed for the life of `ks`. */
const struct ist_keyset_info *ist_keyset_info(const struct ist_keyset *ks);

/* Gives the keyset a new name (the secrets stay) and clears its creation
 * time (a key file gets a new one when written). Returns 0 or -IST_EINVAL. */
int ist_keyset_rename(struct ist_keyset *ks, const char *name) IST_WUR;

/* The secrets are inaccessible memory while sealed. ist_keyset_unseal() makes
 * them readable until the matching ist_keyset_seal() (calls nest). Returns 0
 * or -IST_ECRYPTO. */
int ist_keyset_unseal(struct ist_keyset *ks) IST_WUR;
void ist_keyset_seal(struct ist_keyset *ks);
/* The 32-byte secret of key `index` (< n_keys); valid only while unsealed.
 * Borrowed: never copy it out of guarded memory for longer than needed. */
const uint8_t *ist_keyset_secret(const struct ist_keyset *ks, size_t index);

/*
 * Serialisation (no file system).
 */

struct json_t;   /* jansson's */

/* The "keys" array of a key file, as JSON: per key {"type", "purpose",
 * "public" (hex), and for secp256k1 "address" (EIP-55)}, in key order. What
 * the CLI prints for a keyset is this same array.
 * Returns a new reference (json_decref it) or NULL when out of memory. */
struct json_t *ist_keystore_keys_json(const struct ist_keyset_info *info);

/* Encrypts `ks` under `pass` (`ks` is not const only because reading its
 * secrets unseals and reseals them) with the KDF cost `kdf` (a NULL kdf means
 * ist_keystore_kdf_default()), a salt and a nonce from `rng`, and the creation
 * time `created_unix` (seconds), and serialises the key file.
 * Out: *ret_json, a malloc'd NUL-terminated text ending with a newline
 * (caller frees; it holds no secret). Returns 0, -IST_EINVAL (empty or too
 * long passphrase, unacceptable kdf), -IST_ENOMEM (also when the KDF cannot
 * get its memory), -IST_EIO or -IST_ECRYPTO. */
int ist_keystore_encrypt(struct ist_keyset *ks, const char *pass, size_t pass_len,
			 const struct ist_keystore_kdf *kdf, const struct ist_rng *rng, uint64_t created_unix,
			 char **ret_json) IST_WUR;

/* Parses a key file's text (`len` bytes, need not be NUL-terminated) without
 * decrypting: a decoder of outside input. `label` names the source in error
 * lines (usually the path).
 * Out: *ret_file (written only on success).
 * Returns 0 or
 *   -IST_ETOOBIG       longer than IST_KEYSTORE_FILE_MAX,
 *   -IST_ETRUNCATED    the JSON ends early ("truncated or not JSON (line L, column C)"),
 *   -IST_EPARSE        not JSON, or JSON that is not a keystore file
 *                      ("not a keystore file (missing field \"kdf.salt\")"),
 *   -IST_EUNSUPPORTED  another version, KDF or cipher,
 *   -IST_ERANGE        a KDF cost outside the accepted bounds,
 *   -IST_EBADKEY       a public key that is not a valid point, or an address
 *                      that is not the EIP-55 address of its key,
 *   -IST_ENOMEM. */
int ist_keystore_parse(const char *label, const char *text, size_t len, struct ist_keystore_file *ret_file,
		       char *errbuf, size_t errlen) IST_WUR;

/* Decrypts a parsed file with `pass` and checks every public key against its
 * secret. Out: *ret_ks (caller frees). Returns 0 or
 *   -IST_EDECRYPT  "wrong passphrase or tampered file" (AEAD cannot tell which),
 *   -IST_EBADKEY   "public key does not match secret" (or an invalid secret),
 *   -IST_EINVAL    empty or too long passphrase,
 *   -IST_ENOMEM, -IST_ECRYPTO. */
int ist_keystore_decrypt(const char *label, const struct ist_keystore_file *file, const char *pass,
			 size_t pass_len, struct ist_keyset **ret_ks, char *errbuf, size_t errlen) IST_WUR;

/*
 * Files and the keystore directory.
 */

/* Checks the keystore directory `dir`: it must be a directory owned by the
 * effective user with no group or other permission bits (as ssh demands of
 * ~/.ssh). With `create`, a missing directory (and its missing parents) is
 * made with mode 0700. Returns 0 or -IST_ENOTFOUND (missing and !create),
 * -IST_EPERM (group/world accessible or another owner: the line says which
 * mode and how to fix it), -IST_EINVAL (not a directory), -IST_EIO. */
int ist_keystore_dir_check(const char *dir, bool create, char *errbuf, size_t errlen) IST_WUR;

/* The path DIR/NAME.json. Out: *ret_path (malloc'd, caller frees).
 * Returns 0, -IST_EINVAL (invalid name) or -IST_ENOMEM. */
int ist_keystore_path(const char *dir, const char *name, char **ret_path) IST_WUR;

/* Reads and parses the key file at `path` (no passphrase; at most
 * IST_KEYSTORE_FILE_MAX + 1 bytes are read). Returns 0, the errors of
 * ist_keystore_parse, -IST_ENOTFOUND ("no such key file"), -IST_EINVAL (not
 * a regular file), -IST_EPERM or -IST_EIO. */
int ist_keystore_load_public(const char *path, struct ist_keystore_file *ret_file, char *errbuf,
			     size_t errlen) IST_WUR;

/* Reads, parses and decrypts the key file at `path`.
 * Out: *ret_ks (caller frees). Errors of load_public and decrypt. */
int ist_keystore_unlock(const char *path, const char *pass, size_t pass_len, struct ist_keyset **ret_ks,
			char *errbuf, size_t errlen) IST_WUR;

/* Encrypts `ks` (as ist_keystore_encrypt, salt and nonce from the system RNG,
 * the current time) and writes it to DIR/NAME.json atomically and durably
 * (ist_file_write_atomic, common/file.h: a 0600 temporary file in `dir`,
 * fsync, rename, fsync of the directory). An existing
 * file is replaced only with `force`. `dir` goes through
 * ist_keystore_dir_check(dir, create = true): made 0700 when missing, refused
 * when group or others may access it.
 * Out: *ret_path (malloc'd, caller frees; may be NULL). Returns 0,
 * -IST_EEXISTS ("key file already exists (use --force to replace it)"), the
 * errors of encrypt and dir_check, -IST_EIO. */
int ist_keystore_write(const char *dir, struct ist_keyset *ks, const char *pass, size_t pass_len,
		       const struct ist_keystore_kdf *kdf, bool force, char **ret_path, char *errbuf,
		       size_t errlen) IST_WUR;

/* Unlinks DIR/NAME.json (no wiping: copies and backups are the operator's
 * business) and syncs the directory. Returns 0, -IST_EINVAL (bad name),
 * -IST_ENOTFOUND, -IST_EPERM or -IST_EIO. */
int ist_keystore_delete(const char *dir, const char *name, char *errbuf, size_t errlen) IST_WUR;

/* The names of the key files in `dir` (every NAME.json with a valid NAME),
 * sorted. Out: *ret_names, an array of *ret_n malloc'd strings (free with
 * ist_keystore_names_free). Returns 0, -IST_ENOTFOUND, -IST_EPERM, -IST_EIO
 * or -IST_ENOMEM. */
int ist_keystore_list(const char *dir, char ***ret_names, size_t *ret_n, char *errbuf, size_t errlen) IST_WUR;
void ist_keystore_names_free(char **names, size_t n);

#endif
