/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_placement.c - Criterion tests for the placement table builder
 * (dp/placement.c): the rendezvous properties the session policies promise
 * (a new backend takes only the slots it wins, none move between old
 * backends; a removed one gives up only its own), weights, order
 * independence, the HRW winner in every slot, and the empty table.
 * Backend i is named "backend-<i>" and has id i throughout.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "limpet_hash.h"
#include "limpet_placement.h"
#include "dp/placement.h"

#define SLOTS LIMPET_PLACEMENT_SLOTS
#define MAX_BACKENDS 1000

static void make_backends(struct placement_backend *b, size_t n)
{
	char name[32];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "backend-%zu", i);
		b[i].id = (__u32)i;
		b[i].tag = limpet_name_tag(name);
		b[i].weight = 1;
	}
}

static __u32 *build(const struct placement_backend *b, size_t n)
{
	__u32 *table = malloc(SLOTS * sizeof(*table));
	int ret;

	cr_assert_not_null(table);
	ret = placement_build(b, n, table);
	cr_assert_eq(ret, 0, "placement_build: %d", ret);
	return table;
}

Test(placement, slot_is_the_hrw_winner)
{
	struct placement_backend b[7];
	__u32 *t, slot;
	size_t i;

	make_backends(b, 7);
	b[2].weight = 3;
	b[5].weight = 0;
	t = build(b, 7);
	for (slot = 0; slot < SLOTS; slot++) {
		__u64 key = limpet_placement_slot_key(slot);
		double best = -1.0;
		__u32 win = LIMPET_PLACEMENT_EMPTY;

		for (i = 0; i < 7; i++) {
			double s = b[i].weight ? placement_score(key, b[i].tag, b[i].weight) : -1.0;

			if (s > best) {
				best = s;
				win = b[i].id;
			}
		}
		cr_assert_eq(t[slot], win, "slot %u: %u, HRW says %u", slot, t[slot], win);
	}
	free(t);
}

Test(placement, adding_a_backend_moves_only_to_it)
{
	struct placement_backend b[5];
	__u32 *before, *after, slot, moved = 0;

	make_backends(b, 5);
	before = build(b, 4);
	after = build(b, 5);
	for (slot = 0; slot < SLOTS; slot++) {
		if (before[slot] == after[slot])
			continue;
		cr_assert_eq(after[slot], 4, "slot %u moved %u -> %u between old backends", slot,
			     before[slot], after[slot]);
		moved++;
	}
	cr_assert(moved >= SLOTS * 15 / 100 && moved <= SLOTS * 25 / 100,
		  "4 -> 5 moved %u of %u slots", moved, SLOTS);
	free(before);
	free(after);
}

Test(placement, removing_a_backend_moves_only_its_slots)
{
	struct placement_backend b[6];
	__u32 *before, *after, slot;

	make_backends(b, 6);
	before = build(b, 6);
	b[3].weight = 0;	/* as a removal: it takes no slot */
	after = build(b, 6);
	for (slot = 0; slot < SLOTS; slot++) {
		cr_assert_neq(after[slot], 3);
		if (before[slot] != 3)
			cr_assert_eq(after[slot], before[slot], "slot %u moved", slot);
	}
	free(after);
	after = build(b, 5);	/* left out entirely (b[5] is not b[3]: same rule) */
	free(after);
	free(before);
}

Test(placement, weights_are_respected)
{
	struct placement_backend b[3];
	size_t count[3] = { 0 };
	__u32 *t, slot;
	double ratio;

	make_backends(b, 3);
	b[0].weight = 2;
	t = build(b, 3);
	for (slot = 0; slot < SLOTS; slot++)
		count[t[slot]]++;
	/* 2:1:1 -> ~2048:1024:1024 */
	ratio = (double)count[0] / (double)((count[1] + count[2]) / 2.0);
	cr_assert(ratio > 1.7 && ratio < 2.3, "2:1 weights gave %zu : %zu, %zu", count[0],
		  count[1], count[2]);
	free(t);
}

Test(placement, order_does_not_matter)
{
	struct placement_backend b[20], r[20];
	__u32 *t1, *t2;
	size_t i;

	make_backends(b, 20);
	b[7].weight = 5;
	for (i = 0; i < 20; i++)
		r[i] = b[19 - i];
	t1 = build(b, 20);
	t2 = build(r, 20);
	cr_assert_arr_eq(t1, t2, SLOTS * sizeof(*t1));
	free(t1);
	free(t2);
}

Test(placement, no_weight_is_an_empty_table)
{
	struct placement_backend b[3];
	__u32 t[SLOTS], slot;

	make_backends(b, 3);
	b[0].weight = b[1].weight = b[2].weight = 0;
	cr_assert_eq(placement_build(b, 3, t), -ENOENT);
	for (slot = 0; slot < SLOTS; slot++)
		cr_assert_eq(t[slot], LIMPET_PLACEMENT_EMPTY);
	cr_assert_eq(placement_build(NULL, 0, t), -ENOENT);
}

Test(placement, a_thousand_backends_spread)
{
	struct placement_backend *b = calloc(MAX_BACKENDS, sizeof(*b));
	__u32 *t, slot;
	size_t *count = calloc(MAX_BACKENDS, sizeof(*count)), i, used = 0;

	cr_assert(b && count);
	make_backends(b, MAX_BACKENDS);
	t = build(b, MAX_BACKENDS);
	for (slot = 0; slot < SLOTS; slot++) {
		cr_assert_lt(t[slot], MAX_BACKENDS);
		count[t[slot]]++;
	}
	for (i = 0; i < MAX_BACKENDS; i++)
		used += count[i] > 0;
	/* ~4 slots each: nearly every backend has one (P(none) ~ e^-4). */
	cr_assert_gt(used, MAX_BACKENDS * 90 / 100, "%zu of 1000 backends have a slot", used);
	free(t);
	free(b);
	free(count);
}

Test(placement, slot_of_a_key_is_in_range_and_stable)
{
	__u64 k;

	for (k = 0; k < 100000; k += 7)
		cr_assert_lt(limpet_placement_slot(k * 0x9e3779b97f4a7c15ull), SLOTS);
	cr_assert_eq(limpet_placement_slot(42), (__u32)(limpet_mix64(42) & (SLOTS - 1)));
}
