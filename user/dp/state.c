/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * state.c - program the data plane from the configuration model.
 *
 * Ids are the link between flows and backends: a flow records a backend id
 * and that backend's generation. So ids are kept in pinned registries and
 * handed back to the same (service, backend) names by every controller,
 * and a reassigned or re-addressed id gets a new generation, which turns the
 * flows still pointing at it stale instead of misrouted.
 *
 * Order of writes: backends, then Maglev tables, then VIPs, and only then
 * the retirement of what the model dropped, so no packet can find a table
 * entry for a backend that is not programmed yet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include <bpf/bpf.h>

#include "base/log.h"
#include "dp/maglev.h"
#include "dp/state.h"

#define ID_NONE 0xffffffffu

struct registry {
	struct service_name_value services[LIMPET_MAX_SERVICES];
	struct backend_name_value backends[LIMPET_MAX_BACKENDS];
	bool service_kept[LIMPET_MAX_SERVICES];
	bool backend_kept[LIMPET_MAX_BACKENDS];
};

static int registry_read(struct dataplane *dp, struct registry *reg)
{
	__u32 id;

	for (id = 0; id < LIMPET_MAX_SERVICES; id++)
		if (bpf_map_lookup_elem(dp->service_names_fd, &id, &reg->services[id]))
			return -errno;
	for (id = 0; id < LIMPET_MAX_BACKENDS; id++)
		if (bpf_map_lookup_elem(dp->backend_names_fd, &id, &reg->backends[id]))
			return -errno;
	return 0;
}

static __u32 registry_find_service(struct registry *reg, const char *name)
{
	__u32 id;

	for (id = 0; id < LIMPET_MAX_SERVICES; id++)
		if (reg->services[id].in_use && !strcmp(reg->services[id].name, name))
			return id;
	return ID_NONE;
}

static __u32 registry_find_backend(struct registry *reg, const char *service, const char *name)
{
	__u32 id;

	for (id = 0; id < LIMPET_MAX_BACKENDS; id++)
		if (reg->backends[id].in_use && !strcmp(reg->backends[id].service, service) &&
		    !strcmp(reg->backends[id].name, name))
			return id;
	return ID_NONE;
}

static int assign_service_ids(struct dataplane *dp, struct registry *reg,
			      struct limpet_config *model, char *err, size_t errlen)
{
	__u32 next_free = 0;
	size_t i;

	for (i = 0; i < model->n_services; i++) {
		struct service_config *svc = &model->services[i];
		struct service_name_value val = { .in_use = 1 };

		svc->id = registry_find_service(reg, svc->name);
		if (svc->id == ID_NONE) {
			while (next_free < LIMPET_MAX_SERVICES && reg->services[next_free].in_use)
				next_free++;
			if (next_free == LIMPET_MAX_SERVICES) {
				snprintf(err, errlen, "too many services (limit %d)",
					 LIMPET_MAX_SERVICES);
				return -ENOSPC;
			}
			svc->id = next_free;
			snprintf(val.name, sizeof(val.name), "%s", svc->name);
			if (bpf_map_update_elem(dp->service_names_fd, &svc->id, &val, BPF_ANY))
				return -errno;
			reg->services[svc->id] = val;
			dp_reset_counters(dp, dp->service_stats_fd, svc->id);
		}
		reg->service_kept[svc->id] = true;
	}
	return 0;
}

static int program_backend(struct dataplane *dp, const struct service_config *svc,
			   struct backend_config *be, bool fresh)
{
	struct backend_value old = {}, val = {};

	dp_get_backend(dp, be->id, &old);
	val.addr = be->address.addr;
	val.port = htons(be->port);
	val.family = be->address.family;
	val.state = LIMPET_BACKEND_ACTIVE;
	val.service_id = svc->id;
	val.gen = old.gen;
	/* A new owner or a new address: flows bound before must not follow. */
	if (fresh || old.state != LIMPET_BACKEND_ACTIVE || memcmp(&old.addr, &val.addr,
	    sizeof(val.addr)) || old.port != val.port || old.family != val.family)
		val.gen = old.gen + 1;
	if (!memcmp(&old, &val, sizeof(val)))
		return 0;
	return dp_set_backend(dp, be->id, &val);
}

static int assign_backend_ids(struct dataplane *dp, struct registry *reg,
			      struct limpet_config *model, char *err, size_t errlen)
{
	__u32 next_free = 0;
	size_t i, j;
	int ret;

	for (i = 0; i < model->n_services; i++) {
		struct service_config *svc = &model->services[i];

		for (j = 0; j < svc->n_backends; j++) {
			struct backend_config *be = &svc->backends[j];
			struct backend_name_value val = { .in_use = 1 };
			bool fresh = false;

			be->id = registry_find_backend(reg, svc->name, be->name);
			if (be->id == ID_NONE) {
				while (next_free < LIMPET_MAX_BACKENDS &&
				       reg->backends[next_free].in_use)
					next_free++;
				if (next_free == LIMPET_MAX_BACKENDS) {
					snprintf(err, errlen, "too many backends (limit %d)",
						 LIMPET_MAX_BACKENDS);
					return -ENOSPC;
				}
				be->id = next_free;
				snprintf(val.service, sizeof(val.service), "%s", svc->name);
				snprintf(val.name, sizeof(val.name), "%s", be->name);
				if (bpf_map_update_elem(dp->backend_names_fd, &be->id, &val,
							BPF_ANY))
					return -errno;
				reg->backends[be->id] = val;
				dp_reset_counters(dp, dp->backend_stats_fd, be->id);
				fresh = true;
			}
			reg->backend_kept[be->id] = true;
			ret = program_backend(dp, svc, be, fresh);
			if (ret)
				return ret;
		}
	}
	return 0;
}

__u8 state_affinity_code(const struct service_config *svc)
{
	return svc->affinity.type == LIMPET_AFFINITY_NONE ? LIMPET_AFFINITY_NONE :
							     LIMPET_AFFINITY_CLIENT_IP;
}

bool state_takes_new_flows(const struct service_config *svc, const struct backend_config *be)
{
	/* failover none: clients keep their backend and see it fail. */
	return !be->draining && (!be->down || svc->failover == FAILOVER_NONE);
}

/* Would the service take new flows if health were ignored, and does health
 * alone stop it?
 */
static bool service_all_down(const struct service_config *svc)
{
	bool any_down = false;
	size_t j;

	for (j = 0; j < svc->n_backends; j++) {
		const struct backend_config *be = &svc->backends[j];

		if (be->draining || !be->weight)
			continue;
		if (!be->down)
			return false;
		any_down = true;
	}
	return any_down;
}

int state_ring_table(const struct service_config *svc, __u32 *table)
{
	struct maglev_backend *mb;
	size_t j;
	int ret;

	mb = calloc(svc->n_backends ? svc->n_backends : 1, sizeof(*mb));
	if (!mb)
		return -ENOMEM;
	for (j = 0; j < svc->n_backends; j++) {
		mb[j].name = svc->backends[j].name;
		mb[j].id = svc->backends[j].id;
		mb[j].weight = state_takes_new_flows(svc, &svc->backends[j]) ?
				       svc->backends[j].weight : 0;
	}
	ret = maglev_build(mb, svc->n_backends, svc->ring_size, table);
	if (ret == -ENOENT && service_all_down(svc)) {
		/* Panic routing (as Envoy's): when every backend fails its
		 * checks, the checks are as likely wrong as the backends, and
		 * a dead service helps no one; spread over all of them.
		 */
		pr_warn("service %s: every backend is down; routing to all of them", svc->name);
		for (j = 0; j < svc->n_backends; j++)
			mb[j].weight = svc->backends[j].draining ? 0 : svc->backends[j].weight;
		ret = maglev_build(mb, svc->n_backends, svc->ring_size, table);
	}
	free(mb);
	return ret;
}

static int program_ring(struct dataplane *dp, const struct service_config *svc)
{
	__u32 *table = malloc(sizeof(*table) * svc->ring_size);
	int ret;

	if (!table)
		return -ENOMEM;
	ret = state_ring_table(svc, table);
	if (ret == -ENOENT)
		ret = dp_clear_ring(dp, svc->id); /* nothing takes new flows */
	else if (!ret)
		ret = dp_swap_ring(dp, svc->id, table, svc->ring_size);
	free(table);
	return ret;
}

static int program_vip(struct dataplane *dp, const struct service_config *svc)
{
	struct vip_value val = {
		.service_id = svc->id,
		.affinity = state_affinity_code(svc),
		.forwarding = svc->forwarding,
		.mode = svc->mode == SERVICE_MODE_HTTP ? LIMPET_MODE_HTTP : LIMPET_MODE_L4,
	};
	struct vip_key key;

	dp_vip_key(&key, &svc->vip, svc->port, svc->protocol);
	return dp_set_vip(dp, &key, &val);
}

static bool model_has_vip(const struct limpet_config *model, const struct vip_key *key)
{
	struct vip_key k;
	size_t i;

	for (i = 0; i < model->n_services; i++) {
		const struct service_config *svc = &model->services[i];

		dp_vip_key(&k, &svc->vip, svc->port, svc->protocol);
		if (!memcmp(&k, key, sizeof(k)))
			return true;
	}
	return false;
}

static int retire_vips(struct dataplane *dp, const struct limpet_config *model)
{
	struct vip_key key, next, stale[LIMPET_MAX_SERVICES];
	size_t n = 0, i;
	void *prev = NULL;

	/* Collect first: deleting while walking a hash map restarts the walk. */
	while (!bpf_map_get_next_key(dp->vips_fd, prev, &next)) {
		if (!model_has_vip(model, &next) && n < LIMPET_MAX_SERVICES)
			stale[n++] = next;
		key = next;
		prev = &key;
	}
	for (i = 0; i < n; i++) {
		int ret = dp_del_vip(dp, &stale[i]);

		if (ret)
			return ret;
	}
	return 0;
}

static int retire_unused(struct dataplane *dp, struct registry *reg)
{
	struct service_name_value no_service = {};
	struct backend_name_value no_backend = {};
	__u32 id;

	for (id = 0; id < LIMPET_MAX_BACKENDS; id++) {
		struct backend_value be = {};

		if (!reg->backends[id].in_use || reg->backend_kept[id])
			continue;
		pr_info("backend %s/%s retired (id %u)", reg->backends[id].service,
			reg->backends[id].name, id);
		/* Keep gen: the next owner bumps it, so old flows stay stale. */
		dp_get_backend(dp, id, &be);
		be.state = LIMPET_BACKEND_UNUSED;
		if (dp_set_backend(dp, id, &be) ||
		    bpf_map_update_elem(dp->backend_names_fd, &id, &no_backend, BPF_ANY))
			return -errno;
	}
	for (id = 0; id < LIMPET_MAX_SERVICES; id++) {
		if (!reg->services[id].in_use || reg->service_kept[id])
			continue;
		pr_info("service %s retired (id %u)", reg->services[id].name, id);
		if (dp_clear_ring(dp, id) ||
		    bpf_map_update_elem(dp->service_names_fd, &id, &no_service, BPF_ANY))
			return -errno;
	}
	return 0;
}

int state_apply(struct dataplane *dp, struct limpet_config *model, char *err, size_t errlen)
{
	struct registry *reg;
	size_t i;
	int ret;

	err[0] = '\0';
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return -ENOMEM;
	ret = registry_read(dp, reg);
	if (!ret)
		ret = assign_service_ids(dp, reg, model, err, errlen);
	if (!ret)
		ret = assign_backend_ids(dp, reg, model, err, errlen);
	for (i = 0; !ret && i < model->n_services; i++)
		ret = program_ring(dp, &model->services[i]);
	for (i = 0; !ret && i < model->n_services; i++)
		ret = program_vip(dp, &model->services[i]);
	if (!ret)
		ret = retire_vips(dp, model);
	if (!ret)
		ret = retire_unused(dp, reg);
	if (ret && !err[0])
		snprintf(err, errlen, "cannot program the data plane: %s", strerror(-ret));
	free(reg);
	return ret;
}
