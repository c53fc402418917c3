/* SPDX-License-Identifier: MIT */
/*
 * Connectivity: the control plane's glue between the portal, the TURN client (relay/), the
 * ICE agents (ice/) and the data plane, as snownet's Node does it for the Firezone gateway
 * (reference §5.2-5.3). It owns one relay set and one ICE agent per authorized client, and:
 *   - takes the relays of `init` / `relays_presence` (fg_conn_relays) and says whether an
 *     authorization may be confirmed (fg_conn_can_confirm: some relay holds an allocation,
 *     as the Rust gateway's NoTurnServers rule; FASTGATE_WITHOUT_RELAYS lifts it for labs);
 *   - creates a client's agent from the authorization's ICE credentials, feeds it the
 *     client's candidates (kept for a minute when they come before the authorization),
 *     gives it the local candidates: host (the data plane's uplink address and WireGuard
 *     port), server-reflexive (every relay's) and relayed (the relay chosen for the client);
 *   - signals the agent's candidate changes to the portal (broadcast_ice_candidates,
 *     broadcast_invalidated_ice_candidates, one client per message), held while the portal
 *     is away and flushed after the rejoin (fg_conn_portal_up);
 *   - demultiplexes the STUN the data plane punts (PACKET_IN): from a relay address to the
 *     TURN client, Binding requests to the agent their USERNAME names, responses to the
 *     agents in turn; sends what they send with PACKET_OUT from the WireGuard port;
 *   - binds a relay channel per remote server-reflexive, relayed or peer-reflexive
 *     candidate, at the relay and in the data plane (CHANNEL_BIND), and sets the client's
 *     WireGuard path to the nominated pair (PEER_PATH: direct, or relay + channel);
 *   - after a data plane restart pushes the channels and paths again (fg_conn_dp_up).
 * Everything runs on the control plane's single thread. The owner keeps one timer for it: the
 * ops' arm() says when, and the owner calls fg_conn_timer() then (no event loop in here, so
 * the tests drive it with their own clock of calls).
 */
#ifndef FG_CONN_H
#define FG_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "ctlproto.h"
#include "relay.h"

struct fg_dpc;
struct fg_cp_state;
struct fg_conn;

struct fg_conn_ops {
	/* Sends a portal message (`event` with {"client_ids":[client_id],"candidates":lines},
	 * or "no_relays" {} with client_id NULL). False when the portal is not joined: the
	 * change is held and offered again after fg_conn_portal_up(). */
	bool (*signal)(void *ctx, const char *event, const char *client_id, const char *const *lines,
		       unsigned n);
	/* (Re)arms the owner's one timer for this many microseconds from now (at least 1);
	 * when it fires the owner calls fg_conn_timer(). Replaces any earlier arming. */
	void (*arm)(void *ctx, uint64_t us);
};

struct fg_conn_config {
	bool without_relays;    /* confirm authorizations with no relay allocation (labs) */
};

/* NULL with errno (EINVAL: signal or arm missing). The state is read to drop the agents of
 * clients it no longer holds. */
struct fg_conn *fg_conn_new(struct fg_dpc *dpc, struct fg_cp_state *state, const struct fg_conn_ops *ops,
			    void *ctx, const struct fg_conn_config *cfg);
void fg_conn_free(struct fg_conn *c);
/* The owner's timer fired: retransmissions, refreshes, checks and sweeps due by now. */
void fg_conn_timer(struct fg_conn *c);

/* The portal's relays: init (is_init: the full list) or relays_presence (connected, then
 * disconnected ids). Passwords are the caller's to wipe. */
void fg_conn_relays(struct fg_conn *c, const struct fg_relay_info *add, size_t nadd,
		    const char *const *remove_ids, size_t nremove, bool is_init);

/* Whether an authorization may be confirmed now. When not, the caller withholds the
 * confirmation; `no_relays` has been signalled (at most every 5 s while no relay works). */
bool fg_conn_can_confirm(struct fg_conn *c);

/*
 * An authorization of client_id (public key, the portal's ICE credentials: ours are the
 * gateway's, remote the client's). Creates the client's agent, or keeps it when the
 * credentials are the same (a new resource: back to the normal check timing), or replaces
 * it when they changed. 0, -EINVAL (credentials refused: logged), -ENOMEM.
 */
int fg_conn_authorize(struct fg_conn *c, const char *client_id, const uint8_t public_key[32],
		      const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
		      const char *remote_pwd);
/* ice_candidates / invalidate_ice_candidates for client_id (lines of the portal's form). */
void fg_conn_candidates(struct fg_conn *c, const char *client_id, const char (*lines)[256], unsigned n,
			bool invalidate);
/* The client is gone (rejected, expired): its agent goes. Its path went with its peer in the
 * data plane; its channels expire at the relay unless used. */
void fg_conn_client_gone(struct fg_conn *c, const char *client_id);

/* The portal joined (again): held candidate changes leave now. */
void fg_conn_portal_up(struct fg_conn *c);
/* The data plane said HELLO (again): uplink addresses for the host candidates, then every
 * channel and nominated path pushed again. */
void fg_conn_dp_up(struct fg_conn *c);
/* A data plane event: a completed handshake counts as tunnel traffic for the client. */
void fg_conn_dp_event(struct fg_conn *c, const struct fg_ctl_event *ev);
/* The dpclient's on_packet callback (arg = the struct fg_conn). */
void fg_conn_on_packet(void *arg, const struct fg_ctl_packet_in *m);

/* fastgatectl: `ice` {"agents":[...],"counters":{...}} and `relays` {"relays":[...],...}. */
cJSON *fg_conn_json_ice(struct fg_conn *c);
cJSON *fg_conn_json_relays(struct fg_conn *c);

#endif
