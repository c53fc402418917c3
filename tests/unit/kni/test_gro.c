// SPDX-License-Identifier: MIT
/*
 * CUnit tests for kni/gro: bursts of tcpgen packets are coalesced, and each super-packet
 * is checked field by field against a naive pseudo-header sum and then fed back through
 * kni/gso, which must give back the original segments byte for byte (that proves both
 * directions). A randomized property test checks that every packet lands in exactly one
 * item and that no flow is reordered. UDP datagrams are coalesced (USO) only when the
 * caller's flags say so, and go through the same checks. Single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "gro.h"
#include "gso.h"
#include "tcpgen.h"
#include "../cunit_run.h"

enum {
	BURST = 320,
	PKT_CAP = 1600,
	MTU = 1500,
	FLAT_CAP = 65536 + 16,
	MAX_OUT = 64,
	PROPERTY_ROUNDS = 300,
};

static uint8_t store[BURST][PKT_CAP];
static const uint8_t *pkts[BURST];
static uint16_t lens[BURST];
static struct fg_gro_item items[BURST];
static uint16_t next_idx[BURST];
static uint8_t flat[FLAT_CAP];
static uint8_t seg_store[MAX_OUT][PKT_CAP];
static uint8_t *segs[MAX_OUT];
static uint16_t seg_len[MAX_OUT];
static unsigned npkts;
static unsigned gro_flags;  /* fg_gro_coalesce_ex() flags; 0: plain fg_gro_coalesce() */

static void reset_burst(void) { npkts = 0; }

static void add_tcp(const struct tg_flow *f, uint32_t seq, uint8_t flags, uint16_t id, uint32_t plen)
{
	lens[npkts] = (uint16_t)tg_tcp(store[npkts], f, seq, flags, id, plen);
	pkts[npkts] = store[npkts];
	npkts++;
}

static void add_udp(const struct tg_flow *f, uint16_t id, uint32_t plen, uint8_t seed)
{
	lens[npkts] = (uint16_t)tg_udp(store[npkts], f, id, plen, seed);
	pkts[npkts] = store[npkts];
	npkts++;
}

static void add_raw(const uint8_t *p, uint16_t len)
{
	memcpy(store[npkts], p, len);
	lens[npkts] = len;
	pkts[npkts] = store[npkts];
	npkts++;
}

/* Concatenates an item's iovecs into flat[]; returns the length. */
static uint32_t flatten(const struct fg_gro_item *it)
{
	struct iovec iov[FG_GRO_IOV_MAX];
	unsigned n = fg_gro_iov(it, pkts, lens, next_idx, iov);
	uint32_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		memcpy(flat + len, iov[i].iov_base, iov[i].iov_len);
		len += (uint32_t)iov[i].iov_len;
	}
	CU_ASSERT_EQUAL(len, it->len + 10);
	return len;
}

static unsigned coalesce(void)
{
	if (!gro_flags)
		return fg_gro_coalesce(pkts, lens, npkts, items, next_idx);
	return fg_gro_coalesce_ex(pkts, lens, npkts, items, next_idx, gro_flags);
}

/* The packet indices of item j, in chain order; returns how many. */
static unsigned chain(unsigned j, unsigned idx[])
{
	unsigned n = 0;

	for (unsigned i = items[j].first; i != FG_GRO_END; i = next_idx[i])
		idx[n++] = i;
	CU_ASSERT_EQUAL(n, items[j].count);
	return n;
}

/*
 * Checks item j against the packets it claims: the virtio-net header, the seed, the
 * headers, and gso(item) == the original packets byte for byte.
 */
static void check_item(unsigned j)
{
	const struct fg_gro_item *it = &items[j];
	unsigned idx[BURST], n = chain(j, idx);
	uint32_t len = flatten(it);
	const uint8_t *ip = flat + 10;

	if (n == 1) {
		static const uint8_t zero[10];
		CU_ASSERT(memcmp(flat, zero, 10) == 0);
		CU_ASSERT(len == lens[idx[0]] + 10u && memcmp(ip, pkts[idx[0]], lens[idx[0]]) == 0);
		return;
	}
	bool v6 = (ip[0] >> 4) == 6, udp = ip[v6 ? 6 : 9] == 17;
	unsigned iphl = v6 ? 40 : 20, hl = iphl + (udp ? 8u : (ip[iphl + 12] >> 4) * 4u);
	unsigned csum_off = udp ? 6 : 16;
	uint32_t first_payload = lens[idx[0]] - hl;
	CU_ASSERT(!udp || (gro_flags & (v6 ? FG_GRO_UDP6 : FG_GRO_UDP4)));
	CU_ASSERT_EQUAL(flat[0], 1);
	CU_ASSERT_EQUAL(flat[1] & (udp ? 0xff : 0x7f), udp ? 5 : v6 ? 4 : 1);
	CU_ASSERT_EQUAL(flat[2] | flat[3] << 8, hl);
	CU_ASSERT_EQUAL((uint32_t)(flat[4] | flat[5] << 8), first_payload);
	CU_ASSERT_EQUAL(flat[6] | flat[7] << 8, iphl);
	CU_ASSERT_EQUAL(flat[8] | flat[9] << 8, csum_off);
	if (udp)
		CU_ASSERT_EQUAL((uint32_t)(ip[iphl + 4] << 8 | ip[iphl + 5]), len - 10 - iphl);
	CU_ASSERT(len - 10 <= 65535);
	/* IP length and header checksum; the TCP field holds the folded pseudo-header sum. */
	if (v6) {
		CU_ASSERT_EQUAL((uint32_t)(ip[4] << 8 | ip[5]) + 40, len - 10);
	} else {
		CU_ASSERT_EQUAL((uint32_t)(ip[2] << 8 | ip[3]), len - 10);
		CU_ASSERT_EQUAL(tg_fold(tg_sum(0, ip, 20)), 0xffff);
	}
	CU_ASSERT_EQUAL(ip[iphl + csum_off] << 8 | ip[iphl + csum_off + 1],
			tg_fold(tg_pseudo(ip, len - 10 - iphl)));
	/* Completing the checksum as the kernel would gives a valid packet. */
	static uint8_t done[FLAT_CAP];
	memcpy(done, ip, len - 10);
	uint16_t c = (uint16_t)~tg_fold(tg_sum(0, done + iphl, len - 10 - iphl));
	if (udp && c == 0)
		c = 0xffff;
	done[iphl + csum_off] = (uint8_t)(c >> 8);
	done[iphl + csum_off + 1] = (uint8_t)c;
	CU_ASSERT(tg_valid(done, len - 10));
	/* Round trip. */
	int got = fg_gso_split(flat, len, MTU, segs, seg_len, MAX_OUT, PKT_CAP);
	CU_ASSERT_EQUAL(got, (int)n);
	for (unsigned k = 0; k < n && (int)k < got; k++) {
		CU_ASSERT_EQUAL(seg_len[k], lens[idx[k]]);
		CU_ASSERT(memcmp(segs[k], pkts[idx[k]], lens[idx[k]]) == 0);
	}
}

static void check_all(unsigned nitems)
{
	for (unsigned j = 0; j < nitems; j++)
		check_item(j);
}

static void test_one_flow(void)
{
	struct tg_flow f;

	for (int v6 = 0; v6 <= 1; v6++) {
		for (int ts = 0; ts <= 1; ts++) {
			tg_flow_init(&f, v6, 1, ts);
			uint32_t mss = 1460 - (v6 ? 20 : 0) - (ts ? 12 : 0);
			reset_burst();
			for (unsigned i = 0; i < 10; i++)
				add_tcp(&f, 1000 + i * mss, TG_ACK | (i == 9 ? TG_PSH : 0),
					(uint16_t)(65530 + i), i == 9 ? 300 : mss);
			CU_ASSERT_EQUAL(coalesce(), 1);
			CU_ASSERT_EQUAL(items[0].count, 10);
			CU_ASSERT(items[0].head[(v6 ? 40 : 20) + 13] & TG_PSH);
			check_all(1);
		}
	}
	/* Without DF the ids must follow each other; with it, anything goes. */
	tg_flow_init(&f, false, 2, false);
	f.df = false;
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 10, 1000);
	add_tcp(&f, 1000, TG_ACK, 11, 1000);
	add_tcp(&f, 2000, TG_ACK, 20, 1000);
	CU_ASSERT_EQUAL(coalesce(), 2);
	CU_ASSERT(items[0].count == 2 && items[1].count == 1);
	check_all(2);
	f.df = true;
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 10, 1000);
	add_tcp(&f, 1000, TG_ACK, 500, 1000);
	CU_ASSERT_EQUAL(coalesce(), 1);
	/* CWR on the first segment: kept, and the ECN bit of the gso type says so. */
	reset_burst();
	add_tcp(&f, 0, TG_ACK | TG_CWR, 0, 1000);
	add_tcp(&f, 1000, TG_ACK, 1, 1000);
	add_tcp(&f, 2000, TG_ACK | TG_CWR, 2, 1000);
	CU_ASSERT_EQUAL(coalesce(), 2);
	CU_ASSERT_EQUAL(items[0].vnet.gso_type, 0x81);
	check_all(2);
}

static void test_two_flows(void)
{
	struct tg_flow a, b;

	tg_flow_init(&a, false, 1, true);
	tg_flow_init(&b, true, 2, true);
	reset_burst();
	for (unsigned i = 0; i < 6; i++) {
		add_tcp(&a, 100 + i * 1000, TG_ACK, (uint16_t)i, 1000);
		add_tcp(&b, 900 + i * 1200, TG_ACK, 0, 1200);
	}
	CU_ASSERT_EQUAL(coalesce(), 2);
	CU_ASSERT(items[0].first == 0 && items[0].count == 6);
	CU_ASSERT(items[1].first == 1 && items[1].count == 6);
	check_all(2);
	/* Same addresses, other port: another flow. Reverse direction: another flow. */
	struct tg_flow c = a, r = a;
	c.sport++;
	memcpy(r.src, a.dst, 4);
	memcpy(r.dst, a.src, 4);
	reset_burst();
	add_tcp(&a, 0, TG_ACK, 0, 1000);
	add_tcp(&c, 1000, TG_ACK, 1, 1000);
	add_tcp(&r, 1000, TG_ACK, 1, 1000);
	add_tcp(&a, 1000, TG_ACK, 1, 1000);
	CU_ASSERT_EQUAL(coalesce(), 3);
	CU_ASSERT(items[0].count == 2 && items[1].count == 1 && items[2].count == 1);
	check_all(3);
}

static void test_breaks(void)
{
	struct tg_flow f, g;
	unsigned n;

	tg_flow_init(&f, false, 3, false);
	/* A gap: no merge across it. */
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 0, 1000);
	add_tcp(&f, 1000, TG_ACK, 1, 1000);
	add_tcp(&f, 3000, TG_ACK, 2, 1000);
	add_tcp(&f, 4000, TG_ACK, 3, 1000);
	CU_ASSERT_EQUAL(n = coalesce(), 2);
	CU_ASSERT(items[0].count == 2 && items[1].first == 2 && items[1].count == 2);
	check_all(n);
	/* A retransmission starts a new item; what follows it may join that one. */
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 0, 1000);
	add_tcp(&f, 1000, TG_ACK, 1, 1000);
	add_tcp(&f, 1000, TG_ACK, 2, 1000);
	add_tcp(&f, 2000, TG_ACK, 3, 1000);
	CU_ASSERT_EQUAL(n = coalesce(), 2);
	CU_ASSERT(items[1].first == 2 && items[1].count == 2);
	check_all(n);
	/* PSH in the middle ends the super-packet. */
	reset_burst();
	for (unsigned i = 0; i < 5; i++)
		add_tcp(&f, i * 1000, TG_ACK | (i == 2 ? TG_PSH : 0), (uint16_t)i, 1000);
	CU_ASSERT_EQUAL(n = coalesce(), 2);
	CU_ASSERT(items[0].count == 3 && items[1].count == 2);
	CU_ASSERT(items[0].head[20 + 13] & TG_PSH);
	check_all(n);
	/* A short segment ends it; a longer one never joins. */
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 0, 1000);
	add_tcp(&f, 1000, TG_ACK, 1, 500);
	add_tcp(&f, 1500, TG_ACK, 2, 500);
	add_tcp(&f, 2000, TG_ACK, 3, 900);
	CU_ASSERT_EQUAL(n = coalesce(), 3);
	CU_ASSERT(items[0].count == 2 && items[1].count == 1 && items[2].count == 1);
	check_all(n);
	/* SYN, FIN, RST, URG, a pure ACK: alone, and the flow continues after them. */
	const uint8_t stop[] = { TG_SYN, TG_FIN, TG_RST, TG_URG, 0 };
	for (unsigned s = 0; s < sizeof(stop); s++) {
		reset_burst();
		add_tcp(&f, 0, TG_ACK, 0, 1000);
		add_tcp(&f, 1000, TG_ACK, 1, 1000);
		add_tcp(&f, 2000, TG_ACK | stop[s], 2, stop[s] ? 1000 : 0);
		add_tcp(&f, stop[s] ? 3000 : 2000, TG_ACK, 3, 1000);
		add_tcp(&f, stop[s] ? 4000 : 3000, TG_ACK, 4, 1000);
		CU_ASSERT_EQUAL(n = coalesce(), 3);
		CU_ASSERT(items[0].count == 2 && items[1].count == 1 && items[2].count == 2);
		check_all(n);
	}
	/* Different ACK, window, TTL, TOS, options: no merge. */
	for (unsigned v = 0; v < 5; v++) {
		tg_flow_init(&f, false, 4, true);
		g = f;
		if (v == 0) g.ack++;
		if (v == 1) g.window++;
		if (v == 2) g.ttl--;
		if (v == 3) g.tos = 2;
		if (v == 4) g.opt[11]++;
		reset_burst();
		add_tcp(&f, 0, TG_ACK, 0, 1000);
		add_tcp(&g, 1000, TG_ACK, 1, 1000);
		CU_ASSERT_EQUAL(coalesce(), 2);
	}
	/* IPv6: another flow label does not merge. */
	tg_flow_init(&f, true, 5, false);
	g = f;
	g.flow_label++;
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 0, 1000);
	add_tcp(&g, 1000, TG_ACK, 0, 1000);
	CU_ASSERT_EQUAL(coalesce(), 2);
}

static void test_limits(void)
{
	struct tg_flow f;
	unsigned n;

	/* 64 KiB: 40 + 52 * 1240 = 64520 fits, a 53rd segment would make 65760. */
	tg_flow_init(&f, false, 6, false);
	reset_burst();
	for (unsigned i = 0; i < 60; i++)
		add_tcp(&f, i * 1240, TG_ACK, (uint16_t)i, 1240);
	CU_ASSERT_EQUAL(n = coalesce(), 2);
	CU_ASSERT(items[0].count == 52 && items[1].count == 8 && items[0].len == 64520);
	check_all(n);
	/* 64 segments at most. */
	reset_burst();
	for (unsigned i = 0; i < 70; i++)
		add_tcp(&f, i * 100, TG_ACK, (uint16_t)i, 100);
	CU_ASSERT_EQUAL(n = coalesce(), 2);
	CU_ASSERT(items[0].count == FG_GRO_MAX_SEGS && items[1].count == 6);
	check_all(n);
	/* IPv4 options: never merged (passed through). */
	f.ip_opt_len = 4;
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 0, 1000);
	add_tcp(&f, 1000, TG_ACK, 1, 1000);
	CU_ASSERT_EQUAL(coalesce(), 2);
	check_all(2);
	/*
	 * More flows than tracked: 300 flows, then a second segment for 20 of them. The
	 * first 256 flows are tracked, so 18 of those segments (flows 0, 15, ..., 255) merge
	 * and the 2 for flows 270 and 285 pass through; nothing is lost.
	 */
	reset_burst();
	for (unsigned i = 0; i < BURST; i++) {
		tg_flow_init(&f, false, i < 300 ? i : (i - 300) * 15, false);
		add_tcp(&f, i < 300 ? 0 : 100, TG_ACK, i < 300 ? 0 : 1, 100);
	}
	n = coalesce();
	CU_ASSERT_EQUAL(n, 302);
	unsigned total = 0, merged = 0;
	for (unsigned j = 0; j < n; j++) {
		total += items[j].count;
		merged += items[j].count > 1;
	}
	CU_ASSERT_EQUAL(total, BURST);
	CU_ASSERT_EQUAL(merged, 18);
	check_all(n);
}

static void test_passthrough(void)
{
	struct tg_flow f, u;
	uint8_t buf[PKT_CAP];
	struct iovec iov[FG_GRO_IOV_MAX];

	tg_flow_init(&f, false, 7, false);
	tg_flow_init(&u, true, 8, false);
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 0, 1000);
	add_raw(buf, (uint16_t)tg_udp(buf, &u, 0, 500, 1));
	add_tcp(&f, 1000, TG_ACK, 1, 1000);
	const uint8_t junk[] = { 0x00, 0x01, 0x02 };
	add_raw(junk, sizeof(junk));
	add_raw(junk, 0);
	/* An IPv4 TCP packet cut short and one with its length field too large. */
	uint32_t l = tg_tcp(buf, &f, 2000, TG_ACK, 2, 100);
	add_raw(buf, 30);
	add_raw(buf, (uint16_t)(l - 1));
	CU_ASSERT_EQUAL(coalesce(), 6);
	CU_ASSERT(items[0].count == 2);
	for (unsigned j = 1; j < 6; j++) {
		CU_ASSERT_EQUAL(items[j].count, 1);
		CU_ASSERT_EQUAL(fg_gro_iov(&items[j], pkts, lens, next_idx, iov), 2);
		CU_ASSERT(iov[1].iov_base == pkts[items[j].first]);  /* no copy */
		CU_ASSERT_EQUAL(iov[1].iov_len, lens[items[j].first]);
	}
	check_all(6);
	/* An IPv6 packet with an extension header closes every open item (TCP may hide in it). */
	tg_flow_init(&f, false, 9, false);
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 0, 1000);
	tg_udp(buf, &u, 0, 100, 0);
	buf[6] = 0;
	add_raw(buf, 148);
	add_tcp(&f, 1000, TG_ACK, 1, 1000);
	add_tcp(&f, 2000, TG_ACK, 2, 1000);
	CU_ASSERT_EQUAL(coalesce(), 3);
	CU_ASSERT(items[2].first == 2 && items[2].count == 2);
	check_all(3);
	/* WireGuard padding after the IP packet: the payload ends where IP says. */
	reset_burst();
	add_tcp(&f, 0, TG_ACK, 0, 1000);
	add_tcp(&f, 1000, TG_ACK, 1, 1000);
	lens[0] = (uint16_t)(lens[0] + 12);
	lens[1] = (uint16_t)(lens[1] + 12);
	CU_ASSERT_EQUAL(coalesce(), 1);
	CU_ASSERT_EQUAL(items[0].len, 40 + 2000);
}

/* UDP (USO): equal sizes merge, a shorter one closes, a larger one starts a new item. */
static void test_udp(void)
{
	struct tg_flow f;
	unsigned n;

	for (unsigned v6 = 0; v6 < 2; v6++) {
		tg_flow_init(&f, v6, 20 + v6, false);
		/* Without the flag of its family a datagram passes through. */
		gro_flags = 0;
		reset_burst();
		for (unsigned i = 0; i < 4; i++)
			add_udp(&f, (uint16_t)i, 1000, (uint8_t)i);
		CU_ASSERT_EQUAL(coalesce(), 4);
		gro_flags = v6 ? FG_GRO_UDP4 : FG_GRO_UDP6;
		CU_ASSERT_EQUAL(coalesce(), 4);
		check_all(4);
		/* 10 full datagrams and a shorter last: one item. */
		gro_flags = v6 ? FG_GRO_UDP6 : FG_GRO_UDP4;
		reset_burst();
		for (unsigned i = 0; i < 10; i++)
			add_udp(&f, (uint16_t)i, 1000, (uint8_t)i);
		add_udp(&f, 10, 321, 10);
		CU_ASSERT_EQUAL(n = coalesce(), 1);
		CU_ASSERT(items[0].count == 11 && items[0].len == (v6 ? 40u : 20u) + 8 + 10321);
		CU_ASSERT(items[0].head_len == (v6 ? 48 : 28));
		check_all(n);
		/* Size changes: the shorter one closes; a larger one starts a new item. */
		reset_burst();
		add_udp(&f, 0, 1000, 0);
		add_udp(&f, 1, 1000, 1);
		add_udp(&f, 2, 500, 2);
		add_udp(&f, 3, 1000, 3);  /* after a closed item */
		add_udp(&f, 4, 1200, 4);  /* larger */
		add_udp(&f, 5, 1200, 5);
		add_udp(&f, 6, 0, 6);     /* empty: never merged */
		add_udp(&f, 7, 1200, 7);
		add_udp(&f, 8, 1200, 8);
		CU_ASSERT_EQUAL(n = coalesce(), 5);
		CU_ASSERT(items[0].count == 3 && items[1].count == 1 && items[2].count == 2 &&
			  items[3].count == 1 && items[4].count == 2);
		CU_ASSERT(items[2].first == 4 && items[4].first == 7);
		check_all(n);
	}
	/* Both families at once, interleaved with each other and a TCP flow on the same ports. */
	struct tg_flow a, b, t;
	tg_flow_init(&a, false, 22, false);
	tg_flow_init(&b, true, 23, false);
	tg_flow_init(&t, false, 22, false);
	gro_flags = FG_GRO_UDP4 | FG_GRO_UDP6;
	reset_burst();
	for (unsigned i = 0; i < 6; i++) {
		add_udp(&a, (uint16_t)i, 800, (uint8_t)i);
		add_tcp(&t, i * 800, TG_ACK, (uint16_t)(100 + i), 800);
		add_udp(&b, 0, 600, (uint8_t)(i * 3));
	}
	CU_ASSERT_EQUAL(n = coalesce(), 3);
	CU_ASSERT(items[0].count == 6 && items[1].count == 6 && items[2].count == 6);
	CU_ASSERT(items[0].first == 0 && items[1].first == 1 && items[2].first == 2);
	CU_ASSERT(flatten(&items[1]) && flat[1] == 1);  /* the TCP flow stays TCP */
	check_all(n);
	gro_flags = 0;
}

/* UDP: IP fields, ids, zero checksums, fragments, 64 datagrams, 65535 bytes. */
static void test_udp_limits(void)
{
	struct tg_flow f;
	uint8_t buf[PKT_CAP];
	unsigned n;

	gro_flags = FG_GRO_UDP4 | FG_GRO_UDP6;
	tg_flow_init(&f, false, 30, false);
	/* 20 + 8 + 46 * 1400 = 64428 fits; a 47th datagram would make 65828. */
	reset_burst();
	for (unsigned i = 0; i < 60; i++)
		add_udp(&f, (uint16_t)i, 1400, (uint8_t)i);
	CU_ASSERT_EQUAL(n = coalesce(), 2);
	CU_ASSERT(items[0].count == 46 && items[1].count == 14 && items[0].len == 64428);
	check_all(n);
	/* 64 datagrams at most, v6 too. */
	for (unsigned v6 = 0; v6 < 2; v6++) {
		tg_flow_init(&f, v6, 31, false);
		reset_burst();
		for (unsigned i = 0; i < 70; i++)
			add_udp(&f, (uint16_t)i, 100, (uint8_t)i);
		CU_ASSERT_EQUAL(n = coalesce(), 2);
		CU_ASSERT(items[0].count == FG_GRO_MAX_SEGS && items[1].count == 6);
		check_all(n);
	}
	/* A changed TTL / hop limit, TOS / traffic class or flow label starts a new item. */
	for (unsigned v6 = 0; v6 < 2; v6++) {
		for (unsigned what = 0; what < 3; what++) {
			tg_flow_init(&f, v6, 32, false);
			reset_burst();
			add_udp(&f, 0, 500, 0);
			add_udp(&f, 1, 500, 1);
			if (what == 0)
				f.ttl--;
			else if (what == 1)
				f.tos = 0x10;
			else if (v6)
				f.flow_label++;
			else
				f.df = false;
			add_udp(&f, 2, 500, 2);
			add_udp(&f, 3, 500, 3);
			CU_ASSERT_EQUAL(n = coalesce(), 2);
			CU_ASSERT(items[0].count == 2 && items[1].count == 2);
			check_all(n);
		}
	}
	/* DF clear: ids must follow; a gap starts a new item. */
	tg_flow_init(&f, false, 33, false);
	f.df = false;
	reset_burst();
	add_udp(&f, 7, 500, 0);
	add_udp(&f, 8, 500, 1);
	add_udp(&f, 10, 500, 2);
	add_udp(&f, 11, 500, 3);
	CU_ASSERT_EQUAL(n = coalesce(), 2);
	CU_ASSERT(items[0].count == 2 && items[1].count == 2);
	check_all(n);
	/* IPv4 options and a zero (absent) checksum: passed through. */
	f.df = true;
	reset_burst();
	add_udp(&f, 0, 500, 0);
	add_udp(&f, 1, 500, 1);
	store[1][26] = 0;
	store[1][27] = 0;
	add_udp(&f, 2, 500, 2);
	f.ip_opt_len = 4;
	add_udp(&f, 3, 500, 3);
	add_udp(&f, 4, 500, 4);
	CU_ASSERT_EQUAL(n = coalesce(), 5);
	check_all(n);
	/* An IPv4 UDP fragment closes the open items; a UDP length that lies passes through. */
	f.ip_opt_len = 0;
	reset_burst();
	add_udp(&f, 0, 500, 0);
	add_udp(&f, 1, 500, 1);
	tg_udp(buf, &f, 2, 500, 2);
	buf[6] |= 0x20;  /* MF */
	add_raw(buf, (uint16_t)(20 + 8 + 500));
	add_udp(&f, 3, 500, 3);
	add_udp(&f, 4, 500, 4);
	add_udp(&f, 5, 500, 5);
	store[5][25] = (uint8_t)(store[5][25] - 1);
	CU_ASSERT_EQUAL(n = coalesce(), 4);
	CU_ASSERT(items[0].count == 2 && items[1].count == 1 && items[2].count == 2 &&
		  items[3].count == 1);
	check_all(n);
	gro_flags = 0;
}

/*
 * Random bursts of 4 flows (v4 and v6) with gaps, retransmissions, PSH, short segments,
 * pure ACKs and UDP on the same addresses and ports (coalesced in half of the rounds): every packet in exactly one item, chains in arrival order, each
 * flow's packets in arrival order across items, and gso(item) gives back the packets.
 */
static void test_property(void)
{
	struct tg_flow flows[4];
	uint32_t seq[4];
	uint16_t id[4];
	uint8_t owner[BURST];
	unsigned idx[BURST];
	uint16_t uid[4];

	srand(1280);
	for (unsigned r = 0; r < PROPERTY_ROUNDS; r++) {
		for (unsigned i = 0; i < 4; i++) {
			tg_flow_init(&flows[i], i & 1, i, i >= 2);
			seq[i] = (uint32_t)rand();
			id[i] = (uint16_t)rand();
			uid[i] = (uint16_t)rand();
		}
		gro_flags = (r & 1) ? (unsigned)(1 + rand() % 3) : 0;
		reset_burst();
		unsigned n = 1 + (unsigned)rand() % BURST;
		for (unsigned i = 0; i < n; i++) {
			unsigned fl = (unsigned)rand() % 4, what = (unsigned)rand() % 20;
			uint32_t mss = 1200, plen = mss;
			uint8_t flags = TG_ACK;
			owner[i] = (uint8_t)fl;
			if (what == 0 || (gro_flags && what >= 16)) {
				/* UDP on the TCP flow's addresses and ports: its own flow. */
				uint32_t ulen = what == 16 ? 1 + (uint32_t)rand() % 400 : 300;
				owner[i] = (uint8_t)(4 + fl);
				add_udp(&flows[fl], uid[fl]++, ulen, (uint8_t)rand());
				continue;
			}
			if (what == 1)
				seq[fl] += 77;      /* a gap */
			if (what == 2)
				seq[fl] -= mss;     /* a retransmission */
			if (what == 3)
				flags |= TG_PSH;
			if (what == 4)
				plen = 1 + (uint32_t)rand() % mss;
			if (what == 5)
				plen = 0;
			add_tcp(&flows[fl], seq[fl], flags, id[fl]++, plen);
			seq[fl] += plen;
		}
		unsigned nitems = coalesce(), seen = 0;
		unsigned last_of_flow[8] = { 0 };
		bool any[8] = { false };
		for (unsigned j = 0; j < nitems; j++) {
			unsigned c = chain(j, idx);
			for (unsigned k = 0; k < c; k++) {
				CU_ASSERT(k == 0 || idx[k] > idx[k - 1]);
				uint8_t o = owner[idx[k]];
				CU_ASSERT(c == 1 || o == owner[idx[0]]);
				if (o < 8) {
					CU_ASSERT(!any[o] || idx[k] > last_of_flow[o]);
					any[o] = true;
					last_of_flow[o] = idx[k];
				}
			}
			seen += c;
			check_item(j);
		}
		CU_ASSERT_EQUAL(seen, n);
	}
	gro_flags = 0;
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "one flow in order, v4/v6, options, ids, CWR", test_one_flow },
		{ "interleaved flows", test_two_flows },
		{ "gap, retransmission, PSH, short, flags, fields", test_breaks },
		{ "64 KiB, 64 segments, IPv4 options, flow table full", test_limits },
		{ "pass-through without copy, barriers, padding", test_passthrough },
		{ "UDP: flags, sizes, v4/v6, interleaved with TCP", test_udp },
		{ "UDP: 64 KiB, 64 datagrams, fields, ids, checksum, fragment", test_udp_limits },
		{ "random bursts: nothing lost, no flow reordered", test_property },
	};

	for (unsigned i = 0; i < MAX_OUT; i++)
		segs[i] = seg_store[i];
	return fg_cunit_run("kni_gro", tests, sizeof(tests) / sizeof(tests[0]));
}
