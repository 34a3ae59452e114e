/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * clock.h - the controller's clocks, read one way. Timeouts and deadlines
 * use CLOCK_MONOTONIC; cookie issue times and expiry use wall-clock
 * seconds, which every balancer sharing a key file agrees on.
 */
#ifndef LIMPET_CLOCK_H
#define LIMPET_CLOCK_H

#include <time.h>
#include <linux/types.h>

static inline __u64 clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static inline __u64 clock_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static inline __u64 clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

/* Unix time in seconds. */
static inline __u64 clock_wall_s(void)
{
	return (__u64)time(NULL);
}

#endif /* LIMPET_CLOCK_H */
