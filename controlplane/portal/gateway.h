/* SPDX-License-Identifier: MIT */
/*
 * The gateway's side of the portal conversation: each portal message parsed (portal_msg.h)
 * and applied to the authorization state (state.h), with the replies the Firezone gateway
 * sends. Control plane thread only.
 */
#ifndef FG_GATEWAY_H
#define FG_GATEWAY_H

#include "conn.h"
#include "phoenix.h"
#include "portal.h"
#include "state.h"

struct fg_gw_auth;
struct fg_flowlog;

struct fg_gateway {
	struct fg_cp_state *state;
	struct fg_portal *portal;
	struct fg_conn *conn;            /* relays and ICE */
	struct fg_flowlog *flows;        /* flow logs: init's flow_logs, ingest tokens; may be NULL */
	uint64_t messages, malformed, ignored;
	/* authorizations waiting for the data plane, confirmed in this order */
	struct fg_gw_auth *auth_head, *auth_tail;
};

void fg_gateway_on_message(struct fg_gateway *g, const struct fg_phx_in *m);
void fg_gateway_on_joined(struct fg_gateway *g);
/* The connectivity room's signal op (ctx = the struct fg_gateway): candidate changes and
 * `no_relays` to the portal; false while it is not joined (held). */
bool fg_gateway_signal(void *ctx, const char *event, const char *client_id, const char *const *lines,
		       unsigned n);

#endif
