// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * top.c - `limpet top` (top.h): once a second it sends the status and stats
 * requests of the command table over the control socket, keeps the previous
 * stats reply, and draws per-second rates from the difference of the two
 * (the controller keeps counters only, no rates). One row per service and
 * per backend: state, new flows/s, packets/s, bytes/s, active flows,
 * sessions (as `limpet status` counts them), the last health check's
 * latency; under an HTTP service, its cookie outcomes/s and bindings/s by
 * the data plane and the slow path. Plain ANSI (home, clear to end
 * of line, alternate screen), 80 columns and as many rows as the terminal
 * has (the last says how many services did not fit); the terminal is put in
 * non-canonical mode so that a single `q` quits, and restored on the way out.
 * The controller answers between its other work: where its replies take
 * long (100,000 backends: over a second), the refresh slows down so that
 * answering top never takes more than a quarter of its time.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <jansson.h>

#include "cli/top.h"
#include "proto/command.h"
#include "proto/control.h"

#define TOP_INTERVAL_MS 1000
/* The refresh interval is at least this many times what a sample took. */
#define TOP_SAMPLE_SHARE 4
#define TOP_WIDTH 80
#define TOP_ERR_MAX 512

/* The cookie outcomes that are neither valid nor absent: the cookie was refused. */
static const char *const refused_outcomes[] = { "cookie_malformed", "cookie_bad_mac",
						"cookie_expired", "cookie_unknown_backend" };

struct sample {
	json_t *status;		/* the replies' "result" objects */
	json_t *stats;
	double t;		/* seconds, monotonic */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The result of one request <id>, or NULL with the reason in <err>. */
static json_t *ask(const char *socket_path, enum command_id id, char *err, size_t errlen)
{
	json_t *req = command_request(&(struct command_args){ .id = id });
	json_t *reply = NULL, *result = NULL;
	const char *msg;

	if (!req) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (control_request(socket_path, req, &reply, err, errlen))
		goto out;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		msg = json_string_value(json_object_get(reply, "error"));
		snprintf(err, errlen, "%s", msg ? msg : "the controller reported an error");
		goto out;
	}
	result = json_incref(json_object_get(reply, "result"));
out:
	json_decref(reply);
	json_decref(req);
	return result;
}

static int take_sample(const char *socket_path, struct sample *s, char *err, size_t errlen)
{
	s->status = ask(socket_path, CMD_STATUS, err, errlen);
	s->stats = s->status ? ask(socket_path, CMD_STATS, err, errlen) : NULL;
	s->t = now_s();
	if (s->stats)
		return 0;
	json_decref(s->status);
	s->status = NULL;
	return -EIO;
}

static void sample_free(struct sample *s)
{
	json_decref(s->status);
	json_decref(s->stats);
	memset(s, 0, sizeof(*s));
}

/* ---- reading the replies -------------------------------------------------- */

static json_t *find_named(const json_t *array, const char *name)
{
	json_t *v;
	size_t i;

	json_array_foreach(array, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));

		if (n && !strcmp(n, name))
			return v;
	}
	return NULL;
}

static double num(const json_t *obj, const char *key)
{
	return json_number_value(json_object_get(obj, key));
}

/* The per-second rate of counter <key> of <cur> against <prev>; < 0: unknown. */
static double rate(const json_t *cur, const json_t *prev, const char *key, double dt)
{
	const json_t *a = json_object_get(cur, key), *b = json_object_get(prev, key);

	if (!prev || !json_is_number(a) || !json_is_number(b) || dt <= 0)
		return -1;
	/* A counter that went back: the controller restarted; no rate this time. */
	if (json_number_value(a) < json_number_value(b))
		return -1;
	return (json_number_value(a) - json_number_value(b)) / dt;
}

/* The sum of the rates of <keys>; < 0 when one is unknown. */
static double rate_sum(const json_t *cur, const json_t *prev, const char *const *keys, size_t n,
		       double dt)
{
	double sum = 0, r;
	size_t i;

	for (i = 0; i < n; i++) {
		r = rate(cur, prev, keys[i], dt);
		if (r < 0)
			return -1;
		sum += r;
	}
	return sum;
}

/* "12.5", "3.4K", "1.2M", "-" for unknown: at most 6 characters. */
static const char *human(char *buf, size_t len, double v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else if (v < 1000)
		snprintf(buf, len, "%.1f", v);
	else if (v < 1e6)
		snprintf(buf, len, "%.1fK", v / 1e3);
	else if (v < 1e9)
		snprintf(buf, len, "%.1fM", v / 1e6);
	else
		snprintf(buf, len, "%.1fG", v / 1e9);
	return buf;
}

/* ---- drawing -------------------------------------------------------------- */

struct screen {
	char *buf;
	size_t len;
	FILE *f;
	int width;
	int rows;	/* 0: no limit (not a terminal) */
	int used;
	bool full;	/* a line did not fit: only the last row is left */
};

/*
 * One line, cut to the screen's width, then "clear to end of line". The
 * last row is kept for saying what did not fit.
 */
static void __attribute__((format(printf, 2, 3))) line(struct screen *s, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	if (s->rows && s->used >= s->rows - 1) {
		s->full = true;
		return;
	}
	s->used++;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if ((int)strlen(text) > s->width)
		text[s->width] = '\0';
	/* The line break goes before a line, not after: a last row ending in
	 * one would scroll the header out of a full terminal.
	 */
	fprintf(s->f, "%s%s\033[K", s->used > 1 ? "\r\n" : "", text);
}

#define ROW_FMT "%-18.18s %-9.9s %7s %8s %8s %6s %6s %8s"

/*
 * Backend <be> of the stats reply, <st_be> of the status reply (its
 * "sessions": live affinity sessions on HTTP services, distinct clients of
 * the active flows on L4 ones), <prev> of the previous stats reply.
 */
static void draw_backend(struct screen *s, const json_t *be, const json_t *st_be,
			 const json_t *prev, double dt)
{
	char a[16], b[16], c[16], lat[16], flows[16], sess[16];
	const json_t *health = json_object_get(be, "health");
	const json_t *ms = json_object_get(health, "last_latency_ms");
	char name[40];

	snprintf(name, sizeof(name), "  %s", json_string_value(json_object_get(be, "name")) ?: "?");
	if (json_is_number(ms) && num(health, "checks") > 0)
		snprintf(lat, sizeof(lat), "%.1fms", json_number_value(ms));
	else
		snprintf(lat, sizeof(lat), "-");
	snprintf(flows, sizeof(flows), "%.0f", num(be, "active_flows"));
	snprintf(sess, sizeof(sess), "%.0f", num(st_be ? st_be : be, "sessions"));
	line(s, ROW_FMT, name, json_string_value(json_object_get(be, "state")) ?: "-",
	     human(a, sizeof(a), rate(be, prev, "new_flows", dt)),
	     human(b, sizeof(b), rate(be, prev, "packets", dt)),
	     human(c, sizeof(c), rate(be, prev, "bytes", dt)), flows, sess, lat);
}

static void draw_service(struct screen *s, const json_t *st_svc, const json_t *svc,
			 const json_t *prev_svc, double dt)
{
	const json_t *backends = json_object_get(svc, "backends"), *be;
	char a[16], b[16], c[16], d[16], e[16], f[16], g[16], title[80], flows[16], sess[16];
	const char *mode = json_string_value(json_object_get(st_svc, "mode")) ?: "?";
	double n_flows = 0, n_sess = 0;
	size_t i;

	json_array_foreach(backends, i, be) {
		const char *name = json_string_value(json_object_get(be, "name"));
		const json_t *st_be = name ? find_named(json_object_get(st_svc, "backends"), name) :
					     NULL;

		n_flows += num(be, "active_flows");
		n_sess += num(st_be ? st_be : be, "sessions");
	}
	snprintf(title, sizeof(title), "%s %s%s%s:%.0f %s",
		 json_string_value(json_object_get(svc, "name")) ?: "?",
		 strchr(json_string_value(json_object_get(st_svc, "vip")) ?: "", ':') ? "[" : "",
		 json_string_value(json_object_get(st_svc, "vip")) ?: "?",
		 strchr(json_string_value(json_object_get(st_svc, "vip")) ?: "", ':') ? "]" : "",
		 num(st_svc, "port"), mode);
	snprintf(flows, sizeof(flows), "%.0f", n_flows);
	snprintf(sess, sizeof(sess), "%.0f", n_sess);
	line(s, "%-28.28s %7s %8s %8s %6s %6s %8s", title,
	     human(a, sizeof(a), rate(svc, prev_svc, "new_flows", dt)),
	     human(b, sizeof(b), rate(svc, prev_svc, "packets", dt)),
	     human(c, sizeof(c), rate(svc, prev_svc, "bytes", dt)), flows, sess, "");
	json_array_foreach(backends, i, be) {
		const char *name = json_string_value(json_object_get(be, "name"));

		if (!name)
			continue;
		draw_backend(s, be, find_named(json_object_get(st_svc, "backends"), name),
			     find_named(json_object_get(prev_svc, "backends"), name), dt);
	}
	if (strcmp(mode, "http"))
		return;
	if (json_object_get(svc, "cookie_valid"))
		line(s, "  cookies/s  valid %s  absent %s  refused %s  issued %s  reissued %s",
		     human(a, sizeof(a), rate(svc, prev_svc, "cookie_valid", dt)),
		     human(b, sizeof(b), rate(svc, prev_svc, "cookie_absent", dt)),
		     human(c, sizeof(c), rate_sum(svc, prev_svc, refused_outcomes,
						  sizeof(refused_outcomes) /
							  sizeof(refused_outcomes[0]), dt)),
		     human(d, sizeof(d), rate(svc, prev_svc, "cookies_issued", dt)),
		     human(e, sizeof(e), rate(svc, prev_svc, "cookies_reissued", dt)));
	if (json_object_get(svc, "http_heads_read_slowpath"))
		line(s, "  bindings/s  data plane %s  slow path %s  failovers/s %s",
		     human(f, sizeof(f), rate(svc, prev_svc, "http_heads_read_xdp", dt)),
		     human(g, sizeof(g), rate(svc, prev_svc, "http_heads_read_slowpath", dt)),
		     human(a, sizeof(a), rate(svc, prev_svc, "affinity_failovers", dt)));
}

static void draw(struct screen *s, const char *socket_path, const struct sample *cur,
		 const struct sample *prev, const char *problem)
{
	static const char *const drops[] = { "drop_malformed", "drop_no_backend", "drop_no_route",
					     "drop_ttl" };
	const json_t *services = json_object_get(cur->stats, "services"), *svc;
	size_t hidden = 0;
	const json_t *pglobal = json_object_get(prev->stats, "global");
	const json_t *global = json_object_get(cur->stats, "global");
	double dt = prev->stats ? cur->t - prev->t : 0;
	char a[16], b[16], c[16], clock[16];
	time_t t = time(NULL);
	size_t i;

	strftime(clock, sizeof(clock), "%H:%M:%S", localtime(&t));
	s->f = open_memstream(&s->buf, &s->len);
	if (!s->f)
		return;
	s->used = 0;
	s->full = false;
	fputs("\033[H", s->f);
	line(s, "limpet top - instance %s - %s - q quits",
	     json_string_value(json_object_get(cur->status, "instance")) ?: socket_path, clock);
	line(s, "all: slow-path bindings/s %s  passed/s %s  drops/s %s",
	     human(a, sizeof(a), rate(global, pglobal, "http_bound", dt)),
	     human(b, sizeof(b), rate(global, pglobal, "pass", dt)),
	     human(c, sizeof(c), rate_sum(global, pglobal, drops, sizeof(drops) / sizeof(drops[0]),
					  dt)));
	line(s, "%s", problem ? problem : "");
	line(s, ROW_FMT, "SERVICE/BACKEND", "STATE", "NEW/s", "PKTS/s", "BYTES/s", "FLOWS", "SESS",
	     "HEALTH");
	json_array_foreach(services, i, svc) {
		const char *name = json_string_value(json_object_get(svc, "name"));

		if (!name)
			continue;
		if (s->full) {
			hidden++;
			continue;
		}
		draw_service(s, find_named(json_object_get(cur->status, "services"), name), svc,
			     find_named(json_object_get(prev->stats, "services"), name), dt);
	}
	if (!json_array_size(services))
		line(s, "(no services)");
	if (s->full) {
		s->rows = 0;	/* the row kept for this */
		if (hidden)
			line(s, "(%zu more service%s below: `limpet status` lists all)", hidden,
			     hidden == 1 ? "" : "s");
		else
			line(s, "(more below: `limpet status` lists all)");
	}
	fputs("\033[J", s->f);
	fclose(s->f);
	s->f = NULL;
	if (write(STDOUT_FILENO, s->buf, s->len) < 0)
		stop_signal = SIGPIPE;
	free(s->buf);
	s->buf = NULL;
}

/* ---- the loop ------------------------------------------------------------- */

/* The terminal's width (at most TOP_WIDTH) and rows (0: not a terminal). */
static void screen_size(struct screen *s)
{
	struct winsize ws;

	s->width = TOP_WIDTH;
	s->rows = 0;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws))
		return;
	if (ws.ws_col && ws.ws_col < TOP_WIDTH)
		s->width = ws.ws_col;
	s->rows = ws.ws_row;
}

/* Wait for the next tick, reading keys; true when `q` (or a signal) says stop. */
static bool wait_tick(double until, bool *stdin_open)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	char keys[32];
	double left;
	ssize_t n, i;

	while (!stop_signal && (left = until - now_s()) > 0) {
		if (poll(&p, *stdin_open ? 1 : 0, (int)(left * 1000) + 1) <= 0)
			continue;
		n = read(STDIN_FILENO, keys, sizeof(keys));
		if (n <= 0) {
			*stdin_open = n < 0 && errno == EINTR;
			continue;
		}
		for (i = 0; i < n; i++)
			if (keys[i] == 'q' || keys[i] == 'Q')
				return true;
	}
	return stop_signal != 0;
}

int top_run(const char *socket_path)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sample cur = { 0 }, prev = { 0 }, fresh;
	struct termios saved, raw;
	char err[TOP_ERR_MAX], problem[TOP_ERR_MAX + 32], slow[96];
	bool tty = isatty(STDIN_FILENO), stdin_open = true, stale = false;
	double next, interval = TOP_INTERVAL_MS / 1000.0, took;
	struct screen s = { 0 };

	if (take_sample(socket_path, &cur, err, sizeof(err))) {
		fprintf(stderr, "limpet: top: %s\n", err);
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (tty && !tcgetattr(STDIN_FILENO, &saved)) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	} else {
		tty = false;
	}
	/* Alternate screen, cursor hidden: the shell's screen comes back on exit. */
	fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	fflush(stdout);
	next = now_s();
	for (;;) {
		screen_size(&s);
		draw(&s, socket_path, &cur, &prev,
		     stale ? problem : interval > TOP_INTERVAL_MS / 1000.0 ? slow : NULL);
		next += interval;
		if (wait_tick(next, &stdin_open))
			break;
		/* On failure the last view stays, saying why it is stale; next time again. */
		took = now_s();
		stale = take_sample(socket_path, &fresh, err, sizeof(err)) != 0;
		took = now_s() - took;
		interval = TOP_INTERVAL_MS / 1000.0;
		if (took * TOP_SAMPLE_SHARE > interval) {
			interval = took * TOP_SAMPLE_SHARE;
			snprintf(slow, sizeof(slow), "(every %.1f s: the controller took %.1f s to answer)",
				 interval, took);
		}
		if (stale) {
			snprintf(problem, sizeof(problem), "(stale: %s)", err);
			continue;
		}
		sample_free(&prev);
		prev = cur;
		cur = fresh;
	}
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	sample_free(&cur);
	sample_free(&prev);
	return stop_signal == SIGPIPE ? 1 : 0;
}
