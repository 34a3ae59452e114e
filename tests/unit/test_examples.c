/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_examples.c - Criterion tests that keep the example configurations in
 * examples/ loadable.
 *
 * Each example is loaded with config_load() as shipped, then again with its
 * commented-out service enabled: a line "  #- ..." or "  #  ..." is YAML
 * with its '#' in front, so removing that '#' is exactly what an operator
 * does to uncomment it. Tests run from the repository root.
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

#define EXAMPLES "examples/"

static void load(const char *path, struct limpet_config *cfg)
{
	char err[CONFIG_ERR_MAX];
	int ret;

	ret = config_load(path, cfg, err, sizeof(err));
	cr_assert_eq(ret, 0, "%s: config_load returned %d: %s", path, ret, err);
}

/* A commented-out YAML line: "  #- key: ..." or "  #  key: ...". */
static bool is_commented_yaml(const char *line)
{
	return !strncmp(line, "  #- ", 5) || !strncmp(line, "  #  ", 5);
}

/*
 * Load <path> with its commented-out YAML enabled, through a temporary copy.
 * Returns how many lines were uncommented.
 */
static int load_uncommented(const char *path, struct limpet_config *cfg)
{
	char tmp[] = "/tmp/limpet-example-XXXXXX", line[512];
	FILE *in, *out;
	int fd, n = 0;

	in = fopen(path, "r");
	cr_assert_not_null(in, "%s: %s", path, strerror(errno));
	fd = mkstemp(tmp);
	cr_assert_geq(fd, 0, "mkstemp: %s", strerror(errno));
	out = fdopen(fd, "w");
	cr_assert_not_null(out);
	while (fgets(line, sizeof(line), in)) {
		cr_assert_not_null(strchr(line, '\n'), "%s: line too long", path);
		if (is_commented_yaml(line)) {
			fprintf(out, "  %s", line + 3);
			n++;
		} else {
			fputs(line, out);
		}
	}
	fclose(in);
	cr_assert_eq(fclose(out), 0);
	load(tmp, cfg);
	unlink(tmp);
	return n;
}

static void assert_ip(const struct ip_address *ip, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	cr_assert_eq(format_ip_address(ip, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, want);
}

static void assert_backend(const struct backend_config *b, const char *name, const char *addr,
			   __u16 port, __u32 weight)
{
	cr_expect_str_eq(b->name, name);
	assert_ip(&b->address, addr);
	cr_expect_eq(b->port, port, "backend %s: port %u, want %u", name, b->port, port);
	cr_expect_eq(b->weight, weight, "backend %s: weight %u, want %u", name, b->weight,
		     weight);
}

/* The services scripts/lab.sh writes: web (IPv4) and web6, b1..b3 each. */
static void assert_lab_web(const struct service_config *s, const char *name, const char *vip,
			   const char *const addrs[3])
{
	size_t i;
	char bname[8];

	cr_expect_str_eq(s->name, name);
	assert_ip(&s->vip, vip);
	cr_expect_eq(s->port, 80);
	cr_expect_eq(s->protocol, IPPROTO_TCP);
	cr_expect_eq(s->mode, SERVICE_MODE_L4);
	cr_expect_eq(s->forwarding, LIMPET_FWD_NAT);
	cr_expect_eq(s->affinity.type, LIMPET_AFFINITY_CLIENT_IP);
	cr_expect_eq(s->health.type, HEALTH_NONE);
	cr_assert_eq(s->n_backends, 3);
	for (i = 0; i < 3; i++) {
		snprintf(bname, sizeof(bname), "b%zu", i + 1);
		assert_backend(&s->backends[i], bname, addrs[i], 80, 1);
	}
}

Test(examples, lab)
{
	static const char *const v4[3] = { "10.20.0.11", "10.20.0.12", "10.20.0.13" };
	static const char *const v6[3] = { "fd00:20::11", "fd00:20::12", "fd00:20::13" };
	struct limpet_config cfg;

	load(EXAMPLES "lab.yaml", &cfg);
	cr_expect_str_eq(cfg.instance, "lab");
	cr_expect_str_eq(cfg.secret_file, "/tmp/limpet-lab/secret");
	cr_assert_eq(cfg.n_interfaces, 2);
	cr_expect_str_eq(cfg.interfaces[0].name, "lb-cli");
	cr_expect_str_eq(cfg.interfaces[1].name, "lb-srv");
	cr_expect_eq(cfg.interfaces[0].xdp_mode, XDP_MODE_CFG_NATIVE);
	cr_expect_eq(cfg.interfaces[1].xdp_mode, XDP_MODE_CFG_NATIVE);
	cr_expect_not(cfg.metrics.enabled);
	cr_assert_eq(cfg.n_services, 2);
	assert_lab_web(&cfg.services[0], "web", "10.100.0.100", v4);
	assert_lab_web(&cfg.services[1], "web6", "fd00:100::100", v6);
	cr_expect_eq(cfg.services[1].vip.family, LIMPET_FAMILY_V6);
	config_free(&cfg);
}

Test(examples, lab_with_udp)
{
	struct limpet_config cfg;
	struct service_config *s;

	cr_assert_gt(load_uncommented(EXAMPLES "lab.yaml", &cfg), 0);
	cr_assert_eq(cfg.n_services, 3);
	s = &cfg.services[2];
	cr_expect_str_eq(s->name, "dns");
	assert_ip(&s->vip, "10.100.0.100");
	cr_expect_eq(s->port, 5353);
	cr_expect_eq(s->protocol, IPPROTO_UDP);
	cr_assert_eq(s->n_backends, 3);
	assert_backend(&s->backends[2], "b3", "10.20.0.13", 5353, 1);
	config_free(&cfg);
}

Test(examples, real_nic)
{
	struct limpet_config cfg;
	struct service_config *s;

	load(EXAMPLES "real-nic.yaml", &cfg);
	cr_expect_str_eq(cfg.instance, "limpet");
	cr_assert_eq(cfg.n_interfaces, 1);
	cr_expect_str_eq(cfg.interfaces[0].name, "eth0");
	cr_expect_eq(cfg.interfaces[0].xdp_mode, XDP_MODE_CFG_NATIVE);
	cr_expect_str_eq(cfg.secret_file, "/etc/limpet/secret");
	cr_expect(cfg.metrics.enabled);
	cr_expect_str_eq(cfg.metrics.listen, "127.0.0.1:9100");
	cr_expect_eq(cfg.flow_table_size, 1048576);
	cr_assert_eq(cfg.n_services, 2);

	s = &cfg.services[0];
	cr_expect_str_eq(s->name, "web");
	assert_ip(&s->vip, "203.0.113.80");
	cr_expect_eq(s->port, 80);
	cr_expect_eq(s->protocol, IPPROTO_TCP);
	cr_expect_eq(s->mode, SERVICE_MODE_L4);
	cr_expect_eq(s->forwarding, LIMPET_FWD_NAT);
	cr_expect_eq(s->affinity.type, LIMPET_AFFINITY_CLIENT_IP);
	cr_expect_eq(s->failover, FAILOVER_TEMPORARY);
	cr_expect_eq(s->drain_timeout_ms, 5ULL * 60 * 1000);
	cr_expect_eq(s->ring_size, 65537);
	cr_expect_eq(s->health.type, HEALTH_TCP);
	cr_expect_eq(s->health.interval_ms, 2000);
	cr_expect_eq(s->health.timeout_ms, 1000);
	cr_expect_eq(s->health.rise, 2);
	cr_expect_eq(s->health.fall, 3);
	cr_assert_eq(s->n_backends, 3);
	assert_backend(&s->backends[0], "web1", "10.0.0.11", 8080, 1);
	assert_backend(&s->backends[1], "web2", "10.0.0.12", 8080, 1);
	assert_backend(&s->backends[2], "web3", "10.0.0.13", 8080, 2);

	s = &cfg.services[1];
	cr_expect_str_eq(s->name, "dns");
	assert_ip(&s->vip, "203.0.113.53");
	cr_expect_eq(s->port, 53);
	cr_expect_eq(s->protocol, IPPROTO_UDP);
	cr_expect_eq(s->affinity.type, LIMPET_AFFINITY_NONE);
	cr_assert_eq(s->n_backends, 2);
	assert_backend(&s->backends[0], "ns1", "10.0.0.21", 53, 1);
	assert_backend(&s->backends[1], "ns2", "10.0.0.22", 53, 1);
	config_free(&cfg);
}

Test(examples, real_nic_with_dsr)
{
	struct limpet_config cfg;
	struct service_config *s;

	cr_assert_gt(load_uncommented(EXAMPLES "real-nic.yaml", &cfg), 0);
	cr_assert_eq(cfg.n_services, 3);
	s = &cfg.services[2];
	cr_expect_str_eq(s->name, "tls");
	assert_ip(&s->vip, "203.0.113.44");
	cr_expect_eq(s->port, 443);
	cr_expect_eq(s->forwarding, LIMPET_FWD_DSR);
	cr_expect_eq(s->affinity.type, LIMPET_AFFINITY_CLIENT_IP);
	cr_assert_eq(s->n_backends, 2);
	assert_backend(&s->backends[0], "tls1", "10.0.0.31", 443, 1);
	assert_backend(&s->backends[1], "tls2", "10.0.0.32", 443, 1);
	config_free(&cfg);
}

Test(examples, cluster)
{
	struct limpet_config cfg;

	load(EXAMPLES "cluster.yaml", &cfg);
	cr_expect(cfg.cluster.enabled);
	cr_expect_str_eq(cfg.cluster.node, "n1");
	cr_expect_str_eq(cfg.cluster.announce_interface, "lo");
	cr_assert_eq(cfg.cluster.n_nodes, 2);
	cr_expect_str_eq(cfg.cluster.nodes[1].name, "n2");
	cr_assert_eq(cfg.n_services, 1);
	cr_expect_eq(cfg.services[0].affinity.type, LIMPET_AFFINITY_COOKIE);
	config_free(&cfg);
}
