// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_value.c - the value parsers of model/value.h and the backend rules of
 * model/rules.h.
 *
 * Each parser is checked table-first, every refusal against its whole
 * message. The last tests load a configuration holding the same bad value
 * and check that the file's error ends with exactly the parser's words: the
 * file, the command line and the control socket share them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "model/config.h"
#include "model/rules.h"
#include "model/value.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct check_case {
	value_check_fn fn;
	const char *text;
	const char *why;	/* NULL: accepted */
};

#define NAME_WHAT "expected a name of 1-63 characters from [A-Za-z0-9_.-], got "
#define NAME_63 "012345678901234567890123456789012345678901234567890123456789012"

Test(value, text_checks)
{
	static const struct check_case cases[] = {
		{ value_name, "web-2.prod_1", NULL },
		{ value_name, NAME_63, NULL },
		{ value_name, NAME_63 "x",
		  NAME_WHAT "\"012345678901234567890123456789012345678901234567...\"" },
		{ value_name, "a b", NAME_WHAT "\"a b\"" },
		{ value_name, "", NAME_WHAT "\"\"" },
		{ value_name, "b/1", NAME_WHAT "\"b/1\"" },
		{ value_name, "tab\there", NAME_WHAT "\"tab\\there\"" },
		{ value_name, "q\"\\", NAME_WHAT "\"q\\\"\\\\\"" },
		{ value_name, "nl\n\x01", NAME_WHAT "\"nl\\n\\x01\"" },
		{ value_instance, "lab-1", NULL },
		{ value_instance, "lab.1", "expected a name of 1-63 characters from [A-Za-z0-9_-], "
					   "got \"lab.1\"" },
		{ value_cookie_name, "LB_SESSION", NULL },
		{ value_cookie_name, "a=b", "expected a cookie name of 1-63 token characters, "
					    "got \"a=b\"" },
		{ value_header_name, "X-Session-Id", NULL },
		{ value_header_name, "X A", "expected a header name of 1-63 token characters, "
					    "got \"X A\"" },
		{ value_header_or_empty, "", NULL },
		{ value_header_or_empty, "a!#$%&'*+-.^_`|~9", NULL },
		{ value_header_or_empty, "X:", "expected a header name of 1-63 token characters "
					       "or \"\", got \"X:\"" },
		{ value_interface, "veth-lb1", NULL },
		{ value_interface, "eth/0", "expected an interface name of 1-15 characters, "
					    "got \"eth/0\"" },
		{ value_interface, "abcdefghijklmnop", "expected an interface name of 1-15 "
						       "characters, got \"abcdefghijklmnop\"" },
		{ value_interface, "..", "expected an interface name of 1-15 characters, "
					 "got \"..\"" },
		{ value_cookie_path, "/app", NULL },
		{ value_cookie_path, "app", "expected a path starting with / without ';' or "
					    "control characters, got \"app\"" },
		{ value_cookie_path, "/a;b", "expected a path starting with / without ';' or "
					     "control characters, got \"/a;b\"" },
		{ value_cookie_domain, "", NULL },
		{ value_cookie_domain, ".example.com", NULL },
		{ value_cookie_domain, "a_b", "expected a domain name of [A-Za-z0-9.-] or \"\", "
					      "got \"a_b\"" },
		{ value_http_path, "/healthz", NULL },
		{ value_http_path, "/a b", "expected a path starting with / without spaces or "
					   "control characters, got \"/a b\"" },
		{ value_file_name, "/etc/limpet/secret", NULL },
		{ value_file_name, "", "expected a file name, got \"\"" },
		{ value_listen, "127.0.0.1:9100", NULL },
		{ value_listen, "[::1]:9100", NULL },
		{ value_listen, "::1:9100", "expected host:port such as 127.0.0.1:9100 or "
					    "[::1]:9100, got \"::1:9100\"" },
		{ value_listen, "[::1]:0", "expected host:port such as 127.0.0.1:9100 or "
					   "[::1]:9100, got \"[::1]:0\"" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char why[VALUE_WHY_MAX] = "";
		int ret = cases[i].fn(cases[i].text, why, sizeof(why));

		cr_expect_eq(ret, cases[i].why ? -EINVAL : 0, "case %zu \"%s\": returned %d (%s)",
			     i, cases[i].text, ret, why);
		if (cases[i].why)
			cr_expect_str_eq(why, cases[i].why, "case %zu", i);
	}
}

Test(value, long_text_is_shortened)
{
	char why[VALUE_WHY_MAX], q[VALUE_QUOTE_BUF], small[8];
	const char *long_name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

	cr_expect_eq(value_name(long_name, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, NAME_WHAT "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"");
	cr_expect_str_eq(value_quote(q, sizeof(q), ""), "\"\"");
	cr_expect_str_eq(value_quote(small, sizeof(small), "x"), "");
	/* No buffer: the verdict alone. */
	cr_expect_eq(value_name("a b", NULL, 0), -EINVAL);
}

struct number_case {
	const char *text;
	__u64 min, max;
	const char *why;
	__u64 value;
};

Test(value, uint_port_weight)
{
	static const struct number_case cases[] = {
		{ "0", 0, 65535, NULL, 0 },
		{ "65535", 0, 65535, NULL, 65535 },
		{ "007", 1, 10, NULL, 7 },
		{ "70000", 0, 65535, "expected an integer 0-65535, got \"70000\"", 0 },
		{ "-1", 0, 65535, "expected an integer 0-65535, got \"-1\"", 0 },
		{ "+1", 0, 65535, "expected an integer 0-65535, got \"+1\"", 0 },
		{ "1.5", 0, 65535, "expected an integer 0-65535, got \"1.5\"", 0 },
		{ "0", 1, 65535, "expected an integer 1-65535, got \"0\"", 0 },
		{ "80x", 1, 65535, "expected an integer 1-65535, got \"80x\"", 0 },
		{ "", 1024, 67108864, "expected an integer 1024-67108864, got \"\"", 0 },
		{ "99999999999999999999999", 0, 65535,
		  "expected an integer 0-65535, got \"99999999999999999999999\"", 0 },
	};
	char why[VALUE_WHY_MAX];
	__u16 port = 7;
	__u32 weight = 7;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		__u64 v = 12345;
		int ret = value_uint(cases[i].text, cases[i].min, cases[i].max, &v, why,
				     sizeof(why));

		cr_expect_eq(ret, cases[i].why ? -EINVAL : 0, "\"%s\": returned %d", cases[i].text,
			     ret);
		if (cases[i].why) {
			cr_expect_str_eq(why, cases[i].why);
			cr_expect_eq(v, 12345, "\"%s\": output written on error", cases[i].text);
		} else {
			cr_expect_eq(v, cases[i].value);
		}
	}
	cr_expect_eq(value_port("8080", &port, why, sizeof(why)), 0);
	cr_expect_eq(port, 8080);
	cr_expect_eq(value_port("0", &port, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "expected an integer 1-65535, got \"0\"");
	cr_expect_eq(port, 8080);
	cr_expect_eq(value_weight("0", &weight, why, sizeof(why)), 0);
	cr_expect_eq(weight, 0);
	cr_expect_eq(value_weight("65536", &weight, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "expected an integer 0-65535, got \"65536\"");
}

Test(value, prime)
{
	char why[VALUE_WHY_MAX];
	__u32 v = 0;

	cr_expect_eq(value_prime("251", 3, 1048573, &v, why, sizeof(why)), 0);
	cr_expect_eq(v, 251);
	cr_expect_eq(value_prime("65536", 3, 1048573, &v, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "expected a prime 3-1048573, got \"65536\" (next prime: 65537)");
	cr_expect_eq(value_prime("2", 3, 1048573, &v, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "expected a prime 3-1048573, got \"2\"");
	cr_expect_eq(v, 251);
}

Test(value, address)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{ "10.0.0.1", NULL },
		{ "2001:db8::1", NULL },
		{ "::1", NULL },
		{ "127.0.0.1", NULL },
		{ "0.0.0.0", "expected a unicast address, got \"0.0.0.0\"" },
		{ "255.255.255.255", "expected a unicast address, got \"255.255.255.255\"" },
		{ "224.0.0.1", "expected a unicast address, got \"224.0.0.1\"" },
		{ "239.255.255.255", "expected a unicast address, got \"239.255.255.255\"" },
		{ "::", "expected a unicast address, got \"::\"" },
		{ "ff02::1", "expected a unicast address, got \"ff02::1\"" },
		{ "10.0.0.300", "expected an IPv4 or IPv6 address, got \"10.0.0.300\"" },
		{ "example.com", "expected an IPv4 or IPv6 address, got \"example.com\"" },
		{ "", "expected an IPv4 or IPv6 address, got \"\"" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ip_address ip = { .family = 9 };
		char why[VALUE_WHY_MAX] = "";
		int ret = value_address(cases[i].text, &ip, why, sizeof(why));

		cr_expect_eq(ret, cases[i].why ? -EINVAL : 0, "\"%s\": returned %d (%s)",
			     cases[i].text, ret, why);
		if (cases[i].why) {
			cr_expect_str_eq(why, cases[i].why);
			cr_expect_eq(ip.family, 9, "\"%s\": output written on error",
				     cases[i].text);
		} else {
			cr_expect_neq(ip.family, 9);
		}
	}
}

Test(value, duration_bool_enum)
{
	static const char *const modes[] = { "l4", "http" };
	static const char *const samesite[] = { "", "lax", "strict", "none" };
	char why[VALUE_WHY_MAX];
	__u64 ms = 1;
	bool b = false;
	int v = -1;

	cr_expect_eq(value_duration("30s", false, &ms, why, sizeof(why)), 0);
	cr_expect_eq(ms, 30000);
	cr_expect_eq(value_duration("0s", true, &ms, why, sizeof(why)), 0);
	cr_expect_eq(ms, 0);
	cr_expect_eq(value_duration("0ms", false, &ms, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "must be greater than 0, got \"0ms\"");
	cr_expect_eq(value_duration("5 m", true, &ms, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "expected a duration such as 500ms, 30s, 5m, 23h or 7d, got \"5 m\"");
	cr_expect_eq(value_bool("True", &b, why, sizeof(why)), 0);
	cr_expect(b);
	cr_expect_eq(value_bool("yes", &b, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "expected true or false, got \"yes\"");
	cr_expect_eq(value_enum("http", modes, 2, &v, why, sizeof(why)), 0);
	cr_expect_eq(v, 1);
	cr_expect_eq(value_enum("tcp", modes, 2, &v, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "expected l4 | http, got \"tcp\"");
	cr_expect_eq(value_enum("Lax", samesite, 4, &v, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "expected one of \"\" | lax | strict | none, got \"Lax\"");
}

/* ---- the backend rules --------------------------------------------------- */

static struct backend_config backend(const char *name, const char *addr, __u16 port)
{
	struct backend_config be = { .port = port, .weight = 1 };

	snprintf(be.name, sizeof(be.name), "%s", name);
	cr_assert_eq(parse_ip_address(addr, &be.address), 0);
	return be;
}

Test(rules, backend)
{
	struct service_config svc = { .port = 80, .ring_size = 3 };
	struct backend_config b1 = backend("b1", "10.0.0.1", 80);
	struct backend_config be;
	char why[VALUE_WHY_MAX], want[VALUE_WHY_MAX];
	const char *key = NULL;

	cr_assert_eq(parse_ip_address("10.100.0.1", &svc.vip), 0);
	be = backend("b2", "10.0.0.2", 8080);
	cr_expect_eq(rule_backend_fits(&svc, &be, &key, why, sizeof(why)), 0);
	cr_expect_eq(rule_backend_pair(&be, &b1, &key, why, sizeof(why)), 0);

	be = backend("b2", "2001:db8::2", 80);
	cr_expect_eq(rule_backend_fits(&svc, &be, &key, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(key, "address");
	cr_expect_str_eq(why, "IPv6 address 2001:db8::2 in an IPv4 service");

	svc.forwarding = LIMPET_FWD_DSR;
	be = backend("b2", "10.0.0.2", 8080);
	cr_expect_eq(rule_backend_fits(&svc, &be, &key, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(key, "port");
	cr_expect_str_eq(why, "dsr requires the service port 80, got 8080");

	be = backend("b1", "10.0.0.9", 80);
	cr_expect_eq(rule_backend_pair(&be, &b1, &key, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(key, "name");
	cr_expect_str_eq(why, "duplicate backend name \"b1\"");

	be = backend("b2", "10.0.0.1", 80);
	cr_expect_eq(rule_backend_pair(&be, &b1, &key, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(key, "address");
	cr_expect_str_eq(why, "same address and port as backend \"b1\"");
	be.port = 81;
	cr_expect_eq(rule_backend_pair(&be, &b1, &key, why, sizeof(why)), 0);

	cr_expect_eq(rule_backends_total(LIMPET_MAX_BACKENDS, why, sizeof(why)), 0);
	cr_expect_eq(rule_backends_total(LIMPET_MAX_BACKENDS + 1, why, sizeof(why)), -EINVAL);
	snprintf(want, sizeof(want), "too many backends: %d in all services, at most %d",
		 LIMPET_MAX_BACKENDS + 1, LIMPET_MAX_BACKENDS);
	cr_expect_str_eq(why, want);
	cr_expect_eq(rule_ring_holds(&svc, 3, why, sizeof(why)), 0);
	cr_expect_eq(rule_ring_holds(&svc, 4, why, sizeof(why)), -EINVAL);
	cr_expect_str_eq(why, "ring_size 3 is smaller than the 4 backends");
}

/* ---- the file says the same ---------------------------------------------- */

/* Load a config whose second backend is <mapping>; the error line in <err>. */
static void file_error(const char *mapping, char *err, size_t len)
{
	char path[] = "/tmp/limpet-value-XXXXXX", yaml[512];
	struct limpet_config cfg;
	int fd, n;

	n = snprintf(yaml, sizeof(yaml),
		     "interfaces: [{name: eth0}]\n"
		     "services:\n"
		     "  - name: web\n"
		     "    vip: 10.0.0.1\n"
		     "    port: 80\n"
		     "    backends:\n"
		     "      - {name: b1, address: 10.0.0.11}\n"
		     "      - %s\n", mapping);
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, yaml, n), n);
	close(fd);
	cr_expect_eq(config_load(path, &cfg, err, len), -EINVAL, "%s accepted", mapping);
	unlink(path);
}

/* <err> ends with ": <why>". */
static void expect_tail(const char *err, const char *why)
{
	size_t n = strlen(err), m = strlen(why);

	cr_expect(n > m + 2 && !strcmp(err + n - m, why) && !strncmp(err + n - m - 2, ": ", 2),
		  "file says \"%s\", the parser \"%s\"", err, why);
}

Test(rules, file_uses_the_same_words)
{
	static const char *const addresses[] = {
		"0.0.0.0", "255.255.255.255", "224.0.0.1", "::", "ff02::1", "10.0.0.300",
	};
	static const char *const weights[] = { "70000", "-1", "1.5" };
	static const char *const names[] = { "a b", "", "b/1" };
	char err[CONFIG_ERR_MAX], why[VALUE_WHY_MAX], mapping[128];
	struct backend_config b1 = backend("b1", "10.0.0.11", 80), be;
	struct ip_address ip;
	const char *key;
	__u32 w;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(addresses); i++) {
		snprintf(mapping, sizeof(mapping), "{name: b2, address: \"%s\"}", addresses[i]);
		file_error(mapping, err, sizeof(err));
		cr_assert_eq(value_address(addresses[i], &ip, why, sizeof(why)), -EINVAL);
		expect_tail(err, why);
	}
	for (i = 0; i < ARRAY_SIZE(weights); i++) {
		snprintf(mapping, sizeof(mapping), "{name: b2, address: 10.0.0.12, weight: %s}",
			 weights[i]);
		file_error(mapping, err, sizeof(err));
		cr_assert_eq(value_weight(weights[i], &w, why, sizeof(why)), -EINVAL);
		expect_tail(err, why);
	}
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(mapping, sizeof(mapping), "{name: \"%s\", address: 10.0.0.12}", names[i]);
		file_error(mapping, err, sizeof(err));
		cr_assert_eq(value_name(names[i], why, sizeof(why)), -EINVAL);
		expect_tail(err, why);
	}
	/* The rules: the file adds where the first one stood. */
	file_error("{name: b1, address: 10.0.0.12}", err, sizeof(err));
	be = backend("b1", "10.0.0.12", 80);
	cr_assert_eq(rule_backend_pair(&be, &b1, &key, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(err, why) && strstr(err, " (first at line 7)"), "%s", err);
	file_error("{name: b2, address: 10.0.0.11}", err, sizeof(err));
	be = backend("b2", "10.0.0.11", 80);
	cr_assert_eq(rule_backend_pair(&be, &b1, &key, why, sizeof(why)), -EINVAL);
	cr_expect(strstr(err, why) && strstr(err, " (line 7)"), "%s", err);
}
