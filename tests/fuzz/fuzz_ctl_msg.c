// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the data plane's control socket (dataplane/api/ctl_server.c) on a real
 * service state (tests/unit/dataplane/svc_env.h). The input is cut into datagrams (a 2-byte
 * length before each) and sent over a connected SOCK_SEQPACKET socket to the server, which is
 * polled after each; replies are read and dropped. Version-2 messages carry a variable number
 * of filters, version-3 packets a variable payload (common/ctlproto.h, fg_ctl_msg_size): every
 * size, count and field the input claims must be refused or applied, never read past. A
 * length of 0xFFFF instead announces a frame for the wire: one byte of UDP payload length,
 * one byte of source (bit 0: from port 3478, as a relay; bits 1-2: which of four sources),
 * then the payload, sent to the worker in an Ethernet/IPv4/UDP frame, so that the fuzzed
 * CHANNEL_BIND / PEER_PATH / PACKET_OUT meet ChannelData and STUN punted back as PACKET_IN.
 * Relay 198.18.0.3:3478 has channels 0x4000-0x4003 bound at the start of every input. What
 * the worker sends is freed. The service state is reset between inputs.
 *
 *   scripts/fuzz.sh ctl_msg 60     (clang, ASan + UBSan, 60 s)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ctl_server.h"
#include "ctlproto.h"
#include "peers.h"
#include "service.h"
#include "svc_env.h"
#include "worker.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fg_svc_env g_env;
static struct fg_ctl_server *g_srv;
static struct sockaddr_un g_sa = { .sun_family = AF_UNIX };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fg-fuzz-ctl.XXXXXX";

	(void)argc;
	if (fg_svc_env_eal((*argv)[0]) < 0 || fg_svc_env_init(&g_env, 64) < 0 || !mkdtemp(dir)) {
		fprintf(stderr, "fuzz_ctl_msg: cannot set up the service state\n");
		exit(1);
	}
	snprintf(g_sa.sun_path, sizeof(g_sa.sun_path), "%s/fz.ctl", dir);
	g_srv = fg_ctl_server_open(&g_env.svc, g_sa.sun_path, (gid_t)-1);
	if (!g_srv) {
		fprintf(stderr, "fuzz_ctl_msg: cannot open the control socket\n");
		exit(1);
	}
	return 0;
}

enum {
	FRAME_MARK = 0xFFFF,         /* a length prefix announcing a frame for the wire */
	RELAY_PORT = 3478,
	OTHER_PORT = 40001,
	N_CHANNELS = 4,              /* bound at the start of every input: 0x4000.. */
};

static void drain(int fd)
{
	static uint8_t buf[FG_CTL_MAX_MSG];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* The wire: frames the worker sent (PACKET_OUT, handshake answers) go back to the pool. */
static void drain_wire(void)
{
	struct rte_mbuf *m;

	while (rte_ring_dequeue(g_env.tx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

static struct fg_endpoint relay_ep(void)
{
	struct fg_endpoint ep = { .ip = { .family = AF_INET, .addr = { 198, 18, 0, 3 } }, .port = RELAY_PORT };

	return ep;
}

/* Every channel unbound, then the fixed ones bound again: each input starts alike. */
static void reset_channels(void)
{
	struct fg_chantable *t = &g_env.dp.chans;
	struct fg_endpoint relay = relay_ep(), peer = relay;

	for (uint32_t i = 0; i < t->max && t->n; i++)
		if (t->ch[i].used)
			fg_chantable_unbind(t, &t->ch[i].relay, 0);
	peer.ip.addr[3] = 9;
	peer.port = OTHER_PORT;
	for (uint16_t c = 0; c < N_CHANNELS; c++)
		fg_svc_channel_bind(&g_env.svc, &relay, (uint16_t)(FG_CTL_CHANNEL_MIN + c), &peer);
}

static uint16_t csum16(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An Ethernet/IPv4/UDP frame from source `src` (bit 0: port 3478; bits 1-2: 198.18.0.3..6)
 * to the data plane, carrying payload, onto the port's RX ring. */
static void send_frame(uint8_t src, const uint8_t *payload, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g_env.dp.pool);
	uint16_t sport = (src & 1) ? RELAY_PORT : OTHER_PORT, c;
	uint8_t *f;

	if (!m)
		return;
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(42 + len));
	if (!f) {
		rte_pktmbuf_free(m);
		return;
	}
	memset(f, 0, 42);
	memcpy(f, g_env.dp.local.mac.addr_bytes, 6);
	memcpy(f + 6, (const uint8_t[]){ 0x02, 0, 0x5e, 0, 0, (uint8_t)(src >> 1) }, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)((28 + len) >> 8);
	f[17] = (uint8_t)(28 + len);
	f[20] = 0x40;
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, (const uint8_t[]){ 198, 18, 0, (uint8_t)(3 + ((src >> 1) & 3)) }, 4);
	memcpy(f + 30, &g_env.dp.local.ip4, 4);
	c = csum16(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	f[34] = (uint8_t)(sport >> 8);
	f[35] = (uint8_t)sport;
	f[36] = (uint8_t)(FG_SVC_ENV_LISTEN_PORT >> 8);
	f[37] = (uint8_t)FG_SVC_ENV_LISTEN_PORT;
	f[38] = (uint8_t)((8 + len) >> 8);
	f[39] = (uint8_t)(8 + len);
	memcpy(f + 42, payload, len);
	if (rte_ring_enqueue(g_env.rx, m) != 0)
		rte_pktmbuf_free(m);
}

/* One round of everything that moves packets: the server, the worker, the service. */
static void run_once(int fd)
{
	for (int k = 0; k < 4 && fg_ctl_server_poll(g_srv) > 0; k++)
		;
	fg_worker_poll(&g_env.dp, &g_env.dp.workers[0]);
	fg_svc_poll(&g_env.svc, 0);   /* a fixed clock: an input replays alike */
	fg_ctl_server_poll(g_srv);
	drain(fd);
	drain_wire();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[FG_CTL_MAX_MSG + 16];
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&g_sa, sizeof(g_sa)) < 0)
		abort();
	reset_channels();
	fg_ctl_server_poll(g_srv);
	for (size_t i = 0; i + 2 <= size;) {
		size_t n = (size_t)data[i] | (size_t)data[i + 1] << 8;

		i += 2;
		if (n == FRAME_MARK) {
			if (size - i < 2)
				break;
			n = data[i];
			uint8_t src = data[i + 1];

			i += 2;
			if (n > size - i)
				n = size - i;
			send_frame(src, data + i, n);
			i += n;
			for (int k = 0; k < 3; k++)
				run_once(fd);
			continue;
		}
		if (n > size - i)
			n = size - i;
		if (n > sizeof(msg))
			n = sizeof(msg);
		memcpy(msg, data + i, n);
		/* the version field is mostly right, so the fuzzer gets past the first check */
		if (n >= 2 && !(msg[1] & 0x80)) {
			msg[0] = FG_CTL_VERSION;
			msg[1] = 0;
		}
		i += n;
		(void)!send(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		run_once(fd);
	}
	close(fd);
	fg_ctl_server_poll(g_srv);
	while (g_env.svc.nlive)
		fg_svc_peer_remove(&g_env.svc, g_env.svc.live[g_env.svc.nlive - 1]);
	fg_svc_garbage_collect(&g_env.svc, true);
	fg_tables_reclaim(&g_env.dp.tables);
	while (rte_ring_count(g_env.rx) || rte_ring_count(g_env.dp.stun_ring) || rte_ring_count(g_env.dp.hs_ring))
		run_once(-1);
	fg_svc_env_drain(&g_env);
	return 0;
}
