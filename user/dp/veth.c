// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * veth.c - the veth peer check of veth.h, by the kernel's own answers: the
 * driver name (ETHTOOL_GDRVINFO), the peer's index from the veth's ethtool
 * statistics ("peer_ifindex"), the peer's namespace from rtnetlink
 * (IFLA_LINK_NETNSID, matched against the namespaces named in /run/netns
 * with RTM_GETNSID), then, from inside that namespace, the peer's name
 * (SIOCGIFNAME), GRO (ETHTOOL_GGRO) and XDP program (bpf_xdp_query()).
 * Sockets belong to the namespace they were made in, so the thread enters
 * the peer's namespace only to open them and returns at once.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* setns */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <bpf/libbpf.h>

#include "base/log.h"
#include "dp/rtnl.h"
#include "dp/veth.h"

#define NETNS_DIR "/run/netns"
#define NL_BUF 8192

static int ethtool(int fd, const char *ifname, void *data)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) ? -errno : 0;
}

/* The "peer_ifindex" statistic of veth <ifname>; 0 or -errno. */
static int peer_ifindex(int fd, const char *ifname, __u32 n_stats, int *peer)
{
	struct ethtool_gstrings *names = NULL;
	struct ethtool_stats *stats = NULL;
	__u32 i;
	int ret = -ENOENT;

	names = calloc(1, sizeof(*names) + (size_t)n_stats * ETH_GSTRING_LEN);
	stats = calloc(1, sizeof(*stats) + (size_t)n_stats * sizeof(__u64));
	if (!names || !stats) {
		ret = -ENOMEM;
		goto out;
	}
	names->cmd = ETHTOOL_GSTRINGS;
	names->string_set = ETH_SS_STATS;
	names->len = n_stats;
	stats->cmd = ETHTOOL_GSTATS;
	stats->n_stats = n_stats;
	if (ethtool(fd, ifname, names) || ethtool(fd, ifname, stats)) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < n_stats && i < names->len && i < stats->n_stats; i++) {
		if (strncmp((char *)names->data + i * ETH_GSTRING_LEN, "peer_ifindex",
			    ETH_GSTRING_LEN))
			continue;
		*peer = (int)stats->data[i];
		ret = 0;
		break;
	}
out:
	free(names);
	free(stats);
	return ret;
}

/* The namespace id of <ifindex>'s link (IFLA_LINK_NETNSID); -ENOENT: same namespace. */
static int link_netnsid(int ifindex, int *nsid)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
	} req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			.nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	struct nlmsghdr *nh;
	struct rtattr *rta;
	char *buf = malloc(NL_BUF);
	int ret, len;

	if (!buf)
		return -ENOMEM;
	ret = rtnl_ask(&req.nh, buf, NL_BUF);
	if (ret)
		goto out;
	nh = (struct nlmsghdr *)buf;
	ret = -ENOENT;
	len = IFLA_PAYLOAD(nh);
	for (rta = IFLA_RTA(NLMSG_DATA(nh)); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_LINK_NETNSID && RTA_PAYLOAD(rta) >= sizeof(__s32)) {
			*nsid = *(__s32 *)RTA_DATA(rta);
			ret = 0;
		}
	}
out:
	free(buf);
	return ret;
}

/* The id this namespace gives the namespace of <fd> (RTM_GETNSID); -errno when none. */
static int fd_netnsid(int fd, int *nsid)
{
	struct {
		struct nlmsghdr nh;
		struct rtgenmsg g;
		char pad[3];
		struct rtattr rta;
		__u32 fd;
	} req = {
		.nh = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETNSID,
			.nlmsg_flags = NLM_F_REQUEST },
		.g = { .rtgen_family = AF_UNSPEC },
		.rta = { .rta_len = RTA_LENGTH(sizeof(__u32)), .rta_type = NETNSA_FD },
		.fd = fd,
	};
	struct nlmsghdr *nh;
	struct rtattr *rta;
	char buf[256];
	int ret, len;

	ret = rtnl_ask(&req.nh, buf, sizeof(buf));
	if (ret)
		return ret;
	nh = (struct nlmsghdr *)buf;
	len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct rtgenmsg));
	rta = (struct rtattr *)((char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct rtgenmsg)));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == NETNSA_NSID && RTA_PAYLOAD(rta) >= sizeof(__s32)) {
			*nsid = *(__s32 *)RTA_DATA(rta);
			return *nsid >= 0 ? 0 : -ENOENT;
		}
	}
	return -ENOENT;
}

/* An fd of the namespace in /run/netns whose id is <nsid>, its name in <name>; or -ENOENT. */
static int open_netns(int nsid, char *name, size_t len)
{
	char path[300];
	struct dirent *d;
	DIR *dir = opendir(NETNS_DIR);
	int fd, id, ret = -ENOENT;

	if (!dir)
		return -ENOENT;
	while (ret < 0 && (d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", NETNS_DIR, d->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!fd_netnsid(fd, &id) && id == nsid) {
			snprintf(name, len, "%s", d->d_name);
			ret = fd;
		} else {
			close(fd);
		}
	}
	closedir(dir);
	return ret;
}

struct peer {
	char name[IF_NAMESIZE];
	bool gro;
	bool xdp;
};

/* Name, GRO and XDP of link <ifindex> in the current namespace. */
static int ask_peer(int ifindex, struct peer *p)
{
	struct ethtool_value gro = { .cmd = ETHTOOL_GGRO };
	LIBBPF_OPTS(bpf_xdp_query_opts, xq);
	struct ifreq ifr = { .ifr_ifindex = ifindex };
	int fd, ret;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, SIOCGIFNAME, &ifr) ? -errno : 0;
	if (!ret) {
		snprintf(p->name, sizeof(p->name), "%s", ifr.ifr_name);
		ret = ethtool(fd, p->name, &gro);
	}
	close(fd);
	if (ret)
		return ret;
	p->gro = gro.data;
	/* The netlink socket bpf_xdp_query() opens is of this namespace too. */
	p->xdp = !bpf_xdp_query(ifindex, 0, &xq) && xq.attach_mode != XDP_ATTACHED_NONE;
	return 0;
}

/* ask_peer() from inside the namespace <ns_fd>, then back. */
static int ask_peer_in(int ns_fd, int ifindex, struct peer *p)
{
	int self, ret;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	if (setns(ns_fd, CLONE_NEWNET)) {
		ret = -errno;
		close(self);
		return ret;
	}
	ret = ask_peer(ifindex, p);
	if (setns(self, CLONE_NEWNET)) {
		/* Staying in the peer's namespace would be far worse than any warning. */
		pr_warn("cannot return to limpet's network namespace: %s", strerror(errno));
		abort();
	}
	close(self);
	return ret;
}

int dp_veth_peer_check(const char *ifname, char *warn, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	char ns[NAME_MAX + 1] = "", where[NAME_MAX + 32] = "", fix[NAME_MAX + 32] = "";
	struct peer p = { 0 };
	int fd, ret, peer = 0, nsid = -1, ns_fd = -1, ifindex;

	ifindex = if_nametoindex(ifname);
	if (!ifindex)
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	ret = ethtool(fd, ifname, &info);
	if (!ret && strcmp(info.driver, "veth")) {
		close(fd);
		return 0;
	}
	if (!ret)
		ret = peer_ifindex(fd, ifname, info.n_stats, &peer);
	close(fd);
	if (ret)
		return ret;

	ret = link_netnsid(ifindex, &nsid);
	if (ret == -ENOENT) {
		ret = ask_peer(peer, &p);
	} else if (!ret) {
		ns_fd = open_netns(nsid, ns, sizeof(ns));
		if (ns_fd < 0) {
			pr_debug("%s: its veth peer is in a namespace not named in %s: not checked",
				 ifname, NETNS_DIR);
			return 0;
		}
		ret = ask_peer_in(ns_fd, peer, &p);
		close(ns_fd);
		snprintf(where, sizeof(where), " (in netns %s)", ns);
	}
	if (ret)
		return ret;
	if (p.gro || p.xdp)
		return 0;
	if (*ns)
		snprintf(fix, sizeof(fix), "ip netns exec %s ", ns);
	snprintf(warn, len, "%s is a veth whose peer %s%s has neither GRO nor an XDP program: "
		 "frames limpet sends back or redirects into it are dropped; fix: %sethtool -K %s "
		 "gro on", ifname, p.name, where, fix, p.name);
	return 1;
}
