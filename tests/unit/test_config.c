/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_config.c - Criterion tests for the YAML configuration and the shared
 * parse_* helpers.
 *
 * Valid and invalid fixtures live in tests/unit/configs/ (tests run from the
 * repository root); smaller invalid cases are written to a mkstemp() file in
 * /tmp so that each case shows its YAML and its line numbers in one place.
 * Every error is checked for its exact "FILE:LINE: KEY: " prefix, because
 * operators and editors jump to that line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "model/config.h"
#include "model/model.h"

#define FIXTURES "tests/unit/configs/"

static char tmp_path[64];

/* load_text() that also collects the warnings in <warn>. */
static int load_text_warn(const char *yaml, struct limpet_config *cfg,
			  struct config_warnings *warn, char *err, size_t err_len)
{
	size_t len = strlen(yaml);
	int fd, ret;

	strcpy(tmp_path, "/tmp/limpet-config-XXXXXX");
	fd = mkstemp(tmp_path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, yaml, len), (ssize_t)len);
	close(fd);
	ret = config_load_warn(tmp_path, cfg, warn, err, err_len);
	unlink(tmp_path);
	return ret;
}

/* Load <yaml> from a fresh temporary file; tmp_path keeps its name. */
static int load_text(const char *yaml, struct limpet_config *cfg, char *err, size_t err_len)
{
	size_t len = strlen(yaml);
	int fd, ret;

	strcpy(tmp_path, "/tmp/limpet-config-XXXXXX");
	fd = mkstemp(tmp_path);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, yaml, len), (ssize_t)len);
	close(fd);
	ret = config_load(tmp_path, cfg, err, err_len);
	unlink(tmp_path);
	return ret;
}

/* <err> must start with "FILE:LINE: KEY: " and contain <problem> after it. */
static void assert_error(const char *what, int ret, const char *err, const char *file, int line,
			 const char *key, const char *problem)
{
	char prefix[512];
	size_t n;

	snprintf(prefix, sizeof(prefix), "%s:%d: %s: ", file, line, key);
	n = strlen(prefix);
	cr_assert_eq(ret, -EINVAL, "%s: config_load returned %d, want -EINVAL (err \"%s\")", what,
		     ret, err);
	cr_assert(!strncmp(err, prefix, n), "%s:\n  got  \"%s\"\n  want \"%s...\"", what, err,
		  prefix);
	cr_assert(strstr(err + n, problem), "%s:\n  got  \"%s\"\n  want problem \"%s\"", what, err,
		  problem);
	cr_assert_null(strchr(err, '\n'), "%s: error spans lines: \"%s\"", what, err);
}

static __be32 ip4(const char *s)
{
	struct in_addr a;

	cr_assert_eq(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

static void assert_ip(const struct ip_address *ip, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	cr_assert_eq(format_ip_address(ip, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, want);
}

/* ------------------------------------------------------------------------ */
/* Valid configurations                                                      */

Test(config, full_every_key)
{
	struct limpet_config cfg;
	struct service_config *s;
	char err[CONFIG_ERR_MAX];
	int ret;

	ret = config_load(FIXTURES "full.yaml", &cfg, err, sizeof(err));
	cr_assert_eq(ret, 0, "config_load: %d %s", ret, err);

	cr_expect_str_eq(cfg.path, FIXTURES "full.yaml");
	cr_expect_str_eq(cfg.instance, "lab-1");
	cr_assert_eq(cfg.n_interfaces, 2);
	cr_expect_str_eq(cfg.interfaces[0].name, "eth0");
	cr_expect_eq(cfg.interfaces[0].xdp_mode, XDP_MODE_CFG_NATIVE);
	cr_expect_str_eq(cfg.interfaces[1].name, "veth-lb1");
	cr_expect_eq(cfg.interfaces[1].xdp_mode, XDP_MODE_CFG_GENERIC);
	cr_expect_str_eq(cfg.secret_file, "/var/lib/limpet/secret");
	cr_expect(cfg.metrics.enabled);
	cr_expect_str_eq(cfg.metrics.listen, "[::1]:9200");
	cr_expect_eq(cfg.flow_table_size, 2097152);
	cr_assert_eq(cfg.n_services, 3);

	s = &cfg.services[0];
	cr_expect_str_eq(s->name, "web");
	cr_expect_eq(s->vip.family, LIMPET_FAMILY_V4);
	cr_expect_eq(s->vip.addr.a[0], ip4("10.100.0.100"));
	cr_expect_eq(s->vip.addr.a[1] | s->vip.addr.a[2] | s->vip.addr.a[3], 0);
	cr_expect_eq(s->port, 80);
	cr_expect_eq(s->protocol, IPPROTO_TCP);
	cr_expect_eq(s->mode, SERVICE_MODE_HTTP);
	cr_expect_eq(s->forwarding, LIMPET_FWD_NAT);
	cr_expect_eq(s->affinity.type, LIMPET_AFFINITY_COOKIE);
	cr_expect_eq(s->affinity.fallback, FALLBACK_NONE);
	cr_expect_eq(s->affinity.policy, POLICY_REBALANCE);
	cr_expect_str_eq(s->affinity.cookie.name, "LB_SESSION");
	cr_expect_eq(s->affinity.cookie.ttl_ms, 2ULL * 3600 * 1000);
	cr_expect_str_eq(s->affinity.cookie.path, "/app");
	cr_expect_str_eq(s->affinity.cookie.domain, ".example.com");
	cr_expect(s->affinity.cookie.secure, "samesite: none must force secure");
	cr_expect_eq(s->affinity.cookie.samesite, SAMESITE_NONE);
	cr_assert_eq(s->affinity.n_headers, 2);
	cr_expect_str_eq(s->affinity.headers[0], "X-Session-Id");
	cr_expect_str_eq(s->affinity.headers[1], "X-User");
	cr_expect(s->affinity.require_all_headers);
	cr_expect_eq(s->affinity.idle_ttl_ms, 45ULL * 60 * 1000);
	cr_expect_eq(s->failover, FAILOVER_STICKY);
	cr_expect_eq(s->drain_timeout_ms, 90000);
	cr_expect_eq(s->ring_size, 251);
	cr_expect_eq(s->health.type, HEALTH_HTTP);
	cr_expect_str_eq(s->health.path, "/healthz");
	cr_expect_eq(s->health.expect, 204);
	cr_expect_eq(s->health.interval_ms, 500);
	cr_expect_eq(s->health.timeout_ms, 250);
	cr_expect_eq(s->health.rise, 4);
	cr_expect_eq(s->health.fall, 5);
	cr_assert_eq(s->n_backends, 2);
	cr_expect_str_eq(s->backends[0].name, "b1");
	cr_expect_eq(s->backends[0].address.family, LIMPET_FAMILY_V4);
	cr_expect_eq(s->backends[0].address.addr.a[0], ip4("10.20.0.11"));
	cr_expect_eq(s->backends[0].port, 8080);
	cr_expect_eq(s->backends[0].weight, 3);
	cr_expect_str_eq(s->backends[1].name, "b2");
	assert_ip(&s->backends[1].address, "10.20.0.12");
	cr_expect_eq(s->backends[1].port, 80, "backend port defaults to the service port");
	cr_expect_eq(s->backends[1].weight, 0);

	s = &cfg.services[1];
	cr_expect_str_eq(s->name, "dns6");
	cr_expect_eq(s->vip.family, LIMPET_FAMILY_V6);
	assert_ip(&s->vip, "2001:db8::53");
	cr_expect_eq(s->port, 53);
	cr_expect_eq(s->protocol, IPPROTO_UDP);
	cr_expect_eq(s->mode, SERVICE_MODE_L4);
	cr_expect_eq(s->forwarding, LIMPET_FWD_DSR);
	cr_expect_eq(s->affinity.type, LIMPET_AFFINITY_NONE);
	cr_expect_eq(s->affinity.cookie.samesite, SAMESITE_LAX);
	cr_expect(s->affinity.cookie.secure);
	cr_expect_eq(s->failover, FAILOVER_NONE);
	cr_expect_eq(s->drain_timeout_ms, 0);
	cr_expect_eq(s->ring_size, 65537);
	cr_expect_eq(s->health.type, HEALTH_NONE);
	cr_assert_eq(s->n_backends, 2);
	cr_expect_str_eq(s->backends[0].name, "ns1.dc1");
	assert_ip(&s->backends[0].address, "2001:db8:1::11");
	cr_expect_eq(s->backends[0].port, 53);
	cr_expect_eq(s->backends[0].weight, 1);
	cr_expect_str_eq(s->backends[1].name, "ns2_dc1");
	assert_ip(&s->backends[1].address, "2001:db8:1::12");
	cr_expect_eq(s->backends[1].weight, 65535);

	s = &cfg.services[2];
	cr_expect_str_eq(s->name, "empty");
	cr_expect_eq(s->port, 443);
	cr_expect_eq(s->n_backends, 0);
	cr_expect_null(s->backends);

	cr_expect_eq(config_find_service(&cfg, "dns6"), &cfg.services[1]);
	cr_expect_null(config_find_service(&cfg, "dns"));
	cr_expect_eq(config_find_backend(&cfg.services[1], "ns2_dc1"),
		     &cfg.services[1].backends[1]);
	cr_expect_null(config_find_backend(&cfg.services[1], "b1"));
	cr_expect_null(config_find_backend(&cfg.services[2], "b1"));

	config_free(&cfg);
	cr_expect_null(cfg.services);
	cr_expect_eq(cfg.n_services, 0);
}

/* A TCP check of a UDP port fails on every backend: UDP services default to
 * no health check, TCP ones to tcp; an explicit type is kept either way.
 */
Test(config, udp_services_default_to_no_health_check)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX];
	const char *yaml =
		"interfaces: [{name: eth0}]\n"
		"services:\n"
		"  - {name: dns, vip: 10.0.0.1, port: 53, protocol: udp, backends: []}\n"
		"  - {name: web, vip: 10.0.0.1, port: 80, backends: []}\n"
		"  - name: dns2\n"
		"    vip: 10.0.0.1\n"
		"    port: 54\n"
		"    protocol: udp\n"
		"    health: {type: tcp}\n"
		"    backends: []\n"
		"  - {name: dns3, vip: 10.0.0.1, port: 55, protocol: udp, health: {interval: 5s},"
		" backends: []}\n";

	cr_assert_eq(load_text(yaml, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.services[0].health.type, HEALTH_NONE);
	cr_expect_eq(cfg.services[1].health.type, HEALTH_TCP);
	cr_expect_eq(cfg.services[2].health.type, HEALTH_TCP);
	cr_expect_eq(cfg.services[3].health.type, HEALTH_NONE);
	cr_expect_eq(cfg.services[3].health.interval_ms, 5000);
	config_free(&cfg);
}

Test(config, minimal_defaults)
{
	struct limpet_config cfg;
	struct service_config *s;
	char err[CONFIG_ERR_MAX];
	int ret;

	ret = config_load(FIXTURES "minimal.yaml", &cfg, err, sizeof(err));
	cr_assert_eq(ret, 0, "config_load: %d %s", ret, err);

	cr_expect_str_eq(cfg.instance, "limpet");
	cr_assert_eq(cfg.n_interfaces, 1);
	cr_expect_str_eq(cfg.interfaces[0].name, "eth0");
	cr_expect_eq(cfg.interfaces[0].xdp_mode, XDP_MODE_CFG_NATIVE);
	cr_expect_str_eq(cfg.secret_file, "/etc/limpet/secret");
	cr_expect_not(cfg.metrics.enabled);
	cr_expect_str_eq(cfg.metrics.listen, "");
	cr_expect_eq(cfg.flow_table_size, LIMPET_FLOW_TABLE_DEFAULT);
	cr_assert_eq(cfg.n_services, 1);

	s = &cfg.services[0];
	cr_expect_str_eq(s->name, "web");
	assert_ip(&s->vip, "10.0.0.1");
	cr_expect_eq(s->port, 80);
	cr_expect_eq(s->protocol, IPPROTO_TCP);
	cr_expect_eq(s->mode, SERVICE_MODE_L4);
	cr_expect_eq(s->forwarding, LIMPET_FWD_NAT);
	cr_expect_eq(s->affinity.type, LIMPET_AFFINITY_CLIENT_IP);
	cr_expect_eq(s->affinity.fallback, FALLBACK_CLIENT_IP);
	cr_expect_eq(s->affinity.policy, POLICY_PIN);
	cr_expect_str_eq(s->affinity.cookie.name, "limpet");
	cr_expect_eq(s->affinity.cookie.ttl_ms, 23ULL * 3600 * 1000);
	cr_expect_str_eq(s->affinity.cookie.path, "/");
	cr_expect_str_eq(s->affinity.cookie.domain, "");
	cr_expect_not(s->affinity.cookie.secure);
	cr_expect_eq(s->affinity.cookie.samesite, SAMESITE_UNSET);
	cr_expect_eq(s->affinity.n_headers, 0);
	cr_expect_not(s->affinity.require_all_headers);
	cr_expect_eq(s->affinity.idle_ttl_ms, 30ULL * 60 * 1000);
	cr_expect_eq(s->failover, FAILOVER_TEMPORARY);
	cr_expect_eq(s->drain_timeout_ms, 5ULL * 60 * 1000);
	cr_expect_eq(s->ring_size, LIMPET_RING_SIZE_DEFAULT);
	cr_expect_eq(s->health.type, HEALTH_TCP);
	cr_expect_str_eq(s->health.path, "/");
	cr_expect_eq(s->health.expect, 200);
	cr_expect_eq(s->health.interval_ms, 2000);
	cr_expect_eq(s->health.timeout_ms, 1000);
	cr_expect_eq(s->health.rise, 2);
	cr_expect_eq(s->health.fall, 3);
	cr_expect_eq(s->http.connect_timeout_ms, 2000);
	cr_expect_str_eq(s->http.backend_header, "");
	cr_assert_eq(s->n_backends, 1);
	cr_expect_str_eq(s->backends[0].name, "b1");
	assert_ip(&s->backends[0].address, "10.0.0.11");
	cr_expect_eq(s->backends[0].port, 80);
	cr_expect_eq(s->backends[0].weight, 1);
	config_free(&cfg);
}

#define HEAD "interfaces:\n  - name: eth0\nservices:\n"			/* lines 1-3 */
#define SVC HEAD "  - name: web\n    vip: 10.0.0.1\n    port: 80\n"	/* lines 4-6 */

Test(config, no_services)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX];

	cr_assert_eq(load_text("interfaces:\n  - name: lo\n", &cfg, err, sizeof(err)), 0, "%s",
		     err);
	cr_expect_eq(cfg.n_services, 0);
	cr_expect_null(cfg.services);
	config_free(&cfg);
}

/* Valid but likely not meant: a warning "FILE:LINE: KEY: problem", and still loaded. */
Test(config, warnings_for_nothing_to_balance)
{
	struct config_warnings warn;
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];

	cr_assert_eq(load_text_warn("interfaces:\n  - name: lo\n", &cfg, &warn, err,
				    sizeof(err)), 0, "%s", err);
	cr_assert_eq(warn.n, 1);
	snprintf(want, sizeof(want), "%s:1: services: no services", tmp_path);
	cr_expect(!strncmp(warn.line[0], want, strlen(want)), "got \"%s\"", warn.line[0]);
	config_free(&cfg);

	cr_assert_eq(load_text_warn("interfaces: [{name: lo}]\nservices: []\n", &cfg, &warn, err,
				    sizeof(err)), 0, "%s", err);
	cr_assert_eq(warn.n, 1);
	snprintf(want, sizeof(want), "%s:2: services: no services", tmp_path);
	cr_expect(!strncmp(warn.line[0], want, strlen(want)), "got \"%s\"", warn.line[0]);
	config_free(&cfg);

	cr_assert_eq(load_text_warn(SVC "    backends: []\n", &cfg, &warn, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_eq(warn.n, 1);
	cr_expect(strstr(warn.line[0], ": services[0].backends: no backends"), "got \"%s\"",
		  warn.line[0]);
	cr_expect_eq(cfg.n_services, 1);
	config_free(&cfg);

	/* A file with backends says nothing; config_load() takes no warnings at all. */
	cr_assert_eq(load_text_warn(SVC "    backends: [{name: b1, address: 10.20.0.11}]\n", &cfg,
				    &warn, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(warn.n, 0, "unexpected warning \"%s\"", warn.line[0]);
	config_free(&cfg);
}

Test(config, null_means_empty)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX];

	cr_assert_eq(load_text(SVC "    health:\n    affinity: ~\n    backends:\n", &cfg, err,
			       sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.n_services, 1);
	cr_expect_eq(cfg.services[0].n_backends, 0);
	cr_expect_null(cfg.services[0].backends);
	cr_expect_eq(cfg.services[0].health.type, HEALTH_TCP);
	cr_expect_eq(cfg.services[0].affinity.type, LIMPET_AFFINITY_CLIENT_IP);
	config_free(&cfg);

	cr_assert_eq(load_text("interfaces: [{name: eth0}]\nservices:\nmetrics:\n", &cfg, err,
			       sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.n_services, 0);
	cr_expect_not(cfg.metrics.enabled);
	config_free(&cfg);
}

Test(config, loose_but_valid_forms)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX];
	const char *yaml =
		"interfaces: [{name: eth0, xdp_mode: generic}]\n"
		"metrics: {listen: 127.0.0.1:9100}\n"
		"services:\n"
		"  - name: web\n"
		"    vip: 10.0.0.1\n"
		"    port: \"80\"\n"		/* quoted scalars are read by their text */
		"    mode: http\n"
		"    health: &h {type: http, path: /ping, interval: 10s}\n"
		"    affinity:\n"
		"      type: header\n"
		"      headers:\n"
		"        - X-A\n"
		"      cookie: {domain: , samesite: \"\", secure: True}\n"
		"    backends: []\n"
		"  - name: web-udp\n"		/* same VIP and port, other protocol */
		"    vip: 10.0.0.1\n"
		"    port: 80\n"
		"    protocol: udp\n"
		"    health: *h\n"
		"    backends: []\n"
		"  - name: web-8080\n"		/* same VIP, other port */
		"    vip: 10.0.0.1\n"
		"    port: 8080\n"
		"    ring_size: 3\n"
		"    backends:\n"
		"      - {name: a, address: 10.0.0.2}\n"
		"      - {name: b, address: 10.0.0.2, port: 81}\n"
		"      - {name: c, address: 10.0.0.3}\n";

	cr_assert_eq(load_text(yaml, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(cfg.interfaces[0].xdp_mode, XDP_MODE_CFG_GENERIC);
	cr_expect(cfg.metrics.enabled);
	cr_expect_str_eq(cfg.metrics.listen, "127.0.0.1:9100");
	cr_assert_eq(cfg.n_services, 3);
	cr_expect_eq(cfg.services[0].port, 80);
	cr_expect_eq(cfg.services[0].affinity.type, LIMPET_AFFINITY_HEADER);
	cr_expect_str_eq(cfg.services[0].affinity.cookie.domain, "");
	cr_expect_eq(cfg.services[0].affinity.cookie.samesite, SAMESITE_UNSET);
	cr_expect(cfg.services[0].affinity.cookie.secure);
	cr_expect_eq(cfg.services[1].protocol, IPPROTO_UDP);
	cr_expect_eq(cfg.services[1].health.type, HEALTH_HTTP);
	cr_expect_str_eq(cfg.services[1].health.path, "/ping");
	cr_expect_eq(cfg.services[1].health.interval_ms, 10000);
	cr_expect_eq(cfg.services[1].health.timeout_ms, 1000);
	cr_expect_eq(cfg.services[2].n_backends, 3);
	cr_expect_eq(cfg.services[2].backends[1].port, 81);
	config_free(&cfg);
}

/* The http: block of a mode http service: defaults, every key, "" = off. */
Test(config, http_block)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX];
	const char *yaml =
		HEAD
		"  - name: web\n"
		"    vip: 10.0.0.1\n"
		"    port: 80\n"
		"    mode: http\n"
		"    http:\n"
		"      connect_timeout: 750ms\n"
		"      backend_header: X-Limpet-Backend\n"
		"    backends: []\n"
		"  - name: api\n"		/* no http: block, all defaults */
		"    vip: 10.0.0.1\n"
		"    port: 81\n"
		"    mode: http\n"
		"    backends: []\n"
		"  - name: off\n"		/* quoted "" is off; 60s is the maximum */
		"    vip: 10.0.0.1\n"
		"    port: 82\n"
		"    mode: http\n"
		"    http: {connect_timeout: 60s, backend_header: \"\"}\n"
		"    backends: []\n"
		"  - name: empty\n"		/* an empty block: defaults */
		"    vip: 10.0.0.1\n"
		"    port: 83\n"
		"    mode: http\n"
		"    http:\n"
		"    backends: []\n"
		"  - name: token\n"		/* every tchar punctuation is allowed */
		"    vip: 10.0.0.1\n"
		"    port: 84\n"
		"    mode: http\n"
		"    http: {backend_header: \"a!#$%&'*+-.^_`|~9\"}\n"
		"    backends: []\n";

	cr_assert_eq(load_text(yaml, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.n_services, 5);
	cr_expect_eq(cfg.services[0].http.connect_timeout_ms, 750);
	cr_expect_str_eq(cfg.services[0].http.backend_header, "X-Limpet-Backend");
	cr_expect_eq(cfg.services[1].http.connect_timeout_ms, 2000);
	cr_expect_str_eq(cfg.services[1].http.backend_header, "");
	cr_expect_eq(cfg.services[2].http.connect_timeout_ms, 60000);
	cr_expect_str_eq(cfg.services[2].http.backend_header, "");
	cr_expect_eq(cfg.services[3].http.connect_timeout_ms, 2000);
	cr_expect_str_eq(cfg.services[3].http.backend_header, "");
	cr_expect_str_eq(cfg.services[4].http.backend_header, "a!#$%&'*+-.^_`|~9");
	config_free(&cfg);
}

/* ------------------------------------------------------------------------ */
/* Invalid fixtures: the whole message is checked                            */

/* BAD_FIXTURE(name, message): bad_<name>.yaml fails with "FILE:<message>". */
static void check_fixture(const char *file, const char *message)
{
	struct limpet_config cfg;
	char path[256], err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];
	int ret;

	snprintf(path, sizeof(path), FIXTURES "%s", file);
	snprintf(want, sizeof(want), "%s:%s", path, message);
	memset(err, 'x', sizeof(err));
	ret = config_load(path, &cfg, err, sizeof(err));
	cr_assert_eq(ret, -EINVAL, "%s: returned %d", file, ret);
	cr_assert_str_eq(err, want, "%s:\n  got  \"%s\"\n  want \"%s\"", file, err, want);
	cr_expect_null(cfg.services, "%s: cfg not cleared after an error", file);
	cr_expect_null(cfg.interfaces);
}

#define BAD_FIXTURE(name, message)						\
	Test(config_fixture, name)						\
	{									\
		check_fixture("bad_" #name ".yaml", message);			\
	}

BAD_FIXTURE(unknown_key,
	    "11: services[0].backends[0].wieght: unknown key (did you mean \"weight\"?)")

BAD_FIXTURE(port,
	    "9: services[0].port: expected an integer 1-65535, got \"80x\"")

BAD_FIXTURE(duration,
	    "13: services[0].affinity.cookie.ttl: expected a duration such as 500ms, 30s, 5m, "
	    "23h or 7d, got \"23\"")

BAD_FIXTURE(ring_size,
	    "8: services[0].ring_size: expected a prime 3-1048573, got \"65536\" "
	    "(next prime: 65537)")

BAD_FIXTURE(dup_backend,
	    "13: services[0].backends[2].name: duplicate backend name \"b1\" "
	    "(first at line 9)")

BAD_FIXTURE(dup_service,
	    "9: services[1].name: duplicate service name \"web\" (first at line 5)")

BAD_FIXTURE(family,
	    "12: services[0].backends[1].address: IPv6 address 2001:db8::12 in an IPv4 "
	    "service")

BAD_FIXTURE(dsr_http,
	    "9: services[0].forwarding: dsr requires mode l4")

BAD_FIXTURE(dsr_port,
	    "14: services[0].backends[1].port: dsr requires the service port 80, got 8080")

BAD_FIXTURE(address,
	    "10: services[0].backends[0].address: expected an IPv4 or IPv6 address, "
	    "got \"10.20.0.300\"")

BAD_FIXTURE(missing_vip,
	    "10: services[1].vip: missing required key")

BAD_FIXTURE(syntax,
	    "8: YAML syntax error: did not find expected ',' or ']' "
	    "(while parsing a flow sequence at line 7)")

BAD_FIXTURE(weight,
	    "11: services[0].backends[0].weight: expected an integer 0-65535, "
	    "got \"70000\"")

BAD_FIXTURE(instance,
	    "2: instance: expected a name of 1-63 characters from [A-Za-z0-9_-], "
	    "got \"lab.1\"")

Test(config, missing_file)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX];

	cr_assert_eq(config_load(FIXTURES "no-such-file.yaml", &cfg, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, FIXTURES "no-such-file.yaml: cannot read: No such file or directory");
	cr_assert_eq(config_load(FIXTURES, &cfg, err, sizeof(err)), -EISDIR);
	cr_assert_str_eq(err, FIXTURES ": cannot read: Is a directory");
}

Test(config, error_buffer_truncated)
{
	struct limpet_config cfg;
	char err[16];

	memset(err, 'x', sizeof(err));
	cr_assert_eq(config_load(FIXTURES "bad_port.yaml", &cfg, err, sizeof(err)), -EINVAL);
	cr_assert_eq(strlen(err), sizeof(err) - 1);
	cr_assert_eq(config_load(FIXTURES "bad_port.yaml", &cfg, NULL, 0), -EINVAL);
}

/* config_load_buffer(): the file loader's result and errors, under the given name. */
Test(config, load_buffer)
{
	static const char yaml[] = "interfaces: [{name: eth0}]\nservices:\n  - name: web\n    vip: 10.0.0.1\n    port: 80\n"
				   "    backends: [{name: b1, address: 10.0.0.2}]\n";
	struct limpet_config a, b;
	char err[CONFIG_ERR_MAX];

	cr_assert_eq(load_text(yaml, &a, err, sizeof(err)), 0, "%s", err);
	/* No NUL after the text: the loader must not read past <len>. */
	cr_assert_eq(config_load_buffer("mem", yaml, sizeof(yaml) - 1, &b, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(b.path, "mem");
	cr_assert_eq(b.n_services, 1);
	cr_assert_eq(b.services[0].n_backends, a.services[0].n_backends);
	cr_assert_eq(b.services[0].port, 80);
	cr_assert_eq(b.services[0].backends[0].port, 80);
	config_free(&a);
	config_free(&b);

	cr_assert_eq(config_load_buffer("mem", "services: [1", 12, &b, err, sizeof(err)), -EINVAL);
	cr_assert(!strncmp(err, "mem:", 4) && strstr(err, ": YAML syntax error: "), "%s", err);
	cr_assert_eq(config_load_buffer("mem", "", 0, &b, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "mem:1: (root): expected a mapping, got an empty document");
}

/* ------------------------------------------------------------------------ */
/* Invalid inline configurations                                             */

/*
 * One test per case: BAD_INLINE(test name, yaml, line, key, problem). The
 * error must be "TMPFILE:<line>: <key>: " followed by text containing <problem>.
 */
static void check_inline(const char *name, const char *yaml, int line, const char *key,
			 const char *problem)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX];
	int ret;

	ret = load_text(yaml, &cfg, err, sizeof(err));
	assert_error(name, ret, err, tmp_path, line, key, problem);
	cr_expect_null(cfg.services);
	cr_expect_null(cfg.interfaces);
}

#define BAD_INLINE(id, yaml, line, key, problem)				\
	Test(config_inline, id)							\
	{									\
		check_inline(#id, yaml, line, key, problem);			\
	}

BAD_INLINE(duplicate_vip_port_proto,
	   SVC "    backends: []\n  - name: api\n    vip: 10.0.0.1\n    port: 80\n"
	       "    backends: []\n",
	   9, "services[1].vip",
	   "10.0.0.1 port 80/tcp is already used by service \"web\" (line 5)")

BAD_INLINE(udp_with_http,
	   SVC "    mode: http\n    protocol: udp\n    backends: []\n", 8,
	   "services[0].protocol", "udp requires mode l4")

BAD_INLINE(cookie_affinity_with_l4,
	   SVC "    affinity:\n      type: cookie\n    backends: []\n", 8,
	   "services[0].affinity.type", "cookie requires mode http")

BAD_INLINE(header_affinity_with_l4,
	   SVC "    affinity:\n      type: header\n      headers: [X-A]\n    backends: []\n", 8,
	   "services[0].affinity.type", "header requires mode http")

BAD_INLINE(header_affinity_without_headers,
	   SVC "    mode: http\n    affinity:\n      type: header\n    backends: []\n", 9,
	   "services[0].affinity.headers", "needs at least one header")

BAD_INLINE(too_many_headers,
	   SVC "    mode: http\n    affinity:\n      headers: [a, b, c, d, e, f, g, h, i]\n"
	       "    backends: []\n",
	   9, "services[0].affinity.headers", "at most 8 headers, got 9")

BAD_INLINE(duplicate_header,
	   SVC "    affinity:\n      headers:\n        - X-A\n        - x-a\n"
	       "    backends: []\n",
	   10, "services[0].affinity.headers[1]", "duplicate header \"x-a\" (first at line 9)")

BAD_INLINE(bad_header_name,
	   SVC "    affinity:\n      headers: [\"X A\"]\n    backends: []\n",
	   8, "services[0].affinity.headers[0]", "got \"X A\"")

BAD_INLINE(bad_samesite,
	   SVC "    affinity:\n      cookie:\n        samesite: Lax\n    backends: []\n", 9,
	   "services[0].affinity.cookie.samesite",
	   "expected one of \"\" | lax | strict | none, got \"Lax\"")

BAD_INLINE(bad_cookie_path,
	   SVC "    affinity:\n      cookie:\n        path: app\n    backends: []\n", 9,
	   "services[0].affinity.cookie.path", "got \"app\"")

BAD_INLINE(bad_cookie_name,
	   SVC "    affinity:\n      cookie:\n        name: \"a=b\"\n    backends: []\n", 9,
	   "services[0].affinity.cookie.name", "got \"a=b\"")

BAD_INLINE(zero_cookie_ttl,
	   SVC "    affinity:\n      cookie:\n        ttl: 0s\n    backends: []\n", 9,
	   "services[0].affinity.cookie.ttl", "must be greater than 0, got \"0s\"")

BAD_INLINE(bad_boolean,
	   SVC "    affinity:\n      require_all_headers: yes\n    backends: []\n", 8,
	   "services[0].affinity.require_all_headers", "expected true or false, got \"yes\"")

BAD_INLINE(bad_enum,
	   SVC "    failover: always\n    backends: []\n", 7, "services[0].failover",
	   "expected one of none | temporary | sticky, got \"always\"")

BAD_INLINE(bad_mode,
	   SVC "    mode: tcp\n    backends: []\n", 7, "services[0].mode",
	   "expected l4 | http, got \"tcp\"")

BAD_INLINE(duplicate_key,
	   SVC "    port: 81\n    backends: []\n", 7, "services[0].port",
	   "duplicate key (first at line 6)")

BAD_INLINE(scalar_for_a_mapping,
	   SVC "    health: tcp\n    backends: []\n", 7,
	   "services[0].health", "expected a mapping, got \"tcp\"")

BAD_INLINE(list_for_a_scalar,
	   SVC "    mode: [l4]\n    backends: []\n", 7, "services[0].mode",
	   "expected a single value, got a list")

BAD_INLINE(mapping_for_a_scalar,
	   SVC "    mode: {n: l4}\n    backends: []\n", 7,
	   "services[0].mode", "expected a single value, got a mapping")

BAD_INLINE(mapping_for_a_list,
	   "interfaces:\n  name: eth0\n", 1, "interfaces",
	   "expected a list, got a mapping")

BAD_INLINE(null_for_a_required_address,
	   SVC "    backends:\n      - name: b1\n"
	       "        address:\n", 9,
	   "services[0].backends[0].address", "expected an IPv4 or IPv6 address, got \"\"")

BAD_INLINE(missing_backend_address,
	   SVC "    backends:\n      - name: b1\n", 8,
	   "services[0].backends[0].address", "missing required key")

BAD_INLINE(missing_backends,
	   SVC "    mode: l4\n", 4, "services[0].backends",
	   "missing required key")

BAD_INLINE(missing_interfaces,
	   "# no interfaces\ninstance: x\n", 2, "interfaces",
	   "missing required key")

BAD_INLINE(null_interfaces,
	   "interfaces:\n", 1, "interfaces", "at least one interface is required")

BAD_INLINE(null_service,
	   HEAD "  -\n  - name: x\n", 4, "services[0].name", "missing required key")

BAD_INLINE(empty_interfaces,
	   "interfaces: []\n", 1, "interfaces",
	   "at least one interface is required")

BAD_INLINE(interface_name_too_long,
	   "interfaces:\n  - name: abcdefghijklmnop\n", 2,
	   "interfaces[0].name", "expected an interface name of 1-15 characters")

BAD_INLINE(interface_name_with_slash,
	   "interfaces:\n  - name: eth/0\n", 2,
	   "interfaces[0].name", "got \"eth/0\"")

BAD_INLINE(duplicate_interface,
	   "interfaces:\n  - name: eth0\n  - name: eth0\n", 3,
	   "interfaces[1].name", "duplicate interface \"eth0\" (first at line 2)")

BAD_INLINE(bad_xdp_mode,
	   "interfaces:\n  - name: eth0\n    xdp_mode: skb\n", 3,
	   "interfaces[0].xdp_mode", "expected native | generic, got \"skb\"")

BAD_INLINE(metrics_hostname,
	   "interfaces:\n  - name: eth0\nmetrics:\n  listen: localhost:9100\n",
	   4, "metrics.listen", "expected host:port")

BAD_INLINE(metrics_bare_ipv6,
	   "interfaces:\n  - name: eth0\nmetrics:\n  listen: \"::1:9100\"\n",
	   4, "metrics.listen", "got \"::1:9100\"")

BAD_INLINE(metrics_port_0,
	   "interfaces:\n  - name: eth0\nmetrics:\n  listen: \"[::1]:0\"\n",
	   4, "metrics.listen", "got \"[::1]:0\"")

BAD_INLINE(metrics_unknown_key,
	   "interfaces:\n  - name: eth0\nmetrics:\n  port: 9100\n", 4,
	   "metrics.port", "unknown key")

BAD_INLINE(flow_table_too_small,
	   "interfaces:\n  - name: eth0\nflow_table_size: 1000\n", 3,
	   "flow_table_size", "expected an integer 1024-67108864, got \"1000\"")

BAD_INLINE(flow_table_too_large,
	   "interfaces:\n  - name: eth0\nflow_table_size: 67108865\n", 3,
	   "flow_table_size", "expected an integer 1024-67108864")

BAD_INLINE(empty_secret_file,
	   "interfaces:\n  - name: eth0\nsecret_file: \"\"\n", 3,
	   "secret_file", "expected a file name")

BAD_INLINE(unknown_top_level_key,
	   "interface:\n  - name: eth0\n", 1, "interface",
	   "unknown key (did you mean \"interfaces\"?)")

BAD_INLINE(unknown_key_without_suggestion,
	   SVC "    colour: blue\n    backends: []\n", 7,
	   "services[0].colour", "unknown key")

BAD_INLINE(zero_interval,
	   SVC "    health:\n      interval: 0ms\n    backends: []\n", 8,
	   "services[0].health.interval", "must be greater than 0")

BAD_INLINE(duration_with_space,
	   SVC "    drain_timeout: 5 m\n    backends: []\n", 7,
	   "services[0].drain_timeout", "got \"5 m\"")

BAD_INLINE(duration_overflow,
	   SVC "    drain_timeout: 213503982335d\n    backends: []\n", 7,
	   "services[0].drain_timeout", "expected a duration")

BAD_INLINE(expect_out_of_range,
	   SVC "    health:\n      expect: 600\n    backends: []\n", 8,
	   "services[0].health.expect", "expected an integer 100-599, got \"600\"")

BAD_INLINE(rise_zero,
	   SVC "    health:\n      rise: 0\n    backends: []\n", 8,
	   "services[0].health.rise", "expected an integer 1-1000")

BAD_INLINE(health_path_with_space,
	   SVC "    health:\n      path: \"/a b\"\n    backends: []\n", 8,
	   "services[0].health.path", "got \"/a b\"")

#define HTTP SVC "    mode: http\n    http:\n"				/* lines 7-8 */

BAD_INLINE(http_bad_connect_timeout,
	   HTTP "      connect_timeout: 2\n    backends: []\n", 9,
	   "services[0].http.connect_timeout",
	   "expected a duration such as 500ms, 30s, 5m, 23h or 7d, got \"2\"")

BAD_INLINE(http_zero_connect_timeout,
	   HTTP "      connect_timeout: 0s\n    backends: []\n", 9,
	   "services[0].http.connect_timeout", "must be greater than 0, got \"0s\"")

BAD_INLINE(http_connect_timeout_too_large,
	   HTTP "      connect_timeout: 60001ms\n    backends: []\n", 9,
	   "services[0].http.connect_timeout", "must be at most 60s, got \"60001ms\"")

BAD_INLINE(http_connect_timeout_in_minutes,
	   HTTP "      connect_timeout: 2m\n    backends: []\n", 9,
	   "services[0].http.connect_timeout", "must be at most 60s, got \"2m\"")

BAD_INLINE(http_backend_header_with_space,
	   HTTP "      backend_header: \"X Backend\"\n    backends: []\n", 9,
	   "services[0].http.backend_header",
	   "expected a header name of 1-63 token characters or \"\", got \"X Backend\"")

BAD_INLINE(http_backend_header_with_colon,
	   HTTP "      backend_header: \"X-Backend:\"\n    backends: []\n", 9,
	   "services[0].http.backend_header", "got \"X-Backend:\"")

BAD_INLINE(http_backend_header_too_long,
	   HTTP "      backend_header: "
		"X-01234567890123456789012345678901234567890123456789012345678901\n"
		"    backends: []\n", 9,
	   "services[0].http.backend_header", "expected a header name of 1-63 token characters")

BAD_INLINE(http_backend_header_framing,
	   HTTP "      backend_header: content-length\n    backends: []\n", 9,
	   "services[0].http.backend_header",
	   "\"content-length\" would change how the response is framed")

BAD_INLINE(http_unknown_key,
	   HTTP "      connect_timeuot: 1s\n    backends: []\n", 9,
	   "services[0].http.connect_timeuot",
	   "unknown key (did you mean \"connect_timeout\"?)")

BAD_INLINE(http_scalar,
	   SVC "    mode: http\n    http: on\n    backends: []\n", 8,
	   "services[0].http", "expected a mapping, got \"on\"")

BAD_INLINE(http_block_with_l4,
	   SVC "    http:\n      connect_timeout: 1s\n    backends: []\n", 7,
	   "services[0].http", "requires mode http")

BAD_INLINE(http_block_with_explicit_l4,
	   SVC "    mode: l4\n    http: {}\n    backends: []\n", 8,
	   "services[0].http", "requires mode http")

BAD_INLINE(ring_size_too_small,
	   SVC "    ring_size: 2\n    backends: []\n", 7,
	   "services[0].ring_size", "expected a prime 3-1048573, got \"2\"")

BAD_INLINE(ring_size_too_large,
	   SVC "    ring_size: 1048583\n    backends: []\n", 7,
	   "services[0].ring_size", "expected a prime 3-1048573")

BAD_INLINE(ring_smaller_than_backends,
	   SVC "    ring_size: 3\n    backends:\n      - {name: a, address: 10.0.0.2}\n"
	       "      - {name: b, address: 10.0.0.3}\n      - {name: c, address: 10.0.0.4}\n"
	       "      - {name: d, address: 10.0.0.5}\n",
	   7, "services[0].ring_size", "ring_size 3 is smaller than the 4 backends")

BAD_INLINE(port_zero,
	   SVC "    backends:\n      - name: b1\n        address: 10.0.0.2\n"
	       "        port: 0\n",
	   10, "services[0].backends[0].port", "expected an integer 1-65535, got \"0\"")

BAD_INLINE(negative_weight,
	   SVC "    backends:\n      - name: b1\n        address: 10.0.0.2\n"
	       "        weight: -1\n",
	   10, "services[0].backends[0].weight", "got \"-1\"")

BAD_INLINE(duplicate_backend_address,
	   SVC "    backends:\n      - name: b1\n        address: 10.0.0.2\n"
	       "      - name: b2\n        address: 10.0.0.2\n",
	   11, "services[0].backends[1].address",
	   "same address and port as backend \"b1\" (line 9)")

BAD_INLINE(ipv4_backend_in_ipv6_service,
	   HEAD "  - name: v6\n    vip: 2001:db8::1\n    port: 80\n    backends:\n"
	       "      - name: b1\n        address: 10.0.0.2\n",
	   9, "services[0].backends[0].address",
	   "IPv4 address 10.0.0.2 in an IPv6 service")

BAD_INLINE(unspecified_vip,
	   HEAD "  - name: web\n    vip: 0.0.0.0\n    port: 80\n"
	       "    backends: []\n",
	   5, "services[0].vip", "expected a unicast address, got \"0.0.0.0\"")

BAD_INLINE(multicast_vip,
	   HEAD "  - name: web\n    vip: ff02::1\n    port: 80\n"
	       "    backends: []\n",
	   5, "services[0].vip", "expected a unicast address")

BAD_INLINE(bad_service_name,
	   HEAD "  - name: my web\n    vip: 10.0.0.1\n    port: 80\n"
	       "    backends: []\n",
	   4, "services[0].name",
	   "expected a name of 1-63 characters from [A-Za-z0-9_.-], got \"my web\"")

BAD_INLINE(service_name_too_long,
	   HEAD "  - name: a123456789012345678901234567890123456789012345678901234567890123\n"
	       "    vip: 10.0.0.1\n    port: 80\n    backends: []\n",
	   4, "services[0].name", "expected a name of 1-63 characters")

BAD_INLINE(long_bad_value_is_shortened,
	   SVC "    mode: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
	       "    backends: []\n",
	   7, "services[0].mode",
	   "got \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"")

BAD_INLINE(newline_in_a_value_is_escaped,
	   SVC "    mode: \"l4\\nx\"\n    backends: []\n", 7, "services[0].mode",
	   "got \"l4\\nx\"")

BAD_INLINE(nul_in_a_value,
	   SVC "    mode: \"l4\\0\"\n    backends: []\n", 7,
	   "services[0].mode", "contains a NUL character")

BAD_INLINE(root_is_a_list,
	   "- a\n- b\n", 1, "(root)", "expected a mapping, got a list")

BAD_INLINE(empty_file,
	   "", 1, "(root)", "expected a mapping, got an empty document")

BAD_INLINE(only_comments,
	   "# nothing\n# here\n", 1, "(root)", "got an empty document")

BAD_INLINE(two_documents,
	   "interfaces:\n  - name: eth0\n---\nfoo: 1\n", 4, "(root)",
	   "only one YAML document is allowed")

BAD_INLINE(list_as_a_key,
	   "interfaces:\n  - name: eth0\n[a]: 1\n", 3, "(root)",
	   "expected a key name, got a list")

/* Errors that are not "KEY: problem" lines. */
Test(config_inline, yaml_syntax_errors)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];

	cr_assert_eq(load_text("interfaces:\n  - name: eth0\n   bad: indent\n", &cfg, err,
			       sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3: YAML syntax error: ", tmp_path);
	cr_assert(!strncmp(err, want, strlen(want)), "got \"%s\"", err);

	/* Encoding errors carry no mark: the line is counted from the offset. */
	cr_assert_eq(load_text("interfaces:\n  - name: \xff\n", &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: YAML syntax error: invalid leading UTF-8 octet",
		 tmp_path);
	cr_assert(!strncmp(err, want, strlen(want)), "got \"%s\"", err);

	cr_assert_eq(load_text("interfaces: *nope\n", &cfg, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:1: YAML syntax error: found undefined alias", tmp_path);
	cr_assert(!strncmp(err, want, strlen(want)), "got \"%s\"", err);
}

Test(config_inline, too_many_services)
{
	size_t n = LIMPET_MAX_SERVICES + 1, i, len = 0;
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX], what[32], want[64];
	char *yaml = malloc(n * 80 + 64);

	cr_assert_not_null(yaml);
	len += sprintf(yaml + len, "interfaces: [{name: eth0}]\nservices:\n");
	for (i = 0; i < n; i++)
		len += sprintf(yaml + len, "  - {name: s%zu, vip: 10.0.%zu.%zu, port: 80, "
				    "backends: []}\n", i, i / 200, i % 200 + 1);
	snprintf(what, sizeof(what), "%zu services", n);
	snprintf(want, sizeof(want), "at most %d services, got %zu", LIMPET_MAX_SERVICES, n);
	assert_error(what, load_text(yaml, &cfg, err, sizeof(err)), err, tmp_path, 2, "services",
		     want);
	free(yaml);
}

Test(config_inline, too_many_backends)
{
	size_t per = LIMPET_MAX_BACKENDS / 4 + 100, n_svc = 4, i, j, len = 0;
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX], what[32], want[80];
	char *yaml = malloc(n_svc * (per * 64 + 128) + 64);
	int backends_line = 0, line = 3;

	cr_assert_not_null(yaml);
	len += sprintf(yaml + len, "interfaces: [{name: eth0}]\nservices:\n");
	for (i = 0; i < n_svc; i++) {
		len += sprintf(yaml + len, "  - name: s%zu\n    vip: 10.1.0.%zu\n    port: 80\n"
				    "    backends:\n", i, i + 1);
		if (i == n_svc - 1)
			backends_line = line + 3;
		line += 4;
		for (j = 0; j < per; j++, line++)
			len += sprintf(yaml + len, "      - {name: b%zu, address: 10.2.%zu.%zu}\n",
				       j, j / 200, j % 200 + 1);
	}
	snprintf(what, sizeof(what), "%zu backends", per * n_svc);
	snprintf(want, sizeof(want), "too many backends: %zu in all services, at most %d",
		 per * n_svc, LIMPET_MAX_BACKENDS);
	assert_error(what, load_text(yaml, &cfg, err, sizeof(err)), err, tmp_path, backends_line,
		     "services[3].backends", want);
	free(yaml);
}

/* ------------------------------------------------------------------------ */
/* parse_* helpers                                                           */

struct duration_case {
	const char *text;
	int ret;
	__u64 ms;
};

Test(parse, duration_ms)
{
	static const struct duration_case cases[] = {
		{ "500ms", 0, 500 },
		{ "30s", 0, 30000 },
		{ "5m", 0, 300000 },
		{ "23h", 0, 82800000 },
		{ "7d", 0, 604800000 },
		{ "0s", 0, 0 },
		{ "0ms", 0, 0 },
		{ "007s", 0, 7000 },
		{ "18446744073709551615ms", 0, UINT64_MAX },
		{ "213503982334d", 0, 213503982334ULL * 86400000 },
		{ "213503982335d", -EINVAL, 0 },
		{ "18446744073709551616ms", -EINVAL, 0 },
		{ "99999999999999999999999s", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "5", -EINVAL, 0 },
		{ "ms", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "5 m", -EINVAL, 0 },
		{ " 5m", -EINVAL, 0 },
		{ "5m ", -EINVAL, 0 },
		{ "-5s", -EINVAL, 0 },
		{ "+5s", -EINVAL, 0 },
		{ "5.5s", -EINVAL, 0 },
		{ "5M", -EINVAL, 0 },
		{ "5S", -EINVAL, 0 },
		{ "5sec", -EINVAL, 0 },
		{ "5mm", -EINVAL, 0 },
		{ "5h30m", -EINVAL, 0 },
		{ "1w", -EINVAL, 0 },
		{ "0x10s", -EINVAL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		__u64 ms = 12345;
		int ret = parse_duration_ms(cases[i].text, &ms);

		cr_expect_eq(ret, cases[i].ret, "\"%s\": returned %d", cases[i].text, ret);
		if (!cases[i].ret)
			cr_expect_eq(ms, cases[i].ms, "\"%s\": %llu ms", cases[i].text,
				     (unsigned long long)ms);
		else
			cr_expect_eq(ms, 12345, "\"%s\": output written on error", cases[i].text);
	}
	cr_expect_eq(parse_duration_ms(NULL, NULL), -EINVAL);
}

struct ip_case {
	const char *text;
	int ret;
	__u8 family;
	const char *canonical;
};

Test(parse, ip_address)
{
	static const struct ip_case cases[] = {
		{ "10.0.0.1", 0, LIMPET_FAMILY_V4, "10.0.0.1" },
		{ "0.0.0.0", 0, LIMPET_FAMILY_V4, "0.0.0.0" },
		{ "255.255.255.255", 0, LIMPET_FAMILY_V4, "255.255.255.255" },
		{ "::1", 0, LIMPET_FAMILY_V6, "::1" },
		{ "2001:DB8:0:0::1", 0, LIMPET_FAMILY_V6, "2001:db8::1" },
		{ "fe80::1:2:3:4", 0, LIMPET_FAMILY_V6, "fe80::1:2:3:4" },
		{ "::ffff:10.0.0.1", 0, LIMPET_FAMILY_V6, "::ffff:10.0.0.1" },
		{ "", -EINVAL, 0, NULL },
		{ "10.0.0", -EINVAL, 0, NULL },
		{ "10.0.0.256", -EINVAL, 0, NULL },
		{ "10.0.0.1.2", -EINVAL, 0, NULL },
		{ "010.0.0.1", -EINVAL, 0, NULL },
		{ " 10.0.0.1", -EINVAL, 0, NULL },
		{ "10.0.0.1 ", -EINVAL, 0, NULL },
		{ "10.0.0.1/24", -EINVAL, 0, NULL },
		{ "10.0.0.1:80", -EINVAL, 0, NULL },
		{ "[::1]", -EINVAL, 0, NULL },
		{ "fe80::1%eth0", -EINVAL, 0, NULL },
		{ "2001:db8::g", -EINVAL, 0, NULL },
		{ "1:2:3:4:5:6:7:8:9", -EINVAL, 0, NULL },
		{ "localhost", -EINVAL, 0, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ip_address ip;
		char buf[INET6_ADDRSTRLEN];
		int ret;

		memset(&ip, 0xaa, sizeof(ip));
		ret = parse_ip_address(cases[i].text, &ip);
		cr_expect_eq(ret, cases[i].ret, "\"%s\": returned %d", cases[i].text, ret);
		if (ret)
			continue;
		cr_expect_eq(ip.family, cases[i].family, "\"%s\": family %u", cases[i].text,
			     ip.family);
		if (ip.family == LIMPET_FAMILY_V4)
			cr_expect_eq(ip.addr.a[1] | ip.addr.a[2] | ip.addr.a[3], 0,
				     "\"%s\": IPv4 must leave words 1-3 zero", cases[i].text);
		cr_assert_eq(format_ip_address(&ip, buf, sizeof(buf)), 0);
		cr_expect_str_eq(buf, cases[i].canonical);
	}
	cr_expect_eq(parse_ip_address(NULL, NULL), -EINVAL);
}

Test(parse, ip_address_bytes)
{
	struct ip_address ip;
	const __u8 *b = (const __u8 *)ip.addr.a;

	cr_assert_eq(parse_ip_address("192.0.2.7", &ip), 0);
	cr_expect_eq(ip.addr.a[0], htonl(0xc0000207));
	cr_assert_eq(parse_ip_address("2001:db8::7", &ip), 0);
	cr_expect_eq(b[0], 0x20);
	cr_expect_eq(b[1], 0x01);
	cr_expect_eq(b[2], 0x0d);
	cr_expect_eq(b[3], 0xb8);
	cr_expect_eq(b[15], 0x07);
}

Test(parse, format_ip_address_errors)
{
	struct ip_address ip;
	char small[8];

	cr_assert_eq(parse_ip_address("2001:db8::1234", &ip), 0);
	cr_expect_eq(format_ip_address(&ip, small, sizeof(small)), -ENOSPC);
	cr_assert_eq(parse_ip_address("10.0.0.1", &ip), 0);
	cr_expect_eq(format_ip_address(&ip, small, sizeof(small)), -ENOSPC);
	ip.family = 5;
	cr_expect_eq(format_ip_address(&ip, small, sizeof(small)), -EINVAL);
	cr_expect_eq(format_ip_address(NULL, small, sizeof(small)), -EINVAL);
}

struct uint_case {
	const char *text;
	int ret;
	__u32 value;
};

static const struct uint_case port_cases[] = {
	{ "1", 0, 1 },
	{ "80", 0, 80 },
	{ "080", 0, 80 },
	{ "65535", 0, 65535 },
	{ "0", -EINVAL, 0 },
	{ "65536", -EINVAL, 0 },
	{ "4294967376", -EINVAL, 0 },		/* 2^32 + 80 */
	{ "99999999999999999999999", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+80", -EINVAL, 0 },
	{ " 80", -EINVAL, 0 },
	{ "80 ", -EINVAL, 0 },
	{ "80x", -EINVAL, 0 },
	{ "0x50", -EINVAL, 0 },
	{ "8.0", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "http", -EINVAL, 0 },
};

static const struct uint_case weight_cases[] = {
	{ "0", 0, 0 },
	{ "1", 0, 1 },
	{ "100", 0, 100 },
	{ "65535", 0, 65535 },
	{ "65536", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ "1.5", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },
	{ "1 ", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "18446744073709551617", -EINVAL, 0 },
};

Test(parse, port)
{
	size_t i;

	for (i = 0; i < sizeof(port_cases) / sizeof(port_cases[0]); i++) {
		__u16 port = 7;
		int ret = parse_port(port_cases[i].text, &port);

		cr_expect_eq(ret, port_cases[i].ret, "\"%s\": returned %d", port_cases[i].text,
			     ret);
		cr_expect_eq(port, ret ? 7 : port_cases[i].value, "\"%s\": got %u",
			     port_cases[i].text, port);
	}
	cr_expect_eq(parse_port(NULL, NULL), -EINVAL);
}

Test(parse, weight)
{
	size_t i;

	for (i = 0; i < sizeof(weight_cases) / sizeof(weight_cases[0]); i++) {
		__u32 weight = 7;
		int ret = parse_weight(weight_cases[i].text, &weight);

		cr_expect_eq(ret, weight_cases[i].ret, "\"%s\": returned %d",
			     weight_cases[i].text, ret);
		cr_expect_eq(weight, ret ? 7 : weight_cases[i].value, "\"%s\": got %u",
			     weight_cases[i].text, weight);
	}
}

Test(parse, is_prime)
{
	static const struct {
		__u32 n;
		bool prime;
	} cases[] = {
		{ 0, false }, { 1, false }, { 2, true }, { 3, true }, { 4, false },
		{ 9, false }, { 25, false }, { 251, true }, { 65536, false }, { 65537, true },
		{ 1048573, true }, { 1048575, false }, { 4294967291u, true },
		{ 4294967295u, false }, { 65521u * 65519u, false },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(is_prime(cases[i].n), cases[i].prime, "is_prime(%u)", cases[i].n);
}

Test(parse, find_null_safe)
{
	cr_expect_null(config_find_service(NULL, "web"));
	cr_expect_null(config_find_backend(NULL, "b1"));
	config_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* The cluster: section                                                      */

#define CLUSTER_HEAD "interfaces: [{name: eth0}]\n"
#define CLUSTER_SVC                                                        \
	"services:\n"                                                      \
	"  - {name: web, vip: 10.100.0.100, port: 80,\n"                   \
	"     backends: [{name: b1, address: 10.20.0.11}]}\n"

Test(config_cluster, absent_means_a_lone_node)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX];

	cr_assert_eq(load_text(CLUSTER_HEAD CLUSTER_SVC, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_expect_not(cfg.cluster.enabled);
	cr_expect_eq(cfg.cluster.n_nodes, 0);
	config_free(&cfg);
}

Test(config_cluster, every_key_and_defaults)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX];

	cr_assert_eq(load_text(CLUSTER_HEAD
			       "cluster:\n"
			       "  node: n2\n"
			       "  announce_interface: dummy0\n"
			       "  nodes:\n"
			       "    - {name: n1, address: 10.30.0.11}\n"
			       "    - {name: n2, address: 'fd00:30::12'}\n" CLUSTER_SVC,
			       &cfg, err, sizeof(err)),
		     0, "%s", err);
	cr_expect(cfg.cluster.enabled);
	cr_expect_str_eq(cfg.cluster.node, "n2");
	cr_expect_str_eq(cfg.cluster.announce_interface, "dummy0");
	cr_expect_eq(cfg.cluster.line, 4);
	cr_assert_eq(cfg.cluster.n_nodes, 2);
	cr_expect_str_eq(cfg.cluster.nodes[0].name, "n1");
	assert_ip(&cfg.cluster.nodes[0].address, "10.30.0.11");
	assert_ip(&cfg.cluster.nodes[1].address, "fd00:30::12");
	config_free(&cfg);

	cr_assert_eq(load_text(CLUSTER_HEAD "cluster: {node: n1}\n" CLUSTER_SVC, &cfg, err,
			       sizeof(err)),
		     0, "%s", err);
	cr_expect(cfg.cluster.enabled);
	cr_expect_str_eq(cfg.cluster.announce_interface, "lo");
	cr_expect_eq(cfg.cluster.n_nodes, 0);
	config_free(&cfg);
}

Test(config_cluster, bad_sections)
{
	static const struct {
		const char *yaml;
		int line;
		const char *key, *problem;
	} cases[] = {
		{ "cluster: {announce_interface: lo}\n", 2, "cluster.node", "missing" },
		{ "cluster: {node: 'n 1'}\n", 2, "cluster.node", "n 1" },
		{ "cluster: {node: n1, announce_interface: 'a/b'}\n", 2,
		  "cluster.announce_interface", "a/b" },
		{ "cluster: {node: n1, colour: red}\n", 2, "cluster.colour", "unknown key" },
		{ "cluster:\n  node: n3\n  nodes: [{name: n1, address: 10.30.0.11}]\n", 3,
		  "cluster.node", "not in cluster.nodes" },
		{ "cluster:\n  node: n1\n  nodes:\n    - {name: n1, address: 10.30.0.11}\n"
		  "    - {name: n1, address: 10.30.0.12}\n", 6, "cluster.nodes[1].name",
		  "duplicate node" },
		{ "cluster:\n  node: n1\n  nodes:\n    - {name: n1, address: 10.30.0.11}\n"
		  "    - {name: n2, address: 10.30.0.11}\n", 6, "cluster.nodes[1].address",
		  "also node n1" },
		{ "cluster:\n  node: n1\n  nodes:\n    - {name: n1, address: 0.0.0.0}\n", 5,
		  "cluster.nodes[0].address", "0.0.0.0" },
		{ "cluster:\n  node: n1\n  nodes:\n    - {name: n1}\n", 5, "cluster.nodes[0].address",
		  "missing" },
		{ "cluster: [n1]\n", 2, "cluster", "expected a mapping" },
	};
	char yaml[1024], err[CONFIG_ERR_MAX];
	struct limpet_config cfg;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(yaml, sizeof(yaml), "%s%s%s", CLUSTER_HEAD, cases[i].yaml, CLUSTER_SVC);
		assert_error(cases[i].yaml, load_text(yaml, &cfg, err, sizeof(err)), err, tmp_path,
			     cases[i].line, cases[i].key, cases[i].problem);
	}
}

/* The model takes the node list from the configuration and copies it deeply. */
Test(config_cluster, model_owns_the_nodes)
{
	struct limpet_config cfg;
	struct model m, copy;
	char err[CONFIG_ERR_MAX];

	cr_assert_eq(load_text(CLUSTER_HEAD
			       "cluster:\n  node: n1\n  nodes:\n"
			       "    - {name: n1, address: 10.30.0.11}\n"
			       "    - {name: n2, address: 10.30.0.12}\n" CLUSTER_SVC,
			       &cfg, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(model_from_config(&m, &cfg), 0);
	cr_expect_null(cfg.cluster.nodes, "the configuration keeps no nodes once modelled");
	config_free(&cfg);
	cr_assert_eq(model_copy(&copy, &m), 0);
	cr_assert_neq(copy.conf.cluster.nodes, m.conf.cluster.nodes);
	model_free(&m);
	cr_assert_eq(copy.conf.cluster.n_nodes, 2);
	cr_expect_str_eq(copy.conf.cluster.nodes[1].name, "n2");
	cr_expect(model_vip_ready(&copy.services[0]));
	copy.services[0].backends[0].down = true;
	cr_expect_not(model_vip_ready(&copy.services[0]), "its one backend is down");
	copy.services[0].backends[0].down = false;
	copy.services[0].backends[0].conf.weight = 0;
	cr_expect_not(model_vip_ready(&copy.services[0]), "its one backend has weight 0");
	model_free(&copy);
}
