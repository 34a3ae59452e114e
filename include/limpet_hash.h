/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_hash.h - the packet hashes that pick a Maglev slot.
 *
 * Compiled unchanged for BPF and for userspace, so unit tests in userspace
 * compute exactly the slot the data plane will pick. MurmurHash3's 32-bit
 * block and finalizer mix: straight-line code, good avalanche, no tables.
 * Only the client address goes into the client_ip hash (never the port:
 * Cilium #26709), so every connection of a client lands on one slot.
 */
#ifndef LIMPET_HASH_H
#define LIMPET_HASH_H

#include <linux/types.h>
#include "limpet_inline.h"
#include "limpet_maps.h"

LIMPET_INLINE __u32 limpet_rotl32(__u32 x, int r)
{
	return (x << r) | (x >> (32 - r));
}

LIMPET_INLINE __u32 limpet_hash_block(__u32 h, __u32 k)
{
	k *= 0xcc9e2d51u;
	k = limpet_rotl32(k, 15);
	k *= 0x1b873593u;
	h ^= k;
	h = limpet_rotl32(h, 13);
	return h * 5 + 0xe6546b64u;
}

LIMPET_INLINE __u32 limpet_hash_final(__u32 h, __u32 len)
{
	h ^= len;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Hash of a client address alone: the client_ip affinity key. */
LIMPET_INLINE __u32 limpet_hash_addr(const struct limpet_addr *addr)
{
	__u32 h = LIMPET_HASH_SEED;

	h = limpet_hash_block(h, addr->a[0]);
	h = limpet_hash_block(h, addr->a[1]);
	h = limpet_hash_block(h, addr->a[2]);
	h = limpet_hash_block(h, addr->a[3]);
	return limpet_hash_final(h, 16);
}

/* Hash of the 5-tuple: the key when affinity is none. */
LIMPET_INLINE __u32 limpet_hash_tuple(const struct limpet_addr *src, const struct limpet_addr *dst,
				      __be16 sport, __be16 dport, __u8 proto)
{
	__u32 h = limpet_hash_addr(src);

	h = limpet_hash_block(h, dst->a[0]);
	h = limpet_hash_block(h, dst->a[1]);
	h = limpet_hash_block(h, dst->a[2]);
	h = limpet_hash_block(h, dst->a[3]);
	h = limpet_hash_block(h, ((__u32)sport << 16) | dport);
	h = limpet_hash_block(h, proto);
	return limpet_hash_final(h, 40);
}

/*
 * The route_sessions key of a client_ip session: FNV-1a 64 over the 16
 * bytes of the client address (IPv4 in word 0, the rest zero), as the
 * slow path and the data plane both compute it.
 */
LIMPET_INLINE __u64 limpet_client_session_key(const struct limpet_addr *addr)
{
	const __u8 *p = (const __u8 *)addr->a;
	__u64 h = LIMPET_FNV64_BASIS;
	int i;

	for (i = 0; i < 16; i++)
		h = limpet_fnv64(h, p[i]);
	return h;
}

/*
 * The tag of a backend name (FNV-1a 32): what a cookie carries to name its
 * backend (backend_value.tag, backend_tags). Stable across restarts and
 * instances: it depends on the name alone.
 */
LIMPET_INLINE __u32 limpet_name_tag(const char *name)
{
	__u32 h = 0x811c9dc5u;

	for (; *name; name++)
		h = (h ^ (__u8)*name) * 0x01000193u;
	return h;
}

/*
 * The slot of a direct-mapped cache of 2^<bits> slots for a pair of
 * addresses and <extra>: every word folded, then multiplied (Fibonacci
 * hashing). Cheap, since caches in front of lookups run it on every packet;
 * a collision only costs a miss.
 */
LIMPET_INLINE __u32 limpet_cache_slot(const struct limpet_addr *src,
				      const struct limpet_addr *dst, __u32 extra, int bits)
{
	__u32 x = src->a[0] ^ src->a[1] ^ src->a[2] ^ src->a[3] ^
		  dst->a[0] ^ dst->a[1] ^ dst->a[2] ^ dst->a[3] ^ extra;

	return (x * 0x9e3779b1u) >> (32 - bits);
}

/* The flow cache's slot of a flow key. */
LIMPET_INLINE __u32 limpet_flow_cache_index(const struct flow_key *k)
{
	return limpet_cache_slot(&k->src, &k->dst, ((__u32)k->sport << 16 | k->dport) + k->proto,
				 LIMPET_FLOW_CACHE_BITS);
}

#endif /* LIMPET_HASH_H */
