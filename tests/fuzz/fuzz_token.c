// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * fuzz_token.c - libFuzzer target of the cookie token codec and verifier
 * (include/limpet_token.h).
 *
 * Arbitrary 36-character values (token_input.h): the outcome is one the
 * check can give, a value that decodes re-encodes to the same characters
 * (one spelling per token), and VALID only for a value that re-encodes
 * from its fields with the key it names. Tokens made here: the check gives
 * back the fields, VALID or EXPIRED exactly as the clock says, and with one
 * character changed, or checked for another service, never VALID.
 */
#include <string.h>

#include "fuzz.h"
#include "head_input.h"
#include "limpet_token.h"
#include "token_input.h"

static enum limpet_cookie_outcome expiry(__u32 issued)
{
	if ((__u64)issued + HEAD_TTL <= HEAD_NOW || (__u64)issued > HEAD_NOW + LIMPET_TOKEN_SKEW_S)
		return LIMPET_COOKIE_EXPIRED;
	return LIMPET_COOKIE_VALID;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct limpet_cookie_keys keys;
	struct limpet_token_fields f;
	struct token_input t;
	enum limpet_cookie_outcome r;
	__u8 raw[LIMPET_TOKEN_BYTES];
	char again[LIMPET_TOKEN_CHARS];
	__u32 i;

	head_keys(&keys);
	token_input_read(data, size, &keys, &t);
	memset(&f, 0xa5, sizeof(f));
	r = limpet_token_check(t.chars, t.len, &keys, HEAD_TAG, HEAD_NOW, HEAD_TTL, &f);
	FUZZ_CHECK(r >= LIMPET_COOKIE_VALID && r <= LIMPET_COOKIE_EXPIRED, "outcome %d", r);
	if (t.len != LIMPET_TOKEN_CHARS)
		FUZZ_CHECK(r == LIMPET_COOKIE_MALFORMED, "length %u gave %d", t.len, r);

	/* Canonical: what decodes re-encodes to the same characters. */
	if (!limpet_token_from_chars(t.chars, raw)) {
		limpet_token_to_chars(raw, again);
		FUZZ_CHECK(!memcmp(again, t.chars, sizeof(again)), "two spellings of one token");
	} else if (t.len == LIMPET_TOKEN_CHARS) {
		FUZZ_CHECK(r == LIMPET_COOKIE_MALFORMED, "undecodable value gave %d", r);
	}
	for (i = 0; i < LIMPET_TOKEN_CHARS; i++)
		if (limpet_b64url_value((__u8)t.chars[i]) >= 0)
			FUZZ_CHECK(limpet_b64url_char((__u32)limpet_b64url_value(
					   (__u8)t.chars[i])) == t.chars[i],
				   "base64url %#x does not round trip", (__u8)t.chars[i]);

	if (r == LIMPET_COOKIE_VALID || r == LIMPET_COOKIE_EXPIRED) {
		const struct limpet_cookie_key *k = NULL;

		for (i = 0; i < LIMPET_COOKIE_KEYS; i++)
			if (keys.key[i].valid && keys.key[i].id == f.key_id)
				k = &keys.key[i];
		FUZZ_CHECK(k, "authentic with an unknown key id %u", f.key_id);
		limpet_token_encode(&f, k, HEAD_TAG, again);
		FUZZ_CHECK(!memcmp(again, t.chars, sizeof(again)), "authentic but re-encodes otherwise");
		FUZZ_CHECK(r == expiry(f.issued), "outcome %d, issued %u", r, f.issued);
		/* The service is in the MAC: another one's check fails. */
		FUZZ_CHECK(limpet_token_check(t.chars, t.len, &keys, HEAD_TAG ^ 1, HEAD_NOW, HEAD_TTL,
					      &f) == LIMPET_COOKIE_BAD_MAC,
			   "verifies for another service");
	}

	if (!t.built)
		return 0;
	if (t.flipped) {
		FUZZ_CHECK(r != LIMPET_COOKIE_VALID && r != LIMPET_COOKIE_EXPIRED,
			   "changed at %u and still authentic (%d)", t.flip_pos, r);
		return 0;
	}
	FUZZ_CHECK(r == expiry(t.fields.issued), "made token gave %d", r);
	FUZZ_CHECK(f.session == t.fields.session && f.backend_tag == t.fields.backend_tag &&
			   f.issued == t.fields.issued && f.key_id == t.key->id &&
			   f.version == LIMPET_TOKEN_VERSION && !f.flags,
		   "fields do not round trip");
	return 0;
}
