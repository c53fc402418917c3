/* SPDX-License-Identifier: MIT */
/*
 * The harnesses' own naive reading of packets, independent of the project's parsers: big-endian
 * loads and stores, and RFC 1071's sum one word at a time (folded, not complemented).
 */
#ifndef FG_FUZZ_NET_H
#define FG_FUZZ_NET_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t g32(const uint8_t *p) { return (uint32_t)g16(p) << 16 | g16(p + 2); }
static inline void p16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

static inline uint16_t nsum(const uint8_t *p, size_t n, uint64_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += g16(p + i);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

#endif
