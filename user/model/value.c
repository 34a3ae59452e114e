// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * value.c - the value parsers of value.h, shared by the YAML file, the
 * command line and the control socket.
 *
 * Text is taken exactly as given: integers are decimal without sign, space
 * or base prefix, durations an integer and one unit (ms, s, m, h, d),
 * booleans true/false (or True/TRUE, False/FALSE as YAML writes them). A
 * refusal always reads `expected <what>, got "<text>"` (a zero duration
 * where none is allowed: `must be greater than 0, got "<text>"`), so the
 * same bad value gets the same words whichever door it came through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/value.h"

#define IFNAME_MAX 15			/* IFNAMSIZ - 1 */
#define COOKIE_DOMAIN_MAX 253

#define MS_PER_S 1000ULL
#define MS_PER_M (60 * MS_PER_S)
#define MS_PER_H (60 * MS_PER_M)
#define MS_PER_D (24 * MS_PER_H)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const char *value_quote(char *buf, size_t len, const char *s)
{
	size_t o = 0, i;

	if (len < VALUE_QUOTE_BUF)
		return "";
	buf[o++] = '"';
	for (i = 0; s[i] && i < VALUE_QUOTE_MAX; i++) {
		unsigned char ch = s[i];

		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = ch;
		} else if (ch == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (ch == '\t') {
			buf[o++] = '\\';
			buf[o++] = 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			o += snprintf(buf + o, len - o, "\\x%02x", ch);
		} else {
			buf[o++] = ch;
		}
	}
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* `expected <what>, got "<text>"` into <why>; returns -EINVAL. */
static int expected(char *why, size_t len, const char *what, const char *text)
{
	char q[VALUE_QUOTE_BUF];

	if (why && len)
		snprintf(why, len, "expected %s, got %s", what, value_quote(q, sizeof(q), text));
	return -EINVAL;
}

/* ---- plain parsers ------------------------------------------------------ */

/* Decimal digits only: no sign, no space, no base prefix. */
static int parse_u64(const char *text, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	if (!text || *text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_duration_ms(const char *text, __u64 *ms)
{
	static const struct {
		const char *unit;
		__u64 ms;
	} units[] = {
		{ "ms", 1 }, { "s", MS_PER_S }, { "m", MS_PER_M }, { "h", MS_PER_H },
		{ "d", MS_PER_D },
	};
	const char *p = text;
	__u64 n = 0;
	size_t i;

	if (!text || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = *p - '0';

		if (n > (UINT64_MAX - d) / 10)
			return -EINVAL;
		n = n * 10 + d;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(p, units[i].unit))
			continue;
		if (n > UINT64_MAX / units[i].ms)
			return -EINVAL;
		*ms = n * units[i].ms;
		return 0;
	}
	return -EINVAL;
}

int parse_ip_address(const char *text, struct ip_address *out)
{
	struct ip_address ip;

	if (!text || !out)
		return -EINVAL;
	memset(&ip, 0, sizeof(ip));
	if (inet_pton(AF_INET, text, &ip.addr.a[0]) == 1)
		ip.family = LIMPET_FAMILY_V4;
	else if (inet_pton(AF_INET6, text, ip.addr.a) == 1)
		ip.family = LIMPET_FAMILY_V6;
	else
		return -EINVAL;
	*out = ip;
	return 0;
}

int parse_port(const char *text, __u16 *port)
{
	__u64 v;

	if (parse_u64(text, 65535, &v) || v == 0)
		return -EINVAL;
	*port = v;
	return 0;
}

int parse_weight(const char *text, __u32 *weight)
{
	__u64 v;

	if (parse_u64(text, 65535, &v))
		return -EINVAL;
	*weight = v;
	return 0;
}

int format_ip_address(const struct ip_address *ip, char *buf, size_t len)
{
	const char *s;

	if (!ip || !buf)
		return -EINVAL;
	if (ip->family == LIMPET_FAMILY_V4)
		s = inet_ntop(AF_INET, &ip->addr.a[0], buf, len);
	else if (ip->family == LIMPET_FAMILY_V6)
		s = inet_ntop(AF_INET6, ip->addr.a, buf, len);
	else
		return -EINVAL;
	return s ? 0 : -ENOSPC;
}

bool ip_address_equal(const struct ip_address *a, const struct ip_address *b)
{
	return a->family == b->family && !memcmp(&a->addr, &b->addr, sizeof(a->addr));
}

bool is_prime(__u32 n)
{
	__u32 d;

	if (n < 2)
		return false;
	if (n % 2 == 0)
		return n == 2;
	for (d = 3; d <= n / d; d += 2)
		if (n % d == 0)
			return false;
	return true;
}

/* A unicast address: not unspecified, multicast or IPv4 broadcast. */
static bool is_unicast(const struct ip_address *ip)
{
	const __u8 *b = (const __u8 *)ip->addr.a;

	if (ip->family == LIMPET_FAMILY_V4) {
		__u32 h = ntohl(ip->addr.a[0]);

		return h != 0 && (h >> 28) != 0xe && h != 0xffffffffu;
	}
	if (b[0] == 0xff)
		return false;
	return ip->addr.a[0] || ip->addr.a[1] || ip->addr.a[2] || ip->addr.a[3];
}

/* ---- names and strings -------------------------------------------------- */

static bool chars_ok(const char *s, size_t min, size_t max, const char *extra)
{
	size_t n = strlen(s), i;

	if (n < min || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9'))
			continue;
		if (!strchr(extra, ch))
			return false;
	}
	return true;
}

/* RFC 9110 tchar besides letters and digits. */
#define TOKEN_EXTRA "!#$%&'*+-.^_`|~"

int value_name(const char *text, char *why, size_t len)
{
	if (chars_ok(text, 1, LIMPET_NAME_MAX - 1, "_.-"))
		return 0;
	return expected(why, len, "a name of 1-63 characters from [A-Za-z0-9_.-]", text);
}

int value_instance(const char *text, char *why, size_t len)
{
	if (chars_ok(text, 1, LIMPET_NAME_MAX - 1, "_-"))
		return 0;
	return expected(why, len, "a name of 1-63 characters from [A-Za-z0-9_-]", text);
}

int value_cookie_name(const char *text, char *why, size_t len)
{
	if (chars_ok(text, 1, LIMPET_NAME_MAX - 1, TOKEN_EXTRA))
		return 0;
	return expected(why, len, "a cookie name of 1-63 token characters", text);
}

int value_header_name(const char *text, char *why, size_t len)
{
	if (chars_ok(text, 1, LIMPET_NAME_MAX - 1, TOKEN_EXTRA))
		return 0;
	return expected(why, len, "a header name of 1-63 token characters", text);
}

int value_header_or_empty(const char *text, char *why, size_t len)
{
	if (!*text || chars_ok(text, 1, LIMPET_NAME_MAX - 1, TOKEN_EXTRA))
		return 0;
	return expected(why, len, "a header name of 1-63 token characters or \"\"", text);
}

int value_interface(const char *text, char *why, size_t len)
{
	size_t n = strlen(text);
	const char *s;

	if (n < 1 || n > IFNAME_MAX || !strcmp(text, ".") || !strcmp(text, ".."))
		goto bad;
	for (s = text; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || *s == '/' || *s == ':')
			goto bad;
	return 0;
bad:
	return expected(why, len, "an interface name of 1-15 characters", text);
}

/* RFC 6265 path-value: any CHAR but CTLs and ';'. */
int value_cookie_path(const char *text, char *why, size_t len)
{
	const char *s;

	if (*text != '/')
		goto bad;
	for (s = text; *s; s++)
		if (*s < 0x20 || *s >= 0x7f || *s == ';')
			goto bad;
	return 0;
bad:
	return expected(why, len, "a path starting with / without ';' or control characters",
			text);
}

int value_cookie_domain(const char *text, char *why, size_t len)
{
	if (chars_ok(text, 0, COOKIE_DOMAIN_MAX, ".-"))
		return 0;
	return expected(why, len, "a domain name of [A-Za-z0-9.-] or \"\"", text);
}

/* Goes into a request line: no space, no CTL. */
int value_http_path(const char *text, char *why, size_t len)
{
	const char *s;

	if (*text != '/')
		goto bad;
	for (s = text; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f)
			goto bad;
	return 0;
bad:
	return expected(why, len, "a path starting with / without spaces or control characters",
			text);
}

int value_file_name(const char *text, char *why, size_t len)
{
	return *text ? 0 : expected(why, len, "a file name", text);
}

/* "127.0.0.1:9100" or "[::1]:9100". */
static bool listen_ok(const char *s)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char a[16];
	const char *colon;
	__u16 port;
	size_t n;

	if (*s == '[') {
		colon = strstr(s, "]:");
		if (!colon)
			return false;
		n = colon - s - 1;
		if (n >= sizeof(host))
			return false;
		memcpy(host, s + 1, n);
		host[n] = '\0';
		return inet_pton(AF_INET6, host, a) == 1 && !parse_port(colon + 2, &port);
	}
	colon = strrchr(s, ':');
	if (!colon)
		return false;
	n = colon - s;
	if (n >= sizeof(host))
		return false;
	memcpy(host, s, n);
	host[n] = '\0';
	return inet_pton(AF_INET, host, a) == 1 && !parse_port(colon + 1, &port);
}

int value_listen(const char *text, char *why, size_t len)
{
	if (listen_ok(text))
		return 0;
	return expected(why, len, "host:port such as 127.0.0.1:9100 or [::1]:9100", text);
}

/* ---- numbers, addresses, durations -------------------------------------- */

int value_uint(const char *text, __u64 min, __u64 max, __u64 *out, char *why, size_t len)
{
	char what[64];
	__u64 v;

	if (!parse_u64(text, max, &v) && v >= min) {
		*out = v;
		return 0;
	}
	snprintf(what, sizeof(what), "an integer %llu-%llu", (unsigned long long)min,
		 (unsigned long long)max);
	return expected(why, len, what, text);
}

int value_port(const char *text, __u16 *out, char *why, size_t len)
{
	__u64 v;
	int err = value_uint(text, 1, 65535, &v, why, len);

	if (!err)
		*out = v;
	return err;
}

int value_weight(const char *text, __u32 *out, char *why, size_t len)
{
	__u64 v;
	int err = value_uint(text, 0, 65535, &v, why, len);

	if (!err)
		*out = v;
	return err;
}

int value_prime(const char *text, __u32 min, __u32 max, __u32 *out, char *why, size_t len)
{
	char q[VALUE_QUOTE_BUF];
	__u64 v;
	__u32 next;

	if (parse_u64(text, max, &v) || v < min) {
		if (why && len)
			snprintf(why, len, "expected a prime %u-%u, got %s", min, max,
				 value_quote(q, sizeof(q), text));
		return -EINVAL;
	}
	if (!is_prime(v)) {
		for (next = v; next < max && !is_prime(next); next++)
			;
		if (why && len)
			snprintf(why, len, "expected a prime %u-%u, got %s (next prime: %u)", min,
				 max, value_quote(q, sizeof(q), text), next);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int value_address(const char *text, struct ip_address *out, char *why, size_t len)
{
	struct ip_address ip;

	if (parse_ip_address(text, &ip))
		return expected(why, len, "an IPv4 or IPv6 address", text);
	if (!is_unicast(&ip))
		return expected(why, len, "a unicast address", text);
	*out = ip;
	return 0;
}

int value_duration(const char *text, bool allow_zero, __u64 *ms, char *why, size_t len)
{
	char q[VALUE_QUOTE_BUF];
	__u64 v;

	if (parse_duration_ms(text, &v))
		return expected(why, len, "a duration such as 500ms, 30s, 5m, 23h or 7d", text);
	if (!v && !allow_zero) {
		if (why && len)
			snprintf(why, len, "must be greater than 0, got %s",
				 value_quote(q, sizeof(q), text));
		return -EINVAL;
	}
	*ms = v;
	return 0;
}

int value_bool(const char *text, bool *out, char *why, size_t len)
{
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(text, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcmp(text, no[i])) {
			*out = false;
			return 0;
		}
	}
	return expected(why, len, "true or false", text);
}

int value_enum(const char *text, const char *const *names, size_t n, int *out, char *why,
	       size_t len)
{
	char list[128] = "", what[160];
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		if (!strcmp(text, names[i])) {
			*out = i;
			return 0;
		}
	}
	for (i = 0; i < n && o < sizeof(list); i++)
		o += snprintf(list + o, sizeof(list) - o, "%s%s", i ? " | " : "",
			      *names[i] ? names[i] : "\"\"");
	snprintf(what, sizeof(what), "%s%s", n > 2 ? "one of " : "", list);
	return expected(why, len, what, text);
}
