/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * report.c - status, stats and metrics. One reading serves each: the flow
 * table is walked once (batched) to count live flows and distinct clients
 * per backend, per-CPU counters are summed, and the health checker is
 * asked for each backend's last check.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "proto/control.h"
#include "run/health.h"
#include "run/metrics.h"
#include "run/report.h"
#include "base/clock.h"

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

/* Count live flows and distinct clients per backend, in one batched pass
 * over the flow table (a million entries take a few hundred syscalls).
 */
static int tally_flows(struct dataplane *dp, const struct limpet_config *model, struct tally *t)
{
	enum { BATCH = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 *gens = calloc(LIMPET_MAX_BACKENDS, sizeof(*gens));
	struct flow_key *keys = malloc(sizeof(*keys) * BATCH);
	struct flow_value *vals = malloc(sizeof(*vals) * BATCH);
	struct session_ref *refs = NULL;
	size_t n_refs = 0, cap = 0, i, j;
	__u64 in_batch = 0, out_batch = 0, now = clock_mono_ns();
	bool first = true, done = false;
	int ret = 0;

	memset(t, 0, sizeof(*t));
	if (!gens || !keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < model->n_services; i++)
		for (j = 0; j < model->services[i].n_backends; j++) {
			struct backend_value be = {};
			__u32 id = model->services[i].backends[j].id;

			if (!dp_get_backend(dp, id, &be))
				gens[id] = be.gen;
		}

	while (!done) {
		__u32 count = BATCH;

		ret = bpf_map_lookup_batch(dp->flows_fd, first ? NULL : &in_batch, &out_batch, keys,
					   vals, &count, &opts);
		if (ret < 0 && errno != ENOENT) {
			ret = -errno;
			goto out;
		}
		done = ret < 0;
		ret = 0;
		first = false;
		in_batch = out_batch;
		for (i = 0; i < count && !ret; i++) {
			const struct flow_value *v = &vals[i];

			if ((v->flags & (LIMPET_FLOW_RET | LIMPET_FLOW_CLOSED | LIMPET_FLOW_SLOWPATH)) ||
			    v->backend_id >= LIMPET_MAX_BACKENDS || v->gen != gens[v->backend_id] ||
			    now - v->atime_ns > FLOW_ACTIVE_NS)
				continue;
			t->flows[v->backend_id]++;
			ret = add_session(&refs, &n_refs, &cap, v->backend_id, &keys[i].src);
		}
	}
	qsort(refs, n_refs, sizeof(*refs), cmp_session);
	for (i = 0; i < n_refs; i++)
		if (i == 0 || cmp_session(&refs[i], &refs[i - 1]))
			t->sessions[refs[i].backend_id]++;
out:
	free(gens);
	free(keys);
	free(vals);
	free(refs);
	return ret;
}

const char *report_backend_state(const struct backend_config *be)
{
	if (be->draining)
		return "draining";
	return be->down ? "down" : "up";
}

json_t *report_reply(json_t *result)
{
	if (!result)
		return control_reply_error("cannot read the data plane");
	return control_reply_ok(result);
}

json_t *report_status(struct dataplane *dp, const struct limpet_config *model)
{
	struct tally *t = malloc(sizeof(*t));
	json_t *services;
	char addr[INET6_ADDRSTRLEN];
	size_t i, j;

	if (!t || tally_flows(dp, model, t)) {
		free(t);
		return NULL;
	}
	services = json_array();
	for (i = 0; i < model->n_services; i++) {
		const struct service_config *svc = &model->services[i];
		json_t *backends = json_array();

		for (j = 0; j < svc->n_backends; j++) {
			const struct backend_config *be = &svc->backends[j];

			format_ip_address(&be->address, addr, sizeof(addr));
			json_array_append_new(backends, json_pack(
				"{s:s, s:s, s:i, s:i, s:s, s:i, s:i}", "name", be->name,
				"address", addr, "port", be->port, "weight", be->weight, "state",
				report_backend_state(be), "flows", t->flows[be->id], "sessions",
				t->sessions[be->id]));
		}
		format_ip_address(&svc->vip, addr, sizeof(addr));
		json_array_append_new(services, json_pack(
			"{s:s, s:s, s:i, s:s, s:s, s:s, s:s, s:o}", "name", svc->name, "vip", addr,
			"port", svc->port, "protocol", config_protocol_name(svc->protocol), "mode",
			config_mode_name(svc->mode), "forwarding",
			config_forwarding_name(svc->forwarding), "affinity",
			config_affinity_name(svc->affinity.type), "backends", backends));
	}
	free(t);
	return json_pack("{s:s, s:o}", "instance", model->instance, "services", services);
}

static json_t *counters_json(const struct limpet_counters *k)
{
	return json_pack("{s:I, s:I, s:I}", "packets", (json_int_t)k->packets, "bytes",
			 (json_int_t)k->bytes, "new_flows", (json_int_t)k->new_flows);
}

static json_t *health_json(const struct health_checker *hc, const struct service_config *svc,
			   const struct backend_config *be)
{
	const struct health_status *hs = hc ? health_get(hc, svc->name, be->name) : NULL;

	json_t *o;

	if (!hs || svc->health.type == HEALTH_NONE)
		return json_pack("{s:s}", "type", "none");
	o = json_pack("{s:s, s:b, s:I, s:I, s:f, s:s}", "type",
		      svc->health.type == HEALTH_HTTP ? "http" : "tcp", "up", hs->up, "checks",
		      (json_int_t)hs->checks, "failures", (json_int_t)hs->failures,
		      "last_latency_ms", hs->last_latency_us / 1000.0, "last_error", hs->last_error);
	/* What the checks learned of the backend's TCP stack (HTTP data path). */
	if (hs->learned) {
		json_object_set_new(o, "mss", json_integer(hs->mss));
		json_object_set_new(o, "wscale", json_integer(hs->wscale));
	}
	return o;
}

json_t *report_stats(struct dataplane *dp, const struct limpet_config *model,
		     const struct health_checker *hc)
{
	__u64 global[LIMPET_STAT_MAX];
	struct limpet_counters k;
	struct tally *t = malloc(sizeof(*t));
	json_t *g, *services;
	size_t i, j;
	__u32 s;

	if (!t || dp_read_global(dp, global) || tally_flows(dp, model, t)) {
		free(t);
		return NULL;
	}
	g = json_object();
	services = json_array();
	for (s = 0; s < LIMPET_STAT_MAX; s++)
		json_object_set_new(g, dp_stat_name(s), json_integer(global[s]));
	for (i = 0; i < model->n_services; i++) {
		const struct service_config *svc = &model->services[i];
		json_t *backends = json_array(), *o;

		for (j = 0; j < svc->n_backends; j++) {
			const struct backend_config *be = &svc->backends[j];

			dp_read_counters(dp, dp->backend_stats_fd, be->id, &k);
			o = counters_json(&k);
			json_object_set_new(o, "name", json_string(be->name));
			json_object_set_new(o, "state", json_string(report_backend_state(be)));
			json_object_set_new(o, "active_flows", json_integer(t->flows[be->id]));
			json_object_set_new(o, "sessions", json_integer(t->sessions[be->id]));
			json_object_set_new(o, "health", health_json(hc, svc, be));
			json_array_append_new(backends, o);
		}
		dp_read_counters(dp, dp->service_stats_fd, svc->id, &k);
		o = counters_json(&k);
		json_object_set_new(o, "drops", json_integer(k.drops));
		json_object_set_new(o, "name", json_string(svc->name));
		json_object_set_new(o, "backends", backends);
		json_array_append_new(services, o);
	}
	free(t);
	return json_pack("{s:s, s:o, s:o}", "instance", model->instance, "global", g, "services",
			 services);
}

/* ---- Prometheus ------------------------------------------------------------ */

struct backend_gauge {
	const char *name;
	const char *type;
	const char *help;
};

void report_metrics(struct dataplane *dp, const struct limpet_config *model,
		    const struct health_checker *hc, struct metrics_buf *b)
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

	if (!t || tally_flows(dp, model, t) || dp_read_global(dp, global)) {
		/* A 500, so Prometheus marks the scrape failed rather than empty. */
		metrics_fail(b, -EIO, "cannot read the data plane");
		free(t);
		return;
	}

	metrics_family(b, "limpet_packets_total", "counter",
		       "Packets seen by the data plane, by outcome (drops by reason).");
	for (s = 0; s < LIMPET_STAT_MAX; s++)
		metrics_sample_u64(b, "limpet_packets_total",
				   metrics_labels(labels, sizeof(labels), "outcome",
						  dp_stat_name(s), NULL), global[s]);

	for (f = 0; f < sizeof(service_families) / sizeof(service_families[0]); f++) {
		metrics_family(b, service_families[f].name, service_families[f].type,
			       service_families[f].help);
		for (i = 0; i < model->n_services; i++) {
			const struct service_config *svc = &model->services[i];
			__u64 v[4];

			dp_read_counters(dp, dp->service_stats_fd, svc->id, &k);
			v[0] = k.packets;
			v[1] = k.bytes;
			v[2] = k.new_flows;
			v[3] = k.drops;
			metrics_sample_u64(b, service_families[f].name,
					   metrics_labels(labels, sizeof(labels), "service",
							  svc->name, NULL), v[f]);
		}
	}

	for (f = 0; f < sizeof(backend_families) / sizeof(backend_families[0]); f++) {
		metrics_family(b, backend_families[f].name, backend_families[f].type,
			       backend_families[f].help);
		for (i = 0; i < model->n_services; i++) {
			const struct service_config *svc = &model->services[i];

			for (j = 0; j < svc->n_backends; j++) {
				const struct backend_config *be = &svc->backends[j];
				const struct health_status *hs =
					hc ? health_get(hc, svc->name, be->name) : NULL;
				double v[11];

				dp_read_counters(dp, dp->backend_stats_fd, be->id, &k);
				v[0] = k.packets;
				v[1] = k.bytes;
				v[2] = k.new_flows;
				v[3] = t->flows[be->id];
				v[4] = t->sessions[be->id];
				v[5] = !be->down;
				v[6] = be->draining;
				v[7] = be->weight;
				v[8] = hs ? hs->checks : 0;
				v[9] = hs ? hs->failures : 0;
				v[10] = hs ? hs->last_latency_us / 1e6 : 0;
				metrics_sample(b, backend_families[f].name,
					       metrics_labels(labels, sizeof(labels), "service",
							      svc->name, "backend", be->name, NULL),
					       v[f]);
			}
		}
	}
	free(t);
}
