/*
 * bench-certs: the two certificate formats of DESIGN.md side by side, for
 * n = 4, 16, 64 and 100 validators of equal stake, t = floor(2n/3) + 1
 * signers:
 *
 *  - multisig-secp256k1: epoch (8) + signer bitmap (ceil(n/8)) + t
 *    recoverable ECDSA signatures (65 each). Verification recovers every
 *    signer's key from its signature (ist_secp_recover) and compares it with
 *    the validator's registered key, as a destination does with ecrecover.
 *  - frost-ed25519: epoch (8) + group key (32) + one Ed25519 signature (64).
 *    Verification is one crypto_sign_verify_detached.
 *
 * and what one FROST signer spends per block at t co-signers:
 *  - plain: ist_frost_sign, the RFC-shaped layer on libsodium (checks the
 *    commitment list, t scalar multiplications for R, ...);
 *  - session, ahead of the message: ist_frost_session_new (checks the list
 *    once, sums the D_i, builds a table per E_i, Lagrange coefficients), done
 *    when the block's signer set and nonce commitments are fixed;
 *  - session, per message: ist_frost_session_bind + ist_frost_session_sign
 *    (binding factors, one multi-scalar multiplication, the share);
 *  - the coordinator's check of all t shares and the final signature
 *    (ist_frost_session_aggregate).
 *
 *   bench-certs [--output FILE.json] [--tsv FILE.tsv] [--n N]... [--min-ms MS]
 *
 * CPU time (CLOCK_PROCESS_CPUTIME_ID), each figure the mean of repetitions
 * adding up to at least --min-ms (default 300) and at least 3. Prints a
 * table and writes JSON (default build/bench/certs.json) and a TSV for the
 * plot (tools/bench/certs draws it with gnuplot). A benchmark, not a test.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/frost.h"
#include "crypto/hash.h"
#include "crypto/secp256k1.h"
#include "crypto/tags.h"

#define SB IST_FROST_SCALAR_BYTES
#define EB IST_FROST_ELEMENT_BYTES

static double cpu_seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what, int r)
{
	fprintf(stderr, "bench-certs: %s failed (%d)\n", what, r);
	exit(1);
}

static int mkdirs_for(const char *path)
{
	char *d = strdup(path);
	if (!d)
		return -1;
	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(d, 0755) < 0 && errno != EEXIST) {
			free(d);
			return -1;
		}
		*p = '/';
	}
	free(d);
	return 0;
}

struct row {
	unsigned n, t;
	size_t multisig_bytes, frost_bytes;
	double multisig_verify_ms, frost_verify_ms;
	double sign_plain_ms, sign_pre_ms, sign_msg_ms, aggregate_ms;
};

static double min_s = 0.3;

/* ---- multisig-secp256k1 ---- */

static void bench_multisig(struct row *w, struct ist_rng_det *rng)
{
	unsigned n = w->n, t = w->t;
	uint8_t (*sk)[32] = malloc((size_t)n * 32);
	uint8_t (*pk)[33] = malloc((size_t)n * 33);
	uint8_t (*sig)[65] = malloc((size_t)t * 65);
	if (!sk || !pk || !sig)
		die("malloc", -1);
	for (unsigned i = 0; i < n; i++) {
		int r = ist_secp_generate(&rng->rng, sk[i], pk[i]);
		if (r)
			die("ist_secp_generate", r);
	}
	/* SHA-256("isthmus/attest/v1" || network id || epoch || height || batch root) */
	uint8_t data[8 + 8 + 8 + 32] = {0}, digest[32];
	data[7] = 1;
	data[15] = 7;
	ist_tagged_hash(IST_TAG_ATTEST, data, sizeof(data), digest);
	/* the first t validators sign; the bitmap marks them */
	for (unsigned k = 0; k < t; k++) {
		int r = ist_secp_sign(sk[k], digest, sig[k]);
		if (r)
			die("ist_secp_sign", r);
	}
	w->multisig_bytes = 8 + (n + 7) / 8 + (size_t)t * 65;
	unsigned reps = 0;
	double t0 = cpu_seconds(), el;
	do {
		for (unsigned k = 0; k < t; k++) {
			uint8_t got[33];
			if (ist_secp_recover(digest, sig[k], got) != 0 || memcmp(got, pk[k], 33) != 0)
				die("multisig verification", -1);
		}
		reps++;
		el = cpu_seconds() - t0;
	} while (el < min_s || reps < 3);
	w->multisig_verify_ms = el * 1e3 / reps;
	free(sk);
	free(pk);
	free(sig);
}

/* ---- frost-ed25519 ---- */

struct fgroup {
	unsigned n, t;
	uint8_t (*shares)[SB];
	uint8_t (*pubs)[EB];
	uint8_t gpk[EB];
};

/* fresh nonces for signers 1..t and their commitment list */
static void fresh_round1(const struct fgroup *g, struct ist_rng_det *rng, struct ist_frost_nonce *nonces,
			 struct ist_frost_commitment *list)
{
	for (unsigned k = 0; k < g->t; k++) {
		int r = ist_frost_commit_random(&rng->rng, g->shares[k], &nonces[k]);
		if (r)
			die("ist_frost_commit_random", r);
		list[k].id = (uint16_t)(k + 1);
		memcpy(list[k].hiding, nonces[k].hiding_commit, EB);
		memcpy(list[k].binding, nonces[k].binding_commit, EB);
	}
}

static void bench_frost(struct row *w, struct ist_rng_det *rng)
{
	struct fgroup g = {.n = w->n, .t = w->t};
	g.shares = malloc((size_t)g.n * SB);
	g.pubs = malloc((size_t)g.n * EB);
	struct ist_frost_nonce *nonces = malloc(g.t * sizeof(*nonces));
	struct ist_frost_commitment *list = malloc(g.t * sizeof(*list));
	uint8_t (*z)[SB] = malloc((size_t)g.t * SB);
	if (!g.shares || !g.pubs || !nonces || !list || !z)
		die("malloc", -1);
	int r = ist_frost_keygen_random(&rng->rng, (uint16_t)g.t, (uint16_t)g.n, g.shares, NULL, g.gpk);
	if (r)
		die("ist_frost_keygen_random", r);
	for (unsigned i = 0; i < g.n; i++)
		if ((r = ist_frost_pubkey(g.shares[i], g.pubs[i])) != 0)
			die("ist_frost_pubkey", r);
	const uint8_t msg[32] = "batch root of the block........";
	w->frost_bytes = 8 + EB + IST_FROST_SIG_BYTES;

	/* the signer: signer 1 of t, plain RFC-shaped layer */
	unsigned reps = 0;
	double el = 0;
	do {
		fresh_round1(&g, rng, nonces, list);
		double t0 = cpu_seconds();
		r = ist_frost_sign(1, g.shares[0], g.gpk, &nonces[0], msg, sizeof(msg), list, g.t, z[0]);
		el += cpu_seconds() - t0;
		if (r)
			die("ist_frost_sign", r);
		reps++;
	} while (el < min_s || reps < 3);
	w->sign_plain_ms = el * 1e3 / reps;

	/* the signer with the session: ahead of the message, then per message */
	double el_pre = 0, el_msg = 0, el_agg = 0;
	reps = 0;
	do {
		fresh_round1(&g, rng, nonces, list);
		struct ist_frost_session *s;
		double t0 = cpu_seconds();
		r = ist_frost_session_new(g.gpk, list, g.t, &s);
		double t1 = cpu_seconds();
		if (r)
			die("ist_frost_session_new", r);
		r = ist_frost_session_bind(s, msg, sizeof(msg));
		if (r == 0)
			r = ist_frost_session_sign(s, 1, g.shares[0], &nonces[0], z[0]);
		double t2 = cpu_seconds();
		if (r)
			die("ist_frost_session_bind/sign", r);
		el_pre += t1 - t0;
		el_msg += t2 - t1;
		/* the other signers' shares, then the coordinator's check */
		for (unsigned k = 1; k < g.t; k++)
			if ((r = ist_frost_session_sign(s, (uint16_t)(k + 1), g.shares[k], &nonces[k], z[k])) != 0)
				die("ist_frost_session_sign", r);
		uint8_t sig[64];
		double t3 = cpu_seconds();
		r = ist_frost_session_aggregate(s, (const uint8_t (*)[EB])g.pubs, (const uint8_t (*)[SB])z, sig, NULL);
		el_agg += cpu_seconds() - t3;
		if (r)
			die("ist_frost_session_aggregate", r);
		ist_frost_session_free(s);
		reps++;

		/* the certificate's verification, once per repetition set */
		if (reps == 1) {
			unsigned vreps = 0;
			double v0 = cpu_seconds(), vel;
			do {
				if (!ist_frost_verify(g.gpk, msg, sizeof(msg), sig))
					die("ist_frost_verify", -1);
				vreps++;
				vel = cpu_seconds() - v0;
			} while (vel < min_s || vreps < 3);
			w->frost_verify_ms = vel * 1e3 / vreps;
		}
	} while (el_pre + el_msg < min_s || reps < 3);
	w->sign_pre_ms = el_pre * 1e3 / reps;
	w->sign_msg_ms = el_msg * 1e3 / reps;
	w->aggregate_ms = el_agg * 1e3 / reps;
	free(g.shares);
	free(g.pubs);
	free(nonces);
	free(list);
	free(z);
}

int main(int argc, char **argv)
{
	const char *output = "build/bench/certs.json";
	const char *tsv = NULL;
	unsigned ns[16] = {4, 16, 64, 100};
	size_t n_ns = 4, custom = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--output") && i + 1 < argc) {
			output = argv[++i];
		} else if (!strcmp(argv[i], "--tsv") && i + 1 < argc) {
			tsv = argv[++i];
		} else if (!strcmp(argv[i], "--min-ms") && i + 1 < argc) {
			min_s = strtod(argv[++i], NULL) / 1e3;
		} else if (!strcmp(argv[i], "--n") && i + 1 < argc && custom < 16) {
			unsigned v = (unsigned)strtoul(argv[++i], NULL, 10);
			if (v < 1 || v > IST_FROST_MAX_PARTICIPANTS) {
				fprintf(stderr, "--n: 1..%d\n", IST_FROST_MAX_PARTICIPANTS);
				return 2;
			}
			ns[custom++] = v;
			n_ns = custom;
		} else {
			fprintf(stderr, "usage: %s [--output FILE.json] [--tsv FILE.tsv] [--n N]... [--min-ms MS]\n", argv[0]);
			return 2;
		}
	}
	if (ist_crypto_init() != 0)
		die("ist_crypto_init", -1);
	struct ist_rng_det rng;
	ist_rng_det_init(&rng, 2024);

	struct row rows[16];
	printf("certificate benchmark: t = floor(2n/3)+1 signers of n equal stakes; CPU ms per operation\n\n");
	printf("%5s %4s | %9s %9s | %10s %10s | %11s %11s %11s %11s\n", "n", "t", "ms bytes", "frost B",
	       "ms verify", "fr verify", "sign plain", "sign pre", "sign msg", "aggregate");
	for (size_t k = 0; k < n_ns; k++) {
		struct row *w = &rows[k];
		memset(w, 0, sizeof(*w));
		w->n = ns[k];
		w->t = 2 * ns[k] / 3 + 1;
		if (w->t > w->n)
			w->t = w->n;
		bench_multisig(w, &rng);
		bench_frost(w, &rng);
		printf("%5u %4u | %9zu %9zu | %10.3f %10.3f | %11.3f %11.3f %11.3f %11.3f\n", w->n, w->t,
		       w->multisig_bytes, w->frost_bytes, w->multisig_verify_ms, w->frost_verify_ms, w->sign_plain_ms,
		       w->sign_pre_ms, w->sign_msg_ms, w->aggregate_ms);
		fflush(stdout);
	}

	if (mkdirs_for(output) < 0) {
		fprintf(stderr, "cannot create the directory of %s: %s\n", output, strerror(errno));
		return 1;
	}
	FILE *f = fopen(output, "w");
	if (!f) {
		fprintf(stderr, "cannot write %s: %s\n", output, strerror(errno));
		return 1;
	}
	fprintf(f, "{\n  \"benchmark\": \"certs\",\n  \"threshold\": \"floor(2n/3)+1\",\n  \"unit\": \"cpu ms\",\n"
		   "  \"results\": [\n");
	for (size_t k = 0; k < n_ns; k++) {
		const struct row *w = &rows[k];
		fprintf(f,
			"    {\"n\": %u, \"t\": %u, \"multisig_bytes\": %zu, \"frost_bytes\": %zu, "
			"\"multisig_verify_ms\": %.4f, \"frost_verify_ms\": %.4f, \"frost_sign_plain_ms\": %.4f, "
			"\"frost_sign_precompute_ms\": %.4f, \"frost_sign_per_message_ms\": %.4f, "
			"\"frost_aggregate_ms\": %.4f}%s\n",
			w->n, w->t, w->multisig_bytes, w->frost_bytes, w->multisig_verify_ms, w->frost_verify_ms,
			w->sign_plain_ms, w->sign_pre_ms, w->sign_msg_ms, w->aggregate_ms, k + 1 < n_ns ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", output);
		return 1;
	}
	printf("\nwrote %s\n", output);
	if (tsv) {
		FILE *g = fopen(tsv, "w");
		if (!g) {
			fprintf(stderr, "cannot write %s: %s\n", tsv, strerror(errno));
			return 1;
		}
		fprintf(g, "# n t multisig_bytes frost_bytes multisig_verify_ms frost_verify_ms sign_plain_ms "
			   "sign_precompute_ms sign_per_message_ms aggregate_ms\n");
		for (size_t k = 0; k < n_ns; k++) {
			const struct row *w = &rows[k];
			fprintf(g, "%u %u %zu %zu %.4f %.4f %.4f %.4f %.4f %.4f\n", w->n, w->t, w->multisig_bytes,
				w->frost_bytes, w->multisig_verify_ms, w->frost_verify_ms, w->sign_plain_ms, w->sign_pre_ms,
				w->sign_msg_ms, w->aggregate_ms);
		}
		fclose(g);
		printf("wrote %s\n", tsv);
	}
	return 0;
}
