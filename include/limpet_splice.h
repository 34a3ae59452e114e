/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_splice.h - translating the TCP headers of a spliced connection.
 *
 * An HTTP connection is two TCP connections glued together: the client's,
 * whose handshake the balancer completed with a SYN cookie, and the
 * backend's, opened by the slow path with the client's ISN and options.
 * They differ in the sequence space of the server's side (cookie vs the
 * backend's ISN), in its timestamp clock, possibly in window scaling, and,
 * once the slow path inserted bytes into a response, by the inserted length
 * after the insertion point: the bookkeeping of netfilter's
 * nf_conntrack_seqadj, one correction position per direction.
 *
 * Every segment crossing the balancer is translated by its direction's
 * struct limpet_splice (kept in the flow entry, limpet_maps.h): its seq
 * (this side's space), its ack and SACK edges (the peer's space), TSval
 * and TSecr, and the window. The code is pure C on a copy of the TCP
 * header, compiled for BPF (bpf/lib/splice.h) and for the slow path and the
 * unit tests (tests/unit/test_splice.c), so both translate identically.
 * Sequence numbers compare modulo 2^32 (RFC 9293 3.4).
 */
#ifndef LIMPET_SPLICE_H
#define LIMPET_SPLICE_H

#include <stdbool.h>
#include <linux/types.h>
#include "limpet_inline.h"
#include "limpet_tcpopt.h"

#define LIMPET_TCPOPT_SACK 5
#define LIMPET_SACK_MAX_BLOCKS 4

enum limpet_splice_flags {
	LIMPET_SPLICE_TS = 1,		/* timestamps in use: translate TSval/TSecr */
	LIMPET_SPLICE_WINDOW = 2,	/* rescale the window field */
	LIMPET_SPLICE_HEAD_PENDING = 4,	/* data goes to the slow path until it inserted */
};

/* One direction's translation. Positions are in that direction's original
 * (untranslated) sequence space.
 */
struct limpet_splice {
	__u32 seq_delta;	/* added to seq */
	__u32 ack_delta;	/* subtracted from ack and SACK edges */
	__u32 ins_pos;		/* ins_len bytes were inserted before this byte */
	__u32 ack_ins_pos;	/* the peer's ins_pos */
	__u16 ins_len;		/* 0: nothing inserted in this direction */
	__u16 ack_ins_len;	/* the peer's ins_len */
	__u32 tsval_delta;	/* added to TSval */
	__u32 tsecr_delta;	/* subtracted from TSecr */
	__u8 wscale_in;		/* the sender's window shift */
	__u8 wscale_out;	/* the shift the receiver applies */
	__u8 flags;		/* enum limpet_splice_flags */
	/* The node that bound the connection: every TSval it writes names
	 * it, every TSecr loses that name (limpet_ts_tag, limpet_tcpopt.h).
	 */
	__u8 ts_bits;
	__u8 ts_id;
	__u8 pad[3];
};

LIMPET_INLINE struct limpet_ts_tag limpet_splice_ts_tag(const struct limpet_splice *sp)
{
	struct limpet_ts_tag tag = { .bits = sp->ts_bits, .id = sp->ts_id };

	return tag;
}

/* Is a after b, modulo 2^32? */
LIMPET_INLINE bool limpet_seq_after(__u32 a, __u32 b)
{
	return (__s32)(a - b) > 0;
}

/* Does the segment [seq, seq + len) hold the byte before which this
 * direction inserted? Only the slow path can send it: it carries the
 * inserted bytes, and a retransmission must carry them identically.
 */
LIMPET_INLINE bool limpet_splice_holds_insertion(const struct limpet_splice *sp, __u32 seq,
						 __u32 len)
{
	return sp->ins_len && len && !limpet_seq_after(seq, sp->ins_pos) &&
	       limpet_seq_after(seq + len, sp->ins_pos);
}

/* The translated seq of a segment that does not hold the insertion point. */
LIMPET_INLINE __u32 limpet_splice_seq(const struct limpet_splice *sp, __u32 seq)
{
	seq += sp->seq_delta;
	if (sp->ins_len && !limpet_seq_after(sp->ins_pos + sp->seq_delta, seq))
		seq += sp->ins_len;
	return seq;
}

/* An ack (or SACK edge) of the peer's bytes, back into the peer's original
 * space. An ack inside the inserted bytes acknowledges none of the peer's:
 * it becomes the insertion point.
 */
LIMPET_INLINE __u32 limpet_splice_ack(const struct limpet_splice *sp, __u32 ack)
{
	__u32 past;

	ack -= sp->ack_delta;
	if (!sp->ack_ins_len || !limpet_seq_after(ack, sp->ack_ins_pos))
		return ack;
	past = ack - sp->ack_ins_pos;
	return past >= sp->ack_ins_len ? ack - sp->ack_ins_len : sp->ack_ins_pos;
}

/* A window field, from the sender's shift to the receiver's. Never turns an
 * open window into a closed one.
 */
LIMPET_INLINE __u16 limpet_splice_window(const struct limpet_splice *sp, __u16 win)
{
	__u32 bytes = (__u32)win << (sp->wscale_in & 0xf);
	__u32 out = bytes >> (sp->wscale_out & 0xf);

	if (out > 0xffff)
		out = 0xffff;
	if (!out && win)
		out = 1;
	return (__u16)out;
}

/*
 * Both directions' translation once the backend answered our SYN: its
 * SYN-ACK's seq <synack_seq> and options <b>. The client's handshake was
 * our cookie <cookie_isn>, with timestamps when <client_ts> (the last TSval
 * the client saw from us: <our_tsval>) and shift <client_wscale>
 * (LIMPET_WSCALE_NONE: no scaling). <tag> names the node binding it. The
 * slow path (user/http/slowpath.c) and the data plane (bpf/lib/bind.h)
 * bind through this one function.
 */
LIMPET_INLINE void limpet_splice_bind(struct limpet_splice *fwd, struct limpet_splice *ret,
				      __u32 cookie_isn, bool client_ts, __u32 our_tsval,
				      __u8 client_wscale, __u32 synack_seq,
				      const struct limpet_tcpopt *b, struct limpet_ts_tag tag)
{
	__u32 delta = cookie_isn - synack_seq;
	bool scaled = client_wscale != LIMPET_WSCALE_NONE;
	bool be_scales = scaled && b->wscale != LIMPET_WSCALE_NONE;

	__builtin_memset(fwd, 0, sizeof(*fwd));
	__builtin_memset(ret, 0, sizeof(*ret));
	fwd->ack_delta = delta;
	ret->seq_delta = delta;
	if (client_ts && b->ts_ok) {
		/* The backend's clock goes on from the last TSval the client
		 * saw from us: its PAWS check never sees time go back.
		 */
		__u32 ts_delta = our_tsval - b->tsval;

		fwd->flags |= LIMPET_SPLICE_TS;
		fwd->tsecr_delta = ts_delta;
		ret->flags |= LIMPET_SPLICE_TS;
		ret->tsval_delta = ts_delta;
		fwd->ts_bits = ret->ts_bits = tag.bits;
		fwd->ts_id = ret->ts_id = tag.id;
	}
	/* Client -> backend: scaled by the client's shift, read by the
	 * backend with it only if it agreed to scaling.
	 */
	if (scaled) {
		fwd->wscale_in = client_wscale;
		fwd->wscale_out = be_scales ? client_wscale : 0;
	}
	/* Backend -> client: the client reads our promised shift. */
	ret->wscale_in = be_scales ? b->wscale : 0;
	ret->wscale_out = scaled ? LIMPET_OUR_WSCALE : 0;
	if (fwd->wscale_in != fwd->wscale_out)
		fwd->flags |= LIMPET_SPLICE_WINDOW;
	if (ret->wscale_in != ret->wscale_out)
		ret->flags |= LIMPET_SPLICE_WINDOW;
}

/*
 * The backend's side of <fwd>/<ret> counts from our SYN's ISN, <shift> past
 * the client's (limpet_isn_tag(), limpet_tcpopt.h): the client's seq moves
 * up by it, the backend's acks down.
 */
LIMPET_INLINE void limpet_splice_shift_backend(struct limpet_splice *fwd,
					       struct limpet_splice *ret, __u32 shift)
{
	fwd->seq_delta += shift;
	ret->ack_delta += shift;
}

/*
 * A TCP header being translated: the header with its options in buf[0,
 * end), walked one option per limpet_splice_step() (the bpf_loop() shape,
 * as in limpet_tcpopt.h; the slack keeps every read inside buf).
 */
struct limpet_splice_walk {
	__u8 buf[LIMPET_TCP_HDR_MAX + 2 + 8 * LIMPET_SACK_MAX_BLOCKS];
	__u32 off;
	__u32 end;
	struct limpet_splice sp;
};

LIMPET_INLINE void limpet_splice_put_ack(struct limpet_splice_walk *w, __u32 off)
{
	if (off > LIMPET_TCP_HDR_MAX - 4)
		return;
	limpet_put_be32(&w->buf[off], limpet_splice_ack(&w->sp, limpet_get_be32(&w->buf[off])));
}

/* Translate the option at w->off. Returns 0 to go on, 1 when they end
 * (the same stopping rules as limpet_tcpopt_step()).
 */
LIMPET_INLINE int limpet_splice_step(struct limpet_splice_walk *w)
{
	__u32 off = w->off, end = w->end, kind, len, i;

	if (end > LIMPET_TCP_HDR_MAX)
		end = LIMPET_TCP_HDR_MAX;
	if (off >= end || off >= LIMPET_TCP_HDR_MAX)
		return 1;
	kind = w->buf[off];
	if (kind == LIMPET_TCPOPT_EOL)
		return 1;
	if (kind == LIMPET_TCPOPT_NOP) {
		w->off = off + 1;
		return 0;
	}
	if (off + 2 > end)
		return 1;
	len = w->buf[off + 1];
	if (len < 2 || len > end - off)
		return 1;
	if (kind == LIMPET_TCPOPT_TS && len == LIMPET_TCPOLEN_TS &&
	    (w->sp.flags & LIMPET_SPLICE_TS)) {
		struct limpet_ts_tag tag = limpet_splice_ts_tag(&w->sp);

		limpet_put_be32(&w->buf[off + 2],
				limpet_ts_tag(limpet_get_be32(&w->buf[off + 2]) + w->sp.tsval_delta,
					      tag));
		limpet_put_be32(&w->buf[off + 6],
				limpet_ts_untag(limpet_get_be32(&w->buf[off + 6]), tag) -
					w->sp.tsecr_delta);
	} else if (kind == LIMPET_TCPOPT_SACK && (len - 2) % 8 == 0) {
		for (i = 0; i < LIMPET_SACK_MAX_BLOCKS; i++) {
			if (2 + 8 * i >= len)
				break;
			limpet_splice_put_ack(w, off + 2 + 8 * i);
			limpet_splice_put_ack(w, off + 6 + 8 * i);
		}
	}
	w->off = off + len;
	return 0;
}

/*
 * The fixed part of the header at w->buf (the options are the steps'):
 * seq, ack and window.
 */
LIMPET_INLINE void limpet_splice_fixed(struct limpet_splice_walk *w)
{
	__u8 *b = w->buf;

	limpet_put_be32(&b[4], limpet_splice_seq(&w->sp, limpet_get_be32(&b[4])));
	if (b[13] & 0x10) /* ACK */
		limpet_put_be32(&b[8], limpet_splice_ack(&w->sp, limpet_get_be32(&b[8])));
	/* A SYN's window is never scaled (RFC 7323 2.2). */
	if ((w->sp.flags & LIMPET_SPLICE_WINDOW) && !(b[13] & 0x02)) {
		__u16 win = limpet_splice_window(&w->sp, (__u16)(b[14] << 8 | b[15]));

		b[14] = win >> 8;
		b[15] = win;
	}
	w->off = LIMPET_TCP_HDR_MIN;
}

#ifndef __bpf__
/* The whole header <th> of <th_len> bytes in place, in one call. */
static inline void limpet_splice_tcp(const struct limpet_splice *sp, void *th, __u32 th_len)
{
	struct limpet_splice_walk w;
	__u32 i;

	if (th_len < LIMPET_TCP_HDR_MIN || th_len > LIMPET_TCP_HDR_MAX)
		return;
	__builtin_memset(&w, 0, sizeof(w));
	__builtin_memcpy(w.buf, th, th_len);
	w.end = th_len;
	w.sp = *sp;
	limpet_splice_fixed(&w);
	for (i = 0; i < LIMPET_TCPOPT_MAX_STEPS; i++)
		if (limpet_splice_step(&w))
			break;
	__builtin_memcpy(th, w.buf, th_len);
}
#endif

#endif /* LIMPET_SPLICE_H */
