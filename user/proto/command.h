/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * command.h - the limpet commands declared as data: one table for --help,
 * the man page, the command line, the control socket and main.c's dispatch.
 *
 * A command is spelled once, in commands[]: its words ("backend add"), its
 * synopsis, its help line and the request "cmd" it travels as (NULL: run in
 * the binary by main.c). For a controller command the synopsis is also the
 * grammar: an upper-case word is a positional of a kind (SERVICE, NAME,
 * ADDRESS, P, W, DURATION), "[--opt KIND]" an option, "[--json]" a flag.
 * Each kind names the request member it travels in and the parser of
 * model/value.h that checks it, so the command line (command_from_argv())
 * and the socket (command_from_request()) fill the same struct command_args
 * and refuse the same bad value with the same line:
 *
 *	backend add: address: expected a unicast address, got "0.0.0.0"
 *
 * On the wire (proto/control.h) a request is {"cmd": "backend_add",
 * "service": "web", "name": "b3", "address": "10.20.0.13", "port": 8080,
 * "weight": 5}: names and addresses are strings, port, weight and
 * timeout_ms JSON integers (checked as their decimal text, timeout_ms as
 * "<N>ms"). A member the command does not take is an error, and so is a
 * missing positional.
 */
#ifndef LIMPET_COMMAND_H
#define LIMPET_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <netinet/in.h>
#include <linux/types.h>
#include <jansson.h>

#include "model/value.h"

#define COMMAND_ERR_MAX 512

enum command_id {
	CMD_RUN,
	CMD_DOWN,
	CMD_CHECK,		/* validate a file as run would; local */
	CMD_STATUS,
	CMD_STATS,
	CMD_TOP,		/* live view from status and stats; local */
	CMD_BACKEND_ADD,
	CMD_BACKEND_REMOVE,
	CMD_BACKEND_DRAIN,
	CMD_BACKEND_UNDRAIN,
	CMD_BACKEND_WEIGHT,
	CMD_RELOAD,
	CMD_KEYS_ROTATE,
	CMD_NODE_DRAIN,		/* cluster: withdraw this node's VIPs */
	CMD_NODE_UNDRAIN,
	CMD_VERSION,
	CMD_HELP,
	CMD_SHUTDOWN,		/* `limpet down` stops a running controller */
	CMD_STATUS_ROWS,	/* `limpet status` without --json asks this */
	CMD_MAX
};

struct command {
	const char *name;	/* words after "limpet": "status", "backend add" */
	const char *synopsis;	/* "SERVICE NAME [--timeout DURATION]"; the grammar */
	const char *help;	/* one line for --help and the man page */
	const char *request;	/* request "cmd"; NULL: run in the binary by main.c */
	bool hidden;		/* a request only: not in --help, not typed */
};

/*
 * A backend of a status_rows reply is an array of these columns, in this
 * order; status gives the same values as an object, under these keys.
 */
enum status_col { STATUS_COL_NAME, STATUS_COL_ADDRESS, STATUS_COL_PORT, STATUS_COL_WEIGHT,
		  STATUS_COL_STATE, STATUS_COL_FLOWS, STATUS_COL_SESSIONS, STATUS_COLS };

extern const char *const status_col_keys[STATUS_COLS];

/* Indexed by enum command_id; --help lists them in this order. */
extern const struct command commands[CMD_MAX];

/* The arguments of one command, however it arrived. */
struct command_args {
	enum command_id id;
	char service[LIMPET_NAME_MAX];
	char name[LIMPET_NAME_MAX];
	struct ip_address address;
	char address_text[INET6_ADDRSTRLEN];	/* as given, sent on as such */
	__u16 port;
	bool has_port;
	__u32 weight;
	bool has_weight;
	__u64 timeout_ms;
	bool has_timeout;
	bool json;				/* --json: the client prints JSON */
};

/*
 * The command named by argv[0] (and argv[1] for a group such as "backend");
 * hidden commands are not found. Returns its id and in <*used> how many words
 * its name took, or -EINVAL with one line in <err>: "unknown command
 * \"frob\" (see limpet --help)", "backend: missing action; usage: ...".
 */
int command_find(int argc, char **argv, int *used, char *err, size_t errlen);

/* The command whose request "cmd" is <request>, or -EINVAL. */
int command_find_request(const char *request);

/*
 * The command line (without "limpet" and the global options) into <args>.
 * Only controller commands: a local one (run, down, version, help) is
 * refused with "<name>: not a controller command". 0, or -EINVAL with one
 * line in <err> (no "limpet: " prefix), e.g. "backend weight: weight:
 * expected an integer 0-65535, got \"70000\"".
 */
int command_from_argv(int argc, char **argv, struct command_args *args, char *err,
		      size_t errlen);

/*
 * A request object from the socket into <args>. 0, or -EINVAL with one line
 * in <err>: "bad request: no cmd", "unknown command 'frob'", "backend add:
 * unknown member \"colour\"", "backend add: missing member \"address\"", or
 * a value's problem in the words command_from_argv() uses.
 */
int command_from_request(const json_t *request, struct command_args *args, char *err,
			 size_t errlen);

/* The request for <args> (a new reference), NULL for a local command or ENOMEM. */
json_t *command_request(const struct command_args *args);

#endif /* LIMPET_COMMAND_H */
