/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * slowpath.h - binding HTTP connections to a backend (delayed binding).
 *
 * The data plane completed the client's handshake with a SYN cookie and
 * hands the first request segment here (through AF_XDP). The slow path
 * holds it and acknowledges it to the client, as the client's TCP peer
 * would; opens the backend's side with the client's ISN and options (SYN
 * retransmitted with backoff); and on the backend's SYN-ACK installs the
 * translation of both directions in the flow table and releases what it
 * held, sending it again until the backend acks it (the client will not:
 * it was acknowledged). A backend that refuses (RST) or stays silent past the connect
 * timeout is replaced by the next on the ring; when none is left the client
 * gets a 503 and a clean close. The first response head can get a header
 * inserted (the response-rewriting primitive), which shifts the server's
 * sequence space from there on (include/limpet_splice.h).
 *
 * This file is the state machine alone: packets out, flow entries and the
 * choice of backend go through struct slowpath_ops, so the unit tests drive
 * it with recorded segments and the controller with real sockets and maps.
 */
#ifndef LIMPET_SLOWPATH_H
#define LIMPET_SLOWPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "limpet_maps.h"
#include "http/segment.h"

/* Most bytes the slow path inserts into a response head (header lines). */
#define SLOWPATH_INSERT_MAX 768

/* The request head a backend is chosen from: scanned up to this many bytes. */
#define SLOWPATH_HEAD_MAX 16384

struct slowpath_backend {
	__u32 id;
	__u32 gen;
	__u32 service_id;
	struct limpet_addr addr;
	__be16 port;
	char name[LIMPET_NAME_MAX];
};

/* A service's settings that matter here, and how its pick was made. */
struct slowpath_service {
	__u64 connect_timeout_ms;
	char backend_header[LIMPET_NAME_MAX];	/* "": insert nothing */
	bool no_retry;		/* this backend or a 503 (failover none, pinned) */
	bool multi_segment;	/* the head that decided was longer than its first segment */
	bool moved;		/* the route's backend was down or refused: another one */
};

/*
 * Why the slow path, not the data plane, bound a connection: the first of
 * these that applies (counted once per connection, when it is bound or
 * answered with the 503). NONE: nothing the data plane could not do.
 */
enum slowpath_bind_reason {
	SLOWPATH_BIND_NONE = 0,
	SLOWPATH_BIND_ISSUE,		/* a cookie to issue (none, invalid, expired, re-issue) */
	SLOWPATH_BIND_INSERT,		/* backend_header: the response gets a header */
	SLOWPATH_BIND_MULTI_SEGMENT,	/* the head was longer than one segment */
	SLOWPATH_BIND_FAILOVER,		/* the route's backend was refused or down: moved */
	SLOWPATH_BIND_ALL_FAILED,	/* no backend left: the 503 */
	SLOWPATH_BIND_NO_TIMESTAMPS,	/* the client sends none: XDP keeps no options for it */
	SLOWPATH_BIND_REASONS,
};

/* "none", "issue", "insert", "multi_segment", "failover", "all_failed", "no_timestamps". */
extern const char *const slowpath_bind_reason_names[SLOWPATH_BIND_REASONS];

/* Whether the first response gets a cookie, and for which session. */
struct slowpath_cookie {
	bool issue;
	__u64 session;
};

/* What a backend is chosen from. */
struct slowpath_request {
	const struct segment *first;		/* the first request segment */
	const struct flow_value *pending;	/* the data plane's entry for it */
	const __u8 *head;			/* the request bytes so far, in order */
	__u32 head_len;
	bool head_final;			/* no more will come: decide now */
};

struct slowpath_ops {
	void *ctx;
	/* Send an IP packet (no link header). */
	int (*send)(void *ctx, __u8 family, const void *pkt, size_t len);
	int (*flow_get)(void *ctx, const struct flow_key *key, struct flow_value *val);
	int (*flow_set)(void *ctx, const struct flow_key *key, const struct flow_value *val);
	int (*flow_del)(void *ctx, const struct flow_key *key);
	/*
	 * The backend for the connection <req> opens (client -> VIP), not
	 * one of the <n_tried> in <tried>: 0, -EAGAIN when it needs more of
	 * the request head, -ENOENT when none is left, -EINVAL when the VIP
	 * is no HTTP service.
	 */
	int (*pick)(void *ctx, const struct slowpath_request *req, const __u32 *tried,
		    size_t n_tried, struct slowpath_backend *out, struct slowpath_service *svc,
		    struct slowpath_cookie *cookie);
	/*
	 * The Set-Cookie line (CRLF included) for <cookie> on <be> into <buf>:
	 * its length, 0 when there is none. May be NULL.
	 */
	size_t (*cookie_line)(void *ctx, const struct slowpath_backend *be,
			      const struct slowpath_cookie *cookie, char *buf, size_t size);
	/*
	 * A connection of service <service_id> bound (or answered with the
	 * 503), for enum slowpath_bind_reason <reason>. May be NULL.
	 */
	void (*bind_done)(void *ctx, __u32 service_id, enum slowpath_bind_reason reason);
};

struct slowpath_stats {
	__u64 connections;	/* first request segments taken */
	__u64 bound;		/* connections handed to the data plane */
	__u64 retries;		/* backends that refused or timed out, next one tried */
	__u64 failed;		/* no backend left: 503 sent */
	__u64 syn_retransmits;
	__u64 held;		/* client segments held while binding */
	__u64 acked;		/* ACKs sent to clients for what was held */
	__u64 resent;		/* held segments sent to a backend again (it had not acked them) */
	__u64 relayed;		/* segments translated here (races, insertion) */
	__u64 inserted;		/* response heads rewritten (retransmissions included) */
	__u64 ignored;		/* segments with no connection or out of place */
	__u64 aborted;		/* client reset or went silent while binding */
	__u64 cookies;		/* Set-Cookie lines inserted (first copies only) */
	__u64 bound_by[SLOWPATH_BIND_REASONS];	/* bound or 503, by enum slowpath_bind_reason */
};

struct slowpath;

struct slowpath *slowpath_new(const struct slowpath_ops *ops);
void slowpath_free(struct slowpath *sp);

/* One segment from an AF_XDP socket, at <now_ms> (CLOCK_MONOTONIC). */
void slowpath_segment(struct slowpath *sp, const struct segment *seg, __u64 now_ms);

/* Retransmissions, timeouts and the end of finished connections. */
void slowpath_tick(struct slowpath *sp, __u64 now_ms);

/*
 * The node the connections started from now on name in every TSval they
 * write (a cluster: limpet_ts_tag in limpet_tcpopt.h); none until set.
 */
void slowpath_set_ts_tag(struct slowpath *sp, struct limpet_ts_tag tag);

const struct slowpath_stats *slowpath_stats(const struct slowpath *sp);
/* Records kept: connections being bound, and bound ones lingering. */
size_t slowpath_connections(const struct slowpath *sp);
/* Connections being bound right now: reading the head or waiting for a backend. */
size_t slowpath_binding(const struct slowpath *sp);

/*
 * Where the bytes <ins> go into the response head starting <payload>:
 * after the status line. Returns the offset, or -1 when this is not a
 * response head that can take them (not HTTP/1.x, no complete status
 * line); *informational is set for a 1xx head other than 101, which gets
 * nothing, and *head_len then holds its length when it is complete in
 * <payload>. A 101 (Switching Protocols, as for a WebSocket) is the last
 * head of the connection and takes them like a 2xx.
 */
int slowpath_insert_offset(const __u8 *payload, __u32 len, bool *informational,
			   __u32 *head_len);

#endif /* LIMPET_SLOWPATH_H */
