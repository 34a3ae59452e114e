/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * keyring.h - the cookie MAC keys: their file (secret_file) and the one
 * owner of them while limpet runs.
 *
 * The file holds one key per line, oldest first; the last is the current
 * key, which signs new cookies:
 *
 *     # limpet cookie keys: id, created (unix seconds), 128-bit key in hex
 *     1 1763700000 00112233445566778899aabbccddeeff
 *
 * An older key still verifies cookies for the longest cookie TTL after its
 * successor was created ("the previous key stays valid for the cookie
 * TTL"), then it is dropped. Several balancers that share the file agree
 * on every cookie; each re-reads it when it changes. It is created with
 * mode 0600 holding one fresh key when it does not exist.
 */
#ifndef LIMPET_KEYS_H
#define LIMPET_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include <time.h>

#include "limpet_token.h"
#include "model/config.h"

#define KEYS_MAX 16

struct cookie_key_entry {
	__u8 id;
	__u64 created_s;
	__u64 k0, k1;
};

struct keyring {
	struct cookie_key_entry key[KEYS_MAX];
	size_t n;		/* key[n - 1] is current */
};

/*
 * Read <path> into <kr>, creating it (0600, one new key) when missing.
 * Returns 0, or -errno with one line naming the file (and line) in <err>.
 */
int keys_load(const char *path, struct keyring *kr, char *err, size_t errlen);

/*
 * Add a new current key at <now_s>, drop keys no longer valid for
 * <ttl_s>, and write <path> (atomically, 0600). <kr> is unchanged on error.
 */
int keys_rotate(const char *path, struct keyring *kr, __u64 now_s, __u64 ttl_s, char *err,
		size_t errlen);

/* Is key <i> of <kr> still valid at <now_s> for cookies living <ttl_s>? */
bool keys_valid(const struct keyring *kr, size_t i, __u64 now_s, __u64 ttl_s);

/* The keys the data plane and the slow path verify with: current first. */
void keys_for_verify(const struct keyring *kr, __u64 now_s, __u64 ttl_s,
		     struct limpet_cookie_keys *out);

/* The signing key (NULL when there is none). */
const struct cookie_key_entry *keys_current(const struct keyring *kr);

/* ---- the keys of a running controller ---------------------------------- */

struct dataplane;

/*
 * The one owner of the cookie keys while limpet runs: read from (or
 * created in) the secret file, rotated, re-read when another balancer
 * rotates the shared file, and pushed to the data plane with the wall
 * clock XDP checks expiry against. The slow path verifies and signs with
 * the same set.
 */
struct cookie_keys {
	struct dataplane *dp;
	bool loaded;
	char path[CONFIG_PATH_MAX];
	struct timespec mtime;		/* of <path> when last read or written */
	__u64 pushed_s;			/* the verification set was last computed */
	__u32 ttl_s;			/* the longest cookie TTL: older keys stay that long */
	struct keyring ring;
	struct limpet_cookie_keys verify;	/* current first */
};

void cookie_keys_init(struct cookie_keys *k, struct dataplane *dp);

/*
 * Use the keys of <path> for cookies living at most <ttl_s>: read (or
 * create) the file when it is not the one in use, and push the set to the
 * data plane. 0 or -errno with one line in <err>.
 */
int cookie_keys_use(struct cookie_keys *k, const char *path, __u32 ttl_s, char *err,
		    size_t errlen);

/* `limpet keys rotate`: a new current key in the file in use. 0 or -errno, <err>. */
int cookie_keys_rotate(struct cookie_keys *k, char *err, size_t errlen);

/* Once a second: follow the file if it changed, and let the data plane's
 * clock and the keys' validity move on.
 */
void cookie_keys_tick(struct cookie_keys *k);

/* The signing key; NULL before any was loaded. */
const struct cookie_key_entry *cookie_keys_current(const struct cookie_keys *k);

#endif /* LIMPET_KEYS_H */
