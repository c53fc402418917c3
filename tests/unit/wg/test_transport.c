// SPDX-License-Identifier: MIT
/*
 * CUnit suite for transport.c: data message layout and ciphertext against values from
 * Python's cryptography package (an independent ChaCha20-Poly1305), round trips at the
 * sizes that matter (keepalive, padded, MTU), detection of every tampered byte, wrong
 * keys and counters, bad lengths, and the padding rule of messages.h. Single-threaded.
 */
#include <errno.h>
#include <sodium.h>
#include <string.h>

#include "transport.h"
#include "wg_test.h"

static const char sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
	"future, sunscreen would be it.";

static void test_known_answer(void)
{
	uint8_t key[32], buf[FG_WG_DATA_HDR_LEN + 128 + FG_WG_AEAD_TAG_LEN];
	uint8_t want[128 + FG_WG_AEAD_TAG_LEN], hdr[FG_WG_DATA_HDR_LEN];
	size_t i, len;
	uint64_t counter = 0;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	memset(buf, 0, sizeof(buf));
	memcpy(buf + FG_WG_DATA_HDR_LEN, sunscreen, strlen(sunscreen)); /* 114, zero-padded */
	CU_ASSERT_EQUAL(fg_wg_padded_len((uint32_t)strlen(sunscreen), 1420), 128);

	len = fg_wg_transport_seal(buf, 128, key, 0xa1b2c3d4, 0x0102030405060708ULL);
	CU_ASSERT_EQUAL_FATAL(len, sizeof(buf));
	unhex(hdr, sizeof(hdr), "04000000d4c3b2a10807060504030201");
	CU_ASSERT_EQUAL(memcmp(buf, hdr, sizeof(hdr)), 0);
	unhex(want, sizeof(want),
	      "b8d08ad235a97bbc4dd551cc6b1911b3961e31851245f58e7f581dbe0627e811"
	      "f7465bd39dd94d5546bf48ac1a2dd43cbda6f795d215ec93abb888192adfa41a"
	      "10ee4bb956f2bbbe7294b33f513dbeeba962d9c2f8cc18c88a9171bebc9ffb11"
	      "6a4383f49408e055ad9ca5fa75dccb65b94f02ad9cfcd69738159f52a98a13ba"
	      "64fd2391a32bd1abc50b7b118f5c71d4");
	CU_ASSERT_EQUAL(memcmp(buf + FG_WG_DATA_HDR_LEN, want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(fg_wg_transport_receiver(buf), 0xa1b2c3d4);

	CU_ASSERT_EQUAL(fg_wg_transport_open(buf, len, key, &counter), 128);
	CU_ASSERT_EQUAL(counter, 0x0102030405060708ULL);
	CU_ASSERT_EQUAL(memcmp(buf + FG_WG_DATA_HDR_LEN, sunscreen, strlen(sunscreen)), 0);
	CU_ASSERT_TRUE(sodium_is_zero(buf + FG_WG_DATA_HDR_LEN + strlen(sunscreen),
				      128 - strlen(sunscreen)));
}

static void test_keepalive(void)
{
	uint8_t key[32], buf[FG_WG_DATA_MIN_LEN], want[FG_WG_AEAD_TAG_LEN];
	uint64_t counter = 99;

	memset(key, 0, sizeof(key));
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	CU_ASSERT_EQUAL_FATAL(fg_wg_transport_seal(buf, 0, key, 7, 0), FG_WG_DATA_MIN_LEN);
	unhex(want, sizeof(want), "3ae5d3f2a376d317eaea5aef0215ba54");
	CU_ASSERT_EQUAL(memcmp(buf + FG_WG_DATA_HDR_LEN, want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(fg_wg_transport_open(buf, sizeof(buf), key, &counter), 0);
	CU_ASSERT_EQUAL(counter, 0);
}

static void test_round_trip_sizes(void)
{
	static const size_t sizes[] = { 16, 32, 64, 576, 1280, 1420, 1440 };
	static uint8_t buf[FG_WG_DATA_HDR_LEN + 1440 + FG_WG_AEAD_TAG_LEN];
	static uint8_t plain[1440];
	uint8_t key[32];
	size_t i, j, len;
	uint64_t counter;

	randombytes_buf(key, sizeof(key));
	for (j = 0; j < sizeof(plain); j++)
		plain[j] = (uint8_t)(j * 7);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memcpy(buf + FG_WG_DATA_HDR_LEN, plain, sizes[i]);
		len = fg_wg_transport_seal(buf, sizes[i], key, (uint32_t)i, i * 1000);
		CU_ASSERT_EQUAL(len, sizes[i] + FG_WG_DATA_OVERHEAD);
		/* Encrypted: the plaintext is gone from the buffer. */
		CU_ASSERT_NOT_EQUAL(memcmp(buf + FG_WG_DATA_HDR_LEN, plain, sizes[i]), 0);
		counter = ~0ULL;
		CU_ASSERT_EQUAL(fg_wg_transport_open(buf, len, key, &counter), (int)sizes[i]);
		CU_ASSERT_EQUAL(counter, i * 1000);
		CU_ASSERT_EQUAL(memcmp(buf + FG_WG_DATA_HDR_LEN, plain, sizes[i]), 0);
	}
}

static void test_tamper_every_byte(void)
{
	uint8_t key[32], msg[FG_WG_DATA_HDR_LEN + 64 + FG_WG_AEAD_TAG_LEN], bad[sizeof(msg)];
	size_t i, len;
	uint64_t counter = 12345;

	randombytes_buf(key, sizeof(key));
	memset(msg, 0x33, sizeof(msg));
	len = fg_wg_transport_seal(msg, 64, key, 0x01020304, 42);
	CU_ASSERT_EQUAL_FATAL(len, sizeof(msg));
	for (i = 0; i < len; i++) {
		/* The receiver index only routes the message (to a key): not authenticated. */
		if (i >= 4 && i < 8)
			continue;
		memcpy(bad, msg, len);
		bad[i] ^= 0x01;
		CU_ASSERT_EQUAL(fg_wg_transport_open(bad, len, key, &counter), -EBADMSG);
		CU_ASSERT_EQUAL(counter, 12345);
	}
	memcpy(bad, msg, len);
	CU_ASSERT_EQUAL(fg_wg_transport_open(bad, len, key, &counter), 64);
}

static void test_wrong_key_and_lengths(void)
{
	uint8_t key[32], other[32], msg[FG_WG_DATA_HDR_LEN + 32 + FG_WG_AEAD_TAG_LEN];
	uint8_t bad[sizeof(msg)];
	size_t len;
	uint64_t counter;

	randombytes_buf(key, sizeof(key));
	memcpy(other, key, sizeof(other));
	other[0] ^= 0x80;
	memset(msg, 0, sizeof(msg));
	len = fg_wg_transport_seal(msg, 32, key, 1, 1);

	memcpy(bad, msg, len);
	CU_ASSERT_EQUAL(fg_wg_transport_open(bad, len, other, &counter), -EBADMSG);
	/* Truncated (a lost tail), cut below a keepalive, or a length that lies. */
	memcpy(bad, msg, len);
	CU_ASSERT_EQUAL(fg_wg_transport_open(bad, len - 1, key, &counter), -EBADMSG);
	CU_ASSERT_EQUAL(fg_wg_transport_open(bad, FG_WG_DATA_MIN_LEN - 1, key, &counter),
			-EBADMSG);
	CU_ASSERT_EQUAL(fg_wg_transport_open(bad, 0, key, &counter), -EBADMSG);
	CU_ASSERT_EQUAL(fg_wg_transport_open(bad, 70000, key, &counter), -EBADMSG);
	/* Another message type with a valid tag: refused before decryption. */
	memcpy(bad, msg, len);
	bad[0] = FG_WG_MSG_RESPONSE;
	CU_ASSERT_EQUAL(fg_wg_transport_open(bad, len, key, &counter), -EBADMSG);
	/* The counter is part of the nonce: the same ciphertext under another counter fails. */
	memcpy(bad, msg, len);
	bad[8] = 2;
	CU_ASSERT_EQUAL(fg_wg_transport_open(bad, len, key, &counter), -EBADMSG);
}

static void test_padding_rule(void)
{
	CU_ASSERT_EQUAL(fg_wg_padded_len(0, 1420), 0);
	CU_ASSERT_EQUAL(fg_wg_padded_len(1, 1420), 16);
	CU_ASSERT_EQUAL(fg_wg_padded_len(16, 1420), 16);
	CU_ASSERT_EQUAL(fg_wg_padded_len(17, 1420), 32);
	CU_ASSERT_EQUAL(fg_wg_padded_len(84, 1420), 96);
	/* Never padded past the MTU... */
	CU_ASSERT_EQUAL(fg_wg_padded_len(1419, 1420), 1420);
	CU_ASSERT_EQUAL(fg_wg_padded_len(1420, 1420), 1420);
	/* ...and never truncated. */
	CU_ASSERT_EQUAL(fg_wg_padded_len(1500, 1420), 1500);
}

/* The padding bytes are authenticated like the rest: changing them breaks the tag. */
static void test_padding_authenticated(void)
{
	uint8_t key[32], msg[FG_WG_DATA_HDR_LEN + 16 + FG_WG_AEAD_TAG_LEN];
	uint64_t counter;
	size_t len;

	randombytes_buf(key, sizeof(key));
	memset(msg, 0, sizeof(msg));
	memcpy(msg + FG_WG_DATA_HDR_LEN, "hi", 2);
	len = fg_wg_transport_seal(msg, fg_wg_padded_len(2, 1420), key, 5, 3);
	CU_ASSERT_EQUAL_FATAL(len, sizeof(msg));
	msg[FG_WG_DATA_HDR_LEN + 15] ^= 1; /* the last padding byte, encrypted */
	CU_ASSERT_EQUAL(fg_wg_transport_open(msg, len, key, &counter), -EBADMSG);
}

int main(void)
{
	static const struct fg_cunit_test cases[] = {
		WG_TEST(test_known_answer),
		WG_TEST(test_keepalive),
		WG_TEST(test_round_trip_sizes),
		WG_TEST(test_tamper_every_byte),
		WG_TEST(test_wrong_key_and_lengths),
		WG_TEST(test_padding_rule),
		WG_TEST(test_padding_authenticated),
	};

	if (sodium_init() < 0)
		return 1;
	return fg_cunit_run("wg-transport", cases, sizeof(cases) / sizeof(cases[0]));
}
