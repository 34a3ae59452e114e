/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * head_input.h - how an input of the head fuzzer (fuzz_head.c) and of the
 * BPF differential check (diff_bpf.c) reads, so the two share a corpus.
 *
 *   byte 0   bits 0-1 the cookie name (none, "limpet", "s", 63 characters),
 *            bits 2-5 how many configured headers (0-8, from head_names[]),
 *            bit 6 require_all, bit 7 IPv6 (diff_bpf.c)
 *   byte 1   bits 0-2 how many split points follow (fuzz_head.c)
 *   2 bytes  per split point, an offset into the payload
 *   the rest the request head
 *
 * The keys, service tag and clock are fixed: the seeds carry tokens made
 * with HEAD_KEY for HEAD_TAG at HEAD_NOW, so valid cookies occur.
 */
#ifndef LIMPET_TESTS_FUZZ_HEAD_INPUT_H
#define LIMPET_TESTS_FUZZ_HEAD_INPUT_H

#include <string.h>

#include "fuzz.h"
#include "limpet_head.h"

#define HEAD_TAG 0x00070001u
#define HEAD_NOW 1700000000u
#define HEAD_TTL 3600u
#define HEAD_MAX_SPLITS 7

/* Configured header names: lower case, as the controller writes them. */
static const char *const head_names[LIMPET_HEAD_MAX_HEADERS] = {
	"x-session-id", "x-tenant", "cookie", "a", "authorization", "x-user",
	"host", "x-abcdefghijklmnopqrstuvwxyz0123456789-abcdefghijklmnopqrstuvwx",
};

static const char *const head_cookie_names[4] = {
	"", "limpet", "s", "Abcdefghijklmnopqrstuvwxyz0123456789_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
};

struct head_input {
	struct limpet_head_config cfg;
	int require_all;
	int v6;
	__u32 n_splits;
	__u32 split[HEAD_MAX_SPLITS];
	const __u8 *payload;
	__u32 len;
};

static inline void head_keys(struct limpet_cookie_keys *keys)
{
	memset(keys, 0, sizeof(*keys));
	keys->key[1] = (struct limpet_cookie_key){
		.k0 = 0x0f1e2d3c4b5a6978ull, .k1 = 0x8796a5b4c3d2e1f0ull, .id = 9, .valid = 1,
	};
	keys->key[3] = (struct limpet_cookie_key){
		.k0 = 0x5555aaaa5555aaaaull, .k1 = 0x0123012301230123ull, .id = 3, .valid = 1,
	};
}

static inline void head_input_read(const __u8 *data, size_t size, struct head_input *h)
{
	struct fuzz_in in = { data, size };
	__u8 b0 = fuzz_u8(&in), b1 = fuzz_u8(&in);
	const char *cookie = head_cookie_names[b0 & 3];
	size_t i, n;

	memset(h, 0, sizeof(*h));
	h->cfg.cookie_name_len = (__u8)strlen(cookie);
	memcpy(h->cfg.cookie_name, cookie, h->cfg.cookie_name_len);
	h->cfg.n_headers = (__u8)(((b0 >> 2) & 15) % (LIMPET_HEAD_MAX_HEADERS + 1));
	for (i = 0; i < h->cfg.n_headers; i++) {
		h->cfg.header_len[i] = (__u8)strlen(head_names[i]);
		memcpy(h->cfg.header[i], head_names[i], h->cfg.header_len[i]);
	}
	h->require_all = !!(b0 & 0x40);
	h->v6 = !!(b0 & 0x80);
	h->n_splits = b1 & 7;
	for (i = 0; i < h->n_splits; i++)
		h->split[i] = fuzz_u16(&in);
	h->payload = fuzz_bytes(&in, SIZE_MAX, &n);
	h->len = (__u32)n;
}

#endif /* LIMPET_TESTS_FUZZ_HEAD_INPUT_H */
