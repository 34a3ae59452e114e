// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_slowpath.c - libFuzzer target of the slow path's state machine
 * (user/slowpath.c) and its segments (user/segment.c), driven through
 * struct slowpath_ops with fakes as tests/unit/test_slowpath.c does.
 *
 * The input is a script. Byte 0 sets the scene (address family, whether
 * the service inserts a header, issues cookies, waits for the whole
 * request head, may retry, has no backend at all); byte 1 what the client's SYN offered. Then
 * each op is one byte and its arguments:
 *
 *   0, 1  a client segment (two client ports), 2 a backend segment (three
 *         backends): flags, seq and ack as offsets from the handshake's,
 *         options, payload from the input (when the op's bit 6 is set, from
 *         the client's request or the backend's response stream instead);
 *         built with segment_header() or
 *         with raw option bytes, then through segment_build() and
 *         segment_parse() as the AF_XDP path hands it over
 *   3     time passes, slowpath_tick()
 *   4     the data plane makes a new pending entry (port reuse)
 *   5     the data plane loses an entry (LRU eviction)
 *   6     the scene changes (another header, cookie, head or retry policy)
 *   7     an Ethernet frame straight from the input to segment_parse(), its
 *         TCP checksum made right unless the op's top bit is set
 *
 * Every packet sent must parse (checksums included), be no longer than
 * SEG_PACKET_MAX, go from the VIP to a client or from a client to a
 * backend, and never carry a SYN to a client; every flow entry written
 * must hold shifts and insertion lengths within range; what a client gets
 * of a backend's response stream must be its bytes at the sequence numbers
 * the return entry translates from, and what a backend gets of a client's
 * request stream its bytes at their own sequence numbers; the counters must
 * stay consistent (nothing bound, failed or aborted that was not taken),
 * and each segment counted as relayed must have gone out.
 * At the end a tick far in the future leaves no connection, and freeing
 * the slow path leaks nothing (LeakSanitizer).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "fuzz.h"
#include "limpet_tcpopt.h"
#include "base/log.h"
#include "http/segment.h"
#include "http/slowpath.h"

#define CISN 0x11223344u
#define BISN 0x70000000u
#define COOKIE 0xffffffc0u
#define CTS 5000u
#define BTS 900000u
#define ETH_HLEN 14
#define MAX_FLOWS 64
#define MAX_BE 3
#define MAX_CLIENTS 2
#define MAX_OPS 96
#define MAX_SENDS 20000
/* An AF_XDP frame (4096 bytes, 256 of headroom) holds this much TCP payload. */
#define PAYLOAD_MAX (4096 - 256 - ETH_HLEN - 40 - LIMPET_TCP_HDR_MAX)

struct ep {
	struct limpet_addr addr;
	__be16 port;
};

struct flow {
	bool used;
	struct flow_key key;
	struct flow_value val;
};

static struct {
	__u8 family;
	struct ep client[MAX_CLIENTS], vip, be[MAX_BE];
	struct slowpath_backend backends[MAX_BE];
	struct slowpath_service svc;
	struct flow flows[MAX_FLOWS];
	__u32 cookie[MAX_CLIENTS];
	bool need_head, issue_cookie, no_backend;
	__u32 our_ts;
	int sends;
	bool taint[MAX_CLIENTS];	/* the client's stream is not the backends' alone */
	bool req_taint[MAX_CLIENTS];	/* the client sent bytes not of request_byte() */
} F;

/* Byte <off> of every client's request stream, from its ISN + 1. */
static __u8 request_byte(__u32 off)
{
	static const char head[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

	return off < sizeof(head) - 1 ? (__u8)head[off] : (__u8)(off * 37 + 11);
}

/*
 * Byte <off> of every backend's response stream, counted from its ISN + 1:
 * a head the slow path writes into, then a pattern. Segments in stream
 * mode carry these bytes at their sequence numbers, so what reaches a
 * client can be checked byte for byte.
 */
static __u8 stream_byte(__u32 off)
{
	static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";

	return off < sizeof(head) - 1 ? (__u8)head[off] : (__u8)(off * 131 + 7);
}

static bool addr_eq(const struct limpet_addr *a, const struct limpet_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static bool is_ep(const struct limpet_addr *a, __be16 port, const struct ep *e)
{
	return addr_eq(a, &e->addr) && port == e->port;
}

static struct flow *flow_find(const struct flow_key *key);
static struct flow_key key_of(const struct ep *src, const struct ep *dst);

/*
 * The bytes a bound connection sends client <ci> are the backend's stream
 * at the sequence numbers its return entry translates them from, with the
 * inserted bytes (not checked here) at its insertion point.
 */
static void check_client_bytes(int ci, const struct segment *s)
{
	const struct limpet_splice *sp = NULL;
	struct flow_key k;
	struct flow *f;
	__u32 i, q, bs;
	int b;

	for (b = 0; b < MAX_BE && !sp; b++) {
		k = key_of(&F.be[b], &F.client[ci]);
		f = flow_find(&k);
		if (f && (f->val.flags & LIMPET_FLOW_SPLICE))
			sp = &f->val.sp;
	}
	if (!sp)
		return;	/* not bound (a 503), or the entry is gone */
	b--;
	for (i = 0; i < s->payload_len; i++) {
		q = s->seq + i - sp->seq_delta;
		if (!sp->ins_len || limpet_seq_after(sp->ins_pos, q))
			bs = q;
		else if (q - sp->ins_pos >= sp->ins_len)
			bs = q - sp->ins_len;
		else
			continue;	/* an inserted byte */
		FUZZ_CHECK(s->payload[i] == stream_byte(bs - (BISN + (__u32)b + 1)),
			   "client %d gets %#x at seq %#x, backend %d's byte at %#x is %#x", ci,
			   s->payload[i], s->seq + i, b, bs, stream_byte(bs - (BISN + (__u32)b + 1)));
	}
}

static int fake_send(void *ctx, __u8 family, const void *pkt, size_t len)
{
	static __u8 frame[ETH_HLEN + 65536];
	struct segment s;
	bool to_client = false, to_backend = false;
	int i;

	FUZZ_CHECK(++F.sends <= MAX_SENDS, "more than %d packets sent", MAX_SENDS);
	FUZZ_CHECK(len <= SEG_PACKET_MAX, "a packet of %zu bytes sent", len);
	FUZZ_CHECK(family == F.family, "family %u", family);
	memset(frame, 0, ETH_HLEN);
	frame[12] = family == LIMPET_FAMILY_V6 ? 0x86 : 0x08;
	frame[13] = family == LIMPET_FAMILY_V6 ? 0xdd : 0x00;
	memcpy(frame + ETH_HLEN, pkt, len);
	FUZZ_CHECK(!segment_parse(frame, ETH_HLEN + len, &s), "a packet sent does not parse");
	for (i = 0; i < MAX_CLIENTS; i++) {
		to_client |= is_ep(&s.src, s.sport, &F.vip) && is_ep(&s.dst, s.dport, &F.client[i]);
		to_backend |= is_ep(&s.src, s.sport, &F.client[i]);
	}
	if (to_backend) {
		to_backend = false;
		for (i = 0; i < MAX_BE; i++)
			to_backend |= is_ep(&s.dst, s.dport, &F.be[i]);
	}
	FUZZ_CHECK(to_client || to_backend, "a packet to nobody");
	/* What reaches a backend is the client's request stream, untranslated. */
	for (i = 0; to_backend && i < MAX_CLIENTS; i++) {
		__u32 k;

		if (!is_ep(&s.src, s.sport, &F.client[i]) || F.req_taint[i])
			continue;
		for (k = 0; k < s.payload_len; k++)
			FUZZ_CHECK(s.payload[k] == request_byte(s.seq + k - (CISN + (__u32)i + 1)),
				   "backend gets %#x at seq %#x from client %d", s.payload[k],
				   s.seq + k, i);
	}
	if (to_client) {
		FUZZ_CHECK(!(s.flags & LIMPET_TCP_SYN), "a SYN to the client");
		for (i = 0; i < MAX_CLIENTS; i++)
			if (is_ep(&s.dst, s.dport, &F.client[i]) && !F.taint[i])
				check_client_bytes(i, &s);
	}
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

static void check_splice(const struct limpet_splice *sp)
{
	FUZZ_CHECK(sp->wscale_in <= LIMPET_TCP_MAX_WSCALE &&
			   sp->wscale_out <= LIMPET_TCP_MAX_WSCALE,
		   "shifts %u %u", sp->wscale_in, sp->wscale_out);
	FUZZ_CHECK(sp->ins_len <= SLOWPATH_INSERT_MAX && sp->ack_ins_len <= SLOWPATH_INSERT_MAX,
		   "insertion of %u/%u bytes", sp->ins_len, sp->ack_ins_len);
	FUZZ_CHECK(!(sp->flags & ~7), "splice flags %#x", sp->flags);
}

static int fake_flow_set(void *ctx, const struct flow_key *key, const struct flow_value *val)
{
	struct flow *f = flow_find(key);
	int i;

	FUZZ_CHECK(key->proto == IPPROTO_TCP && key->family == F.family, "flow key");
	if (val->flags & LIMPET_FLOW_SPLICE)
		check_splice(&val->sp);
	for (i = 0; !f && i < MAX_FLOWS; i++)
		if (!F.flows[i].used)
			f = &F.flows[i];
	if (!f)
		return -E2BIG;
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
	int i;
	size_t j;

	FUZZ_CHECK(req->head_len <= SLOWPATH_HEAD_MAX, "head of %u bytes", req->head_len);
	FUZZ_CHECK(n_tried <= 16, "%zu tried", n_tried);
	FUZZ_CHECK(req->pending && (req->pending->flags & LIMPET_FLOW_SLOWPATH), "pending entry");
	if (F.need_head && !req->head_final && !head_ended(req->head, req->head_len))
		return -EAGAIN;
	if (F.no_backend)
		return -ENOENT;
	cookie->issue = F.issue_cookie;
	cookie->session = 0x1234;
	for (i = 0; i < MAX_BE; i++) {
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
	int n = snprintf(buf, size, "Set-Cookie: s=%llx-%s; Path=/; Max-Age=82800; HttpOnly\r\n",
			 (unsigned long long)cookie->session, be->name);

	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

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
	k.proto = IPPROTO_TCP;
	k.family = F.family;
	return k;
}

/* The entry the data plane makes when client <i>'s cookie handshake completes. */
static void add_pending(int i)
{
	struct flow_value v = { .flags = LIMPET_FLOW_SLOWPATH, .service_id = 7 };
	struct flow_key k = key_of(&F.client[i], &F.vip);

	v.pending.client_isn = CISN + (__u32)i;
	v.pending.cookie_isn = F.cookie[i];
	fake_flow_set(NULL, &k, &v);
}

static void scene(__u8 b)
{
	static const char *const headers[4] = { "", "X-Backend", "X-Limpet-Backend-Name-Long", "A" };

	snprintf(F.svc.backend_header, sizeof(F.svc.backend_header), "%s", headers[b & 3]);
	F.issue_cookie = b & 4;
	F.need_head = b & 8;
	F.svc.no_retry = b & 16;
	F.svc.connect_timeout_ms = (b & 32) ? 1 : 1000;
	F.no_backend = b & 64;
}

static void setup(__u8 b0, __u8 b1)
{
	struct limpet_tcpopt o;
	int i;

	memset(&F, 0, sizeof(F));
	F.family = b0 & 0x80 ? LIMPET_FAMILY_V6 : LIMPET_FAMILY_V4;
	for (i = 0; i < MAX_CLIENTS; i++) {
		F.client[i].addr = addr_of(F.family, 1);
		F.client[i].port = htons((__u16)(40000 + i));
		F.cookie[i] = COOKIE + (__u32)i * 0x1000;
	}
	F.vip.addr = addr_of(F.family, 100);
	F.vip.port = htons(80);
	for (i = 0; i < MAX_BE; i++) {
		struct slowpath_backend *b = &F.backends[i];

		F.be[i].addr = addr_of(F.family, (__u8)(11 + i));
		F.be[i].port = htons(8080);
		b->id = 11 + (__u32)i;
		b->gen = 3;
		b->service_id = 7;
		b->addr = F.be[i].addr;
		b->port = F.be[i].port;
		snprintf(b->name, sizeof(b->name), "be%d", i + 1);
	}
	scene(b0);
	/* What the client's SYN offered, in our SYN-ACK's TSval. */
	limpet_tcpopt_init(&o);
	o.wscale = (b1 & 15) > LIMPET_TCP_MAX_WSCALE ? LIMPET_WSCALE_NONE : b1 & 15;
	o.sack_ok = !!(b1 & 16);
	o.ts_ok = 1;
	F.our_ts = limpet_tscookie_encode(0x12345600u, &o, b1 & 32, (b1 >> 6) & 3,
					  (struct limpet_ts_tag){ 0 });
	for (i = 0; i < MAX_CLIENTS; i++)
		add_pending(i);
}

/* A segment from <from> to <to>, its header and payload from the input. */
/*
 * A segment from <from> to <to>, its header from the input. Its payload:
 * from the input when <raw> (which marks <taint>), else a backend's
 * (<stream>) from stream_byte() counted from seq0 + 1, a client's from
 * request_byte() counted from seq0.
 */
static void segment_op(struct slowpath *sp, struct fuzz_in *in, const struct ep *from,
		       const struct ep *to, __u32 seq0, __u32 ack0, __u32 ts0, __u32 tsecr0,
		       __u64 now, bool stream, bool raw, bool *taint)
{
	static __u8 frame[ETH_HLEN + 40 + LIMPET_TCP_HDR_MAX + PAYLOAD_MAX];
	struct segment_opts o = { .wscale = LIMPET_WSCALE_NONE };
	__u8 th[LIMPET_TCP_HDR_MAX], how = fuzz_u8(in), flags = fuzz_u8(in);
	__u32 seq = seq0 + (__u32)(__s16)fuzz_u16(in), ack = ack0, th_len, opt_len;
	__u16 len = fuzz_u16(in), win = fuzz_u16(in);
	const __u8 *payload, *opts;
	struct segment seg;
	size_t n;
	int ret;

	/* Mostly the ack the peer expects; sometimes anything. */
	if (how & 1)
		ack += (__u32)(__s8)fuzz_u8(in);
	if (how & 2)
		ack = fuzz_u32(in);
	if (how & 4) {
		/* Raw options: whatever the input says. */
		th_len = segment_header(th, seq, ack, flags, win, NULL);
		opts = fuzz_bytes(in, LIMPET_TCP_HDR_MAX - LIMPET_TCP_HDR_MIN, &n);
		opt_len = (__u32)n & ~3u;
		memcpy(th + LIMPET_TCP_HDR_MIN, opts, opt_len);
		th_len += opt_len;
		th[12] = (__u8)(th_len / 4) << 4;
	} else {
		o.ts = !(how & 8);
		o.tsval = ts0 + (how >> 4);
		o.tsecr = tsecr0;
		if (flags & LIMPET_TCP_SYN) {
			o.mss = 1460;
			o.wscale = how & 0x10 ? LIMPET_WSCALE_NONE : (how >> 5) & 15;
			o.sack_ok = how & 0x20;
		}
		th_len = segment_header(th, seq, ack, flags, win, &o);
	}
	if (!raw) {
		static __u8 buf[PAYLOAD_MAX];
		__u32 i;

		n = len % (PAYLOAD_MAX + 1);
		for (i = 0; i < n; i++)
			buf[i] = stream ? stream_byte(seq + i - (seq0 + 1)) :
					  request_byte(seq + i - seq0);
		payload = buf;
	} else {
		payload = fuzz_bytes(in, len % (PAYLOAD_MAX + 1), &n);
		if (n)
			*taint = true;
	}
	memset(frame, 0, ETH_HLEN);
	frame[12] = F.family == LIMPET_FAMILY_V6 ? 0x86 : 0x08;
	frame[13] = F.family == LIMPET_FAMILY_V6 ? 0xdd : 0x00;
	ret = segment_build(frame + ETH_HLEN, sizeof(frame) - ETH_HLEN, F.family, &from->addr,
			    from->port, &to->addr, to->port, th, th_len, payload, (__u32)n);
	FUZZ_CHECK(ret > 0, "segment_build: %d", ret);
	FUZZ_CHECK(!segment_parse(frame, ETH_HLEN + (size_t)ret, &seg), "own segment does not parse");
	FUZZ_CHECK(seg.payload_len == n && seg.th_len == th_len && seg.seq == seq && seg.ack == ack &&
			   seg.flags == flags,
		   "segment does not parse back");
	slowpath_segment(sp, &seg, now);
}

static __u32 sum16(__u32 sum, const __u8 *b, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (__u32)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (__u32)b[len - 1] << 8;
	return sum;
}

/*
 * Make the TCP checksum of <frame> right where it is IPv4 or IPv6 TCP with
 * lengths that fit, as a fuzzer cannot: else segment_parse() would refuse
 * every frame at the checksum, before the checks behind it.
 */
static void fix_checksum(__u8 *f, size_t len)
{
	__u32 l3, ip_len, l4_len, sum = 0;
	__u8 *tcp;

	if (len < ETH_HLEN + 40)
		return;
	if (f[12] == 0x08 && f[13] == 0x00) {
		l3 = (f[ETH_HLEN] & 0xf) * 4u;
		ip_len = (__u32)(f[ETH_HLEN + 2] << 8 | f[ETH_HLEN + 3]);
		sum = sum16(sum16(0, f + ETH_HLEN + 12, 4), f + ETH_HLEN + 16, 4);
	} else if (f[12] == 0x86 && f[13] == 0xdd) {
		l3 = 40;
		ip_len = 40 + (__u32)(f[ETH_HLEN + 4] << 8 | f[ETH_HLEN + 5]);
		sum = sum16(sum16(0, f + ETH_HLEN + 8, 16), f + ETH_HLEN + 24, 16);
	} else {
		return;
	}
	if (l3 < 20 || ip_len < l3 + LIMPET_TCP_HDR_MIN || ip_len > len - ETH_HLEN)
		return;
	tcp = f + ETH_HLEN + l3;
	l4_len = ip_len - l3;
	tcp[16] = tcp[17] = 0;
	sum = sum16(sum + IPPROTO_TCP + (l4_len & 0xffff) + (l4_len >> 16), tcp, l4_len);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	tcp[16] = (__u8)(~sum >> 8);
	tcp[17] = (__u8)~sum;
}

/* An Ethernet frame as it comes: segment_parse() must refuse or read it in bounds. */
static void frame_op(struct slowpath *sp, struct fuzz_in *in, __u8 op, __u64 now)
{
	const __u8 *raw;
	struct segment seg;
	__u8 *frame;
	size_t n;

	raw = fuzz_bytes(in, fuzz_u16(in) % 4096, &n);
	frame = malloc(n ? n : 1);
	FUZZ_CHECK(frame, "malloc");
	memcpy(frame, raw, n);
	if (!(op & 0x80))
		fix_checksum(frame, n);
	if (!segment_parse(frame, n, &seg)) {
		FUZZ_CHECK(seg.th_len >= LIMPET_TCP_HDR_MIN && seg.th_len <= LIMPET_TCP_HDR_MAX &&
				   seg.payload >= frame && seg.payload + seg.payload_len <= frame + n,
			   "segment outside its frame");
		slowpath_segment(sp, &seg, now);
	}
	free(frame);
}

static void check_stats(const struct slowpath *sp)
{
	const struct slowpath_stats *st = slowpath_stats(sp);
	int i;

	FUZZ_CHECK(st->bound + st->failed + st->aborted <= st->connections,
		   "bound %llu failed %llu aborted %llu of %llu", (unsigned long long)st->bound,
		   (unsigned long long)st->failed, (unsigned long long)st->aborted,
		   (unsigned long long)st->connections);
	FUZZ_CHECK(slowpath_connections(sp) <= st->connections, "more records than connections");
	FUZZ_CHECK(st->cookies <= st->bound, "cookies %llu, bound %llu",
		   (unsigned long long)st->cookies, (unsigned long long)st->bound);
	FUZZ_CHECK(st->retries <= 16 * st->connections, "retries");
	for (i = 0; i < MAX_FLOWS; i++)
		if (F.flows[i].used && (F.flows[i].val.flags & LIMPET_FLOW_SPLICE))
			check_splice(&F.flows[i].val.sp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct slowpath_ops ops = {
		.send = fake_send,
		.flow_get = fake_flow_get,
		.flow_set = fake_flow_set,
		.flow_del = fake_flow_del,
		.pick = fake_pick,
		.cookie_line = fake_cookie_line,
	};
	struct fuzz_in in = { data, size };
	__u8 b0 = fuzz_u8(&in), b1 = fuzz_u8(&in), op;
	int tick;
	struct flow_key k;
	struct slowpath *sp;
	__u64 now = 1000;
	int ops_run, c, b;

	log_set_level(LOG_LEVEL_WARN);
	setup(b0, b1);
	sp = slowpath_new(&ops);
	FUZZ_CHECK(sp, "slowpath_new");
	for (ops_run = 0; in.len && ops_run < MAX_OPS; ops_run++) {
		const struct slowpath_stats *st = slowpath_stats(sp);
		__u64 passed = st->relayed + st->inserted;
		int sends = F.sends;

		op = fuzz_u8(&in);
		c = (op >> 3) & 1;
		b = ((op >> 3) & 3) % MAX_BE;
		switch (op & 7) {
		case 0:
		case 1:
			c = op & 1;
			segment_op(sp, &in, &F.client[c], &F.vip, CISN + (__u32)c + 1, F.cookie[c] + 1,
				   CTS, F.our_ts, now, false, !(op & 0x40), &F.req_taint[c]);
			break;
		case 2:
			segment_op(sp, &in, &F.be[b], &F.client[c], BISN + (__u32)b,
				   CISN + (__u32)c + 1, BTS, CTS, now, true, !(op & 0x40),
				   &F.taint[c]);
			break;
		case 3:
			now += (__u64)fuzz_u16(&in) * (op & 0x80 ? 16 : 1);
			slowpath_tick(sp, now);
			break;
		case 4:
			F.cookie[c] += 0x10000;
			/* The old connection's packets may follow. */
			F.taint[c] = F.req_taint[c] = true;
			add_pending(c);
			break;
		case 5:
			k = op & 0x20 ? key_of(&F.be[b], &F.client[c]) : key_of(&F.client[c], &F.vip);
			fake_flow_del(NULL, &k);
			break;
		case 6:
			scene(fuzz_u8(&in));
			break;
		default:
			F.taint[0] = F.taint[1] = F.req_taint[0] = F.req_taint[1] = true;
			frame_op(sp, &in, op, now);
			break;
		}
		check_stats(sp);
		/* What the slow path counts as relayed went out. */
		FUZZ_CHECK((__u64)(F.sends - sends) >= st->relayed + st->inserted - passed,
			   "%llu segments relayed, %d packets sent",
			   (unsigned long long)(st->relayed + st->inserted - passed), F.sends - sends);
	}
	/* Long after: every record has expired. The slow path ticks every 50 ms;
	 * a record gives up step by step (resends with backoff, then a linger),
	 * so an hour of ticks, 10 s apart.
	 */
	for (tick = 1; tick <= 360; tick++)
		slowpath_tick(sp, now + (__u64)tick * 10 * 1000);
	check_stats(sp);
	FUZZ_CHECK(!slowpath_connections(sp), "%zu connections left after an hour",
		   slowpath_connections(sp));
	slowpath_free(sp);
	return 0;
}
