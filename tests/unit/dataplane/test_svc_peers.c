// SPDX-License-Identifier: MIT
/*
 * In-process tests of the service lcore's peer state (svc_env.h) and its control socket:
 * replay protection survives PSK and key updates (through the UAPI setters and the control
 * plane's upserts), setting an unchanged key or PSK changes nothing, every peer setter
 * refuses a slot that is not a live peer, the control socket bounds what it queues for
 * a client that does not read, in bytes, and a client's Goodbye (a worker's event) removes
 * its peer on the service lcore and tells the control plane. What the service says over a
 * session (keepalives, its own Goodbye) is plaintext that worker 0 seals on its data path,
 * opened here with the peer's key; a peer removed after its Goodbye keeps its table slot
 * until then, and what cannot be sealed is counted. The key stores are out of core dumps
 * (smaps) and wiped when a peer goes and at exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_ring.h>
#include <sodium.h>

#include "clock.h"
#include "ctl_server.h"
#include "ctlproto.h"
#include "cunit_run.h"
#include "icmpgen.h"
#include "messages.h"
#include "noise.h"
#include "policy.h"
#include "smaps_dd.h"
#include "svc_env.h"
#include "transport.h"
#include "worker.h"

static struct fg_svc_env g_env;

static void fill(uint8_t k[32], uint8_t seed)
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(seed + i * 7);
}

/* The client side of a handshake with the gateway. */
struct client {
	struct fg_noise_local local;
	struct fg_noise_peer gw;
};

static void client_init(struct client *c, const uint8_t gw_pub[32], const uint8_t psk[32])
{
	uint8_t k[32];

	fill(k, 0x40);
	CU_ASSERT_EQUAL_FATAL(fg_noise_local_init(&c->local, k), 0);
	CU_ASSERT_EQUAL_FATAL(fg_noise_peer_init(&c->gw, &c->local, gw_pub, psk), 0);
}

/* What the responder path of handshake.c does with an initiation, on the service's state. */
static int gateway_consume(const struct fg_wg_msg_initiation *msg, uint64_t now)
{
	struct fg_noise_handshake tmp;
	uint8_t who[32];
	uint32_t slot;
	int r = fg_noise_consume_initiation_begin(msg, &g_env.svc.local, &tmp, who);

	if (r < 0)
		return r;
	slot = fg_svc_peer_find(&g_env.svc, who);
	if (slot == FG_SLOT_NONE)
		return -ENOENT;
	r = fg_noise_consume_initiation_finish(msg, &tmp, &g_env.svc.peers[slot].noise, now);
	fg_noise_handshake_clear(&tmp);
	return r;
}

static void test_replay_refused_across_updates(void)
{
	uint8_t gk[32], gk2[32], psk[32], psk2[32];
	struct fg_wg_msg_initiation init;
	struct fg_noise_handshake hs;
	struct client c;
	uint64_t now;
	uint32_t slot;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 16), 0);
	fill(gk, 0x10);
	fill(gk2, 0x20);
	fill(psk, 0x90);
	fill(psk2, 0xa0);
	CU_ASSERT_EQUAL_FATAL(fg_svc_set_private_key(&g_env.svc, gk), 0);
	client_init(&c, g_env.svc.local.public_key, psk);
	slot = fg_svc_peer_add(&g_env.svc, c.local.public_key);
	CU_ASSERT_NOT_EQUAL_FATAL(slot, FG_SLOT_NONE);
	CU_ASSERT_EQUAL(fg_svc_peer_set_psk(&g_env.svc, slot, psk), 0);

	now = fg_clock_ns();
	CU_ASSERT_EQUAL_FATAL(fg_noise_create_initiation(&init, &hs, &c.local, &c.gw, 7, fg_clock_wall_ns()), 0);
	CU_ASSERT_EQUAL(gateway_consume(&init, now), 0);
	/* Past the flood interval, so only the timestamp can refuse it. */
	now += 2 * FG_NS_PER_S;
	CU_ASSERT_EQUAL(gateway_consume(&init, now), -EALREADY);

	/* The same PSK again (every portal authorization carries it): still refused. */
	CU_ASSERT_EQUAL(fg_svc_peer_set_psk(&g_env.svc, slot, psk), 0);
	CU_ASSERT_EQUAL(gateway_consume(&init, now), -EALREADY);
	/* A new PSK: the initiation still decrypts (the PSK enters at the response); refused. */
	CU_ASSERT_EQUAL(fg_svc_peer_set_psk(&g_env.svc, slot, psk2), 0);
	CU_ASSERT_EQUAL(gateway_consume(&init, now), -EALREADY);
	CU_ASSERT_EQUAL(sodium_memcmp(g_env.svc.peers[slot].noise.psk, psk2, 32), 0);

	/* The control plane's upsert with a PSK, as for each create_authorization. */
	struct fg_ctl_peer_upsert m;
	memset(&m, 0, sizeof(m));
	snprintf(m.client_id, sizeof(m.client_id), "client-1");
	memcpy(m.public_key, c.local.public_key, 32);
	memcpy(m.psk, psk, 32);
	m.flags = FG_CTL_PEER_HAS_PSK;
	CU_ASSERT_EQUAL(fg_svc_client_upsert(&g_env.svc, &m), 0);
	CU_ASSERT_EQUAL(fg_svc_client_upsert(&g_env.svc, &m), 0);
	CU_ASSERT_EQUAL(gateway_consume(&init, now), -EALREADY);

	/* The same private key: a no-op. A new one keeps the newest timestamp. */
	uint8_t ts[FG_WG_TAI64N_LEN];
	memcpy(ts, g_env.svc.peers[slot].noise.latest_timestamp, sizeof(ts));
	CU_ASSERT_EQUAL(fg_svc_set_private_key(&g_env.svc, gk), 0);
	CU_ASSERT_EQUAL(gateway_consume(&init, now), -EALREADY);
	CU_ASSERT_EQUAL(fg_svc_set_private_key(&g_env.svc, gk2), 0);
	CU_ASSERT_EQUAL(memcmp(g_env.svc.peers[slot].noise.latest_timestamp, ts, sizeof(ts)), 0);
	/* ...and the precomputed DH follows the new key: a fresh handshake to it works. */
	CU_ASSERT_EQUAL_FATAL(fg_noise_peer_init(&c.gw, &c.local, g_env.svc.local.public_key, psk), 0);
	CU_ASSERT_EQUAL_FATAL(fg_noise_create_initiation(&init, &hs, &c.local, &c.gw, 8,
							 fg_clock_wall_ns() + FG_NS_PER_S), 0);
	CU_ASSERT_EQUAL(gateway_consume(&init, now + 4 * FG_NS_PER_S), 0);
	fg_noise_handshake_clear(&hs);
	fg_svc_env_fini(&g_env);
}

/* No setter reads or writes a slot that is not a live peer. */
static void test_setters_refuse_dead_slots(void)
{
	struct fg_endpoint ep = { 0 };
	struct fg_prefix p = { 0 };
	uint8_t k[32] = { 0 };
	const uint32_t bad[] = { FG_SLOT_NONE, 15, 16, 1u << 20 };

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 16), 0);
	p.ip.family = AF_INET;
	p.len = 32;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(fg_svc_peer_set_psk(&g_env.svc, bad[i], k), -ENOENT);
		CU_ASSERT_EQUAL(fg_svc_peer_set_endpoint(&g_env.svc, bad[i], &ep), -ENOENT);
		CU_ASSERT_EQUAL(fg_svc_peer_set_keepalive(&g_env.svc, bad[i], 25), -ENOENT);
		CU_ASSERT_EQUAL(fg_svc_peer_add_allowed(&g_env.svc, bad[i], &p), -ENOENT);
		CU_ASSERT_EQUAL(fg_svc_peer_clear_allowed(&g_env.svc, bad[i]), -ENOENT);
		fg_svc_peer_remove(&g_env.svc, bad[i]);
	}
	CU_ASSERT_EQUAL(fg_route_count(g_env.dp.allowed), 0);
	fg_svc_env_fini(&g_env);
}

/* 50,000 STATS requests that are never read: the server stops reading past its bound, so
 * its queue stays near 1 MiB (before the fix: every reply was queued, about 200 MB). */
static void test_ctl_queue_bounded_in_bytes(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fg_ctl_server *srv;
	struct fg_ctl_stats req;
	char dir[64];
	size_t most = 0;
	int fd, sent = 0, stuck = 0;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 16), 0);
	snprintf(dir, sizeof(dir), "/tmp/fg-ctl-test.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/fgt.ctl", dir);
	srv = fg_ctl_server_open(&g_env.svc, sa.sun_path, (gid_t)-1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	memset(&req, 0, sizeof(req));
	req.h.version = FG_CTL_VERSION;
	req.h.type = FG_CTL_STATS;
	while (sent < 50000 && stuck < 50) {
		req.h.seq = (uint32_t)sent + 1;
		if (send(fd, &req, sizeof(req), MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof(req)) {
			sent++;
			stuck = 0;
		} else {
			stuck++;
		}
		if (sent % 64 == 0 || stuck)
			fg_ctl_server_poll(srv);
		if (fg_ctl_server_queued_bytes(srv) > most)
			most = fg_ctl_server_queued_bytes(srv);
	}
	fprintf(stderr, "    %d requests sent before the server pushed back, at most %zu bytes queued\n",
		sent, most);
	CU_ASSERT_TRUE(sent < 50000);
	CU_ASSERT_TRUE(most <= (1u << 20) + 64 * sizeof(struct fg_ctl_stats_reply));
	/* Reading the replies lets it go on: the client is served, not dropped. */
	struct fg_ctl_stats_reply r;
	int got = 0;
	for (int i = 0; i < 200000 && got < sent; i++) {
		if (recv(fd, &r, sizeof(r), MSG_DONTWAIT) == (ssize_t)sizeof(r))
			got++;
		else
			fg_ctl_server_poll(srv);
	}
	CU_ASSERT_EQUAL(got, sent);
	CU_ASSERT_EQUAL(fg_ctl_server_overflows(srv), 0);
	close(fd);
	fg_ctl_server_poll(srv);
	fg_ctl_server_close(srv);
	rmdir(dir);
	fg_svc_env_fini(&g_env);
}

/* Sends one request on the control socket and returns the REPLY's status (events skipped). */
static int ctl_call(struct fg_ctl_server *srv, int fd, const void *msg, size_t len)
{
	_Alignas(8) uint8_t buf[FG_CTL_MAX_MSG];
	struct fg_ctl_reply r;

	if (send(fd, msg, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -EIO;
	for (int i = 0; i < 100000; i++) {
		ssize_t n;

		fg_ctl_server_poll(srv);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == (ssize_t)sizeof(r) && ((struct fg_ctl_hdr *)buf)->type == FG_CTL_REPLY) {
			memcpy(&r, buf, sizeof(r));
			return r.status;
		}
	}
	return -ETIMEDOUT;
}

static void test_client_goodbye(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fg_ctl_server *srv;
	struct fg_ctl_peer_upsert up;
	struct fg_ctl_resource_upsert *res;
	size_t rlen = sizeof(*res) + 40 * sizeof(res->filters[0]);
	uint8_t pub[32];
	char dir[64];
	uint32_t slot, gen;
	int fd;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 16), 0);
	snprintf(dir, sizeof(dir), "/tmp/fg-ctl-test.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/fgt.ctl", dir);
	srv = fg_ctl_server_open(&g_env.svc, sa.sun_path, (gid_t)-1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CU_ASSERT_EQUAL_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);

	/* An authorized client: a policy peer and a resource with 40 filters (more than the
	 * 32 of control protocol version 1). */
	fill(pub, 0x11);
	memset(&up, 0, sizeof(up));
	up.h = (struct fg_ctl_hdr){ .version = FG_CTL_VERSION, .type = FG_CTL_PEER_UPSERT, .seq = 1 };
	snprintf(up.client_id, sizeof(up.client_id), "client-goodbye");
	memcpy(up.public_key, pub, 32);
	up.ipv4 = (struct fg_ip){ .family = AF_INET, .addr = { 100, 64, 0, 9 } };
	up.flags = FG_CTL_PEER_POLICY;
	CU_ASSERT_EQUAL_FATAL(ctl_call(srv, fd, &up, sizeof(up)), 0);
	res = calloc(1, rlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	res->h = (struct fg_ctl_hdr){ .version = FG_CTL_VERSION, .type = FG_CTL_RESOURCE_UPSERT, .seq = 2 };
	memcpy(res->public_key, pub, 32);
	snprintf(res->resource_id, sizeof(res->resource_id), "res-1");
	res->type = FG_CTL_RES_CIDR;
	res->prefix = (struct fg_prefix){ .ip = { .family = AF_INET, .addr = { 10, 0, 0, 0 } }, .len = 8 };
	res->n_filters = 40;
	for (unsigned i = 0; i < 40; i++)
		res->filters[i] = (struct fg_ctl_filter){ .proto = FG_CTL_FILTER_TCP, .port_lo = (uint16_t)(100 + i),
							  .port_hi = (uint16_t)(100 + i) };
	CU_ASSERT_EQUAL(ctl_call(srv, fd, res, rlen), 0);
	/* One filter short of its n_filters: refused by size. */
	res->h.seq = 3;
	CU_ASSERT_EQUAL(ctl_call(srv, fd, res, rlen - sizeof(res->filters[0])), -EPROTO);
	slot = fg_svc_peer_find(&g_env.svc, pub);
	CU_ASSERT_NOT_EQUAL_FATAL(slot, FG_SLOT_NONE);
	CU_ASSERT_EQUAL(g_env.svc.peers[slot].client.nres, 1);
	CU_ASSERT_EQUAL(g_env.svc.peers[slot].client.res[0].n_filters, 40);
	gen = g_env.dp.tables.peers[slot].gen;

	/* A stale generation is ignored. */
	struct fg_event ev = { .type = FG_EV_GOODBYE, .peer = slot, .gen = gen + 1 };
	CU_ASSERT_EQUAL(rte_ring_mp_enqueue_elem(g_env.dp.ev_ring, &ev, sizeof(ev)), 0);
	fg_svc_poll(&g_env.svc, fg_clock_ns());
	CU_ASSERT_EQUAL(fg_svc_peer_find(&g_env.svc, pub), slot);
	CU_ASSERT_EQUAL(g_env.svc.stats.goodbyes_received, 0);

	/* What a worker posts for a Goodbye: the peer goes at once, no Goodbye is sent back,
	 * and the control plane hears PEER_GOODBYE. */
	ev.gen = gen;
	CU_ASSERT_EQUAL(rte_ring_mp_enqueue_elem(g_env.dp.ev_ring, &ev, sizeof(ev)), 0);
	fg_svc_poll(&g_env.svc, fg_clock_ns());
	CU_ASSERT_EQUAL(fg_svc_peer_find(&g_env.svc, pub), FG_SLOT_NONE);
	CU_ASSERT_EQUAL(g_env.svc.stats.goodbyes_received, 1);
	CU_ASSERT_EQUAL(g_env.svc.stats.goodbyes_sent, 0);
	{
		struct fg_ctl_event got;
		bool seen = false;

		for (int i = 0; i < 100000 && !seen; i++) {
			fg_ctl_server_poll(srv);
			if (recv(fd, &got, sizeof(got), MSG_DONTWAIT) == (ssize_t)sizeof(got) &&
			    got.h.type == FG_CTL_EVENT)
				seen = got.kind == FG_CTL_EV_PEER_GOODBYE && memcmp(got.public_key, pub, 32) == 0;
		}
		CU_ASSERT_TRUE(seen);
	}
	fg_svc_env_drain(&g_env);
	free(res);
	close(fd);
	fg_ctl_server_poll(srv);
	fg_ctl_server_close(srv);
	unlink(sa.sun_path);
	rmdir(dir);
	fg_svc_env_fini(&g_env);
}

/* ---- what the service lcore sends over a session: sealed by worker 0 ----------------------- */

enum {
	SEAL_REMOTE_INDEX = 0x7e570001,
	SEAL_PEER_PORT = 40007,
};

static const struct rte_ether_addr SEAL_PEER_MAC = { { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x07 } };

/* Frees what worker 0 sent. */
static void drain_wire(void)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(g_env.tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

static void poll_worker(void)
{
	fg_worker_poll(&g_env.dp, &g_env.dp.workers[0]);
}

/* A peer (key seed) at 198.18.0.7:40007 whose MAC is known and, if keyed, a CURRENT keypair
 * with the send key fill(0x71) and SEAL_REMOTE_INDEX. */
static uint32_t sealing_peer(uint8_t seed, bool keyed)
{
	struct fg_dp *dp = &g_env.dp;
	struct fg_endpoint ep = { .ip = { .family = AF_INET, .addr = { 198, 18, 0, 7 } }, .port = SEAL_PEER_PORT };
	uint8_t pub[32];
	uint32_t slot;

	fill(pub, seed);
	slot = fg_svc_peer_add(&g_env.svc, pub);
	CU_ASSERT_NOT_EQUAL_FATAL(slot, FG_SLOT_NONE);
	CU_ASSERT_EQUAL_FATAL(fg_svc_peer_set_endpoint(&g_env.svc, slot, &ep), 0);
	fg_svc_peer_update_path(&g_env.svc, slot, &SEAL_PEER_MAC);
	if (keyed) {
		uint32_t k = fg_keypair_alloc(&dp->tables);
		struct fg_keypair *kp;

		CU_ASSERT_NOT_EQUAL_FATAL(k, FG_SLOT_NONE);
		kp = &dp->tables.kps[k];
		fill(kp->send_key, 0x71);
		fill(kp->recv_key, 0x72);
		kp->local_index = SEAL_REMOTE_INDEX + seed;
		kp->remote_index = SEAL_REMOTE_INDEX;
		kp->initiator = 1;
		kp->birth_ns = fg_clock_ns();
		kp->peer = slot;
		kp->peer_gen = dp->tables.peers[slot].gen;
		CU_ASSERT_EQUAL_FATAL(fg_keypair_install(&dp->tables, k, FG_KP_CURRENT), 0);
	}
	/* What the endpoint change queued (an ARP request) leaves first, out of the way. */
	poll_worker();
	drain_wire();
	return slot;
}

/* Opens the one data message worker 0 sent with the peer's send key: the padded plaintext
 * length (copied to plain), or -1. */
static int open_sent(uint8_t plain[FG_SVC_ENV_MTU], uint64_t *counter)
{
	uint8_t key[32], msg[2048];
	const uint8_t *f;
	struct rte_mbuf *m;
	uint32_t len;
	int n;

	if (rte_ring_count(g_env.tx) != 1 || rte_ring_dequeue(g_env.tx, (void **)&m) != 0)
		return -1;
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	len = rte_pktmbuf_data_len(m);
	CU_ASSERT_FATAL(len > FG_NETPKT_UDP4_HDR_LEN && len - FG_NETPKT_UDP4_HDR_LEN <= sizeof(msg));
	CU_ASSERT_EQUAL(memcmp(f, SEAL_PEER_MAC.addr_bytes, 6), 0);
	CU_ASSERT_EQUAL(f[36] << 8 | f[37], SEAL_PEER_PORT);
	len -= FG_NETPKT_UDP4_HDR_LEN;
	memcpy(msg, f + FG_NETPKT_UDP4_HDR_LEN, len);
	rte_pktmbuf_free(m);
	CU_ASSERT_EQUAL(fg_wg_transport_receiver(msg), SEAL_REMOTE_INDEX);
	fill(key, 0x71);
	n = fg_wg_transport_open(msg, len, key, counter);
	if (n > 0)
		memcpy(plain, msg + FG_WG_DATA_HDR_LEN, (size_t)n);
	return n;
}

static void test_keepalive_sealed_by_worker(void)
{
	struct fg_worker *w = &g_env.dp.workers[0];
	uint8_t plain[FG_SVC_ENV_MTU];
	uint64_t ctr = UINT64_MAX;
	struct fg_peer *p;
	uint32_t slot;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 16), 0);
	slot = sealing_peer(0x70, true);
	p = &g_env.dp.tables.peers[slot];
	CU_ASSERT_EQUAL(fg_svc_send_keepalive(&g_env.svc, slot), 0);
	CU_ASSERT_EQUAL(g_env.svc.stats.keepalives_sent, 1);
	/* Plaintext for the worker, nothing sealed on the service lcore. */
	CU_ASSERT_EQUAL(rte_ring_count(w->svc_tx), 1);
	CU_ASSERT_EQUAL(rte_ring_count(g_env.tx), 0);
	poll_worker();
	CU_ASSERT_EQUAL(open_sent(plain, &ctr), 0);
	CU_ASSERT_EQUAL(ctr, 0);
	CU_ASSERT_EQUAL(w->cnt.encrypted, 1);
	CU_ASSERT_EQUAL(w->seal_done, 1);
	/* Authenticated traffic for the timers, but not data. */
	CU_ASSERT_NOT_EQUAL(p->last_tx_auth_ns, 0);
	CU_ASSERT_EQUAL(p->last_tx_data_ns, 0);
	/* The next one takes the next nonce of the same keypair as the TUN's packets. */
	CU_ASSERT_EQUAL(fg_svc_send_keepalive(&g_env.svc, slot), 0);
	poll_worker();
	CU_ASSERT_EQUAL(open_sent(plain, &ctr), 0);
	CU_ASSERT_EQUAL(ctr, 1);
	fg_svc_env_fini(&g_env);
}

static void test_goodbye_sealed_before_removal(void)
{
	struct fg_worker *w = &g_env.dp.workers[0];
	uint8_t plain[FG_SVC_ENV_MTU], want[64];
	uint64_t ctr = UINT64_MAX;
	struct fg_peer *p;
	uint32_t slot, gen, n;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 16), 0);
	slot = sealing_peer(0x70, true);
	p = &g_env.dp.tables.peers[slot];
	gen = p->gen;
	CU_ASSERT_EQUAL(fg_svc_send_goodbye(&g_env.svc, slot, fg_clock_ns()), 0);
	CU_ASSERT_EQUAL(g_env.svc.stats.goodbyes_sent, 1);
	fg_svc_peer_remove(&g_env.svc, slot);
	CU_ASSERT_FALSE(fg_svc_peer_valid(&g_env.svc, slot));
	/* The peer is gone for the service, but its table slot (keys, path) waits for worker 0. */
	fg_svc_poll(&g_env.svc, fg_clock_ns());
	CU_ASSERT_EQUAL(p->live, 1);
	CU_ASSERT_EQUAL(p->gen, gen);
	CU_ASSERT_EQUAL(g_env.svc.nleaving, 1);
	poll_worker();
	n = fg_icmpgen_p2p_control(want, sizeof(want), FG_P2P_GOODBYE, NULL, 0);
	CU_ASSERT_FATAL(n > 0);
	CU_ASSERT_EQUAL(open_sent(plain, &ctr), (int)fg_wg_padded_len(n, FG_SVC_ENV_MTU));
	CU_ASSERT_EQUAL(memcmp(plain, want, n), 0);
	CU_ASSERT_NOT_EQUAL(p->last_tx_data_ns, 0);   /* a Goodbye is data */
	fg_svc_poll(&g_env.svc, fg_clock_ns());
	CU_ASSERT_EQUAL(p->live, 0);
	CU_ASSERT_EQUAL(g_env.svc.nleaving, 0);
	CU_ASSERT_EQUAL(w->cnt.drops[FG_DROP_SVC_NO_SESSION], 0);

	/* A worker that does not come: the slot is retired at the deadline, and the Goodbye
	 * found later is counted, not sealed for a retired peer. */
	slot = sealing_peer(0x80, true);
	CU_ASSERT_EQUAL(fg_svc_send_goodbye(&g_env.svc, slot, fg_clock_ns()), 0);
	fg_svc_peer_remove(&g_env.svc, slot);
	fg_svc_poll(&g_env.svc, fg_clock_ns());
	CU_ASSERT_EQUAL(g_env.dp.tables.peers[slot].live, 1);
	fg_svc_poll(&g_env.svc, fg_clock_ns() + (FG_SVC_LEAVING_TIMEOUT_MS + 1) * (uint64_t)FG_NS_PER_MS);
	CU_ASSERT_EQUAL(g_env.dp.tables.peers[slot].live, 0);
	poll_worker();
	CU_ASSERT_EQUAL(rte_ring_count(g_env.tx), 0);
	CU_ASSERT_EQUAL(w->cnt.drops[FG_DROP_SVC_NO_SESSION], 1);
	fg_svc_env_fini(&g_env);
}

static void test_seal_without_session_counted(void)
{
	struct fg_worker *w = &g_env.dp.workers[0];
	struct fg_event ev;
	uint32_t slot;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 16), 0);
	slot = sealing_peer(0x70, false);
	/* No Goodbye without a session, and nothing for the worker. */
	CU_ASSERT_EQUAL(fg_svc_send_goodbye(&g_env.svc, slot, fg_clock_ns()), -ENOKEY);
	CU_ASSERT_EQUAL(rte_ring_count(w->svc_tx), 0);
	/* A keepalive is the worker's to drop by name; it asks for a handshake, as the
	 * kernel does for a keepalive without a session. */
	CU_ASSERT_EQUAL(fg_svc_send_keepalive(&g_env.svc, slot), 0);
	poll_worker();
	CU_ASSERT_EQUAL(rte_ring_count(g_env.tx), 0);
	CU_ASSERT_EQUAL(w->cnt.drops[FG_DROP_SVC_NO_SESSION], 1);
	CU_ASSERT_EQUAL(w->cnt.drops[FG_DROP_TUN_NO_SESSION], 0);
	CU_ASSERT_EQUAL(w->seal_done, 1);
	CU_ASSERT_EQUAL_FATAL(rte_ring_dequeue_elem(g_env.dp.ev_ring, &ev, sizeof(ev)), 0);
	CU_ASSERT_EQUAL(ev.type, FG_EV_WANT_HANDSHAKE);
	CU_ASSERT_EQUAL(ev.peer, slot);
	/* A peer removed (no Goodbye: its slot retired at once) before the worker came. */
	slot = sealing_peer(0x80, true);
	CU_ASSERT_EQUAL(fg_svc_send_keepalive(&g_env.svc, slot), 0);
	fg_svc_peer_remove(&g_env.svc, slot);
	CU_ASSERT_EQUAL(g_env.dp.tables.peers[slot].live, 0);
	poll_worker();
	CU_ASSERT_EQUAL(rte_ring_count(g_env.tx), 0);
	CU_ASSERT_EQUAL(w->cnt.drops[FG_DROP_SVC_NO_SESSION], 2);
	CU_ASSERT_EQUAL(w->cnt.encrypted, 0);
	CU_ASSERT_EQUAL(w->seal_done, 2);
	fg_svc_env_fini(&g_env);
}

/* The service's key stores are out of core dumps (the kernel's own view, /proc/self/smaps),
 * and what a peer held is zero once it goes: its service state at once, its keypair after
 * the grace period; at exit every keypair's keys, live ones too. */
static void test_secrets_out_of_dumps_and_wiped(void)
{
	struct fg_dp *dp = &g_env.dp;
	struct fg_svc_peer *sp;
	struct fg_keypair *kp;
	uint8_t psk[32];
	uint32_t slot;

	CU_ASSERT_EQUAL_FATAL(fg_svc_env_init(&g_env, 16), 0);
	CU_ASSERT_TRUE(fg_test_smaps_dontdump(dp->tables.kps, sizeof(*dp->tables.kps) * dp->tables.max_keypairs));
	CU_ASSERT_TRUE(fg_test_smaps_dontdump(g_env.svc.peers, sizeof(*g_env.svc.peers) * dp->tables.max_peers));
	CU_ASSERT_TRUE(fg_test_smaps_dontdump(&g_env.svc.local, sizeof(g_env.svc.local)));
	CU_ASSERT_TRUE(fg_test_smaps_dontdump(&g_env.svc.checker, sizeof(g_env.svc.checker)));

	slot = sealing_peer(0x70, true);
	fill(psk, 0x33);
	CU_ASSERT_EQUAL(fg_svc_peer_set_psk(&g_env.svc, slot, psk), 0);
	sp = &g_env.svc.peers[slot];
	CU_ASSERT_FALSE(sodium_is_zero(sp->noise.psk, sizeof(sp->noise.psk)));
	CU_ASSERT_FATAL(fg_peer_kp(&dp->tables.peers[slot], FG_KP_CURRENT) != FG_SLOT_NONE);
	kp = &dp->tables.kps[fg_peer_kp(&dp->tables.peers[slot], FG_KP_CURRENT)];
	CU_ASSERT_FALSE(sodium_is_zero(kp->send_key, sizeof(kp->send_key)));
	fg_svc_peer_remove(&g_env.svc, slot);
	CU_ASSERT_TRUE(sodium_is_zero((const unsigned char *)sp, sizeof(*sp)));
	fg_tables_reclaim(&dp->tables);   /* no worker reads: the grace period is over */
	CU_ASSERT_TRUE(sodium_is_zero(kp->send_key, sizeof(kp->send_key)));
	CU_ASSERT_TRUE(sodium_is_zero(kp->recv_key, sizeof(kp->recv_key)));

	slot = sealing_peer(0x80, true);
	kp = &dp->tables.kps[fg_peer_kp(&dp->tables.peers[slot], FG_KP_CURRENT)];
	CU_ASSERT_FALSE(sodium_is_zero(kp->recv_key, sizeof(kp->recv_key)));
	fg_tables_wipe_keys(&dp->tables);
	for (uint32_t i = 0; i < dp->tables.max_keypairs; i++)
		if (!sodium_is_zero(dp->tables.kps[i].send_key, 32) || !sodium_is_zero(dp->tables.kps[i].recv_key, 32)) {
			CU_FAIL("a keypair kept its keys");
			break;
		}
	fg_svc_env_fini(&g_env);
}

static const struct fg_cunit_test tests[] = {
	{ "replay refused across PSK and key updates", test_replay_refused_across_updates },
	{ "peer setters refuse dead slots", test_setters_refuse_dead_slots },
	{ "control socket output bounded in bytes", test_ctl_queue_bounded_in_bytes },
	{ "a client's Goodbye removes its peer and tells the control plane", test_client_goodbye },
	{ "a keepalive is sealed by worker 0, not by the service", test_keepalive_sealed_by_worker },
	{ "a Goodbye is sealed before its peer's slot is retired", test_goodbye_sealed_before_removal },
	{ "what cannot be sealed is counted as svc_no_session", test_seal_without_session_counted },
	{ "key stores out of core dumps, and wiped when they go", test_secrets_out_of_dumps_and_wiped },
};

int main(int argc, char **argv)
{
	(void)argc;
	if (fg_svc_env_eal(argv[0]) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return fg_cunit_run("svc-peers", tests, sizeof(tests) / sizeof(tests[0]));
}
