// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * affinity.c - which backend an HTTP connection goes to (affinity.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "base/clock.h"
#include "base/log.h"
#include "dp/maglev.h"
#include "dp/maps.h"
#include "dp/program.h"
#include "dp/route.h"
#include "http/affinity.h"
#include "limpet_hash.h"
#include "limpet_mix.h"
#include "limpet_placement.h"
#include "limpet_route.h"

/* Config durations are in milliseconds, cookie times in seconds. */
#define MS_PER_S 1000
#define NS_PER_S 1000000000ull

struct affinity_backend {
	struct slowpath_backend sb;
	__u8 family;
	__u32 tag;
	__u8 state;		/* enum limpet_be_state, model_route_state() */
	__u32 weight;		/* for new sessions, model_new_flow_weight(): 0 takes none */
};

/* A snapshot of one HTTP service. */
struct affinity_service {
	__u32 id, tag;
	struct ip_address vip;
	__u16 port;
	struct affinity_config aff;
	enum failover_mode failover;
	struct slowpath_service sp;
	struct limpet_head_config head;
	__u32 cookie_ttl_s;
	__u64 idle_ttl_s;
	struct limpet_route_in settings;	/* affinity_route_settings() */
	struct affinity_backend *be;
	size_t n_be;
	const __u32 *ring;	/* dp/program.c's table; NULL when nothing takes new flows */
	__u32 ring_size;
	const __u32 *placement;	/* dp/route.c's table; NULL: no session affinity */
};

/* Live sessions per backend id, from one walk of route_sessions a second. */
struct session_counts {
	__u64 at_s;		/* CLOCK_BOOTTIME second of the walk; 0: never */
	__u32 of[LIMPET_MAX_BACKENDS];
};

/* xorshift64*: session ids need to be unique, not secret (the MAC is). */
static __u64 rng_state;

static __u64 rng_next(void)
{
	if (!rng_state && getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
		rng_state = 0x9e3779b97f4a7c15ull;
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

__u32 affinity_tag(const char *name)
{
	return limpet_name_tag(name);
}

static void service_free(struct affinity_service *s)
{
	if (!s)
		return;
	free(s->be);
	free(s);
}

int affinity_init(struct affinity *a, const struct cookie_keys *keys, struct dataplane *dp)
{
	memset(a, 0, sizeof(*a));
	a->keys = keys;
	a->dp = dp;
	a->session_counts = calloc(1, sizeof(*a->session_counts));
	return a->session_counts ? 0 : -ENOMEM;
}

void affinity_free(struct affinity *a)
{
	size_t i;

	for (i = 0; i < LIMPET_MAX_SERVICES; i++)
		service_free(a->svc[i]);
	free(a->session_counts);
	memset(a, 0, sizeof(*a));
}

void affinity_route_settings(const struct service_config *cfg, struct limpet_route_in *in)
{
	memset(in, 0, sizeof(*in));
	in->affinity = cfg->mode == SERVICE_MODE_HTTP ? (__u8)cfg->affinity.type : 0;
	in->fallback = (__u8)cfg->affinity.fallback;
	in->policy = (__u8)cfg->affinity.policy;
	in->failover = (__u8)cfg->failover;
	in->token_state = LIMPET_BE_UNKNOWN;
	in->entry_state = LIMPET_BE_UNKNOWN;
}

/* ---- sessions: route_sessions, through dp/ ------------------------------ */

static __u64 boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

static bool session_live(const struct route_session_value *v, __u64 now_ns)
{
	return now_ns < v->last_use_ns + (__u64)v->ttl_s * NS_PER_S;
}

static void session_key_of(struct route_session_key *k, __u32 service_id, __u8 kind, __u64 key)
{
	memset(k, 0, sizeof(*k));
	k->service_id = service_id;
	k->kind = kind;
	k->key = key;
}

/* The backend id of the live session (service, kind, key), or ID none (~0). */
static __u32 session_find(const struct affinity *a, __u32 service_id, __u8 kind, __u64 key,
			  __u64 now_ns)
{
	struct route_session_value v;
	struct route_session_key k;

	session_key_of(&k, service_id, kind, key);
	if (!a->dp || dp_route_session_get(a->dp, &k, &v) || !session_live(&v, now_ns))
		return ~0u;
	return v.backend_id;
}

static void session_touch(const struct affinity *a, __u32 service_id, __u8 kind, __u64 key,
			  __u32 backend_id, __u64 now_ns, __u64 ttl_s)
{
	struct route_session_value v = { .backend_id = backend_id, .last_use_ns = now_ns };
	struct route_session_key k;
	int ret;

	if (!a->dp)
		return;
	v.ttl_s = ttl_s > 0xffffffffull ? 0xffffffffu : (__u32)ttl_s;
	session_key_of(&k, service_id, kind, key);
	ret = dp_route_session_set(a->dp, &k, &v);
	if (ret)
		pr_debug("route_sessions: cannot remember a session: %s", strerror(-ret));
}

static void head_config(struct limpet_head_config *h, const struct affinity_config *aff)
{
	size_t i, n;

	memset(h, 0, sizeof(*h));
	if (aff->type == LIMPET_AFFINITY_COOKIE) {
		n = strnlen(aff->cookie.name, sizeof(h->cookie_name) - 1);
		memcpy(h->cookie_name, aff->cookie.name, n);
		h->cookie_name_len = (__u8)n;
	}
	if (aff->type != LIMPET_AFFINITY_HEADER)
		return;
	for (i = 0; i < aff->n_headers && i < LIMPET_HEAD_MAX_HEADERS; i++) {
		const char *name = aff->headers[i];

		for (n = 0; name[n] && n < LIMPET_HEAD_NAME_MAX - 1; n++)
			h->header[i][n] = (char)(name[n] >= 'A' && name[n] <= 'Z' ?
						 name[n] - 'A' + 'a' : name[n]);
		h->header_len[i] = (__u8)n;
	}
	h->n_headers = (__u8)i;
}

/*
 * The snapshot of HTTP service <svc>: the backends the data plane knows
 * (their ids, generations and addresses as dp/program.c wrote them), each
 * with the model's verdict on new sessions, and the service's ring.
 */
static struct affinity_service *snapshot(const struct service *svc, const struct dataplane *dp)
{
	const struct service_config *cfg = &svc->conf;
	struct affinity_service *s = calloc(1, sizeof(*s));
	bool panic = model_panics(svc);
	size_t j;

	if (!s)
		return NULL;
	s->id = svc->id;
	s->tag = affinity_tag(cfg->name);
	s->vip = cfg->vip;
	s->port = cfg->port;
	s->aff = cfg->affinity;
	s->failover = cfg->failover;
	s->sp.connect_timeout_ms = cfg->http.connect_timeout_ms;
	snprintf(s->sp.backend_header, sizeof(s->sp.backend_header), "%s",
		 cfg->http.backend_header);
	head_config(&s->head, &cfg->affinity);
	s->cookie_ttl_s = (__u32)(cfg->affinity.cookie.ttl_ms / MS_PER_S);
	s->idle_ttl_s = cfg->affinity.idle_ttl_ms / MS_PER_S;
	affinity_route_settings(cfg, &s->settings);
	s->be = calloc(svc->n_backends ? svc->n_backends : 1, sizeof(*s->be));
	if (!s->be) {
		service_free(s);
		return NULL;
	}
	for (j = 0; j < svc->n_backends; j++) {
		const struct backend *b = &svc->backends[j];
		const struct backend_value *bv = dp_backend(dp, b->id);
		struct affinity_backend *ab = &s->be[s->n_be];

		if (!bv)
			continue;
		ab->sb.id = b->id;
		ab->sb.gen = bv->gen;
		ab->sb.service_id = svc->id;
		ab->sb.addr = bv->addr;
		ab->sb.port = bv->port;
		snprintf(ab->sb.name, sizeof(ab->sb.name), "%s", b->conf.name);
		ab->family = bv->family;
		ab->tag = affinity_tag(b->conf.name);
		ab->state = model_route_state(b);
		ab->weight = model_new_flow_weight(svc, b, panic);
		s->n_be++;
	}
	s->ring = dp_ring(dp, svc->id, &s->ring_size);
	s->placement = dp_placement(dp, svc->id);
	return s;
}

int affinity_update(struct affinity *a, const struct model *model, const struct dataplane *dp)
{
	struct affinity_service *next[LIMPET_MAX_SERVICES] = { NULL };
	__u32 max_ttl = 0;
	size_t i;

	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];

		if (svc->conf.mode != SERVICE_MODE_HTTP || svc->id >= LIMPET_MAX_SERVICES)
			continue;
		next[svc->id] = snapshot(svc, dp);
		if (!next[svc->id])
			goto fail;
		if (svc->conf.affinity.type == LIMPET_AFFINITY_COOKIE &&
		    next[svc->id]->cookie_ttl_s > max_ttl)
			max_ttl = next[svc->id]->cookie_ttl_s;
	}
	for (i = 0; i < LIMPET_MAX_SERVICES; i++) {
		/* Another service now, or none: its counters are gone (its
		 * sessions went when dp_program() retired the id).
		 */
		if (a->svc[i] && (!next[i] || next[i]->tag != a->svc[i]->tag))
			memset(&a->counters[i], 0, sizeof(a->counters[i]));
		service_free(a->svc[i]);
		a->svc[i] = next[i];
	}
	a->max_ttl_s = max_ttl ? max_ttl : 23 * 3600;
	return 0;
fail:
	for (i = 0; i < LIMPET_MAX_SERVICES; i++)
		service_free(next[i]);
	return -ENOMEM;
}

static const struct affinity_backend *by_tag(const struct affinity_service *s, __u32 tag)
{
	size_t i;

	for (i = 0; i < s->n_be; i++)
		if (s->be[i].tag == tag)
			return &s->be[i];
	return NULL;
}

static const struct affinity_backend *by_id(const struct affinity_service *s, __u32 id)
{
	size_t i;

	for (i = 0; i < s->n_be; i++)
		if (s->be[i].sb.id == id)
			return &s->be[i];
	return NULL;
}

static bool was_tried(const struct affinity_backend *b, const __u32 *tried, size_t n_tried)
{
	size_t i;

	for (i = 0; b && i < n_tried; i++)
		if (tried[i] == b->sb.id)
			return true;
	return false;
}

static bool usable(const struct affinity_backend *b, __u8 family, const __u32 *tried,
		   size_t n_tried)
{
	size_t i;

	if (!b || b->family != family)
		return false;
	for (i = 0; i < n_tried; i++)
		if (tried[i] == b->sb.id)
			return false;
	return true;
}

/*
 * The ring's backend for <hash>, or onwards for one not yet tried: Maglev
 * spreads each backend over the table, so a few hundred slots from any
 * start meet every other backend.
 */
static const struct affinity_backend *ring_walk(const struct affinity_service *s, __u32 hash,
						__u8 family, const __u32 *tried, size_t n_tried)
{
	__u32 step, slot;

	if (!s->ring)
		return NULL;
	for (step = 0; step < s->ring_size && step < 4096; step++) {
		const struct affinity_backend *b;

		slot = (__u32)(((__u64)hash + step) % s->ring_size);
		if (s->ring[slot] == MAGLEV_EMPTY)
			continue;
		b = by_id(s, s->ring[slot]);
		if (usable(b, family, tried, n_tried))
			return b;
	}
	return NULL;
}

/*
 * The backend of session key <key>: the placement table's slot for it
 * (weighted rendezvous hashing precomputed, dp/placement.c: adding a
 * backend moves only the keys it wins, removing one only its own), or
 * onwards, slot after slot, to the first usable one not yet tried: the
 * same order for every retry of the key, and what the data plane reads.
 */
static const struct affinity_backend *placement_pick(const struct affinity_service *s, __u64 key,
						     __u8 family, const __u32 *tried,
						     size_t n_tried)
{
	__u32 slot, step, id;

	if (!s->placement)
		return NULL;
	slot = limpet_placement_slot(key);
	for (step = 0; step < LIMPET_PLACEMENT_SLOTS; step++) {
		const struct affinity_backend *b;

		id = s->placement[(slot + step) & (LIMPET_PLACEMENT_SLOTS - 1)];
		if (id == LIMPET_PLACEMENT_EMPTY)
			return NULL;	/* every slot is: nothing takes new sessions */
		b = by_id(s, id);
		if (b && b->weight && usable(b, family, tried, n_tried))
			return b;
	}
	return NULL;
}

/*
 * A new session id for a session starting on <b>. Under policy rebalance
 * a session lives where the placement table puts its id, so draw ids
 * until the table agrees with the first choice (about as many draws as
 * backends, one table read each): otherwise the second request would move
 * it.
 */
static __u64 new_session(const struct affinity_service *s, const struct affinity_backend *b,
			 __u8 family)
{
	__u64 session = rng_next();
	int i;

	if (s->aff.policy != POLICY_REBALANCE)
		return session;
	for (i = 0; i < 1024; i++, session = rng_next())
		if (placement_pick(s, session, family, NULL, 0) == b)
			break;
	return session;
}

static const struct affinity_service *service_of(const struct affinity *a,
						 const struct slowpath_request *req)
{
	const struct segment *seg = req->first;
	size_t i;

	for (i = 0; i < LIMPET_MAX_SERVICES; i++) {
		const struct affinity_service *s = a->svc[i];

		if (s && s->port == ntohs(seg->dport) &&
		    !memcmp(&s->vip.addr, &seg->dst, sizeof(seg->dst)) &&
		    s->vip.family == seg->family)
			return s;
	}
	return NULL;
}

/* What the request head says: from the data plane's scan, else our own. */
struct head_facts {
	bool from_xdp;
	__u8 outcome;
	struct limpet_token_fields token;
	int header_ok;
	__u64 header_key;
};

static int head_facts(const struct affinity *a, const struct affinity_service *s,
		      const struct slowpath_request *req, __u64 now_s, struct head_facts *f)
{
	const struct flow_value *p = req->pending;
	struct limpet_head_scan scan;
	__u32 i;

	memset(f, 0, sizeof(*f));
	if (p && (p->pending.scan & LIMPET_PENDING_SCANNED)) {
		f->outcome = p->pending.outcome;
		f->token.session = p->pending.session;
		f->token.backend_tag = p->pending.backend_tag;
		f->header_ok = !!(p->pending.scan & LIMPET_PENDING_HEADER_OK);
		f->header_key = p->pending.header_key;
		f->from_xdp = true;
		return 0;
	}
	limpet_head_init(&scan);
	for (i = 0; i < req->head_len; i++)
		if (limpet_head_step(&scan, &s->head, req->head[i]))
			break;
	if (!scan.complete && !req->head_final)
		return -EAGAIN;
	if (s->aff.type == LIMPET_AFFINITY_COOKIE)
		f->outcome = limpet_head_cookie(&scan, &a->keys->verify, s->tag, now_s, s->cookie_ttl_s,
						&f->token);
	if (s->aff.type == LIMPET_AFFINITY_HEADER)
		f->header_key = limpet_head_session_key(&scan, &s->head,
							s->aff.require_all_headers, &f->header_ok);
	return 0;
}

int affinity_pick(struct affinity *a, const struct slowpath_request *req, const __u32 *tried,
		  size_t n_tried, __u64 now_s, struct slowpath_backend *be,
		  struct slowpath_service *svc, struct slowpath_cookie *cookie)
{
	const struct segment *seg = req->first;
	const struct affinity_backend *token_be = NULL, *entry_be = NULL, *b = NULL;
	const struct affinity_service *s = service_of(a, req);
	struct limpet_route_in in;
	struct limpet_route_out out;
	struct head_facts f = { 0 };
	bool left_session;
	__u8 kind = 0;
	__u64 key = 0, session_key = 0, now_ns = boot_ns();
	__u32 hash = 0, entry_id;
	int ret;

	if (!s)
		return -EINVAL;
	in = s->settings;
	if (s->aff.type == LIMPET_AFFINITY_COOKIE || s->aff.type == LIMPET_AFFINITY_HEADER) {
		ret = head_facts(a, s, req, now_s, &f);
		if (ret)
			return ret;
	}
	switch (s->aff.type) {
	case LIMPET_AFFINITY_COOKIE:
		in.outcome = f.outcome;
		if (f.outcome == LIMPET_COOKIE_VALID) {
			token_be = by_tag(s, f.token.backend_tag);
			if (token_be)
				in.token_state = token_be->state;
		}
		break;
	case LIMPET_AFFINITY_HEADER:
		kind = SESSION_HEADER;
		key = f.header_key;
		in.has_key = f.header_ok ? 1 : 0;
		break;
	case LIMPET_AFFINITY_CLIENT_IP:
		kind = SESSION_CLIENT;
		key = limpet_client_session_key(&seg->src);
		in.has_key = 1;
		break;
	default:
		break;
	}
	if (kind && in.has_key) {
		entry_id = session_find(a, s->id, kind, key, now_ns);
		entry_be = entry_id != ~0u ? by_id(s, entry_id) : NULL;
		if (entry_be)
			in.entry_state = entry_be->state;
	}
	/*
	 * A retry: the session's backend refused or did not answer this
	 * connection. Down as far as it can tell, before health checks say
	 * so: the failover mode decides, as it does once they have.
	 */
	limpet_route_refused(&in, was_tried(token_be, tried, n_tried),
			     was_tried(entry_be, tried, n_tried));
	left_session = n_tried && (tried[n_tried - 1] == (token_be ? token_be->sb.id : ~0u) ||
				   tried[n_tried - 1] == (entry_be ? entry_be->sb.id : ~0u));
	limpet_route(&in, &out);

	/* Session keys go by the placement table, addresses by the ring. */
	switch (out.via) {
	case LIMPET_ROUTE_TOKEN_BACKEND:
		b = token_be;
		session_key = f.token.session;
		break;
	case LIMPET_ROUTE_SESSION_ENTRY:
		b = entry_be;
		session_key = key;
		break;
	case LIMPET_ROUTE_RING_SESSION:
		session_key = f.token.session;
		break;
	case LIMPET_ROUTE_RING_HEADER:
		session_key = key;
		break;
	case LIMPET_ROUTE_RING_CLIENT_IP:
		hash = limpet_hash_addr(&seg->src);
		break;
	default:	/* RANDOM */
		hash = s->aff.type == LIMPET_AFFINITY_NONE ?
			       limpet_hash_tuple(&seg->src, &seg->dst, seg->sport, seg->dport,
						 IPPROTO_TCP) :
			       (__u32)rng_next();
		break;
	}
	/* failover none: the session's backend or nothing (the client sees it fail). */
	if (s->failover == FAILOVER_NONE && was_tried(b, tried, n_tried))
		return -ENOENT;
	/* The named backend unless tried already; else by the key. */
	if (!usable(b, seg->family, tried, n_tried))
		b = session_key ? placement_pick(s, session_key, seg->family, tried, n_tried) :
				  ring_walk(s, hash, seg->family, tried, n_tried);
	if (!b)
		return -ENOENT;

	if (!n_tried) {
		if (s->aff.type == LIMPET_AFFINITY_COOKIE || s->aff.type == LIMPET_AFFINITY_HEADER) {
			if (f.from_xdp)
				a->counters[s->id].scanned_in_xdp++;
			else
				a->counters[s->id].scanned_here++;
		}
		if (s->aff.type == LIMPET_AFFINITY_COOKIE && out.outcome < LIMPET_COOKIE_OUTCOMES)
			a->counters[s->id].cookie[out.outcome]++;
		if (s->aff.type == LIMPET_AFFINITY_HEADER && !in.has_key)
			a->counters[s->id].header_missing++;
		if ((token_be && token_be != b) || (entry_be && entry_be != b))
			a->counters[s->id].failovers++;
	} else if (left_session) {
		a->counters[s->id].failovers++;
	}

	memset(cookie, 0, sizeof(*cookie));
	if (s->aff.type == LIMPET_AFFINITY_COOKIE) {
		switch (out.issue) {
		case LIMPET_ISSUE_NEW:
			cookie->issue = true;
			cookie->session = new_session(s, b, seg->family);
			break;
		case LIMPET_ISSUE_REISSUE:
			cookie->issue = true;
			cookie->session = f.token.session;
			break;
		case LIMPET_ISSUE_IF_MOVED:
			cookie->issue = b->tag != f.token.backend_tag;
			cookie->session = f.token.session;
			break;
		default:
			cookie->session = f.token.session;
			break;
		}
		if ((!n_tried || left_session) && cookie->issue)
			a->counters[s->id].issued++;
		if ((!n_tried || left_session) && cookie->issue && out.issue != LIMPET_ISSUE_NEW)
			a->counters[s->id].reissued++;
		session_touch(a, s->id, SESSION_COOKIE, cookie->session, b->sb.id, now_ns,
			      s->cookie_ttl_s);
	} else if (kind && in.has_key && out.remember) {
		session_touch(a, s->id, kind, key, b->sb.id, now_ns, s->idle_ttl_s);
	}
	*be = b->sb;
	*svc = s->sp;
	svc->multi_segment = (s->aff.type == LIMPET_AFFINITY_COOKIE ||
			      s->aff.type == LIMPET_AFFINITY_HEADER) && !f.from_xdp;
	svc->moved = (token_be && token_be != b) || (entry_be && entry_be != b) || left_session;
	/* failover none: a pinned session sees its backend fail, never moves. */
	svc->no_retry = s->failover == FAILOVER_NONE &&
			(out.via == LIMPET_ROUTE_TOKEN_BACKEND || out.via == LIMPET_ROUTE_SESSION_ENTRY);
	return 0;
}

static size_t append(char *buf, size_t size, size_t at, const char *fmt, const char *arg)
{
	int n;

	if (at >= size)
		return size;
	n = snprintf(buf + at, size - at, fmt, arg);
	return n < 0 ? size : at + (size_t)n;
}

size_t affinity_cookie_line(const struct affinity *a, const struct slowpath_backend *be,
			    const struct slowpath_cookie *cookie, __u64 now_s, char *buf,
			    size_t size)
{
	static const char *const samesite[] = { [SAMESITE_LAX] = "Lax",
						[SAMESITE_STRICT] = "Strict",
						[SAMESITE_NONE] = "None" };
	const struct cookie_key_entry *k = cookie_keys_current(a->keys);
	const struct affinity_service *s = be->service_id < LIMPET_MAX_SERVICES ?
						   a->svc[be->service_id] : NULL;
	struct limpet_token_fields f = { 0 };
	struct limpet_cookie_key key = { 0 };
	char token[LIMPET_TOKEN_CHARS + 1];
	char max_age[24];
	size_t at;

	if (!k || !s)
		return 0;
	key.k0 = k->k0;
	key.k1 = k->k1;
	key.id = k->id;
	key.valid = 1;
	f.version = LIMPET_TOKEN_VERSION;
	f.key_id = k->id;
	f.session = cookie->session;
	f.backend_tag = affinity_tag(be->name);
	f.issued = (__u32)now_s;
	limpet_token_encode(&f, &key, s->tag, token);
	token[LIMPET_TOKEN_CHARS] = '\0';
	snprintf(max_age, sizeof(max_age), "%u", s->cookie_ttl_s);

	at = append(buf, size, 0, "Set-Cookie: %s=", s->aff.cookie.name);
	at = append(buf, size, at, "%s", token);
	at = append(buf, size, at, "; Path=%s", s->aff.cookie.path);
	at = append(buf, size, at, "; Max-Age=%s", max_age);
	if (s->aff.cookie.domain[0])
		at = append(buf, size, at, "; Domain=%s", s->aff.cookie.domain);
	at = append(buf, size, at, "%s", "; HttpOnly");
	if (s->aff.cookie.secure)
		at = append(buf, size, at, "%s", "; Secure");
	if (s->aff.cookie.samesite != SAMESITE_UNSET)
		at = append(buf, size, at, "; SameSite=%s", samesite[s->aff.cookie.samesite]);
	at = append(buf, size, at, "%s", "\r\n");
	return at < size ? at : 0;
}

struct count_walk {
	const struct affinity *a;
	struct session_counts *c;
	__u64 now_ns;
};

static int count_one(void *arg, const struct route_session_key *key,
		     const struct route_session_value *val)
{
	struct count_walk *w = arg;
	const struct backend_value *be = dp_backend(w->a->dp, val->backend_id);

	/* Live, and its backend still one of its service's (one array read). */
	if (be && be->service_id == key->service_id && session_live(val, w->now_ns))
		w->c->of[val->backend_id]++;
	return 0;
}

void affinity_sessions(const struct affinity *a, __u32 service_id, __u32 *counts,
		       size_t n_counts)
{
	const struct affinity_service *s = service_id < LIMPET_MAX_SERVICES ?
						   a->svc[service_id] : NULL;
	struct count_walk w = { .a = a, .c = a->session_counts, .now_ns = boot_ns() };
	size_t i;
	int ret;

	if (!s || !w.c || !a->dp)
		return;
	/* One walk of the map a second serves every service's report. */
	if (w.c->at_s != w.now_ns / NS_PER_S) {
		memset(w.c->of, 0, sizeof(w.c->of));
		ret = dp_route_session_walk(a->dp, count_one, &w);
		if (ret)
			pr_debug("route_sessions: cannot count sessions: %s", strerror(-ret));
		w.c->at_s = w.now_ns / NS_PER_S;
	}
	for (i = 0; i < s->n_be; i++)
		if (s->be[i].sb.id < n_counts)
			counts[s->be[i].sb.id] += w.c->of[s->be[i].sb.id];
}

const struct affinity_counters *affinity_counters(const struct affinity *a, __u32 service_id)
{
	return service_id < LIMPET_MAX_SERVICES ? &a->counters[service_id] : NULL;
}

void affinity_count_binding(struct affinity *a, __u32 service_id,
			    enum slowpath_bind_reason reason)
{
	if (service_id < LIMPET_MAX_SERVICES && reason < SLOWPATH_BIND_REASONS)
		a->counters[service_id].bound_slowpath[reason]++;
}

int affinity_dp_value(const struct affinity *a, __u32 service_id,
		      struct http_affinity_value *out)
{
	const struct affinity_service *s = service_id < LIMPET_MAX_SERVICES ?
						   a->svc[service_id] : NULL;

	if (!s || (s->aff.type != LIMPET_AFFINITY_COOKIE &&
		   s->aff.type != LIMPET_AFFINITY_HEADER))
		return -ENOENT;
	memset(out, 0, sizeof(*out));
	out->head = s->head;
	out->service_tag = s->tag;
	out->cookie_ttl_s = s->cookie_ttl_s;
	out->require_all = s->aff.require_all_headers;
	return 0;
}
