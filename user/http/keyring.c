// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * keyring.c - the cookie MAC keys, their file and their owner (keyring.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/files.h"
#include "base/log.h"
#include "dp/maps.h"
#include "http/keyring.h"

#define LINE_MAX_LEN 256

static int new_key(struct cookie_key_entry *k, __u8 id, __u64 now_s)
{
	__u64 raw[2];

	if (getrandom(raw, sizeof(raw), 0) != sizeof(raw))
		return -EIO;
	k->id = id;
	k->created_s = now_s;
	k->k0 = raw[0];
	k->k1 = raw[1];
	return 0;
}

/* Ids run 1..255 and wrap; 0 is never used, so a zeroed slot is no key. */
static __u8 next_id(const struct keyring *kr)
{
	__u8 last = kr->n ? kr->key[kr->n - 1].id : 0;

	return last == 255 ? 1 : last + 1;
}

static int write_file(const char *path, const struct keyring *kr, char *err, size_t errlen)
{
	char tmp[4096];
	size_t i;
	FILE *f;
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%s: file name too long", path);
		return -ENAMETOOLONG;
	}
	ret = files_mkdir_parents(path, 0755);
	if (ret) {
		snprintf(err, errlen, "%s: cannot create its directory: %s", path, strerror(-ret));
		return ret;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(-ret));
		return ret;
	}
	fprintf(f, "# limpet cookie keys: id, created (unix seconds), 128-bit key in hex.\n"
		   "# The last line is the current key. Keep this file secret (mode 0600).\n");
	for (i = 0; i < kr->n; i++)
		fprintf(f, "%u %llu %016llx%016llx\n", kr->key[i].id,
			(unsigned long long)kr->key[i].created_s,
			(unsigned long long)kr->key[i].k0, (unsigned long long)kr->key[i].k1);
	/* fchmod too: an existing .tmp keeps its mode through O_CREAT. */
	if (fflush(f) || fchmod(fileno(f), 0600) || fsync(fileno(f))) {
		ret = -errno;
		fclose(f);
		unlink(tmp);
		snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(-ret));
		return ret;
	}
	fclose(f);
	if (rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
		snprintf(err, errlen, "%s: cannot replace: %s", path, strerror(-ret));
		return ret;
	}
	return 0;
}

static int hex64(const char *s, __u64 *out)
{
	__u64 v = 0;
	int i;

	for (i = 0; i < 16; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v << 4 | (__u64)d;
	}
	*out = v;
	return 0;
}

/* One "id created hex32" line; 0 or -1. */
static int parse_line(const char *line, struct cookie_key_entry *k)
{
	unsigned int id;
	unsigned long long created;
	char hex[40];
	int n = 0;

	if (sscanf(line, "%u %llu %39s %n", &id, &created, hex, &n) != 3 || line[n] ||
	    id < 1 || id > 255 || strlen(hex) != 32 || hex64(hex, &k->k0) ||
	    hex64(hex + 16, &k->k1))
		return -1;
	k->id = (__u8)id;
	k->created_s = created;
	return 0;
}

static int create_file(const char *path, struct keyring *kr, char *err, size_t errlen)
{
	struct keyring fresh = { .n = 1 };
	int ret;

	ret = new_key(&fresh.key[0], 1, clock_wall_s());
	if (ret) {
		snprintf(err, errlen, "%s: no random bytes for a key", path);
		return ret;
	}
	ret = write_file(path, &fresh, err, errlen);
	if (!ret)
		*kr = fresh;
	return ret;
}

int keys_load(const char *path, struct keyring *kr, char *err, size_t errlen)
{
	struct keyring in = { 0 };
	char line[LINE_MAX_LEN];
	unsigned int lineno = 0;
	struct stat st;
	FILE *f;

	f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return create_file(path, kr, err, errlen);
	if (!f) {
		int ret = -errno;

		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-ret));
		return ret;
	}
	if (!fstat(fileno(f), &st) && (st.st_mode & 077))
		pr_warn("%s is readable by others (mode %03o): whoever reads it can forge cookies",
			path, st.st_mode & 0777);
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");

		lineno++;
		p[strcspn(p, "\r\n")] = '\0';
		if (!*p || *p == '#')
			continue;
		if (in.n == KEYS_MAX) {
			/* Keep the newest: drop the oldest. */
			memmove(&in.key[0], &in.key[1], sizeof(in.key[0]) * (KEYS_MAX - 1));
			in.n--;
		}
		if (parse_line(p, &in.key[in.n])) {
			fclose(f);
			snprintf(err, errlen, "%s:%u: expected \"<id 1-255> <created unix seconds> "
				 "<32 hex digits>\"", path, lineno);
			return -EINVAL;
		}
		in.n++;
	}
	fclose(f);
	if (!in.n) {
		snprintf(err, errlen, "%s: holds no key (delete it to get a new one)", path);
		return -EINVAL;
	}
	*kr = in;
	return 0;
}

bool keys_valid(const struct keyring *kr, size_t i, __u64 now_s, __u64 ttl_s)
{
	if (i + 1 >= kr->n)
		return i < kr->n;
	/* Retired when its successor was made; cookies it signed since live ttl_s. */
	return now_s < kr->key[i + 1].created_s + ttl_s;
}

int keys_rotate(const char *path, struct keyring *kr, __u64 now_s, __u64 ttl_s, char *err,
		size_t errlen)
{
	struct keyring next = { 0 };
	size_t i;
	int ret;

	for (i = 0; i < kr->n; i++)
		if (keys_valid(kr, i, now_s, ttl_s))
			next.key[next.n++] = kr->key[i];
	if (next.n == KEYS_MAX) {
		memmove(&next.key[0], &next.key[1], sizeof(next.key[0]) * (KEYS_MAX - 1));
		next.n--;
	}
	ret = new_key(&next.key[next.n], next_id(kr), now_s);
	if (ret) {
		snprintf(err, errlen, "no random bytes for a key");
		return ret;
	}
	next.n++;
	ret = write_file(path, &next, err, errlen);
	if (!ret)
		*kr = next;
	return ret;
}

void keys_for_verify(const struct keyring *kr, __u64 now_s, __u64 ttl_s,
		     struct limpet_cookie_keys *out)
{
	size_t i, slot = 0;

	memset(out, 0, sizeof(*out));
	for (i = kr->n; i-- > 0 && slot < LIMPET_COOKIE_KEYS;) {
		if (!keys_valid(kr, i, now_s, ttl_s))
			continue;
		out->key[slot].k0 = kr->key[i].k0;
		out->key[slot].k1 = kr->key[i].k1;
		out->key[slot].id = kr->key[i].id;
		out->key[slot].valid = 1;
		slot++;
	}
}

const struct cookie_key_entry *keys_current(const struct keyring *kr)
{
	return kr->n ? &kr->key[kr->n - 1] : NULL;
}

/* ---- the keys of a running controller ---------------------------------- */

void cookie_keys_init(struct cookie_keys *k, struct dataplane *dp)
{
	memset(k, 0, sizeof(*k));
	k->dp = dp;
}

/* The verification set and the wall clock, for the slow path and XDP. */
static int push(struct cookie_keys *k)
{
	struct cookie_keys_value v = { 0 };
	__u64 now = clock_wall_s();

	keys_for_verify(&k->ring, now, k->ttl_s, &k->verify);
	v.keys = k->verify;
	v.boot_to_wall_ns = (__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME));
	k->pushed_s = now;
	return dp_set_cookie_keys(k->dp, &v);
}

/* What the file looked like when we last read or wrote it. */
static void remember_mtime(struct cookie_keys *k)
{
	struct stat st;

	if (!stat(k->path, &st))
		k->mtime = st.st_mtim;
}

static int load(struct cookie_keys *k, const char *path, char *err, size_t errlen)
{
	struct keyring kr;
	int ret = keys_load(path, &kr, err, errlen);

	if (ret)
		return ret;
	snprintf(k->path, sizeof(k->path), "%s", path);
	k->ring = kr;
	k->loaded = true;
	remember_mtime(k);
	return 0;
}

int cookie_keys_use(struct cookie_keys *k, const char *path, __u32 ttl_s, char *err,
		    size_t errlen)
{
	int ret;

	k->ttl_s = ttl_s;
	if (!k->loaded || strcmp(k->path, path)) {
		ret = load(k, path, err, errlen);
		if (ret)
			return ret;
	}
	ret = push(k);
	if (ret)
		snprintf(err, errlen, "cannot write the cookie key map: %s", strerror(-ret));
	return ret;
}

int cookie_keys_rotate(struct cookie_keys *k, char *err, size_t errlen)
{
	const struct cookie_key_entry *cur;
	int ret;

	ret = keys_rotate(k->path, &k->ring, clock_wall_s(), k->ttl_s, err, errlen);
	if (ret)
		return ret;
	remember_mtime(k);
	ret = push(k);
	if (ret) {
		snprintf(err, errlen, "cannot write the cookie key map: %s", strerror(-ret));
		return ret;
	}
	cur = keys_current(&k->ring);
	pr_info("cookie key %u is now current (%s); older keys stay valid for %us", cur->id,
		k->path, k->ttl_s);
	return 0;
}

/* Another balancer (or an operator) rotated the shared file: follow it. */
static void reread_if_changed(struct cookie_keys *k)
{
	char err[512];
	struct stat st;

	if (stat(k->path, &st) || (st.st_mtim.tv_sec == k->mtime.tv_sec &&
				   st.st_mtim.tv_nsec == k->mtime.tv_nsec))
		return;
	if (load(k, k->path, err, sizeof(err))) {
		pr_warn("%s changed but cannot be used; keeping the keys in use: %s", k->path,
			err);
		remember_mtime(k);	/* say it once, not every second */
		return;
	}
	pr_info("cookie keys re-read from %s", k->path);
	k->pushed_s = 0;
}

void cookie_keys_tick(struct cookie_keys *k)
{
	int ret;

	if (!k->loaded)
		return;
	reread_if_changed(k);
	/* Clock steps reach the data plane, and old keys run out, in a second. */
	if (clock_wall_s() != k->pushed_s) {
		ret = push(k);
		if (ret)
			pr_warn("cannot write the cookie key map: %s", strerror(-ret));
	}
}

const struct cookie_key_entry *cookie_keys_current(const struct cookie_keys *k)
{
	return k->loaded ? keys_current(&k->ring) : NULL;
}
