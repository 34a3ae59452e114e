/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fib.h - next hop from the kernel's routing and neighbour tables.
 *
 * fib_lookup_nexthop() asks bpf_fib_lookup() where a packet to <dst> would
 * go; nexthop_get() keeps the answer in the flow for a second, so that an
 * established flow rarely pays for the lookup; nexthop_send() writes the MAC
 * addresses and returns the redirect verdict. When the neighbour
 * is not resolved yet the caller hands the packet to the kernel, which
 * resolves it (routed NAT packets only).
 */
#ifndef LIMPET_BPF_FIB_H
#define LIMPET_BPF_FIB_H

#include "parse.h"
#include "limpet_csum.h"

#define LIMPET_AF_INET 2
#define LIMPET_AF_INET6 10
#define IPV6_FLOWINFO_MASK bpf_htonl(0x0FFFFFFF)

static __always_inline int fib_lookup_nexthop(struct xdp_md *ctx, const struct packet *p,
					      void *data_end, const struct limpet_addr *dst,
					      struct bpf_fib_lookup *fib)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->ifindex = ctx->ingress_ifindex;
	fib->l4_protocol = p->proto;
	fib->sport = p->sport;
	fib->dport = p->dport;

	if (p->family == LIMPET_FAMILY_V4) {
		struct iphdr *iph = p->l3;

		if ((void *)(iph + 1) > data_end)
			return -1;
		fib->family = LIMPET_AF_INET;
		fib->tos = iph->tos;
		fib->tot_len = bpf_ntohs(iph->tot_len);
		fib->ipv4_src = p->src.a[0];
		fib->ipv4_dst = dst->a[0];
	} else {
		struct ipv6hdr *ip6h = p->l3;

		if ((void *)(ip6h + 1) > data_end)
			return -1;
		fib->family = LIMPET_AF_INET6;
		fib->flowinfo = *(__be32 *)ip6h & IPV6_FLOWINFO_MASK;
		fib->tot_len = p->ip_len;
		__builtin_memcpy(fib->ipv6_src, &p->src, sizeof(p->src));
		__builtin_memcpy(fib->ipv6_dst, dst, sizeof(*dst));
	}
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/* Routed packets (NAT) lose one hop; L2 forwarding (DSR) does not. Returns
 * false when the TTL / hop limit is already too low to forward.
 */
static __always_inline bool ttl_ok(const struct packet *p, void *data_end)
{
	if (p->family == LIMPET_FAMILY_V4) {
		struct iphdr *iph = p->l3;

		return (void *)(iph + 1) <= data_end && iph->ttl > 1;
	} else {
		struct ipv6hdr *ip6h = p->l3;

		return (void *)(ip6h + 1) <= data_end && ip6h->hop_limit > 1;
	}
}

static __always_inline void ttl_decrement(const struct packet *p, void *data_end)
{
	if (p->family == LIMPET_FAMILY_V4) {
		struct iphdr *iph = p->l3;
		__u32 check;

		if ((void *)(iph + 1) > data_end)
			return;
		/* As ip_decrease_ttl(): the TTL is the high byte of its header
		 * word, so the checksum grows by 0x0100. Not by re-reading the
		 * word after the byte's store, which stalls the load behind it.
		 */
		check = iph->check;
		check += bpf_htons(0x0100);
		iph->check = (__u16)(check + (check >= 0xffff));
		iph->ttl--;
	} else {
		struct ipv6hdr *ip6h = p->l3;

		if ((void *)(ip6h + 1) > data_end)
			return;
		ip6h->hop_limit--;
	}
}

/* How long a flow trusts its cached next hop before asking the FIB again. */
#define NEXTHOP_TTL_NS 1000000000ULL

/*
 * The next hop for <p> toward <dst>: from <cache> while it is fresh and
 * covers this packet, else from the FIB, refreshing <cache> (NULL: a flow
 * not recorded yet). Fills <out>; returns BPF_FIB_LKUP_RET_SUCCESS or the
 * FIB's failure code.
 */
static __always_inline int nexthop_get(struct xdp_md *ctx, const struct packet *p, void *data_end,
				       const struct limpet_addr *dst, struct nexthop_cache *cache,
				       __u64 now, struct nexthop_cache *out)
{
	struct bpf_fib_lookup fib;
	int rc;

	if (cache && cache->expires_ns > now && cache->in_ifindex == ctx->ingress_ifindex &&
	    p->ip_len <= cache->max_len) {
		*out = *cache;
		return BPF_FIB_LKUP_RET_SUCCESS;
	}
	rc = fib_lookup_nexthop(ctx, p, data_end, dst, &fib);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return rc;
	out->expires_ns = now + NEXTHOP_TTL_NS;
	out->in_ifindex = ctx->ingress_ifindex;
	out->out_ifindex = fib.ifindex;
	out->max_len = p->ip_len;
	out->pad = 0;
	__builtin_memcpy(out->dmac, fib.dmac, ETH_ALEN);
	__builtin_memcpy(out->smac, fib.smac, ETH_ALEN);
	if (cache)
		*cache = *out;
	return BPF_FIB_LKUP_RET_SUCCESS;
}

static __always_inline int nexthop_send(struct xdp_md *ctx, struct packet *p, void *data_end,
					const struct nexthop_cache *nh)
{
	struct ethhdr *eth = p->eth;
	/*
	 * Read once, before the MAC copies: otherwise clang may keep nh spilled
	 * and rebuild the field from it with shifts the verifier refuses on a
	 * map-value pointer (seen in the bench's inlined copy).
	 */
	__u32 out_ifindex = *(volatile __u32 *)&nh->out_ifindex;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(eth->h_dest, nh->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, nh->smac, ETH_ALEN);
	/* Even back out of the ingress: on veth, XDP_TX frames stop reaching
	 * the peer once an AF_XDP socket is bound to the queue (the HTTP
	 * slow path binds one on every interface), as synproxy_send() says.
	 */
	return bpf_redirect(out_ifindex, 0);
}

#endif /* LIMPET_BPF_FIB_H */
