// SPDX-License-Identifier: MIT
/*
 * The traffic tier's client, relay, frames and control-socket client (see traffic.h). Main
 * lcore only; one environment at a time.
 */
#include "traffic.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <sodium.h>

#include "clock.h"
#include "ctl_server.h"
#include "messages.h"
#include "transport.h"
#include "worker.h"

const struct rte_ether_addr tr_client_mac = { { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02 } };
const struct rte_ether_addr tr_relay_mac = { { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x03 } };
struct fg_svc_env tr_env;

static struct {
	struct fg_ctl_server *srv;
	int fd;
	char dir[64];
	char path[108];
	uint32_t seq;
} g_ctl = { .fd = -1 };

static void fill(uint8_t k[32], uint8_t seed)
{
	for (int i = 0; i < 32; i++)
		k[i] = (uint8_t)(seed + i * 13);
}

struct fg_lcore_counters *tr_wcnt(void)
{
	return &tr_env.dp.workers[0].cnt;
}

const struct fg_svc_stats *tr_svc_stats(void)
{
	return fg_svc_stats(&tr_env.svc);
}

void tr_step(void)
{
	unsigned n = fg_worker_poll(&tr_env.dp, &tr_env.dp.workers[0]);

	fg_svc_poll(&tr_env.svc, fg_clock_ns());
	if (g_ctl.srv)
		fg_ctl_server_poll(g_ctl.srv);
	/* TunIo = sqpoll: a kernel thread on another CPU carries the TUN I/O, and a busy
	 * machine may not run it for milliseconds. An idle step leaves it 100 µs, so that
	 * TR_MAX_STEPS rounds span a second or more. */
	if (n == 0 && tr_env.dp.tun_io == FG_TUN_IO_SQPOLL) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 100 * 1000 };

		nanosleep(&ts, NULL);
	}
}

bool tr_wait_frames(unsigned n)
{
	for (unsigned i = 0; i < TR_MAX_STEPS && rte_ring_count(tr_env.tx) < n; i++)
		tr_step();
	return rte_ring_count(tr_env.tx) >= n;
}

bool tr_wait_drop(enum fg_drop reason, uint64_t want)
{
	for (unsigned i = 0; i < TR_MAX_STEPS && tr_wcnt()->drops[reason] < want; i++)
		tr_step();
	return tr_wcnt()->drops[reason] >= want;
}

bool tr_wait_svc_drop(enum fg_drop reason, uint64_t want)
{
	for (unsigned i = 0; i < TR_MAX_STEPS && tr_env.dp.svc_cnt.drops[reason] < want; i++)
		tr_step();
	return tr_env.dp.svc_cnt.drops[reason] >= want;
}

ssize_t tr_wait_tun(uint8_t *buf, size_t cap)
{
	for (unsigned i = 0; i < TR_MAX_STEPS; i++) {
		ssize_t n = recv(tr_env.tun[1], buf, cap, MSG_DONTWAIT);

		if (n >= 0)
			return n;
		tr_step();
	}
	return -1;
}

bool tr_tun_empty(void)
{
	uint8_t b[TR_FRAME_MAX];

	return recv(tr_env.tun[1], b, sizeof(b), MSG_DONTWAIT) < 0 && errno == EAGAIN;
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

void tr_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	tr_put16(p, (uint16_t)(v >> 16));
	tr_put16(p + 2, (uint16_t)v);
}

uint16_t tr_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t tr_get32(const uint8_t *p)
{
	return (uint32_t)tr_get16(p) << 16 | tr_get16(p + 2);
}

struct fg_endpoint tr_ep4(uint32_t ip, uint16_t port)
{
	struct fg_endpoint ep = { .ip = { .family = AF_INET }, .port = port };

	put32(ep.ip.addr, ip);
	return ep;
}

/* IPv4 header (no options, DF, TTL 64, checksum) at p for a payload of len bytes. */
static void put_ip4(uint8_t *p, uint8_t proto, uint32_t src, uint32_t dst, uint16_t len)
{
	memset(p, 0, TR_IP4_LEN);
	p[0] = 0x45;
	tr_put16(p + 2, (uint16_t)(TR_IP4_LEN + len));
	p[6] = 0x40;
	p[8] = 64;
	p[9] = proto;
	put32(p + 12, src);
	put32(p + 16, dst);
	tr_put16(p + 10, csum(p, TR_IP4_LEN));
}

uint16_t tr_inner_packet(uint8_t *p, uint32_t src, uint32_t dst, uint8_t seq)
{
	uint16_t ulen = TR_UDP_LEN + TR_INNER_PAYLOAD;

	put_ip4(p, IPPROTO_UDP, src, dst, ulen);
	tr_put16(p + TR_IP4_LEN, 5000);
	tr_put16(p + TR_IP4_LEN + 2, 6000);
	tr_put16(p + TR_IP4_LEN + 4, ulen);
	tr_put16(p + TR_IP4_LEN + 6, 0);
	for (unsigned i = 0; i < TR_INNER_PAYLOAD; i++)
		p[TR_IP4_LEN + TR_UDP_LEN + i] = (uint8_t)(seq * 31 + i);
	return (uint16_t)(TR_IP4_LEN + ulen);
}

uint16_t tr_stun_binding(uint8_t *p, uint8_t seq)
{
	/* RFC 8489 §5: type, length, magic cookie, transaction id; then one attribute
	 * (SOFTWARE, 4 bytes). */
	tr_put16(p, 0x0001);
	tr_put16(p + 2, 8);
	put32(p + 4, 0x2112A442);
	for (int i = 0; i < 12; i++)
		p[8 + i] = (uint8_t)(seq + i * 17);
	tr_put16(p + 20, 0x8022);
	tr_put16(p + 22, 4);
	memcpy(p + 24, "fgt", 3);
	p[27] = seq;
	return 28;
}

void tr_send_frame_from(const struct rte_ether_addr *mac, uint32_t ip, uint16_t port, const void *payload,
			uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(tr_env.dp.pool);
	uint8_t *f;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(TR_OUTER_LEN + len));
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	memcpy(f, tr_env.dp.local.mac.addr_bytes, 6);
	memcpy(f + 6, mac->addr_bytes, 6);
	tr_put16(f + 12, 0x0800);
	put_ip4(f + TR_ETH_LEN, IPPROTO_UDP, ip, FG_SVC_ENV_LOCAL_IP, (uint16_t)(TR_UDP_LEN + len));
	tr_put16(f + TR_ETH_LEN + TR_IP4_LEN, port);
	tr_put16(f + TR_ETH_LEN + TR_IP4_LEN + 2, FG_SVC_ENV_LISTEN_PORT);
	tr_put16(f + TR_ETH_LEN + TR_IP4_LEN + 4, (uint16_t)(TR_UDP_LEN + len));
	tr_put16(f + TR_ETH_LEN + TR_IP4_LEN + 6, 0);   /* no UDP checksum (IPv4) */
	memcpy(f + TR_OUTER_LEN, payload, len);
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(tr_env.rx, m), 0);
}

void tr_send_relayed(uint16_t channel, const void *payload, uint16_t len, uint16_t pad)
{
	uint8_t buf[TR_FRAME_MAX];

	CU_ASSERT_FATAL((size_t)TR_CHAN_LEN + len + pad <= sizeof(buf));
	tr_put16(buf, channel);
	tr_put16(buf + 2, len);
	memcpy(buf + TR_CHAN_LEN, payload, len);
	memset(buf + TR_CHAN_LEN + len, 0, pad);
	tr_send_frame_from(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, buf, (uint16_t)(TR_CHAN_LEN + len + pad));
}

void tr_send_frame(const struct tr_client *c, const void *payload, uint16_t len)
{
	if (c->channel)
		tr_send_relayed(c->channel, payload, len, 0);
	else
		tr_send_frame_from(&tr_client_mac, TR_CLIENT_IP, TR_CLIENT_PORT, payload, len);
}

int tr_take_frame_to(const struct rte_ether_addr *mac, uint32_t ip, uint16_t port, uint8_t *out, size_t cap)
{
	struct rte_mbuf *m;
	const uint8_t *f, *iph, *udp;
	int len = -1;

	if (rte_ring_dequeue(tr_env.tx, (void **)&m) != 0)
		return -1;
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	iph = f + TR_ETH_LEN;
	udp = iph + TR_IP4_LEN;
	CU_ASSERT_EQUAL(m->nb_segs, 1);
	CU_ASSERT(rte_pktmbuf_data_len(m) >= TR_OUTER_LEN);
	CU_ASSERT_EQUAL(memcmp(f, mac->addr_bytes, 6), 0);
	CU_ASSERT_EQUAL(memcmp(f + 6, tr_env.dp.local.mac.addr_bytes, 6), 0);
	CU_ASSERT_EQUAL(tr_get16(f + 12), 0x0800);
	CU_ASSERT_EQUAL(iph[0], 0x45);
	CU_ASSERT_EQUAL(csum(iph, TR_IP4_LEN), 0);
	CU_ASSERT_EQUAL(iph[9], IPPROTO_UDP);
	CU_ASSERT_EQUAL(tr_get32(iph + 12), FG_SVC_ENV_LOCAL_IP);
	CU_ASSERT_EQUAL(tr_get32(iph + 16), ip);
	CU_ASSERT_EQUAL(tr_get16(udp), FG_SVC_ENV_LISTEN_PORT);
	CU_ASSERT_EQUAL(tr_get16(udp + 2), port);
	if (rte_pktmbuf_data_len(m) >= TR_OUTER_LEN &&
	    tr_get16(iph + 2) == rte_pktmbuf_data_len(m) - TR_ETH_LEN &&
	    tr_get16(udp + 4) == tr_get16(iph + 2) - TR_IP4_LEN && tr_get16(udp + 4) - TR_UDP_LEN <= (int)cap) {
		len = tr_get16(udp + 4) - TR_UDP_LEN;
		memcpy(out, udp + TR_UDP_LEN, (size_t)len);
	}
	CU_ASSERT(len >= 0);
	rte_pktmbuf_free(m);
	return len;
}

int tr_take_frame(const struct tr_client *c, uint8_t *out, size_t cap)
{
	uint8_t buf[TR_FRAME_MAX];
	int n;

	if (!c->channel)
		return tr_take_frame_to(&tr_client_mac, TR_CLIENT_IP, TR_CLIENT_PORT, out, cap);
	n = tr_take_frame_to(&tr_relay_mac, TR_RELAY_IP, TR_RELAY_PORT, buf, sizeof(buf));
	if (n < TR_CHAN_LEN)
		return -1;
	/* RFC 8656 §12.4: the channel, the data's exact length, no padding over UDP. */
	CU_ASSERT_EQUAL(tr_get16(buf), c->channel);
	CU_ASSERT_EQUAL(tr_get16(buf + 2), n - TR_CHAN_LEN);
	if (tr_get16(buf) != c->channel || tr_get16(buf + 2) != n - TR_CHAN_LEN || (size_t)(n - TR_CHAN_LEN) > cap)
		return -1;
	memcpy(out, buf + TR_CHAN_LEN, (size_t)(n - TR_CHAN_LEN));
	return n - TR_CHAN_LEN;
}

void tr_answer_arp(uint32_t ip, const struct rte_ether_addr *mac)
{
	struct rte_mbuf *m;
	const uint8_t *f;
	uint8_t *r;

	CU_ASSERT_TRUE_FATAL(tr_wait_frames(1));
	CU_ASSERT_EQUAL_FATAL(rte_ring_dequeue(tr_env.tx, (void **)&m), 0);
	f = rte_pktmbuf_mtod(m, const uint8_t *);
	/* A broadcast request (op 1) from us for ip. */
	CU_ASSERT_EQUAL(tr_get16(f + 12), 0x0806);
	CU_ASSERT_EQUAL(tr_get16(f + 20), 1);
	CU_ASSERT_EQUAL(tr_get32(f + 38), ip);
	rte_pktmbuf_free(m);
	m = rte_pktmbuf_alloc(tr_env.dp.pool);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	r = (uint8_t *)rte_pktmbuf_append(m, 60);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	memset(r, 0, 60);
	memcpy(r, tr_env.dp.local.mac.addr_bytes, 6);
	memcpy(r + 6, mac->addr_bytes, 6);
	tr_put16(r + 12, 0x0806);
	tr_put16(r + 14, 1);          /* Ethernet */
	tr_put16(r + 16, 0x0800);     /* IPv4 */
	r[18] = 6;
	r[19] = 4;
	tr_put16(r + 20, 2);          /* reply */
	memcpy(r + 22, mac->addr_bytes, 6);
	put32(r + 28, ip);
	memcpy(r + 32, tr_env.dp.local.mac.addr_bytes, 6);
	put32(r + 38, FG_SVC_ENV_LOCAL_IP);
	CU_ASSERT_EQUAL_FATAL(rte_ring_enqueue(tr_env.rx, m), 0);
}

uint16_t tr_seal(uint8_t *msg, const struct tr_client *c, const uint8_t *plain, uint16_t len, uint32_t rx,
		 uint64_t ctr)
{
	uint32_t padded = fg_wg_padded_len(len, FG_SVC_ENV_MTU);

	memset(msg + FG_WG_DATA_HDR_LEN, 0, padded);
	if (len)
		memcpy(msg + FG_WG_DATA_HDR_LEN, plain, len);
	return (uint16_t)fg_wg_transport_seal(msg, padded, c->keys.send, rx, ctr);
}

void tr_send_data(struct tr_client *c, const uint8_t *plain, uint16_t len)
{
	uint8_t msg[TR_FRAME_MAX];

	tr_send_frame(c, msg, tr_seal(msg, c, plain, len, c->keys.remote_index, c->send_counter++));
}

void tr_setup(struct tr_client *c)
{
	uint8_t gk[32], gpub[32], ck[32], psk[32];
	struct fg_prefix allowed = { .ip = { .family = AF_INET }, .len = 32 };
	uint32_t a = htonl(TR_CLIENT_TUN_IP);
	int r;

	memset(c, 0, sizeof(*c));
	tr_ctl_close();
	fg_svc_env_fini(&tr_env);   /* what a test that stopped at a fatal assertion left */
	r = fg_svc_env_init(&tr_env, 16);
	if (r < 0)
		fg_svc_env_fini(&tr_env);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	fill(gk, 0x21);
	fill(ck, 0x42);
	fill(psk, 0x63);
	CU_ASSERT_EQUAL_FATAL(crypto_scalarmult_base(gpub, gk), 0);
	CU_ASSERT_EQUAL_FATAL(fg_svc_set_private_key(&tr_env.svc, gk), 0);
	CU_ASSERT_EQUAL_FATAL(fg_noise_local_init(&c->local, ck), 0);
	CU_ASSERT_EQUAL_FATAL(fg_noise_peer_init(&c->gw, &c->local, gpub, psk), 0);
	fg_wg_cookie_init(&c->cookie, gpub);

	c->slot = fg_svc_peer_add(&tr_env.svc, c->local.public_key);
	CU_ASSERT_NOT_EQUAL_FATAL(c->slot, FG_SLOT_NONE);
	CU_ASSERT_EQUAL_FATAL(fg_svc_peer_set_psk(&tr_env.svc, c->slot, psk), 0);
	memcpy(allowed.ip.addr, &a, 4);
	CU_ASSERT_EQUAL_FATAL(fg_svc_peer_add_allowed(&tr_env.svc, c->slot, &allowed), 0);
}

void tr_teardown(struct tr_client *c)
{
	tr_ctl_close();
	fg_svc_env_fini(&tr_env);
	sodium_memzero(c, sizeof(*c));
}

void tr_handshake(struct tr_client *c)
{
	struct fg_wg_msg_initiation init;
	struct fg_wg_msg_response resp;
	uint8_t payload[TR_FRAME_MAX];

	CU_ASSERT_EQUAL_FATAL(fg_noise_create_initiation(&init, &c->hs, &c->local, &c->gw, TR_CLIENT_INDEX,
							 fg_clock_wall_ns()), 0);
	fg_wg_cookie_add_macs(&c->cookie, &init, sizeof(init), fg_clock_ns());
	tr_send_frame(c, &init, sizeof(init));
	CU_ASSERT_TRUE_FATAL(tr_wait_frames(1));
	CU_ASSERT_EQUAL_FATAL(tr_take_frame(c, payload, sizeof(payload)), (int)sizeof(resp));
	memcpy(&resp, payload, sizeof(resp));
	CU_ASSERT_EQUAL_FATAL(fg_noise_consume_response(&resp, &c->hs, &c->local, &c->gw), 0);
	CU_ASSERT_EQUAL_FATAL(fg_noise_derive_keys(&c->hs, &c->keys), 0);
	CU_ASSERT_TRUE(c->keys.initiator);
	CU_ASSERT_EQUAL(c->keys.local_index, TR_CLIENT_INDEX);
	CU_ASSERT_EQUAL(tr_wcnt()->handshakes_punted, 1);
}

void tr_data_in(struct tr_client *c, uint8_t seq)
{
	uint8_t pkt[TR_FRAME_MAX], got[TR_FRAME_MAX];
	uint16_t len = tr_inner_packet(pkt, TR_CLIENT_TUN_IP, TR_GATEWAY_TUN_IP, seq);

	tr_send_data(c, pkt, len);
	CU_ASSERT_EQUAL_FATAL(tr_wait_tun(got, sizeof(got)), (ssize_t)len);
	CU_ASSERT_EQUAL(memcmp(got, pkt, len), 0);
}

void tr_confirm(struct tr_client *c)
{
	uint64_t done = tr_svc_stats()->handshakes_completed;

	tr_send_data(c, NULL, 0);   /* the responder sends only once the initiator has */
	for (unsigned i = 0; i < TR_MAX_STEPS && tr_svc_stats()->handshakes_completed == done; i++)
		tr_step();
	CU_ASSERT_EQUAL(tr_svc_stats()->handshakes_completed, done + 1);
}

void tr_tun_out(struct tr_client *c, uint8_t seq)
{
	uint8_t pkt[TR_FRAME_MAX], msg[TR_FRAME_MAX];
	uint16_t len = tr_inner_packet(pkt, TR_GATEWAY_TUN_IP, TR_CLIENT_TUN_IP, seq);
	uint32_t padded = fg_wg_padded_len(len, FG_SVC_ENV_MTU);
	uint64_t ctr = UINT64_MAX;
	int n, plain;

	CU_ASSERT_EQUAL_FATAL(send(tr_env.tun[1], pkt, len, 0), (ssize_t)len);
	CU_ASSERT_TRUE_FATAL(tr_wait_frames(1));
	n = tr_take_frame(c, msg, sizeof(msg));
	CU_ASSERT_EQUAL_FATAL(n, (int)(padded + FG_WG_DATA_OVERHEAD));
	CU_ASSERT_EQUAL(fg_wg_transport_receiver(msg), TR_CLIENT_INDEX);
	plain = fg_wg_transport_open(msg, (size_t)n, c->keys.recv, &ctr);
	CU_ASSERT_EQUAL_FATAL(plain, (int)padded);
	CU_ASSERT_EQUAL(memcmp(msg + FG_WG_DATA_HDR_LEN, pkt, len), 0);
	for (uint32_t i = len; i < padded; i++)
		CU_ASSERT_EQUAL(msg[FG_WG_DATA_HDR_LEN + i], 0);
}

/* ---- the control socket ------------------------------------------------------------------- */

void tr_ctl_open(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(g_ctl.dir, sizeof(g_ctl.dir), "/tmp/fg-traffic-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(g_ctl.dir));
	snprintf(g_ctl.path, sizeof(g_ctl.path), "%.63s/ctl.sock", g_ctl.dir);
	g_ctl.srv = fg_ctl_server_open(&tr_env.svc, g_ctl.path, (gid_t)-1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_ctl.srv);
	memcpy(sa.sun_path, g_ctl.path, sizeof(g_ctl.path));
	g_ctl.fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	CU_ASSERT_FATAL(g_ctl.fd >= 0);
	CU_ASSERT_EQUAL_FATAL(connect(g_ctl.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* Accepted on the server's next poll. */
	for (int i = 0; i < 10; i++)
		tr_step();
}

const char *tr_ctl_path(void)
{
	return g_ctl.path;
}

void tr_ctl_close(void)
{
	if (g_ctl.fd >= 0)
		close(g_ctl.fd);
	g_ctl.fd = -1;
	if (g_ctl.srv) {
		fg_ctl_server_close(g_ctl.srv);
		g_ctl.srv = NULL;
		rmdir(g_ctl.dir);
	}
}

void tr_ctl_send(void *msg, size_t len, uint16_t type)
{
	struct fg_ctl_hdr *h = msg;

	h->version = FG_CTL_VERSION;
	h->type = type;
	h->seq = ++g_ctl.seq;
	CU_ASSERT_EQUAL_FATAL(send(g_ctl.fd, msg, len, MSG_NOSIGNAL), (ssize_t)len);
}

int tr_ctl_request(void *msg, size_t len, uint16_t type)
{
	_Alignas(16) uint8_t buf[FG_CTL_MAX_MSG];
	struct fg_ctl_hdr *h = msg;

	tr_ctl_send(msg, len, type);
	for (unsigned i = 0; i < TR_MAX_STEPS; i++) {
		ssize_t n = recv(g_ctl.fd, buf, sizeof(buf), MSG_DONTWAIT);
		struct fg_ctl_reply r;

		if (n < 0) {
			tr_step();
			continue;
		}
		if ((size_t)n != sizeof(r))
			continue;   /* a PACKET_IN or an event */
		memcpy(&r, buf, sizeof(r));
		if (r.h.type == FG_CTL_REPLY && r.h.seq == h->seq)
			return r.status;
	}
	CU_FAIL("no REPLY on the control socket");
	return -ETIMEDOUT;
}

ssize_t tr_ctl_packet_in(void *buf, size_t cap)
{
	return tr_ctl_wait_type(FG_CTL_PACKET_IN, buf, cap);
}

ssize_t tr_ctl_wait_type(uint16_t type, void *buf, size_t cap)
{
	for (unsigned i = 0; i < TR_MAX_STEPS; i++) {
		ssize_t n = recv(g_ctl.fd, buf, cap, MSG_DONTWAIT);
		struct fg_ctl_hdr h;

		if (n < 0) {
			tr_step();
			continue;
		}
		if ((size_t)n < sizeof(h))
			continue;
		memcpy(&h, buf, sizeof(h));
		if (h.type == type)
			return n;
	}
	return -1;
}
