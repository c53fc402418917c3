// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/stun/ (parse, build, integrity): the RFC 5769 and RFC 8489
 * test vectors parsed, verified and rebuilt to the exact bytes; the method and class
 * encoding; the messages Firezone's relay client and ICE agent exchange (reference §5.2,
 * §5.3) built, parsed and checked field by field; the builder's bounds (every buffer size,
 * the 16-bit length, the order of the integrity attributes, values the parser would refuse).
 * Hostile input is in test_stun_hostile.c. Single-threaded.
 */
#include "stun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include "stun_vectors.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t txid[FG_STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static struct fg_endpoint ep(const char *s)
{
	struct fg_endpoint e;

	CU_ASSERT_EQUAL_FATAL(fg_endpoint_parse(s, &e), 0);
	return e;
}

static bool ep_eq(const struct fg_endpoint *e, const char *s)
{
	struct fg_endpoint want = ep(s);

	return fg_endpoint_equal(e, &want);
}

static bool bytes_eq(const struct fg_stun_msg *m, uint16_t type, const char *want)
{
	const uint8_t *v;
	size_t n;

	return fg_stun_get_bytes(m, type, &v, &n) == 0 && n == strlen(want) && !memcmp(v, want, n);
}

static int parse(const uint8_t *buf, size_t len, struct fg_stun_msg *m)
{
	char err[160] = "";
	int rc = fg_stun_parse(buf, len, m, err, sizeof(err));

	if (rc == -EBADMSG)
		printf("\n    parse: %s", err);
	return rc;
}

static void test_type_encoding(void)
{
	static const struct {
		uint16_t method;
		enum fg_stun_class cls;
		uint16_t type;
	} cases[] = {
		{ FG_STUN_BINDING, FG_STUN_REQUEST, 0x0001 },
		{ FG_STUN_BINDING, FG_STUN_INDICATION, 0x0011 },
		{ FG_STUN_BINDING, FG_STUN_SUCCESS, 0x0101 },
		{ FG_STUN_BINDING, FG_STUN_ERROR, 0x0111 },
		{ FG_STUN_ALLOCATE, FG_STUN_REQUEST, 0x0003 },
		{ FG_STUN_ALLOCATE, FG_STUN_SUCCESS, 0x0103 },
		{ FG_STUN_ALLOCATE, FG_STUN_ERROR, 0x0113 },
		{ FG_STUN_REFRESH, FG_STUN_REQUEST, 0x0004 },
		{ FG_STUN_SEND, FG_STUN_INDICATION, 0x0016 },
		{ FG_STUN_DATA, FG_STUN_INDICATION, 0x0017 },
		{ FG_STUN_CREATE_PERMISSION, FG_STUN_REQUEST, 0x0008 },
		{ FG_STUN_CHANNEL_BIND, FG_STUN_SUCCESS, 0x0109 },
		{ 0x0FFF, FG_STUN_ERROR, 0x3FFF },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		CU_ASSERT_EQUAL(fg_stun_type(cases[i].method, cases[i].cls), cases[i].type);
	/* Every method and class goes there and back, and never sets the top two bits. */
	for (unsigned method = 0; method <= 0x0FFF; method++) {
		for (unsigned cls = 0; cls < 4; cls++) {
			uint16_t t = fg_stun_type((uint16_t)method, (enum fg_stun_class)cls), mm;
			uint8_t cc;

			fg_stun_type_split(t, &mm, &cc);
			if (mm != method || cc != cls || (t & 0xC000))
				CU_FAIL("method/class round trip");
		}
	}
}

static void check_short_term(const uint8_t *buf, size_t len, struct fg_stun_msg *m)
{
	struct fg_stun_key k, wrong;

	CU_ASSERT_EQUAL_FATAL(parse(buf, len, m), 0);
	CU_ASSERT_TRUE(fg_stun_is_stun(buf, len));
	CU_ASSERT_EQUAL(m->method, FG_STUN_BINDING);
	CU_ASSERT_EQUAL(memcmp(m->txid, vec_txid_short, FG_STUN_TXID_LEN), 0);
	CU_ASSERT_TRUE(fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY));
	CU_ASSERT_TRUE(fg_stun_has(m, FG_STUN_ATTR_FINGERPRINT));
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&k, vec_short_password), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(m, &k), 0);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&wrong, "VOkJxbRl1RmTxUk/WvJxBT"), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(m, &wrong), -EACCES);
	fg_stun_key_wipe(&k);
	fg_stun_key_wipe(&wrong);
	CU_ASSERT_EQUAL(k.len, 0);
}

static void test_rfc5769_parse(void)
{
	struct fg_stun_msg m;
	struct fg_endpoint e;
	struct fg_stun_key k;
	uint32_t prio = 0;
	uint64_t tie = 0;

	check_short_term(vec_request, sizeof(vec_request), &m);
	CU_ASSERT_EQUAL(m.cls, FG_STUN_REQUEST);
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_SOFTWARE, "STUN test client"));
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_USERNAME, "evtj:h6vY"));
	CU_ASSERT_EQUAL(fg_stun_get_u32(&m, FG_STUN_ATTR_PRIORITY, &prio), 0);
	CU_ASSERT_EQUAL(prio, 0x6e0001ff);
	CU_ASSERT_EQUAL(fg_stun_get_u64(&m, FG_STUN_ATTR_ICE_CONTROLLED, &tie), 0);
	CU_ASSERT_EQUAL(tie, 0x932ff9b151263b36ull);
	CU_ASSERT_EQUAL(fg_stun_get_u64(&m, FG_STUN_ATTR_ICE_CONTROLLING, &tie), -ENOENT);
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_USE_CANDIDATE));

	check_short_term(vec_response_v4, sizeof(vec_response_v4), &m);
	CU_ASSERT_EQUAL(m.cls, FG_STUN_SUCCESS);
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_SOFTWARE, "test vector"));
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &e), 0);
	CU_ASSERT_TRUE(ep_eq(&e, "192.0.2.1:32853"));
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 1, &e), -ENOENT);

	check_short_term(vec_response_v6, sizeof(vec_response_v6), &m);
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &e), 0);
	CU_ASSERT_TRUE(ep_eq(&e, "[2001:db8:1234:5678:11:2233:4455:6677]:32853"));

	CU_ASSERT_EQUAL_FATAL(parse(vec_request_lt, sizeof(vec_request_lt), &m), 0);
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_USERNAME, vec_lt_username));
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_NONCE, vec_lt_nonce));
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_REALM, vec_lt_realm));
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_FINGERPRINT));
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_long_term(&k, vec_lt_username, vec_lt_realm, vec_lt_password), 0);
	CU_ASSERT_EQUAL(k.len, FG_STUN_MD5_LEN);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), 0);
	fg_stun_key_wipe(&k);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_long_term(&k, vec_lt_username, vec_lt_realm, "TheMatrix"), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), -EACCES);
	/* A short-term key from the same password is another key. */
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&k, vec_lt_password), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), -EACCES);
	fg_stun_key_wipe(&k);
}

static void test_rfc8489_sha256(void)
{
	struct fg_stun_msg m;
	struct fg_stun_key k;
	const uint8_t *v;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(parse(vec_request_b1, sizeof(vec_request_b1), &m), 0);
	CU_ASSERT_EQUAL(fg_stun_get_bytes(&m, FG_STUN_ATTR_USERHASH, &v, &n), 0);
	CU_ASSERT_EQUAL(n, 32);
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_NONCE, vec_b1_nonce));
	CU_ASSERT_TRUE(fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256));
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_long_term(&k, vec_lt_username, vec_lt_realm, vec_lt_password), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), 0);
	fg_stun_key_wipe(&k);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_long_term(&k, vec_lt_username, vec_lt_realm, "TheMatrIx"), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), -EACCES);
	fg_stun_key_wipe(&k);
}

/* Builds one of the RFC 5769 / 8489 vectors; the caller compares the bytes. */
static int build_vector(int which, uint8_t *buf, size_t cap)
{
	struct fg_stun_builder b;
	struct fg_stun_key k;
	struct fg_endpoint e;

	switch (which) {
	case 0: /* §2.1 */
		fg_stun_build_start(&b, buf, cap, FG_STUN_BINDING, FG_STUN_REQUEST, vec_txid_short);
		b.pad = ' ';
		fg_stun_add_str(&b, FG_STUN_ATTR_SOFTWARE, "STUN test client");
		fg_stun_add_u32(&b, FG_STUN_ATTR_PRIORITY, 0x6e0001ff);
		fg_stun_add_u64(&b, FG_STUN_ATTR_ICE_CONTROLLED, 0x932ff9b151263b36ull);
		fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, "evtj:h6vY");
		fg_stun_key_short_term(&k, vec_short_password);
		break;
	case 1: /* §2.2, §2.3 */
	case 2:
		fg_stun_build_start(&b, buf, cap, FG_STUN_BINDING, FG_STUN_SUCCESS, vec_txid_short);
		b.pad = ' ';
		fg_stun_add_str(&b, FG_STUN_ATTR_SOFTWARE, "test vector");
		e = ep(which == 1 ? "192.0.2.1:32853" : "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &e);
		fg_stun_key_short_term(&k, vec_short_password);
		break;
	case 3: /* §2.4 */
		fg_stun_build_start(&b, buf, cap, FG_STUN_BINDING, FG_STUN_REQUEST, vec_txid_long);
		fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, vec_lt_username);
		fg_stun_add_str(&b, FG_STUN_ATTR_NONCE, vec_lt_nonce);
		fg_stun_add_str(&b, FG_STUN_ATTR_REALM, vec_lt_realm);
		fg_stun_key_long_term(&k, vec_lt_username, vec_lt_realm, vec_lt_password);
		fg_stun_add_integrity(&b, &k);
		fg_stun_key_wipe(&k);
		return fg_stun_build_finish(&b);
	default: /* RFC 8489 B.1 */
		fg_stun_build_start(&b, buf, cap, FG_STUN_BINDING, FG_STUN_REQUEST, vec_txid_long);
		fg_stun_add_bytes(&b, FG_STUN_ATTR_USERHASH, vec_request_b1 + 24, 32);
		fg_stun_add_str(&b, FG_STUN_ATTR_NONCE, vec_b1_nonce);
		fg_stun_add_str(&b, FG_STUN_ATTR_REALM, vec_lt_realm);
		fg_stun_key_long_term(&k, vec_lt_username, vec_lt_realm, vec_lt_password);
		fg_stun_add_integrity_sha256(&b, &k);
		fg_stun_key_wipe(&k);
		return fg_stun_build_finish(&b);
	}
	fg_stun_add_integrity(&b, &k);
	fg_stun_key_wipe(&k);
	fg_stun_add_fingerprint(&b);
	return fg_stun_build_finish(&b);
}

static const struct {
	const uint8_t *bytes;
	size_t len;
} vectors[] = {
	{ vec_request, sizeof(vec_request) },
	{ vec_response_v4, sizeof(vec_response_v4) },
	{ vec_response_v6, sizeof(vec_response_v6) },
	{ vec_request_lt, sizeof(vec_request_lt) },
	{ vec_request_b1, sizeof(vec_request_b1) },
};

static void test_vectors_build(void)
{
	uint8_t buf[256];

	for (int i = 0; i < (int)ARRAY_LEN(vectors); i++) {
		memset(buf, 0xEE, sizeof(buf));
		CU_ASSERT_EQUAL_FATAL(build_vector(i, buf, sizeof(buf)), (int)vectors[i].len);
		if (memcmp(buf, vectors[i].bytes, vectors[i].len))
			CU_FAIL("a built vector differs from the RFC's bytes");
	}
}

/* Every buffer size: too small is -ENOBUFS, and nothing is written past it (ASan). */
static void test_build_every_capacity(void)
{
	for (size_t i = 0; i < ARRAY_LEN(vectors); i++) {
		for (size_t cap = 0; cap <= vectors[i].len; cap++) {
			uint8_t *buf = malloc(cap ? cap : 1);
			int rc = build_vector((int)i, cap ? buf : NULL, cap);

			CU_ASSERT_EQUAL(rc, cap == vectors[i].len ? (int)cap : -ENOBUFS);
			free(buf);
		}
	}
}

/* Firezone's ALLOCATE (reference §5.2), its 401, the authenticated retry and the success. */
static void test_turn_allocate(void)
{
	uint8_t req[512], resp[512];
	struct fg_stun_builder b;
	struct fg_stun_msg m;
	struct fg_stun_key k = { .len = 0 };
	struct fg_endpoint e;
	const char *reason;
	size_t rlen;
	unsigned code;
	uint8_t u8;
	uint32_t life;
	int n;

	/* 1. The first ALLOCATE: no credentials. */
	fg_stun_build_start(&b, req, sizeof(req), FG_STUN_ALLOCATE, FG_STUN_REQUEST, txid);
	fg_stun_add_transport(&b, FG_STUN_PROTO_UDP);
	fg_stun_add_family(&b, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, AF_INET6);
	fg_stun_add_str(&b, FG_STUN_ATTR_SOFTWARE, "snownet");
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(n, 20 + 8 + 8 + 12);
	CU_ASSERT_EQUAL_FATAL(parse(req, (size_t)n, &m), 0);
	CU_ASSERT_EQUAL(m.method, FG_STUN_ALLOCATE);
	CU_ASSERT_EQUAL(m.cls, FG_STUN_REQUEST);
	CU_ASSERT_EQUAL(fg_stun_get_transport(&m, &u8), 0);
	CU_ASSERT_EQUAL(u8, 17);
	CU_ASSERT_EQUAL(fg_stun_get_family(&m, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8), 0);
	CU_ASSERT_EQUAL(u8, AF_INET6);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), -ENOENT);

	/* 2. The relay's 401 with NONCE and REALM. */
	fg_stun_build_start(&b, resp, sizeof(resp), FG_STUN_ALLOCATE, FG_STUN_ERROR, txid);
	fg_stun_add_error(&b, FG_STUN_ERR_UNAUTHENTICATED, "Unauthorized");
	fg_stun_add_str(&b, FG_STUN_ATTR_NONCE, "nonce-123");
	fg_stun_add_str(&b, FG_STUN_ATTR_REALM, "firezone");
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(parse(resp, (size_t)n, &m), 0);
	CU_ASSERT_EQUAL(m.cls, FG_STUN_ERROR);
	CU_ASSERT_EQUAL(fg_stun_get_error(&m, &code, &reason, &rlen), 0);
	CU_ASSERT_EQUAL(code, 401);
	CU_ASSERT_TRUE(rlen == 12 && !memcmp(reason, "Unauthorized", 12));
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_NONCE, "nonce-123"));

	/* 3. The retry with the portal's credentials, long-term integrity and FINGERPRINT. */
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_long_term(&k, "2145916800:q3Jk", "firezone", "x9Zt"), 0);
	fg_stun_build_start(&b, req, sizeof(req), FG_STUN_ALLOCATE, FG_STUN_REQUEST, txid);
	fg_stun_add_transport(&b, FG_STUN_PROTO_UDP);
	fg_stun_add_family(&b, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, AF_INET6);
	fg_stun_add_str(&b, FG_STUN_ATTR_SOFTWARE, "snownet");
	fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, "2145916800:q3Jk");
	fg_stun_add_str(&b, FG_STUN_ATTR_REALM, "firezone");
	fg_stun_add_str(&b, FG_STUN_ATTR_NONCE, "nonce-123");
	fg_stun_add_integrity(&b, &k);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL_FATAL(parse(req, (size_t)n, &m), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), 0);
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_USERNAME, "2145916800:q3Jk"));

	/* 4. The success: both relayed addresses (dual allocation), the mapped one, LIFETIME. */
	fg_stun_build_start(&b, resp, sizeof(resp), FG_STUN_ALLOCATE, FG_STUN_SUCCESS, txid);
	e = ep("198.51.100.5:49152");
	fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, &e);
	e = ep("[2001:db8::5]:49153");
	fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, &e);
	e = ep("203.0.113.7:51820");
	fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &e);
	fg_stun_add_u32(&b, FG_STUN_ATTR_LIFETIME, 600);
	fg_stun_add_integrity(&b, &k);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(parse(resp, (size_t)n, &m), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &k), 0);
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, 0, &e), 0);
	CU_ASSERT_TRUE(ep_eq(&e, "198.51.100.5:49152"));
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, 1, &e), 0);
	CU_ASSERT_TRUE(ep_eq(&e, "[2001:db8::5]:49153"));
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, 2, &e), -ENOENT);
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &e), 0);
	CU_ASSERT_TRUE(ep_eq(&e, "203.0.113.7:51820"));
	CU_ASSERT_EQUAL(fg_stun_get_u32(&m, FG_STUN_ATTR_LIFETIME, &life), 0);
	CU_ASSERT_EQUAL(life, 600);
	/* The wrong credential, or a flipped bit, and the response is not ours. */
	resp[30] ^= 1;
	CU_ASSERT_EQUAL(fg_stun_parse(resp, (size_t)n, &m, NULL, 0), -EBADMSG); /* FINGERPRINT */
	fg_stun_key_wipe(&k);
}

/* CHANNEL-BIND, REFRESH with LIFETIME 0, and a 438 with a fresh nonce. */
static void test_turn_channel_refresh(void)
{
	uint8_t buf[256];
	struct fg_stun_builder b;
	struct fg_stun_msg m;
	struct fg_endpoint e = ep("[2001:db8::77]:4242");
	const char *reason;
	size_t rlen;
	unsigned code;
	uint16_t ch;
	uint32_t life = 1;
	int n;

	fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_CHANNEL_BIND, FG_STUN_REQUEST, txid);
	fg_stun_add_channel(&b, 0x4000);
	fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_PEER_ADDRESS, &e);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(parse(buf, (size_t)n, &m), 0);
	CU_ASSERT_EQUAL(m.method, FG_STUN_CHANNEL_BIND);
	CU_ASSERT_EQUAL(fg_stun_get_channel(&m, &ch), 0);
	CU_ASSERT_EQUAL(ch, 0x4000);
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_PEER_ADDRESS, 0, &e), 0);
	CU_ASSERT_TRUE(ep_eq(&e, "[2001:db8::77]:4242"));
	/* The other end of the range, and a getter of another kind. */
	fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_CHANNEL_BIND, FG_STUN_REQUEST, txid);
	CU_ASSERT_EQUAL(fg_stun_add_channel(&b, 0x4FFF), 0);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(parse(buf, (size_t)n, &m), 0);
	CU_ASSERT_EQUAL(fg_stun_get_channel(&m, &ch), 0);
	CU_ASSERT_EQUAL(ch, 0x4FFF);
	CU_ASSERT_EQUAL(fg_stun_get_u32(&m, FG_STUN_ATTR_CHANNEL_NUMBER, &life), -EINVAL);
	CU_ASSERT_EQUAL(fg_stun_get_u32(&m, 0x7777, &life), -EINVAL);

	fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_REFRESH, FG_STUN_REQUEST, txid);
	fg_stun_add_u32(&b, FG_STUN_ATTR_LIFETIME, 0);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(parse(buf, (size_t)n, &m), 0);
	CU_ASSERT_EQUAL(fg_stun_get_u32(&m, FG_STUN_ATTR_LIFETIME, &life), 0);
	CU_ASSERT_EQUAL(life, 0);

	fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_REFRESH, FG_STUN_ERROR, txid);
	fg_stun_add_error(&b, FG_STUN_ERR_STALE_NONCE, "");
	fg_stun_add_str(&b, FG_STUN_ATTR_NONCE, "n2");
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(parse(buf, (size_t)n, &m), 0);
	CU_ASSERT_EQUAL(fg_stun_get_error(&m, &code, &reason, &rlen), 0);
	CU_ASSERT_EQUAL(code, 438);
	CU_ASSERT_EQUAL(rlen, 0);
	for (unsigned c = 300; c <= 699; c++) {
		fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_ALLOCATE, FG_STUN_ERROR, txid);
		fg_stun_add_error(&b, c, "x");
		n = fg_stun_build_finish(&b);
		if (n < 0 || parse(buf, (size_t)n, &m) || fg_stun_get_error(&m, &code, &reason, &rlen) ||
		    code != c)
			CU_FAIL("error code round trip");
	}
}

/* An ICE connectivity check of the controlling client and the controlled gateway's answer. */
static void test_ice_check(void)
{
	uint8_t req[256], resp[256];
	struct fg_stun_builder b;
	struct fg_stun_msg m;
	struct fg_stun_key client_pwd, gw_pwd;
	struct fg_endpoint e = ep("198.18.0.2:40000");
	uint64_t tie = 0;
	uint32_t prio = 0;
	int n;

	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&gw_pwd, "zfjrrjdkbci42t2axyd45a"), 0);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&client_pwd, "j2fqufatn7xlrrvv6fsvea"), 0);
	fg_stun_build_start(&b, req, sizeof(req), FG_STUN_BINDING, FG_STUN_REQUEST, txid);
	fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, "ejqt:hgwh");
	fg_stun_add_u64(&b, FG_STUN_ATTR_ICE_CONTROLLING, 0x0123456789abcdefull);
	fg_stun_add_u32(&b, FG_STUN_ATTR_PRIORITY, 1853824767);
	fg_stun_add_flag(&b, FG_STUN_ATTR_USE_CANDIDATE);
	fg_stun_add_integrity(&b, &gw_pwd);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(parse(req, (size_t)n, &m), 0);
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_USERNAME, "ejqt:hgwh"));
	CU_ASSERT_EQUAL(fg_stun_get_u64(&m, FG_STUN_ATTR_ICE_CONTROLLING, &tie), 0);
	CU_ASSERT_EQUAL(tie, 0x0123456789abcdefull);
	CU_ASSERT_EQUAL(fg_stun_get_u32(&m, FG_STUN_ATTR_PRIORITY, &prio), 0);
	CU_ASSERT_EQUAL(prio, 1853824767);
	CU_ASSERT_TRUE(fg_stun_has(&m, FG_STUN_ATTR_USE_CANDIDATE));
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &gw_pwd), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &client_pwd), -EACCES);

	/* The answer: same transaction, XOR-MAPPED-ADDRESS, MI and FINGERPRINT. */
	fg_stun_build_start(&b, resp, sizeof(resp), FG_STUN_BINDING, FG_STUN_SUCCESS, m.txid);
	fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &e);
	fg_stun_add_integrity(&b, &gw_pwd);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL(n, 20 + 12 + 24 + 8);
	CU_ASSERT_EQUAL_FATAL(parse(resp, (size_t)n, &m), 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &gw_pwd), 0);
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &e), 0);
	CU_ASSERT_TRUE(ep_eq(&e, "198.18.0.2:40000"));
	fg_stun_key_wipe(&gw_pwd);
	fg_stun_key_wipe(&client_pwd);
}

/* A request with unknown comprehension-required attributes, and the 420 that answers it. */
static void test_unknown_and_420(void)
{
	uint8_t req[256], resp[256];
	struct fg_stun_builder b;
	struct fg_stun_msg m, r;
	uint16_t types[8];
	size_t n_types = 0;
	int n;

	fg_stun_build_start(&b, req, sizeof(req), FG_STUN_BINDING, FG_STUN_REQUEST, txid);
	fg_stun_add_bytes(&b, 0x0003, "ab", 2);          /* CHANGE-REQUEST of RFC 3489 */
	fg_stun_add_bytes(&b, 0xC057, "cdef", 4);        /* optional: ignored */
	fg_stun_add_bytes(&b, 0x7FFF, NULL, 0);
	fg_stun_add_bytes(&b, 0x0003, "gh", 2);          /* reported once */
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(fg_stun_parse(req, (size_t)n, &m, NULL, 0), -ENOTSUP);
	CU_ASSERT_EQUAL(m.n_unknown, 2);
	CU_ASSERT_EQUAL(m.unknown[0], 0x0003);
	CU_ASSERT_EQUAL(m.unknown[1], 0x7FFF);
	CU_ASSERT_FALSE(m.unknown_overflow);

	fg_stun_build_start(&b, resp, sizeof(resp), m.method, FG_STUN_ERROR, m.txid);
	fg_stun_add_error(&b, FG_STUN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute");
	fg_stun_add_unknown(&b, m.unknown, m.n_unknown);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(parse(resp, (size_t)n, &r), 0);
	CU_ASSERT_EQUAL(memcmp(r.txid, txid, sizeof(txid)), 0);
	CU_ASSERT_EQUAL(fg_stun_get_unknown(&r, types, ARRAY_LEN(types), &n_types), 0);
	CU_ASSERT_EQUAL(n_types, 2);
	CU_ASSERT_TRUE(types[0] == 0x0003 && types[1] == 0x7FFF);
	/* The UNKNOWN-ATTRIBUTES value is 4 bytes: no padding; an odd count pads. */
	CU_ASSERT_EQUAL(n, 20 + 28 + 8 + 8);
}

/* The attribute walk sees unknown types and duplicates, in order, and stops at MI. */
static void test_attr_walk(void)
{
	static const uint16_t want[] = { FG_STUN_ATTR_USERNAME, 0xC001, FG_STUN_ATTR_USERNAME };
	uint8_t buf[256];
	struct fg_stun_builder b;
	struct fg_stun_msg m;
	struct fg_stun_attr a;
	struct fg_stun_key k;
	size_t pos = 0, i = 0;
	int n;

	fg_stun_key_short_term(&k, "password");
	fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_INDICATION, txid);
	fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, "first");
	fg_stun_add_bytes(&b, 0xC001, "x", 1);
	fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, "second");
	fg_stun_add_integrity(&b, &k);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_EQUAL_FATAL(parse(buf, (size_t)n, &m), 0);
	CU_ASSERT_TRUE(bytes_eq(&m, FG_STUN_ATTR_USERNAME, "first"));
	while (fg_stun_attr_next(&m, &pos, &a)) {
		CU_ASSERT_TRUE_FATAL(i < ARRAY_LEN(want));
		CU_ASSERT_EQUAL(a.type, want[i]);
		i++;
	}
	CU_ASSERT_EQUAL(i, ARRAY_LEN(want));
	fg_stun_key_wipe(&k);
}

/* The builder refuses what the parser would, and what comes in the wrong order. */
static void test_builder_refusals(void)
{
	uint8_t buf[4096];
	char text[600];
	struct fg_stun_builder b;
	struct fg_stun_key k;
	struct fg_endpoint e = ep("192.0.2.1:1");
	struct fg_endpoint bad = e;
	uint8_t mi[20] = { 0 };

	fg_stun_key_short_term(&k, "pw");
	bad.ip.family = 0;
#define START() fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_REQUEST, txid)
	START();
	CU_ASSERT_EQUAL(fg_stun_add_bytes(&b, FG_STUN_ATTR_MESSAGE_INTEGRITY, mi, 20), -EINVAL);
	CU_ASSERT_EQUAL(fg_stun_add_str(&b, FG_STUN_ATTR_SOFTWARE, "sticky"), -EINVAL);
	CU_ASSERT_EQUAL(fg_stun_build_finish(&b), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_bytes(&b, FG_STUN_ATTR_FINGERPRINT, mi, 4), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_u32(&b, FG_STUN_ATTR_USERNAME, 1), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_u64(&b, FG_STUN_ATTR_PRIORITY, 1), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_xor_addr(&b, FG_STUN_ATTR_MAPPED_ADDRESS, &e), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &bad), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_channel(&b, 0x3FFF), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_channel(&b, 0x5000), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_error(&b, 299, "x"), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_error(&b, 700, "x"), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_family(&b, FG_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, AF_UNIX), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_bytes(&b, FG_STUN_ATTR_PRIORITY, "abc", 3), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_bytes(&b, FG_STUN_ATTR_DATA, NULL, 3), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, NULL), -EINVAL);
	/* Text bounds for sending: 508 bytes of USERNAME, 509 of the others and the reason. */
	memset(text, 'a', sizeof(text));
	text[508] = '\0';
	START();
	CU_ASSERT_EQUAL(fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, text), 0);
	CU_ASSERT_EQUAL(fg_stun_add_str(&b, FG_STUN_ATTR_SOFTWARE, text), 0);
	text[508] = 'a';
	text[509] = '\0';
	CU_ASSERT_EQUAL(fg_stun_add_str(&b, FG_STUN_ATTR_REALM, text), 0);
	CU_ASSERT_EQUAL(fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, text), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_error(&b, 400, text), 0);
	text[509] = 'a';
	text[510] = '\0';
	START();
	CU_ASSERT_EQUAL(fg_stun_add_error(&b, 400, text), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_str(&b, FG_STUN_ATTR_NONCE, text), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_unknown(&b, NULL, FG_STUN_MAX_UNKNOWN + 1), -EINVAL);

	/* Order: nothing after MI but MI-SHA256 and FINGERPRINT, nothing after FINGERPRINT. */
	START();
	CU_ASSERT_EQUAL(fg_stun_add_integrity(&b, &k), 0);
	CU_ASSERT_EQUAL(fg_stun_add_str(&b, FG_STUN_ATTR_SOFTWARE, "late"), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_integrity(&b, &k), 0);
	CU_ASSERT_EQUAL(fg_stun_add_integrity(&b, &k), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_integrity(&b, &k), 0);
	CU_ASSERT_EQUAL(fg_stun_add_integrity_sha256(&b, &k), 0);
	CU_ASSERT_EQUAL(fg_stun_add_integrity(&b, &k), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_fingerprint(&b), 0);
	CU_ASSERT_EQUAL(fg_stun_add_fingerprint(&b), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_fingerprint(&b), 0);
	CU_ASSERT_EQUAL(fg_stun_add_integrity_sha256(&b, &k), -EINVAL);
	START();
	CU_ASSERT_EQUAL(fg_stun_add_integrity(&b, NULL), -EINVAL);
	START();
	fg_stun_key_wipe(&k);
	CU_ASSERT_EQUAL(fg_stun_add_integrity(&b, &k), -EINVAL); /* an empty key */
	CU_ASSERT_EQUAL(fg_stun_key_short_term(&k, ""), -EINVAL);
	memset(text, 'p', 300);
	text[300] = '\0';
	CU_ASSERT_EQUAL(fg_stun_key_short_term(&k, text), -EINVAL);
	CU_ASSERT_EQUAL(fg_stun_key_long_term(&k, NULL, "r", "p"), -EINVAL);
	/* Bad starts. */
	CU_ASSERT_EQUAL(fg_stun_build_start(&b, buf, sizeof(buf), 0x1000, FG_STUN_REQUEST, txid), -EINVAL);
	CU_ASSERT_EQUAL(fg_stun_build_start(&b, buf, sizeof(buf), 1, (enum fg_stun_class)4, txid), -EINVAL);
	CU_ASSERT_EQUAL(fg_stun_build_start(&b, buf, 19, 1, FG_STUN_REQUEST, txid), -ENOBUFS);
	CU_ASSERT_EQUAL(fg_stun_add_flag(&b, FG_STUN_ATTR_USE_CANDIDATE), -ENOBUFS);
#undef START
}

/* The 16-bit length: a message of 0xFFFC bytes of attributes, not one byte more. */
static void test_builder_max_length(void)
{
	size_t cap = FG_STUN_MAX_LEN + 64;
	uint8_t *buf = malloc(cap), *data = calloc(1, 0xFFFF);
	struct fg_stun_builder b;
	struct fg_stun_msg m;
	const uint8_t *v;
	size_t n;

	CU_ASSERT_FATAL(buf && data);
	fg_stun_build_start(&b, buf, cap, FG_STUN_SEND, FG_STUN_INDICATION, txid);
	CU_ASSERT_EQUAL(fg_stun_add_bytes(&b, FG_STUN_ATTR_DATA, data, 0xFFFF), -EMSGSIZE);
	fg_stun_build_start(&b, buf, cap, FG_STUN_SEND, FG_STUN_INDICATION, txid);
	CU_ASSERT_EQUAL(fg_stun_add_bytes(&b, FG_STUN_ATTR_DATA, data, 0xFFFC - 4), 0);
	CU_ASSERT_EQUAL(fg_stun_build_finish(&b), FG_STUN_MAX_LEN);
	CU_ASSERT_EQUAL_FATAL(parse(buf, FG_STUN_MAX_LEN, &m), 0);
	CU_ASSERT_EQUAL(fg_stun_get_bytes(&m, FG_STUN_ATTR_DATA, &v, &n), 0);
	CU_ASSERT_EQUAL(n, 0xFFFC - 4);
	CU_ASSERT_EQUAL(fg_stun_add_flag(&b, FG_STUN_ATTR_USE_CANDIDATE), -EMSGSIZE);
	free(buf);
	free(data);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "method and class encoding", test_type_encoding },
		{ "RFC 5769 vectors: parse and verify", test_rfc5769_parse },
		{ "RFC 8489 B.1: MESSAGE-INTEGRITY-SHA256", test_rfc8489_sha256 },
		{ "vectors built to the exact bytes", test_vectors_build },
		{ "builder: every capacity", test_build_every_capacity },
		{ "TURN ALLOCATE, 401, retry, success", test_turn_allocate },
		{ "TURN CHANNEL-BIND, REFRESH, 438", test_turn_channel_refresh },
		{ "ICE check and answer", test_ice_check },
		{ "unknown attributes and 420", test_unknown_and_420 },
		{ "attribute walk", test_attr_walk },
		{ "builder refusals", test_builder_refusals },
		{ "builder: the 16-bit length", test_builder_max_length },
	};

	return fg_cunit_run("stun", tests, ARRAY_LEN(tests));
}
