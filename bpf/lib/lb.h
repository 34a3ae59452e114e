/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * lb.h - the L4 balancer: one packet in, one verdict out.
 *
 * A packet for a VIP follows its flow entry if it has one whose backend is
 * still the one it was bound to; otherwise it is bound through the service's
 * Maglev table (hash of the client address, or of the 5-tuple when affinity
 * is none) and the binding is recorded, so a ring change never moves a live
 * connection. A bare SYN is not recorded: Maglev sends the handshake's ACK to
 * the same backend, and the ACK records it, so a SYN flood writes nothing;
 * under NAT it is not even looked up (syn_opens_afresh()). For a few
 * seconds after a ring change, SYNs are recorded and the ACK of a SYN bound
 * before it follows the previous table (prev_rings, ring_grace), so no
 * handshake moves. NAT rewrites the destination; the backend's replies
 * get the VIP back as source from rev_nat, by their source address:port,
 * checked against the client's entry (no return entry), or from a return
 * entry where rev_nat gives that address:port to another service. DSR only
 * changes the destination MAC. A TCP segment of an HTTP service with no flow
 * goes to synproxy.h instead: such services bind at the first request.
 * Everything else goes to the kernel untouched.
 *
 * Kept in a header so the benchmark wrapper can run exactly this code.
 */
#ifndef LIMPET_BPF_LB_H
#define LIMPET_BPF_LB_H

#include "parse.h"
#include "maps.h"
#include "clock.h"
#include "flowcache.h"
#include "stats.h"
#include "nat.h"
#include "fib.h"
#include "synproxy.h"
#include "splice.h"
#include "icmp.h"
#include "bind.h"
#include "cluster.h"
#include "limpet_hash.h"

/* Refresh a flow's access time at most once a second: fewer shared writes. */
#define FLOW_ATIME_GRANULARITY_NS 1000000000ULL
/* A closed TCP flow lingers for stray segments as long as TIME_WAIT does. */
#define FLOW_CLOSED_TTL_NS (60ULL * 1000000000ULL)
/* UDP has no end: a flow idle this long is over. */
#define FLOW_UDP_IDLE_NS (300ULL * 1000000000ULL)

/* The backend <tables>' (rings or prev_rings) Maglev table of <vip> gives
 * the client's side of <k> (client -> VIP).
 */
static __always_inline int pick_backend_in(void *tables, const struct vip_value *vip,
					   const struct flow_key *k, __u32 *backend_id)
{
	__u32 slot = LIMPET_RING_SIZE_SLOT, hash, *size, *id;
	void *ring;

	ring = bpf_map_lookup_elem(tables, &vip->service_id);
	if (!ring)
		return -1;
	size = bpf_map_lookup_elem(ring, &slot);
	if (!size || *size == 0)
		return -1;
	if (vip->hash == LIMPET_HASH_TUPLE)
		hash = limpet_hash_tuple(&k->src, &k->dst, k->sport, k->dport, k->proto);
	else
		hash = limpet_hash_addr(&k->src);
	slot = 1 + hash % *size;
	id = bpf_map_lookup_elem(ring, &slot);
	if (!id || *id >= LIMPET_MAX_BACKENDS)
		return -1;
	*backend_id = *id;
	return 0;
}

static __always_inline int pick_backend_of(const struct vip_value *vip, const struct flow_key *k,
					   __u32 *backend_id)
{
	return pick_backend_in(&rings, vip, k, backend_id);
}

/* Was <vip>'s table changed within the last LIMPET_RING_GRACE_NS (ring_grace)? */
static __always_inline bool ring_grace_on(const struct vip_value *vip, __u64 now)
{
	__u64 *until = bpf_map_lookup_elem(&ring_grace, &vip->service_id);

	return until && *until > now;
}

/* The backend <tables>' table of <vip> gives <p> (client -> VIP). */
static __always_inline int pick_backend_from(void *tables, const struct vip_value *vip,
					     const struct packet *p, __u32 *backend_id)
{
	struct flow_key k;

	flow_key_of(&k, p);
	return pick_backend_in(tables, vip, &k, backend_id);
}

static __always_inline int pick_backend(const struct vip_value *vip, const struct packet *p,
					__u32 *backend_id)
{
	return pick_backend_from(&rings, vip, p, backend_id);
}

static __always_inline __u16 flow_flags_of(const struct packet *p)
{
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & (LIMPET_TCP_FIN | LIMPET_TCP_RST)))
		return LIMPET_FLOW_CLOSED;
	return 0;
}

static __always_inline void flow_touch(struct flow_value *fv, const struct packet *p, __u64 now)
{
	__u16 flags = flow_flags_of(p);

	if (clock_age(now, fv->atime_ns) > FLOW_ATIME_GRANULARITY_NS)
		fv->atime_ns = now;
	if (flags && !(fv->flags & flags))
		fv->flags |= flags;
}

/*
 * Is <fv> a connection that has ended? Then it must not capture <p>: a SYN
 * on a closed flow opens a new connection (which is bound afresh), and a
 * stale return entry would otherwise "un-NAT" an unrelated connection that
 * reuses the same addresses and ports (say, a client talking to a backend
 * directly). Open TCP flows never expire, however long they idle.
 */
static __always_inline bool flow_ended(const struct flow_value *fv, const struct packet *p,
				       void *data_end, __u64 now)
{
	struct tcphdr *tcp = p->l4;

	if (p->proto == IPPROTO_TCP) {
		if (!(fv->flags & LIMPET_FLOW_CLOSED))
			return false;
		if (clock_age(now, fv->atime_ns) > FLOW_CLOSED_TTL_NS)
			return true;
		if (!(p->tcp_flags & LIMPET_TCP_SYN))
			return false;
		/* A spliced sender that sent its FIN may reopen only above
		 * what it sent, as a TIME_WAIT socket allows
		 * (tcp_timewait_state_process()): a forged SYN must not take
		 * over a half-closed connection.
		 */
		if (!(fv->flags & LIMPET_FLOW_SPLICE) || !(fv->flags & LIMPET_FLOW_SEQ_NEXT))
			return true;
		return (void *)(tcp + 1) <= data_end &&
		       limpet_seq_after(bpf_ntohl(tcp->seq), fv->seq_next);
	}
	return clock_age(now, fv->atime_ns) > FLOW_UDP_IDLE_NS;
}

/* Does rev_nat un-NAT the replies of <be> for its service? The controller
 * keeps the answer in the backend's entry.
 */
static __always_inline bool rev_nat_owns(const struct backend_value *be)
{
	return be->rev_nat_owned;
}

/* Is <p> a bare SYN, the first segment of a handshake? */
static __always_inline bool bare_syn(const struct packet *p)
{
	return p->proto == IPPROTO_TCP &&
	       (p->tcp_flags & (LIMPET_TCP_SYN | LIMPET_TCP_ACK | LIMPET_TCP_RST | LIMPET_TCP_FIN)) ==
		       LIMPET_TCP_SYN;
}

/* Record a new binding: the client's direction, and with <ret_entry> (NAT,
 * where rev_nat does not give the backend's replies to this service) the
 * backend's.
 */
static __always_inline void flow_bind(const struct packet *p, const struct vip_value *vip,
				      const struct backend_value *be, __u32 backend_id, __u64 now,
				      const struct nexthop_cache *nh, bool ret_entry)
{
	bool nat = vip->forwarding == LIMPET_FWD_NAT;
	struct flow_value *fv;
	struct flow_key key;
	__u32 zero = 0;

	fv = bpf_map_lookup_elem(&flow_scratch, &zero);
	if (!fv)
		return;
	__builtin_memset(fv, 0, sizeof(*fv));
	fv->atime_ns = now;
	fv->backend_id = backend_id;
	fv->gen = be->gen;
	fv->service_id = vip->service_id;
	fv->flags = flow_flags_of(p) | (nat ? 0 : LIMPET_FLOW_DSR);
	fv->nh = *nh;

	flow_key_of(&key, p);
	bpf_map_update_elem(&flows, &key, fv, BPF_ANY);
	if (!ret_entry)
		return;

	/* The reply comes from backend:port to client:port. */
	key.src = be->addr;
	key.dst = p->src;
	key.sport = be->port;
	key.dport = p->sport;
	fv->flags |= LIMPET_FLOW_RET;
	fv->vip = p->dst;
	fv->vip_port = p->dport;
	__builtin_memset(&fv->nh, 0, sizeof(fv->nh));
	bpf_map_update_elem(&flows, &key, fv, BPF_ANY);
}

/*
 * The next hop <cache> (nh_cache or nh_bind_cache, per CPU) keeps for
 * packets from <src> to <dst>; emptied when its slot held another pair.
 * nexthop_get() checks the ingress interface, age and length. The FIB
 * answer may depend on both addresses (policy routing, multipath), so both
 * are the key; nh_bind_src() leaves the client out where it does not.
 */
static __always_inline struct nexthop_cache *nh_slot(void *cache, const struct limpet_addr *src,
						     const struct limpet_addr *dst)
{
	__u32 i = limpet_cache_slot(src, dst, 0, LIMPET_NH_CACHE_BITS);
	struct nh_cache_slot *slot;

	slot = bpf_map_lookup_elem(cache, &i);
	if (!slot)
		return NULL;
	if (!addr_eq(&slot->src, src) || !addr_eq(&slot->dst, dst)) {
		slot->src = *src;
		slot->dst = *dst;
		slot->nh.expires_ns = 0;
	}
	return &slot->nh;
}

/*
 * The client address a new flow's next hop toward backend <be> is kept by
 * in nh_bind_cache: <p>'s source, or, when the controller found that the
 * FIB's answer for the family does not depend on it (routing map), the
 * backend's own address, which no client of it has (and no stack slot:
 * limpet_xdp's is full).
 */
static __always_inline const struct limpet_addr *nh_bind_src(const struct packet *p,
							     const struct backend_value *be)
{
	__u32 zero = 0, *flags = bpf_map_lookup_elem(&routing, &zero);
	__u32 by_dst = p->family == LIMPET_FAMILY_V4 ? LIMPET_ROUTING_V4_BY_DST :
						       LIMPET_ROUTING_V6_BY_DST;

	return flags && (*flags & by_dst) ? &be->addr : &p->src;
}

/* A routed (NAT) packet the FIB could not place is whole and valid: the
 * kernel can resolve the neighbour, send ICMP "fragmentation needed", or
 * drop it.
 */
static __always_inline int pass_to_kernel(void)
{
	stat_inc(LIMPET_STAT_FIB_PASS);
	return XDP_PASS;
}

/*
 * Send a client packet to backend <be>: NAT rewrites the destination and
 * routes; DSR only changes the MACs. <cache> is the flow's next hop, or
 * nh_bind_cache's for a flow being bound (whose entry, if any, gets <nh>).
 */
static __always_inline int forward_to(struct xdp_md *ctx, struct packet *p, bool nat,
				      const struct backend_value *be, __u32 service_id,
				      struct nexthop_cache *cache, struct nexthop_cache *nh,
				      __u64 now)
{
	void *data_end = (void *)(long)ctx->data_end;
	int rc;

	if (nat && !ttl_ok(p, data_end)) {
		stat_inc(LIMPET_STAT_DROP_TTL);
		service_drop(service_id);
		return -1;
	}
	rc = nexthop_get(ctx, p, data_end, &be->addr, cache, now, nh);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS)
		return 0;
	if (!nat) {
		/* DSR cannot fall back to the kernel, which would route on the VIP. */
		stat_inc(LIMPET_STAT_DROP_FIB);
		service_drop(service_id);
		return -1;
	}
	__builtin_memset(nh, 0, sizeof(*nh));
	return 1;	/* rewrite, then let the kernel route it */
}

static __always_inline int forward_send(struct xdp_md *ctx, struct packet *p, bool nat,
					const struct backend_value *be,
					const struct nexthop_cache *nh, int routed, __u32 ok_stat)
{
	void *data_end;

	/* Opaque: else clang may keep &ctx->data_end spilled, which the
	 * verifier refuses to dereference (a modified ctx pointer).
	 */
	asm volatile("" : "+r"(ctx));
	data_end = (void *)(long)ctx->data_end;

	if (nat) {
		nat_rewrite(p, data_end, NAT_DST, &be->addr, be->port);
		if (routed)
			return pass_to_kernel();
		ttl_decrement(p, data_end);
	}
	stat_inc(ok_stat);
	return nexthop_send(ctx, p, data_end, nh);
}

/*
 * A packet of a bound flow, client -> VIP: to backend <backend_id> as of
 * <gen>, by the next hop kept in <nh>. <fv> is the flow table's entry,
 * whose age and end flags the packet updates, or NULL when a copy in the
 * flow cache serves it. Returns -1 when the backend is gone and the packet
 * must be bound again.
 */
static __always_inline int forward_bound(struct xdp_md *ctx, struct packet *p, __u32 backend_id,
					 __u32 gen, __u32 service_id, bool nat,
					 struct nexthop_cache *nh, struct flow_value *fv,
					 __u64 now, __u32 ok_stat)
{
	struct backend_value *be;
	int routed;

	be = bpf_map_lookup_elem(&backends, &backend_id);
	if (!be || be->state != LIMPET_BACKEND_ACTIVE || be->gen != gen) {
		if (fv)	/* a copy's packet goes on to the table, which counts it */
			stat_inc(LIMPET_STAT_STALE_FLOW);
		return -1;
	}
	/* The kept next hop is the answer too: no copy of it on the stack. */
	routed = forward_to(ctx, p, nat, be, service_id, nh, nh, now);
	if (routed < 0)
		return XDP_DROP;
	if (fv)
		flow_touch(fv, p, now);
	counters_add(&service_stats, service_id, p->ip_len, false);
	counters_add(&backend_stats, backend_id, p->ip_len, false);
	return forward_send(ctx, p, nat, be, nh, routed, ok_stat);
}

/* A packet of a flow the table has, client -> VIP (see forward_bound()). */
static __always_inline int lb_established(struct xdp_md *ctx, struct packet *p,
					  struct flow_value *fv, __u64 now, __u32 ok_stat)
{
	return forward_bound(ctx, p, fv->backend_id, fv->gen, fv->service_id,
			     !(fv->flags & LIMPET_FLOW_DSR), &fv->nh, fv, now, ok_stat);
}

/* A client packet with no (live) flow: bind it through the Maglev table,
 * and record the binding unless it is a bare SYN of a flow without a return
 * entry.
 */
static __noinline int lb_bind(struct xdp_md *ctx, struct packet *p,
				   const struct vip_value *vip, __u64 now)
{
	bool nat = vip->forwarding == LIMPET_FWD_NAT, syn = bare_syn(p), ret_entry, record;
	bool grace = ring_grace_on(vip, now);
	struct nexthop_cache nh;
	struct backend_value *be = NULL;
	__u32 backend_id = 0;
	int routed;

	/* The ACK of a SYN the previous table bound (ring_grace), while its
	 * backend is still this service's (a drained one is).
	 */
	if (grace && p->proto == IPPROTO_TCP && !syn &&
	    !pick_backend_from(&prev_rings, vip, p, &backend_id) &&
	    (be = bpf_map_lookup_elem(&backends, &backend_id)) &&
	    (be->state != LIMPET_BACKEND_ACTIVE || be->service_id != vip->service_id))
		be = NULL;
	if (!be && (pick_backend(vip, p, &backend_id) < 0 ||
		    !(be = bpf_map_lookup_elem(&backends, &backend_id)) ||
		    be->state != LIMPET_BACKEND_ACTIVE))
		be = NULL;
	if (!be || be->family != p->family) {
		stat_inc(LIMPET_STAT_DROP_NO_BACKEND);
		service_drop(vip->service_id);
		return XDP_DROP;
	}
	/* Before forward_to(): its key and the FIB query's share the stack.
	 * A flow that needs a return entry records it at the SYN: its
	 * SYN-ACK has no other way back.
	 */
	ret_entry = nat && !rev_nat_owns(be);
	record = !syn || ret_entry || grace;
	routed = forward_to(ctx, p, nat, be, vip->service_id,
			    nh_slot(&nh_bind_cache, nh_bind_src(p, be), &be->addr), &nh, now);
	if (routed < 0)
		return XDP_DROP;
	if (record)
		flow_bind(p, vip, be, backend_id, now, &nh, ret_entry);
	counters_add(&service_stats, vip->service_id, p->ip_len, record);
	counters_add(&backend_stats, backend_id, p->ip_len, record);
	return forward_send(ctx, p, nat, be, &nh, routed,
			    record ? LIMPET_STAT_FWD_NEW : LIMPET_STAT_SYN_STATELESS);
}

/* A backend's reply through the balancer (NAT): restore the VIP as source. */
static __always_inline int lb_return(struct xdp_md *ctx, struct packet *p,
				     struct flow_value *fv, __u64 now, __u32 ok_stat)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct nexthop_cache nh;
	int rc;

	if (!ttl_ok(p, data_end)) {
		stat_inc(LIMPET_STAT_DROP_TTL);
		return XDP_DROP;
	}
	flow_touch(fv, p, now);
	counters_add(&service_stats, fv->service_id, p->ip_len, false);
	counters_add(&backend_stats, fv->backend_id, p->ip_len, false);
	rc = nexthop_get(ctx, p, data_end, &p->dst, &fv->nh, now, &nh);
	nat_rewrite(p, data_end, NAT_SRC, &fv->vip, fv->vip_port);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return pass_to_kernel();
	ttl_decrement(p, data_end);
	stat_inc(ok_stat);
	return nexthop_send(ctx, p, data_end, &nh);
}

/*
 * Is <p>, from the backend address:port rev_nat gives to <rv>, a reply of a
 * flow through the VIP? The client's entry (client -> VIP) says so, if it
 * is bound to that backend; without one, on a cluster node any reply (the
 * client's packets may reach another node), else only a SYN-ACK from the backend
 * Maglev gives that client's SYN (the handshake, whose ACK writes the
 * entry). So a backend's replies to a client that reached it directly keep
 * its address, but for such a SYN-ACK when no entry of the client's port
 * is left. A SYN-ACK on an ended flow's entry removes it, and is judged as
 * if there were none unless the client's SYN went straight to the backend
 * (lb_direct_syn() marked the entry): a new connection through the VIP
 * does not look at the entry (lb_process).
 */
static __always_inline bool reply_of_vip_flow(const struct packet *p,
					      const struct rev_nat_value *rv, __u64 now)
{
	struct flow_key fk;
	struct vip_key vk = {
		.addr = rv->vip, .port = rv->vip_port, .proto = p->proto, .family = p->family,
	};
	struct flow_value *fv;
	struct vip_value *vip;
	__u32 id = 0;

	flow_key_of_client(&fk, &p->dst, p->dport, rv, p->proto, p->family);
	fv = bpf_map_lookup_elem(&flows, &fk);
	if (fv && (fv->flags & LIMPET_FLOW_CLOSED) && (p->tcp_flags & LIMPET_TCP_SYN)) {
		/* A new connection on an ended one's ports. Straight to the
		 * backend, it is the client's own (lb_direct_syn() marked it);
		 * else its SYN went through the VIP by the Maglev table without
		 * looking (lb_process): judged as if there were no entry. The
		 * entry goes either way.
		 */
		bool direct = fv->flags & LIMPET_FLOW_DIRECT;

		bpf_map_delete_elem(&flows, &fk);
		if (direct)
			return false;
		fv = NULL;
	}
	if (fv) {
		if (fv->backend_id != rv->backend_id)
			return false;
		if (clock_age(now, fv->atime_ns) > FLOW_ATIME_GRANULARITY_NS)
			fv->atime_ns = now;
		return true;
	}
	/* A cluster node: the client's packets may reach another node. */
	if (rv->flags & LIMPET_REV_NAT_ANY_NODE)
		return true;
	if (p->proto != IPPROTO_TCP || (p->tcp_flags & (LIMPET_TCP_SYN | LIMPET_TCP_ACK)) !=
					       (LIMPET_TCP_SYN | LIMPET_TCP_ACK))
		return false;
	vip = bpf_map_lookup_elem(&vips, &vk);
	if (!vip)
		return false;
	if (!pick_backend_of(vip, &fk, &id) && id == rv->backend_id)
		return true;
	/* The SYN-ACK of a SYN the previous table bound (ring_grace). */
	return ring_grace_on(vip, now) && !pick_backend_in(&prev_rings, vip, &fk, &id) &&
	       id == rv->backend_id;
}

/*
 * A reply of a flow without a return entry, from a backend in rev_nat:
 * restore the VIP as source. Its next hop comes from nh_cache (per CPU, per
 * address pair). A packet for this host itself (a health check's reply, say) is
 * not a flow's: it goes to the kernel untouched.
 */
static __noinline int lb_return_stateless(struct xdp_md *ctx, struct packet *p,
					  const struct rev_nat_value *rv, __u64 now)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct nexthop_cache *nh;
	int rc;

	if (!reply_of_vip_flow(p, rv, now)) {
		stat_inc(LIMPET_STAT_PASS);
		return XDP_PASS;
	}
	/* The slot is the answer too: no copy on this function's stack,
	 * which sits on top of limpet_xdp's. (Its index is always in range.)
	 */
	nh = nh_slot(&nh_cache, &p->src, &p->dst);
	if (!nh) {
		stat_inc(LIMPET_STAT_DROP_FIB);
		return XDP_DROP;
	}
	rc = nexthop_get(ctx, p, data_end, &p->dst, nh, now, nh);
	if (rc == BPF_FIB_LKUP_RET_NOT_FWDED) {
		stat_inc(LIMPET_STAT_PASS);
		return XDP_PASS;
	}
	if (!ttl_ok(p, data_end)) {
		stat_inc(LIMPET_STAT_DROP_TTL);
		return XDP_DROP;
	}
	counters_add(&service_stats, rv->service_id, p->ip_len, false);
	counters_add(&backend_stats, rv->backend_id, p->ip_len, false);
	nat_rewrite(p, data_end, NAT_SRC, &rv->vip, rv->vip_port);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return pass_to_kernel();
	ttl_decrement(p, data_end);
	stat_inc(LIMPET_STAT_RET_STATELESS);
	return nexthop_send(ctx, p, data_end, nh);
}

/*
 * A client's bare SYN straight to a backend address:port that rev_nat gives
 * to a VIP: if its ports' connection through that VIP has ended, mark the
 * entry, so that the backend's SYN-ACK is not taken for the VIP's
 * (reply_of_vip_flow). Costs a lookup on SYNs that are for no VIP only.
 */
static __noinline void lb_direct_syn(const struct packet *p)
{
	struct rev_nat_key rk = {
		.addr = p->dst, .port = p->dport, .proto = p->proto, .family = p->family,
	};
	struct rev_nat_value *rv;
	struct flow_value *fv;
	struct flow_key fk;

	rv = bpf_map_lookup_elem(&rev_nat, &rk);
	if (!rv || (rv->flags & LIMPET_REV_NAT_SPLICED))
		return;
	flow_key_of_client(&fk, &p->src, p->sport, rv, p->proto, p->family);
	fv = bpf_map_lookup_elem(&flows, &fk);
	if (fv && (fv->flags & LIMPET_FLOW_CLOSED) && fv->backend_id == rv->backend_id)
		fv->flags |= LIMPET_FLOW_DIRECT;
}

/*
 * Remove both entries of the spliced connection whose entry <fv> is <key>'s.
 * Apart from lb_splice(): the other key's stack is needed only here.
 */
static __noinline void splice_end(const struct flow_key *key, const struct flow_value *fv)
{
	struct backend_value *be;
	struct flow_key peer = *key;
	__u32 backend_id = fv->backend_id;

	if (fv->flags & LIMPET_FLOW_RET) {
		peer.src = key->dst;
		peer.sport = key->dport;
		peer.dst = fv->vip;
		peer.dport = fv->vip_port;
	} else {
		be = bpf_map_lookup_elem(&backends, &backend_id);
		if (!be || be->gen != fv->gen)	/* the id names another backend now */
			goto out;
		peer.src = be->addr;
		peer.sport = be->port;
		peer.dst = key->src;
		peer.dport = key->sport;
	}
	bpf_map_delete_elem(&flows, &peer);
out:
	bpf_map_delete_elem(&flows, key);
	stat_inc(LIMPET_STAT_SPLICE_RST);
}

/*
 * A spliced segment, translated, on its way. Inline: a BPF-to-BPF call costs
 * about 10 ns a segment here. Its stack is lb_splice()'s (176 bytes): the
 * chain limpet_xdp -> lb_splice -> splice_translate -> splice_opt_step now
 * comes to the verifier's 512 bytes exactly (frames rounded to 16), so a
 * byte more in any of them needs this back in a function of its own.
 */
static __always_inline int lb_splice_send(struct xdp_md *ctx, struct packet *p, struct flow_value *fv,
				     __u64 now, __u32 ok_stat)
{
	int verdict;

	if (fv->flags & LIMPET_FLOW_RET)
		verdict = lb_return(ctx, p, fv, now, ok_stat);
	else
		verdict = lb_established(ctx, p, fv, now, ok_stat);
	/* A stale backend: a spliced connection cannot move. */
	return verdict < 0 ? XDP_DROP : verdict;
}

/*
 * A segment of an HTTP connection: to the slow path while it is being
 * bound, or when it must carry inserted bytes; otherwise translated, then
 * forwarded as NAT. An RST from either side at the sender's next sequence
 * number ends the connection: both entries go, after the RST itself went
 * through. Any other RST, and a SYN, go through too but leave the flow as
 * it was: the endpoint judges them (RFC 5961, splice.h).
 */
static __noinline int lb_splice(struct xdp_md *ctx, struct packet *p,
				     const struct flow_key *key, struct flow_value *fv, __u64 now)
{
	bool ret = fv->flags & LIMPET_FLOW_RET, rst = p->tcp_flags & LIMPET_TCP_RST, ends = false;
	__u32 ok_stat = ret ? LIMPET_STAT_SPLICE_RET : LIMPET_STAT_SPLICE_FWD;
	struct splice_seg seg;
	int verdict;

	if (fv->flags & LIMPET_FLOW_SLOWPATH)
		return slowpath_redirect(ctx);
	if (splice_seg_of(ctx, p, &seg) < 0) {
		stat_inc(LIMPET_STAT_DROP_MALFORMED);
		return XDP_DROP;
	}
	splice_seq_seen(fv, p->tcp_flags, &seg);
	if (splice_wants_slowpath(&fv->sp, &seg))
		return slowpath_redirect(ctx);
	if (rst) {
		ends = splice_rst_ends(fv, &seg);
		if (!ends) {
			/* Not a close: the flow must not turn CLOSED (a SYN
			 * would then take it over) for a forged RST.
			 */
			p->tcp_flags &= ~LIMPET_TCP_RST;
			ok_stat = LIMPET_STAT_SPLICE_RST_KEPT;
		}
	} else if (p->tcp_flags & LIMPET_TCP_SYN) {
		ok_stat = LIMPET_STAT_SPLICE_SYN;
	}

	if (splice_translate(ctx, &fv->sp, &seg) < 0) {
		stat_inc(LIMPET_STAT_DROP_MALFORMED);
		return XDP_DROP;
	}
	verdict = lb_splice_send(ctx, p, fv, now, ok_stat);
	if (ends)
		splice_end(key, fv);
	return verdict;
}

static __always_inline void vip_key_of(struct vip_key *vk, const struct packet *p)
{
	vk->addr = p->dst;
	vk->port = p->dport;
	vk->proto = p->proto;
	vk->family = p->family;
}

/*
 * A bare SYN to an L4 NAT VIP opens a new connection, whatever entry its
 * ports had (an ended one's, or one that ended unseen): it goes by the
 * Maglev table without the flow table's lookup, a miss in a large table
 * that was most of its cost. Its SYN-ACK removes an ended entry
 * (reply_of_vip_flow), and where replies need a return entry the SYN
 * writes both. DSR replies bypass limpet, so there only the SYN can
 * retire an ended entry, and HTTP SYNs may belong to a spliced flow: both
 * look first.
 */
static __always_inline bool syn_opens_afresh(const struct vip_value *vip)
{
	return vip->mode != LIMPET_MODE_HTTP && vip->forwarding == LIMPET_FWD_NAT;
}

/*
 * One lookup of the packet's own 5-tuple serves every established packet
 * with an entry, in either direction; only a packet with no entry looks for
 * a VIP (a bare SYN looks there first), and then for a backend whose
 * replies rev_nat un-NATs.
 */
static __always_inline int lb_process(struct xdp_md *ctx)
{
	struct vip_value *vip = NULL;
	bool vip_known = false;
	struct packet p = {};
	struct flow_cache_slot *copy;
	struct rev_nat_value *rv;
	struct flow_value *fv;
	struct flow_key *key;
	__u32 zero = 0;
	struct vip_key vk;
	__u64 now;
	int rc;

	/* Another node's segment of a connection of this one, encapsulated?
	 * Unwrapped before anything points into the frame.
	 */
	if (cluster_tunnelled(ctx) && cluster_decap(ctx) < 0) {
		stat_inc(LIMPET_STAT_DROP_MALFORMED);
		return XDP_DROP;
	}
	rc = parse_packet(ctx, &p);
	if (rc != PARSE_OK) {
		if (rc == PARSE_UNPARSED && p.l4 &&
		    (p.proto == IPPROTO_ICMP || p.proto == IPPROTO_ICMPV6)) {
			rc = icmp_process(ctx, &p);
			if (rc >= 0)
				return rc;
			rc = PARSE_UNPARSED;
		}
		if (rc == PARSE_MALFORMED) {
			stat_inc(LIMPET_STAT_DROP_MALFORMED);
			return XDP_DROP;
		}
		stat_inc(rc == PARSE_FRAGMENT ? LIMPET_STAT_PASS_FRAGMENT :
						LIMPET_STAT_PASS_UNPARSED);
		return XDP_PASS;
	}

	now = clock_now();
	/* In a per-CPU map, not on the stack: limpet_xdp's is full. */
	key = bpf_map_lookup_elem(&flow_key_scratch, &zero);
	if (!key)
		return XDP_PASS;
	flow_key_of(key, &p);
	/* The copy of the flow's entry first (flowcache.h). */
	copy = flow_cache_slot_of(key);
	if (copy && flow_cache_serves(copy, key, &p, now)) {
		rc = forward_bound(ctx, &p, copy->backend_id, copy->gen, copy->service_id,
				   !(copy->flags & LIMPET_FLOW_DSR), &copy->nh, NULL, now,
				   LIMPET_STAT_FWD_EST);
		if (rc >= 0) {
			stat_inc(LIMPET_STAT_FLOW_CACHE_HIT);
			return rc;
		}
		/* The backend is gone: on to the table, which rebinds. */
		copy->checked_ns = 0;
	}
	if (bare_syn(&p)) {
		struct vip_key syn_vk;

		vip_key_of(&syn_vk, &p);
		vip = bpf_map_lookup_elem(&vips, &syn_vk);
		if (vip && syn_opens_afresh(vip))
			return lb_bind(ctx, &p, vip, now);
		vip_known = true;
	}
	fv = bpf_map_lookup_elem(&flows, key);
	if (fv && flow_ended(fv, &p, (void *)(long)ctx->data_end, now)) {
		/* Gone for good: the new connection's later packets must not
		 * find it either. A client's SYN is bound again below.
		 */
		bpf_map_delete_elem(&flows, key);
		fv = NULL;
	}
	if (fv) {
		if (fv->flags & LIMPET_FLOW_XDP_BINDING) {
			/* Being bound by limpet_bind, which is there: it wrote it. */
			bpf_tail_call(ctx, &bind_progs, BIND_PROG_SLOT);
			stat_inc(LIMPET_STAT_HTTP_BIND_DROP);
			return XDP_DROP;
		}
		if (fv->flags & (LIMPET_FLOW_SPLICE | LIMPET_FLOW_SLOWPATH))
			return lb_splice(ctx, &p, key, fv, now);
		if (fv->flags & LIMPET_FLOW_RET)
			return lb_return(ctx, &p, fv, now, LIMPET_STAT_RET);
		rc = lb_established(ctx, &p, fv, now, LIMPET_STAT_FWD_EST);
		if (rc >= 0) {
			if (copy && rc != XDP_DROP)
				flow_cache_offer(copy, key, &p, fv, now);
			return rc;
		}
	}

	vip_key_of(&vk, &p);
	if (!vip_known)
		vip = bpf_map_lookup_elem(&vips, &vk);
	if (vip) {
		/* An HTTP service binds at the first request, not at the SYN. */
		if (vip->mode == LIMPET_MODE_HTTP && p.proto == IPPROTO_TCP) {
			/* Of a connection another node bound, or the ACK of its cookie? */
			rc = cluster_forward_segment(ctx, &p, false);
			if (rc >= CLUSTER_ENCAP_TO)
				return cluster_encap(ctx, rc - CLUSTER_ENCAP_TO);
			if (rc >= 0)
				return rc;
			/* Read afresh: a cookie's clock step must be the
			 * same on every CPU (clock.h may be a tick behind).
			 */
			rc = synproxy_process(ctx, &p, vip, bpf_ktime_get_coarse_ns());
			if (rc == SYNPROXY_BIND) {
				bpf_tail_call(ctx, &bind_progs, BIND_PROG_SLOT);
				return affinity_commit(ctx);	/* no program there */
			}
			if (rc != SYNPROXY_READ_HEAD)
				return rc;
			/* From here, not deeper: a tail call needs a shallow stack. */
			bpf_tail_call(ctx, &affinity_progs, AFFINITY_PROG_SLOT);
			return affinity_commit(ctx);	/* no program there: unread */
		}
		return lb_bind(ctx, &p, vip, now);
	}
	if (vip_known && !fv)	/* a bare SYN for no VIP */
		lb_direct_syn(&p);
	/* Not for a VIP: a backend's reply? (vip_key and rev_nat_key agree.) */
	vk.addr = p.src;
	vk.port = p.sport;
	rv = bpf_map_lookup_elem(&rev_nat, &vk);
	if (rv && (rv->flags & LIMPET_REV_NAT_SPLICED)) {
		/* An HTTP service's backend: the reply of a connection another
		 * node bound, or the kernel's.
		 */
		rc = cluster_forward_segment(ctx, &p, true);
		if (rc >= CLUSTER_ENCAP_TO)
			return cluster_encap(ctx, rc - CLUSTER_ENCAP_TO);
		if (rc >= 0)
			return rc;
		stat_inc(LIMPET_STAT_PASS);
		return XDP_PASS;
	}
	if (rv)
		return lb_return_stateless(ctx, &p, rv, now);
	stat_inc(LIMPET_STAT_PASS);
	return XDP_PASS;
}

#endif /* LIMPET_BPF_LB_H */
