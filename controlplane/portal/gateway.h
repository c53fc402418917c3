/* SPDX-License-Identifier: MIT */
/*
 * The gateway's side of the portal conversation: each portal message parsed (portal_msg.h)
 * and applied to the authorization state (state.h), with the replies the Firezone gateway
 * sends. Control plane thread only.
 */
#ifndef FG_GATEWAY_H
#define FG_GATEWAY_H

#include "phoenix.h"
#include "portal.h"
#include "state.h"

struct fg_gw_auth;

struct fg_gateway {
	struct fg_cp_state *state;
	struct fg_portal *portal;
	uint64_t messages, malformed, ignored;
	/* authorizations waiting for the data plane, confirmed in this order */
	struct fg_gw_auth *auth_head, *auth_tail;
};

void fg_gateway_on_message(struct fg_gateway *g, const struct fg_phx_in *m);
void fg_gateway_on_joined(struct fg_gateway *g);

#endif
