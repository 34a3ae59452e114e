/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * nat.h - address/port rewriting with incremental checksum updates.
 *
 * nat_rewrite() replaces the source or the destination address and port of
 * a parsed packet and fixes the IPv4 header checksum and the TCP/UDP
 * checksum (which covers the addresses through the pseudo-header) in the
 * same pass. A UDP/IPv4 checksum of zero means "none" and stays zero.
 */
#ifndef LIMPET_BPF_NAT_H
#define LIMPET_BPF_NAT_H

#include "parse.h"
#include "limpet_csum.h"

enum nat_side {
	NAT_SRC = 0,
	NAT_DST = 1,
};

static __always_inline void nat_rewrite(struct packet *p, void *data_end, enum nat_side side,
					const struct limpet_addr *addr, __be16 port)
{
	struct limpet_addr *old_addr = side == NAT_DST ? &p->dst : &p->src;
	__be16 old_port = side == NAT_DST ? p->dport : p->sport;
	__u16 *l4_check;
	__be16 *l4_port;
	__u32 sum;

	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = p->l4;

		if ((void *)(tcp + 1) > data_end)
			return;
		l4_check = (__u16 *)&tcp->check;
		l4_port = side == NAT_DST ? &tcp->dest : &tcp->source;
	} else {
		struct udphdr *udp = p->l4;

		if ((void *)(udp + 1) > data_end)
			return;
		l4_check = (__u16 *)&udp->check;
		l4_port = side == NAT_DST ? &udp->dest : &udp->source;
	}

	if (p->proto == IPPROTO_TCP || *l4_check != 0) {
		sum = csum_begin(*l4_check);
		/* An IPv4 address is word 0: the others are zero on both sides. */
		sum = csum_diff32(sum, old_addr->a[0], addr->a[0]);
		if (p->family != LIMPET_FAMILY_V4) {
			sum = csum_diff32(sum, old_addr->a[1], addr->a[1]);
			sum = csum_diff32(sum, old_addr->a[2], addr->a[2]);
			sum = csum_diff32(sum, old_addr->a[3], addr->a[3]);
		}
		sum += (__u16)~old_port;
		sum += port;
		*l4_check = csum_end(sum);
		/* In UDP a computed zero is sent as all ones (RFC 768). */
		if (p->proto == IPPROTO_UDP && *l4_check == 0)
			*l4_check = 0xffff;
	}
	*l4_port = port;

	if (p->family == LIMPET_FAMILY_V4) {
		struct iphdr *iph = p->l3;

		if ((void *)(iph + 1) > data_end)
			return;
		iph->check = csum_replace4(iph->check, old_addr->a[0], addr->a[0]);
		if (side == NAT_DST)
			iph->daddr = addr->a[0];
		else
			iph->saddr = addr->a[0];
	} else {
		struct ipv6hdr *ip6h = p->l3;

		if ((void *)(ip6h + 1) > data_end)
			return;
		if (side == NAT_DST)
			__builtin_memcpy(&ip6h->daddr, addr, sizeof(*addr));
		else
			__builtin_memcpy(&ip6h->saddr, addr, sizeof(*addr));
	}

	*old_addr = *addr;
	if (side == NAT_DST)
		p->dport = port;
	else
		p->sport = port;
}

#endif /* LIMPET_BPF_NAT_H */
