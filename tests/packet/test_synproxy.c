/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_synproxy.c - table-driven tests of the SYN-cookie front end of HTTP
 * services (bpf/lib/synproxy.h) through bpf_prog_test_run_opts().
 *
 * A SYN to an HTTP VIP must come back as a SYN-ACK (redirected back out of its interface) in which every
 * byte that can be predicted is checked against an expectation written
 * here from the RFCs and the kernel's cookie rules, not from the code under
 * test: swapped MACs, addresses and ports, fresh IP header, ack = seq + 1,
 * flags, window, the option block byte for byte (TSval checked by its low
 * bits and its clock), checksums recomputed from scratch (pkt_verify), and
 * lengths. The ISN it carries is then proven by the kernel itself: the ACK
 * built from it must pass bpf_tcp_raw_check_syncookie_*() in the program.
 * Every step also names the global counters that must move; all others
 * must stay put. An L4 VIP beside them must still be NATed as before.
 *
 * TCP options are laid over the payload of a pkt.h frame (seg_build()):
 * pkt_build() has no options of its own.
 *
 * Runs inside the namespace of tests/packet/run.sh (make packet).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "dp/dataplane.h"
#include "dp/maps.h"
#include "limpet_hash.h"
#include "limpet_tcpopt.h"
#include "dp/maglev.h"
#include "packet/pkt.h"
#include "packet/harness.h"
#include "packet/product.h"

#define RING_SIZE 65537u
#define NBACKENDS 3
#define FLOW_ENTRIES 4096
#define CLIENT4 "10.10.0.2"
#define CLIENT6 "fd00:10::2"
#define CLIENT_SEQ 0x01020304u	/* pkt_l4()'s */
#define CLIENT_TSVAL 0x00c0ffeeu
#define OUR_WINDOW 65535

enum svc_idx {
	SVC_HTTP4,	/* http, client_ip, a header inserted: the slow path binds */
	SVC_HTTP6,
	SVC_L4,		/* TCP NAT, client_ip: the regression */
	SVC_COOKIE4,	/* http, cookie affinity: the first segment is read in XDP */
	SVC_COOKIE6,
	SVC_HEADER6,	/* http, header affinity */
	SVC_NONE4,	/* http, affinity none: bound in XDP (bpf/lib/bind.h) */
	SVC_NONE6,
	SVC_NONE4T,	/* the same, http.connect_timeout 1ms: every retransmission moves on */
	SVC_CLIENT4,	/* http, client_ip, nothing inserted: bound in XDP */
	SVC_CLIENT6,
	SVC_MAX,
};

static const struct svc {
	const char *name;
	const char *vip;
	__u8 mode;
	const char *backends[NBACKENDS];
	__u8 affinity;
} svcs[SVC_MAX] = {
	[SVC_HTTP4] = { "http4", "10.100.1.100", LIMPET_MODE_HTTP,
			{ "10.20.0.11", "10.20.0.12", "10.20.0.13" }, LIMPET_AFFINITY_CLIENT_IP },
	[SVC_HTTP6] = { "http6", "fd00:100::1:100", LIMPET_MODE_HTTP,
			{ "fd00:20::11", "fd00:20::12", "fd00:20::13" }, LIMPET_AFFINITY_CLIENT_IP },
	[SVC_L4] = { "l4", "10.100.1.101", LIMPET_MODE_L4,
		     { "10.20.0.11", "10.20.0.12", "10.20.0.13" }, LIMPET_AFFINITY_CLIENT_IP },
	[SVC_COOKIE4] = { "cookie4", "10.100.1.102", LIMPET_MODE_HTTP,
			  { "10.20.0.11", "10.20.0.12", "10.20.0.13" }, LIMPET_AFFINITY_COOKIE },
	[SVC_COOKIE6] = { "cookie6", "fd00:100::1:106", LIMPET_MODE_HTTP,
			  { "fd00:20::11", "fd00:20::12", "fd00:20::13" }, LIMPET_AFFINITY_COOKIE },
	[SVC_HEADER6] = { "header6", "fd00:100::1:102", LIMPET_MODE_HTTP,
			  { "fd00:20::11", "fd00:20::12", "fd00:20::13" }, LIMPET_AFFINITY_HEADER },
	[SVC_NONE4] = { "none4", "10.100.1.103", LIMPET_MODE_HTTP,
			{ "10.20.0.11", "10.20.0.12", "10.20.0.13" }, LIMPET_AFFINITY_NONE },
	[SVC_NONE6] = { "none6", "fd00:100::1:103", LIMPET_MODE_HTTP,
			{ "fd00:20::11", "fd00:20::12", "fd00:20::13" }, LIMPET_AFFINITY_NONE },
	[SVC_NONE4T] = { "none4t", "10.100.1.104", LIMPET_MODE_HTTP,
			 { "10.20.0.11", "10.20.0.12", "10.20.0.13" }, LIMPET_AFFINITY_NONE },
	[SVC_CLIENT4] = { "client4", "10.100.1.105", LIMPET_MODE_HTTP,
			  { "10.20.0.11", "10.20.0.12", "10.20.0.13" },
			  LIMPET_AFFINITY_CLIENT_IP },
	[SVC_CLIENT6] = { "client6", "fd00:100::1:105", LIMPET_MODE_HTTP,
			  { "fd00:20::11", "fd00:20::12", "fd00:20::13" },
			  LIMPET_AFFINITY_CLIENT_IP },
};

/* The cookie service's TTL; its keys, written to its secret_file. */
#define COOKIE_TTL_S 3600
static const struct limpet_cookie_key key_new = { .k0 = 0x0706050403020100ull,
						  .k1 = 0x0f0e0d0c0b0a0908ull, .id = 2, .valid = 1 };
static const struct limpet_cookie_key key_old = { .k0 = 0x1111, .k1 = 0x2222, .id = 1,
						  .valid = 1 };

#define VIP_PORT 80
#define BE_PORT 8080

static struct dataplane *dp;
static struct model model;
static struct http http;		/* wrote cookie_keys and http_affinity */
static char secret_file[256];
static int prog_fd, if_client, if_server;
static __u32 ids[SVC_MAX][NBACKENDS];	/* the ids dp_program() gave the backends */
static const __u32 *ring[SVC_MAX];	/* the tables it wrote */

static __u32 be_id(int s, int j)
{
	return ids[s][j];
}

/* The key file of the cookie service: key_old, then key_new (current). */
static void write_secret_file(void)
{
	char text[512];
	long long now = time(NULL);

	snprintf(text, sizeof(text), "%u %lld %016llx%016llx\n%u %lld %016llx%016llx\n",
		 key_old.id, now - 100, (unsigned long long)key_old.k0,
		 (unsigned long long)key_old.k1, key_new.id, now - 10,
		 (unsigned long long)key_new.k0, (unsigned long long)key_new.k1);
	product_write_file(secret_file, sizeof(secret_file), "secret", text);
}

/* The configuration of svcs[], as an operator would write it. */
static void services_yaml(char *y, size_t size)
{
	static const char *const affinity[] = {
		[LIMPET_AFFINITY_NONE] = "{type: none}",
		[LIMPET_AFFINITY_CLIENT_IP] = "{type: client_ip}",
		[LIMPET_AFFINITY_COOKIE] = "{type: cookie, cookie: {name: lb, ttl: 3600s}}",
		[LIMPET_AFFINITY_HEADER] = "{type: header, headers: [X-Session-Id, x-tenant], "
					   "require_all_headers: true}",
	};
	size_t at = 0;
	int s, j;

	at += snprintf(y + at, size - at, "instance: pkt\ninterfaces:\n  - name: pkc0\n"
		       "secret_file: %s\nservices:\n", secret_file);
	for (s = 0; s < SVC_MAX; s++) {
		at += snprintf(y + at, size - at,
			       "  - name: %s\n    vip: \"%s\"\n    port: %u\n    mode: %s\n"
			       "    affinity: %s\n    health: {type: none}\n    ring_size: %u\n"
			       "    backends:\n",
			       svcs[s].name, svcs[s].vip, VIP_PORT,
			       svcs[s].mode == LIMPET_MODE_HTTP ? "http" : "l4",
			       affinity[svcs[s].affinity], RING_SIZE);
		for (j = 0; j < NBACKENDS; j++)
			at += snprintf(y + at, size - at,
				       "      - {name: %s-b%d, address: \"%s\", port: %u}\n",
				       svcs[s].name, j, svcs[s].backends[j], BE_PORT);
		if (s == SVC_NONE4T)
			at += snprintf(y + at, size - at, "    http: {connect_timeout: 1ms}\n");
		if (s == SVC_HTTP4 || s == SVC_HTTP6)
			at += snprintf(y + at, size - at, "    http: {backend_header: X-Backend}\n");
		cr_assert_lt(at, size);
	}
}

static void setup(void)
{
	char yaml[8192];
	__u32 size;
	int s, j;

	pkt_ifaces(&if_client, &if_server);
	/* The verifier must take the program with the SYN-cookie path in it. */
	dp = pkt_load(FLOW_ENTRIES, &prog_fd);

	write_secret_file();
	services_yaml(yaml, sizeof(yaml));
	product_model(yaml, &model);
	product_program(dp, &model);
	product_program_http(&http, dp, &model);
	for (s = 0; s < SVC_MAX; s++) {
		cr_assert_eq(model.services[s].id, (__u32)s);
		for (j = 0; j < NBACKENDS; j++)
			ids[s][j] = model.services[s].backends[j].id;
		ring[s] = dp_ring(dp, s, &size);
		cr_assert_not_null(ring[s]);
		cr_assert_eq(size, RING_SIZE);
	}
	/* The keys the product pushed are the file's, current first. */
	cr_assert_eq(http.keys.verify.key[0].id, key_new.id);
	cr_assert_eq(http.keys.verify.key[1].id, key_old.id);
}

static void teardown(void)
{
	http_free(&http);
	dp_close(dp);
	model_free(&model);
	unlink(secret_file);
}

TestSuite(synproxy, .init = setup, .fini = teardown, .timeout = 60);

/* ---- TCP options ---- */

struct opts {
	__u8 b[40];
	size_t len;
};

static void opt_put(struct opts *o, const __u8 *bytes, size_t n)
{
	cr_assert_leq(o->len + n, sizeof(o->b), "options too long");
	memcpy(o->b + o->len, bytes, n);
	o->len += n;
}

#define OPT(o, ...)                                            \
	opt_put((o), (const __u8[]){ __VA_ARGS__ },            \
		sizeof((const __u8[]){ __VA_ARGS__ }))

static void opt_mss(struct opts *o, __u16 mss)
{
	OPT(o, 2, 4, mss >> 8, mss & 0xff);
}

static void opt_ts(struct opts *o, __u32 val, __u32 ecr)
{
	OPT(o, 8, 10, val >> 24, val >> 16, val >> 8, val, ecr >> 24, ecr >> 16, ecr >> 8, ecr);
}

/* What Linux sends: MSS, SACK-perm, TS, NOP, WS. */
static struct opts linux_syn(__u16 mss, __u8 wscale)
{
	struct opts o = { .len = 0 };

	opt_mss(&o, mss);
	OPT(&o, 4, 2);
	opt_ts(&o, CLIENT_TSVAL, 0);
	OPT(&o, 1, 3, 3, wscale);
	return o;
}

/* The TCP header's offset and length in a frame built by pkt.h. */
static void l4_of(const __u8 *f, size_t len, size_t *l4, size_t *l4_len, size_t *l3)
{
	struct pkt_layout lo;

	cr_assert(pkt_layout(f, len, &lo), "not a TCP/IP frame");
	*l4 = lo.l4;
	*l4_len = lo.l4_len;
	if (l3)
		*l3 = lo.l3;
}

static void fix_tcp_csum(__u8 *f, size_t len)
{
	cr_assert(pkt_fix_tcp_csum(f, len), "not a TCP frame");
}

/* <s> with the options <o> (padded with EOL to a multiple of 4) between its
 * TCP header and its payload; checksums from scratch.
 */
static size_t seg_build(const struct pkt_spec *s, const struct opts *o, __u8 *f, size_t cap)
{
	size_t len = pkt_build_tcp_opts(s, o ? o->b : NULL, o ? o->len : 0, f, cap);

	cr_assert(len, "frame too long");
	return len;
}

/* ---- what a SYN-ACK must be ---- */

struct expect {
	__u16 mss;		/* announced */
	bool ts;		/* timestamps agreed: the option block has them */
	bool sack;
	__u8 wscale;		/* the client's, encoded; LIMPET_WSCALE_NONE: not agreed */
	bool ecn;
	__u32 client_tsval;	/* to be echoed */
};

/* The SYN-ACK's ISN and TSval, for the steps that follow it. */
struct synack_seen {
	__u32 isn;
	__u32 tsval;
};

static __u32 now_ms(void)
{
	struct timespec ts;

	/* bpf_ktime_get_coarse_ns()'s clock. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u32)((__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void check_synack(const char *desc, const __u8 *in, size_t in_len, const __u8 *out,
			 size_t out_len, const struct expect *e, struct synack_seen *seen)
{
	size_t in_l4, in_l4_len, l4, l4_len, l3, ip_len, optlen;
	__u8 want_opts[20];
	__u32 tsval = 0, low;
	char why[64];
	__s32 age;
	bool v6;

	l4_of(in, in_len, &in_l4, &in_l4_len, NULL);
	l4_of(out, out_len, &l4, &l4_len, &l3);
	v6 = pkt_get16(out + 12) == PKT_ETH_P_IPV6;
	cr_assert_eq(pkt_get16(out + 12), pkt_get16(in + 12), "%s: ethertype", desc);
	ip_len = v6 ? PKT_IP6_LEN : PKT_IP4_LEN;
	if (e->ts)
		optlen = e->wscale != LIMPET_WSCALE_NONE ? 20 : 16;
	else
		optlen = e->wscale != LIMPET_WSCALE_NONE ? 12 : e->sack ? 8 : 4;

	/* Lengths: nothing after the TCP header, no IP options, no padding. */
	cr_assert_eq(l4, PKT_ETH_LEN + ip_len, "%s: IP header length", desc);
	cr_assert_eq(l4_len, PKT_TCP_LEN + optlen, "%s: TCP length %zu", desc, l4_len);
	cr_assert_eq(out_len, PKT_ETH_LEN + ip_len + PKT_TCP_LEN + optlen, "%s: frame length %zu",
		     desc, out_len);
	cr_assert_eq(pkt_verify(out, out_len, why, sizeof(why)), 0, "%s: bad %s", desc, why);

	/* Ethernet: back where it came from. */
	cr_assert_arr_eq(out, in + 6, 6, "%s: destination MAC", desc);
	cr_assert_arr_eq(out + 6, in, 6, "%s: source MAC", desc);

	if (v6) {
		cr_assert_eq(pkt_get32(out + l3), 0x60000000, "%s: version/class/label", desc);
		cr_assert_eq(pkt_get16(out + l3 + 4), l4_len, "%s: payload length", desc);
		cr_assert_eq(out[l3 + 6], IPPROTO_TCP, "%s: next header", desc);
		cr_assert_eq(out[l3 + 7], 64, "%s: hop limit", desc);
		cr_assert_arr_eq(out + l3 + 8, in + PKT_ETH_LEN + 24, 16, "%s: source", desc);
		cr_assert_arr_eq(out + l3 + 24, in + PKT_ETH_LEN + 8, 16, "%s: destination",
				 desc);
	} else {
		const __u8 *in_l3 = in + PKT_ETH_LEN;

		cr_assert_eq(out[l3], 0x45, "%s: version/ihl", desc);
		cr_assert_eq(out[l3 + 1], 0, "%s: tos", desc);
		cr_assert_eq(pkt_get16(out + l3 + 2), PKT_IP4_LEN + l4_len, "%s: tot_len", desc);
		cr_assert_eq(pkt_get16(out + l3 + 4), 0, "%s: id", desc);
		cr_assert_eq(pkt_get16(out + l3 + 6), PKT_IP_DF, "%s: frag_off", desc);
		cr_assert_eq(out[l3 + 8], 64, "%s: ttl", desc);
		cr_assert_eq(out[l3 + 9], IPPROTO_TCP, "%s: protocol", desc);
		cr_assert_arr_eq(out + l3 + 12, in_l3 + 16, 4, "%s: source", desc);
		cr_assert_arr_eq(out + l3 + 16, in_l3 + 12, 4, "%s: destination", desc);
	}

	/* TCP header. */
	cr_assert_eq(pkt_get16(out + l4), pkt_get16(in + in_l4 + 2), "%s: source port", desc);
	cr_assert_eq(pkt_get16(out + l4 + 2), pkt_get16(in + in_l4), "%s: dest port", desc);
	cr_assert_eq(pkt_get32(out + l4 + 8), pkt_get32(in + in_l4 + 4) + 1, "%s: ack", desc);
	cr_assert_eq(out[l4 + 12], (PKT_TCP_LEN + optlen) / 4 << 4, "%s: data offset", desc);
	cr_assert_eq(out[l4 + 13], PKT_TCP_SYN | PKT_TCP_ACK | (e->ecn ? PKT_TCP_ECE : 0),
		     "%s: flags %#x", desc, out[l4 + 13]);
	cr_assert_eq(pkt_get16(out + l4 + 14), OUR_WINDOW, "%s: window", desc);
	cr_assert_eq(pkt_get16(out + l4 + 18), 0, "%s: urgent pointer", desc);

	/* Options, byte for byte; the TSval is taken from the frame and
	 * checked on its own below.
	 */
	memset(want_opts, 0, sizeof(want_opts));
	want_opts[0] = 2;
	want_opts[1] = 4;
	pkt_put16(want_opts + 2, e->mss);
	if (e->ts) {
		tsval = pkt_get32(out + l4 + PKT_TCP_LEN + 8);
		want_opts[4] = e->sack ? 4 : 1;
		want_opts[5] = e->sack ? 2 : 1;
		want_opts[6] = 8;
		want_opts[7] = 10;
		pkt_put32(want_opts + 8, tsval);
		pkt_put32(want_opts + 12, e->client_tsval);
		if (e->wscale != LIMPET_WSCALE_NONE) {
			want_opts[16] = 1;
			want_opts[17] = 3;
			want_opts[18] = 3;
			want_opts[19] = LIMPET_OUR_WSCALE;
		}
	} else if (optlen > 4) {
		/* limpet's own cookie keeps them: NOP NOP SACK-perm (or 4 NOPs),
		 * NOP WS.
		 */
		want_opts[4] = 1;
		want_opts[5] = 1;
		want_opts[6] = e->sack ? 4 : 1;
		want_opts[7] = e->sack ? 2 : 1;
		if (e->wscale != LIMPET_WSCALE_NONE) {
			want_opts[8] = 1;
			want_opts[9] = 3;
			want_opts[10] = 3;
			want_opts[11] = LIMPET_OUR_WSCALE;
		}
	}
	cr_assert_arr_eq(out + l4 + PKT_TCP_LEN, want_opts, optlen, "%s: options", desc);
	if (e->ts) {
		struct limpet_tscookie c;

		low = (e->wscale & 0xf) | (e->sack ? 0x10 : 0) | (e->ecn ? 0x20 : 0) |
		      limpet_cookie_mss_index(e->mss, v6) << 6;
		cr_assert_eq(tsval & 0xff, low, "%s: TSval low bits %#x, expected %#x", desc,
			     tsval & 0xff, low);
		age = (__s32)((now_ms() & ~0xffu) - (tsval & ~0xffu));
		cr_assert(age >= 0 && age < 2000, "%s: TSval clock %u ms off", desc, age);
		limpet_tscookie_decode(tsval, (struct limpet_ts_tag){ 0 }, &c);
		cr_assert(c.wscale == e->wscale && c.sack_ok == e->sack && c.ecn_ok == e->ecn,
			  "%s: decoded cookie", desc);
	}
	if (seen) {
		seen->isn = pkt_get32(out + l4 + 4);
		seen->tsval = tsval;
	}
}

/* ---- running frames ---- */

#define MAX_DELTAS 2

enum out_kind {
	OUT_SAME = 0,	/* (default) dropped or passed untouched */
	OUT_SYNACK,	/* a SYN-ACK matching .expect */
	OUT_FRAME,	/* exactly .out, with the options of .opts */
	OUT_ANY,	/* not compared */
};

struct step {
	const char *desc;
	struct pkt_spec in;
	struct opts opts;
	void (*mangle)(__u8 *frame, size_t len);
	int verdict;
	enum out_kind out_kind;
	struct expect expect;
	struct pkt_spec out;
	struct delta deltas[MAX_DELTAS];
};

static void run_frame(const __u8 *in, size_t len, struct result *r)
{
	xdp_run_frame(dp, prog_fd, if_client, in, len, r);
}

/* Is <frame> a SYN (no ACK) that offers no timestamps? */
static bool syn_without_ts(const __u8 *frame, size_t len)
{
	struct limpet_tcpopt o;
	size_t l4, l4_len;

	l4_of(frame, len, &l4, &l4_len, NULL);
	if ((frame[l4 + 13] & (PKT_TCP_SYN | PKT_TCP_ACK)) != PKT_TCP_SYN)
		return false;
	limpet_tcpopt_parse(frame + l4, (__u32)((frame[l4 + 12] >> 4) * 4), &o);
	return !o.ts_ok;
}

static void run_step(const struct step *st, struct synack_seen *seen)
{
	__u8 in[PKT_MAX], want[PKT_MAX];
	size_t len, want_len;
	struct result r;

	len = seg_build(&st->in, &st->opts, in, sizeof(in));
	if (st->mangle)
		st->mangle(in, len);
	run_frame(in, len, &r);
	cr_assert_eq(r.verdict, st->verdict, "%s: verdict %s, expected %s", st->desc,
		     verdict_name(r.verdict), verdict_name(st->verdict));
	/* A SYN answered without timestamps gets limpet's own cookie, counted
	 * as such beside syncookie_sent.
	 */
	if (syn_without_ts(in, len) && r.verdict == XDP_REDIRECT) {
		cr_expect_eq(r.delta[LIMPET_STAT_SYNCOOKIE_OWN], 1, "%s: syncookie_own moved by %lld",
			     st->desc, (long long)r.delta[LIMPET_STAT_SYNCOOKIE_OWN]);
		r.delta[LIMPET_STAT_SYNCOOKIE_OWN]--;
	}
	check_deltas(st->desc, &r, st->deltas, MAX_DELTAS);
	switch (st->out_kind) {
	case OUT_SAME:
		cr_assert(r.out_len == len && !memcmp(r.out, in, len), "%s: frame changed",
			  st->desc);
		break;
	case OUT_SYNACK:
		check_synack(st->desc, in, len, r.out, r.out_len, &st->expect, seen);
		break;
	case OUT_FRAME:
		want_len = seg_build(&st->out, &st->opts, want, sizeof(want));
		cr_assert(r.out_len == want_len && !memcmp(r.out, want, want_len),
			  "%s: output frame differs", st->desc);
		break;
	case OUT_ANY:
		break;
	}
	if (seen && st->out_kind != OUT_SYNACK) {
		size_t l4, l4_len;
		struct limpet_tcpopt o;

		l4_of(r.out, r.out_len, &l4, &l4_len, NULL);
		limpet_tcpopt_parse(r.out + l4, (__u32)l4_len, &o);
		seen->isn = pkt_get32(r.out + l4 + 4);
		seen->tsval = o.tsval;
	}
}

static void run_steps(const struct step *steps, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		run_step(&steps[i], NULL);
}

#define RUN_STEPS(steps) run_steps(steps, sizeof(steps) / sizeof(steps[0]))

static struct pkt_spec to_vip(int s, __u16 sport, __u8 flags)
{
	const char *client = strchr(svcs[s].vip, ':') ? CLIENT6 : CLIENT4;

	return pkt_tcp(client, sport, svcs[s].vip, VIP_PORT, flags);
}

/* The client's next segment after the SYN <syn> was answered with <seen>. */
static struct pkt_spec after_synack(const struct pkt_spec *syn, const struct synack_seen *seen,
				    __u8 flags, __u16 payload)
{
	struct pkt_spec s = *syn;

	s.tcp_flags = flags;
	s.seq = syn->seq + 1;
	s.ack = seen->isn + 1;
	s.payload_len = payload;
	return s;
}

/* Timestamps on the client's later segments: a new TSval, ours echoed. */
static struct opts ts_echo(const struct synack_seen *seen)
{
	struct opts o = { .len = 0 };

	OPT(&o, 1, 1);
	opt_ts(&o, CLIENT_TSVAL + 1, seen->tsval);
	return o;
}

/*
 * The first request segment <data> left the slow path's entry behind,
 * holding the handshake its cookie proved. Removed again, so the steps that
 * follow see no flow.
 */
static void expect_pending(const struct pkt_spec *data, __u32 cookie_isn)
{
	struct flow_value fv;
	struct flow_key key = { .src = data->src, .dst = data->dst,
				.sport = htons(data->sport), .dport = htons(data->dport),
				.proto = IPPROTO_TCP, .family = data->family };

	cr_assert_eq(dp_flow_get(dp, &key, &fv), 0, "no slow-path entry");
	cr_expect_eq(fv.flags, LIMPET_FLOW_SLOWPATH);
	cr_expect_eq(fv.pending.client_isn, data->seq - 1);
	cr_expect_eq(fv.pending.cookie_isn, cookie_isn);
	cr_assert_eq(dp_flow_del(dp, &key), 0);
}

/* Send the SYN of <st> and keep what its SYN-ACK says. */
static struct synack_seen handshake(const struct step *st)
{
	struct synack_seen seen;

	run_step(st, &seen);
	return seen;
}

/* ---- the handshake, both families ---- */

/*
 * Forged ACKs change bits the cookie's keyed hash covers. (An ack or seq
 * off by one is not always forged: see cookie_ack_window below.)
 */
static void full_handshake(int s, __u16 mss_in, __u16 mss_out, bool mss_index_3)
{
	struct pkt_spec syn = to_vip(s, 40000, PKT_TCP_SYN);
	const struct step first = {
		"SYN with MSS, SACK-perm, TS, WS 9: a cookie SYN-ACK", syn,
		linux_syn(mss_in, 9), .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
		.expect = { mss_out, true, true, 9, false, CLIENT_TSVAL },
		.deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } },
	};
	struct synack_seen seen = handshake(&first);
	struct pkt_spec ack = after_synack(&syn, &seen, PKT_TCP_ACK, 0);
	struct pkt_spec ack_far = ack, ack_hash = ack, seq_hash = ack, port_off = ack;
	struct pkt_spec data = after_synack(&syn, &seen, PKT_TCP_ACK | PKT_TCP_PSH, 100);
	struct pkt_spec data_bad = data;
	struct pkt_spec fin_data = after_synack(&syn, &seen, PKT_TCP_ACK | PKT_TCP_FIN, 40);

	ack_far.ack += 1u << 24;	/* the cookie's minute counter lives up there */
	ack_hash.ack ^= 0x00550000;
	seq_hash.seq ^= 0x00550000;
	port_off.sport = 40001;
	data_bad.ack ^= 0x00550000;
	{
		const struct step steps[] = {
			{ "completing ACK (ack = ISN + 1, TS echoed): valid, nothing to do",
			  ack, ts_echo(&seen), .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_ACK_OK, 1 } } },
			{ "the same ACK again (a keepalive before data): still valid", ack,
			  ts_echo(&seen), .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_ACK_OK, 1 } } },
			{ "the same ACK without timestamps: the cookie alone decides", ack,
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_SYNCOOKIE_ACK_OK, 1 } } },
			{ "ack from another cookie minute: dropped", ack_far, ts_echo(&seen),
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_SYNCOOKIE_BAD, 1 } } },
			{ "ack with hash bits changed: forged, dropped", ack_hash,
			  ts_echo(&seen), .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_BAD, 1 } } },
			{ "seq changed: the cookie covers it", seq_hash, ts_echo(&seen),
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_SYNCOOKIE_BAD, 1 } } },
			{ "another source port: the cookie covers it", port_off, ts_echo(&seen),
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_SYNCOOKIE_BAD, 1 } } },
			{ "data with a bad cookie: dropped", data_bad, ts_echo(&seen),
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_SYNCOOKIE_BAD, 1 } } },
			{ "first data segment with a valid cookie: for the slow path (no socket "
			  "here)", data, ts_echo(&seen), .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SLOWPATH_DOWN, 1 } } },
			{ "then every segment of it, even a bad one: the entry sends it", data_bad,
			  ts_echo(&seen), .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SLOWPATH_DOWN, 1 } } },
		};

		RUN_STEPS(steps);
	}
	expect_pending(&data, seen.isn);
	{
		const struct step steps[] = {
			{ "data with FIN (a request, then shutdown): for the slow path", fin_data,
			  ts_echo(&seen), .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SLOWPATH_DOWN, 1 } } },
		};

		RUN_STEPS(steps);
	}
	expect_pending(&fin_data, seen.isn);
	if (mss_index_3) {
		struct pkt_spec ack_up = ack;

		ack_up.ack = seen.isn + 2;
		{
			const struct step steps[] = {
				{ "ack off by one (MSS index 3): rejected", ack_up,
				  ts_echo(&seen), .verdict = XDP_DROP,
				  .deltas = { { LIMPET_STAT_SYNCOOKIE_BAD, 1 } } },
			};

			RUN_STEPS(steps);
		}
	}
}

Test(synproxy, handshake4)
{
	full_handshake(SVC_HTTP4, 1460, 1460, true);
}

Test(synproxy, handshake6)
{
	full_handshake(SVC_HTTP6, 1440, 1440, false);
}

Test(synproxy, handshake6_jumbo)
{
	full_handshake(SVC_HTTP6, 9000, 8940, true);
}

/*
 * The kernel's cookie adds the MSS table index (0-3) to a keyed hash, and
 * bpf_tcp_raw_check_syncookie_*() accepts any ack whose ack - 1 decodes to
 * an index in the table: ack - 1 = cookie - k for k = index - 3 .. index.
 * So an ack off by one upwards is rejected only when the index is 3, which
 * is no forgery (it needs a valid cookie to start from). The helper
 * returns no MSS; the largest k in 0..3 still accepted is the index, which
 * is how the slow path can recover the client's MSS from a completing ACK.
 * Pinned here so that a kernel that changes any of it is noticed.
 */
static void ack_window(int s, __u16 mss_in, int index)
{
	struct pkt_spec syn = to_vip(s, (__u16)(41000 + mss_in % 1000), PKT_TCP_SYN);
	struct opts mss = { .len = 0 };
	struct synack_seen seen;
	int k;

	/* With timestamps: the kernel's cookie (without, limpet's own). */
	opt_mss(&mss, mss_in);
	opt_ts(&mss, CLIENT_TSVAL, 0);
	{
		const struct step st = { "SYN", syn, mss, .verdict = XDP_REDIRECT, .out_kind = OUT_ANY,
					 .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } };

		seen = handshake(&st);
	}
	for (k = index - 4; k <= index + 1; k++) {
		struct pkt_spec ack = after_synack(&syn, &seen, PKT_TCP_ACK, 0);
		bool valid = k >= index - 3 && k <= index;
		const struct step st = {
			valid ? "ack - 1 = cookie - k, index - 3 <= k <= index: accepted" :
				"ack - 1 = cookie - k, k outside index - 3 .. index: rejected",
			ack, .verdict = XDP_DROP,
			.deltas = { { valid ? LIMPET_STAT_SYNCOOKIE_ACK_OK :
					      LIMPET_STAT_SYNCOOKIE_BAD, 1 } },
		};
		struct step adj = st;

		adj.in.ack = seen.isn + 1 - (__u32)k;
		run_step(&adj, NULL);
	}
}

/*
 * A client without timestamps (Windows' default) that offers SACK and a
 * window shift: the SYN-ACK agrees both and its ISN is limpet's own cookie;
 * the first request segment completes the handshake, and its pending entry
 * gives the slow path the MSS, shift and SACK the cookie kept. A forged
 * ack is refused.
 */
static void own_cookie_handshake(int s, __u16 sport)
{
	struct pkt_spec syn = to_vip(s, sport, PKT_TCP_SYN);
	bool v6 = strchr(svcs[s].vip, ':');
	struct opts windows = { .len = 0 }, none = { .len = 0 };
	struct limpet_syncookie_opts kept;
	struct synack_seen seen;
	struct flow_value fv;
	struct flow_key key;

	opt_mss(&windows, v6 ? 1440 : 1460);
	OPT(&windows, 1, 3, 3, 8, 1, 1, 4, 2);
	{
		const struct step st = { "SYN without TS, with WS 8 and SACK", syn, windows,
					 .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
					 .expect = { v6 ? 1440 : 1460, false, true, 8, false, 0 },
					 .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } };

		seen = handshake(&st);
	}
	{
		struct pkt_spec ack = after_synack(&syn, &seen, PKT_TCP_ACK, 0);
		struct pkt_spec forged = ack, data = after_synack(&syn, &seen,
								  PKT_TCP_ACK | PKT_TCP_PSH, 40);
		const struct step steps[] = {
			{ "its ACK: the own cookie checks out", ack, none, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_ACK_OK, 1 } } },
			{ "an ACK 500 off: refused", forged, none, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_BAD, 1 } } },
			{ "the first request segment: to the slow path", data, none,
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_SLOWPATH_DOWN, 1 } } },
		};
		struct step adj[3];

		memcpy(adj, steps, sizeof(adj));
		adj[1].in.ack += 500;
		run_step(&adj[0], NULL);
		run_step(&adj[1], NULL);
		run_step(&adj[2], NULL);
		key = (struct flow_key){ .src = data.src, .dst = data.dst,
					 .sport = htons(data.sport), .dport = htons(data.dport),
					 .proto = IPPROTO_TCP, .family = data.family };
	}
	cr_assert_eq(dp_flow_get(dp, &key, &fv), 0, "no pending entry");
	cr_assert_eq(dp_flow_del(dp, &key), 0);
	cr_expect_eq(fv.pending.cookie_isn, seen.isn);
	cr_assert(fv.pending.syn & LIMPET_PENDING_OWN_COOKIE, "not marked as limpet's own cookie");
	limpet_syncookie_opts_of(fv.pending.syn & ~LIMPET_PENDING_OWN_COOKIE, &kept);
	cr_expect_eq(limpet_cookie_mss(kept.mss_index, v6), v6 ? 1440 : 1460);
	cr_expect_eq(kept.wscale, 8);
	cr_expect(kept.sack_ok);
}

Test(synproxy, own_cookie_without_timestamps)
{
	own_cookie_handshake(SVC_HTTP4, 43000);
	own_cookie_handshake(SVC_HTTP6, 43001);
}

Test(synproxy, cookie_ack_window)
{
	/* IPv4 table 536, 1300, 1440, 1460; IPv6 1220, 1420, 1440, 8940. */
	ack_window(SVC_HTTP4, 1460, 3);
	ack_window(SVC_HTTP4, 1440, 2);
	ack_window(SVC_HTTP4, 1300, 1);
	ack_window(SVC_HTTP4, 600, 0);
	ack_window(SVC_HTTP6, 9000, 3);
	ack_window(SVC_HTTP6, 1440, 2);
	ack_window(SVC_HTTP6, 1420, 1);
	ack_window(SVC_HTTP6, 1300, 0);
}

static int any_flow(void *ctx, const struct flow_key *key, const struct flow_value *val)
{
	return -EEXIST;
}

/* Each SYN is answered afresh and leaves nothing behind: no flow. */
Test(synproxy, stateless)
{
	struct pkt_spec syn = to_vip(SVC_HTTP4, 40000, PKT_TCP_SYN);
	const struct step st = { "SYN", syn, linux_syn(1460, 7), .verdict = XDP_REDIRECT,
				 .out_kind = OUT_SYNACK,
				 .expect = { 1460, true, true, 7, false, CLIENT_TSVAL },
				 .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } };
	struct synack_seen a = handshake(&st), b = handshake(&st);
	struct flow_key key;

	cr_assert_eq(dp_flow_walk(dp, any_flow, &key), 0, "a flow was recorded");
	/* A retransmitted SYN gets a SYN-ACK its ACK can complete, whichever
	 * minute of the cookie's clock it falls in.
	 */
	{
		struct pkt_spec ack = after_synack(&syn, &b, PKT_TCP_ACK, 0);
		const struct step steps[] = {
			{ "ACK of the second SYN-ACK", ack, ts_echo(&b), .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_ACK_OK, 1 } } },
		};

		RUN_STEPS(steps);
	}
	if (a.isn != b.isn)
		cr_log_info("stateless: the cookie's minute changed between the two SYNs");
}

/* ---- options ---- */

Test(synproxy, syn_options4)
{
	struct pkt_spec syn = to_vip(SVC_HTTP4, 40010, PKT_TCP_SYN);
	struct pkt_spec ecn = to_vip(SVC_HTTP4, 40011, PKT_TCP_SYN | PKT_TCP_ECE | PKT_TCP_CWR);
	struct opts none = { .len = 0 }, mss_only = { .len = 0 }, no_ts = { .len = 0 };
	struct opts ts_only = { .len = 0 }, ts_ws = { .len = 0 }, small = { .len = 0 };
	struct opts big_ws = { .len = 0 };

	opt_mss(&mss_only, 1460);
	opt_mss(&no_ts, 1460);
	OPT(&no_ts, 1, 3, 3, 8, 1, 1, 4, 2);	/* Windows: WS and SACK, no TS */
	OPT(&ts_only, 1, 1);
	opt_ts(&ts_only, CLIENT_TSVAL, 0);
	opt_mss(&ts_ws, 1300);
	OPT(&ts_ws, 1, 1);
	opt_ts(&ts_ws, CLIENT_TSVAL, 0);
	OPT(&ts_ws, 1, 3, 3, 0);		/* shift 0 is an offer too */
	opt_mss(&small, 1000);
	opt_mss(&big_ws, 1460);
	OPT(&big_ws, 4, 2);
	opt_ts(&big_ws, CLIENT_TSVAL, 0);
	OPT(&big_ws, 1, 3, 3, 15);
	{
		const struct step steps[] = {
			{ "SYN without options: MSS 536 (RFC 9293 default) only", syn, none,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 536, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "SYN with only MSS 1460", syn, mss_only, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_SYNACK,
			  .expect = { 1460, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "WS and SACK without TS (Windows): kept in limpet's own cookie", syn,
			  no_ts, .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1460, false, true, 8, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "TS only, no MSS: 536, NOP NOP TS, no WS", syn, ts_only,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 536, true, false, LIMPET_WSCALE_NONE, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "MSS 1300, TS, WS 0: cookie table value 1300, shift 0 kept", syn, ts_ws,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1300, true, false, 0, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "MSS 1000: rounded down to the cookie table's 536", syn, small,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 536, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "WS 15: remembered as 14 (RFC 7323)", syn, big_ws, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_SYNACK,
			  .expect = { 1460, true, true, 14, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "ECN-setup SYN with TS: ECE in the SYN-ACK, ECN bit in the TSval", ecn,
			  linux_syn(1460, 7), .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1460, true, true, 7, true, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "ECN-setup SYN without TS: ECN not agreed", ecn, mss_only,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1460, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

Test(synproxy, syn_options6)
{
	struct pkt_spec syn = to_vip(SVC_HTTP6, 40020, PKT_TCP_SYN);
	struct opts none = { .len = 0 }, jumbo = { .len = 0 };

	opt_mss(&jumbo, 8960);
	{
		const struct step steps[] = {
			{ "IPv6 SYN without options: MSS 1220 (IPv6 minimum MTU)", syn, none,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1220, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "IPv6 SYN with MSS 8960: the cookie table's 8940", syn, jumbo,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 8940, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "IPv6 SYN, Linux options, WS 14", syn, linux_syn(1440, 14),
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1440, true, true, 14, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

/* ---- malformed and unusual SYNs ---- */

/* The data offset claims 60 bytes of header in a 20-byte segment. */
static void doff_15(__u8 *f, size_t len)
{
	size_t l4, l4_len;

	l4_of(f, len, &l4, &l4_len, NULL);
	f[l4 + 12] = 0xf0;
	fix_tcp_csum(f, len);
}

static void bad_tcp_csum(__u8 *f, size_t len)
{
	size_t l4, l4_len;

	l4_of(f, len, &l4, &l4_len, NULL);
	f[l4 + 17] ^= 0x01;
}

static void bad_ip_csum(__u8 *f, size_t len)
{
	f[PKT_ETH_LEN + 10] ^= 0x01;
}

Test(synproxy, malformed_options)
{
	struct pkt_spec syn = to_vip(SVC_HTTP4, 40030, PKT_TCP_SYN);
	struct pkt_spec syn6 = to_vip(SVC_HTTP6, 40030, PKT_TCP_SYN);
	struct opts cut_ts = { .len = 0 }, zero_len = { .len = 0 }, one_len = { .len = 0 };
	struct opts lone = { .len = 0 }, long_len = { .len = 0 }, wrong = { .len = 0 };
	struct opts after_eol = { .len = 0 };

	/* MSS, SACK-perm, then a TS whose length runs past the header: the
	 * TS is not read, and without it SACK is not agreed.
	 */
	opt_mss(&cut_ts, 1460);
	OPT(&cut_ts, 4, 2, 8, 10, 1, 2, 3, 4);
	/* SACK-perm, TS fine, then a WS of length 0: TS and SACK kept, no WS. */
	OPT(&zero_len, 4, 2);
	opt_ts(&zero_len, CLIENT_TSVAL, 0);
	OPT(&zero_len, 3, 0, 3, 7);
	OPT(&one_len, 2, 1, 0x05, 0xb4);
	/* A kind in the very last byte. */
	opt_mss(&lone, 1460);
	OPT(&lone, 1, 1, 1, 8);
	OPT(&long_len, 2, 255, 0x05, 0xb4);
	/* Wrong lengths for their kinds: skipped, the rest read. */
	OPT(&wrong, 2, 6, 0x05, 0xb4, 0, 0, 8, 8, 1, 2, 3, 4, 1, 1, 1, 1);
	opt_ts(&wrong, CLIENT_TSVAL, 0);
	/* Options after EOL are not read. */
	opt_mss(&after_eol, 1460);
	OPT(&after_eol, 0, 1, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0);
	{
		const struct step steps[] = {
			{ "TS running past the header: no TS, the SACK before it kept", syn, cut_ts,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1460, false, true, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "option length 0 after TS: TS and SACK kept, WS dropped", syn, zero_len,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 536, true, true, LIMPET_WSCALE_NONE, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "option length 1 first: nothing read", syn, one_len, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_SYNACK,
			  .expect = { 536, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "a kind without its length byte at the end", syn, lone,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1460, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "MSS with length 255: nothing read (the kernel agrees: 536)", syn,
			  long_len, .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 536, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "wrong lengths for MSS and TS: skipped, the good TS read", syn, wrong,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 536, true, false, LIMPET_WSCALE_NONE, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "a TS after EOL is not read", syn, after_eol, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_SYNACK,
			  .expect = { 1460, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "IPv6: TS running past the header", syn6, cut_ts, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_SYNACK,
			  .expect = { 1440, false, true, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "data offset past the segment: malformed, dropped", syn,
			  .mangle = doff_15, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
			{ "IPv6: data offset past the segment", syn6, .mangle = doff_15,
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
			{ "bad TCP checksum: not answered", syn, linux_syn(1460, 7),
			  .mangle = bad_tcp_csum, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
			{ "IPv6: bad TCP checksum", syn6, linux_syn(1460, 7),
			  .mangle = bad_tcp_csum, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
			{ "bad IPv4 header checksum: not answered", syn, linux_syn(1460, 7),
			  .mangle = bad_ip_csum, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

/* The reply is built on its own: whatever the SYN's size and shape. */
Test(synproxy, frame_shapes)
{
	struct pkt_spec ipopts = to_vip(SVC_HTTP4, 40040, PKT_TCP_SYN);
	struct pkt_spec padded = to_vip(SVC_HTTP4, 40041, PKT_TCP_SYN);
	struct pkt_spec tfo = to_vip(SVC_HTTP4, 40042, PKT_TCP_SYN);
	struct pkt_spec tfo6 = to_vip(SVC_HTTP6, 40042, PKT_TCP_SYN);
	struct pkt_spec ttl1 = to_vip(SVC_HTTP6, 40043, PKT_TCP_SYN);
	struct opts none = { .len = 0 };

	ipopts.ip_opts = 12;
	padded.trailer = 6;
	tfo.payload_len = 300;
	tfo6.payload_len = 300;
	ttl1.ttl = 1;
	{
		const struct step steps[] = {
			{ "IPv4 options in the SYN: none in the SYN-ACK", ipopts,
			  linux_syn(1460, 7), .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1460, true, true, 7, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "Ethernet padding: the SYN-ACK grows past it, none left", padded, none,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 536, false, false, LIMPET_WSCALE_NONE, false, 0 },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "SYN with 300 bytes of data: not acknowledged, frame shrinks", tfo,
			  linux_syn(1460, 7), .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1460, true, true, 7, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "IPv6 SYN with data", tfo6, linux_syn(1440, 7), .verdict = XDP_REDIRECT,
			  .out_kind = OUT_SYNACK,
			  .expect = { 1440, true, true, 7, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
			{ "hop limit 1: we answer, we do not forward", ttl1, linux_syn(1440, 7),
			  .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
			  .expect = { 1440, true, true, 7, false, CLIENT_TSVAL },
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

/* ---- segments that open nothing ---- */

Test(synproxy, no_connection)
{
	struct pkt_spec rst = to_vip(SVC_HTTP4, 40050, PKT_TCP_RST);
	struct pkt_spec rst_ack = to_vip(SVC_HTTP4, 40050, PKT_TCP_RST | PKT_TCP_ACK);
	struct pkt_spec fin = to_vip(SVC_HTTP4, 40050, PKT_TCP_FIN | PKT_TCP_ACK);
	struct pkt_spec synack = to_vip(SVC_HTTP4, 40050, PKT_TCP_SYN | PKT_TCP_ACK);
	struct pkt_spec synfin = to_vip(SVC_HTTP4, 40050, PKT_TCP_SYN | PKT_TCP_FIN);
	struct pkt_spec synrst = to_vip(SVC_HTTP6, 40050, PKT_TCP_SYN | PKT_TCP_RST);
	struct pkt_spec null = to_vip(SVC_HTTP6, 40050, 0);
	struct pkt_spec push = to_vip(SVC_HTTP4, 40050, PKT_TCP_PSH);
	struct pkt_spec stray = to_vip(SVC_HTTP4, 40050, PKT_TCP_ACK);
	struct pkt_spec stray6 = to_vip(SVC_HTTP6, 40050, PKT_TCP_ACK | PKT_TCP_PSH);

	push.payload_len = 10;
	stray6.payload_len = 10;
	{
		const struct step steps[] = {
			{ "RST without a connection", rst, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_HTTP_NO_CONN, 1 } } },
			{ "RST+ACK without a connection", rst_ack, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_HTTP_NO_CONN, 1 } } },
			{ "FIN+ACK before any data", fin, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_HTTP_NO_CONN, 1 } } },
			{ "SYN+ACK to the VIP", synack, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_HTTP_NO_CONN, 1 } } },
			{ "SYN+FIN", synfin, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_HTTP_NO_CONN, 1 } } },
			{ "IPv6 SYN+RST", synrst, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_HTTP_NO_CONN, 1 } } },
			{ "IPv6 no flags at all", null, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_HTTP_NO_CONN, 1 } } },
			{ "data without ACK", push, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_HTTP_NO_CONN, 1 } } },
			{ "an ACK no SYN-ACK of ours produced", stray, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_BAD, 1 } } },
			{ "IPv6 data no SYN-ACK of ours produced", stray6, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_SYNCOOKIE_BAD, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

/*
 * The vips entry of every service is what dp_program() derives from the
 * configuration: the L4 hash for the binding at the SYN, and for HTTP
 * services what XDP reads in the first request head. A service whose
 * head is read must not look like one whose head is not (the bug of a
 * byte read with two meanings: cookie services were written as client_ip
 * and XDP never read a head).
 */
Test(synproxy, vip_entries_say_what_to_read)
{
	static const __u8 want_read[SVC_MAX] = {
		[SVC_HTTP4] = LIMPET_HEAD_READ_NONE, [SVC_HTTP6] = LIMPET_HEAD_READ_NONE,
		[SVC_L4] = LIMPET_HEAD_READ_NONE, [SVC_COOKIE4] = LIMPET_HEAD_READ_COOKIE,
		[SVC_COOKIE6] = LIMPET_HEAD_READ_COOKIE,
		[SVC_HEADER6] = LIMPET_HEAD_READ_HEADERS,
	};
	struct vip_value v, want;
	struct vip_key k;
	int s;

	for (s = 0; s < SVC_MAX; s++) {
		dp_vip_of(&model.services[s], &k, &want);
		cr_assert_eq(dp_get_vip(dp, &k, &v), 0, "%s: no vips entry", svcs[s].name);
		cr_expect_eq(v.head_read, want_read[s], "%s: head_read %u", svcs[s].name,
			     v.head_read);
		cr_expect_eq(v.hash, svcs[s].affinity == LIMPET_AFFINITY_NONE ? LIMPET_HASH_TUPLE :
									     LIMPET_HASH_CLIENT,
			     "%s: hash %u", svcs[s].name, v.hash);
		cr_expect_eq(v.mode, svcs[s].mode, "%s: mode %u", svcs[s].name, v.mode);
		cr_expect_eq(memcmp(&v, &want, sizeof(v)), 0, "%s", svcs[s].name);
	}
}

/* ---- the L4 path beside it ---- */

Test(synproxy, l4_service_unchanged)
{
	struct pkt_spec syn = to_vip(SVC_L4, 40060, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_L4, 40060, PKT_TCP_ACK);
	struct pkt_spec out, out_ack;
	__u32 id = ring[SVC_L4][limpet_hash_addr(&syn.src) % RING_SIZE];
	int j;

	for (j = 0; j < NBACKENDS && be_id(SVC_L4, j) != id; j++)
		;
	cr_assert(j < NBACKENDS, "slot holds %u", id);
	out = syn;
	out.dst = pkt_addr(svcs[SVC_L4].backends[j]);
	out.dport = BE_PORT;
	out.ttl--;
	out.smac = PKT_MAC_PKS0;
	out.dmac = PKT_MAC_BACKEND(11);
	out.dmac.b[5] += j;
	out_ack = out;
	out_ack.tcp_flags = PKT_TCP_ACK;
	out_ack.ack = ack.ack;
	{
		const struct step steps[] = {
			{ "L4 SYN with options: NAT to the predicted backend, options intact",
			  syn, linux_syn(1460, 7), .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = out, .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
			{ "L4 ACK: same backend, the flow recorded", ack, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_FRAME, .out = out_ack,
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

/* ---- fuzz ---- */

static __u64 rng_state;

static __u32 rnd(void)
{
	return pkt_rand(&rng_state);
}

#define FUZZ_FRAMES 3000
#define FUZZ_SEED 0x73796e70726f7879ull

/*
 * Random options, flags, lengths and byte flips on segments to the HTTP
 * VIPs. Whatever comes in: exactly one outcome counter moves, nothing is
 * passed to the kernel, and a SYN-ACK that goes out is whole: checksums
 * verify, its lengths agree, its option block is one of the five layouts,
 * echoes the TSval the client sent and agrees SACK and window scaling
 * exactly when the client offered them.
 */
Test(synproxy, fuzz)
{
	static const __u8 kinds[] = { 0, 1, 1, 2, 3, 4, 8, 8, 19, 34 };
	static const __u8 lens[] = { 0, 1, 2, 3, 4, 10, 40, 255 };
	static const __u8 flags[] = { PKT_TCP_SYN, PKT_TCP_SYN, PKT_TCP_SYN, PKT_TCP_ACK,
				      PKT_TCP_ACK | PKT_TCP_PSH, PKT_TCP_SYN | PKT_TCP_ECE |
				      PKT_TCP_CWR, PKT_TCP_RST, PKT_TCP_FIN | PKT_TCP_ACK };
	int i, k, count[XDP_REDIRECT + 1] = { 0 };

	rng_state = FUZZ_SEED;
	for (i = 0; i < FUZZ_FRAMES; i++) {
		int s = rnd() % 2 ? SVC_HTTP6 : SVC_HTTP4;
		struct pkt_spec sp = to_vip(s, 1024 + rnd() % 1000, flags[rnd() % sizeof(flags)]);
		struct opts o = { .len = 4 * (rnd() % 11) };
		struct limpet_tcpopt in_opt, out_opt;
		size_t len, l4, l4_len, optlen;
		__u8 in[PKT_MAX];
		struct result r;
		__s64 outcomes = 0;
		char why[64];
		bool in_ok, bare_syn;

		for (k = 0; k < (int)o.len; k++)
			o.b[k] = rnd() % 3 == 0 ? kinds[rnd() % sizeof(kinds)] :
				 rnd() % 2 ? lens[rnd() % sizeof(lens)] : (__u8)rnd();
		if (rnd() % 4 == 0)
			sp.payload_len = rnd() % 200;
		if (s == SVC_HTTP4 && rnd() % 8 == 0)
			sp.ip_opts = 4 * (rnd() % 5);
		if (rnd() % 8 == 0)
			sp.trailer = rnd() % 16;
		sp.seq = rnd();
		sp.ack = rnd();
		len = seg_build(&sp, &o, in, sizeof(in));
		/* Flips from the TCP header on: the IP header stays the VIP's
		 * (test_xdp.c's fuzz covers the parser).
		 */
		l4_of(in, len, &l4, &l4_len, NULL);
		if (rnd() % 6 == 0)
			for (k = rnd() % 3; k >= 0; k--)
				in[l4 + rnd() % (len - l4)] ^= 1 << (rnd() % 8);
		in_ok = pkt_verify(in, len, why, sizeof(why)) == 0;
		bare_syn = l4_len == (size_t)(in[l4 + 12] >> 4) * 4;

		run_frame(in, len, &r);
		cr_assert(r.verdict == XDP_DROP || r.verdict == XDP_REDIRECT || r.verdict == XDP_PASS,
			  "frame %d: verdict %s", i, verdict_name(r.verdict));
		count[r.verdict]++;
		for (k = 0; k < LIMPET_STAT_MAX; k++)
			if (!LIMPET_STAT_IS_EVENT(k))
				outcomes += r.delta[k];
		cr_assert_eq(outcomes, 1, "frame %d: %lld outcomes", i, (long long)outcomes);
		if (r.verdict == XDP_PASS) {
			/* Only frames that are no longer HTTP-VIP TCP may pass. */
			cr_assert(r.delta[LIMPET_STAT_PASS], "frame %d: passed", i);
			continue;
		}
		if (r.verdict != XDP_REDIRECT)
			continue;

		/* A SYN with data is answered on its IP checksum alone. */
		cr_assert(in_ok || !bare_syn, "frame %d: a SYN with a bad checksum was answered",
			  i);
		cr_assert_eq(pkt_verify(r.out, r.out_len, why, sizeof(why)), 0,
			     "frame %d: bad %s in the SYN-ACK", i, why);
		l4_of(r.out, r.out_len, &l4, &l4_len, NULL);
		cr_assert_eq(r.out_len, l4 + l4_len, "frame %d: bytes after the segment", i);
		cr_assert_eq(l4_len, (size_t)(r.out[l4 + 12] >> 4) * 4, "frame %d: doff", i);
		optlen = l4_len - PKT_TCP_LEN;
		cr_assert(optlen == 4 || optlen == 8 || optlen == 12 || optlen == 16 || optlen == 20,
			  "frame %d: %zu option bytes", i, optlen);
		limpet_tcpopt_parse(r.out + l4, (__u32)l4_len, &out_opt);
		l4_of(in, len, &l4, &l4_len, NULL);
		limpet_tcpopt_parse(in + l4, (in[l4 + 12] >> 4) * 4, &in_opt);
		cr_assert_eq(out_opt.ts_ok, in_opt.ts_ok, "frame %d: timestamps", i);
		if (in_opt.ts_ok)
			cr_assert_eq(out_opt.tsecr, in_opt.tsval, "frame %d: TSecr", i);
		cr_assert_eq(out_opt.sack_ok, in_opt.sack_ok, "frame %d: SACK", i);
		cr_assert_eq(out_opt.wscale == LIMPET_WSCALE_NONE, in_opt.wscale == LIMPET_WSCALE_NONE,
			     "frame %d: window scale", i);
		cr_assert_eq(r.delta[LIMPET_STAT_SYNCOOKIE_OWN], !in_opt.ts_ok,
			     "frame %d: limpet's own cookie", i);
	}
	cr_log_info("synproxy fuzz: %d frames: PASS %d DROP %d TX %d", FUZZ_FRAMES,
		    count[XDP_PASS], count[XDP_DROP], count[XDP_REDIRECT]);
	cr_assert(count[XDP_REDIRECT] > 500 && count[XDP_DROP] > 500, "fuzz: DROP %d TX %d",
		  count[XDP_DROP], count[XDP_REDIRECT]);
}

/* ---- reading the first request head (cookie and header affinity) ---- */

/*
 * A token of cookie service <s> for <session>/<tag> issued <age> seconds
 * ago with key slot <k>.
 */
static void token_of(int s, char out[LIMPET_TOKEN_CHARS + 1], __u64 session, __u32 tag,
		     __s64 age, int k)
{
	struct limpet_token_fields f;

	limpet_token_fields_init(&f, session, tag, (__u32)(time(NULL) - age));
	limpet_token_encode(&f, k ? &key_old : &key_new, affinity_tag(svcs[s].name), out);
	out[LIMPET_TOKEN_CHARS] = '\0';
}

/* The same for cookie4. */
static void token(char out[LIMPET_TOKEN_CHARS + 1], __u64 session, __u32 tag, __s64 age, int k)
{
	token_of(SVC_COOKIE4, out, session, tag, age, k);
}

/*
 * Complete a handshake to <s> from <sport>, send <req> as the first data
 * segment, and compare the pending entry XDP left with what the userspace
 * build of the same scanner and checks says about the same bytes (a
 * header key: the session entry XDP wrote when it bound the connection).
 */
static void first_head(int s, __u16 sport, const char *req, __u8 want_outcome, bool want_scanned)
{
	struct pkt_spec syn = to_vip(s, sport, PKT_TCP_SYN);
	const struct step first = {
		"SYN", syn, linux_syn(1460, 7), .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
		.expect = { strchr(svcs[s].vip, ':') ? 1440 : 1460, true, true, 7, false,
			    CLIENT_TSVAL },
		.deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } },
	};
	struct synack_seen seen = handshake(&first);
	size_t n = strlen(req), len;
	struct pkt_spec data = after_synack(&syn, &seen, PKT_TCP_ACK | PKT_TCP_PSH, (__u16)n);
	struct opts o = ts_echo(&seen);
	struct flow_key key = { .src = data.src, .dst = data.dst, .sport = htons(data.sport),
				.dport = htons(data.dport), .proto = IPPROTO_TCP,
				.family = data.family };
	struct http_affinity_value cfg_value, *cfg = &cfg_value;
	struct limpet_token_fields f = { 0 };
	struct limpet_head_scan scan;
	__u8 frame[PKT_MAX], outcome = LIMPET_COOKIE_ABSENT, scanned;
	struct flow_value fv;
	struct result r;
	__u64 hkey = 0;
	int ok = 0;
	size_t i;

	/* The bytes through the userspace build, with what the product told
	 * the data plane to look for.
	 */
	cr_assert_eq(affinity_dp_value(&http.aff, (__u32)s, cfg), 0);
	limpet_head_init(&scan);
	for (i = 0; i < n; i++)
		if (limpet_head_step(&scan, &cfg->head, (__u8)req[i]))
			break;
	scanned = scan.complete ? LIMPET_PENDING_SCANNED : 0;
	if (scan.complete && svcs[s].affinity == LIMPET_AFFINITY_COOKIE)
		outcome = limpet_head_cookie(&scan, &http.keys.verify, cfg->service_tag,
					     (__u64)time(NULL), cfg->cookie_ttl_s, &f);
	if (scan.complete && svcs[s].affinity == LIMPET_AFFINITY_HEADER) {
		hkey = limpet_head_session_key(&scan, &cfg->head, cfg->require_all, &ok);
		if (ok)
			scanned |= LIMPET_PENDING_HEADER_OK;
	}

	len = seg_build(&data, &o, frame, sizeof(frame));
	memcpy(frame + len - n, req, n);
	fix_tcp_csum(frame, len);
	run_frame(frame, len, &r);
	if (ok) {
		/* A header key: the data plane binds the connection itself, and
		 * the session it wrote is under the key userspace computes.
		 */
		struct route_session_key sk = { .service_id = (__u32)s, .kind = SESSION_HEADER,
						.key = hkey };
		struct route_session_value sv;

		cr_assert_eq(r.verdict, XDP_REDIRECT, "header key: bound here, verdict %s",
			     verdict_name(r.verdict));
		cr_assert_eq(dp_flow_get(dp, &key, &fv), 0, "no client entry");
		cr_expect_eq(fv.flags, LIMPET_FLOW_XDP_BINDING);
		cr_assert_eq(dp_route_session_get(dp, &sk, &sv), 0,
			     "no session under the userspace key %llx", (unsigned long long)hkey);
		cr_expect_eq(sv.backend_id, fv.backend_id);
		cr_expect_eq(r.delta[LIMPET_STAT_HEADS_READ], 1);
		dp_flow_del(dp, &key);
		dp_route_session_del(dp, &sk);
		return;
	}
	cr_assert_eq(r.verdict, XDP_DROP, "no AF_XDP socket here: dropped");
	cr_assert_eq(dp_flow_get(dp, &key, &fv), 0, "no pending entry");
	cr_assert_eq(dp_flow_del(dp, &key), 0);
	cr_expect_eq(fv.flags, LIMPET_FLOW_SLOWPATH);
	cr_expect_eq(fv.service_id, (__u32)s);
	cr_expect_eq(fv.pending.cookie_isn, seen.isn);
	cr_expect_eq(fv.pending.scan, scanned, "scan flags %#x, userspace %#x", fv.pending.scan,
		     scanned);
	cr_expect_eq(r.delta[LIMPET_STAT_HEADS_READ], scan.complete ? 1 : 0,
		     "http_heads_read_xdp moved by %lld: %s", (long long)r.delta[LIMPET_STAT_HEADS_READ],
		     req);
	cr_expect_eq(!!(fv.pending.scan & LIMPET_PENDING_SCANNED), want_scanned, "%s", req);
	cr_expect_eq(fv.pending.outcome, outcome, "outcome %u, userspace %u: %s",
		     fv.pending.outcome, outcome, req);
	cr_expect_eq(fv.pending.outcome, want_outcome, "outcome %u, expected %u: %s",
		     fv.pending.outcome, want_outcome, req);
	if (outcome == LIMPET_COOKIE_VALID) {
		cr_expect_eq(fv.pending.session, f.session);
		cr_expect_eq(fv.pending.backend_tag, f.backend_tag);
	}
	cr_expect_eq(fv.pending.header_key, hkey, "header key %llx, userspace %llx",
		     (unsigned long long)fv.pending.header_key, (unsigned long long)hkey);
}

Test(synproxy, first_head_cookies_read_in_xdp)
{
	char good[LIMPET_TOKEN_CHARS + 1], old_key[LIMPET_TOKEN_CHARS + 1];
	char expired[LIMPET_TOKEN_CHARS + 1], bad[LIMPET_TOKEN_CHARS + 1];
	char req[2048];
	__u16 port = 41000;

	token(good, 0x1122334455667788ull, 0xb0b0b0b0, 100, 0);
	token(old_key, 0x99, 7, 100, 1);
	token(expired, 0x42, 7, COOKIE_TTL_S + 5, 0);
	memcpy(bad, good, sizeof(bad));
	bad[20] = bad[20] == 'A' ? 'B' : 'A';

#define HEAD(...) (snprintf(req, sizeof(req), __VA_ARGS__), req)
	first_head(SVC_COOKIE4, port++, HEAD("GET / HTTP/1.1\r\nHost: a\r\nCookie: lb=%s\r\n\r\n",
					       good), LIMPET_COOKIE_VALID, true);
	first_head(SVC_COOKIE4, port++, HEAD("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
		   LIMPET_COOKIE_ABSENT, true);
	first_head(SVC_COOKIE4, port++,
		   HEAD("GET /x HTTP/1.1\r\ncookie: _ga=GA1.2.3; lb=\"%s\"; theme=dark\r\n"
			"User-Agent: curl/8\r\n\r\n", old_key), LIMPET_COOKIE_VALID, true);
	first_head(SVC_COOKIE4, port++,
		   HEAD("GET / HTTP/1.1\r\nCookie: lb=%s\r\nCOOKIE: a=b; lb=%s\r\n\r\n", bad, good),
		   LIMPET_COOKIE_VALID, true);
	first_head(SVC_COOKIE4, port++, HEAD("GET / HTTP/1.1\r\nCookie: lb=%s\r\n\r\n", bad),
		   LIMPET_COOKIE_BAD_MAC, true);
	first_head(SVC_COOKIE4, port++, HEAD("GET / HTTP/1.1\r\nCookie: lb=%s\r\n\r\n", expired),
		   LIMPET_COOKIE_EXPIRED, true);
	first_head(SVC_COOKIE4, port++, HEAD("GET / HTTP/1.1\r\nCookie: lb=short; lbx=%s\r\n\r\n",
					       good), LIMPET_COOKIE_MALFORMED, true);
	first_head(SVC_COOKIE4, port++, HEAD("GET / HTTP/1.1\nCookie:lb=%s\n\n", good),
		   LIMPET_COOKIE_VALID, true);
	/* The head goes on in a later segment: XDP leaves it to the slow path. */
	first_head(SVC_COOKIE4, port++, HEAD("GET / HTTP/1.1\r\nCookie: lb=%s\r\nX-A: 1\r\n", good),
		   LIMPET_COOKIE_ABSENT, false);
	/* A head of 1.3 KB with the cookie at its end. */
	{
		char pad[1200];

		memset(pad, 'p', sizeof(pad) - 1);
		pad[sizeof(pad) - 1] = '\0';
		first_head(SVC_COOKIE4, port++,
			   HEAD("GET / HTTP/1.1\r\nX-Pad: %s\r\nCookie: lb=%s\r\n\r\n", pad, good),
			   LIMPET_COOKIE_VALID, true);
	}
}

Test(synproxy, first_head_headers_read_in_xdp)
{
	char req[512];
	__u16 port = 42000;

	first_head(SVC_HEADER6, port++,
		   HEAD("GET / HTTP/1.1\r\nX-Session-Id: u-1\r\nx-tenant:  acme \r\n\r\n"),
		   LIMPET_COOKIE_ABSENT, true);
	/* require_all: one header of two is no key. */
	first_head(SVC_HEADER6, port++, HEAD("GET / HTTP/1.1\r\nX-Session-Id: u-1\r\n\r\n"),
		   LIMPET_COOKIE_ABSENT, true);
	first_head(SVC_HEADER6, port++, HEAD("GET / HTTP/1.1\r\nX-Session-Id: u-1\r\n"),
		   LIMPET_COOKIE_ABSENT, false);
#undef HEAD
}

/* ---- binding in XDP (bpf/lib/bind.h): affinity none ---- */

#define BE_ISN 0x50607080u
#define BE_TSVAL 0x00007000u
#define BE_WSCALE 9

static struct flow_key key_of_spec(const struct pkt_spec *sp)
{
	struct flow_key k = { .src = sp->src, .dst = sp->dst, .sport = htons(sp->sport),
			      .dport = htons(sp->dport), .proto = IPPROTO_TCP,
			      .family = sp->family };

	return k;
}

/* Index into svcs[s].backends of backend id <id>. */
static int be_index(int s, __u32 id)
{
	int j;

	for (j = 0; j < NBACKENDS; j++)
		if (be_id(s, j) == id)
			return j;
	cr_assert_fail("backend id %u is none of %s's", id, svcs[s].name);
	return -1;
}

/*
 * The backend the slow path's ring walk gives connection <k> when the
 * backends with ids in <tried> (n_tried of them) refused: the same table
 * (dp_ring()), from the 5-tuple's hash onwards.
 */
static int ring_pick(int s, const struct flow_key *k, const __u32 *tried, int n_tried)
{
	__u32 hash = limpet_hash_tuple(&k->src, &k->dst, k->sport, k->dport, IPPROTO_TCP), step;
	int i;

	for (step = 0; step < RING_SIZE; step++) {
		__u32 id = ring[s][(hash + step) % RING_SIZE];
		bool skip = false;

		for (i = 0; i < n_tried; i++)
			skip |= tried[i] == id;
		if (!skip)
			return be_index(s, id);
	}
	return -1;
}

/*
 * The SYN the slow path's send_syn() would send backend <j> for the client
 * segment <data> (whose SYN was linux_syn(mss, 7), ISN data.seq - 1): the
 * client's addresses and window, our IP header, options from the cookie.
 */
static size_t want_syn(int s, int j, const struct pkt_spec *data, __u16 mss, __u8 *f)
{
	struct pkt_spec syn = *data;
	struct opts o = { .len = 0 };
	bool v6 = data->family == LIMPET_FAMILY_V6;

	syn.dmac = PKT_MAC_BACKEND(11 + j);
	syn.smac = PKT_MAC_PKS0;
	syn.dst = pkt_addr(svcs[s].backends[j]);
	syn.dport = BE_PORT;
	syn.tcp_flags = PKT_TCP_SYN;
	syn.seq = data->seq - 1;
	syn.ack = 0;
	syn.payload_len = 0;
	syn.ip_id = 0;
	syn.frag = PKT_IP_DF;
	syn.ttl = 64;
	opt_mss(&o, v6 ? mss - 20 : mss);
	OPT(&o, 4, 2);
	opt_ts(&o, CLIENT_TSVAL + 1, 0);
	OPT(&o, 1, 3, 3, 7);
	return seg_build(&syn, &o, f, PKT_MAX);
}

static void expect_frame(const char *desc, const struct result *r, const __u8 *want, size_t len)
{
	char why[64];
	size_t i;

	cr_assert_eq(pkt_verify(r->out, r->out_len, why, sizeof(why)), 0, "%s: bad %s", desc, why);
	cr_assert_eq(r->out_len, len, "%s: length %zu, expected %zu", desc, r->out_len, len);
	for (i = 0; i < len; i++)
		cr_assert_eq(r->out[i], want[i], "%s: byte %zu is %#x, expected %#x", desc, i,
			     r->out[i], want[i]);
}

static void expect_only(const char *desc, const struct result *r, int stat1, int stat2)
{
	const struct delta d[MAX_DELTAS + 1] = { { stat1, 1 }, { stat2, stat2 >= 0 ? 1 : 0 } };

	check_deltas(desc, r, d, stat2 >= 0 ? 2 : 1);
}

/* The first request segment of a new connection to <s> from <sport>. */
static size_t first_segment(int s, __u16 sport, const char *req, struct pkt_spec *data,
			    struct synack_seen *seen, __u8 *frame)
{
	struct pkt_spec syn = to_vip(s, sport, PKT_TCP_SYN);
	const struct step first = {
		"SYN", syn, linux_syn(1460, 7), .verdict = XDP_REDIRECT, .out_kind = OUT_SYNACK,
		.expect = { strchr(svcs[s].vip, ':') ? 1440 : 1460, true, true, 7, false,
			    CLIENT_TSVAL },
		.deltas = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 } },
	};
	struct opts o;
	size_t n = strlen(req), len;

	*seen = handshake(&first);
	*data = after_synack(&syn, seen, PKT_TCP_ACK | PKT_TCP_PSH, (__u16)n);
	o = ts_echo(seen);
	len = seg_build(data, &o, frame, PKT_MAX);
	memcpy(frame + len - n, req, n);
	fix_tcp_csum(frame, len);
	return len;
}

/* A segment from backend <j> of <s> to the client of <data>. */
static size_t from_backend(int s, int j, const struct pkt_spec *data, __u8 flags, __u32 seq,
			   __u32 ack, const struct opts *o, __u8 *f)
{
	struct pkt_spec b = *data;

	b.dmac = PKT_MAC_PKS0;
	b.smac = PKT_MAC_BACKEND(11 + j);
	b.src = pkt_addr(svcs[s].backends[j]);
	b.sport = BE_PORT;
	b.dst = data->src;
	b.dport = data->sport;
	b.tcp_flags = flags;
	b.seq = seq;
	b.ack = ack;
	b.payload_len = 0;
	return seg_build(&b, o, f, PKT_MAX);
}

static void bind_in_xdp(int s)
{
	static const char req[] = "GET /bound HTTP/1.1\r\nHost: a\r\n\r\n";
	__u8 frame[PKT_MAX], want[PKT_MAX], synack[PKT_MAX];
	struct pkt_spec data, est, held;
	struct synack_seen seen;
	struct flow_value fv;
	struct flow_key ck, bk;
	struct opts o = { .len = 0 }, ho;
	struct result r;
	size_t len, want_len, synack_len, n = sizeof(req) - 1;
	bool v6 = strchr(svcs[s].vip, ':') != NULL;
	int j;

	len = first_segment(s, 43000, req, &data, &seen, frame);
	ck = key_of_spec(&data);
	j = ring_pick(s, &ck, NULL, 0);

	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "first segment: verdict %s",
		     verdict_name(r.verdict));
	expect_only("first segment", &r, LIMPET_STAT_HTTP_BIND_SYN, -1);
	want_len = want_syn(s, j, &data, 1460, want);
	expect_frame("first segment -> SYN to the ring's backend", &r, want, want_len);

	cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0, "no client entry");
	cr_expect_eq(fv.flags, LIMPET_FLOW_XDP_BINDING);
	cr_expect_eq(fv.backend_id, be_id(s, j));
	cr_expect_eq(fv.bind.client_isn, data.seq - 1);
	cr_expect_eq(fv.bind.cookie_isn, seen.isn);
	cr_expect_eq(fv.bind.our_tsval, seen.tsval);
	bk = (struct flow_key){ .src = pkt_addr(svcs[s].backends[j]), .dst = data.src,
				.sport = htons(BE_PORT), .dport = htons(data.sport),
				.proto = IPPROTO_TCP, .family = data.family };
	cr_assert_eq(dp_flow_get(dp, &bk, &fv), 0, "no backend entry");
	cr_expect_eq(fv.flags, LIMPET_FLOW_XDP_BINDING | LIMPET_FLOW_RET);

	/* The client retransmits its segment: the SYN again, the same bytes. */
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT);
	expect_only("retransmission", &r, LIMPET_STAT_HTTP_BIND_SYN, -1);
	expect_frame("retransmission -> the same SYN", &r, want, want_len);

	/* The backend's SYN-ACK: MSS, SACK-perm, TS, NOP, WS 9. */
	opt_mss(&o, 1400);
	OPT(&o, 4, 2);
	opt_ts(&o, BE_TSVAL, CLIENT_TSVAL + 1);
	OPT(&o, 1, 3, 3, BE_WSCALE);
	synack_len = from_backend(s, j, &data, PKT_TCP_SYN | PKT_TCP_ACK, BE_ISN, data.seq, &o,
				  synack);
	run_frame(synack, synack_len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "SYN-ACK: verdict %s", verdict_name(r.verdict));
	{
		const struct delta d[] = { { LIMPET_STAT_HTTP_BOUND_XDP, 1 },
					   { LIMPET_STAT_SPLICE_FWD, 1 } };

		check_deltas("SYN-ACK", &r, d, 2);
	}
	/* What relay_held() sends: the held segment to the backend, its ack
	 * in the backend's space, TSecr the backend's TSval, TSval kept (the
	 * SYN's), the window unchanged (the backend scales too), one hop less.
	 */
	held = data;
	held.dmac = PKT_MAC_BACKEND(11 + j);
	held.smac = PKT_MAC_PKS0;
	held.dst = pkt_addr(svcs[s].backends[j]);
	held.dport = BE_PORT;
	held.ack = BE_ISN + 1;
	held.ttl = 63;
	ho.len = 0;
	OPT(&ho, 1, 1);
	opt_ts(&ho, CLIENT_TSVAL + 1, BE_TSVAL);
	want_len = seg_build(&held, &ho, want, sizeof(want));
	memcpy(want + want_len - n, req, n);
	fix_tcp_csum(want, want_len);
	expect_frame("SYN-ACK -> the held segment", &r, want, want_len);

	cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0);
	cr_expect_eq(fv.flags, LIMPET_FLOW_SPLICE | LIMPET_FLOW_SEQ_NEXT);
	cr_expect_eq(fv.backend_id, be_id(s, j));
	cr_expect_eq(fv.seq_next, data.seq + n);
	cr_expect_eq(fv.sp.ack_delta, seen.isn - BE_ISN);
	cr_expect_eq(fv.sp.tsecr_delta, seen.tsval - BE_TSVAL);
	cr_expect_eq(fv.sp.flags, LIMPET_SPLICE_TS);
	cr_assert_eq(dp_flow_get(dp, &bk, &fv), 0);
	cr_expect_eq(fv.flags, LIMPET_FLOW_SPLICE | LIMPET_FLOW_RET);
	cr_expect_eq(fv.sp.seq_delta, seen.isn - BE_ISN);
	cr_expect_eq(fv.sp.tsval_delta, seen.tsval - BE_TSVAL);
	cr_expect_eq(fv.sp.wscale_in, BE_WSCALE);
	cr_expect_eq(fv.sp.wscale_out, LIMPET_OUR_WSCALE);
	cr_expect(pkt_addr_eq(&fv.vip, &data.dst));

	/* The client's next segment goes through the installed translation. */
	est = data;
	est.seq = data.seq + n;
	est.payload_len = 10;
	len = seg_build(&est, &ho, frame, sizeof(frame));
	o.len = 0;
	OPT(&o, 1, 1);
	opt_ts(&o, CLIENT_TSVAL + 2, seen.tsval + 5);
	len = seg_build(&est, &o, frame, sizeof(frame));
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT);
	expect_only("established", &r, LIMPET_STAT_SPLICE_FWD, -1);
	held = est;
	held.dmac = PKT_MAC_BACKEND(11 + j);
	held.smac = PKT_MAC_PKS0;
	held.dst = pkt_addr(svcs[s].backends[j]);
	held.dport = BE_PORT;
	held.ack = BE_ISN + 1;
	held.ttl = 63;
	o.len = 0;
	OPT(&o, 1, 1);
	opt_ts(&o, CLIENT_TSVAL + 2, BE_TSVAL + 5);
	want_len = seg_build(&held, &o, want, sizeof(want));
	expect_frame("established segment translated", &r, want, want_len);
	(void)v6;
	dp_flow_del(dp, &ck);
	dp_flow_del(dp, &bk);
}

Test(synproxy, bind_in_xdp4)
{
	bind_in_xdp(SVC_NONE4);
}

Test(synproxy, bind_in_xdp6)
{
	bind_in_xdp(SVC_NONE6);
}

/*
 * Every backend refuses: each RST to our SYN becomes the SYN to the next
 * backend on the ring; after the last, the connection is the slow path's
 * (its pending entry), which answers the client's next retransmission.
 */
static void bind_refused(int s)
{
	static const char req[] = "GET /refused HTTP/1.1\r\n\r\n";
	__u8 frame[PKT_MAX], want[PKT_MAX], rst[PKT_MAX];
	__u32 tried[NBACKENDS];
	struct pkt_spec data;
	struct synack_seen seen;
	struct flow_value fv;
	struct flow_key ck;
	struct result r;
	size_t len, want_len, rst_len;
	int i, j;

	len = first_segment(s, 44000, req, &data, &seen, frame);
	ck = key_of_spec(&data);
	j = ring_pick(s, &ck, NULL, 0);
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT);
	want_len = want_syn(s, j, &data, 1460, want);
	expect_frame("first SYN", &r, want, want_len);

	for (i = 0; i < NBACKENDS; i++) {
		tried[i] = be_id(s, j);
		/* A stray RST that does not answer our SYN changes nothing. */
		rst_len = from_backend(s, j, &data, PKT_TCP_RST | PKT_TCP_ACK, 0, data.seq + 7,
				       NULL, rst);
		run_frame(rst, rst_len, &r);
		cr_assert_eq(r.verdict, XDP_DROP);
		expect_only("stray RST", &r, LIMPET_STAT_HTTP_BIND_DROP, -1);

		rst_len = from_backend(s, j, &data, PKT_TCP_RST | PKT_TCP_ACK, 0, data.seq, NULL,
				       rst);
		run_frame(rst, rst_len, &r);
		if (i + 1 == NBACKENDS)
			break;
		j = ring_pick(s, &ck, tried, i + 1);
		cr_assert_eq(r.verdict, XDP_REDIRECT, "RST %d: verdict %s", i,
			     verdict_name(r.verdict));
		expect_only("RST -> next SYN", &r, LIMPET_STAT_HTTP_BIND_SYN, -1);
		want_len = want_syn(s, j, &data, 1460, want);
		expect_frame("RST -> SYN to the next backend", &r, want, want_len);
		cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0);
		cr_expect_eq(fv.backend_id, be_id(s, j));
		cr_expect_eq(fv.bind.n_tried, i + 2);
	}
	cr_assert_eq(r.verdict, XDP_DROP, "last RST: verdict %s", verdict_name(r.verdict));
	expect_only("last RST", &r, LIMPET_STAT_HTTP_BIND_DROP, LIMPET_STAT_HTTP_BIND_FALLBACK);
	cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0);
	cr_expect_eq(fv.flags, LIMPET_FLOW_SLOWPATH);
	cr_expect_eq(fv.pending.client_isn, data.seq - 1);
	cr_expect_eq(fv.pending.cookie_isn, seen.isn);
	/* The client's retransmission: to the slow path (no socket here). */
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_DROP);
	expect_only("retransmission after", &r, LIMPET_STAT_SLOWPATH_DOWN, -1);
	dp_flow_del(dp, &ck);
}

Test(synproxy, bind_refused4)
{
	bind_refused(SVC_NONE4);
}

Test(synproxy, bind_refused6)
{
	bind_refused(SVC_NONE6);
}

/*
 * A backend that stays silent past http.connect_timeout (1 ms here): the
 * client's next retransmission of its segment becomes the SYN to the next
 * backend on the ring, as the slow path's next_backend() picks it.
 */
Test(synproxy, bind_connect_timeout)
{
	static const char req[] = "GET /slow HTTP/1.1\r\n\r\n";
	__u8 frame[PKT_MAX], want[PKT_MAX];
	struct pkt_spec data;
	struct synack_seen seen;
	struct flow_value fv;
	struct flow_key ck;
	struct result r;
	__u32 tried[1];
	size_t len, want_len;
	int j, next;

	len = first_segment(SVC_NONE4T, 45000, req, &data, &seen, frame);
	ck = key_of_spec(&data);
	j = ring_pick(SVC_NONE4T, &ck, NULL, 0);
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT);
	want_len = want_syn(SVC_NONE4T, j, &data, 1460, want);
	expect_frame("first SYN", &r, want, want_len);

	usleep(30000);	/* past 1 ms on the coarse clock (a tick or a few) */
	tried[0] = be_id(SVC_NONE4T, j);
	next = ring_pick(SVC_NONE4T, &ck, tried, 1);
	cr_assert_neq(next, j);
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT);
	expect_only("retransmission past the timeout", &r, LIMPET_STAT_HTTP_BIND_SYN, -1);
	want_len = want_syn(SVC_NONE4T, next, &data, 1460, want);
	expect_frame("retransmission past the timeout -> SYN to the next backend", &r, want,
		     want_len);
	cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0);
	cr_expect_eq(fv.backend_id, be_id(SVC_NONE4T, next));
	cr_expect_eq(fv.bind.n_tried, 2);
	dp_flow_del(dp, &ck);
}

/*
 * Cookie affinity, a valid cookie naming each backend in turn: the data
 * plane reads the head, routes by the token (policy pin: its backend) and
 * binds the connection itself, the SYN going to that backend, not the
 * ring's. Its backend refusing is the slow path's to handle (failover
 * mode, cookie re-issue): the RST hands the connection over. A valid
 * cookie naming no backend of the service stays the slow path's.
 */
static void bind_cookie(int s)
{
	__u8 frame[PKT_MAX], want[PKT_MAX], rst[PKT_MAX];
	char tok[LIMPET_TOKEN_CHARS + 1], req[256], name[LIMPET_NAME_MAX];
	struct synack_seen seen;
	struct pkt_spec data;
	struct flow_value fv;
	struct flow_key ck;
	struct result r;
	size_t len, want_len, rst_len;
	int j;

	for (j = 0; j < NBACKENDS; j++) {
		snprintf(name, sizeof(name), "%s-b%d", svcs[s].name, j);
		token_of(s, tok, 0x5eed0000ull + (__u64)j, affinity_tag(name), 10, 0);
		snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nCookie: lb=%s\r\n\r\n", tok);
		len = first_segment(s, (__u16)(45000 + j), req, &data, &seen, frame);
		ck = key_of_spec(&data);
		run_frame(frame, len, &r);
		cr_assert_eq(r.verdict, XDP_REDIRECT, "cookie for b%d: verdict %s", j,
			     verdict_name(r.verdict));
		want_len = want_syn(s, j, &data, 1460, want);
		expect_frame("valid cookie -> SYN to its backend", &r, want, want_len);
		cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0, "no client entry");
		cr_expect_eq(fv.flags, LIMPET_FLOW_XDP_BINDING);
		cr_expect_eq(fv.backend_id, be_id(s, j));

		/* The backend refuses: the slow path's, no other backend tried here. */
		rst_len = from_backend(s, j, &data, PKT_TCP_RST | PKT_TCP_ACK, 0, data.seq, NULL,
				       rst);
		run_frame(rst, rst_len, &r);
		cr_assert_eq(r.verdict, XDP_DROP, "RST: verdict %s", verdict_name(r.verdict));
		expect_only("RST", &r, LIMPET_STAT_HTTP_BIND_DROP, LIMPET_STAT_HTTP_BIND_FALLBACK);
		cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0);
		cr_expect_eq(fv.flags, LIMPET_FLOW_SLOWPATH);
		dp_flow_del(dp, &ck);
	}

	/* A valid cookie whose tag names no backend: read here, decided there. */
	token_of(s, tok, 0x5eedffffull, 0xb0b0b0b0, 10, 0);
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nCookie: lb=%s\r\n\r\n", tok);
	len = first_segment(s, 45100, req, &data, &seen, frame);
	ck = key_of_spec(&data);
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_DROP, "unknown tag: verdict %s", verdict_name(r.verdict));
	expect_only("unknown tag", &r, LIMPET_STAT_SLOWPATH_DOWN, LIMPET_STAT_HEADS_READ);
	cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0);
	cr_expect_eq(fv.flags, LIMPET_FLOW_SLOWPATH);
	cr_expect_eq(fv.pending.outcome, LIMPET_COOKIE_VALID);
	dp_flow_del(dp, &ck);
}

Test(synproxy, bind_cookie4)
{
	bind_cookie(SVC_COOKIE4);
}

Test(synproxy, bind_cookie6)
{
	bind_cookie(SVC_COOKIE6);
}

/* The ring's backend for a client_ip connection from <src>: the address's hash. */
static int client_ring_pick(int s, const struct limpet_addr *src)
{
	__u32 hash = limpet_hash_addr(src);

	return be_index(s, ring[s][hash % RING_SIZE]);
}

static __u64 boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

/*
 * Client-IP affinity, nothing inserted: the data plane binds the first
 * request itself. A client without a session goes to the ring's backend
 * for its address, and its session entry is written; a live entry (as the
 * slow path leaves one) sends the next connection to its backend and is
 * refreshed; an expired one counts for nothing. The session's backend
 * refusing is the slow path's to handle (failover mode).
 */
static void bind_client_ip(int s)
{
	static const char req[] = "GET /mine HTTP/1.1\r\nHost: a\r\n\r\n";
	__u8 frame[PKT_MAX], want[PKT_MAX], rst[PKT_MAX];
	struct route_session_value sv, got;
	struct route_session_key sk = { .service_id = (__u32)s, .kind = SESSION_CLIENT };
	struct synack_seen seen;
	struct pkt_spec data;
	struct flow_value fv;
	struct flow_key ck, bk;
	struct result r;
	size_t len, want_len, rst_len;
	__u64 before;
	int j, k;

	/* No session yet: the ring's pick for the address, remembered. */
	len = first_segment(s, 46000, req, &data, &seen, frame);
	ck = key_of_spec(&data);
	sk.key = limpet_client_session_key(&ck.src);
	dp_route_session_del(dp, &sk);
	j = client_ring_pick(s, &ck.src);
	before = boot_ns();
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "no session: verdict %s", verdict_name(r.verdict));
	expect_only("no session", &r, LIMPET_STAT_HTTP_BIND_SYN, -1);
	want_len = want_syn(s, j, &data, 1460, want);
	expect_frame("no session -> SYN to the ring's backend for the address", &r, want,
		     want_len);
	cr_assert_eq(dp_route_session_get(dp, &sk, &got), 0, "no session entry written");
	cr_expect_eq(got.backend_id, be_id(s, j));
	cr_expect_gt(got.ttl_s, 0);
	cr_expect(got.last_use_ns >= before && got.last_use_ns <= boot_ns(), "last use %llu",
		  (unsigned long long)got.last_use_ns);
	dp_flow_del(dp, &ck);
	bk = (struct flow_key){ .src = pkt_addr(svcs[s].backends[j]), .dst = data.src,
				.sport = htons(BE_PORT), .dport = htons(data.sport),
				.proto = IPPROTO_TCP, .family = data.family };
	dp_flow_del(dp, &bk);

	/* A live session on another backend, as the slow path writes one. */
	k = (j + 1) % NBACKENDS;
	sv = (struct route_session_value){ .backend_id = be_id(s, k), .ttl_s = 600,
					   .last_use_ns = boot_ns() - 1000000000ull };
	cr_assert_eq(dp_route_session_set(dp, &sk, &sv), 0);
	len = first_segment(s, 46001, req, &data, &seen, frame);
	ck = key_of_spec(&data);
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "live session: verdict %s",
		     verdict_name(r.verdict));
	expect_only("live session", &r, LIMPET_STAT_HTTP_BIND_SYN, -1);
	want_len = want_syn(s, k, &data, 1460, want);
	expect_frame("live session -> SYN to its backend", &r, want, want_len);
	cr_assert_eq(dp_route_session_get(dp, &sk, &got), 0);
	cr_expect_eq(got.backend_id, be_id(s, k));
	cr_expect_gt(got.last_use_ns, sv.last_use_ns, "the session's last use is not refreshed");

	/* Its backend refuses: the slow path's (failover), no other one tried here. */
	rst_len = from_backend(s, k, &data, PKT_TCP_RST | PKT_TCP_ACK, 0, data.seq, NULL, rst);
	run_frame(rst, rst_len, &r);
	cr_assert_eq(r.verdict, XDP_DROP, "RST: verdict %s", verdict_name(r.verdict));
	expect_only("RST", &r, LIMPET_STAT_HTTP_BIND_DROP, LIMPET_STAT_HTTP_BIND_FALLBACK);
	cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0);
	cr_expect_eq(fv.flags, LIMPET_FLOW_SLOWPATH);
	dp_flow_del(dp, &ck);

	/* An expired session on that backend: the ring's pick again, rewritten. */
	sv.last_use_ns = boot_ns() - 601ull * 1000000000ull;
	cr_assert_eq(dp_route_session_set(dp, &sk, &sv), 0);
	len = first_segment(s, 46002, req, &data, &seen, frame);
	ck = key_of_spec(&data);
	run_frame(frame, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT);
	want_len = want_syn(s, j, &data, 1460, want);
	expect_frame("expired session -> SYN to the ring's backend", &r, want, want_len);
	cr_assert_eq(dp_route_session_get(dp, &sk, &got), 0);
	cr_expect_eq(got.backend_id, be_id(s, j));
	dp_flow_del(dp, &ck);
	bk.dport = htons(data.sport);
	dp_flow_del(dp, &bk);
	dp_route_session_del(dp, &sk);
}

Test(synproxy, bind_client_ip4)
{
	bind_client_ip(SVC_CLIENT4);
}

Test(synproxy, bind_client_ip6)
{
	bind_client_ip(SVC_CLIENT6);
}
