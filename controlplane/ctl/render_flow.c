// SPDX-License-Identifier: MIT
/*
 * Human output of fastgatectl flows (see render.h; schema in cpctl_server.h): a key/value
 * block (tracking, uploads, spool, the non-zero counters), then the live and the recently
 * completed flows as one table. Every field is read defensively through render_priv.h. No
 * state.
 */
#include "render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "render_priv.h"
#include "table.h"

enum {
	CELL_MAX = FG_RENDER_CELL_MAX,
	NUM_LEN = FG_RENDER_NUM_LEN,
};

enum flow_col {
	F_STATE, F_PROTO, F_CLIENT, F_RESOURCE, F_SRC, F_DST, F_DOMAIN, F_OUTER, F_START, F_END, F_TX, F_RX,
	F_NCOLS,
};

/* "1.50 KiB / 12" from the byte and packet counts at kb and kp. */
static void traffic(const cJSON *o, const char *kb, const char *kp, char *buf, size_t len)
{
	char b[FG_RENDER_BYTES_LEN];
	uint64_t n;

	if (fg_render_as_count(fg_render_field(o, kb), &n))
		fg_render_bytes(n, b, sizeof(b));
	else
		snprintf(b, sizeof(b), "?");
	if (fg_render_as_count(fg_render_field(o, kp), &n))
		snprintf(buf, len, "%s / %" PRIu64, b, n);
	else
		snprintf(buf, len, "%s / ?", b);
}

/* A Unix time at k relative to now; if_absent when null or missing. */
static const char *when(const cJSON *o, const char *k, time_t now, const char *if_absent, char *buf, size_t len)
{
	uint64_t t;

	if (fg_render_absent(fg_render_field(o, k)))
		return if_absent;
	if (!fg_render_as_count(fg_render_field(o, k), &t) || t > INT64_MAX)
		return "?";
	return fg_render_when((int64_t)t, now, buf, len);
}

static void uploads_text(const cJSON *u, time_t now, char *buf, size_t len)
{
	char n1[NUM_LEN], n2[NUM_LEN], t[FG_RENDER_TIME_LEN];
	size_t off = 0;

	if (!cJSON_IsObject(u)) {
		snprintf(buf, len, "?");
		return;
	}
	if (!cJSON_IsTrue(fg_render_field(u, "enabled"))) {
		snprintf(buf, len, "off");
		return;
	}
	buf[0] = '\0';
	fg_render_append(buf, len, &off, "to ");
	fg_render_append(buf, len, &off, fg_render_text(u, "url", "?"));
	fg_render_append(buf, len, &off, " every ");
	fg_render_append(buf, len, &off, fg_render_count(u, "interval_s", "?", n1, sizeof(n1)));
	fg_render_append(buf, len, &off, " s, batches of ");
	fg_render_append(buf, len, &off, fg_render_count(u, "batch_size", "?", n2, sizeof(n2)));
	fg_render_append(buf, len, &off, " (");
	fg_render_append(buf, len, &off, fg_render_text(u, "state", "?"));
	fg_render_append(buf, len, &off, ", last success ");
	fg_render_append(buf, len, &off, when(u, "last_success", now, "never", t, sizeof(t)));
	fg_render_append(buf, len, &off, ")");
}

static void spool_text(const cJSON *r, char *buf, size_t len)
{
	const cJSON *s = fg_render_field(r, "spool");
	char used[FG_RENDER_BYTES_LEN], max[FG_RENDER_BYTES_LEN], n1[NUM_LEN], n2[NUM_LEN], n3[NUM_LEN];
	uint64_t v;

	if (fg_render_absent(s)) {
		snprintf(buf, len, "%s (not opened)", fg_render_text(r, "dir", "?"));
		return;
	}
	if (!cJSON_IsObject(s)) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(used, sizeof(used), "?");
	snprintf(max, sizeof(max), "?");
	if (fg_render_as_count(fg_render_field(s, "bytes"), &v))
		fg_render_bytes(v, used, sizeof(used));
	if (fg_render_as_count(fg_render_field(s, "max_bytes"), &v))
		fg_render_bytes(v, max, sizeof(max));
	snprintf(buf, len, "%s: %s of %s, %s segment(s), %s authorization(s), %s in memory",
		 fg_render_text(r, "dir", "?"), used, max, fg_render_count(s, "segments", "?", n1, sizeof(n1)),
		 fg_render_count(s, "authorizations", "?", n2, sizeof(n2)),
		 fg_render_count(s, "pending", "?", n3, sizeof(n3)));
}

/* "started 3, completed 2, ..." for the counters that are not zero; "none" when all are. */
static void counters_text(const cJSON *c, char *buf, size_t len)
{
	const cJSON *it;
	size_t off = 0;
	char n[NUM_LEN];

	buf[0] = '\0';
	if (!cJSON_IsObject(c)) {
		snprintf(buf, len, "?");
		return;
	}
	cJSON_ArrayForEach(it, c) {
		uint64_t v = 0;
		bool exact = fg_render_as_count(it, &v);

		if (exact && !v)
			continue;
		if (off)
			fg_render_append(buf, len, &off, ", ");
		fg_render_append(buf, len, &off, it->string ? it->string : "?");
		fg_render_append(buf, len, &off, " ");
		snprintf(n, sizeof(n), "%" PRIu64, v);
		fg_render_append(buf, len, &off, exact ? n : "?");
	}
	if (!off)
		snprintf(buf, len, "none");
}

static int header(const cJSON *r, time_t now, FILE *out)
{
	char up[CELL_MAX], sp[CELL_MAX], cn[CELL_MAX], n1[NUM_LEN];
	const cJSON *u = fg_render_field(r, "uploads");
	int ret;

	uploads_text(u, now, up, sizeof(up));
	spool_text(r, sp, sizeof(sp));
	counters_text(fg_render_field(r, "counters"), cn, sizeof(cn));
	ret = fg_table_kv(out, 0,
			  "tracking", fg_render_yesno(r, "tracking", "?"),
			  "flow lines on the log", fg_render_yesno(r, "log_lines", "?"),
			  "ingest tokens", fg_render_count(r, "tokens", "?", n1, sizeof(n1)),
			  "uploads", up,
			  "last upload error", cJSON_IsObject(u) ? fg_render_text(u, "last_error", "none") : "?",
			  "spool", sp,
			  "counters", cn,
			  NULL);
	if (!ret)
		fputc('\n', out);
	return ret;
}

static void flow_row(struct fg_table *t, const cJSON *f, time_t now)
{
	char buf[CELL_MAX];
	const char *reason = fg_render_text(f, "end_reason", NULL);

	fg_table_row(t);
	fg_table_cell(t, F_STATE, fg_render_text(f, "state", "?"));
	fg_table_cell(t, F_PROTO, fg_render_text(f, "protocol", "?"));
	fg_table_cell(t, F_CLIENT, fg_render_text(f, "client_id", "-"));
	fg_table_cell(t, F_RESOURCE, fg_render_text(f, "resource_id", "-"));
	fg_table_cell(t, F_SRC, fg_render_text(f, "src", "?"));
	if (fg_render_absent(fg_render_field(f, "proxy")))
		fg_table_cell(t, F_DST, fg_render_text(f, "dst", "?"));
	else
		fg_table_cellf(t, F_DST, "%s (via %s)", fg_render_text(f, "dst", "?"), fg_render_text(f, "proxy", "?"));
	fg_table_cell(t, F_DOMAIN, fg_render_text(f, "domain", "-"));
	if (cJSON_IsTrue(fg_render_field(f, "relayed")))
		fg_table_cellf(t, F_OUTER, "%s (relay)", fg_render_text(f, "outer", "-"));
	else
		fg_table_cell(t, F_OUTER, fg_render_text(f, "outer", "-"));
	fg_table_cell(t, F_START, when(f, "start", now, "-", buf, sizeof(buf)));
	if (reason)
		fg_table_cellf(t, F_END, "%s (%s)", when(f, "end", now, "-", buf, sizeof(buf)), reason);
	else
		fg_table_cell(t, F_END, when(f, "end", now, "-", buf, sizeof(buf)));
	traffic(f, "tx_bytes", "tx_packets", buf, sizeof(buf));
	fg_table_cell(t, F_TX, buf);
	traffic(f, "rx_bytes", "rx_packets", buf, sizeof(buf));
	fg_table_cell(t, F_RX, buf);
}

int fg_render_flows(const cJSON *r, time_t now, FILE *out)
{
	static const char *const head[F_NCOLS] = {
		"STATE", "PROTO", "CLIENT", "RESOURCE", "SOURCE", "DESTINATION", "DOMAIN", "OUTER", "STARTED",
		"ENDED", "TX", "RX",
	};
	const cJSON *l, *f;
	struct fg_table t;
	int ret;

	if (!cJSON_IsObject(r) || !fg_render_list(r, "flows"))
		return -EPROTO;
	ret = header(r, now, out);
	if (!ret)
		ret = fg_render_list_table(r, "flows", head, F_NCOLS, 1u << F_TX | 1u << F_RX, &t, &l, out);
	if (ret > 0) {
		cJSON_ArrayForEach(f, l)
			flow_row(&t, f, now);
		ret = fg_table_print(&t, 0, out);
		fg_table_free(&t);
	}
	return fg_render_finish(out, ret);
}
