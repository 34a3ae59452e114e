/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * placement.h - build an HTTP service's placement table: weighted
 * rendezvous hashing (HRW) of LIMPET_PLACEMENT_SLOTS slot keys over its
 * backends (include/limpet_placement.h says how a session key finds its
 * slot and how a slot is scored). Pure: no map, no model.
 */
#ifndef LIMPET_DP_PLACEMENT_H
#define LIMPET_DP_PLACEMENT_H

#include <stddef.h>
#include <linux/types.h>

#include "limpet_placement.h"

struct placement_backend {
	__u32 id;	/* what the table stores */
	__u32 tag;	/* limpet_name_tag() of its name: what it is scored by */
	__u32 weight;	/* for new sessions; 0 = in no slot */
};

/*
 * Fill <table> (LIMPET_PLACEMENT_SLOTS ids): slot s gets the HRW winner of
 * limpet_placement_slot_key(s) among the backends with weight > 0. The
 * table depends only on the set of (tag, id, weight), not on their order.
 * Returns 0, -ENOENT when no backend has a weight (every slot
 * LIMPET_PLACEMENT_EMPTY), -ENOMEM.
 */
int placement_build(const struct placement_backend *backends, size_t n, __u32 *table);

/* The HRW score of <tag> with <weight> for <key> (what placement_build() maximises). */
double placement_score(__u64 key, __u32 tag, __u32 weight);

#endif /* LIMPET_DP_PLACEMENT_H */
