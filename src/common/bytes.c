#include "common/bytes.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static const char hexdigits[] = "0123456789abcdef";

void ist_hex_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static const char *skip_prefix(const char *hex)
{
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		return hex + 2;
	return hex;
}

static int decode_into(const char *hex, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -IST_EBADHEX;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int ist_hex_decode(const char *hex, uint8_t *out, size_t out_len)
{
	if (!hex)
		return -IST_EINVAL;
	hex = skip_prefix(hex);
	size_t n = strlen(hex);
	for (size_t i = 0; i < n; i++)
		if (nibble(hex[i]) < 0)
			return -IST_EBADHEX;
	if (n != 2 * out_len)
		return -IST_ERANGE;
	/* every character was checked above, so decoding cannot fail half way */
	return decode_into(hex, out_len, out);
}

int ist_hex_decode_alloc(const char *hex, uint8_t **ret_buf, size_t *ret_len)
{
	if (!hex)
		return -IST_EINVAL;
	hex = skip_prefix(hex);
	size_t n = strlen(hex);
	if (n % 2)
		return -IST_EBADHEX;
	uint8_t *buf = malloc(n / 2 ? n / 2 : 1);
	if (!buf)
		return -IST_ENOMEM;
	int r = decode_into(hex, n / 2, buf);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_buf = buf;
	*ret_len = n / 2;
	return 0;
}

void ist_buf_init(struct ist_buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

void ist_buf_fini(struct ist_buf *b)
{
	if (b->data) {
		ist_wipe(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

void ist_buf_put(struct ist_buf *b, const void *p, size_t len)
{
	if (b->err || len == 0)
		return;
	if (len > SIZE_MAX - b->len || (b->limit && b->len + len > b->limit)) {
		b->err = -IST_ETOOBIG;
		return;
	}
	if (b->len + len > b->cap) {
		size_t need = b->len + len, cap = b->cap ? b->cap : 64;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		uint8_t *d = malloc(cap);
		if (!d) {
			b->err = -IST_ENOMEM;
			return;
		}
		if (b->data) {
			memcpy(d, b->data, b->len);
			ist_wipe(b->data, b->cap);
			free(b->data);
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
}

void ist_buf_put_u8(struct ist_buf *b, uint8_t v) { ist_buf_put(b, &v, 1); }

void ist_buf_put_be16(struct ist_buf *b, uint16_t v)
{
	uint8_t t[2];
	ist_put_be16(t, v);
	ist_buf_put(b, t, sizeof(t));
}

void ist_buf_put_be32(struct ist_buf *b, uint32_t v)
{
	uint8_t t[4];
	ist_put_be32(t, v);
	ist_buf_put(b, t, sizeof(t));
}

void ist_buf_put_be64(struct ist_buf *b, uint64_t v)
{
	uint8_t t[8];
	ist_put_be64(t, v);
	ist_buf_put(b, t, sizeof(t));
}

void ist_buf_put_var(struct ist_buf *b, const void *p, size_t len)
{
	if (len > UINT32_MAX) {
		if (!b->err)
			b->err = -IST_ETOOBIG;
		return;
	}
	ist_buf_put_be32(b, (uint32_t)len);
	ist_buf_put(b, p, len);
}

int ist_buf_take(struct ist_buf *b, uint8_t **ret_data, size_t *ret_len)
{
	int err = b->err;
	if (err) {
		ist_buf_fini(b);
		return err;
	}
	if (!b->data) {
		b->data = malloc(1);
		if (!b->data)
			return -IST_ENOMEM;
	}
	*ret_data = b->data;
	*ret_len = b->len;
	b->data = NULL;
	ist_buf_fini(b);
	return 0;
}

const uint8_t *ist_cur_ptr(struct ist_cur *c, size_t len)
{
	if (c->failed || len > c->len) {
		c->failed = true;
		return NULL;
	}
	const uint8_t *p = c->p;
	c->p += len;
	c->len -= len;
	return p;
}

bool ist_cur_get(struct ist_cur *c, void *out, size_t len)
{
	const uint8_t *p = ist_cur_ptr(c, len);
	if (!p) {
		memset(out, 0, len);
		return false;
	}
	memcpy(out, p, len);
	return true;
}

uint8_t ist_cur_u8(struct ist_cur *c)
{
	const uint8_t *p = ist_cur_ptr(c, 1);
	return p ? p[0] : 0;
}

uint16_t ist_cur_be16(struct ist_cur *c)
{
	const uint8_t *p = ist_cur_ptr(c, 2);
	return p ? ist_get_be16(p) : 0;
}

uint32_t ist_cur_be32(struct ist_cur *c)
{
	const uint8_t *p = ist_cur_ptr(c, 4);
	return p ? ist_get_be32(p) : 0;
}

uint64_t ist_cur_be64(struct ist_cur *c)
{
	const uint8_t *p = ist_cur_ptr(c, 8);
	return p ? ist_get_be64(p) : 0;
}

const uint8_t *ist_cur_var(struct ist_cur *c, size_t max, size_t *ret_len)
{
	uint32_t n = ist_cur_be32(c);
	if (c->failed || n > max) {
		c->failed = true;
		*ret_len = 0;
		return NULL;
	}
	const uint8_t *p = ist_cur_ptr(c, n);
	*ret_len = p ? n : 0;
	return p;
}

bool ist_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

void ist_wipe(void *p, size_t len)
{
	/* explicit_bzero is in glibc >= 2.25; common must not depend on libsodium */
	explicit_bzero(p, len);
}

void ist_buf_puts(struct ist_buf *b, const char *s)
{
	ist_buf_put(b, s, strlen(s));
}

void ist_buf_putf(struct ist_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (k < 0) {
		if (!b->err)
			b->err = -IST_EINVAL;
		return;
	}
	if ((size_t)k < sizeof(tmp)) {
		ist_buf_put(b, tmp, (size_t)k);
		return;
	}
	char *big = malloc((size_t)k + 1);
	if (!big) {
		if (!b->err)
			b->err = -IST_ENOMEM;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)k + 1, fmt, ap);
	va_end(ap);
	ist_buf_put(b, big, (size_t)k);
	free(big);
}

void ist_buf_put_hex(struct ist_buf *b, const uint8_t *p, size_t len)
{
	char hex[2 * 64 + 1];
	for (size_t off = 0; off < len; off += 64) {
		size_t k = len - off < 64 ? len - off : 64;
		ist_hex_encode(p + off, k, hex);
		ist_buf_put(b, hex, 2 * k);
	}
}

void ist_buf_reset(struct ist_buf *b)
{
	b->len = 0;
	b->err = 0;
}
