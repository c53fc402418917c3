/* SPDX-License-Identifier: MIT */
/*
 * fg_netpkt_parse_outer() against frames built by the naive reference in frames.c: the valid
 * frame of each kind with its fields checked, a hostile table (one mutation per row with the
 * expected kind and drop reason), every truncation of every valid frame, and seeded random
 * corruption. Each frame is parsed from an exactly-sized heap copy, and the suite is built
 * with ASan/UBSan, so an over-read fails the run. Also holds main(). Test thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

#include "frames.h"

enum local_variant { LOCAL_FULL, LOCAL_NO_IP4, LOCAL_NO_IP6 };

static enum fg_outer_kind parse(const struct tf *f, enum local_variant v,
				struct fg_outer_info *info, enum fg_drop *why)
{
	struct fg_netpkt_local local;
	uint8_t *buf = tf_tail(f->b, f->len);
	enum fg_outer_kind kind;

	tf_local(&local);
	if (v == LOCAL_NO_IP4)
		local.ip4 = 0;
	if (v == LOCAL_NO_IP6)
		local.has_ip6 = false;
	*why = FG_DROP_MAX;
	kind = fg_netpkt_parse_outer(buf, f->len, &local, info, why);
	if (kind != FG_OUTER_DROP) {
		/* Whatever was accepted must lie inside the frame. */
		CU_ASSERT(info->payload_off + (uint32_t)info->payload_len <= f->len);
		CU_ASSERT(info->l3_off <= info->l4_off && info->l4_off <= info->payload_off);
	}
	free(buf);
	return kind;
}

/* Valid base frames. */
static uint8_t wg_init[148] = { 1, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd };

static void b_udp4(struct tf *f) { tf_udp4(f, wg_init, sizeof(wg_init)); }
static void b_udp4_small(struct tf *f) { tf_udp4(f, wg_init, 4); }
static void b_udp4_empty(struct tf *f) { tf_udp4(f, NULL, 0); }
static void b_udp6(struct tf *f) { tf_udp6(f, wg_init, sizeof(wg_init)); }
static void b_udp6_odd(struct tf *f) { tf_udp6(f, wg_init, 33); }
static void b_echo4(struct tf *f) { tf_echo4(f, 56); }
static void b_echo6(struct tf *f) { tf_echo6(f, 57); }
static void b_ns(struct tf *f) { tf_ns(f, tf_us_ip6, true); }
static void b_ns_bare(struct tf *f) { tf_ns(f, tf_us_ip6, false); }

static void b_arp_req(struct tf *f)
{
	uint32_t tip;

	memcpy(&tip, tf_us_ip4, 4);
	tf_arp(f, tf_bcast_mac, 1, tip);
}

static void b_arp_rep(struct tf *f)
{
	uint32_t tip;

	memcpy(&tip, tf_us_ip4, 4);
	tf_arp(f, tf_us_mac, 2, tip);
}

static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0, 0, 1 };
static const uint8_t all_nodes_ip[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t all_routers_ip[16] = { 0xff, 0x02, [15] = 2 };

/* NA body: flags, reserved, target, target link-layer option. */
static void na_body(uint8_t body[28], uint8_t flags)
{
	memset(body, 0, 28);
	body[0] = flags;
	memcpy(body + 4, tf_peer_ip6, 16);
	body[20] = 2;
	body[21] = 1;
	memcpy(body + 22, tf_peer_mac, 6);
}

static void b_na(struct tf *f)
{
	uint8_t body[28];

	na_body(body, 0x60);
	tf_icmp6(f, tf_us_mac, tf_us_ip6, 255, 136, 0, body, sizeof(body));
}

static void b_na_unsol(struct tf *f)
{
	uint8_t body[28];

	na_body(body, 0x20);
	tf_icmp6(f, all_nodes_mac, all_nodes_ip, 255, 136, 0, body, sizeof(body));
}

static void b_ra(struct tf *f)
{
	uint8_t body[12] = { 64, 0, 0x07, 0x08 };

	tf_icmp6(f, all_nodes_mac, all_nodes_ip, 255, 134, 0, body, sizeof(body));
}

static void b_rs(struct tf *f)
{
	uint8_t body[4] = { 0 };
	uint8_t mac[6] = { 0x33, 0x33, 0, 0, 0, 2 };

	tf_icmp6(f, mac, all_routers_ip, 255, 133, 0, body, sizeof(body));
}

static void b_mld(struct tf *f)
{
	uint8_t body[20] = { 0 };

	tf_icmp6(f, all_nodes_mac, all_nodes_ip, 1, 130, 0, body, sizeof(body));
}

static void b_redirect(struct tf *f)
{
	uint8_t body[36] = { 0 };

	tf_icmp6(f, tf_us_mac, tf_us_ip6, 255, 137, 0, body, sizeof(body));
}

/* Mutations. IPv4 at 14 (UDP/ICMP at 34), IPv6 at 14 (UDP/ICMPv6 at 54). */
static void insert(struct tf *f, uint32_t at, const uint8_t *p, uint32_t n)
{
	memmove(f->b + at + n, f->b + at, f->len - at);
	memcpy(f->b + at, p, n);
	f->len += n;
}

static void m_ip4_csum(struct tf *f) { f->b[24] ^= 1; }
static void m_udp4_csum(struct tf *f) { f->b[45] ^= 0x40; }
static void m_udp4_csum0(struct tf *f) { tf_put16(f->b + 40, 0); }
static void m_mf(struct tf *f) { f->b[20] |= 0x20; }
static void m_offset(struct tf *f) { tf_put16(f->b + 20, 0x0001); }
static void m_df(struct tf *f) { f->b[20] = 0x40; }
static void m_dst_ip4(struct tf *f) { f->b[33] ^= 1; }
static void m_dst_mac(struct tf *f) { f->b[5] ^= 0x10; }
static void m_bcast_mac(struct tf *f) { memset(f->b, 0xff, 6); }
static void m_mcast_mac(struct tf *f) { f->b[0] = 0x01; f->b[1] = 0x00; f->b[2] = 0x5e; }
static void m_v6_mcast_mac(struct tf *f) { memcpy(f->b, all_nodes_mac, 6); }
static void m_port4(struct tf *f) { tf_put16(f->b + 36, TF_US_PORT + 1); }
static void m_qinq(struct tf *f) { tf_put16(f->b + 12, 0x88a8); }
static void m_lldp(struct tf *f) { tf_put16(f->b + 12, 0x88cc); }
static void m_as_v6(struct tf *f) { tf_put16(f->b + 12, 0x86dd); }
static void m_tlen_big(struct tf *f) { tf_put16(f->b + 16, (uint16_t)(f->len - 14 + 1)); }
static void m_tlen_small(struct tf *f) { tf_put16(f->b + 16, 19); }
static void m_version5(struct tf *f) { f->b[14] = 0x55; }
static void m_ihl4(struct tf *f) { f->b[14] = 0x44; }
static void m_ihl15(struct tf *f) { f->b[14] = 0x4f; tf_put16(f->b + 16, 40); }
static void m_udplen_big(struct tf *f) { tf_put16(f->b + 38, (uint16_t)(tf_get16(f->b + 38) + 1)); }
static void m_udplen_small(struct tf *f) { tf_put16(f->b + 38, (uint16_t)(tf_get16(f->b + 38) - 1)); }
static void m_udplen7(struct tf *f) { tf_put16(f->b + 38, 7); }
static void m_udp_cut(struct tf *f) { tf_put16(f->b + 16, 24); f->len = 38; }
static void m_sport0(struct tf *f) { tf_put16(f->b + 34, 0); }
static void m_tcp(struct tf *f) { f->b[23] = 6; }
static void m_igmp(struct tf *f) { f->b[23] = 2; }
static void m_src_mcast(struct tf *f) { f->b[26] = 224; }
static void m_src_bcast(struct tf *f) { memset(f->b + 26, 0xff, 4); }
static void m_ecn4(struct tf *f) { f->b[15] = 0x03; }
static void m_pad60(struct tf *f) { f->len = 60; }
static void m_pad_junk(struct tf *f) { memset(f->b + f->len, 0xaa, 10); f->len += 10; }
static void m_icmp_data(struct tf *f) { f->b[45] ^= 1; }
static void m_icmp4_reply(struct tf *f) { f->b[34] = 0; }
static void m_icmp4_code(struct tf *f) { f->b[35] = 1; }
static void m_icmp4_cut(struct tf *f) { tf_put16(f->b + 16, 24); f->len = 38; }

static void m_vlan(struct tf *f)
{
	static const uint8_t tag[4] = { 0x81, 0x00, 0x00, 0x05 };

	insert(f, 12, tag, sizeof(tag));
}

static void m_ip_options(struct tf *f)
{
	static const uint8_t opts[4] = { 1, 1, 1, 0 };

	insert(f, 34, opts, sizeof(opts));
	f->b[14] = 0x46;
	tf_put16(f->b + 16, (uint16_t)(tf_get16(f->b + 16) + 4));
}

static void m6_csum0(struct tf *f) { tf_put16(f->b + 60, 0); }
static void m6_csum(struct tf *f) { f->b[65] ^= 0x40; }
static void m6_dst(struct tf *f) { f->b[53] ^= 1; }
static void m6_port(struct tf *f) { tf_put16(f->b + 56, TF_US_PORT + 1); }
static void m6_plen_big(struct tf *f) { tf_put16(f->b + 18, (uint16_t)(tf_get16(f->b + 18) + 1)); }
static void m6_version4(struct tf *f) { f->b[14] = 0x40; }
static void m6_udplen(struct tf *f) { tf_put16(f->b + 58, (uint16_t)(tf_get16(f->b + 58) + 1)); }
static void m6_sport0(struct tf *f) { tf_put16(f->b + 54, 0); }
static void m6_src_mcast(struct tf *f) { f->b[22] = 0xff; }
static void m6_ecn(struct tf *f) { f->b[15] |= 0x20; }
static void m6_icmp_data(struct tf *f) { f->b[60] ^= 1; }
static void m6_hop64(struct tf *f) { f->b[21] = 64; }
static void m6_icmp_type1(struct tf *f) { f->b[54] = 1; }
static void m6_code1(struct tf *f) { f->b[55] = 1; }
static void m6_target(struct tf *f) { f->b[62] ^= 1; }
static void m6_echo_cut(struct tf *f) { tf_put16(f->b + 18, 4); f->len = 58; }
static void m6_ns_cut(struct tf *f) { tf_put16(f->b + 18, 16); f->len = 70; }
static void m6_pad(struct tf *f) { memset(f->b + f->len, 0x55, 6); f->len += 6; }

static void m6_to_group(struct tf *f)
{
	static const uint8_t group[13] = { 0xff, 0x02, [11] = 1, [12] = 0xff };

	memcpy(f->b + 38, group, 13);
	memcpy(f->b + 51, tf_us_ip6 + 13, 3);
}

static void m6_to_all_nodes(struct tf *f)
{
	memcpy(f->b, all_nodes_mac, 6);
	memcpy(f->b + 38, all_nodes_ip, 16);
}

/* An extension header of type nh (8 bytes, PadN) between IPv6 and what was there. */
static void ext_header(struct tf *f, uint8_t nh)
{
	uint8_t ext[8] = { f->b[20], 0, 1, 4, 0, 0, 0, 0 };

	insert(f, 54, ext, sizeof(ext));
	f->b[20] = nh;
	tf_put16(f->b + 18, (uint16_t)(tf_get16(f->b + 18) + 8));
}

static void m6_hbh(struct tf *f) { ext_header(f, 0); }
static void m6_frag(struct tf *f) { ext_header(f, 44); }
static void m6_dstopt(struct tf *f) { ext_header(f, 60); }

static void m_arp_htype(struct tf *f) { tf_put16(f->b + 14, 6); }
static void m_arp_ptype(struct tf *f) { tf_put16(f->b + 16, 0x86dd); }
static void m_arp_hlen(struct tf *f) { f->b[18] = 8; }
static void m_arp_plen(struct tf *f) { f->b[19] = 16; }
static void m_arp_op3(struct tf *f) { tf_put16(f->b + 20, 3); }
static void m_arp_sha0(struct tf *f) { memset(f->b + 22, 0, 6); }
static void m_arp_sha_mcast(struct tf *f) { f->b[22] = 0x01; }
static void m_arp_tip(struct tf *f) { f->b[41] ^= 1; }

struct outer_case {
	const char *name;
	void (*build)(struct tf *f);
	void (*mutate)(struct tf *f);
	bool refix;                 /* recompute checksums after the mutation */
	enum local_variant local;
	enum fg_outer_kind kind;
	enum fg_drop reason;
};

#define OK(k) FG_OUTER_##k, FG_DROP_NONE
#define NO(r) FG_OUTER_DROP, FG_DROP_##r

static const struct outer_case outer_cases[] = {
	{ "udp4", b_udp4, NULL, false, LOCAL_FULL, OK(UDP) },
	{ "udp4 empty payload", b_udp4_empty, NULL, false, LOCAL_FULL, OK(UDP) },
	{ "udp4 checksum 0", b_udp4, m_udp4_csum0, false, LOCAL_FULL, OK(UDP) },
	{ "udp4 DF", b_udp4, m_df, true, LOCAL_FULL, OK(UDP) },
	{ "udp4 ECN CE", b_udp4, m_ecn4, true, LOCAL_FULL, OK(UDP) },
	{ "udp4 IP options", b_udp4, m_ip_options, true, LOCAL_FULL, OK(UDP) },
	{ "udp4 padded to 60", b_udp4_small, m_pad60, false, LOCAL_FULL, OK(UDP) },
	{ "udp4 junk trailer", b_udp4, m_pad_junk, false, LOCAL_FULL, OK(UDP) },
	{ "bad IPv4 checksum", b_udp4, m_ip4_csum, false, LOCAL_FULL, NO(IP_CHECKSUM) },
	{ "bad UDP checksum", b_udp4, m_udp4_csum, false, LOCAL_FULL, NO(UDP_CHECKSUM) },
	{ "more fragments", b_udp4, m_mf, true, LOCAL_FULL, NO(IP_FRAGMENT) },
	{ "fragment offset", b_udp4, m_offset, true, LOCAL_FULL, NO(IP_FRAGMENT) },
	{ "wrong dst IPv4", b_udp4, m_dst_ip4, true, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "no IPv4 here", b_udp4, NULL, false, LOCAL_NO_IP4, NO(NOT_FOR_US) },
	{ "wrong dst MAC", b_udp4, m_dst_mac, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "udp4 to broadcast MAC", b_udp4, m_bcast_mac, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "udp4 to multicast MAC", b_udp4, m_mcast_mac, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "wrong port", b_udp4, m_port4, true, LOCAL_FULL, NO(UDP_PORT) },
	{ "VLAN tag", b_udp4, m_vlan, false, LOCAL_FULL, NO(ETHERTYPE) },
	{ "QinQ", b_udp4, m_qinq, false, LOCAL_FULL, NO(ETHERTYPE) },
	{ "LLDP", b_udp4, m_lldp, false, LOCAL_FULL, NO(ETHERTYPE) },
	{ "IPv4 in IPv6 ethertype", b_udp4, m_as_v6, false, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "total length > frame", b_udp4, m_tlen_big, true, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "total length < 20", b_udp4, m_tlen_small, true, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "version 5", b_udp4, m_version5, true, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "IHL 4", b_udp4, m_ihl4, true, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "IHL 15 > total length", b_udp4, m_ihl15, true, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "UDP length > IP", b_udp4, m_udplen_big, true, LOCAL_FULL, NO(UDP_MALFORMED) },
	{ "UDP length < IP", b_udp4, m_udplen_small, true, LOCAL_FULL, NO(UDP_MALFORMED) },
	{ "UDP length 7", b_udp4, m_udplen7, true, LOCAL_FULL, NO(UDP_MALFORMED) },
	{ "IP payload < UDP header", b_udp4, m_udp_cut, true, LOCAL_FULL, NO(UDP_MALFORMED) },
	{ "source port 0", b_udp4, m_sport0, true, LOCAL_FULL, NO(UDP_MALFORMED) },
	{ "TCP", b_udp4, m_tcp, true, LOCAL_FULL, NO(IP_PROTO) },
	{ "IGMP", b_echo4, m_igmp, true, LOCAL_FULL, NO(IP_PROTO) },
	{ "source multicast", b_udp4, m_src_mcast, true, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "source broadcast", b_udp4, m_src_bcast, true, LOCAL_FULL, NO(IP_MALFORMED) },

	{ "udp6", b_udp6, NULL, false, LOCAL_FULL, OK(UDP) },
	{ "udp6 odd payload", b_udp6_odd, NULL, false, LOCAL_FULL, OK(UDP) },
	{ "udp6 ECN", b_udp6, m6_ecn, true, LOCAL_FULL, OK(UDP) },
	{ "udp6 trailer", b_udp6, m6_pad, false, LOCAL_FULL, OK(UDP) },
	{ "udp6 checksum 0", b_udp6, m6_csum0, false, LOCAL_FULL, NO(UDP_CHECKSUM) },
	{ "udp6 bad checksum", b_udp6, m6_csum, false, LOCAL_FULL, NO(UDP_CHECKSUM) },
	{ "udp6 wrong dst", b_udp6, m6_dst, true, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "udp6 to our ND group", b_udp6, m6_to_group, true, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "udp6 to multicast MAC", b_udp6, m_v6_mcast_mac, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "no IPv6 here", b_udp6, NULL, false, LOCAL_NO_IP6, NO(NOT_FOR_US) },
	{ "udp6 wrong port", b_udp6, m6_port, true, LOCAL_FULL, NO(UDP_PORT) },
	{ "udp6 source port 0", b_udp6, m6_sport0, true, LOCAL_FULL, NO(UDP_MALFORMED) },
	{ "udp6 length mismatch", b_udp6, m6_udplen, true, LOCAL_FULL, NO(UDP_MALFORMED) },
	{ "payload length > frame", b_udp6, m6_plen_big, true, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "IPv6 version 4", b_udp6, m6_version4, true, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "IPv6 source multicast", b_udp6, m6_src_mcast, true, LOCAL_FULL, NO(IP_MALFORMED) },
	{ "hop-by-hop header", b_udp6, m6_hbh, true, LOCAL_FULL, NO(IP_PROTO) },
	{ "fragment header", b_udp6, m6_frag, true, LOCAL_FULL, NO(IP_PROTO) },
	{ "destination options", b_udp6, m6_dstopt, true, LOCAL_FULL, NO(IP_PROTO) },

	{ "echo4", b_echo4, NULL, false, LOCAL_FULL, OK(ECHO) },
	{ "echo4 bad checksum", b_echo4, m_icmp_data, false, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "echo4 reply", b_echo4, m_icmp4_reply, true, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "echo4 code 1", b_echo4, m_icmp4_code, true, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "echo4 4 bytes", b_echo4, m_icmp4_cut, true, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "echo4 to broadcast", b_echo4, m_bcast_mac, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "echo4 wrong dst", b_echo4, m_dst_ip4, true, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "echo6", b_echo6, NULL, false, LOCAL_FULL, OK(ECHO) },
	{ "echo6 bad checksum", b_echo6, m6_icmp_data, false, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "echo6 to all-nodes", b_echo6, m6_to_all_nodes, true, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "echo6 code 1", b_echo6, m6_code1, true, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "ICMPv6 unreachable", b_echo6, m6_icmp_type1, true, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "echo6 4 bytes", b_echo6, m6_echo_cut, true, LOCAL_FULL, NO(ICMP_UNHANDLED) },

	{ "ARP request", b_arp_req, NULL, false, LOCAL_FULL, OK(ARP) },
	{ "ARP reply", b_arp_rep, NULL, false, LOCAL_FULL, OK(ARP) },
	{ "ARP padded", b_arp_req, m_pad60, false, LOCAL_FULL, OK(ARP) },
	{ "ARP for another", b_arp_req, m_arp_tip, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "ARP, no IPv4 here", b_arp_req, NULL, false, LOCAL_NO_IP4, NO(NOT_FOR_US) },
	{ "ARP to multicast MAC", b_arp_req, m_mcast_mac, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "ARP to another MAC", b_arp_rep, m_dst_mac, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "ARP htype", b_arp_req, m_arp_htype, false, LOCAL_FULL, NO(ETHERTYPE) },
	{ "ARP ptype", b_arp_req, m_arp_ptype, false, LOCAL_FULL, NO(ETHERTYPE) },
	{ "ARP hlen", b_arp_req, m_arp_hlen, false, LOCAL_FULL, NO(ETHERTYPE) },
	{ "ARP plen", b_arp_req, m_arp_plen, false, LOCAL_FULL, NO(ETHERTYPE) },
	{ "RARP op", b_arp_req, m_arp_op3, false, LOCAL_FULL, NO(ETHERTYPE) },
	{ "ARP zero sender", b_arp_req, m_arp_sha0, false, LOCAL_FULL, NO(ETHERTYPE) },
	{ "ARP multicast sender", b_arp_req, m_arp_sha_mcast, false, LOCAL_FULL, NO(ETHERTYPE) },

	{ "NS", b_ns, NULL, false, LOCAL_FULL, OK(ND) },
	{ "NS without option", b_ns_bare, NULL, false, LOCAL_FULL, OK(ND) },
	{ "NA", b_na, NULL, false, LOCAL_FULL, OK(ND) },
	{ "unsolicited NA", b_na_unsol, NULL, false, LOCAL_FULL, OK(ND) },
	{ "RA", b_ra, NULL, false, LOCAL_FULL, OK(ND) },
	{ "NS hop limit 64", b_ns, m6_hop64, true, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "NS code 1", b_ns, m6_code1, true, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "NS bad checksum", b_ns, m6_target, false, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "NS for a group sibling", b_ns, m6_target, true, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "NS 16 bytes", b_ns, m6_ns_cut, true, LOCAL_FULL, NO(ICMP_UNHANDLED) },
	{ "NS to another group", b_ns, m6_dst, true, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "NS, no IPv6 here", b_ns, NULL, false, LOCAL_NO_IP6, NO(NOT_FOR_US) },
	{ "NS behind hop-by-hop", b_ns, m6_hbh, true, LOCAL_FULL, NO(IP_PROTO) },
	{ "RS to all-routers", b_rs, NULL, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "MLD query", b_mld, NULL, false, LOCAL_FULL, NO(NOT_FOR_US) },
	{ "redirect", b_redirect, NULL, false, LOCAL_FULL, NO(ICMP_UNHANDLED) },
};

static void test_outer_table(void)
{
	for (size_t i = 0; i < sizeof(outer_cases) / sizeof(outer_cases[0]); i++) {
		const struct outer_case *c = &outer_cases[i];
		struct fg_outer_info info;
		enum fg_outer_kind kind;
		enum fg_drop why;
		struct tf f;

		c->build(&f);
		if (c->mutate)
			c->mutate(&f);
		if (c->refix)
			tf_fix(&f);
		kind = parse(&f, c->local, &info, &why);
		if (kind != c->kind || why != c->reason)
			fprintf(stderr, "\n  case '%s': kind %d reason %s, want %d %s\n", c->name,
				kind, fg_drop_names[why], c->kind, fg_drop_names[c->reason]);
		CU_ASSERT_EQUAL(kind, c->kind);
		CU_ASSERT_EQUAL(why, c->reason);
	}
}

static void test_outer_fields(void)
{
	struct fg_outer_info info;
	enum fg_drop why;
	struct tf f;

	b_udp4(&f);
	m_ecn4(&f);
	tf_fix(&f);
	CU_ASSERT_EQUAL_FATAL(parse(&f, LOCAL_FULL, &info, &why), FG_OUTER_UDP);
	CU_ASSERT_EQUAL(info.family, AF_INET);
	CU_ASSERT_EQUAL(info.l3_off, 14);
	CU_ASSERT_EQUAL(info.l4_off, 34);
	CU_ASSERT_EQUAL(info.payload_off, 42);
	CU_ASSERT_EQUAL(info.payload_len, sizeof(wg_init));
	CU_ASSERT_EQUAL(info.ecn, 3);
	CU_ASSERT_EQUAL(info.src.ip.family, AF_INET);
	CU_ASSERT_EQUAL(memcmp(info.src.ip.addr, tf_peer_ip4, 4), 0);
	CU_ASSERT_EQUAL(info.src.port, TF_PEER_PORT);
	CU_ASSERT_EQUAL(memcmp(info.dst.addr, tf_us_ip4, 4), 0);
	CU_ASSERT_EQUAL(memcmp(f.b + info.payload_off, wg_init, sizeof(wg_init)), 0);

	b_udp4(&f);
	m_ip_options(&f);
	tf_fix(&f);
	CU_ASSERT_EQUAL_FATAL(parse(&f, LOCAL_FULL, &info, &why), FG_OUTER_UDP);
	CU_ASSERT_EQUAL(info.l4_off, 38);
	CU_ASSERT_EQUAL(info.payload_off, 46);

	b_udp4_small(&f);
	m_pad60(&f);
	CU_ASSERT_EQUAL_FATAL(parse(&f, LOCAL_FULL, &info, &why), FG_OUTER_UDP);
	CU_ASSERT_EQUAL(info.payload_len, 4);

	b_udp6(&f);
	m6_ecn(&f);
	tf_fix(&f);
	m6_pad(&f);
	CU_ASSERT_EQUAL_FATAL(parse(&f, LOCAL_FULL, &info, &why), FG_OUTER_UDP);
	CU_ASSERT_EQUAL(info.family, AF_INET6);
	CU_ASSERT_EQUAL(info.l4_off, 54);
	CU_ASSERT_EQUAL(info.payload_off, 62);
	CU_ASSERT_EQUAL(info.payload_len, sizeof(wg_init));
	CU_ASSERT_EQUAL(info.ecn, 2);
	CU_ASSERT_EQUAL(memcmp(info.src.ip.addr, tf_peer_ip6, 16), 0);
	CU_ASSERT_EQUAL(info.src.port, TF_PEER_PORT);
	CU_ASSERT_EQUAL(memcmp(info.dst.addr, tf_us_ip6, 16), 0);

	b_echo6(&f);
	CU_ASSERT_EQUAL_FATAL(parse(&f, LOCAL_FULL, &info, &why), FG_OUTER_ECHO);
	CU_ASSERT_EQUAL(info.payload_off, 54);
	CU_ASSERT_EQUAL(info.payload_len, 4 + 57);
	CU_ASSERT_EQUAL(info.src.port, 0);

	b_arp_req(&f);
	CU_ASSERT_EQUAL_FATAL(parse(&f, LOCAL_FULL, &info, &why), FG_OUTER_ARP);
	CU_ASSERT_EQUAL(info.payload_off, 14);
	CU_ASSERT_EQUAL(info.payload_len, 28);
	CU_ASSERT_EQUAL(memcmp(info.src.ip.addr, tf_peer_ip4, 4), 0);
}

/* The reason a frame cut to n bytes must give, for the layer the frame belongs to. */
static enum fg_drop cut_reason(const struct tf *f, uint32_t n)
{
	uint16_t type = tf_get16(f->b + 12);
	uint32_t fixed = type == 0x0806 ? 42 : type == 0x0800 ? 34 : 54;

	if (n < 14 || n < fixed)
		return FG_DROP_ETH_SHORT;
	return type == 0x0806 ? FG_DROP_NONE : FG_DROP_IP_MALFORMED;
}

/* aead_covers_udp4: an IPv4 data message (type 4) with a bad UDP checksum is accepted (the
 * AEAD tag decides); a handshake message with the same damage, and IPv6, are still dropped. */
static void test_outer_aead_covers(void)
{
	static const uint8_t data_msg[48] = { 4, 0, 0, 0, 1, 2, 3, 4 };
	struct fg_netpkt_local l;
	struct fg_outer_info info;
	enum fg_drop why;
	struct tf f;

	tf_local(&l);
	l.aead_covers_udp4 = true;
	tf_udp4(&f, data_msg, sizeof(data_msg));
	f.b[41] ^= 0x40; /* the UDP checksum field itself */
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &l, &info, &why), FG_OUTER_UDP);
	l.aead_covers_udp4 = false;
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &l, &info, &why), FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_UDP_CHECKSUM);
	l.aead_covers_udp4 = true;
	tf_udp4(&f, wg_init, sizeof(wg_init));
	f.b[41] ^= 0x40;
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &l, &info, &why), FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_UDP_CHECKSUM);
	tf_udp6(&f, data_msg, sizeof(data_msg));
	f.b[61] ^= 0x40; /* 14 + 40 + 6: the UDP checksum field */
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &l, &info, &why), FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_UDP_CHECKSUM);

	/* Inside ChannelData from a relay (port 3478) with a length that agrees: the same. */
	uint8_t chan_msg[4 + sizeof(data_msg)] = { 0x40, 0x01, 0, sizeof(data_msg) };
	memcpy(chan_msg + 4, data_msg, sizeof(data_msg));
	tf_udp4(&f, chan_msg, sizeof(chan_msg));
	tf_put16(f.b + 34, 3478);   /* the UDP source port: the checksum is now wrong too */
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &l, &info, &why), FG_OUTER_UDP);
	CU_ASSERT_EQUAL(info.channel, 0);
	fg_netpkt_enter_channel(f.b, &info);
	CU_ASSERT_EQUAL(info.channel, 0x4001);
	CU_ASSERT_EQUAL(info.payload_off, 42 + 4);
	CU_ASSERT_EQUAL(info.payload_len, sizeof(data_msg));
	/* ...but not from another port, with a length that disagrees, or around a handshake. */
	tf_udp4(&f, chan_msg, sizeof(chan_msg));
	f.b[41] ^= 0x40;
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &l, &info, &why), FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_UDP_CHECKSUM);
	chan_msg[3]++;
	tf_udp4(&f, chan_msg, sizeof(chan_msg));
	tf_put16(f.b + 34, 3478);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &l, &info, &why), FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_UDP_CHECKSUM);
	chan_msg[3]--;
	chan_msg[4] = 1;
	tf_udp4(&f, chan_msg, sizeof(chan_msg));
	tf_put16(f.b + 34, 3478);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer(f.b, f.len, &l, &info, &why), FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_UDP_CHECKSUM);
}

/* The NIC's RX checksum verdicts (fg_netpkt_parse_outer_hw): a checksum it vouched for is
 * not computed again, one it did not is; a zero UDP checksum over IPv6 is refused even so. */
static void test_outer_hw_csum(void)
{
	static const uint8_t payload[48] = { 1, 0, 0, 0, 9, 9, 9, 9 };
	struct fg_netpkt_local l;
	struct fg_outer_info info;
	enum fg_drop why;
	struct tf f;

	tf_local(&l);
	l.aead_covers_udp4 = false;
	tf_udp4(&f, payload, sizeof(payload));
	f.b[24] ^= 0x10;  /* 14 + 10: the IPv4 header checksum */
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer_hw(f.b, f.len, &l, 0, &info, &why), FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_IP_CHECKSUM);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer_hw(f.b, f.len, &l, FG_NETPKT_HW_L4_CSUM_GOOD, &info, &why),
			FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_IP_CHECKSUM);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer_hw(f.b, f.len, &l, FG_NETPKT_HW_IP_CSUM_GOOD, &info, &why),
			FG_OUTER_UDP);

	tf_udp4(&f, payload, sizeof(payload));
	f.b[41] ^= 0x40;  /* the UDP checksum */
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer_hw(f.b, f.len, &l, FG_NETPKT_HW_IP_CSUM_GOOD, &info, &why),
			FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_UDP_CHECKSUM);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer_hw(f.b, f.len, &l, FG_NETPKT_HW_L4_CSUM_GOOD, &info, &why),
			FG_OUTER_UDP);
	CU_ASSERT_EQUAL(info.payload_len, sizeof(payload));

	tf_udp6(&f, payload, sizeof(payload));
	f.b[61] ^= 0x40;
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer_hw(f.b, f.len, &l, 0, &info, &why), FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_UDP_CHECKSUM);
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer_hw(f.b, f.len, &l, FG_NETPKT_HW_L4_CSUM_GOOD, &info, &why),
			FG_OUTER_UDP);
	f.b[60] = f.b[61] = 0;
	CU_ASSERT_EQUAL(fg_netpkt_parse_outer_hw(f.b, f.len, &l, FG_NETPKT_HW_L4_CSUM_GOOD, &info, &why),
			FG_OUTER_DROP);
	CU_ASSERT_EQUAL(why, FG_DROP_UDP_CHECKSUM);
}

static void test_outer_truncated(void)
{
	void (*bases[])(struct tf *) = { b_udp4, b_udp4_empty, b_udp6, b_echo4, b_echo6,
					 b_arp_req, b_ns, b_na, b_ra };

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		struct tf f;
		uint32_t full;

		bases[i](&f);
		full = f.len;
		for (uint32_t n = 0; n < full; n++) {
			struct fg_outer_info info;
			enum fg_drop why;

			f.len = n;
			CU_ASSERT_EQUAL(parse(&f, LOCAL_FULL, &info, &why), FG_OUTER_DROP);
			CU_ASSERT_EQUAL(why, cut_reason(&f, n));
		}
	}
}

/* Seeded corruption: flips, random lengths, random bytes. Only "no over-read, sane output". */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void test_outer_random(void)
{
	void (*bases[])(struct tf *) = { b_udp4, b_udp6, b_echo4, b_echo6, b_arp_req, b_ns,
					 b_na, b_ra, b_udp4_empty };
	unsigned int accepted = 0;

	for (int iter = 0; iter < 20000; iter++) {
		struct fg_outer_info info;
		enum fg_outer_kind kind;
		enum fg_drop why;
		struct tf f;
		uint32_t flips = next_rand() % 4;

		bases[next_rand() % (sizeof(bases) / sizeof(bases[0]))](&f);
		for (uint32_t k = 0; k < flips; k++)
			f.b[next_rand() % f.len] ^= (uint8_t)(1u << (next_rand() % 8));
		if (next_rand() % 2)
			tf_fix(&f);
		if (next_rand() % 3 == 0)
			f.len = next_rand() % (f.len + 16);
		kind = parse(&f, LOCAL_FULL, &info, &why);
		CU_ASSERT((kind == FG_OUTER_DROP) == (why != FG_DROP_NONE));
		CU_ASSERT(why < FG_DROP_MAX);
		accepted += kind != FG_OUTER_DROP;
	}
	CU_ASSERT(accepted > 0);
}

static const struct fg_cunit_test outer_tests[] = {
	{ "hostile table", test_outer_table },
	{ "fields", test_outer_fields },
	{ "every truncation", test_outer_truncated },
	{ "AEAD covers IPv4 data messages, bare or in ChannelData", test_outer_aead_covers },
	{ "random corruption", test_outer_random },
	{ "NIC checksum verdicts", test_outer_hw_csum },
};

const struct fg_cunit_suite netpkt_outer_suite = {
	"netpkt_outer", NULL, NULL,
	outer_tests, sizeof(outer_tests) / sizeof(outer_tests[0]),
};

int main(void)
{
	const struct fg_cunit_suite suites[] = {
		netpkt_outer_suite,
		netpkt_demux_suite,
		netpkt_build_suite,
	};

	return fg_cunit_run_suites(suites, sizeof(suites) / sizeof(suites[0]));
}
