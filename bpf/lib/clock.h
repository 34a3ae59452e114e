/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * clock.h - the clock of flow ages and next-hop expiry: CLOCK_MONOTONIC_COARSE
 * nanoseconds, as bpf_ktime_get_coarse_ns() gives and the controller reads.
 *
 * That helper costs about 10 ns, an eighth of an established packet. The
 * coarse clock only moves at a tick, and jiffies (which the verifier turns
 * into one load) says whether a tick passed, so each CPU keeps its last
 * reading and reads again only when jiffies moved.
 */
#ifndef LIMPET_BPF_CLOCK_H
#define LIMPET_BPF_CLOCK_H

#include "maps.h"

static __always_inline __u64 clock_now(void)
{
	__u64 jiffies = bpf_jiffies64();
	struct clock_anchor *a;
	__u32 zero = 0;
	__u64 now;

	a = bpf_map_lookup_elem(&clock_anchor, &zero);
	if (a && a->jiffies == jiffies)
		return a->coarse_ns;
	now = bpf_ktime_get_coarse_ns();
	if (a) {
		a->jiffies = jiffies;
		a->coarse_ns = now;
	}
	return now;
}

/*
 * How long before <now> was <then>: 0 if <then> is later. A CPU that read
 * the clock after a tick moved jiffies but before it moved the clock keeps
 * a reading a tick old until the next tick, so another CPU (or the
 * controller) may have stamped an entry a tick ahead of this CPU's now.
 */
static __always_inline __u64 clock_age(__u64 now, __u64 then)
{
	return now > then ? now - then : 0;
}

#endif /* LIMPET_BPF_CLOCK_H */
