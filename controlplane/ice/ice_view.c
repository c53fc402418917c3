/* SPDX-License-Identifier: MIT */
/*
 * What the ICE agent shows fastgatectl (its state, nominated path, pairs by priority and
 * candidates as lines) and the router that picks an agent for a Binding request by the local
 * ufrag in its USERNAME. Read-only over the agent; the control plane's single thread.
 */
#include "ice_priv.h"

#include <errno.h>
#include <string.h>

enum fg_ice_state fg_ice_state(const struct fg_ice_agent *a)
{
	return a->state;
}

bool fg_ice_nominated(const struct fg_ice_agent *a, struct fg_ice_path *path)
{
	if (a->selected == FG_ICE_NONE)
		return false;
	if (path)
		fg_ice_path_of(a, &a->pairs[a->selected], path);
	return true;
}

void fg_ice_get_view(const struct fg_ice_agent *a, struct fg_ice_view *v)
{
	memset(v, 0, sizeof(*v));
	v->state = a->state;
	v->idle = a->idle;
	v->nominated = fg_ice_nominated(a, &v->path);
	v->local_ufrag = a->local_ufrag;
	v->remote_ufrag = a->remote_ufrag;
	for (unsigned i = 0; i < FG_ICE_MAX_LOCAL; i++)
		v->n_local += a->locals[i].used;
	v->n_remote = fg_ice_live_remotes(a);
	for (unsigned i = 0; i < FG_ICE_MAX_PAIRS; i++)
		v->n_pairs += a->pairs[i].used;
	v->created_ns = a->created_ns;
	v->nominated_ns = a->nominated_ns;
	v->disconnected_ns = a->disconnected_ns;
	v->failure = a->failure;
}

void fg_ice_foreach_pair(const struct fg_ice_agent *a,
			 void (*fn)(void *ctx, const struct fg_ice_pair_view *p), void *ctx)
{
	bool done[FG_ICE_MAX_PAIRS] = { false };

	/* highest priority first: a selection pass per pair, 100 at most */
	for (;;) {
		const struct fg_ice_pair *p = NULL;
		struct fg_ice_pair_view v;
		int best = -1;

		for (int i = 0; i < FG_ICE_MAX_PAIRS; i++)
			if (a->pairs[i].used && !done[i] && (best < 0 || a->pairs[i].prio > a->pairs[best].prio))
				best = i;
		if (best < 0)
			return;
		done[best] = true;
		p = &a->pairs[best];
		memset(&v, 0, sizeof(v));
		fg_ice_path_of(a, p, &v.path);
		v.state = (enum fg_ice_pair_state)p->state;
		v.priority = p->prio;
		v.use_candidate = p->use_candidate;
		v.nominated = p->use_candidate && p->state == FG_ICE_PAIR_SUCCEEDED;
		v.selected = best == a->selected;
		v.checks_sent = p->checks_sent;
		v.unanswered = p->unanswered;
		v.requests_received = p->requests_rx;
		v.rtt_ns = p->rtt_ns;
		v.last_success_ns = p->last_success_ns;
		v.mapped = p->mapped;
		fn(ctx, &v);
	}
}

void fg_ice_foreach_candidate(const struct fg_ice_agent *a,
			      void (*fn)(void *ctx, bool local, const char *line), void *ctx)
{
	char line[FG_ICE_LINE_MAX];

	for (unsigned i = 0; i < FG_ICE_MAX_LOCAL; i++)
		if (a->locals[i].used && fg_ice_cand_format(&a->locals[i].c, line, sizeof(line)) > 0)
			fn(ctx, true, line);
	for (unsigned i = 0; i < FG_ICE_MAX_REMOTE; i++)
		if (a->remotes[i].used && !a->remotes[i].discarded &&
		    fg_ice_cand_format(&a->remotes[i].c, line, sizeof(line)) > 0)
			fn(ctx, false, line);
}

const struct fg_ice_counters *fg_ice_counters(const struct fg_ice_agent *a)
{
	return &a->cnt;
}

const char *fg_ice_state_name(enum fg_ice_state st)
{
	switch (st) {
	case FG_ICE_CHECKING:
		return "checking";
	case FG_ICE_CONNECTED:
		return "connected";
	case FG_ICE_DISCONNECTED:
		return "disconnected";
	case FG_ICE_FAILED:
		return "failed";
	default:
		return "?";
	}
}

const char *fg_ice_pair_state_name(enum fg_ice_pair_state st)
{
	switch (st) {
	case FG_ICE_PAIR_FROZEN:
		return "frozen";
	case FG_ICE_PAIR_WAITING:
		return "waiting";
	case FG_ICE_PAIR_IN_PROGRESS:
		return "in-progress";
	case FG_ICE_PAIR_SUCCEEDED:
		return "succeeded";
	case FG_ICE_PAIR_FAILED:
		return "failed";
	default:
		return "?";
	}
}

/* ---- routing ---- */

int fg_ice_route_username(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	struct fg_stun_msg m;
	const uint8_t *u, *colon;
	size_t ulen;
	int rc;

	if (cap)
		out[0] = '\0';
	rc = fg_stun_parse(buf, len, &m, NULL, 0);
	if (rc == -EBADMSG)
		return -EBADMSG;
	if (m.method != FG_STUN_BINDING || m.cls != FG_STUN_REQUEST ||
	    fg_stun_get_bytes(&m, FG_STUN_ATTR_USERNAME, &u, &ulen))
		return -ENOENT;
	colon = memchr(u, ':', ulen);
	if (!colon)
		return -ENOENT;
	if ((size_t)(colon - u) >= cap)
		return -ENOSPC;
	memcpy(out, u, (size_t)(colon - u));
	out[colon - u] = '\0';
	return 0;
}
