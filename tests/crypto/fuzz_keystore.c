/*
 * Fuzz target 'keystore': the key file parser, a decoder of outside input.
 *
 * It parses the bytes as a key file and, when they parse, checks what the
 * parser promises: the counts and lengths are consistent, the name is a
 * valid file name, the KDF cost is within the bounds a reader accepts (so a
 * file can never make us run a huge Argon2id). On failure the error line must
 * name the source and be one line. The KDF and the AEAD are deliberately left
 * out: they are libsodium's, and running Argon2id per input would make the
 * fuzzer crawl.
 *
 * Seed corpus: tests/fuzz/corpus/keystore/, written deterministically by
 *   build/tests/crypto/test_keystore --write-corpus tests/fuzz/corpus/keystore
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/keystore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LABEL "fuzz.json"

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (ist_crypto_init() < 0)
		abort();
	struct ist_keystore_file f;
	char err[512] = "";
	int r = ist_keystore_parse(LABEL, (const char *)data, size, &f, err, sizeof(err));
	if (r < 0) {
		check(strncmp(err, LABEL ": ", strlen(LABEL) + 2) == 0);
		check(strchr(err, '\n') == NULL && strchr(err, '\r') == NULL);
		return 0;
	}
	check(f.info.version == IST_KEYSTORE_VERSION);
	check(ist_keystore_name_valid(f.info.name));
	check(f.info.n_keys >= 1 && f.info.n_keys <= IST_KEYSTORE_MAX_KEYS);
	for (size_t i = 0; i < f.info.n_keys; i++) {
		const struct ist_keystore_key *k = &f.info.keys[i];
		check(k->pub_len == ist_key_type_pubkey_len(k->type) && k->pub_len > 0);
		check(ist_keyset_info_find(&f.info, k->type) == k);   /* types are distinct */
	}
	check(f.ciphertext_len == f.info.n_keys * IST_KEYSTORE_SECRET_BYTES + IST_KEYSTORE_TAG_BYTES);
	check(ist_keystore_kdf_acceptable(&f.kdf));
	check(strlen(f.info.created) == 20);
	return 0;
}
