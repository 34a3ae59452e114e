/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * value.h - one parser per kind of value: names, tokens, addresses, ports,
 * weights, durations, booleans, enumerations. The YAML file (model/config.c),
 * the command line and the control socket (proto/command.c) all parse with
 * these, so the three doors refuse the same inputs with the same words.
 *
 * Each value_*() parser returns 0 (and fills its output, if it has one), or
 * -EINVAL with the problem in <why>: `expected <what>, got "<text>"`, the text
 * quoted and escaped by value_quote(). The caller adds where the value came
 * from ("FILE:LINE: KEY: " or "COMMAND: KEY: "). Outputs are left untouched
 * on error.
 */
#ifndef LIMPET_VALUE_H
#define LIMPET_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "limpet_maps.h"

#define VALUE_WHY_MAX 512			/* room for any problem text */
#define VALUE_QUOTE_MAX 48			/* characters of a bad value echoed */
#define VALUE_QUOTE_BUF (VALUE_QUOTE_MAX * 4 + 8)

/* An IPv4 or IPv6 address as the data plane stores it. */
struct ip_address {
	__u8 family;			/* LIMPET_FAMILY_V4 / _V6 */
	struct limpet_addr addr;	/* network byte order */
};

/* A value parser that checks text alone (names, paths): 0 or -EINVAL + <why>. */
typedef int (*value_check_fn)(const char *text, char *why, size_t len);

/*
 * <s> for an error message: in double quotes, '"' '\' newline and tab
 * escaped with a backslash, other control characters as \xNN, cut after
 * VALUE_QUOTE_MAX characters with "...". Always one line. <buf> holds at
 * least VALUE_QUOTE_BUF bytes; returns <buf> ("" if it is too small).
 */
const char *value_quote(char *buf, size_t len, const char *s);

/* ---- names and tokens (checked in place; each fits LIMPET_NAME_MAX) ----- */

/* Services and backends: 1-63 of [A-Za-z0-9_.-]. */
int value_name(const char *text, char *why, size_t len);
/* The instance (names pins and the socket): 1-63 of [A-Za-z0-9_-]. */
int value_instance(const char *text, char *why, size_t len);
/* RFC 9110 tokens of 1-63 characters. */
int value_cookie_name(const char *text, char *why, size_t len);
int value_header_name(const char *text, char *why, size_t len);
/* A header name or "" (off). */
int value_header_or_empty(const char *text, char *why, size_t len);

/* ---- other strings ------------------------------------------------------- */

int value_interface(const char *text, char *why, size_t len);	/* 1-15, no '/' ':' */
int value_cookie_path(const char *text, char *why, size_t len);	/* "/..." without ';' */
int value_cookie_domain(const char *text, char *why, size_t len);	/* [A-Za-z0-9.-] or "" */
int value_http_path(const char *text, char *why, size_t len);	/* "/..." no space */
int value_file_name(const char *text, char *why, size_t len);	/* not empty */
int value_listen(const char *text, char *why, size_t len);	/* 1.2.3.4:P, [::1]:P */

/* ---- numbers and addresses ---------------------------------------------- */

/* Decimal digits only (no sign, space or base prefix), <min>..<max>. */
int value_uint(const char *text, __u64 min, __u64 max, __u64 *out, char *why, size_t len);
int value_port(const char *text, __u16 *out, char *why, size_t len);	/* 1-65535 */
int value_weight(const char *text, __u32 *out, char *why, size_t len);	/* 0-65535 */
/* A prime <min>..<max>; the message names the next prime when there is one. */
int value_prime(const char *text, __u32 min, __u32 max, __u32 *out, char *why, size_t len);
/* A unicast IPv4 or IPv6 address: not unspecified, multicast or 255.255.255.255. */
int value_address(const char *text, struct ip_address *out, char *why, size_t len);
/* 500ms 30s 5m 23h 7d; 0 only when <allow_zero>. */
int value_duration(const char *text, bool allow_zero, __u64 *ms, char *why, size_t len);
int value_bool(const char *text, bool *out, char *why, size_t len);	/* true / false */
/* One of <names> (indexed by the enum value): *out gets the index. */
int value_enum(const char *text, const char *const *names, size_t n, int *out, char *why,
	       size_t len);

/* ---- the plain parsers underneath (no message) -------------------------- */

int parse_duration_ms(const char *text, __u64 *ms);		/* 500ms 30s 5m 23h 7d */
int parse_ip_address(const char *text, struct ip_address *out);	/* any IPv4 or IPv6 */
int parse_port(const char *text, __u16 *port);			/* 1..65535 */
int parse_weight(const char *text, __u32 *weight);		/* 0..65535 */
int format_ip_address(const struct ip_address *ip, char *buf, size_t len);
bool ip_address_equal(const struct ip_address *a, const struct ip_address *b);
bool is_prime(__u32 n);

#endif /* LIMPET_VALUE_H */
