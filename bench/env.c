// SPDX-License-Identifier: MIT
/*
 * The benchmark's data plane: the struct fg_dp of fg_dp_init(), the daemon's own
 * constructor, built from a default configuration over a net_ring port (pointer-only I/O:
 * the bench puts mbufs on the port's RX rings and takes them off its TX rings). The
 * worker-only env has no TUN device: each worker's TUN queue is /dev/null (decrypt rows) or
 * one end of an AF_UNIX datagram socketpair (encrypt rows). The host env lets fg_dp_init()
 * open the [Host] TUN (virtio-net header, one queue per worker) and fg_dp_setup_host()
 * configure it, as the daemon does, inside the bench's private network namespace. N peers are installed straight through the
 * writer API of peers.h with known keys, a CURRENT keypair each and one allowed IP
 * (100.64.x.y/32). Main lcore only, while no worker runs.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <sodium.h>

#include "aead.h"
#include "clock.h"
#include "dp_setup.h"
#include "worker.h"

/* 198.18.0.0/15 is the benchmarking range: the uplink is 198.18.0.1, peers come from
 * 198.18.1.0 upwards; their tunnel addresses are 100.64.1.0 upwards; the inner far end is
 * 198.19.0.1. Nothing here ever reaches a kernel interface. */
static const uint32_t LOCAL_IP = (198u << 24) | (18u << 16) | 1u;
static const uint32_t PEER_IP_BASE = (198u << 24) | (18u << 16) | (1u << 8);
static const uint32_t INNER_IP_BASE = (100u << 24) | (64u << 16) | (1u << 8);
static const uint32_t RESOURCE_IP = (198u << 24) | (19u << 16) | 1u;
static const uint32_t RELAY_IP_BASE = (198u << 24) | (18u << 16) | 16u;
/* The host env's TUN: the gateway's tunnel address, and the route that sends every peer's
 * allowed IP (100.64.1.0 upwards) into the TUN. */
static const uint32_t TUN_IP = (100u << 24) | (64u << 16) | 1u;
static const uint32_t TUN_ROUTE = (100u << 24) | (64u << 16);
enum { TUN_ROUTE_LEN = 11 };

/* The net_ring port; rte_eth_from_rings() names its vdev after it. */
#define NET_RING_NAME "fgbench"
#define NET_RING_VDEV "net_ring_" NET_RING_NAME

enum fg_bench_ports {
	PEER_PORT_BASE = 20000,
	PEER_PORT_SPAN = 40000,
	RELAY_PORT = 3478,
	CHANNEL_BASE = 0x4000,
	CHANNELS_PER_RELAY = 4096,
};

static void derive_key(const char *what, uint32_t p, uint8_t key[32])
{
	char label[64];
	int n = snprintf(label, sizeof(label), "fastgate-bench/%s/%u", what, p);

	crypto_generichash(key, 32, (const unsigned char *)label, (unsigned long long)n, NULL, 0);
}

void fg_bench_recv_key(uint32_t p, uint8_t key[32])
{
	derive_key("recv", p, key);
}

void fg_bench_send_key(uint32_t p, uint8_t key[32])
{
	derive_key("send", p, key);
}

/* Multiplication by an odd constant is a bijection of 32-bit integers: distinct peers get
 * distinct, well-spread indexes, as random ones would be. */
uint32_t fg_bench_local_index(uint32_t p)
{
	return (p + 1) * 2654435761u;
}

uint32_t fg_bench_remote_index(uint32_t p)
{
	return (p + 1) * 2246822519u;
}

uint32_t fg_bench_peer_ip(uint32_t p)
{
	return PEER_IP_BASE + p;
}

uint16_t fg_bench_peer_port(uint32_t p)
{
	return (uint16_t)(PEER_PORT_BASE + p % PEER_PORT_SPAN);
}

uint32_t fg_bench_inner_ip(uint32_t p)
{
	return INNER_IP_BASE + p;
}

uint32_t fg_bench_relay_ip(uint32_t p)
{
	return RELAY_IP_BASE + p / CHANNELS_PER_RELAY;
}

uint16_t fg_bench_channel(uint32_t p)
{
	return (uint16_t)(CHANNEL_BASE + p % CHANNELS_PER_RELAY);
}

uint32_t fg_bench_local_ip(void)
{
	return LOCAL_IP;
}

uint32_t fg_bench_resource_ip(void)
{
	return RESOURCE_IP;
}

uint32_t fg_bench_tun_ip(void)
{
	return TUN_IP;
}

static void peer_mac(uint32_t p, struct rte_ether_addr *mac)
{
	const uint8_t b[6] = { 0x02, 0xfb, 0, (uint8_t)(p >> 16), (uint8_t)(p >> 8), (uint8_t)p };

	memcpy(mac->addr_bytes, b, 6);
}

static struct rte_ring *ring(const char *what, unsigned idx)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "fgb_%s%u", what, idx);
	return rte_ring_create(name, FG_BENCH_PORT_RING, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
}

static struct fg_endpoint endpoint(uint32_t ip, uint16_t port)
{
	struct fg_endpoint ep = { .ip = { .family = AF_INET }, .port = port };
	uint32_t be = htonl(ip);

	memcpy(ep.ip.addr, &be, 4);
	return ep;
}

/* Bench peer p's path: its own endpoint, or its relay's channel (one relay MAC: they sit
 * behind the same next hop). */
static void set_path(struct fg_bench_env *e, uint32_t p, uint32_t slot, const struct fg_bench_peer_id *id)
{
	struct fg_peer_path path = { .mac_ok = 1 };

	if (e->relayed) {
		path.ep = endpoint(fg_bench_relay_ip(p), RELAY_PORT);
		path.channel = fg_bench_channel(p);
		peer_mac(UINT32_MAX, &path.mac);
	} else {
		path.ep = endpoint(id ? id->peer_ip : fg_bench_peer_ip(p), id ? id->peer_port : fg_bench_peer_port(p));
		peer_mac(p, &path.mac);
	}
	fg_peer_set_path(&e->dp.tables, slot, &path);
}

int fg_bench_env_set_relayed(struct fg_bench_env *e, bool relayed)
{
	int ret;

	if (e->relayed == relayed)
		return 0;
	e->relayed = relayed;
	for (uint32_t p = 0; p < e->npeers; p++) {
		struct fg_endpoint relay = endpoint(fg_bench_relay_ip(p), RELAY_PORT);
		struct fg_endpoint peer = endpoint(fg_bench_peer_ip(p), fg_bench_peer_port(p));

		set_path(e, p, e->peer_slot[p], NULL);
		ret = relayed ? fg_chantable_bind(&e->dp.chans, &relay, fg_bench_channel(p), &peer)
			      : fg_chantable_unbind(&e->dp.chans, &relay, fg_bench_channel(p));
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int add_peer(struct fg_bench_env *e, uint32_t p, const struct fg_bench_peer_id *id, char *err,
		    size_t errlen)
{
	struct fg_tables *t = &e->dp.tables;
	uint32_t slot = fg_peer_alloc(t), ks;
	struct fg_prefix pfx = { .ip = { .family = AF_INET }, .len = 32 };
	uint32_t be;
	int ret;

	if (slot == FG_SLOT_NONE) {
		snprintf(err, errlen, "peer %u: no free peer slot", p);
		return -ENOSPC;
	}
	set_path(e, p, slot, id);

	ks = fg_keypair_alloc(t);
	if (ks == FG_SLOT_NONE) {
		snprintf(err, errlen, "peer %u: no free keypair slot", p);
		return -ENOSPC;
	}
	struct fg_keypair *kp = &t->kps[ks];
	if (id) {
		memcpy(kp->recv_key, id->recv_key, sizeof(kp->recv_key));
		memcpy(kp->send_key, id->send_key, sizeof(kp->send_key));
	} else {
		fg_bench_recv_key(p, kp->recv_key);
		fg_bench_send_key(p, kp->send_key);
	}
	kp->birth_ns = fg_clock_ns();
	kp->local_index = id ? id->local_index : fg_bench_local_index(p);
	kp->remote_index = id ? id->remote_index : fg_bench_remote_index(p);
	kp->peer = slot;
	kp->peer_gen = t->peers[slot].gen;
	kp->initiator = 0;
	ret = fg_keypair_install(t, ks, FG_KP_CURRENT);
	if (ret < 0) {
		snprintf(err, errlen, "peer %u: keypair install: %s", p, strerror(-ret));
		return ret;
	}
	be = htonl(id ? id->inner_ip : fg_bench_inner_ip(p));
	memcpy(pfx.ip.addr, &be, 4);
	ret = fg_route_add(e->dp.allowed, &pfx, slot);
	if (ret < 0) {
		snprintf(err, errlen, "peer %u: allowed IP: %s", p, strerror(-ret));
		return ret;
	}
	e->peer_slot[p] = slot;
	e->kp_slot[p] = ks;
	return 0;
}

int fg_bench_env_init(struct fg_bench_env *e, uint32_t npeers, unsigned nqueues, char *err, size_t errlen)
{
	return fg_bench_env_init_ext(e, npeers, nqueues, NULL, NULL, err, errlen);
}

/* The port: the vdev the caller names (net_pcap replaying a file), probed here, else a
 * net_ring over the bench's own rings, one pair per worker. */
static int make_port(struct fg_bench_env *e, unsigned nqueues, const char *vdev, uint16_t *port, char *err,
		     size_t errlen)
{
	int ret;

	if (vdev) {
		snprintf(e->vdev_name, sizeof(e->vdev_name), "%.*s", (int)strcspn(vdev, ","), vdev);
		ret = rte_dev_probe(vdev);
		if (ret < 0 || rte_eth_dev_get_port_by_name(e->vdev_name, port) != 0) {
			snprintf(err, errlen, "vdev %s: %s", vdev, strerror(ret < 0 ? -ret : ENODEV));
			if (ret == 0)
				(void)rte_vdev_uninit(e->vdev_name);
			e->vdev_name[0] = 0;
			return ret < 0 ? ret : -ENODEV;
		}
		return 0;
	}
	for (unsigned w = 0; w < nqueues; w++) {
		e->rx[w] = ring("rx", w);
		e->tx[w] = ring("tx", w);
		if (!e->rx[w] || !e->tx[w]) {
			snprintf(err, errlen, "port rings: %s", rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	ret = rte_eth_from_rings(NET_RING_NAME, e->rx, nqueues, e->tx, nqueues, rte_socket_id());
	if (ret < 0) {
		snprintf(err, errlen, "net_ring port: %s", rte_strerror(rte_errno));
		return -ENODEV;
	}
	snprintf(e->vdev_name, sizeof(e->vdev_name), "%s", NET_RING_VDEV);
	*port = (uint16_t)ret;
	return 0;
}

/* The TUN side of the rows: /dev/null, and a socketpair per worker (run.c picks per row). */
static int make_tun(struct fg_bench_env *e, unsigned nqueues, char *err, size_t errlen)
{
	e->devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (e->devnull < 0) {
		snprintf(err, errlen, "/dev/null: %s", strerror(errno));
		return -errno;
	}
	for (unsigned w = 0; w < nqueues; w++) {
		int sndbuf = 4 << 20;

		if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, e->tun_pair[w]) < 0) {
			snprintf(err, errlen, "socketpair: %s", strerror(errno));
			return -errno;
		}
		/* Best effort: a bigger queue only saves the feeder an EAGAIN now and then. */
		(void)setsockopt(e->tun_pair[w][1], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	return 0;
}

/* What a configuration file would say: 198.18.0.1/15:51820, MTU 1420, N peers, the AEAD
 * backend main.c chose. */
static void make_config(struct fg_config *cfg, uint32_t npeers, unsigned nqueues, uint16_t port)
{
	uint32_t local_be = htonl(LOCAL_IP);

	fg_config_defaults(cfg);
	cfg->iface.listen_port = FG_BENCH_LISTEN_PORT;
	cfg->iface.mtu = FG_BENCH_MTU;
	cfg->uplink.port = port;
	cfg->uplink.address.ip.family = AF_INET;
	memcpy(cfg->uplink.address.ip.addr, &local_be, 4);
	cfg->uplink.address.len = 15;
	cfg->dp.workers = nqueues;
	cfg->dp.rx_descriptors = cfg->dp.tx_descriptors = FG_BENCH_PORT_RING;
	cfg->dp.mbuf_count = FG_BENCH_MBUFS;
	cfg->dp.max_peers = npeers;
	cfg->dp.handshake_queue = 1024;
	cfg->dp.under_load_threshold = 128;
	cfg->dp.crypto = fg_aead_backend() == FG_AEAD_IPSECMB ? FG_CONFIG_CRYPTO_IPSECMB : FG_CONFIG_CRYPTO_LIBSODIUM;
	cfg->host.offload = false;
	/* The worker-only rows swap each worker's fd between rows (/dev/null, a socketpair):
	 * the packet-at-a-time syscalls, no ring bound to the fd of the start. */
	cfg->host.tun_io = FG_TUN_IO_SYSCALL;
}

static struct fg_prefix prefix4(uint32_t ip, unsigned len)
{
	struct fg_prefix p = { .ip = { .family = AF_INET }, .len = (uint8_t)len };
	uint32_t be = htonl(ip);

	memcpy(p.ip.addr, &be, 4);
	return p;
}

/* [Interface] Address and [Host] as the daemon's configuration file would give them: a TUN
 * name unique to this process, the tunnel address, the route to the clients, the virtio-net
 * header (GRO to the host, GSO from it) and, where the tree has it, TunIo. */
static int make_host_config(struct fg_config *cfg, int tun_io, unsigned seq, char *err, size_t errlen)
{
	/* Unique per env: a closed TUN may outlive its fds for a moment while the kernel
	 * unregisters it. */
	snprintf(cfg->host.name, sizeof(cfg->host.name), "fgb%ldq%u", (long)getpid() % 10000000, seq % 1000);
	cfg->host.offload = true;
	cfg->iface.n_addresses = 1;
	cfg->iface.addresses[0] = prefix4(TUN_IP, 32);
	cfg->host.n_routes = 1;
	cfg->host.routes[0] = prefix4(TUN_ROUTE, TUN_ROUTE_LEN);
	cfg->host.tun_io = tun_io != FG_BENCH_TUN_IO_DEFAULT ? (uint32_t)tun_io : FG_TUN_IO_AUTO;
	(void)err;
	(void)errlen;
	return 0;
}

/* host: the [Host] TUN instead of the caller's fds (tun_io its TunIo). */
static int env_init(struct fg_bench_env *e, uint32_t npeers, unsigned nqueues, const struct fg_bench_peer_id *ids,
		    const char *vdev, bool host, int tun_io, unsigned seq, char *err, size_t errlen)
{
	/* IPv4 only: the peers have no IPv6 allowed IPs (route.h). */
	struct fg_dp_options opt = { .caller_lcores = true, .allowed_rules_v4 = npeers + 64 };
	int tun_fds[FG_BENCH_MAX_WORKERS];
	uint16_t port = 0;
	int ret;

	memset(e, 0, sizeof(*e));
	e->made = true;
	e->devnull = -1;
	e->tun_io = FG_BENCH_TUN_IO_DEFAULT;
	for (unsigned w = 0; w < FG_BENCH_MAX_WORKERS; w++)
		e->tun_pair[w][0] = e->tun_pair[w][1] = -1;
	if (nqueues == 0 || nqueues > FG_BENCH_MAX_WORKERS || npeers == 0) {
		snprintf(err, errlen, "%u queues / %u peers: out of range", nqueues, npeers);
		return -EINVAL;
	}
	if ((ret = make_port(e, nqueues, vdev, &port, err, errlen)) < 0 ||
	    (ret = make_tun(e, nqueues, err, errlen)) < 0)
		return ret;
	make_config(&e->cfg, npeers, nqueues, port);
	if (host) {
		ret = make_host_config(&e->cfg, tun_io, seq, err, errlen);
		if (ret < 0)
			return ret;
		e->host = true;
		e->tun_io = tun_io;
	} else {
		for (unsigned w = 0; w < nqueues; w++)
			tun_fds[w] = e->devnull;
		opt.tun_fds = tun_fds;
	}
	ret = fg_dp_init(&e->dp, &e->cfg, &opt, err, errlen);
	if (ret < 0)
		return ret;
	if (host && (ret = fg_dp_setup_host(&e->dp, err, errlen)) < 0)
		return ret;

	e->peer_slot = calloc(npeers, sizeof(*e->peer_slot));
	e->kp_slot = calloc(npeers, sizeof(*e->kp_slot));
	if (!e->peer_slot || !e->kp_slot) {
		snprintf(err, errlen, "peer arrays: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	for (uint32_t p = 0; p < npeers; p++) {
		ret = add_peer(e, p, ids ? &ids[p] : NULL, err, errlen);
		if (ret < 0)
			return ret;
	}
	e->npeers = npeers;
	return 0;
}

int fg_bench_env_init_ext(struct fg_bench_env *e, uint32_t npeers, unsigned nqueues,
			  const struct fg_bench_peer_id *ids, const char *vdev, char *err, size_t errlen)
{
	return env_init(e, npeers, nqueues, ids, vdev, false, FG_BENCH_TUN_IO_DEFAULT, 0, err, errlen);
}

int fg_bench_env_init_host(struct fg_bench_env *e, uint32_t npeers, unsigned nqueues, int tun_io, unsigned seq,
			   char *err, size_t errlen)
{
	return env_init(e, npeers, nqueues, NULL, NULL, true, tun_io, seq, err, errlen);
}

static void drain_ring(struct rte_ring *r, unsigned esize)
{
	uint8_t elem[sizeof(struct fg_event)];
	struct rte_mbuf *m;

	if (!r)
		return;
	if (esize) {
		while (rte_ring_dequeue_elem(r, elem, esize) == 0)
			;
		return;
	}
	while (rte_ring_dequeue(r, (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

void fg_bench_env_reset(struct fg_bench_env *e)
{
	struct fg_dp *dp = &e->dp;
	uint64_t now = fg_clock_ns();
	uint8_t junk[2048];

	/* A fresh session for every row: the matrix takes longer than REJECT_AFTER_TIME. */
	for (uint32_t p = 0; p < e->npeers; p++) {
		struct fg_keypair *kp = &dp->tables.kps[e->kp_slot[p]];

		kp->birth_ns = now;
		kp->rx_owner = FG_OWNER_NONE;
		__atomic_store_n(&kp->rekey_requested, 0, __ATOMIC_RELAXED);
		fg_wg_replay_init(&kp->replay);
		dp->tables.peers[e->peer_slot[p]].event_pending = 0;
	}
	drain_ring(dp->ev_ring, sizeof(struct fg_event));
	drain_ring(dp->hs_ring, 0);
	drain_ring(dp->punt_ring, 0);
	for (unsigned w = 0; w < dp->nworkers; w++) {
		drain_ring(e->rx[w], 0);
		drain_ring(e->tx[w], 0);
		drain_ring(dp->workers[w].handoff, 0);
		drain_ring(dp->workers[w].svc_tx, 0);
		while (recv(e->tun_pair[w][0], junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
	}
}

void fg_bench_env_fini(struct fg_bench_env *e)
{
	/* The mbufs on the bench's rings go back to the pool before fg_dp_fini frees it; the
	 * port is closed there, and its vdev removed here, before its rings are freed. */
	if (!e->made)
		return;
	if (e->dp.pool) {
		fg_bench_env_reset(e);
		fg_bench_env_set_nat(e, false);
	}
	fg_dp_fini(&e->dp);
	if (e->vdev_name[0])
		(void)rte_vdev_uninit(e->vdev_name);
	for (unsigned w = 0; w < FG_BENCH_MAX_WORKERS; w++) {
		rte_ring_free(e->rx[w]);
		rte_ring_free(e->tx[w]);
		for (int s = 0; s < 2; s++)
			if (e->tun_pair[w][s] >= 0)
				close(e->tun_pair[w][s]);
	}
	if (e->devnull >= 0)
		close(e->devnull);
	free(e->peer_slot);
	free(e->kp_slot);
	memset(e, 0, sizeof(*e));
}
