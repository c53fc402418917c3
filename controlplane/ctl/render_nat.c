// SPDX-License-Identifier: MIT
/*
 * Human output of fastgatectl for DNS resources (see render.h; schemas in cpctl_server.h):
 * `nat`, one block per client: its domains (each domain's resource, every proxy IP and the
 * real IP it stands for) as a table, then the data plane's live NAT tuples as a table, or
 * one line saying why the data plane gave none; and the sections `stats` ends with: the
 * connection table, flows, p2p control and the control plane's DNS resource counters. Every
 * field is read defensively through render_priv.h; text outside a table is cleaned as table
 * cells are. No state.
 */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "render_priv.h"
#include "table.h"

enum {
	CELL_MAX = FG_RENDER_CELL_MAX,
	NUM_LEN = FG_RENDER_NUM_LEN,
	SHORT_LEN = 48,          /* "106751991167300d15h30m7s" */
	INDENT = FG_RENDER_INDENT,
};

/* Cleans s (it comes from the response) and prints it as one line, indent spaces first. */
static int put_line(FILE *out, int indent, const char *s)
{
	char *clean = fg_table_clean(s);

	if (!clean)
		return -ENOMEM;
	fprintf(out, "%*s%s\n", indent, "", clean);
	free(clean);
	return 0;
}

/* ---- nat ------------------------------------------------------------------------------------ */

/* How long ago the Unix time at k was, short: "45s", "9m11s", "1h0m0s", "2d3h0m5s" (a time
 * after now is "0s": the clocks of two processes); if_absent, or "?" for a bad value. */
static const char *ago_short(const cJSON *o, const char *k, time_t now, const char *if_absent, char *buf,
			     size_t len)
{
	const cJSON *j = fg_render_field(o, k);
	uint64_t t, s, d, h, m;

	if (fg_render_absent(j))
		return if_absent;
	if (!fg_render_as_count(j, &t))
		return "?";
	s = now > 0 && t < (uint64_t)now ? (uint64_t)now - t : 0;
	d = s / 86400;
	h = s / 3600 % 24;
	m = s / 60 % 60;
	if (d)
		snprintf(buf, len, "%" PRIu64 "d%" PRIu64 "h%" PRIu64 "m%" PRIu64 "s", d, h, m, s % 60);
	else if (h)
		snprintf(buf, len, "%" PRIu64 "h%" PRIu64 "m%" PRIu64 "s", h, m, s % 60);
	else if (m)
		snprintf(buf, len, "%" PRIu64 "m%" PRIu64 "s", m, s % 60);
	else
		snprintf(buf, len, "%" PRIu64 "s", s);
	return buf;
}

enum dom_col { D_DOMAIN, D_RESOURCE, D_PROXY, D_REAL, D_NCOLS };

/* The client's domains: one row per proxy IP, its domain and resource on the first. */
static int domains_table(const cJSON *domains, FILE *out)
{
	static const char *const head[D_NCOLS] = { "DOMAIN", "RESOURCE", "PROXY IP", "REAL IP" };
	const cJSON *d, *p;
	struct fg_table t;
	int ret;

	if (!cJSON_IsArray(domains))
		return put_line(out, INDENT, "domains: ?");
	if (!cJSON_GetArraySize(domains))
		return put_line(out, INDENT, "domains: none");
	fg_table_init(&t, D_NCOLS, 0);
	fg_table_row(&t);
	for (size_t c = 0; c < D_NCOLS; c++)
		fg_table_cell(&t, c, head[c]);
	cJSON_ArrayForEach(d, domains) {
		const cJSON *ips = fg_render_field(d, "proxy_ips");
		bool first = true;

		fg_table_row(&t);
		fg_table_cell(&t, D_DOMAIN, fg_render_text(d, "domain", "?"));
		fg_table_cell(&t, D_RESOURCE, fg_render_text(d, "resource_id", "?"));
		if (!cJSON_IsArray(ips) || !cJSON_GetArraySize(ips)) {
			fg_table_cell(&t, D_PROXY, cJSON_IsArray(ips) ? "none" : "?");
			continue;
		}
		cJSON_ArrayForEach(p, ips) {
			if (!first)
				fg_table_row(&t);
			first = false;
			fg_table_cell(&t, D_PROXY, fg_render_text(p, "proxy_ip", "?"));
			/* none of its family: the data plane answers net unreachable */
			fg_table_cell(&t, D_REAL, cJSON_IsObject(p) ? fg_render_text(p, "real_ip", "unreachable") : "?");
		}
	}
	ret = fg_table_print(&t, INDENT, out);
	fg_table_free(&t);
	return ret;
}

/* "100.96.0.1:40000", "[fd00::1]:40000", or for ICMP echo "100.96.0.1 id 7". */
static void tuple_end(const cJSON *tu, const char *ip_k, const char *port_k, char *buf, size_t len)
{
	const char *ip = fg_render_text(tu, ip_k, "?"), *proto = fg_render_text(tu, "proto", "?"), *port;
	char num[NUM_LEN];

	/* Its answer, not num: a missing or bad port leaves num unwritten. */
	port = fg_render_count(tu, port_k, "?", num, sizeof(num));
	if (strcmp(proto, "icmp") == 0 || strcmp(proto, "icmpv6") == 0)
		snprintf(buf, len, "%s id %s", ip, port);
	else if (strchr(ip, ':'))
		snprintf(buf, len, "[%s]:%s", ip, port);
	else
		snprintf(buf, len, "%s:%s", ip, port);
}

/* "reply,fin_out", "-" when empty, "?" when not a list of words. */
static void tuple_state(const cJSON *tu, char *buf, size_t len)
{
	const cJSON *st = fg_render_field(tu, "state"), *s;
	size_t off = 0;

	buf[0] = '\0';
	if (!cJSON_IsArray(st)) {
		snprintf(buf, len, "%s", fg_render_absent(st) ? "-" : "?");
		return;
	}
	cJSON_ArrayForEach(s, st) {
		if (off)
			fg_render_append(buf, len, &off, ",");
		fg_render_append(buf, len, &off, cJSON_IsString(s) ? s->valuestring : "?");
	}
	if (!off)
		snprintf(buf, len, "-");
}

/* "3 (180 B)": packets and bytes in one cell. */
static void pkts_bytes(const cJSON *tu, const char *pk, const char *bk, char *buf, size_t len)
{
	char p[NUM_LEN], b[FG_RENDER_BYTES_LEN];
	uint64_t v;

	snprintf(buf, len, "%s (%s)", fg_render_count(tu, pk, "?", p, sizeof(p)),
		 fg_render_as_count(fg_render_field(tu, bk), &v) ? fg_render_bytes(v, b, sizeof(b)) : "?");
}

enum tup_col { T_PROTO, T_INSIDE, T_OUTSIDE, T_DOMAIN, T_STATE, T_WORKER, T_AGE, T_OUT, T_IN, T_TX, T_RX,
	       T_NCOLS };

static int tuples_table(const cJSON *tuples, time_t now, FILE *out)
{
	static const char *const head[T_NCOLS] = {
		"PROTO", "INSIDE", "OUTSIDE", "DOMAIN", "STATE", "WORKER", "AGE", "LAST OUT", "LAST IN", "TX", "RX",
	};
	const cJSON *tu;
	char buf[CELL_MAX];
	struct fg_table t;
	int ret;

	if (!cJSON_IsArray(tuples))
		return put_line(out, INDENT, "tuples: ?");
	if (!cJSON_GetArraySize(tuples))
		return put_line(out, INDENT, "tuples: none");
	fg_table_init(&t, T_NCOLS, 1u << T_WORKER | 1u << T_AGE | 1u << T_OUT | 1u << T_IN | 1u << T_TX | 1u << T_RX);
	fg_table_row(&t);
	for (size_t c = 0; c < T_NCOLS; c++)
		fg_table_cell(&t, c, head[c]);
	cJSON_ArrayForEach(tu, tuples) {
		fg_table_row(&t);
		fg_table_cell(&t, T_PROTO, fg_render_text(tu, "proto", "?"));
		tuple_end(tu, "proxy", "inside_port", buf, sizeof(buf));
		fg_table_cell(&t, T_INSIDE, buf);
		tuple_end(tu, "real", "outside_port", buf, sizeof(buf));
		fg_table_cell(&t, T_OUTSIDE, buf);
		fg_table_cell(&t, T_DOMAIN, fg_render_text(tu, "domain", "-"));
		tuple_state(tu, buf, sizeof(buf));
		fg_table_cell(&t, T_STATE, buf);
		fg_table_cell(&t, T_WORKER, fg_render_count(tu, "worker", "?", buf, sizeof(buf)));
		fg_table_cell(&t, T_AGE, ago_short(tu, "created", now, "?", buf, sizeof(buf)));
		fg_table_cell(&t, T_OUT, ago_short(tu, "last_out", now, "never", buf, sizeof(buf)));
		fg_table_cell(&t, T_IN, ago_short(tu, "last_in", now, "never", buf, sizeof(buf)));
		pkts_bytes(tu, "tx_packets", "tx_bytes", buf, sizeof(buf));
		fg_table_cell(&t, T_TX, buf);
		pkts_bytes(tu, "rx_packets", "rx_bytes", buf, sizeof(buf));
		fg_table_cell(&t, T_RX, buf);
	}
	ret = fg_table_print(&t, INDENT, out);
	fg_table_free(&t);
	return ret;
}

/* "client c1, key Ab..=", its domains, its tuples (when the data plane gave any). */
static int client_block(const cJSON *c, bool tuples, time_t now, FILE *out)
{
	char head[CELL_MAX];
	int ret;

	snprintf(head, sizeof(head), "client %s, key %s", fg_render_text(c, "client_id", "-"),
		 fg_render_text(c, "public_key", "?"));
	ret = put_line(out, 0, head);
	if (!ret)
		ret = domains_table(fg_render_field(c, "domains"), out);
	if (!ret && tuples)
		ret = tuples_table(fg_render_field(c, "tuples"), now, out);
	return ret;
}

int fg_render_nat(const cJSON *r, time_t now, FILE *out)
{
	const cJSON *l = fg_render_list(r, "clients"), *c, *avail = fg_render_field(r, "tuples_available");
	bool tuples = cJSON_IsTrue(avail);
	char line[CELL_MAX];
	int ret = 0;

	if (!l)
		return -EPROTO;
	if (!cJSON_GetArraySize(l))
		fputs("no DNS resource NAT\n", out);
	cJSON_ArrayForEach(c, l) {
		if (c != l->child)
			fputc('\n', out);
		ret = client_block(c, tuples, now, out);
		if (ret)
			return fg_render_finish(out, ret);
	}
	if (!tuples) {
		snprintf(line, sizeof(line), "tuples unavailable: %s",
			 fg_render_absent(avail) || cJSON_IsFalse(avail) ? fg_render_text(r, "tuples_error", "unknown")
									 : "?");
		fputc('\n', out);
		ret = put_line(out, 0, line);
	} else if (!fg_render_absent(fg_render_field(r, "tuples_cut"))) {
		snprintf(line, sizeof(line), "tuples cut short: %s", fg_render_text(r, "tuples_cut", "?"));
		fputc('\n', out);
		ret = put_line(out, 0, line);
	}
	return fg_render_finish(out, ret);
}

/* ---- stats ---------------------------------------------------------------------------------- */

struct counter {
	const char *key;
	const char *label;
};

static const struct counter nat_counters[] = {
	{ "translated_out", "translated out" },
	{ "translated_in", "translated in" },
	{ "icmp_translated", "ICMP errors translated" },
	{ "created", "created" },
	{ "expired", "expired" },
	{ "misses", "misses" },
	{ "live", "live" },
};

static const struct counter flow_counters[] = {
	{ "started", "started" },
	{ "completed", "completed" },
	{ "live", "live" },
	{ "lost", "lost" },
};

static const struct counter p2p_counters[] = {
	{ "in", "in (AssignedIps)" },
	{ "out", "out (DomainStatus)" },
};

static const struct counter dns_counters[] = {
	{ "assigned_ips", "AssignedIps" },
	{ "malformed", "malformed" },
	{ "refused", "refused" },
	{ "resolved", "resolved" },
	{ "timeouts", "timeouts" },
	{ "busy", "busy" },
	{ "resets", "resets" },
	{ "active", "active" },
	{ "inactive", "inactive" },
};

/* One section: title, the known counters in order, then any others under their own name.
 * Absent: nothing (an older control plane); not an object: "title: ?". */
static int counters_section(const cJSON *o, const char *title, const struct counter *known, size_t n, FILE *out)
{
	char num[NUM_LEN];
	const cJSON *j;
	struct fg_table t;
	int ret;

	if (fg_render_absent(o))
		return 0;
	if (!cJSON_IsObject(o)) {
		fprintf(out, "\n%s: ?\n", title);
		return 0;
	}
	fprintf(out, "\n%s\n", title);
	fg_table_init(&t, 2, 1u << 1);
	for (size_t i = 0; i < n; i++) {
		fg_table_row(&t);
		fg_table_cell(&t, 0, known[i].label);
		fg_table_cell(&t, 1, fg_render_count(o, known[i].key, "?", num, sizeof(num)));
	}
	cJSON_ArrayForEach(j, o) {
		bool seen = false;

		for (size_t i = 0; i < n && !seen; i++)
			seen = strcmp(j->string, known[i].key) == 0;
		if (seen)
			continue;
		fg_table_row(&t);
		fg_table_cell(&t, 0, j->string);
		fg_table_cell(&t, 1, fg_render_count(o, j->string, "?", num, sizeof(num)));
	}
	ret = fg_table_print(&t, INDENT, out);
	fg_table_free(&t);
	return ret;
}

int fg_render_stats_nat(const cJSON *r, FILE *out)
{
	int ret;

	ret = counters_section(fg_render_field(r, "nat"), "connection table (NAT)", nat_counters,
			       sizeof(nat_counters) / sizeof(nat_counters[0]), out);
	if (!ret)
		ret = counters_section(fg_render_field(r, "flows"), "flows", flow_counters,
				       sizeof(flow_counters) / sizeof(flow_counters[0]), out);
	if (!ret)
		ret = counters_section(fg_render_field(r, "p2p"), "p2p control", p2p_counters,
				       sizeof(p2p_counters) / sizeof(p2p_counters[0]), out);
	if (!ret)
		ret = counters_section(fg_render_field(r, "dns_resources"), "DNS resources (control plane)",
				       dns_counters, sizeof(dns_counters) / sizeof(dns_counters[0]), out);
	return ret;
}
