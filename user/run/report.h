/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * report.h - what limpet tells its operator: `status` and `stats` (JSON,
 * as in ../shared/INTERFACE.md) and the Prometheus page, all built from the
 * same readings of the data plane, the model and the health checker.
 */
#ifndef LIMPET_REPORT_H
#define LIMPET_REPORT_H

#include <jansson.h>

#include "model/config.h"
#include "dp/dataplane.h"

struct health_checker;
struct metrics_buf;

/* "up", "down" or "draining". */
const char *report_backend_state(const struct backend_config *be);

/* The status / stats objects; NULL when the data plane could not be read. */
json_t *report_status(struct dataplane *dp, const struct limpet_config *model);
json_t *report_stats(struct dataplane *dp, const struct limpet_config *model,
		     const struct health_checker *hc);

/* A control reply carrying <result> (stolen), or an error reply if NULL. */
json_t *report_reply(json_t *result);

/* The Prometheus page. */
void report_metrics(struct dataplane *dp, const struct limpet_config *model,
		    const struct health_checker *hc, struct metrics_buf *b);

#endif /* LIMPET_REPORT_H */
