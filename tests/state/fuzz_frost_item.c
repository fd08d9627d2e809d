/*
 * Fuzz target 'state-frost-item': ist_fl_apply_item, the decoder of the
 * FROST items of a block's payload (IST_PAYLOAD_DKG: round 1, 2, 3,
 * certificates and share reports; IST_PAYLOAD_NONCE_COMMITMENTS), outside
 * input.
 *
 * Input: one flag byte, then the item.
 *   bit 0     the item is of the nonce-commitment kind
 *   bit 1     re-sign it: its last 64 bytes become the signature of the
 *             participant it names (DKG: the sender; nonces: the member),
 *             so that mutations get past the signature check; in a share
 *             report, every whole entry's signature becomes that of the
 *             member the entry names (over its epoch, height, attempt, z)
 *   bits 2-3  the state it meets: 0 no run (a group of epoch 7 with nonce
 *             queues and an assigned job), 1/2/3 as 0 plus a run for epoch
 *             8 in round 1/2/3 (participant 4 has not posted that round yet)
 *   bits 4-7  the height, above the state's
 *
 * The state is made once, with real keys and the real DKG
 * (frost_fixture.h), and restored from its record for every input. After
 * the item, the run steps and the jobs step at that height; then:
 *  - an item that is ignored (a reason given) leaves the state as it was,
 *    byte for byte, and does not mark it dirty;
 *  - every member marked bad was counted once in bad_shares, and no bad
 *    member is among the signers chosen at this height;
 *  - the record of the state decodes, and encodes to the same bytes.
 *
 * Seed corpus: tests/fuzz/corpus/state-frost-item/ (real items: round 1,
 * round 2, round 3 with and without a complaint, a nonce batch, a
 * certificate, a share report of two of the job's three signers, and a
 * report with a signed share that does not check; both reports at a height
 * where the attempt then times out). They were written by this file built with
 * -DFUZZ_FROST_WRITE_SEEDS (a main that writes them into a directory).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "frost_fixture.h"
#include "state/frost_ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NET 0x1571
#define W 2
#define R 3

static void check(int cond)
{
	if (!cond)
		abort();
}

static struct ist_buf snap[4];        /* state records */
static uint64_t base_height[4];
static struct fx *fx_run;             /* participants of the run (epoch 8) */

/* seeds, in the order written */
#define N_SEEDS 8
static struct ist_buf seeds[N_SEEDS];
static uint8_t seed_flags[N_SEEDS];

static void apply(struct ist_fl *f, bool nonce, struct ist_buf *b, uint64_t h)
{
	check(ist_buf_err(b) == 0);
	const char *why = NULL;
	check(ist_fl_apply_item(f, nonce, b->data, b->len, h, &why) == 0);
	check(why == NULL);
	ist_buf_reset(b);
}

static void take(struct ist_fl *f, int k, uint64_t h)
{
	ist_buf_init(&snap[k], 0);
	ist_fl_encode(f, &snap[k]);
	check(ist_buf_err(&snap[k]) == 0);
	base_height[k] = h;
}

static void setup(void)
{
	check(ist_crypto_init() == 0);
	struct ist_fl *f = ist_fl_new(NET, W, R);
	struct fx *a = fx_new(4, 77, NET, 7);
	fx_run = fx_new(4, 77, NET, 8);   /* the same keys */
	struct fx *b = fx_run;
	struct ist_buf buf;
	ist_buf_init(&buf, 0);
	bool acc[4] = { true, true, true, true };
	struct ist_fl_group *g = malloc(sizeof(*g));
	check(g != NULL);

	/* epoch 7's group: a whole run */
	check(ist_fl_dkg_start(f, 7, false, 10, 4, (const uint8_t (*)[32])a->node, (const uint8_t (*)[32])a->epub) == 0);
	for (uint16_t i = 1; i <= 4; i++) {
		fx_round1(a, i, &buf);
		apply(f, false, &buf, 10);
	}
	check(ist_fl_dkg_step(f, 10, g) == IST_FL_RUNNING);
	for (uint16_t i = 1; i <= 4; i++) {
		fx_round2_pkg(a, i, acc);
		fx_round2_item(a, i, &buf);
		apply(f, false, &buf, 11);
	}
	check(ist_fl_dkg_step(f, 11, g) == IST_FL_RUNNING);
	for (uint16_t i = 1; i <= 4; i++) {
		fx_round3(a, i, acc, &buf, NULL);
		apply(f, false, &buf, 12);
	}
	check(ist_fl_dkg_step(f, 12, g) == IST_FL_DONE);
	check(ist_fl_group_set(f, g) == 0);
	check(fx_signing_shares(a, g) == 0);
	/* nonce queues, an assigned job */
	for (uint16_t id = 1; id <= 4; id++) {
		fx_nonces(a, 7, id, 0, 4, &buf);
		apply(f, true, &buf, 13);
	}
	uint8_t digest[32];
	memset(digest, 0xab, 32);
	check(ist_fl_job_add(f, 7, 14, digest) == 0);
	ist_fl_jobs_step(f, 14);
	check(ist_fl_n_jobs(f) == 1 && ist_fl_job_at(f, 0)->n_signers == 3);
	/* seeds: the next batch of member 1, the job's certificate, reports
	 * (made first: fx_sign_job uses the nonces up) at a height where the
	 * attempt then times out (14 + R) */
	ist_buf_init(&seeds[4], 0);
	fx_nonces(a, 7, 1, 4, 2, &seeds[4]);
	seed_flags[4] = 0x01;
	uint8_t sig[64];
	struct ist_fl_job j = *ist_fl_job_at(f, 0);
	uint16_t two[2] = { j.signers[0].c.id, j.signers[2].c.id };
	ist_buf_init(&seeds[6], 0);
	fx_report(a, g, &j, two, 2, &seeds[6]);
	seed_flags[6] = 2 << 4;
	uint8_t z[32];
	check(fx_share(a, g, &j, j.signers[1].c.id, z) == 0);
	z[0] ^= 1;
	/* the first signer's good share, the second's wrong one, both signed */
	uint8_t z0[32];
	check(fx_share(a, g, &j, two[0], z0) == 0);
	ist_buf_init(&seeds[7], 0);
	fx_report_head(&seeds[7], 7, 14, 0, 2);
	fx_report_entry(a, &j, two[0], two[0], z0, &seeds[7]);
	fx_report_entry(a, &j, j.signers[1].c.id, j.signers[1].c.id, z, &seeds[7]);
	seed_flags[7] = 0x02 | 2 << 4;
	check(fx_sign_job(a, g, &j, sig) == 0);
	ist_buf_init(&seeds[5], 0);
	ist_fl_cert_item(&seeds[5], 7, 14, sig);
	seed_flags[5] = 0x00;
	take(f, 0, 15);

	/* epoch 8's run, stopped in each round before participant 4 posts */
	check(ist_fl_dkg_start(f, 8, true, 20, 4, (const uint8_t (*)[32])b->node, (const uint8_t (*)[32])b->epub) == 0);
	for (uint16_t i = 1; i <= 3; i++) {
		fx_round1(b, i, &buf);
		apply(f, false, &buf, 20);
	}
	ist_buf_init(&seeds[0], 0);
	fx_round1(b, 4, &seeds[0]);
	seed_flags[0] = 1 << 2;
	take(f, 1, 20);
	ist_buf_put(&buf, seeds[0].data, seeds[0].len);
	apply(f, false, &buf, 20);
	check(ist_fl_dkg_step(f, 20, g) == IST_FL_RUNNING && ist_fl_dkg_get(f)->round == 2);

	for (uint16_t i = 1; i <= 4; i++) {
		fx_round2_pkg(b, i, acc);
		if (i == 1)
			fx_bad_share(b, 1, 4);   /* so that 4 has a complaint */
	}
	for (uint16_t i = 1; i <= 3; i++) {
		fx_round2_item(b, i, &buf);
		apply(f, false, &buf, 21);
	}
	ist_buf_init(&seeds[1], 0);
	fx_round2_item(b, 4, &seeds[1]);
	seed_flags[1] = 2 << 2;
	take(f, 2, 21);
	ist_buf_put(&buf, seeds[1].data, seeds[1].len);
	apply(f, false, &buf, 21);
	check(ist_fl_dkg_step(f, 21, g) == IST_FL_RUNNING && ist_fl_dkg_get(f)->round == 3);

	for (uint16_t i = 1; i <= 3; i++) {
		fx_round3(b, i, acc, &buf, NULL);
		apply(f, false, &buf, 22);
	}
	size_t nc = 0;
	ist_buf_init(&seeds[2], 0);
	fx_round3(b, 4, acc, &seeds[2], &nc);
	check(nc == 1);
	seed_flags[2] = 3 << 2;
	ist_buf_init(&seeds[3], 0);
	fx_round3_item(b, 4, NULL, 0, &seeds[3]);
	seed_flags[3] = 3 << 2;
	take(f, 3, 22);

	ist_buf_fini(&buf);
	free(g);
	fx_free(a);
	ist_fl_free(f);
}

static void resign(uint8_t *p, size_t len, bool nonce)
{
	if (!nonce && len >= 1 && p[0] == IST_FL_SHARES) {
		/* each whole entry (whatever the count says) */
		if (len < 23)
			return;
		uint64_t epoch = ist_get_be64(p + 1), height = ist_get_be64(p + 9);
		uint32_t attempt = ist_get_be32(p + 17);
		for (size_t o = 23; o + 98 <= len; o += 98) {
			uint16_t id = ist_get_be16(p + o);
			if (id >= 1 && id <= fx_run->n)
				fx_share_sig(fx_run, id, epoch, height, attempt, id, p + o + 2, p + o + 34);
		}
		return;
	}
	size_t head = nonce ? 16 : 11;
	if (len < head + 64 || (!nonce && p[0] == IST_FL_CERT))
		return;
	uint16_t id = ist_get_be16(p + (nonce ? 8 : 9));
	if (id < 1 || id > fx_run->n)
		return;
	struct ist_buf b;
	ist_buf_init(&b, 0);
	ist_buf_put(&b, p, len - 64);
	fx_sign(fx_run, id, &b);
	check(ist_buf_err(&b) == 0 && b.len == len);
	memcpy(p, b.data, len);
	ist_buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		setup();
		init = 1;
	}
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	bool nonce = flags & 1;
	int k = (flags >> 2) & 3;
	uint64_t h = base_height[k] + (flags >> 4);
	size_t len = size - 1;
	uint8_t *p = malloc(len ? len : 1);
	check(p != NULL);
	memcpy(p, data + 1, len);
	if (flags & 2)
		resign(p, len, nonce);

	struct ist_fl *f = ist_fl_new(NET, W, R);
	check(f != NULL);
	check(ist_fl_decode(f, snap[k].data, snap[k].len) == 0);
	const char *why = NULL;
	check(ist_fl_apply_item(f, nonce, p, len, h, &why) == 0);
	struct ist_buf e, e2;
	ist_buf_init(&e, 0);
	ist_buf_init(&e2, 0);
	ist_fl_encode(f, &e);
	check(ist_buf_err(&e) == 0);
	if (why) {
		/* ignored: nothing changed */
		check(!ist_fl_dirty(f));
		check(e.len == snap[k].len && memcmp(e.data, snap[k].data, e.len) == 0);
	}
	struct ist_fl_group *g = malloc(sizeof(*g));
	check(g != NULL);
	if (ist_fl_dkg_step(f, h, g) == IST_FL_DONE)
		check(ist_fl_group_set(f, g) == 0);
	free(g);
	ist_fl_jobs_step(f, h);
	/* share reports: every bad member was counted once (the states start
	 * with none), and signers chosen now are never bad */
	for (uint64_t ep = 7; ep <= 8; ep++) {
		const struct ist_fl_group *gg = ist_fl_group_get(f, ep);
		uint32_t nbad = 0;
		for (uint16_t i = 0; gg && i < gg->n; i++)
			nbad += gg->bad[i];
		check(!gg || nbad == gg->bad_shares);
	}
	for (size_t i = 0; i < ist_fl_n_jobs(f); i++) {
		const struct ist_fl_job *jj = ist_fl_job_at(f, i);
		const struct ist_fl_group *gg = ist_fl_group_get(f, jj->epoch);
		for (uint16_t x = 0; gg && jj->assigned == h && x < jj->n_signers; x++)
			check(!gg->bad[jj->signers[x].c.id - 1]);
	}
	/* the record round-trips */
	ist_buf_reset(&e);
	ist_fl_encode(f, &e);
	check(ist_buf_err(&e) == 0);
	struct ist_fl *k2 = ist_fl_new(NET, W, R);
	check(k2 != NULL);
	check(ist_fl_decode(k2, e.data, e.len) == 0);
	ist_fl_encode(k2, &e2);
	check(ist_buf_err(&e2) == 0 && e2.len == e.len && memcmp(e.data, e2.data, e.len) == 0);
	ist_fl_free(k2);
	ist_buf_fini(&e);
	ist_buf_fini(&e2);
	ist_fl_free(f);
	free(p);
	return 0;
}

#ifdef FUZZ_FROST_WRITE_SEEDS
static const char *const seed_names[N_SEEDS] = { "round1", "round2", "round3-complaint", "round3-empty", "nonces",
						   "cert", "shares", "shares-bad-signed" };

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s corpus-dir\n", argv[0]);
		return 2;
	}
	setup();
	for (int i = 0; i < N_SEEDS; i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", argv[1], seed_names[i]);
		FILE *out = fopen(path, "wb");
		check(out != NULL);
		fputc(seed_flags[i], out);
		fwrite(seeds[i].data, 1, seeds[i].len, out);
		check(fclose(out) == 0);
		/* each seed counts in its state */
		int k = (seed_flags[i] >> 2) & 3;
		struct ist_fl *f = ist_fl_new(NET, W, R);
		check(f && ist_fl_decode(f, snap[k].data, snap[k].len) == 0);
		const char *why = NULL;
		check(ist_fl_apply_item(f, seed_flags[i] & 1, seeds[i].data, seeds[i].len, base_height[k], &why) == 0);
		if (why)
			fprintf(stderr, "%s: %s\n", seed_names[i], why);
		check(why == NULL);
		ist_fl_free(f);
	}
	return 0;
}
#endif
