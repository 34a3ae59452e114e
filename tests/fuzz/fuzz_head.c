// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_head.c - libFuzzer target of the request-head scanner
 * (include/limpet_head.h) and the cookie check behind it.
 *
 * The input (head_input.h) chooses the config and where the head is split
 * into segments. The scan is run whole and segment by segment, the state
 * copied between segments as the slow path keeps it; both must agree byte
 * for byte. Then what the scan claims is checked against the bytes: every
 * kept cookie value occurs in the head and holds no separator or space, a present
 * header's name occurs followed by ':', a complete head ends in LF, counts
 * and lengths are within their arrays, and a VALID cookie re-encodes to the
 * candidate it came from.
 */
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "head_input.h"
#include "limpet_head.h"

static struct limpet_cookie_keys keys;

static bool contains(const __u8 *hay, size_t n, const void *needle, size_t m)
{
	size_t i;

	for (i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return true;
	return false;
}

/* Does "<name>:" occur in hay, the name in any case, at a line start? */
static bool has_field(const __u8 *hay, size_t n, const char *name, size_t m)
{
	size_t i, k;

	for (i = 1; i + m + 1 <= n; i++) {
		if (hay[i - 1] != '\n' || hay[i + m] != ':')
			continue;
		for (k = 0; k < m; k++)
			if (limpet_head_lower(hay[i + k]) != (__u8)name[k])
				break;
		if (k == m)
			return true;
	}
	return false;
}

static void scan_whole(const struct head_input *h, struct limpet_head_scan *s)
{
	__u32 i;

	limpet_head_init(s);
	for (i = 0; i < h->len; i++)
		if (limpet_head_step(s, &h->cfg, h->payload[i]))
			break;
}

/* Segment by segment, the state kept in between as a copy. */
static void scan_split(const struct head_input *h, struct limpet_head_scan *out)
{
	struct limpet_head_scan s, kept;
	__u32 cut[HEAD_MAX_SPLITS + 2], n = 0, i, j, k, t;

	cut[n++] = 0;
	for (i = 0; i < h->n_splits; i++)
		cut[n++] = h->len ? h->split[i] % (h->len + 1) : 0;
	cut[n++] = h->len;
	/* In order (insertion sort of at most 9). */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
			t = cut[j];
			cut[j] = cut[j - 1];
			cut[j - 1] = t;
		}
	limpet_head_init(&kept);
	for (i = 0; i + 1 < n; i++) {
		memcpy(&s, &kept, sizeof(s));
		for (k = cut[i]; k < cut[i + 1]; k++)
			if (limpet_head_step(&s, &h->cfg, h->payload[k]))
				break;
		memcpy(&kept, &s, sizeof(s));
	}
	*out = kept;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct limpet_token_fields f;
	struct limpet_head_scan whole, split;
	struct head_input h;
	enum limpet_cookie_outcome r;
	char tok[LIMPET_TOKEN_CHARS];
	__u64 key;
	__u32 i, j, len;
	int ok, valid_seen = 0;

	head_keys(&keys);
	head_input_read(data, size, &h);
	scan_whole(&h, &whole);
	scan_split(&h, &split);
	FUZZ_CHECK(!memcmp(&whole, &split, sizeof(whole)), "split scan differs (bytes %u/%u)",
		   whole.bytes, split.bytes);
	/* A complete scan takes no more bytes. */
	if (whole.complete) {
		struct limpet_head_scan again = whole;

		FUZZ_CHECK(limpet_head_step(&again, &h.cfg, '\n') == 1, "complete scan continues");
		FUZZ_CHECK(!memcmp(&again, &whole, sizeof(again)), "complete scan changed");
	}

	FUZZ_CHECK(whole.bytes <= h.len && whole.bytes <= LIMPET_HEAD_MAX_BYTES, "bytes %u of %u",
		   whole.bytes, h.len);
	FUZZ_CHECK(whole.complete || whole.bytes == h.len, "stopped early at %u of %u",
		   whole.bytes, h.len);
	FUZZ_CHECK(!whole.truncated || (whole.complete && whole.bytes == LIMPET_HEAD_MAX_BYTES),
		   "truncated at %u", whole.bytes);
	if (whole.complete && !whole.truncated)
		FUZZ_CHECK(whole.bytes >= 2 && h.payload[whole.bytes - 1] == '\n',
			   "complete without a blank line");
	FUZZ_CHECK(whole.state <= LIMPET_HS_DONE && whole.cstate <= LIMPET_CS_VALUE_OTHER,
		   "state %u cstate %u", whole.state, whole.cstate);
	FUZZ_CHECK(whole.n_candidates <= LIMPET_HEAD_MAX_CANDIDATES, "%u candidates",
		   whole.n_candidates);
	FUZZ_CHECK(!(whole.header_present >> h.cfg.n_headers), "header_present %#x of %u",
		   whole.header_present, h.cfg.n_headers);
	if (!h.cfg.cookie_name_len)
		FUZZ_CHECK(!whole.n_candidates, "candidates without a cookie name");

	for (i = 0; i < whole.n_candidates; i++) {
		len = whole.candidate_len[i];
		FUZZ_CHECK(len <= LIMPET_TOKEN_CHARS || len == LIMPET_HEAD_CAND_BAD,
			   "candidate %u length %u", i, len);
		if (len == LIMPET_HEAD_CAND_BAD)
			continue;
		for (j = 0; j < len; j++) {
			__u8 c = (__u8)whole.candidate[i][j];

			/* A '"' inside an unquoted value is kept: it is no token anyway. */
			FUZZ_CHECK(c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != ';',
				   "candidate %u holds %#x", i, c);
		}
		FUZZ_CHECK(contains(h.payload, whole.bytes, whole.candidate[i], len),
			   "candidate %u not in the head", i);
	}
	for (i = 0; i < h.cfg.n_headers; i++)
		if (whole.header_present & (1u << i))
			FUZZ_CHECK(has_field(h.payload, whole.bytes, h.cfg.header[i],
					     h.cfg.header_len[i]),
				   "header %s present but not in the head", h.cfg.header[i]);

	r = limpet_head_cookie(&whole, &keys, HEAD_TAG, HEAD_NOW, HEAD_TTL, &f);
	FUZZ_CHECK(r < LIMPET_COOKIE_UNKNOWN_BACKEND, "outcome %d", r);
	FUZZ_CHECK((r == LIMPET_COOKIE_ABSENT) == !whole.n_candidates, "outcome %d with %u", r,
		   whole.n_candidates);
	if (r == LIMPET_COOKIE_VALID) {
		/* The fields re-encode to one of the candidates. */
		for (i = 0; i < LIMPET_COOKIE_KEYS; i++) {
			if (!keys.key[i].valid || keys.key[i].id != f.key_id)
				continue;
			limpet_token_encode(&f, &keys.key[i], HEAD_TAG, tok);
			for (j = 0; j < whole.n_candidates; j++)
				valid_seen |= whole.candidate_len[j] == LIMPET_TOKEN_CHARS &&
					      !memcmp(whole.candidate[j], tok, sizeof(tok));
		}
		FUZZ_CHECK(valid_seen, "a VALID cookie that is none of the candidates");
		FUZZ_CHECK(f.version == LIMPET_TOKEN_VERSION && !f.flags, "version %u flags %u",
			   f.version, f.flags);
	}

	key = limpet_head_session_key(&whole, &h.cfg, h.require_all, &ok);
	FUZZ_CHECK(ok ? key != 0 : key == 0, "key %llx ok %d", (unsigned long long)key, ok);
	FUZZ_CHECK(ok == (h.require_all ? h.cfg.n_headers &&
						  whole.header_present == (1u << h.cfg.n_headers) - 1
					: whole.header_present != 0),
		   "key ok %d with present %#x", ok, whole.header_present);
	return 0;
}
