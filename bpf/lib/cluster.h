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
 * node's address on a link they share; the owner's program takes it as any
 * of its flow's.
 */
#ifndef LIMPET_BPF_CLUSTER_H
#define LIMPET_BPF_CLUSTER_H

#include "parse.h"
#include "maps.h"
#include "stats.h"
#include "fib.h"
#include "tcpopt.h"
#include "limpet_tcpopt.h"

/* What this node writes into its TSvals: no bits on a lone node. */
static __always_inline struct limpet_ts_tag cluster_ts_tag(void)
{
	struct limpet_ts_tag tag = {};
	struct cluster_value *cl;
	__u32 zero = 0;

	cl = bpf_map_lookup_elem(&cluster, &zero);
	if (cl && cl->ts_bits <= LIMPET_TS_TAG_MAX_BITS) {
		tag.bits = cl->ts_bits;
		tag.id = cl->self;
	}
	return tag;
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
	struct bpf_fib_lookup fib = {};
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
	fib.ifindex = ctx->ingress_ifindex;
	fib.tot_len = p->ip_len;
	if (node->family == LIMPET_FAMILY_V4) {
		fib.family = LIMPET_AF_INET;
		fib.ipv4_dst = node->addr.a[0];
	} else if (node->family == LIMPET_FAMILY_V6) {
		fib.family = LIMPET_AF_INET6;
		__builtin_memcpy(fib.ipv6_dst, &node->addr, sizeof(node->addr));
	} else {
		goto unreachable;	/* an id no node has */
	}
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		goto unreachable;
	/* The node itself must be the next hop: through a router the frame
	 * would be routed by its own destination, back to some node.
	 */
	if (node->family == LIMPET_FAMILY_V4)
		on_link = fib.ipv4_dst == node->addr.a[0];
	else
		on_link = !((fib.ipv6_dst[0] ^ node->addr.a[0]) | (fib.ipv6_dst[1] ^ node->addr.a[1]) |
			    (fib.ipv6_dst[2] ^ node->addr.a[2]) | (fib.ipv6_dst[3] ^ node->addr.a[3]));
	if (!on_link || !ttl_ok(p, data_end))
		goto unreachable;
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
 * <from_backend>: from an HTTP service's backend, not to a VIP. -1 on a lone
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
	if (!cl || !cl->ts_bits || cl->ts_bits > LIMPET_TS_TAG_MAX_BITS)
		return -1;
	tag.bits = cl->ts_bits;
	tag.id = cl->self;
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

#endif /* LIMPET_BPF_CLUSTER_H */
