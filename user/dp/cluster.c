// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * cluster.c - the cluster map (cluster.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp/cluster.h"
#include "dp/internal.h"
#include "dp/maps.h"
#include "model/model.h"

void dp_cluster_of(const struct cluster_config *conf, struct cluster_value *val)
{
	size_t i, j, n = conf->enabled ? conf->n_nodes : 0;

	memset(val, 0, sizeof(*val));
	if (n > LIMPET_CLUSTER_MAX_NODES)
		n = LIMPET_CLUSTER_MAX_NODES;
	val->n_nodes = n;
	while (n > 1 && (1u << val->ts_bits) < n)
		val->ts_bits++;
	for (i = 0; i < n; i++) {
		/* Its place in sorted order: how many names sort before it. */
		__u32 id = 0;

		for (j = 0; j < n; j++)
			if (strcmp(conf->nodes[j].name, conf->nodes[i].name) < 0)
				id++;
		val->nodes[id].addr = conf->nodes[i].address.addr;
		val->nodes[id].family = conf->nodes[i].address.family;
		if (!strcmp(conf->nodes[i].name, conf->node))
			val->self = id;
	}
}

int dp_program_cluster(struct dataplane *dp, const struct model *model)
{
	struct cluster_value val;
	int ret;

	dp_cluster_of(&model->conf.cluster, &val);
	ret = dp_set_cluster(dp, &val);
	if (!ret) {
		dp->ts_tag.bits = val.ts_bits;
		dp->ts_tag.id = val.self;
	}
	return ret;
}

struct limpet_ts_tag dp_ts_tag(const struct dataplane *dp)
{
	return dp->ts_tag;
}
