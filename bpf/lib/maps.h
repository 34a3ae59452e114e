/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maps.h - the data plane's map definitions. Layouts come from
 * include/limpet_maps.h; every map is pinned by name under the instance's
 * pin directory (/sys/fs/bpf/limpet/<instance>) so that a controller restart
 * or upgrade adopts them without dropping a flow.
 */
#ifndef LIMPET_BPF_MAPS_H
#define LIMPET_BPF_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "limpet_maps.h"
#include "limpet_placement.h"

/* VIP:port:proto -> service. Written by the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, struct vip_key);
	__type(value, struct vip_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} vips SEC(".maps");

/* backend id -> address, state, generation. Written by the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIMPET_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} backends SEC(".maps");

/* Template of one service's Maglev table; see "rings" in limpet_maps.h.
 * Mmapable: the controller fills a new table with one memcpy, not one
 * kernel copy per slot (1,000 tables of 10,007 slots at load).
 */
struct ring_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, LIMPET_RING_SIZE_DEFAULT + 1);
	__type(key, __u32);
	__type(value, __u32);
};

/* service id -> its Maglev table. Swapped whole by the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct ring_inner);
} rings SEC(".maps");

/* service id -> its table from before its last changes, and until when it
 * counts (prev_rings, ring_grace in limpet_maps.h). Written by the controller.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, __u32);
	__array(values, struct ring_inner);
} prev_rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, __u32);
	__type(value, __u64);
} ring_grace SEC(".maps");

/* Backend address:port -> the service its replies are un-NAT'd to, for
 * flows without a return entry. Written by the controller.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LIMPET_MAX_BACKENDS);
	__type(key, struct rev_nat_key);
	__type(value, struct rev_nat_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rev_nat SEC(".maps");

/*
 * The next hops of replies un-NAT'd through rev_nat, which have no flow
 * entry to keep theirs in: a small per-CPU cache, one slot per hash of the
 * reply's addresses, so a busy client's replies rarely ask the FIB. Not
 * pinned: it is only a cache.
 */
#define LIMPET_NH_CACHE_BITS 10
#define LIMPET_NH_CACHE_SLOTS (1u << LIMPET_NH_CACHE_BITS)

struct nh_cache_slot {
	struct limpet_addr src;
	struct limpet_addr dst;
	struct nexthop_cache nh;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LIMPET_NH_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct nh_cache_slot);
} nh_cache SEC(".maps");

/*
 * The next hops of client packets bound through a Maglev table, which have
 * no flow entry yet (a bare SYN writes none): the same per-CPU slots,
 * client address -> backend address, apart from nh_cache so that a SYN
 * flood from random sources does not push out the replies' next hops.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LIMPET_NH_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct nh_cache_slot);
} nh_bind_cache SEC(".maps");

/* Connection -> backend, both directions. Written by the data plane; shared
 * by all CPUs because a NAT reply may arrive on another CPU than its request.
 * The controller sizes it (flow_table_size) before load.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LIMPET_FLOW_TABLE_DEFAULT);
	__type(key, struct flow_key);
	__type(value, struct flow_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flows SEC(".maps");

/* Open L4 flows' entries, copied (struct flow_cache_slot). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIMPET_FLOW_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct flow_cache_slot);
} flow_cache SEC(".maps");

/* The last reading of the coarse clock on this CPU (clock.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct clock_anchor);
} clock_anchor SEC(".maps");

/* The flow key of the packet limpet_xdp is on (lb_process()). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_key);
} flow_key_scratch SEC(".maps");

/* A flow entry being written: too big for the stack beside a FIB lookup. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_value);
} flow_scratch SEC(".maps");

/* Per-CPU counters per service and per backend. Read by the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct limpet_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} service_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LIMPET_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct limpet_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} backend_stats SEC(".maps");

/* Per-CPU count of each packet outcome (enum limpet_stat). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LIMPET_STAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} global_stats SEC(".maps");

/* The slow path's AF_XDP sockets and where each interface's start. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, LIMPET_XSK_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LIMPET_XSK_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct xsk_iface_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} xsk_ifaces SEC(".maps");

/* HTTP cookie and header affinity: what to look for, and the keys. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct http_affinity_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} http_affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cookie_keys_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cookie_keys SEC(".maps");

/* The secret of limpet's own SYN cookie (include/limpet_syncookie.h):
 * random, written once by the controller at load, pinned so a restart keeps
 * the handshakes in flight valid.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct limpet_syncookie_key);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} syn_secret SEC(".maps");

/* This node among a cluster's (limpet_maps.h), written by the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cluster_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cluster SEC(".maps");

/* Whether next hops depend on the client (limpet_maps.h), written by the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} routing SEC(".maps");

/* HTTP routing state (limpet_maps.h says what each holds and who writes it). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LIMPET_MAX_BACKENDS);
	__type(key, struct backend_tag_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} backend_tags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct http_service_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} http_services SEC(".maps");

/* Template of one service's placement table: slot -> backend id. */
struct placement_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__uint(max_entries, LIMPET_PLACEMENT_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
};

/* service id -> its placement table. Swapped whole by the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct placement_inner);
} placements SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LIMPET_ROUTE_SESSIONS_MAX);
	__type(key, struct route_session_key);
	__type(value, struct route_session_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} route_sessions SEC(".maps");

/* Per-CPU binding counters per HTTP service. Read by the controller. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct http_bind_counters);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} http_bind_stats SEC(".maps");

/* Controller-only: which name owns which service / backend id. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIMPET_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct service_name_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} service_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, LIMPET_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend_name_value);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} backend_names SEC(".maps");

#endif /* LIMPET_BPF_MAPS_H */
