/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane.h - loading, pinning and attaching the XDP data plane.
 *
 * dp/ is the only part of the controller that touches BPF maps: this file
 * loads and attaches, maps.h reads and writes each map through typed
 * functions, program.h makes the maps match the model. The controller, the
 * packet tests and the benchmark all go through them, so they program the
 * data plane the same way. struct dataplane is opaque outside dp/.
 */
#ifndef LIMPET_DATAPLANE_H
#define LIMPET_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "model/config.h"

struct dataplane;

/*
 * Pin directory of an instance, /sys/fs/bpf/limpet/<instance>, mounting the
 * BPF filesystem if needed. When this mount namespace hides the parent's
 * BPF filesystem (ip netns exec), joins the parent's mount namespace, which
 * resets the working directory: resolve relative paths before calling.
 * Returns 0 or -errno with one line in <err>.
 */
int dp_pin_dir(const char *instance, char *buf, size_t len, char *err, size_t errlen);

/*
 * Open the BPF object into a new *<out>. <pin_dir> NULL: private maps
 * (tests, benchmark); otherwise maps are reused from / pinned to it.
 * <flow_entries> sizes the flow table. Nothing is loaded yet. 0 or -errno.
 */
int dp_open(struct dataplane **out, const char *pin_dir, __u32 flow_entries);

/*
 * The maps whose size no configuration changes (backend_stats: 131,072
 * per-CPU counters; route_sessions: a million preallocated entries), made
 * ahead: the kernel takes some 150 ms over them, which `limpet run` spends
 * on another thread while it reads its configuration, not while it loads the
 * program. dp_premake() may run before dp_open(), on any thread; each fd is
 * -1 where the kernel refused.
 */
#define DP_PREMADE_MAPS 2

struct dp_premade {
	int fd[DP_PREMADE_MAPS];
};

void dp_premake(struct dp_premade *pm);

/*
 * Hand <pm>'s maps to <dp> (after dp_open(), before loading) where the
 * object's map has no pin to reuse and the same type, sizes and flags;
 * closes <pm>'s fds either way (a taken map keeps libbpf's copy).
 */
void dp_use_premade(struct dataplane *dp, struct dp_premade *pm);

/* Close <pm>'s maps unused (start-up failed before dp_open()). */
void dp_premade_close(struct dp_premade *pm);

/*
 * The flow map's max_entries for <flow_entries> flows. The kernel gives a
 * hash map roundup_pow_of_two(max_entries) buckets: at a power of two, one
 * entry more doubles them (16 MB more per million flows), so the chains of
 * a full table hold half an entry on average and a lookup that misses
 * (every SYN, and every first packet) reads half as many entries. dp_open()
 * sizes the map so, but adopts a pinned table of exactly <flow_entries>.
 */
__u32 dp_flow_map_entries(__u32 flow_entries);

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

/* Close (never detach: an attached program keeps forwarding) and free. */
void dp_close(struct dataplane *dp);

/* Did dp_open() find pinned maps (a restart)? */
bool dp_adopted(const struct dataplane *dp);

/* The entry program, for bpf_prog_test_run_opts() (packet tests, benchmark). */
int dp_prog_fd(const struct dataplane *dp);

/* Send libbpf's and libxdp's messages to the log, at debug level. */
void dp_route_library_logs(void);

#endif /* LIMPET_DATAPLANE_H */
