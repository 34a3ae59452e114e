/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * harness.h - running one frame through a loaded XDP program with
 * bpf_prog_test_run_opts() and checking what it did, shared by the packet
 * test suites. Each suite keeps its own step tables; this holds the run and
 * the counter check they have in common.
 */
#ifndef LIMPET_TESTS_HARNESS_H
#define LIMPET_TESTS_HARNESS_H

#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <bpf/bpf.h>
#include <criterion/criterion.h>
#include <linux/bpf.h>

#include "dp/dataplane.h"
#include "dp/maps.h"
#include "limpet_maps.h"
#include "packet/pkt.h"

/* One expected counter change: <stat> moves by exactly <n>; n == 0 ends a list. */
struct delta {
	int stat;
	int n;
};

struct result {
	int verdict;
	__u8 out[PKT_MAX];
	size_t out_len;
	__s64 delta[LIMPET_STAT_MAX];	/* change of each global counter */
};

static inline const char *verdict_name(int v)
{
	static const char *const names[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v >= 0 && v <= XDP_REDIRECT ? names[v] : "?";
}

/* The interfaces of tests/packet/run.sh's namespace: pkc0 (clients), pks0 (backends). */
static inline void pkt_ifaces(int *client, int *server)
{
	*client = (int)if_nametoindex("pkc0");
	*server = (int)if_nametoindex("pks0");
	cr_assert(*client && *server,
		  "pkc0/pks0 not found: run through tests/packet/run.sh (make packet)");
}

/*
 * The data plane as `limpet run` loads it, neither pinned nor attached: the
 * verifier must take every program. Its XDP program into *prog_fd unless NULL.
 */
static inline struct dataplane *pkt_load(__u32 flow_entries, int *prog_fd)
{
	struct dataplane *dp;
	int err = dp_open(&dp, NULL, flow_entries);

	cr_assert_eq(err, 0, "dp_open: %s", strerror(-err));
	err = dp_load(dp);
	cr_assert_eq(err, 0, "dp_load: %s", strerror(-err));
	if (prog_fd)
		*prog_fd = dp_prog_fd(dp);
	return dp;
}

/* Run frame <in> once through <prog_fd> as if it arrived on <ifindex>. */
static inline void xdp_run_frame(struct dataplane *dp, int prog_fd, int ifindex, const __u8 *in,
				 size_t len, struct result *r)
{
	__u64 before[LIMPET_STAT_MAX], after[LIMPET_STAT_MAX];
	struct xdp_md md = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = in, .data_size_in = len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .ctx_in = &md,
		    .ctx_size_in = sizeof(md), .repeat = 1);
	int i;

	cr_assert_eq(dp_read_global(dp, before), 0);
	cr_assert_eq(bpf_prog_test_run_opts(prog_fd, &opts), 0, "bpf_prog_test_run_opts: %s",
		     strerror(errno));
	cr_assert_eq(dp_read_global(dp, after), 0);
	r->verdict = opts.retval;
	r->out_len = opts.data_size_out;
	for (i = 0; i < LIMPET_STAT_MAX; i++)
		r->delta[i] = after[i] - before[i];
}

/* The counter changes of <r> against <deltas> (at most <n> entries): listed
 * ones exactly, every other counter not at all.
 */
static inline void check_deltas(const char *desc, const struct result *r,
				const struct delta *deltas, int n)
{
	__s64 want[LIMPET_STAT_MAX] = { 0 };
	int i;

	for (i = 0; i < n && deltas[i].n; i++)
		want[deltas[i].stat] = deltas[i].n;
	for (i = 0; i < LIMPET_STAT_MAX; i++)
		cr_expect_eq(r->delta[i], want[i], "%s: counter %s moved by %lld, expected %lld",
			     desc, dp_stat_name(i), (long long)r->delta[i], (long long)want[i]);
}

#endif /* LIMPET_TESTS_HARNESS_H */
