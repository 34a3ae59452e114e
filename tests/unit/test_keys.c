// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_keys.c - the cookie key file: created 0600 when missing, rotation
 * keeps the previous key for the cookie TTL and then drops it, a broken
 * file is refused with its line named and left as it was, and a token
 * signed before a rotation still verifies after it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "base/files.h"
#include "http/keyring.h"
#include "base/log.h"

static char dir[64], path[96];

static void setup(void)
{
	log_set_level(LOG_LEVEL_WARN);
	snprintf(dir, sizeof(dir), "/tmp/limpet-keys.XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/secret", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(keys, .init = setup, .fini = teardown);

static void write_file(const char *text)
{
	FILE *f;

	cr_assert_eq(files_mkdir_parents(path, 0700), 0);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(keys, created_0600_with_one_key)
{
	struct keyring kr, again;
	struct stat st;
	char err[256];

	cr_assert_eq(keys_load(path, &kr, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(path, &st), 0);
	cr_expect_eq(st.st_mode & 0777, 0600);
	cr_expect_eq(kr.n, 1);
	cr_expect_eq(keys_current(&kr)->id, 1);
	cr_expect(kr.key[0].k0 || kr.key[0].k1);
	/* Read back: the same key. */
	cr_assert_eq(keys_load(path, &again, err, sizeof(err)), 0);
	cr_expect_eq(again.n, 1);
	cr_expect_eq(again.key[0].k0, kr.key[0].k0);
	cr_expect_eq(again.key[0].k1, kr.key[0].k1);
}

Test(keys, rotation_keeps_the_previous_key_for_the_ttl)
{
	struct limpet_cookie_keys v;
	struct keyring kr;
	char err[256];
	__u64 t0;

	cr_assert_eq(keys_load(path, &kr, err, sizeof(err)), 0);
	t0 = kr.key[0].created_s;
	cr_assert_eq(keys_rotate(path, &kr, t0 + 100, 3600, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(kr.n, 2);
	cr_expect_eq(keys_current(&kr)->id, 2);
	keys_for_verify(&kr, t0 + 100 + 3599, 3600, &v);
	cr_expect(v.key[0].valid && v.key[0].id == 2, "current first");
	cr_expect(v.key[1].valid && v.key[1].id == 1, "previous still valid");
	keys_for_verify(&kr, t0 + 100 + 3600, 3600, &v);
	cr_expect(v.key[0].valid && v.key[0].id == 2);
	cr_expect_not(v.key[1].valid, "previous gone at the TTL");
	/* The next rotation drops it from the file too. */
	cr_assert_eq(keys_rotate(path, &kr, t0 + 100 + 3600, 3600, err, sizeof(err)), 0);
	cr_expect_eq(kr.n, 2);
	cr_expect_eq(kr.key[0].id, 2);
	cr_expect_eq(kr.key[1].id, 3);
}

Test(keys, token_signed_before_rotation_verifies_after)
{
	struct limpet_token_fields f, out;
	struct limpet_cookie_key k = { 0 };
	struct limpet_cookie_keys v;
	struct keyring kr;
	char err[256], tok[LIMPET_TOKEN_CHARS];
	__u64 now;

	cr_assert_eq(keys_load(path, &kr, err, sizeof(err)), 0);
	now = kr.key[0].created_s + 10;
	k.k0 = kr.key[0].k0;
	k.k1 = kr.key[0].k1;
	k.id = kr.key[0].id;
	k.valid = 1;
	limpet_token_fields_init(&f, 0xabcdef, 77, (__u32)now);
	limpet_token_encode(&f, &k, 5, tok);
	cr_assert_eq(keys_rotate(path, &kr, now + 5, 3600, err, sizeof(err)), 0);
	keys_for_verify(&kr, now + 6, 3600, &v);
	cr_expect_eq(limpet_token_check(tok, sizeof(tok), &v, 5, now + 6, 3600, &out),
		     LIMPET_COOKIE_VALID);
	cr_expect_eq(out.session, 0xabcdef);
	keys_for_verify(&kr, now + 5 + 3600, 3600, &v);
	cr_expect_eq(limpet_token_check(tok, sizeof(tok), &v, 5, now + 5 + 3600, 7200, &out),
		     LIMPET_COOKIE_BAD_MAC, "its key is gone");
}

Test(keys, broken_file_refused_and_kept)
{
	static const char text[] = "# comment\n1 1700000000 00112233445566778899aabbccddeeff\n"
				   "2 1700000100 0011zz\n";
	struct keyring kr = { .n = 7 };
	char err[256], back[sizeof(text)];
	FILE *f;

	write_file(text);
	cr_expect_eq(keys_load(path, &kr, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, ":3:") != NULL, "names line 3: %s", err);
	cr_expect_eq(kr.n, 7, "untouched");
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_expect_eq(fread(back, 1, sizeof(back), f), sizeof(text) - 1);
	fclose(f);
	cr_expect(!memcmp(back, text, sizeof(text) - 1), "the file is left as it was");

	write_file("# nothing\n");
	cr_expect_eq(keys_load(path, &kr, err, sizeof(err)), -EINVAL);
	cr_expect(strstr(err, "no key") != NULL, "%s", err);
	write_file("0 1 00112233445566778899aabbccddeeff\n");
	cr_expect_eq(keys_load(path, &kr, err, sizeof(err)), -EINVAL, "id 0 is no key id");
}

Test(keys, last_line_is_current)
{
	struct keyring kr;
	char err[256];

	write_file("7 1700000000 00000000000000000000000000000001\n"
		   "9 1700000100 0000000000000002000000000000000f\n");
	cr_assert_eq(keys_load(path, &kr, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(kr.n, 2);
	cr_expect_eq(keys_current(&kr)->id, 9);
	cr_expect_eq(keys_current(&kr)->k0, 2);
	cr_expect_eq(keys_current(&kr)->k1, 15);
	cr_expect(keys_valid(&kr, 0, 1700000100 + 10, 60));
	cr_expect_not(keys_valid(&kr, 0, 1700000100 + 60, 60));
}
