/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_splice.c - Criterion tests of include/limpet_splice.h, the
 * translation of a spliced TCP connection's headers that the data plane
 * and the slow path share.
 *
 * Named cases pin down each piece: modular sequence comparison, seq and
 * ack translation around an insertion point (and across 2^32), SACK edges
 * that straddle the inserted bytes, timestamps, window rescaling, and the
 * option walk's stopping rules, on real TCP headers. Randomised cases check
 * the property everything hangs on: the client's acks (and SACK edges and
 * TSecr) of what the backend sent, translated back, are the backend's own
 * sequence numbers and clock again.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "limpet_splice.h"

/* ---- helpers ---- */

static __u64 rng_state = 0x9e3779b97f4a7c15ull;

static __u32 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (__u32)(rng_state >> 16);
}

/* A TCP header with <opts> (EOL-padded to 4 bytes) in b[0, len). */
struct hdr {
	__u8 b[LIMPET_TCP_HDR_MAX];
	__u32 len;
};

static struct hdr hdr_of(__u32 seq, __u32 ack, __u8 flags, __u16 win, const __u8 *opts,
			 size_t n)
{
	struct hdr h;

	cr_assert_leq(n, LIMPET_TCP_HDR_MAX - LIMPET_TCP_HDR_MIN);
	memset(&h, 0, sizeof(h));
	h.b[0] = 0x1f;	/* ports: never touched */
	h.b[1] = 0x90;
	h.b[2] = 0x9c;
	h.b[3] = 0x40;
	limpet_put_be32(h.b + 4, seq);
	limpet_put_be32(h.b + 8, ack);
	h.b[13] = flags;
	h.b[14] = win >> 8;
	h.b[15] = (__u8)win;
	h.b[16] = 0xab;	/* checksum and urgent pointer: never touched */
	h.b[17] = 0xcd;
	h.b[18] = 0x12;
	h.b[19] = 0x34;
	if (n)
		memcpy(h.b + LIMPET_TCP_HDR_MIN, opts, n);
	h.len = LIMPET_TCP_HDR_MIN + (n + 3) / 4 * 4;
	h.b[12] = (__u8)(h.len / 4) << 4;
	return h;
}

#define ACK 0x10
#define SYN 0x02
#define RST 0x04

static __u32 get32(const struct hdr *h, __u32 off)
{
	return limpet_get_be32(h->b + off);
}

static __u16 get_win(const struct hdr *h)
{
	return (__u16)(h->b[14] << 8 | h->b[15]);
}

/* NOP NOP SACK with <n> blocks (edges[2n]) in <opts>; returns the length. */
static size_t sack_opts(__u8 *opts, const __u32 *edges, int n)
{
	size_t len = 0;
	int i;

	opts[len++] = LIMPET_TCPOPT_NOP;
	opts[len++] = LIMPET_TCPOPT_NOP;
	opts[len++] = LIMPET_TCPOPT_SACK;
	opts[len++] = (__u8)(2 + 8 * n);
	for (i = 0; i < 2 * n; i++, len += 4)
		limpet_put_be32(opts + len, edges[i]);
	return len;
}

/* ---- sequence arithmetic ---- */

Test(splice, seq_after_wraps)
{
	cr_expect(limpet_seq_after(1, 0));
	cr_expect(!limpet_seq_after(0, 1));
	cr_expect(!limpet_seq_after(7, 7), "a number is not after itself");
	/* Across 2^32: 0 comes right after 0xffffffff. */
	cr_expect(limpet_seq_after(0, 0xffffffff));
	cr_expect(!limpet_seq_after(0xffffffff, 0));
	cr_expect(limpet_seq_after(5, 0xfffffff0));
	/* Half the space ahead is after; exactly half is not (s32 min). */
	cr_expect(limpet_seq_after(0x7fffffff, 0));
	cr_expect(!limpet_seq_after(0x80000000, 0));
	cr_expect(limpet_seq_after(0x80000000, 1));
}

Test(splice, seq_without_insertion)
{
	struct limpet_splice sp = { .seq_delta = 0x1000 };

	cr_expect_eq(limpet_splice_seq(&sp, 0), 0x1000);
	cr_expect_eq(limpet_splice_seq(&sp, 0xfffff800), 0x800, "wraps modulo 2^32");
	/* An ins_pos without ins_len inserted nothing. */
	sp.ins_pos = 10;
	cr_expect_eq(limpet_splice_seq(&sp, 20), 0x1014);
	sp = (struct limpet_splice){ 0 };
	cr_expect_eq(limpet_splice_seq(&sp, 0xdeadbeef), 0xdeadbeef, "zero splice is identity");
}

Test(splice, seq_with_insertion)
{
	struct limpet_splice sp = { .seq_delta = 0x80000000, .ins_pos = 1000, .ins_len = 24 };

	cr_expect_eq(limpet_splice_seq(&sp, 500), 0x80000000 + 500, "before: delta only");
	cr_expect_eq(limpet_splice_seq(&sp, 999), 0x80000000 + 999);
	cr_expect_eq(limpet_splice_seq(&sp, 1000), 0x80000000 + 1000 + 24,
		     "at ins_pos: after the inserted bytes");
	cr_expect_eq(limpet_splice_seq(&sp, 1001), 0x80000000 + 1001 + 24);
	cr_expect_eq(limpet_splice_seq(&sp, 1000 + 0x7fff0000), 0x80000000 + 1000 + 0x7fff0000 + 24,
		     "far after, within half the space");
}

Test(splice, seq_insertion_across_wrap)
{
	/* The insertion point sits just before 2^32 in the backend's space,
	 * and the translated point just after it in the client's.
	 */
	struct limpet_splice sp = { .seq_delta = 0x20, .ins_pos = 0xfffffff0, .ins_len = 7 };

	cr_expect_eq(limpet_splice_seq(&sp, 0xffffffe0), 0x0);
	cr_expect_eq(limpet_splice_seq(&sp, 0xffffffef), 0xf);
	cr_expect_eq(limpet_splice_seq(&sp, 0xfffffff0), 0x10 + 7);
	cr_expect_eq(limpet_splice_seq(&sp, 0xffffffff), 0x1f + 7);
	cr_expect_eq(limpet_splice_seq(&sp, 0x5), 0x25 + 7, "past 2^32 in the original space");

	/* The other way: the original wraps, the translated does not. */
	sp = (struct limpet_splice){ .seq_delta = 0x100, .ins_pos = 3, .ins_len = 2 };
	cr_expect_eq(limpet_splice_seq(&sp, 0xfffffffe), 0xfe);
	cr_expect_eq(limpet_splice_seq(&sp, 2), 0x102);
	cr_expect_eq(limpet_splice_seq(&sp, 3), 0x105);
}

Test(splice, holds_insertion)
{
	struct limpet_splice sp = { .ins_pos = 1000, .ins_len = 24 };

	cr_expect(!limpet_splice_holds_insertion(&sp, 990, 10), "ends exactly at ins_pos");
	cr_expect(limpet_splice_holds_insertion(&sp, 990, 11), "last byte is ins_pos");
	cr_expect(limpet_splice_holds_insertion(&sp, 1000, 1), "starts at ins_pos with data");
	cr_expect(limpet_splice_holds_insertion(&sp, 900, 500), "spans it");
	cr_expect(!limpet_splice_holds_insertion(&sp, 1000, 0), "bare ACK at ins_pos");
	cr_expect(!limpet_splice_holds_insertion(&sp, 990, 0), "bare ACK before");
	cr_expect(!limpet_splice_holds_insertion(&sp, 1001, 100), "starts after");
	sp.ins_len = 0;
	cr_expect(!limpet_splice_holds_insertion(&sp, 1000, 10), "nothing inserted");

	/* Around 2^32. */
	sp = (struct limpet_splice){ .ins_pos = 2, .ins_len = 1 };
	cr_expect(limpet_splice_holds_insertion(&sp, 0xfffffffe, 10));
	cr_expect(!limpet_splice_holds_insertion(&sp, 0xfffffffe, 4));
	cr_expect(limpet_splice_holds_insertion(&sp, 0xfffffffe, 5));
	sp.ins_pos = 0xfffffffe;
	cr_expect(limpet_splice_holds_insertion(&sp, 0xfffffff0, 0x20));
	cr_expect(!limpet_splice_holds_insertion(&sp, 0xffffffff, 0x20));
}

/* ---- acks ---- */

Test(splice, ack_without_insertion)
{
	struct limpet_splice sp = { .ack_delta = 0x10 };

	cr_expect_eq(limpet_splice_ack(&sp, 0x1010), 0x1000);
	cr_expect_eq(limpet_splice_ack(&sp, 0x5), 0xfffffff5, "wraps modulo 2^32");
	sp.ack_ins_pos = 0x500;	/* without ack_ins_len: nothing to correct */
	cr_expect_eq(limpet_splice_ack(&sp, 0x2010), 0x2000);
}

Test(splice, ack_around_insertion)
{
	const __u32 d = 0x30000000, p = 5000;
	const __u16 l = 24;
	struct limpet_splice sp = { .ack_delta = d, .ack_ins_pos = p, .ack_ins_len = l };

	cr_expect_eq(limpet_splice_ack(&sp, d + 100), 100, "well before");
	cr_expect_eq(limpet_splice_ack(&sp, d + p - 1), p - 1);
	cr_expect_eq(limpet_splice_ack(&sp, d + p), p, "exactly at the correction point");
	cr_expect_eq(limpet_splice_ack(&sp, d + p + 1), p, "inside the inserted bytes: clamped");
	cr_expect_eq(limpet_splice_ack(&sp, d + p + l - 1), p, "last inserted byte: clamped");
	cr_expect_eq(limpet_splice_ack(&sp, d + p + l), p, "all inserted bytes acked");
	cr_expect_eq(limpet_splice_ack(&sp, d + p + l + 1), p + 1, "after: minus ins_len");
	cr_expect_eq(limpet_splice_ack(&sp, d + p + l + 100000), p + 100000);
}

Test(splice, ack_delta_wraps)
{
	/* Cookie ISN near 2^32, backend ISN near 0: the client acks wrap,
	 * the insertion point in the backend's space does not.
	 */
	const __u32 d = 0xfffffff0, p = 0x20;
	struct limpet_splice sp = { .ack_delta = d, .ack_ins_pos = p, .ack_ins_len = 10 };

	cr_expect_eq(limpet_splice_ack(&sp, 0xffffffff), 0xf);
	cr_expect_eq(limpet_splice_ack(&sp, 0x10), 0x20, "at ins_pos");
	cr_expect_eq(limpet_splice_ack(&sp, 0x15), 0x20, "inside");
	cr_expect_eq(limpet_splice_ack(&sp, 0x1a), 0x20, "just past the inserted bytes");
	cr_expect_eq(limpet_splice_ack(&sp, 0x1b), 0x21);

	/* The insertion point itself right before 2^32. */
	sp = (struct limpet_splice){ .ack_delta = 0x100, .ack_ins_pos = 0xfffffffc,
				     .ack_ins_len = 8 };
	cr_expect_eq(limpet_splice_ack(&sp, 0xfc), 0xfffffffc);
	cr_expect_eq(limpet_splice_ack(&sp, 0xff), 0xfffffffc, "inside, wrapped");
	cr_expect_eq(limpet_splice_ack(&sp, 0x103), 0xfffffffc);
	cr_expect_eq(limpet_splice_ack(&sp, 0x104), 0xfffffffc, "all inserted bytes");
	cr_expect_eq(limpet_splice_ack(&sp, 0x105), 0xfffffffd);
	cr_expect_eq(limpet_splice_ack(&sp, 0x10a), 0x2);
}

/* ---- whole headers ---- */

Test(splice, fixed_fields)
{
	struct limpet_splice sp = { .seq_delta = 0x100, .ack_delta = 0x10 };
	struct hdr h = hdr_of(0x1000, 0x2010, ACK, 1000, NULL, 0), orig = h;

	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get32(&h, 4), 0x1100);
	cr_expect_eq(get32(&h, 8), 0x2000);
	cr_expect_eq(get_win(&h), 1000, "no LIMPET_SPLICE_WINDOW: window untouched");
	/* Ports, offset, flags, checksum and urgent pointer are not ours. */
	cr_expect_arr_eq(h.b, orig.b, 4);
	cr_expect_arr_eq(h.b + 12, orig.b + 12, 2);
	cr_expect_arr_eq(h.b + 16, orig.b + 16, 4);

	/* A RST without ACK: its ack field is not an ack. */
	h = hdr_of(0x1000, 0x2010, RST, 0, NULL, 0);
	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get32(&h, 4), 0x1100);
	cr_expect_eq(get32(&h, 8), 0x2010);
}

Test(splice, bad_header_length_untouched)
{
	struct limpet_splice sp = { .seq_delta = 1, .ack_delta = 1 };
	__u8 b[LIMPET_TCP_HDR_MAX + 4], orig[sizeof(b)];
	struct hdr h = hdr_of(100, 100, ACK, 1, NULL, 0);

	memset(b, 0x5a, sizeof(b));
	memcpy(b, h.b, LIMPET_TCP_HDR_MIN);
	memcpy(orig, b, sizeof(b));
	limpet_splice_tcp(&sp, b, LIMPET_TCP_HDR_MIN - 1);
	cr_expect_arr_eq(b, orig, sizeof(b), "shorter than 20 bytes");
	limpet_splice_tcp(&sp, b, LIMPET_TCP_HDR_MAX + 4);
	cr_expect_arr_eq(b, orig, sizeof(b), "longer than 60 bytes");
}

Test(splice, sack_blocks_straddling_insertion)
{
	const __u32 d = 0x40000000, p = 7000;
	const __u16 l = 30;
	struct limpet_splice sp = { .ack_delta = d, .ack_ins_pos = p, .ack_ins_len = l };
	/* In the client's space, and what each edge must become. */
	const __u32 edges[8] = {
		d + p - 100, d + p + 5,		/* ends inside the inserted bytes */
		d + p + 10, d + p + l + 50,	/* starts inside them */
		d + p + 3, d + p + 20,		/* all inside: empty at ins_pos */
		d + p + l + 100, d + p + l + 200,	/* all after */
	};
	const __u32 want[8] = {
		p - 100, p,
		p, p + 50,
		p, p,
		p + 100, p + 200,
	};
	int n, i;

	for (n = 1; n <= LIMPET_SACK_MAX_BLOCKS; n++) {
		__u8 opts[40];
		size_t len = sack_opts(opts, edges, n);
		struct hdr h = hdr_of(1, d + p - 200, ACK, 100, opts, len);

		limpet_splice_tcp(&sp, h.b, h.len);
		cr_expect_eq(get32(&h, 8), p - 200, "%d blocks: ack", n);
		cr_expect_eq(h.b[22], LIMPET_TCPOPT_SACK);
		cr_expect_eq(h.b[23], 2 + 8 * n, "%d blocks: length kept", n);
		for (i = 0; i < 2 * n; i++)
			cr_expect_eq(get32(&h, 24 + 4 * i), want[i],
				     "%d blocks: edge %d is %#x, expected %#x", n, i,
				     get32(&h, 24 + 4 * i), want[i]);
	}
}

Test(splice, sack_after_timestamps_fills_header)
{
	/* NOP NOP TS NOP NOP SACK(3 blocks): 40 option bytes, the most there
	 * is room for, every edge at the end of the header.
	 */
	struct limpet_splice sp = { .ack_delta = 5, .ack_ins_pos = 100, .ack_ins_len = 10,
				    .tsval_delta = 1000, .tsecr_delta = 3,
				    .flags = LIMPET_SPLICE_TS };
	const __u32 edges[6] = { 55, 105, 110, 205, 305, 405 };
	const __u32 want[6] = { 50, 100, 100, 190, 290, 390 };
	__u8 opts[40] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 9 };
	struct hdr h;
	int i;

	sack_opts(opts + 12, edges, 3);
	h = hdr_of(0, 0, ACK, 1, opts, sizeof(opts));
	cr_assert_eq(h.len, LIMPET_TCP_HDR_MAX);
	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get32(&h, 24), 1001, "TSval");
	cr_expect_eq(get32(&h, 28), 6, "TSecr");
	for (i = 0; i < 6; i++)
		cr_expect_eq(get32(&h, 36 + 4 * i), want[i], "edge %d is %u, expected %u", i,
			     get32(&h, 36 + 4 * i), want[i]);
}

Test(splice, sack_odd_length_untouched)
{
	/* A SACK option whose length is no whole number of blocks is not
	 * read as one; the walk goes on past it.
	 */
	struct limpet_splice sp = { .ack_delta = 5, .tsval_delta = 1, .flags = LIMPET_SPLICE_TS };
	__u8 opts[] = { 5, 11, 0, 0, 0, 9, 0, 0, 0, 9, 0, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	struct hdr h = hdr_of(0, 0, ACK, 1, opts, sizeof(opts));

	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get32(&h, 22), 9);
	cr_expect_eq(get32(&h, 26), 9);
	cr_expect_eq(get32(&h, 34), 2, "TSval after it translated");
}

Test(splice, timestamps)
{
	struct limpet_splice sp = { .tsval_delta = 0x20, .tsecr_delta = 0x30 };
	const __u8 opts[] = { 1, 1, 8, 10, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x10 };
	struct hdr h = hdr_of(0, 0, ACK, 1, opts, sizeof(opts)), orig = h;

	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_arr_eq(h.b, orig.b, h.len, "without LIMPET_SPLICE_TS: untouched");

	sp.flags = LIMPET_SPLICE_TS;
	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get32(&h, 24), 0x10, "TSval += tsval_delta, wrapping");
	cr_expect_eq(get32(&h, 28), 0xffffffe0, "TSecr -= tsecr_delta, wrapping");

	/* A TS option of the wrong length is skipped, not translated. */
	{
		const __u8 bad[] = { 8, 8, 0, 0, 0, 1, 0, 0, 1, 1 };
		struct hdr hb = hdr_of(0, 0, ACK, 1, bad, sizeof(bad)), ob = hb;

		limpet_splice_tcp(&sp, hb.b, hb.len);
		cr_expect_arr_eq(hb.b, ob.b, hb.len);
	}
}

/* A cluster node's connection: its TSvals name it, the echoes lose the name. */
Test(splice, timestamps_name_the_node)
{
	struct limpet_splice sp = { .tsval_delta = 0x20, .tsecr_delta = 0x30,
				    .flags = LIMPET_SPLICE_TS, .ts_bits = 2, .ts_id = 3 };
	const __u8 opts[] = { 1, 1, 8, 10, 0xff, 0xff, 0xff, 0xf0, 0, 0, 0, 0x13 };
	struct hdr h = hdr_of(0, 0, ACK, 1, opts, sizeof(opts));

	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get32(&h, 24), 0x13, "TSval += tsval_delta, low bits the node's");
	cr_expect_eq(get32(&h, 28), 0xffffffe0, "TSecr: the node's bits cleared, -= tsecr_delta");
}

/* limpet_splice_bind() gives both directions the binding node's tag. */
Test(splice, bind_tags_both_directions)
{
	struct limpet_ts_tag tag = { .bits = 1, .id = 1 };
	struct limpet_splice fwd, ret;
	struct limpet_tcpopt b;

	limpet_tcpopt_init(&b);
	b.ts_ok = 1;
	b.tsval = 1000;
	limpet_splice_bind(&fwd, &ret, 5000, true, 0x7001, LIMPET_WSCALE_NONE, 9000, &b, tag);
	cr_expect(fwd.ts_bits == 1 && fwd.ts_id == 1 && ret.ts_bits == 1 && ret.ts_id == 1);
	cr_expect_eq(ret.tsval_delta, 0x7001 - 1000);
	/* The backend's SYN-ACK TSval reaches the client as the cookie's. */
	cr_expect_eq(limpet_ts_tag(b.tsval + ret.tsval_delta, tag), 0x7001);
	limpet_splice_bind(&fwd, &ret, 5000, false, 0x7001, LIMPET_WSCALE_NONE, 9000, &b, tag);
	cr_expect(!fwd.ts_bits && !ret.ts_bits, "no timestamps: nothing to tag");
}

/*
 * A binding whose SYN took ISN client ISN + shift (a client without
 * timestamps on a cluster): the client's bytes land at the backend shifted,
 * the backend's acks of them reach the client unshifted.
 */
Test(splice, backend_isn_shift)
{
	struct limpet_ts_tag tag = { .bits = 1, .id = 1 };
	struct limpet_splice fwd, ret;
	struct limpet_tcpopt b;
	__u32 client_isn = 0x12345678, shift = limpet_isn_tag(client_isn, tag) - client_isn;

	limpet_tcpopt_init(&b);
	limpet_splice_bind(&fwd, &ret, 5000, false, 0, LIMPET_WSCALE_NONE, 9000, &b, tag);
	limpet_splice_shift_backend(&fwd, &ret, shift);
	cr_expect_eq(limpet_splice_seq(&fwd, client_isn + 1), 0x92345679,
		     "the client's first byte at our SYN's ISN + 1");
	cr_expect_eq(limpet_splice_ack(&ret, 0x92345679 + 100), client_isn + 1 + 100);
	cr_expect_eq(limpet_isn_node(limpet_splice_seq(&fwd, client_isn + 1 + 100), tag), 1,
		     "the backend's acks name the node");
	cr_expect_eq(limpet_splice_ack(&fwd, 5001), 9001, "the other side untouched");
	cr_expect_eq(limpet_splice_seq(&ret, 9001), 5001);
}

Test(splice, window_values)
{
	struct limpet_splice sp = { .wscale_in = 7, .wscale_out = 7 };

	cr_expect_eq(limpet_splice_window(&sp, 0), 0);
	cr_expect_eq(limpet_splice_window(&sp, 1234), 1234, "7 -> 7 unchanged");
	cr_expect_eq(limpet_splice_window(&sp, 0xffff), 0xffff);

	sp.wscale_in = 9;
	cr_expect_eq(limpet_splice_window(&sp, 1000), 4000, "9 -> 7 multiplies by 4");
	cr_expect_eq(limpet_splice_window(&sp, 0x3fff), 0xfffc);
	cr_expect_eq(limpet_splice_window(&sp, 0x4000), 0xffff, "capped");
	cr_expect_eq(limpet_splice_window(&sp, 0xffff), 0xffff, "capped");
	cr_expect_eq(limpet_splice_window(&sp, 0), 0, "closed stays closed");

	sp.wscale_in = 7;
	sp.wscale_out = 9;
	cr_expect_eq(limpet_splice_window(&sp, 4000), 1000, "7 -> 9 divides by 4");
	cr_expect_eq(limpet_splice_window(&sp, 4003), 1000, "rounds down");
	cr_expect_eq(limpet_splice_window(&sp, 3), 1, "an open window never closes");
	cr_expect_eq(limpet_splice_window(&sp, 0), 0);

	/* The extremes: 14 -> 0 caps, 0 -> 14 keeps a byte open. */
	sp.wscale_in = 14;
	sp.wscale_out = 0;
	cr_expect_eq(limpet_splice_window(&sp, 3), 0xc000);
	cr_expect_eq(limpet_splice_window(&sp, 4), 0xffff);
	sp.wscale_in = 0;
	sp.wscale_out = 14;
	cr_expect_eq(limpet_splice_window(&sp, 0xffff), 3);
	cr_expect_eq(limpet_splice_window(&sp, 0x3fff), 1);
	cr_expect_eq(limpet_splice_window(&sp, 1), 1);
}

Test(splice, window_in_header)
{
	struct limpet_splice sp = { .wscale_in = 9, .wscale_out = 7 };
	struct hdr h = hdr_of(0, 0, ACK, 1000, NULL, 0);

	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get_win(&h), 1000, "no LIMPET_SPLICE_WINDOW: untouched");

	sp.flags = LIMPET_SPLICE_WINDOW;
	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get_win(&h), 4000);

	/* A SYN's window is never scaled (RFC 7323 2.2). */
	h = hdr_of(0, 0, SYN | ACK, 1000, NULL, 0);
	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get_win(&h), 1000, "SYN-ACK");
	h = hdr_of(0, 0, SYN, 1000, NULL, 0);
	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get_win(&h), 1000, "SYN");
}

/* ---- the option walk's stopping rules ---- */

/* <opts> then a TS option: is the TS translated? */
static bool ts_reached(const __u8 *opts, size_t n)
{
	struct limpet_splice sp = { .tsval_delta = 1, .flags = LIMPET_SPLICE_TS };
	__u8 all[40];
	struct hdr h;

	cr_assert_leq(n + 10, sizeof(all));
	if (n)
		memcpy(all, opts, n);
	memcpy(all + n, (const __u8[]){ 8, 10, 0, 0, 0, 0x41, 0, 0, 0, 0 }, 10);
	h = hdr_of(0, 0, ACK, 1, all, n + 10);
	limpet_splice_tcp(&sp, h.b, h.len);
	cr_assert_eq(h.b[LIMPET_TCP_HDR_MIN + n], 8);
	return get32(&h, LIMPET_TCP_HDR_MIN + n + 2) == 0x42;
}

Test(splice, option_walk)
{
	cr_expect(ts_reached(NULL, 0));
	cr_expect(ts_reached((const __u8[]){ 1, 1 }, 2), "NOPs are skipped");
	cr_expect(ts_reached((const __u8[]){ 2, 4, 5, 0xb4 }, 4), "MSS is skipped");
	cr_expect(ts_reached((const __u8[]){ 0xfe, 4, 0, 0 }, 4), "unknown kinds are skipped");
	cr_expect(ts_reached((const __u8[]){ 5, 2 }, 2), "an empty SACK is skipped");
	cr_expect(!ts_reached((const __u8[]){ 0, 1 }, 2), "EOL ends the options");
	cr_expect(!ts_reached((const __u8[]){ 0xfe, 0 }, 2), "length 0: stop");
	cr_expect(!ts_reached((const __u8[]){ 0xfe, 1 }, 2), "length 1: stop");
}

Test(splice, option_past_header)
{
	/* A SACK option claiming more bytes than the header has: left alone,
	 * and so is what follows.
	 */
	struct limpet_splice sp = { .ack_delta = 1, .tsval_delta = 1, .flags = LIMPET_SPLICE_TS };
	__u8 opts[] = { 1, 1, 5, 34, 0, 0, 0, 9, 0, 0, 0, 9 };
	struct hdr h = hdr_of(0, 10, ACK, 1, opts, sizeof(opts)), orig = h;

	limpet_splice_tcp(&sp, h.b, h.len);
	cr_expect_eq(get32(&h, 8), 9, "the fixed part is translated");
	cr_expect_arr_eq(h.b + LIMPET_TCP_HDR_MIN, orig.b + LIMPET_TCP_HDR_MIN,
			 h.len - LIMPET_TCP_HDR_MIN);

	/* A length byte past the header: the last option byte is a kind. */
	{
		__u8 o2[] = { 1, 1, 1, 5 };
		struct hdr h2 = hdr_of(0, 10, ACK, 1, o2, sizeof(o2)), orig2 = h2;

		limpet_splice_tcp(&sp, h2.b, h2.len);
		cr_expect_arr_eq(h2.b + LIMPET_TCP_HDR_MIN, orig2.b + LIMPET_TCP_HDR_MIN, 4);
	}

	/* th_len, not doff, bounds the walk: a TS beyond it is not read. */
	{
		__u8 o3[] = { 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 1 };
		struct hdr h3 = hdr_of(0, 10, ACK, 1, o3, sizeof(o3));

		limpet_splice_tcp(&sp, h3.b, LIMPET_TCP_HDR_MIN + 8);
		cr_expect_eq(get32(&h3, 24), 1);
	}
}

/* ---- round trips ---- */

/*
 * The backend's byte positions p, sent to the client through <ret> (with
 * an insertion) and acked back through <fwd>, as the slow path sets them
 * up: the client's acks come back in the backend's space.
 */
static void pair(__u32 delta, __u32 pos, __u16 len, __u32 ts_delta, struct limpet_splice *ret,
		 struct limpet_splice *fwd)
{
	*ret = (struct limpet_splice){ .seq_delta = delta, .ins_pos = pos, .ins_len = len,
				       .tsval_delta = ts_delta, .flags = LIMPET_SPLICE_TS };
	*fwd = (struct limpet_splice){ .ack_delta = delta, .ack_ins_pos = pos,
				       .ack_ins_len = len, .tsecr_delta = ts_delta,
				       .flags = LIMPET_SPLICE_TS };
}

Test(splice, round_trip_positions)
{
	struct limpet_splice ret, fwd;
	int n, k;

	for (n = 0; n < 2000; n++) {
		__u32 delta = rnd(), pos = rnd();
		__u16 len = (__u16)(rnd() % 300) + (n & 1);	/* 0 too: no insertion */

		pair(delta, pos, len, 0, &ret, &fwd);
		for (k = 0; k < 200; k++) {
			/* Within 2^30 of the insertion point either way, and
			 * right at it.
			 */
			__u32 p = k < 8 ? pos + (__u32)k - 4 : pos + (rnd() & 0x7fffffff) - 0x40000000;
			__u32 back = limpet_splice_ack(&fwd, limpet_splice_seq(&ret, p));

			cr_assert_eq(back, p,
				     "delta %#x pos %#x len %u: %#x came back as %#x", delta, pos,
				     len, p, back);
		}
	}
}

/* A backend segment [s, s + dlen) with TSval <tsv> to the client, and the
 * client's ACK + SACK of it (echoing the TSval) back; checks the backend
 * sees its own numbers.
 */
static void segment_round_trip(const struct limpet_splice *ret, const struct limpet_splice *fwd,
			       __u32 s, __u32 dlen, __u32 tsv)
{
	const __u8 ts[] = { 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
	__u32 cseq, cend, edges[2];
	__u8 opts[24];
	struct hdr h;
	size_t n;

	/* The slow path sends a segment holding the insertion point with the
	 * inserted bytes, translated as if nothing were inserted yet.
	 */
	bool holds = limpet_splice_holds_insertion(ret, s, dlen);
	struct limpet_splice r = *ret;

	if (holds)
		r.ins_len = 0;
	h = hdr_of(s, 0, ACK, 1, ts, sizeof(ts));
	limpet_put_be32(h.b + 24, tsv);
	limpet_splice_tcp(&r, h.b, h.len);
	cseq = get32(&h, 4);
	cend = cseq + dlen + (holds ? ret->ins_len : 0);

	/* The client: ACK of everything, SACK of this segment, TSecr echo. */
	memcpy(opts, ts, sizeof(ts));
	limpet_put_be32(opts + 4, 0x5555);
	limpet_put_be32(opts + 8, get32(&h, 24));
	edges[0] = cseq;
	edges[1] = cend;
	n = sack_opts(opts + 12, edges, 1);
	h = hdr_of(0x5555, cend, ACK, 1, opts, 12 + n);
	limpet_splice_tcp(fwd, h.b, h.len);
	cr_assert_eq(get32(&h, 8), s + dlen, "ack %#x, expected %#x (s %#x len %u holds %d)",
		     get32(&h, 8), s + dlen, s, dlen, holds);
	cr_assert_eq(get32(&h, 28), tsv, "TSecr %#x, expected %#x", get32(&h, 28), tsv);
	cr_assert_eq(get32(&h, 36), s, "SACK left %#x, expected %#x", get32(&h, 36), s);
	cr_assert_eq(get32(&h, 40), s + dlen, "SACK right %#x, expected %#x", get32(&h, 40),
		     s + dlen);
}

Test(splice, round_trip_segments)
{
	struct limpet_splice ret, fwd;
	int n, k;

	/* Named: before, ending at, holding, starting at and after ins_pos. */
	pair(0x12345678, 1000, 24, 777, &ret, &fwd);
	segment_round_trip(&ret, &fwd, 500, 100, 1);
	segment_round_trip(&ret, &fwd, 900, 100, 2);
	segment_round_trip(&ret, &fwd, 990, 100, 3);
	segment_round_trip(&ret, &fwd, 1000, 100, 4);
	segment_round_trip(&ret, &fwd, 1001, 100, 5);
	segment_round_trip(&ret, &fwd, 5000, 1448, 6);

	for (n = 0; n < 2000; n++) {
		__u32 delta = rnd(), pos = rnd(), tsd = rnd();
		__u16 len = (__u16)(rnd() % 256) + 1;

		pair(delta, pos, len, tsd, &ret, &fwd);
		for (k = 0; k < 20; k++) {
			__u32 dlen = rnd() % 1449;
			__u32 s = pos + (rnd() % 200000) - 100000;

			if (k == 0)
				s = pos;
			else if (k == 1)
				s = pos - dlen;
			segment_round_trip(&ret, &fwd, s, dlen, rnd());
		}
	}
}
