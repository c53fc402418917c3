/* SPDX-License-Identifier: MIT */
/*
 * The ICE agent (controlled role) of one client: its candidates, the checklist (pairs formed
 * on both trickles, pruned, frozen by foundation, at most FG_ICE_MAX_PAIRS), nomination
 * (the highest-priority valid pair the client sent USE-CANDIDATE on, as str0m's controlled
 * side picks it), the connection state with Firezone's timeouts (10 s without a remote
 * candidate, 2 s disconnected), the idle profile, and inspection. STUN itself is
 * ice_check.c's. Owned by the control plane's single thread.
 */
#include "ice_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

#define LOG "ice"

const char *const fg_ice_counter_names[] = {
#define FG_ICE_COUNTER_NAME(name) #name,
	FG_ICE_COUNTERS(FG_ICE_COUNTER_NAME)
#undef FG_ICE_COUNTER_NAME
};

static bool refuse(struct fg_ice_agent *a)
{
	if (a->in_cb)
		a->cnt.reentered++;
	return a->in_cb;
}

void fg_ice_emit(struct fg_ice_agent *a, const struct fg_ice_event *ev)
{
	if (!a->ops.event)
		return;
	a->in_cb = true;
	a->ops.event(a->ctx, ev);
	a->in_cb = false;
}

void fg_ice_send(struct fg_ice_agent *a, const struct fg_ice_path *path, const uint8_t *buf,
		 size_t len)
{
	a->in_cb = true;
	a->ops.send(a->ctx, path, buf, len);
	a->in_cb = false;
}

static void emit_line(struct fg_ice_agent *a, enum fg_ice_event_type type,
		      const struct fg_ice_cand *c)
{
	char line[FG_ICE_LINE_MAX];
	struct fg_ice_event ev = { .type = type, .line = line };

	if (fg_ice_cand_format(c, line, sizeof(line)) < 0)
		return;
	fg_ice_emit(a, &ev);
}

static void local_path(const struct fg_ice_local *l, struct fg_ice_path *path)
{
	memset(path, 0, sizeof(*path));
	path->local_id = l->id;
	path->local_type = l->c.type;
	path->relay_id = l->c.type == FG_ICE_RELAY ? l->relay_id : NULL;
	path->local = l->base;
}

void fg_ice_path_of(const struct fg_ice_agent *a, const struct fg_ice_pair *p,
		    struct fg_ice_path *path)
{
	local_path(&a->locals[p->local], path);
	path->remote = a->remotes[p->remote].c.addr;
	path->remote_type = a->remotes[p->remote].c.type;
}

struct fg_ice_local *fg_ice_local_by_id(struct fg_ice_agent *a, uint32_t id)
{
	for (unsigned i = 0; i < FG_ICE_MAX_LOCAL; i++)
		if (a->locals[i].used && a->locals[i].id == id)
			return &a->locals[i];
	return NULL;
}

unsigned fg_ice_live_remotes(const struct fg_ice_agent *a)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FG_ICE_MAX_REMOTE; i++)
		n += a->remotes[i].used && !a->remotes[i].discarded;
	return n;
}

static unsigned pairable_locals(const struct fg_ice_agent *a)
{
	unsigned n = 0;

	for (unsigned i = 0; i < FG_ICE_MAX_LOCAL; i++)
		n += a->locals[i].used && a->locals[i].c.type != FG_ICE_SRFLX;
	return n;
}

/* ---- the connection state ---- */

static void set_state(struct fg_ice_agent *a, enum fg_ice_state st, const char *reason,
		      uint64_t now)
{
	struct fg_ice_event ev = { .type = FG_ICE_EV_STATE, .state = st, .reason = reason };

	if (a->state == st)
		return;
	fg_debug(LOG, "ice %s: %s -> %s (%s)", a->local_ufrag, fg_ice_state_name(a->state),
		 fg_ice_state_name(st), reason);
	if (st == FG_ICE_DISCONNECTED)
		a->disconnected_ns = now;
	else
		a->disconnected_ns = 0;
	if (st == FG_ICE_CONNECTED)
		a->last_activity_ns = now;
	a->state = st;
	fg_ice_emit(a, &ev);
}

static void fail(struct fg_ice_agent *a, const char *why, uint64_t now)
{
	fg_info(LOG, "ice %s: connection failed (%s)", a->local_ufrag, why);
	a->failure = why;
	a->selected = FG_ICE_NONE;
	set_state(a, FG_ICE_FAILED, why, now);
}

static bool same_foundation(const struct fg_ice_agent *a, const struct fg_ice_pair *p,
			    const struct fg_ice_pair *q)
{
	return !strcmp(a->locals[p->local].c.foundation, a->locals[q->local].c.foundation) &&
	       !strcmp(a->remotes[p->remote].c.foundation, a->remotes[q->remote].c.foundation);
}

/* No pair Waiting but some Frozen: the best of those goes (RFC 8445 §6.1.4.2). */
static void unfreeze_one(struct fg_ice_agent *a)
{
	struct fg_ice_pair *best = NULL;

	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++) {
		struct fg_ice_pair *p = &a->pairs[i];

		if (!p->used)
			continue;
		if (p->state == FG_ICE_PAIR_WAITING)
			return;
		if (p->state == FG_ICE_PAIR_FROZEN && (!best || p->prio > best->prio))
			best = p;
	}
	if (best)
		best->state = FG_ICE_PAIR_WAITING;
}

static void report_nominated(struct fg_ice_agent *a, uint64_t now)
{
	struct fg_ice_event ev = { .type = FG_ICE_EV_NOMINATED };
	char l[FG_ENDPOINT_STRLEN], r[FG_ENDPOINT_STRLEN];

	fg_ice_path_of(a, &a->pairs[a->selected], &ev.path);
	a->cnt.nominations++;
	a->nominated_ns = now;
	fg_info(LOG, "ice %s: nominated %s %s%s%s -> %s %s", a->local_ufrag,
		fg_ice_cand_type_name((enum fg_ice_cand_type)ev.path.local_type),
		fg_endpoint_format(&ev.path.local, l, sizeof(l)), ev.path.relay_id ? " via relay " : "",
		ev.path.relay_id ? ev.path.relay_id : "",
		fg_ice_cand_type_name((enum fg_ice_cand_type)ev.path.remote_type),
		fg_endpoint_format(&ev.path.remote, r, sizeof(r)));
	fg_ice_emit(a, &ev);
}

/*
 * Among nominated pairs: one still answering our checks beats one that stopped (the
 * client moved: a new network, a NAT, a relay restart, and nominated another pair; the
 * old one would otherwise stay selected until its checks give up, minutes later), then
 * the higher priority (RFC 8445 §8.1.1).
 */
static bool fresh(const struct fg_ice_pair *p)
{
	return p->unanswered < FG_ICE_STALE_CHECKS;
}

static bool better(const struct fg_ice_pair *p, const struct fg_ice_pair *q)
{
	if (fresh(p) != fresh(q))
		return fresh(p);
	return p->prio > q->prio;
}

void fg_ice_evaluate(struct fg_ice_agent *a, uint64_t now)
{
	bool possible = false, waiting;
	int best = FG_ICE_NONE;

	if (a->state == FG_ICE_FAILED)
		return;
	unfreeze_one(a);
	for (int i = 0; i < FG_ICE_MAX_PAIRS; i++) {
		const struct fg_ice_pair *p = &a->pairs[i];

		if (!p->used)
			continue;
		possible |= p->state != FG_ICE_PAIR_FAILED;
		if (p->state == FG_ICE_PAIR_SUCCEEDED && p->use_candidate &&
		    (best == FG_ICE_NONE || better(p, &a->pairs[best])))
			best = i;
	}
	if (best != a->selected) {
		a->selected = best;
		if (best == FG_ICE_NONE)
			fg_info(LOG, "ice %s: nominated pair lost", a->local_ufrag);
		else
			report_nominated(a, now);
	}
	if (best != FG_ICE_NONE) {
		set_state(a, FG_ICE_CONNECTED, "a pair is nominated", now);
		return;
	}
	/* str0m: with no candidate on one side yet, everything is still possible */
	waiting = possible || !fg_ice_live_remotes(a) || !pairable_locals(a);
	set_state(a, waiting ? FG_ICE_CHECKING : FG_ICE_DISCONNECTED,
		  waiting ? "no pair nominated" : "every pair failed", now);
}

/* ---- the checklist ---- */

static void pair_remove(struct fg_ice_agent *a, struct fg_ice_pair *p)
{
	if (a->selected == (int)(p - a->pairs))
		a->selected = FG_ICE_NONE;
	memset(p, 0, sizeof(*p));
}

void fg_ice_pair_fail(struct fg_ice_agent *a, struct fg_ice_pair *p, const char *why)
{
	char r[FG_ENDPOINT_STRLEN];

	fg_debug(LOG, "ice %s: pair to %s failed (%s)", a->local_ufrag,
		 fg_endpoint_format(&a->remotes[p->remote].c.addr, r, sizeof(r)), why);
	a->cnt.pairs_failed++;
	p->state = FG_ICE_PAIR_FAILED;
	p->use_candidate = false;
	p->triggered = false;
	memset(p->checks, 0, sizeof(p->checks));
}

void fg_ice_pair_succeeded(struct fg_ice_agent *a, struct fg_ice_pair *p)
{
	p->state = FG_ICE_PAIR_SUCCEEDED;
	/* RFC 8445 §7.2.5.3.3: the pairs of its foundation thaw */
	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++)
		if (a->pairs[i].used && a->pairs[i].state == FG_ICE_PAIR_FROZEN &&
		    same_foundation(a, &a->pairs[i], p))
			a->pairs[i].state = FG_ICE_PAIR_WAITING;
}

/* A trickled pair (RFC 8838 §11): Waiting unless its foundation is being checked already. */
static uint8_t initial_state(const struct fg_ice_agent *a, const struct fg_ice_pair *p)
{
	bool busy = false;

	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++) {
		const struct fg_ice_pair *q = &a->pairs[i];

		if (!q->used || q == p || !same_foundation(a, p, q))
			continue;
		if (q->state == FG_ICE_PAIR_SUCCEEDED)
			return FG_ICE_PAIR_WAITING;
		busy |= q->state == FG_ICE_PAIR_WAITING || q->state == FG_ICE_PAIR_IN_PROGRESS;
	}
	return busy ? FG_ICE_PAIR_FROZEN : FG_ICE_PAIR_WAITING;
}

/* A free slot, or the lowest-priority unselected pair when it ranks below prio. */
static struct fg_ice_pair *pair_slot(struct fg_ice_agent *a, uint64_t prio)
{
	struct fg_ice_pair *worst = NULL;

	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++) {
		struct fg_ice_pair *p = &a->pairs[i];

		if (!p->used)
			return p;
		if ((int)i != a->selected && (!worst || p->prio < worst->prio))
			worst = p;
	}
	a->cnt.pairs_dropped++;
	if (!worst || worst->prio >= prio)
		return NULL;
	pair_remove(a, worst);
	return worst;
}

/*
 * Forms (local, remote), or finds it: a pair whose local base and remote address equal
 * another's is redundant and only the higher-priority one stays (RFC 8445 §6.1.2.4).
 */
static struct fg_ice_pair *pair_form(struct fg_ice_agent *a, unsigned local, unsigned remote)
{
	const struct fg_ice_local *l = &a->locals[local];
	const struct fg_ice_remote *r = &a->remotes[remote];
	uint64_t prio = fg_ice_pair_priority(r->c.priority, l->c.priority);
	struct fg_ice_pair *p;

	if (l->c.type == FG_ICE_SRFLX || r->discarded || l->base.ip.family != r->c.addr.ip.family)
		return NULL;
	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++) {
		p = &a->pairs[i];
		if (!p->used || !fg_endpoint_equal(&a->locals[p->local].base, &l->base) ||
		    !fg_endpoint_equal(&a->remotes[p->remote].c.addr, &r->c.addr))
			continue;
		if (p->prio < prio) {
			p->local = (uint8_t)local;
			p->remote = (uint8_t)remote;
			p->prio = prio;
		}
		return p;
	}
	p = pair_slot(a, prio);
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->local = (uint8_t)local;
	p->remote = (uint8_t)remote;
	p->prio = prio;
	p->state = initial_state(a, p);
	return p;
}

struct fg_ice_pair *fg_ice_pair_get(struct fg_ice_agent *a, unsigned local, unsigned remote)
{
	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++)
		if (a->pairs[i].used && a->pairs[i].local == local && a->pairs[i].remote == remote)
			return &a->pairs[i];
	return pair_form(a, local, remote);
}

static void pair_remote(struct fg_ice_agent *a, unsigned remote)
{
	for (unsigned l = 0; l < FG_ICE_MAX_LOCAL; l++)
		if (a->locals[l].used)
			pair_form(a, l, remote);
}

static void pair_local(struct fg_ice_agent *a, unsigned local)
{
	for (unsigned r = 0; r < FG_ICE_MAX_REMOTE; r++)
		if (a->remotes[r].used && !a->remotes[r].discarded)
			pair_form(a, local, r);
}

/* New candidates on either side: the normal profile again (snownet's on_candidate). */
static void wake(struct fg_ice_agent *a, uint64_t now)
{
	if (a->idle)
		fg_debug(LOG, "ice %s: candidates changed, normal profile", a->local_ufrag);
	a->idle = false;
	a->last_activity_ns = now;
}

/* ---- the agent ---- */

struct fg_ice_agent *fg_ice_agent_new(const char *local_ufrag, const char *local_pwd,
				      const char *remote_ufrag, const char *remote_pwd,
				      const struct fg_ice_ops *ops, void *ctx, uint64_t now)
{
	struct fg_ice_agent *a;

	if (!ops || !ops->send || !local_ufrag || !remote_ufrag || !local_pwd || !remote_pwd ||
	    !fg_ice_chars(local_ufrag, FG_ICE_UFRAG_MIN, FG_ICE_UFRAG_MAX) ||
	    !fg_ice_chars(remote_ufrag, FG_ICE_UFRAG_MIN, FG_ICE_UFRAG_MAX) ||
	    !fg_ice_chars(local_pwd, FG_ICE_PWD_MIN, FG_ICE_PWD_MAX) ||
	    !fg_ice_chars(remote_pwd, FG_ICE_PWD_MIN, FG_ICE_PWD_MAX)) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		errno = ENOMEM;
		return NULL;
	}
	a->ops = *ops;
	a->ctx = ctx;
	strcpy(a->local_ufrag, local_ufrag);
	strcpy(a->remote_ufrag, remote_ufrag);
	snprintf(a->username, sizeof(a->username), "%s:%s", remote_ufrag, local_ufrag);
	if (fg_stun_key_short_term(&a->local_key, local_pwd) ||
	    fg_stun_key_short_term(&a->remote_key, remote_pwd)) {
		fg_ice_agent_free(a);
		errno = ENOMEM;
		return NULL;
	}
	if (fg_ice_random(a, &a->tie_breaker, sizeof(a->tie_breaker))) {
		fg_ice_agent_free(a);
		errno = EIO;
		return NULL;
	}
	a->state = FG_ICE_CHECKING;
	a->selected = FG_ICE_NONE;
	a->created_ns = a->next_check_ns = a->last_activity_ns = now;
	a->failure = "";
	return a;
}

void fg_ice_agent_free(struct fg_ice_agent *a)
{
	if (!a)
		return;
	fg_stun_key_wipe(&a->local_key);
	fg_stun_key_wipe(&a->remote_key);
	free(a);
}

/* ---- local candidates ---- */

static bool unicast_endpoint(const struct fg_endpoint *ep)
{
	struct fg_ice_cand c = { .foundation = "x", .component = 1, .transport = FG_ICE_UDP,
				 .type = FG_ICE_HOST, .addr = *ep };
	char line[FG_ICE_LINE_MAX];

	/* the formatter refuses what a peer could not parse: no address, 0, multicast, port 0 */
	return fg_ice_cand_format(&c, line, sizeof(line)) > 0;
}

static int check_local(enum fg_ice_cand_type type, const struct fg_endpoint *addr,
		       const struct fg_endpoint *base, const char *relay_id)
{
	if (!addr || !unicast_endpoint(addr))
		return -EINVAL;
	switch (type) {
	case FG_ICE_HOST:
		return !base || fg_endpoint_equal(base, addr) ? 0 : -EINVAL;
	case FG_ICE_SRFLX:
		return base && unicast_endpoint(base) && base->ip.family == addr->ip.family ? 0 : -EINVAL;
	case FG_ICE_RELAY:
		if (!relay_id || !relay_id[0] || strlen(relay_id) >= FG_ICE_RELAY_ID_LEN)
			return -EINVAL;
		return !base || fg_endpoint_equal(base, addr) ? 0 : -EINVAL;
	default:
		return -EINVAL;
	}
}

static void local_remove(struct fg_ice_agent *a, struct fg_ice_local *l)
{
	unsigned slot = (unsigned)(l - a->locals);

	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++)
		if (a->pairs[i].used && a->pairs[i].local == slot)
			pair_remove(a, &a->pairs[i]);
	emit_line(a, FG_ICE_EV_CANDIDATE_INVALIDATED, &l->c);
	memset(l, 0, sizeof(*l));
}

/* str0m's default: distinct per type and family, IPv6 first (65535, 65534 for IPv4, -2 each). */
static uint16_t local_pref(const struct fg_ice_agent *a, enum fg_ice_cand_type type, uint8_t family)
{
	unsigned same = 0;

	for (unsigned i = 0; i < FG_ICE_MAX_LOCAL; i++)
		same += a->locals[i].used && a->locals[i].c.type == type &&
			a->locals[i].c.addr.ip.family == family;
	return (uint16_t)(65535 - (family == AF_INET ? 1 : 0) - 2 * same);
}

int fg_ice_add_local_candidate(struct fg_ice_agent *a, enum fg_ice_cand_type type,
			       const struct fg_endpoint *addr, const struct fg_endpoint *base,
			       const char *relay_id, uint64_t now)
{
	struct fg_ice_local *l = NULL;
	struct fg_endpoint b;
	uint32_t prio;
	int rc;

	if (refuse(a))
		return -EBUSY;
	if (a->state == FG_ICE_FAILED)
		return -ESHUTDOWN;
	rc = check_local(type, addr, base, relay_id);
	if (rc)
		return rc;
	b = type == FG_ICE_SRFLX ? *base : *addr;
	prio = fg_ice_priority(type, local_pref(a, type, addr->ip.family), 1);
	for (unsigned i = 0; i < FG_ICE_MAX_LOCAL; i++) {
		struct fg_ice_local *o = &a->locals[i];

		if (!o->used || !fg_endpoint_equal(&o->c.addr, addr) || !fg_endpoint_equal(&o->base, &b))
			continue;
		if (o->c.priority >= prio)
			return -EEXIST;
		local_remove(a, o);   /* the better one replaces it (RFC 8445 §5.1.3) */
	}
	for (unsigned i = 0; !l && i < FG_ICE_MAX_LOCAL; i++)
		if (!a->locals[i].used)
			l = &a->locals[i];
	if (!l)
		return -ENOSPC;
	l->used = true;
	l->id = a->next_local_id++;
	l->local_pref = local_pref(a, type, addr->ip.family);
	l->base = b;
	if (type != FG_ICE_HOST)
		snprintf(l->relay_id, sizeof(l->relay_id), "%s", relay_id ? relay_id : "");
	fg_ice_foundation(type, &b.ip, type == FG_ICE_HOST ? NULL : l->relay_id, FG_ICE_UDP,
			  l->c.foundation);
	l->c.component = 1;
	l->c.transport = FG_ICE_UDP;
	l->c.type = (uint8_t)type;
	l->c.priority = fg_ice_priority(type, l->local_pref, 1);
	l->c.addr = *addr;
	if (type != FG_ICE_HOST)   /* str0m hides the base: rel-addr 0.0.0.0 (or ::) port 0 */
		l->c.raddr.ip.family = addr->ip.family;
	emit_line(a, FG_ICE_EV_CANDIDATE, &l->c);
	pair_local(a, (unsigned)(l - a->locals));
	wake(a, now);
	fg_ice_evaluate(a, now);
	return (int)(l->id & 0x7fffffff);
}

int fg_ice_remove_local_candidate(struct fg_ice_agent *a, uint32_t id, uint64_t now)
{
	struct fg_ice_local *l;

	if (refuse(a))
		return -EBUSY;
	l = fg_ice_local_by_id(a, id);
	if (!l)
		return -ENOENT;
	local_remove(a, l);
	fg_ice_evaluate(a, now);
	return 0;
}

int fg_ice_local_candidate_id(const struct fg_ice_agent *a, const struct fg_endpoint *addr)
{
	for (unsigned i = 0; i < FG_ICE_MAX_LOCAL; i++) {
		const struct fg_ice_local *l = &a->locals[i];

		if (l->used && l->c.type != FG_ICE_SRFLX && fg_endpoint_equal(&l->c.addr, addr))
			return (int)(l->id & 0x7fffffff);
	}
	return -ENOENT;
}

/* ---- remote candidates ---- */

static int remote_slot(struct fg_ice_agent *a)
{
	int discarded = -1;

	for (int i = 0; i < FG_ICE_MAX_REMOTE; i++) {
		if (!a->remotes[i].used)
			return i;
		if (a->remotes[i].discarded && discarded < 0)
			discarded = i;
	}
	return discarded < 0 ? -ENOSPC : discarded;
}

static void reprioritise(struct fg_ice_agent *a, unsigned remote)
{
	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++) {
		struct fg_ice_pair *p = &a->pairs[i];

		if (p->used && p->remote == remote)
			p->prio = fg_ice_pair_priority(a->remotes[remote].c.priority,
						       a->locals[p->local].c.priority);
	}
}

static int parse_remote(struct fg_ice_agent *a, const char *line, struct fg_ice_cand *c, char *err,
			size_t errlen)
{
	int rc = fg_ice_cand_parse(line, c, err, errlen);

	if (rc)
		return rc;
	if (c->component != 1) {
		if (err && errlen)
			snprintf(err, errlen, "candidate: component %u, not 1", c->component);
		return -EINVAL;
	}
	if (c->ufrag[0] && strcmp(c->ufrag, a->remote_ufrag)) {
		if (err && errlen)
			snprintf(err, errlen, "candidate: ufrag \"%s\" of another session", c->ufrag);
		return -EINVAL;
	}
	if (c->transport != FG_ICE_UDP) {
		if (err && errlen)
			snprintf(err, errlen, "candidate: TCP is not supported");
		return -EPROTONOSUPPORT;
	}
	return 0;
}

int fg_ice_add_remote_candidate(struct fg_ice_agent *a, const char *line, uint64_t now, char *err,
				size_t errlen)
{
	struct fg_ice_cand c;
	int rc, slot = -1;

	if (refuse(a))
		return -EBUSY;
	if (a->state == FG_ICE_FAILED)
		return -ESHUTDOWN;
	rc = parse_remote(a, line, &c, err, errlen);
	if (rc)
		return rc;
	for (int i = 0; slot < 0 && i < FG_ICE_MAX_REMOTE; i++) {
		struct fg_ice_remote *r = &a->remotes[i];

		if (!r->used)
			continue;
		if (fg_ice_cand_same(&r->c, &c) && !r->discarded)
			return 0;   /* known already (the portal repeats candidates) */
		if (fg_ice_cand_same(&r->c, &c) ||
		    (r->learned && !r->discarded && fg_endpoint_equal(&r->c.addr, &c.addr)))
			slot = i;   /* invalidated earlier and back, or signalled what we learned */
	}
	if (slot < 0)
		slot = remote_slot(a);
	if (slot < 0)
		return slot;
	a->remotes[slot] = (struct fg_ice_remote){ .used = true, .c = c };
	reprioritise(a, (unsigned)slot);
	pair_remote(a, (unsigned)slot);
	wake(a, now);
	fg_ice_evaluate(a, now);
	return 0;
}

int fg_ice_invalidate_remote_candidate(struct fg_ice_agent *a, const char *line, uint64_t now)
{
	struct fg_ice_cand c;

	if (refuse(a))
		return -EBUSY;
	if (fg_ice_cand_parse(line, &c, NULL, 0))
		return -EINVAL;
	for (unsigned i = 0; i < FG_ICE_MAX_REMOTE; i++) {
		struct fg_ice_remote *r = &a->remotes[i];

		if (!r->used || r->discarded || !fg_ice_cand_same(&r->c, &c))
			continue;
		r->discarded = true;
		for (unsigned j = 0; j < FG_ICE_MAX_PAIRS; j++)
			if (a->pairs[j].used && a->pairs[j].remote == i)
				pair_remove(a, &a->pairs[j]);
		/* a candidate at the same address whose pairs it had pruned gets them back */
		for (unsigned j = 0; j < FG_ICE_MAX_REMOTE; j++)
			if (a->remotes[j].used && !a->remotes[j].discarded &&
			    fg_endpoint_equal(&a->remotes[j].c.addr, &r->c.addr))
				pair_remote(a, j);
		fg_ice_evaluate(a, now);
		return 0;
	}
	return -ENOENT;
}

int fg_ice_remote_for_request(struct fg_ice_agent *a, const struct fg_endpoint *from,
			      uint32_t priority, unsigned local, uint64_t now)
{
	struct fg_ice_event ev = { .type = FG_ICE_EV_REMOTE_LEARNED };
	struct fg_ice_remote *r;
	int best = -1, slot;

	for (int i = 0; i < FG_ICE_MAX_REMOTE; i++) {
		r = &a->remotes[i];
		if (!r->used || !fg_endpoint_equal(&r->c.addr, from))
			continue;
		if (r->discarded)
			return -EPERM;   /* str0m learns nothing where a candidate was withdrawn */
		if (best < 0 || r->c.priority > a->remotes[best].c.priority)
			best = i;
	}
	if (best >= 0)
		return best;
	slot = remote_slot(a);
	if (slot < 0)
		return slot;
	r = &a->remotes[slot];
	*r = (struct fg_ice_remote){ .used = true, .learned = true };
	snprintf(r->c.foundation, sizeof(r->c.foundation), "prflx%u", a->next_prflx++);
	r->c.component = 1;
	r->c.transport = FG_ICE_UDP;
	r->c.type = FG_ICE_PRFLX;
	r->c.priority = priority;
	r->c.addr = *from;
	a->cnt.prflx_learned++;
	local_path(&a->locals[local], &ev.path);
	ev.path.remote = *from;
	ev.path.remote_type = FG_ICE_PRFLX;
	fg_ice_emit(a, &ev);
	wake(a, now);
	return slot;
}

/* ---- time ---- */

void fg_ice_tick(struct fg_ice_agent *a, uint64_t now)
{
	if (refuse(a))
		return;
	if (a->state == FG_ICE_FAILED)
		return;
	if (!fg_ice_live_remotes(a) && now >= a->created_ns + FG_ICE_MS(FG_ICE_CANDIDATE_TIMEOUT_MS)) {
		fail(a, "no remote candidate within 10 s", now);
		return;
	}
	if (a->state == FG_ICE_DISCONNECTED &&
	    now >= a->disconnected_ns + FG_ICE_MS(FG_ICE_DISCONNECT_TIMEOUT_MS)) {
		fail(a, "disconnected for more than 2 s", now);
		return;
	}
	if (a->state == FG_ICE_CONNECTED && !a->idle &&
	    now >= a->last_activity_ns + FG_ICE_MS(FG_ICE_IDLE_AFTER_MS)) {
		fg_debug(LOG, "ice %s: idle, checks every 25 s", a->local_ufrag);
		a->idle = true;
	}
	fg_ice_checks_run(a, now);
	fg_ice_evaluate(a, now);
}

static uint64_t min64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

uint64_t fg_ice_next_timeout(const struct fg_ice_agent *a)
{
	uint64_t t;

	if (a->state == FG_ICE_FAILED)
		return UINT64_MAX;
	t = fg_ice_checks_next(a);
	if (!fg_ice_live_remotes(a))
		t = min64(t, a->created_ns + FG_ICE_MS(FG_ICE_CANDIDATE_TIMEOUT_MS));
	if (a->state == FG_ICE_DISCONNECTED)
		t = min64(t, a->disconnected_ns + FG_ICE_MS(FG_ICE_DISCONNECT_TIMEOUT_MS));
	if (a->state == FG_ICE_CONNECTED && !a->idle)
		t = min64(t, a->last_activity_ns + FG_ICE_MS(FG_ICE_IDLE_AFTER_MS));
	return t;
}

void fg_ice_traffic(struct fg_ice_agent *a, uint64_t now)
{
	if (refuse(a))
		return;
	if (a->idle)
		fg_debug(LOG, "ice %s: traffic, normal profile", a->local_ufrag);
	a->idle = false;
	a->last_activity_ns = now;
}
