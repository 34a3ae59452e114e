/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_health.c - the health checker against real servers on loopback.
 *
 * Each test starts its own servers on ephemeral ports of 127.0.0.1 or ::1
 * (threads: accept-and-close, an HTTP responder with a settable status, one
 * that accepts and never answers) and drives the checker the way the
 * controller does: health_fd() inside an outer epoll set, health_process()
 * whenever it is readable, for a bounded time. No traffic leaves loopback.
 * Intervals are tens of milliseconds so the suite stays within seconds.
 */
#define _GNU_SOURCE	/* accept4, RUSAGE_THREAD */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <criterion/criterion.h>

#include "run/health.h"
#include "base/log.h"

/* ---- servers ---- */

enum srv_mode {
	SRV_ACCEPT,	/* accept and close at once */
	SRV_HTTP,	/* read a request head, answer <status>, close */
	SRV_HANG,	/* accept and never answer */
};

#define HELD_MAX 256

struct server {
	enum srv_mode mode;
	int family;
	int lfd;
	int stop[2];
	__u16 port;
	atomic_int status;	/* SRV_HTTP: the answer's status and body size */
	atomic_int body_len;
	atomic_int accepted;
	pthread_t thread;
	pthread_mutex_t lock;
	int held[HELD_MAX];	/* SRV_HANG connections, under <lock> */
	int n_held;
};

static int loopback(int family, struct sockaddr_storage *ss, __u16 port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_addr = in6addr_loopback;
	sin6->sin6_port = htons(port);
	return sizeof(*sin6);
}

static __u16 bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A loopback port with nothing listening: bound, noted, released. */
static __u16 closed_port(int family)
{
	struct sockaddr_storage ss;
	int fd = socket(family, SOCK_STREAM, 0), len = loopback(family, &ss, 0);
	__u16 port;

	cr_assert_geq(fd, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&ss, len), 0);
	port = bound_port(fd);
	close(fd);
	return port;
}

/* Write all of <buf> to a non-blocking socket; the reader may give up first. */
static void send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		ssize_t n;

		if (poll(&p, 1, 1000) <= 0)
			return;
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

static void serve_http(struct server *s, int fd)
{
	static const char filler[4096] = { [0 ... 4095] = 'x' };
	char buf[4096], head[256];
	size_t got = 0, body = atomic_load(&s->body_len), n;
	ssize_t r;

	while (got < sizeof(buf) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 1000) <= 0)
			break;
		r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += r;
		buf[got] = '\0';
		if (!strstr(buf, "\r\n\r\n"))
			continue;
		n = snprintf(head, sizeof(head),
			     "HTTP/1.1 %d Test\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			     atomic_load(&s->status), body);
		send_all(fd, head, n);
		for (; body; body -= n) {
			n = body < sizeof(filler) ? body : sizeof(filler);
			send_all(fd, filler, n);
		}
		break;
	}
	close(fd);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	struct pollfd p[2] = { { .fd = s->lfd, .events = POLLIN },
			       { .fd = s->stop[0], .events = POLLIN } };

	for (;;) {
		int fd;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		while ((fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
			atomic_fetch_add(&s->accepted, 1);
			if (s->mode == SRV_ACCEPT) {
				close(fd);
			} else if (s->mode == SRV_HTTP) {
				serve_http(s, fd);
			} else {
				pthread_mutex_lock(&s->lock);
				if (s->n_held < HELD_MAX)
					s->held[s->n_held++] = fd;
				else
					close(fd);
				pthread_mutex_unlock(&s->lock);
			}
		}
	}
	return NULL;
}

/* Start a server on <port> (0: ephemeral). */
static void server_start_on(struct server *s, enum srv_mode mode, int family, __u16 port)
{
	struct sockaddr_storage ss;
	int one = 1, len = loopback(family, &ss, port);

	memset(s, 0, sizeof(*s));
	s->mode = mode;
	s->family = family;
	atomic_store(&s->status, 200);
	atomic_store(&s->body_len, 3);
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	cr_assert_geq(s->lfd, 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(s->lfd, (struct sockaddr *)&ss, len), 0, "bind: %s", strerror(errno));
	cr_assert_eq(listen(s->lfd, 4096), 0);
	s->port = bound_port(s->lfd);
	cr_assert_eq(pipe(s->stop), 0);
	cr_assert_eq(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_start(struct server *s, enum srv_mode mode, int family)
{
	server_start_on(s, mode, family, 0);
}

/* Connections the server holds that the client has closed (SRV_HANG). */
static int server_held_closed(struct server *s)
{
	char buf[4096];
	int i, closed = 0;
	ssize_t n;

	pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n_held; i++) {
		/* Skip what the client sent: EOF (0) only comes after it. */
		while ((n = recv(s->held[i], buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			;
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			closed++;
	}
	pthread_mutex_unlock(&s->lock);
	return closed;
}

static void server_stop(struct server *s)
{
	int i;

	cr_assert_eq(write(s->stop[1], "x", 1), 1);
	pthread_join(s->thread, NULL);
	for (i = 0; i < s->n_held; i++)
		close(s->held[i]);
	close(s->lfd);
	close(s->stop[0]);
	close(s->stop[1]);
	pthread_mutex_destroy(&s->lock);
}

/* ---- targets and the loop ---- */

#define EVENTS_MAX 16

struct event {
	char service[LIMPET_NAME_MAX];
	char name[LIMPET_NAME_MAX];
	bool up;
	char reason[128];
	__u64 checks;		/* the target's checks when the change was reported */
	__u32 streak;		/* its fail (down) or ok (up) streak then */
};

struct harness {
	struct health_checker *hc;
	int epfd;		/* the "controller's" loop */
	struct event ev[EVENTS_MAX];
	int n_ev;
	int wakeups;
};

static void on_change(void *ctx, const char *service, const char *name, bool up,
		      const char *reason)
{
	struct harness *h = ctx;
	const struct health_status *st = health_get(h->hc, service, name);
	struct event *e;

	cr_assert_not_null(st, "callback for unknown %s/%s", service, name);
	cr_assert_eq(st->up, up, "callback before the state changed");
	if (h->n_ev == EVENTS_MAX)
		return;
	e = &h->ev[h->n_ev++];
	snprintf(e->service, sizeof(e->service), "%s", service);
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(e->reason, sizeof(e->reason), "%s", reason);
	e->up = up;
	e->checks = st->checks;
	e->streak = up ? st->ok_streak : st->fail_streak;
}

static void harness_init(struct harness *h)
{
	struct epoll_event ev = { .events = EPOLLIN };

	memset(h, 0, sizeof(*h));
	log_set_level(LOG_LEVEL_WARN);
	h->hc = health_new(on_change, h);
	cr_assert_not_null(h->hc, "health_new: %s", strerror(errno));
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(h->epfd, 0);
	cr_assert_eq(epoll_ctl(h->epfd, EPOLL_CTL_ADD, health_fd(h->hc), &ev), 0);
}

static void harness_fini(struct harness *h)
{
	health_free(h->hc);
	close(h->epfd);
}

static __u64 ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef bool (*pred_fn)(struct harness *h, const void *arg);

/* Run the loop until <pred> holds or <ms> pass; returns whether it held. */
static bool run_until(struct harness *h, int ms, pred_fn pred, const void *arg)
{
	__u64 end = ms_now() + ms;

	for (;;) {
		struct epoll_event ev;
		__u64 now = ms_now();
		int n;

		if (pred && pred(h, arg))
			return true;
		if (now >= end)
			return false;
		n = epoll_wait(h->epfd, &ev, 1, end - now);
		if (n > 0) {
			h->wakeups++;
			health_process(h->hc);
		}
	}
}

static void run_for(struct harness *h, int ms)
{
	run_until(h, ms, NULL, NULL);
}

struct count_arg {
	const char *service, *name;
	__u64 checks;
};

static bool checks_reached(struct harness *h, const void *arg)
{
	const struct count_arg *c = arg;
	const struct health_status *st = health_get(h->hc, c->service, c->name);

	return st && st->checks >= c->checks;
}

static bool events_reached(struct harness *h, const void *arg)
{
	return h->n_ev >= *(const int *)arg;
}

static struct health_target target(const char *service, const char *name, int family,
				   __u16 port, enum health_type type)
{
	struct health_target t;

	memset(&t, 0, sizeof(t));
	snprintf(t.service, sizeof(t.service), "%s", service);
	snprintf(t.name, sizeof(t.name), "%s", name);
	if (family == AF_INET) {
		t.address.family = LIMPET_FAMILY_V4;
		t.address.addr.a[0] = htonl(INADDR_LOOPBACK);
	} else {
		t.address.family = LIMPET_FAMILY_V6;
		memcpy(t.address.addr.a, &in6addr_loopback, sizeof(t.address.addr.a));
	}
	t.port = port;
	t.cfg.type = type;
	strcpy(t.cfg.path, "/health");
	t.cfg.expect = 200;
	t.cfg.interval_ms = 50;
	t.cfg.timeout_ms = 500;
	t.cfg.rise = 2;
	t.cfg.fall = 3;
	return t;
}

static const struct health_status *get(struct harness *h, const char *service,
				       const char *name)
{
	const struct health_status *st = health_get(h->hc, service, name);

	cr_assert_not_null(st, "no status for %s/%s", service, name);
	return st;
}

/* ---- tests ---- */

TestSuite(health, .timeout = 30);

Test(health, tcp_up_and_tcp_info)
{
	struct harness h;
	struct server s;
	struct health_target t[2];
	const struct health_status *st;
	struct count_arg c4 = { "web", "v4", 10 }, c6 = { "web", "v6", 3 };
	struct server s6;

	server_start(&s, SRV_ACCEPT, AF_INET);
	server_start(&s6, SRV_ACCEPT, AF_INET6);
	harness_init(&h);
	t[0] = target("web", "v4", AF_INET, s.port, HEALTH_TCP);
	t[1] = target("web", "v6", AF_INET6, s6.port, HEALTH_TCP);
	cr_assert_eq(health_set_targets(h.hc, t, 2), 0);

	st = get(&h, "web", "v4");
	cr_assert(st->up, "a new target starts up");
	cr_assert_eq(st->checks, 0);

	/* The first check comes within 100 ms of being added. */
	c4.checks = 1;
	cr_assert(run_until(&h, 150, checks_reached, &c4), "no first check within 150 ms");
	c4.checks = 10;
	cr_assert(run_until(&h, 2000, checks_reached, &c4));
	cr_assert(run_until(&h, 1000, checks_reached, &c6));

	st = get(&h, "web", "v4");
	cr_assert(st->up);
	cr_assert_eq(st->failures, 0);
	cr_assert_eq(st->fail_streak, 0);
	cr_assert_geq(st->ok_streak, 10);
	cr_assert_str_empty(st->last_error);
	cr_assert_gt(st->last_latency_us, 0);
	cr_assert_lt(st->last_latency_us, 100000);
	cr_assert(st->learned, "TCP_INFO not read after a successful connect");
	cr_assert_gt(st->mss, 0);
	cr_assert_leq(st->wscale, 14);
	cr_log_info("v4 loopback: mss %u wscale %u latency %llu us", st->mss, st->wscale,
		    (unsigned long long)st->last_latency_us);

	st = get(&h, "web", "v6");
	cr_assert(st->up);
	cr_assert_eq(st->failures, 0);
	cr_assert(st->learned);
	cr_assert_gt(st->mss, 0);
	cr_assert_eq(h.n_ev, 0, "no state change expected");
	cr_assert_geq(atomic_load(&s.accepted), 10);

	/* The checker sleeps between checks: a few wakeups per check, no spinning. */
	h.wakeups = 0;
	run_for(&h, 500);
	cr_log_info("wakeups in 500 ms for 2 targets at 50 ms: %d", h.wakeups);
	cr_assert_lt(h.wakeups, 100);

	harness_fini(&h);
	server_stop(&s);
	server_stop(&s6);
}

Test(health, refused_goes_down_after_fall_and_recovers_after_rise)
{
	struct harness h;
	struct server s;
	struct health_target t;
	const struct health_status *st;
	__u16 port = closed_port(AF_INET);
	int one = 1, two = 2;

	harness_init(&h);
	t = target("web", "b1", AF_INET, port, HEALTH_TCP);
	t.cfg.fall = 3;
	t.cfg.rise = 2;
	cr_assert_eq(health_set_targets(h.hc, &t, 1), 0);

	cr_assert(run_until(&h, 2000, events_reached, &one), "never went down");
	cr_assert_str_eq(h.ev[0].name, "b1");
	cr_assert_not(h.ev[0].up);
	cr_assert_eq(h.ev[0].checks, 3, "down after %llu checks, fall is 3",
		     (unsigned long long)h.ev[0].checks);
	cr_assert_eq(h.ev[0].streak, 3);
	cr_assert(strstr(h.ev[0].reason, "refused"), "reason: %s", h.ev[0].reason);
	st = get(&h, "web", "b1");
	cr_assert_not(st->up);
	cr_assert(strstr(st->last_error, "connection refused"), "last_error: %s", st->last_error);

	/* More failures while down change nothing. */
	run_for(&h, 200);
	cr_assert_eq(h.n_ev, 1);
	cr_assert_gt(st->failures, 3);
	cr_assert_eq(st->failures, st->checks);

	/* Something starts listening on the port: up after exactly <rise> passes. */
	server_start_on(&s, SRV_ACCEPT, AF_INET, port);
	cr_assert(run_until(&h, 2000, events_reached, &two), "never came back");
	cr_assert(h.ev[1].up);
	cr_assert_eq(h.ev[1].streak, 2);
	cr_assert_str_eq(h.ev[1].reason, "ok");
	cr_assert_eq(h.ev[1].checks, h.ev[0].checks + (st->failures - 3) + 2);
	st = get(&h, "web", "b1");
	cr_assert(st->up);
	cr_assert_str_empty(st->last_error);

	harness_fini(&h);
	server_stop(&s);
}

Test(health, unused_loopback_address_is_refused)
{
	struct harness h;
	struct health_target t;
	int one = 1;

	/* 127.0.0.2 is loopback with nothing bound: refused, never off-machine. */
	harness_init(&h);
	t = target("web", "b2", AF_INET, closed_port(AF_INET), HEALTH_HTTP);
	t.address.addr.a[0] = htonl(0x7f000002);
	t.cfg.fall = 1;
	cr_assert_eq(health_set_targets(h.hc, &t, 1), 0);
	cr_assert(run_until(&h, 1000, events_reached, &one));
	cr_assert_not(h.ev[0].up);
	cr_assert_eq(h.ev[0].checks, 1);
	cr_assert(strstr(h.ev[0].reason, "refused"), "reason: %s", h.ev[0].reason);
	harness_fini(&h);
}

Test(health, http_status)
{
	struct harness h;
	struct server s, s6;
	struct health_target t[3];
	const struct health_status *st;
	struct count_arg c = { "web", "http6", 3 };
	int one = 1;

	server_start(&s, SRV_HTTP, AF_INET);
	server_start(&s6, SRV_HTTP, AF_INET6);
	harness_init(&h);
	t[0] = target("web", "http", AF_INET, s.port, HEALTH_HTTP);
	t[0].cfg.fall = 2;
	t[1] = target("web", "tcp", AF_INET, s.port, HEALTH_TCP);
	t[2] = target("web", "http6", AF_INET6, s6.port, HEALTH_HTTP);
	cr_assert_eq(health_set_targets(h.hc, t, 3), 0);

	cr_assert(run_until(&h, 2000, checks_reached, &c));
	st = get(&h, "web", "http");
	cr_assert(st->up);
	cr_assert_geq(st->checks, 2);
	cr_assert_eq(st->failures, 0, "last error: %s", st->last_error);
	cr_assert(st->learned, "TCP_INFO not read on an http check");
	cr_assert_gt(st->mss, 0);
	st = get(&h, "web", "http6");
	cr_assert(st->up);
	cr_assert_eq(st->failures, 0, "last error: %s", st->last_error);

	/* The application breaks; the port still accepts. */
	atomic_store(&s.status, 503);
	cr_assert(run_until(&h, 2000, events_reached, &one), "http check never failed");
	cr_assert_str_eq(h.ev[0].name, "http");
	cr_assert_not(h.ev[0].up);
	cr_assert_eq(h.ev[0].streak, 2);
	cr_assert(strstr(h.ev[0].reason, "503"), "reason: %s", h.ev[0].reason);
	cr_assert_str_eq(h.ev[0].reason, "HTTP status 503 (expected 200)");

	run_for(&h, 150);
	cr_assert_eq(h.n_ev, 1, "only the http check may change");
	st = get(&h, "web", "tcp");
	cr_assert(st->up);
	cr_assert_eq(st->failures, 0, "tcp check failed: %s", st->last_error);

	/* A configured non-200 expectation is honoured. */
	t[0].cfg.expect = 503;
	cr_assert_eq(health_set_targets(h.hc, t, 3), 0);
	c.name = "http";
	c.checks = 3;
	cr_assert(run_until(&h, 2000, checks_reached, &c));
	st = get(&h, "web", "http");
	cr_assert(st->up);
	cr_assert_eq(st->failures, 0, "last error: %s", st->last_error);

	harness_fini(&h);
	server_stop(&s);
	server_stop(&s6);
}

Test(health, http_large_body_is_capped)
{
	struct harness h;
	struct server s;
	struct health_target t;
	const struct health_status *st;
	struct count_arg c = { "web", "big", 3 };
	int one = 1;

	/* 4 MiB bodies: the checker stops reading at 64 KiB and judges the status. */
	server_start(&s, SRV_HTTP, AF_INET);
	atomic_store(&s.body_len, 4 << 20);
	harness_init(&h);
	t = target("web", "big", AF_INET, s.port, HEALTH_HTTP);
	t.cfg.fall = 1;
	cr_assert_eq(health_set_targets(h.hc, &t, 1), 0);
	cr_assert(run_until(&h, 3000, checks_reached, &c));
	st = get(&h, "web", "big");
	cr_assert(st->up);
	cr_assert_eq(st->failures, 0, "last error: %s", st->last_error);

	atomic_store(&s.status, 500);
	cr_assert(run_until(&h, 3000, events_reached, &one));
	cr_assert_str_eq(h.ev[0].reason, "HTTP status 500 (expected 200)");
	harness_fini(&h);
	server_stop(&s);
}

Test(health, hanging_http_times_out)
{
	struct harness h;
	struct server s;
	struct health_target t[2];
	const struct health_status *st;
	__u64 start;
	int one = 1;

	server_start(&s, SRV_HANG, AF_INET);
	harness_init(&h);
	t[0] = target("web", "http", AF_INET, s.port, HEALTH_HTTP);
	t[0].cfg.timeout_ms = 200;
	t[0].cfg.fall = 1;
	t[1] = target("web", "tcp", AF_INET, s.port, HEALTH_TCP);
	cr_assert_eq(health_set_targets(h.hc, t, 2), 0);

	start = ms_now();
	cr_assert(run_until(&h, 2000, events_reached, &one), "never timed out");
	cr_assert_str_eq(h.ev[0].name, "http");
	cr_assert_str_eq(h.ev[0].reason, "timeout after 200 ms");
	cr_assert_geq(ms_now() - start, 190);
	cr_assert_lt(ms_now() - start, 600, "timeout took %llu ms",
		     (unsigned long long)(ms_now() - start));
	st = get(&h, "web", "http");
	cr_assert_geq(st->last_latency_us, 190000);
	st = get(&h, "web", "tcp");
	cr_assert(st->up, "connect to a hanging server still succeeds");
	cr_assert_eq(st->failures, 0);

	harness_fini(&h);
	server_stop(&s);
}

Test(health, set_targets_keeps_unchanged_and_drops_removed)
{
	struct harness h;
	struct server ok, hang;
	struct health_target t[3], t2[3];
	const struct health_status *st;
	__u64 checks;
	int one = 1, accepted;

	server_start(&ok, SRV_ACCEPT, AF_INET);
	server_start(&hang, SRV_HANG, AF_INET);
	harness_init(&h);
	t[0] = target("web", "a", AF_INET, closed_port(AF_INET), HEALTH_TCP);
	t[0].cfg.fall = 2;
	t[1] = target("web", "b", AF_INET, ok.port, HEALTH_TCP);
	t[2] = target("web", "slow", AF_INET, hang.port, HEALTH_HTTP);
	t[2].cfg.timeout_ms = 10000;
	cr_assert_eq(health_set_targets(h.hc, t, 3), 0);
	cr_assert(run_until(&h, 2000, events_reached, &one));
	cr_assert_str_eq(h.ev[0].name, "a");
	cr_assert_gt(atomic_load(&hang.accepted), 0, "slow check not in flight");
	cr_assert_eq(server_held_closed(&hang), 0);

	/* Same a (fresh copy, stack garbage after the strings), b gone, c new,
	 * slow gone while its check is in flight.
	 */
	memset(t2, 0xa5, sizeof(t2));
	t2[0] = target("web", "c", AF_INET, ok.port, HEALTH_TCP);
	t2[1] = t[0];
	cr_assert_eq(health_set_targets(h.hc, t2, 2), 0);
	st = get(&h, "web", "a");
	cr_assert_not(st->up, "unchanged target lost its state");
	cr_assert_geq(st->fail_streak, 2);
	checks = st->checks;
	cr_assert_null(health_get(h.hc, "web", "b"));
	cr_assert_null(health_get(h.hc, "web", "slow"));
	st = get(&h, "web", "c");
	cr_assert(st->up);
	cr_assert_eq(st->checks, 0);

	/* The cancelled check's connection is closed; nothing new reaches it. */
	run_for(&h, 200);
	cr_assert_eq(server_held_closed(&hang), atomic_load(&hang.accepted));
	accepted = atomic_load(&hang.accepted);
	cr_assert_gt(get(&h, "web", "a")->checks, checks, "unchanged target not checked");
	cr_assert_gt(get(&h, "web", "c")->checks, 0);
	run_for(&h, 100);
	cr_assert_eq(atomic_load(&hang.accepted), accepted);
	cr_assert_eq(h.n_ev, 1);

	/* New check settings on the same endpoint: counters restart, but a
	 * down backend stays down (a reload must not revive it).
	 */
	t2[1].cfg.interval_ms = 60;
	cr_assert_eq(health_set_targets(h.hc, t2, 2), 0);
	st = get(&h, "web", "a");
	cr_assert_not(st->up, "new check settings revived a down backend");
	cr_assert_eq(st->checks, 0);

	/* A new port is a new endpoint: it starts up. */
	t2[1].port = ok.port;
	cr_assert_eq(health_set_targets(h.hc, t2, 2), 0);
	st = get(&h, "web", "a");
	cr_assert(st->up);
	cr_assert_eq(st->checks, 0);

	/* Bad sets are refused and leave the current one alone. */
	t2[1] = t2[0];
	cr_assert_eq(health_set_targets(h.hc, t2, 2), -EINVAL, "duplicate accepted");
	t2[1] = target("web", "d", AF_INET, 0, HEALTH_TCP);
	cr_assert_eq(health_set_targets(h.hc, t2, 2), -EINVAL, "port 0 accepted");
	cr_assert_not_null(health_get(h.hc, "web", "a"));
	cr_assert_null(health_get(h.hc, "web", "d"));

	/* Empty set. */
	cr_assert_eq(health_set_targets(h.hc, NULL, 0), 0);
	cr_assert_null(health_get(h.hc, "web", "a"));
	run_for(&h, 100);

	harness_fini(&h);
	server_stop(&ok);
	server_stop(&hang);
}

Test(health, type_none_is_always_up)
{
	struct harness h;
	struct server s;
	struct health_target t[2];
	const struct health_status *st;

	server_start(&s, SRV_ACCEPT, AF_INET);
	harness_init(&h);
	t[0] = target("web", "none", AF_INET, s.port, HEALTH_NONE);
	t[1] = target("web", "gone", AF_INET, closed_port(AF_INET), HEALTH_NONE);
	cr_assert_eq(health_set_targets(h.hc, t, 2), 0);
	run_for(&h, 300);
	cr_assert_eq(atomic_load(&s.accepted), 0, "type none made a connection");
	st = get(&h, "web", "none");
	cr_assert(st->up);
	cr_assert_eq(st->checks, 0);
	st = get(&h, "web", "gone");
	cr_assert(st->up);
	cr_assert_eq(st->checks, 0);
	cr_assert_eq(h.n_ev, 0);
	cr_assert_lt(h.wakeups, 3, "%d wakeups with nothing to check", h.wakeups);
	harness_fini(&h);
	server_stop(&s);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static double cpu_seconds(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

#define N_BIG 1000
#define N_LISTENERS 4
#define BIG_RUN_MS 5000

Test(health, cpu_for_1000_backends, .timeout = 60)
{
	static struct health_target t[N_BIG];
	struct server s[N_LISTENERS];
	struct harness h;
	double thread0, self0, thread_cpu, self_cpu, secs;
	__u64 start, total = 0, min_checks = ~0ULL;
	size_t i, checked = 0;
	int accepted = 0, fds0, fds;

	for (i = 0; i < N_LISTENERS; i++)
		server_start(&s[i], SRV_ACCEPT, AF_INET);
	harness_init(&h);
	fds0 = open_fds();
	for (i = 0; i < N_BIG; i++) {
		char name[32];

		snprintf(name, sizeof(name), "b%zu", i);
		t[i] = target("big", name, AF_INET, s[i % N_LISTENERS].port, HEALTH_TCP);
		t[i].cfg.interval_ms = 1000;
		t[i].cfg.timeout_ms = 1000;
	}

	start = ms_now();
	thread0 = cpu_seconds(RUSAGE_THREAD);
	self0 = cpu_seconds(RUSAGE_SELF);
	cr_assert_eq(health_set_targets(h.hc, t, N_BIG), 0);

	/* First checks are spread over the interval, not fired at once. */
	run_for(&h, 300);
	for (i = 0; i < N_BIG; i++)
		checked += get(&h, "big", t[i].name)->checks > 0;
	cr_log_info("checked after 300 ms: %zu of %d", checked, N_BIG);
	cr_assert_gt(checked, N_BIG / 20);
	cr_assert_lt(checked, N_BIG * 7 / 10);

	run_for(&h, BIG_RUN_MS - (ms_now() - start));
	secs = (ms_now() - start) / 1000.0;
	thread_cpu = cpu_seconds(RUSAGE_THREAD) - thread0;
	self_cpu = cpu_seconds(RUSAGE_SELF) - self0;

	for (i = 0; i < N_BIG; i++) {
		const struct health_status *st = get(&h, "big", t[i].name);

		cr_assert(st->up, "%s down: %s", t[i].name, st->last_error);
		cr_assert_eq(st->failures, 0, "%s failed: %s", t[i].name, st->last_error);
		total += st->checks;
		if (st->checks < min_checks)
			min_checks = st->checks;
	}
	for (i = 0; i < N_LISTENERS; i++)
		accepted += atomic_load(&s[i].accepted);
	fds = open_fds();
	printf("health: %d backends, interval 1 s, %.1f s: %llu checks (%.0f/s, min %llu per "
	       "backend), %d wakeups\n",
	       N_BIG, secs, (unsigned long long)total, total / secs,
	       (unsigned long long)min_checks, h.wakeups);
	printf("health: checker thread %.3f CPU-s/s (user+sys), whole process incl. "
	       "servers %.3f CPU-s/s\n",
	       thread_cpu / secs, self_cpu / secs);
	fflush(stdout);
	/* Connect-only connections must not pile up between checks. */
	cr_assert_lt(fds - fds0, 50, "%d fds before, %d after %llu checks", fds0, fds,
		     (unsigned long long)total);
	cr_assert_geq(accepted, (int)total - N_BIG, "accepted %d", accepted);
	cr_assert_geq(min_checks, 4, "a backend was checked only %llu times",
		      (unsigned long long)min_checks);
	cr_assert_lt(thread_cpu / secs, 0.5, "%.3f CPU-s/s", thread_cpu / secs);

	harness_fini(&h);
	for (i = 0; i < N_LISTENERS; i++)
		server_stop(&s[i]);
}
