// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_command.c - the command table's two doors (proto/command.h): a
 * command line through command_from_argv() and the request the controller
 * receives through command_from_request() must refuse the same bad value
 * with the same line, and a request built by command_request() must read
 * back as the arguments it came from. Then what only the socket can get
 * wrong: unknown, missing and mistyped members.
 */
#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

#include "proto/command.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_ARGS 12

struct same_case {
	const char *argv[MAX_ARGS];	/* the command line */
	const char *request;		/* the same, as a request */
	const char *message;		/* what both must say, whole */
};

static const struct same_case same_cases[] = {
	{ { "backend", "add", "web", "a b", "10.0.0.3" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"a b\",\"address\":\"10.0.0.3\"}",
	  "backend add: name: expected a name of 1-63 characters from [A-Za-z0-9_.-], "
	  "got \"a b\"" },
	{ { "backend", "add", "we/b", "b3", "10.0.0.3" },
	  "{\"cmd\":\"backend_add\",\"service\":\"we/b\",\"name\":\"b3\",\"address\":\"10.0.0.3\"}",
	  "backend add: service: expected a name of 1-63 characters from [A-Za-z0-9_.-], "
	  "got \"we/b\"" },
	{ { "backend", "add", "web", "b3", "0.0.0.0" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"0.0.0.0\"}",
	  "backend add: address: expected a unicast address, got \"0.0.0.0\"" },
	{ { "backend", "add", "web", "b3", "255.255.255.255" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\","
	  "\"address\":\"255.255.255.255\"}",
	  "backend add: address: expected a unicast address, got \"255.255.255.255\"" },
	{ { "backend", "add", "web", "b3", "224.0.0.1" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"224.0.0.1\"}",
	  "backend add: address: expected a unicast address, got \"224.0.0.1\"" },
	{ { "backend", "add", "web", "b3", "::" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"::\"}",
	  "backend add: address: expected a unicast address, got \"::\"" },
	{ { "backend", "add", "web", "b3", "ff02::1" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"ff02::1\"}",
	  "backend add: address: expected a unicast address, got \"ff02::1\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.300" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\","
	  "\"address\":\"10.0.0.300\"}",
	  "backend add: address: expected an IPv4 or IPv6 address, got \"10.0.0.300\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--weight", "70000" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"10.0.0.3\","
	  "\"weight\":70000}",
	  "backend add: weight: expected an integer 0-65535, got \"70000\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--weight", "-1" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"10.0.0.3\","
	  "\"weight\":-1}",
	  "backend add: weight: expected an integer 0-65535, got \"-1\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--port", "0" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"10.0.0.3\","
	  "\"port\":0}",
	  "backend add: port: expected an integer 1-65535, got \"0\"" },
	{ { "backend", "add", "web", "b3", "10.0.0.3", "--port", "65536" },
	  "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\",\"address\":\"10.0.0.3\","
	  "\"port\":65536}",
	  "backend add: port: expected an integer 1-65535, got \"65536\"" },
	{ { "backend", "weight", "web", "b1", "70000" },
	  "{\"cmd\":\"backend_weight\",\"service\":\"web\",\"name\":\"b1\",\"weight\":70000}",
	  "backend weight: weight: expected an integer 0-65535, got \"70000\"" },
	{ { "backend", "weight", "web", "b1", "-1" },
	  "{\"cmd\":\"backend_weight\",\"service\":\"web\",\"name\":\"b1\",\"weight\":-1}",
	  "backend weight: weight: expected an integer 0-65535, got \"-1\"" },
	{ { "backend", "drain", "web", "b1", "--timeout", "0ms" },
	  "{\"cmd\":\"backend_drain\",\"service\":\"web\",\"name\":\"b1\",\"timeout_ms\":0}",
	  "backend drain: timeout: must be greater than 0, got \"0ms\"" },
	{ { "backend", "drain", "web", "b1", "--timeout", "-5ms" },
	  "{\"cmd\":\"backend_drain\",\"service\":\"web\",\"name\":\"b1\",\"timeout_ms\":-5}",
	  "backend drain: timeout: expected a duration such as 500ms, 30s, 5m, 23h or 7d, "
	  "got \"-5ms\"" },
	{ { "backend", "remove", "web", "b\x01" },
	  "{\"cmd\":\"backend_remove\",\"service\":\"web\",\"name\":\"b\\u0001\"}",
	  "backend remove: name: expected a name of 1-63 characters from [A-Za-z0-9_.-], "
	  "got \"b\\x01\"" },
};

static int argv_count(const char *const *argv)
{
	int n = 0;

	while (n < MAX_ARGS && argv[n])
		n++;
	return n;
}

Test(command, both_doors_say_the_same)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(same_cases); i++) {
		const struct same_case *c = &same_cases[i];
		char argv_err[COMMAND_ERR_MAX] = "", req_err[COMMAND_ERR_MAX] = "";
		struct command_args args;
		json_t *req = json_loads(c->request, 0, NULL);
		int ret;

		cr_assert_not_null(req, "case %zu: bad JSON", i);
		ret = command_from_argv(argv_count(c->argv), (char **)c->argv, &args, argv_err,
					sizeof(argv_err));
		cr_expect_eq(ret, -EINVAL, "case %zu: command line accepted", i);
		ret = command_from_request(req, &args, req_err, sizeof(req_err));
		cr_expect_eq(ret, -EINVAL, "case %zu: request accepted", i);
		cr_expect_str_eq(argv_err, c->message, "case %zu: command line", i);
		cr_expect_str_eq(req_err, c->message, "case %zu: request", i);
		json_decref(req);
	}
}

/* What the CLI sends reads back, on the controller's side, as what was typed. */
Test(command, request_round_trip)
{
	static const char *const lines[][MAX_ARGS] = {
		{ "status" },
		{ "stats", "--json" },
		{ "reload" },
		{ "keys", "rotate" },
		{ "backend", "add", "web", "b3", "2001:DB8::13", "--port", "8080", "--weight",
		  "0" },
		{ "backend", "add", "web", "b3", "10.20.0.13" },
		{ "backend", "remove", "web", "b1" },
		{ "backend", "drain", "web", "b1", "--timeout", "7d" },
		{ "backend", "drain", "web", "b1" },
		{ "backend", "undrain", "web", "b1" },
		{ "backend", "weight", "web", "b1", "65535" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lines); i++) {
		struct command_args typed, received;
		char err[COMMAND_ERR_MAX] = "";
		json_t *req;

		cr_assert_eq(command_from_argv(argv_count(lines[i]), (char **)lines[i], &typed, err,
					       sizeof(err)), 0, "line %zu: %s", i, err);
		req = command_request(&typed);
		cr_assert_not_null(req, "line %zu", i);
		cr_assert_eq(command_from_request(req, &received, err, sizeof(err)), 0,
			     "line %zu: %s", i, err);
		typed.json = false;	/* the client's alone */
		cr_expect_eq(memcmp(&typed, &received, sizeof(typed)), 0, "line %zu differs", i);
		json_decref(req);
	}
}

struct request_case {
	const char *request;
	const char *message;	/* whole */
};

Test(command, request_errors)
{
	static const struct request_case cases[] = {
		{ "{}", "bad request: no cmd" },
		{ "{\"cmd\":5}", "bad request: no cmd" },
		{ "{\"cmd\":\"frob\"}", "unknown command 'frob'" },
		{ "{\"cmd\":\"run\"}", "unknown command 'run'" },
		{ "{\"cmd\":\"status\",\"json\":true}", "status: unknown member \"json\"" },
		{ "{\"cmd\":\"reload\",\"service\":\"web\"}",
		  "reload: unknown member \"service\"" },
		{ "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\","
		  "\"address\":\"10.0.0.3\",\"colour\":\"blue\",\"timeout_ms\":5}",
		  "backend add: unknown members \"colour\", \"timeout_ms\"" },
		{ "{\"cmd\":\"backend_add\",\"service\":\"web\",\"name\":\"b3\"}",
		  "backend add: missing member \"address\"" },
		{ "{\"cmd\":\"backend_remove\",\"name\":\"b3\"}",
		  "backend remove: missing member \"service\"" },
		{ "{\"cmd\":\"backend_weight\",\"service\":\"web\",\"name\":\"b1\"}",
		  "backend weight: missing member \"weight\"" },
		{ "{\"cmd\":\"backend_weight\",\"service\":\"web\",\"name\":\"b1\","
		  "\"weight\":\"5\"}",
		  "backend weight: weight: expected a JSON integer, got a string" },
		{ "{\"cmd\":\"backend_weight\",\"service\":\"web\",\"name\":\"b1\",\"weight\":1.5}",
		  "backend weight: weight: expected a JSON integer, got a real number" },
		{ "{\"cmd\":\"backend_remove\",\"service\":\"web\",\"name\":7}",
		  "backend remove: name: expected a JSON string, got an integer" },
		{ "{\"cmd\":\"backend_remove\",\"service\":null,\"name\":\"b1\"}",
		  "backend remove: service: expected a JSON string, got null" },
		{ "{\"cmd\":\"backend_remove\",\"service\":\"web\",\"name\":\"b\\u0000\"}",
		  "backend remove: name: contains a NUL character" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char err[COMMAND_ERR_MAX] = "";
		struct command_args args;
		json_t *req = json_loads(cases[i].request, JSON_ALLOW_NUL, NULL);

		cr_assert_not_null(req, "case %zu: bad JSON", i);
		cr_expect_eq(command_from_request(req, &args, err, sizeof(err)), -EINVAL,
			     "case %zu: accepted", i);
		cr_expect_str_eq(err, cases[i].message, "case %zu", i);
		json_decref(req);
	}
}

/* The hidden shutdown request: in the table, not on the command line. */
Test(command, shutdown_is_a_request_only)
{
	char err[COMMAND_ERR_MAX] = "";
	struct command_args args = { .id = CMD_SHUTDOWN };
	char *argv[] = { "shutdown" };
	json_t *req = command_request(&args);
	int used;

	cr_assert_not_null(req);
	cr_expect_str_eq(json_string_value(json_object_get(req, "cmd")), "shutdown");
	cr_expect_eq(command_from_request(req, &args, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(args.id, CMD_SHUTDOWN);
	cr_expect_eq(command_find(1, argv, &used, err, sizeof(err)), -EINVAL);
	json_decref(req);
	args.id = CMD_RUN;
	cr_expect_null(command_request(&args), "a local command has no request");
}
