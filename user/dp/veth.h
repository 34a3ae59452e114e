/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * veth.h - whether a veth limpet attaches to can deliver what it redirects.
 *
 * A frame that XDP sends back out of a veth (XDP_TX) or redirects into one
 * arrives at the peer through the peer's NAPI, which exists only while the
 * peer has GRO on or an XDP program of its own; otherwise the kernel drops
 * the frame and limpet's counters still say "sent".
 */
#ifndef LIMPET_DP_VETH_H
#define LIMPET_DP_VETH_H

#include <stddef.h>

/*
 * Is <ifname> a veth whose peer would drop redirected frames? Returns 1 and
 * one line in <warn> naming the interface, its peer and the fix ("ethtool
 * -K PEER gro on"), 0 when it is no veth or its peer takes such frames (or
 * its peer cannot be seen: a namespace not under /run/netns), -errno when
 * <ifname> cannot be asked. Reads only: nothing is changed.
 */
int dp_veth_peer_check(const char *ifname, char *warn, size_t len);

#endif /* LIMPET_DP_VETH_H */
