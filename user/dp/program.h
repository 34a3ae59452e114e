/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * program.h - make the data plane match the model.
 *
 * dp_program() is idempotent: it is the one path for start-up, restart
 * adoption, reload, health changes and every CLI change. It also keeps
 * what it wrote (each backend's value, each service's Maglev table), so
 * the HTTP side and the reports read them without a map lookup and
 * without computing them a second time.
 */
#ifndef LIMPET_DP_PROGRAM_H
#define LIMPET_DP_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "limpet_maps.h"
#include "model/model.h"

struct dataplane;
struct dp_ring_plan;

/*
 * Give every service and backend of <model> its id (the id it had in the
 * pinned registry, else a free one), program backends, Maglev tables and
 * VIPs, then retire what the model no longer has. Fills the ids in
 * <model>. Returns 0 or -errno with one line in <err>.
 */
int dp_program(struct dataplane *dp, struct model *model, char *err, size_t errlen);

/*
 * The Maglev tables of <model> computed ahead, before its backends have ids
 * and without the data plane (the controller builds them while the program
 * loads). NULL when out of memory: dp_program() then builds them itself.
 */
struct dp_ring_plan *dp_plan_rings(const struct model *model);

/*
 * dp_program(), taking each table from <plan> (NULL: none) where the plan
 * was made from the same backends and weights, which leaves it identical to
 * the one dp_program() would build. Uses up the tables it takes.
 */
int dp_program_planned(struct dataplane *dp, struct model *model, struct dp_ring_plan *plan,
		       char *err, size_t errlen);

/* How many of <plan>'s tables dp_program_planned() took. */
size_t dp_ring_plan_taken(const struct dp_ring_plan *plan);

void dp_ring_plan_free(struct dp_ring_plan *plan);

/* The value dp_program() gave backend <id>; NULL when the id is not in use. */
const struct backend_value *dp_backend(const struct dataplane *dp, __u32 id);

/*
 * The Maglev table dp_program() gave service <service_id> (backend ids,
 * MAGLEV_EMPTY for none) and its size in <size>; NULL when it has none
 * (nothing takes new flows).
 */
const __u32 *dp_ring(const struct dataplane *dp, __u32 service_id, __u32 *size);

/*
 * The HTTP routing fields of backend <be>'s backends entry (route_state,
 * weight, tag) as dp_program() writes them; <panic> from model_panics().
 */
void dp_backend_route_fields(const struct service *svc, const struct backend *be, bool panic,
			     struct backend_value *val);

/* The vips entry of <svc>: key and value exactly as dp_program() writes them. */
void dp_vip_of(const struct service *svc, struct vip_key *key, struct vip_value *val);

/*
 * Once a second: drop the tables kept for the handshakes of SYNs bound
 * before a table change (include/limpet_maps.h, prev_rings) whose grace is
 * over. 0 or -errno.
 */
int dp_expire_ring_grace(struct dataplane *dp);
/* Forget what was programmed (dp_close()). */
void dp_forget_programmed(struct dataplane *dp);

#endif /* LIMPET_DP_PROGRAM_H */
