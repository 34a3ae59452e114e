/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_tcpopt.c - Criterion tests of include/limpet_tcpopt.h, the option
 * parser, timestamp-cookie codec and SYN-ACK option writer that the XDP
 * SYN-cookie front end runs and the slow path will run.
 *
 * Named cases pin down the kernel's tcp_parse_options() behaviour the
 * parser follows (EOL, bad lengths, truncation, wrong length per kind,
 * shift capping). A randomised case compares the parser with a reference
 * written here in the plainest way, over option bytes biased towards the
 * interesting kinds and lengths. The codec is checked exhaustively over its
 * six bits, and the writer byte for byte, then parsed back.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "limpet_tcpopt.h"

/* A TCP header whose options are <opts> (padded with EOL to 4 bytes). */
struct hdr {
	__u8 b[LIMPET_TCP_HDR_MAX];
	__u32 len;
};

static struct hdr hdr_of(const __u8 *opts, size_t n)
{
	struct hdr h;

	cr_assert_leq(n, LIMPET_TCP_HDR_MAX - LIMPET_TCP_HDR_MIN);
	memset(&h, 0, sizeof(h));
	memcpy(h.b + LIMPET_TCP_HDR_MIN, opts, n);
	h.len = LIMPET_TCP_HDR_MIN + (n + 3) / 4 * 4;
	h.b[12] = (__u8)(h.len / 4) << 4;
	return h;
}

static struct limpet_tcpopt parse(const __u8 *opts, size_t n)
{
	struct hdr h = hdr_of(opts, n);
	struct limpet_tcpopt o;

	memset(&o, 0xa5, sizeof(o));	/* everything must be written */
	limpet_tcpopt_parse(h.b, h.len, &o);
	return o;
}

#define PARSE(...)                                   \
	({                                           \
		const __u8 _o[] = { __VA_ARGS__ };   \
		parse(_o, sizeof(_o));               \
	})

static void expect_opt(const struct limpet_tcpopt *o, __u16 mss, __u8 wscale, __u8 sack,
		       __u8 ts, __u32 tsval, __u32 tsecr)
{
	cr_expect_eq(o->mss, mss, "mss %u, expected %u", o->mss, mss);
	cr_expect_eq(o->wscale, wscale, "wscale %u, expected %u", o->wscale, wscale);
	cr_expect_eq(o->sack_ok, sack, "sack_ok %u, expected %u", o->sack_ok, sack);
	cr_expect_eq(o->ts_ok, ts, "ts_ok %u, expected %u", o->ts_ok, ts);
	if (ts) {
		cr_expect_eq(o->tsval, tsval, "tsval %#x, expected %#x", o->tsval, tsval);
		cr_expect_eq(o->tsecr, tsecr, "tsecr %#x, expected %#x", o->tsecr, tsecr);
	} else {
		cr_expect(o->tsval == 0 && o->tsecr == 0, "timestamps without ts_ok");
	}
}

#define NONE LIMPET_WSCALE_NONE

Test(tcpopt, common_syns)
{
	struct limpet_tcpopt o;

	/* Linux: MSS, SACK-perm, TS, NOP, WS. */
	o = PARSE(2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 0, 1, 3, 3, 7);
	expect_opt(&o, 1460, 7, 1, 1, 0x11223344, 0);
	/* Windows: MSS, NOP, WS, NOP, NOP, SACK-perm. */
	o = PARSE(2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2);
	expect_opt(&o, 1460, 8, 1, 0, 0, 0);
	/* macOS: MSS, NOP, WS, NOP, NOP, TS, SACK-perm, EOL, EOL. */
	o = PARSE(2, 4, 0x05, 0xb4, 1, 3, 3, 6, 1, 1, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0,
		  4, 2, 0, 0);
	expect_opt(&o, 1460, 6, 1, 1, 0xdeadbeef, 0);
	/* An ACK with a timestamp: both values. */
	o = PARSE(1, 1, 8, 10, 0, 0, 0, 9, 0x80, 0, 0, 0x27);
	expect_opt(&o, 0, NONE, 0, 1, 9, 0x80000027);
}

Test(tcpopt, no_options)
{
	struct limpet_tcpopt o = parse((const __u8[]){ 0 }, 0);

	expect_opt(&o, 0, NONE, 0, 0, 0, 0);
}

Test(tcpopt, eol_ends_the_list)
{
	struct limpet_tcpopt o = PARSE(2, 4, 0x02, 0x18, 0, 1, 3, 3, 7, 0, 0, 0);

	expect_opt(&o, 536, NONE, 0, 0, 0, 0);
}

Test(tcpopt, bad_length_stops_keeping_what_came_before)
{
	struct limpet_tcpopt o;

	/* Length 0 and 1 would loop or overlap: stop there. */
	o = PARSE(2, 4, 0x05, 0xb4, 3, 0, 3, 7);
	expect_opt(&o, 1460, NONE, 0, 0, 0, 0);
	o = PARSE(4, 2, 3, 1, 1, 3, 3, 7);
	expect_opt(&o, 0, NONE, 1, 0, 0, 0);
	/* A timestamp running past the header is not read at all. */
	o = PARSE(2, 4, 0x05, 0xb4, 8, 10, 1, 2, 3, 4, 5, 6);
	expect_opt(&o, 1460, NONE, 0, 0, 0, 0);
	/* A kind in the last byte has no length byte. */
	o = PARSE(4, 2, 1, 3);
	expect_opt(&o, 0, NONE, 1, 0, 0, 0);
	/* A length of exactly the bytes left is fine. */
	o = PARSE(1, 1, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2);
	expect_opt(&o, 0, NONE, 1, 1, 1, 2);
}

Test(tcpopt, wrong_length_for_kind_is_skipped)
{
	struct limpet_tcpopt o;

	/* MSS of length 5, WS of length 4, SACK-perm of length 3, TS of 12. */
	o = PARSE(2, 5, 0x05, 0xb4, 0, 3, 4, 9, 0, 4, 3, 0, 8, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
		  3, 3, 5);
	expect_opt(&o, 0, 5, 0, 0, 0, 0);
}

Test(tcpopt, unknown_kinds_are_skipped)
{
	/* TFO cookie (34), MD5 (19) are stepped over. */
	struct limpet_tcpopt o = PARSE(34, 4, 0xaa, 0xbb, 19, 6, 1, 2, 3, 4, 2, 4, 0x04, 0x00);

	expect_opt(&o, 1024, NONE, 0, 0, 0, 0);
}

Test(tcpopt, shift_capped_mss_zero_last_wins)
{
	struct limpet_tcpopt o;

	o = PARSE(3, 3, 15, 0);
	expect_opt(&o, 0, 14, 0, 0, 0, 0);
	o = PARSE(3, 3, 255, 0);
	expect_opt(&o, 0, 14, 0, 0, 0, 0);
	o = PARSE(3, 3, 14, 0);
	expect_opt(&o, 0, 14, 0, 0, 0, 0);
	o = PARSE(3, 3, 0, 0);
	expect_opt(&o, 0, 0, 0, 0, 0, 0);
	o = PARSE(2, 4, 0, 0);
	expect_opt(&o, 0, NONE, 0, 0, 0, 0);
	/* A repeated option: the later one counts, as in the kernel. */
	o = PARSE(2, 4, 0x05, 0xb4, 2, 4, 0x02, 0x18);
	expect_opt(&o, 536, NONE, 0, 0, 0, 0);
}

Test(tcpopt, forty_nops_and_header_length_limits)
{
	__u8 nops[40];
	struct limpet_tcpopt o;
	struct hdr h;

	memset(nops, 1, sizeof(nops));
	o = parse(nops, sizeof(nops));
	expect_opt(&o, 0, NONE, 0, 0, 0, 0);
	/* 39 NOPs then a WS whose value byte lies past 60: not read. */
	nops[39] = 3;
	o = parse(nops, sizeof(nops));
	expect_opt(&o, 0, NONE, 0, 0, 0, 0);

	/* Options are only read up to the header length given. */
	h = hdr_of((const __u8[]){ 2, 4, 0x05, 0xb4, 3, 3, 7, 0 }, 8);
	limpet_tcpopt_parse(h.b, 24, &o);
	expect_opt(&o, 1460, NONE, 0, 0, 0, 0);
	limpet_tcpopt_parse(h.b, 20, &o);
	expect_opt(&o, 0, NONE, 0, 0, 0, 0);
	limpet_tcpopt_parse(h.b, 0, &o);
	expect_opt(&o, 0, NONE, 0, 0, 0, 0);
}

/* The parser through limpet_tcpopt_step() directly, as BPF drives it: an
 * end beyond 60 or garbage in the slack never reads outside the header.
 */
Test(tcpopt, step_bounds)
{
	struct limpet_tcpopt_parser p;
	int steps;

	memset(&p, 0, sizeof(p));
	memset(p.buf, 1, sizeof(p.buf));	/* NOPs, slack included */
	p.buf[58] = 2;				/* MSS at 58, its value in the slack */
	p.buf[59] = 4;
	p.off = LIMPET_TCP_HDR_MIN;
	p.end = 200;
	limpet_tcpopt_init(&p.opt);
	for (steps = 0; steps < 100 && !limpet_tcpopt_step(&p); steps++)
		;
	cr_expect_eq(steps, 38, "%d steps", steps);
	cr_expect_eq(p.opt.mss, 0);
	p.off = 1000;
	cr_expect_eq(limpet_tcpopt_step(&p), 1);
}

/* ---- against a reference ---- */

static __u64 rng_state;

static __u32 rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (__u32)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static __u32 be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

/* tcp_parse_options() restated, for a SYN. */
static void ref_parse(const __u8 *opt, int length, struct limpet_tcpopt *o)
{
	memset(o, 0, sizeof(*o));
	o->wscale = NONE;
	while (length > 0) {
		int opcode = *opt++, opsize;

		switch (opcode) {
		case 0:
			return;
		case 1:
			length--;
			continue;
		default:
			if (length < 2)
				return;
			opsize = *opt++;
			if (opsize < 2 || opsize > length)
				return;
			if (opcode == 2 && opsize == 4)
				o->mss = (__u16)(opt[0] << 8 | opt[1]);
			else if (opcode == 3 && opsize == 3)
				o->wscale = opt[0] > 14 ? 14 : opt[0];
			else if (opcode == 4 && opsize == 2)
				o->sack_ok = 1;
			else if (opcode == 8 && opsize == 10) {
				o->ts_ok = 1;
				o->tsval = be32(opt);
				o->tsecr = be32(opt + 4);
			}
			opt += opsize - 2;
			length -= opsize;
		}
	}
}

#define RANDOM_CASES 200000

Test(tcpopt, random_against_reference)
{
	static const __u8 kinds[] = { 0, 1, 1, 2, 3, 4, 8, 8, 19, 30, 34, 254 };
	static const __u8 lens[] = { 0, 1, 2, 3, 4, 10, 40, 41, 255 };
	int i, j;

	rng_state = 0x7463706f70742121ull;
	for (i = 0; i < RANDOM_CASES; i++) {
		__u8 opts[40];
		struct limpet_tcpopt got, want;
		size_t n = 4 * (rnd() % 11);
		struct hdr h;

		for (j = 0; j < (int)n; j++) {
			switch (rnd() % 4) {
			case 0:
				opts[j] = kinds[rnd() % sizeof(kinds)];
				break;
			case 1:
				opts[j] = lens[rnd() % sizeof(lens)];
				break;
			default:
				opts[j] = rnd();
			}
		}
		h = hdr_of(opts, n);
		limpet_tcpopt_parse(h.b, h.len, &got);
		ref_parse(h.b + LIMPET_TCP_HDR_MIN, (int)n, &want);
		cr_assert(!memcmp(&got, &want, sizeof(got)),
			  "case %d: parser and reference disagree (mss %u/%u ws %u/%u sack %u/%u "
			  "ts %u/%u)",
			  i, got.mss, want.mss, got.wscale, want.wscale, got.sack_ok, want.sack_ok,
			  got.ts_ok, want.ts_ok);
	}
}

/* ---- the timestamp cookie ---- */

static const struct limpet_ts_tag LONE = { 0 };

Test(tcpopt, tscookie_round_trip)
{
	struct limpet_tcpopt o;
	struct limpet_tscookie c;
	__u32 ws, sack, ecn, v, now = 0x12345678;

	limpet_tcpopt_init(&o);
	for (ws = 0; ws <= 15; ws++) {
		for (sack = 0; sack <= 1; sack++) {
			for (ecn = 0; ecn <= 1; ecn++) {
				o.wscale = ws == 15 ? NONE : ws;
				o.sack_ok = sack;
				v = limpet_tscookie_encode(now, &o, ecn, (ws + sack) & 3, LONE);
				cr_assert_eq(v & ~0xffu, now & ~0xffu, "clock bits");
				cr_assert_eq(v & 0xff,
					     ws | sack << 4 | ecn << 5 | ((ws + sack) & 3) << 6,
					     "%#x", v);
				limpet_tscookie_decode(v, LONE, &c);
				cr_assert_eq(c.clock_ms, now & ~0xffu);
				cr_assert_eq(c.mss_index, (ws + sack) & 3);
				cr_assert_eq(c.wscale, ws == 15 ? NONE : ws);
				cr_assert_eq(c.sack_ok, sack);
				cr_assert_eq(c.ecn_ok, ecn);
			}
		}
	}
}

Test(tcpopt, tscookie_layout_is_the_kernels)
{
	struct limpet_tcpopt o;
	struct limpet_tscookie c;

	/* net/ipv4/syncookies.c: TS_OPT_WSCALE_MASK 0xf, TS_OPT_SACK 1 << 4,
	 * TS_OPT_ECN 1 << 5; then ours: the MSS index in bits 6-7.
	 */
	limpet_tcpopt_init(&o);
	cr_expect_eq(limpet_tscookie_encode(0xffffffff, &o, false, 0, LONE), 0xffffff0f);
	o.wscale = 7;
	o.sack_ok = 1;
	cr_expect_eq(limpet_tscookie_encode(1000, &o, true, 3, LONE), (1000u & ~255u) | 7 | 16 | 32 | 192);
	limpet_tscookie_decode(0x100 | 0x80 | 0x1e, LONE, &c);
	cr_expect(c.clock_ms == 0x100 && c.wscale == 14 && c.sack_ok && !c.ecn_ok &&
		  c.mss_index == 2);
}

/* On a cluster the node's id sits below the state, which moves up. */
Test(tcpopt, tscookie_names_the_node)
{
	struct limpet_tcpopt o;
	struct limpet_tscookie c;
	struct limpet_ts_tag tag;
	__u32 v, now = 0x89abcdef, bits, id;

	limpet_tcpopt_init(&o);
	o.wscale = 9;
	o.sack_ok = 1;
	for (bits = 1; bits <= LIMPET_TS_TAG_MAX_BITS; bits++) {
		for (id = 0; id < 1u << bits; id++) {
			tag.bits = bits;
			tag.id = id;
			v = limpet_tscookie_encode(now, &o, true, 2, tag);
			cr_assert_eq(v & ((1u << bits) - 1), id, "bits %u id %u: %#x", bits, id, v);
			cr_assert_eq(v >> bits & 0xff, 9 | 16 | 32 | 2 << 6, "%#x", v);
			cr_assert_eq(v & ~((0x100u << bits) - 1), now & ~((0x100u << bits) - 1));
			cr_assert_eq(limpet_ts_node(v, tag), id);
			limpet_tscookie_decode(v, tag, &c);
			cr_assert(c.wscale == 9 && c.sack_ok && c.ecn_ok && c.mss_index == 2 &&
				  c.node == id && c.clock_ms == (now & ~((0x100u << bits) - 1)));
		}
	}
}

/* A tagged clock never goes back, and its echo, untagged, is never newer. */
Test(tcpopt, ts_tag_keeps_clocks_monotonic)
{
	struct limpet_ts_tag tag = { .bits = 3, .id = 5 };
	__u32 t, prev = 0;

	for (t = 0xfffffff0u; t != 0x20; t++) {
		__u32 v = limpet_ts_tag(t, tag);

		cr_assert_eq(limpet_ts_node(v, tag), 5);
		cr_assert(limpet_ts_untag(v, tag) - t + 7 <= 7, "untag %#x of %#x", v, t);
		if (t != 0xfffffff0u)
			cr_assert((__s32)(v - prev) >= 0, "%#x then %#x", prev, v);
		prev = v;
	}
	tag.bits = 0;
	cr_assert_eq(limpet_ts_tag(0x12345677, tag), 0x12345677);
	cr_assert_eq(limpet_ts_untag(0x12345677, tag), 0x12345677);
}

/*
 * Without timestamps the node is in the top bits of the ISN, the bit below
 * clear: every ack up to 2^(31 - bits) bytes past it still names the node.
 */
Test(tcpopt, isn_tag_names_the_node)
{
	struct limpet_ts_tag tag;
	__u32 bits, id, isn;

	for (bits = 1; bits <= LIMPET_TS_TAG_MAX_BITS; bits++) {
		for (id = 0; id < (1u << bits); id++) {
			tag.bits = (__u8)bits;
			tag.id = (__u8)id;
			cr_assert_eq(limpet_isn_width(tag), 31 - bits);
			for (isn = 0; isn < 0xf0000000u; isn += 0x0f0f0f0fu) {
				__u32 v = limpet_isn_tag(isn, tag);

				cr_assert_eq(limpet_isn_node(v, tag), id);
				cr_assert_eq(v & ((1u << (31 - bits)) - 1),
					     isn & ((1u << (31 - bits)) - 1), "low bits kept");
				cr_assert_eq(limpet_isn_node(v + (1u << (31 - bits)), tag), id,
					     "bits %u id %u isn %#x", bits, id, isn);
				cr_assert_eq(limpet_isn_tag(v, tag), v);
			}
		}
	}
	tag.bits = 0;
	tag.id = 0;
	cr_assert_eq(limpet_isn_tag(0xdeadbeef, tag), 0xdeadbeef, "a lone node keeps the ISN");
	cr_assert_eq(limpet_isn_node(0xdeadbeef, tag), 0);
}

Test(tcpopt, cookie_mss_table)
{
	/* Each table value maps to its own index, values between round down. */
	for (__u8 i = 0; i < LIMPET_MSS_INDEXES; i++) {
		cr_expect_eq(limpet_cookie_mss_index(limpet_cookie_mss(i, false), false), i);
		cr_expect_eq(limpet_cookie_mss_index(limpet_cookie_mss(i, true), true), i);
	}
	cr_expect_eq(limpet_cookie_mss_index(1459, false), 2);
	cr_expect_eq(limpet_cookie_mss_index(9000, false), 3);
	cr_expect_eq(limpet_cookie_mss_index(100, false), 0);
	cr_expect_eq(limpet_cookie_mss(3, true), 8940);
}

/* ---- the SYN-ACK's options ---- */

static struct limpet_tcpopt client(__u8 ts, __u8 sack, __u8 ws)
{
	struct limpet_tcpopt o;

	limpet_tcpopt_init(&o);
	o.mss = 1460;
	o.ts_ok = ts;
	o.sack_ok = sack;
	o.wscale = ws;
	if (ts) {
		o.tsval = 0xa1b2c3d4;
		o.tsecr = 0;
	}
	return o;
}

static void check_synack(const struct limpet_tcpopt *c, const __u8 *want, __u32 want_len)
{
	__u8 out[LIMPET_SYNACK_OPT_MAX + 4];
	struct limpet_tcpopt back;
	struct hdr h;
	__u32 len;

	memset(out, 0xee, sizeof(out));
	len = limpet_synack_options(out, c, 1440, 7, 0x01020304);
	cr_assert_eq(len, want_len);
	cr_assert_arr_eq(out, want, want_len, "option bytes");
	cr_assert_eq(out[want_len], 0xee, "wrote past its length");

	/* What the client will read from them. */
	h = hdr_of(out, len);
	limpet_tcpopt_parse(h.b, h.len, &back);
	cr_expect_eq(back.mss, 1440);
	cr_expect_eq(back.ts_ok, c->ts_ok);
	cr_expect_eq(back.sack_ok, c->sack_ok);
	cr_expect_eq(back.wscale, c->wscale != NONE ? 7 : NONE);
	if (c->ts_ok)
		cr_expect(back.tsval == 0x01020304 && back.tsecr == c->tsval);
}

Test(tcpopt, synack_options)
{
	struct limpet_tcpopt c;

	c = client(1, 1, 8);
	check_synack(&c, (const __u8[]){ 2, 4, 0x05, 0xa0, 4, 2, 8, 10, 1, 2, 3, 4, 0xa1, 0xb2,
					 0xc3, 0xd4, 1, 3, 3, 7 }, 20);
	c = client(1, 0, 0);
	check_synack(&c, (const __u8[]){ 2, 4, 0x05, 0xa0, 1, 1, 8, 10, 1, 2, 3, 4, 0xa1, 0xb2,
					 0xc3, 0xd4, 1, 3, 3, 7 }, 20);
	c = client(1, 1, NONE);
	check_synack(&c, (const __u8[]){ 2, 4, 0x05, 0xa0, 4, 2, 8, 10, 1, 2, 3, 4, 0xa1, 0xb2,
					 0xc3, 0xd4 }, 16);
	c = client(1, 0, NONE);
	check_synack(&c, (const __u8[]){ 2, 4, 0x05, 0xa0, 1, 1, 8, 10, 1, 2, 3, 4, 0xa1, 0xb2,
					 0xc3, 0xd4 }, 16);
	/* Without timestamps (limpet's own cookie keeps the rest): SACK and
	 * window scale all the same, at fixed offsets.
	 */
	c = client(0, 1, 8);
	check_synack(&c, (const __u8[]){ 2, 4, 0x05, 0xa0, 1, 1, 4, 2, 1, 3, 3, 7 }, 12);
	c = client(0, 0, 8);
	check_synack(&c, (const __u8[]){ 2, 4, 0x05, 0xa0, 1, 1, 1, 1, 1, 3, 3, 7 }, 12);
	c = client(0, 1, NONE);
	check_synack(&c, (const __u8[]){ 2, 4, 0x05, 0xa0, 1, 1, 4, 2 }, 8);
	c = client(0, 0, NONE);
	check_synack(&c, (const __u8[]){ 2, 4, 0x05, 0xa0 }, 4);
}
