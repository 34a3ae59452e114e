/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * slowpath_io.h - the slow path wired to the real world: AF_XDP sockets in,
 * a raw socket out, the data plane's maps for flows and backend choice, and
 * a timer for retransmissions. The controller owns one and feeds it the
 * file descriptors its epoll loop reports.
 */
#ifndef LIMPET_SLOWPATH_IO_H
#define LIMPET_SLOWPATH_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "http/slowpath.h"

struct dataplane;

struct slowpath_io;

/* Returns 0 or -errno with one line in <err>. <epoll_fd> gets every fd. */
struct affinity;

/* <aff> chooses the backends; it outlives the slow path. */
int spio_open(struct slowpath_io **out, struct dataplane *dp, struct affinity *aff,
	      int epoll_fd, char *err, size_t errlen);
void spio_close(struct slowpath_io *io);

/* Receive on every RX queue of <ifname> (idempotent). */
int spio_add_iface(struct slowpath_io *io, const char *ifname, char *err, size_t errlen);

/* Handle <fd> if it is one of ours; false otherwise. */
bool spio_handle(struct slowpath_io *io, int fd);

const struct slowpath_stats *spio_stats(const struct slowpath_io *io);
size_t spio_connections(const struct slowpath_io *io);
size_t spio_binding(const struct slowpath_io *io);

#endif /* LIMPET_SLOWPATH_IO_H */
