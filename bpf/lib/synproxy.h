/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * synproxy.h - the SYN-cookie front end of HTTP services.
 *
 * An HTTP service picks its backend from the first request, not from the
 * SYN, so the balancer completes the TCP handshake itself and keeps no
 * state doing it. A SYN is answered with a SYN-ACK built in place and sent
 * back out of its interface (XDP_REDIRECT). Its ISN is the kernel's SYN cookie
 * (bpf_tcp_raw_gen_syncookie_*: keyed by a per-boot secret, carrying the
 * MSS, valid for at least one and at most two minutes); its TSval carries
 * the client's window scale, SACK and ECN (include/limpet_tcpopt.h).
 *
 * A client segment with no flow that acknowledges cookie + 1 completes such
 * a handshake (bpf_tcp_raw_check_syncookie_*, which checks ack - 1 against
 * the addresses, ports and seq - 1). A bare ACK needs nothing until data
 * arrives: the client believes it is connected, and its first data segment
 * will prove the handshake again. That first data segment is the slow
 * path's, which binds the connection. Everything else for an HTTP VIP
 * without a flow (RST, FIN, forged or expired ACKs) is dropped and counted:
 * no segment of an HTTP VIP reaches the kernel's own stack.
 *
 * Only segments without a flow to an HTTP VIP come here; L4 services never
 * do. The client's checksums are verified before a SYN is answered (that of
 * a SYN carrying data, as TCP Fast Open does, only over the IP header: its
 * data is neither acknowledged nor kept); an ACK needs no check here, since
 * nothing of it is used beyond its cookie.
 */
#ifndef LIMPET_BPF_SYNPROXY_H
#define LIMPET_BPF_SYNPROXY_H

#include "parse.h"
#include "stats.h"
#include "limpet_csum.h"
#include "iphdr.h"
#include "limpet_tcpopt.h"
#include "tcpopt.h"
#include "cluster.h"
#include "splice.h"
#include "affinity.h"

/* synproxy_process(): read the request head first (see synproxy_pending). */
#define SYNPROXY_READ_HEAD (-1)
/* synproxy_process(): the data plane may bind it itself (bpf/lib/bind.h). */
#define SYNPROXY_BIND (-2)

/* Our side of the handshake. A SYN-ACK's window is never scaled (RFC 7323
 * 2.2), so the largest one it can announce; the shift we announce for
 * later windows allows 8 MiB, as Linux's default buffers do.
 */
#define SYNPROXY_WINDOW 65535
#define SYNPROXY_NSEC_PER_MSEC 1000000ULL

/* A SYN-ACK as it is assembled on the stack, then stored over the frame. The
 * leading pad puts the IP header on a 4-byte boundary; the TCP header and
 * its options are contiguous, one checksum run.
 */
struct synack4 {
	__u16 align;
	struct ethhdr eth;
	struct iphdr ip;
	struct tcphdr tcp;
	__u8 opts[LIMPET_SYNACK_OPT_MAX];
};

struct synack6 {
	__u16 align;
	struct ethhdr eth;
	struct ipv6hdr ip;
	struct tcphdr tcp;
	__u8 opts[LIMPET_SYNACK_OPT_MAX];
};

_Static_assert(__builtin_offsetof(struct synack4, opts) ==
		       __builtin_offsetof(struct synack4, tcp) + sizeof(struct tcphdr),
	       "synack4: options follow the TCP header");
_Static_assert(__builtin_offsetof(struct synack6, opts) ==
		       __builtin_offsetof(struct synack6, tcp) + sizeof(struct tcphdr),
	       "synack6: options follow the TCP header");

/* The SYN-ACK is assembled here, off the stack, which is short. */
union synack_frame {
	struct synack4 v4;
	struct synack6 v6;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union synack_frame);
} synack_scratch SEC(".maps");

static __always_inline int synproxy_verdict(__u32 stat, int verdict)
{
	stat_inc(stat);
	return verdict;
}

/*
 * The TCP pseudo-header of a segment of <l4_len> bytes from <src> to <dst>,
 * as raw network-order words (limpet_csum.h: the sum does not care about
 * byte order as long as every term is taken the same way).
 */
static __always_inline __u64 synproxy_pseudo_sum(const struct limpet_addr *src,
						 const struct limpet_addr *dst, bool v6,
						 __u32 l4_len)
{
	__u64 sum = bpf_htons(IPPROTO_TCP);

	sum += bpf_htons((__u16)l4_len);
	sum += src->a[0];
	sum += dst->a[0];
	if (v6) {
		sum += src->a[1];
		sum += src->a[2];
		sum += src->a[3];
		sum += dst->a[1];
		sum += dst->a[2];
		sum += dst->a[3];
	}
	return sum;
}

/*
 * The TCP header of the SYN-ACK answering <in>, whose options the client's
 * SYN offered as <opt>. Returns its length, options included.
 */
static __always_inline __u32 synproxy_tcp(struct tcphdr *t, __u8 *opts, const struct tcphdr *in,
					  __u8 in_flags, __u32 isn, __u16 mss,
					  const struct limpet_tcpopt *opt, __u64 now, bool v6)
{
	/* ECN is agreed as the kernel does (RFC 3168 6.1.1), only when the
	 * cookie can remember it.
	 */
	bool ecn = opt->ts_ok && (in_flags & (LIMPET_TCP_ECE | LIMPET_TCP_CWR)) ==
					 (LIMPET_TCP_ECE | LIMPET_TCP_CWR);
	__u32 tsval = limpet_tscookie_encode(now / SYNPROXY_NSEC_PER_MSEC, opt, ecn,
					     limpet_cookie_mss_index(mss, v6), cluster_ts_tag());
	__u32 len = LIMPET_TCP_HDR_MIN + limpet_synack_options(opts, opt, mss, LIMPET_OUR_WSCALE,
								tsval);

	t->source = in->dest;
	t->dest = in->source;
	t->seq = bpf_htonl(isn);
	t->ack_seq = bpf_htonl(bpf_ntohl(in->seq) + 1);
	((__u8 *)t)[12] = (__u8)(len / 4) << 4;
	((__u8 *)t)[13] = LIMPET_TCP_SYN | LIMPET_TCP_ACK | (ecn ? LIMPET_TCP_ECE : 0);
	t->window = bpf_htons(SYNPROXY_WINDOW);
	t->check = 0;
	t->urg_ptr = 0;
	return len;
}

/* Make the frame exactly <len> bytes and write <frame> over it. */
static __always_inline int frame_replace(struct xdp_md *ctx, const void *frame, __u32 len)
{
	int delta = (int)len - (int)(ctx->data_end - ctx->data);

	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	if (bpf_xdp_store_bytes(ctx, 0, (void *)frame, len))
		return -1;
	return 0;
}

/* The SYN-ACK <frame> of <len> bytes in place of the SYN, back where it came from. */
static __always_inline int synproxy_send(struct xdp_md *ctx, const void *frame, __u32 len)
{
	if (frame_replace(ctx, frame, len))
		return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_ERR, XDP_DROP);
	/* Back out of its interface. Through the redirect path, not XDP_TX:
	 * on veth (kernel 6.18) XDP_TX frames stop reaching the peer once an
	 * AF_XDP socket is bound to the receiving queue.
	 */
	return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_SENT, bpf_redirect(ctx->ingress_ifindex, 0));
}

static __always_inline int synproxy_synack4(struct xdp_md *ctx, const struct packet *p,
					    const struct ethhdr *eth, const struct tcphdr *in,
					    __u32 isn, __u16 mss,
					    const struct limpet_tcpopt *opt, __u64 now)
{
	union synack_frame *frame;
	struct synack4 *h;
	__u32 tcp_len, zero = 0;

	frame = bpf_map_lookup_elem(&synack_scratch, &zero);
	if (!frame)
		return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_ERR, XDP_DROP);
	h = &frame->v4;
	__builtin_memset(h, 0, sizeof(*h));

	__builtin_memcpy(h->eth.h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(h->eth.h_source, eth->h_dest, ETH_ALEN);
	h->eth.h_proto = bpf_htons(ETH_P_IP);

	tcp_len = synproxy_tcp(&h->tcp, h->opts, in, p->tcp_flags, isn, mss, opt, now, false);
	h->tcp.check = csum_buf(&h->tcp, tcp_len,
				    synproxy_pseudo_sum(&p->dst, &p->src, false, tcp_len));

	iphdr_write4(&h->ip, p->dst.a[0], p->src.a[0], IPPROTO_TCP, tcp_len, true);

	return synproxy_send(ctx, &h->eth, sizeof(h->eth) + sizeof(h->ip) + tcp_len);
}

static __always_inline int synproxy_synack6(struct xdp_md *ctx, const struct packet *p,
					    const struct ethhdr *eth, const struct tcphdr *in,
					    __u32 isn, __u16 mss,
					    const struct limpet_tcpopt *opt, __u64 now)
{
	union synack_frame *frame;
	struct synack6 *h;
	__u32 tcp_len, zero = 0;

	frame = bpf_map_lookup_elem(&synack_scratch, &zero);
	if (!frame)
		return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_ERR, XDP_DROP);
	h = &frame->v6;
	__builtin_memset(h, 0, sizeof(*h));

	__builtin_memcpy(h->eth.h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(h->eth.h_source, eth->h_dest, ETH_ALEN);
	h->eth.h_proto = bpf_htons(ETH_P_IPV6);

	tcp_len = synproxy_tcp(&h->tcp, h->opts, in, p->tcp_flags, isn, mss, opt, now, true);
	h->tcp.check = csum_buf(&h->tcp, tcp_len,
				    synproxy_pseudo_sum(&p->dst, &p->src, true, tcp_len));

	iphdr_write6(&h->ip, &p->dst, &p->src, IPPROTO_TCP, tcp_len);

	return synproxy_send(ctx, &h->eth, sizeof(h->eth) + sizeof(h->ip) + tcp_len);
}

/* The counter of limpet's own cookies: the coarse clock, 64-second steps. */
static __always_inline __u32 synproxy_own_count(__u64 now)
{
	return limpet_syncookie_count(now);
}

/*
 * limpet's own cookie (include/limpet_syncookie.h) for the SYN <in> of
 * <p>, whose options are <opt>: its ISN, and in <mss> the MSS it keeps.
 * Negative when there is no secret yet.
 */
static __always_inline __s64 synproxy_own_cookie(const struct packet *p, const struct tcphdr *in,
						 const struct limpet_tcpopt *opt, __u64 now,
						 __u16 *mss)
{
	struct limpet_syncookie_opts o;
	struct limpet_syncookie_key *key;
	bool v6 = p->family == LIMPET_FAMILY_V6;
	__u32 zero = 0;

	key = bpf_map_lookup_elem(&syn_secret, &zero);
	if (!key || (!key->k0 && !key->k1))
		return -1;
	/* Without an MSS option the kernel's default, 536. */
	o.mss_index = limpet_cookie_mss_index(opt->mss ? opt->mss : 536, v6);
	o.wscale = opt->wscale;
	o.sack_ok = opt->sack_ok;
	*mss = limpet_cookie_mss(o.mss_index, v6);
	stat_inc(LIMPET_STAT_SYNCOOKIE_OWN);
	return limpet_syncookie_make(key, p->src.a, p->dst.a, in->source, in->dest,
				     bpf_ntohl(in->seq), synproxy_own_count(now), &o, cluster_ts_tag());
}

/*
 * Does <p> complete a handshake of limpet's own cookie? Then 0 and, in
 * <syn>, LIMPET_PENDING_OWN_COOKIE with the options it kept.
 */
static __always_inline int synproxy_own_cookie_ok(const struct packet *p, void *data_end,
						  __u64 now, __u8 *syn)
{
	struct limpet_syncookie_opts o;
	struct limpet_syncookie_key *key;
	struct tcphdr *tcp = p->l4;
	__u32 zero = 0;

	if ((void *)(tcp + 1) > data_end)
		return -1;
	key = bpf_map_lookup_elem(&syn_secret, &zero);
	if (!key || (!key->k0 && !key->k1))
		return -1;
	if (limpet_syncookie_check(key, p->src.a, p->dst.a, tcp->source, tcp->dest,
				   bpf_ntohl(tcp->seq) - 1, bpf_ntohl(tcp->ack_seq) - 1,
				   synproxy_own_count(now), &o, cluster_ts_tag()))
		return -1;
	*syn = LIMPET_PENDING_OWN_COOKIE |
	       (__u8)limpet_syncookie_data(&o);
	return 0;
}

/*
 * A SYN: answer it with a cookie. The client's TCP header (<th_len> bytes
 * at <l4_off>, <seg_len> with data) is copied to tcpopt_scratch, where the
 * cookie helper and the option parser read it whatever the frame's length;
 * the reply is assembled in synack_scratch before it replaces the frame.
 */
static __always_inline int synproxy_syn(struct xdp_md *ctx, const struct packet *p,
					__u32 l3_len, __u32 l4_off, __u32 th_len, __u32 seg_len,
					__u64 now)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct limpet_tcpopt_parser *parser;
	const struct tcphdr *in;
	struct ethhdr *eth = p->eth;
	bool v6 = p->family == LIMPET_FAMILY_V6;
	__u32 zero = 0;
	__s64 cookie;
	__u16 mss = 0;

	parser = bpf_map_lookup_elem(&tcpopt_scratch, &zero);
	if (!parser)
		return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_ERR, XDP_DROP);
	in = (const void *)parser->buf;
	if (!v6) {
		/* The IPv4 header first, through the same buffer. */
		if (bpf_xdp_load_bytes(ctx, sizeof(*eth), parser->buf, l3_len))
			return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_ERR, XDP_DROP);
		if (csum_buf(parser->buf, l3_len, 0) != 0)
			return synproxy_verdict(LIMPET_STAT_DROP_MALFORMED, XDP_DROP);
	}
	if (bpf_xdp_load_bytes(ctx, l4_off, parser->buf, th_len))
		return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_ERR, XDP_DROP);
	if (seg_len == th_len &&
	    csum_buf(parser->buf, th_len, synproxy_pseudo_sum(&p->src, &p->dst, v6, th_len)))
		return synproxy_verdict(LIMPET_STAT_DROP_MALFORMED, XDP_DROP);

	parser->off = LIMPET_TCP_HDR_MIN;
	parser->end = th_len;
	limpet_tcpopt_init(&parser->opt);
	bpf_loop(LIMPET_TCPOPT_MAX_STEPS, tcpopt_step, &parser, 0);

	if ((void *)(eth + 1) > data_end)
		return synproxy_verdict(LIMPET_STAT_DROP_MALFORMED, XDP_DROP);
	if (!parser->opt.ts_ok) {
		/* No timestamps to keep the options in: limpet's own cookie. */
		cookie = synproxy_own_cookie(p, in, &parser->opt, now, &mss);
	} else if (v6) {
		struct ipv6hdr *ip6h = p->l3;

		if ((void *)(ip6h + 1) > data_end)
			return synproxy_verdict(LIMPET_STAT_DROP_MALFORMED, XDP_DROP);
		cookie = bpf_tcp_raw_gen_syncookie_ipv6(ip6h, (void *)parser->buf, th_len);
	} else {
		struct iphdr *iph = p->l3;

		if ((void *)(iph + 1) > data_end)
			return synproxy_verdict(LIMPET_STAT_DROP_MALFORMED, XDP_DROP);
		cookie = bpf_tcp_raw_gen_syncookie_ipv4(iph, (void *)parser->buf, th_len);
	}
	if (cookie < 0)
		return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_ERR, XDP_DROP);
	/* The MSS the cookie encodes: the client's, rounded down to the
	 * kernel's table (536 when it sent none). We announce it as ours.
	 */
	if (parser->opt.ts_ok)
		mss = (__u16)(cookie >> 32);

	if (v6)
		return synproxy_synack6(ctx, p, eth, in, (__u32)cookie, mss, &parser->opt, now);
	return synproxy_synack4(ctx, p, eth, in, (__u32)cookie, mss, &parser->opt, now);
}

/* Does <p> acknowledge a cookie we sent (ack - 1, for its seq - 1)? */
static __always_inline bool synproxy_cookie_ok(const struct packet *p, void *data_end)
{
	struct tcphdr *tcp = p->l4;

	if ((void *)(tcp + 1) > data_end)
		return false;
	if (p->family == LIMPET_FAMILY_V6) {
		struct ipv6hdr *ip6h = p->l3;

		if ((void *)(ip6h + 1) > data_end)
			return false;
		return bpf_tcp_raw_check_syncookie_ipv6(ip6h, tcp) == 0;
	} else {
		struct iphdr *iph = p->l3;

		if ((void *)(iph + 1) > data_end)
			return false;
		return bpf_tcp_raw_check_syncookie_ipv4(iph, tcp) == 0;
	}
}

/* Record the connection <p> opens as the slow path's. */
/*
 * The first request segment of a connection the cookie proved: its pending
 * entry, in the scratch maps. Returns SYNPROXY_READ_HEAD when the head
 * must be read first (cookie and header affinity: lb_process() tail-calls
 * limpet_affinity), SYNPROXY_BIND when the data plane may bind it itself
 * (lb_process() tail-calls limpet_bind), else commits it and hands the
 * segment to the slow path.
 */
static __always_inline int synproxy_pending(struct xdp_md *ctx, const struct packet *p,
					    const struct vip_value *vip, __u32 payload_off,
					    __u32 payload_len, __u64 now, __u8 syn)
{
	struct tcphdr *tcp = p->l4;
	struct affinity_job *job;
	struct flow_value *fv;

	if (!affinity_scratch_get(&job, &fv))
		return XDP_DROP;
	__builtin_memset(fv, 0, sizeof(*fv));
	fv->atime_ns = now;
	fv->flags = LIMPET_FLOW_SLOWPATH;
	fv->service_id = vip->service_id;
	fv->pending.client_isn = bpf_ntohl(tcp->seq) - 1;
	fv->pending.cookie_isn = bpf_ntohl(tcp->ack_seq) - 1;
	fv->pending.syn = syn;
	flow_key_of(&job->key, p);
	job->payload_off = payload_off;
	job->payload_len = payload_len;
	job->service_id = vip->service_id;
	job->head_read = vip->head_read;
	job->bind_preset = 0;
	if (vip->head_read != LIMPET_HEAD_READ_NONE)
		return SYNPROXY_READ_HEAD;
	/* A timestamp cookie's connection, sent as one segment: bind.h
	 * decides whether it binds it (else it commits this entry).
	 */
	if (!syn && !(p->tcp_flags & (LIMPET_TCP_FIN | LIMPET_TCP_RST)))
		return SYNPROXY_BIND;
	return affinity_commit_entry(ctx, job, fv);
}

/* A TCP segment with no flow to an HTTP VIP. */
static __noinline int synproxy_process(struct xdp_md *ctx, const struct packet *p,
					const struct vip_value *vip, __u64 now)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *tcp = p->l4;
	__u8 flags = p->tcp_flags;
	__u32 l3_len, th_len, seg_len;
	__u8 syn = 0;

	if ((void *)(tcp + 1) > data_end)
		return synproxy_verdict(LIMPET_STAT_DROP_MALFORMED, XDP_DROP);
	if (p->family == LIMPET_FAMILY_V6) {
		l3_len = sizeof(struct ipv6hdr);
	} else {
		struct iphdr *iph = p->l3;

		if ((void *)(iph + 1) > data_end)
			return synproxy_verdict(LIMPET_STAT_DROP_MALFORMED, XDP_DROP);
		l3_len = iph->ihl * 4;
	}
	/* parse.h checked the IP lengths against the frame, not the TCP
	 * header length against the segment: options cut short are malformed.
	 */
	th_len = tcp->doff * 4;
	seg_len = p->ip_len - l3_len;
	if (l3_len < sizeof(struct iphdr) || th_len < LIMPET_TCP_HDR_MIN || th_len > seg_len ||
	    p->ip_len < l3_len)
		return synproxy_verdict(LIMPET_STAT_DROP_MALFORMED, XDP_DROP);

	if (flags & LIMPET_TCP_RST)
		return synproxy_verdict(LIMPET_STAT_HTTP_NO_CONN, XDP_DROP);
	if (flags & LIMPET_TCP_SYN) {
		/* A SYN-ACK or a SYN-FIN opens nothing. */
		if (flags & (LIMPET_TCP_ACK | LIMPET_TCP_FIN))
			return synproxy_verdict(LIMPET_STAT_HTTP_NO_CONN, XDP_DROP);
		return synproxy_syn(ctx, p, l3_len, sizeof(struct ethhdr) + l3_len, th_len,
				    seg_len, now);
	}
	/* A FIN before any data closes a connection no backend ever saw. */
	if (!(flags & LIMPET_TCP_ACK) || (seg_len == th_len && (flags & LIMPET_TCP_FIN)))
		return synproxy_verdict(LIMPET_STAT_HTTP_NO_CONN, XDP_DROP);

	if (!synproxy_cookie_ok(p, data_end) && synproxy_own_cookie_ok(p, data_end, now, &syn))
		return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_BAD, XDP_DROP);
	if (seg_len == th_len)
		return synproxy_verdict(LIMPET_STAT_SYNCOOKIE_ACK_OK, XDP_DROP);
	/*
	 * Request data of a connection we accepted: the slow path takes it,
	 * chooses the backend from the request and opens the backend's side.
	 * Every data segment that arrives before the binding is in place
	 * comes here too: this entry sends them, and tells the slow path the
	 * handshake the cookie proved (a later segment's seq is not the ISN).
	 */
	return synproxy_pending(ctx, p, vip,
				(__u32)((void *)tcp - (void *)(long)ctx->data) + th_len,
				seg_len - th_len, now, syn);
}

#endif /* LIMPET_BPF_SYNPROXY_H */
