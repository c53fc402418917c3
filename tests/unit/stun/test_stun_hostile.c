// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/stun/: hostile input. Every truncation of the RFC 5769
 * vectors, with and without the header's length following the cut; header faults (cookie,
 * first bits, a length that is not a multiple of 4 or disagrees with the datagram); a table
 * of crafted attributes that must each be refused with -EBADMSG (lengths past the end,
 * unpadded values, bad address families and lengths, channel numbers out of range, huge
 * reasons, wrong integrity lengths) or accepted; the integrity and FINGERPRINT rules
 * (what MESSAGE-INTEGRITY covers, what comes after it, a truncated MESSAGE-INTEGRITY-SHA256
 * checked against OpenSSL's HMAC directly); duplicates and unknown attributes; and seeded
 * random mutations that must never crash. Every input sits in a buffer of its exact size and
 * the codec is built with ASan and UBSan, so a read past the end fails. Single-threaded.
 */
#include "stun.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "../cunit_run.h"
#include "stun_vectors.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum { MUTATION_ROUNDS = 20000, RAW_MAX = 2048 };

static const uint8_t txid[FG_STUN_TXID_LEN] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 };

/* Parses a copy of exactly len bytes, so ASan sees any read past them. */
static int parse_exact(const uint8_t *buf, size_t len, struct fg_stun_msg *m, uint8_t **copy)
{
	char err[160];
	int rc;

	*copy = malloc(len ? len : 1);
	if (len)
		memcpy(*copy, buf, len);
	err[0] = '\0';
	rc = fg_stun_parse(*copy, len, m, err, sizeof(err));
	/* Every refusal says why. */
	if (rc < 0 && !err[0])
		CU_FAIL("a refusal without a reason");
	return rc;
}

static int parse_rc(const uint8_t *buf, size_t len)
{
	struct fg_stun_msg m;
	uint8_t *copy;
	int rc = parse_exact(buf, len, &m, &copy);

	free(copy);
	return rc;
}

/* A hand-made message: nothing here checks what it writes. */
struct raw {
	uint8_t b[RAW_MAX];
	size_t len;
};

static void raw_start(struct raw *r)
{
	memset(r, 0, sizeof(*r));
	r->b[1] = 0x01; /* Binding request */
	r->b[4] = 0x21;
	r->b[5] = 0x12;
	r->b[6] = 0xa4;
	r->b[7] = 0x42;
	memcpy(r->b + 8, txid, sizeof(txid));
	r->len = FG_STUN_HEADER_LEN;
}

static void raw_fix(struct raw *r)
{
	size_t body = r->len - FG_STUN_HEADER_LEN;

	r->b[2] = (uint8_t)(body >> 8);
	r->b[3] = (uint8_t)body;
}

/* An attribute claiming length len, with n value bytes (val, then 'r'), padded or not. */
static void raw_attr(struct raw *r, uint16_t type, size_t len, size_t n, const void *val,
		     size_t vlen, bool pad)
{
	uint8_t *p = r->b + r->len;

	p[0] = (uint8_t)(type >> 8);
	p[1] = (uint8_t)type;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	memset(p + 4, 'r', n);
	memcpy(p + 4, val, vlen < n ? vlen : n);
	r->len += 4 + n;
	while (pad && r->len % 4)
		r->b[r->len++] = 0;
	raw_fix(r);
}

/* FINGERPRINT computed here with zlib, independently of the codec. */
static void raw_fp(struct raw *r)
{
	uint32_t crc;
	size_t at = r->len;

	raw_attr(r, FG_STUN_ATTR_FINGERPRINT, 4, 4, "", 0, true);
	crc = (uint32_t)crc32(0L, r->b, (uInt)at) ^ 0x5354554e;
	r->b[at + 4] = (uint8_t)(crc >> 24);
	r->b[at + 5] = (uint8_t)(crc >> 16);
	r->b[at + 6] = (uint8_t)(crc >> 8);
	r->b[at + 7] = (uint8_t)crc;
}

static void test_truncations(void)
{
	static const struct {
		const uint8_t *b;
		size_t len;
	} vec[] = {
		{ vec_request, sizeof(vec_request) },
		{ vec_response_v4, sizeof(vec_response_v4) },
		{ vec_response_v6, sizeof(vec_response_v6) },
		{ vec_request_lt, sizeof(vec_request_lt) },
		{ vec_request_b1, sizeof(vec_request_b1) },
	};
	struct fg_stun_key k;

	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&k, vec_short_password), 0);
	for (size_t v = 0; v < ARRAY_LEN(vec); v++) {
		for (size_t n = 0; n < vec[v].len; n++) {
			struct raw r;
			struct fg_stun_msg m;
			uint8_t *copy;
			int rc;

			/* The datagram cut: the header's length disagrees. */
			CU_ASSERT_EQUAL(parse_rc(vec[v].b, n), -EBADMSG);
			if (n < FG_STUN_HEADER_LEN)
				continue;
			/* The header's length follows the cut: only a cut between attributes parses. */
			memcpy(r.b, vec[v].b, n);
			r.len = n;
			raw_fix(&r);
			rc = parse_exact(r.b, n, &m, &copy);
			CU_ASSERT_TRUE(rc == 0 || rc == -EBADMSG);
			if (rc == 0 && v < 3 && fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY))
				/* Cut just before FINGERPRINT: the MI does not cover it, and still holds. */
				CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), 0);
			free(copy);
		}
	}
	fg_stun_key_wipe(&k);
}

static void test_header_faults(void)
{
	uint8_t b[sizeof(vec_request) + 8];

	/* A byte more or less than the header says, a header length not a multiple of 4. */
	memcpy(b, vec_request, sizeof(vec_request));
	memset(b + sizeof(vec_request), 0, 8);
	CU_ASSERT_EQUAL(parse_rc(b, sizeof(vec_request) + 4), -EBADMSG);
	CU_ASSERT_EQUAL(parse_rc(b, sizeof(vec_request) + 1), -EBADMSG);
	CU_ASSERT_FALSE(fg_stun_is_stun(b, sizeof(vec_request) + 4));
	b[3] = 0x59;
	CU_ASSERT_EQUAL(parse_rc(b, sizeof(vec_request) + 1), -EBADMSG);
	b[3] = 0x5c;
	CU_ASSERT_EQUAL(parse_rc(b, sizeof(vec_request)), -EBADMSG);
	/* The magic cookie, each byte. */
	for (size_t i = 4; i < 8; i++) {
		memcpy(b, vec_request, sizeof(vec_request));
		b[i] ^= 0x01;
		CU_ASSERT_EQUAL(parse_rc(b, sizeof(vec_request)), -EBADMSG);
		CU_ASSERT_FALSE(fg_stun_is_stun(b, sizeof(vec_request)));
	}
	/* The first two bits: ChannelData and anything else are not STUN. */
	for (unsigned bit = 0x40; bit <= 0x80; bit <<= 1) {
		memcpy(b, vec_request, sizeof(vec_request));
		b[0] |= (uint8_t)bit;
		CU_ASSERT_EQUAL(parse_rc(b, sizeof(vec_request)), -EBADMSG);
		CU_ASSERT_FALSE(fg_stun_is_stun(b, sizeof(vec_request)));
	}
	CU_ASSERT_TRUE(fg_stun_is_stun(vec_request, sizeof(vec_request)));
	CU_ASSERT_FALSE(fg_stun_is_stun(vec_request, 19));
	/* A bare header is a message with no attributes. */
	memcpy(b, vec_request, 20);
	b[2] = b[3] = 0;
	CU_ASSERT_EQUAL(parse_rc(b, 20), 0);
	CU_ASSERT_EQUAL(parse_rc(b, 0), -EBADMSG);
}

struct attr_spec {
	uint16_t type;
	uint16_t len;         /* what the attribute claims */
	uint16_t n;           /* value bytes written: val, then 'r' */
	const char *val;
	uint8_t vlen;
	bool nopad;
};

#define A(t, l, v, vl) { t, l, l, v, vl, false }

static const struct {
	const char *name;
	struct attr_spec a[3];
	int want;
} cases[] = {
	{ "length past the end", { { FG_STUN_ATTR_USERNAME, 8, 4, "abcd", 4, false } }, -EBADMSG },
	{ "length 0xFFFF", { { FG_STUN_ATTR_SOFTWARE, 0xFFFF, 8, "", 0, false } }, -EBADMSG },
	{ "unknown type past the end", { { 0xC0DE, 5, 4, "", 0, false } }, -EBADMSG },
	{ "value not padded", { { FG_STUN_ATTR_USERNAME, 1, 1, "u", 1, true },
				{ FG_STUN_ATTR_SOFTWARE, 3, 3, "xyz", 3, false } }, -EBADMSG },
	{ "XOR address family 3", { A(FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 8, "\0\3\0\1", 4) }, -EBADMSG },
	{ "XOR address family 0", { A(FG_STUN_ATTR_XOR_RELAYED_ADDRESS, 8, "\0\0\0\1", 4) }, -EBADMSG },
	{ "XOR IPv6 of length 8", { A(FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 8, "\0\2\0\1", 4) }, -EBADMSG },
	{ "XOR IPv4 of length 20", { A(FG_STUN_ATTR_XOR_PEER_ADDRESS, 20, "\0\1\0\1", 4) }, -EBADMSG },
	{ "XOR IPv4 of length 7", { A(FG_STUN_ATTR_XOR_PEER_ADDRESS, 7, "\0\1\0\1", 4) }, -EBADMSG },
	{ "XOR address of length 12", { A(FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 12, "\0\1\0\1", 4) }, -EBADMSG },
	{ "XOR address of length 0", { A(FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, "", 0) }, -EBADMSG },
	{ "MAPPED-ADDRESS family 7", { A(FG_STUN_ATTR_MAPPED_ADDRESS, 8, "\0\7\0\1", 4) }, -EBADMSG },
	{ "ALTERNATE-SERVER IPv6 of 19", { A(FG_STUN_ATTR_ALTERNATE_SERVER, 19, "\0\2", 2) }, -EBADMSG },
	{ "XOR address, reserved byte set", { A(FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 8, "\xff\1\0\1", 4) }, 0 },
	{ "CHANNEL-NUMBER 0x3FFF", { A(FG_STUN_ATTR_CHANNEL_NUMBER, 4, "\x3f\xff", 2) }, -EBADMSG },
	{ "CHANNEL-NUMBER 0x5000", { A(FG_STUN_ATTR_CHANNEL_NUMBER, 4, "\x50\x00", 2) }, -EBADMSG },
	{ "CHANNEL-NUMBER 0xFFFF", { A(FG_STUN_ATTR_CHANNEL_NUMBER, 4, "\xff\xff", 2) }, -EBADMSG },
	{ "CHANNEL-NUMBER 0", { A(FG_STUN_ATTR_CHANNEL_NUMBER, 4, "\0\0", 2) }, -EBADMSG },
	{ "CHANNEL-NUMBER of length 2", { A(FG_STUN_ATTR_CHANNEL_NUMBER, 2, "\x40\x00", 2) }, -EBADMSG },
	{ "CHANNEL-NUMBER 0x4FFF", { A(FG_STUN_ATTR_CHANNEL_NUMBER, 4, "\x4f\xff\xff\xff", 4) }, 0 },
	{ "ERROR-CODE reason of 764", { A(FG_STUN_ATTR_ERROR_CODE, 768, "\0\0\4\1", 4) }, -EBADMSG },
	{ "ERROR-CODE reason of 763", { A(FG_STUN_ATTR_ERROR_CODE, 767, "\0\0\4\1", 4) }, 0 },
	{ "ERROR-CODE class 2", { A(FG_STUN_ATTR_ERROR_CODE, 4, "\0\0\2\1", 4) }, -EBADMSG },
	{ "ERROR-CODE class 7", { A(FG_STUN_ATTR_ERROR_CODE, 4, "\0\0\7\1", 4) }, -EBADMSG },
	{ "ERROR-CODE number 100", { A(FG_STUN_ATTR_ERROR_CODE, 4, "\0\0\4\x64", 4) }, -EBADMSG },
	{ "ERROR-CODE of length 3", { A(FG_STUN_ATTR_ERROR_CODE, 3, "\0\0\4", 3) }, -EBADMSG },
	{ "ERROR-CODE reserved bits set", { A(FG_STUN_ATTR_ERROR_CODE, 4, "\xff\xff\xfc\x01", 4) }, 0 },
	{ "MESSAGE-INTEGRITY of 19", { A(FG_STUN_ATTR_MESSAGE_INTEGRITY, 19, "", 0) }, -EBADMSG },
	{ "MESSAGE-INTEGRITY of 21", { A(FG_STUN_ATTR_MESSAGE_INTEGRITY, 21, "", 0) }, -EBADMSG },
	{ "MESSAGE-INTEGRITY-SHA256 of 12", { A(FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 12, "", 0) }, -EBADMSG },
	{ "MESSAGE-INTEGRITY-SHA256 of 18", { A(FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 18, "", 0) }, -EBADMSG },
	{ "MESSAGE-INTEGRITY-SHA256 of 36", { A(FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 36, "", 0) }, -EBADMSG },
	{ "FINGERPRINT of 8", { A(FG_STUN_ATTR_FINGERPRINT, 8, "", 0) }, -EBADMSG },
	{ "FINGERPRINT of 3", { A(FG_STUN_ATTR_FINGERPRINT, 3, "", 0) }, -EBADMSG },
	{ "FINGERPRINT wrong", { A(FG_STUN_ATTR_FINGERPRINT, 4, "", 0) }, -EBADMSG },
	{ "PRIORITY of 3", { A(FG_STUN_ATTR_PRIORITY, 3, "", 0) }, -EBADMSG },
	{ "LIFETIME of 8", { A(FG_STUN_ATTR_LIFETIME, 8, "", 0) }, -EBADMSG },
	{ "ICE-CONTROLLED of 4", { A(FG_STUN_ATTR_ICE_CONTROLLED, 4, "", 0) }, -EBADMSG },
	{ "ICE-CONTROLLING of 12", { A(FG_STUN_ATTR_ICE_CONTROLLING, 12, "", 0) }, -EBADMSG },
	{ "USE-CANDIDATE of 4", { A(FG_STUN_ATTR_USE_CANDIDATE, 4, "", 0) }, -EBADMSG },
	{ "USERHASH of 31", { A(FG_STUN_ATTR_USERHASH, 31, "", 0) }, -EBADMSG },
	{ "USERNAME of 764", { A(FG_STUN_ATTR_USERNAME, 764, "", 0) }, -EBADMSG },
	{ "USERNAME of 763", { A(FG_STUN_ATTR_USERNAME, 763, "", 0) }, 0 },
	{ "REALM of 764", { A(FG_STUN_ATTR_REALM, 764, "", 0) }, -EBADMSG },
	{ "NONCE of 1000", { A(FG_STUN_ATTR_NONCE, 1000, "", 0) }, -EBADMSG },
	{ "SOFTWARE of 764", { A(FG_STUN_ATTR_SOFTWARE, 764, "", 0) }, -EBADMSG },
	{ "REQUESTED-TRANSPORT of 1", { A(FG_STUN_ATTR_REQUESTED_TRANSPORT, 1, "\x11", 1) }, -EBADMSG },
	{ "ADDITIONAL-ADDRESS-FAMILY 3", { A(FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, 4, "\3\0\0\0", 4) }, -EBADMSG },
	{ "REQUESTED-ADDRESS-FAMILY of 8", { A(FG_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, 8, "\1", 1) }, -EBADMSG },
	{ "UNKNOWN-ATTRIBUTES of 3", { A(FG_STUN_ATTR_UNKNOWN_ATTRIBUTES, 3, "", 0) }, -EBADMSG },
	{ "UNKNOWN-ATTRIBUTES of 2", { A(FG_STUN_ATTR_UNKNOWN_ATTRIBUTES, 2, "\0\3", 2) }, 0 },
	{ "DATA of 0", { A(FG_STUN_ATTR_DATA, 0, "", 0) }, 0 },
	{ "unknown comprehension-required", { A(0x0002, 4, "", 0) }, -ENOTSUP },
	{ "unknown comprehension-optional", { A(0xFFFF, 4, "", 0) }, 0 },
	{ "a malformed duplicate", { A(FG_STUN_ATTR_PRIORITY, 4, "", 0), A(FG_STUN_ATTR_PRIORITY, 2, "", 0) },
	  -EBADMSG },
	{ "malformed after MESSAGE-INTEGRITY: ignored",
	  { A(FG_STUN_ATTR_MESSAGE_INTEGRITY, 20, "", 0), A(FG_STUN_ATTR_PRIORITY, 3, "", 0),
	    A(0x0002, 1, "", 0) }, 0 },
	{ "after FINGERPRINT", { A(FG_STUN_ATTR_FINGERPRINT, 4, "", 0), A(FG_STUN_ATTR_SOFTWARE, 1, "x", 1) },
	  -EBADMSG },
	{ "SHA256 after MI, then junk",
	  { A(FG_STUN_ATTR_MESSAGE_INTEGRITY, 20, "", 0), A(FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 32, "", 0),
	    A(FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 3, "", 0) }, 0 },
};

static void test_attribute_table(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct raw r;
		int rc;

		raw_start(&r);
		for (size_t j = 0; j < ARRAY_LEN(cases[i].a) && cases[i].a[j].type; j++) {
			const struct attr_spec *s = &cases[i].a[j];

			raw_attr(&r, s->type, s->len, s->n, s->val, s->vlen, !s->nopad);
		}
		rc = parse_rc(r.b, r.len);
		if (rc != cases[i].want) {
			printf("\n    %s: %d, want %d", cases[i].name, rc, cases[i].want);
			CU_FAIL("attribute case");
		}
	}
}

/* MESSAGE-INTEGRITY covers what is before it; FINGERPRINT covers everything. */
static void test_integrity_rules(void)
{
	uint8_t b[sizeof(vec_request)];
	struct fg_stun_msg m;
	struct fg_stun_key k;
	struct raw r;
	uint8_t *copy;

	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&k, vec_short_password), 0);
	/* A changed SOFTWARE with a FINGERPRINT made to match: parses, integrity fails. */
	memcpy(r.b, vec_request, sizeof(vec_request) - 8);
	r.len = sizeof(vec_request) - 8;
	r.b[24] = 's';
	raw_fp(&r);
	CU_ASSERT_EQUAL_FATAL(parse_exact(r.b, r.len, &m, &copy), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), -EACCES);
	free(copy);
	/* A changed MI: the FINGERPRINT no longer matches. */
	memcpy(b, vec_request, sizeof(b));
	b[sizeof(b) - 20] ^= 0x10;
	CU_ASSERT_EQUAL(parse_rc(b, sizeof(b)), -EBADMSG);
	/* A changed FINGERPRINT. */
	memcpy(b, vec_request, sizeof(b));
	b[sizeof(b) - 1] ^= 0x01;
	CU_ASSERT_EQUAL(parse_rc(b, sizeof(b)), -EBADMSG);
	/* Attributes between MI and FINGERPRINT: ignored, and MI still holds. */
	memcpy(r.b, vec_request, sizeof(vec_request) - 8);
	r.len = sizeof(vec_request) - 8;
	raw_attr(&r, FG_STUN_ATTR_USERNAME, 5, 5, "other", 5, true);
	raw_attr(&r, 0x0033, 0, 0, "", 0, true);
	raw_fp(&r);
	CU_ASSERT_EQUAL_FATAL(parse_exact(r.b, r.len, &m, &copy), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), 0);
	{
		const uint8_t *v;
		size_t n;

		CU_ASSERT_EQUAL(fg_stun_get_bytes(&m, FG_STUN_ATTR_USERNAME, &v, &n), 0);
		CU_ASSERT_TRUE(n == 9 && !memcmp(v, "evtj:h6vY", 9));
	}
	free(copy);
	/* No MI: -ENOENT. */
	raw_start(&r);
	raw_attr(&r, FG_STUN_ATTR_USERNAME, 5, 5, "other", 5, true);
	CU_ASSERT_EQUAL_FATAL(parse_exact(r.b, r.len, &m, &copy), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), -ENOENT);
	free(copy);
	fg_stun_key_wipe(&k);
}

/* A 16-byte MESSAGE-INTEGRITY-SHA256, made here with OpenSSL's HMAC() directly. */
static void test_truncated_sha256(void)
{
	struct fg_stun_msg m;
	struct fg_stun_key k;
	uint8_t mac[32];
	unsigned maclen = 0;
	uint8_t *copy;
	struct raw r;
	size_t at;

	raw_start(&r);
	raw_attr(&r, FG_STUN_ATTR_USERNAME, 4, 4, "user", 4, true);
	at = r.len;
	raw_attr(&r, FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, 16, 16, "", 0, true);
	CU_ASSERT_FATAL(HMAC(EVP_sha256(), "secret", 6, r.b, at, mac, &maclen) != NULL);
	memcpy(r.b + at + 4, mac, 16);
	CU_ASSERT_EQUAL_FATAL(parse_exact(r.b, r.len, &m, &copy), 0);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&k, "secret"), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), 0);
	free(copy);
	r.b[at + 4 + 15] ^= 1;
	CU_ASSERT_EQUAL_FATAL(parse_exact(r.b, r.len, &m, &copy), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), -EACCES);
	free(copy);
	fg_stun_key_wipe(&k);
}

static void test_duplicates_and_unknowns(void)
{
	struct fg_stun_msg m;
	struct fg_endpoint e;
	uint8_t *copy;
	struct raw r;
	const uint8_t *v;
	size_t n;

	raw_start(&r);
	raw_attr(&r, FG_STUN_ATTR_USERNAME, 5, 5, "first", 5, true);
	raw_attr(&r, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 8, 8, "\0\1\x21\x13\x21\x12\xa4\x43", 8, true);
	raw_attr(&r, FG_STUN_ATTR_USERNAME, 6, 6, "second", 6, true);
	raw_attr(&r, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 8, 8, "\0\1\x21\x14\x21\x12\xa4\x44", 8, true);
	CU_ASSERT_EQUAL_FATAL(parse_exact(r.b, r.len, &m, &copy), 0);
	CU_ASSERT_EQUAL(fg_stun_get_bytes(&m, FG_STUN_ATTR_USERNAME, &v, &n), 0);
	CU_ASSERT_TRUE(n == 5 && !memcmp(v, "first", 5));
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &e), 0);
	CU_ASSERT_TRUE(e.port == 1 && e.ip.addr[0] == 0 && e.ip.addr[3] == 1);
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 1, &e), 0);
	CU_ASSERT_TRUE(e.port == 6 && e.ip.addr[3] == 6);
	free(copy);

	/* More unknown comprehension-required types than are remembered. */
	raw_start(&r);
	for (uint16_t t = 0x7000; t < 0x7000 + FG_STUN_MAX_UNKNOWN + 3; t++)
		raw_attr(&r, t, 0, 0, "", 0, true);
	raw_attr(&r, 0x7000, 0, 0, "", 0, true);
	CU_ASSERT_EQUAL_FATAL(parse_exact(r.b, r.len, &m, &copy), -ENOTSUP);
	CU_ASSERT_EQUAL(m.n_unknown, FG_STUN_MAX_UNKNOWN);
	CU_ASSERT_TRUE(m.unknown_overflow);
	CU_ASSERT_EQUAL(m.unknown[0], 0x7000);
	CU_ASSERT_EQUAL(m.method, FG_STUN_BINDING);
	free(copy);
	/* A malformed message with unknown types too: malformed wins. */
	raw_attr(&r, FG_STUN_ATTR_PRIORITY, 1, 1, "", 0, true);
	CU_ASSERT_EQUAL(parse_rc(r.b, r.len), -EBADMSG);
}

static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Reads every known attribute of a parsed message through every getter. */
static void poke(const struct fg_stun_msg *m, const struct fg_stun_key *k)
{
	static const uint16_t types[] = {
		0x0001, 0x0006, 0x0008, 0x0009, 0x000A, 0x000C, 0x000D, 0x0012, 0x0013, 0x0014,
		0x0015, 0x0016, 0x0017, 0x0019, 0x001C, 0x001E, 0x0020, 0x0024, 0x0025, 0x8000,
		0x8022, 0x8023, 0x8028, 0x8029, 0x802A,
	};
	struct fg_endpoint e;
	struct fg_stun_attr a;
	const uint8_t *v;
	const char *reason;
	uint16_t u16s[4];
	uint64_t u64;
	uint32_t u32;
	uint16_t ch;
	size_t n, pos = 0;
	unsigned code;
	uint8_t u8;
	int rc;

	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		fg_stun_get_bytes(m, types[i], &v, &n);
		fg_stun_get_u32(m, types[i], &u32);
		fg_stun_get_u64(m, types[i], &u64);
		for (unsigned nth = 0; nth < 3; nth++)
			fg_stun_get_addr(m, types[i], nth, &e);
		fg_stun_get_family(m, types[i], &u8);
	}
	if (fg_stun_get_error(m, &code, &reason, &n) == 0)
		CU_ASSERT_TRUE(code >= 300 && code <= 699);
	if (fg_stun_get_channel(m, &ch) == 0)
		CU_ASSERT_TRUE(ch >= 0x4000 && ch <= 0x4FFF);
	fg_stun_get_transport(m, &u8);
	fg_stun_get_unknown(m, u16s, ARRAY_LEN(u16s), &n);
	while (fg_stun_attr_next(m, &pos, &a))
		;
	rc = fg_stun_check_integrity(m, k);
	CU_ASSERT_TRUE(rc == 0 || rc == -EACCES || rc == -ENOENT);
}

static void test_mutations(void)
{
	static const struct {
		const uint8_t *b;
		size_t len;
	} vec[] = {
		{ vec_request, sizeof(vec_request) },
		{ vec_response_v6, sizeof(vec_response_v6) },
		{ vec_request_b1, sizeof(vec_request_b1) },
	};
	unsigned parsed = 0;
	uint32_t seed = 0x5354554e;
	struct fg_stun_key k;

	fg_stun_key_short_term(&k, vec_short_password);
	for (unsigned round = 0; round < MUTATION_ROUNDS; round++) {
		struct raw r;
		struct fg_stun_msg m;
		uint8_t *copy;
		unsigned flips = 1 + xorshift(&seed) % 4;
		size_t v = xorshift(&seed) % ARRAY_LEN(vec);
		int rc;

		memcpy(r.b, vec[v].b, vec[v].len);
		r.len = vec[v].len;
		/* Cut the FINGERPRINT off so most mutations get past it. */
		if (xorshift(&seed) % 2 && v < 2) {
			r.len -= 8;
			raw_fix(&r);
		}
		for (unsigned f = 0; f < flips; f++) {
			size_t at = FG_STUN_HEADER_LEN + xorshift(&seed) % (r.len - FG_STUN_HEADER_LEN);

			r.b[at] = (uint8_t)xorshift(&seed);
		}
		rc = parse_exact(r.b, r.len, &m, &copy);
		CU_ASSERT_TRUE(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP);
		if (rc != -EBADMSG) {
			parsed++;
			poke(&m, &k);
		}
		free(copy);
	}
	printf("\n    %u of %u mutated messages parsed: ", parsed, MUTATION_ROUNDS);
	CU_ASSERT_TRUE(parsed > MUTATION_ROUNDS / 10);
	fg_stun_key_wipe(&k);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "every truncation", test_truncations },
		{ "header faults", test_header_faults },
		{ "attribute table", test_attribute_table },
		{ "integrity and fingerprint rules", test_integrity_rules },
		{ "truncated MESSAGE-INTEGRITY-SHA256", test_truncated_sha256 },
		{ "duplicates and unknown attributes", test_duplicates_and_unknowns },
		{ "random mutations", test_mutations },
	};

	return fg_cunit_run("stun_hostile", tests, ARRAY_LEN(tests));
}
