/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * token_input.h - how an input of the token fuzzer (fuzz_token.c) and of
 * the BPF differential check (diff_bpf.c --token) reads.
 *
 *   byte 0   bit 0 clear: the next 36 bytes are the cookie value as sent
 *            (short inputs padded with 'A'), then one byte: the length
 *            the check is given (fuzz_token.c).
 *            bit 0 set: a token made here: bit 1 the key (of head_keys()),
 *            then session (8 bytes), backend (4), issued as a signed
 *            offset from HEAD_NOW (4), the position of a character to
 *            change (1; 36 and up: none) and what to change it to (1).
 */
#ifndef LIMPET_TESTS_FUZZ_TOKEN_INPUT_H
#define LIMPET_TESTS_FUZZ_TOKEN_INPUT_H

#include <string.h>

#include "fuzz.h"
#include "head_input.h"
#include "limpet_token.h"

struct token_input {
	char chars[LIMPET_TOKEN_CHARS];
	__u32 len;			/* given to the check */
	int built;			/* made by limpet_token_encode() here */
	int flipped;			/* built, then one character changed */
	__u32 flip_pos;
	struct limpet_token_fields fields;	/* built: what went in */
	const struct limpet_cookie_key *key;	/* built: made with */
};

static inline void token_input_read(const __u8 *data, size_t size,
				    const struct limpet_cookie_keys *keys, struct token_input *t)
{
	struct fuzz_in in = { data, size };
	__u8 b0 = fuzz_u8(&in), c;
	const __u8 *p;
	size_t n;

	memset(t, 0, sizeof(*t));
	if (!(b0 & 1)) {
		memset(t->chars, 'A', sizeof(t->chars));
		p = fuzz_bytes(&in, LIMPET_TOKEN_CHARS, &n);
		memcpy(t->chars, p, n);
		t->len = in.len ? fuzz_u8(&in) : LIMPET_TOKEN_CHARS;
		return;
	}
	t->built = 1;
	t->key = &keys->key[b0 & 2 ? 3 : 1];
	t->fields.session = fuzz_u64(&in);
	t->fields.backend_tag = fuzz_u32(&in);
	t->fields.issued = HEAD_NOW + (__s32)fuzz_u32(&in);
	t->fields.version = LIMPET_TOKEN_VERSION;
	t->fields.key_id = t->key->id;
	limpet_token_encode(&t->fields, t->key, HEAD_TAG, t->chars);
	t->len = LIMPET_TOKEN_CHARS;
	t->flip_pos = fuzz_u8(&in);
	c = fuzz_u8(&in);
	if (t->flip_pos < LIMPET_TOKEN_CHARS) {
		if ((__u8)t->chars[t->flip_pos] == c)
			c ^= 1;
		t->chars[t->flip_pos] = (char)c;
		t->flipped = 1;
	}
}

#endif /* LIMPET_TESTS_FUZZ_TOKEN_INPUT_H */
