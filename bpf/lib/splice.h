/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * splice.h - the XDP side of spliced (HTTP) connections.
 *
 * A connection being bound belongs to the slow path: every segment of it
 * goes to the controller's AF_XDP socket of the RX queue it arrived on.
 * Once bound, its segments are translated in place (include/limpet_splice.h
 * on a scratch copy of the TCP header, one checksum difference for the whole
 * header) and then forwarded like any NAT flow. A backend segment that must
 * carry bytes the slow path inserts (the first response head, or a
 * retransmission of it) goes to the slow path again.
 */
#ifndef LIMPET_BPF_SPLICE_H
#define LIMPET_BPF_SPLICE_H

#include "parse.h"
#include "maps.h"
#include "stats.h"
#include "limpet_splice.h"
#include "limpet_csum.h"

/* Scratch space for translating one header: too big for the stack of a
 * program that may also be building a SYN-ACK.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct limpet_splice_walk);
} splice_scratch SEC(".maps");

/* Hand the frame to the slow path's socket for its interface and queue. */
static __always_inline int slowpath_redirect(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex, queue = ctx->rx_queue_index;
	struct xsk_iface_value *iface;

	iface = bpf_map_lookup_elem(&xsk_ifaces, &ifindex);
	if (!iface || queue >= iface->n_queues || queue >= LIMPET_XSK_MAX_QUEUES) {
		stat_inc(LIMPET_STAT_SLOWPATH_DOWN);
		return XDP_DROP;
	}
	/* Dropped when no socket is bound there: the peer retransmits. */
	if (bpf_redirect_map(&xsks, iface->base + queue, XDP_DROP) != XDP_REDIRECT) {
		stat_inc(LIMPET_STAT_SLOWPATH_DOWN);
		return XDP_DROP;
	}
	stat_inc(LIMPET_STAT_SLOWPATH);
	return XDP_REDIRECT;
}

/* bpf_loop() body: one option of the header being translated. Its context
 * must be on the stack, so it is a pointer to the scratch walk.
 */
static int splice_opt_step(__u32 index, void *ctx)
{
	struct limpet_splice_walk *w = *(struct limpet_splice_walk **)ctx;

	return limpet_splice_step(w);
}

/* Where a segment's TCP header is and how much data it carries. */
struct splice_seg {
	__u32 l4_off;
	__u32 th_len;
	__u32 seq;
	__u32 payload;
};

static __always_inline int splice_seg_of(struct xdp_md *ctx, const struct packet *p,
					 struct splice_seg *seg)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *tcp = p->l4;
	__u32 l3_len;

	if ((void *)(tcp + 1) > data_end)
		return -1;
	seg->l4_off = (void *)tcp - data;
	l3_len = seg->l4_off - sizeof(struct ethhdr);
	seg->th_len = tcp->doff * 4;
	if (seg->th_len < LIMPET_TCP_HDR_MIN || seg->th_len > LIMPET_TCP_HDR_MAX ||
	    p->ip_len < l3_len + seg->th_len)
		return -1;
	seg->seq = bpf_ntohl(tcp->seq);
	seg->payload = p->ip_len - l3_len - seg->th_len;
	return 0;
}

/* Does this segment need the slow path although its flow is bound? */
static __always_inline bool splice_wants_slowpath(const struct limpet_splice *sp,
						  const struct splice_seg *seg)
{
	/* Until the head is rewritten its size is unknown: a FIN or an ack
	 * sent after it would go out unshifted and ahead of it.
	 */
	if (sp->flags & LIMPET_SPLICE_HEAD_PENDING)
		return true;
	if (!seg->payload)
		return false;
	return limpet_splice_holds_insertion(sp, seg->seq, seg->payload);
}

/*
 * RFC 5961 on a spliced connection. limpet stands in for neither endpoint
 * once the connection is spliced: the endpoints' kernels hold the exact
 * receive state (rcv_nxt, which runs ahead of the ACKs limpet sees while
 * an ACK is delayed, the SACK blocks tcp_validate_incoming() also accepts a
 * RST at) and rate-limit their challenge ACKs. So an RST or SYN limpet does
 * not act on is passed on, translated like any segment, and the endpoint
 * answers it as RFC 5961 says (an out-of-window RST dropped, an in-window
 * one or a SYN challenged with an ACK that comes back through the flow).
 * limpet only decides whether the flow ends: at an RST exactly at the
 * sender's next sequence number, the number its stack resets at
 * (tcp_send_active_reset() sends snd_nxt; after a challenge ACK it sends
 * the ACK's ack, the receiver's rcv_nxt, which is the same byte). A spoofed
 * RST must hit that number of a 2^32 space to cut the connection.
 *
 * <seq_next> follows the sender's own segments in the entry the packet
 * already found (no second lookup): past the highest byte it sent, FIN
 * included. Segments without ACK, SYNs and RSTs do not move it (the kernel
 * drops a segment without ACK on an established socket).
 */
static __always_inline void splice_seq_seen(struct flow_value *fv, __u8 tcp_flags,
					    const struct splice_seg *seg)
{
	__u32 end;

	if ((tcp_flags & (LIMPET_TCP_SYN | LIMPET_TCP_RST)) || !(tcp_flags & LIMPET_TCP_ACK))
		return;
	end = seg->seq + seg->payload + (tcp_flags & LIMPET_TCP_FIN ? 1 : 0);
	if ((fv->flags & LIMPET_FLOW_SEQ_NEXT) && !limpet_seq_after(end, fv->seq_next))
		return;
	fv->seq_next = end;
	fv->flags |= LIMPET_FLOW_SEQ_NEXT;
}

/*
 * Does this RST end the connection? Not while <seq_next> is unknown (an
 * entry the slow path rewrote, until its sender's next segment): then the
 * endpoint alone judges it. After the sender's FIN (LIMPET_FLOW_CLOSED on a
 * spliced entry), also at the FIN's own number, as tcp_reset_check() allows.
 */
static __always_inline bool splice_rst_ends(const struct flow_value *fv,
					    const struct splice_seg *seg)
{
	if (!(fv->flags & LIMPET_FLOW_SEQ_NEXT))
		return false;
	if (seg->seq == fv->seq_next)
		return true;
	return (fv->flags & LIMPET_FLOW_CLOSED) && seg->seq == fv->seq_next - 1;
}

/*
 * Translate the TCP header in place, with its checksum. A global function:
 * the verifier checks it and its bpf_loop() body once, on its own, not
 * again for every state lb_splice() reaches it in (that was a fifth of
 * limpet_xdp's verification).
 */
__noinline int splice_translate(struct xdp_md *ctx, const struct limpet_splice *sp,
				const struct splice_seg *seg)
{
	struct limpet_splice_walk *w;
	__u32 th_len, zero = 0;
	__u16 check;
	__s64 sum;

	if (!sp || !seg)
		return -1;
	th_len = seg->th_len;
	w = bpf_map_lookup_elem(&splice_scratch, &zero);
	if (!w || th_len < LIMPET_TCP_HDR_MIN || th_len > LIMPET_TCP_HDR_MAX)
		return -1;
	if (bpf_xdp_load_bytes(ctx, seg->l4_off, w->buf, th_len))
		return -1;
	/* The checksum field counts as zero in both sums. */
	check = (__u16)(w->buf[16] | w->buf[17] << 8);
	w->buf[16] = 0;
	w->buf[17] = 0;
	sum = bpf_csum_diff((void *)w->buf, th_len, NULL, 0, (__u16)~check);
	if (sum < 0)
		return -1;

	w->end = th_len;
	w->sp = *sp;
	limpet_splice_fixed(w);
	bpf_loop(LIMPET_TCPOPT_MAX_STEPS, splice_opt_step, &w, 0);

	sum = bpf_csum_diff(NULL, 0, (void *)w->buf, th_len, (__u32)sum);
	if (sum < 0)
		return -1;
	check = csum_end((__u32)sum);
	w->buf[16] = (__u8)check;
	w->buf[17] = (__u8)(check >> 8);
	return bpf_xdp_store_bytes(ctx, seg->l4_off, w->buf, th_len) ? -1 : 0;
}

#endif /* LIMPET_BPF_SPLICE_H */
