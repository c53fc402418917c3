// SPDX-License-Identifier: MIT
/*
 * The in-process traffic tier: the data plane as fg_dp_init() builds it for the daemon
 * (svc_env.h: one worker over a net_ring port, a socketpair for the TUN, the service state),
 * driven by a WireGuard client that the test plays with dataplane/wg/ (Noise, cookie MACs,
 * the single-message transport). Frames are built and read back here with a deliberately
 * naive Ethernet/IPv4/UDP codec, not the data plane's netpkt. Everything runs on the main
 * lcore: each step is one fg_worker_poll() and one fg_svc_poll(), repeated until the awaited
 * frame, datagram or counter appears, for at most MAX_STEPS rounds (no sleeps).
 *
 * Covered: initiation -> worker -> handshake ring -> service -> response on the wire, which
 * the client completes; data in -> decrypted inner packets on the TUN; TUN packets ->
 * encrypted frames the client opens; and drops by name: a replayed counter, a forged tag
 * (whose counter stays usable), an unknown receiver index, an inner source outside the
 * peer's allowed IPs, and an initiation with a bad mac1. Addresses: tunnel 100.64.0.0/11,
 * outer 198.18.0.0/15.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sodium.h>

#include "clock.h"
#include "cookie.h"
#include "cunit_run.h"
#include "messages.h"
#include "noise.h"
#include "svc_env.h"
#include "transport.h"
#include "worker.h"

enum {
	MAX_STEPS = 10000,        /* rounds of worker + service poll before a wait gives up */
	ETH_LEN = 14,
	IP4_LEN = 20,
	UDP_LEN = 8,
	OUTER_LEN = ETH_LEN + IP4_LEN + UDP_LEN,
	CLIENT_PORT = 40001,
	CLIENT_INDEX = 0x5eed1234,
	FRAME_MAX = 2048,
	INNER_PAYLOAD = 100,      /* UDP payload bytes of the inner test packets */
};

/* Host order. The client's outer address and its one allowed tunnel address; the gateway's
 * tunnel address (the inner far end). */
#define CLIENT_IP ((198u << 24) | (18u << 16) | 2u)
#define CLIENT_TUN_IP ((100u << 24) | (64u << 16) | 2u)
#define GATEWAY_TUN_IP ((100u << 24) | (64u << 16) | 1u)

static const struct rte_ether_addr CLIENT_MAC = { { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02 } };

static struct fg_svc_env g_env;

/* The WireGuard client: its identity, the gateway as its peer, and the session keys. */
struct client {
	struct fg_noise_local local;
	struct fg_noise_peer gw;
	struct fg_wg_cookie cookie;
	struct fg_noise_handshake hs;
	struct fg_noise_keypair_keys keys;
	uint64_t send_counter;
	uint32_t slot;            /* its peer slot on the gateway */
};

static void fill(uint8_t k[32], uint8_t seed)
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(seed + i * 13);
}

static struct fg_lcore_counters *wcnt(void)
{
	return &g_env.dp.workers[0].cnt;
}

static const struct fg_svc_stats *svc_stats(void)
{
	return fg_svc_stats(&g_env.svc);
}

/* One round: worker 0 (NIC RX, handoff, TUN, the service's TX ring), then the service. */
static void step(void)
{
	fg_worker_poll(&g_env.dp, &g_env.dp.workers[0]);
	fg_svc_poll(&g_env.svc, fg_clock_ns());
}

static bool wait_frames(unsigned n)
{
	for (unsigned i = 0; i < MAX_STEPS && rte_ring_count(g_env.tx) < n; i++)
		step();
	return rte_ring_count(g_env.tx) >= n;
}

static bool wait_drop(enum fg_drop reason, uint64_t want)
{
	for (unsigned i = 0; i < MAX_STEPS && wcnt()->drops[reason] < want; i++)
		step();
	return wcnt()->drops[reason] >= want;
}

/* The next datagram the worker wrote to its TUN queue, or -1 when none came. */
static ssize_t wait_tun(uint8_t *buf, size_t cap)
{
	for (unsigned i = 0; i < MAX_STEPS; i++) {
		ssize_t n = recv(g_env.tun[1], buf, cap, MSG_DONTWAIT);

		if (n >= 0)
			return n;
		step();
	}
	return -1;
}

static bool tun_empty(void)
{
	uint8_t b[FRAME_MAX];

	return recv(g_env.tun[1], b, sizeof(b), MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

/* RFC 1071, straight from the definition. */
static uint16_t csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

/* IPv4 header (no options, DF, TTL 64, checksum) at p for a payload of len bytes. */
static void put_ip4(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst, uint16_t len)
{
	memset(p, 0, IP4_LEN);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)(IP4_LEN + len));
	p[6] = 0x40;
	p[8] = 64;
	p[9] = proto;
	put32(p + 12, src);
	put32(p + 16, dst);
	put16(p + 10, csum(p, IP4_LEN));
}

/* An inner IPv4/UDP packet of INNER_PAYLOAD bytes whose payload is tagged with seq. */
static uint16_t inner_packet(uint8_t *p, uint32_t src, uint32_t dst, uint8_t seq)
{
	uint16_t ulen = UDP_LEN + INNER_PAYLOAD;

	put_ip4(p, IPPROTO_UDP, src, dst, ulen);
	put16(p + IP4_LEN, 5000);
	put16(p + IP4_LEN + 2, 6000);
	put16(p + IP4_LEN + 4, ulen);
	put16(p + IP4_LEN + 6, 0);
	for (unsigned i = 0; i < INNER_PAYLOAD; i++)
		p[IP4_LEN + UDP_LEN + i] = (uint8_t)(seq * 31 + i);
	return (uint16_t)(IP4_LEN + ulen);
}

/* The client's datagram in an Ethernet frame to the gateway, onto port RX queue 0. */
static void send_frame(const void *payload, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g_env.dp.pool);
	uint8_t *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(OUTER_LEN + len));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	memcpy(f, g_env.dp.local.mac.addr_bytes, 6);
	memcpy(f + 6, CLIENT_MAC.addr_bytes, 6);
	put16(f + 12, 0x0800);
	put_ip4(f + ETH_LEN, IPPROTO_UDP, CLIENT_IP, FG_SVC_ENV_LOCAL_IP, (uint16_t)(UDP_LEN + len));
	put16(f + ETH_LEN + IP4_LEN, CLIENT_PORT);
	put16(f + ETH_LEN + IP4_LEN + 2, FG_SVC_ENV_LISTEN_PORT);
	put16(f + ETH_LEN + IP4_LEN + 4, (uint16_t)(UDP_LEN + len));
	put16(f + ETH_LEN + IP4_LEN + 6, 0);   /* no UDP checksum (IPv4) */
	memcpy(f + OUTER_LEN, payload, len);
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(g_env.rx, m), 0);
}

/* Takes the next frame off port TX queue 0, checks that it is a well-formed datagram from
 * the gateway's listen port to the client's endpoint, and copies its UDP payload out.
 * Returns the payload length, or -1. */
static int take_frame(uint8_t *out, size_t cap)
{
	struct rte_mbuf *m;
	const uint8_t *f, *ip, *udp;
	int len = -1;

	if (rte_ring_dequeue(g_env.tx, (void **)&m) != 0)
		return -1;
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	ip = f + ETH_LEN;
	udp = ip + IP4_LEN;
	CU_ASSERT_EQUAL(m->nb_segs, 1);
	CU_ASSERT(rte_pktmbuf_data_len(m) >= OUTER_LEN);
	CU_ASSERT_EQUAL(memcmp(f, CLIENT_MAC.addr_bytes, 6), 0);
	CU_ASSERT_EQUAL(memcmp(f + 6, g_env.dp.local.mac.addr_bytes, 6), 0);
	CU_ASSERT_EQUAL(get16(f + 12), 0x0800);
	CU_ASSERT_EQUAL(ip[0], 0x45);
	CU_ASSERT_EQUAL(csum(ip, IP4_LEN), 0);
	CU_ASSERT_EQUAL(ip[9], IPPROTO_UDP);
	CU_ASSERT_EQUAL(get32(ip + 12), FG_SVC_ENV_LOCAL_IP);
	CU_ASSERT_EQUAL(get32(ip + 16), CLIENT_IP);
	CU_ASSERT_EQUAL(get16(udp), FG_SVC_ENV_LISTEN_PORT);
	CU_ASSERT_EQUAL(get16(udp + 2), CLIENT_PORT);
	if (rte_pktmbuf_data_len(m) >= OUTER_LEN && get16(ip + 2) == rte_pktmbuf_data_len(m) - ETH_LEN &&
	    get16(udp + 4) == get16(ip + 2) - IP4_LEN && get16(udp + 4) - UDP_LEN <= (int)cap) {
		len = get16(udp + 4) - UDP_LEN;
		memcpy(out, udp + UDP_LEN, (size_t)len);
	}
	CU_ASSERT(len >= 0);
	rte_pktmbuf_free(m);
	return len;
}

/* A data message from the client: plain (len bytes, 0 = keepalive) sealed under its send key
 * for receiver index rx, with counter ctr. Returns its length. */
static uint16_t seal(uint8_t *msg, const struct client *c, const uint8_t *plain, uint16_t len, uint32_t rx,
		     uint64_t ctr)
{
	uint32_t padded = fg_wg_padded_len(len, FG_SVC_ENV_MTU);

	memset(msg + FG_WG_DATA_HDR_LEN, 0, padded);
	if (len)
		memcpy(msg + FG_WG_DATA_HDR_LEN, plain, len);
	return (uint16_t)fg_wg_transport_seal(msg, padded, c->keys.send, rx, ctr);
}

static void send_data(struct client *c, const uint8_t *plain, uint16_t len)
{
	uint8_t msg[FRAME_MAX];

	send_frame(msg, seal(msg, c, plain, len, c->keys.remote_index, c->send_counter++));
}

/* A fresh environment: the gateway's key, the client as its one peer (with a PSK and
 * CLIENT_TUN_IP/32 as its allowed IP), and the client's view of the gateway. */
static void setup(struct client *c)
{
	uint8_t gk[32], gpub[32], ck[32], psk[32];
	struct fg_prefix allowed = { .ip = { .family = AF_INET }, .len = 32 };
	uint32_t a = htonl(CLIENT_TUN_IP);

	int r;

	memset(c, 0, sizeof(*c));
	fg_svc_env_fini(&g_env);   /* what a test that stopped at a fatal assertion left */
	r = fg_svc_env_init(&g_env, 16);
	if (r < 0)
		fg_svc_env_fini(&g_env);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	fill(gk, 0x21);
	fill(ck, 0x42);
	fill(psk, 0x63);
	CU_ASSERT_EQUAL_FATAL(crypto_scalarmult_base(gpub, gk), 0);
	CU_ASSERT_EQUAL_FATAL(fg_svc_set_private_key(&g_env.svc, gk), 0);
	CU_ASSERT_EQUAL_FATAL(fg_noise_local_init(&c->local, ck), 0);
	CU_ASSERT_EQUAL_FATAL(fg_noise_peer_init(&c->gw, &c->local, gpub, psk), 0);
	fg_wg_cookie_init(&c->cookie, gpub);

	c->slot = fg_svc_peer_add(&g_env.svc, c->local.public_key);
	CU_ASSERT_NOT_EQUAL_FATAL(c->slot, FG_SLOT_NONE);
	CU_ASSERT_EQUAL_FATAL(fg_svc_peer_set_psk(&g_env.svc, c->slot, psk), 0);
	memcpy(allowed.ip.addr, &a, 4);
	CU_ASSERT_EQUAL_FATAL(fg_svc_peer_add_allowed(&g_env.svc, c->slot, &allowed), 0);
}

static void teardown(struct client *c)
{
	fg_svc_env_fini(&g_env);
	sodium_memzero(c, sizeof(*c));
}

/* Initiation in, response out, session keys on both sides. */
static void handshake(struct client *c)
{
	struct fg_wg_msg_initiation init;
	struct fg_wg_msg_response resp;
	uint8_t payload[FRAME_MAX];

	CU_ASSERT_EQUAL_FATAL(fg_noise_create_initiation(&init, &c->hs, &c->local, &c->gw, CLIENT_INDEX,
							 fg_clock_wall_ns()), 0);
	fg_wg_cookie_add_macs(&c->cookie, &init, sizeof(init), fg_clock_ns());
	send_frame(&init, sizeof(init));
	CU_ASSERT_TRUE_FATAL(wait_frames(1));
	CU_ASSERT_EQUAL_FATAL(take_frame(payload, sizeof(payload)), (int)sizeof(resp));
	memcpy(&resp, payload, sizeof(resp));
	CU_ASSERT_EQUAL_FATAL(fg_noise_consume_response(&resp, &c->hs, &c->local, &c->gw), 0);
	CU_ASSERT_EQUAL_FATAL(fg_noise_derive_keys(&c->hs, &c->keys), 0);
	CU_ASSERT_TRUE(c->keys.initiator);
	CU_ASSERT_EQUAL(c->keys.local_index, CLIENT_INDEX);
	CU_ASSERT_EQUAL(wcnt()->handshakes_punted, 1);
}

/* The client's inner packet seq (from its tunnel address to the gateway's), sent as data;
 * what the TUN gets must be exactly it. */
static void data_in(struct client *c, uint8_t seq)
{
	uint8_t pkt[FRAME_MAX], got[FRAME_MAX];
	uint16_t len = inner_packet(pkt, CLIENT_TUN_IP, GATEWAY_TUN_IP, seq);

	send_data(c, pkt, len);
	CU_ASSERT_EQUAL_FATAL(wait_tun(got, sizeof(got)), (ssize_t)len);
	CU_ASSERT_EQUAL(memcmp(got, pkt, len), 0);
}

static void test_handshake_through_worker_and_service(void)
{
	struct client c;

	setup(&c);
	handshake(&c);
	CU_ASSERT_EQUAL(svc_stats()->handshakes_responded, 1);
	CU_ASSERT_EQUAL(svc_stats()->handshakes_completed, 0);
	CU_ASSERT_EQUAL(g_env.dp.svc_cnt.drops[FG_DROP_HANDSHAKE_MAC1], 0);
	CU_ASSERT_EQUAL(g_env.dp.svc_cnt.drops[FG_DROP_HANDSHAKE_INVALID], 0);
	/* The first data message confirms the session (the worker's CONFIRM event). */
	data_in(&c, 0);
	for (unsigned i = 0; i < MAX_STEPS && svc_stats()->handshakes_completed == 0; i++)
		step();
	CU_ASSERT_EQUAL(svc_stats()->handshakes_completed, 1);
	teardown(&c);
}

static void test_data_in_reaches_tun(void)
{
	struct client c;

	setup(&c);
	handshake(&c);
	for (uint8_t seq = 0; seq < 5; seq++)
		data_in(&c, seq);
	send_data(&c, NULL, 0);   /* a keepalive: counted, nothing on the TUN */
	for (unsigned i = 0; i < MAX_STEPS && wcnt()->keepalives_rx == 0; i++)
		step();
	CU_ASSERT_EQUAL(wcnt()->keepalives_rx, 1);
	CU_ASSERT_TRUE(tun_empty());
	CU_ASSERT_EQUAL(wcnt()->decrypted, 6);
	CU_ASSERT_EQUAL(wcnt()->tun_tx_packets, 5);
	CU_ASSERT_EQUAL(wcnt()->tun_tx_bytes, 5u * (IP4_LEN + UDP_LEN + INNER_PAYLOAD));
	for (unsigned r = 1; r < FG_DROP_MAX; r++)
		CU_ASSERT_EQUAL(wcnt()->drops[r], 0);
	teardown(&c);
}

static void test_tun_out_reaches_client_encrypted(void)
{
	uint8_t pkt[FRAME_MAX], msg[FRAME_MAX];
	struct client c;

	setup(&c);
	handshake(&c);
	send_data(&c, NULL, 0);   /* the responder sends only once the initiator has */
	for (unsigned i = 0; i < MAX_STEPS && svc_stats()->handshakes_completed == 0; i++)
		step();
	for (uint8_t seq = 0; seq < 4; seq++) {
		uint16_t len = inner_packet(pkt, GATEWAY_TUN_IP, CLIENT_TUN_IP, (uint8_t)(seq + 100));
		uint32_t padded = fg_wg_padded_len(len, FG_SVC_ENV_MTU);
		uint64_t ctr = UINT64_MAX;
		int n, plain;

		CU_ASSERT_EQUAL_FATAL(send(g_env.tun[1], pkt, len, 0), (ssize_t)len);
		CU_ASSERT_TRUE_FATAL(wait_frames(1));
		n = take_frame(msg, sizeof(msg));
		CU_ASSERT_EQUAL_FATAL(n, (int)(padded + FG_WG_DATA_OVERHEAD));
		CU_ASSERT_EQUAL(fg_wg_transport_receiver(msg), CLIENT_INDEX);
		plain = fg_wg_transport_open(msg, (size_t)n, c.keys.recv, &ctr);
		CU_ASSERT_EQUAL_FATAL(plain, (int)padded);
		CU_ASSERT_EQUAL(ctr, seq);
		CU_ASSERT_EQUAL(memcmp(msg + FG_WG_DATA_HDR_LEN, pkt, len), 0);
		for (uint32_t i = len; i < padded; i++)
			CU_ASSERT_EQUAL(msg[FG_WG_DATA_HDR_LEN + i], 0);
	}
	CU_ASSERT_EQUAL(wcnt()->tun_rx_packets, 4);
	CU_ASSERT_EQUAL(wcnt()->encrypted, 4);
	CU_ASSERT_EQUAL(wcnt()->drops[FG_DROP_TUN_NO_SESSION], 0);
	CU_ASSERT_EQUAL(wcnt()->drops[FG_DROP_TUN_NO_PEER], 0);
	/* A destination no peer owns is dropped by name, and nothing goes out. */
	uint16_t len = inner_packet(pkt, GATEWAY_TUN_IP, CLIENT_TUN_IP + 7, 1);
	CU_ASSERT_EQUAL_FATAL(send(g_env.tun[1], pkt, len, 0), (ssize_t)len);
	CU_ASSERT_TRUE(wait_drop(FG_DROP_TUN_NO_PEER, 1));
	CU_ASSERT_EQUAL(rte_ring_count(g_env.tx), 0);
	CU_ASSERT_EQUAL(wcnt()->encrypted, 4);
	teardown(&c);
}

static void test_replay_dropped(void)
{
	uint8_t pkt[FRAME_MAX], msg[FRAME_MAX];
	struct client c;
	uint16_t len, mlen;

	setup(&c);
	handshake(&c);
	len = inner_packet(pkt, CLIENT_TUN_IP, GATEWAY_TUN_IP, 9);
	mlen = seal(msg, &c, pkt, len, c.keys.remote_index, 0);
	send_frame(msg, mlen);
	CU_ASSERT_EQUAL_FATAL(wait_tun(pkt, sizeof(pkt)), (ssize_t)len);
	send_frame(msg, mlen);   /* the same message again */
	CU_ASSERT_TRUE(wait_drop(FG_DROP_WG_REPLAY, 1));
	CU_ASSERT_TRUE(tun_empty());
	CU_ASSERT_EQUAL(wcnt()->decrypted, 1);
	CU_ASSERT_EQUAL(wcnt()->tun_tx_packets, 1);
	teardown(&c);
}

static void test_forged_tag_dropped(void)
{
	uint8_t pkt[FRAME_MAX], msg[FRAME_MAX];
	struct client c;
	uint16_t len, mlen;

	setup(&c);
	handshake(&c);
	len = inner_packet(pkt, CLIENT_TUN_IP, GATEWAY_TUN_IP, 3);
	mlen = seal(msg, &c, pkt, len, c.keys.remote_index, 5);
	msg[mlen - 1] ^= 0x80;   /* the last byte of the Poly1305 tag */
	send_frame(msg, mlen);
	CU_ASSERT_TRUE(wait_drop(FG_DROP_WG_DECRYPT, 1));
	CU_ASSERT_TRUE(tun_empty());
	CU_ASSERT_EQUAL(wcnt()->decrypted, 0);
	/* A forgery does not use up its counter: the genuine message 5 still goes through. */
	msg[mlen - 1] ^= 0x80;
	send_frame(msg, mlen);
	CU_ASSERT_EQUAL(wait_tun(msg, sizeof(msg)), (ssize_t)len);
	CU_ASSERT_EQUAL(memcmp(msg, pkt, len), 0);
	CU_ASSERT_EQUAL(wcnt()->decrypted, 1);
	CU_ASSERT_EQUAL(wcnt()->drops[FG_DROP_WG_REPLAY], 0);
	teardown(&c);
}

static void test_unknown_index_dropped(void)
{
	uint8_t pkt[FRAME_MAX], msg[FRAME_MAX];
	struct client c;
	uint16_t len;

	setup(&c);
	handshake(&c);
	len = inner_packet(pkt, CLIENT_TUN_IP, GATEWAY_TUN_IP, 4);
	send_frame(msg, seal(msg, &c, pkt, len, c.keys.remote_index ^ 0x00ff0000, 0));
	CU_ASSERT_TRUE(wait_drop(FG_DROP_WG_UNKNOWN_INDEX, 1));
	CU_ASSERT_TRUE(tun_empty());
	CU_ASSERT_EQUAL(wcnt()->decrypted, 0);
	CU_ASSERT_EQUAL(wcnt()->drops[FG_DROP_WG_DECRYPT], 0);
	teardown(&c);
}

static void test_inner_source_not_allowed_dropped(void)
{
	uint8_t pkt[FRAME_MAX];
	struct client c;

	setup(&c);
	handshake(&c);
	/* Authentic, but from a tunnel address the client does not own (cryptokey routing). */
	send_data(&c, pkt, inner_packet(pkt, CLIENT_TUN_IP + 1, GATEWAY_TUN_IP, 5));
	CU_ASSERT_TRUE(wait_drop(FG_DROP_INNER_SOURCE, 1));
	CU_ASSERT_TRUE(tun_empty());
	CU_ASSERT_EQUAL(wcnt()->decrypted, 1);
	CU_ASSERT_EQUAL(wcnt()->tun_tx_packets, 0);
	teardown(&c);
}

static void test_bad_mac1_gets_no_response(void)
{
	struct fg_wg_msg_initiation init;
	struct client c;

	setup(&c);
	CU_ASSERT_EQUAL_FATAL(fg_noise_create_initiation(&init, &c.hs, &c.local, &c.gw, CLIENT_INDEX,
							 fg_clock_wall_ns()), 0);
	fg_wg_cookie_add_macs(&c.cookie, &init, sizeof(init), fg_clock_ns());
	init.macs.mac1[0] ^= 1;
	send_frame(&init, sizeof(init));
	for (unsigned i = 0; i < MAX_STEPS && g_env.dp.svc_cnt.drops[FG_DROP_HANDSHAKE_MAC1] == 0; i++)
		step();
	CU_ASSERT_EQUAL(g_env.dp.svc_cnt.drops[FG_DROP_HANDSHAKE_MAC1], 1);
	CU_ASSERT_EQUAL(wcnt()->handshakes_punted, 1);
	CU_ASSERT_EQUAL(svc_stats()->handshakes_responded, 0);
	CU_ASSERT_EQUAL(rte_ring_count(g_env.tx), 0);
	teardown(&c);
}

static const struct fg_cunit_test tests[] = {
	{ "handshake through the worker and the service", test_handshake_through_worker_and_service },
	{ "data from the client reaches the TUN decrypted", test_data_in_reaches_tun },
	{ "TUN packets reach the client encrypted", test_tun_out_reaches_client_encrypted },
	{ "a replayed data message is a replay drop", test_replay_dropped },
	{ "a forged tag is a decrypt drop and spares its counter", test_forged_tag_dropped },
	{ "an unknown receiver index is dropped by name", test_unknown_index_dropped },
	{ "an inner source outside the allowed IPs is dropped", test_inner_source_not_allowed_dropped },
	{ "an initiation with a bad mac1 gets no response", test_bad_mac1_gets_no_response },
};

int main(int argc, char **argv)
{
	(void)argc;
	if (fg_svc_env_eal(argv[0]) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	return fg_cunit_run("dp-traffic", tests, sizeof(tests) / sizeof(tests[0]));
}
