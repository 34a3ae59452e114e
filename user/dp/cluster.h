/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cluster.h - this node among the nodes of a cluster: section, as the data
 * plane sees it (include/limpet_maps.h: cluster): the id it writes into
 * every TSval and where the other nodes are, for the segments of their
 * connections that reach this node (bpf/lib/cluster.h).
 */
#ifndef LIMPET_DP_CLUSTER_H
#define LIMPET_DP_CLUSTER_H

#include "limpet_maps.h"
#include "limpet_tcpopt.h"
#include "model/config.h"

struct dataplane;
struct model;

/*
 * The cluster map's value for <conf>: ids are places in the nodes' sorted
 * names, the same on every node; no bits without a cluster or with one node.
 */
void dp_cluster_of(const struct cluster_config *conf, struct cluster_value *val);

/* Write the cluster map for <model> (dp_program()). 0 or -errno. */
int dp_program_cluster(struct dataplane *dp, const struct model *model);

/* What this node writes into its TSvals, as last programmed. */
struct limpet_ts_tag dp_ts_tag(const struct dataplane *dp);

#endif /* LIMPET_DP_CLUSTER_H */
