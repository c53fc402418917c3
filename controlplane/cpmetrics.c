// SPDX-License-Identifier: MIT
/*
 * The control plane's /metrics (see cp.h): a timer on the loop asks the data plane for its
 * STATS_REPLY every FG_CP_METRICS_REFRESH_MS (one request in flight at most, through the
 * asynchronous dpclient) and keeps the last answer; a scrape renders that copy and what the
 * control plane holds (the portal connection, the authorizations, relays and ICE agents, DNS
 * resources, flow logs) into the Prometheus text (metrics.h) at once, never waiting. Without
 * a data plane, fastgate_dataplane_up is 0 and its families are left out. The control
 * plane's own figures are read from the same views fastgatectl shows (JSON), so both say
 * the same. Control plane thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cp.h"
#include "flowlog.h"
#include "ice.h"
#include "log.h"
#include "metrics.h"

static const char *const TAG = "fastgate.metrics";

/* ---- the copy of the data plane's counters ---------------------------------------------- */

static void stats_done(void *ctx, int status, const void *msg)
{
	struct fg_cp *cp = ctx;
	struct fg_cp_metrics *mx = &cp->metrics;

	mx->pending = false;
	if (status == 0 && msg && ((const struct fg_ctl_hdr *)msg)->type == FG_CTL_STATS_REPLY) {
		memcpy(&mx->stats, msg, sizeof(mx->stats));
		mx->have_stats = true;
		mx->answered = true;
		mx->stats_ms = fg_dpc_now_ms();
		return;
	}
	mx->answered = false;
	if (status == -ECONNRESET)
		mx->have_stats = false;
	fg_debug(TAG, "the data plane's counters were not refreshed: %s", strerror(status < 0 ? -status : EPROTO));
}

static void refresh(struct fg_timer *t)
{
	struct fg_cp *cp = t->ctx;
	struct fg_cp_metrics *mx = &cp->metrics;

	if (!fg_dpc_connected(&cp->dpc)) {
		mx->have_stats = false;
		mx->answered = false;
	} else if (!mx->pending) {
		const struct fg_dpc_cb cb = { .done = stats_done, .ctx = cp };
		struct fg_ctl_stats m;

		memset(&m, 0, sizeof(m));
		mx->pending = fg_dpc_send(&cp->dpc, &m, FG_CTL_STATS, FG_CP_METRICS_BUDGET_MS, &cb) == 0;
	}
	fg_loop_timer(t, (uint64_t)FG_CP_METRICS_REFRESH_MS * 1000);
}

void fg_cp_metrics_dp_lost(struct fg_cp *cp)
{
	cp->metrics.have_stats = false;
	cp->metrics.answered = false;
}

/* ---- JSON views ------------------------------------------------------------------------- */

/* The views' counts are uint64_t held in doubles: back, saturating at 2^64 - 1. */
static uint64_t to_u64(double v)
{
	return v >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)v;
}

/* A count of the view (a number, not negative), or false when it has none under that key. */
static bool jnum(const cJSON *o, const char *key, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0))
		return false;
	*out = to_u64(v->valuedouble);
	return true;
}

static void jcounter(struct fg_metrics *m, const cJSON *o, const char *key, const char *name, const char *help)
{
	uint64_t v;

	if (jnum(o, key, &v))
		fg_metrics_one_u64(m, name, FG_METRIC_COUNTER, help, v);
}

static void jgauge(struct fg_metrics *m, const cJSON *o, const char *key, const char *name, const char *help)
{
	uint64_t v;

	if (jnum(o, key, &v))
		fg_metrics_one_u64(m, name, FG_METRIC_GAUGE, help, v);
}

/* One sample of the current family per state name, labelled label, with its count. */
static void count_states(struct fg_metrics *m, const char *label, const char *const *names, size_t n,
			 const unsigned *counts)
{
	for (size_t i = 0; i < n; i++)
		fg_metrics_u64(m, FG_METRIC_LABELS({ label, names[i] }), counts[i]);
}

/* Counts item under its "state", when that is one of names. */
static void tally(const cJSON *item, const char *const *names, size_t n, unsigned *counts)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(item, "state");

	for (size_t i = 0; cJSON_IsString(s) && i < n; i++)
		if (strcmp(s->valuestring, names[i]) == 0)
			counts[i]++;
}

/* ---- the process, the data plane ---------------------------------------------------------- */

static void process_families(struct fg_metrics *m, struct fg_cp *cp)
{
	fg_metrics_family(m, "fastgate_build_info", FG_METRIC_GAUGE, "The control plane's version (always 1).");
	fg_metrics_u64(m, FG_METRIC_LABELS({ "version", FG_VERSION }), 1);
	fg_metrics_one_f64(m, "fastgate_controlplane_uptime_seconds", FG_METRIC_GAUGE,
			   "Time since the control plane started.", (double)(fg_dpc_now_ms() - cp->started_ms) / 1000.0);
	fg_metrics_one_u64(m, "fastgate_metrics_scrapes_total", FG_METRIC_COUNTER,
			   "/metrics texts built (this one included).", cp->health.scrapes);
	fg_metrics_one_u64(m, "fastgate_metrics_scrapes_refused_total", FG_METRIC_COUNTER,
			   "/metrics requests answered 503 (too many answers being written, or out of memory).",
			   cp->health.refused);
}

static void dataplane_families(struct fg_metrics *m, struct fg_cp *cp)
{
	struct fg_cp_metrics *mx = &cp->metrics;
	bool connected = fg_dpc_connected(&cp->dpc);
	char version[sizeof(cp->dpc.hello.version) + 1];

	fg_metrics_one_u64(m, "fastgate_dataplane_up", FG_METRIC_GAUGE,
			   "1 when the data plane is connected and answered the last request for its counters.",
			   connected && mx->have_stats && mx->answered);
	fg_metrics_one_u64(m, "fastgate_dataplane_requests_timed_out_total", FG_METRIC_COUNTER,
			   "Requests to the data plane that ran out of time.", cp->dpc.timeouts);
	fg_metrics_one_u64(m, "fastgate_dataplane_push_errors_total", FG_METRIC_COUNTER,
			   "Authorization changes the data plane refused, did not answer in time, or missed "
			   "while away (pushed again once it is back).",
			   cp->state.dp_errors);
	fg_metrics_one_u64(m, "fastgate_dataplane_punted_packets_total", FG_METRIC_COUNTER,
			   "STUN and TURN datagrams the data plane handed to the control plane.", cp->dpc.packets_in);
	fg_metrics_one_u64(m, "fastgate_dataplane_punted_dropped_total", FG_METRIC_COUNTER,
			   "Datagrams the data plane handed over that nothing took (empty, or no handler).",
			   cp->dpc.packets_dropped + cp->dpc.unsolicited_dropped);
	if (!connected || !mx->have_stats)
		return;
	fg_metrics_one_f64(m, "fastgate_dataplane_stats_age_seconds", FG_METRIC_GAUGE,
			   "Age of the data plane's counters below (asked for every second).",
			   (double)(fg_dpc_now_ms() - mx->stats_ms) / 1000.0);
	memcpy(version, cp->dpc.hello.version, sizeof(cp->dpc.hello.version));
	version[sizeof(cp->dpc.hello.version)] = '\0';
	fg_metrics_stats_reply(m, &mx->stats, version);
}

/* ---- the portal, the authorizations ------------------------------------------------------ */

static void portal_families(struct fg_metrics *m, struct fg_cp *cp)
{
	enum fg_portal_state now;
	cJSON *o;
	uint64_t v;

	if (!cp->portal)
		return;
	now = fg_portal_state(cp->portal);
	fg_metrics_family(m, "fastgate_portal_state", FG_METRIC_GAUGE,
			  "The portal connection's state: 1 for the state it is in, 0 for the others.");
	for (int s = FG_PORTAL_DISCONNECTED; s <= FG_PORTAL_FAILED; s++)
		fg_metrics_u64(m, FG_METRIC_LABELS({ "state", fg_portal_state_name((enum fg_portal_state)s) }),
			       now == (enum fg_portal_state)s);
	o = fg_portal_json(cp->portal);
	if (jnum(o, "connected_since", &v))
		fg_metrics_one_u64(m, "fastgate_portal_connected_since_seconds", FG_METRIC_GAUGE,
				   "When the portal connection came up (unix time); absent while it is not up.", v);
	jcounter(m, o, "reconnects", "fastgate_portal_reconnects_total", "Connections to the portal after the first.");
	cJSON_Delete(o);
	fg_metrics_one_u64(m, "fastgate_portal_messages_total", FG_METRIC_COUNTER, "Portal messages received.",
			   cp->gw.messages);
	fg_metrics_one_u64(m, "fastgate_portal_messages_malformed_total", FG_METRIC_COUNTER,
			   "Portal messages that did not parse (ignored with a warning).", cp->gw.malformed);
	fg_metrics_one_u64(m, "fastgate_portal_messages_ignored_total", FG_METRIC_COUNTER,
			   "Portal messages of unknown or obsolete events (ignored).", cp->gw.ignored);
}

static int cmp_ids(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void state_families(struct fg_metrics *m, struct fg_cp *cp)
{
	const struct fg_cp_state *s = &cp->state;
	static const char *const types[] = { [FG_CP_RES_CIDR] = "cidr", [FG_CP_RES_DNS] = "dns",
					     [FG_CP_RES_INTERNET] = "internet" };
	unsigned by_type[sizeof(types) / sizeof(types[0])] = { 0 };
	size_t total = 0, k = 0, distinct = 0;
	const char **ids;

	fg_metrics_one_u64(m, "fastgate_clients", FG_METRIC_GAUGE, "Clients holding at least one authorization.", s->n);
	for (uint32_t c = 0; c < s->n; c++) {
		for (uint32_t i = 0; i < s->clients[c].nres; i++)
			if (s->clients[c].res[i].type < sizeof(types) / sizeof(types[0]))
				by_type[s->clients[c].res[i].type]++;
		total += s->clients[c].nres;
	}
	fg_metrics_family(m, "fastgate_authorizations", FG_METRIC_GAUGE,
			  "Authorizations held (a client's access to a resource), by resource type.");
	for (size_t t = FG_CP_RES_CIDR; t <= FG_CP_RES_INTERNET; t++)
		fg_metrics_u64(m, FG_METRIC_LABELS({ "type", types[t] }), by_type[t]);
	/* Resources: the distinct ids among the authorizations. */
	ids = total ? malloc(total * sizeof(*ids)) : NULL;
	if (total && !ids)
		return;
	for (uint32_t c = 0; c < s->n; c++)
		for (uint32_t i = 0; i < s->clients[c].nres; i++)
			ids[k++] = s->clients[c].res[i].id;
	if (k)
		qsort(ids, k, sizeof(*ids), cmp_ids);
	for (size_t i = 0; i < k; i++)
		distinct += i == 0 || strcmp(ids[i], ids[i - 1]) != 0;
	free(ids);
	fg_metrics_one_u64(m, "fastgate_resources", FG_METRIC_GAUGE, "Resources some client is authorized for.",
			   distinct);
}

/* ---- relays and ICE ----------------------------------------------------------------------- */

static void relay_families(struct fg_metrics *m, struct fg_cp *cp)
{
	const char *relay_states[FG_RELAY_FAILED], *chan_states[FG_RELAY_CHAN_EXPIRED];
	unsigned relays[FG_RELAY_FAILED] = { 0 }, chans[FG_RELAY_CHAN_EXPIRED] = { 0 };
	cJSON *o = fg_conn_json_relays(cp->conn), *r, *ch;
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(o, "counters");

	for (int s = FG_RELAY_BINDING; s <= FG_RELAY_FAILED; s++)
		relay_states[s - 1] = fg_relay_state_name((enum fg_relay_state)s);
	for (int s = FG_RELAY_CHAN_PENDING; s <= FG_RELAY_CHAN_EXPIRED; s++)
		chan_states[s - 1] = fg_relay_channel_state_name((enum fg_relay_channel_state)s);
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(o, "relays")) {
		tally(r, relay_states, FG_RELAY_FAILED, relays);
		cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(r, "channels"))
			tally(ch, chan_states, FG_RELAY_CHAN_EXPIRED, chans);
	}
	fg_metrics_family(m, "fastgate_relays", FG_METRIC_GAUGE, "TURN relays the portal named, by allocation state.");
	count_states(m, "state", relay_states, FG_RELAY_FAILED, relays);
	fg_metrics_family(m, "fastgate_relay_channels", FG_METRIC_GAUGE, "TURN channels, by state.");
	count_states(m, "state", chan_states, FG_RELAY_CHAN_EXPIRED, chans);
	fg_metrics_family(m, "fastgate_relay_events_total", FG_METRIC_COUNTER,
			  "TURN client events by kind: requests, retransmits, allocations, and datagrams dropped "
			  "by reason (fastgatectl relays' counters).");
	for (unsigned i = 0; i < FG_RELAY_N_COUNTERS; i++) {
		uint64_t v;

		if (jnum(k, fg_relay_counter_names[i], &v))
			fg_metrics_u64(m, FG_METRIC_LABELS({ "event", fg_relay_counter_names[i] }), v);
	}
	jcounter(m, k, "no_relays_sent", "fastgate_relay_no_relays_sent_total",
		 "no_relays messages sent to the portal (no relay holds an allocation).");
	jcounter(m, k, "confirmations_withheld", "fastgate_authorizations_withheld_total",
		 "Authorizations not confirmed to the portal because no relay held an allocation.");
	cJSON_Delete(o);
}

static void ice_families(struct fg_metrics *m, struct fg_cp *cp)
{
	/* "waiting": a client's candidates came before its authorization (no agent yet) */
	const char *names[FG_ICE_FAILED + 1] = { "waiting" };
	unsigned counts[FG_ICE_FAILED + 1] = { 0 };
	cJSON *o = fg_conn_json_ice(cp->conn), *a, *c;

	for (int s = FG_ICE_CHECKING; s <= FG_ICE_FAILED; s++)
		names[s] = fg_ice_state_name((enum fg_ice_state)s);
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(o, "agents"))
		tally(a, names, FG_ICE_FAILED + 1, counts);
	fg_metrics_family(m, "fastgate_ice_agents", FG_METRIC_GAUGE, "ICE agents (one per client), by state.");
	count_states(m, "state", names, FG_ICE_FAILED + 1, counts);
	fg_metrics_family(m, "fastgate_connectivity_events_total", FG_METRIC_COUNTER,
			  "Connectivity events by kind: punted datagrams routed, channels bound, paths set, agents "
			  "created and removed, candidates signalled (fastgatectl ice's counters).");
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "counters"))
		if (cJSON_IsNumber(c) && c->valuedouble >= 0 && c->string)
			fg_metrics_u64(m, FG_METRIC_LABELS({ "event", c->string }), to_u64(c->valuedouble));
	cJSON_Delete(o);
}

/* ---- DNS resources, flow logs ------------------------------------------------------------ */

static void dns_families(struct fg_metrics *m, struct fg_cp *cp)
{
	const struct fg_cp_nat_stats *s;

	if (!cp->nat)
		return;
	s = fg_cp_nat_stats(cp->nat);
	fg_metrics_one_u64(m, "fastgate_dns_assigned_ips_total", FG_METRIC_COUNTER,
			   "AssignedIps messages of clients received (DNS resources).", s->assigned_ips);
	fg_metrics_one_u64(m, "fastgate_dns_assigned_ips_malformed_total", FG_METRIC_COUNTER,
			   "AssignedIps messages that did not parse (dropped).", s->malformed);
	fg_metrics_one_u64(m, "fastgate_dns_assigned_ips_refused_total", FG_METRIC_COUNTER,
			   "AssignedIps answered Inactive at once (not authorized, no matching resource).", s->refused);
	fg_metrics_one_u64(m, "fastgate_dns_proxy_resets_total", FG_METRIC_COUNTER,
			   "Clients that renumbered their proxy IPs.", s->resets);
	fg_metrics_family(m, "fastgate_dns_lookups_total", FG_METRIC_COUNTER,
			  "Lookups of DNS resources' domains, by result: resolved, timeout, busy (dropped: too many "
			  "in flight).");
	fg_metrics_u64(m, FG_METRIC_LABELS({ "result", "resolved" }), s->resolved);
	fg_metrics_u64(m, FG_METRIC_LABELS({ "result", "timeout" }), s->timeouts);
	fg_metrics_u64(m, FG_METRIC_LABELS({ "result", "busy" }), s->busy);
	fg_metrics_family(m, "fastgate_dns_domain_status_sent_total", FG_METRIC_COUNTER,
			  "DomainStatus messages sent to clients, by status.");
	fg_metrics_u64(m, FG_METRIC_LABELS({ "status", "active" }), s->active);
	fg_metrics_u64(m, FG_METRIC_LABELS({ "status", "inactive" }), s->inactive);
}

/* fastgatectl flows' counters, as metrics. */
static const struct {
	const char *key, *name, *help;
} flow_counters[] = {
	{ "spooled", "fastgate_flowlog_reports_spooled_total", "Flow reports written to the spool." },
	{ "dropped", "fastgate_flowlog_reports_dropped_total",
	  "Flow reports lost: spool full, expired or token-less directory, write failure." },
	{ "uploaded", "fastgate_flowlog_reports_uploaded_total", "Flow reports the portal stored." },
	{ "upload_batches", "fastgate_flowlog_upload_batches_total", "Batches of flow reports the portal stored." },
	{ "upload_requests", "fastgate_flowlog_upload_requests_total", "Upload requests sent to the portal." },
	{ "upload_failures", "fastgate_flowlog_upload_failures_total", "Upload requests without a 2xx answer." },
	{ "upload_refused", "fastgate_flowlog_upload_refused_total", "Upload requests answered 4xx." },
	{ "corrupt", "fastgate_flowlog_spool_corrupt_total", "Spool lines or files that failed to read back." },
	{ "live_evicted", "fastgate_flowlog_live_evicted_total", "Live flows pushed out of fastgatectl's view." },
};

static const struct {
	const char *key, *name, *help;
} spool_gauges[] = {
	{ "bytes", "fastgate_flowlog_spool_bytes", "Bytes of the flow log spool." },
	{ "max_bytes", "fastgate_flowlog_spool_max_bytes", "The flow log spool's bound." },
	{ "segments", "fastgate_flowlog_spool_segments", "Segment files in the flow log spool." },
	{ "pending", "fastgate_flowlog_spool_pending", "Flow reports in memory waiting for the spool." },
};

static void flow_families(struct fg_metrics *m, struct fg_cp *cp)
{
	static const char *const skipped[] = { "ignored", "malformed", "unattributed", "unspooled" };
	cJSON *o, *k, *sp, *up;
	uint64_t v;

	if (!cp->flows || !(o = fg_flowlog_json(cp->flows)))
		return;
	k = cJSON_GetObjectItemCaseSensitive(o, "counters");
	sp = cJSON_GetObjectItemCaseSensitive(o, "spool");
	up = cJSON_GetObjectItemCaseSensitive(o, "uploads");
	fg_metrics_one_u64(m, "fastgate_flowlog_tracking", FG_METRIC_GAUGE,
			   "1 while the data plane tracks every flow (uploads on, or flow log lines asked for).",
			   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "tracking")));
	fg_metrics_one_u64(m, "fastgate_flowlog_uploads_enabled", FG_METRIC_GAUGE,
			   "1 while the portal's init enables flow log uploads.",
			   cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(up, "enabled")));
	jgauge(m, o, "tokens", "fastgate_flowlog_tokens", "Flow log ingest tokens held (one per authorization).");
	fg_metrics_family(m, "fastgate_flowlog_records_total", FG_METRIC_COUNTER,
			  "Flow records from the data plane, by kind (a flow started or completed).");
	if (jnum(k, "started", &v))
		fg_metrics_u64(m, FG_METRIC_LABELS({ "kind", "started" }), v);
	if (jnum(k, "completed", &v))
		fg_metrics_u64(m, FG_METRIC_LABELS({ "kind", "completed" }), v);
	fg_metrics_family(m, "fastgate_flowlog_records_skipped_total", FG_METRIC_COUNTER,
			  "Flow records neither logged nor spooled, by reason: ignored (ICMP, tracking off), "
			  "malformed, unattributed (no usable token), unspooled (spool unusable).");
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		if (jnum(k, skipped[i], &v))
			fg_metrics_u64(m, FG_METRIC_LABELS({ "reason", skipped[i] }), v);
	for (size_t i = 0; i < sizeof(flow_counters) / sizeof(flow_counters[0]); i++)
		jcounter(m, k, flow_counters[i].key, flow_counters[i].name, flow_counters[i].help);
	for (size_t i = 0; cJSON_IsObject(sp) && i < sizeof(spool_gauges) / sizeof(spool_gauges[0]); i++)
		jgauge(m, sp, spool_gauges[i].key, spool_gauges[i].name, spool_gauges[i].help);
	cJSON_Delete(o);
}

/* ---- the text, the server ---------------------------------------------------------------- */

static char *render(void *ctx, size_t *len)
{
	struct fg_cp *cp = ctx;
	struct fg_metrics m;

	fg_metrics_init(&m);
	process_families(&m, cp);
	dataplane_families(&m, cp);
	portal_families(&m, cp);
	state_families(&m, cp);
	if (cp->conn) {
		relay_families(&m, cp);
		ice_families(&m, cp);
	}
	dns_families(&m, cp);
	flow_families(&m, cp);
	if (m.refused && !cp->metrics.warned) {
		/* Names are constants: a refusal is a bug in the lists above, said once. */
		cp->metrics.warned = true;
		fg_warn(TAG, "/metrics left out %" PRIu64 " families or samples with bad names", m.refused);
	}
	return fg_metrics_take(&m, len);
}

static const struct fg_health_ops health_ops = {
	.metrics = render,
};

int fg_cp_metrics_start(struct fg_cp *cp, const char *addr)
{
	int r = fg_health_start(&cp->health, cp->lws, addr, &health_ops, cp);

	if (r < 0)
		return r;
	fg_timer_init(&cp->metrics.timer, &cp->loop, refresh, cp);
	fg_loop_timer(&cp->metrics.timer, 1);
	return 0;
}

void fg_cp_metrics_stop(struct fg_cp *cp)
{
	if (cp->metrics.timer.loop)
		fg_loop_timer(&cp->metrics.timer, 0);
}
