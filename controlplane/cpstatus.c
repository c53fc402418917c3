// SPDX-License-Identifier: MIT
/*
 * fastgatectl's answers (see cp.h): status, peers, resources, relays, stats and nat as JSON,
 * from what the control plane knows and, asynchronously, from the data plane's replies.
 * Control plane thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cp.h"
#include "flowlog.h"
#include "keys.h"

static cJSON *ip_or_null(const struct fg_ip *ip)
{
	char b[FG_ADDR_STRLEN];

	return ip->family ? cJSON_CreateString(fg_ip_format(ip, b, sizeof(b))) : cJSON_CreateNull();
}

/* The data plane's answers for fastgatectl come asynchronously (prov_start); the plain
 * provider members answer only what the control plane knows, never waiting. status waits
 * for the data plane's counters at most STATUS_BUDGET_MS, then answers without them. */
enum {
	STATUS_BUDGET_MS = 1000,
};

/* dp: 0 with st, or why the data plane's counters are missing (-ENOTCONN: not asked). */
static cJSON *status_json(struct fg_cp *cp, const struct fg_ctl_stats_reply *st, int dp)
{
	cJSON *o = cJSON_CreateObject(), *d;
	char k[FG_KEY_B64_LEN];

	cJSON_AddStringToObject(o, "version", FG_VERSION);
	cJSON_AddNumberToObject(o, "uptime_s", (double)((fg_dpc_now_ms() - cp->started_ms) / 1000));
	cJSON_AddItemToObject(o, "portal", fg_portal_json(cp->portal));
	d = cJSON_AddObjectToObject(o, "dataplane");
	cJSON_AddBoolToObject(d, "connected", fg_dpc_connected(&cp->dpc));
	if (fg_dpc_connected(&cp->dpc)) {
		fg_key_to_base64(k, cp->dpc.hello.public_key);
		cJSON_AddStringToObject(d, "version", cp->dpc.hello.version);
		cJSON_AddStringToObject(d, "tun", cp->dpc.hello.tun_name);
		cJSON_AddStringToObject(d, "public_key", k);
		cJSON_AddNumberToObject(d, "listen_port", cp->dpc.hello.listen_port);
		if (st) {
			cJSON_AddNumberToObject(d, "peers", st->peers);
			cJSON_AddNumberToObject(d, "workers", st->workers);
		}
		cJSON_AddBoolToObject(d, "responding", dp == 0);
		if (dp == -ETIMEDOUT)
			cJSON_AddStringToObject(d, "error", "no answer within 1 s");
		else if (dp < 0)
			cJSON_AddStringToObject(d, "error", strerror(-dp));
	}
	return o;
}

static cJSON *prov_status(void *ctx)
{
	return status_json(ctx, NULL, -ENOTCONN);
}

struct peers_ctx {
	cJSON *o, *arr;
	struct fg_cpctl_pending *p;
};

static void add_peer(void *ctx, const struct fg_ctl_peer_info *p)
{
	struct peers_ctx *pc = ctx;
	cJSON *o = cJSON_CreateObject();
	char k[FG_KEY_B64_LEN], ep[FG_ENDPOINT_STRLEN];

	fg_key_to_base64(k, p->public_key);
	cJSON_AddStringToObject(o, "client_id", memchr(p->client_id, 0, sizeof(p->client_id)) ? p->client_id : "");
	cJSON_AddStringToObject(o, "public_key", k);
	cJSON_AddItemToObject(o, "ipv4", ip_or_null(&p->ipv4));
	cJSON_AddItemToObject(o, "ipv6", ip_or_null(&p->ipv6));
	if (p->endpoint.ip.family)
		cJSON_AddStringToObject(o, "endpoint", fg_endpoint_format(&p->endpoint, ep, sizeof(ep)));
	else
		cJSON_AddNullToObject(o, "endpoint");
	if (p->last_handshake_unix_ns)
		cJSON_AddNumberToObject(o, "last_handshake", (double)(p->last_handshake_unix_ns / 1000000000ULL));
	else
		cJSON_AddNullToObject(o, "last_handshake");
	cJSON_AddNumberToObject(o, "rx_bytes", (double)p->rx_bytes);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)p->tx_bytes);
	cJSON_AddNumberToObject(o, "resources", p->n_resources);
	cJSON_AddItemToArray(pc->arr, o);
}

/* Without a data plane: no peers. With one, prov_start asks it. */
static cJSON *prov_peers(void *ctx)
{
	struct fg_cp *cp = ctx;
	cJSON *o;

	if (fg_dpc_connected(&cp->dpc))
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddArrayToObject(o, "peers");
	return o;
}

static cJSON *prov_resources(void *ctx)
{
	struct fg_cp *cp = ctx;

	return fg_cp_json_resources(&cp->state);
}

static cJSON *prov_relays(void *ctx)
{
	struct fg_cp *cp = ctx;

	return fg_conn_json_relays(cp->conn);
}

static cJSON *prov_ice(void *ctx)
{
	struct fg_cp *cp = ctx;

	return fg_conn_json_ice(cp->conn);
}

static cJSON *prov_flows(void *ctx)
{
	struct fg_cp *cp = ctx;

	return cp->flows ? fg_flowlog_json(cp->flows) : NULL;
}

/* part / whole rounded to 4 decimals, or null when whole is 0 (no poll, or no window yet). */
static cJSON *ratio(uint64_t part, uint64_t whole)
{
	double r;

	if (!whole)
		return cJSON_CreateNull();
	r = part >= whole ? 1.0 : (double)part / (double)whole;
	return cJSON_CreateNumber((double)(uint64_t)(r * 10000.0 + 0.5) / 10000.0);
}

/* Version 5: the lcore's load since its loop started and over the last ~1 s window. */
static void put_load(cJSON *o, const struct fg_ctl_lcore_stats *l)
{
	cJSON_AddNumberToObject(o, "polls", (double)l->polls);
	cJSON_AddNumberToObject(o, "busy_polls", (double)l->busy_polls);
	cJSON_AddNumberToObject(o, "busy_cycles", (double)l->busy_cycles);
	cJSON_AddNumberToObject(o, "cycles", (double)l->cycles);
	cJSON_AddNumberToObject(o, "polls_1s", (double)l->win_polls);
	cJSON_AddNumberToObject(o, "busy_polls_1s", (double)l->win_busy_polls);
	cJSON_AddNumberToObject(o, "busy_cycles_1s", (double)l->win_busy_cycles);
	cJSON_AddNumberToObject(o, "cycles_1s", (double)l->win_cycles);
	cJSON_AddItemToObject(o, "busy_ratio", ratio(l->busy_polls, l->polls));
	cJSON_AddItemToObject(o, "work_ratio", ratio(l->busy_cycles, l->cycles));
	cJSON_AddItemToObject(o, "busy_ratio_1s", ratio(l->win_busy_polls, l->win_polls));
	cJSON_AddItemToObject(o, "work_ratio_1s", ratio(l->win_busy_cycles, l->win_cycles));
}

static void put_lcore(cJSON *arr, const char *name, const struct fg_ctl_lcore_stats *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddNumberToObject(o, "nic_rx_packets", (double)l->nic_rx_packets);
	cJSON_AddNumberToObject(o, "nic_rx_bytes", (double)l->nic_rx_bytes);
	cJSON_AddNumberToObject(o, "nic_tx_packets", (double)l->nic_tx_packets);
	cJSON_AddNumberToObject(o, "nic_tx_bytes", (double)l->nic_tx_bytes);
	cJSON_AddNumberToObject(o, "tun_rx_packets", (double)l->tun_rx_packets);
	cJSON_AddNumberToObject(o, "tun_rx_bytes", (double)l->tun_rx_bytes);
	cJSON_AddNumberToObject(o, "tun_tx_packets", (double)l->tun_tx_packets);
	cJSON_AddNumberToObject(o, "tun_tx_bytes", (double)l->tun_tx_bytes);
	cJSON_AddNumberToObject(o, "decrypted", (double)l->decrypted);
	cJSON_AddNumberToObject(o, "encrypted", (double)l->encrypted);
	put_load(o, l);
	cJSON_AddItemToArray(arr, o);
}

/* Version 4: the connection table, flows and p2p control, summed over the workers. */
static void put_nat_stats(cJSON *o, const struct fg_ctl_stats_reply *st)
{
	cJSON *n = cJSON_AddObjectToObject(o, "nat"), *f = cJSON_AddObjectToObject(o, "flows"),
	      *p = cJSON_AddObjectToObject(o, "p2p");

	cJSON_AddNumberToObject(n, "translated_out", (double)st->nat_translated_out);
	cJSON_AddNumberToObject(n, "translated_in", (double)st->nat_translated_in);
	cJSON_AddNumberToObject(n, "icmp_translated", (double)st->nat_icmp_translated);
	cJSON_AddNumberToObject(n, "created", (double)st->nat_created);
	cJSON_AddNumberToObject(n, "expired", (double)st->nat_expired);
	cJSON_AddNumberToObject(n, "misses", (double)st->nat_misses);
	cJSON_AddNumberToObject(n, "live", (double)st->nat_live);
	cJSON_AddNumberToObject(f, "started", (double)st->flows_started);
	cJSON_AddNumberToObject(f, "completed", (double)st->flows_completed);
	cJSON_AddNumberToObject(f, "live", (double)st->flows_live);
	cJSON_AddNumberToObject(f, "lost", (double)st->flows_lost);
	cJSON_AddNumberToObject(p, "in", (double)st->p2p_in);
	cJSON_AddNumberToObject(p, "out", (double)st->p2p_out);
}

static cJSON *stats_json(struct fg_cp *cp, struct fg_ctl_stats_reply *st)
{
	cJSON *o, *h, *d, *l;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "aead", st->aead);
	cJSON_AddNumberToObject(o, "workers", st->workers);
	cJSON_AddNumberToObject(o, "peers", st->peers);
	cJSON_AddNumberToObject(o, "tsc_hz", (double)st->tsc_hz);
	h = cJSON_AddObjectToObject(o, "heap");
	cJSON_AddNumberToObject(h, "total", (double)st->heap_total);
	cJSON_AddNumberToObject(h, "allocated", (double)st->heap_allocated);
	cJSON_AddNumberToObject(h, "free", (double)st->heap_free);
	cJSON_AddNumberToObject(h, "largest_free", (double)st->heap_largest_free);
	h = cJSON_AddObjectToObject(o, "handshakes");
	cJSON_AddNumberToObject(h, "initiated", (double)st->handshakes_initiated);
	cJSON_AddNumberToObject(h, "responded", (double)st->handshakes_responded);
	cJSON_AddNumberToObject(h, "completed", (double)st->handshakes_completed);
	cJSON_AddNumberToObject(h, "cookies_sent", (double)st->cookies_sent);
	cJSON_AddNumberToObject(h, "keepalives_sent", (double)st->keepalives_sent);
	cJSON_AddNumberToObject(h, "roams", (double)st->roams);
	d = cJSON_AddObjectToObject(o, "drops");
	for (uint32_t i = 0; i < st->n_drops && i < FG_CTL_MAX_DROP_REASONS; i++) {
		st->drop_names[i][sizeof(st->drop_names[i]) - 1] = '\0';
		cJSON_AddNumberToObject(d, st->drop_names[i], (double)st->drops[i]);
	}
	l = cJSON_AddArrayToObject(o, "lcores");
	put_lcore(l, "service", &st->service);
	for (uint32_t w = 0; w < st->workers && w < FG_CTL_MAX_WORKERS; w++) {
		char name[16];

		snprintf(name, sizeof(name), "worker%u", w);
		put_lcore(l, name, &st->lcores[w]);
	}
	put_nat_stats(o, st);
	if (cp->nat)
		cJSON_AddItemToObject(o, "dns_resources", fg_cp_nat_stats_json(cp->nat));
	return o;
}

/* Only ever answered by the data plane (prov_start). */
static cJSON *prov_stats(void *ctx)
{
	(void)ctx;
	return NULL;
}

static const struct fg_ctl_stats_reply *stats_of(int status, const void *msg)
{
	return status == 0 && msg && ((const struct fg_ctl_hdr *)msg)->type == FG_CTL_STATS_REPLY ? msg : NULL;
}

/* status's and stats' request: the context to build the answer from, and the connection
 * that waits */
struct status_ctx {
	struct fg_cp *cp;
	struct fg_cpctl_pending *p;
};

static void status_done(void *ctx, int status, const void *msg)
{
	struct status_ctx *sc = ctx;

	fg_cpctl_pending_done(sc->p, status_json(sc->cp, stats_of(status, msg), status));
	free(sc);
}

static void stats_done(void *ctx, int status, const void *msg)
{
	struct status_ctx *sc = ctx;
	struct fg_ctl_stats_reply *st = NULL;
	const struct fg_ctl_stats_reply *in = stats_of(status, msg);

	/* stats_json terminates the drop names in place: a copy */
	if (in && (st = malloc(sizeof(*st))))
		memcpy(st, in, sizeof(*st));
	fg_cpctl_pending_done(sc->p, st ? stats_json(sc->cp, st) : NULL);
	free(st);
	free(sc);
}

static void peers_part(void *ctx, uint16_t type, const void *msg)
{
	if (type == FG_CTL_PEER_INFO)
		add_peer(ctx, msg);
}

static void peers_done(void *ctx, int status, const void *msg)
{
	struct peers_ctx *pc = ctx;

	(void)msg;
	if (status < 0) {
		cJSON_Delete(pc->o);
		pc->o = NULL;
	}
	fg_cpctl_pending_done(pc->p, pc->o);
	free(pc);
}

/* nat: the data plane's live tuples (NAT_DUMP's NAT_INFO) as they come, then the view of
 * them with the translations the control plane keeps (nat_view.c). */
enum {
	NAT_TUPLES_MAX = 65536,   /* the data plane sends no more (ctlproto.h) */
};

struct nat_ctx {
	struct fg_cp *cp;
	struct fg_cpctl_pending *p;
	struct fg_ctl_nat_info *t;
	size_t n, cap;
	bool cut;                 /* out of memory or over the limit: the list ends early */
};

static void nat_part(void *ctx, uint16_t type, const void *msg)
{
	struct nat_ctx *nc = ctx;

	if (type != FG_CTL_NAT_INFO)
		return;
	if (nc->n == NAT_TUPLES_MAX) {
		nc->cut = true;
		return;
	}
	if (nc->n == nc->cap) {
		size_t cap = nc->cap ? nc->cap * 2 : 64;
		struct fg_ctl_nat_info *t = realloc(nc->t, sizeof(*t) * cap);

		if (!t) {
			nc->cut = true;
			return;
		}
		nc->t = t;
		nc->cap = cap;
	}
	memcpy(&nc->t[nc->n++], msg, sizeof(*nc->t));
}

static void nat_done(void *ctx, int status, const void *msg)
{
	struct nat_ctx *nc = ctx;
	const struct fg_ctl_reply *r = msg && ((const struct fg_ctl_hdr *)msg)->type == FG_CTL_REPLY ? msg : NULL;
	char why[sizeof(r->message) + 48] = "";

	if (r)
		snprintf(why, sizeof(why), "%.*s", (int)sizeof(r->message), r->message);
	if (status == 0 && nc->cut)
		snprintf(why, sizeof(why), "the control plane kept %zu tuples", nc->n);
	fg_cpctl_pending_done(nc->p, fg_cp_nat_view_json(nc->cp->nat, &nc->cp->state, nc->t, nc->n, status, why));
	free(nc->t);
	free(nc);
}

static int nat_start(struct fg_cp *cp, struct fg_cpctl_pending *p)
{
	struct nat_ctx *nc;
	struct fg_ctl_nat_dump m;
	struct fg_dpc_cb cb;
	int r;

	if (!cp->nat || !(nc = calloc(1, sizeof(*nc))))
		return -ENOMEM;
	nc->cp = cp;
	nc->p = p;
	cb = (struct fg_dpc_cb){ .part = nat_part, .done = nat_done, .ctx = nc };
	memset(&m, 0, sizeof(m));
	r = fg_dpc_send(&cp->dpc, &m, FG_CTL_NAT_DUMP, FG_DPC_DUMP_TIMEOUT_MS, &cb);
	if (r < 0)
		free(nc);
	return r;
}

/* Without a data plane (or when asking it failed): the control plane's translations. */
static cJSON *prov_nat(void *ctx)
{
	struct fg_cp *cp = ctx;

	if (!cp->nat)
		return NULL;
	return fg_cp_nat_view_json(cp->nat, &cp->state, NULL, 0, fg_dpc_connected(&cp->dpc) ? -EIO : -ENOTCONN,
				   NULL);
}

/* fastgatectl commands that need the data plane: asked without waiting; the connection
 * gets its answer when the data plane's comes (or the request's budget runs out). */
static int prov_start(void *ctx, const char *cmd, struct fg_cpctl_pending *p)
{
	struct fg_cp *cp = ctx;
	struct fg_dpc_cb cb = { .ctx = p };
	struct fg_ctl_stats st;
	struct fg_ctl_dump d;
	int r;

	if (!fg_dpc_connected(&cp->dpc))
		return -EOPNOTSUPP;
	memset(&st, 0, sizeof(st));
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "stats") == 0) {
		struct status_ctx *sc = malloc(sizeof(*sc));
		bool stats = strcmp(cmd, "stats") == 0;

		if (!sc)
			return -ENOMEM;
		sc->cp = cp;
		sc->p = p;
		cb = (struct fg_dpc_cb){ .done = stats ? stats_done : status_done, .ctx = sc };
		r = fg_dpc_send(&cp->dpc, &st, FG_CTL_STATS, stats ? FG_DPC_TIMEOUT_MS : STATUS_BUDGET_MS, &cb);
		if (r < 0)
			free(sc);
		return r;
	}
	if (strcmp(cmd, "nat") == 0)
		return nat_start(cp, p);
	if (strcmp(cmd, "peers") != 0)
		return -EOPNOTSUPP;
	struct peers_ctx *pc = calloc(1, sizeof(*pc));
	if (!pc)
		return -ENOMEM;
	pc->p = p;
	pc->o = cJSON_CreateObject();
	pc->arr = cJSON_AddArrayToObject(pc->o, "peers");
	cb = (struct fg_dpc_cb){ .part = peers_part, .done = peers_done, .ctx = pc };
	memset(&d, 0, sizeof(d));
	r = fg_dpc_send(&cp->dpc, &d, FG_CTL_DUMP, FG_DPC_DUMP_TIMEOUT_MS, &cb);
	if (r < 0) {
		cJSON_Delete(pc->o);
		free(pc);
	}
	return r;
}

const struct fg_cpctl_provider fg_cp_ctl_provider = {
	.status = prov_status,
	.peers = prov_peers,
	.resources = prov_resources,
	.relays = prov_relays,
	.ice = prov_ice,
	.stats = prov_stats,
	.flows = prov_flows,
	.nat = prov_nat,
	.start = prov_start,
};
