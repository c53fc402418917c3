/* SPDX-License-Identifier: MIT */
/*
 * fg_policy_outbound() / fg_policy_inbound() against the naive reference (naive.c) on
 * seeded random policies and packets, thousands of them, with verdict, drop reason and
 * winning resource compared; then hostile packets: every truncation, length fields that
 * lie, every IP version, every IHL, extension-header lengths, random garbage. Packets are
 * read from exactly-sized heap copies under ASan/UBSan. Test thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/CUnit.h>

#include "icmpgen.h"
#include "pkts.h"

enum {
	POLICIES = 400,
	PACKETS = 300,
	MAX_RES = 48,
	BIG_RES = 600,
};

static const char *const seeds4[] = {
	"10.0.0.0", "10.1.2.0", "10.1.2.200", "192.168.1.0", "8.8.8.0", "1.2.3.4", "172.16.5.5",
	"100.64.0.5", "0.0.0.0", "255.255.255.255", "127.0.0.1", "100.100.1.1", "224.0.0.5",
	"169.254.3.3", "100.64.0.2", "100.64.0.1",
};
static const char *const seeds6[] = {
	"2001:db8::", "2001:db8:1::", "2001:db8::1", "fc00::1", "fe80::1", "::1", "::ffff:1.2.3.4",
	"fd00:2021:1111::7", "2606:4700::", "::", "ff02::1", "fd00:2021:1111::2",
};
static const uint16_t ports[] = { 0, 1, 22, 53, 79, 80, 81, 443, 1000, 8080, 65534, 65535 };
static const char *const ids[] = { "a", "b", "c", "zz", "r-1", "r-2", "0", "ffffffff-ffff" };
static const uint8_t icmp_types[] = { 0, 3, 4, 5, 8, 11, 12, 13, 1, 2, 127, 128, 129, 135 };

static uint64_t state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return (uint32_t)(state >> 16);
}

static uint32_t below(uint32_t n)
{
	return rnd() % n;
}

#define PICK(a) ((a)[below(sizeof(a) / sizeof((a)[0]))])

/* A random address near ip: some of its k lowest bits flipped, k random. */
static struct fg_ip near(struct fg_ip ip)
{
	unsigned bits = ip.family == AF_INET ? 32 : 128, k = below(bits + 1);

	for (unsigned b = bits - k; b < bits; b++)
		if (below(2))
			ip.addr[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
	return ip;
}

static struct fg_ip seed(int family)
{
	return tp_ip(family == AF_INET ? PICK(seeds4) : PICK(seeds6));
}

static void random_resource(struct fg_policy_resource *r)
{
	static const uint8_t lens4[] = { 0, 8, 16, 24, 28, 31, 32 };
	static const uint8_t lens6[] = { 0, 16, 32, 48, 64, 96, 120, 127, 128 };
	int family = below(2) ? AF_INET : AF_INET6;
	unsigned nf = below(3) == 0 ? 0 : 1 + below(4);

	memset(r, 0, sizeof(*r));
	r->filters = tp_filters(nf);
	snprintf(r->id, sizeof(r->id), "%s", PICK(ids));
	r->expires_at = below(2) ? 0 : 90 + below(21);
	if (below(12) == 0) {
		r->type = FG_CTL_RES_INTERNET;
	} else {
		r->type = FG_CTL_RES_CIDR;
		r->prefix.ip = near(seed(family));
		if (below(3) == 0)
			r->prefix.len = (uint8_t)below(family == AF_INET ? 33 : 129);
		else
			r->prefix.len = family == AF_INET ? PICK(lens4) : PICK(lens6);
	}
	for (unsigned i = 0; i < nf; i++) {
		struct fg_ctl_filter *f = &r->filters[r->n_filters++];
		static const uint8_t protos[] = { FG_CTL_FILTER_TCP, FG_CTL_FILTER_UDP, FG_CTL_FILTER_TCP,
						  FG_CTL_FILTER_UDP, FG_CTL_FILTER_ICMP, 99 };

		f->proto = PICK(protos);
		f->port_lo = PICK(ports);
		f->port_hi = below(4) == 0 ? PICK(ports) : f->port_lo + (uint16_t)below(3);
		if (f->port_hi < f->port_lo && below(2))
			f->port_hi = 65535;
	}
}

static char addr_buf[2][FG_ADDR_STRLEN];

/* A resource-side address: near a resource of the policy, or near a seed. */
static const char *resource_side(const struct fg_policy_resource *res, size_t n, int family,
				 char *buf)
{
	struct fg_ip ip;

	if (n > 0 && below(3) != 0) {
		const struct fg_policy_resource *r = &res[below((uint32_t)n)];

		if (r->type == FG_CTL_RES_CIDR && r->prefix.ip.family == family) {
			ip = r->prefix.ip;
			unsigned bits = family == AF_INET ? 32 : 128;

			for (unsigned b = r->prefix.len; b < bits; b++)
				if (below(2))
					ip.addr[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
			return fg_ip_format(&ip, buf, FG_ADDR_STRLEN);
		}
	}
	ip = near(seed(family));
	return fg_ip_format(&ip, buf, FG_ADDR_STRLEN);
}

static void random_spec(struct tp_spec *s, const struct fg_policy_resource *res, size_t n,
			bool inbound, const char *c4, const char *c6, const char *g4, const char *g6)
{
	static const uint16_t protos[] = { 6, 17, TP_ICMP, 6, 17, TP_ICMP, 47, 58, 1 };
	int family = below(2) ? AF_INET : AF_INET6;
	const char *client = family == AF_INET ? c4 : c6, *gw = family == AF_INET ? g4 : g6;
	const char *far = resource_side(res, n, family, addr_buf[0]);

	memset(s, 0, sizeof(*s));
	if (below(30) == 0)
		far = gw;
	if (inbound) {
		s->src = far;
		s->dst = below(10) == 0 ? resource_side(res, n, family, addr_buf[1]) : client;
	} else {
		s->src = below(8) == 0 ? resource_side(res, n, family, addr_buf[1]) : client;
		s->dst = far;
	}
	s->proto = PICK(protos);
	if (family == AF_INET6 && below(25) == 0) {
		s->src = s->dst = "::";
		s->proto = 255;
	}
	s->sport = PICK(ports);
	s->dport = PICK(ports);
	s->icmp_type = PICK(icmp_types);
	s->payload = below(4) == 0 ? below(40) : 0;
	if (below(8) == 0) {
		s->frag_off = (uint16_t)below(3);
		s->more_frags = below(2);
	}
	if (family == AF_INET6) {
		s->frag6 = below(12) == 0;
		s->ext6 = below(10) == 0 ? (uint8_t)below(9) : 0;
		s->ah6 = below(15) == 0;
	} else if (below(10) == 0) {
		s->ip4_opts = (uint8_t)(4 * below(11));
	}
	if (below(15) == 0)
		s->l4_cut = below(21);
	if (below(10) == 0)
		s->pad = below(16);
}

static bool same_id(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static unsigned mismatches;

/* Runs one packet through both implementations in both directions and compares. */
static void compare(const struct fg_policy *p, const struct naive_policy *np, const uint8_t *b,
		    uint32_t len, uint64_t now)
{
	uint8_t *pkt = tp_tail(b, len);
	enum fg_drop why = FG_DROP_MAX, nwhy = FG_DROP_MAX;
	const char *rid = "unset", *nrid = "unset";
	enum fg_policy_verdict v = fg_policy_outbound(p, pkt, len, now, &why, &rid);
	enum fg_policy_verdict nv = naive_outbound(np, pkt, len, now, &nwhy, &nrid);

	if (v != nv || why != nwhy || !same_id(rid, nrid)) {
		if (mismatches++ < 10)
			printf("\n  outbound mismatch (len %u, now %llu): %d/%s/%s vs naive %d/%s/%s", len,
			       (unsigned long long)now, v, fg_drop_names[why], rid ? rid : "-", nv,
			       fg_drop_names[nwhy], nrid ? nrid : "-");
	}
	v = fg_policy_inbound(p, pkt, len, now, &why);
	nv = naive_inbound(np, pkt, len, now, &nwhy);
	if (v != nv || why != nwhy) {
		if (mismatches++ < 10)
			printf("\n  inbound mismatch (len %u): %d/%s vs naive %d/%s", len, v,
			       fg_drop_names[why], nv, fg_drop_names[nwhy]);
	}
	free(pkt);
}

static void run_random(unsigned policies, unsigned max_res, unsigned packets)
{
	static struct fg_policy_resource res[BIG_RES];
	static const char *const c4s[] = { "100.64.0.2", "100.64.0.5" };
	static const char *const c6s[] = { "fd00:2021:1111::2", "fd00:2021:1111::7" };
	uint8_t b[TP_MAX];
	uint32_t counts[5] = { 0 };

	for (unsigned pi = 0; pi < policies; pi++) {
		size_t n = below(max_res + 1);
		const char *c4 = PICK(c4s), *c6 = PICK(c6s);
		struct fg_ip ic4 = tp_ip(c4), ic6 = tp_ip(c6), g4 = tp_ip("100.64.0.1");
		struct fg_ip g6 = tp_ip("fd00:2021:1111::1");
		struct naive_policy np;
		struct fg_policy *p;

		for (size_t i = 0; i < n; i++)
			random_resource(&res[i]);
		if (below(10) == 0)
			ic6.family = 0;
		if (below(10) == 0)
			g4.family = 0;
		np = (struct naive_policy){ .res = res, .n = n, .client4 = ic4, .client6 = ic6,
					    .gw4 = g4, .gw6 = g6 };
		p = fg_policy_build(res, n, &ic4, &ic6, &g4, &g6);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		for (unsigned k = 0; k < packets; k++) {
			struct tp_spec s;
			uint64_t now = below(4) == 0 ? 0 : 85 + below(30);
			uint32_t len;

			random_spec(&s, res, n, below(2), c4, c6, "100.64.0.1", "fd00:2021:1111::1");
			len = tp_build(b, &s);
			if (below(12) == 0) {          /* corrupt a few bytes */
				for (unsigned j = 1 + below(3); j > 0; j--)
					b[below(len < 64 ? len : 64)] ^= (uint8_t)(1 + below(255));
			}
			if (below(20) == 0)
				len = below(len + 1);
			compare(p, &np, b, len, now);
			counts[fg_policy_outbound(p, b, len, now, NULL, NULL)]++;
		}
		fg_policy_free(p);
	}
	/* The generator must reach every verdict, or the comparison proves little. */
	printf("\n  outbound verdicts: allow %u drop %u prohibited %u unreachable %u control %u",
	       counts[0], counts[1], counts[2], counts[3], counts[4]);
	for (unsigned i = 0; i < 5; i++)
		CU_ASSERT(counts[i] > 0);
}

static void test_differential(void)
{
	mismatches = 0;
	run_random(POLICIES, MAX_RES, PACKETS);
	CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_differential_big(void)
{
	mismatches = 0;
	run_random(12, BIG_RES, 2000);
	CU_ASSERT_EQUAL(mismatches, 0);
}

/* A fixed policy for the hostile suites, and its naive twin. */
static struct fg_policy_resource hres[6];
static struct naive_policy hnp;
static struct fg_policy *hp;

static int hostile_setup(void)
{
	struct fg_ip c4 = tp_ip("100.64.0.2"), c6 = tp_ip("fd00:2021:1111::2");
	struct fg_ip g4 = tp_ip("100.64.0.1"), g6 = tp_ip("fd00:2021:1111::1");

	tp_resource(&hres[0], "web", "10.0.0.0/8", 0, (const char *const[]){ "tcp:80", NULL });
	tp_resource(&hres[1], "all", "192.168.0.0/16", 0, NULL);
	tp_resource(&hres[2], "v6", "2001:db8::/32", 0, (const char *const[]){ "udp:53", "icmp", NULL });
	tp_resource(&hres[3], "inet", "internet", 0, NULL);
	hnp = (struct naive_policy){ .res = hres, .n = 4, .client4 = c4, .client6 = c6, .gw4 = g4, .gw6 = g6 };
	hp = fg_policy_build(hres, 4, &c4, &c6, &g4, &g6);
	return hp ? 0 : -1;
}

static int hostile_teardown(void)
{
	fg_policy_free(hp);
	return 0;
}

static const struct tp_spec bases[] = {
	{ .src = "100.64.0.2", .dst = "10.0.0.1", .proto = 6, .dport = 80, .ip4_opts = 12, .payload = 9 },
	{ .src = "100.64.0.2", .dst = "192.168.3.3", .proto = 17, .dport = 9 },
	{ .src = "100.64.0.2", .dst = "8.8.8.8", .proto = TP_ICMP, .icmp_type = 8, .payload = 4 },
	{ .src = "10.0.0.1", .dst = "100.64.0.2", .proto = 6, .sport = 80 },
	{ .src = "fd00:2021:1111::2", .dst = "2001:db8::1", .proto = 17, .dport = 53, .ext6 = 2, .frag6 = true },
	{ .src = "fd00:2021:1111::2", .dst = "2001:db8::1", .proto = TP_ICMP, .icmp_type = 128 },
	{ .src = "2001:db8::1", .dst = "fd00:2021:1111::2", .proto = 17, .sport = 53, .ext6 = 1 },
	{ .src = "fd00:2021:1111::2", .dst = "2606::1", .proto = 6, .frag_off = 7 },
};

static void test_truncations(void)
{
	uint8_t b[TP_MAX];
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint32_t full = tp_build(b, &bases[i]);

		for (uint32_t len = 0; len < full; len++) {
			uint8_t *pkt = tp_tail(b, len);
			enum fg_drop why;

			if (fg_policy_outbound(hp, pkt, len, 0, &why, NULL) != FG_POLICY_DROP ||
			    why != FG_DROP_INNER_MALFORMED)
				bad++;
			if (fg_policy_inbound(hp, pkt, len, 0, &why) != FG_POLICY_DROP ||
			    why != FG_DROP_TUN_MALFORMED)
				bad++;
			free(pkt);
		}
		/* The complete packet is well-formed. */
		{
			uint8_t *pkt = tp_tail(b, full);
			enum fg_drop why;

			fg_policy_outbound(hp, pkt, full, 0, &why, NULL);
			CU_ASSERT_NOT_EQUAL(why, FG_DROP_INNER_MALFORMED);
			free(pkt);
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* IP length fields from 0 to beyond the buffer, every version nibble, every IHL. */
static void test_length_lies(void)
{
	uint8_t b[TP_MAX];

	mismatches = 0;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		uint32_t full = tp_build(b, &bases[i]);
		bool v4 = b[0] >> 4 == 4;
		uint8_t keep[6];

		memcpy(keep, b, 6);
		/* IPv4 total length 0 .. full + 8; IPv6 payload length 0 .. full - 40 + 8. */
		for (uint32_t field = 0; field <= (v4 ? full : full - 40) + 8; field++) {
			tp_put16(v4 ? b + 2 : b + 4, (uint16_t)field);
			compare(hp, &hnp, b, full, 0);
		}
		memcpy(b, keep, 6);
		for (unsigned ver = 0; ver < 16; ver++) {
			uint8_t *pkt;
			enum fg_drop why;

			b[0] = (uint8_t)(ver << 4 | (keep[0] & 15));
			compare(hp, &hnp, b, full, 0);
			if (ver == 4 || ver == 6)
				continue;
			pkt = tp_tail(b, full);
			CU_ASSERT_EQUAL(fg_policy_outbound(hp, pkt, full, 0, &why, NULL), FG_POLICY_DROP);
			CU_ASSERT_EQUAL(why, FG_DROP_INNER_MALFORMED);
			free(pkt);
		}
		b[0] = keep[0];
		if (!v4)
			continue;
		for (unsigned ihl = 0; ihl < 16; ihl++) {
			b[0] = (uint8_t)(0x40 | ihl);
			compare(hp, &hnp, b, full, 0);
			if (ihl < 5) {
				uint8_t *pkt = tp_tail(b, full);
				enum fg_drop why;

				CU_ASSERT_EQUAL(fg_policy_inbound(hp, pkt, full, 0, &why), FG_POLICY_DROP);
				CU_ASSERT_EQUAL(why, FG_DROP_TUN_MALFORMED);
				free(pkt);
			}
		}
	}
	CU_ASSERT_EQUAL(mismatches, 0);
}

/* IPv6 extension headers whose length or next-header bytes lie, and loops of them. */
static void test_ext_lies(void)
{
	uint8_t b[TP_MAX];
	struct tp_spec s = { .src = "fd00:2021:1111::2", .dst = "2001:db8::1", .proto = 17,
			     .dport = 53, .ext6 = 3, .payload = 30 };
	uint32_t full = tp_build(b, &s);

	mismatches = 0;
	for (unsigned at = 0; at < 3; at++) {
		for (unsigned v = 0; v < 256; v++) {
			uint8_t keep_len = b[40 + 8 * at + 1], keep_nh = b[40 + 8 * at];

			b[40 + 8 * at + 1] = (uint8_t)v;
			compare(hp, &hnp, b, full, 0);
			b[40 + 8 * at + 1] = keep_len;
			b[40 + 8 * at] = (uint8_t)v;   /* next header: any protocol, incl. 44 / 51 */
			compare(hp, &hnp, b, full, 0);
			b[40 + 8 * at] = keep_nh;
		}
	}
	/* A chain of extension headers that never ends within the packet. */
	memset(b + 40, 0, full - 40);
	b[6] = 60;
	for (uint32_t off = 40; off + 8 <= full; off += 8)
		b[off] = 60;
	compare(hp, &hnp, b, full, 0);
	CU_ASSERT_EQUAL(mismatches, 0);
}

static void test_garbage(void)
{
	uint8_t b[128];

	mismatches = 0;
	for (unsigned i = 0; i < 50000; i++) {
		uint32_t len = below(sizeof(b) + 1);

		for (uint32_t j = 0; j < sizeof(b); j++)
			b[j] = (uint8_t)rnd();
		b[0] = (uint8_t)((below(2) ? 0x40 : 0x60) | (b[0] & 15));
		if (below(2)) {   /* plausible lengths make it past the IP header more often */
			if (b[0] >> 4 == 4) {
				b[0] = (uint8_t)(0x45 + below(3));
				tp_put16(b + 2, (uint16_t)below(len + 4));
			} else {
				tp_put16(b + 4, (uint16_t)below(len > 40 ? len - 36 : 4));
			}
		}
		compare(hp, &hnp, b, len, below(2));
	}
	CU_ASSERT_EQUAL(mismatches, 0);
}

static const struct fg_cunit_test diff_tests[] = {
	{ "random policies vs naive", test_differential },
	{ "600-resource policies vs naive", test_differential_big },
};

const struct fg_cunit_suite policy_diff_suite = {
	"policy_diff", NULL, NULL,
	diff_tests, sizeof(diff_tests) / sizeof(diff_tests[0]),
};

static const struct fg_cunit_test hostile_tests[] = {
	{ "every truncation", test_truncations },
	{ "length, version and IHL lies", test_length_lies },
	{ "extension header lies", test_ext_lies },
	{ "random garbage", test_garbage },
};

const struct fg_cunit_suite policy_hostile_suite = {
	"policy_hostile", hostile_setup, hostile_teardown,
	hostile_tests, sizeof(hostile_tests) / sizeof(hostile_tests[0]),
};
