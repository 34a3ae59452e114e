// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sessions.c - a chained hash table of sessions (sessions.h). It grows by
 * doubling up to one bucket per allowed entry.
 */
#include <errno.h>
#include <stdlib.h>

#include "limpet_mix.h"
#include "http/sessions.h"

#define FIRST_BUCKETS 1024

static size_t bucket_of(const struct session_table *t, __u32 service_id, __u8 kind, __u64 key)
{
	return limpet_mix64(key ^ limpet_mix64(((__u64)service_id << 8) | kind)) & (t->n_buckets - 1);
}

int sessions_init(struct session_table *t, size_t max)
{
	t->n_buckets = FIRST_BUCKETS;
	t->buckets = calloc(t->n_buckets, sizeof(*t->buckets));
	t->n = 0;
	t->max = max;
	return t->buckets ? 0 : -ENOMEM;
}

void sessions_free(struct session_table *t)
{
	struct session_entry *e, *next;
	size_t i;

	for (i = 0; t->buckets && i < t->n_buckets; i++)
		for (e = t->buckets[i]; e; e = next) {
			next = e->next;
			free(e);
		}
	free(t->buckets);
	t->buckets = NULL;
	t->n = 0;
}

static void grow(struct session_table *t)
{
	size_t n = t->n_buckets * 2, i;
	struct session_entry **b = calloc(n, sizeof(*b));
	struct session_entry *e, *next;
	size_t old = t->n_buckets;

	if (!b)
		return;	/* longer chains, still correct */
	t->n_buckets = n;
	for (i = 0; i < old; i++)
		for (e = t->buckets[i]; e; e = next) {
			size_t k = bucket_of(t, e->service_id, e->kind, e->key);

			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	free(t->buckets);
	t->buckets = b;
}

static struct session_entry **slot_of(struct session_table *t, __u32 service_id, __u8 kind,
				      __u64 key)
{
	struct session_entry **pp = &t->buckets[bucket_of(t, service_id, kind, key)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->key == key && (*pp)->service_id == service_id && (*pp)->kind == kind)
			break;
	return pp;
}

struct session_entry *sessions_find(struct session_table *t, __u32 service_id, __u8 kind,
				    __u64 key, __u64 now_s)
{
	struct session_entry *e = *slot_of(t, service_id, kind, key);

	return e && now_s < e->expires_s ? e : NULL;
}

bool sessions_touch(struct session_table *t, __u32 service_id, __u8 kind, __u64 key,
		    __u32 backend_id, __u64 now_s, __u64 ttl_s)
{
	struct session_entry **pp = slot_of(t, service_id, kind, key), *e = *pp;

	if (!e) {
		/* Full: look for expired entries at most once a second (a walk of
		 * the whole table), not at every new session.
		 */
		if (t->n >= t->max && (t->full_at_s == now_s || !sessions_expire(t, now_s))) {
			t->full_at_s = now_s;
			return false;
		}
		if (t->n >= t->n_buckets && t->n_buckets < t->max)
			grow(t);
		e = calloc(1, sizeof(*e));
		if (!e)
			return false;
		e->key = key;
		e->service_id = service_id;
		e->kind = kind;
		pp = &t->buckets[bucket_of(t, service_id, kind, key)];
		e->next = *pp;
		*pp = e;
		t->n++;
	}
	e->backend_id = backend_id;
	e->expires_s = now_s + ttl_s;
	return true;
}

/* Remove the entries <drop> says so; returns how many. */
static size_t remove_if(struct session_table *t, bool (*drop)(const struct session_entry *, __u64),
			__u64 arg)
{
	struct session_entry **pp, *e;
	size_t i, n = 0;

	for (i = 0; i < t->n_buckets; i++)
		for (pp = &t->buckets[i]; (e = *pp);) {
			if (drop(e, arg)) {
				*pp = e->next;
				free(e);
				n++;
			} else {
				pp = &e->next;
			}
		}
	t->n -= n;
	return n;
}

static bool expired(const struct session_entry *e, __u64 now_s)
{
	return now_s >= e->expires_s;
}

static bool of_service(const struct session_entry *e, __u64 service_id)
{
	return e->service_id == service_id;
}

size_t sessions_expire(struct session_table *t, __u64 now_s)
{
	return remove_if(t, expired, now_s);
}

void sessions_forget_service(struct session_table *t, __u32 service_id)
{
	remove_if(t, of_service, service_id);
}

void sessions_count(const struct session_table *t, __u32 service_id, __u64 now_s,
		    __u32 *counts, size_t n_counts)
{
	const struct session_entry *e;
	size_t i;

	for (i = 0; i < t->n_buckets; i++)
		for (e = t->buckets[i]; e; e = e->next)
			if (e->service_id == service_id && now_s < e->expires_s &&
			    e->backend_id < n_counts)
				counts[e->backend_id]++;
}
