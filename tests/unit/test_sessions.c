// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_sessions.c - the session table: lookup by service/kind/key, expiry
 * at the TTL boundary, the size bound, per-backend counts, growth.
 */
#include <criterion/criterion.h>

#include "http/sessions.h"

static struct session_table t;

static void setup(void)
{
	cr_assert_eq(sessions_init(&t, 100000), 0);
}

static void teardown(void)
{
	sessions_free(&t);
}

TestSuite(sessions, .init = setup, .fini = teardown);

Test(sessions, find_touch_and_expire_at_the_ttl)
{
	struct session_entry *e;

	cr_assert_null(sessions_find(&t, 1, SESSION_HEADER, 42, 1000));
	cr_assert(sessions_touch(&t, 1, SESSION_HEADER, 42, 7, 1000, 60));
	e = sessions_find(&t, 1, SESSION_HEADER, 42, 1059);
	cr_assert_not_null(e);
	cr_assert_eq(e->backend_id, 7);
	cr_assert_null(sessions_find(&t, 1, SESSION_HEADER, 42, 1060), "idle TTL is exclusive");
	/* Same key, other service or kind: other sessions. */
	cr_assert_null(sessions_find(&t, 2, SESSION_HEADER, 42, 1000));
	cr_assert_null(sessions_find(&t, 1, SESSION_CLIENT, 42, 1000));
	/* A touch refreshes and moves. */
	cr_assert(sessions_touch(&t, 1, SESSION_HEADER, 42, 9, 1050, 60));
	e = sessions_find(&t, 1, SESSION_HEADER, 42, 1100);
	cr_assert_not_null(e);
	cr_assert_eq(e->backend_id, 9);
	cr_assert_eq(t.n, 1);
	cr_assert_eq(sessions_expire(&t, 1110), 1);
	cr_assert_eq(t.n, 0);
}

Test(sessions, bounded_and_makes_room_from_expired)
{
	struct session_table small;
	__u64 k;

	cr_assert_eq(sessions_init(&small, 10), 0);
	for (k = 0; k < 10; k++)
		cr_assert(sessions_touch(&small, 0, SESSION_COOKIE, k, 1, 100, 10));
	cr_assert_not(sessions_touch(&small, 0, SESSION_COOKIE, 99, 1, 105, 10), "full");
	cr_assert(sessions_touch(&small, 0, SESSION_COOKIE, 3, 2, 105, 10), "existing keys still move");
	cr_assert(sessions_touch(&small, 0, SESSION_COOKIE, 99, 1, 110, 10), "expired ones make room");
	cr_assert(sessions_touch(&small, 0, SESSION_COOKIE, 100, 1, 110, 10));
	/* The expired 9 dropped: 3 (refreshed at 105), 99 and 100 left. */
	cr_assert_eq(small.n, 3);
	sessions_free(&small);
}

Test(sessions, counts_live_sessions_per_backend_and_grows)
{
	__u32 counts[4] = { 0 };
	__u64 k;

	for (k = 0; k < 20000; k++)
		cr_assert(sessions_touch(&t, 5, SESSION_COOKIE, k * 0x9e3779b97f4a7c15ull, k % 4,
					 1000 + (k % 2), 100));
	cr_assert(sessions_touch(&t, 6, SESSION_COOKIE, 1, 0, 1000, 100));
	cr_assert_gt(t.n_buckets, 1024, "the table grew");
	for (k = 0; k < 20000; k++)
		cr_assert_not_null(sessions_find(&t, 5, SESSION_COOKIE, k * 0x9e3779b97f4a7c15ull,
						 1050));
	sessions_count(&t, 5, 1050, counts, 4);
	cr_assert(counts[0] == 5000 && counts[1] == 5000 && counts[2] == 5000 && counts[3] == 5000);
	memset(counts, 0, sizeof(counts));
	/* At 1100 the ones seen at 1000 have ended, those seen at 1001 not. */
	sessions_count(&t, 5, 1100, counts, 4);
	cr_assert(counts[0] == 0 && counts[1] == 5000 && counts[2] == 0 && counts[3] == 5000);
	sessions_forget_service(&t, 5);
	cr_assert_eq(t.n, 1);
}
