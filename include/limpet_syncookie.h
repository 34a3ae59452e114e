/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_syncookie.h - limpet's own SYN cookie, for clients that send no TCP
 * timestamps (Windows by default).
 *
 * The kernel's cookie (bpf_tcp_raw_gen_syncookie_*) keeps only the MSS; the
 * window scale and SACK a client offers ride in the TSval of our SYN-ACK
 * (limpet_tcpopt.h), which a client without timestamps never echoes, so
 * such a client would lose both on every connection. For it the ISN is this
 * cookie instead: the kernel's scheme (net/ipv4/syncookies.c) with room for
 * seven bits of options and a two-bit counter:
 *
 *   isn = H(tuple, 0) + client_isn + (count << 30)
 *         + ((H(tuple, count) + data) mod 2^30)
 *
 * <count> is a 64-second clock (the kernel's), its two low bits in the
 * cookie; <data> is the MSS index (2 bits), the window scale (4 bits, 15:
 * none) and SACK (1 bit). H is SipHash-2-4 under a secret of the data plane
 * over both addresses, both ports and the full counter. A cookie is good for
 * two counter steps, as the kernel's (2 to 3 minutes). A forged ACK passes
 * with probability 3/4 * 2^7 / 2^30, about 2^-23.4: the kernel's own cookie
 * (24 bits, 4 data values, 256 counter values of which 3 pass) is
 * 2^-22.4. Stateless as the kernel's: a SYN flood costs nothing.
 *
 * On a cluster the cookie is narrower: the top bits of the ISN name the
 * node (limpet_isn_tag(), limpet_tcpopt.h) and the formula above works
 * modulo 2^w, w = limpet_isn_width() (32 on a lone node, 31 - bits on a
 * cluster), the counter in its top two bits. A forged ACK then passes with
 * probability 3/4 * 2^7 / 2^(w - 2): 2^-21.4 with two nodes, 2^-20.4 with
 * up to four.
 *
 * Compiled for BPF (bpf/lib/synproxy.h) and userspace (the unit tests).
 */
#ifndef LIMPET_SYNCOOKIE_H
#define LIMPET_SYNCOOKIE_H

#include <linux/types.h>

#include "limpet_inline.h"
#include "limpet_siphash.h"
#include "limpet_tcpopt.h"

#define LIMPET_SYNCOOKIE_COUNT_MASK 3u
#define LIMPET_SYNCOOKIE_MAX_AGE 2	/* counter steps, as the kernel's MAX_SYNCOOKIE_AGE */
#define LIMPET_SYNCOOKIE_PERIOD_NS (64ULL * 1000000000ULL)

/* data: bits 0-1 MSS index, 2-5 window scale (15: none), 6 SACK. */
#define LIMPET_SYNCOOKIE_DATA_BITS 7
#define LIMPET_SYNCOOKIE_WSCALE_SHIFT 2
#define LIMPET_SYNCOOKIE_SACK 0x40

/* The secret (the syn_secret map): 128 bits, made at random once. */
struct limpet_syncookie_key {
	__u64 k0, k1;
};

/* What a cookie remembers of the client's SYN. */
struct limpet_syncookie_opts {
	__u8 mss_index;		/* of limpet_cookie_mss() */
	__u8 wscale;		/* the client's shift; LIMPET_WSCALE_NONE: none */
	__u8 sack_ok;
};

/* The counter at <now_ns> (any clock that every check of a cookie shares). */
LIMPET_INLINE __u32 limpet_syncookie_count(__u64 now_ns)
{
	return (__u32)(now_ns / LIMPET_SYNCOOKIE_PERIOD_NS);
}

/*
 * H over the connection (<src>:<sport> -> <dst>:<dport>, addresses as
 * stored in maps, ports in network order) and <count>.
 */
LIMPET_INLINE __u32 limpet_syncookie_hash(const struct limpet_syncookie_key *key,
					  const __be32 *src, const __be32 *dst, __be16 sport,
					  __be16 dport, __u32 count)
{
	struct limpet_sipstate st = {
		.v0 = 0x736f6d6570736575ull ^ key->k0,
		.v1 = 0x646f72616e646f6dull ^ key->k1,
		.v2 = 0x6c7967656e657261ull ^ key->k0,
		.v3 = 0x7465646279746573ull ^ key->k1,
	};

	/* SipHash-2-4 of a 40-byte message: the addresses, ports, counter. */
	limpet_sipcompress(&st, (__u64)src[0] | (__u64)src[1] << 32);
	limpet_sipcompress(&st, (__u64)src[2] | (__u64)src[3] << 32);
	limpet_sipcompress(&st, (__u64)dst[0] | (__u64)dst[1] << 32);
	limpet_sipcompress(&st, (__u64)dst[2] | (__u64)dst[3] << 32);
	limpet_sipcompress(&st, (__u64)sport | (__u64)dport << 16 | (__u64)count << 32);
	limpet_sipcompress(&st, 40ull << 56);
	st.v2 ^= 0xff;
	limpet_sipround(&st);
	limpet_sipround(&st);
	limpet_sipround(&st);
	limpet_sipround(&st);
	return (__u32)(st.v0 ^ st.v1 ^ st.v2 ^ st.v3);
}

LIMPET_INLINE __u32 limpet_syncookie_data(const struct limpet_syncookie_opts *o)
{
	__u32 data = o->mss_index & 3;

	data |= (__u32)(o->wscale & 0xf) << LIMPET_SYNCOOKIE_WSCALE_SHIFT;
	if (o->sack_ok)
		data |= LIMPET_SYNCOOKIE_SACK;
	return data;
}

LIMPET_INLINE void limpet_syncookie_opts_of(__u32 data, struct limpet_syncookie_opts *o)
{
	__u8 wscale = (data >> LIMPET_SYNCOOKIE_WSCALE_SHIFT) & 0xf;

	o->mss_index = data & 3;
	o->wscale = wscale > LIMPET_TCP_MAX_WSCALE ? LIMPET_WSCALE_NONE : wscale;
	o->sack_ok = !!(data & LIMPET_SYNCOOKIE_SACK);
}

/* The bits below the counter in a cookie <width> bits wide. */
LIMPET_INLINE __u32 limpet_syncookie_hash_mask(__u32 width)
{
	return (1u << ((width - 2) & 31)) - 1;
}

/* The ISN of the SYN-ACK answering <client_isn> at counter <count>, sent by node <tag>. */
LIMPET_INLINE __u32 limpet_syncookie_make(const struct limpet_syncookie_key *key,
					  const __be32 *src, const __be32 *dst, __be16 sport,
					  __be16 dport, __u32 client_isn, __u32 count,
					  const struct limpet_syncookie_opts *o,
					  struct limpet_ts_tag tag)
{
	__u32 h1 = limpet_syncookie_hash(key, src, dst, sport, dport, 0);
	__u32 h2 = limpet_syncookie_hash(key, src, dst, sport, dport, count);
	__u32 width = limpet_isn_width(tag), mask = limpet_syncookie_hash_mask(width);

	return limpet_isn_tag(h1 + client_isn +
			      ((count & LIMPET_SYNCOOKIE_COUNT_MASK) << ((width - 2) & 31)) +
			      ((h2 + limpet_syncookie_data(o)) & mask), tag);
}

/*
 * Is <cookie> one we (node <tag>) made for this connection (<client_isn> =
 * the completing segment's seq - 1, <cookie> = its ack - 1) no more than
 * LIMPET_SYNCOOKIE_MAX_AGE steps before <now_count>? 0 with the options in
 * <o>, or -1.
 */
LIMPET_INLINE int limpet_syncookie_check(const struct limpet_syncookie_key *key,
					 const __be32 *src, const __be32 *dst, __be16 sport,
					 __be16 dport, __u32 client_isn, __u32 cookie,
					 __u32 now_count, struct limpet_syncookie_opts *o,
					 struct limpet_ts_tag tag)
{
	__u32 width = limpet_isn_width(tag), mask = limpet_syncookie_hash_mask(width);
	__u32 v = cookie - limpet_syncookie_hash(key, src, dst, sport, dport, 0) - client_isn;
	__u32 age, data;

	if (limpet_isn_tag(cookie, tag) != cookie)
		return -1;	/* another node's, or not a cookie */
	if (width < 32)
		v &= (1u << width) - 1;
	age = (now_count - (v >> ((width - 2) & 31))) & LIMPET_SYNCOOKIE_COUNT_MASK;
	if (age > LIMPET_SYNCOOKIE_MAX_AGE)
		return -1;
	data = (v - limpet_syncookie_hash(key, src, dst, sport, dport, now_count - age)) & mask;
	if (data >> LIMPET_SYNCOOKIE_DATA_BITS)
		return -1;
	limpet_syncookie_opts_of(data, o);
	return 0;
}

#endif /* LIMPET_SYNCOOKIE_H */
