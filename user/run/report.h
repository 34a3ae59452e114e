/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * report.h - what limpet tells its operator: `status` and `stats` (JSON)
 * and the Prometheus page, all built from the same readings of the data
 * plane, the model, the health checker and the HTTP side.
 */
#ifndef LIMPET_REPORT_H
#define LIMPET_REPORT_H

#include <jansson.h>

#include "model/model.h"

struct dataplane;
struct health_checker;
struct http;
struct metrics_buf;

/* Where a report reads from. */
struct report_sources {
	struct dataplane *dp;
	const struct model *model;
	const struct health_checker *health;	/* NULL: no checks known */
	const struct http *http;
};

/* The status / stats objects; NULL when the data plane could not be read. */
json_t *report_status(const struct report_sources *src);
/*
 * The status with each backend an array, [name, address, port, weight,
 * state, flows, sessions]: `limpet status` prints these, and for 100,000
 * backends they are 4 MB of JSON instead of 10, parsed in half the time.
 */
json_t *report_status_rows(const struct report_sources *src);
json_t *report_stats(const struct report_sources *src);

/* The Prometheus page. */
void report_metrics(const struct report_sources *src, struct metrics_buf *b);

#endif /* LIMPET_REPORT_H */
