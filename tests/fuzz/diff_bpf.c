// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * diff_bpf.c - the request-head scanner and the cookie token verifier as
 * XDP runs them against their userspace build, on every input of a corpus.
 *
 * Each input goes into a TCP segment through tests/packet/head_scan.bpf.c
 * (bpf_prog_test_run_opts(), as tests/packet/test_head.c loads it) and
 * through the same headers compiled here; any difference in the scan
 * state, the cookie outcome, the token fields or the session key fails.
 * "head" inputs read as head_input.h says; "token" inputs as
 * token_input.h says, the value sent as "Cookie: limpet=<value>".
 *
 *   diff_bpf head PATH... [token PATH...]
 *
 * A PATH is a file or a directory of them. Needs root (BPF). The last line
 * is "diff_bpf: N passed, N failed"; the exit status is 1 on a difference,
 * 2 when the program cannot be run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/bpf.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "head_input.h"
#include "head_scan.skel.h"
#include "limpet_head.h"
#include "packet/head_scan.h"
#include "packet/pkt.h"
#include "token_input.h"

#define SCRATCH_BYTES 4096	/* HEAD_SCRATCH_BYTES of bpf/lib/head.h */
#define FRAME_MAX 9000
#define PAYLOAD_MAX (FRAME_MAX - 200)
#define INPUT_MAX (1 << 20)

enum mode { MODE_HEAD, MODE_TOKEN };

static struct head_scan *skel;
static struct limpet_cookie_keys keys;
static int passed, failed;

static int map_set(struct bpf_map *map, const void *value, size_t size)
{
	__u32 zero = 0;

	return bpf_map__update_elem(map, &zero, sizeof(zero), value, size, 0);
}

static int map_get(struct bpf_map *map, void *value, size_t size)
{
	__u32 zero = 0;

	return bpf_map__lookup_elem(map, &zero, sizeof(zero), value, size, 0);
}

/* A client's TCP segment to the VIP carrying <payload>; its length, 0 if too long. */
static size_t frame_of(const __u8 *payload, size_t len, bool v6, __u8 *buf)
{
	struct pkt_spec s = v6 ? pkt_tcp("fd00:10::2", 40000, "fd00:100::100", 80,
					 PKT_TCP_ACK | PKT_TCP_PSH)
			       : pkt_tcp("10.10.0.2", 40000, "10.100.0.100", 80,
					 PKT_TCP_ACK | PKT_TCP_PSH);
	size_t flen;

	s.payload_len = (__u16)len;
	flen = pkt_build(&s, buf, FRAME_MAX);
	if (!flen)
		return 0;
	memcpy(buf + flen - len, payload, len);
	pkt_fix_tcp_csum(buf, flen);
	return flen;
}

/* One payload through both builds; 0 when they agree. */
static int compare(const char *name, const struct limpet_head_config *cfg, const __u8 *payload,
		   size_t len, bool v6, __u32 require_all)
{
	static __u8 frame[FRAME_MAX];
	struct head_scan_env env = { .now_s = HEAD_NOW, .ttl_s = HEAD_TTL, .service_tag = HEAD_TAG,
				     .require_all = require_all };
	struct head_scan_result res, want;
	size_t flen;
	__u32 i, n;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1);

	if (len > PAYLOAD_MAX)
		len = PAYLOAD_MAX;
	flen = frame_of(payload, len, v6, frame);
	if (!flen) {
		fprintf(stderr, "diff_bpf: %s: cannot build a frame of %zu bytes\n", name, len);
		return -1;
	}
	memset(&res, 0, sizeof(res));
	if (map_set(skel->maps.head_cfg, cfg, sizeof(*cfg)) ||
	    map_set(skel->maps.head_env, &env, sizeof(env)) ||
	    map_set(skel->maps.head_result, &res, sizeof(res))) {
		fprintf(stderr, "diff_bpf: %s: map update: %s\n", name, strerror(errno));
		return -1;
	}
	opts.data_in = frame;
	opts.data_size_in = (__u32)flen;
	if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.head_scan), &opts) ||
	    map_get(skel->maps.head_result, &res, sizeof(res))) {
		fprintf(stderr, "diff_bpf: %s: test run: %s\n", name, strerror(errno));
		return -1;
	}
	if (opts.retval != XDP_PASS || res.runs != 1 || res.rc || res.payload_len != len) {
		fprintf(stderr, "diff_bpf: %s: verdict %u runs %u rc %d payload %u of %zu\n", name,
			opts.retval, res.runs, res.rc, res.payload_len, len);
		return -1;
	}

	/* The userspace build over what XDP could copy. */
	memset(&want, 0, sizeof(want));
	limpet_head_init(&want.scan);
	n = len < SCRATCH_BYTES ? (__u32)len : SCRATCH_BYTES;
	for (i = 0; i < n; i++)
		if (limpet_head_step(&want.scan, cfg, payload[i]))
			break;
	want.outcome = limpet_head_cookie(&want.scan, &keys, HEAD_TAG, HEAD_NOW, HEAD_TTL,
					  &want.fields);
	want.session_key = limpet_head_session_key(&want.scan, cfg, (int)require_all,
						   &want.key_ok);

	if (memcmp(&res.scan, &want.scan, sizeof(want.scan)) || res.outcome != want.outcome ||
	    memcmp(&res.fields, &want.fields, sizeof(want.fields)) ||
	    res.session_key != want.session_key || res.key_ok != want.key_ok) {
		fprintf(stderr,
			"diff_bpf: %s: BPF and userspace differ: bytes %u/%u complete %u/%u "
			"candidates %u/%u outcome %u/%u key %llx/%llx ok %d/%d\n",
			name, res.scan.bytes, want.scan.bytes, res.scan.complete,
			want.scan.complete, res.scan.n_candidates, want.scan.n_candidates,
			res.outcome, want.outcome, (unsigned long long)res.session_key,
			(unsigned long long)want.session_key, res.key_ok, want.key_ok);
		return 1;
	}
	return 0;
}

static int run_head(const char *name, const __u8 *data, size_t size)
{
	struct head_input h;

	head_input_read(data, size, &h);
	return compare(name, &h.cfg, h.payload, h.len, h.v6, (__u32)h.require_all);
}

static int run_token(const char *name, const __u8 *data, size_t size)
{
	static const char pre[] = "GET / HTTP/1.1\r\nCookie: limpet=", post[] = "\r\n\r\n";
	__u8 payload[sizeof(pre) + LIMPET_TOKEN_CHARS + sizeof(post)];
	struct limpet_head_config cfg;
	struct token_input t;
	size_t n, len = 0;

	token_input_read(data, size, &keys, &t);
	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.cookie_name, "limpet", 6);
	cfg.cookie_name_len = 6;
	n = t.len < LIMPET_TOKEN_CHARS ? t.len : LIMPET_TOKEN_CHARS;
	memcpy(payload, pre, sizeof(pre) - 1);
	len += sizeof(pre) - 1;
	memcpy(payload + len, t.chars, n);
	len += n;
	memcpy(payload + len, post, sizeof(post) - 1);
	len += sizeof(post) - 1;
	return compare(name, &cfg, payload, len, data && size && (data[0] & 0x80), 0);
}

static void run_file(const char *path, enum mode mode)
{
	static __u8 buf[INPUT_MAX];
	size_t n;
	FILE *f = fopen(path, "rb");
	int r;

	if (!f) {
		fprintf(stderr, "diff_bpf: %s: %s\n", path, strerror(errno));
		failed++;
		return;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	r = mode == MODE_HEAD ? run_head(path, buf, n) : run_token(path, buf, n);
	if (r)
		failed++;
	else
		passed++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path, enum mode mode)
{
	char **names = NULL, full[4096];
	size_t n = 0, cap = 0, i;
	struct dirent *e;
	struct stat st;
	DIR *d;

	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		run_file(path, mode);
		return;
	}
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "diff_bpf: %s: %s\n", path, strerror(errno));
		failed++;
		return;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[n] = strdup(e->d_name);
		if (!names[n++])
			abort();
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	for (i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s/%s", path, names[i]);
		run_file(full, mode);
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	enum mode mode = MODE_HEAD;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s head PATH... [token PATH...]\n", argv[0]);
		return 2;
	}
	skel = head_scan__open_and_load();
	if (!skel) {
		fprintf(stderr, "diff_bpf: cannot load head_scan: %s\n", strerror(errno));
		return 2;
	}
	head_keys(&keys);
	if (map_set(skel->maps.head_keys, &keys, sizeof(keys))) {
		fprintf(stderr, "diff_bpf: keys: %s\n", strerror(errno));
		head_scan__destroy(skel);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "head"))
			mode = MODE_HEAD;
		else if (!strcmp(argv[i], "token"))
			mode = MODE_TOKEN;
		else
			run_path(argv[i], mode);
	}
	head_scan__destroy(skel);
	printf("diff_bpf: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
