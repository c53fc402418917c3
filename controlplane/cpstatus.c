// SPDX-License-Identifier: MIT
/*
 * fastgatectl's answers (see cp.h): status, peers, resources, relays and stats as JSON,
 * from what the control plane knows and, asynchronously, from the data plane's replies.
 * Control plane thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cp.h"
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
	cJSON_AddNumberToObject(o, "uptime_s", (double)((uint64_t)time(NULL) - cp->started));
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
	cJSON_AddItemToArray(arr, o);
}

static cJSON *stats_json(struct fg_ctl_stats_reply *st)
{
	cJSON *o, *h, *d, *l;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "aead", st->aead);
	cJSON_AddNumberToObject(o, "workers", st->workers);
	cJSON_AddNumberToObject(o, "peers", st->peers);
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

/* status's request: the context to build the answer from, and the connection that waits */
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
	struct fg_ctl_stats_reply *st = NULL;
	const struct fg_ctl_stats_reply *in = stats_of(status, msg);

	/* stats_json terminates the drop names in place: a copy */
	if (in && (st = malloc(sizeof(*st))))
		memcpy(st, in, sizeof(*st));
	fg_cpctl_pending_done(ctx, st ? stats_json(st) : NULL);
	free(st);
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
	if (strcmp(cmd, "status") == 0) {
		struct status_ctx *sc = malloc(sizeof(*sc));

		if (!sc)
			return -ENOMEM;
		sc->cp = cp;
		sc->p = p;
		cb = (struct fg_dpc_cb){ .done = status_done, .ctx = sc };
		r = fg_dpc_send(&cp->dpc, &st, FG_CTL_STATS, STATUS_BUDGET_MS, &cb);
		if (r < 0)
			free(sc);
		return r;
	}
	if (strcmp(cmd, "stats") == 0) {
		cb.done = stats_done;
		return fg_dpc_send(&cp->dpc, &st, FG_CTL_STATS, FG_DPC_TIMEOUT_MS, &cb);
	}
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
	.start = prov_start,
};
