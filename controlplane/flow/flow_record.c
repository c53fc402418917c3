// SPDX-License-Identifier: MIT
/*
 * Flow records in the Rust gateway's forms (see flow_record.h). The field names, their
 * order and their kinds follow flow-tracker's emit(): strings from the token (as_str) are
 * quoted in human lines, addresses, the domain, outers and times (Display / Debug) are
 * not, counters are numbers; a field Rust records as None is left out. No state.
 */
#include "flow_record.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

enum {
	NS_PER_S = 1000000000,
	LOG_FIELDS_MAX = 40,
};

/* A buffer being filled; full once something did not fit (the text is then useless). */
struct out {
	char *buf;
	size_t len, pos;
	bool full;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->len - o->pos) {
		o->full = true;
		return;
	}
	o->pos += (size_t)n;
}

/* s as a JSON string, quotes included. */
static void put_json_str(struct out *o, const char *s)
{
	put(o, "\"");
	for (const unsigned char *c = (const unsigned char *)s; *c && !o->full; c++) {
		if (*c == '"' || *c == '\\')
			put(o, "\\%c", *c);
		else if (*c < 0x20)
			put(o, "\\u%04x", *c);
		else
			put(o, "%c", *c);
	}
	put(o, "\"");
}

int fg_flow_check(const struct fg_ctl_flow *m)
{
	const struct fg_ip *ips[] = { &m->src, &m->dst };

	if (m->kind != FG_CTL_FLOW_STARTED && m->kind != FG_CTL_FLOW_COMPLETED)
		return -EINVAL;
	if (!memchr(m->resource_id, '\0', sizeof(m->resource_id)) || m->n_outers > FG_CTL_FLOW_MAX_OUTERS)
		return -EINVAL;
	for (size_t i = 0; i < 2; i++)
		if (ips[i]->family != AF_INET && ips[i]->family != AF_INET6)
			return -EINVAL;
	if (m->src.family != m->dst.family || (m->real.family && m->real.family != m->dst.family))
		return -EINVAL;
	for (unsigned i = 0; i < m->n_outers; i++)
		if (m->outers[i].ip.family != AF_INET && m->outers[i].ip.family != AF_INET6)
			return -EINVAL;
	if (m->proto == IPPROTO_ICMP || m->proto == IPPROTO_ICMPV6)
		return -ENOTSUP;
	if (m->proto != IPPROTO_TCP && m->proto != IPPROTO_UDP)
		return -EINVAL;
	return 0;
}

const char *fg_flow_message(const struct fg_ctl_flow *m)
{
	bool tcp = m->proto == IPPROTO_TCP, done = m->kind == FG_CTL_FLOW_COMPLETED;

	return tcp ? (done ? "TCP flow completed" : "TCP flow started") :
		     (done ? "UDP flow completed" : "UDP flow started");
}

const char *fg_flow_protocol(const struct fg_ctl_flow *m)
{
	return m->proto == IPPROTO_TCP ? "tcp" : "udp";
}

const char *fg_flow_end_name(uint32_t end)
{
	static const char *const names[] = {
		[FG_CTL_FLOW_END_IDLE] = "idle",
		[FG_CTL_FLOW_END_FIN] = "fin",
		[FG_CTL_FLOW_END_RST_OUT] = "rst_out",
		[FG_CTL_FLOW_END_RST_IN] = "rst_in",
		[FG_CTL_FLOW_END_RESET] = "reset",
	};

	return end < sizeof(names) / sizeof(names[0]) ? names[end] : NULL;
}

char *fg_flow_time(uint64_t unix_ns, char *buf, size_t len)
{
	time_t secs = (time_t)(unix_ns / NS_PER_S);
	uint32_t ns = (uint32_t)(unix_ns % NS_PER_S);
	char date[32];
	struct tm tm;

	if (!gmtime_r(&secs, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00Z");
		return buf;
	}
	if (!ns)
		snprintf(buf, len, "%sZ", date);
	else if (ns % 1000000 == 0)
		snprintf(buf, len, "%s.%03" PRIu32 "Z", date, ns / 1000000);
	else if (ns % 1000 == 0)
		snprintf(buf, len, "%s.%06" PRIu32 "Z", date, ns / 1000);
	else
		snprintf(buf, len, "%s.%09" PRIu32 "Z", date, ns);
	return buf;
}

const struct fg_ip *fg_flow_inner_dst(const struct fg_ctl_flow *m)
{
	return m->real.family ? &m->real : &m->dst;
}

/* The gateway's address for an outer tuple of a family. */
static void local_ip(const struct fg_flow_local *l, uint8_t family, char *buf, size_t len)
{
	const struct fg_ip *ip = family == AF_INET6 ? &l->ip6 : &l->ip4;

	if (ip->family == family)
		fg_ip_format(ip, buf, len);
	else
		snprintf(buf, len, "%s", family == AF_INET6 ? "::" : "0.0.0.0");
}

int fg_flow_outers(const struct fg_ctl_flow *m, const struct fg_flow_local *l, char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };
	char src[FG_ADDR_STRLEN], dst[FG_ADDR_STRLEN], at[FG_FLOW_TIME_LEN];

	fg_flow_time(m->start_unix_ns, at, sizeof(at));
	put(&o, "[");
	for (unsigned i = 0; i < m->n_outers && i < FG_CTL_FLOW_MAX_OUTERS; i++) {
		const struct fg_endpoint *ep = &m->outers[i];

		fg_ip_format(&ep->ip, src, sizeof(src));
		local_ip(l, ep->ip.family, dst, sizeof(dst));
		put(&o, "%s{\"src_ip\":\"%s\",\"src_port\":%u,\"dst_ip\":\"%s\",\"dst_port\":%u,"
			"\"path_activated_at\":\"%s\"}", i ? "," : "", src, (unsigned)ep->port, dst,
		    (unsigned)l->port, at);
	}
	put(&o, "]");
	return o.full ? -ENOSPC : (int)o.pos;
}

int fg_flow_payload(const struct fg_ctl_flow *m, const struct fg_flow_ctx *c, char *buf, size_t len)
{
	struct out o = { buf, len, 0, false };
	char src[FG_ADDR_STRLEN], dst[FG_ADDR_STRLEN], t[FG_FLOW_TIME_LEN], outers[FG_FLOW_OUTERS_LEN];

	if (fg_flow_outers(m, c->local, outers, sizeof(outers)) < 0)
		return -ENOSPC;
	fg_ip_format(&m->src, src, sizeof(src));
	fg_ip_format(fg_flow_inner_dst(m), dst, sizeof(dst));
	put(&o, "{\"protocol\":\"%s\",\"inner_src_ip\":\"%s\",\"inner_src_port\":%u,\"inner_dst_ip\":\"%s\","
		"\"inner_dst_port\":%u", fg_flow_protocol(m), src, (unsigned)m->src_port, dst,
	    (unsigned)m->dst_port);
	if (c->domain) {
		put(&o, ",\"domain\":");
		put_json_str(&o, c->domain);
	}
	put(&o, ",\"outers\":%s,\"flow_start\":\"%s\"", outers, fg_flow_time(m->start_unix_ns, t, sizeof(t)));
	if (m->kind == FG_CTL_FLOW_COMPLETED) {
		put(&o, ",\"flow_end\":\"%s\"", fg_flow_time(m->end_unix_ns, t, sizeof(t)));
		put(&o, ",\"last_packet\":\"%s\"", fg_flow_time(m->last_packet_unix_ns, t, sizeof(t)));
		put(&o, ",\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64
			",\"tx_bytes\":%" PRIu64, m->rx_packets, m->tx_packets, m->rx_bytes, m->tx_bytes);
	}
	put(&o, "}");
	return o.full ? -ENOSPC : (int)o.pos;
}

/* The claim's value for the line: the token's, else what the gateway knows itself (a
 * responder, the client's id, the record's resource), else left out. */
static const char *claim(const struct fg_ctl_flow *m, const struct fg_flow_ctx *c, enum fg_flow_claim k)
{
	if (c->claims && c->claims->valid)
		return c->claims->v[k];
	switch (k) {
	case FG_CLAIM_ROLE:
		return "responder";
	case FG_CLAIM_INITIATOR_DEVICE_ID:
		return c->client_id;
	case FG_CLAIM_RESOURCE_ID:
		return m->resource_id;
	default:
		return NULL;
	}
}

void fg_flow_log(const struct fg_ctl_flow *m, const struct fg_flow_ctx *c)
{
	struct fg_log_field f[LOG_FIELDS_MAX];
	char src[FG_ADDR_STRLEN], dst[FG_ADDR_STRLEN], outers[FG_FLOW_OUTERS_LEN];
	char start[FG_FLOW_TIME_LEN], end[FG_FLOW_TIME_LEN], last[FG_FLOW_TIME_LEN];
	bool done = m->kind == FG_CTL_FLOW_COMPLETED;
	size_t n = 0;

	if (!fg_log_enabled(FG_LOG_INFO))
		return;
	if (fg_flow_outers(m, c->local, outers, sizeof(outers)) < 0)
		snprintf(outers, sizeof(outers), "[]");
	fg_ip_format(&m->src, src, sizeof(src));
	fg_ip_format(fg_flow_inner_dst(m), dst, sizeof(dst));
	f[n++] = (struct fg_log_field){ "protocol", FG_LOG_STR, fg_flow_protocol(m), 0 };
	for (int k = 0; k < FG_CLAIM_COUNT; k++)
		f[n++] = (struct fg_log_field){ fg_flow_claim_name(k), FG_LOG_STR, claim(m, c, k), 0 };
	f[n++] = (struct fg_log_field){ "inner_src_ip", FG_LOG_TEXT, src, 0 };
	f[n++] = (struct fg_log_field){ "inner_src_port", FG_LOG_U64, NULL, m->src_port };
	f[n++] = (struct fg_log_field){ "inner_dst_ip", FG_LOG_TEXT, dst, 0 };
	f[n++] = (struct fg_log_field){ "inner_dst_port", FG_LOG_U64, NULL, m->dst_port };
	f[n++] = (struct fg_log_field){ "domain", FG_LOG_TEXT, c->domain, 0 };
	f[n++] = (struct fg_log_field){ "outers", FG_LOG_TEXT, outers, 0 };
	f[n++] = (struct fg_log_field){ "flow_start", FG_LOG_TEXT, fg_flow_time(m->start_unix_ns, start, sizeof(start)), 0 };
	if (done) {
		f[n++] = (struct fg_log_field){ "flow_end", FG_LOG_TEXT, fg_flow_time(m->end_unix_ns, end, sizeof(end)), 0 };
		f[n++] = (struct fg_log_field){ "last_packet", FG_LOG_TEXT,
						fg_flow_time(m->last_packet_unix_ns, last, sizeof(last)), 0 };
		f[n++] = (struct fg_log_field){ "rx_packets", FG_LOG_U64, NULL, m->rx_packets };
		f[n++] = (struct fg_log_field){ "tx_packets", FG_LOG_U64, NULL, m->tx_packets };
		f[n++] = (struct fg_log_field){ "rx_bytes", FG_LOG_U64, NULL, m->rx_bytes };
		f[n++] = (struct fg_log_field){ "tx_bytes", FG_LOG_U64, NULL, m->tx_bytes };
	}
	fg_log_fields(FG_LOG_INFO, "flow_logs", fg_flow_message(m), f, n);
}
