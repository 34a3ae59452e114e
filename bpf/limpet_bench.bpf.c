/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_bench.bpf.c - wrappers through which `make bench` times the data
 * plane with bpf_prog_test_run_opts(repeat); never attached to an interface.
 *
 * test_run runs a program again and again on the same buffer, so after a NAT
 * rewrite the next iteration would see a packet that is no longer for the
 * VIP. Every program here therefore first restores the frame from
 * bench_template (bench_restore shows what that costs), then runs exactly
 * the code of the XDP entry point, lb_process() from lib/lb.h, with its own
 * copy of the maps. tests/bench/bench.c proves the path of each figure by
 * the global counter that must grow by exactly the repeat count.
 */
#include "lib/lb.h"

#define BENCH_FRAME_MAX 256

struct bench_frame {
	__u32 len;
	__u8 data[BENCH_FRAME_MAX];
};

/* The frame every iteration starts from. Written by tests/bench/bench.c. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_frame);
} bench_template SEC(".maps");

/* Iterations of bench_lb_newflow so far: the source of unique 5-tuples. */
__u32 bench_seq;

static __always_inline int restore(struct xdp_md *ctx)
{
	struct bench_frame *t;
	__u32 zero = 0, len;
	int delta;

	t = bpf_map_lookup_elem(&bench_template, &zero);
	if (!t)
		return -1;
	len = t->len;
	if (len == 0 || len > BENCH_FRAME_MAX)
		return -1;
	/* A run that pushed a header (cluster_fwd_encap) left the frame
	 * that much longer at its front.
	 */
	delta = (int)(ctx->data_end - ctx->data) - (int)len;
	if (delta > 0 && bpf_xdp_adjust_head(ctx, delta))
		return -1;
	return bpf_xdp_store_bytes(ctx, 0, t->data, len);
}

/* The frame as it was, through the whole data plane. */
SEC("xdp")
int bench_lb(struct xdp_md *ctx)
{
	if (restore(ctx))
		return XDP_ABORTED;
	return lb_process(ctx);
}

/*
 * A new connection every iteration: the source port takes the low 16 bits of
 * the iteration number, the low 16 bits of the IPv4 source address the next
 * 15 with the top bit set, so the tuples never meet a flow bench.c primed
 * (those use addresses below x.x.128.0). Checksums are left stale: the data
 * plane updates them incrementally and never verifies them.
 */
SEC("xdp")
int bench_lb_newflow(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct iphdr *iph;
	__be16 *ports;
	__u32 seq;

	if (restore(ctx))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	iph = data + sizeof(struct ethhdr);
	if ((void *)(iph + 1) > data_end || iph->ihl != 5)
		return XDP_ABORTED;
	ports = (void *)(iph + 1);
	if ((void *)(ports + 2) > data_end)
		return XDP_ABORTED;

	seq = bench_seq++;
	ports[0] = bpf_htons(seq & 0xffff);
	iph->saddr = (iph->saddr & bpf_htonl(0xffff0000)) |
		     bpf_htonl(0x8000 | ((seq >> 16) & 0x7fff));
	return lb_process(ctx);
}

/* The floor: restore, parse Ethernet/IPv4/TCP with bounds checks, swap MACs, XDP_TX. */
SEC("xdp")
int bench_floor(struct xdp_md *ctx)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct tcphdr *tcp;
	__u8 tmp[ETH_ALEN];

	if (restore(ctx))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->ihl < 5 || iph->protocol != IPPROTO_TCP)
		return XDP_PASS;
	tcp = (void *)iph + iph->ihl * 4;
	if ((void *)(tcp + 1) > data_end)
		return XDP_DROP;

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
	return XDP_TX;
}

/* The restore alone, to show its share of every other figure. */
SEC("xdp")
int bench_restore(struct xdp_md *ctx)
{
	if (restore(ctx))
		return XDP_ABORTED;
	return XDP_TX;
}

/*
 * Binding in XDP (lib/bind.h). bench_bind is the program lb_process()
 * tail-calls (bench.c fills bind_progs with it); bench_bind_first and
 * bench_bind_synack put the state their path starts from back before each
 * run, from bench_bind_state, which bench.c fills from a real binding: no
 * entry for the first request segment, and for the backend's SYN-ACK the
 * binding's two entries and held segment (three map updates in the figure).
 */
struct bench_bind_state {
	struct flow_key ck;
	struct flow_value cv;
	struct flow_key bk;
	struct flow_value bv;
	struct held_segment held;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bench_bind_state);
} bench_bind_state SEC(".maps");

SEC("xdp")
int bench_bind(struct xdp_md *ctx)
{
	return bind_process(ctx);
}

/* The frame and the state of the path: apart, so lb_process() keeps the
 * stack it has in bench_lb.
 */
static __noinline int bench_bind_reset(struct xdp_md *ctx, bool synack)
{
	struct bench_bind_state *st;
	struct bench_frame *t;
	__u32 zero = 0;
	int delta;

	/* The last run left a frame of another length (a SYN, a held segment). */
	t = bpf_map_lookup_elem(&bench_template, &zero);
	if (!t)
		return -1;
	delta = (int)t->len - (int)(ctx->data_end - ctx->data);
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	if (restore(ctx))
		return -1;
	st = bpf_map_lookup_elem(&bench_bind_state, &zero);
	if (!st)
		return -1;
	if (!synack) {
		bpf_map_delete_elem(&flows, &st->ck);
		return 0;
	}
	if (bpf_map_update_elem(&flows, &st->ck, &st->cv, BPF_ANY) ||
	    bpf_map_update_elem(&flows, &st->bk, &st->bv, BPF_ANY) ||
	    bpf_map_update_elem(&held_segments, &st->ck, &st->held, BPF_ANY))
		return -1;
	return 0;
}

SEC("xdp")
int bench_bind_first(struct xdp_md *ctx)
{
	if (bench_bind_reset(ctx, false))
		return XDP_ABORTED;
	return lb_process(ctx);
}

SEC("xdp")
int bench_bind_synack(struct xdp_md *ctx)
{
	if (bench_bind_reset(ctx, true))
		return XDP_ABORTED;
	return lb_process(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
