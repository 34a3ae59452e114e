/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sessions.h - the sessions of HTTP services, as the slow path sees them.
 *
 * A session is a cookie's session id, a header affinity key or a client
 * address, with the backend it was last sent to and when it stops counting
 * (seen + the cookie TTL or the idle TTL). Header and client-IP sessions
 * route by it: the same key reaches the same backend until it idles out,
 * whatever happens to the ring (Kubernetes sessionAffinity: ClientIP).
 * Cookie sessions route by their token; they are here so that `limpet
 * status` can say how many live sessions each backend has.
 *
 * The table lives in the controller and is bounded: when it is full and
 * nothing has expired, a new session is not remembered (header and client
 * sessions then route by the ring alone, which is still stable).
 */
#ifndef LIMPET_SESSIONS_H
#define LIMPET_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "limpet_maps.h"

/* enum limpet_session_kind (SESSION_*) is in limpet_maps.h. */

struct session_entry {
	struct session_entry *next;
	__u64 key;
	__u64 expires_s;	/* counts (and routes) while now < expires_s */
	__u32 service_id;
	__u32 backend_id;
	__u8 kind;		/* enum limpet_session_kind */
};

struct session_table {
	struct session_entry **buckets;
	size_t n_buckets;	/* a power of two */
	size_t n;
	size_t max;
	__u64 full_at_s;	/* found full with nothing expired at this second */
};

/* <max> entries at most; 0 on success, -ENOMEM. */
int sessions_init(struct session_table *t, size_t max);
void sessions_free(struct session_table *t);

/* The live entry for (service, kind, key) at <now_s>, or NULL. */
struct session_entry *sessions_find(struct session_table *t, __u32 service_id, __u8 kind,
				    __u64 key, __u64 now_s);

/*
 * Record that (service, kind, key) went to <backend_id> at <now_s> and
 * lives <ttl_s> from now. Returns false when the table is full.
 */
bool sessions_touch(struct session_table *t, __u32 service_id, __u8 kind, __u64 key,
		    __u32 backend_id, __u64 now_s, __u64 ttl_s);

/* Drop expired entries; returns how many. */
size_t sessions_expire(struct session_table *t, __u64 now_s);

/* Drop every entry of <service_id> (the service went away). */
void sessions_forget_service(struct session_table *t, __u32 service_id);

/* Add each live entry of <service_id> to counts[backend_id] (< n_counts). */
void sessions_count(const struct session_table *t, __u32 service_id, __u64 now_s,
		    __u32 *counts, size_t n_counts);

#endif /* LIMPET_SESSIONS_H */
