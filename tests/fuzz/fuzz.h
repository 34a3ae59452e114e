/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * fuzz.h - what the libFuzzer targets of tests/fuzz/ share.
 *
 * FUZZ_CHECK() states a property; when it does not hold it prints which
 * one and aborts, so libFuzzer keeps the input as a crasher (asserts are
 * not used: NDEBUG must not turn the checks off). struct fuzz_in takes
 * bytes off the front of an input to choose configurations, lengths and
 * split points; an exhausted input reads as zeros, so every input is
 * valid and a short one means "the defaults".
 */
#ifndef LIMPET_TESTS_FUZZ_H
#define LIMPET_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/types.h>

#define FUZZ_CHECK(cond, fmt, ...)                                                        \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: property failed: %s: " fmt "\n", __FILE__, \
				__LINE__, #cond, ##__VA_ARGS__);                          \
			abort();                                                          \
		}                                                                         \
	} while (0)

struct fuzz_in {
	const __u8 *p;
	size_t len;
};

static inline __u8 fuzz_u8(struct fuzz_in *in)
{
	if (!in->len)
		return 0;
	in->len--;
	return *in->p++;
}

static inline __u16 fuzz_u16(struct fuzz_in *in)
{
	__u16 hi = fuzz_u8(in);

	return (__u16)(hi << 8 | fuzz_u8(in));
}

static inline __u32 fuzz_u32(struct fuzz_in *in)
{
	__u32 hi = fuzz_u16(in);

	return hi << 16 | fuzz_u16(in);
}

static inline __u64 fuzz_u64(struct fuzz_in *in)
{
	__u64 hi = fuzz_u32(in);

	return hi << 32 | fuzz_u32(in);
}

/* Up to <max> bytes off the front: their start, *n their number. */
static inline const __u8 *fuzz_bytes(struct fuzz_in *in, size_t max, size_t *n)
{
	const __u8 *p = in->p;

	*n = in->len < max ? in->len : max;
	in->p += *n;
	in->len -= *n;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* LIMPET_TESTS_FUZZ_H */
