/* SPDX-License-Identifier: MIT */
/*
 * ICMP errors for policy denials and p2p control packets, built into caller buffers
 * (reference §3.3 step 6, §3.5, §4.2). A worker calls the ICMP builders for the packet it
 * just denied; the service lcore builds and parses control packets. Stateless, no
 * allocation, logging or syscalls; every read of the original packet is bounded by its
 * checked length first.
 *
 * The errors follow Firezone's `make.rs`: IPv4 quotes the IP header (options included) and
 * 8 bytes of payload; IPv6 quotes as much as keeps the error within the 1280-byte minimum
 * MTU (RFC 4443 §2.4 c). TTL / hop limit 20. What Firezone leaves to its packet library is
 * fixed here: IPv4 ID 0 with DF, no options, TOS / traffic class and flow label 0.
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "icmpgen.h"

/* Header sizes. */
enum wire_len {
	IP4_LEN = 20,
	IP6_LEN = 40,
	ICMP_HDR_LEN = 8,            /* type, code, checksum, 4 unused bytes */
	IP4_QUOTE_PAYLOAD = 8,       /* bytes quoted past the IPv4 header */
	EXT_MIN_LEN = 8,
	EXT_MAX = 8,
};

/* Protocol numbers, types and codes, fixed header values. */
enum wire_value {
	PROTO_HOPOPTS = 0,
	PROTO_ICMP = 1,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_AH = 51,
	PROTO_ICMP6 = 58,
	PROTO_DSTOPTS = 60,
	PROTO_P2P = 0xFF,
	ICMP4_UNREACH = 3,
	ICMP4_CODE_NET = 0,
	ICMP4_CODE_PROHIBITED = 13,
	ICMP6_UNREACH = 1,
	ICMP6_CODE_PROHIBITED = 1,
	ICMP6_CODE_ADDRESS = 3,
	ICMP6_INFO_MIN = 128,
	ERROR_TTL = 20,
	IP4_DF = 0x4000,
	P2P_HOP_LIMIT = 0,
};

static inline uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, sizeof(v));
}

/* RFC 1071 sum of big-endian 16-bit words; an odd last byte is padded with zero. */
static uint32_t sum_words(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t sum_final(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline bool is_zero(const uint8_t *a, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (a[i])
			return false;
	return true;
}

static inline bool icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/*
 * Whether an IPv4 packet (header hlen, IP length tlen) may get an ICMP error: not a
 * non-first fragment, not an ICMP error, not from an unspecified, multicast or class E
 * source, not to a multicast or the limited broadcast address.
 */
static bool may_answer4(const uint8_t *b, uint32_t hlen, uint32_t tlen)
{
	const uint8_t *src = b + 12, *dst = b + 16;

	if ((rd16(b + 6) & 0x1fff) != 0)
		return false;
	if (is_zero(src, 4) || src[0] >= 224)
		return false;
	if ((dst[0] & 0xf0) == 0xe0 || (dst[0] == 255 && dst[1] == 255 && dst[2] == 255 && dst[3] == 255))
		return false;
	if (b[9] == PROTO_ICMP && (tlen == hlen || icmp4_is_error(b[hlen])))
		return false;
	return true;
}

/* The same for IPv6 (IP length tlen), walking extension headers to the upper layer. */
static bool may_answer6(const uint8_t *b, uint32_t tlen)
{
	uint32_t off = IP6_LEN;
	uint8_t nh = b[6];

	if (is_zero(b + 8, 16) || b[8] == 0xff || b[24] == 0xff)
		return false;
	for (unsigned n = 0;; n++) {
		uint32_t hl;

		if (nh == PROTO_ICMP6)
			return off < tlen && b[off] >= ICMP6_INFO_MIN;
		if (nh != PROTO_HOPOPTS && nh != PROTO_ROUTING && nh != PROTO_DSTOPTS &&
		    nh != PROTO_FRAGMENT && nh != PROTO_AH)
			return true;
		if (n == EXT_MAX || tlen - off < EXT_MIN_LEN)
			return false;
		if (nh == PROTO_FRAGMENT) {
			if ((rd16(b + off + 2) & 0xfff8) != 0)
				return false;
			hl = EXT_MIN_LEN;
		} else if (nh == PROTO_AH) {
			hl = ((uint32_t)b[off + 1] + 2) * 4;
		} else {
			hl = ((uint32_t)b[off + 1] + 1) * 8;
		}
		if (hl > tlen - off)
			return false;
		nh = b[off];
		off += hl;
	}
}

static uint32_t error4(uint8_t *out, uint32_t cap, const uint8_t *b, uint32_t len, uint8_t code)
{
	uint32_t hlen = (b[0] & 0x0fu) * 4, tlen = rd16(b + 2), quote, total;

	if (hlen < IP4_LEN || tlen < hlen || tlen > len || !may_answer4(b, hlen, tlen))
		return 0;
	quote = tlen < hlen + IP4_QUOTE_PAYLOAD ? tlen : hlen + IP4_QUOTE_PAYLOAD;
	total = IP4_LEN + ICMP_HDR_LEN + quote;
	if (total > cap)
		return 0;
	memset(out, 0, IP4_LEN + ICMP_HDR_LEN);
	out[0] = 0x45;
	wr16(out + 2, (uint16_t)total);
	wr16(out + 6, IP4_DF);
	out[8] = ERROR_TTL;
	out[9] = PROTO_ICMP;
	memcpy(out + 12, b + 16, 4);   /* from the original destination */
	memcpy(out + 16, b + 12, 4);   /* to the original source */
	wr16(out + 10, sum_final(sum_words(0, out, IP4_LEN)));
	out[IP4_LEN] = ICMP4_UNREACH;
	out[IP4_LEN + 1] = code;
	memcpy(out + IP4_LEN + ICMP_HDR_LEN, b, quote);
	wr16(out + IP4_LEN + 2, sum_final(sum_words(0, out + IP4_LEN, ICMP_HDR_LEN + quote)));
	return total;
}

static uint32_t error6(uint8_t *out, uint32_t cap, const uint8_t *b, uint32_t len, uint8_t code)
{
	uint32_t tlen, room, quote, plen, sum;

	if (len < IP6_LEN)
		return 0;
	tlen = IP6_LEN + (uint32_t)rd16(b + 4);
	if (tlen > len || !may_answer6(b, tlen))
		return 0;
	room = cap < FG_ICMPGEN_MAX_LEN ? cap : FG_ICMPGEN_MAX_LEN;
	if (room < IP6_LEN + ICMP_HDR_LEN + IP6_LEN)
		return 0;
	room -= IP6_LEN + ICMP_HDR_LEN;
	quote = tlen < room ? tlen : room;
	plen = ICMP_HDR_LEN + quote;
	memset(out, 0, IP6_LEN + ICMP_HDR_LEN);
	wr32(out, 6u << 28);
	wr16(out + 4, (uint16_t)plen);
	out[6] = PROTO_ICMP6;
	out[7] = ERROR_TTL;
	memcpy(out + 8, b + 24, 16);    /* from the original destination */
	memcpy(out + 24, b + 8, 16);    /* to the original source */
	out[IP6_LEN] = ICMP6_UNREACH;
	out[IP6_LEN + 1] = code;
	memcpy(out + IP6_LEN + ICMP_HDR_LEN, b, quote);
	/* Pseudo-header: source, destination, upper-layer length, next header. */
	sum = sum_words(0, out + 8, 32);
	sum += plen >> 16;
	sum += plen & 0xffff;
	sum += PROTO_ICMP6;
	sum = sum_words(sum, out + IP6_LEN, plen);
	wr16(out + IP6_LEN + 2, sum_final(sum));
	return IP6_LEN + plen;
}

static uint32_t error(uint8_t *out, uint32_t cap, const uint8_t *orig, uint32_t orig_len,
		      uint8_t code4, uint8_t code6)
{
	if (!out || !orig || orig_len < IP4_LEN)
		return 0;
	if (orig[0] >> 4 == 4)
		return error4(out, cap, orig, orig_len, code4);
	if (orig[0] >> 4 == 6)
		return error6(out, cap, orig, orig_len, code6);
	return 0;
}

uint32_t fg_icmpgen_prohibited(uint8_t *out, uint32_t cap, const uint8_t *orig, uint32_t orig_len)
{
	return error(out, cap, orig, orig_len, ICMP4_CODE_PROHIBITED, ICMP6_CODE_PROHIBITED);
}

uint32_t fg_icmpgen_net_unreachable(uint8_t *out, uint32_t cap, const uint8_t *orig,
				    uint32_t orig_len)
{
	return error(out, cap, orig, orig_len, ICMP4_CODE_NET, ICMP6_CODE_ADDRESS);
}

uint32_t fg_icmpgen_p2p_control(uint8_t *out, uint32_t cap, uint8_t event, const void *body,
				uint32_t body_len)
{
	uint32_t total;

	if (!out || body_len > FG_ICMPGEN_P2P_MAX_BODY || (body_len > 0 && !body))
		return 0;
	total = IP6_LEN + FG_ICMPGEN_P2P_HDR_LEN + body_len;
	if (total > cap)
		return 0;
	memset(out, 0, IP6_LEN + FG_ICMPGEN_P2P_HDR_LEN);
	wr32(out, 6u << 28);
	wr16(out + 4, (uint16_t)(FG_ICMPGEN_P2P_HDR_LEN + body_len));
	out[6] = PROTO_P2P;
	out[7] = P2P_HOP_LIMIT;
	out[IP6_LEN] = event;
	if (body_len)
		memcpy(out + IP6_LEN + FG_ICMPGEN_P2P_HDR_LEN, body, body_len);
	return total;
}

int fg_icmpgen_p2p_parse(const uint8_t *pkt, uint32_t len, uint8_t *event, const uint8_t **body,
			 uint32_t *body_len)
{
	uint32_t plen;

	if (!pkt || len < IP6_LEN + FG_ICMPGEN_P2P_HDR_LEN || pkt[0] >> 4 != 6 ||
	    pkt[6] != PROTO_P2P || !is_zero(pkt + 8, 32))
		return -EINVAL;
	plen = rd16(pkt + 4);
	if (plen < FG_ICMPGEN_P2P_HDR_LEN || IP6_LEN + plen > len)
		return -EINVAL;
	if (event)
		*event = pkt[IP6_LEN];
	if (body)
		*body = pkt + IP6_LEN + FG_ICMPGEN_P2P_HDR_LEN;
	if (body_len)
		*body_len = plen - FG_ICMPGEN_P2P_HDR_LEN;
	return 0;
}
