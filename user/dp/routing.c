// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * routing.c - the routing map, from the kernel's rules and routes (routing.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "base/clock.h"
#include "dp/internal.h"
#include "dp/maps.h"
#include "dp/routing.h"
#include "dp/rtnl.h"

/* Stops a dump: something found that makes the next hop depend on the client. */
#define FOUND 1
/* Stops a route dump: too many routes to read each second. */
#define TOO_MANY 2

/* The rules every namespace starts with: (priority, table). */
static bool default_rule(int family, __u32 priority, __u32 table)
{
	return (priority == 0 && table == RT_TABLE_LOCAL) ||
	       (priority == 32766 && table == RT_TABLE_MAIN) ||
	       (priority == 32767 && table == RT_TABLE_DEFAULT && family == AF_INET);
}

/*
 * One rule of the dump: FOUND unless it is one of the defaults, matching
 * every packet (no selector: no prefix, TOS, interface, mark, port...).
 */
static int take_rule(const struct nlmsghdr *nh, void *ctx)
{
	const struct fib_rule_hdr *frh = NLMSG_DATA(nh);
	const struct rtattr *rta;
	__u32 priority = 0, table;
	int len;

	if (nh->nlmsg_type != RTM_NEWRULE || nh->nlmsg_len < NLMSG_LENGTH(sizeof(*frh)))
		return 0;
	if (frh->dst_len || frh->src_len || frh->tos || frh->action != FR_ACT_TO_TBL)
		return FOUND;
	table = frh->table;
	len = nh->nlmsg_len - NLMSG_LENGTH(sizeof(*frh));
	rta = (const struct rtattr *)((const char *)frh + NLMSG_ALIGN(sizeof(*frh)));
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		switch (rta->rta_type) {
		case FRA_PRIORITY:
			priority = *(const __u32 *)RTA_DATA(rta);
			break;
		case FRA_TABLE:
			table = *(const __u32 *)RTA_DATA(rta);
			break;
		case FRA_PROTOCOL:	/* who added it: no selector */
			break;
		case FRA_SUPPRESS_PREFIXLEN:
		case FRA_SUPPRESS_IFGROUP:
			/* Dumped as -1 when not set. */
			if (*(const __u32 *)RTA_DATA(rta) != (__u32)-1)
				return FOUND;
			break;
		default:		/* a selector, or something unknown */
			return FOUND;
		}
	}
	return default_rule(*(const int *)ctx, priority, table) ? 0 : FOUND;
}

struct route_dump {
	unsigned int n;
};

/* One route of the dump: FOUND when it is multipath (or a nexthop object). */
static int take_route(const struct nlmsghdr *nh, void *ctx)
{
	struct route_dump *d = ctx;
	const struct rtmsg *rtm = NLMSG_DATA(nh);
	const struct rtattr *rta = RTM_RTA(rtm);
	int len = RTM_PAYLOAD(nh);

	if (nh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (++d->n > DP_ROUTING_MAX_ROUTES)
		return TOO_MANY;
	for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
		if (rta->rta_type == RTA_MULTIPATH || rta->rta_type == RTA_NH_ID)
			return FOUND;
	return 0;
}

/*
 * Does the next hop for <family> depend only on the destination? 1, 0, or
 * -errno; *large set when its routes were too many to read.
 */
static int by_destination(int family, bool *large)
{
	struct route_dump d = { 0 };
	int ret;

	ret = rtnl_dump_family(RTM_GETRULE, sizeof(struct fib_rule_hdr), family, take_rule, &family);
	if (!ret)
		ret = rtnl_dump_family(RTM_GETROUTE, sizeof(struct rtmsg), family, take_route, &d);
	if (ret < 0)
		return ret;
	if (ret == TOO_MANY)
		*large = true;
	return ret == 0;
}

int dp_routing_probe(bool *large)
{
	int v4, v6;

	*large = false;
	v4 = by_destination(AF_INET, large);
	if (v4 < 0)
		return v4;
	v6 = by_destination(AF_INET6, large);
	/* A host without IPv6 has nothing to route there. */
	if (v6 == -EAFNOSUPPORT)
		v6 = 0;
	if (v6 < 0)
		return v6;
	return (v4 ? LIMPET_ROUTING_V4_BY_DST : 0) | (v6 ? LIMPET_ROUTING_V6_BY_DST : 0);
}

int dp_check_routing(struct dataplane *dp, __u32 *flags)
{
	__u64 now = clock_mono_ms();
	bool large;
	int probed, ret;

	if (now < dp->routing_next_ms)
		return 0;
	probed = dp_routing_probe(&large);
	if (probed < 0)
		return probed;
	/* A table that large changes too often and costs too much to read each second. */
	dp->routing_next_ms = large ? now + DP_ROUTING_LARGE_PERIOD_MS : 0;
	if (dp->routing_known && dp->routing == (__u32)probed)
		return 0;
	ret = dp_set_routing(dp, probed);
	if (ret)
		return ret;
	dp->routing = probed;
	dp->routing_known = true;
	*flags = probed;
	return 1;
}
