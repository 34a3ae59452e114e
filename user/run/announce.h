/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * announce.h - the VIPs a cluster node offers its BGP daemon: each VIP of a
 * service ready to serve is a host address on cluster.announce_interface
 * while the node is not drained; the daemon (BIRD, FRR) announces the
 * interface's addresses and withdraws them when they go.
 *
 * Only `limpet down`, `limpet node drain` and backends going down withdraw:
 * a controller that stops or dies leaves its addresses in place, since the
 * pinned data plane keeps forwarding.
 */
#ifndef LIMPET_ANNOUNCE_H
#define LIMPET_ANNOUNCE_H

#include <stdbool.h>

#include "model/model.h"

/*
 * Bring the announce interface's limpet addresses in line with <m>: add the
 * ready VIPs, remove the rest (also those an older configuration left).
 * Nothing without a cluster section. Problems are logged once per change.
 */
void announce_sync(const struct model *m);

/* Remove every limpet address from <ifname>: 0 or -errno. */
int announce_withdraw(const char *ifname);

/* How many VIPs <m> wants announced now. */
int announce_count(const struct model *m);

#endif /* LIMPET_ANNOUNCE_H */
