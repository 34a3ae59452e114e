// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * segment.c - parsing the slow path's frames, building and sending its
 * packets. Checksums are computed whole here: the slow path handles a few
 * segments per connection, so clarity wins over incremental updates.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "http/segment.h"

#define ETH_HLEN 14
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86dd
#define IP4_HLEN 20
#define IP6_HLEN 40

static __u32 sum_bytes(__u32 sum, const __u8 *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	return sum;
}

static __u16 fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* The sum of the TCP pseudo-header (host-order 16-bit words). */
static __u32 pseudo_sum(__u8 family, const struct limpet_addr *src,
			const struct limpet_addr *dst, __u32 l4_len)
{
	size_t alen = family == LIMPET_FAMILY_V6 ? 16 : 4;
	__u32 sum = 0;

	sum = sum_bytes(sum, (const __u8 *)src, alen);
	sum = sum_bytes(sum, (const __u8 *)dst, alen);
	sum += IPPROTO_TCP;
	sum += l4_len & 0xffff;
	sum += l4_len >> 16;
	return sum;
}

int segment_parse(const void *frame, size_t len, struct segment *seg)
{
	const __u8 *f = frame, *tcp;
	__u32 l3_len, ip_len, l4_len;
	__u16 proto;

	memset(seg, 0, sizeof(*seg));
	if (len < ETH_HLEN)
		return -EINVAL;
	proto = (__u16)(f[12] << 8 | f[13]);
	f += ETH_HLEN;
	len -= ETH_HLEN;
	if (proto == ETH_P_IP) {
		if (len < IP4_HLEN || (f[0] >> 4) != 4)
			return -EINVAL;
		l3_len = (f[0] & 0xf) * 4u;
		ip_len = (__u32)(f[2] << 8 | f[3]);
		/* No fragments: the data plane passes those to the kernel. */
		if (l3_len < IP4_HLEN || ip_len < l3_len || ip_len > len || f[9] != IPPROTO_TCP ||
		    ((f[6] & 0x3f) | f[7]))
			return -EINVAL;
		seg->family = LIMPET_FAMILY_V4;
		memcpy(&seg->src.a[0], f + 12, 4);
		memcpy(&seg->dst.a[0], f + 16, 4);
	} else if (proto == ETH_P_IPV6) {
		if (len < IP6_HLEN || (f[0] >> 4) != 6 || f[6] != IPPROTO_TCP)
			return -EINVAL;
		l3_len = IP6_HLEN;
		ip_len = IP6_HLEN + (__u32)(f[4] << 8 | f[5]);
		if (ip_len > len)
			return -EINVAL;
		seg->family = LIMPET_FAMILY_V6;
		memcpy(&seg->src, f + 8, 16);
		memcpy(&seg->dst, f + 24, 16);
	} else {
		return -EINVAL;
	}

	tcp = f + l3_len;
	l4_len = ip_len - l3_len;
	if (l4_len < LIMPET_TCP_HDR_MIN)
		return -EINVAL;
	seg->th_len = (tcp[12] >> 4) * 4u;
	if (seg->th_len < LIMPET_TCP_HDR_MIN || seg->th_len > l4_len)
		return -EINVAL;
	if (fold(sum_bytes(pseudo_sum(seg->family, &seg->src, &seg->dst, l4_len), tcp, l4_len)) !=
	    0xffff)
		return -EINVAL;

	memcpy(&seg->sport, tcp, 2);
	memcpy(&seg->dport, tcp + 2, 2);
	seg->seq = limpet_get_be32(tcp + 4);
	seg->ack = limpet_get_be32(tcp + 8);
	seg->flags = tcp[13];
	seg->window = (__u16)(tcp[14] << 8 | tcp[15]);
	memcpy(seg->th, tcp, seg->th_len);
	seg->payload = tcp + seg->th_len;
	seg->payload_len = l4_len - seg->th_len;
	limpet_tcpopt_parse(tcp, seg->th_len, &seg->opt);
	return 0;
}

int segment_build(__u8 *out, size_t cap, __u8 family, const struct limpet_addr *src,
		  __be16 sport, const struct limpet_addr *dst, __be16 dport, const __u8 *th,
		  __u32 th_len, const void *payload, __u32 payload_len)
{
	bool v6 = family == LIMPET_FAMILY_V6;
	__u32 l3_len = v6 ? IP6_HLEN : IP4_HLEN, l4_len = th_len + payload_len;
	__u8 *ip = out, *tcp = out + l3_len;
	__u16 check;

	if (l3_len + l4_len > cap || l3_len + l4_len > 0xffff)
		return -EMSGSIZE;
	memset(ip, 0, l3_len);
	if (v6) {
		ip[0] = 0x60;
		ip[4] = l4_len >> 8;
		ip[5] = (__u8)l4_len;
		ip[6] = IPPROTO_TCP;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		ip[2] = (l3_len + l4_len) >> 8;
		ip[3] = (__u8)(l3_len + l4_len);
		ip[6] = 0x40;	/* DF */
		ip[8] = 64;
		ip[9] = IPPROTO_TCP;
		memcpy(ip + 12, &src->a[0], 4);
		memcpy(ip + 16, &dst->a[0], 4);
		check = ~fold(sum_bytes(0, ip, IP4_HLEN));
		ip[10] = check >> 8;
		ip[11] = (__u8)check;
	}
	memcpy(tcp, th, th_len);
	memcpy(tcp, &sport, 2);
	memcpy(tcp + 2, &dport, 2);
	tcp[16] = 0;
	tcp[17] = 0;
	if (payload_len)
		memcpy(tcp + th_len, payload, payload_len);
	check = ~fold(sum_bytes(pseudo_sum(family, src, dst, l4_len), tcp, l4_len));
	tcp[16] = check >> 8;
	tcp[17] = (__u8)check;
	return (int)(l3_len + l4_len);
}

__u32 segment_header(__u8 *th, __u32 seq, __u32 ack, __u8 flags, __u16 window,
		     const struct segment_opts *opts)
{
	__u32 len = LIMPET_TCP_HDR_MIN;

	memset(th, 0, LIMPET_TCP_HDR_MAX);
	limpet_put_be32(th + 4, seq);
	limpet_put_be32(th + 8, ack);
	th[13] = flags;
	th[14] = window >> 8;
	th[15] = (__u8)window;
	if (opts && opts->mss) {
		th[len++] = LIMPET_TCPOPT_MSS;
		th[len++] = LIMPET_TCPOLEN_MSS;
		th[len++] = opts->mss >> 8;
		th[len++] = (__u8)opts->mss;
	}
	if (opts && opts->ts) {
		if (opts->sack_ok) {
			th[len++] = LIMPET_TCPOPT_SACK_PERM;
			th[len++] = LIMPET_TCPOLEN_SACK_PERM;
		} else {
			th[len++] = LIMPET_TCPOPT_NOP;
			th[len++] = LIMPET_TCPOPT_NOP;
		}
		th[len++] = LIMPET_TCPOPT_TS;
		th[len++] = LIMPET_TCPOLEN_TS;
		limpet_put_be32(th + len, opts->tsval);
		limpet_put_be32(th + len + 4, opts->tsecr);
		len += 8;
	} else if (opts && opts->sack_ok) {
		th[len++] = LIMPET_TCPOPT_NOP;
		th[len++] = LIMPET_TCPOPT_NOP;
		th[len++] = LIMPET_TCPOPT_SACK_PERM;
		th[len++] = LIMPET_TCPOLEN_SACK_PERM;
	}
	if (opts && opts->wscale != LIMPET_WSCALE_NONE) {
		th[len++] = LIMPET_TCPOPT_NOP;
		th[len++] = LIMPET_TCPOPT_WSCALE;
		th[len++] = LIMPET_TCPOLEN_WSCALE;
		th[len++] = opts->wscale;
	}
	th[12] = (__u8)(len / 4) << 4;
	return len;
}

int rawsock_open(struct rawsock *rs, char *err, size_t errlen)
{
	rs->fd4 = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	/* IPPROTO_RAW implies IPV6_HDRINCL (Linux >= 4.5). */
	rs->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (rs->fd4 < 0 || rs->fd6 < 0) {
		snprintf(err, errlen, "cannot open raw sockets for the slow path: %s",
			 strerror(errno));
		rawsock_close(rs);
		return -errno;
	}
	return 0;
}

void rawsock_close(struct rawsock *rs)
{
	if (rs->fd4 >= 0)
		close(rs->fd4);
	if (rs->fd6 >= 0)
		close(rs->fd6);
	rs->fd4 = rs->fd6 = -1;
}

int rawsock_send(struct rawsock *rs, __u8 family, const void *pkt, size_t len)
{
	const __u8 *ip = pkt;
	ssize_t n;

	if (family == LIMPET_FAMILY_V6) {
		struct sockaddr_in6 to = { .sin6_family = AF_INET6 };

		memcpy(&to.sin6_addr, ip + 24, 16);
		n = sendto(rs->fd6, pkt, len, 0, (struct sockaddr *)&to, sizeof(to));
	} else {
		struct sockaddr_in to = { .sin_family = AF_INET };

		memcpy(&to.sin_addr, ip + 16, 4);
		n = sendto(rs->fd4, pkt, len, 0, (struct sockaddr *)&to, sizeof(to));
	}
	return n == (ssize_t)len ? 0 : -errno;
}
