// SPDX-License-Identifier: MIT
/*
 * The in-process traffic tier: the data plane as fg_dp_init() builds it for the daemon
 * (svc_env.h: one worker over a net_ring port, a socketpair for the TUN, the service state),
 * driven by a WireGuard client that the test plays with dataplane/wg/, a TURN relay in front
 * of it and a control-socket client (traffic.h). Frames are built and read back with a
 * deliberately naive Ethernet/IPv4/UDP codec, not the data plane's netpkt. Everything runs on
 * the main lcore (traffic.h: one worker poll, one service poll, one control socket poll per
 * step, no sleeps).
 *
 * Covered: initiation -> worker -> handshake ring -> service -> response on the wire, which
 * the client completes; data in -> decrypted inner packets on the TUN; TUN packets ->
 * encrypted frames the client opens; and drops by name: a replayed counter, a forged tag
 * (whose counter stays usable), an unknown receiver index, an inner source outside the
 * peer's allowed IPs, and an initiation with a bad mac1. Relays and ICE (ctlproto version
 * 3): the handshake and data both ways through a bound relay channel (ChannelData in and
 * out, byte for byte, the relayed path learned); STUN from a client punted as a PACKET_IN
 * with its source, and inside ChannelData with relay, channel and peer; PACKET_OUT leaving
 * the WireGuard port for the right destination, directly (after ARP) and in ChannelData;
 * ChannelData on an unknown or unbound channel, short, or with a bad length, each dropped by
 * name; the punt path bounded (a full STUN ring, the per-source limit, a control plane that
 * does not read: counted, its connection kept); a nominated relayed path that only an
 * authenticated direct packet moves. Addresses: tunnel 100.64.0.0/11, outer 198.18.0.0/15.
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
#include "traffic.h"
#include "transport.h"
#include "worker.h"

static void test_handshake_through_worker_and_service(void)
{
	struct tr_client c;

	tr_setup(&c);
	tr_handshake(&c);
	CU_ASSERT_EQUAL(tr_svc_stats()->handshakes_responded, 1);
	CU_ASSERT_EQUAL(tr_svc_stats()->handshakes_completed, 0);
	CU_ASSERT_EQUAL(tr_env.dp.svc_cnt.drops[FG_DROP_HANDSHAKE_MAC1], 0);
	CU_ASSERT_EQUAL(tr_env.dp.svc_cnt.drops[FG_DROP_HANDSHAKE_INVALID], 0);
	/* The first data message confirms the session (the worker's CONFIRM event). */
	tr_data_in(&c, 0);
	for (unsigned i = 0; i < TR_MAX_STEPS && tr_svc_stats()->handshakes_completed == 0; i++)
		tr_step();
	CU_ASSERT_EQUAL(tr_svc_stats()->handshakes_completed, 1);
	tr_teardown(&c);
}

static void test_data_in_reaches_tun(void)
{
	struct tr_client c;

	tr_setup(&c);
	tr_handshake(&c);
	for (uint8_t seq = 0; seq < 5; seq++)
		tr_data_in(&c, seq);
	tr_send_data(&c, NULL, 0);   /* a keepalive: counted, nothing on the TUN */
	for (unsigned i = 0; i < TR_MAX_STEPS && tr_wcnt()->keepalives_rx == 0; i++)
		tr_step();
	CU_ASSERT_EQUAL(tr_wcnt()->keepalives_rx, 1);
	CU_ASSERT_TRUE(tr_tun_empty());
	CU_ASSERT_EQUAL(tr_wcnt()->decrypted, 6);
	CU_ASSERT_EQUAL(tr_wcnt()->tun_tx_packets, 5);
	CU_ASSERT_EQUAL(tr_wcnt()->tun_tx_bytes, 5u * (TR_IP4_LEN + TR_UDP_LEN + TR_INNER_PAYLOAD));
	for (unsigned r = 1; r < FG_DROP_MAX; r++)
		CU_ASSERT_EQUAL(tr_wcnt()->drops[r], 0);
	tr_teardown(&c);
}

static void test_tun_out_reaches_client_encrypted(void)
{
	uint8_t pkt[TR_FRAME_MAX], msg[TR_FRAME_MAX];
	struct tr_client c;

	tr_setup(&c);
	tr_handshake(&c);
	tr_send_data(&c, NULL, 0);   /* the responder sends only once the initiator has */
	for (unsigned i = 0; i < TR_MAX_STEPS && tr_svc_stats()->handshakes_completed == 0; i++)
		tr_step();
	for (uint8_t seq = 0; seq < 4; seq++) {
		uint16_t len = tr_inner_packet(pkt, TR_GATEWAY_TUN_IP, TR_CLIENT_TUN_IP, (uint8_t)(seq + 100));
		uint32_t padded = fg_wg_padded_len(len, FG_SVC_ENV_MTU);
		uint64_t ctr = UINT64_MAX;
		int n, plain;

		CU_ASSERT_EQUAL_FATAL(send(tr_env.tun[1], pkt, len, 0), (ssize_t)len);
		CU_ASSERT_TRUE_FATAL(tr_wait_frames(1));
		n = tr_take_frame(&c, msg, sizeof(msg));
		CU_ASSERT_EQUAL_FATAL(n, (int)(padded + FG_WG_DATA_OVERHEAD));
		CU_ASSERT_EQUAL(fg_wg_transport_receiver(msg), TR_CLIENT_INDEX);
		plain = fg_wg_transport_open(msg, (size_t)n, c.keys.recv, &ctr);
		CU_ASSERT_EQUAL_FATAL(plain, (int)padded);
		CU_ASSERT_EQUAL(ctr, seq);
		CU_ASSERT_EQUAL(memcmp(msg + FG_WG_DATA_HDR_LEN, pkt, len), 0);
		for (uint32_t i = len; i < padded; i++)
			CU_ASSERT_EQUAL(msg[FG_WG_DATA_HDR_LEN + i], 0);
	}
	CU_ASSERT_EQUAL(tr_wcnt()->tun_rx_packets, 4);
	CU_ASSERT_EQUAL(tr_wcnt()->encrypted, 4);
	CU_ASSERT_EQUAL(tr_wcnt()->drops[FG_DROP_TUN_NO_SESSION], 0);
	CU_ASSERT_EQUAL(tr_wcnt()->drops[FG_DROP_TUN_NO_PEER], 0);
	/* A destination no peer owns is dropped by name, and nothing goes out. */
	uint16_t len = tr_inner_packet(pkt, TR_GATEWAY_TUN_IP, TR_CLIENT_TUN_IP + 7, 1);
	CU_ASSERT_EQUAL_FATAL(send(tr_env.tun[1], pkt, len, 0), (ssize_t)len);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_TUN_NO_PEER, 1));
	CU_ASSERT_EQUAL(rte_ring_count(tr_env.tx), 0);
	CU_ASSERT_EQUAL(tr_wcnt()->encrypted, 4);
	tr_teardown(&c);
}

static void test_replay_dropped(void)
{
	uint8_t pkt[TR_FRAME_MAX], msg[TR_FRAME_MAX];
	struct tr_client c;
	uint16_t len, mlen;

	tr_setup(&c);
	tr_handshake(&c);
	len = tr_inner_packet(pkt, TR_CLIENT_TUN_IP, TR_GATEWAY_TUN_IP, 9);
	mlen = tr_seal(msg, &c, pkt, len, c.keys.remote_index, 0);
	tr_send_frame(&c, msg, mlen);
	CU_ASSERT_EQUAL_FATAL(tr_wait_tun(pkt, sizeof(pkt)), (ssize_t)len);
	tr_send_frame(&c, msg, mlen);   /* the same message again */
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_WG_REPLAY, 1));
	CU_ASSERT_TRUE(tr_tun_empty());
	CU_ASSERT_EQUAL(tr_wcnt()->decrypted, 1);
	CU_ASSERT_EQUAL(tr_wcnt()->tun_tx_packets, 1);
	tr_teardown(&c);
}

static void test_forged_tag_dropped(void)
{
	uint8_t pkt[TR_FRAME_MAX], msg[TR_FRAME_MAX];
	struct tr_client c;
	uint16_t len, mlen;

	tr_setup(&c);
	tr_handshake(&c);
	len = tr_inner_packet(pkt, TR_CLIENT_TUN_IP, TR_GATEWAY_TUN_IP, 3);
	mlen = tr_seal(msg, &c, pkt, len, c.keys.remote_index, 5);
	msg[mlen - 1] ^= 0x80;   /* the last byte of the Poly1305 tag */
	tr_send_frame(&c, msg, mlen);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_WG_DECRYPT, 1));
	CU_ASSERT_TRUE(tr_tun_empty());
	CU_ASSERT_EQUAL(tr_wcnt()->decrypted, 0);
	/* A forgery does not use up its counter: the genuine message 5 still goes through. */
	msg[mlen - 1] ^= 0x80;
	tr_send_frame(&c, msg, mlen);
	CU_ASSERT_EQUAL(tr_wait_tun(msg, sizeof(msg)), (ssize_t)len);
	CU_ASSERT_EQUAL(memcmp(msg, pkt, len), 0);
	CU_ASSERT_EQUAL(tr_wcnt()->decrypted, 1);
	CU_ASSERT_EQUAL(tr_wcnt()->drops[FG_DROP_WG_REPLAY], 0);
	tr_teardown(&c);
}

static void test_unknown_index_dropped(void)
{
	uint8_t pkt[TR_FRAME_MAX], msg[TR_FRAME_MAX];
	struct tr_client c;
	uint16_t len;

	tr_setup(&c);
	tr_handshake(&c);
	len = tr_inner_packet(pkt, TR_CLIENT_TUN_IP, TR_GATEWAY_TUN_IP, 4);
	tr_send_frame(&c, msg, tr_seal(msg, &c, pkt, len, c.keys.remote_index ^ 0x00ff0000, 0));
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_WG_UNKNOWN_INDEX, 1));
	CU_ASSERT_TRUE(tr_tun_empty());
	CU_ASSERT_EQUAL(tr_wcnt()->decrypted, 0);
	CU_ASSERT_EQUAL(tr_wcnt()->drops[FG_DROP_WG_DECRYPT], 0);
	tr_teardown(&c);
}

static void test_inner_source_not_allowed_dropped(void)
{
	uint8_t pkt[TR_FRAME_MAX];
	struct tr_client c;

	tr_setup(&c);
	tr_handshake(&c);
	/* Authentic, but from a tunnel address the client does not own (cryptokey routing). */
	tr_send_data(&c, pkt, tr_inner_packet(pkt, TR_CLIENT_TUN_IP + 1, TR_GATEWAY_TUN_IP, 5));
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_INNER_SOURCE, 1));
	CU_ASSERT_TRUE(tr_tun_empty());
	CU_ASSERT_EQUAL(tr_wcnt()->decrypted, 1);
	CU_ASSERT_EQUAL(tr_wcnt()->tun_tx_packets, 0);
	tr_teardown(&c);
}

static void test_bad_mac1_gets_no_response(void)
{
	struct fg_wg_msg_initiation init;
	struct tr_client c;

	tr_setup(&c);
	CU_ASSERT_EQUAL_FATAL(fg_noise_create_initiation(&init, &c.hs, &c.local, &c.gw, TR_CLIENT_INDEX,
							 fg_clock_wall_ns()), 0);
	fg_wg_cookie_add_macs(&c.cookie, &init, sizeof(init), fg_clock_ns());
	init.macs.mac1[0] ^= 1;
	tr_send_frame(&c, &init, sizeof(init));
	for (unsigned i = 0; i < TR_MAX_STEPS && tr_env.dp.svc_cnt.drops[FG_DROP_HANDSHAKE_MAC1] == 0; i++)
		tr_step();
	CU_ASSERT_EQUAL(tr_env.dp.svc_cnt.drops[FG_DROP_HANDSHAKE_MAC1], 1);
	CU_ASSERT_EQUAL(tr_wcnt()->handshakes_punted, 1);
	CU_ASSERT_EQUAL(tr_svc_stats()->handshakes_responded, 0);
	CU_ASSERT_EQUAL(rte_ring_count(tr_env.tx), 0);
	tr_teardown(&c);
}

/* ---- relays and ICE: ChannelData, STUN punt, PACKET_OUT, nominated paths ------------------ */

static void bind_channel(uint16_t channel, uint32_t peer_ip)
{
	struct fg_ctl_channel m;

	memset(&m, 0, sizeof(m));
	m.relay = tr_ep4(TR_RELAY_IP, TR_RELAY_PORT);
	m.peer = tr_ep4(peer_ip, TR_CLIENT_PORT);
	m.channel = channel;
	CU_ASSERT_EQUAL_FATAL(tr_ctl_request(&m, sizeof(m), FG_CTL_CHANNEL_BIND), 0);
}

static void read_path(const struct tr_client *c, struct fg_peer_path *path)
{
	fg_peer_read_path(&tr_env.dp.tables.peers[c->slot], path);
}

/* The next PACKET_IN must be payload (len bytes) from src, with channel and peer. */
static void expect_packet_in(const struct fg_endpoint *src, uint16_t channel, const struct fg_endpoint *peer,
			     const uint8_t *payload, uint16_t len)
{
	_Alignas(16) uint8_t buf[sizeof(struct fg_ctl_packet_in) + FG_CTL_MAX_PACKET];
	const struct fg_ctl_packet_in *m = (const void *)buf;
	ssize_t n = tr_ctl_packet_in(buf, sizeof(buf));

	CU_ASSERT_EQUAL_FATAL(n, (ssize_t)(sizeof(*m) + len));
	CU_ASSERT_EQUAL(m->h.version, FG_CTL_VERSION);
	CU_ASSERT_EQUAL(m->h.seq, 0);
	CU_ASSERT_TRUE(fg_endpoint_equal(&m->src, src));
	CU_ASSERT_EQUAL(m->channel, channel);
	if (peer) {
		CU_ASSERT_TRUE(fg_endpoint_equal(&m->peer, peer));
	} else {
		CU_ASSERT_EQUAL(m->peer.ip.family, 0);
	}
	CU_ASSERT_EQUAL(m->len, len);
	CU_ASSERT_EQUAL(memcmp(m->payload, payload, len), 0);
}

static void test_relay_handshake_and_data(void)
{
	const struct fg_endpoint relay = tr_ep4(TR_RELAY_IP, TR_RELAY_PORT);
	uint8_t pkt[TR_FRAME_MAX], msg[TR_FRAME_MAX];
	struct fg_peer_path path;
	struct tr_client c;
	uint16_t len, mlen;

	tr_setup(&c);
	tr_ctl_open();
	bind_channel(TR_CHANNEL, TR_CLIENT_IP);
	c.channel = TR_CHANNEL;
	/* The initiation in ChannelData, the response back in ChannelData to the relay. */
	tr_handshake(&c);
	CU_ASSERT_EQUAL(tr_env.dp.svc_cnt.relay_tx_packets, 1);
	/* The endpoint learned is the relayed path, its next hop the frame's source MAC. */
	read_path(&c, &path);
	CU_ASSERT_TRUE(fg_peer_path_same(&path, &relay, TR_CHANNEL));
	CU_ASSERT_TRUE(path.mac_ok && rte_is_same_ether_addr(&path.mac, &tr_relay_mac));
	CU_ASSERT_EQUAL(fg_svc_peer_channel(&tr_env.svc, c.slot), TR_CHANNEL);
	for (uint8_t seq = 0; seq < 4; seq++)
		tr_data_in(&c, seq);
	for (unsigned i = 0; i < TR_MAX_STEPS && tr_svc_stats()->handshakes_completed == 0; i++)
		tr_step();
	CU_ASSERT_EQUAL(tr_svc_stats()->handshakes_completed, 1);
	/* ChannelData padded to a multiple of 4 (RFC 8656 §12.5): the data without the padding
	 * goes on (here a message one byte short, which then fails to authenticate). */
	len = tr_inner_packet(pkt, TR_CLIENT_TUN_IP, TR_GATEWAY_TUN_IP, 42);
	mlen = tr_seal(msg, &c, pkt, len, c.keys.remote_index, c.send_counter++);
	CU_ASSERT_EQUAL(mlen % 4, 0);
	tr_send_relayed(TR_CHANNEL, msg, (uint16_t)(mlen - 1), 1);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_WG_DECRYPT, 1));
	tr_send_relayed(TR_CHANNEL, msg, mlen, 0);
	CU_ASSERT_EQUAL(tr_wait_tun(msg, sizeof(msg)), (ssize_t)len);
	CU_ASSERT_EQUAL(memcmp(msg, pkt, len), 0);
	/* TUN -> sealed -> ChannelData to the relay on the client's channel. */
	for (uint8_t seq = 0; seq < 4; seq++)
		tr_tun_out(&c, (uint8_t)(seq + 100));
	CU_ASSERT_EQUAL(tr_wcnt()->relay_rx_packets, 1 + 4 + 2);
	CU_ASSERT(tr_wcnt()->relay_rx_bytes > 6 * (TR_OUTER_LEN + TR_CHAN_LEN + FG_WG_DATA_OVERHEAD));
	CU_ASSERT_EQUAL(tr_wcnt()->relay_tx_packets, 4);
	CU_ASSERT(tr_wcnt()->relay_tx_bytes > 4 * (TR_OUTER_LEN + TR_CHAN_LEN + FG_WG_DATA_OVERHEAD));
	CU_ASSERT_EQUAL(tr_wcnt()->encrypted, 4);
	for (unsigned r = 1; r < FG_DROP_MAX; r++)
		CU_ASSERT_EQUAL(tr_wcnt()->drops[r], r == FG_DROP_WG_DECRYPT ? 1u : 0u);
	CU_ASSERT_EQUAL(tr_svc_stats()->roams, 0);
	tr_teardown(&c);
}

static void test_stun_punted_with_source(void)
{
	const struct fg_endpoint client = tr_ep4(TR_CLIENT_IP, TR_CLIENT_PORT);
	uint8_t stun[64];
	uint16_t n = tr_stun_binding(stun, 7);
	struct tr_client c;

	tr_setup(&c);
	tr_ctl_open();
	tr_send_frame(&c, stun, n);
	expect_packet_in(&client, 0, NULL, stun, n);
	CU_ASSERT_EQUAL(tr_wcnt()->stun_punted, 1);
	CU_ASSERT_EQUAL(tr_svc_stats()->stun_delivered, 1);
	/* No control plane connected: counted as stun_no_agent. */
	tr_ctl_close();
	tr_send_frame(&c, stun, n);
	CU_ASSERT_TRUE(tr_wait_svc_drop(FG_DROP_STUN, 1));
	CU_ASSERT_EQUAL(tr_wcnt()->stun_punted, 2);
	CU_ASSERT_EQUAL(tr_svc_stats()->stun_delivered, 1);
	tr_teardown(&c);
}

/* PACKET_OUT of len payload bytes to ep (on channel); returns the REPLY's status. */
static int packet_out(const struct fg_endpoint *ep, uint16_t channel, const uint8_t *payload, uint16_t len)
{
	_Alignas(16) uint8_t buf[sizeof(struct fg_ctl_packet_out) + FG_CTL_MAX_PACKET];
	struct fg_ctl_packet_out *m = (void *)buf;

	memset(m, 0, sizeof(*m));
	m->ep = *ep;
	m->channel = channel;
	m->len = len;
	memcpy(m->payload, payload, len);
	return tr_ctl_request(m, sizeof(*m) + len, FG_CTL_PACKET_OUT);
}

static void test_packet_out(void)
{
	const struct fg_endpoint client = tr_ep4(TR_CLIENT_IP, TR_CLIENT_PORT);
	const struct fg_endpoint relay = tr_ep4(TR_RELAY_IP, TR_RELAY_PORT);
	uint8_t stun[64], got[TR_FRAME_MAX];
	uint16_t n = tr_stun_binding(stun, 9);
	struct fg_endpoint v6 = { .ip = { .family = AF_INET6, .addr = { 0xfd, 0 } }, .port = 9 };
	struct tr_client c;

	tr_setup(&c);
	tr_ctl_open();
	/* The first datagram to the client waits for ARP (the neighbour table), then leaves
	 * from the WireGuard port. */
	CU_ASSERT_EQUAL(packet_out(&client, 0, stun, n), 0);
	tr_answer_arp(TR_CLIENT_IP, &tr_client_mac);
	CU_ASSERT_TRUE_FATAL(tr_wait_frames(1));
	CU_ASSERT_EQUAL(tr_take_frame_to(&tr_client_mac, TR_CLIENT_IP, TR_CLIENT_PORT, got, sizeof(got)), n);
	CU_ASSERT_EQUAL(memcmp(got, stun, n), 0);
	/* The next one goes at once. */
	stun[27] ^= 0xff;
	CU_ASSERT_EQUAL(packet_out(&client, 0, stun, n), 0);
	CU_ASSERT_TRUE_FATAL(tr_wait_frames(1));
	CU_ASSERT_EQUAL(tr_take_frame_to(&tr_client_mac, TR_CLIENT_IP, TR_CLIENT_PORT, got, sizeof(got)), n);
	CU_ASSERT_EQUAL(memcmp(got, stun, n), 0);
	/* Through a relay channel: ChannelData to the relay, after ARP for it. */
	CU_ASSERT_EQUAL(packet_out(&relay, 0x4abc, stun, n), 0);
	tr_answer_arp(TR_RELAY_IP, &tr_relay_mac);
	CU_ASSERT_TRUE_FATAL(tr_wait_frames(1));
	CU_ASSERT_EQUAL(tr_take_frame_to(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, got, sizeof(got)), TR_CHAN_LEN + n);
	CU_ASSERT_EQUAL(tr_get16(got), 0x4abc);
	CU_ASSERT_EQUAL(tr_get16(got + 2), n);
	CU_ASSERT_EQUAL(memcmp(got + TR_CHAN_LEN, stun, n), 0);
	/* Frames held for ARP are not counted as sent; the next relayed one is. */
	CU_ASSERT_EQUAL(tr_env.dp.svc_cnt.relay_tx_packets, 0);
	CU_ASSERT_EQUAL(packet_out(&relay, 0x4abc, stun, n), 0);
	CU_ASSERT_TRUE_FATAL(tr_wait_frames(1));
	CU_ASSERT_EQUAL(tr_take_frame_to(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, got, sizeof(got)), TR_CHAN_LEN + n);
	CU_ASSERT_EQUAL(tr_svc_stats()->packets_sent, 4);
	CU_ASSERT_EQUAL(tr_env.dp.svc_cnt.relay_tx_packets, 1);
	/* Refused: nothing to send, a channel outside 0x4000-0x4FFF, port 0, a family the
	 * uplink lacks, a len that disagrees with the datagram. */
	CU_ASSERT_EQUAL(packet_out(&client, 0, stun, 0), -EINVAL);
	CU_ASSERT_EQUAL(packet_out(&relay, 0x3fff, stun, n), -EINVAL);
	CU_ASSERT_EQUAL(packet_out(&relay, 0x5000, stun, n), -EINVAL);
	struct fg_endpoint port0 = client;
	port0.port = 0;
	CU_ASSERT_EQUAL(packet_out(&port0, 0, stun, n), -EINVAL);
	CU_ASSERT_EQUAL(packet_out(&v6, 0, stun, n), -EAFNOSUPPORT);
	_Alignas(16) uint8_t bad[sizeof(struct fg_ctl_packet_out) + 8];
	struct fg_ctl_packet_out *m = (void *)bad;
	memset(bad, 0, sizeof(bad));
	m->ep = client;
	m->len = 9;
	CU_ASSERT_EQUAL(tr_ctl_request(bad, sizeof(bad), FG_CTL_PACKET_OUT), -EPROTO);
	for (unsigned i = 0; i < 100; i++)
		tr_step();
	CU_ASSERT_EQUAL(rte_ring_count(tr_env.tx), 0);
	CU_ASSERT_EQUAL(tr_svc_stats()->packets_sent, 4);
	tr_teardown(&c);
}

static void test_stun_in_channel_punted(void)
{
	const struct fg_endpoint relay = tr_ep4(TR_RELAY_IP, TR_RELAY_PORT);
	const struct fg_endpoint client = tr_ep4(TR_CLIENT_IP, TR_CLIENT_PORT);
	uint8_t stun[64];
	uint16_t n = tr_stun_binding(stun, 3);
	struct tr_client c;

	tr_setup(&c);
	tr_ctl_open();
	bind_channel(TR_CHANNEL, TR_CLIENT_IP);
	/* An ICE check through the relay: relay, channel and the peer behind it. */
	tr_send_relayed(TR_CHANNEL, stun, n, 0);
	expect_packet_in(&relay, TR_CHANNEL, &client, stun, n);
	/* The relay's own STUN (an Allocate success response from port 3478): punted bare. */
	tr_put16(stun, 0x0103);
	tr_send_frame_from(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, stun, n);
	expect_packet_in(&relay, 0, NULL, stun, n);
	/* Rebound to another peer: the PACKET_IN names it. */
	bind_channel(TR_CHANNEL, TR_CLIENT_IP + 7);
	tr_put16(stun, 0x0001);
	tr_send_relayed(TR_CHANNEL, stun, n, 0);
	const struct fg_endpoint other = tr_ep4(TR_CLIENT_IP + 7, TR_CLIENT_PORT);
	expect_packet_in(&relay, TR_CHANNEL, &other, stun, n);
	CU_ASSERT_EQUAL(tr_wcnt()->stun_punted, 3);
	CU_ASSERT_EQUAL(tr_wcnt()->relay_rx_packets, 2);
	CU_ASSERT_EQUAL(tr_env.dp.chans.n, 1);
	tr_teardown(&c);
}

static void test_channel_drops(void)
{
	uint8_t stun[64], buf[TR_FRAME_MAX];
	uint16_t n = tr_stun_binding(stun, 5);
	struct fg_ctl_channel m;
	struct tr_client c;

	tr_setup(&c);
	tr_ctl_open();
	bind_channel(TR_CHANNEL, TR_CLIENT_IP);
	/* A channel the relay never bound for us, and our channel number from another relay. */
	tr_send_relayed(TR_CHANNEL + 1, stun, n, 0);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_CHANNEL_UNKNOWN, 1));
	tr_put16(buf, TR_CHANNEL);
	tr_put16(buf + 2, n);
	memcpy(buf + TR_CHAN_LEN, stun, n);
	tr_send_frame_from(&tr_relay_mac, TR_RELAY_IP + 1, TR_RELAY_PORT, buf, (uint16_t)(TR_CHAN_LEN + n));
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_CHANNEL_UNKNOWN, 2));
	/* Short: the header claims more than the datagram carries. */
	tr_put16(buf + 2, (uint16_t)(n + 8));
	tr_send_frame_from(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, buf, (uint16_t)(TR_CHAN_LEN + n));
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_CHANNEL_MALFORMED, 1));
	/* Bad length: more behind the data than padding to 4 allows (3 bytes at most), and a
	 * data length of 27 padded to 32 rather than 28. */
	tr_put16(buf + 2, (uint16_t)(n - 8));
	tr_send_frame_from(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, buf, (uint16_t)(TR_CHAN_LEN + n));
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_CHANNEL_MALFORMED, 2));
	tr_put16(buf + 2, (uint16_t)(n - 1));
	tr_send_frame_from(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, buf, (uint16_t)(TR_CHAN_LEN + n + 4));
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_CHANNEL_MALFORMED, 3));
	/* Shorter than a ChannelData header: not ChannelData at all. */
	tr_send_frame_from(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, buf, 3);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_WG_LENGTH, 1));
	/* Data that is neither STUN Binding nor WireGuard, inside a bound channel. */
	memset(buf + TR_CHAN_LEN, 0x77, 40);
	tr_put16(buf + 2, 40);
	tr_send_frame_from(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, buf, TR_CHAN_LEN + 40);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_WG_TYPE, 1));
	/* Unbound: the channel is unknown again; unbinding it twice is -ENOENT. */
	memset(&m, 0, sizeof(m));
	m.relay = tr_ep4(TR_RELAY_IP, TR_RELAY_PORT);
	m.channel = TR_CHANNEL;
	CU_ASSERT_EQUAL(tr_ctl_request(&m, sizeof(m), FG_CTL_CHANNEL_UNBIND), 0);
	CU_ASSERT_EQUAL(tr_ctl_request(&m, sizeof(m), FG_CTL_CHANNEL_UNBIND), -ENOENT);
	tr_send_relayed(TR_CHANNEL, stun, n, 0);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_CHANNEL_UNKNOWN, 3));
	CU_ASSERT_EQUAL(tr_wcnt()->stun_punted, 0);
	CU_ASSERT_EQUAL(tr_wcnt()->relay_rx_packets, 1);   /* the bound one that carried junk */
	CU_ASSERT_EQUAL(tr_env.dp.chans.n, 0);
	/* Bad requests: a channel number outside the range, a relay without an address. */
	m.channel = 0x3fff;
	CU_ASSERT_EQUAL(tr_ctl_request(&m, sizeof(m), FG_CTL_CHANNEL_BIND), -EINVAL);
	m.channel = TR_CHANNEL;
	CU_ASSERT_EQUAL(tr_ctl_request(&m, sizeof(m), FG_CTL_CHANNEL_BIND), -EINVAL); /* peer family 0 */
	tr_teardown(&c);
}

/* A STUN flood from one source with nobody reading it: the ring to the service is bounded,
 * the service's per-source bucket takes the rest, each counted. */
static void test_stun_punt_bounded(void)
{
	uint8_t stun[64];
	uint16_t n = tr_stun_binding(stun, 1);
	struct tr_client c;
	unsigned cap, total = 600;

	tr_setup(&c);
	cap = rte_ring_get_capacity(tr_env.dp.stun_ring);
	CU_ASSERT_FATAL(cap < total);
	for (unsigned i = 0; i < total; i++)
		tr_send_frame(&c, stun, n);
	/* The worker alone: the ring fills and the rest is stun_queue_full. */
	for (unsigned i = 0; i < TR_MAX_STEPS && rte_ring_count(tr_env.rx); i++)
		fg_worker_poll(&tr_env.dp, &tr_env.dp.workers[0]);
	CU_ASSERT_EQUAL(tr_wcnt()->stun_punted, cap);
	CU_ASSERT_EQUAL(tr_wcnt()->drops[FG_DROP_STUN_QUEUE_FULL], total - cap);
	/* The service: a burst of FG_SVC_STUN_BURST passes the bucket (and finds no control
	 * plane), the rest is rate-limited. */
	for (unsigned i = 0; i < TR_MAX_STEPS && rte_ring_count(tr_env.dp.stun_ring); i++)
		tr_step();
	uint64_t no_agent = tr_env.dp.svc_cnt.drops[FG_DROP_STUN];
	uint64_t limited = tr_env.dp.svc_cnt.drops[FG_DROP_STUN_RATELIMIT];
	CU_ASSERT_EQUAL(no_agent + limited, cap);
	CU_ASSERT(no_agent >= FG_SVC_STUN_BURST);
	CU_ASSERT(limited > 0);
	tr_teardown(&c);
}

/* A Binding request of len bytes (a multiple of 4, >= 24) with one big attribute. */
static uint16_t big_stun(uint8_t *p, uint16_t len, uint8_t seq)
{
	tr_stun_binding(p, seq);
	tr_put16(p + 2, (uint16_t)(len - 20));
	tr_put16(p + 22, (uint16_t)(len - 24));
	memset(p + 24, seq, (size_t)len - 24);
	return len;
}

/* A control plane that does not read loses PACKET_INs (stun_ctl_backlog), never its
 * connection. */
static void test_stun_backlog_keeps_connection(void)
{
	_Alignas(16) uint8_t buf[sizeof(struct fg_ctl_packet_in) + FG_CTL_MAX_PACKET];
	uint8_t stun[1200];
	struct fg_ctl_channel m;
	struct tr_client c;
	unsigned sent = 0, got = 0;

	tr_setup(&c);
	tr_ctl_open();
	/* 4 sources x 150 (within the per-source burst) x 1.2 kB: past what the socket and
	 * the server's 256 KiB queue hold. */
	for (uint32_t src = 0; src < 4; src++) {
		for (unsigned b = 0; b < 3; b++) {
			for (unsigned i = 0; i < 50; i++, sent++)
				tr_send_frame_from(&tr_client_mac, TR_CLIENT_IP + 16 + src, TR_CLIENT_PORT, stun,
						   big_stun(stun, sizeof(stun), (uint8_t)i));
			for (unsigned i = 0; i < TR_MAX_STEPS &&
					     (rte_ring_count(tr_env.rx) || rte_ring_count(tr_env.dp.stun_ring)); i++)
				tr_step();
		}
	}
	uint64_t backlog = tr_env.dp.svc_cnt.drops[FG_DROP_STUN_BACKLOG];
	CU_ASSERT(backlog > 0);
	CU_ASSERT_EQUAL(tr_svc_stats()->stun_delivered + backlog, sent);
	CU_ASSERT_EQUAL(tr_env.dp.svc_cnt.drops[FG_DROP_STUN_RATELIMIT], 0);
	/* Everything queued arrives, and the connection still answers. */
	while (tr_ctl_packet_in(buf, sizeof(buf)) > 0 && got < sent)
		got++;
	CU_ASSERT_EQUAL(got, tr_svc_stats()->stun_delivered);
	memset(&m, 0, sizeof(m));
	m.relay = tr_ep4(TR_RELAY_IP, TR_RELAY_PORT);
	m.channel = TR_CHANNEL;
	CU_ASSERT_EQUAL(tr_ctl_request(&m, sizeof(m), FG_CTL_CHANNEL_UNBIND), -ENOENT);
	tr_teardown(&c);
}

static int peer_path(const struct tr_client *c, const struct fg_endpoint *ep, uint16_t channel)
{
	struct fg_ctl_peer_path m;

	memset(&m, 0, sizeof(m));
	memcpy(m.public_key, c->local.public_key, 32);
	m.ep = *ep;
	m.channel = channel;
	return tr_ctl_request(&m, sizeof(m), FG_CTL_PEER_PATH);
}

/* ICE nominates the relayed path; only an authenticated packet that arrives directly moves
 * the peer back (WireGuard roaming). */
static void test_nominated_path_roaming(void)
{
	const struct fg_endpoint relay = tr_ep4(TR_RELAY_IP, TR_RELAY_PORT);
	const struct fg_endpoint client = tr_ep4(TR_CLIENT_IP, TR_CLIENT_PORT);
	uint8_t stun[64], pkt[TR_FRAME_MAX], msg[TR_FRAME_MAX];
	struct fg_peer_path path;
	struct tr_client c;
	uint16_t len, mlen;

	tr_setup(&c);
	tr_ctl_open();
	bind_channel(TR_CHANNEL, TR_CLIENT_IP);
	tr_handshake(&c);
	tr_data_in(&c, 0);
	read_path(&c, &path);
	CU_ASSERT_TRUE(fg_peer_path_same(&path, &client, 0));
	/* Nominated: through the relay; its MAC comes from ARP. */
	CU_ASSERT_EQUAL(peer_path(&c, &relay, TR_CHANNEL), 0);
	tr_answer_arp(TR_RELAY_IP, &tr_relay_mac);
	read_path(&c, &path);
	for (unsigned i = 0; i < TR_MAX_STEPS && !path.mac_ok; i++) {
		tr_step();
		read_path(&c, &path);
	}
	CU_ASSERT_TRUE(fg_peer_path_same(&path, &relay, TR_CHANNEL));
	CU_ASSERT_TRUE(path.mac_ok && rte_is_same_ether_addr(&path.mac, &tr_relay_mac));
	c.channel = TR_CHANNEL;
	tr_tun_out(&c, 1);
	/* Direct STUN (an ICE check on another pair) and a forged data message: no move. */
	tr_send_frame_from(&tr_client_mac, TR_CLIENT_IP, TR_CLIENT_PORT, stun, tr_stun_binding(stun, 2));
	len = tr_inner_packet(pkt, TR_CLIENT_TUN_IP, TR_GATEWAY_TUN_IP, 7);
	mlen = tr_seal(msg, &c, pkt, len, c.keys.remote_index, 1000);
	msg[mlen - 1] ^= 1;
	tr_send_frame_from(&tr_client_mac, TR_CLIENT_IP, TR_CLIENT_PORT, msg, mlen);
	CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_WG_DECRYPT, 1));
	for (unsigned i = 0; i < 200; i++)
		tr_step();
	read_path(&c, &path);
	CU_ASSERT_TRUE(fg_peer_path_same(&path, &relay, TR_CHANNEL));
	/* Authenticated data through the relay keeps it; authenticated data directly moves it. */
	tr_data_in(&c, 1);
	read_path(&c, &path);
	CU_ASSERT_TRUE(fg_peer_path_same(&path, &relay, TR_CHANNEL));
	CU_ASSERT_EQUAL(tr_svc_stats()->roams, 0);
	c.channel = 0;
	tr_data_in(&c, 2);
	for (unsigned i = 0; i < TR_MAX_STEPS && !fg_peer_path_same(&path, &client, 0); i++) {
		tr_step();
		read_path(&c, &path);
	}
	CU_ASSERT_TRUE(fg_peer_path_same(&path, &client, 0));
	CU_ASSERT_EQUAL(tr_svc_stats()->roams, 1);
	tr_tun_out(&c, 2);
	CU_ASSERT_EQUAL(tr_svc_stats()->paths_set, 1);
	/* Refused: an unknown peer, a channel outside the range, a channel without a relay. */
	struct tr_client stranger = c;
	stranger.local.public_key[0] ^= 1;
	CU_ASSERT_EQUAL(peer_path(&stranger, &relay, TR_CHANNEL), -ENOENT);
	CU_ASSERT_EQUAL(peer_path(&c, &relay, 0x5000), -EINVAL);
	const struct fg_endpoint none = { 0 };
	CU_ASSERT_EQUAL(peer_path(&c, &none, TR_CHANNEL), -EINVAL);
	sodium_memzero(&stranger, sizeof(stranger));
	tr_teardown(&c);
}

/* Each per-packet refinement taken out (the bench's "before" rows) and stage profiling on
 * change nothing a peer or the host sees: the same packets arrive, the same drops are
 * counted. With FG_FP_PROFILE the stages of both directions are timed and their packets
 * counted; without it nothing is. */
static void test_fastpath_variants(void)
{
	static const unsigned variants[] = {
		0,
		FG_FP_PROFILE,
		FG_FP_PROFILE | FG_FP_NO_BULK_LOOKUP,
		FG_FP_NO_PREFETCH,
		FG_FP_NO_RX_CSUM_FLAGS,
		FG_FP_POLICY_REPARSE,
		FG_FP_PROFILE | FG_FP_NO_BULK_LOOKUP | FG_FP_NO_PREFETCH | FG_FP_NO_RX_CSUM_FLAGS |
			FG_FP_POLICY_REPARSE,
	};

	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		uint8_t pkt[TR_FRAME_MAX], msg[TR_FRAME_MAX];
		const struct fg_stage_prof *rx, *tx;
		struct tr_client c;
		uint16_t len;

		tr_setup(&c);
		tr_handshake(&c);
		tr_env.dp.fastpath = variants[v];
		for (uint8_t seq = 0; seq < 5; seq++)
			tr_data_in(&c, seq);
		/* A replay and an unknown index among them. */
		len = tr_inner_packet(pkt, TR_CLIENT_TUN_IP, TR_GATEWAY_TUN_IP, 9);
		tr_send_frame(&c, msg, tr_seal(msg, &c, pkt, len, c.keys.remote_index, 0));
		CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_WG_REPLAY, 1));
		tr_send_frame(&c, msg, tr_seal(msg, &c, pkt, len, c.keys.remote_index ^ 0x00ff0000, 99));
		CU_ASSERT_TRUE(tr_wait_drop(FG_DROP_WG_UNKNOWN_INDEX, 1));
		tr_send_data(&c, NULL, 0);   /* a keepalive */
		for (unsigned i = 0; i < TR_MAX_STEPS && (tr_wcnt()->keepalives_rx == 0 ||
							   tr_svc_stats()->handshakes_completed == 0); i++)
			tr_step();
		CU_ASSERT_EQUAL(tr_svc_stats()->handshakes_completed, 1);
		for (uint8_t seq = 0; seq < 3; seq++)
			tr_tun_out(&c, seq);
		CU_ASSERT_EQUAL(tr_wcnt()->decrypted, 6);
		CU_ASSERT_EQUAL(tr_wcnt()->tun_tx_packets, 5);
		CU_ASSERT_EQUAL(tr_wcnt()->encrypted, 3);
		for (unsigned r = 1; r < FG_DROP_MAX; r++)
			if (r != FG_DROP_WG_REPLAY && r != FG_DROP_WG_UNKNOWN_INDEX)
				CU_ASSERT_EQUAL(tr_wcnt()->drops[r], 0);
		rx = &tr_wcnt()->prof_rx;
		tx = &tr_wcnt()->prof_tx;
		if (variants[v] & FG_FP_PROFILE) {
			/* 5 data, the replay, the unknown index and the keepalive. */
			CU_ASSERT_EQUAL(rx->packets, 8);
			CU_ASSERT(rx->bursts >= 1 && rx->bursts <= rx->packets);
			for (unsigned st = 0; st < FG_STAGE_MAX; st++)
				CU_ASSERT(rx->cycles[st] > 0);
			CU_ASSERT_EQUAL(tx->packets, 3);
			CU_ASSERT(tx->cycles[FG_STAGE_IO] > 0 && tx->cycles[FG_STAGE_AEAD] > 0 &&
				  tx->cycles[FG_STAGE_PARSE] > 0 && tx->cycles[FG_STAGE_LOOKUP] > 0);
		} else {
			CU_ASSERT_EQUAL(rx->packets + rx->bursts + tx->packets + tx->bursts, 0);
			for (unsigned st = 0; st < FG_STAGE_MAX; st++)
				CU_ASSERT_EQUAL(rx->cycles[st] + tx->cycles[st], 0);
		}
		tr_teardown(&c);
	}
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
	{ "handshake and data both ways through a relay channel", test_relay_handshake_and_data },
	{ "STUN from a client reaches the control socket with its source", test_stun_punted_with_source },
	{ "PACKET_OUT leaves the WireGuard port for its destination", test_packet_out },
	{ "STUN inside ChannelData is punted with relay, channel and peer", test_stun_in_channel_punted },
	{ "unknown channel, short and bad-length ChannelData are dropped by name", test_channel_drops },
	{ "the STUN punt is bounded: ring, per-source bucket", test_stun_punt_bounded },
	{ "a control plane that does not read loses STUN, not its connection", test_stun_backlog_keeps_connection },
	{ "a nominated relayed path moves only for an authenticated direct packet", test_nominated_path_roaming },
	{ "fast-path variants deliver alike; stage profiling counts both directions", test_fastpath_variants },
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
