// SPDX-License-Identifier: MIT
/*
 * fastgatectl's views of connectivity (see conn.h): `ice`, one entry per client agent with
 * its state, nominated path, candidate pairs and candidates; `relays`, one entry per relay
 * with its allocation, reflexive and relayed addresses, expiry and channels. Times are
 * seconds from now. Secrets (passwords, keys) never appear. Control plane thread only.
 */
#include <sys/socket.h>

#include "conn_priv.h"
#include "log.h"

static void add_ep(cJSON *o, const char *key, const struct fg_endpoint *ep)
{
	char b[64];

	if (ep->ip.family)
		cJSON_AddStringToObject(o, key, fg_endpoint_format(ep, b, sizeof(b)));
	else
		cJSON_AddNullToObject(o, key);
}

static void add_eps(cJSON *o, const char *key, const struct fg_endpoint *a, const struct fg_endpoint *b)
{
	cJSON *arr = cJSON_AddArrayToObject(o, key);
	char s[64];

	if (a->ip.family)
		cJSON_AddItemToArray(arr, cJSON_CreateString(fg_endpoint_format(a, s, sizeof(s))));
	if (b->ip.family)
		cJSON_AddItemToArray(arr, cJSON_CreateString(fg_endpoint_format(b, s, sizeof(s))));
}

static double secs_from(uint64_t t, uint64_t now)
{
	return t ? (t > now ? (double)(t - now) / 1e9 : -(double)(now - t) / 1e9) : 0;
}

static void add_path(cJSON *o, const struct fg_ice_path *p)
{
	add_ep(o, "local", &p->local);
	cJSON_AddStringToObject(o, "local_type", fg_ice_cand_type_name((enum fg_ice_cand_type)p->local_type));
	add_ep(o, "remote", &p->remote);
	cJSON_AddStringToObject(o, "remote_type", fg_ice_cand_type_name((enum fg_ice_cand_type)p->remote_type));
	if (p->local_type == FG_ICE_RELAY && p->relay_id)
		cJSON_AddStringToObject(o, "relay_id", p->relay_id);
}

static void add_pair(void *ctx, const struct fg_ice_pair_view *p)
{
	cJSON *o = cJSON_CreateObject();

	add_path(o, &p->path);
	cJSON_AddStringToObject(o, "state", fg_ice_pair_state_name(p->state));
	cJSON_AddNumberToObject(o, "priority", (double)p->priority);
	cJSON_AddBoolToObject(o, "nominated", p->nominated);
	cJSON_AddBoolToObject(o, "selected", p->selected);
	cJSON_AddNumberToObject(o, "checks_sent", p->checks_sent);
	cJSON_AddNumberToObject(o, "requests_received", p->requests_received);
	cJSON_AddNumberToObject(o, "rtt_ms", (double)p->rtt_ns / 1e6);
	cJSON_AddItemToArray(ctx, o);
}

static void add_line(void *ctx, bool local, const char *line)
{
	cJSON *cands = ctx;

	cJSON_AddItemToArray(cJSON_GetObjectItem(cands, local ? "local" : "remote"), cJSON_CreateString(line));
}

static cJSON *agent_json(const struct fg_conn_client *cl, uint64_t now)
{
	cJSON *o = cJSON_CreateObject(), *cands;
	struct fg_ice_view v;

	cJSON_AddStringToObject(o, "client_id", cl->id);
	if (!cl->agent) {
		cJSON_AddStringToObject(o, "state", "waiting");   /* candidates, no authorization */
		cJSON_AddNumberToObject(o, "remote_candidates", cl->nremote);
		return o;
	}
	fg_ice_get_view(cl->agent, &v);
	cJSON_AddStringToObject(o, "state", fg_ice_state_name(v.state));
	cJSON_AddBoolToObject(o, "idle", v.idle);
	cJSON_AddStringToObject(o, "local_ufrag", v.local_ufrag);
	cJSON_AddStringToObject(o, "remote_ufrag", v.remote_ufrag);
	cJSON_AddNumberToObject(o, "age_s", -secs_from(v.created_ns, now));
	if (cl->relay_id[0])
		cJSON_AddStringToObject(o, "relay_id", cl->relay_id);
	else
		cJSON_AddNullToObject(o, "relay_id");
	if (v.nominated && cl->nominated) {
		cJSON *n = cJSON_AddObjectToObject(o, "nominated");

		add_path(n, &v.path);
		cJSON_AddStringToObject(n, "type", v.path.local_type == FG_ICE_RELAY ? "relayed" : "direct");
		add_ep(n, "wireguard_endpoint", &cl->path_ep);
		cJSON_AddNumberToObject(n, "channel", cl->path_channel);
		cJSON_AddNumberToObject(n, "since_s", -secs_from(v.nominated_ns, now));
	} else {
		cJSON_AddNullToObject(o, "nominated");
	}
	cJSON_AddItemToObject(o, "pairs", cJSON_CreateArray());
	fg_ice_foreach_pair(cl->agent, add_pair, cJSON_GetObjectItem(o, "pairs"));
	cands = cJSON_AddObjectToObject(o, "candidates");
	cJSON_AddArrayToObject(cands, "local");
	cJSON_AddArrayToObject(cands, "remote");
	fg_ice_foreach_candidate(cl->agent, add_line, cands);
	cJSON_AddNumberToObject(o, "held_signals", cl->nheld);
	if (v.failure && *v.failure)
		cJSON_AddStringToObject(o, "failure", v.failure);
	{
		const struct fg_ice_counters *k = fg_ice_counters(cl->agent);
		const uint64_t *vals = (const uint64_t *)k;
		cJSON *co = cJSON_AddObjectToObject(o, "counters");

		for (unsigned i = 0; i < FG_ICE_N_COUNTERS; i++)
			if (vals[i])
				cJSON_AddNumberToObject(co, fg_ice_counter_names[i], (double)vals[i]);
	}
	return o;
}

cJSON *fg_conn_json_ice(struct fg_conn *c)
{
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "agents"), *k;
	uint64_t now = fg_conn_now();

	for (unsigned i = 0; i < FG_CONN_MAX_CLIENTS; i++)
		if (c->clients[i].used)
			cJSON_AddItemToArray(arr, agent_json(&c->clients[i], now));
	add_ep(o, "host4", &c->host4);
	add_ep(o, "host6", &c->host6);
	k = cJSON_AddObjectToObject(o, "counters");
#define C(name) cJSON_AddNumberToObject(k, #name, (double)c->cnt.name)
	C(packets_in);
	C(relay_packets);
	C(ice_requests);
	C(ice_responses);
	C(unrouted_requests);
	C(unmatched);
	C(data_indications);
	C(packets_out);
	C(packets_out_failed);
	C(channel_binds);
	C(channel_bind_failed);
	C(channel_unbinds);
	C(paths_set);
	C(agents_created);
	C(agents_replaced);
	C(agents_failed);
	C(agents_removed);
	C(signals_sent);
	C(signals_held);
	C(signals_dropped);
	C(early_candidates_expired);
#undef C
	return o;
}

struct relays_ctx {
	struct fg_conn *c;
	cJSON *arr;
	uint64_t now;
};

static void add_channel(void *ctx, const struct fg_relay_channel_view *ch)
{
	struct relays_ctx *rc = ctx;
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "number", ch->number);
	cJSON_AddStringToObject(o, "state", fg_relay_channel_state_name(ch->state));
	add_ep(o, "peer", &ch->peer);
	cJSON_AddNumberToObject(o, "expires_in_s", secs_from(ch->expires_ns, rc->now));
	cJSON_AddBoolToObject(o, "used", ch->used);
	cJSON_AddItemToArray(rc->arr, o);
}

static void add_relay(void *ctx, const struct fg_relay_view *v)
{
	struct relays_ctx *rc = ctx;
	cJSON *o = cJSON_CreateObject(), *save = rc->arr;

	cJSON_AddStringToObject(o, "id", v->id);
	add_eps(o, "addrs", &v->addr4, &v->addr6);
	cJSON_AddStringToObject(o, "username", v->username);
	cJSON_AddStringToObject(o, "state", fg_relay_state_name(v->state));
	cJSON_AddBoolToObject(o, "probing", v->probing);
	add_ep(o, "active", &v->active);
	add_eps(o, "srflx", &v->srflx4, &v->srflx6);
	add_eps(o, "relayed", &v->relayed4, &v->relayed6);
	cJSON_AddNumberToObject(o, "expires_in_s", secs_from(v->expires_ns, rc->now));
	cJSON_AddNumberToObject(o, "refresh_in_s", secs_from(v->refresh_ns, rc->now));
	cJSON_AddNumberToObject(o, "rtt_ms", (double)v->rtt_ns / 1e6);
	cJSON_AddNumberToObject(o, "channels_bound", v->channels_bound);
	rc->arr = cJSON_AddArrayToObject(o, "channels");
	fg_relay_foreach_channel(rc->c->relays, v->id, add_channel, rc);
	rc->arr = save;
	if (v->failure && *v->failure)
		cJSON_AddStringToObject(o, "failure", v->failure);
	cJSON_AddItemToArray(rc->arr, o);
}

cJSON *fg_conn_json_relays(struct fg_conn *c)
{
	cJSON *o = cJSON_CreateObject(), *k;
	struct relays_ctx rc = { .c = c, .now = fg_conn_now() };
	const struct fg_relay_counters *cnt = fg_relay_counters(c->relays);
	const uint64_t *vals = (const uint64_t *)cnt;

	rc.arr = cJSON_AddArrayToObject(o, "relays");
	fg_relay_foreach(c->relays, rc.now, add_relay, &rc);
	cJSON_AddBoolToObject(o, "allocation", fg_relay_has_allocation(c->relays));
	cJSON_AddBoolToObject(o, "without_relays", c->cfg.without_relays);
	k = cJSON_AddObjectToObject(o, "counters");
	for (unsigned i = 0; i < FG_RELAY_N_COUNTERS; i++)
		cJSON_AddNumberToObject(k, fg_relay_counter_names[i], (double)vals[i]);
	cJSON_AddNumberToObject(k, "no_relays_sent", (double)c->cnt.no_relays_sent);
	cJSON_AddNumberToObject(k, "confirmations_withheld", (double)c->cnt.confirmations_withheld);
	return o;
}
