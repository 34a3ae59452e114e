/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * address.h - host addresses on an interface, by rtnetlink: how a VIP is
 * offered to a BGP daemon (BIRD's or FRR's "direct"/"connected" routes pick
 * up every address of the announce interface).
 *
 * Addresses limpet adds carry its own IFA_PROTO tag, so a later run can
 * find and remove the ones an older configuration left behind.
 */
#ifndef LIMPET_DP_ADDRESS_H
#define LIMPET_DP_ADDRESS_H

#include <stddef.h>

#include "model/value.h"	/* struct ip_address */

/* The IFA_PROTO value on addresses limpet adds ('l'). */
#define DP_ADDRESS_PROTO 0x6c

/* Add <ip> as a host address (/32, /128) on <ifname>; there already: 0. -errno. */
int dp_address_add(const char *ifname, const struct ip_address *ip);

/* Remove <ip> from <ifname>; not there: 0. -errno. */
int dp_address_del(const char *ifname, const struct ip_address *ip);

/*
 * The host addresses on <ifname> tagged DP_ADDRESS_PROTO, at most <max> into
 * <out>. Returns how many there are (may exceed <max>) or -errno.
 */
int dp_address_list(const char *ifname, struct ip_address *out, size_t max);

/*
 * Let <ifname> accept IPv4 packets whose source is a local address
 * (net.ipv4.conf.<ifname>.accept_local = 1). Once a VIP is a host address,
 * a reply the data plane un-NATs and passes to the kernel (to resolve the
 * client's neighbour) has a local source, which the kernel would otherwise
 * drop as a martian. IPv6 has no such check. 0 or -errno.
 */
int dp_accept_local(const char *ifname);

#endif /* LIMPET_DP_ADDRESS_H */
