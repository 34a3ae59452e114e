/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lb.h - the L4 balancer: one packet in, one verdict out.
 *
 * A packet for a VIP follows its flow entry if it has one whose backend is
 * still the one it was bound to; otherwise it is bound through the service's
 * Maglev table (hash of the client address, or of the 5-tuple when affinity
 * is none) and the binding is recorded, so a ring change never moves a live
 * connection. NAT rewrites the destination and records a return entry that
 * restores the VIP as the source of the backend's replies; DSR only changes
 * the destination MAC. Everything else goes to the kernel untouched.
 *
 * Kept in a header so the benchmark wrapper can run exactly this code.
 */
#ifndef LIMPET_BPF_LB_H
#define LIMPET_BPF_LB_H

#include "parse.h"
#include "maps.h"
#include "stats.h"
#include "nat.h"
#include "fib.h"
#include "limpet_hash.h"

/* Refresh a flow's access time at most once a second: fewer shared writes. */
#define FLOW_ATIME_GRANULARITY_NS 1000000000ULL

static __always_inline int pick_backend(const struct vip_value *vip, const struct packet *p,
					__u32 *backend_id)
{
	__u32 slot = LIMPET_RING_SIZE_SLOT, hash, *size, *id;
	void *ring;

	ring = bpf_map_lookup_elem(&rings, &vip->service_id);
	if (!ring)
		return -1;
	size = bpf_map_lookup_elem(ring, &slot);
	if (!size || *size == 0)
		return -1;
	if (vip->affinity == LIMPET_AFFINITY_NONE)
		hash = limpet_hash_tuple(&p->src, &p->dst, p->sport, p->dport, p->proto);
	else
		hash = limpet_hash_addr(&p->src);
	slot = 1 + hash % *size;
	id = bpf_map_lookup_elem(ring, &slot);
	if (!id || *id >= LIMPET_MAX_BACKENDS)
		return -1;
	*backend_id = *id;
	return 0;
}

static __always_inline void flow_key_of(struct flow_key *key, const struct packet *p, __u8 dir)
{
	key->src = p->src;
	key->dst = p->dst;
	key->sport = p->sport;
	key->dport = p->dport;
	key->proto = p->proto;
	key->family = p->family;
	key->dir = dir;
	key->pad = 0;
}

static __always_inline __u16 flow_flags_of(const struct packet *p)
{
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST)))
		return LIMPET_FLOW_CLOSED;
	return 0;
}

static __always_inline void flow_touch(struct flow_value *fv, const struct packet *p, __u64 now)
{
	__u16 flags = flow_flags_of(p);

	if (now - fv->atime_ns > FLOW_ATIME_GRANULARITY_NS)
		fv->atime_ns = now;
	if (flags && !(fv->flags & flags))
		fv->flags |= flags;
}

/* Record a new binding: the client's direction, and for NAT the backend's. */
static __always_inline void flow_bind(const struct packet *p, const struct vip_value *vip,
				      const struct backend_value *be, __u32 backend_id, __u64 now)
{
	struct flow_value fv = {
		.atime_ns = now,
		.backend_id = backend_id,
		.gen = be->gen,
		.service_id = vip->service_id,
		.flags = flow_flags_of(p),
	};
	struct flow_key key;

	flow_key_of(&key, p, LIMPET_DIR_FWD);
	bpf_map_update_elem(&flows, &key, &fv, BPF_ANY);
	if (vip->forwarding != LIMPET_FWD_NAT)
		return;

	/* The reply comes from backend:port to client:port. */
	key.src = be->addr;
	key.dst = p->src;
	key.sport = be->port;
	key.dport = p->sport;
	key.dir = LIMPET_DIR_RET;
	fv.vip = p->dst;
	fv.vip_port = p->dport;
	bpf_map_update_elem(&flows, &key, &fv, BPF_ANY);
}

/* Send a rewritten, routed packet to its next hop, or let the kernel do it. */
static __always_inline int route_out(struct xdp_md *ctx, struct packet *p, void *data_end,
				     __u32 ok_stat)
{
	struct bpf_fib_lookup fib;
	int rc;

	rc = fib_lookup_nexthop(ctx, p, data_end, &p->dst, &fib);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		/* The packet is whole and valid: the kernel can resolve the
		 * neighbour, send ICMP "fragmentation needed", or drop it.
		 */
		stat_inc(LIMPET_STAT_FIB_PASS);
		return XDP_PASS;
	}
	ttl_decrement(p, data_end);
	stat_inc(ok_stat);
	return fib_send(ctx, p, data_end, &fib);
}

static __always_inline int lb_forward(struct xdp_md *ctx, struct packet *p,
				      const struct vip_value *vip)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct backend_value *be = NULL;
	struct flow_value *fv;
	struct flow_key key;
	__u64 now = bpf_ktime_get_coarse_ns();
	__u32 backend_id = 0;
	bool new_flow = false;

	flow_key_of(&key, p, LIMPET_DIR_FWD);
	fv = bpf_map_lookup_elem(&flows, &key);
	if (fv) {
		backend_id = fv->backend_id;
		be = bpf_map_lookup_elem(&backends, &backend_id);
		if (!be || be->state != LIMPET_BACKEND_ACTIVE || be->gen != fv->gen) {
			/* Its backend was removed: bind the flow again. */
			stat_inc(LIMPET_STAT_STALE_FLOW);
			be = NULL;
		}
	}
	if (!be) {
		if (pick_backend(vip, p, &backend_id) < 0 ||
		    !(be = bpf_map_lookup_elem(&backends, &backend_id)) ||
		    be->state != LIMPET_BACKEND_ACTIVE || be->family != p->family) {
			stat_inc(LIMPET_STAT_DROP_NO_BACKEND);
			service_drop(vip->service_id);
			return XDP_DROP;
		}
		new_flow = true;
	}

	if (vip->forwarding == LIMPET_FWD_NAT && !ttl_ok(p, data_end)) {
		stat_inc(LIMPET_STAT_DROP_TTL);
		service_drop(vip->service_id);
		return XDP_DROP;
	}

	if (new_flow)
		flow_bind(p, vip, be, backend_id, now);
	else
		flow_touch(fv, p, now);
	counters_add(&service_stats, vip->service_id, p->ip_len, new_flow);
	counters_add(&backend_stats, backend_id, p->ip_len, new_flow);

	if (vip->forwarding == LIMPET_FWD_NAT) {
		nat_rewrite(p, data_end, NAT_DST, &be->addr, be->port);
		return route_out(ctx, p, data_end,
				 new_flow ? LIMPET_STAT_FWD_NEW : LIMPET_STAT_FWD_EST);
	}

	/* DSR: the backend owns the VIP; only the L2 destination changes. */
	{
		struct bpf_fib_lookup fib;

		if (fib_lookup_nexthop(ctx, p, data_end, &be->addr, &fib) !=
		    BPF_FIB_LKUP_RET_SUCCESS) {
			stat_inc(LIMPET_STAT_DROP_FIB);
			return XDP_DROP;
		}
		stat_inc(new_flow ? LIMPET_STAT_FWD_NEW : LIMPET_STAT_FWD_EST);
		return fib_send(ctx, p, data_end, &fib);
	}
}

/* A backend's reply through the balancer (NAT): restore the VIP as source. */
static __always_inline int lb_return(struct xdp_md *ctx, struct packet *p)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct flow_value *fv;
	struct flow_key key;

	flow_key_of(&key, p, LIMPET_DIR_RET);
	fv = bpf_map_lookup_elem(&flows, &key);
	if (!fv) {
		stat_inc(LIMPET_STAT_PASS);
		return XDP_PASS;
	}
	if (!ttl_ok(p, data_end)) {
		stat_inc(LIMPET_STAT_DROP_TTL);
		return XDP_DROP;
	}
	flow_touch(fv, p, bpf_ktime_get_coarse_ns());
	counters_add(&service_stats, fv->service_id, p->ip_len, false);
	counters_add(&backend_stats, fv->backend_id, p->ip_len, false);
	nat_rewrite(p, data_end, NAT_SRC, &fv->vip, fv->vip_port);
	return route_out(ctx, p, data_end, LIMPET_STAT_RET);
}

static __always_inline int lb_process(struct xdp_md *ctx)
{
	struct packet p = {};
	struct vip_value *vip;
	struct vip_key vk;
	int rc;

	rc = parse_packet(ctx, &p);
	if (rc != PARSE_OK) {
		if (rc == PARSE_MALFORMED) {
			stat_inc(LIMPET_STAT_DROP_MALFORMED);
			return XDP_DROP;
		}
		stat_inc(rc == PARSE_FRAGMENT ? LIMPET_STAT_PASS_FRAGMENT :
						LIMPET_STAT_PASS_UNPARSED);
		return XDP_PASS;
	}

	vk.addr = p.dst;
	vk.port = p.dport;
	vk.proto = p.proto;
	vk.family = p.family;
	vip = bpf_map_lookup_elem(&vips, &vk);
	if (vip)
		return lb_forward(ctx, &p, vip);
	return lb_return(ctx, &p);
}

#endif /* LIMPET_BPF_LB_H */
