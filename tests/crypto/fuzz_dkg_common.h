/*
 * Shared by the DKG fuzz targets: a small fixed DKG (n = 4, t = 3, keys and
 * packages from a seeded rng) built on first use, so that decoded inputs
 * can also be run through the verifiers. Not a test of anything by itself.
 */
#ifndef IST_FUZZ_DKG_COMMON_H
#define IST_FUZZ_DKG_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/dkg.h"
#include "crypto/x25519.h"

struct fuzz_dkg {
	struct ist_dkg_params p;
	uint8_t enc_sec[4][32], enc_pub[4][32];
	bool accepted[4];
	struct ist_dkg_round1 r1[4];
	struct ist_dkg_round2 r2[4];
};

static struct fuzz_dkg *fuzz_dkg_get(void)
{
	static struct fuzz_dkg *F;
	if (F)
		return F;
	if (ist_crypto_init() != 0)
		abort();
	F = calloc(1, sizeof(*F));
	if (!F)
		abort();
	struct ist_rng_det rng;
	ist_rng_det_init(&rng, 1234);
	F->p.network_id = 1;
	F->p.epoch = 1;
	F->p.n = 4;
	F->p.t = 3;
	F->p.enc_keys = (const uint8_t (*)[32])F->enc_pub;
	for (int j = 0; j < 4; j++)
		if (ist_x25519_generate(&rng.rng, F->enc_sec[j], F->enc_pub[j]) != 0)
			abort();
	struct ist_dkg_dealer *d[4];
	for (uint16_t i = 1; i <= 4; i++) {
		if (ist_dkg_round1(&F->p, i, &rng.rng, &d[i - 1], &F->r1[i - 1]) != 0)
			abort();
		F->accepted[i - 1] = true;
	}
	for (int i = 0; i < 4; i++) {
		if (ist_dkg_round2(d[i], &F->p, F->accepted, &rng.rng, &F->r2[i]) != 0)
			abort();
		ist_dkg_dealer_free(d[i]);
	}
	return F;
}

#endif
