/*
 * Writes the seed corpora of the wire fuzz targets, deterministically:
 *
 *   wire-gen-corpus DIR      (DIR is tests/fuzz/corpus in the source tree)
 *
 * For each kind, DIR/wire-<kind>/ gets a few valid encodings of the sample
 * values (tests/wire/samples.c) and broken variants of them: truncated, with
 * a flipped byte, with a field of the wrong length. Files the coverage-guided
 * fuzzers found are kept beside them (this program never deletes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/bytes.h"
#include "common/err.h"
#include "samples.h"
#include "wire/codec.h"
#include "wire/types.h"

static const char *root;

static void die(const char *what)
{
	fprintf(stderr, "wire-gen-corpus: %s\n", what);
	exit(1);
}

static void write_file(const char *kind, const char *name, const uint8_t *p, size_t n)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/wire-%s", root, kind);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(strerror(errno));
	snprintf(path, sizeof(path), "%s/wire-%s/%s", root, kind, name);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
		die(path);
}

/* A valid encoding and its broken variants. */
static void seeds(const char *kind, const char *name, const uint8_t *enc, size_t n)
{
	char fname[256];
	snprintf(fname, sizeof(fname), "%s", name);
	write_file(kind, fname, enc, n);
	if (n < 2)
		return;
	snprintf(fname, sizeof(fname), "%s-half", name);
	write_file(kind, fname, enc, n / 2);
	snprintf(fname, sizeof(fname), "%s-cut1", name);
	write_file(kind, fname, enc, n - 1);
	uint8_t *flip = malloc(n);
	if (!flip)
		die("out of memory");
	memcpy(flip, enc, n);
	flip[n / 3] ^= 0x41;
	snprintf(fname, sizeof(fname), "%s-flip", name);
	write_file(kind, fname, flip, n);
	free(flip);
}

#define ENCODE(kind, x, name)                                                 \
	do {                                                                  \
		uint8_t *e_;                                                  \
		size_t n_;                                                    \
		if (ist_wire_##kind##_encode((x), &e_, &n_) != 0)             \
			die("encode " #kind " " name);                        \
		seeds(#kind, name, e_, n_);                                   \
		free(e_);                                                     \
	} while (0)

static void *zalloc(size_t n)
{
	void *p = calloc(1, n);
	if (!p)
		die("out of memory");
	return p;
}

static void raw(const char *kind, const char *name, struct ist_buf *b)
{
	uint8_t *p;
	size_t n;
	if (ist_buf_take(b, &p, &n) != 0)
		die("buffer");
	write_file(kind, name, p, n);
	free(p);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: wire-gen-corpus DIR\n");
		return 2;
	}
	root = argv[1];
	uint8_t z[128] = { 0 };
	struct ist_buf b;

	struct ist_message m;
	sample_message(&m, 0);
	ENCODE(message, &m, "empty-payload");
	ist_wire_message_fini(&m);
	sample_message(&m, 100);
	ENCODE(message, &m, "payload");
	ist_wire_message_fini(&m);
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 4, z, 31);
	pbw_bytes(&b, 5, z, 32);
	raw("message", "short-sender", &b);

	struct ist_checkpoint cp;
	sample_checkpoint(&cp, 1);
	ENCODE(checkpoint, &cp, "sample");
	memset(&cp, 0, sizeof(cp));
	ENCODE(checkpoint, &cp, "zero");

	struct ist_certificate *cert = zalloc(sizeof(*cert));
	sample_certificate_multisig(cert, 4);
	ENCODE(certificate, cert, "multisig");
	sample_certificate_frost(cert);
	ENCODE(certificate, cert, "frost");
	free(cert);

	struct ist_delivery *d = zalloc(sizeof(*d));
	sample_delivery(d);
	ENCODE(delivery, d, "sample");
	ist_wire_delivery_fini(d);
	sample_delivery(d);
	sample_certificate_frost(&d->certificate);
	d->message_proof.path_len = 0;
	ENCODE(delivery, d, "frost-noproof");
	ist_wire_delivery_free(d);

	struct ist_tx tx;
	static const char *tx_names[] = { "", "transfer", "register", "bond", "unbond", "withdraw", "unjail" };
	for (int k = IST_TX_TRANSFER; k <= IST_TX_UNJAIL; k++) {
		sample_tx(&tx, (enum ist_tx_kind)k);
		ENCODE(tx, &tx, "x");
		/* rename: one file set per body kind */
		char from[4096], to[4096];
		static const char *suffix[] = { "", "-half", "-cut1", "-flip" };
		for (size_t i = 0; i < 4; i++) {
			snprintf(from, sizeof(from), "%s/wire-tx/x%s", root, suffix[i]);
			snprintf(to, sizeof(to), "%s/wire-tx/%s%s", root, tx_names[k], suffix[i]);
			if (rename(from, to) < 0)
				die(strerror(errno));
		}
	}

	struct ist_qc *qc = zalloc(sizeof(*qc));
	sample_qc(qc, 0);
	ENCODE(qc, qc, "genesis");
	sample_qc(qc, 5);
	ENCODE(qc, qc, "five");
	free(qc);

	struct ist_tc *tc = zalloc(sizeof(*tc));
	sample_tc(tc, 3);
	ENCODE(tc, tc, "three");
	free(tc);

	struct ist_block *blk = zalloc(sizeof(*blk));
	sample_block(blk, 0);
	ENCODE(block, blk, "empty");
	ist_wire_block_fini(blk);
	sample_block(blk, 6);
	ENCODE(block, blk, "every-item");
	ist_wire_block_free(blk);

	struct ist_proposal *p = zalloc(sizeof(*p));
	sample_proposal(p, 3, 0);
	ENCODE(proposal, p, "no-tc");
	ist_wire_proposal_fini(p);
	sample_proposal(p, 2, 1);
	ENCODE(proposal, p, "tc");
	ist_wire_proposal_free(p);

	struct ist_vote v;
	sample_vote(&v);
	ENCODE(vote, &v, "sample");
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 5, v.signature, 64);
	pbw_u64(&b, 4, v.voter);
	pbw_bytes(&b, 3, v.block_id, 32);
	pbw_u64(&b, 2, v.view);
	pbw_u64(&b, 1, v.epoch);
	pbw_u64(&b, 77, 1);
	raw("vote", "reordered-unknown", &b);

	struct ist_timeout *t = zalloc(sizeof(*t));
	sample_timeout(t);
	ENCODE(timeout, t, "sample");
	free(t);

	struct ist_envelope *e = zalloc(sizeof(*e));
	static const char *env_names[] = { "", "proposal", "vote", "timeout", "block-request", "block-response" };
	for (int k = IST_ENVELOPE_PROPOSAL; k <= (int)IST_ENVELOPE_ATTEST_SHARE; k++) {
		sample_envelope(e, (enum ist_envelope_kind)k);
		ENCODE(envelope, e, "x");
		ist_wire_envelope_fini(e);
		char from[4096], to[4096];
		static const char *suffix[] = { "", "-half", "-cut1", "-flip" };
		for (size_t i = 0; i < 4; i++) {
			snprintf(from, sizeof(from), "%s/wire-envelope/x%s", root, suffix[i]);
			snprintf(to, sizeof(to), "%s/wire-envelope/%s%s", root, env_names[k], suffix[i]);
			if (rename(from, to) < 0)
				die(strerror(errno));
		}
	}
	free(e);
	ist_buf_init(&b, 0);
	pbw_bytes(&b, 9, "future", 6);
	raw("envelope", "unknown-kind", &b);
	return 0;
}
