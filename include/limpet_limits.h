/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_limits.h - sizes and limits shared by the data plane and the
 * controller. Each may be overridden at build time with -D.
 */
#ifndef LIMPET_LIMITS_H
#define LIMPET_LIMITS_H

#ifndef LIMPET_MAX_SERVICES
#define LIMPET_MAX_SERVICES 1024
#endif

#ifndef LIMPET_MAX_BACKENDS
#define LIMPET_MAX_BACKENDS 131072
#endif

/* Default flow table entries (config: flow_table_size). */
#ifndef LIMPET_FLOW_TABLE_DEFAULT
#define LIMPET_FLOW_TABLE_DEFAULT 1048576
#endif

/* Maglev table size: a prime, >= 100 x backends for ~1% imbalance. */
#ifndef LIMPET_RING_SIZE_DEFAULT
#define LIMPET_RING_SIZE_DEFAULT 65537
#endif
#ifndef LIMPET_RING_SIZE_MAX
#define LIMPET_RING_SIZE_MAX 1048573
#endif

/* Slots of an HTTP service's placement table (a power of two). */
#ifndef LIMPET_PLACEMENT_SLOTS
#define LIMPET_PLACEMENT_SLOTS 4096
#endif

/* Most HTTP sessions remembered (route_sessions: header, client, cookie). */
#ifndef LIMPET_ROUTE_SESSIONS_MAX
#define LIMPET_ROUTE_SESSIONS_MAX 1000000
#endif

/*
 * Slots of the flow cache (flow_cache_slot; a power of two): 4,096 of 96
 * bytes, 384 KB, which stay in a CPU's L2. Every packet reads its slot,
 * copy or not; 65,536 slots (6 MB) served a generator's 65,536 flows from
 * copies but made each SYN, first ACK and reply miss the CPU caches.
 */
#define LIMPET_FLOW_CACHE_BITS 12
#define LIMPET_FLOW_CACHE_SLOTS (1u << LIMPET_FLOW_CACHE_BITS)

/* Entries of the global_stats map: room for counters later builds add, so a
 * newer build can adopt the pinned map of an older one.
 */
#define LIMPET_STAT_SLOTS 64

/* The slow path's AF_XDP sockets: one per RX queue of each interface. */
#define LIMPET_XSK_MAX_IFACES 16
#define LIMPET_XSK_MAX_QUEUES 64
#define LIMPET_XSK_SLOTS (LIMPET_XSK_MAX_IFACES * LIMPET_XSK_MAX_QUEUES)

/* Longest service/backend/interface name, including the NUL. */
#define LIMPET_NAME_MAX 64

/* Seed of the packet hashes: fixed so every limpet instance agrees. */
#define LIMPET_HASH_SEED 0x6c696d70u /* "limp" */

#endif /* LIMPET_LIMITS_H */
