/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * icmp.h - ICMP errors about NAT'd and spliced flows, translated for the
 * endpoint that owns the quoted packet (the client, or the backend), so
 * that path-MTU discovery and unreachable errors work through limpet.
 *
 * A router between limpet and a backend (or the backend itself) answers a
 * packet limpet sent toward the backend (client -> backend after NAT) with
 * an ICMP error to the client, quoting that packet. The quote is found in
 * the flow table the other way round: backend -> client is the flow's
 * return entry, which holds the VIP (an L4 flow without one: rev_nat holds
 * it, by the backend's address:port, and the client's entry must be bound
 * to that backend). The quoted header becomes what the
 * client sent (destination VIP:port, and for a spliced flow its seq and ack
 * back into the client's spaces, by the return entry's translation, the
 * inverse of the client direction's), and the error is routed to the
 * client from the VIP, as netfilter's NAT and IPVS rewrite it: the client
 * matches an error by the quoted header only (tcp_v4_err(), icmpv6_notify()),
 * and a source inside the backend network would be an address the client
 * has no route back to, which bogon and reverse-path filters drop.
 *
 * Checksums: the quoted IP header's is kept right, the quoted L4's (when
 * the quote holds it) follows what is changed here (not a spliced
 * segment's window and timestamps, which no receiver of an error checks),
 * and the ICMP checksum follows every word that changed inside the message
 * (for ICMPv6 the pseudo-header's source too).
 *
 * The other direction: a router on the client's side answers a packet
 * limpet sent to the client (VIP:port -> client, an un-NAT'd reply or a
 * spliced backend segment) with an error to the VIP. It belongs to the
 * backend's socket: the client's entry (the quote reversed) names the
 * backend; the quoted source becomes backend:port, a spliced flow's seq and
 * ack go back into the backend's spaces, and the error goes to the backend,
 * its source (the router) kept, as netfilter's NAT and IPVS do for errors
 * toward a real server. A DSR flow's error needs nothing translated, but
 * it reaches limpet (the VIP is limpet's), whose kernel has no socket for
 * it: it goes to the backend as the flow's packets do, MACs only. Errors
 * about connections being bound (no backend has them yet) and about no
 * flow go to the kernel.
 */
#ifndef LIMPET_BPF_ICMP_H
#define LIMPET_BPF_ICMP_H

#include "parse.h"
#include "maps.h"
#include "stats.h"
#include "fib.h"
#include "limpet_csum.h"
#include "limpet_splice.h"

/* The error types (linux/icmp.h, linux/icmpv6.h: not for BPF targets). */
#define ICMP4_DEST_UNREACH 3	/* code 4: fragmentation needed */
#define ICMP4_TIME_EXCEEDED 11
#define ICMP4_PARAMETERPROB 12
#define ICMP6_DEST_UNREACH 1
#define ICMP6_PKT_TOOBIG 2
#define ICMP6_TIME_EXCEED 3
#define ICMP6_PARAMPROB 4

#define ICMP_HDR_LEN 8		/* type, code, checksum, 4 bytes of the type's */
#define ICMP_QUOTE_L4_MIN 8	/* RFC 792: ports and seq at least */

static __always_inline bool icmp_is_error(__u8 family, __u8 type)
{
	if (family == LIMPET_FAMILY_V4)
		return type == ICMP4_DEST_UNREACH || type == ICMP4_TIME_EXCEEDED ||
		       type == ICMP4_PARAMETERPROB;
	return type == ICMP6_DEST_UNREACH || type == ICMP6_PKT_TOOBIG ||
	       type == ICMP6_TIME_EXCEED || type == ICMP6_PARAMPROB;
}

/* The flow key and the FIB query of one error: off the stack, which is
 * short below lb_process(). The rev_nat key keeps the backend's address
 * past the FIB query, which overwrites the flow key.
 */
struct icmp_scratch {
	union {
		struct flow_key key;	/* .src: the quoted destination, the backend */
		struct bpf_fib_lookup fib;
	};
	struct rev_nat_key rk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct icmp_scratch);
} icmp_scratch SEC(".maps");

static __always_inline __u32 csum_add16(__u32 sum, __u16 old, __u16 new)
{
	return sum + (__u16)~old + new;
}

/* The route from <p>'s source to <dst>: u->fib, the key no longer needed. */
static __always_inline int icmp_route(struct xdp_md *ctx, const struct packet *p,
				      const struct limpet_addr *dst, struct icmp_scratch *u)
{
	__builtin_memset(&u->fib, 0, sizeof(u->fib));
	u->fib.ifindex = ctx->ingress_ifindex;
	u->fib.l4_protocol = p->proto;
	u->fib.tot_len = p->ip_len;
	if (p->family == LIMPET_FAMILY_V4) {
		u->fib.family = LIMPET_AF_INET;
		u->fib.ipv4_src = p->src.a[0];
		u->fib.ipv4_dst = dst->a[0];
	} else {
		u->fib.family = LIMPET_AF_INET6;
		__builtin_memcpy(u->fib.ipv6_src, &p->src, sizeof(p->src));
		__builtin_memcpy(u->fib.ipv6_dst, dst, sizeof(*dst));
	}
	return bpf_fib_lookup(ctx, &u->fib, sizeof(u->fib), 0);
}

/*
 * A DSR flow's error from the client's side: the backend sent the quoted
 * packet itself, from the VIP, so the error is its own as it is. It goes to
 * the backend as the flow's packets do: only the MACs change. Returns -1
 * (nothing changed) when the FIB has no neighbour for the backend.
 */
static __always_inline int icmp_dsr_forward(struct xdp_md *ctx, struct packet *p,
					    struct icmp_scratch *u, const struct backend_value *be)
{
	void *data_end = (void *)(long)ctx->data_end;

	if (icmp_route(ctx, p, &be->addr, u) != BPF_FIB_LKUP_RET_SUCCESS)
		return -1;
	if ((void *)(p->eth + 1) > data_end)
		return -1;
	stat_inc(LIMPET_STAT_ICMP_TO_BACKEND);
	__builtin_memcpy(p->eth->h_dest, u->fib.dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, u->fib.smac, ETH_ALEN);
	if (u->fib.ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(u->fib.ifindex, 0);
}

/*
 * Translate the ICMP error <p> (parsed as far as its IP header) if it
 * quotes a flow's packet: toward a backend (the error goes to the client) or
 * toward the client (the error goes to the backend). Returns an XDP verdict,
 * or -1 for any ICMP that is not such an error (nothing was changed). The
 * addresses are read from the entries where they are used (no stack copy).
 */
static __noinline int icmp_process(struct xdp_md *ctx, struct packet *p)
{
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *icmp = p->l4, *in, *l4, *qport;
	const struct limpet_addr *from, *to;
	struct backend_value *be = NULL;
	struct icmp_scratch *u;
	struct flow_value *fv;
	__u32 sum, seq, nseq, l4sum = 0, zero = 0, backend_id;
	__u16 old, *l4_check;
	__be16 to_port;
	__u8 proto;
	bool has_l4sum, to_backend;

	if ((p->family == LIMPET_FAMILY_V4) != (p->proto == IPPROTO_ICMP) ||
	    icmp + ICMP_HDR_LEN > (__u8 *)data_end || !icmp_is_error(p->family, icmp[0]))
		return -1;
	in = icmp + ICMP_HDR_LEN;
	u = bpf_map_lookup_elem(&icmp_scratch, &zero);
	if (!u)
		return -1;

	/* The quoted header, sent back to its source: what limpet sent,
	 * client -> backend or VIP -> client. Looked up the other way round,
	 * as the flow's own packets are: the return entry backend -> client,
	 * or the client's entry client -> VIP.
	 */
	__builtin_memset(&u->key, 0, sizeof(u->key));
	if (p->family == LIMPET_FAMILY_V4) {
		struct iphdr *ih = (struct iphdr *)in;

		if ((void *)(ih + 1) > data_end || ih->version != 4 || ih->ihl < 5 ||
		    ih->saddr != p->dst.a[0])
			return -1;
		proto = ih->protocol;
		u->key.src.a[0] = ih->daddr;
		l4 = in + ((ih->ihl * 4) & 0x3c);
	} else {
		struct ipv6hdr *ih = (struct ipv6hdr *)in;
		const struct limpet_addr *src = (const struct limpet_addr *)&ih->saddr;

		if ((void *)(ih + 1) > data_end || ih->version != 6 ||
		    ((src->a[0] ^ p->dst.a[0]) | (src->a[1] ^ p->dst.a[1]) |
		     (src->a[2] ^ p->dst.a[2]) | (src->a[3] ^ p->dst.a[3])))
			return -1;
		proto = ih->nexthdr;
		__builtin_memcpy(&u->key.src, &ih->daddr, sizeof(u->key.src));
		l4 = (__u8 *)(ih + 1);
	}
	if ((proto != IPPROTO_TCP && proto != IPPROTO_UDP) ||
	    l4 + ICMP_QUOTE_L4_MIN > (__u8 *)data_end)
		return -1;
	u->key.dst = p->dst;
	u->key.sport = *(__be16 *)(l4 + 2);
	u->key.dport = *(__be16 *)l4;
	u->key.proto = proto;
	u->key.family = p->family;
	fv = bpf_map_lookup_elem(&flows, &u->key);
	/* A connection the data plane is binding: our SYN's, not the client's. */
	if (fv && (fv->flags & LIMPET_FLOW_XDP_BINDING))
		return -1;
	to_backend = fv && !(fv->flags & LIMPET_FLOW_RET);
	if (!fv) {
		/* No return entry: a flow whose replies rev_nat un-NATs, by
		 * the quoted backend address:port, if its client's entry
		 * (client -> VIP) is bound to that backend; not an error for
		 * this host itself (about a health check).
		 */
		struct rev_nat_value *rv;
		struct flow_value *cf;

		u->rk.addr = u->key.src;
		u->rk.port = u->key.sport;
		u->rk.proto = proto;
		u->rk.family = p->family;
		rv = bpf_map_lookup_elem(&rev_nat, &u->rk);
		if (!rv || (rv->flags & LIMPET_REV_NAT_SPLICED))	/* HTTP: its own entries */
			return -1;
		flow_key_of_client(&u->key, &p->dst, u->key.dport, rv, proto, p->family);
		cf = bpf_map_lookup_elem(&flows, &u->key);
		if (!cf || cf->backend_id != rv->backend_id ||
		    icmp_route(ctx, p, &p->dst, u) == BPF_FIB_LKUP_RET_NOT_FWDED)
			return -1;
		from = &u->rk.addr;
		to = &rv->vip;
		to_port = rv->vip_port;
	} else if (!to_backend) {
		/* A return entry with its translation: one the data plane
		 * runs, or a bound one whose backend side the slow path still
		 * watches (it acks what the client sent); not one being bound
		 * (no VIP in it yet). The quoted destination, backend:port,
		 * becomes VIP:port.
		 */
		if ((fv->flags & LIMPET_FLOW_SLOWPATH) && !fv->vip_port)
			return -1;
		from = &u->key.src;
		to = &fv->vip;
		to_port = fv->vip_port;
	} else {
		/* The client's entry of a flow whose backend is the one it
		 * was bound to (as lb_established() requires). Not a
		 * connection being bound: no backend has it yet. The quoted
		 * source, VIP:port, becomes backend:port.
		 */
		if (fv->flags & LIMPET_FLOW_SLOWPATH)
			return -1;
		backend_id = fv->backend_id;
		be = bpf_map_lookup_elem(&backends, &backend_id);
		if (!be || be->state != LIMPET_BACKEND_ACTIVE || be->gen != fv->gen ||
		    be->family != p->family)
			return -1;
		if (fv->flags & LIMPET_FLOW_DSR)
			return icmp_dsr_forward(ctx, p, u, be);
		from = &p->dst;
		to = &be->addr;
		to_port = be->port;
	}
	if (!ttl_ok(p, data_end)) {
		stat_inc(LIMPET_STAT_DROP_TTL);
		return XDP_DROP;
	}

	/* Is the quoted L4 checksum there (UDP/IPv4: and in use)? */
	l4_check = (__u16 *)(l4 + (proto == IPPROTO_TCP ? 16 : 6));
	has_l4sum = (void *)(l4_check + 1) <= data_end &&
		    (proto == IPPROTO_TCP || *l4_check != 0);
	if (has_l4sum && (void *)(l4_check + 1) <= data_end)
		l4sum = csum_begin(*l4_check);
	sum = csum_begin(*(__u16 *)(icmp + 2));

	/* The quoted address and port. */
	qport = to_backend ? l4 : l4 + 2;
	old = *(__u16 *)qport;
	*(__u16 *)qport = to_port;
	sum = csum_add16(sum, old, to_port);
	l4sum = csum_add16(l4sum, old, to_port);
	l4sum = csum_diff_addr(l4sum, from, to);
	if (p->family == LIMPET_FAMILY_V4) {
		struct iphdr *ih = (struct iphdr *)in;

		if ((void *)(ih + 1) > data_end)
			return XDP_PASS;
		old = ih->check;
		ih->check = csum_replace4(ih->check, from->a[0], to->a[0]);
		if (to_backend)
			ih->saddr = to->a[0];
		else
			ih->daddr = to->a[0];
		sum = csum_diff32(sum, from->a[0], to->a[0]);
		sum = csum_add16(sum, old, ih->check);
	} else {
		struct ipv6hdr *ih = (struct ipv6hdr *)in;

		if ((void *)(ih + 1) > data_end)
			return XDP_PASS;
		if (to_backend)
			__builtin_memcpy(&ih->saddr, to, sizeof(*to));
		else
			__builtin_memcpy(&ih->daddr, to, sizeof(*to));
		sum = csum_diff_addr(sum, from, to);
	}

	/* A spliced flow's seq and ack, into the spaces of the side the error
	 * goes to. The entry found translates the other side's segments
	 * toward it: its seqs by limpet_splice_seq(), the acks of our side's
	 * bytes by limpet_splice_ack(). The quoted segment went the other
	 * way, so its seq (the other side's bytes as our side numbers them)
	 * goes back by the ack translation and its ack by the seq one: the
	 * inverse of what was done to it.
	 */
	if (proto == IPPROTO_TCP && fv && (fv->flags & (LIMPET_FLOW_SPLICE | LIMPET_FLOW_SLOWPATH))) {
		seq = *(__u32 *)(l4 + 4);
		nseq = bpf_htonl(limpet_splice_ack(&fv->sp, bpf_ntohl(seq)));
		*(__u32 *)(l4 + 4) = nseq;
		sum = csum_diff32(sum, seq, nseq);
		l4sum = csum_diff32(l4sum, seq, nseq);
		if (l4 + 14 <= (__u8 *)data_end && (l4[13] & LIMPET_TCP_ACK)) {
			seq = *(__u32 *)(l4 + 8);
			nseq = bpf_htonl(limpet_splice_seq(&fv->sp, bpf_ntohl(seq)));
			*(__u32 *)(l4 + 8) = nseq;
			sum = csum_diff32(sum, seq, nseq);
			l4sum = csum_diff32(l4sum, seq, nseq);
		}
	}
	if (has_l4sum && (void *)(l4_check + 1) <= data_end) {
		__u16 new = csum_end(l4sum);

		if (proto == IPPROTO_UDP && new == 0)
			new = 0xffff;
		old = *l4_check;
		*l4_check = new;
		sum = csum_add16(sum, old, new);
	}

	/* The outer header. To the client: from the VIP. To the backend: to
	 * the backend, still from the router that sent it, as for a
	 * forwarded packet (the backend routes back to it through limpet).
	 * ICMPv6 sums the addresses in its pseudo-header.
	 */
	if (p->family == LIMPET_FAMILY_V4) {
		struct iphdr *oh = p->l3;

		if ((void *)(oh + 1) > data_end)
			return XDP_PASS;
		if (to_backend) {
			oh->check = csum_replace4(oh->check, oh->daddr, to->a[0]);
			oh->daddr = to->a[0];
		} else {
			oh->check = csum_replace4(oh->check, oh->saddr, to->a[0]);
			oh->saddr = to->a[0];
		}
	} else {
		struct ipv6hdr *oh = p->l3;

		if ((void *)(oh + 1) > data_end)
			return XDP_PASS;
		if (to_backend) {
			sum = csum_diff_addr(sum, &p->dst, to);
			__builtin_memcpy(&oh->daddr, to, sizeof(*to));
		} else {
			sum = csum_diff_addr(sum, &p->src, to);
			__builtin_memcpy(&oh->saddr, to, sizeof(*to));
		}
	}
	*(__u16 *)(icmp + 2) = csum_end(sum);
	if (to_backend)
		p->dst = *to;
	else
		p->src = *to;

	if (icmp_route(ctx, p, &p->dst, u) != BPF_FIB_LKUP_RET_SUCCESS) {
		/* Whole and valid: the kernel can route it. */
		stat_inc(LIMPET_STAT_FIB_PASS);
		return XDP_PASS;
	}
	ttl_decrement(p, data_end);
	stat_inc(to_backend ? LIMPET_STAT_ICMP_TO_BACKEND : LIMPET_STAT_ICMP_TRANSLATED);
	if ((void *)(p->eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(p->eth->h_dest, u->fib.dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, u->fib.smac, ETH_ALEN);
	if (u->fib.ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	return bpf_redirect(u->fib.ifindex, 0);
}

#endif /* LIMPET_BPF_ICMP_H */
