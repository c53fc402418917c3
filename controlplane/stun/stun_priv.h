/* SPDX-License-Identifier: MIT */
/*
 * What the files of the STUN codec share and nothing outside controlplane/stun/ includes:
 * the table of known attributes with the one value check used by both the parser and the
 * builder (so the builder never writes what the parser would refuse), the address
 * encoding, and the CRC and HMAC primitives. No state; any thread.
 */
#ifndef FG_STUN_PRIV_H
#define FG_STUN_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Declared in stun.h and addr.h; not included, so that stun.c may include this file. */
struct fg_endpoint;
struct fg_stun_key;

/* How a known attribute's value is laid out. */
enum fg_stun_kind {
	FG_STUN_K_ADDR,        /* reserved, family, port, 4 or 16 address bytes */
	FG_STUN_K_XOR_ADDR,    /* the same, XORed with the cookie and the transaction id */
	FG_STUN_K_U32,
	FG_STUN_K_U64,
	FG_STUN_K_TEXT,        /* UTF-8, not checked: the bytes are handed over as they are */
	FG_STUN_K_BYTES,       /* opaque, length in [min, max] */
	FG_STUN_K_ERROR,
	FG_STUN_K_CHANNEL,
	FG_STUN_K_TRANSPORT,
	FG_STUN_K_FAMILY,
	FG_STUN_K_UNKNOWN,     /* a list of 16-bit types */
	FG_STUN_K_INTEGRITY,   /* MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 */
	FG_STUN_K_FINGERPRINT,
};

struct fg_stun_rule {
	uint16_t type;
	uint8_t kind;          /* enum fg_stun_kind */
	uint16_t min;          /* value length bounds */
	uint16_t max;
	uint16_t max_send;     /* the bound the builder keeps to (TEXT only; else max) */
};

/* The rule of a known type and its slot in struct fg_stun_msg.first, or NULL / -1. */
int fg_stun_slot(uint16_t type);
const struct fg_stun_rule *fg_stun_rule_at(int slot);

/*
 * Checks a known attribute's value. Returns NULL when it is acceptable (for sending: also
 * within the sending bounds), else the reason.
 */
const char *fg_stun_check_value(const struct fg_stun_rule *r, const uint8_t *val, size_t len,
				bool sending);

/* Address values (a K_ADDR or K_XOR_ADDR value already checked); txid is 12 bytes. */
void fg_stun_addr_decode(bool xor, const uint8_t *val, const uint8_t *txid, struct fg_endpoint *ep);
/* Writes the value into out (20 bytes room) and returns its length, or 0 for a bad family. */
size_t fg_stun_addr_encode(bool xor, const struct fg_endpoint *ep, const uint8_t *txid, uint8_t *out);

/* FINGERPRINT's value over buf[0, len): CRC-32 XOR 0x5354554e. */
uint32_t fg_stun_crc(const uint8_t *buf, size_t len);

/*
 * HMAC-SHA1 (sha256 false) or HMAC-SHA256 of buf[0, upto) with the header's length field
 * replaced by length_field (RFC 8489 §14.5, §14.6), into out (32 bytes room). Returns 0,
 * -EINVAL (empty key), -ENOMEM (OpenSSL).
 */
int fg_stun_hmac(bool sha256, const struct fg_stun_key *k, const uint8_t *buf, size_t upto,
		 uint16_t length_field, uint8_t *out);

static inline uint16_t fg_stun_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t fg_stun_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void fg_stun_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fg_stun_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline size_t fg_stun_pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

#endif
