/* SPDX-License-Identifier: MIT */
/*
 * The packet builder and checksum helpers behind the policy and icmpgen suites: explicit
 * offsets, byte-wise big-endian arithmetic and text addresses, written without looking at
 * the code under test. Test thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/CUnit.h>

#include "pkts.h"

uint16_t tp_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void tp_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

uint16_t tp_sum(const uint8_t *p, size_t n, uint32_t init)
{
	uint64_t s = init;

	for (size_t i = 0; i < n; i++)
		s += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

bool tp_ip4_csum_ok(const uint8_t *ip)
{
	return tp_sum(ip, (size_t)(ip[0] & 15) * 4, 0) == 0xffff;
}

/* The pseudo-header sum of an IPv6 packet for an upper layer of l4len bytes. */
static uint32_t pseudo6(const uint8_t *ip, uint32_t l4len, uint8_t nh)
{
	return tp_sum(ip + 8, 32, 0) + (l4len >> 16) + (l4len & 0xffff) + nh;
}

static uint32_t pseudo4(const uint8_t *ip, uint32_t l4len, uint8_t proto)
{
	return tp_sum(ip + 12, 8, 0) + l4len + proto;
}

bool tp_icmp_csum_ok(const uint8_t *ip, uint32_t len)
{
	if (ip[0] >> 4 == 4) {
		uint32_t h = (ip[0] & 15u) * 4;

		return tp_sum(ip + h, len - h, 0) == 0xffff;
	}
	return tp_sum(ip + 40, len - 40, pseudo6(ip, len - 40, 58)) == 0xffff;
}

struct fg_ip tp_ip(const char *s)
{
	struct fg_ip ip;

	memset(&ip, 0, sizeof(ip));
	if (fg_ip_parse(s, &ip) != 0) {
		fprintf(stderr, "bad address in a test: %s\n", s);
		abort();
	}
	return ip;
}

uint8_t *tp_tail(const uint8_t *src, uint32_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	if (!b)
		abort();
	if (len)
		memcpy(b, src, len);
	return b;
}

/* Writes the L4 header (without checksum) and payload at l4; returns its full length. */
static uint32_t put_l4(uint8_t *l4, const struct tp_spec *s, uint8_t proto, bool v6)
{
	uint32_t h = 0;

	if (proto == 6) {
		h = 20;
		memset(l4, 0, h);
		tp_put16(l4, s->sport);
		tp_put16(l4 + 2, s->dport);
		l4[4] = 0x11;            /* sequence */
		l4[12] = 5 << 4;         /* data offset */
		l4[13] = 0x02;           /* SYN */
		tp_put16(l4 + 14, 64240);
	} else if (proto == 17) {
		h = 8;
		tp_put16(l4, s->sport);
		tp_put16(l4 + 2, s->dport);
		tp_put16(l4 + 4, (uint16_t)(8 + s->payload));
		tp_put16(l4 + 6, 0);
	} else if ((proto == 1 && !v6) || (proto == 58 && v6)) {
		h = 8;
		memset(l4, 0, h);
		l4[0] = s->icmp_type;
		l4[1] = s->icmp_code;
		tp_put16(l4 + 4, 0x4242);   /* identifier */
		tp_put16(l4 + 6, 7);        /* sequence */
	}
	for (uint32_t i = 0; i < s->payload; i++)
		l4[h + i] = (uint8_t)(0xa0 + i);
	return h + s->payload;
}

/* Sets the transport checksum once the IP header is in place. */
static void l4_csum(uint8_t *ip, uint8_t *l4, uint32_t l4len, uint8_t proto, bool v6)
{
	uint32_t init = 0;
	unsigned at;

	if (proto == 6)
		at = 16;
	else if (proto == 17)
		at = 6;
	else if ((proto == 1 && !v6) || (proto == 58 && v6))
		at = 2;
	else
		return;
	if (l4len < at + 2)
		return;
	tp_put16(l4 + at, 0);
	if (proto != 1)
		init = v6 ? pseudo6(ip, l4len, proto) : pseudo4(ip, l4len, proto);
	tp_put16(l4 + at, (uint16_t)~tp_sum(l4, l4len, init));
}

uint32_t tp_build(uint8_t *out, const struct tp_spec *s)
{
	struct fg_ip src = tp_ip(s->src), dst = tp_ip(s->dst);
	bool v6 = src.family == AF_INET6;
	uint8_t proto = s->proto == TP_ICMP ? (v6 ? 58 : 1) : (uint8_t)s->proto;
	uint32_t hlen, l4len, len;

	memset(out, 0, TP_MAX);
	if (!v6) {
		hlen = 20 + s->ip4_opts;
		l4len = put_l4(out + hlen, s, proto, false);
		l4len = s->l4_cut < l4len ? l4len - s->l4_cut : 0;
		len = hlen + l4len;
		out[0] = (uint8_t)(0x40 | hlen / 4);
		tp_put16(out + 2, (uint16_t)len);
		tp_put16(out + 4, 0x1234);
		tp_put16(out + 6, (uint16_t)((s->more_frags ? 0x2000 : 0) | (s->frag_off & 0x1fff)));
		out[8] = 64;
		out[9] = proto;
		memcpy(out + 12, src.addr, 4);
		memcpy(out + 16, dst.addr, 4);
		for (uint32_t i = 20; i < hlen; i++)
			out[i] = i + 1 < hlen ? 1 : 0;   /* NOPs, then end of options */
		tp_put16(out + 10, (uint16_t)~tp_sum(out, hlen, 0));
		if (!s->frag_off && !s->more_frags)
			l4_csum(out, out + hlen, l4len, proto, false);
	} else {
		uint8_t *nh = out + 6;

		hlen = 40;
		out[0] = 0x60;
		out[7] = 64;
		memcpy(out + 8, src.addr, 16);
		memcpy(out + 24, dst.addr, 16);
		for (unsigned i = 0; i < s->ext6; i++) {
			*nh = 60;                 /* destination options: PadN over 6 bytes */
			nh = out + hlen;
			out[hlen + 1] = 0;
			out[hlen + 2] = 1;
			out[hlen + 3] = 4;
			hlen += 8;
		}
		if (s->ah6) {
			*nh = 51;                 /* AH: length in 4-byte units minus 2 */
			nh = out + hlen;
			out[hlen + 1] = 24 / 4 - 2;
			memset(out + hlen + 4, 0x5a, 20);   /* SPI, sequence, ICV */
			hlen += 24;
		}
		if (s->frag_off || s->more_frags || s->frag6) {
			*nh = 44;
			nh = out + hlen;
			tp_put16(out + hlen + 2, (uint16_t)(s->frag_off << 3 | (s->more_frags ? 1 : 0)));
			out[hlen + 4] = 0xab;     /* identification */
			hlen += 8;
		}
		*nh = proto;
		l4len = put_l4(out + hlen, s, proto, true);
		l4len = s->l4_cut < l4len ? l4len - s->l4_cut : 0;
		len = hlen + l4len;
		tp_put16(out + 4, (uint16_t)(len - 40));
		if (!s->frag_off && !s->more_frags)
			l4_csum(out, out + hlen, l4len, proto, true);
	}
	return len + s->pad;
}

static void parse_filter(struct fg_ctl_filter *f, const char *t)
{
	unsigned lo = 0, hi = 0;
	int n;

	memset(f, 0, sizeof(*f));
	if (strcmp(t, "icmp") == 0) {
		f->proto = FG_CTL_FILTER_ICMP;
		return;
	}
	if (sscanf(t, "proto:%u", &lo) == 1) {
		f->proto = (uint8_t)lo;
		f->port_lo = 0;
		f->port_hi = 65535;
		return;
	}
	if (strncmp(t, "tcp:", 4) == 0)
		f->proto = FG_CTL_FILTER_TCP;
	else if (strncmp(t, "udp:", 4) == 0)
		f->proto = FG_CTL_FILTER_UDP;
	else
		abort();
	n = sscanf(t + 4, "%u-%u", &lo, &hi);
	if (n == 1)
		hi = lo;
	else if (n != 2)
		abort();
	f->port_lo = (uint16_t)lo;
	f->port_hi = (uint16_t)hi;
}

struct fg_ctl_filter *tp_filters(unsigned n)
{
	static struct fg_ctl_filter pool[1 << 20];
	static size_t used;

	if (n > sizeof(pool) / sizeof(pool[0]) - used)
		abort();
	used += n;
	return pool + used - n;
}

void tp_resource(struct fg_policy_resource *r, const char *id, const char *what,
		 uint64_t expires_at, const char *const *filters)
{
	unsigned nf = 0;

	memset(r, 0, sizeof(*r));
	for (const char *const *f = filters; f && *f; f++)
		nf++;
	r->filters = tp_filters(nf);
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->expires_at = expires_at;
	if (strcmp(what, "internet") == 0) {
		r->type = FG_CTL_RES_INTERNET;
	} else {
		r->type = FG_CTL_RES_CIDR;
		if (fg_prefix_parse_host(what, &r->prefix) != 0)
			abort();
	}
	for (; filters && *filters; filters++)
		parse_filter(&r->filters[r->n_filters++], *filters);
}
