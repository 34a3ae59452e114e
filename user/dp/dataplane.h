/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane.h - loading, pinning, attaching and programming the XDP data
 * plane. Everything that touches a BPF map from userspace goes through here,
 * so the controller, the packet tests and the benchmark program maps the
 * same way.
 */
#ifndef LIMPET_DATAPLANE_H
#define LIMPET_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "limpet_maps.h"
#include "model/config.h"

struct limpet_xdp;
struct xdp_program;

struct dataplane {
	struct limpet_xdp *skel;
	struct xdp_program *xdp_prog;	/* NULL until dp_attach() */
	char pin_dir[256];		/* "" when not pinned (tests) */
	bool adopted;			/* pinned maps existed: a restart */
	bool loaded;			/* programs and maps are in the kernel */
	int ncpus;
	int vips_fd;
	int backends_fd;
	int rings_fd;
	int flows_fd;
	int service_stats_fd;
	int backend_stats_fd;
	int global_stats_fd;
	int service_names_fd;
	int backend_names_fd;
	int xsks_fd;
	int xsk_ifaces_fd;
	int http_affinity_fd;
	int cookie_keys_fd;
};

/*
 * Pin directory of an instance, /sys/fs/bpf/limpet/<instance>, mounting the
 * BPF filesystem if needed. When this mount namespace hides the parent's
 * BPF filesystem (ip netns exec), joins the parent's mount namespace, which
 * resets the working directory: resolve relative paths before calling.
 * Returns 0 or -errno with one line in <err>.
 */
int dp_pin_dir(const char *instance, char *buf, size_t len, char *err, size_t errlen);

/*
 * Open the BPF object. <pin_dir> NULL: private maps (tests, benchmark);
 * otherwise maps are reused from / pinned to it. <flow_entries> sizes the
 * flow table. Nothing is loaded yet.
 */
int dp_open(struct dataplane *dp, const char *pin_dir, __u32 flow_entries);

/* Load without attaching (tests, benchmark). */
int dp_load(struct dataplane *dp);

/*
 * Attach to <ifname> through libxdp (which loads the object on first use),
 * native mode falling back to generic with a warning, then detach any older
 * limpet program there, so a restart replaces the program without a gap.
 */
int dp_attach(struct dataplane *dp, const char *ifname, enum xdp_mode_cfg mode, char *err,
	      size_t errlen);

/* Detach every limpet program from <ifname> (limpet down). */
int dp_detach_ifname(const char *ifname, char *err, size_t errlen);

/* Remove the pinned maps of <pin_dir> and the directory. */
int dp_unpin(const char *pin_dir);

void dp_close(struct dataplane *dp);

/* Map programming. All return 0 or -errno. */
int dp_set_vip(struct dataplane *dp, const struct vip_key *key, const struct vip_value *val);
int dp_del_vip(struct dataplane *dp, const struct vip_key *key);
int dp_set_backend(struct dataplane *dp, __u32 id, const struct backend_value *val);
int dp_get_backend(struct dataplane *dp, __u32 id, struct backend_value *val);

/* Build a new inner map from <table> (<size> slots) and swap it in whole. */
int dp_swap_ring(struct dataplane *dp, __u32 service_id, const __u32 *table, __u32 size);
int dp_clear_ring(struct dataplane *dp, __u32 service_id);

/* Sum per-CPU counters. <map_fd> is service_stats_fd or backend_stats_fd. */
int dp_read_counters(struct dataplane *dp, int map_fd, __u32 id, struct limpet_counters *sum);
int dp_read_global(struct dataplane *dp, __u64 out[LIMPET_STAT_MAX]);
int dp_reset_counters(struct dataplane *dp, int map_fd, __u32 id);

/* Name of a global counter, for stats output. */
const char *dp_stat_name(enum limpet_stat stat);

/* Fill a vip_key from a service's VIP, port (host order) and protocol. */
void dp_vip_key(struct vip_key *key, const struct ip_address *vip, __u16 port, __u8 proto);

#endif /* LIMPET_DATAPLANE_H */
