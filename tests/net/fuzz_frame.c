/*
 * libFuzzer target: frame reassembly (net/frame.h), the first code that sees
 * a peer's bytes.
 *
 * Input: byte 0 picks the body limit, byte 1 the chunk size the stream is
 * cut into, the rest is the stream. Checks: every frame is 1..limit bytes;
 * the frames (with their prefixes) are exactly the stream up to the last
 * whole frame; consumption is exact; after an error the framer stays
 * failed; the limit may change between frames (as after the handshake);
 * nothing leaks (ASan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"
#include "net/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz-net-frame: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	static const size_t limits[] = { 1, 5, 65, 107, 300, 4096, 1u << 20 };
	size_t limit = limits[data[0] % (sizeof(limits) / sizeof(limits[0]))];
	size_t chunk = (size_t)data[1] % 37 + 1;
	const uint8_t *s = data + 2;
	size_t n = size - 2, off = 0, frames_end = 0;
	struct ist_net_framer f;
	ist_net_framer_init(&f, limit);
	int err = 0;
	while (off < n && !err) {
		size_t end = off + chunk < n ? off + chunk : n;
		while (off < end) {
			size_t used = 0, blen = 0;
			uint8_t *body = NULL;
			size_t max_now = f.max_body;
			int r = ist_net_framer_feed(&f, s + off, end - off, &used, &body, &blen);
			if (used > end - off)
				die("consumed more than given");
			off += used;
			if (r < 0) {
				if (r != -IST_ETOOBIG && r != -IST_EPARSE && r != -IST_ENOMEM)
					die("unexpected error code");
				size_t u2 = 1;
				if (ist_net_framer_feed(&f, s, n, &u2, &body, &blen) != r || u2 != 0)
					die("a failed framer came back");
				err = r;
				break;
			}
			if (r == 0) {
				if (off != end)
					die("0 returned with input left");
				break;
			}
			if (blen < 1 || blen > max_now)
				die("frame length outside 1..limit");
			/* the frame is the stream's bytes at frames_end */
			if (frames_end + 4 + blen != off || ist_get_be32(s + frames_end) != blen ||
			    memcmp(s + frames_end + 4, body, blen) != 0)
				die("frame differs from the stream");
			frames_end = off;
			free(body);
			/* grow the limit after the first frame, as after a handshake */
			f.max_body = limit * 2;
		}
	}
	if (!err && (frames_end == n) == ist_net_framer_partial(&f))
		die("partial() disagrees with the stream");
	ist_net_framer_fini(&f);
	return 0;
}
