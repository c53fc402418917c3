/* SPDX-License-Identifier: MIT */
/*
 * The relay client's requests: each built with the STUN codec (BINDING unauthenticated;
 * ALLOCATE, REFRESH and CHANNEL-BIND with USERNAME, REALM, NONCE and long-term
 * MESSAGE-INTEGRITY once the relay has given a nonce), sent, retransmitted after 1 s, x1.5,
 * with the same transaction id, and given up 10 s after the first send. Answers are matched
 * by sender and transaction id, checked, and acted on; what cannot be trusted is dropped
 * and counted, the request staying in flight as snownet keeps it.
 *
 * Integrity: BINDING answers are taken as they are. Every other answer must carry a valid
 * MESSAGE-INTEGRITY (or -SHA256) with the relay's key, except the error answers the relay
 * sends before it can check anything: any error to an unauthenticated request, and the
 * 401/438 challenges (coturn sends those unsigned; Firezone's relay signs them, which is
 * checked). An unsigned 401 to a request that carried a nonce therefore frees the
 * allocation: only an attacker who sees our transaction ids can forge it, and such an
 * attacker can drop our packets anyway. Owned by the control plane's single thread.
 */
#include "relay_priv.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/rand.h>

#include "log.h"

#define LOG "relay"

static uint16_t method_of(uint8_t kind)
{
	switch (kind) {
	case FG_RELAY_TX_BINDING:
	case FG_RELAY_TX_KEEPALIVE:
		return FG_STUN_BINDING;
	case FG_RELAY_TX_ALLOCATE:
		return FG_STUN_ALLOCATE;
	case FG_RELAY_TX_REFRESH:
	case FG_RELAY_TX_DELETE:
		return FG_STUN_REFRESH;
	default:
		return FG_STUN_CHANNEL_BIND;
	}
}

static bool needs_auth(uint8_t kind)
{
	return kind != FG_RELAY_TX_BINDING && kind != FG_RELAY_TX_KEEPALIVE;
}

/*
 * The request as it goes out now. REFRESH carries neither REQUESTED-TRANSPORT nor
 * ADDITIONAL-ADDRESS-FAMILY: snownet sends both, Firezone's relay ignores them, but coturn
 * answers the first with 420 and the second with 443 on an IPv4-only allocation. It asks
 * for the default lifetime by name (snownet sends no LIFETIME): coturn 4.6 caps only a
 * requested lifetime at its max-allocate-lifetime, and answers a REFRESH without one with
 * 600 s even where ALLOCATE got less, so a relay that restarted would be noticed only 300 s
 * later. Firezone's relay takes 600 s either way.
 */
static int build(const struct fg_relay_set *s, const struct fg_relay *r, const struct fg_relay_tx *tx,
		 uint8_t *buf, size_t cap)
{
	struct fg_stun_builder b;

	fg_stun_build_start(&b, buf, cap, method_of(tx->kind), FG_STUN_REQUEST, tx->txid);
	switch (tx->kind) {
	case FG_RELAY_TX_ALLOCATE:
		fg_stun_add_transport(&b, FG_STUN_PROTO_UDP);
		if (tx->aaf)
			fg_stun_add_family(&b, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, AF_INET6);
		break;
	case FG_RELAY_TX_REFRESH:
		fg_stun_add_u32(&b, FG_STUN_ATTR_LIFETIME, FG_RELAY_DEFAULT_LIFETIME_S);
		break;
	case FG_RELAY_TX_DELETE:
		fg_stun_add_u32(&b, FG_STUN_ATTR_LIFETIME, 0);
		break;
	case FG_RELAY_TX_CHANNEL:
		fg_stun_add_channel(&b, tx->channel);
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_PEER_ADDRESS, &tx->peer);
		break;
	default:
		break;
	}
	fg_stun_add_str(&b, FG_STUN_ATTR_SOFTWARE, s->software);
	if (tx->authed) {
		fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, r->cur.username);
		fg_stun_add_str(&b, FG_STUN_ATTR_REALM, s->realm);
		fg_stun_add_bytes(&b, FG_STUN_ATTR_NONCE, r->nonce, r->nonce_len);
		fg_stun_add_integrity(&b, &r->cur.key);
	}
	return fg_stun_build_finish(&b);
}

static int transmit(struct fg_relay_set *s, struct fg_relay *r, struct fg_relay_tx *tx)
{
	uint8_t buf[FG_RELAY_MSG_MAX];
	int len;

	/* Built again each time: a retransmission after a 438 elsewhere carries the new nonce. */
	tx->authed = needs_auth(tx->kind) && r->nonce_len;
	len = build(s, r, tx, buf, sizeof(buf));
	if (len < 0) {
		s->cnt.tx_errors++;
		return len;
	}
	fg_relay_send(s, &tx->dst, buf, (size_t)len);
	return 0;
}

static int random_txid(struct fg_relay_set *s, uint8_t *txid)
{
	int rc;

	if (!s->ops.random)
		return RAND_bytes(txid, FG_STUN_TXID_LEN) == 1 ? 0 : -EIO;
	s->in_cb = true;
	rc = s->ops.random(s->ctx, txid, FG_STUN_TXID_LEN);
	s->in_cb = false;
	return rc < 0 ? -EIO : 0;
}

static uint64_t give_up_at(const struct fg_relay_tx *tx)
{
	return tx->start_ns + FG_RELAY_MS(FG_RELAY_GIVE_UP_MS);
}

static void schedule(struct fg_relay_tx *tx, uint64_t now)
{
	uint64_t end = give_up_at(tx);

	tx->next_ns = now + tx->rto_ns < end ? now + tx->rto_ns : end;
}

struct fg_relay_tx *fg_relay_tx_start(struct fg_relay_set *s, struct fg_relay *r, uint8_t kind,
				      const struct fg_endpoint *dst, uint16_t channel,
				      const struct fg_endpoint *peer, uint64_t now)
{
	struct fg_relay_tx *tx = NULL;

	for (unsigned i = 0; !tx && i < FG_RELAY_MAX_TX; i++)
		if (!r->tx[i].used)
			tx = &r->tx[i];
	if (!tx)
		return NULL;
	memset(tx, 0, sizeof(*tx));
	if (random_txid(s, tx->txid) < 0) {
		s->cnt.tx_errors++;
		return NULL;
	}
	tx->kind = kind;
	tx->aaf = kind == FG_RELAY_TX_ALLOCATE && !r->no_aaf;
	tx->channel = channel;
	tx->dst = *dst;
	if (peer)
		tx->peer = *peer;
	tx->start_ns = now;
	tx->rto_ns = FG_RELAY_MS(FG_RELAY_RTO_MS);
	schedule(tx, now);
	if (transmit(s, r, tx) < 0)
		return NULL;
	tx->used = true;
	s->cnt.tx_requests++;
	return tx;
}

bool fg_relay_tx_inflight(const struct fg_relay *r, uint8_t kind)
{
	for (unsigned i = 0; i < FG_RELAY_MAX_TX; i++)
		if (r->tx[i].used && r->tx[i].kind == kind)
			return true;
	return false;
}

unsigned fg_relay_tx_free(const struct fg_relay *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FG_RELAY_MAX_TX; i++)
		n += !r->tx[i].used;
	return n;
}

void fg_relay_tx_cancel(struct fg_relay *r, uint8_t kind)
{
	for (unsigned i = 0; i < FG_RELAY_MAX_TX; i++)
		if (!kind || r->tx[i].kind == kind)
			r->tx[i].used = false;
}

uint64_t fg_relay_tx_next(const struct fg_relay *r)
{
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < FG_RELAY_MAX_TX; i++)
		if (r->tx[i].used && r->tx[i].next_ns < t)
			t = r->tx[i].next_ns;
	return t;
}

/* A request went unanswered for 10 s. */
static void timed_out(struct fg_relay_set *s, struct fg_relay *r, struct fg_relay_tx *tx,
		      uint64_t now)
{
	uint8_t kind = tx->kind;

	tx->used = false;
	s->cnt.tx_timeouts++;
	switch (kind) {
	case FG_RELAY_TX_BINDING:
		/* One of the relay's addresses may be unreachable from here: only when none
		 * answered is the relay given up. */
		if (r->state == FG_RELAY_BINDING && !fg_relay_tx_inflight(r, FG_RELAY_TX_BINDING))
			fg_relay_fail(s, r, "no answer to BINDING");
		break;
	case FG_RELAY_TX_DELETE:
		fg_relay_delete_done(s, r, now);
		break;
	default:
		/* The address that answered before is silent now: the allocation is as good as
		 * gone (snownet invalidates it and frees the relay). */
		fg_relay_fail(s, r, tx->held ? "the relay does not free our deleted allocation (437)" :
					       "no answer from the relay");
		break;
	}
}

void fg_relay_tx_tick(struct fg_relay_set *s, struct fg_relay *r, uint64_t now)
{
	for (unsigned i = 0; i < FG_RELAY_MAX_TX && r->used; i++) {
		struct fg_relay_tx *tx = &r->tx[i];

		if (!tx->used || now < tx->next_ns)
			continue;
		if (now >= give_up_at(tx)) {
			timed_out(s, r, tx, now);
			continue;
		}
		s->cnt.tx_retransmits++;
		if (transmit(s, r, tx) < 0) {
			timed_out(s, r, tx, now);
			continue;
		}
		tx->rto_ns = tx->rto_ns * FG_RELAY_RTO_MULT_PCT / 100;
		schedule(tx, now);
	}
}

static struct fg_relay_tx *match(struct fg_relay *r, const struct fg_endpoint *from,
				 const struct fg_stun_msg *m)
{
	for (unsigned i = 0; i < FG_RELAY_MAX_TX; i++) {
		struct fg_relay_tx *tx = &r->tx[i];

		if (tx->used && !memcmp(tx->txid, m->txid, FG_STUN_TXID_LEN) &&
		    method_of(tx->kind) == m->method && fg_endpoint_equal(&tx->dst, from))
			return tx;
	}
	return NULL;
}

static unsigned error_code(const struct fg_stun_msg *m)
{
	unsigned code = 0;
	const char *reason;
	size_t rlen;

	if (fg_stun_get_error(m, &code, &reason, &rlen) < 0)
		return 0;
	return code;
}

/* Whether the answer may change our state (see the file's comment). */
static bool trusted(struct fg_relay_set *s, struct fg_relay *r, const struct fg_relay_tx *tx,
		    const struct fg_stun_msg *m)
{
	unsigned code;

	if (m->method == FG_STUN_BINDING)
		return true;
	if (fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY) ||
	    fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256)) {
		if (fg_stun_check_integrity(m, &r->cur.key) == 0)
			return true;
		s->cnt.rx_bad_integrity++;
		fg_debug(LOG, "relay %s: answer with a wrong MESSAGE-INTEGRITY dropped", r->id);
		return false;
	}
	if (m->cls == FG_STUN_ERROR) {
		code = error_code(m);
		if (!tx->authed || code == FG_STUN_ERR_UNAUTHENTICATED || code == FG_STUN_ERR_STALE_NONCE)
			return true;
	}
	s->cnt.rx_unsigned++;
	fg_debug(LOG, "relay %s: unsigned answer dropped", r->id);
	return false;
}

static void rtt_sample(struct fg_relay *r, uint64_t sample)
{
	r->rtt_ns = r->rtt_ns ? (r->rtt_ns * 7 + sample) / 8 : sample;
}

/* 401 or 438 with a nonce: send the request again, authenticated with it. */
static void reauthenticate(struct fg_relay_set *s, struct fg_relay *r,
			   const struct fg_relay_tx *t, const struct fg_stun_msg *m, uint64_t now)
{
	const uint8_t *nonce, *realm;
	size_t nonce_len, realm_len;
	struct fg_relay_tx *tx;

	if (fg_stun_get_bytes(m, FG_STUN_ATTR_NONCE, &nonce, &nonce_len) < 0 || !nonce_len ||
	    nonce_len > sizeof(r->nonce)) {
		s->cnt.rx_bad_response++;
		fg_relay_fail(s, r, "401/438 without a usable NONCE");
		return;
	}
	if (fg_stun_get_bytes(m, FG_STUN_ATTR_REALM, &realm, &realm_len) == 0 &&
	    (realm_len != strlen(s->realm) || memcmp(realm, s->realm, realm_len))) {
		fg_warn(LOG, "relay %s: its realm is \"%.*s\", ours \"%s\"", r->id,
			(int)(realm_len > 64 ? 64 : realm_len), (const char *)realm, s->realm);
		s->cnt.auth_failures++;
		fg_relay_fail(s, r, "the relay's realm is not ours");
		return;
	}
	if (t->reauths >= FG_RELAY_MAX_REAUTH) {
		fg_relay_fail(s, r, "the relay keeps asking to authenticate");
		return;
	}
	memcpy(r->nonce, nonce, nonce_len);
	r->nonce_len = nonce_len;
	s->cnt.reauths++;
	tx = fg_relay_tx_start(s, r, t->kind, &t->dst, t->channel, &t->peer, now);
	if (!tx) {
		fg_relay_fail(s, r, "cannot send the authenticated request");
		return;
	}
	tx->reauths = t->reauths + 1;
}

/*
 * An answered request back in flight, sent again (same transaction id) at its next
 * retransmission time and given up with the rest of its 10 s.
 */
static void retry_later(struct fg_relay_set *s, struct fg_relay *r, const struct fg_relay_tx *t,
			uint64_t now)
{
	struct fg_relay_tx *tx = NULL;

	for (unsigned i = 0; !tx && i < FG_RELAY_MAX_TX; i++)
		if (!r->tx[i].used)
			tx = &r->tx[i];
	if (!tx || now >= give_up_at(t)) {
		fg_relay_fail(s, r, "the relay does not free our deleted allocation (437)");
		return;
	}
	*tx = *t;
	tx->used = true;
	tx->held = true;
	schedule(tx, now);
}

/* 437 Allocation Mismatch. */
static void mismatch(struct fg_relay_set *s, struct fg_relay *r, const struct fg_relay_tx *t,
		     uint64_t now)
{
	switch (t->kind) {
	case FG_RELAY_TX_ALLOCATE:
		/* Our DELETE was answered, but the relay still holds the allocation: coturn frees
		 * it at its next one-second timer and answers 437 ("wrong transaction ID") until
		 * then. Ask again later; deleting again, with new credentials, meets 441. */
		if (r->deleted_ns && now < r->deleted_ns + FG_RELAY_MS(FG_RELAY_GIVE_UP_MS)) {
			fg_debug(LOG, "relay %s: deleted allocation still held, ALLOCATE again later",
				 r->id);
			retry_later(s, r, t, now);
			return;
		}
		/* The relay holds an allocation of ours from before: delete it, then allocate. */
		if (++r->mismatches > 2) {
			fg_relay_fail(s, r, "437 to every ALLOCATE");
			return;
		}
		fg_relay_delete(s, r, FG_RELAY_AFTER_REALLOCATE, now);
		return;
	case FG_RELAY_TX_DELETE:
		fg_relay_delete_done(s, r, now);
		return;
	case FG_RELAY_TX_REFRESH:
	case FG_RELAY_TX_CHANNEL:
		/* The relay lost our allocation (a restart): make a new one, keeping the bind. */
		fg_info(LOG, "relay %s: allocation unknown to the relay (437), allocating again", r->id);
		if (t->kind == FG_RELAY_TX_CHANNEL)
			fg_relay_chan_requeue(r, t->channel);
		r->probing = false;
		fg_relay_lose_allocation(s, r);
		fg_relay_allocate(s, r, now);
		return;
	default:
		return;
	}
}

static void on_error(struct fg_relay_set *s, struct fg_relay *r, const struct fg_relay_tx *t,
		     const struct fg_stun_msg *m, uint64_t now)
{
	unsigned code = error_code(m);

	switch (code) {
	case FG_STUN_ERR_UNAUTHENTICATED:
		if (t->authed) {
			/* Our nonce was fine, so the credentials are not. */
			s->cnt.auth_failures++;
			fg_relay_fail(s, r, "credentials refused (401)");
			return;
		}
		/* fallthrough */
	case FG_STUN_ERR_STALE_NONCE:
		reauthenticate(s, r, t, m, now);
		return;
	case FG_STUN_ERR_ALLOCATION_MISMATCH:
		mismatch(s, r, t, now);
		return;
	case FG_STUN_ERR_ADDRESS_FAMILY:
		if (t->kind == FG_RELAY_TX_ALLOCATE && t->aaf) {
			/* No dual allocation here: ask for IPv4 alone. */
			r->no_aaf = true;
			fg_relay_allocate(s, r, now);
			return;
		}
		break;
	case FG_STUN_ERR_UNKNOWN_ATTRIBUTE:
		fg_relay_fail(s, r, "the relay does not understand our request (420)");
		return;
	default:
		break;
	}
	switch (t->kind) {
	case FG_RELAY_TX_DELETE:
		fg_relay_delete_done(s, r, now);
		return;
	case FG_RELAY_TX_CHANNEL:
		fg_info(LOG, "relay %s: CHANNEL-BIND of 0x%04x refused (%u)", r->id, t->channel, code);
		fg_relay_chan_refused(s, r, t->channel);
		return;
	case FG_RELAY_TX_BINDING:
		if (r->state == FG_RELAY_BINDING && !fg_relay_tx_inflight(r, FG_RELAY_TX_BINDING))
			fg_relay_fail(s, r, "BINDING refused");
		return;
	default:
		fg_warn(LOG, "relay %s: %s answered with error %u", r->id,
			t->kind == FG_RELAY_TX_ALLOCATE ? "ALLOCATE" :
			t->kind == FG_RELAY_TX_REFRESH ? "REFRESH" : "BINDING", code);
		fg_relay_fail(s, r, "error answer");
		return;
	}
}

static void on_binding(struct fg_relay_set *s, struct fg_relay *r, const struct fg_relay_tx *t,
		       const struct fg_stun_msg *m, uint64_t now)
{
	struct fg_endpoint mapped;

	if (fg_stun_get_addr(m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &mapped) == 0 ||
	    fg_stun_get_addr(m, FG_STUN_ATTR_MAPPED_ADDRESS, 0, &mapped) == 0) {
		struct fg_endpoint *slot = mapped.ip.family == AF_INET ? &r->srflx4 : &r->srflx6;

		if (!fg_endpoint_equal(slot, &mapped)) {
			*slot = mapped;
			fg_relay_emit_candidates(s, r);
		}
	} else {
		s->cnt.rx_bad_response++;
	}
	/* The first address to answer is the one we use from now on. */
	if (r->state == FG_RELAY_BINDING && !r->active.ip.family) {
		char ep[FG_ENDPOINT_STRLEN];

		r->active = t->dst;
		fg_debug(LOG, "relay %s: using %s", r->id, fg_endpoint_format(&r->active, ep, sizeof(ep)));
		fg_relay_allocate(s, r, now);
	}
}

static bool usable(const struct fg_endpoint *ep)
{
	static const uint8_t zero[16];

	return ep->port && memcmp(ep->ip.addr, zero, fg_ip_len(ep->ip.family));
}

static void on_allocate(struct fg_relay_set *s, struct fg_relay *r, const struct fg_stun_msg *m,
			uint64_t now)
{
	struct fg_endpoint v4 = { 0 }, v6 = { 0 }, ep;
	uint32_t lifetime = FG_RELAY_DEFAULT_LIFETIME_S;
	char a[FG_ENDPOINT_STRLEN], b[FG_ENDPOINT_STRLEN];
	bool changed;

	/* coturn answers a family it could not allocate with an unspecified address. */
	for (unsigned nth = 0; nth < 2; nth++) {
		if (fg_stun_get_addr(m, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, nth, &ep) < 0 || !usable(&ep))
			continue;
		if (ep.ip.family == AF_INET && !v4.ip.family)
			v4 = ep;
		else if (ep.ip.family == AF_INET6 && !v6.ip.family)
			v6 = ep;
	}
	fg_stun_get_u32(m, FG_STUN_ATTR_LIFETIME, &lifetime);
	if ((!v4.ip.family && !v6.ip.family) || !lifetime) {
		s->cnt.rx_bad_response++;
		fg_relay_fail(s, r, "ALLOCATE answered without a relayed address or lifetime");
		return;
	}
	changed = !fg_endpoint_equal(&r->relayed4, &v4) || !fg_endpoint_equal(&r->relayed6, &v6);
	r->relayed4 = v4;
	r->relayed6 = v6;
	r->allocated_ns = now;
	r->lifetime_ns = (uint64_t)lifetime * 1000000000ull;
	fg_info(LOG, "relay %s: allocated %s %s for %u s", r->id,
		v4.ip.family ? fg_endpoint_format(&v4, a, sizeof(a)) : "-",
		v6.ip.family ? fg_endpoint_format(&v6, b, sizeof(b)) : "-", lifetime);
	if (changed)
		fg_relay_emit_candidates(s, r);
	fg_relay_allocated(s, r, now);
}

static void on_refresh(struct fg_relay_set *s, struct fg_relay *r, const struct fg_stun_msg *m,
		       uint64_t now)
{
	uint32_t lifetime = FG_RELAY_DEFAULT_LIFETIME_S;

	fg_stun_get_u32(m, FG_STUN_ATTR_LIFETIME, &lifetime);
	r->probing = false;
	if (!lifetime) {
		/* The relay says the allocation is deleted: make a new one (snownet). */
		fg_relay_lose_allocation(s, r);
		fg_relay_allocate(s, r, now);
		return;
	}
	r->allocated_ns = now;
	r->lifetime_ns = (uint64_t)lifetime * 1000000000ull;
}

void fg_relay_tx_input(struct fg_relay_set *s, struct fg_relay *r, const struct fg_endpoint *from,
		       const uint8_t *buf, size_t len, uint64_t now)
{
	struct fg_relay_tx *slot, t;
	struct fg_stun_msg m;
	int rc;

	if (!len || buf[0] > 0x03) {
		s->cnt.rx_not_stun++;
		return;
	}
	rc = fg_stun_parse(buf, len, &m, NULL, 0);
	if (rc == -ENOTSUP) {
		s->cnt.rx_unknown_attr++;
		return;
	}
	if (rc < 0) {
		s->cnt.rx_malformed++;
		return;
	}
	if (m.cls != FG_STUN_SUCCESS && m.cls != FG_STUN_ERROR) {
		s->cnt.rx_not_response++;
		return;
	}
	slot = match(r, from, &m);
	if (!slot) {
		s->cnt.rx_unknown_txid++;
		return;
	}
	if (!trusted(s, r, slot, &m))
		return;
	t = *slot;
	slot->used = false;
	rtt_sample(r, now - t.start_ns);
	if (m.cls == FG_STUN_ERROR) {
		on_error(s, r, &t, &m, now);
		return;
	}
	switch (t.kind) {
	case FG_RELAY_TX_BINDING:
	case FG_RELAY_TX_KEEPALIVE:
		on_binding(s, r, &t, &m, now);
		break;
	case FG_RELAY_TX_ALLOCATE:
		on_allocate(s, r, &m, now);
		break;
	case FG_RELAY_TX_REFRESH:
		on_refresh(s, r, &m, now);
		break;
	case FG_RELAY_TX_DELETE:
		r->deleted_ns = now;
		fg_relay_delete_done(s, r, now);
		break;
	case FG_RELAY_TX_CHANNEL:
		fg_relay_chan_bound(s, r, t.channel, now);
		break;
	}
}
