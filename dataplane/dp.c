// SPDX-License-Identifier: MIT
/*
 * Builds and tears down the data plane's shared context from the configuration: the mbuf
 * pool, the port, the rings, the tables, the TUN, and the static peers. The one constructor
 * of the daemon, the bench and the in-process tests (their differences are options, see
 * dp_setup.h). Main lcore only, before the workers start and after they stop.
 */
#include "dp_setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <sodium.h>

#include "clock.h"
#include "keys.h"
#include "log.h"
#include "p2pctl.h"
#include "port.h"
#include "svc_state.h"
#include "worker.h"

static const char *const TAG = "fastgate.dp";

enum {
	/* mbufs each lcore keeps in its mempool cache (at most RTE_MEMPOOL_CACHE_MAX_SIZE):
	 * several bursts' worth, so most allocations and frees skip the shared ring. */
	MBUF_CACHE = 256,
	/* Relay channels: a client reached through a relay uses one channel per relay pair
	 * ICE tries, a handful in practice. */
	CHANNELS_PER_PEER = 4,
	CHANNELS_SPARE = 256,
};

uint64_t fg_clock_tsc_hz;
uint64_t fg_clock_mult;
uint64_t fg_clock_wall_base;

static struct rte_ring *make_ring(const char *what, unsigned idx, unsigned size, unsigned flags, unsigned esize)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "fg_%s%u", what, idx);
	if (esize)
		return rte_ring_create_elem(name, esize, size, (int)rte_socket_id(), flags);
	return rte_ring_create(name, size, (int)rte_socket_id(), flags);
}

/* Empty: no object held, TUN queues closed (-1), no port to close. fg_dp_fini leaves it so. */
static void clear(struct fg_dp *dp)
{
	memset(dp, 0, sizeof(*dp));
	for (unsigned q = 0; q < FG_TUN_MAX_QUEUES; q++)
		dp->tun.fds[q] = -1;
	dp->port_closed = true;
}

static int check_lcores(const struct fg_dp *dp, const struct fg_dp_options *opt, char *err, size_t errlen)
{
	if (rte_eth_dev_count_avail() == 0) {
		snprintf(err, errlen, "no DPDK port was probed (check the --vdev / PCI options, and that "
			 "the EAL runs in the interface's network namespace)");
		return -ENODEV;
	}
	if (dp->nworkers == 0 || dp->nworkers > FG_MAX_WORKERS ||
	    (!opt->caller_lcores && rte_lcore_count() < dp->nworkers + 1)) {
		snprintf(err, errlen, "[Dataplane] Workers = %u needs %u lcores (the main lcore runs the "
			 "service loop), the EAL has %u (-l); at most %u workers", dp->nworkers, dp->nworkers + 1,
			 rte_lcore_count(), (unsigned)FG_MAX_WORKERS);
		return -EINVAL;
	}
	return 0;
}

/* The AEAD backend ([Dataplane] Crypto, which FASTGATE_AEAD overrides) and the mbuf pool. */
static int init_pool(struct fg_dp *dp, const struct fg_config *cfg, char *err, size_t errlen)
{
	int ret = fg_aead_init(cfg->dp.crypto == FG_CONFIG_CRYPTO_LIBSODIUM ? FG_AEAD_LIBSODIUM :
			       cfg->dp.crypto == FG_CONFIG_CRYPTO_IPSECMB ? FG_AEAD_IPSECMB : FG_AEAD_AUTO);

	if (ret < 0) {
		const char *env = getenv("FASTGATE_AEAD");

		snprintf(err, errlen, "[Dataplane] Crypto%s%s: %s", env ? " / FASTGATE_AEAD=" : "", env ? env : "",
			 strerror(-ret));
		return ret;
	}
	dp->pool = rte_pktmbuf_pool_create("fg_mbufs", cfg->dp.mbuf_count, MBUF_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					   (int)rte_socket_id());
	if (!dp->pool) {
		snprintf(err, errlen, "mbuf pool of %u: %s (raise -m or lower MbufCount)", cfg->dp.mbuf_count,
			 rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* [Uplink]: the port (one queue pair per worker) and the outer identity the workers match. */
static int init_port(struct fg_dp *dp, const struct fg_config *cfg, char *err, size_t errlen)
{
	struct fg_port_conf pc = {
		.port = dp->port_id,
		.nqueues = (uint16_t)dp->nworkers,
		.rx_desc = (uint16_t)cfg->dp.rx_descriptors,
		.tx_desc = (uint16_t)cfg->dp.tx_descriptors,
		.pool = dp->pool,
	};
	int ret = fg_port_setup(&pc, &dp->local.mac, err, errlen);

	if (ret < 0)
		return ret;
	dp->port_closed = false;
	if (cfg->uplink.has_mac) {
		memcpy(dp->local.mac.addr_bytes, cfg->uplink.mac, 6);
		rte_eth_dev_default_mac_addr_set(dp->port_id, &dp->local.mac);
	}
	memcpy(&dp->local.ip4, cfg->uplink.address.ip.addr, 4);
	dp->uplink_prefix_len = cfg->uplink.address.len;
	dp->gateway4 = cfg->uplink.gateway;
	if (cfg->uplink.address6.ip.family == AF_INET6) {
		memcpy(dp->local.ip6, cfg->uplink.address6.ip.addr, 16);
		dp->local.has_ip6 = true;
	}
	dp->local.listen_port = cfg->iface.listen_port;
	dp->local.aead_covers_udp4 = true;
	return 0;
}

/* The peer and keypair tables and the allowed-IPs table (route.h: 256 KiB per family, then
 * 1 KiB groups as the rules need them). */
static int init_tables(struct fg_dp *dp, const struct fg_config *cfg, const struct fg_dp_options *opt, char *err,
		       size_t errlen)
{
	uint32_t v4 = opt->allowed_rules_v4, v6 = opt->allowed_rules_v6;
	int ret = fg_tables_init(&dp->tables, cfg->dp.max_peers, dp->nworkers);

	if (ret < 0) {
		snprintf(err, errlen, "peer tables for %u peers: %s", cfg->dp.max_peers, strerror(-ret));
		return ret;
	}
	if (v4 == 0 && v6 == 0)
		v4 = v6 = cfg->dp.max_peers * 4 + 1024;
	dp->allowed = fg_route_create("allowed", v4, v6, dp->tables.qsbr);
	if (!dp->allowed) {
		snprintf(err, errlen, "allowed-IPs tables: %s (raise -m)", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	ret = fg_chantable_init(&dp->chans, cfg->dp.max_peers * CHANNELS_PER_PEER + CHANNELS_SPARE, dp->tables.qsbr);
	if (ret < 0) {
		snprintf(err, errlen, "relay channel table: %s (raise -m)", strerror(-ret));
		return ret;
	}
	ret = fg_conntrack_init(&dp->ct, dp->nworkers, cfg->dp.conntrack_tuples, &dp->tables, dp->tables.qsbr);
	if (ret < 0) {
		snprintf(err, errlen, "connection tables (%u x ConnTrackTuples = %u): %s (raise -m)", dp->nworkers,
			 cfg->dp.conntrack_tuples, strerror(-ret));
		return ret;
	}
	return 0;
}

/* The rings from the workers to the service lcore. */
static int init_rings(struct fg_dp *dp, const struct fg_config *cfg, char *err, size_t errlen)
{
	dp->hs_ring = make_ring("hs", 0, cfg->dp.handshake_queue, RING_F_SC_DEQ, 0);
	dp->punt_ring = make_ring("punt", 0, FG_PUNT_RING, RING_F_SC_DEQ, 0);
	dp->stun_ring = make_ring("stun", 0, FG_STUN_RING, RING_F_SC_DEQ, 0);
	dp->ev_ring = make_ring("ev", 0, FG_EVENT_RING, RING_F_SC_DEQ, sizeof(struct fg_event));
	dp->p2p_ring = make_ring("p2p", 0, FG_P2P_RING, RING_F_SC_DEQ, sizeof(struct fg_p2pctl_item));
	if (!dp->hs_ring || !dp->punt_ring || !dp->stun_ring || !dp->ev_ring || !dp->p2p_ring) {
		snprintf(err, errlen, "rings: %s", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	dp->hs_under_load = cfg->dp.under_load_threshold;
	return 0;
}

/* [Host]: the multi-queue TUN (not yet configured: fg_dp_setup_host), unless the caller
 * gave the workers fds of its own. */
static int init_tun(struct fg_dp *dp, const struct fg_config *cfg, const struct fg_dp_options *opt, char *err,
		    size_t errlen)
{
	unsigned offloads = 0;
	int ret;

	if (opt->tun_fds)
		return 0;
	ret = fg_tun_open_ex(&dp->tun, cfg->host.name, dp->nworkers, cfg->host.offload ? FG_TUN_VNET_HDR : 0,
			     &offloads);
	if (ret < 0) {
		snprintf(err, errlen, "TUN %s: %s", cfg->host.name, strerror(-ret));
		return ret;
	}
	if (cfg->host.offload)
		fg_info(TAG, "TUN %s: virtio-net header, kernel offloads 0x%x (GRO toward the host, GSO from it)",
			cfg->host.name, offloads);
	return 0;
}

/* One slot per worker: its queue, TUN fd, read buffers (virtio-net TUN) and rings. */
static int init_workers(struct fg_dp *dp, const struct fg_dp_options *opt, char *err, size_t errlen)
{
	unsigned lcore = opt->caller_lcores ? 0 : rte_get_next_lcore(-1, 1, 0);

	for (unsigned w = 0; w < dp->nworkers; w++) {
		struct fg_worker *wk = &dp->workers[w];

		wk->dp = dp;
		wk->idx = w;
		wk->port = dp->port_id;
		wk->queue = (uint16_t)w;
		wk->tun_fd = opt->tun_fds ? opt->tun_fds[w] : dp->tun.fds[w];
		if (!opt->caller_lcores) {
			wk->lcore = lcore;
			lcore = rte_get_next_lcore(lcore, 1, 0);
		}
		for (unsigned b = 0; b < FG_TUN_READS && (dp->tun.flags & FG_TUN_VNET_HDR); b++) {
			wk->rdbuf[b] = rte_malloc("fg_tunrd", FG_TUN_VNET_READ_MAX, RTE_CACHE_LINE_SIZE);
			if (!wk->rdbuf[b]) {
				snprintf(err, errlen, "TUN read buffers: out of memory (raise -m)");
				return -ENOMEM;
			}
		}
		wk->handoff = make_ring("ho", w, FG_HANDOFF_RING, RING_F_SC_DEQ, 0);
		wk->svc_tx = make_ring("stx", w, FG_SVC_TX_RING, RING_F_SP_ENQ | RING_F_SC_DEQ, 0);
		if (!wk->handoff || !wk->svc_tx) {
			snprintf(err, errlen, "worker rings: %s", rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	return 0;
}

static const char *tun_io_name(uint32_t mode)
{
	switch (mode) {
	case FG_TUN_IO_SYSCALL:
		return "syscall";
	case FG_TUN_IO_URING:
		return "io_uring";
	case FG_TUN_IO_SQPOLL:
		return "sqpoll";
	default:
		return "auto";
	}
}

/*
 * [Host] TunIo: a ring per worker (io_uring, sqpoll), or the syscalls. auto takes io_uring
 * where the kernel gives one and says in one INFO line why not otherwise (ENOSYS, EPERM from
 * kernel.io_uring_disabled or seccomp, ENOMEM from RLIMIT_MEMLOCK); an explicit io_uring or
 * sqpoll that cannot be set up stops the start.
 */
static int init_tun_io(struct fg_dp *dp, const struct fg_config *cfg, char *err, size_t errlen)
{
	uint32_t mode = cfg->host.tun_io;
	bool sqpoll = mode == FG_TUN_IO_SQPOLL;
	int cpu = cfg->host.tun_io_sqpoll_cpu;
	int ret = 0;

	dp->tun_io = FG_TUN_IO_SYSCALL;
	if (mode == FG_TUN_IO_SYSCALL)
		return 0;
	for (unsigned w = 0; w < dp->nworkers && ret == 0; w++)
		if (dp->workers[w].tun_fd >= 0)
			ret = fg_worker_tun_ring_setup(dp, &dp->workers[w], sqpoll, sqpoll ? cpu : -1);
	if (ret < 0) {
		for (unsigned w = 0; w < dp->nworkers; w++)
			fg_worker_tun_ring_free(dp, &dp->workers[w]);
		if (mode == FG_TUN_IO_AUTO) {
			fg_info(TAG, "TUN I/O: io_uring unavailable (%s); the workers use read/write system calls",
				fg_tun_uring_strerror(ret));
			return 0;
		}
		snprintf(err, errlen, "[Host] TunIo = %s: io_uring: %s", tun_io_name(mode), fg_tun_uring_strerror(ret));
		return ret;
	}
	dp->tun_io = sqpoll ? FG_TUN_IO_SQPOLL : FG_TUN_IO_URING;
	if (sqpoll && cpu >= 0)
		fg_info(TAG, "TUN I/O: io_uring, a ring per worker, SQPOLL thread(s) on CPU %d", cpu);
	else
		fg_info(TAG, "TUN I/O: io_uring, a ring per worker%s", sqpoll ? ", SQPOLL thread(s)" : "");
	return 0;
}

int fg_dp_init(struct fg_dp *dp, struct fg_config *cfg, const struct fg_dp_options *opt, char *err, size_t errlen)
{
	int ret;

	clear(dp);
	dp->cfg = cfg;
	dp->host_routes = cfg->host.routes;
	dp->n_host_routes = cfg->host.n_routes;
	dp->nworkers = cfg->dp.workers;
	dp->burst = cfg->dp.burst;
	dp->mtu = cfg->iface.mtu;
	dp->idle_sleep_us = opt->idle_sleep_us;
	dp->port_id = cfg->uplink.port;
	fg_clock_init();

	/* Each step only adds to dp; fg_dp_fini undoes whatever the failed one left. */
	if ((ret = check_lcores(dp, opt, err, errlen)) < 0 ||
	    (ret = init_pool(dp, cfg, err, errlen)) < 0 ||
	    (ret = init_port(dp, cfg, err, errlen)) < 0 ||
	    (ret = init_tables(dp, cfg, opt, err, errlen)) < 0 ||
	    (ret = init_rings(dp, cfg, err, errlen)) < 0 ||
	    (ret = init_tun(dp, cfg, opt, err, errlen)) < 0 ||
	    (ret = init_workers(dp, opt, err, errlen)) < 0 ||
	    (ret = init_tun_io(dp, cfg, err, errlen)) < 0)
		goto err_fini;
	return 0;

err_fini:
	fg_dp_fini(dp);
	return ret;
}

int fg_dp_setup_host(struct fg_dp *dp, char *err, size_t errlen)
{
	struct fg_config *cfg = dp->cfg;
	char a[FG_PREFIX_STRLEN];
	int ret;

	if (dp->tun.nqueues == 0) {
		snprintf(err, errlen, "no TUN device: the workers were given TUN fds by the caller");
		return -EBADF;
	}
	if ((ret = fg_tun_set_mtu(&dp->tun, cfg->iface.mtu)) < 0 ||
	    (ret = fg_tun_set_txqueuelen(&dp->tun, cfg->host.tx_queue_len)) < 0) {
		snprintf(err, errlen, "TUN %s: link settings: %s", dp->tun.name, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < cfg->iface.n_addresses; i++) {
		ret = fg_tun_add_address(&dp->tun, &cfg->iface.addresses[i]);
		if (ret < 0) {
			fg_prefix_format(&cfg->iface.addresses[i], a, sizeof(a));
			if (cfg->iface.addresses[i].ip.family == AF_INET6) {
				/* Single-stack hosts run on IPv4 alone, as the Firezone gateway does. */
				fg_warn(TAG, "TUN %s: address %s: %s (IPv6 disabled?); continuing without it",
					dp->tun.name, a, strerror(-ret));
				continue;
			}
			snprintf(err, errlen, "TUN %s: address %s: %s", dp->tun.name, a, strerror(-ret));
			return ret;
		}
	}
	if ((ret = fg_tun_set_up(&dp->tun, true)) < 0) {
		snprintf(err, errlen, "TUN %s: up: %s", dp->tun.name, strerror(-ret));
		return ret;
	}
	for (size_t i = 0; i < cfg->host.n_routes; i++) {
		ret = fg_tun_add_route(&dp->tun, &cfg->host.routes[i]);
		if (ret < 0) {
			fg_prefix_format(&cfg->host.routes[i], a, sizeof(a));
			if (cfg->host.routes[i].ip.family == AF_INET6) {
				fg_warn(TAG, "TUN %s: route %s: %s; continuing without it", dp->tun.name, a,
					strerror(-ret));
				continue;
			}
			snprintf(err, errlen, "TUN %s: route %s: %s", dp->tun.name, a, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

/* The configured key (standalone mode), or without one (portal mode) a new key for this
 * run, kept in memory only: the Rust gateway makes a new key at every start and reports
 * it at login (HELLO_REPLY gives it to the control plane). */
static int set_key(struct fg_svc *s, const struct fg_config *cfg)
{
	uint8_t sk[32], pk[32];
	char b64[FG_KEY_B64_LEN];
	int ret;

	if (!fg_key_is_zero(cfg->iface.private_key))
		return fg_svc_set_private_key(s, cfg->iface.private_key);
	crypto_box_keypair(pk, sk);   /* 32 random bytes; X25519 clamps when it uses them */
	ret = fg_svc_set_private_key(s, sk);
	sodium_memzero(sk, sizeof(sk));
	if (ret == 0) {
		fg_key_to_base64(b64, pk);
		fg_info(TAG, "no PrivateKey configured: made a new key for this run (public %s)", b64);
	}
	return ret;
}

int fg_dp_load_peers(struct fg_svc *s, const struct fg_config *cfg, char *err, size_t errlen)
{
	int ret = set_key(s, cfg);

	if (ret < 0) {
		snprintf(err, errlen, "[Interface] PrivateKey: %s", strerror(-ret));
		return ret;
	}
	/* The gateway's own tunnel addresses, until the portal's init says otherwise. */
	for (size_t i = 0; i < cfg->iface.n_addresses; i++) {
		const struct fg_ip *ip = &cfg->iface.addresses[i].ip;

		if (ip->family == AF_INET && !s->gw4.family)
			s->gw4 = *ip;
		if (ip->family == AF_INET6 && !s->gw6.family)
			s->gw6 = *ip;
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct fg_config_peer *cp = &cfg->peers[i];
		uint32_t slot = fg_svc_peer_add(s, cp->public_key);

		if (slot == FG_SLOT_NONE) {
			snprintf(err, errlen, "[Peer] at line %u: %s", cp->line, strerror(errno));
			return -errno;
		}
		if (cp->has_preshared_key)
			fg_svc_peer_set_psk(s, slot, cp->preshared_key);
		for (size_t j = 0; j < cp->n_allowed_ips; j++) {
			ret = fg_svc_peer_add_allowed(s, slot, &cp->allowed_ips[j]);
			if (ret < 0) {
				snprintf(err, errlen, "[Peer] at line %u: AllowedIPs: %s", cp->line, strerror(-ret));
				return ret;
			}
		}
		if (cp->has_endpoint)
			fg_svc_peer_set_endpoint(s, slot, &cp->endpoint);
		if (cp->persistent_keepalive)
			fg_svc_peer_set_keepalive(s, slot, cp->persistent_keepalive);
	}
	return 0;
}

void fg_dp_release_heap(struct fg_dp *dp)
{
	fg_route_free_heap(dp->allowed);
}

void fg_dp_release_host(struct fg_dp *dp)
{
	/* The rings go before the queues they use (their fd flags are restored). */
	for (unsigned w = 0; w < dp->nworkers; w++)
		fg_worker_tun_ring_free(dp, &dp->workers[w]);
	/* Also right for a zeroed struct (fds 0 there, but no queue counted). */
	if (dp->tun.nqueues)
		fg_tun_close(&dp->tun);
	if (dp->pool && !dp->port_closed) {
		fg_port_close(dp->port_id);
		dp->port_closed = true;
	}
}

void fg_dp_fini(struct fg_dp *dp)
{
	fg_aead_lcore_fini();
	for (unsigned w = 0; w < dp->nworkers; w++) {
		struct rte_mbuf *m;

		/* First: the ring's requests may still point into the read buffers. */
		fg_worker_tun_ring_free(dp, &dp->workers[w]);
		if (dp->workers[w].handoff)
			while (rte_ring_dequeue(dp->workers[w].handoff, (void **)&m) == 0)
				rte_pktmbuf_free(m);
		if (dp->workers[w].svc_tx)
			while (rte_ring_dequeue(dp->workers[w].svc_tx, (void **)&m) == 0)
				rte_pktmbuf_free(m);
		for (unsigned b = 0; b < FG_TUN_READS; b++)
			rte_free(dp->workers[w].rdbuf[b]);
		if (dp->workers[w].nstash)
			rte_pktmbuf_free_bulk(dp->workers[w].stash, dp->workers[w].nstash);
		rte_ring_free(dp->workers[w].handoff);
		rte_ring_free(dp->workers[w].svc_tx);
	}
	fg_dp_release_host(dp);
	rte_ring_free(dp->hs_ring);
	rte_ring_free(dp->punt_ring);
	rte_ring_free(dp->stun_ring);
	rte_ring_free(dp->ev_ring);
	if (dp->p2p_ring) {
		struct fg_p2pctl_item it;

		while (rte_ring_dequeue_elem(dp->p2p_ring, &it, sizeof(it)) == 0)
			rte_pktmbuf_free(it.m);
		rte_ring_free(dp->p2p_ring);
	}
	fg_chantable_free(&dp->chans);
	fg_conntrack_free(&dp->ct);
	fg_route_free(dp->allowed);
	if (dp->tables.peers)
		fg_tables_free(&dp->tables);
	rte_mempool_free(dp->pool);
	clear(dp);
}
