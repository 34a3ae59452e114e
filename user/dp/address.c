// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * address.c - host addresses on an interface (address.h), by rtnetlink:
 * RTM_NEWADDR / RTM_DELADDR with an acknowledgement, RTM_GETADDR dumps.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "dp/address.h"
#include "dp/rtnl.h"

#define NLMSG_TAIL(nh) ((char *)(nh) + NLMSG_ALIGN((nh)->nlmsg_len))


static void put_attr(struct nlmsghdr *nh, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)NLMSG_TAIL(nh);

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static size_t addr_len(const struct ip_address *ip)
{
	return ip->family == LIMPET_FAMILY_V4 ? 4 : 16;
}

/* Send <nh> and wait for its acknowledgement: 0 or the kernel's -errno. */
static int rtnl_ack(struct nlmsghdr *nh)
{
	char buf[1024];
	struct nlmsghdr *r = (struct nlmsghdr *)buf;
	ssize_t n;
	int fd = rtnl_open(), ret;

	if (fd < 0)
		return fd;
	nh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (send(fd, nh, nh->nlmsg_len, 0) < 0) {
		ret = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		ret = -errno;
	else if (!NLMSG_OK(r, (size_t)n) || r->nlmsg_type != NLMSG_ERROR)
		ret = -EPROTO;
	else
		ret = ((struct nlmsgerr *)NLMSG_DATA(r))->error;
out:
	close(fd);
	return ret;
}

static int addr_request(int type, int flags, const char *ifname, const struct ip_address *ip)
{
	/* The header, the ifaddrmsg and three small attributes. */
	char buf[NLMSG_SPACE(sizeof(struct ifaddrmsg)) + 3 * RTA_SPACE(16)]
		__attribute__((aligned(NLMSG_ALIGNTO))) = { 0 };
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	unsigned int ifindex = if_nametoindex(ifname);
	__u8 proto = DP_ADDRESS_PROTO;

	if (!ifindex)
		return -ENODEV;
	nh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	nh->nlmsg_type = type;
	nh->nlmsg_flags = flags;
	ifa->ifa_family = ip->family == LIMPET_FAMILY_V4 ? AF_INET : AF_INET6;
	ifa->ifa_prefixlen = ip->family == LIMPET_FAMILY_V4 ? 32 : 128;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* No duplicate address detection: the VIP is meant to be on every node. */
	ifa->ifa_flags = IFA_F_NODAD;
	ifa->ifa_index = ifindex;
	put_attr(nh, IFA_LOCAL, &ip->addr, addr_len(ip));
	put_attr(nh, IFA_ADDRESS, &ip->addr, addr_len(ip));
	if (type == RTM_NEWADDR)
		put_attr(nh, IFA_PROTO, &proto, sizeof(proto));
	return rtnl_ack(nh);
}

int dp_address_add(const char *ifname, const struct ip_address *ip)
{
	int ret = addr_request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifname, ip);

	return ret == -EEXIST ? 0 : ret;
}

int dp_address_del(const char *ifname, const struct ip_address *ip)
{
	int ret = addr_request(RTM_DELADDR, 0, ifname, ip);

	return ret == -EADDRNOTAVAIL || ret == -ENOENT ? 0 : ret;
}

/* What dp_address_list() collects from its dump. */
struct addr_dump {
	unsigned int ifindex;
	struct ip_address *out;
	size_t max;
	int n;
};

/* One message of the dump: count it when it is a tagged host address on the interface. */
static int take_addr(const struct nlmsghdr *nh, void *ctx)
{
	struct addr_dump *d = ctx;
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	const struct rtattr *rta = IFA_RTA(ifa);
	int len = IFA_PAYLOAD(nh);
	const void *local = NULL;
	bool tagged = false;
	struct ip_address ip = { 0 };

	if (nh->nlmsg_type != RTM_NEWADDR || ifa->ifa_index != d->ifindex ||
	    ifa->ifa_prefixlen != (ifa->ifa_family == AF_INET ? 32 : 128))
		return 0;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFA_PROTO && RTA_PAYLOAD(rta) >= 1)
			tagged = *(const __u8 *)RTA_DATA(rta) == DP_ADDRESS_PROTO;
		else if (rta->rta_type == IFA_LOCAL ||
			 (rta->rta_type == IFA_ADDRESS && !local))
			local = RTA_DATA(rta);
	}
	if (!tagged || !local)
		return 0;
	ip.family = ifa->ifa_family == AF_INET ? LIMPET_FAMILY_V4 : LIMPET_FAMILY_V6;
	memcpy(&ip.addr, local, addr_len(&ip));
	if ((size_t)d->n < d->max)
		d->out[d->n] = ip;
	d->n++;
	return 0;
}

int dp_address_list(const char *ifname, struct ip_address *out, size_t max)
{
	struct addr_dump d = { .ifindex = if_nametoindex(ifname), .out = out, .max = max };
	int ret;

	if (!d.ifindex)
		return -ENODEV;
	ret = rtnl_dump_family(RTM_GETADDR, sizeof(struct ifaddrmsg), AF_UNSPEC, take_addr, &d);
	return ret ? ret : d.n;
}

int dp_accept_local(const char *ifname)
{
	char path[128];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", ifname);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fputs("1\n", f) < 0)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}
