// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the data plane's outer packet parsing and demultiplexing
 * (dataplane/worker/netpkt.c). Input: one flags byte, then a frame copied into a buffer of
 * exactly its length (malloc'd: an even address, as an mbuf's data). Flags: bit 0
 * aead_covers_udp4, bit 1 no IPv6 address, bit 2 no IPv4 address, bit 3 "fix checksums"
 * (the harness rewrites the IPv4 header and UDP / ICMP / ICMPv6 checksums first, so the
 * fuzzer reaches past them), bit 4 the source port given to the direct demux is 3478.
 *
 * Checks, each against a naive byte-by-byte re-reading in this file (big-endian sums one
 * word at a time, explicit offsets, no DPDK structs): fg_netpkt_parse_outer()'s kind, drop
 * reason, family, ECN, offsets, payload and source port, and that what it accepts lies inside
 * the frame; fg_netpkt_demux() of an accepted UDP payload, of its ChannelData data and of
 * the raw bytes as a payload; fg_netpkt_arp_parse(), fg_netpkt_nd_parse() and
 * fg_netpkt_parse_inner() accept exactly what the reference accepts, with the same fields;
 * an echo reply keeps the length, swaps the addresses and carries checksums that verify.
 *
 *   scripts/fuzz.sh 60 outer     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/outer/ (tests/fuzz/corpus/gen_dp_seeds.py).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fuzz_check.h"
#include "netpkt.h"
#include "fuzz_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum {
	F_AEAD = 1,
	F_NO_IP6 = 2,
	F_NO_IP4 = 4,
	F_FIX = 8,
	F_PORT_STUN = 16,
	LISTEN = 51820,
	STUN_PORT = 3478,
};

static const uint8_t us_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t us_ip4[4] = { 192, 0, 2, 1 };
static const uint8_t us_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0x01 };

/* The pseudo-header sum (unfolded) of the IP header at ip (v4: 20-byte-header layout). */
static uint64_t pseudo(const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4len)
{
	uint64_t s = proto + (uint64_t)l4len;

	if (v6) {
		for (int i = 8; i < 40; i += 2)
			s += g16(ip + i);
	} else {
		for (int i = 12; i < 20; i += 2)
			s += g16(ip + i);
	}
	return s;
}

/* Rewrites the checksums a well-enough-formed frame carries (F_FIX). */
static void fix(uint8_t *f, uint32_t len)
{
	if (len >= 34 && g16(f + 12) == 0x0800) {
		uint32_t hl = (f[14] & 15) * 4u, tl = g16(f + 16);
		uint8_t *l4 = f + 14 + hl;

		if (hl < 20 || hl > len - 14)
			return;
		p16(f + 24, 0);
		p16(f + 24, (uint16_t)~nsum(f + 14, hl, 0));
		if (tl < hl || tl > len - 14)
			return;
		if (f[23] == 17 && tl - hl >= 8) {
			p16(l4 + 6, 0);
			uint16_t c = (uint16_t)~nsum(l4, tl - hl, pseudo(f + 14, false, 17, tl - hl));
			p16(l4 + 6, c ? c : 0xffff);
		} else if (f[23] == 1 && tl - hl >= 4) {
			p16(l4 + 2, 0);
			p16(l4 + 2, (uint16_t)~nsum(l4, tl - hl, 0));
		}
	} else if (len >= 54 && g16(f + 12) == 0x86dd) {
		uint32_t pl = g16(f + 18);
		uint8_t *l4 = f + 54;

		if (pl > len - 54)
			return;
		if (f[20] == 17 && pl >= 8) {
			p16(l4 + 6, 0);
			uint16_t c = (uint16_t)~nsum(l4, pl, pseudo(f + 14, true, 17, pl));
			p16(l4 + 6, c ? c : 0xffff);
		} else if (f[20] == 58 && pl >= 4) {
			p16(l4 + 2, 0);
			p16(l4 + 2, (uint16_t)~nsum(l4, pl, pseudo(f + 14, true, 58, pl)));
		}
	}
}

struct ref {
	enum fg_outer_kind kind;
	enum fg_drop why;
	uint8_t family, ecn;
	uint32_t l3, l4, poff, plen;
	uint16_t sport;
};

static enum fg_outer_kind drop(struct ref *r, enum fg_drop why)
{
	r->why = why;
	return r->kind = FG_OUTER_DROP;
}

static bool wg_data(const uint8_t *p, uint32_t n)
{
	return n >= 32 && p[0] == 4 && p[1] == 0 && p[2] == 0 && p[3] == 0;
}

static bool chan_ok(const uint8_t *p, uint32_t n)
{
	uint32_t exact;

	if (n < 4 || p[0] < 0x40 || p[0] > 0x4f)
		return false;
	exact = 4u + g16(p + 2);
	return n == exact || n == (exact + 3) / 4 * 4;
}

static enum fg_drop ref_udp(const uint8_t *ip, bool v6, const uint8_t *l4, uint32_t l4len, uint8_t flags)
{
	if (l4len < 8 || g16(l4 + 4) != l4len || g16(l4) == 0)
		return FG_DROP_UDP_MALFORMED;
	if (g16(l4 + 2) != LISTEN)
		return FG_DROP_UDP_PORT;
	if (!v6 && (flags & F_AEAD)) {
		const uint8_t *p = l4 + 8;
		uint32_t n = l4len - 8;

		if (wg_data(p, n))
			return FG_DROP_NONE;
		if (g16(l4) == STUN_PORT && chan_ok(p, n) && wg_data(p + 4, g16(p + 2)))
			return FG_DROP_NONE;
	}
	if (g16(l4 + 6) == 0)
		return v6 ? FG_DROP_UDP_CHECKSUM : FG_DROP_NONE;
	return nsum(l4, l4len, pseudo(ip, v6, 17, l4len)) == 0xffff ? FG_DROP_NONE : FG_DROP_UDP_CHECKSUM;
}

static bool mac_valid_assigned(const uint8_t *m)
{
	return !(m[0] & 1) && (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) != 0;
}

/* fg_netpkt_arp_parse()'s acceptance, byte by byte. */
static bool ref_arp_ok(const uint8_t *f, uint32_t len)
{
	return len >= 42 && g16(f + 12) == 0x0806 && g16(f + 14) == 1 && g16(f + 16) == 0x0800 &&
	       f[18] == 6 && f[19] == 4 && (g16(f + 20) == 1 || g16(f + 20) == 2) && mac_valid_assigned(f + 22);
}

static enum fg_outer_kind ref_ip4(const uint8_t *f, uint32_t len, uint8_t flags, bool mcast, struct ref *r)
{
	const uint8_t *ip = f + 14, *l4;
	uint32_t hl, tl, l4len;

	if (len < 34)
		return drop(r, FG_DROP_ETH_SHORT);
	hl = (ip[0] & 15) * 4u;
	tl = g16(ip + 2);
	if (ip[0] >> 4 != 4 || hl < 20 || tl < hl || tl > len - 14)
		return drop(r, FG_DROP_IP_MALFORMED);
	if (nsum(ip, hl, 0) != 0xffff)
		return drop(r, FG_DROP_IP_CHECKSUM);
	if (mcast || (flags & F_NO_IP4) || memcmp(ip + 16, us_ip4, 4) != 0)
		return drop(r, FG_DROP_NOT_FOR_US);
	if (g16(ip + 6) & 0x3fff)
		return drop(r, FG_DROP_IP_FRAGMENT);
	if ((ip[12] & 0xe0) == 0xe0)
		return drop(r, FG_DROP_IP_MALFORMED);
	l4 = ip + hl;
	l4len = tl - hl;
	r->family = AF_INET;
	r->ecn = ip[1] & 3;
	r->l3 = 14;
	r->l4 = 14 + hl;
	if (ip[9] == 17) {
		r->why = ref_udp(ip, false, l4, l4len, flags);
		if (r->why != FG_DROP_NONE)
			return r->kind = FG_OUTER_DROP;
		r->sport = g16(l4);
		r->poff = r->l4 + 8;
		r->plen = l4len - 8;
		return r->kind = FG_OUTER_UDP;
	}
	if (ip[9] != 1)
		return drop(r, FG_DROP_IP_PROTO);
	if (l4len < 8 || l4[0] != 8 || l4[1] != 0 || nsum(l4, l4len, 0) != 0xffff)
		return drop(r, FG_DROP_ICMP_UNHANDLED);
	r->poff = r->l4;
	r->plen = l4len;
	return r->kind = FG_OUTER_ECHO;
}

static enum fg_outer_kind ref_icmp6(const uint8_t *ip, const uint8_t *l4, uint32_t n, bool unicast, struct ref *r)
{
	uint8_t t;

	if (n < 4 || nsum(l4, n, pseudo(ip, true, 58, n)) != 0xffff)
		return drop(r, FG_DROP_ICMP_UNHANDLED);
	t = l4[0];
	if (t == 128) {
		if (!unicast)
			return drop(r, FG_DROP_NOT_FOR_US);
		if (n < 8 || l4[1] != 0)
			return drop(r, FG_DROP_ICMP_UNHANDLED);
		return r->kind = FG_OUTER_ECHO;
	}
	if (t != 134 && t != 135 && t != 136)
		return drop(r, unicast ? FG_DROP_ICMP_UNHANDLED : FG_DROP_NOT_FOR_US);
	if (ip[7] != 255 || l4[1] != 0 || n < (t == 134 ? 16u : 24u))
		return drop(r, FG_DROP_ICMP_UNHANDLED);
	if (t == 135 && memcmp(l4 + 8, us_ip6, 16) != 0)
		return drop(r, FG_DROP_NOT_FOR_US);
	return r->kind = FG_OUTER_ND;
}

static enum fg_outer_kind ref_ip6(const uint8_t *f, uint32_t len, uint8_t flags, bool mcast, struct ref *r)
{
	static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
	static const uint8_t sn[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };
	const uint8_t *ip = f + 14, *dst = ip + 24, *l4 = f + 54;
	bool has6 = !(flags & F_NO_IP6), unicast, group;
	uint32_t pl;

	if (len < 54)
		return drop(r, FG_DROP_ETH_SHORT);
	pl = g16(ip + 4);
	if (ip[0] >> 4 != 6 || pl > len - 54)
		return drop(r, FG_DROP_IP_MALFORMED);
	unicast = has6 && !mcast && memcmp(dst, us_ip6, 16) == 0;
	group = has6 && !unicast &&
		((memcmp(dst, sn, 13) == 0 && memcmp(dst + 13, us_ip6 + 13, 3) == 0) ||
		 memcmp(dst, all_nodes, 16) == 0);
	if (!unicast && !group)
		return drop(r, FG_DROP_NOT_FOR_US);
	if (ip[8] == 0xff)
		return drop(r, FG_DROP_IP_MALFORMED);
	r->family = AF_INET6;
	r->ecn = (ip[1] >> 4) & 3;
	r->l3 = 14;
	r->l4 = 54;
	if (ip[6] == 17) {
		if (!unicast)
			return drop(r, FG_DROP_NOT_FOR_US);
		r->why = ref_udp(ip, true, l4, pl, flags);
		if (r->why != FG_DROP_NONE)
			return r->kind = FG_OUTER_DROP;
		r->sport = g16(l4);
		r->poff = 62;
		r->plen = pl - 8;
		return r->kind = FG_OUTER_UDP;
	}
	if (ip[6] != 58)
		return drop(r, FG_DROP_IP_PROTO);
	if (ref_icmp6(ip, l4, pl, unicast, r) == FG_OUTER_DROP)
		return FG_OUTER_DROP;
	r->poff = 54;
	r->plen = pl;
	return r->kind;
}

static enum fg_outer_kind ref_outer(const uint8_t *f, uint32_t len, uint8_t flags, struct ref *r)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	bool mcast;

	memset(r, 0, sizeof(*r));
	r->why = FG_DROP_NONE;
	if (len < 14)
		return drop(r, FG_DROP_ETH_SHORT);
	mcast = f[0] & 1;
	if (!mcast && memcmp(f, us_mac, 6) != 0)
		return drop(r, FG_DROP_NOT_FOR_US);
	switch (g16(f + 12)) {
	case 0x0800:
		return ref_ip4(f, len, flags, mcast, r);
	case 0x86dd:
		return ref_ip6(f, len, flags, mcast, r);
	case 0x0806:
		if (len < 42)
			return drop(r, FG_DROP_ETH_SHORT);
		if (!ref_arp_ok(f, len))
			return drop(r, FG_DROP_ETHERTYPE);
		if ((mcast && memcmp(f, bcast, 6) != 0) || (flags & F_NO_IP4) || memcmp(f + 38, us_ip4, 4) != 0)
			return drop(r, FG_DROP_NOT_FOR_US);
		r->family = AF_INET;
		r->l3 = r->l4 = r->poff = 14;
		r->plen = 28;
		return r->kind = FG_OUTER_ARP;
	default:
		return drop(r, FG_DROP_ETHERTYPE);
	}
}

/* RFC 8489 §5: the two top bits zero (netpkt.h's "first byte 0..3" is RFC 7983's narrower
 * range; the parser takes 0..0x3f, which demultiplexes the same from WireGuard). */
static bool stun_ok(const uint8_t *p, uint32_t n)
{
	return n >= 20 && p[0] < 0x40 && g32(p + 4) == 0x2112A442 && g16(p + 2) == n - 20 && g16(p + 2) % 4 == 0;
}

/* The demultiplexing order of netpkt.h, read naively. */
static enum fg_demux ref_demux(const uint8_t *p, uint32_t n, uint16_t sport, enum fg_drop *why)
{
	static const uint32_t exact[5] = { 0, 148, 92, 64, 0 };

	if (sport == STUN_PORT) {
		if (stun_ok(p, n))
			return FG_DEMUX_STUN;
		if (chan_ok(p, n))
			return FG_DEMUX_CHANNEL_DATA;
		if (n >= 4 && p[0] >= 0x40 && p[0] <= 0x4f) {
			*why = FG_DROP_CHANNEL_MALFORMED;
			return FG_DEMUX_DROP;
		}
	}
	/* Binding: the method bits (the type without its class bits 0x0110) equal 1. */
	if (stun_ok(p, n) && (g16(p) & ~0x0110) == 1)
		return FG_DEMUX_STUN;
	if (n < 4) {
		*why = FG_DROP_WG_LENGTH;
		return FG_DEMUX_DROP;
	}
	if (p[0] < 1 || p[0] > 4 || p[1] || p[2] || p[3]) {
		*why = FG_DROP_WG_TYPE;
		return FG_DEMUX_DROP;
	}
	if (exact[p[0]] ? n != exact[p[0]] : n < 32) {
		*why = FG_DROP_WG_LENGTH;
		return FG_DEMUX_DROP;
	}
	switch (p[0]) {
	case 1: return FG_DEMUX_WG_INITIATION;
	case 2: return FG_DEMUX_WG_RESPONSE;
	case 3: return FG_DEMUX_WG_COOKIE;
	default: return FG_DEMUX_WG_DATA;
	}
}

static void check_demux(const uint8_t *p, uint32_t n, uint16_t sport)
{
	enum fg_drop why = FG_DROP_MAX, rwhy = FG_DROP_MAX;
	enum fg_demux d = fg_netpkt_demux(p, n, sport, &why);

	CHECK(d == ref_demux(p, n, sport, &rwhy));
	CHECK(d != FG_DEMUX_DROP || why == rwhy);
}

/* fg_netpkt_nd_parse() against a naive reading. */
static void check_nd(const uint8_t *f, uint32_t len)
{
	struct fg_nd nd;
	const uint8_t *ip = f + 14, *icmp = f + 54;
	bool ok = false, has = false, unspec = true;
	uint32_t pl = 0, off;
	uint8_t t = 0, want, ll[6] = { 0 };

	if (len >= 78 && g16(f + 12) == 0x86dd && ip[0] >> 4 == 6) {
		pl = g16(ip + 4);
		t = icmp[0];
		ok = pl >= 24 && pl <= len - 54 && ip[6] == 58 && ip[7] == 255 && icmp[1] == 0 &&
		     (t == 135 || t == 136) && nsum(icmp, pl, pseudo(ip, true, 58, pl)) == 0xffff &&
		     icmp[8] != 0xff;
	}
	want = t == 135 ? 1 : 2;
	for (off = 24; ok && off < pl; off += icmp[off + 1] * 8u) {
		if (pl - off < 2 || icmp[off + 1] == 0 || icmp[off + 1] * 8u > pl - off) {
			ok = false;
			break;
		}
		if (icmp[off] == want) {
			has = true;
			memcpy(ll, icmp + off + 2, 6);
		}
	}
	for (int i = 0; ok && i < 16; i++)
		unspec &= ip[8 + i] == 0;
	if (ok && t == 135 && unspec && has)
		ok = false;
	if (ok && t == 136 && (unspec || (ip[24] == 0xff && (icmp[4] & 0x40))))
		ok = false;
	if (ok && has && !mac_valid_assigned(ll))
		ok = false;
	CHECK((fg_netpkt_nd_parse(f, len, &nd) == 0) == ok);
	if (!ok)
		return;
	CHECK(nd.type == t && nd.flags == (t == 136 ? (icmp[4] & 0xe0) : 0));
	CHECK(memcmp(nd.target, icmp + 8, 16) == 0 && memcmp(nd.src_ip, ip + 8, 16) == 0);
	CHECK(nd.has_lladdr == has && (!has || memcmp(&nd.lladdr, ll, 6) == 0));
}

static void check_arp(const uint8_t *f, uint32_t len)
{
	struct fg_arp arp;
	bool ok = ref_arp_ok(f, len);

	CHECK((fg_netpkt_arp_parse(f, len, &arp) == 0) == ok);
	if (!ok)
		return;
	CHECK(arp.op == g16(f + 20) && memcmp(&arp.sha, f + 22, 6) == 0 && memcmp(&arp.sip, f + 28, 4) == 0 &&
	      memcmp(&arp.tha, f + 32, 6) == 0 && memcmp(&arp.tip, f + 38, 4) == 0);
}

static void check_inner(const uint8_t *p, uint32_t n)
{
	struct fg_inner_info in;
	enum fg_drop why = fg_netpkt_parse_inner(p, n, &in);
	bool ok = false;
	uint32_t tl = 0;

	if (n >= 20 && p[0] >> 4 == 4) {
		tl = g16(p + 2);
		ok = (p[0] & 15) * 4u >= 20 && tl >= (p[0] & 15) * 4u && tl <= n;
	} else if (n >= 40 && p[0] >> 4 == 6) {
		tl = 40u + g16(p + 4);
		ok = tl <= n;
	}
	CHECK((why == FG_DROP_NONE) == ok);
	CHECK(ok || why == FG_DROP_INNER_MALFORMED);
	if (!ok)
		return;
	CHECK(in.total_len == tl && in.family == (p[0] >> 4 == 4 ? AF_INET : AF_INET6));
	if (in.family == AF_INET)
		CHECK(in.proto == p[9] && in.ecn == (p[1] & 3) && memcmp(in.src.addr, p + 12, 4) == 0 &&
		      memcmp(in.dst.addr, p + 16, 4) == 0);
	else
		CHECK(in.proto == p[6] && in.ecn == ((p[1] >> 4) & 3) && memcmp(in.src.addr, p + 8, 16) == 0 &&
		      memcmp(in.dst.addr, p + 24, 16) == 0);
	/* The upper layer lies within the packet; ports only for TCP/UDP with a header. */
	if (in.l4_ok) {
		CHECK(in.l4_off <= tl);
		if (!in.frag && (in.l4_proto == 6 || in.l4_proto == 17))
			CHECK(tl - in.l4_off >= (in.l4_proto == 6 ? 20u : 8u) && in.sport == g16(p + in.l4_off) &&
			      in.dport == g16(p + in.l4_off + 2));
		else
			CHECK(in.sport == 0 && in.dport == 0);
	}
}

/* An echo reply built in place: same length, addresses swapped, checksums that verify. */
static void check_echo(const uint8_t *f, uint32_t len, const struct fg_outer_info *info)
{
	uint8_t *r = malloc(len);
	const uint8_t *l4;

	CHECK(r != NULL);
	memcpy(r, f, len);
	fg_netpkt_echo_reply(r, info);
	l4 = r + info->l4_off;
	CHECK(memcmp(r, f + 6, 6) == 0 && memcmp(r + 6, f, 6) == 0);
	if (info->family == AF_INET) {
		uint32_t hl = info->l4_off - 14u;

		CHECK(memcmp(r + 26, f + 30, 4) == 0 && memcmp(r + 30, f + 26, 4) == 0);
		CHECK(nsum(r + 14, hl, 0) == 0xffff && l4[0] == 0 && nsum(l4, info->payload_len, 0) == 0xffff);
	} else {
		CHECK(memcmp(r + 22, f + 38, 16) == 0 && memcmp(r + 38, f + 22, 16) == 0);
		CHECK(l4[0] == 129 && nsum(l4, info->payload_len, pseudo(r + 14, true, 58, info->payload_len)) == 0xffff);
	}
	CHECK(memcmp(l4 + 4, f + info->l4_off + 4, info->payload_len - 4u) == 0);
	free(r);
}

static void check_outer(const uint8_t *f, uint32_t len, uint8_t flags)
{
	struct fg_netpkt_local local;
	struct fg_outer_info info;
	struct ref ref;
	enum fg_drop why = FG_DROP_MAX;
	enum fg_outer_kind kind;

	memset(&local, 0, sizeof(local));
	memcpy(&local.mac, us_mac, 6);
	if (!(flags & F_NO_IP4))
		memcpy(&local.ip4, us_ip4, 4);
	memcpy(local.ip6, us_ip6, 16);
	local.has_ip6 = !(flags & F_NO_IP6);
	local.listen_port = LISTEN;
	local.aead_covers_udp4 = flags & F_AEAD;

	kind = fg_netpkt_parse_outer(f, len, &local, &info, &why);
	CHECK(kind == ref_outer(f, len, flags, &ref));
	CHECK(why == ref.why);
	/* Trusting the NIC's checksum verdicts skips checks and nothing else: what software
	 * accepts is accepted alike, and a drop for any other reason stays that drop. */
	for (unsigned hw = 1; hw <= 3; hw++) {
		struct fg_outer_info hi;
		enum fg_drop hwhy;
		enum fg_outer_kind hk = fg_netpkt_parse_outer_hw(f, len, &local, hw, &hi, &hwhy);

		if (kind != FG_OUTER_DROP)
			CHECK(hk == kind && hwhy == FG_DROP_NONE && hi.payload_off == info.payload_off &&
			      hi.payload_len == info.payload_len);
		else if (why != FG_DROP_IP_CHECKSUM && why != FG_DROP_UDP_CHECKSUM)
			CHECK(hk == FG_OUTER_DROP && hwhy == why);
	}
	if (kind == FG_OUTER_DROP)
		return;
	CHECK(info.family == ref.family && info.ecn == ref.ecn && info.channel == 0);
	CHECK(info.l3_off == ref.l3 && info.l4_off == ref.l4 && info.payload_off == ref.poff &&
	      info.payload_len == ref.plen && info.src.port == ref.sport);
	CHECK(info.l3_off <= info.l4_off && info.l4_off <= info.payload_off &&
	      (uint32_t)info.payload_off + info.payload_len <= len);
	CHECK(info.src.ip.family == info.family && info.dst.family == info.family);
	if (kind == FG_OUTER_ECHO)
		check_echo(f, len, &info);
	if (kind != FG_OUTER_UDP)
		return;
	const uint8_t *p = f + info.payload_off;
	enum fg_drop dwhy;
	enum fg_demux d = fg_netpkt_demux(p, info.payload_len, info.src.port, &dwhy);

	check_demux(p, info.payload_len, info.src.port);
	if (d != FG_DEMUX_CHANNEL_DATA)
		return;
	fg_netpkt_enter_channel(f, &info);
	CHECK(info.channel >= 0x4000 && info.channel <= 0x4fff);
	CHECK(info.payload_off == ref.poff + 4 && (uint32_t)info.payload_off + info.payload_len <= len);
	CHECK(ref.plen - 4 - info.payload_len < 4);
	check_demux(f + info.payload_off, info.payload_len, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *f;
	uint32_t len;
	uint8_t flags;

	if (size == 0 || size > 9000)
		return 0;
	flags = data[0];
	len = (uint32_t)size - 1;
	f = malloc(len ? len : 1);
	CHECK(f != NULL);
	memcpy(f, data + 1, len);
	if (flags & F_FIX)
		fix(f, len);
	check_outer(f, len, flags);
	check_arp(f, len);
	check_nd(f, len);
	check_inner(f, len);
	check_demux(f, len, flags & F_PORT_STUN ? STUN_PORT : (uint16_t)(LISTEN + 1));
	free(f);
	return 0;
}
