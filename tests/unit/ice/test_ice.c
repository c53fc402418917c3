// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/ice/ (the ICE agent, controlled role) against the
 * controlling peer of ice_peer.c on a fake clock: the candidates we signal, a host pair
 * checked both ways and nominated by USE-CANDIDATE (only once valid), server-reflexive and
 * relayed pairs (the relay named in the send path), peer-reflexive learning and its
 * replacement by the signalled candidate, requests refused (wrong password, missing
 * FINGERPRINT / PRIORITY / integrity / USERNAME, another session's ufrag, unknown
 * attributes) and the role conflict (487), forged, asymmetric and error responses, the
 * retransmission schedule (250 ms doubling to 15 s, 45 checks) and the give-up, failure
 * without a remote candidate after 10 s and after 2 s disconnected, migration to a better
 * nominated pair, candidate invalidation, the idle profile, frozen pairs, the pair limit,
 * calls from callbacks, and no secret in the logs. Compiled with ASan and UBSan.
 * Single-threaded.
 */
#include "ice.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../cunit_run.h"
#include "ice_peer.h"
#include "log.h"
#include "stun.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define GW "198.18.0.1:51820"
#define CL_HOST "198.18.5.2:50000"
#define CL_HOST_LINE "candidate:1 1 udp 2130706431 198.18.5.2 50000 typ host"

/* A pointer to the endpoint s, valid for the next few calls. */
static const struct fg_endpoint *P(const char *s)
{
	static struct fg_endpoint ring[8];
	static unsigned pos;

	pos = (pos + 1) % 8;
	ring[pos] = ep(s);
	return &ring[pos];
}

static const struct fg_ice_counters *cnt(void)
{
	return fg_ice_counters(B.a);
}

/* The client's check arrives, is answered with success, signed, with its source mapped. */
static void expect_success(uint32_t local, const char *from, unsigned flags)
{
	struct fg_endpoint mapped, want = ep(from);
	struct fg_stun_msg m;
	struct dgram d;

	CU_ASSERT_TRUE(bench_request(local, from, flags, 1862270975u, &m, &d));
	CU_ASSERT_EQUAL_FATAL(d.len ? m.cls : 0, FG_STUN_SUCCESS);
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &B.gw_key), 0);
	CU_ASSERT_TRUE(fg_stun_has(&m, FG_STUN_ATTR_FINGERPRINT));
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &mapped), 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&mapped, &want));
	CU_ASSERT_EQUAL(d.path.local_id, local);
}

/* ... or refused with code, signed or not; nothing learned from it. */
static void expect_error(uint32_t local, const char *from, unsigned flags, unsigned code, bool sign)
{
	struct fg_stun_msg m;
	struct dgram d;
	const char *reason;
	unsigned got = 0;
	size_t n;

	CU_ASSERT_TRUE(bench_request(local, from, flags, 1862270975u, &m, &d));
	CU_ASSERT_EQUAL_FATAL(d.len ? m.cls : 0, FG_STUN_ERROR);
	CU_ASSERT_EQUAL(fg_stun_get_error(&m, &got, &reason, &n), 0);
	CU_ASSERT_EQUAL(got, code);
	CU_ASSERT_EQUAL(fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY), sign);
	if (sign)
		CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &B.gw_key), 0);
	CU_ASSERT_TRUE(fg_stun_has(&m, FG_STUN_ATTR_FINGERPRINT));
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS));
}

/* A host candidate and the client's host candidate, checked both ways and nominated. */
static int connect_host(void)
{
	int gw = bench_host(GW);

	CU_ASSERT_TRUE_FATAL(gw >= 0);
	CU_ASSERT_EQUAL_FATAL(bench_remote(CL_HOST_LINE), 0);
	bench_run(B.now + MS(10));
	expect_success((uint32_t)gw, CL_HOST, REQ_USE_CANDIDATE);
	CU_ASSERT_EQUAL_FATAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	return gw;
}

static void drop(void *ctx, const struct fg_ice_path *path, const uint8_t *buf, size_t len)
{
	(void)ctx;
	(void)path;
	(void)buf;
	(void)len;
}

static void test_new_refuses_bad_credentials(void)
{
	static const struct fg_ice_ops ops = { drop, NULL, NULL };
	static const struct fg_ice_ops no_send = { NULL, NULL, NULL };
	struct fg_ice_agent *a;

	errno = 0;
	CU_ASSERT_PTR_NULL(fg_ice_agent_new("abc", GW_PWD, CL_UFRAG, CL_PWD, &ops, NULL, 0));
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(fg_ice_agent_new(GW_UFRAG, "short", CL_UFRAG, CL_PWD, &ops, NULL, 0));
	CU_ASSERT_PTR_NULL(fg_ice_agent_new(GW_UFRAG, GW_PWD, "ab:c", CL_PWD, &ops, NULL, 0));
	CU_ASSERT_PTR_NULL(fg_ice_agent_new(GW_UFRAG, GW_PWD, CL_UFRAG, "j2fqufatn7xlrrvv6fsve!", &ops,
					    NULL, 0));
	CU_ASSERT_PTR_NULL(fg_ice_agent_new(GW_UFRAG, GW_PWD, CL_UFRAG, CL_PWD, &no_send, NULL, 0));
	CU_ASSERT_PTR_NULL(fg_ice_agent_new(GW_UFRAG, GW_PWD, CL_UFRAG, NULL, &ops, NULL, 0));
	/* the real RNG when none is given */
	a = fg_ice_agent_new(GW_UFRAG, GW_PWD, CL_UFRAG, CL_PWD, &ops, NULL, 0);
	CU_ASSERT_PTR_NOT_NULL(a);
	CU_ASSERT_EQUAL(fg_ice_state(a), FG_ICE_CHECKING);
	fg_ice_agent_free(a);
	fg_ice_agent_free(NULL);
}

static void test_local_candidates_signalled(void)
{
	const struct evrec *ev;
	struct fg_ice_cand c;
	int gw, gw6, srflx, relay;

	bench_init();
	gw = bench_host(GW);
	CU_ASSERT_EQUAL(gw, 0);
	ev = bench_last_ev(FG_ICE_EV_CANDIDATE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_EQUAL_FATAL(fg_ice_cand_parse(ev->line, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(c.type, FG_ICE_HOST);
	CU_ASSERT_EQUAL(c.priority, fg_ice_priority(FG_ICE_HOST, 65534, 1));  /* IPv4 after IPv6 */
	CU_ASSERT_TRUE(fg_endpoint_equal(&c.addr, P(GW)));
	CU_ASSERT_EQUAL(c.raddr.ip.family, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ev->line, " 1 udp 2130706175 198.18.0.1 51820 typ host"));
	gw6 = bench_host("[fd00:2021:1111::1]:51820");
	CU_ASSERT_EQUAL_FATAL(fg_ice_cand_parse(bench_last_ev(FG_ICE_EV_CANDIDATE)->line, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(c.priority, fg_ice_priority(FG_ICE_HOST, 65535, 1));
	srflx = bench_srflx("203.0.113.9:47717", GW);
	CU_ASSERT_TRUE(srflx > gw6);
	CU_ASSERT_EQUAL_FATAL(fg_ice_cand_parse(bench_last_ev(FG_ICE_EV_CANDIDATE)->line, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(c.type, FG_ICE_SRFLX);
	CU_ASSERT_EQUAL(c.priority >> 24, FG_ICE_PREF_SRFLX);
	CU_ASSERT_PTR_NOT_NULL(strstr(bench_last_ev(FG_ICE_EV_CANDIDATE)->line, "raddr 0.0.0.0 rport 0"));
	relay = bench_relay("192.0.2.44:61000", "r1");
	CU_ASSERT_TRUE(relay > srflx);
	CU_ASSERT_EQUAL_FATAL(fg_ice_cand_parse(bench_last_ev(FG_ICE_EV_CANDIDATE)->line, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(c.type, FG_ICE_RELAY);
	CU_ASSERT_EQUAL(c.priority >> 24, 0);
	CU_ASSERT_EQUAL(bench_count_ev(FG_ICE_EV_CANDIDATE), 4);
	/* a srflx equal to the host (no NAT) is redundant and not signalled; bad ones refused */
	CU_ASSERT_EQUAL(bench_srflx(GW, GW), -EEXIST);
	CU_ASSERT_EQUAL(bench_host(GW), -EEXIST);
	CU_ASSERT_EQUAL(bench_relay("192.0.2.45:61000", ""), -EINVAL);
	CU_ASSERT_EQUAL(bench_host("0.0.0.0:51820"), -EINVAL);
	CU_ASSERT_EQUAL(bench_host("198.18.0.9:0"), -EINVAL);
	CU_ASSERT_EQUAL(bench_srflx("203.0.113.9:1", "[fd00::1]:1"), -EINVAL);
	CU_ASSERT_EQUAL(bench_count_ev(FG_ICE_EV_CANDIDATE), 4);
	CU_ASSERT_EQUAL(fg_ice_local_candidate_id(B.a, P("192.0.2.44:61000")),
			relay);
	CU_ASSERT_EQUAL(fg_ice_local_candidate_id(B.a, P("203.0.113.9:47717")),
			-ENOENT);   /* srflx candidates receive nothing themselves */
	/* removing one withdraws it */
	CU_ASSERT_EQUAL(fg_ice_remove_local_candidate(B.a, (uint32_t)srflx, B.now), 0);
	CU_ASSERT_EQUAL(fg_ice_remove_local_candidate(B.a, (uint32_t)srflx, B.now), -ENOENT);
	ev = bench_last_ev(FG_ICE_EV_CANDIDATE_INVALIDATED);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_EQUAL_FATAL(fg_ice_cand_parse(ev->line, &c, NULL, 0), 0);
	CU_ASSERT_EQUAL(c.type, FG_ICE_SRFLX);
	bench_free();
}

static void test_host_pair_nominated(void)
{
	const struct fg_ice_pair_view *p;
	const struct evrec *ev;
	struct fg_ice_path path;
	struct fg_ice_view v;
	int gw;

	bench_init();
	gw = bench_host(GW);
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);   /* a repeat changes nothing */
	CU_ASSERT_EQUAL(bench_pairs(), 1);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CHECKING);
	CU_ASSERT_FALSE(fg_ice_nominated(B.a, &path));
	/* our ordinary check leaves at once and is answered: the pair is valid, not nominated */
	bench_run(B.now + MS(1));
	CU_ASSERT_EQUAL(B.nchecks, 1);
	CU_ASSERT_TRUE(fg_endpoint_equal(&B.check_to[0], P(CL_HOST)));
	p = bench_pair(CL_HOST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->state, FG_ICE_PAIR_SUCCEEDED);
	CU_ASSERT_FALSE(p->nominated);
	CU_ASSERT_TRUE(fg_endpoint_equal(&p->mapped, P(GW)));
	CU_ASSERT_EQUAL(p->priority, fg_ice_pair_priority(2130706431u, 2130706175u));
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CHECKING);
	/* the client's check without USE-CANDIDATE: answered, no triggered check (succeeded) */
	expect_success((uint32_t)gw, CL_HOST, 0);
	CU_ASSERT_EQUAL(B.nchecks, 1);
	CU_ASSERT_EQUAL(bench_count_ev(FG_ICE_EV_NOMINATED), 0);
	/* ... and with it: nominated */
	expect_success((uint32_t)gw, CL_HOST, REQ_USE_CANDIDATE);
	ev = bench_last_ev(FG_ICE_EV_NOMINATED);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_EQUAL(ev->ev.path.local_id, (uint32_t)gw);
	CU_ASSERT_EQUAL(ev->ev.path.local_type, FG_ICE_HOST);
	CU_ASSERT_PTR_NULL(ev->ev.path.relay_id);
	CU_ASSERT_TRUE(fg_endpoint_equal(&ev->ev.path.local, P(GW)));
	CU_ASSERT_TRUE(fg_endpoint_equal(&ev->ev.path.remote, P(CL_HOST)));
	CU_ASSERT_EQUAL(ev->ev.path.remote_type, FG_ICE_HOST);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	CU_ASSERT_TRUE(fg_ice_nominated(B.a, &path));
	CU_ASSERT_EQUAL(bench_last_ev(FG_ICE_EV_STATE)->ev.state, FG_ICE_CONNECTED);
	p = bench_pair(CL_HOST);
	CU_ASSERT_TRUE(p->nominated && p->selected && p->use_candidate);
	CU_ASSERT_EQUAL(p->requests_received, 2);
	fg_ice_get_view(B.a, &v);
	CU_ASSERT_EQUAL(v.state, FG_ICE_CONNECTED);
	CU_ASSERT_TRUE(v.nominated);
	CU_ASSERT_STRING_EQUAL(v.local_ufrag, GW_UFRAG);
	CU_ASSERT_STRING_EQUAL(v.remote_ufrag, CL_UFRAG);
	CU_ASSERT_EQUAL(v.n_local, 1);
	CU_ASSERT_EQUAL(v.n_remote, 1);
	CU_ASSERT_EQUAL(v.n_pairs, 1);
	CU_ASSERT_EQUAL(v.nominated_ns, B.now);
	CU_ASSERT_EQUAL(cnt()->rx_requests, 2);
	CU_ASSERT_EQUAL(cnt()->rx_responses, 1);
	CU_ASSERT_EQUAL(cnt()->nominations, 1);
	/* nominating it again changes nothing */
	expect_success((uint32_t)gw, CL_HOST, REQ_USE_CANDIDATE);
	CU_ASSERT_EQUAL(bench_count_ev(FG_ICE_EV_NOMINATED), 1);
	bench_free();
}

static void test_nomination_waits_for_valid(void)
{
	const struct fg_ice_pair_view *p;
	int gw;

	bench_init();
	gw = bench_host(GW);
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	B.deaf = true;
	bench_run(B.now + MS(100));
	/* USE-CANDIDATE before any check of ours got through: not nominated (RFC 8445 §7.3.1.5) */
	expect_success((uint32_t)gw, CL_HOST, REQ_USE_CANDIDATE);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CHECKING);
	p = bench_pair(CL_HOST);
	CU_ASSERT_TRUE(p->use_candidate && !p->nominated);
	CU_ASSERT_EQUAL(p->state, FG_ICE_PAIR_IN_PROGRESS);
	CU_ASSERT_EQUAL(bench_count_ev(FG_ICE_EV_NOMINATED), 0);
	/* the request triggered a check, but not within 250 ms of the last one */
	CU_ASSERT_EQUAL(cnt()->tx_triggered, 0);
	/* the network heals: the next check is answered and the pair is nominated */
	B.deaf = false;
	bench_run(B.now + SEC(1));
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	CU_ASSERT_EQUAL(bench_count_ev(FG_ICE_EV_NOMINATED), 1);
	bench_free();
}

static void test_triggered_check(void)
{
	int gw;

	bench_init();
	gw = bench_host(GW);
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	/* the client's nominating check comes before our first ordinary one */
	expect_success((uint32_t)gw, CL_HOST, REQ_USE_CANDIDATE);
	CU_ASSERT_EQUAL(cnt()->tx_triggered, 1);
	CU_ASSERT_EQUAL(B.nchecks, 1);
	bench_answer();
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	CU_ASSERT_EQUAL(bench_count_ev(FG_ICE_EV_NOMINATED), 1);
	bench_free();
}

static void test_srflx_and_relay_pairs(void)
{
	const struct evrec *ev;
	const struct fg_ice_pair_view *p;
	int gw, relay;

	bench_init();
	gw = bench_host(GW);
	CU_ASSERT_TRUE(bench_srflx("203.0.113.9:47717", GW) > gw);
	relay = bench_relay("192.0.2.44:61000", "r1");
	CU_ASSERT_EQUAL(bench_remote("candidate:2 1 udp 1694498815 198.51.100.7 40000 typ srflx "
				     "raddr 0.0.0.0 rport 0"), 0);
	CU_ASSERT_EQUAL(bench_remote("candidate:3 1 udp 16777215 192.0.2.99 62000 typ relay "
				     "raddr 0.0.0.0 rport 0"), 0);
	/* srflx locals are checked from their base: host x 2 + relay x 2 */
	CU_ASSERT_EQUAL(bench_pairs(), 4);
	p = bench_pair("198.51.100.7:40000");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->path.local_type, FG_ICE_HOST);   /* the best pair to it first */
	/* only the relayed paths work (both behind symmetric NATs) */
	B.blocked[B.nblocked++] = ep("198.51.100.7:40000");
	bench_run(B.now + SEC(2));
	CU_ASSERT_EQUAL(bench_pair("192.0.2.99:62000")->state, FG_ICE_PAIR_SUCCEEDED);
	expect_success((uint32_t)relay, "192.0.2.99:62000", REQ_USE_CANDIDATE);
	ev = bench_last_ev(FG_ICE_EV_NOMINATED);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_EQUAL(ev->ev.path.local_type, FG_ICE_RELAY);
	CU_ASSERT_EQUAL(ev->ev.path.local_id, (uint32_t)relay);
	CU_ASSERT_STRING_EQUAL(ev->ev.path.relay_id, "r1");
	CU_ASSERT_TRUE(fg_endpoint_equal(&ev->ev.path.local, P("192.0.2.44:61000")));
	CU_ASSERT_EQUAL(ev->ev.path.remote_type, FG_ICE_RELAY);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	/* the client's srflx stays unreachable: its pairs are still being checked */
	p = bench_pair("198.51.100.7:40000");
	CU_ASSERT_EQUAL(p->state, FG_ICE_PAIR_IN_PROGRESS);
	CU_ASSERT_TRUE(p->unanswered > 3);
	bench_free();
}

static void test_relay_answers_go_through_relay(void)
{
	struct fg_stun_msg m;
	struct dgram d;
	int relay;

	bench_init();
	relay = bench_relay("192.0.2.44:61000", "r7");
	CU_ASSERT_TRUE(bench_request((uint32_t)relay, "198.51.100.7:40000", 0, 1862270975u, &m, &d));
	CU_ASSERT_EQUAL(m.cls, FG_STUN_SUCCESS);
	CU_ASSERT_EQUAL(d.path.local_type, FG_ICE_RELAY);
	CU_ASSERT_STRING_EQUAL(d.path.relay_id, "r7");
	CU_ASSERT_EQUAL(d.path.local_id, (uint32_t)relay);
	/* the triggered check too */
	CU_ASSERT_TRUE(bench_take(FG_STUN_REQUEST, NULL, &d, &m));
	CU_ASSERT_STRING_EQUAL(d.path.relay_id, "r7");
	bench_free();
}

static void test_prflx_learning(void)
{
	const struct fg_ice_pair_view *p;
	const struct evrec *ev;
	struct fg_ice_view v;
	int gw;

	bench_init();
	gw = bench_host(GW);
	/* no candidate signalled: the client's check teaches us its address (TESTBED §5) */
	expect_success((uint32_t)gw, "198.18.9.9:40000", REQ_USE_CANDIDATE);
	ev = bench_last_ev(FG_ICE_EV_REMOTE_LEARNED);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_TRUE(fg_endpoint_equal(&ev->ev.path.remote, P("198.18.9.9:40000")));
	CU_ASSERT_EQUAL(ev->ev.path.local_id, (uint32_t)gw);
	CU_ASSERT_EQUAL(ev->ev.path.remote_type, FG_ICE_PRFLX);
	CU_ASSERT_EQUAL(cnt()->prflx_learned, 1);
	p = bench_pair("198.18.9.9:40000");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->path.remote_type, FG_ICE_PRFLX);
	CU_ASSERT_EQUAL(p->priority, fg_ice_pair_priority(1862270975u, 2130706175u));
	bench_answer();
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	/* the 10 s without a signalled candidate do not fail it: the learned one counts */
	bench_run(B.now + SEC(12));
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	/* the portal then signals that address as srflx: it replaces the learned one in place */
	CU_ASSERT_EQUAL(bench_remote("candidate:5 1 udp 1694498815 198.18.9.9 40000 typ srflx"), 0);
	CU_ASSERT_EQUAL(bench_pairs(), 1);
	p = bench_pair("198.18.9.9:40000");
	CU_ASSERT_EQUAL(p->path.remote_type, FG_ICE_SRFLX);
	CU_ASSERT_EQUAL(p->priority, fg_ice_pair_priority(1694498815u, 2130706175u));
	CU_ASSERT_TRUE(p->selected);
	fg_ice_get_view(B.a, &v);
	CU_ASSERT_EQUAL(v.n_remote, 1);
	bench_free();
}

static void test_refused_requests(void)
{
	uint8_t junk[64] = { 0 };
	int gw;

	bench_init();
	gw = bench_host(GW);
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	bench_flush();
	expect_error((uint32_t)gw, CL_HOST, REQ_WRONG_PASSWORD | REQ_USE_CANDIDATE, 401, false);
	expect_error((uint32_t)gw, CL_HOST, REQ_WRONG_REMOTE, 401, false);
	expect_error((uint32_t)gw, CL_HOST, REQ_NO_INTEGRITY, 400, false);
	expect_error((uint32_t)gw, CL_HOST, REQ_NO_USERNAME, 400, false);
	expect_error((uint32_t)gw, CL_HOST, REQ_NO_FINGERPRINT, 400, true);
	expect_error((uint32_t)gw, CL_HOST, REQ_NO_PRIORITY, 400, true);
	expect_error((uint32_t)gw, CL_HOST, REQ_UNKNOWN_ATTR, 420, true);
	CU_ASSERT_EQUAL(cnt()->rx_unauthenticated, 2);
	CU_ASSERT_EQUAL(cnt()->rx_bad_request, 4);
	CU_ASSERT_EQUAL(cnt()->rx_unknown_attr, 1);
	/* an unknown source refused is not learned, nothing was checked or nominated */
	expect_error((uint32_t)gw, "198.18.9.9:40000", REQ_WRONG_PASSWORD, 401, false);
	CU_ASSERT_EQUAL(cnt()->prflx_learned, 0);
	CU_ASSERT_EQUAL(cnt()->tx_triggered, 0);
	CU_ASSERT_EQUAL(bench_count_ev(FG_ICE_EV_NOMINATED), 0);
	CU_ASSERT_EQUAL(bench_pair(CL_HOST)->requests_received, 0);
	/* another agent's: not ours, nothing sent */
	CU_ASSERT_FALSE(bench_request((uint32_t)gw, CL_HOST, REQ_OTHER_LOCAL, 1, NULL, NULL));
	CU_ASSERT_EQUAL(B.nq, 0);
	/* on a local candidate we do not have: dropped */
	CU_ASSERT_TRUE(bench_request(99, CL_HOST, 0, 1, NULL, NULL));
	CU_ASSERT_EQUAL(cnt()->rx_unknown_local, 1);
	/* ... or from the other family (found by fuzz_ice_input) */
	CU_ASSERT_TRUE(bench_request((uint32_t)gw, "[fd00::9]:40000", 0, 1, NULL, NULL));
	CU_ASSERT_EQUAL(cnt()->rx_unknown_local, 2);
	CU_ASSERT_EQUAL(B.nq, 0);
	/* not STUN, malformed STUN, an indication, a TURN method */
	CU_ASSERT_FALSE(fg_ice_input(B.a, (uint32_t)gw, P(CL_HOST), junk,
				     sizeof(junk), B.now));
	junk[1] = 1;
	junk[4] = 0x21, junk[5] = 0x12, junk[6] = 0xa4, junk[7] = 0x42;
	junk[3] = 44;   /* an attribute running past the end */
	junk[20] = 0, junk[21] = 6, junk[22] = 0, junk[23] = 200;
	CU_ASSERT_FALSE(fg_ice_input(B.a, (uint32_t)gw, P(CL_HOST), junk,
				     sizeof(junk), B.now));
	CU_ASSERT_EQUAL(cnt()->rx_malformed, 1);
	CU_ASSERT_EQUAL(B.nq, 0);
	bench_free();
}

static void test_role_conflict(void)
{
	struct fg_stun_builder b;
	struct fg_stun_msg m;
	struct dgram d;
	uint8_t buf[256];
	int gw, n;

	bench_init();
	gw = bench_host(GW);
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	bench_flush();
	/* the client claims the controlled role too: 487, signed, and we stay controlled */
	expect_error((uint32_t)gw, CL_HOST, REQ_CONTROLLED | REQ_USE_CANDIDATE, 487, true);
	CU_ASSERT_EQUAL(cnt()->rx_role_conflict, 1);
	CU_ASSERT_EQUAL(bench_pair(CL_HOST)->requests_received, 0);
	CU_ASSERT_FALSE(bench_pair(CL_HOST)->use_candidate);
	/* no role attribute at all is taken as it comes (libnice and werift send one) */
	expect_success((uint32_t)gw, CL_HOST, REQ_NO_ROLE);
	/* a 487 to our check: counted, the pair is checked again later */
	B.hold = true;
	bench_run(B.now + SEC(1));
	CU_ASSERT_TRUE_FATAL(bench_take(FG_STUN_REQUEST, NULL, &d, &m));
	fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_ERROR, m.txid);
	fg_stun_add_error(&b, 487, "Role Conflict");
	fg_stun_add_integrity(&b, &B.cl_key);
	fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_TRUE(fg_ice_input(B.a, (uint32_t)gw, &d.path.remote, buf, (size_t)n, B.now));
	CU_ASSERT_EQUAL(cnt()->rx_role_conflict_response, 1);
	CU_ASSERT_NOT_EQUAL(bench_pair(CL_HOST)->state, FG_ICE_PAIR_FAILED);
	bench_free();
}

static int response(const uint8_t *txid, unsigned code, const struct fg_stun_key *key, bool mapped,
		    uint8_t *buf, size_t cap)
{
	struct fg_endpoint gw = ep(GW);
	struct fg_stun_builder b;

	fg_stun_build_start(&b, buf, cap, FG_STUN_BINDING, code ? FG_STUN_ERROR : FG_STUN_SUCCESS, txid);
	if (code)
		fg_stun_add_error(&b, code, "x");
	if (mapped)
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &gw);
	if (key)
		fg_stun_add_integrity(&b, key);
	fg_stun_add_fingerprint(&b);
	return fg_stun_build_finish(&b);
}

static void test_forged_and_asymmetric_responses(void)
{
	struct fg_endpoint cl = ep(CL_HOST), other = ep("198.18.5.3:50000");
	struct fg_stun_key wrong;
	struct fg_stun_msg m;
	struct dgram d;
	uint8_t buf[256], txid[FG_STUN_TXID_LEN] = { 9 };
	int gw, n;

	bench_init();
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&wrong, "wrongwrongwrongwrongwr"), 0);
	gw = bench_host(GW);
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	B.hold = true;
	bench_run(B.now + MS(1));
	CU_ASSERT_TRUE_FATAL(bench_take(FG_STUN_REQUEST, NULL, &d, &m));
	/* an unknown transaction: not ours */
	n = response(txid, 0, &B.cl_key, true, buf, sizeof(buf));
	CU_ASSERT_FALSE(fg_ice_input(B.a, (uint32_t)gw, &cl, buf, (size_t)n, B.now));
	/* unsigned, wrongly signed, signed but without XOR-MAPPED-ADDRESS: ignored */
	n = response(m.txid, 0, NULL, true, buf, sizeof(buf));
	CU_ASSERT_TRUE(fg_ice_input(B.a, (uint32_t)gw, &cl, buf, (size_t)n, B.now));
	n = response(m.txid, 0, &wrong, true, buf, sizeof(buf));
	CU_ASSERT_TRUE(fg_ice_input(B.a, (uint32_t)gw, &cl, buf, (size_t)n, B.now));
	n = response(m.txid, 0, &B.cl_key, false, buf, sizeof(buf));
	CU_ASSERT_TRUE(fg_ice_input(B.a, (uint32_t)gw, &cl, buf, (size_t)n, B.now));
	CU_ASSERT_EQUAL(cnt()->rx_unsigned, 1);
	CU_ASSERT_EQUAL(cnt()->rx_bad_integrity, 1);
	CU_ASSERT_EQUAL(cnt()->rx_bad_response, 1);
	CU_ASSERT_EQUAL(bench_pair(CL_HOST)->state, FG_ICE_PAIR_IN_PROGRESS);
	/* a wrongly signed error is ignored too */
	n = response(m.txid, 500, &wrong, false, buf, sizeof(buf));
	CU_ASSERT_TRUE(fg_ice_input(B.a, (uint32_t)gw, &cl, buf, (size_t)n, B.now));
	CU_ASSERT_EQUAL(cnt()->rx_bad_integrity, 2);
	/* the right answer from another address: asymmetric, the pair fails */
	n = response(m.txid, 0, &B.cl_key, true, buf, sizeof(buf));
	CU_ASSERT_TRUE(fg_ice_input(B.a, (uint32_t)gw, &other, buf, (size_t)n, B.now));
	CU_ASSERT_EQUAL(cnt()->rx_asymmetric, 1);
	CU_ASSERT_EQUAL(bench_pair(CL_HOST)->state, FG_ICE_PAIR_FAILED);
	/* late answers to a failed pair are no longer matched */
	CU_ASSERT_FALSE(fg_ice_input(B.a, (uint32_t)gw, &cl, buf, (size_t)n, B.now));
	/* every pair failed: disconnected, and failed for good 2 s later */
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_DISCONNECTED);
	/* a check from the client revives the pair (RFC 8445 §7.3.1.4) */
	B.hold = false;
	bench_flush();
	expect_success((uint32_t)gw, CL_HOST, 0);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CHECKING);
	CU_ASSERT_EQUAL(cnt()->tx_triggered, 1);
	bench_answer();
	CU_ASSERT_EQUAL(bench_pair(CL_HOST)->state, FG_ICE_PAIR_SUCCEEDED);
	CU_ASSERT_EQUAL(bench_pair(CL_HOST)->unanswered, 0);
	bench_free();
}

static void test_error_response_fails_pair(void)
{
	struct fg_stun_msg m;
	struct dgram d;
	uint8_t buf[256];
	int gw, n;

	bench_init();
	gw = bench_host(GW);
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	B.hold = true;
	bench_run(B.now + MS(1));
	CU_ASSERT_TRUE_FATAL(bench_take(FG_STUN_REQUEST, NULL, &d, &m));
	n = response(m.txid, 401, NULL, false, buf, sizeof(buf));
	CU_ASSERT_TRUE(fg_ice_input(B.a, (uint32_t)gw, &d.path.remote, buf, (size_t)n, B.now));
	CU_ASSERT_EQUAL(cnt()->rx_error_response, 1);
	CU_ASSERT_EQUAL(bench_pair(CL_HOST)->state, FG_ICE_PAIR_FAILED);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_DISCONNECTED);
	bench_run(B.now + MS(1999));
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_DISCONNECTED);
	bench_run(B.now + MS(1));
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_FAILED);
	CU_ASSERT_STRING_EQUAL(bench_last_ev(FG_ICE_EV_STATE)->reason, "disconnected for more than 2 s");
	bench_free();
}

static void test_retransmit_schedule_and_give_up(void)
{
	uint64_t t, sent_last;
	struct fg_ice_view v;
	const struct evrec *ev;

	bench_init();
	bench_host(GW);
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	B.deaf = true;
	bench_run(B.now + SEC(700));
	/* 45 checks, each a new transaction: 250 ms doubling to 15 s (naive reference) */
	CU_ASSERT_EQUAL_FATAL(B.nchecks, 45);
	t = B.check_at[0];
	CU_ASSERT_EQUAL(t, SEC(1));
	for (unsigned k = 1; k < B.nchecks; k++) {
		uint64_t gap = 250;

		for (unsigned i = 1; i < k && gap < 15000; i++)
			gap *= 2;
		t += MS(gap < 15000 ? gap : 15000);
		CU_ASSERT_EQUAL(B.check_at[k], t);
	}
	sent_last = B.check_at[44];
	CU_ASSERT_EQUAL(sent_last - B.check_at[0],
			MS(250 + 500 + 1000 + 2000 + 4000 + 8000) + MS(15000) * 38);
	/* one more interval and the pair has failed: disconnected, 2 s later failed */
	CU_ASSERT_EQUAL(cnt()->pairs_failed, 1);
	CU_ASSERT_EQUAL(cnt()->tx_checks, 45);
	ev = bench_last_ev(FG_ICE_EV_STATE);
	CU_ASSERT_EQUAL(ev->ev.state, FG_ICE_FAILED);
	CU_ASSERT_EQUAL(ev->at, sent_last + SEC(15) + SEC(2));
	CU_ASSERT_EQUAL(B.ev[B.nev - 2].ev.state, FG_ICE_DISCONNECTED);
	CU_ASSERT_EQUAL(B.ev[B.nev - 2].at, sent_last + SEC(15));
	fg_ice_get_view(B.a, &v);
	CU_ASSERT_STRING_EQUAL(v.failure, "disconnected for more than 2 s");
	CU_ASSERT_EQUAL(fg_ice_next_timeout(B.a), UINT64_MAX);
	/* a failed agent takes nothing any more */
	CU_ASSERT_EQUAL(bench_remote("candidate:7 1 udp 1 198.18.5.7 5 typ host"), -ESHUTDOWN);
	CU_ASSERT_TRUE(bench_request(0, CL_HOST, 0, 1, NULL, NULL));
	CU_ASSERT_EQUAL(cnt()->rx_after_failure, 1);
	bench_free();
}

static void test_no_remote_candidate_fails(void)
{
	const struct evrec *ev;

	bench_init();
	bench_host(GW);
	CU_ASSERT_EQUAL(fg_ice_next_timeout(B.a), SEC(1) + SEC(10));
	bench_run(SEC(1) + SEC(10) - 1);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CHECKING);
	bench_run(SEC(11));
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_FAILED);
	ev = bench_last_ev(FG_ICE_EV_STATE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_STRING_EQUAL(ev->reason, "no remote candidate within 10 s");
	CU_ASSERT_EQUAL(ev->at, SEC(11));
	bench_free();
}

static void test_migration_to_better_pair(void)
{
	const struct evrec *ev;
	int gw, relay;

	bench_init();
	gw = bench_host(GW);
	relay = bench_relay("192.0.2.44:61000", "r1");
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	CU_ASSERT_EQUAL(bench_remote("candidate:3 1 udp 16777215 192.0.2.99 62000 typ relay"), 0);
	bench_run(B.now + SEC(1));
	/* the relayed pair is nominated first (it answered first, say) */
	expect_success((uint32_t)relay, "192.0.2.99:62000", REQ_USE_CANDIDATE);
	ev = bench_last_ev(FG_ICE_EV_NOMINATED);
	CU_ASSERT_EQUAL_FATAL(ev->ev.path.local_type, FG_ICE_RELAY);
	/* then the direct one, better: we migrate */
	expect_success((uint32_t)gw, CL_HOST, REQ_USE_CANDIDATE);
	ev = bench_last_ev(FG_ICE_EV_NOMINATED);
	CU_ASSERT_EQUAL(ev->ev.path.local_type, FG_ICE_HOST);
	CU_ASSERT_TRUE(fg_endpoint_equal(&ev->ev.path.remote, P(CL_HOST)));
	CU_ASSERT_EQUAL(cnt()->nominations, 2);
	/* nominating a worse pair afterwards does not move us (str0m's controlled side) */
	expect_success((uint32_t)relay, "192.0.2.99:62000", REQ_USE_CANDIDATE);
	CU_ASSERT_EQUAL(cnt()->nominations, 2);
	/* the client withdraws its host candidate: back to the relayed pair, still nominated */
	CU_ASSERT_EQUAL(fg_ice_invalidate_remote_candidate(B.a, CL_HOST_LINE, B.now), 0);
	ev = bench_last_ev(FG_ICE_EV_NOMINATED);
	CU_ASSERT_EQUAL(ev->ev.path.local_type, FG_ICE_RELAY);
	CU_ASSERT_EQUAL(cnt()->nominations, 3);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	bench_free();
}

/* The client moves (a NAT, a relay restart) and nominates another pair while the old,
 * better one stops answering: we follow it once the old pair misses its checks, long
 * before those checks give up. */
static void test_migration_away_from_silent_pair(void)
{
	const struct evrec *ev;
	int gw, relay;

	bench_init();
	gw = bench_host(GW);
	relay = bench_relay("192.0.2.44:61000", "r1");
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	CU_ASSERT_EQUAL(bench_remote("candidate:3 1 udp 16777215 192.0.2.99 62000 typ relay"), 0);
	bench_run(B.now + SEC(1));
	expect_success((uint32_t)gw, CL_HOST, REQ_USE_CANDIDATE);
	ev = bench_last_ev(FG_ICE_EV_NOMINATED);
	CU_ASSERT_EQUAL_FATAL(ev->ev.path.local_type, FG_ICE_HOST);
	/* both answer: the relayed nomination does not move us off the better pair */
	expect_success((uint32_t)relay, "192.0.2.99:62000", REQ_USE_CANDIDATE);
	CU_ASSERT_EQUAL(cnt()->nominations, 1);
	/* the host path goes silent; the relayed one keeps answering */
	B.blocked[B.nblocked++] = ep(CL_HOST);
	bench_run(B.now + SEC(5));
	ev = bench_last_ev(FG_ICE_EV_NOMINATED);
	CU_ASSERT_EQUAL(ev->ev.path.local_type, FG_ICE_RELAY);
	CU_ASSERT_EQUAL(cnt()->nominations, 2);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	/* the host path answers again: back to it */
	B.nblocked = 0;
	bench_run(B.now + SEC(20));
	ev = bench_last_ev(FG_ICE_EV_NOMINATED);
	CU_ASSERT_EQUAL(ev->ev.path.local_type, FG_ICE_HOST);
	CU_ASSERT_EQUAL(cnt()->nominations, 3);
	bench_free();
}

static void test_invalidation(void)
{
	const struct fg_ice_pair_view *p;
	int gw;

	bench_init();
	gw = connect_host();
	CU_ASSERT_EQUAL(fg_ice_invalidate_remote_candidate(B.a, "candidate:1 1 udp 1 198.18.5.2 50001 typ host",
							   B.now), -ENOENT);
	CU_ASSERT_EQUAL(fg_ice_invalidate_remote_candidate(B.a, "nonsense", B.now), -EINVAL);
	CU_ASSERT_EQUAL(fg_ice_invalidate_remote_candidate(B.a, CL_HOST_LINE, B.now), 0);
	CU_ASSERT_EQUAL(fg_ice_invalidate_remote_candidate(B.a, CL_HOST_LINE, B.now), -ENOENT);
	CU_ASSERT_FALSE(fg_ice_nominated(B.a, NULL));
	CU_ASSERT_EQUAL(bench_pairs(), 0);
	/* no remote candidate left: checking, and past the first 10 s that fails at once */
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CHECKING);
	/* its address teaches us nothing any more */
	bench_flush();
	CU_ASSERT_TRUE(bench_request((uint32_t)gw, CL_HOST, REQ_USE_CANDIDATE, 1, NULL, NULL));
	CU_ASSERT_EQUAL(cnt()->rx_invalidated, 1);
	CU_ASSERT_EQUAL(B.nq, 0);
	/* signalled again, it comes back */
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	p = bench_pair(CL_HOST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->state, FG_ICE_PAIR_WAITING);
	/* a local candidate removed takes its pairs and the nomination with it */
	expect_success((uint32_t)gw, CL_HOST, REQ_USE_CANDIDATE);
	bench_answer();
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	CU_ASSERT_EQUAL(fg_ice_remove_local_candidate(B.a, (uint32_t)gw, B.now), 0);
	CU_ASSERT_EQUAL(bench_pairs(), 0);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CHECKING);
	CU_ASSERT_EQUAL(bench_count_ev(FG_ICE_EV_CANDIDATE_INVALIDATED), 1);
	bench_free();
}

static void test_redundant_remote_pairs(void)
{
	const struct fg_ice_pair_view *p;

	bench_init();
	bench_host(GW);
	/* no NAT on the client: its host and srflx candidates are one address, one pair */
	CU_ASSERT_EQUAL(bench_remote(CL_HOST_LINE), 0);
	CU_ASSERT_EQUAL(bench_remote("candidate:2 1 udp 1694498815 198.18.5.2 50000 typ srflx"), 0);
	CU_ASSERT_EQUAL(bench_pairs(), 1);
	p = bench_pair(CL_HOST);
	CU_ASSERT_EQUAL(p->path.remote_type, FG_ICE_HOST);
	/* the host one withdrawn, the srflx one gets its pair */
	CU_ASSERT_EQUAL(fg_ice_invalidate_remote_candidate(B.a, CL_HOST_LINE, B.now), 0);
	CU_ASSERT_EQUAL(bench_pairs(), 1);
	p = bench_pair(CL_HOST);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->path.remote_type, FG_ICE_SRFLX);
	CU_ASSERT_EQUAL(p->priority, fg_ice_pair_priority(1694498815u, 2130706175u));
	bench_free();
}

static void test_invalidation_after_10s_fails(void)
{
	bench_init();
	connect_host();
	bench_run(B.now + SEC(12));
	CU_ASSERT_EQUAL(fg_ice_invalidate_remote_candidate(B.a, CL_HOST_LINE, B.now), 0);
	bench_run(B.now + 1);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_FAILED);
	CU_ASSERT_STRING_EQUAL(bench_last_ev(FG_ICE_EV_STATE)->reason, "no remote candidate within 10 s");
	bench_free();
}

static void test_idle_profile(void)
{
	unsigned first, i;
	uint64_t connected;

	bench_init();
	connect_host();
	connected = B.now;
	bench_run(connected + SEC(19));
	fg_ice_tick(B.a, B.now);
	/* keepalive checks of the valid pair at most 15 s apart while normal */
	for (i = 1; i < B.nchecks; i++)
		CU_ASSERT_TRUE(B.check_at[i] - B.check_at[i - 1] <= SEC(15));
	bench_run(connected + SEC(20));
	{
		struct fg_ice_view v;

		fg_ice_get_view(B.a, &v);
		CU_ASSERT_TRUE(v.idle);
	}
	first = B.nchecks;
	bench_run(B.now + SEC(200));
	/* idle: one check every 25 s */
	CU_ASSERT_TRUE_FATAL(B.nchecks - first >= 7);
	for (i = first + 1; i < B.nchecks; i++)
		CU_ASSERT_EQUAL(B.check_at[i] - B.check_at[i - 1], SEC(25));
	/* traffic: normal again, the next check within 15 s */
	fg_ice_traffic(B.a, B.now);
	first = B.nchecks;
	bench_run(B.now + SEC(15));
	CU_ASSERT_TRUE(B.nchecks > first);
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	bench_free();
}

static void test_keepalive_failure(void)
{
	uint64_t lost = 0;
	const struct evrec *ev;

	bench_init();
	connect_host();
	/* tunnel traffic keeps the normal profile */
	for (int i = 0; i < 140; i++) {
		fg_ice_traffic(B.a, B.now);
		bench_run(B.now + SEC(5));
		if (i == 11) {
			lost = B.now;
			B.deaf = true;
		}
		if (i == 11 + 116)   /* 580 s on: 45 unanswered take about 10 min */
			CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);
	}
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_FAILED);
	ev = bench_last_ev(FG_ICE_EV_STATE);
	CU_ASSERT_TRUE(ev->at > lost + SEC(600) && ev->at < lost + SEC(640));
	CU_ASSERT_EQUAL(B.ev[B.nev - 2].ev.state, FG_ICE_DISCONNECTED);
	CU_ASSERT_EQUAL(ev->at - B.ev[B.nev - 2].at, SEC(2));
	bench_free();
}

static void test_outage_probing(void)
{
	static const uint64_t gaps_ms[] = { 500, 1000, 2000, 4000, 8000, 15000, 15000 };
	unsigned first;
	uint64_t lost;

	bench_init();
	connect_host();
	for (int i = 0; i < 60; i++) {
		fg_ice_traffic(B.a, B.now);
		bench_run(B.now + SEC(1));
	}
	/* healthy: the keepalive has reached its 15 s */
	CU_ASSERT_EQUAL(B.check_at[B.nchecks - 1] - B.check_at[B.nchecks - 2], SEC(15));
	lost = B.now;
	B.deaf = true;
	first = B.nchecks;
	for (int i = 0; i < 60; i++) {
		fg_ice_traffic(B.a, B.now);
		bench_run(B.now + SEC(1));
	}
	CU_ASSERT_TRUE_FATAL(B.nchecks >= first + 2 + ARRAY_LEN(gaps_ms));
	CU_ASSERT_TRUE(B.check_at[first] <= lost + SEC(15));
	/* str0m's outage rule: after max RTO / 2 unanswered, probing starts again at 250 ms */
	CU_ASSERT_EQUAL(B.check_at[first + 1] - B.check_at[first], MS(7500) + 1);
	for (unsigned i = 0; i < ARRAY_LEN(gaps_ms); i++)
		CU_ASSERT_EQUAL(B.check_at[first + 2 + i] - B.check_at[first + 1 + i], MS(gaps_ms[i]));
	bench_free();
}

static void test_idle_failure(void)
{
	const struct evrec *ev;
	uint64_t lost;

	bench_init();
	connect_host();
	bench_run(B.now + SEC(60));
	lost = B.now;
	B.deaf = true;
	bench_run(lost + SEC(990));
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_CONNECTED);   /* idle: 40 checks 25 s apart */
	bench_run(lost + SEC(1100));
	CU_ASSERT_EQUAL(fg_ice_state(B.a), FG_ICE_FAILED);
	ev = bench_last_ev(FG_ICE_EV_STATE);
	CU_ASSERT_TRUE(ev->at > lost + SEC(1000) && ev->at <= lost + SEC(1000 + 25 + 25 + 2));
	bench_free();
}

static void test_frozen_pairs(void)
{
	const struct fg_ice_pair_view *p, *q;

	bench_init();
	bench_host(GW);
	/* two client candidates of one foundation: the better one Waiting, the other Frozen */
	CU_ASSERT_EQUAL(bench_remote("candidate:7 1 udp 2130706431 198.18.5.2 50000 typ host"), 0);
	CU_ASSERT_EQUAL(bench_remote("candidate:7 1 udp 2130706430 198.18.5.2 50001 typ host"), 0);
	p = bench_pair("198.18.5.2:50000");
	CU_ASSERT_EQUAL(p->state, FG_ICE_PAIR_WAITING);
	q = bench_pair("198.18.5.2:50001");
	CU_ASSERT_EQUAL(q->state, FG_ICE_PAIR_FROZEN);
	/* a third of another foundation is Waiting at once */
	CU_ASSERT_EQUAL(bench_remote("candidate:8 1 udp 2130706429 198.18.5.3 50000 typ host"), 0);
	CU_ASSERT_EQUAL(bench_pair("198.18.5.3:50000")->state, FG_ICE_PAIR_WAITING);
	/* checks are paced one per Ta; the success thaws the frozen one */
	B.hold = true;
	bench_run(B.now + MS(49));
	CU_ASSERT_EQUAL(B.nchecks, 1);
	CU_ASSERT_EQUAL(bench_pair("198.18.5.2:50000")->state, FG_ICE_PAIR_IN_PROGRESS);
	CU_ASSERT_EQUAL(bench_pair("198.18.5.2:50001")->state, FG_ICE_PAIR_FROZEN);
	B.hold = false;
	bench_answer();
	CU_ASSERT_EQUAL(bench_pair("198.18.5.2:50000")->state, FG_ICE_PAIR_SUCCEEDED);
	CU_ASSERT_EQUAL(bench_pair("198.18.5.2:50001")->state, FG_ICE_PAIR_WAITING);
	bench_run(B.now + MS(200));
	CU_ASSERT_EQUAL(B.nchecks, 3);
	CU_ASSERT_TRUE(B.check_at[1] - B.check_at[0] >= MS(FG_ICE_TA_MS));
	CU_ASSERT_TRUE(B.check_at[2] - B.check_at[1] >= MS(FG_ICE_TA_MS));
	bench_free();
}

static void test_pair_limit(void)
{
	char line[128];
	unsigned n;

	bench_init();
	for (int i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "198.18.0.%d:51820", i + 1);
		CU_ASSERT_TRUE(bench_host(line) >= 0);
	}
	for (int i = 0; i < FG_ICE_MAX_REMOTE; i++) {
		snprintf(line, sizeof(line), "candidate:%d 1 udp %d 198.18.6.%d 5000 typ host", i, 1000 + i,
			 i + 1);
		CU_ASSERT_EQUAL(bench_remote(line), 0);
	}
	CU_ASSERT_EQUAL(bench_remote("candidate:99 1 udp 5 198.18.7.1 5000 typ host"), -ENOSPC);
	n = bench_pairs();
	CU_ASSERT_EQUAL(n, FG_ICE_MAX_PAIRS);
	CU_ASSERT_EQUAL(cnt()->pairs_dropped, 4 * FG_ICE_MAX_REMOTE - FG_ICE_MAX_PAIRS);
	/* the lowest-priority ones went: none to the first remote candidates */
	CU_ASSERT_PTR_NULL(bench_pair("198.18.6.1:5000"));
	CU_ASSERT_PTR_NOT_NULL(bench_pair("198.18.6.32:5000"));
	/* TCP, other components and another session's candidates are refused */
	CU_ASSERT_EQUAL(bench_remote("candidate:3 1 tcp 1518280447 198.18.5.1 9 typ host tcptype active"),
			-EPROTONOSUPPORT);
	CU_ASSERT_EQUAL(bench_remote("candidate:2 2 udp 2130706430 198.18.5.1 50001 typ host"), -EINVAL);
	CU_ASSERT_EQUAL(bench_remote("candidate:2 1 udp 2130706430 198.18.5.1 50001 typ host ufrag abcd"),
			-EINVAL);
	bench_free();
}

static void test_calls_from_callbacks_refused(void)
{
	bench_init();
	B.reenter = true;
	B.reenter_rc = 0;
	bench_host(GW);
	CU_ASSERT_EQUAL(B.reenter_rc, -EBUSY);
	CU_ASSERT_TRUE(cnt()->reentered >= 1);
	B.reenter = false;
	bench_free();
}

static void collect_line(void *ctx, bool local, const char *line)
{
	unsigned *n = ctx;

	n[local]++;
	CU_ASSERT_EQUAL(fg_ice_cand_parse(line, &(struct fg_ice_cand){ 0 }, NULL, 0), 0);
}

static void test_views_and_names(void)
{
	unsigned n[2] = { 0, 0 };

	bench_init();
	connect_host();
	fg_ice_foreach_candidate(B.a, collect_line, n);
	CU_ASSERT_EQUAL(n[1], 1);
	CU_ASSERT_EQUAL(n[0], 1);
	CU_ASSERT_STRING_EQUAL(fg_ice_state_name(FG_ICE_CONNECTED), "connected");
	CU_ASSERT_STRING_EQUAL(fg_ice_state_name((enum fg_ice_state)0), "?");
	CU_ASSERT_STRING_EQUAL(fg_ice_pair_state_name(FG_ICE_PAIR_IN_PROGRESS), "in-progress");
	CU_ASSERT_STRING_EQUAL(fg_ice_counter_names[0], "rx_requests");
	CU_ASSERT_STRING_EQUAL(fg_ice_counter_names[FG_ICE_N_COUNTERS - 1], "reentered");
	bench_free();
}

static void test_no_secret_in_logs(void)
{
	char path[] = "/tmp/fg-ice-log-XXXXXX", buf[65536];
	int fd = mkstemp(path);
	ssize_t n;

	CU_ASSERT_TRUE_FATAL(fd >= 0);
	unlink(path);
	fg_log_set_fd(fd);
	fg_log_set_level(FG_LOG_DEBUG);
	bench_init();
	connect_host();
	B.deaf = true;
	bench_run(B.now + SEC(700));
	bench_free();
	fg_log_set_level(FG_LOG_WARN);
	fg_log_set_fd(2);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	CU_ASSERT_TRUE_FATAL(n > 0);
	buf[n] = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "nominated"));
	CU_ASSERT_PTR_NULL(strstr(buf, GW_PWD));
	CU_ASSERT_PTR_NULL(strstr(buf, CL_PWD));
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "bad credentials refused", test_new_refuses_bad_credentials },
		{ "local candidates signalled, redundant ones not", test_local_candidates_signalled },
		{ "host pair checked both ways and nominated", test_host_pair_nominated },
		{ "USE-CANDIDATE nominates only a valid pair", test_nomination_waits_for_valid },
		{ "a request triggers a check", test_triggered_check },
		{ "srflx and relayed pairs, the relay in the path", test_srflx_and_relay_pairs },
		{ "answers on a relayed candidate go through its relay", test_relay_answers_go_through_relay },
		{ "peer-reflexive learning and its replacement", test_prflx_learning },
		{ "refused requests: 400, 401, 420, not ours", test_refused_requests },
		{ "role conflict: 487 both ways", test_role_conflict },
		{ "forged and asymmetric responses", test_forged_and_asymmetric_responses },
		{ "an error response fails the pair, 2 s later the agent", test_error_response_fails_pair },
		{ "retransmission schedule and give-up", test_retransmit_schedule_and_give_up },
		{ "no remote candidate within 10 s fails", test_no_remote_candidate_fails },
		{ "migration to a better nominated pair", test_migration_to_better_pair },
		{ "migration away from a silent pair", test_migration_away_from_silent_pair },
		{ "candidate invalidation", test_invalidation },
		{ "redundant remote candidates: one pair, handed over", test_redundant_remote_pairs },
		{ "invalidating the last candidate after 10 s fails", test_invalidation_after_10s_fails },
		{ "idle profile after 20 s, normal on traffic", test_idle_profile },
		{ "keepalive failure after the Firezone timeout", test_keepalive_failure },
		{ "idle keepalive failure after about 1000 s", test_idle_failure },
		{ "probing again once answers go missing", test_outage_probing },
		{ "frozen pairs and Ta pacing", test_frozen_pairs },
		{ "the pair limit and refused remote candidates", test_pair_limit },
		{ "calls from callbacks refused", test_calls_from_callbacks_refused },
		{ "views and names", test_views_and_names },
		{ "no secret in the logs", test_no_secret_in_logs },
	};

	fg_log_set_level(FG_LOG_WARN);   /* nominations are INFO: keep the output to the results */
	return fg_cunit_run("ice", tests, ARRAY_LEN(tests));
}
