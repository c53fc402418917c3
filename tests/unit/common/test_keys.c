// SPDX-License-Identifier: MIT
/*
 * CUnit suite for common/keys.c. The independent implementation is libsodium's
 * sodium_bin2base64/sodium_base642bin and sodium_bin2hex/sodium_hex2bin: random keys must
 * encode identically, and random one-byte corruptions of valid text must be accepted or
 * refused exactly when libsodium decodes them to 32 bytes. Plus a table of hostile strings.
 * Single-threaded.
 */
#include "keys.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <sodium.h>

#include "../cunit_run.h"

enum { RANDOM_ROUNDS = 20000 };

/* RFC 7748 section 6.1's Alice: a known key with a known base64 form. */
static const char alice_b64[] = "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";
static const char alice_hex[] = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";

static void test_known(void)
{
	uint8_t key[FG_KEY_LEN], again[FG_KEY_LEN];
	char b64[FG_KEY_B64_LEN], hex[FG_KEY_HEX_LEN];

	CU_ASSERT_EQUAL_FATAL(fg_key_from_base64(key, alice_b64), 0);
	fg_key_to_hex(hex, key);
	CU_ASSERT_STRING_EQUAL(hex, alice_hex);
	CU_ASSERT_EQUAL(fg_key_from_hex(again, alice_hex), 0);
	CU_ASSERT_EQUAL(memcmp(key, again, FG_KEY_LEN), 0);
	fg_key_to_base64(b64, again);
	CU_ASSERT_STRING_EQUAL(b64, alice_b64);

	/* Upper-case hex is accepted; output is always lower case. */
	char upper[FG_KEY_HEX_LEN];

	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (alice_hex[i] >= 'a' && alice_hex[i] <= 'f') ? (char)(alice_hex[i] - 32)
									: alice_hex[i];
	CU_ASSERT_EQUAL(fg_key_from_hex(again, upper), 0);
	CU_ASSERT_EQUAL(memcmp(key, again, FG_KEY_LEN), 0);
}

static void test_random_vs_sodium(void)
{
	for (int i = 0; i < RANDOM_ROUNDS; i++) {
		uint8_t key[FG_KEY_LEN], back[FG_KEY_LEN];
		char mine[FG_KEY_B64_LEN], ref[FG_KEY_B64_LEN];
		char mine_hex[FG_KEY_HEX_LEN], ref_hex[FG_KEY_HEX_LEN];

		randombytes_buf(key, sizeof(key));
		/* Cover the all-zero and all-ones keys and every byte value's extremes. */
		if (i == 0)
			memset(key, 0, sizeof(key));
		if (i == 1)
			memset(key, 0xff, sizeof(key));
		fg_key_to_base64(mine, key);
		sodium_bin2base64(ref, sizeof(ref), key, sizeof(key), sodium_base64_VARIANT_ORIGINAL);
		CU_ASSERT_STRING_EQUAL(mine, ref);
		fg_key_to_hex(mine_hex, key);
		sodium_bin2hex(ref_hex, sizeof(ref_hex), key, sizeof(key));
		CU_ASSERT_STRING_EQUAL(mine_hex, ref_hex);
		CU_ASSERT_EQUAL(fg_key_from_base64(back, mine), 0);
		CU_ASSERT_EQUAL(memcmp(back, key, FG_KEY_LEN), 0);
		CU_ASSERT_EQUAL(fg_key_from_hex(back, mine_hex), 0);
		CU_ASSERT_EQUAL(memcmp(back, key, FG_KEY_LEN), 0);
	}
}

static bool sodium_b64_ok(const char *s)
{
	uint8_t bin[FG_KEY_LEN + 8];
	size_t bin_len = 0;
	const char *end = NULL;

	if (strlen(s) != FG_KEY_B64_LEN - 1)
		return false;
	if (sodium_base642bin(bin, sizeof(bin), s, strlen(s), NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return end == s + strlen(s) && bin_len == FG_KEY_LEN;
}

static bool sodium_hex_ok(const char *s)
{
	uint8_t bin[FG_KEY_LEN + 8];
	size_t bin_len = 0;
	const char *end = NULL;

	if (strlen(s) != FG_KEY_HEX_LEN - 1)
		return false;
	if (sodium_hex2bin(bin, sizeof(bin), s, strlen(s), NULL, &bin_len, &end) != 0)
		return false;
	return end == s + strlen(s) && bin_len == FG_KEY_LEN;
}

static void test_corruptions_vs_sodium(void)
{
	unsigned int accepted = 0, refused = 0;

	for (int i = 0; i < RANDOM_ROUNDS; i++) {
		uint8_t key[FG_KEY_LEN], back[FG_KEY_LEN];
		char b64[FG_KEY_B64_LEN], hex[FG_KEY_HEX_LEN];
		uint32_t r = randombytes_random();
		/*
		 * ASCII only: libsodium 1.0.18's base64 decoder accepts some bytes >= 0x80 (it
		 * reads them as negative chars), so it is no reference there; test_hostile
		 * checks those bytes are refused.
		 */
		char byte = (char)((r >> 8) & 0x7f);

		randombytes_buf(key, sizeof(key));
		fg_key_to_base64(b64, key);
		fg_key_to_hex(hex, key);
		if (byte == '\0')
			byte = '*';
		b64[r % (FG_KEY_B64_LEN - 1)] = byte;
		hex[r % (FG_KEY_HEX_LEN - 1)] = byte;

		bool ok = fg_key_from_base64(back, b64) == 0;

		CU_ASSERT_EQUAL(ok, sodium_b64_ok(b64));
		ok ? accepted++ : refused++;
		CU_ASSERT_EQUAL(fg_key_from_hex(back, hex) == 0, sodium_hex_ok(hex));
	}
	/* Both outcomes must have been exercised. */
	CU_ASSERT_TRUE(accepted > 0 && refused > 0);
}

static void test_hostile(void)
{
	static const char *const b64_bad[] = {
		"",
		"=",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo",      /* no padding */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==",    /* overlong */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC==",     /* truncated with padding */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCp=",     /* padding bits set */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCr=",
		" dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= ",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=\n",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L Co",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC-=",     /* URL-safe alphabet */
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC_=",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L=o=",
		"=dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC=",
		"dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC\xc3\xa9",
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
		"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff=",
		alice_hex,
	};
	static const char *const hex_bad[] = {
		"",
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2",    /* 63 */
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a0",  /* 65 */
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2g",
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2 ",
		" 7076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		"0x076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c:a",
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c@a",
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c`a",
		"77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c\xc3\xa9",
		alice_b64,
	};
	uint8_t key[FG_KEY_LEN];
	char big[4096], b64[FG_KEY_B64_LEN], hex[FG_KEY_HEX_LEN];

	/* Every byte outside the alphabet, at every position. */
	for (unsigned int c = 1; c < 256; c++) {
		bool b64_alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
				    (c >= '0' && c <= '9') || c == '+' || c == '/';
		bool hex_alphabet = (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f') ||
				    (c >= '0' && c <= '9');

		for (size_t pos = 0; pos < FG_KEY_B64_LEN - 2; pos++) {
			memcpy(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", sizeof(b64));
			b64[pos] = (char)c;
			/* The third character of the last group also carries the padding bits. */
			if (b64_alphabet && pos == FG_KEY_B64_LEN - 3)
				continue;
			CU_ASSERT_EQUAL(fg_key_from_base64(key, b64), b64_alphabet ? 0 : -EINVAL);
		}
		for (size_t pos = 0; pos < FG_KEY_HEX_LEN - 1; pos++) {
			memset(hex, '0', sizeof(hex) - 1);
			hex[sizeof(hex) - 1] = '\0';
			hex[pos] = (char)c;
			CU_ASSERT_EQUAL(fg_key_from_hex(key, hex), hex_alphabet ? 0 : -EINVAL);
		}
	}

	for (size_t i = 0; i < sizeof(b64_bad) / sizeof(b64_bad[0]); i++) {
		memset(key, 0xaa, sizeof(key));
		CU_ASSERT_EQUAL(fg_key_from_base64(key, b64_bad[i]), -EINVAL);
		/* A refused key leaves nothing half-decoded behind. */
		CU_ASSERT_TRUE(fg_key_is_zero(key));
	}
	for (size_t i = 0; i < sizeof(hex_bad) / sizeof(hex_bad[0]); i++) {
		memset(key, 0xaa, sizeof(key));
		CU_ASSERT_EQUAL(fg_key_from_hex(key, hex_bad[i]), -EINVAL);
		CU_ASSERT_TRUE(fg_key_is_zero(key));
	}
	memset(big, 'A', sizeof(big) - 2);
	big[sizeof(big) - 2] = '=';
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(fg_key_from_base64(key, big), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	CU_ASSERT_EQUAL(fg_key_from_hex(key, big), -EINVAL);
	CU_ASSERT_EQUAL(fg_key_from_hex(key, NULL), -EINVAL);
	CU_ASSERT_EQUAL(fg_key_from_base64(key, NULL), -EINVAL);
}

static void test_is_zero(void)
{
	uint8_t key[FG_KEY_LEN];

	memset(key, 0, sizeof(key));
	CU_ASSERT_TRUE(fg_key_is_zero(key));
	for (size_t i = 0; i < FG_KEY_LEN; i++) {
		for (unsigned int bit = 0; bit < 8; bit++) {
			key[i] = (uint8_t)(1u << bit);
			CU_ASSERT_FALSE(fg_key_is_zero(key));
			key[i] = 0;
		}
	}
}

static void test_redact(void)
{
	static const struct {
		const char *text;
		size_t len;   /* 0: strlen */
		size_t max;
		size_t outlen;
		const char *want;
	} cases[] = {
		{ "hello", 0, 64, 64, "hello" },
		{ "it's \"x\" \\", 0, 64, 64, "it\\x27s \\x22x\\x22 \\x5c" },
		{ "\x01\x7f\xff\xc3\xa9", 0, 64, 64, "\\x01\\x7f\\xff\\xc3\\xa9" },
		{ "a\0b", 3, 64, 64, "a\\x00b" },
		{ alice_b64, 0, 64, 64, "[redacted]" },
		{ alice_hex, 0, 64, 64, "[redacted]" },
		{ "key = dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= # x", 0, 64, 64, "key = [redacted] # x" },
		{ "[dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=]", 0, 64, 64, "[[redacted]]" },
		{ "PrivateKey = abc", 0, 64, 64, "PrivateKey" },
		{ "  presharedkey: abc", 0, 64, 64, "  presharedkey" },
		{ "x private_key=abc", 0, 64, 64, "x private_key" },
		{ "preshared_key", 0, 64, 64, "preshared_key" },
		{ "aaaaaaaaaaaaaaaaaaa", 0, 64, 64, "aaaaaaaaaaaaaaaaaaa" },        /* 19 */
		{ "aaaaaaaaaaaaaaaaaaaa", 0, 64, 64, "[redacted]" },                /* 20 */
		{ "123456789012345678901234567890", 0, 64, 64, "123456789012345678901234567890" },
		{ "fd00:2021:1111::1/107, 100.64.0.1/11", 0, 64, 64, "fd00:2021:1111::1/107, 100.64.0.1/11" },
		{ "abcdef", 0, 3, 64, "abc..." },
		{ "abcdefgh", 4, 64, 64, "abcd" },
		{ "abcdef", 0, 64, 5, "a..." },
		{ "abcdef", 0, 64, 4, "..." },
		{ "abcdef", 0, 64, 1, "" },
		{ "\xff\xff", 0, 64, 8, "\\xff..." },
		{ "\xff\xff", 0, 64, 7, "..." },
		/* a run cut by max is still recognised whole */
		{ "x dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=", 0, 4, 64, "x [redacted]" },
		{ "x dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo= y", 0, 4, 64, "x [redacted]..." },
	};
	char out[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);

		memset(out, 'Z', sizeof(out));
		fg_key_redact(out, cases[i].outlen, cases[i].text, len, cases[i].max);
		if (strcmp(out, cases[i].want) != 0)
			fprintf(stderr, "\n  case %zu: got '%s' want '%s'\n", i, out, cases[i].want);
		CU_ASSERT_STRING_EQUAL(out, cases[i].want);
		/* Nothing written past outlen. */
		CU_ASSERT_EQUAL(out[cases[i].outlen], 'Z');
	}
	fg_key_redact(out, sizeof(out), NULL, 5, 64);
	CU_ASSERT_STRING_EQUAL(out, "");
	fg_key_redact(NULL, 0, "x", 1, 64);

	/* 4 * max + 16 bytes always hold the whole text, whatever the bytes. */
	for (int round = 0; round < RANDOM_ROUNDS; round++) {
		enum { MAX = 32 };
		char text[MAX], big[4 * MAX + 16];

		randombytes_buf(text, sizeof(text));
		/* "..." marks truncation: keep it out of the input so it can only mean that. */
		for (size_t j = 0; j < sizeof(text); j++)
			if (text[j] == '.')
				text[j] = ',';
		fg_key_redact(big, sizeof(big), text, sizeof(text), MAX);
		CU_ASSERT_PTR_NULL(strstr(big, "..."));
		/* Every output byte is printable ASCII. */
		for (const char *c = big; *c; c++)
			CU_ASSERT_TRUE(*c >= 0x20 && *c < 0x7f);
	}
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "known vector", test_known },
		{ "random keys vs libsodium", test_random_vs_sodium },
		{ "corruptions vs libsodium", test_corruptions_vs_sodium },
		{ "hostile", test_hostile },
		{ "is zero", test_is_zero },
		{ "redact", test_redact },
	};

	if (sodium_init() < 0)
		return 1;
	return fg_cunit_run("keys", tests, sizeof(tests) / sizeof(tests[0]));
}
