/* SPDX-License-Identifier: MIT */
/*
 * The relay set: the portal's relay list merged by id (snownet's update_relays), each
 * relay's life from BINDING to ALLOCATED and on to DELETING or FAILED, the probe of relays an
 * update omits, removal (remembering the addresses so their stray packets are still
 * recognised), the "no relays" level, the timers' driver and the views for fastgatectl.
 * Requests are relay_tx.c's, channels relay_chan.c's. Owned by the control plane's single
 * thread.
 */
#include "relay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>

#include "log.h"
#include "relay_priv.h"
#include "secmem.h"

#define LOG "relay"

const char *const fg_relay_counter_names[] = {
#define FG_RELAY_COUNTER_NAME(name) #name,
	FG_RELAY_COUNTERS(FG_RELAY_COUNTER_NAME)
#undef FG_RELAY_COUNTER_NAME
};

_Static_assert(sizeof(fg_relay_counter_names) / sizeof(fg_relay_counter_names[0]) ==
	       FG_RELAY_N_COUNTERS, "one name per counter");

static int reentered(struct fg_relay_set *s)
{
	s->cnt.reentered++;
	return -EBUSY;
}

void fg_relay_emit(struct fg_relay_set *s, const struct fg_relay_event *ev)
{
	if (!s->ops.event)
		return;
	s->in_cb = true;
	s->ops.event(s->ctx, ev);
	s->in_cb = false;
}

void fg_relay_send(struct fg_relay_set *s, const struct fg_endpoint *to, const uint8_t *buf,
		   size_t len)
{
	s->in_cb = true;
	s->ops.send(s->ctx, to, buf, len);
	s->in_cb = false;
}

static bool ep_set(const struct fg_endpoint *ep)
{
	return ep->ip.family != 0;
}

static bool ep_same(const struct fg_endpoint *a, const struct fg_endpoint *b)
{
	if (!ep_set(a) || !ep_set(b))
		return ep_set(a) == ep_set(b);
	return fg_endpoint_equal(a, b);
}

bool fg_relay_addr_matches(const struct fg_relay *r, const struct fg_endpoint *ep)
{
	return (ep_set(&r->cur.addr4) && fg_endpoint_equal(&r->cur.addr4, ep)) ||
	       (ep_set(&r->cur.addr6) && fg_endpoint_equal(&r->cur.addr6, ep));
}

static struct fg_relay *find(struct fg_relay_set *s, const char *id)
{
	for (unsigned i = 0; id && i < FG_RELAY_MAX; i++)
		if (s->relays[i].used && !strcmp(s->relays[i].id, id))
			return &s->relays[i];
	return NULL;
}

static void creds_wipe(struct fg_relay_creds *c)
{
	OPENSSL_cleanse(c, sizeof(*c));
}

static void nonce_wipe(struct fg_relay *r)
{
	OPENSSL_cleanse(r->nonce, sizeof(r->nonce));
	r->nonce_len = 0;
}

static bool creds_equal(const struct fg_relay_creds *a, const struct fg_relay_creds *b)
{
	return ep_same(&a->addr4, &b->addr4) && ep_same(&a->addr6, &b->addr6) &&
	       !strcmp(a->username, b->username) && a->key.len == b->key.len &&
	       !CRYPTO_memcmp(a->key.bytes, b->key.bytes, a->key.len);
}

static bool str_ok(const char *s, size_t cap)
{
	return s[0] && memchr(s, '\0', cap);
}

/* An entry the portal sent, as far as this client needs it. */
static const char *info_invalid(const struct fg_relay_info *in)
{
	if (!str_ok(in->id, sizeof(in->id)))
		return "no id";
	if (!ep_set(&in->addr4) && !ep_set(&in->addr6))
		return "no address";
	if ((ep_set(&in->addr4) && (in->addr4.ip.family != AF_INET || !in->addr4.port)) ||
	    (ep_set(&in->addr6) && (in->addr6.ip.family != AF_INET6 || !in->addr6.port)))
		return "bad address";
	if (!str_ok(in->username, sizeof(in->username)) || !str_ok(in->password, sizeof(in->password)))
		return "empty credentials";
	return NULL;
}

static int creds_from_info(const struct fg_relay_set *s, const struct fg_relay_info *in,
			   struct fg_relay_creds *c)
{
	memset(c, 0, sizeof(*c));
	c->addr4 = in->addr4;
	c->addr6 = in->addr6;
	memcpy(c->username, in->username, sizeof(c->username));
	return fg_stun_key_long_term(&c->key, in->username, s->realm, in->password);
}

static void remember(struct fg_relay_set *s, const struct fg_endpoint *ep)
{
	if (!ep_set(ep) || fg_relay_former(s, &ep->ip))
		return;
	s->former[s->former_pos] = ep->ip;
	s->former_pos = (s->former_pos + 1) % FG_RELAY_FORMER_MAX;
	if (s->nformer < FG_RELAY_FORMER_MAX)
		s->nformer++;
}

static void relay_clear(struct fg_relay *r)
{
	fg_relay_chan_free(r);
	OPENSSL_cleanse(r, sizeof(*r));
}

void fg_relay_emit_candidates(struct fg_relay_set *s, struct fg_relay *r)
{
	struct fg_relay_event ev = {
		.type = FG_RELAY_EV_CANDIDATES, .relay_id = r->id,
		.srflx4 = r->srflx4, .srflx6 = r->srflx6,
		.relayed4 = r->relayed4, .relayed6 = r->relayed6,
	};

	fg_relay_emit(s, &ev);
}

void fg_relay_lose_allocation(struct fg_relay_set *s, struct fg_relay *r)
{
	if (ep_set(&r->relayed4) || ep_set(&r->relayed6)) {
		struct fg_relay_event ev = {
			.type = FG_RELAY_EV_ALLOCATION_LOST, .relay_id = r->id,
			.srflx4 = r->srflx4, .srflx6 = r->srflx6,
			.relayed4 = r->relayed4, .relayed6 = r->relayed6,
		};

		fg_info(LOG, "relay %s: allocation lost", r->id);
		memset(&r->relayed4, 0, sizeof(r->relayed4));
		memset(&r->relayed6, 0, sizeof(r->relayed6));
		s->cnt.allocations_lost++;
		fg_relay_emit(s, &ev);
	}
	r->allocated_ns = 0;
	r->lifetime_ns = 0;
	fg_relay_tx_cancel(r, FG_RELAY_TX_REFRESH);
	fg_relay_tx_cancel(r, FG_RELAY_TX_KEEPALIVE);
	fg_relay_tx_cancel(r, FG_RELAY_TX_CHANNEL);
	fg_relay_chan_reset(s, r, false);
}

static void forget_srflx(struct fg_relay_set *s, struct fg_relay *r)
{
	if (!ep_set(&r->srflx4) && !ep_set(&r->srflx6))
		return;
	memset(&r->srflx4, 0, sizeof(r->srflx4));
	memset(&r->srflx6, 0, sizeof(r->srflx6));
	fg_relay_emit_candidates(s, r);
}

/* Everything of r goes: the set forgets it, remembering its addresses. */
static void remove_relay(struct fg_relay_set *s, struct fg_relay *r, const char *why)
{
	struct fg_relay_event ev = { .type = FG_RELAY_EV_REMOVED };
	char id[FG_RELAY_ID_LEN];

	/* A relay going away is an operator's concern, not a bug: WARN, never ERROR. */
	fg_warn(LOG, "relay %s went away: %s", r->id, why);
	fg_relay_lose_allocation(s, r);
	fg_relay_tx_cancel(r, 0);
	fg_relay_chan_reset(s, r, true);
	remember(s, &r->cur.addr4);
	remember(s, &r->cur.addr6);
	remember(s, &r->next.addr4);
	remember(s, &r->next.addr6);
	memcpy(id, r->id, sizeof(id));
	relay_clear(r);
	s->cnt.relays_removed++;
	ev.relay_id = id;
	fg_relay_emit(s, &ev);
}

void fg_relay_fail(struct fg_relay_set *s, struct fg_relay *r, const char *why)
{
	if (r->probing) {
		remove_relay(s, r, why);
		return;
	}
	fg_warn(LOG, "relay %s: giving up: %s", r->id, why);
	if (r->has_next) {
		/* The portal's latest credentials are the ones to start again with. */
		creds_wipe(&r->cur);
		r->cur = r->next;
		creds_wipe(&r->next);
		r->has_next = false;
	}
	fg_relay_lose_allocation(s, r);
	fg_relay_tx_cancel(r, 0);
	fg_relay_chan_reset(s, r, true);
	forget_srflx(s, r);
	nonce_wipe(r);
	memset(&r->active, 0, sizeof(r->active));
	r->state = FG_RELAY_FAILED;
	r->failure = why;
	s->cnt.relays_failed++;
}

/* From scratch with r->cur: BINDING to every address of the relay. */
static void start(struct fg_relay_set *s, struct fg_relay *r, uint64_t now)
{
	bool sent = false;

	fg_relay_tx_cancel(r, 0);
	nonce_wipe(r);
	memset(&r->active, 0, sizeof(r->active));
	r->state = FG_RELAY_BINDING;
	r->failure = "";
	r->no_aaf = false;
	r->mismatches = 0;
	r->has_next = false;
	creds_wipe(&r->next);
	if (ep_set(&r->cur.addr4))
		sent |= fg_relay_tx_start(s, r, FG_RELAY_TX_BINDING, &r->cur.addr4, 0, NULL, now) != NULL;
	if (ep_set(&r->cur.addr6))
		sent |= fg_relay_tx_start(s, r, FG_RELAY_TX_BINDING, &r->cur.addr6, 0, NULL, now) != NULL;
	if (!sent)
		fg_relay_fail(s, r, "cannot send BINDING");
}

void fg_relay_allocate(struct fg_relay_set *s, struct fg_relay *r, uint64_t now)
{
	r->state = FG_RELAY_ALLOCATING;
	fg_relay_tx_cancel(r, FG_RELAY_TX_ALLOCATE);
	if (!fg_relay_tx_start(s, r, FG_RELAY_TX_ALLOCATE, &r->active, 0, NULL, now))
		fg_relay_fail(s, r, "cannot send ALLOCATE");
}

void fg_relay_delete(struct fg_relay_set *s, struct fg_relay *r, uint8_t after, uint64_t now)
{
	fg_relay_lose_allocation(s, r);
	fg_relay_tx_cancel(r, 0);
	r->state = FG_RELAY_DELETING;
	r->after_delete = after;
	if (!ep_set(&r->active) ||
	    !fg_relay_tx_start(s, r, FG_RELAY_TX_DELETE, &r->active, 0, NULL, now))
		fg_relay_delete_done(s, r, now);
}

void fg_relay_delete_done(struct fg_relay_set *s, struct fg_relay *r, uint64_t now)
{
	if (r->after_delete == FG_RELAY_AFTER_REPLACE && r->has_next) {
		creds_wipe(&r->cur);
		r->cur = r->next;
		creds_wipe(&r->next);
		r->has_next = false;
		forget_srflx(s, r);
		start(s, r, now);
		return;
	}
	fg_relay_allocate(s, r, now);
}

void fg_relay_allocated(struct fg_relay_set *s, struct fg_relay *r, uint64_t now)
{
	r->state = FG_RELAY_ALLOCATED;
	r->probing = false;
	r->mismatches = 0;
	r->deleted_ns = 0;
	r->keepalive_ns = now + FG_RELAY_MS(FG_RELAY_KEEPALIVE_MS);
	s->cnt.allocations++;
	fg_relay_chan_pump(s, r, now);
}

void fg_relay_level(struct fg_relay_set *s)
{
	bool allocated = false, live = false;
	struct fg_relay_event ev = { 0 };

	for (unsigned i = 0; i < FG_RELAY_MAX; i++) {
		const struct fg_relay *r = &s->relays[i];

		if (!r->used)
			continue;
		allocated |= r->state == FG_RELAY_ALLOCATED;
		live |= r->state != FG_RELAY_FAILED;
	}
	if (s->no_relays && allocated) {
		s->no_relays = false;
		ev.type = FG_RELAY_EV_RELAYS_BACK;
		fg_info(LOG, "a relay allocation is up");
		fg_relay_emit(s, &ev);
	} else if (!s->no_relays && !live) {
		s->no_relays = true;
		ev.type = FG_RELAY_EV_NO_RELAYS;
		fg_warn(LOG, "no relay left");
		fg_relay_emit(s, &ev);
	}
}

struct fg_relay_set *fg_relay_set_new(const struct fg_relay_ops *ops, void *ctx,
				      const struct fg_relay_config *cfg)
{
	const char *realm = cfg && cfg->realm ? cfg->realm : "firezone";
	const char *software = cfg && cfg->software ? cfg->software : "snownet";
	struct fg_relay_set *s;
	int dd;

	if (!ops || !ops->send || !realm[0] || strlen(realm) >= FG_RELAY_REALM_MAX ||
	    strlen(software) >= FG_RELAY_SOFTWARE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		errno = ENOMEM;
		return NULL;
	}
	/* The relays' long-term keys stay out of a core dump (FASTGATE_CORE_DUMPS=1). */
	dd = fg_secmem_dontdump(s, sizeof(*s));
	if (dd < 0)
		fg_warn(LOG, "relay credentials: cannot exclude them from core dumps: %s", strerror(-dd));
	s->ops = *ops;
	s->ctx = ctx;
	strcpy(s->realm, realm);
	strcpy(s->software, software);
	s->no_relays = true;
	return s;
}

void fg_relay_set_free(struct fg_relay_set *s)
{
	if (!s)
		return;
	for (unsigned i = 0; i < FG_RELAY_MAX; i++)
		relay_clear(&s->relays[i]);
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}

/* A relay the update names that we know already. */
static void upsert_known(struct fg_relay_set *s, struct fg_relay *r, struct fg_relay_creds *c,
			 uint64_t now)
{
	const struct fg_relay_creds *have = r->has_next ? &r->next : &r->cur;

	r->probing = false;
	if (creds_equal(have, c)) {
		if (r->state == FG_RELAY_FAILED) {
			fg_info(LOG, "relay %s: named again, starting again", r->id);
			start(s, r, now);
		}
		return;
	}
	fg_info(LOG, "relay %s: new credentials or addresses, allocating again", r->id);
	if (r->state == FG_RELAY_DELETING) {
		creds_wipe(&r->next);
		r->next = *c;
		r->has_next = true;
		r->after_delete = FG_RELAY_AFTER_REPLACE;
		return;
	}
	if (r->state == FG_RELAY_ALLOCATED ||
	    (r->state == FG_RELAY_ALLOCATING && r->nonce_len && ep_set(&r->active))) {
		/* The relay keeps our allocation under the old username: free it first, with the
		 * old key, or the new ALLOCATE on the same 5-tuple meets 437. */
		r->next = *c;
		r->has_next = true;
		fg_relay_delete(s, r, FG_RELAY_AFTER_REPLACE, now);
		return;
	}
	fg_relay_lose_allocation(s, r);
	creds_wipe(&r->cur);
	r->cur = *c;
	forget_srflx(s, r);
	start(s, r, now);
}

static void probe(struct fg_relay_set *s, struct fg_relay *r, const char *source, uint64_t now)
{
	if (r->state == FG_RELAY_FAILED) {
		remove_relay(s, r, "failed, and the portal no longer names it");
		return;
	}
	if (r->probing)
		return;
	r->probing = true;
	fg_debug(LOG, "relay %s: not in the %s, probing it", r->id, source);
	/* A relay still setting up probes itself: it is kept if it gets its allocation. */
	if (r->state != FG_RELAY_ALLOCATED || fg_relay_tx_inflight(r, FG_RELAY_TX_REFRESH))
		return;
	if (!fg_relay_tx_start(s, r, FG_RELAY_TX_REFRESH, &r->active, 0, NULL, now))
		fg_relay_fail(s, r, "cannot send the REFRESH probe");
}

int fg_relay_update(struct fg_relay_set *s, const struct fg_relay_info *relays, size_t n,
		    bool is_full_init, uint64_t now)
{
	const char *source = is_full_init ? "init" : "relays_presence";
	bool listed[FG_RELAY_MAX] = { false };
	int rc = 0;

	if (s->in_cb)
		return reentered(s);
	for (size_t i = 0; i < n; i++) {
		const char *bad = info_invalid(&relays[i]);
		struct fg_relay_creds c;
		struct fg_relay *r;

		if (bad) {
			fg_warn(LOG, "%s: relay entry %zu skipped: %s", source, i, bad);
			rc = -EINVAL;
			continue;
		}
		if (creds_from_info(s, &relays[i], &c) < 0) {
			fg_warn(LOG, "%s: relay %s skipped: credentials too long", source, relays[i].id);
			creds_wipe(&c);
			rc = -EINVAL;
			continue;
		}
		r = find(s, relays[i].id);
		if (r) {
			upsert_known(s, r, &c, now);
		} else {
			for (unsigned j = 0; !r && j < FG_RELAY_MAX; j++)
				if (!s->relays[j].used)
					r = &s->relays[j];
			if (!r) {
				fg_warn(LOG, "%s: relay %s skipped: %d relays already", source,
					relays[i].id, FG_RELAY_MAX);
				creds_wipe(&c);
				rc = -ENOSPC;
				continue;
			}
			memset(r, 0, sizeof(*r));
			r->used = true;
			memcpy(r->id, relays[i].id, sizeof(r->id));
			r->cur = c;
			r->next_channel = FG_STUN_CHANNEL_MIN;
			fg_info(LOG, "%s: relay %s added", source, r->id);
			start(s, r, now);
		}
		creds_wipe(&c);
		if (r->used)
			listed[r - s->relays] = true;
	}
	for (unsigned i = 0; i < FG_RELAY_MAX; i++)
		if (s->relays[i].used && !listed[i])
			probe(s, &s->relays[i], source, now);
	fg_relay_level(s);
	return rc;
}

int fg_relay_remove(struct fg_relay_set *s, const char *const *ids, size_t n, uint64_t now)
{
	(void)now;
	if (s->in_cb)
		return reentered(s);
	for (size_t i = 0; i < n; i++) {
		struct fg_relay *r = find(s, ids[i]);

		if (r)
			remove_relay(s, r, "disconnected (relays_presence)");
	}
	fg_relay_level(s);
	return 0;
}

static struct fg_relay *by_addr(struct fg_relay_set *s, const struct fg_endpoint *from)
{
	for (unsigned i = 0; i < FG_RELAY_MAX; i++)
		if (s->relays[i].used && fg_relay_addr_matches(&s->relays[i], from))
			return &s->relays[i];
	return NULL;
}

bool fg_relay_former(const struct fg_relay_set *s, const struct fg_ip *ip)
{
	for (unsigned i = 0; i < s->nformer; i++)
		if (fg_ip_equal(&s->former[i], ip))
			return true;
	return false;
}

int fg_relay_input(struct fg_relay_set *s, const struct fg_endpoint *from, const uint8_t *buf,
		   size_t len, uint64_t now)
{
	struct fg_relay *r;

	if (s->in_cb)
		return reentered(s);
	r = by_addr(s, from);
	if (!r) {
		if (!fg_relay_former(s, &from->ip))
			return -ENOENT;
		s->cnt.rx_former_relay++;
		return 0;
	}
	fg_relay_tx_input(s, r, from, buf, len, now);
	if (r->used)
		fg_relay_chan_tick(s, r, now);
	fg_relay_level(s);
	return 0;
}

/* The allocation's own timers: expiry, REFRESH at lifetime / 2, keepalive BINDING. */
static void allocation_timers(struct fg_relay_set *s, struct fg_relay *r, uint64_t now)
{
	if (now >= r->allocated_ns + r->lifetime_ns) {
		fg_info(LOG, "relay %s: allocation expired", r->id);
		fg_relay_lose_allocation(s, r);
		fg_relay_allocate(s, r, now);
		return;
	}
	if (now >= r->allocated_ns + r->lifetime_ns / 2 &&
	    !fg_relay_tx_inflight(r, FG_RELAY_TX_REFRESH) &&
	    !fg_relay_tx_start(s, r, FG_RELAY_TX_REFRESH, &r->active, 0, NULL, now)) {
		fg_relay_fail(s, r, "cannot send REFRESH");
		return;
	}
	if (now >= r->keepalive_ns && !fg_relay_tx_inflight(r, FG_RELAY_TX_KEEPALIVE)) {
		r->keepalive_ns = now + FG_RELAY_MS(FG_RELAY_KEEPALIVE_MS);
		if (!fg_relay_tx_start(s, r, FG_RELAY_TX_KEEPALIVE, &r->active, 0, NULL, now))
			fg_relay_fail(s, r, "cannot send the keepalive BINDING");
	}
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t fg_relay_next_timeout(const struct fg_relay_set *s)
{
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < FG_RELAY_MAX; i++) {
		const struct fg_relay *r = &s->relays[i];

		if (!r->used)
			continue;
		t = min_u64(t, fg_relay_tx_next(r));
		t = min_u64(t, fg_relay_chan_next(r));
		if (r->state != FG_RELAY_ALLOCATED)
			continue;
		t = min_u64(t, r->allocated_ns + r->lifetime_ns);
		if (!fg_relay_tx_inflight(r, FG_RELAY_TX_REFRESH))
			t = min_u64(t, r->allocated_ns + r->lifetime_ns / 2);
		if (!fg_relay_tx_inflight(r, FG_RELAY_TX_KEEPALIVE))
			t = min_u64(t, r->keepalive_ns);
	}
	return t;
}

void fg_relay_tick(struct fg_relay_set *s, uint64_t now)
{
	if (s->in_cb) {
		reentered(s);
		return;
	}
	for (unsigned i = 0; i < FG_RELAY_MAX; i++) {
		struct fg_relay *r = &s->relays[i];

		if (!r->used)
			continue;
		fg_relay_tx_tick(s, r, now);
		if (r->used && r->state == FG_RELAY_ALLOCATED)
			allocation_timers(s, r, now);
		if (r->used)
			fg_relay_chan_tick(s, r, now);
	}
	fg_relay_level(s);
}

bool fg_relay_has_allocation(const struct fg_relay_set *s)
{
	for (unsigned i = 0; i < FG_RELAY_MAX; i++)
		if (s->relays[i].used && s->relays[i].state == FG_RELAY_ALLOCATED)
			return true;
	return false;
}

bool fg_relay_is_relay_ip(const struct fg_relay_set *s, const struct fg_ip *ip)
{
	for (unsigned i = 0; i < FG_RELAY_MAX; i++) {
		const struct fg_relay *r = &s->relays[i];

		if (r->used && ((ep_set(&r->cur.addr4) && fg_ip_equal(&r->cur.addr4.ip, ip)) ||
				(ep_set(&r->cur.addr6) && fg_ip_equal(&r->cur.addr6.ip, ip))))
			return true;
	}
	return fg_relay_former(s, ip);
}

void fg_relay_foreach(const struct fg_relay_set *s, uint64_t now,
		      void (*fn)(void *ctx, const struct fg_relay_view *v), void *ctx)
{
	(void)now;
	for (unsigned i = 0; i < FG_RELAY_MAX; i++) {
		const struct fg_relay *r = &s->relays[i];
		struct fg_relay_view v = { 0 };

		if (!r->used)
			continue;
		v.id = r->id;
		v.username = r->cur.username;
		v.addr4 = r->cur.addr4;
		v.addr6 = r->cur.addr6;
		v.active = r->active;
		v.state = r->state;
		v.probing = r->probing;
		v.srflx4 = r->srflx4;
		v.srflx6 = r->srflx6;
		v.relayed4 = r->relayed4;
		v.relayed6 = r->relayed6;
		if (r->state == FG_RELAY_ALLOCATED) {
			v.expires_ns = r->allocated_ns + r->lifetime_ns;
			v.refresh_ns = r->allocated_ns + r->lifetime_ns / 2;
		}
		v.rtt_ns = r->rtt_ns;
		for (unsigned c = 0; c < r->nchans; c++)
			v.channels_bound += r->chans[c].state == FG_RELAY_CHAN_BOUND;
		v.channels_total = r->nchans;
		v.failure = r->failure ? r->failure : "";
		fn(ctx, &v);
	}
}

int fg_relay_foreach_channel(const struct fg_relay_set *s, const char *relay_id,
			     void (*fn)(void *ctx, const struct fg_relay_channel_view *c),
			     void *ctx)
{
	const struct fg_relay *r = find((struct fg_relay_set *)s, relay_id);

	if (!r)
		return -ENOENT;
	for (unsigned i = 0; i < r->nchans; i++) {
		const struct fg_relay_chan *c = &r->chans[i];
		struct fg_relay_channel_view v = {
			.number = c->number, .state = c->state, .peer = c->peer,
			.bound_ns = c->bound_ns, .used = c->used,
			.expires_ns = c->bound_ns + FG_RELAY_MS(FG_RELAY_CHANNEL_LIFETIME_MS),
		};

		fn(ctx, &v);
	}
	return 0;
}

const struct fg_relay_counters *fg_relay_counters(const struct fg_relay_set *s)
{
	return &s->cnt;
}

const char *fg_relay_state_name(enum fg_relay_state st)
{
	switch (st) {
	case FG_RELAY_BINDING:
		return "binding";
	case FG_RELAY_ALLOCATING:
		return "allocating";
	case FG_RELAY_ALLOCATED:
		return "allocated";
	case FG_RELAY_DELETING:
		return "deleting";
	case FG_RELAY_FAILED:
		return "failed";
	}
	return "?";
}

const char *fg_relay_channel_state_name(enum fg_relay_channel_state st)
{
	switch (st) {
	case FG_RELAY_CHAN_PENDING:
		return "pending";
	case FG_RELAY_CHAN_BINDING:
		return "binding";
	case FG_RELAY_CHAN_BOUND:
		return "bound";
	case FG_RELAY_CHAN_EXPIRED:
		return "expired";
	}
	return "?";
}
