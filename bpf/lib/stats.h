/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * stats.h - per-CPU counters: one per packet outcome, and packets/bytes/new
 * flows per service and per backend. Per-CPU, so no atomics on the hot path.
 */
#ifndef LIMPET_BPF_STATS_H
#define LIMPET_BPF_STATS_H

#include "maps.h"

static __always_inline void stat_inc(__u32 stat)
{
	__u64 *count = bpf_map_lookup_elem(&global_stats, &stat);

	if (count)
		*count += 1;
}

static __always_inline void counters_add(void *map, __u32 id, __u32 bytes, bool new_flow)
{
	struct limpet_counters *c = bpf_map_lookup_elem(map, &id);

	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
	if (new_flow)
		c->new_flows++;
}

static __always_inline void service_drop(__u32 service_id)
{
	struct limpet_counters *c = bpf_map_lookup_elem(&service_stats, &service_id);

	if (c)
		c->drops++;
}

#endif /* LIMPET_BPF_STATS_H */
