/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * internal.h - struct dataplane, private to dp/: the rest of the controller
 * holds a pointer and calls the typed functions of dataplane.h, maps.h and
 * program.h, so no file outside dp/ sees a map's file descriptor.
 */
#ifndef LIMPET_DP_INTERNAL_H
#define LIMPET_DP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "limpet_maps.h"
#include "limpet_tcpopt.h"

struct limpet_xdp;
struct xdp_program;

struct dataplane {
	struct limpet_xdp *skel;
	struct xdp_program *xdp_prog;	/* NULL until dp_attach() */
	char pin_dir[256];		/* "" when not pinned (tests) */
	bool adopted;			/* pinned maps existed: a restart */
	bool loaded;			/* programs and maps are in the kernel */
	/* service_names, backend_names and backends had no pins at dp_open() and
	 * nothing wrote them since: once loaded they are as created, all zero,
	 * and the first dp_program() need not read 17 MB of them back.
	 */
	bool registry_fresh;
	int ncpus;
	/* The maps, valid once loaded (dp_collect_fds()); see maps.c for who writes each. */
	int vips_fd;
	int rev_nat_fd;
	int backends_fd;
	int rings_fd;
	int prev_rings_fd;
	int ring_grace_fd;
	int flows_fd;
	int flow_cache_fd;
	int service_stats_fd;
	int backend_stats_fd;
	int global_stats_fd;
	int service_names_fd;
	int backend_names_fd;
	int xsks_fd;
	int xsk_ifaces_fd;
	int http_affinity_fd;
	int cookie_keys_fd;
	int backend_tags_fd;
	int http_services_fd;
	int placements_fd;
	int route_sessions_fd;
	int http_bind_stats_fd;
	int cluster_fd;
	int routing_fd;
	/* What dp_program() last wrote, read back without a system call. */
	struct backend_value backends[LIMPET_MAX_BACKENDS];
	__u32 *rings[LIMPET_MAX_SERVICES];	/* NULL: no table (nothing takes new flows) */
	__u32 ring_sizes[LIMPET_MAX_SERVICES];
	/* ring_grace as dp/maps.c wrote it: clock_mono_ns() until which a
	 * service's prev_rings table counts; 0: none kept.
	 */
	__u64 ring_grace_until[LIMPET_MAX_SERVICES];
	/* Mirrors of the id registries and the backends map, read once by the
	 * first dp_program() and kept by every write of maps.c, so a commit
	 * reads no map (NULL until then).
	 */
	struct service_name_value *service_names;
	struct backend_name_value *backend_names;
	struct backend_value *backend_values;
	/* What each table was built from: equal inputs, equal table, no rebuild. */
	struct ring_input *ring_inputs[LIMPET_MAX_SERVICES];
	__u32 ring_n_inputs[LIMPET_MAX_SERVICES];
	/* HTTP routing state as dp/route.c last wrote it (NULL / false: not
	 * read yet; the first dp_program() reads or rewrites it).
	 */
	struct http_service_value *http_services;	/* LIMPET_MAX_SERVICES */
	struct backend_tag_entry *backend_tags;		/* sorted by key */
	size_t n_backend_tags;
	bool backend_tags_known;
	__u32 *placements[LIMPET_MAX_SERVICES];		/* NULL: none */
	struct placement_backend *placement_inputs[LIMPET_MAX_SERVICES];
	__u32 placement_n_inputs[LIMPET_MAX_SERVICES];
	bool placements_known;	/* ids without a table have none in the map either */
	/* rev_nat as the last commit left it, sorted by key (dp/program.c;
	 * NULL: read it back at the next commit).
	 */
	struct rev_claim *rev_nat;
	size_t n_rev_nat;
	struct limpet_ts_tag ts_tag;	/* as dp/cluster.c last wrote the cluster map */
	__u32 routing;			/* as dp/routing.c last wrote the routing map */
	bool routing_known;		/* routing is what the map holds */
	__u64 routing_next_ms;		/* no probe before (clock_mono_ms()) */
};

/* One backend_tags entry. */
struct backend_tag_entry {
	struct backend_tag_key key;
	__u32 backend_id;
};

/* One rev_nat entry, as dp/program.c claims, writes and mirrors them. */
struct rev_claim {
	struct rev_nat_key key;
	struct rev_nat_value val;
};

/* One backend as the Maglev table sees it: the name's hash stands in for the
 * name (an id keeps its name while in use).
 */
struct ring_input {
	__u64 name_hash;
	__u32 id;
	__u32 weight;
};

/* Fill the map descriptors from the loaded skeleton. */
void dp_collect_fds(struct dataplane *dp);

#endif /* LIMPET_DP_INTERNAL_H */
