// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * maps.c - every userspace read and write of a BPF map (maps.h).
 *
 * Who writes which map:
 *   vips, backends, rings,        dp/program.c, from the model (the data
 *   rev_nat,                      plane only reads them)
 *   service_names, backend_names
 *   prev_rings, ring_grace        dp/program.c, as it swaps rings; emptied
 *                                 on the controller's tick
 *   flows                         the data plane; the slow path's bindings
 *                                 (http/slowpath_io.c); read by reports
 *   service_stats, backend_stats, the data plane; reset by dp/program.c
 *   global_stats                  when an id changes hands
 *   cookie_keys, http_affinity    http/keyring.c and http/http.c
 *   backend_tags, http_services,  dp/route.c, from the model (placement
 *   placements                    tables built by dp/placement.c)
 *   route_sessions                the slow path (through these functions)
 *                                 and the data plane; dp/program.c forgets
 *                                 a retired service's entries
 *   http_bind_stats               the data plane; reset by dp/program.c
 *                                 when a service id changes hands
 *   cluster                       dp/cluster.c, from the model
 *   routing                       dp/routing.c, from the kernel's rules
 *                                 and routes
 *   xsks, xsk_ifaces              http/xsk.c
 *   affinity_progs, bind_progs,   dp/dataplane.c, at load
 *   syn_secret
 *   held_segments                 the data plane alone (bpf/lib/bind.h)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "base/clock.h"
#include "dp/internal.h"
#include "dp/maps.h"
#include "limpet_hash.h"
#include "limpet_placement.h"
#include "limpet_xdp.skel.h"

static const char *const stat_names[LIMPET_STAT_MAX] = {
	[LIMPET_STAT_PASS] = "pass",
	[LIMPET_STAT_PASS_UNPARSED] = "pass_unparsed",
	[LIMPET_STAT_PASS_FRAGMENT] = "pass_fragment",
	[LIMPET_STAT_FWD_NEW] = "fwd_new_flow",
	[LIMPET_STAT_FWD_EST] = "fwd_established",
	[LIMPET_STAT_RET] = "return",
	[LIMPET_STAT_FIB_PASS] = "fib_pass_to_kernel",
	[LIMPET_STAT_DROP_MALFORMED] = "drop_malformed",
	[LIMPET_STAT_DROP_NO_BACKEND] = "drop_no_backend",
	[LIMPET_STAT_DROP_FIB] = "drop_no_route",
	[LIMPET_STAT_DROP_TTL] = "drop_ttl",
	[LIMPET_STAT_STALE_FLOW] = "stale_flow_rebound",
	[LIMPET_STAT_SYNCOOKIE_SENT] = "syncookie_sent",
	[LIMPET_STAT_SYNCOOKIE_ACK_OK] = "syncookie_ack_ok",
	[LIMPET_STAT_SYNCOOKIE_BAD] = "syncookie_bad",
	[LIMPET_STAT_SLOWPATH] = "slowpath",
	[LIMPET_STAT_HTTP_NO_CONN] = "http_no_connection",
	[LIMPET_STAT_SYNCOOKIE_ERR] = "syncookie_error",
	[LIMPET_STAT_SLOWPATH_DOWN] = "slowpath_unavailable",
	[LIMPET_STAT_SPLICE_FWD] = "http_fwd_established",
	[LIMPET_STAT_SPLICE_RET] = "http_return",
	[LIMPET_STAT_SPLICE_RST] = "http_reset",
	[LIMPET_STAT_SPLICE_RST_KEPT] = "http_rst_inexact",
	[LIMPET_STAT_SPLICE_SYN] = "http_syn_on_flow",
	[LIMPET_STAT_ICMP_TRANSLATED] = "icmp_translated",
	[LIMPET_STAT_ICMP_TO_BACKEND] = "icmp_translated_to_backend",
	[LIMPET_STAT_HEADS_READ] = "http_heads_read_xdp",
	[LIMPET_STAT_SYNCOOKIE_OWN] = "syncookie_own",
	[LIMPET_STAT_SYN_STATELESS] = "l4_syn_stateless",
	[LIMPET_STAT_RET_STATELESS] = "return_stateless",
	[LIMPET_STAT_HTTP_BIND_SYN] = "http_bind_syn",
	[LIMPET_STAT_HTTP_BOUND_XDP] = "http_bound_xdp",
	[LIMPET_STAT_HTTP_BIND_DROP] = "http_bind_drop",
	[LIMPET_STAT_HTTP_BIND_ACK] = "http_bind_ack_only",
	[LIMPET_STAT_HTTP_BIND_FALLBACK] = "http_bind_to_slowpath",
	[LIMPET_STAT_CLUSTER_FORWARD] = "cluster_forwarded",
	[LIMPET_STAT_CLUSTER_UNREACHABLE] = "cluster_unreachable",
	[LIMPET_STAT_CLUSTER_ENCAP] = "cluster_encapsulated",
	[LIMPET_STAT_CLUSTER_DECAP] = "cluster_decapsulated",
	[LIMPET_STAT_FLOW_CACHE_HIT] = "fwd_flow_cache_hit",
};

const char *dp_stat_name(enum limpet_stat stat)
{
	return stat < LIMPET_STAT_MAX && stat_names[stat] ? stat_names[stat] : "unknown";
}


static int errno_or(int ret)
{
	return ret < 0 ? -errno : 0;
}

int dp_set_vip(struct dataplane *dp, const struct vip_key *key, const struct vip_value *val)
{
	return errno_or(bpf_map_update_elem(dp->vips_fd, key, val, BPF_ANY));
}

int dp_del_vip(struct dataplane *dp, const struct vip_key *key)
{
	int ret = bpf_map_delete_elem(dp->vips_fd, key);

	return ret && errno != ENOENT ? -errno : 0;
}

/*
 * Write <n> elements into map <fd>: <keys> and <vals> packed, <key_size>
 * and <val_size> bytes apart. One system call where the kernel batches;
 * else (or after a partial batch) one per element: writing one twice is
 * harmless.
 */
static int update_many(int fd, const void *keys, size_t key_size, const void *vals,
		       size_t val_size, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, batch);
	__u32 count = n, i;

	if (!n || !bpf_map_update_batch(fd, keys, vals, &count, &batch))
		return 0;
	for (i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, (const char *)keys + i * key_size,
					(const char *)vals + i * val_size, BPF_ANY))
			return -errno;
	return 0;
}

int dp_set_backend(struct dataplane *dp, __u32 id, const struct backend_value *val)
{
	int ret;

	dp->registry_fresh = false;
	ret = errno_or(bpf_map_update_elem(dp->backends_fd, &id, val, BPF_ANY));

	if (!ret && dp->backend_values && id < LIMPET_MAX_BACKENDS)
		dp->backend_values[id] = *val;
	return ret;
}

int dp_set_backends(struct dataplane *dp, const __u32 *ids, const struct backend_value *vals,
		    __u32 n)
{
	int ret;
	__u32 i;

	dp->registry_fresh = false;
	ret = update_many(dp->backends_fd, ids, sizeof(*ids), vals, sizeof(*vals), n);

	for (i = 0; !ret && dp->backend_values && i < n; i++)
		if (ids[i] < LIMPET_MAX_BACKENDS)
			dp->backend_values[ids[i]] = vals[i];
	return ret;
}

int dp_get_backend(struct dataplane *dp, __u32 id, struct backend_value *val)
{
	return errno_or(bpf_map_lookup_elem(dp->backends_fd, &id, val));
}

/*
 * A new mmapable inner ARRAY of <n_slots> __u32 named <name>: <head> (if
 * not NULL) in slot 0, then <table>. Its fd, or -errno.
 */
static int inner_table_new(const char *name, const __u32 *head, const __u32 *table,
			   __u32 size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	/* An array's elements are 8-byte aligned: each __u32 slot takes 8 bytes. */
	const size_t stride = 8;
	__u32 first = head ? 1 : 0, n_slots = size + first;
	size_t len = stride * (size_t)n_slots, i;
	char *slots;
	int inner, err;

	inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(__u32), sizeof(__u32), n_slots,
			       &opts);
	if (inner < 0)
		return -errno;
	/* The new table is no packet's yet: fill it in place, no system call per slot. */
	slots = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, inner, 0);
	if (slots == MAP_FAILED) {
		err = -errno;
		close(inner);
		return err;
	}
	if (head)
		*(__u32 *)slots = *head;
	for (i = 0; i < size; i++)
		*(__u32 *)(slots + stride * (i + first)) = table[i];
	munmap(slots, len);
	return inner;
}

int dp_ring_new(const __u32 *table, __u32 size)
{
	_Static_assert(LIMPET_RING_SIZE_SLOT == 0, "the table follows the size slot");
	return inner_table_new("limpet_ring", &size, table, size);
}

/* Swap every <fds>[i] in as the inner map of <ids>[i] of the map of maps <fd>. */
static int tables_swap(int fd, const __u32 *ids, const int *fds, __u32 n)
{
	/* Each update of a map of maps waits for an RCU grace period; a batch
	 * waits once (kernels >= 6.7), per element before.
	 */
	return update_many(fd, ids, sizeof(*ids), fds, sizeof(*fds), n);
}

int dp_rings_swap(struct dataplane *dp, const __u32 *service_ids, const int *fds, __u32 n)
{
	return tables_swap(dp->rings_fd, service_ids, fds, n);
}

int dp_keep_prev_rings(struct dataplane *dp, const __u32 *ids, __u32 n)
{
	__u64 now = clock_mono_ns(), until = now + LIMPET_RING_GRACE_NS;
	__u32 *keep = calloc(n + 1, sizeof(*keep)), *all = calloc(n + 1, sizeof(*all));
	__u64 *untils = calloc(n + 1, sizeof(*untils));
	int *fds = calloc(n + 1, sizeof(*fds));
	__u32 i, m = 0, k = 0, inner;
	int ret = keep && all && untils && fds ? 0 : -ENOMEM;

	for (i = 0; !ret && i < n; i++) {
		int fd;

		if (ids[i] >= LIMPET_MAX_SERVICES)
			continue;
		/* Within an earlier change's grace, that change's previous
		 * table stays; else the current one is kept, if there is one
		 * (a new service's first table bound no SYN before it).
		 */
		if (dp->ring_grace_until[ids[i]] <= now) {
			/* From user space, a map of maps gives the inner map's id. */
			if (bpf_map_lookup_elem(dp->rings_fd, &ids[i], &inner))
				continue;
			fd = bpf_map_get_fd_by_id(inner);
			if (fd < 0)
				continue;
			keep[m] = ids[i];
			fds[m++] = fd;
		}
		all[k] = ids[i];
		untils[k++] = until;
	}
	if (!ret)
		ret = tables_swap(dp->prev_rings_fd, keep, fds, m);
	if (!ret)
		ret = update_many(dp->ring_grace_fd, all, sizeof(*all), untils, sizeof(*untils), k);
	for (i = 0; !ret && i < k; i++)
		dp->ring_grace_until[all[i]] = until;
	for (i = 0; i < m; i++)
		close(fds[i]);
	free(keep);
	free(all);
	free(untils);
	free(fds);
	return ret;
}

int dp_expire_prev_rings(struct dataplane *dp)
{
	__u64 now = clock_mono_ns();
	__u32 *ids = NULL, n = 0, id;
	int *fds = NULL, empty = -1, ret = 0;

	for (id = 0; id < LIMPET_MAX_SERVICES; id++) {
		if (!dp->ring_grace_until[id] || dp->ring_grace_until[id] > now)
			continue;
		if (!ids) {
			ids = calloc(LIMPET_MAX_SERVICES, sizeof(*ids));
			fds = calloc(LIMPET_MAX_SERVICES, sizeof(*fds));
			/* Size 0: no table. Deleting from a map of maps waits for
			 * RCU once per element; one batch of updates waits once.
			 */
			empty = dp_ring_new(NULL, 0);
			if (!ids || !fds || empty < 0) {
				ret = empty < 0 && ids && fds ? empty : -ENOMEM;
				break;
			}
		}
		ids[n] = id;
		fds[n++] = empty;
	}
	if (!ret)
		ret = tables_swap(dp->prev_rings_fd, ids, fds, n);
	for (id = 0; !ret && id < n; id++)
		dp->ring_grace_until[ids[id]] = 0;
	if (empty >= 0)
		close(empty);
	free(ids);
	free(fds);
	return ret;
}

int dp_placement_new(const __u32 *table)
{
	return inner_table_new("limpet_place", NULL, table, LIMPET_PLACEMENT_SLOTS);
}

int dp_placements_swap(struct dataplane *dp, const __u32 *service_ids, const int *fds, __u32 n)
{
	return tables_swap(dp->placements_fd, service_ids, fds, n);
}

bool dp_has_placement(struct dataplane *dp, __u32 service_id)
{
	__u32 inner_id;

	return !bpf_map_lookup_elem(dp->placements_fd, &service_id, &inner_id);
}

int dp_read_placement(struct dataplane *dp, __u32 service_id, __u32 *table)
{
	__u32 inner_id, slot;
	int fd, ret = 0;

	if (bpf_map_lookup_elem(dp->placements_fd, &service_id, &inner_id))
		return -errno;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	for (slot = 0; !ret && slot < LIMPET_PLACEMENT_SLOTS; slot++)
		ret = errno_or(bpf_map_lookup_elem(fd, &slot, &table[slot]));
	close(fd);
	return ret;
}

int dp_clear_placement(struct dataplane *dp, __u32 service_id)
{
	int ret = bpf_map_delete_elem(dp->placements_fd, &service_id);

	return ret && errno != ENOENT ? -errno : 0;
}

int dp_set_http_service(struct dataplane *dp, __u32 service_id,
			const struct http_service_value *val)
{
	return errno_or(bpf_map_update_elem(dp->http_services_fd, &service_id, val, BPF_ANY));
}

int dp_get_http_service(struct dataplane *dp, __u32 service_id, struct http_service_value *val)
{
	return errno_or(bpf_map_lookup_elem(dp->http_services_fd, &service_id, val));
}

int dp_set_backend_tag(struct dataplane *dp, const struct backend_tag_key *key, __u32 backend_id)
{
	return errno_or(bpf_map_update_elem(dp->backend_tags_fd, key, &backend_id, BPF_ANY));
}

int dp_get_backend_tag(struct dataplane *dp, const struct backend_tag_key *key, __u32 *backend_id)
{
	return errno_or(bpf_map_lookup_elem(dp->backend_tags_fd, key, backend_id));
}

int dp_del_backend_tag(struct dataplane *dp, const struct backend_tag_key *key)
{
	int ret = bpf_map_delete_elem(dp->backend_tags_fd, key);

	return ret && errno != ENOENT ? -errno : 0;
}

int dp_next_backend_tag(struct dataplane *dp, const struct backend_tag_key *prev,
			struct backend_tag_key *next)
{
	return errno_or(bpf_map_get_next_key(dp->backend_tags_fd, prev, next));
}

int dp_route_session_get(struct dataplane *dp, const struct route_session_key *key,
			 struct route_session_value *val)
{
	return errno_or(bpf_map_lookup_elem(dp->route_sessions_fd, key, val));
}

int dp_route_session_set(struct dataplane *dp, const struct route_session_key *key,
			 const struct route_session_value *val)
{
	return errno_or(bpf_map_update_elem(dp->route_sessions_fd, key, val, BPF_ANY));
}

int dp_route_session_del(struct dataplane *dp, const struct route_session_key *key)
{
	int ret = bpf_map_delete_elem(dp->route_sessions_fd, key);

	return ret && errno != ENOENT ? -errno : 0;
}

/*
 * Every entry of the hash map <fd> (keys of <key_size>, values of
 * <val_size> bytes), a batch of BATCH at a time, to <each>, until it
 * returns non-zero (returned). A batch cursor is the kernel's bucket index.
 */
static int batch_walk(int fd, size_t key_size, size_t val_size,
		      int (*each)(void *walk, const void *key, const void *val), void *walk)
{
	enum { BATCH = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	char *keys = malloc(key_size * BATCH);
	char *vals = malloc(val_size * BATCH);
	__u64 in_batch = 0, out_batch = 0;
	bool first = true, done = false;
	int ret = 0;
	__u32 i;

	if (!keys || !vals) {
		ret = -ENOMEM;
		goto out;
	}
	while (!done && !ret) {
		__u32 count = BATCH;

		ret = bpf_map_lookup_batch(fd, first ? NULL : &in_batch, &out_batch, keys, vals,
					   &count, &opts);
		if (ret < 0 && errno != ENOENT) {
			ret = -errno;
			break;
		}
		done = ret < 0;	/* ENOENT: this was the last batch */
		ret = 0;
		first = false;
		in_batch = out_batch;
		for (i = 0; i < count && !ret; i++)
			ret = each(walk, keys + i * key_size, vals + i * val_size);
	}
out:
	free(keys);
	free(vals);
	return ret;
}

struct session_walk {
	dp_route_session_fn fn;
	void *ctx;
};

static int session_each(void *walk, const void *key, const void *val)
{
	const struct session_walk *w = walk;

	return w->fn(w->ctx, key, val);
}

int dp_route_session_walk(struct dataplane *dp, dp_route_session_fn fn, void *ctx)
{
	struct session_walk w = { fn, ctx };

	return batch_walk(dp->route_sessions_fd, sizeof(struct route_session_key),
			  sizeof(struct route_session_value), session_each, &w);
}

struct forget_ctx {
	__u32 service_id;
	struct route_session_key *keys;
	size_t n, cap;
};

static int collect_of_service(void *arg, const struct route_session_key *key,
			      const struct route_session_value *val)
{
	struct forget_ctx *c = arg;

	(void)val;
	if (key->service_id != c->service_id)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct route_session_key *grown = realloc(c->keys, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		c->keys = grown;
		c->cap = cap;
	}
	c->keys[c->n++] = *key;
	return 0;
}

int dp_route_sessions_forget_service(struct dataplane *dp, __u32 service_id)
{
	struct forget_ctx c = { .service_id = service_id };
	size_t i;
	int ret;

	/* Collect first: deleting while walking a hash map restarts the walk. */
	ret = dp_route_session_walk(dp, collect_of_service, &c);
	for (i = 0; !ret && i < c.n; i++)
		ret = dp_route_session_del(dp, &c.keys[i]);
	free(c.keys);
	return ret;
}

int dp_http_bind_counters(struct dataplane *dp, __u32 service_id, struct http_bind_counters *sum)
{
	struct http_bind_counters *percpu;
	int i, err;

	memset(sum, 0, sizeof(*sum));
	percpu = calloc(dp->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	err = errno_or(bpf_map_lookup_elem(dp->http_bind_stats_fd, &service_id, percpu));
	for (i = 0; !err && i < dp->ncpus; i++) {
		sum->bound_xdp += percpu[i].bound_xdp;
		sum->cookie_valid += percpu[i].cookie_valid;
		sum->heads_read += percpu[i].heads_read;
	}
	free(percpu);
	return err;
}

int dp_reset_http_bind_counters(struct dataplane *dp, __u32 service_id)
{
	struct http_bind_counters *zero = calloc(dp->ncpus, sizeof(*zero));
	int err;

	if (!zero)
		return -ENOMEM;
	err = errno_or(bpf_map_update_elem(dp->http_bind_stats_fd, &service_id, zero, BPF_ANY));
	free(zero);
	return err;
}

int dp_swap_ring(struct dataplane *dp, __u32 service_id, const __u32 *table, __u32 size)
{
	int inner = dp_ring_new(table, size), err;

	if (inner < 0)
		return inner;
	/* One update of the outer map: packets see the old table or the new. */
	err = errno_or(bpf_map_update_elem(dp->rings_fd, &service_id, &inner, BPF_ANY));
	close(inner);
	return err;
}

int dp_clear_ring(struct dataplane *dp, __u32 service_id)
{
	int ret = bpf_map_delete_elem(dp->rings_fd, &service_id);

	return ret && errno != ENOENT ? -errno : 0;
}

static int read_counters(struct dataplane *dp, int map_fd, __u32 id, struct limpet_counters *sum)
{
	struct limpet_counters *percpu;
	int i, err;

	memset(sum, 0, sizeof(*sum));
	percpu = calloc(dp->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	err = errno_or(bpf_map_lookup_elem(map_fd, &id, percpu));
	for (i = 0; !err && i < dp->ncpus; i++) {
		sum->packets += percpu[i].packets;
		sum->bytes += percpu[i].bytes;
		sum->new_flows += percpu[i].new_flows;
		sum->drops += percpu[i].drops;
	}
	free(percpu);
	return err;
}

static int reset_counters(struct dataplane *dp, int map_fd, __u32 id)
{
	struct limpet_counters *zero = calloc(dp->ncpus, sizeof(*zero));
	int err;

	if (!zero)
		return -ENOMEM;
	err = errno_or(bpf_map_update_elem(map_fd, &id, zero, BPF_ANY));
	free(zero);
	return err;
}

int dp_read_global(struct dataplane *dp, __u64 out[LIMPET_STAT_MAX])
{
	__u64 *percpu = calloc(dp->ncpus, sizeof(*percpu));
	__u32 stat;
	int i, err = 0;

	if (!percpu)
		return -ENOMEM;
	for (stat = 0; stat < LIMPET_STAT_MAX && !err; stat++) {
		out[stat] = 0;
		err = errno_or(bpf_map_lookup_elem(dp->global_stats_fd, &stat, percpu));
		for (i = 0; !err && i < dp->ncpus; i++)
			out[stat] += percpu[i];
	}
	free(percpu);
	return err;
}

int dp_service_counters(struct dataplane *dp, __u32 id, struct limpet_counters *sum)
{
	return read_counters(dp, dp->service_stats_fd, id, sum);
}

int dp_backend_counters(struct dataplane *dp, __u32 id, struct limpet_counters *sum)
{
	return read_counters(dp, dp->backend_stats_fd, id, sum);
}

int dp_reset_service_counters(struct dataplane *dp, __u32 id)
{
	return reset_counters(dp, dp->service_stats_fd, id);
}

int dp_reset_backends_counters(struct dataplane *dp, const __u32 *ids, __u32 n)
{
	/* A per-CPU element: one value per possible CPU, 8-byte aligned. */
	size_t per_elem = sizeof(struct limpet_counters) * (size_t)dp->ncpus;
	void *zero;
	int ret;

	_Static_assert(sizeof(struct limpet_counters) % 8 == 0, "per-CPU values are 8-aligned");
	if (!n)
		return 0;
	zero = calloc(n, per_elem);
	if (!zero)
		return -ENOMEM;
	ret = update_many(dp->backend_stats_fd, ids, sizeof(*ids), zero, per_elem, n);
	free(zero);
	return ret;
}

int dp_get_rev_nat(struct dataplane *dp, const struct rev_nat_key *key, struct rev_nat_value *val)
{
	return errno_or(bpf_map_lookup_elem(dp->rev_nat_fd, key, val));
}

int dp_del_rev_nat(struct dataplane *dp, const struct rev_nat_key *key)
{
	int ret = bpf_map_delete_elem(dp->rev_nat_fd, key);

	return ret && errno != ENOENT ? -errno : 0;
}

int dp_set_rev_nats(struct dataplane *dp, const struct rev_nat_key *keys,
		    const struct rev_nat_value *vals, __u32 n)
{
	return update_many(dp->rev_nat_fd, keys, sizeof(*keys), vals, sizeof(*vals), n);
}

int dp_read_rev_nat(struct dataplane *dp, struct rev_nat_key *keys, struct rev_nat_value *vals,
		    __u32 cap, __u32 *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, batch);
	struct rev_nat_key key, next;
	__u32 token = 0, count;
	bool first = true;
	int ret;

	*n = 0;
	while (*n < cap) {
		count = cap - *n;
		ret = bpf_map_lookup_batch(dp->rev_nat_fd, first ? NULL : &token, &token,
					   keys + *n, vals + *n, &count, &batch);
		if (ret < 0 && errno != ENOENT)
			break;
		*n += count;
		first = false;
		if (ret < 0)	/* ENOENT: the walk reached the end */
			return 0;
	}
	if (*n == cap)
		return -ENOSPC;
	/* No batches here: one entry at a time. */
	*n = 0;
	for (ret = bpf_map_get_next_key(dp->rev_nat_fd, NULL, &next); !ret && *n < cap;
	     ret = bpf_map_get_next_key(dp->rev_nat_fd, &key, &next)) {
		if (!bpf_map_lookup_elem(dp->rev_nat_fd, &next, &vals[*n]))
			keys[(*n)++] = next;
		key = next;
	}
	return ret && errno != ENOENT ? -errno : 0;
}

int dp_get_vip(struct dataplane *dp, const struct vip_key *key, struct vip_value *val)
{
	return errno_or(bpf_map_lookup_elem(dp->vips_fd, key, val));
}

int dp_next_vip(struct dataplane *dp, const struct vip_key *prev, struct vip_key *next)
{
	return errno_or(bpf_map_get_next_key(dp->vips_fd, prev, next));
}

int dp_get_service_name(struct dataplane *dp, __u32 id, struct service_name_value *val)
{
	return errno_or(bpf_map_lookup_elem(dp->service_names_fd, &id, val));
}

int dp_set_service_name(struct dataplane *dp, __u32 id, const struct service_name_value *val)
{
	int ret;

	dp->registry_fresh = false;
	ret = errno_or(bpf_map_update_elem(dp->service_names_fd, &id, val, BPF_ANY));

	if (!ret && dp->service_names && id < LIMPET_MAX_SERVICES)
		dp->service_names[id] = *val;
	return ret;
}

int dp_get_backend_name(struct dataplane *dp, __u32 id, struct backend_name_value *val)
{
	return errno_or(bpf_map_lookup_elem(dp->backend_names_fd, &id, val));
}

/* Entries 0..<n>-1 of the array <fd> into <vals>: bpf_map_lookup_batch,
 * falling back to one lookup per entry where the kernel lacks it.
 */
static int read_array(int fd, void *vals, __u32 value_size, __u32 n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, batch);
	__u32 *keys, done = 0, token = 0, count, i;
	int ret = 0;

	keys = malloc(sizeof(*keys) * (n ? n : 1));
	if (!keys)
		return -ENOMEM;
	while (done < n) {
		count = n - done;
		ret = bpf_map_lookup_batch(fd, done ? &token : NULL, &token, keys + done,
					   (char *)vals + (size_t)done * value_size, &count, &batch);
		if (ret < 0 && errno != ENOENT)
			break;
		done += count;
		if (ret < 0 || !count) /* ENOENT: the walk reached the end */
			break;
	}
	/* An array answers in key order; anything else: one lookup per entry. */
	for (i = 0; i < n && done == n; i++)
		if (keys[i] != i)
			done = 0;
	ret = 0;
	for (i = 0; done != n && i < n; i++)
		if (bpf_map_lookup_elem(fd, &i, (char *)vals + (size_t)i * value_size)) {
			ret = -errno;
			break;
		}
	free(keys);
	return ret;
}

int dp_read_service_names(struct dataplane *dp, struct service_name_value *vals, __u32 n)
{
	return read_array(dp->service_names_fd, vals, sizeof(*vals), n);
}

int dp_read_backend_names(struct dataplane *dp, struct backend_name_value *vals, __u32 n)
{
	return read_array(dp->backend_names_fd, vals, sizeof(*vals), n);
}

int dp_read_backends(struct dataplane *dp, struct backend_value *vals, __u32 n)
{
	return read_array(dp->backends_fd, vals, sizeof(*vals), n);
}

int dp_read_http_services(struct dataplane *dp, struct http_service_value *vals, __u32 n)
{
	return read_array(dp->http_services_fd, vals, sizeof(*vals), n);
}

int dp_set_backend_name(struct dataplane *dp, __u32 id, const struct backend_name_value *val)
{
	int ret;

	dp->registry_fresh = false;
	ret = errno_or(bpf_map_update_elem(dp->backend_names_fd, &id, val, BPF_ANY));

	if (!ret && dp->backend_names && id < LIMPET_MAX_BACKENDS)
		dp->backend_names[id] = *val;
	return ret;
}

int dp_set_backend_names(struct dataplane *dp, const __u32 *ids,
			 const struct backend_name_value *vals, __u32 n)
{
	int ret;
	__u32 i;

	dp->registry_fresh = false;
	ret = update_many(dp->backend_names_fd, ids, sizeof(*ids), vals, sizeof(*vals), n);

	for (i = 0; !ret && dp->backend_names && i < n; i++)
		if (ids[i] < LIMPET_MAX_BACKENDS)
			dp->backend_names[ids[i]] = vals[i];
	return ret;
}

int dp_flow_get(struct dataplane *dp, const struct flow_key *key, struct flow_value *val)
{
	return errno_or(bpf_map_lookup_elem(dp->flows_fd, key, val));
}

/*
 * An entry the controller changes or removes: its copy in the flow cache
 * goes, so the next packet sees the table. Written only when the slot
 * holds it (the data plane copies only L4 entries, which the controller
 * does not write), so the data plane's copies of other flows are left be.
 */
static int flow_cache_forget(struct dataplane *dp, const struct flow_key *key)
{
	__u32 slot = limpet_flow_cache_index(key);
	struct flow_cache_slot copy;
	int err;

	err = errno_or(bpf_map_lookup_elem(dp->flow_cache_fd, &slot, &copy));
	if (err || !copy.checked_ns || memcmp(&copy.key, key, sizeof(*key)))
		return err;
	copy.checked_ns = 0;
	return errno_or(bpf_map_update_elem(dp->flow_cache_fd, &slot, &copy, BPF_ANY));
}

int dp_flow_set(struct dataplane *dp, const struct flow_key *key, const struct flow_value *val)
{
	int err = errno_or(bpf_map_update_elem(dp->flows_fd, key, val, BPF_ANY));

	return err ? err : flow_cache_forget(dp, key);
}

int dp_flow_del(struct dataplane *dp, const struct flow_key *key)
{
	int err = errno_or(bpf_map_delete_elem(dp->flows_fd, key));

	return err ? err : flow_cache_forget(dp, key);
}

struct flow_walk {
	dp_flow_fn fn;
	void *ctx;
};

static int flow_each(void *walk, const void *key, const void *val)
{
	const struct flow_walk *w = walk;

	return w->fn(w->ctx, key, val);
}

int dp_flow_walk(struct dataplane *dp, dp_flow_fn fn, void *ctx)
{
	struct flow_walk w = { fn, ctx };

	return batch_walk(dp->flows_fd, sizeof(struct flow_key), sizeof(struct flow_value),
			  flow_each, &w);
}

int dp_set_cookie_keys(struct dataplane *dp, const struct cookie_keys_value *val)
{
	__u32 zero = 0;

	return errno_or(bpf_map_update_elem(dp->cookie_keys_fd, &zero, val, BPF_ANY));
}

int dp_set_http_affinity(struct dataplane *dp, __u32 service_id,
			 const struct http_affinity_value *val)
{
	return errno_or(bpf_map_update_elem(dp->http_affinity_fd, &service_id, val, BPF_ANY));
}

int dp_set_xsk(struct dataplane *dp, __u32 slot, int xsk_fd)
{
	return errno_or(bpf_map_update_elem(dp->xsks_fd, &slot, &xsk_fd, BPF_ANY));
}

int dp_set_xsk_iface(struct dataplane *dp, __u32 ifindex, const struct xsk_iface_value *val)
{
	return errno_or(bpf_map_update_elem(dp->xsk_ifaces_fd, &ifindex, val, BPF_ANY));
}

int dp_set_cluster(struct dataplane *dp, const struct cluster_value *val)
{
	__u32 zero = 0;

	return errno_or(bpf_map_update_elem(dp->cluster_fd, &zero, val, BPF_ANY));
}

int dp_set_routing(struct dataplane *dp, __u32 flags)
{
	__u32 zero = 0;

	return errno_or(bpf_map_update_elem(dp->routing_fd, &zero, &flags, BPF_ANY));
}

int dp_get_syn_secret(struct dataplane *dp, struct limpet_syncookie_key *key)
{
	int fd = bpf_map__fd(dp->skel->maps.syn_secret);
	__u32 zero = 0;

	return errno_or(bpf_map_lookup_elem(fd, &zero, key));
}

int dp_set_syn_secret(struct dataplane *dp, const struct limpet_syncookie_key *key)
{
	int fd = bpf_map__fd(dp->skel->maps.syn_secret);
	__u32 zero = 0;

	return errno_or(bpf_map_update_elem(fd, &zero, key, BPF_ANY));
}
