/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_xdp.c - table-driven tests of the XDP data plane through
 * bpf_prog_test_run_opts(): a frame in; out come a verdict, the frame as the
 * program left it, and the change of every global counter.
 *
 * Each step names the frame it sends, the interface it arrives on, the
 * verdict, the exact frame expected out (built independently with pkt.h:
 * new addresses and ports, TTL - 1, MACs of the namespace's interfaces and
 * PERMANENT neighbours, checksums from scratch) and the counters that must
 * move; every other counter must stay put. Steps of one test run in order
 * against one data plane, so a step sees the flows the earlier ones made.
 *
 * Runs inside the namespace of tests/packet/run.sh (make packet):
 * bpf_fib_lookup() needs pkc0/pks0 and their neighbours. Each test loads a
 * private copy of the data plane (Criterion runs every test in its own
 * process) and programs the services of svcs[] below through the product
 * (tests/packet/product.h: YAML -> config_load -> model -> dp_program), so
 * the map values are the controller's own. A few tests then stage states
 * the controller reaches only by timing (a backend id reused, a table
 * naming a retired backend) with the typed map functions of dp/maps.h.
 * The backend a new flow should get is predicted from the Maglev table
 * dp_program() wrote and the hash of include/limpet_hash.h, the same
 * contract the controller relies on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>

#include "base/clock.h"
#include "dp/dataplane.h"
#include "dp/maglev.h"
#include "dp/maps.h"
#include "dp/routing.h"
#include "limpet_hash.h"
#include "packet/harness.h"
#include "packet/pkt.h"
#include "packet/product.h"

#define RING_SIZE 65537u
#define NBACKENDS 3
#define FLOW_ENTRIES 65536
#define CLIENT4 "10.10.0.2"
#define CLIENT6 "fd00:10::2"

enum svc_idx {
	SVC_WEB4,	/* TCP NAT client_ip, IPv4 */
	SVC_WEB6,	/* TCP NAT client_ip, IPv6 */
	SVC_DNS4,	/* UDP NAT client_ip, IPv4 */
	SVC_DNS6,	/* UDP NAT client_ip, IPv6 */
	SVC_NONE4,	/* TCP NAT affinity none: 5-tuple hash */
	SVC_DSR4,	/* TCP DSR, IPv4 */
	SVC_DSR6,	/* TCP DSR, IPv6 */
	SVC_EMPTY4,	/* a table of MAGLEV_EMPTY slots (staged: dp_program never writes one) */
	SVC_NORING4,	/* every backend at weight 0: dp_program writes no table at all */
	SVC_NONEIGH4,	/* NAT to a backend without a neighbour entry */
	SVC_DSRNONEIGH4, /* DSR to a backend without a neighbour entry */
	SVC_SHARED4,	/* TCP NAT with none4's backends (address:port): rev_nat is none4's */
	SVC_NHCACHE4,	/* NAT to a backend whose neighbour and route a test changes */
	SVC_MAX,
};

struct svc {
	const char *name;
	const char *vip;
	__u16 port;
	__u8 proto;
	__u8 affinity;
	__u8 forwarding;
	__u16 be_port;
	unsigned int weights;	/* bit j: backend j has weight 1, else 0 */
	const char *backends[NBACKENDS];
};

#define BE4 { "10.20.0.11", "10.20.0.12", "10.20.0.13" }
#define BE6 { "fd00:20::11", "fd00:20::12", "fd00:20::13" }

static const struct svc svcs[SVC_MAX] = {
	[SVC_WEB4] = { "web4", "10.100.0.100", 80, IPPROTO_TCP, LIMPET_AFFINITY_CLIENT_IP,
		       LIMPET_FWD_NAT, 8080, 7, BE4 },
	[SVC_WEB6] = { "web6", "fd00:100::100", 80, IPPROTO_TCP, LIMPET_AFFINITY_CLIENT_IP,
		       LIMPET_FWD_NAT, 8080, 7, BE6 },
	[SVC_DNS4] = { "dns4", "10.100.0.100", 53, IPPROTO_UDP, LIMPET_AFFINITY_CLIENT_IP,
		       LIMPET_FWD_NAT, 5353, 7, BE4 },
	[SVC_DNS6] = { "dns6", "fd00:100::100", 53, IPPROTO_UDP, LIMPET_AFFINITY_CLIENT_IP,
		       LIMPET_FWD_NAT, 5353, 7, BE6 },
	[SVC_NONE4] = { "none4", "10.100.0.101", 80, IPPROTO_TCP, LIMPET_AFFINITY_NONE,
			LIMPET_FWD_NAT, 80, 7, BE4 },
	[SVC_DSR4] = { "dsr4", "10.100.0.102", 80, IPPROTO_TCP, LIMPET_AFFINITY_CLIENT_IP,
		       LIMPET_FWD_DSR, 80, 7, BE4 },
	[SVC_DSR6] = { "dsr6", "fd00:100::102", 80, IPPROTO_TCP, LIMPET_AFFINITY_CLIENT_IP,
		       LIMPET_FWD_DSR, 80, 7, BE6 },
	[SVC_EMPTY4] = { "empty4", "10.100.0.103", 80, IPPROTO_TCP, LIMPET_AFFINITY_CLIENT_IP,
			 LIMPET_FWD_NAT, 80, 7, BE4 },
	[SVC_NORING4] = { "noring4", "10.100.0.104", 80, IPPROTO_TCP, LIMPET_AFFINITY_CLIENT_IP,
			  LIMPET_FWD_NAT, 80, 0, BE4 },
	[SVC_NONEIGH4] = { "noneigh4", "10.100.0.105", 80, IPPROTO_TCP, LIMPET_AFFINITY_CLIENT_IP,
			   LIMPET_FWD_NAT, 8080, 1, { "10.20.0.14" } },
	[SVC_DSRNONEIGH4] = { "dsrnoneigh4", "10.100.0.106", 80, IPPROTO_TCP,
			      LIMPET_AFFINITY_CLIENT_IP, LIMPET_FWD_DSR, 80, 1, { "10.20.0.14" } },
	[SVC_SHARED4] = { "shared4", "10.100.0.107", 80, IPPROTO_TCP, LIMPET_AFFINITY_CLIENT_IP,
			  LIMPET_FWD_NAT, 80, 7, BE4 },
	[SVC_NHCACHE4] = { "nhcache4", "10.100.0.108", 80, IPPROTO_TCP,
			   LIMPET_AFFINITY_CLIENT_IP, LIMPET_FWD_NAT, 8080, 1, { "10.20.0.15" } },
};

static struct dataplane *dp;
static struct model model;
static int prog_fd, if_client, if_server;
static __u32 ids[SVC_MAX][NBACKENDS];	/* the ids dp_program() gave the backends */
static __u32 *ring[SVC_MAX];		/* the tables it wrote */

static __u32 be_id(int s, int j)
{
	return ids[s][j];
}

/* The neighbour MAC of backend <j> (10.20.0.11 + j / fd00:20::11 + j). */
static struct pkt_mac be_mac(int j)
{
	struct pkt_mac m = PKT_MAC_BACKEND(11);

	m.b[5] += j;
	return m;
}

/*
 * Staged: backend <j> of <s> in <state> with <gen>, as no dp_program() leaves
 * it; whether rev_nat gives it its replies is kept.
 */
static void set_backend(int s, int j, __u8 state, __u32 gen)
{
	struct backend_value old = {};
	struct backend_value be = {
		.addr = pkt_addr(svcs[s].backends[j]),
		.port = htons(svcs[s].be_port),
		.family = strchr(svcs[s].backends[j], ':') ? LIMPET_FAMILY_V6 : LIMPET_FAMILY_V4,
		.state = state,
		.gen = gen,
		.service_id = s,
	};

	dp_get_backend(dp, be_id(s, j), &old);
	be.rev_nat_owned = old.rev_nat_owned;
	cr_assert_eq(dp_set_backend(dp, be_id(s, j), &be), 0, "dp_set_backend %s/%d", svcs[s].name,
		     j);
}

/* Staged: <table> as service <s>'s Maglev table. */
static void swap_ring(int s, const __u32 *table)
{
	memcpy(ring[s], table, RING_SIZE * sizeof(*table));
	cr_assert_eq(dp_swap_ring(dp, s, ring[s], RING_SIZE), 0, "dp_swap_ring %s", svcs[s].name);
}

/* Take the tables dp_program() wrote (a missing one reads as all empty). */
static void read_rings(void)
{
	const __u32 *table;
	__u32 size, i;
	int s;

	for (s = 0; s < SVC_MAX; s++) {
		table = dp_ring(dp, model.services[s].id, &size);
		if (!table) {
			for (i = 0; i < RING_SIZE; i++)
				ring[s][i] = MAGLEV_EMPTY;
			continue;
		}
		cr_assert_eq(size, RING_SIZE);
		memcpy(ring[s], table, RING_SIZE * sizeof(*table));
	}
}

/* The configuration of svcs[], as an operator would write it. */
static char *services_yaml(void)
{
	size_t size = 65536, at = 0;
	char *y = malloc(size);
	int s, j;

	cr_assert_not_null(y);
	at += snprintf(y + at, size - at, "instance: pkt\ninterfaces:\n  - name: pks0\n"
		       "services:\n");
	for (s = 0; s < SVC_MAX; s++) {
		const struct svc *v = &svcs[s];

		at += snprintf(y + at, size - at,
			       "  - name: %s\n    vip: %s\n    port: %u\n    protocol: %s\n"
			       "    forwarding: %s\n    affinity: {type: %s}\n"
			       "    health: {type: none}\n    ring_size: %u\n    backends:\n",
			       v->name, v->vip, v->port, v->proto == IPPROTO_UDP ? "udp" : "tcp",
			       v->forwarding == LIMPET_FWD_DSR ? "dsr" : "nat",
			       v->affinity == LIMPET_AFFINITY_NONE ? "none" : "client_ip",
			       RING_SIZE);
		for (j = 0; j < NBACKENDS && v->backends[j]; j++)
			at += snprintf(y + at, size - at,
				       "      - {name: %s-b%d, address: \"%s\", port: %u, weight: %u}\n",
				       v->name, j, v->backends[j], v->be_port, (v->weights >> j) & 1);
		cr_assert_lt(at, size);
	}
	return y;
}

static void check_mac(const char *ifname, struct pkt_mac want)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	cr_assert_geq(fd, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	cr_assert_eq(ioctl(fd, SIOCGIFHWADDR, &ifr), 0, "SIOCGIFHWADDR %s", ifname);
	close(fd);
	cr_assert_arr_eq(ifr.ifr_hwaddr.sa_data, want.b, 6,
			 "%s has not the MAC of tests/packet/netns.sh", ifname);
}

static void setup(void)
{
	char *yaml;
	int s, j;

	pkt_ifaces(&if_client, &if_server);
	check_mac("pkc0", PKT_MAC_PKC0);
	check_mac("pks0", PKT_MAC_PKS0);

	dp = pkt_load(FLOW_ENTRIES, &prog_fd);

	yaml = services_yaml();
	product_model(yaml, &model);
	free(yaml);
	product_program(dp, &model);
	for (s = 0; s < SVC_MAX; s++) {
		cr_assert_eq(model.services[s].id, (__u32)s, "%s: service id %u", svcs[s].name,
			     model.services[s].id);
		for (j = 0; j < NBACKENDS && svcs[s].backends[j]; j++)
			ids[s][j] = model.services[s].backends[j].id;
		ring[s] = calloc(RING_SIZE, sizeof(__u32));
		cr_assert_not_null(ring[s]);
	}
	read_rings();
	/* Staged: every slot empty, which dp_program() never writes. */
	for (j = 0; j < (int)RING_SIZE; j++)
		ring[SVC_EMPTY4][j] = MAGLEV_EMPTY;
	swap_ring(SVC_EMPTY4, ring[SVC_EMPTY4]);
}

static void teardown(void)
{
	int s;

	dp_close(dp);
	model_free(&model);
	for (s = 0; s < SVC_MAX; s++)
		free(ring[s]);
}

/* The backend (index in svcs[s].backends) the data plane should bind <in> to. */
static int predict(int s, const struct pkt_spec *in)
{
	__u32 hash, id;
	int j;

	if (svcs[s].affinity == LIMPET_AFFINITY_NONE)
		hash = limpet_hash_tuple(&in->src, &in->dst, htons(in->sport), htons(in->dport),
					 in->proto);
	else
		hash = limpet_hash_addr(&in->src);
	id = ring[s][hash % RING_SIZE];
	for (j = 0; j < NBACKENDS && svcs[s].backends[j]; j++)
		if (be_id(s, j) == id)
			return j;
	cr_assert_fail("%s: slot holds %u, no backend of the service", svcs[s].name, id);
	return -1;
}

/* A client's frame to service <s>. */
static struct pkt_spec to_vip(int s, const char *client, __u16 sport, __u8 tcp_flags)
{
	if (svcs[s].proto == IPPROTO_UDP)
		return pkt_udp(client, sport, svcs[s].vip, svcs[s].port);
	return pkt_tcp(client, sport, svcs[s].vip, svcs[s].port, tcp_flags);
}

/* <in> as NAT forwards it to backend <j>: routed out of pks0. */
static struct pkt_spec nat_to_backend(int s, int j, struct pkt_spec in)
{
	in.dst = pkt_addr(svcs[s].backends[j]);
	in.dport = svcs[s].be_port;
	in.ttl--;
	in.smac = PKT_MAC_PKS0;
	in.dmac = be_mac(j);
	return in;
}

/* <in> as DSR forwards it to backend <j>: new MACs, nothing else. */
static struct pkt_spec dsr_to_backend(int j, struct pkt_spec in)
{
	in.smac = PKT_MAC_PKS0;
	in.dmac = be_mac(j);
	return in;
}

/* Backend <j>'s reply to the client frame <c>, arriving on pks0. */
static struct pkt_spec reply(int s, int j, const struct pkt_spec *c, __u8 tcp_flags)
{
	struct pkt_spec r = *c;

	r.src = pkt_addr(svcs[s].backends[j]);
	r.dst = c->src;
	r.sport = svcs[s].be_port;
	r.dport = c->sport;
	r.smac = be_mac(j);
	r.dmac = PKT_MAC_PKS0;
	r.tcp_flags = tcp_flags;
	r.seq = 0x7f000001;
	r.ack = c->seq + 1;
	r.ttl = 64;
	r.payload_len = c->proto == IPPROTO_UDP ? 48 : 0;
	r.payload_seed = 0x61;
	return r;
}

/* <r> from a port of the backend's address that no service has. */
static struct pkt_spec off_port(struct pkt_spec r)
{
	r.sport = 9999;
	return r;
}

/* The reply <r> as NAT returns it: source restored to the VIP, routed to the client. */
static struct pkt_spec nat_to_client(int s, struct pkt_spec r)
{
	r.src = pkt_addr(svcs[s].vip);
	r.sport = svcs[s].port;
	r.ttl--;
	r.smac = PKT_MAC_PKC0;
	r.dmac = PKT_MAC_CLIENT;
	return r;
}

/* ---- running frames ---- */

enum ingress { FROM_CLIENT = 0, FROM_SERVER };

enum out_kind {
	OUT_SAME = 0,	/* (default) the frame must come out untouched */
	OUT_FRAME,	/* exactly step.out */
	OUT_ANY,	/* not compared (the step only checks verdict and counters) */
};

#define MAX_DELTAS 3

struct step {
	const char *desc;
	struct pkt_spec in;
	enum ingress ingress;
	size_t cut;				/* send only the first <cut> bytes (0: all) */
	void (*mangle)(__u8 *frame, size_t len);	/* after build and cut */
	int verdict;
	enum out_kind out_kind;
	struct pkt_spec out;
	struct delta deltas[MAX_DELTAS];	/* every other counter must not move */
};

static void run_frame(const __u8 *in, size_t len, enum ingress ingress, struct result *r)
{
	xdp_run_frame(dp, prog_fd, ingress == FROM_CLIENT ? if_client : if_server, in, len, r);
}

static void check_frame(const char *desc, const struct result *r, const __u8 *want,
			size_t want_len)
{
	char diff[128];

	pkt_diff(r->out, r->out_len, want, want_len, diff, sizeof(diff));
	cr_assert(r->out_len == want_len && !memcmp(r->out, want, want_len),
		  "%s: output frame differs: %s", desc, diff);
}

static void run_step(const struct step *st, struct result *r)
{
	__u8 in[PKT_MAX], want[PKT_MAX];
	size_t len, want_len;
	char why[64];

	len = pkt_build(&st->in, in, sizeof(in));
	cr_assert(len, "%s: frame too long", st->desc);
	if (st->cut)
		len = st->cut;
	if (st->mangle)
		st->mangle(in, len);
	run_frame(in, len, st->ingress, r);

	cr_assert_eq(r->verdict, st->verdict, "%s: verdict %s, expected %s", st->desc,
		     verdict_name(r->verdict), verdict_name(st->verdict));
	check_deltas(st->desc, r, st->deltas, MAX_DELTAS);
	switch (st->out_kind) {
	case OUT_SAME:
		check_frame(st->desc, r, in, len);
		break;
	case OUT_FRAME:
		want_len = pkt_build(&st->out, want, sizeof(want));
		cr_assert(want_len);
		cr_assert_eq(pkt_verify(want, want_len, why, sizeof(why)), 0);
		check_frame(st->desc, r, want, want_len);
		break;
	case OUT_ANY:
		break;
	}
}

static void run_steps(const struct step *steps, size_t n)
{
	struct result r;
	size_t i;

	for (i = 0; i < n; i++)
		run_step(&steps[i], &r);
}

#define RUN_STEPS(steps) run_steps(steps, sizeof(steps) / sizeof(steps[0]))

/* Send <in> from the client side and return the backend it reached (by address). */
static int sent_to(int s, const struct pkt_spec *in, int verdict)
{
	struct pkt_spec out;
	__u8 frame[PKT_MAX];
	struct result r;
	size_t len = pkt_build(in, frame, sizeof(frame));
	int j;

	run_frame(frame, len, FROM_CLIENT, &r);
	cr_assert_eq(r.verdict, verdict, "%s: verdict %s", svcs[s].name,
		     verdict_name(r.verdict));
	cr_assert(pkt_parse(r.out, r.out_len, &out));
	for (j = 0; j < NBACKENDS && svcs[s].backends[j]; j++) {
		struct limpet_addr a = pkt_addr(svcs[s].backends[j]);
		struct pkt_mac m = be_mac(j);

		if (svcs[s].forwarding == LIMPET_FWD_NAT ? pkt_addr_eq(&out.dst, &a) :
							    !memcmp(&out.dmac, &m, 6))
			return j;
	}
	cr_assert_fail("%s: output goes to no backend", svcs[s].name);
	return -1;
}

/* ---- mangles for frames the builder does not make ---- */

static void fix_ip4_csum(__u8 *f)
{
	size_t ihl = (f[14] & 0xf) * 4;

	pkt_put16(f + 24, 0);
	pkt_put16(f + 24, (__u16)~pkt_fold(pkt_sum(0, f + 14, ihl)));
}

/* IP length fields that agree with a cut frame. */
static void ip_len_fits(__u8 *f, size_t len)
{
	if (pkt_get16(f + 12) == PKT_ETH_P_IP) {
		pkt_put16(f + 16, (__u16)(len - PKT_ETH_LEN));
		fix_ip4_csum(f);
	} else {
		pkt_put16(f + 18, (__u16)(len - PKT_ETH_LEN - PKT_IP6_LEN));
	}
}

static void ihl_4(__u8 *f, size_t len)
{
	f[14] = 0x44;
	fix_ip4_csum(f);
}

static void tot_len_long(__u8 *f, size_t len)
{
	pkt_put16(f + 16, pkt_get16(f + 16) + 1);
	fix_ip4_csum(f);
}

static void ip6_payload_long(__u8 *f, size_t len)
{
	pkt_put16(f + 18, pkt_get16(f + 18) + 1);
}

static void version_6_in_ip4(__u8 *f, size_t len)
{
	f[14] = 0x65;
}

/* Only the 4 port bytes of the L4 header inside the IP length; the rest of
 * the frame is trailer, as Ethernet padding (frames under 60 bytes are
 * padded) would make it. The header is truncated whatever follows it.
 */
static void l4_4_in_ip_len(__u8 *f, size_t len)
{
	if (pkt_get16(f + 12) == PKT_ETH_P_IP) {
		pkt_put16(f + 16, (f[14] & 0xf) * 4 + 4);
		fix_ip4_csum(f);
	} else {
		pkt_put16(f + 18, 4);
	}
}

static void tcp_doff_4(__u8 *f, size_t len)
{
	f[14 + 20 + 12] = 0x40;
}

/* ---- tests ---- */

TestSuite(xdp, .init = setup, .fini = teardown, .timeout = 60);

Test(xdp, nat_tcp4)
{
	struct pkt_spec syn = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_ACK);
	struct pkt_spec fin = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_FIN | PKT_TCP_ACK);
	int j = predict(SVC_WEB4, &syn), other = (j + 1) % NBACKENDS;
	struct pkt_spec synack = reply(SVC_WEB4, j, &syn, PKT_TCP_SYN | PKT_TCP_ACK);
	struct pkt_spec stray = off_port(reply(SVC_WEB4, other, &syn, PKT_TCP_SYN | PKT_TCP_ACK));
	const struct step steps[] = {
		{ "SYN to the VIP: NAT to the predicted backend, no flow entry", syn, FROM_CLIENT,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_backend(SVC_WEB4, j, syn),
		  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		{ "backend's SYN-ACK: source restored to VIP:80 by rev_nat, routed to the client",
		  synack, FROM_SERVER, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_client(SVC_WEB4, synack),
		  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
		{ "the handshake's ACK: same backend, flow recorded", ack, FROM_CLIENT,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_backend(SVC_WEB4, j, ack),
		  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		{ "ACK again: established", ack, FROM_CLIENT,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_backend(SVC_WEB4, j, ack),
		  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
		{ "a reply from a backend address on a port no service has: untouched", stray,
		  FROM_SERVER, .verdict = XDP_PASS, .out_kind = OUT_SAME,
		  .deltas = { { LIMPET_STAT_PASS, 1 } } },
		{ "FIN: still forwarded on the flow", fin, FROM_CLIENT, .verdict = XDP_REDIRECT,
		  .out_kind = OUT_FRAME, .out = nat_to_backend(SVC_WEB4, j, fin),
		  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
	};

	RUN_STEPS(steps);
}

Test(xdp, nat_tcp6)
{
	struct pkt_spec syn = to_vip(SVC_WEB6, CLIENT6, 40000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_WEB6, CLIENT6, 40000, PKT_TCP_ACK);
	int j = predict(SVC_WEB6, &syn);
	struct pkt_spec synack = reply(SVC_WEB6, j, &syn, PKT_TCP_SYN | PKT_TCP_ACK);
	struct pkt_spec data = reply(SVC_WEB6, j, &syn, PKT_TCP_ACK | PKT_TCP_PSH);
	const struct step steps[] = {
		{ "IPv6 SYN to the VIP: NAT to the predicted backend, no entry", syn, FROM_CLIENT,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_backend(SVC_WEB6, j, syn),
		  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		{ "IPv6 SYN-ACK: source restored by rev_nat, routed to the client", synack,
		  FROM_SERVER, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_client(SVC_WEB6, synack),
		  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
		{ "IPv6 ACK: flow recorded", ack, FROM_CLIENT, .verdict = XDP_REDIRECT,
		  .out_kind = OUT_FRAME, .out = nat_to_backend(SVC_WEB6, j, ack),
		  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		{ "IPv6 ACK again: established", ack, FROM_CLIENT, .verdict = XDP_REDIRECT,
		  .out_kind = OUT_FRAME, .out = nat_to_backend(SVC_WEB6, j, ack),
		  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
	};

	data.payload_len = 100;
	RUN_STEPS(steps);
	{
		const struct step more[] = {
			{ "IPv6 reply with data", data, FROM_SERVER, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_FRAME, .out = nat_to_client(SVC_WEB6, data),
			  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
		};

		RUN_STEPS(more);
	}
}

/* A source port for which <s>'s forwarded frame has a UDP checksum that sums
 * to zero, so it must be sent as 0xffff.
 */
static __u16 port_for_zero_udp_csum(int s, struct pkt_spec in)
{
	__u8 f[PKT_MAX];
	int j = predict(s, &in);
	struct pkt_spec out;
	size_t len;
	__u32 port;

	for (port = 1024; port < 65536; port++) {
		in.sport = port;
		out = nat_to_backend(s, j, in);
		len = pkt_build(&out, f, sizeof(f));
		if (pkt_get16(f + len - in.payload_len - 2) == 0xffff)
			return port;
	}
	cr_assert_fail("no port gives a zero checksum");
	return 0;
}

static void nat_udp(int s, const char *client)
{
	struct pkt_spec q = to_vip(s, client, 33333, 0);
	struct pkt_spec q2 = q, z = q, zr, zero;
	int j = predict(s, &q);
	struct pkt_spec ans = reply(s, j, &q, 0);
	const struct step steps[] = {
		{ "UDP query to the VIP: NAT to the predicted backend", q, FROM_CLIENT,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME, .out = nat_to_backend(s, j, q),
		  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		{ "UDP answer: source restored to the VIP", ans, FROM_SERVER,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME, .out = nat_to_client(s, ans),
		  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
	};

	RUN_STEPS(steps);

	/* The same flow again, then a flow whose rewritten checksum is zero. */
	q2.payload_seed = 0x10;
	z.sport = port_for_zero_udp_csum(s, z);
	zr = reply(s, j, &z, 0);
	{
		const struct step more[] = {
			{ "UDP, same flow: established", q2, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(s, j, q2),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "UDP whose rewritten checksum sums to zero: sent as 0xffff", z,
			  FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(s, j, z),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
			{ "its answer", zr, FROM_SERVER, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_FRAME, .out = nat_to_client(s, zr),
			  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
		};

		RUN_STEPS(more);
	}
	if (strchr(client, ':'))
		return;

	/* IPv4 UDP without a checksum (0): it stays 0 both ways. */
	zero = to_vip(s, client, 33334, 0);
	zero.udp_no_csum = true;
	ans = reply(s, j, &zero, 0);
	ans.udp_no_csum = true;
	{
		const struct step more[] = {
			{ "UDP/IPv4 with checksum 0: stays 0", zero, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(s, j, zero),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
			{ "answer with checksum 0: stays 0", ans, FROM_SERVER,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_client(s, ans), .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
		};

		RUN_STEPS(more);
	}
}

Test(xdp, nat_udp4)
{
	nat_udp(SVC_DNS4, CLIENT4);
}

Test(xdp, nat_udp6)
{
	nat_udp(SVC_DNS6, CLIENT6);
}

Test(xdp, nat_ip4_options_and_padding)
{
	struct pkt_spec opts = to_vip(SVC_WEB4, CLIENT4, 40001, PKT_TCP_ACK);
	struct pkt_spec pad = to_vip(SVC_WEB4, CLIENT4, 40002, PKT_TCP_ACK);
	int j = predict(SVC_WEB4, &opts);

	opts.ip_opts = 12;
	pad.trailer = 6;
	{
		const struct step steps[] = {
			{ "IPv4 with 12 bytes of options: L4 found behind them", opts, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, opts),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
			{ "Ethernet padding after the datagram: kept, not summed", pad,
			  FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, pad),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

Test(xdp, nat_hairpin_redirect)
{
	/* A client on the backends' side: the next hop is out of the interface
	 * the frame came in on, redirected there (not XDP_TX: on veth its
	 * frames stop reaching the peer once an AF_XDP socket is bound).
	 */
	struct pkt_spec syn = to_vip(SVC_WEB4, "10.20.0.12", 40000, PKT_TCP_SYN);
	int j = predict(SVC_WEB4, &syn);
	/* A SYN is forwarded by Maglev alone (l4_syn_stateless), as below. */
	struct pkt_spec out = nat_to_backend(SVC_WEB4, j, syn);

	syn.smac = be_mac(1);
	syn.dmac = PKT_MAC_PKS0;
	out.smac = PKT_MAC_PKS0;
	{
		const struct step steps[] = {
			{ "SYN to the VIP from the backend side: NAT, back out", syn, FROM_SERVER,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME, .out = out,
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

static void dsr(int s, const char *client)
{
	struct pkt_spec syn = to_vip(s, client, 40000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(s, client, 40000, PKT_TCP_ACK);
	struct pkt_spec ttl1 = to_vip(s, client, 40001, PKT_TCP_SYN);
	int j = predict(s, &syn);
	const struct step steps[] = {
		{ "DSR SYN: only the MACs change (IP, TTL, TCP untouched)", syn, FROM_CLIENT,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME, .out = dsr_to_backend(j, syn),
		  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		{ "DSR ACK: flow recorded, same backend", ack, FROM_CLIENT,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME, .out = dsr_to_backend(j, ack),
		  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		{ "DSR ACK again: established", ack, FROM_CLIENT, .verdict = XDP_REDIRECT,
		  .out_kind = OUT_FRAME, .out = dsr_to_backend(j, ack),
		  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
	};

	RUN_STEPS(steps);
	/* L2 forwarding does not route: a TTL of 1 goes through unchanged. */
	ttl1.ttl = 1;
	{
		const struct step more[] = {
			{ "DSR with TTL 1: forwarded, TTL kept", ttl1, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = dsr_to_backend(j, ttl1),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		};

		RUN_STEPS(more);
	}
}

Test(xdp, dsr4)
{
	dsr(SVC_DSR4, CLIENT4);
}

Test(xdp, dsr6)
{
	dsr(SVC_DSR6, CLIENT6);
}

Test(xdp, affinity_client_ip)
{
	struct pkt_spec syn = to_vip(SVC_WEB4, CLIENT4, 0, PKT_TCP_SYN);
	int j = predict(SVC_WEB4, &syn), port, seen = 0;

	for (port = 1000; port < 1064; port++) {
		syn.sport = port;
		cr_assert_eq(sent_to(SVC_WEB4, &syn, XDP_REDIRECT), j,
			     "client_ip: port %d went elsewhere", port);
	}
	/* Several clients do spread (they are not all on one slot). */
	for (port = 2; port < 34; port++) {
		char client[32];

		snprintf(client, sizeof(client), "10.10.1.%d", port);
		syn = to_vip(SVC_WEB4, client, 5555, PKT_TCP_SYN);
		j = predict(SVC_WEB4, &syn);
		cr_assert_eq(sent_to(SVC_WEB4, &syn, XDP_REDIRECT), j, "client %s", client);
		seen |= 1 << j;
	}
	cr_assert_eq(seen, 7, "32 clients reached only backends %#x", seen);
}

Test(xdp, affinity_none)
{
	struct pkt_spec syn = to_vip(SVC_NONE4, CLIENT4, 0, PKT_TCP_SYN);
	int port, j, seen = 0;

	for (port = 1000; port < 1064; port++) {
		syn.sport = port;
		j = predict(SVC_NONE4, &syn);
		cr_assert_eq(sent_to(SVC_NONE4, &syn, XDP_REDIRECT), j, "port %d", port);
		seen |= 1 << j;
	}
	cr_assert_eq(seen, 7, "64 ports of one client reached only backends %#x", seen);
}

Test(xdp, passthrough)
{
	struct pkt_spec arp, icmp, hbh, mf, off, other;

	memset(&arp, 0, sizeof(arp));
	arp.dmac = (struct pkt_mac){ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	arp.smac = PKT_MAC_CLIENT;
	arp.ethertype = PKT_ETH_P_ARP;
	arp.payload_len = 28;
	icmp = to_vip(SVC_WEB4, CLIENT4, 0, 0);
	icmp.proto = IPPROTO_ICMP;
	icmp.payload_len = 16;
	hbh = to_vip(SVC_WEB6, CLIENT6, 40000, PKT_TCP_SYN);
	hbh.hopopts = true;
	mf = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	mf.frag = PKT_IP_MF;
	off = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	off.frag = 185;	/* offset 1480 */
	other = pkt_tcp(CLIENT4, 40000, "10.100.0.200", 80, PKT_TCP_SYN);
	{
		const struct step steps[] = {
			{ "TCP to an address that is no VIP", other, FROM_CLIENT,
			  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS, 1 } } },
			{ "TCP to the VIP on another port",
			  pkt_tcp(CLIENT4, 40000, "10.100.0.100", 81, PKT_TCP_SYN), FROM_CLIENT,
			  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS, 1 } } },
			{ "UDP to a TCP-only VIP:port",
			  pkt_udp(CLIENT4, 40000, "10.100.0.101", 80), FROM_CLIENT,
			  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS, 1 } } },
			{ "IPv6 TCP to no VIP", pkt_tcp(CLIENT6, 40000, "fd00:100::200", 80, 2),
			  FROM_CLIENT, .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS, 1 } } },
			{ "host traffic from a backend (no flow)",
			  pkt_tcp("10.20.0.11", 22, "10.20.0.1", 50000, PKT_TCP_ACK), FROM_SERVER,
			  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS, 1 } } },
			{ "ARP", arp, FROM_CLIENT, .verdict = XDP_PASS,
			  .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
			{ "ICMP to the VIP", icmp, FROM_CLIENT, .verdict = XDP_PASS,
			  .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
			{ "IPv6 with a hop-by-hop header to the VIP", hbh, FROM_CLIENT,
			  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
			{ "IPv4 first fragment (MF) to the VIP", mf, FROM_CLIENT,
			  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS_FRAGMENT, 1 } } },
			{ "IPv4 later fragment (offset) to the VIP", off, FROM_CLIENT,
			  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS_FRAGMENT, 1 } } },
			{ "IPv4 ihl 4", mf, FROM_CLIENT, .mangle = ihl_4, .verdict = XDP_PASS,
			  .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
			{ "IPv4 tot_len one byte past the frame",
			  to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN), FROM_CLIENT,
			  .mangle = tot_len_long, .verdict = XDP_PASS,
			  .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
			{ "IPv6 payload length one byte past the frame",
			  to_vip(SVC_WEB6, CLIENT6, 40000, PKT_TCP_SYN), FROM_CLIENT,
			  .mangle = ip6_payload_long, .verdict = XDP_PASS,
			  .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
			{ "IPv4 ethertype with version 6",
			  to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN), FROM_CLIENT,
			  .mangle = version_6_in_ip4, .verdict = XDP_PASS,
			  .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

Test(xdp, truncated)
{
	struct pkt_spec tcp4 = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec udp4 = to_vip(SVC_DNS4, CLIENT4, 40000, 0);
	struct pkt_spec tcp6 = to_vip(SVC_WEB6, CLIENT6, 40000, PKT_TCP_SYN);
	struct pkt_spec udp6 = to_vip(SVC_DNS6, CLIENT6, 40000, 0);
	struct pkt_spec other = pkt_tcp(CLIENT4, 40000, "10.100.0.200", 80, PKT_TCP_SYN);
	const struct step steps[] = {
		{ "Ethernet header only", tcp4, FROM_CLIENT, .cut = 14, .verdict = XDP_PASS,
		  .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
		{ "IPv4 header cut at 10 bytes", tcp4, FROM_CLIENT, .cut = 24,
		  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
		{ "IPv6 header cut at 30 bytes", tcp6, FROM_CLIENT, .cut = 44,
		  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
		{ "TCP cut to 10 bytes, tot_len still 40: bad IP length", tcp4, FROM_CLIENT,
		  .cut = 44, .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
		{ "TCP header of 10 bytes, tot_len agrees: malformed", tcp4, FROM_CLIENT,
		  .cut = 44, .mangle = ip_len_fits, .verdict = XDP_DROP,
		  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
		{ "TCP header of 10 bytes to no VIP: malformed too", other, FROM_CLIENT,
		  .cut = 44, .mangle = ip_len_fits, .verdict = XDP_DROP,
		  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
		{ "TCP data offset 4: malformed", tcp4, FROM_CLIENT, .mangle = tcp_doff_4,
		  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
		{ "UDP header of 4 bytes, tot_len agrees: malformed", udp4, FROM_CLIENT,
		  .cut = 38, .mangle = ip_len_fits, .verdict = XDP_DROP,
		  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
		{ "UDP cut to 4 bytes, tot_len still whole", udp4, FROM_CLIENT, .cut = 38,
		  .verdict = XDP_PASS, .deltas = { { LIMPET_STAT_PASS_UNPARSED, 1 } } },
		{ "IPv6 TCP header of 10 bytes, payload length agrees: malformed", tcp6,
		  FROM_CLIENT, .cut = 64, .mangle = ip_len_fits, .verdict = XDP_DROP,
		  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
		{ "IPv6 UDP header of 4 bytes, payload length agrees: malformed", udp6,
		  FROM_CLIENT, .cut = 58, .mangle = ip_len_fits, .verdict = XDP_DROP,
		  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
	};

	RUN_STEPS(steps);
}

/* The L4 header must fit in the IP datagram, not merely in the frame. */
Test(xdp, truncated_within_ip_length)
{
	struct pkt_spec tcp4 = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec udp4 = to_vip(SVC_DNS4, CLIENT4, 40000, 0);
	struct pkt_spec tcp6 = to_vip(SVC_WEB6, CLIENT6, 40000, PKT_TCP_SYN);
	struct pkt_spec udp6 = to_vip(SVC_DNS6, CLIENT6, 40000, 0);
	const struct step steps[] = {
		{ "TCP: 4 bytes within tot_len, the rest of the header in the trailer: malformed",
		  tcp4, FROM_CLIENT, .mangle = l4_4_in_ip_len, .verdict = XDP_DROP,
		  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
		{ "UDP: 4 bytes within tot_len, the rest of the header in the trailer: malformed",
		  udp4, FROM_CLIENT, .mangle = l4_4_in_ip_len, .verdict = XDP_DROP,
		  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
		{ "IPv6 TCP: 4 bytes within the payload length, the rest in the trailer: malformed",
		  tcp6, FROM_CLIENT, .mangle = l4_4_in_ip_len, .verdict = XDP_DROP,
		  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
		{ "IPv6 UDP: 4 bytes within the payload length, the rest in the trailer: malformed",
		  udp6, FROM_CLIENT, .mangle = l4_4_in_ip_len, .verdict = XDP_DROP,
		  .deltas = { { LIMPET_STAT_DROP_MALFORMED, 1 } } },
	};

	RUN_STEPS(steps);
}

Test(xdp, ttl)
{
	struct pkt_spec syn = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec syn6 = to_vip(SVC_WEB6, CLIENT6, 40000, PKT_TCP_SYN);
	struct pkt_spec syn2 = syn, synack, synack1;
	int j = predict(SVC_WEB4, &syn);

	syn.ttl = 1;
	syn6.ttl = 1;
	syn2.ttl = 2;
	synack = reply(SVC_WEB4, j, &syn2, PKT_TCP_SYN | PKT_TCP_ACK);
	synack1 = synack;
	synack1.ttl = 1;
	{
		const struct step steps[] = {
			{ "TTL 1 to a NAT VIP: dropped, no flow made", syn, FROM_CLIENT,
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_DROP_TTL, 1 } } },
			{ "hop limit 1 to an IPv6 NAT VIP: dropped", syn6, FROM_CLIENT,
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_DROP_TTL, 1 } } },
			{ "TTL 2: forwarded with TTL 1", syn2, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, syn2),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
			{ "reply with TTL 1: dropped", synack1, FROM_SERVER, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_DROP_TTL, 1 } } },
			{ "reply with TTL 64: returned", synack, FROM_SERVER,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_client(SVC_WEB4, synack),
			  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

Test(xdp, no_backend)
{
	struct pkt_spec empty = to_vip(SVC_EMPTY4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec noring = to_vip(SVC_NORING4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec web = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	int j = predict(SVC_WEB4, &web);

	{
		const struct step steps[] = {
			{ "service whose table is empty: dropped", empty, FROM_CLIENT,
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_DROP_NO_BACKEND, 1 } } },
			{ "service without a table: dropped", noring, FROM_CLIENT,
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_DROP_NO_BACKEND, 1 } } },
		};

		RUN_STEPS(steps);
	}
	/* The table still names a backend that is no longer in use. */
	set_backend(SVC_WEB4, j, LIMPET_BACKEND_UNUSED, 1);
	{
		const struct step steps[] = {
			{ "table slot of an unused backend: dropped", web, FROM_CLIENT,
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_DROP_NO_BACKEND, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

Test(xdp, fib_failure)
{
	struct pkt_spec nat = to_vip(SVC_NONEIGH4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec rewritten = nat, dsr = to_vip(SVC_DSRNONEIGH4, CLIENT4, 40000, 2);

	/* Rewritten, but neither routed (TTL) nor re-addressed (MACs): the kernel
	 * resolves the neighbour and forwards it.
	 */
	rewritten.dst = pkt_addr("10.20.0.14");
	rewritten.dport = 8080;
	{
		const struct step steps[] = {
			{ "NAT to a backend without a neighbour: rewritten, passed", nat,
			  FROM_CLIENT, .verdict = XDP_PASS, .out_kind = OUT_FRAME, .out = rewritten,
			  .deltas = { { LIMPET_STAT_FIB_PASS, 1 } } },
			{ "same flow again: still passed", nat, FROM_CLIENT, .verdict = XDP_PASS,
			  .out_kind = OUT_FRAME, .out = rewritten,
			  .deltas = { { LIMPET_STAT_FIB_PASS, 1 } } },
			{ "DSR to a backend without a neighbour: dropped", dsr, FROM_CLIENT,
			  .verdict = XDP_DROP, .deltas = { { LIMPET_STAT_DROP_FIB, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

/* The neighbour, policy rule and route of bind_nexthop_cache, all its own. */
#define NHC_BACKEND "10.20.0.15"
#define NHC_CLIENT "10.10.0.77"	/* routed by its own rule */

static void nhc_cmd(const char *cmd, bool must)
{
	int rc = system(cmd);

	if (must)
		cr_assert_eq(rc, 0, "%s: exit %d", cmd, rc);
}

static void nhc_cleanup(void)
{
	nhc_cmd("ip rule del from " NHC_CLIENT " lookup 177 2>/dev/null", false);
	nhc_cmd("ip route flush table 177 2>/dev/null", false);
	nhc_cmd("ip neigh del " NHC_BACKEND " dev pks0 2>/dev/null", false);
}

/* A SYN to nhcache4 from <client>: NAT to its backend, routed to <dmac>. */
static struct step nhc_syn(const char *desc, const char *client, __u16 sport, struct pkt_mac dmac)
{
	struct pkt_spec syn = to_vip(SVC_NHCACHE4, client, sport, PKT_TCP_SYN);
	struct pkt_spec out = nat_to_backend(SVC_NHCACHE4, 0, syn);

	out.dmac = dmac;
	return (struct step){ desc, syn, FROM_CLIENT, .verdict = XDP_REDIRECT,
			      .out_kind = OUT_FRAME, .out = out,
			      .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } };
}

/*
 * New flows keep their next hop per CPU for a second (nh_bind_cache): a
 * FIB failure is not kept, and a neighbour change is seen once the entry
 * has aged. Where the controller finds no policy rule beyond the defaults
 * and no multipath route (dp_check_routing()), the key is the backend
 * alone: another client's SYN right after the change still gets the
 * kept next hop. Once a rule on a client's address exists, the key is
 * client and backend again: that client's SYNs go their own way however
 * recent the entry of another client to the same backend.
 */
Test(xdp, bind_nexthop_cache, .fini = nhc_cleanup)
{
	struct pkt_mac m1 = PKT_MAC_BACKEND(31), m2 = PKT_MAC_BACKEND(32);
	struct pkt_spec syn = to_vip(SVC_NHCACHE4, CLIENT4, 41000, PKT_TCP_SYN);
	struct pkt_spec passed = syn;
	struct step st;
	struct result r;
	__u32 flags = 0;

	nhc_cleanup();
	cr_assert_eq(dp_check_routing(dp, &flags), 1, "the routing map was written");
	cr_assert_eq(flags, LIMPET_ROUTING_V4_BY_DST | LIMPET_ROUTING_V6_BY_DST,
		     "default rules, no multipath route: by backend in both families (%#x)",
		     flags);
	passed.dst = pkt_addr(NHC_BACKEND);
	passed.dport = 8080;
	{
		const struct step steps[] = {
			{ "no neighbour yet: rewritten, passed", syn, FROM_CLIENT,
			  .verdict = XDP_PASS, .out_kind = OUT_FRAME, .out = passed,
			  .deltas = { { LIMPET_STAT_FIB_PASS, 1 } } },
		};

		RUN_STEPS(steps);
	}
	nhc_cmd("ip neigh replace " NHC_BACKEND " lladdr 02:6c:70:00:02:31 dev pks0 nud permanent",
		true);
	st = nhc_syn("neighbour added: the failure was not kept", CLIENT4, 41001, m1);
	run_step(&st, &r);
	st = nhc_syn("same client and backend again", CLIENT4, 41002, m1);
	run_step(&st, &r);

	nhc_cmd("ip neigh replace " NHC_BACKEND " lladdr 02:6c:70:00:02:32 dev pks0 nud permanent",
		true);
	st = nhc_syn("another client right after the change: the kept next hop", NHC_CLIENT,
		     41003, m1);
	run_step(&st, &r);
	usleep(1300 * 1000);	/* NEXTHOP_TTL_NS (1 s) and a coarse clock tick */
	st = nhc_syn("neighbour changed, a second later: the new MAC", CLIENT4, 41004, m2);
	run_step(&st, &r);

	/* Another client, routed through backend 1's neighbour by a rule. */
	nhc_cmd("ip route add " NHC_BACKEND "/32 via 10.20.0.12 dev pks0 table 177", true);
	nhc_cmd("ip rule add from " NHC_CLIENT " lookup 177", true);
	cr_assert_eq(dp_check_routing(dp, &flags), 1, "the rule changed the routing map");
	cr_assert_eq(flags, LIMPET_ROUTING_V6_BY_DST, "IPv4 by client and backend (%#x)", flags);
	cr_assert_eq(dp_check_routing(dp, &flags), 0, "nothing changed since");
	st = nhc_syn("client with its own rule: its own route", NHC_CLIENT, 41005, be_mac(1));
	run_step(&st, &r);
	st = nhc_syn("the first client right after: still its own next hop", CLIENT4, 41006, m2);
	run_step(&st, &r);
	st = nhc_syn("and the ruled client again", NHC_CLIENT, 41007, be_mac(1));
	run_step(&st, &r);
}

Test(xdp, stale_flow_removed_backend)
{
	struct pkt_spec syn = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_ACK);
	int j = predict(SVC_WEB4, &syn), k;
	struct pkt_spec r;

	cr_assert_eq(sent_to(SVC_WEB4, &ack, XDP_REDIRECT), j);
	/* The controller removes backend j: state UNUSED, table without it. */
	model_remove_backend(&model.services[SVC_WEB4], j);
	product_program(dp, &model);
	read_rings();
	k = predict(SVC_WEB4, &ack);
	cr_assert_neq(k, j);
	r = reply(SVC_WEB4, k, &ack, PKT_TCP_ACK);
	{
		const struct step steps[] = {
			{ "flow of a removed backend: re-bound through the new table", ack,
			  FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, k, ack),
			  .deltas = { { LIMPET_STAT_STALE_FLOW, 1 }, { LIMPET_STAT_FWD_NEW, 1 } } },
			{ "then established on the new backend", ack, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, k, ack),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "the new backend's reply is un-NATed", r, FROM_SERVER,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_client(SVC_WEB4, r),
			  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

/* The flow key of <p> as the data plane makes it. */
static struct flow_key key_of(const struct pkt_spec *p)
{
	struct flow_key k = {
		.src = p->src, .dst = p->dst, .sport = htons(p->sport), .dport = htons(p->dport),
		.proto = p->proto, .family = p->family,
	};

	return k;
}

/* Is there a flow entry for <p>'s 5-tuple? Its flags into <flags>. */
static bool has_entry(const struct pkt_spec *p, __u16 *flags)
{
	struct flow_key k = key_of(p);
	struct flow_value v;

	if (dp_flow_get(dp, &k, &v))
		return false;
	if (flags)
		*flags = v.flags;
	return true;
}

static int count_entry(void *ctx, const struct flow_key *key, const struct flow_value *val)
{
	(*(size_t *)ctx)++;
	return 0;
}

static size_t flow_entries(void)
{
	size_t n = 0;

	cr_assert_eq(dp_flow_walk(dp, count_entry, &n), 0);
	return n;
}

/*
 * A table change between a SYN and its ACK (here a drain) moves no
 * handshake: for LIMPET_RING_GRACE_NS the previous table binds the ACK of
 * a SYN it bound and un-NATs that backend's SYN-ACK, and new SYNs are
 * recorded, so their ACKs find their entries. Once the grace is over and
 * the controller dropped the previous table, the current table binds
 * again and a SYN records nothing.
 */
Test(xdp, ring_change_keeps_handshakes)
{
	struct pkt_spec syn = to_vip(SVC_WEB4, CLIENT4, 43000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_WEB4, CLIENT4, 43000, PKT_TCP_ACK);
	struct pkt_spec syn2 = to_vip(SVC_WEB4, CLIENT4, 43001, PKT_TCP_SYN);
	struct pkt_spec late_syn = to_vip(SVC_WEB4, CLIENT4, 43002, PKT_TCP_SYN);
	struct pkt_spec late_ack = to_vip(SVC_WEB4, CLIENT4, 43003, PKT_TCP_ACK);
	int j = predict(SVC_WEB4, &syn), k;
	struct pkt_spec synack = reply(SVC_WEB4, j, &syn, PKT_TCP_SYN | PKT_TCP_ACK);

	{
		const struct step steps[] = {
			{ "SYN: bound by the table, nothing recorded", syn, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, syn),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(!has_entry(&syn, NULL));
	/* The controller drains the SYN's backend: a new table without it. */
	model.services[SVC_WEB4].backends[j].draining = true;
	product_program(dp, &model);
	read_rings();
	k = predict(SVC_WEB4, &ack);
	cr_assert_neq(k, j, "the drain moved the client");
	{
		const struct step steps[] = {
			{ "its backend's SYN-ACK after the change: un-NATed", synack, FROM_SERVER,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_client(SVC_WEB4, synack),
			  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
			{ "the ACK: bound by the previous table, to the same backend", ack,
			  FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, ack),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
			{ "then established there", ack, FROM_CLIENT, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_FRAME, .out = nat_to_backend(SVC_WEB4, j, ack),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "a SYN after the change: the new table, recorded", syn2, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, k, syn2),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(has_entry(&syn2, NULL), "a SYN within the grace is recorded");

	usleep(LIMPET_RING_GRACE_NS / 1000 + 300 * 1000);	/* and a coarse clock tick */
	cr_assert_eq(dp_expire_ring_grace(dp), 0);
	{
		const struct step steps[] = {
			{ "after the grace, an ACK without entry: the current table", late_ack,
			  FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, k, late_ack),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
			{ "and a SYN records nothing again", late_syn, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, k, late_syn),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(!has_entry(&late_syn, NULL));
}


/*
 * A connection that ended (FIN/RST seen) must not capture a new one on the
 * same addresses and ports. The client's new SYN goes by the Maglev table
 * without looking at the flow table (the ended entry is still there after
 * it); its backend's SYN-ACK is judged as if there were no entry, which it
 * removes; the new connection's ACK records it afresh.
 */
/* Longer than a tick at any HZ the kernel allows (100 and up). */
#define CLOCK_TICK_SLACK_NS 10000000ULL

static __u64 flow_stamp(const struct pkt_spec *p)
{
	struct flow_key k = key_of(p);
	struct flow_value v;

	cr_assert_eq(dp_flow_get(dp, &k, &v), 0, "no entry for the UDP flow");
	return v.atime_ns;
}

/*
 * Flow ages run on CLOCK_MONOTONIC_COARSE, which each CPU reads once a tick
 * (bpf/lib/clock.h): an entry's stamp lies within the controller's readings
 * around its packet, a stamp a tick ahead of this CPU's reading (another
 * CPU's, read just after a tick) is not taken for an idle flow's, and the
 * stamp moves on a second later.
 */
Test(xdp, flow_clock)
{
	struct pkt_spec q = to_vip(SVC_DNS4, CLIENT4, 33400, 0);
	struct flow_key k = key_of(&q);
	int j = predict(SVC_DNS4, &q);
	__u64 before, after, first, ahead, second;
	struct flow_value v;

	before = clock_ns(CLOCK_MONOTONIC_COARSE);
	cr_assert_eq(sent_to(SVC_DNS4, &q, XDP_REDIRECT), j);
	after = clock_ns(CLOCK_MONOTONIC_COARSE);
	first = flow_stamp(&q);
	cr_assert(first + CLOCK_TICK_SLACK_NS >= before && first <= after,
		  "stamp %llu outside the coarse clock's %llu..%llu", first, before, after);

	/* The flow cache holds no copy yet: the table serves this one. */
	cr_assert_eq(dp_flow_get(dp, &k, &v), 0);
	ahead = clock_ns(CLOCK_MONOTONIC_COARSE) + CLOCK_TICK_SLACK_NS;
	v.atime_ns = ahead;
	cr_assert_eq(dp_flow_set(dp, &k, &v), 0);
	q.payload_seed = 1;
	{
		const struct step steps[] = {
			{ "UDP on an entry stamped ahead of this CPU's clock: established",
			  q, FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_DNS4, j, q),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert_eq(flow_stamp(&q), ahead, "the stamp ahead was taken for an old one");

	usleep(1100000);
	q.payload_seed = 2;
	cr_assert_eq(sent_to(SVC_DNS4, &q, XDP_REDIRECT), j);
	after = clock_ns(CLOCK_MONOTONIC_COARSE);
	second = flow_stamp(&q);
	cr_assert(second >= first + 1000000000ULL && second <= after,
		  "stamp %llu did not move on a second from %llu (clock now %llu)", second,
		  first, after);
}

/* A step of an established client packet, from the table or the cache. */
#define EST_STEP(what, pkt, s, j, hits)                                                 \
	{ what, pkt, FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,        \
	  .out = nat_to_backend(s, j, pkt),                                               \
	  .deltas = { { LIMPET_STAT_FWD_EST, 1 }, { LIMPET_STAT_FLOW_CACHE_HIT, hits } } }

/*
 * The flow cache (bpf/lib/flowcache.h): the table's hit copies an
 * open L4 entry, the next packets come from the copy, byte for byte the
 * same; a FIN goes to the table and empties the slot; a copy whose backend
 * is gone sends its packet on to the table, which rebinds; an entry the
 * controller removes takes its copies with it.
 */
Test(xdp, flow_cache)
{
	struct pkt_spec syn = to_vip(SVC_WEB4, CLIENT4, 40100, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_WEB4, CLIENT4, 40100, PKT_TCP_ACK);
	struct pkt_spec fin = to_vip(SVC_WEB4, CLIENT4, 40100, PKT_TCP_FIN | PKT_TCP_ACK);
	struct pkt_spec b = to_vip(SVC_WEB4, CLIENT4, 40101, PKT_TCP_ACK);
	struct flow_key kb = key_of(&b);
	int j = predict(SVC_WEB4, &ack), jb = predict(SVC_WEB4, &b), k;

	cr_assert_eq(sent_to(SVC_WEB4, &ack, XDP_REDIRECT), j);
	{
		const struct step steps[] = {
			EST_STEP("the table's hit: copied", ack, SVC_WEB4, j, 0),
			EST_STEP("then from the copy", ack, SVC_WEB4, j, 1),
			EST_STEP("and again", ack, SVC_WEB4, j, 1),
			{ "a FIN: to the table, which marks the entry ended", fin, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, fin),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			EST_STEP("its slot was emptied: the table again", ack, SVC_WEB4, j, 0),
			{ "a SYN on the same ports: by the Maglev table", syn, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, syn),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}

	/* Another flow, held in the cache, then its backend goes. */
	cr_assert_eq(sent_to(SVC_WEB4, &b, XDP_REDIRECT), jb);
	{
		const struct step steps[] = {
			EST_STEP("flow b: the table's hit, copied", b, SVC_WEB4, jb, 0),
			EST_STEP("flow b from the copy", b, SVC_WEB4, jb, 1),
		};

		RUN_STEPS(steps);
	}
	model_remove_backend(&model.services[SVC_WEB4], jb);
	product_program(dp, &model);
	read_rings();
	k = predict(SVC_WEB4, &b);
	cr_assert_neq(k, jb);
	{
		const struct step steps[] = {
			{ "its copy's backend is gone: the table rebinds", b, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, k, b),
			  .deltas = { { LIMPET_STAT_STALE_FLOW, 1 }, { LIMPET_STAT_FWD_NEW, 1 } } },
			EST_STEP("the new entry's hit, copied", b, SVC_WEB4, k, 0),
			EST_STEP("then from the copy", b, SVC_WEB4, k, 1),
		};

		RUN_STEPS(steps);
	}

	/* The controller removes the entry: its copy goes too. */
	cr_assert_eq(dp_flow_del(dp, &kb), 0);
	{
		const struct step steps[] = {
			{ "no entry, no copy: bound afresh", b, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, k, b),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

/*
 * A flow whose slot a busy flow holds is served by the table, packet after
 * packet; the holder keeps being served from its copy.
 */
Test(xdp, flow_cache_slot_held)
{
	struct pkt_spec a = to_vip(SVC_WEB4, CLIENT4, 40200, PKT_TCP_ACK);
	struct pkt_spec b = a;
	struct flow_key ka = key_of(&a), kb;
	int ja = predict(SVC_WEB4, &a), jb;

	for (b.sport = 1024; b.sport < 65535; b.sport++) {
		kb = key_of(&b);
		if (b.sport != a.sport &&
		    limpet_flow_cache_index(&kb) == limpet_flow_cache_index(&ka))
			break;
	}
	cr_assert_lt(b.sport, 65535, "no port shares flow a's slot");
	jb = predict(SVC_WEB4, &b);
	cr_assert_eq(sent_to(SVC_WEB4, &a, XDP_REDIRECT), ja);
	cr_assert_eq(sent_to(SVC_WEB4, &b, XDP_REDIRECT), jb);
	{
		const struct step steps[] = {
			EST_STEP("flow a: the table's hit, copied", a, SVC_WEB4, ja, 0),
			EST_STEP("flow b: its slot is a's, the table", b, SVC_WEB4, jb, 0),
			EST_STEP("flow b again: still the table", b, SVC_WEB4, jb, 0),
			EST_STEP("flow a: from its copy", a, SVC_WEB4, ja, 1),
		};

		RUN_STEPS(steps);
	}
}

Test(xdp, closed_flow_does_not_capture_new_connections)
{
	struct pkt_spec syn = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_ACK);
	struct pkt_spec fin = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_FIN | PKT_TCP_ACK);
	int j = predict(SVC_WEB4, &syn);
	struct pkt_spec rfin = reply(SVC_WEB4, j, &syn, PKT_TCP_FIN | PKT_TCP_ACK);
	struct pkt_spec synack = reply(SVC_WEB4, j, &syn, PKT_TCP_SYN | PKT_TCP_ACK);
	struct pkt_spec rack = reply(SVC_WEB4, j, &syn, PKT_TCP_ACK);
	__u16 flags = 0;

	cr_assert_eq(sent_to(SVC_WEB4, &ack, XDP_REDIRECT), j);
	{
		const struct step steps[] = {
			{ "client FIN: flow closed, still forwarded", fin, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, fin),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "backend FIN: un-NATed", rfin, FROM_SERVER,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_client(SVC_WEB4, rfin),
			  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
			{ "a late ACK of the closed connection is still un-NATed", rack,
			  FROM_SERVER, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_client(SVC_WEB4, rack),
			  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
			{ "the client's new SYN on the same ports: by the table", syn, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, syn),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(has_entry(&ack, &flags) && (flags & LIMPET_FLOW_CLOSED),
		  "the SYN looked at the flow table (the ended entry is gone)");
	{
		const struct step steps[] = {
			{ "its backend's SYN-ACK is un-NATed", synack, FROM_SERVER,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_client(SVC_WEB4, synack),
			  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(!has_entry(&ack, NULL), "the SYN-ACK left the closed entry");
	{
		const struct step steps[] = {
			{ "the new connection's ACK records it", ack, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, ack),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(has_entry(&ack, &flags) && !(flags & LIMPET_FLOW_CLOSED));
}

/*
 * After a connection through the VIP ended, the client connects from the
 * same ports straight to the backend: its SYN (for no VIP) marks the ended
 * entry, so the backend's SYN-ACK keeps the backend's address (it is not
 * taken for a new connection through the VIP), and the entry goes.
 */
Test(xdp, closed_flow_then_direct_connection)
{
	struct pkt_spec ack = to_vip(SVC_WEB4, CLIENT4, 40300, PKT_TCP_ACK);
	struct pkt_spec fin = to_vip(SVC_WEB4, CLIENT4, 40300, PKT_TCP_FIN | PKT_TCP_ACK);
	int j = predict(SVC_WEB4, &ack);
	struct pkt_spec direct = nat_to_backend(SVC_WEB4, j, to_vip(SVC_WEB4, CLIENT4, 40300,
								    PKT_TCP_SYN));
	struct pkt_spec synack = reply(SVC_WEB4, j, &direct, PKT_TCP_SYN | PKT_TCP_ACK);
	__u16 flags = 0;

	direct.ttl = 64;
	direct.smac = PKT_MAC_PKC0;
	direct.dmac = PKT_MAC_PKS0;
	cr_assert_eq(sent_to(SVC_WEB4, &ack, XDP_REDIRECT), j);
	{
		const struct step steps[] = {
			{ "client FIN: flow closed", fin, FROM_CLIENT, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_FRAME, .out = nat_to_backend(SVC_WEB4, j, fin),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "the client's SYN straight to the backend: the kernel's", direct,
			  FROM_CLIENT, .verdict = XDP_PASS, .out_kind = OUT_SAME,
			  .deltas = { { LIMPET_STAT_PASS, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(has_entry(&ack, &flags) && (flags & LIMPET_FLOW_DIRECT),
		  "the direct SYN did not mark the ended entry");
	{
		const struct step steps[] = {
			{ "the backend's SYN-ACK keeps its address: passed", synack, FROM_SERVER,
			  .verdict = XDP_PASS, .out_kind = OUT_SAME,
			  .deltas = { { LIMPET_STAT_PASS, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(!has_entry(&ack, NULL), "the SYN-ACK left the ended entry");
}

/* Every slot of service <s>'s table to backend <k>. */
static void ring_all_to(int s, int k)
{
	__u32 *table = malloc(RING_SIZE * sizeof(*table));
	__u32 i;

	cr_assert_not_null(table);
	for (i = 0; i < RING_SIZE; i++)
		table[i] = be_id(s, k);
	swap_ring(s, table);
	free(table);
}

/*
 * The same after the ring moved the client's ports to another backend: the
 * new connection goes to the new table's backend, the old backend's SYN-ACK
 * on those ports is not the VIP's, and the new one's is.
 */
Test(xdp, closed_flow_ring_moved)
{
	struct pkt_spec syn = to_vip(SVC_NONE4, CLIENT4, 40100, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_NONE4, CLIENT4, 40100, PKT_TCP_ACK);
	struct pkt_spec rst = to_vip(SVC_NONE4, CLIENT4, 40100, PKT_TCP_RST);
	int j = predict(SVC_NONE4, &syn), k = (j + 1) % NBACKENDS;
	struct pkt_spec old_synack = reply(SVC_NONE4, j, &syn, PKT_TCP_SYN | PKT_TCP_ACK);
	struct pkt_spec synack = reply(SVC_NONE4, k, &syn, PKT_TCP_SYN | PKT_TCP_ACK);
	__u16 flags = 0;

	cr_assert_eq(sent_to(SVC_NONE4, &ack, XDP_REDIRECT), j);
	ring_all_to(SVC_NONE4, k);
	{
		const struct step steps[] = {
			{ "client RST: forwarded to the flow's backend, flow closed", rst,
			  FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_NONE4, j, rst),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "a new SYN on those ports: to the new table's backend", syn, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_NONE4, k, syn),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
			{ "the old backend's SYN-ACK there: not the VIP's, passed", old_synack,
			  FROM_SERVER, .verdict = XDP_PASS, .out_kind = OUT_SAME,
			  .deltas = { { LIMPET_STAT_PASS, 1 } } },
			{ "the new backend's SYN-ACK: un-NATed", synack, FROM_SERVER,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_client(SVC_NONE4, synack),
			  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
			{ "the ACK: recorded on the new backend", ack, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_NONE4, k, ack),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(has_entry(&ack, &flags) && !(flags & LIMPET_FLOW_CLOSED));
}

/*
 * DSR replies bypass limpet, so no SYN-ACK can retire an ended entry: a
 * DSR SYN still looks, removes it, and goes by the table.
 */
Test(xdp, dsr_syn_retires_closed_flow)
{
	struct pkt_spec syn = to_vip(SVC_DSR4, CLIENT4, 40200, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_DSR4, CLIENT4, 40200, PKT_TCP_ACK);
	struct pkt_spec fin = to_vip(SVC_DSR4, CLIENT4, 40200, PKT_TCP_FIN | PKT_TCP_ACK);
	int j = predict(SVC_DSR4, &syn), k = (j + 1) % NBACKENDS;

	cr_assert_eq(sent_to(SVC_DSR4, &ack, XDP_REDIRECT), j);
	ring_all_to(SVC_DSR4, k);
	{
		const struct step steps[] = {
			{ "client FIN: to the flow's backend, flow closed", fin, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = dsr_to_backend(j, fin),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "a new SYN on those ports: to the new table's backend", syn, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = dsr_to_backend(k, syn),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(!has_entry(&ack, NULL), "the DSR SYN left the closed entry");
	{
		const struct step steps[] = {
			{ "the ACK: recorded on the new backend", ack, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = dsr_to_backend(k, ack),
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

/*
 * One entry per flow where rev_nat gives the backend's replies to the
 * service: the client's, written by its first packet that is not a bare
 * SYN; the replies are un-NATed without state.
 */
static void stateless_return(int s, const char *client)
{
	struct pkt_spec syn = to_vip(s, client, 41000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(s, client, 41000, PKT_TCP_ACK);
	int j = predict(s, &syn);
	struct pkt_spec data = reply(s, j, &syn, PKT_TCP_ACK | PKT_TCP_PSH);
	struct pkt_spec direct = to_vip(s, client, 41001, PKT_TCP_ACK);
	size_t before = flow_entries();
	__u16 flags = 0;
	const struct step steps[] = {
		{ "SYN: forwarded, no entry", syn, FROM_CLIENT, .verdict = XDP_REDIRECT,
		  .out_kind = OUT_FRAME, .out = nat_to_backend(s, j, syn),
		  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		{ "ACK: forwarded, one entry", ack, FROM_CLIENT, .verdict = XDP_REDIRECT,
		  .out_kind = OUT_FRAME, .out = nat_to_backend(s, j, ack),
		  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		{ "the backend's data: un-NATed by rev_nat", data, FROM_SERVER,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME, .out = nat_to_client(s, data),
		  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
		{ "its data to a port with no flow (a direct connection): untouched",
		  reply(s, j, &direct, PKT_TCP_ACK | PKT_TCP_PSH), FROM_SERVER,
		  .verdict = XDP_PASS, .out_kind = OUT_SAME, .deltas = { { LIMPET_STAT_PASS, 1 } } },
	};

	RUN_STEPS(steps);
	cr_assert(has_entry(&ack, &flags) && !(flags & LIMPET_FLOW_RET), "no client entry");
	cr_assert(!has_entry(&data, NULL), "a return entry was written");
	cr_assert_eq(flow_entries(), before + 1, "entries: %zu, expected %zu", flow_entries(),
		     before + 1);
}

Test(xdp, stateless_return4)
{
	stateless_return(SVC_WEB4, CLIENT4);
}

Test(xdp, stateless_return6)
{
	stateless_return(SVC_WEB6, CLIENT6);
}

/*
 * A cluster node: ECMP may bring it replies of flows whose client packets
 * reach another node, so with a cluster section a reply with no entry here
 * is un-NATed all the same (the backend's address:port serves the VIP
 * alone); without one it is passed untouched (stateless_return above).
 */
static void cluster_return(int s, const char *client)
{
	struct pkt_spec ack = to_vip(s, client, 41500, PKT_TCP_ACK);
	int j = predict(s, &ack);
	struct pkt_spec data = reply(s, j, &ack, PKT_TCP_ACK | PKT_TCP_PSH);
	struct model clustered;
	size_t before;
	char *yaml = services_yaml(), *y;
	const struct step steps[] = {
		{ "a reply of a flow another node recorded: un-NATed by rev_nat", data,
		  FROM_SERVER, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_client(s, data), .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
	};
	const struct step alone[] = {
		{ "not a cluster node: the same reply is untouched", data, FROM_SERVER,
		  .verdict = XDP_PASS, .out_kind = OUT_SAME, .deltas = { { LIMPET_STAT_PASS, 1 } } },
	};

	RUN_STEPS(alone);
	y = malloc(strlen(yaml) + 128);
	cr_assert_not_null(y);
	sprintf(y, "%scluster: {node: n1, nodes: [{name: n1, address: 10.30.0.1}, "
		"{name: n2, address: 10.30.0.2}]}\n", yaml);
	free(yaml);
	product_model(y, &clustered);
	free(y);
	product_program(dp, &clustered);
	before = flow_entries();
	RUN_STEPS(steps);
	cr_assert_eq(flow_entries(), before, "the reply wrote an entry");
	product_program(dp, &model);
	RUN_STEPS(alone);
	model_free(&clustered);
}

Test(xdp, cluster_return4)
{
	cluster_return(SVC_WEB4, CLIENT4);
}

Test(xdp, cluster_return6)
{
	cluster_return(SVC_WEB6, CLIENT6);
}

/*
 * shared4's backends have none4's address:port, and rev_nat gives their
 * replies to none4 (the lower id): shared4's flows keep a return entry,
 * which a reply finds first; none4's flows have none.
 */
Test(xdp, ambiguous_backend_keeps_return_entries)
{
	struct pkt_spec syn = to_vip(SVC_SHARED4, CLIENT4, 42000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_SHARED4, CLIENT4, 42000, PKT_TCP_ACK);
	struct pkt_spec nack = to_vip(SVC_NONE4, CLIENT4, 42001, PKT_TCP_ACK);
	int j = predict(SVC_SHARED4, &ack), nj = predict(SVC_NONE4, &nack);
	struct pkt_spec synack = reply(SVC_SHARED4, j, &syn, PKT_TCP_SYN | PKT_TCP_ACK);
	struct pkt_spec r = reply(SVC_SHARED4, j, &ack, PKT_TCP_ACK | PKT_TCP_PSH);
	struct pkt_spec nr = reply(SVC_NONE4, nj, &nack, PKT_TCP_ACK | PKT_TCP_PSH);
	struct rev_nat_key rk = { .addr = r.src, .port = htons(r.sport), .proto = IPPROTO_TCP,
				  .family = LIMPET_FAMILY_V4 };
	struct rev_nat_value rv;
	__u16 flags = 0;
	const struct step steps[] = {
		{ "shared4's SYN: forward and return entries, as its SYN-ACK needs", syn,
		  FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_backend(SVC_SHARED4, j, syn),
		  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		{ "its SYN-ACK: the return entry restores shared4's VIP", synack, FROM_SERVER,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_client(SVC_SHARED4, synack),
		  .deltas = { { LIMPET_STAT_RET, 1 } } },
		{ "its ACK: established", ack, FROM_CLIENT,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_backend(SVC_SHARED4, j, ack),
		  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
		{ "its reply: the return entry restores shared4's VIP", r, FROM_SERVER,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_client(SVC_SHARED4, r), .deltas = { { LIMPET_STAT_RET, 1 } } },
		{ "none4's first ACK: one entry", nack, FROM_CLIENT, .verdict = XDP_REDIRECT,
		  .out_kind = OUT_FRAME, .out = nat_to_backend(SVC_NONE4, nj, nack),
		  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		{ "its reply: rev_nat restores none4's VIP", nr, FROM_SERVER,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_client(SVC_NONE4, nr),
		  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
	};

	cr_assert_eq(dp_get_rev_nat(dp, &rk, &rv), 0, "no rev_nat entry for %s:80",
		     svcs[SVC_SHARED4].backends[j]);
	cr_assert_eq(rv.service_id, (__u32)SVC_NONE4, "rev_nat gives it to service %u",
		     rv.service_id);
	RUN_STEPS(steps);
	cr_assert(has_entry(&r, &flags) && (flags & LIMPET_FLOW_RET), "shared4: no return entry");
	cr_assert(!has_entry(&nr, NULL), "none4: a return entry was written");
}

/*
 * When the other services' backends leave shared4's address:port (none4,
 * empty4 and noring4 move to port 81), rev_nat goes to shared4, and only
 * then do its backends' entries say so: shared4's SYN writes nothing, and
 * its SYN-ACK is un-NATed by rev_nat.
 */
Test(xdp, rev_nat_owner_change)
{
	struct pkt_spec syn = to_vip(SVC_SHARED4, CLIENT4, 42100, PKT_TCP_SYN);
	int j = predict(SVC_SHARED4, &syn);
	struct pkt_spec synack = reply(SVC_SHARED4, j, &syn, PKT_TCP_SYN | PKT_TCP_ACK);
	static const char *const others[] = { "{name: none4-b", "{name: empty4-b",
					      "{name: noring4-b" };
	char *yaml = services_yaml(), *at, *eol, *port;
	struct backend_value bv;
	struct model moved;
	size_t before, i;
	int n = 0;
	const struct step steps[] = {
		{ "shared4's SYN: forwarded, no entry", syn, FROM_CLIENT,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_backend(SVC_SHARED4, j, syn),
		  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		{ "its SYN-ACK: rev_nat restores shared4's VIP", synack, FROM_SERVER,
		  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
		  .out = nat_to_client(SVC_SHARED4, synack),
		  .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
	};

	cr_assert_eq(dp_get_backend(dp, be_id(SVC_SHARED4, j), &bv), 0);
	cr_assert_eq(bv.rev_nat_owned, 0, "shared4's backend owned rev_nat while none4 had it");
	/* Their backends' lines: port 80 -> 81 (same length, edited in place). */
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		for (at = strstr(yaml, others[i]); at; at = strstr(eol, others[i])) {
			eol = strchr(at, '\n');
			port = strstr(at, ", port: 80,");
			cr_assert(eol && port && port < eol, "%.40s: no port 80", at);
			port[strlen(", port: 8")] = '1';
			n++;
		}
	}
	cr_assert_eq(n, 3 * NBACKENDS, "%d backends moved", n);
	product_model(yaml, &moved);
	free(yaml);
	product_program(dp, &moved);
	cr_assert_eq(dp_get_backend(dp, be_id(SVC_SHARED4, j), &bv), 0);
	cr_assert_eq(bv.rev_nat_owned, 1, "rev_nat went to shared4, its backend's entry did not say so");
	before = flow_entries();
	RUN_STEPS(steps);
	cr_assert_eq(flow_entries(), before, "shared4's SYN wrote an entry");
	model_free(&moved);
}

/* A backend's reply to this host itself (a health check): not a flow's. */
Test(xdp, reply_to_this_host_untouched)
{
	struct pkt_spec hc = pkt_tcp("10.20.0.1", 50000, "10.20.0.11", 8080, PKT_TCP_SYN);
	struct pkt_spec r = reply(SVC_WEB4, 0, &hc, PKT_TCP_SYN | PKT_TCP_ACK);
	const struct step steps[] = {
		{ "SYN-ACK from web4's backend to 10.20.0.1: passed untouched", r, FROM_SERVER,
		  .verdict = XDP_PASS, .out_kind = OUT_SAME,
		  .deltas = { { LIMPET_STAT_PASS, 1 } } },
	};

	RUN_STEPS(steps);
}

#define SYN_FLOOD 4096

/*
 * A SYN flood at an L4 VIP writes nothing: established flows keep their
 * entries, the table does not grow, and a flooded tuple's own ACK is
 * recorded as usual.
 */
Test(xdp, syn_flood_leaves_entries)
{
	struct pkt_spec ack = to_vip(SVC_WEB4, CLIENT4, 43000, PKT_TCP_ACK);
	struct pkt_spec syn, last;
	__u8 frame[PKT_MAX];
	struct result r;
	size_t before, len;
	char client[32];
	__u64 stateless = 0;
	int i, j = predict(SVC_WEB4, &ack);

	cr_assert_eq(sent_to(SVC_WEB4, &ack, XDP_REDIRECT), j);
	before = flow_entries();
	for (i = 0; i < SYN_FLOOD; i++) {
		snprintf(client, sizeof(client), "10.10.%d.%d", 100 + i / 250, 1 + i % 250);
		syn = to_vip(SVC_WEB4, client, 1024 + i, PKT_TCP_SYN);
		len = pkt_build(&syn, frame, sizeof(frame));
		run_frame(frame, len, FROM_CLIENT, &r);
		cr_assert_eq(r.verdict, XDP_REDIRECT, "SYN %d: verdict %s", i,
			     verdict_name(r.verdict));
		stateless += r.delta[LIMPET_STAT_SYN_STATELESS];
	}
	cr_assert_eq(stateless, SYN_FLOOD, "l4_syn_stateless grew by %llu",
		     (unsigned long long)stateless);
	cr_assert_eq(flow_entries(), before, "the flood wrote %zu entries",
		     flow_entries() - before);
	cr_assert(has_entry(&ack, NULL), "the established flow's entry is gone");
	last = syn;
	last.tcp_flags = PKT_TCP_ACK;
	{
		const struct step steps[] = {
			{ "the established flow still forwards", ack, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, ack),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "a flooded tuple's ACK: recorded", last, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_ANY,
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
		};

		RUN_STEPS(steps);
	}
	cr_assert(has_entry(&last, NULL), "the ACK wrote no entry");
	cr_assert_eq(flow_entries(), before + 1);
}

Test(xdp, stale_flow_reassigned_id)
{
	struct pkt_spec syn = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_ACK);
	int j = predict(SVC_WEB4, &syn);

	cr_assert_eq(sent_to(SVC_WEB4, &ack, XDP_REDIRECT), j);
	/* The id was given to a new backend (gen bumped) at the same slot. */
	set_backend(SVC_WEB4, j, LIMPET_BACKEND_ACTIVE, 2);
	{
		const struct step steps[] = {
			{ "flow bound under gen 1, backend now gen 2: re-bound", ack, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, j, ack),
			  .deltas = { { LIMPET_STAT_STALE_FLOW, 1 }, { LIMPET_STAT_FWD_NEW, 1 } } },
			{ "then established", ack, FROM_CLIENT, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_FRAME, .out = nat_to_backend(SVC_WEB4, j, ack),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

Test(xdp, ring_swap)
{
	struct pkt_spec syn = to_vip(SVC_NONE4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_NONE4, CLIENT4, 40000, PKT_TCP_ACK);
	struct pkt_spec fresh = to_vip(SVC_NONE4, CLIENT4, 40001, PKT_TCP_SYN);
	struct pkt_spec web = to_vip(SVC_WEB4, CLIENT4, 50000, PKT_TCP_SYN);
	struct pkt_spec web_ack = to_vip(SVC_WEB4, CLIENT4, 50000, PKT_TCP_ACK);
	struct pkt_spec web_new = to_vip(SVC_WEB4, CLIENT4, 50001, PKT_TCP_SYN);
	int j = predict(SVC_NONE4, &syn), wj = predict(SVC_WEB4, &web);
	int k = (j + 1) % NBACKENDS, wk = (wj + 1) % NBACKENDS;

	cr_assert_eq(sent_to(SVC_NONE4, &ack, XDP_REDIRECT), j);
	cr_assert_eq(sent_to(SVC_WEB4, &web_ack, XDP_REDIRECT), wj);
	/* New tables that send every slot elsewhere. */
	ring_all_to(SVC_NONE4, k);
	ring_all_to(SVC_WEB4, wk);
	cr_assert_eq(predict(SVC_NONE4, &fresh), k);
	{
		const struct step steps[] = {
			{ "after the swap an established flow keeps its backend", ack, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_NONE4, j, ack),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "a new flow (another port) follows the new table", fresh, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_NONE4, k, fresh),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
			{ "client_ip: the established flow stays", web_ack, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, wj, web_ack),
			  .deltas = { { LIMPET_STAT_FWD_EST, 1 } } },
			{ "client_ip: the client's next connection follows the new table", web_new,
			  FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_FRAME,
			  .out = nat_to_backend(SVC_WEB4, wk, web_new),
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
		};

		RUN_STEPS(steps);
	}
}

static void check_counters(const char *what, bool service, __u32 id, __u64 packets, __u64 bytes,
			   __u64 new_flows, __u64 drops)
{
	struct limpet_counters c;

	cr_assert_eq(service ? dp_service_counters(dp, id, &c) : dp_backend_counters(dp, id, &c),
		     0);
	cr_expect(c.packets == packets && c.bytes == bytes && c.new_flows == new_flows &&
			  c.drops == drops,
		  "%s: packets %llu bytes %llu new_flows %llu drops %llu, expected %llu %llu %llu "
		  "%llu",
		  what, (unsigned long long)c.packets, (unsigned long long)c.bytes,
		  (unsigned long long)c.new_flows, (unsigned long long)c.drops,
		  (unsigned long long)packets, (unsigned long long)bytes,
		  (unsigned long long)new_flows, (unsigned long long)drops);
}

Test(xdp, service_and_backend_counters)
{
	struct pkt_spec syn = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_SYN);
	struct pkt_spec ack = to_vip(SVC_WEB4, CLIENT4, 40000, PKT_TCP_ACK);
	struct pkt_spec ttl1 = to_vip(SVC_WEB4, CLIENT4, 40001, PKT_TCP_SYN);
	int j = predict(SVC_WEB4, &syn), other = (j + 1) % NBACKENDS;
	struct pkt_spec synack = reply(SVC_WEB4, j, &syn, PKT_TCP_SYN | PKT_TCP_ACK);
	__u64 ip_len = pkt_len(&syn) - PKT_ETH_LEN;

	ack.payload_len = 100;
	ttl1.ttl = 1;
	{
		const struct step steps[] = {
			{ "SYN", syn, FROM_CLIENT, .verdict = XDP_REDIRECT, .out_kind = OUT_ANY,
			  .deltas = { { LIMPET_STAT_SYN_STATELESS, 1 } } },
			{ "SYN-ACK", synack, FROM_SERVER, .verdict = XDP_REDIRECT,
			  .out_kind = OUT_ANY, .deltas = { { LIMPET_STAT_RET_STATELESS, 1 } } },
			{ "ACK with 100 bytes: the flow's entry, its new flow", ack, FROM_CLIENT,
			  .verdict = XDP_REDIRECT, .out_kind = OUT_ANY,
			  .deltas = { { LIMPET_STAT_FWD_NEW, 1 } } },
			{ "TTL 1: a service drop", ttl1, FROM_CLIENT, .verdict = XDP_DROP,
			  .deltas = { { LIMPET_STAT_DROP_TTL, 1 } } },
		};

		RUN_STEPS(steps);
	}
	/* Packets and bytes of both directions (IP lengths), one new flow. */
	check_counters("service", true, SVC_WEB4, 3, 3 * ip_len + 100, 1, 1);
	check_counters("backend", false, be_id(SVC_WEB4, j), 3, 3 * ip_len + 100, 1, 0);
	check_counters("other backend", false, be_id(SVC_WEB4, other), 0, 0, 0, 0);
}

/* ---- fuzz ---- */

static __u64 rng_state;

static __u32 rnd(void)
{
	return pkt_rand(&rng_state);
}

#define FUZZ_FRAMES 2000
#define FUZZ_SEED 0x6c696d7065742121ull

Test(xdp, fuzz)
{
	static const char *const addrs4[] = { CLIENT4, "10.10.3.4", "10.100.0.100",
					      "10.100.0.101", "10.100.0.102", "10.100.0.105",
					      "10.20.0.11", "10.20.0.12", "10.20.0.13",
					      "10.20.0.1", "192.0.2.1" };
	static const char *const addrs6[] = { CLIENT6, "fd00:100::100", "fd00:100::102",
					      "fd00:20::11", "fd00:20::12", "fd00:20::13",
					      "fd00:10::1", "2001:db8::1" };
	static const __u16 ports[] = { 80, 53, 8080, 5353, 40000, 1000, 1001, 0, 65535 };
	static const __u8 protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_GRE };
	struct pkt_spec base[64];
	int nbase = 0, i, s, k, count[XDP_REDIRECT + 1] = { 0 };
	__u8 in[PKT_MAX];
	struct result r;
	char why[64];

	rng_state = FUZZ_SEED;
	/* Seeds: client frames of every service, and the replies of the flows
	 * they bind, so mutations start near every path.
	 */
	for (s = 0; s < SVC_MAX; s++) {
		const char *client = strchr(svcs[s].vip, ':') ? CLIENT6 : CLIENT4;

		for (k = 0; k < 2; k++) {
			struct pkt_spec c = to_vip(s, client, 1000 + k, PKT_TCP_SYN);
			size_t len = pkt_build(&c, in, sizeof(in));
			struct pkt_spec out;

			base[nbase++] = c;
			run_frame(in, len, FROM_CLIENT, &r);
			if (r.verdict != XDP_REDIRECT || svcs[s].forwarding != LIMPET_FWD_NAT)
				continue;
			cr_assert(pkt_parse(r.out, r.out_len, &out));
			c.src = out.dst;
			c.dst = pkt_addr(client);
			c.sport = out.dport;
			c.dport = 1000 + k;
			c.smac = out.dmac;
			c.dmac = PKT_MAC_PKS0;
			base[nbase++] = c;
		}
	}

	for (i = 0; i < FUZZ_FRAMES; i++) {
		struct pkt_spec sp = base[rnd() % nbase];
		enum ingress ingress = rnd() & 1 ? FROM_SERVER : FROM_CLIENT;
		bool v6 = sp.family == LIMPET_FAMILY_V6, in_ok;
		__s64 outcomes = 0;
		size_t len;

		/* Field-level mutations keep the checksums right... */
		if (rnd() % 4 == 0)
			sp.src = pkt_addr(v6 ? addrs6[rnd() % 8] : addrs4[rnd() % 11]);
		if (rnd() % 4 == 0)
			sp.dst = pkt_addr(v6 ? addrs6[rnd() % 8] : addrs4[rnd() % 11]);
		if (rnd() % 4 == 0)
			sp.sport = rnd() % 2 ? ports[rnd() % 9] : rnd();
		if (rnd() % 4 == 0)
			sp.dport = rnd() % 2 ? ports[rnd() % 9] : rnd();
		if (rnd() % 6 == 0)
			sp.proto = protos[rnd() % 4];
		if (rnd() % 6 == 0)
			sp.ttl = rnd() % 4;
		if (rnd() % 4 == 0)
			sp.tcp_flags = rnd();
		if (rnd() % 10 == 0)
			sp.frag = rnd() % 2 ? PKT_IP_MF : rnd() & 0x3fff;
		if (!v6 && rnd() % 10 == 0)
			sp.ip_opts = 4 * (rnd() % 11);
		if (v6 && rnd() % 10 == 0)
			sp.hopopts = true;
		if (rnd() % 3 == 0)
			sp.payload_len = rnd() % 200;
		if (!v6 && sp.proto == IPPROTO_UDP && rnd() % 4 == 0)
			sp.udp_no_csum = true;
		if (rnd() % 8 == 0)
			sp.trailer = rnd() % 16;
		len = pkt_build(&sp, in, sizeof(in));
		cr_assert(len);

		/* ...byte-level ones need not. */
		switch (rnd() % 8) {
		case 0:
			for (k = rnd() % 4; k >= 0; k--)
				in[rnd() % len] ^= 1 << (rnd() % 8);
			break;
		case 1:
			len = PKT_ETH_LEN + rnd() % (len - PKT_ETH_LEN + 1);
			break;
		case 2:
			for (k = 0; k < 8; k++)
				in[PKT_ETH_LEN + rnd() % (len - PKT_ETH_LEN + 1) - 1] = rnd();
			break;
		}
		in_ok = pkt_verify(in, len, why, sizeof(why)) == 0;

		run_frame(in, len, ingress, &r);
		cr_assert(r.verdict == XDP_PASS || r.verdict == XDP_DROP || r.verdict == XDP_TX ||
				  r.verdict == XDP_REDIRECT,
			  "frame %d: verdict %d", i, r.verdict);
		count[r.verdict]++;
		/* Every frame ends in exactly one outcome counter. */
		for (k = 0; k < LIMPET_STAT_MAX; k++)
			if (k != LIMPET_STAT_STALE_FLOW && !LIMPET_STAT_IS_EVENT(k))
				outcomes += r.delta[k];
		cr_assert_eq(outcomes, 1, "frame %d: %lld outcomes", i, (long long)outcomes);

		if (r.verdict == XDP_PASS && !r.delta[LIMPET_STAT_FIB_PASS])
			check_frame("fuzz: passed frame", &r, in, len);
		if (r.verdict == XDP_TX || r.verdict == XDP_REDIRECT ||
		    r.delta[LIMPET_STAT_FIB_PASS]) {
			cr_assert_eq(r.out_len, len, "frame %d: length changed", i);
			if (in_ok)
				cr_assert_eq(pkt_verify(r.out, r.out_len, why, sizeof(why)), 0,
					     "frame %d (%s): bad %s in the output", i,
					     verdict_name(r.verdict), why);
		}
	}
	cr_log_info("fuzz: %d frames: PASS %d DROP %d TX %d REDIRECT %d", FUZZ_FRAMES,
		    count[XDP_PASS], count[XDP_DROP], count[XDP_TX], count[XDP_REDIRECT]);
	/* The mutations must reach every verdict (XDP_TX is an ICMP echo's
	 * alone), or the loop proves little.
	 */
	cr_assert(count[XDP_PASS] > 100 && count[XDP_DROP] > 20 && count[XDP_REDIRECT] > 100,
		  "fuzz: PASS %d DROP %d TX %d REDIRECT %d", count[XDP_PASS], count[XDP_DROP],
		  count[XDP_TX], count[XDP_REDIRECT]);
}

/* max_entries of the flow table pinned in <dir>. */
static struct bpf_map_info map_info_of(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	cr_assert_eq(bpf_obj_get_info_by_fd(fd, &info, &len), 0);
	return info;
}

static struct bpf_map_info pinned_map_info(const char *dir, const char *name)
{
	struct bpf_map_info info;
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	cr_assert_geq(fd, 0, "no %s pinned in %s", name, dir);
	info = map_info_of(fd);
	close(fd);
	return info;
}

static __u32 pinned_flows_size(const char *dir)
{
	return pinned_map_info(dir, "flows").max_entries;
}

static char flowsize_dir[2][64];

static void flowsize_cleanup(void)
{
	char cmd[160];
	int i;

	for (i = 0; i < 2; i++) {
		if (!flowsize_dir[i][0])
			continue;
		snprintf(cmd, sizeof(cmd), "rm -rf %s", flowsize_dir[i]);
		if (system(cmd))
			cr_log_warn("%s failed", cmd);
	}
}

/*
 * A flow table of a power of two is made one entry larger (twice the
 * kernel's buckets), but a pinned one of exactly that size, as an older
 * limpet made it, is adopted as it is: an upgrade keeps its flows.
 */
Test(xdp, flow_table_buckets, .fini = flowsize_cleanup)
{
	struct dataplane *fresh, *adopting;
	char path[128];
	int fd;

	snprintf(flowsize_dir[0], sizeof(flowsize_dir[0]), "/sys/fs/bpf/limpet-pkt-fresh-%d",
		 getpid());
	snprintf(flowsize_dir[1], sizeof(flowsize_dir[1]), "/sys/fs/bpf/limpet-pkt-adopt-%d",
		 getpid());
	cr_assert_eq(dp_flow_map_entries(4096), 4097);
	cr_assert_eq(dp_flow_map_entries(5000), 5000);

	cr_assert_eq(dp_open(&fresh, flowsize_dir[0], 4096), 0);
	cr_assert_eq(dp_load(fresh), 0);
	cr_assert_eq(pinned_flows_size(flowsize_dir[0]), 4097);
	dp_close(fresh);

	cr_assert_eq(mkdir(flowsize_dir[1], 0700), 0);
	fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "flows", sizeof(struct flow_key),
			    sizeof(struct flow_value), 4096, NULL);
	cr_assert_geq(fd, 0, "bpf_map_create: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/flows", flowsize_dir[1]);
	cr_assert_eq(bpf_obj_pin(fd, path), 0, "pin %s: %s", path, strerror(errno));
	close(fd);
	cr_assert_eq(dp_open(&adopting, flowsize_dir[1], 4096), 0);
	cr_assert_eq(dp_load(adopting), 0, "the exactly sized pinned table was not adopted");
	cr_assert_eq(pinned_flows_size(flowsize_dir[1]), 4096);
	dp_close(adopting);
}

/*
 * The maps `limpet run` makes while it reads its configuration are the
 * ones the loaded program uses and pins; a restart adopts the pins and
 * drops the premade ones.
 */
Test(xdp, premade_maps, .fini = flowsize_cleanup)
{
	static const char *const names[DP_PREMADE_MAPS] = { "backend_stats", "route_sessions" };
	__u32 premade_id[DP_PREMADE_MAPS], again_id[DP_PREMADE_MAPS];
	struct dp_premade pm, again;
	struct dataplane *first, *restarted;
	int i;

	snprintf(flowsize_dir[0], sizeof(flowsize_dir[0]), "/sys/fs/bpf/limpet-pkt-premade-%d",
		 getpid());
	dp_premake(&pm);
	for (i = 0; i < DP_PREMADE_MAPS; i++) {
		cr_assert_geq(pm.fd[i], 0, "%s not made: %s", names[i], strerror(errno));
		premade_id[i] = map_info_of(pm.fd[i]).id;
	}
	cr_assert_eq(dp_open(&first, flowsize_dir[0], 4096), 0);
	dp_use_premade(first, &pm);
	for (i = 0; i < DP_PREMADE_MAPS; i++)
		cr_assert_eq(pm.fd[i], -1, "dp_use_premade() kept %s's fd", names[i]);
	cr_assert_eq(dp_load(first), 0);
	for (i = 0; i < DP_PREMADE_MAPS; i++)
		cr_assert_eq(pinned_map_info(flowsize_dir[0], names[i]).id, premade_id[i],
			     "the loaded %s is not the premade one", names[i]);

	/* A restart: the pins are the maps, the new premade ones go. */
	dp_premake(&again);
	for (i = 0; i < DP_PREMADE_MAPS; i++)
		again_id[i] = again.fd[i] >= 0 ? map_info_of(again.fd[i]).id : 0;
	cr_assert_eq(dp_open(&restarted, flowsize_dir[0], 4096), 0);
	dp_use_premade(restarted, &again);
	cr_assert_eq(dp_load(restarted), 0);
	for (i = 0; i < DP_PREMADE_MAPS; i++) {
		cr_assert_eq(pinned_map_info(flowsize_dir[0], names[i]).id, premade_id[i],
			     "a restart did not adopt the pinned %s", names[i]);
		cr_assert_neq(again_id[i], premade_id[i]);
	}
	dp_close(restarted);
	dp_close(first);
}
