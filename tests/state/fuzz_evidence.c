/*
 * Fuzz target 'state-evidence': the evidence decoder (ist_evidence_decode),
 * a decoder of outside input (block payloads from peers, POST /v1/txs).
 *
 * When the bytes decode, encoding the result must give the same bytes back
 * (one offence has one encoding, hence one id), and verifying it against a
 * small set must not crash whatever it says.
 *
 * Seed corpus: tests/fuzz/corpus/state-evidence/ (a double vote, a pair of
 * conflicting checkpoints, finality reports, truncations).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "crypto/crypto.h"
#include "state/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		check(ist_crypto_init() == 0);
		init = 1;
	}
	struct ist_evidence ev;
	const char *why = NULL;
	if (ist_evidence_decode(data, size, &ev, &why) < 0) {
		check(why != NULL);
		return 0;
	}
	struct ist_buf b;
	ist_buf_init(&b, 0);
	check(ist_evidence_encode(&ev, &b) == 0);
	check(b.len == size && memcmp(b.data, data, size) == 0);
	ist_buf_fini(&b);
	if (ev.kind == IST_EVIDENCE_FINALITY_REPORT) {
		char rw[160];
		if (!ist_evidence_report_verify(&ev, 1, rw, sizeof(rw)))
			check(rw[0] != '\0');
	}
	static const uint8_t nk[2][32] = { { 1 }, { 2 } };
	static const uint8_t ak[2][33] = { { 2, 1 }, { 3, 1 } };
	struct ist_evidence_set s = { .network_id = 1, .epoch = ev.kind == 1 ? ev.u.vote.epoch : ev.u.cps.a.epoch,
				      .n = 2, .node_keys = nk, .attest_keys = ak };
	uint8_t off[32];
	char w[160];
	if (!ist_evidence_verify(&ev, &s, &s, off, w, sizeof(w)))
		check(w[0] != '\0');   /* a refusal says why */
	return 0;
}
