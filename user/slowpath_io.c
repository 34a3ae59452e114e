// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * slowpath_io.c - the slow path's sockets, maps and timer (slowpath_io.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <bpf/bpf.h>

#include "slowpath_io.h"
#include "xsk.h"
#include "segment.h"
#include "limpet_hash.h"
#include "log.h"

/* Retransmission and timeout resolution. */
#define TICK_MS 50

struct iface_ports {
	char name[LIMPET_NAME_MAX];
	struct xsk_port *ports;
	int n;
};

/*
 * A service's Maglev table as last read, under the id of its ring map. The
 * controller swaps in a new map for every change and never writes one it
 * swapped in, so while the service's ring still has this id the copy is
 * exact; a pick then costs one lookup of the id instead of opening the map
 * and reading its slots.
 */
struct ring_cache {
	__u32 map_id;
	__u32 size;
	__u32 *table;	/* NULL: nothing read yet */
};

struct slowpath_io {
	struct dataplane *dp;
	struct slowpath *sp;
	struct rawsock raw;
	int epoll_fd;
	int timer_fd;
	struct iface_ports ifaces[LIMPET_XSK_MAX_IFACES];
	size_t n_ifaces;
	struct slowpath_service services[LIMPET_MAX_SERVICES];
	struct ring_cache rings[LIMPET_MAX_SERVICES];
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* The data plane's clock for flow access times (bpf_ktime_get_coarse_ns). */
static __u64 ktime_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

/* ---- slowpath_ops ---------------------------------------------------------- */

static int op_send(void *ctx, __u8 family, const void *pkt, size_t len)
{
	struct slowpath_io *io = ctx;
	int ret = rawsock_send(&io->raw, family, pkt, len);

	if (ret)
		pr_debug("slow path: send: %s", strerror(-ret));
	return ret;
}

static int op_flow_get(void *ctx, const struct flow_key *key, struct flow_value *val)
{
	struct slowpath_io *io = ctx;

	return bpf_map_lookup_elem(io->dp->flows_fd, key, val) ? -errno : 0;
}

static int op_flow_set(void *ctx, const struct flow_key *key, const struct flow_value *val)
{
	struct slowpath_io *io = ctx;
	struct flow_value v = *val;

	v.atime_ns = ktime_coarse_ns();
	return bpf_map_update_elem(io->dp->flows_fd, key, &v, BPF_ANY) ? -errno : 0;
}

static int op_flow_del(void *ctx, const struct flow_key *key)
{
	struct slowpath_io *io = ctx;

	return bpf_map_delete_elem(io->dp->flows_fd, key) ? -errno : 0;
}

static bool was_tried(__u32 id, const __u32 *tried, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tried[i] == id)
			return true;
	return false;
}

/* Service <service_id>'s current table, read again only after a swap. */
static const struct ring_cache *ring_get(struct slowpath_io *io, __u32 service_id)
{
	struct ring_cache *rc = &io->rings[service_id];
	__u32 map_id, size, *table;

	if (dp_ring_id(io->dp, service_id, &map_id))
		return NULL;
	if (rc->table && rc->map_id == map_id)
		return rc;
	if (dp_ring_read(io->dp, map_id, &table, &size))
		return NULL;
	free(rc->table);
	rc->map_id = map_id;
	rc->size = size;
	rc->table = table;
	return rc;
}

/*
 * The service's Maglev table, read as the data plane reads it: the slot of
 * the affinity hash, then onwards for a backend not yet tried. The
 * backend's state is read each time (health and drains change it in
 * place).
 */
static int op_pick(void *ctx, const struct segment *first, const __u32 *tried, size_t n_tried,
		   struct slowpath_backend *out, struct slowpath_service *svc)
{
	struct slowpath_io *io = ctx;
	const struct ring_cache *rc;
	struct backend_name_value name;
	struct backend_value be;
	struct vip_value vip;
	struct vip_key vk = { .addr = first->dst, .port = first->dport, .proto = IPPROTO_TCP,
			      .family = first->family };
	__u32 hash, id, step;

	if (bpf_map_lookup_elem(io->dp->vips_fd, &vk, &vip) || vip.mode != LIMPET_MODE_HTTP ||
	    vip.service_id >= LIMPET_MAX_SERVICES)
		return -EINVAL;
	rc = ring_get(io, vip.service_id);
	if (!rc)
		return -ENOENT;
	if (vip.affinity == LIMPET_AFFINITY_NONE)
		hash = limpet_hash_tuple(&first->src, &first->dst, first->sport, first->dport,
					 IPPROTO_TCP);
	else
		hash = limpet_hash_addr(&first->src);
	/* Maglev spreads each backend over the table: a few hundred slots
	 * from any start meet every other backend.
	 */
	for (step = 0; step < rc->size && step < 4096; step++) {
		id = rc->table[(hash + step) % rc->size];
		if (id >= LIMPET_MAX_BACKENDS || was_tried(id, tried, n_tried))
			continue;
		if (bpf_map_lookup_elem(io->dp->backends_fd, &id, &be) ||
		    be.state != LIMPET_BACKEND_ACTIVE || be.family != first->family)
			continue;
		memset(out, 0, sizeof(*out));
		out->id = id;
		out->gen = be.gen;
		out->service_id = vip.service_id;
		out->addr = be.addr;
		out->port = be.port;
		*svc = io->services[vip.service_id];
		/* The name goes into an inserted header and debug messages only. */
		if ((svc->backend_header[0] || log_get_level() >= LOG_LEVEL_DEBUG) &&
		    !bpf_map_lookup_elem(io->dp->backend_names_fd, &id, &name))
			snprintf(out->name, sizeof(out->name), "%s", name.name);
		return 0;
	}
	return -ENOENT;
}

/* ---- receiving ----------------------------------------------------------- */

static void on_frame(void *ctx, const void *frame, size_t len)
{
	struct slowpath_io *io = ctx;
	struct segment seg;

	if (segment_parse(frame, len, &seg))
		return;
	slowpath_segment(io->sp, &seg, now_ms());
}

static void watch(struct slowpath_io *io, int fd, int op)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	epoll_ctl(io->epoll_fd, op, fd, &ev);
}

int spio_open(struct slowpath_io **out, struct dataplane *dp, int epoll_fd, char *err,
	      size_t errlen)
{
	struct itimerspec tick = {
		.it_interval = { 0, TICK_MS * 1000000L },
		.it_value = { 0, TICK_MS * 1000000L },
	};
	struct slowpath_ops ops = {
		.send = op_send,
		.flow_get = op_flow_get,
		.flow_set = op_flow_set,
		.flow_del = op_flow_del,
		.pick = op_pick,
	};
	struct slowpath_io *io = calloc(1, sizeof(*io));
	int ret;

	if (!io)
		return -ENOMEM;
	io->dp = dp;
	io->epoll_fd = epoll_fd;
	io->raw.fd4 = io->raw.fd6 = -1;
	ops.ctx = io;
	io->sp = slowpath_new(&ops);
	io->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!io->sp || io->timer_fd < 0 || timerfd_settime(io->timer_fd, 0, &tick, NULL)) {
		snprintf(err, errlen, "cannot set up the slow path: %s", strerror(errno));
		spio_close(io);
		return -ENOMEM;
	}
	ret = rawsock_open(&io->raw, err, errlen);
	if (ret) {
		spio_close(io);
		return ret;
	}
	watch(io, io->timer_fd, EPOLL_CTL_ADD);
	*out = io;
	return 0;
}

void spio_close(struct slowpath_io *io)
{
	size_t i;

	if (!io)
		return;
	for (i = 0; i < io->n_ifaces; i++)
		xsk_close_iface(io->ifaces[i].ports, io->ifaces[i].n, io->dp->xsk_ifaces_fd);
	if (io->timer_fd >= 0)
		close(io->timer_fd);
	rawsock_close(&io->raw);
	slowpath_free(io->sp);
	for (i = 0; i < LIMPET_MAX_SERVICES; i++)
		free(io->rings[i].table);
	free(io);
}

int spio_add_iface(struct slowpath_io *io, const char *ifname, char *err, size_t errlen)
{
	struct iface_ports *ip;
	size_t i;
	int n, q;

	for (i = 0; i < io->n_ifaces; i++)
		if (!strcmp(io->ifaces[i].name, ifname))
			return 0;
	if (io->n_ifaces == LIMPET_XSK_MAX_IFACES) {
		snprintf(err, errlen, "the slow path serves at most %d interfaces",
			 LIMPET_XSK_MAX_IFACES);
		return -E2BIG;
	}
	ip = &io->ifaces[io->n_ifaces];
	n = xsk_open_iface(ifname, (__u32)io->n_ifaces * LIMPET_XSK_MAX_QUEUES, io->dp->xsks_fd,
			   io->dp->xsk_ifaces_fd, &ip->ports, err, errlen);
	if (n < 0)
		return n;
	snprintf(ip->name, sizeof(ip->name), "%s", ifname);
	ip->n = n;
	io->n_ifaces++;
	for (q = 0; q < n; q++)
		watch(io, xsk_port_fd(xsk_port_at(ip->ports, q)), EPOLL_CTL_ADD);
	pr_debug("slow path: %d AF_XDP socket(s) on %s", n, ifname);
	return 0;
}

void spio_set_service(struct slowpath_io *io, __u32 service_id,
		      const struct slowpath_service *svc)
{
	if (service_id < LIMPET_MAX_SERVICES)
		io->services[service_id] = *svc;
}

bool spio_handle(struct slowpath_io *io, int fd)
{
	size_t i;
	int q;

	if (fd == io->timer_fd) {
		__u64 expirations;

		if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			pr_debug("slow path: timer: %s", strerror(errno));
		slowpath_tick(io->sp, now_ms());
		return true;
	}
	for (i = 0; i < io->n_ifaces; i++) {
		for (q = 0; q < io->ifaces[i].n; q++) {
			struct xsk_port *p = xsk_port_at(io->ifaces[i].ports, q);

			if (xsk_port_fd(p) == fd) {
				while (xsk_port_receive(p, on_frame, io) > 0)
					;
				return true;
			}
		}
	}
	return false;
}

const struct slowpath_stats *spio_stats(const struct slowpath_io *io)
{
	return slowpath_stats(io->sp);
}

size_t spio_connections(const struct slowpath_io *io)
{
	return slowpath_connections(io->sp);
}
