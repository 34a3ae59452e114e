/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * impair.h - what the impairment program (impair.bpf.c) and its loader
 * (impair.c) share: the configuration and the counter indexes.
 */
#ifndef LIMPET_IMPAIR_H
#define LIMPET_IMPAIR_H

#include <linux/types.h>

/* Upper bound of the cpumap; the loader sizes it to the possible CPUs. */
#define IMPAIR_MAX_CPUS 256
/* Per-CPU queue of frames waiting for the remote CPU's kthread. */
#define IMPAIR_QSIZE 2048

/* Value of the single entry of the impair_cfg array map. */
struct impair_cfg {
	__u32 drop_pct;		/* 0..100: TCP frames dropped */
	__u32 reorder_pct;	/* 0..100 - drop_pct: sent through another CPU */
	__u32 nr_cpus;		/* cpumap entries 0..nr_cpus-1 are set */
};

/* Keys of the impair_stats per-CPU array (frame counts). */
enum impair_stat {
	IMPAIR_DROPPED,
	IMPAIR_REORDERED,
	IMPAIR_PASSED,		/* TCP, left alone */
	IMPAIR_IGNORED,		/* not TCP: never impaired */
	IMPAIR_NR_STATS,
};

#endif /* LIMPET_IMPAIR_H */
