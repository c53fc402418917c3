// SPDX-License-Identifier: MIT
/*
 * In-process tests of the service lcore's peer state (svc_env.h) and its control socket:
 * replay protection survives PSK and key updates (through the UAPI setters and the control
 * plane's upserts), setting an unchanged key or PSK changes nothing, every peer setter
 * refuses a slot that is not a live peer, the control socket bounds what it queues for
 * a client that does not read, in bytes, and a client's Goodbye (a worker's event) removes
 * its peer on the service lcore and tells the control plane.
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
#include "noise.h"
#include "policy.h"
#include "svc_env.h"

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

static const struct fg_cunit_test tests[] = {
	{ "replay refused across PSK and key updates", test_replay_refused_across_updates },
	{ "peer setters refuse dead slots", test_setters_refuse_dead_slots },
	{ "control socket output bounded in bytes", test_ctl_queue_bounded_in_bytes },
	{ "a client's Goodbye removes its peer and tells the control plane", test_client_goodbye },
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
