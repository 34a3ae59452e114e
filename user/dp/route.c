// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * route.c - program the HTTP routing state from the model (route.h).
 *
 * Each map is diffed against what this controller last wrote (read back
 * from the pinned maps once, at the first commit after a start or a
 * restart), so a health change writes the one entry it changes and
 * rebuilds only the placement tables whose backends' weights moved.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "dp/internal.h"
#include "dp/maps.h"
#include "dp/placement.h"
#include "dp/route.h"
#include "limpet_hash.h"

/* Config durations are in milliseconds, the maps' in seconds. */
#define MS_PER_S 1000

static bool has_sessions(const struct service *svc)
{
	enum limpet_affinity type = svc->conf.affinity.type;

	return svc->conf.mode == SERVICE_MODE_HTTP &&
	       (type == LIMPET_AFFINITY_COOKIE || type == LIMPET_AFFINITY_HEADER ||
		type == LIMPET_AFFINITY_CLIENT_IP);
}

void dp_http_service_of(const struct service *svc, struct http_service_value *val)
{
	const struct service_config *c = &svc->conf;

	memset(val, 0, sizeof(*val));
	if (c->mode != SERVICE_MODE_HTTP)
		return;
	val->affinity = (__u8)c->affinity.type;
	val->fallback = (__u8)c->affinity.fallback;
	val->policy = (__u8)c->affinity.policy;
	val->failover = (__u8)c->failover;
	if (c->http.backend_header[0])
		val->flags |= LIMPET_HTTP_INSERTS;
	val->idle_ttl_s = (__u32)(c->affinity.idle_ttl_ms / MS_PER_S);
	val->cookie_ttl_s = (__u32)(c->affinity.cookie.ttl_ms / MS_PER_S);
	val->connect_timeout_ms = (__u32)c->http.connect_timeout_ms;
}

/* http_services: every id's value, written where it differs from the last. */
static int program_http_services(struct dataplane *dp, const struct model *model)
{
	struct http_service_value *want = calloc(LIMPET_MAX_SERVICES, sizeof(*want));
	size_t i;
	__u32 id;
	int ret = 0;

	if (!want)
		return -ENOMEM;
	if (!dp->http_services) {
		dp->http_services = calloc(LIMPET_MAX_SERVICES, sizeof(*dp->http_services));
		ret = dp->http_services ? dp_read_http_services(dp, dp->http_services,
								 LIMPET_MAX_SERVICES) : -ENOMEM;
		if (ret) {
			free(dp->http_services);
			dp->http_services = NULL;
			free(want);
			return ret;
		}
	}
	for (i = 0; i < model->n_services; i++)
		if (model->services[i].id < LIMPET_MAX_SERVICES)
			dp_http_service_of(&model->services[i], &want[model->services[i].id]);
	for (id = 0; !ret && id < LIMPET_MAX_SERVICES; id++) {
		if (!memcmp(&want[id], &dp->http_services[id], sizeof(want[id])))
			continue;
		ret = dp_set_http_service(dp, id, &want[id]);
		if (!ret)
			dp->http_services[id] = want[id];
	}
	free(want);
	return ret;
}

static int tag_entry_cmp(const void *a, const void *b)
{
	const struct backend_tag_entry *x = a, *y = b;

	if (x->key.service_id != y->key.service_id)
		return x->key.service_id < y->key.service_id ? -1 : 1;
	return x->key.tag < y->key.tag ? -1 : x->key.tag > y->key.tag;
}

/* What backend_tags holds now, sorted: read once, then kept by each commit. */
static int read_backend_tags(struct dataplane *dp)
{
	struct backend_tag_key key, next;
	const struct backend_tag_key *prev = NULL;
	struct backend_tag_entry *all = NULL;
	size_t n = 0, cap = 0;
	int ret = 0;

	while (!dp_next_backend_tag(dp, prev, &next)) {
		if (n == cap) {
			struct backend_tag_entry *grown;

			cap = cap ? cap * 2 : 64;
			grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			all = grown;
		}
		all[n].key = next;
		if (!dp_get_backend_tag(dp, &next, &all[n].backend_id))
			n++;
		key = next;
		prev = &key;
	}
	if (ret) {
		free(all);
		return ret;
	}
	if (n)
		qsort(all, n, sizeof(*all), tag_entry_cmp);
	dp->backend_tags = all;
	dp->n_backend_tags = n;
	dp->backend_tags_known = true;
	return 0;
}

/* A wanted entry and its place in the configuration, for a stable sort. */
struct tag_want {
	struct backend_tag_entry e;
	size_t order;
};

static int tag_want_cmp(const void *a, const void *b)
{
	const struct tag_want *x = a, *y = b;
	int c = tag_entry_cmp(&x->e, &y->e);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Every (service, tag) -> backend of the cookie services of <model>, sorted. */
static struct backend_tag_entry *wanted_tags(const struct model *model, size_t *n)
{
	struct backend_tag_entry *want;
	struct tag_want *all;
	size_t i, j, total = 0, out = 0;

	for (i = 0; i < model->n_services; i++)
		total += model->services[i].n_backends;
	want = calloc(total ? total : 1, sizeof(*want));
	all = calloc(total ? total : 1, sizeof(*all));
	if (!want || !all) {
		free(want);
		free(all);
		return NULL;
	}
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];

		if (svc->conf.mode != SERVICE_MODE_HTTP ||
		    svc->conf.affinity.type != LIMPET_AFFINITY_COOKIE)
			continue;
		for (j = 0; j < svc->n_backends; j++) {
			all[out].e.key.service_id = svc->id;
			all[out].e.key.tag = limpet_name_tag(svc->backends[j].conf.name);
			all[out].e.backend_id = svc->backends[j].id;
			all[out].order = out;
			out++;
		}
	}
	if (out)
		qsort(all, out, sizeof(*all), tag_want_cmp);
	/* Of equal tags, the first backend of the configuration keeps the tag. */
	for (i = 0, j = 0; i < out; i++)
		if (!j || tag_entry_cmp(&want[j - 1], &all[i].e))
			want[j++] = all[i].e;
	free(all);
	*n = j;
	return want;
}

/* backend_tags: delete what the model no longer has, write what changed. */
static int program_backend_tags(struct dataplane *dp, const struct model *model)
{
	struct backend_tag_entry *want, *have;
	size_t n_want = 0, n_have, i = 0, j = 0;
	int ret = 0, c;

	if (!dp->backend_tags_known) {
		ret = read_backend_tags(dp);
		if (ret)
			return ret;
	}
	want = wanted_tags(model, &n_want);
	if (!want)
		return -ENOMEM;
	have = dp->backend_tags;
	n_have = dp->n_backend_tags;
	while (!ret && (i < n_want || j < n_have)) {
		c = i == n_want ? 1 : j == n_have ? -1 : tag_entry_cmp(&want[i], &have[j]);
		if (c > 0) {
			ret = dp_del_backend_tag(dp, &have[j++].key);
			continue;
		}
		if (c < 0 || want[i].backend_id != have[j].backend_id)
			ret = dp_set_backend_tag(dp, &want[i].key, want[i].backend_id);
		if (!c)
			j++;
		i++;
	}
	if (ret) {
		/* Not known any more: the next commit reads the map again. */
		free(want);
		free(dp->backend_tags);
		dp->backend_tags = NULL;
		dp->n_backend_tags = 0;
		dp->backend_tags_known = false;
		return ret;
	}
	free(dp->backend_tags);
	dp->backend_tags = want;
	dp->n_backend_tags = n_want;
	return 0;
}

static void forget_placement(struct dataplane *dp, __u32 service_id)
{
	free(dp->placements[service_id]);
	dp->placements[service_id] = NULL;
	free(dp->placement_inputs[service_id]);
	dp->placement_inputs[service_id] = NULL;
	dp->placement_n_inputs[service_id] = 0;
}

static int placement_input_cmp(const void *a, const void *b)
{
	const struct placement_backend *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->weight < y->weight ? -1 : x->weight > y->weight;
}

/* What <svc>'s table is built from, sorted by id (so equal inputs compare equal). */
static struct placement_backend *placement_inputs(const struct dataplane *dp,
						  const struct service *svc)
{
	struct placement_backend *in = calloc(svc->n_backends ? svc->n_backends : 1, sizeof(*in));
	size_t j;

	if (!in)
		return NULL;
	for (j = 0; j < svc->n_backends; j++) {
		const struct backend_value *bv = &dp->backends[svc->backends[j].id];

		in[j].id = svc->backends[j].id;
		in[j].tag = bv->tag;
		in[j].weight = bv->weight;
	}
	qsort(in, svc->n_backends, sizeof(*in), placement_input_cmp);
	return in;
}

/* A table built and not swapped in yet. */
struct placement_change {
	__u32 service_id;
	__u32 *table;
	struct placement_backend *in;
	__u32 n_in;
};

static void drop_placement_change(struct placement_change *ch)
{
	free(ch->table);
	free(ch->in);
	memset(ch, 0, sizeof(*ch));
}

/* 1 when <ch> holds a new table for <svc>, 0 when its inputs did not change. */
static int build_placement(struct dataplane *dp, const struct service *svc,
			   struct placement_change *ch)
{
	int ret;

	ch->service_id = svc->id;
	ch->n_in = svc->n_backends;
	ch->in = placement_inputs(dp, svc);
	if (!ch->in)
		return -ENOMEM;
	if (dp->placements[svc->id] && dp->placement_n_inputs[svc->id] == ch->n_in &&
	    !memcmp(dp->placement_inputs[svc->id], ch->in, sizeof(*ch->in) * ch->n_in)) {
		drop_placement_change(ch);
		return 0;
	}
	ch->table = malloc(sizeof(*ch->table) * LIMPET_PLACEMENT_SLOTS);
	if (!ch->table)
		return -ENOMEM;
	ret = placement_build(ch->in, ch->n_in, ch->table);
	if (ret && ret != -ENOENT)	/* -ENOENT: every slot empty, still a table */
		return ret;
	return 1;
}

static int program_placements(struct dataplane *dp, const struct model *model)
{
	struct placement_change *ch = calloc(model->n_services + 1, sizeof(*ch));
	__u32 *ids = calloc(model->n_services + 1, sizeof(*ids));
	int *fds = calloc(model->n_services + 1, sizeof(*fds));
	bool *wanted = calloc(LIMPET_MAX_SERVICES, sizeof(*wanted));
	size_t i, n = 0;
	__u32 id;
	int ret = ch && ids && fds && wanted ? 0 : -ENOMEM;

	for (i = 0; !ret && i < model->n_services; i++) {
		const struct service *svc = &model->services[i];

		if (!has_sessions(svc) || svc->id >= LIMPET_MAX_SERVICES)
			continue;
		wanted[svc->id] = true;
		ret = build_placement(dp, svc, &ch[n]);
		if (ret == 1) {
			ret = dp_placement_new(ch[n].table);
			if (ret >= 0) {
				ids[n] = ch[n].service_id;
				fds[n++] = ret;
				ret = 0;
				continue;
			}
		}
		drop_placement_change(&ch[n]);
	}
	if (!ret)
		ret = dp_placements_swap(dp, ids, fds, (__u32)n);
	for (i = 0; i < n; i++) {
		close(fds[i]);
		if (!ret) {
			forget_placement(dp, ch[i].service_id);
			dp->placements[ch[i].service_id] = ch[i].table;
			dp->placement_inputs[ch[i].service_id] = ch[i].in;
			dp->placement_n_inputs[ch[i].service_id] = ch[i].n_in;
			ch[i].table = NULL;
			ch[i].in = NULL;
		}
		drop_placement_change(&ch[i]);
	}
	/* Services gone, or no longer with sessions: no table. The first
	 * commit after a start does not know what a restart left: it clears
	 * every id it does not want.
	 */
	for (id = 0; !ret && wanted && id < LIMPET_MAX_SERVICES; id++) {
		if (wanted[id] || (!dp->placements[id] &&
				   (dp->placements_known || !dp_has_placement(dp, id))))
			continue;
		forget_placement(dp, id);
		ret = dp_clear_placement(dp, id);
	}
	if (!ret)
		dp->placements_known = true;
	free(ch);
	free(ids);
	free(fds);
	free(wanted);
	return ret;
}

int dp_program_routes(struct dataplane *dp, const struct model *model)
{
	int ret = program_http_services(dp, model);

	if (!ret)
		ret = program_backend_tags(dp, model);
	if (!ret)
		ret = program_placements(dp, model);
	return ret;
}

const __u32 *dp_placement(const struct dataplane *dp, __u32 service_id)
{
	return service_id < LIMPET_MAX_SERVICES ? dp->placements[service_id] : NULL;
}

void dp_forget_routes(struct dataplane *dp)
{
	__u32 id;

	for (id = 0; id < LIMPET_MAX_SERVICES; id++)
		forget_placement(dp, id);
	dp->placements_known = false;
	free(dp->http_services);
	dp->http_services = NULL;
	free(dp->backend_tags);
	dp->backend_tags = NULL;
	dp->n_backend_tags = 0;
	dp->backend_tags_known = false;
}
