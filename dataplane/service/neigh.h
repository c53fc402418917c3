/* SPDX-License-Identifier: MIT */
/*
 * The data plane's neighbour table (ARP for the IPv4 uplink, ND for IPv6): the NIC is
 * dedicated to DPDK, so the data plane answers for its own addresses and resolves its next
 * hops itself. Owned by the service lcore; workers never read it (they use the MAC cached
 * in each peer's path), and frames waiting for a resolution are held here briefly.
 */
#ifndef FG_NEIGH_H
#define FG_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "addr.h"

enum {
	FG_NEIGH_MAX = 256,
	FG_NEIGH_HELD_MAX = 32,
	FG_NEIGH_RL_SOURCES = 64,      /* Ethernet sources the punt rate limiter tracks */
	FG_NEIGH_RL_PER_SECOND = 20,   /* ARP/ND frames handled per source per second */
	FG_NEIGH_RL_BURST = 40,
};

struct fg_neigh_entry {
	struct fg_ip ip;
	struct rte_ether_addr mac;
	bool resolved;
	uint64_t updated_ns;
	uint64_t probed_ns;
};

/* A token bucket, credit counted in nanoseconds as in the kernel's ratelimiter.c. */
struct fg_neigh_bucket {
	struct rte_ether_addr src;
	uint64_t credit_ns;
	uint64_t last_ns;
};

struct fg_neigh_held {
	struct rte_mbuf *m;
	struct fg_ip ip;
	uint64_t since_ns;
};

struct fg_dp;

struct fg_neigh {
	struct fg_dp *dp;         /* the uplink's addresses, the pool, worker 0's TX ring, counters */
	/* Called when ip's MAC changed (the owner recomputes the paths behind it). */
	void (*learned)(void *ctx, const struct fg_ip *ip);
	void *ctx;
	struct fg_neigh_entry e[FG_NEIGH_MAX];
	unsigned n;
	struct fg_neigh_held held[FG_NEIGH_HELD_MAX];
	unsigned nheld;
	struct fg_neigh_bucket rl[FG_NEIGH_RL_SOURCES];
	unsigned nrl;
	uint64_t arp_requests_sent;
	uint64_t arp_replies_sent;
	uint64_t held_dropped;
	uint64_t unsolicited;     /* mappings offered for addresses we had not asked about */
};

void fg_neigh_init(struct fg_neigh *n, struct fg_dp *dp, void (*learned)(void *ctx, const struct fg_ip *ip),
		   void *ctx);
/* 0 and the MAC if resolved, -ENOENT otherwise. */
int fg_neigh_lookup(const struct fg_neigh *n, const struct fg_ip *ip, struct rte_ether_addr *mac);
/*
 * Handles an ARP / ND frame punted by a worker (consumes m): answers requests and
 * solicitations for our addresses, and records a mapping only into an entry that exists,
 * because fg_neigh_resolve() asked for it or because it is being refreshed; an unsolicited
 * reply, advertisement or request never creates one. Each Ethernet source gets
 * FG_NEIGH_RL_PER_SECOND frames a second (burst FG_NEIGH_RL_BURST); the rest are dropped
 * as FG_DROP_NEIGH_RATELIMIT.
 */
void fg_neigh_handle(struct fg_neigh *n, struct rte_mbuf *m, uint64_t now);
/* Starts (or repeats, at most once a second) resolution of ip. */
void fg_neigh_resolve(struct fg_neigh *n, const struct fg_ip *ip, uint64_t now);
/* Holds a fully built frame until ip resolves; its destination MAC is filled in then. */
void fg_neigh_hold(struct fg_neigh *n, const struct fg_ip *ip, struct rte_mbuf *m, uint64_t now);
/* Expires held frames (1 s) and re-probes; call periodically. */
void fg_neigh_tick(struct fg_neigh *n, uint64_t now);
void fg_neigh_flush(struct fg_neigh *n);
/* The next hop for a destination: itself when on-link, else the configured gateway. */
void fg_neigh_next_hop(const struct fg_neigh *n, const struct fg_ip *dst, struct fg_ip *hop);

#endif
