/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_cli.c - the CLI's argument parsing and the control socket protocol.
 *
 * A command line becomes a request as cli_run() makes it: command_from_argv()
 * then command_request() (proto/command.h). That is checked table-first:
 * every valid form against the exact request it must produce, every invalid
 * form against -EINVAL and a word of its message. The socket tests run a
 * real server thread on a socket in a fresh temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <criterion/criterion.h>

#include "cli/cli.h"
#include "proto/command.h"
#include "proto/control.h"

#define MAX_ARGS 12
#define NAME_63 "012345678901234567890123456789012345678901234567890123456789012"

struct valid_case {
	const char *argv[MAX_ARGS];	/* NULL-terminated */
	const char *request;		/* expected, as JSON text */
};

struct invalid_case {
	const char *argv[MAX_ARGS];
	const char *message;		/* must appear in the error */
};

static const struct valid_case valid_cases[] = {
	{ { "status" }, "{\"cmd\":\"status\"}" },
	{ { "status", "--json" }, "{\"cmd\":\"status\"}" },
	{ { "stats" }, "{\"cmd\":\"stats\"}" },
	{ { "stats", "--json" }, "{\"cmd\":\"stats\"}" },
	{ { "reload" }, "{\"cmd\":\"reload\"}" },
	{ { "keys", "rotate" }, "{\"cmd\":\"keys_rotate\"}" },
	{ { "backend", "add", "web", "b3", "10.20.0.13" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\","
	  "\"address\":\"10.20.0.13\"}" },
	{ { "backend", "add", "web", "b3", "10.20.0.13", "--port", "8080", "--weight", "5" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"10.20.0.13\","
	  "\"port\":8080,\"weight\":5}" },
	{ { "backend", "add", "--port=8080", "web", "--weight=0", "b3", "10.20.0.13" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"10.20.0.13\","
	  "\"port\":8080,\"weight\":0}" },
	{ { "backend", "add", "web-2.prod", "b_3", "2001:db8::13", "--port", "443" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web-2.prod\",\"name\":\"b_3\","
	  "\"address\":\"2001:db8::13\",\"port\":443}" },
	{ { "backend", "add", "web", "b3", "--", "10.20.0.13" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\","
	  "\"address\":\"10.20.0.13\"}" },
	{ { "backend", "remove", "web", "b1" },
	  "{\"cmd\":\"backend_remove\",\"service\":\"web\",\"name\":\"b1\"}" },
	{ { "backend", "drain", "web", "b1" },
	  "{\"cmd\":\"backend_drain\",\"service\":\"web\",\"name\":\"b1\"}" },
	{ { "backend", "drain", "web", "b1", "--timeout", "30s" },
	  "{\"cmd\":\"backend_drain\",\"service\":\"web\",\"name\":\"b1\",\"timeout_ms\":30000}" },
	{ { "backend", "drain", "--timeout=500ms", "web", "b1" },
	  "{\"cmd\":\"backend_drain\",\"service\":\"web\",\"name\":\"b1\",\"timeout_ms\":500}" },
	{ { "backend", "drain", "web", "b1", "--timeout", "7d" },
	  "{\"cmd\":\"backend_drain\",\"service\":\"web\",\"name\":\"b1\","
	  "\"timeout_ms\":604800000}" },
	{ { "backend", "undrain", "web", "b1" },
	  "{\"cmd\":\"backend_undrain\",\"service\":\"web\",\"name\":\"b1\"}" },
	{ { "backend", "weight", "web", "b1", "0" },
	  "{\"cmd\":\"backend_weight\",\"service\":\"web\",\"name\":\"b1\",\"weight\":0}" },
	{ { "backend", "weight", "web", "b1", "65535" },
	  "{\"cmd\":\"backend_weight\",\"service\":\"web\",\"name\":\"b1\",\"weight\":65535}" },
	{ { "backend", "remove", "s", NAME_63 },
	  "{\"cmd\":\"backend_remove\",\"service\":\"s\","
	  "\"name\":\"" NAME_63 "\"}" },
};

static const struct invalid_case invalid_cases[] = {
	/* commands and actions */
	{ { "frobnicate" }, "unknown command \"frobnicate\"" },
	{ { "backend" }, "backend: missing action" },
	{ { "backend", "frob", "web", "b1" }, "backend: unknown action \"frob\"" },
	{ { "keys" }, "keys: missing action" },
	{ { "keys", "delete" }, "unknown action \"delete\"" },
	{ { "run" }, "not a controller command" },
	{ { "version" }, "not a controller command" },
	/* argument counts */
	{ { "status", "extra" }, "status: unexpected argument \"extra\"" },
	{ { "reload", "now" }, "reload: unexpected argument \"now\"" },
	{ { "keys", "rotate", "x" }, "unexpected argument \"x\"" },
	{ { "backend", "add", "web", "b3" }, "backend add: missing ADDRESS" },
	{ { "backend", "add" }, "backend add: missing SERVICE" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "x" }, "unexpected argument \"x\"" },
	{ { "backend", "remove", "web" }, "backend remove: missing NAME" },
	{ { "backend", "remove", "web", "b1", "b2" }, "unexpected argument \"b2\"" },
	{ { "backend", "drain", "web" }, "missing NAME" },
	{ { "backend", "undrain", "web", "b1", "x" }, "unexpected argument \"x\"" },
	{ { "backend", "weight", "web", "b1" }, "backend weight: missing W" },
	{ { "backend", "weight", "web", "b1", "3", "4" }, "unexpected argument \"4\"" },
	/* addresses */
	{ { "backend", "add", "web", "b3", "10.0.0.300" },
	  "backend add: address: expected an IPv4 or IPv6 address, got \"10.0.0.300\"" },
	{ { "backend", "add", "web", "b3", "example.com" },
	  "address: expected an IPv4 or IPv6 address, got \"example.com\"" },
	{ { "backend", "add", "web", "b3", "2001:db8::g" },
	  "address: expected an IPv4 or IPv6 address, got \"2001:db8::g\"" },
	{ { "backend", "add", "web", "b3", "" },
	  "address: expected an IPv4 or IPv6 address, got \"\"" },
	/* the file's rule: a backend address is unicast */
	{ { "backend", "add", "web", "b3", "0.0.0.0" },
	  "backend add: address: expected a unicast address, got \"0.0.0.0\"" },
	{ { "backend", "add", "web", "b3", "255.255.255.255" }, "expected a unicast address" },
	{ { "backend", "add", "web", "b3", "224.0.0.1" }, "expected a unicast address" },
	{ { "backend", "add", "web", "b3", "::" }, "expected a unicast address, got \"::\"" },
	{ { "backend", "add", "web", "b3", "ff02::1" }, "expected a unicast address" },
	/* weights */
	{ { "backend", "weight", "web", "b1", "-1" },
	  "backend weight: weight: expected an integer 0-65535, got \"-1\"" },
	{ { "backend", "weight", "web", "b1", "65536" }, "weight: expected an integer 0-65535" },
	{ { "backend", "weight", "web", "b1", "70000" },
	  "backend weight: weight: expected an integer 0-65535, got \"70000\"" },
	{ { "backend", "weight", "web", "b1", "heavy" }, "got \"heavy\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--weight", "1.5" },
	  "backend add: weight: expected an integer 0-65535, got \"1.5\"" },
	/* ports */
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--port", "0" },
	  "backend add: port: expected an integer 1-65535, got \"0\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--port=65536" }, "got \"65536\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--port", "http" }, "got \"http\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--port" }, "option --port needs a value" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--port", "80", "--port", "81" },
	  "option --port given twice" },
	/* durations */
	{ { "backend", "drain", "web", "b1", "--timeout", "5x" },
	  "backend drain: timeout: expected a duration such as 500ms, 30s, 5m, 23h or 7d, "
	  "got \"5x\"" },
	{ { "backend", "drain", "web", "b1", "--timeout", "30" }, "timeout: expected a duration" },
	{ { "backend", "drain", "web", "b1", "--timeout=" }, "duration such as 500ms, 30s, 5m, "
	  "23h or 7d, got \"\"" },
	{ { "backend", "drain", "web", "b1", "--timeout", "0s" },
	  "backend drain: timeout: must be greater than 0, got \"0s\"" },
	{ { "backend", "drain", "web", "b1", "--timeout", "213503982334d" },
	  "timeout: expected a duration of at most 106751991167d" },
	{ { "backend", "drain", "web", "b1", "--timeout" }, "option --timeout needs a value" },
	/* options */
	{ { "status", "--yaml" }, "status: unknown option \"--yaml\"" },
	{ { "status", "-j" }, "unknown option \"-j\"" },
	{ { "status", "--json=yes" }, "option --json takes no value" },
	{ { "status", "--json", "--json" }, "option --json given twice" },
	{ { "backend", "remove", "web", "b1", "--timeout", "5s" }, "unknown option \"--timeout\"" },
	{ { "backend", "weight", "web", "b1", "--weight=3" }, "unknown option \"--weight\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--json" }, "unknown option \"--json\"" },
	/* names */
	{ { "backend", "remove", "web app", "b1" },
	  "backend remove: service: expected a name of 1-63 characters from [A-Za-z0-9_.-], "
	  "got \"web app\"" },
	{ { "backend", "remove", "web", "b/1" }, "name: expected a name of 1-63 characters from "
	  "[A-Za-z0-9_.-], got \"b/1\"" },
	{ { "backend", "remove", "web", "" }, "name: expected a name of 1-63 characters from "
	  "[A-Za-z0-9_.-], got \"\"" },
	{ { "backend", "remove", "web", "b\xc3\xa9" }, "backend remove: name: expected a name" },
	{ { "backend", "remove", "s", NAME_63 "x" },
	  "backend remove: name: expected a name of 1-63 characters" },
	{ { "backend", "add", "web", "a b", "10.0.0.3" },
	  "backend add: name: expected a name of 1-63 characters from [A-Za-z0-9_.-], "
	  "got \"a b\"" },
	/* a request only, not typed */
	{ { "shutdown" }, "unknown command \"shutdown\"" },
};

static int argv_count(const char *const *argv)
{
	int n = 0;

	while (n < MAX_ARGS && argv[n])
		n++;
	return n;
}

static bool has_arg(const char *const *argv, const char *arg)
{
	int i;

	for (i = 0; i < argv_count(argv); i++)
		if (!strcmp(argv[i], arg))
			return true;
	return false;
}

static char *argv_text(const char *const *argv)
{
	static char buf[512];
	size_t used = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < argv_count(argv); i++)
		used += snprintf(buf + used, sizeof(buf) - used, "%s'%s'", i ? " " : "", argv[i]);
	return buf;
}

/* The request a command line becomes, as cli_run() builds it. */
static int build_request(int argc, char **argv, json_t **request, bool *json_output, char *err,
			 size_t errlen)
{
	struct command_args args;
	int ret;

	*request = NULL;
	*json_output = false;
	ret = command_from_argv(argc, argv, &args, err, errlen);
	if (ret)
		return ret;
	*request = command_request(&args);
	*json_output = args.json;
	return *request ? 0 : -ENOMEM;
}

Test(cli, valid_requests)
{
	size_t i;

	for (i = 0; i < sizeof(valid_cases) / sizeof(valid_cases[0]); i++) {
		const struct valid_case *c = &valid_cases[i];
		json_t *request = NULL, *expected;
		char err[CLI_ERR_MAX] = "";
		char *got;
		bool want_json = has_arg(c->argv, "--json"), json_output = !want_json;
		int ret;

		ret = build_request(argv_count(c->argv), (char **)c->argv, &request,
					&json_output, err, sizeof(err));
		cr_expect_eq(ret, 0, "%s: returned %d (%s)", argv_text(c->argv), ret, err);
		if (ret)
			continue;
		expected = json_loads(c->request, 0, NULL);
		cr_assert_not_null(expected, "bad expected JSON for %s", argv_text(c->argv));
		got = json_dumps(request, JSON_COMPACT | JSON_SORT_KEYS);
		cr_expect(json_equal(request, expected), "%s: got %s, want %s",
			  argv_text(c->argv), got, c->request);
		cr_expect_eq(json_output, want_json, "%s: json_output", argv_text(c->argv));
		free(got);
		json_decref(expected);
		json_decref(request);
	}
}

Test(cli, invalid_requests)
{
	size_t i;

	for (i = 0; i < sizeof(invalid_cases) / sizeof(invalid_cases[0]); i++) {
		const struct invalid_case *c = &invalid_cases[i];
		json_t *request = (json_t *)1;
		char err[CLI_ERR_MAX] = "";
		bool json_output;
		int ret;

		ret = build_request(argv_count(c->argv), (char **)c->argv, &request,
					&json_output, err, sizeof(err));
		cr_expect_eq(ret, -EINVAL, "%s: returned %d", argv_text(c->argv), ret);
		cr_expect_null(request, "%s: request left set", argv_text(c->argv));
		cr_expect(strstr(err, c->message), "%s: error \"%s\" lacks \"%s\"",
			  argv_text(c->argv), err, c->message);
		cr_expect(!strchr(err, '\n'), "%s: error spans lines", argv_text(c->argv));
		if (!ret)
			json_decref(request);
	}
}

/* Every controller command's synopsis must parse: it is the grammar. */
Test(cli, command_table)
{
	char err[CLI_ERR_MAX], *argv[MAX_ARGS], words[64], *save;
	json_t *request;
	bool json_output;
	size_t i;
	int argc;

	cr_assert_gt(CMD_MAX, 10);
	for (i = 0; i < CMD_MAX; i++) {
		const struct command *c = &commands[i];

		cr_expect(c->name && c->synopsis && c->help && *c->help, "entry %zu incomplete", i);
		cr_expect_eq(command_find_request(c->request), c->request ? (int)i : -EINVAL,
			     "%s: request %s", c->name, c->request);
		if (!c->request || c->hidden)
			continue;
		snprintf(words, sizeof(words), "%s", c->name);
		argc = 0;
		for (argv[argc] = strtok_r(words, " ", &save); argv[argc];
		     argv[argc] = strtok_r(NULL, " ", &save))
			argc++;
		err[0] = '\0';
		build_request(argc, argv, &request, &json_output, err, sizeof(err));
		cr_expect(!strstr(err, "bad synopsis"), "%s: %s", c->name, err);
		json_decref(request);
	}
}

Test(cli, usage_lists_every_command)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	cli_usage(f);
	fclose(f);
	for (i = 0; i < CMD_MAX; i++) {
		if (commands[i].hidden)
			cr_expect(!strstr(text, commands[i].name), "usage shows hidden %s",
				  commands[i].name);
		else
			cr_expect(strstr(text, commands[i].name), "usage lacks %s",
				  commands[i].name);
	}
	cr_expect(strstr(text, "run --config FILE"));
	cr_expect(strstr(text, "backend add SERVICE NAME ADDRESS [--port P] [--weight W]"));
	cr_expect(strstr(text, "--socket PATH"));
	free(text);
}

/* ---- control socket ---------------------------------------------------- */

struct server {
	int fd;
	int n;			/* connections to serve */
	bool old;		/* a controller that knows no status_rows */
	int results[8];
	pthread_t thread;
};

static json_t *echo_handler(void *ctx, const json_t *request)
{
	const char *cmd = json_string_value(json_object_get(request, "cmd"));
	const struct server *s = ctx;

	if (!cmd)
		return control_reply_error("missing \"cmd\"");
	/* The line break checks that errors are kept to one line. */
	if (!strcmp(cmd, "fail") ||
	    !strcmp(json_string_value(json_object_get(request, "name")) ?: "", "b9"))
		return control_reply_error("backend \"%s\" not found\nin service web", "b9");
	if (!strcmp(cmd, "status_rows") && !(s && s->old))
		return control_reply_ok(json_pack("{s:s, s:[{s:s, s:s, s:i, s:s, s:s, s:s, s:s,"
						  " s:[[s, s, i, i, s, i, i]]}]}",
						  "instance", "test", "services", "name", "web",
						  "vip", "10.100.0.100", "port", 80, "protocol",
						  "tcp", "mode", "l4", "forwarding", "nat",
						  "affinity", "client_ip", "backends", "b1",
						  "10.20.0.11", 80, 1, "up", 12, 40));
	if (!strcmp(cmd, "status_rows"))
		return control_reply_error("unknown command 'status_rows'");
	if (!strcmp(cmd, "status"))
		return control_reply_ok(json_pack("{s:s, s:[{s:s, s:s, s:i, s:s, s:s, s:s, s:s,"
						  " s:[{s:s, s:s, s:i, s:i, s:s, s:i, s:i}]}]}",
						  "instance", "test", "services", "name", "web",
						  "vip", "10.100.0.100", "port", 80, "protocol",
						  "tcp", "mode", "l4", "forwarding", "nat",
						  "affinity", "client_ip", "backends", "name", "b1",
						  "address", "10.20.0.11", "port", 80, "weight", 1,
						  "state", "up", "flows", 12, "sessions", 40));
	if (!strcmp(cmd, "stats"))
		return control_reply_ok(json_pack("{s:s, s:{s:i, s:i}, s:[{s:s, s:i, s:i, s:i, s:i,"
						  " s:[{s:s, s:i, s:i, s:i}]}]}",
						  "instance", "test", "global", "rx_packets", 1000,
						  "xdp_pass", 7, "services", "name", "web",
						  "packets", 993, "bytes", 64000, "new_flows", 12,
						  "drops", 0, "backends", "name", "b1", "packets",
						  993, "bytes", 64000, "new_flows", 12));
	return control_reply_ok(json_pack("{s:s}", "echo", cmd));
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	int i;

	for (i = 0; i < s->n; i++) {
		if (poll(&pfd, 1, 5000) != 1) {
			s->results[i] = -ETIMEDOUT;
			break;
		}
		s->results[i] = control_serve_one(s->fd, echo_handler, s);
	}
	return NULL;
}

static char tmpdir[64];
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

static void make_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/limpet-test-cli.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	/* A subdirectory that does not exist yet: control_listen creates it. */
	snprintf(sock_path, sizeof(sock_path), "%s/run/limpet/test.sock", tmpdir);
}

static void remove_tmpdir(void)
{
	char path[160];

	unlink(sock_path);
	snprintf(path, sizeof(path), "%s/run/limpet", tmpdir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/run", tmpdir);
	rmdir(path);
	rmdir(tmpdir);
}

static void start_server(struct server *s, int n)
{
	s->fd = control_listen(sock_path);
	cr_assert_geq(s->fd, 0, "control_listen: %s", strerror(-s->fd));
	s->n = n;
	cr_assert_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void stop_server(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
}

Test(cli, control_round_trip, .init = make_tmpdir, .fini = remove_tmpdir)
{
	struct server s = { 0 };
	json_t *request, *reply = NULL;
	char err[256] = "";
	struct stat st;
	int ret;

	start_server(&s, 2);
	cr_assert_eq(stat(sock_path, &st), 0);
	cr_expect(S_ISSOCK(st.st_mode));
	cr_expect_eq(st.st_mode & 0777, 0600, "socket mode %o", st.st_mode & 0777);

	request = json_pack("{s:s}", "cmd", "backend_remove");
	ret = control_request(sock_path, request, &reply, err, sizeof(err));
	cr_assert_eq(ret, 0, "control_request: %s", err);
	cr_expect(json_is_true(json_object_get(reply, "ok")));
	cr_expect_str_eq(json_string_value(json_object_get(json_object_get(reply, "result"),
							   "echo")), "backend_remove");
	json_decref(reply);
	json_decref(request);

	request = json_pack("{s:s}", "cmd", "fail");
	ret = control_request(sock_path, request, &reply, err, sizeof(err));
	cr_assert_eq(ret, 0, "control_request: %s", err);
	cr_expect(json_is_false(json_object_get(reply, "ok")));
	cr_expect_str_eq(json_string_value(json_object_get(reply, "error")),
			 "backend \"b9\" not found in service web");
	json_decref(reply);
	json_decref(request);

	stop_server(&s);
	cr_expect_eq(s.results[0], 0);
	cr_expect_eq(s.results[1], 0);
}

/* Send raw bytes the way a broken client would; return the reply line. */
static json_t *raw_exchange(const char *text)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[1024];
	ssize_t n, used = 0;
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	while ((n = read(fd, buf + used, sizeof(buf) - 1 - used)) > 0)
		used += n;
	close(fd);
	buf[used] = '\0';
	cr_expect(used > 0 && buf[used - 1] == '\n', "reply not a line: %s", buf);
	return json_loads(buf, 0, NULL);
}

Test(cli, control_bad_requests, .init = make_tmpdir, .fini = remove_tmpdir)
{
	static const char *const bad[] = { "[1,2]\n", "\"status\"\n", "{\"cmd\":\n", "\n" };
	struct server s = { 0 };
	json_t *reply;
	size_t i;

	start_server(&s, 4);
	for (i = 0; i < 4; i++) {
		reply = raw_exchange(bad[i]);
		cr_assert_not_null(reply, "request %zu: no JSON reply", i);
		cr_expect(json_is_false(json_object_get(reply, "ok")), "request %zu", i);
		cr_expect(!strncmp(json_string_value(json_object_get(reply, "error")) ?: "",
				   "bad request: ", 13),
			  "request %zu: error %s", i,
			  json_string_value(json_object_get(reply, "error")));
		json_decref(reply);
	}
	stop_server(&s);
}

Test(cli, control_request_too_long, .init = make_tmpdir, .fini = remove_tmpdir)
{
	size_t len = CONTROL_REQUEST_MAX + 100;
	struct server s = { 0 };
	char *text = malloc(len + 1);
	json_t *reply;

	cr_assert_not_null(text);
	memset(text, ' ', len);
	text[len - 1] = '\n';
	text[len] = '\0';
	start_server(&s, 1);
	reply = raw_exchange(text);
	cr_assert_not_null(reply);
	cr_expect(strstr(json_string_value(json_object_get(reply, "error")) ?: "",
			 "bad request: longer than"));
	json_decref(reply);
	stop_server(&s);
	cr_expect_eq(s.results[0], -EMSGSIZE);
	free(text);
}

Test(cli, control_listen_stale_and_live, .init = make_tmpdir, .fini = remove_tmpdir)
{
	int fd, fd2;

	fd = control_listen(sock_path);
	cr_assert_geq(fd, 0, "control_listen: %s", strerror(-fd));
	/* A live controller keeps its socket. */
	fd2 = control_listen(sock_path);
	cr_expect_eq(fd2, -EADDRINUSE, "second control_listen returned %d", fd2);
	/* The probe's connection is a no-op for the live one. */
	cr_expect_eq(control_serve_one(fd, echo_handler, NULL), 0);
	cr_expect_eq(control_serve_one(fd, echo_handler, NULL), -EAGAIN);
	/* Closed without unlinking, as after a crash: the file is stale. */
	close(fd);
	fd = control_listen(sock_path);
	cr_expect_geq(fd, 0, "control_listen over a stale socket: %s", strerror(-fd));
	close(fd);
	/* Never replace something that is not a socket. */
	unlink(sock_path);
	fd = creat(sock_path, 0600);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_expect_eq(control_listen(sock_path), -EEXIST);
}

Test(cli, control_missing_socket)
{
	json_t *request = json_pack("{s:s}", "cmd", "status"), *reply = (json_t *)1;
	const char *path = "/nonexistent/limpet/nothing.sock";
	char err[256] = "";
	int ret;

	ret = control_request(path, request, &reply, err, sizeof(err));
	cr_expect_eq(ret, -ENOENT);
	cr_expect_null(reply);
	cr_expect(strstr(err, "cannot reach controller at /nonexistent/limpet/nothing.sock"), "%s",
		  err);
	cr_expect(strstr(err, "is 'limpet run' running?"), "%s", err);
	json_decref(request);
}

Test(cli, default_socket)
{
	char buf[108];

	unsetenv("LIMPET_SOCKET");
	cr_expect_eq(control_default_socket("edge", buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "/run/limpet/edge.sock");
	setenv("LIMPET_SOCKET", "/tmp/x.sock", 1);
	cr_expect_eq(control_default_socket("edge", buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "/tmp/x.sock");
	cr_expect_eq(control_default_socket("edge", buf, 8), -ENAMETOOLONG);
	unsetenv("LIMPET_SOCKET");
}

/* cli_run's exit statuses: 2 usage, 1 unreachable or error reply, 0 ok. */
Test(cli, run_exit_status, .init = make_tmpdir, .fini = remove_tmpdir)
{
	char *usage[] = { "backend", "weight", "web", "b1", "-1" };
	char *status[] = { "status" };
	char *status_json[] = { "status", "--json" };
	char *stats[] = { "stats" };
	char *remove[] = { "backend", "remove", "web", "b1" };
	char *remove_missing[] = { "backend", "remove", "web", "b9" };
	struct server s = { 0 };

	cr_expect_eq(cli_run(sock_path, 5, usage), 2);
	cr_expect_eq(cli_run(sock_path, 1, status), 1);	/* nobody listening */

	start_server(&s, 5);
	cr_expect_eq(cli_run(sock_path, 1, status), 0);
	cr_expect_eq(cli_run(sock_path, 1, stats), 0);
	cr_expect_eq(cli_run(sock_path, 2, status_json), 0);
	cr_expect_eq(cli_run(sock_path, 4, remove), 0);
	cr_expect_eq(cli_run(sock_path, 4, remove_missing), 1);
	stop_server(&s);
}

/* cli_run()'s stdout, malloc'ed; its exit status in <*rc>. */
static char *cli_output(int argc, char **argv, int *rc)
{
	char path[96], *text;
	int saved, fd;
	off_t n;

	snprintf(path, sizeof(path), "%s/out", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	cr_assert_geq(dup2(fd, STDOUT_FILENO), 0);
	*rc = cli_run(sock_path, argc, argv);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = lseek(fd, 0, SEEK_END);
	text = calloc(1, n + 1);
	cr_assert_not_null(text);
	cr_assert_eq(pread(fd, text, n, 0), n);
	close(fd);
	unlink(path);
	return text;
}

/*
 * `limpet status` prints its table from status_rows; from a controller that
 * knows no status_rows, from the objects of status: the same table.
 */
Test(cli, status_table_from_rows_and_from_an_older_controller, .init = make_tmpdir,
     .fini = remove_tmpdir)
{
	static const char want[] =
		"web  10.100.0.100:80/tcp  l4 nat client_ip\n"
		"  BACKEND  ADDRESS        WEIGHT  STATE  FLOWS  SESSIONS\n"
		"  b1       10.20.0.11:80       1  up        12        40\n";
	char *status[] = { "status" };
	struct server s;
	char *text;
	int i, rc;

	for (i = 0; i < 2; i++) {
		s = (struct server){ .old = i == 1 };
		start_server(&s, i == 1 ? 2 : 1);	/* the older one: refused, then status */
		text = cli_output(1, status, &rc);
		stop_server(&s);
		cr_expect_eq(rc, 0, "status exited %d (older controller: %d)", rc, i);
		cr_expect_str_eq(text, want, "older controller: %d", i);
		free(text);
	}
}
