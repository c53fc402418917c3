/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake (whitepaper §5.4.2-§5.4.5):
 * building and consuming initiation and response messages, and deriving the transport
 * keys from a finished handshake. All state here (local identity, per-peer precomputed
 * values, handshakes in progress) belongs to the service lcore; nothing is locked. The
 * functions never touch the network, the clock or the MAC fields: times come in as
 * arguments and cookie.c fills/validates macs. Failures never disturb an existing
 * handshake: a forged response leaves the initiator's state as it was. The process must
 * have called sodium_init() before using this module (ephemeral keys come from
 * randombytes).
 *
 * Return values (int): 0 on success, or
 *   -EINVAL        bad state or arguments (handshake in the wrong state, index mismatch,
 *                  peer does not match the decrypted static key, zero private key)
 *   -EPROTO        the message type field is wrong
 *   -EBADMSG       authentication failed (AEAD tag of static, timestamp or empty payload)
 *   -EKEYREJECTED  a Diffie-Hellman result was all-zero (low-order point), or the peer's
 *                  precomputed static-static secret is invalid
 *   -EALREADY      initiation replay: timestamp not newer than the latest accepted one
 *   -EAGAIN        initiation flood: less than 1 s / FG_WG_INITIATIONS_PER_SECOND since the
 *                  peer's last accepted initiation
 */
#ifndef FG_NOISE_H
#define FG_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "messages.h"

struct fg_noise_local {
	uint8_t private_key[FG_WG_KEY_LEN];   /* clamped */
	uint8_t public_key[FG_WG_KEY_LEN];
	uint8_t initial_chaining_key[FG_WG_HASH_LEN];  /* HASH(construction) */
	uint8_t initial_hash[FG_WG_HASH_LEN];          /* HASH(C0 || identifier) */
	/* HASH(initial_hash || public_key): the responder's starting H. */
	uint8_t responder_hash[FG_WG_HASH_LEN];
};

struct fg_noise_peer {
	uint8_t public_key[FG_WG_KEY_LEN];
	uint8_t psk[FG_WG_KEY_LEN];
	uint8_t static_static[FG_WG_KEY_LEN];   /* DH(local, peer); all-zero => invalid */
	/* HASH(initial_hash || public_key): our starting H when we initiate to this peer. */
	uint8_t initiator_hash[FG_WG_HASH_LEN];
	uint8_t latest_timestamp[FG_WG_TAI64N_LEN]; /* of the newest accepted initiation */
	uint64_t last_initiation_ns;                /* monotonic time of that initiation */
	bool have_initiation;                       /* last_initiation_ns is meaningful */
};

enum fg_noise_state {
	FG_NOISE_STATE_ZEROED = 0,
	FG_NOISE_STATE_CREATED_INITIATION,
	FG_NOISE_STATE_BEGAN_INITIATION,   /* responder: static decrypted, peer not yet checked */
	FG_NOISE_STATE_CONSUMED_INITIATION,
	FG_NOISE_STATE_CREATED_RESPONSE,
	FG_NOISE_STATE_CONSUMED_RESPONSE,
};

struct fg_noise_handshake {
	enum fg_noise_state state;
	uint8_t hash[FG_WG_HASH_LEN];
	uint8_t chaining_key[FG_WG_HASH_LEN];
	uint8_t ephemeral_private[FG_WG_KEY_LEN];
	uint8_t remote_ephemeral[FG_WG_KEY_LEN];
	uint8_t remote_static[FG_WG_KEY_LEN];  /* responder: decrypted initiator static */
	uint32_t local_index;    /* our sender_index, host order */
	uint32_t remote_index;   /* the peer's sender_index, host order */
};

struct fg_noise_keypair_keys {
	uint8_t send[FG_WG_KEY_LEN];
	uint8_t recv[FG_WG_KEY_LEN];
	uint32_t local_index;    /* receiver_index of data messages we receive */
	uint32_t remote_index;   /* receiver_index of data messages we send */
	bool initiator;
};

/*
 * Clamps private_key, derives the public key and precomputes the responder hash.
 * -EINVAL if private_key is all-zero or the public key comes out zero; l is wiped then.
 */
int fg_noise_local_init(struct fg_noise_local *l, const uint8_t private_key[FG_WG_KEY_LEN]);
/* Wipes the local identity. */
void fg_noise_local_clear(struct fg_noise_local *l);

/*
 * Sets up a peer of l: copies its key and PSK (NULL = all-zero), precomputes DH(l, peer)
 * and the initiator hash, and clears the replay/flood state. Must be called again if the
 * local private key changes. -EINVAL if public_key is l's own key; -EKEYREJECTED if the
 * DH result is zero (p is still set up, with static_static zero, so every handshake with
 * it fails).
 */
int fg_noise_peer_init(struct fg_noise_peer *p, const struct fg_noise_local *l,
		       const uint8_t public_key[FG_WG_KEY_LEN], const uint8_t psk[FG_WG_KEY_LEN]);
/*
 * Recomputes a set-up peer's DH and initiator hash for a new local identity, keeping its
 * PSK and its replay/flood state (the newest accepted TAI64N timestamp): a key update must
 * never make an earlier initiation acceptable again. Same errors as fg_noise_peer_init.
 */
int fg_noise_peer_rekey(struct fg_noise_peer *p, const struct fg_noise_local *l);
/* Replaces the PSK (NULL = all-zero); the replay/flood state is kept. True if it changed
 * (compared in constant time). */
bool fg_noise_peer_set_psk(struct fg_noise_peer *p, const uint8_t psk[FG_WG_KEY_LEN]);
/* Wipes the peer's secrets (PSK, static-static) and state. */
void fg_noise_peer_clear(struct fg_noise_peer *p);

/*
 * Initiator, step 1: fills msg (type, sender_index = local_index, ephemeral, encrypted
 * static and timestamp; macs left zero) with a fresh random ephemeral. wall_ns is the
 * wall-clock time in ns since the epoch (TAI64N timestamp). Overwrites hs, which becomes
 * CREATED_INITIATION.
 */
int fg_noise_create_initiation(struct fg_wg_msg_initiation *msg, struct fg_noise_handshake *hs,
			       const struct fg_noise_local *l, const struct fg_noise_peer *p,
			       uint32_t local_index, uint64_t wall_ns);
/* The same with a caller-chosen ephemeral private key: for tests and test vectors only. */
int fg_noise_create_initiation_with_ephemeral(struct fg_wg_msg_initiation *msg,
					      struct fg_noise_handshake *hs,
					      const struct fg_noise_local *l,
					      const struct fg_noise_peer *p, uint32_t local_index,
					      uint64_t wall_ns,
					      const uint8_t ephemeral_private[FG_WG_KEY_LEN]);

/*
 * Initiator, step 2: hs must be CREATED_INITIATION and msg->receiver_index equal to
 * hs->local_index (else -EINVAL). On success hs becomes CONSUMED_RESPONSE; on any
 * failure hs is unchanged.
 */
int fg_noise_consume_response(const struct fg_wg_msg_response *msg,
			      struct fg_noise_handshake *hs, const struct fg_noise_local *l,
			      const struct fg_noise_peer *p);

/*
 * Responder, step 1: decrypts the initiator's static key into initiator_static so the
 * caller can look the peer up. tmp is overwritten and becomes BEGAN_INITIATION. On
 * failure tmp is wiped.
 */
int fg_noise_consume_initiation_begin(const struct fg_wg_msg_initiation *msg,
				      const struct fg_noise_local *l,
				      struct fg_noise_handshake *tmp,
				      uint8_t initiator_static[FG_WG_KEY_LEN]);
/*
 * Responder, step 2, with the peer whose public key is the decrypted static: decrypts
 * the timestamp, rejects replays (-EALREADY: timestamp must be newer than
 * p->latest_timestamp) and floods (-EAGAIN: now_ns is monotonic), then records the
 * timestamp and now_ns in p. tmp becomes CONSUMED_INITIATION; on failure tmp is wiped.
 */
int fg_noise_consume_initiation_finish(const struct fg_wg_msg_initiation *msg,
				       struct fg_noise_handshake *tmp, struct fg_noise_peer *p,
				       uint64_t now_ns);

/*
 * Responder, step 3: hs must be CONSUMED_INITIATION. Fills msg (type, sender_index =
 * local_index, receiver_index, ephemeral, encrypted empty payload; macs left zero).
 * hs becomes CREATED_RESPONSE; on failure hs is unchanged. p must be the peer whose
 * initiation hs consumed (else -EINVAL).
 */
int fg_noise_create_response(struct fg_wg_msg_response *msg, struct fg_noise_handshake *hs,
			     const struct fg_noise_local *l, const struct fg_noise_peer *p,
			     uint32_t local_index);
/* The same with a caller-chosen ephemeral private key: for tests and test vectors only. */
int fg_noise_create_response_with_ephemeral(struct fg_wg_msg_response *msg,
					    struct fg_noise_handshake *hs,
					    const struct fg_noise_local *l,
					    const struct fg_noise_peer *p, uint32_t local_index,
					    const uint8_t ephemeral_private[FG_WG_KEY_LEN]);

/*
 * Both sides: from a CREATED_RESPONSE (responder) or CONSUMED_RESPONSE (initiator)
 * handshake, derive the transport keys into out, then wipe hs. -EINVAL (out untouched,
 * hs kept) in any other state.
 */
int fg_noise_derive_keys(struct fg_noise_handshake *hs, struct fg_noise_keypair_keys *out);

/* Wipes hs; its state becomes ZEROED. */
void fg_noise_handshake_clear(struct fg_noise_handshake *hs);

#endif
