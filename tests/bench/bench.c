/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bench.c - nanoseconds per packet of each data plane path, measured with
 * bpf_prog_test_run_opts(repeat) on the wrappers of bpf/limpet_bench.bpf.c
 * (make bench; tests/bench/run.sh runs it in a namespace set up like the
 * packet tests', tests/packet/netns.sh, whose neighbours bpf_fib_lookup()
 * resolves).
 *
 * One NAT service per protocol (TCP and UDP on 10.100.0.100, client_ip
 * affinity, three backends) is programmed into the bench object's own maps.
 * Figures are measured round-robin, <rounds> times each, so a busy moment
 * of the machine weighs on all of them alike; each figure is the median of
 * its rounds of opts.duration (the kernel's ns per run, an integer).
 *
 * Every run is proven: the retval must be the verdict of the path, and the
 * global counter of its outcome must have grown by exactly the repeat count
 * (floor and restore do not touch the data plane and are checked by retval
 * only). Anything else prints an error and exits 1. Speed is never gated.
 * New-flow runs churn the LRU flow table, so the established flows are
 * bound afresh (prime()) before each of their runs.
 *
 * Output: a table for people, then one line per figure for machines,
 * "bench <name> <value> ns/pkt" (INTERFACE.md, "Benchmark output").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <getopt.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "limpet_bench.skel.h"
#include "limpet_hash.h"
#include "limpet_maps.h"
#include "dp/cluster.h"
#include "dp/dataplane.h"
#include "dp/maps.h"
#include "dp/maglev.h"
#include "packet/pkt.h"

#define RING_SIZE 65537u
#define NBACKENDS 3
#define FRAME_MAX 256	/* BENCH_FRAME_MAX of limpet_bench.bpf.c */
#define ROUNDS_MAX 99

#define VIP "10.100.0.100"
#define CLIENT "10.10.0.2"

/* The map value of bench_template. */
struct bench_frame {
	__u32 len;
	__u8 data[FRAME_MAX];
};

enum prog {
	PROG_LB,
	PROG_LB_NEWFLOW,
	PROG_FLOOR,
	PROG_RESTORE,
	PROG_BIND_FIRST,
	PROG_BIND_SYNACK,
};

enum ingress { FROM_CLIENT, FROM_SERVER };

/* The figures, in the order they are measured and printed. */
enum fig {
	FIG_FLOOR,
	FIG_RESTORE,
	FIG_NEW_TCP,
	FIG_FIRST_ACK,
	FIG_EST_FWD,
	FIG_EST_FWD_TABLE,
	FIG_EST_RET,
	FIG_EST_RET_FLOW,
	FIG_UDP,
	FIG_PASS,
	FIG_HTTP_SYNACK,
	FIG_HTTP_SYNACK_NOTS,
	FIG_HTTP_EST_FWD,
	FIG_HTTP_EST_RET,
	FIG_HTTP_BIND_FIRST,
	FIG_HTTP_BIND_SYNACK,
	FIG_CLUSTER_FWD,
	FIG_CLUSTER_ENCAP,
	FIG_MAX,
};

/* Where node "a" of a cluster figure is (cluster_node()). */
enum cluster_place {
	NO_CLUSTER,
	NODE_ON_LINK,		/* 10.20.0.13, a neighbour on pks0 */
	NODE_BEHIND_ROUTER,	/* 10.98.0.1, through 10.20.0.13 (tests/packet/netns.sh) */
};

struct figure {
	const char *name;
	const char *path;	/* what it measures, for people */
	enum prog prog;
	enum ingress ingress;
	int verdict;
	int stat;		/* the outcome counter that proves the path; -1: none */
	int stat2;		/* another that must grow as much; 0: none */
	int stat_not;		/* one that must not grow; 0: none */
	bool cached;		/* prime() leaves a copy in the flow cache */
	bool slow;		/* new flows: fewer repeats */
	int prime;		/* index of the figure whose flow must exist first; -1: none */
	bool splice;		/* needs the spliced HTTP flow of prime_splice() */
	enum cluster_place cluster;	/* runs on a cluster node (cluster_node()) */
	struct pkt_spec frame;
	const __u8 *opts;	/* TCP options of the frame */
	size_t opts_len;
	__u32 ns[ROUNDS_MAX];
	double median;
};

struct service {
	__u32 id;
	__u8 proto;
	__u16 port;
	__u16 be_port;
	__u8 mode;
};

static const struct service services[] = {
	{ 0, IPPROTO_TCP, 80, 8080, LIMPET_MODE_L4 },
	{ 1, IPPROTO_UDP, 53, 5353, LIMPET_MODE_L4 },
	{ 2, IPPROTO_TCP, 81, 8081, LIMPET_MODE_HTTP },
	{ 3, IPPROTO_TCP, 82, 8082, LIMPET_MODE_L4 },
};
#define HTTP_SVC 2
/* Its backends' address:port is taken to be in another service too: no
 * rev_nat entry, so its flows keep per-flow return entries.
 */
#define SHARED_SVC 3

/* TCP options as Linux sends them: a SYN's, and every later segment's. */
static const __u8 syn_opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
				 1, 3, 3, 7 };
static const __u8 ts_opts[] = { 1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 3 };
/* A TSecr whose low bit names node "a" (id 0) of cluster_node()'s two. */
static const __u8 owner_a_ts_opts[] = { 1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 4 };
/* A SYN as Windows sends it: no timestamps (limpet's own cookie keeps the rest). */
static const __u8 syn_nots_opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2 };

static const char *const backends[NBACKENDS] = { "10.20.0.11", "10.20.0.12", "10.20.0.13" };

static struct limpet_bench *skel;
static int if_client, if_server, ncpus;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench: error: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static int map_fd(struct bpf_map *map)
{
	return bpf_map__fd(map);
}

static void update(struct bpf_map *map, const void *key, const void *val, const char *what)
{
	if (bpf_map_update_elem(map_fd(map), key, val, BPF_ANY))
		die("%s: %s", what, strerror(errno));
}

/* A complete new Maglev table for <svc>, swapped in with one outer update. */
static void set_ring(__u32 svc, const char *prefix)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	struct maglev_backend mb[NBACKENDS];
	char names[NBACKENDS][32];
	__u32 *table = calloc(RING_SIZE + 1, sizeof(*table)), i;
	int inner, j;

	if (!table)
		die("out of memory");
	for (j = 0; j < NBACKENDS; j++) {
		snprintf(names[j], sizeof(names[j]), "%s-b%d", prefix, j);
		mb[j] = (struct maglev_backend){ names[j], svc * NBACKENDS + j, 1 };
	}
	table[LIMPET_RING_SIZE_SLOT] = RING_SIZE;
	if (maglev_build(mb, NBACKENDS, RING_SIZE, table + 1))
		die("maglev_build failed");
	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench_ring", sizeof(__u32), sizeof(__u32),
			       RING_SIZE + 1, &opts);
	if (inner < 0)
		die("ring map: %s", strerror(errno));
	for (i = 0; i <= RING_SIZE; i++)
		if (bpf_map_update_elem(inner, &i, &table[i], BPF_ANY))
			die("ring slot %u: %s", i, strerror(errno));
	update(skel->maps.rings, &svc, &inner, "rings");
	close(inner);
	free(table);
}

static void program_services(void)
{
	size_t s;
	int j;

	for (s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
		const struct service *sv = &services[s];
		struct vip_key vk = {
			.addr = pkt_addr(VIP),
			.port = htons(sv->port),
			.proto = sv->proto,
			.family = LIMPET_FAMILY_V4,
		};
		struct vip_value vv = {
			.service_id = sv->id,
			.hash = LIMPET_HASH_CLIENT,
			.forwarding = LIMPET_FWD_NAT,
			.mode = sv->mode,
		};

		for (j = 0; j < NBACKENDS; j++) {
			__u32 id = sv->id * NBACKENDS + j;
			struct backend_value be = {
				.addr = pkt_addr(backends[j]),
				.port = htons(sv->be_port),
				.family = LIMPET_FAMILY_V4,
				.state = LIMPET_BACKEND_ACTIVE,
				.gen = 1,
				.service_id = sv->id,
				/* As dp/program.c sets it with the rev_nat entries below. */
				.rev_nat_owned = sv->mode == LIMPET_MODE_L4 && sv->id != SHARED_SVC,
			};

			update(skel->maps.backends, &id, &be, "backends");
		}
		for (j = 0; j < NBACKENDS && sv->mode == LIMPET_MODE_L4 && sv->id != SHARED_SVC;
		     j++) {
			/* As dp/program.c writes it for a backend of one L4 NAT service. */
			struct rev_nat_key rk = {
				.addr = pkt_addr(backends[j]),
				.port = htons(sv->be_port),
				.proto = sv->proto,
				.family = LIMPET_FAMILY_V4,
			};
			struct rev_nat_value rv = {
				.vip = vk.addr,
				.vip_port = vk.port,
				.service_id = sv->id,
				.backend_id = sv->id * NBACKENDS + j,
			};

			update(skel->maps.rev_nat, &rk, &rv, "rev_nat");
		}
		set_ring(sv->id, sv->proto == IPPROTO_UDP ? "dns" : sv->mode ? "http" : "web");
		update(skel->maps.vips, &vk, &vv, "vips");
	}
}

static void read_global(__u64 out[LIMPET_STAT_MAX])
{
	__u64 percpu[ncpus];
	__u32 stat;
	int i;

	for (stat = 0; stat < LIMPET_STAT_MAX; stat++) {
		if (bpf_map_lookup_elem(map_fd(skel->maps.global_stats), &stat, percpu))
			die("global_stats: %s", strerror(errno));
		out[stat] = 0;
		for (i = 0; i < ncpus; i++)
			out[stat] += percpu[i];
	}
}

static const char *stat_name(int stat)
{
	return stat >= 0 ? dp_stat_name(stat) : "-";
}

static const char *verdict_name(int v)
{
	static const char *const names[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS", "XDP_TX",
					     "XDP_REDIRECT" };

	return v >= 0 && v <= XDP_REDIRECT ? names[v] : "?";
}

static int prog_fd(enum prog p)
{
	switch (p) {
	case PROG_LB:
		return bpf_program__fd(skel->progs.bench_lb);
	case PROG_LB_NEWFLOW:
		return bpf_program__fd(skel->progs.bench_lb_newflow);
	case PROG_FLOOR:
		return bpf_program__fd(skel->progs.bench_floor);
	case PROG_RESTORE:
		return bpf_program__fd(skel->progs.bench_restore);
	case PROG_BIND_FIRST:
		return bpf_program__fd(skel->progs.bench_bind_first);
	case PROG_BIND_SYNACK:
		return bpf_program__fd(skel->progs.bench_bind_synack);
	}
	return -1;
}

struct run {
	__u32 duration;		/* ns per iteration */
	int retval;
	__u8 out[FRAME_MAX];
	__u32 out_len;
	__u64 delta[LIMPET_STAT_MAX];
};

/*
 * Of a run served from the flow cache, how many packets the flow table
 * may have served instead: it confirms the copy once a second.
 */
static __u32 cache_confirmations(const struct figure *f, __u32 repeat, const struct run *r)
{
	if (f->stat2 != LIMPET_STAT_FLOW_CACHE_HIT)
		return 0;
	return 1 + (__u32)((__u64)r->duration * repeat / 1000000000ULL);
}

/* Install <f>'s frame as the template, run <repeat> times, fail loudly on a
 * wrong verdict or counter.
 */
static void run(const struct figure *f, __u32 repeat, struct run *r)
{
	struct bench_frame tmpl = { 0 };
	__u64 before[LIMPET_STAT_MAX], after[LIMPET_STAT_MAX];
	__u32 zero = 0;
	size_t len = f->opts_len ? pkt_build_tcp_opts(&f->frame, f->opts, f->opts_len, tmpl.data,
						      sizeof(tmpl.data)) :
				   pkt_build(&f->frame, tmpl.data, sizeof(tmpl.data));
	struct xdp_md md = {
		.data_end = len,
		.ingress_ifindex = f->ingress == FROM_CLIENT ? if_client : if_server,
	};
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = tmpl.data, .data_size_in = len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &md,
		    .ctx_size_in = sizeof(md), .repeat = repeat);
	int i;

	if (!len)
		die("%s: frame longer than %d bytes", f->name, FRAME_MAX);
	tmpl.len = len;
	update(skel->maps.bench_template, &zero, &tmpl, "bench_template");

	read_global(before);
	if (bpf_prog_test_run_opts(prog_fd(f->prog), &opts))
		die("%s: bpf_prog_test_run_opts: %s", f->name, strerror(errno));
	read_global(after);
	for (i = 0; i < LIMPET_STAT_MAX; i++)
		r->delta[i] = after[i] - before[i];
	r->duration = opts.duration;
	r->retval = opts.retval;
	r->out_len = opts.data_size_out;

	if (r->retval != f->verdict || (f->stat >= 0 && r->delta[f->stat] != repeat)) {
		fprintf(stderr, "bench: counters after %u runs of %s:", repeat, f->name);
		for (i = 0; i < LIMPET_STAT_MAX; i++)
			if (r->delta[i])
				fprintf(stderr, " %s +%llu", stat_name(i),
					(unsigned long long)r->delta[i]);
		fprintf(stderr, "\n");
	}
	if (r->retval != f->verdict)
		die("%s: verdict %s, expected %s: not the path it claims to measure", f->name,
		    verdict_name(r->retval), verdict_name(f->verdict));
	if (f->stat >= 0 && r->delta[f->stat] != repeat)
		die("%s: %s grew by %llu, expected exactly %u: not the path it claims to measure",
		    f->name, stat_name(f->stat), (unsigned long long)r->delta[f->stat], repeat);
	if (f->stat2 > 0 && r->delta[f->stat2] + cache_confirmations(f, repeat, r) < repeat)
		die("%s: %s grew by %llu, expected %u (less %u flow table confirmations): not the "
		    "path it claims to measure", f->name, stat_name(f->stat2),
		    (unsigned long long)r->delta[f->stat2], repeat, cache_confirmations(f, repeat, r));
	if (f->stat_not > 0 && r->delta[f->stat_not])
		die("%s: %s grew by %llu, expected 0: not the path it claims to measure", f->name,
		    stat_name(f->stat_not), (unsigned long long)r->delta[f->stat_not]);
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

static double median(const __u32 *v, int n)
{
	__u32 s[ROUNDS_MAX];

	memcpy(s, v, n * sizeof(*v));
	qsort(s, n, sizeof(*s), cmp_u32);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

/* Every run on one CPU: the figures compare better without migrations. */
static void pin_to_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	CPU_ZERO(&set);
	CPU_SET(cpu < 0 ? 0 : cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("pin to CPU %d: %s", cpu, strerror(errno));
}

/* Empty <k>'s slot of the flow cache. */
static void forget_copies(const struct flow_key *k)
{
	__u32 slot = limpet_flow_cache_index(k);
	struct flow_cache_slot none = { 0 };

	update(skel->maps.flow_cache, &slot, &none, "flow_cache");
}

/* The flow table's key of the client frame <c>. */
static struct flow_key client_key(const struct pkt_spec *c)
{
	struct flow_key k = {
		.src = c->src,
		.dst = c->dst,
		.sport = htons(c->sport),
		.dport = htons(c->dport),
		.proto = c->proto,
		.family = LIMPET_FAMILY_V4,
	};

	return k;
}

/* Another flow of the same client and VIP with the flow cache slot of <c>'s. */
static struct pkt_spec slot_holder(const struct pkt_spec *c)
{
	struct flow_key k = client_key(c);
	__u32 slot = limpet_flow_cache_index(&k);
	struct pkt_spec h = *c;

	for (h.sport = 1024; h.sport < 65535; h.sport++) {
		k = client_key(&h);
		if (h.sport != c->sport && limpet_flow_cache_index(&k) == slot)
			return h;
	}
	die("no port shares the flow cache slot of %u", c->sport);
	return h;
}

/* Remove the flow of the client frame <c> (both directions, whichever backend). */
static void forget_flow(const struct pkt_spec *c, __u16 be_port)
{
	struct flow_key k = client_key(c);
	int j;

	bpf_map_delete_elem(map_fd(skel->maps.flows), &k);
	forget_copies(&k);
	for (j = 0; j < NBACKENDS; j++) {
		k.src = pkt_addr(backends[j]);
		k.dst = c->src;
		k.sport = htons(be_port);
		k.dport = htons(c->sport);
		bpf_map_delete_elem(map_fd(skel->maps.flows), &k);
	}
}

/*
 * Bind the flow of figure <p> afresh: new-flow runs fill the LRU flow table
 * and may have evicted it (or only one of its two entries). Returns the
 * backend's reply to the client as it arrives on pks0.
 */
static struct pkt_spec prime(const struct figure *p)
{
	struct figure f = *p;
	struct pkt_spec out, reply;
	struct run r;
	char why[64];

	forget_flow(&f.frame, f.frame.proto == IPPROTO_UDP ? services[1].be_port :
			      f.frame.dport == services[SHARED_SVC].port ?
			      services[SHARED_SVC].be_port : services[0].be_port);
	f.stat = LIMPET_STAT_FWD_NEW;
	f.stat2 = 0;
	f.stat_not = 0;
	run(&f, 1, &r);
	if (!pkt_parse(r.out, r.out_len, &out) || pkt_verify(r.out, r.out_len, why, sizeof(why)))
		die("%s: the priming packet came out wrong", p->name);
	if (p->cached) {	/* the table's hit copies the entry */
		f.stat = LIMPET_STAT_FWD_EST;
		run(&f, 1, &r);
	}

	reply = f.frame;
	reply.src = out.dst;
	reply.dst = f.frame.src;
	reply.sport = out.dport;
	reply.dport = f.frame.sport;
	reply.smac = out.dmac;
	reply.dmac = PKT_MAC_PKS0;
	reply.payload_len = 64;
	return reply;
}

/*
 * The two entries of a spliced HTTP connection as the slow path installs
 * them after binding to the first backend: timestamps translated both ways,
 * the backend's window rescaled (shift 9 to our 7), sequence offsets.
 */
static void prime_splice(const struct pkt_spec *c)
{
	struct flow_key k = {
		.src = c->src, .dst = c->dst, .sport = htons(c->sport), .dport = htons(c->dport),
		.proto = IPPROTO_TCP, .family = LIMPET_FAMILY_V4,
	};
	struct flow_value v = {
		.backend_id = HTTP_SVC * NBACKENDS, .gen = 1, .service_id = HTTP_SVC,
		.flags = LIMPET_FLOW_SPLICE,
		.sp = { .ack_delta = 0x12345678, .tsecr_delta = 1000, .flags = LIMPET_SPLICE_TS },
	};

	update(skel->maps.flows, &k, &v, "flows");
	k.src = pkt_addr(backends[0]);
	k.dst = c->src;
	k.sport = htons(services[HTTP_SVC].be_port);
	k.dport = htons(c->sport);
	v.flags |= LIMPET_FLOW_RET;
	v.vip = c->dst;
	v.vip_port = htons(c->dport);
	v.sp = (struct limpet_splice){ .seq_delta = 0x12345678, .tsval_delta = 1000,
				       .wscale_in = 9, .wscale_out = 7,
				       .flags = LIMPET_SPLICE_TS | LIMPET_SPLICE_WINDOW };
	update(skel->maps.flows, &k, &v, "flows");
}

/* The state bench_bind_first and bench_bind_synack start each run from. */
struct bench_bind_state {
	struct flow_key ck;
	struct flow_value cv;
	struct flow_key bk;
	struct flow_value bv;
	struct {
		__u32 len;
		__u32 pad;
		__u8 data[2048];
	} held;
};

static __u8 bind_data_opts[12], bind_synack_opts[20];

/*
 * A binding in XDP of the HTTP service, from a fresh cookie handshake
 * (cookies age): the SYN through bench_lb, the first request segment
 * through bench_bind_first once; its entries and held copy become the
 * state of bench_bind_synack; the two figures get their frames.
 */
static void prime_bind(struct figure *first, struct figure *synack)
{
	struct pkt_spec hsyn = pkt_tcp(CLIENT, 40005, VIP, 81, PKT_TCP_SYN), out;
	struct figure f = { .name = "bind handshake", .prog = PROG_LB, .verdict = XDP_REDIRECT,
			    .stat = LIMPET_STAT_SYNCOOKIE_SENT, .frame = hsyn, .opts = syn_opts,
			    .opts_len = sizeof(syn_opts) };
	struct bench_bind_state *st = calloc(1, sizeof(*st));
	struct limpet_tcpopt o;
	__u32 zero = 0, isn, tsval, l4;
	struct run r;
	int j;

	if (!st)
		die("out of memory");
	forget_flow(&hsyn, services[HTTP_SVC].be_port);	/* the last round's binding */
	run(&f, 1, &r);
	if (!pkt_parse(r.out, r.out_len, &out))
		die("bind handshake: no SYN-ACK");
	l4 = PKT_ETH_LEN + PKT_IP4_LEN;
	limpet_tcpopt_parse(r.out + l4, (__u32)((r.out[l4 + 12] >> 4) * 4), &o);
	isn = pkt_get32(r.out + l4 + 4);
	tsval = o.tsval;

	first->frame = pkt_tcp(CLIENT, 40005, VIP, 81, PKT_TCP_ACK | PKT_TCP_PSH);
	first->frame.seq = hsyn.seq + 1;
	first->frame.ack = isn + 1;
	first->frame.payload_len = 64;
	memcpy(bind_data_opts, (const __u8[]){ 1, 1, 8, 10, 0, 0, 0, 2 }, 8);
	pkt_put32(bind_data_opts + 8, tsval);
	first->opts = bind_data_opts;
	first->opts_len = sizeof(bind_data_opts);

	st->ck = (struct flow_key){ .src = first->frame.src, .dst = first->frame.dst,
				    .sport = htons(40005), .dport = htons(81),
				    .proto = IPPROTO_TCP, .family = LIMPET_FAMILY_V4 };
	update(skel->maps.bench_bind_state, &zero, st, "bench_bind_state");
	run(first, 1, &r);
	if (bpf_map_lookup_elem(map_fd(skel->maps.flows), &st->ck, &st->cv) ||
	    !(st->cv.flags & LIMPET_FLOW_XDP_BINDING))
		die("bind: no binding entry after the first segment");
	j = (int)(st->cv.backend_id - HTTP_SVC * NBACKENDS);
	if (j < 0 || j >= NBACKENDS)
		die("bind: backend id %u", st->cv.backend_id);
	st->bk = (struct flow_key){ .src = pkt_addr(backends[j]), .dst = st->ck.src,
				    .sport = htons(services[HTTP_SVC].be_port),
				    .dport = st->ck.sport, .proto = IPPROTO_TCP,
				    .family = LIMPET_FAMILY_V4 };
	if (bpf_map_lookup_elem(map_fd(skel->maps.flows), &st->bk, &st->bv) ||
	    bpf_map_lookup_elem(map_fd(skel->maps.held_segments), &st->ck, &st->held))
		die("bind: no backend entry or held segment");
	update(skel->maps.bench_bind_state, &zero, st, "bench_bind_state");

	/* The backend's SYN-ACK: MSS, SACK-perm, TS, NOP, WS 9. */
	synack->frame = pkt_tcp(backends[j], services[HTTP_SVC].be_port, CLIENT, 40005,
				PKT_TCP_SYN | PKT_TCP_ACK);
	synack->frame.smac = PKT_MAC_BACKEND(11 + j);
	synack->frame.dmac = PKT_MAC_PKS0;
	synack->frame.seq = 0x50607080;
	synack->frame.ack = hsyn.seq + 1;
	memcpy(bind_synack_opts, (const __u8[]){ 2, 4, 0x05, 0x78, 4, 2, 8, 10, 0, 0, 0x70, 0,
						 0, 0, 0, 2, 1, 3, 3, 9 }, 20);
	synack->opts = bind_synack_opts;
	synack->opts_len = sizeof(bind_synack_opts);
	free(st);
}

/*
 * The cluster map of node "b" (10.20.0.1) of two, node "a" <where>, as
 * dp/cluster.c writes it; NO_CLUSTER: a lone node.
 */
static void cluster_node(enum cluster_place where)
{
	struct node_config nodes[2] = { { .name = "a" }, { .name = "b" } };
	struct cluster_config conf = { .enabled = where != NO_CLUSTER, .node = "b",
				       .nodes = nodes, .n_nodes = 2 };
	struct cluster_value val;
	__u32 zero = 0;

	nodes[0].address.family = nodes[1].address.family = LIMPET_FAMILY_V4;
	nodes[0].address.addr = pkt_addr(where == NODE_BEHIND_ROUTER ? "10.98.0.1" : "10.20.0.13");
	nodes[1].address.addr = pkt_addr("10.20.0.1");
	dp_cluster_of(&conf, &val);
	update(skel->maps.cluster, &zero, &val, "cluster");
}

/* Is figure <name> in the comma-separated list <only> (NULL: all)? */
static bool figure_wanted(const char *only, const char *name)
{
	size_t n = strlen(name);
	const char *at;

	if (!only)
		return true;
	for (at = strstr(only, name); at; at = strstr(at + 1, name))
		if ((at == only || at[-1] == ',') && (at[n] == ',' || at[n] == '\0'))
			return true;
	return false;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-r ROUNDS] [-n REPEAT] [-N NEWFLOW_REPEAT] [-f FLOW_ENTRIES] [-F NAMES]\n"
		"  -r  rounds per figure, the median is reported (7)\n"
		"  -n  runs per round (2000000); -N for new flows (500000)\n"
		"  -f  flow table entries (the controller's default, %u)\n"
		"  -F  only these figures, comma-separated (for profiling one path)\n"
		"  run inside the namespace of tests/bench/run.sh (make bench)\n",
		argv0, LIMPET_FLOW_TABLE_DEFAULT);
	exit(2);
}

int main(int argc, char **argv)
{
	struct pkt_spec est = pkt_tcp(CLIENT, 40000, VIP, 80, PKT_TCP_ACK | PKT_TCP_PSH);
	struct pkt_spec syn = pkt_tcp(CLIENT, 40000, VIP, 80, PKT_TCP_SYN);
	struct pkt_spec ack = pkt_tcp(CLIENT, 40000, VIP, 80, PKT_TCP_ACK);
	struct pkt_spec shared = pkt_tcp(CLIENT, 40004, VIP, 82, PKT_TCP_ACK | PKT_TCP_PSH);
	struct pkt_spec est_table = pkt_tcp(CLIENT, 40007, VIP, 80, PKT_TCP_ACK | PKT_TCP_PSH);
	struct pkt_spec holder = slot_holder(&est_table);
	struct pkt_spec udp = pkt_udp(CLIENT, 40000, VIP, 53);
	struct pkt_spec pass = pkt_tcp(CLIENT, 40000, "10.10.0.1", 22, PKT_TCP_ACK);
	struct pkt_spec hsyn = pkt_tcp(CLIENT, 40002, VIP, 81, PKT_TCP_SYN);
	struct pkt_spec hfwd = pkt_tcp(CLIENT, 40003, VIP, 81, PKT_TCP_ACK | PKT_TCP_PSH);
	struct pkt_spec hret = pkt_tcp(backends[0], 8081, CLIENT, 40003, PKT_TCP_ACK | PKT_TCP_PSH);
	struct pkt_spec owned = pkt_tcp(CLIENT, 40006, VIP, 81, PKT_TCP_ACK | PKT_TCP_PSH);
	struct figure figs[FIG_MAX] = {
		[FIG_FLOOR] = { .name = "floor", .prog = PROG_FLOOR, .verdict = XDP_TX,
				.stat = -1, .prime = -1, .frame = est,
				.path = "restore + parse eth/IPv4/TCP, swap MACs, XDP_TX" },
		[FIG_RESTORE] = { .name = "restore", .prog = PROG_RESTORE, .verdict = XDP_TX,
				  .stat = -1, .prime = -1, .frame = est,
				  .path = "restore the frame only, XDP_TX" },
		[FIG_NEW_TCP] = { .name = "l4_new_tcp", .prog = PROG_LB_NEWFLOW,
				  .verdict = XDP_REDIRECT, .stat = LIMPET_STAT_SYN_STATELESS,
				  .slow = true, .prime = -1, .frame = syn,
				  .path = "SYN, new flow: no flow lookup, Maglev pick, no insert, NAT, "
					  "nh_bind_cache" },
		[FIG_FIRST_ACK] = { .name = "l4_first_ack", .prog = PROG_LB_NEWFLOW,
				    .verdict = XDP_REDIRECT, .stat = LIMPET_STAT_FWD_NEW,
				    .slow = true, .prime = -1, .frame = ack,
				    .path = "handshake's ACK: Maglev pick, rev_nat_owned, 1 LRU "
					    "insert, NAT, nh_bind_cache" },
		[FIG_EST_FWD] = { .name = "l4_est_fwd", .prog = PROG_LB, .verdict = XDP_REDIRECT,
				  .stat = LIMPET_STAT_FWD_EST, .stat2 = LIMPET_STAT_FLOW_CACHE_HIT,
				  .cached = true, .prime = FIG_EST_FWD, .frame = est,
				  .path = "established TCP client->VIP: flow cache hit, NAT, fib" },
		[FIG_EST_FWD_TABLE] = { .name = "l4_est_fwd_table", .prog = PROG_LB,
					.verdict = XDP_REDIRECT, .stat = LIMPET_STAT_FWD_EST,
					.stat_not = LIMPET_STAT_FLOW_CACHE_HIT, .slow = true,
					.prime = FIG_EST_FWD_TABLE, .frame = est_table,
					.path = "the same, its cache slot held by a busy flow: "
						"slot miss, flow table hit, NAT, fib" },
		[FIG_EST_RET] = { .name = "l4_est_ret", .prog = PROG_LB, .ingress = FROM_SERVER,
				  .verdict = XDP_REDIRECT, .stat = LIMPET_STAT_RET_STATELESS,
				  .prime = FIG_EST_FWD, /* .frame: the reply, from prime() */
				  .path = "established TCP backend->client: flow miss, VIP miss, "
					  "rev_nat hit, client entry hit, nh_cache, un-NAT" },
		[FIG_EST_RET_FLOW] = { .name = "l4_est_ret_flow", .prog = PROG_LB,
				       .ingress = FROM_SERVER, .verdict = XDP_REDIRECT,
				       .stat = LIMPET_STAT_RET, .prime = FIG_EST_RET_FLOW,
				       .frame = shared, /* replaced by the reply */
				       .path = "as l4_est_ret, backend in 2 services: RET "
					       "entry hit, un-NAT, fib" },
		[FIG_UDP] = { .name = "l4_udp", .prog = PROG_LB, .verdict = XDP_REDIRECT,
			      .stat = LIMPET_STAT_FWD_EST, .stat2 = LIMPET_STAT_FLOW_CACHE_HIT,
			      .cached = true, .prime = FIG_UDP, .frame = udp,
			      .path = "established UDP client->VIP: flow cache hit, NAT, fib" },
		[FIG_PASS] = { .name = "pass", .prog = PROG_LB, .verdict = XDP_PASS,
			       .stat = LIMPET_STAT_PASS, .prime = -1, .frame = pass,
			       .path = "non-VIP TCP: parse, VIP miss, RET miss, XDP_PASS" },
		[FIG_HTTP_SYNACK] = { .name = "http_synack", .prog = PROG_LB,
				      .verdict = XDP_REDIRECT, .stat = LIMPET_STAT_SYNCOOKIE_SENT,
				      .prime = -1, .frame = hsyn, .opts = syn_opts,
				      .opts_len = sizeof(syn_opts),
				      .path = "HTTP SYN: cookie, options, SYN-ACK built in place" },
		[FIG_HTTP_SYNACK_NOTS] = { .name = "http_synack_nots", .prog = PROG_LB,
					   .verdict = XDP_REDIRECT,
					   .stat = LIMPET_STAT_SYNCOOKIE_OWN, .prime = -1,
					   .frame = hsyn, .opts = syn_nots_opts,
					   .opts_len = sizeof(syn_nots_opts),
					   .path = "HTTP SYN without TS: limpet's own cookie (2 "
						   "SipHash), SYN-ACK with SACK and WS" },
		[FIG_HTTP_EST_FWD] = { .name = "http_est_fwd", .prog = PROG_LB,
				       .verdict = XDP_REDIRECT, .stat = LIMPET_STAT_SPLICE_FWD,
				       .prime = -1, .splice = true, .frame = hfwd,
				       .opts = ts_opts, .opts_len = sizeof(ts_opts),
				       .path = "HTTP client->VIP: flow hit, ack/TSecr, NAT, fib" },
		[FIG_HTTP_EST_RET] = { .name = "http_est_ret", .prog = PROG_LB,
				       .ingress = FROM_SERVER, .verdict = XDP_REDIRECT,
				       .stat = LIMPET_STAT_SPLICE_RET, .prime = -1, .splice = true,
				       .frame = hret, .opts = ts_opts, .opts_len = sizeof(ts_opts),
				       .path = "HTTP backend->client: seq/TSval/window, un-NAT, fib" },
		[FIG_HTTP_BIND_FIRST] = { .name = "http_bind_first", .prog = PROG_BIND_FIRST,
					  .verdict = XDP_REDIRECT,
					  .stat = LIMPET_STAT_HTTP_BIND_SYN, .prime = -1,
					  /* .frame: prime_bind() */
					  .path = "HTTP first segment, affinity none: cookie, tail "
						  "call, options, ring, held copy (2 KB), 2 inserts, "
						  "SYN built, fib" },
		[FIG_HTTP_BIND_SYNACK] = { .name = "http_bind_synack",
					   .prog = PROG_BIND_SYNACK, .ingress = FROM_SERVER,
					   .verdict = XDP_REDIRECT,
					   .stat = LIMPET_STAT_HTTP_BOUND_XDP,
					   .stat2 = LIMPET_STAT_SPLICE_FWD, .prime = -1,
					   .path = "backend SYN-ACK: (3 map updates putting the "
						   "binding back) tail call, translation, 2 "
						   "entries, held segment out, NAT, fib" },
		[FIG_CLUSTER_FWD] = { .name = "cluster_fwd", .prog = PROG_LB,
				      .verdict = XDP_REDIRECT, .stat = LIMPET_STAT_CLUSTER_FORWARD,
				      .prime = -1, .cluster = NODE_ON_LINK, .frame = owned,
				      .opts = owner_a_ts_opts, .opts_len = sizeof(owner_a_ts_opts),
				      .path = "HTTP segment another node bound: flow miss, VIP hit, "
					      "options, TSecr, fib to the node, MACs, TTL" },
		[FIG_CLUSTER_ENCAP] = { .name = "cluster_fwd_encap", .prog = PROG_LB,
					.verdict = XDP_REDIRECT,
					.stat = LIMPET_STAT_CLUSTER_FORWARD,
					.stat2 = LIMPET_STAT_CLUSTER_ENCAP, .prime = -1,
					.cluster = NODE_BEHIND_ROUTER, .frame = owned,
					.opts = owner_a_ts_opts,
					.opts_len = sizeof(owner_a_ts_opts),
					.path = "the same, the node behind a router: 2 fibs, "
						"20-byte IPv4 header pushed" },
	};
	__u32 repeat = 2000000, repeat_new = 500000, flow_entries = LIMPET_FLOW_TABLE_DEFAULT;
	const char *only = NULL;
	int rounds = 7, opt, i, k;
	double floor_ns;
	struct run r;
	char why[64];

	while ((opt = getopt(argc, argv, "r:n:N:f:F:h")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'n':
			repeat = strtoul(optarg, NULL, 10);
			break;
		case 'N':
			repeat_new = strtoul(optarg, NULL, 10);
			break;
		case 'f':
			flow_entries = strtoul(optarg, NULL, 10);
			break;
		case 'F':
			only = optarg;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (rounds < 1 || rounds > ROUNDS_MAX || !repeat || !repeat_new || !flow_entries)
		usage(argv[0]);

	if_client = if_nametoindex("pkc0");
	if_server = if_nametoindex("pks0");
	if (!if_client || !if_server)
		die("pkc0/pks0 not found: run through tests/bench/run.sh (make bench)");
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0)
		die("cannot count CPUs");

	pin_to_cpu();
	skel = limpet_bench__open();
	if (!skel)
		die("open limpet_bench: %s", strerror(errno));
	{
		struct bpf_map *map;

		/* Private maps: nothing of the bench lands in /sys/fs/bpf. */
		bpf_object__for_each_map(map, skel->obj)
			if (bpf_map__set_pin_path(map, NULL))
				die("unpin %s", bpf_map__name(map));
	}
	if (bpf_map__set_max_entries(skel->maps.flows, dp_flow_map_entries(flow_entries)))
		die("flow table size %u", flow_entries);
	if (limpet_bench__load(skel))
		die("load limpet_bench: %s", strerror(errno));
	program_services();
	{
		/* limpet's own SYN cookie needs its secret, as the controller writes it. */
		struct limpet_syncookie_key key = { 0x0123456789abcdefull, 0x0fedcba987654321ull };
		__u32 zero = 0;

		update(skel->maps.syn_secret, &zero, &key, "syn_secret");
	}
	{
		/* Binding in XDP: its program in the slot, the HTTP service bindable. */
		struct http_service_value hv = { .affinity = LIMPET_AFFINITY_NONE,
						 .connect_timeout_ms = 2000 };
		int prog = bpf_program__fd(skel->progs.bench_bind);
		__u32 zero = 0, svc = HTTP_SVC;

		update(skel->maps.bind_progs, &zero, &prog, "bind_progs");
		update(skel->maps.http_services, &svc, &hv, "http_services");
	}

	fprintf(stderr, "bench: %d rounds of %u runs (%u for new flows) per figure...\n", rounds,
		repeat, repeat_new);
	for (k = 0; k < rounds; k++) {
		for (i = 0; i < FIG_MAX; i++) {
			struct figure *f = &figs[i];
			struct pkt_spec reply;

			/* http_bind_synack's frame and state come from here too. */
			if (i == FIG_HTTP_BIND_FIRST)
				prime_bind(f, &figs[FIG_HTTP_BIND_SYNACK]);
			if (!figure_wanted(only, f->name))
				continue;
			/* New-flow runs churn the LRU flow table: bind afresh. */
			if (f->prime >= 0) {
				struct figure pf = figs[f->prime];

				if (i == FIG_EST_RET_FLOW) {	/* its frame is the reply */
					pf.frame = shared;
					pf.ingress = FROM_CLIENT;
					pf.verdict = XDP_REDIRECT;
				}
				reply = prime(&pf);
				if (i == FIG_EST_RET || i == FIG_EST_RET_FLOW)
					f->frame = reply;
			}
			if (i == FIG_EST_FWD_TABLE) {	/* a busy flow in its slot */
				struct figure hf = *f;

				hf.frame = holder;
				hf.cached = true;
				prime(&hf);
			}
			if (f->splice)
				prime_splice(&figs[FIG_HTTP_EST_FWD].frame);
			if (f->cluster)
				cluster_node(f->cluster);
			run(f, f->slow ? repeat_new : repeat, &r);
			if (f->cluster)
				cluster_node(NO_CLUSTER);
			f->ns[k] = r.duration;
			/* The frame the last run left must still be a valid one. */
			if (f->prog == PROG_LB && pkt_verify(r.out, r.out_len, why, sizeof(why)))
				die("%s: output frame has a bad %s", f->name, why);
		}
	}

	for (i = 0; i < FIG_MAX; i++)
		figs[i].median = median(figs[i].ns, rounds);
	floor_ns = figs[FIG_FLOOR].median;

	printf("\n%-16s %9s %11s %9s  %-26s  %s\n", "figure", "ns/pkt", "min-max", "x floor",
	       "proof", "path");
	for (i = 0; i < FIG_MAX; i++) {
		struct figure *f = &figs[i];
		__u32 lo = f->ns[0], hi = f->ns[0];
		char proof[40], range[24];

		if (!figure_wanted(only, f->name))
			continue;
		if (f->stat >= 0)
			snprintf(proof, sizeof(proof), "%s +%u", stat_name(f->stat),
				 f->slow ? repeat_new : repeat);
		else
			snprintf(proof, sizeof(proof), "%s", verdict_name(f->verdict));
		for (k = 1; k < rounds; k++) {
			lo = f->ns[k] < lo ? f->ns[k] : lo;
			hi = f->ns[k] > hi ? f->ns[k] : hi;
		}
		snprintf(range, sizeof(range), "%u-%u", lo, hi);
		printf("%-16s %9.1f %11s %9.2f  %-26s  %s\n", f->name, f->median, range,
		       floor_ns ? f->median / floor_ns : 0, proof, f->path);
	}
	printf("(median, and min-max, of %d rounds of opts.duration, whole ns; proof: the\n"
	       " verdict, and the counter that grew by exactly the repeat count, checked every\n"
	       " round)\n\n",
	       rounds);
	for (i = 0; i < FIG_MAX; i++)
		if (figure_wanted(only, figs[i].name))
			printf("bench %s %.1f ns/pkt\n", figs[i].name, figs[i].median);

	limpet_bench__destroy(skel);
	return 0;
}
