/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * affinity.h - what the first request segment of a cookie or header
 * affinity service says, read in XDP. When limpet_route() on the maps
 * decides a backend that needs nothing from userspace (a valid cookie's,
 * a header session's), limpet_bind binds the connection (bind.h); else it
 * is left in the connection's pending flow entry for the slow path, which
 * chooses the backend from it (user/http/affinity.c, include/limpet_route.h).
 *
 * The scanner and the token check are the ones the controller runs
 * (include/limpet_head.h, limpet_token.h). A head that does not end in
 * the segment is not judged here: the slow path reads all of it.
 */
#ifndef LIMPET_BPF_AFFINITY_H
#define LIMPET_BPF_AFFINITY_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "limpet_maps.h"
#include "limpet_token.h"
#include "limpet_placement.h"
#include "limpet_route.h"
#include "head.h"
#include "maps.h"
#include "splice.h"
#include "stats.h"

#define AFFINITY_NSEC_PER_SEC 1000000000ULL

/*
 * The affinity program (limpet_affinity), run by tail call from the entry
 * point: reading the head and checking cookies needs more stack than is
 * left below lb_process() and synproxy_process(), and a tail call starts
 * afresh. Slot 0, filled by the controller at load; pinned, so it stays
 * filled while no controller runs.
 */
#define AFFINITY_PROG_SLOT 0

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} affinity_progs SEC(".maps");

/* What the first request segment's pending entry needs, across the tail call. */
struct affinity_job {
	struct flow_key key;	/* the pending entry's; its value is in flow_scratch */
	__u32 payload_off;	/* from the frame's start */
	__u32 payload_len;
	__u32 service_id;
	__u32 head_read;	/* enum limpet_head_read */
	__u32 bind_backend;	/* bind_preset: the backend the route chose */
	__u32 bind_preset;	/* the head decided a backend limpet_bind may bind to */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct affinity_job);
} affinity_scratch SEC(".maps");

/*
 * The first request segment's job and pending entry, from the per-CPU
 * scratch maps; false when either is missing.
 */
static __always_inline bool affinity_scratch_get(struct affinity_job **job,
						 struct flow_value **fv)
{
	__u32 zero = 0;

	*job = bpf_map_lookup_elem(&affinity_scratch, &zero);
	*fv = bpf_map_lookup_elem(&flow_scratch, &zero);
	return *job && *fv;
}

/*
 * Read the request head of <job> for the keys its service routes by, into
 * <fv>'s pending fields.
 */
static __always_inline void affinity_read_head(struct xdp_md *ctx, const struct affinity_job *job,
					       struct flow_value *fv)
{
	struct limpet_token_fields token = { 0 };
	struct http_affinity_value *cfg;
	struct cookie_keys_value *keys;
	struct limpet_head_scan *scan;
	__u32 zero = 0, service_id = job->service_id;
	__u64 now_s;
	int ok = 0;

	cfg = bpf_map_lookup_elem(&http_affinity, &service_id);
	if (!cfg || head_scan_payload(ctx, job->payload_off, job->payload_len, &cfg->head, &scan) ||
	    !scan->complete)
		return;
	stat_inc(LIMPET_STAT_HEADS_READ);
	if (job->head_read == LIMPET_HEAD_READ_COOKIE) {
		keys = bpf_map_lookup_elem(&cookie_keys, &zero);
		if (!keys)
			return;
		/* Wall-clock seconds: cookies are issued in them. */
		now_s = (bpf_ktime_get_boot_ns() + keys->boot_to_wall_ns) / AFFINITY_NSEC_PER_SEC;
		fv->pending.outcome = limpet_head_cookie(scan, &keys->keys, cfg->service_tag, now_s,
							 cfg->cookie_ttl_s, &token);
		if (fv->pending.outcome == LIMPET_COOKIE_VALID) {
			fv->pending.session = token.session;
			fv->pending.backend_tag = token.backend_tag;
		}
	} else {
		fv->pending.header_key = limpet_head_session_key(scan, &cfg->head,
								 cfg->require_all, &ok);
		if (ok)
			fv->pending.scan |= LIMPET_PENDING_HEADER_OK;
	}
	fv->pending.scan |= LIMPET_PENDING_SCANNED;
}

#define AFFINITY_NS_PER_S 1000000000ULL

/* affinity_session_route(): no live entry, the ring picks by client address. */
#define AFFINITY_SESSION_RING 1

/*
 * A header or client-IP session <sk> of a service <hs>, as limpet_route()
 * decides it on the maps: 0 and its live entry's backend (up or draining)
 * or, for a header key without one, the placement table's; for a client
 * address without one, AFFINITY_SESSION_RING (the ring's pick, bind.h). -1
 * for the slow path: the entry's backend down (its failover mode), none
 * usable, or not of <family>. <remember>: the route keeps the entry.
 */
static __always_inline int affinity_session_route(const struct route_session_key *sk,
						  const struct http_service_value *hs,
						  __u8 family, __u32 *backend_id, bool *remember)
{
	struct route_session_value *e;
	__u32 service_id = sk->service_id, id = 0, slot, *p;
	struct limpet_route_out out;
	struct limpet_route_in in;
	struct backend_value *be = NULL;
	__u64 now = bpf_ktime_get_boot_ns();
	void *table;

	limpet_route_in_of(hs, &in);
	in.has_key = 1;
	e = bpf_map_lookup_elem(&route_sessions, sk);
	if (e && now < e->last_use_ns + (__u64)e->ttl_s * AFFINITY_NS_PER_S) {
		id = e->backend_id;
		be = bpf_map_lookup_elem(&backends, &id);
		in.entry_state = limpet_route_state_of(be, service_id);
	}
	limpet_route(&in, &out);
	*remember = out.remember;
	if (out.via == LIMPET_ROUTE_SESSION_ENTRY) {
		if (in.entry_state != LIMPET_BE_UP && in.entry_state != LIMPET_BE_DRAINING)
			return -1;
	} else if (in.entry_state != LIMPET_BE_UNKNOWN) {
		return -1;
	} else if (out.via == LIMPET_ROUTE_RING_CLIENT_IP) {
		return AFFINITY_SESSION_RING;
	} else if (out.via == LIMPET_ROUTE_RING_HEADER) {
		table = bpf_map_lookup_elem(&placements, &service_id);
		slot = limpet_placement_slot(sk->key);
		p = table ? bpf_map_lookup_elem(table, &slot) : NULL;
		if (!p)
			return -1;
		id = *p;
		be = bpf_map_lookup_elem(&backends, &id);
		if (limpet_route_state_of(be, service_id) == LIMPET_BE_UNKNOWN)
			return -1;
	} else {
		return -1;
	}
	if (!be || be->family != family)
		return -1;
	*backend_id = id;
	return 0;
}

/* Session <sk> now lives on backend <id>: written, or its last use refreshed. */
static __always_inline void affinity_session_remember(const struct route_session_key *sk,
						      __u32 id, __u32 ttl_s)
{
	struct route_session_value nv = { .backend_id = id, .ttl_s = ttl_s,
					  .last_use_ns = bpf_ktime_get_boot_ns() };

	bpf_map_update_elem(&route_sessions, sk, &nv, BPF_ANY);
}

/*
 * Header affinity: the backend of the head's key (affinity_session_route()),
 * in <job>, its entry kept; -1 for the slow path (no key: the fallback).
 */
static __always_inline int affinity_xdp_session(struct affinity_job *job,
						const struct flow_value *fv,
						const struct http_service_value *hs)
{
	struct route_session_key sk = { .service_id = job->service_id, .kind = SESSION_HEADER,
					.key = fv->pending.header_key };
	bool remember = false;
	__u32 id = 0;

	if (!(fv->pending.scan & LIMPET_PENDING_HEADER_OK) ||
	    affinity_session_route(&sk, hs, job->key.family, &id, &remember))
		return -1;
	if (remember)
		affinity_session_remember(&sk, id, hs->idle_ttl_s);
	job->bind_backend = id;
	job->bind_preset = 1;
	return 0;
}

/*
 * May the data plane bind the connection of <job>, whose head <fv> holds
 * (read), itself? limpet_route() on what the maps say, and nothing to
 * insert in the response: a valid cookie whose backend takes it with no
 * cookie to issue (policy pin, or rebalance where the placement table
 * agrees with the token, or the token's backend draining), or a header key
 * (affinity_xdp_session()). Then 0 and the backend in <job>; else the slow
 * path decides (and issues, re-issues, fails over).
 */
static __always_inline int affinity_xdp_route(struct affinity_job *job,
					      const struct flow_value *fv)
{
	struct backend_tag_key tk = { .service_id = job->service_id,
				      .tag = fv->pending.backend_tag };
	__u32 service_id = job->service_id, id, slot, *p;
	struct http_service_value *hs;
	struct limpet_route_out out;
	struct limpet_route_in in;
	struct backend_value *be;
	void *table;

	job->bind_preset = 0;
	hs = bpf_map_lookup_elem(&http_services, &service_id);
	if (!hs || (hs->flags & LIMPET_HTTP_INSERTS) ||
	    !(fv->pending.scan & LIMPET_PENDING_SCANNED) || fv->pending.syn)
		return -1;
	if (hs->affinity == LIMPET_AFFINITY_HEADER)
		return affinity_xdp_session(job, fv, hs);
	if (hs->affinity != LIMPET_AFFINITY_COOKIE || fv->pending.outcome != LIMPET_COOKIE_VALID)
		return -1;
	p = bpf_map_lookup_elem(&backend_tags, &tk);
	if (!p)
		return -1;
	id = *p;
	be = bpf_map_lookup_elem(&backends, &id);
	limpet_route_in_of(hs, &in);
	in.outcome = fv->pending.outcome;
	in.token_state = limpet_route_state_of(be, service_id);
	if (!be || be->family != job->key.family ||
	    (in.token_state != LIMPET_BE_UP && in.token_state != LIMPET_BE_DRAINING))
		return -1;
	limpet_route(&in, &out);
	if (out.via == LIMPET_ROUTE_RING_SESSION && out.issue == LIMPET_ISSUE_IF_MOVED) {
		/* Rebalance: the session stays only where the table puts it. */
		table = bpf_map_lookup_elem(&placements, &service_id);
		slot = limpet_placement_slot(fv->pending.session);
		p = table ? bpf_map_lookup_elem(table, &slot) : NULL;
		if (!p || *p != id)
			return -1;
	} else if (out.via != LIMPET_ROUTE_TOKEN_BACKEND || out.issue != LIMPET_ISSUE_NONE) {
		return -1;
	}
	job->bind_backend = id;
	job->bind_preset = 1;
	return 0;
}

/* Write the pending entry <fv> of <job>; the segment goes to the slow path. */
static __always_inline int affinity_commit_entry(struct xdp_md *ctx,
						 const struct affinity_job *job,
						 const struct flow_value *fv)
{
	bpf_map_update_elem(&flows, &job->key, fv, BPF_ANY);
	return slowpath_redirect(ctx);
}

/* The same from the scratch maps (after a tail call, or when none was made). */
static __always_inline int affinity_commit(struct xdp_md *ctx)
{
	struct affinity_job *job;
	struct flow_value *fv;

	if (!affinity_scratch_get(&job, &fv))
		return XDP_DROP;
	return affinity_commit_entry(ctx, job, fv);
}

#endif /* LIMPET_BPF_AFFINITY_H */
