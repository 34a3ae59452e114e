/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_maglev.c - Criterion tests for the Maglev table builder.
 *
 * They check the properties limpet promises its users rather than exact
 * tables: even load, independence from input order, minimal disruption when
 * a backend is added or removed (counted per slot and per client address
 * through the data plane's own hash), weights, and the error returns.
 * Backend i is named "backend-<i>" and has id i throughout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "limpet_hash.h"
#include "limpet_limits.h"
#include "dp/maglev.h"

#define M 65537u
#define MAX_BACKENDS 128

static char names[MAX_BACKENDS][32];

static void make_backends(struct maglev_backend *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "backend-%zu", i);
		b[i].name = names[i];
		b[i].id = i;
		b[i].weight = 1;
	}
}

static __u32 *build(const struct maglev_backend *b, size_t n, __u32 size)
{
	__u32 *table = malloc(size * sizeof(*table));
	int ret;

	cr_assert_not_null(table);
	ret = maglev_build(b, n, size, table);
	cr_assert_eq(ret, 0, "maglev_build: %d", ret);
	return table;
}

static void count_slots(const __u32 *table, __u32 size, size_t *count, size_t n)
{
	__u32 i;

	memset(count, 0, n * sizeof(*count));
	for (i = 0; i < size; i++) {
		cr_assert_lt(table[i], n, "slot %u holds %u", i, table[i]);
		count[table[i]]++;
	}
}

/* xorshift64: a fixed, seedable shuffle so a failure reproduces. */
static __u64 rng_next(__u64 *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void shuffle(struct maglev_backend *b, size_t n, __u64 seed)
{
	struct maglev_backend tmp;
	size_t i, j;

	for (i = n - 1; i > 0; i--) {
		j = rng_next(&seed) % (i + 1);
		tmp = b[i];
		b[i] = b[j];
		b[j] = tmp;
	}
}

Test(maglev, balance)
{
	struct maglev_backend b[100];
	size_t count[100], i, min = M, max = 0;
	double mean = (double)M / 100;
	__u32 *t;

	make_backends(b, 100);
	t = build(b, 100, M);
	count_slots(t, M, count, 100);
	for (i = 0; i < 100; i++) {
		if (count[i] > max)
			max = count[i];
		if (count[i] < min)
			min = count[i];
	}
	fprintf(stderr, "maglev balance: 100 backends, max/mean %.4f min/mean %.4f\n",
		max / mean, min / mean);
	cr_expect_leq(max / mean, 1.02);
	cr_expect_geq(min / mean, 0.98);
	free(t);
}

Test(maglev, order_independence)
{
	struct maglev_backend b[50];
	__u32 *ref, *t;
	__u64 seed;

	make_backends(b, 50);
	b[7].weight = 3;
	b[11].weight = 0;
	ref = build(b, 50, M);
	for (seed = 1; seed <= 3; seed++) {
		shuffle(b, 50, seed * 0x9e3779b97f4a7c15ULL);
		t = build(b, 50, M);
		cr_expect_arr_eq(t, ref, M * sizeof(*t), "order changed the table, seed %llu",
				 (unsigned long long)seed);
		free(t);
	}
	free(ref);
}

/*
 * Compare the owners of <keys> (slot indices) in two tables built from n
 * and n + 1 backends, the extra one being id n: how many moved at all, and
 * how many moved anywhere but to the new backend.
 */
struct disruption {
	size_t moved;
	size_t stray;	/* moved between backends present in both tables */
};

static struct disruption compare_add(const __u32 *before, const __u32 *after, const __u32 *keys,
				     size_t nkeys, __u32 new_id)
{
	struct disruption d = { 0, 0 };
	size_t k;

	for (k = 0; k < nkeys; k++) {
		__u32 s = keys ? keys[k] : k;

		if (before[s] == after[s])
			continue;
		d.moved++;
		if (after[s] != new_id)
			d.stray++;
	}
	return d;
}

/*
 * Add backend n to backends 0..n-1 in a table of <size> slots. Slots may
 * move only to the new backend, save <stray_max> of the table; and in all
 * no more than <moved_max> x the new backend's fair share 1/(n+1) may move.
 */
static void check_add(size_t n, __u32 size, double moved_max, double stray_max)
{
	struct maglev_backend b[MAX_BACKENDS];
	struct disruption d;
	__u32 *before, *after;
	double moved, stray;

	make_backends(b, n + 1);
	before = build(b, n, size);
	after = build(b, n + 1, size);
	d = compare_add(before, after, NULL, size, n);
	moved = (double)d.moved / size;
	stray = (double)d.stray / size;
	fprintf(stderr, "maglev add: M=%u %zu -> %zu, moved %.4f (fair share %.4f, x%.3f), "
		"stray %.4f\n", size, n, n + 1, moved, 1.0 / (n + 1), moved * (n + 1), stray);
	cr_expect_leq(moved * (n + 1), moved_max, "M=%u N=%zu: moved %.3f x fair share", size, n,
		      moved * (n + 1));
	cr_expect_leq(stray, stray_max, "M=%u N=%zu: moved between old backends %.4f", size, n,
		      stray);
	free(before);
	free(after);
}

Test(maglev, add_backend)
{
	check_add(4, M, 1.2, 0.01);
	check_add(10, M, 1.2, 0.01);
	/*
	 * At M/N ~ 1300 Maglev's cascade (a slot taken by the newcomer pushes
	 * its old owner onto its next choice, and so on) moves ~0.45% of the
	 * table between old backends: 1.23x the fair share on average even with
	 * ideal random permutations, so 1.2x cannot hold at M=65537. What does
	 * hold is the 1% stray bound, hence fair share + 1%; a larger table
	 * brings the cascade back under 1.2x.
	 */
	check_add(50, M, 1.0 + 0.01 * 51, 0.01);
	check_add(50, LIMPET_RING_SIZE_MAX, 1.2, 0.01);
}

/* Remove backend <gone> of n and check where the slots went. */
static void check_remove(size_t n, size_t gone, double *worst_stray, double *worst_lo,
			 double *worst_hi)
{
	struct maglev_backend b[MAX_BACKENDS], rest[MAX_BACKENDS];
	size_t received[MAX_BACKENDS] = { 0 }, removed = 0, stray = 0, i, k = 0;
	__u32 *before, *after, s;
	double fair;

	make_backends(b, n);
	for (i = 0; i < n; i++)
		if (i != gone)
			rest[k++] = b[i];
	before = build(b, n, M);
	after = build(rest, n - 1, M);
	for (s = 0; s < M; s++) {
		cr_assert_neq(after[s], gone);
		if (before[s] == gone) {
			removed++;
			received[after[s]]++;
		} else if (before[s] != after[s]) {
			stray++;
		}
	}
	cr_expect_leq((double)stray / M, 0.01, "N=%zu remove %zu: stray %.4f", n, gone,
		      (double)stray / M);
	if ((double)stray / M > *worst_stray)
		*worst_stray = (double)stray / M;

	fair = (double)removed / (n - 1);
	for (i = 0; i < n; i++) {
		double r = received[i] / fair;

		if (i == gone)
			continue;
		cr_expect(r >= 0.5 && r <= 1.5, "N=%zu remove %zu: backend %zu got %.2fx fair",
			  n, gone, i, r);
		if (r < *worst_lo)
			*worst_lo = r;
		if (r > *worst_hi)
			*worst_hi = r;
	}
	free(before);
	free(after);
}

Test(maglev, remove_backend)
{
	static const size_t sizes[] = { 5, 20 };
	size_t i, gone;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double stray = 0, lo = 1e9, hi = 0;

		/* Every position: the first in name order takes contested slots first. */
		for (gone = 0; gone < sizes[i]; gone++)
			check_remove(sizes[i], gone, &stray, &lo, &hi);
		fprintf(stderr,
			"maglev remove: N=%zu (each removed in turn), worst stray %.4f, "
			"received %.2f..%.2f x fair share\n",
			sizes[i], stray, lo, hi);
	}
}

static void check_weights(const __u32 *w, size_t n)
{
	struct maglev_backend b[MAX_BACKENDS];
	size_t count[MAX_BACKENDS], i;
	double sum = 0;
	__u32 *t;

	make_backends(b, n);
	for (i = 0; i < n; i++) {
		b[i].weight = w[i];
		sum += w[i];
	}
	t = build(b, n, M);
	count_slots(t, M, count, n);
	for (i = 0; i < n; i++) {
		double share = (double)count[i] / M, want = w[i] / sum;

		fprintf(stderr, "maglev weights: weight %u share %.4f (want %.4f)\n", w[i], share,
			want);
		if (!w[i])
			cr_expect_eq(count[i], 0, "weight 0 backend got %zu slots", count[i]);
		else
			cr_expect(share >= want * 0.95 && share <= want * 1.05,
				  "weight %u: share %.4f, want %.4f", w[i], share, want);
	}
	free(t);
}

Test(maglev, weights)
{
	static const __u32 w1234[] = { 1, 2, 3, 4 };
	static const __u32 w1_10[] = { 1, 10 };
	static const __u32 w_zero[] = { 1, 0, 2, 0 };

	check_weights(w1234, 4);
	check_weights(w1_10, 2);
	check_weights(w_zero, 4);
}

/* A huge weight ratio must neither overflow nor loop for ever. */
Test(maglev, extreme_weights)
{
	struct maglev_backend b[2];
	size_t count[2];
	__u32 *t;

	make_backends(b, 2);
	b[0].weight = 1;
	b[1].weight = 0xffffffffu;
	t = build(b, 2, M);
	count_slots(t, M, count, 2);
	cr_expect_leq(count[0], 1);
	free(t);
}

/* The data plane's view: client addresses hashed exactly as in XDP. */
Test(maglev, add_backend_keys)
{
	const size_t nkeys = 100000;
	struct maglev_backend b[5];
	struct disruption d;
	__u32 *keys, *before, *after;
	double moved, stray;
	size_t k;

	keys = malloc(nkeys * sizeof(*keys));
	cr_assert_not_null(keys);
	for (k = 0; k < nkeys; k++) {
		struct limpet_addr a = { { 0 } };

		/* 10.<x>.<y>.<z>: distinct addresses, counting up from 10.0.0.0 */
		a.a[0] = htonl((10u << 24) | (__u32)k);
		keys[k] = limpet_hash_addr(&a) % M;
	}
	make_backends(b, 5);
	before = build(b, 4, M);
	after = build(b, 5, M);
	d = compare_add(before, after, keys, nkeys, 4);
	moved = (double)d.moved / nkeys;
	stray = (double)d.stray / nkeys;
	fprintf(stderr, "maglev add keys: 4 -> 5, %zu clients, moved %.4f (ideal 0.2000), "
		"stray %.4f\n", nkeys, moved, stray);
	cr_expect_leq(moved, 1.2 / 5);
	cr_expect_geq(moved, 0.8 / 5);
	cr_expect_leq(stray, 0.01);
	free(keys);
	free(before);
	free(after);
}

Test(maglev, errors)
{
	static const __u32 not_prime[] = { 0, 1, 4, 9, 65535, 65536, 65541 };
	struct maglev_backend b[3];
	static __u32 t[M];
	size_t i;

	make_backends(b, 3);
	for (i = 0; i < sizeof(not_prime) / sizeof(not_prime[0]); i++) {
		memset(t, 0x5a, sizeof(t));
		cr_expect_eq(maglev_build(b, 3, not_prime[i], t), -EINVAL, "size %u", not_prime[i]);
		cr_expect_eq(t[0], 0x5a5a5a5au, "size %u: table written", not_prime[i]);
	}

	for (i = 0; i < 3; i++)
		b[i].weight = 0;
	memset(t, 0x5a, sizeof(t));
	cr_expect_eq(maglev_build(b, 3, M, t), -ENOENT);
	for (i = 0; i < M; i++)
		cr_assert_eq(t[i], MAGLEV_EMPTY, "slot %zu", i);

	memset(t, 0x5a, sizeof(t));
	cr_expect_eq(maglev_build(NULL, 0, M, t), -ENOENT);
	for (i = 0; i < M; i++)
		cr_assert_eq(t[i], MAGLEV_EMPTY, "slot %zu", i);

	/* An id equal to MAGLEV_EMPTY would read as "no backend" in the data plane. */
	make_backends(b, 3);
	b[1].id = MAGLEV_EMPTY;
	cr_expect_eq(maglev_build(b, 3, M, t), -EINVAL);
}

Test(maglev, small_prime)
{
	struct maglev_backend b[2];
	size_t count[2];
	__u32 t[7];

	make_backends(b, 2);
	cr_assert_eq(maglev_build(b, 2, 7, t), 0);
	count_slots(t, 7, count, 2);
	cr_expect(count[0] >= 3 && count[1] >= 3, "split %zu/%zu", count[0], count[1]);
}
