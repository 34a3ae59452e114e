/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * cli.c - the client-side subcommands (status, stats, backend, reload, keys).
 *
 * Each command line becomes one request object, validated here with the
 * same parsers the configuration uses, so a typo is reported before anything
 * reaches the controller (exit 2). The grammar of every command is its
 * synopsis in cli_commands[]: an upper-case word is a positional whose kind
 * (cli_kinds[]) says how to check it and which request member it fills;
 * "[--opt VALUE]" is an option of kind VALUE; "[--json]" a flag.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* vasprintf */
#endif
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/config.h"
#include "proto/control.h"

const struct cli_command cli_commands[] = {
	{ "run", "--config FILE", "start the controller in the foreground", NULL },
	{ "down", "--config FILE", "detach every program and remove every pin of the instance",
	  NULL },
	{ "status", "[--json]", "services, backends and their state", "status" },
	{ "stats", "[--json]", "counters per service and per backend", "stats" },
	{ "backend add", "SERVICE NAME ADDRESS [--port P] [--weight W]",
	  "add a backend at run time (port: the service port, weight: 1)", "backend_add" },
	{ "backend remove", "SERVICE NAME", "remove a backend: its sessions spread over the rest",
	  "backend_remove" },
	{ "backend drain", "SERVICE NAME [--timeout DURATION]",
	  "no new sessions; existing ones stay until they end or the timeout passes",
	  "backend_drain" },
	{ "backend undrain", "SERVICE NAME", "back to normal", "backend_undrain" },
	{ "backend weight", "SERVICE NAME W", "change a weight (0 = no new sessions)",
	  "backend_weight" },
	{ "reload", "", "re-read the config file and apply the difference without dropping flows",
	  "reload" },
	{ "keys rotate", "", "new cookie key; the previous one stays valid for the cookie TTL",
	  "keys_rotate" },
	{ "version", "", "print the version", NULL },
};

const size_t cli_n_commands = sizeof(cli_commands) / sizeof(cli_commands[0]);

void cli_usage(FILE *out)
{
	size_t i;

	fprintf(out, "usage: limpet [--socket PATH] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < cli_n_commands; i++)
		fprintf(out, "  limpet %s%s%s\n        %s\n", cli_commands[i].name,
			*cli_commands[i].args ? " " : "", cli_commands[i].args,
			cli_commands[i].help);
	fprintf(out,
		"\nglobal options:\n"
		"  --socket PATH   control socket of the running controller (default\n"
		"                  $" CONTROL_SOCKET_ENV ", else " CONTROL_SOCKET_DIR
		"/<instance>.sock)\n"
		"  -h, --help      this text\n"
		"\nDURATION is written 500ms, 30s, 5m, 23h or 7d. Changes made with the CLI\n"
		"last until the next reload or restart.\n");
}

/* ---- argument kinds ---------------------------------------------------- */

struct cli_kind;
typedef int (*cli_put_fn)(const struct cli_kind *kind, json_t *req, const char *text,
			  char *err, size_t errlen);

struct cli_kind {
	const char *token;	/* as written in a synopsis */
	const char *key;	/* request member it fills */
	const char *what;	/* for error messages */
	cli_put_fn put;		/* validate <text>, set <key> */
};

static int set_member(json_t *req, const char *key, json_t *value, char *err, size_t errlen)
{
	if (!value || json_object_set_new(req, key, value)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Names end up in map keys, metric labels and log lines: keep them plain. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s), i;

	if (n < 1 || n >= LIMPET_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int put_name(const struct cli_kind *kind, json_t *req, const char *text, char *err,
		    size_t errlen)
{
	if (!valid_name(text)) {
		snprintf(err, errlen, "invalid %s \"%s\" (1-%d characters of A-Z a-z 0-9 _ . -)",
			 kind->what, text, LIMPET_NAME_MAX - 1);
		return -EINVAL;
	}
	return set_member(req, kind->key, json_string(text), err, errlen);
}

static int put_address(const struct cli_kind *kind, json_t *req, const char *text, char *err,
		       size_t errlen)
{
	struct ip_address ip;

	if (parse_ip_address(text, &ip)) {
		snprintf(err, errlen, "invalid %s \"%s\"", kind->what, text);
		return -EINVAL;
	}
	/* As typed: the controller parses it again with the same parser. */
	return set_member(req, kind->key, json_string(text), err, errlen);
}

static int put_port(const struct cli_kind *kind, json_t *req, const char *text, char *err,
		    size_t errlen)
{
	__u16 port;

	if (parse_port(text, &port)) {
		snprintf(err, errlen, "%s must be an integer 1-65535, got \"%s\"", kind->what,
			 text);
		return -EINVAL;
	}
	return set_member(req, kind->key, json_integer(port), err, errlen);
}

static int put_weight(const struct cli_kind *kind, json_t *req, const char *text, char *err,
		      size_t errlen)
{
	__u32 weight;

	if (parse_weight(text, &weight)) {
		snprintf(err, errlen, "%s must be an integer 0-65535, got \"%s\"", kind->what,
			 text);
		return -EINVAL;
	}
	return set_member(req, kind->key, json_integer(weight), err, errlen);
}

static int put_duration(const struct cli_kind *kind, json_t *req, const char *text, char *err,
			size_t errlen)
{
	__u64 ms;

	if (parse_duration_ms(text, &ms) || ms > (__u64)INT64_MAX) {
		snprintf(err, errlen, "invalid %s \"%s\" (write e.g. 500ms, 30s, 5m, 23h, 7d)",
			 kind->what, text);
		return -EINVAL;
	}
	return set_member(req, kind->key, json_integer((json_int_t)ms), err, errlen);
}

static const struct cli_kind cli_kinds[] = {
	{ "SERVICE", "service", "service name", put_name },
	{ "NAME", "name", "backend name", put_name },
	{ "ADDRESS", "address", "address", put_address },
	{ "P", "port", "port", put_port },
	{ "W", "weight", "weight", put_weight },
	{ "DURATION", "timeout_ms", "duration", put_duration },
};

static const struct cli_kind *find_kind(const char *token, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(cli_kinds) / sizeof(cli_kinds[0]); i++)
		if (strlen(cli_kinds[i].token) == len && !strncmp(cli_kinds[i].token, token, len))
			return &cli_kinds[i];
	return NULL;
}

/* ---- grammar from the synopsis ----------------------------------------- */

#define CLI_MAX_POS 4
#define CLI_MAX_OPT 4
#define CLI_OPT_MAX 24

struct cli_opt {
	char name[CLI_OPT_MAX];		/* without "--" */
	const struct cli_kind *kind;	/* NULL: the --json flag */
};

struct cli_grammar {
	const struct cli_kind *pos[CLI_MAX_POS];
	size_t n_pos;
	struct cli_opt opt[CLI_MAX_OPT];
	size_t n_opt;
};

/* Split <args> ("SERVICE NAME [--timeout DURATION] [--json]") into a grammar. */
static int parse_synopsis(const char *args, struct cli_grammar *g)
{
	const char *p = args, *tok;
	size_t len;
	bool in_opt = false;

	memset(g, 0, sizeof(*g));
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		tok = p;
		len = strcspn(p, " ");
		p += len;

		if (!strncmp(tok, "[--", 3)) {
			struct cli_opt *o = &g->opt[g->n_opt];
			size_t nlen = strcspn(tok + 3, " ]");

			if (g->n_opt >= CLI_MAX_OPT || nlen >= CLI_OPT_MAX || in_opt)
				return -EINVAL;
			memcpy(o->name, tok + 3, nlen);
			o->name[nlen] = '\0';
			g->n_opt++;
			/* "[--json]" closes at once; otherwise a value token follows. */
			in_opt = tok[len - 1] != ']';
			if (!in_opt && strcmp(o->name, "json"))
				return -EINVAL;
		} else if (in_opt) {
			if (tok[len - 1] != ']')
				return -EINVAL;
			g->opt[g->n_opt - 1].kind = find_kind(tok, len - 1);
			if (!g->opt[g->n_opt - 1].kind)
				return -EINVAL;
			in_opt = false;
		} else {
			if (g->n_pos >= CLI_MAX_POS)
				return -EINVAL;
			g->pos[g->n_pos] = find_kind(tok, len);
			if (!g->pos[g->n_pos])
				return -EINVAL;
			g->n_pos++;
		}
	}
	return in_opt ? -EINVAL : 0;
}

/* ---- command lookup ---------------------------------------------------- */

/* Does <name> ("backend add") start with the word <word>? Sets <*rest> past it. */
static bool first_word_is(const char *name, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (strncmp(name, word, n) || (name[n] != ' ' && name[n] != '\0'))
		return false;
	*rest = name[n] ? name + n + 1 : name + n;
	return true;
}

/* The actions of group <word> as "add|remove|...". */
static void list_actions(const char *word, char *buf, size_t len)
{
	const char *rest;
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < cli_n_commands && used < len; i++)
		if (first_word_is(cli_commands[i].name, word, &rest) && *rest)
			used += snprintf(buf + used, len - used, "%s%s", used ? "|" : "", rest);
}

/*
 * Find the command named by argv[0] (and argv[1] for a group such as
 * "backend"). Returns it and in <*used> how many words its name took.
 */
static const struct cli_command *find_command(int argc, char **argv, int *used, char *err,
					      size_t errlen)
{
	const char *rest;
	bool group = false;
	char actions[128];
	size_t i;

	for (i = 0; i < cli_n_commands; i++) {
		if (!first_word_is(cli_commands[i].name, argv[0], &rest))
			continue;
		if (!*rest) {
			*used = 1;
			return &cli_commands[i];
		}
		group = true;
		if (argc > 1 && !strcmp(rest, argv[1])) {
			*used = 2;
			return &cli_commands[i];
		}
	}
	if (!group) {
		snprintf(err, errlen, "unknown command \"%s\" (see limpet --help)", argv[0]);
		return NULL;
	}
	list_actions(argv[0], actions, sizeof(actions));
	if (argc < 2)
		snprintf(err, errlen, "%s: missing action; usage: limpet %s {%s} ...", argv[0],
			 argv[0], actions);
	else
		snprintf(err, errlen, "%s: unknown action \"%s\"; usage: limpet %s {%s} ...",
			 argv[0], argv[1], argv[0], actions);
	return NULL;
}

/* ---- request building -------------------------------------------------- */

/* "-x" and "--xyz" are options; "-1" is a (bad) number, "-" a positional. */
static bool looks_like_option(const char *arg)
{
	return arg[0] == '-' && arg[1] && !isdigit((unsigned char)arg[1]);
}

static int apply_option(const struct cli_command *c, const struct cli_grammar *g,
			int argc, char **argv, int *i, unsigned int *seen, json_t *req,
			bool *json_output, char *err, size_t errlen)
{
	const char *arg = argv[*i], *name, *eq, *value;
	char msg[CLI_ERR_MAX];
	size_t nlen, k;
	int ret;

	if (strncmp(arg, "--", 2))
		goto unknown;
	name = arg + 2;
	eq = strchr(name, '=');
	nlen = eq ? (size_t)(eq - name) : strlen(name);
	for (k = 0; k < g->n_opt; k++)
		if (strlen(g->opt[k].name) == nlen && !strncmp(g->opt[k].name, name, nlen))
			break;
	if (k == g->n_opt)
		goto unknown;

	if (*seen & (1u << k)) {
		snprintf(err, errlen, "%s: option --%s given twice", c->name, g->opt[k].name);
		return -EINVAL;
	}
	*seen |= 1u << k;

	if (!g->opt[k].kind) {
		if (eq) {
			snprintf(err, errlen, "%s: option --%s takes no value", c->name,
				 g->opt[k].name);
			return -EINVAL;
		}
		*json_output = true;
		return 0;
	}
	if (eq) {
		value = eq + 1;
	} else if (*i + 1 < argc) {
		value = argv[++*i];
	} else {
		snprintf(err, errlen, "%s: option --%s needs a value (%s)", c->name,
			 g->opt[k].name, g->opt[k].kind->token);
		return -EINVAL;
	}
	ret = g->opt[k].kind->put(g->opt[k].kind, req, value, msg, sizeof(msg));
	if (ret)
		snprintf(err, errlen, "%s: %s", c->name, msg);
	return ret;

unknown:
	nlen = strcspn(arg, "=");
	snprintf(err, errlen, "%s: unknown option \"%.*s\"", c->name, (int)nlen, arg);
	return -EINVAL;
}

int cli_build_request(int argc, char **argv, json_t **request, bool *json_output, char *err,
		      size_t errlen)
{
	const struct cli_command *c;
	struct cli_grammar g;
	char msg[CLI_ERR_MAX];
	unsigned int seen = 0;
	bool options_done = false;
	size_t n_pos = 0;
	json_t *req = NULL;
	int i, used, ret;

	*request = NULL;
	*json_output = false;
	if (argc < 1) {
		snprintf(err, errlen, "missing command (see limpet --help)");
		return -EINVAL;
	}
	c = find_command(argc, argv, &used, err, errlen);
	if (!c)
		return -EINVAL;
	if (!c->cmd) {
		snprintf(err, errlen, "%s: not a controller command", c->name);
		return -EINVAL;
	}
	if (parse_synopsis(c->args, &g)) {
		/* cli_commands[] is wrong: the unit tests parse every entry. */
		snprintf(err, errlen, "%s: internal error: bad synopsis \"%s\"", c->name, c->args);
		return -EINVAL;
	}

	req = json_pack("{s:s}", "cmd", c->cmd);
	if (!req) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}

	for (i = used; i < argc; i++) {
		if (!options_done && !strcmp(argv[i], "--")) {
			options_done = true;
			continue;
		}
		if (!options_done && looks_like_option(argv[i])) {
			ret = apply_option(c, &g, argc, argv, &i, &seen, req, json_output, err,
					   errlen);
			if (ret)
				goto out;
			continue;
		}
		if (n_pos == g.n_pos) {
			snprintf(err, errlen,
				 "%s: unexpected argument \"%s\"; usage: limpet %s%s%s", c->name,
				 argv[i], c->name, *c->args ? " " : "", c->args);
			ret = -EINVAL;
			goto out;
		}
		ret = g.pos[n_pos]->put(g.pos[n_pos], req, argv[i], msg, sizeof(msg));
		if (ret) {
			snprintf(err, errlen, "%s: %s", c->name, msg);
			goto out;
		}
		n_pos++;
	}
	if (n_pos < g.n_pos) {
		snprintf(err, errlen, "%s: missing %s; usage: limpet %s %s", c->name,
			 g.pos[n_pos]->token, c->name, c->args);
		ret = -EINVAL;
		goto out;
	}

	*request = req;
	req = NULL;
	ret = 0;
out:
	json_decref(req);
	return ret;
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
	va_list ap;
	char *s;
	int n;

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
static char *cell_endpoint(const json_t *obj, const char *addr_key, const char *port_key)
{
	const char *addr = str_of(obj, addr_key);
	const json_t *port = json_object_get(obj, port_key);
	char *p, *s;

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

static void table_print(const struct table *t, const char *indent)
{
	int width[TABLE_MAX_COLS] = { 0 }, w;
	size_t r, c;
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
			if (c + 1 == t->n_cols && t->align[c] == 'l')
				printf("%s", s);	/* no trailing blanks */
			else
				printf(t->align[c] == 'r' ? "%*s" : "%-*s", width[c], s);
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

static int print_status(const json_t *result)
{
	const json_t *services = json_object_get(result, "services"), *svc, *be;
	size_t i, j;
	char *vip;
	int err = 0;

	if (!json_is_array(services))
		return -EPROTO;
	if (!json_array_size(services))
		printf("no services\n");
	json_array_foreach(services, i, svc) {
		struct table t = { .n_cols = 6, .align = "llrlrr" };
		const json_t *backends = json_object_get(svc, "backends");

		vip = cell_endpoint(svc, "vip", "port");
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
				cell_json(json_object_get(be, "name")),
				cell_endpoint(be, "address", "port"),
				cell_json(json_object_get(be, "weight")),
				cell_json(json_object_get(be, "state")),
				cell_json(json_object_get(be, "flows")),
				cell_json(json_object_get(be, "sessions")),
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

static int print_result(const char *cmd, const json_t *result, bool json_output)
{
	if (json_output) {
		/* ENCODE_ANY: the result of a mutating command may be a scalar. */
		if (json_dumpf(result ? result : json_null(), stdout,
			       JSON_INDENT(2) | JSON_ENCODE_ANY))
			return -EIO;
		putchar('\n');
		return 0;
	}
	if (!strcmp(cmd, "status"))
		return print_status(result);
	if (!strcmp(cmd, "stats"))
		return print_stats(result);
	if (json_is_string(result))
		printf("%s\n", json_string_value(result));
	return 0;
}

int cli_run(const char *socket_path, int argc, char **argv)
{
	json_t *request = NULL, *reply = NULL;
	const char *cmd, *msg;
	char err[CLI_ERR_MAX];
	bool json_output;
	int status = 1, ret;

	ret = cli_build_request(argc, argv, &request, &json_output, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "limpet: %s\n", err);
		return ret == -EINVAL ? 2 : 1;
	}
	cmd = json_string_value(json_object_get(request, "cmd"));

	if (control_request(socket_path, request, &reply, err, sizeof(err))) {
		fprintf(stderr, "limpet: %s\n", err);
		goto out;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		msg = json_string_value(json_object_get(reply, "error"));
		fprintf(stderr, "limpet: %s\n", msg ? msg : "the controller reported an error");
		goto out;
	}

	ret = print_result(cmd, json_object_get(reply, "result"), json_output);
	if (ret == -EPROTO) {
		fprintf(stderr, "limpet: %s: unexpected result from the controller\n", cmd);
		goto out;
	}
	if (ret) {
		fprintf(stderr, "limpet: %s: %s\n", cmd, strerror(-ret));
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
