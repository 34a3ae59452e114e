/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * controller.c - `limpet run`: load and attach the data plane, program it
 * from the configuration, then serve the control socket from one epoll loop
 * (control socket, signalfd, a 1 s timerfd for drain deadlines and
 * neighbour upkeep). `limpet down`: detach and unpin an instance.
 *
 * Stopping the controller never touches the data plane: it keeps forwarding
 * from its pinned maps, and the next `limpet run` adopts them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/in.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <bpf/bpf.h>
#include <jansson.h>

#include "model/config.h"
#include "base/clock.h"
#include "proto/control.h"
#include "run/controller.h"
#include "dp/dataplane.h"
#include "run/health.h"
#include "base/log.h"
#include "run/metrics.h"
#include "run/report.h"
#include "dp/state.h"
#include "http/httpmode.h"

/* A flow counts as live in status if it saw a packet this recently. */
#define FLOW_ACTIVE_NS (120ULL * 1000000000ULL)
#define NEIGH_REFRESH_MS 10000

struct controller {
	struct limpet_config model;	/* the file plus run-time CLI changes */
	struct dataplane dp;
	char socket_path[108];
	int listen_fd;
	int signal_fd;
	int timer_fd;
	int epoll_fd;
	int lock_fd;
	bool stop;
	__u64 last_neigh_ms;
	struct health_checker *health;
	struct metrics_server *metrics;
	struct httpmode http;		/* HTTP services: slow path, affinity, cookie keys */
};

/* ---- model edits ------------------------------------------------------ */

static struct service_config *find_service_or_reply(struct controller *c, const json_t *req,
						    json_t **reply)
{
	const char *name = json_string_value(json_object_get(req, "service"));
	struct service_config *svc = name ? config_find_service(&c->model, name) : NULL;

	if (!svc)
		*reply = control_reply_error("unknown service '%s'", name ? name : "");
	return svc;
}

/* The backend a request names ("service", "name"), or NULL and an error
 * reply in <reply>.
 */
static struct backend_config *find_backend_or_reply(struct controller *c, const json_t *req,
						    struct service_config **svc, json_t **reply)
{
	const char *name = json_string_value(json_object_get(req, "name"));
	struct backend_config *be;

	*svc = find_service_or_reply(c, req, reply);
	if (!*svc)
		return NULL;
	be = name ? config_find_backend(*svc, name) : NULL;
	if (!be)
		*reply = control_reply_error("unknown backend '%s' in service '%s'",
					     name ? name : "", (*svc)->name);
	return be;
}

/*
 * The one way the model reaches the data plane: the health checker learns
 * the current backends (keeping what it knows of unchanged ones), their
 * up/down state is copied into the model, and the model is applied.
 */
static int model_apply(struct controller *c, char *err, size_t errlen)
{
	struct health_target *targets;
	size_t n = 0, i, j;
	int ret;

	for (i = 0; i < c->model.n_services; i++)
		n += c->model.services[i].n_backends;
	targets = calloc(n ? n : 1, sizeof(*targets));
	if (!targets) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n = 0;
	for (i = 0; i < c->model.n_services; i++) {
		struct service_config *svc = &c->model.services[i];

		for (j = 0; j < svc->n_backends; j++) {
			struct health_target *t = &targets[n++];

			snprintf(t->service, sizeof(t->service), "%s", svc->name);
			snprintf(t->name, sizeof(t->name), "%s", svc->backends[j].name);
			t->address = svc->backends[j].address;
			t->port = svc->backends[j].port;
			t->cfg = svc->health;
		}
	}
	ret = c->health ? health_set_targets(c->health, targets, n) : 0;
	free(targets);
	if (ret) {
		snprintf(err, errlen, "cannot schedule health checks: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; c->health && i < c->model.n_services; i++) {
		struct service_config *svc = &c->model.services[i];

		for (j = 0; j < svc->n_backends; j++) {
			const struct health_status *hs =
				health_get(c->health, svc->name, svc->backends[j].name);

			svc->backends[j].down = hs && !hs->up;
		}
	}
	ret = state_apply(&c->dp, &c->model, err, errlen);
	return ret ? ret : httpmode_update(&c->http, &c->model, c->epoll_fd, err, errlen);
}

/* Apply the model; on failure the caller restores what it changed. */
static json_t *apply_or_error(struct controller *c)
{
	char err[CONFIG_ERR_MAX];

	if (model_apply(c, err, sizeof(err)))
		return control_reply_error("%s", err);
	return NULL;
}

/* A backend passed or failed its checks: it gains or loses new flows. */
static void on_health_change(void *ctx, const char *service, const char *name, bool up,
			     const char *reason)
{
	struct controller *c = ctx;
	struct service_config *svc = config_find_service(&c->model, service);
	struct backend_config *be = svc ? config_find_backend(svc, name) : NULL;
	char err[CONFIG_ERR_MAX];

	if (!be || be->down == !up)
		return;
	be->down = !up;
	if (state_apply(&c->dp, &c->model, err, sizeof(err)))
		pr_warn("backend %s/%s is %s but the data plane was not updated: %s", service,
			name, up ? "up" : "down", err);
	httpmode_health_changed(&c->http, &c->model);
}

static json_t *handle_backend_add(struct controller *c, const json_t *req)
{
	struct backend_config be = { .weight = 1 }, *grown;
	struct service_config *svc;
	const char *name, *address;
	json_t *reply = NULL, *port, *weight;
	size_t i;

	svc = find_service_or_reply(c, req, &reply);
	if (!svc)
		return reply;
	name = json_string_value(json_object_get(req, "name"));
	address = json_string_value(json_object_get(req, "address"));
	if (!name || !name[0] || strlen(name) >= sizeof(be.name))
		return control_reply_error("backend add: invalid name");
	if (config_find_backend(svc, name))
		return control_reply_error("backend '%s' already exists in service '%s'", name,
					   svc->name);
	if (!address || parse_ip_address(address, &be.address))
		return control_reply_error("backend add: invalid address '%s'",
					   address ? address : "");
	if (be.address.family != svc->vip.family)
		return control_reply_error("backend add: address %s is not of the same family "
					   "as the VIP of service '%s'", address, svc->name);
	port = json_object_get(req, "port");
	weight = json_object_get(req, "weight");
	be.port = port ? json_integer_value(port) : svc->port;
	if (port && (!json_is_integer(port) || json_integer_value(port) < 1 ||
		     json_integer_value(port) > 65535))
		return control_reply_error("backend add: port must be 1-65535");
	if (weight && (!json_is_integer(weight) || json_integer_value(weight) < 0 ||
		       json_integer_value(weight) > 65535))
		return control_reply_error("backend add: weight must be 0-65535");
	if (weight)
		be.weight = json_integer_value(weight);
	if (svc->forwarding == LIMPET_FWD_DSR && be.port != svc->port)
		return control_reply_error("backend add: service '%s' uses dsr, so the backend "
					   "port must be %u", svc->name, svc->port);
	for (i = 0; i < svc->n_backends; i++) {
		const struct backend_config *o = &svc->backends[i];

		/* As in the file: one backend per address and port. */
		if (o->port == be.port && o->address.family == be.address.family &&
		    !memcmp(&o->address.addr, &be.address.addr, sizeof(be.address.addr)))
			return control_reply_error("backend add: %s port %u is already backend "
						   "'%s' of service '%s'", address, be.port,
						   o->name, svc->name);
	}
	snprintf(be.name, sizeof(be.name), "%s", name);

	grown = realloc(svc->backends, sizeof(*grown) * (svc->n_backends + 1));
	if (!grown)
		return control_reply_error("out of memory");
	svc->backends = grown;
	svc->backends[svc->n_backends++] = be;
	reply = apply_or_error(c);
	if (reply) {
		svc->n_backends--;
		apply_or_error(c);
		return reply;
	}
	pr_info("backend %s/%s added (%s port %u weight %u)", svc->name, name, address, be.port,
		be.weight);
	return control_reply_ok(NULL);
}

static void remove_backend_at(struct service_config *svc, size_t idx)
{
	memmove(&svc->backends[idx], &svc->backends[idx + 1],
		sizeof(*svc->backends) * (svc->n_backends - idx - 1));
	svc->n_backends--;
}

static json_t *handle_backend_remove(struct controller *c, const json_t *req)
{
	struct service_config *svc;
	struct backend_config *be, saved;
	json_t *reply = NULL;
	size_t idx;

	be = find_backend_or_reply(c, req, &svc, &reply);
	if (!be)
		return reply;
	saved = *be;
	idx = be - svc->backends;
	remove_backend_at(svc, idx);
	reply = apply_or_error(c);
	if (reply) {
		memmove(&svc->backends[idx + 1], &svc->backends[idx],
			sizeof(*svc->backends) * (svc->n_backends - idx));
		svc->backends[idx] = saved;
		svc->n_backends++;
		apply_or_error(c);
		return reply;
	}
	pr_info("backend %s/%s removed", svc->name, saved.name);
	return control_reply_ok(NULL);
}

/* Change one backend field in place; undo it if the data plane refuses. */
static json_t *edit_backend(struct controller *c, struct backend_config *be,
			    const struct backend_config *edited)
{
	struct backend_config saved = *be;
	json_t *reply;

	*be = *edited;
	reply = apply_or_error(c);
	if (reply) {
		*be = saved;
		apply_or_error(c);
		return reply;
	}
	return control_reply_ok(NULL);
}

static json_t *handle_backend_state(struct controller *c, const json_t *req, const char *cmd)
{
	struct backend_config *be, edited;
	struct service_config *svc;
	json_t *reply = NULL;

	be = find_backend_or_reply(c, req, &svc, &reply);
	if (!be)
		return reply;
	edited = *be;
	if (!strcmp(cmd, "backend_drain")) {
		json_t *timeout = json_object_get(req, "timeout_ms");
		__u64 ms = svc->drain_timeout_ms;

		if (timeout) {
			if (!json_is_integer(timeout) || json_integer_value(timeout) <= 0)
				return control_reply_error("backend drain: invalid timeout");
			ms = json_integer_value(timeout);
		}
		edited.draining = true;
		edited.drain_deadline_ms = clock_mono_ms() + ms;
		pr_info("backend %s/%s draining for %llu ms", svc->name, be->name,
			(unsigned long long)ms);
	} else if (!strcmp(cmd, "backend_undrain")) {
		edited.draining = false;
		edited.drain_deadline_ms = 0;
		pr_info("backend %s/%s undrained", svc->name, be->name);
	} else {
		json_t *weight = json_object_get(req, "weight");

		if (!json_is_integer(weight) || json_integer_value(weight) < 0 ||
		    json_integer_value(weight) > 65535)
			return control_reply_error("backend weight: weight must be 0-65535");
		edited.weight = json_integer_value(weight);
		pr_info("backend %s/%s weight %u", svc->name, be->name, edited.weight);
	}
	return edit_backend(c, be, &edited);
}

/* ---- reload ------------------------------------------------------------ */

static void render_metrics(void *ctx, struct metrics_buf *b)
{
	struct controller *c = ctx;

	report_metrics(&c->dp, &c->model, c->health, b);
	httpmode_metrics(&c->http, &c->model, b);
}

static void watch_fd(struct controller *c, int fd, int op)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (c->epoll_fd >= 0 && fd >= 0)
		epoll_ctl(c->epoll_fd, op, fd, &ev);
}

/* Serve /metrics where <cfg> says: a new address is bound before the old
 * one is let go, so a failing bind leaves the running endpoint alone.
 */
static int metrics_reconfigure(struct controller *c, const struct limpet_config *cfg, char *err,
			       size_t errlen)
{
	struct metrics_server *fresh = NULL;

	if (c->metrics && cfg->metrics.enabled && c->model.metrics.enabled &&
	    !strcmp(cfg->metrics.listen, c->model.metrics.listen))
		return 0;
	if (cfg->metrics.enabled) {
		fresh = metrics_start(cfg->metrics.listen, render_metrics, c, err, errlen);
		if (!fresh)
			return -EADDRNOTAVAIL;
	}
	if (c->metrics) {
		watch_fd(c, metrics_fd(c->metrics), EPOLL_CTL_DEL);
		metrics_stop(c->metrics);
	}
	c->metrics = fresh;
	if (fresh) {
		watch_fd(c, metrics_fd(fresh), EPOLL_CTL_ADD);
		pr_info("metrics at http://%s/metrics", cfg->metrics.listen);
	}
	return 0;
}

static bool has_interface(const struct limpet_config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg && i < cfg->n_interfaces; i++)
		if (!strcmp(cfg->interfaces[i].name, name))
			return true;
	return false;
}

/* Attach to the interfaces of <cfg> that <running> (NULL at start-up) does
 * not have yet.
 */
static int attach_interfaces(struct controller *c, const struct limpet_config *running,
			     const struct limpet_config *cfg, char *err, size_t errlen)
{
	size_t i;
	int ret;

	for (i = 0; i < cfg->n_interfaces; i++) {
		if (has_interface(running, cfg->interfaces[i].name))
			continue;
		ret = dp_attach(&c->dp, cfg->interfaces[i].name, cfg->interfaces[i].xdp_mode, err,
				errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Backends that the new file drops keep their flows until the service's
 * drain timeout: a reload never cuts an established connection.
 */
static int carry_removed_backends(const struct limpet_config *old, struct limpet_config *new)
{
	size_t i, j;

	for (i = 0; i < old->n_services; i++) {
		const struct service_config *os = &old->services[i];
		struct service_config *ns = config_find_service(new, os->name);

		if (!ns || ns->vip.family != os->vip.family)
			continue;
		for (j = 0; j < os->n_backends; j++) {
			struct backend_config be = os->backends[j], *grown;

			if (config_find_backend(ns, be.name))
				continue;
			if (!be.draining) {
				be.draining = true;
				be.drain_deadline_ms = clock_mono_ms() + ns->drain_timeout_ms;
			}
			grown = realloc(ns->backends, sizeof(*grown) * (ns->n_backends + 1));
			if (!grown)
				return -ENOMEM;
			ns->backends = grown;
			ns->backends[ns->n_backends++] = be;
		}
	}
	return 0;
}

static int check_supported(const struct limpet_config *cfg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < cfg->n_interfaces; i++) {
		if (!if_nametoindex(cfg->interfaces[i].name)) {
			snprintf(err, errlen, "%s: interface '%s' not found", cfg->path,
				 cfg->interfaces[i].name);
			return -ENODEV;
		}
	}
	return 0;
}

static json_t *handle_reload(struct controller *c)
{
	struct limpet_config fresh, old;
	char err[CONFIG_ERR_MAX];
	size_t i;

	if (config_load(c->model.path, &fresh, err, sizeof(err)))
		return control_reply_error("reload: %s (keeping the running configuration)", err);
	if (check_supported(&fresh, err, sizeof(err)))
		goto refuse;
	if (strcmp(fresh.instance, c->model.instance)) {
		snprintf(err, sizeof(err), "instance cannot change on reload");
		goto refuse;
	}
	if (fresh.flow_table_size != c->model.flow_table_size) {
		snprintf(err, sizeof(err), "flow_table_size cannot change on reload "
			 "(it needs 'limpet down' and a new start)");
		goto refuse;
	}
	if (carry_removed_backends(&c->model, &fresh)) {
		snprintf(err, sizeof(err), "out of memory");
		goto refuse;
	}
	if (attach_interfaces(c, &c->model, &fresh, err, sizeof(err)))
		goto refuse;
	if (metrics_reconfigure(c, &fresh, err, sizeof(err)))
		goto refuse;
	old = c->model;
	c->model = fresh;
	if (model_apply(c, err, sizeof(err))) {
		char ignored[CONFIG_ERR_MAX];

		c->model = old;
		model_apply(c, ignored, sizeof(ignored));
		config_free(&fresh);
		return control_reply_error("reload: %s (keeping the running configuration)", err);
	}
	for (i = 0; i < old.n_interfaces; i++) {
		char derr[CONFIG_ERR_MAX];

		if (!has_interface(&fresh, old.interfaces[i].name) &&
		    dp_detach_ifname(old.interfaces[i].name, derr, sizeof(derr)))
			pr_warn("%s", derr);
	}
	config_free(&old);
	pr_info("reloaded %s", c->model.path);
	return control_reply_ok(NULL);
refuse:
	config_free(&fresh);
	return control_reply_error("reload: %s (keeping the running configuration)", err);
}

static json_t *handle_request(void *ctx, const json_t *req)
{
	struct controller *c = ctx;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));

	if (!cmd)
		return control_reply_error("bad request: no cmd");
	pr_debug("request %s", cmd);
	if (!strcmp(cmd, "status"))
		return report_reply(httpmode_report_status(&c->http, &c->model,
							   report_status(&c->dp, &c->model)));
	if (!strcmp(cmd, "stats"))
		return report_reply(httpmode_report_stats(&c->http, &c->model,
							  report_stats(&c->dp, &c->model,
								       c->health)));
	if (!strcmp(cmd, "backend_add"))
		return handle_backend_add(c, req);
	if (!strcmp(cmd, "backend_remove"))
		return handle_backend_remove(c, req);
	if (!strcmp(cmd, "backend_drain") || !strcmp(cmd, "backend_undrain") ||
	    !strcmp(cmd, "backend_weight"))
		return handle_backend_state(c, req, cmd);
	if (!strcmp(cmd, "reload"))
		return handle_reload(c);
	if (!strcmp(cmd, "keys_rotate"))
		return httpmode_rotate_keys(&c->http, &c->model);
	if (!strcmp(cmd, "shutdown")) {
		c->stop = true;
		return control_reply_ok(NULL);
	}
	return control_reply_error("unknown command '%s'", cmd);
}

/* ---- periodic work ------------------------------------------------------ */

/* Remove draining backends whose deadline has passed. */
static void expire_drains(struct controller *c)
{
	__u64 now = clock_mono_ms();
	bool changed = false;
	size_t i, j;

	for (i = 0; i < c->model.n_services; i++) {
		struct service_config *svc = &c->model.services[i];

		for (j = 0; j < svc->n_backends;) {
			struct backend_config *be = &svc->backends[j];

			if (be->draining && be->drain_deadline_ms <= now) {
				pr_info("backend %s/%s: drain deadline passed, removed", svc->name,
					be->name);
				remove_backend_at(svc, j);
				changed = true;
				continue;
			}
			j++;
		}
	}
	if (changed) {
		json_t *err = apply_or_error(c);

		if (err) {
			pr_warn("%s", json_string_value(json_object_get(err, "error")));
			json_decref(err);
		}
	}
}

/* Keep backends' neighbour entries resolved, so bpf_fib_lookup() finds a MAC
 * and DSR (which cannot fall back to the kernel) never waits for ARP/ND:
 * a datagram to the discard port makes the kernel resolve the next hop.
 */
static void nudge_neighbours(struct controller *c)
{
	int fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	size_t i, j;

	for (i = 0; i < c->model.n_services; i++) {
		struct service_config *svc = &c->model.services[i];

		for (j = 0; j < svc->n_backends; j++) {
			const struct ip_address *a = &svc->backends[j].address;

			if (a->family == LIMPET_FAMILY_V4 && fd4 >= 0) {
				struct sockaddr_in sin = { .sin_family = AF_INET,
							   .sin_port = htons(9) };

				sin.sin_addr.s_addr = a->addr.a[0];
				sendto(fd4, "", 0, MSG_DONTWAIT, (void *)&sin, sizeof(sin));
			} else if (a->family == LIMPET_FAMILY_V6 && fd6 >= 0) {
				struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
							     .sin6_port = htons(9) };

				memcpy(&sin6.sin6_addr, &a->addr, sizeof(sin6.sin6_addr));
				sendto(fd6, "", 0, MSG_DONTWAIT, (void *)&sin6, sizeof(sin6));
			}
		}
	}
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
	c->last_neigh_ms = clock_mono_ms();
}

static void on_tick(struct controller *c)
{
	__u64 expirations;

	if (read(c->timer_fd, &expirations, sizeof(expirations)) < 0)
		return;
	expire_drains(c);
	if (c->metrics)
		metrics_process(c->metrics);
	if (clock_mono_ms() - c->last_neigh_ms >= NEIGH_REFRESH_MS)
		nudge_neighbours(c);
	httpmode_tick(&c->http, &c->model);
}

/* ---- set-up -------------------------------------------------------------- */

/* One controller per instance: a second one would fight over the maps. */
static int take_lock(struct controller *c, char *err, size_t errlen)
{
	char path[160];

	mkdir(CONTROL_SOCKET_DIR, 0755);
	snprintf(path, sizeof(path), "%s/%s.lock", CONTROL_SOCKET_DIR, c->model.instance);
	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "another limpet controller is already running for instance "
			 "'%s'", c->model.instance);
		return -EBUSY;
	}
	return 0;
}

static int setup_loop(struct controller *c, char *err, size_t errlen)
{
	struct itimerspec tick = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	c->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	c->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	c->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (c->signal_fd < 0 || c->timer_fd < 0 || c->epoll_fd < 0 ||
	    timerfd_settime(c->timer_fd, 0, &tick, NULL)) {
		snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
		return -errno;
	}
	ev.data.fd = c->listen_fd;
	epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->listen_fd, &ev);
	ev.data.fd = c->signal_fd;
	epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->signal_fd, &ev);
	ev.data.fd = c->timer_fd;
	epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, c->timer_fd, &ev);
	watch_fd(c, health_fd(c->health), EPOLL_CTL_ADD);
	if (c->metrics)
		watch_fd(c, metrics_fd(c->metrics), EPOLL_CTL_ADD);
	return 0;
}

static void on_signal(struct controller *c)
{
	struct signalfd_siginfo si;

	while (read(c->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			json_t *reply = handle_reload(c);
			json_t *error = json_object_get(reply, "error");

			if (error)
				pr_warn("%s", json_string_value(error));
			json_decref(reply);
		} else {
			pr_info("signal %u: stopping; the data plane keeps forwarding",
				si.ssi_signo);
			c->stop = true;
		}
	}
}

static void serve(struct controller *c)
{
	struct epoll_event events[8];
	int n, i;

	while (!c->stop) {
		/* libmicrohttpd may have work due (timeouts) that no fd will signal. */
		n = epoll_wait(c->epoll_fd, events, 8,
			       c->metrics ? metrics_timeout_ms(c->metrics) : -1);
		if (n == 0 && c->metrics)
			metrics_process(c->metrics);
		if (n < 0 && errno == EINTR)
			continue;
		for (i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == c->listen_fd)
				while (control_serve_one(c->listen_fd, handle_request, c) != -EAGAIN &&
				       !c->stop)
					;
			else if (fd == c->signal_fd)
				on_signal(c);
			else if (fd == c->timer_fd)
				on_tick(c);
			else if (fd == health_fd(c->health))
				health_process(c->health);
			else if (c->metrics && fd == metrics_fd(c->metrics))
				metrics_process(c->metrics);
			else
				httpmode_handle(&c->http, fd);
		}
	}
}

static bool is_root(const char *cmd)
{
	if (geteuid() == 0)
		return true;
	fprintf(stderr, "limpet: %s: must run as root (loading XDP needs CAP_BPF, "
		"CAP_NET_ADMIN and CAP_SYS_ADMIN)\n", cmd);
	return false;
}

static void resolve_socket(const char *override, const char *instance, char *buf, size_t len)
{
	if (override)
		snprintf(buf, len, "%s", override);
	else
		control_default_socket(instance, buf, len);
}

/* The config path as an absolute one: it is read again on reload, and
 * dp_pin_dir() may change the working directory.
 */
static const char *absolute_path(const char *path, char *buf)
{
	return realpath(path, buf) ? buf : path;
}

int controller_run(const char *config_path, const char *socket_override)
{
	struct controller *c = calloc(1, sizeof(*c));
	char err[CONFIG_ERR_MAX], pin_dir[256], abs_path[PATH_MAX];
	bool loaded = false;
	int status = 1, ret;

	if (!c)
		return 1;
	c->listen_fd = c->signal_fd = c->timer_fd = c->epoll_fd = c->lock_fd = -1;
	if (!is_root("run"))
		goto out;
	if (config_load(absolute_path(config_path, abs_path), &c->model, err, sizeof(err)))
		goto fail;
	loaded = true;
	if (check_supported(&c->model, err, sizeof(err)) || take_lock(c, err, sizeof(err)))
		goto fail;
	resolve_socket(socket_override, c->model.instance, c->socket_path,
		       sizeof(c->socket_path));
	log_hook_libraries();

	if (dp_pin_dir(c->model.instance, pin_dir, sizeof(pin_dir), err, sizeof(err)))
		goto fail;
	ret = dp_open(&c->dp, pin_dir, c->model.flow_table_size);
	if (ret) {
		snprintf(err, sizeof(err), "cannot open the data plane: %s", strerror(-ret));
		goto fail;
	}
	if (attach_interfaces(c, NULL, &c->model, err, sizeof(err)))
		goto fail;
	if (c->dp.adopted)
		pr_info("adopted the pinned data plane in %s", pin_dir);
	if (httpmode_init(&c->http, &c->dp)) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	c->health = health_new(on_health_change, c);
	if (!c->health) {
		snprintf(err, sizeof(err), "cannot start the health checker: %s", strerror(errno));
		goto fail;
	}
	if (model_apply(c, err, sizeof(err)))
		goto fail;
	if (c->model.metrics.enabled) {
		c->metrics = metrics_start(c->model.metrics.listen, render_metrics, c, err,
					   sizeof(err));
		if (!c->metrics)
			goto fail;
	}
	nudge_neighbours(c);

	c->listen_fd = control_listen(c->socket_path);
	if (c->listen_fd < 0) {
		snprintf(err, sizeof(err), "cannot listen on %s: %s", c->socket_path,
			 c->listen_fd == -EADDRINUSE ? "another controller answers there" :
						       strerror(-c->listen_fd));
		goto fail;
	}
	if (setup_loop(c, err, sizeof(err)) ||
	    httpmode_update(&c->http, &c->model, c->epoll_fd, err, sizeof(err)))
		goto fail;

	fprintf(stderr, "limpet: ready\n");
	serve(c);
	unlink(c->socket_path);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "limpet: %s\n", err);
out:
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	if (c->signal_fd >= 0)
		close(c->signal_fd);
	if (c->timer_fd >= 0)
		close(c->timer_fd);
	if (c->epoll_fd >= 0)
		close(c->epoll_fd);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	if (c->metrics)
		metrics_stop(c->metrics);
	if (c->health)
		health_free(c->health);
	httpmode_free(&c->http);
	dp_close(&c->dp);
	if (loaded)
		config_free(&c->model);
	free(c);
	return status;
}

int controller_down(const char *config_path, const char *socket_override)
{
	struct limpet_config cfg;
	char err[CONFIG_ERR_MAX], pin_dir[256], socket_path[108];
	json_t *req, *reply = NULL;
	int status = 0, ret;
	size_t i;

	if (!is_root("down"))
		return 1;
	if (config_load(config_path, &cfg, err, sizeof(err))) {
		fprintf(stderr, "limpet: %s\n", err);
		return 1;
	}
	/* A running controller is told to stop first, so it does not re-attach. */
	resolve_socket(socket_override, cfg.instance, socket_path, sizeof(socket_path));
	req = json_pack("{s:s}", "cmd", "shutdown");
	if (!control_request(socket_path, req, &reply, err, sizeof(err)))
		usleep(200 * 1000);
	json_decref(req);
	json_decref(reply);

	for (i = 0; i < cfg.n_interfaces; i++) {
		if (!if_nametoindex(cfg.interfaces[i].name))
			continue; /* already gone: nothing attached */
		if (dp_detach_ifname(cfg.interfaces[i].name, err, sizeof(err))) {
			fprintf(stderr, "limpet: %s\n", err);
			status = 1;
		}
	}
	ret = dp_pin_dir(cfg.instance, pin_dir, sizeof(pin_dir), err, sizeof(err));
	if (ret)
		fprintf(stderr, "limpet: %s\n", err);
	else
		ret = dp_unpin(pin_dir);
	if (ret) {
		fprintf(stderr, "limpet: cannot remove %s: %s\n", pin_dir, strerror(-ret));
		status = 1;
	}
	config_free(&cfg);
	return status;
}
