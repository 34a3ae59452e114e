/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - every read and write of a BPF map from userspace, as typed
 * functions (the maps' layouts are in include/limpet_maps.h). Who writes
 * each map is listed at the top of maps.c. All return 0 or -errno.
 */
#ifndef LIMPET_DP_MAPS_H
#define LIMPET_DP_MAPS_H

#include <stdbool.h>
#include <linux/types.h>

#include "limpet_maps.h"

struct dataplane;

/* rev_nat: whose replies the data plane un-NATs without a flow (dp/program.c). */
int dp_get_rev_nat(struct dataplane *dp, const struct rev_nat_key *key, struct rev_nat_value *val);
int dp_del_rev_nat(struct dataplane *dp, const struct rev_nat_key *key);
/* <keys>[i] -> <vals>[i], <n> of them, one batch. */
int dp_set_rev_nats(struct dataplane *dp, const struct rev_nat_key *keys,
		    const struct rev_nat_value *vals, __u32 n);
/* Every entry into <keys>/<vals> (room for <cap>), *n of them; -ENOSPC if more. */
int dp_read_rev_nat(struct dataplane *dp, struct rev_nat_key *keys, struct rev_nat_value *vals,
		    __u32 cap, __u32 *n);

/* vips: the VIPs of the model (dp/program.c). */
int dp_set_vip(struct dataplane *dp, const struct vip_key *key, const struct vip_value *val);
int dp_get_vip(struct dataplane *dp, const struct vip_key *key, struct vip_value *val);
int dp_del_vip(struct dataplane *dp, const struct vip_key *key);
/* The VIP after <prev> (NULL: the first) into <next>; -ENOENT at the end. */
int dp_next_vip(struct dataplane *dp, const struct vip_key *prev, struct vip_key *next);

/* backends: id -> where to send (dp/program.c; tests stage states with it). */
int dp_set_backend(struct dataplane *dp, __u32 id, const struct backend_value *val);
/* The same for <n> backends: <ids>[i] -> <vals>[i], one batch. */
int dp_set_backends(struct dataplane *dp, const __u32 *ids, const struct backend_value *vals,
		    __u32 n);
int dp_get_backend(struct dataplane *dp, __u32 id, struct backend_value *val);

/* rings: build a new inner map from <table> (<size> slots) and swap it in whole. */
int dp_swap_ring(struct dataplane *dp, __u32 service_id, const __u32 *table, __u32 size);
/*
 * Before <ids>' tables are swapped: keep each one's current table as its
 * previous one (prev_rings), unless it is within the grace of an earlier
 * change (whose previous table is the one that bound SYNs before it), and
 * set ring_grace to LIMPET_RING_GRACE_NS from now. 0 or -errno.
 */
int dp_keep_prev_rings(struct dataplane *dp, const __u32 *ids, __u32 n);

/* Drop the previous tables whose grace is over (the controller's tick). 0 or -errno. */
int dp_expire_prev_rings(struct dataplane *dp);
/* The same in two steps, for many services at once: a new inner map holding
 * <table> (its fd, or -errno), then every <fds>[i] swapped in as the table of
 * <service_ids>[i] with one batch update (one RCU wait, not one per service).
 */
int dp_ring_new(const __u32 *table, __u32 size);
int dp_rings_swap(struct dataplane *dp, const __u32 *service_ids, const int *fds, __u32 n);
int dp_clear_ring(struct dataplane *dp, __u32 service_id);

/*
 * placements: like rings, a new inner map holding <table>
 * (LIMPET_PLACEMENT_SLOTS ids; its fd or -errno), then swapped in with one
 * batch for many services (dp/route.c).
 */
int dp_placement_new(const __u32 *table);
int dp_placements_swap(struct dataplane *dp, const __u32 *service_ids, const int *fds, __u32 n);
int dp_clear_placement(struct dataplane *dp, __u32 service_id);
/* The kernel's placement table of <service_id> into <table> (checks, tests). */
int dp_read_placement(struct dataplane *dp, __u32 service_id, __u32 *table);
/* Does <service_id> have a placement table in the map (a restart's)? */
bool dp_has_placement(struct dataplane *dp, __u32 service_id);

/* http_services, backend_tags: HTTP routing settings (dp/route.c). */
int dp_set_http_service(struct dataplane *dp, __u32 service_id,
			const struct http_service_value *val);
int dp_get_http_service(struct dataplane *dp, __u32 service_id, struct http_service_value *val);
int dp_read_http_services(struct dataplane *dp, struct http_service_value *vals, __u32 n);
int dp_set_backend_tag(struct dataplane *dp, const struct backend_tag_key *key, __u32 backend_id);
int dp_get_backend_tag(struct dataplane *dp, const struct backend_tag_key *key, __u32 *backend_id);
int dp_del_backend_tag(struct dataplane *dp, const struct backend_tag_key *key);
/* The key after <prev> (NULL: the first) into <next>; -ENOENT at the end. */
int dp_next_backend_tag(struct dataplane *dp, const struct backend_tag_key *prev,
			struct backend_tag_key *next);

/* route_sessions: HTTP sessions (the slow path and the data plane). */
int dp_route_session_get(struct dataplane *dp, const struct route_session_key *key,
			 struct route_session_value *val);
int dp_route_session_set(struct dataplane *dp, const struct route_session_key *key,
			 const struct route_session_value *val);
int dp_route_session_del(struct dataplane *dp, const struct route_session_key *key);
/* Call <fn> for every entry, read in batches; a non-zero return stops the walk. */
typedef int (*dp_route_session_fn)(void *ctx, const struct route_session_key *key,
				   const struct route_session_value *val);
int dp_route_session_walk(struct dataplane *dp, dp_route_session_fn fn, void *ctx);
/* Remove every entry of <service_id> (the service was retired). */
int dp_route_sessions_forget_service(struct dataplane *dp, __u32 service_id);

/* http_bind_stats: per-service binding counters, summed over CPUs. */
int dp_http_bind_counters(struct dataplane *dp, __u32 service_id, struct http_bind_counters *sum);
int dp_reset_http_bind_counters(struct dataplane *dp, __u32 service_id);

/* service_names, backend_names: the pinned registries of ids (dp/program.c). */
int dp_get_service_name(struct dataplane *dp, __u32 id, struct service_name_value *val);
int dp_set_service_name(struct dataplane *dp, __u32 id, const struct service_name_value *val);
int dp_get_backend_name(struct dataplane *dp, __u32 id, struct backend_name_value *val);
/* Read entries 0..<n>-1 of the service_names, backend_names or backends
 * array into <vals>, in batches (one system call per batch, not per entry).
 */
int dp_read_service_names(struct dataplane *dp, struct service_name_value *vals, __u32 n);
int dp_read_backend_names(struct dataplane *dp, struct backend_name_value *vals, __u32 n);
int dp_read_backends(struct dataplane *dp, struct backend_value *vals, __u32 n);
int dp_set_backend_name(struct dataplane *dp, __u32 id, const struct backend_name_value *val);
int dp_set_backend_names(struct dataplane *dp, const __u32 *ids,
			 const struct backend_name_value *vals, __u32 n);

/* flows: written by the data plane; the slow path binds through these. */
int dp_flow_get(struct dataplane *dp, const struct flow_key *key, struct flow_value *val);
int dp_flow_set(struct dataplane *dp, const struct flow_key *key, const struct flow_value *val);
int dp_flow_del(struct dataplane *dp, const struct flow_key *key);

/*
 * Call <fn> for every flow entry, read in batches (a million entries take a
 * few hundred system calls). A non-zero return of <fn> stops the walk and
 * is returned.
 */
typedef int (*dp_flow_fn)(void *ctx, const struct flow_key *key, const struct flow_value *val);
int dp_flow_walk(struct dataplane *dp, dp_flow_fn fn, void *ctx);

/* Per-CPU counters, summed. */
int dp_read_global(struct dataplane *dp, __u64 out[LIMPET_STAT_MAX]);
int dp_service_counters(struct dataplane *dp, __u32 id, struct limpet_counters *sum);
int dp_backend_counters(struct dataplane *dp, __u32 id, struct limpet_counters *sum);
int dp_reset_service_counters(struct dataplane *dp, __u32 id);
/* Zero the counters of backends <ids> (given to new backends), one batch. */
int dp_reset_backends_counters(struct dataplane *dp, const __u32 *ids, __u32 n);

/* Name of a global counter, for stats output. */
const char *dp_stat_name(enum limpet_stat stat);

/* cookie_keys, http_affinity: what XDP verifies cookies with and looks for
 * in first request heads (http/).
 */
int dp_set_cookie_keys(struct dataplane *dp, const struct cookie_keys_value *val);
int dp_set_http_affinity(struct dataplane *dp, __u32 service_id,
			 const struct http_affinity_value *val);

/* The cluster map's one value (dp/cluster.c). */
int dp_set_cluster(struct dataplane *dp, const struct cluster_value *val);

/* The routing map's one value, enum limpet_routing flags (dp/routing.c). */
int dp_set_routing(struct dataplane *dp, __u32 flags);

/* syn_secret: the key of limpet's own SYN cookie (dp/dataplane.c). */
int dp_get_syn_secret(struct dataplane *dp, struct limpet_syncookie_key *key);
int dp_set_syn_secret(struct dataplane *dp, const struct limpet_syncookie_key *key);

/* xsks, xsk_ifaces: the slow path's AF_XDP sockets (http/xsk.c). */
int dp_set_xsk(struct dataplane *dp, __u32 slot, int xsk_fd);
int dp_set_xsk_iface(struct dataplane *dp, __u32 ifindex, const struct xsk_iface_value *val);

#endif /* LIMPET_DP_MAPS_H */
