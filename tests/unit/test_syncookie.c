// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test_syncookie.c - limpet's own SYN cookie (include/limpet_syncookie.h),
 * the one a client without timestamps gets: every option it can keep comes
 * back, for two counter steps and no longer, and only for the connection
 * and the client ISN it was made for.
 */
#include <string.h>
#include <arpa/inet.h>
#include <criterion/criterion.h>

#include "limpet_syncookie.h"

static const struct limpet_syncookie_key KEY = { 0x0123456789abcdefull, 0xfedcba9876543210ull };

struct conn {
	__be32 src[4], dst[4];
	__be16 sport, dport;
};

static struct conn conn4(void)
{
	struct conn c = { .sport = htons(40000), .dport = htons(80) };

	inet_pton(AF_INET, "10.10.0.2", &c.src[0]);
	inet_pton(AF_INET, "10.100.1.100", &c.dst[0]);
	return c;
}

static struct conn conn6(void)
{
	struct conn c = { .sport = htons(40000), .dport = htons(80) };

	inet_pton(AF_INET6, "fd00:10::2", c.src);
	inet_pton(AF_INET6, "fd00:100::1:100", c.dst);
	return c;
}

/* The node making and checking cookies: a lone one unless a test sets it. */
static struct limpet_ts_tag node;

static __u32 make(const struct conn *c, __u32 isn, __u32 count,
		  const struct limpet_syncookie_opts *o)
{
	return limpet_syncookie_make(&KEY, c->src, c->dst, c->sport, c->dport, isn, count, o,
				     node);
}

static int check(const struct conn *c, __u32 isn, __u32 cookie, __u32 now,
		 struct limpet_syncookie_opts *o)
{
	return limpet_syncookie_check(&KEY, c->src, c->dst, c->sport, c->dport, isn, cookie, now,
				      o, node);
}

Test(syncookie, every_option_comes_back)
{
	const struct conn cs[2] = { conn4(), conn6() };
	struct limpet_syncookie_opts o, back;
	int n = 0, k;

	for (k = 0; k < 2; k++)
		for (o.mss_index = 0; o.mss_index < 4; o.mss_index++)
			for (o.wscale = 0; o.wscale <= LIMPET_TCP_MAX_WSCALE + 1; o.wscale++)
				for (o.sack_ok = 0; o.sack_ok < 2; o.sack_ok++) {
					__u8 ws = o.wscale > LIMPET_TCP_MAX_WSCALE ?
							  LIMPET_WSCALE_NONE : o.wscale;
					struct limpet_syncookie_opts in = o;
					__u32 isn = 0x01020304u * (n + 1), cookie;

					in.wscale = ws;
					cookie = make(&cs[k], isn, 1000 + n, &in);
					cr_assert_eq(check(&cs[k], isn, cookie, 1000 + n, &back), 0);
					cr_expect(back.mss_index == in.mss_index &&
						  back.wscale == ws && back.sack_ok == in.sack_ok,
						  "mss %u ws %u sack %u back as %u %u %u", in.mss_index,
						  ws, in.sack_ok, back.mss_index, back.wscale,
						  back.sack_ok);
					n++;
				}
	cr_expect_eq(n, 2 * 4 * 16 * 2);
}

Test(syncookie, good_for_two_counter_steps)
{
	struct limpet_syncookie_opts o = { 3, 7, 1 }, back;
	struct conn c = conn4();
	__u32 count, cookie;

	/* Across the counter's wrap of its two low bits too. */
	for (count = 4000; count < 4008; count++) {
		cookie = make(&c, 77, count, &o);
		cr_expect_eq(check(&c, 77, cookie, count, &back), 0, "at once");
		cr_expect_eq(check(&c, 77, cookie, count + 1, &back), 0, "one step later");
		cr_expect_eq(check(&c, 77, cookie, count + 2, &back), 0, "two steps later");
		cr_expect_neq(check(&c, 77, cookie, count + 3, &back), 0, "three steps later");
		cr_expect_neq(check(&c, 77, cookie, count + 4, &back), 0, "four (the wrap)");
		cr_expect_neq(check(&c, 77, cookie, count - 1, &back), 0, "from the future");
	}
}

Test(syncookie, only_for_its_connection)
{
	struct limpet_syncookie_opts o = { 1, 2, 0 }, back;
	struct conn c = conn6(), other;
	__u32 cookie = make(&c, 5000, 9, &o);

	/* As the kernel's: a neighbour of a valid cookie (+-1) decodes to other
	 * options; one further off is no cookie.
	 */
	cr_expect_neq(check(&c, 5000 + 200, cookie, 9, &back), 0, "another client ISN");
	cr_expect_neq(check(&c, 5000, cookie + 200, 9, &back), 0, "another ISN");
	other = c;
	other.sport = htons(40001);
	cr_expect_neq(check(&other, 5000, cookie, 9, &back), 0, "another port");
	other = c;
	other.src[3] ^= htonl(1);
	cr_expect_neq(check(&other, 5000, cookie, 9, &back), 0, "another client");
	other = c;
	other.dst[0] ^= htonl(0x100);
	cr_expect_neq(check(&other, 5000, cookie, 9, &back), 0, "another VIP");
}

/* Forged ACKs: about 2^-23 of them pass; none of a fixed million here. */
Test(syncookie, forged_acks_fail)
{
	struct limpet_syncookie_opts back;
	struct conn c = conn4();
	__u64 x = 0x9e3779b97f4a7c15ull;
	int i, passed = 0;

	for (i = 0; i < 1000000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		passed += !check(&c, (__u32)(x >> 32), (__u32)x, 12345, &back);
	}
	cr_expect_eq(passed, 0, "%d forged cookies passed", passed);
}

/*
 * On a cluster the top bits of the cookie name the node (the bit below
 * them 0, room for a gigabyte of acks with two nodes); what it keeps comes
 * back as on a lone node, and no other node takes it.
 */
Test(syncookie, names_its_node_in_a_cluster)
{
	struct limpet_syncookie_opts o = { 2, 9, 1 }, back;
	const struct conn cs[2] = { conn4(), conn6() };
	__u32 bits, id, k, count, cookie;

	for (bits = 1; bits <= LIMPET_TS_TAG_MAX_BITS; bits++) {
		for (id = 0; id < (1u << bits); id += 1 + id / 3) {
			for (k = 0; k < 2; k++) {
				for (count = 70; count < 76; count++) {
					node.bits = (__u8)bits;
					node.id = (__u8)id;
					cookie = make(&cs[k], 0xfffff000u + count, count, &o);
					cr_assert_eq(cookie >> (32 - bits), id, "bits %u id %u: %08x",
						     bits, id, cookie);
					cr_assert_eq(cookie >> (31 - bits) & 1, 0);
					cr_assert_eq(limpet_isn_node(cookie + (1u << (31 - bits)),
								     node),
						     id, "acks 2^(31 - bits) - 1 bytes on name it");
					memset(&back, 0, sizeof(back));
					cr_assert_eq(check(&cs[k], 0xfffff000u + count, cookie,
							   count + 2, &back), 0,
						     "bits %u id %u count %u", bits, id, count);
					cr_expect(back.mss_index == 2 && back.wscale == 9 &&
						  back.sack_ok == 1);
					cr_expect_neq(check(&cs[k], 0xfffff000u + count, cookie,
							    count + 3, &back), 0, "too old");
					node.id = (__u8)(id ^ 1);
					cr_expect_neq(check(&cs[k], 0xfffff000u + count, cookie,
							    count, &back), 0, "another node's");
				}
			}
		}
	}
	node = (struct limpet_ts_tag){ 0 };
}

/* Two nodes: about 2^-21.4 of forged ACKs pass; none of 200,000 here. */
Test(syncookie, forged_acks_fail_in_a_cluster)
{
	struct limpet_syncookie_opts back;
	struct conn c = conn6();
	__u64 x = 0x2545f4914f6cdd1dull;
	int i, passed = 0;

	node = (struct limpet_ts_tag){ .bits = 1, .id = 1 };
	for (i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Aimed at this node: its id on top, the bit below clear. */
		passed += !check(&c, (__u32)(x >> 32), 0x80000000u | ((__u32)x & 0x3fffffffu),
				 12345, &back);
	}
	node = (struct limpet_ts_tag){ 0 };
	cr_expect_eq(passed, 0, "%d forged cookies passed", passed);
}
