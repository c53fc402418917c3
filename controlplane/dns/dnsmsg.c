// SPDX-License-Identifier: MIT
/*
 * DNS message checks for the forwarder (see dnsmsg.h). The rules are those of the domain
 * crate under Rust's dns-types: a name is labels of at most 63 bytes, at most 255 bytes in
 * all, and a compression pointer must point before itself (so every chain ends); label
 * types 0x40 and 0x80 are refused. Every read is bounds-checked against len; nothing
 * allocates. Pure functions, any thread.
 */
#include "dnsmsg.h"

#include <errno.h>
#include <string.h>

enum {
	T_A = 1,
	T_NS = 2,
	T_CNAME = 5,
	T_SOA = 6,
	T_PTR = 12,
	T_MX = 15,
	T_TXT = 16,
	T_AAAA = 28,
	T_SRV = 33,
	T_DNAME = 39,
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int bad(const char **why, const char *what)
{
	if (why)
		*why = what;
	return -EBADMSG;
}

/* The name at *pos: *pos moves past it as it appears there (up to its first pointer).
 * flat (FG_DNSMSG_MAX_NAME bytes) receives it uncompressed when not NULL. */
static int name_parse(const uint8_t *m, size_t len, size_t *pos, uint8_t *flat, uint16_t *flat_len, const char **why)
{
	size_t p = *pos, end = 0;
	unsigned n = 0;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return bad(why, "name runs past the end");
		l = m[p];
		if (l == 0) {
			if (flat)
				flat[n] = 0;
			n++;
			if (!jumped)
				end = p + 1;
			break;
		}
		if (l <= 63) {
			if ((size_t)l + 1 > len - p)
				return bad(why, "label runs past the end");
			if (n + 1 + l >= FG_DNSMSG_MAX_NAME)
				return bad(why, "name longer than 255 bytes");
			if (flat)
				memcpy(flat + n, m + p, 1u + l);
			n += 1u + l;
			p += 1u + l;
			continue;
		}
		if ((l & 0xc0) != 0xc0)
			return bad(why, "label type 0x40 or 0x80");
		if (len - p < 2)
			return bad(why, "compression pointer runs past the end");
		size_t ptr = (size_t)(l & 0x3f) << 8 | m[p + 1];

		/* strictly before the pointer itself: chains of pointers shrink, labels grow n */
		if (ptr >= p)
			return bad(why, "compression pointer not backwards");
		if (!jumped)
			end = p + 2;
		jumped = true;
		p = ptr;
	}
	*pos = end;
	if (flat_len)
		*flat_len = (uint16_t)n;
	return 0;
}

/* A name inside record data ending at end; *p moves past it. */
static int rdata_name(const uint8_t *m, size_t *p, size_t end, const char **why)
{
	if (name_parse(m, end, p, NULL, NULL, why) < 0)
		return -EBADMSG;
	return 0;
}

/* The record data of the types the domain crate parses into fields, checked as it does;
 * other types are opaque. */
static int rdata_check(const uint8_t *m, size_t p, size_t end, uint16_t type, const char **why)
{
	size_t n = end - p;

	switch (type) {
	case T_A:
		return n == 4 ? 0 : bad(why, "A record data not 4 bytes");
	case T_AAAA:
		return n == 16 ? 0 : bad(why, "AAAA record data not 16 bytes");
	case T_NS:
	case T_CNAME:
	case T_PTR:
	case T_DNAME:
		break;
	case T_MX:
		if (n < 2)
			return bad(why, "MX record data too short");
		p += 2;
		break;
	case T_SRV:
		if (n < 6)
			return bad(why, "SRV record data too short");
		p += 6;
		break;
	case T_SOA:
		if (rdata_name(m, &p, end, why) < 0 || rdata_name(m, &p, end, why) < 0)
			return -EBADMSG;
		return end - p == 20 ? 0 : bad(why, "SOA record data not two names and 20 bytes");
	case T_TXT:
		while (p < end)
			p += 1u + m[p];
		return p == end ? 0 : bad(why, "TXT character string runs past its record");
	default:
		return 0;
	}
	if (rdata_name(m, &p, end, why) < 0)
		return -EBADMSG;
	return p == end ? 0 : bad(why, "bytes after the name in record data");
}

static int record_parse(const uint8_t *m, size_t len, size_t *pos, const char **why)
{
	size_t p = *pos;
	uint16_t type, rdlen;

	if (name_parse(m, len, &p, NULL, NULL, why) < 0)
		return -EBADMSG;
	if (len - p < 10)
		return bad(why, "record header runs past the end");
	type = get16(m + p);
	rdlen = get16(m + p + 8);
	p += 10;
	if (rdlen > len - p)
		return bad(why, "record data runs past the end");
	if (rdata_check(m, p, p + rdlen, type, why) < 0)
		return -EBADMSG;
	*pos = p + rdlen;
	return 0;
}

int fg_dnsmsg_parse(const uint8_t *msg, size_t len, bool response, struct fg_dnsmsg *out, const char **why)
{
	size_t pos = FG_DNSMSG_HEADER_LEN;
	uint16_t qd, an;

	memset(out, 0, sizeof(*out));
	if (!msg || len < FG_DNSMSG_HEADER_LEN)
		return bad(why, "shorter than a header");
	out->id = get16(msg);
	out->qr = (msg[2] & 0x80) != 0;
	out->opcode = (uint8_t)((msg[2] >> 3) & 0x0f);
	out->tc = (msg[2] & 0x02) != 0;
	out->rd = (msg[2] & 0x01) != 0;
	out->rcode = msg[3] & 0x0f;
	if (out->qr != response)
		return bad(why, response ? "not a response (QR clear)" : "not a query (QR set)");
	qd = get16(msg + 4);
	an = get16(msg + 6);
	if (qd != 1)
		return bad(why, qd ? "more than one question" : "no question");
	if (name_parse(msg, len, &pos, out->qname, &out->qname_len, why) < 0)
		return -EBADMSG;
	if (len - pos < 4)
		return bad(why, "question runs past the end");
	out->qtype = get16(msg + pos);
	out->qclass = get16(msg + pos + 2);
	pos += 4;
	out->question_end = pos;
	for (unsigned i = 0; i < an; i++)
		if (record_parse(msg, len, &pos, why) < 0)
			return -EBADMSG;
	return 0;
}

size_t fg_dnsmsg_servfail(const struct fg_dnsmsg *q, uint8_t *out, size_t cap)
{
	size_t n = FG_DNSMSG_HEADER_LEN + (size_t)q->qname_len + 4;

	if (!q->qname_len || q->qname_len > FG_DNSMSG_MAX_NAME || cap < n)
		return 0;
	memset(out, 0, FG_DNSMSG_HEADER_LEN);
	put16(out, q->id);
	out[2] = (uint8_t)(0x80 | (q->opcode & 0x0f) << 3 | (q->rd ? 0x01 : 0));
	out[3] = FG_DNSMSG_RCODE_SERVFAIL;
	put16(out + 4, 1);
	memcpy(out + FG_DNSMSG_HEADER_LEN, q->qname, q->qname_len);
	put16(out + FG_DNSMSG_HEADER_LEN + q->qname_len, q->qtype);
	put16(out + FG_DNSMSG_HEADER_LEN + q->qname_len + 2, q->qclass);
	return n;
}

size_t fg_dnsmsg_truncate(uint8_t *msg, size_t len, const struct fg_dnsmsg *a, size_t max)
{
	if (len <= max || a->question_end < FG_DNSMSG_HEADER_LEN || a->question_end > len)
		return len;
	msg[2] |= 0x02;
	put16(msg + 4, 1);
	memset(msg + 6, 0, 6);
	return a->question_end;
}

size_t fg_dnsmsg_probe(uint16_t id, uint8_t out[FG_DNSMSG_PROBE_LEN])
{
	static const uint8_t name[14] = { 8, 'f', 'i', 'r', 'e', 'z', 'o', 'n', 'e', 3, 'd', 'e', 'v', 0 };

	memset(out, 0, FG_DNSMSG_HEADER_LEN);
	put16(out, id);
	out[2] = 0x01;   /* RD, as Query::new */
	put16(out + 4, 1);
	memcpy(out + FG_DNSMSG_HEADER_LEN, name, sizeof(name));
	put16(out + FG_DNSMSG_HEADER_LEN + sizeof(name), T_A);
	put16(out + FG_DNSMSG_HEADER_LEN + sizeof(name) + 2, 1);
	return FG_DNSMSG_PROBE_LEN;
}
