// SPDX-License-Identifier: MIT
/*
 * CUnit tests for kni/gso: super-packets built by tests/unit/kni/tcpgen (naive checksums)
 * are split and every segment is compared byte for byte with the segment tcpgen builds
 * directly, for TCP over IPv4 and IPv6, USO, the non-GSO NEEDS_CSUM case, and a catalogue
 * of hostile inputs (meant to run under ASan/UBSan). Single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "gso.h"
#include "tcpgen.h"
#include "../cunit_run.h"

enum {
	MTU = 1280,
	MAX_OUT = 64,
	SUPER_CAP = 65536 + 16,
	OUT_CAP = 2048,
	HOSTILE_ROUNDS = 20000,
};

static uint8_t super[SUPER_CAP];
static uint8_t out_store[MAX_OUT][OUT_CAP];
static uint8_t *out[MAX_OUT];
static uint16_t out_len[MAX_OUT];
static uint8_t want[OUT_CAP];

/* A TCP super-packet as the kernel hands it: vnet header, then the packet (checksum seed). */
static uint32_t tcp_super(const struct tg_flow *f, uint32_t seq, uint8_t flags, uint16_t id,
			  uint32_t plen, uint16_t gso_size)
{
	uint8_t *ip = super + 10;
	uint32_t len = tg_tcp(ip, f, seq, flags, id, plen);
	unsigned iphl = f->v6 ? 40 : 20u + f->ip_opt_len, hl = iphl + 20 + f->opt_len;
	uint32_t seed = tg_fold(tg_pseudo(ip, len - iphl));

	ip[iphl + 16] = (uint8_t)(seed >> 8);
	ip[iphl + 17] = (uint8_t)seed;
	tg_vnet(super, 1, f->v6 ? 4 : 1, (uint16_t)hl, gso_size, (uint16_t)iphl, 16);
	return len + 10;
}

/* Splits and checks each segment against tcpgen's; returns the segment count. */
static int check_tcp_split(const struct tg_flow *f, uint32_t seq, uint8_t flags, uint16_t id,
			   uint32_t plen, uint16_t gso_size)
{
	uint32_t len = tcp_super(f, seq, flags, id, plen, gso_size);
	int n = fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, OUT_CAP);

	if (n <= 0)
		return n;
	uint32_t off = 0;
	for (int k = 0; k < n; k++) {
		uint32_t seg = plen - off < gso_size ? plen - off : gso_size;
		uint8_t fl = flags;
		if (k > 0)
			fl &= (uint8_t)~TG_CWR;
		if (k + 1 < n)
			fl &= (uint8_t)~(TG_FIN | TG_PSH);
		uint32_t wl = tg_tcp(want, f, seq + off, fl, (uint16_t)(id + k), seg);
		CU_ASSERT_EQUAL(out_len[k], wl);
		CU_ASSERT(out_len[k] <= MTU);
		CU_ASSERT(memcmp(out[k], want, wl) == 0);
		CU_ASSERT(tg_valid(out[k], out_len[k]));
		off += seg;
	}
	CU_ASSERT_EQUAL(off, plen);
	return n;
}

static void test_image_4500(void)
{
	struct tg_flow f;

	/*
	 * MTU 1280, IPv4 (20) + TCP (20): MSS 1240. 4500 = 3 * 1240 + 780, so 3 packets of
	 * 1280 bytes and one of 820, the short one last.
	 */
	tg_flow_init(&f, false, 1, false);
	CU_ASSERT_EQUAL(check_tcp_split(&f, 1000, TG_ACK | TG_PSH, 7, 4500, 1240), 4);
	CU_ASSERT(out_len[0] == 1280 && out_len[1] == 1280 && out_len[2] == 1280 &&
		  out_len[3] == 820);
	/* Sequence numbers contiguous; PSH only on the last. */
	for (int k = 0; k < 4; k++) {
		const uint8_t *t = out[k] + 20;
		uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | t[6] << 8 | t[7];
		CU_ASSERT_EQUAL(seq, 1000u + 1240u * (unsigned)k);
		CU_ASSERT_EQUAL(t[13] & TG_PSH, k == 3 ? TG_PSH : 0);
		CU_ASSERT_EQUAL((out[k][4] << 8 | out[k][5]), 7 + k);
	}
	/* With timestamps (12 bytes of options) and MSS 1200: 3 * 1200 + 900. */
	tg_flow_init(&f, false, 2, true);
	CU_ASSERT_EQUAL(check_tcp_split(&f, 5, TG_ACK, 65534, 4500, 1200), 4);
	CU_ASSERT(out_len[0] == 1252 && out_len[2] == 1252 && out_len[3] == 952);
	/* Exactly divisible: no short segment; one segment when the payload fits. */
	CU_ASSERT_EQUAL(check_tcp_split(&f, 5, TG_ACK, 1, 3600, 1200), 3);
	CU_ASSERT_EQUAL(check_tcp_split(&f, 5, TG_ACK, 1, 1000, 1200), 1);
	/* Sequence wrap-around and id wrap-around. */
	CU_ASSERT_EQUAL(check_tcp_split(&f, 0xfffffc00u, TG_ACK, 65535, 4500, 1200), 4);
}

static void test_flags(void)
{
	struct tg_flow f;

	tg_flow_init(&f, false, 3, false);
	CU_ASSERT_EQUAL(check_tcp_split(&f, 9, TG_ACK | TG_PSH | TG_FIN | TG_CWR | TG_ECE, 0, 3000,
					1000), 3);
	CU_ASSERT_EQUAL(out[0][20 + 13], TG_ACK | TG_CWR | TG_ECE);
	CU_ASSERT_EQUAL(out[1][20 + 13], TG_ACK | TG_ECE);
	CU_ASSERT_EQUAL(out[2][20 + 13], TG_ACK | TG_ECE | TG_PSH | TG_FIN);
	/* The ECN bit of the gso type is accepted for TCP. */
	tcp_super(&f, 9, TG_ACK | TG_CWR, 0, 3000, 1000);
	super[1] = 0x81;
	CU_ASSERT_EQUAL(fg_gso_split(super, 3050, MTU, out, out_len, MAX_OUT, OUT_CAP), 3);
}

static void test_ipv6_and_options(void)
{
	struct tg_flow f;

	/* IPv6 (40) + TCP (20): MSS 1220, 4500 = 3 * 1220 + 840. */
	tg_flow_init(&f, true, 4, false);
	CU_ASSERT_EQUAL(check_tcp_split(&f, 77, TG_ACK | TG_PSH, 0, 4500, 1220), 4);
	CU_ASSERT(out_len[0] == 1280 && out_len[3] == 900);
	tg_flow_init(&f, true, 5, true);
	CU_ASSERT_EQUAL(check_tcp_split(&f, 77, TG_ACK, 0, 20000, 1208), 17);
	/* IPv4 options are copied to every segment (the kernel's GSO does the same). */
	tg_flow_init(&f, false, 6, true);
	f.ip_opt_len = 8;
	CU_ASSERT_EQUAL(check_tcp_split(&f, 1, TG_ACK, 100, 2500, 1000), 3);
	/* A 64 KiB super-packet, the largest a TUN hands over. */
	tg_flow_init(&f, false, 7, false);
	CU_ASSERT_EQUAL(check_tcp_split(&f, 1, TG_ACK, 0, 65535 - 40, 1240), 53);
}

static void check_udp(bool v6)
{
	struct tg_flow f;
	uint8_t *ip = super + 10;

	tg_flow_init(&f, v6, 8, false);
	uint32_t len = tg_udp(ip, &f, 50, 3500, 3) + 10;
	unsigned iphl = v6 ? 40 : 20;
	tg_vnet(super, 1, 5, (uint16_t)(iphl + 8), 1000, (uint16_t)iphl, 6);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, OUT_CAP), 4);
	for (unsigned k = 0; k < 4; k++) {
		uint32_t seg = k < 3 ? 1000 : 500;
		uint32_t wl = tg_udp(want, &f, (uint16_t)(50 + k), seg, (uint8_t)(3 + 1000 * k * 7));
		CU_ASSERT_EQUAL(out_len[k], wl);
		CU_ASSERT(memcmp(out[k], want, wl) == 0);
		CU_ASSERT(tg_valid(out[k], out_len[k]));
	}
}

static void test_udp(void)
{
	check_udp(false);
	check_udp(true);
}

static void test_needs_csum(void)
{
	struct tg_flow f;
	uint8_t *ip = super + 10;

	/* TCP: the field holds the pseudo-header seed; the result equals tcpgen's packet. */
	tg_flow_init(&f, false, 9, true);
	uint32_t len = tcp_super(&f, 3, TG_ACK | TG_PSH, 9, 700, 0);
	tg_vnet(super, 1, 0, 0, 0, 20, 16);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, OUT_CAP), 1);
	uint32_t wl = tg_tcp(want, &f, 3, TG_ACK | TG_PSH, 9, 700);
	CU_ASSERT(out_len[0] == wl && memcmp(out[0], want, wl) == 0);
	/* UDP over IPv6, seed in place. */
	tg_flow_init(&f, true, 10, false);
	len = tg_udp(ip, &f, 0, 333, 1) + 10;
	uint32_t seed = tg_fold(tg_pseudo(ip, 8 + 333));
	ip[46] = (uint8_t)(seed >> 8);
	ip[47] = (uint8_t)seed;
	tg_vnet(super, 1, 0, 0, 0, 40, 6);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, OUT_CAP), 1);
	wl = tg_udp(want, &f, 0, 333, 1);
	CU_ASSERT(out_len[0] == wl && memcmp(out[0], want, wl) == 0);
	/* No flags: copied as is. */
	tg_vnet(super, 0, 0, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, OUT_CAP), 1);
	CU_ASSERT(memcmp(out[0], ip, len - 10) == 0);
	/* csum_start / csum_offset outside the packet. */
	tg_vnet(super, 1, 0, 0, 0, (uint16_t)(len - 10), 0);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, OUT_CAP), -EINVAL);
	tg_vnet(super, 1, 0, 0, 0, 40, (uint16_t)(len - 10 - 40 - 1));
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, OUT_CAP), -EINVAL);
	/* A non-GSO packet over the MTU, or over out_cap, or no room at all. */
	tg_vnet(super, 0, 0, 0, 0, 0, 0);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, 300, out, out_len, MAX_OUT, OUT_CAP), -EMSGSIZE);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, 300), -EMSGSIZE);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, 0, OUT_CAP), -ENOSPC);
}

static int split(uint32_t len)
{
	return fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, OUT_CAP);
}

/*
 * A non-GSO NEEDS_CSUM packet whose csum_start / csum_offset point anywhere but the TCP or
 * UDP checksum is refused: before, csum_start 0 with csum_offset 12 stored a "checksum"
 * over the source address, and the packet went out with a rewritten source.
 */
static void test_needs_csum_start(void)
{
	struct tg_flow f;
	uint8_t *ip = super + 10;

	tg_flow_init(&f, false, 15, false);
	uint32_t len = tcp_super(&f, 3, TG_ACK, 9, 500, 0);
	tg_vnet(super, 1, 0, 0, 0, 20, 16);
	CU_ASSERT_EQUAL(split(len), 1);
	uint32_t wl = tg_tcp(want, &f, 3, TG_ACK, 9, 500);
	CU_ASSERT(out_len[0] == wl && memcmp(out[0], want, wl) == 0);
	const uint16_t bad[][2] = {
		{ 0, 12 },   /* inside the IPv4 header: onto the source address */
		{ 0, 10 },   /* onto the IPv4 header checksum */
		{ 12, 4 },   /* from the source address onto the destination */
		{ 20, 6 },   /* TCP header, UDP's offset */
		{ 21, 16 },  /* one past the TCP header */
		{ 40, 16 },  /* inside the payload */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tg_vnet(super, 1, 0, 0, 0, bad[i][0], bad[i][1]);
		CU_ASSERT_EQUAL(split(len), -EINVAL);
	}
	/* UDP over IPv6: 40 / 6 only. */
	tg_flow_init(&f, true, 16, false);
	len = tg_udp(ip, &f, 0, 200, 5) + 10;
	tg_vnet(super, 1, 0, 0, 0, 40, 16);
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	tg_vnet(super, 1, 0, 0, 0, 8, 6);
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	/* An IPv4 fragment never carries a partial checksum. */
	tg_flow_init(&f, false, 17, false);
	len = tg_udp(ip, &f, 0, 200, 5) + 10;
	tg_vnet(super, 1, 0, 0, 0, 20, 6);
	CU_ASSERT_EQUAL(split(len), 1);
	ip[6] |= 0x20;
	CU_ASSERT_EQUAL(split(len), -EINVAL);

	/* IPv6 with an 8-byte hop-by-hop header before UDP: csum_start is 48, not 40. */
	tg_flow_init(&f, true, 18, false);
	wl = tg_udp(want, &f, 0, 300, 9);
	memcpy(ip, want, 40);
	ip[5] = (uint8_t)(ip[5] + 8);
	ip[6] = 0;
	const uint8_t hbh[8] = { 17, 0, 1, 4, 0, 0, 0, 0 };  /* next UDP, PadN */
	memcpy(ip + 40, hbh, 8);
	memcpy(ip + 48, want + 40, wl - 40);
	uint32_t seed = tg_fold(tg_pseudo(want, wl - 40));
	ip[48 + 6] = (uint8_t)(seed >> 8);
	ip[48 + 7] = (uint8_t)seed;
	len = wl + 8 + 10;
	tg_vnet(super, 1, 0, 0, 0, 40, 6);
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	tg_vnet(super, 1, 0, 0, 0, 48, 6);
	CU_ASSERT_EQUAL_FATAL(split(len), 1);
	CU_ASSERT(out_len[0] == wl + 8 && memcmp(out[0] + 48, want + 40, wl - 40) == 0);
	/* A hop-by-hop length running past the packet. */
	ip[41] = 0xff;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
}

static void test_hostile(void)
{
	struct tg_flow f;
	uint8_t *ip = super + 10;
	uint32_t len;

	tg_flow_init(&f, false, 11, true);
	len = tcp_super(&f, 1, TG_ACK, 0, 4500, 1200);
	/* Truncated at every offset: never a segment. */
	for (uint32_t l = 0; l < len; l++)
		CU_ASSERT(split(l) < 0);
	CU_ASSERT_EQUAL(fg_gso_split(NULL, len, MTU, out, out_len, MAX_OUT, OUT_CAP), -EINVAL);
	/* hdr_len and csum_start are hints: lies change nothing. */
	super[2] = 0xff;
	super[3] = 0xff;
	super[6] = 3;
	CU_ASSERT_EQUAL(check_tcp_split(&f, 1, TG_ACK, 0, 4500, 1200), 4);
	len = tcp_super(&f, 1, TG_ACK, 0, 4500, 1200);
	super[2] = 0;
	super[3] = 0;
	CU_ASSERT_EQUAL(split(len), 4);
	/* gso_size 0, larger than the MTU allows, huge; too many segments. */
	super[4] = 0;
	super[5] = 0;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	tg_vnet(super, 1, 1, 52, 1229, 20, 16);
	CU_ASSERT_EQUAL(split(len), -EMSGSIZE);
	tg_vnet(super, 1, 1, 52, 1228, 20, 16);
	CU_ASSERT_EQUAL(split(len), 4);
	tg_vnet(super, 1, 1, 52, 0xffff, 20, 16);
	CU_ASSERT_EQUAL(split(len), -EMSGSIZE);
	tg_vnet(super, 1, 1, 52, 1, 20, 16);
	CU_ASSERT_EQUAL(split(len), -ENOSPC);
	tg_vnet(super, 1, 1, 52, 1200, 20, 16);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, 3, OUT_CAP), -ENOSPC);
	CU_ASSERT_EQUAL(fg_gso_split(super, len, MTU, out, out_len, MAX_OUT, 1000), -EMSGSIZE);
	/* Unknown gso types, UFO, type / version / protocol mismatch, unknown flags. */
	const uint8_t types[] = { 2, 3, 6, 0x7f, 0xff };
	for (unsigned i = 0; i < sizeof(types); i++) {
		super[1] = types[i];
		CU_ASSERT_EQUAL(split(len), -EPROTONOSUPPORT);
	}
	super[1] = 4;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	super[1] = 5;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	super[1] = 0x85;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	super[1] = 1;
	super[0] = 4;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	super[0] = 1;
	CU_ASSERT_EQUAL(split(len), 4);
	/* Total length lies, in both directions; an IPv4 fragment; a bad data offset. */
	ip[3]++;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	ip[3] -= 2;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	ip[3]++;
	ip[6] |= 0x20;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	ip[6] &= 0x40;
	ip[7] = 1;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	ip[7] = 0;
	ip[20 + 12] = 0x40;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	ip[20 + 12] = 0xf0;
	CU_ASSERT_EQUAL(split(len), 4);  /* 60-byte TCP header: the payload starts later */
	ip[0] = 0x44;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	ip[0] = 0x55;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	/* IPv6 with a hop-by-hop header before TCP: refused. */
	tg_flow_init(&f, true, 12, false);
	len = tcp_super(&f, 1, TG_ACK, 0, 3000, 1000);
	CU_ASSERT_EQUAL(split(len), 3);
	ip[6] = 0;
	CU_ASSERT_EQUAL(split(len), -EPROTONOSUPPORT);
	ip[6] = 44;
	CU_ASSERT_EQUAL(split(len), -EPROTONOSUPPORT);
	ip[6] = 17;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	ip[5]++;
	CU_ASSERT_EQUAL(split(len), -EINVAL);
	/* UDP length lies. */
	tg_flow_init(&f, false, 13, false);
	len = tg_udp(ip, &f, 0, 3000, 0) + 10;
	tg_vnet(super, 1, 5, 28, 1000, 20, 6);
	CU_ASSERT_EQUAL(split(len), 3);
	ip[25]++;
	CU_ASSERT_EQUAL(split(len), -EINVAL);

	/* Random corruption of a valid super-packet's first 80 bytes: no crash, no overrun. */
	srand(4500);
	tg_flow_init(&f, false, 14, true);
	for (unsigned r = 0; r < HOSTILE_ROUNDS; r++) {
		len = tcp_super(&f, 1, TG_ACK, 0, 2000 + (uint32_t)(rand() % 3000), 1000);
		for (int m = rand() % 4; m >= 0; m--)
			super[rand() % 80] ^= (uint8_t)(1 + rand() % 255);
		uint32_t l = rand() % 8 ? len : (uint32_t)rand() % len;
		int n = split(l);
		CU_ASSERT(n <= MAX_OUT);
		for (int k = 0; k < n; k++)
			CU_ASSERT(out_len[k] <= MTU);
	}
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "4500-byte image: 3 full + 1 short, short last", test_image_4500 },
		{ "CWR first, FIN/PSH last", test_flags },
		{ "IPv6, TCP and IPv4 options, 64 KiB", test_ipv6_and_options },
		{ "USO over IPv4 and IPv6", test_udp },
		{ "non-GSO NEEDS_CSUM and copies", test_needs_csum },
		{ "non-GSO NEEDS_CSUM only at the L4 checksum", test_needs_csum_start },
		{ "hostile inputs", test_hostile },
	};

	for (unsigned i = 0; i < MAX_OUT; i++)
		out[i] = out_store[i];
	return fg_cunit_run("kni_gso", tests, sizeof(tests) / sizeof(tests[0]));
}
