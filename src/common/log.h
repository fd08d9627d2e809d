/*
 * Logging with levels and subsystems.
 *
 * A line is "<UTC time> <LEVEL> <subsystem>: <message>" on stderr, or one JSON
 * object per line when the format is IST_LOG_JSON. The level is global with
 * optional per-subsystem overrides ("net=debug,consensus=trace").
 *
 * Never log a secret: keys, passphrases and seeds have no business in a
 * format string. Library modules that must stay pure (consensus, state) do
 * not log at all.
 */
#ifndef IST_COMMON_LOG_H
#define IST_COMMON_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "common/macro.h"

enum ist_log_level {
	IST_LOG_ERROR = 0,
	IST_LOG_WARN,
	IST_LOG_INFO,
	IST_LOG_DEBUG,
	IST_LOG_TRACE,
};

enum ist_log_format {
	IST_LOG_TEXT = 0,
	IST_LOG_JSON,
};

/* Sets the global level. */
void ist_log_set_level(enum ist_log_level level);
enum ist_log_level ist_log_get_level(void);
/* Parses "info" or "info,net=debug,storage=trace" and applies it.
 * Returns 0 or -IST_EINVAL (nothing is changed then). */
int ist_log_configure(const char *spec) IST_WUR;
/* Parses one level name ("error".."trace"). Returns 0 or -IST_EINVAL. */
int ist_log_level_parse(const char *name, enum ist_log_level *ret_level) IST_WUR;
const char *ist_log_level_name(enum ist_log_level level);
void ist_log_set_format(enum ist_log_format format);
/* Redirects output (default stderr). The stream is borrowed, not closed. */
void ist_log_set_stream(FILE *stream);
/* True when a message of `level` for `subsys` would be written. */
bool ist_log_enabled(enum ist_log_level level, const char *subsys);

void ist_log(enum ist_log_level level, const char *subsys, const char *fmt, ...) IST_PRINTF(3, 4);

#define ist_log_error(subsys, ...) ist_log(IST_LOG_ERROR, subsys, __VA_ARGS__)
#define ist_log_warn(subsys, ...)  ist_log(IST_LOG_WARN, subsys, __VA_ARGS__)
#define ist_log_info(subsys, ...)  ist_log(IST_LOG_INFO, subsys, __VA_ARGS__)
#define ist_log_debug(subsys, ...) \
	do { if (ist_log_enabled(IST_LOG_DEBUG, subsys)) ist_log(IST_LOG_DEBUG, subsys, __VA_ARGS__); } while (0)
#define ist_log_trace(subsys, ...) \
	do { if (ist_log_enabled(IST_LOG_TRACE, subsys)) ist_log(IST_LOG_TRACE, subsys, __VA_ARGS__); } while (0)

#endif
