/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * main.c - the `limpet` binary: global options, then one subcommand, found
 * in commands[] (proto/command.h). The commands that run here (run, down,
 * version, help) are dispatched by their enum command_id from
 * local_commands[]; every other one is a request to the running controller
 * (cli/cli.c). Usage text comes from the same table, so --help cannot drift
 * from what is accepted.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/manpage.h"
#include "proto/command.h"
#include "proto/control.h"
#include "run/controller.h"

#define DEFAULT_INSTANCE "limpet"

struct global_opts {
	const char *socket;	/* --socket, or NULL for the default */
};

/* `limpet run|down --config FILE`: the only option both take. */
static const char *parse_config_arg(enum command_id id, int argc, char **argv)
{
	const char *cmd = commands[id].name;
	const char *path = NULL;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			log_set_level(log_get_level() < LOG_LEVEL_DEBUG ? log_get_level() + 1 :
									  LOG_LEVEL_DEBUG);
		else {
			fprintf(stderr, "limpet: %s: unexpected argument '%s' (usage: limpet %s "
				"%s)\n", cmd, argv[i], cmd, commands[id].synopsis);
			return NULL;
		}
	}
	if (!path)
		fprintf(stderr, "limpet: %s: --config FILE is required\n", cmd);
	return path;
}

static int cmd_run(const struct global_opts *g, int argc, char **argv)
{
	const char *path = parse_config_arg(CMD_RUN, argc, argv);

	return path ? controller_run(path, g->socket) : 2;
}

static int cmd_down(const struct global_opts *g, int argc, char **argv)
{
	const char *path = parse_config_arg(CMD_DOWN, argc, argv);

	return path ? controller_down(path, g->socket) : 2;
}

static int cmd_version(const struct global_opts *g, int argc, char **argv)
{
	printf("limpet %s\n", LIMPET_VERSION);
	return 0;
}

/* `limpet help [--man]`: the usage, or limpet(8) in troff from the same table. */
static int cmd_help(const struct global_opts *g, int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--man")) {
		manpage_print(stdout);
		return 0;
	}
	if (argc > 1) {
		fprintf(stderr, "limpet: %s: unexpected argument '%s' (usage: limpet %s %s)\n",
			commands[CMD_HELP].name, argv[1], commands[CMD_HELP].name,
			commands[CMD_HELP].synopsis);
		return 2;
	}
	cli_usage(stdout);
	return 0;
}

/* The commands run here; the others (NULL) go to the controller. */
static int (*const local_commands[CMD_MAX])(const struct global_opts *g, int argc, char **argv) = {
	[CMD_RUN] = cmd_run,
	[CMD_DOWN] = cmd_down,
	[CMD_VERSION] = cmd_version,
	[CMD_HELP] = cmd_help,
};

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct global_opts g = {};
	char socket_path[108], err[COMMAND_ERR_MAX];
	int opt, id, used;

	/* '+': stop at the subcommand; its options are its own. */
	while ((opt = getopt_long(argc, argv, "+vh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			g.socket = optarg;
			break;
		case 'v':
			log_set_level(log_get_level() + (log_get_level() < LOG_LEVEL_DEBUG));
			break;
		case 'V':
			return cmd_version(&g, 0, NULL);
		case 'h':
			cli_usage(stdout);
			return 0;
		default:
			fprintf(stderr, "limpet: unknown global option (see limpet --help)\n");
			return 2;
		}
	}
	if (optind >= argc) {
		cli_usage(stderr);
		return 2;
	}
	argc -= optind;
	argv += optind;

	id = command_find(argc, argv, &used, err, sizeof(err));
	if (id < 0) {
		fprintf(stderr, "limpet: %s\n", err);
		return 2;
	}
	if (local_commands[id])
		return local_commands[id](&g, argc, argv);

	if (g.socket)
		snprintf(socket_path, sizeof(socket_path), "%s", g.socket);
	else if (control_default_socket(DEFAULT_INSTANCE, socket_path, sizeof(socket_path))) {
		fprintf(stderr, "limpet: socket path too long\n");
		return 2;
	}
	return cli_run(socket_path, argc, argv);
}
