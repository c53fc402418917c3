// SPDX-License-Identifier: MIT
/*
 * Portal messages applied to the gateway's state (see gateway.h). Control plane thread only.
 * Malformed messages get a warning and are dropped; the connection survives. Unknown
 * events and fields are ignored with a debug line, as the reference requires.
 */
#include "gateway.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "flowlog.h"
#include "log.h"
#include "portal_msg.h"

static const char *const TAG = "fastgate.gateway";

/* out->filters is a heap copy the caller frees (the state keeps its own); false when out of
 * memory (never an empty list in its place: that would allow everything). */
static bool to_cp_resource(const struct fg_portal_resource *in, uint64_t expires_at, struct fg_cp_resource *out)
{
	memset(out, 0, sizeof(*out));
	if (in->n_filters && !(out->filters = calloc(in->n_filters, sizeof(*out->filters))))
		return false;
	snprintf(out->id, sizeof(out->id), "%s", in->id);
	snprintf(out->name, sizeof(out->name), "%s", in->name);
	out->type = in->type == FG_PORTAL_RES_CIDR ? FG_CP_RES_CIDR :
		    in->type == FG_PORTAL_RES_DNS ? FG_CP_RES_DNS : FG_CP_RES_INTERNET;
	out->prefix = in->prefix;
	snprintf(out->pattern, sizeof(out->pattern), "%s", in->pattern);
	out->n_filters = in->n_filters;
	for (unsigned i = 0; i < in->n_filters; i++) {
		out->filters[i].proto = in->filters[i].proto;
		out->filters[i].lo = in->filters[i].port_start;
		out->filters[i].hi = in->filters[i].port_end;
	}
	out->expires_at = expires_at;
	return true;
}

/* The TURN relays of a list, for the connectivity room (STUN-only entries carry no
 * credentials and allocate nothing). The caller wipes out. */
static size_t to_relay_infos(const struct fg_portal_relay *in, size_t n, struct fg_relay_info *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (in[i].type != FG_PORTAL_RELAY_TURN)
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		snprintf(out[k].id, sizeof(out[k].id), "%s", in[i].id);
		out[k].addr4 = in[i].addr4;
		out[k].addr6 = in[i].addr6;
		snprintf(out[k].username, sizeof(out[k].username), "%s", in[i].username);
		snprintf(out[k].password, sizeof(out[k].password), "%s", in[i].password);
		k++;
	}
	return k;
}

static void relays_to_conn(struct fg_gateway *g, const struct fg_portal_relay *in, size_t n,
			   const char *const *remove, size_t nremove, bool is_init)
{
	struct fg_relay_info *infos = calloc(n ? n : 1, sizeof(*infos));
	size_t k;

	if (!infos || !g->conn) {
		free(infos);
		return;
	}
	k = to_relay_infos(in, n, infos);
	fg_conn_relays(g->conn, infos, k, remove, nremove, is_init);
	sodium_memzero(infos, sizeof(*infos) * (n ? n : 1));
	free(infos);
}

static void on_init(struct fg_gateway *g, const cJSON *payload)
{
	struct fg_portal_init *m = calloc(1, sizeof(*m));
	struct fg_cp_auth *auths = NULL;
	char err[FG_PORTAL_ERR_LEN];

	if (!m)
		return;
	if (fg_portal_init_parse(payload, m, err, sizeof(err)) < 0) {
		g->malformed++;
		fg_warn(TAG, "malformed init ignored: %s", err);
		free(m);
		return;
	}
	relays_to_conn(g, m->relays, m->n_relays, NULL, 0, true);
	if (m->n_auths) {
		auths = calloc(m->n_auths, sizeof(*auths));
		for (size_t i = 0; auths && i < m->n_auths; i++) {
			snprintf(auths[i].client_id, sizeof(auths[i].client_id), "%s", m->auths[i].client_id);
			snprintf(auths[i].resource_id, sizeof(auths[i].resource_id), "%s", m->auths[i].resource_id);
			auths[i].expires_at = m->auths[i].expires_at;
		}
	}
	snprintf(g->state->account_slug, sizeof(g->state->account_slug), "%s", m->account_slug);
	/* An absent list revokes everything in the Rust gateway; here it keeps what is there,
	 * which is the safer reading for a restarted control plane. */
	fg_cp_init(g->state, &m->ipv4, &m->ipv6, auths, auths ? m->n_auths : 0, m->has_authorizations && (auths || !m->n_auths));
	fg_info(TAG, "init: interface %s%s%s, %u relay(s), %zu authorization(s), %u client(s) kept",
		m->ipv4.family ? "ipv4 set" : "no ipv4", m->ipv6.family ? ", ipv6 set" : "", "",
		m->n_relays, m->n_auths, g->state->n);
	/* Rust refuses such an init whole; here it only means no uploads (test portals send
	 * "flow_logs":{}). */
	if (m->flow_logs_error[0])
		fg_debug(TAG, "%s: flow log uploads off", m->flow_logs_error);
	if (g->flows)
		fg_flowlog_configure(g->flows, m->has_flow_logs, m->flow_logs_api_url, m->flow_logs_interval_secs,
				     m->flow_logs_batch_size);
	free(auths);
	fg_portal_init_free(m);
	free(m);
}

/* An authorization waiting for the data plane. Confirmations leave in the order the
 * portal's messages came, whatever order the answers complete in. */
struct fg_gw_auth {
	struct fg_gw_auth *next;
	struct fg_gateway *g;
	enum fg_portal_event ev;
	bool done;
	char *ref;
	char client_id[FG_CTL_ID_LEN];
	char resource_id[FG_CTL_ID_LEN];
};

static void confirm_ready(struct fg_gateway *g)
{
	struct fg_gw_auth *a;

	while ((a = g->auth_head) && a->done) {
		cJSON *reply = cJSON_CreateObject();

		g->auth_head = a->next;
		if (!g->auth_head)
			g->auth_tail = NULL;
		fg_info(TAG, "client %s authorized for resource %s", a->client_id, a->resource_id);
		cJSON_AddStringToObject(reply, "ref", a->ref);
		fg_portal_send(g->portal, fg_portal_reply_event(a->ev), reply);
		cJSON_Delete(reply);
		free(a->ref);
		free(a);
	}
}

/* The data plane answered (a failure was logged by the state, and is confirmed all the
 * same, as before: the control plane holds the authorization and pushes it again). */
static void authorized(void *ctx, int status)
{
	struct fg_gw_auth *a = ctx;

	(void)status;
	a->done = true;
	confirm_ready(a->g);
}

/* fg_cp_authorize refused a (out of memory): no confirmation, as before. */
static void unlink_failed(struct fg_gateway *g, struct fg_gw_auth *a)
{
	struct fg_gw_auth **pp = &g->auth_head, *prev = NULL;

	while (*pp && *pp != a) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp)
		*pp = a->next;
	if (g->auth_tail == a)
		g->auth_tail = prev;
	free(a->ref);
	free(a);
	confirm_ready(g);
}

static void on_authorization(struct fg_gateway *g, enum fg_portal_event ev, const cJSON *payload)
{
	struct fg_portal_authorization *m = calloc(1, sizeof(*m));
	struct fg_cp_client c;
	struct fg_cp_resource r;
	char err[FG_PORTAL_ERR_LEN];

	if (!m)
		return;
	if (fg_portal_authorization_parse(payload, m, err, sizeof(err)) < 0) {
		g->malformed++;
		fg_warn(TAG, "malformed %s ignored: %s", fg_portal_event_name(ev), err);
		free(m);
		return;
	}
	if (g->conn && !fg_conn_can_confirm(g->conn)) {
		/* The Rust gateway's NoTurnServers: no relay allocation, so no connection could
		 * be offered a relayed path; `no_relays` went (or goes on the rejoin), the portal
		 * answers with relays and the client asks again. */
		fg_warn(TAG, "%s for client %s, resource %s not confirmed: no relay allocation yet",
			fg_portal_event_name(ev), m->client.id, m->resource.id);
		fg_portal_authorization_free(m);
		free(m);
		return;
	}
	if (m->resource.n_bad_filters)
		fg_warn(TAG, "resource %s: %u invalid filter(s) skipped", m->resource.id, m->resource.n_bad_filters);
	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", m->client.id);
	memcpy(c.public_key, m->client.public_key, 32);
	memcpy(c.psk, m->client.psk, 32);
	c.has_psk = true;
	c.ipv4 = m->client.ipv4;
	c.ipv6 = m->client.ipv6;
	snprintf(c.version, sizeof(c.version), "%s", m->client.version);
	bool have_r = to_cp_resource(&m->resource, m->expires_at, &r);
	struct fg_gw_auth *a = have_r ? calloc(1, sizeof(*a)) : NULL;
	int rc = -ENOMEM;
	if (a && (a->ref = strdup(m->ref))) {
		a->g = g;
		a->ev = ev;
		snprintf(a->client_id, sizeof(a->client_id), "%s", m->client.id);
		snprintf(a->resource_id, sizeof(a->resource_id), "%s", m->resource.id);
		/* Queued first: done may run inside fg_cp_authorize. */
		if (g->auth_tail)
			g->auth_tail->next = a;
		else
			g->auth_head = a;
		g->auth_tail = a;
		rc = fg_cp_authorize(g->state, &c, &r, authorized, a);
	}
	if (rc == 0 && g->flows)
		fg_flowlog_authorize(g->flows, m->client.id, m->client.public_key, m->resource.id, m->flow_logs_token);
	if (rc == 0 && g->conn)
		fg_conn_authorize(g->conn, m->client.id, m->client.public_key, m->gateway_ice.username,
				  m->gateway_ice.password, m->client_ice.username, m->client_ice.password);
	sodium_memzero(&c, sizeof(c));
	free(r.filters);
	if (rc < 0) {
		fg_warn(TAG, "authorization of client %s for resource %s failed: %s", m->client.id, m->resource.id,
			strerror(-rc));
		if (a && a->ref)
			unlink_failed(g, a);
		else if (a)
			free(a);
	}
	fg_portal_authorization_free(m);
	free(m);
}

static void on_reject(struct fg_gateway *g, const cJSON *payload)
{
	struct fg_portal_reject_access m;
	char err[FG_PORTAL_ERR_LEN];

	if (fg_portal_reject_access_parse(payload, &m, err, sizeof(err)) < 0) {
		g->malformed++;
		fg_warn(TAG, "malformed reject_access ignored: %s", err);
		return;
	}
	if (fg_cp_reject(g->state, m.client_id, m.resource_id) == 0) {
		fg_info(TAG, "access of client %s to resource %s revoked", m.client_id, m.resource_id);
		if (g->conn && !fg_cp_find(g->state, m.client_id))
			fg_conn_client_gone(g->conn, m.client_id);
	} else
		fg_debug(TAG, "reject_access for unknown client %s / resource %s", m.client_id, m.resource_id);
}

static void on_resource_updated(struct fg_gateway *g, const cJSON *payload)
{
	struct fg_portal_resource *m = calloc(1, sizeof(*m));
	struct fg_cp_resource r;
	char err[FG_PORTAL_ERR_LEN];

	if (!m)
		return;
	if (fg_portal_resource_parse(payload, m, err, sizeof(err)) < 0) {
		g->malformed++;
		fg_warn(TAG, "malformed resource_updated ignored: %s", err);
	} else if (to_cp_resource(m, 0, &r)) {
		fg_cp_resource_updated(g->state, &r);
		free(r.filters);
	}
	fg_portal_resource_free(m);
	free(m);
}

static void on_relays_presence(struct fg_gateway *g, const cJSON *payload)
{
	struct fg_portal_relays_presence *m = calloc(1, sizeof(*m));
	char err[FG_PORTAL_ERR_LEN];

	if (!m)
		return;
	if (fg_portal_relays_presence_parse(payload, m, err, sizeof(err)) < 0) {
		g->malformed++;
		fg_warn(TAG, "malformed relays_presence ignored: %s", err);
		free(m);
		return;
	}
	const char *ids[FG_PORTAL_MAX_IDS];

	for (unsigned i = 0; i < m->n_disconnected; i++)
		ids[i] = m->disconnected_ids[i];
	relays_to_conn(g, m->connected, m->n_connected, ids, m->n_disconnected, false);
	fg_portal_relays_presence_free(m);
	free(m);
}

void fg_gateway_on_message(struct fg_gateway *g, const struct fg_phx_in *m)
{
	enum fg_portal_event ev = fg_portal_event_parse(m->event);

	g->messages++;
	switch (ev) {
	case FG_PORTAL_EV_INIT:
		on_init(g, m->payload);
		break;
	case FG_PORTAL_EV_CREATE_AUTHORIZATION:
	case FG_PORTAL_EV_AUTHORIZE_FLOW:
		on_authorization(g, ev, m->payload);
		break;
	case FG_PORTAL_EV_REJECT_ACCESS:
		on_reject(g, m->payload);
		break;
	case FG_PORTAL_EV_RESOURCE_UPDATED:
		on_resource_updated(g, m->payload);
		break;
	case FG_PORTAL_EV_ACCESS_AUTHORIZATION_EXPIRY_UPDATED: {
		struct fg_portal_expiry_updated e;
		char err[FG_PORTAL_ERR_LEN];

		/* Obsolete (#13717): accepted and ignored. */
		if (fg_portal_expiry_updated_parse(m->payload, &e, err, sizeof(err)) < 0)
			fg_debug(TAG, "malformed access_authorization_expiry_updated ignored: %s", err);
		g->ignored++;
		break;
	}
	case FG_PORTAL_EV_RELAYS_PRESENCE:
		on_relays_presence(g, m->payload);
		break;
	case FG_PORTAL_EV_ICE_CANDIDATES:
	case FG_PORTAL_EV_INVALIDATE_ICE_CANDIDATES: {
		struct fg_portal_ice_candidates *ic = calloc(1, sizeof(*ic));
		char err[FG_PORTAL_ERR_LEN];

		/* To the client's ICE agent (kept for a while when it has none yet).
		 * Malformed candidates were skipped one by one by the parser. */
		if (ic && fg_portal_ice_candidates_parse(m->payload, ic, err, sizeof(err)) == 0) {
			_Static_assert(FG_PORTAL_CANDIDATE_LEN == 256, "candidate length");
			fg_cp_candidates(g->state, ic->client_id, (const char (*)[256])ic->candidates, ic->n,
					 ev == FG_PORTAL_EV_INVALIDATE_ICE_CANDIDATES);
			if (g->conn)
				fg_conn_candidates(g->conn, ic->client_id, (const char (*)[256])ic->candidates, ic->n,
						   ev == FG_PORTAL_EV_INVALIDATE_ICE_CANDIDATES);
			if (ic->n_skipped)
				fg_debug(TAG, "%s: %u malformed candidate(s) skipped", m->event, ic->n_skipped);
		} else if (ic) {
			g->malformed++;
			fg_warn(TAG, "malformed %s ignored: %s", m->event, err);
		}
		free(ic);
		break;
	}
	case FG_PORTAL_EV_UNKNOWN:
	default:
		g->ignored++;
		fg_debug(TAG, "unknown portal event '%s' ignored", m->event);
		break;
	}
}

void fg_gateway_on_joined(struct fg_gateway *g)
{
	cJSON *caps = cJSON_CreateObject();

	/* ICE stays on: fastgate does not implement the ICE-less path agent. */
	cJSON_AddBoolToObject(caps, "iceless", false);
	fg_portal_send(g->portal, "set_snownet_capabilities", caps);
	cJSON_Delete(caps);
	if (g->conn)
		fg_conn_portal_up(g->conn);
}

bool fg_gateway_signal(void *ctx, const char *event, const char *client_id, const char *const *lines,
		       unsigned n)
{
	struct fg_gateway *g = ctx;
	cJSON *payload;
	int r;

	if (!g->portal || fg_portal_state(g->portal) != FG_PORTAL_CONNECTED)
		return false;
	payload = client_id ? fg_portal_broadcast_candidates(&client_id, 1, lines, n) : fg_portal_no_relays();
	if (!payload)
		return false;
	r = fg_portal_send(g->portal, event, payload);
	cJSON_Delete(payload);
	return r == 0;
}
