/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * affinity.h - which backend an HTTP connection goes to, and whether its
 * first response gets a new cookie.
 *
 * The slow path asks at the first request of each connection. The answer
 * comes from the request head: the data plane's scan of the first segment
 * (parse, verify: include/limpet_head.h, limpet_token.h) when the head fit
 * in it, else the same code run here over the whole head. The decision
 * itself is limpet_route() (include/limpet_route.h); this file gives it
 * the backends' states, the ring and the session table, and turns its
 * answer into a backend.
 *
 * It works from a snapshot of the model taken whenever the model changes
 * (affinity_update), so a pick costs no system call.
 */
#ifndef LIMPET_AFFINITY_H
#define LIMPET_AFFINITY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "http/keyring.h"
#include "model/model.h"
#include "limpet_head.h"
#include "limpet_maps.h"
#include "http/segment.h"
#include "limpet_route.h"
#include "http/slowpath.h"

/* Most sessions remembered (header, client and cookie sessions together):
 * the size of the route_sessions map.
 */
#define AFFINITY_SESSIONS_MAX LIMPET_ROUTE_SESSIONS_MAX

struct affinity_service;

/* Per-service outcome counters (limpet stats). */
struct affinity_counters {
	__u64 cookie[LIMPET_COOKIE_OUTCOMES];	/* by enum limpet_cookie_outcome */
	__u64 issued;		/* new sessions given a cookie */
	__u64 reissued;		/* cookies re-issued for another backend */
	__u64 failovers;	/* a pinned backend down: another one used */
	__u64 header_missing;	/* header affinity without its headers: fallback */
	__u64 scanned_in_xdp;	/* heads decided from the data plane's scan */
	__u64 scanned_here;	/* heads the slow path scanned itself */
	__u64 bound_slowpath[SLOWPATH_BIND_REASONS];	/* by enum slowpath_bind_reason */
};

struct dataplane;

struct session_counts;

struct affinity {
	struct affinity_service *svc[LIMPET_MAX_SERVICES];
	struct dataplane *dp;	/* route_sessions and the placement tables */
	struct session_counts *session_counts;	/* affinity_sessions()' last walk */
	const struct cookie_keys *keys;	/* verify and sign with these (http.c owns them) */
	__u32 max_ttl_s;	/* the longest cookie TTL of the snapshot */
	struct affinity_counters counters[LIMPET_MAX_SERVICES];
};

int affinity_init(struct affinity *a, const struct cookie_keys *keys, struct dataplane *dp);
void affinity_free(struct affinity *a);

/*
 * Take a new snapshot of the HTTP services of <model>, as <dp> was just
 * programmed from it (backend generations, rings). 0 or -ENOMEM.
 */
int affinity_update(struct affinity *a, const struct model *model, const struct dataplane *dp);

/*
 * The backend for <req>, not one of <tried>. Returns 0 with *be, *svc and
 * *cookie filled; -EAGAIN when the head is needed and not complete yet;
 * -ENOENT when no backend is left; -EINVAL when the VIP is no HTTP service.
 */
int affinity_pick(struct affinity *a, const struct slowpath_request *req, const __u32 *tried,
		  size_t n_tried, __u64 now_s, struct slowpath_backend *be,
		  struct slowpath_service *svc, struct slowpath_cookie *cookie);

/*
 * The "Set-Cookie: ..." line (CRLF included) naming <be> for <cookie>'s
 * session, signed with the current key at <now_s>. Its length, or 0 when
 * it cannot be made (no key, no room).
 */
size_t affinity_cookie_line(const struct affinity *a, const struct slowpath_backend *be,
			    const struct slowpath_cookie *cookie, __u64 now_s, char *buf,
			    size_t size);

/*
 * What the data plane looks for in the first request segment of HTTP
 * service <service_id> (cookie or header affinity), and whether it binds
 * its connections itself: 0, -ENOENT for other services.
 */
int affinity_dp_value(const struct affinity *a, __u32 service_id,
		      struct http_affinity_value *out);

/*
 * Add the live sessions of each backend of <service_id> to counts[backend
 * id], from route_sessions (read in batches, at most once a second).
 */
void affinity_sessions(const struct affinity *a, __u32 service_id, __u32 *counts,
		       size_t n_counts);

/*
 * The settings of limpet_route_in (affinity, fallback, policy, failover;
 * states UNKNOWN, no key) for a service configured as <cfg>: what
 * affinity_pick() starts from. The data plane starts from the same values
 * in http_services (tests/unit check both give the same decisions).
 */
void affinity_route_settings(const struct service_config *cfg, struct limpet_route_in *in);

const struct affinity_counters *affinity_counters(const struct affinity *a, __u32 service_id);

/* The slow path bound a connection of <service_id> (or sent its 503), for <reason>. */
void affinity_count_binding(struct affinity *a, __u32 service_id,
			    enum slowpath_bind_reason reason);

/* The tag a token carries for backend <name> (stable across restarts). */
__u32 affinity_tag(const char *name);

#endif /* LIMPET_AFFINITY_H */
