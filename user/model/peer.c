// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * peer.c - what two nodes of a cluster must agree on (peer.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include "model/peer.h"

/* A key file larger than this is not compared (it holds a few dozen lines). */
#define PEER_KEYS_MAX 65536

struct diff {
	const struct limpet_config *self, *peer;
	struct config_warnings *warn;
	size_t n;
};

/* One difference: a line "peer PEERFILE: <fmt>" in the warnings (cut if long). */
static void __attribute__((format(printf, 2, 3))) differ(struct diff *d, const char *fmt, ...)
{
	struct config_warnings *w = d->warn;
	size_t size = sizeof(w->line[0]);
	char *line;
	va_list ap;
	int n;

	d->n++;
	if (w->n++ >= CONFIG_WARN_MAX)
		return;
	line = w->line[w->n - 1];
	n = snprintf(line, size, "peer %s: ", d->peer->path);
	if (n < 0 || (size_t)n >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, size - (size_t)n, fmt, ap);
	va_end(ap);
}

static void differ_u64(struct diff *d, const char *where, const char *key, __u64 here,
		       __u64 there)
{
	if (here != there)
		differ(d, "%s%s %llu here, %llu there", where, key, (unsigned long long)here,
		       (unsigned long long)there);
}

/* An enum setting, by its name in the file. */
static void differ_enum(struct diff *d, const char *where, const char *key,
			const char *const *names, size_t n_names, unsigned int here,
			unsigned int there)
{
	if (here != there)
		differ(d, "%s%s %s here, %s there", where, key,
		       here < n_names && names[here] ? names[here] : "?",
		       there < n_names && names[there] ? names[there] : "?");
}

#define DIFFER_ENUM(d, where, key, names, here, there) \
	differ_enum(d, where, key, names, sizeof(names) / sizeof(names[0]), here, there)

static const char *const mode_names[] = { [SERVICE_MODE_L4] = "l4", [SERVICE_MODE_HTTP] = "http" };
static const char *const fwd_names[] = { [LIMPET_FWD_NAT] = "nat", [LIMPET_FWD_DSR] = "dsr" };
static const char *const failover_names[] = { [FAILOVER_NONE] = "none",
					      [FAILOVER_TEMPORARY] = "temporary",
					      [FAILOVER_STICKY] = "sticky" };
static const char *const affinity_names[] = { [LIMPET_AFFINITY_NONE] = "none",
					      [LIMPET_AFFINITY_CLIENT_IP] = "client_ip",
					      [LIMPET_AFFINITY_COOKIE] = "cookie",
					      [LIMPET_AFFINITY_HEADER] = "header" };
static const char *const fallback_names[] = { [FALLBACK_CLIENT_IP] = "client_ip",
					      [FALLBACK_NONE] = "none" };
static const char *const policy_names[] = { [POLICY_PIN] = "pin",
					    [POLICY_REBALANCE] = "rebalance" };
static const char *const health_names[] = { [HEALTH_TCP] = "tcp", [HEALTH_HTTP] = "http",
					    [HEALTH_NONE] = "none" };

static void differ_str(struct diff *d, const char *where, const char *key, const char *here,
		       const char *there)
{
	if (strcmp(here, there))
		differ(d, "%s%s '%s' here, '%s' there", where, key, here, there);
}

static void differ_addr(struct diff *d, const char *where, const char *key,
			const struct ip_address *here, const struct ip_address *there)
{
	char a[64], b[64];

	if (ip_address_equal(here, there))
		return;
	format_ip_address(here, a, sizeof(a));
	format_ip_address(there, b, sizeof(b));
	differ(d, "%s%s %s here, %s there", where, key, a, b);
}

static const struct backend_config *backend_named(const struct service_config *s,
						  const char *name)
{
	size_t i;

	for (i = 0; i < s->n_backends; i++)
		if (!strcmp(s->backends[i].name, name))
			return &s->backends[i];
	return NULL;
}

static const struct service_config *service_named(const struct limpet_config *c,
						  const char *name)
{
	size_t i;

	for (i = 0; i < c->n_services; i++)
		if (!strcmp(c->services[i].name, name))
			return &c->services[i];
	return NULL;
}

static bool same_headers(const struct affinity_config *a, const struct affinity_config *b)
{
	size_t i;

	if (a->n_headers != b->n_headers || a->require_all_headers != b->require_all_headers)
		return false;
	for (i = 0; i < a->n_headers; i++)
		if (strcasecmp(a->headers[i], b->headers[i]))
			return false;
	return true;
}

/* What decides where a connection goes: the service and its backends. */
static void compare_service(struct diff *d, const struct service_config *a,
			    const struct service_config *b)
{
	const struct affinity_config *x = &a->affinity, *y = &b->affinity;
	char where[LIMPET_NAME_MAX + 16], bwhere[2 * LIMPET_NAME_MAX + 32];
	size_t i;

	snprintf(where, sizeof(where), "service %s: ", a->name);
	differ_addr(d, where, "vip", &a->vip, &b->vip);
	differ_u64(d, where, "port", a->port, b->port);
	if (a->protocol != b->protocol)
		differ(d, "%sprotocol %s here, %s there", where,
		       a->protocol == IPPROTO_UDP ? "udp" : "tcp",
		       b->protocol == IPPROTO_UDP ? "udp" : "tcp");
	DIFFER_ENUM(d, where, "mode", mode_names, a->mode, b->mode);
	DIFFER_ENUM(d, where, "forwarding", fwd_names, a->forwarding, b->forwarding);
	differ_u64(d, where, "ring_size", a->ring_size, b->ring_size);
	DIFFER_ENUM(d, where, "failover", failover_names, a->failover, b->failover);
	DIFFER_ENUM(d, where, "affinity.type", affinity_names, x->type, y->type);
	DIFFER_ENUM(d, where, "affinity.fallback", fallback_names, x->fallback, y->fallback);
	DIFFER_ENUM(d, where, "affinity.policy", policy_names, x->policy, y->policy);
	differ_u64(d, where, "affinity.idle_ttl (ms)", x->idle_ttl_ms, y->idle_ttl_ms);
	if (x->type == LIMPET_AFFINITY_COOKIE) {
		differ_str(d, where, "affinity.cookie.name", x->cookie.name, y->cookie.name);
		differ_u64(d, where, "affinity.cookie.ttl (ms)", x->cookie.ttl_ms, y->cookie.ttl_ms);
	}
	if (x->type == LIMPET_AFFINITY_HEADER && !same_headers(x, y))
		differ(d, "%saffinity.headers or require_all_headers differ", where);
	DIFFER_ENUM(d, where, "health.type", health_names, a->health.type, b->health.type);
	differ_str(d, where, "http.backend_header", a->http.backend_header,
		   b->http.backend_header);

	for (i = 0; i < a->n_backends; i++) {
		const struct backend_config *p = &a->backends[i];
		const struct backend_config *q = backend_named(b, p->name);

		if (!q) {
			differ(d, "%sbackend %s is not there", where, p->name);
			continue;
		}
		snprintf(bwhere, sizeof(bwhere), "%sbackend %s: ", where, p->name);
		differ_addr(d, bwhere, "address", &p->address, &q->address);
		differ_u64(d, bwhere, "port", p->port, q->port);
		differ_u64(d, bwhere, "weight", p->weight, q->weight);
	}
	for (i = 0; i < b->n_backends; i++)
		if (!backend_named(a, b->backends[i].name))
			differ(d, "%sbackend %s is only there", where, b->backends[i].name);
}

static void compare_cluster(struct diff *d)
{
	const struct cluster_config *a = &d->self->cluster, *b = &d->peer->cluster;
	size_t i, j;

	if (!a->enabled || !b->enabled) {
		differ(d, "cluster: %s", a->enabled ? "no cluster section there" :
				b->enabled ? "no cluster section here" : "no cluster section in either");
		return;
	}
	if (!strcmp(a->node, b->node))
		differ(d, "cluster.node: both files name this node '%s'", a->node);
	for (i = 0; i < a->n_nodes; i++) {
		for (j = 0; j < b->n_nodes; j++)
			if (!strcmp(a->nodes[i].name, b->nodes[j].name))
				break;
		if (j == b->n_nodes)
			differ(d, "cluster.nodes: %s is not there", a->nodes[i].name);
		else
			differ_addr(d, "cluster.nodes: ", a->nodes[i].name, &a->nodes[i].address,
				    &b->nodes[j].address);
	}
	for (j = 0; j < b->n_nodes; j++) {
		for (i = 0; i < a->n_nodes; i++)
			if (!strcmp(a->nodes[i].name, b->nodes[j].name))
				break;
		if (i == a->n_nodes)
			differ(d, "cluster.nodes: %s is only there", b->nodes[j].name);
	}
}

/* The whole of <path> into <buf>; its length, or -1 if unreadable or too big. */
static long read_small(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, size, f);
	if (ferror(f) || n == size) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return (long)n;
}

/* Cookies one node issues verify on the other only with the same keys. */
static void compare_keys(struct diff *d)
{
	static char a[PEER_KEYS_MAX], b[PEER_KEYS_MAX];
	long la, lb;

	if (!strcmp(d->self->secret_file, d->peer->secret_file))
		return;		/* one file on this machine: the same keys */
	la = read_small(d->self->secret_file, a, sizeof(a));
	lb = read_small(d->peer->secret_file, b, sizeof(b));
	if (la < 0 || lb < 0)
		return;		/* not both on this machine: nothing to compare */
	if (la != lb || memcmp(a, b, (size_t)la))
		differ(d, "secret_file: %s here and %s there hold different cookie keys "
		       "(copy one node's file to every node)", d->self->secret_file,
		       d->peer->secret_file);
}

size_t peer_compare(const struct limpet_config *self, const struct limpet_config *peer,
		    struct config_warnings *warn)
{
	struct diff d = { .self = self, .peer = peer, .warn = warn };
	size_t i;

	compare_cluster(&d);
	compare_keys(&d);
	for (i = 0; i < self->n_services; i++) {
		const struct service_config *q = service_named(peer, self->services[i].name);

		if (q)
			compare_service(&d, &self->services[i], q);
		else
			differ(&d, "service %s is not there", self->services[i].name);
	}
	for (i = 0; i < peer->n_services; i++)
		if (!service_named(self, peer->services[i].name))
			differ(&d, "service %s is only there", peer->services[i].name);
	return d.n;
}
