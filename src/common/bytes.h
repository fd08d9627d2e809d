/*
 * Bytes and hex helpers, big-endian integer codecs, a growable byte buffer
 * (the writer of canonical layouts) and a read cursor that fails once and
 * stays failed (the reader of outside input).
 */
#ifndef IST_COMMON_BYTES_H
#define IST_COMMON_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/macro.h"

/* Lower-case hex of `len` bytes into `out`, which must hold 2*len+1 chars
 * (NUL-terminated). */
void ist_hex_encode(const uint8_t *in, size_t len, char *out);

/* Decodes exactly `out_len` bytes from the hex string `hex` (upper or lower
 * case, an optional "0x" prefix, no spaces). Returns 0, -IST_EBADHEX for a
 * non-hex character, or -IST_ERANGE when the string does not hold exactly
 * out_len bytes. `out` is written only on success. */
int ist_hex_decode(const char *hex, uint8_t *out, size_t out_len) IST_WUR;

/* Decodes a hex string of any even length into a new malloc'd buffer.
 * Out: *ret_buf (caller frees), *ret_len. Returns 0, -IST_EBADHEX,
 * -IST_ENOMEM. */
int ist_hex_decode_alloc(const char *hex, uint8_t **ret_buf, size_t *ret_len) IST_WUR;

static inline void ist_put_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void ist_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void ist_put_be64(uint8_t *p, uint64_t v)
{
	ist_put_be32(p, (uint32_t)(v >> 32));
	ist_put_be32(p + 4, (uint32_t)v);
}
static inline uint16_t ist_get_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t ist_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t ist_get_be64(const uint8_t *p)
{
	return ((uint64_t)ist_get_be32(p) << 32) | ist_get_be32(p + 4);
}

/*
 * A growable buffer. Appends never fail visibly: on allocation failure or
 * when `limit` (0 = none) would be exceeded the buffer becomes failed, later
 * appends are ignored, and ist_buf_err() reports -IST_ENOMEM or -IST_ETOOBIG.
 * Check once at the end.
 */
struct ist_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t limit;
	int err;
};

void ist_buf_init(struct ist_buf *b, size_t limit);
/* Frees the storage (wiping it first: buffers may have held secrets). */
void ist_buf_fini(struct ist_buf *b);
void ist_buf_put(struct ist_buf *b, const void *p, size_t len);
void ist_buf_put_u8(struct ist_buf *b, uint8_t v);
void ist_buf_put_be16(struct ist_buf *b, uint16_t v);
void ist_buf_put_be32(struct ist_buf *b, uint32_t v);
void ist_buf_put_be64(struct ist_buf *b, uint64_t v);
/* A variable-length field: u32 big-endian length, then the bytes. */
void ist_buf_put_var(struct ist_buf *b, const void *p, size_t len);
/* Text: a string without its NUL; printf-style output of any length. */
void ist_buf_puts(struct ist_buf *b, const char *s);
void ist_buf_putf(struct ist_buf *b, const char *fmt, ...) IST_PRINTF(2, 3);
/* Lower-case hex of `len` bytes. */
void ist_buf_put_hex(struct ist_buf *b, const uint8_t *p, size_t len);
/* Empties the buffer and clears its error (the storage stays). */
void ist_buf_reset(struct ist_buf *b);
static inline int ist_buf_err(const struct ist_buf *b) { return b->err; }
/* Hands the bytes to the caller (who frees them) and resets the buffer.
 * Returns 0 or the buffer's error (the storage is then freed). */
int ist_buf_take(struct ist_buf *b, uint8_t **ret_data, size_t *ret_len) IST_WUR;

/*
 * A read cursor over borrowed bytes. Any short read marks it failed; further
 * reads return zeros and the caller checks ist_cur_ok()/ist_cur_done() once.
 */
struct ist_cur {
	const uint8_t *p;
	size_t len;
	bool failed;
};

static inline void ist_cur_init(struct ist_cur *c, const uint8_t *p, size_t len)
{
	c->p = p; c->len = len; c->failed = false;
}
bool ist_cur_get(struct ist_cur *c, void *out, size_t len);
uint8_t ist_cur_u8(struct ist_cur *c);
uint16_t ist_cur_be16(struct ist_cur *c);
uint32_t ist_cur_be32(struct ist_cur *c);
uint64_t ist_cur_be64(struct ist_cur *c);
/* Borrows `len` bytes in place; returns NULL (and fails) when short. */
const uint8_t *ist_cur_ptr(struct ist_cur *c, size_t len);
/* Reads a u32-length-prefixed field of at most `max` bytes, borrowed. */
const uint8_t *ist_cur_var(struct ist_cur *c, size_t max, size_t *ret_len);
static inline bool ist_cur_ok(const struct ist_cur *c) { return !c->failed; }
/* True when no read failed and every byte was consumed. */
static inline bool ist_cur_done(const struct ist_cur *c) { return !c->failed && c->len == 0; }

/* Constant-time equality of two byte strings of equal length. */
bool ist_ct_equal(const void *a, const void *b, size_t len) IST_WUR;

/* Wipes memory in a way the compiler may not elide. */
void ist_wipe(void *p, size_t len);

#endif
