/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * head_scan.bpf.c - a test harness around bpf/lib/head.h, run only through
 * bpf_prog_test_run_opts() by tests/packet/test_head.c: parse the frame
 * (Ethernet, IPv4 or IPv6 without extension headers, TCP), scan the payload
 * with head_scan_payload(), check the cookie candidates (head_cookie_check()) and compute the
 * header session key, and leave everything in head_result. Always
 * XDP_PASS. Lives here, not in bpf/, so the data plane never loads it.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lib/head.h"
#include "head_scan.h"

#define ONE_ARRAY(name, value_type)                  \
	struct {                                     \
		__uint(type, BPF_MAP_TYPE_ARRAY);    \
		__uint(max_entries, 1);              \
		__type(key, __u32);                  \
		__type(value, value_type);           \
	} name SEC(".maps")

ONE_ARRAY(head_cfg, struct limpet_head_config);	/* written by the test */
ONE_ARRAY(head_keys, struct limpet_cookie_keys);	/* written by the test */
ONE_ARRAY(head_env, struct head_scan_env);		/* written by the test */
ONE_ARRAY(head_result, struct head_scan_result);	/* written here */

/* Where the TCP payload is: 0, or -1 for a frame that is not IP/TCP. */
static __always_inline int payload_of(struct xdp_md *ctx, __u32 *off, __u32 *len)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	__u32 l3_len, ip_len;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP || ip->ihl < 5)
			return -1;
		l3_len = ip->ihl * 4;
		ip_len = bpf_ntohs(ip->tot_len);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		l3_len = sizeof(*ip6);
		ip_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	} else {
		return -1;
	}
	tcp = (void *)eth + sizeof(*eth) + (l3_len & 0x3f);
	if ((void *)(tcp + 1) > data_end || ip_len < l3_len + tcp->doff * 4)
		return -1;
	*off = sizeof(*eth) + l3_len + tcp->doff * 4;
	*len = ip_len - l3_len - tcp->doff * 4;
	return 0;
}

SEC("xdp.frags")
int head_scan(struct xdp_md *ctx)
{
	const struct limpet_head_config *cfg;
	const struct limpet_cookie_keys *keys;
	const struct head_scan_env *env;
	struct head_cookie_args args;
	struct head_scan_result *res;
	struct limpet_head_scan *scan;
	__u32 zero = 0, off, len;
	int ok;

	cfg = bpf_map_lookup_elem(&head_cfg, &zero);
	keys = bpf_map_lookup_elem(&head_keys, &zero);
	env = bpf_map_lookup_elem(&head_env, &zero);
	res = bpf_map_lookup_elem(&head_result, &zero);
	if (!cfg || !keys || !env || !res)
		return XDP_ABORTED;
	res->runs++;
	if (payload_of(ctx, &off, &len)) {
		res->rc = -2;
		return XDP_PASS;
	}
	res->payload_off = off;
	res->payload_len = len;
	res->rc = head_scan_payload(ctx, off, len, cfg, &scan);
	if (res->rc)
		return XDP_PASS;
	res->scan = *scan;
	args.now_s = env->now_s;
	args.ttl_s = env->ttl_s;
	args.service_tag = env->service_tag;
	res->outcome = head_cookie_check(scan, keys, &args, &res->fields);
	res->session_key = limpet_head_session_key(scan, cfg, env->require_all, &ok);
	res->key_ok = ok;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
