// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_splice.c - libFuzzer target of the splice translation
 * (include/limpet_splice.h): sequence numbers, acks, SACK edges,
 * timestamps and windows of a spliced connection.
 *
 *   the first 27 bytes   a struct limpet_splice (deltas, insertion, shifts)
 *   1 byte               the header length selector (doff 5-15)
 *   then                 the TCP header (short inputs padded with zeros)
 *
 * Properties, sequence numbers within 2^30 of the insertion point (the
 * window of any real connection; modulo 2^32 comparison cannot say more):
 * a seq translated forward and acknowledged back by the peer's side gives
 * the original; an ack outside the inserted bytes does the same the other
 * way; an ack inside them is the insertion point; a segment that does not
 * hold the insertion keeps its length; windows stay open and within 16
 * bits. Whole headers without insertion go forward and back with the
 * opposite deltas to the same bytes, options included, and the option
 * walk never changes a kind or a length.
 */
#include <string.h>

#include "fuzz.h"
#include "limpet_splice.h"

#define NEAR (1u << 30)

static __u32 dist(__u32 a, __u32 b)
{
	__u32 d = a - b;

	return (__s32)d < 0 ? 0u - d : d;
}

/* The peer's side of <sp>: its acks of our bytes. */
static struct limpet_splice peer_of(const struct limpet_splice *sp)
{
	struct limpet_splice p;

	memset(&p, 0, sizeof(p));
	p.ack_delta = sp->seq_delta;
	p.ack_ins_pos = sp->ins_pos;
	p.ack_ins_len = sp->ins_len;
	return p;
}

static void check_numbers(const struct limpet_splice *sp, __u32 s, __u32 len)
{
	struct limpet_splice peer = peer_of(sp), back;
	__u32 t, a;

	if (dist(s, sp->ins_pos) < NEAR && !limpet_splice_holds_insertion(sp, s, len ? len : 1)) {
		t = limpet_splice_seq(sp, s);
		FUZZ_CHECK(limpet_splice_ack(&peer, t) == s, "seq %#x -> %#x does not ack back", s,
			   t);
		/* The segment's bytes stay together. */
		if (len < NEAR && !limpet_splice_holds_insertion(sp, s, len))
			FUZZ_CHECK(limpet_splice_seq(sp, s + len) - t == len ||
					   (sp->ins_len && s + len == sp->ins_pos),
				   "segment of %u at %#x torn", len, s);
	}

	/* An ack of the peer's bytes, in this side's space: <s> + ack_delta. */
	a = s + sp->ack_delta;
	memset(&back, 0, sizeof(back));
	back.seq_delta = sp->ack_delta;
	back.ins_pos = sp->ack_ins_pos;
	back.ins_len = sp->ack_ins_len;
	if (dist(s, sp->ack_ins_pos) < NEAR) {
		t = limpet_splice_ack(sp, a);
		if (!sp->ack_ins_len || !limpet_seq_after(s, sp->ack_ins_pos))
			FUZZ_CHECK(t == s, "ack %#x -> %#x", a, t);
		else if (s - sp->ack_ins_pos < sp->ack_ins_len)
			FUZZ_CHECK(t == sp->ack_ins_pos, "ack inside the insertion -> %#x", t);
		else
			FUZZ_CHECK(t == s - sp->ack_ins_len, "ack past the insertion -> %#x", t);
		/* And the peer's seq of those bytes acks back to them. */
		if (!sp->ack_ins_len || !limpet_seq_after(s, sp->ack_ins_pos) ||
		    s - sp->ack_ins_pos >= sp->ack_ins_len)
			FUZZ_CHECK(limpet_splice_seq(&back, t) == a ||
					   limpet_splice_holds_insertion(&back, t, 1),
				   "ack %#x does not map back", a);
	}
}

static void check_window(const struct limpet_splice *sp, __u16 win)
{
	__u16 out = limpet_splice_window(sp, win);
	__u64 want = ((__u64)win << (sp->wscale_in & 0xf)) >> (sp->wscale_out & 0xf);

	FUZZ_CHECK(!win || out, "window %u closed", win);
	FUZZ_CHECK(out == (want > 0xffff ? 0xffff : (want || !win ? want : 1)),
		   "window %u -> %u, want %llu", win, out, (unsigned long long)want);
}

/* Kinds and lengths of the options of <th>, in order, into <map>. */
static void option_shape(const __u8 *th, __u32 th_len, __u8 *map)
{
	__u32 off = LIMPET_TCP_HDR_MIN, len;

	memset(map, 0, LIMPET_TCP_HDR_MAX);
	while (off < th_len) {
		map[off] = 1;
		if (th[off] == LIMPET_TCPOPT_EOL)
			return;
		if (th[off] == LIMPET_TCPOPT_NOP) {
			off++;
			continue;
		}
		if (off + 1 >= th_len)
			return;
		len = th[off + 1];
		map[off + 1] = 1;
		if (len < 2 || len > th_len - off)
			return;
		off += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct limpet_splice sp, inv;
	__u8 th[LIMPET_TCP_HDR_MAX], orig[LIMPET_TCP_HDR_MAX], m1[LIMPET_TCP_HDR_MAX];
	__u8 m2[LIMPET_TCP_HDR_MAX];
	const __u8 *bytes;
	__u32 th_len, i;
	size_t n;

	memset(&sp, 0, sizeof(sp));
	sp.seq_delta = fuzz_u32(&in);
	sp.ack_delta = fuzz_u32(&in);
	sp.ins_pos = fuzz_u32(&in);
	sp.ack_ins_pos = fuzz_u32(&in);
	sp.ins_len = fuzz_u16(&in) % 1024;	/* at most SLOWPATH_INSERT_MAX in use */
	sp.ack_ins_len = fuzz_u16(&in) % 1024;
	sp.tsval_delta = fuzz_u32(&in);
	sp.tsecr_delta = fuzz_u32(&in);
	sp.wscale_in = fuzz_u8(&in) % 15;
	sp.wscale_out = fuzz_u8(&in) % 15;
	sp.flags = fuzz_u8(&in) & 7;
	th_len = (LIMPET_TCP_HDR_MIN / 4 + fuzz_u8(&in) % 11) * 4;
	memset(th, 0, sizeof(th));
	bytes = fuzz_bytes(&in, sizeof(th), &n);
	memcpy(th, bytes, n);

	check_numbers(&sp, limpet_get_be32(th + 4), limpet_get_be32(th + 8) & 0xffff);
	check_numbers(&sp, sp.ins_pos, limpet_get_be32(th + 8) & 0xffff);
	check_numbers(&sp, sp.ins_pos - 1, 1);
	check_numbers(&sp, sp.ack_ins_pos + sp.ack_ins_len, 0);
	check_window(&sp, (__u16)(th[14] << 8 | th[15]));

	/* The option walk keeps every kind and length where it was. */
	memcpy(orig, th, sizeof(th));
	limpet_splice_tcp(&sp, th, th_len);
	option_shape(orig, th_len, m1);
	option_shape(th, th_len, m2);
	FUZZ_CHECK(!memcmp(m1, m2, sizeof(m1)), "option layout changed");
	for (i = 0; i < LIMPET_TCP_HDR_MAX; i++)
		if (m1[i])
			FUZZ_CHECK(th[i] == orig[i], "option byte %u changed", i);
	FUZZ_CHECK(!memcmp(th + th_len, orig + th_len, sizeof(th) - th_len), "wrote past the header");
	FUZZ_CHECK(!memcmp(th, orig, 4) && th[12] == orig[12] && th[13] == orig[13] &&
			   !memcmp(th + 16, orig + 16, 4),
		   "ports, flags, checksum or urgent pointer changed");

	/* Without insertion or rescaling, the opposite deltas undo it all. */
	sp.ins_len = sp.ack_ins_len = 0;
	sp.flags &= ~LIMPET_SPLICE_WINDOW;
	memcpy(th, orig, sizeof(th));
	limpet_splice_tcp(&sp, th, th_len);
	inv = sp;
	inv.seq_delta = 0u - sp.seq_delta;
	inv.ack_delta = 0u - sp.ack_delta;
	inv.tsval_delta = 0u - sp.tsval_delta;
	inv.tsecr_delta = 0u - sp.tsecr_delta;
	limpet_splice_tcp(&inv, th, th_len);
	FUZZ_CHECK(!memcmp(th, orig, sizeof(th)), "forward and back differs");
	return 0;
}
