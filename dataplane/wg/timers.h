/* SPDX-License-Identifier: MIT */
/*
 * The WireGuard timer state machine of one peer (whitepaper §6, the kernel's timers.c),
 * driven by named events and an injected monotonic clock in nanoseconds. It owns no
 * thread and never sleeps: the service lcore feeds it events, calls fg_wg_timers_tick()
 * when fg_wg_timers_next_deadline() is due, and performs the returned actions. All state
 * belongs to the service lcore; workers report events to it, they never call in here.
 */
#ifndef FG_TIMERS_H
#define FG_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

enum {
	FG_WG_NSEC_PER_SEC = 1000000000,
	FG_WG_NSEC_PER_MSEC = 1000000,
};

/* What a tick asks the caller to do; several may be set at once. */
enum fg_wg_timer_action {
	FG_WG_TIMER_NONE = 0,
	/* Retransmit the handshake initiation (fresh ephemeral), then report it with
	 * fg_wg_timers_handshake_initiated(). */
	FG_WG_TIMER_SEND_INITIATION = 1 << 0,
	/* Send an empty authenticated data packet (passive or persistent keepalive). */
	FG_WG_TIMER_SEND_KEEPALIVE = 1 << 1,
	/* Wipe the peer's keypairs and any half-done handshake. */
	FG_WG_TIMER_ZERO_KEYS = 1 << 2,
	/* Handshake attempts exhausted: drop staged packets, stop retrying. */
	FG_WG_TIMER_GIVE_UP = 1 << 3,
	/* Data sent without answer for keepalive + rekey timeout: initiate a new handshake. */
	FG_WG_TIMER_NEW_HANDSHAKE = 1 << 4,
};

/* The five timers of a peer, as indices into struct fg_wg_timers.deadline. */
enum fg_wg_timer_id {
	FG_WG_TIMER_ID_RETRANSMIT_HANDSHAKE = 0,
	FG_WG_TIMER_ID_SEND_KEEPALIVE,
	FG_WG_TIMER_ID_NEW_HANDSHAKE,
	FG_WG_TIMER_ID_ZERO_KEYS,
	FG_WG_TIMER_ID_PERSISTENT_KEEPALIVE,
	FG_WG_TIMER_ID_COUNT,
};

struct fg_wg_timers {
	uint64_t deadline[FG_WG_TIMER_ID_COUNT]; /* monotonic ns; 0 = not armed */
	uint64_t rekey_timeout_ns;               /* FG_WG_REKEY_TIMEOUT_S unless a test shortens it */
	uint32_t handshake_attempts;             /* retransmissions since the last fresh request */
	uint16_t persistent_keepalive_interval_s; /* 0 = off */
	bool need_another_keepalive;             /* data arrived while a keepalive was pending */
	bool retry_pending;                      /* a tick asked for a retransmission */
};

void fg_wg_timers_init(struct fg_wg_timers *t, uint16_t persistent_keepalive_s);
/* Turning it on (from 0) asks for a keepalive at the next tick, as `wg set` does. */
void fg_wg_timers_set_persistent_keepalive(struct fg_wg_timers *t, uint16_t s, uint64_t now);

/* Events, named after what drives them. */
/* After an authenticated data packet (not a keepalive) is sent. */
void fg_wg_timers_data_sent(struct fg_wg_timers *t, uint64_t now);
/* After an authenticated data packet (not a keepalive) is received. */
void fg_wg_timers_data_received(struct fg_wg_timers *t, uint64_t now);
/* After any authenticated packet is sent: keepalive, data or handshake. */
void fg_wg_timers_any_authenticated_packet_sent(struct fg_wg_timers *t, uint64_t now);
/* After any authenticated packet is received: keepalive, data or handshake. */
void fg_wg_timers_any_authenticated_packet_received(struct fg_wg_timers *t, uint64_t now);
/* Before any authenticated packet is sent, or after one is received. */
void fg_wg_timers_any_authenticated_packet_traversal(struct fg_wg_timers *t, uint64_t now);
/*
 * A handshake initiation is wanted for any reason but the retransmit timer (data staged
 * without a keypair, a rekey predicate, FG_WG_TIMER_NEW_HANDSHAKE): restarts the attempt
 * count even if the caller's one-initiation-per-REKEY_TIMEOUT limit then holds the send
 * back, so a peer keeps retrying for as long as it has something to say (whitepaper §6.4).
 */
void fg_wg_timers_handshake_requested(struct fg_wg_timers *t);
/* After an initiation is sent: arms the retransmission at now + rekey timeout + jitter
 * (jitter_ms in 0..FG_WG_REKEY_TIMEOUT_JITTER_MS - 1, drawn by the caller; larger is
 * clamped). An initiation the timer did not ask for also restarts the attempt count. */
void fg_wg_timers_handshake_initiated(struct fg_wg_timers *t, uint64_t now, uint32_t jitter_ms);
/* After a response is processed, or key confirmation arrives with the first data packet. */
void fg_wg_timers_handshake_complete(struct fg_wg_timers *t, uint64_t now);
/* After an ephemeral key is created: before sending a response, after receiving one. */
void fg_wg_timers_session_derived(struct fg_wg_timers *t, uint64_t now);
/* Peer removed or interface down: disarms everything. Events re-arm timers afterwards, so
 * the caller stops feeding events to a stopped peer. */
void fg_wg_timers_stop(struct fg_wg_timers *t);

/* Runs every expired timer, earliest first; returns a bitmask of fg_wg_timer_action. */
unsigned fg_wg_timers_tick(struct fg_wg_timers *t, uint64_t now);
/* Earliest armed deadline or UINT64_MAX (for the caller's sleep). */
uint64_t fg_wg_timers_next_deadline(const struct fg_wg_timers *t);

/* Key-freshness predicates for the data path (the kernel's keep_key_fresh). Ages are
 * now - keypair_birth in ns; a birth in the future counts as age 0. */
/* send_counter > FG_WG_REKEY_AFTER_MESSAGES or (initiator and age >= REKEY_AFTER_TIME). */
bool fg_wg_timers_should_rekey_on_send(bool initiator, uint64_t keypair_birth,
				       uint64_t send_counter, uint64_t now);
/* initiator and age >= REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT. */
bool fg_wg_timers_should_rekey_on_receive(bool initiator, uint64_t keypair_birth, uint64_t now);
/* age >= REJECT_AFTER_TIME or counter >= FG_WG_REJECT_AFTER_MESSAGES. */
bool fg_wg_timers_keypair_expired(uint64_t keypair_birth, uint64_t counter, uint64_t now);

#endif
