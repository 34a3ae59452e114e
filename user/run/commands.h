/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * commands.h - the controller's side of the control socket: one request
 * in, one reply out.
 */
#ifndef LIMPET_COMMANDS_H
#define LIMPET_COMMANDS_H

#include <jansson.h>

struct controller;

/* The reply to <request> (a new reference); see proto/control.h. */
json_t *commands_serve(struct controller *c, const json_t *request);

#endif /* LIMPET_COMMANDS_H */
