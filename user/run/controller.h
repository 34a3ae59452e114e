/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * controller.h - `limpet run` and `limpet down`: the long-running
 * controller and the teardown of an instance.
 */
#ifndef LIMPET_CONTROLLER_H
#define LIMPET_CONTROLLER_H

/* Both return the process exit status; errors are one line on stderr. */
int controller_run(const char *config_path, const char *socket_override);
int controller_down(const char *config_path, const char *socket_override);

#endif /* LIMPET_CONTROLLER_H */
