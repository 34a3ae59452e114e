/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_placement.h - where a session key lands in an HTTP service's
 * placement table (the placements map, limpet_maps.h), compiled unchanged
 * for BPF and userspace so both pick the same slot.
 *
 * The table is weighted rendezvous hashing (HRW) precomputed: slot s holds
 * the backend with the highest score for the slot key
 * limpet_placement_slot_key(s), score = weight / -ln(u), u the uniform
 * (0, 1) value of limpet_mix64(slot key ^ limpet_mix64(tag)). Adding a
 * backend changes only the slots it wins, none between old backends;
 * removing one moves only its slots (dp/placement.c builds it).
 */
#ifndef LIMPET_PLACEMENT_H
#define LIMPET_PLACEMENT_H

#include <linux/types.h>
#include "limpet_inline.h"
#include "limpet_limits.h"
#include "limpet_mix.h"

/* A slot no backend takes (no backend of the service has a weight). */
#define LIMPET_PLACEMENT_EMPTY 0xffffffffu

/* Fixed, so every limpet instance builds the same table. */
#define LIMPET_PLACEMENT_SEED 0x706c6163656d6e74ull /* "placemnt" */

_Static_assert((LIMPET_PLACEMENT_SLOTS & (LIMPET_PLACEMENT_SLOTS - 1)) == 0,
	       "LIMPET_PLACEMENT_SLOTS is a power of two");

/* The slot of session key <key> (a cookie's session id, a header or client key). */
LIMPET_INLINE __u32 limpet_placement_slot(__u64 key)
{
	return (__u32)(limpet_mix64(key) & (LIMPET_PLACEMENT_SLOTS - 1));
}

/* The key slot <slot> is scored by. */
LIMPET_INLINE __u64 limpet_placement_slot_key(__u32 slot)
{
	return limpet_mix64((__u64)slot ^ LIMPET_PLACEMENT_SEED);
}

#endif /* LIMPET_PLACEMENT_H */
