/* SPDX-License-Identifier: MIT */
/*
 * The portal events the harnesses pick from with an input byte: the ones the gateway acts on,
 * written out here rather than read from portal_msg.c so that the harnesses check its table,
 * then some that the Firezone portal sends and the gateway ignores.
 */
#ifndef FG_FUZZ_PORTAL_EVENTS_H
#define FG_FUZZ_PORTAL_EVENTS_H

#include "portal_msg.h"

static const struct {
	const char *name;
	enum fg_portal_event ev;
} fuzz_portal_events[] = {
	{ "init", FG_PORTAL_EV_INIT },
	{ "create_authorization", FG_PORTAL_EV_CREATE_AUTHORIZATION },
	{ "authorize_flow", FG_PORTAL_EV_AUTHORIZE_FLOW },
	{ "reject_access", FG_PORTAL_EV_REJECT_ACCESS },
	{ "resource_updated", FG_PORTAL_EV_RESOURCE_UPDATED },
	{ "access_authorization_expiry_updated", FG_PORTAL_EV_ACCESS_AUTHORIZATION_EXPIRY_UPDATED },
	{ "relays_presence", FG_PORTAL_EV_RELAYS_PRESENCE },
	{ "ice_candidates", FG_PORTAL_EV_ICE_CANDIDATES },
	{ "invalidate_ice_candidates", FG_PORTAL_EV_INVALIDATE_ICE_CANDIDATES },
	{ "configure_metrics", FG_PORTAL_EV_UNKNOWN },
	{ "resource_deleted", FG_PORTAL_EV_UNKNOWN },
	{ "allow_access", FG_PORTAL_EV_UNKNOWN },
};

#endif
