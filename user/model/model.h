/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * model.h - the running model: the configuration (model/config.h) plus what
 * exists only while limpet runs, and the rules every other layer asks
 * instead of deciding for itself.
 *
 * A configuration is what the file says; the model is what limpet is doing
 * now: the file, the run-time changes made with the CLI, each service's and
 * backend's data-plane id, and each backend's health verdict and drain. The
 * model owns its services and backends: model_from_config() moves them out
 * of a configuration, whose own lists are left empty.
 *
 * The rules (which backends take new flows, panic routing, the state
 * routing sees) are defined here once, for the Maglev rings of the data
 * plane and the session placement of HTTP services alike.
 */
#ifndef LIMPET_MODEL_H
#define LIMPET_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "model/config.h"

/* A backend of the running model. */
struct backend {
	struct backend_config conf;	/* as the file or the CLI gave it */
	__u32 id;			/* backend id in the data plane */
	bool draining;			/* no new flows; removed at drain_deadline_ms */
	__u64 drain_deadline_ms;	/* CLOCK_MONOTONIC */
	bool down;			/* failed its health checks */
};

/* A service of the running model. */
struct service {
	struct service_config conf;	/* its settings; conf.backends is empty */
	__u32 id;			/* service id in the data plane */
	struct backend *backends;
	size_t n_backends;
};

struct model {
	struct limpet_config conf;	/* global settings; conf.services is empty */
	struct service *services;
	size_t n_services;
	bool node_draining;		/* `limpet node drain`: VIPs withdrawn */
	__u64 node_drain_deadline_ms;	/* CLOCK_MONOTONIC; 0: no timeout */
};

/*
 * Build <m> from <cfg>, taking its services and backends (cfg's lists are
 * left empty; config_free() is still needed for the rest). Ids are unset,
 * no backend is down or draining. 0 or -ENOMEM (cfg unchanged then).
 */
int model_from_config(struct model *m, struct limpet_config *cfg);

/* A deep copy, to edit while <src> stays as it is. 0 or -ENOMEM. */
int model_copy(struct model *dst, const struct model *src);

void model_free(struct model *m);

/* By name; NULL when absent. */
struct service *model_find_service(const struct model *m, const char *name);
struct backend *model_find_backend(const struct service *svc, const char *name);

/* Append <be> to <svc>'s backends. 0 or -ENOMEM. */
int model_add_backend(struct service *svc, const struct backend *be);

/* Remove <svc>'s backend at <idx>. */
void model_remove_backend(struct service *svc, size_t idx);

/* ---- the rules ----------------------------------------------------------- */

/*
 * Does <be> start new flows and sessions: a weight, not draining, and up
 * (or the service's failover is none: clients stay on their backend and
 * see it fail)?
 */
bool model_takes_new_flows(const struct service *svc, const struct backend *be);

/*
 * Panic routing (as Envoy's): when health checks alone leave a service
 * nothing that takes new flows, the checks are as likely wrong as the
 * backends, and a dead service helps no one: every backend that is not
 * draining and has a weight takes them.
 */
bool model_panics(const struct service *svc);

/* The weight <be> gets for new flows and sessions, <panic> from model_panics(). */
__u32 model_new_flow_weight(const struct service *svc, const struct backend *be, bool panic);

/* Where routing stands with <be>: LIMPET_BE_UP, _DRAINING (also weight 0) or _DOWN. */
__u8 model_route_state(const struct backend *be);

/*
 * Is <svc> ready for a BGP daemon to announce its VIP: a backend with a
 * weight, not draining and up? (Panic routing still serves a service whose
 * checks all fail; a cluster sends its clients to a node that has backends.)
 */
bool model_vip_ready(const struct service *svc);

/* "up", "down" or "draining", as status reports it. */
const char *model_state_name(const struct backend *be);

#endif /* LIMPET_MODEL_H */
