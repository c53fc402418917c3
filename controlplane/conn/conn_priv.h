/* SPDX-License-Identifier: MIT */
/*
 * The connectivity room's insides, shared by its files: conn_core.c (life cycle, the
 * timer, the relay set and its events, the data plane's packets), conn_agents.c (one ICE
 * agent per client: candidates, signalling, channels, paths) and conn_view.c (fastgatectl).
 * Private to controlplane/conn/. Control plane thread only.
 */
#ifndef FG_CONN_PRIV_H
#define FG_CONN_PRIV_H

#include "conn.h"

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "ice.h"
#include "relay.h"

enum {
	FG_CONN_MAX_CLIENTS = 1024,         /* clients with an agent or early candidates */
	FG_CONN_MAX_LOCAL = 12,             /* host x2, srflx x8 at most, relay x2 */
	FG_CONN_MAX_HELD = 64,              /* candidate changes held while the portal is away */
	FG_CONN_EARLY_CANDIDATES_MS = 60000,/* candidates before their authorization are kept */
	FG_CONN_SWEEP_MS = 1000,            /* agents of clients the state dropped go */
	FG_CONN_NO_RELAYS_MS = 5000,        /* `no_relays` at most this often */
};

#define FG_CONN_MS(ms) ((uint64_t)(ms) * 1000000ull)

/* What a relay's events last said, kept for new agents and for the data plane. */
struct fg_conn_relay {
	bool used;
	char id[FG_RELAY_ID_LEN];
	struct fg_endpoint srflx4, srflx6, relayed4, relayed6;
	struct fg_endpoint active;          /* the relay address channels go to */
};

/* One local candidate given to an agent. */
struct fg_conn_local {
	bool used;
	uint8_t type;                       /* enum fg_ice_cand_type */
	uint32_t id;                        /* the agent's */
	struct fg_endpoint addr;
	char relay_id[FG_RELAY_ID_LEN];
};

/* A held candidate change. */
struct fg_conn_held {
	bool invalidate;
	char line[FG_ICE_LINE_MAX];
};

struct fg_conn_client {
	bool used;
	struct fg_conn *conn;
	char id[FG_CTL_ID_LEN];
	char ufrag[FG_ICE_UFRAG_MAX + 1];   /* ours: requests name it in USERNAME */
	uint8_t public_key[32];
	bool has_key;
	struct fg_ice_agent *agent;         /* NULL: candidates only, no authorization yet */
	uint8_t creds_hash[32];             /* BLAKE2b of the four credentials: same agent? */
	uint64_t created_ns;                /* candidates-only entries expire from here */
	char (*remote)[FG_ICE_LINE_MAX];    /* the client's candidate lines (FG_ICE_MAX_REMOTE) */
	unsigned nremote;
	struct fg_conn_local local[FG_CONN_MAX_LOCAL];
	char relay_id[FG_RELAY_ID_LEN];     /* the relay chosen for its relayed candidates */
	struct fg_conn_held held[FG_CONN_MAX_HELD];
	unsigned nheld;
	bool held_overflow;                 /* too many: re-signal every local candidate */
	bool nominated;
	struct fg_endpoint path_ep;         /* PEER_PATH: the remote, or the relay */
	uint16_t path_channel;
	char path_desc[256];                /* "direct a -> b" / "relayed via ..." */
	bool failed;                        /* ICE failed: freed after the call */
};

struct fg_conn_counters {
	uint64_t packets_in, relay_packets, ice_requests, ice_responses;
	uint64_t unrouted_requests;         /* a Binding request no agent's ufrag names */
	uint64_t unmatched;                 /* not STUN for a relay or an agent: dropped */
	uint64_t data_indications;          /* from a relay: a peer without a channel (NAT) */
	uint64_t packets_out, packets_out_failed;
	uint64_t channel_binds, channel_bind_failed, channel_unbinds;
	uint64_t paths_set, agents_created, agents_replaced, agents_failed, agents_removed;
	uint64_t signals_sent, signals_held, signals_dropped;
	uint64_t no_relays_sent, confirmations_withheld;
	uint64_t early_candidates_expired;
};

struct fg_conn {
	struct fg_dpc *dpc;
	struct fg_cp_state *state;
	struct fg_conn_ops ops;
	void *ctx;
	struct fg_conn_config cfg;
	struct fg_relay_set *relays;
	struct fg_conn_relay rcache[FG_RELAY_MAX];
	bool relays_dirty;                  /* relay events to apply to the agents */
	bool no_relays_pending;             /* `no_relays` to send (when due, portal joined) */
	bool no_relays_outage;              /* sent since the last allocation (WARN once) */
	uint64_t no_relays_next_ns;         /* not again before (FG_CONN_NO_RELAYS_MS) */
	uint64_t relays_failed_seen;        /* the relay set's relays_failed, last looked at */
	struct fg_endpoint host4, host6;    /* the WireGuard port on the uplink addresses */
	struct fg_conn_client *clients;     /* FG_CONN_MAX_CLIENTS slots */
	unsigned nclients;
	uint64_t next_sweep_ns;
	bool in_timer;
	struct fg_conn_counters cnt;
};

uint64_t fg_conn_now(void);
/* After any call into the relay set or an agent: apply what it said, re-arm the timer. */
void fg_conn_settle(struct fg_conn *c);
void fg_conn_rearm(struct fg_conn *c);
struct fg_conn_relay *fg_conn_relay_find(struct fg_conn *c, const char *id);
/* PACKET_OUT of a whole UDP payload (channel 0: as it is) from the WireGuard port. */
void fg_conn_send(struct fg_conn *c, const struct fg_endpoint *to, uint16_t channel, const uint8_t *buf,
		  size_t len);
/* CHANNEL_BIND / CHANNEL_UNBIND in the data plane (channel 0 on unbind: the whole relay). */
void fg_conn_dp_channel(struct fg_conn *c, bool bind, const struct fg_endpoint *relay,
			const struct fg_endpoint *peer, uint16_t channel);

/* conn_agents.c */
struct fg_conn_client *fg_conn_client_find(struct fg_conn *c, const char *id);
void fg_conn_client_free(struct fg_conn *c, struct fg_conn_client *cl, const char *why);
/* Local candidates of every agent brought in line with the relay cache and host addresses. */
void fg_conn_agents_sync(struct fg_conn *c);
/* Timers of the agents due by now. */
void fg_conn_agents_tick(struct fg_conn *c, uint64_t now);
uint64_t fg_conn_agents_next(const struct fg_conn *c);
/* A punted datagram for the agents: true when one took it. */
bool fg_conn_agents_input(struct fg_conn *c, const struct fg_endpoint *local, const struct fg_endpoint *from,
			  const uint8_t *buf, size_t len, uint64_t now);
/* After every call: failed agents freed, candidate changes signalled (or held). */
void fg_conn_agents_after(struct fg_conn *c);
void fg_conn_agents_push_paths(struct fg_conn *c);
void fg_conn_agents_sweep(struct fg_conn *c, uint64_t now);

#endif
