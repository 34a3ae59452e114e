/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tcpopt.h - the options of a segment's TCP header, parsed in a per-CPU
 * scratch map.
 *
 * In a map value the verifier tracks neither the parser's offset nor the
 * options it found, so it checks the bpf_loop() body about once per call
 * site; on the stack it walked it again for every offset and set of options
 * a header can hold (over a third of limpet_xdp's verification, over half
 * of limpet_bind's). One parse at a time per program run: a SYN's
 * (synproxy.h), a segment being bound (bind.h), or the TSecr of a segment
 * another node may own (cluster.h).
 */
#ifndef LIMPET_BPF_TCPOPT_H
#define LIMPET_BPF_TCPOPT_H

#include "parse.h"
#include "limpet_tcpopt.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct limpet_tcpopt_parser);
} tcpopt_scratch SEC(".maps");

/* bpf_loop() body: one option. Its context must be on the stack, so it is
 * a pointer to the scratch parser.
 */
static int tcpopt_step(__u32 index, void *ctx)
{
	return limpet_tcpopt_step(*(struct limpet_tcpopt_parser **)ctx);
}

/* The options of the TCP header at <l4_off> (<th_len> bytes), parsed in
 * tcpopt_scratch; NULL when there is no such header.
 */
static __always_inline struct limpet_tcpopt_parser *tcpopt_read(struct xdp_md *ctx, __u32 l4_off,
								__u32 th_len)
{
	struct limpet_tcpopt_parser *parser;
	__u32 zero = 0;

	parser = bpf_map_lookup_elem(&tcpopt_scratch, &zero);
	if (!parser || th_len < LIMPET_TCP_HDR_MIN || th_len > LIMPET_TCP_HDR_MAX ||
	    bpf_xdp_load_bytes(ctx, l4_off, parser->buf, th_len))
		return NULL;
	parser->off = LIMPET_TCP_HDR_MIN;
	parser->end = th_len;
	limpet_tcpopt_init(&parser->opt);
	bpf_loop(LIMPET_TCPOPT_MAX_STEPS, tcpopt_step, &parser, 0);
	return parser;
}

#endif /* LIMPET_BPF_TCPOPT_H */
