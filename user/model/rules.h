/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * rules.h - what a backend must be to join a service, stated once: the YAML
 * schema (model/config.c) applies these rules to the file, the controller
 * (run/commands.c) to `backend add`, so both refuse the same backends with
 * the same words.
 *
 * Each rule returns 0, or -EINVAL with the problem in <why> (one line, no
 * location: the file adds " (first at line N)" and "FILE:LINE: KEY: ", the
 * controller "backend add: KEY: "). The rules that belong to one key of a
 * backend say which in <*key> ("name", "address", "port").
 */
#ifndef LIMPET_RULES_H
#define LIMPET_RULES_H

#include <stddef.h>

#include "model/config.h"

/* <be>'s address is of the family of <svc>'s VIP ("address"). */
int rule_backend_family(const struct service_config *svc, const struct backend_config *be,
			char *why, size_t len);

/* With dsr, <be> listens on the service port ("port"). */
int rule_backend_port(const struct service_config *svc, const struct backend_config *be,
		      char *why, size_t len);

/* Both of the above: does <be> fit <svc>? */
int rule_backend_fits(const struct service_config *svc, const struct backend_config *be,
		      const char **key, char *why, size_t len);

/* <be> and <other> of one service have different names ("name"). */
int rule_backend_name_clash(const struct backend_config *be, const struct backend_config *other,
			    char *why, size_t len);

/* ... and not the same address and port ("address"). */
int rule_backend_endpoint_clash(const struct backend_config *be,
				const struct backend_config *other, char *why, size_t len);

/* Both of the above: can <be> sit beside <other>? */
int rule_backend_pair(const struct backend_config *be, const struct backend_config *other,
		      const char **key, char *why, size_t len);

/* <n_total> backends over all services fit the data plane (LIMPET_MAX_BACKENDS). */
int rule_backends_total(size_t n_total, char *why, size_t len);

/* <svc>'s ring (ring_size) holds <n_backends> backends. */
int rule_ring_holds(const struct service_config *svc, size_t n_backends, char *why, size_t len);

#endif /* LIMPET_RULES_H */
