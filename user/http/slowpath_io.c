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

#include "base/clock.h"
#include "base/log.h"
#include "dp/cluster.h"
#include "dp/maps.h"
#include "http/affinity.h"
#include "http/segment.h"
#include "http/slowpath_io.h"
#include "http/xsk.h"

/* Retransmission and timeout resolution. */
#define TICK_MS 50

struct iface_ports {
	char name[LIMPET_NAME_MAX];
	struct xsk_port *ports;
	int n;
};

struct slowpath_io {
	struct dataplane *dp;
	struct slowpath *sp;
	struct rawsock raw;
	int epoll_fd;
	int timer_fd;
	struct iface_ports ifaces[LIMPET_XSK_MAX_IFACES];
	size_t n_ifaces;
	struct affinity *aff;
};

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

	return dp_flow_get(io->dp, key, val);
}

static int op_flow_set(void *ctx, const struct flow_key *key, const struct flow_value *val)
{
	struct slowpath_io *io = ctx;
	struct flow_value v = *val;

	v.atime_ns = clock_ns(CLOCK_MONOTONIC_COARSE);
	return dp_flow_set(io->dp, key, &v);
}

static int op_flow_del(void *ctx, const struct flow_key *key)
{
	struct slowpath_io *io = ctx;

	return dp_flow_del(io->dp, key);
}

static int op_pick(void *ctx, const struct slowpath_request *req, const __u32 *tried,
		   size_t n_tried, struct slowpath_backend *out, struct slowpath_service *svc,
		   struct slowpath_cookie *cookie)
{
	struct slowpath_io *io = ctx;

	return affinity_pick(io->aff, req, tried, n_tried, clock_wall_s(), out, svc, cookie);
}

static size_t op_cookie_line(void *ctx, const struct slowpath_backend *be,
			     const struct slowpath_cookie *cookie, char *buf, size_t size)
{
	struct slowpath_io *io = ctx;

	return affinity_cookie_line(io->aff, be, cookie, clock_wall_s(), buf, size);
}

static void op_bind_done(void *ctx, __u32 service_id, enum slowpath_bind_reason reason)
{
	struct slowpath_io *io = ctx;

	affinity_count_binding(io->aff, service_id, reason);
}

/* ---- receiving ----------------------------------------------------------- */

static void on_frame(void *ctx, const void *frame, size_t len)
{
	struct slowpath_io *io = ctx;
	struct segment seg;

	if (segment_parse(frame, len, &seg))
		return;
	slowpath_segment(io->sp, &seg, clock_mono_ms());
}

static void watch(struct slowpath_io *io, int fd, int op)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	epoll_ctl(io->epoll_fd, op, fd, &ev);
}

int spio_open(struct slowpath_io **out, struct dataplane *dp, struct affinity *aff,
	      int epoll_fd, char *err, size_t errlen)
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
		.cookie_line = op_cookie_line,
		.bind_done = op_bind_done,
	};
	struct slowpath_io *io = calloc(1, sizeof(*io));
	int ret;

	if (!io)
		return -ENOMEM;
	io->dp = dp;
	io->aff = aff;
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
		xsk_close_iface(io->ifaces[i].ports, io->ifaces[i].n);
	if (io->timer_fd >= 0)
		close(io->timer_fd);
	rawsock_close(&io->raw);
	slowpath_free(io->sp);
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
	n = xsk_open_iface(io->dp, ifname, (__u32)io->n_ifaces * LIMPET_XSK_MAX_QUEUES, &ip->ports,
			   err, errlen);
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

bool spio_handle(struct slowpath_io *io, int fd)
{
	size_t i;
	int q;

	if (fd == io->timer_fd) {
		__u64 expirations;

		if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			pr_debug("slow path: timer: %s", strerror(errno));
		slowpath_tick(io->sp, clock_mono_ms());
		return true;
	}
	for (i = 0; i < io->n_ifaces; i++) {
		for (q = 0; q < io->ifaces[i].n; q++) {
			struct xsk_port *p = xsk_port_at(io->ifaces[i].ports, q);

			if (xsk_port_fd(p) == fd) {
				/* This node's id, as the last dp_program() gave it. */
				slowpath_set_ts_tag(io->sp, dp_ts_tag(io->dp));
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

size_t spio_binding(const struct slowpath_io *io)
{
	return slowpath_binding(io->sp);
}
