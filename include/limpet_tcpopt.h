/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_tcpopt.h - the TCP options of a SYN, the options of limpet's
 * SYN-cookie SYN-ACK, and the codec of the state carried in its timestamp.
 *
 * The SYN-cookie front end of an HTTP service (bpf/lib/synproxy.h) keeps
 * nothing per SYN. The kernel's cookie, our ISN, carries the MSS; what else
 * the client offered (window scale, SACK, ECN) rides in the low eight bits
 * of the TSval of our SYN-ACK (on a cluster, above the node's bits:
 * limpet_ts_tag), which the client echoes in the TSecr of every later
 * segment (RFC 7323). Bits 0-5 are laid out as in the kernel's own
 * cookies (net/ipv4/syncookies.c): bits 0-3 the client's window shift (0xf:
 * none), bit 4 SACK permitted, bit 5 ECN agreed. Bits 6-7 repeat the index
 * of the cookie's MSS in the kernel's table (the cookie helpers check it but
 * do not give it back; the slow path needs it for the backend's SYN). The
 * bits above are our clock in milliseconds. A client that sends no
 * timestamps never echoes a TSval: its window shift, SACK and MSS ride in
 * the ISN instead, limpet's own cookie (limpet_syncookie.h), and its
 * SYN-ACK carries MSS, SACK-permitted and window scale without timestamps.
 *
 * Everything here is a pure function of its arguments, compiled for BPF
 * and for userspace (the slow path decodes a cookie'd ACK with the same
 * code; tests/unit/test_tcpopt.c checks it). Multi-byte values in the
 * structs are host order; bytes in buffers are as on the wire.
 */
#ifndef LIMPET_TCPOPT_H
#define LIMPET_TCPOPT_H

#include <stdbool.h>
#include <linux/types.h>

#include "limpet_inline.h"

/* Option kinds and lengths (RFC 9293, RFC 7323, RFC 2018). Prefixed: the
 * userspace <netinet/tcp.h> has its own TCPOPT_* names.
 */
#define LIMPET_TCPOPT_EOL 0
#define LIMPET_TCPOPT_NOP 1
#define LIMPET_TCPOPT_MSS 2
#define LIMPET_TCPOPT_WSCALE 3
#define LIMPET_TCPOPT_SACK_PERM 4
#define LIMPET_TCPOPT_TS 8

#define LIMPET_TCPOLEN_MSS 4
#define LIMPET_TCPOLEN_WSCALE 3
#define LIMPET_TCPOLEN_SACK_PERM 2
#define LIMPET_TCPOLEN_TS 10

/* TCP flag bits, byte 13 of the header. */
#define LIMPET_TCP_FIN 0x01
#define LIMPET_TCP_SYN 0x02
#define LIMPET_TCP_RST 0x04
#define LIMPET_TCP_PSH 0x08
#define LIMPET_TCP_ACK 0x10
#define LIMPET_TCP_ECE 0x40
#define LIMPET_TCP_CWR 0x80

/* The window scale limpet's SYN-ACK announces for the client's later
 * windows (bpf/lib/synproxy.h), which the slow path translates to.
 */
#define LIMPET_OUR_WSCALE 7

#define LIMPET_TCP_HDR_MIN 20
#define LIMPET_TCP_HDR_MAX 60
#define LIMPET_TCP_MAX_WSCALE 14	/* RFC 7323 2.3: larger shifts are read as 14 */

/* wscale of a client that offered no window scaling. */
#define LIMPET_WSCALE_NONE 0xf

/* What a SYN offered. */
struct limpet_tcpopt {
	__u16 mss;		/* 0: no MSS option */
	__u8 wscale;		/* shift, at most 14; LIMPET_WSCALE_NONE: not offered */
	__u8 sack_ok;		/* SACK-permitted seen */
	__u8 ts_ok;		/* a timestamp option seen: tsval and tsecr hold it */
	__u8 pad[3];
	__u32 tsval;
	__u32 tsecr;
};

/*
 * A TCP header read one option per limpet_tcpopt_step(): the shape
 * bpf_loop() needs, one call per option, so the verifier checks the body
 * once instead of walking every path through 40 option bytes. Options are
 * buf[off, end). The slack after the largest header lets a step read a
 * whole option at any offset below LIMPET_TCP_HDR_MAX without leaving buf,
 * a bound the verifier sees without relating <off> to <end>; it must be
 * zero or hold anything, never read as options.
 */
struct limpet_tcpopt_parser {
	__u8 buf[LIMPET_TCP_HDR_MAX + LIMPET_TCPOLEN_TS];
	__u32 off;
	__u32 end;		/* the header length, doff * 4 */
	struct limpet_tcpopt opt;
};

/* Every step consumes at least one byte of at most 40 option bytes. */
#define LIMPET_TCPOPT_MAX_STEPS (LIMPET_TCP_HDR_MAX - LIMPET_TCP_HDR_MIN)

LIMPET_INLINE __u32 limpet_get_be32(const __u8 *b)
{
	return (__u32)b[0] << 24 | (__u32)b[1] << 16 | (__u32)b[2] << 8 | b[3];
}

LIMPET_INLINE void limpet_put_be32(__u8 *b, __u32 v)
{
	b[0] = v >> 24;
	b[1] = v >> 16;
	b[2] = v >> 8;
	b[3] = v;
}

LIMPET_INLINE void limpet_tcpopt_init(struct limpet_tcpopt *opt)
{
	__builtin_memset(opt, 0, sizeof(*opt));
	opt->wscale = LIMPET_WSCALE_NONE;
}

/*
 * Read the option at <p>->off into <p>->opt. Returns 0 to go on, 1 when
 * the options end. Follows the kernel's tcp_parse_options(): parsing stops
 * at EOL and at an option whose length byte is missing, below 2 or past the
 * header, keeping what came before it; an option whose length is wrong for
 * its kind is skipped; an MSS of 0 counts as none, and a window shift
 * above 14 is read as 14.
 */
LIMPET_INLINE int limpet_tcpopt_step(struct limpet_tcpopt_parser *p)
{
	__u32 off = p->off, end = p->end, kind, len;
	const __u8 *b;

	if (end > LIMPET_TCP_HDR_MAX)
		end = LIMPET_TCP_HDR_MAX;
	if (off >= end || off >= LIMPET_TCP_HDR_MAX)
		return 1;
	kind = p->buf[off];
	if (kind == LIMPET_TCPOPT_EOL)
		return 1;
	if (kind == LIMPET_TCPOPT_NOP) {
		p->off = off + 1;
		return 0;
	}
	if (off + 2 > end)
		return 1;
	len = p->buf[off + 1];
	if (len < 2 || len > end - off)
		return 1;

	b = &p->buf[off + 2];
	switch (kind) {
	case LIMPET_TCPOPT_MSS:
		if (len == LIMPET_TCPOLEN_MSS)
			p->opt.mss = (__u16)(b[0] << 8 | b[1]);
		break;
	case LIMPET_TCPOPT_WSCALE:
		if (len == LIMPET_TCPOLEN_WSCALE)
			p->opt.wscale = b[0] < LIMPET_TCP_MAX_WSCALE ? b[0] : LIMPET_TCP_MAX_WSCALE;
		break;
	case LIMPET_TCPOPT_SACK_PERM:
		if (len == LIMPET_TCPOLEN_SACK_PERM)
			p->opt.sack_ok = 1;
		break;
	case LIMPET_TCPOPT_TS:
		if (len == LIMPET_TCPOLEN_TS) {
			p->opt.ts_ok = 1;
			p->opt.tsval = limpet_get_be32(b);
			p->opt.tsecr = limpet_get_be32(b + 4);
		}
		break;
	}
	p->off = off + len;
	return 0;
}

#ifndef __bpf__
/* The options of the TCP header <th> of <th_len> bytes (doff * 4), in one call. */
static inline void limpet_tcpopt_parse(const void *th, __u32 th_len, struct limpet_tcpopt *opt)
{
	struct limpet_tcpopt_parser p;
	__u32 i;

	__builtin_memset(&p, 0, sizeof(p));
	if (th_len > LIMPET_TCP_HDR_MAX)
		th_len = LIMPET_TCP_HDR_MAX;
	__builtin_memcpy(p.buf, th, th_len);
	p.off = LIMPET_TCP_HDR_MIN;
	p.end = th_len;
	limpet_tcpopt_init(&p.opt);
	for (i = 0; i < LIMPET_TCPOPT_MAX_STEPS; i++)
		if (limpet_tcpopt_step(&p))
			break;
	*opt = p.opt;
}
#endif

/* ---- the node in every TSval limpet writes ---- */

/*
 * On a cluster of n nodes (config cluster:), the low <bits> = ceil(log2 n)
 * bits of every TSval limpet sends hold the <id> of the node that sent it:
 * its cookie SYN-ACK's, the SYN of a binding and every TSval a spliced
 * connection's translation writes (limpet_splice.h). Both peers echo it in
 * their TSecr, so a node that gets a segment of a connection another node
 * bound (ECMP moved it, or a backend's reply took another node) finds that
 * node in the segment itself and sends it there (bpf/lib/cluster.h). Setting
 * low bits keeps a clock monotonic; the echo, cleared of them, comes back
 * up to 2^bits - 1 ticks older: a peer's RTT sample barely moves. A lone
 * node has <bits> 0, and every function here is then the identity.
 */
struct limpet_ts_tag {
	__u8 bits;		/* at most LIMPET_TS_TAG_MAX_BITS */
	__u8 id;
};

#define LIMPET_TS_TAG_MAX_BITS 6	/* 64 nodes */

LIMPET_INLINE __u32 limpet_ts_tag_mask(struct limpet_ts_tag tag)
{
	return (1u << (tag.bits & 7)) - 1;
}

/* <tsval> as node <tag.id> sends it. */
LIMPET_INLINE __u32 limpet_ts_tag(__u32 tsval, struct limpet_ts_tag tag)
{
	__u32 mask = limpet_ts_tag_mask(tag);

	return (tsval & ~mask) | (tag.id & mask);
}

/* An echo of a tagged TSval, the tag cleared: never newer than the value tagged. */
LIMPET_INLINE __u32 limpet_ts_untag(__u32 tsecr, struct limpet_ts_tag tag)
{
	return tsecr & ~limpet_ts_tag_mask(tag);
}

/* The node that sent the TSval <tsecr> echoes. */
LIMPET_INLINE __u32 limpet_ts_node(__u32 tsecr, struct limpet_ts_tag tag)
{
	return tsecr & limpet_ts_tag_mask(tag);
}

/*
 * A client without timestamps echoes no TSval: for its connections the
 * node's id is in the top <bits> bits of the ISNs limpet chooses instead,
 * its own SYN cookie toward the client (limpet_syncookie.h) and the SYN of
 * the slow path's binding toward the backend, which both peers acknowledge
 * in every ACK. The bit below the id starts at 0 so the id stays readable
 * until 2^(31 - bits) bytes have been acknowledged (a gigabyte with two
 * nodes); the ISN keeps its low 31 - bits bits. A lone node changes nothing.
 */
LIMPET_INLINE __u32 limpet_isn_width(struct limpet_ts_tag tag)
{
	return tag.bits ? 31 - (tag.bits & 7) : 32;
}

/* <isn> as node <tag.id> chooses it. */
LIMPET_INLINE __u32 limpet_isn_tag(__u32 isn, struct limpet_ts_tag tag)
{
	__u32 width = limpet_isn_width(tag);

	if (width == 32)
		return isn;
	return (tag.id & limpet_ts_tag_mask(tag)) << (32 - (tag.bits & 7)) |
	       (isn & ((1u << width) - 1));
}

/* The node whose ISN the acknowledgment number <ack> counts from. */
LIMPET_INLINE __u32 limpet_isn_node(__u32 ack, struct limpet_ts_tag tag)
{
	return tag.bits ? ack >> (32 - (tag.bits & 7)) : 0;
}

/* ---- the state in the TSval of a cookie SYN-ACK ---- */

#define LIMPET_TSCOOKIE_WSCALE_MASK 0x0f
#define LIMPET_TSCOOKIE_SACK 0x10
#define LIMPET_TSCOOKIE_ECN 0x20
#define LIMPET_TSCOOKIE_MSS_SHIFT 6
#define LIMPET_TSCOOKIE_MASK 0xff
#define LIMPET_MSS_INDEXES 4

/* The MSS values a kernel SYN cookie can carry (net/ipv4/syncookies.c
 * msstab, net/ipv6/syncookies.c msstab).
 */
LIMPET_INLINE __u16 limpet_cookie_mss(__u8 index, bool v6)
{
	switch (index & 3) {
	case 0:
		return v6 ? 1280 - 60 : 536;
	case 1:
		return v6 ? 1480 - 60 : 1300;
	case 2:
		return v6 ? 1500 - 60 : 1440;
	default:
		return v6 ? 9000 - 60 : 1460;
	}
}

/* The index of <mss> in that table: the largest entry not above it. */
LIMPET_INLINE __u8 limpet_cookie_mss_index(__u16 mss, bool v6)
{
	__u8 i = LIMPET_MSS_INDEXES - 1;

	while (i > 0 && limpet_cookie_mss(i, v6) > mss)
		i--;
	return i;
}

struct limpet_tscookie {
	__u32 clock_ms;		/* our clock when the SYN-ACK left, state and node bits clear */
	__u8 wscale;		/* the client's shift; LIMPET_WSCALE_NONE: none */
	__u8 sack_ok;
	__u8 ecn_ok;
	__u8 mss_index;		/* of the cookie's MSS: limpet_cookie_mss() */
	__u8 node;		/* the node that sent it (limpet_ts_tag) */
};

/* Our clock's bits in a cookie TSval: above the state, above the node. */
LIMPET_INLINE __u32 limpet_tscookie_clock_mask(struct limpet_ts_tag tag)
{
	return ~(((LIMPET_TSCOOKIE_MASK + 1u) << (tag.bits & 7)) - 1);
}

/*
 * The TSval of a SYN-ACK sent at <now_ms> by node <tag> to a client that
 * offered <opt>: the node in the low tag.bits bits, the state above.
 */
LIMPET_INLINE __u32 limpet_tscookie_encode(__u32 now_ms, const struct limpet_tcpopt *opt,
					   bool ecn_ok, __u8 mss_index, struct limpet_ts_tag tag)
{
	__u32 state = (__u32)(mss_index & 3) << LIMPET_TSCOOKIE_MSS_SHIFT;

	state |= opt->wscale & LIMPET_TSCOOKIE_WSCALE_MASK;
	if (opt->sack_ok)
		state |= LIMPET_TSCOOKIE_SACK;
	if (ecn_ok)
		state |= LIMPET_TSCOOKIE_ECN;
	return limpet_ts_tag((now_ms & limpet_tscookie_clock_mask(tag)) | state << (tag.bits & 7),
			     tag);
}

/*
 * What the client offered, from the TSecr of a segment that completes a
 * cookie handshake (the TSval we sent). Every 4-bit value is a valid shift
 * or "none", so decoding cannot fail; whether <tsecr> is recent enough is
 * the caller's to judge from clock_ms. <tag>: the cluster's (its bits).
 */
LIMPET_INLINE void limpet_tscookie_decode(__u32 tsecr, struct limpet_ts_tag tag,
					  struct limpet_tscookie *out)
{
	__u32 state = tsecr >> (tag.bits & 7);
	__u8 wscale = state & LIMPET_TSCOOKIE_WSCALE_MASK;

	out->clock_ms = tsecr & limpet_tscookie_clock_mask(tag);
	out->wscale = wscale > LIMPET_TCP_MAX_WSCALE ? LIMPET_WSCALE_NONE : wscale;
	out->sack_ok = !!(state & LIMPET_TSCOOKIE_SACK);
	out->ecn_ok = !!(state & LIMPET_TSCOOKIE_ECN);
	out->mss_index = (state >> LIMPET_TSCOOKIE_MSS_SHIFT) & 3;
	out->node = limpet_ts_node(tsecr, tag);
}

/* ---- the options of a cookie SYN-ACK ---- */

#define LIMPET_SYNACK_OPT_MAX 20

/*
 * Write the options of the SYN-ACK answering <client> to <out> (room for
 * LIMPET_SYNACK_OPT_MAX bytes); returns their length, 4, 16 or 20. Every
 * option sits at a fixed offset, so the BPF side writes constant offsets:
 *
 *   0  MSS <mss>                          always
 *   with timestamps (the state in the TSval):
 *   4  SACK-perm or NOP NOP, TS header
 *   8  TSval <tsval>, 12 TSecr = client's TSval
 *  16  NOP, window scale <wscale>         window scale offered
 *   without (the state in limpet's own cookie, limpet_syncookie.h):
 *   4  NOP NOP SACK-perm, or 4 NOPs       SACK or window scale offered
 *   8  NOP, window scale <wscale>         window scale offered
 */
LIMPET_INLINE __u32 limpet_synack_options(__u8 *out, const struct limpet_tcpopt *client, __u16 mss,
					  __u8 wscale, __u32 tsval)
{
	out[0] = LIMPET_TCPOPT_MSS;
	out[1] = LIMPET_TCPOLEN_MSS;
	out[2] = mss >> 8;
	out[3] = (__u8)mss;
	if (!client->ts_ok) {
		if (!client->sack_ok && client->wscale == LIMPET_WSCALE_NONE)
			return 4;
		out[4] = LIMPET_TCPOPT_NOP;
		out[5] = LIMPET_TCPOPT_NOP;
		out[6] = client->sack_ok ? LIMPET_TCPOPT_SACK_PERM : LIMPET_TCPOPT_NOP;
		out[7] = client->sack_ok ? LIMPET_TCPOLEN_SACK_PERM : LIMPET_TCPOPT_NOP;
		if (client->wscale == LIMPET_WSCALE_NONE)
			return 8;
		out[8] = LIMPET_TCPOPT_NOP;
		out[9] = LIMPET_TCPOPT_WSCALE;
		out[10] = LIMPET_TCPOLEN_WSCALE;
		out[11] = wscale;
		return 12;
	}

	if (client->sack_ok) {
		out[4] = LIMPET_TCPOPT_SACK_PERM;
		out[5] = LIMPET_TCPOLEN_SACK_PERM;
	} else {
		out[4] = LIMPET_TCPOPT_NOP;
		out[5] = LIMPET_TCPOPT_NOP;
	}
	out[6] = LIMPET_TCPOPT_TS;
	out[7] = LIMPET_TCPOLEN_TS;
	limpet_put_be32(out + 8, tsval);
	limpet_put_be32(out + 12, client->tsval);
	if (client->wscale == LIMPET_WSCALE_NONE)
		return 16;

	out[16] = LIMPET_TCPOPT_NOP;
	out[17] = LIMPET_TCPOPT_WSCALE;
	out[18] = LIMPET_TCPOLEN_WSCALE;
	out[19] = wscale;
	return 20;
}

#endif /* LIMPET_TCPOPT_H */
