/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_route.h - how the first request of an HTTP connection picks its
 * backend, as one pure function of what the data plane already knows: the
 * service's affinity settings, the cookie check's outcome and the state of
 * the backend the cookie (or the session map entry) names. The slow path
 * (user/affinity.c) calls it with what the data plane read from the first
 * request segment, or what it read itself from a longer head;
 * tests/unit/test_route.c checks every combination of inputs.
 *
 * Cookie affinity (issue says what the response's Set-Cookie does):
 *
 *   outcome     token backend  policy     failover   via            issue
 *   not VALID   -              -          -          fallback       NEW
 *   VALID       UNKNOWN        -          -          RING_SESSION   REISSUE
 *                              (counted outcome becomes UNKNOWN_BACKEND)
 *   VALID       UP             pin        -          TOKEN_BACKEND  NONE
 *   VALID       UP             rebalance  -          RING_SESSION   IF_MOVED
 *   VALID       DRAINING       -          -          TOKEN_BACKEND  NONE
 *   VALID       DOWN           -          none       TOKEN_BACKEND  NONE
 *   VALID       DOWN           -          temporary  RING_SESSION   NONE
 *   VALID       DOWN           -          sticky     RING_SESSION   REISSUE
 *
 * fallback is RING_CLIENT_IP (fallback 0) or RANDOM (1); remember is 0.
 *
 * Header and client_ip affinity (a session map entry with an idle TTL; the
 * ring is RING_HEADER for header, RING_CLIENT_IP for client_ip):
 *
 *   has_key  entry backend  failover   via            remember
 *   0        -              -          fallback       0
 *   1        UP, DRAINING   -          SESSION_ENTRY  1
 *   1        DOWN           none       SESSION_ENTRY  1
 *   1        DOWN           temporary  ring           0  (entry kept for its recovery)
 *   1        DOWN           sticky     ring           1  (entry rewritten)
 *   1        UNKNOWN (none) -          ring           1
 *
 * A retry (the backend a connection was sent to refused it or did not
 * answer): limpet_route_refused() marks the token's or the entry's backend
 * DOWN when it is the one that failed, so the failover mode decides as it
 * does once health checks have seen it down: temporary keeps the cookie
 * (and the entry), sticky re-issues it, none routes to the failed backend
 * again, which the caller answers with a 503.
 *
 * Affinity none: RANDOM, remember 0. issue is NONE for every affinity but
 * cookie, and outcome is passed through unchanged but for UNKNOWN_BACKEND.
 * Out-of-range settings read as the last value of their field (fallback
 * random, policy rebalance, failover sticky); an out-of-range state as
 * UNKNOWN, an out-of-range affinity as none.
 */
#ifndef LIMPET_ROUTE_H
#define LIMPET_ROUTE_H

#include <linux/types.h>
#include "limpet_inline.h"
#include "limpet_maps.h"
#include "limpet_token.h"

/* enum limpet_be_state is in limpet_maps.h: backend_value.route_state. */

enum limpet_route_via {
	LIMPET_ROUTE_TOKEN_BACKEND = 0,	/* the backend the token names */
	LIMPET_ROUTE_RING_SESSION,	/* the ring, keyed by the token's session id */
	LIMPET_ROUTE_RING_CLIENT_IP,	/* the ring, keyed by the client address */
	LIMPET_ROUTE_RING_HEADER,	/* the ring, keyed by the header session key */
	LIMPET_ROUTE_RANDOM,		/* weighted random */
	LIMPET_ROUTE_SESSION_ENTRY,	/* the backend of the session map entry */
};

enum limpet_route_issue {
	LIMPET_ISSUE_NONE = 0,
	LIMPET_ISSUE_NEW,	/* new session id */
	LIMPET_ISSUE_REISSUE,	/* same session id, new backend */
	LIMPET_ISSUE_IF_MOVED,	/* REISSUE only if the chosen backend is not the token's */
};

enum limpet_route_fallback {
	LIMPET_FALLBACK_CLIENT_IP = 0,
	LIMPET_FALLBACK_NONE = 1,	/* weighted random */
};

enum limpet_route_policy {
	LIMPET_POLICY_PIN = 0,
	LIMPET_POLICY_REBALANCE = 1,
};

enum limpet_route_failover {
	LIMPET_FAILOVER_NONE = 0,
	LIMPET_FAILOVER_TEMPORARY = 1,
	LIMPET_FAILOVER_STICKY = 2,
};

struct limpet_route_in {
	__u8 affinity;		/* enum limpet_affinity */
	__u8 fallback;		/* enum limpet_route_fallback */
	__u8 policy;		/* enum limpet_route_policy */
	__u8 failover;		/* enum limpet_route_failover */
	__u8 outcome;		/* cookie: enum limpet_cookie_outcome from the check */
	__u8 token_state;	/* cookie VALID: enum limpet_be_state of the token's backend */
	__u8 has_key;		/* header: limpet_head_session_key() ok; client_ip: 1 */
	__u8 entry_state;	/* header/client_ip: the session entry's backend, UNKNOWN if none */
};

struct limpet_route_out {
	__u8 via;		/* enum limpet_route_via */
	__u8 issue;		/* enum limpet_route_issue */
	__u8 outcome;		/* counted: UNKNOWN_BACKEND for VALID when token_state is UNKNOWN */
	__u8 remember;		/* header/client_ip: write/refresh the session entry */
};

LIMPET_INLINE __u8 limpet_route_fallback_via(const struct limpet_route_in *in)
{
	return in->fallback == LIMPET_FALLBACK_CLIENT_IP ? LIMPET_ROUTE_RING_CLIENT_IP
							  : LIMPET_ROUTE_RANDOM;
}

LIMPET_INLINE void limpet_route_cookie(const struct limpet_route_in *in,
				       struct limpet_route_out *out)
{
	if (in->outcome != LIMPET_COOKIE_VALID) {
		out->via = limpet_route_fallback_via(in);
		out->issue = LIMPET_ISSUE_NEW;
		return;
	}
	switch (in->token_state) {
	case LIMPET_BE_UP:
		if (in->policy == LIMPET_POLICY_PIN) {
			out->via = LIMPET_ROUTE_TOKEN_BACKEND;
			out->issue = LIMPET_ISSUE_NONE;
		} else {
			out->via = LIMPET_ROUTE_RING_SESSION;
			out->issue = LIMPET_ISSUE_IF_MOVED;
		}
		return;
	case LIMPET_BE_DRAINING:
		/* Draining keeps its sessions under either policy. */
		out->via = LIMPET_ROUTE_TOKEN_BACKEND;
		out->issue = LIMPET_ISSUE_NONE;
		return;
	case LIMPET_BE_DOWN:
		if (in->failover == LIMPET_FAILOVER_NONE) {
			out->via = LIMPET_ROUTE_TOKEN_BACKEND;
			out->issue = LIMPET_ISSUE_NONE;
		} else {
			out->via = LIMPET_ROUTE_RING_SESSION;
			out->issue = in->failover == LIMPET_FAILOVER_TEMPORARY ?
					     LIMPET_ISSUE_NONE : LIMPET_ISSUE_REISSUE;
		}
		return;
	default:
		out->outcome = LIMPET_COOKIE_UNKNOWN_BACKEND;
		out->via = LIMPET_ROUTE_RING_SESSION;
		out->issue = LIMPET_ISSUE_REISSUE;
		return;
	}
}

LIMPET_INLINE void limpet_route_session(const struct limpet_route_in *in,
					struct limpet_route_out *out, __u8 ring)
{
	if (!in->has_key) {
		out->via = limpet_route_fallback_via(in);
		return;
	}
	switch (in->entry_state) {
	case LIMPET_BE_UP:
	case LIMPET_BE_DRAINING:
		out->via = LIMPET_ROUTE_SESSION_ENTRY;
		out->remember = 1;
		return;
	case LIMPET_BE_DOWN:
		if (in->failover == LIMPET_FAILOVER_NONE) {
			out->via = LIMPET_ROUTE_SESSION_ENTRY;
			out->remember = 1;
		} else {
			out->via = ring;
			/* temporary: the entry stays, for when its backend is back */
			out->remember = in->failover != LIMPET_FAILOVER_TEMPORARY;
		}
		return;
	default:
		out->via = ring;
		out->remember = 1;
		return;
	}
}

/*
 * <in> for a retry: <token_failed> / <entry_failed> when the backend the
 * token / the session entry names is one this connection already tried.
 */
LIMPET_INLINE void limpet_route_refused(struct limpet_route_in *in, __u8 token_failed,
					__u8 entry_failed)
{
	if (token_failed)
		in->token_state = LIMPET_BE_DOWN;
	if (entry_failed)
		in->entry_state = LIMPET_BE_DOWN;
}

/*
 * <in> as the data plane starts it, from the service's http_services
 * entry: the settings, states UNKNOWN, no key. The controller starts from
 * the configuration (affinity_route_settings()); tests/unit check that the
 * two give the same decision for every input.
 */
LIMPET_INLINE void limpet_route_in_of(const struct http_service_value *hs,
				      struct limpet_route_in *in)
{
	in->affinity = hs->affinity;
	in->fallback = hs->fallback;
	in->policy = hs->policy;
	in->failover = hs->failover;
	in->outcome = 0;
	in->token_state = LIMPET_BE_UNKNOWN;
	in->has_key = 0;
	in->entry_state = LIMPET_BE_UNKNOWN;
}

/*
 * The route state of backend <be> (its backends entry; NULL: no backend,
 * as a tag or session entry that names none) for service <service_id>:
 * UNKNOWN unless it is an active backend of that service.
 */
LIMPET_INLINE __u8 limpet_route_state_of(const struct backend_value *be, __u32 service_id)
{
	if (!be || be->state != LIMPET_BACKEND_ACTIVE || be->service_id != service_id ||
	    be->route_state > LIMPET_BE_UNKNOWN)
		return LIMPET_BE_UNKNOWN;
	return be->route_state;
}

/* The routing decision for <in>; see the tables above. */
LIMPET_INLINE void limpet_route(const struct limpet_route_in *in, struct limpet_route_out *out)
{
	out->via = LIMPET_ROUTE_RANDOM;
	out->issue = LIMPET_ISSUE_NONE;
	out->outcome = in->outcome;
	out->remember = 0;

	switch (in->affinity) {
	case LIMPET_AFFINITY_COOKIE:
		limpet_route_cookie(in, out);
		return;
	case LIMPET_AFFINITY_HEADER:
		limpet_route_session(in, out, LIMPET_ROUTE_RING_HEADER);
		return;
	case LIMPET_AFFINITY_CLIENT_IP:
		limpet_route_session(in, out, LIMPET_ROUTE_RING_CLIENT_IP);
		return;
	default:
		return;
	}
}

#endif /* LIMPET_ROUTE_H */
