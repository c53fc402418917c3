// SPDX-License-Identifier: MIT
/*
 * Test-only packet factory (see tcpgen.h): the reference the GSO and GRO results are
 * compared with, written without any code from kni/.
 */
#include "tcpgen.h"

#include <string.h>

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

uint32_t tg_sum(uint32_t sum, const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i += 2) {
		uint32_t w = (uint32_t)p[i] << 8;
		if (i + 1 < len)
			w |= p[i + 1];
		sum += w;
		if (sum > 0xffff)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

uint16_t tg_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static bool is_v6(const uint8_t *ip) { return (ip[0] >> 4) == 6; }
static unsigned ip_hl(const uint8_t *ip) { return is_v6(ip) ? 40 : (ip[0] & 0x0fu) * 4; }

uint32_t tg_pseudo(const uint8_t *ip, uint32_t l4len)
{
	uint32_t sum;

	if (is_v6(ip))
		sum = tg_sum(tg_sum(0, ip + 8, 16), ip + 24, 16) + ip[6];
	else
		sum = tg_sum(tg_sum(0, ip + 12, 4), ip + 16, 4) + ip[9];
	return sum + (l4len >> 16) + (l4len & 0xffff);
}

uint8_t tg_payload_at(uint32_t seq) { return (uint8_t)(seq * 131u + (seq >> 9)); }

void tg_flow_init(struct tg_flow *f, bool v6, unsigned index, bool timestamps)
{
	static const uint8_t s6[16] = { 0xfd, 0, 0x20, 0x21, 0x11, 0x11, [15] = 2 };
	static const uint8_t d6[16] = { 0xfd, 0, 0x20, 0x21, 0x11, 0x11, [15] = 1 };
	static const uint8_t s4[4] = { 100, 64, 0, 2 }, d4[4] = { 100, 64, 0, 1 };

	memset(f, 0, sizeof(*f));
	f->v6 = v6;
	memcpy(f->src, v6 ? s6 : s4, v6 ? 16 : 4);
	memcpy(f->dst, v6 ? d6 : d4, v6 ? 16 : 4);
	f->sport = (uint16_t)(40000 + index);
	f->dport = 443;
	f->ack = 0x01020304u + index;
	f->window = 502;
	f->ttl = 63;
	f->tos = 0;
	f->df = true;
	f->flow_label = v6 ? 0x12345 : 0;
	if (timestamps) {
		const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0x10, 0, 0, 0, 0x20, (uint8_t)index };
		memcpy(f->opt, ts, sizeof(ts));
		f->opt_len = sizeof(ts);
	}
}

/* IP header for an L4 part of l4len bytes; returns its length. */
static unsigned ip_header(uint8_t *b, const struct tg_flow *f, uint8_t proto, uint16_t id,
			  uint32_t l4len)
{
	if (f->v6) {
		memset(b, 0, 40);
		put32(b, 6u << 28 | (uint32_t)f->tos << 20 | (f->flow_label & 0xfffff));
		put16(b + 4, l4len);
		b[6] = proto;
		b[7] = f->ttl;
		memcpy(b + 8, f->src, 16);
		memcpy(b + 24, f->dst, 16);
		return 40;
	}
	unsigned hl = 20 + f->ip_opt_len;
	memset(b, 0, hl);
	b[0] = (uint8_t)(0x40 | hl / 4);
	b[1] = f->tos;
	put16(b + 2, hl + l4len);
	put16(b + 4, id);
	b[6] = f->df ? 0x40 : 0;
	b[8] = f->ttl;
	b[9] = proto;
	memcpy(b + 12, f->src, 4);
	memcpy(b + 16, f->dst, 4);
	for (unsigned i = 20; i + 1 < hl; i++)
		b[i] = 1;  /* NOP ... EOL */
	put16(b + 10, (uint16_t)~tg_fold(tg_sum(0, b, hl)));
	return hl;
}

uint32_t tg_tcp(uint8_t *b, const struct tg_flow *f, uint32_t seq, uint8_t flags,
		uint16_t ip_id, uint32_t plen)
{
	unsigned thl = 20u + f->opt_len;
	unsigned hl = ip_header(b, f, 6, ip_id, thl + plen);
	uint8_t *t = b + hl;

	memset(t, 0, thl);
	put16(t, f->sport);
	put16(t + 2, f->dport);
	put32(t + 4, seq);
	put32(t + 8, f->ack);
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = flags;
	put16(t + 14, f->window);
	memcpy(t + 20, f->opt, f->opt_len);
	for (uint32_t i = 0; i < plen; i++)
		t[thl + i] = tg_payload_at(seq + i);
	put16(t + 16, (uint16_t)~tg_fold(tg_sum(tg_pseudo(b, thl + plen), t, thl + plen)));
	return hl + thl + plen;
}

uint32_t tg_udp(uint8_t *b, const struct tg_flow *f, uint16_t ip_id, uint32_t plen,
		uint8_t seed)
{
	unsigned hl = ip_header(b, f, 17, ip_id, 8 + plen);
	uint8_t *u = b + hl;

	put16(u, f->sport);
	put16(u + 2, f->dport);
	put16(u + 4, 8 + plen);
	put16(u + 6, 0);
	for (uint32_t i = 0; i < plen; i++)
		u[8 + i] = (uint8_t)(seed + i * 7);
	uint16_t c = (uint16_t)~tg_fold(tg_sum(tg_pseudo(b, 8 + plen), u, 8 + plen));
	put16(u + 6, c ? c : 0xffff);
	return hl + 8 + plen;
}

void tg_vnet(uint8_t *b, uint8_t flags, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
	     uint16_t csum_start, uint16_t csum_offset)
{
	const uint16_t v[4] = { hdr_len, gso_size, csum_start, csum_offset };

	b[0] = flags;
	b[1] = gso_type;
	for (unsigned i = 0; i < 4; i++) {
		b[2 + 2 * i] = (uint8_t)v[i];
		b[3 + 2 * i] = (uint8_t)(v[i] >> 8);
	}
}

bool tg_valid(const uint8_t *ip, uint32_t len)
{
	if (len < 20)
		return false;
	unsigned hl = ip_hl(ip);
	uint32_t iplen = is_v6(ip) ? 40u + (uint32_t)(ip[4] << 8 | ip[5]) : (uint32_t)(ip[2] << 8 | ip[3]);
	uint8_t proto = is_v6(ip) ? ip[6] : ip[9];

	if (iplen != len || hl > len)
		return false;
	if (!is_v6(ip) && tg_fold(tg_sum(0, ip, hl)) != 0xffff)
		return false;
	if (proto == 17 && (uint32_t)(ip[hl + 4] << 8 | ip[hl + 5]) != len - hl)
		return false;
	return tg_fold(tg_sum(tg_pseudo(ip, len - hl), ip + hl, len - hl)) == 0xffff;
}
