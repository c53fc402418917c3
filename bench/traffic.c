// SPDX-License-Identifier: MIT
/*
 * Pre-built traffic for one (direction, inner size, peer count): an arena of templates the
 * workers' feeders copy into mbufs (decrypt) or write into the TUN socketpair (encrypt).
 * Decrypt templates are complete Ethernet/IPv4/UDP frames to the uplink address and port,
 * carrying WireGuard data messages sealed with fg_wg_transport_seal() under each peer's
 * known receive key, around an inner IPv4/UDP packet from the peer's allowed IP. Template i
 * belongs to peer i % N with counter i / N, so each peer's counters rise by one along the
 * template order: a feeder that walks its templates in order and resets its peers' replay
 * windows when it wraps (run.c) never sends a replay. Relayed decrypt templates carry the
 * same message inside ChannelData, from the peer's relay (port 3478) on its channel.
 * Encrypt templates are the inner packets alone, from the far end to a peer's allowed IP.
 * Host-path decrypt templates go to the TUN's own address instead, where kernel sockets
 * listen, spread over the sinks' ports and 8 source ports per peer (many flows).
 * Main lcore, between rows.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_udp.h>

#include "messages.h"
#include "transport.h"

enum {
	/* Templates per run: enough that a 1-peer feeder wraps (and resets a window) only every
	 * 16 Ki packets, and at least 8 per peer so 10,000 peers still see bursts of
	 * distinct counters. */
	DECRYPT_TEMPLATES = 16384,
	DECRYPT_PER_PEER_MIN = 8,
	ENCRYPT_TEMPLATES = 4096,
	INNER_SPORT = 40000,
	INNER_DPORT = 5201,
	IMIX_CYCLE = 12,
	HOST_SPORTS = 8,     /* source ports per peer of the host-path UDP rows */
};

unsigned fg_bench_imix_size(uint32_t i)
{
	unsigned k = i % IMIX_CYCLE;

	return k < 7 ? 64 : k < 11 ? 576 : 1420;
}

double fg_bench_imix_mean(void)
{
	double sum = 0;

	for (uint32_t i = 0; i < IMIX_CYCLE; i++)
		sum += fg_bench_imix_size(i);
	return sum / IMIX_CYCLE;
}

/* An IPv4/UDP packet of len bytes (len >= 28) with valid IP and UDP checksums, from source
 * port sport. */
static void build_inner_ports(uint8_t *pkt, unsigned len, uint32_t src, uint32_t dst, uint32_t seq, uint16_t sport,
			      uint16_t dport)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(pkt + sizeof(*ip));
	uint8_t *data = pkt + sizeof(*ip) + sizeof(*udp);
	unsigned dlen = len - (unsigned)(sizeof(*ip) + sizeof(*udp));

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = htons((uint16_t)len);
	ip->packet_id = htons((uint16_t)seq);
	ip->fragment_offset = htons(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = htonl(src);
	ip->dst_addr = htonl(dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = htons(sport);
	udp->dst_port = htons(dport);
	udp->dgram_len = htons((uint16_t)(len - sizeof(*ip)));
	udp->dgram_cksum = 0;
	for (unsigned j = 0; j < dlen; j++)
		data[j] = (uint8_t)(seq + j);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
}

static void build_inner_port(uint8_t *pkt, unsigned len, uint32_t src, uint32_t dst, uint32_t seq, uint16_t sport)
{
	build_inner_ports(pkt, len, src, dst, seq, sport, INNER_DPORT);
}

static void build_inner(uint8_t *pkt, unsigned len, uint32_t src, uint32_t dst, uint32_t seq)
{
	build_inner_port(pkt, len, src, dst, seq, INNER_SPORT);
}

static unsigned inner_size(unsigned size, uint32_t i)
{
	return size == FG_BENCH_IMIX ? fg_bench_imix_size(i) : size;
}

static size_t slot_len(enum fg_bench_dir dir, unsigned inner)
{
	size_t len = inner;

	if (dir == FG_BENCH_DECRYPT)
		len = FG_NETPKT_UDP4_HDR_LEN + FG_NETPKT_CHANNEL_HDR_LEN + FG_WG_DATA_OVERHEAD +
		      fg_wg_padded_len(inner, FG_BENCH_MTU);
	return (len + FG_BENCH_SLOT_ALIGN - 1) & ~(size_t)(FG_BENCH_SLOT_ALIGN - 1);
}

/* nat_sport >= 0: to the proxy IP from that port; host_flow >= 0: to the TUN's address, the
 * flow's ports; else to the resource. */
static uint16_t build_frame(uint8_t *frame, const struct fg_bench_env *e, uint32_t p, uint64_t counter,
			    unsigned inner, bool udp_csum, bool relayed, int nat_sport, int host_flow)
{
	uint16_t hl = FG_NETPKT_UDP4_HDR_LEN + (relayed ? FG_NETPKT_CHANNEL_HDR_LEN : 0);
	uint8_t *msg = frame + hl;
	uint32_t padded = fg_wg_padded_len(inner, FG_BENCH_MTU);
	uint8_t key[FG_WG_KEY_LEN];
	struct rte_ether_addr src_mac = { .addr_bytes = { 0x02, 0xfb, 0, (uint8_t)(p >> 16), (uint8_t)(p >> 8),
							  (uint8_t)p } };
	uint32_t src_ip = relayed ? fg_bench_relay_ip(p) : fg_bench_peer_ip(p);
	uint16_t sport = relayed ? FG_NETPKT_STUN_PORT : fg_bench_peer_port(p);
	size_t wlen;

	if (host_flow >= 0)
		build_inner_ports(msg + FG_WG_DATA_HDR_LEN, inner, fg_bench_inner_ip(p), fg_bench_tun_ip(),
				  (uint32_t)counter, (uint16_t)(INNER_SPORT + host_flow % HOST_SPORTS),
				  (uint16_t)(FG_BENCH_SINK_PORT + host_flow / HOST_SPORTS % FG_BENCH_SINK_PORTS));
	else if (nat_sport >= 0)
		build_inner_port(msg + FG_WG_DATA_HDR_LEN, inner, fg_bench_inner_ip(p), fg_bench_proxy_ip(),
				 (uint32_t)counter, (uint16_t)nat_sport);
	else
		build_inner(msg + FG_WG_DATA_HDR_LEN, inner, fg_bench_inner_ip(p), fg_bench_resource_ip(),
			    (uint32_t)counter);
	memset(msg + FG_WG_DATA_HDR_LEN + inner, 0, padded - inner);
	fg_bench_recv_key(p, key);
	wlen = fg_wg_transport_seal(msg, padded, key, fg_bench_local_index(p), counter);
	if (relayed) {
		/* ChannelData (RFC 8656 §12.4): the peer's channel, the message's length. */
		uint8_t *ch = frame + FG_NETPKT_UDP4_HDR_LEN;

		ch[0] = (uint8_t)(fg_bench_channel(p) >> 8);
		ch[1] = (uint8_t)fg_bench_channel(p);
		ch[2] = (uint8_t)(wlen >> 8);
		ch[3] = (uint8_t)wlen;
		wlen += FG_NETPKT_CHANNEL_HDR_LEN;
	}
	fg_netpkt_write_udp4(frame, &src_mac, &e->dp.local.mac, htonl(src_ip), e->dp.local.ip4, sport,
			     FG_BENCH_LISTEN_PORT, (uint16_t)wlen, 0);
	if (udp_csum) {
		/* What a kernel or wireguard-go sender puts on the wire: the worker verifies it. */
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(frame + RTE_ETHER_HDR_LEN + sizeof(*ip));

		udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	}
	return (uint16_t)(FG_NETPKT_UDP4_HDR_LEN + wlen);
}

static int traffic_build(struct fg_bench_traffic *tr, const struct fg_bench_env *e, enum fg_bench_dir dir,
			 unsigned size, uint32_t npeers, bool udp_csum, bool relayed, bool nat, bool host)
{
	uint32_t per_peer;
	size_t off = 0;

	memset(tr, 0, sizeof(*tr));
	if (npeers == 0 || npeers > e->npeers)
		return -EINVAL;
	tr->dir = dir;
	tr->relayed = relayed;
	tr->nat = nat;
	tr->hdr_len = FG_NETPKT_UDP4_HDR_LEN + (relayed ? FG_NETPKT_CHANNEL_HDR_LEN : 0);
	tr->size = size;
	tr->npeers = npeers;
	if (dir == FG_BENCH_DECRYPT) {
		per_peer = (DECRYPT_TEMPLATES + npeers - 1) / npeers;
		if (per_peer < DECRYPT_PER_PEER_MIN)
			per_peer = DECRYPT_PER_PEER_MIN;
	} else {
		per_peer = (ENCRYPT_TEMPLATES + npeers - 1) / npeers;
	}
	tr->n = per_peer * npeers;
	tr->t = calloc(tr->n, sizeof(*tr->t));
	if (!tr->t)
		return -ENOMEM;
	for (uint32_t i = 0; i < tr->n; i++)
		tr->arena_len += slot_len(dir, inner_size(size, i));
	tr->arena = aligned_alloc(FG_BENCH_SLOT_ALIGN, tr->arena_len);
	if (!tr->arena) {
		fg_bench_traffic_free(tr);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < tr->n; i++) {
		struct fg_bench_tmpl *t = &tr->t[i];
		unsigned inner = inner_size(size, i);
		uint8_t *buf = tr->arena + off;

		t->off = off;
		t->peer = i % npeers;
		t->inner_len = (uint16_t)inner;
		if (dir == FG_BENCH_DECRYPT) {
			t->len = build_frame(buf, e, t->peer, i / npeers, inner, udp_csum, relayed,
					     nat ? fg_bench_nat_sport(i, npeers) : -1,
					     host ? (int)((i / npeers) % (HOST_SPORTS * FG_BENCH_SINK_PORTS)) : -1);
		} else {
			build_inner(buf, inner, fg_bench_resource_ip(), fg_bench_inner_ip(t->peer), i);
			t->len = (uint16_t)inner;
		}
		tr->inner_bytes += inner;
		off += slot_len(dir, inner);
	}
	return 0;
}

int fg_bench_traffic_build(struct fg_bench_traffic *tr, const struct fg_bench_env *e, enum fg_bench_dir dir,
			   unsigned size, uint32_t npeers, bool udp_csum, bool relayed)
{
	return traffic_build(tr, e, dir, size, npeers, udp_csum, relayed, false, false);
}

int fg_bench_traffic_build_host(struct fg_bench_traffic *tr, const struct fg_bench_env *e, enum fg_bench_dir dir,
				unsigned size, uint32_t npeers, bool udp_csum)
{
	return traffic_build(tr, e, dir, size, npeers, udp_csum, false, false, dir == FG_BENCH_DECRYPT);
}

int fg_bench_traffic_build_nat(struct fg_bench_traffic *tr, const struct fg_bench_env *e, unsigned size,
			       uint32_t npeers, bool udp_csum)
{
	return traffic_build(tr, e, FG_BENCH_DECRYPT, size, npeers, udp_csum, false, true, false);
}

void fg_bench_traffic_free(struct fg_bench_traffic *tr)
{
	free(tr->t);
	free(tr->arena);
	memset(tr, 0, sizeof(*tr));
}
