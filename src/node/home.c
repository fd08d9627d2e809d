/*
 * A node home: paths, files, errors, URLs and the JSON reader shared by the
 * config and genesis parsers.
 */
#include "node/home.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/bytes.h"
#include "common/err.h"
#include "common/file.h"

/* ---- paths -------------------------------------------------------------- */

int ist_node_home_path(const char *home, const char *rel, char **ret_path)
{
	if (!rel || !*rel)
		return -IST_EINVAL;
	char *p = NULL;
	int n = rel[0] == '/' ? asprintf(&p, "%s", rel) : asprintf(&p, "%s/%s", home && *home ? home : ".", rel);
	if (n < 0)
		return -IST_ENOMEM;
	*ret_path = p;
	return 0;
}

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

static void IST_PRINTF(4, 0) err_vset(struct ist_node_err *err, const char *file, const char *field,
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

void ist_node_err_set(struct ist_node_err *err, const char *file, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, file, field, fmt, ap);
	va_end(ap);
}

const char *ist_node_err_format(const struct ist_node_err *err, char *buf, size_t len)
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

static int errno_fail(struct ist_node_err *err, const char *path, const char *what, int e)
{
	ist_node_err_set(err, path, "", "%s: %s", what, strerror(e));
	return ist_err_from_errno(e);
}

int ist_node_file_read(const char *path, size_t max, char **ret_text, size_t *ret_len, struct ist_node_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT) {
			ist_node_err_set(err, path, "", "no such file");
			return -IST_ENOTFOUND;
		}
		return errno_fail(err, path, "cannot read", errno);
	}
	struct stat st;
	char *buf = NULL;
	int r;
	if (fstat(fd, &st) < 0) {
		r = errno_fail(err, path, "cannot read", errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ist_node_err_set(err, path, "", "not a regular file");
		r = -IST_EINVAL;
		goto out;
	}
	/* at most one byte past the limit, whatever st_size says */
	buf = malloc(max + 2);
	if (!buf) {
		ist_node_err_set(err, path, "", "out of memory");
		r = -IST_ENOMEM;
		goto out;
	}
	size_t len = 0;
	while (len < max + 1) {
		ssize_t n = read(fd, buf + len, max + 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = errno_fail(err, path, "cannot read", errno);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		ist_node_err_set(err, path, "", "larger than %zu bytes", max);
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

int ist_node_file_write(const char *path, const void *data, size_t len, bool replace, struct ist_node_err *err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!*base) {
		ist_node_err_set(err, path, "", "not a file name");
		return -IST_EINVAL;
	}
	struct stat st;
	if (!replace && lstat(path, &st) == 0) {
		ist_node_err_set(err, path, "", "file exists");
		return -IST_EEXISTS;
	}
	struct ist_file_fail ff;
	int r = ist_file_write_atomic(path, data, len, 0600, replace, &ff);
	if (r == 0)
		return 0;
	if (ff.step == IST_FILE_STEP_PREPARE) {
		ist_node_err_set(err, path, "", "out of memory");
		return -IST_ENOMEM;
	}
	if (ff.step == IST_FILE_STEP_RENAME && ff.errnum == EEXIST) {
		ist_node_err_set(err, path, "", "file exists");
		return -IST_EEXISTS;
	}
	if (ff.step == IST_FILE_STEP_SYNC_DIR)
		return errno_fail(err, path, "cannot sync its directory", ff.errnum);
	return errno_fail(err, path, "cannot write", ff.errnum);
}

int ist_node_dir_make(const char *dir, struct ist_node_err *err)
{
	size_t n = strlen(dir);
	if (n == 0 || n >= PATH_MAX) {
		ist_node_err_set(err, dir, "", "invalid directory name");
		return -IST_EINVAL;
	}
	char path[PATH_MAX];
	memcpy(path, dir, n + 1);
	bool made = false;
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0700) == 0)
			made = true;
		else if (errno != EEXIST)
			return errno_fail(err, dir, "cannot create the directory", errno);
		path[i] = c;
	}
	/* whatever the umask did, a directory we made is 0700 */
	if (made && chmod(dir, 0700) < 0)
		return errno_fail(err, dir, "cannot create the directory", errno);
	struct stat st;
	if (stat(dir, &st) < 0)
		return errno_fail(err, dir, "cannot create the directory", errno);
	if (!S_ISDIR(st.st_mode)) {
		ist_node_err_set(err, dir, "", "not a directory");
		return -IST_EINVAL;
	}
	if (st.st_uid != geteuid()) {
		ist_node_err_set(err, dir, "", "directory is owned by uid %u, not by the current user",
				 (unsigned)st.st_uid);
		return -IST_EPERM;
	}
	if (st.st_mode & 077) {
		ist_node_err_set(err, dir, "", "directory is accessible by group or others (mode %04o); fix with: chmod 700 %s",
				 (unsigned)(st.st_mode & 07777), dir);
		return -IST_EPERM;
	}
	return 0;
}

/* ---- URLs ------------------------------------------------------------------------ */

/* "tcp://HOST:PORT or tls+tcp://HOST:PORT" */
static void url_forms(const char *schemes, char *out, size_t len)
{
	size_t off = 0;
	out[0] = '\0';
	for (const char *s = schemes; *s && off < len; s += strlen(s) + 1) {
		int n = snprintf(out + off, len - off, "%s%s://HOST:PORT", off ? " or " : "", s);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

static void describe_str(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);
	bool tame = n <= 64;
	for (size_t i = 0; i < n && tame; i++)
		tame = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\';
	if (tame)
		snprintf(buf, len, "\"%s\"", s);
	else
		snprintf(buf, len, "a string of %zu bytes", n);
}

static bool host_name_valid(const char *h, size_t n)
{
	if (n == 0 || n > IST_NODE_HOST_MAX || h[0] == '-' || h[0] == '.' || h[n - 1] == '.' || h[n - 1] == '-')
		return false;
	bool numeric = true;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && c != '-' && c != '.')
			return false;
		if (c == '.' && h[i + 1] == '.')
			return false;
		if (!(c >= '0' && c <= '9') && c != '.')
			numeric = false;
	}
	if (numeric) {
		/* all digits and dots: it had better be an IPv4 address */
		char tmp[IST_NODE_HOST_MAX + 1];
		memcpy(tmp, h, n);
		tmp[n] = '\0';
		struct in_addr a;
		return inet_pton(AF_INET, tmp, &a) == 1;
	}
	return true;
}

int ist_node_url_parse(const char *url, const char *schemes, bool allow_unspecified, struct ist_node_url *ret_url,
		       char *problem, size_t len)
{
	char forms[96], got[96];
	url_forms(schemes, forms, sizeof(forms));
	describe_str(url, got, sizeof(got));
	const char *why = NULL;
	struct ist_node_url u;
	memset(&u, 0, sizeof(u));
	size_t n = strlen(url);
	const char *sep = strstr(url, "://");
	const char *s;
	if (n > IST_NODE_URL_MAX) {
		snprintf(problem, len, "must be at most %d bytes (got %zu)", IST_NODE_URL_MAX, n);
		return -IST_EINVAL;
	}
	if (!sep) {
		why = "no scheme";
		goto bad;
	}
	for (s = schemes; *s; s += strlen(s) + 1)
		if (strlen(s) == (size_t)(sep - url) && strncmp(url, s, strlen(s)) == 0)
			break;
	if (!*s) {
		why = "unsupported scheme";
		goto bad;
	}
	snprintf(u.scheme, sizeof(u.scheme), "%s", s);
	const char *host = sep + 3;
	const char *colon;
	if (host[0] == '[') {
		const char *close = strchr(host, ']');
		if (!close || close[1] != ':') {
			why = close ? "port missing" : "unterminated IPv6 address";
			goto bad;
		}
		size_t hn = (size_t)(close - host - 1);
		char tmp[64];
		struct in6_addr a6;
		if (hn == 0 || hn >= sizeof(tmp)) {
			why = "invalid IPv6 address";
			goto bad;
		}
		memcpy(tmp, host + 1, hn);
		tmp[hn] = '\0';
		if (inet_pton(AF_INET6, tmp, &a6) != 1) {
			why = "invalid IPv6 address";
			goto bad;
		}
		memcpy(u.host, host, hn + 2);
		u.host[hn + 2] = '\0';
		colon = close + 1;
		if (!allow_unspecified && IN6_IS_ADDR_UNSPECIFIED(&a6)) {
			why = "[::] is a bind address, not one peers can connect to";
			goto bad;
		}
	} else {
		colon = strrchr(host, ':');
		if (!colon) {
			why = "port missing";
			goto bad;
		}
		if (!host_name_valid(host, (size_t)(colon - host))) {
			why = colon == host ? "host missing" : "invalid host";
			goto bad;
		}
		memcpy(u.host, host, (size_t)(colon - host));
		u.host[colon - host] = '\0';
		if (!allow_unspecified && strcmp(u.host, "0.0.0.0") == 0) {
			why = "0.0.0.0 is a bind address, not one peers can connect to";
			goto bad;
		}
	}
	const char *port = colon + 1;
	size_t pn = strlen(port);
	unsigned long pv = 0;
	if (pn == 0) {
		why = "port missing";
		goto bad;
	}
	for (size_t i = 0; i < pn; i++) {
		if (port[i] < '0' || port[i] > '9' || pn > 5) {
			why = strchr(port, '/') ? "a path is not allowed" : "invalid port";
			goto bad;
		}
		pv = pv * 10 + (unsigned long)(port[i] - '0');
	}
	if ((port[0] == '0' && pn > 1) || pv == 0 || pv > 65535) {
		why = "port must be from 1 to 65535";
		goto bad;
	}
	u.port = (uint16_t)pv;
	if (ret_url)
		*ret_url = u;
	return 0;
bad:
	snprintf(problem, len, "must be %s (got %s: %s)", forms, got, why);
	return -IST_EINVAL;
}

/* ---- the JSON reader ------------------------------------------------------------- */

void ist_node_jr_init(struct ist_node_jr *jr, const char *file, struct ist_node_err *err)
{
	jr->file = file;
	jr->err = err;
	jr->code = 0;
}

int ist_node_jr_fail(struct ist_node_jr *jr, int code, const char *path, const char *fmt, ...)
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

void ist_node_jr_path(char out[IST_NODE_ERR_FIELD_MAX], const char *parent, const char *key)
{
	snprintf(out, IST_NODE_ERR_FIELD_MAX, "%s%s%s", parent, *parent ? "." : "", key);
}

void ist_node_jr_index(char out[IST_NODE_ERR_FIELD_MAX], const char *parent, size_t i)
{
	snprintf(out, IST_NODE_ERR_FIELD_MAX, "%s[%zu]", parent, i);
}

const char *ist_node_jr_describe(const json_t *v, char *buf, size_t len)
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
	case JSON_STRING: describe_str(json_string_value(v), buf, len); break;
	case JSON_OBJECT: snprintf(buf, len, "an object"); break;
	case JSON_ARRAY: snprintf(buf, len, "an array"); break;
	default: snprintf(buf, len, "a value"); break;
	}
	return buf;
}

json_t *ist_node_jr_parse(struct ist_node_jr *jr, const char *text, size_t len)
{
	if (jr->code)
		return NULL;
	json_error_t je;
	json_t *root = json_loadb(text ? text : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		ist_node_jr_fail(jr, -IST_EPARSE, "", "invalid JSON: %s", je.text);
		if (jr->err) {
			jr->err->line = je.line > 0 ? je.line : 1;
			jr->err->column = je.column > 0 ? je.column : 1;
		}
		return NULL;
	}
	if (!json_is_object(root)) {
		char got[96];
		ist_node_jr_fail(jr, -IST_ECONFIG, "", "must be a JSON object (got %s)",
				 ist_node_jr_describe(root, got, sizeof(got)));
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

bool ist_node_jr_object(struct ist_node_jr *jr, json_t *v, const char *path, const char *const *allowed)
{
	if (jr->code)
		return false;
	if (!json_is_object(v)) {
		char got[96];
		ist_node_jr_fail(jr, -IST_ECONFIG, path, "must be an object (got %s)",
				 ist_node_jr_describe(v, got, sizeof(got)));
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
		char kpath[IST_NODE_ERR_FIELD_MAX], shown[96];
		describe_str(key, shown, sizeof(shown));
		/* the path shows the key only when it is tame; else the object */
		if (shown[0] == '"')
			ist_node_jr_path(kpath, path, key);
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
			ist_node_jr_fail(jr, -IST_ECONFIG, kpath, "unknown field (%s)", shown);
		else if (best)
			ist_node_jr_fail(jr, -IST_ECONFIG, kpath, "unknown field (did you mean \"%s\"?)", best);
		else
			ist_node_jr_fail(jr, -IST_ECONFIG, kpath, "unknown field");
		return false;
	}
	return true;
}

json_t *ist_node_jr_member(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, bool required)
{
	if (jr->code || !json_is_object(obj))
		return NULL;
	json_t *v = json_object_get(obj, key);
	if (!v && required) {
		char path[IST_NODE_ERR_FIELD_MAX];
		ist_node_jr_path(path, parent, key);
		ist_node_jr_fail(jr, -IST_ECONFIG, path, "missing required field");
	}
	return v;
}

const char *ist_node_jr_string(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key,
			       bool required, const char *def)
{
	json_t *v = ist_node_jr_member(jr, obj, parent, key, required);
	if (jr->code)
		return "";
	if (!v)
		return def;
	if (!json_is_string(v)) {
		char path[IST_NODE_ERR_FIELD_MAX], got[96];
		ist_node_jr_path(path, parent, key);
		ist_node_jr_fail(jr, -IST_ECONFIG, path, "must be a string (got %s)",
				 ist_node_jr_describe(v, got, sizeof(got)));
		return "";
	}
	return json_string_value(v);
}

static void range_words(uint64_t min, uint64_t max, char *buf, size_t len)
{
	if (max >= IST_NODE_JSON_SAFE_INT && min <= 1)
		snprintf(buf, len, "%s", min == 1 ? "a positive integer" : "a non-negative integer");
	else
		snprintf(buf, len, "an integer from %llu to %llu", (unsigned long long)min, (unsigned long long)max);
}

uint64_t ist_node_jr_uint(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, bool required,
			  uint64_t def, uint64_t min, uint64_t max)
{
	json_t *v = ist_node_jr_member(jr, obj, parent, key, required);
	if (jr->code)
		return 0;
	if (!v)
		return def;
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i >= 0 && (uint64_t)i >= min && (uint64_t)i <= max)
			return (uint64_t)i;
	}
	char path[IST_NODE_ERR_FIELD_MAX], got[96], words[96];
	ist_node_jr_path(path, parent, key);
	range_words(min, max, words, sizeof(words));
	ist_node_jr_fail(jr, -IST_ECONFIG, path, "must be %s (got %s)", words, ist_node_jr_describe(v, got, sizeof(got)));
	return 0;
}

/* Strict decimal: digits only, no leading zero (but "0"), fits 64 bits. */
static bool parse_decimal_u64(const char *s, uint64_t *ret)
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

uint64_t ist_node_jr_u64(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, bool required,
			 uint64_t def, uint64_t min)
{
	json_t *v = ist_node_jr_member(jr, obj, parent, key, required);
	if (jr->code)
		return 0;
	if (!v)
		return def;
	char path[IST_NODE_ERR_FIELD_MAX], got[96], words[96];
	ist_node_jr_path(path, parent, key);
	uint64_t val;
	if (json_is_integer(v) && json_integer_value(v) >= 0 &&
	    (uint64_t)json_integer_value(v) > IST_NODE_JSON_SAFE_INT) {
		ist_node_jr_fail(jr, -IST_ECONFIG, path,
				 "must be a decimal string when above 2^53, which JSON tools round (got %s)",
				 ist_node_jr_describe(v, got, sizeof(got)));
		return 0;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0 && (uint64_t)json_integer_value(v) >= min)
		return (uint64_t)json_integer_value(v);
	if (json_is_string(v) && parse_decimal_u64(json_string_value(v), &val) && val >= min)
		return val;
	range_words(min, UINT64_MAX, words, sizeof(words));
	ist_node_jr_fail(jr, -IST_ECONFIG, path, "must be %s (got %s)", words, ist_node_jr_describe(v, got, sizeof(got)));
	return 0;
}

bool ist_node_jr_bool(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, bool def)
{
	json_t *v = ist_node_jr_member(jr, obj, parent, key, false);
	if (jr->code)
		return false;
	if (!v)
		return def;
	if (!json_is_boolean(v)) {
		char path[IST_NODE_ERR_FIELD_MAX], got[96];
		ist_node_jr_path(path, parent, key);
		ist_node_jr_fail(jr, -IST_ECONFIG, path, "must be true or false (got %s)",
				 ist_node_jr_describe(v, got, sizeof(got)));
		return false;
	}
	return json_is_true(v);
}

json_t *ist_node_json_u64(uint64_t v)
{
	if (v <= IST_NODE_JSON_SAFE_INT)
		return json_integer((json_int_t)v);
	char s[24];
	snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	return json_string(s);
}

int ist_node_json_text(const json_t *root, char **ret_text)
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

void ist_node_jr_hex(struct ist_node_jr *jr, json_t *obj, const char *parent, const char *key, uint8_t *out,
		     size_t len, const char *what)
{
	memset(out, 0, len);
	json_t *v = ist_node_jr_member(jr, obj, parent, key, true);
	if (jr->code)
		return;
	char path[IST_NODE_ERR_FIELD_MAX], got[96];
	ist_node_jr_path(path, parent, key);
	if (!json_is_string(v)) {
		ist_node_jr_fail(jr, -IST_ECONFIG, path, "must be %s of %zu hex digits (got %s)", what, 2 * len,
				 ist_node_jr_describe(v, got, sizeof(got)));
		return;
	}
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n != 2 * len || strlen(s) != n) {
		ist_node_jr_fail(jr, -IST_ECONFIG, path, "must be %s of %zu hex digits (got %zu characters)", what,
				 2 * len, n);
		return;
	}
	if (ist_hex_decode(s, out, len) < 0) {
		memset(out, 0, len);
		ist_node_jr_fail(jr, -IST_ECONFIG, path, "must be %s of %zu hex digits (got a non-hex character)", what,
				 2 * len);
	}
}
