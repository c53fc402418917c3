// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/relay/ (the TURN client) against the scripted relay of
 * fake_turn.c on a fake clock: BINDING and the server-reflexive address (one address and
 * dual-stack, the first answer wins), ALLOCATE answered 401 then authenticated, forged and
 * unsigned answers ignored, REFRESH at lifetime / 2 (asking for it: coturn) and the
 * keepalive BINDING, the retransmission schedule (1, 2.5, 4.75, 8.125 s) and the give-up
 * at 10 s, 438, 401 after a nonce, 437 on REFRESH and on ALLOCATE (and while the relay
 * frees our deleted allocation late, as coturn), 440, the realm check, the portal's updates
 * (unchanged, new credentials, the probe of omitted relays, disconnected ids), "no relays"
 * and back, hostile datagrams, calls from callbacks, and no secret in the logs. Channels are
 * test_relay_chan.c's. The library is compiled in again with ASan and UBSan.
 * Single-threaded.
 */
#include "relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include "chandata.h"
#include "fake_turn.h"
#include "log.h"
#include "stun.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct env E;
static struct fake F, G;

static const char *const USER = "2145916800:q3JkSaltSaltSalt";
static const char *const PASS = "x9ZtPasswordPasswordPassword";

static void start_one(struct fake *f, const char *id)
{
	fake_start(&E, f, id);
}

static void up(struct fake *f, const char *id)
{
	fake_up(&E, f, id);
}

/* Up to the authenticated ALLOCATE, by hand; *m is that request (in d). */
static void to_authed_allocate(struct dgram *d, struct fg_stun_msg *m)
{
	struct fg_endpoint mapped = ep("203.0.113.9:47717");
	struct errattrs e401 = { 401, "firezone", "n0nce" };
	uint8_t u8;

	start_one(&F, "r1");
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, d, m));
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, m, FG_STUN_SUCCESS, answer_mapped, &mapped, NULL), 0);
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, d, m));
	CU_ASSERT_EQUAL(m->method, FG_STUN_ALLOCATE);
	CU_ASSERT_FALSE(fg_stun_has(m, FG_STUN_ATTR_USERNAME));
	CU_ASSERT_FALSE(fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY));
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, m, FG_STUN_ERROR, answer_error, &e401, NULL), 0);
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, d, m));
	CU_ASSERT_EQUAL(m->method, FG_STUN_ALLOCATE);
	CU_ASSERT_TRUE(stun_bytes_eq(m, FG_STUN_ATTR_USERNAME, USER));
	CU_ASSERT_TRUE(stun_bytes_eq(m, FG_STUN_ATTR_REALM, "firezone"));
	CU_ASSERT_TRUE(stun_bytes_eq(m, FG_STUN_ATTR_NONCE, "n0nce"));
	CU_ASSERT_TRUE(stun_bytes_eq(m, FG_STUN_ATTR_SOFTWARE, "snownet"));
	CU_ASSERT_EQUAL(fg_stun_check_integrity(m, &F.key), 0);
	CU_ASSERT_EQUAL(fg_stun_get_transport(m, &u8), 0);
	CU_ASSERT_EQUAL(u8, 17);
	CU_ASSERT_EQUAL(fg_stun_get_family(m, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8), 0);
	CU_ASSERT_EQUAL(u8, AF_INET6);
}

static void test_binding_srflx(void)
{
	const struct fg_relay_view *v;
	const struct ev_rec *ev;
	struct fg_endpoint mapped = ep("203.0.113.9:47717");
	struct fg_stun_msg m;
	struct dgram d;
	uint8_t u8;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	start_one(&F, "r1");
	CU_ASSERT_EQUAL(env_queued(&E, NULL), 1);
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, &d, &m));
	CU_ASSERT_EQUAL(m.method, FG_STUN_BINDING);
	CU_ASSERT_EQUAL(m.cls, FG_STUN_REQUEST);
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_USERNAME));
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY));
	CU_ASSERT_TRUE(stun_bytes_eq(&m, FG_STUN_ATTR_SOFTWARE, "snownet"));
	v = view_of(&E, "r1");
	CU_ASSERT_EQUAL_FATAL(v->state, FG_RELAY_BINDING);
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_mapped, &mapped, NULL), 0);
	ev = env_last_ev(&E, FG_RELAY_EV_CANDIDATES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_STRING_EQUAL(ev->ev.relay_id, "r1");
	CU_ASSERT_TRUE(fg_endpoint_equal(&ev->ev.srflx4, &mapped));
	CU_ASSERT_EQUAL(ev->ev.relayed4.ip.family, 0);
	/* ALLOCATE follows at once, unauthenticated, with the transport and the second family */
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, &d, &m));
	CU_ASSERT_EQUAL(m.method, FG_STUN_ALLOCATE);
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_USERNAME));
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_NONCE));
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY));
	CU_ASSERT_EQUAL(fg_stun_get_transport(&m, &u8), 0);
	CU_ASSERT_EQUAL(u8, FG_STUN_PROTO_UDP);
	CU_ASSERT_EQUAL(fg_stun_get_family(&m, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8), 0);
	CU_ASSERT_EQUAL(u8, AF_INET6);
	CU_ASSERT_TRUE(stun_bytes_eq(&m, FG_STUN_ATTR_SOFTWARE, "snownet"));
	v = view_of(&E, "r1");
	CU_ASSERT_EQUAL(v->state, FG_RELAY_ALLOCATING);
	CU_ASSERT_TRUE(fg_endpoint_equal(&v->active, &F.addr4));
	CU_ASSERT_TRUE(fg_endpoint_equal(&v->srflx4, &mapped));
	env_free(&E);
}

static void test_dual_stack_first_answer_wins(void)
{
	struct fg_endpoint m6 = ep("[2001:db8:9::9]:40000"), m4 = ep("203.0.113.9:47717");
	struct fg_stun_msg b4, b6, m;
	struct dgram d4, d6, d;
	const struct fg_relay_view *v;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", "[2001:db8::1]:3478", USER, PASS);
	start_one(&F, "r1");
	CU_ASSERT_EQUAL(env_queued(&E, &F.addr4), 1);
	CU_ASSERT_EQUAL(env_queued(&E, &F.addr6), 1);
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, &d4, &b4));
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr6, &d6, &b6));
	CU_ASSERT_NOT_EQUAL(memcmp(b4.txid, b6.txid, sizeof(b4.txid)), 0);
	/* the IPv6 address answers first: it is the one used */
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr6, &b6, FG_STUN_SUCCESS, answer_mapped, &m6, NULL), 0);
	CU_ASSERT_EQUAL(env_queued(&E, &F.addr6), 1);
	/* the IPv4 answer to the other BINDING, from the wrong address: not ours */
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr6, &b4, FG_STUN_SUCCESS, answer_mapped, &m4, NULL), 0);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_unknown_txid, 1);
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &b4, FG_STUN_SUCCESS, answer_mapped, &m4, NULL), 0);
	CU_ASSERT_EQUAL(env_queued(&E, &F.addr4), 0);
	CU_ASSERT_EQUAL(env_queued(&E, &F.addr6), 1);
	CU_ASSERT_TRUE(env_take(&E, &F.addr6, &d, &m));
	CU_ASSERT_EQUAL(m.method, FG_STUN_ALLOCATE);
	v = view_of(&E, "r1");
	CU_ASSERT_TRUE(fg_endpoint_equal(&v->active, &F.addr6));
	CU_ASSERT_TRUE(fg_endpoint_equal(&v->srflx4, &m4));
	CU_ASSERT_TRUE(fg_endpoint_equal(&v->srflx6, &m6));
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CANDIDATES), 2);
	env_free(&E);
}

static void test_allocate_401_then_authenticated(void)
{
	struct allocattrs a = { ep("198.51.100.5:49152"), ep("[2001:db8::5]:49153"), 600 };
	const struct fg_relay_view *v;
	const struct ev_rec *ev;
	struct fg_stun_msg m;
	struct dgram d;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	to_authed_allocate(&d, &m);
	CU_ASSERT_FALSE(fg_relay_has_allocation(E.s));
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_alloc, &a, &F.key), 0);
	v = view_of(&E, "r1");
	CU_ASSERT_EQUAL_FATAL(v->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_TRUE(fg_endpoint_equal(&v->relayed4, &a.r4));
	CU_ASSERT_TRUE(fg_endpoint_equal(&v->relayed6, &a.r6));
	CU_ASSERT_EQUAL(v->expires_ns, E.now + SEC(600));
	CU_ASSERT_EQUAL(v->refresh_ns, E.now + SEC(300));
	CU_ASSERT_TRUE(fg_relay_has_allocation(E.s));
	ev = env_last_ev(&E, FG_RELAY_EV_CANDIDATES);
	CU_ASSERT_TRUE(fg_endpoint_equal(&ev->ev.relayed4, &a.r4));
	CU_ASSERT_TRUE(fg_endpoint_equal(&ev->ev.relayed6, &a.r6));
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_RELAYS_BACK), 1);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_NO_RELAYS), 0);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->allocations, 1);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->reauths, 1);
	/* the whole exchange through the fake relay, which checks every request */
	env_free(&E);
	env_init(&E, NULL);
	up(&F, "r1");
	CU_ASSERT_EQUAL(F.n_allocate_unauth, 1);
	CU_ASSERT_EQUAL(F.n_allocate, 1);
	CU_ASSERT_EQUAL(env_queued(&E, NULL), 0);
	env_free(&E);
}

static void test_forged_answers_ignored(void)
{
	struct allocattrs a = { ep("198.51.100.5:49152"), { { 0 }, 0 }, 600 };
	struct errattrs e437 = { 437, NULL, NULL };
	struct fg_stun_key wrong;
	struct fg_stun_msg m, other;
	struct dgram d;
	uint8_t txid[FG_STUN_TXID_LEN];

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	to_authed_allocate(&d, &m);
	CU_ASSERT_EQUAL(fg_stun_key_long_term(&wrong, USER, "firezone", "guessed"), 0);
	/* signed with another key */
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_alloc, &a, &wrong), 0);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_bad_integrity, 1);
	/* unsigned success, unsigned 437 */
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_alloc, &a, NULL), 0);
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_ERROR, answer_error, &e437, NULL), 0);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_unsigned, 2);
	/* the right key, another transaction id */
	other = m;
	memcpy(txid, m.txid, sizeof(txid));
	other.txid[0] ^= 0xFF;
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &other, FG_STUN_SUCCESS, answer_alloc, &a, &F.key), 0);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_unknown_txid, 1);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATING);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_RELAYS_BACK), 0);
	/* the real one is still awaited */
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_alloc, &a, &F.key), 0);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);
	/* a replay of it changes nothing */
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_alloc, &a, &F.key), 0);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_unknown_txid, 2);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->allocations, 1);
	fg_stun_key_wipe(&wrong);
	env_free(&E);
}

static void test_refresh_at_half_lifetime(void)
{
	struct fake *fakes[] = { &F, NULL };
	uint64_t t1;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	F.lifetime = 100;
	up(&F, "r1");
	t1 = E.now;
	CU_ASSERT_EQUAL(fg_relay_next_timeout(E.s), t1 + SEC(25));   /* the keepalive BINDING */
	env_run(&E, t1 + SEC(49), fakes);
	CU_ASSERT_EQUAL(F.n_refresh, 0);
	CU_ASSERT_EQUAL(F.n_binding, 2);
	env_run(&E, t1 + SEC(50), fakes);
	CU_ASSERT_EQUAL(F.n_refresh, 1);
	CU_ASSERT_EQUAL(F.last_refresh_at, t1 + SEC(50));
	CU_ASSERT_EQUAL(view_of(&E, "r1")->expires_ns, t1 + SEC(150));
	env_run(&E, t1 + SEC(100), fakes);
	CU_ASSERT_EQUAL(F.n_refresh, 2);
	CU_ASSERT_EQUAL(F.last_refresh_at, t1 + SEC(100));
	CU_ASSERT_EQUAL(F.n_binding, 1 + 4);   /* keepalives at 25, 50, 75, 100 s */
	CU_ASSERT_EQUAL(F.n_allocate, 1);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_ALLOCATION_LOST), 0);
	CU_ASSERT_FALSE(F.bad);
	env_free(&E);
}

/*
 * coturn 4.6 (found by tests/e2e/test_turn_coturn.sh): max-allocate-lifetime caps ALLOCATE
 * and a requested LIFETIME, but a REFRESH without LIFETIME gets 600 s. REFRESH asks for
 * 600 s by name, so every refresh keeps the relay's cap and comes at half of it.
 */
static void test_refresh_asks_lifetime(void)
{
	struct fake *fakes[] = { &F, NULL };
	uint64_t t1;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	F.lifetime = 16;
	F.coturn_lifetime = true;
	up(&F, "r1");
	t1 = E.now;
	CU_ASSERT_EQUAL(view_of(&E, "r1")->expires_ns, t1 + SEC(16));
	env_run(&E, t1 + SEC(8), fakes);
	CU_ASSERT_EQUAL(F.n_refresh, 1);
	CU_ASSERT_EQUAL(F.last_refresh_lifetime, FG_RELAY_DEFAULT_LIFETIME_S);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->expires_ns, t1 + SEC(8 + 16));
	env_run(&E, t1 + SEC(16), fakes);
	CU_ASSERT_EQUAL(F.n_refresh, 2);
	CU_ASSERT_EQUAL(F.last_refresh_at, t1 + SEC(16));
	CU_ASSERT_EQUAL(view_of(&E, "r1")->expires_ns, t1 + SEC(32));
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_ALLOCATION_LOST), 0);
	CU_ASSERT_FALSE(F.bad);
	env_free(&E);
}

static void test_retransmit_schedule(void)
{
	static const uint64_t want[] = { 0, MSEC(1000), MSEC(2500), MSEC(4750), MSEC(8125) };

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	start_one(&F, "r1");
	env_run(&E, T0 + MSEC(9999), NULL);
	CU_ASSERT_EQUAL_FATAL(E.nout, ARRAY_LEN(want));
	for (unsigned i = 0; i < ARRAY_LEN(want); i++) {
		CU_ASSERT_EQUAL(E.out[i].at, T0 + want[i]);
		CU_ASSERT_EQUAL(E.out[i].len, E.out[0].len);
		CU_ASSERT_EQUAL(memcmp(E.out[i].buf, E.out[0].buf, E.out[0].len), 0);  /* same txid */
	}
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_BINDING);
	CU_ASSERT_EQUAL(fg_relay_next_timeout(E.s), T0 + SEC(10));
	env_run(&E, T0 + SEC(10), NULL);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_FAILED);
	CU_ASSERT_STRING_EQUAL(view_of(&E, "r1")->failure, "no answer to BINDING");
	CU_ASSERT_EQUAL(E.nout, ARRAY_LEN(want));
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->tx_retransmits, 4);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->tx_timeouts, 1);
	CU_ASSERT_EQUAL(fg_relay_next_timeout(E.s), UINT64_MAX);
	/* never had an allocation: nothing to announce */
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_NO_RELAYS), 0);
	env_free(&E);
}

static void test_refresh_timeout_loses_allocation(void)
{
	struct fake *fakes[] = { &F, NULL };
	const struct ev_rec *lost, *none;
	uint64_t t1;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	up(&F, "r1");
	t1 = E.now;
	env_run(&E, t1 + SEC(299), fakes);
	F.silent = true;
	env_run(&E, t1 + SEC(309), fakes);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_ALLOCATION_LOST), 0);
	env_run(&E, t1 + SEC(311), fakes);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_FAILED);
	lost = env_last_ev(&E, FG_RELAY_EV_ALLOCATION_LOST);
	none = env_last_ev(&E, FG_RELAY_EV_NO_RELAYS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lost);
	CU_ASSERT_PTR_NOT_NULL_FATAL(none);
	CU_ASSERT_EQUAL(lost->at, t1 + SEC(310));
	CU_ASSERT_EQUAL(lost->ev.relayed4.port, 49152);
	CU_ASSERT_TRUE(lost < none);
	CU_ASSERT_FALSE(fg_relay_has_allocation(E.s));
	env_free(&E);
}

static void test_438_reauthenticates(void)
{
	struct fake *fakes[] = { &F, NULL };
	uint64_t t1;

	for (int sign = 0; sign < 2; sign++) {
		env_init(&E, NULL);
		fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
		F.sign_challenges = sign;
		up(&F, "r1");
		t1 = E.now;
		fake_script_error(&F, FG_STUN_REFRESH, 438, sign, true);
		env_run(&E, t1 + SEC(301), fakes);
		CU_ASSERT_EQUAL(F.n_refresh, 1);
		CU_ASSERT_EQUAL(fg_relay_counters(E.s)->reauths, 2);
		CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);
		CU_ASSERT_EQUAL(view_of(&E, "r1")->expires_ns, t1 + SEC(900));
		CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_ALLOCATION_LOST), 0);
		CU_ASSERT_FALSE(F.bad);
		env_free(&E);
	}
}

static void test_401_after_nonce_frees(void)
{
	struct fake *fakes[] = { &F, NULL };
	unsigned queued;

	for (int sign = 0; sign < 2; sign++) {
		env_init(&E, NULL);
		fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
		up(&F, "r1");
		fake_script_error(&F, FG_STUN_REFRESH, 401, sign, true);
		env_run(&E, E.now + SEC(300), fakes);
		CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_FAILED);
		CU_ASSERT_STRING_EQUAL(view_of(&E, "r1")->failure, "credentials refused (401)");
		CU_ASSERT_EQUAL(fg_relay_counters(E.s)->auth_failures, 1);
		CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_ALLOCATION_LOST), 1);
		CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_NO_RELAYS), 1);
		queued = F.n_refresh + F.n_allocate;
		env_run(&E, E.now + SEC(60), fakes);
		CU_ASSERT_EQUAL(F.n_refresh + F.n_allocate, queued);   /* no retry */
		env_free(&E);
	}
	/* a wrong password from the start: coturn's unsigned 401 to the authenticated ALLOCATE */
	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	{
		struct fg_relay_info in = fake_info(&F, "r1");

		snprintf(in.password, sizeof(in.password), "wrong");
		CU_ASSERT_EQUAL(fg_relay_update(E.s, &in, 1, true, E.now), 0);
		memset(in.password, 0, sizeof(in.password));
	}
	fake_serve(&E, &F);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_FAILED);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->auth_failures, 1);
	CU_ASSERT_EQUAL(F.n_allocate_unauth, 1);
	CU_ASSERT_EQUAL(env_queued(&E, NULL), 0);
	env_free(&E);
}

static void test_437_reallocates(void)
{
	struct fake *fakes[] = { &F, NULL };
	const struct ev_rec *lost, *cand;
	uint64_t t1;

	/* the relay restarted: REFRESH meets 438 (its new nonce), then 437 */
	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	up(&F, "r1");
	t1 = E.now;
	env_clear_ev(&E);
	F.allocated = false;
	snprintf(F.nonce, sizeof(F.nonce), "after-restart");
	env_run(&E, t1 + SEC(300), fakes);
	lost = env_last_ev(&E, FG_RELAY_EV_ALLOCATION_LOST);
	cand = env_last_ev(&E, FG_RELAY_EV_CANDIDATES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lost);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cand);
	CU_ASSERT_TRUE(lost < cand);
	CU_ASSERT_EQUAL(lost->ev.relayed4.port, 49152);
	CU_ASSERT_EQUAL(cand->ev.relayed4.port, 49153);   /* a new relayed port */
	CU_ASSERT_EQUAL(F.n_allocate, 2);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_NO_RELAYS), 0);
	CU_ASSERT_FALSE(F.bad);
	env_free(&E);

	/* the relay still holds an allocation of ours: 437 to ALLOCATE, REFRESH 0, ALLOCATE */
	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	F.allocated = true;
	up(&F, "r1");
	CU_ASSERT_EQUAL(F.n_delete, 1);
	CU_ASSERT_EQUAL(F.n_allocate, 2);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_RELAYS_BACK), 1);
	CU_ASSERT_FALSE(F.bad);
	env_free(&E);
}

static void test_440_and_unspecified_family(void)
{
	struct errattrs e440 = { 440, NULL, NULL };
	/* coturn's answer for a family it could not allocate: an unspecified address */
	struct allocattrs a = { ep("198.51.100.5:49152"), ep("[::]:1"), 600 };
	const struct fg_relay_view *v;
	struct fg_endpoint peer6;
	struct fg_stun_msg m;
	struct dgram d;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	to_authed_allocate(&d, &m);
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_ERROR, answer_error, &e440, &F.key), 0);
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, &d, &m));
	CU_ASSERT_EQUAL(m.method, FG_STUN_ALLOCATE);
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY));
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &F.key), 0);
	a.r6.port = 0;
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_alloc, &a, &F.key), 0);
	v = view_of(&E, "r1");
	CU_ASSERT_EQUAL(v->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_EQUAL(v->relayed6.ip.family, 0);
	peer6 = ep("[2001:db8::77]:5000");
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &peer6, E.now), -EAFNOSUPPORT);
	env_free(&E);
}

static void test_realm_mismatch(void)
{
	struct errattrs e401 = { 401, "elsewhere", "n" };
	struct fg_endpoint mapped = ep("203.0.113.9:47717");
	struct fg_stun_msg m;
	struct dgram d;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	start_one(&F, "r1");
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, &d, &m));
	env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_mapped, &mapped, NULL);
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, &d, &m));
	env_answer(&E, &F.addr4, &m, FG_STUN_ERROR, answer_error, &e401, NULL);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_FAILED);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->auth_failures, 1);
	CU_ASSERT_EQUAL(env_queued(&E, NULL), 0);
	env_free(&E);
}

static void test_config_realm(void)
{
	struct fg_relay_config cfg = { .realm = "test.local", .software = NULL };
	struct fg_relay_ops ops = { 0 };

	CU_ASSERT_PTR_NULL(fg_relay_set_new(&ops, NULL, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	env_init(&E, &cfg);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	snprintf(F.realm, sizeof(F.realm), "test.local");
	fake_set_password(&F, USER, PASS);
	/* a relay set up as coturn in TESTBED.md §4, with its own realm */
	up(&F, "r1");
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->auth_failures, 0);
	env_free(&E);
}


static void test_presence_credentials_changed(void)
{
	struct fg_stun_key old;
	struct fg_relay_info in;
	struct fg_stun_msg m;
	struct dgram d;
	struct allocattrs zero = { { { 0 }, 0 }, { { 0 }, 0 }, 0 };
	uint32_t lifetime = 1;
	const struct ev_rec *cand;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	up(&F, "r1");
	in = fake_info(&F, "r1");
	/* unchanged: skipped */
	env_clear_ev(&E);
	CU_ASSERT_EQUAL(fg_relay_update(E.s, &in, 1, false, E.now), 0);
	CU_ASSERT_EQUAL(env_queued(&E, NULL), 0);
	CU_ASSERT_EQUAL(E.nev, 0);
	/* new password: the old allocation is dropped at once, with the old key */
	snprintf(in.password, sizeof(in.password), "a-new-password");
	CU_ASSERT_EQUAL(fg_relay_update(E.s, &in, 1, false, E.now), 0);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_ALLOCATION_LOST), 1);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_DELETING);
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, &d, &m));
	CU_ASSERT_EQUAL(m.method, FG_STUN_REFRESH);
	CU_ASSERT_EQUAL(fg_stun_get_u32(&m, FG_STUN_ATTR_LIFETIME, &lifetime), 0);
	CU_ASSERT_EQUAL(lifetime, 0);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &F.key), 0);
	old = F.key;
	fake_set_password(&F, USER, "a-new-password");
	F.allocated = false;
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_alloc, &zero, &old), 0);
	/* then from scratch with the new credentials */
	fake_serve(&E, &F);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_EQUAL(F.n_allocate_unauth, 2);
	CU_ASSERT_EQUAL(F.n_allocate, 2);
	cand = env_last_ev(&E, FG_RELAY_EV_CANDIDATES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cand);
	CU_ASSERT_EQUAL(cand->ev.relayed4.port, 49153);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_NO_RELAYS), 0);
	/* the same again: skipped */
	CU_ASSERT_EQUAL(fg_relay_update(E.s, &in, 1, false, E.now), 0);
	CU_ASSERT_EQUAL(env_queued(&E, NULL), 0);
	CU_ASSERT_FALSE(F.bad);
	memset(&in, 0, sizeof(in));
	fg_stun_key_wipe(&old);
	env_free(&E);
}

/*
 * coturn (found by tests/e2e/test_turn_coturn.sh) answers our DELETE at once but frees the
 * allocation only at its next one-second timer: the ALLOCATE with the new credentials meets
 * 437 until then, and a DELETE with them meets 441 (unsigned). The client asks again later
 * instead, and gives up when the relay holds on past the request's 10 s.
 */
static void test_new_credentials_deleted_late(void)
{
	struct fake *fakes[] = { &F, NULL };
	struct allocattrs zero = { { { 0 }, 0 }, { { 0 }, 0 }, 0 };
	struct fg_relay_info in;
	struct fg_stun_msg m;
	struct dgram d;
	uint64_t t1;

	for (int frees = 1; frees >= 0; frees--) {
		env_init(&E, NULL);
		fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
		F.coturn_session = true;
		up(&F, "r1");
		in = fake_info(&F, "r1");
		snprintf(in.username, sizeof(in.username), "2145916801:another");
		snprintf(in.password, sizeof(in.password), "a-new-password");
		CU_ASSERT_EQUAL(fg_relay_update(E.s, &in, 1, false, E.now), 0);
		CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, &d, &m));
		CU_ASSERT_EQUAL(m.method, FG_STUN_REFRESH);
		CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, answer_alloc, &zero, &F.key), 0);
		fake_set_password(&F, in.username, in.password);
		fake_serve(&E, &F);   /* BINDING, ALLOCATE, 401, ALLOCATE: 437 */
		t1 = E.now;
		CU_ASSERT_EQUAL(F.n_allocate, 2);
		CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATING);
		CU_ASSERT_EQUAL(env_queued(&E, NULL), 0);
		if (frees)
			F.allocated = false;   /* coturn's timer */
		env_run(&E, t1 + SEC(1), fakes);
		CU_ASSERT_EQUAL(F.n_wrong_user, 0);
		CU_ASSERT_EQUAL(F.n_delete, 0);
		CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_unsigned, 0);
		if (frees) {
			CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);
			CU_ASSERT_EQUAL(view_of(&E, "r1")->relayed4.port, 49153);
			CU_ASSERT_EQUAL(F.n_allocate, 3);
			CU_ASSERT_STRING_EQUAL(F.alloc_user, in.username);
		} else {
			env_run(&E, t1 + SEC(10), fakes);
			CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_FAILED);
			CU_ASSERT_STRING_EQUAL(view_of(&E, "r1")->failure,
					       "the relay does not free our deleted allocation (437)");
			CU_ASSERT_EQUAL(F.n_wrong_user, 0);
		}
		CU_ASSERT_FALSE(F.bad);
		memset(&in, 0, sizeof(in));
		env_free(&E);
	}
}

static void test_presence_probe_and_removal(void)
{
	struct fake *fakes[] = { &F, &G, NULL };
	struct fg_relay_info both[2];
	const char *ids[] = { "r2" };
	const struct ev_rec *removed;
	uint8_t junk[4] = { 1, 2, 3, 4 };
	uint64_t t;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	fake_init(&G, "192.0.2.2:3478", NULL, USER, PASS);
	both[0] = fake_info(&F, "r1");
	both[1] = fake_info(&G, "r2");
	CU_ASSERT_EQUAL(fg_relay_update(E.s, both, 2, true, E.now), 0);
	fake_serve(&E, &F);
	fake_serve(&E, &G);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_EQUAL(view_of(&E, "r2")->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_RELAYS_BACK), 1);

	/* r1 omitted: probed with REFRESH, kept when it answers */
	CU_ASSERT_EQUAL(fg_relay_update(E.s, &both[1], 1, false, E.now), 0);
	CU_ASSERT_TRUE(view_of(&E, "r1")->probing);
	CU_ASSERT_EQUAL(env_queued(&E, &F.addr4), 1);
	CU_ASSERT_EQUAL(env_queued(&E, &G.addr4), 0);
	fake_serve(&E, &F);
	CU_ASSERT_EQUAL(F.n_refresh, 1);
	CU_ASSERT_FALSE(view_of(&E, "r1")->probing);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);

	/* omitted again, and silent: removed when the probe times out */
	CU_ASSERT_EQUAL(fg_relay_update(E.s, &both[1], 1, false, E.now), 0);
	F.silent = true;
	t = E.now;
	env_run(&E, t + SEC(9), fakes);
	CU_ASSERT_PTR_NOT_NULL(view_of(&E, "r1"));
	env_run(&E, t + SEC(10), fakes);
	CU_ASSERT_PTR_NULL(view_of(&E, "r1"));
	removed = env_last_ev(&E, FG_RELAY_EV_REMOVED);
	CU_ASSERT_PTR_NOT_NULL_FATAL(removed);
	CU_ASSERT_STRING_EQUAL(removed->ev.relay_id, "r1");
	CU_ASSERT_EQUAL(removed->at, t + SEC(10));
	CU_ASSERT_STRING_EQUAL(env_last_ev(&E, FG_RELAY_EV_ALLOCATION_LOST)->ev.relay_id, "r1");
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_NO_RELAYS), 0);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->relays_removed, 1);
	/* its stray packets are still known as a relay's */
	CU_ASSERT_EQUAL(fg_relay_input(E.s, &F.addr4, junk, sizeof(junk), E.now), 0);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_former_relay, 1);
	CU_ASSERT_TRUE(fg_relay_is_relay_ip(E.s, &F.addr4.ip));

	/* disconnected: removed at once; it was the last one */
	CU_ASSERT_EQUAL(fg_relay_remove(E.s, ids, 1, E.now), 0);
	CU_ASSERT_PTR_NULL(view_of(&E, "r2"));
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_NO_RELAYS), 1);
	CU_ASSERT_FALSE(fg_relay_has_allocation(E.s));
	CU_ASSERT_EQUAL(env_queued(&E, &G.addr4), 0);
	CU_ASSERT_EQUAL(fg_relay_next_timeout(E.s), UINT64_MAX);

	/* back: the relay still holds the allocation we never deleted (437, REFRESH 0, again) */
	env_clear_ev(&E);
	up(&G, "r2");
	CU_ASSERT_EQUAL(G.n_delete, 1);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_RELAYS_BACK), 1);
	CU_ASSERT_TRUE(fg_relay_has_allocation(E.s));

	/* a relay that failed and is omitted goes at once */
	G.silent = true;
	env_run(&E, E.now + SEC(40), fakes);   /* the keepalive at 25 s is not answered */
	CU_ASSERT_EQUAL(view_of(&E, "r2")->state, FG_RELAY_FAILED);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_NO_RELAYS), 1);
	CU_ASSERT_EQUAL(fg_relay_update(E.s, NULL, 0, true, E.now), 0);
	CU_ASSERT_PTR_NULL(view_of(&E, "r2"));
	CU_ASSERT_FALSE(F.bad);
	CU_ASSERT_FALSE(G.bad);
	env_free(&E);
}

static void test_update_validation(void)
{
	struct fg_relay_info in[FG_RELAY_MAX + 2];

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	for (unsigned i = 0; i < ARRAY_LEN(in); i++) {
		char id[16];

		snprintf(id, sizeof(id), "r%u", i);
		in[i] = fake_info(&F, id);
		in[i].addr4.ip.addr[3] = (uint8_t)(10 + i);
	}
	in[0].id[0] = '\0';
	in[1].password[0] = '\0';
	CU_ASSERT_EQUAL(fg_relay_update(E.s, in, 2, true, E.now), -EINVAL);
	CU_ASSERT_EQUAL(env_queued(&E, NULL), 0);
	CU_ASSERT_EQUAL(fg_relay_update(E.s, in + 2, FG_RELAY_MAX, true, E.now), 0);
	CU_ASSERT_EQUAL(env_queued(&E, NULL), FG_RELAY_MAX);
	in[1] = fake_info(&F, "one-too-many");
	in[1].addr4.ip.addr[3] = 200;
	CU_ASSERT_EQUAL(fg_relay_update(E.s, in + 1, FG_RELAY_MAX + 1, true, E.now), -ENOSPC);
	CU_ASSERT_PTR_NULL(view_of(&E, "one-too-many"));
	env_free(&E);
}

static int build_msg(uint8_t *buf, size_t cap, uint16_t method, enum fg_stun_class cls,
		     uint16_t extra_type)
{
	static const uint8_t txid[FG_STUN_TXID_LEN] = { 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 };
	struct fg_endpoint mapped = ep("203.0.113.9:47717");
	struct fg_stun_builder b;

	fg_stun_build_start(&b, buf, cap, method, cls, txid);
	fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped);
	if (extra_type)
		fg_stun_add_bytes(&b, extra_type, "abcd", 4);
	return fg_stun_build_finish(&b);
}

static uint64_t rx_dropped(void)
{
	const struct fg_relay_counters *c = fg_relay_counters(E.s);

	return c->rx_not_stun + c->rx_malformed + c->rx_unknown_attr + c->rx_not_response +
	       c->rx_unknown_txid + c->rx_bad_integrity + c->rx_unsigned;
}

static void feed(const uint8_t *buf, size_t len, unsigned *fed)
{
	CU_ASSERT_EQUAL(fg_relay_input(E.s, &F.addr4, buf, len, E.now), 0);
	(*fed)++;
}

static void test_hostile_datagrams(void)
{
	struct fg_endpoint elsewhere = ep("192.0.2.1:3479"), stranger = ep("192.0.2.99:3478");
	uint8_t buf[256];
	unsigned fed = 0;
	int n;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	up(&F, "r1");
	env_clear_ev(&E);
	feed(buf, 0, &fed);
	buf[0] = 0xFF;
	feed(buf, 1, &fed);
	n = fg_chandata_write(buf, sizeof(buf), 0x4000, "data", 4, false);
	feed(buf, (size_t)n, &fed);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_not_stun, 3);
	/* a well-formed answer nobody asked for, cut short, with a lying length */
	n = build_msg(buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_SUCCESS, 0);
	feed(buf, (size_t)n, &fed);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_unknown_txid, 1);
	feed(buf, 19, &fed);
	feed(buf, (size_t)n - 4, &fed);
	buf[3] ^= 0x40;
	feed(buf, (size_t)n, &fed);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_malformed, 3);
	/* requests and indications from a relay */
	n = build_msg(buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_REQUEST, 0);
	feed(buf, (size_t)n, &fed);
	n = build_msg(buf, sizeof(buf), FG_STUN_DATA, FG_STUN_INDICATION, 0);
	feed(buf, (size_t)n, &fed);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_not_response, 2);
	/* an unknown comprehension-required attribute */
	n = build_msg(buf, sizeof(buf), FG_STUN_ALLOCATE, FG_STUN_SUCCESS, 0x7777);
	feed(buf, (size_t)n, &fed);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->rx_unknown_attr, 1);
	/* random bytes, half of them starting like STUN */
	srand(7);
	for (unsigned i = 0; i < 4000; i++) {
		size_t len = (size_t)(rand() % (int)sizeof(buf));

		for (size_t k = 0; k < len; k++)
			buf[k] = (uint8_t)rand();
		if (len && i % 2)
			buf[0] &= 0x03;
		if (len >= 8 && i % 4 == 1) {     /* with the magic cookie, the length right */
			buf[2] = (uint8_t)((len - 20) >> 8);
			buf[3] = (uint8_t)((len - 20) & 0xFC);
			memcpy(buf + 4, "\x21\x12\xA4\x42", 4);
		}
		feed(buf, len, &fed);
	}
	CU_ASSERT_EQUAL(rx_dropped(), fed);
	/* not from a relay at all */
	CU_ASSERT_EQUAL(fg_relay_input(E.s, &elsewhere, buf, 20, E.now), -ENOENT);
	CU_ASSERT_EQUAL(fg_relay_input(E.s, &stranger, buf, 20, E.now), -ENOENT);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_EQUAL(E.nev, 0);
	CU_ASSERT_EQUAL(env_queued(&E, NULL), 0);
	env_free(&E);
}

static void test_calls_from_callbacks_refused(void)
{
	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	E.reenter = true;
	up(&F, "r1");
	CU_ASSERT_EQUAL(E.reenter_rc, -EBUSY);
	CU_ASSERT_TRUE(fg_relay_counters(E.s)->reentered > 0);
	CU_ASSERT_TRUE(fg_relay_has_allocation(E.s));
	env_free(&E);
}

static void test_no_secret_in_logs(void)
{
	char path[] = "/tmp/fg_relay_logXXXXXX";
	struct fake *fakes[] = { &F, NULL };
	struct fg_relay_info in;
	char text[65536];
	ssize_t n;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	fg_log_set_fd(fd);
	fg_log_set_level(FG_LOG_DEBUG);
	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	up(&F, "r1");
	in = fake_info(&F, "r1");
	snprintf(in.password, sizeof(in.password), "second-secret");
	fg_relay_update(E.s, &in, 1, false, E.now);      /* the fake refuses it: 401 */
	memset(&in, 0, sizeof(in));
	env_run(&E, E.now + SEC(30), fakes);
	fg_relay_remove(E.s, (const char *const[]){ "r1" }, 1, E.now);
	env_free(&E);
	fg_log_set_fd(2);
	fg_log_set_level(FG_LOG_WARN);
	n = pread(fd, text, sizeof(text) - 1, 0);
	close(fd);
	unlink(path);
	CU_ASSERT_FATAL(n > 0);
	text[n] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "allocated"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "credentials refused"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, " WARN relay: relay r1 went away"));
	CU_ASSERT_PTR_NULL(strstr(text, PASS));
	CU_ASSERT_PTR_NULL(strstr(text, "second-secret"));
	CU_ASSERT_PTR_NULL(strstr(text, "ERROR"));
}

static void test_names(void)
{
	for (unsigned i = 0; i < FG_RELAY_N_COUNTERS; i++)
		CU_ASSERT_PTR_NOT_NULL(fg_relay_counter_names[i]);
	CU_ASSERT_STRING_EQUAL(fg_relay_counter_names[0], "rx_not_stun");
	CU_ASSERT_STRING_EQUAL(fg_relay_state_name(FG_RELAY_ALLOCATED), "allocated");
	CU_ASSERT_STRING_EQUAL(fg_relay_channel_state_name(FG_RELAY_CHAN_EXPIRED), "expired");
	fg_relay_set_free(NULL);
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "binding gives srflx, then ALLOCATE", test_binding_srflx },
		{ "dual-stack: the first answer wins", test_dual_stack_first_answer_wins },
		{ "ALLOCATE: 401, then authenticated", test_allocate_401_then_authenticated },
		{ "forged and unsigned answers ignored", test_forged_answers_ignored },
		{ "REFRESH at lifetime/2, keepalive", test_refresh_at_half_lifetime },
		{ "REFRESH asks for its lifetime (coturn)", test_refresh_asks_lifetime },
		{ "retransmit 1 s x1.5, give up at 10 s", test_retransmit_schedule },
		{ "REFRESH timeout loses the allocation", test_refresh_timeout_loses_allocation },
		{ "438 re-authenticates", test_438_reauthenticates },
		{ "401 after a nonce frees", test_401_after_nonce_frees },
		{ "437 re-allocates", test_437_reallocates },
		{ "440 and an unspecified family", test_440_and_unspecified_family },
		{ "realm mismatch refused", test_realm_mismatch },
		{ "configured realm", test_config_realm },
		{ "presence: credentials changed", test_presence_credentials_changed },
		{ "new credentials: deleted late (coturn)", test_new_credentials_deleted_late },
		{ "presence: probe, removal, no relays", test_presence_probe_and_removal },
		{ "update validation and limits", test_update_validation },
		{ "hostile datagrams ignored, counted", test_hostile_datagrams },
		{ "calls from callbacks refused", test_calls_from_callbacks_refused },
		{ "no secret in the logs", test_no_secret_in_logs },
		{ "names", test_names },
	};

	fg_log_set_level(FG_LOG_WARN);
	return fg_cunit_run("relay", tests, ARRAY_LEN(tests));
}
