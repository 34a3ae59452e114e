/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * peer.h - what two nodes of a cluster must agree on, checked from their
 * two configuration files (`limpet check --config FILE --peer FILE`).
 *
 * Every node routes a new connection to the same backend, and takes over
 * another node's L4 connections, only if both have the same services
 * (VIP, port, protocol, mode, forwarding, ring size, affinity and failover
 * settings), the same backends in each (name, address, port, weight), the
 * same cluster node list and the same cookie keys. Health check settings
 * should match too: each node judges backends by its own checks.
 */
#ifndef LIMPET_PEER_H
#define LIMPET_PEER_H

#include "model/config.h"

/*
 * Add to <warn> one line for each way <peer> (another node's file) differs
 * from <self> in what the nodes must share; the lines name both files.
 * Returns how many differences were found.
 */
size_t peer_compare(const struct limpet_config *self, const struct limpet_config *peer,
		    struct config_warnings *warn);

#endif /* LIMPET_PEER_H */
