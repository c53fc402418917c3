// SPDX-License-Identifier: MIT
/*
 * What fastgatectl flows shows (see flowlog.h; schema in cpctl_server.h): the live flows
 * (started, not completed; the newest FG_FLOWLOG_LIVE_MAX), the last completed ones, the
 * counters, the spool and the uploader. Bounded arrays, no allocation per record. Control
 * plane thread only.
 */
#include <stdio.h>
#include <string.h>

#include "flowlog_priv.h"

enum {
	NS_PER_S = 1000000000,
};

static bool same_flow(const struct fg_ctl_flow *a, const struct fg_ctl_flow *b)
{
	return a->start_unix_ns == b->start_unix_ns && a->proto == b->proto && a->src_port == b->src_port &&
	       a->dst_port == b->dst_port && !memcmp(a->public_key, b->public_key, 32) &&
	       fg_ip_equal(&a->src, &b->src) && fg_ip_equal(&a->dst, &b->dst) &&
	       !strcmp(a->resource_id, b->resource_id);
}

static void fill(struct fg_flowlog_recent *r, const struct fg_ctl_flow *m, const char *client_id, const char *domain)
{
	r->m = *m;
	snprintf(r->client_id, sizeof(r->client_id), "%s", client_id ? client_id : "");
	snprintf(r->domain, sizeof(r->domain), "%s", domain ? domain : "");
}

void fg_flowlog_remember(struct fg_flowlog *f, const struct fg_ctl_flow *m, const char *client_id,
			 const char *domain)
{
	unsigned i;

	if (m->kind == FG_CTL_FLOW_STARTED) {
		if (f->nlive == FG_FLOWLOG_LIVE_MAX) {
			unsigned oldest = 0;

			for (i = 1; i < f->nlive; i++)
				if (f->live[i].m.start_unix_ns < f->live[oldest].m.start_unix_ns)
					oldest = i;
			f->live[oldest] = f->live[--f->nlive];
			f->c.live_evicted++;
		}
		fill(&f->live[f->nlive++], m, client_id, domain);
		return;
	}
	for (i = 0; i < f->nlive; i++)
		if (same_flow(&f->live[i].m, m)) {
			f->live[i] = f->live[--f->nlive];
			break;
		}
	fill(&f->done[f->done_head], m, client_id, domain);
	f->done_head = (f->done_head + 1) % FG_FLOWLOG_COMPLETED_MAX;
	if (f->ndone < FG_FLOWLOG_COMPLETED_MAX)
		f->ndone++;
}

static void add_text(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_time(cJSON *o, const char *k, uint64_t ns)
{
	if (ns)
		cJSON_AddNumberToObject(o, k, (double)(ns / NS_PER_S));
	else
		cJSON_AddNullToObject(o, k);
}

static void add_endpoint(cJSON *o, const char *k, const struct fg_ip *ip, uint16_t port)
{
	struct fg_endpoint ep = { *ip, port };
	char buf[FG_ENDPOINT_STRLEN];

	cJSON_AddStringToObject(o, k, fg_endpoint_format(&ep, buf, sizeof(buf)));
}

static cJSON *flow_json(const struct fg_flowlog_recent *r, bool live)
{
	const struct fg_ctl_flow *m = &r->m;
	cJSON *o = cJSON_CreateObject();
	char buf[FG_ENDPOINT_STRLEN];

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "state", live ? "live" : "completed");
	cJSON_AddStringToObject(o, "protocol", fg_flow_protocol(m));
	add_text(o, "client_id", r->client_id);
	add_text(o, "resource_id", m->resource_id);
	add_endpoint(o, "src", &m->src, m->src_port);
	add_endpoint(o, "dst", fg_flow_inner_dst(m), m->dst_port);
	if (m->real.family)
		cJSON_AddStringToObject(o, "proxy", fg_ip_format(&m->dst, buf, sizeof(buf)));
	else
		cJSON_AddNullToObject(o, "proxy");
	add_text(o, "domain", r->domain);
	if (m->n_outers) {
		const struct fg_endpoint *ep = &m->outers[m->n_outers - 1];

		cJSON_AddStringToObject(o, "outer", fg_endpoint_format(ep, buf, sizeof(buf)));
		cJSON_AddBoolToObject(o, "relayed", m->channels[m->n_outers - 1] != 0);
	} else {
		cJSON_AddNullToObject(o, "outer");
		cJSON_AddBoolToObject(o, "relayed", false);
	}
	add_time(o, "start", m->start_unix_ns);
	add_time(o, "last_packet", live ? 0 : m->last_packet_unix_ns);
	add_time(o, "end", live ? 0 : m->end_unix_ns);
	add_text(o, "end_reason", live ? NULL : fg_flow_end_name(m->end));
	cJSON_AddNumberToObject(o, "tx_packets", (double)m->tx_packets);
	cJSON_AddNumberToObject(o, "tx_bytes", (double)m->tx_bytes);
	cJSON_AddNumberToObject(o, "rx_packets", (double)m->rx_packets);
	cJSON_AddNumberToObject(o, "rx_bytes", (double)m->rx_bytes);
	return o;
}

static void add_count(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

static cJSON *counters_json(const struct fg_flowlog *f)
{
	struct fg_flow_spool_stats ss = { 0 };
	struct fg_flow_upload_stats us = { 0 };
	cJSON *c = cJSON_CreateObject();

	if (f->spool)
		fg_flow_spool_stats(f->spool, &ss);
	if (f->upload)
		fg_flow_upload_stats(f->upload, &us);
	add_count(c, "started", f->c.started);
	add_count(c, "completed", f->c.completed);
	add_count(c, "ignored", f->c.ignored);
	add_count(c, "malformed", f->c.malformed);
	add_count(c, "unattributed", f->c.unattributed);
	add_count(c, "unspooled", f->c.unspooled);
	add_count(c, "spooled", ss.spooled);
	add_count(c, "uploaded", us.uploaded);
	add_count(c, "upload_batches", us.batches);
	add_count(c, "upload_requests", us.requests);
	add_count(c, "upload_failures", us.failures);
	add_count(c, "upload_refused", us.refused);
	add_count(c, "dropped", ss.dropped);
	add_count(c, "corrupt", ss.corrupt);
	add_count(c, "live_evicted", f->c.live_evicted);
	return c;
}

static cJSON *spool_json(const struct fg_flowlog *f)
{
	struct fg_flow_spool_stats ss;
	cJSON *s;

	if (!f->spool)
		return cJSON_CreateNull();
	fg_flow_spool_stats(f->spool, &ss);
	s = cJSON_CreateObject();
	add_count(s, "bytes", ss.bytes);
	add_count(s, "max_bytes", ss.max_bytes);
	add_count(s, "segments", ss.segments);
	add_count(s, "authorizations", ss.dirs);
	add_count(s, "pending", ss.pending);
	return s;
}

cJSON *fg_flowlog_json(const struct fg_flowlog *f)
{
	cJSON *o = cJSON_CreateObject(), *up = cJSON_CreateObject(), *list = cJSON_CreateArray();

	if (!o || !up || !list) {
		cJSON_Delete(o);
		cJSON_Delete(up);
		cJSON_Delete(list);
		return NULL;
	}
	cJSON_AddBoolToObject(o, "tracking", f->tracking);
	cJSON_AddBoolToObject(o, "log_lines", f->log_lines);
	cJSON_AddStringToObject(o, "dir", f->dir);
	cJSON_AddNumberToObject(o, "tokens", f->ntokens);
	if (f->upload && fg_flow_upload_enabled(f->upload)) {
		fg_flow_upload_json(f->upload, up);
	} else {
		struct fg_flow_url u;
		char url[FG_FLOW_URL_LEN + 16];

		/* On, but the spool waits for the first report to spool: no pass yet. */
		cJSON_AddBoolToObject(up, "enabled", f->uploads);
		if (f->uploads && fg_flow_url_parse(f->api_url, &u, NULL, 0) == 0)
			cJSON_AddStringToObject(up, "url", fg_flow_url_format(&u, url, sizeof(url)));
		else
			cJSON_AddNullToObject(up, "url");
		cJSON_AddNumberToObject(up, "interval_s", f->uploads ? (double)f->interval_s : 0);
		cJSON_AddNumberToObject(up, "batch_size", f->uploads ? (double)f->batch_size : 0);
		cJSON_AddStringToObject(up, "state", f->uploads ? "waiting" : "off");
		cJSON_AddNullToObject(up, "last_status");
		add_text(up, "last_error", f->spool_error);
		cJSON_AddNullToObject(up, "last_success");
	}
	cJSON_AddItemToObject(o, "uploads", up);
	cJSON_AddItemToObject(o, "spool", spool_json(f));
	cJSON_AddItemToObject(o, "counters", counters_json(f));
	/* The live flows, then the completed ones, the last ended first. */
	for (unsigned i = f->nlive; i-- > 0;)
		cJSON_AddItemToArray(list, flow_json(&f->live[i], true));
	for (unsigned k = 0; k < f->ndone; k++) {
		unsigned i = (f->done_head + FG_FLOWLOG_COMPLETED_MAX - 1 - k) % FG_FLOWLOG_COMPLETED_MAX;

		cJSON_AddItemToArray(list, flow_json(&f->done[i], false));
	}
	cJSON_AddItemToObject(o, "flows", list);
	return o;
}
