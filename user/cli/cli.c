/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli.c - the client: a command line becomes its arguments
 * (command_from_argv(), proto/command.h), then the request
 * (command_request()) sent over the control socket; the reply is printed as
 * a table, or as JSON with --json. A bad value is refused here, before
 * anything reaches the controller (exit 2), in the words the controller and
 * the configuration file use for it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "proto/command.h"
#include "proto/control.h"

void cli_usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: limpet [--socket PATH] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < CMD_MAX; i++) {
		const struct command *c = &commands[i];

		if (c->hidden)
			continue;
		fprintf(out, "  limpet %s%s%s\n        %s\n", c->name, *c->synopsis ? " " : "",
			c->synopsis, c->help);
	}
	fprintf(out,
		"\nglobal options:\n"
		"  --socket PATH   control socket of the running controller (default\n"
		"                  $" CONTROL_SOCKET_ENV ", else " CONTROL_SOCKET_DIR
		"/<instance>.sock)\n"
		"  -h, --help      this text\n"
		"\nDURATION is written 500ms, 30s, 5m, 23h or 7d. Changes made with the CLI\n"
		"last until the next reload or restart.\n");
}

/* ---- output ------------------------------------------------------------ */

/* A text table: columns sized to their widest cell, numbers right-aligned. */
#define TABLE_MAX_COLS 8

struct table {
	size_t n_cols, n_rows;
	const char *align;	/* per column: 'l' or 'r' */
	char **cells;		/* n_rows * n_cols, malloc'ed strings */
};

static char *cell_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *cell_printf(const char *fmt, ...)
{
	char buf[128];	/* most cells: no second pass (a status lists every backend) */
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if ((size_t)n < sizeof(buf))
		return strdup(buf);
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* Any JSON scalar as table text; missing fields show as "-". */
static char *cell_json(const json_t *v)
{
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v))
		return cell_printf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_real(v))
		return cell_printf("%.0f", json_real_value(v));
	if (json_is_boolean(v))
		return strdup(json_is_true(v) ? "yes" : "no");
	return strdup("-");
}

static const char *str_of(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? s : "-";
}

/* "10.0.0.1:80", "[2001:db8::1]:80" */
static char *cell_endpoint(const json_t *addr_v, const json_t *port)
{
	const char *addr = json_string_value(addr_v) ? json_string_value(addr_v) : "-";
	const char *fmt = strchr(addr, ':') ? "[%s]:%" JSON_INTEGER_FORMAT :
					      "%s:%" JSON_INTEGER_FORMAT;
	char *p, *s;

	if (json_is_integer(port))
		return cell_printf(fmt, addr, json_integer_value(port));
	p = cell_json(port);
	if (!p)
		return NULL;
	s = cell_printf(strchr(addr, ':') ? "[%s]:%s" : "%s:%s", addr, p);
	free(p);
	return s;
}

static void free_cells(char **cells, size_t n)
{
	while (n--)
		free(cells[n]);
}

/* Append a row; takes the cells, even on failure. */
static int table_add(struct table *t, char **row)
{
	char **cells = NULL;
	size_t i;

	for (i = 0; i < t->n_cols; i++)
		if (!row[i])
			break;
	if (i == t->n_cols)
		cells = realloc(t->cells, (t->n_rows + 1) * t->n_cols * sizeof(*cells));
	if (!cells) {
		free_cells(row, t->n_cols);
		return -ENOMEM;
	}
	memcpy(cells + t->n_rows * t->n_cols, row, t->n_cols * sizeof(*cells));
	t->cells = cells;
	t->n_rows++;
	return 0;
}

static void pad(size_t n)
{
	static const char blanks[] = "                                ";

	for (; n > sizeof(blanks) - 1; n -= sizeof(blanks) - 1)
		fwrite(blanks, 1, sizeof(blanks) - 1, stdout);
	fwrite(blanks, 1, n, stdout);
}

/* fwrite and blanks, not printf's "%*s": a status prints every backend. */
static void table_print(const struct table *t, const char *indent)
{
	size_t width[TABLE_MAX_COLS] = { 0 }, w, r, c;
	const char *s;

	for (r = 0; r < t->n_rows; r++)
		for (c = 0; c < t->n_cols; c++) {
			w = strlen(t->cells[r * t->n_cols + c]);
			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r < t->n_rows; r++) {
		fputs(indent, stdout);
		for (c = 0; c < t->n_cols; c++) {
			s = t->cells[r * t->n_cols + c];
			w = strlen(s);
			if (t->align[c] == 'r')
				pad(width[c] - w);
			fwrite(s, 1, w, stdout);
			/* no trailing blanks after the last column */
			if (t->align[c] == 'l' && c + 1 < t->n_cols)
				pad(width[c] - w);
			fputs(c + 1 == t->n_cols ? "\n" : "  ", stdout);
		}
	}
}

static void table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->n_rows = 0;
}

/* A backend's field, from a row or (an older controller's reply) an object. */
static const json_t *backend_field(const json_t *be, enum status_col col)
{
	return json_is_array(be) ? json_array_get(be, col) :
				   json_object_get(be, status_col_keys[col]);
}

static int print_status(const json_t *result)
{
	const json_t *services = json_object_get(result, "services"), *svc, *be, *node;
	size_t i, j;
	char *vip;
	int err = 0;

	if (!json_is_array(services))
		return -EPROTO;
	node = json_object_get(result, "node");
	if (json_is_object(node))
		printf("node %s  %s  %lld connections  %lld VIPs announced\n\n", str_of(node, "name"),
		       str_of(node, "state"),
		       (long long)json_integer_value(json_object_get(node, "connections")),
		       (long long)json_integer_value(json_object_get(node, "announced")));
	if (!json_array_size(services))
		printf("no services\n");
	json_array_foreach(services, i, svc) {
		struct table t = { .n_cols = 6, .align = "llrlrr" };
		const json_t *backends = json_object_get(svc, "backends");

		vip = cell_endpoint(json_object_get(svc, "vip"), json_object_get(svc, "port"));
		if (!vip)
			return -ENOMEM;
		printf("%s%s  %s/%s  %s %s %s\n", i ? "\n" : "", str_of(svc, "name"), vip,
		       str_of(svc, "protocol"), str_of(svc, "mode"), str_of(svc, "forwarding"),
		       str_of(svc, "affinity"));
		free(vip);
		if (!json_array_size(backends)) {
			printf("  (no backends)\n");
			continue;
		}
		err = table_add(&t, (char *[]){ strdup("BACKEND"), strdup("ADDRESS"),
						strdup("WEIGHT"), strdup("STATE"), strdup("FLOWS"),
						strdup("SESSIONS") });
		json_array_foreach(backends, j, be) {
			char *row[] = {
				cell_json(backend_field(be, STATUS_COL_NAME)),
				cell_endpoint(backend_field(be, STATUS_COL_ADDRESS),
					      backend_field(be, STATUS_COL_PORT)),
				cell_json(backend_field(be, STATUS_COL_WEIGHT)),
				cell_json(backend_field(be, STATUS_COL_STATE)),
				cell_json(backend_field(be, STATUS_COL_FLOWS)),
				cell_json(backend_field(be, STATUS_COL_SESSIONS)),
			};

			if (!err)
				err = table_add(&t, row);
			else
				free_cells(row, 6);
		}
		if (!err)
			table_print(&t, "  ");
		table_free(&t);
		if (err)
			return err;
	}
	return 0;
}

/* A service's counters beyond the data plane's (HTTP affinity outcomes). */
static void print_service_extras(const json_t *svc)
{
	static const char *const shown[] = { "name", "packets", "bytes", "new_flows", "drops",
					     "backends" };
	const char *key;
	const json_t *v;
	bool any = false;
	size_t i;

	json_object_foreach((json_t *)svc, key, v) {
		for (i = 0; i < (sizeof(shown) / sizeof(shown[0])) && strcmp(key, shown[i]); i++)
			;
		if (i < (sizeof(shown) / sizeof(shown[0])) || !json_is_integer(v))
			continue;
		printf("  %s %" JSON_INTEGER_FORMAT, key, json_integer_value(v));
		any = true;
	}
	if (any)
		putchar('\n');
}

static int print_stats(const json_t *result)
{
	const json_t *global = json_object_get(result, "global");
	const json_t *services = json_object_get(result, "services"), *svc, *be, *v;
	struct table t = { .n_cols = 2, .align = "lr" };
	const char *key;
	size_t i, j;
	int err = 0;

	if (!json_is_object(global) || !json_is_array(services))
		return -EPROTO;

	printf("global:\n");
	json_object_foreach((json_t *)global, key, v) {
		err = table_add(&t, (char *[]){ strdup(key), cell_json(v) });
		if (err)
			break;
	}
	if (!err)
		table_print(&t, "  ");
	table_free(&t);
	if (err)
		return err;

	json_array_foreach(services, i, svc) {
		const json_t *backends = json_object_get(svc, "backends");
		char *cells[4] = {
			cell_json(json_object_get(svc, "packets")),
			cell_json(json_object_get(svc, "bytes")),
			cell_json(json_object_get(svc, "new_flows")),
			cell_json(json_object_get(svc, "drops")),
		};

		t = (struct table){ .n_cols = 4, .align = "lrrr" };
		if (cells[0] && cells[1] && cells[2] && cells[3])
			printf("\n%s  packets %s  bytes %s  new_flows %s  drops %s\n",
			       str_of(svc, "name"), cells[0], cells[1], cells[2], cells[3]);
		else
			err = -ENOMEM;
		for (j = 0; j < 4; j++)
			free(cells[j]);
		if (err)
			return err;
		print_service_extras(svc);
		if (!json_array_size(backends))
			continue;
		err = table_add(&t, (char *[]){ strdup("BACKEND"), strdup("PACKETS"),
						strdup("BYTES"), strdup("NEW_FLOWS") });
		json_array_foreach(backends, j, be) {
			char *row[] = {
				cell_json(json_object_get(be, "name")),
				cell_json(json_object_get(be, "packets")),
				cell_json(json_object_get(be, "bytes")),
				cell_json(json_object_get(be, "new_flows")),
			};

			if (!err)
				err = table_add(&t, row);
			else
				free_cells(row, 4);
		}
		if (!err)
			table_print(&t, "  ");
		table_free(&t);
		if (err)
			return err;
	}
	return 0;
}

static int print_result(enum command_id id, const json_t *result, bool json_output)
{
	if (json_output) {
		/* ENCODE_ANY: the result of a mutating command may be a scalar. */
		if (json_dumpf(result ? result : json_null(), stdout,
			       JSON_INDENT(2) | JSON_ENCODE_ANY))
			return -EIO;
		putchar('\n');
		return 0;
	}
	if (id == CMD_STATUS || id == CMD_STATUS_ROWS)
		return print_status(result);
	if (id == CMD_STATS)
		return print_stats(result);
	if (json_is_string(result))
		printf("%s\n", json_string_value(result));
	return 0;
}

int cli_run(const char *socket_path, int argc, char **argv)
{
	json_t *request = NULL, *reply = NULL;
	struct command_args args;
	char err[CLI_ERR_MAX];
	const char *name, *msg;
	int status = 1, ret;

	ret = command_from_argv(argc, argv, &args, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "limpet: %s\n", err);
		return ret == -EINVAL ? 2 : 1;
	}
	name = commands[args.id].name;
	/* A table needs no keys: 4 MB of reply instead of 10 for 100,000 backends. */
	if (args.id == CMD_STATUS && !args.json)
		args.id = CMD_STATUS_ROWS;
	request = command_request(&args);
	if (!request) {
		fprintf(stderr, "limpet: %s: out of memory\n", name);
		return 1;
	}

	if (control_request(socket_path, request, &reply, err, sizeof(err))) {
		fprintf(stderr, "limpet: %s\n", err);
		goto out;
	}
	if (args.id == CMD_STATUS_ROWS && !json_is_true(json_object_get(reply, "ok"))) {
		/* A controller older than status_rows: the status it knows. */
		args.id = CMD_STATUS;
		json_decref(request);
		json_decref(reply);
		reply = NULL;
		request = command_request(&args);
		if (!request || control_request(socket_path, request, &reply, err, sizeof(err))) {
			fprintf(stderr, "limpet: %s\n", request ? err : "status: out of memory");
			goto out;
		}
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		msg = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "limpet: %s\n", msg ? msg : "the controller reported an error");
		goto out;
	}

	ret = print_result(args.id, json_object_get(reply, "result"), args.json);
	if (ret == -EPROTO) {
		fprintf(stderr, "limpet: %s: unexpected result from the controller\n", name);
		goto out;
	}
	if (ret) {
		fprintf(stderr, "limpet: %s: %s\n", name, strerror(-ret));
		goto out;
	}
	/* A full disk or closed pipe must not look like success to a script. */
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "limpet: cannot write output: %s\n", strerror(errno));
		goto out;
	}
	status = 0;
out:
	json_decref(reply);
	json_decref(request);
	return status;
}
