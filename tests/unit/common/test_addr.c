// SPDX-License-Identifier: MIT
/*
 * CUnit suite for common/addr.c: tables of good and hostile address, prefix and endpoint
 * strings, formatting round trips, and fg_prefix_contains() checked against a naive
 * bit-by-bit reference on random inputs. Single-threaded.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

enum { RANDOM_ROUNDS = 20000 };

struct good_case {
	const char *in;
	const char *formatted;  /* fg_*_format() of the parsed value */
};

static void test_ip_good(void)
{
	static const struct good_case cases[] = {
		{ "0.0.0.0", "0.0.0.0" },
		{ "198.18.1.1", "198.18.1.1" },
		{ "255.255.255.255", "255.255.255.255" },
		{ "::", "::" },
		{ "::1", "::1" },
		{ "fd00:2021:1111::1", "fd00:2021:1111::1" },
		{ "FD00:2021:1111:0:0:0:0:1", "fd00:2021:1111::1" },
		{ "::ffff:1.2.3.4", "::ffff:1.2.3.4" },
	};
	char buf[FG_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fg_ip ip;

		CU_ASSERT_EQUAL_FATAL(fg_ip_parse(cases[i].in, &ip), 0);
		CU_ASSERT_STRING_EQUAL(fg_ip_format(&ip, buf, sizeof(buf)), cases[i].formatted);
	}
}

/* Strings no parser may accept, whatever it parses. */
static const char *const hostile_common[] = {
	"",
	" ",
	"x",
	"1.2.3.4 ",
	" 1.2.3.4",
	"\t1.2.3.4",
	"1.2.3.4\n",
	"1.2.3",
	"1.2.3.4.5",
	"256.1.1.1",
	"01.2.3.4",
	"0x1.2.3.4",
	"1.2.3.-4",
	"1..2.3",
	"localhost",
	"example.com:80",
	":::",
	"1:2:3:4:5:6:7:8:9",
	"fe80::1%eth0",
	"fe80::1%1",
	"\xff\xfe",
	"1.2.3.\xc3\xa9",
	"[",
	"]",
	"[]",
	"[]:80",
	"/",
	"//",
};

static void test_ip_hostile(void)
{
	static const char *const extra[] = {
		"1.2.3.4/32", "::1/128", "[::1]", "1.2.3.4:80", "1.2.3.4/",
	};
	struct fg_ip ip;

	for (size_t i = 0; i < sizeof(hostile_common) / sizeof(hostile_common[0]); i++)
		CU_ASSERT_EQUAL(fg_ip_parse(hostile_common[i], &ip), -EINVAL);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		CU_ASSERT_EQUAL(fg_ip_parse(extra[i], &ip), -EINVAL);
	CU_ASSERT_EQUAL(fg_ip_parse(NULL, &ip), -EINVAL);
}

static void test_ip_huge(void)
{
	char big[8192];
	struct fg_ip ip;

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(fg_ip_parse(big, &ip), -EINVAL);
	memset(big, ':', sizeof(big) - 1);
	CU_ASSERT_EQUAL(fg_ip_parse(big, &ip), -EINVAL);
	/* One past the longest IPv6 literal. */
	CU_ASSERT_EQUAL(fg_ip_parse("0000:0000:0000:0000:0000:ffff:255.255.255.2555", &ip), -EINVAL);
	CU_ASSERT_EQUAL(fg_ip_parse("0000:0000:0000:0000:0000:ffff:255.255.255.255", &ip), 0);
}

static void test_prefix_good(void)
{
	static const struct good_case masked[] = {
		{ "198.18.1.1/24", "198.18.1.0/24" },
		{ "198.18.1.1", "198.18.1.1/32" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "255.255.255.255/1", "128.0.0.0/1" },
		{ "100.64.0.1/11", "100.64.0.0/11" },
		{ "100.95.255.255/11", "100.64.0.0/11" },
		{ "fd00:2021:1111::1/107", "fd00:2021:1111::/107" },
		{ "fd00:2021:1111::1", "fd00:2021:1111::1/128" },
		{ "::/0", "::/0" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/127", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127" },
	};
	static const struct good_case host[] = {
		{ "198.18.1.1/24", "198.18.1.1/24" },
		{ "100.64.0.1/11", "100.64.0.1/11" },
		{ "fd00:2021:1111::1/107", "fd00:2021:1111::1/107" },
		{ "10.0.0.1", "10.0.0.1/32" },
	};
	char buf[FG_PREFIX_STRLEN];
	struct fg_prefix p;

	for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(fg_prefix_parse(masked[i].in, &p), 0);
		CU_ASSERT_STRING_EQUAL(fg_prefix_format(&p, buf, sizeof(buf)), masked[i].formatted);
	}
	for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(fg_prefix_parse_host(host[i].in, &p), 0);
		CU_ASSERT_STRING_EQUAL(fg_prefix_format(&p, buf, sizeof(buf)), host[i].formatted);
	}
}

static void test_prefix_hostile(void)
{
	static const char *const extra[] = {
		"1.2.3.4/33",
		"1.2.3.4/",
		"/8",
		"/",
		"1.2.3.4/-1",
		"1.2.3.4/+8",
		"1.2.3.4/ 8",
		"1.2.3.4 /8",
		"1.2.3.4/8 ",
		"1.2.3.4/08",
		"1.2.3.4/008",
		"1.2.3.4/8x",
		"1.2.3.4//8",
		"1.2.3.4/8/8",
		"1.2.3.4/4294967304",
		"1.2.3.4/18446744073709551624",
		"::/129",
		"::/1000",
		"::1/12a",
		"[::1]/64",
		"1.2.3.4:80/8",
		"x/8",
		"1.2.3/8",
		"fe80::1%eth0/64",
	};
	struct fg_prefix p;

	for (size_t i = 0; i < sizeof(hostile_common) / sizeof(hostile_common[0]); i++) {
		CU_ASSERT_EQUAL(fg_prefix_parse(hostile_common[i], &p), -EINVAL);
		CU_ASSERT_EQUAL(fg_prefix_parse_host(hostile_common[i], &p), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		if (fg_prefix_parse(extra[i], &p) != -EINVAL)
			fprintf(stderr, "accepted prefix '%s'\n", extra[i]);
		CU_ASSERT_EQUAL(fg_prefix_parse(extra[i], &p), -EINVAL);
		CU_ASSERT_EQUAL(fg_prefix_parse_host(extra[i], &p), -EINVAL);
	}
}

static void test_endpoint_good(void)
{
	static const struct good_case cases[] = {
		{ "198.18.1.2:51820", "198.18.1.2:51820" },
		{ "1.2.3.4:1", "1.2.3.4:1" },
		{ "1.2.3.4:65535", "1.2.3.4:65535" },
		{ "[::1]:51820", "[::1]:51820" },
		{ "[FD00:2021:1111::2]:443", "[fd00:2021:1111::2]:443" },
		{ "[::ffff:1.2.3.4]:80", "[::ffff:1.2.3.4]:80" },
	};
	char buf[FG_ENDPOINT_STRLEN];
	struct fg_endpoint ep;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(fg_endpoint_parse(cases[i].in, &ep), 0);
		CU_ASSERT_STRING_EQUAL(fg_endpoint_format(&ep, buf, sizeof(buf)), cases[i].formatted);
	}
	CU_ASSERT_EQUAL(fg_endpoint_parse("198.18.1.2:51820", &ep), 0);
	CU_ASSERT_EQUAL(ep.port, 51820);
	CU_ASSERT_EQUAL(ep.ip.family, AF_INET);
}

static void test_endpoint_hostile(void)
{
	static const char *const extra[] = {
		"[::1]",
		"[::1]:",
		"[::1]:0",
		"[::1]:65536",
		"[::1]:99999999999999999999",
		"[::1]:80x",
		"[::1]: 80",
		"[::1]:+80",
		"[::1]:-80",
		"[::1]x:80",
		"[::1]::80",
		"[[::1]]:80",
		"[::1:80",
		"::1]:80",
		"::1:80",
		"[1.2.3.4]:80",
		"1.2.3.4",
		"1.2.3.4:",
		"1.2.3.4:0",
		"1.2.3.4:080",
		"1.2.3.4:65536",
		"1.2.3.4:4294967376",
		"1.2.3.4:80:80",
		"1.2.3.4 :80",
		":80",
		"host:80",
		"[fe80::1%eth0]:80",
		"1.2.3.4/32:80",
	};
	struct fg_endpoint ep;

	for (size_t i = 0; i < sizeof(hostile_common) / sizeof(hostile_common[0]); i++)
		CU_ASSERT_EQUAL(fg_endpoint_parse(hostile_common[i], &ep), -EINVAL);
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		if (fg_endpoint_parse(extra[i], &ep) != -EINVAL)
			fprintf(stderr, "accepted endpoint '%s'\n", extra[i]);
		CU_ASSERT_EQUAL(fg_endpoint_parse(extra[i], &ep), -EINVAL);
	}
}

static void test_format_small_buffers(void)
{
	struct fg_endpoint ep;
	struct fg_prefix p;
	struct fg_ip unset;
	char buf[8];

	memset(&unset, 0, sizeof(unset));
	CU_ASSERT_EQUAL(fg_endpoint_parse("[fd00:2021:1111::2]:51820", &ep), 0);
	fg_endpoint_format(&ep, buf, sizeof(buf));
	CU_ASSERT_EQUAL(strlen(buf), sizeof(buf) - 1);
	CU_ASSERT_EQUAL(fg_prefix_parse("198.18.1.0/24", &p), 0);
	fg_prefix_format(&p, buf, 4);
	CU_ASSERT_STRING_EQUAL(buf, "198");
	fg_ip_format(&ep.ip, buf, 1);
	CU_ASSERT_STRING_EQUAL(buf, "");
	CU_ASSERT_STRING_EQUAL(fg_ip_format(&unset, buf, sizeof(buf)), "unset");
}

static void test_equal_and_len(void)
{
	struct fg_endpoint a, b;
	struct fg_ip x, y;

	CU_ASSERT_EQUAL(fg_ip_len(AF_INET), 4);
	CU_ASSERT_EQUAL(fg_ip_len(AF_INET6), 16);
	CU_ASSERT_EQUAL(fg_ip_len(0), 0);
	CU_ASSERT_EQUAL(fg_ip_parse("1.2.3.4", &x), 0);
	CU_ASSERT_EQUAL(fg_ip_parse("1.2.3.4", &y), 0);
	CU_ASSERT_TRUE(fg_ip_equal(&x, &y));
	CU_ASSERT_EQUAL(memcmp(&x, &y, sizeof(x)), 0);
	CU_ASSERT_EQUAL(fg_ip_parse("::ffff:1.2.3.4", &y), 0);
	CU_ASSERT_FALSE(fg_ip_equal(&x, &y));
	CU_ASSERT_EQUAL(fg_endpoint_parse("1.2.3.4:80", &a), 0);
	CU_ASSERT_EQUAL(fg_endpoint_parse("1.2.3.4:81", &b), 0);
	CU_ASSERT_FALSE(fg_endpoint_equal(&a, &b));
	b.port = 80;
	CU_ASSERT_TRUE(fg_endpoint_equal(&a, &b));
}

/* The reference: compare bit by bit. */
static bool naive_contains(const struct fg_prefix *p, const struct fg_ip *ip)
{
	if (p->ip.family != ip->family)
		return false;
	for (unsigned int bit = 0; bit < p->len; bit++) {
		unsigned int byte = bit / 8, shift = 7 - bit % 8;

		if (((p->ip.addr[byte] >> shift) & 1) != ((ip->addr[byte] >> shift) & 1))
			return false;
	}
	return true;
}

static void random_ip(struct fg_ip *ip, uint8_t family)
{
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	for (size_t i = 0; i < fg_ip_len(family); i++)
		ip->addr[i] = (uint8_t)rand();
}

static void test_contains_vs_naive(void)
{
	srand(12345);
	for (int i = 0; i < RANDOM_ROUNDS; i++) {
		uint8_t family = (i & 1) ? AF_INET6 : AF_INET;
		struct fg_prefix p;
		struct fg_ip ip;
		char text[FG_PREFIX_STRLEN];

		random_ip(&ip, family);
		random_ip(&p.ip, family);
		p.len = (uint8_t)(rand() % (int)(fg_ip_len(family) * 8 + 1));
		/* Half the time, make ip share the prefix's first bits. */
		if (i & 2)
			memcpy(ip.addr, p.ip.addr, (size_t)(p.len / 8));
		/* The parser's masking must agree with the reference too. */
		fg_prefix_format(&p, text, sizeof(text));
		struct fg_prefix parsed;

		CU_ASSERT_EQUAL_FATAL(fg_prefix_parse(text, &parsed), 0);
		CU_ASSERT_TRUE(naive_contains(&parsed, &p.ip));
		CU_ASSERT_EQUAL(fg_prefix_contains(&p, &ip), naive_contains(&p, &ip));
		CU_ASSERT_EQUAL(fg_prefix_contains(&parsed, &ip), naive_contains(&parsed, &ip));
	}
}

static void test_contains_edges(void)
{
	struct fg_prefix p;
	struct fg_ip ip;

	CU_ASSERT_EQUAL(fg_prefix_parse("100.64.0.0/11", &p), 0);
	CU_ASSERT_EQUAL(fg_ip_parse("100.95.255.255", &ip), 0);
	CU_ASSERT_TRUE(fg_prefix_contains(&p, &ip));
	CU_ASSERT_EQUAL(fg_ip_parse("100.96.0.0", &ip), 0);
	CU_ASSERT_FALSE(fg_prefix_contains(&p, &ip));
	CU_ASSERT_EQUAL(fg_ip_parse("::ffff:100.64.0.1", &ip), 0);
	CU_ASSERT_FALSE(fg_prefix_contains(&p, &ip));
	CU_ASSERT_EQUAL(fg_prefix_parse("::/0", &p), 0);
	CU_ASSERT_TRUE(fg_prefix_contains(&p, &ip));
}

/* Round trips through the C library's own sockaddr handling (getaddrinfo, numeric only). */
static void test_sockaddr(void)
{
	static const char *const eps[] = { "198.18.1.2:51820", "[fd00:2021:1111::2]:443" };
	struct sockaddr_storage ss;
	struct fg_endpoint ep, back;
	char host[FG_ADDR_STRLEN];

	for (size_t i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(fg_endpoint_parse(eps[i], &ep), 0);
		socklen_t len = fg_endpoint_to_sockaddr(&ep, &ss);

		CU_ASSERT_EQUAL(len, ep.ip.family == AF_INET ? sizeof(struct sockaddr_in)
							   : sizeof(struct sockaddr_in6));
		CU_ASSERT_EQUAL(ss.ss_family, ep.ip.family);
		CU_ASSERT_EQUAL(fg_endpoint_from_sockaddr((struct sockaddr *)&ss, len, &back), 0);
		CU_ASSERT_TRUE(fg_endpoint_equal(&ep, &back));
		CU_ASSERT_EQUAL(fg_endpoint_from_sockaddr((struct sockaddr *)&ss, len - 1, &back), -EINVAL);
		if (ep.ip.family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			CU_ASSERT_EQUAL(ntohs(sin->sin_port), 51820);
			CU_ASSERT_STRING_EQUAL(inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)), "198.18.1.2");
		}
	}

	/* A v4-mapped IPv6 source becomes the IPv4 endpoint. */
	struct sockaddr_in6 sin6;

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_port = htons(9);
	CU_ASSERT_EQUAL(inet_pton(AF_INET6, "::ffff:198.18.0.9", &sin6.sin6_addr), 1);
	CU_ASSERT_EQUAL(fg_endpoint_from_sockaddr((struct sockaddr *)&sin6, sizeof(sin6), &back), 0);
	CU_ASSERT_EQUAL(fg_endpoint_parse("198.18.0.9:9", &ep), 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&ep, &back));

	struct sockaddr un = { .sa_family = AF_UNIX };

	CU_ASSERT_EQUAL(fg_endpoint_from_sockaddr(&un, sizeof(un), &back), -EAFNOSUPPORT);
	CU_ASSERT_EQUAL(fg_endpoint_from_sockaddr(&un, 1, &back), -EINVAL);
	memset(&ep, 0, sizeof(ep));
	CU_ASSERT_EQUAL(fg_endpoint_to_sockaddr(&ep, &ss), 0);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "ip good", test_ip_good },
		{ "ip hostile", test_ip_hostile },
		{ "ip huge", test_ip_huge },
		{ "prefix good", test_prefix_good },
		{ "prefix hostile", test_prefix_hostile },
		{ "endpoint good", test_endpoint_good },
		{ "endpoint hostile", test_endpoint_hostile },
		{ "format small buffers", test_format_small_buffers },
		{ "equal and len", test_equal_and_len },
		{ "contains vs naive", test_contains_vs_naive },
		{ "contains edges", test_contains_edges },
		{ "sockaddr", test_sockaddr },
	};

	return fg_cunit_run("addr", tests, sizeof(tests) / sizeof(tests[0]));
}
