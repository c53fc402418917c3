/* SPDX-License-Identifier: MIT */
/*
 * The data plane's shared context: what the main lcore sets up before launching workers,
 * and the per-lcore state. Fields above the worker array are written only before the
 * workers start or by the service lcore with the publication rules of peers.h / route.h.
 * Each struct fg_worker is owned by its worker lcore; the service lcore only reads its
 * counters (torn 64-bit reads are impossible on x86-64) and seal_done (acquire).
 */
#ifndef FG_DP_H
#define FG_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "aead.h"
#include "chantable.h"
#include "conntrack.h"
#include "counters.h"
#include "netpkt.h"
#include "peers.h"
#include "route.h"
#include "tun.h"
#include "tun_uring.h"

struct fg_config;

enum {
	FG_MAX_WORKERS = 16,
	FG_BURST_MAX = 64,
	FG_TXBUF = 4 * FG_BURST_MAX,
	FG_PUNT_RING = 256,
	FG_STUN_RING = 512,        /* STUN punted to the service lcore (bounded, full: a drop) */
	FG_P2P_RING = 1024,        /* AssignedIps to the service lcore (struct fg_p2pctl_item) */
	FG_EVENT_RING = 4096,
	FG_SVC_TX_RING = 1024,
	FG_HANDOFF_RING = 1024,
	FG_TUN_READS = 8,          /* super-packets read from the TUN per iteration */
	FG_GSO_SEGS = 128,         /* segments one super-packet may split into (USO allows 128) */
	FG_STASH = 2 * FG_GSO_SEGS,
};

_Static_assert((int)FG_CT_MAX_TABLES >= (int)FG_MAX_WORKERS, "a connection table per worker");
_Static_assert((int)FG_CT_BURST >= (int)FG_BURST_MAX, "a receive batch is one connection-table burst");

struct fg_lcore_counters {
	uint64_t drops[FG_DROP_MAX];
	uint64_t nic_rx_packets;
	uint64_t nic_rx_bytes;
	uint64_t nic_tx_packets;
	uint64_t nic_tx_bytes;
	uint64_t tun_rx_packets;
	uint64_t tun_rx_bytes;
	uint64_t tun_tx_packets;
	uint64_t tun_tx_bytes;
	uint64_t decrypted;
	uint64_t encrypted;
	uint64_t keepalives_rx;
	uint64_t handshakes_punted;
	uint64_t handoffs;
	uint64_t echo_replies;
	uint64_t tun_gso_splits;   /* super-packets from the host split into several */
	uint64_t tun_gro_writes;   /* writes to the host (each one packet or a super-packet) */
	/* TunIo = io_uring / sqpoll: the worker's ring (tun_uring.h); all zero in syscall mode. */
	struct fg_tun_uring_stats tun_uring;
	uint64_t tun_backpressure; /* passes that left the NIC queue unread: every write batch
				    * to the TUN still in flight (io_uring) */
	uint64_t stun_punted;      /* STUN handed to the service lcore for the control plane */
	uint64_t p2p_punted;       /* AssignedIps handed to the service lcore (p2pctl.h) */
	uint64_t relay_rx_packets; /* ChannelData from a bound relay channel (frames, bytes) */
	uint64_t relay_rx_bytes;
	uint64_t relay_tx_packets; /* frames sent inside ChannelData to a relay */
	uint64_t relay_tx_bytes;
	/* Load, for sizing (service/stats.c samples it): passes of the lcore's loop, the passes
	 * that found work (a packet or a message), the TSC cycles those passes took, and the
	 * TSC when the loop started (0: not started). */
	uint64_t polls;
	uint64_t busy_polls;
	uint64_t busy_cycles;
	uint64_t start_tsc;
	/* Stage times (counters.h), only while FG_FP_PROFILE is set: decrypt and encrypt. */
	struct fg_stage_prof prof_rx;
	struct fg_stage_prof prof_tx;
} __rte_cache_aligned;

/*
 * struct fg_dp's fastpath bits. 0, the default, is the production fast path. The bench
 * sets them, between rows and while no worker polls, to time the stages and to measure the
 * fast path with one of its per-packet refinements taken out (a before/after row in one
 * run); nothing else sets them.
 */
enum fg_fastpath_bits {
	FG_FP_PROFILE = 1u << 0,          /* time each stage (prof_rx / prof_tx) */
	FG_FP_NO_BULK_LOOKUP = 1u << 1,   /* one rte_hash lookup per packet, not a bulk lookup */
	FG_FP_NO_PREFETCH = 1u << 2,      /* no prefetch of the next packets across the burst */
	FG_FP_NO_RX_CSUM_FLAGS = 1u << 3, /* verify the outer checksums in software always */
	FG_FP_POLICY_REPARSE = 1u << 4,   /* the policy parses the inner packet again */
};

/* Ends one pass of an lcore's loop that began at TSC t0 (busy: it found work) and returns
 * the TSC now, which the caller keeps as the next pass's start: one rdtsc per pass. */
static inline uint64_t fg_lcore_count_pass(struct fg_lcore_counters *c, uint64_t t0, bool busy)
{
	uint64_t t1 = rte_rdtsc();

	c->polls++;
	if (busy) {
		c->busy_polls++;
		c->busy_cycles += t1 - t0;
	}
	return t1;
}

struct fg_dp;
struct fg_hostio_ring;

struct fg_worker {
	struct fg_dp *dp;            /* the shared context this worker reads */
	unsigned idx;                /* 0..nworkers-1, also its QSBR thread id */
	unsigned lcore;
	uint16_t port;
	uint16_t queue;              /* its RX and TX queue on the port */
	int tun_fd;                  /* its TUN queue */
	struct rte_ring *handoff;    /* MP/SC: data packets for keypairs this worker owns */
	struct rte_ring *svc_tx;     /* SP/SC: frames the service lcore wants sent, and its
				      * seal requests (worker.h) */
	uint64_t seal_done;          /* seal requests taken from svc_tx and finished (sealed
				      * and queued, or dropped): written by this worker alone
				      * (release), read by the service lcore (acquire) */
	struct rte_mbuf *tx[FG_TXBUF];
	unsigned ntx;
	uint8_t *rdbuf[FG_TUN_READS];   /* TUN read buffers (64 KiB + header each), vnet mode */
	struct fg_hostio_ring *ring;    /* TunIo io_uring / sqpoll: the TUN queue's ring and the
					 * requests in flight (hostio.c); NULL: syscalls */
	struct rte_mbuf *stash[FG_STASH];
	unsigned nstash;
	struct fg_lcore_counters cnt;
} __rte_cache_aligned;

struct fg_dp {
	struct fg_config *cfg;          /* set-up only (dp.c): nothing past the constructor reads it */
	const struct fg_prefix *host_routes; /* the TUN's routes, re-added after an address change */
	size_t n_host_routes;
	struct fg_netpkt_local local;   /* listen_port may change at run time (UAPI) */
	struct fg_ip gateway4;          /* next hop for off-link peers, family 0 = none */
	uint32_t uplink_prefix_len;
	struct fg_tables tables;
	struct fg_route_table *allowed; /* cryptokey routing: allowed IPs → peer slot */
	struct fg_chantable chans;      /* relay channels accepted (chantable.h) */
	struct fg_conntrack ct;         /* the workers' connection tables (conntrack.h): NAT, flows */
	struct rte_mempool *pool;
	struct rte_ring *hs_ring;       /* MP/SC: handshake messages to the service lcore */
	struct rte_ring *punt_ring;     /* MP/SC: ARP / ND to the service lcore */
	struct rte_ring *stun_ring;     /* MP/SC: STUN (direct or from a relay channel) to the
					 * service lcore, which hands it to the control plane */
	struct rte_ring *p2p_ring;      /* MP/SC: struct fg_p2pctl_item, AssignedIps from
					 * clients, to the service lcore and on to the control
					 * plane (P2P_IN) */
	struct rte_ring *ev_ring;       /* MP/SC: struct fg_event to the service lcore */
	uint32_t hs_under_load;         /* ring occupancy that turns on cookie replies */
	uint64_t seal_flag;             /* ol_flags bit of a seal request (worker.h): 0 until the
					 * service lcore builds its first, then set once (atomic) */
	struct fg_tun tun;
	uint32_t mtu;
	uint32_t burst;
	uint32_t idle_sleep_us;
	uint32_t fastpath;              /* enum fg_fastpath_bits; 0 in the daemon */
	uint32_t tun_io;                /* the workers' TUN I/O in force: FG_TUN_IO_SYSCALL,
					 * _URING or _SQPOLL (config.h; auto resolved at start-up) */
	uint16_t port_id;
	unsigned nworkers;
	volatile int quit;
	/* The uplink's link is down (set by the service lcore, service/linkwatch.c): the
	 * workers drop what they would send (port_link_down) rather than queue it. */
	volatile int port_down;
	bool port_closed;
	struct fg_lcore_counters svc_cnt; /* the service lcore's own */
	struct fg_worker workers[FG_MAX_WORKERS];
};

#endif
