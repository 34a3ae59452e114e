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
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
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
#include <jansson.h>

#include "base/clock.h"
#include "base/log.h"
#include "dp/address.h"
#include "dp/cluster.h"
#include "dp/dataplane.h"
#include "dp/neigh.h"
#include "dp/program.h"
#include "dp/routing.h"
#include "dp/veth.h"
#include "http/http.h"
#include "model/model.h"
#include "model/peer.h"
#include "proto/command.h"
#include "proto/control.h"
#include "run/announce.h"
#include "run/commands.h"
#include "run/controller.h"
#include "run/health.h"
#include "run/metrics.h"
#include "run/report.h"

#define NEIGH_REFRESH_MS 10000

struct controller {
	struct model model;		/* the file plus run-time CLI changes */
	struct dataplane *dp;
	char socket_path[108];
	int listen_fd;
	int signal_fd;
	int timer_fd;
	int epoll_fd;
	int lock_fd;
	bool stop;
	__u64 last_neigh_ms;
	int routing_err;		/* the last failure of check_routing() logged, or 0 */
	struct health_checker *health;
	struct metrics_server *metrics;
	struct http http;		/* HTTP services: slow path, affinity, cookie keys */
	struct report_sources sources;	/* what reports read, for report_sources() */
};

static const struct report_sources *report_sources(struct controller *c);

/* ---- the model --------------------------------------------------------- */

/*
 * The one way the model reaches the data plane: the health checker learns
 * the current backends (keeping what it knows of unchanged ones), their
 * up/down state is copied into the model (model_health), and the model is
 * applied (model_program).
 */
static int model_health(struct controller *c, char *err, size_t errlen)
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
		struct service *svc = &c->model.services[i];

		for (j = 0; j < svc->n_backends; j++) {
			struct health_target *t = &targets[n++];

			snprintf(t->service, sizeof(t->service), "%s", svc->conf.name);
			snprintf(t->name, sizeof(t->name), "%s", svc->backends[j].conf.name);
			t->address = svc->backends[j].conf.address;
			t->port = svc->backends[j].conf.port;
			t->cfg = svc->conf.health;
		}
	}
	ret = c->health ? health_set_targets(c->health, targets, n) : 0;
	free(targets);
	if (ret) {
		snprintf(err, errlen, "cannot schedule health checks: %s", strerror(-ret));
		return ret;
	}
	for (i = 0; c->health && i < c->model.n_services; i++) {
		struct service *svc = &c->model.services[i];

		for (j = 0; j < svc->n_backends; j++) {
			const struct health_status *hs =
				health_get(c->health, svc->conf.name, svc->backends[j].conf.name);

			svc->backends[j].down = hs && !hs->up;
		}
	}
	return 0;
}

/* <plan>: the Maglev tables computed ahead (start-up), or NULL. */
static int model_program(struct controller *c, struct dp_ring_plan *plan, char *err,
			 size_t errlen)
{
	int ret = dp_program_planned(c->dp, &c->model, plan, err, errlen);

	if (!ret)
		ret = http_update(&c->http, &c->model, c->epoll_fd, err, errlen);
	if (!ret)
		announce_sync(&c->model);
	return ret;
}

static int model_apply(struct controller *c, char *err, size_t errlen)
{
	int ret = model_health(c, err, errlen);

	return ret ? ret : model_program(c, NULL, err, errlen);
}

struct model *controller_model(struct controller *c)
{
	return &c->model;
}

int controller_commit(struct controller *c, struct model *next, char *err, size_t errlen)
{
	struct model old = c->model;
	char ignored[CONFIG_ERR_MAX];
	int ret;

	c->model = *next;
	ret = model_apply(c, err, errlen);
	if (ret) {
		/* The data plane may be half-way: program the running model again. */
		c->model = old;
		if (model_apply(c, ignored, sizeof(ignored)))
			pr_warn("the running model could not be applied again: %s", ignored);
		model_free(next);
		return ret;
	}
	model_free(&old);
	memset(next, 0, sizeof(*next));
	return 0;
}

/* A backend passed or failed its checks: it gains or loses new flows. */
static void on_health_change(void *ctx, const char *service, const char *name, bool up,
			     const char *reason)
{
	struct controller *c = ctx;
	struct service *svc = model_find_service(&c->model, service);
	struct backend *be = model_find_backend(svc, name);
	char err[CONFIG_ERR_MAX];

	if (!be || be->down == !up)
		return;
	be->down = !up;
	if (dp_program(c->dp, &c->model, err, sizeof(err)))
		pr_warn("backend %s/%s is %s but the data plane was not updated: %s", service,
			name, up ? "up" : "down", err);
	http_health_changed(&c->http, &c->model);
	announce_sync(&c->model);
}

/* ---- reload ------------------------------------------------------------ */

static void render_metrics(void *ctx, struct metrics_buf *b)
{
	struct controller *c = ctx;

	report_metrics(report_sources(c), b);
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
	const struct metrics_config *running = &c->model.conf.metrics;
	struct metrics_server *fresh = NULL;

	if (c->metrics && cfg->metrics.enabled && running->enabled &&
	    !strcmp(cfg->metrics.listen, running->listen))
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
		ret = dp_attach(c->dp, cfg->interfaces[i].name, cfg->interfaces[i].xdp_mode, err,
				errlen);
		if (ret)
			return ret;
	}
	/* Announced VIPs are local addresses: see dp_accept_local(). */
	for (i = 0; cfg->cluster.enabled && i < cfg->n_interfaces; i++) {
		ret = dp_accept_local(cfg->interfaces[i].name);
		if (ret)
			pr_warn("%s: cannot set accept_local (replies passed to the kernel "
				"with a VIP as source would be dropped): %s",
				cfg->interfaces[i].name, strerror(-ret));
	}
	return 0;
}

/*
 * Start-up attaches on a thread of its own: loading the program keeps a
 * core in the kernel's verifier for about half a second, time in which the
 * controller prepares what needs neither the maps nor the program.
 */
struct attach_job {
	struct controller *c;
	pthread_t thread;
	bool threaded;
	int ret;
	char err[CONFIG_ERR_MAX];
};

static void *attach_job_run(void *arg)
{
	struct attach_job *job = arg;

	job->ret = attach_interfaces(job->c, NULL, &job->c->model.conf, job->err,
				     sizeof(job->err));
	return NULL;
}

static void attach_start(struct attach_job *job)
{
	job->threaded = !pthread_create(&job->thread, NULL, attach_job_run, job);
}

/* 0 or the error of attach_interfaces(), its line in job->err. */
static int attach_finish(struct attach_job *job)
{
	if (job->threaded)
		pthread_join(job->thread, NULL);
	else
		attach_job_run(job);
	return job->ret;
}

/* dp_premake() on a thread of its own, while the configuration is read. */
struct premake_job {
	struct dp_premade maps;
	pthread_t thread;
	bool started, threaded;
};

static void *premake_job_run(void *arg)
{
	dp_premake(&((struct premake_job *)arg)->maps);
	return NULL;
}

static void premake_start(struct premake_job *job)
{
	job->started = true;
	job->threaded = !pthread_create(&job->thread, NULL, premake_job_run, job);
	if (!job->threaded)
		premake_job_run(job);
}

/*
 * Before dp_pin_dir(): setns() into another mount namespace refuses a
 * process with more than one thread.
 */
static void premake_join(struct premake_job *job)
{
	if (job->threaded)
		pthread_join(job->thread, NULL);
	job->threaded = false;
}

/* The premade maps to <dp>, or closed when <dp> is NULL (start-up failed). */
static void premake_finish(struct premake_job *job, struct dataplane *dp)
{
	if (!job->started)
		return;
	premake_join(job);
	job->started = false;
	if (dp)
		dp_use_premade(dp, &job->maps);
	else
		dp_premade_close(&job->maps);
}

/* One warning per configured veth whose peer would drop what XDP sends into it. */
static void warn_veth_peers(const struct limpet_config *cfg)
{
	char warn[CONFIG_ERR_MAX];
	size_t i;
	int ret;

	for (i = 0; i < cfg->n_interfaces; i++) {
		ret = dp_veth_peer_check(cfg->interfaces[i].name, warn, sizeof(warn));
		if (ret > 0)
			pr_warn("%s", warn);
		else if (ret < 0)
			pr_debug("%s: veth peer not checked: %s", cfg->interfaces[i].name,
				 strerror(-ret));
	}
}

/* Backends that the new file drops keep their flows until the service's
 * drain timeout: a reload never cuts an established connection.
 */
static int carry_removed_backends(const struct model *old, struct model *next)
{
	size_t i, j;

	for (i = 0; i < old->n_services; i++) {
		const struct service *os = &old->services[i];
		struct service *ns = model_find_service(next, os->conf.name);

		if (!ns || ns->conf.vip.family != os->conf.vip.family)
			continue;
		for (j = 0; j < os->n_backends; j++) {
			struct backend be = os->backends[j];

			if (model_find_backend(ns, be.conf.name))
				continue;
			if (!be.draining) {
				be.draining = true;
				be.drain_deadline_ms = clock_mono_ms() + ns->conf.drain_timeout_ms;
			}
			if (model_add_backend(ns, &be))
				return -ENOMEM;
		}
	}
	return 0;
}

/* What the file asks of this host: every interface exists (in this network namespace). */
static int check_supported(const struct limpet_config *cfg, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < cfg->n_interfaces; i++) {
		if (!if_nametoindex(cfg->interfaces[i].name)) {
			snprintf(err, errlen,
				 "%s:%d: interfaces[%zu].name: interface '%s' not found",
				 cfg->path, cfg->interfaces[i].line, i, cfg->interfaces[i].name);
			return -ENODEV;
		}
	}
	if (cfg->cluster.enabled && !if_nametoindex(cfg->cluster.announce_interface)) {
		snprintf(err, errlen,
			 "%s:%d: cluster.announce_interface: interface '%s' not found", cfg->path,
			 cfg->cluster.line, cfg->cluster.announce_interface);
		return -ENODEV;
	}
	return 0;
}

/* One more warning line (cut if long: it stays one line). */
static void __attribute__((format(printf, 2, 3)))
cluster_warn(struct config_warnings *warn, const char *fmt, ...)
{
	va_list ap;

	if (warn->n < CONFIG_WARN_MAX) {
		va_start(ap, fmt);
		vsnprintf(warn->line[warn->n], sizeof(warn->line[0]), fmt, ap);
		va_end(ap);
	}
	warn->n++;
}

/*
 * An HTTP service's connections live on the node that bound them. Another
 * node sends it their segments, found by the TSecr or, for a client
 * without timestamps, by the ack (bpf/lib/cluster.h): the latter only while
 * the ack still holds the node's bits, and not a backend's replies where an
 * L4 NAT service claims the same backend address:port.
 */
/* The L4 NAT service whose claim on <be>'s replies wins over an HTTP one's, or NULL. */
static const struct service_config *l4_claimant(const struct limpet_config *cfg,
						const struct backend_config *be)
{
	const struct service_config *l;
	size_t i, j;

	for (i = 0; i < cfg->n_services; i++) {
		l = &cfg->services[i];
		if (l->mode == SERVICE_MODE_HTTP || l->forwarding != LIMPET_FWD_NAT ||
		    l->protocol != IPPROTO_TCP)
			continue;
		for (j = 0; j < l->n_backends; j++)
			if (l->backends[j].port == be->port &&
			    ip_address_equal(&l->backends[j].address, &be->address))
				return l;
	}
	return NULL;
}

static void warn_cluster_http(const struct limpet_config *cfg, struct config_warnings *warn)
{
	const struct service_config *h, *l4;
	struct cluster_value cv;
	bool said = false;
	size_t i, j;

	dp_cluster_of(&cfg->cluster, &cv);
	for (i = 0; i < cfg->n_services; i++) {
		h = &cfg->services[i];
		if (h->mode != SERVICE_MODE_HTTP)
			continue;
		/* limpet_isn_tag(): the node's bits last 2^(31 - bits) bytes. */
		if (!said && cv.ts_bits)
			cluster_warn(warn, "%s:%d: service %s: mode http in a cluster: a client "
				     "without TCP timestamps keeps its connection across nodes for "
				     "its first %u MiB each way; after that only while its packets "
				     "and its backend's replies reach the node that bound it",
				     cfg->path, cfg->cluster.line, h->name,
				     1u << (11 - cv.ts_bits));
		said = true;
		for (j = 0; j < h->n_backends; j++) {
			l4 = l4_claimant(cfg, &h->backends[j]);
			if (l4)
				cluster_warn(warn, "%s:%d: service %s: backend %s: also a backend of "
					     "L4 service %s, whose claim on its replies wins: another "
					     "node's connections to it break here", cfg->path,
					     cfg->cluster.line, h->name, h->backends[j].name, l4->name);
		}
	}
}

/*
 * A node reached through a router gets segments encapsulated from this
 * node's address (bpf/lib/cluster.h): one family for both, or only a shared
 * link carries them.
 */
static void warn_cluster_families(const struct limpet_config *cfg, struct config_warnings *warn)
{
	const struct node_config *self = config_cluster_self(&cfg->cluster), *n;
	size_t i;

	if (!self)
		return;
	for (i = 0; i < cfg->cluster.n_nodes; i++) {
		n = &cfg->cluster.nodes[i];
		if (n->address.family != self->address.family)
			cluster_warn(warn, "%s:%d: cluster.nodes: %s: an %s address, this node's is "
				     "%s: its segments reach it only on a link both share, never "
				     "encapsulated through a router", cfg->path, cfg->cluster.line,
				     n->name, n->address.family == LIMPET_FAMILY_V4 ? "IPv4" : "IPv6",
				     self->address.family == LIMPET_FAMILY_V4 ? "IPv4" : "IPv6");
	}
}

/*
 * Nodes of a cluster must share the cookie keys: a key file created at the
 * first start would differ on every node, and cookies issued by one would be
 * refused by the others.
 */
static void warn_cluster_keys(const struct limpet_config *cfg, struct config_warnings *warn)
{
	bool cookies = false;
	size_t i;

	if (!warn || !cfg->cluster.enabled)
		return;
	warn_cluster_http(cfg, warn);
	warn_cluster_families(cfg, warn);
	for (i = 0; i < cfg->n_services; i++)
		cookies |= cfg->services[i].affinity.type == LIMPET_AFFINITY_COOKIE;
	if (!cookies || !access(cfg->secret_file, F_OK))
		return;
	cluster_warn(warn, "%s:%d: secret_file: %s does not exist: run would create a new key "
		     "on this node alone; copy one node's key file to every node of the cluster",
		     cfg->path, cfg->cluster.line, cfg->secret_file);
}

/*
 * The one validation of a file, for run, reload and check alike: config_load()
 * and then check_supported(). It reads the file and asks the kernel for
 * interface indexes; it opens no map and writes nothing. On failure <cfg> is
 * left empty and <err> holds the one line.
 */
static int config_check(const char *path, struct limpet_config *cfg,
			struct config_warnings *warn, char *err, size_t errlen)
{
	int ret = config_load_warn(path, cfg, warn, err, errlen);

	if (ret)
		return ret;
	ret = check_supported(cfg, err, errlen);
	if (ret)
		config_free(cfg);
	else
		warn_cluster_keys(cfg, warn);
	return ret;
}

static void log_warnings(const struct config_warnings *warn)
{
	size_t i;

	for (i = 0; i < warn->n && i < CONFIG_WARN_MAX; i++)
		pr_warn("%s", warn->line[i]);
	if (warn->n > CONFIG_WARN_MAX)
		pr_warn("%zu more warnings", warn->n - CONFIG_WARN_MAX);
}

/* <warn> on stderr, as check prints them. */
static void print_warnings(const struct config_warnings *warn)
{
	size_t i;

	for (i = 0; i < warn->n && i < CONFIG_WARN_MAX; i++)
		fprintf(stderr, "warning: %s\n", warn->line[i]);
	if (warn->n > CONFIG_WARN_MAX)
		fprintf(stderr, "warning: %zu more warnings\n", warn->n - CONFIG_WARN_MAX);
}

int controller_check(const char *config_path, const char *const *peers, size_t n_peers)
{
	struct config_warnings warn, peer_warn;
	struct limpet_config cfg, peer;
	char err[CONFIG_ERR_MAX];
	int ret = 0;
	size_t i;

	if (config_check(config_path, &cfg, &warn, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	print_warnings(&warn);
	for (i = 0; i < n_peers; i++) {
		/* The file alone: its interfaces are another machine's. */
		if (config_load(peers[i], &peer, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			ret = 1;
			continue;
		}
		memset(&peer_warn, 0, sizeof(peer_warn));
		peer_compare(&cfg, &peer, &peer_warn);
		print_warnings(&peer_warn);
		config_free(&peer);
	}
	config_free(&cfg);
	return ret;
}

/* Refuse what a reload cannot change; 0 or -EINVAL with one line in <err>. */
static int check_reloadable(const struct model *running, const struct limpet_config *fresh,
			    char *err, size_t errlen)
{
	if (strcmp(fresh->instance, running->conf.instance)) {
		snprintf(err, errlen, "instance cannot change on reload");
		return -EINVAL;
	}
	if (fresh->flow_table_size != running->conf.flow_table_size) {
		snprintf(err, errlen, "flow_table_size cannot change on reload "
			 "(it needs 'limpet down' and a new start)");
		return -EINVAL;
	}
	return 0;
}

json_t *controller_reload(struct controller *c)
{
	struct interface_config *old_ifaces = NULL;
	struct cluster_config old_cluster = { 0 };
	struct config_warnings warn;
	struct limpet_config fresh;
	struct model next = { 0 };
	char err[CONFIG_ERR_MAX];
	size_t i, n_old = 0;
	int ret;

	err[0] = '\0';
	if (config_check(c->model.conf.path, &fresh, &warn, err, sizeof(err)))
		return control_reply_error("reload: %s (keeping the running configuration)", err);
	log_warnings(&warn);
	ret = check_reloadable(&c->model, &fresh, err, sizeof(err));
	if (!ret && (model_from_config(&next, &fresh) ||
		     carry_removed_backends(&c->model, &next))) {
		snprintf(err, sizeof(err), "out of memory");
		ret = -ENOMEM;
	}
	config_free(&fresh);
	next.node_draining = c->model.node_draining;
	next.node_drain_deadline_ms = c->model.node_drain_deadline_ms;
	if (!ret)
		ret = attach_interfaces(c, &c->model.conf, &next.conf, err, sizeof(err));
	if (!ret)
		ret = metrics_reconfigure(c, &next.conf, err, sizeof(err));
	if (!ret) {
		n_old = c->model.conf.n_interfaces;
		old_ifaces = malloc(sizeof(*old_ifaces) * (n_old ? n_old : 1));
		if (!old_ifaces)
			ret = -ENOMEM;
		else
			memcpy(old_ifaces, c->model.conf.interfaces, sizeof(*old_ifaces) * n_old);
	}
	if (!ret) {
		old_cluster = c->model.conf.cluster;
		old_cluster.nodes = NULL;
		ret = controller_commit(c, &next, err, sizeof(err));
	} else {
		model_free(&next);
	}
	if (ret) {
		free(old_ifaces);
		return control_reply_error("reload: %s (keeping the running configuration)",
					   ret == -ENOMEM && !err[0] ? "out of memory" : err);
	}
	for (i = 0; i < n_old; i++) {
		char derr[CONFIG_ERR_MAX];

		if (!has_interface(&c->model.conf, old_ifaces[i].name) &&
		    dp_detach_ifname(old_ifaces[i].name, derr, sizeof(derr)))
			pr_warn("%s", derr);
	}
	free(old_ifaces);
	/* A section dropped or moved: what the old one announced goes. */
	if (old_cluster.enabled &&
	    (!c->model.conf.cluster.enabled ||
	     strcmp(old_cluster.announce_interface, c->model.conf.cluster.announce_interface)) &&
	    announce_withdraw(old_cluster.announce_interface))
		pr_warn("announce: cannot withdraw the VIPs from %s",
			old_cluster.announce_interface);
	warn_veth_peers(&c->model.conf);
	pr_info("reloaded %s", c->model.conf.path);
	return control_reply_ok(NULL);
}

/* ---- what the command handlers read --------------------------------------- */

static const struct report_sources *report_sources(struct controller *c)
{
	c->sources = (struct report_sources){ .dp = c->dp, .model = &c->model,
					      .health = c->health, .http = &c->http };
	return &c->sources;
}

json_t *controller_status(struct controller *c)
{
	return report_status(report_sources(c));
}

json_t *controller_status_rows(struct controller *c)
{
	return report_status_rows(report_sources(c));
}

json_t *controller_stats(struct controller *c)
{
	return report_stats(report_sources(c));
}

json_t *controller_rotate_keys(struct controller *c)
{
	char err[CONFIG_ERR_MAX];
	unsigned int id, ttl_s;

	if (http_rotate_keys(&c->http, &c->model, err, sizeof(err)))
		return control_reply_error("keys rotate: %s", err);
	http_key_info(&c->http, &id, &ttl_s);
	return control_reply_ok(json_sprintf("key %u is current; older keys stay valid for %us",
					     id, ttl_s));
}

json_t *controller_node(struct controller *c, bool drain, bool has_timeout, __u64 timeout_ms)
{
	struct model *m = &c->model;
	const char *what = drain ? "node drain" : "node undrain";

	if (!m->conf.cluster.enabled)
		return control_reply_error("%s: no cluster section in %s", what, m->conf.path);
	if (!drain && !m->node_draining)
		return control_reply_error("node undrain: node '%s' is not draining",
					   m->conf.cluster.node);
	m->node_draining = drain;
	m->node_drain_deadline_ms = drain && has_timeout ? clock_mono_ms() + timeout_ms : 0;
	announce_sync(m);
	pr_info("node %s %s", m->conf.cluster.node, drain ? "draining: VIPs withdrawn" :
							    "active: VIPs announced");
	return control_reply_ok(NULL);
}

/* A node drain whose timeout passed: the connections it still owns are told of. */
static void expire_node_drain(struct controller *c)
{
	struct model *m = &c->model;

	if (!m->node_draining || !m->node_drain_deadline_ms ||
	    m->node_drain_deadline_ms > clock_mono_ms())
		return;
	m->node_drain_deadline_ms = 0;
	pr_info("node %s: drain timeout passed; its VIPs stay withdrawn until "
		"'limpet node undrain'", m->conf.cluster.node);
}

void controller_stop(struct controller *c)
{
	c->stop = true;
}

static json_t *handle_request(void *ctx, const json_t *req)
{
	return commands_serve(ctx, req);
}

/* ---- periodic work ------------------------------------------------------ */

/* Remove draining backends whose deadline has passed. */
static void expire_drains(struct controller *c)
{
	char err[CONFIG_ERR_MAX];
	__u64 now = clock_mono_ms();
	struct model next;
	bool due = false;
	size_t i, j;

	for (i = 0; i < c->model.n_services; i++)
		for (j = 0; j < c->model.services[i].n_backends; j++)
			due |= c->model.services[i].backends[j].draining &&
			       c->model.services[i].backends[j].drain_deadline_ms <= now;
	if (!due)
		return;
	if (model_copy(&next, &c->model)) {
		pr_warn("drain deadlines: out of memory; trying again in a second");
		return;
	}
	for (i = 0; i < next.n_services; i++) {
		struct service *svc = &next.services[i];

		for (j = 0; j < svc->n_backends;) {
			struct backend *be = &svc->backends[j];

			if (be->draining && be->drain_deadline_ms <= now) {
				pr_info("backend %s/%s: drain deadline passed, removed",
					svc->conf.name, be->conf.name);
				model_remove_backend(svc, j);
				continue;
			}
			j++;
		}
	}
	if (controller_commit(c, &next, err, sizeof(err)))
		pr_warn("%s", err);
}

static const char *next_hop_key(__u32 flags, __u32 by_dst)
{
	return flags & by_dst ? "by backend" : "by client and backend";
}

/*
 * Keep the routing map in step with the kernel's rules and routes: whether
 * new flows' next hops may be shared by clients (dp/routing.h).
 */
static void check_routing(struct controller *c)
{
	__u32 flags = 0;
	int ret = dp_check_routing(c->dp, &flags);

	if (ret < 0 && ret != c->routing_err)
		pr_warn("cannot read the routing rules and routes: %s; new flows' next hops "
			"stay as they were", strerror(-ret));
	c->routing_err = ret < 0 ? ret : 0;
	if (ret == 1)
		pr_info("next hops of new flows: IPv4 %s, IPv6 %s",
			next_hop_key(flags, LIMPET_ROUTING_V4_BY_DST),
			next_hop_key(flags, LIMPET_ROUTING_V6_BY_DST));
}

static void on_tick(struct controller *c)
{
	__u64 expirations;
	int ret;

	if (read(c->timer_fd, &expirations, sizeof(expirations)) < 0)
		return;
	expire_drains(c);
	expire_node_drain(c);
	announce_sync(&c->model);
	if (c->metrics)
		metrics_process(c->metrics);
	if (clock_mono_ms() - c->last_neigh_ms >= NEIGH_REFRESH_MS) {
		dp_nudge_neighbours(&c->model);
		c->last_neigh_ms = clock_mono_ms();
	}
	check_routing(c);
	/* Handshakes of SYNs bound before a table change are done by now. */
	ret = dp_expire_ring_grace(c->dp);
	if (ret)
		pr_warn("cannot drop the tables kept from before a change: %s", strerror(-ret));
	http_tick(&c->http);
}

/* ---- set-up -------------------------------------------------------------- */

/* One controller per instance: a second one would fight over the maps. */
static int take_lock(struct controller *c, char *err, size_t errlen)
{
	char path[160];

	mkdir(CONTROL_SOCKET_DIR, 0755);
	snprintf(path, sizeof(path), "%s/%s.lock", CONTROL_SOCKET_DIR, c->model.conf.instance);
	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->lock_fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (flock(c->lock_fd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "another limpet controller is already running for instance "
			 "'%s'", c->model.conf.instance);
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
			json_t *reply = controller_reload(c);
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
				http_handle(&c->http, fd);
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
	char err[CONFIG_ERR_MAX], health_err[CONFIG_ERR_MAX], pin_dir[256], abs_path[PATH_MAX];
	struct attach_job attach = { .c = c };
	struct premake_job premake = {};
	struct dp_ring_plan *plan = NULL;
	struct config_warnings warn;
	struct limpet_config cfg;
	int status = 1, ret = 0, health_ret = 0, health_errno;

	if (!c)
		return 1;
	c->listen_fd = c->signal_fd = c->timer_fd = c->epoll_fd = c->lock_fd = -1;
	if (!is_root("run"))
		goto out;
	premake_start(&premake);
	if (config_check(absolute_path(config_path, abs_path), &cfg, &warn, err, sizeof(err)))
		goto fail;
	log_warnings(&warn);
	if (model_from_config(&c->model, &cfg)) {
		snprintf(err, sizeof(err), "out of memory");
		ret = -ENOMEM;
	}
	config_free(&cfg);
	if (ret || take_lock(c, err, sizeof(err)))
		goto fail;
	resolve_socket(socket_override, c->model.conf.instance, c->socket_path,
		       sizeof(c->socket_path));
	dp_route_library_logs();

	premake_join(&premake);
	if (dp_pin_dir(c->model.conf.instance, pin_dir, sizeof(pin_dir), err, sizeof(err)))
		goto fail;
	ret = dp_open(&c->dp, pin_dir, c->model.conf.flow_table_size);
	if (ret) {
		snprintf(err, sizeof(err), "cannot open the data plane: %s", strerror(-ret));
		goto fail;
	}
	premake_finish(&premake, c->dp);
	/* Errors are reported in the order of the steps: attaching first. */
	c->health = health_new(on_health_change, c);
	health_errno = errno;
	attach_start(&attach);
	if (c->health) {
		health_ret = model_health(c, health_err, sizeof(health_err));
		if (!health_ret)
			plan = dp_plan_rings(&c->model);
	}
	/* Neighbour resolution needs neither map nor program: while the
	 * verifier works.
	 */
	dp_nudge_neighbours(&c->model);
	c->last_neigh_ms = clock_mono_ms();
	if (attach_finish(&attach)) {
		snprintf(err, sizeof(err), "%s", attach.err);
		goto fail;
	}
	warn_veth_peers(&c->model.conf);
	check_routing(c);
	if (dp_adopted(c->dp))
		pr_info("adopted the pinned data plane in %s", pin_dir);
	if (http_init(&c->http, c->dp)) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (!c->health) {
		snprintf(err, sizeof(err), "cannot start the health checker: %s",
			 strerror(health_errno));
		goto fail;
	}
	if (health_ret) {
		snprintf(err, sizeof(err), "%s", health_err);
		goto fail;
	}
	ret = model_program(c, plan, err, sizeof(err));
	dp_ring_plan_free(plan);
	plan = NULL;
	if (ret)
		goto fail;
	if (c->model.conf.metrics.enabled) {
		c->metrics = metrics_start(c->model.conf.metrics.listen, render_metrics, c, err,
					   sizeof(err));
		if (!c->metrics)
			goto fail;
	}
	c->listen_fd = control_listen(c->socket_path);
	if (c->listen_fd < 0) {
		snprintf(err, sizeof(err), "cannot listen on %s: %s", c->socket_path,
			 c->listen_fd == -EADDRINUSE ? "another controller answers there" :
						       strerror(-c->listen_fd));
		goto fail;
	}
	if (setup_loop(c, err, sizeof(err)) ||
	    http_update(&c->http, &c->model, c->epoll_fd, err, sizeof(err)))
		goto fail;

	fprintf(stderr, "limpet: ready\n");
	serve(c);
	unlink(c->socket_path);
	status = 0;
	goto out;
fail:
	fprintf(stderr, "limpet: %s\n", err);
out:
	premake_finish(&premake, NULL);
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
	dp_ring_plan_free(plan);
	http_free(&c->http);
	dp_close(c->dp);
	model_free(&c->model);
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
	req = command_request(&(struct command_args){ .id = CMD_SHUTDOWN });
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
	if (cfg.cluster.enabled) {
		ret = announce_withdraw(cfg.cluster.announce_interface);
		if (ret) {
			fprintf(stderr, "limpet: cannot withdraw the VIPs from %s: %s\n",
				cfg.cluster.announce_interface, strerror(-ret));
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
