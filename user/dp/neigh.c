// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * neigh.c - keeping the backends' next hops resolved (neigh.h).
 */
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "dp/neigh.h"

#define DISCARD_PORT 9

/* One empty datagram to <a>'s discard port: the kernel resolves its neighbour. */
static void nudge(int fd4, int fd6, const struct ip_address *a)
{
	if (a->family == LIMPET_FAMILY_V4 && fd4 >= 0) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(DISCARD_PORT) };

		sin.sin_addr.s_addr = a->addr.a[0];
		sendto(fd4, "", 0, MSG_DONTWAIT, (void *)&sin, sizeof(sin));
	} else if (a->family == LIMPET_FAMILY_V6 && fd6 >= 0) {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
					     .sin6_port = htons(DISCARD_PORT) };

		memcpy(&sin6.sin6_addr, &a->addr, sizeof(sin6.sin6_addr));
		sendto(fd6, "", 0, MSG_DONTWAIT, (void *)&sin6, sizeof(sin6));
	}
}

void dp_nudge_neighbours(const struct model *model)
{
	const struct cluster_config *cl = &model->conf.cluster;
	int fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	size_t i, j;

	for (i = 0; i < model->n_services; i++)
		for (j = 0; j < model->services[i].n_backends; j++)
			nudge(fd4, fd6, &model->services[i].backends[j].conf.address);
	/* The other nodes: where segments of their connections are sent. */
	for (i = 0; cl->enabled && i < cl->n_nodes; i++)
		if (strcmp(cl->nodes[i].name, cl->node))
			nudge(fd4, fd6, &cl->nodes[i].address);
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
}
