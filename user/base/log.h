/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * log.h - leveled logging to stderr: warnings and operator events (info)
 * by default; -v adds debug detail. libbpf and libxdp messages go through
 * the same sink, at debug level.
 */
#ifndef LIMPET_LOG_H
#define LIMPET_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_DEBUG = 2,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The same with <prefix> ("libbpf: ") and no newline added: for library sinks. */
void log_vmsg(enum log_level level, const char *prefix, const char *fmt, va_list ap);

#define pr_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* LIMPET_LOG_H */
