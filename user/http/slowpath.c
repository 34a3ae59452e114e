// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * slowpath.c - the delayed-binding state machine (see slowpath.h).
 *
 * A connection record lives from the first request segment until the
 * binding is handed to the data plane (once the backend acked the request
 * bytes we acknowledged) and a little longer (segments already queued on
 * the AF_XDP socket still come here and are relayed), or, with a
 * header to insert, until the response head went out and its
 * retransmissions can no longer be expected. Each record is found by both
 * of its flow keys: client -> VIP and backend -> client.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <strings.h>

#include "http/slowpath.h"
#include "limpet_hash.h"
#include "limpet_splice.h"
#include "base/log.h"

/* Records linger BOUND_LINGER_MS after binding: some 30000 at 10000
 * connections/s, each in two chains.
 */
#ifndef SLOWPATH_BUCKETS
#define SLOWPATH_BUCKETS 65536	/* the fuzzer builds with few: a new table per input */
#endif
#define BUCKETS SLOWPATH_BUCKETS
#define MAX_TRIED 16
/* A request head longer than this is sent on after the binding. */
#define HELD_MAX_BYTES (64 * 1024)
#define SYN_RTO_FIRST_MS 200
/* Relay what is still queued for a bound connection this long. */
#define BOUND_LINGER_MS 3000
/* A response head with a header to insert: keep the record for retransmissions. */
#define INSERT_LINGER_MS 30000
/* How long a 503'd client gets to close, and how often it is re-sent. */
#define FAILED_LINGER_MS 5000
#define FAILED_RTO_MS 300
/* A client that never finishes the handshake's first request. */
#define BINDING_MAX_MS 30000
/*
 * A request head that has not ended is decided as it is after this long
 * without a new byte from the client, or this long after its first.
 */
#define HEAD_WAIT_MS 5000
#define HEAD_MAX_MS 20000
/* Held request bytes we acknowledged go to the backend again until it acks them. */
#define HELD_RTO_FIRST_MS 200
/* At most one challenge ACK per connection this often (tcp_invalid_ratelimit). */
#define CHALLENGE_MIN_MS 500
#define HELD_RETRANSMITS 6
/*
 * A response head cut inside its status line is held until the line is
 * complete, for at most this long, these many bytes and segments; then it
 * goes on as it came, without the insertion.
 */
#define RESP_HOLD_MS 1000
#define RESP_HOLD_MAX 512
#define RESP_HOLD_SEGS 4

static const char RESPONSE_503[] =
	"HTTP/1.1 503 Service Unavailable\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 24\r\n"
	"Connection: close\r\n"
	"\r\n"
	"no backend is available\n";

enum conn_state {
	CONN_HEAD,	/* reading the request head to choose a backend */
	CONN_BINDING,	/* SYN sent to a backend, client data held */
	CONN_BOUND,	/* the data plane translates; stragglers relayed */
	CONN_FAILED,	/* 503 sent, waiting for the client's FIN */
};

enum insert_state {
	INSERT_NONE,
	INSERT_PENDING,	/* waiting for the response head */
	INSERT_DONE,	/* ins_pos set: rewrite segments that hold it */
};

struct held {
	struct held *next;
	__u32 seq;
	__u32 th_len;
	__u32 len;
	__u8 th[LIMPET_TCP_HDR_MAX];
	__u8 data[];
};

struct conn;

struct index_entry {
	struct index_entry *next;
	struct flow_key key;
	struct conn *conn;
	bool linked;
};

/*
 * Every record is on one list: the ones the tick must look at each time
 * (reading the head, binding, failed), or one of two lists of bound
 * records that only wait to expire, in the order they expire (each list
 * has one linger time): the tick stops at the first that has not.
 */
enum conn_list {
	LIST_ACTIVE,
	LIST_LINGER,		/* BOUND_LINGER_MS */
	LIST_LINGER_INSERT,	/* INSERT_LINGER_MS: a rewritten head may come again */
	LISTS,
};

struct conn {
	struct conn *next, *prev;	/* on sp->lists[list] */
	enum conn_list list;
	struct index_entry by_client;	/* client -> VIP */
	struct index_entry by_backend;	/* backend -> client */
	enum conn_state state;
	__u8 family;
	struct limpet_addr client, vip;
	__be16 cport, vport;

	__u32 cookie_isn;		/* our ISN toward the client */
	__u32 client_isn;
	/* Our ISN toward the backend less the client's: 0 but for a client
	 * without timestamps on a cluster, whose node is in the top bits of
	 * our ISNs (limpet_isn_tag()).
	 */
	__u32 backend_shift;
	bool ts_ok;			/* the client sends timestamps */
	struct limpet_tscookie tsc;	/* what it offered: our TSval, or our own cookie */
	__u32 our_tsval;		/* that TSval, as the client echoes it */
	__u32 client_tsval;		/* its latest */
	__u32 syn_tsval;		/* the TSval of our SYN: its earliest held */
	struct limpet_ts_tag tag;	/* this node, in every TSval we write (cluster) */
	__u16 client_window;
	__u32 client_next;		/* past the last byte (and FIN) it sent */
	__u16 client_mss;

	struct slowpath_backend be;
	struct slowpath_service svc;
	struct slowpath_cookie cookie;
	struct segment first;		/* the first request segment, for pick() */
	struct flow_value pending;	/* the data plane's entry, for pick() */
	bool fin_seen;
	__u32 tried[MAX_TRIED];
	size_t n_tried;
	__u64 born_ms, deadline_ms, rto_at_ms, rto_ms, expires_ms;

	struct held *held;
	size_t held_bytes;
	__u64 last_data_ms;		/* when the client last sent new request bytes */
	__u32 acked;			/* we acknowledged the client's bytes up to here */
	__u64 challenge_ms;		/* our last challenge ACK (RFC 5961) */
	__u32 ts_sent;			/* the last TSval we sent the client */
	__u32 be_tsval;			/* the backend's, on its SYN-ACK */
	bool unacked;			/* bound; the backend has not acked all we acked */
	int held_rtx;

	/* A response head cut inside its status line: its bytes so far. */
	__u8 resp[RESP_HOLD_MAX];
	__u32 resp_len;
	int resp_segs;
	__u64 resp_deadline_ms;
	__u8 resp_th[LIMPET_TCP_HDR_MAX];	/* the header of its last segment */
	__u32 resp_th_len;

	struct limpet_splice fwd;	/* client -> backend */
	struct limpet_splice ret;	/* backend -> client */
	enum insert_state insert;
	__u32 head_start;		/* backend seq where the awaited head begins */
	__u32 ins_pos;
	__u8 ins[SLOWPATH_INSERT_MAX];
	__u16 ins_len;

	int fail_sends;
	__u64 fail_at_ms;
};

struct slowpath {
	struct slowpath_ops ops;
	struct index_entry *buckets[BUCKETS];
	struct {
		struct conn *head, *tail;
	} lists[LISTS];
	size_t n_conns;
	size_t n_binding;	/* records reading the head or binding */
	struct slowpath_stats stats;
	struct limpet_ts_tag tag;	/* this node's (slowpath_set_ts_tag()) */
};

/* A received segment's payload with our bytes inserted fits in one packet. */
_Static_assert(SEG_FRAME_MAX + SLOWPATH_INSERT_MAX <= SEG_PACKET_MAX, "SEG_PACKET_MAX too small");

/* ---- index ---------------------------------------------------------------- */

/*
 * Every field mixed in: the client -> VIP keys of one busy client differ in
 * the source port alone, and a bucket taken from the raw port bits put them
 * all on one chain (each segment walked thousands of records).
 */
static __u32 key_hash(const struct flow_key *key)
{
	return limpet_hash_tuple(&key->src, &key->dst, key->sport, key->dport, key->proto) %
	       BUCKETS;
}

static void index_add(struct slowpath *sp, struct index_entry *e, struct conn *c)
{
	__u32 b = key_hash(&e->key);

	e->conn = c;
	e->next = sp->buckets[b];
	sp->buckets[b] = e;
	e->linked = true;
}

static void index_del(struct slowpath *sp, struct index_entry *e)
{
	struct index_entry **pp;

	if (!e->linked)
		return;
	for (pp = &sp->buckets[key_hash(&e->key)]; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	e->linked = false;
}

static struct index_entry *index_find(struct slowpath *sp, const struct flow_key *key)
{
	struct index_entry *e;

	for (e = sp->buckets[key_hash(key)]; e; e = e->next)
		if (!memcmp(&e->key, key, sizeof(*key)))
			return e;
	return NULL;
}

static void key_of(struct flow_key *key, const struct segment *seg)
{
	memset(key, 0, sizeof(*key));
	key->src = seg->src;
	key->dst = seg->dst;
	key->sport = seg->sport;
	key->dport = seg->dport;
	key->proto = IPPROTO_TCP;
	key->family = seg->family;
}

static void backend_key(struct flow_key *key, const struct conn *c)
{
	memset(key, 0, sizeof(*key));
	key->src = c->be.addr;
	key->dst = c->client;
	key->sport = c->be.port;
	key->dport = c->cport;
	key->proto = IPPROTO_TCP;
	key->family = c->family;
}

/* ---- sending ---------------------------------------------------------------- */

static void send_segment(struct slowpath *sp, const struct conn *c, bool to_backend,
			 const __u8 *th, __u32 th_len, const void *payload, __u32 len)
{
	__u8 pkt[SEG_PACKET_MAX];
	int n;

	if (to_backend)
		n = segment_build(pkt, sizeof(pkt), c->family, &c->client, c->cport, &c->be.addr,
				  c->be.port, th, th_len, payload, len);
	else
		n = segment_build(pkt, sizeof(pkt), c->family, &c->vip, c->vport, &c->client,
				  c->cport, th, th_len, payload, len);
	if (n > 0)
		sp->ops.send(sp->ops.ctx, c->family, pkt, (size_t)n);
}

/* A bare segment of ours to the backend (SYN, RST), <seq> in the client's space. */
static void send_to_backend(struct slowpath *sp, const struct conn *c, __u32 seq, __u32 ack,
			    __u8 flags, const struct segment_opts *opts)
{
	__u8 th[LIMPET_TCP_HDR_MAX];
	__u32 len = segment_header(th, seq + c->backend_shift, ack, flags, c->client_window, opts);

	send_segment(sp, c, true, th, len, NULL, 0);
}

/* The TSval we send the client now: our SYN-ACK's, advanced in real time. */
static __u32 our_tsval(const struct conn *c, __u64 now_ms)
{
	return limpet_ts_tag(c->our_tsval + (__u32)(now_ms - c->born_ms), c->tag);
}

/* Our window field toward the client for <room> bytes, in the shift we promised. */
static __u16 window_for(const struct conn *c, __u32 room)
{
	/* Scaling was agreed with the cookie's SYN-ACK, timestamps or not. */
	if (c->tsc.wscale != LIMPET_WSCALE_NONE)
		room >>= LIMPET_OUR_WSCALE;
	return room > 0xffff ? 0xffff : (__u16)room;
}

static void send_to_client(struct slowpath *sp, struct conn *c, __u32 seq, __u32 ack,
			   __u8 flags, __u16 window, const void *payload, __u32 len, __u64 now_ms)
{
	struct segment_opts o = { .wscale = LIMPET_WSCALE_NONE };
	__u8 th[LIMPET_TCP_HDR_MAX];
	__u32 th_len;

	if (c->ts_ok) {
		o.ts = true;
		o.tsval = our_tsval(c, now_ms);
		o.tsecr = c->client_tsval;
		c->ts_sent = o.tsval;
	}
	th_len = segment_header(th, seq, ack, flags, window, &o);
	send_segment(sp, c, false, th, th_len, payload, len);
}

/* ---- records ---------------------------------------------------------------- */

static void held_free(struct conn *c)
{
	while (c->held) {
		struct held *h = c->held;

		c->held = h->next;
		free(h);
	}
	c->held_bytes = 0;
}

static void list_del(struct slowpath *sp, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		sp->lists[c->list].head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		sp->lists[c->list].tail = c->prev;
	c->next = c->prev = NULL;
}

static void list_append(struct slowpath *sp, struct conn *c, enum conn_list list)
{
	c->list = list;
	c->next = NULL;
	c->prev = sp->lists[list].tail;
	if (c->prev)
		c->prev->next = c;
	else
		sp->lists[list].head = c;
	sp->lists[list].tail = c;
}

/* <c> now only waits to expire, <ms> from <now_ms>, on <list>. */
static void linger(struct slowpath *sp, struct conn *c, enum conn_list list, __u64 now_ms,
		   __u64 ms)
{
	list_del(sp, c);
	c->expires_ms = now_ms + ms;
	list_append(sp, c, list);
}

static bool is_binding(enum conn_state state)
{
	return state == CONN_HEAD || state == CONN_BINDING;
}

static void set_state(struct slowpath *sp, struct conn *c, enum conn_state state)
{
	sp->n_binding -= is_binding(c->state);
	sp->n_binding += is_binding(state);
	c->state = state;
}

static void conn_free(struct slowpath *sp, struct conn *c)
{
	sp->n_binding -= is_binding(c->state);
	index_del(sp, &c->by_client);
	index_del(sp, &c->by_backend);
	list_del(sp, c);
	held_free(c);
	free(c);
	sp->n_conns--;
}

/* Give up a connection still being bound: its entries go, the backend's
 * half-open side is reset.
 */
static void conn_abort(struct slowpath *sp, struct conn *c)
{
	if (c->by_backend.linked) {
		send_to_backend(sp, c, c->client_isn + 1, 0, LIMPET_TCP_RST, NULL);
		sp->ops.flow_del(sp->ops.ctx, &c->by_backend.key);
	}
	sp->ops.flow_del(sp->ops.ctx, &c->by_client.key);
	conn_free(sp, c);
}

/*
 * Keep <seg>'s data (and FIN) to release once bound, each sequence once.
 * Returns whether it carried any (new or not): the client wants an ACK.
 */
static bool hold(struct slowpath *sp, struct conn *c, const struct segment *seg, __u64 now_ms)
{
	struct held *h, **pp;
	__u32 end = seg->seq + seg->payload_len + !!(seg->flags & LIMPET_TCP_FIN);

	if (!seg->payload_len && !(seg->flags & LIMPET_TCP_FIN))
		return false;
	if (seg->flags & LIMPET_TCP_FIN)
		c->fin_seen = true;
	if (c->state == CONN_HEAD && seg->opt.ts_ok &&
	    limpet_seq_after(c->syn_tsval, seg->opt.tsval))
		c->syn_tsval = seg->opt.tsval;
	if (limpet_seq_after(end, c->client_next))
		c->client_next = end;
	for (pp = &c->held; *pp; pp = &(*pp)->next) {
		if ((*pp)->seq == seg->seq && (*pp)->len >= seg->payload_len)
			return true;	/* a retransmission */
		if (limpet_seq_after((*pp)->seq, seg->seq))
			break;
	}
	if (c->held_bytes + seg->payload_len > HELD_MAX_BYTES)
		return true;	/* not acknowledged: the client sends it again once bound */
	h = malloc(sizeof(*h) + seg->payload_len);
	if (!h)
		return true;
	h->seq = seg->seq;
	h->th_len = seg->th_len;
	h->len = seg->payload_len;
	memcpy(h->th, seg->th, seg->th_len);
	memcpy(h->data, seg->payload, seg->payload_len);
	h->next = *pp;
	*pp = h;
	c->held_bytes += h->len;
	c->last_data_ms = now_ms;
	sp->stats.held++;
	return true;
}

/* The end of the request bytes (and FIN) held without a gap. */
static __u32 held_contiguous(const struct conn *c)
{
	__u32 next = c->client_isn + 1, end;
	const struct held *h;

	for (h = c->held; h; h = h->next) {
		if (limpet_seq_after(h->seq, next))
			break;
		end = h->seq + h->len + !!(h->th[13] & LIMPET_TCP_FIN);
		if (limpet_seq_after(end, next))
			next = end;
	}
	return next;
}

/*
 * Acknowledge what is held, as the kernel would: the client's RTO then
 * does not stall a head sent in pieces, and those bytes are ours to
 * deliver from here on (bind_backend(), resend_held()). The window is the
 * room left in the held buffer, so its right edge never moves back; the
 * TSval is our clock's, which the backend's continues after the binding.
 */
static void ack_held(struct slowpath *sp, struct conn *c, __u64 now_ms)
{
	__u32 ack = held_contiguous(c), used = ack - (c->client_isn + 1);
	__u32 room = used < HELD_MAX_BYTES ? HELD_MAX_BYTES - used : 0;

	c->acked = ack;
	send_to_client(sp, c, c->cookie_isn + 1, ack, LIMPET_TCP_ACK, window_for(c, room), NULL, 0,
		       now_ms);
	sp->stats.acked++;
}

/* ---- binding ---------------------------------------------------------------- */

static void send_syn(struct slowpath *sp, struct conn *c)
{
	struct segment_opts o = { .mss = c->client_mss, .wscale = LIMPET_WSCALE_NONE };
	__u8 flags = LIMPET_TCP_SYN;

	/* What the client agreed with our SYN-ACK (its TSval or limpet's own
	 * cookie kept it), offered to the backend in its name.
	 */
	o.sack_ok = c->tsc.sack_ok;
	o.wscale = c->tsc.wscale;
	if (c->ts_ok) {
		/* Not the latest: no held segment may look older to PAWS. */
		o.ts = true;
		o.tsval = limpet_ts_tag(c->syn_tsval, c->tag);
		if (c->tsc.ecn_ok)
			flags |= LIMPET_TCP_ECE | LIMPET_TCP_CWR;
	}
	send_to_backend(sp, c, c->client_isn, 0, flags, &o);
}

/* Point the backend side at <c->be>: its entry, then its SYN. */
static void open_backend(struct slowpath *sp, struct conn *c, __u64 now_ms)
{
	struct flow_value fv = { .flags = LIMPET_FLOW_SLOWPATH | LIMPET_FLOW_RET,
				 .service_id = c->be.service_id };

	backend_key(&c->by_backend.key, c);
	index_add(sp, &c->by_backend, c);
	sp->ops.flow_set(sp->ops.ctx, &c->by_backend.key, &fv);
	c->tried[c->n_tried++] = c->be.id;
	c->deadline_ms = now_ms + (c->svc.connect_timeout_ms ? c->svc.connect_timeout_ms : 2000);
	c->rto_ms = SYN_RTO_FIRST_MS;
	c->rto_at_ms = now_ms + c->rto_ms;
	send_syn(sp, c);
}

/* The 503 and our FIN, from the sequence after our cookie. */
static void send_503(struct slowpath *sp, struct conn *c, __u64 now_ms)
{
	send_to_client(sp, c, c->cookie_isn + 1, c->client_next,
		       LIMPET_TCP_ACK | LIMPET_TCP_PSH | LIMPET_TCP_FIN, window_for(c, 0xffff),
		       RESPONSE_503, sizeof(RESPONSE_503) - 1, now_ms);
	c->fail_sends++;
	c->fail_at_ms = now_ms + FAILED_RTO_MS * (1u << (c->fail_sends - 1));
}

const char *const slowpath_bind_reason_names[SLOWPATH_BIND_REASONS] = {
	[SLOWPATH_BIND_NONE] = "none",
	[SLOWPATH_BIND_ISSUE] = "issue",
	[SLOWPATH_BIND_INSERT] = "insert",
	[SLOWPATH_BIND_MULTI_SEGMENT] = "multi_segment",
	[SLOWPATH_BIND_FAILOVER] = "failover",
	[SLOWPATH_BIND_ALL_FAILED] = "all_failed",
	[SLOWPATH_BIND_NO_TIMESTAMPS] = "no_timestamps",
};

/* Count <c>, bound or <failed>, once, under the first reason that applies. */
static void count_binding(struct slowpath *sp, const struct conn *c, bool failed)
{
	enum slowpath_bind_reason r = SLOWPATH_BIND_NONE;

	if (c->cookie.issue)
		r = SLOWPATH_BIND_ISSUE;
	else if (c->svc.backend_header[0])
		r = SLOWPATH_BIND_INSERT;
	else if (c->svc.multi_segment)
		r = SLOWPATH_BIND_MULTI_SEGMENT;
	else if (!c->ts_ok)
		r = SLOWPATH_BIND_NO_TIMESTAMPS;	/* bind.h needs the timestamp cookie */
	else if (c->svc.moved || c->n_tried > 1)
		r = SLOWPATH_BIND_FAILOVER;
	else if (failed)
		r = SLOWPATH_BIND_ALL_FAILED;
	sp->stats.bound_by[r]++;
	if (sp->ops.bind_done)
		sp->ops.bind_done(sp->ops.ctx, c->be.service_id, r);
}

static void fail_connection(struct slowpath *sp, struct conn *c, __u64 now_ms)
{
	pr_info("http: no backend answered a connection from a client of service id %u: 503",
		c->be.service_id);
	sp->stats.failed++;
	count_binding(sp, c, true);
	set_state(sp, c, CONN_FAILED);
	held_free(c);
	c->expires_ms = now_ms + FAILED_LINGER_MS;
	send_503(sp, c, now_ms);
}

/*
 * The request bytes held so far, from the first on and without gaps, into
 * <buf> (SLOWPATH_HEAD_MAX bytes); their length.
 */
static __u32 head_bytes(const struct conn *c, __u8 *buf)
{
	__u32 next = c->client_isn + 1, len = 0, off, n;
	const struct held *h;

	for (h = c->held; h && len < SLOWPATH_HEAD_MAX; h = h->next) {
		if (limpet_seq_after(h->seq, next))
			break;	/* a hole */
		off = next - h->seq;
		if (off >= h->len)
			continue;	/* all seen already */
		n = h->len - off;
		if (n > SLOWPATH_HEAD_MAX - len)
			n = SLOWPATH_HEAD_MAX - len;
		memcpy(buf + len, h->data + off, n);
		len += n;
		next += n;
	}
	return len;
}

/* Ask for a backend not tried yet, from the request head held. */
static int pick(struct slowpath *sp, struct conn *c, bool final, struct slowpath_backend *be,
		struct slowpath_service *svc, struct slowpath_cookie *cookie)
{
	static __u8 buf[SLOWPATH_HEAD_MAX];
	struct slowpath_request req = { .first = &c->first, .pending = &c->pending, .head = buf };

	req.head_len = head_bytes(c, buf);
	req.head_final = final || c->fin_seen || req.head_len >= SLOWPATH_HEAD_MAX ||
			 c->held_bytes >= HELD_MAX_BYTES;
	return sp->ops.pick(sp->ops.ctx, &req, c->tried, c->n_tried, be, svc, cookie);
}

/* The backend at hand refused or stayed silent: the next one, or a 503. */
static void next_backend(struct slowpath *sp, struct conn *c, __u64 now_ms)
{
	struct slowpath_backend be;
	struct slowpath_service svc;
	struct slowpath_cookie cookie;

	send_to_backend(sp, c, c->client_isn + 1, 0, LIMPET_TCP_RST, NULL);
	sp->ops.flow_del(sp->ops.ctx, &c->by_backend.key);
	index_del(sp, &c->by_backend);
	if (c->n_tried < MAX_TRIED && !c->svc.no_retry &&
	    !pick(sp, c, true, &be, &svc, &cookie)) {
		sp->stats.retries++;
		c->be = be;
		c->svc = svc;
		/*
		 * The retry's answer on the cookie: pick() saw the refusing
		 * backend among the tried ones and applied the failover mode.
		 */
		c->cookie = cookie;
		open_backend(sp, c, now_ms);
		return;
	}
	fail_connection(sp, c, now_ms);
}

/*
 * Choose the backend once the request head allows it (at once for
 * services that do not look at it) and open its side; a 503 when none is
 * left. <final>: the head will not grow, decide with what there is.
 */
static void try_bind(struct slowpath *sp, struct conn *c, bool final, __u64 now_ms)
{
	int ret = pick(sp, c, final, &c->be, &c->svc, &c->cookie);

	if (ret == -EAGAIN)
		return;
	if (ret) {
		fail_connection(sp, c, now_ms);
		return;
	}
	set_state(sp, c, CONN_BINDING);
	open_backend(sp, c, now_ms);
}

static struct conn *new_conn(struct slowpath *sp, const struct segment *seg, __u64 now_ms)
{
	struct flow_value pending;
	struct flow_key key;
	struct conn *c;

	key_of(&key, seg);
	/* The data plane proved the handshake and kept it in the entry. */
	if (sp->ops.flow_get(sp->ops.ctx, &key, &pending) ||
	    !(pending.flags & LIMPET_FLOW_SLOWPATH) || (pending.flags & LIMPET_FLOW_RET) ||
	    pending.pending.cookie_isn + 1 != seg->ack)
		return NULL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->family = seg->family;
	c->client = seg->src;
	c->vip = seg->dst;
	c->cport = seg->sport;
	c->vport = seg->dport;
	c->cookie_isn = pending.pending.cookie_isn;
	c->client_isn = pending.pending.client_isn;
	c->client_next = c->client_isn + 1;
	c->ts_ok = seg->opt.ts_ok;
	c->tag = sp->tag;
	if (!c->ts_ok)
		c->backend_shift = limpet_isn_tag(c->client_isn, c->tag) - c->client_isn;
	if (c->ts_ok) {
		limpet_tscookie_decode(seg->opt.tsecr, sp->tag, &c->tsc);
		c->our_tsval = seg->opt.tsecr;
		c->client_tsval = seg->opt.tsval;
		c->syn_tsval = seg->opt.tsval;
		c->client_mss = limpet_cookie_mss(c->tsc.mss_index, c->family == LIMPET_FAMILY_V6);
	} else if (pending.pending.syn & LIMPET_PENDING_OWN_COOKIE) {
		/* No timestamps: limpet's own cookie kept the options. */
		struct limpet_syncookie_opts o;

		limpet_syncookie_opts_of(pending.pending.syn & ~LIMPET_PENDING_OWN_COOKIE, &o);
		c->tsc.wscale = o.wscale;
		c->tsc.sack_ok = o.sack_ok;
		c->tsc.mss_index = o.mss_index;
		c->client_mss = limpet_cookie_mss(o.mss_index, c->family == LIMPET_FAMILY_V6);
	} else {
		/* Nowhere to keep it: the largest common Ethernet MSS. */
		c->tsc.wscale = LIMPET_WSCALE_NONE;
		c->client_mss = limpet_cookie_mss(c->family == LIMPET_FAMILY_V6 ? 2 : 3,
						  c->family == LIMPET_FAMILY_V6);
	}
	c->client_window = seg->window;
	c->ts_sent = c->our_tsval;
	c->born_ms = now_ms;
	c->last_data_ms = now_ms;
	c->expires_ms = now_ms + BINDING_MAX_MS;
	c->first = *seg;
	c->first.payload = NULL;
	c->first.payload_len = 0;
	c->pending = pending;
	c->by_client.key = key;
	c->be.service_id = pending.service_id;

	index_add(sp, &c->by_client, c);
	list_append(sp, c, LIST_ACTIVE);
	sp->n_conns++;
	sp->stats.connections++;
	c->state = CONN_HEAD;
	sp->n_binding++;
	return c;
}

/* Translate <seg> (client -> VIP) for the backend, as the data plane does. */
static void relay_to_backend(struct slowpath *sp, struct conn *c, const __u8 *th, __u32 th_len,
			     const void *payload, __u32 len)
{
	__u8 out[LIMPET_TCP_HDR_MAX];

	memcpy(out, th, th_len);
	limpet_splice_tcp(&c->fwd, out, th_len);
	send_segment(sp, c, true, out, th_len, payload, len);
}

/*
 * Both directions' entries. While the backend has not acked the request
 * bytes we acknowledged to the client, its segments stay the slow path's:
 * their acks say when those bytes are delivered.
 */
static void install_flows(struct slowpath *sp, struct conn *c)
{
	struct flow_value fv = { .backend_id = c->be.id, .gen = c->be.gen,
				 .service_id = c->be.service_id, .flags = LIMPET_FLOW_SPLICE };

	fv.sp = c->fwd;
	/* Where the client's RST must be to end the connection (RFC 5961);
	 * the backend's is learnt from its next segment.
	 */
	fv.seq_next = c->client_next;
	fv.flags |= LIMPET_FLOW_SEQ_NEXT;
	sp->ops.flow_set(sp->ops.ctx, &c->by_client.key, &fv);
	fv.flags = c->unacked ? LIMPET_FLOW_SLOWPATH | LIMPET_FLOW_RET :
				LIMPET_FLOW_SPLICE | LIMPET_FLOW_RET;
	fv.seq_next = 0;
	fv.vip = c->vip;
	fv.vip_port = c->vport;
	fv.sp = c->ret;
	sp->ops.flow_set(sp->ops.ctx, &c->by_backend.key, &fv);
}

/* Raise the TSval and TSecr in header <th> to <tsval> and <tsecr> where older. */
static void ts_at_least(__u8 *th, __u32 th_len, __u32 tsval, __u32 tsecr)
{
	__u32 off = LIMPET_TCP_HDR_MIN, len;

	while (off < th_len && th[off] != LIMPET_TCPOPT_EOL) {
		if (th[off] == LIMPET_TCPOPT_NOP) {
			off++;
			continue;
		}
		if (off + 2 > th_len)
			return;
		len = th[off + 1];
		if (len < 2 || off + len > th_len)
			return;
		if (th[off] == LIMPET_TCPOPT_TS && len == LIMPET_TCPOLEN_TS) {
			if (limpet_seq_after(tsval, limpet_get_be32(th + off + 2)))
				limpet_put_be32(th + off + 2, tsval);
			if (limpet_seq_after(tsecr, limpet_get_be32(th + off + 6)))
				limpet_put_be32(th + off + 6, tsecr);
			return;
		}
		off += len;
	}
}

/*
 * A held segment to the backend. Its TSecr echoes one of our TSvals from
 * before the binding, which the backend's clock cannot know: it echoes
 * the backend's SYN-ACK instead (a backend that answered with a SYN
 * cookie reads its options there). Its TSval is at least our SYN's, or
 * the backend's PAWS check would drop it.
 */
static void relay_held(struct slowpath *sp, struct conn *c, const struct held *h)
{
	__u8 out[LIMPET_TCP_HDR_MAX];

	memcpy(out, h->th, h->th_len);
	limpet_splice_tcp(&c->fwd, out, h->th_len);
	if (c->fwd.flags & LIMPET_SPLICE_TS)
		ts_at_least(out, h->th_len, limpet_ts_tag(c->syn_tsval, c->tag), c->be_tsval);
	send_segment(sp, c, true, out, h->th_len, h->data, h->len);
}

/* Where a bound record waits: on the active list while it has timers
 * (request bytes the backend has not acked, a cut response head), else
 * lingering for the stragglers.
 */
static void bound_wait(struct slowpath *sp, struct conn *c, __u64 now_ms)
{
	if (c->unacked || c->resp_len) {
		if (c->list != LIST_ACTIVE) {
			list_del(sp, c);
			list_append(sp, c, LIST_ACTIVE);
		}
		return;
	}
	if (c->insert == INSERT_PENDING || c->insert == INSERT_DONE)
		linger(sp, c, LIST_LINGER_INSERT, now_ms, INSERT_LINGER_MS);
	else
		linger(sp, c, LIST_LINGER, now_ms, BOUND_LINGER_MS);
}

/* The backend has what we acknowledged (or we stop trying): the data plane's from here. */
static void backend_acked(struct slowpath *sp, struct conn *c, __u64 now_ms)
{
	c->unacked = false;
	held_free(c);
	install_flows(sp, c);
	bound_wait(sp, c, now_ms);
}

/* Send what is held to the backend again: it did not ack it in time. */
static void resend_held(struct slowpath *sp, struct conn *c)
{
	const struct held *h;

	for (h = c->held; h; h = h->next) {
		relay_held(sp, c, h);
		sp->stats.resent++;
	}
}

/*
 * The backend's SYN-ACK: both directions' translation (limpet_splice.h),
 * the flow entries, then what the client sent meanwhile. Its first held
 * segment's ack completes the backend's handshake.
 */
static void bind_backend(struct slowpath *sp, struct conn *c, const struct segment *synack,
			 __u64 now_ms)
{
	struct held *h;

	c->be_tsval = synack->opt.tsval;
	/* The backend's clock goes on from the last TSval the client saw
	 * from us (our ACKs of what was held).
	 */
	limpet_splice_bind(&c->fwd, &c->ret, c->cookie_isn, c->ts_ok, c->ts_sent, c->tsc.wscale,
			   synack->seq, &synack->opt, c->tag);
	limpet_splice_shift_backend(&c->fwd, &c->ret, c->backend_shift);

	c->ins_len = 0;
	if (c->svc.backend_header[0]) {
		int n = snprintf((char *)c->ins, sizeof(c->ins), "%s: %s\r\n",
				 c->svc.backend_header, c->be.name);

		if (n > 0 && (size_t)n < sizeof(c->ins))
			c->ins_len = (__u16)n;
	}
	if (c->cookie.issue && sp->ops.cookie_line) {
		size_t n = sp->ops.cookie_line(sp->ops.ctx, &c->be, &c->cookie,
					       (char *)c->ins + c->ins_len,
					       sizeof(c->ins) - c->ins_len);

		c->ins_len += (__u16)n;
		sp->stats.cookies += n > 0;
	}
	if (c->ins_len) {
		c->insert = INSERT_PENDING;
		c->head_start = synack->seq + 1;
		c->ret.flags |= LIMPET_SPLICE_HEAD_PENDING;
	}

	/* What we acknowledged stays ours until the backend acks it. */
	c->unacked = limpet_seq_after(c->acked, c->client_isn + 1);
	install_flows(sp, c);
	set_state(sp, c, CONN_BOUND);
	sp->stats.bound++;
	count_binding(sp, c, false);

	for (h = c->held; h; h = h->next)
		relay_held(sp, c, h);
	if (!c->held) {
		/* Nothing held (the data came as a FIN alone): complete it. */
		send_to_backend(sp, c, c->client_isn + 1, synack->seq + 1, LIMPET_TCP_ACK, NULL);
	}
	if (c->unacked) {
		c->held_rtx = 0;
		c->rto_ms = HELD_RTO_FIRST_MS;
		c->rto_at_ms = now_ms + c->rto_ms;
	} else {
		held_free(c);
	}
	bound_wait(sp, c, now_ms);
}

/* ---- the response head ------------------------------------------------------ */

int slowpath_insert_offset(const __u8 *payload, __u32 len, bool *informational,
			   __u32 *head_len)
{
	__u32 i;

	*informational = false;
	*head_len = 0;
	/* "HTTP/1.x NNN" */
	if (len < 12 || memcmp(payload, "HTTP/1.", 7) || payload[8] != ' ')
		return -1;
	/* The status line ends at the first LF. A bare LF takes nothing (as
	 * a head of bare LFs): the first CRLF after it can be in the body.
	 */
	for (i = 0; i < len; i++)
		if (payload[i] == '\n')
			break;
	if (i >= len || !i || payload[i - 1] != '\r')
		return -1;
	if (payload[9] == '1' && memcmp(payload + 9, "101", 3)) {
		*informational = true;
		for (i = 0; i + 3 < len; i++) {
			if (!memcmp(payload + i, "\r\n\r\n", 4)) {
				*head_len = i + 4;
				break;
			}
		}
		return -1;
	}
	return (int)(i + 1);
}

/*
 * Could <len> bytes be the start of a response's status line, not ended
 * yet ("HTTP/1.1 " or "HTTP/1.1 200 O")? No line end in them.
 */
static bool status_line_cut(const __u8 *p, __u32 len)
{
	static const char proto[] = "HTTP/1.";
	__u32 i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n' || (p[i] == '\r' && i + 1 < len))
			return false;
		if (i < 7 && p[i] != (__u8)proto[i])
			return false;
		if ((i == 7 || (i >= 9 && i <= 11)) && (p[i] < '0' || p[i] > '9'))
			return false;
		if (i == 8 && p[i] != ' ')
			return false;
	}
	return len > 0;
}

/* Stop waiting for a head: the data plane forwards the rest itself. */
static void insert_give_up(struct slowpath *sp, struct conn *c)
{
	c->insert = INSERT_NONE;
	c->ret.flags &= ~LIMPET_SPLICE_HEAD_PENDING;
	install_flows(sp, c);
}

/* Send backend segment <seg> to the client, translated. */
static void relay_to_client(struct slowpath *sp, struct conn *c, const struct segment *seg)
{
	__u8 th[LIMPET_TCP_HDR_MAX];

	memcpy(th, seg->th, seg->th_len);
	limpet_splice_tcp(&c->ret, th, seg->th_len);
	send_segment(sp, c, false, th, seg->th_len, seg->payload, seg->payload_len);
	sp->stats.relayed++;
}

/*
 * A backend segment that holds the insertion point: its bytes with the
 * inserted ones at ins_pos, in as many segments of the client's MSS as
 * that takes. The same segment again (a retransmission) comes out the same.
 */
static void relay_inserted(struct slowpath *sp, struct conn *c, const struct segment *seg)
{
	struct limpet_splice before = c->ret;
	__u32 at = c->ins_pos - seg->seq, total = seg->payload_len + c->ins_len;
	__u32 opt_len = seg->th_len - LIMPET_TCP_HDR_MIN, room, off, n, seq;
	__u8 th[LIMPET_TCP_HDR_MAX], buf[SEG_PACKET_MAX + RESP_HOLD_MAX + SLOWPATH_INSERT_MAX];
	__u8 flags = seg->flags;

	if (total > sizeof(buf))
		return;
	memcpy(buf, seg->payload, at);
	memcpy(buf + at, c->ins, c->ins_len);
	memcpy(buf + at + c->ins_len, seg->payload + at, seg->payload_len - at);

	/* This segment starts before the shift: translate as if none. */
	before.ins_len = 0;
	memcpy(th, seg->th, seg->th_len);
	limpet_splice_tcp(&before, th, seg->th_len);
	seq = limpet_get_be32(th + 4);

	room = c->client_mss > opt_len ? c->client_mss - opt_len : c->client_mss;
	for (off = 0; off < total; off += n) {
		n = total - off > room ? room : total - off;
		/* FIN and PSH on the last piece only. */
		th[13] = off + n < total ? flags & ~(LIMPET_TCP_FIN | LIMPET_TCP_PSH) : flags;
		limpet_put_be32(th + 4, seq + off);
		send_segment(sp, c, false, th, seg->th_len, buf + off, n);
	}
	sp->stats.inserted++;
}

/* The cut response head held so far goes to the client as it came. */
static void resp_flush(struct slowpath *sp, struct conn *c)
{
	struct segment seg = { .seq = c->head_start, .th_len = c->resp_th_len,
			       .payload = c->resp, .payload_len = c->resp_len };

	memcpy(seg.th, c->resp_th, c->resp_th_len);
	limpet_put_be32(seg.th + 4, c->head_start);
	seg.th[13] &= ~LIMPET_TCP_FIN;
	relay_to_client(sp, c, &seg);
	c->resp_len = 0;
}

/*
 * <seg> starts the awaited head, or continues the cut one held: the head
 * so far into *<whole> (its payload in <buf>, seq head_start). Returns
 * false when <seg> adds nothing to what is held (a shorter retransmission).
 */
static bool resp_join(struct conn *c, const struct segment *seg, struct segment *whole, __u8 *buf,
		      __u32 cap)
{
	__u32 skip = 0;

	*whole = *seg;
	if (!c->resp_len)
		return true;
	if (seg->seq == c->head_start && seg->payload_len <= c->resp_len)
		return false;
	if (seg->seq == c->head_start)
		skip = c->resp_len;	/* all of it again, and more */
	if (c->resp_len + seg->payload_len - skip > cap)
		return false;
	memcpy(buf, c->resp, c->resp_len);
	memcpy(buf + c->resp_len, seg->payload + skip, seg->payload_len - skip);
	whole->seq = c->head_start;
	limpet_put_be32(whole->th + 4, c->head_start);
	whole->payload = buf;
	whole->payload_len = c->resp_len + seg->payload_len - skip;
	return true;
}

/* Keep the head so far (<whole>) until its status line is complete, if allowed. */
static bool resp_hold(struct conn *c, const struct segment *whole, __u64 now_ms)
{
	if (!status_line_cut(whole->payload, whole->payload_len) ||
	    whole->payload_len > RESP_HOLD_MAX || c->resp_segs >= RESP_HOLD_SEGS ||
	    (c->resp_len && now_ms >= c->resp_deadline_ms))
		return false;
	if (!c->resp_len)
		c->resp_deadline_ms = now_ms + RESP_HOLD_MS;
	memcpy(c->resp, whole->payload, whole->payload_len);
	c->resp_len = whole->payload_len;
	c->resp_segs++;
	memcpy(c->resp_th, whole->th, whole->th_len);
	c->resp_th_len = whole->th_len;
	return true;
}

static void backend_data(struct slowpath *sp, struct conn *c, const struct segment *seg,
			 __u64 now_ms)
{
	__u8 buf[RESP_HOLD_MAX + SEG_PACKET_MAX];
	struct segment whole;
	bool informational, was_held;
	__u32 head_len;
	int at;

	if (c->insert == INSERT_PENDING) {
		if (limpet_seq_after(c->head_start, seg->seq)) {
			/* An earlier 1xx again; merged with the head we wait for
			 * (a retransmission), it cannot take the header any more.
			 */
			if (limpet_seq_after(seg->seq + seg->payload_len, c->head_start))
				insert_give_up(sp, c);
			relay_to_client(sp, c, seg);
			return;
		}
		if (seg->seq != c->head_start && seg->seq != c->head_start + c->resp_len) {
			/* Past the head we have not seen: the backend sends it again. */
			sp->stats.ignored++;
			return;
		}
		if (!resp_join(c, seg, &whole, buf, sizeof(buf))) {
			sp->stats.ignored++;
			return;
		}
		seg = &whole;
		at = slowpath_insert_offset(seg->payload, seg->payload_len, &informational,
					    &head_len);
		if (at < 0 && !informational && resp_hold(c, seg, now_ms)) {
			/* The status line is cut: wait for its end (bounded). */
			bound_wait(sp, c, now_ms);
			return;
		}
		was_held = c->resp_len;
		c->resp_len = 0;
		if (at < 0) {
			if (informational && head_len && head_len < seg->payload_len) {
				/* A 1xx and more in one segment: not worth splitting. */
				insert_give_up(sp, c);
			} else if (informational && head_len) {
				c->head_start = seg->seq + head_len;
			} else {
				insert_give_up(sp, c);
			}
			relay_to_client(sp, c, seg);
			if (was_held)
				bound_wait(sp, c, now_ms);
			return;
		}
		c->ins_pos = seg->seq + (__u32)at;
		c->insert = INSERT_DONE;
		c->ret.ins_pos = c->ins_pos;
		c->ret.ins_len = c->ins_len;
		c->ret.flags &= ~LIMPET_SPLICE_HEAD_PENDING;
		c->fwd.ack_ins_pos = c->ins_pos;
		c->fwd.ack_ins_len = c->ins_len;
		install_flows(sp, c);
		/* Retransmissions of the rewritten head come here: keep it. */
		bound_wait(sp, c, now_ms);
	}
	if (c->insert == INSERT_DONE &&
	    limpet_splice_holds_insertion(&c->ret, seg->seq, seg->payload_len)) {
		relay_inserted(sp, c, seg);
		return;
	}
	relay_to_client(sp, c, seg);
}

/* ---- segments ----------------------------------------------------------------- */

/*
 * RFC 5961 while the connection is being bound, where limpet is the
 * client's endpoint (it acknowledges what it holds), as the kernel applies
 * it (tcp_validate_incoming()): an RST ends the connection only at exactly
 * the next byte expected (or at the client's FIN, as tcp_reset_check()
 * allows), and the backend's half-open side is reset with it. An RST
 * elsewhere in the window we advertised, and any SYN, get a challenge ACK
 * (at most one per CHALLENGE_MIN_MS) and leave the connection as it was: a
 * spoofed one must hit that one number. An RST outside the window is
 * dropped. Returns whether <c> is gone.
 */
static bool binding_rst_or_syn(struct slowpath *sp, struct conn *c, const struct segment *seg,
			       __u64 now_ms)
{
	__u32 next = held_contiguous(c), used = next - (c->client_isn + 1);
	__u32 room = used < HELD_MAX_BYTES ? HELD_MAX_BYTES - used : 0;

	if (seg->flags & LIMPET_TCP_RST) {
		if (seg->seq == next || (c->fin_seen && seg->seq == next - 1)) {
			sp->stats.aborted++;
			conn_abort(sp, c);
			return true;
		}
		if (seg->seq - next >= room) {
			sp->stats.ignored++;
			return false;
		}
	}
	sp->stats.ignored++;
	if (!c->challenge_ms || now_ms >= c->challenge_ms + CHALLENGE_MIN_MS) {
		c->challenge_ms = now_ms ? now_ms : 1;
		ack_held(sp, c, now_ms);
	}
	return false;
}

static void client_segment(struct slowpath *sp, struct conn *c, const struct segment *seg,
			   __u64 now_ms)
{
	if (is_binding(c->state) && (seg->flags & (LIMPET_TCP_RST | LIMPET_TCP_SYN))) {
		binding_rst_or_syn(sp, c, seg, now_ms);
		return;
	}
	if (seg->flags & LIMPET_TCP_RST) {
		if (c->state == CONN_FAILED) {
			sp->ops.flow_del(sp->ops.ctx, &c->by_client.key);
			conn_free(sp, c);
		} else {
			relay_to_backend(sp, c, seg->th, seg->th_len, seg->payload,
					 seg->payload_len);
		}
		return;
	}
	if (seg->opt.ts_ok)
		c->client_tsval = seg->opt.tsval;
	switch (c->state) {
	case CONN_HEAD:
		c->client_window = seg->window;
		if (hold(sp, c, seg, now_ms))
			ack_held(sp, c, now_ms);
		try_bind(sp, c, false, now_ms);
		break;
	case CONN_BINDING:
		c->client_window = seg->window;
		if (hold(sp, c, seg, now_ms))
			ack_held(sp, c, now_ms);
		break;
	case CONN_BOUND:
		relay_to_backend(sp, c, seg->th, seg->th_len, seg->payload, seg->payload_len);
		sp->stats.relayed++;
		break;
	case CONN_FAILED: {
		__u32 end = seg->seq + seg->payload_len;

		if (seg->flags & LIMPET_TCP_FIN) {
			/* The client closes too: acknowledge its FIN, done. */
			send_to_client(sp, c, (__u32)(c->cookie_isn + 1 + sizeof(RESPONSE_503)),
				       end + 1, LIMPET_TCP_ACK, window_for(c, 0xffff), NULL, 0,
				       now_ms);
			sp->ops.flow_del(sp->ops.ctx, &c->by_client.key);
			conn_free(sp, c);
		} else if (seg->ack == (__u32)(c->cookie_isn + 1 + sizeof(RESPONSE_503))) {
			c->fail_at_ms = c->expires_ms;	/* all arrived: no more resends */
		}
		break;
	}
	}
}

static void backend_segment(struct slowpath *sp, struct conn *c, const struct segment *seg,
			    __u64 now_ms)
{
	__u32 ack = seg->ack - c->backend_shift;	/* in the client's space */

	if (c->state == CONN_BOUND) {
		if (c->unacked && (seg->flags & LIMPET_TCP_SYN)) {
			/* A SYN-ACK again: what we held did not arrive. */
			resend_held(sp, c);
			return;
		}
		if (c->unacked && (((seg->flags & LIMPET_TCP_ACK) &&
				    !limpet_seq_after(c->acked, ack)) ||
				   (seg->flags & LIMPET_TCP_RST)))
			backend_acked(sp, c, now_ms);
		if (seg->flags & LIMPET_TCP_SYN)
			return;	/* a SYN-ACK again: the client's next segment answers it */
		if (seg->payload_len) {
			backend_data(sp, c, seg, now_ms);
		} else if (c->insert == INSERT_PENDING &&
			   limpet_seq_after(seg->seq, c->head_start)) {
			/* Sent after a head not seen yet (reordered): its place
			 * is unknown until then; the backend sends it again.
			 */
			sp->stats.ignored++;
		} else {
			relay_to_client(sp, c, seg);
		}
		return;
	}
	if (c->state != CONN_BINDING || ack != c->client_isn + 1) {
		sp->stats.ignored++;
		return;
	}
	if (seg->flags & LIMPET_TCP_RST) {
		pr_debug("http: backend %s refused a connection", c->be.name);
		next_backend(sp, c, now_ms);
		return;
	}
	if ((seg->flags & (LIMPET_TCP_SYN | LIMPET_TCP_ACK)) == (LIMPET_TCP_SYN | LIMPET_TCP_ACK))
		bind_backend(sp, c, seg, now_ms);
}

/*
 * Is <c> the record of an earlier connection on the same addresses and
 * ports? A client may reuse its port while the record still lingers; the
 * data plane's pending entry then names the new handshake.
 */
static bool conn_superseded(struct slowpath *sp, const struct conn *c, const struct segment *seg)
{
	struct flow_value v;

	if (c->state == CONN_HEAD || c->state == CONN_BINDING || (seg->flags & (LIMPET_TCP_SYN | LIMPET_TCP_RST)) ||
	    sp->ops.flow_get(sp->ops.ctx, &c->by_client.key, &v))
		return false;
	return (v.flags & LIMPET_FLOW_SLOWPATH) && !(v.flags & LIMPET_FLOW_RET) &&
	       v.pending.cookie_isn != c->cookie_isn && v.pending.cookie_isn + 1 == seg->ack;
}

void slowpath_segment(struct slowpath *sp, const struct segment *seg, __u64 now_ms)
{
	struct index_entry *e;
	struct flow_key key;
	struct conn *c;

	key_of(&key, seg);
	e = index_find(sp, &key);
	if (e && e == &e->conn->by_client && conn_superseded(sp, e->conn, seg)) {
		conn_free(sp, e->conn);
		e = NULL;
	}
	if (!e) {
		if ((seg->flags & (LIMPET_TCP_SYN | LIMPET_TCP_RST)) || !(seg->flags & LIMPET_TCP_ACK) ||
		    !(seg->payload_len || (seg->flags & LIMPET_TCP_FIN)) ||
		    !(c = new_conn(sp, seg, now_ms))) {
			sp->stats.ignored++;
			return;
		}
		if (hold(sp, c, seg, now_ms))
			ack_held(sp, c, now_ms);
		try_bind(sp, c, false, now_ms);
		return;
	}
	c = e->conn;
	if (e == &c->by_client)
		client_segment(sp, c, seg, now_ms);
	else
		backend_segment(sp, c, seg, now_ms);
}

void slowpath_tick(struct slowpath *sp, __u64 now_ms)
{
	struct conn *c, *next;
	int l;

	for (c = sp->lists[LIST_ACTIVE].head; c; c = next) {
		next = c->next;
		switch (c->state) {
		case CONN_HEAD:
			if (now_ms >= c->expires_ms) {
				sp->stats.aborted++;
				conn_abort(sp, c);
			} else if (now_ms >= c->last_data_ms + HEAD_WAIT_MS ||
				   now_ms >= c->born_ms + HEAD_MAX_MS) {
				try_bind(sp, c, true, now_ms);
			}
			break;
		case CONN_BINDING:
			if (now_ms >= c->expires_ms) {
				sp->stats.aborted++;
				conn_abort(sp, c);
			} else if (now_ms >= c->deadline_ms) {
				pr_debug("http: backend %s did not answer in time", c->be.name);
				next_backend(sp, c, now_ms);
			} else if (now_ms >= c->rto_at_ms) {
				sp->stats.syn_retransmits++;
				send_syn(sp, c);
				c->rto_ms *= 2;
				c->rto_at_ms = now_ms + c->rto_ms;
			}
			break;
		case CONN_FAILED:
			if (now_ms >= c->expires_ms) {
				sp->ops.flow_del(sp->ops.ctx, &c->by_client.key);
				conn_free(sp, c);
			} else if (now_ms >= c->fail_at_ms && c->fail_sends < 5) {
				send_503(sp, c, now_ms);
			}
			break;
		case CONN_BOUND:
			/* Here while it has timers (bound_wait()). */
			if (c->resp_len && now_ms >= c->resp_deadline_ms) {
				resp_flush(sp, c);
				insert_give_up(sp, c);
			}
			if (c->unacked && now_ms >= c->rto_at_ms) {
				if (c->held_rtx++ < HELD_RETRANSMITS) {
					resend_held(sp, c);
					c->rto_ms *= 2;
					c->rto_at_ms = now_ms + c->rto_ms;
				} else {
					pr_debug("http: backend %s never acked a request",
						 c->be.name);
					c->unacked = false;
				}
			}
			if (!c->unacked && !c->resp_len)
				backend_acked(sp, c, now_ms);
			break;
		}
	}
	/* Bound records, oldest first: done at the first still lingering. */
	for (l = LIST_LINGER; l < LISTS; l++) {
		while ((c = sp->lists[l].head) && now_ms >= c->expires_ms) {
			if (c->insert == INSERT_PENDING)
				insert_give_up(sp, c);
			conn_free(sp, c);
		}
	}
}

struct slowpath *slowpath_new(const struct slowpath_ops *ops)
{
	struct slowpath *sp = calloc(1, sizeof(*sp));

	if (sp)
		sp->ops = *ops;
	return sp;
}

void slowpath_free(struct slowpath *sp)
{
	int l;

	if (!sp)
		return;
	for (l = 0; l < LISTS; l++)
		while (sp->lists[l].head)
			conn_free(sp, sp->lists[l].head);
	free(sp);
}

void slowpath_set_ts_tag(struct slowpath *sp, struct limpet_ts_tag tag)
{
	sp->tag = tag;
}

const struct slowpath_stats *slowpath_stats(const struct slowpath *sp)
{
	return &sp->stats;
}

size_t slowpath_connections(const struct slowpath *sp)
{
	return sp->n_conns;
}

size_t slowpath_binding(const struct slowpath *sp)
{
	return sp->n_binding;
}
