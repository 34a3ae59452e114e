/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * impair.bpf.c - packet loss and reordering for the end-to-end tests, in
 * place of netem (which the test kernels lack). Attached in native mode to
 * the receiving end of a veth by build/impair (tests/e2e/impair.c).
 *
 * Each IPv4/IPv6 TCP frame draws one random number: drop_pct % of them are
 * dropped, reorder_pct % are redirected through a cpumap to the next CPU,
 * where a kthread hands them to the stack after the frames that followed
 * them, and the rest pass. Anything else (ARP, ND, ICMP, UDP, VLAN-tagged,
 * IPv6 with extension headers) always passes: losing ARP or ND would stall
 * neighbour resolution and make the tests measure that instead of TCP.
 */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "impair.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct impair_cfg);
} impair_cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IMPAIR_NR_STATS);
	__type(key, __u32);
	__type(value, __u64);
} impair_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, IMPAIR_MAX_CPUS);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} impair_cpus SEC(".maps");

static __always_inline void count(__u32 stat)
{
	__u64 *n = bpf_map_lookup_elem(&impair_stats, &stat);

	if (n)
		(*n)++;		/* per-CPU: no atomics needed */
}

static __always_inline bool is_tcp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return false;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		return (void *)(ip + 1) <= data_end && ip->protocol == IPPROTO_TCP;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		return (void *)(ip6 + 1) <= data_end && ip6->nexthdr == IPPROTO_TCP;
	}
	return false;
}

SEC("xdp")
int impair_xdp(struct xdp_md *ctx)
{
	struct impair_cfg *cfg;
	__u32 zero = 0, r, cpu;

	if (!is_tcp(ctx)) {
		count(IMPAIR_IGNORED);
		return XDP_PASS;
	}
	cfg = bpf_map_lookup_elem(&impair_cfg, &zero);
	if (!cfg)
		return XDP_PASS;

	/* One draw decides both, so drop and reorder never overlap. */
	r = bpf_get_prandom_u32() % 100;
	if (r < cfg->drop_pct) {
		count(IMPAIR_DROPPED);
		return XDP_DROP;
	}
	if (r < cfg->drop_pct + cfg->reorder_pct && cfg->nr_cpus) {
		cpu = (bpf_get_smp_processor_id() + 1) % cfg->nr_cpus;
		/* An unset entry (offline CPU) falls back to XDP_PASS. */
		if (bpf_redirect_map(&impair_cpus, cpu, XDP_PASS) == XDP_REDIRECT) {
			count(IMPAIR_REORDERED);
			return XDP_REDIRECT;
		}
	}
	count(IMPAIR_PASSED);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
