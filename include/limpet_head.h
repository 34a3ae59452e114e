/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_head.h - the affinity keys of an HTTP/1.x request head, read one
 * byte at a time.
 *
 * One byte per limpet_head_step(): the shape of a bpf_loop() callback in
 * XDP (bpf/lib/head.h), and of a head that reaches the slow path in several
 * segments. The state is a fixed-size struct; nothing grows with the input,
 * and a head longer than LIMPET_HEAD_MAX_BYTES ends the scan (truncated).
 *
 * What is kept, per struct limpet_head_config:
 * - the values of our cookie (cookie_name, compared exactly and case
 *   sensitively, as RFC 6265 cookie names are) in every Cookie header, up
 *   to LIMPET_HEAD_MAX_CANDIDATES of them in order, double quotes removed.
 *   A value that cannot be a token (longer than LIMPET_TOKEN_CHARS, space
 *   inside, junk after a closing quote, unterminated quote) is kept with
 *   length LIMPET_HEAD_CAND_BAD so it still counts as malformed;
 * - for each configured header, FNV-1a 64 of its value with leading and
 *   trailing OWS (and the CR of CRLF) left out. A repeated header is hashed
 *   as one value joined by ", " (RFC 9110 5.3): "X: a" and "X: b" hash as
 *   "X: a, b". Trailing whitespace costs no buffer: the hash is kept both
 *   with and without the bytes since the last non-OWS one.
 *
 * Parsing: empty lines before the request line are skipped (RFC 9112 2.2),
 * the request line is skipped, lines end at LF (a CR before it is
 * whitespace), an empty line ends the head. A field name matches up to the
 * ':' case-insensitively; whitespace before the ':' makes it match nothing.
 * obs-fold continuation lines are skipped, not joined.
 */
#ifndef LIMPET_HEAD_H
#define LIMPET_HEAD_H

#include <linux/types.h>
#include "limpet_inline.h"
#include "limpet_mix.h"
#include "limpet_token.h"

#define LIMPET_HEAD_MAX_HEADERS 8	/* configured affinity headers */
#define LIMPET_HEAD_NAME_MAX 64		/* header/cookie name length incl. NUL room */
#define LIMPET_HEAD_MAX_CANDIDATES 4	/* same-named cookies kept */
#define LIMPET_HEAD_MAX_BYTES 16384	/* scanning stops here (complete=1, truncated=1) */
#define LIMPET_HEAD_CAND_BAD 255	/* candidate_len of a value that is no token */

#define LIMPET_FNV64_BASIS 0xcbf29ce484222325ull
#define LIMPET_FNV64_PRIME 0x00000100000001b3ull

/* What to look for: one BPF array value per service. */
struct limpet_head_config {
	char cookie_name[LIMPET_HEAD_NAME_MAX];
	__u8 cookie_name_len;		/* 0: no cookie affinity */
	__u8 n_headers;
	__u8 pad[6];
	char header[LIMPET_HEAD_MAX_HEADERS][LIMPET_HEAD_NAME_MAX];	/* lower case */
	__u8 header_len[LIMPET_HEAD_MAX_HEADERS];
};

enum limpet_head_state {
	LIMPET_HS_REQ_START = 0,	/* empty lines before the request line */
	LIMPET_HS_REQ_LINE,
	LIMPET_HS_LINE_START,
	LIMPET_HS_BLANK_CR,		/* a CR at the start of a line */
	LIMPET_HS_NAME,
	LIMPET_HS_VALUE_OWS,		/* OWS after the ':' */
	LIMPET_HS_VALUE,
	LIMPET_HS_SKIP,			/* a line of no interest */
	LIMPET_HS_DONE,
};

/* Inside a Cookie header's value. */
enum limpet_head_cookie_state {
	LIMPET_CS_NAME_START = 0,	/* before a cookie name */
	LIMPET_CS_NAME,			/* a name that is ours so far */
	LIMPET_CS_NAME_OTHER,		/* a name that is not ours */
	LIMPET_CS_VALUE,		/* our cookie's value, kept */
	LIMPET_CS_VALUE_OTHER,		/* any other value, to the next ';' */
};

enum limpet_head_value_flags {
	LIMPET_CV_QUOTED = 1,		/* opened with '"' */
	LIMPET_CV_CLOSED = 2,		/* the closing '"' seen */
	LIMPET_CV_WS = 4,		/* whitespace after the value */
	LIMPET_CV_BAD = 8,		/* cannot be a token */
};

/* Bit of limpet_head_scan.name_alive for the Cookie header. */
#define LIMPET_HEAD_ALIVE_COOKIE (1u << LIMPET_HEAD_MAX_HEADERS)
#define LIMPET_HEAD_NO_HEADER 0xff

struct limpet_head_scan {
	/* results */
	__u64 header_hash[LIMPET_HEAD_MAX_HEADERS];	/* of each header's value, OWS trimmed */
	char candidate[LIMPET_HEAD_MAX_CANDIDATES][LIMPET_TOKEN_CHARS];
	__u32 bytes;			/* bytes consumed */
	__u8 complete;			/* saw the blank line ending the head (or hit the limit) */
	__u8 truncated;			/* stopped at LIMPET_HEAD_MAX_BYTES */
	__u8 n_candidates;		/* our cookies found, in order */
	__u8 header_present;		/* bit i: configured header i seen */
	__u8 candidate_len[LIMPET_HEAD_MAX_CANDIDATES];	/* LIMPET_HEAD_CAND_BAD: no token */
	__u8 pad0[4];

	/* the line being read */
	__u64 run;			/* hash of the value so far, trailing OWS included */
	__u64 kept;			/* the same, up to its last non-OWS byte */
	__u16 name_alive;		/* names the field name still matches: bit i header i */
	__u8 state;			/* enum limpet_head_state */
	__u8 name_len;			/* of the field name so far */
	__u8 hdr;			/* configured header of this value, or _NO_HEADER */
	__u8 is_cookie;			/* this value is a Cookie header's */
	__u8 cstate;			/* enum limpet_head_cookie_state */
	__u8 cname_len;			/* of the cookie name so far */
	__u8 cval_len;			/* of our cookie's value so far */
	__u8 cval_flags;		/* enum limpet_head_value_flags */
	__u8 pad[6];
};

_Static_assert(sizeof(struct limpet_head_config) == 592, "limpet_head_config layout");
_Static_assert(sizeof(struct limpet_head_scan) == 256, "limpet_head_scan: hidden padding");
_Static_assert(LIMPET_HEAD_MAX_CANDIDATES == 4 && LIMPET_HEAD_MAX_HEADERS == 8 &&
	       LIMPET_HEAD_NAME_MAX == 64, "indexes are masked with these sizes");
/* limpet_head_cookie() keeps the most specific failure by comparing. */
_Static_assert(LIMPET_COOKIE_MALFORMED < LIMPET_COOKIE_BAD_MAC &&
	       LIMPET_COOKIE_BAD_MAC < LIMPET_COOKIE_EXPIRED, "failure order");

LIMPET_INLINE __u64 limpet_fnv64(__u64 h, __u8 c)
{
	return (h ^ c) * LIMPET_FNV64_PRIME;
}

LIMPET_INLINE int limpet_head_ows(__u8 c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* ASCII lower case, without a branch (see limpet_b64url_value()). */
LIMPET_INLINE __u8 limpet_head_lower(__u8 c)
{
	__s32 x = c;

	return (__u8)(x + ((((0x40 - x) & (x - 0x5b)) >> 8) & ('a' - 'A')));
}

/* "cookie"[pos], for pos < 6: no string constant, which BPF would put in .rodata. */
LIMPET_INLINE __u8 limpet_head_cookie_char(__u32 pos)
{
	return (__u8)(0x65696b6f6f63ull >> (8 * (pos & 7)));
}

#define LIMPET_HEAD_COOKIE_LEN 6

LIMPET_INLINE void limpet_head_init(struct limpet_head_scan *s)
{
	*s = (struct limpet_head_scan){ .state = LIMPET_HS_REQ_START };
}

/*
 * 1 if x != 0, for x < 2^31, without a branch. The empty asm hides x's
 * range from the compiler, which would otherwise see "x != 0" and compile a
 * branch again (BPF has no set-on-condition instruction).
 */
LIMPET_INLINE __u32 limpet_head_nz(__u32 x)
{
	asm volatile("" : "+r"(x));
	return (0u - x) >> 31;
}

/* 1 if a < b, for a, b < 2^31, without a branch (see limpet_head_nz()). */
LIMPET_INLINE __u32 limpet_head_lt(__u32 a, __u32 b)
{
	asm volatile("" : "+r"(a));
	return (a - b) >> 31;
}

/*
 * Which names a new field line may still match. Without branches, as the
 * name matching below: a bit set on some paths and not on others would be
 * 2^9 verifier states, each walked through the rest of the step.
 */
LIMPET_INLINE __u16 limpet_head_alive_all(const struct limpet_head_config *cfg)
{
	__u32 n = cfg->n_headers, alive, i;

	alive = limpet_head_nz(cfg->cookie_name_len) << LIMPET_HEAD_MAX_HEADERS;
	for (i = 0; i < LIMPET_HEAD_MAX_HEADERS; i++)
		alive |= (limpet_head_lt(i, n) & limpet_head_nz(cfg->header_len[i])) << i;
	return (__u16)alive;
}

/* One more field-name byte <c> at position s->name_len. */
LIMPET_INLINE void limpet_head_name_byte(struct limpet_head_scan *s,
					 const struct limpet_head_config *cfg, __u8 c)
{
	__u32 pos = s->name_len, i;
	__u16 alive = s->name_alive;
	__u8 lc = limpet_head_lower(c);

	if (pos >= LIMPET_HEAD_NAME_MAX - 1) {
		s->name_alive = 0;
		return;
	}
	/* Without branches, as in limpet_head_alive_all(). */
	for (i = 0; i < LIMPET_HEAD_MAX_HEADERS; i++) {
		__u8 want = (__u8)cfg->header[i][pos & (LIMPET_HEAD_NAME_MAX - 1)];
		__u32 miss = limpet_head_nz(limpet_head_lower(want) ^ lc) |
			     (limpet_head_lt(pos, cfg->header_len[i]) ^ 1);

		alive &= ~(miss << i);
	}
	if (pos >= LIMPET_HEAD_COOKIE_LEN || limpet_head_cookie_char(pos) != lc)
		alive &= ~LIMPET_HEAD_ALIVE_COOKIE;
	s->name_alive = alive;
	s->name_len = (__u8)(pos + 1);
}

/* The ':' after a field name: which value follows. 0 if none of ours. */
LIMPET_INLINE int limpet_head_name_end(struct limpet_head_scan *s,
				       const struct limpet_head_config *cfg)
{
	__u32 pos = s->name_len, i;
	__u16 alive = s->name_alive;
	__u8 bit;

	s->hdr = LIMPET_HEAD_NO_HEADER;
	s->is_cookie = (alive & LIMPET_HEAD_ALIVE_COOKIE) && pos == LIMPET_HEAD_COOKIE_LEN;
	for (i = 0; i < LIMPET_HEAD_MAX_HEADERS; i++) {
		if ((alive & (1u << i)) && pos == cfg->header_len[i]) {
			s->hdr = (__u8)i;
			break;
		}
	}
	if (s->hdr != LIMPET_HEAD_NO_HEADER) {
		bit = (__u8)(1u << (s->hdr & (LIMPET_HEAD_MAX_HEADERS - 1)));
		if (s->header_present & bit) {
			/* A repeated header continues the value after ", ". */
			s->kept = s->header_hash[s->hdr & (LIMPET_HEAD_MAX_HEADERS - 1)];
			s->run = limpet_fnv64(limpet_fnv64(s->kept, ','), ' ');
		} else {
			s->kept = LIMPET_FNV64_BASIS;
			s->run = LIMPET_FNV64_BASIS;
		}
		s->header_present |= bit;
	}
	if (s->is_cookie)
		s->cstate = LIMPET_CS_NAME_START;
	return s->is_cookie || s->hdr != LIMPET_HEAD_NO_HEADER;
}

/* A byte of a field line in LIMPET_HS_NAME. */
LIMPET_INLINE void limpet_head_name_char(struct limpet_head_scan *s,
					 const struct limpet_head_config *cfg, __u8 c)
{
	if (c == '\n')
		s->state = LIMPET_HS_LINE_START;
	else if (c == ':')
		s->state = limpet_head_name_end(s, cfg) ? LIMPET_HS_VALUE_OWS : LIMPET_HS_SKIP;
	else if (!s->name_alive)
		s->state = LIMPET_HS_SKIP;
	else
		limpet_head_name_byte(s, cfg, c);
}

/* The end of our cookie's value: keep it if there is room. */
LIMPET_INLINE void limpet_head_cookie_end(struct limpet_head_scan *s)
{
	__u8 flags = s->cval_flags, n = s->n_candidates;

	if ((flags & LIMPET_CV_QUOTED) && !(flags & LIMPET_CV_CLOSED))
		flags |= LIMPET_CV_BAD;
	if (n >= LIMPET_HEAD_MAX_CANDIDATES)
		return;
	s->candidate_len[n & (LIMPET_HEAD_MAX_CANDIDATES - 1)] =
		flags & LIMPET_CV_BAD ? LIMPET_HEAD_CAND_BAD : s->cval_len;
	s->n_candidates = n + 1;
}

/* One byte of our cookie's value (not ';', not LF). */
LIMPET_INLINE void limpet_head_cookie_value(struct limpet_head_scan *s, __u8 c)
{
	__u8 flags = s->cval_flags, len = s->cval_len, n = s->n_candidates;

	if (flags & LIMPET_CV_BAD)
		return;
	if (limpet_head_ows(c)) {
		if (!len && !(flags & LIMPET_CV_QUOTED))
			return;		/* before the value */
		flags |= LIMPET_CV_WS;
	} else if (flags & (LIMPET_CV_WS | LIMPET_CV_CLOSED)) {
		flags |= LIMPET_CV_BAD;
	} else if (c == '"' && !len && !(flags & LIMPET_CV_QUOTED)) {
		flags |= LIMPET_CV_QUOTED;
	} else if (c == '"' && (flags & LIMPET_CV_QUOTED)) {
		flags |= LIMPET_CV_CLOSED;
	} else if (len >= LIMPET_TOKEN_CHARS || n >= LIMPET_HEAD_MAX_CANDIDATES) {
		flags |= LIMPET_CV_BAD;
	} else {
		s->candidate[n & (LIMPET_HEAD_MAX_CANDIDATES - 1)][len] = (char)c;
		s->cval_len = len + 1;
	}
	s->cval_flags = flags;
}

/* One byte of a Cookie header's value (not LF). */
LIMPET_INLINE void limpet_head_cookie_byte(struct limpet_head_scan *s,
					   const struct limpet_head_config *cfg, __u8 c)
{
	__u32 pos;

	switch (s->cstate) {
	case LIMPET_CS_NAME_START:
		if (limpet_head_ows(c) || c == ';')
			return;
		s->cname_len = 0;
		s->cstate = LIMPET_CS_NAME;
		/* fall through */
	case LIMPET_CS_NAME:
		pos = s->cname_len;
		if (c == '=') {
			if (pos == cfg->cookie_name_len &&
			    s->n_candidates < LIMPET_HEAD_MAX_CANDIDATES) {
				s->cval_len = 0;
				s->cval_flags = 0;
				s->cstate = LIMPET_CS_VALUE;
			} else {
				s->cstate = LIMPET_CS_VALUE_OTHER;
			}
		} else if (c == ';') {
			s->cstate = LIMPET_CS_NAME_START;
		} else if (pos >= cfg->cookie_name_len || pos >= LIMPET_HEAD_NAME_MAX - 1 ||
			   (__u8)cfg->cookie_name[pos & (LIMPET_HEAD_NAME_MAX - 1)] != c) {
			s->cstate = LIMPET_CS_NAME_OTHER;
		} else {
			s->cname_len = (__u8)(pos + 1);
		}
		return;
	case LIMPET_CS_NAME_OTHER:
		if (c == '=')
			s->cstate = LIMPET_CS_VALUE_OTHER;
		else if (c == ';')
			s->cstate = LIMPET_CS_NAME_START;
		return;
	case LIMPET_CS_VALUE:
		if (c == ';') {
			limpet_head_cookie_end(s);
			s->cstate = LIMPET_CS_NAME_START;
		} else {
			limpet_head_cookie_value(s, c);
		}
		return;
	default:
		if (c == ';')
			s->cstate = LIMPET_CS_NAME_START;
		return;
	}
}

/* The LF ending a field line whose value we read. */
LIMPET_INLINE void limpet_head_value_end(struct limpet_head_scan *s)
{
	if (s->hdr < LIMPET_HEAD_MAX_HEADERS)
		s->header_hash[s->hdr & (LIMPET_HEAD_MAX_HEADERS - 1)] = s->kept;
	if (s->is_cookie && s->cstate == LIMPET_CS_VALUE)
		limpet_head_cookie_end(s);
	s->state = LIMPET_HS_LINE_START;
}

LIMPET_INLINE void limpet_head_value_byte(struct limpet_head_scan *s,
					  const struct limpet_head_config *cfg, __u8 c)
{
	if (s->hdr < LIMPET_HEAD_MAX_HEADERS) {
		s->run = limpet_fnv64(s->run, c);
		if (!limpet_head_ows(c))
			s->kept = s->run;
	}
	if (s->is_cookie)
		limpet_head_cookie_byte(s, cfg, c);
}

/* Feed one byte <c> of the head. Returns 1 once the scan is complete
 * (further bytes are ignored), 0 while it wants more.
 */
LIMPET_INLINE int limpet_head_step(struct limpet_head_scan *s, const struct limpet_head_config *cfg,
				   __u8 c)
{
	if (s->complete)
		return 1;

	switch (s->state) {
	case LIMPET_HS_REQ_START:
		if (c != '\r' && c != '\n')
			s->state = LIMPET_HS_REQ_LINE;
		break;
	case LIMPET_HS_REQ_LINE:
	case LIMPET_HS_SKIP:
		if (c == '\n')
			s->state = LIMPET_HS_LINE_START;
		break;
	case LIMPET_HS_LINE_START:
		if (c == '\n') {
			s->state = LIMPET_HS_DONE;
		} else if (c == '\r') {
			s->state = LIMPET_HS_BLANK_CR;
		} else if (c == ' ' || c == '\t') {
			s->state = LIMPET_HS_SKIP;	/* obs-fold */
		} else {
			s->name_len = 0;
			s->name_alive = limpet_head_alive_all(cfg);
			s->state = LIMPET_HS_NAME;
			limpet_head_name_char(s, cfg, c);
		}
		break;
	case LIMPET_HS_BLANK_CR:
		if (c == '\n')
			s->state = LIMPET_HS_DONE;
		else if (c != '\r')
			s->state = LIMPET_HS_SKIP;
		break;
	case LIMPET_HS_NAME:
		limpet_head_name_char(s, cfg, c);
		break;
	case LIMPET_HS_VALUE_OWS:
		if (c == '\n') {
			limpet_head_value_end(s);
		} else if (!limpet_head_ows(c)) {
			s->state = LIMPET_HS_VALUE;
			limpet_head_value_byte(s, cfg, c);
		}
		break;
	case LIMPET_HS_VALUE:
		if (c == '\n')
			limpet_head_value_end(s);
		else
			limpet_head_value_byte(s, cfg, c);
		break;
	default:
		break;
	}

	s->bytes++;
	if (s->state == LIMPET_HS_DONE) {
		s->complete = 1;
		return 1;
	}
	if (s->bytes >= LIMPET_HEAD_MAX_BYTES) {
		s->complete = s->truncated = 1;
		return 1;
	}
	return 0;
}

/*
 * The session key of header affinity: a hash over the present headers'
 * value hashes and their positions in the config, never 0. 0 with *ok = 0
 * when none is present, or when <require_all> and one is missing.
 */
LIMPET_INLINE __u64 limpet_head_session_key(const struct limpet_head_scan *s,
					    const struct limpet_head_config *cfg, int require_all,
					    int *ok)
{
	__u32 n = cfg->n_headers, i;
	__u64 h = LIMPET_FNV64_BASIS;
	int any = 0;

	*ok = 0;
	for (i = 0; i < LIMPET_HEAD_MAX_HEADERS; i++) {
		if (i >= n)
			break;
		if (!(s->header_present & (1u << i))) {
			if (require_all)
				return 0;
			continue;
		}
		h = limpet_mix64(h ^ limpet_mix64(s->header_hash[i] + i));
		any = 1;
	}
	if (!any)
		return 0;
	*ok = 1;
	return h ? h : 1;
}

/*
 * The cookie outcome of a request: VALID with *out from the first valid
 * candidate; else the most specific failure (EXPIRED over BAD_MAC over
 * MALFORMED); ABSENT when there is no candidate. *out may be partly filled
 * when the result is not VALID.
 */
LIMPET_INLINE enum limpet_cookie_outcome
limpet_head_cookie(const struct limpet_head_scan *s, const struct limpet_cookie_keys *keys,
		   __u32 service_tag, __u64 now_s, __u32 ttl_s, struct limpet_token_fields *out)
{
	__u32 n = s->n_candidates, i, len, best = LIMPET_COOKIE_ABSENT, r;

	for (i = 0; i < LIMPET_HEAD_MAX_CANDIDATES; i++) {
		if (i >= n)
			break;
		len = s->candidate_len[i];
		if (len == LIMPET_HEAD_CAND_BAD)
			r = LIMPET_COOKIE_MALFORMED;
		else
			r = limpet_token_check(s->candidate[i], len, keys, service_tag, now_s,
					       ttl_s, out);
		if (r == LIMPET_COOKIE_VALID)
			return LIMPET_COOKIE_VALID;
		if (r > best)
			best = r;
	}
	return (enum limpet_cookie_outcome)best;
}

#endif /* LIMPET_HEAD_H */
