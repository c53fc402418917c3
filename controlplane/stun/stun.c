/* SPDX-License-Identifier: MIT */
/*
 * Reading STUN messages: the parser (header checks, one walk over the attributes that checks
 * each against the message's bounds and each known value against its rule in stun_attr.c,
 * the ordering rules of MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, the
 * FINGERPRINT check, the list of unknown comprehension-required types), and message
 * integrity: the short- and long-term keys (RFC 8489 §9.1.1, §9.2.2), HMAC-SHA1 and
 * HMAC-SHA256 over a message whose length field is taken as §14.5 and §14.6 say without
 * touching the caller's buffer, and the constant-time check. The parser allocates nothing
 * and copies only the transaction id: the result points into the caller's buffer. OpenSSL 3
 * (EVP_MAC, EVP_MD), already the control plane's TLS library, does the hashing. No state;
 * any thread.
 */
#include "stun.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <zlib.h>

#include "errbuf.h"
#include "stun_priv.h"

/* Where the walk is relative to the integrity attributes, which decides what counts. */
enum stage {
	ATTRS,           /* everything is processed */
	AFTER_MI,        /* only MESSAGE-INTEGRITY-SHA256 and FINGERPRINT count (§14.5) */
	AFTER_MI_SHA256, /* only FINGERPRINT counts (§14.6) */
	AFTER_FP,        /* nothing may follow FINGERPRINT (§14.7) */
};

enum {
	TYPE_TOP_BITS = 0xC000,
	COMPREHENSION_OPTIONAL = 0x8000,
};

#define bad(...) fg_errbuf_fail(-EBADMSG, err, errlen, __VA_ARGS__)

uint16_t fg_stun_type(uint16_t method, enum fg_stun_class cls)
{
	unsigned c = (unsigned)cls & 3;

	return (uint16_t)((method & 0x000F) | (method & 0x0070) << 1 | (method & 0x0F80) << 2 |
			  (c & 1) << 4 | (c & 2) << 7);
}

void fg_stun_type_split(uint16_t type, uint16_t *method, uint8_t *cls)
{
	*method = (uint16_t)((type & 0x000F) | (type & 0x00E0) >> 1 | (type & 0x3E00) >> 2);
	*cls = (uint8_t)((type >> 4 & 1) | (type >> 7 & 2));
}

static int check_header(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	size_t body;

	if (len < FG_STUN_HEADER_LEN)
		return bad("%zu bytes: shorter than a STUN header", len);
	if (fg_stun_rd16(buf) & TYPE_TOP_BITS)
		return bad("offset 0: the first two bits are not zero");
	if (fg_stun_rd32(buf + 4) != FG_STUN_MAGIC_COOKIE)
		return bad("offset 4: no magic cookie (0x%08x)", fg_stun_rd32(buf + 4));
	body = fg_stun_rd16(buf + 2);
	if (body % 4)
		return bad("offset 2: length %zu is not a multiple of 4", body);
	if (FG_STUN_HEADER_LEN + body != len)
		return bad("offset 2: length %zu disagrees with the %zu bytes after the header",
			   body, len - FG_STUN_HEADER_LEN);
	return 0;
}

bool fg_stun_is_stun(const uint8_t *buf, size_t len)
{
	return check_header(buf, len, NULL, 0) == 0;
}

static void note_unknown(struct fg_stun_msg *m, uint16_t type)
{
	for (unsigned i = 0; i < m->n_unknown; i++)
		if (m->unknown[i] == type)
			return;
	if (m->n_unknown < FG_STUN_MAX_UNKNOWN)
		m->unknown[m->n_unknown++] = type;
	else
		m->unknown_overflow = true;
}

/* Does an attribute met at this stage count? FINGERPRINT is handled before. */
static bool counts(enum stage st, uint16_t type)
{
	return st == ATTRS || (st == AFTER_MI && type == FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
}

/*
 * One attribute at pos that counts: unknown ones are noted, known ones checked and the first
 * occurrence recorded; the integrity attributes move the stage on.
 */
static int take(struct fg_stun_msg *m, size_t pos, enum stage *st, char *err, size_t errlen)
{
	uint16_t type = fg_stun_rd16(m->buf + pos);
	uint16_t alen = fg_stun_rd16(m->buf + pos + 2);
	int slot = fg_stun_slot(type);
	const char *why;

	if (slot < 0) {
		if (type < COMPREHENSION_OPTIONAL)
			note_unknown(m, type);
		return 0;
	}
	why = fg_stun_check_value(fg_stun_rule_at(slot), m->buf + pos + FG_STUN_ATTR_HEADER_LEN,
				  alen, false);
	if (why)
		return bad("offset %zu: attribute 0x%04x of length %u: %s", pos, type, alen, why);
	if (!m->first[slot])
		m->first[slot] = (uint32_t)pos;
	if (type == FG_STUN_ATTR_MESSAGE_INTEGRITY || type == FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
		if (*st == ATTRS)
			m->attrs_end = pos;
		*st = type == FG_STUN_ATTR_MESSAGE_INTEGRITY ? AFTER_MI : AFTER_MI_SHA256;
	}
	return 0;
}

static int check_fingerprint(const struct fg_stun_msg *m, char *err, size_t errlen)
{
	size_t at = m->first[fg_stun_slot(FG_STUN_ATTR_FINGERPRINT)];
	uint32_t want, got;

	if (!at)
		return 0;
	want = fg_stun_crc(m->buf, at);
	got = fg_stun_rd32(m->buf + at + FG_STUN_ATTR_HEADER_LEN);
	if (want != got)
		return bad("offset %zu: FINGERPRINT 0x%08x, the message's is 0x%08x", at, got, want);
	return 0;
}

int fg_stun_parse(const uint8_t *buf, size_t len, struct fg_stun_msg *m, char *err, size_t errlen)
{
	enum stage st = ATTRS;
	size_t pos, next;
	int rc;

	memset(m, 0, sizeof(*m));
	rc = check_header(buf, len, err, errlen);
	if (rc < 0)
		return rc;
	m->buf = buf;
	m->len = len;
	fg_stun_type_split(fg_stun_rd16(buf), &m->method, &m->cls);
	memcpy(m->txid, buf + 8, FG_STUN_TXID_LEN);
	m->attrs_end = len;

	/* The header made len a multiple of 4, so every attribute header lies inside. */
	for (pos = FG_STUN_HEADER_LEN; pos < len; pos = next) {
		uint16_t type = fg_stun_rd16(buf + pos);
		size_t alen = fg_stun_rd16(buf + pos + 2);
		size_t room = len - pos - FG_STUN_ATTR_HEADER_LEN;

		/* room is a multiple of 4, so a value that fits fits with its padding. */
		if (alen > room)
			return bad("offset %zu: attribute 0x%04x of length %zu runs %zu bytes past the end",
				   pos, type, alen, alen - room);
		next = pos + FG_STUN_ATTR_HEADER_LEN + fg_stun_pad4(alen);
		if (st == AFTER_FP)
			return bad("offset %zu: attribute 0x%04x after FINGERPRINT", pos, type);
		if (type == FG_STUN_ATTR_FINGERPRINT) {
			if (alen != 4)
				return bad("offset %zu: FINGERPRINT of length %zu", pos, alen);
			m->first[fg_stun_slot(type)] = (uint32_t)pos;
			if (st == ATTRS)
				m->attrs_end = pos;
			st = AFTER_FP;
			continue;
		}
		if (!counts(st, type))
			continue;
		rc = take(m, pos, &st, err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = check_fingerprint(m, err, errlen);
	if (rc < 0)
		return rc;
	if (m->n_unknown)
		return fg_errbuf_fail(-ENOTSUP, err, errlen,
				      "%u unknown comprehension-required attribute(s), the first 0x%04x",
				      m->n_unknown, m->unknown[0]);
	return 0;
}

bool fg_stun_attr_next(const struct fg_stun_msg *m, size_t *pos, struct fg_stun_attr *a)
{
	size_t p = *pos ? *pos : FG_STUN_HEADER_LEN;

	if (p < FG_STUN_HEADER_LEN || p + FG_STUN_ATTR_HEADER_LEN > m->attrs_end)
		return false;
	a->type = fg_stun_rd16(m->buf + p);
	a->len = fg_stun_rd16(m->buf + p + 2);
	a->val = m->buf + p + FG_STUN_ATTR_HEADER_LEN;
	if (p + FG_STUN_ATTR_HEADER_LEN + a->len > m->len)
		return false;
	*pos = p + FG_STUN_ATTR_HEADER_LEN + fg_stun_pad4(a->len);
	return true;
}

/*
 * FINGERPRINT is the CRC-32 of ITU V.42 (RFC 8489 §14.7 points at RFC 1952's sample code,
 * which is zlib's): exactly zlib's crc32(). libz is already mapped into the control plane
 * through libwebsockets (Debian's links it), its CRC is fast and tested everywhere, and a
 * private table would be one more thing to get wrong. Build dependency: zlib1g-dev.
 */
uint32_t fg_stun_crc(const uint8_t *buf, size_t len)
{
	return (uint32_t)crc32_z(0L, buf, len) ^ FG_STUN_FINGERPRINT_XOR;
}

int fg_stun_hmac(bool sha256, const struct fg_stun_key *k, const uint8_t *buf, size_t upto,
		 uint16_t length_field, uint8_t *out)
{
	char digest[] = "SHA256";
	OSSL_PARAM params[2];
	uint8_t hdr[4];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	size_t outlen = 0;
	int rc = -ENOMEM;

	if (!k->len || k->len > FG_STUN_KEY_MAX || upto < FG_STUN_HEADER_LEN)
		return -EINVAL;
	if (!sha256)
		memcpy(digest, "SHA1", sizeof("SHA1"));
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	/* The type as it is, the length as the RFC wants it, then the rest unchanged. */
	memcpy(hdr, buf, 2);
	fg_stun_wr16(hdr + 2, length_field);
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		goto out;
	ctx = EVP_MAC_CTX_new(mac);
	if (!ctx || !EVP_MAC_init(ctx, k->bytes, k->len, params) ||
	    !EVP_MAC_update(ctx, hdr, sizeof(hdr)) ||
	    !EVP_MAC_update(ctx, buf + sizeof(hdr), upto - sizeof(hdr)) ||
	    !EVP_MAC_final(ctx, out, &outlen, FG_STUN_HMAC_SHA256_LEN))
		goto out;
	rc = 0;
out:
	/* Freeing the context cleanses the key schedule it holds. */
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

int fg_stun_key_short_term(struct fg_stun_key *k, const char *password)
{
	size_t n = password ? strlen(password) : 0;

	memset(k, 0, sizeof(*k));
	if (!n || n > FG_STUN_KEY_MAX)
		return -EINVAL;
	memcpy(k->bytes, password, n);
	k->len = n;
	return 0;
}

int fg_stun_key_long_term(struct fg_stun_key *k, const char *username, const char *realm,
			  const char *password)
{
	EVP_MD_CTX *ctx;
	unsigned n = 0;
	int rc = -ENOMEM;

	memset(k, 0, sizeof(*k));
	if (!username || !realm || !password)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) &&
	    EVP_DigestUpdate(ctx, username, strlen(username)) &&
	    EVP_DigestUpdate(ctx, ":", 1) &&
	    EVP_DigestUpdate(ctx, realm, strlen(realm)) &&
	    EVP_DigestUpdate(ctx, ":", 1) &&
	    EVP_DigestUpdate(ctx, password, strlen(password)) &&
	    EVP_DigestFinal_ex(ctx, k->bytes, &n) && n == FG_STUN_MD5_LEN) {
		k->len = n;
		rc = 0;
	} else {
		OPENSSL_cleanse(k, sizeof(*k));
	}
	/* Freeing the context cleanses the digest state, which the password went through. */
	EVP_MD_CTX_free(ctx);
	return rc;
}

void fg_stun_key_wipe(struct fg_stun_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}

int fg_stun_check_integrity(const struct fg_stun_msg *m, const struct fg_stun_key *k)
{
	size_t at = m->first[fg_stun_slot(FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256)];
	bool sha256 = at != 0;
	uint8_t mac[FG_STUN_HMAC_SHA256_LEN];
	size_t alen;
	int rc;

	if (!sha256)
		at = m->first[fg_stun_slot(FG_STUN_ATTR_MESSAGE_INTEGRITY)];
	if (!at)
		return -ENOENT;
	alen = fg_stun_rd16(m->buf + at + 2);
	/* The length field ends the message right after this attribute. */
	rc = fg_stun_hmac(sha256, k, m->buf, at,
			  (uint16_t)(at + FG_STUN_ATTR_HEADER_LEN + alen - FG_STUN_HEADER_LEN), mac);
	if (rc < 0)
		return rc;
	rc = CRYPTO_memcmp(mac, m->buf + at + FG_STUN_ATTR_HEADER_LEN, alen) ? -EACCES : 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}
