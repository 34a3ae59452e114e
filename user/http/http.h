/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * http.h - HTTP services as the controller drives them: the slow path
 * (delayed binding, slowpath_io.h), the affinity snapshot it picks
 * backends from (affinity.h), the cookie keys (keyring.h) and what the
 * data plane looks for in first request heads. The controller calls in
 * after every model change and on its tick; reports read the counters
 * through the getters below.
 */
#ifndef LIMPET_HTTP_H
#define LIMPET_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "http/affinity.h"
#include "http/keyring.h"
#include "http/slowpath.h"
#include "model/model.h"

struct dataplane;
struct slowpath_io;

struct http {
	struct dataplane *dp;
	struct slowpath_io *spio;	/* NULL until a service has mode http */
	struct cookie_keys keys;
	struct affinity aff;
};

int http_init(struct http *h, struct dataplane *dp);
void http_free(struct http *h);

/*
 * After the model changed and the data plane was programmed from it: the
 * affinity snapshot, the keys (read or created when a service first uses
 * cookies), the data plane's http_affinity entries and, with <epoll_fd>
 * >= 0, the slow path's sockets. 0 or -errno with one line in <err>.
 */
int http_update(struct http *h, const struct model *model, int epoll_fd, char *err,
		size_t errlen);

/* A backend went up or down: only the snapshot changes. */
void http_health_changed(struct http *h, const struct model *model);

/* `limpet keys rotate`. 0 or -errno with one line in <err>. */
int http_rotate_keys(struct http *h, const struct model *model, char *err, size_t errlen);

/* The current key's id and how long older keys stay valid. */
void http_key_info(const struct http *h, unsigned int *id, unsigned int *ttl_s);

/* Once a second: keys, the data plane's wall clock (idle sessions age out of
 * route_sessions by their own last use, and its LRU makes room). */
void http_tick(struct http *h);

/* Handle <fd> if it is the slow path's; false otherwise. */
bool http_handle(struct http *h, int fd);

/* ---- for reports ---- */

/* The slow path's counters; NULL while no service has mode http. */
const struct slowpath_stats *http_slowpath_stats(const struct http *h);

/* Connections being bound right now. */
size_t http_binding_now(const struct http *h);

/* The affinity counters of <service_id>. */
const struct affinity_counters *http_counters(const struct http *h, __u32 service_id);

/* Live sessions of each backend of <service_id>: counts[backend id]. */
void http_sessions(const struct http *h, __u32 service_id, __u32 *counts, size_t n_counts);

#endif /* LIMPET_HTTP_H */
