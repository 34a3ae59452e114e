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

void dp_nudge_neighbours(const struct model *model)
{
	int fd4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int fd6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	size_t i, j;

	for (i = 0; i < model->n_services; i++) {
		const struct service *svc = &model->services[i];

		for (j = 0; j < svc->n_backends; j++) {
			const struct ip_address *a = &svc->backends[j].conf.address;

			if (a->family == LIMPET_FAMILY_V4 && fd4 >= 0) {
				struct sockaddr_in sin = { .sin_family = AF_INET,
							   .sin_port = htons(DISCARD_PORT) };

				sin.sin_addr.s_addr = a->addr.a[0];
				sendto(fd4, "", 0, MSG_DONTWAIT, (void *)&sin, sizeof(sin));
			} else if (a->family == LIMPET_FAMILY_V6 && fd6 >= 0) {
				struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
							     .sin6_port = htons(DISCARD_PORT) };

				memcpy(&sin6.sin6_addr, &a->addr, sizeof(sin6.sin6_addr));
				sendto(fd6, "", 0, MSG_DONTWAIT, (void *)&sin6, sizeof(sin6));
			}
		}
	}
	if (fd4 >= 0)
		close(fd4);
	if (fd6 >= 0)
		close(fd6);
}
