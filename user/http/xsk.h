/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xsk.h - the slow path's AF_XDP receive sockets (libxdp's xsk API).
 *
 * One socket per RX queue of each interface the data plane is attached to,
 * each with its own small UMEM, receive only (the slow path sends through a
 * raw socket, which routes and resolves neighbours for it). The data plane
 * finds a socket in the xsks map at the interface's base slot (xsk_ifaces)
 * plus the queue; zero-copy where the driver has it, copy mode elsewhere.
 */
#ifndef LIMPET_XSK_H
#define LIMPET_XSK_H

#include <stddef.h>
#include <linux/types.h>

struct xsk_port;

struct dataplane;

/* Open sockets on every RX queue of <ifname>, registered in <dp>'s xsks at
 * base slot <base> and in its xsk_ifaces. Returns the number of queues or
 * -errno with one line in <err>; *<ports> gets an array of them.
 */
int xsk_open_iface(struct dataplane *dp, const char *ifname, __u32 base, struct xsk_port **ports,
		   char *err, size_t errlen);

/* Close the <n> sockets of one interface (closing takes them out of xsks). */
void xsk_close_iface(struct xsk_port *ports, int n);

int xsk_port_fd(const struct xsk_port *port);

/* Hand every frame waiting on <port> to <fn>; returns how many. */
int xsk_port_receive(struct xsk_port *port, void (*fn)(void *ctx, const void *frame, size_t len),
		     void *ctx);

/* The i-th port of an array from xsk_open_iface(). */
struct xsk_port *xsk_port_at(struct xsk_port *ports, int i);

#endif /* LIMPET_XSK_H */
