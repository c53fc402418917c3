// SPDX-License-Identifier: MIT
/*
 * One ICE agent per authorized client (see conn.h): created from the authorization's
 * credentials, given the local candidates the data plane's uplink and the relays provide,
 * fed the client's candidates, its datagrams and its timers; what it signals goes to the
 * portal (held while the portal is away), what it nominates becomes the client's WireGuard
 * path in the data plane. Control plane thread only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sodium.h>

#include "conn_priv.h"
#include "dpclient.h"
#include "log.h"
#include "state.h"

static const char *const TAG = "fastgate.ice";

struct fg_conn_client *fg_conn_client_find(struct fg_conn *c, const char *id)
{
	for (unsigned i = 0; id && i < FG_CONN_MAX_CLIENTS; i++)
		if (c->clients[i].used && strcmp(c->clients[i].id, id) == 0)
			return &c->clients[i];
	return NULL;
}

static struct fg_conn_client *client_get(struct fg_conn *c, const char *id)
{
	struct fg_conn_client *cl = fg_conn_client_find(c, id);

	for (unsigned i = 0; !cl && i < FG_CONN_MAX_CLIENTS; i++)
		if (!c->clients[i].used) {
			cl = &c->clients[i];
			memset(cl, 0, sizeof(*cl));
			cl->remote = calloc(FG_ICE_MAX_REMOTE, sizeof(*cl->remote));
			if (!cl->remote)
				return NULL;
			cl->used = true;
			cl->conn = c;
			cl->created_ns = fg_conn_now();
			snprintf(cl->id, sizeof(cl->id), "%s", id);
			c->nclients++;
		}
	return cl;
}

static void agent_drop(struct fg_conn_client *cl)
{
	fg_ice_agent_free(cl->agent);
	cl->agent = NULL;
	memset(cl->local, 0, sizeof(cl->local));
	cl->relay_id[0] = '\0';
	cl->nominated = false;
	cl->failed = false;
	cl->nheld = 0;
	cl->held_overflow = false;
}

static void path_done(void *ctx, int status, const void *msg)
{
	(void)ctx;
	(void)msg;
	if (status < 0)
		fg_debug(TAG, "PEER_PATH: %s", strerror(-status));
}

static void push_path(struct fg_conn *c, const struct fg_conn_client *cl, bool clear)
{
	struct fg_ctl_peer_path m;
	const struct fg_dpc_cb cb = { .done = path_done };

	if (!cl->has_key || !fg_dpc_connected(c->dpc))
		return;
	memset(&m, 0, sizeof(m));
	memcpy(m.public_key, cl->public_key, 32);
	if (!clear) {
		m.ep = cl->path_ep;
		m.channel = cl->path_channel;
	}
	if (fg_dpc_send(c->dpc, &m, FG_CTL_PEER_PATH, FG_DPC_TIMEOUT_MS, &cb) == 0)
		c->cnt.paths_set++;
}

void fg_conn_client_free(struct fg_conn *c, struct fg_conn_client *cl, const char *why)
{
	if (why && cl->agent)
		fg_info(TAG, "client %s: ICE agent removed (%s)", cl->id, why);
	if (cl->agent)
		c->cnt.agents_removed++;
	agent_drop(cl);
	free(cl->remote);
	memset(cl, 0, sizeof(*cl));
	c->nclients--;
}

/* ---- channels ------------------------------------------------------------------------------ */

/* A channel on the client's relay to a remote address, in the relay and the data plane. */
static void bind_channel(struct fg_conn *c, const struct fg_conn_client *cl, const struct fg_endpoint *peer)
{
	const struct fg_conn_relay *r = fg_conn_relay_find(c, cl->relay_id);
	int n;

	if (!r || !r->active.ip.family)
		return;
	if (!(peer->ip.family == AF_INET ? r->relayed4.ip.family : r->relayed6.ip.family))
		return;
	n = fg_relay_bind_channel(c->relays, cl->relay_id, peer, fg_conn_now());
	if (n < 0) {
		c->cnt.channel_bind_failed++;
		fg_debug(TAG, "client %s: no channel on relay %s: %s", cl->id, cl->relay_id, strerror(-n));
		return;
	}
	fg_conn_dp_channel(c, true, &r->active, peer, (uint16_t)n);
}

/* Rust binds a channel for every remote candidate but host ones. */
static void bind_remote_line(struct fg_conn *c, const struct fg_conn_client *cl, const char *line)
{
	struct fg_ice_cand cand;

	if (cl->relay_id[0] && fg_ice_cand_parse(line, &cand, NULL, 0) == 0 && cand.type != FG_ICE_HOST &&
	    cand.transport == FG_ICE_UDP)
		bind_channel(c, cl, &cand.addr);
}

/* ---- signalling ---------------------------------------------------------------------------- */

static void hold(struct fg_conn *c, struct fg_conn_client *cl, const char *line, bool invalidate)
{
	/* A candidate withdrawn before it was ever signalled: neither leaves. */
	for (unsigned i = 0; invalidate && i < cl->nheld; i++)
		if (!cl->held[i].invalidate && strcmp(cl->held[i].line, line) == 0) {
			memmove(&cl->held[i], &cl->held[i + 1], (cl->nheld - i - 1) * sizeof(cl->held[0]));
			cl->nheld--;
			return;
		}
	if (cl->nheld == FG_CONN_MAX_HELD) {
		cl->held_overflow = true;
		c->cnt.signals_dropped++;
		return;
	}
	c->cnt.signals_held++;
	cl->held[cl->nheld].invalidate = invalidate;
	snprintf(cl->held[cl->nheld].line, sizeof(cl->held[0].line), "%s", line);
	cl->nheld++;
}

static uint32_t line_priority(const char *line)
{
	struct fg_ice_cand cand;

	return fg_ice_cand_parse(line, &cand, NULL, 0) == 0 ? cand.priority : 0;
}

struct collect {
	const char *lines[FG_ICE_MAX_LOCAL];
	unsigned n;
};

static void collect_local(void *ctx, bool local, const char *line)
{
	struct collect *k = ctx;

	if (local && k->n < FG_ICE_MAX_LOCAL)
		k->lines[k->n++] = line;
}

static void sort_by_priority(const char **lines, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && line_priority(lines[j - 1]) < line_priority(lines[j]); j--) {
			const char *t = lines[j];

			lines[j] = lines[j - 1];
			lines[j - 1] = t;
		}
}

/* What is held leaves in two messages at most: withdrawals, then additions by priority. */
static void flush(struct fg_conn *c, struct fg_conn_client *cl)
{
	const char *adds[FG_CONN_MAX_HELD], *dels[FG_CONN_MAX_HELD];
	unsigned na = 0, nd = 0;

	if (!cl->agent || (!cl->nheld && !cl->held_overflow))
		return;
	if (cl->held_overflow) {
		struct collect k = { .n = 0 };

		fg_ice_foreach_candidate(cl->agent, collect_local, &k);
		sort_by_priority(k.lines, k.n);
		if (!c->ops.signal(c->ctx, "broadcast_ice_candidates", cl->id, k.lines, k.n))
			return;
		c->cnt.signals_sent++;
		cl->held_overflow = false;
		cl->nheld = 0;
		return;
	}
	for (unsigned i = 0; i < cl->nheld; i++)
		if (cl->held[i].invalidate)
			dels[nd++] = cl->held[i].line;
		else
			adds[na++] = cl->held[i].line;
	sort_by_priority(adds, na);
	if (nd && !c->ops.signal(c->ctx, "broadcast_invalidated_ice_candidates", cl->id, dels, nd))
		return;
	if (na && !c->ops.signal(c->ctx, "broadcast_ice_candidates", cl->id, adds, na)) {
		/* The withdrawals left: keep only the additions. */
		unsigned k = 0;

		for (unsigned i = 0; i < cl->nheld; i++)
			if (!cl->held[i].invalidate)
				cl->held[k++] = cl->held[i];
		cl->nheld = k;
		c->cnt.signals_sent += nd ? 1 : 0;
		return;
	}
	c->cnt.signals_sent += (nd ? 1 : 0) + (na ? 1 : 0);
	cl->nheld = 0;
}

/* ---- the agent's callbacks ------------------------------------------------------------------ */

static void ice_send(void *ctx, const struct fg_ice_path *path, const uint8_t *buf, size_t len)
{
	struct fg_conn_client *cl = ctx;
	struct fg_conn *c = cl->conn;
	uint8_t out[FG_CTL_MAX_PACKET];
	struct fg_endpoint to;
	int n;

	if (path->local_type != FG_ICE_RELAY) {
		fg_conn_send(c, &path->remote, 0, buf, len);
		return;
	}
	n = fg_relay_wrap(c->relays, path->relay_id, &path->remote, buf, len, out, sizeof(out), &to, fg_conn_now());
	if (n == -ENOTCONN) {
		/* A check to an address we have no channel for yet (peer-reflexive): bind one,
		 * snownet sends while the bind is in flight. */
		bind_channel(c, cl, &path->remote);
		n = fg_relay_wrap(c->relays, path->relay_id, &path->remote, buf, len, out, sizeof(out), &to,
				  fg_conn_now());
	}
	if (n > 0)
		fg_conn_send(c, &to, 0, out, (size_t)n);
	else
		c->cnt.packets_out_failed++;
}

static void describe(struct fg_conn_client *cl, const struct fg_ice_path *p)
{
	char l[64], r[64];

	fg_endpoint_format(&p->local, l, sizeof(l));
	fg_endpoint_format(&p->remote, r, sizeof(r));
	if (p->local_type == FG_ICE_RELAY)
		snprintf(cl->path_desc, sizeof(cl->path_desc), "relayed %s <-> %s %s via relay %s channel %#x", l,
			 fg_ice_cand_type_name(p->remote_type), r, p->relay_id, cl->path_channel);
	else
		snprintf(cl->path_desc, sizeof(cl->path_desc), "direct %s <-> %s %s", l,
			 fg_ice_cand_type_name(p->remote_type), r);
}

static void nominated(struct fg_conn *c, struct fg_conn_client *cl, const struct fg_ice_path *p)
{
	if (p->local_type == FG_ICE_RELAY) {
		const struct fg_conn_relay *r = fg_conn_relay_find(c, p->relay_id);
		int n = r ? fg_relay_bind_channel(c->relays, p->relay_id, &p->remote, fg_conn_now()) : -ENOENT;

		if (n < 0) {
			fg_warn(TAG, "client %s: nominated a relayed pair on relay %s without a channel: %s", cl->id,
				p->relay_id, strerror(-n));
			return;
		}
		fg_conn_dp_channel(c, true, &r->active, &p->remote, (uint16_t)n);
		cl->path_ep = r->active;
		cl->path_channel = (uint16_t)n;
	} else {
		cl->path_ep = p->remote;
		cl->path_channel = 0;
	}
	cl->nominated = true;
	describe(cl, p);
	fg_info(TAG, "client %s: ICE nominated %s", cl->id, cl->path_desc);
	push_path(c, cl, false);
}

static void ice_event(void *ctx, const struct fg_ice_event *ev)
{
	struct fg_conn_client *cl = ctx;
	struct fg_conn *c = cl->conn;

	switch (ev->type) {
	case FG_ICE_EV_CANDIDATE:
	case FG_ICE_EV_CANDIDATE_INVALIDATED:
		hold(c, cl, ev->line, ev->type == FG_ICE_EV_CANDIDATE_INVALIDATED);
		break;
	case FG_ICE_EV_NOMINATED:
		nominated(c, cl, &ev->path);
		break;
	case FG_ICE_EV_STATE:
		if (ev->state == FG_ICE_FAILED) {
			/* A client that never sent a candidate does not use ICE (a plain WireGuard
			 * peer, which the data plane serves by roaming): not a fault. */
			if (cl->nremote)
				fg_warn(TAG, "client %s: ICE failed (%s)", cl->id, ev->reason ? ev->reason : "");
			else
				fg_info(TAG, "client %s: ICE agent gave up: %s", cl->id,
					ev->reason ? ev->reason : "");
			cl->failed = true;
		} else {
			fg_info(TAG, "client %s: ICE %s%s%s", cl->id, fg_ice_state_name(ev->state),
				ev->reason && *ev->reason ? ": " : "", ev->reason ? ev->reason : "");
		}
		break;
	case FG_ICE_EV_REMOTE_LEARNED:
		bind_channel(c, cl, &ev->path.remote);
		break;
	}
}

static const struct fg_ice_ops ice_ops = {
	.send = ice_send,
	.event = ice_event,
};

/* ---- local candidates ----------------------------------------------------------------------- */

/* The relay for a client's relayed candidates: among the allocated ones, at random within
 * 1.5x the best round-trip time (snownet samples among those with a measured RTT). */
struct pick {
	struct fg_conn *c;
	const char *ids[FG_RELAY_MAX];
	uint64_t rtt[FG_RELAY_MAX];
	unsigned n;
};

static void pick_view(void *ctx, const struct fg_relay_view *v)
{
	struct pick *p = ctx;
	const struct fg_conn_relay *r = fg_conn_relay_find(p->c, v->id);

	if (v->state == FG_RELAY_ALLOCATED && r && (r->relayed4.ip.family || r->relayed6.ip.family) &&
	    p->n < FG_RELAY_MAX) {
		p->ids[p->n] = r->id;
		p->rtt[p->n++] = v->rtt_ns ? v->rtt_ns : UINT64_MAX / 2;
	}
}

static void choose_relay(struct fg_conn *c, struct fg_conn_client *cl)
{
	struct pick p = { .c = c, .n = 0 };
	uint64_t best = UINT64_MAX;
	unsigned k = 0;
	const char *within[FG_RELAY_MAX];

	fg_relay_foreach(c->relays, fg_conn_now(), pick_view, &p);
	for (unsigned i = 0; i < p.n; i++)
		if (p.rtt[i] < best)
			best = p.rtt[i];
	for (unsigned i = 0; i < p.n; i++)
		if (p.rtt[i] <= best + best / 2)
			within[k++] = p.ids[i];
	cl->relay_id[0] = '\0';
	if (k)
		snprintf(cl->relay_id, sizeof(cl->relay_id), "%s", within[randombytes_uniform(k)]);
}

struct want {
	uint8_t type;
	struct fg_endpoint addr, base;
	const char *relay_id;
};

static bool listed(const struct want *w, unsigned n, const struct fg_endpoint *addr)
{
	for (unsigned i = 0; i < n; i++)
		if (fg_endpoint_equal(&w[i].addr, addr))
			return true;
	return false;
}

static unsigned wanted(struct fg_conn *c, struct fg_conn_client *cl, struct want *w)
{
	const struct fg_conn_relay *mine;
	unsigned n = 0;

	if (c->host4.ip.family)
		w[n++] = (struct want){ FG_ICE_HOST, c->host4, c->host4, NULL };
	if (c->host6.ip.family)
		w[n++] = (struct want){ FG_ICE_HOST, c->host6, c->host6, NULL };
	/* Every relay's server-reflexive address, each once (two slots kept for relayed). */
	for (unsigned i = 0; i < FG_RELAY_MAX && n + 2 <= FG_CONN_MAX_LOCAL - 2; i++) {
		const struct fg_conn_relay *r = &c->rcache[i];

		if (r->used && r->srflx4.ip.family && c->host4.ip.family && !listed(w, n, &r->srflx4))
			w[n++] = (struct want){ FG_ICE_SRFLX, r->srflx4, c->host4, r->id };
		if (r->used && r->srflx6.ip.family && c->host6.ip.family && !listed(w, n, &r->srflx6))
			w[n++] = (struct want){ FG_ICE_SRFLX, r->srflx6, c->host6, r->id };
	}
	mine = fg_conn_relay_find(c, cl->relay_id);
	if (!mine || (!mine->relayed4.ip.family && !mine->relayed6.ip.family)) {
		choose_relay(c, cl);
		mine = fg_conn_relay_find(c, cl->relay_id);
		if (mine)
			for (unsigned i = 0; i < cl->nremote; i++)
				bind_remote_line(c, cl, cl->remote[i]);
	}
	if (mine && mine->relayed4.ip.family)
		w[n++] = (struct want){ FG_ICE_RELAY, mine->relayed4, mine->relayed4, mine->id };
	if (mine && mine->relayed6.ip.family)
		w[n++] = (struct want){ FG_ICE_RELAY, mine->relayed6, mine->relayed6, mine->id };
	return n;
}

static bool same_local(const struct fg_conn_local *l, const struct want *w)
{
	return l->type == w->type && fg_endpoint_equal(&l->addr, &w->addr) &&
	       (w->type != FG_ICE_RELAY || strcmp(l->relay_id, w->relay_id) == 0);
}

static void sync_client(struct fg_conn *c, struct fg_conn_client *cl)
{
	struct want w[FG_CONN_MAX_LOCAL];
	unsigned n;
	uint64_t now = fg_conn_now();

	if (!cl->agent || cl->failed)
		return;
	n = wanted(c, cl, w);
	/* Gone first (a relay's new address replaces its old one), then the new ones. */
	for (unsigned j = 0; j < FG_CONN_MAX_LOCAL; j++) {
		struct fg_conn_local *l = &cl->local[j];
		bool keep = false;

		for (unsigned i = 0; l->used && i < n && !keep; i++)
			keep = same_local(l, &w[i]);
		if (l->used && !keep) {
			if (l->id != UINT32_MAX)
				fg_ice_remove_local_candidate(cl->agent, l->id, now);
			memset(l, 0, sizeof(*l));
		}
	}
	for (unsigned i = 0; i < n; i++) {
		struct fg_conn_local *slot = NULL;
		bool have = false;
		int id;

		for (unsigned j = 0; j < FG_CONN_MAX_LOCAL && !have; j++)
			have = cl->local[j].used && same_local(&cl->local[j], &w[i]);
		for (unsigned j = 0; j < FG_CONN_MAX_LOCAL && !slot; j++)
			if (!cl->local[j].used)
				slot = &cl->local[j];
		if (have || !slot)
			continue;
		id = fg_ice_add_local_candidate(cl->agent, (enum fg_ice_cand_type)w[i].type, &w[i].addr, &w[i].base,
						w[i].type == FG_ICE_RELAY ? w[i].relay_id : NULL, now);
		if (id < 0 && id != -EEXIST) {
			fg_debug(TAG, "client %s: local candidate refused: %s", cl->id, strerror(-id));
			continue;
		}
		slot->used = true;
		slot->type = w[i].type;
		slot->addr = w[i].addr;
		slot->id = id >= 0 ? (uint32_t)id : UINT32_MAX;   /* redundant: not signalled */
		snprintf(slot->relay_id, sizeof(slot->relay_id), "%s", w[i].relay_id ? w[i].relay_id : "");
	}
}

void fg_conn_agents_sync(struct fg_conn *c)
{
	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++)
		if (c->clients[i].used && c->clients[i].agent)
			sync_client(c, &c->clients[i]);
}

/* ---- the portal's side ---------------------------------------------------------------------- */

static void creds_hash(const char *a, const char *b, const char *d, const char *e, uint8_t out[32])
{
	crypto_generichash_state st;
	const char *v[4] = { a, b, d, e };

	crypto_generichash_init(&st, NULL, 0, 32);
	for (int i = 0; i < 4; i++)
		crypto_generichash_update(&st, (const unsigned char *)v[i], strlen(v[i]) + 1);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));   /* it took the passwords in */
}

int fg_conn_authorize(struct fg_conn *c, const char *client_id, const uint8_t public_key[32],
		      const char *local_ufrag, const char *local_pwd, const char *remote_ufrag,
		      const char *remote_pwd)
{
	struct fg_conn_client *cl = client_get(c, client_id);
	uint8_t h[32];
	uint64_t now = fg_conn_now();

	if (!cl)
		return -ENOMEM;
	creds_hash(local_ufrag, local_pwd, remote_ufrag, remote_pwd, h);
	if (cl->agent && !cl->failed && sodium_memcmp(h, cl->creds_hash, 32) == 0 &&
	    (!cl->has_key || memcmp(cl->public_key, public_key, 32) == 0)) {
		fg_ice_traffic(cl->agent, now);
		fg_conn_settle(c);
		return 0;
	}
	if (cl->agent) {
		fg_info(TAG, "client %s: new ICE credentials or key: its agent starts again", client_id);
		c->cnt.agents_replaced++;
		agent_drop(cl);
	}
	memcpy(cl->public_key, public_key, 32);
	cl->has_key = true;
	cl->agent = fg_ice_agent_new(local_ufrag, local_pwd, remote_ufrag, remote_pwd, &ice_ops, cl, now);
	if (!cl->agent) {
		int e = errno;

		fg_warn(TAG, "client %s: ICE agent not created: %s", client_id,
			e == EINVAL ? "ICE credentials of the wrong form" : strerror(e));
		return e == EINVAL ? -EINVAL : -ENOMEM;
	}
	memcpy(cl->creds_hash, h, 32);
	snprintf(cl->ufrag, sizeof(cl->ufrag), "%s", local_ufrag);
	c->cnt.agents_created++;
	fg_info(TAG, "client %s: ICE agent created (%u candidate(s) already known)", client_id, cl->nremote);
	sync_client(c, cl);
	for (unsigned i = 0; i < cl->nremote; i++) {
		char err[128];
		int r = fg_ice_add_remote_candidate(cl->agent, cl->remote[i], now, err, sizeof(err));

		if (r < 0 && r != -EPROTONOSUPPORT)
			fg_debug(TAG, "client %s: stored candidate refused: %s", client_id, err);
		bind_remote_line(c, cl, cl->remote[i]);
	}
	fg_conn_settle(c);
	return 0;
}

void fg_conn_candidates(struct fg_conn *c, const char *client_id, const char (*lines)[256], unsigned n,
			bool invalidate)
{
	struct fg_conn_client *cl = invalidate ? fg_conn_client_find(c, client_id) : client_get(c, client_id);
	uint64_t now = fg_conn_now();

	if (!cl)
		return;
	for (unsigned i = 0; i < n; i++) {
		unsigned j;
		char err[128];

		for (j = 0; j < cl->nremote && strcmp(cl->remote[j], lines[i]) != 0; j++)
			;
		if (invalidate) {
			/* The last one moves into its slot (memcpy onto itself is undefined). */
			if (j < cl->nremote && j != --cl->nremote)
				memcpy(cl->remote[j], cl->remote[cl->nremote], sizeof(cl->remote[0]));
			if (cl->agent)
				fg_ice_invalidate_remote_candidate(cl->agent, lines[i], now);
			continue;
		}
		if (j == cl->nremote && cl->nremote < FG_ICE_MAX_REMOTE)
			snprintf(cl->remote[cl->nremote++], sizeof(cl->remote[0]), "%s", lines[i]);
		if (!cl->agent)
			continue;
		int r = fg_ice_add_remote_candidate(cl->agent, lines[i], now, err, sizeof(err));

		if (r < 0 && r != -EPROTONOSUPPORT)
			fg_debug(TAG, "client %s: candidate refused: %s", client_id, err);
		else
			bind_remote_line(c, cl, lines[i]);
	}
	fg_conn_settle(c);
}

void fg_conn_client_gone(struct fg_conn *c, const char *client_id)
{
	struct fg_conn_client *cl = fg_conn_client_find(c, client_id);

	if (cl)
		fg_conn_client_free(c, cl, "client removed");
	fg_conn_settle(c);
}

void fg_conn_portal_up(struct fg_conn *c)
{
	fg_conn_settle(c);
}

void fg_conn_agents_push_paths(struct fg_conn *c)
{
	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++)
		if (c->clients[i].used && c->clients[i].agent && c->clients[i].nominated)
			push_path(c, &c->clients[i], false);
}

/* ---- datagrams and timers ------------------------------------------------------------------- */

bool fg_conn_agents_input(struct fg_conn *c, const struct fg_endpoint *local, const struct fg_endpoint *from,
			  const uint8_t *buf, size_t len, uint64_t now)
{
	char ufrag[FG_ICE_UFRAG_MAX + 1];
	int r = fg_ice_route_username(buf, len, ufrag, sizeof(ufrag));

	if (r == -EBADMSG)
		return false;
	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++) {
		struct fg_conn_client *cl = &c->clients[i];
		int id;

		if (!cl->used || !cl->agent || (r == 0 && strcmp(cl->ufrag, ufrag) != 0))
			continue;
		id = fg_ice_local_candidate_id(cl->agent, local);
		if (id >= 0 && fg_ice_input(cl->agent, (uint32_t)id, from, buf, len, now)) {
			if (r == 0)
				c->cnt.ice_requests++;
			else
				c->cnt.ice_responses++;
			return true;
		}
		if (r == 0)
			break;   /* the one agent the USERNAME names */
	}
	if (r == 0)
		c->cnt.unrouted_requests++;
	return false;
}

void fg_conn_agents_tick(struct fg_conn *c, uint64_t now)
{
	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++) {
		struct fg_conn_client *cl = &c->clients[i];

		if (cl->used && cl->agent && !cl->failed && fg_ice_next_timeout(cl->agent) <= now)
			fg_ice_tick(cl->agent, now);
	}
}

uint64_t fg_conn_agents_next(const struct fg_conn *c)
{
	uint64_t next = UINT64_MAX;

	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++) {
		const struct fg_conn_client *cl = &c->clients[i];
		uint64_t t;

		if (!cl->used || !cl->agent || cl->failed)
			continue;
		t = fg_ice_next_timeout(cl->agent);
		if (t < next)
			next = t;
	}
	return next;
}

void fg_conn_agents_sweep(struct fg_conn *c, uint64_t now)
{
	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++) {
		struct fg_conn_client *cl = &c->clients[i];

		if (!cl->used)
			continue;
		if (cl->agent && !fg_cp_find(c->state, cl->id)) {
			fg_conn_client_free(c, cl, "client no longer authorized");
		} else if (!cl->agent && now - cl->created_ns > FG_CONN_MS(FG_CONN_EARLY_CANDIDATES_MS)) {
			fg_debug(TAG, "client %s: candidates without an authorization dropped", cl->id);
			c->cnt.early_candidates_expired++;
			fg_conn_client_free(c, cl, NULL);
		}
	}
}

void fg_conn_agents_after(struct fg_conn *c)
{
	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++) {
		struct fg_conn_client *cl = &c->clients[i];

		if (!cl->used || !cl->agent)
			continue;
		if (cl->failed) {
			/* The path is dead: WireGuard roaming may still find the client. The
			 * candidates it knows stay for a new authorization. */
			if (cl->nominated)
				push_path(c, cl, true);
			c->cnt.agents_failed++;
			agent_drop(cl);
			cl->created_ns = fg_conn_now();
			continue;
		}
		flush(c, cl);
	}
}
