/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * head.h - reading the affinity keys of an HTTP request head in XDP.
 *
 * The payload is copied into a per-CPU scratch buffer (bpf_xdp_load_bytes()
 * also reads the fragments of a multi-buffer frame), then fed to
 * include/limpet_head.h one byte per bpf_loop() callback: the verifier
 * checks the scanner once, not once per byte. Only the first
 * HEAD_SCRATCH_BYTES of a segment are read; a head that does not end there
 * comes back with complete = 0 and is the slow path's to finish.
 *
 * Verifier cost (kernel 6.18, clang 14, tests/packet/head_scan.bpf.c): the
 * scan with its callback about 5k instructions, head_cookie_check() about
 * 46k, verified once however many paths call it.
 */
#ifndef LIMPET_BPF_HEAD_H
#define LIMPET_BPF_HEAD_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "limpet_head.h"

#define HEAD_SCRATCH_BYTES 4096

struct head_scratch_value {
	__u8 buf[HEAD_SCRATCH_BYTES];
	struct limpet_head_scan scan;
};

/* The payload and scan state of the segment being read: too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct head_scratch_value);
} head_scratch SEC(".maps");

/* bpf_loop() context: it must live on the stack, so it points at the rest. */
struct head_loop_ctx {
	struct head_scratch_value *sc;
	const struct limpet_head_config *cfg;
};

/* bpf_loop() body: byte <index> of the copied payload. */
static int head_scan_byte(__u32 index, void *ctx)
{
	struct head_loop_ctx *lc = ctx;
	__u8 c = lc->sc->buf[index & (HEAD_SCRATCH_BYTES - 1)];

	return limpet_head_step(&lc->sc->scan, lc->cfg, c);
}

/*
 * Scan the request head at <payload_off> (from the frame's start), of
 * <payload_len> bytes, for the keys <cfg> names. Returns 0 with *out
 * pointing at the scan (in the per-CPU scratch, valid until the next call
 * on this CPU), -1 if the payload could not be read.
 */
static __noinline int head_scan_payload(struct xdp_md *ctx, __u32 payload_off, __u32 payload_len,
					const struct limpet_head_config *cfg,
					struct limpet_head_scan **out)
{
	struct head_loop_ctx lc = { .cfg = cfg };
	__u64 len = payload_len;
	__u32 zero = 0;

	if (!cfg)
		return -1;
	lc.sc = bpf_map_lookup_elem(&head_scratch, &zero);
	if (!lc.sc)
		return -1;
	limpet_head_init(&lc.sc->scan);
	/* Hide what clang knows of the caller's value: it would drop the
	 * clamp the verifier needs to see for the helper's size.
	 */
	asm volatile("" : "+r"(len));
	if (len > HEAD_SCRATCH_BYTES)
		len = HEAD_SCRATCH_BYTES;
	if (len) {
		if (bpf_xdp_load_bytes(ctx, payload_off, lc.sc->buf, len))
			return -1;
		bpf_loop(len, head_scan_byte, &lc, 0);
	}
	*out = &lc.sc->scan;
	return 0;
}

/* What the cookie check needs besides the scan and the keys (a BPF
 * function takes five arguments at most).
 */
struct head_cookie_args {
	__u64 now_s;		/* wall clock */
	__u32 ttl_s;		/* cookie lifetime */
	__u32 service_tag;
};

/*
 * limpet_head_cookie() as a global function: the verifier checks it once,
 * on its own (four candidates through the token check are some 50k
 * instructions to verify), not again for every state a caller reaches it
 * in. Returns an enum limpet_cookie_outcome.
 */
__noinline int head_cookie_check(const struct limpet_head_scan *scan,
				 const struct limpet_cookie_keys *keys,
				 const struct head_cookie_args *args,
				 struct limpet_token_fields *out)
{
	if (!scan || !keys || !args || !out)
		return LIMPET_COOKIE_ABSENT;
	return limpet_head_cookie(scan, keys, args->service_tag, args->now_s, args->ttl_s, out);
}

#endif /* LIMPET_BPF_HEAD_H */
