/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * pkt.h - frames for the packet tests and the benchmark, built from scratch.
 *
 * A struct pkt_spec describes a frame in plain terms (MACs, addresses, ports
 * in host order, TTL, flags, payload length); pkt_build() lays it out byte by
 * byte and computes every checksum from the whole header, never
 * incrementally, so an expected output frame owes nothing to the data plane
 * code it checks. pkt_verify() recomputes the checksums of any frame, and
 * pkt_parse() reads a frame back into a spec.
 *
 * Everything is static inline: the packet tests and tests/bench/bench.c both
 * include this header. The MACs of the test namespace are those set by
 * tests/packet/netns.sh; change both together.
 */
#ifndef LIMPET_TESTS_PKT_H
#define LIMPET_TESTS_PKT_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include <netinet/in.h>

#include "limpet_maps.h"

#define PKT_MAX 2048

#define PKT_ETH_LEN 14
#define PKT_IP4_LEN 20
#define PKT_IP6_LEN 40
#define PKT_TCP_LEN 20
#define PKT_UDP_LEN 8
#define PKT_HOPOPTS_LEN 8

#define PKT_ETH_P_IP 0x0800
#define PKT_ETH_P_ARP 0x0806
#define PKT_ETH_P_IPV6 0x86dd

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10
#define PKT_TCP_ECE 0x40
#define PKT_TCP_CWR 0x80

#define PKT_IP_MF 0x2000
#define PKT_IP_DF 0x4000

struct pkt_mac {
	__u8 b[6];
};

/* The namespace's interfaces and PERMANENT neighbours (tests/packet/netns.sh). */
#define PKT_MAC_PKC0 ((struct pkt_mac){ { 0x02, 0x6c, 0x70, 0x00, 0x00, 0x01 } })
#define PKT_MAC_PKS0 ((struct pkt_mac){ { 0x02, 0x6c, 0x70, 0x00, 0x00, 0x02 } })
#define PKT_MAC_CLIENT ((struct pkt_mac){ { 0x02, 0x6c, 0x70, 0x00, 0x01, 0x02 } })
/* Backend 10.20.0.<n> / fd00:20::<n>, n = 11..13: last byte 0x<n> as written. */
#define PKT_MAC_BACKEND(n) \
	((struct pkt_mac){ { 0x02, 0x6c, 0x70, 0x00, 0x02, (n) / 10 * 16 + (n) % 10 } })

struct pkt_spec {
	struct pkt_mac dmac;
	struct pkt_mac smac;
	__u16 ethertype;	/* 0: from family */
	__u8 family;		/* LIMPET_FAMILY_V4 / _V6; 0 with ethertype: no IP */
	__u8 proto;		/* IP protocol / next header; L4 built for TCP and UDP */
	struct limpet_addr src;	/* network order, IPv4 in a[0] */
	struct limpet_addr dst;
	__u16 sport;		/* host order */
	__u16 dport;
	__u8 ttl;		/* TTL / hop limit */
	__u8 tos;		/* TOS / traffic class */
	__u16 ip_id;
	__u16 frag;		/* IPv4 flags + fragment offset, host order */
	__u8 ip_opts;		/* IPv4 option bytes (NOPs): 0..40, multiple of 4 */
	bool hopopts;		/* IPv6: a hop-by-hop options header before L4 */
	__u32 flowlabel;
	__u8 tcp_flags;
	__u32 seq;
	__u32 ack;
	__u16 window;
	bool udp_no_csum;	/* UDP over IPv4 sent without a checksum (0) */
	__u16 payload_len;
	__u8 payload_seed;	/* payload byte i is seed + i */
	__u8 trailer;		/* zero bytes after the IP datagram (Ethernet padding) */
};

static inline struct limpet_addr pkt_addr(const char *text)
{
	struct limpet_addr a;

	memset(&a, 0, sizeof(a));
	if (strchr(text, ':'))
		inet_pton(AF_INET6, text, &a);
	else
		inet_pton(AF_INET, text, &a.a[0]);
	return a;
}

static inline bool pkt_addr_eq(const struct limpet_addr *x, const struct limpet_addr *y)
{
	return memcmp(x, y, sizeof(*x)) == 0;
}

static inline const char *pkt_addr_str(const struct limpet_addr *a, __u8 family, char *buf,
				       size_t len)
{
	return inet_ntop(family == LIMPET_FAMILY_V6 ? AF_INET6 : AF_INET, a, buf, len);
}

/* A client's packet: client MAC -> pkc0, TTL 64. <src>/<dst> decide the family. */
static inline struct pkt_spec pkt_l4(__u8 proto, const char *src, __u16 sport, const char *dst,
				     __u16 dport)
{
	struct pkt_spec s;

	memset(&s, 0, sizeof(s));
	s.dmac = PKT_MAC_PKC0;
	s.smac = PKT_MAC_CLIENT;
	s.family = strchr(src, ':') ? LIMPET_FAMILY_V6 : LIMPET_FAMILY_V4;
	s.proto = proto;
	s.src = pkt_addr(src);
	s.dst = pkt_addr(dst);
	s.sport = sport;
	s.dport = dport;
	s.ttl = 64;
	s.ip_id = 0x1234;
	s.frag = PKT_IP_DF;
	s.window = 64240;
	s.seq = 0x01020304;
	s.payload_seed = 0x41;
	return s;
}

static inline struct pkt_spec pkt_tcp(const char *src, __u16 sport, const char *dst, __u16 dport,
				      __u8 flags)
{
	struct pkt_spec s = pkt_l4(IPPROTO_TCP, src, sport, dst, dport);

	s.tcp_flags = flags;
	if (flags & PKT_TCP_ACK)
		s.ack = 0x0a0b0c0d;
	return s;
}

static inline struct pkt_spec pkt_udp(const char *src, __u16 sport, const char *dst, __u16 dport)
{
	struct pkt_spec s = pkt_l4(IPPROTO_UDP, src, sport, dst, dport);

	s.payload_len = 32;
	return s;
}

static inline void pkt_put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void pkt_put32(__u8 *p, __u32 v)
{
	pkt_put16(p, v >> 16);
	pkt_put16(p + 2, v);
}

static inline __u16 pkt_get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static inline __u32 pkt_get32(const __u8 *p)
{
	return (__u32)pkt_get16(p) << 16 | pkt_get16(p + 2);
}

/* One's complement sum of big-endian 16-bit words; an odd tail is padded. */
static inline __u32 pkt_sum(__u32 sum, const __u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += pkt_get16(p + i);
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

static inline __u16 pkt_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Sum of the pseudo-header: addresses, protocol, L4 length. */
static inline __u32 pkt_pseudo_sum(__u8 family, const __u8 *l3, __u8 proto, __u32 l4_len)
{
	__u32 sum = 0;

	if (family == LIMPET_FAMILY_V4)
		sum = pkt_sum(sum, l3 + 12, 8);
	else
		sum = pkt_sum(sum, l3 + 8, 32);
	sum += proto;
	sum += l4_len >> 16;
	sum += l4_len & 0xffff;
	return sum;
}

static inline size_t pkt_l3_len(const struct pkt_spec *s)
{
	if (s->family == LIMPET_FAMILY_V4)
		return PKT_IP4_LEN + s->ip_opts;
	if (s->family == LIMPET_FAMILY_V6)
		return PKT_IP6_LEN + (s->hopopts ? PKT_HOPOPTS_LEN : 0);
	return 0;
}

static inline size_t pkt_l4_hdr_len(const struct pkt_spec *s)
{
	if (!s->family)
		return 0;
	if (s->proto == IPPROTO_TCP)
		return PKT_TCP_LEN;
	if (s->proto == IPPROTO_UDP)
		return PKT_UDP_LEN;
	return 0;
}

static inline size_t pkt_len(const struct pkt_spec *s)
{
	return PKT_ETH_LEN + pkt_l3_len(s) + pkt_l4_hdr_len(s) + s->payload_len + s->trailer;
}

/* Lay out <s> in <buf>; returns the frame length, or 0 if it does not fit. */
static inline size_t pkt_build(const struct pkt_spec *s, __u8 *buf, size_t cap)
{
	size_t len = pkt_len(s), l3_len = pkt_l3_len(s), l4_len, i;
	__u16 ethertype = s->ethertype;
	__u8 *l3 = buf + PKT_ETH_LEN, *l4 = l3 + l3_len, *payload;
	__u32 sum;

	if (len > cap)
		return 0;
	memset(buf, 0, len);
	if (!ethertype)
		ethertype = s->family == LIMPET_FAMILY_V6 ? PKT_ETH_P_IPV6 : PKT_ETH_P_IP;
	memcpy(buf, s->dmac.b, 6);
	memcpy(buf + 6, s->smac.b, 6);
	pkt_put16(buf + 12, ethertype);

	payload = l4 + pkt_l4_hdr_len(s);
	for (i = 0; i < s->payload_len; i++)
		payload[i] = (__u8)(s->payload_seed + i);
	if (!s->family)
		return len;
	l4_len = len - s->trailer - PKT_ETH_LEN - l3_len;

	if (s->proto == IPPROTO_TCP) {
		pkt_put16(l4, s->sport);
		pkt_put16(l4 + 2, s->dport);
		pkt_put32(l4 + 4, s->seq);
		pkt_put32(l4 + 8, s->ack);
		l4[12] = (PKT_TCP_LEN / 4) << 4;
		l4[13] = s->tcp_flags;
		pkt_put16(l4 + 14, s->window);
	} else if (s->proto == IPPROTO_UDP) {
		pkt_put16(l4, s->sport);
		pkt_put16(l4 + 2, s->dport);
		pkt_put16(l4 + 4, (__u16)l4_len);
	}

	if (s->family == LIMPET_FAMILY_V4) {
		l3[0] = 0x40 | (__u8)(l3_len / 4);
		l3[1] = s->tos;
		pkt_put16(l3 + 2, (__u16)(l3_len + l4_len));
		pkt_put16(l3 + 4, s->ip_id);
		pkt_put16(l3 + 6, s->frag);
		l3[8] = s->ttl;
		l3[9] = s->proto;
		memcpy(l3 + 12, &s->src.a[0], 4);
		memcpy(l3 + 16, &s->dst.a[0], 4);
		memset(l3 + PKT_IP4_LEN, 1, s->ip_opts);	/* NOP options */
		pkt_put16(l3 + 10, (__u16)~pkt_fold(pkt_sum(0, l3, l3_len)));
	} else {
		pkt_put32(l3, 6u << 28 | (__u32)s->tos << 20 | (s->flowlabel & 0xfffff));
		pkt_put16(l3 + 4, (__u16)(l3_len - PKT_IP6_LEN + l4_len));
		l3[6] = s->hopopts ? 0 : s->proto;
		l3[7] = s->ttl;
		memcpy(l3 + 8, &s->src, 16);
		memcpy(l3 + 24, &s->dst, 16);
		if (s->hopopts) {
			/* next header, length 0 (8 bytes), PadN of 4 bytes */
			l3[40] = s->proto;
			l3[42] = 1;
			l3[43] = 4;
		}
	}

	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP) {
		__u8 *check = l4 + (s->proto == IPPROTO_TCP ? 16 : 6);
		__u16 csum;

		if (s->proto == IPPROTO_UDP && s->udp_no_csum && s->family == LIMPET_FAMILY_V4)
			return len;
		sum = pkt_pseudo_sum(s->family, l3, s->proto, (__u32)l4_len);
		csum = (__u16)~pkt_fold(pkt_sum(sum, l4, l4_len));
		/* UDP sends a computed zero as all ones (RFC 768). */
		if (s->proto == IPPROTO_UDP && csum == 0)
			csum = 0xffff;
		pkt_put16(check, csum);
	}
	return len;
}

/* Where the headers of a frame are; returns false for anything that is not
 * a whole IPv4/IPv6 header followed by TCP or UDP (nothing to verify then).
 */
struct pkt_layout {
	__u8 family;
	__u8 proto;
	size_t l3;		/* offsets in the frame */
	size_t l3_len;
	size_t l4;
	size_t l4_len;		/* from the IP length fields */
	bool fragment;
};

static inline bool pkt_layout(const __u8 *f, size_t len, struct pkt_layout *lo)
{
	__u16 ethertype;
	size_t ip_len;

	memset(lo, 0, sizeof(*lo));
	if (len < PKT_ETH_LEN)
		return false;
	ethertype = pkt_get16(f + 12);
	lo->l3 = PKT_ETH_LEN;
	if (ethertype == PKT_ETH_P_IP) {
		if (len < PKT_ETH_LEN + PKT_IP4_LEN || f[14] >> 4 != 4 || (f[14] & 0xf) < 5)
			return false;
		lo->family = LIMPET_FAMILY_V4;
		lo->l3_len = (f[14] & 0xf) * 4;
		ip_len = pkt_get16(f + 16);
		if (ip_len < lo->l3_len || PKT_ETH_LEN + ip_len > len)
			return false;
		lo->proto = f[23];
		lo->fragment = pkt_get16(f + 20) & 0x3fff;
		lo->l4 = lo->l3 + lo->l3_len;
		lo->l4_len = ip_len - lo->l3_len;
	} else if (ethertype == PKT_ETH_P_IPV6) {
		if (len < PKT_ETH_LEN + PKT_IP6_LEN || f[14] >> 4 != 6)
			return false;
		lo->family = LIMPET_FAMILY_V6;
		lo->l3_len = PKT_IP6_LEN;
		ip_len = pkt_get16(f + 18);
		if (PKT_ETH_LEN + PKT_IP6_LEN + ip_len > len)
			return false;
		lo->proto = f[20];
		lo->l4 = lo->l3 + PKT_IP6_LEN;
		lo->l4_len = ip_len;
	} else {
		return false;
	}
	return true;
}

/*
 * Recompute the IPv4 header checksum and the TCP/UDP checksum of a frame.
 * Returns 0 when they verify (or there is nothing to verify: not IP, not
 * TCP/UDP, a fragment, truncated), -1 with a reason in <why> otherwise.
 */
static inline int pkt_verify(const __u8 *f, size_t len, char *why, size_t why_len)
{
	struct pkt_layout lo;
	__u32 sum;

	if (!pkt_layout(f, len, &lo))
		return 0;
	if (lo.family == LIMPET_FAMILY_V4 && pkt_fold(pkt_sum(0, f + lo.l3, lo.l3_len)) != 0xffff) {
		snprintf(why, why_len, "IPv4 header checksum");
		return -1;
	}
	if (lo.fragment || (lo.proto != IPPROTO_TCP && lo.proto != IPPROTO_UDP))
		return 0;
	if (lo.l4_len < (lo.proto == IPPROTO_TCP ? PKT_TCP_LEN : PKT_UDP_LEN))
		return 0;
	if (lo.proto == IPPROTO_UDP && pkt_get16(f + lo.l4 + 6) == 0) {
		if (lo.family == LIMPET_FAMILY_V4)
			return 0;
		snprintf(why, why_len, "UDP/IPv6 checksum 0");
		return -1;
	}
	sum = pkt_pseudo_sum(lo.family, f + lo.l3, lo.proto, (__u32)lo.l4_len);
	if (pkt_fold(pkt_sum(sum, f + lo.l4, lo.l4_len)) != 0xffff) {
		snprintf(why, why_len, "%s checksum", lo.proto == IPPROTO_TCP ? "TCP" : "UDP");
		return -1;
	}
	return 0;
}

/* Read the fields pkt_build() writes back from a frame (what the tests compare
 * by name: MACs, addresses, ports, TTL). Returns false if it is not IP/TCP/UDP.
 */
static inline bool pkt_parse(const __u8 *f, size_t len, struct pkt_spec *s)
{
	struct pkt_layout lo;
	const __u8 *l3, *l4;

	memset(s, 0, sizeof(*s));
	if (!pkt_layout(f, len, &lo))
		return false;
	memcpy(s->dmac.b, f, 6);
	memcpy(s->smac.b, f + 6, 6);
	s->family = lo.family;
	s->proto = lo.proto;
	l3 = f + lo.l3;
	l4 = f + lo.l4;
	if (lo.family == LIMPET_FAMILY_V4) {
		memcpy(&s->src.a[0], l3 + 12, 4);
		memcpy(&s->dst.a[0], l3 + 16, 4);
		s->ttl = l3[8];
	} else {
		memcpy(&s->src, l3 + 8, 16);
		memcpy(&s->dst, l3 + 24, 16);
		s->ttl = l3[7];
	}
	if ((lo.proto != IPPROTO_TCP && lo.proto != IPPROTO_UDP) || lo.l4_len < 4)
		return false;
	s->sport = pkt_get16(l4);
	s->dport = pkt_get16(l4 + 2);
	if (lo.proto == IPPROTO_TCP && lo.l4_len >= PKT_TCP_LEN)
		s->tcp_flags = l4[13];
	return true;
}

/* Hex dump of the first difference between two frames, for failure messages. */
static inline void pkt_diff(const __u8 *got, size_t got_len, const __u8 *want, size_t want_len,
			    char *buf, size_t len)
{
	size_t i, n = got_len < want_len ? got_len : want_len;

	for (i = 0; i < n && got[i] == want[i]; i++)
		;
	if (i == n && got_len == want_len) {
		snprintf(buf, len, "identical");
		return;
	}
	if (i == n) {
		snprintf(buf, len, "length %zu, expected %zu", got_len, want_len);
		return;
	}
	snprintf(buf, len, "first difference at byte %zu: got %02x, expected %02x (length %zu/%zu)",
		 i, got[i], want[i], got_len, want_len);
}

/* A TCP checksum from scratch, over the frame's own IP lengths. */
static inline bool pkt_fix_tcp_csum(__u8 *f, size_t len)
{
	struct pkt_layout lo;
	__u32 sum;

	if (!pkt_layout(f, len, &lo) || lo.proto != IPPROTO_TCP)
		return false;
	pkt_put16(f + lo.l4 + 16, 0);
	sum = pkt_pseudo_sum(lo.family, f + lo.l3, IPPROTO_TCP, (__u32)lo.l4_len);
	pkt_put16(f + lo.l4 + 16, (__u16)~pkt_fold(pkt_sum(sum, f + lo.l4, lo.l4_len)));
	return true;
}

/*
 * <s> with the TCP options <opts> (<len> bytes, padded with EOL to a
 * multiple of 4) between its TCP header and its payload. Returns the frame
 * length, 0 when it does not fit.
 */
static inline size_t pkt_build_tcp_opts(const struct pkt_spec *s, const __u8 *opts, size_t len,
					__u8 *f, size_t cap)
{
	struct pkt_spec t = *s;
	size_t optlen = (len + 3) / 4 * 4, n;
	struct pkt_layout lo;

	t.payload_len = (__u16)(s->payload_len + optlen);
	n = pkt_build(&t, f, cap);
	if (!n || !optlen)
		return n;
	if (!pkt_layout(f, n, &lo) || lo.proto != IPPROTO_TCP || optlen > 40)
		return 0;
	memset(f + lo.l4 + PKT_TCP_LEN, 0, optlen);
	memcpy(f + lo.l4 + PKT_TCP_LEN, opts, len);
	f[lo.l4 + 12] = (__u8)((PKT_TCP_LEN + optlen) / 4) << 4;
	pkt_fix_tcp_csum(f, n);
	return n;
}

/* xorshift64*: a small PRNG for the fuzz loops, reproducible from the seed
 * a test prints when it fails.
 */
static inline __u32 pkt_rand(__u64 *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (__u32)((*state * 0x2545f4914f6cdd1dull) >> 32);
}

#endif /* LIMPET_TESTS_PKT_H */
