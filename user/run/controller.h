/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * controller.h - `limpet run` and `limpet down`: the long-running
 * controller and the teardown of an instance; and, for the command
 * handlers (run/commands.c), the few ways to read and change a running
 * controller.
 */
#ifndef LIMPET_CONTROLLER_H
#define LIMPET_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "model/model.h"

/* Both return the process exit status; errors are one line on stderr. */
int controller_run(const char *config_path, const char *socket_override);
int controller_down(const char *config_path, const char *socket_override);

/*
 * `limpet check`: the validation of run (config_load() and the host checks)
 * and nothing else; errors and warnings on stderr, no map, interface or file
 * touched. Each of the <n_peers> files in <peers> (other nodes' of a
 * cluster, read only) is compared with it: a warning for each difference
 * that makes the nodes route differently (model/peer.h). Returns the exit
 * status: 0 valid (warnings or not), 1 not (a peer file that does not load
 * included).
 */
int controller_check(const char *config_path, const char *const *peers, size_t n_peers);

struct controller;

/* The running model (read-only use). */
struct model *controller_model(struct controller *c);

/*
 * Make <next> the running model: program the data plane and the HTTP side
 * from it. On success <next>'s contents are taken (and the old model
 * freed); on failure the running model is applied again, <next> is freed,
 * and -errno is returned with one line in <err>. The one way a change
 * reaches the data plane, so no handler undoes anything by hand.
 */
int controller_commit(struct controller *c, struct model *next, char *err, size_t errlen);

/* The results of status and stats; NULL when the data plane cannot be read. */
json_t *controller_status(struct controller *c);
json_t *controller_status_rows(struct controller *c);
json_t *controller_stats(struct controller *c);

/* Full replies (control_reply_ok/error) for reload and keys rotate. */
json_t *controller_reload(struct controller *c);
json_t *controller_rotate_keys(struct controller *c);

/*
 * `limpet node drain` (<drain>, with an optional timeout) and `node undrain`:
 * a full reply. Drain withdraws every VIP of the node at once.
 */
json_t *controller_node(struct controller *c, bool drain, bool has_timeout, __u64 timeout_ms);

/* Leave the loop (the shutdown request of `limpet down`). */
void controller_stop(struct controller *c);

#endif /* LIMPET_CONTROLLER_H */
