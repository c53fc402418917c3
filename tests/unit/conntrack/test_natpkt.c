// SPDX-License-Identifier: MIT
/*
 * natpkt (dataplane/worker/natpkt.c), no EAL: parsing, the hostile-input table (every case
 * in a buffer of exactly its length, natpkt.c compiled in with ASan and UBSan so an
 * over-read aborts), the two rewrites checked against a full recomputation of every
 * checksum over many random packets, and the rebuilt ICMP errors byte for byte against
 * packets built here by hand.
 */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "natpkt.h"
#include "tpkt.h"
#include "../cunit_run.h"

enum { BUF = 2048 };

static uint32_t rng_state = 0x2545f491;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Parses a copy of pkt in a buffer of exactly len bytes. */
static int parse_exact(const uint8_t *pkt, uint32_t len, struct fg_natpkt *np)
{
	uint8_t *b = malloc(len ? len : 1);
	int r;

	memcpy(b, pkt, len);
	r = fg_natpkt_parse(b, len, np);
	free(b);
	return r;
}

static uint32_t build(uint8_t *buf, int family, uint8_t proto, uint8_t type, uint32_t payload)
{
	struct tpkt t = {
		.family = family, .proto = proto, .sport = 40000, .dport = 443, .icmp_type = type,
		.payload = payload, .seed = 7,
		.src = tpkt_ip(family == AF_INET ? "100.64.0.2" : "fd00:2021:1111::2"),
		.dst = tpkt_ip(family == AF_INET ? "100.96.0.1" : "fd00:2021:1111:8000::1"),
	};

	return tpkt_build(buf, BUF, &t);
}

/* ---- parsing ---------------------------------------------------------------------------- */

static void test_parse_kinds(void)
{
	static const struct {
		int family;
		uint8_t proto, type, l4;
	} cases[] = {
		{ AF_INET, 6, 0, FG_NATPKT_TCP },          { AF_INET, 17, 0, FG_NATPKT_UDP },
		{ AF_INET, 1, 8, FG_NATPKT_ECHO_REQUEST }, { AF_INET, 1, 0, FG_NATPKT_ECHO_REPLY },
		{ AF_INET, 1, 3, FG_NATPKT_ICMP_ERROR },   { AF_INET, 1, 11, FG_NATPKT_ICMP_ERROR },
		{ AF_INET, 1, 12, FG_NATPKT_OTHER },       { AF_INET, 1, 5, FG_NATPKT_OTHER },
		{ AF_INET6, 6, 0, FG_NATPKT_TCP },         { AF_INET6, 17, 0, FG_NATPKT_UDP },
		{ AF_INET6, 58, 128, FG_NATPKT_ECHO_REQUEST }, { AF_INET6, 58, 129, FG_NATPKT_ECHO_REPLY },
		{ AF_INET6, 58, 1, FG_NATPKT_ICMP_ERROR }, { AF_INET6, 58, 2, FG_NATPKT_ICMP_ERROR },
		{ AF_INET6, 58, 3, FG_NATPKT_ICMP_ERROR }, { AF_INET6, 58, 4, FG_NATPKT_OTHER },
		{ AF_INET6, 58, 135, FG_NATPKT_OTHER },    { AF_INET6, 1, 8, FG_NATPKT_OTHER },
		{ AF_INET, 58, 128, FG_NATPKT_OTHER },
	};
	uint8_t buf[BUF];
	struct fg_natpkt np;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t n = build(buf, cases[i].family, cases[i].proto, cases[i].type, 16);

		CU_ASSERT_EQUAL_FATAL(parse_exact(buf, n, &np), 0);
		CU_ASSERT_EQUAL(np.l4, cases[i].l4);
		CU_ASSERT_EQUAL(np.family, cases[i].family);
		CU_ASSERT_EQUAL(np.proto, cases[i].proto);
		CU_ASSERT_EQUAL(np.len, n);
		CU_ASSERT_EQUAL(np.l4_off, cases[i].family == AF_INET ? 20 : 40);
		if (cases[i].l4 == FG_NATPKT_TCP || cases[i].l4 == FG_NATPKT_UDP) {
			CU_ASSERT_EQUAL(np.sport, 40000);
			CU_ASSERT_EQUAL(np.dport, 443);
		}
		if (cases[i].l4 == FG_NATPKT_ECHO_REQUEST || cases[i].l4 == FG_NATPKT_ECHO_REPLY) {
			CU_ASSERT_EQUAL(np.sport, 40000);   /* the echo id, both ways */
			CU_ASSERT_EQUAL(np.dport, 40000);
		}
	}
	/* WireGuard padding past the IP length is not the packet's. */
	uint32_t n = build(buf, AF_INET, 17, 0, 3);

	memset(buf + n, 0xee, 13);
	CU_ASSERT_EQUAL(parse_exact(buf, n + 13, &np), 0);
	CU_ASSERT_EQUAL(np.len, n);
	/* TCP flags. */
	struct tpkt t = { .family = AF_INET, .proto = 6, .src = tpkt_ip("1.2.3.4"), .dst = tpkt_ip("5.6.7.8"),
			  .sport = 1, .dport = 2, .tcp_flags = FG_NATPKT_FIN | FG_NATPKT_RST | 0x10 };

	n = tpkt_build(buf, BUF, &t);
	CU_ASSERT_EQUAL(parse_exact(buf, n, &np), 0);
	CU_ASSERT_EQUAL(np.tcp_flags, FG_NATPKT_FIN | FG_NATPKT_RST | 0x10);
}

/* ---- the hostile-input table ------------------------------------------------------------- */

typedef uint32_t (*mutate_fn)(uint8_t *b, uint32_t n);

static uint32_t m_empty(uint8_t *b, uint32_t n) { (void)b; (void)n; return 0; }
static uint32_t m_one(uint8_t *b, uint32_t n) { (void)n; b[0] = 0x45; return 1; }
static uint32_t m_19(uint8_t *b, uint32_t n) { (void)b; (void)n; return 19; }
static uint32_t m_ihl4(uint8_t *b, uint32_t n) { b[0] = 0x44; return n; }
static uint32_t m_ihl15(uint8_t *b, uint32_t n) { b[0] = 0x4f; wr16(b + 2, 40); return n < 40 ? n : 40; }
static uint32_t m_total_long(uint8_t *b, uint32_t n) { wr16(b + 2, (uint16_t)(n + 1)); return n; }
static uint32_t m_total_short(uint8_t *b, uint32_t n) { (void)n; wr16(b + 2, 19); return n; }
static uint32_t m_cut_l4(uint8_t *b, uint32_t n) { (void)n; wr16(b + 2, 20 + 19); return 39; }
static uint32_t m_udp7(uint8_t *b, uint32_t n) { (void)n; b[9] = 17; wr16(b + 2, 27); return 27; }
static uint32_t m_icmp7(uint8_t *b, uint32_t n) { (void)n; b[9] = 1; wr16(b + 2, 27); return 27; }
static uint32_t m_frag_off(uint8_t *b, uint32_t n) { (void)n; wr16(b + 6, 0x0010); wr16(b + 2, 25); return 25; }
static uint32_t m_frag_mf(uint8_t *b, uint32_t n) { wr16(b + 6, 0x2000); return n; }
static uint32_t m_gre(uint8_t *b, uint32_t n) { (void)n; b[9] = 47; wr16(b + 2, 21); return 21; }
static uint32_t m_version5(uint8_t *b, uint32_t n) { b[0] = 0x55; return n; }
static uint32_t m_v6_39(uint8_t *b, uint32_t n) { (void)n; b[0] = 0x60; return 39; }
static uint32_t m_v6_plen(uint8_t *b, uint32_t n) { wr16(b + 4, (uint16_t)(n - 39)); return n; }

/* IPv6 headers: 40 fixed bytes, then the chain written by the case, then UDP. */
static uint32_t v6_chain(uint8_t *b, const uint8_t *nh, const uint8_t *hlen, unsigned k, uint32_t tail)
{
	uint32_t o = 40;

	memset(b, 0, 40);
	b[0] = 0x60;
	b[6] = k ? nh[0] : 17;
	for (unsigned i = 0; i < k; i++) {
		uint32_t l = nh[i] == 44 ? 8 : nh[i] == 51 ? ((uint32_t)hlen[i] + 2) * 4 : ((uint32_t)hlen[i] + 1) * 8;

		memset(b + o, 0, l);
		b[o] = i + 1 < k ? nh[i + 1] : 17;
		b[o + 1] = nh[i] == 44 ? 0 : hlen[i];
		o += l;
	}
	memset(b + o, 0, tail);
	wr16(b + 4, (uint16_t)(o + tail - 40));
	return o + tail;
}

static uint32_t m_v6_hop_past(uint8_t *b, uint32_t n)
{
	(void)n;
	const uint8_t nh[] = { 0 }, hl[] = { 4 };
	uint32_t len = v6_chain(b, nh, hl, 1, 8);

	return len - 20;   /* the header claims 40 bytes, fewer are there */
}

static uint32_t m_v6_9dst(uint8_t *b, uint32_t n)
{
	(void)n;
	uint8_t nh[9], hl[9] = { 0 };

	memset(nh, 60, sizeof(nh));
	return v6_chain(b, nh, hl, 9, 8);
}

static uint32_t m_v6_8dst(uint8_t *b, uint32_t n)
{
	(void)n;
	uint8_t nh[8], hl[8] = { 0 };

	memset(nh, 60, sizeof(nh));
	return v6_chain(b, nh, hl, 8, 8);
}

static uint32_t m_v6_frag_off(uint8_t *b, uint32_t n)
{
	(void)n;
	const uint8_t nh[] = { 44 }, hl[] = { 0 };
	uint32_t len = v6_chain(b, nh, hl, 1, 2);

	wr16(b + 42, 0x0008);   /* offset 1 */
	return len;
}

static uint32_t m_v6_frag_mf(uint8_t *b, uint32_t n)
{
	(void)n;
	const uint8_t nh[] = { 44 }, hl[] = { 0 };
	uint32_t len = v6_chain(b, nh, hl, 1, 8);

	wr16(b + 42, 0x0001);
	return len;
}

static uint32_t m_v6_atomic_frag(uint8_t *b, uint32_t n)
{
	(void)n;
	const uint8_t nh[] = { 0, 44, 51 }, hl[] = { 1, 0, 2 };

	return v6_chain(b, nh, hl, 3, 8);
}

static uint32_t m_v6_udp7(uint8_t *b, uint32_t n)
{
	(void)n;
	return v6_chain(b, NULL, NULL, 0, 7);
}

static uint32_t m_v6_ah_past(uint8_t *b, uint32_t n)
{
	(void)n;
	const uint8_t nh[] = { 51 }, hl[] = { 200 };

	memset(b, 0, 48);
	b[0] = 0x60;
	b[6] = nh[0];
	b[41] = hl[0];
	wr16(b + 4, 8);
	return 48;
}

static void test_hostile_parse(void)
{
	static const struct {
		const char *name;
		int family;
		uint8_t proto;
		mutate_fn fn;
		int rc;
		uint8_t l4;
	} cases[] = {
		{ "empty", AF_INET, 6, m_empty, -1, 0 },
		{ "one byte", AF_INET, 6, m_one, -1, 0 },
		{ "IPv4 19 bytes", AF_INET, 6, m_19, -1, 0 },
		{ "IHL 4", AF_INET, 6, m_ihl4, -1, 0 },
		{ "IHL past the total length", AF_INET, 6, m_ihl15, -1, 0 },
		{ "total length past the buffer", AF_INET, 6, m_total_long, -1, 0 },
		{ "total length under the header", AF_INET, 6, m_total_short, -1, 0 },
		{ "TCP 19 bytes", AF_INET, 6, m_cut_l4, -1, 0 },
		{ "UDP 7 bytes", AF_INET, 17, m_udp7, -1, 0 },
		{ "ICMP 7 bytes", AF_INET, 1, m_icmp7, -1, 0 },
		{ "non-first fragment, 5 bytes", AF_INET, 6, m_frag_off, 0, FG_NATPKT_OTHER },
		{ "first fragment (MF)", AF_INET, 17, m_frag_mf, 0, FG_NATPKT_OTHER },
		{ "GRE", AF_INET, 6, m_gre, 0, FG_NATPKT_OTHER },
		{ "version 5", AF_INET, 6, m_version5, -1, 0 },
		{ "IPv6 39 bytes", AF_INET6, 6, m_v6_39, -1, 0 },
		{ "IPv6 payload length past the buffer", AF_INET6, 17, m_v6_plen, -1, 0 },
		{ "hop-by-hop past the packet", AF_INET6, 17, m_v6_hop_past, -1, 0 },
		{ "9 extension headers", AF_INET6, 17, m_v6_9dst, -1, 0 },
		{ "8 extension headers", AF_INET6, 17, m_v6_8dst, 0, FG_NATPKT_UDP },
		{ "IPv6 non-first fragment", AF_INET6, 17, m_v6_frag_off, 0, FG_NATPKT_OTHER },
		{ "IPv6 first fragment", AF_INET6, 17, m_v6_frag_mf, 0, FG_NATPKT_OTHER },
		{ "IPv6 atomic fragment, hop-by-hop, AH", AF_INET6, 17, m_v6_atomic_frag, 0, FG_NATPKT_UDP },
		{ "IPv6 UDP 7 bytes", AF_INET6, 17, m_v6_udp7, -1, 0 },
		{ "AH past the packet", AF_INET6, 17, m_v6_ah_past, -1, 0 },
	};
	uint8_t buf[BUF];
	struct fg_natpkt np;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t n = build(buf, cases[i].family, cases[i].proto, 8, 32);
		int rc;

		n = cases[i].fn(buf, n);
		rc = parse_exact(buf, n, &np);
		if ((rc == 0) != (cases[i].rc == 0) || (rc == 0 && np.l4 != cases[i].l4))
			fprintf(stderr, "\n  case \"%s\": rc %d l4 %u\n", cases[i].name, rc, np.l4);
		CU_ASSERT_EQUAL(rc == 0, cases[i].rc == 0);
		if (rc == 0)
			CU_ASSERT_EQUAL(np.l4, cases[i].l4);
	}
}

/* An ICMP error of family carrying quote (qlen bytes) verbatim. */
static uint32_t error_with(uint8_t *b, int family, const uint8_t *quote, uint32_t qlen)
{
	uint32_t ih = family == AF_INET ? 20 : 40;

	memset(b, 0, ih + 8);
	if (family == AF_INET) {
		b[0] = 0x45;
		wr16(b + 2, (uint16_t)(ih + 8 + qlen));
		b[9] = 1;
		b[ih] = 3;
	} else {
		b[0] = 0x60;
		wr16(b + 4, (uint16_t)(8 + qlen));
		b[6] = 58;
		b[ih] = 1;
	}
	memcpy(b + ih + 8, quote, qlen);
	return ih + 8 + qlen;
}

static void test_hostile_quote(void)
{
	uint8_t q4[BUF], q6[BUF], b[BUF];
	uint32_t n4 = build(q4, AF_INET, 17, 0, 0), n;
	struct fg_natpkt np;
	struct fg_natpkt_quote q;

	build(q6, AF_INET6, 17, 0, 0);
	struct {
		const char *name;
		int family;
		uint32_t qlen;
		void (*edit)(uint8_t *quote);
		int rc;
	} cases[] = {
		{ "no quote", AF_INET, 0, NULL, -1 },
		{ "19 bytes", AF_INET, 19, NULL, -1 },
		{ "header only", AF_INET, 20, NULL, -1 },
		{ "3 bytes of UDP", AF_INET, 23, NULL, -1 },
		{ "ports only", AF_INET, 24, NULL, 0 },
		{ "whole", AF_INET, n4, NULL, 0 },
		{ "IPv6 39 bytes", AF_INET6, 39, NULL, -1 },
		{ "IPv6 ports only", AF_INET6, 44, NULL, 0 },
		{ "IPv6 3 bytes", AF_INET6, 43, NULL, -1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = error_with(b, cases[i].family, cases[i].family == AF_INET ? q4 : q6, cases[i].qlen);
		uint8_t *x = malloc(n);

		memcpy(x, b, n);
		CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(x, n, &np), 0);
		CU_ASSERT_EQUAL(np.l4, FG_NATPKT_ICMP_ERROR);
		int rc = fg_natpkt_parse_quote(x, &np, &q);

		if ((rc == 0) != (cases[i].rc == 0))
			fprintf(stderr, "\n  quote case \"%s\": rc %d\n", cases[i].name, rc);
		CU_ASSERT_EQUAL(rc == 0, cases[i].rc == 0);
		if (rc == 0) {
			CU_ASSERT_EQUAL(q.sport, 40000);
			CU_ASSERT_EQUAL(q.dport, 443);
			CU_ASSERT_EQUAL(q.l4, FG_NATPKT_UDP);
		}
		free(x);
	}
	/* Field edits of a whole IPv4 quote. */
	static const struct {
		const char *name;
		uint32_t at;
		uint8_t val;
		int rc;
	} edits[] = {
		{ "quote is IPv6", 0, 0x65, -1 },
		{ "IHL 4", 0, 0x44, -1 },
		{ "IHL past the quote", 0, 0x4f, -1 },
		{ "non-first fragment", 7, 0x01, -1 },
		{ "first fragment (MF)", 6, 0x20, 0 },
		{ "GRE", 9, 47, -1 },
		{ "ICMP echo reply", 9, 1, -1 },
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		uint8_t qq[BUF];

		memcpy(qq, q4, n4);
		qq[edits[i].at] = edits[i].val;
		n = error_with(b, AF_INET, qq, n4);
		uint8_t *x = malloc(n);

		memcpy(x, b, n);
		CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(x, n, &np), 0);
		int rc = fg_natpkt_parse_quote(x, &np, &q);

		if ((rc == 0) != (edits[i].rc == 0))
			fprintf(stderr, "\n  quote edit \"%s\": rc %d\n", edits[i].name, rc);
		CU_ASSERT_EQUAL(rc == 0, edits[i].rc == 0);
		free(x);
	}
	/* Echo: a request quoted with its 8 bytes is ours, 7 are not. */
	uint8_t e4[BUF];
	uint32_t ne = build(e4, AF_INET, 1, 8, 0);

	for (uint32_t cut = 7; cut <= 8; cut++) {
		n = error_with(b, AF_INET, e4, 20 + cut);
		uint8_t *x = malloc(n);

		memcpy(x, b, n);
		CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(x, n, &np), 0);
		CU_ASSERT_EQUAL(fg_natpkt_parse_quote(x, &np, &q) == 0, cut == 8);
		if (cut == 8)
			CU_ASSERT_EQUAL(q.sport, 40000);
		free(x);
	}
	(void)ne;
	/* IPv6: a quote whose extension headers run past it; a non-first fragment. */
	const uint8_t nh[] = { 60 }, hl[] = { 3 };
	uint8_t c6[BUF];
	uint32_t nc = v6_chain(c6, nh, hl, 1, 8);

	n = error_with(b, AF_INET6, c6, nc - 10);
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(b, n, &np), 0);
	CU_ASSERT_NOT_EQUAL(fg_natpkt_parse_quote(b, &np, &q), 0);
	n = error_with(b, AF_INET6, c6, nc);
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(b, n, &np), 0);
	CU_ASSERT_EQUAL(fg_natpkt_parse_quote(b, &np, &q), 0);
	const uint8_t fh[] = { 44 }, fl[] = { 0 };

	nc = v6_chain(c6, fh, fl, 1, 8);
	wr16(c6 + 42, 0x0009);
	n = error_with(b, AF_INET6, c6, nc);
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(b, n, &np), 0);
	CU_ASSERT_NOT_EQUAL(fg_natpkt_parse_quote(b, &np, &q), 0);
	wr16(b + 48 + 42, 0x0001);   /* offset 0, MF: the first fragment has the ports */
	CU_ASSERT_EQUAL(fg_natpkt_parse_quote(b, &np, &q), 0);
	/* Not an error at all. */
	n = build(b, AF_INET, 1, 8, 40);
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(b, n, &np), 0);
	CU_ASSERT_NOT_EQUAL(fg_natpkt_parse_quote(b, &np, &q), 0);
}

/* ---- rewrites against full recomputation -------------------------------------------------- */

static struct fg_ip random_ip(int family)
{
	struct fg_ip ip;

	memset(&ip, 0, sizeof(ip));
	ip.family = (uint8_t)family;
	for (unsigned i = 0; i < (family == AF_INET ? 4u : 16u); i++)
		ip.addr[i] = (uint8_t)rnd();
	return ip;
}

static void random_packet(struct tpkt *t)
{
	static const uint8_t protos[] = { 6, 17, 1 };

	memset(t, 0, sizeof(*t));
	t->family = rnd() & 1 ? AF_INET : AF_INET6;
	t->proto = protos[rnd() % 3];
	if (t->proto == 1 && t->family == AF_INET6)
		t->proto = 58;
	t->src = random_ip(t->family);
	t->dst = random_ip(t->family);
	t->sport = (uint16_t)rnd();
	t->dport = (uint16_t)rnd();
	t->tcp_flags = (uint8_t)rnd();
	t->icmp_type = t->proto == 1 ? (rnd() & 1 ? 8 : 0) : (rnd() & 1 ? 128 : 129);
	t->payload = rnd() % 301;
	t->seed = rnd();
	t->ttl = (uint8_t)(rnd() | 1);
	t->udp_no_csum = t->proto == 17 && t->family == AF_INET && (rnd() % 4 == 0);
}

/* The checksum fields of a and b agree (0x0000 and 0xFFFF being the same one's complement
 * zero for TCP and ICMP); every other byte is equal. */
static bool same_but_zero(const uint8_t *a, const uint8_t *b, uint32_t n, uint32_t csum_at, uint8_t proto)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i == csum_at || i == csum_at + 1)
			continue;
		if (a[i] != b[i])
			return false;
	}
	uint16_t x = rd16(a + csum_at), y = rd16(b + csum_at);

	if (x == y)
		return true;
	return proto != 17 && ((x == 0 && y == 0xffff) || (x == 0xffff && y == 0));
}

static void test_translate_random(void)
{
	uint8_t pkt[BUF], ref[BUF], orig[BUF];
	struct fg_natpkt np, np2;

	for (unsigned iter = 0; iter < 30000; iter++) {
		struct tpkt t;
		uint32_t n;

		random_packet(&t);
		n = tpkt_build(pkt, BUF, &t);
		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT_FATAL(tpkt_checksums_ok(pkt, n));
		memcpy(orig, pkt, n);
		CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(pkt, n, &np), 0);
		bool v4 = t.family == AF_INET, echo = np.l4 == FG_NATPKT_ECHO_REQUEST || np.l4 == FG_NATPKT_ECHO_REPLY;
		struct fg_ip ip = random_ip(t.family);
		uint16_t port = (uint16_t)rnd();
		bool out = rnd() & 1;
		uint32_t l4 = v4 ? 20 : 40, csum_at = l4 + (t.proto == 6 ? 16 : t.proto == 17 ? 6 : 2);

		/* The reference: the same fields set by hand, every checksum computed again. */
		memcpy(ref, pkt, n);
		memcpy(ref + (out ? (v4 ? 16 : 24) : (v4 ? 12 : 8)), ip.addr, v4 ? 4 : 16);
		wr16(ref + l4 + (echo ? 4 : out ? 0 : 2), port);
		tpkt_fix_checksums(ref, n);
		if (out)
			fg_natpkt_translate_out(pkt, &np, &ip, port);
		else
			fg_natpkt_translate_in(pkt, &np, &ip, port);
		CU_ASSERT(tpkt_checksums_ok(pkt, n));
		CU_ASSERT(same_but_zero(pkt, ref, n, csum_at, t.proto));
		if (v4)
			CU_ASSERT_EQUAL(rd16(pkt + 10), rd16(ref + 10));
		if (t.udp_no_csum)
			CU_ASSERT_EQUAL(rd16(pkt + csum_at), 0);
		CU_ASSERT_EQUAL(out ? np.sport : np.dport, port);
		/* And back to the original, byte for byte (but for the zero's two forms). */
		CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(pkt, n, &np2), 0);
		struct fg_ip back;

		memset(&back, 0, sizeof(back));
		back.family = (uint8_t)t.family;
		memcpy(back.addr, orig + (out ? (v4 ? 16 : 24) : (v4 ? 12 : 8)), v4 ? 4 : 16);
		uint16_t oport = rd16(orig + l4 + (echo ? 4 : out ? 0 : 2));

		if (out)
			fg_natpkt_translate_out(pkt, &np2, &back, oport);
		else
			fg_natpkt_translate_in(pkt, &np2, &back, oport);
		CU_ASSERT(same_but_zero(pkt, orig, n, csum_at, t.proto));
	}
}

/* ---- ICMP errors, byte for byte ----------------------------------------------------------- */

struct err_case {
	const char *name;
	int family;
	uint8_t proto, type, code;
	uint32_t rest_in, rest_out;  /* the rest of the ICMP header received / expected */
	uint32_t quote;              /* bytes quoted: 0 = the whole packet */
	bool options;
};

static void run_error_case(const struct err_case *c)
{
	bool v4 = c->family == AF_INET, echo = c->proto == 1 || c->proto == 58;
	struct fg_ip client = tpkt_ip(v4 ? "100.64.0.2" : "fd00:2021:1111::2");
	struct fg_ip proxy = tpkt_ip(v4 ? "100.96.0.7" : "fd00:2021:1111:8000::7");
	struct fg_ip real = tpkt_ip(v4 ? "198.18.7.7" : "2001:db8::7");
	struct fg_ip router = tpkt_ip(v4 ? "198.18.9.9" : "2001:db8::9");
	struct tpkt t = { .family = c->family, .proto = c->proto, .src = client, .dst = proxy, .sport = 5000,
			  .dport = 53, .icmp_type = v4 ? 8 : 128, .payload = 100, .seed = 3, .ttl = 63 };
	uint8_t cpkt[BUF], sent[BUF], err[BUF], want[BUF], got[BUF], inplace[BUF];
	uint32_t n = tpkt_build(cpkt, BUF, &t), ql = c->quote ? c->quote : n, en, wn, gn;
	struct fg_natpkt np;
	struct fg_natpkt_quote q;

	tpkt_as_sent_by_nat(sent, cpkt, n, &real, 5001, echo);
	en = tpkt_router_error(err, c->family, c->type, c->code, c->rest_in, &router, &client, sent, ql, c->options);
	wn = tpkt_expected_error(want, c->family, c->type, c->code, c->rest_out, &proxy, &client, cpkt, ql);
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse(err, en, &np), 0);
	CU_ASSERT_EQUAL_FATAL(np.l4, FG_NATPKT_ICMP_ERROR);
	CU_ASSERT(fg_natpkt_icmp_checksum_ok(err, &np));
	CU_ASSERT_EQUAL_FATAL(fg_natpkt_parse_quote(err, &np, &q), 0);
	CU_ASSERT_EQUAL(q.sport, 5001);
	CU_ASSERT_EQUAL(q.proto, c->proto);
	gn = fg_natpkt_icmp_error(got, BUF, err, &np, &q, &proxy, 5000);
	if (gn != wn || memcmp(got, want, wn) != 0) {
		fprintf(stderr, "\n  ICMP error case \"%s\": %u bytes, want %u\n", c->name, gn, wn);
		for (uint32_t i = 0; i < wn && i < gn; i++)
			if (got[i] != want[i])
				fprintf(stderr, "   byte %u: %02x want %02x\n", i, got[i], want[i]);
	}
	CU_ASSERT_EQUAL(gn, wn);
	CU_ASSERT(memcmp(got, want, wn) == 0);
	CU_ASSERT(tpkt_checksums_ok(got, gn));
	/* In place, over the error itself. */
	memcpy(inplace, err, en);
	CU_ASSERT_EQUAL(fg_natpkt_icmp_error(inplace, en, inplace, &np, &q, &proxy, 5000), wn);
	CU_ASSERT(memcmp(inplace, want, wn) == 0);
	/* Too small a buffer. */
	CU_ASSERT_EQUAL(fg_natpkt_icmp_error(got, wn - 1, err, &np, &q, &proxy, 5000), 0);
	/* A corrupted error no longer passes its checksum. */
	err[en - 1] ^= 0x40;
	CU_ASSERT_FALSE(fg_natpkt_icmp_checksum_ok(err, &np));
}

static void test_icmp_error_exact(void)
{
	static const struct err_case cases[] = {
		{ "v4 frag needed, UDP, 28 bytes", AF_INET, 17, 3, 4, 0xdead04b0, 0x000004b0, 28, false },
		{ "v4 port unreachable, UDP whole, IP options", AF_INET, 17, 3, 3, 0x11223344, 0, 0, true },
		{ "v4 time exceeded, TCP 28 bytes", AF_INET, 6, 11, 0, 0x55555555, 0, 28, false },
		{ "v4 host unreachable, TCP whole", AF_INET, 6, 3, 1, 0, 0, 0, false },
		{ "v4 net unreachable, echo 28 bytes", AF_INET, 1, 3, 0, 0, 0, 28, false },
		{ "v6 port unreachable, UDP whole", AF_INET6, 17, 1, 4, 0x01020304, 0, 0, false },
		{ "v6 packet too big, TCP 48 bytes", AF_INET6, 6, 2, 0, 1280, 1280, 48, false },
		{ "v6 time exceeded, echo whole", AF_INET6, 58, 3, 0, 7, 0, 0, false },
		{ "v6 unreachable, UDP ports only", AF_INET6, 17, 1, 3, 0, 0, 44, false },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_error_case(&cases[i]);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "parse: kinds, ports, flags, padding", test_parse_kinds },
		{ "parse: hostile-input table", test_hostile_parse },
		{ "parse_quote: hostile-input table", test_hostile_quote },
		{ "translate out/in: 30000 random packets vs full recomputation", test_translate_random },
		{ "ICMP errors rebuilt byte for byte (v4, v6)", test_icmp_error_exact },
	};

	return fg_cunit_run("natpkt", tests, sizeof(tests) / sizeof(tests[0]));
}
