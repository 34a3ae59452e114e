/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli.h - the client side of the limpet commands: the usage text and
 * running a controller command over the control socket. The commands, their
 * grammar and their arguments are in proto/command.h.
 */
#ifndef LIMPET_CLI_H
#define LIMPET_CLI_H

#include <stdio.h>

#define CLI_ERR_MAX 512

/* Full usage: global options and every command of commands[] but the hidden. */
void cli_usage(FILE *out);

/*
 * Run a controller command against <socket_path>. Prints the result on
 * stdout (a table, or with --json the result object) and any error as one
 * line "limpet: ..." on stderr. Mutating commands print nothing unless the
 * controller's result is a string, printed as one line. Returns the exit
 * status: 0 ok, 1 failure (unreachable, or an error reply), 2 usage error.
 */
int cli_run(const char *socket_path, int argc, char **argv);

#endif /* LIMPET_CLI_H */
