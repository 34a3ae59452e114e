/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * health.c - backend health checks on libcurl's multi interface, driven by
 * one epoll fd and one timerfd owned by the checker (curl's "multi_socket"
 * API, as in its hiperfifo example): no thread per backend, no blocking.
 *
 * The checker's epoll set holds the timerfd plus whatever sockets curl asks
 * for through CURLMOPT_SOCKETFUNCTION. The timerfd is armed (absolute,
 * CLOCK_MONOTONIC) at the earlier of curl's own deadline (from
 * CURLMOPT_TIMERFUNCTION) and the next due check, kept in a min-heap of
 * targets ordered by due time. A target is in the heap while idle and out of
 * it while its check is in flight; a check is one easy handle, created when
 * the check starts and cleaned up when it ends, so every check is a new
 * connection and nothing lingers between checks.
 *
 * tcp checks are CONNECT_ONLY transfers (done once the handshake completes);
 * http checks are a GET whose body is discarded (at most BODY_MAX bytes are
 * read: the status is known by then). A target starts UP; <fall> failures
 * in a row take it DOWN, <rise> passes in a row bring it back, as keepalived
 * and HAProxy do. Times are CLOCK_MONOTONIC nanoseconds unless named _ms/_us.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include <curl/curl.h>

#include "run/health.h"
#include "base/clock.h"
#include "base/log.h"

#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

/* A GET's body is read and dropped up to this much; the status is what counts. */
#define BODY_MAX (64 * 1024)

/* A lone new target is checked at once; a batch is spread over at least this... */
#define FIRST_CHECK_WINDOW_MIN (100 * NSEC_PER_MSEC)
/* ...and at most the interval, starting no more than one first check per this. */
#define FIRST_CHECK_GAP NSEC_PER_MSEC

/* Checks due within this of each other start on the same wakeup. */
#define DUE_SLACK NSEC_PER_MSEC

#define EVENTS_MAX 64
#define HEAP_NONE ((size_t)-1)
#define URL_MAX (sizeof("http://[]:65535") + INET6_ADDRSTRLEN + CONFIG_PATH_MAX)

struct target {
	struct health_target t;
	struct health_status st;
	bool keep;		/* set_targets: survives into the new set */
	__u64 next_ns;		/* next check due */
	__u64 started_ns;	/* start of the check in flight or of the last one */
	size_t heap_idx;	/* index in hc->heap, HEAP_NONE when not queued */
	CURL *easy;		/* check in flight, else NULL */
	int fd;			/* socket of the check in flight (http), -1 if none */
	size_t body;		/* body bytes seen by this check */
	bool body_capped;	/* stopped reading at BODY_MAX */
	char *errbuf;		/* CURL_ERROR_SIZE bytes while a check is in flight: a
				 * hundred thousand idle targets need none */
};

struct health_checker {
	int epfd;
	int tfd;
	CURLM *multi;
	struct curl_slist *headers;	/* extra request headers of http checks */
	health_change_fn on_change;
	void *ctx;

	struct target **targets;	/* sorted by (service, name) */
	size_t n_targets;
	struct target **heap;		/* idle checked targets, min-heap on next_ns */
	size_t heap_len;

	__u64 curl_deadline_ns;		/* 0: curl wants no timeout */
	bool curl_timer_set;		/* the timer callback ran since last cleared */
	__u64 armed_ns;			/* what tfd is armed for, 0 when idle */
};

/* ---- the heap of idle targets ---- */

static void heap_swap(struct health_checker *hc, size_t a, size_t b)
{
	struct target *t = hc->heap[a];

	hc->heap[a] = hc->heap[b];
	hc->heap[b] = t;
	hc->heap[a]->heap_idx = a;
	hc->heap[b]->heap_idx = b;
}

static void heap_up(struct health_checker *hc, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (hc->heap[parent]->next_ns <= hc->heap[i]->next_ns)
			break;
		heap_swap(hc, i, parent);
		i = parent;
	}
}

static void heap_down(struct health_checker *hc, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;

		if (l < hc->heap_len && hc->heap[l]->next_ns < hc->heap[min]->next_ns)
			min = l;
		if (r < hc->heap_len && hc->heap[r]->next_ns < hc->heap[min]->next_ns)
			min = r;
		if (min == i)
			break;
		heap_swap(hc, i, min);
		i = min;
	}
}

/* The heap array always has room for every target (sized in set_targets). */
static void heap_push(struct health_checker *hc, struct target *t)
{
	t->heap_idx = hc->heap_len;
	hc->heap[hc->heap_len++] = t;
	heap_up(hc, t->heap_idx);
}

static struct target *heap_pop(struct health_checker *hc)
{
	struct target *t = hc->heap[0];

	hc->heap_len--;
	if (hc->heap_len) {
		hc->heap[0] = hc->heap[hc->heap_len];
		hc->heap[0]->heap_idx = 0;
		heap_down(hc, 0);
	}
	t->heap_idx = HEAP_NONE;
	return t;
}

/* ---- libcurl callbacks ---- */

/* CURLMOPT_SOCKETFUNCTION: mirror curl's interest in <s> into our epoll set. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct health_checker *hc = userp;
	struct epoll_event ev = { .data.fd = s };
	int op;

	if (what == CURL_POLL_REMOVE) {
		/* curl may already have closed it, which removed it for us. */
		epoll_ctl(hc->epfd, EPOLL_CTL_DEL, s, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev.events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev.events |= EPOLLOUT;
	/* <socketp> marks a socket we added; a closed and reused fd number
	 * can still fool it, hence the fallback to the other operation.
	 */
	op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(hc->epfd, op, s, &ev)) {
		if (op == EPOLL_CTL_ADD && errno == EEXIST)
			op = EPOLL_CTL_MOD;
		else if (op == EPOLL_CTL_MOD && errno == ENOENT)
			op = EPOLL_CTL_ADD;
		else
			op = -1;
		if (op < 0 || epoll_ctl(hc->epfd, op, s, &ev)) {
			pr_warn("health: cannot watch socket %d: %s", s, strerror(errno));
			return -1;
		}
	}
	if (!socketp)
		curl_multi_assign(hc->multi, s, hc);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: remember curl's deadline; the timerfd is armed later. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct health_checker *hc = userp;

	hc->curl_deadline_ns = timeout_ms < 0 ? 0 :
			       clock_mono_ns() + (__u64)timeout_ms * NSEC_PER_MSEC;
	hc->curl_timer_set = true;
	return 0;
}

static void learn_tcp_info(struct target *t, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) || !ti.tcpi_snd_mss)
		return;
	t->st.mss = ti.tcpi_snd_mss > 0xffff ? 0xffff : ti.tcpi_snd_mss;
	/* Without the option on the SYN-ACK the backend does not scale at all. */
	t->st.wscale = ti.tcpi_options & TCPI_OPT_WSCALE ? ti.tcpi_snd_wscale : 0;
	t->st.learned = true;
}

/* CURLOPT_SOCKOPTFUNCTION: note the socket of an http check for TCP_INFO. */
static int sockopt_cb(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct target *t = arg;

	t->fd = fd;
	return CURL_SOCKOPT_OK;
}

/* CURLOPT_HEADERFUNCTION: a response is arriving, so the connection is up. */
static size_t header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct target *t = arg;

	if (t->fd >= 0) {
		learn_tcp_info(t, t->fd);
		t->fd = -1;
	}
	return size * nitems;
}

/* CURLOPT_WRITEFUNCTION: drop the body, and stop reading a large one. */
static size_t body_cb(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct target *t = arg;
	size_t len = size * nmemb;

	t->body += len;
	if (t->body > BODY_MAX) {
		t->body_capped = true;
		return 0;
	}
	return len;
}

/* ---- one check ---- */

static void build_url(const struct target *t, char *url, size_t len)
{
	char addr[INET6_ADDRSTRLEN];
	const char *path = t->t.cfg.type == HEALTH_HTTP ? t->t.cfg.path : "/";

	format_ip_address(&t->t.address, addr, sizeof(addr));
	if (t->t.address.family == LIMPET_FAMILY_V6)
		snprintf(url, len, "http://[%s]:%u%s", addr, t->t.port, path);
	else
		snprintf(url, len, "http://%s:%u%s", addr, t->t.port, path);
}

static int setup_easy(struct health_checker *hc, struct target *t, CURL *e)
{
	long timeout = t->t.cfg.timeout_ms > LONG_MAX ? LONG_MAX : (long)t->t.cfg.timeout_ms;
	CURLcode rc = CURLE_OK;
	char url[URL_MAX];

	build_url(t, url, sizeof(url));

#define SET(opt, val)                                                                       \
	do {                                                                                \
		if (rc == CURLE_OK)                                                         \
			rc = curl_easy_setopt(e, opt, val);                                 \
	} while (0)
	SET(CURLOPT_URL, url);	/* curl keeps a copy */
	SET(CURLOPT_PRIVATE, t);
	SET(CURLOPT_ERRORBUFFER, t->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_NOPROXY, "*");
	SET(CURLOPT_PROTOCOLS_STR, "http");
	SET(CURLOPT_FRESH_CONNECT, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, timeout);
	SET(CURLOPT_TIMEOUT_MS, timeout);
	if (t->t.cfg.type == HEALTH_TCP) {
		SET(CURLOPT_CONNECT_ONLY, 1L);
	} else {
		/* A connect-only connection must survive until its TCP_INFO
		 * is read (see check_done); a GET's must not outlive it.
		 */
		SET(CURLOPT_FORBID_REUSE, 1L);
		SET(CURLOPT_HTTPGET, 1L);
		SET(CURLOPT_PATH_AS_IS, 1L);
		SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
		SET(CURLOPT_USERAGENT, "limpet-health");
		SET(CURLOPT_HTTPHEADER, hc->headers);
		SET(CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
		SET(CURLOPT_SOCKOPTDATA, t);
		SET(CURLOPT_HEADERFUNCTION, header_cb);
		SET(CURLOPT_HEADERDATA, t);
		SET(CURLOPT_WRITEFUNCTION, body_cb);
		SET(CURLOPT_WRITEDATA, t);
	}
#undef SET
	return rc == CURLE_OK ? 0 : -EINVAL;
}

static int start_check(struct health_checker *hc, struct target *t, __u64 now)
{
	CURL *e = curl_easy_init();
	CURLMcode mrc;
	int err;

	t->errbuf = e ? calloc(1, CURL_ERROR_SIZE) : NULL;
	if (!t->errbuf) {
		curl_easy_cleanup(e);
		return -ENOMEM;
	}
	t->fd = -1;
	t->body = 0;
	t->body_capped = false;
	err = setup_easy(hc, t, e);
	if (err)
		goto fail;
	mrc = curl_multi_add_handle(hc->multi, e);
	if (mrc != CURLM_OK) {
		err = mrc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
		goto fail;
	}
	t->easy = e;
	t->started_ns = now;
	return 0;
fail:
	curl_easy_cleanup(e);
	free(t->errbuf);
	t->errbuf = NULL;
	return err;
}

static void cancel_check(struct health_checker *hc, struct target *t)
{
	if (!t->easy)
		return;
	curl_multi_remove_handle(hc->multi, t->easy);
	curl_easy_cleanup(t->easy);
	t->easy = NULL;
	free(t->errbuf);
	t->errbuf = NULL;
}

/* The words an operator expects, rather than curl's. */
static void failure_reason(struct target *t, CURLcode rc, long os_errno, char *buf, size_t len)
{
	const char *src;
	size_t n;

	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(buf, len, "timeout after %" PRIu64 " ms", (uint64_t)t->t.cfg.timeout_ms);
		return;
	case CURLE_GOT_NOTHING:
		snprintf(buf, len, "connection closed without a reply");
		return;
	case CURLE_WEIRD_SERVER_REPLY:
		snprintf(buf, len, "invalid HTTP reply");
		return;
	case CURLE_COULDNT_CONNECT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		switch (os_errno) {
		case 0:
			break;
		case ECONNREFUSED:
			snprintf(buf, len, "connection refused");
			return;
		case ECONNRESET:
			snprintf(buf, len, "connection reset");
			return;
		case EHOSTUNREACH:
			snprintf(buf, len, "host unreachable");
			return;
		case ENETUNREACH:
			snprintf(buf, len, "network unreachable");
			return;
		default:
			snprintf(buf, len, "%s", strerror(os_errno));
			buf[0] = tolower((unsigned char)buf[0]);
			return;
		}
		break;
	default:
		break;
	}
	src = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
	n = strnlen(src, len - 1);
	memcpy(buf, src, n);	/* curl's texts may be longer than ours: cut */
	buf[n] = '\0';
}

static void record_result(struct health_checker *hc, struct target *t, bool pass,
			  const char *reason)
{
	struct health_status *st = &t->st;
	const char *svc = t->t.service, *name = t->t.name;

	st->checks++;
	if (pass) {
		st->ok_streak++;
		st->fail_streak = 0;
		st->last_error[0] = '\0';
		pr_debug("health: %s/%s: ok in %" PRIu64 " us", svc, name,
			 (uint64_t)st->last_latency_us);
		if (!st->up && st->ok_streak >= t->t.cfg.rise) {
			st->up = true;
			pr_info("backend %s/%s is up: %s (%u successes)", svc, name, reason,
				st->ok_streak);
			if (hc->on_change)
				hc->on_change(hc->ctx, svc, name, true, reason);
		}
		return;
	}
	st->failures++;
	st->fail_streak++;
	st->ok_streak = 0;
	snprintf(st->last_error, sizeof(st->last_error), "%s", reason);
	pr_debug("health: %s/%s: %s after %" PRIu64 " us", svc, name, reason,
		 (uint64_t)st->last_latency_us);
	if (st->up && st->fail_streak >= t->t.cfg.fall) {
		st->up = false;
		pr_warn("backend %s/%s is down: %s (%u failures)", svc, name, reason,
			st->fail_streak);
		if (hc->on_change)
			hc->on_change(hc->ctx, svc, name, false, reason);
	}
}

static void check_done(struct health_checker *hc, struct target *t, CURLcode rc, __u64 now)
{
	char reason[sizeof(t->st.last_error)] = "ok";
	curl_off_t total_us = 0;
	long os_errno = 0, status = 0;
	bool pass = false;

	curl_easy_getinfo(t->easy, CURLINFO_TOTAL_TIME_T, &total_us);
	curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os_errno);
	t->st.last_latency_us = total_us > 0 ? (__u64)total_us : 0;

	if (t->t.cfg.type == HEALTH_TCP) {
		if (rc == CURLE_OK) {
			curl_socket_t fd = CURL_SOCKET_BAD;

			/* Only a connect-only transfer keeps its socket past done. */
			if (curl_easy_getinfo(t->easy, CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK)
				learn_tcp_info(t, fd);
			pass = true;
		} else {
			failure_reason(t, rc, os_errno, reason, sizeof(reason));
		}
	} else if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t->body_capped)) {
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
		if (status == (long)t->t.cfg.expect)
			pass = true;
		else
			snprintf(reason, sizeof(reason), "HTTP status %ld (expected %u)", status,
				 t->t.cfg.expect);
	} else {
		failure_reason(t, rc, os_errno, reason, sizeof(reason));
	}
	cancel_check(hc, t);

	/* Keep the phase: the next check is due one interval after this one
	 * started, or now if this one took longer than that.
	 */
	t->next_ns = t->started_ns + t->t.cfg.interval_ms * NSEC_PER_MSEC;
	if (t->next_ns < now)
		t->next_ns = now;
	heap_push(hc, t);

	record_result(hc, t, pass, reason);
}

/* ---- the loop ---- */

static void start_due(struct health_checker *hc, __u64 now)
{
	while (hc->heap_len && hc->heap[0]->next_ns <= now + DUE_SLACK) {
		struct target *t = heap_pop(hc);
		int err = start_check(hc, t, now);

		if (err) {
			/* Our failure, not the backend's: try again later. */
			pr_warn("health: cannot check %s/%s: %s", t->t.service, t->t.name,
				strerror(-err));
			t->next_ns = now + t->t.cfg.interval_ms * NSEC_PER_MSEC;
			heap_push(hc, t);
		}
	}
}

static void run_curl_timeout(struct health_checker *hc)
{
	int running, i;

	for (i = 0; i < 4 && hc->curl_deadline_ns && hc->curl_deadline_ns <= clock_mono_ns(); i++) {
		hc->curl_timer_set = false;
		curl_multi_socket_action(hc->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		if (!hc->curl_timer_set) {
			long ms = -1;

			/* curl calls back only when its deadline moves; make sure
			 * a stale one in the past cannot spin the loop.
			 */
			curl_multi_timeout(hc->multi, &ms);
			if (ms < 0)
				hc->curl_deadline_ns = 0;
			else
				hc->curl_deadline_ns = clock_mono_ns() +
						       (__u64)(ms ?: 1) * NSEC_PER_MSEC;
		}
	}
}

static void reap(struct health_checker *hc)
{
	struct CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(hc->multi, &left))) {
		struct target *t = NULL;
		CURLcode rc = msg->data.result;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
		if (t)
			check_done(hc, t, rc, clock_mono_ns());
	}
}

static void rearm(struct health_checker *hc)
{
	struct itimerspec its = { 0 };
	__u64 due = hc->curl_deadline_ns;

	if (hc->heap_len && (!due || hc->heap[0]->next_ns < due))
		due = hc->heap[0]->next_ns;
	if (due == hc->armed_ns)
		return;
	its.it_value.tv_sec = due / NSEC_PER_SEC;
	its.it_value.tv_nsec = due % NSEC_PER_SEC;
	if (timerfd_settime(hc->tfd, TFD_TIMER_ABSTIME, &its, NULL)) {
		pr_warn("health: timerfd_settime: %s", strerror(errno));
		return;
	}
	hc->armed_ns = due;
}

void health_process(struct health_checker *hc)
{
	struct epoll_event ev[EVENTS_MAX];
	int n, i, running, round = 0;

	do {
		n = epoll_wait(hc->epfd, ev, EVENTS_MAX, 0);
		for (i = 0; i < n; i++) {
			int fd = ev[i].data.fd, flags = 0;

			if (fd == hc->tfd) {
				__u64 expirations;

				if (read(hc->tfd, &expirations, sizeof(expirations)) > 0)
					hc->armed_ns = 0;
				continue;
			}
			if (ev[i].events & EPOLLIN)
				flags |= CURL_CSELECT_IN;
			if (ev[i].events & EPOLLOUT)
				flags |= CURL_CSELECT_OUT;
			if (ev[i].events & (EPOLLERR | EPOLLHUP))
				flags |= CURL_CSELECT_ERR;
			curl_multi_socket_action(hc->multi, fd, flags, &running);
		}
		/* Results first, so a finished target can be due again. */
		reap(hc);
		start_due(hc, clock_mono_ns());
		run_curl_timeout(hc);
		reap(hc);
	} while (n == EVENTS_MAX && ++round < 8);
	rearm(hc);
}

int health_fd(const struct health_checker *hc)
{
	return hc->epfd;
}

/* ---- the target set ---- */

static int target_cmp(const struct health_target *a, const struct health_target *b)
{
	int c = strcmp(a->service, b->service);

	return c ? c : strcmp(a->name, b->name);
}

static int target_ptr_cmp(const void *a, const void *b)
{
	const struct target *x = *(struct target *const *)a, *y = *(struct target *const *)b;

	return target_cmp(&x->t, &y->t);
}

static struct target *find(const struct health_checker *hc, const struct health_target *key)
{
	size_t lo = 0, hi = hc->n_targets;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = target_cmp(key, &hc->targets[mid]->t);

		if (!c)
			return hc->targets[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static bool same_address(const struct ip_address *a, const struct ip_address *b)
{
	size_t len = a->family == LIMPET_FAMILY_V4 ? 4 : sizeof(a->addr);

	return a->family == b->family && !memcmp(&a->addr, &b->addr, len);
}

static bool same_config(const struct health_config *a, const struct health_config *b)
{
	return a->type == b->type && !strcmp(a->path, b->path) && a->expect == b->expect &&
	       a->interval_ms == b->interval_ms && a->timeout_ms == b->timeout_ms &&
	       a->rise == b->rise && a->fall == b->fall;
}

static bool same_target(const struct health_target *a, const struct health_target *b)
{
	return !target_cmp(a, b) && same_address(&a->address, &b->address) &&
	       a->port == b->port && same_config(&a->cfg, &b->cfg);
}

static bool target_valid(const struct health_target *t)
{
	const struct health_config *c = &t->cfg;

	if (!memchr(t->service, '\0', sizeof(t->service)) || !t->service[0] ||
	    !memchr(t->name, '\0', sizeof(t->name)) || !t->name[0])
		return false;
	if (c->type == HEALTH_NONE)
		return true;
	if (c->type != HEALTH_TCP && c->type != HEALTH_HTTP)
		return false;
	if (t->address.family != LIMPET_FAMILY_V4 && t->address.family != LIMPET_FAMILY_V6)
		return false;
	if (!memchr(c->path, '\0', sizeof(c->path)) || c->path[0] != '/')
		return false;
	return t->port && c->interval_ms && c->timeout_ms && c->rise && c->fall;
}

static struct target *target_new(struct health_checker *hc, const struct health_target *src)
{
	struct target *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->t = *src;
	t->heap_idx = HEAP_NONE;
	t->fd = -1;
	t->st.up = true;
	return t;
}

static void target_free(struct health_checker *hc, struct target *t)
{
	cancel_check(hc, t);
	free(t);
}

int health_set_targets(struct health_checker *hc, const struct health_target *targets, size_t n)
{
	struct target **next = NULL, **heap = NULL, **fresh = NULL;
	size_t i, n_fresh = 0, spread = 0;
	__u64 now = clock_mono_ns();
	int err = -ENOMEM;

	for (i = 0; i < n; i++)
		if (!target_valid(&targets[i]))
			return -EINVAL;
	if (n) {
		next = calloc(n, sizeof(*next));
		heap = calloc(n, sizeof(*heap));
		fresh = calloc(n, sizeof(*fresh));
		if (!next || !heap || !fresh)
			goto fail;
	}

	/* Allocate everything before touching the current set. */
	for (i = 0; i < n; i++) {
		struct target *old = find(hc, &targets[i]);

		if (old && same_target(&old->t, &targets[i])) {
			next[i] = old;
			continue;
		}
		next[i] = target_new(hc, &targets[i]);
		if (!next[i])
			goto fail;
		/* The same endpoint with new check settings keeps its verdict (a
		 * reload must not put a dead backend back in service); the new
		 * checks confirm or overturn it. A new address starts up.
		 */
		if (old && same_address(&old->t.address, &targets[i].address) &&
		    old->t.port == targets[i].port && old->t.cfg.type != HEALTH_NONE &&
		    targets[i].cfg.type != HEALTH_NONE)
			next[i]->st.up = old->st.up;
		fresh[n_fresh++] = next[i];
	}
	if (n)	/* qsort(NULL, 0, ...) is undefined */
		qsort(next, n, sizeof(*next), target_ptr_cmp);
	for (i = 1; i < n; i++) {
		if (!target_cmp(&next[i - 1]->t, &next[i]->t)) {
			err = -EINVAL;
			goto fail;
		}
	}

	/* Commit: mark the survivors, then free whatever is left unmarked. */
	for (i = 0; i < hc->n_targets; i++)
		hc->targets[i]->keep = false;
	for (i = 0; i < n; i++)
		next[i]->keep = true;
	for (i = 0; i < hc->n_targets; i++)
		if (!hc->targets[i]->keep)
			target_free(hc, hc->targets[i]);
	free(hc->targets);
	free(hc->heap);
	hc->targets = next;
	hc->n_targets = n;
	hc->heap = heap;
	hc->heap_len = 0;

	/* A lone new target is checked at once; many are spread over up to an
	 * interval so that a thousand backends do not connect at the same time.
	 */
	for (i = 0; i < n_fresh; i++)
		if (fresh[i]->t.cfg.type != HEALTH_NONE)
			spread++;
	for (i = 0, n_fresh = 0; i < n; i++) {
		struct target *t = next[i];
		__u64 window, interval = t->t.cfg.interval_ms * NSEC_PER_MSEC;

		if (t->t.cfg.type == HEALTH_NONE || t->easy)
			continue;
		if (!t->next_ns) {	/* never scheduled: new */
			window = spread * FIRST_CHECK_GAP;
			if (window < FIRST_CHECK_WINDOW_MIN)
				window = FIRST_CHECK_WINDOW_MIN;
			if (window > interval)
				window = interval;
			t->next_ns = now + window * n_fresh++ / spread;
		}
		heap_push(hc, t);
	}
	free(fresh);
	rearm(hc);
	return 0;

fail:
	for (i = 0; i < n_fresh; i++)
		free(fresh[i]);
	free(fresh);
	free(heap);
	free(next);
	return err;
}

const struct health_status *health_get(const struct health_checker *hc, const char *service,
				       const char *name)
{
	struct health_target key;
	struct target *t;

	if (!service || !name || strlen(service) >= sizeof(key.service) ||
	    strlen(name) >= sizeof(key.name))
		return NULL;
	strcpy(key.service, service);
	strcpy(key.name, name);
	t = find(hc, &key);
	return t ? &t->st : NULL;
}

/* ---- life cycle ---- */

struct health_checker *health_new(health_change_fn on_change, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct health_checker *hc;
	int err = ENOMEM;

	hc = calloc(1, sizeof(*hc));
	if (!hc)
		goto out;
	hc->epfd = -1;
	hc->tfd = -1;
	hc->on_change = on_change;
	hc->ctx = ctx;
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		free(hc);
		hc = NULL;
		goto out;
	}
	hc->epfd = epoll_create1(EPOLL_CLOEXEC);
	hc->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (hc->epfd < 0 || hc->tfd < 0) {
		err = errno;
		goto fail;
	}
	ev.data.fd = hc->tfd;
	if (epoll_ctl(hc->epfd, EPOLL_CTL_ADD, hc->tfd, &ev)) {
		err = errno;
		goto fail;
	}
	err = ENOMEM;
	hc->multi = curl_multi_init();
	hc->headers = curl_slist_append(NULL, "Connection: close");
	if (!hc->multi || !hc->headers)
		goto fail;
	err = EINVAL;
	if (curl_multi_setopt(hc->multi, CURLMOPT_SOCKETFUNCTION, socket_cb) ||
	    curl_multi_setopt(hc->multi, CURLMOPT_SOCKETDATA, hc) ||
	    curl_multi_setopt(hc->multi, CURLMOPT_TIMERFUNCTION, timer_cb) ||
	    curl_multi_setopt(hc->multi, CURLMOPT_TIMERDATA, hc))
		goto fail;
	return hc;
fail:
	health_free(hc);
	hc = NULL;
out:
	errno = err;
	return NULL;
}

void health_free(struct health_checker *hc)
{
	size_t i;

	if (!hc)
		return;
	for (i = 0; i < hc->n_targets; i++)
		target_free(hc, hc->targets[i]);
	free(hc->targets);
	free(hc->heap);
	if (hc->multi)
		curl_multi_cleanup(hc->multi);
	curl_slist_free_all(hc->headers);
	if (hc->tfd >= 0)
		close(hc->tfd);
	if (hc->epfd >= 0)
		close(hc->epfd);
	free(hc);
	curl_global_cleanup();
}
