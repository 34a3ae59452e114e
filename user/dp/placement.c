// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * placement.c - build a placement table (placement.h).
 *
 * Weighted rendezvous hashing: slot s goes to the backend with the highest
 * weight / -ln(u), u = the (0, 1) value of limpet_mix64(slot key ^
 * limpet_mix64(tag)). Each backend gets a share of slots proportional to
 * its weight, and a backend's arrival or departure changes only the slots
 * it wins or held.
 *
 * Cost: slots x backends mixes, but few logarithms. Among backends of one
 * weight the highest u wins (the score grows with u), so each slot compares
 * raw hashes within a weight and computes one logarithm per distinct
 * weight: 4,096 slots x 1,000 backends is ~4 M mixes, a few ms.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "dp/placement.h"

struct scored {
	__u64 tag_mix;	/* limpet_mix64(tag), the per-backend term */
	__u32 id;
	__u32 tag;
	__u32 weight;
};

static double unit_of(__u64 h)
{
	return ((double)(h >> 11) + 0.5) / 9007199254740992.0; /* (0, 1) */
}

double placement_score(__u64 key, __u32 tag, __u32 weight)
{
	__u64 h = limpet_mix64(key ^ limpet_mix64(tag));

	return (double)weight / -log(unit_of(h));
}

/* By weight, then tag, then id: groups of one weight, a fixed order within. */
static int scored_cmp(const void *a, const void *b)
{
	const struct scored *x = a, *y = b;

	if (x->weight != y->weight)
		return x->weight < y->weight ? -1 : 1;
	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int placement_build(const struct placement_backend *backends, size_t n, __u32 *table)
{
	struct scored *sc = calloc(n ? n : 1, sizeof(*sc));
	size_t i, m = 0, g, end;
	__u32 slot;

	if (!sc)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!backends[i].weight)
			continue;
		sc[m].tag_mix = limpet_mix64(backends[i].tag);
		sc[m].id = backends[i].id;
		sc[m].tag = backends[i].tag;
		sc[m].weight = backends[i].weight;
		m++;
	}
	if (!m) {
		free(sc);
		for (slot = 0; slot < LIMPET_PLACEMENT_SLOTS; slot++)
			table[slot] = LIMPET_PLACEMENT_EMPTY;
		return -ENOENT;
	}
	qsort(sc, m, sizeof(*sc), scored_cmp);
	for (slot = 0; slot < LIMPET_PLACEMENT_SLOTS; slot++) {
		__u64 key = limpet_placement_slot_key(slot);
		double best_score = -1.0;
		__u32 best = LIMPET_PLACEMENT_EMPTY;

		for (g = 0; g < m; g = end) {
			__u64 top = limpet_mix64(key ^ sc[g].tag_mix), h;
			size_t win = g;
			double score;

			for (end = g + 1; end < m && sc[end].weight == sc[g].weight; end++) {
				h = limpet_mix64(key ^ sc[end].tag_mix);
				if (h >> 11 > top >> 11) { /* what unit_of() keeps */
					top = h;
					win = end;
				}
			}
			score = (double)sc[g].weight / -log(unit_of(top));
			if (score > best_score) {
				best_score = score;
				best = sc[win].id;
			}
		}
		table[slot] = best;
	}
	free(sc);
	return 0;
}
