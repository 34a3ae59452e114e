// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tg_xdp.bpf.c - the two programs of the traffic-generator bench
 * (tests/bench/tg.sh) that are not limpet:
 *
 *   tg_sink      the sink: drops every frame in XDP (the veth counts them as
 *                xdp_drops), and its presence lets frames XDP-redirected
 *                into the peer veth arrive at all.
 *   tg_redirect  the baseline: the least an XDP forwarder does, redirect
 *                every frame to the interface in tg_out[0] (set by tg.sh
 *                with bpftool), MACs untouched (the sink drops before any
 *                MAC check).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tg_out SEC(".maps");

SEC("xdp")
int tg_sink(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int tg_redirect(struct xdp_md *ctx)
{
	__u32 key = 0, *ifindex = bpf_map_lookup_elem(&tg_out, &key);

	if (!ifindex || !*ifindex)
		return XDP_PASS;
	return bpf_redirect(*ifindex, 0);
}

char _license[] SEC("license") = "Dual BSD/GPL";
