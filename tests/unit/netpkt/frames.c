/* SPDX-License-Identifier: MIT */
/*
 * Test frame builders and the naive checksum reference for the netpkt suites. Every header
 * is laid down byte by byte at explicit offsets, and every checksum is summed as big-endian
 * words one at a time, so nothing is shared with dataplane/worker/netpkt.c (which uses DPDK's
 * structs and native-order sums). Test thread only.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/CUnit.h>

#include "frames.h"

const uint8_t tf_us_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t tf_peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
const uint8_t tf_bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
const uint8_t tf_us_ip4[4] = { 192, 0, 2, 1 };
const uint8_t tf_peer_ip4[4] = { 198, 51, 100, 7 };
const uint8_t tf_us_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0x01 };
const uint8_t tf_peer_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x07 };

void tf_local(struct fg_netpkt_local *l)
{
	memset(l, 0, sizeof(*l));
	memcpy(&l->mac, tf_us_mac, 6);
	memcpy(&l->ip4, tf_us_ip4, 4);
	memcpy(l->ip6, tf_us_ip6, 16);
	l->has_ip6 = true;
	l->listen_port = TF_US_PORT;
}

void tf_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void tf_put32(uint8_t *p, uint32_t v)
{
	tf_put16(p, (uint16_t)(v >> 16));
	tf_put16(p + 2, (uint16_t)v);
}

uint16_t tf_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint16_t tf_sum(const uint8_t *p, size_t n, uint32_t init)
{
	uint64_t s = init;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Pseudo-header sum, or 0 for ICMPv4 (which has none). */
static uint32_t pseudo(const uint8_t *frame, uint32_t l3, bool v6, uint8_t proto, uint32_t l4len)
{
	if (proto == 1)
		return 0;
	if (v6)
		return tf_sum(frame + l3 + 8, 32, 0) + proto + l4len;
	return tf_sum(frame + l3 + 12, 8, 0) + proto + l4len;
}

/* Offsets and lengths of the transport part, from the headers, clipped to the frame. */
static bool l4_span(const uint8_t *frame, uint32_t len, uint32_t *l4, uint32_t *l4len,
		    uint8_t *proto, bool *v6)
{
	uint16_t type;

	if (len < TF_ETH)
		return false;
	type = tf_get16(frame + 12);
	if (type == 0x0800 && len >= TF_ETH + TF_IP4) {
		uint32_t hlen = (frame[TF_ETH] & 0xf) * 4u, tlen = tf_get16(frame + TF_ETH + 2);

		if (tlen > len - TF_ETH)
			tlen = len - TF_ETH;
		if (hlen > tlen)
			return false;
		*l4 = TF_ETH + hlen;
		*l4len = tlen - hlen;
		*proto = frame[TF_ETH + 9];
		*v6 = false;
		return true;
	}
	if (type == 0x86dd && len >= TF_ETH + TF_IP6) {
		uint32_t plen = tf_get16(frame + TF_ETH + 4);

		if (plen > len - TF_ETH - TF_IP6)
			plen = len - TF_ETH - TF_IP6;
		*l4 = TF_ETH + TF_IP6;
		*l4len = plen;
		*proto = frame[TF_ETH + 6];
		*v6 = true;
		return true;
	}
	return false;
}

static uint32_t csum_field(uint8_t proto)
{
	return proto == 17 ? 6 : 2;
}

uint16_t tf_l4_csum(const struct tf *f)
{
	uint8_t tmp[TF_MAX];
	uint32_t l4, l4len, at;
	uint8_t proto;
	uint16_t c;
	bool v6;

	if (!l4_span(f->b, f->len, &l4, &l4len, &proto, &v6))
		return 0;
	at = csum_field(proto);
	if (l4len < at + 2)
		return 0;
	memcpy(tmp, f->b + l4, l4len);
	tmp[at] = tmp[at + 1] = 0;
	c = (uint16_t)~tf_sum(tmp, l4len, pseudo(f->b, TF_ETH, v6, proto, l4len));
	return (proto == 17 && c == 0) ? 0xffff : c; /* RFC 768: zero means "none" */
}

bool tf_csums_ok(const uint8_t *frame, uint32_t len)
{
	uint32_t l4, l4len;
	uint8_t proto;
	bool v6;

	if (!l4_span(frame, len, &l4, &l4len, &proto, &v6))
		return false;
	if (!v6 && tf_sum(frame + TF_ETH, (frame[TF_ETH] & 0xf) * 4u, 0) != 0xffff)
		return false;
	if (!v6 && proto == 17 && tf_get16(frame + l4 + 6) == 0)
		return true;
	return tf_sum(frame + l4, l4len, pseudo(frame, TF_ETH, v6, proto, l4len)) == 0xffff;
}

void tf_fix(struct tf *f)
{
	uint32_t l4, l4len;
	uint8_t proto;
	bool v6;

	if (!l4_span(f->b, f->len, &l4, &l4len, &proto, &v6))
		return;
	if (!v6) {
		uint32_t hlen = (f->b[TF_ETH] & 0xf) * 4u;

		if (hlen <= f->len - TF_ETH) {
			tf_put16(f->b + TF_ETH + 10, 0);
			tf_put16(f->b + TF_ETH + 10, (uint16_t)~tf_sum(f->b + TF_ETH, hlen, 0));
		}
	}
	if (l4len >= csum_field(proto) + 2)
		tf_put16(f->b + l4 + csum_field(proto), tf_l4_csum(f));
}

static void eth(struct tf *f, const uint8_t dst[6], uint16_t type)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, tf_peer_mac, 6);
	tf_put16(f->b + 12, type);
	f->l3 = TF_ETH;
}

static void ip4(struct tf *f, uint8_t proto, uint32_t l4len)
{
	uint8_t *h = f->b + TF_ETH;

	h[0] = 0x45;
	tf_put16(h + 2, (uint16_t)(TF_IP4 + l4len));
	tf_put16(h + 4, 0x1234);
	h[8] = 57;
	h[9] = proto;
	memcpy(h + 12, tf_peer_ip4, 4);
	memcpy(h + 16, tf_us_ip4, 4);
	f->l4 = TF_ETH + TF_IP4;
	f->len = f->l4 + l4len;
}

static void ip6(struct tf *f, const uint8_t dst[16], uint8_t proto, uint8_t hop, uint32_t l4len)
{
	uint8_t *h = f->b + TF_ETH;

	h[0] = 0x60;
	tf_put16(h + 4, (uint16_t)l4len);
	h[6] = proto;
	h[7] = hop;
	memcpy(h + 8, tf_peer_ip6, 16);
	memcpy(h + 24, dst, 16);
	f->l4 = TF_ETH + TF_IP6;
	f->len = f->l4 + l4len;
}

static void udp(struct tf *f, const uint8_t *body, uint32_t blen)
{
	uint8_t *u = f->b + f->l4;

	tf_put16(u, TF_PEER_PORT);
	tf_put16(u + 2, TF_US_PORT);
	tf_put16(u + 4, (uint16_t)(TF_UDP + blen));
	if (body)
		memcpy(u + TF_UDP, body, blen);
}

void tf_udp4(struct tf *f, const uint8_t *body, uint32_t blen)
{
	eth(f, tf_us_mac, 0x0800);
	ip4(f, 17, TF_UDP + blen);
	udp(f, body, blen);
	tf_fix(f);
}

void tf_udp6(struct tf *f, const uint8_t *body, uint32_t blen)
{
	eth(f, tf_us_mac, 0x86dd);
	ip6(f, tf_us_ip6, 17, 61, TF_UDP + blen);
	udp(f, body, blen);
	tf_fix(f);
}

/* Echo body: identifier, sequence, then a counting pattern. */
static void echo_body(uint8_t *p, uint32_t blen)
{
	tf_put16(p, 0x4242);
	tf_put16(p + 2, 7);
	for (uint32_t i = 4; i < blen; i++)
		p[i] = (uint8_t)(i * 7);
}

void tf_echo4(struct tf *f, uint32_t blen)
{
	eth(f, tf_us_mac, 0x0800);
	ip4(f, 1, 4 + blen);
	f->b[f->l4] = 8;
	echo_body(f->b + f->l4 + 4, blen);
	tf_fix(f);
}

void tf_icmp6(struct tf *f, const uint8_t dst_mac[6], const uint8_t dst_ip[16], uint8_t hop,
	      uint8_t type, uint8_t code, const uint8_t *body, uint32_t blen)
{
	eth(f, dst_mac, 0x86dd);
	ip6(f, dst_ip, 58, hop, 4 + blen);
	f->b[f->l4] = type;
	f->b[f->l4 + 1] = code;
	if (body)
		memcpy(f->b + f->l4 + 4, body, blen);
	tf_fix(f);
}

void tf_echo6(struct tf *f, uint32_t blen)
{
	uint8_t body[TF_MAX];

	echo_body(body, blen);
	tf_icmp6(f, tf_us_mac, tf_us_ip6, 64, 128, 0, body, blen);
}

void tf_ns(struct tf *f, const uint8_t target[16], bool with_lladdr)
{
	uint8_t body[28] = { 0 };
	uint8_t group[16] = { 0xff, 0x02, [11] = 0x01, [12] = 0xff };
	uint8_t mac[6] = { 0x33, 0x33, 0xff };

	memcpy(group + 13, target + 13, 3);
	memcpy(mac + 3, target + 13, 3);
	memcpy(body + 4, target, 16);
	body[20] = 1;
	body[21] = 1;
	memcpy(body + 22, tf_peer_mac, 6);
	tf_icmp6(f, mac, group, 255, 135, 0, body, with_lladdr ? 28 : 20);
}

void tf_arp(struct tf *f, const uint8_t dst_mac[6], uint16_t op, uint32_t tip_be)
{
	uint8_t *a;

	eth(f, dst_mac, 0x0806);
	a = f->b + TF_ETH;
	tf_put16(a, 1);
	tf_put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	tf_put16(a + 6, op);
	memcpy(a + 8, tf_peer_mac, 6);
	memcpy(a + 14, tf_peer_ip4, 4);
	if (op == 2)
		memcpy(a + 18, tf_us_mac, 6);
	memcpy(a + 24, &tip_be, 4);
	f->l4 = TF_ETH;
	f->len = TF_ETH + 28;
}

uint8_t *tf_tail(const uint8_t *src, uint32_t len)
{
	uint8_t *p = malloc(len); /* malloc(0) too: then any read at all is caught */

	CU_ASSERT_FATAL(p != NULL);
	memcpy(p, src, len);
	return p;
}
