/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * iphdr.h - the IP headers limpet writes in its own name: the SYN-ACK of a
 * cookie handshake, the SYN of a binding (as the slow path builds them,
 * user/http/segment.c), and the outer header of a segment sent to another
 * cluster node (bpf/lib/cluster.h). TTL 64, ID 0 (RFC 6864); IPv6 with
 * traffic class and flow label 0.
 */
#ifndef LIMPET_BPF_IPHDR_H
#define LIMPET_BPF_IPHDR_H

#include "parse.h"
#include "limpet_csum.h"

#define IPHDR_TTL 64

/* One's complement sum to 16 bits. */
static __always_inline __u16 csum_fold64(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	return csum_fold32((__u32)sum);
}

/* Checksum of <len> bytes at <buf> plus <seed>: the value to store in the
 * checksum field if it was zero when summed; over data that holds a correct
 * checksum, 0. The helper fails only for a <len> that is not a multiple of 4
 * or exceeds 512, which IP and TCP header lengths never are.
 */
static __always_inline __u16 csum_buf(void *buf, __u32 len, __u64 seed)
{
	__s64 sum = bpf_csum_diff(NULL, 0, buf, len, 0);

	if (sum < 0)
		return 0;
	return (__u16)~csum_fold64((__u64)sum + seed);
}

/* An IPv4 header from <src> to <dst> before <payload_len> bytes of <proto>; <df>: don't fragment. */
static __always_inline void iphdr_write4(struct iphdr *ip, __be32 src, __be32 dst, __u8 proto,
					 __u32 payload_len, bool df)
{
	ip->version = 4;
	ip->ihl = sizeof(*ip) / 4;
	ip->tos = 0;
	ip->tot_len = bpf_htons(sizeof(*ip) + payload_len);
	ip->id = 0;
	ip->frag_off = df ? bpf_htons(0x4000) : 0;
	ip->ttl = IPHDR_TTL;
	ip->protocol = proto;
	ip->saddr = src;
	ip->daddr = dst;
	ip->check = 0;
	ip->check = csum_buf(ip, sizeof(*ip), 0);
}

static __always_inline void iphdr_write6(struct ipv6hdr *ip, const struct limpet_addr *src,
					 const struct limpet_addr *dst, __u8 proto,
					 __u32 payload_len)
{
	*(__be32 *)ip = bpf_htonl(0x60000000);	/* version, no class or label */
	ip->payload_len = bpf_htons(payload_len);
	ip->nexthdr = proto;
	ip->hop_limit = IPHDR_TTL;
	__builtin_memcpy(&ip->saddr, src, sizeof(ip->saddr));
	__builtin_memcpy(&ip->daddr, dst, sizeof(ip->daddr));
}

#endif /* LIMPET_BPF_IPHDR_H */
