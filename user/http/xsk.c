// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xsk.c - the slow path's AF_XDP receive sockets (see xsk.h).
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xdp/xsk.h>

#include "dp/maps.h"
#include "http/segment.h"
#include "http/xsk.h"
#include "limpet_maps.h"

/* Small: only first request segments and response heads come this way. */
#define FRAMES 1024
#define FRAME_SIZE XSK_UMEM__DEFAULT_FRAME_SIZE
/* The slow path sizes its packets for a whole frame. */
_Static_assert(FRAME_SIZE <= SEG_FRAME_MAX, "frames larger than the slow path expects");
#define RING_SIZE 512

struct xsk_port {
	struct xsk_socket *xsk;
	struct xsk_umem *umem;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	void *area;
};

/* RX queues of <ifname>, as sysfs lists them (at least one). */
static int count_rx_queues(const char *ifname)
{
	char path[128];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	dir = opendir(path);
	if (!dir)
		return 1;
	while ((d = readdir(dir)))
		if (!strncmp(d->d_name, "rx-", 3))
			n++;
	closedir(dir);
	if (n > LIMPET_XSK_MAX_QUEUES)
		n = LIMPET_XSK_MAX_QUEUES;
	return n ? n : 1;
}

static void port_close(struct xsk_port *p)
{
	if (p->xsk)
		xsk_socket__delete(p->xsk);
	if (p->umem)
		xsk_umem__delete(p->umem);
	if (p->area)
		munmap(p->area, (size_t)FRAMES * FRAME_SIZE);
	memset(p, 0, sizeof(*p));
}

static int port_open(struct xsk_port *p, const char *ifname, __u32 queue)
{
	struct xsk_umem_config ucfg = {
		.fill_size = FRAMES,
		.comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
	};
	/* The data plane's own program redirects here: libxdp loads none.
	 * bind_flags 0: zero-copy if the driver can, else copy mode.
	 */
	struct xsk_socket_config scfg = {
		.rx_size = RING_SIZE,
		.tx_size = 0,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = 0,
	};
	__u32 idx, i;
	int ret;

	p->area = mmap(NULL, (size_t)FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->area == MAP_FAILED) {
		p->area = NULL;
		return -ENOMEM;
	}
	ret = xsk_umem__create(&p->umem, p->area, (__u64)FRAMES * FRAME_SIZE, &p->fill, &p->comp,
			       &ucfg);
	if (ret)
		return ret;
	ret = xsk_socket__create(&p->xsk, ifname, queue, p->umem, &p->rx, NULL, &scfg);
	if (ret)
		return ret;
	if (xsk_ring_prod__reserve(&p->fill, FRAMES, &idx) != FRAMES)
		return -ENOMEM;
	for (i = 0; i < FRAMES; i++)
		*xsk_ring_prod__fill_addr(&p->fill, idx + i) = (__u64)i * FRAME_SIZE;
	xsk_ring_prod__submit(&p->fill, FRAMES);
	return 0;
}

int xsk_open_iface(struct dataplane *dp, const char *ifname, __u32 base, struct xsk_port **ports,
		   char *err, size_t errlen)
{
	__u32 ifindex = if_nametoindex(ifname);
	struct xsk_iface_value val = { .base = base };
	struct xsk_port *arr;
	int n, i, ret = 0;

	if (!ifindex) {
		snprintf(err, errlen, "interface '%s' not found", ifname);
		return -ENODEV;
	}
	n = count_rx_queues(ifname);
	arr = calloc((size_t)n, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		__u32 slot = base + (__u32)i;
		int fd;

		ret = port_open(&arr[i], ifname, (__u32)i);
		if (ret) {
			snprintf(err, errlen, "cannot open an AF_XDP socket on %s queue %d: %s",
				 ifname, i, strerror(-ret));
			break;
		}
		fd = xsk_socket__fd(arr[i].xsk);
		ret = dp_set_xsk(dp, slot, fd);
		if (ret) {
			snprintf(err, errlen, "cannot register the AF_XDP socket of %s: %s",
				 ifname, strerror(-ret));
			break;
		}
	}
	val.n_queues = (__u32)n;
	if (!ret) {
		ret = dp_set_xsk_iface(dp, ifindex, &val);
		if (ret)
			snprintf(err, errlen, "cannot register %s for the slow path: %s", ifname,
				 strerror(-ret));
	}
	if (ret) {
		for (i = 0; i < n; i++)
			port_close(&arr[i]);
		free(arr);
		return ret < 0 ? ret : -EIO;
	}
	*ports = arr;
	return n;
}

void xsk_close_iface(struct xsk_port *ports, int n)
{
	int i;

	/* Closing a socket removes it from the xsks map. */
	for (i = 0; i < n; i++)
		port_close(&ports[i]);
	free(ports);
}

int xsk_port_fd(const struct xsk_port *port)
{
	return xsk_socket__fd(port->xsk);
}

struct xsk_port *xsk_port_at(struct xsk_port *ports, int i)
{
	return &ports[i];
}

int xsk_port_receive(struct xsk_port *p, void (*fn)(void *ctx, const void *frame, size_t len),
		     void *ctx)
{
	__u32 idx_rx = 0, idx_fill = 0, n, i;

	n = xsk_ring_cons__peek(&p->rx, RING_SIZE, &idx_rx);
	if (!n)
		return 0;
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx_rx + i);

		fn(ctx, xsk_umem__get_data(p->area, d->addr), d->len);
	}
	/* Every frame goes straight back to the fill ring. */
	while (xsk_ring_prod__reserve(&p->fill, n, &idx_fill) != n)
		;
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&p->rx, idx_rx + i);

		*xsk_ring_prod__fill_addr(&p->fill, idx_fill + i) =
			xsk_umem__extract_addr(d->addr);
	}
	xsk_ring_prod__submit(&p->fill, n);
	xsk_ring_cons__release(&p->rx, n);
	return (int)n;
}
