// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the TURN client (controlplane/relay/) driven by arbitrary bytes read as
 * a program of operations on one set whose relay (dual-stack) has just sent its BINDINGs:
 * raw datagrams from either relay address, answers built with the codec to one of the last
 * requests the client sent (success or an error of the codes it acts on, the attributes
 * picked by the input, signed with the right key, a wrong one or not at all), raw bytes
 * behind a real transaction id, clock steps with ticks, channel binds, ChannelData both
 * ways, portal updates (the same relay, new credentials, omitted, a second relay) and
 * removals. Everything the client sends must parse as a STUN request; after a tick nothing
 * may be due any more; views and events must stay in their ranges; "no relays" and "relays
 * back" must alternate. Any broken invariant aborts. No state between inputs.
 *
 *   FG_FUZZ_BUILD_DIR=$PWD/build-fuzz-h6 scripts/fuzz.sh relay 60
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "chandata.h"
#include "log.h"
#include "relay.h"
#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                               \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "fuzz_relay: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                  \
		}                                                                 \
	} while (0)

enum { RECENT = 8 };

struct req {
	struct fg_endpoint to;
	uint16_t method;
	uint8_t txid[FG_STUN_TXID_LEN];
};

struct harness {
	const uint8_t *p, *end;
	struct fg_relay_set *s;
	uint64_t now;
	uint32_t seq;
	struct req recent[RECENT];
	unsigned nrecent, pos;
	struct fg_stun_key key, key2, wrong;
	struct fg_endpoint relay4, relay6, relay2;
	int level;              /* 0: none yet, 1: back, -1: no relays */
};

static uint8_t byte(struct harness *h)
{
	return h->p < h->end ? *h->p++ : 0;
}

static uint16_t u16(struct harness *h)
{
	return (uint16_t)(byte(h) << 8 | byte(h));
}

static void on_send(void *ctx, const struct fg_endpoint *to, const uint8_t *buf, size_t len)
{
	struct harness *h = ctx;
	struct fg_stun_msg m;
	struct req *r;

	CHECK(fg_stun_parse(buf, len, &m, NULL, 0) == 0);
	CHECK(m.cls == FG_STUN_REQUEST);
	CHECK(fg_endpoint_equal(to, &h->relay4) || fg_endpoint_equal(to, &h->relay6) ||
	      fg_endpoint_equal(to, &h->relay2));
	r = &h->recent[h->pos];
	h->pos = (h->pos + 1) % RECENT;
	if (h->nrecent < RECENT)
		h->nrecent++;
	r->to = *to;
	r->method = m.method;
	memcpy(r->txid, m.txid, sizeof(r->txid));
}

static void on_event(void *ctx, const struct fg_relay_event *ev)
{
	struct harness *h = ctx;

	switch (ev->type) {
	case FG_RELAY_EV_NO_RELAYS:
		CHECK(!ev->relay_id && h->level == 1);
		h->level = -1;
		break;
	case FG_RELAY_EV_RELAYS_BACK:
		CHECK(!ev->relay_id && h->level != 1);
		h->level = 1;
		break;
	case FG_RELAY_EV_CHANNEL_BOUND:
	case FG_RELAY_EV_CHANNEL_UNBOUND:
		CHECK(ev->channel >= 0x4000 && ev->channel <= 0x4FFF);
		/* fallthrough */
	default:
		CHECK(ev->relay_id && ev->relay_id[0]);
		/* a callback may not call back in */
		CHECK(fg_relay_bind_channel(h->s, ev->relay_id, &ev->peer, h->now) == -EBUSY);
		break;
	}
}

static int on_random(void *ctx, void *buf, size_t len)
{
	struct harness *h = ctx;
	uint8_t *b = buf;

	h->seq++;
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(h->seq >> (8 * (i % 4)));
	return 0;
}

static struct fg_relay_info info(const char *id, const struct fg_endpoint *a4,
				 const struct fg_endpoint *a6, const char *pass)
{
	struct fg_relay_info in;

	memset(&in, 0, sizeof(in));
	snprintf(in.id, sizeof(in.id), "%s", id);
	if (a4)
		in.addr4 = *a4;
	if (a6)
		in.addr6 = *a6;
	snprintf(in.username, sizeof(in.username), "2145916800:salt");
	snprintf(in.password, sizeof(in.password), "%s", pass);
	return in;
}

static struct fg_endpoint peer_of(struct harness *h)
{
	uint8_t b = byte(h);
	struct fg_endpoint ep;

	memset(&ep, 0, sizeof(ep));
	if (b & 0x80) {
		ep.ip.family = AF_INET6;
		ep.ip.addr[0] = 0x20;
		ep.ip.addr[1] = 0x01;
		ep.ip.addr[15] = b & 0x0F;
	} else {
		ep.ip.family = AF_INET;
		ep.ip.addr[0] = 198;
		ep.ip.addr[1] = 51;
		ep.ip.addr[3] = b & 0x1F;
	}
	ep.port = (uint16_t)(5000 + (b & 0x40 ? 1 : 0));
	return ep;
}

static const struct fg_endpoint *from_of(struct harness *h, uint8_t b)
{
	switch (b % 3) {
	case 0:
		return &h->relay4;
	case 1:
		return &h->relay6;
	default:
		return &h->relay2;
	}
}

/* An answer to one of the last requests, put together from the input. */
static void answer(struct harness *h)
{
	static const unsigned codes[] = { 401, 438, 437, 440, 420, 400, 500, 300 };
	uint8_t buf[1024], flags = byte(h), sel = byte(h);
	const struct req *r;
	struct fg_stun_builder b;
	struct fg_endpoint ep;
	int len;

	if (!h->nrecent)
		return;
	r = &h->recent[sel % h->nrecent];
	fg_stun_build_start(&b, buf, sizeof(buf), r->method, flags & 1 ? FG_STUN_ERROR : FG_STUN_SUCCESS,
			    r->txid);
	if (flags & 1)
		fg_stun_add_error(&b, codes[(sel >> 3) % 8], "fuzz");
	if (flags & 2) {
		ep = peer_of(h);
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &ep);
	}
	if (flags & 4) {
		ep = peer_of(h);
		ep.port = u16(h);
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, &ep);
		if (flags & 8) {
			ep = peer_of(h);
			fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, &ep);
		}
	}
	if (flags & 16)
		fg_stun_add_u32(&b, FG_STUN_ATTR_LIFETIME, byte(h) < 16 ? 0 : (uint32_t)byte(h) * 8);
	if (flags & 32) {
		char nonce[8];

		snprintf(nonce, sizeof(nonce), "n%u", byte(h));
		fg_stun_add_str(&b, FG_STUN_ATTR_NONCE, nonce);
		fg_stun_add_str(&b, FG_STUN_ATTR_REALM, byte(h) < 240 ? "firezone" : "other");
	}
	switch (flags >> 6) {
	case 1:
		fg_stun_add_integrity(&b, &h->key);
		break;
	case 2:
		fg_stun_add_integrity(&b, &h->key2);
		break;
	case 3:
		fg_stun_add_integrity(&b, &h->wrong);
		break;
	default:
		break;
	}
	len = fg_stun_build_finish(&b);
	if (len > 0)
		fg_relay_input(h->s, &r->to, buf, (size_t)len, h->now);
}

/* Raw bytes behind a real header: a transaction id the client is waiting on. */
static void raw_with_txid(struct harness *h)
{
	uint8_t buf[512];
	size_t n = byte(h) & ~3u;
	const struct req *r;

	if (!h->nrecent)
		return;
	r = &h->recent[byte(h) % h->nrecent];
	if (n > sizeof(buf) - 20)
		n = sizeof(buf) - 20;
	buf[0] = (uint8_t)(byte(h) & 0x01);
	buf[1] = byte(h);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	memcpy(buf + 4, "\x21\x12\xA4\x42", 4);
	memcpy(buf + 8, r->txid, FG_STUN_TXID_LEN);
	for (size_t i = 0; i < n; i++)
		buf[20 + i] = byte(h);
	fg_relay_input(h->s, &r->to, buf, 20 + n, h->now);
}

static void step(struct harness *h)
{
	uint8_t b = byte(h);
	uint64_t d;

	switch (b >> 6) {
	case 0:
		d = (uint64_t)(b & 63) * 100000000ull;       /* up to 6.3 s */
		break;
	case 1:
		d = (uint64_t)(b & 63) * 5000000000ull;      /* up to 315 s */
		break;
	case 2: {
		uint64_t next = fg_relay_next_timeout(h->s);

		d = next != UINT64_MAX && next > h->now ? next - h->now : 0;
		break;
	}
	default:
		d = (uint64_t)(b & 63) * 60000000000ull;     /* up to an hour */
		break;
	}
	h->now += d;
	fg_relay_tick(h->s, h->now);
	CHECK(fg_relay_next_timeout(h->s) > h->now);
}

static void view_cb(void *ctx, const struct fg_relay_view *v)
{
	bool *allocated = ctx;

	CHECK(v->state >= FG_RELAY_BINDING && v->state <= FG_RELAY_FAILED);
	CHECK(v->channels_bound <= v->channels_total && v->channels_total <= FG_RELAY_MAX_CHANNELS);
	if (v->state == FG_RELAY_ALLOCATED) {
		CHECK(v->relayed4.ip.family || v->relayed6.ip.family);
		CHECK(v->expires_ns > v->refresh_ns || v->expires_ns == v->refresh_ns);
		*allocated = true;
	} else {
		CHECK(!v->relayed4.ip.family && !v->relayed6.ip.family);
		CHECK(!v->channels_bound);
	}
}

static void chan_cb(void *ctx, const struct fg_relay_channel_view *c)
{
	(void)ctx;
	CHECK(c->number >= 0x4000 && c->number <= 0x4FFF);
	CHECK(c->state >= FG_RELAY_CHAN_PENDING && c->state <= FG_RELAY_CHAN_EXPIRED);
}

static void check_views(struct harness *h)
{
	bool allocated = false;

	fg_relay_foreach(h->s, h->now, view_cb, &allocated);
	CHECK(allocated == fg_relay_has_allocation(h->s));
	fg_relay_foreach_channel(h->s, "r1", chan_cb, NULL);
	fg_relay_foreach_channel(h->s, "r2", chan_cb, NULL);
}

static void op(struct harness *h)
{
	uint8_t b = byte(h);
	const char *id = b & 0x80 ? "r2" : "r1";
	struct fg_endpoint peer, to;
	struct fg_relay_info in[2];
	struct fg_relay_rx rx;
	uint8_t buf[256];
	size_t n;
	int rc;

	switch (b & 7) {
	case 0:                       /* raw bytes from a relay address */
		n = byte(h);
		for (size_t i = 0; i < n; i++)
			buf[i] = byte(h);
		rc = fg_relay_input(h->s, from_of(h, b >> 3), buf, n, h->now);
		CHECK(rc == 0 || rc == -ENOENT);
		break;
	case 1:
		answer(h);
		break;
	case 2:
		raw_with_txid(h);
		break;
	case 3:
		step(h);
		break;
	case 4:
		peer = peer_of(h);
		rc = fg_relay_bind_channel(h->s, id, &peer, h->now);
		CHECK((rc >= 0x4000 && rc <= 0x4FFF) || rc == -ENOENT || rc == -EAFNOSUPPORT ||
		      rc == -ENOSPC);
		break;
	case 5:                       /* the portal */
		in[0] = info("r1", &h->relay4, &h->relay6, byte(h) & 1 ? "pw-new" : "pw");
		in[1] = info("r2", &h->relay2, NULL, "pw2");
		switch ((b >> 3) & 3) {
		case 0:
			fg_relay_update(h->s, in, 1, b & 0x20, h->now);
			break;
		case 1:
			fg_relay_update(h->s, in + 1, 1, false, h->now);
			break;
		case 2:
			fg_relay_update(h->s, in, 2, true, h->now);
			break;
		default:
			fg_relay_remove(h->s, (const char *const[]){ id }, 1, h->now);
			break;
		}
		break;
	case 6:                       /* ChannelData in */
		n = byte(h);
		for (size_t i = 0; i < n; i++)
			buf[i] = byte(h);
		if (n >= 4 && (b & 8)) {
			buf[0] = 0x40;
			buf[2] = 0;
			buf[3] = (uint8_t)(n - 4);
		}
		rc = fg_relay_unwrap(h->s, from_of(h, b >> 3), buf, n, h->now, &rx);
		CHECK(rc == 0 || rc == -ENOENT || rc == -EBADMSG || rc == -ENOTCONN);
		if (rc == 0)
			CHECK(rx.len + 4 <= n && rx.data == buf + 4 && rx.relayed.ip.family);
		break;
	default:                      /* ChannelData out */
		peer = peer_of(h);
		rc = fg_relay_wrap(h->s, id, &peer, "data", 4, buf, sizeof(buf), &to, h->now);
		CHECK(rc == 8 || rc == -ENOENT || rc == -ENOTCONN);
		fg_relay_channel_used(h->s, id, (uint16_t)(0x4000 + (byte(h) & 7)), h->now);
		break;
	}
	check_views(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct fg_relay_ops ops = { on_send, on_event, on_random };
	struct harness h;
	struct fg_relay_info in;

	fg_log_set_level(FG_LOG_ERROR);       /* a relay giving up is a WARN: too many here */
	memset(&h, 0, sizeof(h));
	h.p = data;
	h.end = data + size;
	h.now = 1000000000000ull;
	fg_endpoint_parse("192.0.2.1:3478", &h.relay4);
	fg_endpoint_parse("[2001:db8::1]:3478", &h.relay6);
	fg_endpoint_parse("192.0.2.2:3478", &h.relay2);
	fg_stun_key_long_term(&h.key, "2145916800:salt", "firezone", "pw");
	fg_stun_key_long_term(&h.key2, "2145916800:salt", "firezone", "pw-new");
	fg_stun_key_long_term(&h.wrong, "2145916800:salt", "firezone", "guess");
	h.s = fg_relay_set_new(&ops, &h, NULL);
	CHECK(h.s);
	in = info("r1", &h.relay4, &h.relay6, "pw");
	CHECK(fg_relay_update(h.s, &in, 1, true, h.now) == 0);
	for (unsigned i = 0; i < 4096 && h.p < h.end; i++)
		op(&h);
	fg_relay_set_free(h.s);
	return 0;
}
