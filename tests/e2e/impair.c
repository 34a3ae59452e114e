/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * impair.c - loader of impair.bpf.c, the end-to-end tests' stand-in for
 * netem (packet loss and reordering on the receiving end of a veth).
 *
 *   impair [-n NETNS] attach IFNAME DROP_PCT REORDER_PCT
 *   impair [-n NETNS] stats IFNAME    prints "dropped N reordered N passed N"
 *   impair [-n NETNS] detach IFNAME   succeeds when nothing is attached
 *   impair prune                      drops pins of vanished interfaces
 *
 * The program is attached through a BPF link that is pinned, with the
 * config and counter maps, under /sys/fs/bpf/impair/<netns inode>/<IFNAME>/,
 * so it stays attached after attach exits and later invocations find it.
 * attach on an interface that already has it only changes the percentages.
 *
 * -n NETNS enters /run/netns/NETNS (or a path) for the network namespace
 * only; the mount namespace stays the caller's, so the pins are the host's.
 * `nsenter --net=/run/netns/NS` is equivalent. Under `ip netns exec`, whose
 * private /sys hides the host's BPF filesystem, the parent's mount
 * namespace is joined, as limpet itself does.
 */
#define _GNU_SOURCE /* setns */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "impair.h"
#include "impair.skel.h"

#define BPFFS "/sys/fs/bpf"
#define PIN_ROOT BPFFS "/impair"

/* Every pin of one attachment, removed in this order on detach. */
static const char *const pin_names[] = { "link", "cfg", "stats" };

static void usage(void)
{
	fprintf(stderr,
		"usage: impair [-n NETNS] attach IFNAME DROP_PCT REORDER_PCT\n"
		"       impair [-n NETNS] stats IFNAME\n"
		"       impair [-n NETNS] detach IFNAME\n"
		"       impair prune\n");
	exit(2);
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

static int enter_netns(const char *name)
{
	char path[PATH_MAX];
	int fd, err = 0;

	snprintf(path, sizeof(path), strchr(name, '/') ? "%s" : "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		err = -errno;
		fprintf(stderr, "impair: cannot enter network namespace %s: %s\n", path,
			strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return err;
}

/*
 * Pins made in a private mount namespace would vanish with this process;
 * `ip netns exec` execs us directly, so our parent has the host's view.
 */
static int find_bpffs(void)
{
	bool joined = false;
	char path[64];
	int fd;

	if (is_bpffs(BPFFS))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)getppid());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		joined = !setns(fd, CLONE_NEWNS);
		close(fd);
	}
	if (joined && is_bpffs(BPFFS))
		return 0;
	fprintf(stderr, "impair: no BPF filesystem on %s; use -n NETNS or nsenter --net "
		"rather than ip netns exec\n", BPFFS);
	return -ENOENT;
}

/* PIN_ROOT/<netns inode>/<ifname>: a pin names one interface of one netns. */
static int pin_dir(const char *ifname, char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st)) {
		fprintf(stderr, "impair: /proc/self/ns/net: %s\n", strerror(errno));
		return -errno;
	}
	if (strlen(ifname) >= IFNAMSIZ || strchr(ifname, '/')) {
		fprintf(stderr, "impair: bad interface name '%s'\n", ifname);
		return -EINVAL;
	}
	snprintf(buf, len, PIN_ROOT "/%lu/%s", (unsigned long)st.st_ino, ifname);
	return 0;
}

static int open_pin(const char *dir, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return bpf_obj_get(path);
}

/* Unpinning the link detaches the program; the maps go with it. */
static void remove_pins(const char *dir)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(pin_names) / sizeof(pin_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, pin_names[i]);
		unlink(path);
	}
	rmdir(dir);
	/* The netns and root directories go once empty. */
	snprintf(path, sizeof(path), "%s", dir);
	*strrchr(path, '/') = '\0';
	rmdir(path);
	rmdir(PIN_ROOT);
}

/* The ifindex the pinned link is attached to, 0 once the device is gone. */
static int link_ifindex(const char *dir)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd, ifindex = 0;

	fd = open_pin(dir, "link");
	if (fd < 0)
		return 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.type == BPF_LINK_TYPE_XDP)
		ifindex = info.xdp.ifindex;
	close(fd);
	return ifindex;
}

static int parse_pct(const char *s, __u32 *pct)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 100) {
		fprintf(stderr, "impair: '%s' is not a percentage (0..100)\n", s);
		return -EINVAL;
	}
	*pct = v;
	return 0;
}

static int set_cfg(int fd, const struct impair_cfg *cfg)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(fd, &zero, cfg, BPF_ANY)) {
		fprintf(stderr, "impair: cannot set the config: %s\n", strerror(errno));
		return -errno;
	}
	return 0;
}

/* One kthread-backed queue per CPU; CPUs that refuse one just get none. */
static __u32 fill_cpumap(int fd, int nr_cpus)
{
	struct bpf_cpumap_val val = { .qsize = IMPAIR_QSIZE };
	__u32 cpu, set = 0;

	for (cpu = 0; cpu < (__u32)nr_cpus; cpu++) {
		if (bpf_map_update_elem(fd, &cpu, &val, BPF_ANY))
			fprintf(stderr, "impair: no cpumap queue for CPU %u: %s\n", cpu,
				strerror(errno));
		else
			set++;
	}
	return set;
}

static int reconfigure(const char *dir, const char *ifname, struct impair_cfg *cfg)
{
	struct impair_cfg old;
	__u32 zero = 0;
	int fd, err;

	fd = open_pin(dir, "cfg");
	if (fd < 0 || bpf_map_lookup_elem(fd, &zero, &old)) {
		fprintf(stderr, "impair: %s: cannot read the pinned config\n", ifname);
		if (fd >= 0)
			close(fd);
		return -ENOENT;
	}
	cfg->nr_cpus = old.nr_cpus;
	err = set_cfg(fd, cfg);
	close(fd);
	return err;
}

static int cmd_attach(const char *ifname, const char *drop, const char *reorder)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = XDP_FLAGS_DRV_MODE);
	struct impair_cfg cfg = {};
	char dir[PATH_MAX], path[PATH_MAX + 8];
	struct impair *skel = NULL;
	int ifindex, nr_cpus, link_fd = -1, err;

	if (parse_pct(drop, &cfg.drop_pct) || parse_pct(reorder, &cfg.reorder_pct))
		return -EINVAL;
	if (cfg.drop_pct + cfg.reorder_pct > 100) {
		fprintf(stderr, "impair: drop + reorder exceeds 100%%\n");
		return -EINVAL;
	}
	ifindex = if_nametoindex(ifname);
	if (!ifindex) {
		fprintf(stderr, "impair: no interface %s here\n", ifname);
		return -ENODEV;
	}
	err = pin_dir(ifname, dir, sizeof(dir));
	if (err)
		return err;

	if (link_ifindex(dir) == ifindex)
		return reconfigure(dir, ifname, &cfg);
	remove_pins(dir);	/* leftovers of an interface of the same name */

	nr_cpus = libbpf_num_possible_cpus();
	if (nr_cpus <= 0 || nr_cpus > IMPAIR_MAX_CPUS) {
		fprintf(stderr, "impair: unsupported CPU count %d\n", nr_cpus);
		return -ERANGE;
	}
	skel = impair__open();
	if (!skel) {
		fprintf(stderr, "impair: cannot open the BPF object\n");
		return -errno;
	}
	/* A cpumap larger than nr_cpu_ids is refused. */
	bpf_map__set_max_entries(skel->maps.impair_cpus, nr_cpus);
	err = impair__load(skel);
	if (err) {
		fprintf(stderr, "impair: cannot load the program: %s\n", strerror(-err));
		goto out;
	}
	cfg.nr_cpus = fill_cpumap(bpf_map__fd(skel->maps.impair_cpus), nr_cpus) ? nr_cpus : 0;
	err = set_cfg(bpf_map__fd(skel->maps.impair_cfg), &cfg);
	if (err)
		goto out;

	/* Native mode only: generic XDP would not show what veth's NAPI does. */
	link_fd = bpf_link_create(bpf_program__fd(skel->progs.impair_xdp), ifindex,
				  BPF_XDP, &opts);
	if (link_fd < 0) {
		err = -errno;
		fprintf(stderr, "impair: cannot attach to %s in native mode: %s\n", ifname,
			strerror(errno));
		goto out;
	}

	snprintf(path, sizeof(path), "%s", dir);
	*strrchr(path, '/') = '\0';
	if ((mkdir(PIN_ROOT, 0700) && errno != EEXIST) ||
	    (mkdir(path, 0700) && errno != EEXIST) || (mkdir(dir, 0700) && errno != EEXIST)) {
		err = -errno;
		fprintf(stderr, "impair: cannot create %s: %s\n", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/cfg", dir);
	err = bpf_map__pin(skel->maps.impair_cfg, path);
	snprintf(path, sizeof(path), "%s/stats", dir);
	err = err ?: bpf_map__pin(skel->maps.impair_stats, path);
	snprintf(path, sizeof(path), "%s/link", dir);
	err = err ?: (bpf_obj_pin(link_fd, path) ? -errno : 0);
	if (err) {
		fprintf(stderr, "impair: cannot pin under %s: %s\n", dir, strerror(-err));
		remove_pins(dir);
	}
out:
	if (link_fd >= 0)
		close(link_fd);	/* the pin, if any, keeps it attached */
	impair__destroy(skel);
	return err;
}

static int cmd_stats(const char *ifname)
{
	__u64 sum[IMPAIR_NR_STATS] = {}, *vals;
	char dir[PATH_MAX];
	int nr_cpus, fd, err;
	__u32 key;

	err = pin_dir(ifname, dir, sizeof(dir));
	if (err)
		return err;
	fd = open_pin(dir, "stats");
	if (fd < 0) {
		fprintf(stderr, "impair: nothing attached to %s\n", ifname);
		return -ENOENT;
	}
	nr_cpus = libbpf_num_possible_cpus();
	vals = calloc(nr_cpus > 0 ? nr_cpus : 1, sizeof(*vals));
	for (key = 0; vals && key < IMPAIR_NR_STATS; key++) {
		if (bpf_map_lookup_elem(fd, &key, vals)) {
			err = -errno;
			break;
		}
		for (int cpu = 0; cpu < nr_cpus; cpu++)
			sum[key] += vals[cpu];
	}
	close(fd);
	if (!vals || err) {
		fprintf(stderr, "impair: cannot read the counters of %s\n", ifname);
		free(vals);
		return err ?: -ENOMEM;
	}
	free(vals);
	printf("dropped %llu reordered %llu passed %llu\n",
	       (unsigned long long)sum[IMPAIR_DROPPED],
	       (unsigned long long)sum[IMPAIR_REORDERED],
	       (unsigned long long)sum[IMPAIR_PASSED]);
	return 0;
}

static int cmd_detach(const char *ifname)
{
	char dir[PATH_MAX];
	int err;

	err = pin_dir(ifname, dir, sizeof(dir));
	if (!err)
		remove_pins(dir);
	return err;
}

/* Remove the pins whose interface (or whole netns) is gone. */
static int cmd_prune(void)
{
	char ns_dir[PATH_MAX], dir[PATH_MAX * 2];
	struct dirent *ns, *ifc;
	DIR *root, *d;

	root = opendir(PIN_ROOT);
	if (!root)
		return 0;
	while ((ns = readdir(root))) {
		if (ns->d_name[0] == '.')
			continue;
		snprintf(ns_dir, sizeof(ns_dir), PIN_ROOT "/%s", ns->d_name);
		d = opendir(ns_dir);
		while (d && (ifc = readdir(d))) {
			if (ifc->d_name[0] == '.')
				continue;
			snprintf(dir, sizeof(dir), "%s/%s", ns_dir, ifc->d_name);
			if (!link_ifindex(dir))
				remove_pins(dir);
		}
		if (d)
			closedir(d);
	}
	closedir(root);
	return 0;
}

int main(int argc, char **argv)
{
	const char *netns = NULL, *cmd;
	int opt, err;

	while ((opt = getopt(argc, argv, "+n:h")) != -1) {
		if (opt != 'n')
			usage();
		netns = optarg;
	}
	argv += optind;
	argc -= optind;
	if (argc < 1)
		usage();
	cmd = argv[0];

	/* Before entering the netns: /proc/<ppid> must be this mount ns's. */
	if (find_bpffs())
		return 1;
	if (netns && enter_netns(netns))
		return 1;

	if (!strcmp(cmd, "attach") && argc == 4)
		err = cmd_attach(argv[1], argv[2], argv[3]);
	else if (!strcmp(cmd, "stats") && argc == 2)
		err = cmd_stats(argv[1]);
	else if (!strcmp(cmd, "detach") && argc == 2)
		err = cmd_detach(argv[1]);
	else if (!strcmp(cmd, "prune") && argc == 1)
		err = cmd_prune();
	else
		usage();
	return err ? 1 : 0;
}
