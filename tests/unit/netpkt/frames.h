/* SPDX-License-Identifier: MIT */
/*
 * Test-side frame construction for the netpkt suites: a deliberately naive reference
 * (byte-wise big-endian checksums, explicit offsets, no DPDK structs) so the parser is
 * checked against code that shares nothing with it. Single-threaded test state only.
 */
#ifndef FG_FRAMES_H
#define FG_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netpkt.h"
#include "../cunit_run.h"

enum tf_limits {
	TF_MAX = 2048,
	TF_ETH = 14,
	TF_IP4 = 20,
	TF_IP6 = 40,
	TF_UDP = 8,
	TF_US_PORT = 51820,
	TF_PEER_PORT = 40000,
};

/* A frame under construction; l3 / l4 are the offsets of the IP and transport headers. */
struct tf {
	uint8_t b[TF_MAX];
	uint32_t len;
	uint32_t l3, l4;
};

/* The gateway under test and the peer talking to it. */
extern const uint8_t tf_us_mac[6], tf_peer_mac[6], tf_bcast_mac[6];
extern const uint8_t tf_us_ip4[4], tf_peer_ip4[4];
extern const uint8_t tf_us_ip6[16], tf_peer_ip6[16];

void tf_local(struct fg_netpkt_local *l);

/* Naive RFC 1071 sum over big-endian words, folded, not complemented. */
uint16_t tf_sum(const uint8_t *p, size_t n, uint32_t init);
/* The transport checksum (UDP, ICMP, ICMPv6) as it must read on the wire, from headers. */
uint16_t tf_l4_csum(const struct tf *f);
/* True if the IPv4 header checksum (if any) and the transport checksum verify. */
bool tf_csums_ok(const uint8_t *frame, uint32_t len);

void tf_put16(uint8_t *p, uint16_t v);
void tf_put32(uint8_t *p, uint32_t v);
uint16_t tf_get16(const uint8_t *p);

/* Builders: complete, valid frames with checksums. Bodies may be NULL (zero-filled). */
void tf_udp4(struct tf *f, const uint8_t *body, uint32_t blen);
void tf_udp6(struct tf *f, const uint8_t *body, uint32_t blen);
void tf_echo4(struct tf *f, uint32_t blen);
void tf_echo6(struct tf *f, uint32_t blen);
/* ICMPv6 message: type, code, then body (after the 4-byte type/code/checksum) to dst. */
void tf_icmp6(struct tf *f, const uint8_t dst_mac[6], const uint8_t dst_ip[16], uint8_t hop,
	      uint8_t type, uint8_t code, const uint8_t *body, uint32_t blen);
/* A neighbour solicitation from the peer for target, to target's solicited-node group. */
void tf_ns(struct tf *f, const uint8_t target[16], bool with_lladdr);
void tf_arp(struct tf *f, const uint8_t dst_mac[6], uint16_t op, uint32_t tip_be);
/* Recomputes the IPv4 header and transport checksums after a mutation. */
void tf_fix(struct tf *f);

/* A malloc'd copy of exactly len bytes, so ASan catches any read past the end. */
uint8_t *tf_tail(const uint8_t *src, uint32_t len);

/* Suites, run from main(). */
extern const struct fg_cunit_suite netpkt_outer_suite;
extern const struct fg_cunit_suite netpkt_demux_suite;
extern const struct fg_cunit_suite netpkt_build_suite;

#endif
