/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_endpoint.c - where limpet stands in for a TCP endpoint, through
 * bpf_prog_test_run_opts(): RFC 5961 on spliced (HTTP) flows, and ICMP
 * errors about NAT'd and spliced flows translated for the client.
 *
 * The services are programmed through the product (tests/packet/product.h).
 * A spliced flow is what the slow path's install_flows() writes once the
 * backend answered: the two entries, with the translation of
 * include/limpet_splice.h (the backend's ISN shifted to the cookie's), made
 * here with dp_flow_set(). Expected frames are built from scratch with
 * pkt.h, every checksum computed whole. Steps of one test run in order
 * against one data plane. Runs inside tests/packet/run.sh's namespace.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "dp/dataplane.h"
#include "dp/maps.h"
#include "packet/harness.h"
#include "packet/pkt.h"
#include "packet/product.h"

#define RING_SIZE 65537u
#define NBACKENDS 3
#define FLOW_ENTRIES 4096
#define CLIENT4 "10.10.0.2"
#define CLIENT6 "fd00:10::2"
#define VIP_PORT 80
#define BE_PORT 8080

/* A spliced connection's sequence spaces. */
#define CSEQ 0x01020304u	/* the client's next byte when the flow was installed */
#define COOKIE_ISN 0xa0000000u	/* limpet's ISN toward the client */
#define BACKEND_ISN 0x30000000u	/* the backend's */
#define DELTA (COOKIE_ISN - BACKEND_ISN)

enum svc_idx {
	SVC_HTTP4,
	SVC_HTTP6,
	SVC_L4_4,	/* TCP NAT */
	SVC_L4_6,
	SVC_UDP4,	/* UDP NAT */
	SVC_DSR4,	/* TCP DSR */
	SVC_MAX,
};

static const struct svc {
	const char *name;
	const char *vip;
	const char *mode;
	const char *proto;
	const char *backends[NBACKENDS];
	const char *forwarding;	/* NULL: nat */
} svcs[SVC_MAX] = {
	[SVC_HTTP4] = { "http4", "10.100.2.100", "http", "tcp",
			{ "10.20.0.11", "10.20.0.12", "10.20.0.13" } },
	[SVC_HTTP6] = { "http6", "fd00:100::2:100", "http", "tcp",
			{ "fd00:20::11", "fd00:20::12", "fd00:20::13" } },
	[SVC_L4_4] = { "l4v4", "10.100.2.101", "l4", "tcp",
		       { "10.20.0.11", "10.20.0.12", "10.20.0.13" } },
	[SVC_L4_6] = { "l4v6", "fd00:100::2:101", "l4", "tcp",
		       { "fd00:20::11", "fd00:20::12", "fd00:20::13" } },
	[SVC_UDP4] = { "udp4", "10.100.2.102", "l4", "udp",
		       { "10.20.0.11", "10.20.0.12", "10.20.0.13" } },
	[SVC_DSR4] = { "dsr4", "10.100.2.103", "l4", "tcp",
		       { "10.20.0.11", "10.20.0.12", "10.20.0.13" }, "dsr" },
};

static struct dataplane *dp;
static struct model model;
static int prog_fd, if_client, if_server;

static void setup(void)
{
	char y[8192];
	size_t at = 0;
	int s, j;

	pkt_ifaces(&if_client, &if_server);
	dp = pkt_load(FLOW_ENTRIES, &prog_fd);

	at += snprintf(y + at, sizeof(y) - at,
		       "instance: pkt\ninterfaces:\n  - name: pkc0\nservices:\n");
	for (s = 0; s < SVC_MAX; s++) {
		at += snprintf(y + at, sizeof(y) - at,
			       "  - name: %s\n    vip: \"%s\"\n    port: %u\n    mode: %s\n"
			       "    protocol: %s\n    forwarding: %s\n    health: {type: none}\n"
			       "    ring_size: %u\n    backends:\n",
			       svcs[s].name, svcs[s].vip, VIP_PORT, svcs[s].mode, svcs[s].proto,
			       svcs[s].forwarding ? svcs[s].forwarding : "nat", RING_SIZE);
		for (j = 0; j < NBACKENDS; j++)
			at += snprintf(y + at, sizeof(y) - at,
				       "      - {name: %s-b%d, address: \"%s\", port: %u}\n",
				       svcs[s].name, j, svcs[s].backends[j],
				       svcs[s].forwarding ? VIP_PORT : BE_PORT);
		cr_assert_lt(at, sizeof(y));
	}
	product_model(y, &model);
	product_program(dp, &model);
	for (s = 0; s < SVC_MAX; s++)
		cr_assert_eq(model.services[s].id, (__u32)s);
}

static void teardown(void)
{
	dp_close(dp);
	model_free(&model);
}

TestSuite(endpoint, .init = setup, .fini = teardown, .timeout = 60);

/* ---- frames ---- */

static const char *client_of(int s)
{
	return strchr(svcs[s].vip, ':') ? CLIENT6 : CLIENT4;
}

static struct pkt_mac be_mac(int j)
{
	struct pkt_mac m = PKT_MAC_BACKEND(11);

	m.b[5] += j;
	return m;
}

static struct pkt_spec from_client(int s, __u16 cport, __u8 flags, __u32 seq, __u32 ack,
				   __u16 len)
{
	struct pkt_spec p = pkt_tcp(client_of(s), cport, svcs[s].vip, VIP_PORT, flags);

	p.seq = seq;
	p.ack = ack;
	p.payload_len = len;
	return p;
}

static struct pkt_spec from_backend(int s, int j, __u16 cport, __u8 flags, __u32 seq, __u32 ack,
				    __u16 len)
{
	struct pkt_spec p = pkt_tcp(svcs[s].backends[j], BE_PORT, client_of(s), cport, flags);

	p.smac = be_mac(j);
	p.dmac = PKT_MAC_PKS0;
	p.seq = seq;
	p.ack = ack;
	p.payload_len = len;
	return p;
}

/* <in> as NAT sends it to backend <j>; <ack_delta> taken from its ack. */
static struct pkt_spec to_backend(int s, int j, struct pkt_spec in, __u32 ack_delta)
{
	in.dst = pkt_addr(svcs[s].backends[j]);
	in.dport = BE_PORT;
	in.ttl--;
	in.smac = PKT_MAC_PKS0;
	in.dmac = be_mac(j);
	if (in.tcp_flags & PKT_TCP_ACK)
		in.ack -= ack_delta;
	return in;
}

/* <in> from a backend as the client gets it; <seq_delta> added to its seq. */
static struct pkt_spec to_client(int s, struct pkt_spec in, __u32 seq_delta)
{
	in.src = pkt_addr(svcs[s].vip);
	in.sport = VIP_PORT;
	in.ttl--;
	in.smac = PKT_MAC_PKC0;
	in.dmac = PKT_MAC_CLIENT;
	in.seq += seq_delta;
	return in;
}

/* ---- running frames ---- */

enum ingress { FROM_CLIENT = 0, FROM_SERVER };

#define MAX_DELTAS 3

/* Run <in> (<len> bytes); the verdict, counters and, unless <want> is
 * NULL, the exact frame out.
 */
static void run_raw(const char *desc, const __u8 *in, size_t len, enum ingress ingress,
		    int verdict, const __u8 *want, size_t want_len, const struct delta *deltas)
{
	struct result r;
	char diff[128];

	xdp_run_frame(dp, prog_fd, ingress == FROM_CLIENT ? if_client : if_server, in, len, &r);
	cr_assert_eq(r.verdict, verdict, "%s: verdict %s, expected %s", desc,
		     verdict_name(r.verdict), verdict_name(verdict));
	check_deltas(desc, &r, deltas, MAX_DELTAS);
	if (!want)
		return;
	pkt_diff(r.out, r.out_len, want, want_len, diff, sizeof(diff));
	cr_assert(r.out_len == want_len && !memcmp(r.out, want, want_len),
		  "%s: output frame differs: %s", desc, diff);
}

struct step {
	const char *desc;
	struct pkt_spec in;
	enum ingress ingress;
	int verdict;
	struct pkt_spec out;
	struct delta deltas[MAX_DELTAS];
};

static void run_step(const struct step *st)
{
	__u8 in[PKT_MAX], want[PKT_MAX];
	size_t len = pkt_build(&st->in, in, sizeof(in));
	size_t want_len = pkt_build(&st->out, want, sizeof(want));

	cr_assert(len && want_len, "%s: frame too long", st->desc);
	run_raw(st->desc, in, len, st->ingress, st->verdict, want, want_len, st->deltas);
}

/* ---- spliced flows ---- */

static struct flow_key key_of(const struct pkt_spec *p)
{
	struct flow_key k = { .src = p->src, .dst = p->dst, .sport = htons(p->sport),
			      .dport = htons(p->dport), .proto = p->proto, .family = p->family };

	return k;
}

/*
 * The entries the slow path installs for client <cport> of HTTP service
 * <s> bound to backend <j> (user/http/slowpath.c, install_flows()): the
 * client's direction acks in the backend's space, the backend's seqs go to
 * the cookie's space; the client's next byte is known, the backend's is
 * learnt from its segments.
 */
static void splice_install(int s, int j, __u16 cport)
{
	const struct service *svc = &model.services[s];
	struct pkt_spec c = from_client(s, cport, PKT_TCP_ACK, 0, 0, 0);
	struct pkt_spec b = from_backend(s, j, cport, PKT_TCP_ACK, 0, 0, 0);
	struct flow_key ck = key_of(&c), bk = key_of(&b);
	struct backend_value be;
	struct flow_value fv;

	cr_assert_eq(dp_get_backend(dp, svc->backends[j].id, &be), 0);
	memset(&fv, 0, sizeof(fv));
	fv.backend_id = svc->backends[j].id;
	fv.gen = be.gen;
	fv.service_id = svc->id;
	fv.flags = LIMPET_FLOW_SPLICE | LIMPET_FLOW_SEQ_NEXT;
	fv.seq_next = CSEQ;
	fv.sp.ack_delta = DELTA;
	cr_assert_eq(dp_flow_set(dp, &ck, &fv), 0);

	memset(&fv.sp, 0, sizeof(fv.sp));
	fv.flags = LIMPET_FLOW_SPLICE | LIMPET_FLOW_RET;
	fv.seq_next = 0;
	fv.vip = pkt_addr(svcs[s].vip);
	fv.vip_port = htons(VIP_PORT);
	fv.sp.seq_delta = DELTA;
	cr_assert_eq(dp_flow_set(dp, &bk, &fv), 0);
}

/* Are both entries of the spliced flow still there, open? */
static void expect_flow(int s, int j, __u16 cport, bool present, const char *when)
{
	struct pkt_spec c = from_client(s, cport, PKT_TCP_ACK, 0, 0, 0);
	struct pkt_spec b = from_backend(s, j, cport, PKT_TCP_ACK, 0, 0, 0);
	struct flow_key ck = key_of(&c), bk = key_of(&b);
	struct flow_value fv;

	if (!present) {
		cr_expect_neq(dp_flow_get(dp, &ck, &fv), 0, "%s: client entry still there", when);
		cr_expect_neq(dp_flow_get(dp, &bk, &fv), 0, "%s: backend entry still there", when);
		return;
	}
	cr_assert_eq(dp_flow_get(dp, &ck, &fv), 0, "%s: client entry gone", when);
	cr_expect(!(fv.flags & LIMPET_FLOW_CLOSED), "%s: client entry marked closed", when);
	cr_assert_eq(dp_flow_get(dp, &bk, &fv), 0, "%s: backend entry gone", when);
	cr_expect(!(fv.flags & LIMPET_FLOW_CLOSED), "%s: backend entry marked closed", when);
}

#define RUN_STEPS(steps)                                                   \
	do {                                                               \
		size_t i_;                                                 \
		for (i_ = 0; i_ < sizeof(steps) / sizeof(steps[0]); i_++) \
			run_step(&steps[i_]);                              \
	} while (0)

/*
 * Spoofed RSTs from the client's address: not at its next byte, they pass
 * (translated) to the backend, whose kernel drops or challenges them, and
 * the flow stays; a SYN likewise. The exact RST ends the flow.
 */
static void client_rsts(int s)
{
	const __u16 cport = 41000;
	const int j = 0;
	const __u32 next = CSEQ + 100;	/* after the request below */
	struct pkt_spec req = from_client(s, cport, PKT_TCP_ACK | PKT_TCP_PSH, CSEQ,
					  COOKIE_ISN + 1, 100);
	struct pkt_spec resp = from_backend(s, j, cport, PKT_TCP_ACK | PKT_TCP_PSH,
					    BACKEND_ISN + 1, next, 50);
	struct pkt_spec far = from_client(s, cport, PKT_TCP_RST, next + 0x80000000u, 0, 0);
	struct pkt_spec near = from_client(s, cport, PKT_TCP_RST, next + 3000, 0, 0);
	struct pkt_spec one = from_client(s, cport, PKT_TCP_RST | PKT_TCP_ACK, next + 1,
					  COOKIE_ISN + 51, 0);
	struct pkt_spec syn = from_client(s, cport, PKT_TCP_SYN, 0x55667788, 0, 0);
	struct pkt_spec more = from_client(s, cport, PKT_TCP_ACK | PKT_TCP_PSH, next,
					   COOKIE_ISN + 51, 10);
	struct pkt_spec exact = from_client(s, cport, PKT_TCP_RST, next + 10, 0, 0);
	const struct step steps[] = {
		{ "request", req, FROM_CLIENT, XDP_REDIRECT, to_backend(s, j, req, DELTA),
		  { { LIMPET_STAT_SPLICE_FWD, 1 } } },
		{ "response", resp, FROM_SERVER, XDP_REDIRECT, to_client(s, resp, DELTA),
		  { { LIMPET_STAT_SPLICE_RET, 1 } } },
		{ "RST at next + 2^31: passed, flow kept", far, FROM_CLIENT, XDP_REDIRECT,
		  to_backend(s, j, far, DELTA), { { LIMPET_STAT_SPLICE_RST_KEPT, 1 } } },
		{ "RST at next + 3000: passed, flow kept", near, FROM_CLIENT, XDP_REDIRECT,
		  to_backend(s, j, near, DELTA), { { LIMPET_STAT_SPLICE_RST_KEPT, 1 } } },
		{ "RST|ACK at next + 1: passed, flow kept", one, FROM_CLIENT, XDP_REDIRECT,
		  to_backend(s, j, one, DELTA), { { LIMPET_STAT_SPLICE_RST_KEPT, 1 } } },
		{ "SYN on the live flow: passed, flow kept", syn, FROM_CLIENT, XDP_REDIRECT,
		  to_backend(s, j, syn, DELTA), { { LIMPET_STAT_SPLICE_SYN, 1 } } },
		{ "the next request still spliced", more, FROM_CLIENT, XDP_REDIRECT,
		  to_backend(s, j, more, DELTA), { { LIMPET_STAT_SPLICE_FWD, 1 } } },
	};
	const struct step end = { "RST at the client's next byte: the flow ends", exact,
				  FROM_CLIENT, XDP_REDIRECT, to_backend(s, j, exact, DELTA),
				  { { LIMPET_STAT_SPLICE_FWD, 1 }, { LIMPET_STAT_SPLICE_RST, 1 } } };

	splice_install(s, j, cport);
	RUN_STEPS(steps);
	expect_flow(s, j, cport, true, "after the spoofed RSTs and SYN");
	run_step(&end);
	expect_flow(s, j, cport, false, "after the exact RST");
}

Test(endpoint, splice_client_rst4)
{
	client_rsts(SVC_HTTP4);
}

Test(endpoint, splice_client_rst6)
{
	client_rsts(SVC_HTTP6);
}

/* The same from the backend's side: its next byte is learnt from its segments. */
static void backend_rsts(int s)
{
	const __u16 cport = 41001;
	const int j = 1;
	const __u32 bnext = BACKEND_ISN + 1 + 50;
	struct pkt_spec early = from_backend(s, j, cport, PKT_TCP_RST, BACKEND_ISN + 1, 0, 0);
	struct pkt_spec resp = from_backend(s, j, cport, PKT_TCP_ACK | PKT_TCP_PSH,
					    BACKEND_ISN + 1, CSEQ, 50);
	struct pkt_spec near = from_backend(s, j, cport, PKT_TCP_RST | PKT_TCP_ACK, bnext + 1,
					    CSEQ, 0);
	struct pkt_spec far = from_backend(s, j, cport, PKT_TCP_RST, bnext - 0x70000000u, 0, 0);
	struct pkt_spec exact = from_backend(s, j, cport, PKT_TCP_RST, bnext, 0, 0);
	const struct step steps[] = {
		{ "backend RST before its next byte is known: passed, flow kept", early,
		  FROM_SERVER, XDP_REDIRECT, to_client(s, early, DELTA),
		  { { LIMPET_STAT_SPLICE_RST_KEPT, 1 } } },
		{ "response", resp, FROM_SERVER, XDP_REDIRECT, to_client(s, resp, DELTA),
		  { { LIMPET_STAT_SPLICE_RET, 1 } } },
		{ "backend RST|ACK at next + 1: passed, flow kept", near, FROM_SERVER,
		  XDP_REDIRECT, to_client(s, near, DELTA),
		  { { LIMPET_STAT_SPLICE_RST_KEPT, 1 } } },
		{ "backend RST far out of window: passed, flow kept", far, FROM_SERVER,
		  XDP_REDIRECT, to_client(s, far, DELTA), { { LIMPET_STAT_SPLICE_RST_KEPT, 1 } } },
	};
	const struct step end = { "RST at the backend's next byte: the flow ends", exact,
				  FROM_SERVER, XDP_REDIRECT, to_client(s, exact, DELTA),
				  { { LIMPET_STAT_SPLICE_RET, 1 }, { LIMPET_STAT_SPLICE_RST, 1 } } };

	splice_install(s, j, cport);
	RUN_STEPS(steps);
	expect_flow(s, j, cport, true, "after the backend's inexact RSTs");
	run_step(&end);
	expect_flow(s, j, cport, false, "after the backend's exact RST");
}

Test(endpoint, splice_backend_rst4)
{
	backend_rsts(SVC_HTTP4);
}

Test(endpoint, splice_backend_rst6)
{
	backend_rsts(SVC_HTTP6);
}

/*
 * After the client's FIN: an RST at the FIN's own number ends the flow
 * (tcp_reset_check()); a SYN below what it sent is forged or stale and
 * leaves the flow, one above it opens a new connection (TIME_WAIT's rule).
 */
static void after_fin(int s)
{
	const __u16 cport = 41002, cport2 = 41003;
	const int j = 2;
	struct pkt_spec fin = from_client(s, cport, PKT_TCP_FIN | PKT_TCP_ACK, CSEQ,
					  COOKIE_ISN + 1, 0);
	struct pkt_spec rst = from_client(s, cport, PKT_TCP_RST, CSEQ, 0, 0);
	struct pkt_spec fin2 = from_client(s, cport2, PKT_TCP_FIN | PKT_TCP_ACK, CSEQ,
					   COOKIE_ISN + 1, 0);
	struct pkt_spec old_syn = from_client(s, cport2, PKT_TCP_SYN, CSEQ - 5000, 0, 0);
	const struct step steps[] = {
		{ "client FIN", fin, FROM_CLIENT, XDP_REDIRECT, to_backend(s, j, fin, DELTA),
		  { { LIMPET_STAT_SPLICE_FWD, 1 } } },
		{ "RST at the FIN's number: the flow ends", rst, FROM_CLIENT, XDP_REDIRECT,
		  to_backend(s, j, rst, DELTA),
		  { { LIMPET_STAT_SPLICE_FWD, 1 }, { LIMPET_STAT_SPLICE_RST, 1 } } },
		{ "client FIN", fin2, FROM_CLIENT, XDP_REDIRECT, to_backend(s, j, fin2, DELTA),
		  { { LIMPET_STAT_SPLICE_FWD, 1 } } },
		{ "SYN below what the client sent: passed, flow kept", old_syn, FROM_CLIENT,
		  XDP_REDIRECT, to_backend(s, j, old_syn, DELTA),
		  { { LIMPET_STAT_SPLICE_SYN, 1 } } },
	};
	struct pkt_spec new_syn = from_client(s, cport2, PKT_TCP_SYN, CSEQ + 5000, 0, 0);
	struct result r;
	__u8 in[PKT_MAX];
	size_t len;

	splice_install(s, j, cport);
	splice_install(s, j, cport2);
	RUN_STEPS(steps);
	expect_flow(s, j, cport, false, "after the RST at the FIN");

	/* Above it: a new connection, answered with a SYN cookie. */
	len = pkt_build(&new_syn, in, sizeof(in));
	xdp_run_frame(dp, prog_fd, if_client, in, len, &r);
	cr_expect_eq(r.delta[LIMPET_STAT_SYNCOOKIE_SENT], 1, "new SYN: no SYN cookie");
	cr_expect_eq(r.delta[LIMPET_STAT_SPLICE_SYN], 0, "new SYN: taken for the old flow");
}

Test(endpoint, splice_after_fin4)
{
	after_fin(SVC_HTTP4);
}

Test(endpoint, splice_after_fin6)
{
	after_fin(SVC_HTTP6);
}

/* The backend of the L4 flow <syn> was bound to (its address in the output). */
static int bind_l4(int s, const struct pkt_spec *syn)
{
	struct pkt_spec out;
	struct result r;
	__u8 in[PKT_MAX];
	size_t len = pkt_build(syn, in, sizeof(in));
	int j;

	xdp_run_frame(dp, prog_fd, if_client, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "SYN: verdict %s", verdict_name(r.verdict));
	cr_assert(pkt_parse(r.out, r.out_len, &out));
	for (j = 0; j < NBACKENDS; j++) {
		struct limpet_addr a = pkt_addr(svcs[s].backends[j]);

		if (pkt_addr_eq(&out.dst, &a))
			return j;
	}
	cr_assert_fail("%s: the SYN went to no backend", svcs[s].name);
	return -1;
}

/* L4 services: any RST goes to the backend, whose kernel judges it, as before. */
static void l4_rst(int s)
{
	struct pkt_spec syn = from_client(s, 42000, PKT_TCP_SYN, CSEQ - 1, 0, 0);
	struct pkt_spec rst = from_client(s, 42000, PKT_TCP_RST, CSEQ + 0x80000000u, 0, 0);
	struct pkt_spec ack = from_client(s, 42000, PKT_TCP_ACK, CSEQ, 1, 0);
	int j = bind_l4(s, &syn);

	/* The handshake's ACK records the flow (a SYN is forwarded without). */
	cr_assert_eq(bind_l4(s, &ack), j);
	const struct step steps[] = {
		{ "spoofed RST: NAT to the backend as any segment", rst, FROM_CLIENT,
		  XDP_REDIRECT, to_backend(s, j, rst, 0), { { LIMPET_STAT_FWD_EST, 1 } } },
		{ "the flow still forwards", ack, FROM_CLIENT, XDP_REDIRECT,
		  to_backend(s, j, ack, 0), { { LIMPET_STAT_FWD_EST, 1 } } },
	};

	RUN_STEPS(steps);
}

Test(endpoint, l4_rst_passes4)
{
	l4_rst(SVC_L4_4);
}

Test(endpoint, l4_rst_passes6)
{
	l4_rst(SVC_L4_6);
}

/* ---- ICMP errors ---- */

#define ICMP4_UNREACH 3
#define ICMP4_FRAG_NEEDED 4
#define ICMP4_PORT_UNREACH 3
#define ICMP6_TOO_BIG 2

/*
 * An ICMP error from <src> to <dst> (outer), type/code and the 4 bytes
 * after the checksum <rest>, quoting the IP packet of frame <q>: a frame
 * with <mac_src> -> <mac_dst>, all checksums computed whole.
 */
static size_t icmp_error(__u8 *f, size_t cap, __u8 family, struct pkt_mac mac_dst,
			 struct pkt_mac mac_src, const char *src, const char *dst, __u8 ttl,
			 __u8 type, __u8 code, __u32 rest, const __u8 *q, size_t q_len)
{
	__u8 proto = family == LIMPET_FAMILY_V6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
	struct pkt_spec o = pkt_l4(proto, src, 0, dst, 0);
	size_t quote = q_len - PKT_ETH_LEN, len, l3_len;
	__u8 *icmp;
	__u32 sum = 0;

	o.dmac = mac_dst;
	o.smac = mac_src;
	o.ttl = ttl;
	o.frag = 0;
	o.payload_len = (__u16)(8 + quote);
	len = pkt_build(&o, f, cap);
	cr_assert(len);
	l3_len = pkt_l3_len(&o);
	icmp = f + PKT_ETH_LEN + l3_len;
	memset(icmp, 0, 8);
	icmp[0] = type;
	icmp[1] = code;
	pkt_put32(icmp + 4, rest);
	memcpy(icmp + 8, q + PKT_ETH_LEN, quote);
	if (family == LIMPET_FAMILY_V6)
		sum = pkt_pseudo_sum(family, f + PKT_ETH_LEN, proto, (__u32)(8 + quote));
	pkt_put16(icmp + 2, (__u16)~pkt_fold(pkt_sum(sum, icmp, 8 + quote)));
	return len;
}

/*
 * A router on the backend side (here the backend itself) answers <sent>,
 * what limpet sent toward backend <j>, with an ICMP error to the client.
 * The client must get it from the VIP, quoting <orig> as it left the client
 * (but for the TTL limpet took from it), and TTL - 1.
 */
static void icmp_case(const char *desc, int s, int j, const struct pkt_spec *sent,
		      struct pkt_spec orig, __u8 type, __u8 code, __u32 rest, size_t quote_cut)
{
	__u8 q[PKT_MAX], wq[PKT_MAX], in[PKT_MAX], want[PKT_MAX];
	size_t q_len = pkt_build(sent, q, sizeof(q)), wq_len, len, want_len;
	const char *client = client_of(s);
	__u8 family = sent->family;
	const struct delta ok[MAX_DELTAS] = { { LIMPET_STAT_ICMP_TRANSLATED, 1 } };

	orig.ttl--;
	wq_len = pkt_build(&orig, wq, sizeof(wq));
	cr_assert(q_len && wq_len == q_len);
	if (quote_cut) {
		q_len = quote_cut;
		wq_len = quote_cut;
	}
	len = icmp_error(in, sizeof(in), family, PKT_MAC_PKS0, be_mac(j), svcs[s].backends[j],
			 client, 64, type, code, rest, q, q_len);
	want_len = icmp_error(want, sizeof(want), family, PKT_MAC_CLIENT, PKT_MAC_PKC0,
			      svcs[s].vip, client, 63, type, code, rest, wq, wq_len);
	run_raw(desc, in, len, FROM_SERVER, XDP_REDIRECT, want, want_len, ok);
}

/* An L4 NAT flow's data comes back as frag-needed / packet too big. The
 * flow has no return entry: the VIP comes from rev_nat.
 */
static void icmp_nat(int s)
{
	struct pkt_spec syn = from_client(s, 43000, PKT_TCP_SYN, CSEQ - 1, 0, 0);
	struct pkt_spec data = from_client(s, 43000, PKT_TCP_ACK | PKT_TCP_PSH, CSEQ, 7, 1000);
	int j = bind_l4(s, &syn);
	struct pkt_spec sent = to_backend(s, j, data, 0);

	cr_assert_eq(bind_l4(s, &data), j, "the data went elsewhere");
	bool v6 = data.family == LIMPET_FAMILY_V6;

	icmp_case("frag needed / too big for a NAT flow", s, j, &sent, data,
		  v6 ? ICMP6_TOO_BIG : ICMP4_UNREACH, v6 ? 0 : ICMP4_FRAG_NEEDED,
		  v6 ? 1280 : 1200, 0);
}

Test(endpoint, icmp_nat4)
{
	icmp_nat(SVC_L4_4);
}

Test(endpoint, icmp_nat6)
{
	icmp_nat(SVC_L4_6);
}

/* A spliced flow's segment: its ack back into the client's space too. */
static void icmp_splice(int s)
{
	const __u16 cport = 43001;
	const int j = 1;
	struct pkt_spec data = from_client(s, cport, PKT_TCP_ACK | PKT_TCP_PSH, CSEQ,
					   COOKIE_ISN + 1, 1000);
	struct pkt_spec sent = to_backend(s, j, data, DELTA);
	bool v6 = data.family == LIMPET_FAMILY_V6;

	splice_install(s, j, cport);
	icmp_case("frag needed / too big for a spliced flow", s, j, &sent, data,
		  v6 ? ICMP6_TOO_BIG : ICMP4_UNREACH, v6 ? 0 : ICMP4_FRAG_NEEDED,
		  v6 ? 1280 : 1200, 0);
	/* RFC 792's minimum quote: IP header and 8 bytes, no L4 checksum. */
	if (!v6)
		icmp_case("frag needed quoting 8 bytes of TCP", s, j, &sent, data, ICMP4_UNREACH,
			  ICMP4_FRAG_NEEDED, 1200, PKT_ETH_LEN + PKT_IP4_LEN + 8);
}

Test(endpoint, icmp_splice4)
{
	icmp_splice(SVC_HTTP4);
}

Test(endpoint, icmp_splice6)
{
	icmp_splice(SVC_HTTP6);
}

/* A UDP flow's datagram comes back as port unreachable. */
Test(endpoint, icmp_udp4)
{
	const int s = SVC_UDP4;
	struct pkt_spec dgram = pkt_udp(CLIENT4, 44000, svcs[s].vip, VIP_PORT);
	struct pkt_spec out, sent;
	struct result r;
	__u8 in[PKT_MAX];
	size_t len = pkt_build(&dgram, in, sizeof(in));
	int j;

	xdp_run_frame(dp, prog_fd, if_client, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT);
	cr_assert(pkt_parse(r.out, r.out_len, &out));
	for (j = 0; j < NBACKENDS; j++) {
		struct limpet_addr a = pkt_addr(svcs[s].backends[j]);

		if (pkt_addr_eq(&out.dst, &a))
			break;
	}
	cr_assert_lt(j, NBACKENDS);
	sent = to_backend(s, j, dgram, 0);
	icmp_case("port unreachable for a UDP flow", s, j, &sent, dgram, ICMP4_UNREACH,
		  ICMP4_PORT_UNREACH, 0, 0);
}

/* Not an error about a flow: to the kernel, untouched, counted as before. */
Test(endpoint, icmp_not_ours)
{
	__u8 q[PKT_MAX], in[PKT_MAX];
	/* A port of the backend's address that no service has: not in rev_nat. */
	struct pkt_spec stray = pkt_tcp(CLIENT4, 45000, "10.20.0.11", BE_PORT + 1, PKT_TCP_ACK);
	size_t q_len = pkt_build(&stray, q, sizeof(q)), len;
	const struct delta unparsed[MAX_DELTAS] = { { LIMPET_STAT_PASS_UNPARSED, 1 } };

	len = icmp_error(in, sizeof(in), LIMPET_FAMILY_V4, PKT_MAC_PKS0, be_mac(0), "10.20.0.11",
			 CLIENT4, 64, ICMP4_UNREACH, ICMP4_FRAG_NEEDED, 1200, q, q_len);
	run_raw("error quoting no flow", in, len, FROM_SERVER, XDP_PASS, in, len, unparsed);
	len = icmp_error(in, sizeof(in), LIMPET_FAMILY_V4, PKT_MAC_PKS0, be_mac(0), "10.20.0.11",
			 CLIENT4, 64, 8 /* echo request */, 0, 0, q, q_len);
	run_raw("echo request", in, len, FROM_SERVER, XDP_PASS, in, len, unparsed);
}

/* ---- ICMP errors from the client's side ---- */

/* A router between the client and limpet. */
#define ROUTER4 "10.10.0.254"
#define ROUTER6 "fd00:10::fe"

static const char *router_of(int s)
{
	return strchr(svcs[s].vip, ':') ? ROUTER6 : ROUTER4;
}

/*
 * A router on the client's side answers <sent>, what limpet sent to the
 * client, with an ICMP error to the VIP. Backend <j> must get it, still
 * from the router, quoting <orig> as it left the backend (but for the TTL
 * limpet took from it), and TTL - 1. <quote_cut>: quote only that much of
 * the frame.
 */
static void icmp_client_case(const char *desc, int s, int j, const struct pkt_spec *sent,
			     struct pkt_spec orig, __u8 type, __u8 code, __u32 rest,
			     size_t quote_cut)
{
	__u8 q[PKT_MAX], wq[PKT_MAX], in[PKT_MAX], want[PKT_MAX];
	size_t q_len = pkt_build(sent, q, sizeof(q)), wq_len, len, want_len;
	__u8 family = sent->family;
	const struct delta ok[MAX_DELTAS] = { { LIMPET_STAT_ICMP_TO_BACKEND, 1 },
					      { LIMPET_STAT_ICMP_TRANSLATED, 0 } };

	orig.ttl--;
	wq_len = pkt_build(&orig, wq, sizeof(wq));
	cr_assert(q_len && wq_len == q_len);
	if (quote_cut) {
		q_len = quote_cut;
		wq_len = quote_cut;
	}
	len = icmp_error(in, sizeof(in), family, PKT_MAC_PKC0, PKT_MAC_CLIENT, router_of(s),
			 svcs[s].vip, 64, type, code, rest, q, q_len);
	want_len = icmp_error(want, sizeof(want), family, be_mac(j), PKT_MAC_PKS0, router_of(s),
			      svcs[s].backends[j], 63, type, code, rest, wq, wq_len);
	run_raw(desc, in, len, FROM_CLIENT, XDP_REDIRECT, want, want_len, ok);
}

/* An L4 NAT flow's reply, un-NAT'd toward the client, comes back. */
static void icmp_client_nat(int s)
{
	const __u16 cport = 46000;
	struct pkt_spec syn = from_client(s, cport, PKT_TCP_SYN, CSEQ - 1, 0, 0);
	struct pkt_spec ack = from_client(s, cport, PKT_TCP_ACK, CSEQ, 1, 0);
	int j = bind_l4(s, &syn);
	struct pkt_spec reply = from_backend(s, j, cport, PKT_TCP_ACK | PKT_TCP_PSH, 0x55667788u,
					     CSEQ, 1000);
	struct pkt_spec sent = to_client(s, reply, 0);
	bool v6 = reply.family == LIMPET_FAMILY_V6;

	/* The handshake's ACK records the flow (a SYN is forwarded without). */
	cr_assert_eq(bind_l4(s, &ack), j);

	icmp_client_case("client side: frag needed / too big for a NAT flow", s, j, &sent, reply,
			 v6 ? ICMP6_TOO_BIG : ICMP4_UNREACH, v6 ? 0 : ICMP4_FRAG_NEEDED,
			 v6 ? 1280 : 1200, 0);
}

Test(endpoint, icmp_client_nat4)
{
	icmp_client_nat(SVC_L4_4);
}

Test(endpoint, icmp_client_nat6)
{
	icmp_client_nat(SVC_L4_6);
}

/* A spliced flow's backend segment: its seq back into the backend's space. */
static void icmp_client_splice(int s)
{
	const __u16 cport = 46001;
	const int j = 2;
	struct pkt_spec reply = from_backend(s, j, cport, PKT_TCP_ACK | PKT_TCP_PSH,
					     BACKEND_ISN + 1, CSEQ, 1000);
	struct pkt_spec sent = to_client(s, reply, DELTA);
	bool v6 = reply.family == LIMPET_FAMILY_V6;

	splice_install(s, j, cport);
	icmp_client_case("client side: frag needed / too big for a spliced flow", s, j, &sent,
			 reply, v6 ? ICMP6_TOO_BIG : ICMP4_UNREACH, v6 ? 0 : ICMP4_FRAG_NEEDED,
			 v6 ? 1280 : 1200, 0);
	if (!v6)
		icmp_client_case("client side: frag needed quoting 8 bytes of TCP", s, j, &sent,
				 reply, ICMP4_UNREACH, ICMP4_FRAG_NEEDED, 1200,
				 PKT_ETH_LEN + PKT_IP4_LEN + 8);
	else
		icmp_client_case("client side: unreachable quoting 48 bytes", s, j, &sent, reply,
				 1 /* destination unreachable */, 3 /* address */, 0,
				 PKT_ETH_LEN + 40 + 8);
}

Test(endpoint, icmp_client_splice4)
{
	icmp_client_splice(SVC_HTTP4);
}

Test(endpoint, icmp_client_splice6)
{
	icmp_client_splice(SVC_HTTP6);
}

/*
 * Quotes too short to translate whole (under 8 bytes of TCP, or cut inside
 * the IP header) about a live flow: to the kernel untouched, never
 * forwarded half-rewritten. A flow that is gone: likewise.
 */
static void icmp_client_bad(int s)
{
	const __u16 cport = 46002;
	const int j = 0;
	struct pkt_spec reply = from_backend(s, j, cport, PKT_TCP_ACK | PKT_TCP_PSH,
					     BACKEND_ISN + 1, CSEQ, 100);
	struct pkt_spec sent = to_client(s, reply, DELTA);
	struct pkt_spec other = to_client(s, reply, DELTA);
	bool v6 = reply.family == LIMPET_FAMILY_V6;
	size_t l3 = v6 ? 40 : PKT_IP4_LEN, q_len, len;
	__u8 q[PKT_MAX], in[PKT_MAX];
	const struct delta unparsed[MAX_DELTAS] = { { LIMPET_STAT_PASS_UNPARSED, 1 },
						    { LIMPET_STAT_ICMP_TO_BACKEND, 0 } };
	__u8 type = v6 ? ICMP6_TOO_BIG : ICMP4_UNREACH, code = v6 ? 0 : ICMP4_FRAG_NEEDED;

	splice_install(s, j, cport);
	q_len = pkt_build(&sent, q, sizeof(q));
	cr_assert(q_len);
	len = icmp_error(in, sizeof(in), reply.family, PKT_MAC_PKC0, PKT_MAC_CLIENT, router_of(s),
			 svcs[s].vip, 64, type, code, 1200, q, PKT_ETH_LEN + l3 + 6);
	run_raw("client side: quote with 6 bytes of TCP", in, len, FROM_CLIENT, XDP_PASS, in, len,
		unparsed);
	len = icmp_error(in, sizeof(in), reply.family, PKT_MAC_PKC0, PKT_MAC_CLIENT, router_of(s),
			 svcs[s].vip, 64, type, code, 1200, q, PKT_ETH_LEN + l3 - 4);
	run_raw("client side: quote cut in the IP header", in, len, FROM_CLIENT, XDP_PASS, in, len,
		unparsed);
	other.dport = cport + 1;
	q_len = pkt_build(&other, q, sizeof(q));
	len = icmp_error(in, sizeof(in), reply.family, PKT_MAC_PKC0, PKT_MAC_CLIENT, router_of(s),
			 svcs[s].vip, 64, type, code, 1200, q, q_len);
	run_raw("client side: quoting no flow", in, len, FROM_CLIENT, XDP_PASS, in, len, unparsed);
}

Test(endpoint, icmp_client_bad4)
{
	icmp_client_bad(SVC_HTTP4);
}

Test(endpoint, icmp_client_bad6)
{
	icmp_client_bad(SVC_HTTP6);
}

/*
 * A DSR flow: the backend sent the quoted packet itself, from the VIP, so
 * the client side's error is its own as it is; it reaches limpet (the VIP
 * is limpet's) and goes on to the backend as the flow's packets do, with
 * new MACs only.
 */
Test(endpoint, icmp_client_dsr4)
{
	const int s = SVC_DSR4;
	const __u16 cport = 46003;
	struct pkt_spec syn = from_client(s, cport, PKT_TCP_SYN, CSEQ - 1, 0, 0), ack;
	struct pkt_spec reply = pkt_tcp(svcs[s].vip, VIP_PORT, CLIENT4, cport,
					PKT_TCP_ACK | PKT_TCP_PSH);
	const struct delta ok[MAX_DELTAS] = { { LIMPET_STAT_ICMP_TO_BACKEND, 1 } };
	__u8 in[PKT_MAX], q[PKT_MAX], want[PKT_MAX];
	size_t len = pkt_build(&syn, in, sizeof(in)), q_len;
	struct result r;
	int j;

	xdp_run_frame(dp, prog_fd, if_client, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "DSR SYN: verdict %s", verdict_name(r.verdict));
	for (j = 0; j < NBACKENDS; j++) {
		struct pkt_mac m = be_mac(j);

		if (r.out_len >= 6 && !memcmp(r.out, m.b, 6))
			break;
	}
	cr_assert_lt(j, NBACKENDS, "the DSR SYN went to no backend's MAC");
	/* A bare SYN records nothing: the handshake's ACK writes the flow. */
	ack = from_client(s, cport, PKT_TCP_ACK, CSEQ, 0x55667788u, 0);
	len = pkt_build(&ack, in, sizeof(in));
	xdp_run_frame(dp, prog_fd, if_client, in, len, &r);
	cr_assert_eq(r.verdict, XDP_REDIRECT, "DSR ACK: verdict %s", verdict_name(r.verdict));
	cr_assert(r.out_len >= 6 && !memcmp(r.out, be_mac(j).b, 6), "the DSR ACK moved backend");
	reply.seq = 0x55667788u;
	reply.ack = CSEQ;
	reply.payload_len = 1000;
	reply.ttl = 63;
	q_len = pkt_build(&reply, q, sizeof(q));
	cr_assert(q_len);
	len = icmp_error(in, sizeof(in), LIMPET_FAMILY_V4, PKT_MAC_PKC0, PKT_MAC_CLIENT, ROUTER4,
			 svcs[s].vip, 64, ICMP4_UNREACH, ICMP4_FRAG_NEEDED, 1200, q, q_len);
	memcpy(want, in, len);
	memcpy(want, be_mac(j).b, 6);
	memcpy(want + 6, PKT_MAC_PKS0.b, 6);
	run_raw("client side: frag needed for a DSR flow", in, len, FROM_CLIENT, XDP_REDIRECT,
		want, len, ok);
}
