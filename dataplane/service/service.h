/* SPDX-License-Identifier: MIT */
/*
 * The service lcore: Noise handshakes (initiator and responder), cookie replies under load,
 * the WireGuard timers of every peer, the neighbour table, the UAPI socket and the stats
 * dump, and the data plane's part of ICE and relays (STUN punted to the control plane and
 * sent for it, relay channels, nominated paths). It is the single writer of the peer,
 * keypair, route and channel tables. Everything in
 * struct fg_svc belongs to the service lcore alone. Its loop sleeps when idle (it shares a
 * core with the control plane on small machines).
 */
#ifndef FG_SERVICE_H
#define FG_SERVICE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "ctlproto.h"
#include "dp.h"
#include "svc_stats.h"

struct fg_policy_resource;

/* A datagram punted for the control plane (STUN), as the socket servers get it: src is the
 * UDP source (the relay when channel != 0), peer the address the relay bound the channel to
 * (family 0 when direct, or when the channel was unbound meanwhile). */
struct fg_svc_packet {
	struct fg_endpoint src;
	struct fg_endpoint peer;
	uint16_t channel;
	uint16_t len;
	const uint8_t *payload;
};

/* The service lcore's state. Its layout is the service's own (svc_state.h): a socket
 * server reads it through the functions below, never by its fields. */
struct fg_svc;

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
	/* Optional: a punted datagram for the control plane. Returns the clients it was queued
	 * for, 0 when none is connected, -ENOBUFS when every one is backed up. */
	int (*packet)(void *ctx, const struct fg_svc_packet *pkt);
	/* Optional: an AssignedIps (the p2p payload: 8-byte header and JSON, len bytes) from the
	 * client of pub, for the control plane (P2P_IN). Returns as packet does. */
	int (*p2p)(void *ctx, const uint8_t pub[32], const uint8_t *payload, uint16_t len);
	/* Optional: a flow record for the control plane (FLOW, flows.c; its header set).
	 * Returns as packet does. */
	int (*flow)(void *ctx, const struct fg_ctl_flow *f);
};

int fg_svc_init(struct fg_svc *s, struct fg_dp *dp);
void fg_svc_fini(struct fg_svc *s);
/* Why the service loop ended: the process's exit code (main.c). */
enum fg_svc_exit {
	FG_SVC_EXIT_OK = 0,            /* SIGINT / SIGTERM */
	FG_SVC_EXIT_UPLINK_GONE = 3,   /* the uplink port's kernel interface was deleted */
	FG_SVC_EXIT_TUN_GONE = 4,      /* the TUN was deleted */
};
/* The main loop; returns when dp->quit is set, with an enum fg_svc_exit. */
int fg_svc_run(struct fg_svc *s);
/* Attaches a socket server: fd (its epoll set) joins what the idle loop sleeps on, poll runs
 * every iteration. 0, -ENOSPC when FG_SVC_MAX_ATTACH (svc_state.h) are attached, or -errno
 * of epoll_ctl. */
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

/* Reading the service's state, for the socket servers (they never see its layout). Service
 * lcore only, like the state. A slot names a live peer (from fg_svc_peer_at, or checked with
 * fg_svc_peer_valid); a pointer returned stays valid until what it points to changes (the
 * key is set, the peer removed). */
struct fg_dp *fg_svc_dp(const struct fg_svc *s);
/* The live peers are fg_svc_peer_at(s, i) for i < fg_svc_npeers(s), in no order; removing
 * one moves the last into its place. */
uint32_t fg_svc_npeers(const struct fg_svc *s);
uint32_t fg_svc_peer_at(const struct fg_svc *s, uint32_t i);
/* The device's own keys, NULL while it has none. */
const uint8_t *fg_svc_public_key(const struct fg_svc *s);
const uint8_t *fg_svc_private_key(const struct fg_svc *s);
const uint8_t *fg_svc_peer_public_key(const struct fg_svc *s, uint32_t slot);
const uint8_t *fg_svc_peer_psk(const struct fg_svc *s, uint32_t slot);          /* zeros = none */
const struct fg_endpoint *fg_svc_peer_endpoint(const struct fg_svc *s, uint32_t slot); /* family 0 = none */
uint16_t fg_svc_peer_keepalive(const struct fg_svc *s, uint32_t slot);          /* seconds, 0 = off */
uint64_t fg_svc_peer_last_handshake(const struct fg_svc *s, uint32_t slot);     /* wall ns, 0 = never */

/* What the portal authorized for a peer (all zero for one configured otherwise). res is the
 * service's array, valid until the peer's resources change. */
struct fg_svc_client_info {
	bool policy;                      /* traffic checked against res[] */
	char client_id[FG_CTL_ID_LEN];
	struct fg_ip ipv4, ipv6;
	const struct fg_policy_resource *res;
	uint32_t nres;
};
void fg_svc_peer_client(const struct fg_svc *s, uint32_t slot, struct fg_svc_client_info *out);
const struct fg_svc_stats *fg_svc_stats(const struct fg_svc *s);
uint64_t fg_svc_started_wall_ns(const struct fg_svc *s);
/* The UAPI server answered a request (counted in the stats as uapi_requests). */
void fg_svc_count_uapi_request(struct fg_svc *s);

/* Handshake plumbing (handshake.c). */
void fg_svc_handle_handshake(struct fg_svc *s, struct rte_mbuf *m, uint64_t now, bool under_load);
int fg_svc_send_initiation(struct fg_svc *s, uint32_t slot, uint64_t now, bool retry);
/* A keepalive: an empty data message, sealed by worker 0 (see fg_svc_send_data). */
int fg_svc_send_keepalive(struct fg_svc *s, uint32_t slot);
/* Sends a UDP payload to a path (copied into a fresh mbuf, in the workers' envelope) through
 * worker 0's TX ring. */
int fg_svc_send_udp(struct fg_svc *s, const struct fg_peer_path *path, const void *payload, uint16_t len);
/* Retires the table slot of a peer being removed: at once, or after worker 0 has sealed the
 * Goodbye the service just handed it (fg_svc_retire_sealed, every iteration, finishes it). */
void fg_svc_retire_slot(struct fg_svc *s, uint32_t slot);
void fg_svc_retire_sealed(struct fg_svc *s, uint64_t now);
/* Recomputes a peer's path from its endpoint (and channel) and the neighbour table. */
void fg_svc_peer_update_path(struct fg_svc *s, uint32_t slot, const struct rte_ether_addr *mac);
/* A peer's relay channel: 0 when its endpoint is direct, else the endpoint is the relay. */
uint16_t fg_svc_peer_channel(const struct fg_svc *s, uint32_t slot);

/* ICE and relays (paths.c). Channel numbers are 0x4000..0x4FFF (ctlproto.h). */
/* STUN a worker punted (consumes m): rate-limited per source and handed to the attached
 * servers as a struct fg_svc_packet; every loss counted by name. */
void fg_svc_stun_in(struct fg_svc *s, struct rte_mbuf *m, uint64_t now);
/* Sends payload from the WireGuard port to ep, inside ChannelData when channel != 0 (ep is
 * then the relay); the next hop from the neighbour table (held while it resolves). 0,
 * -EINVAL, -EAFNOSUPPORT (no uplink address of that family), -EMSGSIZE, -ENOMEM, -ENOBUFS. */
int fg_svc_send_packet(struct fg_svc *s, const struct fg_endpoint *ep, uint16_t channel, const void *payload,
		       uint16_t len);
/* The relay channel table (chantable.h): bind (or rebind to another peer), unbind (number 0:
 * every channel of the relay). 0, -EINVAL, -ENOSPC, -ENOENT. */
int fg_svc_channel_bind(struct fg_svc *s, const struct fg_endpoint *relay, uint16_t number,
			const struct fg_endpoint *peer);
int fg_svc_channel_unbind(struct fg_svc *s, const struct fg_endpoint *relay, uint16_t number);
/* Sets a peer's path (ICE nomination): direct (channel 0) or through relay ep's channel;
 * family 0 clears it. 0, -ENOENT, -EINVAL. */
int fg_svc_peer_set_path(struct fg_svc *s, uint32_t slot, const struct fg_endpoint *ep, uint16_t channel);

/* The p2p control protocol (p2p.c; reference §4.2, dataplane/worker/p2pctl.h). */
/* Hands the AssignedIps the workers queued (dp->p2p_ring) to the attached servers, at most
 * FG_SVC_P2P_BUDGET per call; a peer gone or changed since (P2P_UNAUTHORIZED) or no server
 * that takes it (P2P_BACKLOG) is a counted drop. Returns the items handled. */
unsigned fg_svc_p2p_poll(struct fg_svc *s);
/* P2P_OUT: sends payload (len bytes: the 8-byte p2p header and the JSON) to the client of pub,
 * wrapped in the p2p IPv6 header and sealed by worker 0 like any data (fg_svc_send_data). 0
 * once queued; -EINVAL (len under the 8-byte header or over FG_CTL_P2P_MAX), -ENOENT (no
 * such peer), -EMSGSIZE (over the tunnel MTU), -ENOBUFS. */
int fg_svc_p2p_send(struct fg_svc *s, const uint8_t pub[32], const void *payload, uint16_t len);

/* Flow records (flows.c): the connection tables' records (dataplane/worker/conntrack.h) to
 * the attached servers as FLOW, at most FG_SVC_FLOW_BUDGET per call; one of an unknown peer
 * or that every connected server refused (backed up) counts as flows_lost. Returns the
 * records handled. */
enum { FG_SVC_FLOW_BUDGET = 32 };
unsigned fg_svc_flows_poll(struct fg_svc *s);
/* Remembers who the peer in slot is, so that its flows' last records (closed by the
 * workers after it left the slot) still name it. Before the slot is retired. */
void fg_svc_flows_peer_removed(struct fg_svc *s, uint32_t slot);

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
/* Builds and publishes a client's policy from its resources and proxy IPs (clients.c). */
int fg_svc_client_publish(struct fg_svc *s, uint32_t slot);
/* DNS resources (xlat.c): NAT_SET, the proxy IPs of a domain of a client's DNS resource
 * (the resource must exist, of type FG_CTL_RES_DNS). 0, -ENOENT (no such peer or
 * resource), -EINVAL, -ENOSPC (too many proxy IPs, or resources on one), -ENOMEM. */
int fg_svc_nat_set(struct fg_svc *s, const struct fg_ctl_nat_set *m);
/* Hands a plaintext IP packet for a peer to worker 0, which seals and sends it as it does
 * the TUN's packets (worker.h: the service lcore encrypts nothing itself); without a
 * session the worker counts it as svc_no_session and asks for a handshake. 0 once queued,
 * -ENOENT (no such peer), -EMSGSIZE (over the MTU), -ENOMEM or -ENOBUFS (ring full). */
int fg_svc_send_data(struct fg_svc *s, uint32_t slot, const void *pkt, uint16_t len);
/* The p2p Goodbye (reference §4.2), only over a session; the peer's slot is kept until it is
 * sealed when the peer is removed right after. -ENOKEY without a session. */
int fg_svc_send_goodbye(struct fg_svc *s, uint32_t slot, uint64_t now);

/* Stats (stats.c). A dump that fails is logged (WARN) only when the failure is new or
 * another than the last one, and its recovery once (INFO); each failure is counted. */
void fg_svc_stats_write(struct fg_svc *s, FILE *f);
int fg_svc_stats_dump(struct fg_svc *s);
/* The periodic dump (stats_interval_ns), from the service loop. */
void fg_svc_stats_tick(struct fg_svc *s, uint64_t now);
/* Every drop reason's count (index enum fg_drop), summed over the service lcore and
 * the workers: what the stats file, STATS_REPLY and telemetry report. */
void fg_svc_drops_sum(const struct fg_svc *s, uint64_t drops[FG_DROP_MAX]);

/* The lcores' load, for sizing (stats.c). An lcore is named by its index: 0 the service
 * lcore, 1 + w worker w. A window is about FG_SVC_LOAD_WINDOW_MS long (longer when the
 * service loop was late: its cycles say how long). */
enum { FG_SVC_LOAD_WINDOW_MS = 1000 };
/* Samples every lcore's counters once a window has passed since the last sample (now_tsc:
 * rte_rdtsc()), keeping the differences as the last complete window. Service loop. */
void fg_svc_load_tick(struct fg_svc *s, uint64_t now_tsc);
/* The figures of an lcore since its loop started, as of now_tsc, and over the last
 * complete window (all 0 until one has passed). busy_polls <= polls and busy_cycles <=
 * cycles always hold, though the workers' counters are read while they change. */
void fg_svc_load_read(const struct fg_svc *s, unsigned lcore, uint64_t now_tsc, struct fg_svc_load_figures *since,
		      struct fg_svc_load_figures *win);

/* The host interfaces (linkwatch.c): the uplink port's kernel interface (port_ifindex, 0
 * when it has none: the PMD's link status is read instead) and the TUN, watched through
 * netlink link events. Deleted: ERROR, dp->quit and exit code FG_SVC_EXIT_*_GONE; the
 * uplink's link down: dp->port_down at once (the workers drop what they would send) and a
 * WARN once it has stayed down FG_SVC_LINK_DOWN_GRACE_MS without being deleted, until it
 * is up again (INFO). 0 (a netlink socket that cannot be opened is a warning: the
 * interfaces' flags are then read every FG_SVC_LINK_POLL_MS). poll runs at the scan tick. */
int fg_svc_linkwatch_start(struct fg_svc *s, int port_ifindex);
void fg_svc_linkwatch_poll(struct fg_svc *s, uint64_t now);
void fg_svc_linkwatch_stop(struct fg_svc *s);
void fg_svc_linkwatch_write_stats(const struct fg_svc *s, FILE *f);

#endif
