/* SPDX-License-Identifier: MIT */
/*
 * The SDP candidate line (RFC 8839 §5.1): a strict parser for what the portal relays from a
 * client, the formatter for what we signal, and the priority and foundation rules of RFC
 * 8445 §5.1. No state; any thread (the ICE agent calls it on the control plane's thread).
 */
#include "ice_cand.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum {
	MAX_TOKENS = 64,             /* a 255-byte line has at most 128; more is not a candidate */
	PRIORITY_DIGITS = 10,
	PORT_DIGITS = 5,
	COMPONENT_DIGITS = 3,
	ERR_QUOTE = 48,              /* bytes of the offending text quoted in an error */
};

static int fail(char *err, size_t errlen, const char *what, const char *text)
{
	if (err && errlen)
		snprintf(err, errlen, "%s \"%.*s\"", what, ERR_QUOTE, text ? text : "");
	return -EINVAL;
}

bool fg_ice_chars(const char *s, size_t min, size_t max)
{
	size_t n = 0;

	for (; s[n]; n++) {
		char ch = s[n];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '+' || ch == '/'))
			return false;
	}
	return n >= min && n <= max;
}

/* Decimal digits only, 1..digits of them, at most max. Leading zeros are accepted. */
static bool number(const char *s, size_t digits, uint64_t max, uint64_t *v)
{
	size_t n = strlen(s);

	*v = 0;
	if (n == 0 || n > digits)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return *v <= max;
}

static bool unicast(const struct fg_ip *ip)
{
	static const uint8_t zero[16];
	const uint8_t *a = ip->addr;

	if (!memcmp(a, zero, fg_ip_len(ip->family)))
		return false;
	if (ip->family == AF_INET)
		return (a[0] & 0xf0) != 0xe0 && !(a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
	return a[0] != 0xff;
}

/* Printable ASCII separated by single spaces, no space at either end. */
static bool clean_line(const char *s, size_t len)
{
	if (!len || s[0] == ' ' || s[len - 1] == ' ')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch > 0x7e || (ch == ' ' && s[i + 1] == ' '))
			return false;
	}
	return true;
}

static int split(char *buf, char **tok)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		if (n == MAX_TOKENS)
			return -1;
		tok[n++] = t;
	}
	return n;
}

static int parse_type(const char *s)
{
	static const char *const names[] = { "host", "srflx", "prflx", "relay" };

	for (int i = 0; i < 4; i++)
		if (!strcmp(s, names[i]))
			return FG_ICE_HOST + i;
	return -1;
}

/* [raddr <ip>] [rport <port>] [<name> <value>]... after "typ <type>". */
static int parse_extensions(char **tok, int n, struct fg_ice_cand *c, char *err, size_t errlen)
{
	uint64_t v;

	for (int i = 0; i < n; i += 2) {
		if (i + 1 == n)
			return fail(err, errlen, "candidate: extension without a value:", tok[i]);
		if (!strcmp(tok[i], "raddr")) {
			if (fg_ip_parse(tok[i + 1], &c->raddr.ip))
				return fail(err, errlen, "candidate: raddr is not an IP address:", tok[i + 1]);
		} else if (!strcmp(tok[i], "rport")) {
			if (!number(tok[i + 1], PORT_DIGITS, 65535, &v))
				return fail(err, errlen, "candidate: bad rport", tok[i + 1]);
			c->raddr.port = (uint16_t)v;
		} else if (!strcmp(tok[i], "ufrag")) {
			if (!fg_ice_chars(tok[i + 1], 1, FG_ICE_CAND_UFRAG_MAX))
				return fail(err, errlen, "candidate: bad ufrag", tok[i + 1]);
			strcpy(c->ufrag, tok[i + 1]);
		}
	}
	if (!c->raddr.ip.family)
		c->raddr.port = 0;
	return 0;
}

int fg_ice_cand_parse(const char *line, struct fg_ice_cand *c, char *err, size_t errlen)
{
	char buf[FG_ICE_LINE_MAX], *tok[MAX_TOKENS];
	const char *s = line;
	uint64_t v;
	size_t len;
	int n, type;

	memset(c, 0, sizeof(*c));
	if (err && errlen)
		err[0] = '\0';
	if (!s)
		return fail(err, errlen, "candidate: none given", "");
	if (!strncmp(s, "a=", 2))
		s += 2;
	if (strncmp(s, "candidate:", 10))
		return fail(err, errlen, "candidate: does not start with \"candidate:\":", line);
	s += 10;
	len = strnlen(s, sizeof(buf));
	if (len == sizeof(buf))
		return fail(err, errlen, "candidate: longer than 255 bytes:", line);
	if (!clean_line(s, len))
		return fail(err, errlen, "candidate: not printable ASCII in single spaces:", line);
	memcpy(buf, s, len + 1);
	n = split(buf, tok);
	if (n < 8)
		return fail(err, errlen, n < 0 ? "candidate: too many fields:" : "candidate: too few fields:",
			    line);
	if (!fg_ice_chars(tok[0], 1, FG_ICE_FOUNDATION_MAX))
		return fail(err, errlen, "candidate: bad foundation", tok[0]);
	strcpy(c->foundation, tok[0]);
	if (!number(tok[1], COMPONENT_DIGITS, FG_ICE_COMPONENT_MAX, &v) || !v)
		return fail(err, errlen, "candidate: bad component", tok[1]);
	c->component = (uint16_t)v;
	if (!strcasecmp(tok[2], "udp"))
		c->transport = FG_ICE_UDP;
	else if (!strcasecmp(tok[2], "tcp"))
		c->transport = FG_ICE_TCP;
	else
		return fail(err, errlen, "candidate: unknown transport", tok[2]);
	if (!number(tok[3], PRIORITY_DIGITS, UINT32_MAX, &v))
		return fail(err, errlen, "candidate: bad priority", tok[3]);
	c->priority = (uint32_t)v;
	if (fg_ip_parse(tok[4], &c->addr.ip))
		return fail(err, errlen, "candidate: not an IP address:", tok[4]);
	if (!unicast(&c->addr.ip))
		return fail(err, errlen, "candidate: not a unicast address:", tok[4]);
	if (!number(tok[5], PORT_DIGITS, 65535, &v) || (!v && c->transport == FG_ICE_UDP))
		return fail(err, errlen, "candidate: bad port", tok[5]);
	c->addr.port = (uint16_t)v;
	if (strcmp(tok[6], "typ"))
		return fail(err, errlen, "candidate: expected \"typ\", got", tok[6]);
	type = parse_type(tok[7]);
	if (type < 0)
		return fail(err, errlen, "candidate: unknown type", tok[7]);
	c->type = (uint8_t)type;
	return parse_extensions(tok + 8, n - 8, c, err, errlen);
}

int fg_ice_cand_format(const struct fg_ice_cand *c, char *buf, size_t len)
{
	char ip[FG_ADDR_STRLEN], rip[FG_ADDR_STRLEN];
	int n;

	if (!fg_ice_chars(c->foundation, 1, FG_ICE_FOUNDATION_MAX) || !c->component ||
	    c->component > FG_ICE_COMPONENT_MAX || !fg_ip_len(c->addr.ip.family) ||
	    !unicast(&c->addr.ip) || (c->transport != FG_ICE_UDP && c->transport != FG_ICE_TCP) ||
	    c->type < FG_ICE_HOST || c->type > FG_ICE_RELAY ||
	    (!c->addr.port && c->transport == FG_ICE_UDP))
		return -EINVAL;
	fg_ip_format(&c->addr.ip, ip, sizeof(ip));
	n = snprintf(buf, len, "candidate:%s %u %s %" PRIu32 " %s %u typ %s", c->foundation,
		     c->component, c->transport == FG_ICE_UDP ? "udp" : "tcp", c->priority, ip,
		     c->addr.port, fg_ice_cand_type_name((enum fg_ice_cand_type)c->type));
	if (n >= 0 && (size_t)n < len && c->raddr.ip.family) {
		if (!fg_ip_len(c->raddr.ip.family))
			return -EINVAL;
		fg_ip_format(&c->raddr.ip, rip, sizeof(rip));
		n += snprintf(buf + n, len - (size_t)n, " raddr %s rport %u", rip, c->raddr.port);
	}
	if (n < 0 || (size_t)n >= len || n >= FG_ICE_LINE_MAX)
		return -ENOSPC;
	return n;
}

uint8_t fg_ice_type_pref(enum fg_ice_cand_type type)
{
	switch (type) {
	case FG_ICE_HOST:
		return FG_ICE_PREF_HOST;
	case FG_ICE_PRFLX:
		return FG_ICE_PREF_PRFLX;
	case FG_ICE_SRFLX:
		return FG_ICE_PREF_SRFLX;
	default:
		return FG_ICE_PREF_RELAY;
	}
}

uint32_t fg_ice_priority(enum fg_ice_cand_type type, uint16_t local_pref, uint16_t component)
{
	return ((uint32_t)fg_ice_type_pref(type) << 24) + ((uint32_t)local_pref << 8) +
	       (uint32_t)(256 - (component ? component : 1));
}

uint64_t fg_ice_pair_priority(uint32_t controlling, uint32_t controlled)
{
	uint64_t lo = controlling < controlled ? controlling : controlled;
	uint64_t hi = controlling < controlled ? controlled : controlling;

	return (lo << 32) + 2 * hi + (controlling > controlled ? 1 : 0);
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void fg_ice_foundation(enum fg_ice_cand_type type, const struct fg_ip *base, const char *server,
		       uint8_t transport, char out[FG_ICE_FOUNDATION_MAX + 1])
{
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t t = (uint8_t)type;

	h = fnv1a(h, &t, 1);
	h = fnv1a(h, &base->family, 1);
	h = fnv1a(h, base->addr, fg_ip_len(base->family));
	h = fnv1a(h, server ? server : "", server ? strlen(server) + 1 : 1);
	h = fnv1a(h, &transport, 1);
	snprintf(out, FG_ICE_FOUNDATION_MAX + 1, "%" PRIu64, h);
}

const char *fg_ice_cand_type_name(enum fg_ice_cand_type type)
{
	switch (type) {
	case FG_ICE_HOST:
		return "host";
	case FG_ICE_SRFLX:
		return "srflx";
	case FG_ICE_PRFLX:
		return "prflx";
	case FG_ICE_RELAY:
		return "relay";
	default:
		return "?";
	}
}

bool fg_ice_cand_same(const struct fg_ice_cand *a, const struct fg_ice_cand *b)
{
	return a->type == b->type && a->transport == b->transport && fg_endpoint_equal(&a->addr, &b->addr);
}
