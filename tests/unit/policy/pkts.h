/* SPDX-License-Identifier: MIT */
/*
 * Test-side helpers for the policy and icmpgen suites: an IP packet builder driven by a
 * plain spec (addresses as text, explicit offsets, byte-wise checksums), a deliberately
 * naive reference of the whole policy (naive.c) that shares no code with dataplane/worker/policy.c,
 * and exactly-sized heap copies so ASan sees any over-read. Single-threaded test state only.
 */
#ifndef FG_PKTS_H
#define FG_PKTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "counters.h"
#include "policy.h"
#include "../cunit_run.h"

enum tp_limits {
	TP_MAX = 2048,
	TP_ICMP = 0x100,        /* tp_spec.proto: ICMP for IPv4, ICMPv6 for IPv6 */
};

/* What to build. Zero-initialised fields give a plain, unfragmented packet. */
struct tp_spec {
	const char *src, *dst;  /* IPv4 or IPv6 literals, same family */
	uint16_t proto;         /* IP protocol number, or TP_ICMP */
	uint16_t sport, dport;  /* TCP / UDP */
	uint8_t icmp_type, icmp_code;
	uint32_t payload;       /* bytes after the L4 header (pattern-filled) */
	uint16_t frag_off;      /* fragment offset in 8-byte units */
	bool more_frags;
	bool frag6;             /* IPv6: add a fragment header even with offset 0 */
	uint8_t ip4_opts;       /* IPv4 option bytes (multiple of 4, <= 40) */
	uint8_t ext6;           /* IPv6: destination-options headers before the L4 header */
	bool ah6;               /* IPv6: then a 24-byte authentication header */
	uint32_t l4_cut;        /* bytes cut off the L4 header (0 = complete) */
	uint32_t pad;           /* bytes after the IP packet (WireGuard padding) */
};

/* Builds the packet into out (TP_MAX bytes); returns its length including pad. */
uint32_t tp_build(uint8_t *out, const struct tp_spec *s);

/* Naive RFC 1071 sum over big-endian words starting from init, folded, not complemented. */
uint16_t tp_sum(const uint8_t *p, size_t n, uint32_t init);
/* True if an IPv4 header checksum verifies. */
bool tp_ip4_csum_ok(const uint8_t *ip);
/* True if the ICMP (v4) or ICMPv6 (pseudo-header) checksum of an IP packet verifies. */
bool tp_icmp_csum_ok(const uint8_t *ip, uint32_t len);

uint16_t tp_get16(const uint8_t *p);
void tp_put16(uint8_t *p, uint16_t v);
struct fg_ip tp_ip(const char *s);

/* A malloc'd copy of exactly len bytes (len 0 gives a 1-byte allocation, never read). */
uint8_t *tp_tail(const uint8_t *src, uint32_t len);

/* A policy input row: a CIDR ("10.0.0.0/8"), or "internet". Filters as text: "tcp:80-90",
 * "udp:53", "icmp", "proto:99" (unknown), "tcp:90-80" (inverted); NULL-terminated. */
void tp_resource(struct fg_policy_resource *r, const char *id, const char *what,
		 uint64_t expires_at, const char *const *filters);
/* Room for n filters from a static pool (resources hold a pointer; the tests never free
 * them, and the pool is large enough for every suite). */
struct fg_ctl_filter *tp_filters(unsigned n);

/* The naive reference: the inputs kept as they are, every rule evaluated by linear scans. */
struct naive_policy {
	const struct fg_policy_resource *res;
	size_t n;
	struct fg_ip client4, client6, gw4, gw6;
};

enum fg_policy_verdict naive_outbound(const struct naive_policy *np, const uint8_t *pkt,
				      uint32_t len, uint64_t now, enum fg_drop *reason,
				      const char **resource_id);
enum fg_policy_verdict naive_inbound(const struct naive_policy *np, const uint8_t *pkt,
				     uint32_t len, uint64_t now, enum fg_drop *reason);

/* Suites, run from test_policy's main(). */
extern const struct fg_cunit_suite policy_table_suite;
extern const struct fg_cunit_suite policy_diff_suite;
extern const struct fg_cunit_suite policy_nat_suite;
extern const struct fg_cunit_suite policy_hostile_suite;
extern const struct fg_cunit_suite icmpgen_suite;

#endif
