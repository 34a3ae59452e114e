/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * flowcache.h - a small direct-mapped cache in front of the flow table
 * (struct flow_cache_slot): an established L4 packet of a flow that holds
 * its slot is forwarded without the table's hash lookup, a third of its
 * cost. Shared by the CPUs, as the table is: a flow's packets may arrive on
 * any of them (veth runs XDP on the sender's CPU), and a SYN or FIN must
 * empty the one copy there is.
 *
 * Only open L4 client entries are copied (not HTTP, not return entries,
 * nothing ended), and only packets that cannot change an entry are served
 * (no SYN, FIN or RST: those go to the table, and empty their flow's
 * slot). The table confirms a copy once every FLOW_CACHE_TRUST_NS, which
 * also refreshes the entry's age; until then a busy flow keeps its slot
 * against others that hash there.
 */
#ifndef LIMPET_BPF_FLOWCACHE_H
#define LIMPET_BPF_FLOWCACHE_H

#include "maps.h"
#include "clock.h"
#include "parse.h"
#include "limpet_hash.h"

/* As the entry's age is kept: FLOW_ATIME_GRANULARITY_NS in lb.h. */
#define FLOW_CACHE_TRUST_NS 1000000000ULL

static __always_inline struct flow_cache_slot *flow_cache_slot_of(const struct flow_key *key)
{
	__u32 i = limpet_flow_cache_index(key);

	return bpf_map_lookup_elem(&flow_cache, &i);
}

/* May <p> be forwarded from a copy? Not if it may change its entry. */
static __always_inline bool flow_cache_may_serve(const struct packet *p)
{
	return !(p->tcp_flags & (LIMPET_TCP_SYN | LIMPET_TCP_FIN | LIMPET_TCP_RST));
}

/*
 * Does slot <s> hold <key>'s copy, confirmed by the table lately, that may
 * forward <p>? A packet that may change the entry, or a copy too old,
 * empties the slot: the table decides.
 */
static __always_inline bool flow_cache_serves(struct flow_cache_slot *s, const struct flow_key *key,
					      const struct packet *p, __u64 now)
{
	if (!s->checked_ns || !flow_key_eq(&s->key, key))
		return false;
	if (!flow_cache_may_serve(p) || clock_age(now, s->checked_ns) > FLOW_CACHE_TRUST_NS) {
		s->checked_ns = 0;
		return false;
	}
	return true;
}

/*
 * May a flow take slot <s>? When empty, or not confirmed for twice as long
 * as a copy is trusted: a busy flow keeps its slot against others that hash
 * there, and no CPU can be reading a copy it still trusts while another
 * writes over it.
 */
static __always_inline bool flow_cache_free(const struct flow_cache_slot *s, __u64 now)
{
	return !s->checked_ns || clock_age(now, s->checked_ns) > 2 * FLOW_CACHE_TRUST_NS;
}

/*
 * Copy <fv>, the open L4 entry of <key>, into the free slot <s>. The time
 * goes in last, with an exchange (a full barrier), so a CPU that finds it
 * finds the rest of the copy whole.
 */
static __noinline void flow_cache_keep(struct flow_cache_slot *s, const struct flow_key *key,
				       const struct flow_value *fv, __u64 now)
{
	s->key = *key;
	s->backend_id = fv->backend_id;
	s->gen = fv->gen;
	s->service_id = fv->service_id;
	s->flags = fv->flags;
	s->pad = 0;
	s->nh = fv->nh;
	__sync_lock_test_and_set(&s->checked_ns, now);
}

/*
 * The flow table has just forwarded <p> by <fv>, the entry of <key>: its
 * copy goes into the flow's slot <s> if the slot is free and the entry is
 * an open L4 client entry.
 */
static __always_inline void flow_cache_offer(struct flow_cache_slot *s, const struct flow_key *key,
					     const struct packet *p, const struct flow_value *fv,
					     __u64 now)
{
	if (!(fv->flags & ~LIMPET_FLOW_DSR) && flow_cache_may_serve(p) && flow_cache_free(s, now))
		flow_cache_keep(s, key, fv, now);
}

#endif /* LIMPET_BPF_FLOWCACHE_H */
