/* SPDX-License-Identifier: MIT */
/*
 * STUN attributes: the table of the types the codec knows, the one value check that the
 * parser applies to what it reads and the builder to what it writes, the (XOR-)address
 * encoding, and the getters of a parsed message. No state; any thread.
 */
#include "stun.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "stun_priv.h"

enum {
	FAMILY_IPV4 = 0x01,
	FAMILY_IPV6 = 0x02,
	ADDR_V4_LEN = 8,
	ADDR_V6_LEN = 20,
	ANY_LEN = 0xFFFF,
};

#define TEXT(t, send) { t, FG_STUN_K_TEXT, 0, FG_STUN_TEXT_MAX, send }
#define FIXED(t, k, n) { t, k, n, n, n }

/* Sorted by type, one slot each: the order of struct fg_stun_msg.first. */
static const struct fg_stun_rule rules[] = {
	{ FG_STUN_ATTR_MAPPED_ADDRESS, FG_STUN_K_ADDR, ADDR_V4_LEN, ADDR_V6_LEN, ADDR_V6_LEN },
	TEXT(FG_STUN_ATTR_USERNAME, FG_STUN_USERNAME_MAX_SEND),
	FIXED(FG_STUN_ATTR_MESSAGE_INTEGRITY, FG_STUN_K_INTEGRITY, FG_STUN_HMAC_SHA1_LEN),
	{ FG_STUN_ATTR_ERROR_CODE, FG_STUN_K_ERROR, 4, 4 + FG_STUN_TEXT_MAX, 4 + FG_STUN_TEXT_MAX_SEND },
	{ FG_STUN_ATTR_UNKNOWN_ATTRIBUTES, FG_STUN_K_UNKNOWN, 0, ANY_LEN, ANY_LEN },
	FIXED(FG_STUN_ATTR_CHANNEL_NUMBER, FG_STUN_K_CHANNEL, 4),
	FIXED(FG_STUN_ATTR_LIFETIME, FG_STUN_K_U32, 4),
	{ FG_STUN_ATTR_XOR_PEER_ADDRESS, FG_STUN_K_XOR_ADDR, ADDR_V4_LEN, ADDR_V6_LEN, ADDR_V6_LEN },
	{ FG_STUN_ATTR_DATA, FG_STUN_K_BYTES, 0, ANY_LEN, ANY_LEN },
	TEXT(FG_STUN_ATTR_REALM, FG_STUN_TEXT_MAX_SEND),
	TEXT(FG_STUN_ATTR_NONCE, FG_STUN_TEXT_MAX_SEND),
	{ FG_STUN_ATTR_XOR_RELAYED_ADDRESS, FG_STUN_K_XOR_ADDR, ADDR_V4_LEN, ADDR_V6_LEN, ADDR_V6_LEN },
	FIXED(FG_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, FG_STUN_K_FAMILY, 4),
	FIXED(FG_STUN_ATTR_REQUESTED_TRANSPORT, FG_STUN_K_TRANSPORT, 4),
	{ FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, FG_STUN_K_INTEGRITY, FG_STUN_HMAC_SHA256_MIN,
	  FG_STUN_HMAC_SHA256_LEN, FG_STUN_HMAC_SHA256_LEN },
	FIXED(FG_STUN_ATTR_USERHASH, FG_STUN_K_BYTES, 32),
	{ FG_STUN_ATTR_XOR_MAPPED_ADDRESS, FG_STUN_K_XOR_ADDR, ADDR_V4_LEN, ADDR_V6_LEN, ADDR_V6_LEN },
	FIXED(FG_STUN_ATTR_PRIORITY, FG_STUN_K_U32, 4),
	FIXED(FG_STUN_ATTR_USE_CANDIDATE, FG_STUN_K_BYTES, 0),
	FIXED(FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, FG_STUN_K_FAMILY, 4),
	TEXT(FG_STUN_ATTR_SOFTWARE, FG_STUN_TEXT_MAX_SEND),
	{ FG_STUN_ATTR_ALTERNATE_SERVER, FG_STUN_K_ADDR, ADDR_V4_LEN, ADDR_V6_LEN, ADDR_V6_LEN },
	FIXED(FG_STUN_ATTR_FINGERPRINT, FG_STUN_K_FINGERPRINT, 4),
	FIXED(FG_STUN_ATTR_ICE_CONTROLLED, FG_STUN_K_U64, 8),
	FIXED(FG_STUN_ATTR_ICE_CONTROLLING, FG_STUN_K_U64, 8),
};

_Static_assert(sizeof(rules) / sizeof(rules[0]) == FG_STUN_KNOWN_ATTRS,
	       "FG_STUN_KNOWN_ATTRS is the number of rules");

int fg_stun_slot(uint16_t type)
{
	int lo = 0, hi = FG_STUN_KNOWN_ATTRS - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;

		if (rules[mid].type == type)
			return mid;
		if (rules[mid].type < type)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

const struct fg_stun_rule *fg_stun_rule_at(int slot)
{
	return slot >= 0 && slot < FG_STUN_KNOWN_ATTRS ? &rules[slot] : NULL;
}

static const char *check_addr(const uint8_t *val, size_t len)
{
	if (val[1] == FAMILY_IPV4)
		return len == ADDR_V4_LEN ? NULL : "an IPv4 address needs a length of 8";
	if (val[1] == FAMILY_IPV6)
		return len == ADDR_V6_LEN ? NULL : "an IPv6 address needs a length of 20";
	return "address family neither IPv4 (1) nor IPv6 (2)";
}

static const char *check_error(const uint8_t *val)
{
	/* The 21 reserved bits, the class's upper five among them, are ignored (§14.8). */
	uint8_t cls = val[2] & 0x07;

	if (cls < 3 || cls > 6)
		return "error class outside 3-6";
	if (val[3] > 99)
		return "error number above 99";
	return NULL;
}

const char *fg_stun_check_value(const struct fg_stun_rule *r, const uint8_t *val, size_t len,
				bool sending)
{
	if (len < r->min || len > (sending ? r->max_send : r->max))
		return "value length out of bounds for its type";
	switch (r->kind) {
	case FG_STUN_K_ADDR:
	case FG_STUN_K_XOR_ADDR:
		return check_addr(val, len);
	case FG_STUN_K_ERROR:
		return check_error(val);
	case FG_STUN_K_CHANNEL: {
		uint16_t ch = fg_stun_rd16(val);

		return ch >= FG_STUN_CHANNEL_MIN && ch <= FG_STUN_CHANNEL_MAX ?
		       NULL : "channel number outside 0x4000-0x4FFF";
	}
	case FG_STUN_K_FAMILY:
		return val[0] == FAMILY_IPV4 || val[0] == FAMILY_IPV6 ?
		       NULL : "address family neither IPv4 (1) nor IPv6 (2)";
	case FG_STUN_K_UNKNOWN:
		return len % 2 ? "UNKNOWN-ATTRIBUTES of an odd length" : NULL;
	case FG_STUN_K_INTEGRITY:
		return len % 4 ? "MESSAGE-INTEGRITY-SHA256 not a multiple of 4 bytes" : NULL;
	default:
		return NULL;
	}
}

/* The XOR pad: the cookie, then the transaction id (RFC 8489 §14.2). */
static void xor_pad(const uint8_t *txid, uint8_t pad[16])
{
	fg_stun_wr32(pad, FG_STUN_MAGIC_COOKIE);
	memcpy(pad + 4, txid, FG_STUN_TXID_LEN);
}

void fg_stun_addr_decode(bool xor, const uint8_t *val, const uint8_t *txid, struct fg_endpoint *ep)
{
	size_t n = val[1] == FAMILY_IPV4 ? 4 : 16;
	uint8_t pad[16];

	xor_pad(txid, pad);
	memset(ep, 0, sizeof(*ep));
	ep->ip.family = n == 4 ? AF_INET : AF_INET6;
	ep->port = fg_stun_rd16(val + 2);
	memcpy(ep->ip.addr, val + 4, n);
	if (!xor)
		return;
	ep->port ^= (uint16_t)(FG_STUN_MAGIC_COOKIE >> 16);
	for (size_t i = 0; i < n; i++)
		ep->ip.addr[i] ^= pad[i];
}

size_t fg_stun_addr_encode(bool xor, const struct fg_endpoint *ep, const uint8_t *txid, uint8_t *out)
{
	size_t n = fg_ip_len(ep->ip.family);
	uint16_t port = ep->port;
	uint8_t pad[16];

	if (!n)
		return 0;
	xor_pad(txid, pad);
	out[0] = 0;
	out[1] = n == 4 ? FAMILY_IPV4 : FAMILY_IPV6;
	if (xor)
		port ^= (uint16_t)(FG_STUN_MAGIC_COOKIE >> 16);
	fg_stun_wr16(out + 2, port);
	for (size_t i = 0; i < n; i++)
		out[4 + i] = xor ? ep->ip.addr[i] ^ pad[i] : ep->ip.addr[i];
	return 4 + n;
}

/* The first occurrence of a known type of the given kinds, or NULL with *rc set. */
static const uint8_t *find(const struct fg_stun_msg *m, uint16_t type, unsigned kinds,
			   size_t *len, int *rc)
{
	int slot = fg_stun_slot(type);
	const uint8_t *a;

	if (slot < 0 || !(kinds & 1u << rules[slot].kind)) {
		*rc = -EINVAL;
		return NULL;
	}
	if (!m->first[slot]) {
		*rc = -ENOENT;
		return NULL;
	}
	a = m->buf + m->first[slot];
	*len = fg_stun_rd16(a + 2);
	*rc = 0;
	return a + FG_STUN_ATTR_HEADER_LEN;
}

#define KIND(k) (1u << (k))

bool fg_stun_has(const struct fg_stun_msg *m, uint16_t type)
{
	int slot = fg_stun_slot(type);

	return slot >= 0 && m->first[slot];
}

int fg_stun_get_bytes(const struct fg_stun_msg *m, uint16_t type, const uint8_t **val, size_t *len)
{
	int rc;
	const uint8_t *v = find(m, type, ~0u, len, &rc);

	if (v)
		*val = v;
	return rc;
}

int fg_stun_get_u32(const struct fg_stun_msg *m, uint16_t type, uint32_t *out)
{
	size_t len;
	int rc;
	const uint8_t *v = find(m, type, KIND(FG_STUN_K_U32), &len, &rc);

	if (v)
		*out = fg_stun_rd32(v);
	return rc;
}

int fg_stun_get_u64(const struct fg_stun_msg *m, uint16_t type, uint64_t *out)
{
	size_t len;
	int rc;
	const uint8_t *v = find(m, type, KIND(FG_STUN_K_U64), &len, &rc);

	if (v)
		*out = (uint64_t)fg_stun_rd32(v) << 32 | fg_stun_rd32(v + 4);
	return rc;
}

int fg_stun_get_addr(const struct fg_stun_msg *m, uint16_t type, unsigned nth, struct fg_endpoint *ep)
{
	size_t len, pos;
	int rc;
	const uint8_t *v = find(m, type, KIND(FG_STUN_K_ADDR) | KIND(FG_STUN_K_XOR_ADDR), &len, &rc);
	struct fg_stun_attr a;

	if (!v)
		return rc;
	/* From the first occurrence on; every occurrence was checked by the parser. */
	pos = (size_t)(v - m->buf) - FG_STUN_ATTR_HEADER_LEN;
	while (fg_stun_attr_next(m, &pos, &a)) {
		if (a.type == type && nth-- == 0) {
			fg_stun_addr_decode(rules[fg_stun_slot(type)].kind == FG_STUN_K_XOR_ADDR,
					    a.val, m->txid, ep);
			return 0;
		}
	}
	return -ENOENT;
}

int fg_stun_get_error(const struct fg_stun_msg *m, unsigned *code, const char **reason, size_t *reason_len)
{
	size_t len;
	int rc;
	const uint8_t *v = find(m, FG_STUN_ATTR_ERROR_CODE, KIND(FG_STUN_K_ERROR), &len, &rc);

	if (!v)
		return rc;
	*code = (unsigned)(v[2] & 0x07) * 100 + v[3];
	*reason = (const char *)v + 4;
	*reason_len = len - 4;
	return 0;
}

int fg_stun_get_channel(const struct fg_stun_msg *m, uint16_t *channel)
{
	size_t len;
	int rc;
	const uint8_t *v = find(m, FG_STUN_ATTR_CHANNEL_NUMBER, KIND(FG_STUN_K_CHANNEL), &len, &rc);

	if (v)
		*channel = fg_stun_rd16(v);
	return rc;
}

int fg_stun_get_transport(const struct fg_stun_msg *m, uint8_t *proto)
{
	size_t len;
	int rc;
	const uint8_t *v = find(m, FG_STUN_ATTR_REQUESTED_TRANSPORT, KIND(FG_STUN_K_TRANSPORT), &len, &rc);

	if (v)
		*proto = v[0];
	return rc;
}

int fg_stun_get_family(const struct fg_stun_msg *m, uint16_t type, uint8_t *family)
{
	size_t len;
	int rc;
	const uint8_t *v = find(m, type, KIND(FG_STUN_K_FAMILY), &len, &rc);

	if (v)
		*family = v[0] == FAMILY_IPV4 ? AF_INET : AF_INET6;
	return rc;
}

int fg_stun_get_unknown(const struct fg_stun_msg *m, uint16_t *types, size_t max, size_t *n)
{
	size_t len;
	int rc;
	const uint8_t *v = find(m, FG_STUN_ATTR_UNKNOWN_ATTRIBUTES, KIND(FG_STUN_K_UNKNOWN), &len, &rc);

	if (!v)
		return rc;
	*n = len / 2;
	for (size_t i = 0; i < *n && i < max; i++)
		types[i] = fg_stun_rd16(v + 2 * i);
	return 0;
}
