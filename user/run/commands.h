/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * commands.h - the controller's side of the control socket: each request,
 * parsed by command_from_request() (proto/command.h), goes to the handler
 * of its enum command_id.
 */
#ifndef LIMPET_COMMANDS_H
#define LIMPET_COMMANDS_H

#include <jansson.h>

struct controller;

/*
 * The reply to <request> (a new reference, never NULL): the handler's, or
 * {"ok":false,"error":"..."} when the request does not parse, in the words
 * the command line and the configuration file use for the same problem.
 */
json_t *commands_serve(struct controller *c, const json_t *request);

#endif /* LIMPET_COMMANDS_H */
