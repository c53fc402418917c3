/* SPDX-License-Identifier: MIT */
/*
 * Every WireGuard wire layout and protocol constant in one place (the whitepaper, §5.4 and
 * §6), with the sizes checked at compile time. Pure data: no state, no DPDK.
 */
#ifndef FG_WG_MESSAGES_H
#define FG_WG_MESSAGES_H

#include <stdint.h>

enum {
	FG_WG_KEY_LEN = 32,
	FG_WG_HASH_LEN = 32,
	FG_WG_TAI64N_LEN = 12,
	FG_WG_AEAD_TAG_LEN = 16,
	FG_WG_COOKIE_LEN = 16,
	FG_WG_COOKIE_NONCE_LEN = 24,
	FG_WG_MAC_LEN = 16,
	FG_WG_PADDING = 16,
};

enum fg_wg_msg_type {
	FG_WG_MSG_INITIATION = 1,
	FG_WG_MSG_RESPONSE = 2,
	FG_WG_MSG_COOKIE = 3,
	FG_WG_MSG_DATA = 4,
};

/* Protocol timings (whitepaper §6.1) in seconds, and message limits. */
enum {
	FG_WG_REKEY_AFTER_TIME_S = 120,
	FG_WG_REJECT_AFTER_TIME_S = 180,
	FG_WG_REKEY_ATTEMPT_TIME_S = 90,
	FG_WG_REKEY_TIMEOUT_S = 5,
	FG_WG_REKEY_TIMEOUT_JITTER_MS = 334,
	FG_WG_KEEPALIVE_TIMEOUT_S = 10,
	FG_WG_COOKIE_SECRET_MAX_AGE_S = 120,
	FG_WG_COOKIE_SECRET_LATENCY_S = 5,
	FG_WG_MAX_TIMER_HANDSHAKES = 18, /* 90 s / 5 s */
	FG_WG_INITIATIONS_PER_SECOND = 50,
};
#define FG_WG_REKEY_AFTER_MESSAGES  (1ULL << 60)
#define FG_WG_REJECT_AFTER_MESSAGES (UINT64_MAX - (1ULL << 13))

struct fg_wg_macs {
	uint8_t mac1[FG_WG_MAC_LEN];
	uint8_t mac2[FG_WG_MAC_LEN];
} __attribute__((packed));

/* Multi-byte integers are little-endian on the wire. */
struct fg_wg_msg_initiation {
	uint32_t type;                 /* 1, with 3 reserved zero bytes */
	uint32_t sender_index;
	uint8_t unencrypted_ephemeral[FG_WG_KEY_LEN];
	uint8_t encrypted_static[FG_WG_KEY_LEN + FG_WG_AEAD_TAG_LEN];
	uint8_t encrypted_timestamp[FG_WG_TAI64N_LEN + FG_WG_AEAD_TAG_LEN];
	struct fg_wg_macs macs;
} __attribute__((packed));

struct fg_wg_msg_response {
	uint32_t type;
	uint32_t sender_index;
	uint32_t receiver_index;
	uint8_t unencrypted_ephemeral[FG_WG_KEY_LEN];
	uint8_t encrypted_nothing[FG_WG_AEAD_TAG_LEN];
	struct fg_wg_macs macs;
} __attribute__((packed));

struct fg_wg_msg_cookie {
	uint32_t type;
	uint32_t receiver_index;
	uint8_t nonce[FG_WG_COOKIE_NONCE_LEN];
	uint8_t encrypted_cookie[FG_WG_COOKIE_LEN + FG_WG_AEAD_TAG_LEN];
} __attribute__((packed));

struct fg_wg_msg_data {
	uint32_t type;
	uint32_t receiver_index;
	uint64_t counter;
	uint8_t encrypted_data[];
} __attribute__((packed));

_Static_assert(sizeof(struct fg_wg_msg_initiation) == 148, "initiation is 148 bytes");
_Static_assert(sizeof(struct fg_wg_msg_response) == 92, "response is 92 bytes");
_Static_assert(sizeof(struct fg_wg_msg_cookie) == 64, "cookie reply is 64 bytes");
_Static_assert(sizeof(struct fg_wg_msg_data) == 16, "data header is 16 bytes");

enum {
	FG_WG_MSG_INITIATION_LEN = 148,
	FG_WG_MSG_RESPONSE_LEN = 92,
	FG_WG_MSG_COOKIE_LEN = 64,
	FG_WG_DATA_HDR_LEN = 16,
	FG_WG_DATA_MIN_LEN = FG_WG_DATA_HDR_LEN + FG_WG_AEAD_TAG_LEN, /* a keepalive */
	FG_WG_DATA_OVERHEAD = FG_WG_DATA_HDR_LEN + FG_WG_AEAD_TAG_LEN,
};

/* Padded plaintext length for a data message (whitepaper §5.4.6), capped at the MTU. */
static inline uint32_t fg_wg_padded_len(uint32_t plain_len, uint32_t mtu)
{
	uint32_t padded = (plain_len + FG_WG_PADDING - 1) & ~(uint32_t)(FG_WG_PADDING - 1);

	if (padded > mtu)
		padded = plain_len > mtu ? plain_len : mtu;
	return padded;
}

#endif
