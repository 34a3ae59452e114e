/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * neigh.h - keeping the backends' next hops resolved for the data plane.
 */
#ifndef LIMPET_DP_NEIGH_H
#define LIMPET_DP_NEIGH_H

#include "model/model.h"

/*
 * Make the kernel resolve every backend's neighbour entry (and the other
 * cluster nodes'), so that bpf_fib_lookup() finds a MAC and DSR (which
 * cannot fall back to the kernel) never waits for ARP/ND: a datagram to the
 * discard port does it.
 */
void dp_nudge_neighbours(const struct model *model);

#endif /* LIMPET_DP_NEIGH_H */
