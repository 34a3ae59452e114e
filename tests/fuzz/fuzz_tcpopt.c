// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_tcpopt.c - libFuzzer target of TCP option parsing and the
 * SYN-cookie option codec (include/limpet_tcpopt.h).
 *
 *   byte 0     the header length selector (doff 5-15)
 *   bytes 1-2  parameters of the codec checks
 *   then       the 60 header bytes (short inputs padded with zeros) and
 *              what fills the parser's slack
 *
 * Parsing is compared with a plain reading of the kernel's
 * tcp_parse_options() written here, and must not depend on the slack after
 * the header; every step stays within the header and the steps end within
 * LIMPET_TCPOPT_MAX_STEPS. The SYN-ACK options our cookie sends parse back
 * to what they were made from, and the TSval cookie decodes to what was
 * encoded and re-encodes to the value decoded.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "limpet_tcpopt.h"

/* tcp_parse_options() as the kernel reads a SYN, in the plainest C. */
static void reference(const __u8 *th, __u32 th_len, struct limpet_tcpopt *o)
{
	__u32 off = LIMPET_TCP_HDR_MIN, len;
	__u8 kind;

	limpet_tcpopt_init(o);
	while (off < th_len) {
		kind = th[off];
		if (kind == LIMPET_TCPOPT_EOL)
			return;
		if (kind == LIMPET_TCPOPT_NOP) {
			off++;
			continue;
		}
		if (off + 1 >= th_len)
			return;
		len = th[off + 1];
		if (len < 2 || len > th_len - off)
			return;
		if (kind == LIMPET_TCPOPT_MSS && len == 4)
			o->mss = (__u16)(th[off + 2] << 8 | th[off + 3]);
		else if (kind == LIMPET_TCPOPT_WSCALE && len == 3)
			o->wscale = th[off + 2] > 14 ? 14 : th[off + 2];
		else if (kind == LIMPET_TCPOPT_SACK_PERM && len == 2)
			o->sack_ok = 1;
		else if (kind == LIMPET_TCPOPT_TS && len == 10) {
			o->ts_ok = 1;
			o->tsval = limpet_get_be32(th + off + 2);
			o->tsecr = limpet_get_be32(th + off + 6);
		}
		off += len;
	}
}

static void parse_with_slack(const __u8 *th, __u32 th_len, const __u8 *slack, size_t n,
			     struct limpet_tcpopt *out)
{
	struct limpet_tcpopt_parser p;
	__u32 i, last = LIMPET_TCP_HDR_MIN;
	int done = 0;

	memset(&p, 0, sizeof(p));
	memcpy(p.buf, th, th_len);
	/* Anything after the header: the parser must not read it as options. */
	if (n > sizeof(p.buf) - th_len)
		n = sizeof(p.buf) - th_len;
	memcpy(p.buf + th_len, slack, n);
	p.off = LIMPET_TCP_HDR_MIN;
	p.end = th_len;
	limpet_tcpopt_init(&p.opt);
	for (i = 0; i < LIMPET_TCPOPT_MAX_STEPS && !done; i++) {
		done = limpet_tcpopt_step(&p);
		FUZZ_CHECK(p.off <= th_len, "step %u left off at %u of %u", i, p.off, th_len);
		FUZZ_CHECK(done || p.off > last, "step %u made no progress", i);
		last = p.off;
	}
	FUZZ_CHECK(done || limpet_tcpopt_step(&p), "options go on past %u steps",
		   LIMPET_TCPOPT_MAX_STEPS);
	*out = p.opt;
}

static void check_codec(__u8 a, __u8 b, const __u8 *th)
{
	struct limpet_tcpopt client, back;
	struct limpet_tscookie tc;
	struct limpet_ts_tag tag;
	__u8 hdr[LIMPET_TCP_HDR_MAX];
	__u32 now = limpet_get_be32(th + 4), tsval, len, word = limpet_get_be32(th + 8);
	__u8 mss_index = a & 3, wscale = (a >> 2) & 15, expect_ws;
	bool v6 = a & 0x40, ecn = a & 0x80;
	__u16 mss = (__u16)(th[12] << 8 | th[13]);

	/* What a SYN can offer: a shift 0-14, or none. */
	limpet_tcpopt_init(&client);
	client.wscale = wscale > LIMPET_TCP_MAX_WSCALE ? LIMPET_WSCALE_NONE : wscale;
	client.sack_ok = b & 1;
	client.ts_ok = !!(b & 2);
	client.tsval = client.ts_ok ? limpet_get_be32(th + 16) : 0;

	/* A lone node, or one of a cluster of up to 64. */
	tag.bits = (b >> 2) % (LIMPET_TS_TAG_MAX_BITS + 1);
	tag.id = (now >> 24) & limpet_ts_tag_mask(tag);
	tsval = limpet_tscookie_encode(now, &client, ecn, mss_index, tag);
	limpet_tscookie_decode(tsval, tag, &tc);
	FUZZ_CHECK(tc.clock_ms == (now & limpet_tscookie_clock_mask(tag)), "clock");
	FUZZ_CHECK(tc.wscale == client.wscale && tc.sack_ok == client.sack_ok && tc.ecn_ok == ecn &&
			   tc.mss_index == mss_index && tc.node == tag.id,
		   "tscookie does not round trip");

	/* Any TSecr decodes to fields in range that encode back to it. */
	limpet_tscookie_decode(word, tag, &tc);
	FUZZ_CHECK(tc.wscale <= LIMPET_TCP_MAX_WSCALE || tc.wscale == LIMPET_WSCALE_NONE,
		   "wscale %u", tc.wscale);
	FUZZ_CHECK(tc.mss_index < LIMPET_MSS_INDEXES && tc.sack_ok <= 1 && tc.ecn_ok <= 1,
		   "decoded fields out of range");
	back = (struct limpet_tcpopt){ .wscale = tc.wscale, .sack_ok = tc.sack_ok };
	tag.id = tc.node;
	FUZZ_CHECK(limpet_tscookie_encode(tc.clock_ms, &back, tc.ecn_ok, tc.mss_index, tag) == word,
		   "tsecr %#x does not re-encode", word);

	/* The MSS table: the largest entry not above <mss>. */
	mss_index = limpet_cookie_mss_index(mss, v6);
	FUZZ_CHECK(mss_index < LIMPET_MSS_INDEXES, "index %u", mss_index);
	FUZZ_CHECK(!mss_index || limpet_cookie_mss(mss_index, v6) <= mss, "entry above the MSS");
	FUZZ_CHECK(mss_index == LIMPET_MSS_INDEXES - 1 ||
			   limpet_cookie_mss(mss_index + 1, v6) > mss,
		   "not the largest entry");

	/* Our SYN-ACK's options parse back to what they say. */
	memset(hdr, 0, sizeof(hdr));
	len = limpet_synack_options(hdr + LIMPET_TCP_HDR_MIN, &client, mss, (__u8)(b >> 4), tsval);
	FUZZ_CHECK(len == 4 || len == 8 || len == 12 || len == 16 || len == 20,
		   "synack options %u bytes", len);
	limpet_tcpopt_parse(hdr, LIMPET_TCP_HDR_MIN + len, &back);
	/* With timestamps or limpet's own cookie alike: what was offered. */
	expect_ws = client.wscale != LIMPET_WSCALE_NONE ? ((b >> 4) > 14 ? 14 : (b >> 4)) :
							  LIMPET_WSCALE_NONE;
	FUZZ_CHECK(back.mss == mss, "mss %u of %u", back.mss, mss);
	FUZZ_CHECK(back.ts_ok == client.ts_ok, "timestamps");
	FUZZ_CHECK(back.sack_ok == client.sack_ok, "sack");
	FUZZ_CHECK(back.wscale == expect_ws, "wscale %u, want %u", back.wscale, expect_ws);
	if (client.ts_ok)
		FUZZ_CHECK(back.tsval == tsval && back.tsecr == client.tsval, "timestamp values");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct limpet_tcpopt a, b, c;
	__u8 th[LIMPET_TCP_HDR_MAX], sel = fuzz_u8(&in), p1 = fuzz_u8(&in), p2 = fuzz_u8(&in);
	__u32 th_len = (LIMPET_TCP_HDR_MIN / 4 + sel % 11) * 4;
	const __u8 *bytes, *slack;
	size_t n, ns;

	memset(th, 0, sizeof(th));
	bytes = fuzz_bytes(&in, sizeof(th), &n);
	memcpy(th, bytes, n);
	slack = fuzz_bytes(&in, LIMPET_TCPOLEN_TS, &ns);

	limpet_tcpopt_parse(th, th_len, &a);
	reference(th, th_len, &b);
	FUZZ_CHECK(!memcmp(&a, &b, sizeof(a)), "differs from tcp_parse_options()");
	FUZZ_CHECK(a.wscale <= LIMPET_TCP_MAX_WSCALE || a.wscale == LIMPET_WSCALE_NONE,
		   "wscale %u", a.wscale);
	FUZZ_CHECK(a.sack_ok <= 1 && a.ts_ok <= 1, "flags");
	FUZZ_CHECK(a.ts_ok || (!a.tsval && !a.tsecr), "timestamp values without the option");
	parse_with_slack(th, th_len, slack, ns, &c);
	FUZZ_CHECK(!memcmp(&a, &c, sizeof(a)), "the slack after the header was read");

	check_codec(p1, p2, th);
	return 0;
}
