/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * test_csum.c - Criterion tests of the incremental checksum helpers of
 * include/limpet_csum.h.
 *
 * Random frames are built with tests/packet/pkt.h (checksums from scratch);
 * nat() then rewrites an address, a port and the TTL in place with the
 * helpers, in the same sequence as the data plane's nat_rewrite() and
 * ttl_decrement(), on the raw network-order words. The result must equal,
 * byte for byte, the frame built from scratch with the new values: the
 * incremental update is exact, not merely "valid" (RFC 1624, eqn. 3, never
 * yields the other zero when the input checksum was computed normally).
 * UDP: a checksum of 0 means "none" (IPv4) and stays 0; a computed zero is
 * sent as 0xffff (RFC 768).
 */
#include <string.h>

#include <criterion/criterion.h>

#include "limpet_csum.h"
#include "packet/pkt.h"

#define CASES 250	/* per family and protocol: 1000 in all */

static __u64 rng_state;

static __u32 rnd(void)
{
	return pkt_rand(&rng_state);
}

static struct limpet_addr rnd_addr(__u8 family)
{
	struct limpet_addr a;
	int i;

	memset(&a, 0, sizeof(a));
	for (i = 0; i < (family == LIMPET_FAMILY_V6 ? 4 : 1); i++)
		a.a[i] = rnd();
	return a;
}

static struct pkt_spec rnd_spec(__u8 family, __u8 proto)
{
	struct pkt_spec s;

	memset(&s, 0, sizeof(s));
	s.family = family;
	s.proto = proto;
	s.src = rnd_addr(family);
	s.dst = rnd_addr(family);
	s.sport = rnd();
	s.dport = rnd();
	s.ttl = 2 + rnd() % 254;
	s.tos = rnd();
	s.ip_id = rnd();
	s.frag = rnd() % 2 ? PKT_IP_DF : 0;
	s.ip_opts = family == LIMPET_FAMILY_V4 ? 4 * (rnd() % 11) : 0;
	s.flowlabel = rnd();
	s.tcp_flags = rnd();
	s.seq = rnd();
	s.ack = rnd();
	s.window = rnd();
	s.payload_len = rnd() % 65;	/* odd lengths too */
	s.payload_seed = rnd();
	return s;
}

struct rewrite {
	bool dst;		/* rewrite the destination (else the source) */
	struct limpet_addr addr;
	__u16 port;		/* host order */
	bool ttl;		/* and decrement the TTL / hop limit */
};

static __u16 load16(const __u8 *p)
{
	__u16 v;

	memcpy(&v, p, 2);
	return v;
}

static __u32 load32(const __u8 *p)
{
	__u32 v;

	memcpy(&v, p, 4);
	return v;
}

static void store16(__u8 *p, __u16 v)
{
	memcpy(p, &v, 2);
}

/* The data plane's rewrite, on raw words as it lies in the frame. */
static void nat(__u8 *f, const struct pkt_spec *s, const struct rewrite *rw)
{
	__u8 *l3 = f + PKT_ETH_LEN, *l4 = l3 + pkt_l3_len(s);
	__u8 *check = l4 + (s->proto == IPPROTO_TCP ? 16 : 6);
	__u8 *addr = l3 + (s->family == LIMPET_FAMILY_V4 ? 12 : 8);
	__u8 *port = l4;
	__be16 new_port = htons(rw->port);
	struct limpet_addr old;
	__u32 sum;

	if (rw->dst) {
		addr += s->family == LIMPET_FAMILY_V4 ? 4 : 16;
		port += 2;
	}
	memset(&old, 0, sizeof(old));
	memcpy(&old, addr, s->family == LIMPET_FAMILY_V4 ? 4 : 16);

	if (s->proto == IPPROTO_TCP || load16(check) != 0) {
		sum = csum_begin(load16(check));
		sum = csum_diff_addr(sum, &old, &rw->addr);
		sum += (__u16)~load16(port);
		sum += new_port;
		store16(check, csum_end(sum));
		if (s->proto == IPPROTO_UDP && load16(check) == 0)
			store16(check, 0xffff);
	}
	store16(port, new_port);

	if (s->family == LIMPET_FAMILY_V4) {
		store16(l3 + 10, csum_replace4(load16(l3 + 10), load32(addr), rw->addr.a[0]));
		memcpy(addr, &rw->addr.a[0], 4);
	} else {
		memcpy(addr, &rw->addr, 16);
	}

	if (!rw->ttl)
		return;
	if (s->family == LIMPET_FAMILY_V4) {
		__u16 before = load16(l3 + 8);

		l3[8]--;
		store16(l3 + 10, csum_replace2(load16(l3 + 10), before, load16(l3 + 8)));
	} else {
		l3[7]--;
	}
}

/* The spec of the frame nat() should produce. */
static struct pkt_spec rewritten(struct pkt_spec s, const struct rewrite *rw)
{
	if (rw->dst) {
		s.dst = rw->addr;
		s.dport = rw->port;
	} else {
		s.src = rw->addr;
		s.sport = rw->port;
	}
	if (rw->ttl)
		s.ttl--;
	return s;
}

static void check_case(int n, const struct pkt_spec *s, const struct rewrite *rw)
{
	__u8 got[PKT_MAX], want[PKT_MAX];
	struct pkt_spec w = rewritten(*s, rw);
	size_t len = pkt_build(s, got, sizeof(got)), want_len = pkt_build(&w, want, sizeof(want));
	char diff[128], why[64];

	cr_assert(len && len == want_len);
	nat(got, s, rw);
	pkt_diff(got, len, want, want_len, diff, sizeof(diff));
	cr_assert(!memcmp(got, want, len), "case %d (%s %s, %s side%s): %s", n,
		  s->family == LIMPET_FAMILY_V4 ? "IPv4" : "IPv6",
		  s->proto == IPPROTO_TCP ? "TCP" : "UDP", rw->dst ? "dst" : "src",
		  rw->ttl ? ", TTL" : "", diff);
	cr_assert_eq(pkt_verify(got, len, why, sizeof(why)), 0, "case %d: %s", n, why);
}

static void random_cases(__u8 family, __u8 proto, __u64 seed)
{
	int n;

	rng_state = seed;
	for (n = 0; n < CASES; n++) {
		struct pkt_spec s = rnd_spec(family, proto);
		struct rewrite rw = {
			.dst = rnd() & 1,
			.addr = rnd_addr(family),
			.port = rnd(),
			.ttl = rnd() & 1,
		};

		/* Sometimes only the address or only the port changes. */
		if (n % 8 == 1)
			rw.port = rw.dst ? s.dport : s.sport;
		if (n % 8 == 2)
			rw.addr = rw.dst ? s.dst : s.src;
		if (family == LIMPET_FAMILY_V4 && proto == IPPROTO_UDP && n % 8 == 3)
			s.udp_no_csum = true;
		check_case(n, &s, &rw);
	}
}

Test(csum, ipv4_tcp)
{
	random_cases(LIMPET_FAMILY_V4, IPPROTO_TCP, 1);
}

Test(csum, ipv4_udp)
{
	random_cases(LIMPET_FAMILY_V4, IPPROTO_UDP, 2);
}

Test(csum, ipv6_tcp)
{
	random_cases(LIMPET_FAMILY_V6, IPPROTO_TCP, 3);
}

Test(csum, ipv6_udp)
{
	random_cases(LIMPET_FAMILY_V6, IPPROTO_UDP, 4);
}

/* The UDP checksum field of a built frame. */
static __u16 udp_check(const struct pkt_spec *s)
{
	__u8 f[PKT_MAX];
	size_t len = pkt_build(s, f, sizeof(f));

	return pkt_get16(f + len - s->payload_len - 2);
}

/* A value for <*port> that makes the UDP checksum of <s> a computed zero. */
static void zero_sum_port(struct pkt_spec *s, __u16 *port)
{
	__u32 p;

	for (p = 0; p < 65536; p++) {
		*port = p;
		if (udp_check(s) == 0xffff)
			return;
	}
	cr_assert_fail("no port gives a zero UDP checksum");
}

Test(csum, udp_zero_rule)
{
	int n;

	rng_state = 5;
	for (n = 0; n < 16; n++) {
		__u8 family = n & 1 ? LIMPET_FAMILY_V6 : LIMPET_FAMILY_V4;
		struct pkt_spec s = rnd_spec(family, IPPROTO_UDP), w;
		struct rewrite rw = { .dst = true, .addr = rnd_addr(family), .ttl = true };

		/* A rewrite whose result sums to zero must send 0xffff... */
		w = rewritten(s, &rw);
		zero_sum_port(&w, &w.dport);
		rw.port = w.dport;
		check_case(n, &s, &rw);
		cr_assert_eq(udp_check(&w), 0xffff);

		/* ...and a frame that carries 0xffff updates like any other. */
		zero_sum_port(&s, &s.sport);
		cr_assert_eq(udp_check(&s), 0xffff);
		rw.port = rnd();
		check_case(n, &s, &rw);
	}
}

Test(csum, primitives)
{
	int n;

	rng_state = 6;
	for (n = 0; n < 1000; n++) {
		__u32 sum = rnd(), old = rnd(), new = rnd();
		__u16 check = rnd(), o16 = rnd(), n16 = rnd(), half;

		/* Folding keeps the value mod 0xffff. */
		cr_assert_eq(csum_fold32(sum) % 0xffff, sum % 0xffff);
		/* replace4 is two replace2 of its halves. */
		half = csum_replace2(check, old & 0xffff, new & 0xffff);
		cr_assert_eq(csum_replace4(check, old, new) % 0xffff,
			     csum_replace2(half, old >> 16, new >> 16) % 0xffff);
		/* Replacing a word by itself changes nothing (modulo the two zeros). */
		cr_assert_eq(csum_replace2(check, o16, o16) % 0xffff, check % 0xffff);
		cr_assert_eq(csum_replace2(csum_replace2(check, o16, n16), n16, o16) % 0xffff,
			     check % 0xffff);
	}
}
