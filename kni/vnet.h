/* SPDX-License-Identifier: MIT */
/*
 * What the TUN offload code shares: the 10-byte virtio-net header that precedes every
 * packet on a TUN opened with IFF_VNET_HDR (no num_buffers field), its flag and GSO type
 * values (our own names: Debian 12's uapi headers predate UDP_L4), and the Internet
 * checksum helpers used by gso.c and gro.c. Header-only and stateless: every function is
 * pure and safe on any lcore.
 */
#ifndef FG_VNET_H
#define FG_VNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <endian.h>

/* Fields in the TUN's byte order, little-endian (tun.c sets TUNSETVNETLE). */
struct fg_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;      /* headers before the payload; only a hint from the kernel */
	uint16_t gso_size;     /* payload bytes per segment (TCP or UDP header excluded) */
	uint16_t csum_start;   /* from the start of the IP header */
	uint16_t csum_offset;  /* of the checksum field, from csum_start */
};

enum {
	FG_VNET_HDR_LEN = 10,
	FG_VNET_F_NEEDS_CSUM = 0x01,
	FG_VNET_F_DATA_VALID = 0x02,
	FG_VNET_GSO_NONE = 0,
	FG_VNET_GSO_TCPV4 = 1,
	FG_VNET_GSO_UDP = 3,      /* UFO: IP fragmentation, not supported */
	FG_VNET_GSO_TCPV6 = 4,
	FG_VNET_GSO_UDP_L4 = 5,   /* USO, Linux >= 6.2 on a TUN */
	FG_VNET_GSO_ECN = 0x80,
	/* 64 KiB less one: the largest IPv4 total length, the super-packet ceiling both ways. */
	FG_VNET_IP_MAX = 65535,
};

_Static_assert(sizeof(struct fg_vnet_hdr) == FG_VNET_HDR_LEN, "virtio_net_hdr is 10 bytes");

static inline uint16_t fg_vnet_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline uint32_t fg_vnet_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void fg_vnet_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fg_vnet_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * One's-complement sum of len bytes as a big-endian 16-bit value (not complemented),
 * added to sum. Summing native 32-bit words and swapping once at the end gives the same
 * result (RFC 1071 §2(B)). p must start at an even offset of the checksummed data; only
 * the last piece of the data may have an odd length.
 */
static inline uint32_t fg_csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t acc = 0;
	size_t i = 0;

	for (; i + 4 <= len; i += 4) {
		uint32_t w;
		memcpy(&w, p + i, sizeof(w));
		acc += w;
	}
	if (i + 2 <= len) {
		uint16_t h;
		memcpy(&h, p + i, sizeof(h));
		acc += h;
		i += 2;
	}
	if (i < len) {
		uint8_t last[2] = { p[i], 0 };
		uint16_t h;
		memcpy(&h, last, sizeof(h));
		acc += h;
	}
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	uint16_t folded = (uint16_t)acc;
#if __BYTE_ORDER == __LITTLE_ENDIAN
	folded = (uint16_t)(folded << 8 | folded >> 8);
#endif
	return sum + folded;
}

static inline uint16_t fg_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/* Pseudo-header sum (not complemented) for L4 length l4len of protocol proto. */
static inline uint32_t fg_csum_pseudo(const uint8_t *ip, bool v6, uint8_t proto, uint32_t l4len)
{
	uint32_t sum = v6 ? fg_csum_add(0, ip + 8, 32) : fg_csum_add(0, ip + 12, 8);

	return sum + proto + (l4len >> 16) + (l4len & 0xffff);
}

/* Recomputes the IPv4 header checksum over hl bytes. */
static inline void fg_csum_ipv4(uint8_t *ip, unsigned hl)
{
	ip[10] = 0;
	ip[11] = 0;
	fg_vnet_put16(ip + 10, (uint16_t)~fg_csum_fold(fg_csum_add(0, ip, hl)));
}

#endif
