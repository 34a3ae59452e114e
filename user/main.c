/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * main.c - the `limpet` binary: global options, then one subcommand. The
 * commands that run here (run, down, version, help) are dispatched from
 * local_commands[]; every other one is a request to the running controller
 * (cli.c). Usage text comes from cli_commands[], the same table cli.c
 * parses with, so --help cannot drift from what is accepted.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proto/control.h"
#include "run/controller.h"
#include "base/log.h"
#include "cli/manpage.h"

#define DEFAULT_INSTANCE "limpet"

struct global_opts {
	const char *socket;	/* --socket, or NULL for the default */
};

/* `limpet run|down --config FILE`: the only option both take. */
static const char *parse_config_arg(const char *cmd, int argc, char **argv)
{
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
				"--config FILE)\n", cmd, argv[i], cmd);
			return NULL;
		}
	}
	if (!path)
		fprintf(stderr, "limpet: %s: --config FILE is required\n", cmd);
	return path;
}

static int cmd_run(const struct global_opts *g, int argc, char **argv)
{
	const char *path = parse_config_arg("run", argc, argv);

	return path ? controller_run(path, g->socket) : 2;
}

static int cmd_down(const struct global_opts *g, int argc, char **argv)
{
	const char *path = parse_config_arg("down", argc, argv);

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
		fprintf(stderr, "limpet: help: unexpected argument '%s' (usage: limpet help "
			"[--man])\n", argv[1]);
		return 2;
	}
	cli_usage(stdout);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(const struct global_opts *g, int argc, char **argv);
} local_commands[] = {
	{ "run", cmd_run },
	{ "down", cmd_down },
	{ "version", cmd_version },
	{ "help", cmd_help },
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
	char socket_path[108];
	size_t i;
	int opt;

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

	for (i = 0; i < sizeof(local_commands) / sizeof(local_commands[0]); i++)
		if (!strcmp(argv[0], local_commands[i].name))
			return local_commands[i].fn(&g, argc, argv);

	if (g.socket)
		snprintf(socket_path, sizeof(socket_path), "%s", g.socket);
	else if (control_default_socket(DEFAULT_INSTANCE, socket_path, sizeof(socket_path))) {
		fprintf(stderr, "limpet: socket path too long\n");
		return 2;
	}
	return cli_run(socket_path, argc, argv);
}
