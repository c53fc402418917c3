/* SPDX-License-Identifier: MIT */
/*
 * The STUN side of the ICE agent: the Binding requests we answer (RFC 8445 §7.3 with the
 * short-term credentials of RFC 8489 §9.1), the checks we send (§7.2: USERNAME
 * "<remote ufrag>:<local ufrag>", PRIORITY as peer-reflexive, ICE-CONTROLLED with our
 * tie-breaker, MESSAGE-INTEGRITY with the client's password, FINGERPRINT), their schedule,
 * and the responses we match by transaction id.
 *
 * The schedule is str0m's, which Firezone's timing profiles parameterise: every check is a
 * new transaction; the n-th check of a pair follows the previous one by
 * min(RTO * 2^(n-1), max RTO), counting from the first unanswered one again once answers
 * have been missing for max RTO / 2; after `retransmits` checks in a row without an answer
 * and one more interval, the pair has failed. A pair keeps being checked after it
 * succeeded, which is the keepalive (every 15 s, idle 25 s). Ordinary checks leave one per
 * Ta; a check triggered by a request (RFC 8445 §7.3.1.4) leaves at once, at most one per
 * initial RTO per pair.
 *
 * What we answer: 400 when USERNAME, MESSAGE-INTEGRITY, PRIORITY or FINGERPRINT is missing,
 * 401 for another remote ufrag or a wrong MESSAGE-INTEGRITY (both unsigned: we could not
 * authenticate), 420 for unknown comprehension-required attributes, and 487 when the client
 * claims the controlled role too: our role is the portal's, so where RFC 8445 §7.3.1.1 would
 * have the agent with the larger tie-breaker switch, we keep it and let the peer switch.
 * A request whose USERNAME names another local ufrag is not ours (false, nothing sent).
 * Owned by the control plane's single thread.
 */
#include "ice_priv.h"

#include <errno.h>
#include <string.h>

#include <openssl/rand.h>

#include "log.h"

#define LOG "ice"

struct profile {
	uint64_t rto_ms, max_rto_ms;
	uint32_t retransmits;
};

static struct profile profile_of(const struct fg_ice_agent *a)
{
	if (a->idle)
		return (struct profile){ FG_ICE_IDLE_RTO_MS, FG_ICE_IDLE_MAX_RTO_MS,
					 FG_ICE_IDLE_RETRANSMITS };
	return (struct profile){ FG_ICE_NORMAL_RTO_MS, FG_ICE_NORMAL_MAX_RTO_MS,
				 FG_ICE_NORMAL_RETRANSMITS };
}

int fg_ice_random(struct fg_ice_agent *a, void *buf, size_t len)
{
	int rc;

	if (!a->ops.random)
		return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
	a->in_cb = true;
	rc = a->ops.random(a->ctx, buf, len);
	a->in_cb = false;
	return rc < 0 ? -EIO : 0;
}

/* ---- the schedule ---- */

/* The wait after the n-th check: RTO doubled n-1 times, at most max RTO (str0m). */
static uint64_t resend_delay(const struct profile *pr, uint32_t n)
{
	uint64_t ms = pr->rto_ms;

	if (!n)
		return 0;
	for (uint32_t i = 1; i < n && i <= pr->retransmits && ms < pr->max_rto_ms; i++)
		ms *= 2;
	return FG_ICE_MS(ms < pr->max_rto_ms ? ms : pr->max_rto_ms);
}

static uint32_t min32(uint32_t x, uint32_t y)
{
	return x < y ? x : y;
}

bool fg_ice_check_exhausted(const struct fg_ice_agent *a, const struct fg_ice_pair *p)
{
	struct profile pr = profile_of(a);

	return p->state != FG_ICE_PAIR_FAILED && p->unanswered >= pr.retransmits &&
	       p->attempts >= pr.retransmits;
}

static uint64_t max64(uint64_t x, uint64_t y)
{
	return x > y ? x : y;
}

uint64_t fg_ice_check_due(const struct fg_ice_agent *a, const struct fg_ice_pair *p)
{
	struct profile pr = profile_of(a);
	uint64_t due, outage, soonest;

	if (p->state == FG_ICE_PAIR_FROZEN || p->state == FG_ICE_PAIR_FAILED)
		return UINT64_MAX;
	if (!p->attempts)
		return 0;
	due = p->last_sent_ns + resend_delay(&pr, min32(p->attempts, pr.retransmits));
	/*
	 * str0m's outage rule: once answers have been missing for more than max RTO / 2, the
	 * wait counts the unanswered checks only, probing as if from the start again.
	 */
	if (p->unanswered) {
		outage = max64(p->first_unanswered_ns + FG_ICE_MS(pr.max_rto_ms) / 2 + 1,
			       p->last_sent_ns + resend_delay(&pr, p->unanswered));
		due = outage < due ? outage : due;
	}
	/* a triggered check owed: one initial RTO after the last check, if that is sooner */
	soonest = p->last_sent_ns + FG_ICE_MS(FG_ICE_NORMAL_RTO_MS);
	return p->triggered && soonest < due ? soonest : due;
}

static int build_check(struct fg_ice_agent *a, const struct fg_ice_pair *p, const uint8_t *txid,
		       uint8_t *buf, size_t cap)
{
	const struct fg_ice_local *l = &a->locals[p->local];
	struct fg_stun_builder b;

	fg_stun_build_start(&b, buf, cap, FG_STUN_BINDING, FG_STUN_REQUEST, txid);
	fg_stun_add_str(&b, FG_STUN_ATTR_USERNAME, a->username);
	fg_stun_add_u32(&b, FG_STUN_ATTR_PRIORITY, fg_ice_priority(FG_ICE_PRFLX, l->local_pref, 1));
	fg_stun_add_u64(&b, FG_STUN_ATTR_ICE_CONTROLLED, a->tie_breaker);
	fg_stun_add_integrity(&b, &a->remote_key);
	fg_stun_add_fingerprint(&b);
	return fg_stun_build_finish(&b);
}

int fg_ice_check_send(struct fg_ice_agent *a, struct fg_ice_pair *p, uint64_t now)
{
	uint8_t buf[FG_ICE_MSG_MAX], txid[FG_STUN_TXID_LEN];
	struct fg_ice_check *chk;
	struct fg_ice_path path;
	int len;

	len = fg_ice_random(a, txid, sizeof(txid)) < 0 ? -EIO : build_check(a, p, txid, buf, sizeof(buf));
	if (len < 0) {
		a->cnt.tx_errors++;
		return len;
	}
	chk = &p->checks[p->check_pos];
	p->check_pos = (uint8_t)((p->check_pos + 1) % FG_ICE_CHECKS_KEPT);
	chk->used = true;
	memcpy(chk->txid, txid, sizeof(txid));
	chk->sent_ns = now;
	if (p->attempts < UINT32_MAX)
		p->attempts++;
	if (!p->unanswered)
		p->first_unanswered_ns = now;
	if (p->unanswered < UINT32_MAX)
		p->unanswered++;
	p->checks_sent++;
	p->last_sent_ns = now;
	p->triggered = false;
	if (p->state == FG_ICE_PAIR_WAITING || p->state == FG_ICE_PAIR_FROZEN)
		p->state = FG_ICE_PAIR_IN_PROGRESS;
	a->cnt.tx_checks++;
	fg_ice_path_of(a, p, &path);
	fg_ice_send(a, &path, buf, (size_t)len);
	return 0;
}

void fg_ice_checks_run(struct fg_ice_agent *a, uint64_t now)
{
	struct fg_ice_pair *next = NULL;
	uint64_t next_due = UINT64_MAX;

	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++) {
		struct fg_ice_pair *p = &a->pairs[i];
		uint64_t due;

		if (!p->used)
			continue;
		due = fg_ice_check_due(a, p);
		if (due > now)
			continue;
		if (fg_ice_check_exhausted(a, p)) {
			fg_ice_pair_fail(a, p, "no answer");
			continue;
		}
		if (!next || due < next_due || (due == next_due && p->prio > next->prio)) {
			next = p;
			next_due = due;
		}
	}
	if (next && now >= a->next_check_ns) {
		fg_ice_check_send(a, next, now);
		a->next_check_ns = now + FG_ICE_MS(FG_ICE_TA_MS);
	}
}

uint64_t fg_ice_checks_next(const struct fg_ice_agent *a)
{
	uint64_t t = UINT64_MAX;

	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++) {
		const struct fg_ice_pair *p = &a->pairs[i];
		uint64_t due;

		if (!p->used)
			continue;
		due = fg_ice_check_due(a, p);
		if (due != UINT64_MAX && !fg_ice_check_exhausted(a, p) && due < a->next_check_ns)
			due = a->next_check_ns;
		if (due < t)
			t = due;
	}
	return t;
}

/* ---- requests ---- */

struct reply {
	unsigned code;              /* 0: success */
	const char *reason;
	bool sign;
	const uint16_t *unknown;
	size_t n_unknown;
};

static void answer(struct fg_ice_agent *a, const struct fg_ice_local *l,
		   const struct fg_endpoint *from, const struct fg_stun_msg *m, const struct reply *r)
{
	uint8_t buf[FG_ICE_MSG_MAX];
	struct fg_stun_builder b;
	struct fg_ice_path path;
	int len;

	fg_stun_build_start(&b, buf, sizeof(buf), FG_STUN_BINDING,
			    r->code ? FG_STUN_ERROR : FG_STUN_SUCCESS, m->txid);
	if (r->code)
		fg_stun_add_error(&b, r->code, r->reason);
	else
		fg_stun_add_xor_addr(&b, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, from);
	if (r->n_unknown)
		fg_stun_add_unknown(&b, r->unknown, r->n_unknown);
	if (r->sign)
		fg_stun_add_integrity(&b, &a->local_key);
	fg_stun_add_fingerprint(&b);
	len = fg_stun_build_finish(&b);
	if (len < 0) {
		a->cnt.tx_errors++;
		return;
	}
	memset(&path, 0, sizeof(path));
	path.local_id = l->id;
	path.local_type = l->c.type;
	path.relay_id = l->c.type == FG_ICE_RELAY ? l->relay_id : NULL;
	path.local = l->base;
	path.remote = *from;
	fg_ice_send(a, &path, buf, (size_t)len);
}

static bool has_integrity(const struct fg_stun_msg *m)
{
	return fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY) ||
	       fg_stun_has(m, FG_STUN_ATTR_MESSAGE_INTEGRITY_SHA256);
}

/*
 * RFC 8489 §9.1.3 then RFC 8445 §7.3: returns the error to answer (0 when the request
 * goes on to be processed), or -1 when nothing is to be sent.
 */
static int vet_request(struct fg_ice_agent *a, const struct fg_stun_msg *m, int parsed,
		       struct reply *r)
{
	const uint8_t *u;
	size_t ulen, llen = strlen(a->local_ufrag);
	uint32_t prio;
	int rc;

	*r = (struct reply){ 0, NULL, false, NULL, 0 };
	if (fg_stun_get_bytes(m, FG_STUN_ATTR_USERNAME, &u, &ulen) || !has_integrity(m)) {
		a->cnt.rx_bad_request++;
		*r = (struct reply){ FG_STUN_ERR_BAD_REQUEST, "Bad Request", false, NULL, 0 };
		return r->code;
	}
	if (ulen != llen + 1 + strlen(a->remote_ufrag) || u[llen] != ':' ||
	    memcmp(u + llen + 1, a->remote_ufrag, ulen - llen - 1)) {
		a->cnt.rx_unauthenticated++;
		*r = (struct reply){ FG_STUN_ERR_UNAUTHENTICATED, "Unauthenticated", false, NULL, 0 };
		return r->code;
	}
	rc = fg_stun_check_integrity(m, &a->local_key);
	if (rc == -ENOMEM) {
		a->cnt.tx_errors++;
		return -1;
	}
	if (rc) {
		a->cnt.rx_unauthenticated++;
		*r = (struct reply){ FG_STUN_ERR_UNAUTHENTICATED, "Unauthenticated", false, NULL, 0 };
		return r->code;
	}
	if (!fg_stun_has(m, FG_STUN_ATTR_FINGERPRINT) ||
	    fg_stun_get_u32(m, FG_STUN_ATTR_PRIORITY, &prio)) {
		a->cnt.rx_bad_request++;
		*r = (struct reply){ FG_STUN_ERR_BAD_REQUEST, "Bad Request", true, NULL, 0 };
		return r->code;
	}
	if (parsed == -ENOTSUP) {
		a->cnt.rx_unknown_attr++;
		*r = (struct reply){ FG_STUN_ERR_UNKNOWN_ATTRIBUTE, "Unknown Attribute", true, m->unknown,
				     m->n_unknown };
		return r->code;
	}
	if (fg_stun_has(m, FG_STUN_ATTR_ICE_CONTROLLED)) {
		a->cnt.rx_role_conflict++;
		*r = (struct reply){ FG_STUN_ERR_ROLE_CONFLICT, "Role Conflict", true, NULL, 0 };
		return r->code;
	}
	*r = (struct reply){ 0, NULL, true, NULL, 0 };
	return 0;
}

/* The request's local ufrag is ours (USERNAME "<ours>:..."), or there is no USERNAME. */
static bool addressed_to_us(const struct fg_ice_agent *a, const struct fg_stun_msg *m)
{
	const uint8_t *u;
	size_t ulen, llen = strlen(a->local_ufrag);

	if (fg_stun_get_bytes(m, FG_STUN_ATTR_USERNAME, &u, &ulen))
		return true;
	return ulen > llen && u[llen] == ':' && !memcmp(u, a->local_ufrag, llen);
}

/* A valid request on pair p: nomination, and a triggered check unless p succeeded already. */
static void triggered(struct fg_ice_agent *a, struct fg_ice_pair *p, bool use_candidate,
		      uint64_t now)
{
	p->requests_rx++;
	if (use_candidate)
		p->use_candidate = true;   /* nominated now if valid, or once our check succeeds */
	/* The client nominates another pair: is the selected one still there? It is checked
	 * again from the start of the normal schedule (now, 250 ms, 500 ms...), so a silent
	 * pair gives way within a second (fg_ice_evaluate) and a live one answers and stays.
	 * A new nomination is activity: the normal profile, as str0m's on new candidates. */
	if (use_candidate && a->selected != FG_ICE_NONE && &a->pairs[a->selected] != p &&
	    a->pairs[a->selected].state == FG_ICE_PAIR_SUCCEEDED) {
		a->idle = false;
		a->last_activity_ns = now;
		a->pairs[a->selected].attempts = 0;
		a->pairs[a->selected].triggered = true;
	}
	if (p->state == FG_ICE_PAIR_SUCCEEDED)
		return;
	if (p->state == FG_ICE_PAIR_FAILED) {
		p->state = FG_ICE_PAIR_WAITING;
		p->attempts = p->unanswered = 0;
		p->use_candidate = use_candidate;
	}
	p->triggered = true;
	if (p->attempts && now < p->last_sent_ns + FG_ICE_MS(FG_ICE_NORMAL_RTO_MS))
		return;   /* one just left: the flag sends the next one on time */
	if (!fg_ice_check_send(a, p, now))
		a->cnt.tx_triggered++;
}

static bool on_request(struct fg_ice_agent *a, uint32_t local_id, const struct fg_endpoint *from,
		       const struct fg_stun_msg *m, int parsed, uint64_t now)
{
	struct fg_ice_local *l;
	struct fg_ice_pair *p;
	struct reply r;
	uint32_t prio = 0;
	int remote;

	if (!addressed_to_us(a, m))
		return false;
	if (a->state == FG_ICE_FAILED) {
		a->cnt.rx_after_failure++;
		return true;
	}
	l = fg_ice_local_by_id(a, local_id);
	if (!l || l->c.type == FG_ICE_SRFLX || l->base.ip.family != from->ip.family) {
		a->cnt.rx_unknown_local++;
		return true;
	}
	if (vet_request(a, m, parsed, &r)) {
		if (r.code)
			answer(a, l, from, m, &r);
		return true;
	}
	fg_stun_get_u32(m, FG_STUN_ATTR_PRIORITY, &prio);
	remote = fg_ice_remote_for_request(a, from, prio, (unsigned)(l - a->locals), now);
	if (remote == -EPERM) {
		a->cnt.rx_invalidated++;
		return true;
	}
	answer(a, l, from, m, &r);
	a->cnt.rx_requests++;
	if (remote < 0) {
		a->cnt.rx_no_remote_slot++;
		return true;
	}
	p = fg_ice_pair_get(a, (unsigned)(l - a->locals), (unsigned)remote);
	if (p)
		triggered(a, p, fg_stun_has(m, FG_STUN_ATTR_USE_CANDIDATE), now);
	fg_ice_evaluate(a, now);
	return true;
}

/* ---- responses ---- */

static struct fg_ice_pair *match(struct fg_ice_agent *a, const uint8_t *txid,
				 struct fg_ice_check **chk)
{
	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++) {
		struct fg_ice_pair *p = &a->pairs[i];

		for (unsigned j = 0; p->used && j < FG_ICE_CHECKS_KEPT; j++) {
			if (p->checks[j].used && !memcmp(p->checks[j].txid, txid, FG_STUN_TXID_LEN)) {
				*chk = &p->checks[j];
				return p;
			}
		}
	}
	return NULL;
}

static bool on_error(struct fg_ice_agent *a, struct fg_ice_pair *p, struct fg_ice_check *chk,
		     const struct fg_stun_msg *m, uint64_t now)
{
	unsigned code = 0;
	const char *reason;
	size_t n;

	/* errors before authentication come unsigned; a signed one must verify */
	if (has_integrity(m) && fg_stun_check_integrity(m, &a->remote_key)) {
		a->cnt.rx_bad_integrity++;
		return true;
	}
	chk->used = false;
	fg_stun_get_error(m, &code, &reason, &n);
	if (code == FG_STUN_ERR_ROLE_CONFLICT) {
		a->cnt.rx_role_conflict_response++;   /* we stay controlled; the check is retried */
		return true;
	}
	a->cnt.rx_error_response++;
	fg_ice_pair_fail(a, p, "error response");
	fg_ice_evaluate(a, now);
	return true;
}

static bool on_response(struct fg_ice_agent *a, uint32_t local_id, const struct fg_endpoint *from,
			const struct fg_stun_msg *m, int parsed, uint64_t now)
{
	struct fg_ice_check *chk = NULL;
	struct fg_ice_pair *p = match(a, m->txid, &chk);
	struct fg_endpoint mapped;
	int rc;

	if (!p)
		return false;
	if (a->state == FG_ICE_FAILED) {
		a->cnt.rx_after_failure++;
		return true;
	}
	if (m->cls == FG_STUN_ERROR)
		return on_error(a, p, chk, m, now);
	rc = fg_stun_check_integrity(m, &a->remote_key);
	if (rc) {
		if (rc == -ENOENT)
			a->cnt.rx_unsigned++;
		else
			a->cnt.rx_bad_integrity++;
		return true;
	}
	if (parsed == -ENOTSUP || (fg_stun_get_addr(m, FG_STUN_ATTR_XOR_MAPPED_ADDRESS, 0, &mapped) &&
				   fg_stun_get_addr(m, FG_STUN_ATTR_MAPPED_ADDRESS, 0, &mapped))) {
		a->cnt.rx_bad_response++;
		return true;
	}
	/* RFC 8445 §7.2.5.2.1: the answer comes back the way the check went, or the pair fails */
	if (a->locals[p->local].id != local_id ||
	    !fg_endpoint_equal(from, &a->remotes[p->remote].c.addr)) {
		a->cnt.rx_asymmetric++;
		fg_ice_pair_fail(a, p, "asymmetric response");
		fg_ice_evaluate(a, now);
		return true;
	}
	a->cnt.rx_responses++;
	chk->used = false;
	p->rtt_ns = now - chk->sent_ns;
	p->last_success_ns = now;
	p->mapped = mapped;
	p->unanswered = 0;
	fg_ice_pair_succeeded(a, p);
	fg_ice_evaluate(a, now);
	return true;
}

bool fg_ice_input(struct fg_ice_agent *a, uint32_t local_id, const struct fg_endpoint *from,
		  const uint8_t *buf, size_t len, uint64_t now)
{
	struct fg_stun_msg m;
	int rc;

	if (a->in_cb) {
		a->cnt.reentered++;
		return false;
	}
	if (!fg_stun_is_stun(buf, len))
		return false;
	rc = fg_stun_parse(buf, len, &m, NULL, 0);
	if (rc == -EBADMSG) {
		a->cnt.rx_malformed++;
		return false;
	}
	if (m.method != FG_STUN_BINDING)
		return false;
	if (m.cls == FG_STUN_REQUEST)
		return on_request(a, local_id, from, &m, rc, now);
	if (m.cls == FG_STUN_SUCCESS || m.cls == FG_STUN_ERROR)
		return on_response(a, local_id, from, &m, rc, now);
	return false;   /* an indication: a NAT keepalive, nothing to do */
}
