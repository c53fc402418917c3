// SPDX-License-Identifier: MIT
/*
 * The packet side of the DNS-resource NAT (see natpkt.h): parsing of the transport header
 * and of the packet an ICMP error quotes, the two rewrites with incremental checksums
 * (RFC 1624 eqn 3: HC' = ~(~HC + ~m + m')), and the rebuilt ICMP error. Stateless; called
 * per packet by the workers.
 */
#include "natpkt.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

enum hdr_len {
	IP4_LEN = 20,
	IP6_LEN = 40,
	TCP_LEN = 20,
	UDP_LEN = 8,
	ICMP_LEN = 8,
	EXT_MIN = 8,
	PORTS_LEN = 4,            /* what an ICMP error must quote of TCP / UDP (Firezone) */
};

enum wire_value {
	PROTO_HOPOPTS = 0,
	PROTO_ICMP = 1,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_AH = 51,
	PROTO_ICMP6 = 58,
	PROTO_DSTOPTS = 60,
	ICMP4_ECHO_REPLY = 0,
	ICMP4_UNREACH = 3,
	ICMP4_ECHO = 8,
	ICMP4_TIME_EXCEEDED = 11,
	ICMP4_CODE_FRAG_NEEDED = 4,
	ICMP6_UNREACH = 1,
	ICMP6_TOO_BIG = 2,
	ICMP6_TIME_EXCEEDED = 3,
	ICMP6_ECHO = 128,
	ICMP6_ECHO_REPLY = 129,
	IP4_DF = 0x4000,
	IP4_MF_OFFSET = 0x3fff,   /* MF and the fragment offset */
	IP4_OFFSET = 0x1fff,
	IP6_FRAG_MF_OFFSET = 0xfff9,
	IP6_FRAG_OFFSET = 0xfff8,
};

/* Offsets of the fields rewritten. */
enum field_off {
	IP4_CSUM = 10,
	IP4_SRC = 12,
	IP4_DST = 16,
	IP6_SRC = 8,
	IP6_DST = 24,
	TCP_CSUM = 16,
	UDP_CSUM = 6,
	ICMP_CSUM = 2,
	ECHO_ID = 4,
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

/* ---- checksums ---------------------------------------------------------------------------- */

static inline uint16_t fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* RFC 1071 sum of big-endian 16-bit words; an odd last byte is padded with zero. */
static uint32_t sum_words(uint32_t s, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2) {
		s += (uint32_t)p[i] << 8 | p[i + 1];
		if (s & 0x80000000u)
			s = fold(s);
	}
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	return s;
}

/* The IPv6 pseudo-header of an upper-layer packet of len bytes: source, destination,
 * length, next header. */
static uint32_t pseudo6(const uint8_t *ip6, uint32_t len, uint8_t nh)
{
	return sum_words(0, ip6 + IP6_SRC, 32) + (len >> 16) + (len & 0xffff) + nh;
}

/* What replacing the even-length old bytes with new adds to a checksum's complement. */
static uint32_t delta_bytes(uint32_t d, const uint8_t *old, const uint8_t *new, uint32_t n)
{
	for (uint32_t i = 0; i < n; i += 2)
		d += (uint16_t)~rd16(old + i) + (uint32_t)rd16(new + i);
	return d;
}

static inline uint32_t delta16(uint32_t d, uint16_t old, uint16_t new)
{
	return d + (uint16_t)~old + (uint32_t)new;
}

/* HC' = ~(~HC + delta). */
static void csum_adjust(uint8_t *cs, uint32_t d)
{
	wr16(cs, (uint16_t)~fold((uint16_t)~rd16(cs) + fold(d)));
}

/* UDP: 0 over IPv4 means none and stays; a result of 0 goes out as 0xFFFF (RFC 768). */
static void udp_adjust(uint8_t *cs, uint32_t d, bool v4)
{
	if (v4 && rd16(cs) == 0)
		return;
	csum_adjust(cs, d);
	if (rd16(cs) == 0)
		wr16(cs, 0xffff);
}

/* The transport checksum of a packet whose addresses moved by da and whose port (or echo
 * id) moved by dp; len bytes of transport header are present (the checksum may be cut off
 * in a quote). */
static void l4_adjust(uint8_t *l4, uint32_t len, uint8_t proto, bool v4, uint32_t da, uint32_t dp)
{
	switch (proto) {
	case PROTO_TCP:
		if (len >= TCP_CSUM + 2)
			csum_adjust(l4 + TCP_CSUM, da + dp);
		break;
	case PROTO_UDP:
		if (len >= UDP_CSUM + 2)
			udp_adjust(l4 + UDP_CSUM, da + dp, v4);
		break;
	case PROTO_ICMP:
		if (len >= ICMP_CSUM + 2)
			csum_adjust(l4 + ICMP_CSUM, dp);   /* no pseudo-header */
		break;
	case PROTO_ICMP6:
		if (len >= ICMP_CSUM + 2)
			csum_adjust(l4 + ICMP_CSUM, da + dp);
		break;
	default:
		break;
	}
}

/* ---- parsing ------------------------------------------------------------------------------ */

/* Walks the IPv6 extension headers of the header at ip6 within limit bytes: *off becomes
 * the upper-layer offset, *proto its protocol, *frag the last fragment header's offset
 * and flags word (0 without one). 0, or -EINVAL for a chain too long or cut short. */
static int walk6(const uint8_t *ip6, uint32_t limit, uint32_t *off, uint8_t *proto, uint16_t *frag)
{
	uint32_t o = IP6_LEN, hl;
	uint8_t nh = ip6[6];

	*frag = 0;
	for (unsigned n = 0;; n++) {
		if (nh != PROTO_HOPOPTS && nh != PROTO_ROUTING && nh != PROTO_DSTOPTS && nh != PROTO_FRAGMENT &&
		    nh != PROTO_AH) {
			*off = o;
			*proto = nh;
			return 0;
		}
		if (n == FG_NATPKT_EXT_MAX || o + EXT_MIN > limit)
			return -EINVAL;
		if (nh == PROTO_FRAGMENT) {
			*frag = rd16(ip6 + o + 2);
			hl = EXT_MIN;
		} else if (nh == PROTO_AH) {
			hl = ((uint32_t)ip6[o + 1] + 2) * 4;
		} else {
			hl = ((uint32_t)ip6[o + 1] + 1) * 8;
		}
		nh = ip6[o];
		o += hl;
		if (o > limit)
			return -EINVAL;
	}
}

static bool is_icmp(uint8_t family, uint8_t proto)
{
	return family == AF_INET ? proto == PROTO_ICMP : proto == PROTO_ICMP6;
}

static uint8_t classify_icmp(uint8_t family, uint8_t type)
{
	if (family == AF_INET) {
		switch (type) {
		case ICMP4_ECHO: return FG_NATPKT_ECHO_REQUEST;
		case ICMP4_ECHO_REPLY: return FG_NATPKT_ECHO_REPLY;
		case ICMP4_UNREACH:
		case ICMP4_TIME_EXCEEDED: return FG_NATPKT_ICMP_ERROR;
		default: return FG_NATPKT_OTHER;
		}
	}
	switch (type) {
	case ICMP6_ECHO: return FG_NATPKT_ECHO_REQUEST;
	case ICMP6_ECHO_REPLY: return FG_NATPKT_ECHO_REPLY;
	case ICMP6_UNREACH:
	case ICMP6_TOO_BIG:
	case ICMP6_TIME_EXCEEDED: return FG_NATPKT_ICMP_ERROR;
	default: return FG_NATPKT_OTHER;
	}
}

/* The transport header at np->l4_off (np->len bytes of packet). */
static int parse_l4(const uint8_t *pkt, struct fg_natpkt *np)
{
	const uint8_t *l4 = pkt + np->l4_off;
	uint32_t rem = (uint32_t)np->len - np->l4_off;

	switch (np->proto) {
	case PROTO_TCP:
		if (rem < TCP_LEN)
			return -EINVAL;
		np->l4 = FG_NATPKT_TCP;
		np->tcp_flags = l4[13];
		/* data offset below 5 or past the packet: no payload */
		if ((uint32_t)(l4[12] >> 4) * 4 >= TCP_LEN && (uint32_t)(l4[12] >> 4) * 4 <= rem)
			np->payload = (uint16_t)(rem - (uint32_t)(l4[12] >> 4) * 4);
		break;
	case PROTO_UDP:
		if (rem < UDP_LEN)
			return -EINVAL;
		np->l4 = FG_NATPKT_UDP;
		np->payload = (uint16_t)(rem - UDP_LEN);
		break;
	default:
		if (!is_icmp(np->family, np->proto))
			return 0;
		if (rem < ICMP_LEN)
			return -EINVAL;
		np->icmp_type = l4[0];
		np->icmp_code = l4[1];
		np->payload = (uint16_t)(rem - ICMP_LEN);
		np->l4 = classify_icmp(np->family, l4[0]);
		if (np->l4 == FG_NATPKT_ECHO_REQUEST || np->l4 == FG_NATPKT_ECHO_REPLY)
			np->sport = np->dport = rd16(l4 + ECHO_ID);
		return 0;
	}
	np->sport = rd16(l4);
	np->dport = rd16(l4 + 2);
	return 0;
}

int fg_natpkt_parse(const uint8_t *pkt, uint32_t len, struct fg_natpkt *np)
{
	uint32_t off, total;
	uint16_t frag;
	bool fragment;

	memset(np, 0, sizeof(*np));
	if (len < 1)
		return -EINVAL;
	switch (pkt[0] >> 4) {
	case 4:
		if (len < IP4_LEN)
			return -EINVAL;
		off = (pkt[0] & 0xfu) * 4u;
		total = rd16(pkt + 2);
		if (off < IP4_LEN || off > total || total > len)
			return -EINVAL;
		np->family = AF_INET;
		np->proto = pkt[9];
		fragment = (rd16(pkt + 6) & IP4_MF_OFFSET) != 0;
		break;
	case 6:
		if (len < IP6_LEN)
			return -EINVAL;
		total = IP6_LEN + (uint32_t)rd16(pkt + 4);
		if (total > len || total > UINT16_MAX || walk6(pkt, total, &off, &np->proto, &frag) != 0)
			return -EINVAL;
		np->family = AF_INET6;
		fragment = (frag & IP6_FRAG_MF_OFFSET) != 0;
		break;
	default:
		return -EINVAL;
	}
	np->len = (uint16_t)total;
	np->l4_off = (uint16_t)off;
	if (fragment)
		return 0;    /* no ports of its own: l4 OTHER */
	return parse_l4(pkt, np);
}

void fg_natpkt_src(const uint8_t *pkt, const struct fg_natpkt *np, struct fg_ip *out)
{
	memset(out, 0, sizeof(*out));
	out->family = np->family;
	if (np->family == AF_INET)
		memcpy(out->addr, pkt + IP4_SRC, 4);
	else
		memcpy(out->addr, pkt + IP6_SRC, 16);
}

void fg_natpkt_dst(const uint8_t *pkt, const struct fg_natpkt *np, struct fg_ip *out)
{
	memset(out, 0, sizeof(*out));
	out->family = np->family;
	if (np->family == AF_INET)
		memcpy(out->addr, pkt + IP4_DST, 4);
	else
		memcpy(out->addr, pkt + IP6_DST, 16);
}

/* ---- the two rewrites ------------------------------------------------------------------- */

/* Offset of the port (or echo id) field in the transport header: src for the client's
 * side of the flow on the way out, dst on the way in. */
static inline uint32_t port_off(const struct fg_natpkt *np, bool src)
{
	if (np->l4 == FG_NATPKT_ECHO_REQUEST || np->l4 == FG_NATPKT_ECHO_REPLY)
		return ECHO_ID;
	return src ? 0 : 2;
}

/* Replaces the address at addr_off and the port at the transport header's port_off. */
static void rewrite(uint8_t *pkt, const struct fg_natpkt *np, uint32_t addr_off, const struct fg_ip *ip,
		    uint32_t poff, uint16_t port)
{
	bool v4 = np->family == AF_INET;
	uint32_t alen = v4 ? 4 : 16;
	uint8_t *l4 = pkt + np->l4_off;
	uint32_t da = delta_bytes(0, pkt + addr_off, ip->addr, alen);
	uint32_t dp = delta16(0, rd16(l4 + poff), port);

	if (v4)
		csum_adjust(pkt + IP4_CSUM, da);
	l4_adjust(l4, (uint32_t)np->len - np->l4_off, np->proto, v4, da, dp);
	memcpy(pkt + addr_off, ip->addr, alen);
	wr16(l4 + poff, port);
}

void fg_natpkt_translate_out(uint8_t *pkt, struct fg_natpkt *np, const struct fg_ip *dst, uint16_t port)
{
	bool echo = np->l4 == FG_NATPKT_ECHO_REQUEST || np->l4 == FG_NATPKT_ECHO_REPLY;

	rewrite(pkt, np, np->family == AF_INET ? IP4_DST : IP6_DST, dst, port_off(np, true), port);
	np->sport = port;
	if (echo)
		np->dport = port;
}

void fg_natpkt_translate_in(uint8_t *pkt, struct fg_natpkt *np, const struct fg_ip *src, uint16_t port)
{
	bool echo = np->l4 == FG_NATPKT_ECHO_REQUEST || np->l4 == FG_NATPKT_ECHO_REPLY;

	rewrite(pkt, np, np->family == AF_INET ? IP4_SRC : IP6_SRC, src, port_off(np, false), port);
	np->dport = port;
	if (echo)
		np->sport = port;
}

/* ---- ICMP errors ------------------------------------------------------------------------- */

int fg_natpkt_parse_quote(const uint8_t *pkt, const struct fg_natpkt *np, struct fg_natpkt_quote *q)
{
	uint32_t qoff = (uint32_t)np->l4_off + ICMP_LEN, qlen, l4off, rem;
	const uint8_t *p, *l4;
	uint16_t frag;
	uint8_t proto;

	memset(q, 0, sizeof(*q));
	if (np->l4 != FG_NATPKT_ICMP_ERROR || qoff > np->len)
		return -EINVAL;
	qlen = np->len - qoff;
	p = pkt + qoff;
	if (np->family == AF_INET) {
		if (qlen < IP4_LEN || p[0] >> 4 != 4)
			return -EINVAL;
		l4off = (p[0] & 0xfu) * 4u;
		if (l4off < IP4_LEN || l4off > qlen || (rd16(p + 6) & IP4_OFFSET) != 0)
			return -EINVAL;
		proto = p[9];
	} else {
		/* The quote is cut short: its headers are walked within what is there. */
		if (qlen < IP6_LEN || p[0] >> 4 != 6 || walk6(p, qlen, &l4off, &proto, &frag) != 0 ||
		    (frag & IP6_FRAG_OFFSET) != 0)
			return -EINVAL;
	}
	l4 = p + l4off;
	rem = qlen - l4off;
	if (proto == PROTO_TCP || proto == PROTO_UDP) {
		if (rem < PORTS_LEN)
			return -EINVAL;
		q->l4 = proto == PROTO_TCP ? FG_NATPKT_TCP : FG_NATPKT_UDP;
		q->sport = rd16(l4);
		q->dport = rd16(l4 + 2);
	} else if (is_icmp(np->family, proto)) {
		if (rem < ICMP_LEN || classify_icmp(np->family, l4[0]) != FG_NATPKT_ECHO_REQUEST)
			return -EINVAL;
		q->l4 = FG_NATPKT_ECHO_REQUEST;
		q->sport = q->dport = rd16(l4 + ECHO_ID);
	} else {
		return -EINVAL;
	}
	q->off = (uint16_t)qoff;
	q->len = (uint16_t)qlen;
	q->l4_off = (uint16_t)(qoff + l4off);
	q->proto = proto;
	return 0;
}

bool fg_natpkt_icmp_checksum_ok(const uint8_t *pkt, const struct fg_natpkt *np)
{
	uint32_t n = (uint32_t)np->len - np->l4_off;
	uint32_t s = sum_words(0, pkt + np->l4_off, n);

	if (np->family == AF_INET6)
		s += pseudo6(pkt, n, PROTO_ICMP6);
	return fold(s) == 0xffff;
}

/* The copied quote (quote, q->len bytes) back to what the client sent: destination proxy,
 * source port (echo id) port, with the checksums it holds. */
static void untranslate_quote(uint8_t *quote, const struct fg_natpkt_quote *q, bool v4, const struct fg_ip *proxy,
			      uint16_t port)
{
	uint32_t aoff = v4 ? IP4_DST : IP6_DST, alen = v4 ? 4 : 16;
	uint32_t l4rel = (uint32_t)q->l4_off - q->off;
	uint8_t *l4 = quote + l4rel;
	uint32_t poff = q->l4 == FG_NATPKT_ECHO_REQUEST ? ECHO_ID : 0;
	uint32_t da = delta_bytes(0, quote + aoff, proxy->addr, alen);
	uint32_t dp = delta16(0, rd16(l4 + poff), port);

	if (v4)
		csum_adjust(quote + IP4_CSUM, da);
	l4_adjust(l4, q->len - l4rel, q->proto, v4, da, dp);
	memcpy(quote + aoff, proxy->addr, alen);
	wr16(l4 + poff, port);
}

uint32_t fg_natpkt_icmp_error(uint8_t *out, uint32_t cap, const uint8_t *pkt, const struct fg_natpkt *np,
			      const struct fg_natpkt_quote *q, const struct fg_ip *proxy, uint16_t port)
{
	bool v4 = np->family == AF_INET;
	uint32_t ih = v4 ? IP4_LEN : IP6_LEN, n = ih + ICMP_LEN + q->len;
	uint8_t *icmp = out + ih, rest[4] = { 0 }, client[16];

	if (n > cap)
		return 0;
	/* What is read of the error, first: out may be pkt itself, and the new headers are no
	 * longer than the old ones (the quote moves toward the front). */
	if (v4 && np->icmp_type == ICMP4_UNREACH && np->icmp_code == ICMP4_CODE_FRAG_NEEDED)
		memcpy(rest + 2, pkt + np->l4_off + 6, 2);      /* next-hop MTU (RFC 1191) */
	if (!v4 && np->icmp_type == ICMP6_TOO_BIG)
		memcpy(rest, pkt + np->l4_off + 4, 4);          /* MTU */
	memcpy(client, pkt + (v4 ? IP4_DST : IP6_DST), v4 ? 4 : 16);
	memmove(icmp + ICMP_LEN, pkt + q->off, q->len);
	untranslate_quote(icmp + ICMP_LEN, q, v4, proxy, port);
	icmp[0] = np->icmp_type;
	icmp[1] = np->icmp_code;
	wr16(icmp + ICMP_CSUM, 0);
	memcpy(icmp + 4, rest, 4);
	if (v4) {
		out[0] = 0x45;
		out[1] = 0;
		wr16(out + 2, (uint16_t)n);
		wr16(out + 4, 0);
		wr16(out + 6, IP4_DF);
		out[8] = FG_NATPKT_ERROR_TTL;
		out[9] = PROTO_ICMP;
		wr16(out + IP4_CSUM, 0);
		memcpy(out + IP4_SRC, proxy->addr, 4);
		memcpy(out + IP4_DST, client, 4);
		wr16(out + IP4_CSUM, (uint16_t)~fold(sum_words(0, out, IP4_LEN)));
		wr16(icmp + ICMP_CSUM, (uint16_t)~fold(sum_words(0, icmp, ICMP_LEN + q->len)));
	} else {
		out[0] = 0x60;
		memset(out + 1, 0, 3);
		wr16(out + 4, (uint16_t)(ICMP_LEN + q->len));
		out[6] = PROTO_ICMP6;
		out[7] = FG_NATPKT_ERROR_TTL;
		memcpy(out + IP6_SRC, proxy->addr, 16);
		memcpy(out + IP6_DST, client, 16);
		wr16(icmp + ICMP_CSUM, (uint16_t)~fold(sum_words(pseudo6(out, ICMP_LEN + q->len, PROTO_ICMP6), icmp,
								 ICMP_LEN + q->len)));
	}
	return n;
}
