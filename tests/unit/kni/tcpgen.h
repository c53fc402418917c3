/* SPDX-License-Identifier: MIT */
/*
 * Test-only packet factory for the kni/gso and kni/gro tests: builds IPv4/IPv6 TCP and
 * UDP packets byte by byte with a deliberately naive RFC 1071 checksum (one 16-bit word at
 * a time), independent of kni/vnet.h, and checks packets the same way. Single-threaded.
 */
#ifndef FG_TEST_TCPGEN_H
#define FG_TEST_TCPGEN_H

#include <stdbool.h>
#include <stdint.h>

enum {
	TG_FIN = 0x01,
	TG_SYN = 0x02,
	TG_RST = 0x04,
	TG_PSH = 0x08,
	TG_ACK = 0x10,
	TG_URG = 0x20,
	TG_ECE = 0x40,
	TG_CWR = 0x80,
	TG_OPT_MAX = 40,
};

/* One direction of a flow and the header fields that stay fixed along it. */
struct tg_flow {
	bool v6;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t ack;
	uint16_t window;
	uint8_t ttl, tos;
	bool df;
	uint32_t flow_label;
	uint8_t ip_opt_len;             /* IPv4 options (NOPs then EOL), multiple of 4 */
	uint8_t opt_len;                /* TCP options, multiple of 4 */
	uint8_t opt[TG_OPT_MAX];
};

/* Fills a flow with test addresses (index varies the source port) and timestamps opts. */
void tg_flow_init(struct tg_flow *f, bool v6, unsigned index, bool timestamps);

/* A TCP segment with payload bytes payload_at(seq + i); returns the IP packet length. */
uint32_t tg_tcp(uint8_t *b, const struct tg_flow *f, uint32_t seq, uint8_t flags,
		uint16_t ip_id, uint32_t plen);
/* A UDP datagram with payload byte i = (uint8_t)(seed + i * 7). */
uint32_t tg_udp(uint8_t *b, const struct tg_flow *f, uint16_t ip_id, uint32_t plen,
		uint8_t seed);
uint8_t tg_payload_at(uint32_t seq);

/* Prepends nothing: writes a 10-byte little-endian virtio-net header at b. */
void tg_vnet(uint8_t *b, uint8_t flags, uint8_t gso_type, uint16_t hdr_len, uint16_t gso_size,
	     uint16_t csum_start, uint16_t csum_offset);

/* Naive sums. */
uint32_t tg_sum(uint32_t sum, const uint8_t *p, uint32_t len);
uint16_t tg_fold(uint32_t sum);
/* Pseudo-header sum of an IP packet's L4 part, len l4len. */
uint32_t tg_pseudo(const uint8_t *ip, uint32_t l4len);
/* IPv4 header checksum (if v4) and TCP/UDP checksum valid, lengths consistent. */
bool tg_valid(const uint8_t *ip, uint32_t len);

#endif
