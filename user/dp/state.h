/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * state.h - make the data plane match a configuration model.
 *
 * The model is a struct limpet_config plus the run-time fields (ids,
 * draining). state_apply() is idempotent: it is the one path for start-up,
 * restart adoption, reload and every CLI change.
 */
#ifndef LIMPET_STATE_H
#define LIMPET_STATE_H

#include <stddef.h>

#include "model/config.h"
#include "dp/dataplane.h"

/*
 * Give every service and backend of <model> its id (the id it had in the
 * pinned registry, else a free one), program backends, Maglev tables and
 * VIPs, then retire what the model no longer has. Fills the run-time ids in
 * <model>. Returns 0 or -errno with one line in <err>.
 */
int state_apply(struct dataplane *dp, struct limpet_config *model, char *err, size_t errlen);

/* Does <be> get new flows: not draining, and up (or the service's failover
 * is none, where clients stay on their backend and see it fail)?
 */
bool state_takes_new_flows(const struct service_config *svc, const struct backend_config *be);

/*
 * The service's Maglev table (svc->ring_size backend ids) as the data plane
 * gets it: backends that take new flows by weight, or all but draining ones
 * when health alone left none. 0, -ENOENT when nothing takes new flows.
 */
int state_ring_table(const struct service_config *svc, __u32 *table);

/* Data-plane affinity / forwarding codes of a service. */
__u8 state_affinity_code(const struct service_config *svc);

#endif /* LIMPET_STATE_H */
