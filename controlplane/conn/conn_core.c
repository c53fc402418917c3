// SPDX-License-Identifier: MIT
/*
 * Connectivity's core (see conn.h): life cycle and the one timer, the relay set and what
 * its events mean for the data plane, the datagrams the data plane punts, and the
 * `no_relays` rule. Control plane thread only.
 */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn_priv.h"
#include "dpclient.h"
#include "log.h"
#include "stun.h"

static const char *const TAG = "fastgate.conn";

uint64_t fg_conn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct fg_conn_relay *fg_conn_relay_find(struct fg_conn *c, const char *id)
{
	for (unsigned i = 0; id && i < FG_RELAY_MAX; i++)
		if (c->rcache[i].used && strcmp(c->rcache[i].id, id) == 0)
			return &c->rcache[i];
	return NULL;
}

static struct fg_conn_relay *relay_slot(struct fg_conn *c, const char *id)
{
	struct fg_conn_relay *r = fg_conn_relay_find(c, id);

	for (unsigned i = 0; !r && i < FG_RELAY_MAX; i++)
		if (!c->rcache[i].used) {
			r = &c->rcache[i];
			memset(r, 0, sizeof(*r));
			r->used = true;
			snprintf(r->id, sizeof(r->id), "%s", id);
		}
	return r;
}

/* ---- the data plane ------------------------------------------------------------------------ */

void fg_conn_send(struct fg_conn *c, const struct fg_endpoint *to, uint16_t channel, const uint8_t *buf,
		  size_t len)
{
	if (fg_dpc_connected(c->dpc) && fg_dpc_packet_out(c->dpc, to, channel, buf, len, NULL) == 0)
		c->cnt.packets_out++;
	else
		c->cnt.packets_out_failed++;
}

static void channel_done(void *ctx, int status, const void *msg)
{
	struct fg_conn *c = ctx;

	(void)msg;
	if (status < 0 && status != -ENOENT) {
		c->cnt.channel_bind_failed++;
		fg_debug(TAG, "data plane channel request failed: %s", strerror(-status));
	}
}

void fg_conn_dp_channel(struct fg_conn *c, bool bind, const struct fg_endpoint *relay,
			const struct fg_endpoint *peer, uint16_t channel)
{
	struct fg_ctl_channel m;
	const struct fg_dpc_cb cb = { .done = channel_done, .ctx = c };

	if (!fg_dpc_connected(c->dpc) || !relay->ip.family)
		return;
	memset(&m, 0, sizeof(m));
	m.relay = *relay;
	if (peer)
		m.peer = *peer;
	m.channel = channel;
	if (fg_dpc_send(c->dpc, &m, bind ? FG_CTL_CHANNEL_BIND : FG_CTL_CHANNEL_UNBIND, FG_DPC_TIMEOUT_MS, &cb) == 0) {
		if (bind)
			c->cnt.channel_binds++;
		else
			c->cnt.channel_unbinds++;
	}
}

/* ---- the relay set ------------------------------------------------------------------------- */

static void relay_send(void *ctx, const struct fg_endpoint *to, const uint8_t *buf, size_t len)
{
	fg_conn_send(ctx, to, 0, buf, len);
}

static void relay_event(void *ctx, const struct fg_relay_event *ev)
{
	struct fg_conn *c = ctx;
	struct fg_conn_relay *r = ev->relay_id ? fg_conn_relay_find(c, ev->relay_id) : NULL;

	switch (ev->type) {
	case FG_RELAY_EV_CANDIDATES:
		if ((r = relay_slot(c, ev->relay_id))) {
			r->srflx4 = ev->srflx4;
			r->srflx6 = ev->srflx6;
			r->relayed4 = ev->relayed4;
			r->relayed6 = ev->relayed6;
		}
		c->relays_dirty = true;
		break;
	case FG_RELAY_EV_ALLOCATION_LOST:
		if (r) {
			memset(&r->relayed4, 0, sizeof(r->relayed4));
			memset(&r->relayed6, 0, sizeof(r->relayed6));
			fg_conn_dp_channel(c, false, &r->active, NULL, 0);
		}
		c->relays_dirty = true;
		break;
	case FG_RELAY_EV_CHANNEL_BOUND:
		if (r)
			fg_conn_dp_channel(c, true, &r->active, &ev->peer, ev->channel);
		break;
	case FG_RELAY_EV_CHANNEL_UNBOUND:
		if (r)
			fg_conn_dp_channel(c, false, &r->active, &ev->peer, ev->channel);
		break;
	case FG_RELAY_EV_REMOVED:
		if (r) {
			fg_conn_dp_channel(c, false, &r->active, NULL, 0);
			memset(r, 0, sizeof(*r));
		}
		c->relays_dirty = true;
		break;
	case FG_RELAY_EV_NO_RELAYS:
		if (!c->cfg.without_relays)
			c->no_relays_pending = true;
		break;
	case FG_RELAY_EV_RELAYS_BACK:
		fg_info(TAG, "a relay allocation is up: authorizations are confirmed again");
		c->no_relays_outage = false;
		c->no_relays_pending = false;
		break;
	}
}

static void active_of(void *ctx, const struct fg_relay_view *v)
{
	struct fg_conn *c = ctx;
	struct fg_conn_relay *r = fg_conn_relay_find(c, v->id);

	if (r)
		r->active = v->active;
}

static const struct fg_relay_ops relay_ops = {
	.send = relay_send,
	.event = relay_event,
};

/* ---- the timer ----------------------------------------------------------------------------- */

void fg_conn_rearm(struct fg_conn *c)
{
	uint64_t now = fg_conn_now(), next = c->next_sweep_ns, t;

	if (c->in_timer)
		return;
	t = fg_relay_next_timeout(c->relays);
	if (t < next)
		next = t;
	t = fg_conn_agents_next(c);
	if (t < next)
		next = t;
	if (c->no_relays_pending && c->no_relays_next_ns < next)
		next = c->no_relays_next_ns;
	c->ops.arm(c->ctx, next > now ? (next - now + 999) / 1000 : 1);
}

/*
 * `no_relays` (the Rust gateway's NoRelays / NoTurnServers): the portal answers with its
 * relays. Asked for when the last allocation goes, when an authorization is withheld, and
 * when a relay fails while no allocation is up (a relay the portal named again that is still
 * unreachable): so the portal is asked again while none works, at most every 5 s.
 */
static void no_relays(struct fg_conn *c)
{
	uint64_t now = fg_conn_now(), failed = fg_relay_counters(c->relays)->relays_failed;

	if (failed != c->relays_failed_seen) {
		c->relays_failed_seen = failed;
		if (!c->cfg.without_relays && !fg_relay_has_allocation(c->relays))
			c->no_relays_pending = true;
	}
	if (!c->no_relays_pending || now < c->no_relays_next_ns ||
	    !c->ops.signal(c->ctx, "no_relays", NULL, NULL, 0))
		return;
	if (!c->no_relays_outage)
		fg_warn(TAG, "no relay allocation: sent no_relays; authorizations wait for a relay");
	else
		fg_info(TAG, "still no relay allocation: sent no_relays again");
	c->no_relays_pending = false;
	c->no_relays_outage = true;
	c->no_relays_next_ns = now + FG_CONN_MS(FG_CONN_NO_RELAYS_MS);
	c->cnt.no_relays_sent++;
}

void fg_conn_settle(struct fg_conn *c)
{
	/* Each step may make more to do (an agent's candidates bind channels at the relay,
	 * whose events dirty the cache again): a few rounds settle it. */
	for (int round = 0; round < 4 && c->relays_dirty; round++) {
		c->relays_dirty = false;
		fg_relay_foreach(c->relays, fg_conn_now(), active_of, c);
		fg_conn_agents_sync(c);
	}
	fg_conn_agents_after(c);
	no_relays(c);
	fg_conn_rearm(c);
}

void fg_conn_timer(struct fg_conn *c)
{
	uint64_t now = fg_conn_now();

	c->in_timer = true;
	fg_relay_tick(c->relays, now);
	fg_conn_agents_tick(c, now);
	if (now >= c->next_sweep_ns) {
		fg_conn_agents_sweep(c, now);
		c->next_sweep_ns = now + FG_CONN_MS(FG_CONN_SWEEP_MS);
	}
	c->in_timer = false;
	fg_conn_settle(c);
}

/* ---- the portal's relays and authorizations ---------------------------------------------- */

void fg_conn_relays(struct fg_conn *c, const struct fg_relay_info *add, size_t nadd,
		    const char *const *remove_ids, size_t nremove, bool is_init)
{
	uint64_t now = fg_conn_now();
	int r;

	if (nremove)
		fg_relay_remove(c->relays, remove_ids, nremove, now);
	r = fg_relay_update(c->relays, add, nadd, is_init, now);
	if (r == -EINVAL)
		fg_warn(TAG, "%s: a relay without id, address or credentials was skipped",
			is_init ? "init" : "relays_presence");
	else if (r == -ENOSPC)
		fg_warn(TAG, "%s: more than %d relays; the rest were skipped", is_init ? "init" : "relays_presence",
			FG_RELAY_MAX);
	c->relays_dirty = true;
	fg_conn_settle(c);
}

bool fg_conn_can_confirm(struct fg_conn *c)
{
	if (c->cfg.without_relays || fg_relay_has_allocation(c->relays))
		return true;
	c->cnt.confirmations_withheld++;
	c->no_relays_pending = true;
	fg_conn_settle(c);
	return false;
}

/* ---- punted datagrams ---------------------------------------------------------------------- */

/* The relayed address of relay r for a peer's family, or NULL. */
static const struct fg_endpoint *relayed_for(const struct fg_conn_relay *r, const struct fg_endpoint *peer)
{
	const struct fg_endpoint *e = peer->ip.family == AF_INET ? &r->relayed4 : &r->relayed6;

	return e->ip.family ? e : NULL;
}

static const struct fg_conn_relay *relay_at(const struct fg_conn *c, const struct fg_endpoint *addr)
{
	for (unsigned i = 0; i < FG_RELAY_MAX; i++)
		if (c->rcache[i].used && fg_endpoint_equal(&c->rcache[i].active, addr))
			return &c->rcache[i];
	return NULL;
}

/*
 * A Data indication from a relay (RFC 8656 §11.6): a peer with a permission (a channel to
 * its IP) but no channel to its exact address, typically a client behind a NAT that gave
 * its check to our relayed address a new port because our own check reached the NAT first.
 * snownet drops these; here the STUN inside goes to the agents as from that peer, which
 * learn it as peer-reflexive and bind a channel to it. Anything else in one is dropped.
 * True when buf was a Data indication from a relay (handled or counted).
 */
static bool data_indication(struct fg_conn *c, const struct fg_ctl_packet_in *m, uint64_t now)
{
	const struct fg_conn_relay *r = relay_at(c, &m->src);
	const struct fg_endpoint *local;
	struct fg_stun_msg msg;
	struct fg_endpoint peer;
	const uint8_t *data;
	size_t dlen;
	int rc;

	if (!r || m->len < 20 || m->payload[0] > 3)
		return false;
	rc = fg_stun_parse(m->payload, m->len, &msg, NULL, 0);
	if ((rc < 0 && rc != -ENOTSUP) || msg.method != FG_STUN_DATA || msg.cls != FG_STUN_INDICATION)
		return false;
	c->cnt.data_indications++;
	if (fg_stun_get_addr(&msg, FG_STUN_ATTR_XOR_PEER_ADDRESS, 0, &peer) ||
	    fg_stun_get_bytes(&msg, FG_STUN_ATTR_DATA, &data, &dlen) || !(local = relayed_for(r, &peer)) ||
	    !fg_conn_agents_input(c, local, &peer, data, dlen, now))
		c->cnt.unmatched++;
	return true;
}

void fg_conn_on_packet(void *arg, const struct fg_ctl_packet_in *m)
{
	struct fg_conn *c = arg;
	uint64_t now = fg_conn_now();
	const struct fg_endpoint *local = NULL, *from = &m->src;

	c->cnt.packets_in++;
	if (m->channel) {
		/* Inside a relay channel: the local candidate is our relayed address there. */
		const struct fg_conn_relay *r = relay_at(c, &m->src);

		local = r ? relayed_for(r, &m->peer) : NULL;
		from = &m->peer;
	} else if (data_indication(c, m, now)) {
		fg_conn_settle(c);
		return;
	} else {
		int r = fg_relay_input(c->relays, &m->src, m->payload, m->len, now);

		if (r == 0) {
			c->cnt.relay_packets++;
			fg_conn_settle(c);
			return;
		}
		local = m->src.ip.family == c->host4.ip.family ? &c->host4 :
			m->src.ip.family == c->host6.ip.family ? &c->host6 : NULL;
	}
	if (!local || !local->ip.family || !fg_conn_agents_input(c, local, from, m->payload, m->len, now))
		c->cnt.unmatched++;
	fg_conn_settle(c);
}

/* ---- the data plane's life ---------------------------------------------------------------- */

static void rebind(void *ctx, const struct fg_relay_channel_view *ch)
{
	void **a = ctx;
	struct fg_conn *c = a[0];
	const struct fg_conn_relay *r = a[1];

	if (ch->state != FG_RELAY_CHAN_EXPIRED)
		fg_conn_dp_channel(c, true, &r->active, &ch->peer, ch->number);
}

void fg_conn_dp_up(struct fg_conn *c)
{
	const struct fg_ctl_hello_reply *h = &c->dpc->hello;

	memset(&c->host4, 0, sizeof(c->host4));
	memset(&c->host6, 0, sizeof(c->host6));
	if (h->uplink4.family) {
		c->host4.ip = h->uplink4;
		c->host4.port = h->listen_port;
	}
	if (h->uplink6.family) {
		c->host6.ip = h->uplink6;
		c->host6.port = h->listen_port;
	}
	fg_relay_foreach(c->relays, fg_conn_now(), active_of, c);
	for (unsigned i = 0; i < FG_RELAY_MAX; i++) {
		void *a[2] = { c, &c->rcache[i] };

		if (c->rcache[i].used && c->rcache[i].active.ip.family)
			fg_relay_foreach_channel(c->relays, c->rcache[i].id, rebind, a);
	}
	c->relays_dirty = true;
	fg_conn_settle(c);
	fg_conn_agents_push_paths(c);
}

void fg_conn_dp_event(struct fg_conn *c, const struct fg_ctl_event *ev)
{
	if (ev->kind != FG_CTL_EV_HANDSHAKE)
		return;
	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++) {
		struct fg_conn_client *cl = &c->clients[i];

		if (cl->used && cl->agent && cl->has_key && memcmp(cl->public_key, ev->public_key, 32) == 0)
			fg_ice_traffic(cl->agent, fg_conn_now());
	}
	fg_conn_settle(c);
}

struct fg_conn *fg_conn_new(struct fg_dpc *dpc, struct fg_cp_state *state, const struct fg_conn_ops *ops,
			    void *ctx, const struct fg_conn_config *cfg)
{
	struct fg_conn *c;

	if (!ops || !ops->signal || !ops->arm) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->clients = calloc(FG_CONN_MAX_CLIENTS, sizeof(*c->clients));
	c->relays = fg_relay_set_new(&relay_ops, c, NULL);
	if (!c->clients || !c->relays) {
		fg_relay_set_free(c->relays);
		free(c->clients);
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->dpc = dpc;
	c->state = state;
	c->ops = *ops;
	c->ctx = ctx;
	if (cfg)
		c->cfg = *cfg;
	c->next_sweep_ns = fg_conn_now() + FG_CONN_MS(FG_CONN_SWEEP_MS);
	if (fg_dpc_connected(dpc))
		fg_conn_dp_up(c);
	return c;
}

void fg_conn_free(struct fg_conn *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++)
		if (c->clients[i].used)
			fg_conn_client_free(c, &c->clients[i], NULL);
	fg_relay_set_free(c->relays);
	free(c->clients);
	free(c);
}
