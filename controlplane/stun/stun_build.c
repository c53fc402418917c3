/* SPDX-License-Identifier: MIT */
/*
 * The STUN message builder: a header, then attributes in call order, each checked against
 * the rule the parser applies (with the stricter sending bounds of RFC 8489), padded to 4
 * bytes, the header's length kept current so MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT
 * can be computed in place. Writes only inside the caller's buffer; the first error sticks.
 * No state of its own; any thread.
 */
#include "stun.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "stun_priv.h"

/* What may still be added: the integrity attributes close the message in this order. */
enum stage {
	ATTRS,
	AFTER_MI,
	AFTER_MI_SHA256,
	AFTER_FP,
};

enum {
	MAX_BODY = FG_STUN_MAX_LEN - FG_STUN_HEADER_LEN,
	METHOD_MASK = 0x0FFF,
};

#define KIND(k) (1u << (k))
#define ANY_KIND (~0u)

static int fail(struct fg_stun_builder *b, int rc)
{
	if (!b->err)
		b->err = rc;
	return b->err;
}

int fg_stun_build_start(struct fg_stun_builder *b, uint8_t *buf, size_t cap, uint16_t method,
			enum fg_stun_class cls, const uint8_t txid[FG_STUN_TXID_LEN])
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = buf ? cap : 0;
	if (method & ~METHOD_MASK || (unsigned)cls > FG_STUN_ERROR || !txid)
		return fail(b, -EINVAL);
	if (b->cap < FG_STUN_HEADER_LEN)
		return fail(b, -ENOBUFS);
	fg_stun_wr16(buf, fg_stun_type(method, cls));
	fg_stun_wr16(buf + 2, 0);
	fg_stun_wr32(buf + 4, FG_STUN_MAGIC_COOKIE);
	memcpy(buf + 8, txid, FG_STUN_TXID_LEN);
	b->len = FG_STUN_HEADER_LEN;
	return 0;
}

/* Appends type, length, value and padding, and updates the header's length. */
static int put(struct fg_stun_builder *b, uint16_t type, const void *val, size_t len)
{
	size_t total = FG_STUN_ATTR_HEADER_LEN + fg_stun_pad4(len);
	uint8_t *p;

	if (b->err)
		return b->err;
	if (len > UINT16_MAX || b->len - FG_STUN_HEADER_LEN + total > MAX_BODY)
		return fail(b, -EMSGSIZE);
	if (total > b->cap - b->len)
		return fail(b, -ENOBUFS);
	p = b->buf + b->len;
	fg_stun_wr16(p, type);
	fg_stun_wr16(p + 2, (uint16_t)len);
	if (len)
		memcpy(p + FG_STUN_ATTR_HEADER_LEN, val, len);
	memset(p + FG_STUN_ATTR_HEADER_LEN + len, b->pad, fg_stun_pad4(len) - len);
	b->len += total;
	fg_stun_wr16(b->buf + 2, (uint16_t)(b->len - FG_STUN_HEADER_LEN));
	return 0;
}

/*
 * An ordinary attribute: before MESSAGE-INTEGRITY, not one of the integrity attributes, a
 * known type only through an adder of its kind and with a value its rule accepts.
 */
static int add(struct fg_stun_builder *b, uint16_t type, unsigned kinds, const void *val, size_t len)
{
	const struct fg_stun_rule *r = fg_stun_rule_at(fg_stun_slot(type));

	if (b->err)
		return b->err;
	if (b->stage != ATTRS || (!val && len))
		return fail(b, -EINVAL);
	if (r && (r->kind == FG_STUN_K_INTEGRITY || r->kind == FG_STUN_K_FINGERPRINT ||
		  !(kinds & KIND(r->kind)) || fg_stun_check_value(r, val, len, true)))
		return fail(b, -EINVAL);
	return put(b, type, val, len);
}

int fg_stun_add_bytes(struct fg_stun_builder *b, uint16_t type, const void *val, size_t len)
{
	return add(b, type, ANY_KIND, val, len);
}

int fg_stun_add_str(struct fg_stun_builder *b, uint16_t type, const char *s)
{
	if (!s)
		return fail(b, -EINVAL);
	return add(b, type, KIND(FG_STUN_K_TEXT) | KIND(FG_STUN_K_BYTES), s, strlen(s));
}

int fg_stun_add_flag(struct fg_stun_builder *b, uint16_t type)
{
	return add(b, type, KIND(FG_STUN_K_BYTES), NULL, 0);
}

int fg_stun_add_u32(struct fg_stun_builder *b, uint16_t type, uint32_t v)
{
	uint8_t val[4];

	fg_stun_wr32(val, v);
	return add(b, type, KIND(FG_STUN_K_U32), val, sizeof(val));
}

int fg_stun_add_u64(struct fg_stun_builder *b, uint16_t type, uint64_t v)
{
	uint8_t val[8];

	fg_stun_wr32(val, (uint32_t)(v >> 32));
	fg_stun_wr32(val + 4, (uint32_t)v);
	return add(b, type, KIND(FG_STUN_K_U64), val, sizeof(val));
}

int fg_stun_add_xor_addr(struct fg_stun_builder *b, uint16_t type, const struct fg_endpoint *ep)
{
	uint8_t val[20];
	size_t len;

	if (b->err)
		return b->err;
	if (!ep || b->len < FG_STUN_HEADER_LEN)
		return fail(b, -EINVAL);
	/* The transaction id is the one the header already holds. */
	len = fg_stun_addr_encode(true, ep, b->buf + 8, val);
	if (!len)
		return fail(b, -EINVAL);
	return add(b, type, KIND(FG_STUN_K_XOR_ADDR), val, len);
}

int fg_stun_add_error(struct fg_stun_builder *b, unsigned code, const char *reason)
{
	uint8_t val[4 + FG_STUN_TEXT_MAX_SEND];
	size_t n = reason ? strlen(reason) : 0;

	if (code < 300 || code > 699 || n > FG_STUN_TEXT_MAX_SEND)
		return fail(b, -EINVAL);
	memset(val, 0, 2);
	val[2] = (uint8_t)(code / 100);
	val[3] = (uint8_t)(code % 100);
	if (n)
		memcpy(val + 4, reason, n);
	return add(b, FG_STUN_ATTR_ERROR_CODE, KIND(FG_STUN_K_ERROR), val, 4 + n);
}

int fg_stun_add_channel(struct fg_stun_builder *b, uint16_t channel)
{
	uint8_t val[4] = { (uint8_t)(channel >> 8), (uint8_t)channel, 0, 0 };

	return add(b, FG_STUN_ATTR_CHANNEL_NUMBER, KIND(FG_STUN_K_CHANNEL), val, sizeof(val));
}

int fg_stun_add_transport(struct fg_stun_builder *b, uint8_t proto)
{
	uint8_t val[4] = { proto, 0, 0, 0 };

	return add(b, FG_STUN_ATTR_REQUESTED_TRANSPORT, KIND(FG_STUN_K_TRANSPORT), val, sizeof(val));
}

int fg_stun_add_family(struct fg_stun_builder *b, uint16_t type, uint8_t family)
{
	uint8_t val[4] = { family == AF_INET ? 0x01 : family == AF_INET6 ? 0x02 : 0, 0, 0, 0 };

	return add(b, type, KIND(FG_STUN_K_FAMILY), val, sizeof(val));
}

int fg_stun_add_unknown(struct fg_stun_builder *b, const uint16_t *types, size_t n)
{
	uint8_t val[2 * FG_STUN_MAX_UNKNOWN];

	if (n > FG_STUN_MAX_UNKNOWN || (n && !types))
		return fail(b, -EINVAL);
	for (size_t i = 0; i < n; i++)
		fg_stun_wr16(val + 2 * i, types[i]);
	return add(b, FG_STUN_ATTR_UNKNOWN_ATTRIBUTES, KIND(FG_STUN_K_UNKNOWN), val, 2 * n);
}

/*
 * MESSAGE-INTEGRITY(-SHA256): the attribute goes in with a dummy value, which puts the
 * header's length where the RFC wants it for the HMAC; the HMAC then replaces the dummy.
 */
static int add_hmac(struct fg_stun_builder *b, bool sha256, const struct fg_stun_key *k)
{
	uint16_t type = sha256 ? FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 : FG_STUN_ATTR_MESSAGE_INTEGRITY;
	size_t n = sha256 ? FG_STUN_HMAC_SHA256_LEN : FG_STUN_HMAC_SHA1_LEN;
	uint8_t mac[FG_STUN_HMAC_SHA256_LEN] = { 0 };
	size_t at = b->len;
	int rc;

	if (b->err)
		return b->err;
	if (!k || !k->len || k->len > FG_STUN_KEY_MAX || b->stage > (sha256 ? AFTER_MI : ATTRS))
		return fail(b, -EINVAL);
	rc = put(b, type, mac, n);
	if (rc < 0)
		return rc;
	rc = fg_stun_hmac(sha256, k, b->buf, at, (uint16_t)(b->len - FG_STUN_HEADER_LEN), mac);
	if (rc < 0)
		return fail(b, rc);
	memcpy(b->buf + at + FG_STUN_ATTR_HEADER_LEN, mac, n);
	OPENSSL_cleanse(mac, sizeof(mac));
	b->stage = sha256 ? AFTER_MI_SHA256 : AFTER_MI;
	return 0;
}

int fg_stun_add_integrity(struct fg_stun_builder *b, const struct fg_stun_key *k)
{
	return add_hmac(b, false, k);
}

int fg_stun_add_integrity_sha256(struct fg_stun_builder *b, const struct fg_stun_key *k)
{
	return add_hmac(b, true, k);
}

int fg_stun_add_fingerprint(struct fg_stun_builder *b)
{
	static const uint8_t dummy[4];
	size_t at = b->len;
	int rc;

	if (b->err)
		return b->err;
	if (b->stage == AFTER_FP)
		return fail(b, -EINVAL);
	rc = put(b, FG_STUN_ATTR_FINGERPRINT, dummy, sizeof(dummy));
	if (rc < 0)
		return rc;
	fg_stun_wr32(b->buf + at + FG_STUN_ATTR_HEADER_LEN, fg_stun_crc(b->buf, at));
	b->stage = AFTER_FP;
	return 0;
}

int fg_stun_build_finish(const struct fg_stun_builder *b)
{
	return b->err ? b->err : (int)b->len;
}
