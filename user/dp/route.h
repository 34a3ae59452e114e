/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * route.h - the HTTP routing state of the data plane (include/limpet_maps.h:
 * http_services, backend_tags, placements), programmed from the model by
 * dp_program() and kept so the slow path reads it without a map lookup.
 */
#ifndef LIMPET_DP_ROUTE_H
#define LIMPET_DP_ROUTE_H

#include <linux/types.h>

#include "limpet_maps.h"
#include "model/model.h"

struct dataplane;

/*
 * The http_services value of <svc> (all zero for a service that is not
 * HTTP), as dp_program() writes it.
 */
void dp_http_service_of(const struct service *svc, struct http_service_value *val);

/*
 * Write http_services, backend_tags and placements for <model>, whose ids
 * dp_program() assigned and whose backends it programmed; remove what
 * services and backends not in <model> had. Only what changed is written;
 * a placement table is rebuilt only when its backends' tags or weights
 * changed. 0 or -errno.
 */
int dp_program_routes(struct dataplane *dp, const struct model *model);

/*
 * The placement table dp_program() gave service <service_id>
 * (LIMPET_PLACEMENT_SLOTS backend ids, LIMPET_PLACEMENT_EMPTY for none);
 * NULL when it has none (not an HTTP service with session affinity).
 */
const __u32 *dp_placement(const struct dataplane *dp, __u32 service_id);

/* Forget what dp_program_routes() kept (dp_forget_programmed()). */
void dp_forget_routes(struct dataplane *dp);

#endif /* LIMPET_DP_ROUTE_H */
