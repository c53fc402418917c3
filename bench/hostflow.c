// SPDX-License-Identifier: MIT
/*
 * The feeder's side of the host-path rows: the remote end of a TCP connection behind a bench
 * peer (segments built with correct checksums, the kernel's segments parsed), inner packets
 * sealed into complete frames from the peer's endpoint for the worker's RX ring (with the
 * fast AEAD backend, off the worker's clock), and the worker's frames from its TX ring opened
 * with the peer's key. The ideas of tun_bench.c's fabricated TCP stream, one hop further
 * out: here the segments cross the WireGuard tunnel and the worker before the TUN. Worker
 * lcores, each on its own flows and mbufs.
 */
#include "host.h"

#include <arpa/inet.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "messages.h"
#include "transport.h"
#include "vnet.h"

enum {
	IP_HDR = 20,
	TCP_HDR = 20,
	SYN_OPT_LEN = 8,
	INNER_OFF = FG_NETPKT_UDP4_HDR_LEN + FG_WG_DATA_HDR_LEN,
};

/* The constant payload of every data segment, and its checksum sum (read-only after init). */
static uint8_t g_payload[FG_BENCH_TCP_MSS];
static uint32_t g_payload_sum;

void fg_bench_tcp_init_payload(void)
{
	for (unsigned i = 0; i < sizeof(g_payload); i++)
		g_payload[i] = (uint8_t)(i * 7 + 1);
	g_payload_sum = fg_csum_add(0, g_payload, sizeof(g_payload));
}

uint16_t fg_bench_tcp_build(struct fg_bench_flow *f, uint8_t *b, uint32_t seq, uint8_t flags, uint32_t plen,
			    uint16_t win)
{
	const uint8_t syn_opt[SYN_OPT_LEN] = { 2, 4, FG_BENCH_TCP_MSS >> 8, FG_BENCH_TCP_MSS & 0xff, 1, 3, 3,
					       FG_BENCH_TCP_WSCALE };
	unsigned optlen = (flags & FG_BENCH_TCP_F_SYN) ? SYN_OPT_LEN : 0;
	unsigned thl = TCP_HDR + optlen;
	uint32_t len = IP_HDR + thl + plen, sum;
	uint8_t *t = b + IP_HDR;

	b[0] = 0x45;
	b[1] = 0;
	fg_vnet_put16(b + 2, (uint16_t)len);
	fg_vnet_put16(b + 4, f->ip_id++);
	fg_vnet_put16(b + 6, 0x4000); /* DF */
	b[8] = 64;
	b[9] = IPPROTO_TCP;
	fg_vnet_put32(b + 12, f->my_ip);
	fg_vnet_put32(b + 16, f->k_ip);
	fg_vnet_put16(b + 10, 0);
	fg_csum_ipv4(b, IP_HDR);

	fg_vnet_put16(t, f->my_port);
	fg_vnet_put16(t + 2, f->k_port);
	fg_vnet_put32(t + 4, seq);
	fg_vnet_put32(t + 8, (flags & FG_BENCH_TCP_F_ACK) ? f->rcv_nxt : 0);
	t[12] = (uint8_t)((thl / 4) << 4);
	t[13] = flags;
	fg_vnet_put16(t + 14, win);
	fg_vnet_put16(t + 16, 0);
	fg_vnet_put16(t + 18, 0);
	if (optlen)
		memcpy(t + TCP_HDR, syn_opt, optlen);
	sum = fg_csum_pseudo(b, false, IPPROTO_TCP, thl + plen) + fg_csum_add(0, t, thl);
	if (plen) {
		memcpy(t + thl, g_payload, plen);
		sum = plen == sizeof(g_payload) ? sum + g_payload_sum : fg_csum_add(sum, t + thl, plen);
	}
	fg_vnet_put16(t + 16, (uint16_t)~fg_csum_fold(sum));
	return (uint16_t)len;
}

int fg_bench_tcp_parse(const uint8_t *ip, uint32_t len, struct fg_bench_tcp_seg *s)
{
	unsigned ihl, thl, tot;
	const uint8_t *t;

	if (len < IP_HDR + TCP_HDR || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP)
		return -1;
	ihl = (ip[0] & 0xf) * 4u;
	tot = fg_vnet_get16(ip + 2);
	if (ihl < IP_HDR || tot > len || tot < ihl + TCP_HDR)
		return -1;
	t = ip + ihl;
	thl = (t[12] >> 4) * 4u;
	if (thl < TCP_HDR || tot < ihl + thl)
		return -1;
	memset(s, 0, sizeof(*s));
	s->src = fg_vnet_get32(ip + 12);
	s->dst = fg_vnet_get32(ip + 16);
	s->sport = fg_vnet_get16(t);
	s->dport = fg_vnet_get16(t + 2);
	s->seq = fg_vnet_get32(t + 4);
	s->ack = fg_vnet_get32(t + 8);
	s->flags = t[13];
	s->win = fg_vnet_get16(t + 14);
	s->plen = tot - ihl - thl;
	for (unsigned i = TCP_HDR; i < thl;) {
		uint8_t kind = t[i];

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= thl || t[i + 1] < 2)
			break;
		if (kind == 3 && t[i + 1] == 3 && i + 2 < thl) {
			s->has_wscale = true;
			s->wscale = t[i + 2] > 14 ? 14 : t[i + 2];
		}
		i += t[i + 1];
	}
	return 0;
}

/* remote_index(p) = (p + 1) * K (env.c), K odd: its inverse mod 2^32 undoes it. */
uint32_t fg_bench_peer_of_remote(const struct fg_bench_env *e, uint32_t remote_index)
{
	uint32_t k = fg_bench_remote_index(0), inv = k, p;

	for (int i = 0; i < 5; i++)
		inv *= 2 - k * inv;
	p = remote_index * inv - 1;
	return p < e->npeers ? p : UINT32_MAX;
}

uint8_t *fg_bench_inner_room(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, INNER_OFF);
}

unsigned fg_bench_seal_frames(const struct fg_bench_env *e, struct rte_ring *ring, struct rte_mbuf **ms,
			      struct fg_bench_flow *const flows[], const uint16_t ilen[], unsigned n, bool udp_csum,
			      bool csum_flags)
{
	struct fg_aead_op ops[FG_BURST_MAX];
	const struct fg_tables *t = &e->dp.tables;
	unsigned done = 0;

	while (done < n) {
		unsigned k = n - done < FG_BURST_MAX ? n - done : FG_BURST_MAX;

		for (unsigned i = 0; i < k; i++) {
			struct fg_bench_flow *f = flows[done + i];
			struct rte_mbuf *m = ms[done + i];
			uint32_t padded = fg_wg_padded_len(ilen[done + i], FG_BENCH_MTU);
			uint8_t *msg = rte_pktmbuf_mtod_offset(m, uint8_t *, FG_NETPKT_UDP4_HDR_LEN);

			memset(msg + FG_WG_DATA_HDR_LEN + ilen[done + i], 0, padded - ilen[done + i]);
			ops[i] = (struct fg_aead_op){ .data = msg, .key = t->kps[e->kp_slot[f->peer]].recv_key,
						      .counter = f->wg_counter++, .len = padded,
						      .receiver_index = fg_bench_local_index(f->peer) };
		}
		(void)fg_aead_seal_burst(ops, k);
		for (unsigned i = 0; i < k; i++) {
			uint32_t p = flows[done + i]->peer;
			struct rte_mbuf *m = ms[done + i];
			uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
			uint16_t wlen = (uint16_t)(ops[i].len + FG_WG_DATA_OVERHEAD);
			struct rte_ether_addr src_mac = { .addr_bytes = { 0x02, 0xfb, 0, (uint8_t)(p >> 16),
									  (uint8_t)(p >> 8), (uint8_t)p } };

			fg_netpkt_write_udp4(frame, &src_mac, &e->dp.local.mac, htonl(fg_bench_peer_ip(p)),
					     e->dp.local.ip4, fg_bench_peer_port(p), FG_BENCH_LISTEN_PORT, wlen, 0);
			if (udp_csum) {
				struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
				struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

				udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
			}
			m->data_len = (uint16_t)(FG_NETPKT_UDP4_HDR_LEN + wlen);
			m->pkt_len = m->data_len;
			if (csum_flags)
				m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		}
		done += k;
	}
	done = rte_ring_sp_enqueue_burst(ring, (void **)ms, n, NULL);
	if (done < n)
		rte_pktmbuf_free_bulk(ms + done, n - done);
	return done;
}

unsigned fg_bench_open_frames(const struct fg_bench_env *e, struct rte_mbuf **ms, unsigned n, uint32_t peer[],
			      uint8_t *inner[], uint16_t ilen[], bool ok[])
{
	struct fg_aead_op ops[FG_BURST_MAX];
	unsigned idx[FG_BURST_MAX], nops = 0, good = 0;
	const struct fg_tables *t = &e->dp.tables;

	for (unsigned i = 0; i < n && i < FG_BURST_MAX; i++) {
		uint32_t len = rte_pktmbuf_data_len(ms[i]);
		uint8_t *msg = rte_pktmbuf_mtod_offset(ms[i], uint8_t *, FG_NETPKT_UDP4_HDR_LEN);

		ok[i] = false;
		peer[i] = UINT32_MAX;
		if (len < FG_NETPKT_UDP4_HDR_LEN + FG_WG_DATA_MIN_LEN || msg[0] != FG_WG_MSG_DATA)
			continue;
		peer[i] = fg_bench_peer_of_remote(e, fg_wg_transport_receiver(msg));
		if (peer[i] == UINT32_MAX)
			continue;
		ops[nops] = (struct fg_aead_op){ .data = msg, .key = t->kps[e->kp_slot[peer[i]]].send_key,
						 .len = len - FG_NETPKT_UDP4_HDR_LEN };
		idx[nops++] = i;
	}
	(void)fg_aead_open_burst(ops, nops);
	for (unsigned j = 0; j < nops; j++) {
		unsigned i = idx[j];
		uint8_t *plain = ops[j].data + FG_WG_DATA_HDR_LEN;
		uint32_t pl = ops[j].plain_len, il;

		if (ops[j].status != 0 || pl < IP_HDR)
			continue;
		il = fg_vnet_get16(plain + 2);
		if ((plain[0] >> 4) != 4 || il > pl || il < IP_HDR)
			continue;
		inner[i] = plain;
		ilen[i] = (uint16_t)il;
		ok[i] = true;
		good++;
	}
	return good;
}
