// SPDX-License-Identifier: MIT
/*
 * CUnit suite for the channels of controlplane/relay/ against the scripted relay of
 * fake_turn.c on a fake clock: CHANNEL-BIND per peer (its attributes, the number kept for
 * the peer), ChannelData out and in (both families, unbound and malformed ones counted), the
 * refresh at 5 min only for channels that carried data, expiry at 10 min, and the rule that
 * a number serves another peer only 15 min after its last binding (all 4096 taken). The
 * library is compiled in again with ASan and UBSan. Single-threaded.
 */
#include "relay.h"

#include <errno.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include "chandata.h"
#include "fake_turn.h"
#include "log.h"
#include "stun.h"

static struct env E;
static struct fake F;

static const char *const USER = "2145916800:q3JkSaltSaltSalt";
static const char *const PASS = "x9ZtPasswordPasswordPassword";

static void up(struct fake *f, const char *id)
{
	fake_up(&E, f, id);
}

static void test_channels(void)
{
	struct fake *fakes[] = { &F, NULL };
	struct fg_endpoint p1 = ep("198.51.100.77:5000"), p2 = ep("198.51.100.78:5000");
	struct fg_endpoint p6 = ep("[2001:db8::77]:5000"), to, bad = ep("198.51.100.79:1");
	const struct fg_relay_view *v;
	const struct ev_rec *ev;
	struct fg_relay_rx rx;
	struct fg_stun_msg m;
	struct dgram d;
	uint8_t buf[64], in[64];
	uint16_t ch;
	uint64_t tb;
	int n;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", "[2001:db8::1]:3478", USER, PASS);
	up(&F, "r1");
	tb = E.now;
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &p1, E.now), 0x4000);
	CU_ASSERT_TRUE_FATAL(env_take(&E, &F.addr4, &d, &m));
	CU_ASSERT_EQUAL(m.method, FG_STUN_CHANNEL_BIND);
	CU_ASSERT_EQUAL(fg_stun_get_channel(&m, &ch), 0);
	CU_ASSERT_EQUAL(ch, 0x4000);
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_PEER_ADDRESS, 0, &to), 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&to, &p1));
	CU_ASSERT_TRUE(stun_bytes_eq(&m, FG_STUN_ATTR_USERNAME, USER));
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &F.key), 0);
	/* sent optimistically while the bind is in flight */
	CU_ASSERT_EQUAL(fg_relay_wrap(E.s, "r1", &p1, "x", 1, buf, sizeof(buf), &to, E.now), 5);
	CU_ASSERT_EQUAL(env_answer(&E, &F.addr4, &m, FG_STUN_SUCCESS, NULL, NULL, &F.key), 0);
	ev = env_last_ev(&E, FG_RELAY_EV_CHANNEL_BOUND);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_EQUAL(ev->ev.channel, 0x4000);
	CU_ASSERT_TRUE(fg_endpoint_equal(&ev->ev.peer, &p1));
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &p1, E.now), 0x4000);
	CU_ASSERT_EQUAL(env_queued(&E, NULL), 0);
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &p2, E.now), 0x4001);
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &p6, E.now), 0x4002);
	fake_serve(&E, &F);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CHANNEL_BOUND), 3);
	CU_ASSERT_EQUAL(F.n_chanbind, 2);
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "nope", &p1, E.now), -ENOENT);
	bad.port = 0;
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &bad, E.now), -EINVAL);
	v = view_of(&E, "r1");
	CU_ASSERT_EQUAL(v->channels_bound, 3);

	/* ChannelData out and in */
	n = fg_relay_wrap(E.s, "r1", &p1, "hello", 5, buf, sizeof(buf), &to, E.now);
	CU_ASSERT_EQUAL(n, 9);
	CU_ASSERT_EQUAL(memcmp(buf, "\x40\x00\x00\x05hello", 9), 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&to, &F.addr4));
	CU_ASSERT_EQUAL(fg_relay_wrap(E.s, "r1", &bad, "hello", 5, buf, sizeof(buf), &to, E.now), -ENOTCONN);
	CU_ASSERT_EQUAL(fg_relay_wrap(E.s, "r1", &p1, "hello", 5, buf, 6, &to, E.now), -ENOBUFS);
	n = fg_chandata_write(in, sizeof(in), 0x4000, "pong", 4, false);
	CU_ASSERT_EQUAL(fg_relay_unwrap(E.s, &F.addr4, in, (size_t)n, E.now, &rx), 0);
	CU_ASSERT_STRING_EQUAL(rx.relay_id, "r1");
	CU_ASSERT_TRUE(fg_endpoint_equal(&rx.peer, &p1));
	CU_ASSERT_TRUE(fg_endpoint_equal(&rx.relayed, &v->relayed4));
	CU_ASSERT_EQUAL(rx.channel, 0x4000);
	CU_ASSERT_EQUAL(rx.len, 4);
	CU_ASSERT_EQUAL(memcmp(rx.data, "pong", 4), 0);
	n = fg_chandata_write(in, sizeof(in), 0x4002, "pong6", 5, false);
	CU_ASSERT_EQUAL(fg_relay_unwrap(E.s, &F.addr4, in, (size_t)n, E.now, &rx), 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&rx.relayed, &v->relayed6));
	n = fg_chandata_write(in, sizeof(in), 0x4005, "x", 1, false);
	CU_ASSERT_EQUAL(fg_relay_unwrap(E.s, &F.addr4, in, (size_t)n, E.now, &rx), -ENOTCONN);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->chan_rx_unbound, 1);
	CU_ASSERT_EQUAL(fg_relay_unwrap(E.s, &F.addr4, in, 3, E.now, &rx), -EBADMSG);
	CU_ASSERT_EQUAL(fg_relay_counters(E.s)->chan_rx_bad, 1);
	CU_ASSERT_EQUAL(fg_relay_unwrap(E.s, &p1, in, (size_t)n, E.now, &rx), -ENOENT);

	/* 0x4000 and 0x4002 had data: refreshed at 5 min; 0x4001 did not: gone at 10 min */
	env_run(&E, tb + SEC(299), fakes);
	CU_ASSERT_EQUAL(F.n_chanbind, 2);      /* the first bind was answered by hand */
	env_run(&E, tb + SEC(300), fakes);
	CU_ASSERT_EQUAL(F.n_chanbind, 4);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CHANNEL_UNBOUND), 0);
	env_run(&E, tb + SEC(600), fakes);
	ev = env_last_ev(&E, FG_RELAY_EV_CHANNEL_UNBOUND);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_EQUAL(ev->ev.channel, 0x4001);
	CU_ASSERT_EQUAL(ev->at, tb + SEC(600));
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CHANNEL_UNBOUND), 1);
	/* reported by the data plane instead of unwrap */
	CU_ASSERT_EQUAL(fg_relay_channel_used(E.s, "r1", 0x4000, E.now), 0);
	CU_ASSERT_EQUAL(fg_relay_channel_used(E.s, "r1", 0x4abc, E.now), -ENOENT);
	env_run(&E, tb + SEC(900), fakes);
	CU_ASSERT_EQUAL(F.n_chanbind, 5);      /* 0x4000 again at 600 + 300 */
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CHANNEL_UNBOUND), 2);   /* 0x4002 */
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CHANNEL_BOUND), 3);
	CU_ASSERT_EQUAL(fg_relay_wrap(E.s, "r1", &p2, "x", 1, buf, sizeof(buf), &to, E.now), -ENOTCONN);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->channels_bound, 1);
	CU_ASSERT_FALSE(F.bad);
	env_free(&E);
}

static void test_channel_reuse_rule(void)
{
	struct fake *fakes[] = { &F, NULL };
	struct fg_endpoint a = ep("198.51.100.77:5000"), b = ep("198.51.100.78:5000");
	struct fg_endpoint z = ep("198.51.100.99:5000");
	unsigned out_of_range = 0;
	uint64_t t0;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	up(&F, "r1");
	t0 = E.now;
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &a, E.now), 0x4000);
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &b, E.now), 0x4001);
	fake_serve(&E, &F);
	env_run(&E, t0 + SEC(601), fakes);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CHANNEL_UNBOUND), 2);
	/* the same peer may bind its number again before the 15 minutes are over */
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &a, E.now), 0x4000);
	fake_serve(&E, &F);
	CU_ASSERT_EQUAL(F.last_channel, 0x4000);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CHANNEL_BOUND), 3);
	/* every other number to other peers */
	for (unsigned i = 0; i < FG_RELAY_MAX_CHANNELS - 2; i++) {
		struct fg_endpoint p = ep("10.0.0.0:1");
		int rc;

		p.ip.addr[2] = (uint8_t)(i >> 8);
		p.ip.addr[3] = (uint8_t)i;
		p.port = (uint16_t)(1000 + i);
		rc = fg_relay_bind_channel(E.s, "r1", &p, E.now);
		out_of_range += rc < 0x4002 || rc > 0x4FFF;
	}
	CU_ASSERT_EQUAL(out_of_range, 0);
	fake_serve(&E, &F);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CHANNEL_BOUND), 3 + FG_RELAY_MAX_CHANNELS - 2);
	/* 0x4001 was b's: another peer waits until 15 min after its last binding */
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &z, E.now), -ENOSPC);
	env_run(&E, t0 + SEC(899), fakes);
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &z, E.now), -ENOSPC);
	env_run(&E, t0 + SEC(900), fakes);
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &z, E.now), 0x4001);
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &b, E.now), -ENOSPC);
	CU_ASSERT_FALSE(F.bad);
	env_free(&E);
}

/* The loop slept through a channel's 10 minutes and its 15 (a suspended host): one tick
 * unbinds it and frees its number, and no timer is left already due (the loop would
 * otherwise wake at once for it). Found by fuzz_relay. */
static void test_channel_expiry_and_reuse_in_one_tick(void)
{
	struct fake *fakes[] = { &F, NULL };
	struct fg_endpoint b = ep("198.51.100.78:5000");
	uint64_t t0;

	env_init(&E, NULL);
	fake_init(&F, "192.0.2.1:3478", NULL, USER, PASS);
	up(&F, "r1");
	t0 = E.now;
	env_run(&E, t0 + SEC(200), fakes);
	CU_ASSERT_EQUAL(fg_relay_bind_channel(E.s, "r1", &b, E.now), 0x4000);
	fake_serve(&E, &F);
	/* the allocation is refreshed on time up to here: it lives past the jump below */
	env_run(&E, t0 + SEC(601), fakes);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->channels_bound, 1);
	/* bound at 200: gone at 800, its number free at 1100; the next tick comes at 1150 */
	E.now = t0 + SEC(1150);
	fg_relay_tick(E.s, E.now);
	CU_ASSERT_EQUAL(env_count_ev(&E, FG_RELAY_EV_CHANNEL_UNBOUND), 1);
	CU_ASSERT_EQUAL(view_of(&E, "r1")->channels_total, 0);
	CU_ASSERT(fg_relay_next_timeout(E.s) > E.now);
	CU_ASSERT_FALSE(F.bad);
	env_free(&E);
}

int main(void)
{

	static const struct fg_cunit_test tests[] = {
		{ "bind, data, refresh, expiry", test_channels },
		{ "the 15-minute reuse rule", test_channel_reuse_rule },
		{ "expiry and reuse in one tick", test_channel_expiry_and_reuse_in_one_tick },
	};

	fg_log_set_level(FG_LOG_WARN);
	return fg_cunit_run("relay channels", tests, sizeof(tests) / sizeof(tests[0]));
}
