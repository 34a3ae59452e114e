// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_config.c - libFuzzer target of the configuration loader
 * (config_load_buffer() in user/config.c, the body of config_load()).
 *
 * The input is the YAML text. A success must give a configuration that
 * holds its own invariants: every name non-empty and unique where the
 * data plane keys by it, ports non-zero, counts within the limits of
 * include/limpet_limits.h, every enum one of its values, a prime ring.
 * A failure must give one line that names the file, and no configuration
 * to free. LeakSanitizer checks that neither path leaks.
 */
#include <errno.h>
#include <string.h>
#include <netinet/in.h>

#include "model/config.h"
#include "model/model.h"
#include "fuzz.h"
#include "limpet_limits.h"

#define NAME "fuzz.yaml"

static void check_name(const char *s, size_t size, const char *what)
{
	size_t n = strnlen(s, size);

	FUZZ_CHECK(n > 0 && n < size, "%s name of %zu characters", what, n);
}

static void check_service(const struct limpet_config *cfg, const struct service_config *s)
{
	const struct affinity_config *a = &s->affinity;
	size_t i, j;

	check_name(s->name, sizeof(s->name), "service");
	FUZZ_CHECK(s->port, "service %s: port 0", s->name);
	FUZZ_CHECK(s->vip.family == LIMPET_FAMILY_V4 || s->vip.family == LIMPET_FAMILY_V6,
		   "service %s: family %u", s->name, s->vip.family);
	FUZZ_CHECK(s->protocol == IPPROTO_TCP || s->protocol == IPPROTO_UDP, "protocol %u",
		   s->protocol);
	FUZZ_CHECK(s->mode <= SERVICE_MODE_HTTP && s->forwarding <= LIMPET_FWD_DSR &&
			   a->type <= LIMPET_AFFINITY_HEADER && a->fallback <= FALLBACK_NONE &&
			   a->policy <= POLICY_REBALANCE && s->failover <= FAILOVER_STICKY &&
			   a->cookie.samesite <= SAMESITE_NONE && s->health.type <= HEALTH_NONE,
		   "service %s: an enum out of range", s->name);
	FUZZ_CHECK(a->n_headers <= CONFIG_MAX_HEADERS, "%zu headers", a->n_headers);
	for (i = 0; i < a->n_headers; i++)
		check_name(a->headers[i], sizeof(a->headers[i]), "header");
	if (a->type == LIMPET_AFFINITY_HEADER)
		FUZZ_CHECK(a->n_headers, "service %s: header affinity without headers", s->name);
	if (a->type == LIMPET_AFFINITY_COOKIE)
		check_name(a->cookie.name, sizeof(a->cookie.name), "cookie");
	if (a->type == LIMPET_AFFINITY_COOKIE || a->type == LIMPET_AFFINITY_HEADER)
		FUZZ_CHECK(s->mode == SERVICE_MODE_HTTP, "service %s: cookie/header affinity in l4",
			   s->name);
	FUZZ_CHECK(s->ring_size >= 3 && s->ring_size <= LIMPET_RING_SIZE_MAX &&
			   is_prime(s->ring_size),
		   "service %s: ring %u", s->name, s->ring_size);
	FUZZ_CHECK(s->n_backends <= LIMPET_MAX_BACKENDS, "%zu backends", s->n_backends);
	FUZZ_CHECK(!s->n_backends || s->backends, "backends missing");
	for (i = 0; i < s->n_backends; i++) {
		const struct backend_config *b = &s->backends[i];

		check_name(b->name, sizeof(b->name), "backend");
		FUZZ_CHECK(b->port, "backend %s: port 0", b->name);
		FUZZ_CHECK(b->weight <= 65535, "backend %s: weight %u", b->name, b->weight);
		FUZZ_CHECK(b->address.family == s->vip.family, "backend %s: family", b->name);
		if (s->forwarding == LIMPET_FWD_DSR)
			FUZZ_CHECK(b->port == s->port, "dsr backend %s on another port", b->name);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(b->name, s->backends[j].name), "backend %s twice", b->name);
	}
	FUZZ_CHECK(config_find_service((struct limpet_config *)cfg, s->name) == s,
		   "service %s not found by name", s->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct limpet_config cfg;
	struct model m;
	char err[CONFIG_ERR_MAX];
	size_t i, j, backends = 0;
	int ret;

	memset(err, 'x', sizeof(err));
	ret = config_load_buffer(NAME, (const char *)data, size, &cfg, err, sizeof(err));
	if (ret) {
		FUZZ_CHECK(ret < 0, "returned %d", ret);
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)), "message not terminated");
		FUZZ_CHECK(!strncmp(err, NAME ":", strlen(NAME ":")), "message \"%s\"", err);
		FUZZ_CHECK(!strchr(err, '\n'), "message of more than one line: \"%s\"", err);
		FUZZ_CHECK(!cfg.services && !cfg.interfaces && !cfg.n_services,
			   "a failed load left a configuration");
		return 0;
	}
	FUZZ_CHECK(!err[0], "success with a message \"%s\"", err);
	FUZZ_CHECK(!strcmp(cfg.path, NAME), "path \"%s\"", cfg.path);
	check_name(cfg.instance, sizeof(cfg.instance), "instance");
	FUZZ_CHECK(cfg.n_interfaces >= 1 && cfg.interfaces, "%zu interfaces", cfg.n_interfaces);
	for (i = 0; i < cfg.n_interfaces; i++) {
		check_name(cfg.interfaces[i].name, sizeof(cfg.interfaces[i].name), "interface");
		FUZZ_CHECK(cfg.interfaces[i].xdp_mode <= XDP_MODE_CFG_GENERIC, "xdp mode");
	}
	FUZZ_CHECK(cfg.n_services <= LIMPET_MAX_SERVICES, "%zu services", cfg.n_services);
	FUZZ_CHECK(cfg.flow_table_size >= 1024, "flow table %u", cfg.flow_table_size);
	for (i = 0; i < cfg.n_services; i++) {
		check_service(&cfg, &cfg.services[i]);
		backends += cfg.services[i].n_backends;
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(cfg.services[i].name, cfg.services[j].name),
				   "service %s twice", cfg.services[i].name);
	}
	FUZZ_CHECK(backends <= LIMPET_MAX_BACKENDS, "%zu backends in all", backends);

	/* The running model built from it, as `limpet run` does: every backend
	 * carried over, none with run-time state yet.
	 */
	FUZZ_CHECK(model_from_config(&m, &cfg) == 0, "no model");
	for (i = 0, j = 0; i < m.n_services; i++) {
		const struct service *svc = &m.services[i];
		size_t k;

		FUZZ_CHECK(!svc->conf.backends && !svc->id, "service %s", svc->conf.name);
		for (k = 0; k < svc->n_backends; k++, j++)
			FUZZ_CHECK(!svc->backends[k].id && !svc->backends[k].draining &&
					   !svc->backends[k].down && svc->backends[k].conf.port,
				   "backend %s: run-time state at start", svc->backends[k].conf.name);
	}
	FUZZ_CHECK(j == backends, "%zu of %zu backends in the model", j, backends);
	model_free(&m);
	config_free(&cfg);
	return 0;
}
