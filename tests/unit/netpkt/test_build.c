/* SPDX-License-Identifier: MIT */
/*
 * The builders: outer UDP headers (a published IPv4 checksum vector, naive checksum checks,
 * round trips through fg_netpkt_parse_outer), echo replies, ARP and ND frames, plus hostile
 * tables for fg_netpkt_arp_parse() and fg_netpkt_nd_parse(). Frames live in exactly-sized
 * heap buffers under ASan/UBSan. Test thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/CUnit.h>

#include "frames.h"

/* The peer's view of itself, to parse what we build as the peer would. */
static void peer_local(struct fg_netpkt_local *l)
{
	memset(l, 0, sizeof(*l));
	memcpy(&l->mac, tf_peer_mac, 6);
	memcpy(&l->ip4, tf_peer_ip4, 4);
	memcpy(l->ip6, tf_peer_ip6, 16);
	l->has_ip6 = true;
	l->listen_port = TF_PEER_PORT;
}

static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 131);
}

/* RFC 1071 worked example as usually quoted: 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7. */
static void test_udp4_golden(void)
{
	static const uint8_t want[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
					  0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	struct rte_ether_addr a, b;
	uint8_t *buf = calloc(1, 0x73 + 14);
	uint32_t src, dst;

	CU_ASSERT_FATAL(buf != NULL);
	memcpy(&a, tf_us_mac, 6);
	memcpy(&b, tf_peer_mac, 6);
	memcpy(&src, (const uint8_t[]){ 192, 168, 0, 1 }, 4);
	memcpy(&dst, (const uint8_t[]){ 192, 168, 0, 199 }, 4);
	fg_netpkt_write_udp4(buf, &a, &b, src, dst, 1, 2, 0x73 - 28, 0);
	CU_ASSERT_EQUAL(memcmp(buf + 14, want, 20), 0);
	CU_ASSERT_EQUAL(memcmp(buf, tf_peer_mac, 6), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 6, tf_us_mac, 6), 0);
	CU_ASSERT_EQUAL(tf_get16(buf + 12), 0x0800);
	CU_ASSERT_EQUAL(tf_get16(buf + 34), 1);
	CU_ASSERT_EQUAL(tf_get16(buf + 36), 2);
	CU_ASSERT_EQUAL(tf_get16(buf + 38), 0x73 - 20);
	CU_ASSERT_EQUAL(tf_get16(buf + 40), 0);
	free(buf);
}

static void round_trip(bool v6, uint16_t plen, uint8_t ecn)
{
	uint32_t hdr = v6 ? FG_NETPKT_UDP6_HDR_LEN : FG_NETPKT_UDP4_HDR_LEN;
	uint8_t *buf = malloc(hdr + plen);
	struct fg_netpkt_local peer;
	struct rte_ether_addr us_mac, peer_mac;
	struct fg_outer_info info;
	enum fg_drop why;
	uint32_t us4, peer4;

	CU_ASSERT_FATAL(buf != NULL);
	peer_local(&peer);
	memcpy(&us_mac, tf_us_mac, 6);
	memcpy(&peer_mac, tf_peer_mac, 6);
	memcpy(&us4, tf_us_ip4, 4);
	memcpy(&peer4, tf_peer_ip4, 4);
	fill(buf + hdr, plen, plen);
	if (v6)
		fg_netpkt_write_udp6(buf, &us_mac, &peer_mac, tf_us_ip6, tf_peer_ip6, TF_US_PORT,
				     TF_PEER_PORT, plen, ecn);
	else
		fg_netpkt_write_udp4(buf, &us_mac, &peer_mac, us4, peer4, TF_US_PORT,
				     TF_PEER_PORT, plen, ecn);

	CU_ASSERT(tf_csums_ok(buf, hdr + plen));
	CU_ASSERT_EQUAL_FATAL(fg_netpkt_parse_outer(buf, hdr + plen, &peer, &info, &why),
			      FG_OUTER_UDP);
	CU_ASSERT_EQUAL(why, FG_DROP_NONE);
	CU_ASSERT_EQUAL(info.family, v6 ? AF_INET6 : AF_INET);
	CU_ASSERT_EQUAL(info.payload_off, hdr);
	CU_ASSERT_EQUAL(info.payload_len, plen);
	CU_ASSERT_EQUAL(info.ecn, ecn);
	CU_ASSERT_EQUAL(info.src.port, TF_US_PORT);
	CU_ASSERT_EQUAL(memcmp(info.src.ip.addr, v6 ? tf_us_ip6 : tf_us_ip4, v6 ? 16 : 4), 0);
	CU_ASSERT_EQUAL(memcmp(info.dst.addr, v6 ? tf_peer_ip6 : tf_peer_ip4, v6 ? 16 : 4), 0);
	if (v6) {
		CU_ASSERT_EQUAL(buf[21], 64);
		CU_ASSERT_NOT_EQUAL(tf_get16(buf + 60), 0);
	} else {
		CU_ASSERT_EQUAL(buf[22], 64);
		CU_ASSERT_EQUAL(tf_get16(buf + 20), 0x4000); /* DF, offset 0 */
		CU_ASSERT_EQUAL(tf_get16(buf + 40), 0);
	}
	free(buf);
}

static void test_udp_round_trips(void)
{
	static const uint16_t lens[] = { 0, 1, 32, 33, 92, 148, 1357, 1452 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		round_trip(false, lens[i], (uint8_t)(i & 3));
		round_trip(true, lens[i], (uint8_t)(i & 3));
	}
}

/* A payload whose UDP checksum computes to zero must be sent as 0xffff (RFC 768, 8200). */
static void test_udp6_zero_checksum(void)
{
	enum { PLEN = 64 };
	uint8_t *buf = calloc(1, FG_NETPKT_UDP6_HDR_LEN + PLEN);
	struct rte_ether_addr mac, peer_mac;
	struct fg_netpkt_local peer;
	struct fg_outer_info info;
	enum fg_drop why;
	uint16_t partial;

	CU_ASSERT_FATAL(buf != NULL);
	memcpy(&mac, tf_us_mac, 6);
	memcpy(&peer_mac, tf_peer_mac, 6);
	peer_local(&peer);
	fill(buf + 62, PLEN - 2, 9);
	fg_netpkt_write_udp6(buf, &mac, &peer_mac, tf_us_ip6, tf_peer_ip6, 1, TF_PEER_PORT, PLEN, 0);
	/* Everything but the last payload word, checksum field as zero: pick the word to make
	 * the whole sum 0xffff, whose complement is 0. */
	tf_put16(buf + 60, 0);
	partial = tf_sum(buf + 22, 32, 17 + 8 + PLEN);
	partial = tf_sum(buf + 54, 8 + PLEN, partial);
	tf_put16(buf + 62 + PLEN - 2, (uint16_t)~partial);
	fg_netpkt_write_udp6(buf, &mac, &peer_mac, tf_us_ip6, tf_peer_ip6, 1, TF_PEER_PORT, PLEN, 0);
	CU_ASSERT_EQUAL(tf_get16(buf + 60), 0xffff);
	CU_ASSERT(tf_csums_ok(buf, FG_NETPKT_UDP6_HDR_LEN + PLEN));
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(buf, FG_NETPKT_UDP6_HDR_LEN + PLEN, &peer, &info,
					      &why), FG_OUTER_UDP);
	free(buf);
}

static void echo_case(struct tf *f, bool v6)
{
	struct fg_netpkt_local us;
	struct fg_outer_info info;
	uint8_t *buf = tf_tail(f->b, f->len);
	uint32_t l4;
	enum fg_drop why;

	tf_local(&us);
	CU_ASSERT_EQUAL_FATAL(fg_netpkt_parse_outer(buf, f->len, &us, &info, &why), FG_OUTER_ECHO);
	fg_netpkt_echo_reply(buf, &info);
	l4 = info.l4_off;
	CU_ASSERT_EQUAL(memcmp(buf, tf_peer_mac, 6), 0);
	CU_ASSERT_EQUAL(memcmp(buf + 6, tf_us_mac, 6), 0);
	if (v6) {
		CU_ASSERT_EQUAL(memcmp(buf + 22, tf_us_ip6, 16), 0);
		CU_ASSERT_EQUAL(memcmp(buf + 38, tf_peer_ip6, 16), 0);
		CU_ASSERT_EQUAL(buf[21], 64);
		CU_ASSERT_EQUAL(buf[l4], 129);
	} else {
		CU_ASSERT_EQUAL(memcmp(buf + 26, tf_us_ip4, 4), 0);
		CU_ASSERT_EQUAL(memcmp(buf + 30, tf_peer_ip4, 4), 0);
		CU_ASSERT_EQUAL(buf[22], 64);
		CU_ASSERT_EQUAL(buf[l4], 0);
	}
	CU_ASSERT_EQUAL(buf[l4 + 1], 0);
	/* Identifier, sequence and data unchanged. */
	CU_ASSERT_EQUAL(memcmp(buf + l4 + 4, f->b + l4 + 4, f->len - l4 - 4), 0);
	CU_ASSERT(tf_csums_ok(buf, f->len));
	free(buf);
}

static void test_echo_reply(void)
{
	static const uint8_t opts[4] = { 1, 1, 1, 0 };
	struct tf f;

	tf_echo4(&f, 56);
	echo_case(&f, false);
	tf_echo4(&f, 57);
	echo_case(&f, false);
	tf_echo6(&f, 56);
	echo_case(&f, true);
	tf_echo6(&f, 1001);
	echo_case(&f, true);
	/* With IP options: the ICMP message starts at 38. */
	tf_echo4(&f, 20);
	memmove(f.b + 38, f.b + 34, f.len - 34);
	memcpy(f.b + 34, opts, 4);
	f.len += 4;
	f.b[14] = 0x46;
	tf_put16(f.b + 16, (uint16_t)(f.len - 14));
	tf_fix(&f);
	echo_case(&f, false);
}

static void test_arp_round_trip(void)
{
	struct rte_ether_addr us, peer, bcast, zero = { { 0 } };
	struct fg_netpkt_local plocal;
	struct fg_outer_info info;
	uint8_t *buf = malloc(FG_NETPKT_ARP_FRAME_LEN);
	uint32_t us4, peer4;
	struct fg_arp arp;
	enum fg_drop why;

	CU_ASSERT_FATAL(buf != NULL);
	memcpy(&us, tf_us_mac, 6);
	memcpy(&peer, tf_peer_mac, 6);
	memcpy(&bcast, tf_bcast_mac, 6);
	memcpy(&us4, tf_us_ip4, 4);
	memcpy(&peer4, tf_peer_ip4, 4);
	peer_local(&plocal);

	memset(buf, 0xee, FG_NETPKT_ARP_FRAME_LEN);
	CU_ASSERT_EQUAL(fg_netpkt_arp_build(buf, 1, &bcast, &us, us4, &zero, peer4), 60);
	CU_ASSERT_EQUAL(memcmp(buf + 14, (const uint8_t[]){ 0, 1, 8, 0, 6, 4, 0, 1 }, 8), 0);
	for (int i = 42; i < 60; i++)
		CU_ASSERT_EQUAL(buf[i], 0);
	CU_ASSERT_EQUAL_FATAL(fg_netpkt_arp_parse(buf, 60, &arp), 0);
	CU_ASSERT_EQUAL(arp.op, 1);
	CU_ASSERT_EQUAL(memcmp(&arp.sha, tf_us_mac, 6), 0);
	CU_ASSERT_EQUAL(arp.sip, us4);
	CU_ASSERT_EQUAL(arp.tip, peer4);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(buf, 60, &plocal, &info, &why), FG_OUTER_ARP);

	CU_ASSERT_EQUAL(fg_netpkt_arp_build(buf, 2, &peer, &us, us4, &peer, peer4), 60);
	CU_ASSERT_EQUAL_FATAL(fg_netpkt_arp_parse(buf, 60, &arp), 0);
	CU_ASSERT_EQUAL(arp.op, 2);
	CU_ASSERT_EQUAL(memcmp(&arp.tha, tf_peer_mac, 6), 0);
	CU_ASSERT_EQUAL(memcmp(buf, tf_peer_mac, 6), 0);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(buf, 60, &plocal, &info, &why), FG_OUTER_ARP);
	free(buf);
}

static int arp_parse_tail(const struct tf *f)
{
	uint8_t *buf = tf_tail(f->b, f->len);
	struct fg_arp arp;
	int r = fg_netpkt_arp_parse(buf, f->len, &arp);

	free(buf);
	return r;
}

static void test_arp_hostile(void)
{
	static const struct {
		uint32_t off;
		uint8_t val;
		int want;
	} cases[] = {
		{ 12, 0x09, -22 }, { 13, 0x00, -22 },  /* ethertype 0x0906 / 0x0800 */
		{ 15, 6, -22 },                        /* hardware type */
		{ 16, 0x86, -22 },                     /* protocol type */
		{ 18, 8, -22 }, { 19, 16, -22 },       /* address lengths */
		{ 21, 0, -22 }, { 21, 3, -22 },        /* operation */
		{ 22, 0x01, -22 }, { 22, 0xff, -22 },  /* sender MAC multicast / broadcast */
		{ 21, 2, 0 },                          /* a reply */
		{ 40, 0x99, 0 },                       /* any target */
	};
	struct tf f;
	uint32_t tip;

	memcpy(&tip, tf_us_ip4, 4);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tf_arp(&f, tf_bcast_mac, 1, tip);
		f.b[cases[i].off] = cases[i].val;
		CU_ASSERT_EQUAL(arp_parse_tail(&f), cases[i].want);
	}
	tf_arp(&f, tf_bcast_mac, 1, tip);
	memset(f.b + 22, 0, 6);
	CU_ASSERT_EQUAL(arp_parse_tail(&f), -22);
	for (uint32_t n = 0; n < 42; n++) {
		tf_arp(&f, tf_bcast_mac, 1, tip);
		f.len = n;
		CU_ASSERT_EQUAL(arp_parse_tail(&f), -22);
	}
}

static int nd_parse_tail(const struct tf *f, struct fg_nd *nd)
{
	uint8_t *buf = tf_tail(f->b, f->len);
	int r = fg_netpkt_nd_parse(buf, f->len, nd);

	free(buf);
	return r;
}

static void test_nd_round_trips(void)
{
	static const uint8_t zero[16];
	struct fg_netpkt_local us, peer;
	struct rte_ether_addr peer_mac;
	struct fg_outer_info info;
	enum fg_drop why;
	struct fg_nd nd;
	struct tf f;

	tf_local(&us);
	peer_local(&peer);
	memcpy(&peer_mac, tf_peer_mac, 6);

	/* We resolve the peer: NS to its group, as the peer sees it. */
	f.len = fg_netpkt_nd_build_ns(f.b, &us, tf_peer_ip6);
	CU_ASSERT_EQUAL_FATAL(f.len, 86);
	CU_ASSERT_EQUAL(memcmp(f.b, (const uint8_t[]){ 0x33, 0x33, 0xff, 0, 0, 0x07 }, 6), 0);
	CU_ASSERT_EQUAL(memcmp(f.b + 38, (const uint8_t[]){ 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0,
							   0, 1, 0xff, 0, 0, 0x07 }, 16), 0);
	CU_ASSERT_EQUAL(f.b[21], 255);
	CU_ASSERT(tf_csums_ok(f.b, f.len));
	CU_ASSERT_EQUAL_FATAL(nd_parse_tail(&f, &nd), 0);
	CU_ASSERT_EQUAL(nd.type, FG_ND_NEIGH_SOLICIT);
	CU_ASSERT_EQUAL(memcmp(nd.target, tf_peer_ip6, 16), 0);
	CU_ASSERT_EQUAL(memcmp(nd.src_ip, tf_us_ip6, 16), 0);
	CU_ASSERT(nd.has_lladdr);
	CU_ASSERT_EQUAL(memcmp(&nd.lladdr, tf_us_mac, 6), 0);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &peer, &info, &why), FG_OUTER_ND);

	/* The peer asks for us; we answer from what we parsed. */
	tf_ns(&f, tf_us_ip6, true);
	CU_ASSERT_EQUAL_FATAL(nd_parse_tail(&f, &nd), 0);
	CU_ASSERT(nd.has_lladdr);
	f.len = fg_netpkt_nd_build_na(f.b, &us, nd.src_ip, &nd.lladdr);
	CU_ASSERT_EQUAL_FATAL(f.len, 86);
	CU_ASSERT_EQUAL(memcmp(f.b, tf_peer_mac, 6), 0);
	CU_ASSERT_EQUAL(memcmp(f.b + 38, tf_peer_ip6, 16), 0);
	CU_ASSERT(tf_csums_ok(f.b, f.len));
	CU_ASSERT_EQUAL_FATAL(nd_parse_tail(&f, &nd), 0);
	CU_ASSERT_EQUAL(nd.type, FG_ND_NEIGH_ADVERT);
	CU_ASSERT_EQUAL(nd.flags, FG_ND_FLAG_SOLICITED | FG_ND_FLAG_OVERRIDE);
	CU_ASSERT_EQUAL(memcmp(nd.target, tf_us_ip6, 16), 0);
	CU_ASSERT(nd.has_lladdr);
	CU_ASSERT_EQUAL(memcmp(&nd.lladdr, tf_us_mac, 6), 0);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &peer, &info, &why), FG_OUTER_ND);

	/* A duplicate address probe is answered to all-nodes, not solicited. */
	f.len = fg_netpkt_nd_build_na(f.b, &us, zero, &peer_mac);
	CU_ASSERT_EQUAL(memcmp(f.b, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, 6), 0);
	CU_ASSERT_EQUAL(f.b[38], 0xff);
	CU_ASSERT_EQUAL_FATAL(nd_parse_tail(&f, &nd), 0);
	CU_ASSERT_EQUAL(nd.flags, FG_ND_FLAG_OVERRIDE);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &peer, &info, &why), FG_OUTER_ND);
}

/* Byte edits to a valid NS from the peer (ICMPv6 at 54, target at 62, option at 78). */
struct nd_case {
	const char *name;
	uint32_t off;
	uint8_t val;
	bool refix;
	int want;
};

static const struct nd_case nd_cases[] = {
	{ "valid", 0, 0x33, false, 0 },
	{ "ethertype", 13, 0x00, false, -22 },
	{ "version", 14, 0x40, false, -22 },
	{ "payload length > frame", 18, 1, false, -22 },
	{ "payload length 20", 19, 20, true, -22 },
	{ "hop-by-hop next header", 20, 0, true, -22 },
	{ "hop limit 254", 21, 254, false, -22 },
	{ "type RA", 54, 134, true, -22 },
	{ "type echo", 54, 128, true, -22 },
	{ "code 1", 55, 1, true, -22 },
	{ "bad checksum", 70, 0x99, false, -22 },
	{ "target multicast", 62, 0xff, true, -22 },
	{ "option length 0", 79, 0, true, -22 },
	{ "option overruns", 79, 2, true, -22 },
	{ "lladdr multicast", 80, 0x01, true, -22 },
	{ "unknown option type", 78, 14, true, 0 },
	{ "DAD with lladdr", 22, 0x00, true, -22 },
};

static void test_nd_hostile(void)
{
	struct fg_nd nd;
	struct tf f;

	for (size_t i = 0; i < sizeof(nd_cases) / sizeof(nd_cases[0]); i++) {
		const struct nd_case *c = &nd_cases[i];
		int r;

		tf_ns(&f, tf_us_ip6, true);
		if (c->off == 22) /* source :: */
			memset(f.b + 22, 0, 16);
		else
			f.b[c->off] = c->val;
		if (c->refix)
			tf_fix(&f);
		r = nd_parse_tail(&f, &nd);
		if (r != c->want)
			fprintf(stderr, "\n  case '%s': %d\n", c->name, r);
		CU_ASSERT_EQUAL(r, c->want);
	}

	/* DAD probe without an option is fine; the unknown option hid nothing. */
	tf_ns(&f, tf_us_ip6, false);
	memset(f.b + 22, 0, 16);
	tf_fix(&f);
	CU_ASSERT_EQUAL(nd_parse_tail(&f, &nd), 0);
	CU_ASSERT(!nd.has_lladdr);

	/* An odd trailing byte after the option: a partial option header. */
	tf_ns(&f, tf_us_ip6, true);
	f.b[f.len++] = 1;
	tf_put16(f.b + 18, (uint16_t)(tf_get16(f.b + 18) + 1));
	tf_fix(&f);
	CU_ASSERT_EQUAL(nd_parse_tail(&f, &nd), -22);

	/* An NA to all-nodes claiming to be solicited, and an NA from ::. */
	{
		static const uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
		static const uint8_t group[16] = { 0xff, 0x02, [15] = 1 };
		uint8_t body[28] = { FG_ND_FLAG_SOLICITED | FG_ND_FLAG_OVERRIDE };

		memcpy(body + 4, tf_peer_ip6, 16);
		body[20] = 2;
		body[21] = 1;
		memcpy(body + 22, tf_peer_mac, 6);
		tf_icmp6(&f, mac, group, 255, FG_ND_NEIGH_ADVERT, 0, body, sizeof(body));
		CU_ASSERT_EQUAL(nd_parse_tail(&f, &nd), -22);
		body[0] = FG_ND_FLAG_OVERRIDE;
		tf_icmp6(&f, mac, group, 255, FG_ND_NEIGH_ADVERT, 0, body, sizeof(body));
		CU_ASSERT_EQUAL(nd_parse_tail(&f, &nd), 0);
		CU_ASSERT_EQUAL(nd.flags, FG_ND_FLAG_OVERRIDE);
		memset(f.b + 22, 0, 16);
		tf_fix(&f);
		CU_ASSERT_EQUAL(nd_parse_tail(&f, &nd), -22);
	}

	/* Every truncation. */
	tf_ns(&f, tf_us_ip6, true);
	for (uint32_t n = 0, full = f.len; n < full; n++) {
		f.len = n;
		CU_ASSERT_EQUAL(nd_parse_tail(&f, &nd), -22);
	}
}

static const struct fg_cunit_test build_tests[] = {
	{ "udp4 golden header", test_udp4_golden },
	{ "udp4/udp6 round trips", test_udp_round_trips },
	{ "udp6 zero checksum", test_udp6_zero_checksum },
	{ "echo replies", test_echo_reply },
	{ "arp round trip", test_arp_round_trip },
	{ "arp_parse hostile", test_arp_hostile },
	{ "nd round trips", test_nd_round_trips },
	{ "nd_parse hostile", test_nd_hostile },
};

const struct fg_cunit_suite netpkt_build_suite = {
	"netpkt_build", NULL, NULL,
	build_tests, sizeof(build_tests) / sizeof(build_tests[0]),
};
