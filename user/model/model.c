// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * model.c - the running model and its rules (model.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "limpet_route.h"
#include "model/model.h"

static void service_free(struct service *svc)
{
	free(svc->backends);
	svc->backends = NULL;
	svc->n_backends = 0;
}

void model_free(struct model *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->n_services; i++)
		service_free(&m->services[i]);
	free(m->services);
	config_free(&m->conf);
	memset(m, 0, sizeof(*m));
}

int model_from_config(struct model *m, struct limpet_config *cfg)
{
	struct service *services;
	size_t i, j;

	memset(m, 0, sizeof(*m));
	services = calloc(cfg->n_services ? cfg->n_services : 1, sizeof(*services));
	if (!services)
		return -ENOMEM;
	for (i = 0; i < cfg->n_services; i++) {
		struct service_config *sc = &cfg->services[i];
		struct service *svc = &services[i];

		svc->backends = calloc(sc->n_backends ? sc->n_backends : 1, sizeof(*svc->backends));
		if (!svc->backends) {
			while (i--)
				service_free(&services[i]);
			free(services);
			return -ENOMEM;
		}
		svc->n_backends = sc->n_backends;
		for (j = 0; j < sc->n_backends; j++)
			svc->backends[j].conf = sc->backends[j];
	}
	/* Nothing can fail from here: take the lists out of <cfg>. */
	for (i = 0; i < cfg->n_services; i++) {
		services[i].conf = cfg->services[i];
		services[i].conf.backends = NULL;
		services[i].conf.n_backends = 0;
		free(cfg->services[i].backends);
	}
	m->services = services;
	m->n_services = cfg->n_services;
	free(cfg->services);
	cfg->services = NULL;
	cfg->n_services = 0;
	m->conf = *cfg;
	/* The interfaces and cluster nodes now belong to the model too. */
	cfg->interfaces = NULL;
	cfg->n_interfaces = 0;
	cfg->cluster.nodes = NULL;
	cfg->cluster.n_nodes = 0;
	return 0;
}

int model_copy(struct model *dst, const struct model *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->conf = src->conf;
	dst->conf.interfaces = calloc(src->conf.n_interfaces ? src->conf.n_interfaces : 1,
				      sizeof(*dst->conf.interfaces));
	dst->conf.cluster.nodes = calloc(src->conf.cluster.n_nodes ? src->conf.cluster.n_nodes : 1,
					 sizeof(*dst->conf.cluster.nodes));
	dst->services = calloc(src->n_services ? src->n_services : 1, sizeof(*dst->services));
	if (!dst->conf.interfaces || !dst->conf.cluster.nodes || !dst->services)
		goto fail;
	memcpy(dst->conf.cluster.nodes, src->conf.cluster.nodes,
	       sizeof(*src->conf.cluster.nodes) * src->conf.cluster.n_nodes);
	memcpy(dst->conf.interfaces, src->conf.interfaces,
	       sizeof(*src->conf.interfaces) * src->conf.n_interfaces);
	for (i = 0; i < src->n_services; i++) {
		const struct service *s = &src->services[i];
		struct service *d = &dst->services[i];

		*d = *s;
		d->backends = calloc(s->n_backends ? s->n_backends : 1, sizeof(*d->backends));
		if (!d->backends)
			goto fail;
		memcpy(d->backends, s->backends, sizeof(*s->backends) * s->n_backends);
		dst->n_services = i + 1;
	}
	dst->n_services = src->n_services;
	return 0;
fail:
	model_free(dst);
	return -ENOMEM;
}

struct service *model_find_service(const struct model *m, const char *name)
{
	size_t i;

	for (i = 0; m && name && i < m->n_services; i++)
		if (!strcmp(m->services[i].conf.name, name))
			return &m->services[i];
	return NULL;
}

struct backend *model_find_backend(const struct service *svc, const char *name)
{
	size_t i;

	for (i = 0; svc && name && i < svc->n_backends; i++)
		if (!strcmp(svc->backends[i].conf.name, name))
			return &svc->backends[i];
	return NULL;
}

int model_add_backend(struct service *svc, const struct backend *be)
{
	struct backend *grown = realloc(svc->backends, sizeof(*grown) * (svc->n_backends + 1));

	if (!grown)
		return -ENOMEM;
	svc->backends = grown;
	svc->backends[svc->n_backends++] = *be;
	return 0;
}

void model_remove_backend(struct service *svc, size_t idx)
{
	memmove(&svc->backends[idx], &svc->backends[idx + 1],
		sizeof(*svc->backends) * (svc->n_backends - idx - 1));
	svc->n_backends--;
}

bool model_takes_new_flows(const struct service *svc, const struct backend *be)
{
	return be->conf.weight && !be->draining &&
	       (!be->down || svc->conf.failover == FAILOVER_NONE);
}

bool model_panics(const struct service *svc)
{
	bool any_down = false;
	size_t j;

	for (j = 0; j < svc->n_backends; j++) {
		const struct backend *be = &svc->backends[j];

		if (model_takes_new_flows(svc, be))
			return false;
		if (be->conf.weight && !be->draining)
			any_down = true;	/* only its health keeps it out */
	}
	return any_down;
}

__u32 model_new_flow_weight(const struct service *svc, const struct backend *be, bool panic)
{
	if (model_takes_new_flows(svc, be) || (panic && !be->draining))
		return be->conf.weight;
	return 0;
}

__u8 model_route_state(const struct backend *be)
{
	if (be->down)
		return LIMPET_BE_DOWN;
	/* Weight 0: no new sessions, as draining, but keeps its own. */
	if (be->draining || !be->conf.weight)
		return LIMPET_BE_DRAINING;
	return LIMPET_BE_UP;
}

const char *model_state_name(const struct backend *be)
{
	if (be->draining)
		return "draining";
	return be->down ? "down" : "up";
}

bool model_vip_ready(const struct service *svc)
{
	size_t i;

	for (i = 0; i < svc->n_backends; i++) {
		const struct backend *be = &svc->backends[i];

		if (be->conf.weight && !be->draining && !be->down)
			return true;
	}
	return false;
}
