/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * keys.h - the cookie MAC keys and their file (secret_file).
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

#include "limpet_token.h"

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

#endif /* LIMPET_KEYS_H */
