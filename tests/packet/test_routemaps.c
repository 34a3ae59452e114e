/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_routemaps.c - the HTTP routing state dp_program() writes
 * (include/limpet_maps.h: backend_value's route fields, backend_tags,
 * http_services, placements), read back from the kernel's maps after the
 * product programmed them from a configuration, and again after health,
 * drain and configuration changes: what XDP will route by is what the
 * controller's model says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <criterion/criterion.h>

#include "dp/dataplane.h"
#include "dp/maps.h"
#include "dp/placement.h"
#include "dp/route.h"
#include "limpet_hash.h"
#include "limpet_route.h"
#include "packet/harness.h"
#include "packet/product.h"

#define FLOW_ENTRIES 1024

static const char *const yaml_full =
	"instance: pkt-routemaps\ninterfaces:\n  - name: pkc0\nservices:\n"
	"  - name: web\n    vip: 10.100.9.1\n    port: 80\n    mode: http\n"
	"    affinity: {type: cookie, cookie: {name: lb, ttl: 3600s}, policy: rebalance}\n"
	"    failover: sticky\n    health: {type: none}\n"
	"    http: {connect_timeout: 1500ms, backend_header: X-Backend}\n"
	"    backends:\n"
	"      - {name: a, address: 10.100.9.11, port: 8080}\n"
	"      - {name: b, address: 10.100.9.12, port: 8080, weight: 2}\n"
	"      - {name: c, address: 10.100.9.13, port: 8080, weight: 0}\n"
	"  - name: hdr\n    vip: 10.100.9.2\n    port: 80\n    mode: http\n"
	"    affinity: {type: header, headers: [X-Session-Id], idle_ttl: 90s, fallback: none}\n"
	"    failover: none\n    health: {type: none}\n"
	"    backends:\n"
	"      - {name: x, address: 10.100.9.21, port: 8080}\n"
	"      - {name: y, address: 10.100.9.22, port: 8080}\n"
	"  - name: plain\n    vip: 10.100.9.3\n    port: 80\n    mode: http\n"
	"    affinity: {type: none}\n    health: {type: none}\n"
	"    backends:\n"
	"      - {name: p, address: 10.100.9.31, port: 8080}\n"
	"  - name: l4\n    vip: 10.100.9.4\n    port: 80\n"
	"    affinity: {type: client_ip}\n    health: {type: none}\n"
	"    backends:\n"
	"      - {name: q, address: 10.100.9.41, port: 8080}\n";

/* web without b, hdr gone, plain now with client_ip affinity. */
static const char *const yaml_less =
	"instance: pkt-routemaps\ninterfaces:\n  - name: pkc0\nservices:\n"
	"  - name: web\n    vip: 10.100.9.1\n    port: 80\n    mode: http\n"
	"    affinity: {type: cookie, cookie: {name: lb, ttl: 3600s}, policy: rebalance}\n"
	"    failover: sticky\n    health: {type: none}\n"
	"    http: {connect_timeout: 1500ms, backend_header: X-Backend}\n"
	"    backends:\n"
	"      - {name: a, address: 10.100.9.11, port: 8080}\n"
	"      - {name: c, address: 10.100.9.13, port: 8080, weight: 0}\n"
	"  - name: plain\n    vip: 10.100.9.3\n    port: 80\n    mode: http\n"
	"    affinity: {type: client_ip}\n    health: {type: none}\n"
	"    backends:\n"
	"      - {name: p, address: 10.100.9.31, port: 8080}\n"
	"  - name: l4\n    vip: 10.100.9.4\n    port: 80\n"
	"    affinity: {type: client_ip}\n    health: {type: none}\n"
	"    backends:\n"
	"      - {name: q, address: 10.100.9.41, port: 8080}\n";

static struct dataplane *dp;

static void setup(void)
{
	dp = pkt_load(FLOW_ENTRIES, NULL);
}

static void teardown(void)
{
	dp_close(dp);
}

static __u32 svc_id(const struct model *m, const char *name)
{
	const struct service *svc = model_find_service(m, name);

	cr_assert_not_null(svc, "service %s", name);
	return svc->id;
}

static const struct backend *backend_of(const struct model *m, const char *svc,
					const char *name)
{
	const struct backend *be = model_find_backend(model_find_service(m, svc), name);

	cr_assert_not_null(be, "backend %s/%s", svc, name);
	return be;
}

static void expect_backend(const struct model *m, const char *svc, const char *name,
			   __u8 route_state, __u32 weight)
{
	const struct backend *be = backend_of(m, svc, name);
	struct backend_value v;

	cr_assert_eq(dp_get_backend(dp, be->id, &v), 0);
	cr_expect_eq(v.state, LIMPET_BACKEND_ACTIVE);
	cr_expect_eq(v.route_state, route_state, "%s/%s route_state %u, want %u", svc, name,
		     v.route_state, route_state);
	cr_expect_eq(v.weight, weight, "%s/%s weight %u, want %u", svc, name, v.weight, weight);
	cr_expect_eq(v.tag, limpet_name_tag(name), "%s/%s tag", svc, name);
}

/* backend_tags[(svc, tag(name))]: the backend's id, or -ENOENT. */
static long tag_lookup(const struct model *m, const char *svc, __u32 service_id,
		       const char *name)
{
	struct backend_tag_key key = { .service_id = service_id, .tag = limpet_name_tag(name) };
	__u32 id;

	(void)m;
	if (dp_get_backend_tag(dp, &key, &id))
		return -ENOENT;
	return id;
}

static struct http_service_value http_service(__u32 id)
{
	struct http_service_value v;

	cr_assert_eq(dp_get_http_service(dp, id, &v), 0);
	return v;
}

/* The kernel's placement table of <service_id> into <table>; false when none. */
static bool placement_in_kernel(__u32 service_id, __u32 *table)
{
	int ret = dp_read_placement(dp, service_id, table);

	cr_assert(!ret || ret == -ENOENT, "dp_read_placement: %d", ret);
	return !ret;
}

/* The kernel's table is the controller's copy and what placement_build() makes. */
static void expect_placement(const struct model *m, const char *svc_name, __u32 *table)
{
	const struct service *svc = model_find_service(m, svc_name);
	struct placement_backend in[8];
	__u32 want[LIMPET_PLACEMENT_SLOTS];
	size_t j;

	cr_assert_lt(svc->n_backends, 8);
	for (j = 0; j < svc->n_backends; j++) {
		struct backend_value v;

		cr_assert_eq(dp_get_backend(dp, svc->backends[j].id, &v), 0);
		in[j].id = svc->backends[j].id;
		in[j].tag = v.tag;
		in[j].weight = v.weight;
	}
	placement_build(in, svc->n_backends, want);
	cr_assert(placement_in_kernel(svc->id, table), "%s has no placement table", svc_name);
	cr_assert_arr_eq(table, want, sizeof(want), "%s: kernel table is not the HRW table",
			 svc_name);
	cr_assert_not_null(dp_placement(dp, svc->id));
	cr_assert_arr_eq(dp_placement(dp, svc->id), want, sizeof(want));
}

static size_t slots_of(const __u32 *table, __u32 id)
{
	size_t n = 0, slot;

	for (slot = 0; slot < LIMPET_PLACEMENT_SLOTS; slot++)
		n += table[slot] == id;
	return n;
}

Test(routemaps, written_from_the_model, .init = setup, .fini = teardown)
{
	static __u32 web[LIMPET_PLACEMENT_SLOTS], web2[LIMPET_PLACEMENT_SLOTS],
		hdr[LIMPET_PLACEMENT_SLOTS], none[LIMPET_PLACEMENT_SLOTS];
	struct model m, m2;
	struct http_service_value hv;
	struct backend *a;
	__u32 web_id, hdr_id, plain_id, l4_id, a_id, slot;

	product_model(yaml_full, &m);
	product_program(dp, &m);
	web_id = svc_id(&m, "web");
	hdr_id = svc_id(&m, "hdr");
	plain_id = svc_id(&m, "plain");
	l4_id = svc_id(&m, "l4");

	/* backends: route state, weight for new sessions, tag */
	expect_backend(&m, "web", "a", LIMPET_BE_UP, 1);
	expect_backend(&m, "web", "b", LIMPET_BE_UP, 2);
	expect_backend(&m, "web", "c", LIMPET_BE_DRAINING, 0);	/* weight 0 */
	expect_backend(&m, "hdr", "x", LIMPET_BE_UP, 1);
	expect_backend(&m, "l4", "q", LIMPET_BE_UP, 1);

	/* backend_tags: every backend of the cookie service, nothing else */
	cr_expect_eq(tag_lookup(&m, "web", web_id, "a"), backend_of(&m, "web", "a")->id);
	cr_expect_eq(tag_lookup(&m, "web", web_id, "b"), backend_of(&m, "web", "b")->id);
	cr_expect_eq(tag_lookup(&m, "web", web_id, "c"), backend_of(&m, "web", "c")->id);
	cr_expect_eq(tag_lookup(&m, "hdr", hdr_id, "x"), -ENOENT);
	cr_expect_eq(tag_lookup(&m, "web", hdr_id, "a"), -ENOENT);

	/* http_services: every HTTP service, affinity none too; zero for L4 */
	hv = http_service(web_id);
	cr_expect_eq(hv.affinity, LIMPET_AFFINITY_COOKIE);
	cr_expect_eq(hv.policy, LIMPET_POLICY_REBALANCE);
	cr_expect_eq(hv.failover, LIMPET_FAILOVER_STICKY);
	cr_expect_eq(hv.flags, LIMPET_HTTP_INSERTS);
	cr_expect_eq(hv.cookie_ttl_s, 3600);
	cr_expect_eq(hv.connect_timeout_ms, 1500);
	hv = http_service(hdr_id);
	cr_expect_eq(hv.affinity, LIMPET_AFFINITY_HEADER);
	cr_expect_eq(hv.fallback, LIMPET_FALLBACK_NONE);
	cr_expect_eq(hv.failover, LIMPET_FAILOVER_NONE);
	cr_expect_eq(hv.flags, 0);
	cr_expect_eq(hv.idle_ttl_s, 90);
	hv = http_service(plain_id);
	cr_expect_eq(hv.affinity, LIMPET_AFFINITY_NONE);
	cr_expect_gt(hv.connect_timeout_ms, 0, "affinity none is an HTTP service too");
	hv = http_service(l4_id);
	cr_expect_eq(hv.connect_timeout_ms, 0);
	cr_expect_eq(hv.affinity, 0);

	/* placements: the session services only, weights respected */
	expect_placement(&m, "web", web);
	expect_placement(&m, "hdr", hdr);
	cr_expect_not(placement_in_kernel(plain_id, none));
	cr_expect_not(placement_in_kernel(l4_id, none));
	cr_expect_eq(slots_of(web, backend_of(&m, "web", "c")->id), 0);
	cr_expect_gt(slots_of(web, backend_of(&m, "web", "b")->id),
		     slots_of(web, backend_of(&m, "web", "a")->id) * 3 / 2, "weight 2 vs 1");

	/* Health: a down (failover sticky) takes no new sessions; only its slots move. */
	a = model_find_backend(model_find_service(&m, "web"), "a");
	a_id = a->id;
	a->down = true;
	product_program(dp, &m);
	expect_backend(&m, "web", "a", LIMPET_BE_DOWN, 0);
	expect_placement(&m, "web", web2);
	cr_expect_eq(slots_of(web2, a_id), 0);
	for (slot = 0; slot < LIMPET_PLACEMENT_SLOTS; slot++)
		if (web[slot] != a_id)
			cr_assert_eq(web2[slot], web[slot], "slot %u moved off an up backend", slot);
	cr_expect_eq(tag_lookup(&m, "web", web_id, "a"), a_id, "a down backend keeps its tag");
	/* Drain: route state draining. */
	a->down = false;
	a->draining = true;
	product_program(dp, &m);
	expect_backend(&m, "web", "a", LIMPET_BE_DRAINING, 0);
	a->draining = false;
	product_program(dp, &m);
	expect_placement(&m, "web", web2);
	cr_assert_arr_eq(web2, web, sizeof(web), "back up: the same table as before");

	/* Configuration: b removed, hdr gone, plain gains client_ip affinity. */
	product_model(yaml_less, &m2);
	product_program(dp, &m2);
	cr_expect_eq(svc_id(&m2, "web"), web_id);
	cr_expect_eq(tag_lookup(&m2, "web", web_id, "b"), -ENOENT);
	cr_expect_eq(tag_lookup(&m2, "web", web_id, "a"), a_id);
	hv = http_service(hdr_id);
	cr_expect_eq(hv.affinity, 0);
	cr_expect_eq(hv.connect_timeout_ms, 0, "a removed service's entry is zero");
	cr_expect_not(placement_in_kernel(hdr_id, none));
	cr_expect_null(dp_placement(dp, hdr_id));
	expect_placement(&m2, "web", web2);
	for (slot = 0; slot < LIMPET_PLACEMENT_SLOTS; slot++)
		if (web[slot] == a_id)
			cr_assert_eq(web2[slot], a_id, "slot %u left a when b went", slot);
	expect_placement(&m2, "plain", none);
	cr_expect_eq(http_service(plain_id).affinity, LIMPET_AFFINITY_CLIENT_IP);
	model_free(&m2);
	model_free(&m);
}

/* A restarted controller (a fresh dataplane on the pinned maps is the same
 * as a fresh commit on maps it did not write): the first commit reads what
 * is there and leaves equal entries, and removes the ones its model lacks.
 */
Test(routemaps, first_commit_adopts_what_is_there, .init = setup, .fini = teardown)
{
	static __u32 web[LIMPET_PLACEMENT_SLOTS], none[LIMPET_PLACEMENT_SLOTS];
	struct model m, m2;
	__u32 hdr_id, web_id;

	product_model(yaml_full, &m);
	product_program(dp, &m);
	hdr_id = svc_id(&m, "hdr");
	web_id = svc_id(&m, "web");
	/* As a restart: what was programmed is forgotten, the maps stay. */
	dp_forget_programmed(dp);
	product_model(yaml_less, &m2);
	product_program(dp, &m2);
	cr_expect_not(placement_in_kernel(hdr_id, none), "a restart's stale table removed");
	cr_expect_eq(http_service(hdr_id).connect_timeout_ms, 0);
	cr_expect_eq(tag_lookup(&m2, "web", web_id, "b"), -ENOENT, "a restart's stale tag removed");
	expect_placement(&m2, "web", web);
	model_free(&m2);
	model_free(&m);
}
