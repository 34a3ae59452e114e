/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * dataplane.c - the XDP data plane seen from userspace: open the skeleton,
 * reuse or create the pinned maps, attach through libxdp. Maps are pinned
 * by name under /sys/fs/bpf/limpet/<instance>, so a
 * new controller (even a newer build) finds the flows the old one left and
 * not one established connection notices the restart.
 */
#define _GNU_SOURCE /* setns */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <dirent.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <linux/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "base/files.h"
#include "base/log.h"
#include "dp/dataplane.h"
#include "dp/internal.h"
#include "dp/maps.h"
#include "dp/program.h"
#include "limpet_xdp.skel.h"

#define BPFFS "/sys/fs/bpf"
#define PROG_NAME "limpet_xdp"

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/*
 * `ip netns exec` runs its command in a private mount namespace whose /sys
 * has no BPF filesystem: pins made there would vanish with the process, and
 * a restarted controller would find no flows. Its parent (the shell that ran
 * it) still has the real one, so join the parent's mount namespace; the
 * network namespace stays as it is. 0 when it did; -ENOENT when the parent
 * has none either; else -errno, the reason in <why>.
 */
static int join_parent_mount_ns(const char **why)
{
	char path[64];
	int fd, i, err;

	snprintf(path, sizeof(path), "/proc/%d/root" BPFFS, (int)getppid());
	if (!is_bpffs(path))
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)getppid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*why = "open";
		return -errno;
	}
	/* setns() refuses (EINVAL) while another thread shares our
	 * filesystem attributes: one just joined may not have let go yet.
	 */
	for (i = 0; i < 100; i++) {
		err = setns(fd, CLONE_NEWNS) ? -errno : 0;
		if (err != -EINVAL)
			break;
		usleep(10000);
	}
	close(fd);
	*why = "setns";
	if (err)
		return err;
	*why = "the joined namespace's " BPFFS;
	return is_bpffs(BPFFS) ? 0 : -ENOENT;
}

/* Where the instance's pins live: /sys/fs/bpf, mounted if need be. */
int dp_pin_dir(const char *instance, char *buf, size_t len, char *err, size_t errlen)
{
	const char *why = NULL;
	int n, joined;

	if (!is_bpffs(BPFFS)) {
		joined = join_parent_mount_ns(&why);
		if (!joined) {
			pr_info("%s is hidden in this mount namespace (ip netns exec?); using the "
				"parent's", BPFFS);
		} else {
			if (why)
				pr_warn("%s is hidden in this mount namespace and the parent's could "
					"not be joined (%s: %s): pins made here vanish with it",
					BPFFS, why, strerror(-joined));
			if (mount("bpf", BPFFS, "bpf", 0, NULL)) {
				snprintf(err, errlen, "cannot mount the BPF filesystem on %s: %s",
					 BPFFS, strerror(errno));
				return -errno;
			}
		}
	}
	n = snprintf(buf, len, "%s/limpet/%s", BPFFS, instance);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "pin path for instance '%s' too long", instance);
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Does <map> have a pin to reuse (pinned by name, and the pin exists)? */
static bool pinned(const struct bpf_map *map)
{
	const char *path = bpf_map__pin_path(map);

	return path && access(path, F_OK) == 0;
}

static const struct premade_def {
	const char *name;
	enum bpf_map_type type;
	__u32 key_size, value_size, max_entries;
} premade_defs[DP_PREMADE_MAPS] = {
	{ "backend_stats", BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(__u32),
	  sizeof(struct limpet_counters), LIMPET_MAX_BACKENDS },
	{ "route_sessions", BPF_MAP_TYPE_LRU_HASH, sizeof(struct route_session_key),
	  sizeof(struct route_session_value), LIMPET_ROUTE_SESSIONS_MAX },
};

void dp_premake(struct dp_premade *pm)
{
	const struct premade_def *d;
	size_t i;

	for (i = 0; i < DP_PREMADE_MAPS; i++) {
		d = &premade_defs[i];
		pm->fd[i] = bpf_map_create(d->type, d->name, d->key_size, d->value_size,
					   d->max_entries, NULL);
	}
}

void dp_use_premade(struct dataplane *dp, struct dp_premade *pm)
{
	const struct premade_def *d;
	struct bpf_map *map;
	bool fits;
	size_t i;

	for (i = 0; i < DP_PREMADE_MAPS; i++) {
		d = &premade_defs[i];
		map = bpf_object__find_map_by_name(dp->skel->obj, d->name);
		/* The object's definition decides: premade_defs[] out of step
		 * with it, or a pin to adopt, and the loader makes the map.
		 */
		fits = pm->fd[i] >= 0 && map && !pinned(map) && bpf_map__type(map) == d->type &&
		       bpf_map__key_size(map) == d->key_size &&
		       bpf_map__value_size(map) == d->value_size &&
		       bpf_map__max_entries(map) == d->max_entries && !bpf_map__map_flags(map);
		if (fits && bpf_map__reuse_fd(map, pm->fd[i]))
			pr_debug("%s: premade map not taken; the loader makes it", d->name);
	}
	dp_premade_close(pm);
}

void dp_premade_close(struct dp_premade *pm)
{
	size_t i;

	for (i = 0; i < DP_PREMADE_MAPS; i++) {
		if (pm->fd[i] >= 0)
			close(pm->fd[i]);
		pm->fd[i] = -1;
	}
}

__u32 dp_flow_map_entries(__u32 flow_entries)
{
	if (flow_entries && !(flow_entries & (flow_entries - 1)) && flow_entries < 0x80000000u)
		return flow_entries + 1;
	return flow_entries;
}

/* max_entries of the map pinned at <path>; 0 if there is none. */
static __u32 pinned_max_entries(const char *path)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	return info.max_entries;
}

int dp_open(struct dataplane **out, const char *pin_dir, __u32 flow_entries)
{
	__u32 flow_map_entries = dp_flow_map_entries(flow_entries);
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	struct dataplane *dp;
	struct bpf_map *map;
	char probe[300];
	int err;

	*out = NULL;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->ncpus = libbpf_num_possible_cpus();
	if (dp->ncpus <= 0) {
		err = dp->ncpus ? dp->ncpus : -EINVAL;
		free(dp);
		return err;
	}

	if (pin_dir) {
		snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", pin_dir);
		err = files_mkdir_p(pin_dir, 0700);
		if (err) {
			free(dp);
			return err;
		}
		snprintf(probe, sizeof(probe), "%s/flows", pin_dir);
		dp->adopted = access(probe, F_OK) == 0;
		/* Made by a limpet that sized it exactly: adopted as it is. */
		if (dp->adopted && pinned_max_entries(probe) == flow_entries)
			flow_map_entries = flow_entries;
		opts.pin_root_path = dp->pin_dir;
	}

	dp->skel = limpet_xdp__open_opts(&opts);
	if (!dp->skel) {
		err = -errno ? -errno : -EINVAL;
		free(dp);
		return err;
	}

	err = bpf_map__set_max_entries(dp->skel->maps.flows, flow_map_entries);
	if (err)
		goto fail;
	/* The instance lock is held: no other controller pins them meanwhile. */
	dp->registry_fresh = !pin_dir || (!pinned(dp->skel->maps.service_names) &&
					  !pinned(dp->skel->maps.backend_names) &&
					  !pinned(dp->skel->maps.backends));
	if (!pin_dir) {
		bpf_object__for_each_map(map, dp->skel->obj) {
			err = bpf_map__set_pin_path(map, NULL);
			if (err)
				goto fail;
		}
	}
	*out = dp;
	return 0;
fail:
	limpet_xdp__destroy(dp->skel);
	free(dp);
	return err;
}

void dp_collect_fds(struct dataplane *dp)
{
	dp->vips_fd = bpf_map__fd(dp->skel->maps.vips);
	dp->rev_nat_fd = bpf_map__fd(dp->skel->maps.rev_nat);
	dp->cluster_fd = bpf_map__fd(dp->skel->maps.cluster);
	dp->routing_fd = bpf_map__fd(dp->skel->maps.routing);
	dp->backends_fd = bpf_map__fd(dp->skel->maps.backends);
	dp->rings_fd = bpf_map__fd(dp->skel->maps.rings);
	dp->prev_rings_fd = bpf_map__fd(dp->skel->maps.prev_rings);
	dp->ring_grace_fd = bpf_map__fd(dp->skel->maps.ring_grace);
	dp->flows_fd = bpf_map__fd(dp->skel->maps.flows);
	dp->flow_cache_fd = bpf_map__fd(dp->skel->maps.flow_cache);
	dp->service_stats_fd = bpf_map__fd(dp->skel->maps.service_stats);
	dp->backend_stats_fd = bpf_map__fd(dp->skel->maps.backend_stats);
	dp->global_stats_fd = bpf_map__fd(dp->skel->maps.global_stats);
	dp->service_names_fd = bpf_map__fd(dp->skel->maps.service_names);
	dp->backend_names_fd = bpf_map__fd(dp->skel->maps.backend_names);
	dp->xsks_fd = bpf_map__fd(dp->skel->maps.xsks);
	dp->xsk_ifaces_fd = bpf_map__fd(dp->skel->maps.xsk_ifaces);
	dp->http_affinity_fd = bpf_map__fd(dp->skel->maps.http_affinity);
	dp->cookie_keys_fd = bpf_map__fd(dp->skel->maps.cookie_keys);
	dp->backend_tags_fd = bpf_map__fd(dp->skel->maps.backend_tags);
	dp->http_services_fd = bpf_map__fd(dp->skel->maps.http_services);
	dp->placements_fd = bpf_map__fd(dp->skel->maps.placements);
	dp->route_sessions_fd = bpf_map__fd(dp->skel->maps.route_sessions);
	dp->http_bind_stats_fd = bpf_map__fd(dp->skel->maps.http_bind_stats);
}

/* The secret of limpet's own SYN cookie: made once; a pinned one is kept. */
static int dp_make_syn_secret(struct dataplane *dp)
{
	struct limpet_syncookie_key key = { 0 };
	int ret = dp_get_syn_secret(dp, &key);

	if (ret || key.k0 || key.k1)
		return ret;
	if (getrandom(&key, sizeof(key), 0) != sizeof(key))
		return -EIO;
	return dp_set_syn_secret(dp, &key);
}

/* The programs the entry point tail-calls (bpf/lib/affinity.h, bind.h), and the
 * values the data plane needs before its first packet.
 */
static int dp_fill_prog_slots(struct dataplane *dp)
{
	int prog = bpf_program__fd(dp->skel->progs.limpet_affinity);
	__u32 slot = 0;

	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.affinity_progs), &slot, &prog,
				BPF_ANY))
		return -errno;
	prog = bpf_program__fd(dp->skel->progs.limpet_bind);
	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.bind_progs), &slot, &prog, BPF_ANY))
		return -errno;
	return dp_make_syn_secret(dp);
}

int dp_load(struct dataplane *dp)
{
	int err = limpet_xdp__load(dp->skel);

	if (err)
		return err;
	dp->loaded = true;
	dp_collect_fds(dp);
	return dp_fill_prog_slots(dp);
}

/* Detach every limpet program on <ifindex> except the one with <keep_id>. */
static int detach_limpet_progs(int ifindex, __u32 keep_id)
{
	struct xdp_multiprog *mp;
	struct xdp_program *prog, *next;
	enum xdp_attach_mode mode;
	int err = 0;

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	if (libxdp_get_error(mp))
		return 0; /* nothing attached */
	mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		prog = xdp_multiprog__main_prog(mp);
		if (prog && !strcmp(xdp_program__name(prog), PROG_NAME) &&
		    xdp_program__id(prog) != keep_id)
			err = xdp_program__detach(prog, ifindex, mode, 0);
		goto out;
	}
	for (prog = xdp_multiprog__next_prog(NULL, mp); prog; prog = next) {
		next = xdp_multiprog__next_prog(prog, mp);
		if (strcmp(xdp_program__name(prog), PROG_NAME) || xdp_program__id(prog) == keep_id)
			continue;
		err = xdp_program__detach(prog, ifindex, mode, 0);
		if (err)
			break;
	}
out:
	xdp_multiprog__close(mp);
	return err;
}

static void xdp_err(int err, char *buf, size_t len)
{
	if (libxdp_strerror(err, buf, len) < 0)
		snprintf(buf, len, "%s", strerror(-err));
}

/* Make sure the object is loaded and wrapped for libxdp. libxdp loads it
 * itself on first attach (as a dispatcher component where the kernel allows
 * freplace); loading it here is only needed to replace a program directly.
 */
static int dp_prepare(struct dataplane *dp, bool load, char *err, size_t errlen)
{
	char why[128];
	int ret;

	if (load && !dp->loaded) {
		ret = limpet_xdp__load(dp->skel);
		if (ret) {
			snprintf(err, errlen, "cannot load the data plane: %s%s", strerror(-ret),
				 dp->adopted ? " (do the pinned maps come from another "
					       "flow_table_size? 'limpet down' removes them)" : "");
			return ret;
		}
		dp->loaded = true;
	}
	if (!dp->xdp_prog) {
		DECLARE_LIBXDP_OPTS(xdp_program_opts, xopts, .obj = dp->skel->obj,
				    .prog_name = PROG_NAME);

		dp->xdp_prog = xdp_program__create(&xopts);
		ret = libxdp_get_error(dp->xdp_prog);
		if (ret) {
			dp->xdp_prog = NULL;
			xdp_err(ret, why, sizeof(why));
			snprintf(err, errlen, "cannot prepare the XDP program: %s", why);
			return ret;
		}
	}
	return 0;
}

/*
 * What is on the interface now: nothing, a libxdp dispatcher, or a program
 * attached directly. <old> gets the fd of a directly attached limpet program.
 */
enum attached_kind {
	ATTACHED_NONE,
	ATTACHED_DISPATCHER,
	ATTACHED_LIMPET,
	ATTACHED_FOREIGN,
};

static enum attached_kind inspect_interface(int ifindex, int *old_fd, enum xdp_attach_mode *mode,
					    char *name, size_t name_len)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *main_prog;
	enum attached_kind kind;

	if (libxdp_get_error(mp) || !mp)
		return ATTACHED_NONE;
	*mode = xdp_multiprog__attach_mode(mp);
	if (!xdp_multiprog__is_legacy(mp)) {
		xdp_multiprog__close(mp);
		return ATTACHED_DISPATCHER;
	}
	main_prog = xdp_multiprog__main_prog(mp);
	if (!main_prog) {
		kind = ATTACHED_NONE;
	} else if (!strcmp(xdp_program__name(main_prog), PROG_NAME)) {
		*old_fd = dup(xdp_program__fd(main_prog));
		kind = ATTACHED_LIMPET;
	} else {
		snprintf(name, name_len, "%s", xdp_program__name(main_prog));
		kind = ATTACHED_FOREIGN;
	}
	xdp_multiprog__close(mp);
	return kind;
}

/* Swap a directly attached limpet program for ours in one netlink call:
 * libxdp has no replace for programs outside its dispatcher.
 */
static int replace_direct(struct dataplane *dp, int ifindex, int old_fd,
			  enum xdp_attach_mode mode, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);
	__u32 flags = XDP_FLAGS_REPLACE;
	int ret;

	ret = dp_prepare(dp, true, err, errlen);
	if (ret)
		return ret;
	flags |= mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	ret = bpf_xdp_attach(ifindex, bpf_program__fd(dp->skel->progs.limpet_xdp), flags, &opts);
	if (ret)
		snprintf(err, errlen, "cannot replace the previous limpet program: %s",
			 strerror(-ret));
	return ret;
}

int dp_attach(struct dataplane *dp, const char *ifname, enum xdp_mode_cfg mode, char *err,
	      size_t errlen)
{
	enum xdp_attach_mode xmode = mode == XDP_MODE_CFG_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	enum xdp_attach_mode cur_mode = XDP_MODE_UNSPEC;
	char why[128], foreign[64];
	int ifindex, ret, old_fd = -1;

	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, errlen, "interface '%s' not found", ifname);
		return -ENODEV;
	}

	switch (inspect_interface(ifindex, &old_fd, &cur_mode, foreign, sizeof(foreign))) {
	case ATTACHED_FOREIGN:
		snprintf(err, errlen, "interface '%s' already has another XDP program ('%s')",
			 ifname, foreign);
		return -EBUSY;
	case ATTACHED_LIMPET:
		/* A restart: replace the old program atomically, no gap. */
		ret = replace_direct(dp, ifindex, old_fd, cur_mode, err, errlen);
		close(old_fd);
		if (ret)
			return ret;
		xmode = cur_mode;
		goto attached;
	case ATTACHED_NONE:
	case ATTACHED_DISPATCHER:
		break;
	}

	ret = dp_prepare(dp, false, err, errlen);
	if (ret)
		return ret;
	ret = xdp_program__attach(dp->xdp_prog, ifindex, xmode, 0);
	if (ret && xmode == XDP_MODE_NATIVE && ret != -EBUSY) {
		xdp_err(ret, why, sizeof(why));
		pr_warn("native XDP on %s failed (%s); falling back to generic mode", ifname, why);
		xmode = XDP_MODE_SKB;
		ret = xdp_program__attach(dp->xdp_prog, ifindex, xmode, 0);
	}
	if (ret) {
		xdp_err(ret, why, sizeof(why));
		if (dp->adopted && !dp->loaded)
			snprintf(err, errlen,
				 "cannot load the data plane on %s: %s (do the pinned maps in %s come "
				 "from another flow_table_size? 'limpet down' removes them)",
				 ifname, why, dp->pin_dir);
		else
			snprintf(err, errlen, "cannot attach XDP to %s: %s", ifname, why);
		return ret;
	}
	dp->loaded = true;

	/* Under a dispatcher an older limpet program (the previous
	 * controller's) stays until the new one is in, so no packet ever finds
	 * the interface bare.
	 */
	ret = detach_limpet_progs(ifindex, xdp_program__id(dp->xdp_prog));
	if (ret) {
		xdp_err(ret, why, sizeof(why));
		pr_warn("could not detach the previous limpet program from %s: %s", ifname, why);
	}
attached:
	dp_collect_fds(dp);
	/* libxdp loaded the object, not dp_load(): the tail-call slots are
	 * filled here too, else XDP never reads a request head.
	 */
	ret = dp_fill_prog_slots(dp);
	if (ret) {
		snprintf(err, errlen, "cannot fill the data plane's program slots: %s",
			 strerror(-ret));
		return ret;
	}
	pr_info("attached to %s (%s mode)", ifname, xmode == XDP_MODE_SKB ? "generic" : "native");
	return 0;
}

int dp_detach_ifname(const char *ifname, char *err, size_t errlen)
{
	char why[128];
	int ifindex, ret;

	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		snprintf(err, errlen, "interface '%s' not found", ifname);
		return -ENODEV;
	}
	ret = detach_limpet_progs(ifindex, 0);
	if (ret) {
		xdp_err(ret, why, sizeof(why));
		snprintf(err, errlen, "cannot detach XDP from %s: %s", ifname, why);
	}
	return ret;
}

int dp_unpin(const char *pin_dir)
{
	struct dirent *de;
	char path[512];
	DIR *dir;
	int err = 0;

	dir = opendir(pin_dir);
	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", pin_dir, de->d_name);
		if (unlink(path) && errno != ENOENT)
			err = -errno;
	}
	closedir(dir);
	if (rmdir(pin_dir) && errno != ENOENT)
		err = -errno;
	return err;
}

void dp_close(struct dataplane *dp)
{
	if (!dp)
		return;
	/* Closing never detaches: the program stays attached and forwarding. */
	if (dp->xdp_prog)
		xdp_program__close(dp->xdp_prog);
	if (dp->skel)
		limpet_xdp__destroy(dp->skel);
	dp_forget_programmed(dp);
	free(dp);
}

bool dp_adopted(const struct dataplane *dp)
{
	return dp->adopted;
}

int dp_prog_fd(const struct dataplane *dp)
{
	return bpf_program__fd(dp->skel->progs.limpet_xdp);
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* libbpf warns about things limpet handles itself (a missing pin is
	 * created, a native-mode failure falls back): keep them out of the
	 * default output and report the outcome in limpet's own words.
	 */
	log_vmsg(LOG_LEVEL_DEBUG, "libbpf: ", fmt, ap);
	return 0;
}

static int libxdp_log(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	/* e.g. its dispatcher check failing where freplace is not allowed. */
	log_vmsg(LOG_LEVEL_DEBUG, "libxdp: ", fmt, ap);
	return 0;
}

void dp_route_library_logs(void)
{
	libbpf_set_print(libbpf_log);
	libxdp_set_print(libxdp_log);
}
