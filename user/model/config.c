/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config.c - the configuration's schema: its sections, their keys and
 * defaults, and config_load().
 *
 * The file is walked with model/yaml.h against the fixed keys below. Each
 * mapping is first checked for unknown and duplicate keys; its values are
 * then parsed in a fixed order, so that a check which depends on another key
 * (dsr needs mode l4, a backend's family must be the VIP's) always finds
 * that key already parsed. The first problem stops the walk and is reported
 * as one line "FILE:LINE: KEY: problem", LINE being 1-based: the line of the
 * key, of the list item, or of the enclosing mapping when a required key is
 * missing.
 *
 * Every value goes through its parser in model/value.h (the command line and
 * the control socket use the same ones), and a backend through the rules of
 * model/rules.h (so does `backend add`). Durations may be 0 where 0 means
 * something (drain_timeout); TTLs, health interval and timeout and the http
 * connect_timeout must be greater.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "model/config.h"
#include "model/rules.h"
#include "model/value.h"
#include "model/yaml.h"

#define FLOW_TABLE_MIN 1024
#define FLOW_TABLE_MAX 67108864
#define RING_SIZE_MIN 3
#define HEALTH_COUNT_MAX 1000

#define MS_PER_S 1000ULL
#define MS_PER_M (60 * MS_PER_S)
#define MS_PER_H (60 * MS_PER_M)

#define HTTP_CONNECT_TIMEOUT_MAX (60 * MS_PER_S)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct ctx {
	struct walk w;
	size_t n_backends;	/* over all services, against LIMPET_MAX_BACKENDS */
	struct config_warnings *warn;	/* NULL: not wanted */
};

/* A warning "FILE:LINE: KEY: problem" at field <f> of <path>; the walk goes on. */
static void __attribute__((format(printf, 4, 5)))
warn_field(struct ctx *c, const char *path, const struct field *f, const char *fmt, ...)
{
	char key[WALK_KEY_PATH_MAX], msg[CONFIG_ERR_MAX];
	struct config_warnings *w = c->warn;
	va_list ap;

	if (!w)
		return;
	if (w->n < CONFIG_WARN_MAX) {
		walk_key_path(key, sizeof(key), path, f);
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		snprintf(w->line[w->n], sizeof(w->line[w->n]), "%s:%d: %s: %.300s", c->w.file,
			 f->line, key, msg);
	}
	w->n++;
}

/* "FILE:LINE: KEY: problem" at field <f> of the mapping or list at <path>. */
static int __attribute__((format(printf, 4, 5)))
fail_field(struct ctx *c, const char *path, const struct field *f, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = walk_vfail_field(&c->w, path, f, fmt, ap);
	va_end(ap);
	return ret;
}

struct service_config *config_find_service(struct limpet_config *cfg, const char *name)
{
	size_t i;

	if (!cfg || !name)
		return NULL;
	for (i = 0; i < cfg->n_services; i++)
		if (!strcmp(cfg->services[i].name, name))
			return &cfg->services[i];
	return NULL;
}

struct backend_config *config_find_backend(struct service_config *svc, const char *name)
{
	size_t i;

	if (!svc || !name)
		return NULL;
	for (i = 0; i < svc->n_backends; i++)
		if (!strcmp(svc->backends[i].name, name))
			return &svc->backends[i];
	return NULL;
}

const struct node_config *config_cluster_self(const struct cluster_config *cl)
{
	size_t i;

	for (i = 0; i < cl->n_nodes; i++)
		if (!strcmp(cl->nodes[i].name, cl->node))
			return &cl->nodes[i];
	return NULL;
}

void config_free(struct limpet_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n_services; i++)
		free(cfg->services[i].backends);
	free(cfg->services);
	free(cfg->interfaces);
	free(cfg->cluster.nodes);
	memset(cfg, 0, sizeof(*cfg));
}

/* ------------------------------------------------------------------------ */
/* Values: the text of a field through its parser of model/value.h           */

static int get_string(struct ctx *c, const char *path, const struct field *f, char *buf,
		      size_t size, value_check_fn check)
{
	char q[VALUE_QUOTE_BUF], why[VALUE_WHY_MAX];
	const char *s;
	int err;

	err = walk_scalar(&c->w, path, f, &s);
	if (err)
		return err;
	if (check && check(s, why, sizeof(why)))
		return fail_field(c, path, f, "%s", why);
	if (strlen(s) >= size)
		return fail_field(c, path, f, "too long (at most %zu characters), got %s",
				  size - 1, value_quote(q, sizeof(q), s));
	strcpy(buf, s);
	return 0;
}

static int get_uint(struct ctx *c, const char *path, const struct field *f, __u64 min, __u64 max,
		    __u64 *out)
{
	char why[VALUE_WHY_MAX];
	const char *s;
	int err;

	err = walk_scalar(&c->w, path, f, &s);
	if (!err && value_uint(s, min, max, out, why, sizeof(why)))
		err = fail_field(c, path, f, "%s", why);
	return err;
}

static int get_u32(struct ctx *c, const char *path, const struct field *f, __u32 min, __u32 max,
		   __u32 *out)
{
	__u64 v;
	int err;

	err = get_uint(c, path, f, min, max, &v);
	if (!err)
		*out = v;
	return err;
}

/* <names> is indexed by the enum value; *out gets the index of the match. */
static int get_enum(struct ctx *c, const char *path, const struct field *f,
		    const char *const *names, size_t n, int *out)
{
	char why[VALUE_WHY_MAX];
	const char *s;
	int err;

	err = walk_scalar(&c->w, path, f, &s);
	if (!err && value_enum(s, names, n, out, why, sizeof(why)))
		err = fail_field(c, path, f, "%s", why);
	return err;
}

static int get_bool(struct ctx *c, const char *path, const struct field *f, bool *out)
{
	char why[VALUE_WHY_MAX];
	const char *s;
	int err;

	err = walk_scalar(&c->w, path, f, &s);
	if (!err && value_bool(s, out, why, sizeof(why)))
		err = fail_field(c, path, f, "%s", why);
	return err;
}

static int get_duration(struct ctx *c, const char *path, const struct field *f, bool allow_zero,
			__u64 *ms)
{
	char why[VALUE_WHY_MAX];
	const char *s;
	int err;

	err = walk_scalar(&c->w, path, f, &s);
	if (!err && value_duration(s, allow_zero, ms, why, sizeof(why)))
		err = fail_field(c, path, f, "%s", why);
	return err;
}

static int get_address(struct ctx *c, const char *path, const struct field *f,
		       struct ip_address *ip)
{
	char why[VALUE_WHY_MAX];
	const char *s;
	int err;

	err = walk_scalar(&c->w, path, f, &s);
	if (!err && value_address(s, ip, why, sizeof(why)))
		err = fail_field(c, path, f, "%s", why);
	return err;
}

static int get_port(struct ctx *c, const char *path, const struct field *f, __u16 *port)
{
	char why[VALUE_WHY_MAX];
	const char *s;
	int err;

	err = walk_scalar(&c->w, path, f, &s);
	if (!err && value_port(s, port, why, sizeof(why)))
		err = fail_field(c, path, f, "%s", why);
	return err;
}

static int get_weight(struct ctx *c, const char *path, const struct field *f, __u32 *weight)
{
	char why[VALUE_WHY_MAX];
	const char *s;
	int err;

	err = walk_scalar(&c->w, path, f, &s);
	if (!err && value_weight(s, weight, why, sizeof(why)))
		err = fail_field(c, path, f, "%s", why);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Schema                                                                    */

static const char *const xdp_mode_names[] = {
	[XDP_MODE_CFG_NATIVE] = "native",
	[XDP_MODE_CFG_GENERIC] = "generic",
};
static const char *const mode_names[] = {
	[SERVICE_MODE_L4] = "l4",
	[SERVICE_MODE_HTTP] = "http",
};
static const char *const forwarding_names[] = {
	[LIMPET_FWD_NAT] = "nat",
	[LIMPET_FWD_DSR] = "dsr",
};
static const char *const affinity_names[] = {
	[LIMPET_AFFINITY_NONE] = "none",
	[LIMPET_AFFINITY_CLIENT_IP] = "client_ip",
	[LIMPET_AFFINITY_COOKIE] = "cookie",
	[LIMPET_AFFINITY_HEADER] = "header",
};
static const char *const fallback_names[] = {
	[FALLBACK_CLIENT_IP] = "client_ip",
	[FALLBACK_NONE] = "none",
};
static const char *const policy_names[] = {
	[POLICY_PIN] = "pin",
	[POLICY_REBALANCE] = "rebalance",
};
static const char *const failover_names[] = {
	[FAILOVER_NONE] = "none",
	[FAILOVER_TEMPORARY] = "temporary",
	[FAILOVER_STICKY] = "sticky",
};
static const char *const samesite_names[] = {
	[SAMESITE_UNSET] = "",
	[SAMESITE_LAX] = "lax",
	[SAMESITE_STRICT] = "strict",
	[SAMESITE_NONE] = "none",
};
static const char *const health_names[] = {
	[HEALTH_TCP] = "tcp",
	[HEALTH_HTTP] = "http",
	[HEALTH_NONE] = "none",
};
static const char *const protocol_names[] = { "tcp", "udp" };

/* The configuration words for a service's settings, as status prints them. */
const char *config_protocol_name(__u8 protocol)
{
	return protocol_names[protocol == IPPROTO_UDP];
}

const char *config_mode_name(enum service_mode mode)
{
	return mode_names[mode];
}

const char *config_forwarding_name(enum limpet_forwarding forwarding)
{
	return forwarding_names[forwarding];
}

const char *config_affinity_name(enum limpet_affinity type)
{
	return affinity_names[type];
}

enum {
	T_INSTANCE, T_INTERFACES, T_SECRET_FILE, T_METRICS, T_CLUSTER, T_FLOW_TABLE_SIZE,
	T_SERVICES, T_MAX
};
static const char *const top_keys[T_MAX] = {
	[T_INSTANCE] = "instance",
	[T_INTERFACES] = "interfaces",
	[T_SECRET_FILE] = "secret_file",
	[T_METRICS] = "metrics",
	[T_CLUSTER] = "cluster",
	[T_FLOW_TABLE_SIZE] = "flow_table_size",
	[T_SERVICES] = "services",
};

enum { I_NAME, I_XDP_MODE, I_MAX };
static const char *const interface_keys[I_MAX] = {
	[I_NAME] = "name",
	[I_XDP_MODE] = "xdp_mode",
};

enum { M_LISTEN, M_MAX };
static const char *const metrics_keys[M_MAX] = {
	[M_LISTEN] = "listen",
};

enum { CL_NODE, CL_ANNOUNCE_INTERFACE, CL_NODES, CL_MAX };
static const char *const cluster_keys[CL_MAX] = {
	[CL_NODE] = "node",
	[CL_ANNOUNCE_INTERFACE] = "announce_interface",
	[CL_NODES] = "nodes",
};

enum { N_NAME, N_ADDRESS, N_MAX };
static const char *const node_keys[N_MAX] = {
	[N_NAME] = "name",
	[N_ADDRESS] = "address",
};

enum {
	S_NAME, S_VIP, S_PORT, S_PROTOCOL, S_MODE, S_FORWARDING, S_AFFINITY, S_FAILOVER,
	S_DRAIN_TIMEOUT, S_RING_SIZE, S_HEALTH, S_HTTP, S_BACKENDS, S_MAX
};
static const char *const service_keys[S_MAX] = {
	[S_NAME] = "name",
	[S_VIP] = "vip",
	[S_PORT] = "port",
	[S_PROTOCOL] = "protocol",
	[S_MODE] = "mode",
	[S_FORWARDING] = "forwarding",
	[S_AFFINITY] = "affinity",
	[S_FAILOVER] = "failover",
	[S_DRAIN_TIMEOUT] = "drain_timeout",
	[S_RING_SIZE] = "ring_size",
	[S_HEALTH] = "health",
	[S_HTTP] = "http",
	[S_BACKENDS] = "backends",
};

enum { A_TYPE, A_FALLBACK, A_POLICY, A_COOKIE, A_HEADERS, A_REQUIRE_ALL, A_IDLE_TTL, A_MAX };
static const char *const affinity_keys[A_MAX] = {
	[A_TYPE] = "type",
	[A_FALLBACK] = "fallback",
	[A_POLICY] = "policy",
	[A_COOKIE] = "cookie",
	[A_HEADERS] = "headers",
	[A_REQUIRE_ALL] = "require_all_headers",
	[A_IDLE_TTL] = "idle_ttl",
};

enum { C_NAME, C_TTL, C_PATH, C_DOMAIN, C_SECURE, C_SAMESITE, C_MAX };
static const char *const cookie_keys[C_MAX] = {
	[C_NAME] = "name",
	[C_TTL] = "ttl",
	[C_PATH] = "path",
	[C_DOMAIN] = "domain",
	[C_SECURE] = "secure",
	[C_SAMESITE] = "samesite",
};

enum { H_TYPE, H_PATH, H_EXPECT, H_INTERVAL, H_TIMEOUT, H_RISE, H_FALL, H_MAX };
static const char *const health_keys[H_MAX] = {
	[H_TYPE] = "type",
	[H_PATH] = "path",
	[H_EXPECT] = "expect",
	[H_INTERVAL] = "interval",
	[H_TIMEOUT] = "timeout",
	[H_RISE] = "rise",
	[H_FALL] = "fall",
};

enum { HT_CONNECT_TIMEOUT, HT_BACKEND_HEADER, HT_MAX };
static const char *const http_keys[HT_MAX] = {
	[HT_CONNECT_TIMEOUT] = "connect_timeout",
	[HT_BACKEND_HEADER] = "backend_header",
};

/*
 * Header names that backend_header may not take: a second one of these in a
 * response head would change how the client frames the body or treats the
 * connection.
 */
static const char *const reserved_headers[] = {
	"Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
	"Proxy-Connection", "Upgrade", "Trailer",
};

enum { B_NAME, B_ADDRESS, B_PORT, B_WEIGHT, B_MAX };
static const char *const backend_keys[B_MAX] = {
	[B_NAME] = "name",
	[B_ADDRESS] = "address",
	[B_PORT] = "port",
	[B_WEIGHT] = "weight",
};

/* ------------------------------------------------------------------------ */
/* Sections                                                                  */

static int parse_interfaces(struct ctx *c, const struct field *f, struct limpet_config *cfg)
{
	char path[WALK_KEY_PATH_MAX], sub[WALK_KEY_PATH_MAX], q[VALUE_QUOTE_BUF];
	size_t n, i, j;
	int err, v;

	err = walk_expect_kind(&c->w, "", f, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	n = walk_seq_len(f->node);
	if (!n)
		return fail_field(c, "", f, "at least one interface is required");
	cfg->interfaces = calloc(n, sizeof(*cfg->interfaces));
	if (!cfg->interfaces)
		return walk_oom(&c->w);
	cfg->n_interfaces = n;
	walk_key_path(path, sizeof(path), "", f);

	for (i = 0; i < n; i++) {
		struct interface_config *ifc = &cfg->interfaces[i];
		struct field item = walk_seq_item(&c->w, f->node, i), fl[I_MAX];

		err = walk_open_mapping(&c->w, path, &item, sub, interface_keys, I_MAX, fl);
		if (!err)
			err = walk_require(&c->w, sub, item.node, &fl[I_NAME]);
		if (!err)
			err = get_string(c, sub, &fl[I_NAME], ifc->name, sizeof(ifc->name),
					 value_interface);
		if (err)
			return err;
		ifc->line = fl[I_NAME].line;
		for (j = 0; j < i; j++) {
			if (strcmp(cfg->interfaces[j].name, ifc->name))
				continue;
			return fail_field(c, sub, &fl[I_NAME],
					  "duplicate interface %s (first at line %d)",
					  value_quote(q, sizeof(q), ifc->name),
					  walk_item_key_line(&c->w, f->node, j, "name"));
		}
		ifc->xdp_mode = XDP_MODE_CFG_NATIVE;
		if (fl[I_XDP_MODE].node) {
			err = get_enum(c, sub, &fl[I_XDP_MODE], xdp_mode_names,
				       ARRAY_SIZE(xdp_mode_names), &v);
			if (err)
				return err;
			ifc->xdp_mode = v;
		}
	}
	return 0;
}

static int parse_metrics(struct ctx *c, const struct field *f, struct metrics_config *m)
{
	char sub[WALK_KEY_PATH_MAX];
	struct field fl[M_MAX];
	int err;

	err = walk_open_mapping(&c->w, "", f, sub, metrics_keys, M_MAX, fl);
	if (err || !fl[M_LISTEN].node)
		return err;
	err = get_string(c, sub, &fl[M_LISTEN], m->listen, sizeof(m->listen),
			 value_listen);
	if (!err)
		m->enabled = true;
	return err;
}

static int parse_nodes(struct ctx *c, const char *path, const struct field *f,
		       struct cluster_config *cl)
{
	char sub[WALK_KEY_PATH_MAX], item_path[WALK_KEY_PATH_MAX], q[VALUE_QUOTE_BUF];
	char a[INET6_ADDRSTRLEN];
	size_t n, i, j;
	int err;

	err = walk_expect_kind(&c->w, path, f, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	n = walk_seq_len(f->node);
	if (n > CONFIG_MAX_NODES)
		return fail_field(c, path, f, "at most %d nodes, got %zu", CONFIG_MAX_NODES, n);
	if (!n)
		return 0;
	cl->nodes = calloc(n, sizeof(*cl->nodes));
	if (!cl->nodes)
		return walk_oom(&c->w);
	cl->n_nodes = n;
	walk_key_path(sub, sizeof(sub), path, f);
	for (i = 0; i < n; i++) {
		struct node_config *nd = &cl->nodes[i];
		struct field item = walk_seq_item(&c->w, f->node, i), fl[N_MAX];

		err = walk_open_mapping(&c->w, sub, &item, item_path, node_keys, N_MAX, fl);
		if (!err)
			err = walk_require(&c->w, item_path, item.node, &fl[N_NAME]);
		if (!err)
			err = walk_require(&c->w, item_path, item.node, &fl[N_ADDRESS]);
		if (!err)
			err = get_string(c, item_path, &fl[N_NAME], nd->name, sizeof(nd->name),
					 value_name);
		if (!err)
			err = get_address(c, item_path, &fl[N_ADDRESS], &nd->address);
		if (err)
			return err;
		for (j = 0; j < i; j++) {
			if (!strcmp(cl->nodes[j].name, nd->name))
				return fail_field(c, item_path, &fl[N_NAME],
						  "duplicate node %s (first at line %d)",
						  value_quote(q, sizeof(q), nd->name),
						  walk_item_key_line(&c->w, f->node, j, "name"));
			if (ip_address_equal(&cl->nodes[j].address, &nd->address)) {
				format_ip_address(&nd->address, a, sizeof(a));
				return fail_field(c, item_path, &fl[N_ADDRESS],
						  "address %s is also node %s's (line %d)", a,
						  cl->nodes[j].name,
						  walk_item_key_line(&c->w, f->node, j, "address"));
			}
		}
	}
	return 0;
}

static int parse_cluster(struct ctx *c, const struct field *f, struct cluster_config *cl)
{
	char sub[WALK_KEY_PATH_MAX], q[VALUE_QUOTE_BUF];
	struct field fl[CL_MAX];
	int err;

	err = walk_open_mapping(&c->w, "", f, sub, cluster_keys, CL_MAX, fl);
	if (!err)
		err = walk_require(&c->w, sub, f->node, &fl[CL_NODE]);
	if (!err)
		err = get_string(c, sub, &fl[CL_NODE], cl->node, sizeof(cl->node), value_name);
	if (err)
		return err;
	strcpy(cl->announce_interface, "lo");
	cl->line = fl[CL_ANNOUNCE_INTERFACE].node ? fl[CL_ANNOUNCE_INTERFACE].line : f->line;
	if (fl[CL_ANNOUNCE_INTERFACE].node) {
		err = get_string(c, sub, &fl[CL_ANNOUNCE_INTERFACE], cl->announce_interface,
				 sizeof(cl->announce_interface), value_interface);
		if (err)
			return err;
	}
	if (fl[CL_NODES].node) {
		err = parse_nodes(c, sub, &fl[CL_NODES], cl);
		if (err)
			return err;
		if (cl->n_nodes && !config_cluster_self(cl))
			return fail_field(c, sub, &fl[CL_NODE], "node %s is not in cluster.nodes",
					  value_quote(q, sizeof(q), cl->node));
	}
	cl->enabled = true;
	return 0;
}

static int parse_cookie(struct ctx *c, const char *path, const struct field *f,
			struct cookie_config *ck)
{
	char sub[WALK_KEY_PATH_MAX];
	struct field fl[C_MAX];
	int err, v;

	err = walk_open_mapping(&c->w, path, f, sub, cookie_keys, C_MAX, fl);
	if (err)
		return err;
	if (fl[C_NAME].node) {
		err = get_string(c, sub, &fl[C_NAME], ck->name, sizeof(ck->name),
				 value_cookie_name);
		if (err)
			return err;
	}
	if (fl[C_TTL].node) {
		err = get_duration(c, sub, &fl[C_TTL], false, &ck->ttl_ms);
		if (err)
			return err;
	}
	if (fl[C_PATH].node) {
		err = get_string(c, sub, &fl[C_PATH], ck->path, sizeof(ck->path),
				 value_cookie_path);
		if (err)
			return err;
	}
	if (fl[C_DOMAIN].node) {
		err = get_string(c, sub, &fl[C_DOMAIN], ck->domain, sizeof(ck->domain),
				 value_cookie_domain);
		if (err)
			return err;
	}
	if (fl[C_SECURE].node) {
		err = get_bool(c, sub, &fl[C_SECURE], &ck->secure);
		if (err)
			return err;
	}
	if (fl[C_SAMESITE].node) {
		err = get_enum(c, sub, &fl[C_SAMESITE], samesite_names,
			       ARRAY_SIZE(samesite_names), &v);
		if (err)
			return err;
		ck->samesite = v;
	}
	/* Browsers drop a SameSite=None cookie that is not Secure. */
	if (ck->samesite == SAMESITE_NONE)
		ck->secure = true;
	return 0;
}

static int parse_headers(struct ctx *c, const char *path, const struct field *f,
			 struct affinity_config *a)
{
	char sub[WALK_KEY_PATH_MAX], q[VALUE_QUOTE_BUF];
	size_t n, i, j;
	int err;

	err = walk_expect_kind(&c->w, path, f, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	n = walk_seq_len(f->node);
	if (n > CONFIG_MAX_HEADERS)
		return fail_field(c, path, f, "at most %d headers, got %zu", CONFIG_MAX_HEADERS, n);
	walk_key_path(sub, sizeof(sub), path, f);
	for (i = 0; i < n; i++) {
		struct field item = walk_seq_item(&c->w, f->node, i);

		err = get_string(c, sub, &item, a->headers[i], sizeof(a->headers[i]),
				 value_header_name);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (!strcasecmp(a->headers[j], a->headers[i]))
				return fail_field(c, sub, &item,
						  "duplicate header %s (first at line %d)",
						  value_quote(q, sizeof(q), a->headers[i]),
						  walk_seq_item(&c->w, f->node, j).line);
	}
	a->n_headers = n;
	return 0;
}

static int parse_affinity(struct ctx *c, const char *path, const struct field *f,
			  struct service_config *svc)
{
	struct affinity_config *a = &svc->affinity;
	char sub[WALK_KEY_PATH_MAX];
	struct field fl[A_MAX];
	int err, v;

	err = walk_open_mapping(&c->w, path, f, sub, affinity_keys, A_MAX, fl);
	if (err)
		return err;
	if (fl[A_TYPE].node) {
		err = get_enum(c, sub, &fl[A_TYPE], affinity_names, ARRAY_SIZE(affinity_names),
			       &v);
		if (err)
			return err;
		a->type = v;
		if ((a->type == LIMPET_AFFINITY_COOKIE || a->type == LIMPET_AFFINITY_HEADER) &&
		    svc->mode != SERVICE_MODE_HTTP)
			return fail_field(c, sub, &fl[A_TYPE], "%s requires mode http",
					  affinity_names[a->type]);
	}
	if (fl[A_FALLBACK].node) {
		err = get_enum(c, sub, &fl[A_FALLBACK], fallback_names, ARRAY_SIZE(fallback_names),
			       &v);
		if (err)
			return err;
		a->fallback = v;
	}
	if (fl[A_POLICY].node) {
		err = get_enum(c, sub, &fl[A_POLICY], policy_names, ARRAY_SIZE(policy_names), &v);
		if (err)
			return err;
		a->policy = v;
	}
	if (fl[A_COOKIE].node) {
		err = parse_cookie(c, sub, &fl[A_COOKIE], &a->cookie);
		if (err)
			return err;
	}
	if (fl[A_HEADERS].node) {
		err = parse_headers(c, sub, &fl[A_HEADERS], a);
		if (err)
			return err;
	}
	if (a->type == LIMPET_AFFINITY_HEADER && !a->n_headers) {
		struct field h = fl[A_HEADERS];

		h.line = h.node ? h.line : walk_line(f->node);
		return fail_field(c, sub, &h, "affinity type header needs at least one header");
	}
	if (fl[A_REQUIRE_ALL].node) {
		err = get_bool(c, sub, &fl[A_REQUIRE_ALL], &a->require_all_headers);
		if (err)
			return err;
	}
	if (fl[A_IDLE_TTL].node) {
		err = get_duration(c, sub, &fl[A_IDLE_TTL], false, &a->idle_ttl_ms);
		if (err)
			return err;
	}
	return 0;
}

static int parse_health(struct ctx *c, const char *path, const struct field *f,
			struct health_config *h)
{
	char sub[WALK_KEY_PATH_MAX];
	struct field fl[H_MAX];
	int err, v;

	err = walk_open_mapping(&c->w, path, f, sub, health_keys, H_MAX, fl);
	if (err)
		return err;
	if (fl[H_TYPE].node) {
		err = get_enum(c, sub, &fl[H_TYPE], health_names, ARRAY_SIZE(health_names), &v);
		if (err)
			return err;
		h->type = v;
	}
	if (fl[H_PATH].node) {
		err = get_string(c, sub, &fl[H_PATH], h->path, sizeof(h->path),
				 value_http_path);
		if (err)
			return err;
	}
	if (fl[H_EXPECT].node) {
		err = get_u32(c, sub, &fl[H_EXPECT], 100, 599, &h->expect);
		if (err)
			return err;
	}
	if (fl[H_INTERVAL].node) {
		err = get_duration(c, sub, &fl[H_INTERVAL], false, &h->interval_ms);
		if (err)
			return err;
	}
	if (fl[H_TIMEOUT].node) {
		err = get_duration(c, sub, &fl[H_TIMEOUT], false, &h->timeout_ms);
		if (err)
			return err;
	}
	if (fl[H_RISE].node) {
		err = get_u32(c, sub, &fl[H_RISE], 1, HEALTH_COUNT_MAX, &h->rise);
		if (err)
			return err;
	}
	if (fl[H_FALL].node) {
		err = get_u32(c, sub, &fl[H_FALL], 1, HEALTH_COUNT_MAX, &h->fall);
		if (err)
			return err;
	}
	return 0;
}

static int parse_http(struct ctx *c, const char *path, const struct field *f,
		      struct http_config *h)
{
	char sub[WALK_KEY_PATH_MAX], q[VALUE_QUOTE_BUF];
	struct field fl[HT_MAX];
	size_t i;
	int err;

	err = walk_open_mapping(&c->w, path, f, sub, http_keys, HT_MAX, fl);
	if (err)
		return err;
	if (fl[HT_CONNECT_TIMEOUT].node) {
		err = get_duration(c, sub, &fl[HT_CONNECT_TIMEOUT], false, &h->connect_timeout_ms);
		if (err)
			return err;
		if (h->connect_timeout_ms > HTTP_CONNECT_TIMEOUT_MAX) {
			const char *s = walk_text(fl[HT_CONNECT_TIMEOUT].node);

			return fail_field(c, sub, &fl[HT_CONNECT_TIMEOUT], "must be at most 60s, got %s",
					  value_quote(q, sizeof(q), s));
		}
	}
	if (fl[HT_BACKEND_HEADER].node) {
		err = get_string(c, sub, &fl[HT_BACKEND_HEADER], h->backend_header,
				 sizeof(h->backend_header), value_header_or_empty);
		if (err)
			return err;
		for (i = 0; i < ARRAY_SIZE(reserved_headers); i++)
			if (!strcasecmp(h->backend_header, reserved_headers[i]))
				return fail_field(c, sub, &fl[HT_BACKEND_HEADER],
						  "%s would change how the response is framed or "
						  "the connection kept; use another name such as "
						  "X-Limpet-Backend",
						  value_quote(q, sizeof(q), h->backend_header));
	}
	return 0;
}

/*
 * The backends of a service parsed so far, by name and by address:port
 * (open addressing, index + 1, 0 free): a clash is found by one lookup, not
 * by comparing with every earlier backend (a service of 100,000 backends).
 * Earlier backends never clash with each other, so a lookup finds the first.
 */
struct backend_index {
	size_t mask;
	__u32 *by_name;
	__u32 *by_endpoint;
};

static int backend_index_init(struct backend_index *x, size_t n)
{
	size_t slots = 16;

	while (slots < 2 * n)
		slots *= 2;
	x->mask = slots - 1;
	x->by_name = calloc(slots, sizeof(*x->by_name));
	x->by_endpoint = calloc(slots, sizeof(*x->by_endpoint));
	return x->by_name && x->by_endpoint ? 0 : -ENOMEM;
}

static void backend_index_free(struct backend_index *x)
{
	free(x->by_name);
	free(x->by_endpoint);
}

/* limpet_fnv64() (limpet_head.h, through limpet_maps.h) over <len> bytes. */
static __u64 fnv1a(__u64 h, const void *data, size_t len)
{
	const __u8 *p = data;

	while (len--)
		h = limpet_fnv64(h, *p++);
	return h;
}

static size_t name_slot(const struct backend_index *x, const struct backend_config *b)
{
	return fnv1a(LIMPET_FNV64_BASIS, b->name, strlen(b->name)) & x->mask;
}

static size_t endpoint_slot(const struct backend_index *x, const struct backend_config *b)
{
	__u64 h = fnv1a(LIMPET_FNV64_BASIS, &b->address.family, sizeof(b->address.family));

	h = fnv1a(h, &b->address.addr, sizeof(b->address.addr));
	return fnv1a(h, &b->port, sizeof(b->port)) & x->mask;
}

static void backend_index_add(struct backend_index *x, const struct service_config *svc,
			      size_t i)
{
	size_t k;

	for (k = name_slot(x, &svc->backends[i]); x->by_name[k]; k = (k + 1) & x->mask)
		;
	x->by_name[k] = i + 1;
	for (k = endpoint_slot(x, &svc->backends[i]); x->by_endpoint[k]; k = (k + 1) & x->mask)
		;
	x->by_endpoint[k] = i + 1;
}

static int parse_backend(struct ctx *c, const char *path, const struct field *item,
			 const yaml_node_t *seq, struct service_config *svc,
			 struct backend_index *seen, size_t i)
{
	struct backend_config *b = &svc->backends[i];
	char sub[WALK_KEY_PATH_MAX], why[VALUE_WHY_MAX];
	struct field fl[B_MAX];
	size_t j, k;
	int err;

	err = walk_open_mapping(&c->w, path, item, sub, backend_keys, B_MAX, fl);
	if (!err)
		err = walk_require(&c->w, sub, item->node, &fl[B_NAME]);
	if (!err)
		err = walk_require(&c->w, sub, item->node, &fl[B_ADDRESS]);
	if (!err)
		err = get_string(c, sub, &fl[B_NAME], b->name, sizeof(b->name), value_name);
	if (err)
		return err;
	for (k = name_slot(seen, b); seen->by_name[k]; k = (k + 1) & seen->mask) {
		j = seen->by_name[k] - 1;
		if (rule_backend_name_clash(b, &svc->backends[j], why, sizeof(why)))
			return fail_field(c, sub, &fl[B_NAME], "%s (first at line %d)", why,
					  walk_item_key_line(&c->w, seq, j, "name"));
	}

	err = get_address(c, sub, &fl[B_ADDRESS], &b->address);
	if (err)
		return err;
	if (rule_backend_family(svc, b, why, sizeof(why)))
		return fail_field(c, sub, &fl[B_ADDRESS], "%s", why);

	b->port = svc->port;
	if (fl[B_PORT].node) {
		err = get_port(c, sub, &fl[B_PORT], &b->port);
		if (err)
			return err;
	}
	if (rule_backend_port(svc, b, why, sizeof(why)))
		return fail_field(c, sub, &fl[B_PORT], "%s", why);

	for (k = endpoint_slot(seen, b); seen->by_endpoint[k]; k = (k + 1) & seen->mask) {
		j = seen->by_endpoint[k] - 1;
		if (rule_backend_endpoint_clash(b, &svc->backends[j], why, sizeof(why)))
			return fail_field(c, sub, &fl[B_ADDRESS], "%s (line %d)", why,
					  walk_item_key_line(&c->w, seq, j, "address"));
	}

	b->weight = 1;
	if (fl[B_WEIGHT].node) {
		err = get_weight(c, sub, &fl[B_WEIGHT], &b->weight);
		if (err)
			return err;
	}
	backend_index_add(seen, svc, i);
	return 0;
}

static int parse_backends(struct ctx *c, const char *path, const struct field *f,
			  struct service_config *svc)
{
	char sub[WALK_KEY_PATH_MAX], why[VALUE_WHY_MAX];
	struct backend_index seen;
	size_t n, i;
	int err;

	err = walk_expect_kind(&c->w, path, f, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	n = walk_seq_len(f->node);
	c->n_backends += n;
	if (rule_backends_total(c->n_backends, why, sizeof(why)))
		return fail_field(c, path, f, "%s", why);
	if (!n) {
		warn_field(c, path, f, "no backends: the service has nowhere to send its clients "
			   "(add some, or `limpet backend add` them at run time)");
		return 0;
	}
	svc->backends = calloc(n, sizeof(*svc->backends));
	if (!svc->backends)
		return walk_oom(&c->w);
	svc->n_backends = n;
	if (backend_index_init(&seen, n)) {
		backend_index_free(&seen);
		return walk_oom(&c->w);
	}
	walk_key_path(sub, sizeof(sub), path, f);
	for (i = 0, err = 0; !err && i < n; i++) {
		struct field item = walk_seq_item(&c->w, f->node, i);

		err = parse_backend(c, sub, &item, f->node, svc, &seen, i);
	}
	backend_index_free(&seen);
	return err;
}

static void service_defaults(struct service_config *svc)
{
	struct affinity_config *a = &svc->affinity;
	struct health_config *h = &svc->health;

	svc->protocol = IPPROTO_TCP;
	svc->mode = SERVICE_MODE_L4;
	svc->forwarding = LIMPET_FWD_NAT;
	a->type = LIMPET_AFFINITY_CLIENT_IP;
	a->fallback = FALLBACK_CLIENT_IP;
	a->policy = POLICY_PIN;
	strcpy(a->cookie.name, "limpet");
	a->cookie.ttl_ms = 23 * MS_PER_H;
	strcpy(a->cookie.path, "/");
	a->cookie.samesite = SAMESITE_UNSET;
	a->idle_ttl_ms = 30 * MS_PER_M;
	svc->failover = FAILOVER_TEMPORARY;
	svc->drain_timeout_ms = 5 * MS_PER_M;
	svc->ring_size = LIMPET_RING_SIZE_DEFAULT;
	h->type = HEALTH_TCP;
	strcpy(h->path, "/");
	h->expect = 200;
	h->interval_ms = 2 * MS_PER_S;
	h->timeout_ms = 1 * MS_PER_S;
	h->rise = 2;
	h->fall = 3;
	svc->http.connect_timeout_ms = 2 * MS_PER_S;
	svc->http.backend_header[0] = '\0';
}

static int parse_ring_size(struct ctx *c, const char *path, const struct field *f, __u32 *out)
{
	char why[VALUE_WHY_MAX];
	const char *s;
	int err;

	err = walk_scalar(&c->w, path, f, &s);
	if (!err && value_prime(s, RING_SIZE_MIN, LIMPET_RING_SIZE_MAX, out, why, sizeof(why)))
		err = fail_field(c, path, f, "%s", why);
	return err;
}

static int parse_service(struct ctx *c, const char *path, const struct field *item,
			 const yaml_node_t *seq, struct limpet_config *cfg, size_t i)
{
	struct service_config *svc = &cfg->services[i];
	char sub[WALK_KEY_PATH_MAX], q[VALUE_QUOTE_BUF], addr[INET6_ADDRSTRLEN];
	char why[VALUE_WHY_MAX];
	struct field fl[S_MAX];
	size_t j;
	int err, v;

	service_defaults(svc);
	err = walk_open_mapping(&c->w, path, item, sub, service_keys, S_MAX, fl);
	if (!err)
		err = walk_require(&c->w, sub, item->node, &fl[S_NAME]);
	if (!err)
		err = walk_require(&c->w, sub, item->node, &fl[S_VIP]);
	if (!err)
		err = walk_require(&c->w, sub, item->node, &fl[S_PORT]);
	if (!err)
		err = walk_require(&c->w, sub, item->node, &fl[S_BACKENDS]);
	if (!err)
		err = get_string(c, sub, &fl[S_NAME], svc->name, sizeof(svc->name),
				 value_name);
	if (err)
		return err;
	for (j = 0; j < i; j++)
		if (!strcmp(cfg->services[j].name, svc->name))
			return fail_field(c, sub, &fl[S_NAME],
					  "duplicate service name %s (first at line %d)",
					  value_quote(q, sizeof(q), svc->name),
					  walk_item_key_line(&c->w, seq, j, "name"));

	err = get_address(c, sub, &fl[S_VIP], &svc->vip);
	if (!err)
		err = get_port(c, sub, &fl[S_PORT], &svc->port);
	if (err)
		return err;

	if (fl[S_MODE].node) {
		err = get_enum(c, sub, &fl[S_MODE], mode_names, ARRAY_SIZE(mode_names), &v);
		if (err)
			return err;
		svc->mode = v;
	}
	if (fl[S_PROTOCOL].node) {
		err = get_enum(c, sub, &fl[S_PROTOCOL], protocol_names,
			       ARRAY_SIZE(protocol_names), &v);
		if (err)
			return err;
		svc->protocol = v ? IPPROTO_UDP : IPPROTO_TCP;
		if (svc->protocol == IPPROTO_UDP && svc->mode != SERVICE_MODE_L4)
			return fail_field(c, sub, &fl[S_PROTOCOL], "udp requires mode l4");
	}
	if (fl[S_FORWARDING].node) {
		err = get_enum(c, sub, &fl[S_FORWARDING], forwarding_names,
			       ARRAY_SIZE(forwarding_names), &v);
		if (err)
			return err;
		svc->forwarding = v;
		if (svc->forwarding == LIMPET_FWD_DSR && svc->mode != SERVICE_MODE_L4)
			return fail_field(c, sub, &fl[S_FORWARDING], "dsr requires mode l4");
	}

	for (j = 0; j < i; j++) {
		const struct service_config *o = &cfg->services[j];

		if (o->port != svc->port || o->protocol != svc->protocol ||
		    !ip_address_equal(&o->vip, &svc->vip))
			continue;
		format_ip_address(&svc->vip, addr, sizeof(addr));
		return fail_field(c, sub, &fl[S_VIP],
				  "%s port %u/%s is already used by service %s (line %d)", addr,
				  svc->port, svc->protocol == IPPROTO_UDP ? "udp" : "tcp",
				  value_quote(q, sizeof(q), o->name),
				  walk_item_key_line(&c->w, seq, j, "vip"));
	}

	if (fl[S_AFFINITY].node) {
		err = parse_affinity(c, sub, &fl[S_AFFINITY], svc);
		if (err)
			return err;
	}
	if (fl[S_FAILOVER].node) {
		err = get_enum(c, sub, &fl[S_FAILOVER], failover_names,
			       ARRAY_SIZE(failover_names), &v);
		if (err)
			return err;
		svc->failover = v;
	}
	if (fl[S_DRAIN_TIMEOUT].node) {
		/* 0: a drained backend loses its sessions at once. */
		err = get_duration(c, sub, &fl[S_DRAIN_TIMEOUT], true, &svc->drain_timeout_ms);
		if (err)
			return err;
	}
	if (fl[S_RING_SIZE].node) {
		err = parse_ring_size(c, sub, &fl[S_RING_SIZE], &svc->ring_size);
		if (err)
			return err;
	}
	/* A TCP connect says nothing about a UDP service: unless the file asks
	 * for a check, a UDP service has none (a tcp default would fail on
	 * every backend and take the whole service out).
	 */
	if (svc->protocol == IPPROTO_UDP)
		svc->health.type = HEALTH_NONE;
	if (fl[S_HEALTH].node) {
		err = parse_health(c, sub, &fl[S_HEALTH], &svc->health);
		if (err)
			return err;
	}
	if (fl[S_HTTP].node) {
		if (svc->mode != SERVICE_MODE_HTTP)
			return fail_field(c, sub, &fl[S_HTTP], "requires mode http");
		err = parse_http(c, sub, &fl[S_HTTP], &svc->http);
		if (err)
			return err;
	}
	err = parse_backends(c, sub, &fl[S_BACKENDS], svc);
	if (err)
		return err;
	if (rule_ring_holds(svc, svc->n_backends, why, sizeof(why))) {
		const struct field *at = fl[S_RING_SIZE].node ? &fl[S_RING_SIZE] : &fl[S_BACKENDS];

		return fail_field(c, sub, at, "%s", why);
	}
	return 0;
}

static int parse_services(struct ctx *c, const struct field *f, struct limpet_config *cfg)
{
	char path[WALK_KEY_PATH_MAX];
	size_t n, i;
	int err;

	err = walk_expect_kind(&c->w, "", f, YAML_SEQUENCE_NODE);
	if (err)
		return err;
	n = walk_seq_len(f->node);
	if (n > LIMPET_MAX_SERVICES)
		return fail_field(c, "", f, "at most %d services, got %zu", LIMPET_MAX_SERVICES, n);
	if (!n) {
		warn_field(c, "", f, "no services: limpet would balance nothing");
		return 0;
	}
	cfg->services = calloc(n, sizeof(*cfg->services));
	if (!cfg->services)
		return walk_oom(&c->w);
	cfg->n_services = n;
	walk_key_path(path, sizeof(path), "", f);
	for (i = 0; i < n; i++) {
		struct field item = walk_seq_item(&c->w, f->node, i);

		err = parse_service(c, path, &item, f->node, cfg, i);
		if (err)
			return err;
	}
	return 0;
}

static int parse_root(struct ctx *c, yaml_node_t *root, struct limpet_config *cfg)
{
	struct field fl[T_MAX];
	char q[VALUE_QUOTE_BUF];
	__u64 v;
	int err;

	if (root->type != YAML_MAPPING_NODE)
		return walk_fail(&c->w, walk_line(root), "(root)", "expected a mapping, got %s",
				 walk_kind(root, q, sizeof(q)));
	err = walk_get_fields(&c->w, "", root, top_keys, T_MAX, fl);
	if (err)
		return err;

	strcpy(cfg->instance, "limpet");
	strcpy(cfg->secret_file, "/etc/limpet/secret");
	cfg->flow_table_size = LIMPET_FLOW_TABLE_DEFAULT;

	if (fl[T_INSTANCE].node) {
		err = get_string(c, "", &fl[T_INSTANCE], cfg->instance, sizeof(cfg->instance),
				 value_instance);
		if (err)
			return err;
	}
	err = walk_require(&c->w, "", root, &fl[T_INTERFACES]);
	if (!err)
		err = parse_interfaces(c, &fl[T_INTERFACES], cfg);
	if (err)
		return err;
	if (fl[T_SECRET_FILE].node) {
		err = get_string(c, "", &fl[T_SECRET_FILE], cfg->secret_file,
				 sizeof(cfg->secret_file), value_file_name);
		if (err)
			return err;
	}
	if (fl[T_METRICS].node) {
		err = parse_metrics(c, &fl[T_METRICS], &cfg->metrics);
		if (err)
			return err;
	}
	if (fl[T_CLUSTER].node) {
		err = parse_cluster(c, &fl[T_CLUSTER], &cfg->cluster);
		if (err)
			return err;
	}
	if (fl[T_FLOW_TABLE_SIZE].node) {
		err = get_uint(c, "", &fl[T_FLOW_TABLE_SIZE], FLOW_TABLE_MIN, FLOW_TABLE_MAX, &v);
		if (err)
			return err;
		cfg->flow_table_size = v;
	}
	if (fl[T_SERVICES].node)
		return parse_services(c, &fl[T_SERVICES], cfg);
	/* The mapping's line: where the key would go. */
	fl[T_SERVICES].line = walk_line(root);
	warn_field(c, "", &fl[T_SERVICES], "no services: limpet would balance nothing");
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Loading                                                                   */

/* Check <name> fits <cfg>; the start of both loaders. */
static int load_begin(const char *name, struct limpet_config *cfg, struct config_warnings *warn,
		      char *err, size_t err_len)
{
	if (!name || !cfg)
		return -EINVAL;
	memset(cfg, 0, sizeof(*cfg));
	if (warn)
		warn->n = 0;
	if (err && err_len)
		err[0] = '\0';
	if (strlen(name) >= sizeof(cfg->path)) {
		if (err && err_len)
			snprintf(err, err_len, "%s: cannot read: %s", name,
				 strerror(ENAMETOOLONG));
		return -ENAMETOOLONG;
	}
	return 0;
}

/* Walk the loaded document <root> of <c> into <cfg>; the end of both loaders. */
static int load_end(struct ctx *c, const char *name, int ret, yaml_node_t *root,
		    struct limpet_config *cfg)
{
	if (!ret) {
		strcpy(cfg->path, name);
		if (!root)
			ret = walk_fail(&c->w, 1, "(root)",
					"expected a mapping, got an empty document");
		else
			ret = parse_root(c, root, cfg);
	}
	walk_free(&c->w);
	if (ret)
		config_free(cfg);
	return ret;
}

int config_load(const char *path, struct limpet_config *cfg, char *err, size_t err_len)
{
	return config_load_warn(path, cfg, NULL, err, err_len);
}

int config_load_warn(const char *path, struct limpet_config *cfg, struct config_warnings *warn,
		     char *err, size_t err_len)
{
	struct ctx c = { .warn = warn };
	yaml_node_t *root = NULL;
	int ret = load_begin(path, cfg, warn, err, err_len);

	if (ret)
		return ret;
	ret = walk_load(&c.w, path, err, err_len, &root);
	return load_end(&c, path, ret, root, cfg);
}

int config_load_buffer(const char *name, const char *text, size_t len, struct limpet_config *cfg,
		       char *err, size_t err_len)
{
	struct ctx c = { 0 };
	yaml_node_t *root = NULL;
	char *buf;
	int ret;

	if (!text && len)
		return -EINVAL;
	ret = load_begin(name, cfg, NULL, err, err_len);
	if (ret)
		return ret;
	if (len > WALK_FILE_MAX) {
		if (err && err_len)
			snprintf(err, err_len, "%s: cannot read: %s", name, strerror(EFBIG));
		return -EFBIG;
	}
	/* libyaml reads <len> bytes; the NUL is for the line count of syntax errors. */
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	if (len)
		memcpy(buf, text, len);
	buf[len] = '\0';
	ret = walk_load_buffer(&c.w, name, buf, len, err, err_len, &root);
	ret = load_end(&c, name, ret, root, cfg);
	free(buf);
	return ret;
}
