// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the WireGuard handshake (dataplane/wg/noise.c) and its cookies
 * (dataplane/wg/cookie.c) between two fixed identities A (initiator) and B (responder),
 * whose keys, PSK, ephemerals and timestamp are constants, so the valid messages are built
 * once. Input: a mode byte (data[0] % 4), then a mask, zero-padded to the message length:
 *   0: the mask XORs A's initiation (with mac1), which B validates and consumes;
 *   1: the mask XORs B's response (with mac1), which A validates and consumes;
 *   2: the bytes are taken raw as a cookie reply to A's initiation;
 *   3: the mask XORs B's cookie reply to A's initiation.
 * Checks: a consume succeeds only if the mask is zero over every byte it authenticates (all
 * but the sender index and the macs for the Noise messages, all but the receiver index for
 * a cookie reply), mac1 validates only if the mask is zero over the bytes mac1 covers and
 * mac1 itself, and the unmutated message is accepted; a refused response leaves the
 * initiator's handshake as it was; an accepted handshake derives crossed keys equal on both
 * sides; an accepted cookie makes A's next mac2 validate at B.
 *
 *   scripts/fuzz.sh 60 handshake     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/handshake/ (tests/fuzz/corpus/gen_dp_seeds.py).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cookie.h"
#include "fuzz_check.h"
#include "noise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW_NS  1000000000000ULL
#define WALL_NS 1700000000000000000ULL

enum { A_INDEX = 0x11223344, B_INDEX = 0x55667788, SRC_PORT = 40000 };

static const uint8_t src_addr[4] = { 198, 51, 100, 7 };

/* Everything that is the same for every input: built once. */
static struct {
	struct fg_noise_local a, b;
	struct fg_noise_peer b_at_a, a_at_b;       /* B as A knows it; A as B knows it */
	struct fg_wg_cookie_checker ca, cb;
	struct fg_wg_cookie ka_sent;               /* A's cookie for B after sending init */
	struct fg_wg_msg_initiation init;
	struct fg_noise_handshake hs_a;            /* A after creating init */
	struct fg_wg_msg_response resp;
	struct fg_noise_keypair_keys keys_b;       /* B's keys after creating resp */
	struct fg_wg_msg_cookie reply;             /* B's cookie reply to init */
} S;

static void fill(uint8_t *p, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

static void setup(void)
{
	uint8_t key[32], psk[32], eph[32], st[32];
	struct fg_noise_handshake tmp;
	struct fg_noise_peer a_at_b;
	struct fg_wg_cookie kb;

	CHECK(sodium_init() >= 0);
	fill(key, 32, 1);
	CHECK(fg_noise_local_init(&S.a, key) == 0);
	fill(key, 32, 101);
	CHECK(fg_noise_local_init(&S.b, key) == 0);
	fill(psk, 32, 201);
	CHECK(fg_noise_peer_init(&S.b_at_a, &S.a, S.b.public_key, psk) == 0);
	CHECK(fg_noise_peer_init(&S.a_at_b, &S.b, S.a.public_key, psk) == 0);
	fg_wg_cookie_checker_init(&S.ca, S.a.public_key);
	fg_wg_cookie_checker_init(&S.cb, S.b.public_key);
	fg_wg_cookie_init(&S.ka_sent, S.b.public_key);
	fg_wg_cookie_init(&kb, S.a.public_key);

	fill(eph, 32, 51);
	CHECK(fg_noise_create_initiation_with_ephemeral(&S.init, &S.hs_a, &S.a, &S.b_at_a, A_INDEX,
							WALL_NS, eph) == 0);
	fg_wg_cookie_add_macs(&S.ka_sent, &S.init, sizeof(S.init), NOW_NS);

	a_at_b = S.a_at_b;
	CHECK(fg_noise_consume_initiation_begin(&S.init, &S.b, &tmp, st) == 0);
	CHECK(memcmp(st, S.a.public_key, 32) == 0);
	CHECK(fg_noise_consume_initiation_finish(&S.init, &tmp, &a_at_b, NOW_NS) == 0);
	fill(eph, 32, 151);
	CHECK(fg_noise_create_response_with_ephemeral(&S.resp, &tmp, &S.b, &a_at_b, B_INDEX, eph) == 0);
	fg_wg_cookie_add_macs(&kb, &S.resp, sizeof(S.resp), NOW_NS);
	CHECK(fg_noise_derive_keys(&tmp, &S.keys_b) == 0);
	CHECK(fg_wg_cookie_reply_create(&S.reply, &S.cb, &S.init, sizeof(S.init), A_INDEX, src_addr,
					sizeof(src_addr), SRC_PORT, NOW_NS) == 0);
}

/* The mask is zero over [from, to). */
static bool zero(const uint8_t *mask, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (mask[i])
			return false;
	return true;
}

static uint32_t le32(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void xor(void *msg, const uint8_t *mask, size_t n)
{
	uint8_t *m = msg;

	for (size_t i = 0; i < n; i++)
		m[i] ^= mask[i];
}

/* Both sides' keys of one handshake: the same pair, crossed. */
static void check_keys(const struct fg_noise_keypair_keys *a, const struct fg_noise_keypair_keys *b)
{
	CHECK(a->initiator && !b->initiator);
	CHECK(memcmp(a->send, b->recv, 32) == 0 && memcmp(a->recv, b->send, 32) == 0);
	CHECK(memcmp(a->send, a->recv, 32) != 0);
}

/* Mode 0: B consumes A's (mutated) initiation. */
static void responder(const uint8_t *mask)
{
	struct fg_wg_msg_initiation m = S.init;
	struct fg_wg_cookie_checker cb = S.cb;
	struct fg_noise_peer p = S.a_at_b, b_at_a = S.b_at_a;
	struct fg_noise_handshake tmp, hs_a = S.hs_a;
	struct fg_noise_keypair_keys ka, kb;
	struct fg_wg_msg_response resp;
	enum fg_wg_cookie_mac mac;
	uint8_t st[32];
	bool ok = false;
	int rc;

	xor(&m, mask, sizeof(m));
	mac = fg_wg_cookie_validate(&cb, &m, sizeof(m), src_addr, sizeof(src_addr), SRC_PORT, NOW_NS);
	CHECK(mac == FG_WG_COOKIE_MAC_INVALID || zero(mask, 0, 132));
	if (fg_noise_consume_initiation_begin(&m, &S.b, &tmp, st) == 0 && memcmp(st, S.a.public_key, 32) == 0)
		ok = fg_noise_consume_initiation_finish(&m, &tmp, &p, NOW_NS) == 0;
	CHECK(!ok || (zero(mask, 0, 4) && zero(mask, 8, 116)));
	if (zero(mask, 0, sizeof(m)))
		CHECK(ok && mac == FG_WG_COOKIE_MAC1_VALID);
	if (!ok)
		return;
	/* Accepted: the handshake completes, with the sender index the message carried. */
	CHECK(fg_noise_create_response(&resp, &tmp, &S.b, &p, B_INDEX) == 0);
	CHECK(le32(&resp.receiver_index) == le32(&m.sender_index));
	rc = fg_noise_consume_response(&resp, &hs_a, &S.a, &b_at_a);
	CHECK((rc == 0) == zero(mask, 4, 8));
	CHECK(fg_noise_derive_keys(&tmp, &kb) == 0);
	if (rc != 0)
		return;
	CHECK(fg_noise_derive_keys(&hs_a, &ka) == 0);
	check_keys(&ka, &kb);
	CHECK(ka.local_index == A_INDEX && ka.remote_index == B_INDEX && kb.remote_index == A_INDEX);
}

/* Mode 1: A consumes B's (mutated) response. */
static void initiator(const uint8_t *mask)
{
	struct fg_wg_msg_response m = S.resp;
	struct fg_wg_cookie_checker ca = S.ca;
	struct fg_noise_handshake hs = S.hs_a;
	struct fg_noise_keypair_keys ka;
	enum fg_wg_cookie_mac mac;
	int rc;

	xor(&m, mask, sizeof(m));
	mac = fg_wg_cookie_validate(&ca, &m, sizeof(m), src_addr, sizeof(src_addr), SRC_PORT, NOW_NS);
	CHECK(mac == FG_WG_COOKIE_MAC_INVALID || zero(mask, 0, 76));
	rc = fg_noise_consume_response(&m, &hs, &S.a, &S.b_at_a);
	CHECK(rc != 0 || (zero(mask, 0, 4) && zero(mask, 8, 60)));
	if (zero(mask, 0, sizeof(m)))
		CHECK(rc == 0 && mac == FG_WG_COOKIE_MAC1_VALID);
	if (rc != 0) {
		CHECK(memcmp(&hs, &S.hs_a, sizeof(hs)) == 0);
		return;
	}
	CHECK(fg_noise_derive_keys(&hs, &ka) == 0);
	check_keys(&ka, &S.keys_b);
	CHECK(ka.local_index == A_INDEX && ka.remote_index == le32(&m.sender_index));
}

/* Modes 2 and 3: A consumes a cookie reply to its initiation. */
static void cookie(const uint8_t *in, bool raw)
{
	struct fg_wg_msg_cookie r = S.reply;
	struct fg_wg_cookie k = S.ka_sent;
	struct fg_wg_cookie_checker cb = S.cb;
	struct fg_wg_msg_initiation m = S.init;
	uint8_t z[16] = { 0 };
	int rc;

	if (raw)
		memcpy(&r, in, sizeof(r));
	else
		xor(&r, in, sizeof(r));
	rc = fg_wg_cookie_consume_reply(&k, &r, NOW_NS);
	if (raw)
		CHECK(rc != 0 || (memcmp(&r, &S.reply, 4) == 0 &&
				  memcmp((uint8_t *)&r + 8, (uint8_t *)&S.reply + 8, sizeof(r) - 8) == 0));
	else
		CHECK(rc != 0 || (zero(in, 0, 4) && zero(in, 8, sizeof(r))));
	if (!raw && zero(in, 0, sizeof(r)))
		CHECK(rc == 0);
	if (rc != 0)
		return;
	/* The cookie is B's: A's next message carries a mac2 that B accepts. */
	fg_wg_cookie_add_macs(&k, &m, sizeof(m), NOW_NS);
	CHECK(memcmp(m.macs.mac2, z, sizeof(z)) != 0);
	CHECK(fg_wg_cookie_validate(&cb, &m, sizeof(m), src_addr, sizeof(src_addr), SRC_PORT, NOW_NS) ==
	      FG_WG_COOKIE_MAC2_VALID);
	/* The same message again (same mac1): the same reply answers it once more. */
	CHECK(fg_wg_cookie_consume_reply(&k, &r, NOW_NS) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint8_t mask[sizeof(struct fg_wg_msg_initiation)] = { 0 };

	if (!ready) {
		setup();
		ready = true;
	}
	if (size == 0)
		return 0;
	memcpy(mask, data + 1, size - 1 < sizeof(mask) ? size - 1 : sizeof(mask));
	switch (data[0] % 4) {
	case 0:
		responder(mask);
		break;
	case 1:
		initiator(mask);
		break;
	default:
		cookie(mask, data[0] % 4 == 2);
		break;
	}
	return 0;
}
