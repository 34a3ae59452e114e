/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * config.h - the YAML configuration, parsed and validated.
 *
 * config_load() fills a struct limpet_config with every default applied, or
 * fails with one line naming file, line and key. Durations are kept in
 * milliseconds. These are the configuration's types alone: what exists only
 * while limpet runs (ids, health verdicts, drains) is in model/model.h. Each
 * value is read by its parser in model/value.h, each backend checked by the
 * rules of model/rules.h; model/yaml.h walks the file.
 */
#ifndef LIMPET_CONFIG_H
#define LIMPET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "limpet_maps.h"
#include "model/value.h"		/* struct ip_address and the value parsers */

#define CONFIG_ERR_MAX 512

enum xdp_mode_cfg {
	XDP_MODE_CFG_NATIVE = 0,
	XDP_MODE_CFG_GENERIC = 1,
};

enum service_mode {
	SERVICE_MODE_L4 = 0,
	SERVICE_MODE_HTTP = 1,
};

enum affinity_fallback {
	FALLBACK_CLIENT_IP = 0,
	FALLBACK_NONE = 1,
};

enum affinity_policy {
	POLICY_PIN = 0,
	POLICY_REBALANCE = 1,
};

enum failover_mode {
	FAILOVER_NONE = 0,
	FAILOVER_TEMPORARY = 1,
	FAILOVER_STICKY = 2,
};

enum samesite_mode {
	SAMESITE_UNSET = 0,
	SAMESITE_LAX,
	SAMESITE_STRICT,
	SAMESITE_NONE,
};

enum health_type {
	HEALTH_TCP = 0,
	HEALTH_HTTP = 1,
	HEALTH_NONE = 2,
};

#define CONFIG_MAX_HEADERS 8
#define CONFIG_PATH_MAX 256

struct interface_config {
	char name[LIMPET_NAME_MAX];
	enum xdp_mode_cfg xdp_mode;
	int line;			/* of its name in the file, for messages */
};

struct backend_config {
	char name[LIMPET_NAME_MAX];
	struct ip_address address;
	__u16 port;			/* host order; default: the service port */
	__u32 weight;			/* default 1; 0 = no new flows */
};

struct cookie_config {
	char name[LIMPET_NAME_MAX];	/* default "limpet" */
	__u64 ttl_ms;			/* default 23h */
	char path[CONFIG_PATH_MAX];	/* default "/" */
	char domain[CONFIG_PATH_MAX];	/* default "" */
	bool secure;			/* default false */
	enum samesite_mode samesite;	/* default unset */
};

struct affinity_config {
	enum limpet_affinity type;	/* default client_ip */
	enum affinity_fallback fallback;	/* default client_ip */
	enum affinity_policy policy;	/* default pin */
	struct cookie_config cookie;
	char headers[CONFIG_MAX_HEADERS][LIMPET_NAME_MAX];
	size_t n_headers;
	bool require_all_headers;	/* default false */
	__u64 idle_ttl_ms;		/* default 30m */
};

struct health_config {
	enum health_type type;		/* default tcp */
	char path[CONFIG_PATH_MAX];	/* default "/" */
	__u32 expect;			/* default 200 */
	__u64 interval_ms;		/* default 2s */
	__u64 timeout_ms;		/* default 1s */
	__u32 rise;			/* default 2 */
	__u32 fall;			/* default 3 */
};

/* The http: block, for mode http services only. */
struct http_config {
	__u64 connect_timeout_ms;	/* default 2s, 1ms-60s: wait for a backend's
					 * SYN-ACK before trying the next one */
	char backend_header[LIMPET_NAME_MAX];	/* default "" (off); else a header name
						 * added to the first response head of
						 * each connection: "<name>: <backend>" */
};

struct service_config {
	char name[LIMPET_NAME_MAX];
	struct ip_address vip;
	__u16 port;			/* host order */
	__u8 protocol;			/* IPPROTO_TCP (default) / IPPROTO_UDP */
	enum service_mode mode;		/* default l4 */
	enum limpet_forwarding forwarding;	/* default nat */
	struct affinity_config affinity;
	enum failover_mode failover;	/* default temporary */
	__u64 drain_timeout_ms;		/* default 5m */
	__u32 ring_size;		/* default 65537, must be prime */
	struct health_config health;
	struct http_config http;
	struct backend_config *backends;
	size_t n_backends;
};

struct metrics_config {
	bool enabled;			/* true when metrics.listen is given */
	char listen[CONFIG_PATH_MAX];	/* host:port */
};

/* One balancer node of the cluster: section. */
struct node_config {
	char name[LIMPET_NAME_MAX];
	struct ip_address address;	/* where the other nodes reach it */
};

#define CONFIG_MAX_NODES 64

/*
 * The cluster: section. Without it limpet is a lone node and announces
 * nothing; with it, each VIP ready to serve is added as a host address on
 * announce_interface for a BGP daemon to announce.
 */
struct cluster_config {
	bool enabled;			/* true when the section is present */
	char node[LIMPET_NAME_MAX];	/* this node's name (required) */
	char announce_interface[LIMPET_NAME_MAX];	/* default "lo" */
	int line;			/* of announce_interface (or cluster:), for messages */
	struct node_config *nodes;	/* every node, this one included */
	size_t n_nodes;
};

struct limpet_config {
	char path[CONFIG_PATH_MAX];	/* the file this was read from */
	char instance[LIMPET_NAME_MAX];	/* default "limpet" */
	struct interface_config *interfaces;
	size_t n_interfaces;
	char secret_file[CONFIG_PATH_MAX];	/* default /etc/limpet/secret */
	struct metrics_config metrics;
	struct cluster_config cluster;
	__u32 flow_table_size;		/* default LIMPET_FLOW_TABLE_DEFAULT */
	struct service_config *services;
	size_t n_services;
};

/*
 * Parse and validate <path>. Returns 0 and fills <cfg>, or -EINVAL (or
 * -errno for I/O) and writes one line "FILE:LINE: KEY: problem" to <err>.
 * <cfg> must be released with config_free() after success only.
 */
int config_load(const char *path, struct limpet_config *cfg, char *err, size_t err_len);

/*
 * The same from <len> bytes at <text> (need not end in a NUL), reported
 * under <name> as if it were the file's path (tests and fuzzing).
 */
int config_load_buffer(const char *name, const char *text, size_t len, struct limpet_config *cfg,
		       char *err, size_t err_len);

/*
 * What a valid file says that is likely not what was meant (a service with
 * `backends: []`, a file without services): lines "FILE:LINE: KEY: problem",
 * the first CONFIG_WARN_MAX kept, <n> counting them all.
 */
#define CONFIG_WARN_MAX 8
struct config_warnings {
	size_t n;
	char line[CONFIG_WARN_MAX][CONFIG_ERR_MAX];
};

/* config_load(), also filling <warn> (zeroed first; NULL: not wanted). */
int config_load_warn(const char *path, struct limpet_config *cfg, struct config_warnings *warn,
		     char *err, size_t err_len);
void config_free(struct limpet_config *cfg);

/* Find a service / backend by name; NULL when absent. */
struct service_config *config_find_service(struct limpet_config *cfg, const char *name);
struct backend_config *config_find_backend(struct service_config *svc, const char *name);
/* This node's entry in cluster.nodes; NULL when the list is empty. */
const struct node_config *config_cluster_self(const struct cluster_config *cl);

/* The words the configuration uses for these settings. */
const char *config_protocol_name(__u8 protocol);
const char *config_mode_name(enum service_mode mode);
const char *config_forwarding_name(enum limpet_forwarding forwarding);
const char *config_affinity_name(enum limpet_affinity type);

#endif /* LIMPET_CONFIG_H */
