/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_mix.h - one 64-bit finaliser (MurmurHash3's fmix64): every input
 * bit reaches every output bit. Header session keys (BPF and userspace),
 * the controller's session table and rendezvous hashing use it.
 */
#ifndef LIMPET_MIX_H
#define LIMPET_MIX_H

#include <linux/types.h>
#include "limpet_inline.h"

LIMPET_INLINE __u64 limpet_mix64(__u64 h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

#endif /* LIMPET_MIX_H */
