// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for WireGuard data messages (dataplane/wg/transport.c) and the replay
 * window (dataplane/wg/replay.c). The session keys come from one full handshake between two
 * fixed identities A and B (dataplane/wg/noise.c), done once. Input:
 *   bytes 0..7   the counter A seals under (little-endian);
 *   bytes 8..9   the plaintext length L (little-endian, reduced to what follows);
 *   then         L plaintext bytes, and after them the rest R.
 * Checks: A's sealed message (plaintext zero-padded to 16, capped at a 1420 MTU) has the
 * data header and opens under B's receive key to the padded plaintext and counter, and not
 * under any other key; R XORed over a copy makes it fail to open unless R is zero over
 * every authenticated byte (all but the receiver index); R taken whole as a data message
 * opens only if sealing its plaintext again gives the same bytes. R is also read as replay
 * operations (3 bytes each: a kind and a 16-bit distance, relative to the greatest counter
 * accepted, absolute, or near the message limit): fg_wg_replay_check() and _update() must
 * agree with a naive list of the accepted counters (accept iff below the limit, not more
 * than the window below the greatest accepted, never seen), and a check leaves no trace.
 *
 *   scripts/fuzz.sh 60 transport     (clang, ASan + UBSan, 60 s)
 * Seeds: tests/fuzz/corpus/transport/ (tests/fuzz/corpus/gen_dp_seeds.py).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "fuzz_check.h"
#include "noise.h"
#include "replay.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MTU = 1420, OPS_MAX = 2048, B_INDEX = 0x55667788 };

static struct fg_noise_keypair_keys ka, kb;

static void fill(uint8_t *p, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

/* A full handshake A -> B with fixed keys and ephemerals. */
static void setup(void)
{
	struct fg_noise_local a, b;
	struct fg_noise_peer b_at_a, a_at_b;
	struct fg_noise_handshake hs_a, hs_b;
	struct fg_wg_msg_initiation init;
	struct fg_wg_msg_response resp;
	uint8_t key[32], eph[32], st[32];

	CHECK(sodium_init() >= 0);
	fill(key, 32, 1);
	CHECK(fg_noise_local_init(&a, key) == 0);
	fill(key, 32, 101);
	CHECK(fg_noise_local_init(&b, key) == 0);
	CHECK(fg_noise_peer_init(&b_at_a, &a, b.public_key, NULL) == 0);
	CHECK(fg_noise_peer_init(&a_at_b, &b, a.public_key, NULL) == 0);
	fill(eph, 32, 51);
	CHECK(fg_noise_create_initiation_with_ephemeral(&init, &hs_a, &a, &b_at_a, 0x11223344,
							1700000000000000000ULL, eph) == 0);
	CHECK(fg_noise_consume_initiation_begin(&init, &b, &hs_b, st) == 0);
	CHECK(fg_noise_consume_initiation_finish(&init, &hs_b, &a_at_b, 1000000000000ULL) == 0);
	fill(eph, 32, 151);
	CHECK(fg_noise_create_response_with_ephemeral(&resp, &hs_b, &b, &a_at_b, B_INDEX, eph) == 0);
	CHECK(fg_noise_consume_response(&resp, &hs_a, &a, &b_at_a) == 0);
	CHECK(fg_noise_derive_keys(&hs_a, &ka) == 0 && fg_noise_derive_keys(&hs_b, &kb) == 0);
	CHECK(memcmp(ka.send, kb.recv, 32) == 0 && memcmp(ka.recv, kb.send, 32) == 0);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static bool zero(const uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (p[i])
			return false;
	return true;
}

/* Seals plain (L bytes) and checks what opens, how mutations fail, and raw messages. */
static void check_seal(uint64_t counter, const uint8_t *plain, uint32_t len, const uint8_t *rest, size_t rlen)
{
	uint32_t padded = fg_wg_padded_len(len, MTU);
	size_t mlen = padded + (size_t)FG_WG_DATA_OVERHEAD, n;
	uint8_t *msg = calloc(1, mlen), *copy = malloc(mlen);
	uint64_t got = 0;
	int rc;

	CHECK(msg && copy);
	memcpy(msg + FG_WG_DATA_HDR_LEN, plain, len);
	CHECK(fg_wg_transport_seal(msg, padded, ka.send, ka.remote_index, counter) == mlen);
	CHECK(msg[0] == 4 && msg[1] == 0 && msg[2] == 0 && msg[3] == 0);
	CHECK(fg_wg_transport_receiver(msg) == B_INDEX && le64(msg + 8) == counter);

	memcpy(copy, msg, mlen);
	rc = fg_wg_transport_open(copy, mlen, kb.recv, &got);
	CHECK(rc == (int)padded && got == counter);
	CHECK(memcmp(copy + FG_WG_DATA_HDR_LEN, plain, len) == 0 &&
	      zero(copy + FG_WG_DATA_HDR_LEN, len, padded));
	memcpy(copy, msg, mlen);
	CHECK(fg_wg_transport_open(copy, mlen, kb.send, &got) == -EBADMSG);

	/* A mutated copy: refused unless nothing authenticated changed. */
	memcpy(copy, msg, mlen);
	n = rlen < mlen ? rlen : mlen;
	for (size_t i = 0; i < n; i++)
		copy[i] ^= rest[i];
	got = ~counter;
	rc = fg_wg_transport_open(copy, mlen, kb.recv, &got);
	if (zero(rest, 0, n < 4 ? n : 4) && (n <= 8 || zero(rest, 8, n))) {
		CHECK(rc == (int)padded && got == counter && memcmp(copy + FG_WG_DATA_HDR_LEN, plain, len) == 0);
	} else {
		CHECK(rc == -EBADMSG && got == ~counter);
	}
	/* One byte short or long: never opens. */
	memcpy(copy, msg, mlen);
	CHECK(fg_wg_transport_open(copy, mlen - 1, kb.recv, &got) == -EBADMSG);
	free(msg);
	free(copy);
}

/* R as a whole data message: what opens must be what sealing its plaintext gives. */
static void check_raw(const uint8_t *rest, size_t rlen)
{
	uint8_t *m, *again;
	uint64_t got;
	int rc;

	if (rlen == 0)
		return;
	m = malloc(rlen);
	CHECK(m != NULL);
	memcpy(m, rest, rlen);
	rc = fg_wg_transport_open(m, rlen, kb.recv, &got);
	if (rc < 0) {
		CHECK(rc == -EBADMSG);
		free(m);
		return;
	}
	CHECK((size_t)rc + FG_WG_DATA_OVERHEAD == rlen && got == le64(rest + 8));
	again = malloc(rlen);
	CHECK(again != NULL);
	memcpy(again + FG_WG_DATA_HDR_LEN, m + FG_WG_DATA_HDR_LEN, (size_t)rc);
	CHECK(fg_wg_transport_seal(again, (size_t)rc, ka.send, fg_wg_transport_receiver(rest), got) == rlen);
	CHECK(memcmp(again, rest, rlen) == 0);
	free(again);
	free(m);
}

/* The naive window: accepted counters in a list. */
static bool naive_ok(const uint64_t *seen, size_t n, uint64_t greatest, uint64_t c)
{
	if (c >= FG_WG_REJECT_AFTER_MESSAGES || c + FG_WG_REPLAY_WINDOW < greatest)
		return false;
	for (size_t i = 0; i < n; i++)
		if (seen[i] == c)
			return false;
	return true;
}

static void check_replay(const uint8_t *ops, size_t len)
{
	static uint64_t seen[OPS_MAX];
	struct fg_wg_replay r, before;
	uint64_t greatest = 0, c;
	size_t n = 0;

	fg_wg_replay_init(&r);
	for (size_t i = 0; i + 3 <= len && n < OPS_MAX; i += 3) {
		uint32_t v = (uint32_t)ops[i + 1] | (uint32_t)ops[i + 2] << 8;
		bool ok, want;

		switch (ops[i] % 4) {
		case 0:
			c = greatest + v;
			break;
		case 1:
			c = greatest - (v < greatest ? v : greatest);
			break;
		case 2:
			c = v;
			break;
		default:
			c = FG_WG_REJECT_AFTER_MESSAGES - 1 - (v % 8) + (ops[i] & 0x80 ? 16 : 0);
			break;
		}
		want = naive_ok(seen, n, greatest, c);
		before = r;
		CHECK(fg_wg_replay_check(&r, c) == want);
		CHECK(memcmp(&before, &r, sizeof(r)) == 0);
		ok = fg_wg_replay_update(&r, c);
		CHECK(ok == want);
		if (!ok) {
			CHECK(memcmp(&before, &r, sizeof(r)) == 0);
			continue;
		}
		seen[n++] = c;
		if (c > greatest)
			greatest = c;
		CHECK(r.greatest == greatest);
		CHECK(!fg_wg_replay_check(&r, c));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint32_t len;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 10 || size > 16384)
		return 0;
	len = (uint32_t)(data[8] | data[9] << 8) % (uint32_t)(size - 10 + 1);
	check_seal(le64(data), data + 10, len, data + 10 + len, size - 10 - len);
	check_raw(data + 10 + len, size - 10 - len);
	check_replay(data + 10 + len, size - 10 - len);
	return 0;
}
