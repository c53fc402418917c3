// SPDX-License-Identifier: MIT
/*
 * CUnit suite for kdf.c: BLAKE2s-256 against RFC 7693 appendix B and the empty-input
 * digest; multi-block hashing, the keyed 128-bit MAC, HMAC-BLAKE2s and the KDF chain
 * against values computed with Python's hashlib/hmac (an independent implementation);
 * HMAC and KDF self-consistency and aliasing; the TAI64N label. Single-threaded.
 */
#include <sodium.h>
#include <string.h>

#include "kdf.h"
#include "wg_test.h"

static const char fox[] = "The quick brown fox jumps over the lazy dog";

static void seq(uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)i;
}

static void test_hash_rfc7693(void)
{
	uint8_t out[32], want[32];

	fg_wg_hash(out, "abc", 3, NULL, 0);
	unhex(want, 32, "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
	CU_ASSERT_EQUAL(memcmp(out, want, 32), 0);

	fg_wg_hash(out, NULL, 0, NULL, 0);
	unhex(want, 32, "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
	CU_ASSERT_EQUAL(memcmp(out, want, 32), 0);
}

static void test_hash_concatenation(void)
{
	uint8_t whole[32], split[32], alias[32];
	uint8_t data[100];

	seq(data, sizeof(data));
	fg_wg_hash(whole, data, sizeof(data), NULL, 0);
	fg_wg_hash(split, data, 37, data + 37, sizeof(data) - 37);
	CU_ASSERT_EQUAL(memcmp(whole, split, 32), 0);
	fg_wg_hash(split, NULL, 0, data, sizeof(data));
	CU_ASSERT_EQUAL(memcmp(whole, split, 32), 0);

	/* H = HASH(H || x) in place equals the out-of-place result. */
	memcpy(alias, data, 32);
	fg_wg_hash(whole, data, 32, data + 32, 10);
	fg_wg_hash(alias, alias, 32, data + 32, 10);
	CU_ASSERT_EQUAL(memcmp(whole, alias, 32), 0);
}

/* Several blocks, split at every offset: the streaming path gives the one-shot digest. */
static void test_hash_multiblock(void)
{
	uint8_t in[255], out[32], want[32];
	size_t cut;

	seq(in, sizeof(in));
	unhex(want, 32, "f03f5789d3336b80d002d59fdf918bdb775b00956ed5528e86aa994acb38fe2d");
	for (cut = 0; cut <= sizeof(in); cut++) {
		fg_wg_hash(out, in, cut, in + cut, sizeof(in) - cut);
		CU_ASSERT_EQUAL(memcmp(out, want, 32), 0);
	}
}

static void test_mac_vectors(void)
{
	uint8_t key[32], out[16], want[16];

	seq(key, sizeof(key));
	fg_wg_mac(out, key, 32, fox, strlen(fox));
	unhex(want, 16, "4e2219ec6d234a478e4ace91429bbce4");
	CU_ASSERT_EQUAL(memcmp(out, want, 16), 0);

	/* A 16-byte key, as mac2 uses the cookie for a key. */
	fg_wg_mac(out, key, 16, fox, strlen(fox));
	unhex(want, 16, "a745047ad25246370219b942e684dd6a");
	CU_ASSERT_EQUAL(memcmp(out, want, 16), 0);
}

static void test_mac_bad_key_len(void)
{
	uint8_t key[40], out[16];

	seq(key, sizeof(key));
	memset(out, 0xaa, sizeof(out));
	fg_wg_mac(out, key, 33, fox, strlen(fox));
	CU_ASSERT_TRUE(sodium_is_zero(out, sizeof(out)));
	memset(out, 0xaa, sizeof(out));
	fg_wg_mac(out, key, 0, fox, strlen(fox));
	CU_ASSERT_TRUE(sodium_is_zero(out, sizeof(out)));
}

static void test_hmac_vectors(void)
{
	uint8_t key[100], out[32], want[32];

	seq(key, sizeof(key));
	fg_wg_hmac(out, key, 32, fox, strlen(fox));
	unhex(want, 32, "f4660dee21c6a48e2a3d695ceedc26693e37b64b5ac5227476578517ee87fe6d");
	CU_ASSERT_EQUAL(memcmp(out, want, 32), 0);

	/* Keys longer than the 64-byte block are hashed first. */
	fg_wg_hmac(out, key, 100, "abc", 3);
	unhex(want, 32, "c1b751501db12b753069a918627b623179be55c8cc7ca5c4e14bdf32274ac656");
	CU_ASSERT_EQUAL(memcmp(out, want, 32), 0);
}

/* HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)) built from fg_wg_hash. */
static void test_hmac_self_consistent(void)
{
	uint8_t key[32], ipad[64], opad[64], inner[32], want[32], out[32];
	uint8_t msg[200];
	size_t i;

	seq(key, sizeof(key));
	seq(msg, sizeof(msg));
	memset(ipad, 0x36, sizeof(ipad));
	memset(opad, 0x5c, sizeof(opad));
	for (i = 0; i < sizeof(key); i++) {
		ipad[i] ^= key[i];
		opad[i] ^= key[i];
	}
	fg_wg_hash(inner, ipad, sizeof(ipad), msg, sizeof(msg));
	fg_wg_hash(want, opad, sizeof(opad), inner, sizeof(inner));
	fg_wg_hmac(out, key, sizeof(key), msg, sizeof(msg));
	CU_ASSERT_EQUAL(memcmp(out, want, 32), 0);

	/* Output aliasing the key. */
	fg_wg_hmac(key, key, sizeof(key), msg, sizeof(msg));
	CU_ASSERT_EQUAL(memcmp(key, want, 32), 0);

	/* A different key gives a different MAC. */
	seq(key, sizeof(key));
	key[31] ^= 1;
	fg_wg_hmac(out, key, sizeof(key), msg, sizeof(msg));
	CU_ASSERT_NOT_EQUAL(memcmp(out, want, 32), 0);
}

static void test_kdf_vectors(void)
{
	static const char ikm[] = "input key material";
	uint8_t ck[32], t1[32], t2[32], t3[32], want[32];

	seq(ck, sizeof(ck));
	fg_wg_kdf3(t1, t2, t3, ck, ikm, strlen(ikm));
	unhex(want, 32, "93e2a65883e34ac95485f5d0aa4b09163a4e944dab8cf9406d3a138e362851c6");
	CU_ASSERT_EQUAL(memcmp(t1, want, 32), 0);
	unhex(want, 32, "dd6fae42afdb2a41170f44dc5b885ec4cfd17c8dd324d38b390c548630dd0a83");
	CU_ASSERT_EQUAL(memcmp(t2, want, 32), 0);
	unhex(want, 32, "4125e0adfa9b7e736615e99dde6f3f0b64b949d8b480e82cab2e685dc286e45d");
	CU_ASSERT_EQUAL(memcmp(t3, want, 32), 0);

	/* The transport split: KDF2(C, empty). */
	fg_wg_kdf2(t1, t2, ck, NULL, 0);
	unhex(want, 32, "7a38c34bf2b8738d7374ca77c44ecb309a11d2b2528304fa86052c365e722624");
	CU_ASSERT_EQUAL(memcmp(t1, want, 32), 0);
	unhex(want, 32, "1a17621f346abdc520746a9fb64d8eb03231d674fc15687537b0780fd9c060fd");
	CU_ASSERT_EQUAL(memcmp(t2, want, 32), 0);
}

static void test_kdf_prefixes_and_alias(void)
{
	static const char ikm[] = "input key material";
	uint8_t ck[32], a1[32], a2[32], a3[32], b1[32], b2[32], c1[32];

	seq(ck, sizeof(ck));
	fg_wg_kdf3(a1, a2, a3, ck, ikm, strlen(ikm));
	fg_wg_kdf2(b1, b2, ck, ikm, strlen(ikm));
	fg_wg_kdf1(c1, ck, ikm, strlen(ikm));
	CU_ASSERT_EQUAL(memcmp(a1, b1, 32), 0);
	CU_ASSERT_EQUAL(memcmp(a2, b2, 32), 0);
	CU_ASSERT_EQUAL(memcmp(a1, c1, 32), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a1, a2, 32), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a2, a3, 32), 0);

	/* C = KDF3(C, x): the first output aliases the chaining key. */
	fg_wg_kdf3(ck, b1, b2, ck, ikm, strlen(ikm));
	CU_ASSERT_EQUAL(memcmp(ck, a1, 32), 0);
	CU_ASSERT_EQUAL(memcmp(b1, a2, 32), 0);
	CU_ASSERT_EQUAL(memcmp(b2, a3, 32), 0);
}

static void test_tai64n(void)
{
	/* 2023-11-14T22:13:20.123456789Z */
	const uint64_t t = 1700000000ULL * 1000000000ULL + 123456789ULL;
	uint8_t out[12], want[12], later[12], same[12];

	/* secs = 2^62 + 10 + 1700000000 = 0x400000006553f10a; ns 123456789 rounded down to a
	 * multiple of 2^24 = 7 * 2^24 = 0x07000000. */
	fg_wg_tai64n(out, t);
	unhex(want, 12, "400000006553f10a07000000");
	CU_ASSERT_EQUAL(memcmp(out, want, 12), 0);

	/* Within the same 2^24 ns slot the label does not change (clock whitening)... */
	fg_wg_tai64n(same, t + 1000);
	CU_ASSERT_EQUAL(memcmp(out, same, 12), 0);
	/* ...across slots it grows, and byte order is time order. */
	fg_wg_tai64n(later, t + 20000000ULL);
	CU_ASSERT_TRUE(memcmp(later, out, 12) > 0);
	fg_wg_tai64n(later, t + 1000000000ULL);
	CU_ASSERT_TRUE(memcmp(later, out, 12) > 0);

	fg_wg_tai64n(out, 0);
	unhex(want, 12, "400000000000000a00000000");
	CU_ASSERT_EQUAL(memcmp(out, want, 12), 0);
}

int main(void)
{
	static const struct fg_cunit_test cases[] = {
		WG_TEST(test_hash_rfc7693),
		WG_TEST(test_hash_concatenation),
		WG_TEST(test_hash_multiblock),
		WG_TEST(test_mac_vectors),
		WG_TEST(test_mac_bad_key_len),
		WG_TEST(test_hmac_vectors),
		WG_TEST(test_hmac_self_consistent),
		WG_TEST(test_kdf_vectors),
		WG_TEST(test_kdf_prefixes_and_alias),
		WG_TEST(test_tai64n),
	};

	return fg_cunit_run("wg-kdf", cases, sizeof(cases) / sizeof(cases[0]));
}
