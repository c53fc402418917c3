// SPDX-License-Identifier: MIT
/*
 * CUnit suite for controlplane/conn/ (connectivity) on the bench of conn_bench.c: a real
 * dpclient and state against a fake data plane, a scripted TURN relay and a controlling ICE
 * client. It covers the constructor's contract, the `no_relays` rule (at most every 5 s, held
 * while the portal is away, lifted by without_relays), a relay allocation reached through
 * PACKET_OUT / PACKET_IN and its view, the relay's candidates and channels for an agent,
 * an agent's candidates signalled (held, flushed, the early ones kept), a client's check
 * answered and our check back leading to PEER_PATH, hostile PACKET_INs and a seeded
 * mutation loop, and the agents' removal (client gone, the sweep); also the state's array
 * of clients and their PSKs (out of core dumps, nothing left behind). conn runs on the real
 * clock: waits are bounded by deadlines, the longest one the sweep's second (so the 5 s
 * between two `no_relays` is seen only as "not again at once").
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>
#include <sodium.h>

#include "../cunit_run.h"
#include "../smaps_dd.h"
#include "chandata.h"
#include "conn_bench.h"
#include "log.h"
#include "stun.h"

/* ---- 1. the constructor -------------------------------------------------------------------- */

static bool stub_signal(void *ctx, const char *event, const char *client_id, const char *const *lines, unsigned n)
{
	(void)ctx, (void)event, (void)client_id, (void)lines, (void)n;
	return false;
}

static unsigned stub_arms;

static void stub_arm(void *ctx, uint64_t us)
{
	(void)ctx;
	CU_ASSERT(us >= 1);
	stub_arms++;
}

static void test_new_refuses_missing_ops(void)
{
	const struct fg_conn_ops no_arm = { .signal = stub_signal }, no_signal = { .arm = stub_arm };
	const struct fg_conn_ops both = { .signal = stub_signal, .arm = stub_arm };
	struct fg_cp_state st;
	struct fg_dpc dpc;
	struct fg_conn *c;
	cJSON *o;

	fg_dpc_init(&dpc, "/nonexistent/fg-conn-test.sock");
	fg_cp_state_init(&st, &dpc);
	errno = 0;
	CU_ASSERT_PTR_NULL(fg_conn_new(&dpc, &st, NULL, NULL, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(fg_conn_new(&dpc, &st, &no_arm, NULL, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	errno = 0;
	CU_ASSERT_PTR_NULL(fg_conn_new(&dpc, &st, &no_signal, NULL, NULL));
	CU_ASSERT_EQUAL(errno, EINVAL);
	fg_conn_free(NULL);
	/* With both, a data plane not (yet) connected is fine: no host candidate, nothing sent. */
	c = fg_conn_new(&dpc, &st, &both, NULL, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	stub_arms = 0;
	fg_conn_timer(c);
	CU_ASSERT_TRUE(stub_arms >= 1);
	o = fg_conn_json_ice(c);
	CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(o, "host4")));
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(o, "agents")), 0);
	cJSON_Delete(o);
	fg_conn_free(c);
	fg_cp_state_free(&st);
}

/* The state's clients hold the portal's PSKs: their array stays out of core dumps as it
 * grows (never realloc()ed, which would leave copies behind), and a removed client's
 * slot, vacated by the last one moving in, keeps nothing. The data plane is not
 * connected: the pushes wait for a resynchronisation. */
static void test_state_psks(void)
{
	struct fg_cp_state st;
	struct fg_dpc dpc;
	enum { N = 20 };  /* past the first array of 16 */

	fg_dpc_init(&dpc, "/nonexistent/fg-conn-test.sock");
	fg_cp_state_init(&st, &dpc);
	for (int i = 0; i < N; i++) {
		struct fg_cp_client cl;
		struct fg_cp_resource res;

		memset(&cl, 0, sizeof(cl));
		memset(&res, 0, sizeof(res));
		snprintf(cl.id, sizeof(cl.id), "client-%d", i);
		memset(cl.public_key, i + 1, sizeof(cl.public_key));
		memset(cl.psk, 0xa0 + i, sizeof(cl.psk));
		cl.has_psk = true;
		snprintf(res.id, sizeof(res.id), "res");
		res.type = FG_CP_RES_CIDR;
		CU_ASSERT_EQUAL(fg_prefix_parse("10.0.0.0/24", &res.prefix), 0);
		CU_ASSERT_EQUAL_FATAL(fg_cp_authorize(&st, &cl, &res, NULL, NULL), 0);
	}
	CU_ASSERT_EQUAL_FATAL(st.n, N);
	CU_ASSERT_TRUE(fg_test_smaps_dontdump(st.clients, sizeof(*st.clients) * st.cap));
	CU_ASSERT_EQUAL(fg_cp_reject(&st, "client-3", "res"), 0);
	CU_ASSERT_EQUAL_FATAL(st.n, N - 1);
	CU_ASSERT_EQUAL(st.clients[3].psk[0], 0xa0 + N - 1);
	CU_ASSERT_TRUE(sodium_is_zero((const unsigned char *)&st.clients[N - 1], sizeof(st.clients[0])));
	fg_cp_state_free(&st);
}

/* ---- 2. no relays ------------------------------------------------------------------------- */

static void test_no_relays_rate_limited(void)
{
	const struct fg_conn_config lab = { .without_relays = true };
	const struct sig_rec *s;
	cJSON *o;

	bench_init(NULL);
	CU_ASSERT_FALSE(fg_conn_can_confirm(B.c));
	CU_ASSERT_EQUAL(bench_sigs("no_relays", true), 1);
	s = bench_last_sig("no_relays", true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_FALSE(s->has_client);
	CU_ASSERT_EQUAL(s->n, 0);
	/* not again within 5 s */
	CU_ASSERT_FALSE(fg_conn_can_confirm(B.c));
	fg_conn_portal_up(B.c);
	fg_conn_timer(B.c);
	CU_ASSERT_EQUAL(B.nsigs, 1);
	o = fg_conn_json_relays(B.c);
	CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(o, "allocation")));
	CU_ASSERT_EQUAL(num_of(cJSON_GetObjectItem(o, "counters"), "no_relays_sent"), 1);
	CU_ASSERT_EQUAL(num_of(cJSON_GetObjectItem(o, "counters"), "confirmations_withheld"), 2);
	cJSON_Delete(o);
	bench_free();

	/* The portal away: held, offered again, sent once it is back */
	bench_init(NULL);
	B.portal_up = false;
	CU_ASSERT_FALSE(fg_conn_can_confirm(B.c));
	CU_ASSERT_FALSE(fg_conn_can_confirm(B.c));
	CU_ASSERT_TRUE(bench_sigs("no_relays", false) >= 1);
	CU_ASSERT_EQUAL(bench_sigs("no_relays", true), 0);
	B.portal_up = true;
	fg_conn_portal_up(B.c);
	CU_ASSERT_EQUAL(bench_sigs("no_relays", true), 1);
	s = bench_last_sig("no_relays", true);
	CU_ASSERT_FALSE(s->has_client);
	fg_conn_portal_up(B.c);
	CU_ASSERT_FALSE(fg_conn_can_confirm(B.c));
	CU_ASSERT_EQUAL(bench_sigs("no_relays", true), 1);
	CU_ASSERT_EQUAL(bench_sigs(NULL, true), 1);
	bench_free();

	/* FASTGATE_WITHOUT_RELAYS: confirmed, nothing signalled */
	bench_init(&lab);
	CU_ASSERT_TRUE(fg_conn_can_confirm(B.c));
	CU_ASSERT_TRUE(fg_conn_can_confirm(B.c));
	fg_conn_portal_up(B.c);
	CU_ASSERT_EQUAL(B.nsigs, 0);
	o = fg_conn_json_relays(B.c);
	CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(o, "without_relays")));
	CU_ASSERT_EQUAL(num_of(cJSON_GetObjectItem(o, "counters"), "confirmations_withheld"), 0);
	cJSON_Delete(o);
	bench_free();
}

/* ---- 3. a relay allocation ----------------------------------------------------------------- */

static void test_relay_allocation(void)
{
	struct fg_relay_info in;
	const char *const gone[] = { RELAY_ID };
	struct fg_stun_builder b;
	struct fg_stun_msg m;
	const struct pkt *p;
	const cJSON *r, *k;
	uint8_t buf[256], u8;
	unsigned binds;
	cJSON *o;
	int n;

	bench_init(NULL);
	in = bench_relay_info();
	fg_conn_relays(B.c, &in, 1, NULL, 0, true);
	memset(in.password, 0, sizeof(in.password));
	bench_pump();
	/* BINDING to the relay, from the WireGuard port, unauthenticated */
	CU_ASSERT_EQUAL(bench_count_pkts(NULL), 1);
	p = bench_find(&B.relay, FG_STUN_REQUEST, NULL, &m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(p->channel, 0);
	CU_ASSERT_EQUAL(m.method, FG_STUN_BINDING);
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_USERNAME));
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY));
	/* its retransmission (1 s) is what the owner's timer is armed for, at most */
	CU_ASSERT_TRUE(B.narms >= 1);
	CU_ASSERT_TRUE(B.armed_us <= 1000000);
	/* no allocation yet */
	o = fg_conn_json_relays(B.c);
	CU_ASSERT_TRUE(cJSON_IsFalse(cJSON_GetObjectItem(o, "allocation")));
	r = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "relays"), 0);
	CU_ASSERT_STRING_EQUAL(str_of(r, "state"), "binding");
	cJSON_Delete(o);
	/* the answer, punted back from the relay's address */
	fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_SUCCESS, m.txid);
	fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &B.relay_srflx);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_FATAL(n > 0);
	bench_clear_pkts();
	bench_punt(&B.relay, NULL, 0, buf, (size_t)n);
	CU_ASSERT_EQUAL(ice_counter("relay_packets"), 1);
	/* ALLOCATE follows: UDP, unauthenticated first */
	p = bench_find(&B.relay, FG_STUN_REQUEST, NULL, &m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(m.method, FG_STUN_ALLOCATE);
	CU_ASSERT_EQUAL(fg_stun_get_transport(&m, &u8), 0);
	CU_ASSERT_EQUAL(u8, FG_STUN_PROTO_UDP);
	CU_ASSERT_FALSE(fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY));
	/* the fake relay does the rest: 401, the authenticated ALLOCATE, its success */
	bench_serve();
	CU_ASSERT_EQUAL(B.relay_allocate_unauth, 1);
	CU_ASSERT_EQUAL(B.relay_allocate, 1);
	CU_ASSERT_FALSE(B.relay_bad);
	CU_ASSERT_TRUE(fg_conn_can_confirm(B.c));
	o = fg_conn_json_relays(B.c);
	CU_ASSERT_TRUE(cJSON_IsTrue(cJSON_GetObjectItem(o, "allocation")));
	CU_ASSERT_EQUAL_FATAL(cJSON_GetArraySize(cJSON_GetObjectItem(o, "relays")), 1);
	r = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "relays"), 0);
	CU_ASSERT_STRING_EQUAL(str_of(r, "id"), RELAY_ID);
	CU_ASSERT_STRING_EQUAL(str_of(r, "state"), "allocated");
	CU_ASSERT_STRING_EQUAL(str_of(r, "active"), RELAY_ADDR);
	CU_ASSERT_STRING_EQUAL(str_of(r, "username"), RELAY_USER);
	CU_ASSERT_TRUE(json_array_has(cJSON_GetObjectItem(r, "srflx"), RELAY_SRFLX));
	CU_ASSERT_TRUE(json_array_has(cJSON_GetObjectItem(r, "relayed"), RELAY_RELAYED));
	CU_ASSERT_TRUE(num_of(r, "expires_in_s") > 500);
	k = cJSON_GetObjectItem(o, "counters");
	CU_ASSERT_EQUAL(num_of(k, "allocations"), 1);
	CU_ASSERT_EQUAL(num_of(k, "no_relays_sent"), 0);
	CU_ASSERT_EQUAL(B.nsigs, 0);
	{
		char *text = cJSON_PrintUnformatted(o);

		CU_ASSERT_PTR_NOT_NULL_FATAL(text);
		CU_ASSERT_PTR_NULL(strstr(text, RELAY_PASS));
		free(text);
	}
	cJSON_Delete(o);
	/* The relay goes: its channels leave the data plane, and `no_relays` is signalled at
	 * once (the last allocation went); a withheld authorization right after does not ask
	 * again (at most every 5 s). */
	binds = chan_recs(true, NULL, 0xffff);
	fg_conn_relays(B.c, NULL, 0, gone, 1, false);
	bench_pump();
	/* the allocation lost, then the relay removed: each unbinds the whole relay */
	CU_ASSERT_TRUE(chan_recs(false, NULL, 0) >= 1);
	CU_ASSERT_EQUAL(chan_recs(true, NULL, 0xffff), binds);
	CU_ASSERT_EQUAL(bench_sigs("no_relays", true), 1);
	CU_ASSERT_FALSE(fg_conn_can_confirm(B.c));
	CU_ASSERT_EQUAL(bench_sigs("no_relays", true), 1);
	bench_free();
}

/* The relay's candidates for an agent, a channel per remote srflx, the relay's removal. */
static void test_relay_candidates_and_channels(void)
{
	const char *const gone[] = { RELAY_ID };
	const struct fg_endpoint srflx = ep(CL_SRFLX);
	const cJSON *r, *ch;
	cJSON *o;

	bench_init(NULL);
	bench_relay_up();
	bench_authorize(CLIENT_ID, 0x11);
	CU_ASSERT_TRUE(signalled("broadcast_ice_candidates", CLIENT_ID, "198.18.111.1 51820 typ host"));
	CU_ASSERT_TRUE(signalled("broadcast_ice_candidates", CLIENT_ID, "203.0.113.9 47717 typ srflx"));
	CU_ASSERT_TRUE(signalled("broadcast_ice_candidates", CLIENT_ID, "198.51.100.5 49152 typ relay"));
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_STRING_EQUAL(str_of(ice_agent(o, CLIENT_ID), "relay_id"), RELAY_ID);
	cJSON_Delete(o);
	/* the client's server-reflexive candidate: a channel at the relay and in the data plane */
	add_candidate(CLIENT_ID, CL_SRFLX_LINE, false);
	bench_serve();
	CU_ASSERT_EQUAL(B.relay_chanbind, 1);
	CU_ASSERT_TRUE(fg_endpoint_equal(&B.relay_last_peer, &srflx));
	CU_ASSERT_TRUE(B.relay_last_channel >= FG_STUN_CHANNEL_MIN && B.relay_last_channel <= FG_STUN_CHANNEL_MAX);
	CU_ASSERT_TRUE(chan_recs(true, &srflx, B.relay_last_channel) >= 1);
	o = fg_conn_json_relays(B.c);
	r = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "relays"), 0);
	ch = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "channels"), 0);
	CU_ASSERT_STRING_EQUAL(str_of(ch, "peer"), CL_SRFLX);
	CU_ASSERT_STRING_EQUAL(str_of(ch, "state"), "bound");
	CU_ASSERT_EQUAL(num_of(ch, "number"), B.relay_last_channel);
	cJSON_Delete(o);
	CU_ASSERT_TRUE(ice_counter("channel_binds") >= 1);
	CU_ASSERT_EQUAL(ice_counter("channel_bind_failed"), 0);
	/* the relay goes: its candidates are withdrawn, its channels unbound in the data plane */
	fg_conn_relays(B.c, NULL, 0, gone, 1, false);
	bench_pump();
	CU_ASSERT_TRUE(chan_recs(false, NULL, 0) >= 1);
	CU_ASSERT_TRUE(signalled("broadcast_invalidated_ice_candidates", CLIENT_ID, "198.51.100.5 49152 typ relay"));
	CU_ASSERT_TRUE(signalled("broadcast_invalidated_ice_candidates", CLIENT_ID, "203.0.113.9 47717 typ srflx"));
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_TRUE(cJSON_IsNull(cJSON_GetObjectItem(ice_agent(o, CLIENT_ID), "relay_id")));
	cJSON_Delete(o);
	bench_free();
}

/* ---- 4. an agent's candidates ------------------------------------------------------------- */

static void test_agent_candidates_held_and_early(void)
{
	const struct sig_rec *s;
	cJSON *o, *a, *cands;

	bench_init(NULL);
	/* the client's candidate before its authorization: kept */
	add_candidate(CLIENT_ID, CL_LINE, false);
	o = fg_conn_json_ice(B.c);
	a = ice_agent(o, CLIENT_ID);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(str_of(a, "state"), "waiting");
	CU_ASSERT_EQUAL(num_of(a, "remote_candidates"), 1);
	CU_ASSERT_STRING_EQUAL(str_of(o, "host4"), HOST4);
	cJSON_Delete(o);
	CU_ASSERT_EQUAL(B.nsigs, 0);
	/* authorized while the portal is away: the host candidate is held */
	B.portal_up = false;
	bench_authorize(CLIENT_ID, 0x22);
	s = bench_last_sig("broadcast_ice_candidates", false);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_TRUE(s->has_client);
	CU_ASSERT_STRING_EQUAL(s->client_id, CLIENT_ID);
	CU_ASSERT_TRUE(sig_has_line(s, "198.18.111.1 51820 typ host"));
	CU_ASSERT_EQUAL(bench_sigs(NULL, true), 0);
	o = fg_conn_json_ice(B.c);
	a = ice_agent(o, CLIENT_ID);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_STRING_EQUAL(str_of(a, "state"), "checking");
	CU_ASSERT_TRUE(num_of(a, "held_signals") > 0);
	cands = cJSON_GetObjectItem(a, "candidates");
	CU_ASSERT_TRUE(json_array_has(cJSON_GetObjectItem(cands, "local"), "198.18.111.1 51820 typ host"));
	CU_ASSERT_TRUE(json_array_has(cJSON_GetObjectItem(cands, "remote"), "203.0.113.50 40000 typ host"));
	CU_ASSERT_EQUAL(num_of(cJSON_GetObjectItem(o, "counters"), "agents_created"), 1);
	CU_ASSERT_TRUE(num_of(cJSON_GetObjectItem(o, "counters"), "signals_held") >= 1);
	CU_ASSERT_EQUAL(num_of(cJSON_GetObjectItem(o, "counters"), "signals_sent"), 0);
	cJSON_Delete(o);
	/* the portal is back: flushed, once */
	B.portal_up = true;
	fg_conn_portal_up(B.c);
	CU_ASSERT_EQUAL(bench_sigs("broadcast_ice_candidates", true), 1);
	CU_ASSERT_TRUE(signalled("broadcast_ice_candidates", CLIENT_ID, "198.18.111.1 51820 typ host"));
	fg_conn_portal_up(B.c);
	CU_ASSERT_EQUAL(bench_sigs("broadcast_ice_candidates", true), 1);
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_EQUAL(num_of(ice_agent(o, CLIENT_ID), "held_signals"), 0);
	CU_ASSERT_EQUAL(num_of(cJSON_GetObjectItem(o, "counters"), "signals_sent"), 1);
	cJSON_Delete(o);
	/* the candidate withdrawn: the agent forgets it */
	add_candidate(CLIENT_ID, CL_LINE, true);
	o = fg_conn_json_ice(B.c);
	cands = cJSON_GetObjectItem(ice_agent(o, CLIENT_ID), "candidates");
	CU_ASSERT_EQUAL(cJSON_GetArraySize(cJSON_GetObjectItem(cands, "remote")), 0);
	cJSON_Delete(o);
	/* an invalidation for a client nobody knows creates nothing */
	add_candidate(CLIENT2_ID, CL_LINE, true);
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_PTR_NULL(ice_agent(o, CLIENT2_ID));
	cJSON_Delete(o);
	bench_free();
}

/* Changes held while the portal is away cancel out: a candidate withdrawn before it was ever
 * signalled is never signalled at all. A new uplink after a data plane restart replaces the
 * host candidate. */
static void test_held_changes_cancel_and_new_uplink(void)
{
	const char *const gone[] = { RELAY_ID };
	const struct sig_rec *s;
	cJSON *o;

	bench_init(NULL);
	bench_relay_up();
	B.portal_up = false;
	bench_authorize(CLIENT_ID, 0x88);
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_EQUAL(num_of(ice_agent(o, CLIENT_ID), "held_signals"), 3);   /* host, srflx, relay */
	cJSON_Delete(o);
	fg_conn_relays(B.c, NULL, 0, gone, 1, false);
	bench_pump();
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_EQUAL(num_of(ice_agent(o, CLIENT_ID), "held_signals"), 1);
	cJSON_Delete(o);
	B.portal_up = true;
	fg_conn_portal_up(B.c);
	CU_ASSERT_EQUAL(bench_sigs("broadcast_ice_candidates", true), 1);
	CU_ASSERT_EQUAL(bench_sigs("broadcast_invalidated_ice_candidates", true), 0);
	s = bench_last_sig("broadcast_ice_candidates", true);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->n, 1);
	CU_ASSERT_TRUE(sig_has_line(s, "198.18.111.1 51820 typ host"));
	/* the data plane came back with another uplink address */
	CU_ASSERT_EQUAL(fg_ip_parse("198.18.111.2", &B.dpc.hello.uplink4), 0);
	fg_conn_dp_up(B.c);
	bench_pump();
	CU_ASSERT_TRUE(signalled("broadcast_invalidated_ice_candidates", CLIENT_ID, "198.18.111.1 51820 typ host"));
	CU_ASSERT_TRUE(signalled("broadcast_ice_candidates", CLIENT_ID, "198.18.111.2 51820 typ host"));
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_STRING_EQUAL(str_of(o, "host4"), "198.18.111.2:51820");
	cJSON_Delete(o);
	bench_free();
}

/* ---- 5. a client's checks and the path -------------------------------------------------------- */

static bool path_set(void)
{
	return B.npaths > 0;
}

static void test_check_nominates_path(void)
{
	const struct fg_endpoint cl = ep(CL_ADDR);
	struct fg_ctl_event hs;
	uint8_t buf[512], txid[FG_STUN_TXID_LEN];
	const cJSON *nom;
	size_t len;
	cJSON *o, *a;

	bench_init(NULL);
	bench_authorize(CLIENT_ID, 0x33);
	add_candidate(CLIENT_ID, CL_LINE, false);
	bench_clear_pkts();
	/* the client's nominating check, from its address: answered from the WireGuard port */
	len = bench_request(buf, sizeof(buf), NULL, true, txid);
	bench_punt(&cl, NULL, 0, buf, len);
	expect_answer(&cl, txid);
	CU_ASSERT_EQUAL(ice_counter("ice_requests"), 1);
	/* our checks back are answered by the client: the pair is nominated, the path set */
	CU_ASSERT_TRUE_FATAL(bench_drive(path_set, 5000));
	CU_ASSERT_EQUAL(B.npaths, 1);
	CU_ASSERT_EQUAL(memcmp(B.paths[0].public_key, B.client_key, 32), 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&B.paths[0].ep, &cl));
	CU_ASSERT_EQUAL(B.paths[0].channel, 0);
	CU_ASSERT_TRUE(B.client_checks >= 1);
	CU_ASSERT_TRUE(ice_counter("ice_responses") >= 1);
	CU_ASSERT_EQUAL(ice_counter("paths_set"), 1);
	o = fg_conn_json_ice(B.c);
	a = ice_agent(o, CLIENT_ID);
	CU_ASSERT_STRING_EQUAL(str_of(a, "state"), "connected");
	nom = cJSON_GetObjectItem(a, "nominated");
	CU_ASSERT_STRING_EQUAL(str_of(nom, "type"), "direct");
	CU_ASSERT_STRING_EQUAL(str_of(nom, "wireguard_endpoint"), CL_ADDR);
	CU_ASSERT_EQUAL(num_of(nom, "channel"), 0);
	CU_ASSERT_PTR_NULL(strstr(str_of(a, "local_ufrag"), GW_PWD));
	cJSON_Delete(o);
	/* a data plane restart: the path is pushed again */
	fg_conn_dp_up(B.c);
	bench_pump();
	CU_ASSERT_EQUAL(B.npaths, 2);
	CU_ASSERT_TRUE(fg_endpoint_equal(&B.paths[1].ep, &cl));
	/* a handshake is tunnel traffic for the agent; another key's changes nothing */
	memset(&hs, 0, sizeof(hs));
	hs.kind = FG_CTL_EV_HANDSHAKE;
	memcpy(hs.public_key, B.client_key, 32);
	fg_conn_dp_event(B.c, &hs);
	hs.public_key[0] ^= 1;
	fg_conn_dp_event(B.c, &hs);
	hs.kind = FG_CTL_EV_PEER_EXPIRED;
	fg_conn_dp_event(B.c, &hs);
	bench_pump();
	CU_ASSERT_EQUAL(B.npaths, 2);
	bench_free();
}

/* The same through the relay: the client's check inside the channel to its srflx address,
 * our answer and check back as ChannelData, a relayed path (the relay and the channel). */
static void test_relayed_path(void)
{
	const struct fg_endpoint srflx = ep(CL_SRFLX);
	uint8_t buf[512], txid[FG_STUN_TXID_LEN];
	struct fg_endpoint mapped;
	struct fg_stun_msg m;
	const cJSON *nom;
	uint16_t ch;
	size_t len;
	cJSON *o;

	bench_init(NULL);
	bench_relay_up();
	bench_authorize(CLIENT_ID, 0x77);
	add_candidate(CLIENT_ID, CL_SRFLX_LINE, false);
	bench_serve();
	CU_ASSERT_EQUAL_FATAL(B.relay_chanbind, 1);
	ch = B.relay_last_channel;
	bench_clear_pkts();
	len = bench_request(buf, sizeof(buf), NULL, true, txid);
	bench_punt(&B.relay, &srflx, ch, buf, len);
	CU_ASSERT_EQUAL(ice_counter("ice_requests"), 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(find_chandata(ch, FG_STUN_SUCCESS, txid, &m));
	CU_ASSERT_EQUAL(fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &mapped), 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&mapped, &srflx));
	CU_ASSERT_EQUAL(fg_stun_check_integrity(&m, &B.gw_key), 0);
	CU_ASSERT_TRUE_FATAL(bench_drive(path_set, 5000));
	CU_ASSERT_EQUAL(B.npaths, 1);
	CU_ASSERT_EQUAL(memcmp(B.paths[0].public_key, B.client_key, 32), 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&B.paths[0].ep, &B.relay));
	CU_ASSERT_EQUAL(B.paths[0].channel, ch);
	CU_ASSERT_TRUE(chan_recs(true, &srflx, ch) >= 1);
	o = fg_conn_json_ice(B.c);
	nom = cJSON_GetObjectItem(ice_agent(o, CLIENT_ID), "nominated");
	CU_ASSERT_STRING_EQUAL(str_of(nom, "type"), "relayed");
	CU_ASSERT_STRING_EQUAL(str_of(nom, "relay_id"), RELAY_ID);
	CU_ASSERT_STRING_EQUAL(str_of(nom, "wireguard_endpoint"), RELAY_ADDR);
	CU_ASSERT_STRING_EQUAL(str_of(nom, "remote"), CL_SRFLX);
	CU_ASSERT_EQUAL(num_of(nom, "channel"), ch);
	cJSON_Delete(o);
	/* a data plane restart: the channel and the path pushed again */
	B.nchans = 0;
	fg_conn_dp_up(B.c);
	bench_pump();
	CU_ASSERT_TRUE(chan_recs(true, &srflx, ch) >= 1);
	CU_ASSERT_EQUAL(B.npaths, 2);
	CU_ASSERT_EQUAL(B.paths[1].channel, ch);
	bench_free();
}

/* ---- 6. hostile packets -------------------------------------------------------------------- */

/* A relay, an authorized client with its candidate, nothing recorded. */
static void hostile_setup(void)
{
	bench_init(NULL);
	bench_relay_up();
	bench_authorize(CLIENT_ID, 0x44);
	add_candidate(CLIENT_ID, CL_LINE, false);
	bench_serve();
	bench_clear_pkts();
}

struct snap {
	double unmatched, unrouted, data_ind, packets_in, requests;
};

static struct snap snap(void)
{
	return (struct snap){ ice_counter("unmatched"), ice_counter("unrouted_requests"),
			      ice_counter("data_indications"), ice_counter("packets_in"), ice_counter("ice_requests") };
}

static void expect_delta(const struct snap *s0, double unmatched, double unrouted, double data_ind)
{
	struct snap s = snap();

	CU_ASSERT_EQUAL(s.unmatched - s0->unmatched, unmatched);
	CU_ASSERT_EQUAL(s.unrouted - s0->unrouted, unrouted);
	CU_ASSERT_EQUAL(s.data_ind - s0->data_ind, data_ind);
	CU_ASSERT_EQUAL(s.packets_in - s0->packets_in, 1);
}

static void test_hostile_packets(void)
{
	const struct fg_endpoint cl = ep(CL_ADDR), stranger = ep("198.51.100.77:3478");
	const struct fg_endpoint natted = ep("203.0.113.50:40111"), v6 = ep("[2001:db8::50]:40000");
	uint8_t req[512], buf[1024], txid[FG_STUN_TXID_LEN], junk[64];
	size_t rlen, n;
	struct snap s0;
	uint64_t dropped;
	double relayed;

	hostile_setup();
	rlen = bench_request(req, sizeof(req), NULL, false, txid);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)bench_rand();
	junk[0] = 0x00;   /* STUN's first bits, not its cookie */

#define HOSTILE(src, peer, ch, b, cap, len, um, ur, di)             \
	do {                                                        \
		s0 = snap();                                        \
		bench_inject((src), (peer), (ch), (b), (cap), (len)); \
		expect_delta(&s0, (um), (ur), (di));                \
	} while (0)

	HOSTILE(&cl, NULL, 0, NULL, 0, 0, 1, 0, 0);                          /* empty */
	HOSTILE(&cl, NULL, 0, req, 1, 1, 1, 0, 0);                           /* one byte */
	HOSTILE(&cl, NULL, 0, junk, sizeof(junk), sizeof(junk), 1, 0, 0);    /* random bytes */
	HOSTILE(&cl, NULL, 0, req, rlen - 9, (uint16_t)(rlen - 9), 1, 0, 0); /* truncated STUN */
	HOSTILE(&cl, NULL, 0, req, 20, 20, 1, 0, 0);                         /* its header alone */
	/* the len field shorter than the message the header announces, the rest still there */
	HOSTILE(&cl, NULL, 0, req, rlen, (uint16_t)(rlen - 4), 1, 0, 0);
	/* trailing bytes after a whole message */
	memcpy(buf, req, rlen);
	memset(buf + rlen, 0xee, 16);
	HOSTILE(&cl, NULL, 0, buf, rlen + 16, (uint16_t)(rlen + 16), 1, 0, 0);
	/* a header that claims 0xfffc bytes */
	memcpy(buf, req, 20);
	buf[2] = 0xff;
	buf[3] = 0xfc;
	HOSTILE(&cl, NULL, 0, buf, 20, 20, 1, 0, 0);
	/* a Binding request for a ufrag no agent has */
	n = bench_request(buf, sizeof(buf), "zzzz", true, txid);
	HOSTILE(&cl, NULL, 0, buf, n, (uint16_t)n, 1, 1, 0);
	/* inside a channel of something that is no relay, and of the relay for a family it lacks */
	HOSTILE(&stranger, &cl, 0x4001, req, rlen, (uint16_t)rlen, 1, 0, 0);
	HOSTILE(&B.relay, &v6, 0x4001, req, rlen, (uint16_t)rlen, 1, 0, 0);
	/* from an IPv6 source: no host candidate of that family */
	HOSTILE(&v6, NULL, 0, req, rlen, (uint16_t)rlen, 1, 0, 0);
	/* Data indications: without XOR-PEER-ADDRESS, without DATA, with junk, from a stranger */
	n = data_indication(buf, sizeof(buf), NULL, req, rlen);
	HOSTILE(&B.relay, NULL, 0, buf, n, (uint16_t)n, 1, 0, 1);
	n = data_indication(buf, sizeof(buf), &natted, NULL, 0);
	HOSTILE(&B.relay, NULL, 0, buf, n, (uint16_t)n, 1, 0, 1);
	n = data_indication(buf, sizeof(buf), &natted, junk, sizeof(junk));
	HOSTILE(&B.relay, NULL, 0, buf, n, (uint16_t)n, 1, 0, 1);
	n = data_indication(buf, sizeof(buf), &v6, req, rlen);
	HOSTILE(&B.relay, NULL, 0, buf, n, (uint16_t)n, 1, 0, 1);
	n = data_indication(buf, sizeof(buf), &natted, req, rlen);
	HOSTILE(&stranger, NULL, 0, buf, n, (uint16_t)n, 1, 0, 0);
	HOSTILE(&cl, NULL, 0, buf, n, (uint16_t)n, 1, 0, 0);
	/* other STUN from the relay goes to the TURN client, which drops it */
	s0 = snap();
	relayed = ice_counter("relay_packets");
	bench_inject(&B.relay, NULL, 0, req, rlen, (uint16_t)rlen);
	expect_delta(&s0, 0, 0, 0);
	CU_ASSERT_EQUAL(ice_counter("relay_packets") - relayed, 1);
#undef HOSTILE
	CU_ASSERT_EQUAL(B.npaths, 0);

	/* A Data indication of the client's check through the relay from a new port (its NAT):
	 * the agent answers through the relay and binds a channel to that peer. */
	s0 = snap();
	bench_clear_pkts();
	n = bench_request(req, sizeof(req), NULL, false, txid);
	n = data_indication(buf, sizeof(buf), &natted, req, n);
	bench_inject(&B.relay, NULL, 0, buf, n, (uint16_t)n);
	bench_serve();
	CU_ASSERT_EQUAL(ice_counter("data_indications") - s0.data_ind, 1);
	CU_ASSERT_EQUAL(ice_counter("ice_requests") - s0.requests, 1);
	CU_ASSERT_EQUAL(ice_counter("unmatched"), s0.unmatched);
	CU_ASSERT_TRUE(chan_recs(true, &natted, 0xffff) >= 1);
	CU_ASSERT_TRUE(B.relay_chandata >= 1);

	/* and a legitimate check after all that still works */
	s0 = snap();
	bench_clear_pkts();
	rlen = bench_request(req, sizeof(req), NULL, false, txid);
	bench_punt(&cl, NULL, 0, req, rlen);
	expect_answer(&cl, txid);
	CU_ASSERT_EQUAL(ice_counter("ice_requests") - s0.requests, 1);

	/* Through the socket: a PACKET_IN whose len says more than follows, and an empty one,
	 * are dropped by the dpclient and never reach conn; the connection stays. */
	CU_ASSERT_EQUAL(B.dpc.nreqs, 0);
	s0 = snap();
	dropped = B.dpc.packets_dropped;
	{
		_Alignas(max_align_t) uint8_t m[sizeof(struct fg_ctl_packet_in) + 16];
		struct fg_ctl_packet_in *pi = (void *)m;

		memset(m, 0, sizeof(m));
		pi->h.version = FG_CTL_VERSION;
		pi->h.type = FG_CTL_PACKET_IN;
		pi->src = cl;
		pi->len = 100;
		memcpy(pi->payload, req, 16);
		bench_dp_send(m, sizeof(m));
		pi->len = 0;
		bench_dp_send(m, sizeof(*pi));
	}
	bench_punt(&cl, NULL, 0, req, rlen);   /* and a good one still flows */
	CU_ASSERT_EQUAL(ice_counter("packets_in") - s0.packets_in, 1);
	CU_ASSERT_EQUAL(B.dpc.packets_dropped, dropped + 1);   /* the empty one; the other is junk */
	CU_ASSERT_TRUE(fg_dpc_connected(&B.dpc));
	bench_free();
}

/* ---- 6b. a seeded mutation loop -------------------------------------------------------------- */

enum { FUZZ_ROUNDS = 3000 };

struct base {
	uint8_t buf[600];
	size_t len;
	const struct fg_endpoint *src, *peer;
	uint16_t channel;
};

static void mutate(uint8_t *buf, size_t *len, size_t cap)
{
	unsigned ops = 1 + (unsigned)(bench_rand() % 4);

	for (unsigned k = 0; k < ops; k++) {
		uint64_t r = bench_rand();
		size_t at = *len ? (size_t)(r >> 8) % *len : 0;

		switch (r % 7) {
		case 0: /* flip a bit */
			if (*len)
				buf[at] ^= (uint8_t)(1u << ((r >> 40) % 8));
			break;
		case 1: /* a random byte */
			if (*len)
				buf[at] = (uint8_t)(r >> 32);
			break;
		case 2: /* truncate */
			*len = at;
			break;
		case 3: /* grow with random bytes */
			for (size_t i = 0, add = 1 + (r >> 16) % 64; i < add && *len < cap; i++)
				buf[(*len)++] = (uint8_t)bench_rand();
			break;
		case 4: /* the STUN length field */
			if (*len >= 4) {
				buf[2] = (uint8_t)(r >> 24);
				buf[3] = (uint8_t)(r >> 32) & 0xfc;
			}
			break;
		case 5: /* an attribute's length (the first one's, at 22) */
			if (*len >= 24)
				buf[22 + ((r >> 20) & 1)] = (uint8_t)(r >> 28);
			break;
		default: /* the message type */
			if (*len >= 2) {
				buf[0] = (uint8_t)(r >> 12) & 0x3f;
				buf[1] = (uint8_t)(r >> 24);
			}
			break;
		}
	}
}

static void test_mutations(void)
{
	const struct fg_endpoint cl = ep(CL_ADDR), stranger = ep("198.51.100.77:3478");
	const struct fg_endpoint natted = ep("203.0.113.50:40111");
	const struct fg_endpoint *srcs[3] = { &cl, &B.relay, &stranger };
	struct fg_stun_key relay_key;
	static struct base base[6];
	uint8_t buf[FG_CTL_MAX_PACKET], req[512], txid[FG_STUN_TXID_LEN];
	size_t rlen;
	struct snap s0;
	unsigned punted;

	hostile_setup();
	srcs[1] = &B.relay;
	relay_key = B.relay_key;
	rlen = bench_request(req, sizeof(req), NULL, true, txid);
	memcpy(base[0].buf, req, rlen);
	base[0].len = rlen;
	base[0].src = &cl;
	base[1].len = signed_success(base[1].buf, sizeof(base[1].buf), FG_STUN_BINDING, &B.cl_key, &B.host4, NULL);
	base[1].src = &cl;
	base[2].len = signed_success(base[2].buf, sizeof(base[2].buf), FG_STUN_ALLOCATE, &relay_key,
				     &B.relay_srflx, &B.relay_relayed);
	base[2].src = &B.relay;
	base[3].len = data_indication(base[3].buf, sizeof(base[3].buf), &natted, req, rlen);
	base[3].src = &B.relay;
	memcpy(base[4].buf, req, rlen);
	base[4].len = rlen;
	base[4].src = &B.relay;
	base[4].peer = &cl;
	base[4].channel = 0x4000;
	base[5].len = signed_success(base[5].buf, sizeof(base[5].buf), FG_STUN_CHANNEL_BIND, &relay_key,
				     &B.relay_srflx, NULL);
	base[5].src = &B.relay;

	s0 = snap();
	punted = B.npunted;
	for (unsigned round = 0; round < FUZZ_ROUNDS; round++) {
		const struct base *bs = &base[bench_rand() % 6];
		const struct fg_endpoint *src = bs->src;
		uint16_t channel = bs->channel;
		size_t len = bs->len;

		memcpy(buf, bs->buf, len);
		mutate(buf, &len, sizeof(buf));
		if (bench_rand() % 8 == 0)
			src = srcs[bench_rand() % 3];
		if (bench_rand() % 16 == 0)
			channel = (uint16_t)(0x4000 + bench_rand() % 0x1000);
		bench_inject(src, channel ? (bs->peer ? bs->peer : &cl) : NULL, channel, buf, len, (uint16_t)len);
		if (round % 64 == 63) {
			bench_serve();
			bench_clear_pkts();
		}
	}
	/* every one reached conn, besides what the fakes answered in between */
	CU_ASSERT_EQUAL(ice_counter("packets_in") - s0.packets_in, FUZZ_ROUNDS + (B.npunted - punted));
	CU_ASSERT_TRUE(ice_counter("unmatched") - s0.unmatched > FUZZ_ROUNDS / 4);
	CU_ASSERT_TRUE(fg_dpc_connected(&B.dpc));
	/* everything still works */
	bench_serve();
	bench_clear_pkts();
	rlen = bench_request(req, sizeof(req), NULL, false, txid);
	bench_punt(&cl, NULL, 0, req, rlen);
	expect_answer(&cl, txid);
	CU_ASSERT_TRUE(fg_conn_can_confirm(B.c));
	fg_stun_key_wipe(&relay_key);
	bench_free();
}

/* ---- 7. client gone, the timer, the sweep ------------------------------------------------------ */

static void test_client_gone_and_timer(void)
{
	const struct fg_endpoint cl = ep(CL_ADDR);
	uint8_t buf[512], txid[FG_STUN_TXID_LEN];
	unsigned arms;
	size_t n;
	cJSON *o;

	bench_init(NULL);
	/* nothing due: the timer runs, re-arms, sends and signals nothing */
	arms = B.narms;
	fg_conn_timer(B.c);
	fg_conn_timer(B.c);
	bench_pump();
	CU_ASSERT_TRUE(B.narms > arms);
	CU_ASSERT_EQUAL(B.nsigs, 0);
	CU_ASSERT_EQUAL(B.npkts, 0);
	bench_authorize(CLIENT_ID, 0x55);
	/* the same credentials again: the same agent; others: a new one */
	CU_ASSERT_EQUAL(fg_conn_authorize(B.c, CLIENT_ID, B.client_key, GW_UFRAG, GW_PWD, CL_UFRAG, CL_PWD), 0);
	CU_ASSERT_EQUAL(ice_counter("agents_created"), 1);
	CU_ASSERT_EQUAL(ice_counter("agents_replaced"), 0);
	CU_ASSERT_EQUAL(fg_conn_authorize(B.c, CLIENT_ID, B.client_key, GW_UFRAG, GW_PWD, "wxyz", CL_PWD), 0);
	CU_ASSERT_EQUAL(ice_counter("agents_replaced"), 1);
	CU_ASSERT_EQUAL(fg_conn_authorize(B.c, CLIENT_ID, B.client_key, GW_UFRAG, GW_PWD, CL_UFRAG, CL_PWD), 0);
	/* credentials of the wrong form: refused */
	CU_ASSERT_EQUAL(fg_conn_authorize(B.c, CLIENT2_ID, B.client_key, "ab", "short", CL_UFRAG, CL_PWD), -EINVAL);
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_STRING_EQUAL(str_of(ice_agent(o, CLIENT_ID), "state"), "checking");
	cJSON_Delete(o);
	/* gone: the agent with it; its ufrag routes nowhere */
	fg_conn_client_gone(B.c, CLIENT_ID);
	fg_conn_client_gone(B.c, CLIENT_ID);
	fg_conn_client_gone(B.c, "nobody");
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_PTR_NULL(ice_agent(o, CLIENT_ID));
	CU_ASSERT_EQUAL(num_of(cJSON_GetObjectItem(o, "counters"), "agents_removed"), 1);
	cJSON_Delete(o);
	n = bench_request(buf, sizeof(buf), NULL, true, txid);
	bench_punt(&cl, NULL, 0, buf, n);
	CU_ASSERT_EQUAL(ice_counter("unrouted_requests"), 1);
	CU_ASSERT_PTR_NULL(bench_find(&cl, FG_STUN_SUCCESS, txid, &(struct fg_stun_msg){ 0 }));
	fg_conn_timer(B.c);
	bench_free();
}

static bool second_gone(void)
{
	cJSON *o = fg_conn_json_ice(B.c);
	bool gone = ice_agent(o, CLIENT2_ID) == NULL;

	cJSON_Delete(o);
	return gone;
}

static void test_sweep_drops_unauthorized(void)
{
	uint8_t key[32];
	cJSON *o;

	bench_init(NULL);
	bench_authorize(CLIENT_ID, 0x66);
	add_candidate(CLIENT_ID, CL_LINE, false);
	/* an agent for a client the state does not hold, and candidates of a third */
	memset(key, 0x67, sizeof(key));
	CU_ASSERT_EQUAL(fg_conn_authorize(B.c, CLIENT2_ID, key, "abcd", GW_PWD, "efgh", CL_PWD), 0);
	add_candidate("third", CL_LINE, false);
	B.client_silent = true;
	CU_ASSERT_TRUE(bench_drive(second_gone, 3000));
	o = fg_conn_json_ice(B.c);
	CU_ASSERT_PTR_NOT_NULL(ice_agent(o, CLIENT_ID));
	CU_ASSERT_STRING_EQUAL(str_of(ice_agent(o, "third"), "state"), "waiting");
	CU_ASSERT_EQUAL(num_of(cJSON_GetObjectItem(o, "counters"), "agents_removed"), 1);
	cJSON_Delete(o);
	bench_free();
}

int main(void)
{
	static const struct fg_cunit_test tests[] = {
		{ "new: ops required, free(NULL)", test_new_refuses_missing_ops },
		{ "state: the clients' PSKs out of dumps, wiped when moved", test_state_psks },
		{ "no relays: signalled, limited, held, lab", test_no_relays_rate_limited },
		{ "relay: BINDING, ALLOCATE, allocation", test_relay_allocation },
		{ "relay: candidates and channels", test_relay_candidates_and_channels },
		{ "agent: candidates held, early kept", test_agent_candidates_held_and_early },
		{ "agent: held changes cancel, new uplink", test_held_changes_cancel_and_new_uplink },
		{ "agent: check answered, path set", test_check_nominates_path },
		{ "agent: relayed check, relayed path", test_relayed_path },
		{ "hostile PACKET_INs", test_hostile_packets },
		{ "seeded mutations", test_mutations },
		{ "client gone, timer with nothing due", test_client_gone_and_timer },
		{ "sweep drops unauthorized agents", test_sweep_drops_unauthorized },
	};

	if (sodium_init() < 0)
		return 1;
	fg_log_set_level(FG_LOG_WARN);
	return fg_cunit_run("conn", tests, sizeof(tests) / sizeof(tests[0]));
}
