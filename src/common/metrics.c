#include "common/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#define LABEL_VALUE_MAX 63   /* bytes kept of a label value (header contract) */
#define OTHER "other"

enum kind {
	KIND_COUNTER,
	KIND_GAUGE,
	KIND_HISTOGRAM,
};

struct series {
	char value[LABEL_VALUE_MAX + 1];
	uint64_t count;      /* counter value; histogram observation count */
	double gauge;        /* gauge value */
	double sum;          /* histogram sum */
	uint64_t *buckets;   /* histogram: nbounds + 1 non-cumulative counts (+Inf last) */
};

struct ist_metric {
	struct ist_metric *next;     /* registration order */
	enum kind kind;
	char *name;
	char *help;
	char *label;                 /* NULL: no label */
	double bounds[IST_METRICS_MAX_BUCKETS];
	size_t nbounds;
	pthread_mutex_t lock;        /* guards the series */
	struct series *series;       /* first-use order */
	size_t nseries;
	size_t cap;
};

struct ist_metrics {
	pthread_mutex_t lock;        /* guards the family list */
	struct ist_metric *head;
	struct ist_metric *tail;
};

/* ---- names ------------------------------------------------------------ */

static bool is_name_start(char c, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static bool valid_name(const char *s, bool colon)
{
	if (!s || !is_name_start(s[0], colon))
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!is_name_start(*p, colon) && !(*p >= '0' && *p <= '9'))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* True when `name` is one of the sample names family `f` writes. */
static bool emits(const struct ist_metric *f, const char *name)
{
	if (strcmp(f->name, name) == 0)
		return true;
	if (f->kind != KIND_HISTOGRAM)
		return false;
	size_t n = strlen(f->name);
	if (strncmp(f->name, name, n) != 0)
		return false;
	return strcmp(name + n, "_bucket") == 0 || strcmp(name + n, "_sum") == 0 ||
	       strcmp(name + n, "_count") == 0;
}

/* ---- label values ----------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most `left` bytes), 0 when
 * invalid. Overlong forms, surrogates and values past U+10FFFF are invalid,
 * as in Prometheus (Go's utf8.ValidString). */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	size_t n;
	uint32_t cp;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2; cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3; cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4; cp = c & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Copies a label value as it will be stored: valid UTF-8 (an invalid byte
 * becomes '?', since the exposition format must be UTF-8 and a value may come
 * from a peer), cut at a character boundary to LABEL_VALUE_MAX bytes. */
static void sanitize_value(const char *in, char out[LABEL_VALUE_MAX + 1])
{
	size_t o = 0;
	if (in) {
		const unsigned char *p = (const unsigned char *)in;
		size_t left = strlen(in);
		while (left > 0) {
			size_t n = utf8_seq(p, left);
			if (n == 0) {
				if (o + 1 > LABEL_VALUE_MAX)
					break;
				out[o++] = '?';
				p++;
				left--;
				continue;
			}
			if (o + n > LABEL_VALUE_MAX)
				break;
			memcpy(out + o, p, n);
			o += n;
			p += n;
			left -= n;
		}
	}
	out[o] = '\0';
}

/* ---- registry --------------------------------------------------------- */

struct ist_metrics *ist_metrics_new(void)
{
	struct ist_metrics *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void family_free(struct ist_metric *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nseries; i++)
		free(f->series[i].buckets);
	free(f->series);
	free(f->name);
	free(f->help);
	free(f->label);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void ist_metrics_free(struct ist_metrics *r)
{
	if (!r)
		return;
	struct ist_metric *f = r->head;
	while (f) {
		struct ist_metric *next = f->next;
		family_free(f);
		f = next;
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static bool str_eq_opt(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The same family again: everything that shapes the output agrees. */
static bool same_family(const struct ist_metric *f, enum kind kind, const char *help, const char *label,
			const double *bounds, size_t n)
{
	if (f->kind != kind || strcmp(f->help, help) != 0 || !str_eq_opt(f->label, label))
		return false;
	if (kind != KIND_HISTOGRAM)
		return true;
	if (f->nbounds != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (f->bounds[i] != bounds[i])
			return false;
	return true;
}

/* Finds the series for `value` (already sanitized), creating it; past the
 * bound the value "other" takes its place. Called with f->lock held. Returns
 * NULL only when out of memory (the update is then lost). */
static struct series *series_get(struct ist_metric *f, const char *value)
{
	for (size_t i = 0; i < f->nseries; i++)
		if (strcmp(f->series[i].value, value) == 0)
			return &f->series[i];
	if (f->nseries >= IST_METRICS_MAX_SERIES - 1 && strcmp(value, OTHER) != 0) {
		/* the last slot is kept for "other" */
		for (size_t i = 0; i < f->nseries; i++)
			if (strcmp(f->series[i].value, OTHER) == 0)
				return &f->series[i];
		value = OTHER;
	}
	if (f->nseries == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 4;
		if (cap > IST_METRICS_MAX_SERIES)
			cap = IST_METRICS_MAX_SERIES;
		struct series *s = realloc(f->series, cap * sizeof(*s));
		if (!s)
			return NULL;
		f->series = s;
		f->cap = cap;
	}
	struct series *s = &f->series[f->nseries];
	memset(s, 0, sizeof(*s));
	snprintf(s->value, sizeof(s->value), "%s", value);
	if (f->kind == KIND_HISTOGRAM) {
		s->buckets = calloc(f->nbounds + 1, sizeof(*s->buckets));
		if (!s->buckets)
			return NULL;
	}
	f->nseries++;
	return s;
}

static struct ist_metric *family_register(struct ist_metrics *r, enum kind kind, const char *name,
					  const char *help, const char *label, const double *bounds,
					  size_t n)
{
	if (!r || !valid_name(name, true) || !help || !*help)
		return NULL;
	if (label && (!valid_name(label, false) || strncmp(label, "__", 2) == 0))
		return NULL;
	if (kind == KIND_COUNTER && !ends_with(name, "_total"))
		return NULL;
	if (kind == KIND_HISTOGRAM) {
		if (n > IST_METRICS_MAX_BUCKETS || (n > 0 && !bounds))
			return NULL;
		if (label && strcmp(label, "le") == 0)
			return NULL;
		for (size_t i = 0; i < n; i++) {
			if (isnan(bounds[i]) || isinf(bounds[i]))
				return NULL;
			if (i > 0 && !(bounds[i] > bounds[i - 1]))
				return NULL;
		}
	}

	/* Built before taking the registry lock, dropped again if the name is taken. */
	struct ist_metric *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	if (pthread_mutex_init(&f->lock, NULL) != 0) {
		free(f);
		return NULL;
	}
	f->kind = kind;
	f->name = strdup(name);
	f->help = strdup(help);
	f->label = label ? strdup(label) : NULL;
	if (n > 0)
		memcpy(f->bounds, bounds, n * sizeof(*bounds));
	f->nbounds = n;
	/* A family without a label always shows its one series, zero at first. */
	if (!f->name || !f->help || (label && !f->label) || (!label && !series_get(f, ""))) {
		family_free(f);
		return NULL;
	}

	struct ist_metric *found = NULL;
	bool clash = false;
	pthread_mutex_lock(&r->lock);
	for (struct ist_metric *g = r->head; g; g = g->next) {
		if (strcmp(g->name, name) == 0) {
			found = g;
			break;
		}
		/* a sample name of one family may not be the name of another */
		if (emits(g, name) || emits(f, g->name)) {
			clash = true;
			break;
		}
	}
	if (!found && !clash) {
		if (r->tail)
			r->tail->next = f;
		else
			r->head = f;
		r->tail = f;
	}
	pthread_mutex_unlock(&r->lock);
	if (!found && !clash)
		return f;
	family_free(f);
	/* families are never removed, so `found` stays valid without the lock */
	if (found && same_family(found, kind, help, label, bounds, n))
		return found;
	return NULL;
}

struct ist_metric *ist_metrics_counter(struct ist_metrics *r, const char *name, const char *help,
				       const char *label)
{
	return family_register(r, KIND_COUNTER, name, help, label, NULL, 0);
}

struct ist_metric *ist_metrics_gauge(struct ist_metrics *r, const char *name, const char *help,
				     const char *label)
{
	return family_register(r, KIND_GAUGE, name, help, label, NULL, 0);
}

struct ist_metric *ist_metrics_histogram(struct ist_metrics *r, const char *name, const char *help,
					 const char *label, const double *bounds, size_t n)
{
	return family_register(r, KIND_HISTOGRAM, name, help, label, bounds, n);
}

/* ---- updates ---------------------------------------------------------- */

/* Locks the family and returns the series for label_value, or NULL (and
 * nothing locked) when out of memory. */
static struct series *series_lock(struct ist_metric *f, const char *label_value)
{
	char value[LABEL_VALUE_MAX + 1];
	if (f->label)
		sanitize_value(label_value, value);
	else
		value[0] = '\0';
	pthread_mutex_lock(&f->lock);
	struct series *s = series_get(f, value);
	if (!s)
		pthread_mutex_unlock(&f->lock);
	return s;
}

void ist_metric_add(struct ist_metric *m, const char *label_value, uint64_t n)
{
	if (!m || m->kind == KIND_HISTOGRAM)
		return;
	struct series *s = series_lock(m, label_value);
	if (!s)
		return;
	if (m->kind == KIND_COUNTER)
		s->count += n;
	else
		s->gauge += (double)n;
	pthread_mutex_unlock(&m->lock);
}

void ist_metric_inc(struct ist_metric *m, const char *label_value)
{
	ist_metric_add(m, label_value, 1);
}

void ist_metric_set(struct ist_metric *m, const char *label_value, double v)
{
	if (!m || m->kind != KIND_GAUGE)
		return;
	struct series *s = series_lock(m, label_value);
	if (!s)
		return;
	s->gauge = v;
	pthread_mutex_unlock(&m->lock);
}

void ist_metric_observe(struct ist_metric *m, const char *label_value, double v)
{
	if (!m || m->kind != KIND_HISTOGRAM)
		return;
	struct series *s = series_lock(m, label_value);
	if (!s)
		return;
	size_t i = 0;
	while (i < m->nbounds && !(v <= m->bounds[i]))
		i++;
	s->buckets[i]++;   /* i == nbounds: only the +Inf bucket (also NaN) */
	s->count++;
	s->sum += v;
	pthread_mutex_unlock(&m->lock);
}

double ist_metric_value(struct ist_metric *m, const char *label_value)
{
	if (!m)
		return 0;
	char value[LABEL_VALUE_MAX + 1];
	if (m->label)
		sanitize_value(label_value, value);
	else
		value[0] = '\0';
	double v = 0;
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < m->nseries; i++) {
		if (strcmp(m->series[i].value, value) != 0)
			continue;
		if (m->kind == KIND_GAUGE)
			v = m->series[i].gauge;
		else
			v = (double)m->series[i].count;
		break;
	}
	pthread_mutex_unlock(&m->lock);
	return v;
}

/* ---- rendering -------------------------------------------------------- */

static void put_str(struct ist_buf *out, const char *s)
{
	ist_buf_put(out, s, strlen(s));
}

/* A float as Prometheus parses it (Go's strconv.ParseFloat): NaN, +Inf and
 * -Inf spelled so, integral values without exponent or fraction, others in
 * the shortest %g form that reads back to the same double. */
static void put_double(struct ist_buf *out, double v)
{
	char tmp[40];
	if (isnan(v)) {
		put_str(out, "NaN");
		return;
	}
	if (isinf(v)) {
		put_str(out, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	/* below 2^53 every integer is exact in a double (and the cast defined) */
	if (v > -9007199254740992.0 && v < 9007199254740992.0 && v == (double)(int64_t)v) {
		snprintf(tmp, sizeof(tmp), "%" PRId64, (int64_t)v);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
			if (strtod(tmp, NULL) == v)
				break;
		}
	}
	put_str(out, tmp);
}

static void put_u64(struct ist_buf *out, uint64_t v)
{
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	put_str(out, tmp);
}

/* HELP text escapes backslash and newline; label values also the double
 * quote. */
static void put_escaped(struct ist_buf *out, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			put_str(out, "\\\\");
		else if (*s == '\n')
			put_str(out, "\\n");
		else if (quote && *s == '"')
			put_str(out, "\\\"");
		else
			ist_buf_put_u8(out, (uint8_t)*s);
	}
}

/* name + suffix + {label="value"[,le="bound"]} + ' ' */
static void put_sample_start(struct ist_buf *out, const struct ist_metric *f, const char *suffix,
			     const struct series *s, const double *le)
{
	put_str(out, f->name);
	put_str(out, suffix);
	if (f->label || le) {
		ist_buf_put_u8(out, '{');
		if (f->label) {
			put_str(out, f->label);
			put_str(out, "=\"");
			put_escaped(out, s->value, true);
			ist_buf_put_u8(out, '"');
		}
		if (le) {
			if (f->label)
				ist_buf_put_u8(out, ',');
			put_str(out, "le=\"");
			put_double(out, *le);
			ist_buf_put_u8(out, '"');
		}
		ist_buf_put_u8(out, '}');
	}
	ist_buf_put_u8(out, ' ');
}

static void render_family(struct ist_metric *f, struct ist_buf *out)
{
	static const char *const types[] = {
		[KIND_COUNTER] = "counter",
		[KIND_GAUGE] = "gauge",
		[KIND_HISTOGRAM] = "histogram",
	};
	put_str(out, "# HELP ");
	put_str(out, f->name);
	ist_buf_put_u8(out, ' ');
	put_escaped(out, f->help, false);
	put_str(out, "\n# TYPE ");
	put_str(out, f->name);
	ist_buf_put_u8(out, ' ');
	put_str(out, types[f->kind]);
	ist_buf_put_u8(out, '\n');

	pthread_mutex_lock(&f->lock);
	for (size_t i = 0; i < f->nseries; i++) {
		const struct series *s = &f->series[i];
		switch (f->kind) {
		case KIND_COUNTER:
			put_sample_start(out, f, "", s, NULL);
			put_u64(out, s->count);
			ist_buf_put_u8(out, '\n');
			break;
		case KIND_GAUGE:
			put_sample_start(out, f, "", s, NULL);
			put_double(out, s->gauge);
			ist_buf_put_u8(out, '\n');
			break;
		case KIND_HISTOGRAM: {
			uint64_t cum = 0;
			double inf = INFINITY;
			for (size_t b = 0; b <= f->nbounds; b++) {
				cum += s->buckets[b];
				put_sample_start(out, f, "_bucket", s, b < f->nbounds ? &f->bounds[b] : &inf);
				put_u64(out, cum);
				ist_buf_put_u8(out, '\n');
			}
			put_sample_start(out, f, "_sum", s, NULL);
			put_double(out, s->sum);
			ist_buf_put_u8(out, '\n');
			put_sample_start(out, f, "_count", s, NULL);
			put_u64(out, s->count);
			ist_buf_put_u8(out, '\n');
			break;
		}
		}
	}
	pthread_mutex_unlock(&f->lock);
}

int ist_metrics_render(struct ist_metrics *r, struct ist_buf *out)
{
	if (!r || !out)
		return -IST_EINVAL;
	pthread_mutex_lock(&r->lock);
	for (struct ist_metric *f = r->head; f; f = f->next)
		render_family(f, out);
	pthread_mutex_unlock(&r->lock);
	return ist_buf_err(out);
}
