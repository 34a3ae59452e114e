/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bind.h - HTTP connections the data plane binds itself.
 *
 * A connection whose backend choice needs nothing from userspace (no
 * header inserted, http_services says so, and affinity none, client-IP
 * affinity, or a head affinity.h read and routed: a valid cookie, a header
 * session) is bound here, as the slow path would bind it
 * (user/http/slowpath.c), without leaving the kernel:
 *
 * 1. The first request segment (the cookie proved the handshake, seq is
 *    the client's ISN + 1, the client has timestamps, the segment is whole
 *    and at most BIND_HOLD_MAX bytes of IP packet, no FIN/RST/URG) is kept
 *    in held_segments; the backend is the slow path's pick (the ring's for
 *    the 5-tuple; the client address's session, else the ring's for the
 *    address; the head's route); two entries say so (client -> VIP and
 *    backend -> client, LIMPET_FLOW_XDP_BINDING); the packet itself becomes
 *    the SYN toward the backend, with the client's ISN and the options its
 *    cookie kept.
 * 2. The client's retransmissions of it send the SYN again, or, past the
 *    service's connect timeout, go on as in 4.
 * 3. The backend's SYN-ACK installs both directions' translation
 *    (limpet_splice_bind(), the slow path's computation) and becomes the
 *    held segment, sent on as an established client segment is.
 * 4. The backend's RST to our SYN moves to the next backend on the ring
 *    (affinity none). With none left, for a session (whose failover mode
 *    the slow path applies), or for anything this code does not handle,
 *    the client entry becomes the slow path's pending entry
 *    (LIMPET_FLOW_SLOWPATH), and the client's next retransmission goes
 *    there: it retries, or answers 503.
 *
 * Everything here runs in limpet_bind, reached by tail call from the entry
 * point (bind_progs), so it has a stack of its own. Without that program
 * (the benchmark, a test harness that does not fill the slot) everything
 * goes to the slow path as before.
 */
#ifndef LIMPET_BPF_BIND_H
#define LIMPET_BPF_BIND_H

#include "parse.h"
#include "maps.h"
#include "stats.h"
#include "fib.h"
#include "nat.h"
#include "splice.h"
#include "synproxy.h"
#include "affinity.h"
#include "limpet_hash.h"
#include "limpet_splice.h"

/* The largest first segment kept: bytes of IP packet. */
#define BIND_HOLD_MAX 2048
/* Connections being bound at once whose first segment can be held. */
#define BIND_HELD_ENTRIES 4096
/* Backends tried before the slow path takes over (its MAX_TRIED). */
#define BIND_MAX_TRIED 16
/* Ring slots looked at for an untried backend; beyond, the slow path walks on. */
#define BIND_RING_STEPS 64
#define BIND_CONNECT_TIMEOUT_MS 2000
/* A binding idle this long is given up (the slow path's BINDING_MAX_MS). */
#define BIND_ABANDONED_NS (30ULL * 1000000000ULL)
#define BIND_NSEC_PER_MSEC 1000000ULL

/* The binding program (limpet_bind), filled by the controller at load. */
#define BIND_PROG_SLOT 0

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} bind_progs SEC(".maps");

/* A first request segment: its IP packet as the client sent it. */
struct held_segment {
	__u32 len;
	__u32 pad;
	__u8 data[BIND_HOLD_MAX];
};

/* Client flow key -> its held first segment, until the backend answers. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BIND_HELD_ENTRIES);
	__type(key, struct flow_key);
	__type(value, struct held_segment);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} held_segments SEC(".maps");

/* A held segment being written: too big for any stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct held_segment);
} held_scratch SEC(".maps");

/*
 * A backend's SYN-ACK being bound, passed from bind_backend_segment() to
 * bind_complete() (whose stack would not fit below the first's), with the
 * translation and next hop being worked out.
 */
struct bind_work {
	struct flow_key ck;		/* the client's entry */
	struct flow_key bk;		/* the backend's (bind_first()) */
	struct limpet_tcpopt synack;	/* the SYN-ACK's options */
	__u32 synack_seq;
	/* bind_complete() -> bind_send_ack(): the connection just bound. */
	__u32 backend_id;
	__u32 client_isn;
	__u32 syn_tsval;
	__u16 window;
	__be16 eth_proto;	/* of the frame the held segment is written into */
	struct limpet_splice fwd;
	struct limpet_splice ret;
	struct nexthop_cache nh;
};

/* bind_backend_segment(): the SYN-ACK checks out, bind_complete() next;
 * the backend refused, bind_next(). (Their stacks would not fit below its.)
 */
#define BIND_COMPLETE (-1)
#define BIND_NEXT (-2)
/* bind_complete(): bound, but the frame had no room for the held segment:
 * bind_send_ack() next.
 */
#define BIND_ACK (-3)

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bind_work);
} bind_scratch SEC(".maps");

/* Does binding <cfg>'s connections need nothing from userspace? */
static __always_inline bool bind_xdp(const struct http_service_value *cfg)
{
	return cfg->affinity == LIMPET_AFFINITY_NONE && !(cfg->flags & LIMPET_HTTP_INSERTS);
}

static __always_inline __u32 bind_now_ms(__u64 now)
{
	return (__u32)(now / BIND_NSEC_PER_MSEC);
}

/*
 * Is <len> a held segment's length? Then 0, and <len> bounded in a way the
 * verifier follows whatever the compiler makes of the tests: [1, max].
 */
static __always_inline int bind_len_bounded(__u32 *len)
{
	__u32 n = *len;

	if (n < sizeof(struct iphdr) || n > BIND_HOLD_MAX)
		return -1;
	asm volatile("" : "+r"(n));
	*len = ((n - 1) & (BIND_HOLD_MAX - 1)) + 1;
	return 0;
}

static __always_inline __u32 bind_bit(__u32 backend_id)
{
	return 1u << (backend_id & 31);
}

/* The backend entry's key: backend:port -> client:port. */
static __always_inline void bind_backend_key(struct flow_key *bk, const struct flow_key *ck,
					     const struct backend_value *be)
{
	bk->src = be->addr;
	bk->dst = ck->src;
	bk->sport = be->port;
	bk->dport = ck->sport;
	bk->proto = IPPROTO_TCP;
	bk->family = ck->family;
	bk->pad = 0;
}

/*
 * The ring's backend for the connection <ck>, or onwards for one not in
 * <tried> (bits of ids), as the slow path's ring_walk() goes: the same
 * table, the same start (the 5-tuple's hash; the client address's for
 * client-IP affinity, <by_client>). -1 when none is found in
 * BIND_RING_STEPS slots. A global function: the verifier walks its loop
 * once, on its own, not again for each of its callers' states (it was
 * over half of limpet_bind's verification).
 */
__noinline int bind_ring_walk(const struct flow_key *ck, bool by_client, __u32 service_id,
			      __u32 tried, __u32 *backend_id)
{
	__u32 slot = LIMPET_RING_SIZE_SLOT, size, hash, step, *id;
	struct backend_value *be;
	void *ring;

	if (!ck || !backend_id)
		return -1;
	ring = bpf_map_lookup_elem(&rings, &service_id);
	if (!ring)
		return -1;
	id = bpf_map_lookup_elem(ring, &slot);
	if (!id || *id == 0)
		return -1;
	size = *id;
	hash = by_client ? limpet_hash_addr(&ck->src) :
			   limpet_hash_tuple(&ck->src, &ck->dst, ck->sport, ck->dport, IPPROTO_TCP);
	for (step = 0; step < BIND_RING_STEPS && step < size; step++) {
		__u32 b;

		slot = 1 + (__u32)(((__u64)hash + step) % size);
		id = bpf_map_lookup_elem(ring, &slot);
		if (!id)
			return -1;
		b = *id;
		if (b >= LIMPET_MAX_BACKENDS || (tried & bind_bit(b)))
			continue;
		be = bpf_map_lookup_elem(&backends, &b);
		if (!be || be->state != LIMPET_BACKEND_ACTIVE || be->family != ck->family)
			continue;
		*backend_id = b;
		return 0;
	}
	return -1;
}

/*
 * Client-IP affinity, for the first request segment of connection <ck>
 * (synproxy_pending() left its job in the scratch): the backend of the
 * client address's live session, else the ring's for the address (the
 * slow path's pick), the session entry written or refreshed, and the
 * backend preset for bind_first() as affinity.h presets a head's. Else
 * (another affinity, the session's backend down: its failover mode is the
 * slow path's) nothing is preset, and the slow path chooses.
 */
static __noinline void bind_client_ip(const struct flow_key *ck)
{
	struct route_session_key sk = { .kind = SESSION_CLIENT };
	struct http_service_value *cfg;
	struct affinity_job *job;
	bool remember = false;
	__u32 zero = 0, service_id, id = 0;
	int rc;

	job = bpf_map_lookup_elem(&affinity_scratch, &zero);
	if (!job || !flow_key_eq(&job->key, ck))
		return;
	service_id = job->service_id;
	cfg = bpf_map_lookup_elem(&http_services, &service_id);
	if (!cfg || cfg->affinity != LIMPET_AFFINITY_CLIENT_IP || (cfg->flags & LIMPET_HTTP_INSERTS))
		return;
	sk.service_id = service_id;
	sk.key = limpet_client_session_key(&ck->src);
	rc = affinity_session_route(&sk, cfg, ck->family, &id, &remember);
	if (rc == AFFINITY_SESSION_RING)
		rc = bind_ring_walk(ck, true, service_id, 0, &id);
	if (rc)
		return;
	if (remember)
		affinity_session_remember(&sk, id, cfg->idle_ttl_s);
	job->bind_backend = id;
	job->bind_preset = 1;
}

/*
 * Send <frame> (<len> bytes from its Ethernet header) toward <dst> in place
 * of the packet: MACs from the FIB, out of the interface it names, through
 * the redirect path (synproxy_send() says why not XDP_TX). When the FIB
 * has no usable answer (a neighbour not resolved yet) the kernel routes it.
 */
static __always_inline int bind_send_frame(struct xdp_md *ctx, struct ethhdr *eth, __u32 len,
					   const struct flow_key *ck, const struct limpet_addr *dst,
					   __be16 dport, __u32 ok_stat)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = IPPROTO_TCP;
	fib.sport = ck->sport;
	fib.dport = dport;
	fib.tot_len = len - sizeof(*eth);
	if (ck->family == LIMPET_FAMILY_V4) {
		fib.family = LIMPET_AF_INET;
		fib.ipv4_src = ck->src.a[0];
		fib.ipv4_dst = dst->a[0];
		eth->h_proto = bpf_htons(ETH_P_IP);
	} else {
		fib.family = LIMPET_AF_INET6;
		__builtin_memcpy(fib.ipv6_src, &ck->src, sizeof(ck->src));
		__builtin_memcpy(fib.ipv6_dst, dst, sizeof(*dst));
		eth->h_proto = bpf_htons(ETH_P_IPV6);
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
		__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	}
	if (frame_replace(ctx, eth, len)) {
		stat_inc(LIMPET_STAT_SYNCOOKIE_ERR);
		return XDP_DROP;
	}
	stat_inc(ok_stat);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		stat_inc(LIMPET_STAT_FIB_PASS);
		return XDP_PASS;
	}
	return bpf_redirect(fib.ifindex, 0);
}

/*
 * Finish <frame>, whose TCP header <t> (<tcp_len> bytes with its options)
 * is written, as a segment from client <ck> to backend <be>: the checksum,
 * the IP header, then out toward the backend (counted as <ok_stat>).
 */
static __always_inline int bind_send_to_backend(struct xdp_md *ctx, union synack_frame *frame,
						struct tcphdr *t, __u32 tcp_len,
						const struct flow_key *ck,
						const struct backend_value *be, __u32 ok_stat)
{
	bool v6 = ck->family == LIMPET_FAMILY_V6;

	t->check = csum_buf(t, tcp_len, synproxy_pseudo_sum(&ck->src, &be->addr, v6, tcp_len));
	if (v6) {
		iphdr_write6(&frame->v6.ip, &ck->src, &be->addr, IPPROTO_TCP, tcp_len);
		return bind_send_frame(ctx, &frame->v6.eth,
				       sizeof(struct ethhdr) + sizeof(struct ipv6hdr) + tcp_len, ck,
				       &be->addr, be->port, ok_stat);
	}
	iphdr_write4(&frame->v4.ip, ck->src.a[0], be->addr.a[0], IPPROTO_TCP, tcp_len, true);
	return bind_send_frame(ctx, &frame->v4.eth,
			       sizeof(struct ethhdr) + sizeof(struct iphdr) + tcp_len, ck, &be->addr,
			       be->port, ok_stat);
}

/* <frame> cleared, and where its TCP header and options go for the family. */
static __always_inline void bind_frame_clear(union synack_frame *frame, bool v6,
					     struct tcphdr **t, __u8 **opts)
{
	__builtin_memset(frame, 0, sizeof(*frame));
	if (v6) {
		*t = &frame->v6.tcp;
		*opts = frame->v6.opts;
	} else {
		*t = &frame->v4.tcp;
		*opts = frame->v4.opts;
	}
}

/*
 * The packet becomes our SYN to backend <be> for the connection of client
 * entry <cv> (key <ck>), as the slow path's send_syn() builds it: the
 * client's ISN, its window field, MSS, SACK-permitted, timestamps with the
 * client's TSval, its window shift, ECE|CWR when it agreed ECN.
 */
static __noinline int bind_send_syn(struct xdp_md *ctx, const struct flow_key *ck,
				    const struct flow_value *cv, const struct backend_value *be)
{
	struct limpet_tcpopt opt = { .ts_ok = 1 };
	union synack_frame *frame;
	bool v6 = ck->family == LIMPET_FAMILY_V6;
	__u32 tcp_len, zero = 0;
	struct tcphdr *t;
	__u8 *opts;
	__u16 mss;

	frame = bpf_map_lookup_elem(&synack_scratch, &zero);
	if (!frame) {
		stat_inc(LIMPET_STAT_SYNCOOKIE_ERR);
		return XDP_DROP;
	}
	bind_frame_clear(frame, v6, &t, &opts);
	opt.sack_ok = !!(cv->bind.opts & LIMPET_BIND_SACK);
	opt.wscale = cv->bind.wscale;
	mss = limpet_cookie_mss(cv->bind.mss_index, v6);
	/* TSecr 0 (opt.tsval, echoed): nothing of the backend's seen yet. */
	tcp_len = LIMPET_TCP_HDR_MIN +
		  limpet_synack_options(opts, &opt, mss, cv->bind.wscale, cv->bind.syn_tsval);
	t->source = ck->sport;
	t->dest = be->port;
	t->seq = bpf_htonl(cv->bind.client_isn);
	((__u8 *)t)[12] = (__u8)(tcp_len / 4) << 4;
	((__u8 *)t)[13] = LIMPET_TCP_SYN | (cv->bind.opts & LIMPET_BIND_ECN ?
						    LIMPET_TCP_ECE | LIMPET_TCP_CWR : 0);
	t->window = bpf_htons(cv->bind.window);
	return bind_send_to_backend(ctx, frame, t, tcp_len, ck, be, LIMPET_STAT_HTTP_BIND_SYN);
}

/*
 * Give up binding connection <ck> to backend <be> (NULL: none is left to
 * name): both its entries and the held copy go, and so does the packet.
 */
static __always_inline int bind_forget(const struct flow_key *ck, const struct backend_value *be)
{
	struct flow_key bk;

	if (be) {
		bind_backend_key(&bk, ck, be);
		bpf_map_delete_elem(&flows, &bk);
	}
	bpf_map_delete_elem(&held_segments, ck);
	bpf_map_delete_elem(&flows, ck);
	stat_inc(LIMPET_STAT_HTTP_BIND_DROP);
	return XDP_DROP;
}

/*
 * Give the connection to the slow path: its pending entry, as synproxy.h
 * writes it for the first segment, in place of this code's; the held copy
 * and the backend's entry go.
 */
static __noinline void bind_to_slowpath(const struct flow_key *ck, const struct flow_value *cv,
					const struct flow_key *bk, __u64 now)
{
	__u32 zero = 0, service_id = cv->service_id, client_isn = cv->bind.client_isn;
	__u32 cookie_isn = cv->bind.cookie_isn;
	struct flow_value *fv;

	bpf_map_delete_elem(&flows, bk);
	bpf_map_delete_elem(&held_segments, ck);
	fv = bpf_map_lookup_elem(&flow_scratch, &zero);
	if (!fv) {
		bpf_map_delete_elem(&flows, ck);
		return;
	}
	__builtin_memset(fv, 0, sizeof(*fv));
	fv->atime_ns = now;
	fv->flags = LIMPET_FLOW_SLOWPATH;
	fv->service_id = service_id;
	fv->pending.client_isn = client_isn;
	fv->pending.cookie_isn = cookie_isn;
	bpf_map_update_elem(&flows, ck, fv, BPF_ANY);
	stat_inc(LIMPET_STAT_HTTP_BIND_FALLBACK);
}

/*
 * The backend of client entry <cv> refused or stayed silent: the next one
 * on the ring, the packet becoming its SYN; none left, the slow path's.
 * <to_slowpath>: hand the packet itself to the slow path then (a client
 * retransmission), else drop it (the backend's RST).
 */
static __noinline int bind_next(struct xdp_md *ctx, const struct flow_key *ck,
				struct flow_value *cv, __u64 now, bool to_slowpath)
{
	struct http_service_value *cfg;
	struct backend_value *be, *old;
	struct flow_value *bv;
	struct flow_key bk;
	__u32 id = cv->backend_id, zero = 0, service_id = cv->service_id;

	old = bpf_map_lookup_elem(&backends, &id);
	if (!old)
		return bind_forget(ck, NULL);
	bind_backend_key(&bk, ck, old);
	/* A session's backend refused: its failover mode is the slow path's
	 * to apply (it may move the session, re-issue its cookie or fail).
	 */
	cfg = bpf_map_lookup_elem(&http_services, &service_id);
	if (!cfg || cfg->affinity != LIMPET_AFFINITY_NONE || cv->bind.n_tried >= BIND_MAX_TRIED ||
	    bind_ring_walk(ck, false, service_id, cv->bind.tried, &id) < 0 ||
	    !(be = bpf_map_lookup_elem(&backends, &id))) {
		bind_to_slowpath(ck, cv, &bk, now);
		if (to_slowpath)
			return slowpath_redirect(ctx);
		stat_inc(LIMPET_STAT_HTTP_BIND_DROP);
		return XDP_DROP;
	}
	bpf_map_delete_elem(&flows, &bk);
	bv = bpf_map_lookup_elem(&flow_scratch, &zero);
	if (!bv)
		return XDP_DROP;
	__builtin_memset(bv, 0, sizeof(*bv));
	bv->atime_ns = now;
	bv->backend_id = id;
	bv->gen = be->gen;
	bv->service_id = cv->service_id;
	bv->flags = LIMPET_FLOW_XDP_BINDING | LIMPET_FLOW_RET;
	bv->vip = ck->dst;
	bv->vip_port = ck->dport;
	bind_backend_key(&bk, ck, be);
	bpf_map_update_elem(&flows, &bk, bv, BPF_ANY);

	cv->backend_id = id;
	cv->gen = be->gen;
	cv->bind.tried |= bind_bit(id);
	cv->bind.n_tried++;
	cv->bind.syn_ms = bind_now_ms(now);
	cv->atime_ns = now;
	return bind_send_syn(ctx, ck, cv, be);
}

/*
 * The first request segment <p> of a connection the cookie proved: bind
 * it here if this code can, else the slow path's pending entry, as
 * synproxy_pending() left it in the scratch maps.
 */
static __noinline int bind_first(struct xdp_md *ctx, const struct packet *p, __u64 now)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct limpet_tcpopt_parser *parser;
	struct http_service_value *cfg;
	struct limpet_tscookie tsc;
	struct held_segment *held;
	struct affinity_job *job;
	struct backend_value *be;
	struct tcphdr *tcp = p->l4;
	struct flow_value *fv;
	struct bind_work *w;
	bool preset;
	__u32 zero = 0, service_id, backend_id = 0, l4_off, th_len, len, client_isn, cookie_isn;
	__u16 window;

	w = bpf_map_lookup_elem(&bind_scratch, &zero);
	if (!affinity_scratch_get(&job, &fv) || !w)
		return XDP_DROP;
	service_id = fv->service_id;
	cfg = bpf_map_lookup_elem(&http_services, &service_id);
	flow_key_of(&w->ck, p);
	/* The head's route chose the backend (affinity.h), for this packet. */
	preset = job->bind_preset && job->service_id == service_id &&
		 flow_key_eq(&job->key, &w->ck);
	if (!cfg || !(bind_xdp(cfg) || preset) || fv->pending.syn || (void *)(tcp + 1) > data_end ||
	    (p->tcp_flags & (LIMPET_TCP_FIN | LIMPET_TCP_RST | LIMPET_TCP_SYN | 0x20 /* URG */)) ||
	    p->l3 != data + sizeof(struct ethhdr) || p->ip_len > BIND_HOLD_MAX)
		return affinity_commit(ctx);
	client_isn = bpf_ntohl(tcp->seq) - 1;
	cookie_isn = bpf_ntohl(tcp->ack_seq) - 1;
	window = bpf_ntohs(tcp->window);
	l4_off = (void *)tcp - data;
	th_len = tcp->doff * 4;
	parser = tcpopt_read(ctx, l4_off, th_len);
	if (!parser || !parser->opt.ts_ok)
		return affinity_commit(ctx);
	if (preset)
		backend_id = job->bind_backend;
	else if (bind_ring_walk(&w->ck, false, service_id, 0, &backend_id) < 0)
		return affinity_commit(ctx);
	be = bpf_map_lookup_elem(&backends, &backend_id);
	if (!be || be->state != LIMPET_BACKEND_ACTIVE || be->family != w->ck.family)
		return affinity_commit(ctx);

	held = bpf_map_lookup_elem(&held_scratch, &zero);
	if (!held)
		return affinity_commit(ctx);
	len = p->ip_len;
	if (bind_len_bounded(&len) ||
	    bpf_xdp_load_bytes(ctx, sizeof(struct ethhdr), held->data, len))
		return affinity_commit(ctx);
	held->len = len;
	if (bpf_map_update_elem(&held_segments, &w->ck, held, BPF_ANY))
		return affinity_commit(ctx);

	limpet_tscookie_decode(parser->opt.tsecr, cluster_ts_tag(), &tsc);
	__builtin_memset(fv, 0, sizeof(*fv));
	fv->atime_ns = now;
	fv->backend_id = backend_id;
	fv->gen = be->gen;
	fv->service_id = service_id;
	fv->flags = LIMPET_FLOW_XDP_BINDING | LIMPET_FLOW_RET;
	fv->vip = w->ck.dst;
	fv->vip_port = w->ck.dport;
	bind_backend_key(&w->bk, &w->ck, be);
	bpf_map_update_elem(&flows, &w->bk, fv, BPF_ANY);

	fv->flags = LIMPET_FLOW_XDP_BINDING;
	__builtin_memset(&fv->vip, 0, sizeof(fv->vip));
	fv->vip_port = 0;
	fv->bind.client_isn = client_isn;
	fv->bind.cookie_isn = cookie_isn;
	fv->bind.syn_tsval = limpet_ts_tag(parser->opt.tsval, cluster_ts_tag());
	fv->bind.our_tsval = parser->opt.tsecr;
	fv->bind.syn_ms = bind_now_ms(now);
	fv->bind.window = window;
	fv->bind.tried = bind_bit(backend_id);
	fv->bind.n_tried = 1;
	fv->bind.mss_index = tsc.mss_index;
	fv->bind.wscale = tsc.wscale;
	fv->bind.opts = (tsc.sack_ok ? LIMPET_BIND_SACK : 0) | (tsc.ecn_ok ? LIMPET_BIND_ECN : 0);
	bpf_map_update_elem(&flows, &w->ck, fv, BPF_ANY);
	return bind_send_syn(ctx, &w->ck, fv, be);
}

/*
 * A client segment while its connection is being bound: a retransmission
 * of the held segment sends the SYN again, or goes on to the next backend
 * after the connect timeout. An RST at the ISN + 1 gives up (nothing was
 * sent to the client in between). Anything else waits for the binding:
 * dropped, the client sends it again.
 */
static __noinline int bind_client_segment(struct xdp_md *ctx, const struct packet *p,
					  const struct flow_key *ck, struct flow_value *cv,
					  __u64 now)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct http_service_value *cfg;
	struct backend_value *be;
	struct tcphdr *tcp = p->l4;
	struct splice_seg seg;
	__u32 id = cv->backend_id, timeout = BIND_CONNECT_TIMEOUT_MS, service_id = cv->service_id;

	be = bpf_map_lookup_elem(&backends, &id);
	/* A binding nothing moved for this long was abandoned: its ports may
	 * open a new connection (whose SYN this drops; the next one passes).
	 */
	if (now - cv->atime_ns > BIND_ABANDONED_NS)
		return bind_forget(ck, be);
	if ((void *)(tcp + 1) > data_end || bpf_ntohl(tcp->seq) != cv->bind.client_isn + 1) {
		stat_inc(LIMPET_STAT_HTTP_BIND_DROP);
		return XDP_DROP;
	}
	if (p->tcp_flags & LIMPET_TCP_RST)
		return bind_forget(ck, be);
	if ((p->tcp_flags & (LIMPET_TCP_SYN | LIMPET_TCP_FIN)) || !(p->tcp_flags & LIMPET_TCP_ACK) ||
	    bpf_ntohl(tcp->ack_seq) != cv->bind.cookie_isn + 1 || splice_seg_of(ctx, p, &seg) < 0 ||
	    !seg.payload) {
		stat_inc(LIMPET_STAT_HTTP_BIND_DROP);
		return XDP_DROP;
	}
	cfg = bpf_map_lookup_elem(&http_services, &service_id);
	if (cfg && cfg->connect_timeout_ms)
		timeout = cfg->connect_timeout_ms;
	if (!be || be->gen != cv->gen || be->state != LIMPET_BACKEND_ACTIVE ||
	    bind_now_ms(now) - cv->bind.syn_ms >= timeout)
		return bind_next(ctx, ck, cv, now, true);
	cv->atime_ns = now;
	return bind_send_syn(ctx, ck, cv, be);
}

/*
 * Both entries of a connection just bound, as the slow path's
 * install_flows() writes them (<fv> is scratch), the held copy gone.
 */
static __always_inline void bind_install(const struct flow_key *ck, const struct flow_key *bk,
					 struct flow_value *fv, const struct bind_work *w,
					 __u32 id, __u32 gen, __u32 service_id, __u32 seq_next,
					 __u64 now)
{
	struct http_bind_counters *bound;
	struct http_service_value *cfg;

	__builtin_memset(fv, 0, sizeof(*fv));
	fv->atime_ns = now;
	fv->backend_id = id;
	fv->gen = gen;
	fv->service_id = service_id;
	fv->flags = LIMPET_FLOW_SPLICE | LIMPET_FLOW_RET;
	fv->vip = ck->dst;
	fv->vip_port = ck->dport;
	fv->sp = w->ret;
	bpf_map_update_elem(&flows, bk, fv, BPF_ANY);
	__builtin_memset(&fv->vip, 0, sizeof(fv->vip));
	fv->vip_port = 0;
	fv->flags = LIMPET_FLOW_SPLICE | LIMPET_FLOW_SEQ_NEXT;
	fv->sp = w->fwd;
	fv->seq_next = seq_next;
	bpf_map_update_elem(&flows, ck, fv, BPF_ANY);
	bpf_map_delete_elem(&held_segments, ck);
	stat_inc(LIMPET_STAT_HTTP_BOUND_XDP);
	bound = bpf_map_lookup_elem(&http_bind_stats, &service_id);
	cfg = bpf_map_lookup_elem(&http_services, &service_id);
	if (!bound)
		return;
	bound->bound_xdp++;
	/* Bound on a head read here (affinity_xdp_route()): the slow path,
	 * which counts the heads it decides on, never sees it.
	 */
	if (cfg && cfg->affinity == LIMPET_AFFINITY_COOKIE)
		bound->cookie_valid++;
	if (cfg && (cfg->affinity == LIMPET_AFFINITY_COOKIE ||
		    cfg->affinity == LIMPET_AFFINITY_HEADER))
		bound->heads_read++;
}

/*
 * The packet becomes the ACK completing the backend's handshake of the
 * connection bind_complete() left in the scratch: the client's ISN + 1,
 * its window field, its TSval and the backend's echoed.
 */
static __noinline int bind_send_ack(struct xdp_md *ctx)
{
	union synack_frame *frame;
	struct backend_value *be;
	struct bind_work *w;
	const struct flow_key *ck;
	__u32 tcp_len = LIMPET_TCP_HDR_MIN, zero = 0, id;
	struct tcphdr *t;
	__u8 *opts;
	bool v6;

	frame = bpf_map_lookup_elem(&synack_scratch, &zero);
	w = bpf_map_lookup_elem(&bind_scratch, &zero);
	if (!frame || !w)
		return XDP_DROP;
	id = w->backend_id;
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be)
		return XDP_DROP;
	ck = &w->ck;
	v6 = ck->family == LIMPET_FAMILY_V6;
	bind_frame_clear(frame, v6, &t, &opts);
	if (w->synack.ts_ok) {
		opts[0] = LIMPET_TCPOPT_NOP;
		opts[1] = LIMPET_TCPOPT_NOP;
		opts[2] = LIMPET_TCPOPT_TS;
		opts[3] = LIMPET_TCPOLEN_TS;
		limpet_put_be32(opts + 4, w->syn_tsval);
		limpet_put_be32(opts + 8, w->synack.tsval);
		tcp_len += 12;
	}
	t->source = ck->sport;
	t->dest = be->port;
	t->seq = bpf_htonl(w->client_isn + 1);
	t->ack_seq = bpf_htonl(w->synack_seq + 1);
	((__u8 *)t)[12] = (__u8)(tcp_len / 4) << 4;
	((__u8 *)t)[13] = LIMPET_TCP_ACK;
	t->window = bpf_htons(w->window);
	return bind_send_to_backend(ctx, frame, t, tcp_len, ck, be, LIMPET_STAT_HTTP_BIND_ACK);
}

/*
 * The backend's SYN-ACK <p> (options in <b>) for client entry <cv>: both
 * directions' translation and entries, as the slow path's bind_backend()
 * and install_flows() make them; then the packet becomes the held segment
 * and goes to the backend as lb_splice() sends an established client
 * segment: destination rewritten, TCP header translated.
 */
static __noinline int bind_complete(struct xdp_md *ctx, const struct flow_key *bk)
{
	struct held_segment *held;
	struct backend_value *be;
	struct flow_key *ck;
	struct flow_value *cv;
	struct bind_work *w;
	struct splice_seg seg;
	struct flow_value *fv;
	struct packet p = {};
	void *data_end;
	__u64 now = bpf_ktime_get_coarse_ns();
	__u32 zero = 0, len = 0, id, gen, service_id;
	int delta, rc;

	w = bpf_map_lookup_elem(&bind_scratch, &zero);
	if (!w)
		return XDP_DROP;
	ck = &w->ck;
	cv = bpf_map_lookup_elem(&flows, ck);
	if (!cv || !(cv->flags & LIMPET_FLOW_XDP_BINDING))
		return XDP_DROP;
	id = cv->backend_id;
	gen = cv->gen;
	service_id = cv->service_id;
	be = bpf_map_lookup_elem(&backends, &id);
	held = bpf_map_lookup_elem(&held_segments, ck);
	fv = bpf_map_lookup_elem(&flow_scratch, &zero);
	if (held)
		len = held->len;
	if (!be || be->gen != gen || !held || !fv || len < sizeof(struct iphdr) ||
	    len > BIND_HOLD_MAX) {
		bind_to_slowpath(ck, cv, bk, now);
		stat_inc(LIMPET_STAT_HTTP_BIND_DROP);
		return XDP_DROP;
	}
	limpet_splice_bind(&w->fwd, &w->ret, cv->bind.cookie_isn, true, cv->bind.our_tsval,
			   cv->bind.wscale, w->synack_seq, &w->synack, cluster_ts_tag());
	w->eth_proto = bpf_htons(ck->family == LIMPET_FAMILY_V6 ? ETH_P_IPV6 : ETH_P_IP);

	/* The frame becomes the held IP packet behind the Ethernet header. */
	if (bind_len_bounded(&len))
		return XDP_DROP;
	delta = (int)(sizeof(struct ethhdr) + len) - (int)(ctx->data_end - ctx->data);
	/* A small SYN-ACK's frame may have no tailroom (veth keeps the
	 * sender's skb): its headroom then.
	 */
	if (delta && bpf_xdp_adjust_tail(ctx, delta) &&
	    (delta < 0 || bpf_xdp_adjust_head(ctx, -delta))) {
		/*
		 * No room to grow into either: bound all the same, the
		 * backend's handshake completed by a bare ACK; the client's
		 * retransmission of its segment then goes through the
		 * translation like any other.
		 */
		w->backend_id = id;
		w->client_isn = cv->bind.client_isn;
		w->syn_tsval = cv->bind.syn_tsval;
		w->window = cv->bind.window;
		bind_install(ck, bk, fv, w, id, gen, service_id, w->client_isn + 1, now);
		return BIND_ACK;
	}
	if (bpf_xdp_store_bytes(ctx, offsetof(struct ethhdr, h_proto), &w->eth_proto,
				sizeof(w->eth_proto)) ||
	    bpf_xdp_store_bytes(ctx, sizeof(struct ethhdr), held->data, len) ||
	    parse_packet(ctx, &p) != PARSE_OK || p.proto != IPPROTO_TCP ||
	    splice_seg_of(ctx, &p, &seg) < 0) {
		bind_to_slowpath(ck, cv, bk, now);
		stat_inc(LIMPET_STAT_HTTP_BIND_DROP);
		return XDP_DROP;
	}
	/* Where the client's RST must be to end the connection (RFC 5961). */
	bind_install(ck, bk, fv, w, id, gen, service_id, seg.seq + seg.payload, now);

	if (splice_translate(ctx, &w->fwd, &seg) < 0) {
		stat_inc(LIMPET_STAT_DROP_MALFORMED);
		return XDP_DROP;
	}
	asm volatile("" : "+r"(ctx));
	data_end = (void *)(long)ctx->data_end;
	rc = nexthop_get(ctx, &p, data_end, &be->addr, NULL, now, &w->nh);
	nat_rewrite(&p, data_end, NAT_DST, &be->addr, be->port);
	counters_add(&service_stats, service_id, p.ip_len, true);
	counters_add(&backend_stats, id, p.ip_len, true);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS) {
		stat_inc(LIMPET_STAT_FIB_PASS);
		return XDP_PASS;
	}
	if (!ttl_ok(&p, data_end)) {
		stat_inc(LIMPET_STAT_DROP_TTL);
		return XDP_DROP;
	}
	ttl_decrement(&p, data_end);
	stat_inc(LIMPET_STAT_SPLICE_FWD);
	if ((void *)(p.eth + 1) > data_end)
		return XDP_DROP;
	__builtin_memcpy(p.eth->h_dest, w->nh.dmac, ETH_ALEN);
	__builtin_memcpy(p.eth->h_source, w->nh.smac, ETH_ALEN);
	return bpf_redirect(w->nh.out_ifindex, 0);
}

/*
 * A backend segment while its connection is being bound: the SYN-ACK to
 * our SYN binds it, an RST to it moves on. Anything else is dropped.
 */
static __noinline int bind_backend_segment(struct xdp_md *ctx, const struct packet *p,
					   const struct flow_key *bk, const struct flow_value *bv,
					   __u64 now)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct limpet_tcpopt_parser *parser;
	struct tcphdr *tcp = p->l4;
	struct flow_value *cv;
	struct bind_work *w;
	__u8 flags = p->tcp_flags;
	__u32 zero = 0;

	w = bpf_map_lookup_elem(&bind_scratch, &zero);
	if (!w || (void *)(tcp + 1) > data_end)
		goto drop;
	w->ck.src = bk->dst;
	w->ck.dst = bv->vip;
	w->ck.sport = bk->dport;
	w->ck.dport = bv->vip_port;
	w->ck.proto = IPPROTO_TCP;
	w->ck.family = bk->family;
	w->ck.pad = 0;
	cv = bpf_map_lookup_elem(&flows, &w->ck);
	if (!cv || (cv->flags & (LIMPET_FLOW_XDP_BINDING | LIMPET_FLOW_RET)) !=
			   LIMPET_FLOW_XDP_BINDING || cv->backend_id != bv->backend_id)
		goto drop;
	/* Only what answers our SYN: it acknowledges the client's ISN. */
	if (!(flags & LIMPET_TCP_ACK) || bpf_ntohl(tcp->ack_seq) != cv->bind.client_isn + 1)
		goto drop;
	if (flags & LIMPET_TCP_RST)
		return BIND_NEXT;
	if ((flags & (LIMPET_TCP_SYN | LIMPET_TCP_FIN)) != LIMPET_TCP_SYN)
		goto drop;
	w->synack_seq = bpf_ntohl(tcp->seq);
	parser = tcpopt_read(ctx, (__u32)((void *)tcp - data), tcp->doff * 4);
	if (!parser)
		goto drop;
	w->synack = parser->opt;
	return BIND_COMPLETE;
drop:
	stat_inc(LIMPET_STAT_HTTP_BIND_DROP);
	return XDP_DROP;
}

/*
 * limpet_affinity: read the first request head (affinity.h); when it
 * decides a backend the data plane may bind to, limpet_bind binds it, else
 * the slow path takes the segment with what the head said.
 */
static __always_inline int bind_after_head(struct xdp_md *ctx)
{
	struct affinity_job *job;
	struct flow_value *fv;

	if (!affinity_scratch_get(&job, &fv))
		return XDP_DROP;
	affinity_read_head(ctx, job, fv);
	if (!affinity_xdp_route(job, fv)) {
		bpf_tail_call(ctx, &bind_progs, BIND_PROG_SLOT);
		job->bind_preset = 0;	/* no binding program: the slow path's */
	}
	return affinity_commit_entry(ctx, job, fv);
}

/* limpet_bind: a first request segment, or a segment of a binding. */
static __always_inline int bind_process(struct xdp_md *ctx)
{
	struct packet p = {};
	struct flow_value *fv;
	struct flow_key key;
	__u64 now = bpf_ktime_get_coarse_ns();

	if (parse_packet(ctx, &p) != PARSE_OK || p.proto != IPPROTO_TCP) {
		stat_inc(LIMPET_STAT_DROP_MALFORMED);
		return XDP_DROP;
	}
	flow_key_of(&key, &p);
	fv = bpf_map_lookup_elem(&flows, &key);
	if (!fv) {
		bind_client_ip(&key);
		return bind_first(ctx, &p, now);
	}
	if (!(fv->flags & LIMPET_FLOW_XDP_BINDING)) {
		stat_inc(LIMPET_STAT_HTTP_BIND_DROP);
		return XDP_DROP;
	}
	if (fv->flags & LIMPET_FLOW_RET) {
		int rc = bind_backend_segment(ctx, &p, &key, fv, now);
		struct bind_work *w;
		__u32 zero = 0;

		if (rc == BIND_COMPLETE) {
			rc = bind_complete(ctx, &key);
			return rc == BIND_ACK ? bind_send_ack(ctx) : rc;
		}
		if (rc != BIND_NEXT)
			return rc;
		w = bpf_map_lookup_elem(&bind_scratch, &zero);
		fv = w ? bpf_map_lookup_elem(&flows, &w->ck) : NULL;
		if (!w || !fv)
			return XDP_DROP;
		return bind_next(ctx, &w->ck, fv, now, false);
	}
	return bind_client_segment(ctx, &p, &key, fv, now);
}

#endif /* LIMPET_BPF_BIND_H */
