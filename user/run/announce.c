// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * announce.c - the announced VIPs of a cluster node (announce.h).
 *
 * Each sync reads what is on the interface rather than remembering what it
 * added, so a restarted controller, a reload that drops a service and an
 * operator's stray `ip addr del` all converge the same way.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "base/log.h"
#include "dp/address.h"
#include "run/announce.h"

#define ANNOUNCED_MAX (2 * LIMPET_MAX_SERVICES)

static bool listed(const struct ip_address *list, size_t n, const struct ip_address *ip)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ip_address_equal(&list[i], ip))
			return true;
	return false;
}

/* The distinct VIPs <m> wants announced, into <out>; their number. */
static size_t wanted(const struct model *m, struct ip_address *out, size_t max)
{
	size_t i, n = 0;

	if (!m->conf.cluster.enabled || m->node_draining)
		return 0;
	for (i = 0; i < m->n_services && n < max; i++) {
		const struct service *svc = &m->services[i];

		if (model_vip_ready(svc) && !listed(out, n, &svc->conf.vip))
			out[n++] = svc->conf.vip;
	}
	return n;
}

int announce_count(const struct model *m)
{
	static struct ip_address want[ANNOUNCED_MAX];

	return wanted(m, want, ANNOUNCED_MAX);
}

void announce_sync(const struct model *m)
{
	static struct ip_address want[ANNOUNCED_MAX], have[ANNOUNCED_MAX];
	static int last_err;
	const char *ifname = m->conf.cluster.announce_interface;
	char text[INET6_ADDRSTRLEN];
	size_t n_want, i;
	int n_have, ret;

	if (!m->conf.cluster.enabled)
		return;
	n_want = wanted(m, want, ANNOUNCED_MAX);
	n_have = dp_address_list(ifname, have, ANNOUNCED_MAX);
	if (n_have < 0) {
		if (n_have != last_err)
			pr_warn("announce: cannot read the addresses of %s: %s", ifname,
				strerror(-n_have));
		last_err = n_have;
		return;
	}
	last_err = 0;
	for (i = 0; i < (size_t)n_have && i < ANNOUNCED_MAX; i++) {
		if (listed(want, n_want, &have[i]))
			continue;
		format_ip_address(&have[i], text, sizeof(text));
		ret = dp_address_del(ifname, &have[i]);
		if (ret)
			pr_warn("announce: cannot withdraw %s from %s: %s", text, ifname,
				strerror(-ret));
		else
			pr_info("announce: withdrew %s from %s", text, ifname);
	}
	for (i = 0; i < n_want; i++) {
		if (listed(have, (size_t)n_have, &want[i]))
			continue;
		format_ip_address(&want[i], text, sizeof(text));
		ret = dp_address_add(ifname, &want[i]);
		if (ret)
			pr_warn("announce: cannot add %s to %s: %s", text, ifname,
				strerror(-ret));
		else
			pr_info("announce: added %s to %s", text, ifname);
	}
}

int announce_withdraw(const char *ifname)
{
	static struct ip_address have[ANNOUNCED_MAX];
	int n, i, ret = 0, r;

	n = dp_address_list(ifname, have, ANNOUNCED_MAX);
	if (n < 0)
		return n == -ENODEV ? 0 : n;
	for (i = 0; i < n && i < ANNOUNCED_MAX; i++) {
		r = dp_address_del(ifname, &have[i]);
		if (r)
			ret = r;
	}
	return ret;
}
