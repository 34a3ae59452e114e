/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_maps.h - the layout of every BPF map limpet uses.
 *
 * This is the one source of truth shared by the data plane (bpf/) and the
 * controller (user/). Keys and values use fixed-width __u/__be types with
 * explicit padding so that both compilers lay them out identically; the
 * static asserts at the bottom catch a mismatch at build time.
 *
 * Addresses are always stored in a 16-byte struct limpet_addr: IPv6 fills
 * all four words, IPv4 uses word 0 and leaves the rest zero.
 */
#ifndef LIMPET_MAPS_H
#define LIMPET_MAPS_H

#include <linux/types.h>
#include "limpet_limits.h"
#include "limpet_splice.h"
#include "limpet_head.h"
#include "limpet_syncookie.h"
#include "limpet_token.h"

/* Address families as stored in maps (not AF_*: the BPF side has no socket.h). */
enum limpet_family {
	LIMPET_FAMILY_V4 = 4,
	LIMPET_FAMILY_V6 = 6,
};

/* A service's affinity type, as configured (affinity.type). */
enum limpet_affinity {
	LIMPET_AFFINITY_NONE = 0,
	LIMPET_AFFINITY_CLIENT_IP = 1,
	LIMPET_AFFINITY_COOKIE = 2,
	LIMPET_AFFINITY_HEADER = 3,
};

/* What an L4 service's new flows are hashed by onto its Maglev table. */
enum limpet_hash {
	LIMPET_HASH_TUPLE = 0,		/* the 5-tuple: affinity none */
	LIMPET_HASH_CLIENT = 1,		/* the client address alone: every other affinity */
};

/* What the data plane reads in the first request head of an HTTP service. */
enum limpet_head_read {
	LIMPET_HEAD_READ_NONE = 0,	/* nothing: the slow path binds by address */
	LIMPET_HEAD_READ_COOKIE = 1,	/* the affinity cookie, verified */
	LIMPET_HEAD_READ_HEADERS = 2,	/* the configured headers, hashed to a session key */
};

/* How a service's connections are bound to a backend. */
enum limpet_service_mode {
	LIMPET_MODE_L4 = 0,	/* at the SYN, through the Maglev table */
	LIMPET_MODE_HTTP = 1,	/* at the first request: SYN cookies, then the slow path */
};

enum limpet_forwarding {
	LIMPET_FWD_NAT = 0,	/* rewrite destination, un-NAT the return path */
	LIMPET_FWD_DSR = 1,	/* rewrite destination MAC only */
};

struct limpet_addr {
	__be32 a[4];
};

/* vips: which VIP:port:proto is a service. Written by the controller. */
struct vip_key {
	struct limpet_addr addr;
	__be16 port;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* enum limpet_family */
};

/*
 * Each field means one thing, read by one part of the data plane: <hash> by
 * the L4 binding (lb.h), <head_read> by the HTTP front end (synproxy.h).
 */
struct vip_value {
	__u32 service_id;	/* index into rings, service_stats */
	__u8 hash;		/* enum limpet_hash */
	__u8 forwarding;	/* enum limpet_forwarding */
	__u8 mode;		/* enum limpet_service_mode */
	__u8 head_read;		/* enum limpet_head_read; mode http only */
};

/* Backend states as the data plane sees them. */
enum limpet_backend_state {
	LIMPET_BACKEND_UNUSED = 0,	/* id free: flows pointing here are stale */
	LIMPET_BACKEND_ACTIVE = 1,	/* forward established flows here */
};

/*
 * Where routing stands with a backend (backend_value.route_state; the
 * inputs of include/limpet_route.h). Written from model_route_state().
 */
enum limpet_be_state {
	LIMPET_BE_UP = 0,
	LIMPET_BE_DRAINING,	/* draining, or weight 0: keeps its sessions, takes no new */
	LIMPET_BE_DOWN,
	LIMPET_BE_UNKNOWN,	/* tag not a backend of this service */
};

/*
 * backends: backend id -> where to send, and how HTTP routing sees it.
 * Written by the controller (dp/program.c) whenever the model changes:
 * configuration, health, drain, weights.
 */
struct backend_value {
	struct limpet_addr addr;
	__be16 port;
	__u8 family;
	__u8 state;		/* enum limpet_backend_state */
	__u32 gen;		/* bumped whenever the id is (re)assigned */
	__u32 service_id;
	__u8 route_state;	/* enum limpet_be_state, model_route_state() */
	/* 1: rev_nat gives this address:port (and the service's protocol)
	 * to service_id, so a NAT flow's replies need no return entry. Set
	 * once rev_nat holds it (dp/program.c): a SYN then reads one byte,
	 * not rev_nat.
	 */
	__u8 rev_nat_owned;
	__u8 pad[2];
	__u32 weight;		/* for new sessions, model_new_flow_weight(): 0 takes none */
	__u32 tag;		/* limpet_name_tag() of the backend's name: what cookies carry */
};

/*
 * backend_tags: (service id, backend tag) -> backend id, for every backend
 * of every HTTP service with cookie affinity: the backend a VALID cookie's
 * backend_tag names. Written by the controller (dp/route.c); an entry goes
 * with its backend (or its service's cookie affinity). When two backends
 * of a service share a tag, the first in the configuration has it.
 */
struct backend_tag_key {
	__u32 service_id;
	__u32 tag;
};

/* http_services.flags */
enum {
	LIMPET_HTTP_INSERTS = 1 << 0,	/* backend_header: responses need an insertion */
};

/*
 * http_services: service id -> how its HTTP connections are routed (the
 * limpet_route_in settings and the times), for every HTTP service (affinity
 * none too); all zero for any other id. Written by the controller
 * (dp/route.c).
 */
struct http_service_value {
	__u8 affinity;		/* enum limpet_affinity */
	__u8 fallback;		/* enum limpet_route_fallback */
	__u8 policy;		/* enum limpet_route_policy */
	__u8 failover;		/* enum limpet_route_failover */
	__u8 flags;		/* LIMPET_HTTP_* */
	__u8 pad[3];
	__u32 idle_ttl_s;	/* header/client_ip sessions: idle TTL */
	__u32 cookie_ttl_s;	/* cookie: the cookie's TTL */
	__u32 connect_timeout_ms;	/* http.connect_timeout */
};

/*
 * placements: service id -> inner ARRAY of LIMPET_PLACEMENT_SLOTS __u32
 * backend ids (LIMPET_PLACEMENT_EMPTY in every slot when no backend takes
 * new sessions), for HTTP services with cookie, header or client_ip
 * affinity. Slot s holds the weighted rendezvous (HRW) winner of slot key
 * limpet_placement_slot_key(s) among the backends with weight > 0; a
 * session key k uses slot limpet_placement_slot(k) (include/limpet_placement.h):
 * a cookie's session id (RING_SESSION) or a header key (RING_HEADER). A
 * slot's backend that cannot be used (tried, another family) moves on to
 * the next slot, (s + 1) & (LIMPET_PLACEMENT_SLOTS - 1), and so on.
 * Written by the controller (dp/route.c, built by dp/placement.c): a new
 * inner map swapped in with one update of the outer map, like rings.
 */

/*
 * route_sessions: header, client_ip and cookie sessions -> their backend.
 * LRU, pinned (a controller restart keeps them). Live while
 * now < last_use_ns + ttl_s * 1e9, in bpf_ktime_get_boot_ns() time
 * (CLOCK_BOOTTIME in userspace). Written by the slow path (through dp/)
 * and the data plane; the controller forgets a retired service's entries.
 */
enum limpet_session_kind {
	SESSION_COOKIE = 1,
	SESSION_HEADER = 2,
	SESSION_CLIENT = 3,
};

struct route_session_key {
	__u32 service_id;
	__u8 kind;		/* enum limpet_session_kind */
	__u8 pad[3];		/* zero */
	__u64 key;		/* COOKIE: the token's session id; HEADER:
				 * limpet_head_session_key(); CLIENT:
				 * limpet_client_session_key() (limpet_hash.h) */
};

struct route_session_value {
	__u32 backend_id;
	__u32 ttl_s;
	__u64 last_use_ns;
};

/* http_bind_stats: per-CPU, per service. Written by the data plane. */
struct http_bind_counters {
	__u64 bound_xdp;	/* connections bound in XDP (backend SYN-ACK completed it) */
	__u64 cookie_valid;	/* of those, on a valid cookie whose head XDP read */
	__u64 heads_read;	/* of those, on a request head XDP read (cookie, header) */
};

/*
 * rev_nat: backend address:port:proto -> the service whose VIP its replies
 * carry, for every backend of an L4 NAT service. Written by the controller
 * (dp/program.c). A reply with no flow entry whose source is here is un-NAT'd
 * without per-flow state (lb.h). One service owns a key: when the same
 * backend address:port is in several L4 NAT services, the one that owned it
 * keeps it (its flows have no return entries), and the flows of the others
 * get per-flow return entries, which a reply finds first.
 */
struct rev_nat_key {
	struct limpet_addr addr;
	__be16 port;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* enum limpet_family */
};

/* rev_nat_value.flags */
enum {
	/* A cluster node (config cluster:): ECMP may bring a reply of a flow
	 * whose client packets reach another node, so a reply with no entry on
	 * this node is un-NAT'd all the same. The backend's address:port then
	 * serves the VIP alone: clients reaching it directly through this node
	 * get its replies from the VIP.
	 */
	LIMPET_REV_NAT_ANY_NODE = 1 << 0,
	/* A cluster node: the address:port is an HTTP service's backend. Its
	 * replies with no flow here belong to a connection another node
	 * bound: sent to that node, named by their TSecr (bpf/lib/cluster.h),
	 * never un-NAT'd here. An L4 NAT service's claim of the same key wins
	 * (the TSecr of an L4 flow's reply names no node).
	 */
	LIMPET_REV_NAT_SPLICED = 1 << 1,
};

/*
 * cluster: one entry, this node among the nodes of a cluster: section,
 * written by the controller. Ids are places in the nodes' sorted names, the
 * same on every node. <ts_bits> 0 (a lone node, or no cluster): TSvals
 * carry no node, and nothing is forwarded.
 */
#define LIMPET_CLUSTER_MAX_NODES 64

struct cluster_node {
	struct limpet_addr addr;	/* where the other nodes reach it */
	__u8 family;			/* enum limpet_family; 0: no such node */
	__u8 pad[3];
};

struct cluster_value {
	__u8 ts_bits;			/* of limpet_ts_tag (limpet_tcpopt.h) */
	__u8 self;			/* this node's id */
	__u16 n_nodes;
	__u32 pad;
	struct cluster_node nodes[LIMPET_CLUSTER_MAX_NODES];
};

/*
 * routing: one __u32 of enum limpet_routing, written by the controller
 * (dp/routing.c) from the kernel's policy rules and routes. With its
 * family's flag set, the FIB's answer for a backend does not depend on the
 * client's address (no rule beyond the kernel's defaults, no multipath
 * route), so new flows to a backend share one next hop per CPU in
 * nh_bind_cache, whatever their client: a SYN flood from many addresses
 * does not ask the FIB once per SYN. Unset (at load, or when in doubt): the
 * next hop is kept per client and backend.
 */
enum limpet_routing {
	LIMPET_ROUTING_V4_BY_DST = 1 << 0,
	LIMPET_ROUTING_V6_BY_DST = 1 << 1,
};

struct rev_nat_value {
	struct limpet_addr vip;	/* restored as the reply's source */
	__be16 vip_port;
	__u16 flags;		/* LIMPET_REV_NAT_* */
	__u32 service_id;
	__u32 backend_id;
};

/* flows: one connection's binding. Written by the data plane, swept by the
 * controller. An L4 flow has one entry, the client's packets (client -> VIP),
 * written at its first packet that is not a bare SYN (a SYN is forwarded by
 * Maglev alone, so a SYN flood writes nothing); its replies are un-NAT'd
 * through rev_nat. A NAT flow whose backend address:port rev_nat gives to
 * another service, and every HTTP flow, has a second entry for the
 * backend's replies (backend -> client).
 * The two keys cannot collide, so one lookup of a packet's own 5-tuple finds
 * either, and the entry says which it is (LIMPET_FLOW_RET).
 */
struct flow_key {
	struct limpet_addr src;
	struct limpet_addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u16 pad;
};

enum limpet_flow_flags {
	LIMPET_FLOW_CLOSED = 1,	/* saw a FIN or RST: only counted, not removed */
	LIMPET_FLOW_RET = 2,	/* a NAT reply entry: restore vip:vip_port as source */
	LIMPET_FLOW_DSR = 4,	/* bound under DSR forwarding: rewrite MACs only */
	LIMPET_FLOW_SPLICE = 8,	/* an HTTP connection: translate by <sp> as well */
	LIMPET_FLOW_SLOWPATH = 16,	/* being bound: every segment to the slow path */
	LIMPET_FLOW_SEQ_NEXT = 32,	/* LIMPET_FLOW_SPLICE: <seq_next> is known */
	LIMPET_FLOW_XDP_BINDING = 64,	/* being bound by the data plane (bpf/lib/bind.h) */
	LIMPET_FLOW_DIRECT = 128,	/* CLOSED: the client then sent a SYN from these
					 * ports straight to the backend */
};

/* The next hop of one direction of a flow, as bpf_fib_lookup() last gave
 * it. Valid until <expires_ns>, for packets that arrived on <in_ifindex> and
 * are no longer than <max_len> (an IP length the lookup found within the
 * MTU): established packets skip the FIB, and the MTU check stays exact.
 */
struct nexthop_cache {
	__u64 expires_ns;
	__u32 in_ifindex;
	__u32 out_ifindex;
	__u16 max_len;
	__u8 dmac[6];
	__u8 smac[6];
	__u16 pad;
};

/*
 * The data plane's clock, per CPU: bpf_ktime_get_coarse_ns() as it read it
 * in the tick <jiffies>. The coarse clock only moves at ticks, so until
 * jiffies moves on the reading stands (bpf/lib/clock.h).
 */
struct clock_anchor {
	__u64 jiffies;
	__u64 coarse_ns;
};

/*
 * flow_cache: LIMPET_FLOW_CACHE_SLOTS slots (limpet_flow_cache_index()
 * of the key), each a copy of what an open L4 client entry of the flow
 * table holds. An established packet whose flow holds its slot is forwarded
 * from there without the flow table's hash lookup; the table confirms the
 * copy (and the entry's age) once a second. Not pinned: only a cache.
 */
struct flow_cache_slot {
	struct flow_key key;
	__u64 checked_ns;	/* when the flow table last confirmed it; 0: empty */
	__u32 backend_id;
	__u32 gen;
	__u32 service_id;
	__u16 flags;		/* the entry's: 0 or LIMPET_FLOW_DSR */
	__u16 pad;
	struct nexthop_cache nh;
};

struct flow_value {
	__u64 atime_ns;		/* last packet, bpf_ktime_get_coarse_ns(); 1 s steps */
	__u32 backend_id;
	__u32 gen;		/* backend gen at binding time */
	__u32 service_id;
	__u16 flags;		/* enum limpet_flow_flags */
	__be16 vip_port;	/* RET entries: the port to restore as source */
	struct limpet_addr vip;	/* RET entries: the address to restore as source */
	union {
		struct nexthop_cache nh;	/* where this direction's packets go */
		/* LIMPET_FLOW_SLOWPATH entries the data plane made for the
		 * first request segment: the handshake its cookie proved and,
		 * for cookie and header affinity, what the segment's request
		 * head said (LIMPET_PENDING_SCANNED: it ended in the segment).
		 */
		struct {
			__u32 client_isn;
			__u32 cookie_isn;
			__u64 session;		/* VALID cookie: its session id */
			__u64 header_key;	/* header affinity: the session key */
			__u32 backend_tag;	/* VALID cookie: the backend it names */
			__u8 scan;		/* enum limpet_pending_scan */
			__u8 outcome;		/* enum limpet_cookie_outcome */
			__u8 syn;		/* no timestamps: LIMPET_PENDING_OWN_COOKIE
						 * and the data of limpet's own cookie */
			__u8 pad;
		} pending;
		/*
		 * LIMPET_FLOW_XDP_BINDING client entries: a connection the data
		 * plane binds itself. Its SYN to backend <backend_id> carries
		 * the client's ISN and the options its cookie kept.
		 */
		struct {
			__u32 client_isn;
			__u32 cookie_isn;
			__u32 syn_tsval;	/* the client's TSval, offered in our SYN
						 * (naming this node: limpet_ts_tag) */
			__u32 our_tsval;	/* our SYN-ACK's, which the held segment echoes */
			__u32 syn_ms;		/* the first SYN to this backend, coarse clock */
			__u32 tried;		/* bit (id % 32) of every backend tried */
			__u16 window;		/* the client's window field, offered in our SYN */
			__u8 mss_index;		/* the cookie's MSS */
			__u8 wscale;		/* the client's shift, or LIMPET_WSCALE_NONE */
			__u8 opts;		/* enum limpet_bind_opts */
			__u8 n_tried;
			__u16 pad;
		} bind;
	};
	struct limpet_splice sp;	/* LIMPET_FLOW_SPLICE: this direction's translation */
	/*
	 * LIMPET_FLOW_SPLICE: past the last byte (and FIN) this direction's
	 * sender sent, in its own sequence space: where its RST must be to
	 * end the connection (RFC 5961 3.2; bpf/lib/lb.h).
	 */
	__u32 seq_next;
};

enum limpet_pending_scan {
	LIMPET_PENDING_SCANNED = 1,	/* the head ended in the first segment */
	LIMPET_PENDING_HEADER_OK = 2,	/* header affinity: header_key is a key */
};

/* bind.opts: what the client agreed in its handshake. */
enum limpet_bind_opts {
	LIMPET_BIND_SACK = 1,
	LIMPET_BIND_ECN = 2,
};

/* pending.syn: the handshake was limpet's own cookie (a client without
 * timestamps); the low bits are its data (limpet_syncookie_opts_of()).
 */
#define LIMPET_PENDING_OWN_COOKIE 0x80

/*
 * http_affinity: service id -> what the data plane looks for in the first
 * request segment of a cookie or header affinity service. Written by the
 * controller.
 */
struct http_affinity_value {
	struct limpet_head_config head;
	__u32 service_tag;	/* bound into each cookie's MAC: no reuse across services */
	__u32 cookie_ttl_s;
	__u8 require_all;	/* header affinity: require_all_headers */
	__u8 pad[7];
};

/*
 * cookie_keys: one value, the keys cookies are verified with and the
 * wall clock: bpf_ktime_get_boot_ns() + boot_to_wall_ns is Unix time in ns
 * (the issue times of cookies are wall-clock seconds that every balancer
 * agrees on). Written by the controller.
 */
struct cookie_keys_value {
	struct limpet_cookie_keys keys;
	__s64 boot_to_wall_ns;
};

/*
 * xsks: the slow path's AF_XDP sockets (XSKMAP), slot = base + RX queue.
 * xsk_ifaces: ifindex -> base slot (LIMPET_XSK_MAX_QUEUES apart), written
 * by the controller for every interface it attached to.
 */
struct xsk_iface_value {
	__u32 base;
	__u32 n_queues;
};

/* Per-CPU counters for a service or a backend. */
struct limpet_counters {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 drops;
};

/* global_stats: one per-CPU counter per packet outcome. The benchmark checks
 * that the counter of the path it measures grew by exactly the repeat count.
 */
enum limpet_stat {
	LIMPET_STAT_PASS = 0,		/* not for a VIP, not a return packet */
	LIMPET_STAT_PASS_UNPARSED,	/* not IPv4/IPv6 TCP/UDP we can parse */
	LIMPET_STAT_PASS_FRAGMENT,	/* IP fragments go to the kernel */
	LIMPET_STAT_FWD_NEW,		/* new flow bound and forwarded */
	LIMPET_STAT_FWD_EST,		/* established flow forwarded */
	LIMPET_STAT_RET,		/* NAT return packet forwarded */
	LIMPET_STAT_FIB_PASS,		/* rewritten, next hop left to the kernel */
	LIMPET_STAT_DROP_MALFORMED,	/* VIP packet with truncated/bad headers */
	LIMPET_STAT_DROP_NO_BACKEND,	/* service has no backend for new flows */
	LIMPET_STAT_DROP_FIB,		/* DSR with no usable next hop */
	LIMPET_STAT_DROP_TTL,		/* TTL/hop limit would expire */
	LIMPET_STAT_STALE_FLOW,		/* flow's backend was removed: re-bound */
	LIMPET_STAT_SYNCOOKIE_SENT,	/* HTTP VIP: SYN answered with a cookie SYN-ACK */
	LIMPET_STAT_SYNCOOKIE_ACK_OK,	/* HTTP VIP: bare ACK with a valid cookie, dropped */
	LIMPET_STAT_SYNCOOKIE_BAD,	/* HTTP VIP: ACK or data without a valid cookie */
	LIMPET_STAT_SLOWPATH,		/* HTTP: segment handed to the slow path (AF_XDP) */
	LIMPET_STAT_HTTP_NO_CONN,	/* HTTP VIP: RST, FIN or stray segment, no connection */
	LIMPET_STAT_SYNCOOKIE_ERR,	/* HTTP VIP: SYN-ACK could not be built */
	LIMPET_STAT_SLOWPATH_DOWN,	/* HTTP: slow-path segment dropped, no AF_XDP socket */
	LIMPET_STAT_SPLICE_FWD,		/* HTTP: established client segment translated */
	LIMPET_STAT_SPLICE_RET,		/* HTTP: established backend segment translated */
	LIMPET_STAT_SPLICE_RST,		/* HTTP: RST from either side, flow removed */
	LIMPET_STAT_HEADS_READ,		/* HTTP: a first request head read whole in XDP (an
					 * event of a SLOWPATH packet, not an outcome) */
	LIMPET_STAT_SYNCOOKIE_OWN,	/* HTTP: of syncookie_sent, SYN-ACKs with limpet's own
					 * cookie (no timestamps; an event, not an outcome) */
	LIMPET_STAT_SPLICE_RST_KEPT,	/* HTTP: RST not at the expected seq: passed to the
					 * endpoint, which judges it (RFC 5961), flow kept */
	LIMPET_STAT_SPLICE_SYN,		/* HTTP: SYN on a live flow: passed, flow kept */
	LIMPET_STAT_ICMP_TRANSLATED,	/* ICMP error quoting a NAT or HTTP flow's packet to
					 * a backend, translated for the client */
	LIMPET_STAT_ICMP_TO_BACKEND,	/* ICMP error quoting a NAT or HTTP flow's packet to
					 * the client, translated for the backend */
	LIMPET_STAT_SYN_STATELESS,	/* L4 SYN with no flow: forwarded by Maglev, no entry */
	LIMPET_STAT_RET_STATELESS,	/* NAT reply with no flow entry, un-NAT'd by rev_nat */
	LIMPET_STAT_HTTP_BIND_SYN,	/* HTTP: a client segment or a backend RST turned into
					 * the SYN toward a backend (binding in XDP) */
	LIMPET_STAT_HTTP_BOUND_XDP,	/* HTTP: a backend SYN-ACK turned into the held first
					 * segment: a connection bound in XDP (an event) */
	LIMPET_STAT_HTTP_BIND_DROP,	/* HTTP: a segment of a connection XDP is binding, not
					 * needed (later data, ACKs, stray RSTs): dropped */
	LIMPET_STAT_HTTP_BIND_ACK,	/* HTTP: a backend SYN-ACK with no room for the held
					 * segment: bound, answered with a bare ACK (the client
					 * sends the segment again) */
	LIMPET_STAT_HTTP_BIND_FALLBACK,	/* HTTP: a binding XDP gave to the slow path (no backend
					 * left, no held segment): an event */
	LIMPET_STAT_CLUSTER_FORWARD,	/* cluster: a segment of a connection another node
					 * bound, sent to that node (MAC rewritten) */
	LIMPET_STAT_CLUSTER_UNREACHABLE,	/* cluster: such a segment whose node is unknown,
						 * unroutable, or too long to encapsulate: dropped */
	LIMPET_STAT_CLUSTER_ENCAP,	/* cluster: a forwarded segment sent encapsulated (the
					 * node is not on a shared link): an event */
	LIMPET_STAT_CLUSTER_DECAP,	/* cluster: a segment another node encapsulated to this
					 * one, unwrapped: an event */
	LIMPET_STAT_FLOW_CACHE_HIT,	/* of fwd_established, packets forwarded from the
					 * flow cache, not the flow table: an event */
	LIMPET_STAT_MAX,
};

/* Counters of an event of a packet whose outcome another counter has. */
#define LIMPET_STAT_IS_EVENT(stat)                                                  \
	((stat) == LIMPET_STAT_HEADS_READ || (stat) == LIMPET_STAT_SYNCOOKIE_OWN || \
	 (stat) == LIMPET_STAT_HTTP_BOUND_XDP || (stat) == LIMPET_STAT_HTTP_BIND_FALLBACK || \
	 (stat) == LIMPET_STAT_CLUSTER_ENCAP || (stat) == LIMPET_STAT_CLUSTER_DECAP || \
	 (stat) == LIMPET_STAT_FLOW_CACHE_HIT)

/* Controller-only registries: which name owns which id. They live in pinned
 * maps so that a restarted controller gives every service and backend the id
 * it had, and established flows keep pointing at the right backend.
 */
struct service_name_value {
	char name[LIMPET_NAME_MAX];
	__u32 in_use;
	__u32 pad;
};

struct backend_name_value {
	char service[LIMPET_NAME_MAX];
	char name[LIMPET_NAME_MAX];
	__u32 in_use;
	__u32 pad;
};

/*
 * rings: service id -> inner ARRAY of __u32 (BPF_F_INNER_MAP, so sizes may
 * differ per service). Element 0 holds the table size M; elements 1..M hold
 * backend ids. The controller builds a complete new inner map and swaps it in
 * with one update of the outer map, so a packet never sees a partial table.
 */
#define LIMPET_RING_SIZE_SLOT 0

/*
 * prev_rings, ring_grace: a bare SYN to an L4 NAT service records nothing,
 * so its handshake's ACK must be bound by the table that bound the SYN.
 * When the controller swaps a service's table, it keeps the one from before
 * in prev_rings (the one from before the first of several changes in a
 * row) and sets ring_grace (service id -> __u64, until when in
 * bpf_ktime_get_coarse_ns() time) LIMPET_RING_GRACE_NS after the last
 * change. Within the grace, SYNs are recorded, the ACK of a SYN bound
 * before the change (a TCP segment that is not a SYN and has no entry) is
 * bound through prev_rings while its backend is there, and that backend's
 * SYN-ACK is un-NATed. Then the controller removes the previous table.
 */
#define LIMPET_RING_GRACE_NS (5ULL * 1000000000ULL)

#ifdef __cplusplus
#define LIMPET_STATIC_ASSERT static_assert
#else
#define LIMPET_STATIC_ASSERT _Static_assert
#endif
LIMPET_STATIC_ASSERT(LIMPET_STAT_MAX <= LIMPET_STAT_SLOTS, "global_stats has no room");
LIMPET_STATIC_ASSERT(sizeof(struct vip_key) == 20, "vip_key layout");
LIMPET_STATIC_ASSERT(sizeof(struct vip_value) == 8, "vip_value layout");
LIMPET_STATIC_ASSERT(sizeof(struct backend_value) == 40, "backend_value layout");
LIMPET_STATIC_ASSERT(sizeof(struct backend_tag_key) == 8, "backend_tag_key layout");
LIMPET_STATIC_ASSERT(sizeof(struct http_service_value) == 20, "http_service_value layout");
LIMPET_STATIC_ASSERT(sizeof(struct route_session_key) == 16, "route_session_key layout");
LIMPET_STATIC_ASSERT(sizeof(struct route_session_value) == 16, "route_session_value layout");
LIMPET_STATIC_ASSERT(sizeof(struct http_bind_counters) == 24, "http_bind_counters layout");
LIMPET_STATIC_ASSERT(sizeof(struct rev_nat_key) == 20, "rev_nat_key layout");
LIMPET_STATIC_ASSERT(sizeof(struct rev_nat_value) == 28, "rev_nat_value layout");
LIMPET_STATIC_ASSERT(sizeof(struct flow_key) == 40, "flow_key layout");
LIMPET_STATIC_ASSERT(sizeof(struct nexthop_cache) == 32, "nexthop_cache layout");
LIMPET_STATIC_ASSERT(sizeof(struct xsk_iface_value) == 8, "xsk_iface_value layout");
LIMPET_STATIC_ASSERT(sizeof(struct limpet_splice) == 36, "limpet_splice layout");
LIMPET_STATIC_ASSERT(sizeof(struct cluster_value) == 8 + 20 * LIMPET_CLUSTER_MAX_NODES,
		     "cluster_value layout");
LIMPET_STATIC_ASSERT(sizeof(struct flow_value) == 112, "flow_value layout");
LIMPET_STATIC_ASSERT(sizeof(struct clock_anchor) == 16, "clock_anchor layout");
LIMPET_STATIC_ASSERT(sizeof(struct flow_cache_slot) == 96, "flow_cache_slot layout");

#endif /* LIMPET_MAPS_H */
