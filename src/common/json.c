#include "common/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/err.h"

void ist_json_reader_init(struct ist_json_reader *jr)
{
	jr->err = 0;
	jr->why[0] = '\0';
}

int ist_json_fail(struct ist_json_reader *jr, int code, const char *path, const char *fmt, ...)
{
	if (jr->err)
		return jr->err;
	jr->err = code < 0 ? code : -IST_EPARSE;
	char problem[IST_JSON_WHY_MAX - IST_JSON_PATH_MAX - 2];   /* the path fits in front of it */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(problem, sizeof(problem), fmt, ap);
	va_end(ap);
	if (path && *path)
		snprintf(jr->why, sizeof(jr->why), "%s: %s", path, problem);
	else
		snprintf(jr->why, sizeof(jr->why), "%s", problem);
	return jr->err;
}

void ist_json_path(char out[IST_JSON_PATH_MAX], const char *parent, const char *key)
{
	snprintf(out, IST_JSON_PATH_MAX, "%s%s%s", parent, *parent ? "." : "", key);
}

void ist_json_index(char out[IST_JSON_PATH_MAX], const char *parent, size_t i)
{
	snprintf(out, IST_JSON_PATH_MAX, "%s[%zu]", parent, i);
}

/* A string is quoted only when it is short printable ASCII without quotes
 * or backslashes: anything else from outside could break a log line. */
static void describe_string(const char *s, size_t n, char *buf, size_t len)
{
	bool tame = n <= 64 && strlen(s) == n;
	for (size_t i = 0; i < n && tame; i++)
		tame = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\';
	if (tame)
		snprintf(buf, len, "\"%s\"", s);
	else
		snprintf(buf, len, "a string of %zu bytes", n);
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
	case JSON_TRUE:
		snprintf(buf, len, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		break;
	case JSON_NULL:
		snprintf(buf, len, "null");
		break;
	case JSON_STRING:
		describe_string(json_string_value(v), json_string_length(v), buf, len);
		break;
	case JSON_OBJECT:
		snprintf(buf, len, "an object");
		break;
	case JSON_ARRAY:
		snprintf(buf, len, "an array");
		break;
	default:
		snprintf(buf, len, "a value");
		break;
	}
	return buf;
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

json_t *ist_json_parse(struct ist_json_reader *jr, const char *text, size_t len)
{
	if (jr->err)
		return NULL;
	json_error_t je;
	json_t *root = json_loadb(text ? text : "", text ? len : 0, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		ist_json_fail(jr, -IST_EPARSE, "", "invalid JSON at line %d column %d: %s", je.line, je.column,
			      je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		char got[80];
		ist_json_fail(jr, -IST_EPARSE, "", "must be a JSON object (got %s)",
			      ist_json_describe(root, got, sizeof(got)));
		json_decref(root);
		return NULL;
	}
	return root;
}

json_t *ist_json_member(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key)
{
	if (jr->err)
		return NULL;
	if (!json_is_object(obj)) {
		char got[80];
		ist_json_fail(jr, -IST_EPARSE, parent, "must be an object (got %s)",
			      obj ? ist_json_describe(obj, got, sizeof(got)) : "nothing");
		return NULL;
	}
	json_t *v = json_object_get(obj, key);
	if (!v) {
		char path[IST_JSON_PATH_MAX];
		ist_json_path(path, parent, key);
		ist_json_fail(jr, -IST_EPARSE, path, "missing required field");
	}
	return v;
}

/* The member with its path, or NULL (the reader failed). */
static json_t *member_at(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key,
			 char path[IST_JSON_PATH_MAX])
{
	json_t *v = ist_json_member(jr, obj, parent, key);
	if (v)
		ist_json_path(path, parent, key);
	return v;
}

uint64_t ist_json_u64(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key)
{
	char path[IST_JSON_PATH_MAX], got[80];
	json_t *v = member_at(jr, obj, parent, key, path);
	if (!v)
		return 0;
	uint64_t val;
	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return (uint64_t)json_integer_value(v);
	if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v) &&
	    ist_json_decimal_u64(json_string_value(v), &val))
		return val;
	ist_json_fail(jr, -IST_EPARSE, path,
		      "must be a non-negative integer or a string of decimal digits below 2^64 (got %s)",
		      ist_json_describe(v, got, sizeof(got)));
	return 0;
}

bool ist_json_bool(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key)
{
	char path[IST_JSON_PATH_MAX], got[80];
	json_t *v = member_at(jr, obj, parent, key, path);
	if (!v)
		return false;
	if (!json_is_boolean(v)) {
		ist_json_fail(jr, -IST_EPARSE, path, "must be true or false (got %s)",
			      ist_json_describe(v, got, sizeof(got)));
		return false;
	}
	return json_is_true(v);
}

/* The hex digits of a string member without its "0x" prefix, or NULL after
 * failing. Out: *ret_n, the number of digits. */
static const char *hex_digits(struct ist_json_reader *jr, json_t *v, const char *path, const char *want,
			      size_t *ret_n)
{
	char got[80];
	if (!json_is_string(v)) {
		ist_json_fail(jr, -IST_EPARSE, path, "must be %s (got %s)", want,
			      ist_json_describe(v, got, sizeof(got)));
		return NULL;
	}
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (strlen(s) != n) {
		ist_json_fail(jr, -IST_EPARSE, path, "must be %s (got a string with a NUL byte)", want);
		return NULL;
	}
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	*ret_n = n;
	return s;
}

void ist_json_hex(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, uint8_t *out,
		  size_t len)
{
	memset(out, 0, len);
	char path[IST_JSON_PATH_MAX], want[64];
	json_t *v = member_at(jr, obj, parent, key, path);
	if (!v)
		return;
	snprintf(want, sizeof(want), "a hex string of %zu bytes", len);
	size_t n;
	const char *s = hex_digits(jr, v, path, want, &n);
	if (!s)
		return;
	if (n != 2 * len) {
		ist_json_fail(jr, -IST_EPARSE, path, "must be %s (got %zu hex digits)", want, n);
		return;
	}
	if (ist_hex_decode(s, out, len) < 0) {
		memset(out, 0, len);
		ist_json_fail(jr, -IST_EPARSE, path, "must be %s (got a non-hex character)", want);
	}
}

uint8_t *ist_json_hex_alloc(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key,
			    size_t max, size_t *ret_len)
{
	*ret_len = 0;
	char path[IST_JSON_PATH_MAX], want[64];
	json_t *v = member_at(jr, obj, parent, key, path);
	if (!v)
		return NULL;
	snprintf(want, sizeof(want), "a hex string of at most %zu bytes", max);
	size_t n;
	const char *s = hex_digits(jr, v, path, want, &n);
	if (!s)
		return NULL;
	if (n % 2) {
		ist_json_fail(jr, -IST_EPARSE, path, "must be %s (got an odd number of hex digits, %zu)", want, n);
		return NULL;
	}
	if (n / 2 > max) {
		ist_json_fail(jr, -IST_EPARSE, path, "must be %s (got %zu bytes)", want, n / 2);
		return NULL;
	}
	if (n == 0)
		return NULL;
	uint8_t *buf = malloc(n / 2);
	if (!buf) {
		ist_json_fail(jr, -IST_ENOMEM, path, "out of memory");
		return NULL;
	}
	if (ist_hex_decode(s, buf, n / 2) < 0) {
		free(buf);
		ist_json_fail(jr, -IST_EPARSE, path, "must be %s (got a non-hex character)", want);
		return NULL;
	}
	*ret_len = n / 2;
	return buf;
}

json_t *ist_json_array(struct ist_json_reader *jr, json_t *obj, const char *parent, const char *key, size_t max)
{
	char path[IST_JSON_PATH_MAX], got[80];
	json_t *v = member_at(jr, obj, parent, key, path);
	if (!v)
		return NULL;
	if (!json_is_array(v)) {
		ist_json_fail(jr, -IST_EPARSE, path, "must be an array (got %s)",
			      ist_json_describe(v, got, sizeof(got)));
		return NULL;
	}
	if (json_array_size(v) > max) {
		ist_json_fail(jr, -IST_EPARSE, path, "must have at most %zu items (got %zu)", max,
			      json_array_size(v));
		return NULL;
	}
	return v;
}
