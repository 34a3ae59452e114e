/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_route.c - Criterion tests of include/limpet_route.h: limpet_route()
 * against the tables of its header comment, written out again here as
 * plainly as possible, for every combination of in-range inputs (4
 * affinities x 2 fallbacks x 2 policies x 3 failover modes x 6 outcomes x 4
 * token states x 2 has_key x 4 entry states), then a few named cases that
 * read like the brief, and out-of-range settings.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "limpet_route.h"

static const char *const via_names[] = {
	"TOKEN_BACKEND", "RING_SESSION", "RING_CLIENT_IP", "RING_HEADER", "RANDOM", "SESSION_ENTRY",
};

static struct limpet_route_out route(__u8 affinity, __u8 fallback, __u8 policy, __u8 failover,
				     __u8 outcome, __u8 token_state, __u8 has_key,
				     __u8 entry_state)
{
	struct limpet_route_in in = {
		.affinity = affinity, .fallback = fallback, .policy = policy,
		.failover = failover, .outcome = outcome, .token_state = token_state,
		.has_key = has_key, .entry_state = entry_state,
	};
	struct limpet_route_out out;

	memset(&out, 0xa5, sizeof(out));	/* every field must be written */
	limpet_route(&in, &out);
	return out;
}

/* The cookie table. */
static struct limpet_route_out want_cookie(const struct limpet_route_in *in)
{
	struct limpet_route_out o = { .outcome = in->outcome };
	const __u8 fb = in->fallback == 0 ? LIMPET_ROUTE_RING_CLIENT_IP : LIMPET_ROUTE_RANDOM;

	if (in->outcome != LIMPET_COOKIE_VALID) {
		o.via = fb;
		o.issue = LIMPET_ISSUE_NEW;
	} else if (in->token_state == LIMPET_BE_UNKNOWN) {
		o.outcome = LIMPET_COOKIE_UNKNOWN_BACKEND;
		o.via = LIMPET_ROUTE_RING_SESSION;
		o.issue = LIMPET_ISSUE_REISSUE;
	} else if (in->token_state == LIMPET_BE_UP && in->policy == 0) {
		o.via = LIMPET_ROUTE_TOKEN_BACKEND;
		o.issue = LIMPET_ISSUE_NONE;
	} else if (in->token_state == LIMPET_BE_UP && in->policy == 1) {
		o.via = LIMPET_ROUTE_RING_SESSION;
		o.issue = LIMPET_ISSUE_IF_MOVED;
	} else if (in->token_state == LIMPET_BE_DRAINING) {
		o.via = LIMPET_ROUTE_TOKEN_BACKEND;
		o.issue = LIMPET_ISSUE_NONE;
	} else if (in->failover == 0) {		/* DOWN */
		o.via = LIMPET_ROUTE_TOKEN_BACKEND;
		o.issue = LIMPET_ISSUE_NONE;
	} else if (in->failover == 1) {
		o.via = LIMPET_ROUTE_RING_SESSION;
		o.issue = LIMPET_ISSUE_NONE;
	} else {
		o.via = LIMPET_ROUTE_RING_SESSION;
		o.issue = LIMPET_ISSUE_REISSUE;
	}
	return o;
}

/* The header / client_ip table; <ring> is the affinity's own ring. */
static struct limpet_route_out want_session(const struct limpet_route_in *in, __u8 ring)
{
	struct limpet_route_out o = { .outcome = in->outcome, .issue = LIMPET_ISSUE_NONE };

	if (!in->has_key) {
		o.via = in->fallback == 0 ? LIMPET_ROUTE_RING_CLIENT_IP : LIMPET_ROUTE_RANDOM;
		o.remember = 0;
	} else if (in->entry_state == LIMPET_BE_UP || in->entry_state == LIMPET_BE_DRAINING) {
		o.via = LIMPET_ROUTE_SESSION_ENTRY;
		o.remember = 1;
	} else if (in->entry_state == LIMPET_BE_DOWN && in->failover == 0) {
		o.via = LIMPET_ROUTE_SESSION_ENTRY;
		o.remember = 1;
	} else if (in->entry_state == LIMPET_BE_DOWN && in->failover == 1) {
		o.via = ring;
		o.remember = 0;
	} else {	/* DOWN + sticky, or no entry */
		o.via = ring;
		o.remember = 1;
	}
	return o;
}

static struct limpet_route_out want(const struct limpet_route_in *in)
{
	struct limpet_route_out none = { .via = LIMPET_ROUTE_RANDOM, .outcome = in->outcome };

	switch (in->affinity) {
	case LIMPET_AFFINITY_COOKIE:
		return want_cookie(in);
	case LIMPET_AFFINITY_HEADER:
		return want_session(in, LIMPET_ROUTE_RING_HEADER);
	case LIMPET_AFFINITY_CLIENT_IP:
		return want_session(in, LIMPET_ROUTE_RING_CLIENT_IP);
	default:
		return none;
	}
}

Test(route, exhaustive)
{
	unsigned int aff, fb, pol, fo, oc, ts, hk, es, n = 0;

	for (aff = 0; aff < 4; aff++)
	for (fb = 0; fb < 2; fb++)
	for (pol = 0; pol < 2; pol++)
	for (fo = 0; fo < 3; fo++)
	for (oc = 0; oc < LIMPET_COOKIE_OUTCOMES; oc++)
	for (ts = 0; ts < 4; ts++)
	for (hk = 0; hk < 2; hk++)
	for (es = 0; es < 4; es++) {
		struct limpet_route_in in = {
			.affinity = aff, .fallback = fb, .policy = pol, .failover = fo,
			.outcome = oc, .token_state = ts, .has_key = hk, .entry_state = es,
		};
		struct limpet_route_out got = route(aff, fb, pol, fo, oc, ts, hk, es);
		struct limpet_route_out exp = want(&in);

		cr_assert(got.via == exp.via && got.issue == exp.issue &&
			  got.outcome == exp.outcome && got.remember == exp.remember,
			  "affinity %u fallback %u policy %u failover %u outcome %u token %u "
			  "has_key %u entry %u: got via %s issue %u outcome %u remember %u, "
			  "want via %s issue %u outcome %u remember %u",
			  aff, fb, pol, fo, oc, ts, hk, es, via_names[got.via % 6], got.issue,
			  got.outcome, got.remember, via_names[exp.via % 6], exp.issue,
			  exp.outcome, exp.remember);
		n++;
	}
	cr_expect_eq(n, 4u * 2 * 2 * 3 * 6 * 4 * 2 * 4);
}

/* ---- named cases, as the brief states them ---- */

Test(route, cookie_absent_falls_back)
{
	struct limpet_route_out o;

	o = route(LIMPET_AFFINITY_COOKIE, 0, 0, 0, LIMPET_COOKIE_ABSENT, LIMPET_BE_UP, 0, 0);
	cr_expect_eq(o.via, LIMPET_ROUTE_RING_CLIENT_IP);
	cr_expect_eq(o.issue, LIMPET_ISSUE_NEW);
	o = route(LIMPET_AFFINITY_COOKIE, 1, 0, 0, LIMPET_COOKIE_EXPIRED, LIMPET_BE_UP, 0, 0);
	cr_expect_eq(o.via, LIMPET_ROUTE_RANDOM);
	cr_expect_eq(o.issue, LIMPET_ISSUE_NEW);
	cr_expect_eq(o.outcome, LIMPET_COOKIE_EXPIRED);
}

Test(route, cookie_unknown_backend)
{
	struct limpet_route_out o;

	o = route(LIMPET_AFFINITY_COOKIE, 0, 0, 0, LIMPET_COOKIE_VALID, LIMPET_BE_UNKNOWN, 0, 0);
	cr_expect_eq(o.outcome, LIMPET_COOKIE_UNKNOWN_BACKEND);
	cr_expect_eq(o.via, LIMPET_ROUTE_RING_SESSION);
	cr_expect_eq(o.issue, LIMPET_ISSUE_REISSUE);
}

Test(route, cookie_rebalance)
{
	struct limpet_route_out o;

	o = route(LIMPET_AFFINITY_COOKIE, 0, 1, 0, LIMPET_COOKIE_VALID, LIMPET_BE_UP, 0, 0);
	cr_expect_eq(o.via, LIMPET_ROUTE_RING_SESSION);
	cr_expect_eq(o.issue, LIMPET_ISSUE_IF_MOVED);
	o = route(LIMPET_AFFINITY_COOKIE, 0, 1, 0, LIMPET_COOKIE_VALID, LIMPET_BE_DRAINING, 0, 0);
	cr_expect_eq(o.via, LIMPET_ROUTE_TOKEN_BACKEND);
	cr_expect_eq(o.issue, LIMPET_ISSUE_NONE);
}

Test(route, cookie_down_failover)
{
	const __u8 valid = LIMPET_COOKIE_VALID;
	struct limpet_route_out o;
	__u8 pol;

	for (pol = 0; pol < 2; pol++) {
		o = route(LIMPET_AFFINITY_COOKIE, 0, pol, 0, valid, LIMPET_BE_DOWN, 0, 0);
		cr_expect(o.via == LIMPET_ROUTE_TOKEN_BACKEND && o.issue == LIMPET_ISSUE_NONE);
		o = route(LIMPET_AFFINITY_COOKIE, 0, pol, 1, valid, LIMPET_BE_DOWN, 0, 0);
		cr_expect(o.via == LIMPET_ROUTE_RING_SESSION && o.issue == LIMPET_ISSUE_NONE);
		o = route(LIMPET_AFFINITY_COOKIE, 0, pol, 2, valid, LIMPET_BE_DOWN, 0, 0);
		cr_expect(o.via == LIMPET_ROUTE_RING_SESSION && o.issue == LIMPET_ISSUE_REISSUE);
	}
}

/*
 * A retry after the token's backend refused the connection (health checks
 * have not seen it yet: it is up or draining) follows the failover mode as
 * if it were down: temporary keeps the cookie, sticky re-issues it, none
 * stays with it. A backend other than the token's refusing changes nothing.
 */
Test(route, refused_follows_failover)
{
	static const __u8 states[] = { LIMPET_BE_UP, LIMPET_BE_DRAINING, LIMPET_BE_DOWN };
	struct limpet_route_out o, down;
	struct limpet_route_in in;
	__u8 pol, fo, aff;
	size_t i;

	for (i = 0; i < sizeof(states); i++)
	for (pol = 0; pol < 2; pol++)
	for (fo = 0; fo < 3; fo++) {
		memset(&in, 0, sizeof(in));
		in.affinity = LIMPET_AFFINITY_COOKIE;
		in.policy = pol;
		in.failover = fo;
		in.outcome = LIMPET_COOKIE_VALID;
		in.token_state = states[i];
		in.entry_state = LIMPET_BE_UNKNOWN;
		limpet_route_refused(&in, 1, 0);
		limpet_route(&in, &o);
		down = route(LIMPET_AFFINITY_COOKIE, 0, pol, fo, LIMPET_COOKIE_VALID,
			     LIMPET_BE_DOWN, 0, LIMPET_BE_UNKNOWN);
		cr_expect(o.via == down.via && o.issue == down.issue,
			  "state %u policy %u failover %u: via %s issue %u, want via %s issue %u",
			  states[i], pol, fo, via_names[o.via % 6], o.issue,
			  via_names[down.via % 6], down.issue);
	}
	/* temporary: no new cookie; sticky: one; none: the token's backend. */
	memset(&in, 0, sizeof(in));
	in.affinity = LIMPET_AFFINITY_COOKIE;
	in.outcome = LIMPET_COOKIE_VALID;
	in.failover = LIMPET_FAILOVER_TEMPORARY;
	limpet_route_refused(&in, 1, 0);
	limpet_route(&in, &o);
	cr_expect(o.via == LIMPET_ROUTE_RING_SESSION && o.issue == LIMPET_ISSUE_NONE);
	in.token_state = LIMPET_BE_UP;
	in.failover = LIMPET_FAILOVER_STICKY;
	limpet_route_refused(&in, 1, 0);
	limpet_route(&in, &o);
	cr_expect(o.via == LIMPET_ROUTE_RING_SESSION && o.issue == LIMPET_ISSUE_REISSUE);
	in.token_state = LIMPET_BE_UP;
	in.failover = LIMPET_FAILOVER_NONE;
	limpet_route_refused(&in, 1, 0);
	limpet_route(&in, &o);
	cr_expect(o.via == LIMPET_ROUTE_TOKEN_BACKEND && o.issue == LIMPET_ISSUE_NONE);
	/* Another backend refused: the token's still is up. */
	in.token_state = LIMPET_BE_UP;
	limpet_route_refused(&in, 0, 0);
	cr_expect_eq(in.token_state, LIMPET_BE_UP);

	/* Header and client_ip sessions: temporary keeps the entry for its return. */
	for (aff = LIMPET_AFFINITY_CLIENT_IP; aff <= LIMPET_AFFINITY_HEADER; aff++) {
		if (aff != LIMPET_AFFINITY_CLIENT_IP && aff != LIMPET_AFFINITY_HEADER)
			continue;
		for (fo = 0; fo < 3; fo++) {
			memset(&in, 0, sizeof(in));
			in.affinity = aff;
			in.failover = fo;
			in.has_key = 1;
			in.token_state = LIMPET_BE_UNKNOWN;
			in.entry_state = LIMPET_BE_UP;
			limpet_route_refused(&in, 0, 1);
			limpet_route(&in, &o);
			down = route(aff, 0, 0, fo, 0, LIMPET_BE_UNKNOWN, 1, LIMPET_BE_DOWN);
			cr_expect(o.via == down.via && o.remember == down.remember,
				  "affinity %u failover %u", aff, fo);
		}
	}
}

Test(route, header_entry_down)
{
	struct limpet_route_out o;

	o = route(LIMPET_AFFINITY_HEADER, 0, 0, 1, 0, 0, 1, LIMPET_BE_DOWN);
	cr_expect(o.via == LIMPET_ROUTE_RING_HEADER && o.remember == 0);
	o = route(LIMPET_AFFINITY_CLIENT_IP, 0, 0, 1, 0, 0, 1, LIMPET_BE_DOWN);
	cr_expect(o.via == LIMPET_ROUTE_RING_CLIENT_IP && o.remember == 0);
	o = route(LIMPET_AFFINITY_HEADER, 0, 0, 2, 0, 0, 1, LIMPET_BE_DOWN);
	cr_expect(o.via == LIMPET_ROUTE_RING_HEADER && o.remember == 1);
	o = route(LIMPET_AFFINITY_HEADER, 0, 0, 0, 0, 0, 1, LIMPET_BE_DOWN);
	cr_expect(o.via == LIMPET_ROUTE_SESSION_ENTRY && o.remember == 1);
}

Test(route, header_without_key)
{
	struct limpet_route_out o;

	o = route(LIMPET_AFFINITY_HEADER, 1, 0, 0, 0, 0, 0, LIMPET_BE_UP);
	cr_expect(o.via == LIMPET_ROUTE_RANDOM && o.remember == 0 && o.issue == LIMPET_ISSUE_NONE);
	o = route(LIMPET_AFFINITY_HEADER, 0, 0, 0, 0, 0, 0, LIMPET_BE_UNKNOWN);
	cr_expect(o.via == LIMPET_ROUTE_RING_CLIENT_IP && o.remember == 0);
}

Test(route, affinity_none_is_random)
{
	struct limpet_route_out o = route(LIMPET_AFFINITY_NONE, 0, 0, 0, 0, 0, 1, LIMPET_BE_UP);

	cr_expect(o.via == LIMPET_ROUTE_RANDOM && o.remember == 0 && o.issue == LIMPET_ISSUE_NONE);
}

/* Out-of-range settings read as the last value of their field. */
Test(route, out_of_range)
{
	struct limpet_route_out o;

	o = route(LIMPET_AFFINITY_COOKIE, 7, 0, 0, LIMPET_COOKIE_ABSENT, 0, 0, 0);
	cr_expect_eq(o.via, LIMPET_ROUTE_RANDOM);
	o = route(LIMPET_AFFINITY_COOKIE, 0, 9, 0, LIMPET_COOKIE_VALID, LIMPET_BE_UP, 0, 0);
	cr_expect_eq(o.issue, LIMPET_ISSUE_IF_MOVED);
	o = route(LIMPET_AFFINITY_COOKIE, 0, 0, 9, LIMPET_COOKIE_VALID, LIMPET_BE_DOWN, 0, 0);
	cr_expect_eq(o.issue, LIMPET_ISSUE_REISSUE);
	o = route(LIMPET_AFFINITY_COOKIE, 0, 0, 0, LIMPET_COOKIE_VALID, 200, 0, 0);
	cr_expect_eq(o.outcome, LIMPET_COOKIE_UNKNOWN_BACKEND);
	o = route(LIMPET_AFFINITY_HEADER, 0, 0, 0, 0, 0, 1, 200);
	cr_expect(o.via == LIMPET_ROUTE_RING_HEADER && o.remember == 1);
	o = route(99, 0, 0, 0, 0, 0, 1, LIMPET_BE_UP);
	cr_expect_eq(o.via, LIMPET_ROUTE_RANDOM);
}
