// SPDX-License-Identifier: MIT
/*
 * BLAKE2s-based hash, MAC, HMAC and the WireGuard KDF chain, on top of libb2, plus the
 * TAI64N label. Stateless: every function is safe from any thread. Each function keeps its
 * intermediate secrets (HMAC pads, T0, BLAKE2s states that absorbed a key) on its own
 * stack and wipes them at its single exit.
 */
#include "kdf.h"

#include <blake2.h>
#include <sodium.h>
#include <string.h>

enum {
	HMAC_IPAD = 0x36,
	HMAC_OPAD = 0x5c,
	TAI64_EPOCH_OFFSET_S = 10,   /* TAI was 10 s ahead of UTC in 1970 */
	TAI64N_NS_WHITENER_BITS = 24, /* 2^24 ns ~ 16.8 ms < 1 s / FG_WG_INITIATIONS_PER_SECOND */
	NS_PER_S = 1000000000,
};

#define TAI64_BASE (1ULL << 62)

void fg_wg_hash(uint8_t out[FG_WG_HASH_LEN], const void *a, size_t a_len,
		const void *b, size_t b_len)
{
	blake2s_state st;

	blake2s_init(&st, FG_WG_HASH_LEN);
	if (a_len)
		blake2s_update(&st, a, a_len);
	if (b_len)
		blake2s_update(&st, b, b_len);
	/* out may alias a or b: both were fully absorbed above. */
	blake2s_final(&st, out, FG_WG_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

void fg_wg_mac(uint8_t out[FG_WG_MAC_LEN], const uint8_t *key, size_t key_len,
	       const void *data, size_t len)
{
	blake2s_state st;
	uint8_t tmp[FG_WG_MAC_LEN];

	memset(tmp, 0, sizeof(tmp));
	if (key_len == 0 || key_len > FG_WG_BLAKE2S_MAX_KEY_LEN)
		goto out;
	if (blake2s_init_key(&st, FG_WG_MAC_LEN, key, key_len) != 0)
		goto out_state;
	if (len)
		blake2s_update(&st, data, len);
	blake2s_final(&st, tmp, FG_WG_MAC_LEN);
out_state:
	sodium_memzero(&st, sizeof(st));
out:
	memcpy(out, tmp, FG_WG_MAC_LEN);
	sodium_memzero(tmp, sizeof(tmp));
}

void fg_wg_hmac(uint8_t out[FG_WG_HASH_LEN], const uint8_t *key, size_t key_len,
		const void *data, size_t len)
{
	uint8_t pad[FG_WG_BLAKE2S_BLOCK_LEN];
	uint8_t inner[FG_WG_HASH_LEN];
	blake2s_state st;
	size_t i;

	memset(pad, 0, sizeof(pad));
	if (key_len > FG_WG_BLAKE2S_BLOCK_LEN)
		fg_wg_hash(pad, key, key_len, NULL, 0);
	else if (key_len)
		memcpy(pad, key, key_len);

	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= HMAC_IPAD;
	blake2s_init(&st, FG_WG_HASH_LEN);
	blake2s_update(&st, pad, sizeof(pad));
	if (len)
		blake2s_update(&st, data, len);
	blake2s_final(&st, inner, sizeof(inner));

	/* Turn the inner pad into the outer pad without keeping the key around. */
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= HMAC_IPAD ^ HMAC_OPAD;
	blake2s_init(&st, FG_WG_HASH_LEN);
	blake2s_update(&st, pad, sizeof(pad));
	blake2s_update(&st, inner, sizeof(inner));
	/* out may alias key or data: neither is read after this point. */
	blake2s_final(&st, out, FG_WG_HASH_LEN);

	sodium_memzero(&st, sizeof(st));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(pad, sizeof(pad));
}

/*
 * One KDF with up to three outputs; unused outputs are NULL. Every output is built in a
 * local buffer first, so any of them may alias ck.
 */
static void kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3, const uint8_t ck[FG_WG_HASH_LEN],
		const void *in, size_t in_len)
{
	uint8_t t0[FG_WG_HASH_LEN];
	uint8_t out[3][FG_WG_HASH_LEN];
	uint8_t buf[FG_WG_HASH_LEN + 1];

	fg_wg_hmac(t0, ck, FG_WG_HASH_LEN, in, in_len);

	buf[0] = 1;
	fg_wg_hmac(out[0], t0, sizeof(t0), buf, 1);
	if (t2 || t3) {
		memcpy(buf, out[0], FG_WG_HASH_LEN);
		buf[FG_WG_HASH_LEN] = 2;
		fg_wg_hmac(out[1], t0, sizeof(t0), buf, sizeof(buf));
	}
	if (t3) {
		memcpy(buf, out[1], FG_WG_HASH_LEN);
		buf[FG_WG_HASH_LEN] = 3;
		fg_wg_hmac(out[2], t0, sizeof(t0), buf, sizeof(buf));
	}

	memcpy(t1, out[0], FG_WG_HASH_LEN);
	if (t2)
		memcpy(t2, out[1], FG_WG_HASH_LEN);
	if (t3)
		memcpy(t3, out[2], FG_WG_HASH_LEN);

	sodium_memzero(t0, sizeof(t0));
	sodium_memzero(out, sizeof(out));
	sodium_memzero(buf, sizeof(buf));
}

void fg_wg_kdf1(uint8_t t1[FG_WG_HASH_LEN], const uint8_t ck[FG_WG_HASH_LEN],
		const void *in, size_t in_len)
{
	kdf(t1, NULL, NULL, ck, in, in_len);
}

void fg_wg_kdf2(uint8_t t1[FG_WG_HASH_LEN], uint8_t t2[FG_WG_HASH_LEN],
		const uint8_t ck[FG_WG_HASH_LEN], const void *in, size_t in_len)
{
	kdf(t1, t2, NULL, ck, in, in_len);
}

void fg_wg_kdf3(uint8_t t1[FG_WG_HASH_LEN], uint8_t t2[FG_WG_HASH_LEN],
		uint8_t t3[FG_WG_HASH_LEN], const uint8_t ck[FG_WG_HASH_LEN],
		const void *in, size_t in_len)
{
	kdf(t1, t2, t3, ck, in, in_len);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void fg_wg_tai64n(uint8_t out[FG_WG_TAI64N_LEN], uint64_t wall_ns)
{
	uint64_t secs = wall_ns / NS_PER_S;
	uint32_t nsec = (uint32_t)(wall_ns % NS_PER_S);

	nsec &= ~((UINT32_C(1) << TAI64N_NS_WHITENER_BITS) - 1);
	put_be64(out, TAI64_BASE + TAI64_EPOCH_OFFSET_S + secs);
	put_be32(out + 8, nsec);
}
