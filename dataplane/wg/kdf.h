/* SPDX-License-Identifier: MIT */
/*
 * The symmetric primitives WireGuard builds its handshake and cookies from (whitepaper
 * §5.4): HASH = BLAKE2s-256, MAC = keyed BLAKE2s-128, HMAC = HMAC-BLAKE2s, and the
 * HKDF-style KDF1/KDF2/KDF3 chained on the chaining key, plus the TAI64N timestamp carried
 * in initiations. Pure functions with no state: safe from any thread. Callers own every
 * buffer; intermediate secrets are wiped before return.
 */
#ifndef FG_KDF_H
#define FG_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "messages.h"

enum {
	FG_WG_BLAKE2S_BLOCK_LEN = 64,  /* HMAC block size */
	FG_WG_BLAKE2S_MAX_KEY_LEN = 32,
};

/*
 * out = BLAKE2s-256(a || b). Either part may be empty (NULL, 0). out may alias a or b:
 * WireGuard's "H = HASH(H || x)" is fg_wg_hash(h, h, 32, x, len).
 */
void fg_wg_hash(uint8_t out[FG_WG_HASH_LEN], const void *a, size_t a_len,
		const void *b, size_t b_len);

/*
 * out = keyed BLAKE2s with a 16-byte digest (WireGuard's MAC, for mac1, mac2 and the
 * cookie itself). key_len must be 1..32; any other length yields an all-zero out, which
 * never matches a real MAC.
 */
void fg_wg_mac(uint8_t out[FG_WG_MAC_LEN], const uint8_t *key, size_t key_len,
	       const void *data, size_t len);

/* out = HMAC-BLAKE2s(key, data) with a 64-byte block; keys longer than a block are hashed. */
void fg_wg_hmac(uint8_t out[FG_WG_HASH_LEN], const uint8_t *key, size_t key_len,
		const void *data, size_t len);

/*
 * WireGuard's KDFn(C, input): T0 = HMAC(C, input), T1 = HMAC(T0, 0x1),
 * Ti = HMAC(T0, Ti-1 || i). An output may alias ck (but not another output):
 * "C = KDF1(C, x)" is fg_wg_kdf1(c, c, x, len). in may be NULL when in_len is 0.
 */
void fg_wg_kdf1(uint8_t t1[FG_WG_HASH_LEN], const uint8_t ck[FG_WG_HASH_LEN],
		const void *in, size_t in_len);
void fg_wg_kdf2(uint8_t t1[FG_WG_HASH_LEN], uint8_t t2[FG_WG_HASH_LEN],
		const uint8_t ck[FG_WG_HASH_LEN], const void *in, size_t in_len);
void fg_wg_kdf3(uint8_t t1[FG_WG_HASH_LEN], uint8_t t2[FG_WG_HASH_LEN],
		uint8_t t3[FG_WG_HASH_LEN], const uint8_t ck[FG_WG_HASH_LEN],
		const void *in, size_t in_len);

/*
 * TAI64N label of a wall-clock time given in ns since the Unix epoch: 8 bytes big-endian
 * seconds + 2^62 + 10, then 4 bytes big-endian nanoseconds. The nanoseconds are rounded
 * down to 2^24 ns (about 1/60 s, the largest power of two under 1/50 s, as the kernel and
 * wireguard-go do) so the label does not leak a fine-grained clock to observers.
 */
void fg_wg_tai64n(uint8_t out[FG_WG_TAI64N_LEN], uint64_t wall_ns);

#endif
