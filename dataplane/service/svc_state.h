/* SPDX-License-Identifier: MIT */
/*
 * The layout of the service lcore's state: struct fg_svc, its peers and their portal
 * clients. Internal to the service: service.h declares struct fg_svc opaque, and the
 * socket servers (dataplane/api/) read it only through service.h's functions. Included by
 * the service's own .c files, by the set-up that allocates or seeds it (dataplane/main.c,
 * dataplane/dp.c) and by tests, fuzzers and benchmarks that need the layout. Everything
 * here belongs to the service lcore alone. It does not include service.h (service.c
 * includes both; the other way round would be a module circle).
 */
#ifndef FG_SVC_STATE_H
#define FG_SVC_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash.h>

#include "cookie.h"
#include "ctlproto.h"
#include "dp.h"
#include "neigh.h"
#include "noise.h"
#include "ratelimiter.h"
#include "svc_link.h"
#include "svc_stats.h"
#include "timers.h"

struct fg_policy;
struct fg_policy_resource;
struct fg_svc_attach_ops;

/* What the portal authorized for a client (peers provisioned over the control socket). */
enum {
	FG_SVC_XLAT_RES = 8,              /* DNS resources sharing one proxy IP */
	FG_SVC_XLAT_MAX = 65536,          /* proxy IPs of one client */
};

/* One proxy IP of a client's DNS resource domains (NAT_SET, xlat.c). */
struct fg_svc_xlat {
	struct fg_ip proxy;
	struct fg_ip real;                /* family 0: no address of the proxy's family */
	uint32_t nres;
	uint32_t rank[FG_SVC_XLAT_RES];
	char res[FG_SVC_XLAT_RES][FG_CTL_ID_LEN];
};

struct fg_svc_client {
	bool policy;                      /* traffic checked against res[] */
	char client_id[FG_CTL_ID_LEN];
	struct fg_ip ipv4, ipv6;
	struct fg_policy_resource *res;   /* heap array */
	uint32_t nres, capres;
	uint64_t next_expiry;             /* unix seconds, 0 = none */
	struct fg_svc_xlat *xlat;         /* heap array: the proxy IPs */
	uint32_t nxlat, capxlat;
};

struct fg_svc_peer {
	bool used;
	struct fg_svc_client client;
	uint8_t public_key[32];
	struct fg_noise_peer noise;
	struct fg_noise_handshake hs;
	uint32_t hs_index;            /* local index of the handshake in flight, or 0 */
	struct fg_wg_cookie cookie;
	struct fg_wg_timers timers;
	uint16_t persistent_keepalive;
	struct fg_endpoint endpoint;  /* configured, learned or nominated; family 0 = none */
	uint16_t channel;             /* 0: endpoint is direct; else endpoint is a relay and this
				       * its channel (ctlproto.h) */
	uint64_t last_handshake_wall_ns;
	uint64_t last_init_sent_ns;
	uint64_t seen_rx_data, seen_tx_data, seen_rx_auth, seen_tx_auth;
	uint64_t seal_ticket;         /* seals_posted after its Goodbye went to worker 0, or 0 */
};

struct fg_svc_attachment {
	const struct fg_svc_attach_ops *ops;
	void *ctx;
	int fd;
};

enum {
	/* Retired policies waiting for the workers' grace period; when full, retiring one
	 * more waits for the workers once (rte_rcu_qsbr_synchronize) and frees them all. */
	FG_SVC_GARBAGE_MAX = 256,
	/* Socket servers attached at once (the UAPI and the control socket). */
	FG_SVC_MAX_ATTACH = 4,
	/* Removed peers whose table slot waits for worker 0 to seal their Goodbye; past the
	 * timeout (the worker is stopped) the slot is retired anyway. */
	FG_SVC_LEAVING_MAX = 256,
	FG_SVC_LEAVING_TIMEOUT_MS = 2000,
	/* STUN punted to the control plane per source (IPv4 address, IPv6 /64; through a relay
	 * channel, the peer behind it): ICE in the normal profile paces its checks at tens a
	 * second per agent, relays answer a few requests per allocation. */
	FG_SVC_STUN_PER_SECOND = 100,
	FG_SVC_STUN_BURST = 200,
	FG_SVC_STUN_SOURCES = 8192,
	FG_SVC_STUN_BUDGET = 32,      /* punted datagrams handled per service iteration */
	FG_SVC_P2P_BUDGET = 32,       /* AssignedIps handled per service iteration */
};

/* The lcores' load sampled about once a second (stats.c): index 0 is the service lcore,
 * 1 + w worker w. */
enum { FG_SVC_LOAD_LCORES = 1 + FG_MAX_WORKERS };
struct fg_svc_load {
	uint64_t next_tsc;            /* the next sample; 0 before the first */
	struct fg_svc_load_figures last[FG_SVC_LOAD_LCORES]; /* since start, at the last sample */
	struct fg_svc_load_figures win[FG_SVC_LOAD_LCORES];  /* the last complete window */
};

/* A removed peer's table slot, retired once worker 0's seal_done reaches ticket. */
struct fg_svc_leaving {
	uint32_t slot;
	uint64_t ticket;
	uint64_t deadline;            /* service clock, ns */
};

struct fg_svc {
	struct fg_dp *dp;
	struct fg_noise_local local;
	bool has_key;
	struct fg_wg_cookie_checker checker;
	struct fg_wg_ratelimiter *rl;
	struct fg_wg_ratelimiter *stun_rl; /* STUN punted per source (paths.c) */
	struct fg_svc_peer *peers;    /* indexed by peer slot */
	uint32_t *live;               /* dense list of used slots, for the timer scan */
	uint32_t nlive;
	struct rte_hash *by_pubkey;   /* public key → peer slot */
	struct rte_hash *pending;     /* handshake local index → peer slot */
	struct fg_neigh neigh;
	struct fg_svc_attachment att[FG_SVC_MAX_ATTACH];
	unsigned natt;
	int epfd;                     /* what the idle service lcore sleeps on */
	struct fg_ip gw4, gw6;        /* the gateway's own tunnel addresses */
	/* policies unpublished and waiting for a grace period */
	struct { struct fg_policy *p; uint64_t token; } garbage[FG_SVC_GARBAGE_MAX];
	unsigned ngarbage;
	/* seal requests handed to worker 0 (fg_svc_send_data), compared with its seal_done */
	uint64_t seals_posted;
	struct fg_svc_leaving leaving[FG_SVC_LEAVING_MAX];
	unsigned nleaving;
	uint64_t started_wall_ns;
	struct fg_svc_stats stats;
	uint64_t next_scan_ns;
	uint64_t next_gc_ns;
	uint64_t under_load_until;    /* cookie replies stay on until then */
	const char *stats_path;
	volatile int dump_requested;  /* set by SIGUSR1 */
	uint64_t stats_interval_ns;   /* a dump every so often (--stats-interval), 0 = none */
	uint64_t next_stats_ns;
	int stats_err;                /* the last dump's -errno, 0 = written: logged on a change */
	uint64_t stats_failures;      /* dumps that could not be written */
	uint64_t stats_failing;       /* of which in a row, up to the last dump */
	struct fg_svc_linkwatch link; /* the uplink's and the TUN's interfaces (linkwatch.c) */
	struct fg_svc_load load;      /* the lcores' load, for sizing (stats.c) */
	int exit_code;                /* what fg_svc_run returns (enum fg_svc_exit) */
};

/* xlat.c: compiles the client's policy with its proxy IPs (NULL + errno as
 * fg_policy_build_nat), and frees them. */
struct fg_policy *fg_svc_xlat_policy(const struct fg_svc *s, const struct fg_svc_client *c);
void fg_svc_xlat_free(struct fg_svc_client *c);

#endif
