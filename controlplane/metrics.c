// SPDX-License-Identifier: MIT
/*
 * The Prometheus text builder and the data plane's families (see metrics.h). A family's
 * header is written with its first sample and its name remembered, so that the text never
 * holds an empty family or one family twice, whatever order the callers use. Owned by the
 * caller of fg_metrics_init; the control plane's single thread in the daemon.
 */
#include "metrics.h"

#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the buffer --------------------------------------------------------------------------- */

void fg_metrics_init(struct fg_metrics *m)
{
	memset(m, 0, sizeof(*m));
}

void fg_metrics_free(struct fg_metrics *m)
{
	free(m->buf);
	free(m->seen);
	fg_metrics_init(m);
}

char *fg_metrics_take(struct fg_metrics *m, size_t *len)
{
	char *text = m->failed ? NULL : m->buf;

	if (!text && !m->failed) {
		/* nothing was written: an empty text is still a text */
		text = calloc(1, 1);
	}
	if (len)
		*len = text ? m->len : 0;
	if (text)
		m->buf = NULL;
	fg_metrics_free(m);
	return text;
}

static bool grow(struct fg_metrics *m, size_t more)
{
	size_t cap = m->cap ? m->cap : 4096;
	char *b;

	if (m->failed)
		return false;
	while (cap - m->len < more + 1) {
		if (cap > SIZE_MAX / 2) {
			m->failed = true;
			return false;
		}
		cap *= 2;
	}
	if (cap == m->cap)
		return true;
	b = realloc(m->buf, cap);
	if (!b) {
		m->failed = true;
		return false;
	}
	m->buf = b;
	m->cap = cap;
	return true;
}

static void put(struct fg_metrics *m, const char *s, size_t n)
{
	if (!grow(m, n))
		return;
	memcpy(m->buf + m->len, s, n);
	m->len += n;
	m->buf[m->len] = '\0';
}

static void puts_(struct fg_metrics *m, const char *s)
{
	put(m, s, strlen(s));
}

/* ---- names and escaping ------------------------------------------------------------------- */

static bool name_char(char c, bool first, bool colon)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
		return true;
	if (c == ':')
		return colon;
	return !first && c >= '0' && c <= '9';
}

static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (size_t i = 0; s[i]; i++)
		if (!name_char(s[i], i == 0, colon))
			return false;
	return true;
}

bool fg_metrics_name_ok(const char *s)
{
	return name_ok(s, true);
}

bool fg_metrics_label_name_ok(const char *s)
{
	/* names starting with "__" are reserved for Prometheus itself */
	return name_ok(s, false) && strncmp(s, "__", 2) != 0;
}

/* The length of the well-formed UTF-8 sequence at p (1 to 4), 0 when it is not one
 * (a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, cut short). */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned char c = p[0];
	uint32_t cp, min;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2, cp = c & 0x1fu, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3, cp = c & 0x0fu, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4, cp = c & 0x07u, min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Writes s escaped: backslash and newline always, the double quote in label values. Other
 * control characters and bytes that are not UTF-8 become '?' (the text is UTF-8 lines). */
static void put_escaped(struct fg_metrics *m, const char *s, bool quote)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);

	while (left) {
		size_t n = utf8_len(p, left);

		if (*p == '\\')
			put(m, "\\\\", 2);
		else if (*p == '\n')
			put(m, "\\n", 2);
		else if (*p == '"' && quote)
			put(m, "\\\"", 2);
		else if (n == 0 || *p < 0x20 || *p == 0x7f)
			put(m, "?", 1);
		else
			put(m, (const char *)p, n);
		n = n ? n : 1;
		p += n;
		left -= n;
	}
}

/* ---- families and samples ----------------------------------------------------------------- */

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

static bool seen(const struct fg_metrics *m, const char *name)
{
	for (size_t i = 0; i < m->nseen; i++)
		if (strcmp(m->seen[i], name) == 0)
			return true;
	return false;
}

static bool remember(struct fg_metrics *m, const char *name)
{
	if (m->nseen == m->capseen) {
		size_t cap = m->capseen ? m->capseen * 2 : 64;
		const char **s = realloc(m->seen, cap * sizeof(*s));

		if (!s) {
			m->failed = true;
			return false;
		}
		m->seen = s;
		m->capseen = cap;
	}
	m->seen[m->nseen++] = name;
	return true;
}

void fg_metrics_family(struct fg_metrics *m, const char *name, enum fg_metric_type type, const char *help)
{
	if (m->name && name && strcmp(m->name, name) == 0 && m->type == type)
		return;
	m->name = name;
	m->help = help ? help : "";
	m->type = type;
	m->header_written = false;
	/* Counters and only counters end in _total; a name used before would make the text
	 * hold one family twice. */
	m->skip = !fg_metrics_name_ok(name) || (type != FG_METRIC_COUNTER && type != FG_METRIC_GAUGE) ||
		  (type == FG_METRIC_COUNTER) != ends_with(name, "_total") || seen(m, name);
	if (m->skip)
		m->refused++;
}

static bool labels_ok(const struct fg_metric_label *l, size_t n)
{
	if (n > FG_METRICS_MAX_LABELS || (n && !l))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!fg_metrics_label_name_ok(l[i].name) || !l[i].value)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(l[i].name, l[j].name) == 0)
				return false;
	}
	return true;
}

static void header(struct fg_metrics *m)
{
	if (m->header_written)
		return;
	if (!remember(m, m->name))
		return;
	puts_(m, "# HELP ");
	puts_(m, m->name);
	puts_(m, " ");
	put_escaped(m, m->help, false);
	puts_(m, "\n# TYPE ");
	puts_(m, m->name);
	puts_(m, m->type == FG_METRIC_COUNTER ? " counter\n" : " gauge\n");
	m->header_written = true;
}

/* The sample's line up to its value: false when it is refused. */
static bool start_sample(struct fg_metrics *m, const struct fg_metric_label *l, size_t n)
{
	if (!m->name || m->skip || !labels_ok(l, n)) {
		m->refused++;
		return false;
	}
	header(m);
	puts_(m, m->name);
	for (size_t i = 0; i < n; i++) {
		puts_(m, i ? "," : "{");
		puts_(m, l[i].name);
		puts_(m, "=\"");
		put_escaped(m, l[i].value, true);
		puts_(m, "\"");
	}
	puts_(m, n ? "} " : " ");
	return true;
}

void fg_metrics_u64(struct fg_metrics *m, const struct fg_metric_label *labels, size_t n, uint64_t value)
{
	char b[32];

	if (!start_sample(m, labels, n))
		return;
	snprintf(b, sizeof(b), "%" PRIu64 "\n", value);
	puts_(m, b);
}

/* The shortest %g form that reads back as v (Go's strconv 'g', -1 does the same). */
static void format_f64(char *b, size_t len, double v)
{
	if (isnan(v)) {
		snprintf(b, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(b, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(b, len, "%.*g", prec, v);
		if (strtod(b, NULL) == v)
			return;
	}
}

void fg_metrics_f64(struct fg_metrics *m, const struct fg_metric_label *labels, size_t n, double value)
{
	char b[40];

	if (!start_sample(m, labels, n))
		return;
	format_f64(b, sizeof(b), value);
	puts_(m, b);
	puts_(m, "\n");
}

void fg_metrics_one_u64(struct fg_metrics *m, const char *name, enum fg_metric_type type, const char *help,
			uint64_t value)
{
	fg_metrics_family(m, name, type, help);
	fg_metrics_u64(m, NULL, 0, value);
}

void fg_metrics_one_f64(struct fg_metrics *m, const char *name, enum fg_metric_type type, const char *help,
			double value)
{
	fg_metrics_family(m, name, type, help);
	fg_metrics_f64(m, NULL, 0, value);
}

/* ---- the data plane's STATS_REPLY ------------------------------------------------------- */

struct lcore_ref {
	char name[16];
	const struct fg_ctl_lcore_stats *s;
};

static uint64_t field(const struct fg_ctl_lcore_stats *l, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)l + off, sizeof(v));
	return v;
}

#define LC(f) offsetof(struct fg_ctl_lcore_stats, f)

/* Packets and bytes by interface and direction. */
static const struct {
	const char *iface, *dir;
	size_t packets, bytes;
} ports[] = {
	{ "nic", "rx", LC(nic_rx_packets), LC(nic_rx_bytes) },
	{ "nic", "tx", LC(nic_tx_packets), LC(nic_tx_bytes) },
	{ "tun", "rx", LC(tun_rx_packets), LC(tun_rx_bytes) },
	{ "tun", "tx", LC(tun_tx_packets), LC(tun_tx_bytes) },
};

/* The per-lcore counters kept as they are. */
static const struct {
	const char *name, *help;
	size_t off;
} lcore_counters[] = {
	{ "fastgate_lcore_decrypted_packets_total", "WireGuard data packets decrypted by the lcore.",
	  LC(decrypted) },
	{ "fastgate_lcore_encrypted_packets_total", "WireGuard data packets encrypted by the lcore.",
	  LC(encrypted) },
	{ "fastgate_lcore_polls_total", "Passes of the lcore's loop.", LC(polls) },
	{ "fastgate_lcore_busy_polls_total", "Passes of the lcore's loop that found work (a packet or a message).",
	  LC(busy_polls) },
};

/* TSC cycles, in seconds with the reply's tsc_hz. */
static const struct {
	const char *name, *help;
	size_t off;
} lcore_seconds[] = {
	{ "fastgate_lcore_busy_seconds_total",
	  "Time the lcore spent in passes that found work; rate() over fastgate_lcore_seconds_total's is its load.",
	  LC(busy_cycles) },
	{ "fastgate_lcore_seconds_total", "Time since the lcore's loop started (TSC).", LC(cycles) },
};

#undef LC

static size_t lcores_of(const struct fg_ctl_stats_reply *st, struct lcore_ref *out)
{
	uint32_t w, n = st->workers < FG_CTL_MAX_WORKERS ? st->workers : FG_CTL_MAX_WORKERS;

	snprintf(out[0].name, sizeof(out[0].name), "service");
	out[0].s = &st->service;
	for (w = 0; w < n; w++) {
		snprintf(out[w + 1].name, sizeof(out[w + 1].name), "worker%" PRIu32, w);
		out[w + 1].s = &st->lcores[w];
	}
	return n + 1;
}

static void lcore_families(struct fg_metrics *m, const struct fg_ctl_stats_reply *st)
{
	struct lcore_ref lc[FG_CTL_MAX_WORKERS + 1];
	size_t n = lcores_of(st, lc), i, k;

	fg_metrics_family(m, "fastgate_lcore_packets_total", FG_METRIC_COUNTER,
			  "Packets the lcore received (rx) or sent (tx) on the uplink NIC or the TUN device.");
	for (k = 0; k < sizeof(ports) / sizeof(ports[0]); k++)
		for (i = 0; i < n; i++)
			fg_metrics_u64(m, FG_METRIC_LABELS({ "lcore", lc[i].name }, { "interface", ports[k].iface },
							    { "direction", ports[k].dir }),
				       field(lc[i].s, ports[k].packets));
	fg_metrics_family(m, "fastgate_lcore_bytes_total", FG_METRIC_COUNTER,
			  "Bytes the lcore received (rx) or sent (tx) on the uplink NIC or the TUN device.");
	for (k = 0; k < sizeof(ports) / sizeof(ports[0]); k++)
		for (i = 0; i < n; i++)
			fg_metrics_u64(m, FG_METRIC_LABELS({ "lcore", lc[i].name }, { "interface", ports[k].iface },
							    { "direction", ports[k].dir }),
				       field(lc[i].s, ports[k].bytes));
	for (k = 0; k < sizeof(lcore_counters) / sizeof(lcore_counters[0]); k++) {
		fg_metrics_family(m, lcore_counters[k].name, FG_METRIC_COUNTER, lcore_counters[k].help);
		for (i = 0; i < n; i++)
			fg_metrics_u64(m, FG_METRIC_LABELS({ "lcore", lc[i].name }), field(lc[i].s, lcore_counters[k].off));
	}
	for (k = 0; st->tsc_hz && k < sizeof(lcore_seconds) / sizeof(lcore_seconds[0]); k++) {
		fg_metrics_family(m, lcore_seconds[k].name, FG_METRIC_COUNTER, lcore_seconds[k].help);
		for (i = 0; i < n; i++)
			fg_metrics_f64(m, FG_METRIC_LABELS({ "lcore", lc[i].name }),
				       (double)field(lc[i].s, lcore_seconds[k].off) / (double)st->tsc_hz);
	}
	fg_metrics_family(m, "fastgate_lcore_busy_ratio", FG_METRIC_GAUGE,
			  "Share of the lcore's time in passes that found work, over the last window of about one second.");
	for (i = 0; i < n; i++)
		if (lc[i].s->win_cycles)
			fg_metrics_f64(m, FG_METRIC_LABELS({ "lcore", lc[i].name }),
				       (double)lc[i].s->win_busy_cycles / (double)lc[i].s->win_cycles);
}

/* Drops by reason; a reason without a name, or named twice, would make an unnamed or a
 * duplicate series: left out. */
static void drop_family(struct fg_metrics *m, const struct fg_ctl_stats_reply *st)
{
	uint32_t n = st->n_drops < FG_CTL_MAX_DROP_REASONS ? st->n_drops : FG_CTL_MAX_DROP_REASONS;
	char names[FG_CTL_MAX_DROP_REASONS][sizeof(st->drop_names[0]) + 1];

	fg_metrics_family(m, "fastgate_dataplane_drops_total", FG_METRIC_COUNTER,
			  "Packets the data plane dropped, by reason.");
	for (uint32_t i = 0; i < n; i++) {
		bool dup = false;

		memcpy(names[i], st->drop_names[i], sizeof(st->drop_names[i]));
		names[i][sizeof(st->drop_names[i])] = '\0';
		for (uint32_t j = 0; j < i && !dup; j++)
			dup = strcmp(names[i], names[j]) == 0;
		if (!names[i][0] || dup)
			continue;
		fg_metrics_u64(m, FG_METRIC_LABELS({ "reason", names[i] }), st->drops[i]);
	}
}

#define ST(f) offsetof(struct fg_ctl_stats_reply, f)

/* The reply's plain counters and gauges. */
static const struct {
	const char *name, *help;
	enum fg_metric_type type;
	size_t off;
} plain[] = {
	{ "fastgate_dataplane_handshakes_initiated_total", "WireGuard handshake initiations the data plane sent.",
	  FG_METRIC_COUNTER, ST(handshakes_initiated) },
	{ "fastgate_dataplane_handshakes_responded_total", "WireGuard handshake responses the data plane sent.",
	  FG_METRIC_COUNTER, ST(handshakes_responded) },
	{ "fastgate_dataplane_handshakes_completed_total", "WireGuard handshakes that completed (sessions derived).",
	  FG_METRIC_COUNTER, ST(handshakes_completed) },
	{ "fastgate_dataplane_cookies_sent_total", "WireGuard cookie replies sent (under load).", FG_METRIC_COUNTER,
	  ST(cookies_sent) },
	{ "fastgate_dataplane_keepalives_sent_total", "WireGuard keepalives sent.", FG_METRIC_COUNTER,
	  ST(keepalives_sent) },
	{ "fastgate_dataplane_roams_total", "Peer endpoint changes (roaming).", FG_METRIC_COUNTER, ST(roams) },
	{ "fastgate_dataplane_nat_icmp_translated_total",
	  "ICMP errors from a real server rewritten to a DNS resource's proxy IP.", FG_METRIC_COUNTER,
	  ST(nat_icmp_translated) },
	{ "fastgate_dataplane_nat_tuples_created_total", "Connection-table tuples created for DNS resources.",
	  FG_METRIC_COUNTER, ST(nat_created) },
	{ "fastgate_dataplane_nat_tuples_expired_total",
	  "Connection-table tuples expired (timeout, FIN both ways, RST, reset).", FG_METRIC_COUNTER, ST(nat_expired) },
	{ "fastgate_dataplane_nat_misses_total", "Resource-to-client packets with no tuple (not translated).",
	  FG_METRIC_COUNTER, ST(nat_misses) },
	{ "fastgate_dataplane_nat_tuples", "Connection-table tuples live now.", FG_METRIC_GAUGE, ST(nat_live) },
	{ "fastgate_dataplane_flows_started_total", "Flows the data plane started tracking.", FG_METRIC_COUNTER,
	  ST(flows_started) },
	{ "fastgate_dataplane_flows_completed_total", "Tracked flows that completed.", FG_METRIC_COUNTER,
	  ST(flows_completed) },
	{ "fastgate_dataplane_flows", "Tracked flows live now.", FG_METRIC_GAUGE, ST(flows_live) },
	{ "fastgate_dataplane_flow_records_lost_total",
	  "Flow records dropped on a full queue to the control plane.", FG_METRIC_COUNTER, ST(flows_lost) },
};

#undef ST

void fg_metrics_stats_reply(struct fg_metrics *m, const struct fg_ctl_stats_reply *st, const char *dp_version)
{
	char aead[sizeof(st->aead) + 1];

	memcpy(aead, st->aead, sizeof(st->aead));
	aead[sizeof(st->aead)] = '\0';
	fg_metrics_family(m, "fastgate_dataplane_info", FG_METRIC_GAUGE,
			  "The data plane's version and transport AEAD backend (always 1).");
	fg_metrics_u64(m, FG_METRIC_LABELS({ "version", dp_version ? dp_version : "" }, { "aead", aead }), 1);
	fg_metrics_one_u64(m, "fastgate_dataplane_workers", FG_METRIC_GAUGE, "Worker lcores of the data plane.",
			   st->workers);
	fg_metrics_one_u64(m, "fastgate_dataplane_peers", FG_METRIC_GAUGE, "WireGuard peers in the data plane.",
			   st->peers);
	for (size_t k = 0; k < sizeof(plain) / sizeof(plain[0]); k++) {
		uint64_t v;

		memcpy(&v, (const char *)st + plain[k].off, sizeof(v));
		fg_metrics_one_u64(m, plain[k].name, plain[k].type, plain[k].help, v);
	}
	fg_metrics_family(m, "fastgate_dataplane_nat_translated_packets_total", FG_METRIC_COUNTER,
			  "Packets of DNS resources translated: out (client to resource, proxy IP rewritten) "
			  "and in (resource to client, mapped back).");
	fg_metrics_u64(m, FG_METRIC_LABELS({ "direction", "out" }), st->nat_translated_out);
	fg_metrics_u64(m, FG_METRIC_LABELS({ "direction", "in" }), st->nat_translated_in);
	fg_metrics_family(m, "fastgate_dataplane_p2p_messages_total", FG_METRIC_COUNTER,
			  "p2p control messages: in (AssignedIps handed to the control plane) and out "
			  "(DomainStatus and others sent to clients).");
	fg_metrics_u64(m, FG_METRIC_LABELS({ "direction", "in" }), st->p2p_in);
	fg_metrics_u64(m, FG_METRIC_LABELS({ "direction", "out" }), st->p2p_out);
	fg_metrics_one_u64(m, "fastgate_dpdk_heap_size_bytes", FG_METRIC_GAUGE,
			   "Bytes the data plane's DPDK heaps hold (EAL -m, or what they grew to on hugepages).",
			   st->heap_total);
	fg_metrics_family(m, "fastgate_dpdk_heap_bytes", FG_METRIC_GAUGE,
			  "The data plane's DPDK heap: bytes allocated and free.");
	fg_metrics_u64(m, FG_METRIC_LABELS({ "state", "allocated" }), st->heap_allocated);
	fg_metrics_u64(m, FG_METRIC_LABELS({ "state", "free" }), st->heap_free);
	fg_metrics_one_u64(m, "fastgate_dpdk_heap_largest_free_bytes", FG_METRIC_GAUGE,
			   "The largest free block of the data plane's DPDK heaps: the largest table that could still be made.",
			   st->heap_largest_free);
	drop_family(m, st);
	lcore_families(m, st);
}
