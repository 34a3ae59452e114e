/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rtnl.h - the rtnetlink socket and dumps shared by address.c and
 * routing.c.
 */
#ifndef LIMPET_DP_RTNL_H
#define LIMPET_DP_RTNL_H

#include <linux/netlink.h>

/* A NETLINK_ROUTE socket: its fd, or -errno. */
int rtnl_open(void);

/*
 * Send the dump request <req> (NLM_F_REQUEST | NLM_F_DUMP set by the
 * caller) and call <take> with each message the kernel answers with, until
 * the dump ends or <take> returns non-zero: the dump is then abandoned and
 * that value returned. 0, <take>'s value, or -errno.
 */
int rtnl_dump(const struct nlmsghdr *req, int (*take)(const struct nlmsghdr *nh, void *ctx),
	      void *ctx);

#endif /* LIMPET_DP_RTNL_H */
