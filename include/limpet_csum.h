/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_csum.h - incremental Internet checksum updates (RFC 1624).
 *
 * HC' = ~(~HC + ~m + m'), summed over 16-bit words exactly as they lie in
 * the packet. Because the one's-complement sum does not care about byte
 * order, every value here is the raw network-order word: no byte swaps.
 * Compiled for BPF and for userspace; the unit tests compare each update
 * with a checksum computed from scratch.
 */
#ifndef LIMPET_CSUM_H
#define LIMPET_CSUM_H

#include <linux/types.h>
#include "limpet_inline.h"
#include "limpet_maps.h"

LIMPET_INLINE __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* Add the change of one 32-bit word (old -> new) to a running sum. */
LIMPET_INLINE __u32 csum_diff32(__u32 sum, __u32 old, __u32 new)
{
	sum += (__u16)~(old & 0xffff);
	sum += (__u16)~(old >> 16);
	sum += new & 0xffff;
	sum += new >> 16;
	return sum;
}

/* Start and finish an update of the checksum field <check>. */
LIMPET_INLINE __u32 csum_begin(__u16 check)
{
	return (__u16)~check;
}

LIMPET_INLINE __u16 csum_end(__u32 sum)
{
	return (__u16)~csum_fold32(sum);
}

LIMPET_INLINE __u16 csum_replace2(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = csum_begin(check);

	sum += (__u16)~old;
	sum += new;
	return csum_end(sum);
}

LIMPET_INLINE __u16 csum_replace4(__u16 check, __u32 old, __u32 new)
{
	return csum_end(csum_diff32(csum_begin(check), old, new));
}

/* An address change (4 words; IPv4 uses only word 0, the rest are zero on
 * both sides and add nothing).
 */
LIMPET_INLINE __u32 csum_diff_addr(__u32 sum, const struct limpet_addr *old,
				   const struct limpet_addr *new)
{
	sum = csum_diff32(sum, old->a[0], new->a[0]);
	sum = csum_diff32(sum, old->a[1], new->a[1]);
	sum = csum_diff32(sum, old->a[2], new->a[2]);
	sum = csum_diff32(sum, old->a[3], new->a[3]);
	return sum;
}

#endif /* LIMPET_CSUM_H */
