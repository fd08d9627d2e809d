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

/* ---- files ------------------------------------------------------------------ */

int ist_node_file_write(const char *path, const void *data, size_t len, bool replace, struct ist_json_err *err)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	if (!*base) {
		ist_json_err_set(err, path, "", "not a file name");
		return -IST_EINVAL;
	}
	struct stat st;
	if (!replace && lstat(path, &st) == 0) {
		ist_json_err_set(err, path, "", "file exists");
		return -IST_EEXISTS;
	}
	struct ist_file_fail ff;
	int r = ist_file_write_atomic(path, data, len, 0600, replace, &ff);
	if (r == 0)
		return 0;
	if (ff.step == IST_FILE_STEP_PREPARE) {
		ist_json_err_set(err, path, "", "out of memory");
		return -IST_ENOMEM;
	}
	if (ff.step == IST_FILE_STEP_RENAME && ff.errnum == EEXIST) {
		ist_json_err_set(err, path, "", "file exists");
		return -IST_EEXISTS;
	}
	if (ff.step == IST_FILE_STEP_SYNC_DIR)
		return ist_json_err_errno(err, path, "cannot sync its directory", ff.errnum);
	return ist_json_err_errno(err, path, "cannot write", ff.errnum);
}

int ist_node_dir_make(const char *dir, struct ist_json_err *err)
{
	size_t n = strlen(dir);
	if (n == 0 || n >= PATH_MAX) {
		ist_json_err_set(err, dir, "", "invalid directory name");
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
			return ist_json_err_errno(err, dir, "cannot create the directory", errno);
		path[i] = c;
	}
	/* whatever the umask did, a directory we made is 0700 */
	if (made && chmod(dir, 0700) < 0)
		return ist_json_err_errno(err, dir, "cannot create the directory", errno);
	struct stat st;
	if (stat(dir, &st) < 0)
		return ist_json_err_errno(err, dir, "cannot create the directory", errno);
	if (!S_ISDIR(st.st_mode)) {
		ist_json_err_set(err, dir, "", "not a directory");
		return -IST_EINVAL;
	}
	if (st.st_uid != geteuid()) {
		ist_json_err_set(err, dir, "", "directory is owned by uid %u, not by the current user",
				 (unsigned)st.st_uid);
		return -IST_EPERM;
	}
	if (st.st_mode & 077) {
		ist_json_err_set(err, dir, "", "directory is accessible by group or others (mode %04o); fix with: chmod 700 %s",
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
	ist_json_describe_str(url, got, sizeof(got));
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
