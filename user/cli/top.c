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
 * of line, alternate screen), 80 columns; the terminal is put in
 * non-canonical mode so that a single `q` quits, and restored on the way out.
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
};

/* One line, cut to the screen's width, then "clear to end of line". */
static void __attribute__((format(printf, 2, 3))) line(struct screen *s, const char *fmt, ...)
{
	char text[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if ((int)strlen(text) > s->width)
		text[s->width] = '\0';
	fprintf(s->f, "%s\033[K\r\n", text);
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
		draw_service(s, find_named(json_object_get(cur->status, "services"), name), svc,
			     find_named(json_object_get(prev->stats, "services"), name), dt);
	}
	if (!json_array_size(services))
		line(s, "(no services)");
	fputs("\033[J", s->f);
	fclose(s->f);
	s->f = NULL;
	if (write(STDOUT_FILENO, s->buf, s->len) < 0)
		stop_signal = SIGPIPE;
	free(s->buf);
	s->buf = NULL;
}

/* ---- the loop ------------------------------------------------------------- */

static int screen_width(void)
{
	struct winsize ws;

	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col)
		return ws.ws_col < TOP_WIDTH ? ws.ws_col : TOP_WIDTH;
	return TOP_WIDTH;
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
	char err[TOP_ERR_MAX], problem[TOP_ERR_MAX + 32];
	bool tty = isatty(STDIN_FILENO), stdin_open = true, stale = false;
	struct screen s = { 0 };
	double next;

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
		s.width = screen_width();
		draw(&s, socket_path, &cur, &prev, stale ? problem : NULL);
		next += TOP_INTERVAL_MS / 1000.0;
		if (wait_tick(next, &stdin_open))
			break;
		/* On failure the last view stays, saying why it is stale; next second again. */
		stale = take_sample(socket_path, &fresh, err, sizeof(err)) != 0;
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
