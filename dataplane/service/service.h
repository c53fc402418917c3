/* SPDX-License-Identifier: MIT */
/*
 * The service lcore: Noise handshakes (initiator and responder), cookie replies under load,
 * the WireGuard timers of every peer, the neighbour table, the UAPI socket and the stats
 * dump. It is the single writer of the peer, keypair and route tables. Everything in
 * struct fg_svc belongs to the service lcore alone. Its loop sleeps when idle (it shares a
 * core with the control plane on small machines).
 */
#ifndef FG_SERVICE_H
#define FG_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_hash.h>

#include "cookie.h"
#include "ctlproto.h"
#include "dp.h"
#include "neigh.h"
#include "noise.h"
#include "ratelimiter.h"
#include "timers.h"

struct fg_policy_resource;

/* What the portal authorized for a client (peers provisioned over the control socket). */
struct fg_svc_client {
	bool policy;                      /* traffic checked against res[] */
	char client_id[FG_CTL_ID_LEN];
	struct fg_ip ipv4, ipv6;
	struct fg_policy_resource *res;   /* heap array */
	uint32_t nres, capres;
	uint64_t next_expiry;             /* unix seconds, 0 = none */
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
	struct fg_endpoint endpoint;  /* configured or learned; family 0 = none */
	uint64_t last_handshake_wall_ns;
	uint64_t last_init_sent_ns;
	uint64_t seen_rx_data, seen_tx_data, seen_rx_auth, seen_tx_auth;
};

struct fg_svc_stats {
	uint64_t handshakes_initiated;
	uint64_t handshakes_responded;
	uint64_t handshakes_completed;
	uint64_t cookies_sent;
	uint64_t cookies_received;
	uint64_t keepalives_sent;
	uint64_t roams;
	uint64_t goodbyes_sent;
	uint64_t goodbyes_received;     /* peers removed by the client's p2p Goodbye */
	uint64_t uapi_requests;
};

struct fg_policy;

/* A socket server the service lcore drives (dataplane/api/). The server knows the service;
 * the service knows a server only by this ops table, so the dependency runs one way. */
struct fg_svc_attach_ops {
	/* Serves what is ready without blocking; returns events handled. */
	int (*poll)(void *ctx);
	/* Optional: called from the ~10 Hz scan with the service clock. */
	void (*tick)(void *ctx, uint64_t now_ns);
	/* Optional: an event for the control plane (FG_CTL_EV_*; resource_id may be NULL). */
	void (*event)(void *ctx, uint32_t kind, const uint8_t pub[32], const char *resource_id);
	/* Optional: the server's lines in the stats dump (stats.c). */
	void (*write_stats)(void *ctx, FILE *f);
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
	/* Largest plaintext fg_svc_send_data seals: the service lcore sends only keepalives
	 * (0 bytes) and p2p control packets (under 64); 1536 leaves a 1500-byte packet room
	 * for its padding to 16. */
	FG_SVC_SEND_DATA_MAX = 1536,
	/* Socket servers attached at once (the UAPI and the control socket). */
	FG_SVC_MAX_ATTACH = 4,
};

struct fg_svc {
	struct fg_dp *dp;
	struct fg_noise_local local;
	bool has_key;
	struct fg_wg_cookie_checker checker;
	struct fg_wg_ratelimiter *rl;
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
	uint64_t started_wall_ns;
	struct fg_svc_stats stats;
	uint64_t next_scan_ns;
	uint64_t next_gc_ns;
	uint64_t under_load_until;    /* cookie replies stay on until then */
	const char *stats_path;
	volatile int dump_requested;  /* set by SIGUSR1 */
};

int fg_svc_init(struct fg_svc *s, struct fg_dp *dp);
void fg_svc_fini(struct fg_svc *s);
/* The main loop; returns when dp->quit is set. */
int fg_svc_run(struct fg_svc *s);
/* Attaches a socket server: fd (its epoll set) joins what the idle loop sleeps on, poll runs
 * every iteration. 0, -ENOSPC when FG_SVC_MAX_ATTACH are attached, or -errno of epoll_ctl. */
int fg_svc_attach(struct fg_svc *s, const struct fg_svc_attach_ops *ops, void *ctx, int fd);
/* Detaches what fg_svc_attach attached with ctx (before the server frees it). */
void fg_svc_detach(struct fg_svc *s, void *ctx);
/* Hands an event to every attached server that takes events. */
void fg_svc_emit_event(struct fg_svc *s, uint32_t kind, const uint8_t pub[32], const char *resource_id);
/* One iteration without sleeping (tests). Returns work done. */
unsigned fg_svc_poll(struct fg_svc *s, uint64_t now);

/* Device and peer management (UAPI, static config). */
int fg_svc_set_private_key(struct fg_svc *s, const uint8_t key[32]);
uint32_t fg_svc_peer_find(struct fg_svc *s, const uint8_t pub[32]);
/* slot names a live peer (in range and in use). Every peer setter checks it and answers
 * -ENOENT otherwise; a caller that holds a slot across events (a UAPI connection between
 * two reads) also keeps fg_svc_peer_gen() and compares it, since a freed slot is reused. */
bool fg_svc_peer_valid(const struct fg_svc *s, uint32_t slot);
uint32_t fg_svc_peer_gen(const struct fg_svc *s, uint32_t slot);
/* Creates a peer (or returns the existing one); FG_SLOT_NONE with errno on failure. */
uint32_t fg_svc_peer_add(struct fg_svc *s, const uint8_t pub[32]);
void fg_svc_peer_remove(struct fg_svc *s, uint32_t slot);
int fg_svc_peer_set_psk(struct fg_svc *s, uint32_t slot, const uint8_t psk[32]);
int fg_svc_peer_set_endpoint(struct fg_svc *s, uint32_t slot, const struct fg_endpoint *ep);
int fg_svc_peer_set_keepalive(struct fg_svc *s, uint32_t slot, uint16_t seconds);
int fg_svc_peer_add_allowed(struct fg_svc *s, uint32_t slot, const struct fg_prefix *p);
int fg_svc_peer_clear_allowed(struct fg_svc *s, uint32_t slot);

/* Handshake plumbing (handshake.c). */
void fg_svc_handle_handshake(struct fg_svc *s, struct rte_mbuf *m, uint64_t now, bool under_load);
int fg_svc_send_initiation(struct fg_svc *s, uint32_t slot, uint64_t now, bool retry);
int fg_svc_send_keepalive(struct fg_svc *s, uint32_t slot, uint64_t now);
/* Sends a UDP payload to a path (copied into a fresh mbuf) through worker 0's TX ring. */
int fg_svc_send_udp(struct fg_svc *s, const struct fg_peer_path *path, const void *payload, uint16_t len);
/* Recomputes a peer's path from its endpoint and the neighbour table. */
void fg_svc_peer_update_path(struct fg_svc *s, uint32_t slot, const struct rte_ether_addr *mac);

/* Portal clients, their resources and policies (clients.c). */
int fg_svc_client_upsert(struct fg_svc *s, const struct fg_ctl_peer_upsert *m);
int fg_svc_client_remove(struct fg_svc *s, const uint8_t pub[32], bool goodbye);
int fg_svc_resource_upsert(struct fg_svc *s, const struct fg_ctl_resource_upsert *m);
/* *peer_removed is set when it was the client's last resource (Goodbye sent, peer gone). */
int fg_svc_resource_remove(struct fg_svc *s, const uint8_t pub[32], const char *id, bool *peer_removed);
int fg_svc_iface_set(struct fg_svc *s, const struct fg_ip *ipv4, const struct fg_ip *ipv6);
/* Expires resources (called from the ~10 Hz scan); emits control-socket events. */
void fg_svc_clients_expire(struct fg_svc *s, uint64_t now_unix);
/* Frees the client state of a peer being removed (its policy after a grace period). */
void fg_svc_client_release(struct fg_svc *s, uint32_t slot);
void fg_svc_garbage_collect(struct fg_svc *s, bool wait);
/* Encrypts a plaintext IP packet for a peer and sends it (service lcore path). -EMSGSIZE
 * when it or its padded length is over FG_SVC_SEND_DATA_MAX. */
int fg_svc_send_data(struct fg_svc *s, uint32_t slot, const void *pkt, uint16_t len, uint64_t now);
int fg_svc_send_goodbye(struct fg_svc *s, uint32_t slot, uint64_t now);

/* Stats (stats.c). */
void fg_svc_stats_write(struct fg_svc *s, FILE *f);
int fg_svc_stats_dump(struct fg_svc *s);

#endif
