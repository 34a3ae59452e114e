// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * command.c - the command table and its two doors (command.h).
 *
 * The grammar of a controller command is read from its synopsis each time
 * (parse_synopsis()): a handful of words, and the table cannot disagree with
 * the parser. A kind (kinds[]) ties a synopsis token to a request member, a
 * label for messages and a parser of model/value.h; both doors hand it text,
 * the socket's JSON integers printed in decimal first, so a value is judged
 * once whichever way it came. Errors are "<command>: <label>: <problem>".
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/command.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

const struct command commands[CMD_MAX] = {
	[CMD_RUN] = { "run", "--config FILE", "start the controller in the foreground" },
	[CMD_DOWN] = { "down", "--config FILE",
		       "detach every program and remove every pin of the instance" },
	[CMD_CHECK] = { "check", "--config FILE [--peer FILE]...",
			"validate a configuration as run would, touching nothing; errors only, "
			"exit 0/1; --peer: warn where another cluster node's file differs" },
	[CMD_STATUS] = { "status", "[--json]", "services, backends and their state", "status" },
	[CMD_STATS] = { "stats", "[--json]", "counters per service and per backend", "stats" },
	[CMD_TOP] = { "top", "", "live view of services and backends (rates, states, sessions); "
			  "q quits" },
	[CMD_BACKEND_ADD] = { "backend add", "SERVICE NAME ADDRESS [--port P] [--weight W]",
			      "add a backend at run time (port: the service port, weight: 1)",
			      "backend_add" },
	[CMD_BACKEND_REMOVE] = { "backend remove", "SERVICE NAME",
				 "remove a backend: its sessions spread over the rest",
				 "backend_remove" },
	[CMD_BACKEND_DRAIN] = { "backend drain", "SERVICE NAME [--timeout DURATION]",
				"no new sessions; existing ones stay until they end or the "
				"timeout passes", "backend_drain" },
	[CMD_BACKEND_UNDRAIN] = { "backend undrain", "SERVICE NAME", "back to normal",
				  "backend_undrain" },
	[CMD_BACKEND_WEIGHT] = { "backend weight", "SERVICE NAME W",
				 "change a weight (0 = no new sessions)", "backend_weight" },
	[CMD_RELOAD] = { "reload", "",
			 "re-read the config file and apply the difference without dropping "
			 "flows", "reload" },
	[CMD_KEYS_ROTATE] = { "keys rotate", "",
			      "new cookie key; the previous one stays valid for the cookie TTL",
			      "keys_rotate" },
	[CMD_NODE_DRAIN] = { "node drain", "[--timeout DURATION]",
			     "withdraw this node's VIPs from the announce interface; keep serving "
			     "the connections it owns until they end or the timeout passes",
			     "node_drain" },
	[CMD_NODE_UNDRAIN] = { "node undrain", "", "announce this node's VIPs again",
			       "node_undrain" },
	[CMD_VERSION] = { "version", "", "print the version" },
	[CMD_HELP] = { "help", "[--man]", "print the usage; with --man, this manual page" },
	[CMD_SHUTDOWN] = { "shutdown", "", "stop the controller (sent by limpet down)",
			   "shutdown", .hidden = true },
	[CMD_STATUS_ROWS] = { "status rows", "", "the status, each backend an array (a table's row)",
			      "status_rows", .hidden = true },
};

const char *const status_col_keys[STATUS_COLS] = {
	[STATUS_COL_NAME] = "name",	[STATUS_COL_ADDRESS] = "address",
	[STATUS_COL_PORT] = "port",	[STATUS_COL_WEIGHT] = "weight",
	[STATUS_COL_STATE] = "state",	[STATUS_COL_FLOWS] = "flows",
	[STATUS_COL_SESSIONS] = "sessions",
};

/* ---- kinds of argument --------------------------------------------------- */

/* The largest timeout a JSON integer carries. */
#define TIMEOUT_MAX_MS ((__u64)INT64_MAX)

/* Where a kind's value lives in struct command_args. */
enum slot { SLOT_SERVICE, SLOT_NAME, SLOT_ADDRESS, SLOT_PORT, SLOT_WEIGHT, SLOT_TIMEOUT };

struct kind {
	enum slot slot;
	const char *token;	/* as written in a synopsis */
	const char *label;	/* in messages: "<command>: <label>: ..." */
	const char *member;	/* request member */
	bool integer;		/* a JSON integer on the wire; else a string */
	const char *unit;	/* appended to an integer's text ("ms") */
	int (*parse)(const char *text, struct command_args *a, char *why, size_t len);
};

static int arg_service(const char *text, struct command_args *a, char *why, size_t len)
{
	int err = value_name(text, why, len);

	if (!err)
		snprintf(a->service, sizeof(a->service), "%s", text);
	return err;
}

static int arg_name(const char *text, struct command_args *a, char *why, size_t len)
{
	int err = value_name(text, why, len);

	if (!err)
		snprintf(a->name, sizeof(a->name), "%s", text);
	return err;
}

static int arg_address(const char *text, struct command_args *a, char *why, size_t len)
{
	int err = value_address(text, &a->address, why, len);

	/* Valid address text is at most 45 characters: it fits. */
	if (!err)
		snprintf(a->address_text, sizeof(a->address_text), "%s", text);
	return err;
}

static int arg_port(const char *text, struct command_args *a, char *why, size_t len)
{
	int err = value_port(text, &a->port, why, len);

	a->has_port = !err;
	return err;
}

static int arg_weight(const char *text, struct command_args *a, char *why, size_t len)
{
	int err = value_weight(text, &a->weight, why, len);

	a->has_weight = !err;
	return err;
}

static int arg_timeout(const char *text, struct command_args *a, char *why, size_t len)
{
	char q[VALUE_QUOTE_BUF];
	__u64 ms;
	int err;

	/* 0 would drop the backend at once: that is `backend remove`. */
	err = value_duration(text, false, &ms, why, len);
	if (err)
		return err;
	if (ms > TIMEOUT_MAX_MS) {
		snprintf(why, len, "expected a duration of at most %llud, got %s",
			 (unsigned long long)(TIMEOUT_MAX_MS / 86400000),
			 value_quote(q, sizeof(q), text));
		return -EINVAL;
	}
	a->timeout_ms = ms;
	a->has_timeout = true;
	return 0;
}

static const struct kind kinds[] = {
	{ SLOT_SERVICE, "SERVICE", "service", "service", false, NULL, arg_service },
	{ SLOT_NAME, "NAME", "name", "name", false, NULL, arg_name },
	{ SLOT_ADDRESS, "ADDRESS", "address", "address", false, NULL, arg_address },
	{ SLOT_PORT, "P", "port", "port", true, NULL, arg_port },
	{ SLOT_WEIGHT, "W", "weight", "weight", true, NULL, arg_weight },
	{ SLOT_TIMEOUT, "DURATION", "timeout", "timeout_ms", true, "ms", arg_timeout },
};

static const struct kind *find_kind(const char *token, size_t len)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strlen(kinds[i].token) == len && !strncmp(kinds[i].token, token, len))
			return &kinds[i];
	return NULL;
}

/* ---- grammar from the synopsis ------------------------------------------- */

#define MAX_POS 4
#define MAX_OPT 4
#define OPT_NAME_MAX 24

struct option {
	char name[OPT_NAME_MAX];	/* without "--" */
	const struct kind *kind;	/* NULL: the --json flag */
};

struct grammar {
	const struct kind *pos[MAX_POS];
	size_t n_pos;
	struct option opt[MAX_OPT];
	size_t n_opt;
};

/* Split <synopsis> ("SERVICE NAME [--timeout DURATION] [--json]") into a grammar. */
static int parse_synopsis(const char *synopsis, struct grammar *g)
{
	const char *p = synopsis, *tok;
	bool in_opt = false;
	size_t len;

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
			struct option *o = &g->opt[g->n_opt];
			size_t nlen = strcspn(tok + 3, " ]");

			if (g->n_opt >= MAX_OPT || nlen >= OPT_NAME_MAX || in_opt)
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
			if (g->n_pos >= MAX_POS)
				return -EINVAL;
			g->pos[g->n_pos] = find_kind(tok, len);
			if (!g->pos[g->n_pos])
				return -EINVAL;
			g->n_pos++;
		}
	}
	return in_opt ? -EINVAL : 0;
}

/* The grammar of controller command <c>; its absence is a bug of commands[]. */
static int grammar_of(const struct command *c, struct grammar *g, char *err, size_t errlen)
{
	if (!parse_synopsis(c->synopsis, g))
		return 0;
	/* The unit tests parse every entry. */
	snprintf(err, errlen, "%s: internal error: bad synopsis \"%s\"", c->name, c->synopsis);
	return -EINVAL;
}

/* Value <text> of kind <k> into <a>, or "<command>: <label>: <problem>". */
static int put_value(const struct command *c, const struct kind *k, const char *text,
		     struct command_args *a, char *err, size_t errlen)
{
	char why[VALUE_WHY_MAX];

	if (!k->parse(text, a, why, sizeof(why)))
		return 0;
	snprintf(err, errlen, "%s: %s: %s", c->name, k->label, why);
	return -EINVAL;
}

/* ---- command lookup ------------------------------------------------------ */

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
	for (i = 0; i < CMD_MAX && used < len; i++)
		if (!commands[i].hidden && first_word_is(commands[i].name, word, &rest) && *rest)
			used += snprintf(buf + used, len - used, "%s%s", used ? "|" : "", rest);
}

int command_find(int argc, char **argv, int *used, char *err, size_t errlen)
{
	const char *rest;
	bool group = false;
	char actions[128];
	int i;

	if (argc < 1) {
		snprintf(err, errlen, "missing command (see limpet --help)");
		return -EINVAL;
	}
	for (i = 0; i < CMD_MAX; i++) {
		if (commands[i].hidden || !first_word_is(commands[i].name, argv[0], &rest))
			continue;
		if (!*rest) {
			*used = 1;
			return i;
		}
		group = true;
		if (argc > 1 && !strcmp(rest, argv[1])) {
			*used = 2;
			return i;
		}
	}
	if (!group) {
		snprintf(err, errlen, "unknown command \"%s\" (see limpet --help)", argv[0]);
		return -EINVAL;
	}
	list_actions(argv[0], actions, sizeof(actions));
	if (argc < 2)
		snprintf(err, errlen, "%s: missing action; usage: limpet %s {%s} ...", argv[0],
			 argv[0], actions);
	else
		snprintf(err, errlen, "%s: unknown action \"%s\"; usage: limpet %s {%s} ...",
			 argv[0], argv[1], argv[0], actions);
	return -EINVAL;
}

int command_find_request(const char *request)
{
	int i;

	for (i = 0; request && i < CMD_MAX; i++)
		if (commands[i].request && !strcmp(commands[i].request, request))
			return i;
	return -EINVAL;
}

/* ---- the command line ---------------------------------------------------- */

/* "-x" and "--xyz" are options; "-1" is a (bad) number, "-" a positional. */
static bool looks_like_option(const char *arg)
{
	return arg[0] == '-' && arg[1] && !isdigit((unsigned char)arg[1]);
}

static int apply_option(const struct command *c, const struct grammar *g, int argc, char **argv,
			int *i, unsigned int *seen, struct command_args *a, char *err,
			size_t errlen)
{
	const char *arg = argv[*i], *name, *eq, *value;
	size_t nlen, k;

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
		a->json = true;
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
	return put_value(c, g->opt[k].kind, value, a, err, errlen);

unknown:
	nlen = strcspn(arg, "=");
	snprintf(err, errlen, "%s: unknown option \"%.*s\"", c->name, (int)nlen, arg);
	return -EINVAL;
}

int command_from_argv(int argc, char **argv, struct command_args *args, char *err,
		      size_t errlen)
{
	const struct command *c;
	bool options_done = false;
	unsigned int seen = 0;
	struct grammar g;
	size_t n_pos = 0;
	int i, used, id, ret;

	memset(args, 0, sizeof(*args));
	id = command_find(argc, argv, &used, err, errlen);
	if (id < 0)
		return id;
	c = &commands[id];
	args->id = id;
	if (!c->request) {
		snprintf(err, errlen, "%s: not a controller command", c->name);
		return -EINVAL;
	}
	ret = grammar_of(c, &g, err, errlen);
	if (ret)
		return ret;

	for (i = used; i < argc; i++) {
		if (!options_done && !strcmp(argv[i], "--")) {
			options_done = true;
			continue;
		}
		if (!options_done && looks_like_option(argv[i])) {
			ret = apply_option(c, &g, argc, argv, &i, &seen, args, err, errlen);
			if (ret)
				return ret;
			continue;
		}
		if (n_pos == g.n_pos) {
			snprintf(err, errlen,
				 "%s: unexpected argument \"%s\"; usage: limpet %s%s%s", c->name,
				 argv[i], c->name, *c->synopsis ? " " : "", c->synopsis);
			return -EINVAL;
		}
		ret = put_value(c, g.pos[n_pos], argv[i], args, err, errlen);
		if (ret)
			return ret;
		n_pos++;
	}
	if (n_pos < g.n_pos) {
		snprintf(err, errlen, "%s: missing %s; usage: limpet %s %s", c->name,
			 g.pos[n_pos]->token, c->name, c->synopsis);
		return -EINVAL;
	}
	return 0;
}

/* ---- the socket ---------------------------------------------------------- */

/* The kind that travels in member <key> of a request for grammar <g>; NULL: none. */
static const struct kind *member_kind(const struct grammar *g, const char *key, bool *positional)
{
	size_t i;

	for (i = 0; i < g->n_pos; i++) {
		if (!strcmp(g->pos[i]->member, key)) {
			*positional = true;
			return g->pos[i];
		}
	}
	for (i = 0; i < g->n_opt; i++) {
		if (g->opt[i].kind && !strcmp(g->opt[i].kind->member, key)) {
			*positional = false;
			return g->opt[i].kind;
		}
	}
	return NULL;
}

/* What JSON value <v> is, for a message. */
static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_NULL:
		return "null";
	default:
		return "a boolean";
	}
}

/* Member <v> of kind <k> as the text its parser reads. */
static int member_text(const struct command *c, const struct kind *k, const json_t *v,
		       char *buf, size_t len, const char **text, char *err, size_t errlen)
{
	const char *s;

	if (!k->integer && json_is_string(v)) {
		s = json_string_value(v);
		if (strlen(s) != json_string_length(v)) {
			snprintf(err, errlen, "%s: %s: contains a NUL character", c->name,
				 k->label);
			return -EINVAL;
		}
		*text = s;
		return 0;
	}
	if (k->integer && json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT "%s", json_integer_value(v),
			 k->unit ? k->unit : "");
		*text = buf;
		return 0;
	}
	snprintf(err, errlen, "%s: %s: expected a JSON %s, got %s", c->name, k->label,
		 k->integer ? "integer" : "string", json_kind(v));
	return -EINVAL;
}

/* "backend add: unknown members \"a\", \"b\"" when <req> has members <g> lacks. */
static int check_members(const struct command *c, const struct grammar *g, const json_t *req,
			 char *err, size_t errlen)
{
	char q[VALUE_QUOTE_BUF], list[COMMAND_ERR_MAX];
	size_t used = 0, n = 0;
	bool positional;
	const char *key;
	void *it;

	for (it = json_object_iter((json_t *)req); it;
	     it = json_object_iter_next((json_t *)req, it)) {
		key = json_object_iter_key(it);
		if (!strcmp(key, "cmd") || member_kind(g, key, &positional))
			continue;
		n++;
		if (used < sizeof(list))
			used += snprintf(list + used, sizeof(list) - used, "%s%s",
					 n > 1 ? ", " : "", value_quote(q, sizeof(q), key));
	}
	if (!n)
		return 0;
	snprintf(err, errlen, "%s: unknown member%s %s", c->name, n > 1 ? "s" : "", list);
	return -EINVAL;
}

int command_from_request(const json_t *request, struct command_args *args, char *err,
			 size_t errlen)
{
	const char *cmd = json_string_value(json_object_get(request, "cmd"));
	const struct command *c;
	char num[40];
	const char *text;
	struct grammar g;
	size_t i;
	int id, ret;

	memset(args, 0, sizeof(*args));
	if (!cmd) {
		snprintf(err, errlen, "bad request: no cmd");
		return -EINVAL;
	}
	id = command_find_request(cmd);
	if (id < 0) {
		snprintf(err, errlen, "unknown command '%s'", cmd);
		return -EINVAL;
	}
	c = &commands[id];
	args->id = id;
	ret = grammar_of(c, &g, err, errlen);
	if (!ret)
		ret = check_members(c, &g, request, err, errlen);
	if (ret)
		return ret;

	for (i = 0; i < g.n_pos + g.n_opt; i++) {
		const struct kind *k = i < g.n_pos ? g.pos[i] : g.opt[i - g.n_pos].kind;
		const json_t *v;

		if (!k)
			continue;	/* --json: the client's business */
		v = json_object_get(request, k->member);
		if (!v && i < g.n_pos) {
			snprintf(err, errlen, "%s: missing member \"%s\"", c->name, k->member);
			return -EINVAL;
		}
		if (!v)
			continue;
		ret = member_text(c, k, v, num, sizeof(num), &text, err, errlen);
		if (!ret)
			ret = put_value(c, k, text, args, err, errlen);
		if (ret)
			return ret;
	}
	return 0;
}

/* Member of kind <k> of <a> into <req>; absent options are left out. */
static int put_member(json_t *req, const struct kind *k, const struct command_args *a)
{
	json_t *v;

	switch (k->slot) {
	case SLOT_SERVICE:
		v = json_string(a->service);
		break;
	case SLOT_NAME:
		v = json_string(a->name);
		break;
	case SLOT_ADDRESS:
		v = json_string(a->address_text);
		break;
	case SLOT_PORT:
		if (!a->has_port)
			return 0;
		v = json_integer(a->port);
		break;
	case SLOT_WEIGHT:
		if (!a->has_weight)
			return 0;
		v = json_integer(a->weight);
		break;
	case SLOT_TIMEOUT:
		if (!a->has_timeout)
			return 0;
		v = json_integer((json_int_t)a->timeout_ms);
		break;
	default:
		return -EINVAL;
	}
	return v ? json_object_set_new(req, k->member, v) : -ENOMEM;
}

json_t *command_request(const struct command_args *args)
{
	const struct command *c;
	struct grammar g;
	json_t *req;
	size_t i;

	if ((unsigned int)args->id >= CMD_MAX)
		return NULL;
	c = &commands[args->id];
	if (!c->request || parse_synopsis(c->synopsis, &g))
		return NULL;
	req = json_pack("{s:s}", "cmd", c->request);
	for (i = 0; req && i < g.n_pos + g.n_opt; i++) {
		const struct kind *k = i < g.n_pos ? g.pos[i] : g.opt[i - g.n_pos].kind;

		if (k && put_member(req, k, args)) {
			json_decref(req);
			req = NULL;
		}
	}
	return req;
}
