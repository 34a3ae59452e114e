/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_head.c - Criterion tests of include/limpet_head.h, the request-head
 * scanner that XDP runs through bpf_loop() and the slow path runs over
 * segments.
 *
 * A corpus of Cookie headers as browsers and CDNs send them (analytics and
 * bot-management cookies around ours, quoting, odd spacing and case, decoys
 * whose names merely contain ours, repeated and bad same-named cookies),
 * head completion and the size limit, header-affinity hashing, and a
 * randomised run with guard bytes around the state checking that nothing
 * outside the struct is ever touched and that any split of the input gives
 * the same result.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "limpet_head.h"

#define TAG 0x00010002u
#define NOW 1700000000u
#define TTL 3600u

static const struct limpet_cookie_key key = {
	.k0 = 0x5555aaaa5555aaaaull, .k1 = 0x0123012301230123ull, .id = 3, .valid = 1,
};

static struct limpet_cookie_keys keys(void)
{
	struct limpet_cookie_keys k;

	memset(&k, 0, sizeof(k));
	k.key[1] = key;
	return k;
}

/* A NUL-terminated token for backend <tag>, issued <age> seconds ago. */
static const char *token(__u32 backend, __u32 age)
{
	static char buf[8][LIMPET_TOKEN_CHARS + 1];
	static int next;
	struct limpet_token_fields f;
	char *out = buf[next++ % 8];

	limpet_token_fields_init(&f, 0x1000 + backend, backend, NOW - age);
	limpet_token_encode(&f, &key, TAG, out);
	out[LIMPET_TOKEN_CHARS] = '\0';
	return out;
}

static struct limpet_head_config config(const char *cookie, const char *const *headers, int n)
{
	struct limpet_head_config c;
	int i;

	memset(&c, 0, sizeof(c));
	if (cookie) {
		strcpy(c.cookie_name, cookie);
		c.cookie_name_len = (__u8)strlen(cookie);
	}
	for (i = 0; i < n; i++) {
		strcpy(c.header[i], headers[i]);
		c.header_len[i] = (__u8)strlen(headers[i]);
	}
	c.n_headers = (__u8)n;
	return c;
}

static struct limpet_head_scan scan_bytes(const struct limpet_head_config *c, const char *p,
					  size_t len)
{
	struct limpet_head_scan s;
	size_t i;

	limpet_head_init(&s);
	for (i = 0; i < len; i++)
		if (limpet_head_step(&s, c, (__u8)p[i]))
			break;
	return s;
}

static struct limpet_head_scan scan(const struct limpet_head_config *c, const char *head)
{
	return scan_bytes(c, head, strlen(head));
}

static __u64 fnv(const char *v)
{
	__u64 h = LIMPET_FNV64_BASIS;

	while (*v)
		h = limpet_fnv64(h, (__u8)*v++);
	return h;
}

static enum limpet_cookie_outcome outcome(const struct limpet_head_scan *s,
					  struct limpet_token_fields *f)
{
	struct limpet_cookie_keys k = keys();
	struct limpet_token_fields scratch;

	return limpet_head_cookie(s, &k, TAG, NOW, TTL, f ? f : &scratch);
}

static void expect_candidate(const struct limpet_head_scan *s, int i, const char *value)
{
	size_t len = strlen(value);

	cr_assert_lt(i, s->n_candidates, "candidate %d missing (%d found)", i, s->n_candidates);
	cr_expect_eq(s->candidate_len[i], len, "candidate %d: length %d, want %zu", i,
		     s->candidate_len[i], len);
	if (s->candidate_len[i] == len)
		cr_expect_eq(memcmp(s->candidate[i], value, len), 0, "candidate %d: %.*s", i,
			     (int)len, s->candidate[i]);
}

static struct limpet_head_config cookie_cfg(void)
{
	return config("limpet", NULL, 0);
}

#define REQ "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"

/* ---- the cookie corpus ---- */

struct cookie_case {
	const char *name;
	const char *head;	/* %s: a good token, %t: a second good token */
	int n_candidates;
	const char *values[4];	/* expected candidates; "%s"/"%t" for the tokens, NULL: bad */
	enum limpet_cookie_outcome outcome;
};

static const struct cookie_case cookie_cases[] = {
	{ "analytics around ours",
	  REQ "Cookie: _ga=GA1.2.1234567890.1700000000; _gid=GA1.2.987654321.1700000000; "
	      "limpet=%s; __cf_bm=Xk3.pQ_9aB-12345.67890-1.0.1.1-abcdEFGHijklMNOP\r\n\r\n",
	  1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "cloudflare first, ours last",
	  REQ "Cookie: __cf_bm=Xk3pQ9aB12345; cf_clearance=abc.def-1700000000-0-150; "
	      "limpet=%s\r\n\r\n",
	  1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "ours first",
	  REQ "Cookie: limpet=%s; _ga=GA1.1.1.1; theme=dark\r\n\r\n", 1, { "%s" },
	  LIMPET_COOKIE_VALID },
	{ "ours alone, no space after colon",
	  REQ "Cookie:limpet=%s\r\n\r\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "quoted",
	  REQ "Cookie: a=1; limpet=\"%s\"; b=2\r\n\r\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "lower-case header name",
	  REQ "cookie: limpet=%s\r\n\r\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "upper-case header name",
	  REQ "COOKIE: limpet=%s\r\n\r\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "two cookie headers, ours in the second",
	  REQ "Cookie: _ga=GA1.2.3.4\r\nAccept: */*\r\nCookie: limpet=%s; x=y\r\n\r\n",
	  1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "trailing semicolon",
	  REQ "Cookie: a=b; limpet=%s;\r\n\r\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "trailing semicolon and space",
	  REQ "Cookie: limpet=%s; \r\n\r\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "no space after semicolons",
	  REQ "Cookie: a=b;limpet=%s;c=d\r\n\r\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "empty values around ours",
	  REQ "Cookie: a=; limpet=%s; b=\r\n\r\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "our value empty",
	  REQ "Cookie: a=1; limpet=; b=2\r\n\r\n", 1, { "" }, LIMPET_COOKIE_MALFORMED },
	{ "decoys only",
	  REQ "Cookie: limpetx=%s; xlimpet=%s; Limpet=%s; LIMPET=%s; limpe=%s\r\n\r\n",
	  0, { NULL }, LIMPET_COOKIE_ABSENT },
	{ "decoys around ours",
	  REQ "Cookie: limpetx=junk; limpet=%s; xlimpet=junk\r\n\r\n", 1, { "%s" },
	  LIMPET_COOKIE_VALID },
	{ "bad same-named cookie before a good one",
	  REQ "Cookie: limpet=garbage; limpet=%s\r\n\r\n", 2, { "garbage", "%s" },
	  LIMPET_COOKIE_VALID },
	{ "bad same-named cookie after a good one",
	  REQ "Cookie: limpet=%s; limpet=garbage\r\n\r\n", 2, { "%s", "garbage" },
	  LIMPET_COOKIE_VALID },
	{ "two good ones: the first wins",
	  REQ "Cookie: limpet=%t\r\nCookie: limpet=%s\r\n\r\n", 2, { "%t", "%s" },
	  LIMPET_COOKIE_VALID },
	{ "values with '=' inside",
	  REQ "Cookie: q=a=b==; limpet=%s; r==x\r\n\r\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "our name inside another value",
	  REQ "Cookie: x=limpet=%s\r\n\r\n", 0, { NULL }, LIMPET_COOKIE_ABSENT },
	{ "LF-only line ends",
	  "GET / HTTP/1.1\nHost: a\nCookie: limpet=%s\n\n", 1, { "%s" }, LIMPET_COOKIE_VALID },
	{ "too long",
	  REQ "Cookie: limpet=%sA\r\n\r\n", 1, { NULL }, LIMPET_COOKIE_MALFORMED },
	{ "space inside",
	  REQ "Cookie: limpet=abc def\r\n\r\n", 1, { NULL }, LIMPET_COOKIE_MALFORMED },
	{ "unterminated quote",
	  REQ "Cookie: limpet=\"%s\r\n\r\n", 1, { NULL }, LIMPET_COOKIE_MALFORMED },
	{ "junk after the closing quote",
	  REQ "Cookie: limpet=\"%s\"x\r\n\r\n", 1, { NULL }, LIMPET_COOKIE_MALFORMED },
	{ "space before the header's colon",
	  REQ "Cookie : limpet=%s\r\n\r\n", 0, { NULL }, LIMPET_COOKIE_ABSENT },
	{ "space around our name",
	  REQ "Cookie: limpet =%s\r\n\r\n", 0, { NULL }, LIMPET_COOKIE_ABSENT },
	{ "not a Cookie header",
	  REQ "X-Cookie: limpet=%s\r\nCookies: limpet=%s\r\n\r\n", 0, { NULL },
	  LIMPET_COOKIE_ABSENT },
	{ "after the head",
	  REQ "\r\nCookie: limpet=%s\r\n\r\n", 0, { NULL }, LIMPET_COOKIE_ABSENT },
	{ "in the request line",
	  "GET /?Cookie:limpet=%s HTTP/1.1\r\n\r\n", 0, { NULL }, LIMPET_COOKIE_ABSENT },
	{ "obs-fold continuation is not a header",
	  REQ "X-Long: a\r\n Cookie: limpet=%s\r\n\r\n", 0, { NULL }, LIMPET_COOKIE_ABSENT },
	{ "five of ours: four kept",
	  REQ "Cookie: limpet=a; limpet=b; limpet=c; limpet=d; limpet=%s\r\n\r\n",
	  4, { "a", "b", "c", "d" }, LIMPET_COOKIE_MALFORMED },
};

/* Expand %s and %t in <fmt> into <out>. */
static void expand(const char *fmt, const char *s, const char *t, char *out, size_t cap)
{
	size_t n = 0;

	for (; *fmt; fmt++) {
		const char *ins = NULL;

		if (fmt[0] == '%' && fmt[1] == 's')
			ins = s;
		else if (fmt[0] == '%' && fmt[1] == 't')
			ins = t;
		if (ins) {
			cr_assert_lt(n + strlen(ins), cap);
			memcpy(out + n, ins, strlen(ins));
			n += strlen(ins);
			fmt++;
		} else {
			cr_assert_lt(n + 1, cap);
			out[n++] = *fmt;
		}
	}
	out[n] = '\0';
}

Test(head, cookie_corpus)
{
	struct limpet_head_config c = cookie_cfg();
	const char *good = token(11, 10), *other = token(22, 10);
	char head[1024], value[64];
	size_t i;
	int j;

	for (i = 0; i < sizeof(cookie_cases) / sizeof(cookie_cases[0]); i++) {
		const struct cookie_case *cc = &cookie_cases[i];
		struct limpet_token_fields f;
		struct limpet_head_scan s;

		expand(cc->head, good, other, head, sizeof(head));
		s = scan(&c, head);
		cr_expect(s.complete && !s.truncated, "%s: not complete", cc->name);
		cr_expect_eq(s.bytes, strlen(head) - (strstr(head, "\r\n\r\n") ?
			     strlen(strstr(head, "\r\n\r\n") + 4) : 0), "%s: bytes %u", cc->name,
			     s.bytes);
		cr_expect_eq(s.n_candidates, cc->n_candidates, "%s: %d candidates", cc->name,
			     s.n_candidates);
		for (j = 0; j < cc->n_candidates && j < s.n_candidates; j++) {
			if (!cc->values[j]) {
				cr_expect_eq(s.candidate_len[j], LIMPET_HEAD_CAND_BAD, "%s: %d",
					     cc->name, j);
				continue;
			}
			expand(cc->values[j], good, other, value, sizeof(value));
			expect_candidate(&s, j, value);
		}
		cr_expect_eq(outcome(&s, &f), cc->outcome, "%s: %s", cc->name,
			     limpet_cookie_outcome_names[outcome(&s, &f)]);
		if (cc->outcome == LIMPET_COOKIE_VALID)
			cr_expect_eq(f.backend_tag, strstr(cc->head, "%t") ? 22u : 11u, "%s",
				     cc->name);
	}
}

Test(head, bytes_counts_to_the_blank_line)
{
	struct limpet_head_config c = cookie_cfg();
	const char *head = REQ "Cookie: limpet=x\r\n\r\n";
	char buf[256];
	struct limpet_head_scan s;

	snprintf(buf, sizeof(buf), "%sPOSTBODY", head);
	s = scan(&c, buf);
	cr_expect(s.complete);
	cr_expect_eq(s.bytes, strlen(head));
	/* Further bytes are refused. */
	cr_expect_eq(limpet_head_step(&s, &c, 'Z'), 1);
	cr_expect_eq(s.bytes, strlen(head));
}

Test(head, incomplete)
{
	struct limpet_head_config c = cookie_cfg();
	const char *good = token(11, 0);
	char head[256];
	struct limpet_head_scan s;

	snprintf(head, sizeof(head), REQ "Cookie: limpet=%s\r\n", good);
	s = scan(&c, head);
	cr_expect(!s.complete);
	cr_expect_eq(s.bytes, strlen(head));
	cr_expect_eq(s.n_candidates, 1);
	/* A value cut by the end of the data is not a candidate yet. */
	snprintf(head, sizeof(head), REQ "Cookie: limpet=%.20s", good);
	s = scan(&c, head);
	cr_expect(!s.complete);
	cr_expect_eq(s.n_candidates, 0);
	cr_expect_eq(outcome(&s, NULL), LIMPET_COOKIE_ABSENT);
}

Test(head, empty_lines_before_the_request_line)
{
	struct limpet_head_config c = cookie_cfg();
	struct limpet_head_scan s = scan(&c, "\r\n\r\nGET / HTTP/1.1\r\nCookie: limpet=v\r\n\r\n");

	cr_expect(s.complete);
	expect_candidate(&s, 0, "v");
}

Test(head, bare_cr_lines)
{
	struct limpet_head_config c = cookie_cfg();
	struct limpet_head_scan s;

	/* A CR that is not followed by LF does not end the head. */
	s = scan(&c, REQ "\rX: y\r\nCookie: limpet=v\r\n\r\n");
	cr_expect(s.complete);
	expect_candidate(&s, 0, "v");
}

Test(head, limit)
{
	struct limpet_head_config c = cookie_cfg();
	size_t len = LIMPET_HEAD_MAX_BYTES + 100, i;
	struct limpet_head_scan s;
	char *head = malloc(len + 64);

	cr_assert(head);
	strcpy(head, REQ "X-Pad: ");
	for (i = strlen(head); i < len; i++)
		head[i] = 'p';
	memcpy(head + len, "\r\nCookie: limpet=v\r\n\r\n", 23);
	s = scan(&c, head);
	cr_expect(s.complete && s.truncated);
	cr_expect_eq(s.bytes, LIMPET_HEAD_MAX_BYTES);
	cr_expect_eq(s.n_candidates, 0);

	/* A head of exactly the limit is complete, not truncated. */
	len = LIMPET_HEAD_MAX_BYTES - strlen("\r\n\r\n");
	strcpy(head, REQ "X-Pad: ");
	for (i = strlen(head); i < len; i++)
		head[i] = 'p';
	memcpy(head + len, "\r\n\r\n", 5);
	s = scan(&c, head);
	cr_expect(s.complete && !s.truncated);
	cr_expect_eq(s.bytes, LIMPET_HEAD_MAX_BYTES);
	free(head);
}

Test(head, cookie_affinity_off)
{
	struct limpet_head_config c = config(NULL, NULL, 0);
	char head[256];
	struct limpet_head_scan s;

	snprintf(head, sizeof(head), REQ "Cookie: limpet=%s\r\n\r\n", token(1, 0));
	s = scan(&c, head);
	cr_expect(s.complete);
	cr_expect_eq(s.n_candidates, 0);
}

Test(head, other_cookie_names)
{
	static const char *const hdrs[] = { "x" };
	struct limpet_head_config c = config("SERVERID", hdrs, 0);
	struct limpet_head_scan s;

	s = scan(&c, REQ "Cookie: serverid=a; SERVERIDX=b; SERVERID=c\r\n\r\n");
	cr_expect_eq(s.n_candidates, 1);
	expect_candidate(&s, 0, "c");

	/* The longest name the config can hold. */
	c = config("", NULL, 0);
	memset(c.cookie_name, 'n', LIMPET_HEAD_NAME_MAX - 1);
	c.cookie_name_len = LIMPET_HEAD_NAME_MAX - 1;
	{
		char head[256];

		snprintf(head, sizeof(head), REQ "Cookie: %.63s=long; %.62s=short\r\n\r\n",
			 c.cookie_name, c.cookie_name);
		s = scan(&c, head);
		cr_expect_eq(s.n_candidates, 1);
		expect_candidate(&s, 0, "long");
	}
}

/* ---- token outcomes through the scan ---- */

Test(head, most_specific_failure)
{
	struct limpet_head_config c = cookie_cfg();
	struct limpet_cookie_key other = key;
	struct limpet_token_fields f;
	char forged[LIMPET_TOKEN_CHARS + 1], head[512];
	struct limpet_head_scan s;

	limpet_token_fields_init(&f, 1, 1, NOW);
	other.k0 ^= 1;
	limpet_token_encode(&f, &other, TAG, forged);
	forged[LIMPET_TOKEN_CHARS] = '\0';

	snprintf(head, sizeof(head), REQ "Cookie: limpet=junk; limpet=%s; limpet=%s\r\n\r\n",
		 token(5, TTL + 1), forged);
	s = scan(&c, head);
	cr_expect_eq(outcome(&s, NULL), LIMPET_COOKIE_EXPIRED);

	snprintf(head, sizeof(head), REQ "Cookie: limpet=%s; limpet=junk\r\n\r\n", forged);
	s = scan(&c, head);
	cr_expect_eq(outcome(&s, NULL), LIMPET_COOKIE_BAD_MAC);

	snprintf(head, sizeof(head), REQ "Cookie: limpet=%s; limpet=%s; limpet=\"\"\r\n\r\n",
		 forged, token(6, 5));
	s = scan(&c, head);
	cr_expect_eq(outcome(&s, &f), LIMPET_COOKIE_VALID);
	cr_expect_eq(f.backend_tag, 6);
	expect_candidate(&s, 2, "");
}

/* ---- header affinity ---- */

static const char *const session_hdrs[] = { "x-session-id", "x-tenant", "authorization" };

Test(head, header_hash_trims_ows)
{
	struct limpet_head_config c = config(NULL, session_hdrs, 3);
	struct limpet_head_scan s;

	s = scan(&c, REQ "X-Session-ID: \t abc 123 \t \r\nx-tenant:acme\r\n\r\n");
	cr_expect_eq(s.header_present, 0x3);
	cr_expect_eq(s.header_hash[0], fnv("abc 123"));
	cr_expect_eq(s.header_hash[1], fnv("acme"));

	/* Trailing spaces, tabs and a missing CR change nothing. */
	s = scan(&c, REQ "X-SESSION-ID:abc 123\n\n");
	cr_expect_eq(s.header_hash[0], fnv("abc 123"));
	s = scan(&c, REQ "x-session-id:    abc 123        \r\n\r\n");
	cr_expect_eq(s.header_hash[0], fnv("abc 123"));
	/* Inside the value they count. */
	s = scan(&c, REQ "x-session-id: abc  123\r\n\r\n");
	cr_expect_eq(s.header_hash[0], fnv("abc  123"));
}

Test(head, header_empty_value)
{
	struct limpet_head_config c = config(NULL, session_hdrs, 3);
	struct limpet_head_scan s = scan(&c, REQ "X-Tenant:   \r\n\r\n");

	cr_expect_eq(s.header_present, 0x2);
	cr_expect_eq(s.header_hash[1], fnv(""));
}

Test(head, header_repeated_joins_with_comma)
{
	struct limpet_head_config c = config(NULL, session_hdrs, 3);
	struct limpet_head_scan s;

	s = scan(&c, REQ "X-Tenant: a\r\nAccept: */*\r\nx-tenant:  b  \r\n\r\n");
	cr_expect_eq(s.header_hash[1], fnv("a, b"));
	s = scan(&c, REQ "X-Tenant: a, b\r\n\r\n");
	cr_expect_eq(s.header_hash[1], fnv("a, b"));
}

Test(head, header_names_must_match_whole)
{
	struct limpet_head_config c = config(NULL, session_hdrs, 3);
	struct limpet_head_scan s;

	s = scan(&c, REQ "X-Session-Idx: a\r\nX-Session-I: b\r\nx-session-id : c\r\n"
			 "Authorization-X: d\r\n\r\n");
	cr_expect_eq(s.header_present, 0);
}

Test(head, header_named_cookie)
{
	static const char *const hdrs[] = { "cookie" };
	struct limpet_head_config c = config("limpet", hdrs, 1);
	struct limpet_head_scan s = scan(&c, REQ "Cookie: a=1; limpet=v \r\n\r\n");

	/* Both: a candidate and the hash of the whole value. */
	expect_candidate(&s, 0, "v");
	cr_expect_eq(s.header_hash[0], fnv("a=1; limpet=v"));
}

Test(head, session_key)
{
	struct limpet_head_config c = config(NULL, session_hdrs, 3);
	struct limpet_head_scan s, t;
	__u64 k1, k2;
	int ok;

	s = scan(&c, REQ "X-Session-Id: abc\r\n\r\n");
	k1 = limpet_head_session_key(&s, &c, 0, &ok);
	cr_expect(ok && k1);
	k2 = limpet_head_session_key(&s, &c, 1, &ok);
	cr_expect(!ok && !k2, "require_all with two headers missing");

	/* Same value, other header: another key. */
	t = scan(&c, REQ "X-Tenant: abc\r\n\r\n");
	k2 = limpet_head_session_key(&t, &c, 0, &ok);
	cr_expect(ok && k2 && k2 != k1);

	/* Same headers in another order and case, OWS differences: same key. */
	s = scan(&c, REQ "X-Tenant: t1\r\nAuthorization: Bearer x\r\nX-Session-Id: s1\r\n\r\n");
	t = scan(&c, REQ "x-session-id:s1  \r\nAUTHORIZATION:   Bearer x\r\nx-tenant: t1\r\n\r\n");
	k1 = limpet_head_session_key(&s, &c, 1, &ok);
	cr_expect(ok);
	k2 = limpet_head_session_key(&t, &c, 1, &ok);
	cr_expect(ok);
	cr_expect_eq(k1, k2);

	/* None present. */
	s = scan(&c, REQ "\r\n");
	cr_expect_eq(limpet_head_session_key(&s, &c, 0, &ok), 0);
	cr_expect(!ok);

	/* No headers configured: never a key. */
	c = config("limpet", NULL, 0);
	s = scan(&c, REQ "X-Session-Id: abc\r\n\r\n");
	cr_expect_eq(limpet_head_session_key(&s, &c, 0, &ok), 0);
	cr_expect(!ok);
}

Test(head, eight_headers)
{
	static const char *const hdrs[] = { "h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7" };
	struct limpet_head_config c = config("limpet", hdrs, 8);
	struct limpet_head_scan s;
	int ok, i;

	s = scan(&c, REQ "H7: 7\r\nH0: 0\r\nh3: 3\r\nH5:5\r\nh1: 1\r\nH2: 2\r\nh6: 6\r\nH4: 4\r\n"
			 "Cookie: limpet=v\r\n\r\n");
	cr_expect_eq(s.header_present, 0xff);
	for (i = 0; i < 8; i++) {
		char v[2] = { (char)('0' + i), 0 };

		cr_expect_eq(s.header_hash[i], fnv(v), "h%d", i);
	}
	expect_candidate(&s, 0, "v");
	cr_expect(limpet_head_session_key(&s, &c, 1, &ok) && ok);
}

/* ---- robustness ---- */

static __u64 rng = 0x243f6a8885a308d3ull;

static __u32 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (__u32)(rng >> 11);
}

/* Random heads built from pieces that steer into every state. */
static size_t random_head(char *buf, size_t cap)
{
	static const char *const pieces[] = {
		"GET / HTTP/1.1", "\r\n", "\n", "\r", "Cookie:", "cookie: ", "COOKIE :", "limpet",
		"=", ";", " ", "\t", "\"", "x-session-id:", "X-Tenant: ", "a", "0123456789", ":",
		"limpetx", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "\xff", "\0",
	};
	size_t n = 0, len;
	const char *p;

	while (n < cap - 64 && rnd() % 200) {
		if (rnd() % 8 == 0) {
			buf[n++] = (char)rnd();
			continue;
		}
		p = pieces[rnd() % (sizeof(pieces) / sizeof(pieces[0]))];
		len = *p ? strlen(p) : 1;
		memcpy(buf + n, p, len);
		n += len;
	}
	return n;
}

Test(head, stays_inside_its_struct)
{
	struct limpet_head_config c = config("limpet", session_hdrs, 3);
	struct guarded {
		__u8 before[64];
		struct limpet_head_scan s;
		__u8 after[64];
	} g;
	struct limpet_head_scan whole;
	char buf[4096];
	int iter, i;
	size_t n, cut, k;

	for (iter = 0; iter < 3000; iter++) {
		n = random_head(buf, sizeof(buf));
		memset(&g, 0xa5, sizeof(g));
		limpet_head_init(&g.s);
		/* Split at a random point: a second segment continues the scan. */
		cut = n ? rnd() % n : 0;
		for (k = 0; k < cut; k++)
			limpet_head_step(&g.s, &c, (__u8)buf[k]);
		for (; k < n; k++)
			limpet_head_step(&g.s, &c, (__u8)buf[k]);
		for (i = 0; i < 64; i++) {
			cr_assert_eq(g.before[i], 0xa5, "iteration %d: byte %d before", iter, i);
			cr_assert_eq(g.after[i], 0xa5, "iteration %d: byte %d after", iter, i);
		}
		whole = scan_bytes(&c, buf, n);
		cr_assert_eq(memcmp(&whole, &g.s, sizeof(whole)), 0, "iteration %d", iter);
		cr_assert_leq(g.s.n_candidates, LIMPET_HEAD_MAX_CANDIDATES);
		for (i = 0; i < g.s.n_candidates; i++)
			cr_assert(g.s.candidate_len[i] <= LIMPET_TOKEN_CHARS ||
				  g.s.candidate_len[i] == LIMPET_HEAD_CAND_BAD);
		outcome(&g.s, NULL);
	}
}

Test(head, config_out_of_range)
{
	struct limpet_head_config c = config("limpet", session_hdrs, 3);
	struct limpet_head_scan s;
	int ok;

	/* Lengths and counts beyond the arrays must not be followed. */
	c.n_headers = 200;
	c.header_len[0] = 250;
	c.cookie_name_len = 200;
	s = scan(&c, REQ "x-session-id: a\r\nX-Tenant: b\r\nCookie: limpet=c\r\n\r\n");
	cr_expect(s.complete);
	cr_expect_eq(s.header_present, 0x2);
	cr_expect_eq(s.n_candidates, 0);
	limpet_head_session_key(&s, &c, 1, &ok);
	cr_expect(!ok);
}
