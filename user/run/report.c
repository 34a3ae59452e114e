/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * report.c - status, stats and metrics. One reading serves each: the flow
 * table is walked once (batched) to count live flows and distinct clients
 * per backend, per-CPU counters are summed, the health checker is asked for
 * each backend's last check, and the HTTP side for its counters and
 * sessions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>

#include "base/clock.h"
#include "dp/maps.h"
#include "dp/program.h"
#include "http/http.h"
#include "proto/command.h"
#include "run/health.h"
#include "run/metrics.h"
#include "run/announce.h"
#include "run/report.h"

/* A flow counts as live if it saw a packet this recently and has not closed. */
#define FLOW_ACTIVE_NS (120ULL * 1000000000ULL)

struct session_ref {
	__u32 backend_id;
	struct limpet_addr client;
};

struct tally {
	__u32 flows[LIMPET_MAX_BACKENDS];
	__u32 sessions[LIMPET_MAX_BACKENDS];
};

static int cmp_session(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct session_ref));
}

static int add_session(struct session_ref **refs, size_t *n, size_t *cap, __u32 backend_id,
		       const struct limpet_addr *client)
{
	if (*n == *cap) {
		size_t grown_cap = *cap ? *cap * 2 : 1024;
		struct session_ref *grown = realloc(*refs, sizeof(**refs) * grown_cap);

		if (!grown)
			return -ENOMEM;
		*refs = grown;
		*cap = grown_cap;
	}
	memset(&(*refs)[*n], 0, sizeof(**refs));
	(*refs)[*n].backend_id = backend_id;
	(*refs)[*n].client = *client;
	(*n)++;
	return 0;
}

struct tally_walk {
	struct tally *t;
	struct dataplane *dp;
	__u64 now;
	struct session_ref *refs;
	size_t n_refs, cap;
};

static int tally_one(void *ctx, const struct flow_key *key, const struct flow_value *v)
{
	struct tally_walk *w = ctx;
	const struct backend_value *be;

	if ((v->flags & (LIMPET_FLOW_RET | LIMPET_FLOW_CLOSED | LIMPET_FLOW_SLOWPATH |
			  LIMPET_FLOW_XDP_BINDING)) ||
	    w->now - v->atime_ns > FLOW_ACTIVE_NS)
		return 0;
	be = dp_backend(w->dp, v->backend_id);
	if (!be || v->gen != be->gen)
		return 0;	/* stale: its backend id changed hands */
	w->t->flows[v->backend_id]++;
	return add_session(&w->refs, &w->n_refs, &w->cap, v->backend_id, &key->src);
}

/* Count live flows and distinct clients per backend, in one pass over the
 * flow table.
 */
static int tally_flows(struct dataplane *dp, struct tally *t)
{
	struct tally_walk w = { .t = t, .dp = dp, .now = clock_mono_ns() };
	size_t i;
	int ret;

	memset(t, 0, sizeof(*t));
	ret = dp_flow_walk(dp, tally_one, &w);
	if (!ret && w.n_refs) {
		qsort(w.refs, w.n_refs, sizeof(*w.refs), cmp_session);
		for (i = 0; i < w.n_refs; i++)
			if (i == 0 || cmp_session(&w.refs[i], &w.refs[i - 1]))
				t->sessions[w.refs[i].backend_id]++;
	}
	free(w.refs);
	return ret;
}

static bool has_sessions(const struct service *svc)
{
	return svc->conf.mode == SERVICE_MODE_HTTP &&
	       svc->conf.affinity.type != LIMPET_AFFINITY_NONE;
}

/* The cluster node: its name, whether it announces, the connections it holds. */
static json_t *node_json(const struct model *model, const struct tally *t)
{
	json_int_t connections = 0;
	size_t i;

	for (i = 0; i < LIMPET_MAX_BACKENDS; i++)
		connections += t->flows[i];
	return json_pack("{s:s, s:s, s:I, s:i}", "name", model->conf.cluster.node, "state",
			 model->node_draining ? "draining" : "active", "connections", connections,
			 "announced", announce_count(model));
}

/*
 * One backend of the status: an object, or for a table (<row>, status_rows)
 * an array of the same values in the columns' order. Built value by value
 * (no format string to parse: a status lists every backend).
 */
static json_t *status_backend(const struct backend *be, const char *addr, __u32 flows,
			      __u32 sessions, bool row)
{
	json_t *values[STATUS_COLS] = {
		[STATUS_COL_NAME] = json_string(be->conf.name),
		[STATUS_COL_ADDRESS] = json_string(addr),
		[STATUS_COL_PORT] = json_integer(be->conf.port),
		[STATUS_COL_WEIGHT] = json_integer(be->conf.weight),
		[STATUS_COL_STATE] = json_string(model_state_name(be)),
		[STATUS_COL_FLOWS] = json_integer(flows),
		[STATUS_COL_SESSIONS] = json_integer(sessions),
	};
	json_t *o = row ? json_array() : json_object();
	int i, err = !o;

	/* Each *_new() takes its value, even when it fails. */
	for (i = 0; i < STATUS_COLS; i++)
		err |= row ? json_array_append_new(o, values[i]) :
			     json_object_set_new_nocheck(o, status_col_keys[i], values[i]);
	if (err) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *status_of(const struct report_sources *src, bool rows)
{
	static __u32 http_sessions_of[LIMPET_MAX_BACKENDS];
	const struct model *model = src->model;
	struct tally *t = malloc(sizeof(*t));
	json_t *services, *status;
	char addr[INET6_ADDRSTRLEN];
	size_t i, j;

	if (!t || tally_flows(src->dp, t)) {
		free(t);
		return NULL;
	}
	services = json_array();
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];
		const struct service_config *sc = &svc->conf;
		json_t *backends = json_array();

		/* HTTP affinity services count their sessions, not their clients. */
		if (has_sessions(svc)) {
			memset(http_sessions_of, 0, sizeof(http_sessions_of));
			http_sessions(src->http, svc->id, http_sessions_of, LIMPET_MAX_BACKENDS);
		}
		for (j = 0; j < svc->n_backends; j++) {
			const struct backend *be = &svc->backends[j];
			__u32 sessions = has_sessions(svc) ? http_sessions_of[be->id] :
							     t->sessions[be->id];

			format_ip_address(&be->conf.address, addr, sizeof(addr));
			json_array_append_new(backends, status_backend(be, addr, t->flows[be->id],
								       sessions, rows));
		}
		format_ip_address(&sc->vip, addr, sizeof(addr));
		json_array_append_new(services, json_pack(
			"{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:o}", "name", sc->name, "vip", addr,
			"port", sc->port, "protocol", config_protocol_name(sc->protocol), "mode",
			config_mode_name(sc->mode), "forwarding",
			config_forwarding_name(sc->forwarding), "affinity",
			config_affinity_name(sc->affinity.type), "backends", backends));
	}
	status = json_pack("{s:s, s:o}", "instance", model->conf.instance, "services", services);
	if (model->conf.cluster.enabled)
		json_object_set_new(status, "node", node_json(model, t));
	free(t);
	return status;
}

json_t *report_status(const struct report_sources *src)
{
	return status_of(src, false);
}

json_t *report_status_rows(const struct report_sources *src)
{
	return status_of(src, true);
}

static json_t *counters_json(const struct limpet_counters *k)
{
	return json_pack("{s:I, s:I, s:I}", "packets", (json_int_t)k->packets, "bytes",
			 (json_int_t)k->bytes, "new_flows", (json_int_t)k->new_flows);
}

static json_t *health_json(const struct health_checker *hc, const struct service *svc,
			   const struct backend *be)
{
	const struct health_status *hs = hc ? health_get(hc, svc->conf.name, be->conf.name) :
					      NULL;
	json_t *o;

	if (!hs || svc->conf.health.type == HEALTH_NONE)
		return json_pack("{s:s}", "type", "none");
	o = json_pack("{s:s, s:b, s:I, s:I, s:f, s:s}", "type",
		      svc->conf.health.type == HEALTH_HTTP ? "http" : "tcp", "up", hs->up, "checks",
		      (json_int_t)hs->checks, "failures", (json_int_t)hs->failures,
		      "last_latency_ms", hs->last_latency_us / 1000.0, "last_error", hs->last_error);
	/* What the checks learned of the backend's TCP stack (HTTP data path). */
	if (hs->learned) {
		json_object_set_new(o, "mss", json_integer(hs->mss));
		json_object_set_new(o, "wscale", json_integer(hs->wscale));
	}
	return o;
}

/*
 * Connections the slow path bound (or answered with the 503):
 * http_bound_slowpath, and by reason http_bound_slowpath_<reason> (the
 * first that applies; "none" when none does: the data plane could have).
 */
static void bound_json(json_t *o, const __u64 *by)
{
	char name[64];
	__u64 sum = 0;
	size_t r;

	for (r = 0; r < SLOWPATH_BIND_REASONS; r++) {
		sum += by[r];
		snprintf(name, sizeof(name), "http_bound_slowpath_%s",
			 slowpath_bind_reason_names[r]);
		json_object_set_new(o, name, json_integer((json_int_t)by[r]));
	}
	json_object_set_new(o, "http_bound_slowpath", json_integer((json_int_t)sum));
}

/* The slow path's counters, beside the data plane's. */
static void http_global(json_t *g, const struct http *http)
{
	const struct slowpath_stats *st = http_slowpath_stats(http);

	if (!st)
		return;
	json_object_set_new(g, "http_connections", json_integer(st->connections));
	json_object_set_new(g, "http_bound", json_integer(st->bound));
	json_object_set_new(g, "http_backend_retries", json_integer(st->retries));
	json_object_set_new(g, "http_503", json_integer(st->failed));
	json_object_set_new(g, "http_syn_retransmits", json_integer(st->syn_retransmits));
	json_object_set_new(g, "http_held_segments", json_integer(st->held));
	json_object_set_new(g, "http_held_acked", json_integer(st->acked));
	json_object_set_new(g, "http_held_resent", json_integer(st->resent));
	json_object_set_new(g, "http_relayed", json_integer(st->relayed));
	json_object_set_new(g, "http_heads_rewritten", json_integer(st->inserted));
	json_object_set_new(g, "http_cookies_set", json_integer(st->cookies));
	json_object_set_new(g, "http_aborted", json_integer(st->aborted));
	json_object_set_new(g, "http_binding_now", json_integer(http_binding_now(http)));
	bound_json(g, st->bound_by);
}

/*
 * Cookies of outcome <o> a service saw: those the slow path judged, and
 * the valid ones the data plane bound on its own (http_bind_counters).
 */
static __u64 cookie_count(const struct affinity_counters *k, const struct http_bind_counters *bc,
			  size_t o)
{
	return k->cookie[o] + (o == LIMPET_COOKIE_VALID ? bc->cookie_valid : 0);
}

/* An HTTP service's affinity and binding counters. */
static void http_service(json_t *o, const struct report_sources *src, const struct service *svc)
{
	const struct affinity_counters *k = http_counters(src->http, svc->id);
	enum limpet_affinity type = svc->conf.affinity.type;
	struct http_bind_counters bc;
	char name[48];
	size_t i;

	if (!k)
		return;
	if (dp_http_bind_counters(src->dp, svc->id, &bc))
		memset(&bc, 0, sizeof(bc));
	json_object_set_new(o, "http_bound_xdp", json_integer((json_int_t)bc.bound_xdp));
	bound_json(o, k->bound_slowpath);
	if (type == LIMPET_AFFINITY_COOKIE) {
		for (i = 0; i < LIMPET_COOKIE_OUTCOMES; i++) {
			snprintf(name, sizeof(name), "cookie_%s", limpet_cookie_outcome_names[i]);
			json_object_set_new(o, name, json_integer((json_int_t)cookie_count(k, &bc, i)));
		}
		json_object_set_new(o, "cookies_issued", json_integer((json_int_t)k->issued));
		json_object_set_new(o, "cookies_reissued",
				    json_integer((json_int_t)k->reissued));
	}
	if (type == LIMPET_AFFINITY_HEADER)
		json_object_set_new(o, "header_missing",
				    json_integer((json_int_t)k->header_missing));
	if (type == LIMPET_AFFINITY_COOKIE || type == LIMPET_AFFINITY_HEADER) {
		/* Whose reading of the first request head decided the backend. */
		json_object_set_new(o, "http_heads_read_xdp",
				    json_integer((json_int_t)(k->scanned_in_xdp + bc.heads_read)));
		json_object_set_new(o, "http_heads_read_slowpath",
				    json_integer((json_int_t)k->scanned_here));
	}
	json_object_set_new(o, "affinity_failovers", json_integer((json_int_t)k->failovers));
}

json_t *report_stats(const struct report_sources *src)
{
	const struct model *model = src->model;
	__u64 global[LIMPET_STAT_MAX];
	struct limpet_counters k;
	struct tally *t = malloc(sizeof(*t));
	json_t *g, *services;
	size_t i, j;
	__u32 s;

	if (!t || dp_read_global(src->dp, global) || tally_flows(src->dp, t)) {
		free(t);
		return NULL;
	}
	g = json_object();
	services = json_array();
	for (s = 0; s < LIMPET_STAT_MAX; s++)
		json_object_set_new(g, dp_stat_name(s), json_integer(global[s]));
	http_global(g, src->http);
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];
		json_t *backends = json_array(), *o;

		for (j = 0; j < svc->n_backends; j++) {
			const struct backend *be = &svc->backends[j];

			dp_backend_counters(src->dp, be->id, &k);
			o = counters_json(&k);
			json_object_set_new(o, "name", json_string(be->conf.name));
			json_object_set_new(o, "state", json_string(model_state_name(be)));
			json_object_set_new(o, "active_flows", json_integer(t->flows[be->id]));
			json_object_set_new(o, "sessions", json_integer(t->sessions[be->id]));
			json_object_set_new(o, "health", health_json(src->health, svc, be));
			json_array_append_new(backends, o);
		}
		dp_service_counters(src->dp, svc->id, &k);
		o = counters_json(&k);
		json_object_set_new(o, "drops", json_integer(k.drops));
		json_object_set_new(o, "name", json_string(svc->conf.name));
		json_object_set_new(o, "backends", backends);
		if (svc->conf.mode == SERVICE_MODE_HTTP)
			http_service(o, src, svc);
		json_array_append_new(services, o);
	}
	free(t);
	return json_pack("{s:s, s:o, s:o}", "instance", model->conf.instance, "global", g,
			 "services", services);
}

/* ---- Prometheus ------------------------------------------------------------ */

struct backend_gauge {
	const char *name;
	const char *type;
	const char *help;
};

/* The HTTP side's counters and live sessions. */
static void http_metrics(const struct report_sources *src, struct metrics_buf *b)
{
	static __u32 counts[LIMPET_MAX_BACKENDS];
	const struct model *model = src->model;
	char labels[METRICS_LABELS_MAX];
	size_t i, j, o;

	metrics_family(b, "limpet_http_cookies_total", "counter",
		       "First requests of cookie affinity services, by cookie outcome.");
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];
		const struct affinity_counters *k = http_counters(src->http, svc->id);

		struct http_bind_counters bc;

		if (svc->conf.mode != SERVICE_MODE_HTTP ||
		    svc->conf.affinity.type != LIMPET_AFFINITY_COOKIE || !k)
			continue;
		if (dp_http_bind_counters(src->dp, svc->id, &bc))
			memset(&bc, 0, sizeof(bc));
		for (o = 0; o < LIMPET_COOKIE_OUTCOMES; o++)
			metrics_sample_u64(b, "limpet_http_cookies_total",
					   metrics_labels(labels, sizeof(labels), "service",
							  svc->conf.name, "outcome",
							  limpet_cookie_outcome_names[o], NULL),
					   cookie_count(k, &bc, o));
	}
	metrics_family(b, "limpet_http_cookies_issued_total", "counter",
		       "Set-Cookie headers given to new sessions.");
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];
		const struct affinity_counters *k = http_counters(src->http, svc->id);

		if (svc->conf.mode == SERVICE_MODE_HTTP &&
		    svc->conf.affinity.type == LIMPET_AFFINITY_COOKIE && k)
			metrics_sample_u64(b, "limpet_http_cookies_issued_total",
					   metrics_labels(labels, sizeof(labels), "service",
							  svc->conf.name, NULL),
					   k->issued);
	}
	metrics_family(b, "limpet_http_bindings_total", "counter",
		       "First requests of cookie and header affinity services, by whose reading "
		       "of the request head chose the backend: the data plane (xdp) or the slow "
		       "path (slowpath).");
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];
		const struct affinity_counters *k = http_counters(src->http, svc->id);
		enum limpet_affinity type = svc->conf.affinity.type;

		struct http_bind_counters bc;

		if (svc->conf.mode != SERVICE_MODE_HTTP || !k ||
		    (type != LIMPET_AFFINITY_COOKIE && type != LIMPET_AFFINITY_HEADER))
			continue;
		if (dp_http_bind_counters(src->dp, svc->id, &bc))
			memset(&bc, 0, sizeof(bc));
		metrics_sample_u64(b, "limpet_http_bindings_total",
				   metrics_labels(labels, sizeof(labels), "service", svc->conf.name,
						  "path", "xdp", NULL), k->scanned_in_xdp + bc.heads_read);
		metrics_sample_u64(b, "limpet_http_bindings_total",
				   metrics_labels(labels, sizeof(labels), "service", svc->conf.name,
						  "path", "slowpath", NULL), k->scanned_here);
	}
	metrics_family(b, "limpet_http_bound_total", "counter",
		       "Connections of an HTTP service bound in the data plane (path xdp) or by "
		       "the slow path (path slowpath, its 503s included).");
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];
		const struct affinity_counters *k = http_counters(src->http, svc->id);
		struct http_bind_counters bc;
		__u64 slow = 0;

		if (svc->conf.mode != SERVICE_MODE_HTTP || !k)
			continue;
		if (dp_http_bind_counters(src->dp, svc->id, &bc))
			memset(&bc, 0, sizeof(bc));
		for (o = 0; o < SLOWPATH_BIND_REASONS; o++)
			slow += k->bound_slowpath[o];
		metrics_sample_u64(b, "limpet_http_bound_total",
				   metrics_labels(labels, sizeof(labels), "service", svc->conf.name,
						  "path", "xdp", NULL), bc.bound_xdp);
		metrics_sample_u64(b, "limpet_http_bound_total",
				   metrics_labels(labels, sizeof(labels), "service", svc->conf.name,
						  "path", "slowpath", NULL), slow);
	}
	metrics_family(b, "limpet_http_slowpath_bindings_total", "counter",
		       "Connections of an HTTP service the slow path bound (or answered with "
		       "the 503), by the first reason that applies: issue, insert, "
		       "multi_segment, no_timestamps, failover, all_failed; none when none does.");
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];
		const struct affinity_counters *k = http_counters(src->http, svc->id);

		if (svc->conf.mode != SERVICE_MODE_HTTP || !k)
			continue;
		for (o = 0; o < SLOWPATH_BIND_REASONS; o++)
			metrics_sample_u64(b, "limpet_http_slowpath_bindings_total",
					   metrics_labels(labels, sizeof(labels), "service",
							  svc->conf.name, "reason",
							  slowpath_bind_reason_names[o], NULL),
					   k->bound_slowpath[o]);
	}
	metrics_family(b, "limpet_http_sessions", "gauge",
		       "Live affinity sessions of an HTTP service's backend (seen within their TTL).");
	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];

		if (!has_sessions(svc))
			continue;
		memset(counts, 0, sizeof(counts));
		http_sessions(src->http, svc->id, counts, LIMPET_MAX_BACKENDS);
		for (j = 0; j < svc->n_backends; j++)
			metrics_sample_u64(b, "limpet_http_sessions",
					   metrics_labels(labels, sizeof(labels), "service",
							  svc->conf.name, "backend",
							  svc->backends[j].conf.name, NULL),
					   counts[svc->backends[j].id]);
	}
}

void report_metrics(const struct report_sources *src, struct metrics_buf *b)
{
	static const struct backend_gauge service_families[] = {
		{ "limpet_service_packets_total", "counter", "Packets of the service, both ways." },
		{ "limpet_service_bytes_total", "counter", "IP bytes of the service, both ways." },
		{ "limpet_service_new_flows_total", "counter", "Connections bound to a backend." },
		{ "limpet_service_drops_total", "counter",
		  "Packets dropped: no backend, TTL, no route." },
	};
	static const struct backend_gauge backend_families[] = {
		{ "limpet_backend_packets_total", "counter", "Packets to and from the backend." },
		{ "limpet_backend_bytes_total", "counter", "IP bytes to and from the backend." },
		{ "limpet_backend_new_flows_total", "counter", "Connections bound to the backend." },
		{ "limpet_backend_active_flows", "gauge",
		  "Open connections that saw a packet in the last 120 s." },
		{ "limpet_backend_sessions", "gauge", "Distinct clients among the active flows." },
		{ "limpet_backend_up", "gauge", "1 unless the backend failed its health checks." },
		{ "limpet_backend_draining", "gauge", "1 while the backend drains." },
		{ "limpet_backend_weight", "gauge", "Configured weight." },
		{ "limpet_health_checks_total", "counter", "Health checks run." },
		{ "limpet_health_check_failures_total", "counter", "Health checks failed." },
		{ "limpet_health_check_latency_seconds", "gauge",
		  "Duration of the last health check." },
	};
	__u64 global[LIMPET_STAT_MAX];
	struct limpet_counters k;
	struct tally *t = malloc(sizeof(*t));
	char labels[METRICS_LABELS_MAX];
	size_t f, i, j;
	__u32 s;

	const struct model *model = src->model;

	if (!t || tally_flows(src->dp, t) || dp_read_global(src->dp, global)) {
		/* A 500, so Prometheus marks the scrape failed rather than empty. */
		metrics_fail(b, -EIO, "cannot read the data plane");
		free(t);
		return;
	}

	metrics_family(b, "limpet_packets_total", "counter",
		       "Packets seen by the data plane, by outcome (drops by reason).");
	for (s = 0; s < LIMPET_STAT_MAX; s++)
		if (!LIMPET_STAT_IS_EVENT(s))
			metrics_sample_u64(b, "limpet_packets_total",
					   metrics_labels(labels, sizeof(labels), "outcome",
							  dp_stat_name(s), NULL), global[s]);
	metrics_family(b, "limpet_http_heads_read_xdp_total", "counter",
		       "First request heads read whole by the data plane.");
	metrics_sample_u64(b, "limpet_http_heads_read_xdp_total", "",
			   global[LIMPET_STAT_HEADS_READ]);
	metrics_family(b, "limpet_http_syncookies_own_total", "counter",
		       "SYN-ACKs with limpet's own cookie: clients without TCP timestamps.");
	metrics_sample_u64(b, "limpet_http_syncookies_own_total", "",
			   global[LIMPET_STAT_SYNCOOKIE_OWN]);

	for (f = 0; f < sizeof(service_families) / sizeof(service_families[0]); f++) {
		metrics_family(b, service_families[f].name, service_families[f].type,
			       service_families[f].help);
		for (i = 0; i < model->n_services; i++) {
			const struct service *svc = &model->services[i];
			__u64 v[4];

			dp_service_counters(src->dp, svc->id, &k);
			v[0] = k.packets;
			v[1] = k.bytes;
			v[2] = k.new_flows;
			v[3] = k.drops;
			metrics_sample_u64(b, service_families[f].name,
					   metrics_labels(labels, sizeof(labels), "service",
							  svc->conf.name, NULL), v[f]);
		}
	}

	for (f = 0; f < sizeof(backend_families) / sizeof(backend_families[0]); f++) {
		metrics_family(b, backend_families[f].name, backend_families[f].type,
			       backend_families[f].help);
		for (i = 0; i < model->n_services; i++) {
			const struct service *svc = &model->services[i];

			for (j = 0; j < svc->n_backends; j++) {
				const struct backend *be = &svc->backends[j];
				const struct health_status *hs =
					src->health ? health_get(src->health, svc->conf.name,
								 be->conf.name) : NULL;
				double v[11];

				dp_backend_counters(src->dp, be->id, &k);
				v[0] = k.packets;
				v[1] = k.bytes;
				v[2] = k.new_flows;
				v[3] = t->flows[be->id];
				v[4] = t->sessions[be->id];
				v[5] = !be->down;
				v[6] = be->draining;
				v[7] = be->conf.weight;
				v[8] = hs ? hs->checks : 0;
				v[9] = hs ? hs->failures : 0;
				v[10] = hs ? hs->last_latency_us / 1e6 : 0;
				metrics_sample(b, backend_families[f].name,
					       metrics_labels(labels, sizeof(labels), "service",
							      svc->conf.name, "backend", be->conf.name,
							      NULL),
					       v[f]);
			}
		}
	}
	free(t);
	http_metrics(src, b);
}
