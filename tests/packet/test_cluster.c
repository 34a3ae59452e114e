/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_cluster.c - a cluster node's data plane (bpf/lib/cluster.h) through
 * bpf_prog_test_run_opts(): the node's id in the TSvals it writes, and the
 * segments of spliced connections another node bound, sent to that node.
 *
 * The configuration is a cluster of five nodes, this one "b" (ids are the
 * places of the sorted names: a 0, b 1, c 2, d 3, e 4, three bits):
 *   a  10.20.0.13   on pks0's link (a PERMANENT neighbour of run.sh)
 *   c  fd00:20::12  on pks0's link, IPv6
 *   d  10.99.0.1    no route to it
 *   e  10.98.0.1    behind a router (10.20.0.13): reached encapsulated
 * An HTTP service per family, and an L4 NAT service one of whose backends
 * is also the IPv4 HTTP service's: its claim of that backend wins.
 *
 * Runs inside the namespace of tests/packet/run.sh (make packet).
 */
#include <errno.h>
#include <string.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>

#include "dp/cluster.h"
#include "dp/dataplane.h"
#include "dp/maps.h"
#include "harness.h"
#include "limpet_tcpopt.h"
#include "pkt.h"
#include "product.h"

#define FLOW_ENTRIES 1024
#define SELF_ID 1
#define ID_A 0
#define ID_C 2
#define ID_D 3
#define ID_E 4
#define TAG_BITS 3

static const struct limpet_ts_tag self_tag = { .bits = TAG_BITS, .id = SELF_ID };

static struct dataplane *dp;
static struct model model;
static struct http http;
static char secret_file[256];
static int prog_fd, if_client, if_backend;

static const char config_fmt[] =
	"instance: pktcl\n"
	"interfaces:\n  - name: pkc0\n"
	"secret_file: %s\n"
	"cluster:\n"
	"  node: b\n"
	"  nodes:\n"
	"    - {name: d, address: 10.99.0.1}\n"
	"    - {name: a, address: 10.20.0.13}\n"
	"    - {name: c, address: \"fd00:20::12\"}\n"
	"    - {name: b, address: 10.20.0.1}\n"
	"    - {name: e, address: 10.98.0.1}\n"
	"services:\n"
	"  - name: web4\n    vip: 10.100.0.1\n    port: 80\n    mode: http\n"
	"    affinity: {type: none}\n    health: {type: none}\n    backends:\n"
	"      - {name: h1, address: 10.20.0.11, port: 8080}\n"
	"      - {name: h2, address: 10.20.0.12, port: 8080}\n"
	"  - name: web6\n    vip: \"fd00:100::1\"\n    port: 80\n    mode: http\n"
	"    affinity: {type: none}\n    health: {type: none}\n    backends:\n"
	"      - {name: h1, address: \"fd00:20::11\", port: 8080}\n"
	"  - name: tcp4\n    vip: 10.100.0.2\n    port: 80\n    mode: l4\n"
	"    affinity: {type: none}\n    health: {type: none}\n    backends:\n"
	"      - {name: t1, address: 10.20.0.12, port: 8080}\n";

static void setup(void)
{
	char yaml[4096];

	pkt_ifaces(&if_client, &if_backend);
	dp = pkt_load(FLOW_ENTRIES, &prog_fd);
	product_write_file(secret_file, sizeof(secret_file), "clsecret", "");
	unlink(secret_file);	/* created with a fresh key by the product */
	snprintf(yaml, sizeof(yaml), config_fmt, secret_file);
	product_model(yaml, &model);
	product_program(dp, &model);
	product_program_http(&http, dp, &model);
	cr_assert_eq(dp_ts_tag(dp).bits, TAG_BITS);
	cr_assert_eq(dp_ts_tag(dp).id, SELF_ID);
}

static void teardown(void)
{
	http_free(&http);
	dp_close(dp);
	model_free(&model);
	unlink(secret_file);
}

TestSuite(cluster, .init = setup, .fini = teardown, .timeout = 60);

/* NOP NOP TS <val> <ecr>: what Linux puts on every segment. */
static void ts_opts(__u8 o[12], __u32 val, __u32 ecr)
{
	o[0] = o[1] = 1;
	o[2] = 8;
	o[3] = 10;
	pkt_put32(o + 4, val);
	pkt_put32(o + 8, ecr);
}

/* A client's data segment to <vip>:80 echoing <ecr> (no TS option: ecr ~0u). */
static struct pkt_spec client_data(const char *client, const char *vip)
{
	struct pkt_spec s = pkt_tcp(client, 40000, vip, 80, PKT_TCP_ACK | PKT_TCP_PSH);

	s.payload_len = 100;
	return s;
}

/* A backend's segment to a client, arriving on pks0. */
static struct pkt_spec backend_reply(const char *backend, const char *client)
{
	struct pkt_spec s = pkt_tcp(backend, 8080, client, 40000, PKT_TCP_ACK);

	s.dmac = PKT_MAC_PKS0;
	s.smac = PKT_MAC_BACKEND(11);
	s.payload_len = 64;
	return s;
}

static size_t build(const struct pkt_spec *s, __u32 tsval, __u32 ecr, bool ts, __u8 *f)
{
	__u8 o[12];
	size_t len;

	ts_opts(o, tsval, ecr);
	len = pkt_build_tcp_opts(s, ts ? o : NULL, ts ? sizeof(o) : 0, f, PKT_MAX);
	cr_assert(len, "frame too long");
	return len;
}

static void run(int ifindex, const __u8 *in, size_t len, struct result *r)
{
	xdp_run_frame(dp, prog_fd, ifindex, in, len, r);
}

/* Only <stat> moved, by one (0: nothing moved). */
static void expect_only(const char *desc, const struct result *r, int stat)
{
	struct delta d[1] = { { stat, stat >= 0 ? 1 : 0 } };

	check_deltas(desc, r, d, stat >= 0 ? 1 : 0);
}

#define TSVAL 0x777	/* the sender's, in every segment built here */

/*
 * <s>, echoing <ecr> (or without timestamps, <ts> false), arriving on
 * <ifindex>, must leave for the node of MAC <dmac>: unchanged but for its
 * MACs (from pks0) and one hop less.
 */
static void expect_sent_to_node(const char *desc, int ifindex, struct pkt_spec s, bool ts,
				__u32 ecr, struct pkt_mac dmac)
{
	__u8 in[PKT_MAX], want[PKT_MAX];
	size_t len = build(&s, TSVAL, ecr, ts, in), want_len;
	struct result r;

	run(ifindex, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "%s: verdict %s", desc, verdict_name(r.verdict));
	s.dmac = dmac;
	s.smac = PKT_MAC_PKS0;
	s.ttl--;
	want_len = build(&s, TSVAL, ecr, ts, want);
	if (r.out_len != want_len || memcmp(r.out, want, want_len)) {
		char diff[512];

		pkt_diff(r.out, r.out_len, want, want_len, diff, sizeof(diff));
		cr_assert_fail("%s: frame differs: %s", desc, diff);
	}
	expect_only(desc, &r, LIMPET_STAT_CLUSTER_FORWARD);
}

static void expect_to_node(const char *desc, int ifindex, struct pkt_spec s, __u32 ecr,
			   struct pkt_mac dmac)
{
	expect_sent_to_node(desc, ifindex, s, true, ecr, dmac);
}

/* An ack <bytes> past an ISN that node <id> chose (limpet_isn_tag()). */
static __u32 ack_of_node(__u32 id, __u32 bytes)
{
	return (id << (32 - TAG_BITS)) + 0x01234567u + bytes;
}

/* <s> (echoing <ecr>, or without timestamps) handled here: <verdict>, <stat> +1 alone. */
static void expect_here(const char *desc, int ifindex, const struct pkt_spec *s, bool ts,
			__u32 ecr, int verdict, int stat)
{
	__u8 in[PKT_MAX];
	size_t len = build(s, TSVAL, ecr, ts, in);
	struct result r;

	run(ifindex, in, len, &r);
	cr_assert_eq(r.verdict, verdict, "%s: verdict %s", desc, verdict_name(r.verdict));
	expect_only(desc, &r, stat);
}

/* The SYN-ACK of the cookie handshake names this node, the state above it. */
static void synack_names_node(const char *client, const char *vip)
{
	struct pkt_spec s = pkt_tcp(client, 40001, vip, 80, PKT_TCP_SYN);
	__u8 in[PKT_MAX], opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x10, 0, 0, 0, 0, 0,
				     1, 3, 3, 7 };
	struct limpet_tscookie c;
	struct limpet_tcpopt o;
	struct pkt_layout lo;
	struct result r;
	size_t len;

	/* TSecr 0: as if it named node a; a SYN is never another node's. */
	len = pkt_build_tcp_opts(&s, opts, sizeof(opts), in, sizeof(in));
	run(if_client, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "SYN: verdict %s", verdict_name(r.verdict));
	expect_only("SYN", &r, LIMPET_STAT_SYNCOOKIE_SENT);
	cr_assert(pkt_layout(r.out, r.out_len, &lo));
	cr_assert_eq(r.out[lo.l4 + 13], PKT_TCP_SYN | PKT_TCP_ACK);
	limpet_tcpopt_parse(r.out + lo.l4, (__u32)lo.l4_len, &o);
	cr_assert(o.ts_ok, "SYN-ACK without timestamps");
	cr_assert_eq(o.tsecr, 0x1000, "the client's TSval echoed");
	cr_assert_eq(limpet_ts_node(o.tsval, self_tag), SELF_ID, "TSval %#x", o.tsval);
	limpet_tscookie_decode(o.tsval, self_tag, &c);
	cr_assert(c.wscale == 7 && c.sack_ok && !c.ecn_ok && c.node == SELF_ID,
		  "the state above the node's bits: %#x", o.tsval);
}

Test(cluster, synack_names_node4)
{
	synack_names_node("10.10.0.2", "10.100.0.1");
}

Test(cluster, synack_names_node6)
{
	synack_names_node("fd00:10::2", "fd00:100::1");
}

/* A client's segment whose TSecr names node a goes to a, unchanged. */
Test(cluster, client_segment_to_owner4)
{
	struct pkt_spec s = client_data("10.10.0.2", "10.100.0.1");
	__u32 ecr = 0x12345600 | ID_A;

	expect_to_node("client -> a", if_client, s, ecr, PKT_MAC_BACKEND(13));
	/* Its handshake's ACK alone too: the cookie is a's to check. */
	s.tcp_flags = PKT_TCP_ACK;
	s.payload_len = 0;
	expect_to_node("ACK -> a", if_client, s, ecr, PKT_MAC_BACKEND(13));
	/* An RST is judged by the node whose connection it is. */
	s.tcp_flags = PKT_TCP_RST | PKT_TCP_ACK;
	expect_to_node("RST -> a", if_client, s, ecr, PKT_MAC_BACKEND(13));
}

/* IPv6, to node c, whose address is IPv6 too. */
Test(cluster, client_segment_to_owner6)
{
	expect_to_node("client -> c", if_client, client_data("fd00:10::2", "fd00:100::1"),
		       0xabcdef00 | ID_C, PKT_MAC_BACKEND(12));
}

/* A node with no route to it, and a segment out of hops: dropped, counted. */
Test(cluster, unreachable_owner)
{
	struct pkt_spec s = client_data("10.10.0.2", "10.100.0.1");

	expect_here("client -> d", if_client, &s, true, 0x12345600 | ID_D, XDP_DROP,
		    LIMPET_STAT_CLUSTER_UNREACHABLE);
	s.ttl = 1;
	expect_here("TTL 1 -> a", if_client, &s, true, 0x12345600 | ID_A, XDP_DROP,
		    LIMPET_STAT_CLUSTER_UNREACHABLE);
}

/* This node's own, and segments without timestamps: handled here. */
Test(cluster, own_segments_stay)
{
	struct pkt_spec s = client_data("10.10.0.2", "10.100.0.1");

	/* No connection here and no valid cookie: as on a lone node. */
	expect_here("client -> self", if_client, &s, true, 0x12345600 | SELF_ID, XDP_DROP,
		    LIMPET_STAT_SYNCOOKIE_BAD);
	s.ack = ack_of_node(SELF_ID, 1);
	expect_here("no timestamps, this node's ISN", if_client, &s, false, 0, XDP_DROP,
		    LIMPET_STAT_SYNCOOKIE_BAD);
	/* An RST without ACK names no ISN. */
	s.tcp_flags = PKT_TCP_RST;
	s.payload_len = 0;
	s.ack = ack_of_node(ID_A, 1);
	expect_here("no timestamps, no ack", if_client, &s, false, 0, XDP_DROP,
		    LIMPET_STAT_HTTP_NO_CONN);
}

/*
 * Without timestamps the ack names the node: a client's, whose ISN from us
 * was a's own cookie, and a backend's, whose ISN was a's binding SYN.
 */
Test(cluster, no_timestamps_to_owner)
{
	struct pkt_spec s = client_data("10.10.0.2", "10.100.0.1");

	s.ack = ack_of_node(ID_A, 1 + 100000);
	expect_sent_to_node("client -> a", if_client, s, false, 0, PKT_MAC_BACKEND(13));
	/* Its handshake's ACK: a's cookie. */
	s.tcp_flags = PKT_TCP_ACK;
	s.payload_len = 0;
	s.ack = ack_of_node(ID_A, 1);
	expect_sent_to_node("ACK -> a", if_client, s, false, 0, PKT_MAC_BACKEND(13));
	s = client_data("fd00:10::2", "fd00:100::1");
	s.ack = ack_of_node(ID_C, 1 + (1u << 28));
	expect_sent_to_node("client -> c (IPv6)", if_client, s, false, 0, PKT_MAC_BACKEND(12));

	s = backend_reply("10.20.0.11", "10.10.0.2");
	s.ack = ack_of_node(ID_A, 1 + 512);
	expect_sent_to_node("backend -> a", if_backend, s, false, 0, PKT_MAC_BACKEND(13));
	s = backend_reply("fd00:20::11", "fd00:10::2");
	s.ack = ack_of_node(ID_C, 1);
	s.tcp_flags = PKT_TCP_SYN | PKT_TCP_ACK;
	s.payload_len = 0;
	expect_sent_to_node("SYN-ACK -> c (IPv6)", if_backend, s, false, 0, PKT_MAC_BACKEND(12));
	s.ack = ack_of_node(ID_D, 1);
	expect_here("backend -> d", if_backend, &s, false, 0, XDP_DROP,
		    LIMPET_STAT_CLUSTER_UNREACHABLE);
	s.ack = ack_of_node(SELF_ID, 1);
	expect_here("backend -> self", if_backend, &s, false, 0, XDP_PASS, LIMPET_STAT_PASS);
}

/*
 * A client without timestamps gets limpet's own cookie, which names this
 * node in its top bits (the bit below clear); its ACK is checked here.
 */
static void own_cookie_names_node(const char *client, const char *vip)
{
	struct pkt_spec s = pkt_tcp(client, 40003, vip, 80, PKT_TCP_SYN);
	__u8 in[PKT_MAX], opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1 };
	struct pkt_layout lo;
	struct result r;
	__u32 isn;
	size_t len;

	len = pkt_build_tcp_opts(&s, opts, sizeof(opts), in, sizeof(in));
	run(if_client, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "SYN: verdict %s", verdict_name(r.verdict));
	cr_assert_eq(r.delta[LIMPET_STAT_SYNCOOKIE_OWN], 1, "limpet's own cookie");
	cr_assert(pkt_layout(r.out, r.out_len, &lo));
	isn = pkt_get32(r.out + lo.l4 + 4);
	cr_assert_eq(isn >> (32 - TAG_BITS), SELF_ID, "ISN %#x", isn);
	cr_assert_eq(isn >> (31 - TAG_BITS) & 1, 0, "ISN %#x: room below the node", isn);

	s.tcp_flags = PKT_TCP_ACK;
	s.seq++;
	s.ack = isn + 1;
	expect_here("its ACK", if_client, &s, false, 0, XDP_DROP, LIMPET_STAT_SYNCOOKIE_ACK_OK);
	s.ack = isn + 1 + (1u << 28);
	expect_here("an ACK off by 2^28", if_client, &s, false, 0, XDP_DROP,
		    LIMPET_STAT_SYNCOOKIE_BAD);
}

Test(cluster, own_cookie_names_node4)
{
	own_cookie_names_node("10.10.0.2", "10.100.0.1");
}

Test(cluster, own_cookie_names_node6)
{
	own_cookie_names_node("fd00:10::2", "fd00:100::1");
}

/* A backend's reply with no flow here goes to the node its TSecr names. */
Test(cluster, backend_reply_to_owner)
{
	struct pkt_spec s = backend_reply("10.20.0.11", "10.10.0.2");
	__u32 ecr = 0x00112200 | ID_A;

	expect_to_node("backend -> a", if_backend, s, ecr, PKT_MAC_BACKEND(13));
	/* The SYN-ACK answering a's binding SYN. */
	s.tcp_flags = PKT_TCP_SYN | PKT_TCP_ACK;
	s.payload_len = 0;
	expect_to_node("SYN-ACK -> a", if_backend, s, ecr, PKT_MAC_BACKEND(13));
	/* To this host itself (a health check's answer): the kernel's,
	 * whatever its TSecr.
	 */
	s = backend_reply("10.20.0.11", "10.20.0.1");
	expect_here("backend -> this host", if_backend, &s, true, ecr, XDP_PASS, LIMPET_STAT_PASS);
	/* Naming this node: not limpet's (no flow), the kernel's. */
	s = backend_reply("10.20.0.11", "10.10.0.2");
	expect_here("backend -> self", if_backend, &s, true, 0x00112200 | SELF_ID, XDP_PASS,
		    LIMPET_STAT_PASS);
}

/*
 * 10.20.0.12:8080 is an L4 NAT service's backend as well: its claim wins,
 * the reply is un-NAT'd here (an L4 flow's TSecr names no node).
 */
Test(cluster, l4_claim_wins)
{
	struct pkt_spec s = backend_reply("10.20.0.12", "10.10.0.2");
	struct rev_nat_key k = { .port = htons(8080), .proto = IPPROTO_TCP,
				 .family = LIMPET_FAMILY_V4 };
	struct rev_nat_value v;

	k.addr = pkt_addr("10.20.0.12");
	cr_assert_eq(dp_get_rev_nat(dp, &k, &v), 0);
	cr_assert(!(v.flags & LIMPET_REV_NAT_SPLICED) && (v.flags & LIMPET_REV_NAT_ANY_NODE));
	k.addr = pkt_addr("10.20.0.11");
	cr_assert_eq(dp_get_rev_nat(dp, &k, &v), 0);
	cr_assert(v.flags & LIMPET_REV_NAT_SPLICED);

	s.smac = PKT_MAC_BACKEND(12);
	expect_here("L4 reply", if_backend, &s, true, 0x00112200 | ID_A, XDP_REDIRECT,
		    LIMPET_STAT_RET_STATELESS);
}

/* The SYN of a binding in XDP names this node in its TSval. */
Test(cluster, binding_syn_names_node)
{
	struct pkt_spec s = pkt_tcp("10.10.0.2", 40002, "10.100.0.1", 80, PKT_TCP_SYN);
	__u8 in[PKT_MAX], synopts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x20, 0, 0, 0, 0, 0,
					1, 3, 3, 7 };
	struct limpet_tcpopt o;
	struct pkt_layout lo;
	struct result r;
	__u32 isn, tsval;
	size_t len;

	len = pkt_build_tcp_opts(&s, synopts, sizeof(synopts), in, sizeof(in));
	run(if_client, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT);
	cr_assert(pkt_layout(r.out, r.out_len, &lo));
	isn = pkt_get32(r.out + lo.l4 + 4);
	limpet_tcpopt_parse(r.out + lo.l4, (__u32)lo.l4_len, &o);
	tsval = o.tsval;

	/* The request, echoing the SYN-ACK: bound here, a SYN to a backend. */
	s = client_data("10.10.0.2", "10.100.0.1");
	s.sport = 40002;
	s.seq = s.seq + 1;
	s.ack = isn + 1;
	len = build(&s, 0x2003, tsval, true, in);
	run(if_client, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "request: verdict %s", verdict_name(r.verdict));
	cr_assert(pkt_layout(r.out, r.out_len, &lo));
	cr_assert_eq(r.out[lo.l4 + 13], PKT_TCP_SYN, "a SYN to the backend");
	limpet_tcpopt_parse(r.out + lo.l4, (__u32)lo.l4_len, &o);
	cr_assert(o.ts_ok);
	cr_assert_eq(o.tsval, limpet_ts_tag(0x2003u, self_tag),
		     "the client's TSval, naming this node: %#x", o.tsval);
	cr_assert_eq(r.delta[LIMPET_STAT_HTTP_BIND_SYN], 1);
}

/*
 * <inner> (a frame) inside an IPv4 header from <src> to <dst>, in a frame
 * from <smac> to <dmac>: what cluster_encap() sends.
 */
static size_t encap4(const __u8 *inner, size_t len, const char *src, const char *dst,
		     struct pkt_mac smac, struct pkt_mac dmac, __u8 *out)
{
	struct limpet_addr s = pkt_addr(src), d = pkt_addr(dst);
	__u8 *ip = out + 14;

	memcpy(out, dmac.b, 6);
	memcpy(out + 6, smac.b, 6);
	pkt_put16(out + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	pkt_put16(ip + 2, (__u16)(20 + len - 14));
	ip[8] = 64;
	ip[9] = pkt_get16(inner + 12) == 0x0800 ? 4 : 41;
	memcpy(ip + 12, &s.a[0], 4);
	memcpy(ip + 16, &d.a[0], 4);
	pkt_put16(ip + 10, (__u16)~pkt_fold(pkt_sum(0, ip, 20)));
	memcpy(ip + 20, inner + 14, len - 14);
	return len + 20;
}

/* <s> (echoing <ecr> or not), arriving on <ifindex>, must leave for node e, encapsulated. */
static void expect_encapsulated(const char *desc, int ifindex, struct pkt_spec s, bool ts,
				__u32 ecr)
{
	__u8 in[PKT_MAX], inner[PKT_MAX], want[PKT_MAX + 20];
	size_t len = build(&s, TSVAL, ecr, ts, in), want_len;
	const struct delta d[] = { { LIMPET_STAT_CLUSTER_FORWARD, 1 },
				   { LIMPET_STAT_CLUSTER_ENCAP, 1 } };
	struct result r;

	run(ifindex, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "%s: verdict %s", desc, verdict_name(r.verdict));
	s.ttl--;
	len = build(&s, TSVAL, ecr, ts, inner);
	want_len = encap4(inner, len, "10.20.0.1", "10.98.0.1", PKT_MAC_PKS0,
			  PKT_MAC_BACKEND(13), want);
	if (r.out_len != want_len || memcmp(r.out, want, want_len)) {
		char diff[512];

		pkt_diff(r.out, r.out_len, want, want_len, diff, sizeof(diff));
		cr_assert_fail("%s: frame differs: %s", desc, diff);
	}
	check_deltas(desc, &r, d, 2);
}

/*
 * Node e is behind a router: its segments go inside an IPv4 header from
 * this node's address to e's (IPIP, or IPv6 in IPv4), toward the router.
 */
Test(cluster, encapsulated_to_node_behind_router)
{
	struct pkt_spec s = client_data("10.10.0.2", "10.100.0.1");

	expect_encapsulated("client -> e", if_client, s, true, 0x12345600 | ID_E);
	s = client_data("fd00:10::2", "fd00:100::1");
	expect_encapsulated("client -> e (IPv6 in IPv4)", if_client, s, true, 0x12345600 | ID_E);
	s = backend_reply("10.20.0.11", "10.10.0.2");
	s.ack = ack_of_node(ID_E, 1 + 4096);
	expect_encapsulated("backend -> e, no timestamps", if_backend, s, false, 0);
	/* No room for the outer header within the route's MTU (1500). */
	s = client_data("10.10.0.2", "10.100.0.1");
	s.payload_len = 1500 - 20 - 20 - 12;
	expect_here("too long to encapsulate", if_client, &s, true, 0x12345600 | ID_E, XDP_DROP,
		    LIMPET_STAT_CLUSTER_UNREACHABLE);
}

/*
 * A frame another node encapsulated to this one: unwrapped, then handled as
 * any (here a SYN, answered with a cookie). Not from a node: the kernel's.
 */
Test(cluster, decapsulated_from_node)
{
	const char *clients[] = { "10.10.0.2", "fd00:10::2" }, *vips[] = { "10.100.0.1",
									 "fd00:100::1" };
	__u8 syn[PKT_MAX], in[PKT_MAX + 20];
	struct pkt_spec s, out;
	struct result r;
	size_t len;
	int k;

	for (k = 0; k < 2; k++) {
		const struct delta d[] = { { LIMPET_STAT_SYNCOOKIE_SENT, 1 },
					   { LIMPET_STAT_CLUSTER_DECAP, 1 } };

		s = pkt_tcp(clients[k], 40004, vips[k], 80, PKT_TCP_SYN);
		len = build(&s, TSVAL, 0, true, syn);
		len = encap4(syn, len, "10.20.0.13", "10.20.0.1", PKT_MAC_BACKEND(13),
			     PKT_MAC_PKS0, in);
		run(if_backend, in, len, &r);
		cr_assert_eq(r.verdict, XDP_REDIRECT, "%s: verdict %s", clients[k],
			     verdict_name(r.verdict));
		check_deltas(clients[k], &r, d, 2);
		cr_assert(pkt_parse(r.out, r.out_len, &out), "%s: the SYN-ACK unparsable",
			  clients[k]);
		cr_assert_eq(out.tcp_flags, PKT_TCP_SYN | PKT_TCP_ACK);
		cr_assert(pkt_addr_eq(&out.dst, &s.src), "%s: not to the client", clients[k]);
	}
	/* From an address that is no node's: not unwrapped. */
	s = pkt_tcp("10.10.0.2", 40005, "10.100.0.1", 80, PKT_TCP_SYN);
	len = build(&s, TSVAL, 0, true, syn);
	len = encap4(syn, len, "10.20.0.11", "10.20.0.1", PKT_MAC_BACKEND(11), PKT_MAC_PKS0, in);
	run(if_backend, in, len, &r);
	cr_assert_eq(r.verdict, XDP_PASS, "not from a node: verdict %s", verdict_name(r.verdict));
	expect_only("not from a node", &r, LIMPET_STAT_PASS_UNPARSED);
}
