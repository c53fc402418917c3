// SPDX-License-Identifier: MIT
/*
 * The inner packet of a data message (or a packet read from the TUN), parsed once per
 * packet: the IP header that cryptokey routing, ECN and the TUN write need, and the upper
 * layer (IPv6 extension headers walked, fragments, TCP/UDP ports, ICMP errors) that the
 * client's policy and the connection table classify by. Pure functions over the bytes;
 * any lcore.
 */
#include <string.h>
#include <sys/socket.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

#include "netpkt.h"

enum inner_len {
	IP4_MIN = 20,
	IP6_HDR = 40,
	TCP_MIN = 20,
	UDP_HDR = 8,
	ICMP_MIN = 8,
	EXT_MIN = 8,
	EXT_MAX = 8,          /* extension headers walked before giving up */
};

enum inner_proto {
	NH_HOPOPTS = 0,
	NH_ICMP = 1,
	NH_TCP = 6,
	NH_UDP = 17,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_AH = 51,
	NH_ICMP6 = 58,
	NH_DSTOPTS = 60,
	ICMP6_INFO_MIN = 128, /* ICMPv6 types below are errors */
};

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

static inline bool icmp4_is_error(uint8_t type)
{
	/* Destination unreachable, source quench, redirect, time exceeded, parameter problem. */
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* Walks the IPv6 extension headers from *off: false if the chain is cut short or too long.
 * A fragment header with a non-zero offset ends the walk (no upper-layer header follows). */
static bool walk_ext6(const uint8_t *b, uint32_t tlen, uint32_t *off, uint8_t *nh, bool *frag)
{
	for (unsigned n = 0;; n++) {
		uint32_t hl;

		switch (*nh) {
		case NH_HOPOPTS:
		case NH_ROUTING:
		case NH_DSTOPTS:
		case NH_FRAGMENT:
		case NH_AH:
			break;
		default:
			return true;
		}
		if (n == EXT_MAX || tlen - *off < EXT_MIN)
			return false;
		if (*nh == NH_FRAGMENT)
			hl = EXT_MIN;
		else if (*nh == NH_AH)
			hl = ((uint32_t)b[*off + 1] + 2) * 4;
		else
			hl = ((uint32_t)b[*off + 1] + 1) * 8;
		if (hl > tlen - *off)
			return false;
		if (*nh == NH_FRAGMENT && (rd16(b + *off + 2) & 0xfff8) != 0)
			*frag = true;
		*nh = b[*off];
		*off += hl;
		if (*frag)
			return true;
	}
}

/* The upper layer from off (the end of the IP header) within tlen bytes. */
static void parse_l4(const uint8_t *b, uint32_t tlen, uint32_t off, struct fg_inner_info *out)
{
	uint8_t icmp = out->family == AF_INET ? NH_ICMP : NH_ICMP6;

	out->l4_proto = out->proto;
	if (out->family == AF_INET6 && !walk_ext6(b, tlen, &off, &out->l4_proto, &out->frag))
		return;
	if (out->l4_proto == NH_TCP || out->l4_proto == NH_UDP) {
		if (!out->frag) {
			if (tlen - off < (out->l4_proto == NH_TCP ? TCP_MIN : UDP_HDR))
				return;
			out->sport = rd16(b + off);
			out->dport = rd16(b + off + 2);
		}
	} else if (out->l4_proto == icmp && !out->frag) {
		if (tlen - off < ICMP_MIN)
			return;
		out->icmp_error = out->family == AF_INET ? icmp4_is_error(b[off]) : b[off] < ICMP6_INFO_MIN;
	}
	out->l4_off = (uint16_t)off;
	out->l4_ok = true;
}

enum fg_drop fg_netpkt_parse_inner(const uint8_t *pkt, uint32_t len, struct fg_inner_info *out)
{
	uint32_t tlen, hlen;

	if (unlikely(len < IP4_MIN))
		return FG_DROP_INNER_MALFORMED;
	out->frag = false;
	out->icmp_error = false;
	out->l4_ok = false;
	out->sport = out->dport = 0;
	out->l4_off = 0;
	if (pkt[0] >> 4 == 4) {
		const struct rte_ipv4_hdr *ip = (const void *)pkt;

		hlen = (ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4u;
		tlen = rte_be_to_cpu_16(ip->total_length);
		if (unlikely(hlen < IP4_MIN || tlen < hlen || tlen > len))
			return FG_DROP_INNER_MALFORMED;
		out->family = AF_INET;
		out->proto = ip->next_proto_id;
		out->ecn = ip->type_of_service & RTE_IPV4_HDR_ECN_MASK;
		out->total_len = (uint16_t)tlen;
		memset(&out->src, 0, sizeof(out->src));
		memset(&out->dst, 0, sizeof(out->dst));
		out->src.family = out->dst.family = AF_INET;
		memcpy(out->src.addr, &ip->src_addr, 4);
		memcpy(out->dst.addr, &ip->dst_addr, 4);
		out->frag = (rte_be_to_cpu_16(ip->fragment_offset) & RTE_IPV4_HDR_OFFSET_MASK) != 0;
	} else if (pkt[0] >> 4 == 6) {
		const struct rte_ipv6_hdr *ip = (const void *)pkt;

		if (unlikely(len < IP6_HDR))
			return FG_DROP_INNER_MALFORMED;
		hlen = IP6_HDR;
		tlen = IP6_HDR + (uint32_t)rte_be_to_cpu_16(ip->payload_len);
		if (unlikely(tlen > len))
			return FG_DROP_INNER_MALFORMED;
		out->family = AF_INET6;
		out->proto = ip->proto;
		out->ecn = (uint8_t)((rte_be_to_cpu_32(ip->vtc_flow) >> RTE_IPV6_HDR_TC_SHIFT) & 3);
		out->total_len = (uint16_t)tlen;
		out->src.family = out->dst.family = AF_INET6;
		memcpy(out->src.addr, ip->src_addr, 16);
		memcpy(out->dst.addr, ip->dst_addr, 16);
	} else {
		return FG_DROP_INNER_MALFORMED;
	}
	parse_l4(pkt, tlen, hlen, out);
	return FG_DROP_NONE;
}
