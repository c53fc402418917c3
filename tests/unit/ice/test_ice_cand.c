// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/ice/ice_cand.c: the SDP candidate line against a table of
 * good lines (Firezone's, str0m's, libnice's and browsers' forms) that must parse to the
 * listed values and format back to a line that parses the same, a table of hostile lines
 * that must be refused with a message quoting the bad text, the priority formulas against
 * RFC 8445's worked values and a naive 128-bit reference, foundations, and the USERNAME
 * router. Compiled with ASan and UBSan. Single-threaded.
 */
#include "ice.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include "stun.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

struct good {
	const char *line;
	const char *foundation;
	unsigned component;
	uint8_t transport;
	uint32_t priority;
	const char *addr;          /* IP */
	uint16_t port;
	uint8_t type;
	const char *raddr;         /* IP or NULL */
	uint16_t rport;
	const char *ufrag;
};

static const struct good goods[] = {
	{ "candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx",
	  "7854631899965427361", 1, FG_ICE_UDP, 1694498559, "203.0.113.9", 47717, FG_ICE_SRFLX, NULL, 0, "" },
	{ "candidate:1 1 UDP 2130706431 198.18.5.1 50000 typ host",
	  "1", 1, FG_ICE_UDP, 2130706431, "198.18.5.1", 50000, FG_ICE_HOST, NULL, 0, "" },
	{ "a=candidate:0 1 udp 2122260223 fd00:2021:1111::5 56143 typ host generation 0 network-id 1",
	  "0", 1, FG_ICE_UDP, 2122260223, "fd00:2021:1111::5", 56143, FG_ICE_HOST, NULL, 0, "" },
	{ "candidate:842163049 1 udp 1677729535 198.51.100.7 3478 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag hgwh network-cost 999",
	  "842163049", 1, FG_ICE_UDP, 1677729535, "198.51.100.7", 3478, FG_ICE_SRFLX, "0.0.0.0", 0, "hgwh" },
	{ "candidate:ab+/CD 1 udp 16777215 192.0.2.44 61000 typ relay raddr 203.0.113.9 rport 47717",
	  "ab+/CD", 1, FG_ICE_UDP, 16777215, "192.0.2.44", 61000, FG_ICE_RELAY, "203.0.113.9", 47717, "" },
	{ "candidate:prflx3 1 udp 1862270975 198.18.9.9 40000 typ prflx",
	  "prflx3", 1, FG_ICE_UDP, 1862270975, "198.18.9.9", 40000, FG_ICE_PRFLX, NULL, 0, "" },
	{ "candidate:2 2 udp 2130706430 198.18.5.1 50001 typ host",
	  "2", 2, FG_ICE_UDP, 2130706430, "198.18.5.1", 50001, FG_ICE_HOST, NULL, 0, "" },
	{ "candidate:3 1 tcp 1518280447 198.18.5.1 9 typ host tcptype active",
	  "3", 1, FG_ICE_TCP, 1518280447, "198.18.5.1", 9, FG_ICE_HOST, NULL, 0, "" },
	{ "candidate:4 1 TCP 0 2001:db8::1 0 typ host tcptype active",
	  "4", 1, FG_ICE_TCP, 0, "2001:db8::1", 0, FG_ICE_HOST, NULL, 0, "" },
	{ "candidate:12345678901234567890123456789012 256 udp 4294967295 198.18.5.1 65535 typ relay",
	  "12345678901234567890123456789012", 256, FG_ICE_UDP, 4294967295u, "198.18.5.1", 65535, FG_ICE_RELAY, NULL, 0, "" },
	{ "candidate:5 001 udp 0000000001 198.18.5.1 00080 typ host",
	  "5", 1, FG_ICE_UDP, 1, "198.18.5.1", 80, FG_ICE_HOST, NULL, 0, "" },
	{ "candidate:6 1 udp 100 198.18.5.1 80 typ srflx rport 9",
	  "6", 1, FG_ICE_UDP, 100, "198.18.5.1", 80, FG_ICE_SRFLX, NULL, 0, "" },
};

struct bad {
	const char *line;
	const char *quoted;        /* what the message must quote */
};

static const struct bad bads[] = {
	{ "", "" },
	{ "1 1 UDP 2130706431 198.18.5.1 50000 typ host", "1 1 UDP" },
	{ "a=1 1 udp 1 198.18.5.1 5 typ host", "a=1" },
	{ "candidate: 1 udp 1 198.18.5.1 5 typ host", "" },
	{ "candidate:1  1 udp 1 198.18.5.1 5 typ host", "candidate:1  1" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ host ", "candidate:1" },
	{ "candidate:1\t1 udp 1 198.18.5.1 5 typ host", "candidate:1" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ host\r\n", "candidate:1" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ h\xc3\xb6st", "candidate:1" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ", "candidate:1" },
	{ "candidate:1 1 udp 1 198.18.5.1 5", "candidate:1" },
	{ "candidate:123456789012345678901234567890123 1 udp 1 198.18.5.1 5 typ host", "1234567890" },
	{ "candidate:a-b 1 udp 1 198.18.5.1 5 typ host", "a-b" },
	{ "candidate:1 0 udp 1 198.18.5.1 5 typ host", "0" },
	{ "candidate:1 257 udp 1 198.18.5.1 5 typ host", "257" },
	{ "candidate:1 1a udp 1 198.18.5.1 5 typ host", "1a" },
	{ "candidate:1 1 sctp 1 198.18.5.1 5 typ host", "sctp" },
	{ "candidate:1 1 udp 4294967296 198.18.5.1 5 typ host", "4294967296" },
	{ "candidate:1 1 udp 12345678901 198.18.5.1 5 typ host", "12345678901" },
	{ "candidate:1 1 udp -1 198.18.5.1 5 typ host", "-1" },
	{ "candidate:1 1 udp 0x10 198.18.5.1 5 typ host", "0x10" },
	{ "candidate:1 1 udp 1 3a0f1c3e-1b2a-4f5e-8d9c-1a2b3c4d5e6f.local 5 typ host", "3a0f1c3e" },
	{ "candidate:1 1 udp 1 198.18.5 5 typ host", "198.18.5" },
	{ "candidate:1 1 udp 1 198.18.5.256 5 typ host", "198.18.5.256" },
	{ "candidate:1 1 udp 1 [2001:db8::1] 5 typ host", "[2001:db8::1]" },
	{ "candidate:1 1 udp 1 fe80::1%eth0 5 typ host", "fe80::1%eth0" },
	{ "candidate:1 1 udp 1 0.0.0.0 5 typ host", "0.0.0.0" },
	{ "candidate:1 1 udp 1 :: 5 typ host", "::" },
	{ "candidate:1 1 udp 1 224.0.0.251 5353 typ host", "224.0.0.251" },
	{ "candidate:1 1 udp 1 255.255.255.255 5 typ host", "255.255.255.255" },
	{ "candidate:1 1 udp 1 ff02::fb 5353 typ host", "ff02::fb" },
	{ "candidate:1 1 udp 1 198.18.5.1 0 typ host", "0" },
	{ "candidate:1 1 udp 1 198.18.5.1 65536 typ host", "65536" },
	{ "candidate:1 1 udp 1 198.18.5.1 123456 typ host", "123456" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 type host", "type" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ HOST", "HOST" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ bogus", "bogus" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ srflx raddr", "raddr" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ srflx raddr host.example rport 5", "host.example" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ srflx raddr 0.0.0.0 rport 70000", "70000" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ srflx generation", "generation" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ host ufrag a:b", "a:b" },
	{ "candidate:1 1 udp 1 198.18.5.1 5 typ host ufrag 12345678901234567890123456789012345678901234567890123456789012345",
	  "1234567890" },
};

static void test_good_lines(void)
{
	for (size_t i = 0; i < ARRAY_LEN(goods); i++) {
		const struct good *g = &goods[i];
		struct fg_ice_cand c, c2;
		struct fg_endpoint want;
		char err[128], line[FG_ICE_LINE_MAX];
		int n;

		CU_ASSERT_EQUAL_FATAL(fg_ice_cand_parse(g->line, &c, err, sizeof(err)), 0);
		CU_ASSERT_STRING_EQUAL(c.foundation, g->foundation);
		CU_ASSERT_EQUAL(c.component, g->component);
		CU_ASSERT_EQUAL(c.transport, g->transport);
		CU_ASSERT_EQUAL(c.priority, g->priority);
		CU_ASSERT_EQUAL(c.type, g->type);
		CU_ASSERT_EQUAL_FATAL(fg_ip_parse(g->addr, &want.ip), 0);
		want.port = g->port;
		CU_ASSERT_TRUE(fg_endpoint_equal(&c.addr, &want));
		if (g->raddr) {
			CU_ASSERT_EQUAL_FATAL(fg_ip_parse(g->raddr, &want.ip), 0);
			want.port = g->rport;
			CU_ASSERT_TRUE(fg_endpoint_equal(&c.raddr, &want));
		} else {
			CU_ASSERT_EQUAL(c.raddr.ip.family, 0);
		}
		CU_ASSERT_STRING_EQUAL(c.ufrag, g->ufrag);
		/* formatted back, it parses to the same values (extensions aside) */
		n = fg_ice_cand_format(&c, line, sizeof(line));
		CU_ASSERT_TRUE_FATAL(n > 0 && (size_t)n == strlen(line));
		CU_ASSERT_EQUAL_FATAL(fg_ice_cand_parse(line, &c2, err, sizeof(err)), 0);
		CU_ASSERT_STRING_EQUAL(c2.foundation, c.foundation);
		CU_ASSERT_EQUAL(c2.component, c.component);
		CU_ASSERT_EQUAL(c2.transport, c.transport);
		CU_ASSERT_EQUAL(c2.priority, c.priority);
		CU_ASSERT_EQUAL(c2.type, c.type);
		CU_ASSERT_TRUE(fg_endpoint_equal(&c2.addr, &c.addr));
		CU_ASSERT_TRUE(fg_endpoint_equal(&c2.raddr, &c.raddr));
		CU_ASSERT_TRUE(fg_ice_cand_same(&c, &c2));
	}
}

static void test_firezone_form(void)
{
	static const char *const want = "candidate:7854631899965427361 1 udp 1694498559 203.0.113.9 47717 typ srflx";
	struct fg_ice_cand c;
	char line[FG_ICE_LINE_MAX];

	CU_ASSERT_EQUAL_FATAL(fg_ice_cand_parse(want, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(fg_ice_cand_format(&c, line, sizeof(line)), (int)strlen(want));
	CU_ASSERT_STRING_EQUAL(line, want);
	/* IPv6 without brackets, raddr/rport as str0m writes them */
	CU_ASSERT_EQUAL_FATAL(fg_ice_cand_parse("candidate:9 1 udp 16776959 2001:db8::7 3478 typ relay raddr :: rport 0",
						&c, NULL, 0), 0);
	CU_ASSERT_TRUE(fg_ice_cand_format(&c, line, sizeof(line)) > 0);
	CU_ASSERT_STRING_EQUAL(line, "candidate:9 1 udp 16776959 2001:db8::7 3478 typ relay raddr :: rport 0");
	/* too small a buffer */
	CU_ASSERT_EQUAL(fg_ice_cand_format(&c, line, 20), -ENOSPC);
	/* values the parser would refuse are not written */
	c.foundation[0] = '\0';
	CU_ASSERT_EQUAL(fg_ice_cand_format(&c, line, sizeof(line)), -EINVAL);
}

static void test_hostile_lines(void)
{
	char longline[400];
	struct fg_ice_cand c;
	char err[160];

	for (size_t i = 0; i < ARRAY_LEN(bads); i++) {
		memset(err, 0, sizeof(err));
		CU_ASSERT_EQUAL(fg_ice_cand_parse(bads[i].line, &c, err, sizeof(err)), -EINVAL);
		CU_ASSERT_TRUE(err[0] != '\0');
		if (!strstr(err, bads[i].quoted)) {
			fprintf(stderr, "line %zu: \"%s\" does not quote \"%s\"\n", i, err, bads[i].quoted);
			CU_FAIL("error does not quote the bad text");
		}
	}
	/* 255 bytes after "candidate:" is too long, whatever it says */
	snprintf(longline, sizeof(longline), "candidate:1 1 udp 1 198.18.5.1 5 typ host");
	for (size_t n = strlen(longline); n < 300; n += 4)
		strcat(longline, " a b");
	CU_ASSERT_EQUAL(fg_ice_cand_parse(longline, &c, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "longer than 255"));
	/* no line, no error buffer, a one-byte error buffer */
	CU_ASSERT_EQUAL(fg_ice_cand_parse(NULL, &c, NULL, 0), -EINVAL);
	CU_ASSERT_EQUAL(fg_ice_cand_parse("candidate:x", &c, err, 1), -EINVAL);
	CU_ASSERT_EQUAL(err[0], '\0');
}

__extension__ typedef unsigned __int128 u128;

/* Naive reference: the RFC's formula in 128-bit arithmetic. */
static uint64_t naive_pair(uint32_t g, uint32_t d)
{
	u128 lo = g < d ? g : d, hi = g < d ? d : g;

	return (uint64_t)(((u128)1 << 32) * lo + 2 * hi + (g > d ? 1 : 0));
}

static void test_priorities(void)
{
	static const uint32_t v[] = { 0, 1, 2, 255, 16777215, 1694498559, 2130706431, 2130706175,
				      0x7fffffff, 0x80000000u, 0xfffffffeu, 0xffffffffu };

	/* RFC 8445 §5.1.2.1 with the recommended type preferences, component 1 */
	CU_ASSERT_EQUAL(fg_ice_priority(FG_ICE_HOST, 65535, 1), 2130706431u);
	CU_ASSERT_EQUAL(fg_ice_priority(FG_ICE_PRFLX, 65535, 1), 1862270975u);
	CU_ASSERT_EQUAL(fg_ice_priority(FG_ICE_SRFLX, 65535, 1), 1694498815u);
	CU_ASSERT_EQUAL(fg_ice_priority(FG_ICE_RELAY, 65535, 1), 16777215u);
	CU_ASSERT_EQUAL(fg_ice_priority(FG_ICE_HOST, 65534, 2), 2130706174u);
	CU_ASSERT_EQUAL(fg_ice_type_pref(FG_ICE_HOST), 126);
	CU_ASSERT_EQUAL(fg_ice_type_pref(FG_ICE_PRFLX), 110);
	CU_ASSERT_EQUAL(fg_ice_type_pref(FG_ICE_SRFLX), 100);
	CU_ASSERT_EQUAL(fg_ice_type_pref(FG_ICE_RELAY), 0);
	for (size_t i = 0; i < ARRAY_LEN(v); i++)
		for (size_t j = 0; j < ARRAY_LEN(v); j++)
			CU_ASSERT_EQUAL(fg_ice_pair_priority(v[i], v[j]), naive_pair(v[i], v[j]));
	/* G > D breaks the tie toward the controlling agent's better candidate */
	CU_ASSERT_EQUAL(fg_ice_pair_priority(2, 1) - fg_ice_pair_priority(1, 2), 1);
}

static void test_foundations(void)
{
	struct fg_endpoint a, b;
	char f1[FG_ICE_FOUNDATION_MAX + 1], f2[FG_ICE_FOUNDATION_MAX + 1];

	CU_ASSERT_EQUAL_FATAL(fg_endpoint_parse("198.18.0.1:51820", &a), 0);
	CU_ASSERT_EQUAL_FATAL(fg_endpoint_parse("198.18.0.1:1000", &b), 0);
	fg_ice_foundation(FG_ICE_HOST, &a.ip, NULL, FG_ICE_UDP, f1);
	fg_ice_foundation(FG_ICE_HOST, &b.ip, NULL, FG_ICE_UDP, f2);
	CU_ASSERT_STRING_EQUAL(f1, f2);           /* ports do not count */
	CU_ASSERT_TRUE(fg_ice_chars(f1, 1, FG_ICE_FOUNDATION_MAX));
	fg_ice_foundation(FG_ICE_SRFLX, &a.ip, "r1", FG_ICE_UDP, f2);
	CU_ASSERT_STRING_NOT_EQUAL(f1, f2);       /* nor do types */
	fg_ice_foundation(FG_ICE_SRFLX, &a.ip, "r2", FG_ICE_UDP, f1);
	CU_ASSERT_STRING_NOT_EQUAL(f1, f2);       /* nor servers */
	fg_ice_foundation(FG_ICE_SRFLX, &a.ip, "r2", FG_ICE_TCP, f2);
	CU_ASSERT_STRING_NOT_EQUAL(f1, f2);       /* nor transports */
	CU_ASSERT_STRING_EQUAL(fg_ice_cand_type_name(FG_ICE_RELAY), "relay");
	CU_ASSERT_STRING_EQUAL(fg_ice_cand_type_name((enum fg_ice_cand_type)9), "?");
}

static int request(uint8_t *buf, size_t cap, uint16_t method, enum fg_stun_class cls,
		   const char *user)
{
	static const uint8_t txid[FG_STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
	struct fg_stun_builder b;

	fg_stun_build_start(&b, buf, cap, method, cls, txid);
	if (user)
		fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, user);
	fg_stun_add_fingerprint(&b);
	return fg_stun_build_finish(&b);
}

static void test_route_username(void)
{
	uint8_t buf[256];
	char out[FG_ICE_UFRAG_MAX + 1];
	int n;

	n = request(buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_REQUEST, "ejqt:hgwh");
	CU_ASSERT_EQUAL(fg_ice_route_username(buf, (size_t)n, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "ejqt");
	CU_ASSERT_EQUAL(fg_ice_route_username(buf, (size_t)n, out, 4), -ENOSPC);
	n = request(buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_REQUEST, ":hgwh");
	CU_ASSERT_EQUAL(fg_ice_route_username(buf, (size_t)n, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	n = request(buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_REQUEST, "ejqthgwh");
	CU_ASSERT_EQUAL(fg_ice_route_username(buf, (size_t)n, out, sizeof(out)), -ENOENT);
	n = request(buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_REQUEST, NULL);
	CU_ASSERT_EQUAL(fg_ice_route_username(buf, (size_t)n, out, sizeof(out)), -ENOENT);
	n = request(buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_SUCCESS, "ejqt:hgwh");
	CU_ASSERT_EQUAL(fg_ice_route_username(buf, (size_t)n, out, sizeof(out)), -ENOENT);
	n = request(buf, sizeof(buf), FG_STUN_ALLOCATE, FG_STUN_REQUEST, "ejqt:hgwh");
	CU_ASSERT_EQUAL(fg_ice_route_username(buf, (size_t)n, out, sizeof(out)), -ENOENT);
	n = request(buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_REQUEST, "ejqt:hgwh");
	buf[n - 1] ^= 1;   /* a wrong FINGERPRINT */
	CU_ASSERT_EQUAL(fg_ice_route_username(buf, (size_t)n, out, sizeof(out)), -EBADMSG);
	CU_ASSERT_EQUAL(fg_ice_route_username((const uint8_t *)"\x01\x00", 2, out, sizeof(out)), -EBADMSG);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "good lines parse and format back", test_good_lines },
		{ "Firezone's and str0m's forms written exactly", test_firezone_form },
		{ "hostile lines refused, quoting the bad text", test_hostile_lines },
		{ "candidate and pair priorities (RFC 8445, naive reference)", test_priorities },
		{ "foundations", test_foundations },
		{ "the USERNAME router", test_route_username },
	};

	return fg_cunit_run("ice_cand", tests, ARRAY_LEN(tests));
}
