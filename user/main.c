/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * main.c - the `limpet` binary: global options, then one subcommand, found
 * in commands[] (proto/command.h). The commands that run here (run, down,
 * check, top, version, help) are dispatched by their enum command_id from
 * local_commands[]; every other one is a request to the running controller
 * (cli/cli.c). Usage text comes from the same table, so --help cannot drift
 * from what is accepted.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"
#include "cli/manpage.h"
#include "cli/top.h"
#include "proto/command.h"
#include "proto/control.h"
#include "run/controller.h"

#define DEFAULT_INSTANCE "limpet"

struct global_opts {
	const char *socket;	/* --socket, or NULL for the default */
};

/* `limpet check --peer FILE`, repeated: other nodes' files to compare with. */
#define CHECK_PEERS_MAX 16

struct peer_args {
	const char *path[CHECK_PEERS_MAX];
	size_t n;
};

/*
 * `limpet run|down|check --config FILE`: the only option run and down take;
 * check also takes --peer FILE (given <peers>).
 */
static const char *parse_config_arg(enum command_id id, int argc, char **argv,
				    struct peer_args *peers)
{
	const char *cmd = commands[id].name;
	const char *path = NULL, *peer;
	int i;

	for (i = 1; i < argc; i++) {
		peer = NULL;
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "--config=", 9))
			path = argv[i] + 9;
		else if (peers && !strcmp(argv[i], "--peer") && i + 1 < argc)
			peer = argv[++i];
		else if (peers && !strncmp(argv[i], "--peer=", 7))
			peer = argv[i] + 7;
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			log_set_level(log_get_level() < LOG_LEVEL_DEBUG ? log_get_level() + 1 :
									  LOG_LEVEL_DEBUG);
		else {
			fprintf(stderr, "limpet: %s: unexpected argument '%s' (usage: limpet %s "
				"%s)\n", cmd, argv[i], cmd, commands[id].synopsis);
			return NULL;
		}
		if (!peer)
			continue;
		if (peers->n == CHECK_PEERS_MAX) {
			fprintf(stderr, "limpet: %s: --peer: at most %d files\n", cmd,
				CHECK_PEERS_MAX);
			return NULL;
		}
		peers->path[peers->n++] = peer;
	}
	if (!path)
		fprintf(stderr, "limpet: %s: --config FILE is required\n", cmd);
	return path;
}

static int cmd_run(const struct global_opts *g, int argc, char **argv)
{
	const char *path = parse_config_arg(CMD_RUN, argc, argv, NULL);

	return path ? controller_run(path, g->socket) : 2;
}

static int cmd_down(const struct global_opts *g, int argc, char **argv)
{
	const char *path = parse_config_arg(CMD_DOWN, argc, argv, NULL);

	return path ? controller_down(path, g->socket) : 2;
}

/*
 * `limpet check --config FILE [--peer FILE]...`: run's validation alone, and
 * what FILE and other nodes' files disagree on; 0 valid, 1 not, 2 usage.
 */
static int cmd_check(const struct global_opts *g, int argc, char **argv)
{
	struct peer_args peers = { 0 };
	const char *path = parse_config_arg(CMD_CHECK, argc, argv, &peers);

	return path ? controller_check(path, peers.path, peers.n) : 2;
}

/* Refuse arguments to a command whose synopsis takes none. */
static bool no_arguments(enum command_id id, int argc, char **argv)
{
	if (argc <= 1)
		return true;
	fprintf(stderr, "limpet: %s: unexpected argument '%s' (usage: limpet %s)\n",
		commands[id].name, argv[1], commands[id].name);
	return false;
}

/* The control socket: --socket, else $LIMPET_SOCKET or the default instance's. */
static int socket_of(const struct global_opts *g, char *buf, size_t len)
{
	if (g->socket) {
		snprintf(buf, len, "%s", g->socket);
		return 0;
	}
	if (control_default_socket(DEFAULT_INSTANCE, buf, len)) {
		fprintf(stderr, "limpet: socket path too long\n");
		return -ENAMETOOLONG;
	}
	return 0;
}

static int cmd_top(const struct global_opts *g, int argc, char **argv)
{
	char socket_path[108];

	if (!no_arguments(CMD_TOP, argc, argv))
		return 2;
	if (socket_of(g, socket_path, sizeof(socket_path)))
		return 2;
	return top_run(socket_path);
}

static int cmd_version(const struct global_opts *g, int argc, char **argv)
{
	if (!no_arguments(CMD_VERSION, argc, argv))
		return 2;
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
	[CMD_CHECK] = cmd_check,
	[CMD_TOP] = cmd_top,
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

	/* No fastbins: a status or a configuration of 100,000 backends is
	 * hundreds of thousands of small JSON and YAML nodes freed together,
	 * and the next large allocation then spent a quarter of the request
	 * in malloc_consolidate() (status 250 -> 175 ms, reload 600 -> 460).
	 */
	mallopt(M_MXFAST, 0);

	/* '+': stop at the subcommand; its options are its own. ':': getopt
	 * prints nothing, the messages below say what is wrong.
	 */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:vh", long_opts, NULL)) != -1) {
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
		case ':':
			fprintf(stderr, "limpet: %s needs a value (see limpet --help)\n",
				argv[optind - 1]);
			return 2;
		default:
			if (optopt)
				fprintf(stderr, "limpet: unknown global option '-%c' (see limpet "
					"--help)\n", optopt);
			else
				fprintf(stderr, "limpet: unknown global option '%s' (see limpet "
					"--help)\n", argv[optind - 1]);
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

	if (socket_of(&g, socket_path, sizeof(socket_path)))
		return 2;
	return cli_run(socket_path, argc, argv);
}
