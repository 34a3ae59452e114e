/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * maglev.c - build a Maglev lookup table (Eisenbud et al., NSDI'16) with
 * Envoy's weighting (source/extensions/load_balancing_policies/maglev).
 *
 * Each backend walks its own permutation of the table, given by an offset
 * and a skip derived from its name; backends take turns claiming the next
 * free slot of their permutation until the table is full. The table is a
 * pure function of the set of (name, id, weight) triples: backends are
 * sorted by name first, and the hash is fixed and seeded by constants, so
 * every controller restart and every limpet instance builds the same table.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dp/maglev.h"

/* Two unrelated seeds: offset and skip must not be correlated. */
#define MAGLEV_SEED_OFFSET 0x9ae16a3b2f90404fULL
#define MAGLEV_SEED_SKIP 0xc3a5c85c97cb3127ULL

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME 0x00000100000001b3ULL

struct maglev_entry {
	const char *name;
	__u32 id;
	__u32 weight;
	__u64 skip;
	__u64 pos;	/* current slot of the permutation: offset + next * skip */
	__u64 target;	/* Envoy's target_weight_: next turn once iteration * weight >= it */
};

/*
 * FNV-1a spreads every byte into the state cheaply but mixes the high bits
 * poorly; the splitmix64 finalizer gives full avalanche, which matters since
 * the result is reduced modulo a prime.
 */
static __u64 maglev_hash(const char *s, __u64 seed)
{
	__u64 h = FNV64_OFFSET ^ seed;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV64_PRIME;
	}
	h += 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

/* The permutation is a full cycle only when every skip is coprime to <size>. */
static int maglev_is_prime(__u32 size)
{
	__u64 d;

	if (size < 2)
		return 0;
	if (size % 2 == 0)
		return size == 2;
	for (d = 3; d * d <= size; d += 2)
		if (size % d == 0)
			return 0;
	return 1;
}

/* Names are unique; the id tie-break only keeps qsort's order total. */
static int maglev_entry_cmp(const void *a, const void *b)
{
	const struct maglev_entry *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return (x->id > y->id) - (x->id < y->id);
}

static void maglev_fill_empty(__u32 size, __u32 *table)
{
	__u32 i;

	for (i = 0; i < size; i++)
		table[i] = MAGLEV_EMPTY;
}

int maglev_build(const struct maglev_backend *backends, size_t n, __u32 size, __u32 *table)
{
	struct maglev_entry *entries;
	__u64 iteration, filled = 0;
	__u32 max_weight = 0;
	size_t i, nactive = 0;

	if (!table || (n && !backends) || !maglev_is_prime(size))
		return -EINVAL;

	for (i = 0; i < n; i++) {
		if (!backends[i].weight)
			continue;
		/* The table itself marks free slots, and the data plane reads EMPTY as "none". */
		if (!backends[i].name || backends[i].id == MAGLEV_EMPTY)
			return -EINVAL;
		nactive++;
	}
	if (!nactive) {
		maglev_fill_empty(size, table);
		return -ENOENT;
	}

	entries = calloc(nactive, sizeof(*entries));
	if (!entries)
		return -ENOMEM;

	nactive = 0;
	for (i = 0; i < n; i++) {
		const struct maglev_backend *b = &backends[i];
		struct maglev_entry *e;

		if (!b->weight)
			continue;
		e = &entries[nactive++];
		e->name = b->name;
		e->id = b->id;
		e->weight = b->weight;
		e->pos = maglev_hash(b->name, MAGLEV_SEED_OFFSET) % size;
		e->skip = maglev_hash(b->name, MAGLEV_SEED_SKIP) % (size - 1) + 1;
		if (b->weight > max_weight)
			max_weight = b->weight;
	}
	/* Input order must not matter (Envoy #20703): who goes first wins contested slots. */
	qsort(entries, nactive, sizeof(*entries), maglev_entry_cmp);

	maglev_fill_empty(size, table);

	/*
	 * The heaviest backend takes a turn every round, so this ends within
	 * <size> rounds; a backend of weight w takes one every max_weight / w
	 * rounds. 64 bits: iteration * weight reaches size * 2^32.
	 */
	for (iteration = 0; filled < size; iteration++) {
		for (i = 0; i < nactive && filled < size; i++) {
			struct maglev_entry *e = &entries[i];

			if (iteration * e->weight < e->target)
				continue;
			e->target += max_weight;
			/* A free slot exists and the permutation visits every slot: this ends. */
			while (table[e->pos] != MAGLEV_EMPTY) {
				e->pos += e->skip;
				if (e->pos >= size)
					e->pos -= size;
			}
			table[e->pos] = e->id;
			filled++;
		}
	}

	free(entries);
	return 0;
}
