// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * rules.c - the backend rules of rules.h. The texts are the file's: a
 * backend refused by `backend add` is described as the YAML schema would
 * describe it, less the line numbers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/rules.h"
#include "model/value.h"

static const char *family_name(__u8 family)
{
	return family == LIMPET_FAMILY_V4 ? "IPv4" : "IPv6";
}

int rule_backend_family(const struct service_config *svc, const struct backend_config *be,
			char *why, size_t len)
{
	char addr[INET6_ADDRSTRLEN] = "";

	if (be->address.family == svc->vip.family)
		return 0;
	format_ip_address(&be->address, addr, sizeof(addr));
	if (why && len)
		snprintf(why, len, "%s address %s in an %s service",
			 family_name(be->address.family), addr, family_name(svc->vip.family));
	return -EINVAL;
}

int rule_backend_port(const struct service_config *svc, const struct backend_config *be,
		      char *why, size_t len)
{
	if (svc->forwarding != LIMPET_FWD_DSR || be->port == svc->port)
		return 0;
	if (why && len)
		snprintf(why, len, "dsr requires the service port %u, got %u", svc->port,
			 be->port);
	return -EINVAL;
}

int rule_backend_fits(const struct service_config *svc, const struct backend_config *be,
		      const char **key, char *why, size_t len)
{
	if (rule_backend_family(svc, be, why, len)) {
		*key = "address";
		return -EINVAL;
	}
	if (rule_backend_port(svc, be, why, len)) {
		*key = "port";
		return -EINVAL;
	}
	return 0;
}

int rule_backend_name_clash(const struct backend_config *be, const struct backend_config *other,
			    char *why, size_t len)
{
	char q[VALUE_QUOTE_BUF];

	if (strcmp(be->name, other->name))
		return 0;
	if (why && len)
		snprintf(why, len, "duplicate backend name %s",
			 value_quote(q, sizeof(q), be->name));
	return -EINVAL;
}

int rule_backend_endpoint_clash(const struct backend_config *be,
				const struct backend_config *other, char *why, size_t len)
{
	char q[VALUE_QUOTE_BUF];

	if (be->port != other->port || !ip_address_equal(&be->address, &other->address))
		return 0;
	if (why && len)
		snprintf(why, len, "same address and port as backend %s",
			 value_quote(q, sizeof(q), other->name));
	return -EINVAL;
}

int rule_backend_pair(const struct backend_config *be, const struct backend_config *other,
		      const char **key, char *why, size_t len)
{
	if (rule_backend_name_clash(be, other, why, len)) {
		*key = "name";
		return -EINVAL;
	}
	if (rule_backend_endpoint_clash(be, other, why, len)) {
		*key = "address";
		return -EINVAL;
	}
	return 0;
}

int rule_backends_total(size_t n_total, char *why, size_t len)
{
	if (n_total <= LIMPET_MAX_BACKENDS)
		return 0;
	if (why && len)
		snprintf(why, len, "too many backends: %zu in all services, at most %d", n_total,
			 LIMPET_MAX_BACKENDS);
	return -EINVAL;
}

int rule_ring_holds(const struct service_config *svc, size_t n_backends, char *why, size_t len)
{
	if (n_backends <= svc->ring_size)
		return 0;
	if (why && len)
		snprintf(why, len, "ring_size %u is smaller than the %zu backends", svc->ring_size,
			 n_backends);
	return -EINVAL;
}
