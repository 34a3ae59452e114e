/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * routing.h - whether the kernel's next hop toward a backend depends on the
 * client's address, for the routing map (include/limpet_maps.h).
 *
 * It does when a policy rule other than the kernel's defaults exists (one
 * may select on the source) or a multipath route does (its hash takes the
 * source). Checked by rtnetlink dumps of the rules and routes, once a
 * second by the controller; a table too large to read (over
 * DP_ROUTING_MAX_ROUTES routes) counts as "it does", and is read again
 * only every DP_ROUTING_LARGE_PERIOD_MS.
 */
#ifndef LIMPET_DP_ROUTING_H
#define LIMPET_DP_ROUTING_H

#include <stdbool.h>
#include <linux/types.h>

struct dataplane;

#define DP_ROUTING_MAX_ROUTES 65536
#define DP_ROUTING_LARGE_PERIOD_MS 60000

/*
 * The enum limpet_routing flags the kernel's rules and routes allow now, or
 * -errno; *large: a family's routes were too many to read.
 */
int dp_routing_probe(bool *large);

/*
 * Probe (unless a large table was read lately) and write the routing map
 * when its value changes. Returns 1 when it changed (*flags: the new
 * value), 0 when not, or -errno (the map keeps its value).
 */
int dp_check_routing(struct dataplane *dp, __u32 *flags);

#endif /* LIMPET_DP_ROUTING_H */
