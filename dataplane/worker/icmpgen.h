/* SPDX-License-Identifier: MIT */
/*
 * The IP packets the gateway itself sends to a client through the tunnel: the ICMP errors
 * that answer a policy denial (reference §3.3 step 6, §3.5; Firezone's `make.rs`) and the
 * in-band p2p control packets (§4.2). Plain functions over caller buffers, stateless: a
 * worker builds the errors per denied packet and the service lcore the control packets,
 * with no allocation, logging or syscalls. out and orig must not overlap.
 */
#ifndef FG_ICMPGEN_H
#define FG_ICMPGEN_H

#include <stdint.h>

enum fg_icmpgen_limit {
	FG_ICMPGEN_MAX_LEN = 1280,   /* no generated packet exceeds the minimum IPv6 MTU */
	FG_ICMPGEN_P2P_HDR_LEN = 8,  /* [event, 0 x 7] after the IPv6 header */
	FG_ICMPGEN_P2P_MAX_BODY = FG_ICMPGEN_MAX_LEN - 40 - FG_ICMPGEN_P2P_HDR_LEN,
};

/* p2p control events (reference §4.2). */
enum fg_p2p_event {
	FG_P2P_ASSIGNED_IPS = 0,
	FG_P2P_DOMAIN_STATUS = 1,
	FG_P2P_GOODBYE = 2,
};

/*
 * ICMP administratively prohibited for the IP packet orig (orig_len bytes; its own IP
 * length may be shorter and is what counts): IPv4 type 3 code 13 quoting the IP header
 * with its options + 8 bytes (less if the packet is shorter); IPv6 type 1 code 1 quoting
 * as much of the packet as keeps the error within 1280 bytes and within cap. The source is
 * the original destination, the destination the original source, TTL / hop limit 20, DSCP
 * / ECN / flow label 0, IPv4 ID 0 with DF; both checksums set. Returns the length written,
 * or 0 when nothing may or can be sent: orig is not a well-formed IPv4 / IPv6 packet; it is
 * an ICMP error (or an ICMP message too short to tell), a non-first fragment, from an
 * unspecified, multicast or limited-broadcast source, or to a multicast destination
 * (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7, RFC 4443 §2.4); or cap cannot hold the IPv4 error
 * or the IPv6 error with at least the original's IPv6 header.
 */
uint32_t fg_icmpgen_prohibited(uint8_t *out, uint32_t cap, const uint8_t *orig, uint32_t orig_len);

/* ICMP network unreachable: IPv4 type 3 code 0, ICMPv6 type 1 code 3 (reference §3.5), with
 * the same quoting and refusal rules as fg_icmpgen_prohibited(). */
uint32_t fg_icmpgen_net_unreachable(uint8_t *out, uint32_t cap, const uint8_t *orig,
				    uint32_t orig_len);

/*
 * A p2p control packet: IPv6 with traffic class and flow label 0, next header 0xFF, hop
 * limit 0, source and destination ::, payload [event, 0, 0, 0, 0, 0, 0, 0] + body. body may
 * be NULL when body_len is 0. Returns the length (48 + body_len), or 0 when it exceeds cap
 * or 1280 bytes.
 */
uint32_t fg_icmpgen_p2p_control(uint8_t *out, uint32_t cap, uint8_t event, const void *body,
				uint32_t body_len);

/*
 * Parses a p2p control packet: IPv6, next header 0xFF, source and destination ::, a payload
 * of at least the 8-byte header within len. The header's other 7 bytes are not checked (as
 * Firezone). body points into pkt; body_len stops at the IPv6 payload length. Returns 0, or
 * -EINVAL (outputs untouched).
 */
int fg_icmpgen_p2p_parse(const uint8_t *pkt, uint32_t len, uint8_t *event, const uint8_t **body,
			 uint32_t *body_len);

#endif
