// SPDX-License-Identifier: MIT
/*
 * Test packets and the independent checksum checker (see tpkt.h).
 */
#include "tpkt.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t tpkt_sum(uint32_t sum, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

uint16_t tpkt_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

struct fg_ip tpkt_ip(const char *text)
{
	struct fg_ip ip;

	if (fg_ip_parse(text, &ip) != 0) {
		fprintf(stderr, "tpkt_ip: bad address %s\n", text);
		abort();
	}
	return ip;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t l4_hdr_len(uint8_t proto)
{
	return proto == 6 ? 20 : 8;
}

/* Where the transport header and its checksum are; false for another protocol. */
static bool layout(const uint8_t *pkt, uint32_t len, int *family, uint32_t *l4, uint32_t *l4len, uint8_t *proto)
{
	if (len < 20)
		return false;
	if (pkt[0] >> 4 == 4) {
		uint32_t total = (uint32_t)pkt[2] << 8 | pkt[3];

		*family = AF_INET;
		*l4 = (pkt[0] & 0xfu) * 4;
		if (total > len || *l4 > total)
			return false;
		*l4len = total - *l4;
		*proto = pkt[9];
		return true;
	}
	if (len < 40)
		return false;
	*family = AF_INET6;
	*l4 = 40;
	*l4len = (uint32_t)pkt[4] << 8 | pkt[5];
	*proto = pkt[6];
	return 40 + *l4len <= len;
}

static uint32_t pseudo(const uint8_t *pkt, int family, uint8_t proto, uint32_t l4len)
{
	if (family == AF_INET)
		return tpkt_sum(0, pkt + 12, 8) + proto + l4len;
	return tpkt_sum(0, pkt + 8, 32) + (l4len >> 16) + (l4len & 0xffff) + proto;
}

static uint32_t csum_off(uint8_t proto)
{
	return proto == 6 ? 16 : proto == 17 ? 6 : 2;
}

void tpkt_fix_checksums(uint8_t *pkt, uint32_t len)
{
	uint32_t l4, l4len, off;
	uint8_t proto;
	int family;

	if (!layout(pkt, len, &family, &l4, &l4len, &proto))
		return;
	if (family == AF_INET) {
		put16(pkt + 10, 0);
		put16(pkt + 10, (uint16_t)~tpkt_fold(tpkt_sum(0, pkt, l4)));
	}
	if (proto != 6 && proto != 17 && proto != 1 && proto != 58)
		return;
	off = csum_off(proto);
	if (l4len < off + 2)
		return;
	if (proto == 17 && family == AF_INET && pkt[l4 + 6] == 0 && pkt[l4 + 7] == 0)
		return;   /* none */
	put16(pkt + l4 + off, 0);
	uint32_t s = tpkt_sum(proto == 1 ? 0 : pseudo(pkt, family, proto, l4len), pkt + l4, l4len);
	uint16_t c = (uint16_t)~tpkt_fold(s);

	if (proto == 17 && c == 0)
		c = 0xffff;
	put16(pkt + l4 + off, c);
}

bool tpkt_checksums_ok(const uint8_t *pkt, uint32_t len)
{
	uint32_t l4, l4len;
	uint8_t proto;
	int family;

	if (!layout(pkt, len, &family, &l4, &l4len, &proto))
		return false;
	if (family == AF_INET && tpkt_fold(tpkt_sum(0, pkt, l4)) != 0xffff)
		return false;
	if (proto != 6 && proto != 17 && proto != 1 && proto != 58)
		return true;
	if (l4len < csum_off(proto) + 2)
		return false;
	if (proto == 17 && family == AF_INET && pkt[l4 + 6] == 0 && pkt[l4 + 7] == 0)
		return true;
	if (proto == 17 && pkt[l4 + 6] == 0 && pkt[l4 + 7] == 0)
		return false;      /* IPv6 UDP must carry one; a computed 0 goes as 0xFFFF */
	return tpkt_fold(tpkt_sum(proto == 1 ? 0 : pseudo(pkt, family, proto, l4len), pkt + l4, l4len)) == 0xffff;
}

uint32_t tpkt_build(uint8_t *buf, uint32_t cap, const struct tpkt *t)
{
	bool v4 = t->family == AF_INET;
	uint32_t ih = v4 ? 20 : 40, th = l4_hdr_len(t->proto), n = ih + th + t->payload;
	uint8_t *l4 = buf + ih;

	if (n > cap || n > 65535)
		return 0;
	memset(buf, 0, n);
	if (v4) {
		buf[0] = 0x45;
		put16(buf + 2, (uint16_t)n);
		put16(buf + 4, (uint16_t)(t->seed & 0xffff));
		buf[8] = t->ttl ? t->ttl : 64;
		buf[9] = t->proto;
		memcpy(buf + 12, t->src.addr, 4);
		memcpy(buf + 16, t->dst.addr, 4);
	} else {
		buf[0] = 0x60;
		put16(buf + 4, (uint16_t)(n - 40));
		buf[6] = t->proto;
		buf[7] = t->ttl ? t->ttl : 64;
		memcpy(buf + 8, t->src.addr, 16);
		memcpy(buf + 24, t->dst.addr, 16);
	}
	switch (t->proto) {
	case 6:
		put16(l4, t->sport);
		put16(l4 + 2, t->dport);
		put16(l4 + 4, (uint16_t)(t->seed >> 3));
		l4[12] = 5 << 4;
		l4[13] = t->tcp_flags;
		put16(l4 + 14, 65535);
		break;
	case 17:
		put16(l4, t->sport);
		put16(l4 + 2, t->dport);
		put16(l4 + 4, (uint16_t)(n - ih));
		put16(l4 + 6, 0xffff);   /* "has one": tpkt_fix_checksums computes it */
		break;
	default:
		l4[0] = t->icmp_type;
		l4[1] = t->icmp_code;
		put16(l4 + 4, t->sport);
		put16(l4 + 6, t->dport);
		break;
	}
	for (uint32_t i = 0; i < t->payload; i++)
		l4[th + i] = (uint8_t)(t->seed * 31 + i * 7 + (i >> 8));
	tpkt_fix_checksums(buf, n);
	if (t->proto == 17 && v4 && t->udp_no_csum)
		put16(l4 + 6, 0);
	return n;
}

/* What the server's side saw: the client's packet as the NAT sent it (destination real,
 * source port outside) and one router hop later (TTL / hop limit - 1, the IPv4 header
 * checksum a router would write). */
uint32_t tpkt_as_sent_by_nat(uint8_t *out, const uint8_t *client_pkt, uint32_t n, const struct fg_ip *real,
			       uint16_t outside, bool echo)
{
	bool v4 = client_pkt[0] >> 4 == 4;
	uint32_t l4 = v4 ? 20 : 40;

	memcpy(out, client_pkt, n);
	memcpy(out + (v4 ? 16 : 24), real->addr, v4 ? 4 : 16);
	put16(out + l4 + (echo ? 4 : 0), outside);
	tpkt_fix_checksums(out, n);
	if (v4) {
		out[8]--;
		put16(out + 10, 0);
		put16(out + 10, (uint16_t)~tpkt_fold(tpkt_sum(0, out, 20)));
	} else {
		out[7]--;
	}
	return n;
}

/* An ICMP error about quote (quote_len bytes of it) from router to the client. */
uint32_t tpkt_router_error(uint8_t *out, int family, uint8_t type, uint8_t code, uint32_t rest,
			     const struct fg_ip *router, const struct fg_ip *client, const uint8_t *quote,
			     uint32_t quote_len, bool ip_options)
{
	bool v4 = family == AF_INET;
	uint32_t ih = v4 ? (ip_options ? 24 : 20) : 40, n = ih + 8 + quote_len;
	uint8_t *icmp = out + ih;

	memset(out, 0, ih + 8);
	if (v4) {
		out[0] = ip_options ? 0x46 : 0x45;
		out[1] = 0xc0;
		put16(out + 2, (uint16_t)n);
		put16(out + 4, 0x1234);
		out[8] = 250;
		out[9] = 1;
		memcpy(out + 12, router->addr, 4);
		memcpy(out + 16, client->addr, 4);
		if (ip_options)
			memset(out + 20, 1, 4);   /* NOP options */
	} else {
		out[0] = 0x6e;
		out[1] = 0x12;
		put16(out + 4, (uint16_t)(n - 40));
		out[6] = 58;
		out[7] = 250;
		memcpy(out + 8, router->addr, 16);
		memcpy(out + 24, client->addr, 16);
	}
	icmp[0] = type;
	icmp[1] = code;
	icmp[4] = (uint8_t)(rest >> 24);
	icmp[5] = (uint8_t)(rest >> 16);
	icmp[6] = (uint8_t)(rest >> 8);
	icmp[7] = (uint8_t)rest;
	memcpy(icmp + 8, quote, quote_len);
	tpkt_fix_checksums(out, n);
	return n;
}

/* The error the client must get, written field by field: from proxy to client, TTL 20,
 * IPv4 DF, ID 0; the quote the client's own packet (one hop older). */
uint32_t tpkt_expected_error(uint8_t *out, int family, uint8_t type, uint8_t code, uint32_t rest,
			       const struct fg_ip *proxy, const struct fg_ip *client, const uint8_t *client_pkt,
			       uint32_t quote_len)
{
	bool v4 = family == AF_INET;
	uint32_t ih = v4 ? 20 : 40, n = ih + 8 + quote_len;
	uint8_t *icmp = out + ih;

	memset(out, 0, ih + 8);
	if (v4) {
		out[0] = 0x45;
		put16(out + 2, (uint16_t)n);
		put16(out + 6, 0x4000);
		out[8] = 20;
		out[9] = 1;
		memcpy(out + 12, proxy->addr, 4);
		memcpy(out + 16, client->addr, 4);
	} else {
		out[0] = 0x60;
		put16(out + 4, (uint16_t)(n - 40));
		out[6] = 58;
		out[7] = 20;
		memcpy(out + 8, proxy->addr, 16);
		memcpy(out + 24, client->addr, 16);
	}
	icmp[0] = type;
	icmp[1] = code;
	icmp[4] = (uint8_t)(rest >> 24);
	icmp[5] = (uint8_t)(rest >> 16);
	icmp[6] = (uint8_t)(rest >> 8);
	icmp[7] = (uint8_t)rest;
	memcpy(icmp + 8, client_pkt, quote_len);
	if (v4) {
		icmp[8 + 8]--;   /* the quoted TTL, and its header checksum */
		put16(icmp + 8 + 10, 0);
		put16(icmp + 8 + 10, (uint16_t)~tpkt_fold(tpkt_sum(0, icmp + 8, 20)));
	} else {
		icmp[8 + 7]--;
	}
	/* The checksums by hand, not by tpkt_fix_checksums. */
	if (v4) {
		put16(out + 10, (uint16_t)~tpkt_fold(tpkt_sum(0, out, 20)));
		put16(icmp + 2, (uint16_t)~tpkt_fold(tpkt_sum(0, icmp, 8 + quote_len)));
	} else {
		uint32_t l = 8 + quote_len;
		uint32_t s = tpkt_sum(0, out + 8, 32) + (l >> 16) + (l & 0xffff) + 58;

		put16(icmp + 2, (uint16_t)~tpkt_fold(tpkt_sum(s, icmp, l)));
	}
	return n;
}
