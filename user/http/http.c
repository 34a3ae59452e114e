// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * http.c - HTTP services as the controller drives them (http.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "dp/maps.h"
#include "http/http.h"
#include "http/slowpath_io.h"

/* The TTL old keys keep when no service issues cookies (a rotation by hand). */
#define DEFAULT_COOKIE_TTL_S (23 * 3600)

int http_init(struct http *h, struct dataplane *dp)
{
	memset(h, 0, sizeof(*h));
	h->dp = dp;
	cookie_keys_init(&h->keys, dp);
	return affinity_init(&h->aff, &h->keys, dp);
}

void http_free(struct http *h)
{
	spio_close(h->spio);
	h->spio = NULL;
	affinity_free(&h->aff);
}

static bool has_mode_http(const struct model *model)
{
	size_t i;

	for (i = 0; i < model->n_services; i++)
		if (model->services[i].conf.mode == SERVICE_MODE_HTTP)
			return true;
	return false;
}

static bool uses_cookies(const struct model *model)
{
	size_t i;

	for (i = 0; i < model->n_services; i++)
		if (model->services[i].conf.mode == SERVICE_MODE_HTTP &&
		    model->services[i].conf.affinity.type == LIMPET_AFFINITY_COOKIE)
			return true;
	return false;
}

static __u32 keys_ttl(const struct http *h)
{
	return h->aff.max_ttl_s ? h->aff.max_ttl_s : DEFAULT_COOKIE_TTL_S;
}

/* What XDP looks for in the first request head of each cookie or header service. */
static int push_affinity(struct http *h, const struct model *model)
{
	size_t i;
	int ret;

	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];
		struct http_affinity_value v;

		if (affinity_dp_value(&h->aff, svc->id, &v))
			continue;
		ret = dp_set_http_affinity(h->dp, svc->id, &v);
		if (ret)
			return ret;
	}
	return 0;
}

int http_update(struct http *h, const struct model *model, int epoll_fd, char *err,
		size_t errlen)
{
	size_t i;
	int ret;

	ret = affinity_update(&h->aff, model, h->dp);
	if (ret) {
		snprintf(err, errlen, "cannot take the HTTP services' snapshot: %s",
			 strerror(-ret));
		return ret;
	}
	/* The keys are read when a service first uses cookies; once read they
	 * stay in use (the longest TTL may have changed).
	 */
	if (uses_cookies(model) || h->keys.loaded) {
		ret = cookie_keys_use(&h->keys, h->keys.loaded && !uses_cookies(model) ?
				      h->keys.path : model->conf.secret_file, keys_ttl(h), err,
				      errlen);
		if (ret)
			return ret;
	}
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
	for (i = 0; i < model->conf.n_interfaces; i++) {
		ret = spio_add_iface(h->spio, model->conf.interfaces[i].name, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

void http_health_changed(struct http *h, const struct model *model)
{
	if (affinity_update(&h->aff, model, h->dp))
		pr_warn("HTTP services: out of memory for the new snapshot; keeping the old one");
}

int http_rotate_keys(struct http *h, const struct model *model, char *err, size_t errlen)
{
	int ret;

	if (!h->keys.loaded || strcmp(h->keys.path, model->conf.secret_file)) {
		ret = cookie_keys_use(&h->keys, model->conf.secret_file, keys_ttl(h), err,
				      errlen);
		if (ret)
			return ret;
	}
	return cookie_keys_rotate(&h->keys, err, errlen);
}

void http_key_info(const struct http *h, unsigned int *id, unsigned int *ttl_s)
{
	const struct cookie_key_entry *k = cookie_keys_current(&h->keys);

	*id = k ? k->id : 0;
	*ttl_s = h->keys.ttl_s;
}

void http_tick(struct http *h)
{
	cookie_keys_tick(&h->keys);
}

bool http_handle(struct http *h, int fd)
{
	return h->spio && spio_handle(h->spio, fd);
}

const struct slowpath_stats *http_slowpath_stats(const struct http *h)
{
	return h->spio ? spio_stats(h->spio) : NULL;
}

size_t http_binding_now(const struct http *h)
{
	return h->spio ? spio_binding(h->spio) : 0;
}

const struct affinity_counters *http_counters(const struct http *h, __u32 service_id)
{
	return affinity_counters(&h->aff, service_id);
}

void http_sessions(const struct http *h, __u32 service_id, __u32 *counts, size_t n_counts)
{
	affinity_sessions(&h->aff, service_id, counts, n_counts);
}
