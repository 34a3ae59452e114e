// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_insert.c - libFuzzer target of slowpath_insert_offset(), where the
 * slow path puts its header lines into a backend's first response head.
 *
 * The input is the response segment's payload, in a buffer of exactly its
 * size (ASan sees any read past it). An offset is within [0, len], right
 * after the first line ending of a response that starts "HTTP/1.x " with
 * a status that is not 1xx (or is 101, the only head of an upgrade), and
 * before the end of the head; another 1xx head is never written into, and
 * the length it reports is that of its head.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "http/slowpath.h"

/* The end of the first line: the offset past its LF, 0 if none. */
static __u32 first_line_end(const __u8 *p, __u32 len)
{
	const __u8 *lf = memchr(p, '\n', len);

	return lf ? (__u32)(lf - p) + 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	__u32 len = size > 65535 ? 65535 : (__u32)size, head_len = 12345, i;
	bool informational = true;
	__u8 *p = malloc(len ? len : 1);
	int at;

	FUZZ_CHECK(p, "malloc");
	memcpy(p, data, len);
	at = slowpath_insert_offset(p, len, &informational, &head_len);
	FUZZ_CHECK(at >= -1 && at <= (int)len, "offset %d of %u", at, len);
	if (at >= 0) {
		FUZZ_CHECK(!informational && !head_len, "a 1xx head written into");
		/* A final response, or 101: an upgrade's only response head. */
		FUZZ_CHECK(len >= 12 && !memcmp(p, "HTTP/1.", 7) && p[8] == ' ' &&
				   (p[9] != '1' || !memcmp(p + 9, "101", 3)),
			   "not a final or 101 status line");
		FUZZ_CHECK(at >= 2 && p[at - 2] == '\r' && p[at - 1] == '\n',
			   "not after a CRLF");
		/* After the status line itself, not a later line. */
		FUZZ_CHECK((__u32)at == first_line_end(p, len), "offset %d, status line ends at %u",
			   at, first_line_end(p, len));
	} else {
		FUZZ_CHECK(!head_len || informational, "head length without a 1xx");
	}
	if (informational) {
		FUZZ_CHECK(len >= 12 && !memcmp(p, "HTTP/1.", 7) && p[9] == '1', "not a 1xx");
		if (head_len) {
			FUZZ_CHECK(head_len >= 4 && head_len <= len &&
					   !memcmp(p + head_len - 4, "\r\n\r\n", 4),
				   "1xx head length %u", head_len);
			for (i = 0; i + 4 < head_len; i++)
				FUZZ_CHECK(memcmp(p + i, "\r\n\r\n", 4), "1xx head ends earlier");
		}
	}
	free(p);
	return 0;
}
