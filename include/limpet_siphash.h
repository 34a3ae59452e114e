/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_siphash.h - SipHash-2-4 with a 64-bit result, the MAC of the cookie
 * token (limpet_token.h).
 *
 * The conventions of the reference implementation (Aumasson and Bernstein):
 * the 128-bit key is k0 || k1, each little-endian (key bytes 0-7 are k0), and
 * the message is read as little-endian 64-bit words. Compiled for BPF and for
 * userspace: messages are at most LIMPET_SIPHASH_MAX_LEN bytes, so every loop
 * has a constant bound the verifier sees (and clang unrolls when the length
 * is a constant, as it is for the token).
 */
#ifndef LIMPET_SIPHASH_H
#define LIMPET_SIPHASH_H

#include <linux/types.h>
#include "limpet_inline.h"

#define LIMPET_SIPHASH_MAX_LEN 32

LIMPET_INLINE __u64 limpet_rotl64(__u64 x, int r)
{
	return (x << r) | (x >> (64 - r));
}

struct limpet_sipstate {
	__u64 v0, v1, v2, v3;
};

LIMPET_INLINE void limpet_sipround(struct limpet_sipstate *s)
{
	s->v0 += s->v1;
	s->v1 = limpet_rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = limpet_rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = limpet_rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = limpet_rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = limpet_rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = limpet_rotl64(s->v2, 32);
}

/* Two compression rounds over one message word. */
LIMPET_INLINE void limpet_sipcompress(struct limpet_sipstate *s, __u64 m)
{
	s->v3 ^= m;
	limpet_sipround(s);
	limpet_sipround(s);
	s->v0 ^= m;
}

/* SipHash-2-4 of msg[0, len); a longer <len> is cut to LIMPET_SIPHASH_MAX_LEN. */
LIMPET_INLINE __u64 limpet_siphash24(__u64 k0, __u64 k1, const __u8 *msg, __u32 len)
{
	struct limpet_sipstate s = {
		.v0 = 0x736f6d6570736575ull ^ k0,
		.v1 = 0x646f72616e646f6dull ^ k1,
		.v2 = 0x6c7967656e657261ull ^ k0,
		.v3 = 0x7465646279746573ull ^ k1,
	};
	__u32 words, w, i;
	__u64 m, last;

	if (len > LIMPET_SIPHASH_MAX_LEN)
		len = LIMPET_SIPHASH_MAX_LEN;
	words = len / 8;

	for (w = 0; w < LIMPET_SIPHASH_MAX_LEN / 8; w++) {
		if (w >= words)
			break;
		m = 0;
		for (i = 0; i < 8; i++)
			m |= (__u64)msg[w * 8 + i] << (8 * i);
		limpet_sipcompress(&s, m);
	}

	/* The last word: the 0-7 remaining bytes, the length in the top byte. */
	last = (__u64)(len & 0xff) << 56;
	for (i = 0; i < 7; i++) {
		if (i >= (len & 7))
			break;
		last |= (__u64)msg[words * 8 + i] << (8 * i);
	}
	limpet_sipcompress(&s, last);

	s.v2 ^= 0xff;
	limpet_sipround(&s);
	limpet_sipround(&s);
	limpet_sipround(&s);
	limpet_sipround(&s);
	return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

#endif /* LIMPET_SIPHASH_H */
