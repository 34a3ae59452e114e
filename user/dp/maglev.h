/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maglev.h - Maglev consistent-hash table builder (Eisenbud et al., NSDI'16),
 * weighted as in Envoy's implementation.
 *
 * Backends are sorted by name before the table is filled, so the table
 * depends only on the set of (name, weight) pairs, never on the order in
 * which they were added (Envoy #20703).
 */
#ifndef LIMPET_MAGLEV_H
#define LIMPET_MAGLEV_H

#include <stddef.h>
#include <linux/types.h>

/* Table slot value when no backend has weight > 0. */
#define MAGLEV_EMPTY 0xffffffffu

struct maglev_backend {
	const char *name;	/* stable key: the permutation comes from it */
	__u32 id;		/* what the table stores */
	__u32 weight;		/* 0 = left out of the table */
};

/*
 * Fill <table> (<size> slots, <size> prime) with backend ids. Returns 0, or
 * -ENOENT when no backend has weight > 0 (table filled with MAGLEV_EMPTY),
 * -EINVAL for a size that is not prime, -ENOMEM.
 */
int maglev_build(const struct maglev_backend *backends, size_t n, __u32 size, __u32 *table);

#endif /* LIMPET_MAGLEV_H */
