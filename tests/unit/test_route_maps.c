/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_route_maps.c - the routing decision the data plane can make from
 * the maps equals the controller's. The controller fills limpet_route_in
 * from the configuration and the model (affinity_route_settings(),
 * model_route_state()); the data plane from the service's http_services
 * entry (dp_http_service_of()) and the backends entries of the cookie's
 * and the session's backends (dp_backend_route_fields(),
 * limpet_route_state_of()). For every service setting (4 affinities x 2
 * fallbacks x 2 policies x 3 failover modes), every cookie outcome, key or
 * none, and every state of the token's and the entry's backend (weight
 * 1 or 0, up or down, draining or not, none at all, a backend of another
 * service), with the service panicking or not, both routes must agree,
 * retries included.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "dp/program.h"
#include "dp/route.h"
#include "http/affinity.h"
#include "limpet_route.h"
#include "model/model.h"

enum { BE_NONE = 8, BE_OTHER_SERVICE = 9, BE_KINDS = 10 };

#define SERVICE_ID 7

/* Backend kind 0..7: bit 0 weight 0, bit 1 down, bit 2 draining. */
static void make_backend(struct backend *be, int kind, const char *name)
{
	memset(be, 0, sizeof(*be));
	snprintf(be->conf.name, sizeof(be->conf.name), "%s", name);
	be->conf.weight = kind & 1 ? 0 : 1;
	be->down = kind & 2;
	be->draining = kind & 4;
}

/* The backends entry dp_program() writes for <be> (NULL for none). */
static const struct backend_value *entry_of(const struct service *svc, const struct backend *be,
					    int kind, struct backend_value *val)
{
	if (kind == BE_NONE)
		return NULL;
	memset(val, 0, sizeof(*val));
	val->state = LIMPET_BACKEND_ACTIVE;
	val->service_id = kind == BE_OTHER_SERVICE ? SERVICE_ID + 1 : svc->id;
	dp_backend_route_fields(svc, be, model_panics(svc), val);
	return val;
}

/* The controller's state of a backend: its model's, UNKNOWN when it is not one of the service's. */
static __u8 model_state_of(const struct backend *be, int kind)
{
	return kind >= BE_NONE ? LIMPET_BE_UNKNOWN : model_route_state(be);
}

static void expect_same(const struct limpet_route_in *user, const struct limpet_route_in *maps,
			const char *what)
{
	struct limpet_route_out a, b;

	cr_assert_eq(memcmp(user, maps, sizeof(*user)), 0,
		     "%s: inputs differ: user %u/%u/%u/%u out %u tok %u key %u ent %u, "
		     "maps %u/%u/%u/%u out %u tok %u key %u ent %u", what, user->affinity,
		     user->fallback, user->policy, user->failover, user->outcome,
		     user->token_state, user->has_key, user->entry_state, maps->affinity,
		     maps->fallback, maps->policy, maps->failover, maps->outcome,
		     maps->token_state, maps->has_key, maps->entry_state);
	limpet_route(user, &a);
	limpet_route(maps, &b);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0, "%s: decisions differ", what);
}

Test(route_maps, map_fed_equals_controller_for_every_combination)
{
	static const enum limpet_affinity affinities[] = {
		LIMPET_AFFINITY_NONE, LIMPET_AFFINITY_CLIENT_IP, LIMPET_AFFINITY_COOKIE,
		LIMPET_AFFINITY_HEADER,
	};
	struct backend backends[3];
	struct service svc;
	size_t ai;
	int fb, pol, fo, tok, ent, extra, outcome, key, retry;
	unsigned long combos = 0;

	memset(&svc, 0, sizeof(svc));
	svc.id = SERVICE_ID;
	svc.conf.mode = SERVICE_MODE_HTTP;
	svc.backends = backends;
	svc.n_backends = 3;
	for (ai = 0; ai < sizeof(affinities) / sizeof(affinities[0]); ai++)
	for (fb = 0; fb < 2; fb++)
	for (pol = 0; pol < 2; pol++)
	for (fo = 0; fo < 3; fo++)
	for (tok = 0; tok < BE_KINDS; tok++)
	for (ent = 0; ent < BE_KINDS; ent++)
	for (extra = 0; extra < 2; extra++) {	/* a third backend up or down: panic or not */
		struct http_service_value hs;
		struct backend_value tv, ev;
		const struct backend_value *tmap, *emap;
		struct limpet_route_in user, maps;

		svc.conf.affinity.type = affinities[ai];
		svc.conf.affinity.fallback = (enum affinity_fallback)fb;
		svc.conf.affinity.policy = (enum affinity_policy)pol;
		svc.conf.failover = (enum failover_mode)fo;
		make_backend(&backends[0], tok % BE_NONE, "tok");
		make_backend(&backends[1], ent % BE_NONE, "ent");
		make_backend(&backends[2], extra ? 2 : 0, "extra");
		dp_http_service_of(&svc, &hs);
		tmap = entry_of(&svc, &backends[0], tok, &tv);
		emap = entry_of(&svc, &backends[1], ent, &ev);
		for (outcome = 0; outcome < LIMPET_COOKIE_OUTCOMES; outcome++)
		for (key = 0; key < 2; key++)
		for (retry = 0; retry < 4; retry++) {
			affinity_route_settings(&svc.conf, &user);
			user.outcome = (__u8)outcome;
			user.has_key = (__u8)key;
			user.token_state = model_state_of(&backends[0], tok);
			user.entry_state = model_state_of(&backends[1], ent);
			limpet_route_in_of(&hs, &maps);
			maps.outcome = (__u8)outcome;
			maps.has_key = (__u8)key;
			maps.token_state = limpet_route_state_of(tmap, SERVICE_ID);
			maps.entry_state = limpet_route_state_of(emap, SERVICE_ID);
			/* A retry after the token's or the entry's backend failed. */
			limpet_route_refused(&user, retry & 1, retry >> 1);
			limpet_route_refused(&maps, retry & 1, retry >> 1);
			expect_same(&user, &maps, config_affinity_name(affinities[ai]));
			combos++;
		}
	}
	cr_assert_gt(combos, 100000, "%lu combinations", combos);
}

/* The weight a backend entry carries is what the controller's model gives new sessions. */
Test(route_maps, entry_weight_is_the_new_session_weight)
{
	struct backend backends[2];
	struct service svc;
	int k0, k1, j;

	memset(&svc, 0, sizeof(svc));
	svc.id = SERVICE_ID;
	svc.conf.mode = SERVICE_MODE_HTTP;
	svc.backends = backends;
	svc.n_backends = 2;
	for (k0 = 0; k0 < 8; k0++)
		for (k1 = 0; k1 < 8; k1++) {
			make_backend(&backends[0], k0, "a");
			make_backend(&backends[1], k1, "b");
			for (j = 0; j < 2; j++) {
				struct backend_value v = { 0 };
				bool panic = model_panics(&svc);

				dp_backend_route_fields(&svc, &backends[j], panic, &v);
				cr_assert_eq(v.weight, model_new_flow_weight(&svc, &backends[j], panic));
				cr_assert_eq(v.route_state, model_route_state(&backends[j]));
				cr_assert_eq(v.tag, affinity_tag(backends[j].conf.name));
			}
		}
}
