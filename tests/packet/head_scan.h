/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * head_scan.h - the maps of tests/packet/head_scan.bpf.c, shared with the
 * test that drives it (tests/packet/test_head.c).
 */
#ifndef LIMPET_TESTS_HEAD_SCAN_H
#define LIMPET_TESTS_HEAD_SCAN_H

#include <linux/types.h>
#include "limpet_head.h"

/* What the cookie check runs with besides the config and the keys. */
struct head_scan_env {
	__u64 now_s;
	__u32 ttl_s;
	__u32 service_tag;
	__u32 require_all;	/* for limpet_head_session_key() */
	__u32 pad;
};

/* What the program found in the last frame. */
struct head_scan_result {
	struct limpet_head_scan scan;
	struct limpet_token_fields fields;
	__u64 session_key;
	__s32 rc;		/* head_scan_payload(); -2: frame not parsed */
	__u32 outcome;		/* enum limpet_cookie_outcome */
	__u32 payload_off;
	__u32 payload_len;
	__s32 key_ok;
	__u32 runs;		/* frames seen */
};

#endif /* LIMPET_TESTS_HEAD_SCAN_H */
