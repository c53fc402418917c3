// SPDX-License-Identifier: MIT
/*
 * The p2p control protocol (reference §4.2) through the in-process data plane of the
 * traffic tier (traffic.h: fg_dp_init()'s data plane, one worker, the service, the control
 * socket server; a WireGuard client played with dataplane/wg/). The packets the client sends
 * are built with icmpgen's p2p builder, the ones it receives are opened with its own keys and
 * compared with that builder's bytes: an independent reading of the format, not p2pctl.c's.
 *
 * Covered: an AssignedIps of a portal client (a policy) reaches the control socket as
 * P2P_IN, byte for byte, counted in STATS_REPLY; P2P_OUT reaches the client sealed on its
 * session, byte for byte (up to the largest payload), is dropped by name without a session,
 * and is refused for an unknown peer, a payload under the 8-byte header or a datagram whose
 * len disagrees; hostile packets from a client (DomainStatus, an unknown event, a payload
 * length under the header, over 1280 bytes) are dropped by name and what Firezone accepts
 * (reserved bytes set) is not; a peer without a policy is refused both events; a client's
 * flood meets its budget, a full ring and a missing control plane are counted; and the
 * control plane's own client (controlplane/state/dpclient.c: fg_dpc_p2p_send, on_p2p)
 * against the real server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ctlproto.h"
#include "cunit_run.h"
#include "dpclient.h"
#include "icmpgen.h"
#include "p2pctl.h"
#include "svc_env.h"
#include "traffic.h"
#include "transport.h"
#include "worker.h"

static const char ASSIGNED[] = "{\"resource\":\"0f7b6a4e-52a1-4b8e-9a56-1f0f6d2c9e11\",\"domain\":"
			       "\"app.corp.example\",\"proxy_ips\":[\"100.96.0.1\",\"100.96.0.2\","
			       "\"100.96.0.3\",\"100.96.0.4\"]}";
static const char STATUS[] = "{\"resource\":\"0f7b6a4e-52a1-4b8e-9a56-1f0f6d2c9e11\",\"domain\":"
			     "\"app.corp.example\",\"status\":\"Active\"}";

/* A portal client: the client's peer gets a policy (no resources) and its tunnel IP. */
static void make_client(const struct tr_client *c)
{
	struct fg_ctl_peer_upsert m;

	memset(&m, 0, sizeof(m));
	snprintf(m.client_id, sizeof(m.client_id), "client-p2p");
	memcpy(m.public_key, c->local.public_key, 32);
	uint32_t a = htonl(TR_CLIENT_TUN_IP);

	m.ipv4.family = AF_INET;
	memcpy(m.ipv4.addr, &a, 4);
	m.flags = FG_CTL_PEER_POLICY;
	CU_ASSERT_EQUAL_FATAL(fg_svc_client_upsert(&tr_env.svc, &m), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(tr_env.dp.tables.peers[c->slot].policy);
}

static uint32_t p2p_packet(uint8_t *buf, size_t cap, uint8_t event, const char *json)
{
	uint32_t n = fg_icmpgen_p2p_control(buf, (uint32_t)cap, event, json, json ? (uint32_t)strlen(json) : 0);

	CU_ASSERT_FATAL(n > 0);
	return n;
}

/* Sends a P2P_OUT of payload (len bytes) for pub, with the datagram's len field claimed; the
 * REPLY's status. */
static int p2p_out(const uint8_t pub[32], const void *payload, uint16_t len, uint16_t claimed)
{
	_Alignas(16) uint8_t buf[sizeof(struct fg_ctl_p2p) + FG_CTL_P2P_MAX + 8];
	struct fg_ctl_p2p *m = (void *)buf;

	memset(m, 0, sizeof(*m));
	memcpy(m->public_key, pub, 32);
	m->len = claimed;
	memcpy(m->payload, payload, len);
	return tr_ctl_request(m, sizeof(*m) + len, FG_CTL_P2P_OUT);
}

/* The next frame for the client is one data message; its plaintext must be exactly want. */
static void expect_sealed(struct tr_client *c, const uint8_t *want, uint32_t n)
{
	uint8_t msg[TR_FRAME_MAX];
	uint32_t padded = fg_wg_padded_len(n, FG_SVC_ENV_MTU);
	uint64_t ctr = UINT64_MAX;
	int len, plain;

	CU_ASSERT_TRUE_FATAL(tr_wait_frames(1));
	len = tr_take_frame(c, msg, sizeof(msg));
	CU_ASSERT_EQUAL_FATAL(len, (int)(padded + FG_WG_DATA_OVERHEAD));
	plain = fg_wg_transport_open(msg, (size_t)len, c->keys.recv, &ctr);
	CU_ASSERT_EQUAL_FATAL(plain, (int)padded);
	CU_ASSERT_EQUAL(memcmp(msg + FG_WG_DATA_HDR_LEN, want, n), 0);
	for (uint32_t i = n; i < padded; i++)
		CU_ASSERT_EQUAL(msg[FG_WG_DATA_HDR_LEN + i], 0);
}

/* The P2P_IN the control socket must deliver for the client's packet pkt (n bytes). */
static void expect_p2p_in(const struct tr_client *c, const uint8_t *pkt, uint32_t n)
{
	_Alignas(16) uint8_t buf[sizeof(struct fg_ctl_p2p) + FG_CTL_P2P_MAX];
	const struct fg_ctl_p2p *m = (const void *)buf;

	CU_ASSERT_EQUAL_FATAL(tr_ctl_wait_type(FG_CTL_P2P_IN, buf, sizeof(buf)), (ssize_t)(sizeof(*m) + n - 40));
	CU_ASSERT_EQUAL(m->h.version, FG_CTL_VERSION);
	CU_ASSERT_EQUAL(m->h.seq, 0);
	CU_ASSERT_EQUAL(memcmp(m->public_key, c->local.public_key, 32), 0);
	CU_ASSERT_EQUAL(m->len, n - 40);
	CU_ASSERT_EQUAL(memcmp(m->payload, pkt + 40, n - 40), 0);
}

static void test_assigned_ips_to_control_plane(void)
{
	uint8_t pkt[FG_ICMPGEN_MAX_LEN];
	struct fg_ctl_stats_reply st;
	struct fg_ctl_stats req;
	struct tr_client c;
	uint32_t n;
	unsigned named = 0;

	tr_setup(&c);
	tr_ctl_open();
	make_client(&c);
	tr_handshake(&c);
	n = p2p_packet(pkt, sizeof(pkt), FG_P2P_ASSIGNED_IPS, ASSIGNED);
	tr_send_data(&c, pkt, (uint16_t)n);
	expect_p2p_in(&c, pkt, n);
	CU_ASSERT_EQUAL(tr_wcnt()->p2p_punted, 1);
	CU_ASSERT_EQUAL(tr_svc_stats()->p2p_in, 1);
	CU_ASSERT_TRUE(tr_tun_empty());
	/* STATS_REPLY counts it, and names every p2p drop reason. */
	memset(&req, 0, sizeof(req));
	tr_ctl_send(&req, sizeof(req), FG_CTL_STATS);
	CU_ASSERT_EQUAL_FATAL(tr_ctl_wait_type(FG_CTL_STATS_REPLY, &st, sizeof(st)), (ssize_t)sizeof(st));
	CU_ASSERT_EQUAL(st.p2p_in, 1);
	CU_ASSERT_EQUAL(st.p2p_out, 0);
	CU_ASSERT_EQUAL(st.n_drops, FG_DROP_MAX - 1);
	for (uint32_t i = 0; i < st.n_drops; i++)
		named += strncmp(st.drop_names[i], "p2p_", 4) == 0;
	CU_ASSERT_EQUAL(named, 7);
	tr_teardown(&c);
}

static void test_p2p_out_sealed(void)
{
	static uint8_t big[FG_CTL_P2P_MAX + 1];
	uint8_t want[FG_ICMPGEN_MAX_LEN + 1], stranger[32];
	uint8_t *payload;
	struct tr_client c;
	uint32_t n;
	uint16_t plen;

	tr_setup(&c);
	tr_ctl_open();
	make_client(&c);
	n = p2p_packet(want, sizeof(want), FG_P2P_DOMAIN_STATUS, STATUS);
	payload = want + 40;
	plen = (uint16_t)(n - 40);
	/* No session yet: queued, then dropped by the worker by name (the client's resent
	 * AssignedIps asks again once there is one). */
	CU_ASSERT_EQUAL(p2p_out(c.local.public_key, payload, plen, plen), 0);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_SVC_NO_SESSION, 1));
	CU_ASSERT_EQUAL(rte_ring_count(tr_env.tx), 0);
	CU_ASSERT_EQUAL(tr_svc_stats()->p2p_out, 1);
	tr_handshake(&c);
	tr_confirm(&c);
	CU_ASSERT_EQUAL(p2p_out(c.local.public_key, payload, plen, plen), 0);
	expect_sealed(&c, want, n);
	CU_ASSERT_EQUAL(tr_svc_stats()->p2p_out, 2);
	/* The largest payload: a packet of exactly 1280 bytes. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)('A' + i % 26);
	n = p2p_packet(want, sizeof(want), FG_P2P_DOMAIN_STATUS, NULL);
	memcpy(big, want + 40, 8);
	memcpy(want + 40, big, FG_CTL_P2P_MAX);
	want[4] = (uint8_t)(FG_CTL_P2P_MAX >> 8);
	want[5] = (uint8_t)FG_CTL_P2P_MAX;
	CU_ASSERT_EQUAL(p2p_out(c.local.public_key, big, FG_CTL_P2P_MAX, FG_CTL_P2P_MAX), 0);
	expect_sealed(&c, want, 40 + FG_CTL_P2P_MAX);
	/* Refused, nothing sent: an unknown peer, a payload under the p2p header, and datagrams
	 * whose len disagrees with what they carry or exceeds the bound. */
	memcpy(stranger, c.local.public_key, 32);
	stranger[0] ^= 1;
	CU_ASSERT_EQUAL(p2p_out(stranger, big, 20, 20), -ENOENT);
	CU_ASSERT_EQUAL(p2p_out(c.local.public_key, big, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(p2p_out(c.local.public_key, big, 7, 7), -EINVAL);
	CU_ASSERT_EQUAL(p2p_out(c.local.public_key, big, 19, 20), -EPROTO);
	CU_ASSERT_EQUAL(p2p_out(c.local.public_key, big, 21, 20), -EPROTO);
	CU_ASSERT_EQUAL(p2p_out(c.local.public_key, big, FG_CTL_P2P_MAX + 1, FG_CTL_P2P_MAX + 1), -EPROTO);
	for (int i = 0; i < 10; i++)
		tr_step();
	CU_ASSERT_EQUAL(rte_ring_count(tr_env.tx), 0);
	CU_ASSERT_EQUAL(tr_svc_stats()->p2p_out, 3);
	tr_teardown(&c);
}

/* Sends plain (n bytes) as data and waits for the worker's drop counter of reason. */
static void expect_drop(struct tr_client *c, const uint8_t *plain, uint32_t n, enum fg_drop reason)
{
	uint64_t before = tr_wcnt()->drops[reason];

	tr_send_data(c, plain, (uint16_t)n);
	CU_ASSERT_TRUE(tr_wait_drop(reason, before + 1));
}

static void test_hostile_from_client(void)
{
	static uint8_t body[FG_ICMPGEN_P2P_MAX_BODY];
	uint8_t pkt[FG_ICMPGEN_MAX_LEN + 16], buf[sizeof(struct fg_ctl_event)];
	struct fg_ctl_event ev = { .kind = 0 };
	struct tr_client c;
	uint32_t n;

	tr_setup(&c);
	tr_ctl_open();
	make_client(&c);
	tr_handshake(&c);
	n = p2p_packet(pkt, sizeof(pkt), FG_P2P_DOMAIN_STATUS, STATUS);
	expect_drop(&c, pkt, n, FG_DROP_P2P_EVENT);
	n = p2p_packet(pkt, sizeof(pkt), 9, ASSIGNED);
	expect_drop(&c, pkt, n, FG_DROP_P2P_EVENT);
	/* An IPv6 payload length of 4: a well-formed IPv6 packet, but no p2p header. */
	n = p2p_packet(pkt, sizeof(pkt), FG_P2P_ASSIGNED_IPS, NULL);
	pkt[5] = 4;
	expect_drop(&c, pkt, 44, FG_DROP_P2P_MALFORMED);
	/* 1281 bytes (the tunnel's MTU lets it through; the protocol does not). */
	memset(body, 'x', sizeof(body));
	n = fg_icmpgen_p2p_control(pkt, sizeof(pkt), FG_P2P_ASSIGNED_IPS, body, sizeof(body));
	CU_ASSERT_EQUAL_FATAL(n, 1280);
	pkt[n] = '}';
	pkt[5]++;
	expect_drop(&c, pkt, n + 1, FG_DROP_P2P_OVERSIZED);
	CU_ASSERT_EQUAL(tr_wcnt()->p2p_punted, 0);
	/* Reserved bytes set: Firezone's gateway reads the event and ignores them. */
	n = p2p_packet(pkt, sizeof(pkt), FG_P2P_ASSIGNED_IPS, ASSIGNED);
	memset(pkt + 41, 0x5a, 7);
	tr_send_data(&c, pkt, (uint16_t)n);
	expect_p2p_in(&c, pkt, n);
	CU_ASSERT_TRUE(tr_tun_empty());
	/* A Goodbye through the worker removes the peer and tells the control plane. */
	n = p2p_packet(pkt, sizeof(pkt), FG_P2P_GOODBYE, NULL);
	tr_send_data(&c, pkt, (uint16_t)n);
	for (int i = 0; i < 4 && ev.kind != FG_CTL_EV_PEER_GOODBYE; i++) {   /* after HANDSHAKE */
		CU_ASSERT_EQUAL_FATAL(tr_ctl_wait_type(FG_CTL_EVENT, buf, sizeof(buf)), (ssize_t)sizeof(ev));
		memcpy(&ev, buf, sizeof(ev));
	}
	CU_ASSERT_EQUAL(ev.kind, FG_CTL_EV_PEER_GOODBYE);
	CU_ASSERT_EQUAL(memcmp(ev.public_key, c.local.public_key, 32), 0);
	CU_ASSERT_EQUAL(tr_svc_stats()->goodbyes_received, 1);
	CU_ASSERT_EQUAL(fg_svc_peer_find(&tr_env.svc, c.local.public_key), FG_SLOT_NONE);
	tr_teardown(&c);
}

/* A WireGuard peer that is no portal client (no policy): neither event is its to send. */
static void test_peer_without_policy(void)
{
	uint8_t pkt[FG_ICMPGEN_MAX_LEN];
	struct tr_client c;
	uint32_t n;

	tr_setup(&c);
	tr_handshake(&c);
	n = p2p_packet(pkt, sizeof(pkt), FG_P2P_ASSIGNED_IPS, ASSIGNED);
	expect_drop(&c, pkt, n, FG_DROP_P2P_UNAUTHORIZED);
	n = p2p_packet(pkt, sizeof(pkt), FG_P2P_GOODBYE, NULL);
	expect_drop(&c, pkt, n, FG_DROP_P2P_UNAUTHORIZED);
	for (int i = 0; i < 10; i++)
		tr_step();
	CU_ASSERT_TRUE(fg_svc_peer_valid(&tr_env.svc, c.slot));
	CU_ASSERT_EQUAL(tr_svc_stats()->goodbyes_received, 0);
	CU_ASSERT_EQUAL(tr_wcnt()->p2p_punted, 0);
	tr_teardown(&c);
}

/* A flood of AssignedIps from one client with no control plane: its budget passes a burst,
 * the rest is rate-limited; what passes finds nobody (p2p_ctl_backlog). A full ring to the
 * service is a drop too, and what the service finds for a peer gone is counted. */
static void test_flood_bounded(void)
{
	uint8_t pkt[FG_ICMPGEN_MAX_LEN];
	struct tr_client c;
	uint32_t n;
	unsigned sent = 300, cap, fill;

	tr_setup(&c);
	make_client(&c);
	tr_handshake(&c);
	n = p2p_packet(pkt, sizeof(pkt), FG_P2P_ASSIGNED_IPS, ASSIGNED);
	for (unsigned i = 0; i < sent; i++)
		tr_send_data(&c, pkt, (uint16_t)n);
	for (unsigned i = 0; i < TR_MAX_STEPS && (rte_ring_count(tr_env.rx) || rte_ring_count(tr_env.dp.p2p_ring)); i++)
		tr_step();
	uint64_t punted = tr_wcnt()->p2p_punted, limited = tr_wcnt()->drops[FG_DROP_P2P_RATELIMIT];
	CU_ASSERT_EQUAL(punted + limited, sent);
	CU_ASSERT(punted >= FG_P2PCTL_IN_BURST);
	CU_ASSERT(limited > 0);
	CU_ASSERT_EQUAL(tr_env.dp.svc_cnt.drops[FG_DROP_P2P_BACKLOG], punted);
	CU_ASSERT_EQUAL(tr_svc_stats()->p2p_in, 0);

	/* The ring full (items for a slot that is no peer): the next one is dropped by name. */
	cap = rte_ring_get_capacity(tr_env.dp.p2p_ring);
	for (fill = 0; fill < cap; fill++) {
		struct fg_p2pctl_item it = { .m = rte_pktmbuf_alloc(tr_env.dp.pool), .peer = UINT32_MAX, .len = 8 };

		CU_ASSERT_PTR_NOT_NULL_FATAL(it.m);
		CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue_elem(tr_env.dp.p2p_ring, &it, sizeof(it)), 0);
	}
	tr_env.dp.tables.peers[c.slot].p2p_tat_ns = 0;   /* a fresh budget */
	tr_send_data(&c, pkt, (uint16_t)n);
	for (unsigned i = 0; i < TR_MAX_STEPS && rte_ring_count(tr_env.rx); i++)
		fg_worker_poll(&tr_env.dp, &tr_env.dp.workers[0]);
	CU_ASSERT_EQUAL(tr_wcnt()->drops[FG_DROP_P2P_QUEUE_FULL], 1);
	CU_ASSERT_EQUAL(tr_wcnt()->p2p_punted, punted);
	for (unsigned i = 0; i < TR_MAX_STEPS && rte_ring_count(tr_env.dp.p2p_ring); i++)
		tr_step();
	CU_ASSERT_EQUAL(tr_env.dp.svc_cnt.drops[FG_DROP_P2P_UNAUTHORIZED], cap);
	tr_teardown(&c);
}

/* ---- the control plane's client against the real server ------------------------------------ */

struct dpc_seen {
	unsigned n;
	uint8_t pub[32];
	uint16_t len;
	uint8_t payload[FG_CTL_P2P_MAX];
	bool done;
	int status;
};

static void on_p2p(void *arg, const struct fg_ctl_p2p *m)
{
	struct dpc_seen *s = arg;

	s->n++;
	memcpy(s->pub, m->public_key, 32);
	s->len = m->len;
	memcpy(s->payload, m->payload, m->len);
}

static void done_cb(void *ctx, int status, const void *msg)
{
	struct dpc_seen *s = ctx;

	(void)msg;
	s->done = true;
	s->status = status;
}

/* Runs the data plane and the client's socket until *flag (or TR_MAX_STEPS rounds). */
static bool pump(struct fg_dpc *dpc, const bool *flag, const unsigned *count, unsigned want)
{
	for (unsigned i = 0; i < TR_MAX_STEPS && !(flag ? *flag : *count >= want); i++) {
		tr_step();
		if (fg_dpc_wants_write(dpc) && fg_dpc_on_writable(dpc) < 0)
			return false;
		if (fg_dpc_on_readable(dpc) < 0)
			return false;
	}
	return flag ? *flag : *count >= want;
}

static void test_dpclient(void)
{
	uint8_t pkt[FG_ICMPGEN_MAX_LEN], want[FG_ICMPGEN_MAX_LEN], stranger[32];
	struct dpc_seen seen = { 0 };
	const struct fg_dpc_cb cb = { .done = done_cb, .ctx = &seen };
	struct fg_dpc dpc;
	struct tr_client c;
	uint32_t n;

	tr_setup(&c);
	tr_ctl_open();
	make_client(&c);
	tr_handshake(&c);
	tr_confirm(&c);
	fg_dpc_init(&dpc, tr_ctl_path());
	CU_ASSERT_EQUAL_FATAL(fg_dpc_open(&dpc), 0);
	CU_ASSERT_EQUAL_FATAL(fg_dpc_hello(&dpc, &cb), 0);
	CU_ASSERT_TRUE_FATAL(pump(&dpc, &seen.done, NULL, 0));
	CU_ASSERT_EQUAL_FATAL(seen.status, 0);
	CU_ASSERT_EQUAL(dpc.hello.h.version, FG_CTL_VERSION);
	dpc.on_p2p = on_p2p;
	dpc.unsolicited_arg = &seen;
	/* In: the client's AssignedIps to on_p2p. */
	n = p2p_packet(pkt, sizeof(pkt), FG_P2P_ASSIGNED_IPS, ASSIGNED);
	tr_send_data(&c, pkt, (uint16_t)n);
	CU_ASSERT_TRUE_FATAL(pump(&dpc, NULL, &seen.n, 1));
	CU_ASSERT_EQUAL(memcmp(seen.pub, c.local.public_key, 32), 0);
	CU_ASSERT_EQUAL(seen.len, n - 40);
	CU_ASSERT_EQUAL(memcmp(seen.payload, pkt + 40, n - 40), 0);
	/* Out: fg_dpc_p2p_send, sealed to the client. */
	n = p2p_packet(want, sizeof(want), FG_P2P_DOMAIN_STATUS, STATUS);
	seen.done = false;
	CU_ASSERT_EQUAL_FATAL(fg_dpc_p2p_send(&dpc, c.local.public_key, want + 40, n - 40, &cb), 0);
	CU_ASSERT_TRUE_FATAL(pump(&dpc, &seen.done, NULL, 0));
	CU_ASSERT_EQUAL(seen.status, 0);
	expect_sealed(&c, want, n);
	/* Refused before sending (no callback), and by the data plane. */
	seen.done = false;
	CU_ASSERT_EQUAL(fg_dpc_p2p_send(&dpc, c.local.public_key, want + 40, 0, &cb), -EINVAL);
	CU_ASSERT_EQUAL(fg_dpc_p2p_send(&dpc, c.local.public_key, want + 40, FG_CTL_P2P_MAX + 1, &cb), -EINVAL);
	CU_ASSERT_FALSE(seen.done);
	memcpy(stranger, c.local.public_key, 32);
	stranger[31] ^= 0x80;
	CU_ASSERT_EQUAL_FATAL(fg_dpc_p2p_send(&dpc, stranger, want + 40, n - 40, &cb), 0);
	CU_ASSERT_TRUE_FATAL(pump(&dpc, &seen.done, NULL, 0));
	CU_ASSERT_EQUAL(seen.status, -ENOENT);
	CU_ASSERT_EQUAL(dpc.unsolicited_dropped, 0);
	fg_dpc_close(&dpc);
	tr_teardown(&c);
}

static const struct fg_cunit_test tests[] = {
	{ "an AssignedIps of a portal client reaches the control plane as P2P_IN", test_assigned_ips_to_control_plane },
	{ "P2P_OUT reaches the client sealed, byte for byte; refusals", test_p2p_out_sealed },
	{ "hostile p2p packets from a client are dropped by name", test_hostile_from_client },
	{ "a peer without a policy sends no p2p control", test_peer_without_policy },
	{ "a flood of AssignedIps is bounded and counted", test_flood_bounded },
	{ "the control plane's dpclient: P2P_IN in, P2P_OUT out", test_dpclient },
};

int main(int argc, char **argv)
{
	(void)argc;
	if (fg_svc_env_eal(argv[0]) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return fg_cunit_run("dp-p2p", tests, sizeof(tests) / sizeof(tests[0]));
}
