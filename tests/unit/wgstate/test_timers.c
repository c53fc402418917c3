// SPDX-License-Identifier: MIT
/*
 * Tests for the WireGuard timer state machine (dataplane/wg/timers.c), one per behaviour,
 * on a fake nanosecond clock: the test advances `now`, feeds the events a peer would see,
 * ticks, and asserts the returned actions and the armed deadlines. The helpers play the
 * caller's part (a sent packet is a traversal followed by a send, and so on), as the
 * kernel's send and receive paths do. Single-threaded; nothing sleeps.
 */
#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include <stdint.h>

#include "messages.h"
#include "timers.h"

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)
#define MS(x) ((uint64_t)(x) * 1000000ULL)

/* The fake clock starts well away from 0, since a deadline of 0 means "not armed". */
static const uint64_t T0 = SEC(1000);

static struct fg_wg_timers t;

/* ---- the caller's side of the protocol ---- */

static void send_data(uint64_t now)
{
	fg_wg_timers_any_authenticated_packet_traversal(&t, now);
	fg_wg_timers_any_authenticated_packet_sent(&t, now);
	fg_wg_timers_data_sent(&t, now);
}

static void send_keepalive(uint64_t now)
{
	fg_wg_timers_any_authenticated_packet_traversal(&t, now);
	fg_wg_timers_any_authenticated_packet_sent(&t, now);
}

static void recv_data(uint64_t now)
{
	fg_wg_timers_any_authenticated_packet_received(&t, now);
	fg_wg_timers_any_authenticated_packet_traversal(&t, now);
	fg_wg_timers_data_received(&t, now);
}

static void recv_keepalive(uint64_t now)
{
	fg_wg_timers_any_authenticated_packet_received(&t, now);
	fg_wg_timers_any_authenticated_packet_traversal(&t, now);
}

/* ---- tests ---- */

static void test_idle_does_nothing(void)
{
	fg_wg_timers_init(&t, 0);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, 0), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(100000)), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
	CU_ASSERT_EQUAL(t.handshake_attempts, 0);

	/* Traversals with persistent keepalive off arm nothing either. */
	recv_keepalive(T0);
	send_keepalive(T0);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
}

static void test_keepalive_after_receive_only(void)
{
	fg_wg_timers_init(&t, 0);
	recv_data(T0);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(10));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(10) - 1), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(10)), FG_WG_TIMER_SEND_KEEPALIVE);
	send_keepalive(T0 + SEC(10));
	/* One keepalive answers one quiet spell. */
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(60)), FG_WG_TIMER_NONE);
	/* Receiving a keepalive does not call for one in return. */
	recv_keepalive(T0 + SEC(61));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(90)), FG_WG_TIMER_NONE);
}

static void test_no_keepalive_if_we_sent(void)
{
	fg_wg_timers_init(&t, 0);
	recv_data(T0);
	send_data(T0 + SEC(3));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(10)), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(14)), FG_WG_TIMER_NONE);
	/* A keepalive of ours counts as well. */
	recv_data(T0 + SEC(14));
	send_keepalive(T0 + SEC(15));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(30)), FG_WG_TIMER_NONE);
}

static void test_keepalive_pending_again(void)
{
	/* Further data does not push the pending keepalive back ... */
	fg_wg_timers_init(&t, 0);
	recv_data(T0);
	recv_data(T0 + SEC(5));
	recv_data(T0 + SEC(9));
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(10));
	CU_ASSERT_TRUE(t.need_another_keepalive);
	/* ... but another one is owed a timeout after the first fires. */
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(10)), FG_WG_TIMER_SEND_KEEPALIVE);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(20));
	CU_ASSERT_FALSE(t.need_another_keepalive);
	/* If the first could not be sent (no keypair), the second goes out on time, once. */
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(20) - 1), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(20)), FG_WG_TIMER_SEND_KEEPALIVE);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);

	/* Once the first keepalive is reported sent, nothing more is owed (kernel order:
	 * the transmit path's sent hook runs after the timer handler). */
	fg_wg_timers_init(&t, 0);
	recv_data(T0);
	recv_data(T0 + SEC(5));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(10)), FG_WG_TIMER_SEND_KEEPALIVE);
	send_keepalive(T0 + SEC(10));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(30)), FG_WG_TIMER_NONE);

	/* A cancelled keepalive does not leave a debt behind for the next quiet spell. */
	fg_wg_timers_init(&t, 0);
	recv_data(T0);
	recv_data(T0 + SEC(5));
	send_data(T0 + SEC(6));
	recv_data(T0 + SEC(7));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(17)), FG_WG_TIMER_SEND_KEEPALIVE);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
}

/*
 * Kernel count: the timer gives up once handshake_attempts > MAX_TIMER_HANDSHAKES, so
 * after the first initiation there are MAX_TIMER_HANDSHAKES + 1 = 19 retransmissions (20
 * initiations, the kernel's "did not complete after 20 attempts") and the next expiry
 * gives up.
 */
static void test_retransmit_then_give_up(void)
{
	uint64_t now = T0;
	uint32_t jitter = 0;
	unsigned retransmissions = 0;
	unsigned actions;

	fg_wg_timers_init(&t, 0);
	fg_wg_timers_handshake_requested(&t);
	fg_wg_timers_handshake_initiated(&t, now, jitter);
	for (;;) {
		uint64_t due = now + SEC(5) + MS(jitter);

		CU_ASSERT_EQUAL_FATAL(fg_wg_timers_next_deadline(&t), due);
		CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, due - 1), FG_WG_TIMER_NONE);
		now = due;
		actions = fg_wg_timers_tick(&t, now);
		if (actions != FG_WG_TIMER_SEND_INITIATION)
			break;
		retransmissions++;
		CU_ASSERT_EQUAL(t.handshake_attempts, retransmissions);
		jitter = (retransmissions * 97) % FG_WG_REKEY_TIMEOUT_JITTER_MS;
		fg_wg_timers_handshake_initiated(&t, now, jitter);
		/* A retransmission asked for by the timer keeps the count. */
		CU_ASSERT_EQUAL(t.handshake_attempts, retransmissions);
		CU_ASSERT_FATAL(retransmissions <= 100);
	}
	CU_ASSERT_EQUAL(retransmissions, FG_WG_MAX_TIMER_HANDSHAKES + 1);
	CU_ASSERT_EQUAL(actions, FG_WG_TIMER_GIVE_UP);
	/* Between 100 s and 100 s + 20 * 333 ms after the first initiation. */
	CU_ASSERT(now - T0 >= SEC(5) * (FG_WG_MAX_TIMER_HANDSHAKES + 2));
	CU_ASSERT(now - T0 < SEC(5) * (FG_WG_MAX_TIMER_HANDSHAKES + 2) + MS(20 * 334));

	/* Giving up stops retrying and schedules the wipe of any half-made session. */
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), now + SEC(540));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(540) - 1), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(540)), FG_WG_TIMER_ZERO_KEYS);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(10000)), FG_WG_TIMER_NONE);

	/* A fresh initiation after giving up starts counting from zero again. */
	now += SEC(20000);
	fg_wg_timers_handshake_initiated(&t, now, 0);
	CU_ASSERT_EQUAL(t.handshake_attempts, 0);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(5)), FG_WG_TIMER_SEND_INITIATION);
	CU_ASSERT_EQUAL(t.handshake_attempts, 1);
}

static void test_give_up_cancels_keepalive_keeps_zero_keys(void)
{
	uint64_t now = T0;

	fg_wg_timers_init(&t, 0);
	fg_wg_timers_session_derived(&t, T0);
	fg_wg_timers_handshake_initiated(&t, now, 0);
	t.handshake_attempts = FG_WG_MAX_TIMER_HANDSHAKES + 1;  /* last retransmission sent */
	recv_data(now + SEC(1));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(5)), FG_WG_TIMER_GIVE_UP);
	CU_ASSERT_EQUAL(t.deadline[FG_WG_TIMER_ID_SEND_KEEPALIVE], 0);
	/* The zero-key deadline from the session stays where it was. */
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(540));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(540)), FG_WG_TIMER_ZERO_KEYS);
}

static void test_handshake_complete_stops_retransmit(void)
{
	fg_wg_timers_init(&t, 0);
	fg_wg_timers_handshake_initiated(&t, T0, 100);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(5) + MS(100)), FG_WG_TIMER_SEND_INITIATION);
	fg_wg_timers_handshake_initiated(&t, T0 + SEC(5) + MS(100), 0);
	CU_ASSERT_EQUAL(t.handshake_attempts, 1);
	fg_wg_timers_handshake_complete(&t, T0 + SEC(6));
	fg_wg_timers_session_derived(&t, T0 + SEC(6));
	CU_ASSERT_EQUAL(t.handshake_attempts, 0);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(60)), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(6) + SEC(540));
}

/* Data waiting for a keypair restarts the count (whitepaper §6.4): no give-up while the
 * peer keeps trying to send. */
static void test_requested_handshake_resets_attempts(void)
{
	uint64_t now = T0;
	unsigned retransmissions = 0;

	fg_wg_timers_init(&t, 0);
	fg_wg_timers_handshake_initiated(&t, now, 0);
	for (int i = 0; i < 10; i++) {
		now += SEC(5);
		CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now), FG_WG_TIMER_SEND_INITIATION);
		fg_wg_timers_handshake_initiated(&t, now, 0);
		retransmissions++;
	}
	CU_ASSERT_EQUAL(t.handshake_attempts, 10);
	/* Staged data asks for a handshake; the caller's rate limit holds the send back. */
	fg_wg_timers_handshake_requested(&t);
	CU_ASSERT_EQUAL(t.handshake_attempts, 0);
	for (;;) {
		unsigned actions;

		now += SEC(5);
		actions = fg_wg_timers_tick(&t, now);
		if (actions != FG_WG_TIMER_SEND_INITIATION) {
			CU_ASSERT_EQUAL(actions, FG_WG_TIMER_GIVE_UP);
			break;
		}
		fg_wg_timers_handshake_initiated(&t, now, 0);
		CU_ASSERT_FATAL(++retransmissions <= 100);
	}
	CU_ASSERT_EQUAL(retransmissions, 10 + FG_WG_MAX_TIMER_HANDSHAKES + 1);

	/* An initiation that no retransmit tick asked for restarts the count by itself. */
	fg_wg_timers_init(&t, 0);
	fg_wg_timers_handshake_initiated(&t, T0, 0);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(5)), FG_WG_TIMER_SEND_INITIATION);
	fg_wg_timers_handshake_initiated(&t, T0 + SEC(5), 0);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(10)), FG_WG_TIMER_SEND_INITIATION);
	fg_wg_timers_handshake_initiated(&t, T0 + SEC(10), 0);
	CU_ASSERT_EQUAL(t.handshake_attempts, 2);
	fg_wg_timers_handshake_initiated(&t, T0 + SEC(12), 0);  /* e.g. a rekey */
	CU_ASSERT_EQUAL(t.handshake_attempts, 0);
}

static void test_jitter_is_bounded(void)
{
	fg_wg_timers_init(&t, 0);
	fg_wg_timers_handshake_initiated(&t, T0, 333);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(5) + MS(333));
	fg_wg_timers_handshake_initiated(&t, T0, 100000);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(5) + MS(333));
	fg_wg_timers_handshake_initiated(&t, T0, 0);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(5));
}

static void test_new_handshake_when_unanswered(void)
{
	fg_wg_timers_init(&t, 0);
	send_data(T0);
	send_data(T0 + SEC(3));   /* later data does not push the deadline back */
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(15));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(15) - 1), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(15)), FG_WG_TIMER_NEW_HANDSHAKE);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);

	/* Any authenticated answer, even a keepalive, disarms it. */
	fg_wg_timers_init(&t, 0);
	send_data(T0);
	recv_keepalive(T0 + SEC(14));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(60)), FG_WG_TIMER_NONE);
	/* And the next unanswered packet starts a new wait. */
	send_data(T0 + SEC(61));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(76)), FG_WG_TIMER_NEW_HANDSHAKE);

	/* Keepalives we send are not data: they start no wait. */
	fg_wg_timers_init(&t, 0);
	send_keepalive(T0);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(60)), FG_WG_TIMER_NONE);

	/* The wait follows the configured rekey timeout. */
	fg_wg_timers_init(&t, 0);
	t.rekey_timeout_ns = SEC(1);
	send_data(T0);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(11));
}

static void test_zero_keys_after_540s(void)
{
	fg_wg_timers_init(&t, 0);
	fg_wg_timers_session_derived(&t, T0);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(540));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(539)), FG_WG_TIMER_NONE);
	/* A new session pushes it back. */
	fg_wg_timers_session_derived(&t, T0 + SEC(100));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(540)), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(640) - 1), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(640)), FG_WG_TIMER_ZERO_KEYS);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(2000)), FG_WG_TIMER_NONE);
}

static void test_persistent_keepalive_cadence(void)
{
	uint64_t now = T0;

	fg_wg_timers_init(&t, 25);
	recv_keepalive(now);
	for (int i = 0; i < 10; i++) {
		CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(25) - 1), FG_WG_TIMER_NONE);
		now += SEC(25);
		CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now), FG_WG_TIMER_SEND_KEEPALIVE);
		send_keepalive(now);
		CU_ASSERT_EQUAL(t.deadline[FG_WG_TIMER_ID_PERSISTENT_KEEPALIVE], now + SEC(25));
	}

	/* Traffic either way restarts the interval. */
	recv_keepalive(now + SEC(20));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(25)), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), now + SEC(45));
	send_data(now + SEC(44));
	CU_ASSERT_EQUAL(t.deadline[FG_WG_TIMER_ID_PERSISTENT_KEEPALIVE], now + SEC(69));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(45)), FG_WG_TIMER_NONE);
	recv_keepalive(now + SEC(50));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(75) - 1), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, now + SEC(75)), FG_WG_TIMER_SEND_KEEPALIVE);
}

static void test_persistent_keepalive_on_off(void)
{
	/* Off: no traversal arms it. */
	fg_wg_timers_init(&t, 0);
	send_keepalive(T0);
	CU_ASSERT_EQUAL(t.deadline[FG_WG_TIMER_ID_PERSISTENT_KEEPALIVE], 0);

	/* Switched on: one keepalive at once, then the cadence. */
	fg_wg_timers_set_persistent_keepalive(&t, 15, T0 + SEC(1));
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(1));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(1)), FG_WG_TIMER_SEND_KEEPALIVE);
	send_keepalive(T0 + SEC(1));
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(16));

	/* A new non-zero interval applies from the next traversal. */
	fg_wg_timers_set_persistent_keepalive(&t, 30, T0 + SEC(2));
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(16));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(16)), FG_WG_TIMER_SEND_KEEPALIVE);
	send_keepalive(T0 + SEC(16));
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(46));

	/* Switched off: the pending one is dropped and traversals arm nothing. */
	fg_wg_timers_set_persistent_keepalive(&t, 0, T0 + SEC(20));
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
	send_keepalive(T0 + SEC(21));
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(1000)), FG_WG_TIMER_NONE);

	/* Configured at init: armed by the first traversal. */
	fg_wg_timers_init(&t, 25);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
	recv_keepalive(T0);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(25));
}

static void test_rekey_predicates_boundaries(void)
{
	const uint64_t birth = T0;

	/* On send: by message count, for either side; strictly more than the limit. */
	CU_ASSERT_FALSE(fg_wg_timers_should_rekey_on_send(false, birth, FG_WG_REKEY_AFTER_MESSAGES, birth));
	CU_ASSERT_TRUE(fg_wg_timers_should_rekey_on_send(false, birth, FG_WG_REKEY_AFTER_MESSAGES + 1, birth));
	CU_ASSERT_TRUE(fg_wg_timers_should_rekey_on_send(true, birth, FG_WG_REKEY_AFTER_MESSAGES + 1, birth));
	/* On send: by age, only the initiator, from exactly REKEY_AFTER_TIME. */
	CU_ASSERT_FALSE(fg_wg_timers_should_rekey_on_send(true, birth, 0, birth + SEC(120) - 1));
	CU_ASSERT_TRUE(fg_wg_timers_should_rekey_on_send(true, birth, 0, birth + SEC(120)));
	CU_ASSERT_FALSE(fg_wg_timers_should_rekey_on_send(false, birth, 0, birth + SEC(120)));
	CU_ASSERT_FALSE(fg_wg_timers_should_rekey_on_send(false, birth, 0, birth + SEC(100000)));

	/* On receive: initiator only, from 180 - 10 - 5 = 165 s. */
	CU_ASSERT_FALSE(fg_wg_timers_should_rekey_on_receive(true, birth, birth + SEC(165) - 1));
	CU_ASSERT_TRUE(fg_wg_timers_should_rekey_on_receive(true, birth, birth + SEC(165)));
	CU_ASSERT_FALSE(fg_wg_timers_should_rekey_on_receive(false, birth, birth + SEC(165)));
	CU_ASSERT_FALSE(fg_wg_timers_should_rekey_on_receive(false, birth, birth + SEC(100000)));

	/* Expiry: 180 s of age or REJECT_AFTER_MESSAGES messages. */
	CU_ASSERT_FALSE(fg_wg_timers_keypair_expired(birth, 0, birth + SEC(180) - 1));
	CU_ASSERT_TRUE(fg_wg_timers_keypair_expired(birth, 0, birth + SEC(180)));
	CU_ASSERT_FALSE(fg_wg_timers_keypair_expired(birth, FG_WG_REJECT_AFTER_MESSAGES - 1, birth));
	CU_ASSERT_TRUE(fg_wg_timers_keypair_expired(birth, FG_WG_REJECT_AFTER_MESSAGES, birth));
	CU_ASSERT_TRUE(fg_wg_timers_keypair_expired(birth, UINT64_MAX, birth));

	/* A birth "in the future" is age 0, not a huge unsigned age. */
	CU_ASSERT_FALSE(fg_wg_timers_should_rekey_on_send(true, birth, 0, birth - 1));
	CU_ASSERT_FALSE(fg_wg_timers_should_rekey_on_receive(true, birth, birth - 1));
	CU_ASSERT_FALSE(fg_wg_timers_keypair_expired(birth, 0, birth - 1));
	/* A keypair born at clock 0 ages normally. */
	CU_ASSERT_TRUE(fg_wg_timers_keypair_expired(0, 0, SEC(180)));
}

static void test_next_deadline(void)
{
	fg_wg_timers_init(&t, 25);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
	fg_wg_timers_session_derived(&t, T0);                     /* T0 + 540 */
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(540));
	send_data(T0 + SEC(1));                                  /* persistent 26, new hs 16 */
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(16));
	recv_data(T0 + SEC(2));   /* new hs off; keepalive 12; persistent 27 */
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(12));
	fg_wg_timers_handshake_initiated(&t, T0 + SEC(3), 200);  /* 8.2 */
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(8) + MS(200));
	fg_wg_timers_handshake_complete(&t, T0 + SEC(4));
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(12));
	/* The deadline is never later than an armed timer, and ticking before it is a no-op. */
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(12) - 1), FG_WG_TIMER_NONE);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(12)), FG_WG_TIMER_SEND_KEEPALIVE);
	send_keepalive(T0 + SEC(12));                            /* persistent 37 */
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), T0 + SEC(37));
	fg_wg_timers_stop(&t);
	CU_ASSERT_EQUAL(fg_wg_timers_next_deadline(&t), UINT64_MAX);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(100000)), FG_WG_TIMER_NONE);
}

/* A tick that comes late runs every expired timer, in deadline order, in one call. */
static void test_late_tick_runs_all_in_order(void)
{
	fg_wg_timers_init(&t, 25);
	fg_wg_timers_session_derived(&t, T0);
	send_data(T0);
	recv_data(T0 + SEC(1));
	send_data(T0 + SEC(1));   /* cancels the keepalive; new hs T0 + 16 */
	recv_data(T0 + SEC(2));   /* cancels new hs; keepalive T0 + 12; persistent T0 + 27 */
	fg_wg_timers_handshake_initiated(&t, T0 + SEC(3), 0);  /* retransmit T0 + 8 */
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(600)),
			FG_WG_TIMER_SEND_INITIATION | FG_WG_TIMER_SEND_KEEPALIVE |
			FG_WG_TIMER_ZERO_KEYS);
	CU_ASSERT_EQUAL(t.handshake_attempts, 1);

	/* A give-up due before the keepalive cancels it, as a punctual tick would. */
	fg_wg_timers_init(&t, 0);
	fg_wg_timers_handshake_initiated(&t, T0, 0);             /* due T0 + 5 */
	t.handshake_attempts = FG_WG_MAX_TIMER_HANDSHAKES + 1;
	recv_data(T0 + SEC(1));                                  /* due T0 + 11 */
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(30)), FG_WG_TIMER_GIVE_UP);
	/* A keepalive due before the give-up still goes out. */
	fg_wg_timers_init(&t, 0);
	recv_data(T0);                                           /* due T0 + 10 */
	fg_wg_timers_handshake_initiated(&t, T0 + SEC(6), 0);    /* due T0 + 11 */
	t.handshake_attempts = FG_WG_MAX_TIMER_HANDSHAKES + 1;
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(30)),
			FG_WG_TIMER_SEND_KEEPALIVE | FG_WG_TIMER_GIVE_UP);
}

static void test_stop_disarms_everything(void)
{
	fg_wg_timers_init(&t, 25);
	fg_wg_timers_session_derived(&t, T0);
	send_data(T0);
	recv_data(T0 + SEC(1));
	recv_data(T0 + SEC(2));
	fg_wg_timers_handshake_initiated(&t, T0 + SEC(3), 0);
	fg_wg_timers_stop(&t);
	for (int id = 0; id < FG_WG_TIMER_ID_COUNT; id++)
		CU_ASSERT_EQUAL(t.deadline[id], 0);
	CU_ASSERT_FALSE(t.need_another_keepalive);
	CU_ASSERT_EQUAL(fg_wg_timers_tick(&t, T0 + SEC(100000)), FG_WG_TIMER_NONE);
	/* The configuration survives. */
	CU_ASSERT_EQUAL(t.persistent_keepalive_interval_s, 25);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "idle: no action", test_idle_does_nothing },
		{ "keepalive 10 s after receive only", test_keepalive_after_receive_only },
		{ "no keepalive if we sent meanwhile", test_no_keepalive_if_we_sent },
		{ "keepalive pending again", test_keepalive_pending_again },
		{ "retransmit every 5 s + jitter, then give up", test_retransmit_then_give_up },
		{ "give-up cancels keepalive, keeps zero-keys", test_give_up_cancels_keepalive_keeps_zero_keys },
		{ "handshake complete stops retransmit", test_handshake_complete_stops_retransmit },
		{ "requested handshake resets attempts", test_requested_handshake_resets_attempts },
		{ "jitter is bounded", test_jitter_is_bounded },
		{ "new handshake when sent data is unanswered", test_new_handshake_when_unanswered },
		{ "zero keys after 540 s", test_zero_keys_after_540s },
		{ "persistent keepalive cadence and reset", test_persistent_keepalive_cadence },
		{ "persistent keepalive on/off", test_persistent_keepalive_on_off },
		{ "rekey predicates at the boundaries", test_rekey_predicates_boundaries },
		{ "next deadline", test_next_deadline },
		{ "late tick runs all, in order", test_late_tick_runs_all_in_order },
		{ "stop disarms everything", test_stop_disarms_everything },
	};

	return fg_cunit_run("wg_timers", tests, sizeof(tests) / sizeof(tests[0]));
}
