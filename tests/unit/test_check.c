// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_check.c - `limpet check` (controller_check()): the validation of
 * `limpet run` alone. Exit 0 for a valid file (warnings printed, status
 * unchanged), 1 with the one "FILE:LINE: KEY: problem" line otherwise, a
 * missing interface included; and nothing created, not even secret_file.
 */
#define _XOPEN_SOURCE 700	/* nftw() */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "run/controller.h"

static char dir[] = "/tmp/limpet-check-XXXXXX";
static char path[128];

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/limpet.yaml", dir);
	cr_redirect_stderr();
}

static void write_config(const char *iface, const char *services)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, "instance: t\ninterfaces:\n  - name: %s\nsecret_file: %s/keys/secret\n%s", iface,
		dir, services);
	fclose(f);
}

#define ONE_SERVICE "services:\n  - name: web\n    vip: 10.0.0.1\n    port: 80\n" \
		    "    backends: [{name: b1, address: 10.20.0.11}]\n"

static int remove_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

/* The test's directory and whatever it left there (configs, secrets, keys/). */
static void teardown(void)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(check, .init = setup, .fini = teardown);

Test(check, valid_file_is_silent_and_touches_nothing)
{
	struct stat st;

	write_config("lo", ONE_SERVICE);
	cr_expect_eq(controller_check(path, NULL, 0), 0);
	fflush(stderr);
	cr_expect_stderr_eq_str("");
	cr_expect_neq(stat(dir, &st), -1);
	cr_expect_eq(stat(strcat(strcpy((char[160]){ 0 }, dir), "/keys"), &st), -1,
		     "check created secret_file's directory");
}

Test(check, missing_interface_is_an_error)
{
	char want[512];

	write_config("lp-nosuch0", ONE_SERVICE);
	cr_expect_eq(controller_check(path, NULL, 0), 1);
	fflush(stderr);
	snprintf(want, sizeof(want), "%s:3: interfaces[0].name: interface 'lp-nosuch0' not found\n",
		 path);
	cr_expect_stderr_eq_str(want);
}

Test(check, syntax_error_is_file_line_key)
{
	char want[512];

	write_config("lo", "services:\n  - name: web\n    vip: 10.0.0.1\n    port: 80x\n"
		     "    backends: []\n");
	cr_expect_eq(controller_check(path, NULL, 0), 1);
	fflush(stderr);
	snprintf(want, sizeof(want),
		 "%s:8: services[0].port: expected an integer 1-65535, got \"80x\"\n", path);
	cr_expect_stderr_eq_str(want);
}

Test(check, warnings_do_not_fail)
{
	char want[512];

	write_config("lo", "services:\n  - name: web\n    vip: 10.0.0.1\n    port: 80\n"
		     "    backends: []\n");
	cr_expect_eq(controller_check(path, NULL, 0), 0);
	fflush(stderr);
	snprintf(want, sizeof(want), "warning: %s:9: services[0].backends: no backends: the "
		 "service has nowhere to send its clients (add some, or `limpet backend add` "
		 "them at run time)\n", path);
	cr_expect_stderr_eq_str(want);
}

Test(check, missing_announce_interface_is_an_error)
{
	char want[512];

	write_config("lo", "cluster:\n  node: n1\n  announce_interface: lp-nosuch1\n" ONE_SERVICE);
	cr_expect_eq(controller_check(path, NULL, 0), 1);
	fflush(stderr);
	snprintf(want, sizeof(want),
		 "%s:7: cluster.announce_interface: interface 'lp-nosuch1' not found\n", path);
	cr_expect_stderr_eq_str(want);
}

/* The warning of a cluster of two nodes with HTTP services (service web, line 5). */
#define WARN_HTTP_IN_CLUSTER                                                            \
	"warning: %s:5: service web: mode http in a cluster: a client without TCP "    \
	"timestamps keeps its connection across nodes for its first 1024 MiB each way; " \
	"after that only while its packets and its backend's replies reach the node "   \
	"that bound it\n"

/* A cluster with cookie affinity needs the same key file on every node. */
Test(check, cluster_without_its_key_file_warns)
{
	char want[1024];

	write_config("lo", "cluster: {node: n1}\nservices:\n  - name: web\n    vip: 10.0.0.1\n"
		     "    port: 80\n    mode: http\n    affinity: {type: cookie}\n"
		     "    backends: [{name: b1, address: 10.20.0.11}]\n");
	cr_expect_eq(controller_check(path, NULL, 0), 0);
	fflush(stderr);
	snprintf(want, sizeof(want),
		 "warning: %s:5: secret_file: %s/keys/secret does not exist: run would create a "
		 "new key on this node alone; copy one node's key file to every node of the "
		 "cluster\n", path, dir);
	cr_expect_stderr_eq_str(want);
}

/* An HTTP service's backend that an L4 NAT service shares: named. */
Test(check, cluster_http_backend_shared_with_l4_warns)
{
	char want[1024];

	write_config("lo", "cluster: {node: n1, nodes: [{name: n1, address: 10.9.0.1}, "
		     "{name: n2, address: 10.9.0.2}]}\n"
		     "services:\n  - name: web\n    vip: 10.0.0.1\n"
		     "    port: 80\n    mode: http\n    affinity: {type: none}\n"
		     "    backends: [{name: b1, address: 10.20.0.11}, {name: b2, address: 10.20.0.12}]\n"
		     "  - name: tcp\n    vip: 10.0.0.2\n    port: 80\n"
		     "    backends: [{name: t1, address: 10.20.0.12}]\n");
	cr_expect_eq(controller_check(path, NULL, 0), 0);
	fflush(stderr);
	snprintf(want, sizeof(want),
		 WARN_HTTP_IN_CLUSTER
		 "warning: %s:5: service web: backend b2: also a backend of L4 service tcp, whose "
		 "claim on its replies wins: another node's connections to it break here\n",
		 path, path);
	cr_expect_stderr_eq_str(want);
}

/* Nodes of two families: the one of the other family is reached on a shared link only. */
Test(check, cluster_node_of_another_family_warns)
{
	char want[512];

	write_config("lo", "cluster: {node: n1, nodes: [{name: n1, address: 10.9.0.1}, "
		     "{name: n2, address: \"fd00:9::2\"}]}\n" ONE_SERVICE);
	cr_expect_eq(controller_check(path, NULL, 0), 0);
	fflush(stderr);
	snprintf(want, sizeof(want),
		 "warning: %s:5: cluster.nodes: n2: an IPv6 address, this node's is IPv4: its "
		 "segments reach it only on a link both share, never encapsulated through a "
		 "router\n", path);
	cr_expect_stderr_eq_str(want);
}

/* ---- --peer: what another node's file disagrees on ---- */

static char peer_path[160];

/* Another node's file: <node> and <services> (its interface need not exist here). */
static void write_peer(const char *node, const char *secret, const char *services)
{
	FILE *f;

	snprintf(peer_path, sizeof(peer_path), "%s/peer.yaml", dir);
	f = fopen(peer_path, "w");
	cr_assert_not_null(f);
	fprintf(f, "instance: t\ninterfaces:\n  - name: lp-other0\nsecret_file: %s\n"
		"cluster:\n  node: %s\n  nodes: [{name: n1, address: 10.9.0.1}, "
		"{name: n2, address: 10.9.0.2}]\n%s", secret, node, services);
	fclose(f);
}

static void write_node(const char *secret, const char *services)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fprintf(f, "instance: t\ninterfaces:\n  - name: lo\nsecret_file: %s\n"
		"cluster:\n  node: n1\n  nodes: [{name: n1, address: 10.9.0.1}, "
		"{name: n2, address: 10.9.0.2}]\n%s", secret, services);
	fclose(f);
}

#define L4_SERVICE(ring, b1_weight, more) \
	"services:\n  - name: web\n    vip: 10.0.0.1\n    port: 80\n    ring_size: " ring "\n" \
	"    backends:\n      - {name: b1, address: 10.20.0.11, weight: " b1_weight "}\n" more

Test(check, identical_peer_is_silent)
{
	const char *const peers[] = { peer_path };

	write_node("/nonexistent/secret", L4_SERVICE("65537", "1", ""));
	write_peer("n2", "/nonexistent/secret", L4_SERVICE("65537", "1", ""));
	cr_expect_eq(controller_check(path, peers, 1), 0);
	fflush(stderr);
	cr_expect_stderr_eq_str("");
}

Test(check, peer_differences_are_one_line_each)
{
	const char *const peers[] = { peer_path };
	char want[2048];

	write_node("/nonexistent/secret", L4_SERVICE("65537", "1", ""));
	write_peer("n1", "/nonexistent/secret",
		   L4_SERVICE("10007", "2", "      - {name: b2, address: 10.20.0.12}\n"));
	cr_expect_eq(controller_check(path, peers, 1), 0);
	fflush(stderr);
	snprintf(want, sizeof(want),
		 "warning: peer %s: cluster.node: both files name this node 'n1'\n"
		 "warning: peer %s: service web: ring_size 65537 here, 10007 there\n"
		 "warning: peer %s: service web: backend b1: weight 1 here, 2 there\n"
		 "warning: peer %s: service web: backend b2 is only there\n",
		 peer_path, peer_path, peer_path, peer_path);
	cr_expect_stderr_eq_str(want);
}

Test(check, peer_with_other_cookie_keys_warns)
{
	const char *const peers[] = { peer_path };
	char a[160], b[160], want[1024];
	FILE *f;

	snprintf(a, sizeof(a), "%s/a.secret", dir);
	snprintf(b, sizeof(b), "%s/b.secret", dir);
	f = fopen(a, "w");
	cr_assert_not_null(f);
	fputs("1 1700000000 00112233445566778899aabbccddeeff\n", f);
	fclose(f);
	f = fopen(b, "w");
	cr_assert_not_null(f);
	fputs("1 1700000000 ffeeddccbbaa99887766554433221100\n", f);
	fclose(f);
	write_node(a, L4_SERVICE("65537", "1", ""));
	write_peer("n2", b, L4_SERVICE("65537", "1", ""));
	cr_expect_eq(controller_check(path, peers, 1), 0);
	fflush(stderr);
	snprintf(want, sizeof(want),
		 "warning: peer %s: secret_file: %s here and %s there hold different cookie "
		 "keys (copy one node's file to every node)\n", peer_path, a, b);
	cr_expect_stderr_eq_str(want);
}

Test(check, peer_that_does_not_load_fails)
{
	const char *const peers[] = { peer_path };
	char want[512];

	write_node("/nonexistent/secret", L4_SERVICE("65537", "1", ""));
	write_peer("n2", "/nonexistent/secret", "services: 7\n");
	cr_expect_eq(controller_check(path, peers, 1), 1);
	fflush(stderr);
	snprintf(want, sizeof(want), "%s:8: services: expected a list, got \"7\"\n", peer_path);
	cr_expect_stderr_eq_str(want);
}
