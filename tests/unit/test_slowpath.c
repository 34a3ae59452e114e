/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_slowpath.c - Criterion tests of user/slowpath.c, the delayed-binding
 * state machine, through its public API with fake struct slowpath_ops.
 *
 * The fakes record every packet sent (parsed back with segment_parse()
 * behind a made-up Ethernet header, so checksums are checked too; bare
 * ACKs from the VIP to the client, which acknowledge held request bytes,
 * on a list of their own, so each scenario counts the rest), keep
 * the flow table in an array, and pick backends from a list, skipping the
 * ones tried. Segments go in the way the AF_XDP path hands them over:
 * built with segment_header()/segment_build(), parsed with
 * segment_parse(). Every scenario asserts the exact fields the data plane
 * and the peers depend on: sequence and ack numbers, flags, options,
 * payload bytes and the flow entries' translation.
 */
#define _GNU_SOURCE	/* memmem */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include <criterion/criterion.h>

#include "limpet_tcpopt.h"
#include "base/log.h"
#include "http/segment.h"
#include "http/slowpath.h"

#define CISN 0x11223344u	/* the client's ISN */
/* Our ISN toward the client (F.cookie) unless a test sets another: the
 * response crosses 2^32 within its first 64 bytes.
 */
#define COOKIE_NEAR_WRAP 0xffffffc0u
#define BISN 0x70000000u	/* the backends' */
#define CTS 5000u		/* the client's TSval */
#define BTS 900000u		/* the backends' TSval on their SYN-ACK */
#define CWIN 502		/* the client's window field */
#define COOKIE_CLOCK 0x12345600u

#define ETH_HLEN 14
#define MAX_SENT 64
#define MAX_FLOWS 16
#define MAX_BE 3

static const char REQUEST[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
#define REQ_LEN ((__u32)sizeof(REQUEST) - 1)

/* ---- fakes ---- */

struct ep {
	struct limpet_addr addr;
	__be16 port;
};

struct sent {
	__u8 family;
	__u8 frame[ETH_HLEN + SEG_PACKET_MAX + LIMPET_TCP_HDR_MAX];
	size_t len;	/* of the IP packet, at frame + ETH_HLEN */
	struct segment seg;
};

struct flow {
	bool used;
	struct flow_key key;
	struct flow_value val;
};

static struct {
	__u8 family;
	struct ep client, vip, be[MAX_BE];
	struct slowpath_backend backends[MAX_BE];
	int n_backends;
	struct slowpath_service svc;
	struct sent sent[MAX_SENT];
	int n_sent;
	struct sent acks[MAX_SENT];	/* bare ACKs to the client */
	int n_acks;
	struct flow flows[MAX_FLOWS];
	int picks;
	bool need_head;		/* pick() waits for the blank line ending the head */
	__u32 head_len;		/* what the last pick() was shown */
	bool head_final;
	bool issue_cookie;
	int retry_issue;	/* >= 0: what a retry's pick says on the cookie */
	__u32 our_ts;		/* the cookie TSval the client echoes */
	__u32 client_mss;	/* what the cookie says */
	__u32 cookie;		/* our ISN toward the client */
} F;

static void frame_eth(__u8 *frame, __u8 family)
{
	memset(frame, 0, ETH_HLEN);
	frame[12] = family == LIMPET_FAMILY_V6 ? 0x86 : 0x08;
	frame[13] = family == LIMPET_FAMILY_V6 ? 0xdd : 0x00;
}

static int fake_send(void *ctx, __u8 family, const void *pkt, size_t len)
{
	struct sent tmp, *s;

	cr_assert_leq(len, SEG_PACKET_MAX);
	cr_assert_eq(family, F.family);
	tmp.family = family;
	tmp.len = len;
	frame_eth(tmp.frame, family);
	memcpy(tmp.frame + ETH_HLEN, pkt, len);
	cr_assert_eq(segment_parse(tmp.frame, ETH_HLEN + len, &tmp.seg), 0,
		     "packet %d sent does not parse", F.n_sent + F.n_acks);
	if (tmp.seg.flags == LIMPET_TCP_ACK && !tmp.seg.payload_len &&
	    !memcmp(&tmp.seg.src, &F.vip.addr, sizeof(tmp.seg.src))) {
		cr_assert_lt(F.n_acks, MAX_SENT, "too many ACKs sent");
		s = &F.acks[F.n_acks++];
	} else {
		cr_assert_lt(F.n_sent, MAX_SENT, "too many packets sent");
		s = &F.sent[F.n_sent++];
	}
	*s = tmp;
	/* The parsed payload points into the frame: into its copy now. */
	s->seg.payload = s->frame + (tmp.seg.payload - tmp.frame);
	return 0;
}

static struct flow *flow_find(const struct flow_key *key)
{
	int i;

	for (i = 0; i < MAX_FLOWS; i++)
		if (F.flows[i].used && !memcmp(&F.flows[i].key, key, sizeof(*key)))
			return &F.flows[i];
	return NULL;
}

static int fake_flow_get(void *ctx, const struct flow_key *key, struct flow_value *val)
{
	struct flow *f = flow_find(key);

	if (!f)
		return -ENOENT;
	*val = f->val;
	return 0;
}

static int fake_flow_set(void *ctx, const struct flow_key *key, const struct flow_value *val)
{
	struct flow *f = flow_find(key);
	int i;

	for (i = 0; !f && i < MAX_FLOWS; i++)
		if (!F.flows[i].used)
			f = &F.flows[i];
	cr_assert(f, "flow table full");
	f->used = true;
	f->key = *key;
	f->val = *val;
	return 0;
}

static int fake_flow_del(void *ctx, const struct flow_key *key)
{
	struct flow *f = flow_find(key);

	if (!f)
		return -ENOENT;
	f->used = false;
	return 0;
}

static bool head_ended(const __u8 *head, __u32 len)
{
	__u32 i;

	for (i = 0; i + 4 <= len; i++)
		if (!memcmp(head + i, "\r\n\r\n", 4))
			return true;
	return false;
}

static int fake_pick(void *ctx, const struct slowpath_request *req, const __u32 *tried,
		     size_t n_tried, struct slowpath_backend *out, struct slowpath_service *svc,
		     struct slowpath_cookie *cookie)
{
	const struct segment *first = req->first;
	int i;
	size_t j;

	F.picks++;
	F.head_len = req->head_len;
	F.head_final = req->head_final;
	cr_assert(req->pending && (req->pending->flags & LIMPET_FLOW_SLOWPATH));
	if (F.need_head && !req->head_final && !head_ended(req->head, req->head_len))
		return -EAGAIN;
	cookie->issue = F.issue_cookie;
	if (n_tried && F.retry_issue >= 0)
		cookie->issue = F.retry_issue;
	cookie->session = 0x1234;
	/* Always the connection's own first segment. */
	cr_assert(!memcmp(&first->src, &F.client.addr, sizeof(first->src)));
	cr_assert(!memcmp(&first->dst, &F.vip.addr, sizeof(first->dst)));
	cr_assert_eq(first->dport, F.vip.port);
	for (i = 0; i < F.n_backends; i++) {
		for (j = 0; j < n_tried; j++)
			if (tried[j] == F.backends[i].id)
				break;
		if (j < n_tried)
			continue;
		*out = F.backends[i];
		*svc = F.svc;
		return 0;
	}
	return -ENOENT;
}

static size_t fake_cookie_line(void *ctx, const struct slowpath_backend *be,
			       const struct slowpath_cookie *cookie, char *buf, size_t size)
{
	int n = snprintf(buf, size, "Set-Cookie: s=%llx-%s\r\n",
			 (unsigned long long)cookie->session, be->name);

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* ---- set-up ---- */

static struct limpet_addr addr_of(__u8 family, __u8 last)
{
	struct limpet_addr a;

	memset(&a, 0, sizeof(a));
	if (family == LIMPET_FAMILY_V6) {
		__u8 b[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last };

		memcpy(&a, b, 16);
	} else {
		__u8 b[4] = { 10, 0, last >= 100 ? 0 : 1, last };

		memcpy(&a.a[0], b, 4);
	}
	return a;
}

static struct flow_key key_of(const struct ep *src, const struct ep *dst)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	k.src = src->addr;
	k.dst = dst->addr;
	k.sport = src->port;
	k.dport = dst->port;
	k.proto = 6;
	k.family = F.family;
	return k;
}

static struct flow_value *flow_at(const struct ep *src, const struct ep *dst)
{
	struct flow_key k = key_of(src, dst);
	struct flow *f = flow_find(&k);

	return f ? &f->val : NULL;
}

/* The entry the data plane makes when the cookie handshake completes. */
static void add_pending(void)
{
	struct flow_value v = { .flags = LIMPET_FLOW_SLOWPATH, .service_id = 7 };
	struct flow_key k = key_of(&F.client, &F.vip);

	v.pending.client_isn = CISN;
	v.pending.cookie_isn = F.cookie;
	fake_flow_set(NULL, &k, &v);
}

/* Another cookie ISN, before the first segment. */
static void set_cookie(__u32 isn)
{
	F.cookie = isn;
	add_pending();
}

/* A client that offered <wscale>, SACK <sack>, and whose cookie MSS index is <mss_index>. */
static void client_offered(__u8 wscale, bool sack, bool ecn, __u8 mss_index)
{
	struct limpet_tcpopt o;

	limpet_tcpopt_init(&o);
	o.wscale = wscale;
	o.sack_ok = sack;
	o.ts_ok = 1;
	F.our_ts = limpet_tscookie_encode(COOKIE_CLOCK, &o, ecn, mss_index, (struct limpet_ts_tag){ 0 });
	F.client_mss = limpet_cookie_mss(mss_index, F.family == LIMPET_FAMILY_V6);
}

static struct slowpath *setup(__u8 family, int n_backends, const char *header)
{
	static const struct slowpath_ops ops = {
		.send = fake_send,
		.flow_get = fake_flow_get,
		.flow_set = fake_flow_set,
		.flow_del = fake_flow_del,
		.pick = fake_pick,
		.cookie_line = fake_cookie_line,
	};
	struct slowpath *sp;
	int i;

	log_set_level(LOG_LEVEL_WARN);
	memset(&F, 0, sizeof(F));
	F.family = family;
	F.client.addr = addr_of(family, 1);
	F.client.port = htons(40000);
	F.vip.addr = addr_of(family, 100);
	F.vip.port = htons(80);
	for (i = 0; i < MAX_BE; i++) {
		struct slowpath_backend *b = &F.backends[i];

		F.be[i].addr = addr_of(family, 11 + i);
		F.be[i].port = htons(8080);
		b->id = 11 + i;
		b->gen = 3;
		b->service_id = 7;
		b->addr = F.be[i].addr;
		b->port = F.be[i].port;
		snprintf(b->name, sizeof(b->name), "be%d", i + 1);
	}
	F.n_backends = n_backends;
	F.retry_issue = -1;
	F.svc.connect_timeout_ms = 1000;
	if (header)
		snprintf(F.svc.backend_header, sizeof(F.svc.backend_header), "%s", header);
	client_offered(7, true, false, 3);
	F.cookie = COOKIE_NEAR_WRAP;
	add_pending();
	sp = slowpath_new(&ops);
	cr_assert(sp);
	return sp;
}

/* ---- segments in ---- */

static void feed(struct slowpath *sp, const struct ep *from, const struct ep *to, __u32 seq,
		 __u32 ack, __u8 flags, __u16 win, const struct segment_opts *o, const void *data,
		 __u32 len, __u64 now)
{
	static __u8 frame[ETH_HLEN + SEG_PACKET_MAX + LIMPET_TCP_HDR_MAX];
	__u8 th[LIMPET_TCP_HDR_MAX];
	struct segment seg;
	__u32 th_len;
	int n;

	th_len = segment_header(th, seq, ack, flags, win, o);
	frame_eth(frame, F.family);
	n = segment_build(frame + ETH_HLEN, sizeof(frame) - ETH_HLEN, F.family, &from->addr,
			  from->port, &to->addr, to->port, th, th_len, data, len);
	cr_assert_gt(n, 0);
	cr_assert_eq(segment_parse(frame, ETH_HLEN + (size_t)n, &seg), 0);
	slowpath_segment(sp, &seg, now);
}

/* The options of the client's segments after the handshake: timestamps. */
static struct segment_opts client_ts(__u32 tsval, __u32 tsecr)
{
	return (struct segment_opts){ .wscale = LIMPET_WSCALE_NONE, .ts = true, .tsval = tsval,
				      .tsecr = tsecr };
}

static void client_data(struct slowpath *sp, __u32 off, const void *data, __u32 len,
			__u8 flags, __u64 now)
{
	struct segment_opts o = client_ts(CTS, F.our_ts);

	feed(sp, &F.client, &F.vip, CISN + 1 + off, F.cookie + 1, LIMPET_TCP_ACK | flags, CWIN, &o, data,
	     len, now);
}

/* The first request segment: the whole request head. */
static void first_request(struct slowpath *sp, __u64 now)
{
	client_data(sp, 0, REQUEST, REQ_LEN, LIMPET_TCP_PSH, now);
}

/* Backend <i>'s SYN-ACK: shift 9, SACK, timestamps. */
static void synack(struct slowpath *sp, int i, __u64 now)
{
	struct segment_opts o = { .mss = 1460, .wscale = 9, .sack_ok = true, .ts = true,
				  .tsval = BTS, .tsecr = CTS };

	feed(sp, &F.be[i], &F.client, BISN, CISN + 1, LIMPET_TCP_SYN | LIMPET_TCP_ACK, 65160, &o, NULL, 0, now);
}

/* Backend <i>'s data at <off> bytes into its stream, TSval BTS + <dt>. */
static void backend_data(struct slowpath *sp, int i, __u32 off, const void *data, __u32 len,
			 __u8 flags, __u32 dt, __u64 now)
{
	struct segment_opts o = client_ts(BTS + dt, CTS);

	feed(sp, &F.be[i], &F.client, BISN + 1 + off, CISN + 1 + REQ_LEN, LIMPET_TCP_ACK | flags, 100,
	     &o, data, len, now);
}

/* Backend <i> acks the whole request (nothing of its own sent yet). */
static void backend_ack(struct slowpath *sp, int i, __u64 now)
{
	backend_data(sp, i, 0, NULL, 0, 0, 0, now);
}

/* ---- packets out ---- */

static const struct segment *sent(int i)
{
	cr_assert_lt(i, F.n_sent, "packet %d was not sent (%d were)", i, F.n_sent);
	return &F.sent[i].seg;
}

/* The last bare ACK sent to the client. */
static const struct segment *last_ack(void)
{
	cr_assert_gt(F.n_acks, 0, "no ACK was sent to the client");
	return &F.acks[F.n_acks - 1].seg;
}

static void expect_seg(const struct segment *s, const struct ep *from, const struct ep *to,
		       __u32 seq, __u32 ack, __u8 flags)
{
	cr_expect(!memcmp(&s->src, &from->addr, sizeof(s->src)), "source address");
	cr_expect(!memcmp(&s->dst, &to->addr, sizeof(s->dst)), "destination address");
	cr_expect_eq(s->sport, from->port, "source port %u", ntohs(s->sport));
	cr_expect_eq(s->dport, to->port, "destination port %u", ntohs(s->dport));
	cr_expect_eq(s->seq, seq, "seq %#x, expected %#x", s->seq, seq);
	cr_expect_eq(s->ack, ack, "ack %#x, expected %#x", s->ack, ack);
	cr_expect_eq(s->flags, flags, "flags %#x, expected %#x", s->flags, flags);
}

static void expect_ts(const struct segment *s, __u32 tsval, __u32 tsecr)
{
	cr_expect(s->opt.ts_ok, "no timestamps");
	cr_expect_eq(s->opt.tsval, tsval, "TSval %#x, expected %#x", s->opt.tsval, tsval);
	cr_expect_eq(s->opt.tsecr, tsecr, "TSecr %#x, expected %#x", s->opt.tsecr, tsecr);
}

static void expect_payload(const struct segment *s, const void *data, __u32 len)
{
	cr_expect_eq(s->payload_len, len, "payload of %u bytes, expected %u", s->payload_len, len);
	if (s->payload_len == len)
		cr_expect(!memcmp(s->payload, data, len), "payload differs: %.*s",
			  (int)s->payload_len, (const char *)s->payload);
}

static void expect_syn(const struct segment *s, int be)
{
	expect_seg(s, &F.client, &F.be[be], CISN, 0, LIMPET_TCP_SYN);
	cr_expect_eq(s->payload_len, 0);
}

/* ---- the first segment ---- */

Test(slowpath, first_segment_opens_backend)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, NULL);
	const struct segment *s;
	struct flow_value *fv;

	first_request(sp, 0);
	cr_assert_eq(F.n_sent, 1);
	s = sent(0);
	/* The client's ISN and options, as its SYN offered them to us. */
	expect_syn(s, 0);
	cr_expect_eq(s->window, CWIN);
	cr_expect_eq(s->opt.mss, 1460, "the cookie's MSS, index 3");
	cr_expect_eq(s->opt.sack_ok, 1);
	cr_expect_eq(s->opt.wscale, 7);
	expect_ts(s, CTS, 0);

	fv = flow_at(&F.be[0], &F.client);
	cr_assert(fv, "no entry for the backend's replies");
	cr_expect_eq(fv->flags, LIMPET_FLOW_SLOWPATH | LIMPET_FLOW_RET);
	cr_expect_eq(fv->service_id, 7);
	fv = flow_at(&F.client, &F.vip);
	cr_assert(fv);
	cr_expect_eq(fv->flags, LIMPET_FLOW_SLOWPATH, "the data plane's entry stays as it was");

	cr_expect_eq(F.picks, 1);
	cr_expect_eq(slowpath_stats(sp)->connections, 1);
	cr_expect_eq(slowpath_stats(sp)->held, 1);
	cr_expect_eq(slowpath_connections(sp), 1);
	slowpath_free(sp);
}

Test(slowpath, first_segment_other_options)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V6, 1, NULL);
	struct segment_opts o;
	const struct segment *s;

	/* IPv6, no window scaling, no SACK, ECN, MSS index 1. */
	client_offered(LIMPET_WSCALE_NONE, false, true, 1);
	first_request(sp, 0);
	s = sent(0);
	expect_seg(s, &F.client, &F.be[0], CISN, 0, LIMPET_TCP_SYN | LIMPET_TCP_ECE | LIMPET_TCP_CWR);
	cr_expect_eq(s->opt.mss, 1480 - 60);
	cr_expect_eq(s->opt.sack_ok, 0);
	cr_expect_eq(s->opt.wscale, LIMPET_WSCALE_NONE);
	expect_ts(s, CTS, 0);
	slowpath_free(sp);

	/* No timestamps: nowhere the cookie kept anything but the MSS. */
	sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	o = (struct segment_opts){ .wscale = LIMPET_WSCALE_NONE };
	feed(sp, &F.client, &F.vip, CISN + 1, F.cookie + 1, LIMPET_TCP_ACK, CWIN, &o, REQUEST, REQ_LEN, 0);
	s = sent(0);
	expect_seg(s, &F.client, &F.be[0], CISN, 0, LIMPET_TCP_SYN);
	cr_expect_eq(s->opt.mss, 1460);
	cr_expect_eq(s->opt.sack_ok, 0);
	cr_expect_eq(s->opt.wscale, LIMPET_WSCALE_NONE);
	cr_expect_eq(s->opt.ts_ok, 0);
	slowpath_free(sp);
}

Test(slowpath, first_segment_rejected)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	struct segment_opts o = client_ts(CTS, F.our_ts);
	struct flow_value *fv;

	/* An ack that is not the cookie's. */
	feed(sp, &F.client, &F.vip, CISN + 1, F.cookie + 2, LIMPET_TCP_ACK, CWIN, &o, REQUEST, REQ_LEN, 0);
	/* A bare ACK, a SYN, a RST: nothing to bind. */
	feed(sp, &F.client, &F.vip, CISN + 1, F.cookie + 1, LIMPET_TCP_ACK, CWIN, &o, NULL, 0, 0);
	feed(sp, &F.client, &F.vip, CISN, 0, LIMPET_TCP_SYN, CWIN, &o, NULL, 0, 0);
	feed(sp, &F.client, &F.vip, CISN + 1, F.cookie + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, CWIN, &o, NULL, 0, 0);
	/* Data without ACK. */
	feed(sp, &F.client, &F.vip, CISN + 1, F.cookie + 1, LIMPET_TCP_PSH, CWIN, &o, REQUEST, REQ_LEN, 0);
	/* An entry that is no pending handshake. */
	fv = flow_at(&F.client, &F.vip);
	fv->flags = LIMPET_FLOW_SPLICE;
	client_data(sp, 0, REQUEST, REQ_LEN, 0, 0);
	fv->flags = LIMPET_FLOW_SLOWPATH | LIMPET_FLOW_RET;
	client_data(sp, 0, REQUEST, REQ_LEN, 0, 0);
	/* No entry at all. */
	{
		struct flow_key k = key_of(&F.client, &F.vip);

		cr_assert_eq(fake_flow_del(NULL, &k), 0);
	}
	client_data(sp, 0, REQUEST, REQ_LEN, 0, 0);

	cr_expect_eq(F.n_sent, 0);
	cr_expect_eq(F.picks, 0);
	cr_expect_eq(slowpath_stats(sp)->ignored, 8);
	cr_expect_eq(slowpath_stats(sp)->connections, 0);
	cr_expect_eq(slowpath_connections(sp), 0);

	/* No backend at all: the client gets a 503 and our FIN. */
	slowpath_free(sp);
	sp = setup(LIMPET_FAMILY_V4, 0, NULL);
	first_request(sp, 0);
	cr_assert_eq(F.n_sent, 1);
	expect_seg(sent(0), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN);
	cr_expect_eq(slowpath_stats(sp)->failed, 1);
	cr_expect_eq(slowpath_stats(sp)->connections, 1);
	slowpath_free(sp);
}

/* ---- binding ---- */

Test(slowpath, synack_binds_and_releases)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, NULL);
	const __u32 delta = F.cookie - BISN, ts_delta = F.our_ts - BTS;
	struct segment_opts o;
	const struct segment *s;
	struct flow_value *fv;

	first_request(sp, 0);
	synack(sp, 0, 10);

	/* Client -> VIP: acks and TSecr back into the backend's spaces. */
	fv = flow_at(&F.client, &F.vip);
	cr_assert(fv);
	cr_expect_eq(fv->flags, LIMPET_FLOW_SPLICE | LIMPET_FLOW_SEQ_NEXT);
	cr_expect_eq(fv->seq_next, CISN + 1 + REQ_LEN, "the client's RST must be past its request");
	cr_expect_eq(fv->backend_id, 11);
	cr_expect_eq(fv->gen, 3);
	cr_expect_eq(fv->service_id, 7);
	cr_expect_eq(fv->sp.seq_delta, 0);
	cr_expect_eq(fv->sp.ack_delta, delta);
	cr_expect_eq(fv->sp.tsval_delta, 0);
	cr_expect_eq(fv->sp.tsecr_delta, ts_delta);
	cr_expect_eq(fv->sp.wscale_in, 7);
	cr_expect_eq(fv->sp.wscale_out, 7, "the backend scales with the client's shift");
	cr_expect_eq(fv->sp.flags, LIMPET_SPLICE_TS);
	cr_expect_eq(fv->sp.ins_len, 0);
	cr_expect_eq(fv->sp.ack_ins_len, 0);

	/* Backend -> client: seq and TSval into ours, its shift 9 to our 7;
	 * the slow path's until the backend acks the request we acked.
	 */
	fv = flow_at(&F.be[0], &F.client);
	cr_assert(fv);
	cr_expect_eq(fv->flags, LIMPET_FLOW_SLOWPATH | LIMPET_FLOW_RET);
	cr_expect_eq(fv->backend_id, 11);
	cr_expect_eq(fv->gen, 3);
	cr_expect_eq(fv->service_id, 7);
	cr_expect(!memcmp(&fv->vip, &F.vip.addr, sizeof(fv->vip)));
	cr_expect_eq(fv->vip_port, F.vip.port);
	cr_expect_eq(fv->sp.seq_delta, delta);
	cr_expect_eq(fv->sp.ack_delta, 0);
	cr_expect_eq(fv->sp.tsval_delta, ts_delta);
	cr_expect_eq(fv->sp.tsecr_delta, 0);
	cr_expect_eq(fv->sp.wscale_in, 9);
	cr_expect_eq(fv->sp.wscale_out, LIMPET_OUR_WSCALE);
	cr_expect_eq(fv->sp.flags, LIMPET_SPLICE_TS | LIMPET_SPLICE_WINDOW);
	cr_expect_eq(fv->sp.ins_len, 0);

	/* The held request completes the backend's handshake. */
	cr_assert_eq(F.n_sent, 2);
	s = sent(1);
	expect_seg(s, &F.client, &F.be[0], CISN + 1, BISN + 1, LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_ts(s, CTS, BTS);
	cr_expect_eq(s->window, CWIN);
	expect_payload(s, REQUEST, REQ_LEN);
	cr_expect_eq(slowpath_stats(sp)->bound, 1);

	/* The SYN-ACK again: the request did not arrive, it goes again. */
	synack(sp, 0, 12);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(2), &F.client, &F.be[0], CISN + 1, BISN + 1,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(2), REQUEST, REQ_LEN);
	cr_expect_eq(slowpath_stats(sp)->resent, 1);

	/* The backend acks it: its side goes to the data plane. */
	o = client_ts(BTS + 5, CTS);
	feed(sp, &F.be[0], &F.client, BISN + 1, CISN + 1 + REQ_LEN, LIMPET_TCP_ACK, 100, &o, NULL, 0,
	     15);
	fv = flow_at(&F.be[0], &F.client);
	cr_expect_eq(fv->flags, LIMPET_FLOW_SPLICE | LIMPET_FLOW_RET);
	cr_expect_eq(fv->sp.seq_delta, delta);
	expect_seg(last_ack(), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN, LIMPET_TCP_ACK);
	/* A SYN-ACK now: the client's next segment answers it. */
	synack(sp, 0, 20);
	cr_expect_eq(F.n_sent, 3);

	/* A client segment still queued for the slow path: relayed, translated. */
	o = client_ts(CTS + 1, BTS + 7 + ts_delta);
	feed(sp, &F.client, &F.vip, CISN + 1 + REQ_LEN, F.cookie + 1 + 5, LIMPET_TCP_ACK, CWIN, &o, NULL, 0,
	     30);
	cr_assert_eq(F.n_sent, 4);
	s = sent(3);
	expect_seg(s, &F.client, &F.be[0], CISN + 1 + REQ_LEN, BISN + 1 + 5, LIMPET_TCP_ACK);
	expect_ts(s, CTS + 1, BTS + 7);

	/* The record goes a little after; the entries stay, the data plane's. */
	cr_expect_eq(slowpath_connections(sp), 1);
	slowpath_tick(sp, 3014);
	cr_expect_eq(slowpath_connections(sp), 1);
	slowpath_tick(sp, 3015);
	cr_expect_eq(slowpath_connections(sp), 0);
	cr_expect(flow_at(&F.client, &F.vip));
	cr_expect(flow_at(&F.be[0], &F.client));
	cr_expect_eq(F.n_sent, 4);
	slowpath_free(sp);
}

Test(slowpath, synack_without_scaling_or_timestamps)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	struct segment_opts o = { .mss = 1460, .wscale = LIMPET_WSCALE_NONE, .sack_ok = true };
	struct flow_value *fv;

	first_request(sp, 0);
	/* A backend that offers neither timestamps nor window scaling. */
	feed(sp, &F.be[0], &F.client, BISN, CISN + 1, LIMPET_TCP_SYN | LIMPET_TCP_ACK, 65535, &o, NULL, 0, 5);
	fv = flow_at(&F.client, &F.vip);
	cr_assert(fv);
	cr_expect_eq(fv->sp.flags, LIMPET_SPLICE_WINDOW, "no TS; the client's shift to none");
	cr_expect_eq(fv->sp.wscale_in, 7);
	cr_expect_eq(fv->sp.wscale_out, 0);
	fv = flow_at(&F.be[0], &F.client);
	cr_assert(fv);
	cr_expect_eq(fv->sp.flags, LIMPET_SPLICE_WINDOW);
	cr_expect_eq(fv->sp.wscale_in, 0);
	cr_expect_eq(fv->sp.wscale_out, LIMPET_OUR_WSCALE);
	cr_expect_eq(fv->sp.tsval_delta, 0);

	/* The released request: window in bytes for a backend that does not scale. */
	cr_assert_eq(F.n_sent, 2);
	cr_expect_eq(sent(1)->window, CWIN << 7, "the client's shift applied");
	cr_expect_eq(sent(1)->ack, BISN + 1);
	cr_expect_eq(sent(1)->opt.tsecr, F.our_ts, "TSecr left alone");
	slowpath_free(sp);
}

Test(slowpath, held_segments_released_once_in_order)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	static const char a[] = "POST /up HTTP/1.1\r\n", b[] = "Content-Length: 3\r\n\r\n",
			  c[] = "xyz";
	const __u32 la = sizeof(a) - 1, lb = sizeof(b) - 1, lc = sizeof(c) - 1;
	int i;

	client_data(sp, 0, a, la, 0, 0);
	client_data(sp, la + lb, c, lc, LIMPET_TCP_PSH, 1);	/* out of order */
	client_data(sp, la, b, lb, 0, 2);
	client_data(sp, la, b, lb, 0, 3);		/* duplicated */
	client_data(sp, 0, a, la, 0, 4);		/* and the first again */
	cr_expect_eq(F.n_sent, 1, "only the SYN before the SYN-ACK");
	cr_expect_eq(slowpath_stats(sp)->held, 3);

	synack(sp, 0, 10);
	cr_assert_eq(F.n_sent, 4, "%d packets", F.n_sent);
	expect_seg(sent(1), &F.client, &F.be[0], CISN + 1, BISN + 1, LIMPET_TCP_ACK);
	expect_payload(sent(1), a, la);
	expect_seg(sent(2), &F.client, &F.be[0], CISN + 1 + la, BISN + 1, LIMPET_TCP_ACK);
	expect_payload(sent(2), b, lb);
	expect_seg(sent(3), &F.client, &F.be[0], CISN + 1 + la + lb, BISN + 1,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(3), c, lc);
	for (i = 1; i < 4; i++)
		expect_ts(sent(i), CTS, BTS);
	slowpath_free(sp);
}

Test(slowpath, backend_rst_tries_next)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 3, NULL);
	struct segment_opts none = { .wscale = LIMPET_WSCALE_NONE };
	struct flow_value *fv;

	first_request(sp, 0);
	/* A RST that does not answer our SYN: ignored. */
	feed(sp, &F.be[0], &F.client, 0, CISN + 5, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &none, NULL, 0, 5);
	cr_expect_eq(F.n_sent, 1);
	cr_expect_eq(slowpath_stats(sp)->ignored, 1);

	feed(sp, &F.be[0], &F.client, 0, CISN + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &none, NULL, 0, 10);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(1), &F.client, &F.be[0], CISN + 1, 0, LIMPET_TCP_RST);
	expect_syn(sent(2), 1);
	expect_ts(sent(2), CTS, 0);
	cr_expect_null(flow_at(&F.be[0], &F.client), "the refused backend's entry is gone");
	fv = flow_at(&F.be[1], &F.client);
	cr_assert(fv);
	cr_expect_eq(fv->flags, LIMPET_FLOW_SLOWPATH | LIMPET_FLOW_RET);
	cr_expect_eq(slowpath_stats(sp)->retries, 1);

	/* Backend 1's SYN-ACK, late: nothing to do with it any more. */
	synack(sp, 0, 20);
	cr_expect_eq(F.n_sent, 3);

	synack(sp, 1, 30);
	cr_assert_eq(F.n_sent, 4);
	expect_seg(sent(3), &F.client, &F.be[1], CISN + 1, BISN + 1, LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(3), REQUEST, REQ_LEN);
	fv = flow_at(&F.client, &F.vip);
	cr_assert(fv);
	cr_expect_eq(fv->flags, LIMPET_FLOW_SPLICE | LIMPET_FLOW_SEQ_NEXT);
	cr_expect_eq(fv->backend_id, 12);
	cr_expect_eq(slowpath_stats(sp)->bound, 1);
	cr_expect_eq(slowpath_stats(sp)->retries, 1);
	slowpath_free(sp);
}

/* Content-Length of the 503 matches its body, and it says 503. */
static void expect_503(const struct segment *s)
{
	char p[512];
	const char *body, *cl;
	int clen = -1;

	cr_assert_gt(s->payload_len, 12);
	cr_assert_lt(s->payload_len, sizeof(p));
	memcpy(p, s->payload, s->payload_len);
	p[s->payload_len] = 0;
	cr_expect(!strncmp(p, "HTTP/1.1 503", 12), "%.*s", (int)s->payload_len, p);
	body = memmem(p, s->payload_len, "\r\n\r\n", 4);
	cr_assert(body);
	body += 4;
	cl = strstr(p, "\r\nContent-Length: ");
	cr_assert(cl);
	cr_expect(sscanf(cl, "\r\nContent-Length: %d", &clen) == 1);
	cr_expect_eq(clen, (int)(s->payload_len - (body - p)));
}

Test(slowpath, syn_timeouts_then_503)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, NULL);
	struct segment_opts o;
	__u32 len503, fin_seq;

	set_cookie(0x40000000);	/* the 503 does not cross 2^32: see below */
	first_request(sp, 0);
	slowpath_tick(sp, 199);
	cr_expect_eq(F.n_sent, 1);
	slowpath_tick(sp, 200);
	cr_assert_eq(F.n_sent, 2);
	expect_syn(sent(1), 0);
	expect_ts(sent(1), CTS, 0);
	cr_expect_eq(slowpath_stats(sp)->syn_retransmits, 1);
	/* Backoff: 400 ms next. */
	slowpath_tick(sp, 599);
	cr_expect_eq(F.n_sent, 2);
	slowpath_tick(sp, 600);
	cr_assert_eq(F.n_sent, 3);
	expect_syn(sent(2), 0);
	cr_expect_eq(slowpath_stats(sp)->syn_retransmits, 2);

	/* connect_timeout_ms: reset backend 1, SYN to backend 2. */
	slowpath_tick(sp, 1000);
	cr_assert_eq(F.n_sent, 5);
	expect_seg(sent(3), &F.client, &F.be[0], CISN + 1, 0, LIMPET_TCP_RST);
	expect_syn(sent(4), 1);
	cr_expect_null(flow_at(&F.be[0], &F.client));
	cr_expect(flow_at(&F.be[1], &F.client));
	cr_expect_eq(slowpath_stats(sp)->retries, 1);

	/* Backend 2 silent too (its own retransmissions on the way). */
	slowpath_tick(sp, 1200);
	cr_assert_eq(F.n_sent, 6);
	expect_syn(sent(5), 1);
	slowpath_tick(sp, 2000);
	cr_assert_eq(F.n_sent, 8);
	expect_seg(sent(6), &F.client, &F.be[1], CISN + 1, 0, LIMPET_TCP_RST);
	cr_expect_null(flow_at(&F.be[1], &F.client));

	/* The 503 and our FIN, from the VIP, right after the cookie. */
	expect_seg(sent(7), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN);
	expect_503(sent(7));
	expect_ts(sent(7), F.our_ts + 2000, CTS);
	cr_expect_eq(sent(7)->window, 0xffff >> LIMPET_OUR_WSCALE);
	len503 = sent(7)->payload_len;
	cr_expect_eq(slowpath_stats(sp)->failed, 1);
	cr_expect_eq(slowpath_stats(sp)->retries, 1);
	cr_expect(flow_at(&F.client, &F.vip), "the client's entry until it closed");

	/* Re-sent while unacknowledged. */
	slowpath_tick(sp, 2299);
	cr_expect_eq(F.n_sent, 8);
	slowpath_tick(sp, 2300);
	cr_assert_eq(F.n_sent, 9);
	expect_seg(sent(8), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN);
	expect_payload(sent(8), sent(7)->payload, len503);

	/* The client acks it all: no more resends. */
	fin_seq = F.cookie + 1 + len503 + 1;
	o = client_ts(CTS + 10, F.our_ts + 2300);
	feed(sp, &F.client, &F.vip, CISN + 1 + REQ_LEN, fin_seq, LIMPET_TCP_ACK, CWIN, &o, NULL, 0, 2400);
	slowpath_tick(sp, 4000);
	cr_expect_eq(F.n_sent, 9);

	/* Its FIN gets our ACK, and the entry goes. */
	feed(sp, &F.client, &F.vip, CISN + 1 + REQ_LEN, fin_seq, LIMPET_TCP_ACK | LIMPET_TCP_FIN, CWIN, &o, NULL,
	     0, 4100);
	cr_assert_eq(F.n_sent, 9);
	expect_seg(last_ack(), &F.vip, &F.client, fin_seq, CISN + 1 + REQ_LEN + 1, LIMPET_TCP_ACK);
	expect_ts(last_ack(), F.our_ts + 4100, CTS + 10);
	cr_expect_null(flow_at(&F.client, &F.vip));
	cr_expect_eq(slowpath_connections(sp), 0);
	slowpath_free(sp);
}

/*
 * Regression (found by this test, fixed): user/slowpath.c client_segment(), CONN_FAILED: the client's ACK of
 * the whole 503 is recognised by
 *	seg->ack == c->cookie_isn + 1 + sizeof(RESPONSE_503) - 1 + 1
 * which is computed in size_t (64 bits), not modulo 2^32: when the 503 and
 * our FIN cross 2^32 the ack never matches and the 503 keeps being re-sent
 * (up to five times) to a client that has it all. The FIN's ACK is right
 * (send_to_client() takes a __u32). Fix: compare with a __u32, e.g.
 *	__u32 fin_end = c->cookie_isn + 1 + (__u32)sizeof(RESPONSE_503);
 */
Test(slowpath, failed_ack_across_wrap)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	struct segment_opts none = { .wscale = LIMPET_WSCALE_NONE }, o;
	__u32 fin_seq;

	cr_assert_eq(F.cookie, COOKIE_NEAR_WRAP);
	first_request(sp, 0);
	feed(sp, &F.be[0], &F.client, 0, CISN + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &none, NULL, 0, 10);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN);
	fin_seq = F.cookie + 1 + sent(2)->payload_len + 1;
	cr_assert_lt(fin_seq, F.cookie, "the 503 crosses 2^32");

	/* The client has it all before the first resend. */
	o = client_ts(CTS + 10, F.our_ts + 10);
	feed(sp, &F.client, &F.vip, CISN + 1 + REQ_LEN, fin_seq, LIMPET_TCP_ACK, CWIN, &o, NULL, 0, 100);
	slowpath_tick(sp, 310);
	slowpath_tick(sp, 1000);
	cr_expect_eq(F.n_sent, 3, "the 503 was re-sent %d times after the client "
				  "acked it (ack compared in 64 bits)", F.n_sent - 3);

	/* Its FIN is answered right across the wrap. */
	feed(sp, &F.client, &F.vip, CISN + 1 + REQ_LEN, fin_seq, LIMPET_TCP_ACK | LIMPET_TCP_FIN, CWIN, &o, NULL,
	     0, 1100);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(last_ack(), &F.vip, &F.client, fin_seq, CISN + 1 + REQ_LEN + 1, LIMPET_TCP_ACK);
	cr_expect_eq(slowpath_connections(sp), 0);
	slowpath_free(sp);
}

Test(slowpath, all_refuse_then_503_expires)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V6, 1, NULL);
	struct segment_opts none = { .wscale = LIMPET_WSCALE_NONE };
	int i;

	first_request(sp, 0);
	feed(sp, &F.be[0], &F.client, 0, CISN + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &none, NULL, 0, 10);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(1), &F.client, &F.be[0], CISN + 1, 0, LIMPET_TCP_RST);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN);
	expect_503(sent(2));
	cr_expect_eq(slowpath_stats(sp)->retries, 0);
	cr_expect_eq(slowpath_stats(sp)->failed, 1);

	/* A client that never answers: a few resends, then forgotten. */
	for (i = 1; i <= 100; i++)
		slowpath_tick(sp, 10 + (__u64)i * 50);
	cr_expect_eq(F.n_sent, 3 + 4, "five sends in all, %d", F.n_sent - 2);
	cr_expect_null(flow_at(&F.client, &F.vip));
	cr_expect_eq(slowpath_connections(sp), 0);
	slowpath_free(sp);
}

Test(slowpath, client_rst_while_binding)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, NULL);
	struct segment_opts o = client_ts(CTS, F.our_ts);

	first_request(sp, 0);
	feed(sp, &F.client, &F.vip, CISN + 1 + REQ_LEN, F.cookie + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &o, NULL,
	     0, 50);
	cr_assert_eq(F.n_sent, 2);
	expect_seg(sent(1), &F.client, &F.be[0], CISN + 1, 0, LIMPET_TCP_RST);
	cr_expect_null(flow_at(&F.client, &F.vip));
	cr_expect_null(flow_at(&F.be[0], &F.client));
	cr_expect_eq(slowpath_connections(sp), 0);
	cr_expect_eq(slowpath_stats(sp)->aborted, 1);

	/* The backend's SYN-ACK after that: nobody to bind. */
	synack(sp, 0, 60);
	cr_expect_eq(F.n_sent, 2);
	slowpath_free(sp);
}

Test(slowpath, binding_gives_up_after_30s)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);

	F.svc.connect_timeout_ms = 60000;
	first_request(sp, 0);
	slowpath_tick(sp, 30000);
	cr_assert_eq(F.n_sent, 2);
	expect_seg(sent(1), &F.client, &F.be[0], CISN + 1, 0, LIMPET_TCP_RST);
	cr_expect_null(flow_at(&F.client, &F.vip));
	cr_expect_null(flow_at(&F.be[0], &F.client));
	cr_expect_eq(slowpath_stats(sp)->aborted, 1);
	cr_expect_eq(slowpath_connections(sp), 0);
	slowpath_free(sp);
}

/* ---- response insertion ---- */

static const char HEAD[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
static const char HEAD_OUT[] =
	"HTTP/1.1 200 OK\r\nX-Limpet-Backend: be1\r\nContent-Length: 2\r\n\r\nhi";
static const char INS[] = "X-Limpet-Backend: be1\r\n";
#define HEAD_LEN ((__u32)sizeof(HEAD) - 1)
#define INS_LEN ((__u32)sizeof(INS) - 1)
#define STATUS_LEN 17	/* "HTTP/1.1 200 OK\r\n" */

static struct slowpath *bound_with_header(__u8 mss_index)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, "X-Limpet-Backend");

	client_offered(7, true, false, mss_index);
	first_request(sp, 0);
	synack(sp, 0, 10);
	cr_assert_eq(F.n_sent, 2);
	backend_ack(sp, 0, 10);
	return sp;
}

Test(slowpath, insert_header)
{
	struct slowpath *sp = bound_with_header(3);
	const __u32 delta = F.cookie - BISN, ts_delta = F.our_ts - BTS;
	struct segment_opts o;
	struct flow_value *ret, *fwd;
	struct sent first;

	ret = flow_at(&F.be[0], &F.client);
	fwd = flow_at(&F.client, &F.vip);
	cr_assert(ret && fwd);
	cr_expect_eq(ret->sp.flags, LIMPET_SPLICE_TS | LIMPET_SPLICE_WINDOW |
				    LIMPET_SPLICE_HEAD_PENDING);
	cr_expect_eq(fwd->sp.flags & LIMPET_SPLICE_HEAD_PENDING, 0);

	backend_data(sp, 0, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 10, 100);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN, LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(2), HEAD_OUT, sizeof(HEAD_OUT) - 1);
	expect_ts(sent(2), BTS + 10 + ts_delta, CTS);
	cr_expect_eq(sent(2)->window, 400, "100 << 9 >> 7");
	cr_expect_eq(slowpath_stats(sp)->inserted, 1);

	/* Both entries know the shift now; nothing pending. */
	cr_expect_eq(ret->sp.ins_pos, BISN + 1 + STATUS_LEN);
	cr_expect_eq(ret->sp.ins_len, INS_LEN);
	cr_expect_eq(ret->sp.flags, LIMPET_SPLICE_TS | LIMPET_SPLICE_WINDOW);
	cr_expect_eq(ret->sp.seq_delta, delta);
	cr_expect_eq(fwd->sp.ack_ins_pos, BISN + 1 + STATUS_LEN);
	cr_expect_eq(fwd->sp.ack_ins_len, INS_LEN);
	cr_expect_eq(fwd->sp.ins_len, 0);
	cr_expect_eq(fwd->sp.ack_delta, delta);

	/* A retransmission comes out byte for byte the same. */
	first = F.sent[2];
	backend_data(sp, 0, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 10, 300);
	cr_assert_eq(F.n_sent, 4);
	cr_expect_eq(F.sent[3].len, first.len);
	cr_expect(!memcmp(F.sent[3].frame, first.frame, ETH_HLEN + first.len),
		  "retransmission differs");
	cr_expect_eq(slowpath_stats(sp)->inserted, 2);

	/* What follows is shifted by the inserted bytes (wrapping 2^32). */
	backend_data(sp, 0, HEAD_LEN, "more", 4, LIMPET_TCP_PSH | LIMPET_TCP_FIN, 20, 400);
	cr_assert_eq(F.n_sent, 5);
	expect_seg(sent(4), &F.vip, &F.client, F.cookie + 1 + HEAD_LEN + INS_LEN, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN);
	expect_payload(sent(4), "more", 4);
	cr_expect_lt(sent(4)->seq, F.cookie, "past 2^32");

	/* The client's ack of it all, back in the backend's space. */
	o = client_ts(CTS + 1, BTS + 20 + ts_delta);
	feed(sp, &F.client, &F.vip, CISN + 1 + REQ_LEN, F.cookie + 1 + HEAD_LEN + INS_LEN + 4 + 1,
	     LIMPET_TCP_ACK, CWIN, &o, NULL, 0, 500);
	cr_assert_eq(F.n_sent, 6);
	expect_seg(sent(5), &F.client, &F.be[0], CISN + 1 + REQ_LEN, BISN + 1 + HEAD_LEN + 4 + 1,
		   LIMPET_TCP_ACK);
	expect_ts(sent(5), CTS + 1, BTS + 20);
	slowpath_free(sp);
}

Test(slowpath, insert_split_over_client_mss)
{
	/* MSS index 0: 536 bytes, 524 after the 12 bytes of timestamps. */
	struct slowpath *sp = bound_with_header(0);
	char head[600], want[600 + INS_LEN], got[700];
	__u32 len, n, body = 480, i;

	cr_assert_eq(sent(0)->opt.mss, 536);
	cr_assert_eq(F.client_mss, 536);
	n = (__u32)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
			    body);
	for (i = 0; i < body; i++)
		head[n + i] = (char)('a' + i % 26);
	len = n + body;
	cr_assert_leq(len, 524, "fits as it came");
	cr_assert_gt(len + INS_LEN, 524, "does not fit with the header");
	memcpy(want, head, STATUS_LEN);
	memcpy(want + STATUS_LEN, INS, INS_LEN);
	memcpy(want + STATUS_LEN + INS_LEN, head + STATUS_LEN, len - STATUS_LEN);

	backend_data(sp, 0, 0, head, len, LIMPET_TCP_PSH | LIMPET_TCP_FIN, 5, 100);
	cr_assert_eq(F.n_sent, 4, "%d packets", F.n_sent);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN, LIMPET_TCP_ACK);
	cr_expect_eq(sent(2)->payload_len, 524);
	expect_seg(sent(3), &F.vip, &F.client, F.cookie + 1 + 524, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN);
	cr_expect_eq(sent(3)->payload_len, len + INS_LEN - 524);
	cr_assert_leq(sent(2)->payload_len + sent(3)->payload_len, sizeof(got));
	memcpy(got, sent(2)->payload, sent(2)->payload_len);
	memcpy(got + sent(2)->payload_len, sent(3)->payload, sent(3)->payload_len);
	cr_expect_eq(sent(2)->payload_len + sent(3)->payload_len, len + INS_LEN);
	cr_expect(!memcmp(got, want, len + INS_LEN), "the client's stream differs");
	expect_ts(sent(3), sent(2)->opt.tsval, CTS);

	/* The same again: the same two segments. */
	backend_data(sp, 0, 0, head, len, LIMPET_TCP_PSH | LIMPET_TCP_FIN, 5, 300);
	cr_assert_eq(F.n_sent, 6);
	cr_expect(!memcmp(F.sent[4].frame, F.sent[2].frame, ETH_HLEN + F.sent[2].len));
	cr_expect(!memcmp(F.sent[5].frame, F.sent[3].frame, ETH_HLEN + F.sent[3].len));
	slowpath_free(sp);
}

/*
 * tests/fuzz/regress/slowpath/jumbo-*: a head that takes several of the
 * client's MSS once the header is in goes out in that many pieces, and a
 * segment from a backend on a jumbo-frame link is relayed whole (the first
 * was cut in two pieces, the second past the MSS; the other was dropped).
 */
Test(slowpath, insert_jumbo_segment_in_mss_pieces)
{
	static char head[3000], want[sizeof(head) + INS_LEN], got[sizeof(head) + INS_LEN],
		big[3500];
	struct slowpath *sp = bound_with_header(0);
	__u32 len = sizeof(head), n, off = 0, i;
	int k;

	n = (__u32)snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n",
			    len - 41);
	cr_assert_eq(n, 41);
	for (i = n; i < len; i++)
		head[i] = (char)('a' + i % 26);
	memcpy(want, head, STATUS_LEN);
	memcpy(want + STATUS_LEN, INS, INS_LEN);
	memcpy(want + STATUS_LEN + INS_LEN, head + STATUS_LEN, len - STATUS_LEN);

	backend_data(sp, 0, 0, head, len, LIMPET_TCP_PSH | LIMPET_TCP_FIN, 5, 100);
	cr_assert_eq(F.n_sent, 2 + (int)((len + INS_LEN + 523) / 524), "%d packets", F.n_sent);
	for (k = 2; k < F.n_sent; k++) {
		bool last = k == F.n_sent - 1;

		expect_seg(sent(k), &F.vip, &F.client, F.cookie + 1 + off, CISN + 1 + REQ_LEN,
			   last ? LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN : LIMPET_TCP_ACK);
		cr_expect_eq(sent(k)->payload_len, last ? len + INS_LEN - off : 524);
		cr_assert_leq(off + sent(k)->payload_len, sizeof(got));
		memcpy(got + off, sent(k)->payload, sent(k)->payload_len);
		off += sent(k)->payload_len;
	}
	cr_expect_eq(off, len + INS_LEN);
	cr_expect(!memcmp(got, want, len + INS_LEN), "the client's stream differs");

	/* A jumbo segment after the head: whole, shifted. */
	memset(big, 'z', sizeof(big));
	k = F.n_sent;
	backend_data(sp, 0, len, big, sizeof(big), LIMPET_TCP_PSH, 6, 200);
	cr_assert_eq(F.n_sent, k + 1);
	expect_seg(sent(k), &F.vip, &F.client, F.cookie + 1 + len + INS_LEN, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(k), big, sizeof(big));
	slowpath_free(sp);
}

Test(slowpath, insert_head_split_after_status_line)
{
	/* The status line alone in the first segment: the header goes at the
	 * start of the next one.
	 */
	struct slowpath *sp = bound_with_header(3);
	struct flow_value *ret;

	backend_data(sp, 0, 0, HEAD, STATUS_LEN, 0, 1, 100);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN, LIMPET_TCP_ACK);
	expect_payload(sent(2), HEAD, STATUS_LEN);
	ret = flow_at(&F.be[0], &F.client);
	cr_expect_eq(ret->sp.ins_pos, BISN + 1 + STATUS_LEN);
	cr_expect_eq(ret->sp.ins_len, INS_LEN);
	cr_expect_eq(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING, 0);

	backend_data(sp, 0, STATUS_LEN, HEAD + STATUS_LEN, HEAD_LEN - STATUS_LEN, LIMPET_TCP_PSH, 2, 110);
	cr_assert_eq(F.n_sent, 4);
	expect_seg(sent(3), &F.vip, &F.client, F.cookie + 1 + STATUS_LEN, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(3), HEAD_OUT + STATUS_LEN, sizeof(HEAD_OUT) - 1 - STATUS_LEN);
	slowpath_free(sp);
}

Test(slowpath, insert_after_100_continue)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	const __u32 lc = sizeof(cont) - 1;
	struct slowpath *sp = bound_with_header(3);
	struct flow_value *ret;

	backend_data(sp, 0, 0, cont, lc, LIMPET_TCP_PSH, 1, 100);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN, LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(2), cont, lc);
	ret = flow_at(&F.be[0], &F.client);
	cr_expect(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING, "still waiting for the final head");
	cr_expect_eq(ret->sp.ins_len, 0);

	/* The 100 again: relayed as it was. */
	backend_data(sp, 0, 0, cont, lc, LIMPET_TCP_PSH, 1, 200);
	cr_assert_eq(F.n_sent, 4);
	cr_expect(!memcmp(F.sent[3].frame, F.sent[2].frame, ETH_HLEN + F.sent[2].len));

	backend_data(sp, 0, lc, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 2, 300);
	cr_assert_eq(F.n_sent, 5);
	expect_seg(sent(4), &F.vip, &F.client, F.cookie + 1 + lc, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(4), HEAD_OUT, sizeof(HEAD_OUT) - 1);
	cr_expect_eq(ret->sp.ins_pos, BISN + 1 + lc + STATUS_LEN);
	cr_expect_eq(ret->sp.ins_len, INS_LEN);
	cr_expect_eq(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING, 0);
	slowpath_free(sp);
}

/*
 * Regression (found by this test, fixed): user/slowpath.c backend_data(), INSERT_PENDING: a segment starting
 * before head_start is relayed as "an earlier 1xx again" even when it runs
 * on past head_start, e.g. a retransmission that collapses the 100 Continue
 * with the final head (Linux tcp_retrans_try_collapse()) after the head's
 * first copy was lost before the balancer. The final head then reaches the
 * client unrewritten while the record stays INSERT_PENDING at head_start;
 * the client acks it, the backend never sends from head_start again, and
 * every later backend segment (all sent here: HEAD_PENDING) is dropped as
 * "past the head": the response stalls until the 30 s linger gives up.
 * Fix: in that branch, when limpet_seq_after(seg->seq + seg->payload_len,
 * c->head_start), insert_give_up() before relaying (or insert at
 * head_start + the offset in the part past it).
 */
Test(slowpath, insert_1xx_collapsed_with_head)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	const __u32 lc = sizeof(cont) - 1;
	struct slowpath *sp = bound_with_header(3);
	char both[128];
	struct flow_value *ret = flow_at(&F.be[0], &F.client);
	__u32 shift;

	backend_data(sp, 0, 0, cont, lc, LIMPET_TCP_PSH, 1, 100);
	cr_assert_eq(F.n_sent, 3);

	/* The 100 again, with the final head collapsed into it. */
	memcpy(both, cont, lc);
	memcpy(both + lc, HEAD, HEAD_LEN);
	backend_data(sp, 0, 0, both, lc + HEAD_LEN, LIMPET_TCP_PSH, 2, 400);
	cr_assert_eq(F.n_sent, 4);
	shift = ret->sp.ins_len;
	cr_expect_eq(sent(3)->payload_len, lc + HEAD_LEN + shift);
	cr_expect_eq(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING, 0,
		     "still waiting for a head the client already has");

	/* The body goes on. */
	backend_data(sp, 0, lc + HEAD_LEN, "more", 4, LIMPET_TCP_PSH, 3, 500);
	cr_assert_eq(F.n_sent, 5, "the data after the head was dropped");
	expect_seg(sent(4), &F.vip, &F.client, F.cookie + 1 + lc + HEAD_LEN + shift,
		   CISN + 1 + REQ_LEN, LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	slowpath_free(sp);
}

Test(slowpath, no_insert_into_non_http)
{
	static const char junk[] = "SSH-2.0-OpenSSH_9.6\r\n";
	const __u32 lj = sizeof(junk) - 1;
	struct slowpath *sp = bound_with_header(3);
	struct flow_value *ret, *fwd;

	backend_data(sp, 0, 0, junk, lj, LIMPET_TCP_PSH, 1, 100);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN, LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(2), junk, lj);
	ret = flow_at(&F.be[0], &F.client);
	fwd = flow_at(&F.client, &F.vip);
	cr_expect_eq(ret->sp.flags, LIMPET_SPLICE_TS | LIMPET_SPLICE_WINDOW, "given up");
	cr_expect_eq(ret->sp.ins_len, 0);
	cr_expect_eq(fwd->sp.ack_ins_len, 0);
	cr_expect_eq(slowpath_stats(sp)->inserted, 0);

	/* Later data, even an HTTP head, is relayed untouched. */
	backend_data(sp, 0, lj, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 2, 200);
	cr_assert_eq(F.n_sent, 4);
	expect_seg(sent(3), &F.vip, &F.client, F.cookie + 1 + lj, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(3), HEAD, HEAD_LEN);
	slowpath_free(sp);
}

Test(slowpath, insert_waits_for_the_head)
{
	/* Data past the head, before the head: dropped, the backend sends
	 * the head again.
	 */
	struct slowpath *sp = bound_with_header(3);

	backend_data(sp, 0, 100, "later", 5, 0, 1, 100);
	cr_expect_eq(F.n_sent, 2);
	cr_expect_eq(slowpath_stats(sp)->ignored, 1);
	backend_data(sp, 0, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 2, 110);
	cr_assert_eq(F.n_sent, 3);
	expect_payload(sent(2), HEAD_OUT, sizeof(HEAD_OUT) - 1);
	slowpath_free(sp);
}

Test(slowpath, insert_fin_after_the_head_is_shifted)
{
	/* The backend's FIN right behind its head: ahead of the head it
	 * cannot be placed (dropped, sent again); behind it, shifted.
	 */
	struct slowpath *sp = bound_with_header(3);

	backend_data(sp, 0, HEAD_LEN, NULL, 0, LIMPET_TCP_FIN, 1, 100);
	cr_expect_eq(F.n_sent, 2, "a FIN past the unseen head went out");
	cr_expect_eq(slowpath_stats(sp)->ignored, 1);
	backend_data(sp, 0, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 2, 110);
	backend_data(sp, 0, HEAD_LEN, NULL, 0, LIMPET_TCP_FIN, 3, 120);
	cr_assert_eq(F.n_sent, 4);
	expect_seg(sent(3), &F.vip, &F.client, F.cookie + 1 + HEAD_LEN + INS_LEN,
		   CISN + 1 + REQ_LEN, LIMPET_TCP_ACK | LIMPET_TCP_FIN);
	slowpath_free(sp);
}

Test(slowpath, insert_gives_up_without_head)
{
	/* No response within the linger: the data plane forwards it as is. */
	struct slowpath *sp = bound_with_header(3);
	struct flow_value *ret = flow_at(&F.be[0], &F.client);

	slowpath_tick(sp, 29999);
	cr_expect(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING);
	slowpath_tick(sp, 30010);
	cr_expect_eq(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING, 0);
	cr_expect_eq(slowpath_connections(sp), 0);
	slowpath_free(sp);
}

/*
 * Regression (found by this test, fixed): the record of a connection with a header to insert lingers
 * INSERT_LINGER_MS from the binding (bind() sets expires_ms), not from when
 * the head went out. A backend that answers late (here after 29.99 s) gets
 * its head rewritten, then the record is freed at once; a retransmission of
 * the head, which the data plane sends here (it holds the insertion point),
 * finds no record and is dropped, so the client never gets those bytes and
 * the connection stalls. Expected: retransmissions of the rewritten head
 * are answered for INSERT_LINGER_MS after the insertion.
 */
Test(slowpath, insert_linger_counts_from_the_head)
{
	struct slowpath *sp = bound_with_header(3);
	struct sent first;

	backend_data(sp, 0, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 29990, 29990);
	cr_assert_eq(F.n_sent, 3);
	expect_payload(sent(2), HEAD_OUT, sizeof(HEAD_OUT) - 1);
	first = F.sent[2];

	slowpath_tick(sp, 30010);
	backend_data(sp, 0, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 29990, 30200);
	cr_assert_eq(F.n_sent, 4, "the head's retransmission 210 ms after it was "
				  "rewritten was dropped (record freed 30 s after binding)");
	cr_expect(!memcmp(F.sent[3].frame, first.frame, ETH_HLEN + first.len));
	slowpath_free(sp);
}

/* ---- slowpath_insert_offset ---- */

static int offset_of(const char *s, bool *informational, __u32 *head_len)
{
	return slowpath_insert_offset((const __u8 *)s, (__u32)strlen(s), informational, head_len);
}

Test(slowpath, insert_offset)
{
	bool info = true;
	__u32 hl = 99;

	cr_expect_eq(offset_of("HTTP/1.1 200 OK\r\nA: b\r\n\r\n", &info, &hl), 17);
	cr_expect(!info);
	cr_expect_eq(hl, 0);
	cr_expect_eq(offset_of("HTTP/1.0 404 Not Found\r\n", &info, &hl), 24,
		     "the status line is enough");
	cr_expect_eq(offset_of("HTTP/1.1 204 No Content\r\n\r\n", &info, &hl), 25);
	cr_expect_eq(offset_of("HTTP/1.1 200 OK", &info, &hl), -1, "no end of line");
	cr_expect_eq(offset_of("HTTP/1.1 200 OK\r", &info, &hl), -1, "CR without LF");
	cr_expect_eq(offset_of("HTTP/1.1 200 OK\n\n", &info, &hl), -1, "bare LFs");
	/* tests/fuzz/regress/insert: the first CRLF was in the body. */
	cr_expect_eq(offset_of("HTTP/1.1 200 OK\nContent-Length: 4\n\nab\r\n", &info, &hl), -1,
		     "a bare LF ends the status line");
	cr_expect_eq(offset_of("HTTP/2 200\r\n\r\n", &info, &hl), -1, "not HTTP/1.x");
	cr_expect_eq(offset_of("GET / HTTP/1.1\r\n", &info, &hl), -1, "a request");
	cr_expect_eq(offset_of("HTTP/1.1 20", &info, &hl), -1, "too short");
	cr_expect_eq(offset_of("", &info, &hl), -1);
	cr_expect(!info);

	cr_expect_eq(offset_of("HTTP/1.1 100 Continue\r\n\r\n", &info, &hl), -1);
	cr_expect(info);
	cr_expect_eq(hl, 25);
	cr_expect_eq(offset_of("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n", &info, &hl), -1);
	cr_expect(info);
	cr_expect_eq(hl, 0, "incomplete 1xx head");
	cr_expect_eq(offset_of("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", &info, &hl), -1);
	cr_expect(info);
	cr_expect_eq(hl, 25, "the 1xx head alone");
	/* After a 1xx, informational is reset. */
	cr_expect_eq(offset_of("HTTP/1.1 200 OK\r\n", &info, &hl), 17);
	cr_expect(!info);
	cr_expect_eq(hl, 0);

	/* 101 Switching Protocols is the last head: it takes them. */
	cr_expect_eq(offset_of("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
			       &info, &hl), 34);
	cr_expect(!info);
	cr_expect_eq(offset_of("HTTP/1.1 102 Processing\r\n\r\n", &info, &hl), -1);
	cr_expect(info);
	cr_expect_eq(offset_of("HTTP/1.1 110 x\r\n\r\n", &info, &hl), -1);
	cr_expect(info);
}

/* ---- choosing from the request head ---- */

static const struct segment_opts NO_OPTS = { .wscale = LIMPET_WSCALE_NONE };
static const char PART1[] = "GET / HTTP/1.1\r\nHost: x\r\n";
static const char PART2[] = "Cookie: s=1\r\n\r\n";
#define PART1_LEN ((__u32)sizeof(PART1) - 1)
#define PART2_LEN ((__u32)sizeof(PART2) - 1)

Test(slowpath, head_in_two_segments_waits_for_its_end)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, NULL);

	F.need_head = true;
	client_data(sp, 0, PART1, PART1_LEN, 0, 0);
	cr_expect_eq(F.n_sent, 0, "no backend before the head ends");
	cr_expect_eq(F.picks, 1);
	cr_expect_eq(F.head_len, PART1_LEN);
	cr_expect_not(F.head_final);
	/* A retransmission of the first part changes nothing. */
	client_data(sp, 0, PART1, PART1_LEN, 0, 5);
	cr_expect_eq(F.n_sent, 0);
	client_data(sp, PART1_LEN, PART2, PART2_LEN, LIMPET_TCP_PSH, 10);
	cr_assert_eq(F.n_sent, 1);
	expect_syn(sent(0), 0);
	cr_expect_eq(F.head_len, PART1_LEN + PART2_LEN, "shown the whole head");
	/* Bound: both parts go to the backend in order. */
	synack(sp, 0, 20);
	cr_assert_eq(F.n_sent, 3);
	expect_payload(sent(1), PART1, PART1_LEN);
	expect_payload(sent(2), PART2, PART2_LEN);
	slowpath_free(sp);
}

Test(slowpath, head_out_of_order_is_read_in_order)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V6, 1, NULL);

	F.need_head = true;
	/* The first segment proves the handshake; the second part overtakes. */
	client_data(sp, 0, PART1, 10, 0, 0);
	client_data(sp, PART1_LEN, PART2, PART2_LEN, LIMPET_TCP_PSH, 1);
	cr_expect_eq(F.n_sent, 0, "a hole: still waiting");
	cr_expect_eq(F.head_len, 10, "only the bytes before the hole");
	client_data(sp, 10, PART1 + 10, PART1_LEN - 10, 0, 2);
	cr_assert_eq(F.n_sent, 1);
	cr_expect_eq(F.head_len, PART1_LEN + PART2_LEN);
	slowpath_free(sp);
}

Test(slowpath, head_that_never_ends_is_decided_after_a_while)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);

	F.need_head = true;
	client_data(sp, 0, PART1, PART1_LEN, 0, 0);
	slowpath_tick(sp, 4900);
	cr_expect_eq(F.n_sent, 0);
	slowpath_tick(sp, 5000);
	cr_assert_eq(F.n_sent, 1);
	cr_expect(F.head_final);
	expect_syn(sent(0), 0);
	slowpath_free(sp);
}

Test(slowpath, head_cut_by_fin_is_final)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);

	F.need_head = true;
	client_data(sp, 0, PART1, PART1_LEN, LIMPET_TCP_FIN, 0);
	cr_assert_eq(F.n_sent, 1);
	cr_expect(F.head_final);
	slowpath_free(sp);
}

Test(slowpath, cookie_line_inserted_with_the_backend_header)
{
	static const char OUT[] = "HTTP/1.1 200 OK\r\nX-Limpet-Backend: be1\r\n"
				  "Set-Cookie: s=1234-be1\r\nContent-Length: 2\r\n\r\nhi";
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, "X-Limpet-Backend");
	struct flow_value *ret;

	F.issue_cookie = true;
	first_request(sp, 0);
	synack(sp, 0, 10);
	cr_assert_eq(F.n_sent, 2);
	backend_data(sp, 0, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 10, 100);
	cr_assert_eq(F.n_sent, 3);
	expect_payload(sent(2), OUT, sizeof(OUT) - 1);
	ret = flow_at(&F.be[0], &F.client);
	cr_assert(ret);
	cr_expect_eq(ret->sp.ins_len, sizeof(OUT) - 1 - HEAD_LEN);
	cr_expect_eq(slowpath_stats(sp)->cookies, 1);
	slowpath_free(sp);
}

Test(slowpath, cookie_names_the_backend_that_answered)
{
	static const char OUT[] = "HTTP/1.1 200 OK\r\nSet-Cookie: s=1234-be2\r\n"
				  "Content-Length: 2\r\n\r\nhi";
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, NULL);

	F.issue_cookie = true;
	first_request(sp, 0);
	/* be1 refuses: be2 answers, and the cookie must say be2. */
	feed(sp, &F.be[0], &F.client, 0, CISN + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &NO_OPTS, NULL, 0, 5);
	cr_assert_eq(F.n_sent, 3);
	expect_syn(sent(2), 1);
	synack(sp, 1, 10);
	backend_data(sp, 1, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 10, 100);
	cr_assert_eq(F.n_sent, 5);
	expect_payload(sent(4), OUT, sizeof(OUT) - 1);
	slowpath_free(sp);
}

Test(slowpath, no_retry_means_503_when_the_pinned_backend_refuses)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, NULL);

	F.svc.no_retry = true;
	first_request(sp, 0);
	feed(sp, &F.be[0], &F.client, 0, CISN + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &NO_OPTS, NULL, 0, 5);
	cr_assert_eq(F.n_sent, 3, "SYN, RST, 503");
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN);
	cr_expect_eq(slowpath_stats(sp)->retries, 0);
	cr_expect_eq(slowpath_stats(sp)->failed, 1);
	slowpath_free(sp);
}

/* ---- clients without timestamps ---- */

/*
 * A client that sent no timestamps completed limpet's own cookie, which kept
 * its window shift, SACK and MSS (limpet_syncookie.h): the backend's SYN
 * offers them in its name, and the windows are translated as with
 * timestamps, with none in sight.
 */
Test(slowpath, no_timestamps_own_cookie_keeps_scaling_and_sack)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	struct limpet_syncookie_opts kept = { .mss_index = 2, .wscale = 8, .sack_ok = 1 };
	struct segment_opts be = { .mss = 1460, .wscale = 9, .sack_ok = true };
	struct flow_key k = key_of(&F.client, &F.vip);
	struct flow_value *fv = flow_at(&F.client, &F.vip);
	const struct segment *syn;

	cr_assert(fv);
	fv->pending.syn = LIMPET_PENDING_OWN_COOKIE | (__u8)limpet_syncookie_data(&kept);
	fake_flow_set(NULL, &k, fv);
	feed(sp, &F.client, &F.vip, CISN + 1, F.cookie + 1, LIMPET_TCP_ACK | LIMPET_TCP_PSH, CWIN,
	     &NO_OPTS, REQUEST, REQ_LEN, 0);
	cr_assert_eq(F.n_sent, 1, "the backend's SYN");
	syn = sent(0);
	expect_syn(syn, 0);
	cr_expect_eq(syn->opt.mss, limpet_cookie_mss(2, false), "MSS %u", syn->opt.mss);
	cr_expect_eq(syn->opt.wscale, 8, "the client's shift offered: %u", syn->opt.wscale);
	cr_expect(syn->opt.sack_ok, "SACK offered");
	cr_expect(!syn->opt.ts_ok, "no timestamps invented");

	feed(sp, &F.be[0], &F.client, BISN, CISN + 1, LIMPET_TCP_SYN | LIMPET_TCP_ACK, 65535, &be,
	     NULL, 0, 5);
	fv = flow_at(&F.client, &F.vip);
	cr_assert(fv);
	cr_expect_eq(fv->sp.flags & LIMPET_SPLICE_WINDOW, 0, "both sides scale by 8");
	cr_expect_eq(fv->sp.wscale_in, 8);
	cr_expect_eq(fv->sp.wscale_out, 8);
	fv = flow_at(&F.be[0], &F.client);
	cr_assert(fv);
	cr_expect_eq(fv->sp.flags & LIMPET_SPLICE_TS, 0);
	cr_expect(fv->sp.flags & LIMPET_SPLICE_WINDOW, "9 in, our 7 out");
	cr_expect_eq(fv->sp.wscale_in, 9);
	cr_expect_eq(fv->sp.wscale_out, LIMPET_OUR_WSCALE);
	slowpath_free(sp);
}

/* Without timestamps or our own cookie (an old pending entry): as before. */
Test(slowpath, no_timestamps_kernel_cookie_agrees_nothing)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	const struct segment *syn;

	feed(sp, &F.client, &F.vip, CISN + 1, F.cookie + 1, LIMPET_TCP_ACK | LIMPET_TCP_PSH, CWIN,
	     &NO_OPTS, REQUEST, REQ_LEN, 0);
	cr_assert_eq(F.n_sent, 1);
	syn = sent(0);
	cr_expect_eq(syn->opt.wscale, LIMPET_WSCALE_NONE);
	cr_expect(!syn->opt.sack_ok);
	slowpath_free(sp);
}

/*
 * A client without timestamps on a cluster (this node id 1 of two): the
 * backend's side counts from an ISN naming the node in its top bit, so the
 * backend's acks name it too; the client never sees the shift.
 */
Test(slowpath, no_timestamps_on_a_cluster_shifts_the_backend_isn)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	struct limpet_ts_tag tag = { .bits = 1, .id = 1 };
	struct segment_opts be = { .mss = 1460, .wscale = LIMPET_WSCALE_NONE };
	const __u32 be_isn = (CISN & 0x3fffffffu) | 0x80000000u;
	const struct segment *s;
	struct flow_value *fv;

	slowpath_set_ts_tag(sp, tag);
	feed(sp, &F.client, &F.vip, CISN + 1, F.cookie + 1, LIMPET_TCP_ACK | LIMPET_TCP_PSH, CWIN,
	     &NO_OPTS, REQUEST, REQ_LEN, 0);
	cr_assert_eq(F.n_sent, 1, "the backend's SYN");
	expect_seg(sent(0), &F.client, &F.be[0], be_isn, 0, LIMPET_TCP_SYN);

	/* An answer to the client's ISN is not one to ours. */
	feed(sp, &F.be[0], &F.client, BISN, CISN + 1, LIMPET_TCP_SYN | LIMPET_TCP_ACK, 65535, &be,
	     NULL, 0, 5);
	cr_assert_eq(F.n_sent, 1, "nothing bound");
	feed(sp, &F.be[0], &F.client, BISN, be_isn + 1, LIMPET_TCP_SYN | LIMPET_TCP_ACK, 65535, &be,
	     NULL, 0, 6);
	cr_assert_eq(F.n_sent, 2, "the held request released");
	s = sent(1);
	expect_seg(s, &F.client, &F.be[0], be_isn + 1, BISN + 1, LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(s, REQUEST, REQ_LEN);

	/* The backend acks it in its space: the entries are the data plane's. */
	feed(sp, &F.be[0], &F.client, BISN + 1, be_isn + 1 + REQ_LEN, LIMPET_TCP_ACK, 100, &be,
	     NULL, 0, 7);
	fv = flow_at(&F.be[0], &F.client);
	cr_assert(fv);
	cr_expect_eq(fv->flags, LIMPET_FLOW_SPLICE | LIMPET_FLOW_RET, "the backend acked: %#x",
		     fv->flags);
	cr_expect_eq(limpet_splice_ack(&fv->sp, be_isn + 1 + REQ_LEN), CISN + 1 + REQ_LEN);
	cr_expect_eq(limpet_isn_node(be_isn + 1 + REQ_LEN, tag), 1);
	fv = flow_at(&F.client, &F.vip);
	cr_assert(fv);
	cr_expect_eq(limpet_splice_seq(&fv->sp, CISN + 1 + REQ_LEN), be_isn + 1 + REQ_LEN);
	slowpath_free(sp);
}

/* ---- the first response for a WebSocket upgrade ---- */

Test(slowpath, insert_into_101_switching_protocols)
{
	static const char SW[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
				 "Connection: Upgrade\r\n\r\n";
	const __u32 lsw = sizeof(SW) - 1, status = 34;
	struct slowpath *sp = bound_with_header(3);
	struct flow_value *ret = flow_at(&F.be[0], &F.client);
	char want[256];

	memcpy(want, SW, status);
	memcpy(want + status, INS, INS_LEN);
	memcpy(want + status + INS_LEN, SW + status, lsw - status);
	backend_data(sp, 0, 0, SW, lsw, LIMPET_TCP_PSH, 1, 100);
	cr_assert_eq(F.n_sent, 3);
	expect_payload(sent(2), want, lsw + INS_LEN);
	cr_expect_eq(ret->sp.ins_pos, BISN + 1 + status);
	cr_expect_eq(ret->sp.ins_len, INS_LEN);
	cr_expect_eq(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING, 0);
	slowpath_free(sp);
}

/* ---- a response head cut inside its status line ---- */

Test(slowpath, insert_waits_for_a_cut_status_line)
{
	struct slowpath *sp = bound_with_header(3);
	struct flow_value *ret = flow_at(&F.be[0], &F.client);

	/* "HTTP/1.1 " alone: held, nothing to the client yet. */
	backend_data(sp, 0, 0, HEAD, 9, 0, 1, 100);
	cr_expect_eq(F.n_sent, 2, "the cut status line went out");
	cr_expect(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING);
	/* Its retransmission changes nothing. */
	backend_data(sp, 0, 0, HEAD, 9, 0, 1, 110);
	cr_expect_eq(F.n_sent, 2);
	/* The rest: the head whole, with the insertion, in one segment. */
	backend_data(sp, 0, 9, HEAD + 9, HEAD_LEN - 9, LIMPET_TCP_PSH, 2, 120);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(2), HEAD_OUT, sizeof(HEAD_OUT) - 1);
	cr_expect_eq(ret->sp.ins_pos, BISN + 1 + STATUS_LEN);
	cr_expect_eq(ret->sp.ins_len, INS_LEN);
	cr_expect_eq(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING, 0);

	/* The second part again: the same bytes, after the cut. */
	backend_data(sp, 0, 9, HEAD + 9, HEAD_LEN - 9, LIMPET_TCP_PSH, 2, 300);
	cr_assert_eq(F.n_sent, 4);
	expect_seg(sent(3), &F.vip, &F.client, F.cookie + 1 + 9, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(3), HEAD_OUT + 9, sizeof(HEAD_OUT) - 1 - 9);
	slowpath_free(sp);
}

Test(slowpath, insert_cut_status_line_in_three)
{
	/* Three pieces, the last one all again with more (a collapsed
	 * retransmission of the first two and the rest).
	 */
	struct slowpath *sp = bound_with_header(3);

	backend_data(sp, 0, 0, HEAD, 7, 0, 1, 100);		/* "HTTP/1." */
	backend_data(sp, 0, 7, HEAD + 7, 5, 0, 1, 110);		/* "1 200" */
	cr_expect_eq(F.n_sent, 2);
	backend_data(sp, 0, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 2, 120);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(2), HEAD_OUT, sizeof(HEAD_OUT) - 1);
	slowpath_free(sp);
}

Test(slowpath, insert_cut_status_line_gives_up_in_time)
{
	struct slowpath *sp = bound_with_header(3);
	struct flow_value *ret = flow_at(&F.be[0], &F.client);

	backend_data(sp, 0, 0, HEAD, 9, 0, 1, 100);
	slowpath_tick(sp, 1099);
	cr_expect_eq(F.n_sent, 2);
	/* A second late: what was held goes as it came, nothing inserted. */
	slowpath_tick(sp, 1100);
	cr_assert_eq(F.n_sent, 3);
	expect_seg(sent(2), &F.vip, &F.client, F.cookie + 1, CISN + 1 + REQ_LEN, LIMPET_TCP_ACK);
	expect_payload(sent(2), HEAD, 9);
	cr_expect_eq(ret->sp.flags & LIMPET_SPLICE_HEAD_PENDING, 0);
	cr_expect_eq(ret->sp.ins_len, 0);

	/* Not a status line: relayed at once as before. */
	slowpath_free(sp);
	sp = bound_with_header(3);
	backend_data(sp, 0, 0, "HTTP/2 ", 7, 0, 1, 100);
	cr_expect_eq(F.n_sent, 3);
	slowpath_free(sp);
}

/* ---- acknowledging what is held ---- */

/* The <i>-th ACK we sent the client: up to <ack>, at <now>. */
static void expect_held_ack(int i, __u32 ack, __u32 now)
{
	const struct segment *a;

	cr_assert_lt(i, F.n_acks, "ACK %d was not sent (%d were)", i, F.n_acks);
	a = &F.acks[i].seg;
	expect_seg(a, &F.vip, &F.client, F.cookie + 1, ack, LIMPET_TCP_ACK);
	expect_ts(a, F.our_ts + now, CTS);
	cr_expect_eq(a->window, (65536 - (ack - CISN - 1)) >> LIMPET_OUR_WSCALE,
		     "ACK %d: window %u", i, a->window);
}

Test(slowpath, held_segments_are_acked)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	const __u32 all = PART1_LEN + PART2_LEN;
	struct segment_opts o;
	struct flow_value *fwd, *ret;

	F.need_head = true;
	client_data(sp, 0, PART1, 10, 0, 0);
	expect_held_ack(0, CISN + 1 + 10, 0);
	cr_expect_eq(slowpath_binding(sp), 1);
	/* Out of order: the same ack again. */
	client_data(sp, PART1_LEN, PART2, PART2_LEN, LIMPET_TCP_PSH, 100);
	expect_held_ack(1, CISN + 1 + 10, 100);
	/* The hole filled: all of it, and the head is complete. */
	client_data(sp, 10, PART1 + 10, PART1_LEN - 10, 0, 500);
	expect_held_ack(2, CISN + 1 + all, 500);
	cr_assert_eq(F.n_sent, 1);
	expect_syn(sent(0), 0);
	cr_expect_eq(slowpath_binding(sp), 1);
	/* A retransmission while binding: acked again. */
	client_data(sp, 0, PART1, 10, 0, 600);
	expect_held_ack(3, CISN + 1 + all, 600);
	cr_expect_eq(F.n_acks, 4);
	cr_expect_eq(slowpath_stats(sp)->acked, 4);

	/* Bound: the backend's clock goes on from our last TSval. */
	synack(sp, 0, 700);
	cr_expect_eq(slowpath_binding(sp), 0, "bound: no longer being bound");
	cr_expect_eq(slowpath_connections(sp), 1);
	fwd = flow_at(&F.client, &F.vip);
	ret = flow_at(&F.be[0], &F.client);
	cr_assert(fwd && ret);
	cr_expect_eq(fwd->flags, LIMPET_FLOW_SPLICE | LIMPET_FLOW_SEQ_NEXT);
	cr_expect_eq(fwd->sp.tsecr_delta, F.our_ts + 600 - BTS);
	cr_expect_eq(ret->sp.tsval_delta, F.our_ts + 600 - BTS);
	cr_expect_eq(ret->flags, LIMPET_FLOW_SLOWPATH | LIMPET_FLOW_RET,
		     "the backend's side is ours until it acks what we acked");
	/* What is held, in order; each echoes the backend's SYN-ACK. */
	cr_assert_eq(F.n_sent, 4);
	expect_seg(sent(1), &F.client, &F.be[0], CISN + 1, BISN + 1, LIMPET_TCP_ACK);
	expect_payload(sent(1), PART1, 10);
	expect_seg(sent(2), &F.client, &F.be[0], CISN + 1 + 10, BISN + 1, LIMPET_TCP_ACK);
	expect_seg(sent(3), &F.client, &F.be[0], CISN + 1 + PART1_LEN, BISN + 1,
		   LIMPET_TCP_ACK | LIMPET_TCP_PSH);
	expect_payload(sent(3), PART2, PART2_LEN);
	expect_ts(sent(1), CTS, BTS);
	expect_ts(sent(3), CTS, BTS);

	/* Not acked by the backend: sent again after 200 ms, then 400 ms. */
	slowpath_tick(sp, 899);
	cr_expect_eq(F.n_sent, 4);
	slowpath_tick(sp, 900);
	cr_assert_eq(F.n_sent, 7);
	expect_payload(sent(4), PART1, 10);
	slowpath_tick(sp, 1299);
	cr_expect_eq(F.n_sent, 7);
	slowpath_tick(sp, 1300);
	cr_expect_eq(F.n_sent, 10);
	cr_expect_eq(slowpath_stats(sp)->resent, 6);

	/* Part of it acked: not yet. */
	o = client_ts(BTS + 640, CTS);
	feed(sp, &F.be[0], &F.client, BISN + 1, CISN + 1 + 10, LIMPET_TCP_ACK, 100, &o, NULL, 0,
	     1340);
	cr_expect_eq(ret->flags, LIMPET_FLOW_SLOWPATH | LIMPET_FLOW_RET);
	/* All of it: the data plane's from here, nothing resent any more. */
	o = client_ts(BTS + 650, CTS);
	feed(sp, &F.be[0], &F.client, BISN + 1, CISN + 1 + all, LIMPET_TCP_ACK, 100, &o, NULL, 0,
	     1350);
	cr_expect_eq(ret->flags, LIMPET_FLOW_SPLICE | LIMPET_FLOW_RET);
	/* Its ACK reaches the client after ours in time: PAWS keeps it. */
	expect_seg(last_ack(), &F.vip, &F.client, F.cookie + 1, CISN + 1 + all, LIMPET_TCP_ACK);
	cr_expect_eq(last_ack()->opt.tsval, F.our_ts + 600 + 650);
	slowpath_tick(sp, 5000);
	cr_expect_eq(F.n_sent, 10);
	slowpath_free(sp);
}

Test(slowpath, held_bytes_resent_until_given_up)
{
	/* A backend that never acks: a few resends, then the data plane's. */
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	struct flow_value *ret;
	__u64 t;

	first_request(sp, 0);
	synack(sp, 0, 10);
	for (t = 10; t <= 30000; t += 10)
		slowpath_tick(sp, t);
	cr_expect_eq(slowpath_stats(sp)->resent, 6);
	ret = flow_at(&F.be[0], &F.client);
	cr_expect_eq(ret->flags, LIMPET_FLOW_SPLICE | LIMPET_FLOW_RET);
	cr_expect_eq(slowpath_connections(sp), 0);
	slowpath_free(sp);
}

Test(slowpath, head_wait_counts_from_the_last_byte)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);

	F.need_head = true;
	client_data(sp, 0, PART1, 10, 0, 0);
	client_data(sp, 10, PART1 + 10, 5, 0, 3000);
	slowpath_tick(sp, 5000);
	cr_expect_eq(F.n_sent, 0, "decided 2 s after the client's last byte");
	slowpath_tick(sp, 7999);
	cr_expect_eq(F.n_sent, 0);
	slowpath_tick(sp, 8000);
	cr_assert_eq(F.n_sent, 1);
	cr_expect(F.head_final);
	expect_syn(sent(0), 0);
	slowpath_free(sp);
}

Test(slowpath, long_head_decided_at_its_limit)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	char chunk[1400];
	__u32 off = 0;
	int i;

	memset(chunk, 'a', sizeof(chunk));
	memcpy(chunk, "GET / HTTP/1.1\r\nX: ", 19);
	F.need_head = true;
	for (i = 0; off < SLOWPATH_HEAD_MAX; i++) {
		cr_expect_eq(F.n_sent, 0);
		client_data(sp, off, chunk, sizeof(chunk), 0, (__u64)i);
		off += sizeof(chunk);
		expect_held_ack(i, CISN + 1 + off, (__u32)i);
	}
	cr_assert_eq(F.n_sent, 1, "decided without waiting");
	cr_expect(F.head_final);
	cr_expect_geq(F.head_len, SLOWPATH_HEAD_MAX);
	slowpath_free(sp);
}

/* ---- a retry's answer on the cookie ---- */

Test(slowpath, retry_decides_the_cookie)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, NULL);
	static const char OUT[] = "HTTP/1.1 200 OK\r\nSet-Cookie: s=1234-be2\r\n"
				  "Content-Length: 2\r\n\r\nhi";

	/* The session's backend refused; the retry keeps the cookie
	 * (failover temporary): none is set, whatever the first pick said.
	 */
	F.issue_cookie = true;
	F.retry_issue = 0;
	first_request(sp, 0);
	feed(sp, &F.be[0], &F.client, 0, CISN + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &NO_OPTS,
	     NULL, 0, 5);
	synack(sp, 1, 10);
	backend_data(sp, 1, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 10, 100);
	cr_assert_eq(F.n_sent, 5);
	expect_payload(sent(4), HEAD, HEAD_LEN);
	cr_expect_eq(slowpath_stats(sp)->cookies, 0);
	slowpath_free(sp);

	/* It re-issues it (failover sticky): set, naming the new backend. */
	sp = setup(LIMPET_FAMILY_V4, 2, NULL);
	F.issue_cookie = false;
	F.retry_issue = 1;
	first_request(sp, 0);
	feed(sp, &F.be[0], &F.client, 0, CISN + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &NO_OPTS,
	     NULL, 0, 5);
	synack(sp, 1, 10);
	backend_data(sp, 1, 0, HEAD, HEAD_LEN, LIMPET_TCP_PSH, 10, 100);
	cr_assert_eq(F.n_sent, 5);
	expect_payload(sent(4), OUT, sizeof(OUT) - 1);
	slowpath_free(sp);
}

Test(slowpath, held_segments_never_older_than_the_syn)
{
	/* The pieces of a head carry the client's TSvals of their time: the
	 * SYN carries the earliest, so the backend's PAWS check takes each
	 * held piece, and each goes out with a TSval no older than the SYN's.
	 */
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 1, NULL);
	struct segment_opts o;

	F.need_head = true;
	o = client_ts(CTS + 500, F.our_ts);
	feed(sp, &F.client, &F.vip, CISN + 1 + 10, F.cookie + 1, LIMPET_TCP_ACK, CWIN, &o,
	     PART1 + 10, PART1_LEN - 10, 0);
	o = client_ts(CTS, F.our_ts);	/* sent first, came second */
	feed(sp, &F.client, &F.vip, CISN + 1, F.cookie + 1, LIMPET_TCP_ACK, CWIN, &o, PART1, 10, 1);
	o = client_ts(CTS + 1000, F.our_ts + 1);
	feed(sp, &F.client, &F.vip, CISN + 1 + PART1_LEN, F.cookie + 1, LIMPET_TCP_ACK, CWIN, &o,
	     PART2, PART2_LEN, 2);
	cr_assert_eq(F.n_sent, 1);
	expect_syn(sent(0), 0);
	expect_ts(sent(0), CTS, 0);
	synack(sp, 0, 10);
	cr_assert_eq(F.n_sent, 4);
	expect_ts(sent(1), CTS, BTS);
	expect_ts(sent(2), CTS + 500, BTS);
	expect_ts(sent(3), CTS + 1000, BTS);
	slowpath_free(sp);
}

/*
 * RFC 5961 while binding: a spoofed RST (in the window but not at the next
 * byte, or outside it) or a SYN leaves the connection, which then binds as
 * usual; in-window ones get a challenge ACK, at most one per 500 ms.
 */
Test(slowpath, inexact_rst_and_syn_while_binding)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V4, 2, NULL);
	struct segment_opts o = client_ts(CTS, F.our_ts);
	const __u32 next = CISN + 1 + REQ_LEN;
	int acks;

	first_request(sp, 0);
	cr_assert_eq(F.n_sent, 1);
	expect_syn(sent(0), 0);
	acks = F.n_acks;
	feed(sp, &F.client, &F.vip, next + 1000, F.cookie + 1, LIMPET_TCP_RST, 0, &o, NULL, 0,
	     1000);
	cr_assert_eq(F.n_acks, acks + 1, "in-window RST: no challenge ACK");
	expect_seg(last_ack(), &F.vip, &F.client, F.cookie + 1, next, LIMPET_TCP_ACK);
	feed(sp, &F.client, &F.vip, next + 1, F.cookie + 1, LIMPET_TCP_RST | LIMPET_TCP_ACK, 0, &o,
	     NULL, 0, 1100);
	cr_expect_eq(F.n_acks, acks + 1, "a second challenge ACK within 500 ms");
	feed(sp, &F.client, &F.vip, next + 0x80000000u, 0, LIMPET_TCP_RST, 0, &o, NULL, 0, 2000);
	cr_expect_eq(F.n_acks, acks + 1, "out-of-window RST: challenged");
	feed(sp, &F.client, &F.vip, CISN + 77, 0, LIMPET_TCP_SYN, CWIN, &o, NULL, 0, 2100);
	cr_assert_eq(F.n_acks, acks + 2, "SYN: no challenge ACK");
	expect_seg(last_ack(), &F.vip, &F.client, F.cookie + 1, next, LIMPET_TCP_ACK);

	cr_expect_eq(F.n_sent, 1, "something went to the backend");
	cr_expect_eq(slowpath_stats(sp)->aborted, 0);
	cr_expect_eq(slowpath_connections(sp), 1);
	cr_expect_not_null(flow_at(&F.client, &F.vip));
	cr_expect_not_null(flow_at(&F.be[0], &F.client));
	/* Still bound as usual: the request goes to the backend. */
	synack(sp, 0, 2200);
	cr_assert_eq(F.n_sent, 2);
	expect_payload(sent(1), REQUEST, REQ_LEN);
	slowpath_free(sp);
}

/* A head in two parts: a spoofed RST between them does not end it; the
 * exact one does, before any backend was chosen.
 */
Test(slowpath, rst_between_head_parts)
{
	struct slowpath *sp = setup(LIMPET_FAMILY_V6, 2, NULL);
	struct segment_opts o = client_ts(CTS, F.our_ts);

	F.need_head = true;
	client_data(sp, 0, PART1, PART1_LEN, 0, 0);
	feed(sp, &F.client, &F.vip, CISN + 1 + PART1_LEN + 3, F.cookie + 1, LIMPET_TCP_RST, 0, &o,
	     NULL, 0, 10);
	cr_expect_eq(slowpath_connections(sp), 1, "an inexact RST ended the binding");
	client_data(sp, PART1_LEN, PART2, PART2_LEN, LIMPET_TCP_PSH, 20);
	cr_assert_eq(F.n_sent, 1);
	expect_syn(sent(0), 0);
	cr_expect_eq(F.head_len, PART1_LEN + PART2_LEN, "shown the whole head");
	slowpath_free(sp);

	memset(&F, 0, sizeof(F));
	sp = setup(LIMPET_FAMILY_V6, 2, NULL);
	F.need_head = true;
	client_data(sp, 0, PART1, PART1_LEN, 0, 0);
	feed(sp, &F.client, &F.vip, CISN + 1 + PART1_LEN, F.cookie + 1, LIMPET_TCP_RST, 0, &o, NULL,
	     0, 10);
	cr_expect_eq(slowpath_connections(sp), 0, "the exact RST did not end the binding");
	cr_expect_eq(slowpath_stats(sp)->aborted, 1);
	cr_expect_null(flow_at(&F.client, &F.vip));
	cr_expect_eq(F.n_sent, 0, "a backend was contacted");
	slowpath_free(sp);
}

