// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/stun/chandata.c: the first-byte classification of every byte
 * value, a table of ChannelData datagrams and stream buffers with the answer each must get
 * (channel range, length against the datagram, the optional UDP padding, the TCP padding and
 * back-to-back frames), and writes into buffers of every size, in place and padded. Inputs
 * sit in buffers of their exact size, and the code is built with ASan and UBSan.
 * Single-threaded.
 */
#include "chandata.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void test_classify(void)
{
	for (unsigned b = 0; b < 256; b++) {
		uint8_t byte = (uint8_t)b;
		enum fg_dgram_kind want = b <= 3 ? FG_DGRAM_STUN :
					  b >= 64 && b <= 79 ? FG_DGRAM_CHANDATA : FG_DGRAM_OTHER;

		CU_ASSERT_EQUAL(fg_chandata_classify(&byte, 1), want);
	}
	CU_ASSERT_EQUAL(fg_chandata_classify(NULL, 0), FG_DGRAM_OTHER);
	/* WireGuard's four message types are not relay traffic. */
	for (uint8_t t = 1; t <= 4; t++) {
		uint8_t wg[4] = { t, 0, 0, 0 };

		CU_ASSERT_EQUAL(fg_chandata_classify(wg, sizeof(wg)), t <= 3 ? FG_DGRAM_STUN : FG_DGRAM_OTHER);
	}
}

static const struct {
	const char *name;
	const char *bytes;
	size_t len;
	bool stream;
	int want;             /* bytes taken, or -errno */
	uint16_t channel;
	uint16_t dlen;
} cases[] = {
	{ "empty datagram", "", 0, false, -EBADMSG, 0, 0 },
	{ "3 bytes", "\x40\x00\x00", 3, false, -EBADMSG, 0, 0 },
	{ "header only, no data", "\x40\x00\x00\x00", 4, false, 4, 0x4000, 0 },
	{ "exact", "\x40\x01\x00\x03" "abc", 7, false, 7, 0x4001, 3 },
	{ "UDP with its padding", "\x4f\xff\x00\x03" "abc\0", 8, false, 8, 0x4fff, 3 },
	{ "UDP with more than padding", "\x40\x01\x00\x03" "abc\0\0\0\0\0", 12, false, -EBADMSG, 0, 0 },
	{ "UDP shorter than its length", "\x40\x01\x00\x05" "abc", 7, false, -EBADMSG, 0, 0 },
	{ "UDP length 0xFFFF, 4 bytes", "\x40\x01\xff\xff" "abcd", 8, false, -EBADMSG, 0, 0 },
	{ "channel 0x3FFF", "\x3f\xff\x00\x00", 4, false, -EBADMSG, 0, 0 },
	{ "channel 0x5000", "\x50\x00\x00\x00", 4, false, -EBADMSG, 0, 0 },
	{ "channel 0xFFFF", "\xff\xff\x00\x00", 4, false, -EBADMSG, 0, 0 },
	{ "a STUN header", "\x00\x01\x00\x00\x21\x12\xa4\x42", 8, false, -EBADMSG, 0, 0 },
	{ "stream: empty", "", 0, true, -EAGAIN, 0, 0 },
	{ "stream: 2 bytes", "\x40\x00", 2, true, -EAGAIN, 0, 0 },
	{ "stream: bad channel in 4 bytes", "\x7f\x00\x00\x00", 4, true, -EBADMSG, 0, 0 },
	{ "stream: padded", "\x40\x02\x00\x03" "abc\0", 8, true, 8, 0x4002, 3 },
	{ "stream: padding missing", "\x40\x02\x00\x03" "abc", 7, true, -EAGAIN, 0, 0 },
	{ "stream: two frames", "\x40\x02\x00\x01" "a\0\0\0" "\x40\x03\x00\x00", 12, true, 8, 0x4002, 1 },
	{ "stream: aligned data", "\x40\x02\x00\x04" "abcd", 8, true, 8, 0x4002, 4 },
};

static void test_parse_table(void)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint8_t *buf = malloc(cases[i].len ? cases[i].len : 1);
		struct fg_chandata cd;
		int rc;

		memcpy(buf, cases[i].bytes, cases[i].len);
		rc = fg_chandata_parse(buf, cases[i].len, cases[i].stream, &cd);
		if (rc != cases[i].want) {
			printf("\n    %s: %d, want %d", cases[i].name, rc, cases[i].want);
			CU_FAIL("ChannelData case");
		} else if (rc > 0) {
			CU_ASSERT_EQUAL(cd.channel, cases[i].channel);
			CU_ASSERT_EQUAL(cd.len, cases[i].dlen);
			CU_ASSERT_PTR_EQUAL(cd.data, buf + 4);
		}
		free(buf);
	}
}

static void test_write(void)
{
	uint8_t data[1500], out[1600], *buf;
	struct fg_chandata cd;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	/* Every size of a 148-byte handshake's buffer, over UDP. */
	for (size_t cap = 0; cap <= 152; cap++) {
		buf = malloc(cap ? cap : 1);
		CU_ASSERT_EQUAL(fg_chandata_write(buf, cap, 0x4000, data, 148, false),
				cap < 152 ? -ENOBUFS : 152);
		free(buf);
	}
	/* Over a stream the data is padded with zeros; over UDP it is not. */
	CU_ASSERT_EQUAL(fg_chandata_write(out, sizeof(out), 0x4abc, data, 5, true), 12);
	CU_ASSERT_TRUE(out[0] == 0x4a && out[1] == 0xbc && out[2] == 0 && out[3] == 5);
	CU_ASSERT_TRUE(out[9] == 0 && out[10] == 0 && out[11] == 0);
	CU_ASSERT_EQUAL(fg_chandata_parse(out, 12, true, &cd), 12);
	CU_ASSERT_EQUAL(fg_chandata_parse(out, 12, false, &cd), 12);
	CU_ASSERT_EQUAL(memcmp(cd.data, data, 5), 0);
	CU_ASSERT_EQUAL(fg_chandata_write(out, sizeof(out), 0x4abc, data, 5, false), 9);
	CU_ASSERT_EQUAL(fg_chandata_parse(out, 9, false, &cd), 9);
	CU_ASSERT_EQUAL(fg_chandata_write(out, 11, 0x4abc, data, 5, true), -ENOBUFS);
	/* In place: the data already sits after the header's room. */
	memcpy(out + 4, data, 1400);
	CU_ASSERT_EQUAL(fg_chandata_write(out, sizeof(out), 0x4001, out + 4, 1400, false), 1404);
	CU_ASSERT_EQUAL(memcmp(out + 4, data, 1400), 0);
	/* Refusals. */
	CU_ASSERT_EQUAL(fg_chandata_write(out, sizeof(out), 0x3fff, data, 1, false), -EINVAL);
	CU_ASSERT_EQUAL(fg_chandata_write(out, sizeof(out), 0x5000, data, 1, false), -EINVAL);
	CU_ASSERT_EQUAL(fg_chandata_write(out, sizeof(out), 0x4000, NULL, 1, false), -EINVAL);
	CU_ASSERT_EQUAL(fg_chandata_write(out, sizeof(out), 0x4000, data, 0x10000, false), -EINVAL);
	CU_ASSERT_EQUAL(fg_chandata_write(NULL, 0, 0x4000, NULL, 0, false), -ENOBUFS);
	CU_ASSERT_EQUAL(fg_chandata_write(out, 4, 0x4000, NULL, 0, true), 4);
}

/* Every channel in range round-trips; each written message classifies as ChannelData. */
static void test_round_trip(void)
{
	uint8_t out[16];
	struct fg_chandata cd;

	for (unsigned ch = FG_CHANDATA_CHANNEL_MIN; ch <= FG_CHANDATA_CHANNEL_MAX; ch++) {
		int n = fg_chandata_write(out, sizeof(out), (uint16_t)ch, "wg", 2, ch & 1);

		if (n < 0 || fg_chandata_classify(out, (size_t)n) != FG_DGRAM_CHANDATA ||
		    fg_chandata_parse(out, (size_t)n, ch & 1, &cd) != n || cd.channel != ch ||
		    cd.len != 2 || memcmp(cd.data, "wg", 2))
			CU_FAIL("channel round trip");
	}
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "classify every first byte", test_classify },
		{ "parse table", test_parse_table },
		{ "write", test_write },
		{ "every channel round trip", test_round_trip },
	};

	return fg_cunit_run("chandata", tests, ARRAY_LEN(tests));
}
