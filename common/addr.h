/* SPDX-License-Identifier: MIT */
/*
 * IP addresses, prefixes and endpoints as plain values shared by the data plane, the
 * control plane and the tests. No state; safe from any thread.
 */
#ifndef FG_ADDR_H
#define FG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	FG_ADDR_STRLEN = 46,      /* INET6_ADDRSTRLEN */
	FG_PREFIX_STRLEN = 50,    /* address + "/128" */
	FG_ENDPOINT_STRLEN = 54,  /* "[" address "]:" port */
};

/* An IPv4 or IPv6 address; IPv4 is held in the first 4 bytes of addr, network order. */
struct fg_ip {
	uint8_t family;   /* AF_INET or AF_INET6; 0 = unset */
	uint8_t addr[16];
};

struct fg_prefix {
	struct fg_ip ip;  /* host bits are cleared by fg_prefix_parse() */
	uint8_t len;      /* 0..32 or 0..128 */
};

struct fg_endpoint {
	struct fg_ip ip;
	uint16_t port;    /* host order */
};

/* Parse "a.b.c.d" or an IPv6 literal. Returns 0 or -EINVAL. */
int fg_ip_parse(const char *s, struct fg_ip *out);
/* Parse "addr/len" (a bare address gets /32 or /128). Host bits are masked off. */
int fg_prefix_parse(const char *s, struct fg_prefix *out);
/* Like fg_prefix_parse() but keeps the host bits (for interface addresses "100.64.0.1/11"). */
int fg_prefix_parse_host(const char *s, struct fg_prefix *out);
/* Parse "a.b.c.d:port" or "[v6]:port". Numeric only: no DNS on any thread here. */
int fg_endpoint_parse(const char *s, struct fg_endpoint *out);

/* Formatters write a NUL-terminated string and return buf. */
char *fg_ip_format(const struct fg_ip *ip, char *buf, size_t len);
char *fg_prefix_format(const struct fg_prefix *p, char *buf, size_t len);
char *fg_endpoint_format(const struct fg_endpoint *ep, char *buf, size_t len);

bool fg_ip_equal(const struct fg_ip *a, const struct fg_ip *b);
bool fg_endpoint_equal(const struct fg_endpoint *a, const struct fg_endpoint *b);
/* True if ip lies inside prefix (same family). */
bool fg_prefix_contains(const struct fg_prefix *p, const struct fg_ip *ip);
/* Address length in bytes for a family: 4, 16, or 0. */
size_t fg_ip_len(uint8_t family);

/* Conversions to and from struct sockaddr_storage (AF_INET / AF_INET6). */
socklen_t fg_endpoint_to_sockaddr(const struct fg_endpoint *ep, struct sockaddr_storage *ss);
int fg_endpoint_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct fg_endpoint *ep);

#endif
