/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_xdp.bpf.c - the XDP entry point of limpet's data plane, attached by
 * the controller (through libxdp) to every configured interface.
 */
#include "lib/lb.h"

SEC("xdp")
int limpet_xdp(struct xdp_md *ctx)
{
	return lb_process(ctx);
}

/* Reads the first request head of cookie and header affinity services;
 * reached by tail call from limpet_xdp (lib/affinity.h), and binds what it
 * decides through limpet_bind (lib/bind.h).
 */
SEC("xdp")
int limpet_affinity(struct xdp_md *ctx)
{
	return bind_after_head(ctx);
}

/* Binds the HTTP connections that need nothing from userspace; reached by
 * tail call from limpet_xdp (lib/bind.h).
 */
SEC("xdp")
int limpet_bind(struct xdp_md *ctx)
{
	return bind_process(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
