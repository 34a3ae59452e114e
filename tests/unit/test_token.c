/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_token.c - Criterion tests of include/limpet_siphash.h and
 * include/limpet_token.h: SipHash-2-4 against the reference vectors, the
 * token codec, and every way limpet_token_check() refuses a cookie
 * (malformed, forged, expired, from a key rotated out, for another
 * service).
 */
#include <string.h>

#include <criterion/criterion.h>

#include "limpet_siphash.h"
#include "limpet_token.h"

/* SipHash-2-4 of 00 01 02 ... (len - 1) under the key 00 01 ... 0f: the
 * reference implementation's vectors_sip64, read as little-endian words.
 */
static const __u64 sip_vectors[LIMPET_SIPHASH_MAX_LEN + 1] = {
	0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull,
	0xcf2794e0277187b7ull, 0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull,
	0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
	0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull,
	0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull, 0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull,
	0xbed65cf21aa2ee98ull, 0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
	0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull, 0x2f2e6163076bcfadull,
	0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull, 0xad87a3535c49ef28ull, 0x32d892fad841c342ull,
	0x7127512f72f27cceull,
};

#define SIP_K0 0x0706050403020100ull	/* key bytes 00..07, little-endian */
#define SIP_K1 0x0f0e0d0c0b0a0908ull

#define TAG 0x5eb1ce01u
#define NOW 1700000000u
#define TTL (23 * 3600u)

static const struct limpet_cookie_key key_a = {
	.k0 = 0x0123456789abcdefull, .k1 = 0xfedcba9876543210ull, .id = 7, .valid = 1,
};
static const struct limpet_cookie_key key_b = {
	.k0 = 0x1111111111111111ull, .k1 = 0x2222222222222222ull, .id = 8, .valid = 1,
};

static struct limpet_cookie_keys keys_of(const struct limpet_cookie_key *a,
					 const struct limpet_cookie_key *b)
{
	struct limpet_cookie_keys k;

	memset(&k, 0, sizeof(k));
	if (a)
		k.key[0] = *a;
	if (b)
		k.key[2] = *b;
	return k;
}

static struct limpet_token_fields fields_at(__u32 issued)
{
	struct limpet_token_fields f;

	limpet_token_fields_init(&f, 0x8badf00ddeadbeefull, 0x00c0ffee, issued);
	return f;
}

static enum limpet_cookie_outcome check(const char *v, __u32 len,
					const struct limpet_cookie_keys *k, __u32 tag, __u64 now,
					struct limpet_token_fields *out)
{
	struct limpet_token_fields scratch;

	return limpet_token_check(v, len, k, tag, now, TTL, out ? out : &scratch);
}

static int is_b64url(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* ---- SipHash ---- */

Test(siphash, reference_vectors)
{
	__u8 msg[LIMPET_SIPHASH_MAX_LEN];
	__u32 len;

	for (len = 0; len < sizeof(msg); len++)
		msg[len] = (__u8)len;
	for (len = 0; len <= LIMPET_SIPHASH_MAX_LEN; len++)
		cr_expect_eq(limpet_siphash24(SIP_K0, SIP_K1, msg, len), sip_vectors[len],
			     "length %u: %#llx", len,
			     (unsigned long long)limpet_siphash24(SIP_K0, SIP_K1, msg, len));
}

Test(siphash, length_is_capped)
{
	__u8 msg[64];
	__u32 i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (__u8)i;
	cr_expect_eq(limpet_siphash24(SIP_K0, SIP_K1, msg, 64), sip_vectors[32]);
}

/* ---- codec ---- */

Test(token, base64url_alphabet)
{
	__u32 v;

	for (v = 0; v < 64; v++)
		cr_expect_eq(limpet_b64url_value((__u8)limpet_b64url_char(v)), (__s32)v);
	for (v = 0; v < 256; v++) {
		if (!is_b64url((char)v))
			cr_expect_eq(limpet_b64url_value((__u8)v), -1, "char %#x", v);
	}
}

Test(token, round_trip)
{
	struct limpet_token_fields f = fields_at(NOW - 10), got;
	struct limpet_cookie_keys k = keys_of(&key_a, &key_b);
	char tok[LIMPET_TOKEN_CHARS];
	int i;

	limpet_token_encode(&f, &key_b, TAG, tok);
	for (i = 0; i < LIMPET_TOKEN_CHARS; i++)
		cr_assert(is_b64url(tok[i]), "char %d: %c", i, tok[i]);
	cr_assert_eq(check(tok, sizeof(tok), &k, TAG, NOW, &got), LIMPET_COOKIE_VALID);
	cr_expect_eq(got.session, f.session);
	cr_expect_eq(got.backend_tag, f.backend_tag);
	cr_expect_eq(got.issued, f.issued);
	cr_expect_eq(got.version, LIMPET_TOKEN_VERSION);
	cr_expect_eq(got.key_id, key_b.id);
	cr_expect_eq(got.flags, 0);
}

Test(token, wire_layout)
{
	struct limpet_token_fields f = fields_at(0x01020304);
	__u8 raw[LIMPET_TOKEN_BYTES], want[LIMPET_TOKEN_BYTES + 4] = {
		1, 7, 0, 0x8b, 0xad, 0xf0, 0x0d, 0xde, 0xad, 0xbe, 0xef,
		0x00, 0xc0, 0xff, 0xee, 0x01, 0x02, 0x03, 0x04,
		(__u8)(TAG >> 24), (__u8)(TAG >> 16), (__u8)(TAG >> 8), (__u8)TAG,
	};
	char tok[LIMPET_TOKEN_CHARS];
	__u64 mac;
	int i;

	limpet_token_encode(&f, &key_a, TAG, tok);
	cr_assert_eq(limpet_token_from_chars(tok, raw), 0);
	cr_expect_eq(memcmp(raw, want, LIMPET_TOKEN_MAC_OFF), 0);
	mac = limpet_siphash24(key_a.k0, key_a.k1, want, LIMPET_TOKEN_MAC_OFF + 4);
	for (i = 0; i < 8; i++)
		cr_expect_eq(raw[LIMPET_TOKEN_MAC_OFF + i], (__u8)(mac >> (56 - 8 * i)));
}

/* ---- malformed ---- */

Test(token, wrong_length)
{
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS + 1];

	limpet_token_encode(&f, &key_a, TAG, tok);
	tok[LIMPET_TOKEN_CHARS] = 'A';
	cr_expect_eq(check(tok, 35, &k, TAG, NOW, NULL), LIMPET_COOKIE_MALFORMED);
	cr_expect_eq(check(tok, 37, &k, TAG, NOW, NULL), LIMPET_COOKIE_MALFORMED);
	cr_expect_eq(check(tok, 0, &k, TAG, NOW, NULL), LIMPET_COOKIE_MALFORMED);
	cr_expect_eq(check(tok, 36, &k, TAG, NOW, NULL), LIMPET_COOKIE_VALID);
}

Test(token, bad_characters)
{
	static const char bad[] = { '+', '/', '=', '.', ' ', '"', '\0', '\x80', '\xff' };
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS], t[LIMPET_TOKEN_CHARS];
	size_t b;
	int pos;

	limpet_token_encode(&f, &key_a, TAG, tok);
	for (b = 0; b < sizeof(bad); b++) {
		for (pos = 0; pos < LIMPET_TOKEN_CHARS; pos++) {
			memcpy(t, tok, sizeof(t));
			t[pos] = bad[b];
			cr_expect_eq(check(t, sizeof(t), &k, TAG, NOW, NULL),
				     LIMPET_COOKIE_MALFORMED, "%#x at %d", (__u8)bad[b], pos);
		}
	}
}

Test(token, padded_standard_base64)
{
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS + 1];

	/* "==" padding on a 35-char prefix, as a careless encoder might send it. */
	limpet_token_encode(&f, &key_a, TAG, tok);
	tok[34] = '=';
	tok[35] = '=';
	cr_expect_eq(check(tok, 36, &k, TAG, NOW, NULL), LIMPET_COOKIE_MALFORMED);
}

/* A token with a valid MAC over bytes the codec would never write. */
static void encode_raw(__u8 *raw, const struct limpet_cookie_key *key, char *out)
{
	__u64 mac = limpet_token_mac(key, raw, TAG);

	limpet_token_put_be(raw + LIMPET_TOKEN_MAC_OFF, mac, 8);
	limpet_token_to_chars(raw, out);
}

Test(token, wrong_version_or_flags)
{
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS];
	__u8 raw[LIMPET_TOKEN_BYTES];
	int v;

	for (v = 0; v < 256; v++) {
		if (v == LIMPET_TOKEN_VERSION)
			continue;
		f.version = (__u8)v;
		limpet_token_encode(&f, &key_a, TAG, tok);
		cr_expect_eq(check(tok, sizeof(tok), &k, TAG, NOW, NULL), LIMPET_COOKIE_MALFORMED,
			     "version %d", v);
	}
	f = fields_at(NOW);
	for (v = 1; v < 256; v++) {
		f.flags = (__u8)v;
		limpet_token_encode(&f, &key_a, TAG, tok);
		cr_expect_eq(check(tok, sizeof(tok), &k, TAG, NOW, NULL), LIMPET_COOKIE_MALFORMED,
			     "flags %d", v);
	}
	/* The same through raw bytes with a correct MAC. */
	f = fields_at(NOW);
	limpet_token_encode(&f, &key_a, TAG, tok);
	cr_assert_eq(limpet_token_from_chars(tok, raw), 0);
	raw[2] = 0x80;
	encode_raw(raw, &key_a, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, NOW, NULL), LIMPET_COOKIE_MALFORMED);
}

/* ---- forgery ---- */

Test(token, every_bit_flip_is_refused)
{
	struct limpet_token_fields f = fields_at(NOW - 100);
	struct limpet_cookie_keys k = keys_of(&key_a, &key_b);
	char tok[LIMPET_TOKEN_CHARS], t[LIMPET_TOKEN_CHARS];
	__u8 raw[LIMPET_TOKEN_BYTES], r[LIMPET_TOKEN_BYTES];
	enum limpet_cookie_outcome o;
	int bit;

	limpet_token_encode(&f, &key_a, TAG, tok);
	cr_assert_eq(limpet_token_from_chars(tok, raw), 0);
	for (bit = 0; bit < LIMPET_TOKEN_BYTES * 8; bit++) {
		memcpy(r, raw, sizeof(r));
		r[bit / 8] ^= (__u8)(1u << (bit % 8));
		limpet_token_to_chars(r, t);
		o = check(t, sizeof(t), &k, TAG, NOW, NULL);
		cr_expect_neq(o, LIMPET_COOKIE_VALID, "bit %d", bit);
		/* Outside version and flags, a flip is a forgery. */
		if (bit / 8 != 0 && bit / 8 != 2)
			cr_expect_eq(o, LIMPET_COOKIE_BAD_MAC, "bit %d: %s", bit,
				     limpet_cookie_outcome_names[o]);
	}
}

Test(token, every_char_change_is_refused)
{
	struct limpet_token_fields f = fields_at(NOW - 100);
	struct limpet_cookie_keys k = keys_of(&key_a, &key_b);
	char tok[LIMPET_TOKEN_CHARS], t[LIMPET_TOKEN_CHARS];
	int pos;
	__u32 v;

	limpet_token_encode(&f, &key_b, TAG, tok);
	for (pos = 0; pos < LIMPET_TOKEN_CHARS; pos++) {
		for (v = 0; v < 64; v++) {
			memcpy(t, tok, sizeof(t));
			t[pos] = limpet_b64url_char(v);
			if (t[pos] == tok[pos])
				continue;
			cr_expect_neq(check(t, sizeof(t), &k, TAG, NOW, NULL), LIMPET_COOKIE_VALID,
				      "%c at %d", t[pos], pos);
		}
	}
}

Test(token, unknown_key_id)
{
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS];

	limpet_token_encode(&f, &key_b, TAG, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, NOW, NULL), LIMPET_COOKIE_BAD_MAC);
}

Test(token, same_id_other_secret)
{
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_key impostor = key_b;
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS];

	impostor.id = key_a.id;
	limpet_token_encode(&f, &impostor, TAG, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, NOW, NULL), LIMPET_COOKIE_BAD_MAC);
}

Test(token, other_service)
{
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS];

	limpet_token_encode(&f, &key_a, TAG, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG + 1, NOW, NULL), LIMPET_COOKIE_BAD_MAC);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, NOW, NULL), LIMPET_COOKIE_VALID);
}

/* ---- time ---- */

Test(token, expiry_boundary)
{
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS];

	limpet_token_encode(&f, &key_a, TAG, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, (__u64)NOW + TTL - 1, NULL),
		     LIMPET_COOKIE_VALID);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, (__u64)NOW + TTL, NULL),
		     LIMPET_COOKIE_EXPIRED);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, (__u64)NOW + TTL + 86400, NULL),
		     LIMPET_COOKIE_EXPIRED);
}

Test(token, future_skew)
{
	struct limpet_token_fields f = fields_at(NOW + LIMPET_TOKEN_SKEW_S);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS];

	limpet_token_encode(&f, &key_a, TAG, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, NOW, NULL), LIMPET_COOKIE_VALID);
	f = fields_at(NOW + LIMPET_TOKEN_SKEW_S + 1);
	limpet_token_encode(&f, &key_a, TAG, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, NOW, NULL), LIMPET_COOKIE_EXPIRED);
}

Test(token, no_wrap_near_2106)
{
	struct limpet_token_fields f = fields_at(0xffffff00u);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS];

	/* issued + ttl passes 2^32: computed in 64 bits, not wrapped. */
	limpet_token_encode(&f, &key_a, TAG, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, 0xffffff10u, NULL), LIMPET_COOKIE_VALID);
}

Test(token, forged_and_expired_is_bad_mac)
{
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char tok[LIMPET_TOKEN_CHARS];

	limpet_token_encode(&f, &key_a, TAG, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG + 1, (__u64)NOW + 10 * TTL, NULL),
		     LIMPET_COOKIE_BAD_MAC);
}

/* ---- rotation ---- */

Test(token, key_rotation)
{
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k = keys_of(&key_a, NULL);
	char old_tok[LIMPET_TOKEN_CHARS], new_tok[LIMPET_TOKEN_CHARS];

	limpet_token_encode(&f, &key_a, TAG, old_tok);
	/* Rotate: the new key takes another slot, the old one stays valid. */
	k.key[1] = key_b;
	limpet_token_encode(&f, &key_b, TAG, new_tok);
	cr_expect_eq(check(old_tok, sizeof(old_tok), &k, TAG, NOW + 60, NULL), LIMPET_COOKIE_VALID);
	cr_expect_eq(check(new_tok, sizeof(new_tok), &k, TAG, NOW + 60, NULL), LIMPET_COOKIE_VALID);
	/* The old slot cleared (or marked invalid): its tokens are refused. */
	k.key[0].valid = 0;
	cr_expect_eq(check(old_tok, sizeof(old_tok), &k, TAG, NOW + 60, NULL),
		     LIMPET_COOKIE_BAD_MAC);
	memset(&k.key[0], 0, sizeof(k.key[0]));
	cr_expect_eq(check(old_tok, sizeof(old_tok), &k, TAG, NOW + 60, NULL),
		     LIMPET_COOKIE_BAD_MAC);
	cr_expect_eq(check(new_tok, sizeof(new_tok), &k, TAG, NOW + 60, NULL), LIMPET_COOKIE_VALID);
}

Test(token, key_id_zero_in_a_cleared_slot_never_matches)
{
	struct limpet_cookie_key zero_id = key_a;
	struct limpet_token_fields f = fields_at(NOW);
	struct limpet_cookie_keys k;
	char tok[LIMPET_TOKEN_CHARS];

	/* A zeroed slot has id 0 and key 0: a token made with key 0 must not pass. */
	memset(&k, 0, sizeof(k));
	memset(&zero_id, 0, sizeof(zero_id));
	zero_id.valid = 1;
	limpet_token_encode(&f, &zero_id, TAG, tok);
	cr_expect_eq(check(tok, sizeof(tok), &k, TAG, NOW, NULL), LIMPET_COOKIE_BAD_MAC);
}

Test(token, outcome_names)
{
	cr_expect_str_eq(limpet_cookie_outcome_names[LIMPET_COOKIE_ABSENT], "absent");
	cr_expect_str_eq(limpet_cookie_outcome_names[LIMPET_COOKIE_VALID], "valid");
	cr_expect_str_eq(limpet_cookie_outcome_names[LIMPET_COOKIE_MALFORMED], "malformed");
	cr_expect_str_eq(limpet_cookie_outcome_names[LIMPET_COOKIE_BAD_MAC], "bad_mac");
	cr_expect_str_eq(limpet_cookie_outcome_names[LIMPET_COOKIE_EXPIRED], "expired");
	cr_expect_str_eq(limpet_cookie_outcome_names[LIMPET_COOKIE_UNKNOWN_BACKEND],
			 "unknown_backend");
}
