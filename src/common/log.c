#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

#define MAX_OVERRIDES 16
#define SUBSYS_MAX 24

struct override {
	char subsys[SUBSYS_MAX];
	enum ist_log_level level;
};

static struct {
	pthread_mutex_t lock;
	enum ist_log_level level;
	enum ist_log_format format;
	FILE *stream;
	struct override overrides[MAX_OVERRIDES];
	int n_overrides;
} L = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.level = IST_LOG_INFO,
	.format = IST_LOG_TEXT,
};

static const char *const level_names[] = { "error", "warn", "info", "debug", "trace" };

const char *ist_log_level_name(enum ist_log_level level)
{
	return (unsigned)level < IST_ARRAY_SIZE(level_names) ? level_names[level] : "?";
}

int ist_log_level_parse(const char *name, enum ist_log_level *ret_level)
{
	for (size_t i = 0; i < IST_ARRAY_SIZE(level_names); i++)
		if (strcasecmp(name, level_names[i]) == 0) {
			*ret_level = (enum ist_log_level)i;
			return 0;
		}
	if (strcasecmp(name, "warning") == 0) {
		*ret_level = IST_LOG_WARN;
		return 0;
	}
	return -IST_EINVAL;
}

void ist_log_set_level(enum ist_log_level level)
{
	pthread_mutex_lock(&L.lock);
	L.level = level;
	pthread_mutex_unlock(&L.lock);
}

enum ist_log_level ist_log_get_level(void)
{
	pthread_mutex_lock(&L.lock);
	enum ist_log_level level = L.level;
	pthread_mutex_unlock(&L.lock);
	return level;
}

void ist_log_set_format(enum ist_log_format format)
{
	pthread_mutex_lock(&L.lock);
	L.format = format;
	pthread_mutex_unlock(&L.lock);
}

void ist_log_set_stream(FILE *stream)
{
	pthread_mutex_lock(&L.lock);
	L.stream = stream;
	pthread_mutex_unlock(&L.lock);
}

int ist_log_configure(const char *spec)
{
	char buf[512];
	if (!spec || strlen(spec) >= sizeof(buf))
		return -IST_EINVAL;
	strcpy(buf, spec);

	enum ist_log_level global = L.level;
	struct override ov[MAX_OVERRIDES];
	int n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		enum ist_log_level lvl;
		if (!eq) {
			if (ist_log_level_parse(tok, &lvl) < 0)
				return -IST_EINVAL;
			global = lvl;
			continue;
		}
		*eq = '\0';
		if (n == MAX_OVERRIDES || strlen(tok) == 0 || strlen(tok) >= SUBSYS_MAX ||
		    ist_log_level_parse(eq + 1, &lvl) < 0)
			return -IST_EINVAL;
		strcpy(ov[n].subsys, tok);
		ov[n].level = lvl;
		n++;
	}
	pthread_mutex_lock(&L.lock);
	L.level = global;
	memcpy(L.overrides, ov, sizeof(ov[0]) * (size_t)n);
	L.n_overrides = n;
	pthread_mutex_unlock(&L.lock);
	return 0;
}

bool ist_log_enabled(enum ist_log_level level, const char *subsys)
{
	pthread_mutex_lock(&L.lock);
	enum ist_log_level limit = L.level;
	for (int i = 0; i < L.n_overrides; i++)
		if (subsys && strcmp(L.overrides[i].subsys, subsys) == 0) {
			limit = L.overrides[i].level;
			break;
		}
	pthread_mutex_unlock(&L.lock);
	return level <= limit;
}

static void json_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

void ist_log(enum ist_log_level level, const char *subsys, const char *fmt, ...)
{
	if (!ist_log_enabled(level, subsys))
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[40];
	size_t w = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + w, sizeof(when) - w, ".%03ldZ", ts.tv_nsec / 1000000);

	pthread_mutex_lock(&L.lock);
	FILE *f = L.stream ? L.stream : stderr;
	if (L.format == IST_LOG_JSON) {
		fprintf(f, "{\"ts\":\"%s\",\"level\":\"%s\",\"subsys\":\"", when, ist_log_level_name(level));
		json_escape(f, subsys ? subsys : "");
		fputs("\",\"msg\":\"", f);
		json_escape(f, msg);
		fputs("\"}\n", f);
	} else {
		char upper[8];
		const char *n = ist_log_level_name(level);
		size_t i = 0;
		for (; n[i] && i < sizeof(upper) - 1; i++)
			upper[i] = (char)(n[i] - 'a' + 'A');
		upper[i] = '\0';
		fprintf(f, "%s %-5s %s: %s\n", when, upper, subsys ? subsys : "-", msg);
	}
	fflush(f);
	pthread_mutex_unlock(&L.lock);
}
