/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cluster.h - the segments of a spliced connection that reach a node which
 * did not bind it.
 *
 * Behind ECMP, a client's segments move to another node when the router's
 * paths change, and a backend's replies take whichever node its default
 * route picks. An HTTP connection's translation lives on the node that bound
 * it, so a node that has no flow for such a segment sends it to that node,
 * found from the segment itself: the low bits of every TSval limpet writes
 * name the node that wrote it (limpet_ts_tag, limpet_tcpopt.h), and both
 * peers echo it in their TSecr (Beamer's daisy chaining, NSDI'18, made
 * stateless as in Cheetah, NSDI'20). A client without timestamps echoes
 * no TSval; its connections carry the node in the top bits of the ISNs
 * limpet chose, which every ack counts from (limpet_isn_tag()). The frame
 * goes out unchanged but for its MAC addresses and a hop of TTL, toward the
 * node's address on a link they share, or, where the node is reached
 * through a router, inside an outer IP header from this node's address to
 * that node's (IPIP or IPv6-in-IP, by the inner family: Katran's
 * encapsulation), which the owner's program strips (cluster_decap()). The
 * owner's program takes it as any of its flow's.
 */
#ifndef LIMPET_BPF_CLUSTER_H
#define LIMPET_BPF_CLUSTER_H

#include "parse.h"
#include "maps.h"
#include "stats.h"
#include "fib.h"
#include "iphdr.h"
#include "tcpopt.h"
#include "limpet_tcpopt.h"

/* This node's tag in cluster map value <cl>: no bits on a lone node (or none, NULL). */
static __always_inline struct limpet_ts_tag cluster_tag_of(const struct cluster_value *cl)
{
	struct limpet_ts_tag tag = {};

	if (cl && cl->ts_bits <= LIMPET_TS_TAG_MAX_BITS) {
		tag.bits = cl->ts_bits;
		tag.id = cl->self;
	}
	return tag;
}

/* What this node writes into its TSvals. */
static __always_inline struct limpet_ts_tag cluster_ts_tag(void)
{
	__u32 zero = 0;

	return cluster_tag_of(bpf_map_lookup_elem(&cluster, &zero));
}

/* The route to <node> for a datagram of <tot_len> bytes, into <fib>: a BPF_FIB_LKUP_RET_*. */
static __always_inline int cluster_route(struct xdp_md *ctx, struct bpf_fib_lookup *fib,
					 const struct cluster_node *node, __u32 tot_len)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ctx->ingress_ifindex;
	fib->tot_len = tot_len;
	if (node->family == LIMPET_FAMILY_V4) {
		fib->family = LIMPET_AF_INET;
		fib->ipv4_dst = node->addr.a[0];
	} else if (node->family == LIMPET_FAMILY_V6) {
		fib->family = LIMPET_AF_INET6;
		__builtin_memcpy(fib->ipv6_dst, &node->addr, sizeof(node->addr));
	} else {
		return -1;
	}
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/*
 * cluster_forward_segment() returns this plus the node's id for a frame to
 * send through cluster_encap(), which lb_process() calls itself: moving the
 * frame's head makes the verifier forget every packet pointer of the
 * caller, and none may be used after it.
 */
#define CLUSTER_ENCAP_TO 0x100

/*
 * Send the frame (a TCP segment, its TTL checked by cluster_forward()) to
 * node <id>, reached through a router, inside an outer header from this
 * node's address. The outer family is the nodes' own; the frame must fit
 * the path's MTU with it (operators give the nodes' network room for the 20
 * or 40 bytes, as for any tunnel), or it is dropped and counted unreachable.
 */
static __noinline int cluster_encap(struct xdp_md *ctx, __u32 id)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	const struct cluster_node *self, *node;
	const struct cluster_value *cl;
	struct bpf_fib_lookup fib;
	struct packet inner = {};
	struct ethhdr *eth = data;
	__u32 zero = 0, outer, inner_len;
	__u8 inner_proto;

	cl = bpf_map_lookup_elem(&cluster, &zero);
	if (!cl || (void *)(eth + 1) > data_end)
		goto unreachable;
	self = &cl->nodes[cl->self & (LIMPET_CLUSTER_MAX_NODES - 1)];
	node = &cl->nodes[id & (LIMPET_CLUSTER_MAX_NODES - 1)];
	if (self->family != node->family)
		goto unreachable;
	inner.l3 = eth + 1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = inner.l3;

		if ((void *)(iph + 1) > data_end)
			goto unreachable;
		inner.family = LIMPET_FAMILY_V4;
		inner_len = bpf_ntohs(iph->tot_len);
		inner_proto = IPPROTO_IPIP;
	} else {
		struct ipv6hdr *ip6h = inner.l3;

		if ((void *)(ip6h + 1) > data_end)
			goto unreachable;
		inner.family = LIMPET_FAMILY_V6;
		inner_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
		inner_proto = IPPROTO_IPV6;
	}
	outer = node->family == LIMPET_FAMILY_V4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	/* The route's MTU must hold the outer header too. */
	if (cluster_route(ctx, &fib, node, inner_len + outer) != BPF_FIB_LKUP_RET_SUCCESS)
		goto unreachable;
	/* One hop, as when the node is on the link. */
	ttl_decrement(&inner, data_end);
	if (bpf_xdp_adjust_head(ctx, -(int)outer))
		goto unreachable;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) + sizeof(struct ipv6hdr) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	/* No DF: the inner segment's own header says whether it may be cut. */
	if (node->family == LIMPET_FAMILY_V4) {
		eth->h_proto = bpf_htons(ETH_P_IP);
		iphdr_write4((void *)(eth + 1), self->addr.a[0], node->addr.a[0], inner_proto,
			     inner_len, false);
	} else {
		eth->h_proto = bpf_htons(ETH_P_IPV6);
		iphdr_write6((void *)(eth + 1), &self->addr, &node->addr, inner_proto, inner_len);
	}
	stat_inc(LIMPET_STAT_CLUSTER_FORWARD);
	stat_inc(LIMPET_STAT_CLUSTER_ENCAP);
	return bpf_redirect(fib.ifindex, 0);
unreachable:
	stat_inc(LIMPET_STAT_CLUSTER_UNREACHABLE);
	return XDP_DROP;
}

/*
 * <p>, with no flow on this node, belongs to node <id> of cluster <cl>: when
 * that is another node, send <p> to it. Returns the verdict, or -1 when the
 * segment is this node's to handle.
 */
static __always_inline int cluster_forward(struct xdp_md *ctx, const struct packet *p,
					   const struct cluster_value *cl, __u32 id)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup fib;
	const struct cluster_node *node;
	struct ethhdr *eth = p->eth;
	bool on_link;

	if (id == cl->self)
		return -1;
	/* Kept as a bound the verifier sees: the compiler knows a shifted
	 * ack is small and would drop the mask.
	 */
	barrier_var(id);
	node = &cl->nodes[id & (LIMPET_CLUSTER_MAX_NODES - 1)];
	/* An id no node has fails here too. */
	if (cluster_route(ctx, &fib, node, p->ip_len) != BPF_FIB_LKUP_RET_SUCCESS)
		goto unreachable;
	/* When the node itself is not the next hop, a router would route the
	 * frame by its own destination, back to some node: encapsulated.
	 */
	if (node->family == LIMPET_FAMILY_V4)
		on_link = fib.ipv4_dst == node->addr.a[0];
	else
		on_link = addr_eq((const struct limpet_addr *)fib.ipv6_dst, &node->addr);
	if (!ttl_ok(p, data_end))
		goto unreachable;
	if (!on_link)
		return CLUSTER_ENCAP_TO + id;
	/* One hop: nodes that disagree on the ids cannot pass a frame around forever. */
	ttl_decrement(p, data_end);
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	stat_inc(LIMPET_STAT_CLUSTER_FORWARD);
	/* A redirect even back out of the ingress: on veth, XDP_TX frames
	 * stop reaching the peer once an AF_XDP socket is bound to the queue
	 * (synproxy_send()).
	 */
	return bpf_redirect(fib.ifindex, 0);
unreachable:
	stat_inc(LIMPET_STAT_CLUSTER_UNREACHABLE);
	return XDP_DROP;
}

/*
 * A TCP segment <p> with no flow here, but for a SYN that opens a
 * connection: cluster_forward() to the node its TSecr names or, without
 * timestamps, the node whose ISN its ack counts from (limpet_isn_node()).
 * <from_backend>: from an HTTP service's backend, not to a VIP. Returns
 * the verdict, CLUSTER_ENCAP_TO + the node's id, or -1 on a lone
 * node, for a segment that names neither and for one to this host. Called
 * from lb_process() itself: one frame above it is all the stack left.
 */
static __noinline int cluster_forward_segment(struct xdp_md *ctx, const struct packet *p,
					     bool from_backend)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct limpet_tcpopt_parser *parser;
	const struct cluster_value *cl;
	struct tcphdr *tcp = p->l4;
	struct limpet_ts_tag tag;
	struct bpf_fib_lookup fib;
	__u32 zero = 0;

	if (p->proto != IPPROTO_TCP || (void *)(tcp + 1) > data_end ||
	    (p->tcp_flags & (LIMPET_TCP_SYN | LIMPET_TCP_ACK)) == LIMPET_TCP_SYN)
		return -1;
	cl = bpf_map_lookup_elem(&cluster, &zero);
	tag = cluster_tag_of(cl);
	if (!cl || !tag.bits)
		return -1;
	/* A backend's answer to this host itself (a health check): its
	 * TSecr echoes the kernel's clock, which names no node.
	 */
	if (from_backend &&
	    fib_lookup_nexthop(ctx, p, data_end, &p->dst, &fib) == BPF_FIB_LKUP_RET_NOT_FWDED)
		return -1;
	parser = tcpopt_read(ctx, (__u32)((void *)tcp - data), tcp->doff * 4);
	if (!parser)
		return -1;
	if (parser->opt.ts_ok)
		return cluster_forward(ctx, p, cl, limpet_ts_node(parser->opt.tsecr, tag));
	if (!(p->tcp_flags & LIMPET_TCP_ACK))
		return -1;
	return cluster_forward(ctx, p, cl, limpet_isn_node(bpf_ntohl(tcp->ack_seq), tag));
}

/*
 * Is the frame an IP packet carrying IPIP or IPv6 (a cluster_encap() frame,
 * maybe)? Cheap enough for every frame: two loads.
 */
static __always_inline bool cluster_tunnelled(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 proto;

	if ((void *)(eth + 1) + sizeof(struct ipv6hdr) > data_end)
		return false;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		proto = ((struct iphdr *)(eth + 1))->protocol;
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		proto = ((struct ipv6hdr *)(eth + 1))->nexthdr;
	else
		return false;
	return proto == IPPROTO_IPIP || proto == IPPROTO_IPV6;
}

/*
 * A cluster_tunnelled() frame from another node to this one: strip the
 * outer header and give the inner packet its Ethernet header back, before
 * it is parsed. 1 when it did, 0 when the frame is not one (no cluster, not
 * to this node's address, not from another node's: the kernel's), -1 to
 * drop it.
 */
static __noinline int cluster_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	const struct cluster_node *self, *n;
	const struct cluster_value *cl;
	struct ethhdr *eth = data, *inner, copy;
	struct packet p = {};
	__u32 zero = 0, outer, i;
	bool from_node = false;

	cl = bpf_map_lookup_elem(&cluster, &zero);
	if (!cl || !cl->ts_bits)
		return 0;
	if (parse_packet(ctx, &p) != PARSE_UNPARSED || !p.l4)
		return 0;
	self = &cl->nodes[cl->self & (LIMPET_CLUSTER_MAX_NODES - 1)];
	if (self->family != p.family || !addr_eq(&self->addr, &p.dst))
		return 0;
	for (i = 0; i < LIMPET_CLUSTER_MAX_NODES; i++) {
		if (i >= cl->n_nodes)
			break;
		n = &cl->nodes[i];
		/* Leave at the first match: one path on through the loop
		 * instead of two per node keeps the verifier's work linear.
		 */
		if (i != cl->self && n->family == p.family && addr_eq(&n->addr, &p.src)) {
			from_node = true;
			break;
		}
	}
	if (!from_node)
		return 0;
	outer = (__u32)(p.l4 - p.l3);
	inner = p.l4 - sizeof(*inner);
	if ((void *)(eth + 1) > data_end || (void *)inner < data || (void *)(inner + 1) > data_end)
		return -1;
	__builtin_memcpy(&copy, eth, sizeof(copy));
	copy.h_proto = p.proto == IPPROTO_IPIP ? bpf_htons(ETH_P_IP) : bpf_htons(ETH_P_IPV6);
	__builtin_memcpy(inner, &copy, sizeof(copy));
	if (bpf_xdp_adjust_head(ctx, (int)outer))
		return -1;
	stat_inc(LIMPET_STAT_CLUSTER_DECAP);
	return 1;
}

#endif /* LIMPET_BPF_CLUSTER_H */
