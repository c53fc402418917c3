/* SPDX-License-Identifier: MIT */
/*
 * Test packets for the connection table's suites: IPv4 / IPv6 packets with TCP, UDP or
 * ICMP built with correct checksums, and an independent checksum checker that recomputes
 * every checksum of a packet from scratch (a plain byte loop, not natpkt.c's arithmetic).
 * Plain functions for the tests' threads; no state.
 */
#ifndef FG_TEST_TPKT_H
#define FG_TEST_TPKT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

struct tpkt {
	int family;            /* AF_INET / AF_INET6 */
	uint8_t proto;         /* 6, 17, 1 or 58 */
	struct fg_ip src, dst;
	uint16_t sport, dport; /* TCP / UDP ports; ICMP: the echo id in sport, seq in dport */
	uint8_t tcp_flags;
	uint8_t icmp_type, icmp_code;
	uint8_t ttl;           /* 0: 64 */
	uint32_t payload;      /* bytes after the transport header, a pattern from seed */
	uint32_t seed;
	bool udp_no_csum;      /* IPv4 UDP without a checksum (0) */
};

/* Builds t into buf (cap bytes); returns the length, 0 if it does not fit. */
uint32_t tpkt_build(uint8_t *buf, uint32_t cap, const struct tpkt *t);
/* An address from text (aborts on a typo). */
struct fg_ip tpkt_ip(const char *text);
/* RFC 1071 over bytes, the way a receiver checks: the folded sum. */
uint32_t tpkt_sum(uint32_t sum, const uint8_t *p, uint32_t n);
uint16_t tpkt_fold(uint32_t sum);
/* The IPv4 header checksum and the transport checksum (pseudo-header included for TCP, UDP
 * and ICMPv6) recomputed from scratch: true when each one the packet holds is right (the
 * receiver's check), an IPv4 UDP checksum of 0 counting as none. Packets without extension
 * headers or IP options-aware: the IPv4 IHL is honoured. */
bool tpkt_checksums_ok(const uint8_t *pkt, uint32_t len);
/* Rewrites every checksum of the packet from scratch (after a test edits fields). */
void tpkt_fix_checksums(uint8_t *pkt, uint32_t len);

/* ICMP errors about a NATed packet, for the suites that check their translation. */
/* The client's packet as the NAT sent it (destination real, source port or echo id outside)
 * one router hop later (TTL / hop limit - 1, the IPv4 header checksum a router writes). */
uint32_t tpkt_as_sent_by_nat(uint8_t *out, const uint8_t *client_pkt, uint32_t n, const struct fg_ip *real,
			     uint16_t outside, bool echo);
/* An ICMP error (type, code, the 4 bytes rest) from router to client quoting quote_len bytes
 * of quote; ip_options: the IPv4 header carries 4 bytes of NOP options. */
uint32_t tpkt_router_error(uint8_t *out, int family, uint8_t type, uint8_t code, uint32_t rest,
			   const struct fg_ip *router, const struct fg_ip *client, const uint8_t *quote,
			   uint32_t quote_len, bool ip_options);
/* The error the client must get, written field by field: from proxy to client, TTL 20, IPv4
 * DF and ID 0, the quote the client's own packet one hop older (quote_len bytes of it). */
uint32_t tpkt_expected_error(uint8_t *out, int family, uint8_t type, uint8_t code, uint32_t rest,
			     const struct fg_ip *proxy, const struct fg_ip *client, const uint8_t *client_pkt,
			     uint32_t quote_len);

#endif
