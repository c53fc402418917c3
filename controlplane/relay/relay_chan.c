/* SPDX-License-Identifier: MIT */
/*
 * Channels of a relay's allocation (RFC 8656 §12, snownet's ChannelBindings): a number
 * 0x4000-0x4FFF per remote peer, taken round-robin from where the last search stopped;
 * bound with CHANNEL-BIND once the allocation is up (requests beyond the free slots wait);
 * refreshed after 5 min only if data came in since; gone at the relay after 10 min without a
 * refresh, when CHANNEL_UNBOUND is emitted; the number stays the peer's for 15 min from the
 * last binding (the same peer may bind it again; another peer only after that). Also the
 * ChannelData helpers for a bound channel. Owned by the control plane's single thread.
 */
#include "relay_priv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "chandata.h"

static unsigned slot_of(uint16_t number)
{
	return (unsigned)(number - FG_STUN_CHANNEL_MIN);
}

static void mark(struct fg_relay *r, uint16_t number, bool taken)
{
	unsigned n = slot_of(number);

	if (taken)
		r->taken[n / 64] |= 1ull << (n % 64);
	else
		r->taken[n / 64] &= ~(1ull << (n % 64));
}

static bool is_taken(const struct fg_relay *r, unsigned slot)
{
	return r->taken[slot / 64] >> (slot % 64) & 1;
}

static struct fg_relay_chan *by_number(struct fg_relay *r, uint16_t number)
{
	for (unsigned i = 0; i < r->nchans; i++)
		if (r->chans[i].number == number)
			return &r->chans[i];
	return NULL;
}

static struct fg_relay_chan *by_peer(struct fg_relay *r, const struct fg_endpoint *peer)
{
	for (unsigned i = 0; i < r->nchans; i++)
		if (fg_endpoint_equal(&r->chans[i].peer, peer))
			return &r->chans[i];
	return NULL;
}

/* Drops an entry (its number is free at once); the last entry takes its place. */
static void drop(struct fg_relay *r, struct fg_relay_chan *c)
{
	mark(r, c->number, false);
	*c = r->chans[--r->nchans];
}

static void emit(struct fg_relay_set *s, struct fg_relay *r, const struct fg_relay_chan *c,
		 enum fg_relay_event_type type)
{
	struct fg_relay_event ev = {
		.type = type, .relay_id = r->id, .peer = c->peer, .channel = c->number,
	};

	fg_relay_emit(s, &ev);
}

static const struct fg_endpoint *relayed_for(const struct fg_relay *r, const struct fg_endpoint *peer)
{
	const struct fg_endpoint *ep = peer->ip.family == AF_INET ? &r->relayed4 : &r->relayed6;

	return ep->ip.family ? ep : NULL;
}

/* Frees the numbers whose 15 minutes are over. */
static void collect(struct fg_relay *r, uint64_t now)
{
	for (unsigned i = 0; i < r->nchans;) {
		struct fg_relay_chan *c = &r->chans[i];

		if (c->state == FG_RELAY_CHAN_EXPIRED &&
		    now >= c->bound_ns + FG_RELAY_MS(FG_RELAY_CHANNEL_REUSE_MS))
			drop(r, c);
		else
			i++;
	}
}

static int new_number(struct fg_relay *r, uint16_t *number)
{
	unsigned start = slot_of(r->next_channel);

	for (unsigned k = 0; k < FG_RELAY_MAX_CHANNELS; k++) {
		unsigned slot = (start + k) % FG_RELAY_MAX_CHANNELS;

		if (is_taken(r, slot))
			continue;
		*number = (uint16_t)(FG_STUN_CHANNEL_MIN + slot);
		r->next_channel = (uint16_t)(FG_STUN_CHANNEL_MIN + (slot + 1) % FG_RELAY_MAX_CHANNELS);
		return 0;
	}
	return -ENOSPC;
}

static struct fg_relay *live_relay(struct fg_relay_set *s, const char *id)
{
	for (unsigned i = 0; id && i < FG_RELAY_MAX; i++) {
		struct fg_relay *r = &s->relays[i];

		if (r->used && r->state != FG_RELAY_FAILED && !strcmp(r->id, id))
			return r;
	}
	return NULL;
}

void fg_relay_chan_pump(struct fg_relay_set *s, struct fg_relay *r, uint64_t now)
{
	if (r->state != FG_RELAY_ALLOCATED)
		return;
	for (unsigned i = 0; i < r->nchans;) {
		struct fg_relay_chan *c = &r->chans[i];

		if (c->state != FG_RELAY_CHAN_PENDING) {
			i++;
			continue;
		}
		if (!relayed_for(r, &c->peer)) {
			/* The allocation came without that family. */
			emit(s, r, c, FG_RELAY_EV_CHANNEL_UNBOUND);
			drop(r, c);
			continue;
		}
		if (fg_relay_tx_free(r) <= FG_RELAY_TX_RESERVED) {
			s->cnt.tx_busy++;
			return;
		}
		if (!fg_relay_tx_start(s, r, FG_RELAY_TX_CHANNEL, &r->active, c->number, &c->peer, now)) {
			fg_relay_fail(s, r, "cannot send CHANNEL-BIND");
			return;
		}
		c->state = FG_RELAY_CHAN_BINDING;
		c->bound_ns = now;
		i++;
	}
}

void fg_relay_chan_bound(struct fg_relay_set *s, struct fg_relay *r, uint16_t number,
			 uint64_t now)
{
	struct fg_relay_chan *c = by_number(r, number);
	bool first;

	if (!c)
		return;
	first = c->state != FG_RELAY_CHAN_BOUND;
	c->state = FG_RELAY_CHAN_BOUND;
	c->bound_ns = now;
	c->used = false;
	c->refreshing = false;
	if (first)
		emit(s, r, c, FG_RELAY_EV_CHANNEL_BOUND);
}

void fg_relay_chan_refused(struct fg_relay_set *s, struct fg_relay *r, uint16_t number)
{
	struct fg_relay_chan *c = by_number(r, number);

	if (!c)
		return;
	emit(s, r, c, FG_RELAY_EV_CHANNEL_UNBOUND);
	if (c->state == FG_RELAY_CHAN_BOUND) {
		/* A refused refresh: the relay still holds the binding until it expires. */
		c->state = FG_RELAY_CHAN_EXPIRED;
		c->refreshing = false;
		return;
	}
	drop(r, c);
}

void fg_relay_chan_requeue(struct fg_relay *r, uint16_t number)
{
	struct fg_relay_chan *c = by_number(r, number);

	if (c) {
		c->state = FG_RELAY_CHAN_PENDING;
		c->refreshing = false;
	}
}

void fg_relay_chan_reset(struct fg_relay_set *s, struct fg_relay *r, bool drop_pending)
{
	for (unsigned i = 0; i < r->nchans;) {
		struct fg_relay_chan *c = &r->chans[i];

		if (c->state == FG_RELAY_CHAN_BOUND || c->state == FG_RELAY_CHAN_EXPIRED) {
			drop(r, c);
		} else if (drop_pending) {
			emit(s, r, c, FG_RELAY_EV_CHANNEL_UNBOUND);
			drop(r, c);
		} else {
			c->state = FG_RELAY_CHAN_PENDING;
			i++;
		}
	}
}

void fg_relay_chan_tick(struct fg_relay_set *s, struct fg_relay *r, uint64_t now)
{
	bool busy = false;

	collect(r, now);
	if (r->state != FG_RELAY_ALLOCATED)
		return;
	for (unsigned i = 0; i < r->nchans; i++) {
		struct fg_relay_chan *c = &r->chans[i];

		if (c->state != FG_RELAY_CHAN_BOUND)
			continue;
		if (now >= c->bound_ns + FG_RELAY_MS(FG_RELAY_CHANNEL_LIFETIME_MS)) {
			c->state = FG_RELAY_CHAN_EXPIRED;
			c->refreshing = false;
			emit(s, r, c, FG_RELAY_EV_CHANNEL_UNBOUND);
			continue;
		}
		if (!c->used || c->refreshing ||
		    now < c->bound_ns + FG_RELAY_MS(FG_RELAY_CHANNEL_REFRESH_MS))
			continue;
		/* Every slot taken: retried when a request completes (fg_relay_input). */
		if (busy || fg_relay_tx_free(r) <= FG_RELAY_TX_RESERVED) {
			s->cnt.tx_busy += !busy;
			busy = true;
			continue;
		}
		if (!fg_relay_tx_start(s, r, FG_RELAY_TX_CHANNEL, &r->active, c->number, &c->peer, now)) {
			fg_relay_fail(s, r, "cannot refresh a channel");
			return;
		}
		c->refreshing = true;
	}
	/* A channel that expired just now may be past its 15 minutes too (the loop slept
	 * through both, a suspended host): free its number now, not at a timer already due. */
	collect(r, now);
	fg_relay_chan_pump(s, r, now);
}

uint64_t fg_relay_chan_next(const struct fg_relay *r)
{
	bool can_send = fg_relay_tx_free(r) > FG_RELAY_TX_RESERVED;
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < r->nchans; i++) {
		const struct fg_relay_chan *c = &r->chans[i];
		uint64_t at = UINT64_MAX;

		if (c->state == FG_RELAY_CHAN_EXPIRED) {
			at = c->bound_ns + FG_RELAY_MS(FG_RELAY_CHANNEL_REUSE_MS);
		} else if (c->state == FG_RELAY_CHAN_BOUND) {
			at = c->bound_ns + FG_RELAY_MS(FG_RELAY_CHANNEL_LIFETIME_MS);
			/* A refresh waiting for a slot is retried when a request completes. */
			if (c->used && !c->refreshing && can_send &&
			    c->bound_ns + FG_RELAY_MS(FG_RELAY_CHANNEL_REFRESH_MS) < at)
				at = c->bound_ns + FG_RELAY_MS(FG_RELAY_CHANNEL_REFRESH_MS);
		}
		if (at < t)
			t = at;
	}
	return t;
}

void fg_relay_chan_free(struct fg_relay *r)
{
	if (r->chans)
		memset(r->chans, 0, r->chan_cap * sizeof(*r->chans));
	free(r->chans);
	r->chans = NULL;
	r->nchans = r->chan_cap = 0;
	memset(r->taken, 0, sizeof(r->taken));
}

static int grow(struct fg_relay *r)
{
	unsigned cap = r->chan_cap ? r->chan_cap * 2 : 8;
	struct fg_relay_chan *n;

	if (r->nchans < r->chan_cap)
		return 0;
	if (cap > FG_RELAY_MAX_CHANNELS)
		cap = FG_RELAY_MAX_CHANNELS;
	n = realloc(r->chans, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	r->chans = n;
	r->chan_cap = cap;
	return 0;
}

int fg_relay_bind_channel(struct fg_relay_set *s, const char *relay_id,
			  const struct fg_endpoint *peer, uint64_t now)
{
	struct fg_relay_chan *c;
	struct fg_relay *r;
	uint16_t number;
	int rc;

	if (s->in_cb) {
		s->cnt.reentered++;
		return -EBUSY;
	}
	r = live_relay(s, relay_id);
	if (!r)
		return -ENOENT;
	if (!peer || (peer->ip.family != AF_INET && peer->ip.family != AF_INET6) || !peer->port)
		return -EINVAL;
	if (r->state == FG_RELAY_ALLOCATED && !relayed_for(r, peer))
		return -EAFNOSUPPORT;
	collect(r, now);
	c = by_peer(r, peer);
	if (c) {
		if (c->state == FG_RELAY_CHAN_EXPIRED) {
			/* Within its 15 minutes: the same peer may bind the same number again. */
			c->state = FG_RELAY_CHAN_PENDING;
			fg_relay_chan_pump(s, r, now);
			fg_relay_level(s);
		}
		return c->number;
	}
	rc = new_number(r, &number);
	if (rc < 0)
		return rc;
	rc = grow(r);
	if (rc < 0)
		return rc;
	c = &r->chans[r->nchans++];
	memset(c, 0, sizeof(*c));
	c->number = number;
	c->state = FG_RELAY_CHAN_PENDING;
	c->peer = *peer;
	c->bound_ns = now;
	mark(r, number, true);
	fg_relay_chan_pump(s, r, now);
	fg_relay_level(s);
	return number;
}

int fg_relay_channel_used(struct fg_relay_set *s, const char *relay_id, uint16_t channel,
			  uint64_t now)
{
	struct fg_relay *r;
	struct fg_relay_chan *c;

	(void)now;
	if (s->in_cb) {
		s->cnt.reentered++;
		return -EBUSY;
	}
	r = live_relay(s, relay_id);
	c = r ? by_number(r, channel) : NULL;
	if (!c)
		return -ENOENT;
	if (c->state == FG_RELAY_CHAN_BOUND)
		c->used = true;
	return 0;
}

int fg_relay_wrap(struct fg_relay_set *s, const char *relay_id, const struct fg_endpoint *peer,
		  const void *data, size_t len, uint8_t *buf, size_t cap, struct fg_endpoint *to,
		  uint64_t now)
{
	struct fg_relay_chan *c;
	struct fg_relay *r;
	int n;

	if (s->in_cb) {
		s->cnt.reentered++;
		return -EBUSY;
	}
	r = live_relay(s, relay_id);
	if (!r)
		return -ENOENT;
	c = r->state == FG_RELAY_ALLOCATED ? by_peer(r, peer) : NULL;
	/* Bound, or being bound: snownet sends while the bind is in flight. */
	if (!c || (c->state != FG_RELAY_CHAN_BOUND && c->state != FG_RELAY_CHAN_BINDING))
		return -ENOTCONN;
	n = fg_chandata_write(buf, cap, c->number, data, len, false);
	if (n < 0)
		return n;
	*to = r->active;
	/* Our traffic keeps the NAT binding: the keepalive BINDING can wait. */
	r->keepalive_ns = now + FG_RELAY_MS(FG_RELAY_KEEPALIVE_MS);
	return n;
}

int fg_relay_unwrap(struct fg_relay_set *s, const struct fg_endpoint *from, const uint8_t *buf,
		    size_t len, uint64_t now, struct fg_relay_rx *rx)
{
	struct fg_relay *r = NULL;
	struct fg_relay_chan *c;
	struct fg_chandata cd;

	(void)now;
	if (s->in_cb) {
		s->cnt.reentered++;
		return -EBUSY;
	}
	for (unsigned i = 0; !r && i < FG_RELAY_MAX; i++)
		if (s->relays[i].used && fg_relay_addr_matches(&s->relays[i], from))
			r = &s->relays[i];
	if (!r) {
		if (!fg_relay_former(s, &from->ip))
			return -ENOENT;
		s->cnt.rx_former_relay++;
		return -ENOTCONN;
	}
	if (fg_chandata_parse(buf, len, false, &cd) < 0) {
		s->cnt.chan_rx_bad++;
		return -EBADMSG;
	}
	c = r->state == FG_RELAY_ALLOCATED ? by_number(r, cd.channel) : NULL;
	if (!c || c->state != FG_RELAY_CHAN_BOUND || !relayed_for(r, &c->peer)) {
		s->cnt.chan_rx_unbound++;
		return -ENOTCONN;
	}
	c->used = true;
	rx->relay_id = r->id;
	rx->peer = c->peer;
	rx->relayed = *relayed_for(r, &c->peer);
	rx->channel = c->number;
	rx->data = cd.data;
	rx->len = cd.len;
	return 0;
}
