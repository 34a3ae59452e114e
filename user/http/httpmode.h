/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * httpmode.h - the controller's side of HTTP services: the slow path
 * (delayed binding), the affinity snapshot it picks backends from, the
 * cookie keys (secret_file, `limpet keys rotate`) and what the data plane
 * needs to read cookies and headers in the first request segment.
 */
#ifndef LIMPET_HTTPMODE_H
#define LIMPET_HTTPMODE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "http/affinity.h"
#include "model/config.h"
#include "dp/dataplane.h"
#include "http/keys.h"
#include "http/slowpath_io.h"

struct httpmode {
	struct dataplane *dp;
	struct slowpath_io *spio;	/* NULL until a service has mode http */
	struct affinity aff;
	bool keys_loaded;
	char secret_file[CONFIG_PATH_MAX];
	struct timespec keys_mtime;	/* of secret_file when last read */
	__u64 keys_pushed_s;		/* the verification set was last computed */
	__u64 last_expire_s;
};

int httpmode_init(struct httpmode *h, struct dataplane *dp);
void httpmode_free(struct httpmode *h);

/*
 * After the model changed: the affinity snapshot, the keys (read or
 * created when a service first uses cookies), the data plane's affinity
 * maps and, with <epoll_fd> >= 0, the slow path's sockets. 0 or -errno
 * with one line in <err>.
 */
int httpmode_update(struct httpmode *h, const struct limpet_config *model, int epoll_fd,
		    char *err, size_t errlen);

/* A backend went up or down: only the snapshot changes. */
void httpmode_health_changed(struct httpmode *h, const struct limpet_config *model);

/* `limpet keys rotate`: a reply for the control socket. */
json_t *httpmode_rotate_keys(struct httpmode *h, const struct limpet_config *model);

/* Once a second: the wall clock for the data plane, keys that changed on
 * disk or ran out, idle sessions.
 */
void httpmode_tick(struct httpmode *h, const struct limpet_config *model);

/* Handle <fd> if it is the slow path's; false otherwise. */
bool httpmode_handle(struct httpmode *h, int fd);

/* Add the HTTP counters to `limpet stats` and the sessions to `status`. */
json_t *httpmode_report_stats(struct httpmode *h, const struct limpet_config *model,
			      json_t *stats);
json_t *httpmode_report_status(struct httpmode *h, const struct limpet_config *model,
			       json_t *status);

struct metrics_buf;

/* The affinity counters and live sessions for /metrics. */
void httpmode_metrics(struct httpmode *h, const struct limpet_config *model,
		      struct metrics_buf *b);

#endif /* LIMPET_HTTPMODE_H */
