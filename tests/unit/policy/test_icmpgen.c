/* SPDX-License-Identifier: MIT */
/*
 * fg_icmpgen_*: every header field of the ICMP errors, both checksums verified with the
 * test's own byte-wise sum, quoting at its boundaries (IPv4 options, short packets, IPv6
 * originals of 1232 / 1233 / 1280 bytes and more, caps that cut the quote), the cases where
 * no error may be sent, hostile originals (every truncation, lying lengths, extension
 * chains), and p2p control round trips with hostile parses. Originals and outputs live in
 * exactly-sized heap buffers under ASan/UBSan. Test thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "icmpgen.h"
#include "pkts.h"

enum kind { PROHIBITED, UNREACHABLE };

/* Runs a generator with orig and out both in exactly-sized heap buffers. */
static uint32_t gen(enum kind k, uint8_t *out_copy, uint32_t cap, const uint8_t *orig,
		    uint32_t orig_len)
{
	uint8_t *in = tp_tail(orig, orig_len), *out = malloc(cap ? cap : 1);
	uint32_t n;

	CU_ASSERT_FATAL(out != NULL);
	n = k == PROHIBITED ? fg_icmpgen_prohibited(out, cap, in, orig_len)
			    : fg_icmpgen_net_unreachable(out, cap, in, orig_len);
	CU_ASSERT(n <= cap);
	if (out_copy && n)
		memcpy(out_copy, out, n);
	free(out);
	free(in);
	return n;
}

/* Checks every field of an ICMP error built for orig (IP length tlen) quoting quote bytes. */
static void check_error(const uint8_t *e, uint32_t n, const uint8_t *orig, enum kind k,
			uint32_t quote)
{
	if (orig[0] >> 4 == 4) {
		CU_ASSERT_EQUAL_FATAL(n, 20 + 8 + quote);
		CU_ASSERT_EQUAL(e[0], 0x45);
		CU_ASSERT_EQUAL(e[1], 0);
		CU_ASSERT_EQUAL(tp_get16(e + 2), n);
		CU_ASSERT_EQUAL(tp_get16(e + 4), 0);
		CU_ASSERT_EQUAL(tp_get16(e + 6), 0x4000);     /* DF, offset 0 */
		CU_ASSERT_EQUAL(e[8], 20);
		CU_ASSERT_EQUAL(e[9], 1);
		CU_ASSERT(tp_ip4_csum_ok(e));
		CU_ASSERT_EQUAL(memcmp(e + 12, orig + 16, 4), 0);
		CU_ASSERT_EQUAL(memcmp(e + 16, orig + 12, 4), 0);
		CU_ASSERT_EQUAL(e[20], 3);
		CU_ASSERT_EQUAL(e[21], k == PROHIBITED ? 13 : 0);
		CU_ASSERT(tp_icmp_csum_ok(e, n));
		CU_ASSERT_EQUAL(e[24] | e[25] | e[26] | e[27], 0);
		CU_ASSERT_EQUAL(memcmp(e + 28, orig, quote), 0);
	} else {
		CU_ASSERT_EQUAL_FATAL(n, 40 + 8 + quote);
		CU_ASSERT_EQUAL(e[0], 0x60);
		CU_ASSERT_EQUAL(e[1] | e[2] | e[3], 0);       /* traffic class, flow label */
		CU_ASSERT_EQUAL(tp_get16(e + 4), n - 40);
		CU_ASSERT_EQUAL(e[6], 58);
		CU_ASSERT_EQUAL(e[7], 20);
		CU_ASSERT_EQUAL(memcmp(e + 8, orig + 24, 16), 0);
		CU_ASSERT_EQUAL(memcmp(e + 24, orig + 8, 16), 0);
		CU_ASSERT_EQUAL(e[40], 1);
		CU_ASSERT_EQUAL(e[41], k == PROHIBITED ? 1 : 3);
		CU_ASSERT(tp_icmp_csum_ok(e, n));
		CU_ASSERT_EQUAL(e[44] | e[45] | e[46] | e[47], 0);
		CU_ASSERT_EQUAL(memcmp(e + 48, orig, quote), 0);
	}
}

/* Builds spec, generates both kinds into a roomy buffer and checks the quote length. */
static void expect_quote(const struct tp_spec *s, uint32_t quote)
{
	uint8_t orig[TP_MAX], e[TP_MAX];
	uint32_t len = tp_build(orig, s);

	for (int k = PROHIBITED; k <= UNREACHABLE; k++) {
		uint32_t n = gen((enum kind)k, e, 2000, orig, len);

		check_error(e, n, orig, (enum kind)k, quote);
	}
}

static void expect_refused(const struct tp_spec *s)
{
	uint8_t orig[TP_MAX];
	uint32_t len = tp_build(orig, s);

	CU_ASSERT_EQUAL(gen(PROHIBITED, NULL, 2000, orig, len), 0);
	CU_ASSERT_EQUAL(gen(UNREACHABLE, NULL, 2000, orig, len), 0);
}

#define C4 "100.64.0.2"
#define C6 "fd00:2021:1111::2"

static void test_ipv4_quote(void)
{
	/* Header + 8 bytes of a longer packet. */
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 6, .dport = 80, .payload = 100 }, 28);
	/* Options are quoted with the header. */
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 6, .ip4_opts = 4 }, 32);
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 17, .ip4_opts = 40, .payload = 50 }, 68);
	/* Shorter packets are quoted whole. */
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 17 }, 28);
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 47, .payload = 3 }, 23);
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 47 }, 20);
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 47, .ip4_opts = 40, .payload = 7 }, 67);
	/* Padding past the IP length is not quoted. */
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 47, .payload = 2, .pad = 30 }, 22);
	/* A first fragment and an echo may be answered; 240/4 too (Internet exclusion). */
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 6, .more_frags = true, .payload = 60 }, 28);
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = TP_ICMP, .icmp_type = 8, .payload = 56 }, 28);
	expect_quote(&(struct tp_spec){ .src = C4, .dst = "240.0.0.1", .proto = 17 }, 28);
}

static void test_ipv4_cap(void)
{
	uint8_t orig[TP_MAX], e[TP_MAX];
	uint32_t len = tp_build(orig, &(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 6, .ip4_opts = 8, .payload = 20 });

	CU_ASSERT_EQUAL(gen(PROHIBITED, e, 64, orig, len), 64);
	check_error(e, 64, orig, PROHIBITED, 36);
	CU_ASSERT_EQUAL(gen(PROHIBITED, e, 63, orig, len), 0);
	CU_ASSERT_EQUAL(gen(UNREACHABLE, e, 0, orig, len), 0);
}

/* A v6 UDP packet of exactly tlen bytes. */
static uint32_t v6_of(uint8_t *orig, uint32_t tlen, uint32_t pad)
{
	return tp_build(orig, &(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = 17,
						 .dport = 53, .payload = tlen - 48, .pad = pad });
}

static void test_ipv6_quote(void)
{
	static const uint32_t sizes[][2] = {
		{ 48, 48 }, { 49, 49 }, { 1231, 1231 }, { 1232, 1232 }, { 1233, 1232 },
		{ 1279, 1232 }, { 1280, 1232 }, { 1500, 1232 },
	};
	uint8_t orig[TP_MAX], e[TP_MAX];

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint32_t len = v6_of(orig, sizes[i][0], i % 2 ? 7 : 0);

		for (int k = PROHIBITED; k <= UNREACHABLE; k++) {
			uint32_t n = gen((enum kind)k, e, 2000, orig, len);

			check_error(e, n, orig, (enum kind)k, sizes[i][1]);
			CU_ASSERT(n <= 1280);
		}
	}
	/* Extension headers are quoted as packet bytes; an atomic fragment is answered. */
	expect_quote(&(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = 6, .ext6 = 3, .frag6 = true }, 40 + 32 + 20);
	expect_quote(&(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = TP_ICMP, .icmp_type = 128, .ext6 = 1 }, 40 + 8 + 8);
	expect_quote(&(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = TP_ICMP, .icmp_type = 129, .ah6 = true }, 40 + 24 + 8);
	expect_quote(&(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = 6, .more_frags = true }, 40 + 8 + 20);
}

static void test_ipv6_cap(void)
{
	uint8_t orig[TP_MAX], e[TP_MAX];
	uint32_t len = v6_of(orig, 1280, 0);

	CU_ASSERT_EQUAL(gen(PROHIBITED, e, 1280, orig, len), 1280);
	check_error(e, 1280, orig, PROHIBITED, 1232);
	CU_ASSERT_EQUAL(gen(PROHIBITED, e, 1279, orig, len), 1279);
	check_error(e, 1279, orig, PROHIBITED, 1231);
	CU_ASSERT_EQUAL(gen(UNREACHABLE, e, 500, orig, len), 500);
	check_error(e, 500, orig, UNREACHABLE, 452);
	CU_ASSERT_EQUAL(gen(UNREACHABLE, e, 88, orig, len), 88);   /* just the original header */
	check_error(e, 88, orig, UNREACHABLE, 40);
	CU_ASSERT_EQUAL(gen(UNREACHABLE, e, 87, orig, len), 0);
	/* A short original needs no more room than itself. */
	len = v6_of(orig, 48, 0);
	CU_ASSERT_EQUAL(gen(PROHIBITED, e, 96, orig, len), 96);
	CU_ASSERT_EQUAL(gen(PROHIBITED, e, 95, orig, len), 95);
	check_error(e, 95, orig, PROHIBITED, 47);
}

static void test_refusals(void)
{
	static const uint8_t errors4[] = { 3, 4, 5, 11, 12 };
	static const uint8_t errors6[] = { 1, 2, 3, 4, 0, 100, 127 };
	uint8_t b[TP_MAX];
	uint32_t n;

	for (size_t i = 0; i < sizeof(errors4); i++)
		expect_refused(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = TP_ICMP, .icmp_type = errors4[i], .payload = 28 });
	for (size_t i = 0; i < sizeof(errors6); i++) {
		expect_refused(&(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = TP_ICMP, .icmp_type = errors6[i] });
		expect_refused(&(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = TP_ICMP, .icmp_type = errors6[i], .ext6 = 2, .frag6 = true });
		expect_refused(&(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = TP_ICMP, .icmp_type = errors6[i], .ah6 = true });
	}
	/* Too short to tell its type. */
	expect_refused(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = TP_ICMP, .l4_cut = 8 });
	expect_refused(&(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = TP_ICMP, .l4_cut = 8 });
	/* Non-first fragments. */
	expect_refused(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 6, .frag_off = 1 });
	expect_refused(&(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 17, .frag_off = 8191, .more_frags = true });
	expect_refused(&(struct tp_spec){ .src = C6, .dst = "2001:db8::1", .proto = 6, .frag_off = 1, .ext6 = 1 });
	/* Sources an error cannot go to, destinations it cannot come from. */
	expect_refused(&(struct tp_spec){ .src = "0.0.0.0", .dst = "10.0.0.1", .proto = 17 });
	expect_refused(&(struct tp_spec){ .src = "224.0.0.1", .dst = "10.0.0.1", .proto = 17 });
	expect_refused(&(struct tp_spec){ .src = "240.0.0.1", .dst = "10.0.0.1", .proto = 17 });
	expect_refused(&(struct tp_spec){ .src = C4, .dst = "239.1.1.1", .proto = 17 });
	expect_refused(&(struct tp_spec){ .src = C4, .dst = "255.255.255.255", .proto = 17 });
	expect_refused(&(struct tp_spec){ .src = "::", .dst = "2001:db8::1", .proto = 17 });
	expect_refused(&(struct tp_spec){ .src = "ff02::1", .dst = "2001:db8::1", .proto = 17 });
	expect_refused(&(struct tp_spec){ .src = C6, .dst = "ff05::2", .proto = 17 });
	/* The p2p control packet (source ::). */
	n = fg_icmpgen_p2p_control(b, sizeof(b), FG_P2P_GOODBYE, NULL, 0);
	CU_ASSERT_EQUAL(gen(PROHIBITED, NULL, 2000, b, n), 0);
	/* No buffers. */
	n = tp_build(b, &(struct tp_spec){ .src = C4, .dst = "10.0.0.1", .proto = 17 });
	CU_ASSERT_EQUAL(fg_icmpgen_prohibited(NULL, 100, b, n), 0);
	CU_ASSERT_EQUAL(fg_icmpgen_net_unreachable(b + 64, 64, NULL, n), 0);
}

/* Malformed originals: every truncation, lying lengths and versions, cut extension chains. */
static void test_hostile_originals(void)
{
	static const struct tp_spec specs[] = {
		{ .src = C4, .dst = "10.0.0.1", .proto = 6, .ip4_opts = 8, .payload = 5 },
		{ .src = C6, .dst = "2001:db8::1", .proto = 17, .ext6 = 2, .payload = 3 },
		{ .src = C6, .dst = "2001:db8::1", .proto = TP_ICMP, .icmp_type = 128, .frag6 = true },
	};
	uint8_t b[TP_MAX];
	unsigned answered = 0, bad = 0;

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		uint32_t full = tp_build(b, &specs[i]);
		bool v4 = b[0] >> 4 == 4;

		for (uint32_t len = 0; len < full; len++)
			bad += gen(PROHIBITED, NULL, 2000, b, len) != 0;
		CU_ASSERT_NOT_EQUAL(gen(PROHIBITED, NULL, 2000, b, full), 0);
		for (unsigned ver = 0; ver < 16; ver++) {
			uint8_t keep = b[0];

			b[0] = (uint8_t)(ver << 4 | (keep & 15));
			if (ver != 4 && ver != 6)
				bad += gen(PROHIBITED, NULL, 2000, b, full) != 0;
			else
				gen(PROHIBITED, NULL, 2000, b, full);   /* no crash is all we ask */
			b[0] = keep;
		}
		/* Length fields beyond the buffer are refused, shorter ones bound the quote. */
		for (uint32_t field = 0; field < full + 10; field++) {
			uint8_t keep[2] = { b[v4 ? 2 : 4], b[v4 ? 3 : 5] };
			uint32_t tlen = v4 ? field : 40 + field;
			uint8_t e[TP_MAX];
			uint32_t n;

			tp_put16(b + (v4 ? 2 : 4), (uint16_t)field);
			n = gen(UNREACHABLE, e, 2000, b, full);
			if (tlen > full)
				bad += n != 0;
			if (n) {
				answered++;
				CU_ASSERT(n <= 28 + tlen || (!v4 && n <= 48 + tlen));
				CU_ASSERT(tp_icmp_csum_ok(e, n));
			}
			memcpy(b + (v4 ? 2 : 4), keep, 2);
		}
		if (v4) {
			for (unsigned ihl = 0; ihl < 5; ihl++) {
				uint8_t keep = b[0];

				b[0] = (uint8_t)(0x40 | ihl);
				bad += gen(PROHIBITED, NULL, 2000, b, full) != 0;
				b[0] = keep;
			}
		} else {
			/* Extension header lengths that run past the packet. */
			for (unsigned v = 0; v < 256; v++) {
				uint8_t keep = b[41];

				b[41] = (uint8_t)v;
				gen(PROHIBITED, NULL, 2000, b, full);
				b[41] = keep;
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(answered > 0);
}

static void test_p2p_roundtrip(void)
{
	static const uint32_t lens[] = { 0, 1, 77, 1231, FG_ICMPGEN_P2P_MAX_BODY };
	static uint8_t body[FG_ICMPGEN_P2P_MAX_BODY + 1];

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (uint8_t ev = 0; ev <= 3; ev++) {
			uint32_t want = 48 + lens[i];
			uint8_t *out = malloc(want);
			const uint8_t *pb = NULL;
			uint32_t n, blen = 99;
			uint8_t got = 99;

			CU_ASSERT_FATAL(out != NULL);
			n = fg_icmpgen_p2p_control(out, want, ev, lens[i] ? body : NULL, lens[i]);
			CU_ASSERT_EQUAL_FATAL(n, want);
			CU_ASSERT_EQUAL(out[0], 0x60);
			CU_ASSERT_EQUAL(out[1] | out[2] | out[3], 0);
			CU_ASSERT_EQUAL(tp_get16(out + 4), 8 + lens[i]);
			CU_ASSERT_EQUAL(out[6], 0xff);
			CU_ASSERT_EQUAL(out[7], 0);
			for (unsigned j = 8; j < 40; j++)
				CU_ASSERT_EQUAL(out[j], 0);
			CU_ASSERT_EQUAL(out[40], ev);
			for (unsigned j = 41; j < 48; j++)
				CU_ASSERT_EQUAL(out[j], 0);
			CU_ASSERT_EQUAL(memcmp(out + 48, body, lens[i]), 0);
			CU_ASSERT_EQUAL(fg_icmpgen_p2p_parse(out, n, &got, &pb, &blen), 0);
			CU_ASSERT_EQUAL(got, ev);
			CU_ASSERT_PTR_EQUAL(pb, out + 48);
			CU_ASSERT_EQUAL(blen, lens[i]);
			/* One byte less room, and it is not built. */
			CU_ASSERT_EQUAL(fg_icmpgen_p2p_control(out, want - 1, ev, body, lens[i]), 0);
			free(out);
		}
	}
	{
		uint8_t out[1400];
		const char *json = "{\"resource\":\"r\",\"domain\":\"app.corp.example\",\"status\":\"Active\"}";
		const uint8_t *pb;
		uint32_t blen, n = fg_icmpgen_p2p_control(out, sizeof(out), FG_P2P_DOMAIN_STATUS, json,
							  (uint32_t)strlen(json));
		uint8_t ev;

		CU_ASSERT_EQUAL(n, 48 + strlen(json));
		CU_ASSERT_EQUAL(fg_icmpgen_p2p_parse(out, n, &ev, &pb, &blen), 0);
		CU_ASSERT_EQUAL(ev, FG_P2P_DOMAIN_STATUS);
		CU_ASSERT_EQUAL(blen, strlen(json));
		CU_ASSERT_EQUAL(memcmp(pb, json, blen), 0);
		CU_ASSERT_EQUAL(fg_icmpgen_p2p_control(out, sizeof(out), 0, body, FG_ICMPGEN_P2P_MAX_BODY + 1), 0);
		CU_ASSERT_EQUAL(fg_icmpgen_p2p_control(out, sizeof(out), 0, NULL, 1), 0);
		CU_ASSERT_EQUAL(fg_icmpgen_p2p_control(NULL, sizeof(out), 0, NULL, 0), 0);
		CU_ASSERT_EQUAL(fg_icmpgen_p2p_control(out, 47, 0, NULL, 0), 0);
	}
}

/* A parse that must fail and leave its outputs alone. */
static void parse_fails(const uint8_t *b, uint32_t len)
{
	uint8_t *pkt = tp_tail(b, len);
	const uint8_t *body = (const uint8_t *)"x";
	uint32_t blen = 1234;
	uint8_t ev = 42;

	CU_ASSERT_EQUAL(fg_icmpgen_p2p_parse(pkt, len, &ev, &body, &blen), -EINVAL);
	CU_ASSERT(ev == 42 && blen == 1234 && body[0] == 'x');
	free(pkt);
}

static void test_p2p_parse_hostile(void)
{
	uint8_t b[256], keep;
	uint32_t n = fg_icmpgen_p2p_control(b, sizeof(b), FG_P2P_ASSIGNED_IPS, "{}", 2);
	const uint8_t *pb;
	uint32_t blen;
	uint8_t ev;

	CU_ASSERT_EQUAL_FATAL(n, 50);
	for (uint32_t len = 0; len < n; len++)
		parse_fails(b, len);
	for (unsigned i = 8; i < 40; i++) {   /* any non-zero address byte */
		keep = b[i];
		b[i] = 1;
		parse_fails(b, n);
		b[i] = keep;
	}
	b[6] = 58;
	parse_fails(b, n);
	b[6] = 0xff;
	b[0] = 0x40;
	parse_fails(b, n);
	b[0] = 0x60;
	tp_put16(b + 4, 7);      /* shorter than the header */
	parse_fails(b, n);
	tp_put16(b + 4, 11);     /* longer than the packet */
	parse_fails(b, n);
	/* Trailing padding stays out of the body; the header's other bytes are not checked. */
	tp_put16(b + 4, 9);
	b[45] = 0x55;
	CU_ASSERT_EQUAL(fg_icmpgen_p2p_parse(b, n, &ev, &pb, &blen), 0);
	CU_ASSERT_EQUAL(blen, 1);
	CU_ASSERT_EQUAL(pb[0], '{');
	CU_ASSERT_EQUAL(fg_icmpgen_p2p_parse(b, n, NULL, NULL, NULL), 0);
	CU_ASSERT_EQUAL(fg_icmpgen_p2p_parse(NULL, n, NULL, NULL, NULL), -EINVAL);
}

static const struct fg_cunit_test icmpgen_tests[] = {
	{ "IPv4 fields and quoting", test_ipv4_quote },
	{ "IPv4 cap", test_ipv4_cap },
	{ "IPv6 fields and quoting at 1280", test_ipv6_quote },
	{ "IPv6 cap", test_ipv6_cap },
	{ "no error answers these", test_refusals },
	{ "hostile originals", test_hostile_originals },
	{ "p2p control round trip", test_p2p_roundtrip },
	{ "p2p parse hostile", test_p2p_parse_hostile },
};

const struct fg_cunit_suite icmpgen_suite = {
	"icmpgen", NULL, NULL,
	icmpgen_tests, sizeof(icmpgen_tests) / sizeof(icmpgen_tests[0]),
};
