// SPDX-License-Identifier: MIT
/*
 * The relay suite's bench (fake_turn.h): the fake clock and ops table, and the scripted TURN
 * server. The server checks each request the way a strict relay would (SOFTWARE "snownet",
 * REQUESTED-TRANSPORT 17 and ADDITIONAL-ADDRESS-FAMILY IPv6 on ALLOCATE, nothing of the
 * sort on REFRESH, USERNAME/REALM/NONCE and a MESSAGE-INTEGRITY that verifies with its own
 * key) and sets `bad` when one is wrong, so each test ends by asserting it never was.
 * Single-threaded.
 */
#include "fake_turn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <CUnit/Basic.h>

static void on_send(void *ctx, const struct fg_endpoint *to, const uint8_t *buf, size_t len)
{
	struct env *e = ctx;
	struct dgram *d;

	CU_ASSERT_FATAL(e->nout < ENV_MAX_OUT);
	CU_ASSERT_FATAL(len <= sizeof(d->buf));
	d = &e->out[e->nout++];
	d->to = *to;
	memcpy(d->buf, buf, len);
	d->len = len;
	d->at = e->now;
}

static void on_event(void *ctx, const struct fg_relay_event *ev)
{
	struct env *e = ctx;
	struct ev_rec *r;

	CU_ASSERT_FATAL(e->nev < ENV_MAX_EV);
	r = &e->ev[e->nev++];
	r->ev = *ev;
	r->at = e->now;
	r->id[0] = '\0';
	if (ev->relay_id)
		snprintf(r->id, sizeof(r->id), "%s", ev->relay_id);
	r->ev.relay_id = ev->relay_id ? r->id : NULL;
	if (e->reenter)
		e->reenter_rc = fg_relay_update(e->s, NULL, 0, false, e->now);
}

/* Distinct, predictable transaction ids. */
static int on_random(void *ctx, void *buf, size_t len)
{
	struct env *e = ctx;
	uint8_t *p = buf;

	e->txid_seq++;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(e->txid_seq >> (8 * (i % 4)) ^ (i * 37));
	return 0;
}

void env_init(struct env *e, const struct fg_relay_config *cfg)
{
	static const struct fg_relay_ops ops = { on_send, on_event, on_random };

	memset(e, 0, sizeof(*e));
	e->now = T0;
	e->ev = calloc(ENV_MAX_EV, sizeof(*e->ev));
	CU_ASSERT_PTR_NOT_NULL_FATAL(e->ev);
	e->s = fg_relay_set_new(&ops, e, cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e->s);
}

void env_free(struct env *e)
{
	fg_relay_set_free(e->s);
	free(e->ev);
	e->s = NULL;
}

struct fg_endpoint ep(const char *s)
{
	struct fg_endpoint e;

	memset(&e, 0, sizeof(e));
	if (s)
		CU_ASSERT_EQUAL_FATAL(fg_endpoint_parse(s, &e), 0);
	return e;
}

bool stun_bytes_eq(const struct fg_stun_msg *m, uint16_t type, const char *want)
{
	const uint8_t *v;
	size_t n;

	return fg_stun_get_bytes(m, type, &v, &n) == 0 && n == strlen(want) && !memcmp(v, want, n);
}

static void fake_rekey(struct fake *f)
{
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_long_term(&f->key, f->username, f->realm, f->password), 0);
}

void fake_init(struct fake *f, const char *addr4, const char *addr6, const char *user,
	       const char *pass)
{
	memset(f, 0, sizeof(*f));
	f->addr4 = ep(addr4);
	f->addr6 = ep(addr6);
	snprintf(f->realm, sizeof(f->realm), "firezone");
	snprintf(f->nonce, sizeof(f->nonce), "nonce-0");
	f->mapped4 = ep("203.0.113.9:47717");
	f->mapped6 = ep("[2001:db8:9::9]:47717");
	f->lifetime = 600;
	f->relayed_port_seq = 49152;
	f->relayed4 = ep("198.51.100.5:1");
	if (addr6)
		f->relayed6 = ep("[2001:db8::5]:1");
	fake_set_password(f, user, pass);
}

void fake_set_password(struct fake *f, const char *user, const char *pass)
{
	snprintf(f->username, sizeof(f->username), "%s", user);
	snprintf(f->password, sizeof(f->password), "%s", pass);
	fake_rekey(f);
}

struct fg_relay_info fake_info(const struct fake *f, const char *id)
{
	struct fg_relay_info in;

	memset(&in, 0, sizeof(in));
	snprintf(in.id, sizeof(in.id), "%s", id);
	in.addr4 = f->addr4;
	in.addr6 = f->addr6;
	snprintf(in.username, sizeof(in.username), "%s", f->username);
	snprintf(in.password, sizeof(in.password), "%s", f->password);
	return in;
}

void fake_script_error(struct fake *f, uint16_t method, unsigned code, bool sign, bool with_nonce)
{
	for (unsigned i = 0; i < sizeof(f->script) / sizeof(f->script[0]); i++) {
		if (f->script[i].used)
			continue;
		f->script[i] = (struct fake_script){ method, code, sign, with_nonce, true };
		return;
	}
	CU_FAIL_FATAL("script full");
}

static bool to_fake(const struct fake *f, const struct fg_endpoint *to)
{
	return (f->addr4.ip.family && fg_endpoint_equal(&f->addr4, to)) ||
	       (f->addr6.ip.family && fg_endpoint_equal(&f->addr6, to));
}

int env_answer(struct env *e, const struct fg_endpoint *from, const struct fg_stun_msg *req,
	       enum fg_stun_class cls, void (*fn)(struct fg_stun_builder *b, void *arg), void *arg,
	       const struct fg_stun_key *key)
{
	uint8_t buf[1500];
	struct fg_stun_builder b;
	int len;

	fg_stun_build_start(&b, buf, sizeof(buf), req->method, cls, req->txid);
	if (fn)
		fn(&b, arg);
	if (key)
		fg_stun_add_integrity(&b, key);
	len = fg_stun_build_finish(&b);
	CU_ASSERT_FATAL(len > 0);
	return fg_relay_input(e->s, from, buf, (size_t)len, e->now);
}

struct alloc_args {
	const struct fake *f;
	struct fg_endpoint r4, r6, mapped;
	uint32_t lifetime;
	bool has_lifetime;
};

static void add_alloc(struct fg_stun_builder *b, void *arg)
{
	const struct alloc_args *a = arg;

	if (a->r4.ip.family)
		fg_stun_add_xor_addr(b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, &a->r4);
	if (a->r6.ip.family)
		fg_stun_add_xor_addr(b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, &a->r6);
	if (a->mapped.ip.family)
		fg_stun_add_xor_addr(b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &a->mapped);
	if (a->has_lifetime)
		fg_stun_add_u32(b, FG_STUN_ATTR_LIFETIME, a->lifetime);
}

static void error(struct env *e, struct fake *f, const struct fg_endpoint *from,
		  const struct fg_stun_msg *m, unsigned code, bool sign, bool with_nonce)
{
	struct errattrs a = { code, NULL, NULL };

	if (with_nonce) {
		snprintf(f->nonce, sizeof(f->nonce), "nonce-%u", ++f->nonce_seq);
		a.realm = f->realm;
		a.nonce = f->nonce;
	}
	env_answer(e, from, m, FG_STUN_ERROR, answer_error, &a, sign ? &f->key : NULL);
}

static bool scripted(struct env *e, struct fake *f, const struct fg_endpoint *from,
		     const struct fg_stun_msg *m)
{
	for (unsigned i = 0; i < sizeof(f->script) / sizeof(f->script[0]); i++) {
		struct fake_script *sc = &f->script[i];

		if (!sc->used || sc->method != m->method)
			continue;
		sc->used = false;
		error(e, f, from, m, sc->code, sc->sign, sc->with_nonce);
		return true;
	}
	return false;
}

/* The credential checks of an authenticated request; false when it was answered here. */
static bool authenticated(struct env *e, struct fake *f, const struct fg_endpoint *from,
			  const struct fg_stun_msg *m)
{
	if (!fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY)) {
		if (fg_stun_has(m, FG_STUN_ATTR_USERNAME) || fg_stun_has(m, FG_STUN_ATTR_NONCE))
			f->bad = true;
		if (m->method != FG_STUN_ALLOCATE)
			f->bad = true;
		f->n_allocate_unauth += m->method == FG_STUN_ALLOCATE;
		error(e, f, from, m, 401, false, true);
		return false;
	}
	if (!stun_bytes_eq(m, FG_STUN_ATTR_USERNAME, f->username) ||
	    !stun_bytes_eq(m, FG_STUN_ATTR_REALM, f->realm) ||
	    fg_stun_check_integrity(m, &f->key) != 0) {
		/* coturn's answer to unknown credentials: an unsigned 401 challenge. */
		error(e, f, from, m, 401, false, true);
		return false;
	}
	if (!stun_bytes_eq(m, FG_STUN_ATTR_NONCE, f->nonce)) {
		error(e, f, from, m, 438, f->sign_challenges, true);
		return false;
	}
	return true;
}

static void serve_one(struct env *e, struct fake *f, const struct dgram *d)
{
	const struct fg_endpoint *from = &d->to;
	struct alloc_args a = { .f = f };
	struct fg_stun_msg m;
	uint8_t u8;
	uint32_t lifetime;

	if (fg_stun_parse(d->buf, d->len, &m, NULL, 0) != 0 || m.cls != FG_STUN_REQUEST ||
	    !stun_bytes_eq(&m, FG_STUN_ATTR_SOFTWARE, "snownet")) {
		f->bad = true;
		return;
	}
	if (m.method == FG_STUN_BINDING) {
		struct fg_endpoint mapped = from->ip.family == AF_INET ? f->mapped4 : f->mapped6;

		f->n_binding++;
		if (fg_stun_has(&m, FG_STUN_ATTR_USERNAME) || fg_stun_has(&m, FG_STUN_ATTR_MESSAGE_INTEGRITY))
			f->bad = true;
		if (!scripted(e, f, from, &m))
			env_answer(e, from, &m, FG_STUN_SUCCESS, answer_mapped, &mapped, NULL);
		return;
	}
	if (scripted(e, f, from, &m) || !authenticated(e, f, from, &m))
		return;
	if (f->coturn_session && f->allocated && m.method != FG_STUN_ALLOCATE &&
	    !stun_bytes_eq(&m, FG_STUN_ATTR_USERNAME, f->alloc_user)) {
		f->n_wrong_user++;
		error(e, f, from, &m, 441, false, false);
		return;
	}
	switch (m.method) {
	case FG_STUN_ALLOCATE:
		f->n_allocate++;
		if (fg_stun_get_transport(&m, &u8) != 0 || u8 != 17 ||
		    fg_stun_get_family(&m, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &u8) != 0 ||
		    u8 != AF_INET6)
			f->bad = true;
		if (f->allocated) {
			error(e, f, from, &m, 437, true, false);
			return;
		}
		f->allocated = true;
		snprintf(f->alloc_user, sizeof(f->alloc_user), "%s", f->username);
		a.r4 = f->relayed4;
		a.r6 = f->relayed6;
		a.r4.port = a.r6.port = f->relayed_port_seq++;
		a.mapped = from->ip.family == AF_INET ? f->mapped4 : f->mapped6;
		a.lifetime = f->lifetime;
		a.has_lifetime = true;
		env_answer(e, from, &m, FG_STUN_SUCCESS, add_alloc, &a, &f->key);
		return;
	case FG_STUN_REFRESH:
		if (fg_stun_has(&m, FG_STUN_ATTR_REQUESTED_TRANSPORT) ||
		    fg_stun_has(&m, FG_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY))
			f->bad = true;
		if (!f->allocated) {
			error(e, f, from, &m, 437, true, false);
			return;
		}
		a.has_lifetime = true;
		if (fg_stun_get_u32(&m, FG_STUN_ATTR_LIFETIME, &lifetime) == 0 && lifetime == 0) {
			f->n_delete++;
			f->allocated = f->coturn_session;
			a.lifetime = 0;
		} else {
			bool asked = fg_stun_get_u32(&m, FG_STUN_ATTR_LIFETIME, &lifetime) == 0;

			f->n_refresh++;
			f->last_refresh_at = e->now;
			f->last_refresh_lifetime = asked ? lifetime : 0;
			a.lifetime = f->lifetime;
			/* coturn 4.6: only a requested lifetime meets max-allocate-lifetime. */
			if (f->coturn_lifetime)
				a.lifetime = !asked ? 600 : lifetime < f->lifetime ? lifetime : f->lifetime;
		}
		env_answer(e, from, &m, FG_STUN_SUCCESS, add_alloc, &a, &f->key);
		return;
	case FG_STUN_CHANNEL_BIND:
		f->n_chanbind++;
		if (fg_stun_get_channel(&m, &f->last_channel) != 0 ||
		    fg_stun_get_addr(&m, FG_STUN_ATTR_XOR_PEER_ADDRESS, 0, &f->last_peer) != 0 ||
		    !f->allocated)
			f->bad = true;
		env_answer(e, from, &m, FG_STUN_SUCCESS, NULL, NULL, &f->key);
		return;
	default:
		f->bad = true;
	}
}

void fake_serve(struct env *e, struct fake *f)
{
	for (unsigned guard = 0; guard < 100000; guard++) {
		struct dgram d;
		unsigned i;

		for (i = 0; i < e->nout && !to_fake(f, &e->out[i].to); i++)
			;
		if (i == e->nout)
			return;
		d = e->out[i];
		memmove(&e->out[i], &e->out[i + 1], (e->nout - i - 1) * sizeof(e->out[0]));
		e->nout--;
		if (!f->silent)
			serve_one(e, f, &d);
	}
	CU_FAIL("fake_serve does not end");
}

void env_run(struct env *e, uint64_t t, struct fake **fakes)
{
	for (unsigned guard = 0; guard < 1000000; guard++) {
		uint64_t next;

		for (struct fake **f = fakes; f && *f; f++)
			fake_serve(e, *f);
		next = fg_relay_next_timeout(e->s);
		if (next > t) {
			e->now = t;
			return;
		}
		if (next > e->now)
			e->now = next;
		fg_relay_tick(e->s, e->now);
	}
	CU_FAIL("env_run does not end");
}

bool env_take(struct env *e, const struct fg_endpoint *to, struct dgram *d, struct fg_stun_msg *m)
{
	for (unsigned i = 0; i < e->nout; i++) {
		if (to && !fg_endpoint_equal(&e->out[i].to, to))
			continue;
		*d = e->out[i];
		memmove(&e->out[i], &e->out[i + 1], (e->nout - i - 1) * sizeof(e->out[0]));
		e->nout--;
		return fg_stun_parse(d->buf, d->len, m, NULL, 0) == 0;
	}
	return false;
}

void env_drop_all(struct env *e)
{
	e->nout = 0;
}

unsigned env_queued(const struct env *e, const struct fg_endpoint *to)
{
	unsigned n = 0;

	for (unsigned i = 0; i < e->nout; i++)
		n += !to || fg_endpoint_equal(&e->out[i].to, to);
	return n;
}

unsigned env_count_ev(const struct env *e, enum fg_relay_event_type type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < e->nev; i++)
		n += e->ev[i].ev.type == type;
	return n;
}

const struct ev_rec *env_last_ev(const struct env *e, enum fg_relay_event_type type)
{
	for (unsigned i = e->nev; i-- > 0;)
		if (e->ev[i].ev.type == type)
			return &e->ev[i];
	return NULL;
}

void env_clear_ev(struct env *e)
{
	e->nev = 0;
}

struct view_find {
	const char *id;
	struct fg_relay_view v;
	char idbuf[FG_RELAY_ID_LEN];
	bool found;
};

static void view_cb(void *ctx, const struct fg_relay_view *v)
{
	struct view_find *vf = ctx;

	if (strcmp(v->id, vf->id))
		return;
	vf->v = *v;
	vf->found = true;
}

const struct fg_relay_view *view_of(struct env *e, const char *id)
{
	static struct view_find vf;

	memset(&vf, 0, sizeof(vf));
	vf.id = id;
	fg_relay_foreach(e->s, e->now, view_cb, &vf);
	return vf.found ? &vf.v : NULL;
}

void fake_start(struct env *e, struct fake *f, const char *id)
{
	struct fg_relay_info in = fake_info(f, id);

	CU_ASSERT_EQUAL(fg_relay_update(e->s, &in, 1, true, e->now), 0);
	memset(in.password, 0, sizeof(in.password));
}

void fake_up(struct env *e, struct fake *f, const char *id)
{
	const struct fg_relay_view *v;

	fake_start(e, f, id);
	fake_serve(e, f);
	v = view_of(e, id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_EQUAL(v->state, FG_RELAY_ALLOCATED);
	CU_ASSERT_FALSE(f->bad);
}

void answer_mapped(struct fg_stun_builder *b, void *arg)
{
	fg_stun_add_xor_addr(b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, arg);
}

void answer_error(struct fg_stun_builder *b, void *arg)
{
	const struct errattrs *a = arg;

	fg_stun_add_error(b, a->code, "test");
	if (a->realm)
		fg_stun_add_str(b, FG_STUN_ATTR_REALM, a->realm);
	if (a->nonce)
		fg_stun_add_str(b, FG_STUN_ATTR_NONCE, a->nonce);
}

void answer_alloc(struct fg_stun_builder *b, void *arg)
{
	const struct allocattrs *a = arg;

	if (a->r4.ip.family)
		fg_stun_add_xor_addr(b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, &a->r4);
	if (a->r6.ip.family)
		fg_stun_add_xor_addr(b, FG_STUN_ATTR_XOR_RELAYED_ADDRESS, &a->r6);
	fg_stun_add_u32(b, FG_STUN_ATTR_LIFETIME, a->lifetime);
}
