/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * limpet_token.h - the cookie token: what a limpet affinity cookie holds,
 * how it is written, and how a request's cookie is checked.
 *
 * 27 bytes, sent as exactly 36 base64url characters without padding
 * (27 is a multiple of 3, so every bit of every character is used and
 * each token has one spelling). Multi-byte fields are big-endian:
 *
 *   off len
 *    0   1  version (LIMPET_TOKEN_VERSION)
 *    1   1  key_id: which cookie key made the MAC
 *    2   1  flags (0; reserved)
 *    3   8  session id (random)
 *   11   4  backend tag
 *   15   4  issued, unix seconds
 *   19   8  mac = SipHash-2-4(key, bytes 0..18 || service tag, 4 bytes BE)
 *
 * The service tag is in the MAC but not in the token, so a token of one
 * service is forged for every other. Expiry counts from <issued> in wall
 * clock seconds, which every balancer agrees on; a token issued up to
 * LIMPET_TOKEN_SKEW_S ahead of our clock is accepted (another balancer's
 * clock may run ahead). Keys live in a BPF array value of
 * LIMPET_COOKIE_KEYS slots, so a rotation keeps the old key valid until its
 * tokens expire.
 *
 * Pure code for BPF and userspace: constant loop bounds, no libc.
 */
#ifndef LIMPET_TOKEN_H
#define LIMPET_TOKEN_H

#include <linux/types.h>
#include "limpet_inline.h"
#include "limpet_siphash.h"

#define LIMPET_TOKEN_VERSION 1
#define LIMPET_TOKEN_BYTES 27
#define LIMPET_TOKEN_CHARS 36
#define LIMPET_TOKEN_MAC_OFF 19		/* the MAC covers bytes [0, 19) */
#define LIMPET_TOKEN_SKEW_S 300		/* issued this far in the future is still accepted */

/* A token's contents, host order. */
struct limpet_token_fields {
	__u64 session;
	__u32 backend_tag;
	__u32 issued;		/* unix seconds */
	__u8 version;
	__u8 key_id;
	__u8 flags;
	__u8 pad[5];
};

#define LIMPET_COOKIE_KEYS 4

struct limpet_cookie_key {
	__u64 k0, k1;		/* SipHash key, bytes 0-7 and 8-15 little-endian */
	__u8 id;		/* the key_id tokens made with it carry */
	__u8 valid;		/* 0: free slot, never matches */
	__u8 pad[6];
};

/* Every key a token may be checked against: one BPF array value. */
struct limpet_cookie_keys {
	struct limpet_cookie_key key[LIMPET_COOKIE_KEYS];
};

enum limpet_cookie_outcome {
	LIMPET_COOKIE_ABSENT = 0,	/* no cookie of ours in the request */
	LIMPET_COOKIE_VALID,
	LIMPET_COOKIE_MALFORMED,	/* not 36 base64url chars, or wrong version/flags */
	LIMPET_COOKIE_BAD_MAC,		/* unknown key id or the MAC differs */
	LIMPET_COOKIE_EXPIRED,		/* authentic but too old (or too far ahead) */
	LIMPET_COOKIE_UNKNOWN_BACKEND,	/* valid, backend not in the service (limpet_route) */
	LIMPET_COOKIE_OUTCOMES,
};

#ifndef __bpf__
static const char *const limpet_cookie_outcome_names[LIMPET_COOKIE_OUTCOMES] = {
	[LIMPET_COOKIE_ABSENT] = "absent",
	[LIMPET_COOKIE_VALID] = "valid",
	[LIMPET_COOKIE_MALFORMED] = "malformed",
	[LIMPET_COOKIE_BAD_MAC] = "bad_mac",
	[LIMPET_COOKIE_EXPIRED] = "expired",
	[LIMPET_COOKIE_UNKNOWN_BACKEND] = "unknown_backend",
};
#endif

_Static_assert(sizeof(struct limpet_token_fields) == 24, "limpet_token_fields layout");
_Static_assert(sizeof(struct limpet_cookie_key) == 24, "limpet_cookie_key layout");
_Static_assert(LIMPET_TOKEN_MAC_OFF + 4 <= LIMPET_SIPHASH_MAX_LEN, "MAC input too long");

LIMPET_INLINE void limpet_token_put_be(__u8 *b, __u64 v, __u32 n)
{
	__u32 i;

	for (i = 0; i < 8; i++) {
		if (i >= n)
			break;
		b[i] = (__u8)(v >> (8 * (n - 1 - i)));
	}
}

LIMPET_INLINE __u64 limpet_token_get_be(const __u8 *b, __u32 n)
{
	__u64 v = 0;
	__u32 i;

	for (i = 0; i < 8; i++) {
		if (i >= n)
			break;
		v = v << 8 | b[i];
	}
	return v;
}

LIMPET_INLINE char limpet_b64url_char(__u32 v)
{
	v &= 63;
	if (v < 26)
		return (char)('A' + v);
	if (v < 52)
		return (char)('a' + v - 26);
	if (v < 62)
		return (char)('0' + v - 52);
	return v == 62 ? '-' : '_';
}

/*
 * The six bits of a base64url character, -1 for anything else. Without
 * branches: each term is (x - lo) where lo < x < hi, else 0 (the sign of
 * (lo - x) & (x - hi)). Per-character branches would make the verifier walk
 * every combination of character classes of a 36-character token; as a
 * bonus the time taken does not depend on the token.
 */
LIMPET_INLINE __s32 limpet_b64url_value(__u8 c)
{
	__s32 x = c, v = -1;

	v += (((0x40 - x) & (x - 0x5b)) >> 8) & (x - 0x40);	/* A-Z: 1..26 */
	v += (((0x60 - x) & (x - 0x7b)) >> 8) & (x - 0x46);	/* a-z: 27..52 */
	v += (((0x2f - x) & (x - 0x3a)) >> 8) & (x + 0x05);	/* 0-9: 53..62 */
	v += (((0x2c - x) & (x - 0x2e)) >> 8) & 63;		/* '-' */
	v += (((0x5e - x) & (x - 0x60)) >> 8) & 64;		/* '_' */
	return v;
}

/* The 36 characters of the 27 token bytes <raw>. */
LIMPET_INLINE void limpet_token_to_chars(const __u8 *raw, char *out)
{
	__u32 g, acc;

	for (g = 0; g < LIMPET_TOKEN_BYTES / 3; g++) {
		acc = (__u32)raw[3 * g] << 16 | (__u32)raw[3 * g + 1] << 8 | raw[3 * g + 2];
		out[4 * g] = limpet_b64url_char(acc >> 18);
		out[4 * g + 1] = limpet_b64url_char(acc >> 12);
		out[4 * g + 2] = limpet_b64url_char(acc >> 6);
		out[4 * g + 3] = limpet_b64url_char(acc);
	}
}

/* The 27 bytes of 36 characters <in>; -1 if one is not base64url. */
LIMPET_INLINE int limpet_token_from_chars(const char *in, __u8 *raw)
{
	__u32 g, k, acc;
	__s32 v, bad = 0;

	for (g = 0; g < LIMPET_TOKEN_BYTES / 3; g++) {
		acc = 0;
		for (k = 0; k < 4; k++) {
			v = limpet_b64url_value((__u8)in[4 * g + k]);
			bad |= v;
			acc = acc << 6 | (__u32)(v & 63);
		}
		raw[3 * g] = (__u8)(acc >> 16);
		raw[3 * g + 1] = (__u8)(acc >> 8);
		raw[3 * g + 2] = (__u8)acc;
	}
	return bad < 0 ? -1 : 0;
}

/* The MAC of token bytes raw[0, 19). raw must have room for 23 bytes: the
 * service tag is written after them (over the stored MAC's first half).
 */
LIMPET_INLINE __u64 limpet_token_mac(const struct limpet_cookie_key *key, __u8 *raw,
				     __u32 service_tag)
{
	limpet_token_put_be(raw + LIMPET_TOKEN_MAC_OFF, service_tag, 4);
	return limpet_siphash24(key->k0, key->k1, raw, LIMPET_TOKEN_MAC_OFF + 4);
}

/* The token of <f> made with <key> for the service <service_tag>, as 36
 * characters (no NUL). The key id written is key->id (f->key_id is
 * ignored: the token names the key that made it); version and flags are
 * written as given, so set them with limpet_token_fields_init().
 */
LIMPET_INLINE void limpet_token_encode(const struct limpet_token_fields *f,
				       const struct limpet_cookie_key *key, __u32 service_tag,
				       char out[LIMPET_TOKEN_CHARS])
{
	__u8 raw[LIMPET_TOKEN_BYTES];

	raw[0] = f->version;
	raw[1] = key->id;
	raw[2] = f->flags;
	limpet_token_put_be(raw + 3, f->session, 8);
	limpet_token_put_be(raw + 11, f->backend_tag, 4);
	limpet_token_put_be(raw + 15, f->issued, 4);
	limpet_token_put_be(raw + LIMPET_TOKEN_MAC_OFF, limpet_token_mac(key, raw, service_tag), 8);
	limpet_token_to_chars(raw, out);
}

/* The fields of a new token: current version, no flags. */
LIMPET_INLINE void limpet_token_fields_init(struct limpet_token_fields *f, __u64 session,
					    __u32 backend_tag, __u32 issued)
{
	*f = (struct limpet_token_fields){
		.session = session,
		.backend_tag = backend_tag,
		.issued = issued,
		.version = LIMPET_TOKEN_VERSION,
	};
}

/*
 * Check the cookie value <value> (unquoted) of <len> characters against
 * <keys>, for the service <service_tag>, at wall clock <now_s>, with a
 * lifetime of <ttl_s>. MALFORMED unless 36 base64url characters with our
 * version and flags 0; BAD_MAC when no valid key has its key id or the MAC
 * differs; EXPIRED at issued + ttl_s and later, or when issued more than
 * LIMPET_TOKEN_SKEW_S ahead; else VALID with *out filled (partly filled
 * otherwise). Only an authentic token can be EXPIRED.
 */
LIMPET_INLINE enum limpet_cookie_outcome
limpet_token_check(const char *value, __u32 len, const struct limpet_cookie_keys *keys,
		   __u32 service_tag, __u64 now_s, __u32 ttl_s, struct limpet_token_fields *out)
{
	struct limpet_cookie_key key = { 0 };
	__u8 raw[LIMPET_TOKEN_BYTES];
	__u64 stored;
	__u32 i;

	if (len != LIMPET_TOKEN_CHARS || limpet_token_from_chars(value, raw))
		return LIMPET_COOKIE_MALFORMED;
	*out = (struct limpet_token_fields){
		.session = limpet_token_get_be(raw + 3, 8),
		.backend_tag = (__u32)limpet_token_get_be(raw + 11, 4),
		.issued = (__u32)limpet_token_get_be(raw + 15, 4),
		.version = raw[0],
		.key_id = raw[1],
		.flags = raw[2],
	};
	if (out->version != LIMPET_TOKEN_VERSION || out->flags)
		return LIMPET_COOKIE_MALFORMED;

	/* A copy, not a pointer: BPF then has one path through the MAC. */
	for (i = 0; i < LIMPET_COOKIE_KEYS; i++) {
		if (keys->key[i].valid && keys->key[i].id == out->key_id) {
			key = keys->key[i];
			break;
		}
	}
	if (!key.valid)
		return LIMPET_COOKIE_BAD_MAC;
	stored = limpet_token_get_be(raw + LIMPET_TOKEN_MAC_OFF, 8);
	/* One comparison of the whole word: no early exit on a matching prefix. */
	if (limpet_token_mac(&key, raw, service_tag) ^ stored)
		return LIMPET_COOKIE_BAD_MAC;

	if ((__u64)out->issued + ttl_s <= now_s ||
	    (__u64)out->issued > now_s + LIMPET_TOKEN_SKEW_S)
		return LIMPET_COOKIE_EXPIRED;
	return LIMPET_COOKIE_VALID;
}

#endif /* LIMPET_TOKEN_H */
