// SPDX-License-Identifier: MIT
/*
 * CUnit suite for cookie.c: mac1 against a value from Python's hashlib (independent
 * BLAKE2s), mac1 accept/reject, the whole cookie round trip (reply made by the checker,
 * consumed by the initiator, mac2 then validating for that address and port only),
 * secret rotation after 120 s, the initiator's 115 s cookie lifetime, replies for the
 * wrong receiver or message, tampered replies, and bad lengths. Time is injected;
 * single-threaded.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "cookie.h"
#include "wg_test.h"

#define NS_PER_S 1000000000ULL
#define T0 (1000ULL * NS_PER_S)

static const uint8_t addr4[4] = { 198, 18, 0, 1 };
static const uint8_t addr4_other[4] = { 198, 18, 0, 2 };
static const uint16_t port = 51820;

static void pattern(uint8_t *buf, size_t len, uint8_t mul, uint8_t add)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * mul + add);
}

/* A 148-byte "initiation": type 1, sender index 0x01020304, arbitrary body. */
static void make_initiation(struct fg_wg_msg_initiation *m, uint8_t salt)
{
	pattern((uint8_t *)m, sizeof(*m), 3, (uint8_t)(1 + salt));
	m->type = 1;
	m->sender_index = 0x01020304;
	memset(&m->macs, 0, sizeof(m->macs));
}

static void responder_key(uint8_t pub[32])
{
	pattern(pub, 32, 1, 0);
}

static void test_mac1_vector(void)
{
	struct fg_wg_cookie k;
	uint8_t pub[32], msg[148], want[16];

	responder_key(pub);
	pattern(msg, sizeof(msg), 3, 1);
	msg[0] = 1;
	msg[1] = msg[2] = msg[3] = 0;
	fg_wg_cookie_init(&k, pub);
	unhex(want, 32 / 2, "5309f9acb81da5eeb88121e3ef0061d2");
	fg_wg_cookie_add_macs(&k, msg, sizeof(msg), T0);
	CU_ASSERT_EQUAL(memcmp(msg + 116, want, 16), 0);
	/* No cookie yet: mac2 is zero. */
	CU_ASSERT_TRUE(sodium_is_zero(msg + 132, 16));
	CU_ASSERT_TRUE(k.have_sent_mac1);
	CU_ASSERT_EQUAL(memcmp(k.last_mac1_sent, want, 16), 0);
	{
		uint8_t key[32];

		unhex(key, 32, "4fb2527ac956001553dc1ad9b55171b7d9daa3de1cdbcd71451830170c7e6cac");
		CU_ASSERT_EQUAL(memcmp(k.mac1_key, key, 32), 0);
		unhex(key, 32, "3dd5869c5202e45146936d1644f76ff697061661c181f3fd450eae43932eacec");
		CU_ASSERT_EQUAL(memcmp(k.cookie_decryption_key, key, 32), 0);
	}
}

static void test_mac1_validate(void)
{
	struct fg_wg_cookie_checker c, other;
	struct fg_wg_cookie k;
	struct fg_wg_msg_initiation m, bad;
	struct fg_wg_msg_response r;
	uint8_t pub[32], pub2[32];
	size_t i;

	responder_key(pub);
	pattern(pub2, 32, 1, 1);
	fg_wg_cookie_checker_init(&c, pub);
	fg_wg_cookie_checker_init(&other, pub2);
	fg_wg_cookie_init(&k, pub);
	make_initiation(&m, 0);
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4, 4, port, T0),
			FG_WG_COOKIE_MAC1_VALID);
	/* Sent to someone else's key. */
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&other, &m, sizeof(m), addr4, 4, port, T0),
			FG_WG_COOKIE_MAC_INVALID);
	/* Any changed byte up to and including mac1. */
	for (i = 0; i < offsetof(struct fg_wg_msg_initiation, macs) + 16; i++) {
		bad = m;
		((uint8_t *)&bad)[i] ^= 0x20;
		CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &bad, sizeof(bad), addr4, 4, port, T0),
				FG_WG_COOKIE_MAC_INVALID);
	}
	/* Lengths other than an initiation or a response; bad address lengths. */
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m) - 1, addr4, 4, port, T0),
			FG_WG_COOKIE_MAC_INVALID);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, 0, addr4, 4, port, T0),
			FG_WG_COOKIE_MAC_INVALID);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4, 0, port, T0),
			FG_WG_COOKIE_MAC_INVALID);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4, 17, port, T0),
			FG_WG_COOKIE_MAC_INVALID);

	/* A response (92 bytes) works the same way. */
	pattern((uint8_t *)&r, sizeof(r), 5, 9);
	r.type = 2;
	fg_wg_cookie_add_macs(&k, &r, sizeof(r), T0);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &r, sizeof(r), addr4, 4, port, T0),
			FG_WG_COOKIE_MAC1_VALID);
	/* A garbage non-zero mac2 does not make it MAC2_VALID. */
	r.macs.mac2[3] = 1;
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &r, sizeof(r), addr4, 4, port, T0),
			FG_WG_COOKIE_MAC1_VALID);
}

/* The initiator sends m, the responder under load answers with a cookie reply. */
static void cookie_round(struct fg_wg_cookie_checker *c, struct fg_wg_cookie *k,
			 struct fg_wg_msg_initiation *m, uint64_t now)
{
	struct fg_wg_msg_cookie reply;

	fg_wg_cookie_add_macs(k, m, sizeof(*m), now);
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_validate(c, m, sizeof(*m), addr4, 4, port, now),
			      FG_WG_COOKIE_MAC1_VALID);
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_reply_create(&reply, c, m, sizeof(*m),
							m->sender_index, addr4, 4, port, now), 0);
	CU_ASSERT_EQUAL(reply.type, FG_WG_MSG_COOKIE);
	CU_ASSERT_EQUAL(reply.receiver_index, m->sender_index);
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_consume_reply(k, &reply, now), 0);
}

static void test_cookie_round_trip(void)
{
	struct fg_wg_cookie_checker c;
	struct fg_wg_cookie k;
	struct fg_wg_msg_initiation m;
	uint8_t pub[32];

	responder_key(pub);
	fg_wg_cookie_checker_init(&c, pub);
	fg_wg_cookie_init(&k, pub);
	make_initiation(&m, 0);
	cookie_round(&c, &k, &m, T0);
	CU_ASSERT_TRUE(k.valid);
	CU_ASSERT_FALSE(k.have_sent_mac1);
	CU_ASSERT_EQUAL(k.birth_ns, T0);

	/* The retried initiation carries mac2, valid for this address and port only. */
	make_initiation(&m, 1);
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0 + 5 * NS_PER_S);
	CU_ASSERT_FALSE(sodium_is_zero(m.macs.mac2, 16));
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4, 4, port,
					      T0 + 5 * NS_PER_S),
			FG_WG_COOKIE_MAC2_VALID);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4_other, 4, port,
					      T0 + 5 * NS_PER_S),
			FG_WG_COOKIE_MAC1_VALID);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4, 4, port + 1,
					      T0 + 5 * NS_PER_S),
			FG_WG_COOKIE_MAC1_VALID);
	/* A changed mac2 byte. */
	m.macs.mac2[0] ^= 1;
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4, 4, port,
					      T0 + 5 * NS_PER_S),
			FG_WG_COOKIE_MAC1_VALID);
}

static void test_ipv6_source(void)
{
	static const uint8_t addr6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct fg_wg_cookie_checker c;
	struct fg_wg_cookie k;
	struct fg_wg_msg_initiation m;
	struct fg_wg_msg_cookie reply;
	uint8_t pub[32];

	responder_key(pub);
	fg_wg_cookie_checker_init(&c, pub);
	fg_wg_cookie_init(&k, pub);
	make_initiation(&m, 0);
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0);
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_reply_create(&reply, &c, &m, sizeof(m), 9, addr6, 16,
							port, T0), 0);
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_consume_reply(&k, &reply, T0), 0);
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr6, 16, port, T0),
			FG_WG_COOKIE_MAC2_VALID);
	/* The IPv4 address that is a prefix of it is a different source. */
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr6, 4, port, T0),
			FG_WG_COOKIE_MAC1_VALID);
	/* Bad lengths for a reply. */
	CU_ASSERT_EQUAL(fg_wg_cookie_reply_create(&reply, &c, &m, 100, 9, addr6, 16, port, T0),
			-EINVAL);
	CU_ASSERT_EQUAL(fg_wg_cookie_reply_create(&reply, &c, &m, sizeof(m), 9, addr6, 17, port,
						  T0), -EINVAL);
}

static void test_secret_rotation(void)
{
	const uint64_t max_age = FG_WG_COOKIE_SECRET_MAX_AGE_S * NS_PER_S;
	struct fg_wg_cookie_checker c;
	struct fg_wg_cookie k;
	struct fg_wg_msg_initiation m;
	uint8_t pub[32];

	responder_key(pub);
	fg_wg_cookie_checker_init(&c, pub);
	fg_wg_cookie_init(&k, pub);
	make_initiation(&m, 0);
	cookie_round(&c, &k, &m, T0); /* secret born at T0 */

	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0 + 100 * NS_PER_S);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4, 4, port,
					      T0 + max_age - 1),
			FG_WG_COOKIE_MAC2_VALID);
	/* The same message once the secret is 120 s old: new secret, old cookie dead. */
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4, 4, port, T0 + max_age),
			FG_WG_COOKIE_MAC1_VALID);
	CU_ASSERT_EQUAL(c.secret_birth_ns, T0 + max_age);

	/* A fresh cookie under the new secret works again. */
	make_initiation(&m, 2);
	cookie_round(&c, &k, &m, T0 + max_age + 1);
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0 + max_age + 2);
	CU_ASSERT_EQUAL(fg_wg_cookie_validate(&c, &m, sizeof(m), addr4, 4, port,
					      T0 + max_age + 3),
			FG_WG_COOKIE_MAC2_VALID);
}

static void test_initiator_cookie_lifetime(void)
{
	const uint64_t use = (FG_WG_COOKIE_SECRET_MAX_AGE_S - FG_WG_COOKIE_SECRET_LATENCY_S) *
			     NS_PER_S;
	struct fg_wg_cookie_checker c;
	struct fg_wg_cookie k;
	struct fg_wg_msg_initiation m;
	uint8_t pub[32];

	responder_key(pub);
	fg_wg_cookie_checker_init(&c, pub);
	fg_wg_cookie_init(&k, pub);
	make_initiation(&m, 0);
	cookie_round(&c, &k, &m, T0);
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0 + use - 1);
	CU_ASSERT_FALSE(sodium_is_zero(m.macs.mac2, 16));
	/* 115 s after it arrived the initiator stops sending it. */
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0 + use);
	CU_ASSERT_TRUE(sodium_is_zero(m.macs.mac2, 16));
}

static void test_reply_wrong_receiver(void)
{
	struct fg_wg_cookie_checker c, c2;
	struct fg_wg_cookie k, k_other;
	struct fg_wg_msg_initiation m, m2;
	struct fg_wg_msg_cookie reply;
	uint8_t pub[32], pub2[32];

	responder_key(pub);
	pattern(pub2, 32, 1, 1);
	fg_wg_cookie_checker_init(&c, pub);
	fg_wg_cookie_checker_init(&c2, pub2);
	fg_wg_cookie_init(&k, pub);
	fg_wg_cookie_init(&k_other, pub2);

	/* No message sent yet: nothing to accept a reply for. */
	make_initiation(&m, 0);
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_reply_create(&reply, &c, &m, sizeof(m), 1, addr4, 4,
							port, T0), 0);
	CU_ASSERT_EQUAL(fg_wg_cookie_consume_reply(&k, &reply, T0), -EINVAL);

	/* A reply to a message the peer did not send last (another initiator's mac1). */
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0);
	make_initiation(&m2, 7);
	fg_wg_cookie_add_macs(&k_other, &m2, sizeof(m2), T0);
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_reply_create(&reply, &c, &m2, sizeof(m2), 1, addr4, 4,
							port, T0), 0);
	CU_ASSERT_EQUAL(fg_wg_cookie_consume_reply(&k, &reply, T0), -EBADMSG);
	/* A reply from another responder (encrypted under its key) for our very message. */
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_reply_create(&reply, &c2, &m, sizeof(m), 1, addr4, 4,
							port, T0), 0);
	CU_ASSERT_EQUAL(fg_wg_cookie_consume_reply(&k, &reply, T0), -EBADMSG);
	CU_ASSERT_FALSE(k.valid);
	/* The right one still works, once. */
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_reply_create(&reply, &c, &m, sizeof(m), 1, addr4, 4,
							port, T0), 0);
	CU_ASSERT_EQUAL(fg_wg_cookie_consume_reply(&k, &reply, T0), 0);
	CU_ASSERT_EQUAL(fg_wg_cookie_consume_reply(&k, &reply, T0), -EINVAL);
}

static void test_reply_tampered(void)
{
	struct fg_wg_cookie_checker c;
	struct fg_wg_cookie k;
	struct fg_wg_msg_initiation m;
	struct fg_wg_msg_cookie reply, bad;
	uint8_t pub[32];
	size_t i;

	responder_key(pub);
	fg_wg_cookie_checker_init(&c, pub);
	fg_wg_cookie_init(&k, pub);
	make_initiation(&m, 0);
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), T0);
	CU_ASSERT_EQUAL_FATAL(fg_wg_cookie_reply_create(&reply, &c, &m, sizeof(m), 1, addr4, 4,
							port, T0), 0);
	for (i = offsetof(struct fg_wg_msg_cookie, nonce); i < sizeof(reply); i++) {
		bad = reply;
		((uint8_t *)&bad)[i] ^= 0x40;
		CU_ASSERT_EQUAL(fg_wg_cookie_consume_reply(&k, &bad, T0), -EBADMSG);
	}
	bad = reply;
	bad.type = FG_WG_MSG_DATA;
	CU_ASSERT_EQUAL(fg_wg_cookie_consume_reply(&k, &bad, T0), -EPROTO);
	CU_ASSERT_FALSE(k.valid);
	CU_ASSERT_EQUAL(fg_wg_cookie_consume_reply(&k, &reply, T0), 0);

	fg_wg_cookie_clear(&k);
	CU_ASSERT_TRUE(sodium_is_zero((uint8_t *)&k, sizeof(k)));
	fg_wg_cookie_checker_clear(&c);
	CU_ASSERT_TRUE(sodium_is_zero((uint8_t *)&c, sizeof(c)));
}

int main(void)
{
	static const struct fg_cunit_test cases[] = {
		WG_TEST(test_mac1_vector),
		WG_TEST(test_mac1_validate),
		WG_TEST(test_cookie_round_trip),
		WG_TEST(test_ipv6_source),
		WG_TEST(test_secret_rotation),
		WG_TEST(test_initiator_cookie_lifetime),
		WG_TEST(test_reply_wrong_receiver),
		WG_TEST(test_reply_tampered),
	};

	if (sodium_init() < 0)
		return 1;
	return fg_cunit_run("wg-cookie", cases, sizeof(cases) / sizeof(cases[0]));
}
