/*
 * Unit tests of the transport's pure parts: framing (net/frame.h), the
 * handshake messages and transcript (net/handshake.h), the token bucket on a
 * manual clock and the back-off schedule on a seeded rng (net/limits.h).
 */
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/rng.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/tags.h"
#include "lib/ist_test.h"
#include "net/frame.h"
#include "net/handshake.h"
#include "net/limits.h"
#include "net/net.h"

/* ---- framing ---- */

/* A frame of `blen` body bytes (type + payload filled with a pattern). */
static size_t make_frame(uint8_t *out, uint8_t type, size_t blen, uint8_t fill)
{
	ist_put_be32(out, (uint32_t)blen);
	out[4] = type;
	for (size_t i = 1; i < blen; i++)
		out[4 + i] = (uint8_t)(fill + i);
	return 4 + blen;
}

START_TEST(test_framer_whole_and_split)
{
	uint8_t stream[3 * 300];
	size_t n = 0;
	n += make_frame(stream + n, 3, 100, 1);
	n += make_frame(stream + n, 1, 1, 0);
	n += make_frame(stream + n, 4, 250, 9);

	/* every chunk size from 1 (byte by byte) to the whole stream at once */
	for (size_t chunk = 1; chunk <= n; chunk++) {
		struct ist_net_framer f;
		ist_net_framer_init(&f, 250);
		size_t lens[3], k = 0, off = 0;
		while (off < n) {
			size_t end = IST_MIN(n, off + chunk);
			while (off < end) {
				size_t used;
				uint8_t *body = NULL;
				size_t blen = 0;
				int r = ist_net_framer_feed(&f, stream + off, end - off, &used, &body, &blen);
				ck_assert_int_ge(r, 0);
				off += used;
				if (r == 0) {
					ck_assert_uint_eq(off, end);
					break;
				}
				ck_assert_uint_lt(k, 3);
				lens[k++] = blen;
				/* bodies come back intact */
				ck_assert_uint_eq(body[0], k == 1 ? 3 : k == 2 ? 1 : 4);
				if (blen > 1)
					ck_assert_uint_eq(body[blen - 1], (uint8_t)((k == 1 ? 1 : 9) + blen - 1));
				free(body);
			}
			if (off < n) {
				/* mid-stream: partial unless exactly between frames */
				bool boundary = off == 104 || off == 109;
				ck_assert(ist_net_framer_partial(&f) == !boundary);
			}
		}
		ck_assert_uint_eq(k, 3);
		ck_assert_uint_eq(lens[0], 100);
		ck_assert_uint_eq(lens[1], 1);
		ck_assert_uint_eq(lens[2], 250);
		ck_assert(!ist_net_framer_partial(&f));
		ist_net_framer_fini(&f);
	}
}
END_TEST

/* The wire values of the frame types are protocol (docs/protocol/transport.md). */
START_TEST(test_frame_types)
{
	uint8_t h[IST_NET_FRAME_HEADER_BYTES + 1];
	ist_net_frame_header(h, IST_NET_FRAME_PING, 1);
	ck_assert_mem_eq(h, ((const uint8_t[]){ 0, 0, 0, 1, 5 }), sizeof(h));
	ist_net_frame_header(h, IST_NET_FRAME_PONG, 1);
	ck_assert_mem_eq(h, ((const uint8_t[]){ 0, 0, 0, 1, 6 }), sizeof(h));
	ck_assert_int_eq(IST_NET_FRAME_HELLO, 1);
	ck_assert_int_eq(IST_NET_FRAME_AUTH, 2);
	ck_assert_int_eq(IST_NET_FRAME_ENVELOPE, 3);
	ck_assert_int_eq(IST_NET_FRAME_GOODBYE, 4);
}
END_TEST

START_TEST(test_framer_limits)
{
	struct ist_net_framer f;
	uint8_t buf[16];
	size_t used;
	uint8_t *body = (uint8_t *)0x1;
	size_t blen = 77;

	/* a prefix over the limit fails at once, having consumed only the
	 * prefix, and the framer stays failed */
	ist_net_framer_init(&f, 107);
	ist_put_be32(buf, 108);
	memset(buf + 4, 0xaa, 12);
	ck_assert_int_eq(ist_net_framer_feed(&f, buf, sizeof(buf), &used, &body, &blen), -IST_ETOOBIG);
	ck_assert_uint_eq(used, 4);
	ck_assert_ptr_eq(body, (uint8_t *)0x1);
	ck_assert_uint_eq(blen, 77);
	ck_assert_int_eq(ist_net_framer_feed(&f, buf + 4, 4, &used, &body, &blen), -IST_ETOOBIG);
	ck_assert_uint_eq(used, 0);
	ist_net_framer_fini(&f);

	/* the largest prefix there is */
	ist_net_framer_init(&f, 107);
	memset(buf, 0xff, 4);
	ck_assert_int_eq(ist_net_framer_feed(&f, buf, 4, &used, &body, &blen), -IST_ETOOBIG);
	ist_net_framer_fini(&f);

	/* zero length */
	ist_net_framer_init(&f, 107);
	memset(buf, 0, 4);
	ck_assert_int_eq(ist_net_framer_feed(&f, buf, 4, &used, &body, &blen), -IST_EPARSE);
	ist_net_framer_fini(&f);

	/* the limit may grow between frames (after the handshake) */
	uint8_t two[4 + 10 + 4 + 200];
	size_t n = make_frame(two, 1, 10, 0);
	n += make_frame(two + n, 3, 200, 0);
	ist_net_framer_init(&f, 107);
	ck_assert_int_eq(ist_net_framer_feed(&f, two, n, &used, &body, &blen), 1);
	ck_assert_uint_eq(blen, 10);
	free(body);
	f.max_body = 1000;
	ck_assert_int_eq(ist_net_framer_feed(&f, two + used, n - used, &used, &body, &blen), 1);
	ck_assert_uint_eq(blen, 200);
	free(body);
	ist_net_framer_fini(&f);

	/* a partial body is freed by fini (ASan checks) */
	ist_net_framer_init(&f, 1000);
	ck_assert_int_eq(ist_net_framer_feed(&f, two + 14, 50, &used, &body, &blen), 0);
	ck_assert(ist_net_framer_partial(&f));
	ist_net_framer_fini(&f);
}
END_TEST

/* ---- handshake ---- */

static void key(uint8_t id, uint8_t seed[32], uint8_t pub[32])
{
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(id * 17 + i);
	ck_assert_int_eq(ist_ed25519_pubkey(seed, pub), 0);
}

static bool hello_eq(const struct ist_net_hello *a, const struct ist_net_hello *b)
{
	return a->version == b->version && a->network_id == b->network_id &&
	       memcmp(a->genesis_hash, b->genesis_hash, 32) == 0 && memcmp(a->pubkey, b->pubkey, 32) == 0 &&
	       memcmp(a->nonce, b->nonce, 32) == 0;
}

START_TEST(test_hello_roundtrip)
{
	struct ist_net_hello h = { .version = IST_NET_VERSION, .network_id = 0x0102030405060708ull }, g;
	for (int i = 0; i < 32; i++) {
		h.genesis_hash[i] = (uint8_t)i;
		h.pubkey[i] = (uint8_t)(0x40 + i);
		h.nonce[i] = (uint8_t)(0x80 + i);
	}
	uint8_t enc[IST_NET_HELLO_BYTES];
	ist_net_hello_encode(&h, enc);
	/* the layout of docs/protocol/transport.md */
	ck_assert_uint_eq(sizeof(enc), 107);
	ck_assert_uint_eq(enc[0], IST_NET_FRAME_HELLO);
	ck_assert_uint_eq(ist_get_be16(enc + 1), 1);
	ck_assert(ist_get_be64(enc + 3) == 0x0102030405060708ull);
	ck_assert_mem_eq(enc + 11, h.genesis_hash, 32);
	ck_assert_mem_eq(enc + 43, h.pubkey, 32);
	ck_assert_mem_eq(enc + 75, h.nonce, 32);

	memset(&g, 0, sizeof(g));
	ck_assert_int_eq(ist_net_hello_decode(enc, sizeof(enc), &g), 0);
	ck_assert(hello_eq(&g, &h));

	/* wrong length, wrong type, truncated: malformed; another version:
	 * unsupported, whatever the length */
	ck_assert_int_eq(ist_net_hello_decode(enc, sizeof(enc) - 1, &g), -IST_EPARSE);
	uint8_t longer[IST_NET_HELLO_BYTES + 1];
	memcpy(longer, enc, sizeof(enc));
	longer[sizeof(enc)] = 0;
	ck_assert_int_eq(ist_net_hello_decode(longer, sizeof(longer), &g), -IST_EPARSE);
	ck_assert_int_eq(ist_net_hello_decode(enc, 0, &g), -IST_EPARSE);
	ck_assert_int_eq(ist_net_hello_decode(NULL, 5, &g), -IST_EPARSE);
	enc[0] = IST_NET_FRAME_AUTH;
	ck_assert_int_eq(ist_net_hello_decode(enc, sizeof(enc), &g), -IST_EPARSE);
	enc[0] = IST_NET_FRAME_HELLO;
	ist_put_be16(enc + 1, 2);
	ck_assert_int_eq(ist_net_hello_decode(enc, sizeof(enc), &g), -IST_EUNSUPPORTED);
	ck_assert_int_eq(ist_net_hello_decode(enc, 20, &g), -IST_EUNSUPPORTED);
	/* nothing written on failure */
	ck_assert(hello_eq(&g, &h));
}
END_TEST

START_TEST(test_hello_check)
{
	uint8_t seed[32], self[32], other[32], genesis[32];
	key(1, seed, self);
	key(2, seed, other);
	memset(genesis, 0x33, 32);
	struct ist_net_hello h = { .version = 1, .network_id = 7 };
	memcpy(h.genesis_hash, genesis, 32);
	memcpy(h.pubkey, other, 32);
	ck_assert_ptr_null(ist_net_hello_check(&h, 7, genesis, self));
	ck_assert_str_eq(ist_net_hello_check(&h, 8, genesis, self), IST_NET_DROP_HANDSHAKE_NETWORK);
	h.genesis_hash[31] ^= 1;
	ck_assert_str_eq(ist_net_hello_check(&h, 7, genesis, self), IST_NET_DROP_HANDSHAKE_GENESIS);
	h.genesis_hash[31] ^= 1;
	memcpy(h.pubkey, self, 32);
	ck_assert_str_eq(ist_net_hello_check(&h, 7, genesis, self), IST_NET_DROP_HANDSHAKE_SELF);
}
END_TEST

START_TEST(test_transcript_and_auth)
{
	uint8_t sa[32], pa[32], sb[32], pb[32], genesis[32], na[32], nb[32], nc[32];
	key(1, sa, pa);
	key(2, sb, pb);
	memset(genesis, 0x5a, 32);
	memset(na, 0xa1, 32);
	memset(nb, 0xb2, 32);
	memset(nc, 0xc3, 32);

	uint8_t t[IST_NET_TRANSCRIPT_BYTES];
	ist_net_transcript(9, genesis, pa, pb, na, nb, IST_NET_ROLE_DIALER, t);
	ck_assert_uint_eq(sizeof(t), 191);
	ck_assert_mem_eq(t, IST_TAG_HANDSHAKE, 20);
	ck_assert_uint_eq(ist_get_be16(t + 20), 1);
	ck_assert(ist_get_be64(t + 22) == 9);
	ck_assert_mem_eq(t + 30, genesis, 32);
	ck_assert_mem_eq(t + 62, pa, 32);
	ck_assert_mem_eq(t + 94, pb, 32);
	ck_assert_mem_eq(t + 126, na, 32);
	ck_assert_mem_eq(t + 158, nb, 32);
	ck_assert_uint_eq(t[190], IST_NET_ROLE_DIALER);

	/* A dials B: A signs as dialer, B checks it */
	uint8_t auth[IST_NET_AUTH_BYTES], sig[IST_SIG_BYTES];
	ck_assert_int_eq(ist_net_auth_sign(sa, t, auth), 0);
	ck_assert_uint_eq(auth[0], IST_NET_FRAME_AUTH);
	ck_assert_int_eq(ist_net_auth_decode(auth, sizeof(auth), sig), 0);
	ck_assert(ist_net_auth_verify(pa, t, sig));

	/* not under another key */
	ck_assert(!ist_net_auth_verify(pb, t, sig));
	/* not reflected: the same signature for the listener's role fails */
	uint8_t tl[IST_NET_TRANSCRIPT_BYTES];
	ist_net_transcript(9, genesis, pa, pb, na, nb, IST_NET_ROLE_LISTENER, tl);
	ck_assert(!ist_net_auth_verify(pa, tl, sig));
	/* not replayed: a new connection has a new listener nonce */
	uint8_t t2[IST_NET_TRANSCRIPT_BYTES];
	ist_net_transcript(9, genesis, pa, pb, na, nc, IST_NET_ROLE_DIALER, t2);
	ck_assert(!ist_net_auth_verify(pa, t2, sig));
	/* not on another network or genesis */
	ist_net_transcript(10, genesis, pa, pb, na, nb, IST_NET_ROLE_DIALER, t2);
	ck_assert(!ist_net_auth_verify(pa, t2, sig));
	genesis[0] ^= 1;
	ist_net_transcript(9, genesis, pa, pb, na, nb, IST_NET_ROLE_DIALER, t2);
	ck_assert(!ist_net_auth_verify(pa, t2, sig));
	/* a flipped signature bit */
	sig[10] ^= 4;
	ck_assert(!ist_net_auth_verify(pa, t, sig));

	/* AUTH bodies of a wrong length or type */
	ck_assert_int_eq(ist_net_auth_decode(auth, sizeof(auth) - 1, sig), -IST_EPARSE);
	ck_assert_int_eq(ist_net_auth_decode(NULL, 65, sig), -IST_EPARSE);
	auth[0] = IST_NET_FRAME_HELLO;
	ck_assert_int_eq(ist_net_auth_decode(auth, sizeof(auth), sig), -IST_EPARSE);
}
END_TEST

/* ---- token bucket ---- */

START_TEST(test_bucket_manual_clock)
{
	struct ist_clock_manual mc;
	ist_clock_manual_init(&mc, 1000000);
	struct ist_net_bucket b;
	ist_net_bucket_init(&b, 10, 5, ist_clock_mono_ms(&mc.clock)); /* 10/s, burst 5 */

	/* the burst, then nothing */
	for (int i = 0; i < 5; i++)
		ck_assert(ist_net_bucket_consume(&b, ist_clock_mono_ms(&mc.clock), 1));
	ck_assert(!ist_net_bucket_consume(&b, ist_clock_mono_ms(&mc.clock), 1));

	/* 10/s is one per 100 ms: 99 ms is not enough, 100 is */
	ist_clock_manual_advance(&mc, 99);
	ck_assert(!ist_net_bucket_consume(&b, ist_clock_mono_ms(&mc.clock), 1));
	ist_clock_manual_advance(&mc, 1);
	ck_assert(ist_net_bucket_consume(&b, ist_clock_mono_ms(&mc.clock), 1));
	ck_assert(!ist_net_bucket_consume(&b, ist_clock_mono_ms(&mc.clock), 1));

	/* a long pause refills to the burst only */
	ist_clock_manual_advance(&mc, 3600 * 1000);
	for (int i = 0; i < 5; i++)
		ck_assert(ist_net_bucket_consume(&b, ist_clock_mono_ms(&mc.clock), 1));
	ck_assert(!ist_net_bucket_consume(&b, ist_clock_mono_ms(&mc.clock), 1));

	/* taking more than the burst at once never succeeds */
	ist_clock_manual_advance(&mc, 10000);
	ck_assert(!ist_net_bucket_consume(&b, ist_clock_mono_ms(&mc.clock), 6));
	ck_assert(ist_net_bucket_consume(&b, ist_clock_mono_ms(&mc.clock), 5));

	/* a clock that goes back earns nothing (and breaks nothing) */
	ist_net_bucket_refill(&b, 5);
	ck_assert(!ist_net_bucket_has(&b, 1));

	/* byte budgets: large numbers, no overflow */
	ist_net_bucket_init(&b, 8u << 20, 4u << 20, 0);
	ck_assert(ist_net_bucket_consume(&b, 0, 4u << 20));
	ck_assert(!ist_net_bucket_consume(&b, 0, 1));
	/* 1 ms of 8 MiB/s earns 8388.608 bytes */
	ck_assert(!ist_net_bucket_consume(&b, 1, 8389));
	ck_assert(ist_net_bucket_consume(&b, 1, 8388));
	ck_assert(!ist_net_bucket_consume(&b, 1, 1));
	ck_assert(ist_net_bucket_consume(&b, UINT64_MAX, 4u << 20));
	ck_assert(!ist_net_bucket_has(&b, UINT64_MAX));
}
END_TEST

/* ---- back-off ---- */

START_TEST(test_backoff_schedule)
{
	struct ist_rng_det d1, d2;
	ist_rng_det_init(&d1, 42);
	ist_rng_det_init(&d2, 42);
	uint64_t prev_cap = 0;
	for (uint32_t a = 0; a < 40; a++) {
		uint64_t cap = 100;
		for (uint32_t i = 0; i < a && cap < 10000; i++)
			cap = IST_MIN(cap * 2, 10000);
		uint64_t v = ist_net_backoff_ms(a, 100, 10000, &d1.rng);
		/* equal jitter: within [cap/2, cap] */
		ck_assert_uint_ge(v, cap / 2);
		ck_assert_uint_le(v, cap);
		ck_assert_uint_ge(cap, prev_cap);
		prev_cap = cap;
		/* the same seed gives the same schedule */
		ck_assert_uint_eq(v, ist_net_backoff_ms(a, 100, 10000, &d2.rng));
	}
	/* capped from attempt 7 on (100 * 2^7 > 10000) */
	ck_assert_uint_eq(prev_cap, 10000);
	ck_assert_uint_le(ist_net_backoff_ms(UINT32_MAX, 100, 10000, &d1.rng), 10000);

	/* jitter really spreads: not all the same over many draws */
	uint64_t first = ist_net_backoff_ms(3, 100, 10000, &d1.rng);
	bool differs = false;
	for (int i = 0; i < 64 && !differs; i++)
		differs = ist_net_backoff_ms(3, 100, 10000, &d1.rng) != first;
	ck_assert(differs);

	/* no rng: the cap itself; mended bounds */
	ck_assert_uint_eq(ist_net_backoff_ms(2, 100, 10000, NULL), 400);
	ck_assert_uint_eq(ist_net_backoff_ms(5, 0, 0, NULL), 1);
	ck_assert_uint_eq(ist_net_backoff_ms(5, 300, 200, NULL), 300);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("net-unit");
	TCase *tc = tcase_create("unit");
	tcase_add_test(tc, test_framer_whole_and_split);
	tcase_add_test(tc, test_framer_limits);
	tcase_add_test(tc, test_frame_types);
	tcase_add_test(tc, test_hello_roundtrip);
	tcase_add_test(tc, test_hello_check);
	tcase_add_test(tc, test_transcript_and_auth);
	tcase_add_test(tc, test_bucket_manual_clock);
	tcase_add_test(tc, test_backoff_schedule);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (ist_crypto_init() < 0)
		return 1;
	return ist_test_run(suite());
}
