/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * segment.h - TCP segments as the slow path sees them: parsed from the
 * Ethernet frames its AF_XDP sockets receive, built as IP packets for its
 * raw socket to send.
 */
#ifndef LIMPET_SEGMENT_H
#define LIMPET_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "limpet_maps.h"
#include "limpet_tcpopt.h"

/* The largest frame an AF_XDP socket hands the slow path (http/xsk.c). */
#define SEG_FRAME_MAX 4096

/*
 * Room for any IP packet the slow path builds: what came in one frame,
 * with up to 1024 bytes inserted (SLOWPATH_INSERT_MAX). A link with an
 * MTU above 2000 brings segments a smaller buffer would silently drop.
 */
#define SEG_PACKET_MAX (SEG_FRAME_MAX + 1024)

struct segment {
	__u8 family;			/* LIMPET_FAMILY_V4 / _V6 */
	struct limpet_addr src;
	struct limpet_addr dst;
	__be16 sport;
	__be16 dport;
	__u32 seq;			/* host order */
	__u32 ack;
	__u8 flags;			/* SEG_* */
	__u16 window;			/* as on the wire, unscaled */
	__u8 th[LIMPET_TCP_HDR_MAX];	/* the TCP header as received, options included */
	__u32 th_len;
	const __u8 *payload;		/* points into the frame */
	__u32 payload_len;
	struct limpet_tcpopt opt;	/* its options */
};

/*
 * Parse an Ethernet frame holding an IPv4 or IPv6 TCP segment with a valid
 * TCP checksum. Returns 0, or -EINVAL for anything else (including IP
 * options' worth of oddities: fragments, extension headers).
 */
int segment_parse(const void *frame, size_t len, struct segment *seg);

/*
 * Build the IP packet of a segment from <src>:<sport> to <dst>:<dport>
 * whose TCP header is <th> (<th_len> bytes; ports and checksum are filled
 * in here) carrying <payload>. Returns its length, or -EMSGSIZE.
 */
int segment_build(__u8 *out, size_t cap, __u8 family, const struct limpet_addr *src,
		  __be16 sport, const struct limpet_addr *dst, __be16 dport, const __u8 *th,
		  __u32 th_len, const void *payload, __u32 payload_len);

/*
 * A TCP header with the given fields and options in <th> (room for
 * LIMPET_TCP_HDR_MAX); returns its length. <ts> NULL: no timestamp option.
 * <mss> 0: no MSS; <wscale> LIMPET_WSCALE_NONE: none.
 */
struct segment_opts {
	__u16 mss;
	__u8 wscale;
	bool sack_ok;
	bool ts;
	__u32 tsval;
	__u32 tsecr;
};

__u32 segment_header(__u8 *th, __u32 seq, __u32 ack, __u8 flags, __u16 window,
		     const struct segment_opts *opts);

/* Sending IP packets whose every header field is ours (IP_HDRINCL). */
struct rawsock {
	int fd4;
	int fd6;
};

int rawsock_open(struct rawsock *rs, char *err, size_t errlen);
void rawsock_close(struct rawsock *rs);
int rawsock_send(struct rawsock *rs, __u8 family, const void *pkt, size_t len);

#endif /* LIMPET_SEGMENT_H */
