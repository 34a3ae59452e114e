/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_metrics.c - Criterion tests for the Prometheus endpoint (suite
 * "metrics"): the text helpers byte for byte, then the HTTP server on
 * loopback driven the way the controller drives it.
 *
 * The test thread plays the controller: an epoll loop over metrics_fd() that
 * calls metrics_process(), so the render callback runs on that thread. The
 * client (libcurl, or a raw socket for the slow-client cases) runs in a
 * second thread and wakes the loop through an eventfd when it is done.
 * Servers listen on port 0 and report the port the kernel chose, so tests
 * can run in parallel. Every scrape is also checked by a small parser of the
 * text format written here, independent of the code under test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <curl/curl.h>

#include "run/metrics.h"

/* A label value that needs every escape: quote, backslash, newline. */
#define NASTY_VALUE "we\"ird\\path\nnew"

/* ------------------------------------------------------------------------ */
/* A Prometheus text-format parser, independent of metrics.c                 */

#define MAX_SAMPLES 4096
#define MAX_FAMILIES 64

struct parsed_sample {
	char name[128];
	char labels[512];	/* unescaped, "k=v" pairs joined by '|' */
	char value[64];		/* as written */
};

struct parsed {
	struct parsed_sample *samples;
	size_t n_samples;
	char families[MAX_FAMILIES][128];
	char types[MAX_FAMILIES][16];
	bool has_help[MAX_FAMILIES];
	size_t n_families;
};

static bool is_name(const char *s, size_t n, bool colon)
{
	size_t i;

	if (!n || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || (colon && s[i] == ':')))
			return false;
	return true;
}

static int find_family(const struct parsed *p, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < p->n_families; i++)
		if (strlen(p->families[i]) == n && !strncmp(p->families[i], name, n))
			return i;
	return -1;
}

/* "# HELP name text" or "# TYPE name type"; families may not reopen. */
static void parse_comment(struct parsed *p, const char *line, size_t len, int lineno)
{
	bool help = !strncmp(line, "# HELP ", 7), type = !strncmp(line, "# TYPE ", 7);
	const char *name = line + 7, *end, *rest;
	int f;

	if (!help && !type)
		return;		/* a plain comment */
	end = memchr(name, ' ', line + len - name);
	cr_assert(end, "line %d: %.*s: no text after the name", lineno, (int)len, line);
	cr_assert(is_name(name, end - name, true), "line %d: bad name in %.*s", lineno, (int)len,
		  line);
	rest = end + 1;
	f = find_family(p, name, end - name);
	if (f < 0) {
		cr_assert_lt(p->n_families, MAX_FAMILIES);
		f = p->n_families++;
		snprintf(p->families[f], sizeof(p->families[f]), "%.*s", (int)(end - name), name);
	} else {
		/* HELP and TYPE of a family come together, before its samples. */
		cr_assert_eq((size_t)f, p->n_families - 1, "line %d: family %s reopened", lineno,
			     p->families[f]);
	}
	if (help) {
		cr_assert_not(p->has_help[f], "line %d: second HELP for %s", lineno,
			      p->families[f]);
		for (; rest < line + len; rest++) {
			if (*rest != '\\')
				continue;
			cr_assert(rest[1] == '\\' || rest[1] == 'n', "line %d: bad escape in HELP",
				  lineno);
			rest++;
		}
		p->has_help[f] = true;
	} else {
		cr_assert_str_empty(p->types[f], "line %d: second TYPE for %s", lineno,
				    p->families[f]);
		snprintf(p->types[f], sizeof(p->types[f]), "%.*s", (int)(line + len - rest), rest);
		cr_assert(!strcmp(p->types[f], "counter") || !strcmp(p->types[f], "gauge") ||
			  !strcmp(p->types[f], "untyped"), "line %d: type \"%s\"", lineno,
			  p->types[f]);
	}
}

/* {k="v",...}: returns the character after '}', the pairs unescaped into <out>. */
static const char *parse_labels(const char *s, const char *end, char *out, size_t outlen,
				int lineno)
{
	size_t o = 0;
	const char *k;

	s++;	/* '{' */
	while (s < end && *s != '}') {
		k = s;
		while (s < end && *s != '=')
			s++;
		cr_assert(s < end && is_name(k, s - k, false), "line %d: bad label name", lineno);
		cr_assert(o + (s - k) + 2 < outlen);
		if (o)
			out[o++] = '|';
		memcpy(out + o, k, s - k);
		o += s - k;
		out[o++] = '=';
		s++;
		cr_assert(s < end && *s == '"', "line %d: label value not quoted", lineno);
		for (s++; s < end && *s != '"'; s++) {
			char c = *s;

			cr_assert(c != '\n', "line %d: raw newline in label", lineno);
			if (c == '\\') {
				s++;
				cr_assert(s < end && (*s == '\\' || *s == '"' || *s == 'n'),
					  "line %d: bad escape in label value", lineno);
				c = *s == 'n' ? '\n' : *s;
			}
			cr_assert(o + 1 < outlen);
			out[o++] = c;
		}
		cr_assert(s < end, "line %d: unterminated label value", lineno);
		s++;	/* '"' */
		if (s < end && *s == ',')
			s++;
		else
			cr_assert(s < end && *s == '}', "line %d: expected , or }", lineno);
	}
	cr_assert(s < end, "line %d: unterminated labels", lineno);
	out[o] = '\0';
	return s + 1;
}

static void parse_value(const char *s, size_t n, int lineno)
{
	char text[64], *end;

	cr_assert(n > 0 && n < sizeof(text), "line %d: bad value", lineno);
	memcpy(text, s, n);
	text[n] = '\0';
	if (!strcmp(text, "NaN") || !strcmp(text, "+Inf") || !strcmp(text, "-Inf"))
		return;
	strtod(text, &end);
	cr_assert(*end == '\0' && (text[0] == '-' || (text[0] >= '0' && text[0] <= '9')),
		  "line %d: value \"%s\" is not a float", lineno, text);
}

/* name{labels} value: the name is the open family's, which has HELP and TYPE. */
static void parse_sample(struct parsed *p, const char *line, size_t len, int lineno)
{
	const char *end = line + len, *s = line, *v;
	struct parsed_sample *ps;

	while (s < end && *s != '{' && *s != ' ')
		s++;
	cr_assert(is_name(line, s - line, true), "line %d: bad sample name in %.*s", lineno,
		  (int)len, line);
	cr_assert(p->n_families, "line %d: sample before any family", lineno);
	cr_assert(strlen(p->families[p->n_families - 1]) == (size_t)(s - line) &&
		  !strncmp(line, p->families[p->n_families - 1], s - line),
		  "line %d: sample %.*s outside its family %s", lineno, (int)(s - line), line,
		  p->families[p->n_families - 1]);
	cr_assert(p->has_help[p->n_families - 1] && p->types[p->n_families - 1][0],
		  "line %d: family without HELP and TYPE", lineno);
	cr_assert_lt(p->n_samples, MAX_SAMPLES);
	ps = &p->samples[p->n_samples++];
	snprintf(ps->name, sizeof(ps->name), "%.*s", (int)(s - line), line);
	ps->labels[0] = '\0';
	if (s < end && *s == '{')
		s = parse_labels(s, end, ps->labels, sizeof(ps->labels), lineno);
	cr_assert(s < end && *s == ' ', "line %d: no space before the value", lineno);
	v = ++s;
	while (s < end && *s != ' ')
		s++;
	parse_value(v, s - v, lineno);
	snprintf(ps->value, sizeof(ps->value), "%.*s", (int)(s - v), v);
	cr_assert(s == end, "line %d: trailing text (timestamps are not used)", lineno);
}

static void parse_exposition(const char *text, struct parsed *p)
{
	const char *line = text, *nl;
	int lineno = 1;

	memset(p, 0, sizeof(*p));
	p->samples = calloc(MAX_SAMPLES, sizeof(*p->samples));
	cr_assert(p->samples);
	for (; *line; line = nl + 1, lineno++) {
		nl = strchr(line, '\n');
		cr_assert(nl, "line %d: text does not end with a newline", lineno);
		cr_assert_gt(nl - line, 0, "line %d: empty line", lineno);
		if (line[0] == '#')
			parse_comment(p, line, nl - line, lineno);
		else
			parse_sample(p, line, nl - line, lineno);
	}
}

static const char *sample_value(const struct parsed *p, const char *name, const char *labels)
{
	size_t i;

	for (i = 0; i < p->n_samples; i++)
		if (!strcmp(p->samples[i].name, name) && !strcmp(p->samples[i].labels, labels))
			return p->samples[i].value;
	return NULL;
}

/* ------------------------------------------------------------------------ */
/* What the controller would render                                          */

enum render_mode {
	RENDER_NORMAL,
	RENDER_BROKEN,		/* a sample outside its family: the scrape must fail */
	RENDER_FAIL,		/* the controller gives up half way with metrics_fail() */
};

struct render_ctx {
	enum render_mode mode;
	int calls;
};

static void render(void *arg, struct metrics_buf *b)
{
	struct render_ctx *ctx = arg;
	static const char *const backends[] = { "b1", "b2", NASTY_VALUE };
	char labels[METRICS_LABELS_MAX];
	size_t i;

	ctx->calls++;
	metrics_family(b, "limpet_packets_total", "counter",
		       "Packets the data plane handled.\nBy \\ service and backend.");
	for (i = 0; i < 3; i++)
		metrics_sample_u64(b, "limpet_packets_total",
				   metrics_labels(labels, sizeof(labels), "service", "web",
						  "backend", backends[i], NULL),
				   1000 * (i + 1));
	metrics_family(b, "limpet_bytes_total", "counter", "Bytes forwarded.");
	metrics_sample_u64(b, "limpet_bytes_total", "", UINT64_MAX);
	metrics_family(b, "limpet_backend_up", "gauge", "1 when the backend passes checks.");
	for (i = 0; i < 3; i++) {
		/* A loop may start the family per item: for the open family it is a no-op. */
		metrics_family(b, "limpet_backend_up", "gauge", "1: passes checks.");
		metrics_sample(b, "limpet_backend_up",
			       metrics_labels(labels, sizeof(labels), "backend", backends[i], NULL),
			       i != 1);
	}
	if (ctx->mode == RENDER_FAIL)
		metrics_fail(b, -EIO, "cannot read map %s", "limpet_stats");
	metrics_family(b, "limpet_load_ratio", "gauge", "A fractional gauge.");
	metrics_sample(b, "limpet_load_ratio", "", 0.25);
	if (ctx->mode == RENDER_BROKEN)
		metrics_sample(b, "limpet_packets_total", "", 1);
}

/* ------------------------------------------------------------------------ */
/* The controller's loop and a client thread                                 */

struct reply {
	long status;
	char content_type[128];
	char allow[64];
	char *body;
	size_t body_len;
	CURLcode rc;
};

struct request {
	char url[128];
	const char *method;	/* NULL: GET */
	struct reply reply;
	int wake_fd;
	atomic_bool done;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	char *p = realloc(r->body, r->body_len + size * n + 1);

	if (!p)
		return 0;
	memcpy(p + r->body_len, data, size * n);
	r->body = p;
	r->body_len += size * n;
	r->body[r->body_len] = '\0';
	return size * n;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;

	if (size * n > 7 && !strncasecmp(data, "Allow: ", 7))
		snprintf(r->allow, sizeof(r->allow), "%.*s", (int)strcspn(data + 7, "\r\n"),
			 data + 7);
	return size * n;
}

static void *client_main(void *arg)
{
	struct request *req = arg;
	struct reply *r = &req->reply;
	uint64_t one = 1;
	char *ct = NULL;
	CURL *c;

	c = curl_easy_init();
	if (c) {
		curl_easy_setopt(c, CURLOPT_URL, req->url);
		curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
		if (req->method && !strcmp(req->method, "HEAD"))
			curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		else if (req->method && !strcmp(req->method, "POST"))
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, "a=1&b=2");
		else if (req->method)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		r->rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			snprintf(r->content_type, sizeof(r->content_type), "%s", ct);
		curl_easy_cleanup(c);
	} else {
		r->rc = CURLE_FAILED_INIT;
	}
	atomic_store(&req->done, true);
	if (write(req->wake_fd, &one, sizeof(one)) != sizeof(one))
		abort();
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One turn of the controller's loop: wait on its epoll set <ep>, then process. */
static void loop_once(struct metrics_server *m, int ep)
{
	struct epoll_event ev[4];
	int t = metrics_timeout_ms(m);

	if (t < 0 || t > 100)
		t = 100;
	cr_assert_geq(epoll_wait(ep, ev, 4, t), 0, "epoll_wait: %s", strerror(errno));
	metrics_process(m);
}

static int loop_new(struct metrics_server *m, int extra_fd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	cr_assert_geq(ep, 0);
	cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, metrics_fd(m), &ev), 0);
	if (extra_fd >= 0)
		cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, extra_fd, &ev), 0);
	return ep;
}

/* <method> (NULL: GET) of http://<host>:<port><path>, served from this thread. */
static struct reply fetch(struct metrics_server *m, const char *host, const char *method,
			  const char *path)
{
	struct request req = { .method = method };
	double deadline = now_s() + 10;
	pthread_t thread;
	int ep;

	snprintf(req.url, sizeof(req.url), "http://%s:%d%s", host, metrics_port(m), path);
	req.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	cr_assert_geq(req.wake_fd, 0);
	ep = loop_new(m, req.wake_fd);
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	cr_assert_eq(pthread_create(&thread, NULL, client_main, &req), 0);
	while (!atomic_load(&req.done)) {
		loop_once(m, ep);
		cr_assert_lt(now_s(), deadline, "%s %s: no answer within 10 s", method ? method :
			     "GET", req.url);
	}
	pthread_join(thread, NULL);
	curl_global_cleanup();
	close(ep);
	close(req.wake_fd);
	cr_assert_eq(req.reply.rc, CURLE_OK, "%s: %s", req.url, curl_easy_strerror(req.reply.rc));
	return req.reply;
}

static struct metrics_server *start_ok(const char *listen, struct render_ctx *ctx)
{
	char err[256];
	struct metrics_server *m = metrics_start(listen, render, ctx, err, sizeof(err));

	cr_assert_not_null(m, "metrics_start(%s): %s", listen, err);
	cr_assert_gt(metrics_port(m), 0);
	cr_assert_geq(metrics_fd(m), 0);
	return m;
}

/* ------------------------------------------------------------------------ */
/* Text helpers                                                              */

Test(metrics, labels_escaped)
{
	char buf[METRICS_LABELS_MAX];

	cr_assert_str_eq(metrics_labels(buf, sizeof(buf), "service", "web", "backend", "b1", NULL),
			 "service=\"web\",backend=\"b1\"");
	cr_assert_str_eq(metrics_labels(buf, sizeof(buf), "v", NASTY_VALUE, NULL),
			 "v=\"we\\\"ird\\\\path\\nnew\"");
	cr_assert_str_eq(metrics_labels(buf, sizeof(buf), NULL), "");
	cr_assert_str_eq(metrics_labels(buf, sizeof(buf), "empty", "", NULL), "empty=\"\"");
}

Test(metrics, labels_refused)
{
	char buf[METRICS_LABELS_MAX], small[8];

	/* a="bc" is 6 characters: fits in 7 bytes with the NUL, not in 6. */
	cr_assert_str_eq(metrics_labels(small, 7, "a", "bc", NULL), "a=\"bc\"");
	cr_assert_null(metrics_labels(small, 6, "a", "bc", NULL));
	cr_assert_str_empty(small, "a refused label string must not be half written");
	/* Escapes count: a="x" fits in 6 bytes, a="\"" does not. */
	cr_assert_str_eq(metrics_labels(small, 6, "a", "x", NULL), "a=\"x\"");
	cr_assert_null(metrics_labels(small, 6, "a", "\"", NULL));
	cr_assert_null(metrics_labels(buf, sizeof(buf), "1st", "x", NULL));
	cr_assert_null(metrics_labels(buf, sizeof(buf), "has-dash", "x", NULL));
	cr_assert_null(metrics_labels(buf, sizeof(buf), "a:b", "x", NULL));
	cr_assert_null(metrics_labels(buf, sizeof(buf), "__name__", "x", NULL));
	cr_assert_null(metrics_labels(buf, sizeof(buf), "a", NULL, NULL));
}

Test(metrics, exact_text)
{
	struct metrics_buf *b = metrics_buf_new();
	char labels[64];

	cr_assert_not_null(b);
	metrics_family(b, "limpet_x_total", "counter", "Two\nlines, one \\ backslash.");
	metrics_sample_u64(b, "limpet_x_total", metrics_labels(labels, sizeof(labels), "s", "a",
							      NULL), 7);
	metrics_sample_u64(b, "limpet_x_total", "", UINT64_MAX);
	metrics_family(b, "limpet_y", "gauge", "Values.");
	metrics_sample(b, "limpet_y", "", 1e6);
	metrics_sample(b, "limpet_y", "", -3);
	metrics_sample(b, "limpet_y", "", 0.5);
	metrics_sample(b, "limpet_y", "", 0.1);
	metrics_sample(b, "limpet_y", "", 9007199254740993.0);
	metrics_sample(b, "limpet_y", "", 1e300);
	metrics_sample(b, "limpet_y", "", NAN);
	metrics_sample(b, "limpet_y", "", INFINITY);
	metrics_sample(b, "limpet_y", "", -INFINITY);
	metrics_printf(b, "# %s\n", "a comment");
	cr_assert_eq(metrics_buf_error(b, NULL), 0);
	cr_assert_str_eq(metrics_buf_text(b, NULL),
			 "# HELP limpet_x_total Two\\nlines, one \\\\ backslash.\n"
			 "# TYPE limpet_x_total counter\n"
			 "limpet_x_total{s=\"a\"} 7\n"
			 "limpet_x_total 18446744073709551615\n"
			 "# HELP limpet_y Values.\n"
			 "# TYPE limpet_y gauge\n"
			 "limpet_y 1000000\n"
			 "limpet_y -3\n"
			 "limpet_y 0.5\n"
			 "limpet_y 0.1\n"
			 "limpet_y 9007199254740992\n"
			 "limpet_y 1e+300\n"
			 "limpet_y NaN\n"
			 "limpet_y +Inf\n"
			 "limpet_y -Inf\n"
			 "# a comment\n");
	metrics_buf_free(b);
}

/* Each misuse fails the buffer, names the problem, and stops further output. */
Test(metrics, misuse_fails_the_scrape)
{
	static const struct {
		const char *what, *why;
	} cases[] = {
		{ "sample before family", "outside its family" },
		{ "sample of another family", "outside its family" },
		{ "family reopened", "emitted twice" },
		{ "bad type", "counter or gauge" },
		{ "bad name", "invalid metric name" },
		{ "labels did not fit", "labels too long" },
	};
	char small[4];
	size_t i, len;
	const char *why;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct metrics_buf *b = metrics_buf_new();

		cr_assert_not_null(b);
		switch (i) {
		case 0:
			metrics_sample(b, "a", "", 1);
			break;
		case 1:
			metrics_family(b, "a", "gauge", "A.");
			metrics_sample(b, "b", "", 1);
			break;
		case 2:
			metrics_family(b, "a", "gauge", "A.");
			metrics_family(b, "b", "gauge", "B.");
			metrics_family(b, "a", "gauge", "A.");
			break;
		case 3:
			metrics_family(b, "a", "histogram", "A.");
			break;
		case 4:
			metrics_family(b, "a-b", "gauge", "A.");
			break;
		case 5:
			metrics_family(b, "a", "gauge", "A.");
			metrics_sample(b, "a", metrics_labels(small, sizeof(small), "k", "v",
							      NULL), 1);
			break;
		}
		metrics_buf_text(b, &len);
		metrics_family(b, "z", "gauge", "Z.");
		metrics_sample(b, "z", "", 1);
		cr_assert_eq(metrics_buf_error(b, &why), -EINVAL, "%s", cases[i].what);
		cr_assert(strstr(why, cases[i].why), "%s: reason \"%s\"", cases[i].what, why);
		cr_assert_eq(strlen(metrics_buf_text(b, NULL)), len,
			     "%s: output continued after the error", cases[i].what);
		metrics_buf_free(b);
	}
}

/* Past the initial allocation many times over, and still valid text. */
Test(metrics, grows)
{
	struct metrics_buf *b = metrics_buf_new();
	char labels[64], name[16];
	struct parsed p;
	size_t i, len;

	cr_assert_not_null(b);
	metrics_family(b, "limpet_many", "gauge", "Many samples.");
	for (i = 0; i < MAX_SAMPLES; i++) {
		snprintf(name, sizeof(name), "%zu", i);
		metrics_sample(b, "limpet_many", metrics_labels(labels, sizeof(labels), "i", name,
								NULL), i);
	}
	cr_assert_eq(metrics_buf_error(b, NULL), 0);
	metrics_buf_text(b, &len);
	cr_assert_gt(len, 100000);
	parse_exposition(metrics_buf_text(b, NULL), &p);
	cr_assert_eq(p.n_samples, MAX_SAMPLES);
	cr_assert_str_eq(sample_value(&p, "limpet_many", "i=4095"), "4095");
	free(p.samples);
	metrics_buf_free(b);
}

/* ------------------------------------------------------------------------ */
/* HTTP                                                                      */

static void check_scrape(struct metrics_server *m, const char *host, struct render_ctx *ctx)
{
	struct reply r = fetch(m, host, NULL, "/metrics");
	struct parsed p;

	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	cr_assert_eq(ctx->calls, 1, "render ran %d times for one scrape", ctx->calls);
	cr_assert(strstr(r.body, "# HELP limpet_packets_total Packets the data plane handled.\\n"
			 "By \\\\ service and backend.\n"
			 "# TYPE limpet_packets_total counter\n"
			 "limpet_packets_total{service=\"web\",backend=\"b1\"} 1000\n"),
		  "body:\n%s", r.body);
	cr_assert(strstr(r.body, "limpet_packets_total{service=\"web\",backend="
			 "\"we\\\"ird\\\\path\\nnew\"} 3000\n"), "body:\n%s", r.body);

	parse_exposition(r.body, &p);
	cr_assert_eq(p.n_families, 4);
	cr_assert_eq(p.n_samples, 8);
	cr_assert_str_eq(p.types[0], "counter");
	cr_assert_str_eq(p.types[2], "gauge");
	/* The nasty value survives escaping and unescaping unchanged. */
	cr_assert_str_eq(sample_value(&p, "limpet_packets_total",
				      "service=web|backend=" NASTY_VALUE), "3000");
	cr_assert_str_eq(sample_value(&p, "limpet_bytes_total", ""), "18446744073709551615");
	cr_assert_str_eq(sample_value(&p, "limpet_backend_up", "backend=b2"), "0");
	cr_assert_str_eq(sample_value(&p, "limpet_load_ratio", ""), "0.25");
	free(p.samples);
	free(r.body);
}

Test(metrics, scrape_ipv4)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	struct metrics_server *m = start_ok("127.0.0.1:0", &ctx);

	check_scrape(m, "127.0.0.1", &ctx);
	metrics_stop(m);
}

Test(metrics, scrape_ipv6)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	struct metrics_server *m;
	char err[256];

	m = metrics_start("[::1]:0", render, &ctx, err, sizeof(err));
	if (!m && (strstr(err, "Cannot assign") || strstr(err, "not supported")))
		cr_skip_test("no IPv6 loopback here: %s", err);
	cr_assert_not_null(m, "%s", err);
	check_scrape(m, "[::1]", &ctx);
	metrics_stop(m);
}

/* The address is bound as written: 127.0.0.1 does not answer on another address. */
Test(metrics, binds_exactly)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	struct metrics_server *m = start_ok("127.0.0.1:0", &ctx);
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		sin6.sin6_port = htons(metrics_port(m));
		cr_assert_neq(connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0,
			      "[::1] answered for a server bound to 127.0.0.1");
		close(fd);
	}
	metrics_stop(m);
}

Test(metrics, other_paths_and_methods)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	struct metrics_server *m = start_ok("127.0.0.1:0", &ctx);
	static const struct {
		const char *method, *path;
		long status;
	} cases[] = {
		{ NULL, "/", 404 },
		{ NULL, "/other", 404 },
		{ NULL, "/metrics/", 404 },
		{ NULL, "/metricsx", 404 },
		{ "POST", "/metrics", 405 },
		{ "PUT", "/metrics", 405 },
		{ "DELETE", "/metrics", 405 },
		{ "POST", "/other", 404 },
		{ "HEAD", "/metrics", 200 },
		{ NULL, "/metrics?name[]=x", 200 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reply r = fetch(m, "127.0.0.1", cases[i].method, cases[i].path);

		cr_assert_eq(r.status, cases[i].status, "%s %s: %ld, want %ld",
			     cases[i].method ? cases[i].method : "GET", cases[i].path, r.status,
			     cases[i].status);
		if (cases[i].status == 405)
			cr_assert_str_eq(r.allow, "GET, HEAD");
		if (cases[i].method && !strcmp(cases[i].method, "HEAD")) {
			cr_assert_eq(r.body_len, 0);
			cr_assert_str_eq(r.content_type, METRICS_CONTENT_TYPE);
		}
		free(r.body);
	}
	/* Only the two /metrics GET-likes above rendered. */
	cr_assert_eq(ctx.calls, 2);
	metrics_stop(m);
}

/* A failed render answers 500 with the reason, never partial text with 200. */
Test(metrics, render_error_is_500)
{
	struct render_ctx ctx = { .mode = RENDER_BROKEN };
	struct metrics_server *m = start_ok("127.0.0.1:0", &ctx);
	struct reply r = fetch(m, "127.0.0.1", NULL, "/metrics");

	cr_assert_eq(r.status, 500);
	cr_assert(strstr(r.body, "outside its family"), "body: %s", r.body);
	cr_assert_null(strstr(r.body, "# HELP"), "partial metrics served: %s", r.body);
	free(r.body);

	ctx.mode = RENDER_FAIL;
	r = fetch(m, "127.0.0.1", NULL, "/metrics");
	cr_assert_eq(r.status, 500);
	cr_assert(strstr(r.body, "cannot read map limpet_stats"), "body: %s", r.body);
	free(r.body);
	metrics_stop(m);
}

Test(metrics, bad_listen)
{
	static const char *const bad[] = {
		"nohost", "1.2.3.4", "1.2.3.4:99999", "[::1]", "localhost:9100", "::1:9100",
		"[::1]:", "1.2.3.4:", ":9100", "1.2.3.4:9x", "1.2.3.4:-1", "1.2.3.4:+80",
		"[1.2.3.4]:80", "[::1:80", "1.2.3.4.5:80", "1.2.3.4:000080", "",
	};
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strcpy(err, "untouched");
		cr_assert_null(metrics_start(bad[i], render, &ctx, err, sizeof(err)), "\"%s\"",
			       bad[i]);
		cr_assert(strstr(err, "metrics.listen"), "\"%s\": %s", bad[i], err);
		cr_assert_null(strchr(err, '\n'), "\"%s\": error spans lines", bad[i]);
		if (bad[i][0]) {
			char quoted[64];

			snprintf(quoted, sizeof(quoted), "\"%s\"", bad[i]);
			cr_assert(strstr(err, quoted), "\"%s\": message does not quote it: %s",
				  bad[i], err);
		}
	}
	metrics_start("::1:9100", render, &ctx, err, sizeof(err));
	cr_assert(strstr(err, "brackets"), "%s", err);
	metrics_start("1.2.3.4:99999", render, &ctx, err, sizeof(err));
	cr_assert(strstr(err, "0-65535"), "%s", err);
}

Test(metrics, port_in_use)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	struct metrics_server *m = start_ok("127.0.0.1:0", &ctx);
	char listen[64], err[256];

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", metrics_port(m));
	cr_assert_null(metrics_start(listen, render, &ctx, err, sizeof(err)));
	cr_assert(strstr(err, listen), "message does not name %s: %s", listen, err);
	cr_assert(strstr(err, "in use"), "%s", err);
	cr_assert_null(strchr(err, '\n'));
	/* The first server is unharmed. */
	check_scrape(m, "127.0.0.1", &ctx);
	metrics_stop(m);
}

Test(metrics, address_not_here)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	char err[256];

	/* TEST-NET-1 is never configured on a test machine. */
	cr_assert_null(metrics_start("192.0.2.1:9100", render, &ctx, err, sizeof(err)));
	cr_assert(strstr(err, "192.0.2.1:9100") && strstr(err, "cannot bind"), "%s", err);
}

/* A raw client connected to <m> that sends <text> and then stalls. */
static int stalled_client(struct metrics_server *m, const char *text)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(metrics_port(m)),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0, "%s", strerror(errno));
	cr_assert_eq(send(fd, text, strlen(text), 0), (ssize_t)strlen(text));
	return fd;
}

/* Half a request does not hold up the next scrape. */
Test(metrics, stalled_client_does_not_block)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	struct metrics_server *m = start_ok("127.0.0.1:0", &ctx);
	int fd1 = stalled_client(m, "GET /metr"), fd2 = stalled_client(m, "");
	double t0 = now_s();

	check_scrape(m, "127.0.0.1", &ctx);
	cr_assert_lt(now_s() - t0, 2.0);
	close(fd1);
	close(fd2);
	metrics_stop(m);
}

/* The connection timeout frees a stalled client's slot, driven by the loop alone. */
Test(metrics, stalled_client_times_out, .timeout = 20)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	struct metrics_server *m = start_ok("127.0.0.1:0", &ctx);
	int fd = stalled_client(m, "GET /metrics HTTP/1.1\r\n"), ep = loop_new(m, fd);
	double t0 = now_s(), elapsed;
	char c;
	ssize_t n;

	for (;;) {
		loop_once(m, ep);
		n = recv(fd, &c, 1, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			break;
		cr_assert_lt(now_s() - t0, 12.0, "a stalled client was never dropped");
	}
	elapsed = now_s() - t0;
	cr_assert_geq(elapsed, 4.0, "dropped after %.1f s, before its timeout", elapsed);
	cr_assert_eq(ctx.calls, 0);
	close(ep);
	close(fd);
	metrics_stop(m);
}

Test(metrics, stop_null)
{
	metrics_stop(NULL);
	metrics_process(NULL);
}

static int count_fds(void)
{
	char path[64];
	int n = 0, fd;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n += !access(path, F_OK);
	}
	return n;
}

/* Past the connection limit, the loop must not spin on a listening socket it cannot serve. */
Test(metrics, connection_limit_does_not_spin)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	struct metrics_server *m = start_ok("127.0.0.1:0", &ctx);
	struct epoll_event ev[4];
	int fds[24], ep = loop_new(m, -1), wakeups = 0;
	double t0;
	size_t i;

	for (i = 0; i < 24; i++)
		fds[i] = stalled_client(m, "GET /metr");
	for (t0 = now_s(); now_s() - t0 < 1.0;) {
		wakeups += epoll_wait(ep, ev, 4, 100) > 0;
		metrics_process(m);
	}
	cr_assert_lt(wakeups, 50, "%d wakeups in 1 s with the connection limit reached", wakeups);
	for (i = 0; i < 24; i++)
		close(fds[i]);
	close(ep);
	check_scrape(m, "127.0.0.1", &ctx);
	metrics_stop(m);
}

/* start, scrape, stop: every fd is closed again (the listening socket included). */
Test(metrics, no_fd_leak)
{
	struct render_ctx ctx = { .mode = RENDER_NORMAL };
	struct metrics_server *m;
	int before;
	char err[64];

	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	before = count_fds();
	m = start_ok("127.0.0.1:0", &ctx);
	check_scrape(m, "127.0.0.1", &ctx);
	metrics_stop(m);
	cr_assert_null(metrics_start("127.0.0.1:99999", render, &ctx, err, sizeof(err)));
	cr_assert_null(metrics_start("192.0.2.1:9100", render, &ctx, err, sizeof(err)));
	cr_assert_eq(count_fds(), before);
	curl_global_cleanup();
}
