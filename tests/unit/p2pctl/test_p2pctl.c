// SPDX-License-Identifier: MIT
/*
 * The data plane's p2p control packets (dataplane/worker/p2pctl.c), no EAL: a hostile table
 * of what a client may send (truncated, bad payload lengths, not a p2p packet at all,
 * oversized, wrong or unknown events, from a peer without a policy, and what Firezone's
 * gateway accepts: nonzero reserved bytes, any hop limit, traffic class or flow label,
 * WireGuard padding behind the packet), each packet in a buffer of exactly its readable
 * length so that ASan catches a read past it; the per-client GCRA budget (burst, refill,
 * a clock going backwards); and the packet built for P2P_OUT, byte for byte against a
 * hand-written one and read back by icmpgen's independent parser. Built with ASan and UBSan.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "icmpgen.h"
#include "p2pctl.h"

enum {
	JSON_LEN = 64,
	NS = 1000000000,
};

/* A well-formed p2p control packet: event, then body_len bytes of body (a JSON stand-in),
 * in a buffer of total + pad bytes (the padding zero). */
static uint8_t *make(uint8_t event, uint32_t body_len, uint32_t pad, uint32_t *len)
{
	uint32_t total = 48 + body_len;
	uint8_t *p = calloc(1, total + pad);

	CU_ASSERT_FATAL(p != NULL);
	p[0] = 0x60;
	p[4] = (uint8_t)((8 + body_len) >> 8);
	p[5] = (uint8_t)(8 + body_len);
	p[6] = 0xff;
	p[40] = event;
	for (uint32_t i = 0; i < body_len; i++)
		p[48 + i] = (uint8_t)('a' + i % 26);
	*len = total + pad;
	return p;
}

enum mutation {
	M_NONE,
	M_TRUNCATE,      /* arg: readable bytes */
	M_PLEN,          /* arg: the IPv6 payload length */
	M_VERSION4,
	M_NEXT_HEADER,   /* arg: the next header */
	M_SRC,           /* source ::1 */
	M_DST,           /* destination ::1 */
	M_RESERVED,      /* the 7 reserved bytes all set */
	M_HOP_TC_FLOW,   /* hop limit 64, traffic class 0xb8, flow label 0x12345 */
	M_NULL,
};

struct hostile {
	const char *what;
	uint8_t event;
	uint32_t body, pad;
	enum mutation m;
	uint32_t arg;
	bool authorized;
	enum fg_drop want;
	uint16_t want_len;        /* the payload length handed on, when accepted */
};

static const struct hostile table[] = {
	{ "an empty datagram", 0, 0, 0, M_TRUNCATE, 0, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "the IPv6 header alone", 0, 0, 0, M_TRUNCATE, 40, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "the p2p header cut short (47 bytes)", 0, 0, 0, M_TRUNCATE, 47, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "payload length 0", 0, 0, 0, M_PLEN, 0, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "payload length 7 (under the p2p header)", 0, 0, 0, M_PLEN, 7, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "payload length one past the datagram", 0, JSON_LEN, 0, M_PLEN, 8 + JSON_LEN + 1, true,
	  FG_DROP_P2P_MALFORMED, 0 },
	{ "payload length 0xffff", 0, JSON_LEN, 0, M_PLEN, 0xffff, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "the body cut off behind the header", 0, JSON_LEN, 0, M_TRUNCATE, 48 + JSON_LEN - 1, true,
	  FG_DROP_P2P_MALFORMED, 0 },
	{ "IPv4", 0, JSON_LEN, 0, M_VERSION4, 0, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "next header UDP", 0, JSON_LEN, 0, M_NEXT_HEADER, 17, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "next header 0xfe", 0, JSON_LEN, 0, M_NEXT_HEADER, 0xfe, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "source ::1", 0, JSON_LEN, 0, M_SRC, 0, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "destination ::1", 0, JSON_LEN, 0, M_DST, 0, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "no packet (NULL)", 0, 0, 0, M_NULL, 0, true, FG_DROP_P2P_MALFORMED, 0 },
	{ "1281 bytes", 0, 1233, 0, M_NONE, 0, true, FG_DROP_P2P_OVERSIZED, 0 },
	{ "1281 bytes from a peer without a policy", 0, 1233, 0, M_NONE, 0, false, FG_DROP_P2P_OVERSIZED, 0 },
	{ "payload length 1241 inside a 1500-byte datagram", 0, 1233, 219, M_NONE, 0, true, FG_DROP_P2P_OVERSIZED, 0 },
	{ "AssignedIps from a peer without a policy", 0, JSON_LEN, 0, M_NONE, 0, false, FG_DROP_P2P_UNAUTHORIZED, 0 },
	{ "Goodbye from a peer without a policy", 2, 0, 0, M_NONE, 0, false, FG_DROP_P2P_UNAUTHORIZED, 0 },
	{ "DomainStatus from a client", 1, JSON_LEN, 0, M_NONE, 0, true, FG_DROP_P2P_EVENT, 0 },
	{ "event 3", 3, 0, 0, M_NONE, 0, true, FG_DROP_P2P_EVENT, 0 },
	{ "event 0xff", 0xff, JSON_LEN, 0, M_NONE, 0, true, FG_DROP_P2P_EVENT, 0 },
	{ "AssignedIps", 0, JSON_LEN, 0, M_NONE, 0, true, FG_DROP_NONE, 8 + JSON_LEN },
	{ "AssignedIps of exactly 1280 bytes", 0, 1232, 0, M_NONE, 0, true, FG_DROP_NONE, 1240 },
	{ "AssignedIps with no body (the control plane judges it)", 0, 0, 0, M_NONE, 0, true, FG_DROP_NONE, 8 },
	{ "AssignedIps with WireGuard padding behind it", 0, JSON_LEN, 8, M_NONE, 0, true, FG_DROP_NONE,
	  8 + JSON_LEN },
	{ "AssignedIps with the reserved bytes set (Firezone does not check them)", 0, JSON_LEN, 0, M_RESERVED, 0,
	  true, FG_DROP_NONE, 8 + JSON_LEN },
	{ "AssignedIps with hop limit, traffic class and flow label set (not checked)", 0, JSON_LEN, 0,
	  M_HOP_TC_FLOW, 0, true, FG_DROP_NONE, 8 + JSON_LEN },
	{ "Goodbye", 2, 0, 0, M_NONE, 0, true, FG_DROP_NONE, 8 },
	{ "Goodbye with a body", 2, 5, 0, M_NONE, 0, true, FG_DROP_NONE, 13 },
	{ "Goodbye with padding behind it", 2, 0, 8, M_NONE, 0, true, FG_DROP_NONE, 8 },
};

static void mutate(uint8_t *p, uint32_t *len, enum mutation m, uint32_t arg)
{
	switch (m) {
	case M_TRUNCATE:
		*len = arg;
		break;
	case M_PLEN:
		p[4] = (uint8_t)(arg >> 8);
		p[5] = (uint8_t)arg;
		break;
	case M_VERSION4:
		p[0] = 0x45;
		break;
	case M_NEXT_HEADER:
		p[6] = (uint8_t)arg;
		break;
	case M_SRC:
		p[23] = 1;
		break;
	case M_DST:
		p[39] = 1;
		break;
	case M_RESERVED:
		memset(p + 41, 0xa5, 7);
		break;
	case M_HOP_TC_FLOW:
		p[0] = 0x6b;                /* traffic class 0xb8: 0x6b 0x81 ... */
		p[1] = 0x81;
		p[2] = 0x23;
		p[3] = 0x45;
		p[7] = 64;
		break;
	default:
		break;
	}
}

static void test_hostile_table(void)
{
	unsigned bad = 0;

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		const struct hostile *t = &table[i];
		struct fg_p2pctl_msg msg = { .event = 0x77, .off = 0x7777, .len = 0x7777 };
		uint32_t len;
		uint8_t *full = make(t->event, t->body, t->pad, &len), *p;
		enum fg_drop got;

		mutate(full, &len, t->m, t->arg);
		/* Exactly len readable bytes: a read past them is an ASan abort. */
		p = malloc(len ? len : 1);
		CU_ASSERT_FATAL(p != NULL);
		memcpy(p, full, len);
		got = fg_p2pctl_classify(t->m == M_NULL ? NULL : p, len, t->authorized, &msg);
		if (got != t->want) {
			printf("\n  %s: %s, want %s", t->what, fg_drop_names[got], fg_drop_names[t->want]);
			bad++;
		} else if (got == FG_DROP_NONE &&
			   (msg.event != t->event || msg.off != 40 || msg.len != t->want_len)) {
			printf("\n  %s: event %u off %u len %u", t->what, msg.event, msg.off, msg.len);
			bad++;
		} else if (got != FG_DROP_NONE && (msg.event != 0x77 || msg.off != 0x7777 || msg.len != 0x7777)) {
			printf("\n  %s: output written on a drop", t->what);
			bad++;
		}
		/* out may be NULL. */
		CU_ASSERT_EQUAL(fg_p2pctl_classify(t->m == M_NULL ? NULL : p, len, t->authorized, NULL), got);
		free(p);
		free(full);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

/* Every prefix of a valid packet, every value of each header byte: never a read past the
 * buffer, never an acceptance of what is not a well-formed p2p packet. */
static void test_every_prefix_and_byte(void)
{
	uint32_t len;
	uint8_t *full = make(0, JSON_LEN, 0, &len);
	struct fg_p2pctl_msg msg;

	for (uint32_t n = 0; n <= len; n++) {
		uint8_t *p = malloc(n ? n : 1);

		CU_ASSERT_FATAL(p != NULL);
		memcpy(p, full, n);
		CU_ASSERT_EQUAL(fg_p2pctl_classify(p, n, true, &msg), n == len ? FG_DROP_NONE : FG_DROP_P2P_MALFORMED);
		free(p);
	}
	for (unsigned byte = 0; byte < 48; byte++) {
		for (unsigned v = 0; v < 256; v++) {
			uint8_t keep = full[byte];
			enum fg_drop got;

			full[byte] = (uint8_t)v;
			got = fg_p2pctl_classify(full, len, true, &msg);
			if (got == FG_DROP_NONE) {
				CU_ASSERT_EQUAL(full[0] >> 4, 6);
				CU_ASSERT_EQUAL(full[6], 0xff);
				CU_ASSERT(msg.len >= 8 && 40u + msg.len <= len);
				CU_ASSERT(msg.event == 0 || msg.event == 2);
			}
			full[byte] = keep;
		}
	}
	free(full);
}

static void test_budget(void)
{
	uint64_t tat = 0, other = 0, now = 5ull * NS;
	unsigned ok = 0;

	/* A burst, then nothing. */
	for (unsigned i = 0; i < FG_P2PCTL_IN_BURST + 10; i++)
		ok += fg_p2pctl_admit(&tat, now);
	CU_ASSERT_EQUAL(ok, FG_P2PCTL_IN_BURST);
	CU_ASSERT_FALSE(fg_p2pctl_admit(&tat, now));
	/* Another client is not affected. */
	CU_ASSERT_TRUE(fg_p2pctl_admit(&other, now));
	/* One more per 1/rate. */
	now += NS / FG_P2PCTL_IN_PER_SECOND;
	CU_ASSERT_TRUE(fg_p2pctl_admit(&tat, now));
	CU_ASSERT_FALSE(fg_p2pctl_admit(&tat, now));
	/* A clock that goes back gives nothing extra. */
	CU_ASSERT_FALSE(fg_p2pctl_admit(&tat, now - NS));
	/* One second: the sustained rate. */
	now += NS;
	ok = 0;
	for (unsigned i = 0; i < FG_P2PCTL_IN_BURST; i++)
		ok += fg_p2pctl_admit(&tat, now);
	CU_ASSERT_EQUAL(ok, FG_P2PCTL_IN_PER_SECOND);
	/* Idle for long: a full burst again, not more. */
	now += 3600ull * NS;
	ok = 0;
	for (unsigned i = 0; i < 2 * FG_P2PCTL_IN_BURST; i++)
		ok += fg_p2pctl_admit(&tat, now);
	CU_ASSERT_EQUAL(ok, FG_P2PCTL_IN_BURST);
	/* Paced at the rate: every one passes. */
	tat = 0;
	ok = 0;
	for (unsigned i = 0; i < 1000; i++, now += NS / FG_P2PCTL_IN_PER_SECOND)
		ok += fg_p2pctl_admit(&tat, now);
	CU_ASSERT_EQUAL(ok, 1000);
}

static void test_build_exact_bytes(void)
{
	/* A DomainStatus the control plane built, reserved bytes as given. */
	static const uint8_t payload[] = {
		0x01, 0, 0, 0, 0, 0, 0, 0x09,
		'{', '"', 's', 't', 'a', 't', 'u', 's', '"', ':', '"', 'A', 'c', 't', 'i', 'v', 'e', '"', '}',
	};
	static const uint8_t want[] = {
		0x60, 0x00, 0x00, 0x00,          /* version 6, traffic class 0, flow label 0 */
		0x00, 0x1b,                      /* payload length 27 */
		0xff,                            /* next header: the p2p protocol */
		0x00,                            /* hop limit 0 */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* source :: */
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* destination :: */
		0x01, 0, 0, 0, 0, 0, 0, 0x09,
		'{', '"', 's', 't', 'a', 't', 'u', 's', '"', ':', '"', 'A', 'c', 't', 'i', 'v', 'e', '"', '}',
	};
	uint8_t out[FG_P2PCTL_MAX_LEN + 16];
	struct fg_p2pctl_msg msg;

	_Static_assert(sizeof(want) == 40 + sizeof(payload), "the expected packet");
	memset(out, 0xee, sizeof(out));
	CU_ASSERT_EQUAL_FATAL(fg_p2pctl_build(out, sizeof(out), payload, sizeof(payload)), sizeof(want));
	CU_ASSERT_EQUAL(memcmp(out, want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(out[sizeof(want)], 0xee);    /* nothing written past it */
	/* Exactly the room it needs, and one byte less. */
	CU_ASSERT_EQUAL(fg_p2pctl_build(out, sizeof(want), payload, sizeof(payload)), sizeof(want));
	CU_ASSERT_EQUAL(fg_p2pctl_build(out, sizeof(want) - 1, payload, sizeof(payload)), 0);
	/* A client would drop what it cannot read as a p2p packet: refused here. */
	CU_ASSERT_EQUAL(fg_p2pctl_build(out, sizeof(out), payload, 7), 0);
	CU_ASSERT_EQUAL(fg_p2pctl_build(out, sizeof(out), payload, 0), 0);
	CU_ASSERT_EQUAL(fg_p2pctl_build(NULL, sizeof(out), payload, sizeof(payload)), 0);
	CU_ASSERT_EQUAL(fg_p2pctl_build(out, sizeof(out), NULL, sizeof(payload)), 0);
	/* A DomainStatus the gateway built is one the classifier calls a client's wrong event. */
	CU_ASSERT_EQUAL(fg_p2pctl_classify(out, sizeof(want), true, &msg), FG_DROP_P2P_EVENT);
}

/* Up to the largest payload: what icmpgen's parser reads back, and what the classifier
 * accepts from a client for the events a client may send. */
static void test_build_roundtrip(void)
{
	static const uint32_t lens[] = { 8, 9, 77, 1231, FG_P2PCTL_MAX_PAYLOAD };
	static uint8_t payload[FG_P2PCTL_MAX_PAYLOAD + 1];
	uint8_t out[FG_P2PCTL_MAX_LEN + 1];

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	CU_ASSERT_EQUAL(fg_p2pctl_build(out, sizeof(out), payload, FG_P2PCTL_MAX_PAYLOAD + 1), 0);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (unsigned ev = 0; ev < 4; ev++) {
			struct fg_p2pctl_msg msg;
			const uint8_t *body = NULL;
			uint32_t n, blen = 0;
			uint8_t got = 0xff;

			payload[0] = (uint8_t)ev;
			n = fg_p2pctl_build(out, sizeof(out), payload, lens[i]);
			CU_ASSERT_EQUAL_FATAL(n, 40 + lens[i]);
			CU_ASSERT(n <= 1280);
			CU_ASSERT_EQUAL(fg_icmpgen_p2p_parse(out, n, &got, &body, &blen), 0);
			CU_ASSERT_EQUAL(got, ev);
			CU_ASSERT_EQUAL(blen, lens[i] - 8);
			CU_ASSERT_EQUAL(memcmp(out + 40, payload, lens[i]), 0);
			if (ev == FG_P2P_ASSIGNED_IPS || ev == FG_P2P_GOODBYE) {
				CU_ASSERT_EQUAL(fg_p2pctl_classify(out, n, true, &msg), FG_DROP_NONE);
				CU_ASSERT_EQUAL(msg.len, lens[i]);
			} else {
				CU_ASSERT_EQUAL(fg_p2pctl_classify(out, n, true, &msg), FG_DROP_P2P_EVENT);
			}
		}
	}
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "hostile table of client p2p packets", test_hostile_table },
		{ "every prefix, every header byte", test_every_prefix_and_byte },
		{ "per-client AssignedIps budget (GCRA)", test_budget },
		{ "P2P_OUT packet, byte for byte", test_build_exact_bytes },
		{ "P2P_OUT packet read back at every size", test_build_roundtrip },
	};

	return fg_cunit_run("p2pctl", tests, sizeof(tests) / sizeof(tests[0]));
}
