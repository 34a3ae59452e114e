/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rtnl.h - the rtnetlink socket, requests and dumps shared by address.c,
 * routing.c and veth.c.
 */
#ifndef LIMPET_DP_RTNL_H
#define LIMPET_DP_RTNL_H

#include <stddef.h>
#include <linux/netlink.h>

/* A NETLINK_ROUTE socket: its fd, or -errno. */
int rtnl_open(void);

/*
 * Send <req> on a new rtnetlink socket and read the first answer into <buf>
 * (<len> bytes): 0, the kernel's -errno, or -EPROTO for an answer that is
 * no whole message or an acknowledgement instead of one.
 */
int rtnl_ask(const struct nlmsghdr *req, void *buf, size_t len);

/*
 * Send the dump request <req> (NLM_F_REQUEST | NLM_F_DUMP set by the
 * caller) and call <take> with each message the kernel answers with, until
 * the dump ends or <take> returns non-zero: the dump is then abandoned and
 * that value returned. 0, <take>'s value, or -errno.
 */
int rtnl_dump(const struct nlmsghdr *req, int (*take)(const struct nlmsghdr *nh, void *ctx),
	      void *ctx);

/*
 * rtnl_dump() of every <type> object (RTM_GETADDR, RTM_GETROUTE,
 * RTM_GETRULE...) of <family>: the request's header (ifaddrmsg, rtmsg,
 * fib_rule_hdr: <hdr_len> bytes, at most RTNL_DUMP_HDR_MAX) is zero but for
 * its first byte, the family, as in each of them.
 */
#define RTNL_DUMP_HDR_MAX 16
int rtnl_dump_family(__u16 type, size_t hdr_len, __u8 family,
		     int (*take)(const struct nlmsghdr *nh, void *ctx), void *ctx);

#endif /* LIMPET_DP_RTNL_H */
