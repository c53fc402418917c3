// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the STUN/TURN codec (controlplane/stun/) on any bytes, as a datagram
 * from a relay or an ICE peer would be. Each input goes through the ChannelData parser (UDP
 * and stream) and the STUN parser. When it parses: the integrity check with a fixed key
 * answers 0, -EACCES or -ENOENT; every getter keeps to its ranges; the message is encoded
 * again attribute by attribute (the integrity attributes recomputed with the fixed key) and
 * that must parse to the same method, class, transaction id, unknown types and attribute
 * values, verify, and encode to itself again (a fixed point); a message with unknown
 * comprehension-required types gets a 420 built whose UNKNOWN-ATTRIBUTES read back the same.
 * Any broken invariant aborts. No state between inputs.
 *
 *   scripts/fuzz.sh stun 60     (clang, ASan + UBSan, 60 s)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chandata.h"
#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "fuzz_stun: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                 \
		}                                                                \
	} while (0)

enum { KNOWN_TYPES = 25 };

static const uint16_t known[KNOWN_TYPES] = {
	0x0001, 0x0006, 0x0008, 0x0009, 0x000A, 0x000C, 0x000D, 0x0012, 0x0013, 0x0014,
	0x0015, 0x0016, 0x0017, 0x0019, 0x001C, 0x001E, 0x0020, 0x0024, 0x0025, 0x8000,
	0x8022, 0x8023, 0x8028, 0x8029, 0x802A,
};

/* Longer than RFC 8489 lets a sender write: read, but not written again. */
static bool too_long_to_send(uint16_t type, size_t len)
{
	switch (type) {
	case FG_STUN_ATTR_USERNAME:
		return len > FG_STUN_USERNAME_MAX_SEND;
	case FG_STUN_ATTR_REALM:
	case FG_STUN_ATTR_NONCE:
	case FG_STUN_ATTR_SOFTWARE:
		return len > FG_STUN_TEXT_MAX_SEND;
	case FG_STUN_ATTR_ERROR_CODE:
		return len > 4 + FG_STUN_TEXT_MAX_SEND;
	default:
		return false;
	}
}

static void chandata(const uint8_t *data, size_t size)
{
	static uint8_t out[4 + 0xFFFF + 3];
	struct fg_chandata cd;
	int rc = fg_chandata_parse(data, size, false, &cd);

	CHECK(rc == -EBADMSG || rc == (int)size);
	if (rc > 0) {
		CHECK(fg_chandata_classify(data, size) == FG_DGRAM_CHANDATA);
		CHECK((size_t)cd.len + 4 <= size && size <= (size_t)cd.len + 7);
		CHECK(fg_chandata_write(out, sizeof(out), cd.channel, cd.data, cd.len, false) == cd.len + 4);
		CHECK(!memcmp(out, data, 4 + (size_t)cd.len));
	}
	rc = fg_chandata_parse(data, size, true, &cd);
	CHECK(rc == -EBADMSG || rc == -EAGAIN || (rc > 0 && (size_t)rc <= size && rc % 4 == 0));
}

static void getters(const struct fg_stun_msg *m, const struct fg_stun_key *k)
{
	struct fg_endpoint ep;
	const char *reason;
	const uint8_t *v;
	uint16_t types[4], ch;
	unsigned code;
	uint64_t u64;
	uint32_t u32;
	size_t n;
	uint8_t u8;
	int rc;

	for (size_t i = 0; i < KNOWN_TYPES; i++) {
		if (fg_stun_get_bytes(m, known[i], &v, &n) == 0)
			CHECK(v >= m->buf && v + n <= m->buf + m->len);
		fg_stun_get_u32(m, known[i], &u32);
		fg_stun_get_u64(m, known[i], &u64);
		for (unsigned nth = 0; nth < 3; nth++)
			if (fg_stun_get_addr(m, known[i], nth, &ep) == 0)
				CHECK(fg_ip_len(ep.ip.family) != 0);
	}
	if (fg_stun_get_error(m, &code, &reason, &n) == 0)
		CHECK(code >= 300 && code <= 699 && n <= FG_STUN_TEXT_MAX);
	if (fg_stun_get_channel(m, &ch) == 0)
		CHECK(ch >= FG_STUN_CHANNEL_MIN && ch <= FG_STUN_CHANNEL_MAX);
	if (fg_stun_get_family(m, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8) == 0)
		CHECK(fg_ip_len(u8) != 0);
	fg_stun_get_transport(m, &u8);
	fg_stun_get_unknown(m, types, 4, &n);
	rc = fg_stun_check_integrity(m, k);
	CHECK(rc == 0 || rc == -EACCES || rc == -ENOENT);
}

/*
 * Encodes what m holds: the attributes before MESSAGE-INTEGRITY as they are, then the
 * integrity attributes m had, recomputed with k. Types not written again go to *skip.
 */
static int reencode(const struct fg_stun_msg *m, const struct fg_stun_key *k, uint8_t *out,
		    size_t cap, uint32_t *skip)
{
	struct fg_stun_builder b;
	struct fg_stun_attr a;
	size_t pos = 0;

	fg_stun_build_start(&b, out, cap, m->method, (enum fg_stun_class)m->cls, m->txid);
	while (fg_stun_attr_next(m, &pos, &a)) {
		if (too_long_to_send(a.type, a.len)) {
			for (size_t i = 0; i < KNOWN_TYPES; i++)
				if (known[i] == a.type)
					*skip |= 1u << i;
			continue;
		}
		CHECK(fg_stun_add_bytes(&b, a.type, a.val, a.len) == 0 || b.err == -EMSGSIZE);
	}
	if (fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY))
		fg_stun_add_integrity(&b, k);
	if (fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256))
		fg_stun_add_integrity_sha256(&b, k);
	if (fg_stun_has(m, FG_STUN_ATTR_FINGERPRINT))
		fg_stun_add_fingerprint(&b);
	return fg_stun_build_finish(&b);
}

static bool same_value(const struct fg_stun_msg *a, const struct fg_stun_msg *b, uint16_t type)
{
	const uint8_t *va, *vb;
	size_t na, nb;
	int ra = fg_stun_get_bytes(a, type, &va, &na);
	int rb = fg_stun_get_bytes(b, type, &vb, &nb);

	if (ra || rb)
		return ra == rb;
	return na == nb && !memcmp(va, vb, na);
}

static void answer_420(const struct fg_stun_msg *m)
{
	static uint8_t out[512];
	struct fg_stun_builder b;
	struct fg_stun_msg r;
	uint16_t types[FG_STUN_MAX_UNKNOWN];
	size_t n = 0;
	int len;

	fg_stun_build_start(&b, out, sizeof(out), m->method, FG_STUN_ERROR, m->txid);
	fg_stun_add_error(&b, FG_STUN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute");
	fg_stun_add_unknown(&b, m->unknown, m->n_unknown);
	fg_stun_add_fingerprint(&b);
	len = fg_stun_build_finish(&b);
	CHECK(len > 0);
	CHECK(fg_stun_parse(out, (size_t)len, &r, NULL, 0) == 0);
	CHECK(fg_stun_get_unknown(&r, types, FG_STUN_MAX_UNKNOWN, &n) == 0 && n == m->n_unknown);
	CHECK(!memcmp(types, m->unknown, n * sizeof(types[0])));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[FG_STUN_MAX_LEN], again[FG_STUN_MAX_LEN];
	struct fg_stun_msg m, m2, m3;
	struct fg_stun_key k;
	uint32_t skip = 0, skip2 = 0;
	char err[128];
	int rc, rc2, n, n2;

	chandata(data, size);
	err[0] = '\0';
	rc = fg_stun_parse(data, size, &m, err, sizeof(err));
	CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOTSUP);
	CHECK(memchr(err, '\0', sizeof(err)) && (rc == 0 || err[0]));
	if (rc == -EBADMSG)
		return 0;
	CHECK(fg_stun_is_stun(data, size));
	/* RFC 7983 gives STUN only 0-3, but any type below 0x4000 (method 0x000-0xFFF) parses. */
	CHECK(data[0] < 0x40 && (data[0] > 3 || fg_chandata_classify(data, size) == FG_DGRAM_STUN));
	CHECK(fg_stun_key_short_term(&k, "fuzz-password") == 0);
	getters(&m, &k);
	if (rc == -ENOTSUP)
		answer_420(&m);

	n = reencode(&m, &k, out, sizeof(out), &skip);
	if (n == -EMSGSIZE) /* a truncated MI-SHA256 written whole can pass the limit */
		goto out;
	CHECK(n > 0);
	rc2 = fg_stun_parse(out, (size_t)n, &m2, err, sizeof(err));
	CHECK(rc2 == rc);
	CHECK(m2.method == m.method && m2.cls == m.cls && !memcmp(m2.txid, m.txid, sizeof(m.txid)));
	CHECK(m2.n_unknown == m.n_unknown && m2.unknown_overflow == m.unknown_overflow);
	CHECK(!memcmp(m2.unknown, m.unknown, m.n_unknown * sizeof(m.unknown[0])));
	for (size_t i = 0; i < KNOWN_TYPES; i++) {
		if (skip & 1u << i)
			continue;
		CHECK(fg_stun_has(&m2, known[i]) == fg_stun_has(&m, known[i]));
		if (known[i] != FG_STUN_ATTR_MESSAGE_INTEGRITY &&
		    known[i] != FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 && known[i] != FG_STUN_ATTR_FINGERPRINT)
			CHECK(same_value(&m, &m2, known[i]));
	}
	if (fg_stun_has(&m2, FG_STUN_ATTR_MESSAGE_INTEGRITY) ||
	    fg_stun_has(&m2, FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256))
		CHECK(fg_stun_check_integrity(&m2, &k) == 0);
	getters(&m2, &k);
	/* A fixed point: what we write is what we read, byte for byte. */
	n2 = reencode(&m2, &k, again, sizeof(again), &skip2);
	CHECK(n2 == n && !skip2 && !memcmp(out, again, (size_t)n));
	CHECK(fg_stun_parse(again, (size_t)n2, &m3, NULL, 0) == rc);
out:
	fg_stun_key_wipe(&k);
	return 0;
}
