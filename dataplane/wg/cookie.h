/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's cookie mechanism (whitepaper §5.4.4 and §5.4.7): mac1 proves the sender
 * knows our public key, mac2 proves it can receive at its source address (it echoes a
 * cookie we sent in a cookie reply). Two halves:
 *   - the checker (responder side, one per interface): validates mac1/mac2 of incoming
 *     initiations and responses and builds cookie replies under load, with a random
 *     secret rotated every FG_WG_COOKIE_SECRET_MAX_AGE_S;
 *   - the per-peer cookie (sending side): adds mac1/mac2 to our handshake messages and
 *     consumes the peer's cookie replies.
 * All state is owned by the service lcore. Times are monotonic ns passed in by the caller.
 * The process must have called sodium_init() first (secrets and nonces are random).
 * The message buffers given here are whole initiations (148 bytes) or responses
 * (92 bytes); the macs are their last 32 bytes.
 */
#ifndef FG_COOKIE_H
#define FG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messages.h"

enum {
	FG_WG_COOKIE_ADDR_MAX_LEN = 16,  /* an IPv6 address */
};

struct fg_wg_cookie_checker {
	uint8_t secret[FG_WG_HASH_LEN];     /* R_m, random, rotated */
	uint64_t secret_birth_ns;
	bool secret_valid;                  /* false until the first cookie is made */
	uint8_t mac1_key[FG_WG_HASH_LEN];   /* HASH("mac1----" || our public key) */
	uint8_t cookie_key[FG_WG_HASH_LEN]; /* HASH("cookie--" || our public key) */
};

enum fg_wg_cookie_mac {
	FG_WG_COOKIE_MAC_INVALID = 0,  /* drop the message */
	FG_WG_COOKIE_MAC1_VALID,       /* mac1 right; mac2 absent or not matching */
	FG_WG_COOKIE_MAC2_VALID,       /* both right: the source address is proven */
};

/* Derives the keys from our public key; no secret is made until one is needed. */
void fg_wg_cookie_checker_init(struct fg_wg_cookie_checker *c,
			       const uint8_t local_public[FG_WG_KEY_LEN]);
/* Wipes the checker. */
void fg_wg_cookie_checker_clear(struct fg_wg_cookie_checker *c);

/*
 * Checks mac1 and, when mac2 is non-zero, mac2 against the cookie for (src_addr,
 * src_port) under the current secret (which this call rotates if it is older than
 * FG_WG_COOKIE_SECRET_MAX_AGE_S). len must be FG_WG_MSG_INITIATION_LEN or
 * FG_WG_MSG_RESPONSE_LEN and src_addr_len 1..16, else the result is INVALID. src_port is
 * host order.
 */
enum fg_wg_cookie_mac fg_wg_cookie_validate(struct fg_wg_cookie_checker *c, const void *msg,
					    size_t len, const uint8_t *src_addr,
					    size_t src_addr_len, uint16_t src_port,
					    uint64_t now_ns);

/*
 * Builds the cookie reply to msg (whose mac1 the caller has validated): the cookie for
 * (src_addr, src_port), XChaCha20-Poly1305-encrypted under a random nonce with msg's mac1
 * as associated data. receiver_index is msg's sender_index (host order). 0, or -EINVAL
 * for a bad len or src_addr_len.
 */
int fg_wg_cookie_reply_create(struct fg_wg_msg_cookie *out, struct fg_wg_cookie_checker *c,
			      const void *msg, size_t len, uint32_t receiver_index,
			      const uint8_t *src_addr, size_t src_addr_len, uint16_t src_port,
			      uint64_t now_ns);

/* Sending side, one per peer. */
struct fg_wg_cookie {
	uint8_t cookie[FG_WG_COOKIE_LEN];   /* latest cookie from the peer */
	uint64_t birth_ns;                  /* when it arrived */
	bool valid;
	bool have_sent_mac1;                /* a reply is only accepted for a message we sent */
	uint8_t last_mac1_sent[FG_WG_MAC_LEN];
	uint8_t mac1_key[FG_WG_HASH_LEN];              /* HASH("mac1----" || peer public) */
	uint8_t cookie_decryption_key[FG_WG_HASH_LEN]; /* HASH("cookie--" || peer public) */
};

/* Derives the keys from the peer's public key; no cookie yet. */
void fg_wg_cookie_init(struct fg_wg_cookie *k, const uint8_t peer_public[FG_WG_KEY_LEN]);
/* Wipes the cookie state. */
void fg_wg_cookie_clear(struct fg_wg_cookie *k);

/*
 * Writes mac1 into the last 32 bytes of msg (len = 148 or 92; other lengths are left
 * untouched) and remembers it; writes mac2 from the cookie if it is younger than
 * FG_WG_COOKIE_SECRET_MAX_AGE_S - FG_WG_COOKIE_SECRET_LATENCY_S, else zeroes mac2.
 */
void fg_wg_cookie_add_macs(struct fg_wg_cookie *k, void *msg, size_t len, uint64_t now_ns);

/*
 * Decrypts a cookie reply to the last message we sent this peer and stores the cookie.
 * 0, -EPROTO (not a cookie reply), -EINVAL (no message with mac1 sent since the last
 * reply), -EBADMSG (authentication failed: not for our last message, or forged).
 */
int fg_wg_cookie_consume_reply(struct fg_wg_cookie *k, const struct fg_wg_msg_cookie *reply,
			       uint64_t now_ns);

#endif
