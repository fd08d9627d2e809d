/*
 * JSON reading and writing (common/json.h). The error, file and reader code
 * moved from src/node/home.c.
 */
#include "common/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"

/* ---- errors --------------------------------------------------------------- */

static void clean(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static void copy_clean(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
	clean(dst);
}

static void IST_PRINTF(4, 0) err_vset(struct ist_json_err *err, const char *file, const char *field,
		       const char *fmt, va_list ap)
{
	if (!err)
		return;
	copy_clean(err->file, sizeof(err->file), file);
	copy_clean(err->field, sizeof(err->field), field);
	vsnprintf(err->problem, sizeof(err->problem), fmt, ap);
	clean(err->problem);
	err->line = 0;
	err->column = 0;
}

void ist_json_err_set(struct ist_json_err *err, const char *file, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, file, field, fmt, ap);
	va_end(ap);
}

const char *ist_json_err_format(const struct ist_json_err *err, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (err->line > 0)
		snprintf(buf, len, "%s: line %d, column %d: %s", err->file, err->line, err->column, err->problem);
	else if (err->field[0])
		snprintf(buf, len, "%s: %s: %s", err->file, err->field, err->problem);
	else
		snprintf(buf, len, "%s: %s", err->file, err->problem);
	return buf;
}

/* ---- files ------------------------------------------------------------------ */

int ist_json_err_errno(struct ist_json_err *err, const char *path, const char *what, int e)
{
	ist_json_err_set(err, path, "", "%s: %s", what, strerror(e));
	return ist_err_from_errno(e);
}

int ist_json_file_read(const char *path, size_t max, char **ret_text, size_t *ret_len, struct ist_json_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			ist_json_err_set(err, path, "", "no such file");
			return -IST_ENOTFOUND;
		}
		return ist_json_err_errno(err, path, "cannot read", errno);
	}
	struct stat st;
	char *buf = NULL;
	int r;
	if (fstat(fd, &st) < 0) {
		r = ist_json_err_errno(err, path, "cannot read", errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ist_json_err_set(err, path, "", "not a regular file");
		r = -IST_EINVAL;
		goto out;
	}
	/* at most one byte past the limit, whatever st_size says */
	buf = malloc(max + 2);
	if (!buf) {
		ist_json_err_set(err, path, "", "out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	size_t len = 0;
	while (len < max + 1) {
		ssize_t n = read(fd, buf + len, max + 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = ist_json_err_errno(err, path, "cannot read", errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		ist_json_err_set(err, path, "", "larger than %zu bytes", max);
		r = -IST_ETOOBIG;
		goto out;
	}
	buf[len] = '\0';
	*ret_text = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

/* ---- the reader ------------------------------------------------------------- */

const char *ist_json_describe_str(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);
	bool tame = n <= 64;
	for (size_t i = 0; i < n && tame; i++)
		tame = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\';
	if (tame)
		snprintf(buf, len, "\"%s\"", s);
	else
		snprintf(buf, len, "a string of %zu bytes", n);
	return buf;
}

void ist_json_reader_init(struct ist_json_reader *jr, const char *file, struct ist_json_err *err)
{
	jr->file = file;
	jr->err = err;
	jr->code = 0;
}

int ist_json_fail(struct ist_json_reader *jr, int code, const char *path, const char *fmt, ...)
{
	if (jr->code)
		return jr->code;
	jr->code = code < 0 ? code : -IST_ECONFIG;
	va_list ap;
	va_start(ap, fmt);
	err_vset(jr->err, jr->file, path, fmt, ap);
	va_end(ap);
	return jr->code;
}

void ist_json_path(char out[IST_JSON_ERR_FIELD_MAX], const char *parent, const char *key)
{
	snprintf(out, IST_JSON_ERR_FIELD_MAX, "%s%s%s", parent, *parent ? "." : "", key);
}

void ist_json_index(char out[IST_JSON_ERR_FIELD_MAX], const char *parent, size_t i)
{
	snprintf(out, IST_JSON_ERR_FIELD_MAX, "%s[%zu]", parent, i);
}

const char *ist_json_describe(const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE: snprintf(buf, len, "true"); break;
	case JSON_FALSE: snprintf(buf, len, "false"); break;
	case JSON_NULL: snprintf(buf, len, "null"); break;
	case JSON_STRING: ist_json_describe_str(json_string_value(v), buf, len); break;
	case JSON_OBJECT: snprintf(buf, len, "an object"); break;
	case JSON_ARRAY: snprintf(buf, len, "an array"); break;
	default: snprintf(buf, len, "a value"); break;
	}
	return buf;
}

json_t *ist_json_parse(struct ist_json_reader *jr, const char *text, size_t len)
{
	if (jr->code)
		return NULL;
	json_error_t je;
	json_t *root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		ist_json_fail(jr, -IST_EPARSE, "", "invalid JSON: %s", je.text);
		if (jr->err) {
			jr->err->line = je.line > 0 ? je.line : 1;
			jr->err->column = je.column > 0 ? je.column : 1;
		}
		return NULL;
	}
	if (!json_is_object(root)) {
		char got[96];
		ist_json_fail(jr, -IST_ECONFIG, "", "must be a JSON object (got %s)",
			      ist_json_describe(root, got, sizeof(got)));
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Edit distance of two short strings (Levenshtein), capped: anything over
 * 32 bytes counts as far. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	if (na > 32 || nb > 32)
		return SIZE_MAX;
	size_t row[33];
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[nb];
}

bool ist_json_object(struct ist_json_reader *jr, json_t *v, const char *path, const char *const *allowed)
{
	if (jr->code)
		return false;
	if (!json_is_object(v)) {
		char got[96];
		ist_json_fail(jr, -IST_ECONFIG, path, "must be an object (got %s)",
			      ist_json_describe(v, got, sizeof(got)));
		return false;
	}
	const char *key;
	json_t *member;
	json_object_foreach(v, key, member) {
		bool known = false;
		for (size_t i = 0; allowed[i] && !known; i++)
			known = strcmp(key, allowed[i]) == 0;
		if (known)
			continue;
		char kpath[IST_JSON_ERR_FIELD_MAX], shown[96];
		ist_json_describe_str(key, shown, sizeof(shown));
		/* the path shows the key only when it is tame; else the object */
		if (shown[0] == '"')
			ist_json_path(kpath, path, key);
		else
			snprintf(kpath, sizeof(kpath), "%s", path);
		const char *best = NULL;
		size_t best_d = 3;
		for (size_t i = 0; allowed[i]; i++) {
			size_t d = edit_distance(key, allowed[i]);
			if (d < best_d) {
				best_d = d;
				best = allowed[i];
			}
		}
		if (shown[0] != '"')
			ist_json_fail(jr, -IST_ECONFIG, kpath, "unknown field (%s)", shown);
		else if (best)
			ist_json_fail(jr, -IST_ECONFIG, kpath, "unknown field (did you mean \"%s\"?)", best);
		else
			ist_json_fail(jr, -IST_ECONFIG, kpath, "unknown field");
		return false;
	}
	return true;
}

json_t *ist_json_member(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required)
{
	if (jr->code || !json_is_object(obj))
		return NULL;
	json_t *v = json_object_get(obj, key);
	if (!v && required) {
		char path[IST_JSON_ERR_FIELD_MAX];
		ist_json_path(path, parent, key);
		ist_json_fail(jr, -IST_ECONFIG, path, "missing required field");
	}
	return v;
}

const char *ist_json_string(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key,
			    bool required, const char *def)
{
	json_t *v = ist_json_member(jr, obj, parent, key, required);
	if (jr->code)
		return "";
	if (!v)
		return def;
	if (!json_is_string(v)) {
		char path[IST_JSON_ERR_FIELD_MAX], got[96];
		ist_json_path(path, parent, key);
		ist_json_fail(jr, -IST_ECONFIG, path, "must be a string (got %s)",
			      ist_json_describe(v, got, sizeof(got)));
		return "";
	}
	return json_string_value(v);
}

static void range_words(uint64_t min, uint64_t max, char *buf, size_t len)
{
	if (max >= IST_JSON_SAFE_INT && min <= 1)
		snprintf(buf, len, "%s", min == 1 ? "a positive integer" : "a non-negative integer");
	else
		snprintf(buf, len, "an integer from %llu to %llu", (unsigned long long)min, (unsigned long long)max);
}

uint64_t ist_json_uint(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required,
		       uint64_t def, uint64_t min, uint64_t max)
{
	json_t *v = ist_json_member(jr, obj, parent, key, required);
	if (jr->code)
		return 0;
	if (!v)
		return def;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i >= 0 && (uint64_t)i >= min && (uint64_t)i <= max)
			return (uint64_t)i;
	}
	char path[IST_JSON_ERR_FIELD_MAX], got[96], words[96];
	ist_json_path(path, parent, key);
	range_words(min, max, words, sizeof(words));
	ist_json_fail(jr, -IST_ECONFIG, path, "must be %s (got %s)", words, ist_json_describe(v, got, sizeof(got)));
	return 0;
}

bool ist_json_decimal_u64(const char *s, uint64_t *ret)
{
	size_t n = strlen(s);
	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret = v;
	return true;
}

uint64_t ist_json_u64(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required,
		      uint64_t def, uint64_t min)
{
	json_t *v = ist_json_member(jr, obj, parent, key, required);
	if (jr->code)
		return 0;
	if (!v)
		return def;
	char path[IST_JSON_ERR_FIELD_MAX], got[96], words[96];
	ist_json_path(path, parent, key);
	uint64_t val;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    (uint64_t)json_integer_value(v) > IST_JSON_SAFE_INT) {
		ist_json_fail(jr, -IST_ECONFIG, path,
			      "must be a decimal string when above 2^53, which JSON tools round (got %s)",
			      ist_json_describe(v, got, sizeof(got)));
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0 && (uint64_t)json_integer_value(v) >= min)
		return (uint64_t)json_integer_value(v);
	if (json_is_string(v) && ist_json_decimal_u64(json_string_value(v), &val) && val >= min)
		return val;
	range_words(min, UINT64_MAX, words, sizeof(words));
	ist_json_fail(jr, -IST_ECONFIG, path, "must be %s (got %s)", words, ist_json_describe(v, got, sizeof(got)));
	return 0;
}

bool ist_json_bool(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool def)
{
	json_t *v = ist_json_member(jr, obj, parent, key, false);
	if (jr->code)
		return false;
	if (!v)
		return def;
	if (!json_is_boolean(v)) {
		char path[IST_JSON_ERR_FIELD_MAX], got[96];
		ist_json_path(path, parent, key);
		ist_json_fail(jr, -IST_ECONFIG, path, "must be true or false (got %s)",
			      ist_json_describe(v, got, sizeof(got)));
		return false;
	}
	return json_is_true(v);
}

/* The digits of a hex string member (without an "0x" prefix) and their
 * count; a NUL inside the string shows as strlen(s) != *ret_n. */
static const char *hex_digits(json_t *v, size_t *ret_n)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	*ret_n = n;
	return s;
}

void ist_json_hex(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, uint8_t *out,
		  size_t len, const char *what)
{
	memset(out, 0, len);
	json_t *v = ist_json_member(jr, obj, parent, key, true);
	if (jr->code)
		return;
	char path[IST_JSON_ERR_FIELD_MAX], got[96];
	ist_json_path(path, parent, key);
	if (!json_is_string(v)) {
		ist_json_fail(jr, -IST_ECONFIG, path, "must be %s of %zu hex digits (got %s)", what, 2 * len,
			      ist_json_describe(v, got, sizeof(got)));
		return;
	}
	size_t n;
	const char *s = hex_digits(v, &n);
	if (n != 2 * len || strlen(s) != n) {
		ist_json_fail(jr, -IST_ECONFIG, path, "must be %s of %zu hex digits (got %zu characters)", what,
			      2 * len, n);
		return;
	}
	if (ist_hex_decode(s, out, len) < 0) {
		memset(out, 0, len);
		ist_json_fail(jr, -IST_ECONFIG, path, "must be %s of %zu hex digits (got a non-hex character)", what,
			      2 * len);
	}
}

json_t *ist_json_array(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required,
		       size_t min, size_t max)
{
	json_t *a = ist_json_member(jr, obj, parent, key, required);
	if (!a || !ist_json_ok(jr))
		return NULL;
	char path[IST_JSON_ERR_FIELD_MAX], got[96];
	ist_json_path(path, parent, key);
	if (!json_is_array(a)) {
		ist_json_fail(jr, -IST_ECONFIG, path, "must be an array (got %s)", ist_json_describe(a, got, sizeof(got)));
		return NULL;
	}
	if (json_array_size(a) < min || json_array_size(a) > max) {
		ist_json_fail(jr, -IST_ECONFIG, path, "must have %zu to %zu elements (got %zu)", min, max,
			      json_array_size(a));
		return NULL;
	}
	return a;
}

void ist_json_hex_alloc(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, bool required,
			size_t max, uint8_t **ret_buf, size_t *ret_len)
{
	json_t *v = ist_json_member(jr, obj, parent, key, required);
	if (jr->code)
		return;
	if (!v) {
		*ret_buf = NULL;
		*ret_len = 0;
		return;
	}
	char path[IST_JSON_ERR_FIELD_MAX], got[96];
	ist_json_path(path, parent, key);
	if (!json_is_string(v)) {
		ist_json_fail(jr, -IST_ECONFIG, path, "must be a string of hex digits (got %s)",
			      ist_json_describe(v, got, sizeof(got)));
		return;
	}
	size_t n;
	const char *s = hex_digits(v, &n);
	if (strlen(s) != n || n % 2 != 0 || n / 2 > max) {
		ist_json_fail(jr, -IST_ECONFIG, path, "must be an even number of hex digits for at most %zu bytes "
			      "(got %zu characters)", max, n);
		return;
	}
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = n ? ist_hex_decode_alloc(s, &buf, &len) : 0;
	if (r == -IST_ENOMEM) {
		ist_json_fail(jr, r, path, "out of memory");
		return;
	}
	if (r < 0) {
		ist_json_fail(jr, -IST_ECONFIG, path, "must be hex digits (got a non-hex character)");
		return;
	}
	*ret_buf = buf;
	*ret_len = len;
}

/* ---- writing ---------------------------------------------------------------- */

json_t *ist_json_from_u64(uint64_t v)
{
	if (v <= IST_JSON_SAFE_INT)
		return json_integer((json_int_t)v);
	char s[24];
	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	return json_string(s);
}

json_t *ist_json_from_hex(const uint8_t *p, size_t len)
{
	char small[2 * 64 + 1];
	char *hex = len <= 64 ? small : malloc(2 * len + 1);
	if (!hex)
		return NULL;
	ist_hex_encode(p, len, hex);
	json_t *j = json_stringn(hex, 2 * len);
	if (hex != small)
		free(hex);
	return j;
}

int ist_json_dump_text(const json_t *root, char **ret_text)
{
	char *text = root ? json_dumps(root, JSON_INDENT(2)) : NULL;
	if (!text)
		return -IST_ENOMEM;
	size_t n = strlen(text);
	char *out = realloc(text, n + 2);
	if (!out) {
		free(text);
		return -IST_ENOMEM;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	*ret_text = out;
	return 0;
}
