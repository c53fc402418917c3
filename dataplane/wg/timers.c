// SPDX-License-Identifier: MIT
/*
 * WireGuard's per-peer timers (whitepaper §6) as a pure state machine: five deadlines on
 * an injected monotonic nanosecond clock, moved by event hooks named after what drives
 * them, and a tick that runs the expired ones and returns what the caller must do. This
 * file alone decides timer policy, following the kernel's timers.c; the service lcore
 * owns every struct fg_wg_timers and is the only caller, so there is no locking, no
 * allocation and no sleeping here.
 *
 * The five timers:
 * - retransmit handshake: REKEY_TIMEOUT + jitter after an initiation with no response;
 *   after MAX_TIMER_HANDSHAKES + 1 retransmissions it gives up instead.
 * - send keepalive: KEEPALIVE_TIMEOUT after data was received and nothing was sent.
 * - new handshake: KEEPALIVE_TIMEOUT + REKEY_TIMEOUT after data was sent and nothing
 *   was received.
 * - zero key material: 3 * REJECT_AFTER_TIME after the last session was derived.
 * - persistent keepalive: every N seconds since the last authenticated packet traversal.
 */
#include "timers.h"

#include <string.h>

#include "messages.h"

static inline uint64_t sec_ns(uint64_t s)
{
	return s * FG_WG_NSEC_PER_SEC;
}

static inline bool armed(const struct fg_wg_timers *t, enum fg_wg_timer_id id)
{
	return t->deadline[id] != 0;
}

/* 0 means "not armed", so a deadline of exactly 0 (a test clock at its origin) becomes 1. */
static inline void arm(struct fg_wg_timers *t, enum fg_wg_timer_id id, uint64_t when)
{
	t->deadline[id] = when ? when : 1;
}

static inline void disarm(struct fg_wg_timers *t, enum fg_wg_timer_id id)
{
	t->deadline[id] = 0;
}

/*
 * Disarming the passive keepalive also forgets that another one was owed: the owed one
 * would only have acknowledged data that the packet which cancelled the timer already
 * acknowledges. (The kernel leaves the flag set, which can cost one spare keepalive.)
 */
static inline void cancel_keepalive(struct fg_wg_timers *t)
{
	disarm(t, FG_WG_TIMER_ID_SEND_KEEPALIVE);
	t->need_another_keepalive = false;
}

static inline uint64_t keepalive_timeout_ns(void)
{
	return sec_ns(FG_WG_KEEPALIVE_TIMEOUT_S);
}

static inline uint64_t zero_keys_after_ns(void)
{
	return sec_ns(3 * (uint64_t)FG_WG_REJECT_AFTER_TIME_S);
}

void fg_wg_timers_init(struct fg_wg_timers *t, uint16_t persistent_keepalive_s)
{
	memset(t, 0, sizeof(*t));
	t->rekey_timeout_ns = sec_ns(FG_WG_REKEY_TIMEOUT_S);
	t->persistent_keepalive_interval_s = persistent_keepalive_s;
}

void fg_wg_timers_set_persistent_keepalive(struct fg_wg_timers *t, uint16_t s, uint64_t now)
{
	uint16_t was = t->persistent_keepalive_interval_s;

	t->persistent_keepalive_interval_s = s;
	if (s == 0)
		disarm(t, FG_WG_TIMER_ID_PERSISTENT_KEEPALIVE);
	else if (was == 0)
		/* Switching it on sends one keepalive straight away, to open the NAT
		 * mapping now rather than one interval from now. */
		arm(t, FG_WG_TIMER_ID_PERSISTENT_KEEPALIVE, now);
	/* A changed non-zero interval takes effect at the next traversal. */
}

void fg_wg_timers_data_sent(struct fg_wg_timers *t, uint64_t now)
{
	/* Not pushed back by further data: the answer is due counting from the first
	 * unanswered packet. */
	if (!armed(t, FG_WG_TIMER_ID_NEW_HANDSHAKE))
		arm(t, FG_WG_TIMER_ID_NEW_HANDSHAKE,
		    now + keepalive_timeout_ns() + t->rekey_timeout_ns);
}

void fg_wg_timers_data_received(struct fg_wg_timers *t, uint64_t now)
{
	/* Pushing the pending keepalive back would starve it under steady one-way
	 * traffic, so a second arrival only notes that another one is owed. */
	if (!armed(t, FG_WG_TIMER_ID_SEND_KEEPALIVE))
		arm(t, FG_WG_TIMER_ID_SEND_KEEPALIVE, now + keepalive_timeout_ns());
	else
		t->need_another_keepalive = true;
}

void fg_wg_timers_any_authenticated_packet_sent(struct fg_wg_timers *t, uint64_t now)
{
	(void)now;
	cancel_keepalive(t);
}

void fg_wg_timers_any_authenticated_packet_received(struct fg_wg_timers *t, uint64_t now)
{
	(void)now;
	disarm(t, FG_WG_TIMER_ID_NEW_HANDSHAKE);
}

void fg_wg_timers_any_authenticated_packet_traversal(struct fg_wg_timers *t, uint64_t now)
{
	if (t->persistent_keepalive_interval_s)
		arm(t, FG_WG_TIMER_ID_PERSISTENT_KEEPALIVE,
		    now + sec_ns(t->persistent_keepalive_interval_s));
}

void fg_wg_timers_handshake_requested(struct fg_wg_timers *t)
{
	t->handshake_attempts = 0;
}

void fg_wg_timers_handshake_initiated(struct fg_wg_timers *t, uint64_t now, uint32_t jitter_ms)
{
	if (jitter_ms >= FG_WG_REKEY_TIMEOUT_JITTER_MS)
		jitter_ms = FG_WG_REKEY_TIMEOUT_JITTER_MS - 1;
	if (!t->retry_pending)
		t->handshake_attempts = 0;
	t->retry_pending = false;
	arm(t, FG_WG_TIMER_ID_RETRANSMIT_HANDSHAKE,
	    now + t->rekey_timeout_ns + (uint64_t)jitter_ms * FG_WG_NSEC_PER_MSEC);
}

void fg_wg_timers_handshake_complete(struct fg_wg_timers *t, uint64_t now)
{
	(void)now;
	disarm(t, FG_WG_TIMER_ID_RETRANSMIT_HANDSHAKE);
	t->handshake_attempts = 0;
	t->retry_pending = false;
}

void fg_wg_timers_session_derived(struct fg_wg_timers *t, uint64_t now)
{
	arm(t, FG_WG_TIMER_ID_ZERO_KEYS, now + zero_keys_after_ns());
}

void fg_wg_timers_stop(struct fg_wg_timers *t)
{
	for (int id = 0; id < FG_WG_TIMER_ID_COUNT; id++)
		disarm(t, (enum fg_wg_timer_id)id);
	t->need_another_keepalive = false;
	t->retry_pending = false;
	t->handshake_attempts = 0;
}

/*
 * The retransmit timer counts retransmissions, not initiations, and gives up once the
 * count exceeds MAX_TIMER_HANDSHAKES: one initiation plus MAX_TIMER_HANDSHAKES + 1
 * retransmissions, about REKEY_ATTEMPT_TIME + 2 * REKEY_TIMEOUT in all, as the kernel
 * does. Giving up also arms the zero-key timer (unless a session already did) so that a
 * half-finished exchange does not linger.
 */
static unsigned expired_retransmit_handshake(struct fg_wg_timers *t, uint64_t now)
{
	if (t->handshake_attempts > FG_WG_MAX_TIMER_HANDSHAKES) {
		cancel_keepalive(t);
		t->retry_pending = false;
		if (!armed(t, FG_WG_TIMER_ID_ZERO_KEYS))
			arm(t, FG_WG_TIMER_ID_ZERO_KEYS, now + zero_keys_after_ns());
		return FG_WG_TIMER_GIVE_UP;
	}
	t->handshake_attempts++;
	t->retry_pending = true;
	return FG_WG_TIMER_SEND_INITIATION;
}

/*
 * The keepalive the caller is about to send acknowledges everything received so far; if
 * more data arrived while this one was pending, another keepalive is owed one timeout
 * later. Reporting the keepalive through fg_wg_timers_any_authenticated_packet_sent()
 * cancels that re-arm, exactly as the kernel's transmit path does after its timer handler
 * ran; it survives only when the keepalive could not be sent.
 */
static unsigned expired_send_keepalive(struct fg_wg_timers *t, uint64_t now)
{
	if (t->need_another_keepalive) {
		t->need_another_keepalive = false;
		arm(t, FG_WG_TIMER_ID_SEND_KEEPALIVE, now + keepalive_timeout_ns());
	}
	return FG_WG_TIMER_SEND_KEEPALIVE;
}

static unsigned expired_persistent_keepalive(struct fg_wg_timers *t)
{
	/* Re-armed by the traversal of the keepalive the caller sends. */
	return t->persistent_keepalive_interval_s ? FG_WG_TIMER_SEND_KEEPALIVE : FG_WG_TIMER_NONE;
}

static unsigned run(struct fg_wg_timers *t, enum fg_wg_timer_id id, uint64_t now)
{
	switch (id) {
	case FG_WG_TIMER_ID_RETRANSMIT_HANDSHAKE:
		return expired_retransmit_handshake(t, now);
	case FG_WG_TIMER_ID_SEND_KEEPALIVE:
		return expired_send_keepalive(t, now);
	case FG_WG_TIMER_ID_NEW_HANDSHAKE:
		return FG_WG_TIMER_NEW_HANDSHAKE;
	case FG_WG_TIMER_ID_ZERO_KEYS:
		return FG_WG_TIMER_ZERO_KEYS;
	case FG_WG_TIMER_ID_PERSISTENT_KEEPALIVE:
		return expired_persistent_keepalive(t);
	case FG_WG_TIMER_ID_COUNT:
		break;
	}
	return FG_WG_TIMER_NONE;
}

/* The armed timer with the earliest deadline not after now; ties go to the lower id. */
static bool earliest_expired(const struct fg_wg_timers *t, uint64_t now, enum fg_wg_timer_id *out)
{
	bool found = false;

	for (int id = 0; id < FG_WG_TIMER_ID_COUNT; id++) {
		uint64_t d = t->deadline[id];

		if (d == 0 || d > now)
			continue;
		if (!found || d < t->deadline[*out]) {
			*out = (enum fg_wg_timer_id)id;
			found = true;
		}
	}
	return found;
}

/*
 * Each expiry disarms its timer before running it, and a handler only re-arms timers
 * strictly in the future, so the loop ends after at most one pass per armed timer. Running
 * them in deadline order keeps a late tick equivalent to punctual ones: a give-up that was
 * due before a keepalive cancels it, as it would have on time.
 */
unsigned fg_wg_timers_tick(struct fg_wg_timers *t, uint64_t now)
{
	enum fg_wg_timer_id id = FG_WG_TIMER_ID_RETRANSMIT_HANDSHAKE;
	unsigned actions = FG_WG_TIMER_NONE;

	while (earliest_expired(t, now, &id)) {
		disarm(t, id);
		actions |= run(t, id, now);
	}
	return actions;
}

uint64_t fg_wg_timers_next_deadline(const struct fg_wg_timers *t)
{
	uint64_t next = UINT64_MAX;

	for (int id = 0; id < FG_WG_TIMER_ID_COUNT; id++)
		if (t->deadline[id] != 0 && t->deadline[id] < next)
			next = t->deadline[id];
	return next;
}

/* True once now - birth >= limit; a birth in the future is age 0. */
static inline bool aged(uint64_t birth, uint64_t now, uint64_t limit_ns)
{
	return now >= birth && now - birth >= limit_ns;
}

bool fg_wg_timers_should_rekey_on_send(bool initiator, uint64_t keypair_birth,
				       uint64_t send_counter, uint64_t now)
{
	if (send_counter > FG_WG_REKEY_AFTER_MESSAGES)
		return true;
	return initiator && aged(keypair_birth, now, sec_ns(FG_WG_REKEY_AFTER_TIME_S));
}

/*
 * The initiator renews a little before the responder would start refusing the keypair,
 * so that a session which only receives still rekeys in time: REJECT_AFTER_TIME minus
 * the time a keepalive and one handshake may take.
 */
bool fg_wg_timers_should_rekey_on_receive(bool initiator, uint64_t keypair_birth, uint64_t now)
{
	enum {
		RECEIVE_REKEY_S = FG_WG_REJECT_AFTER_TIME_S - FG_WG_KEEPALIVE_TIMEOUT_S -
				  FG_WG_REKEY_TIMEOUT_S,
	};

	return initiator && aged(keypair_birth, now, sec_ns(RECEIVE_REKEY_S));
}

bool fg_wg_timers_keypair_expired(uint64_t keypair_birth, uint64_t counter, uint64_t now)
{
	if (counter >= FG_WG_REJECT_AFTER_MESSAGES)
		return true;
	return aged(keypair_birth, now, sec_ns(FG_WG_REJECT_AFTER_TIME_S));
}
