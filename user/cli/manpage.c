/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * manpage.c - limpet(8) in troff (man(7) macros), printed by
 * `limpet help --man`.
 *
 * COMMANDS is generated from commands[] (proto/command.h), the table that
 * drives --help, the argument parser and the controller's dispatch;
 * CONFIGURATION from config_keys[] below, a summary of the YAML keys and
 * their defaults (the full reference is the README). Text taken from a
 * table goes through man_text(), which escapes what troff would otherwise
 * interpret: a backslash, a '.' or '\'' starting a line (a request), and '-',
 * written \- so that options, keys and values render as the ASCII
 * hyphen-minus one can copy. The fixed prose is written in troff directly.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "proto/command.h"
#include "proto/control.h"
#include "limpet_limits.h"
#include "cli/manpage.h"

#define STR_(x) #x
#define STR(x) STR_(x)

#define CONFIG_FILE "/etc/limpet/limpet.yaml"
#define PIN_ROOT "/sys/fs/bpf/limpet"

struct config_key {
	const char *key;	/* YAML path: "services[].affinity.type" */
	const char *def;	/* default as written in the file; NULL: required */
	const char *help;	/* one line */
};

/* Every configuration key with the default config_load() applies. */
static const struct config_key config_keys[] = {
	{ "instance", "limpet", "names the pin directory and the default control socket" },
	{ "interfaces[].name", NULL,
	  "an interface the data plane attaches to; list every one that receives client "
	  "traffic or backend replies (at least one)" },
	{ "interfaces[].xdp_mode", "native",
	  "native | generic; native falls back to generic with a warning" },
	{ "secret_file", "/etc/limpet/secret",
	  "cookie MAC keys; created (mode 0600) if missing" },
	{ "metrics.listen", "none",
	  "host:port of the Prometheus text endpoint /metrics; omit it to disable" },
	{ "flow_table_size", STR(LIMPET_FLOW_TABLE_DEFAULT),
	  "flow table entries (LRU); changing it needs limpet down" },
	{ "services[].name", NULL, "service name: 1-63 characters of A-Z a-z 0-9 _ . -" },
	{ "services[].vip", NULL, "virtual IPv4 or IPv6 address" },
	{ "services[].port", NULL, "service port, 1-65535" },
	{ "services[].protocol", "tcp", "tcp | udp" },
	{ "services[].mode", "l4", "l4 | http (plain HTTP/1.x, cookie and header affinity)" },
	{ "services[].forwarding", "nat",
	  "nat | dsr (dsr: l4 only, backends on the balancer's L2 segment with the VIP on lo)" },
	{ "services[].affinity.type", "client_ip", "none | client_ip | cookie | header" },
	{ "services[].affinity.fallback", "client_ip",
	  "cookie/header without a valid key: client_ip | none" },
	{ "services[].affinity.policy", "pin", "pin | rebalance" },
	{ "services[].affinity.cookie.name", "limpet", "cookie name" },
	{ "services[].affinity.cookie.ttl", "23h", "cookie lifetime" },
	{ "services[].affinity.cookie.path", "/", "cookie Path" },
	{ "services[].affinity.cookie.domain", "\"\"", "cookie Domain; empty: none" },
	{ "services[].affinity.cookie.secure", "false", "cookie Secure attribute" },
	{ "services[].affinity.cookie.samesite", "\"\"", "\"\" | lax | strict | none" },
	{ "services[].affinity.headers", "[]", "request headers that carry the session key" },
	{ "services[].affinity.require_all_headers", "false",
	  "header affinity only when every listed header is present" },
	{ "services[].affinity.idle_ttl", "30m", "idle lifetime of header and client_ip sessions" },
	{ "services[].failover", "temporary", "none | temporary | sticky" },
	{ "services[].drain_timeout", "5m", "how long a backend dropped by reload drains" },
	{ "services[].ring_size", STR(LIMPET_RING_SIZE_DEFAULT),
	  "Maglev table size, a prime (at least 100 times the backends)" },
	{ "services[].http.connect_timeout", "2s",
	  "mode http: wait for a backend's SYN-ACK, then try the next backend" },
	{ "services[].http.backend_header", "\"\"",
	  "mode http: header naming the backend, added to each connection's first response" },
	{ "services[].health.type", "tcp", "tcp | http | none" },
	{ "services[].health.path", "/", "http: request path" },
	{ "services[].health.expect", "200", "http: expected status" },
	{ "services[].health.interval", "2s", "time between checks" },
	{ "services[].health.timeout", "1s", "time a check may take" },
	{ "services[].health.rise", "2", "successes before a backend is up" },
	{ "services[].health.fall", "3", "failures before a backend is down" },
	{ "services[].backends[].name", NULL, "backend name, unique in its service" },
	{ "services[].backends[].address", NULL, "IPv4 or IPv6 address, the VIP's family" },
	{ "services[].backends[].port", "the service port", "dsr: must equal the service port" },
	{ "services[].backends[].weight", "1", "0-65535; 0 = no new flows" },
};

/* More than the one line of --help, for a few commands (troff). */
static const char *const command_notes[CMD_MAX] = {
	[CMD_RUN] = "Prints\n.B limpet: ready\non standard error once traffic is being "
		    "balanced.\nSee\n.BR SIGNALS .\n",
	[CMD_DOWN] = "Also stops a controller still running for that instance.\n",
	[CMD_RELOAD] = "Same as sending SIGHUP to the controller.\n",
	[CMD_CHECK] = "Runs the checks of\n.B run\n(the file, then the host: every configured "
		      "interface must exist in the current network namespace) and prints each "
		      "problem as\n.I FILE:LINE: KEY: problem\non standard error. Warnings "
		      "(a service without backends, a file without services) are printed with "
		      "a\n.B warning:\nprefix and do not change the exit status. Opens no map, "
		      "attaches nothing, creates no file (not even secret_file); needs no "
		      "root.\n",
	[CMD_TOP] = "Asks the controller for\n.B status\nand\n.B stats\nonce a second and "
		    "shows per-second rates computed from successive replies: new flows, "
		    "packets and bytes, and for HTTP services cookie outcomes and slow-path "
		    "bindings. Fits 80 columns; press\n.B q\nto quit.\n",
};

/* Print <s> with troff's special characters escaped; <bol>: at line start. */
static void man_text(FILE *out, const char *s, bool bol)
{
	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", out);
		bol = *s == '\n';
		if (*s == '\\')
			fputs("\\(rs", out);
		else if (*s == '-')
			fputs("\\-", out);
		else
			fputc(*s, out);
	}
}

/* A help line as a sentence: capital first, full stop at the end. */
static void man_sentence(FILE *out, const char *s)
{
	size_t n = strlen(s);

	if (!n)
		return;
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	fputc(toupper((unsigned char)*s), out);
	man_text(out, s + 1, false);
	fputs(strchr(".!?", s[n - 1]) ? "\n" : ".\n", out);
}

/* An upper-case word of a synopsis is a metavariable: "SERVICE", "W". */
static bool is_metavar(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			return false;
	return n > 0;
}

/*
 * A synopsis ("SERVICE NAME [--timeout DURATION]") in man style: options
 * bold, metavariables italic, brackets roman. Not at line start.
 */
static void man_synopsis(FILE *out, const char *args)
{
	char word[128];
	const char *p = args;

	while (*p) {
		size_t n = strcspn(p, " "), open = 0, close = 0;

		while (open < n && p[open] == '[')
			open++;
		while (close < n - open && p[n - 1 - close] == ']')
			close++;
		snprintf(word, sizeof(word), "%.*s", (int)(n - open - close), p + open);
		fprintf(out, "%.*s", (int)open, p);
		if (word[0] == '-')
			fputs("\\fB", out);
		else if (is_metavar(word, strlen(word)))
			fputs("\\fI", out);
		else
			fputs("\\fR", out);
		man_text(out, word, false);
		fprintf(out, "\\fR%.*s", (int)close, p + n - close);
		p += n;
		while (*p == ' ')
			fputc(*p++, out);
	}
}

static void man_command(FILE *out, enum command_id id)
{
	const struct command *c = &commands[id];

	fputs(".TP\n\\fBlimpet ", out);
	man_text(out, c->name, false);
	fputs("\\fR", out);
	if (*c->synopsis) {
		fputc(' ', out);
		man_synopsis(out, c->synopsis);
	}
	fputc('\n', out);
	man_sentence(out, c->help);
	if (command_notes[id])
		fputs(command_notes[id], out);
}

static void man_config_key(FILE *out, const struct config_key *k)
{
	fputs(".TP\n\\fB", out);
	man_text(out, k->key, false);
	fputs("\\fR", out);
	if (k->def) {
		fputs(" (default: \\fB", out);
		man_text(out, k->def, false);
		fputs("\\fR)", out);
	} else {
		fputs(" (required)", out);
	}
	fputc('\n', out);
	man_text(out, k->help, true);
	fputc('\n', out);
}

void manpage_print(FILE *out)
{
	size_t i;

	fputs(".\\\" SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause\n"
	      ".\\\" Generated by `limpet help --man` from the binary's command table.\n"
	      ".TH LIMPET 8 \"\" \"limpet " LIMPET_VERSION "\" \"System Administration\"\n"
	      ".SH NAME\n"
	      "limpet \\- XDP layer 4 load balancer with session affinity\n"
	      ".SH SYNOPSIS\n"
	      ".B limpet\n"
	      "[\\fB\\-\\-socket\\fR \\fIPATH\\fR] [\\fB\\-v\\fR]\n"
	      ".I COMMAND\n"
	      "[\\fIARGS\\fR]\n"
	      ".br\n"
	      ".B limpet run \\-\\-config\n"
	      ".I FILE\n"
	      ".br\n"
	      ".B limpet \\-\\-help\n"
	      ".SH DESCRIPTION\n"
	      ".B limpet\n"
	      "balances TCP and UDP services, IPv4 and IPv6, with an XDP program attached\n"
	      "to the host's network interfaces.\n"
	      "A client keeps reaching the same backend while backends are added, removed,\n"
	      "drained or re\\-weighted: backends are chosen through a weighted Maglev table,\n"
	      "and every connection is recorded in a flow table, so neither a change of the\n"
	      "table nor a restart of the controller moves a live connection.\n"
	      "Packets are forwarded by NAT (the balancer is the backends' gateway) or by\n"
	      "layer 2 direct server return.\n"
	      ".PP\n"
	      ".B limpet run\n"
	      "is the controller: it reads the YAML configuration, loads and attaches the\n"
	      "data plane, pins its maps under\n"
	      ".I " PIN_ROOT "/<instance>\n"
	      "and serves the other commands over a Unix control socket.\n"
	      "Every other command is a client of that socket.\n"
	      "Changes made with the CLI last until the next reload or restart.\n"
	      "Durations are written\n"
	      ".BR 500ms \", \" 30s \", \" 5m \", \" 23h \" or \" 7d .\n"
	      ".SH COMMANDS\n", out);
	for (i = 0; i < CMD_MAX; i++)
		if (!commands[i].hidden)
			man_command(out, i);

	fputs(".SH GLOBAL OPTIONS\n"
	      "Given before the command.\n"
	      ".TP\n"
	      "\\fB\\-\\-socket\\fR \\fIPATH\\fR\n"
	      "Control socket of the running controller.\n"
	      "Default:\n"
	      ".BR $" CONTROL_SOCKET_ENV " ,\n"
	      "else\n"
	      ".I " CONTROL_SOCKET_DIR "/<instance>.sock\n"
	      "with the default instance\n"
	      ".BR limpet .\n"
	      ".TP\n"
	      "\\fB\\-v\\fR, \\fB\\-\\-verbose\\fR\n"
	      "More detail in the controller's log; repeatable.\n"
	      ".TP\n"
	      "\\fB\\-h\\fR, \\fB\\-\\-help\\fR\n"
	      "Print the usage and exit.\n"
	      ".TP\n"
	      ".B \\-\\-version\n"
	      "Print the version and exit.\n"
	      ".SH CONFIGURATION\n"
	      "A YAML file, by convention\n"
	      ".IR " CONFIG_FILE " .\n"
	      "Every key but those marked required has the default shown.\n"
	      "An unknown key, a wrong type, an invalid address or duration is an error\n"
	      "naming the file, line and key; the controller then refuses to start, or on\n"
	      "reload keeps the running configuration.\n"
	      "The README has the complete reference; the source tree's\n"
	      ".I examples/\n"
	      "directory has commented files.\n", out);
	for (i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		man_config_key(out, &config_keys[i]);

	fputs(".SH FILES\n"
	      ".TP\n"
	      ".I " CONFIG_FILE "\n"
	      "The configuration, as the systemd unit\n"
	      ".B limpet.service\n"
	      "runs it.\n"
	      ".TP\n"
	      ".I " CONTROL_SOCKET_DIR "/<instance>.sock\n"
	      "Control socket of a running controller (mode 0600: whoever may open it may\n"
	      "reconfigure the balancer).\n"
	      ".TP\n"
	      ".I " PIN_ROOT "/<instance>\n"
	      "Pinned maps and links of an instance.\n"
	      "They outlive the controller and keep the data plane forwarding;\n"
	      ".B limpet down\n"
	      "removes them.\n"
	      ".TP\n"
	      ".I /etc/limpet/secret\n"
	      "Cookie keys (the default\n"
	      ".BR secret_file ).\n"
	      ".SH SIGNALS\n"
	      "Handled by\n"
	      ".BR \"limpet run\" :\n"
	      ".TP\n"
	      ".BR SIGTERM \", \" SIGINT\n"
	      "Stop the controller, leaving the data plane attached and forwarding with its\n"
	      "last tables.\n"
	      "Started again with the same configuration, the controller adopts that state\n"
	      "without dropping flows.\n"
	      "To stop forwarding, run\n"
	      ".B limpet down \\-\\-config\n"
	      ".IR FILE .\n"
	      ".TP\n"
	      ".B SIGHUP\n"
	      "Reload the configuration file, like\n"
	      ".BR \"limpet reload\" ;\n"
	      "a file with an error leaves the running configuration in place.\n"
	      "Under systemd,\n"
	      ".B systemctl reload limpet\n"
	      "sends it.\n"
	      ".SH ENVIRONMENT\n"
	      ".TP\n"
	      ".B " CONTROL_SOCKET_ENV "\n"
	      "Control socket used when\n"
	      ".B \\-\\-socket\n"
	      "is not given.\n"
	      ".SH EXIT STATUS\n"
	      ".TP\n"
	      ".B 0\n"
	      "Success.\n"
	      ".TP\n"
	      ".B 1\n"
	      "The operation failed: invalid configuration, controller unreachable, or an\n"
	      "error reply.\n"
	      "One line naming the problem is printed on standard error.\n"
	      ".TP\n"
	      ".B 2\n"
	      "Usage error.\n"
	      ".SH EXAMPLES\n"
	      ".nf\n"
	      ".B limpet run \\-\\-config " CONFIG_FILE "\n"
	      ".B limpet status\n"
	      ".B limpet backend drain web b2 \\-\\-timeout 10m\n"
	      ".B limpet backend add web b4 10.20.0.14 \\-\\-weight 2\n"
	      ".B systemctl reload limpet\n"
	      ".fi\n"
	      ".SH SEE ALSO\n"
	      ".BR systemctl (1),\n"
	      ".BR systemd.service (5),\n"
	      ".BR bpftool (8),\n"
	      ".BR ip (8),\n"
	      ".BR sysctl (8)\n", out);
}
