/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_rings.c - Maglev tables planned ahead (dp_plan_rings(), made by
 * `limpet run` while the program loads, before the backends have ids) are
 * the tables dp_program() builds itself: the same backend in every slot
 * of what was swapped in (dp_ring()), with ids that differ from the
 * backends' places in the configuration. A plan made from other weights is
 * not taken.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "dp/dataplane.h"
#include "dp/maglev.h"
#include "packet/product.h"

#define FLOW_ENTRIES 1024

/* Three services with tables (weights 0-3), one without (every weight 0). */
static const char *const yaml_rings =
	"instance: pkt-rings\ninterfaces:\n  - name: pkr0\nservices:\n"
	"  - name: mixed\n    vip: 10.100.12.1\n    port: 80\n    ring_size: 251\n"
	"    health: {type: none}\n    backends:\n"
	"      - {name: m1, address: 10.100.12.11, port: 8080, weight: 1}\n"
	"      - {name: m2, address: 10.100.12.12, port: 8080, weight: 2}\n"
	"      - {name: m3, address: 10.100.12.13, port: 8080, weight: 0}\n"
	"      - {name: m4, address: 10.100.12.14, port: 8080, weight: 3}\n"
	"      - {name: m5, address: 10.100.12.15, port: 8080, weight: 1}\n"
	"  - name: idle\n    vip: 10.100.12.2\n    port: 80\n    ring_size: 251\n"
	"    health: {type: none}\n    backends:\n"
	"      - {name: i1, address: 10.100.12.21, port: 8080, weight: 0}\n"
	"  - name: single\n    vip: 10.100.12.3\n    port: 80\n    ring_size: 251\n"
	"    health: {type: none}\n    backends:\n"
	"      - {name: s1, address: 10.100.12.31, port: 8080}\n"
	"  - name: wide\n    vip: 10.100.12.4\n    port: 80\n    ring_size: 1009\n"
	"    health: {type: none}\n    backends:\n"
	"      - {name: w9, address: 10.100.12.49, port: 8080}\n"
	"      - {name: w1, address: 10.100.12.41, port: 8080}\n"
	"      - {name: w8, address: 10.100.12.48, port: 8080}\n"
	"      - {name: w2, address: 10.100.12.42, port: 8080, weight: 2}\n"
	"      - {name: w7, address: 10.100.12.47, port: 8080}\n"
	"      - {name: w3, address: 10.100.12.43, port: 8080}\n";

/* Programmed first into the planned data plane: later ids are not places. */
static const char *const yaml_before =
	"instance: pkt-rings\ninterfaces:\n  - name: pkr0\nservices:\n"
	"  - name: other\n    vip: 10.100.12.9\n    port: 80\n    ring_size: 251\n"
	"    health: {type: none}\n    backends:\n"
	"      - {name: o1, address: 10.100.12.91, port: 8080}\n"
	"      - {name: o2, address: 10.100.12.92, port: 8080}\n"
	"      - {name: o3, address: 10.100.12.93, port: 8080}\n"
	"  - name: wide\n    vip: 10.100.12.4\n    port: 80\n    ring_size: 1009\n"
	"    health: {type: none}\n    backends:\n"
	"      - {name: w3, address: 10.100.12.43, port: 8080}\n";

static struct dataplane *loaded(void)
{
	struct dataplane *dp;
	int err = dp_open(&dp, NULL, FLOW_ENTRIES);

	cr_assert_eq(err, 0, "dp_open: %s", strerror(-err));
	err = dp_load(dp);
	cr_assert_eq(err, 0, "dp_load: %s", strerror(-err));
	return dp;
}

/* The name of the backend of <svc> that <id> is, "" for MAGLEV_EMPTY. */
static const char *name_of(const struct service *svc, __u32 id)
{
	size_t j;

	if (id == MAGLEV_EMPTY)
		return "";
	for (j = 0; j < svc->n_backends; j++)
		if (svc->backends[j].id == id)
			return svc->backends[j].conf.name;
	cr_assert_fail("service %s: id %u is none of its backends", svc->conf.name, id);
	return NULL;
}

/* Slot by slot, the same backends (by name) in the tables swapped in. */
static void expect_same_tables(struct dataplane *dp_a, const struct model *a,
			       struct dataplane *dp_b, const struct model *b)
{
	size_t i;
	__u32 k;

	cr_assert_eq(a->n_services, b->n_services);
	for (i = 0; i < a->n_services; i++) {
		const struct service *sa = &a->services[i], *sb = &b->services[i];
		__u32 size_a = 0, size_b = 0;
		const __u32 *ta = dp_ring(dp_a, sa->id, &size_a);
		const __u32 *tb = dp_ring(dp_b, sb->id, &size_b);

		cr_assert_eq(!ta, !tb, "service %s: a table on one side only", sa->conf.name);
		if (!ta)
			continue;
		cr_assert_eq(size_a, size_b, "service %s", sa->conf.name);
		for (k = 0; k < size_a; k++)
			cr_assert_str_eq(name_of(sa, ta[k]), name_of(sb, tb[k]),
					 "service %s slot %u", sa->conf.name, k);
	}
}

Test(rings, planned_tables_are_the_built_ones)
{
	struct dataplane *built = loaded(), *planned = loaded();
	struct model a, b, before;
	struct dp_ring_plan *plan;
	char err[CONFIG_ERR_MAX];
	bool ids_moved = false;
	size_t i, j;

	product_model(yaml_rings, &a);
	product_program(built, &a);

	product_model(yaml_before, &before);
	product_program(planned, &before);
	product_model(yaml_rings, &b);
	plan = dp_plan_rings(&b);
	cr_assert_not_null(plan);
	cr_assert_eq(dp_program_planned(planned, &b, plan, err, sizeof(err)), 0,
		     "dp_program_planned: %s", err);
	cr_expect_eq(dp_ring_plan_taken(plan), 3, "mixed, single and wide taken: %zu",
		     dp_ring_plan_taken(plan));
	dp_ring_plan_free(plan);
	for (i = 0; i < b.n_services; i++)
		for (j = 0; j < b.services[i].n_backends; j++)
			ids_moved |= b.services[i].backends[j].id != a.services[i].backends[j].id;
	cr_assert(ids_moved, "the planned side must have other ids than the built one");
	expect_same_tables(built, &a, planned, &b);

	model_free(&a);
	model_free(&b);
	model_free(&before);
	dp_close(built);
	dp_close(planned);
}

Test(rings, plan_of_other_weights_is_not_taken)
{
	struct dataplane *built = loaded(), *planned = loaded();
	struct dp_ring_plan *plan;
	char err[CONFIG_ERR_MAX];
	struct model a, b;

	product_model(yaml_rings, &a);
	product_model(yaml_rings, &b);
	plan = dp_plan_rings(&b);
	cr_assert_not_null(plan);
	/* After the plan, m4 of mixed goes down: its table has to be built anew. */
	a.services[0].backends[3].down = true;
	b.services[0].backends[3].down = true;
	product_program(built, &a);
	cr_assert_eq(dp_program_planned(planned, &b, plan, err, sizeof(err)), 0,
		     "dp_program_planned: %s", err);
	cr_expect_eq(dp_ring_plan_taken(plan), 2, "single and wide taken: %zu",
		     dp_ring_plan_taken(plan));
	dp_ring_plan_free(plan);
	expect_same_tables(built, &a, planned, &b);

	model_free(&a);
	model_free(&b);
	dp_close(built);
	dp_close(planned);
}
