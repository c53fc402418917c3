// SPDX-License-Identifier: MIT
/*
 * Human output of fastgatectl (see render.h): field accessors that check every type before
 * use (shared with render_conn.c through render_priv.h), units, and one renderer per command
 * on top of table.c; ice and relays are in render_conn.c. No state.
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
	EXTRA_COLS_MAX = 16,     /* lcore counters beyond the known ones, shown as extra columns */
	NUM_LEN = FG_RENDER_NUM_LEN,
	STAMP_LEN = 160,         /* "2026-11-22 03:20:46 UTC (" relative ")" */
	INDENT = FG_RENDER_INDENT,
};

/* 2^53: the largest integer below which every count is exact in a JSON double. */
static const double MAX_EXACT = 9007199254740992.0;

static int finish(FILE *out, int r)
{
	if (r < 0)
		return r;
	return ferror(out) ? -EIO : 0;
}

/* ---- units ---------------------------------------------------------------------------------- */

char *fg_render_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	size_t u = 0;

	if (b < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", b);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.2f %s", v, units[u]);
	return buf;
}

char *fg_render_duration(uint64_t secs, char *buf, size_t len)
{
	static const struct {
		uint64_t secs;
		const char *name;
	} units[] = {
		{ 365 * 86400, "year" },
		{ 86400, "day" },
		{ 3600, "hour" },
		{ 60, "minute" },
		{ 1, "second" },
	};
	size_t off = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && off < len; i++) {
		uint64_t n = secs / units[i].secs;
		int w;

		secs %= units[i].secs;
		if (!n)
			continue;
		w = snprintf(buf + off, len - off, "%s%" PRIu64 " %s%s", off ? ", " : "", n, units[i].name,
			     n == 1 ? "" : "s");
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "0 seconds");
	return buf;
}

char *fg_render_when(int64_t t, time_t now, char *buf, size_t len)
{
	char d[FG_RENDER_TIME_LEN];

	/* Unsigned differences: exact for any pair of int64 values. */
	if (t < (int64_t)now)
		snprintf(buf, len, "%s ago", fg_render_duration((uint64_t)now - (uint64_t)t, d, sizeof(d)));
	else if (t > (int64_t)now)
		snprintf(buf, len, "in %s", fg_render_duration((uint64_t)t - (uint64_t)now, d, sizeof(d)));
	else
		snprintf(buf, len, "now");
	return buf;
}

/* ---- fields ------------------------------------------------------------------------------- */

static const cJSON *field(const cJSON *o, const char *k)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

static bool absent(const cJSON *j)
{
	return !j || cJSON_IsNull(j);
}

/* A non-negative integer that the double holds exactly. */
static bool as_count(const cJSON *j, uint64_t *v)
{
	double d;

	if (!cJSON_IsNumber(j))
		return false;
	d = j->valuedouble;
	if (!(d >= 0.0 && d <= MAX_EXACT))
		return false;
	*v = (uint64_t)d;
	return (double)*v == d;
}

/* The string at k; if_absent when null or missing, "?" for another type. */
static const char *text(const cJSON *o, const char *k, const char *if_absent)
{
	const cJSON *j = field(o, k);

	if (absent(j))
		return if_absent;
	return cJSON_IsString(j) && j->valuestring ? j->valuestring : "?";
}

static const char *count(const cJSON *o, const char *k, const char *if_absent, char *buf, size_t len)
{
	const cJSON *j = field(o, k);
	uint64_t v;

	if (absent(j))
		return if_absent;
	if (!as_count(j, &v))
		return "?";
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}

static const char *bytes(const cJSON *o, const char *k, char *buf, size_t len)
{
	uint64_t v;

	return as_count(field(o, k), &v) ? fg_render_bytes(v, buf, len) : "?";
}

static const char *yesno(const cJSON *o, const char *k, const char *if_absent)
{
	const cJSON *j = field(o, k);

	if (absent(j))
		return if_absent;
	return cJSON_IsTrue(j) ? "yes" : cJSON_IsFalse(j) ? "no" : "?";
}

/* A past Unix time relative to now ("3 seconds ago"); if_absent when null or missing. */
static const char *ago(const cJSON *o, const char *k, time_t now, const char *if_absent,
		       char *buf, size_t len)
{
	const cJSON *j = field(o, k);
	uint64_t t;

	if (absent(j))
		return if_absent;
	if (!as_count(j, &t))
		return "?";
	return fg_render_when((int64_t)t, now, buf, len);
}

/* An absolute UTC time with the relative one: "2026-11-22 03:20:46 UTC (3 minutes ago)". */
static const char *stamp(const cJSON *o, const char *k, time_t now, const char *if_absent,
			 char *buf, size_t len)
{
	char rel[FG_RENDER_TIME_LEN], abs[40];
	const cJSON *j = field(o, k);
	struct tm tm;
	time_t tt;
	uint64_t t;

	if (absent(j))
		return if_absent;
	if (!as_count(j, &t))
		return "?";
	tt = (time_t)t;
	fg_render_when((int64_t)t, now, rel, sizeof(rel));
	if (!gmtime_r(&tt, &tm) || !strftime(abs, sizeof(abs), "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, len, "%s", rel);
	else
		snprintf(buf, len, "%s (%s)", abs, rel);
	return buf;
}

/* An expiry: "never" when null, "in 2 hours", "expired 3 seconds ago". */
static const char *expiry(const cJSON *o, const char *k, time_t now, char *buf, size_t len)
{
	char rel[FG_RENDER_TIME_LEN];
	const cJSON *j = field(o, k);
	uint64_t t;

	if (absent(j))
		return "never";
	if (!as_count(j, &t))
		return "?";
	fg_render_when((int64_t)t, now, rel, sizeof(rel));
	snprintf(buf, len, "%s%s", (int64_t)t <= (int64_t)now ? "expired " : "", rel);
	return buf;
}

/* Appends s to a cell being built, "..." once it is full. */
static void append(char *buf, size_t len, size_t *off, const char *s)
{
	size_t n = strlen(s);

	if (*off + n + 4 > len) {
		if (*off + 4 <= len && (*off < 3 || strcmp(buf + *off - 3, "...") != 0)) {
			memcpy(buf + *off, "...", 4);
			*off += 3;
		}
		return;
	}
	memcpy(buf + *off, s, n + 1);
	*off += n;
}

/* ---- status --------------------------------------------------------------------------------- */

int fg_render_status(const cJSON *r, time_t now, FILE *out)
{
	const cJSON *portal = field(r, "portal"), *dp = field(r, "dataplane");
	char up[FG_RENDER_TIME_LEN], since[STAMP_LEN], n1[NUM_LEN], n2[NUM_LEN], n3[NUM_LEN],
		n4[NUM_LEN];
	uint64_t secs;
	int ret = 0;

	if (!cJSON_IsObject(r))
		return -EPROTO;
	if (as_count(field(r, "uptime_s"), &secs))
		fg_render_duration(secs, up, sizeof(up));
	else
		snprintf(up, sizeof(up), "?");
	ret = fg_table_kv(out, 0, "version", text(r, "version", "?"), "uptime", up, NULL);
	if (!ret && !cJSON_IsObject(portal)) {
		fputs("\nportal: ?\n", out);
	} else if (!ret) {
		fputs("\nportal\n", out);
		ret = fg_table_kv(out, INDENT,
			       "state", text(portal, "state", "?"),
			       "url", text(portal, "url", "?"),
			       "connected since", stamp(portal, "connected_since", now, "-", since, sizeof(since)),
			       "reconnects", count(portal, "reconnects", "?", n1, sizeof(n1)),
			       "last error", text(portal, "last_error", "none"),
			       NULL);
	}
	if (!ret && !cJSON_IsObject(dp)) {
		fputs("\ndata plane: ?\n", out);
	} else if (!ret) {
		/* Disconnected, the control plane knows little else: those fields may be null. */
		fputs("\ndata plane\n", out);
		ret = fg_table_kv(out, INDENT,
			       "connected", yesno(dp, "connected", "?"),
			       "version", text(dp, "version", "-"),
			       "tun", text(dp, "tun", "-"),
			       "public key", text(dp, "public_key", "-"),
			       "listen port", count(dp, "listen_port", "-", n2, sizeof(n2)),
			       "peers", count(dp, "peers", "-", n3, sizeof(n3)),
			       "workers", count(dp, "workers", "-", n4, sizeof(n4)),
			       NULL);
	}
	return finish(out, ret);
}

/* ---- peers, resources ----------------------------------------------------------------------- */

/* The list under key, or NULL when resp does not have one. */
static const cJSON *list(const cJSON *resp, const char *key)
{
	const cJSON *l = field(resp, key);

	return cJSON_IsArray(l) ? l : NULL;
}

enum peer_col { P_CLIENT, P_KEY, P_IPV4, P_IPV6, P_ENDPOINT, P_HANDSHAKE, P_RX, P_TX, P_RES, P_NCOLS };

/*
 * The common start of a list table: the list under key, "no <key>" when it is empty, else a
 * table with its header row. Returns 1 (table started), 0 (printed empty) or -EPROTO.
 */
static int list_table(const cJSON *r, const char *key, const char *const head[], size_t ncols,
		      unsigned right, struct fg_table *t, const cJSON **l, FILE *out)
{
	*l = list(r, key);
	if (!*l)
		return -EPROTO;
	if (!cJSON_GetArraySize(*l)) {
		fprintf(out, "no %s\n", key);
		return 0;
	}
	fg_table_init(t, ncols, right);
	fg_table_row(t);
	for (size_t c = 0; c < ncols; c++)
		fg_table_cell(t, c, head[c]);
	return 1;
}

int fg_render_peers(const cJSON *r, time_t now, FILE *out)
{
	static const char *const head[P_NCOLS] = {
		"CLIENT", "PUBLIC KEY", "IPV4", "IPV6", "ENDPOINT", "HANDSHAKE", "RX", "TX", "RESOURCES",
	};
	const cJSON *l, *p;
	char buf[FG_RENDER_TIME_LEN];
	struct fg_table t;
	int ret;

	ret = list_table(r, "peers", head, P_NCOLS, 1u << P_RX | 1u << P_TX | 1u << P_RES, &t, &l, out);
	if (ret <= 0)
		return ret < 0 ? ret : finish(out, 0);
	cJSON_ArrayForEach(p, l) {
		fg_table_row(&t);
		fg_table_cell(&t, P_CLIENT, text(p, "client_id", "?"));
		fg_table_cell(&t, P_KEY, text(p, "public_key", "?"));
		fg_table_cell(&t, P_IPV4, text(p, "ipv4", "-"));
		fg_table_cell(&t, P_IPV6, text(p, "ipv6", "-"));
		fg_table_cell(&t, P_ENDPOINT, text(p, "endpoint", "-"));
		fg_table_cell(&t, P_HANDSHAKE, ago(p, "last_handshake", now, "never", buf, sizeof(buf)));
		fg_table_cell(&t, P_RX, bytes(p, "rx_bytes", buf, sizeof(buf)));
		fg_table_cell(&t, P_TX, bytes(p, "tx_bytes", buf, sizeof(buf)));
		fg_table_cell(&t, P_RES, count(p, "resources", "?", buf, sizeof(buf)));
	}
	ret = fg_table_print(&t, 0, out);
	fg_table_free(&t);
	return finish(out, ret);
}

/* "tcp/80", "udp/1000-2000", "icmp"; a filter without ports covers the whole protocol. */
static void filter_text(const cJSON *f, char *buf, size_t len)
{
	const cJSON *lo = field(f, "port_range_start"), *hi = field(f, "port_range_end");
	const char *proto = text(f, "protocol", "?");
	uint64_t a = 0, b = 0;

	if (absent(lo) && absent(hi))
		snprintf(buf, len, "%s", proto);
	else if (!as_count(lo, &a) || (!absent(hi) && !as_count(hi, &b)))
		snprintf(buf, len, "%s/?", proto);
	else if (absent(hi) || a == b)
		snprintf(buf, len, "%s/%" PRIu64, proto, a);
	else
		snprintf(buf, len, "%s/%" PRIu64 "-%" PRIu64, proto, a, b);
}

/* The filters of a resource: "all" for an empty list (everything is allowed). */
static void filters_text(const cJSON *res, char *buf, size_t len)
{
	const cJSON *fs = field(res, "filters"), *f;
	size_t off = 0;

	buf[0] = '\0';
	if (!cJSON_IsArray(fs)) {
		snprintf(buf, len, "?");
		return;
	}
	if (!cJSON_GetArraySize(fs)) {
		snprintf(buf, len, "all");
		return;
	}
	cJSON_ArrayForEach(f, fs) {
		char one[64];

		filter_text(f, one, sizeof(one));
		if (off)
			append(buf, len, &off, ", ");
		append(buf, len, &off, one);
	}
}

enum res_col { R_CLIENT, R_ID, R_NAME, R_TYPE, R_ADDRESS, R_FILTERS, R_EXPIRES, R_NCOLS };

int fg_render_resources(const cJSON *r, time_t now, FILE *out)
{
	static const char *const head[R_NCOLS] = {
		"CLIENT", "RESOURCE", "NAME", "TYPE", "ADDRESS", "FILTERS", "EXPIRES",
	};
	const cJSON *l, *res;
	char buf[CELL_MAX];
	struct fg_table t;
	int ret;

	ret = list_table(r, "resources", head, R_NCOLS, 0, &t, &l, out);
	if (ret <= 0)
		return ret < 0 ? ret : finish(out, 0);
	cJSON_ArrayForEach(res, l) {
		fg_table_row(&t);
		fg_table_cell(&t, R_CLIENT, text(res, "client_id", "?"));
		fg_table_cell(&t, R_ID, text(res, "resource_id", "?"));
		fg_table_cell(&t, R_NAME, text(res, "name", "-"));
		fg_table_cell(&t, R_TYPE, text(res, "type", "?"));
		fg_table_cell(&t, R_ADDRESS, text(res, "address", "-"));
		filters_text(res, buf, sizeof(buf));
		fg_table_cell(&t, R_FILTERS, buf);
		fg_table_cell(&t, R_EXPIRES, expiry(res, "expires_at", now, buf, sizeof(buf)));
	}
	ret = fg_table_print(&t, 0, out);
	fg_table_free(&t);
	return finish(out, ret);
}

/* ---- stats ---------------------------------------------------------------------------------- */

static const char *const handshake_keys[] = {
	"initiated", "responded", "completed", "cookies_sent", "keepalives_sent", "roams",
};

/* The lcore counters with a column of their own; packets and bytes share a cell. */
static const struct lcore_col {
	const char *head;
	const char *packets;
	const char *bytes;   /* NULL: a plain count */
} lcore_cols[] = {
	{ "NIC RX", "nic_rx_packets", "nic_rx_bytes" },
	{ "NIC TX", "nic_tx_packets", "nic_tx_bytes" },
	{ "TUN RX", "tun_rx_packets", "tun_rx_bytes" },
	{ "TUN TX", "tun_tx_packets", "tun_tx_bytes" },
	{ "DECRYPTED", "decrypted", NULL },
	{ "ENCRYPTED", "encrypted", NULL },
};

enum { LCORE_KNOWN = sizeof(lcore_cols) / sizeof(lcore_cols[0]) };

/* The lcores' load (cpctl_server.h): a table of its own, not extra columns. */
static const char *const load_keys[] = {
	"polls", "busy_polls", "busy_cycles", "cycles", "polls_1s", "busy_polls_1s", "busy_cycles_1s",
	"cycles_1s", "busy_ratio", "work_ratio", "busy_ratio_1s", "work_ratio_1s",
};

enum { LOAD_KEYS = sizeof(load_keys) / sizeof(load_keys[0]) };

static bool known_lcore_key(const char *k)
{
	if (strcmp(k, "name") == 0)
		return true;
	for (size_t i = 0; i < LOAD_KEYS; i++)
		if (strcmp(k, load_keys[i]) == 0)
			return true;
	for (size_t i = 0; i < LCORE_KNOWN; i++)
		if (strcmp(k, lcore_cols[i].packets) == 0 ||
		    (lcore_cols[i].bytes && strcmp(k, lcore_cols[i].bytes) == 0))
			return true;
	return false;
}

/* "initiated" -> "initiated", "cookies_sent" -> "cookies sent"; upper-cased for headers. */
static void label(const char *key, bool upper, char *buf, size_t len)
{
	size_t i = 0;

	for (; key[i] && i + 1 < len; i++) {
		char c = key[i] == '_' ? ' ' : key[i];

		buf[i] = upper && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	buf[i] = '\0';
}

static int stats_handshakes(const cJSON *hs, FILE *out)
{
	char name[64], num[NUM_LEN];
	const cJSON *j;
	struct fg_table t;
	int ret;

	if (!cJSON_IsObject(hs)) {
		fputs("\nhandshakes: ?\n", out);
		return 0;
	}
	fputs("\nhandshakes\n", out);
	fg_table_init(&t, 2, 1u << 1);
	for (size_t i = 0; i < sizeof(handshake_keys) / sizeof(handshake_keys[0]); i++) {
		fg_table_row(&t);
		label(handshake_keys[i], false, name, sizeof(name));
		fg_table_cell(&t, 0, name);
		fg_table_cell(&t, 1, count(hs, handshake_keys[i], "?", num, sizeof(num)));
	}
	cJSON_ArrayForEach(j, hs) {
		bool known = false;

		for (size_t i = 0; i < sizeof(handshake_keys) / sizeof(handshake_keys[0]); i++)
			known |= strcmp(j->string, handshake_keys[i]) == 0;
		if (known)
			continue;
		fg_table_row(&t);
		label(j->string, false, name, sizeof(name));
		fg_table_cell(&t, 0, name);
		fg_table_cell(&t, 1, count(hs, j->string, "?", num, sizeof(num)));
	}
	ret = fg_table_print(&t, INDENT, out);
	fg_table_free(&t);
	return ret;
}

struct drop {
	const char *name;
	uint64_t n;
	bool bad;   /* not a count: sorted last, printed "?" */
};

static int drop_cmp(const void *a, const void *b)
{
	const struct drop *x = a, *y = b;

	if (x->bad != y->bad)
		return x->bad ? 1 : -1;
	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Non-zero drops only, largest first. */
static int stats_drops(const cJSON *drops, FILE *out)
{
	struct drop *d;
	const cJSON *j;
	struct fg_table t;
	size_t n = 0;
	int ret;

	if (!cJSON_IsObject(drops)) {
		fputs("\ndrops: ?\n", out);
		return 0;
	}
	d = calloc((size_t)cJSON_GetArraySize(drops) + 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	cJSON_ArrayForEach(j, drops) {
		d[n].name = j->string;
		d[n].bad = !as_count(j, &d[n].n);
		if (d[n].bad || d[n].n)
			n++;
	}
	if (!n) {
		free(d);
		fputs("\ndrops: none\n", out);
		return 0;
	}
	qsort(d, n, sizeof(*d), drop_cmp);
	fputs("\ndrops\n", out);
	fg_table_init(&t, 2, 1u << 1);
	for (size_t i = 0; i < n; i++) {
		fg_table_row(&t);
		fg_table_cell(&t, 0, d[i].name);
		if (d[i].bad)
			fg_table_cell(&t, 1, "?");
		else
			fg_table_cellf(&t, 1, "%" PRIu64, d[i].n);
	}
	ret = fg_table_print(&t, INDENT, out);
	fg_table_free(&t);
	free(d);
	return ret;
}

/* "123 (10.42 MiB)": packets and bytes in one cell. */
static void pkts_bytes(const cJSON *l, const struct lcore_col *c, char *buf, size_t len)
{
	char p[NUM_LEN], b[FG_RENDER_BYTES_LEN];

	if (!c->bytes)
		snprintf(buf, len, "%s", count(l, c->packets, "?", p, sizeof(p)));
	else
		snprintf(buf, len, "%s (%s)", count(l, c->packets, "?", p, sizeof(p)),
			 bytes(l, c->bytes, b, sizeof(b)));
}

static int stats_lcores(const cJSON *lcores, FILE *out)
{
	const char *extra[EXTRA_COLS_MAX];
	size_t nextra = 0, ncols;
	unsigned int right = 0;
	char buf[CELL_MAX];
	const cJSON *l, *j;
	struct fg_table t;
	int ret;

	if (!cJSON_IsArray(lcores)) {
		fputs("\nlcores: ?\n", out);
		return 0;
	}
	if (!cJSON_GetArraySize(lcores)) {
		fputs("\nlcores: none\n", out);
		return 0;
	}
	/* Counters this version does not know still show, as extra columns in first-seen order. */
	cJSON_ArrayForEach(l, lcores) {
		if (!cJSON_IsObject(l))
			continue;
		cJSON_ArrayForEach(j, l) {
			bool seen = known_lcore_key(j->string);

			for (size_t i = 0; i < nextra && !seen; i++)
				seen = strcmp(extra[i], j->string) == 0;
			if (!seen && nextra < EXTRA_COLS_MAX)
				extra[nextra++] = j->string;
		}
	}
	ncols = 1 + LCORE_KNOWN + nextra;
	for (size_t c = 1; c < ncols; c++)
		right |= 1u << c;
	fputs("\nlcores\n", out);
	fg_table_init(&t, ncols, right);
	fg_table_row(&t);
	fg_table_cell(&t, 0, "LCORE");
	for (size_t c = 0; c < LCORE_KNOWN; c++)
		fg_table_cell(&t, 1 + c, lcore_cols[c].head);
	for (size_t c = 0; c < nextra; c++) {
		label(extra[c], true, buf, sizeof(buf));
		fg_table_cell(&t, 1 + LCORE_KNOWN + c, buf);
	}
	cJSON_ArrayForEach(l, lcores) {
		fg_table_row(&t);
		fg_table_cell(&t, 0, text(l, "name", "?"));
		for (size_t c = 0; c < LCORE_KNOWN; c++) {
			pkts_bytes(l, &lcore_cols[c], buf, sizeof(buf));
			fg_table_cell(&t, 1 + c, buf);
		}
		for (size_t c = 0; c < nextra; c++)
			fg_table_cell(&t, 1 + LCORE_KNOWN + c, count(l, extra[c], "-", buf, sizeof(buf)));
	}
	ret = fg_table_print(&t, INDENT, out);
	fg_table_free(&t);
	return ret;
}

/* A ratio 0..1 at k as a percentage with one decimal; "-" when null or missing (no window
 * yet), "?" for anything else. */
static const char *percent(const cJSON *o, const char *k, char *buf, size_t len)
{
	const cJSON *j = field(o, k);

	if (absent(j))
		return "-";
	if (!cJSON_IsNumber(j) || !(j->valuedouble >= 0.0 && j->valuedouble <= 1.0))
		return "?";
	snprintf(buf, len, "%.1f%%", j->valuedouble * 100.0);
	return buf;
}

static bool has_load(const cJSON *lcores)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, lcores)
		for (size_t i = 0; i < LOAD_KEYS; i++)
			if (field(l, load_keys[i]))
				return true;
	return false;
}

/* Busy: the share of polls that found work; work: the share of cycles spent on it, over the
 * last window (1S) and since the start. Left out when no lcore carries load figures (a data
 * plane older than protocol version 5). */
static int stats_load(const cJSON *lcores, FILE *out)
{
	static const struct {
		const char *head;
		const char *key;
	} cols[] = {
		{ "BUSY 1S", "busy_ratio_1s" },
		{ "WORK 1S", "work_ratio_1s" },
		{ "BUSY", "busy_ratio" },
		{ "WORK", "work_ratio" },
	};
	enum { NCOLS = sizeof(cols) / sizeof(cols[0]) };
	char buf[NUM_LEN];
	const cJSON *l;
	struct fg_table t;
	int ret;

	if (!cJSON_IsArray(lcores) || !has_load(lcores))
		return 0;
	fputs("\nload (busy: polls that found work; work: cycles spent on it)\n", out);
	fg_table_init(&t, 2 + NCOLS, ((1u << (2 + NCOLS)) - 1) & ~1u);
	fg_table_row(&t);
	fg_table_cell(&t, 0, "LCORE");
	for (size_t c = 0; c < NCOLS; c++)
		fg_table_cell(&t, 1 + c, cols[c].head);
	fg_table_cell(&t, 1 + NCOLS, "POLLS");
	cJSON_ArrayForEach(l, lcores) {
		fg_table_row(&t);
		fg_table_cell(&t, 0, text(l, "name", "?"));
		for (size_t c = 0; c < NCOLS; c++)
			fg_table_cell(&t, 1 + c, percent(l, cols[c].key, buf, sizeof(buf)));
		fg_table_cell(&t, 1 + NCOLS, count(l, "polls", "-", buf, sizeof(buf)));
	}
	ret = fg_table_print(&t, INDENT, out);
	fg_table_free(&t);
	return ret;
}

/* The data plane's DPDK heap (control protocol 6); nothing when the answer has none. */
static int stats_heap(const cJSON *h, FILE *out)
{
	static const char *const keys[] = { "allocated", "free", "largest_free", "total" };
	char name[32], num[NUM_LEN];
	struct fg_table t;
	int ret;

	if (absent(h))
		return 0;
	if (!cJSON_IsObject(h)) {
		fputs("\ndpdk heap: ?\n", out);
		return 0;
	}
	fputs("\ndpdk heap\n", out);
	fg_table_init(&t, 2, 1u << 1);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		fg_table_row(&t);
		label(keys[i], false, name, sizeof(name));
		fg_table_cell(&t, 0, name);
		fg_table_cell(&t, 1, absent(field(h, keys[i])) ? "-" : bytes(h, keys[i], num, sizeof(num)));
	}
	ret = fg_table_print(&t, INDENT, out);
	fg_table_free(&t);
	return ret;
}

int fg_render_stats(const cJSON *r, time_t now, FILE *out)
{
	char n1[NUM_LEN], n2[NUM_LEN];
	int ret;

	(void)now;
	if (!cJSON_IsObject(r))
		return -EPROTO;
	ret = fg_table_kv(out, 0,
		       "aead", text(r, "aead", "?"),
		       "workers", count(r, "workers", "?", n1, sizeof(n1)),
		       "peers", count(r, "peers", "?", n2, sizeof(n2)),
		       NULL);
	if (!ret)
		ret = stats_heap(field(r, "heap"), out);
	if (!ret)
		ret = stats_handshakes(field(r, "handshakes"), out);
	if (!ret)
		ret = stats_drops(field(r, "drops"), out);
	if (!ret)
		ret = stats_lcores(field(r, "lcores"), out);
	if (!ret)
		ret = stats_load(field(r, "lcores"), out);
	if (!ret)
		ret = fg_render_stats_nat(r, out);
	return finish(out, ret);
}

int fg_render(const char *cmd, const cJSON *resp, time_t now, FILE *out)
{
	static const struct {
		const char *name;
		int (*fn)(const cJSON *resp, time_t now, FILE *out);
	} renderers[] = {
		{ "status", fg_render_status },
		{ "peers", fg_render_peers },
		{ "resources", fg_render_resources },
		{ "relays", fg_render_relays },
		{ "stats", fg_render_stats },
		{ "ice", fg_render_ice },
		{ "flows", fg_render_flows },
		{ "nat", fg_render_nat },
	};

	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++)
		if (strcmp(cmd, renderers[i].name) == 0)
			return renderers[i].fn(resp, now, out);
	return -EINVAL;
}

const char *fg_render_list_key(const char *cmd)
{
	if (strcmp(cmd, "ice") == 0)
		return "agents";
	if (strcmp(cmd, "nat") == 0)
		return "clients";
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "stats") == 0)
		return NULL;
	return cmd;
}

/* ---- for render_conn.c (render_priv.h) ------------------------------------------------------ */

int fg_render_finish(FILE *out, int r)
{
	return finish(out, r);
}

const cJSON *fg_render_field(const cJSON *o, const char *k)
{
	return field(o, k);
}

bool fg_render_absent(const cJSON *j)
{
	return absent(j);
}

bool fg_render_as_count(const cJSON *j, uint64_t *v)
{
	return as_count(j, v);
}

const char *fg_render_text(const cJSON *o, const char *k, const char *if_absent)
{
	return text(o, k, if_absent);
}

const char *fg_render_count(const cJSON *o, const char *k, const char *if_absent, char *buf,
			    size_t len)
{
	return count(o, k, if_absent, buf, len);
}

const char *fg_render_yesno(const cJSON *o, const char *k, const char *if_absent)
{
	return yesno(o, k, if_absent);
}

void fg_render_append(char *buf, size_t len, size_t *off, const char *s)
{
	append(buf, len, off, s);
}

const cJSON *fg_render_list(const cJSON *resp, const char *key)
{
	return list(resp, key);
}

int fg_render_list_table(const cJSON *r, const char *key, const char *const head[], size_t ncols,
			 unsigned right, struct fg_table *t, const cJSON **l, FILE *out)
{
	return list_table(r, key, head, ncols, right, t, l, out);
}
