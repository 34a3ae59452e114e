/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_head.c - the request-head scanner and cookie check as XDP runs them
 * (bpf/lib/head.h: a per-CPU scratch copy of the payload, one bpf_loop()
 * callback per byte) against the userspace build of the same headers, on
 * the same bytes.
 *
 * tests/packet/head_scan.bpf.c wraps head_scan_payload(),
 * limpet_head_cookie() and limpet_head_session_key() and leaves what they
 * found in a result map. Each case is a request from the cookie corpus of
 * tests/unit/test_head.c in a TCP segment over IPv4 or IPv6; the result
 * must equal, byte for byte, what the userspace functions compute over the
 * first HEAD_SCRATCH_BYTES of the payload, and the expected outcome.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <criterion/criterion.h>

#include "head_scan.skel.h"
#include "limpet_head.h"
#include "packet/head_scan.h"
#include "packet/pkt.h"

#define TAG 0x00070001u
#define NOW 1700000000u
#define TTL 3600u
#define SCRATCH_BYTES 4096	/* HEAD_SCRATCH_BYTES of bpf/lib/head.h */
#define FRAME_MAX 9000

static struct head_scan *skel;

static const struct limpet_cookie_key key = {
	.k0 = 0x0f1e2d3c4b5a6978ull, .k1 = 0x8796a5b4c3d2e1f0ull, .id = 9, .valid = 1,
};

static const char *const hdrs[] = { "x-session-id", "x-tenant" };

static struct limpet_head_config cfg;
static struct limpet_cookie_keys keys;
static struct head_scan_env env = { .now_s = NOW, .ttl_s = TTL, .service_tag = TAG };

/* Element 0 of a one-element array map. */
static void map_set(struct bpf_map *map, const void *value, size_t size)
{
	__u32 zero = 0;

	cr_assert_eq(bpf_map__update_elem(map, &zero, sizeof(zero), value, size, 0), 0,
		     "%s: %s", bpf_map__name(map), strerror(errno));
}

static void map_get(struct bpf_map *map, void *value, size_t size)
{
	__u32 zero = 0;

	cr_assert_eq(bpf_map__lookup_elem(map, &zero, sizeof(zero), value, size, 0), 0,
		     "%s: %s", bpf_map__name(map), strerror(errno));
}

static void setup(void)
{
	int i;

	skel = head_scan__open_and_load();
	cr_assert(skel, "head_scan: load failed: %s", strerror(errno));

	memset(&cfg, 0, sizeof(cfg));
	strcpy(cfg.cookie_name, "limpet");
	cfg.cookie_name_len = 6;
	for (i = 0; i < 2; i++) {
		strcpy(cfg.header[i], hdrs[i]);
		cfg.header_len[i] = (__u8)strlen(hdrs[i]);
	}
	cfg.n_headers = 2;
	memset(&keys, 0, sizeof(keys));
	keys.key[3] = key;

	map_set(skel->maps.head_cfg, &cfg, sizeof(cfg));
	map_set(skel->maps.head_keys, &keys, sizeof(keys));
	map_set(skel->maps.head_env, &env, sizeof(env));
}

static void teardown(void)
{
	head_scan__destroy(skel);
}

TestSuite(head_scan, .init = setup, .fini = teardown, .timeout = 60);

/* A token for backend <backend> issued <age> seconds ago, made with <k>. */
static void token(char *out, const struct limpet_cookie_key *k, __u32 backend, __u32 age)
{
	struct limpet_token_fields f;

	limpet_token_fields_init(&f, 0xabc0000000000000ull | backend, backend, NOW - age);
	limpet_token_encode(&f, k, TAG, out);
	out[LIMPET_TOKEN_CHARS] = '\0';
}

/* <fmt> with %s = good token (backend 5), %t = good token (backend 6),
 * %e = expired, %f = forged.
 */
static size_t expand(const char *fmt, char *out, size_t cap)
{
	struct limpet_cookie_key forger = key;
	char good[40], good2[40], expired[40], forged[40];
	size_t n = 0;

	forger.k1 ^= 0x100;
	token(good, &key, 5, 10);
	token(good2, &key, 6, 10);
	token(expired, &key, 7, TTL);
	token(forged, &forger, 8, 10);
	for (; *fmt; fmt++) {
		const char *ins = NULL;

		if (fmt[0] == '%') {
			switch (fmt[1]) {
			case 's': ins = good; break;
			case 't': ins = good2; break;
			case 'e': ins = expired; break;
			case 'f': ins = forged; break;
			}
		}
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
	return n;
}

/* A client's TCP segment to the VIP carrying <payload>. */
static size_t frame_of(const char *payload, size_t len, bool v6, __u8 *buf)
{
	struct pkt_spec s = v6 ? pkt_tcp("fd00:10::2", 40000, "fd00:100::100", 80,
					 PKT_TCP_ACK | PKT_TCP_PSH)
			       : pkt_tcp("10.10.0.2", 40000, "10.100.0.100", 80,
					 PKT_TCP_ACK | PKT_TCP_PSH);
	size_t flen, off;

	s.payload_len = (__u16)len;
	flen = pkt_build(&s, buf, FRAME_MAX);
	cr_assert(flen, "frame too long");
	off = flen - len;
	memcpy(buf + off, payload, len);
	pkt_fix_tcp_csum(buf, flen);
	return flen;
}

struct head_case {
	const char *name;
	const char *payload;
	bool v6;
	__u32 require_all;
	enum limpet_cookie_outcome outcome;
	int complete;
	int n_candidates;
	__u32 backend;		/* VALID: the token's backend tag */
};

#define REQ "GET /app HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: curl/8.5.0\r\n"

static const struct head_case cases[] = {
	{ "analytics around ours", REQ "Cookie: _ga=GA1.2.1234567890.1700000000; "
	  "_gid=GA1.2.98765.1700000000; limpet=%s; __cf_bm=Xk3.pQ_9aB-123.1-1.0.1.1-abc\r\n\r\n",
	  false, 0, LIMPET_COOKIE_VALID, 1, 1, 5 },
	{ "same over IPv6", REQ "Cookie: _ga=GA1.2.3.4; limpet=%s\r\n\r\n",
	  true, 0, LIMPET_COOKIE_VALID, 1, 1, 5 },
	{ "quoted", REQ "Cookie: a=1; limpet=\"%s\"\r\n\r\n", false, 0,
	  LIMPET_COOKIE_VALID, 1, 1, 5 },
	{ "no space, lower case", REQ "cookie:limpet=%s\r\n\r\n", false, 0, LIMPET_COOKIE_VALID,
	  1, 1, 5 },
	{ "upper case, trailing semicolon", REQ "COOKIE: limpet=%s;\r\n\r\n", false, 0,
	  LIMPET_COOKIE_VALID, 1, 1, 5 },
	{ "two cookie headers",
	  REQ "Cookie: theme=dark\r\nAccept: */*\r\nCookie: limpet=%s\r\n\r\n",
	  false, 0, LIMPET_COOKIE_VALID, 1, 1, 5 },
	{ "bad before good", REQ "Cookie: limpet=junk; limpet=%t\r\n\r\n", false, 0,
	  LIMPET_COOKIE_VALID, 1, 2, 6 },
	{ "good before bad", REQ "Cookie: limpet=%t; limpet=junk\r\n\r\n", true, 0,
	  LIMPET_COOKIE_VALID, 1, 2, 6 },
	{ "two good: the first", REQ "Cookie: limpet=%t\r\nCookie: limpet=%s\r\n\r\n", false, 0,
	  LIMPET_COOKIE_VALID, 1, 2, 6 },
	{ "decoys", REQ "Cookie: limpetx=%s; xlimpet=%s; LIMPET=%s\r\n\r\n", false, 0,
	  LIMPET_COOKIE_ABSENT, 1, 0, 0 },
	{ "LF only", "GET / HTTP/1.1\nCookie: limpet=%s\n\n", false, 0,
	  LIMPET_COOKIE_VALID, 1, 1, 5 },
	{ "too long", REQ "Cookie: limpet=%sX\r\n\r\n", false, 0,
	  LIMPET_COOKIE_MALFORMED, 1, 1, 0 },
	{ "expired", REQ "Cookie: limpet=%e\r\n\r\n", false, 0, LIMPET_COOKIE_EXPIRED, 1, 1, 0 },
	{ "forged", REQ "Cookie: limpet=%f\r\n\r\n", false, 0, LIMPET_COOKIE_BAD_MAC, 1, 1, 0 },
	{ "most specific of three", REQ "Cookie: limpet=x; limpet=%f; limpet=%e\r\n\r\n", false, 0,
	  LIMPET_COOKIE_EXPIRED, 1, 3, 0 },
	{ "five: four kept",
	  REQ "Cookie: limpet=a; limpet=b; limpet=c; limpet=d; limpet=%s\r\n\r\n",
	  false, 0, LIMPET_COOKIE_MALFORMED, 1, 4, 0 },
	{ "incomplete head", REQ "Cookie: limpet=%s\r\nAccept: text/html\r\n", false, 0,
	  LIMPET_COOKIE_VALID, 0, 1, 5 },
	{ "value cut by the segment end", REQ "Cookie: limpet=AAAA", false, 0,
	  LIMPET_COOKIE_ABSENT, 0, 0, 0 },
	{ "headers, require_all met",
	  REQ "X-Session-Id:  s-42 \t\r\nx-tenant: acme\r\n\r\n",
	  true, 1, LIMPET_COOKIE_ABSENT, 1, 0, 0 },
	{ "headers, require_all missed", REQ "X-Session-Id: s-42\r\n\r\n", false, 1,
	  LIMPET_COOKIE_ABSENT, 1, 0, 0 },
	{ "headers and cookie", REQ "X-Tenant: a\r\nCookie: limpet=%s\r\nX-TENANT: b\r\n\r\n",
	  false, 0, LIMPET_COOKIE_VALID, 1, 1, 5 },
	{ "no payload", "", false, 0, LIMPET_COOKIE_ABSENT, 0, 0, 0 },
};

/* Run <payload> through the program; compare with the userspace build. */
static void run_case(const char *name, const char *payload, size_t len, bool v6,
		     __u32 require_all, struct head_scan_result *res)
{
	static __u8 frame[FRAME_MAX];
	struct head_scan_result want;
	struct head_scan_env e = env;
	__u32 i, n;
	size_t flen = frame_of(payload, len, v6, frame);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = (__u32)flen,
		    .repeat = 1);

	e.require_all = require_all;
	map_set(skel->maps.head_env, &e, sizeof(e));
	memset(res, 0, sizeof(*res));
	map_set(skel->maps.head_result, res, sizeof(*res));
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.head_scan), &opts), 0,
		     "%s: bpf_prog_test_run_opts: %s", name, strerror(errno));
	cr_assert_eq(opts.retval, XDP_PASS, "%s: verdict %u", name, opts.retval);
	map_get(skel->maps.head_result, res, sizeof(*res));
	cr_assert_eq(res->runs, 1);
	cr_assert_eq(res->rc, 0, "%s: rc %d", name, res->rc);
	cr_expect_eq(res->payload_len, len, "%s: payload %u", name, res->payload_len);

	/* The userspace build over what XDP could copy. */
	memset(&want, 0, sizeof(want));
	limpet_head_init(&want.scan);
	n = len < SCRATCH_BYTES ? (__u32)len : SCRATCH_BYTES;
	for (i = 0; i < n; i++)
		if (limpet_head_step(&want.scan, &cfg, (__u8)payload[i]))
			break;
	want.outcome = limpet_head_cookie(&want.scan, &keys, TAG, NOW, TTL, &want.fields);
	want.session_key = limpet_head_session_key(&want.scan, &cfg, (int)require_all,
						   &want.key_ok);

	cr_expect_eq(memcmp(&res->scan, &want.scan, sizeof(want.scan)), 0,
		     "%s: scan differs (bytes %u/%u complete %u/%u candidates %u/%u)", name,
		     res->scan.bytes, want.scan.bytes, res->scan.complete, want.scan.complete,
		     res->scan.n_candidates, want.scan.n_candidates);
	cr_expect_eq(res->outcome, want.outcome, "%s: outcome %s, userspace %s", name,
		     limpet_cookie_outcome_names[res->outcome % LIMPET_COOKIE_OUTCOMES],
		     limpet_cookie_outcome_names[want.outcome]);
	cr_expect_eq(memcmp(&res->fields, &want.fields, sizeof(want.fields)), 0,
		     "%s: fields differ", name);
	cr_expect_eq(res->session_key, want.session_key, "%s: session key", name);
	cr_expect_eq(res->key_ok, want.key_ok, "%s: key ok", name);
}

Test(head_scan, corpus_matches_userspace)
{
	char payload[2048];
	size_t i, len;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct head_case *c = &cases[i];
		struct head_scan_result res;

		len = expand(c->payload, payload, sizeof(payload));
		run_case(c->name, payload, len, c->v6, c->require_all, &res);
		cr_expect_eq(res.outcome, c->outcome, "%s: outcome %s", c->name,
			     limpet_cookie_outcome_names[res.outcome % LIMPET_COOKIE_OUTCOMES]);
		cr_expect_eq(res.scan.complete, c->complete, "%s: complete", c->name);
		cr_expect_eq(res.scan.n_candidates, c->n_candidates, "%s: %u candidates", c->name,
			     res.scan.n_candidates);
		if (c->outcome == LIMPET_COOKIE_VALID)
			cr_expect_eq(res.fields.backend_tag, c->backend, "%s: backend %u", c->name,
				     res.fields.backend_tag);
	}
}

Test(head_scan, header_key_ignores_ows_and_case)
{
	static const char one[] = REQ "X-Session-Id: s-42\r\nX-Tenant: acme\r\n\r\n";
	static const char two[] = REQ "x-tenant:acme   \r\nX-SESSION-ID: \t s-42\r\n\r\n";
	static const char other[] = REQ "X-Session-Id: s-43\r\nX-Tenant: acme\r\n\r\n";
	struct head_scan_result a, b, c;

	run_case("one", one, strlen(one), false, 1, &a);
	run_case("two", two, strlen(two), true, 1, &b);
	run_case("other", other, strlen(other), false, 1, &c);
	cr_expect(a.key_ok && b.key_ok && c.key_ok);
	cr_expect_eq(a.session_key, b.session_key);
	cr_expect_neq(a.session_key, c.session_key);
}

/* A head longer than the scratch buffer: XDP reads its first 4096 bytes
 * (across the fragments of a multi-buffer frame) and leaves the rest to
 * the slow path.
 */
Test(head_scan, longer_than_scratch)
{
	static char payload[6000];
	struct head_scan_result res;
	size_t len;

	len = expand(REQ "Cookie: limpet=%s\r\nX-Pad: ", payload, sizeof(payload));
	memset(payload + len, 'p', 5000);
	len += 5000;
	memcpy(payload + len, "\r\n\r\n", 4);
	len += 4;
	run_case("long head", payload, len, false, 0, &res);
	cr_expect_eq(res.scan.bytes, SCRATCH_BYTES);
	cr_expect(!res.scan.complete && !res.scan.truncated);
	cr_expect_eq(res.outcome, LIMPET_COOKIE_VALID);
}

/* Random bytes from the same pieces as the unit test: same result both sides. */
Test(head_scan, random_heads_match_userspace)
{
	static const char *const pieces[] = {
		"GET / HTTP/1.1", "\r\n", "\n", "Cookie: ", "cookie:", "limpet=", "limpet", "=",
		";", " ", "\"", "x-session-id:", "X-Tenant: ", "abc", "%s", "%f",
	};
	__u64 rng = 0x9e3779b97f4a7c15ull;
	char fmt[1024], payload[2048];
	struct head_scan_result res;
	size_t n, len;
	int iter;

	for (iter = 0; iter < 200; iter++) {
		n = 0;
		for (;;) {
			const char *p;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			p = pieces[(rng >> 20) % (sizeof(pieces) / sizeof(pieces[0]))];
			if (n + strlen(p) + 1 >= sizeof(fmt) || (rng >> 40) % 40 == 0)
				break;
			memcpy(fmt + n, p, strlen(p));
			n += strlen(p);
		}
		fmt[n] = '\0';
		len = expand(fmt, payload, sizeof(payload));
		run_case("random", payload, len, iter & 1, iter & 2, &res);
	}
}
