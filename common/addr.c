// SPDX-License-Identifier: MIT
/*
 * Strict numeric parsing and formatting of IP addresses, prefixes and endpoints. Every
 * parser takes the whole string or rejects it (no leading or trailing junk, no whitespace,
 * no names: resolving would block the calling thread), and fills the whole output value so
 * that two parses of the same text compare equal with memcmp. No state; any thread.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

enum {
	V4_BITS = 32,
	V6_BITS = 128,
	PORT_MAX = 65535,
	PORT_DIGITS_MAX = 5,
	PREFIX_DIGITS_MAX = 3,
};

size_t fg_ip_len(uint8_t family)
{
	switch (family) {
	case AF_INET:
		return 4;
	case AF_INET6:
		return 16;
	default:
		return 0;
	}
}

static unsigned int family_bits(uint8_t family)
{
	return (unsigned int)fg_ip_len(family) * 8;
}

/* Parses n bytes of s as a decimal number: digits only, no sign, no leading zero. */
static int parse_decimal(const char *s, size_t n, size_t max_digits, unsigned long max,
			 unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > max_digits)
		return -EINVAL;
	if (s[0] == '0' && n > 1)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Parses exactly n bytes of s as an address; the bytes need not be NUL-terminated. */
static int parse_ip_n(const char *s, size_t n, struct fg_ip *out)
{
	char tmp[FG_ADDR_STRLEN];
	struct fg_ip ip;

	memset(&ip, 0, sizeof(ip));
	if (n == 0 || n >= sizeof(tmp) || memchr(s, '\0', n))
		return -EINVAL;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (memchr(tmp, ':', n)) {
		if (inet_pton(AF_INET6, tmp, ip.addr) != 1)
			return -EINVAL;
		ip.family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, tmp, ip.addr) != 1)
			return -EINVAL;
		ip.family = AF_INET;
	}
	*out = ip;
	return 0;
}

int fg_ip_parse(const char *s, struct fg_ip *out)
{
	if (!s || !out)
		return -EINVAL;
	return parse_ip_n(s, strlen(s), out);
}

static void mask_host_bits(struct fg_prefix *p)
{
	size_t bytes = fg_ip_len(p->ip.family);

	for (size_t i = 0; i < bytes; i++) {
		unsigned int first = (unsigned int)i * 8;

		if (first >= p->len)
			p->ip.addr[i] = 0;
		else if (first + 8 > p->len)
			p->ip.addr[i] &= (uint8_t)(0xff00u >> (p->len - first));
	}
}

static int parse_prefix(const char *s, struct fg_prefix *out, bool keep_host)
{
	struct fg_prefix p;
	const char *slash;
	size_t addr_len;

	if (!s || !out)
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	slash = strchr(s, '/');
	addr_len = slash ? (size_t)(slash - s) : strlen(s);
	if (parse_ip_n(s, addr_len, &p.ip) < 0)
		return -EINVAL;
	if (slash) {
		unsigned long len;

		if (parse_decimal(slash + 1, strlen(slash + 1), PREFIX_DIGITS_MAX,
				  family_bits(p.ip.family), &len) < 0)
			return -EINVAL;
		p.len = (uint8_t)len;
	} else {
		p.len = (uint8_t)family_bits(p.ip.family);
	}
	if (!keep_host)
		mask_host_bits(&p);
	*out = p;
	return 0;
}

int fg_prefix_parse(const char *s, struct fg_prefix *out)
{
	return parse_prefix(s, out, false);
}

int fg_prefix_parse_host(const char *s, struct fg_prefix *out)
{
	return parse_prefix(s, out, true);
}

int fg_endpoint_parse(const char *s, struct fg_endpoint *out)
{
	struct fg_endpoint ep;
	const char *host, *port;
	size_t host_len;
	unsigned long v;

	if (!s || !out)
		return -EINVAL;
	memset(&ep, 0, sizeof(ep));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		host = s + 1;
		host_len = (size_t)(close - host);
		port = close + 2;
		if (parse_ip_n(host, host_len, &ep.ip) < 0 || ep.ip.family != AF_INET6)
			return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');

		/* More than one colon is an unbracketed IPv6 literal: ambiguous, refused. */
		if (!colon || strchr(colon + 1, ':'))
			return -EINVAL;
		host = s;
		host_len = (size_t)(colon - s);
		port = colon + 1;
		if (parse_ip_n(host, host_len, &ep.ip) < 0 || ep.ip.family != AF_INET)
			return -EINVAL;
	}
	if (parse_decimal(port, strlen(port), PORT_DIGITS_MAX, PORT_MAX, &v) < 0 || v == 0)
		return -EINVAL;
	ep.port = (uint16_t)v;
	*out = ep;
	return 0;
}

/* Copies src into buf (len bytes), truncating; buf is always NUL-terminated when len > 0. */
static char *copy_out(char *buf, size_t len, const char *src)
{
	if (buf && len > 0)
		snprintf(buf, len, "%s", src);
	return buf;
}

static const char *ntop(const struct fg_ip *ip, char tmp[FG_ADDR_STRLEN])
{
	if (!ip || fg_ip_len(ip->family) == 0 ||
	    !inet_ntop(ip->family, ip->addr, tmp, FG_ADDR_STRLEN))
		return NULL;
	return tmp;
}

char *fg_ip_format(const struct fg_ip *ip, char *buf, size_t len)
{
	char tmp[FG_ADDR_STRLEN];
	const char *s = ntop(ip, tmp);

	return copy_out(buf, len, s ? s : "unset");
}

char *fg_prefix_format(const struct fg_prefix *p, char *buf, size_t len)
{
	char tmp[FG_ADDR_STRLEN], out[FG_PREFIX_STRLEN];
	const char *s = p ? ntop(&p->ip, tmp) : NULL;

	if (!s)
		return copy_out(buf, len, "unset");
	snprintf(out, sizeof(out), "%s/%u", s, (unsigned int)p->len);
	return copy_out(buf, len, out);
}

char *fg_endpoint_format(const struct fg_endpoint *ep, char *buf, size_t len)
{
	char tmp[FG_ADDR_STRLEN], out[FG_ENDPOINT_STRLEN];
	const char *s = ep ? ntop(&ep->ip, tmp) : NULL;

	if (!s)
		return copy_out(buf, len, "unset");
	if (ep->ip.family == AF_INET6)
		snprintf(out, sizeof(out), "[%s]:%u", s, (unsigned int)ep->port);
	else
		snprintf(out, sizeof(out), "%s:%u", s, (unsigned int)ep->port);
	return copy_out(buf, len, out);
}

bool fg_ip_equal(const struct fg_ip *a, const struct fg_ip *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, fg_ip_len(a->family)) == 0;
}

bool fg_endpoint_equal(const struct fg_endpoint *a, const struct fg_endpoint *b)
{
	return a->port == b->port && fg_ip_equal(&a->ip, &b->ip);
}

bool fg_prefix_contains(const struct fg_prefix *p, const struct fg_ip *ip)
{
	unsigned int bits = family_bits(p->ip.family);
	unsigned int full, rest;

	if (bits == 0 || p->ip.family != ip->family || p->len > bits)
		return false;
	full = p->len / 8;
	rest = p->len % 8;
	if (memcmp(p->ip.addr, ip->addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);

		return ((p->ip.addr[full] ^ ip->addr[full]) & mask) == 0;
	}
	return true;
}

socklen_t fg_endpoint_to_sockaddr(const struct fg_endpoint *ep, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->ip.family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(ep->port);
		memcpy(&sin->sin_addr, ep->ip.addr, 4);
		return sizeof(*sin);
	}
	if (ep->ip.family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(ep->port);
		memcpy(&sin6->sin6_addr, ep->ip.addr, 16);
		return sizeof(*sin6);
	}
	return 0;
}

/*
 * An IPv4-mapped IPv6 address (a dual-stack socket's view of an IPv4 peer) becomes AF_INET,
 * so that a peer compares equal however its packets arrived.
 */
int fg_endpoint_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct fg_endpoint *ep)
{
	struct fg_endpoint out;

	memset(&out, 0, sizeof(out));
	if (!sa || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		if (len < (socklen_t)sizeof(sin))
			return -EINVAL;
		memcpy(&sin, sa, sizeof(sin));
		out.ip.family = AF_INET;
		memcpy(out.ip.addr, &sin.sin_addr, 4);
		out.port = ntohs(sin.sin_port);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		if (len < (socklen_t)sizeof(sin6))
			return -EINVAL;
		memcpy(&sin6, sa, sizeof(sin6));
		if (IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr)) {
			out.ip.family = AF_INET;
			memcpy(out.ip.addr, &sin6.sin6_addr.s6_addr[12], 4);
		} else {
			out.ip.family = AF_INET6;
			memcpy(out.ip.addr, &sin6.sin6_addr, 16);
		}
		out.port = ntohs(sin6.sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	*ep = out;
	return 0;
}
