/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * parse.h - Ethernet / IPv4 / IPv6 / TCP / UDP parsing for the data plane.
 *
 * parse_packet() fills a struct packet with the tuple and pointers to the
 * headers, or says why the packet is none of ours. Every header is bounds
 * checked against data_end before it is read; nothing is written here.
 * IPv4 options are skipped; IPv6 extension headers and IP fragments are
 * left to the kernel.
 */
#ifndef LIMPET_BPF_PARSE_H
#define LIMPET_BPF_PARSE_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "limpet_maps.h"
#include "limpet_tcpopt.h"

#define IP_MF 0x2000
#define IP_OFFSET 0x1fff

enum parse_result {
	PARSE_OK = 0,
	PARSE_UNPARSED,		/* not TCP/UDP over IPv4/IPv6 we understand: pass */
	PARSE_FRAGMENT,		/* an IP fragment: pass */
	PARSE_MALFORMED,	/* TCP/UDP header truncated: drop */
};

struct packet {
	struct limpet_addr src;
	struct limpet_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u8 tcp_flags;		/* TCP only: the flags byte */
	__u8 pad;
	__u32 ip_len;		/* IP datagram length, for byte counters */
	struct ethhdr *eth;
	void *l3;		/* struct iphdr or struct ipv6hdr */
	void *l4;		/* struct tcphdr or struct udphdr */
};

static __always_inline int parse_l4(struct packet *p, void *data_end, __u32 l4_len)
{
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = p->l4;

		if ((void *)(tcp + 1) > data_end || l4_len < sizeof(*tcp) || tcp->doff < 5)
			return PARSE_MALFORMED;
		p->sport = tcp->source;
		p->dport = tcp->dest;
		p->tcp_flags = ((__u8 *)tcp)[13];
		return PARSE_OK;
	}
	if (p->proto == IPPROTO_UDP) {
		struct udphdr *udp = p->l4;

		if ((void *)(udp + 1) > data_end || l4_len < sizeof(*udp))
			return PARSE_MALFORMED;
		p->sport = udp->source;
		p->dport = udp->dest;
		return PARSE_OK;
	}
	return PARSE_UNPARSED;
}

static __always_inline int parse_ipv4(struct packet *p, void *data_end)
{
	struct iphdr *iph = p->l3;
	__u32 hdr_len, tot_len;

	if ((void *)(iph + 1) > data_end || iph->version != 4 || iph->ihl < 5)
		return PARSE_UNPARSED;
	hdr_len = iph->ihl * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (tot_len < hdr_len || (void *)iph + tot_len > data_end)
		return PARSE_UNPARSED;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return PARSE_FRAGMENT;

	p->family = LIMPET_FAMILY_V4;
	p->proto = iph->protocol;
	p->src.a[0] = iph->saddr;
	p->dst.a[0] = iph->daddr;
	p->ip_len = tot_len;
	p->l4 = (void *)iph + hdr_len;
	return parse_l4(p, data_end, tot_len - hdr_len);
}

static __always_inline int parse_ipv6(struct packet *p, void *data_end)
{
	struct ipv6hdr *ip6h = p->l3;
	__u32 payload_len;

	if ((void *)(ip6h + 1) > data_end || ip6h->version != 6)
		return PARSE_UNPARSED;
	payload_len = bpf_ntohs(ip6h->payload_len);
	if ((void *)(ip6h + 1) + payload_len > data_end)
		return PARSE_UNPARSED;

	p->family = LIMPET_FAMILY_V6;
	p->proto = ip6h->nexthdr;
	__builtin_memcpy(&p->src, &ip6h->saddr, sizeof(p->src));
	__builtin_memcpy(&p->dst, &ip6h->daddr, sizeof(p->dst));
	p->ip_len = sizeof(*ip6h) + payload_len;
	p->l4 = ip6h + 1;
	return parse_l4(p, data_end, payload_len);
}

static __always_inline int parse_packet(struct xdp_md *ctx, struct packet *p)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return PARSE_UNPARSED;
	p->eth = eth;
	p->l3 = eth + 1;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return parse_ipv4(p, data_end);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return parse_ipv6(p, data_end);
	return PARSE_UNPARSED;
}

static __always_inline bool addr_eq(const struct limpet_addr *x, const struct limpet_addr *y)
{
	return !((x->a[0] ^ y->a[0]) | (x->a[1] ^ y->a[1]) | (x->a[2] ^ y->a[2]) |
		 (x->a[3] ^ y->a[3]));
}

/* Are <a> and <b> one flow's key? Word by word, without branches (no memcmp in BPF). */
static __always_inline bool flow_key_eq(const struct flow_key *a, const struct flow_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	__u32 diff = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*a) / sizeof(__u32)); i++)
		diff |= x[i] ^ y[i];
	return !diff;
}

/* The packet's own 5-tuple as a flow table key. */
static __always_inline void flow_key_of(struct flow_key *key, const struct packet *p)
{
	key->src = p->src;
	key->dst = p->dst;
	key->sport = p->sport;
	key->dport = p->dport;
	key->proto = p->proto;
	key->family = p->family;
	key->pad = 0;
}

/* The client's entry (client -> VIP) of a flow through the VIP rev_nat gives
 * in <rv>: its key, from the client's address and port.
 */
static __always_inline void flow_key_of_client(struct flow_key *key,
					       const struct limpet_addr *client,
					       __be16 client_port, const struct rev_nat_value *rv,
					       __u8 proto, __u8 family)
{
	key->src = *client;
	key->dst = rv->vip;
	key->sport = client_port;
	key->dport = rv->vip_port;
	key->proto = proto;
	key->family = family;
	key->pad = 0;
}

#endif /* LIMPET_BPF_PARSE_H */
