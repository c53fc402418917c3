// SPDX-License-Identifier: MIT
/*
 * The test bench of tests/unit/ice (ice_peer.h): the agent's ops record what it sends and
 * reports; a controlling peer built on the STUN codec answers and sends checks; a fake clock
 * drives fg_ice_tick(). Single-threaded.
 */
#include "ice_peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

struct bench B;

static struct fg_ice_pair_view pairs[FG_ICE_MAX_PAIRS];
static unsigned npairs;

struct fg_endpoint ep(const char *s)
{
	struct fg_endpoint e = { 0 };
	const char *colon = strrchr(s, ':');
	char ip[FG_ADDR_STRLEN + 2];
	size_t n = colon ? (size_t)(colon - s) : 0;

	if (n && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (!colon || n >= sizeof(ip) || (memcpy(ip, s, n), ip[n] = '\0', fg_ip_parse(ip, &e.ip))) {
		fprintf(stderr, "bad endpoint %s\n", s);
		CU_FAIL_FATAL("bad endpoint in a test");
	}
	e.port = (uint16_t)strtoul(colon + 1, NULL, 10);
	return e;
}

static uint64_t next_rand(void)
{
	B.rng ^= B.rng << 13;
	B.rng ^= B.rng >> 7;
	B.rng ^= B.rng << 17;
	return B.rng;
}

static int on_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)ctx;
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(next_rand() >> 24);
	return 0;
}

/* Every check of ours, as the client sees it (RFC 8445 §7.2.2, §7.1). */
static void vet_check(const struct fg_stun_msg *m, const struct fg_ice_path *path)
{
	const uint8_t *u;
	size_t ulen;
	uint64_t tie;
	uint32_t prio;
	bool ok = true;

	ok &= !fg_stun_get_bytes(m, FG_STUN_ATTR_USERNAME, &u, &ulen) &&
	      ulen == strlen(CL_UFRAG ":" GW_UFRAG) && !memcmp(u, CL_UFRAG ":" GW_UFRAG, ulen);
	ok &= fg_stun_check_integrity(m, &B.cl_key) == 0;
	ok &= fg_stun_has(m, FG_STUN_ATTR_FINGERPRINT);
	ok &= !fg_stun_get_u32(m, FG_STUN_ATTR_PRIORITY, &prio) && prio >> 24 == FG_ICE_PREF_PRFLX;
	ok &= !fg_stun_get_u64(m, FG_STUN_ATTR_ICE_CONTROLLED, &tie);
	ok &= !fg_stun_has(m, FG_STUN_ATTR_ICE_CONTROLLING) && !fg_stun_has(m, FG_STUN_ATTR_USE_CANDIDATE);
	ok &= path->local_type == FG_ICE_HOST || (path->local_type == FG_ICE_RELAY && path->relay_id);
	if (ok && B.tie_breaker && tie != B.tie_breaker)
		ok = false;   /* the same tie-breaker on every check (RFC 8445 §7.1.3) */
	if (ok)
		B.tie_breaker = tie;
	if (!ok)
		B.bad_checks++;
}

static void on_send(void *ctx, const struct fg_ice_path *path, const uint8_t *buf, size_t len)
{
	struct dgram *d;
	struct fg_stun_msg m;

	(void)ctx;
	CU_ASSERT_FATAL(B.nq < BENCH_Q && len <= BENCH_MSG);
	CU_ASSERT_EQUAL_FATAL(fg_stun_parse(buf, len, &m, NULL, 0), 0);
	CU_ASSERT_TRUE(fg_stun_has(&m, FG_STUN_ATTR_FINGERPRINT));
	if (m.cls == FG_STUN_REQUEST) {
		vet_check(&m, path);
		if (B.nchecks < BENCH_CHECKS) {
			B.check_at[B.nchecks] = B.now;
			B.check_to[B.nchecks++] = path->remote;
		}
	}
	d = &B.q[B.nq++];
	memset(d, 0, sizeof(*d));
	d->path = *path;
	if (path->relay_id) {
		snprintf(d->relay, sizeof(d->relay), "%s", path->relay_id);
		d->path.relay_id = d->relay;
	}
	memcpy(d->buf, buf, len);
	d->len = len;
	d->at = B.now;
}

static void on_event(void *ctx, const struct fg_ice_event *ev)
{
	struct evrec *r;

	(void)ctx;
	CU_ASSERT_FATAL(B.nev < BENCH_EV);
	r = &B.ev[B.nev++];
	memset(r, 0, sizeof(*r));
	r->ev = *ev;
	r->at = B.now;
	if (ev->line) {
		snprintf(r->line, sizeof(r->line), "%s", ev->line);
		r->ev.line = r->line;
	}
	if (ev->reason) {
		snprintf(r->reason, sizeof(r->reason), "%s", ev->reason);
		r->ev.reason = r->reason;
	}
	if (ev->path.relay_id) {
		snprintf(r->relay, sizeof(r->relay), "%s", ev->path.relay_id);
		r->ev.path.relay_id = r->relay;
	}
	if (B.reenter)
		B.reenter_rc = fg_ice_add_remote_candidate(B.a, "candidate:1 1 udp 1 198.18.5.1 5 typ host",
							   B.now, NULL, 0);
}

void bench_init(void)
{
	static const struct fg_ice_ops ops = { on_send, on_event, on_random };

	memset(&B, 0, sizeof(B));
	B.rng = 0x9e3779b97f4a7c15ull;
	B.now = SEC(1);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&B.gw_key, GW_PWD), 0);
	CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&B.cl_key, CL_PWD), 0);
	B.a = fg_ice_agent_new(GW_UFRAG, GW_PWD, CL_UFRAG, CL_PWD, &ops, NULL, B.now);
	CU_ASSERT_PTR_NOT_NULL_FATAL(B.a);
}

void bench_free(void)
{
	fg_ice_agent_free(B.a);
	B.a = NULL;
	CU_ASSERT_EQUAL(B.bad_checks, 0);
}

int bench_host(const char *addr)
{
	struct fg_endpoint e = ep(addr);

	return fg_ice_add_local_candidate(B.a, FG_ICE_HOST, &e, NULL, NULL, B.now);
}

int bench_relay(const char *addr, const char *relay_id)
{
	struct fg_endpoint e = ep(addr);

	return fg_ice_add_local_candidate(B.a, FG_ICE_RELAY, &e, NULL, relay_id, B.now);
}

int bench_srflx(const char *addr, const char *base)
{
	struct fg_endpoint e = ep(addr), b = ep(base);

	return fg_ice_add_local_candidate(B.a, FG_ICE_SRFLX, &e, &b, "r1", B.now);
}

int bench_remote(const char *line)
{
	return fg_ice_add_remote_candidate(B.a, line, B.now, B.err, sizeof(B.err));
}

bool bench_take(uint8_t cls, const uint8_t *txid, struct dgram *d, struct fg_stun_msg *m)
{
	for (unsigned i = 0; i < B.nq; i++) {
		struct fg_stun_msg mm;

		if (fg_stun_parse(B.q[i].buf, B.q[i].len, &mm, NULL, 0) || mm.cls != cls ||
		    (txid && memcmp(mm.txid, txid, FG_STUN_TXID_LEN)))
			continue;
		*d = B.q[i];
		if (d->path.relay_id)
			d->path.relay_id = d->relay;
		memmove(&B.q[i], &B.q[i + 1], (B.nq - i - 1) * sizeof(B.q[0]));
		B.nq--;
		/* the message now lives in d */
		CU_ASSERT_EQUAL_FATAL(fg_stun_parse(d->buf, d->len, m, NULL, 0), 0);
		return true;
	}
	return false;
}

void bench_flush(void)
{
	B.nq = 0;
}

bool bench_request(uint32_t local_id, const char *from_s, unsigned flags, uint32_t priority,
		   struct fg_stun_msg *resp, struct dgram *d)
{
	static const uint8_t unknown[4] = { 'a', 'b', 'c', 'd' };
	struct fg_endpoint from = ep(from_s);
	struct fg_stun_builder b;
	struct fg_stun_key wrong;
	struct fg_stun_msg m;
	struct dgram dd;
	uint8_t buf[512], txid[FG_STUN_TXID_LEN];
	char user[64];
	bool rc;
	int n;

	on_random(NULL, txid, sizeof(txid));
	fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_REQUEST, txid);
	if (!(flags & REQ_NO_USERNAME)) {
		snprintf(user, sizeof(user), "%s:%s", flags & REQ_OTHER_LOCAL ? "othr" : GW_UFRAG,
			 flags & REQ_WRONG_REMOTE ? "zzzz" : CL_UFRAG);
		fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, user);
	}
	if (!(flags & REQ_NO_PRIORITY))
		fg_stun_add_u32(&b, FG_STUN_ATTR_PRIORITY, priority);
	if (flags & REQ_UNKNOWN_ATTR)
		fg_stun_add_bytes(&b, 0x0030, unknown, sizeof(unknown));
	if (!(flags & REQ_NO_ROLE))
		fg_stun_add_u64(&b, flags & REQ_CONTROLLED ? FG_STUN_ATTR_ICE_CONTROLLED
							   : FG_STUN_ATTR_ICE_CONTROLLING,
				0x1234567890abcdefull);
	if (flags & REQ_USE_CANDIDATE)
		fg_stun_add_flag(&b, FG_STUN_ATTR_USE_CANDIDATE);
	if (!(flags & REQ_NO_INTEGRITY)) {
		CU_ASSERT_EQUAL_FATAL(fg_stun_key_short_term(&wrong, "wrongwrongwrongwrongwr"), 0);
		fg_stun_add_integrity(&b, flags & REQ_WRONG_PASSWORD ? &wrong : &B.gw_key);
	}
	if (!(flags & REQ_NO_FINGERPRINT))
		fg_stun_add_fingerprint(&b);
	n = fg_stun_build_finish(&b);
	CU_ASSERT_TRUE_FATAL(n > 0);
	rc = fg_ice_input(B.a, local_id, &from, buf, (size_t)n, B.now);
	if (!d)
		d = &dd;
	if (!resp)
		resp = &m;
	memset(d, 0, sizeof(*d));
	if (bench_take(FG_STUN_SUCCESS, txid, d, resp) || bench_take(FG_STUN_ERROR, txid, d, resp))
		CU_ASSERT_TRUE(fg_endpoint_equal(&d->path.remote, &from));
	return rc;
}

static bool blocked(const struct fg_endpoint *to)
{
	for (unsigned i = 0; i < B.nblocked; i++)
		if (fg_endpoint_equal(&B.blocked[i], to))
			return true;
	return B.deaf;
}

unsigned bench_answer(void)
{
	unsigned answered = 0;
	struct fg_stun_msg m;
	struct dgram d;

	while (!B.hold && bench_take(FG_STUN_REQUEST, NULL, &d, &m)) {
		struct fg_stun_builder b;
		uint8_t buf[256];
		int n;

		if (blocked(&d.path.remote))
			continue;
		fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_BINDING, FG_STUN_SUCCESS, m.txid);
		/* what the client sees: our base, or the relayed address */
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, &d.path.local);
		fg_stun_add_integrity(&b, &B.cl_key);
		fg_stun_add_fingerprint(&b);
		n = fg_stun_build_finish(&b);
		CU_ASSERT_TRUE_FATAL(n > 0);
		CU_ASSERT_TRUE(fg_ice_input(B.a, d.path.local_id, &d.path.remote, buf, (size_t)n, B.now));
		answered++;
	}
	return answered;
}

void bench_run(uint64_t until)
{
	for (unsigned guard = 0;; guard++) {
		uint64_t t = fg_ice_next_timeout(B.a);

		CU_ASSERT_FATAL(guard < 200000);
		if (t > until)
			break;
		if (t > B.now)
			B.now = t;
		fg_ice_tick(B.a, B.now);
		bench_answer();
		/* time moves on after a tick: nothing is due at once again */
		CU_ASSERT_TRUE_FATAL(fg_ice_next_timeout(B.a) > B.now);
	}
	if (until > B.now)
		B.now = until;
}

const struct evrec *bench_last_ev(enum fg_ice_event_type type)
{
	for (unsigned i = B.nev; i-- > 0;)
		if (B.ev[i].ev.type == type)
			return &B.ev[i];
	return NULL;
}

unsigned bench_count_ev(enum fg_ice_event_type type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < B.nev; i++)
		n += B.ev[i].ev.type == type;
	return n;
}

static void collect(void *ctx, const struct fg_ice_pair_view *p)
{
	(void)ctx;
	pairs[npairs++] = *p;
}

unsigned bench_pairs(void)
{
	npairs = 0;
	fg_ice_foreach_pair(B.a, collect, NULL);
	return npairs;
}

const struct fg_ice_pair_view *bench_pair(const char *remote)
{
	struct fg_endpoint r = ep(remote);

	bench_pairs();
	for (unsigned i = 0; i < npairs; i++)
		if (fg_endpoint_equal(&pairs[i].path.remote, &r))
			return &pairs[i];
	return NULL;
}
