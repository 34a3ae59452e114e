/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * metrics.c - the Prometheus endpoint, served by libmicrohttpd from the
 * controller's epoll loop.
 *
 * libmicrohttpd runs in external-event-loop mode (MHD_USE_EPOLL, no internal
 * thread): it keeps its sockets in an epoll set of its own, whose fd the
 * controller polls, and does work only inside metrics_process(). Every socket
 * is non-blocking, connections are few and time out, so a slow or stuck
 * scraper costs at most a connection slot for a few seconds, never the loop.
 *
 * limpet creates the listening socket itself and hands it over with
 * MHD_OPTION_LISTEN_SOCKET rather than MHD_OPTION_SOCK_ADDR: libmicrohttpd
 * only says NULL when bind() fails, and an operator needs to read "address
 * already in use" next to the address from the config.
 *
 * The text helpers follow the exposition format 0.0.4: one HELP and one TYPE
 * line per family before its samples, HELP text with \\ and \n escaped,
 * label values with \\, \" and \n escaped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "base/log.h"
#include "run/metrics.h"

#define METRICS_PATH "/metrics"
#define METRICS_BUF_INITIAL 4096
#define METRICS_BACKLOG 64
/* Prometheus keeps one connection per scraper; the rest is room for curl by hand. */
#define METRICS_CONN_LIMIT 16
/* Seconds a connection may sit idle: a scrape of a few hundred kB takes milliseconds. */
#define METRICS_CONN_TIMEOUT_S 5
/* MHD_run() passes per metrics_process(), while libmicrohttpd still has work ready. */
#define METRICS_PROCESS_ROUNDS 8

struct metrics_buf {
	char *text;
	size_t len;
	size_t cap;		/* > len: room for the NUL */
	char **families;	/* every family started, the open one last */
	size_t n_families;
	size_t families_cap;
	int err;		/* first error, -errno; everything after it is ignored */
	char why[160];
};

struct metrics_server {
	struct MHD_Daemon *daemon;
	metrics_render_fn render;
	void *ctx;
	int epoll_fd;
	int port;
	char last_log[256];	/* libmicrohttpd's last message: why MHD_start_daemon() failed */
};

/* ------------------------------------------------------------------------ */
/* Text                                                                      */

void metrics_fail(struct metrics_buf *b, int err, const char *fmt, ...)
{
	va_list ap;

	if (b->err)
		return;
	b->err = err < 0 ? err : -EIO;
	va_start(ap, fmt);
	vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
}

struct metrics_buf *metrics_buf_new(void)
{
	struct metrics_buf *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	b->text = malloc(METRICS_BUF_INITIAL);
	if (!b->text) {
		free(b);
		return NULL;
	}
	b->text[0] = '\0';
	b->cap = METRICS_BUF_INITIAL;
	return b;
}

void metrics_buf_free(struct metrics_buf *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n_families; i++)
		free(b->families[i]);
	free(b->families);
	free(b->text);
	free(b);
}

const char *metrics_buf_text(const struct metrics_buf *b, size_t *len)
{
	if (len)
		*len = b->len;
	return b->text;
}

int metrics_buf_error(const struct metrics_buf *b, const char **why)
{
	if (why)
		*why = b->err ? b->why : "";
	return b->err;
}

/* Room for <more> bytes plus the NUL; 0 or -errno (also recorded in <b>). */
static int buf_reserve(struct metrics_buf *b, size_t more)
{
	size_t cap = b->cap;
	char *p;

	if (b->err)
		return b->err;
	if (more < b->cap - b->len)
		return 0;
	while (more >= cap - b->len) {
		if (cap > SIZE_MAX / 2) {
			metrics_fail(b, -ENOMEM, "metrics text too large");
			return -ENOMEM;
		}
		cap *= 2;
	}
	p = realloc(b->text, cap);
	if (!p) {
		metrics_fail(b, -ENOMEM, "out of memory rendering metrics");
		return -ENOMEM;
	}
	b->text = p;
	b->cap = cap;
	return 0;
}

static void buf_vprintf(struct metrics_buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	if (b->err)
		return;
	va_copy(aq, ap);
	n = vsnprintf(b->text + b->len, b->cap - b->len, fmt, aq);
	va_end(aq);
	if (n < 0) {
		metrics_fail(b, -EINVAL, "bad format \"%s\"", fmt);
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		if (buf_reserve(b, n))
			return;
		vsnprintf(b->text + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += n;
}

void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

static void buf_putc(struct metrics_buf *b, char c)
{
	if (buf_reserve(b, 1))
		return;
	b->text[b->len++] = c;
	b->text[b->len] = '\0';
}

/* HELP text escapes \ and newline; label values also the double quote. */
static void buf_put_escaped(struct metrics_buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\' || (quote && *s == '"')) {
			buf_putc(b, '\\');
			buf_putc(b, *s);
		} else if (*s == '\n') {
			buf_putc(b, '\\');
			buf_putc(b, 'n');
		} else {
			buf_putc(b, *s);
		}
	}
}

/* [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; labels allow no ':'. */
static bool name_ok(const char *s, bool colon)
{
	const char *p;

	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (p = s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || (colon && *p == ':'))
			continue;
		return false;
	}
	return true;
}

static const char *open_family(const struct metrics_buf *b)
{
	return b->n_families ? b->families[b->n_families - 1] : NULL;
}

void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	const char *open = open_family(b);
	char **families;
	size_t i, cap;

	if (b->err)
		return;
	if (open && !strcmp(open, name))
		return;
	if (!name_ok(name, true)) {
		metrics_fail(b, -EINVAL, "invalid metric name \"%s\"", name ? name : "(null)");
		return;
	}
	if (!type || (strcmp(type, "counter") && strcmp(type, "gauge"))) {
		metrics_fail(b, -EINVAL, "%s: type must be counter or gauge", name);
		return;
	}
	/* A family started twice would split its samples into two blocks. */
	for (i = 0; i < b->n_families; i++) {
		if (!strcmp(b->families[i], name)) {
			metrics_fail(b, -EINVAL, "%s: family emitted twice", name);
			return;
		}
	}
	if (b->n_families == b->families_cap) {
		cap = b->families_cap ? 2 * b->families_cap : 32;
		families = realloc(b->families, cap * sizeof(*families));
		if (!families) {
			metrics_fail(b, -ENOMEM, "out of memory rendering metrics");
			return;
		}
		b->families = families;
		b->families_cap = cap;
	}
	b->families[b->n_families] = strdup(name);
	if (!b->families[b->n_families]) {
		metrics_fail(b, -ENOMEM, "out of memory rendering metrics");
		return;
	}
	b->n_families++;

	metrics_printf(b, "# HELP %s ", name);
	buf_put_escaped(b, help ? help : "", false);
	metrics_printf(b, "\n# TYPE %s %s\n", name, type);
}

/* Checks shared by both sample flavours; prints "name{labels} " and returns true. */
static bool sample_begin(struct metrics_buf *b, const char *name, const char *labels)
{
	const char *open = open_family(b);

	if (b->err)
		return false;
	if (!name || !open || strcmp(open, name)) {
		metrics_fail(b, -EINVAL, "sample %s outside its family (open family: %s)",
			 name ? name : "(null)", open ? open : "none");
		return false;
	}
	if (!labels) {
		metrics_fail(b, -EINVAL, "%s: labels too long or invalid", name);
		return false;
	}
	if (*labels)
		metrics_printf(b, "%s{%s} ", name, labels);
	else
		metrics_printf(b, "%s ", name);
	return !b->err;
}

void metrics_sample(struct metrics_buf *b, const char *name, const char *labels, double value)
{
	char text[40];

	if (!sample_begin(b, name, labels))
		return;
	if (isnan(value)) {
		snprintf(text, sizeof(text), "NaN");
	} else if (isinf(value)) {
		snprintf(text, sizeof(text), "%s", value > 0 ? "+Inf" : "-Inf");
	} else if (value >= -9223372036854775808.0 && value < 9223372036854775808.0 &&
		   value == (double)(int64_t)value) {
		/* Counters and most gauges: no "1e+06", no ".000000". */
		snprintf(text, sizeof(text), "%" PRId64, (int64_t)value);
	} else {
		/* The shortest of %.15g / %.17g that reads back as the same double. */
		snprintf(text, sizeof(text), "%.15g", value);
		if (strtod(text, NULL) != value)
			snprintf(text, sizeof(text), "%.17g", value);
	}
	metrics_printf(b, "%s\n", text);
}

void metrics_sample_u64(struct metrics_buf *b, const char *name, const char *labels,
			uint64_t value)
{
	if (sample_begin(b, name, labels))
		metrics_printf(b, "%" PRIu64 "\n", value);
}

/* Append <c> to <buf> if there is room for it and the NUL. */
static bool label_putc(char *buf, size_t len, size_t *off, char c)
{
	if (*off + 1 >= len)
		return false;
	buf[(*off)++] = c;
	return true;
}

const char *metrics_labels(char *buf, size_t len, ...)
{
	const char *name, *value, *s;
	bool ok = true;
	size_t off = 0;
	va_list ap;

	if (!buf || !len)
		return NULL;
	va_start(ap, len);
	while (ok && (name = va_arg(ap, const char *))) {
		value = va_arg(ap, const char *);
		/* "__" names are reserved for Prometheus itself. */
		if (!name_ok(name, false) || !strncmp(name, "__", 2) || !value) {
			ok = false;
			break;
		}
		if (off)
			ok = label_putc(buf, len, &off, ',');
		for (s = name; ok && *s; s++)
			ok = label_putc(buf, len, &off, *s);
		ok = ok && label_putc(buf, len, &off, '=') && label_putc(buf, len, &off, '"');
		for (s = value; ok && *s; s++) {
			if (*s == '\\' || *s == '"')
				ok = label_putc(buf, len, &off, '\\') &&
				     label_putc(buf, len, &off, *s);
			else if (*s == '\n')
				ok = label_putc(buf, len, &off, '\\') &&
				     label_putc(buf, len, &off, 'n');
			else
				ok = label_putc(buf, len, &off, *s);
		}
		ok = ok && label_putc(buf, len, &off, '"');
	}
	va_end(ap);
	buf[ok ? off : 0] = '\0';
	return ok ? buf : NULL;
}

/* ------------------------------------------------------------------------ */
/* HTTP                                                                      */

static enum MHD_Result reply_text(struct MHD_Connection *conn, unsigned int status,
				  const char *text, const char *allow)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_metrics(struct metrics_server *m, struct MHD_Connection *conn)
{
	struct MHD_Response *resp;
	struct metrics_buf *b;
	enum MHD_Result ret;
	char text[256];
	const char *why;

	b = metrics_buf_new();
	if (!b)
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", NULL);
	m->render(m->ctx, b);
	if (metrics_buf_error(b, &why)) {
		pr_warn("metrics: scrape failed: %s", why);
		snprintf(text, sizeof(text), "rendering metrics failed: %s\n", why);
		metrics_buf_free(b);
		return reply_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text, NULL);
	}
	/* libmicrohttpd frees the text once sent; a scrape is never copied. */
	resp = MHD_create_response_from_buffer(b->len, b->text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		metrics_buf_free(b);
		return MHD_NO;
	}
	b->text = NULL;
	metrics_buf_free(b);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Every request is answered on the first call, once its headers are read: no
 * request here takes a body, so there is none to wait for.
 */
static enum MHD_Result handle_request(void *cls, struct MHD_Connection *conn, const char *url,
				      const char *method, const char *version,
				      const char *upload_data, size_t *upload_data_size,
				      void **con_cls)
{
	struct metrics_server *m = cls;

	if (strcmp(url, METRICS_PATH))
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found; metrics are at /metrics\n",
				  NULL);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n",
				  "GET, HEAD");
	return reply_metrics(m, conn);
}

/* libmicrohttpd's messages (a failed accept, a client that broke the protocol). */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct metrics_server *m = cls;
	size_t n;

	vsnprintf(m->last_log, sizeof(m->last_log), fmt, ap);
	n = strlen(m->last_log);
	while (n && m->last_log[n - 1] == '\n')
		m->last_log[--n] = '\0';
	pr_info("metrics: libmicrohttpd: %s", m->last_log);
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

#define LISTEN_FORM "expected host:port such as 127.0.0.1:9100 or [::1]:9100"

/* "a.b.c.d:port" or "[v6]:port" into <ss>; port 0 lets the kernel choose. */
static int parse_listen(const char *text, struct sockaddr_storage *ss, socklen_t *sslen,
			char *err, size_t errlen)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *start, *end, *port_text, *p;
	unsigned long port = 0;
	size_t n;
	int family;

	memset(ss, 0, sizeof(*ss));
	if (text[0] == '[') {
		end = strchr(text, ']');
		if (!end || end[1] != ':')
			goto bad_form;
		family = AF_INET6;
		start = text + 1;
		port_text = end + 2;
	} else {
		end = strrchr(text, ':');
		if (!end)
			goto bad_form;
		family = AF_INET;
		start = text;
		port_text = end + 1;
	}
	n = end - start;
	if (n == 0 || n >= sizeof(host))
		goto bad_addr;
	memcpy(host, start, n);
	host[n] = '\0';
	if (inet_pton(family, host, family == AF_INET ? (void *)&sin->sin_addr :
			(void *)&sin6->sin6_addr) != 1)
		goto bad_addr;

	if (!*port_text || strlen(port_text) > 5)
		goto bad_port;
	for (p = port_text; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad_port;
		port = port * 10 + (*p - '0');
	}
	if (port > 65535)
		goto bad_port;

	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*sslen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*sslen = sizeof(*sin6);
	}
	return 0;

bad_form:
	set_err(err, errlen, "metrics.listen \"%s\": %s", text, LISTEN_FORM);
	return -EINVAL;
bad_addr:
	if (family == AF_INET && memchr(start, ':', n))
		set_err(err, errlen, "metrics.listen \"%s\": write an IPv6 address in brackets, "
			"[addr]:port", text);
	else
		set_err(err, errlen, "metrics.listen \"%s\": not an %s address; %s", text,
			family == AF_INET ? "IPv4" : "IPv6", LISTEN_FORM);
	return -EINVAL;
bad_port:
	set_err(err, errlen, "metrics.listen \"%s\": port \"%s\" is not a number 0-65535", text,
		port_text);
	return -EINVAL;
}


/* A non-blocking socket listening on exactly <ss>; the fd, or -errno. */
static int listen_socket(const char *text, const struct sockaddr_storage *ss, socklen_t sslen,
			 char *err, size_t errlen)
{
	const char *what = "socket";
	int fd, one = 1, ret;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A restarted controller must not wait out the old sockets' TIME_WAIT. */
	what = "SO_REUSEADDR";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	/* [::]:port means IPv6 only, as written; IPv4 would need its own address. */
	what = "IPV6_V6ONLY";
	if (ss->ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto fail;
	what = "cannot bind";
	if (bind(fd, (const struct sockaddr *)ss, sslen))
		goto fail;
	what = "cannot listen";
	if (listen(fd, METRICS_BACKLOG))
		goto fail;
	return fd;
fail:
	ret = -errno;
	set_err(err, errlen, "metrics.listen %s: %s: %s", text, what, strerror(-ret));
	if (fd >= 0)
		close(fd);
	return ret;
}

static int bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -errno;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

struct metrics_server *metrics_start(const char *text, metrics_render_fn render, void *ctx,
				     char *err, size_t errlen)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct metrics_server *m;
	socklen_t sslen;
	int fd;

	set_err(err, errlen, "%s", "");
	if (!text || !render) {
		set_err(err, errlen, "metrics: no listen address or render callback");
		return NULL;
	}
	if (parse_listen(text, &ss, &sslen, err, errlen))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m) {
		set_err(err, errlen, "metrics.listen %s: out of memory", text);
		return NULL;
	}
	m->render = render;
	m->ctx = ctx;
	fd = listen_socket(text, &ss, sslen, err, errlen);
	if (fd < 0)
		goto fail;
	m->port = bound_port(fd);

	/*
	 * No MHD_USE_INTERNAL_POLLING_THREAD: with MHD_USE_EPOLL alone,
	 * libmicrohttpd only runs inside MHD_run(). The logger comes first so
	 * that even start-up messages reach it.
	 */
	m->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				     handle_request, m,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, m,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONN_LIMIT,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned int)METRICS_CONN_TIMEOUT_S,
				     MHD_OPTION_END);
	if (!m->daemon) {
		set_err(err, errlen, "metrics.listen %s: cannot start the HTTP server: %s", text,
			m->last_log[0] ? m->last_log : "libmicrohttpd gave no reason");
		/*
		 * libmicrohttpd does not say whether a failed start closes the
		 * socket it was given. Nothing else opens files on the
		 * controller's thread meanwhile, so an fd that is still open is
		 * still ours.
		 */
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
		goto fail;
	}
	info = MHD_get_daemon_info(m->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		set_err(err, errlen, "metrics.listen %s: libmicrohttpd has no epoll fd", text);
		MHD_stop_daemon(m->daemon);
		goto fail;
	}
	m->epoll_fd = info->epoll_fd;
	return m;
fail:
	free(m);
	return NULL;
}

int metrics_fd(const struct metrics_server *m)
{
	return m->epoll_fd;
}

int metrics_port(const struct metrics_server *m)
{
	return m->port;
}

int metrics_timeout_ms(const struct metrics_server *m)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(m->daemon, &t) != MHD_YES)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

/*
 * libmicrohttpd registers connections edge-triggered and keeps those it has
 * not finished with on a ready list of its own, which no longer wakes the
 * caller's epoll: run again while it reports work due now (timeout 0), a
 * bounded number of times so that a busy client cannot hold the loop.
 */
void metrics_process(struct metrics_server *m)
{
	MHD_UNSIGNED_LONG_LONG t;
	int i;

	if (!m)
		return;
	for (i = 0; i < METRICS_PROCESS_ROUNDS; i++) {
		if (MHD_run(m->daemon) != MHD_YES)
			break;
		if (MHD_get_timeout(m->daemon, &t) != MHD_YES || t)
			break;
	}
}

void metrics_stop(struct metrics_server *m)
{
	if (!m)
		return;
	MHD_stop_daemon(m->daemon);
	free(m);
}
