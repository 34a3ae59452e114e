/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * health.h - backend health checks (TCP connect or HTTP GET), as keepalived
 * and HAProxy do them: every <interval>, with a <timeout>, and <rise>/<fall>
 * consecutive results needed to change state.
 *
 * Every check of every backend runs concurrently from one event loop: the
 * checker owns an epoll fd (curl's sockets plus one timerfd) that the caller
 * adds to its own loop with EPOLLIN, calling health_process() when it is
 * readable. Nothing blocks and no thread is started. A backend starts UP so
 * that a controller restart never takes healthy backends out of service.
 */
#ifndef LIMPET_HEALTH_H
#define LIMPET_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "model/config.h"
#include "limpet_limits.h"

struct health_checker;

struct health_target {
	char service[LIMPET_NAME_MAX];
	char name[LIMPET_NAME_MAX];
	struct ip_address address;
	__u16 port;			/* host order */
	struct health_config cfg;
};

struct health_status {
	bool up;
	__u32 ok_streak, fail_streak;	/* consecutive passes / failures */
	__u64 checks, failures;		/* totals since the target was (re)added */
	__u64 last_latency_us;		/* duration of the last check */
	char last_error[96];		/* "" when the last check passed */
	__u16 mss;			/* 0 until learned */
	__u8 wscale;			/* the backend's window scale (tcpi_snd_wscale) */
	bool learned;			/* mss/wscale valid */
};

/*
 * Called on UP<->DOWN changes, from inside health_process(). <reason> is e.g.
 * "connection refused", "timeout after 1000 ms", "HTTP status 503 (expected
 * 200)" or "ok". It may call health_get() but not health_set_targets() or
 * health_free().
 */
typedef void (*health_change_fn)(void *ctx, const char *service, const char *name, bool up,
				 const char *reason);

/* NULL and errno set on failure. */
struct health_checker *health_new(health_change_fn on_change, void *ctx);

/* The epoll fd to watch (EPOLLIN) in the caller's loop. */
int health_fd(const struct health_checker *hc);

/* Do whatever is due: call when health_fd() is readable. Never blocks. */
void health_process(struct health_checker *hc);

/*
 * Replace the target set. Targets whose (service, name, address, port, cfg)
 * are unchanged keep their state and schedule; a target with only new check
 * settings keeps its up/down verdict (counters restart); new ones, and ones
 * with a new address or port, start UP (without a callback). Changed and
 * new targets are checked soon; missing ones are dropped
 * (in-flight checks cancelled). (service, name) must be unique. Returns 0 or
 * -errno (-EINVAL, -ENOMEM); on error the previous set is kept.
 */
int health_set_targets(struct health_checker *hc, const struct health_target *targets, size_t n);

/* NULL when unknown. Valid until the next health_set_targets()/health_free(). */
const struct health_status *health_get(const struct health_checker *hc, const char *service,
				       const char *name);

void health_free(struct health_checker *hc);

#endif /* LIMPET_HEALTH_H */
