// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * httpmode.c - the controller's side of HTTP services (httpmode.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <bpf/bpf.h>

#include "base/clock.h"
#include "proto/control.h"
#include "http/httpmode.h"
#include "base/log.h"
#include "run/metrics.h"

/* Idle sessions are dropped this often. */
#define EXPIRE_EVERY_S 10

int httpmode_init(struct httpmode *h, struct dataplane *dp)
{
	memset(h, 0, sizeof(*h));
	h->dp = dp;
	return affinity_init(&h->aff);
}

void httpmode_free(struct httpmode *h)
{
	spio_close(h->spio);
	h->spio = NULL;
	affinity_free(&h->aff);
}

static bool has_mode_http(const struct limpet_config *model)
{
	size_t i;

	for (i = 0; i < model->n_services; i++)
		if (model->services[i].mode == SERVICE_MODE_HTTP)
			return true;
	return false;
}

static bool uses_cookies(const struct limpet_config *model)
{
	size_t i;

	for (i = 0; i < model->n_services; i++)
		if (model->services[i].mode == SERVICE_MODE_HTTP &&
		    model->services[i].affinity.type == LIMPET_AFFINITY_COOKIE)
			return true;
	return false;
}

/* The keys and the wall clock the data plane verifies cookies with. */
static int push_keys(struct httpmode *h)
{
	struct cookie_keys_value v = { 0 };
	__u32 zero = 0;
	__u64 now = clock_wall_s();

	affinity_set_keys(&h->aff, &h->aff.keys, now);
	v.keys = h->aff.verify;
	v.boot_to_wall_ns = (__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME));
	h->keys_pushed_s = now;
	return bpf_map_update_elem(h->dp->cookie_keys_fd, &zero, &v, BPF_ANY) ? -errno : 0;
}

/* What the file looked like when we last read or wrote it. */
static void remember_mtime(struct httpmode *h)
{
	struct stat st;

	if (!stat(h->secret_file, &st))
		h->keys_mtime = st.st_mtim;
}

static int load_keys(struct httpmode *h, const char *path, char *err, size_t errlen)
{
	struct keyring kr;
	int ret = keys_load(path, &kr, err, errlen);

	if (ret)
		return ret;
	snprintf(h->secret_file, sizeof(h->secret_file), "%s", path);
	h->aff.keys = kr;
	h->keys_loaded = true;
	remember_mtime(h);
	return push_keys(h);
}

static int push_affinity(struct httpmode *h, const struct limpet_config *model)
{
	size_t i;

	for (i = 0; i < model->n_services; i++) {
		const struct service_config *svc = &model->services[i];
		struct http_affinity_value v;

		if (affinity_dp_value(&h->aff, svc->id, &v))
			continue;
		if (bpf_map_update_elem(h->dp->http_affinity_fd, &svc->id, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

int httpmode_update(struct httpmode *h, const struct limpet_config *model, int epoll_fd,
		    char *err, size_t errlen)
{
	size_t i;
	int ret;

	ret = affinity_update(&h->aff, model, h->dp->backends_fd);
	if (ret) {
		snprintf(err, errlen, "cannot take the HTTP services' snapshot: %s",
			 strerror(-ret));
		return ret;
	}
	if (uses_cookies(model) &&
	    (!h->keys_loaded || strcmp(h->secret_file, model->secret_file))) {
		ret = load_keys(h, model->secret_file, err, errlen);
		if (ret)
			return ret;
	} else if (h->keys_loaded) {
		ret = push_keys(h);	/* the longest TTL may have changed */
	}
	if (!ret)
		ret = push_affinity(h, model);
	if (ret) {
		snprintf(err, errlen, "cannot write the HTTP affinity maps: %s", strerror(-ret));
		return ret;
	}
	if (!h->spio) {
		if (!has_mode_http(model) || epoll_fd < 0)
			return 0;
		ret = spio_open(&h->spio, h->dp, &h->aff, epoll_fd, err, errlen);
		if (ret)
			return ret;
	}
	for (i = 0; i < model->n_interfaces; i++) {
		ret = spio_add_iface(h->spio, model->interfaces[i].name, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

void httpmode_health_changed(struct httpmode *h, const struct limpet_config *model)
{
	if (affinity_update(&h->aff, model, h->dp->backends_fd))
		pr_warn("HTTP services: out of memory for the new snapshot; keeping the old one");
}

json_t *httpmode_rotate_keys(struct httpmode *h, const struct limpet_config *model)
{
	char err[512];
	const struct cookie_key_entry *k;
	int ret;

	if (!h->keys_loaded || strcmp(h->secret_file, model->secret_file)) {
		ret = load_keys(h, model->secret_file, err, sizeof(err));
		if (ret)
			return control_reply_error("keys rotate: %s", err);
	}
	ret = keys_rotate(h->secret_file, &h->aff.keys, clock_wall_s(), h->aff.max_ttl_s, err,
			  sizeof(err));
	if (ret)
		return control_reply_error("keys rotate: %s", err);
	remember_mtime(h);
	ret = push_keys(h);
	if (ret)
		return control_reply_error("keys rotate: cannot write the key map: %s",
					   strerror(-ret));
	k = keys_current(&h->aff.keys);
	pr_info("cookie key %u is now current (%s); older keys stay valid for %us",
		k->id, h->secret_file, h->aff.max_ttl_s);
	return control_reply_ok(json_sprintf("key %u is current; older keys stay valid for %us",
					     k->id, h->aff.max_ttl_s));
}

/* Another balancer (or an operator) rotated the shared file: follow it. */
static void reread_keys_if_changed(struct httpmode *h)
{
	char err[512];
	struct stat st;

	if (!h->keys_loaded || stat(h->secret_file, &st) ||
	    (st.st_mtim.tv_sec == h->keys_mtime.tv_sec &&
	     st.st_mtim.tv_nsec == h->keys_mtime.tv_nsec))
		return;
	if (load_keys(h, h->secret_file, err, sizeof(err)))
		pr_warn("%s changed but cannot be used; keeping the keys in use: %s",
			h->secret_file, err);
	else
		pr_info("cookie keys re-read from %s", h->secret_file);
}

void httpmode_tick(struct httpmode *h, const struct limpet_config *model)
{
	__u64 now = clock_wall_s();

	reread_keys_if_changed(h);
	/* Clock steps reach the data plane, and old keys run out, in a second. */
	if (h->keys_loaded && now != h->keys_pushed_s && push_keys(h))
		pr_warn("cannot write the cookie key map: %s", strerror(errno));
	if (now - h->last_expire_s >= EXPIRE_EVERY_S) {
		affinity_expire(&h->aff, now);
		h->last_expire_s = now;
	}
}

bool httpmode_handle(struct httpmode *h, int fd)
{
	return h->spio && spio_handle(h->spio, fd);
}

static const struct service_config *service_named(const struct limpet_config *model,
						  const char *name)
{
	size_t i;

	for (i = 0; name && i < model->n_services; i++)
		if (!strcmp(model->services[i].name, name))
			return &model->services[i];
	return NULL;
}

static void service_counters(json_t *o, const struct affinity_counters *k,
			     const struct service_config *svc)
{
	size_t i;
	char name[48];

	if (svc->affinity.type == LIMPET_AFFINITY_COOKIE) {
		for (i = 0; i < LIMPET_COOKIE_OUTCOMES; i++) {
			snprintf(name, sizeof(name), "cookie_%s", limpet_cookie_outcome_names[i]);
			json_object_set_new(o, name, json_integer((json_int_t)k->cookie[i]));
		}
		json_object_set_new(o, "cookies_issued", json_integer((json_int_t)k->issued));
		json_object_set_new(o, "cookies_reissued",
				    json_integer((json_int_t)k->reissued));
	}
	if (svc->affinity.type == LIMPET_AFFINITY_HEADER)
		json_object_set_new(o, "header_missing",
				    json_integer((json_int_t)k->header_missing));
	json_object_set_new(o, "affinity_failovers", json_integer((json_int_t)k->failovers));
}

json_t *httpmode_report_stats(struct httpmode *h, const struct limpet_config *model,
			      json_t *stats)
{
	json_t *g = json_object_get(stats, "global");
	json_t *services = json_object_get(stats, "services"), *o;
	const struct slowpath_stats *st;
	size_t i;

	if (!h->spio || !json_is_object(g))
		return stats;
	st = spio_stats(h->spio);
	json_object_set_new(g, "http_connections", json_integer(st->connections));
	json_object_set_new(g, "http_bound", json_integer(st->bound));
	json_object_set_new(g, "http_backend_retries", json_integer(st->retries));
	json_object_set_new(g, "http_503", json_integer(st->failed));
	json_object_set_new(g, "http_syn_retransmits", json_integer(st->syn_retransmits));
	json_object_set_new(g, "http_held_segments", json_integer(st->held));
	json_object_set_new(g, "http_relayed", json_integer(st->relayed));
	json_object_set_new(g, "http_heads_rewritten", json_integer(st->inserted));
	json_object_set_new(g, "http_cookies_set", json_integer(st->cookies));
	json_object_set_new(g, "http_aborted", json_integer(st->aborted));
	json_object_set_new(g, "http_binding_now", json_integer(spio_connections(h->spio)));
	json_array_foreach(services, i, o) {
		const struct service_config *svc =
			service_named(model, json_string_value(json_object_get(o, "name")));

		if (svc && svc->mode == SERVICE_MODE_HTTP)
			service_counters(o, affinity_counters(&h->aff, svc->id), svc);
	}
	return stats;
}

json_t *httpmode_report_status(struct httpmode *h, const struct limpet_config *model,
			       json_t *status)
{
	static __u32 counts[LIMPET_MAX_BACKENDS];
	json_t *services = json_object_get(status, "services"), *o, *b;
	__u64 now = clock_wall_s();
	size_t i, j;

	json_array_foreach(services, i, o) {
		const struct service_config *svc =
			service_named(model, json_string_value(json_object_get(o, "name")));

		if (!svc || svc->mode != SERVICE_MODE_HTTP ||
		    svc->affinity.type == LIMPET_AFFINITY_NONE)
			continue;
		memset(counts, 0, sizeof(counts));
		affinity_sessions(&h->aff, svc->id, now, counts, LIMPET_MAX_BACKENDS);
		json_array_foreach(json_object_get(o, "backends"), j, b) {
			const char *name = json_string_value(json_object_get(b, "name"));
			size_t k;

			for (k = 0; name && k < svc->n_backends; k++)
				if (!strcmp(svc->backends[k].name, name) &&
				    svc->backends[k].id < LIMPET_MAX_BACKENDS)
					json_object_set_new(b, "sessions",
							    json_integer(counts[svc->backends[k].id]));
		}
	}
	return status;
}

/* The same counters for Prometheus, beside report_metrics()'s families. */
void httpmode_metrics(struct httpmode *h, const struct limpet_config *model,
		      struct metrics_buf *b)
{
	static __u32 counts[LIMPET_MAX_BACKENDS];
	char labels[METRICS_LABELS_MAX];
	__u64 now = clock_wall_s();
	size_t i, j, o;

	metrics_family(b, "limpet_http_cookies_total", "counter",
		       "First requests of cookie affinity services, by cookie outcome.");
	for (i = 0; i < model->n_services; i++) {
		const struct service_config *svc = &model->services[i];
		const struct affinity_counters *k = affinity_counters(&h->aff, svc->id);

		if (svc->mode != SERVICE_MODE_HTTP || svc->affinity.type != LIMPET_AFFINITY_COOKIE)
			continue;
		for (o = 0; o < LIMPET_COOKIE_OUTCOMES; o++)
			metrics_sample_u64(b, "limpet_http_cookies_total",
					   metrics_labels(labels, sizeof(labels), "service",
							  svc->name, "outcome",
							  limpet_cookie_outcome_names[o], NULL),
					   k->cookie[o]);
	}
	metrics_family(b, "limpet_http_cookies_issued_total", "counter",
		       "Set-Cookie headers given to new sessions.");
	for (i = 0; i < model->n_services; i++) {
		const struct service_config *svc = &model->services[i];

		if (svc->mode == SERVICE_MODE_HTTP && svc->affinity.type == LIMPET_AFFINITY_COOKIE)
			metrics_sample_u64(b, "limpet_http_cookies_issued_total",
					   metrics_labels(labels, sizeof(labels), "service",
							  svc->name, NULL),
					   affinity_counters(&h->aff, svc->id)->issued);
	}
	metrics_family(b, "limpet_http_sessions", "gauge",
		       "Live affinity sessions of an HTTP service's backend (seen within their TTL).");
	for (i = 0; i < model->n_services; i++) {
		const struct service_config *svc = &model->services[i];

		if (svc->mode != SERVICE_MODE_HTTP || svc->affinity.type == LIMPET_AFFINITY_NONE)
			continue;
		memset(counts, 0, sizeof(counts));
		affinity_sessions(&h->aff, svc->id, now, counts, LIMPET_MAX_BACKENDS);
		for (j = 0; j < svc->n_backends; j++)
			if (svc->backends[j].id < LIMPET_MAX_BACKENDS)
				metrics_sample_u64(b, "limpet_http_sessions",
						   metrics_labels(labels, sizeof(labels), "service",
								  svc->name, "backend",
								  svc->backends[j].name, NULL),
						   counts[svc->backends[j].id]);
	}
}
