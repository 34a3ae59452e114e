/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli.h - the limpet subcommands: one table for --help and argument parsing,
 * and the client side that talks to `limpet run` over the control socket.
 *
 * The synopsis in cli_commands[] is also the grammar: cli_build_request()
 * reads its positionals (SERVICE NAME ADDRESS W) and options ([--port P]
 * [--weight W] [--timeout DURATION] [--json]) from there, so the usage text
 * cannot drift from what the parser accepts.
 */
#ifndef LIMPET_CLI_H
#define LIMPET_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

#define CLI_ERR_MAX 512

struct cli_command {
	const char *name;	/* words after "limpet": "status", "backend add" */
	const char *args;	/* synopsis, e.g. "SERVICE NAME [--timeout DURATION]" */
	const char *help;	/* one line for --help */
	const char *cmd;	/* request "cmd"; NULL: run locally by main.c */
};

extern const struct cli_command cli_commands[];
extern const size_t cli_n_commands;

/* Full usage: global options and every command of cli_commands[]. */
void cli_usage(FILE *out);

/*
 * Parse a controller command: <argv>[0] is the subcommand ("status",
 * "stats", "backend", "reload", "keys"). On success returns 0, a new
 * request in <*request> and whether --json was given in <*json_output>.
 * Otherwise -EINVAL and one line in <err> (without the "limpet: " prefix),
 * e.g. "backend add: invalid address \"10.0.0.300\"".
 */
int cli_build_request(int argc, char **argv, json_t **request, bool *json_output, char *err,
		      size_t errlen);

/*
 * Run a controller command against <socket_path>. Prints the result on
 * stdout (a table, or with --json the result object) and any error as one
 * line "limpet: ..." on stderr. Mutating commands print nothing unless the
 * controller's result is a string, printed as one line. Returns the exit
 * status: 0 ok, 1 failure (unreachable, or an error reply), 2 usage error.
 */
int cli_run(const char *socket_path, int argc, char **argv);

#endif /* LIMPET_CLI_H */
