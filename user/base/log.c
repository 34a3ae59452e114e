/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * log.c - leveled logging to stderr. The default shows warnings and the
 * events an operator wants to see (attach, backend state changes, drains,
 * reloads); -v adds debug detail, including libbpf's and libxdp's messages
 * (dp/dataplane.c routes them here).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"

static enum log_level current_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return current_level;
}

void log_vmsg(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
	if (level > current_level)
		return;
	fprintf(stderr, "limpet: %s: %s", level_names[level], prefix);
	vfprintf(stderr, fmt, ap);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, "", fmt, ap);
	va_end(ap);
	if (level <= current_level && fmt[0] && fmt[strlen(fmt) - 1] != '\n')
		fputc('\n', stderr);
}
