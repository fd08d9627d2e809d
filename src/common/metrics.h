/*
 * A small metrics registry rendered in the Prometheus text exposition format
 * (version 0.0.4), so that every module can count what it sees (net: dropped
 * messages by reason; storage: database size; node: commits) without
 * depending on the HTTP API that serves /metrics.
 *
 * A *family* has a name ("isthmus_net_dropped_total"), a help text, a type and
 * at most one label ("reason"). Label values are created on first use and
 * bounded: past IST_METRICS_MAX_SERIES values per family, further values are
 * counted under the value "other", so a peer can never grow the registry.
 *
 * Thread safety: every function may be called from any thread. Updates are
 * cheap (a mutex per family); rendering takes a consistent snapshot per
 * family.
 *
 * Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*
 * (not starting with "__"; a histogram's label may not be "le"); counters
 * end in "_total"; the help text is required (promtool wants one).
 * Registering the same name twice returns the existing family when type,
 * help, label (and histogram bounds) agree, NULL otherwise. A name may not
 * be one that another family writes (a histogram "x" writes x_bucket, x_sum
 * and x_count).
 *
 * Rendering: HELP text escapes \\ and newline, label values also '"';
 * integral values below 2^53 print without exponent or fraction ("42"),
 * others as the first of %.15g, %.16g, %.17g that reads back exactly
 * ("0.1", "1e+300"); NaN, +Inf and -Inf are spelled so. Counters are exact 64-bit integers; histogram buckets are
 * cumulative and end with le="+Inf", followed by _sum and _count.
 */
#ifndef IST_COMMON_METRICS_H
#define IST_COMMON_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common/bytes.h"
#include "common/macro.h"

#define IST_METRICS_MAX_SERIES 64      /* label values per family, "other" included */
#define IST_METRICS_MAX_BUCKETS 32     /* histogram bucket bounds, +Inf excluded */

struct ist_metrics;        /* a registry */
struct ist_metric;         /* one family; owned by its registry */

/* Returns a new empty registry, or NULL when out of memory. */
struct ist_metrics *ist_metrics_new(void);
/* Frees the registry and all its families. Accepts NULL. */
void ist_metrics_free(struct ist_metrics *r);

/* Registers a family. `label` is the one label name, or NULL for none.
 * Strings are copied. Returns the family (owned by r, valid until
 * ist_metrics_free), or NULL for an invalid name, a conflicting earlier
 * registration, or out of memory. */
struct ist_metric *ist_metrics_counter(struct ist_metrics *r, const char *name, const char *help,
				       const char *label);
struct ist_metric *ist_metrics_gauge(struct ist_metrics *r, const char *name, const char *help,
				     const char *label);
/* bounds: n strictly increasing upper bounds (n <= IST_METRICS_MAX_BUCKETS);
 * the +Inf bucket is implicit. */
struct ist_metric *ist_metrics_histogram(struct ist_metrics *r, const char *name, const char *help,
					 const char *label, const double *bounds, size_t n);

/* Updates. `label_value` is the value of the family's label (NULL when the
 * family has none, where it is ignored; a family with a label treats NULL as
 * ""). Values are copied; at most 63 bytes are kept, cut at a UTF-8
 * character boundary, and a byte that is not valid UTF-8 becomes '?' (the
 * format must be UTF-8 and a value may come from a peer). Calls on a NULL
 * family do nothing, so a failed registration never crashes the caller; an
 * update that does not fit the type (set on a counter, observe on a gauge,
 * inc/add on a histogram) does nothing either. inc/add on a gauge adds. */
void ist_metric_inc(struct ist_metric *m, const char *label_value);
void ist_metric_add(struct ist_metric *m, const char *label_value, uint64_t n);
void ist_metric_set(struct ist_metric *m, const char *label_value, double v);   /* gauges */
void ist_metric_observe(struct ist_metric *m, const char *label_value, double v); /* histograms */

/* Reads a counter or gauge series (for tests and /v1/status); for a
 * histogram, its number of observations. 0 when absent. */
double ist_metric_value(struct ist_metric *m, const char *label_value);

/* Appends the whole registry in the text exposition format (# HELP, # TYPE,
 * one line per series; families in registration order, series in first-use
 * order; label values escaped) to `out`. Returns ist_buf_err(out). */
int ist_metrics_render(struct ist_metrics *r, struct ist_buf *out) IST_WUR;

#endif
