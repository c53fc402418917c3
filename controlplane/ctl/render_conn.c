// SPDX-License-Identifier: MIT
/*
 * Human output of fastgatectl for connectivity (see render.h; schemas in cpctl_server.h):
 * `relays`, a table of TURN allocations with each relay's channels and failure indented
 * below its row, and `ice`, one block per client agent (a header line with its nominated
 * path, its candidate pairs as a table, its candidates). Times in these responses are
 * seconds from now and print short ("9m11s"). Every field is read defensively through
 * render_priv.h; text printed outside a table is cleaned as table cells are. No state.
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
	SHORT_LEN = 48,         /* "106751991167300d15h30m7s" and a word or two */
	INDENT = FG_RENDER_INDENT,
};

/* 2^53: beyond it a JSON double is no longer an exact count of seconds. */
static const double MAX_EXACT = 9007199254740992.0;

/* ---- lines ---------------------------------------------------------------------------------- */

/* One line of text built piece by piece (fprintf to l->f), then cleaned and printed. */
struct line {
	FILE *f;
	char *buf;
	size_t len;
};

static int line_open(struct line *l)
{
	l->buf = NULL;
	l->len = 0;
	l->f = open_memstream(&l->buf, &l->len);
	return l->f ? 0 : -ENOMEM;
}

/* Prints the line, indent spaces first, with control characters and invalid UTF-8 as '?'
 * (its text comes from the response), then a newline. Frees it. 0 or -ENOMEM. */
static int line_emit(struct line *l, int indent, FILE *out)
{
	bool failed = ferror(l->f) != 0;
	char *clean = NULL;

	if (fclose(l->f) != 0)
		failed = true;
	if (!failed && l->buf)
		clean = fg_table_clean(l->buf);
	free(l->buf);
	if (!clean)
		return -ENOMEM;
	fprintf(out, "%*s%s\n", indent, "", clean);
	free(clean);
	return 0;
}

/* ---- fields --------------------------------------------------------------------------------- */

/* A finite number within +-2^53 (seconds, milliseconds). */
static bool as_real(const cJSON *j, double *v)
{
	double d;

	if (!cJSON_IsNumber(j))
		return false;
	d = j->valuedouble;
	if (!(d >= -MAX_EXACT && d <= MAX_EXACT))
		return false;
	*v = d;
	return true;
}

/* Whole seconds, short: "45s", "9m11s", "1h0m0s", "2d3h0m5s". Returns buf. */
static char *short_duration(uint64_t s, char *buf, size_t len)
{
	uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;

	if (d)
		snprintf(buf, len, "%" PRIu64 "d%" PRIu64 "h%" PRIu64 "m%" PRIu64 "s", d, h, m, sec);
	else if (h)
		snprintf(buf, len, "%" PRIu64 "h%" PRIu64 "m%" PRIu64 "s", h, m, sec);
	else if (m)
		snprintf(buf, len, "%" PRIu64 "m%" PRIu64 "s", m, sec);
	else
		snprintf(buf, len, "%" PRIu64 "s", sec);
	return buf;
}

enum when { W_UNSET, W_FUTURE, W_PAST, W_BAD };

/* Seconds from now at k (negative: past), as a whole count in *secs. W_UNSET when absent,
 * null or 0 (the control plane's "not set"), W_BAD when not a number in range. */
static enum when secs_from_now(const cJSON *o, const char *k, uint64_t *secs)
{
	const cJSON *j = fg_render_field(o, k);
	double d;

	if (fg_render_absent(j))
		return W_UNSET;
	if (!as_real(j, &d))
		return W_BAD;
	if (d == 0)
		return W_UNSET;
	*secs = (uint64_t)(d < 0 ? -d : d);
	return d > 0 ? W_FUTURE : W_PAST;
}

/* "in 9m11s", "expired 5s ago"; if_unset, or "?" for a bad value. */
static const char *expires_in(const cJSON *o, const char *k, const char *if_unset, char *buf,
			      size_t len)
{
	char d[SHORT_LEN];
	uint64_t s = 0;

	switch (secs_from_now(o, k, &s)) {
	case W_FUTURE:
		snprintf(buf, len, "in %s", short_duration(s, d, sizeof(d)));
		return buf;
	case W_PAST:
		snprintf(buf, len, "expired %s ago", short_duration(s, d, sizeof(d)));
		return buf;
	case W_BAD:
		return "?";
	default:
		return if_unset;
	}
}

/* Seconds ago at k (age_s, since_s: non-negative) as "12s"; if_absent, or "?". */
static const char *secs_ago(const cJSON *o, const char *k, const char *if_absent, char *buf,
			    size_t len)
{
	const cJSON *j = fg_render_field(o, k);
	double d;

	if (fg_render_absent(j))
		return if_absent;
	if (!as_real(j, &d) || d < 0)
		return "?";
	return short_duration((uint64_t)d, buf, len);
}

/* A round-trip time in milliseconds: "0.4 ms", "12.3 ms", "250 ms"; "-" when absent, null
 * or 0 (not measured), "?" when not a non-negative number. */
static const char *rtt(const cJSON *o, const char *k, char *buf, size_t len)
{
	const cJSON *j = fg_render_field(o, k);
	double d;

	if (fg_render_absent(j))
		return "-";
	if (!as_real(j, &d) || d < 0)
		return "?";
	if (d == 0)
		return "-";
	if (d >= 100)
		snprintf(buf, len, "%.0f ms", d);
	else
		snprintf(buf, len, "%.3g ms", d);
	return buf;
}

/* A list of strings joined by ", ": "-" when absent, null or empty, "?" when not a list,
 * "?" for an entry that is not a string. */
static void strings_text(const cJSON *o, const char *k, char *buf, size_t len)
{
	const cJSON *l = fg_render_field(o, k), *s;
	size_t off = 0;

	buf[0] = '\0';
	if (fg_render_absent(l) || (cJSON_IsArray(l) && !cJSON_GetArraySize(l))) {
		snprintf(buf, len, "-");
		return;
	}
	if (!cJSON_IsArray(l)) {
		snprintf(buf, len, "?");
		return;
	}
	cJSON_ArrayForEach(s, l) {
		if (off)
			fg_render_append(buf, len, &off, ", ");
		fg_render_append(buf, len, &off, cJSON_IsString(s) && s->valuestring ? s->valuestring : "?");
	}
}

/* A TURN channel number: "0x4000"; "?" when not a count. */
static const char *channel_number(const cJSON *j, char *buf, size_t len)
{
	uint64_t n;

	if (!fg_render_as_count(j, &n))
		return "?";
	snprintf(buf, len, "0x%04" PRIx64, n);
	return buf;
}

/* The non-zero counters of an object as one malloc'd line, not yet cleaned: "a 1, b 2" (a
 * value that is not a count shows "?"); "?" when c is not an object; if_zero when every one
 * is zero. *text is NULL when there is nothing to show: c absent or null, or all zero and
 * if_zero NULL. 0 or -ENOMEM. */
static int counters_text(const cJSON *c, const char *if_zero, char **text)
{
	const cJSON *j;
	size_t n = 0;
	struct line l;
	int ret;

	*text = NULL;
	if (fg_render_absent(c))
		return 0;
	ret = line_open(&l);
	if (ret < 0)
		return ret;
	if (!cJSON_IsObject(c)) {
		fputs("?", l.f);
		n = 1;
	} else {
		cJSON_ArrayForEach(j, c) {
			uint64_t v;

			if (!fg_render_as_count(j, &v))
				fprintf(l.f, "%s%s ?", n++ ? ", " : "", j->string);
			else if (v)
				fprintf(l.f, "%s%s %" PRIu64, n++ ? ", " : "", j->string, v);
		}
	}
	if (!n && if_zero)
		fputs(if_zero, l.f);
	if (fclose(l.f) != 0 || !l.buf) {
		free(l.buf);
		return -ENOMEM;
	}
	if (!n && !if_zero)
		free(l.buf);
	else
		*text = l.buf;
	return 0;
}

/* "counters: a 1, b 2" as counters_text() makes it; nothing when that is NULL. */
static int counters_line(const cJSON *c, const char *if_zero, int indent, FILE *out)
{
	char *text, *clean;
	int ret = counters_text(c, if_zero, &text);

	if (ret < 0 || !text)
		return ret;
	clean = fg_table_clean(text);
	free(text);
	if (!clean)
		return -ENOMEM;
	fprintf(out, "%*scounters: %s\n", indent, "", clean);
	free(clean);
	return 0;
}

/* ---- relays --------------------------------------------------------------------------------- */

enum relay_col {
	L_ID, L_STATE, L_ACTIVE, L_SRFLX, L_RELAYED, L_EXPIRES, L_RTT, L_CHANNELS, L_NCOLS
};

/* "allocated", "allocated (probing)"; "-" when absent (the old control plane's relays). */
static void relay_state(const cJSON *relay, char *buf, size_t len)
{
	const char *st = fg_render_text(relay, "state", "-");

	if (cJSON_IsTrue(fg_render_field(relay, "probing")))
		snprintf(buf, len, "%s (probing)", st);
	else
		snprintf(buf, len, "%s", st);
}

/* expires_in_s, else the old absolute expires_at against now; "-" when neither is set. */
static const char *relay_expiry(const cJSON *relay, time_t now, char *buf, size_t len)
{
	const cJSON *at = fg_render_field(relay, "expires_at");
	char d[SHORT_LEN];
	uint64_t t;

	if (!fg_render_absent(fg_render_field(relay, "expires_in_s")) || fg_render_absent(at))
		return expires_in(relay, "expires_in_s", "-", buf, len);
	if (!fg_render_as_count(at, &t))
		return "?";
	if ((int64_t)t > (int64_t)now)
		snprintf(buf, len, "in %s", short_duration((uint64_t)t - (uint64_t)now, d, sizeof(d)));
	else
		snprintf(buf, len, "expired %s ago", short_duration((uint64_t)now - (uint64_t)t, d, sizeof(d)));
	return buf;
}

/* "1/2": channels bound of those listed; "-" when the response has neither field. */
static void relay_channels(const cJSON *relay, char *buf, size_t len)
{
	const cJSON *bound = fg_render_field(relay, "channels_bound"),
		*chans = fg_render_field(relay, "channels");
	char n[NUM_LEN];

	if (fg_render_absent(bound) && fg_render_absent(chans)) {
		snprintf(buf, len, "-");
		return;
	}
	if (cJSON_IsArray(chans))
		snprintf(buf, len, "%s/%d", fg_render_count(relay, "channels_bound", "-", n, sizeof(n)),
			 cJSON_GetArraySize(chans));
	else
		snprintf(buf, len, "%s/%s", fg_render_count(relay, "channels_bound", "-", n, sizeof(n)),
			 fg_render_absent(chans) ? "-" : "?");
}

/* "channel 0x4000 bound -> 198.18.9.2:40000, 9m50s left[, unused]" */
static int channel_line(const cJSON *ch, FILE *out)
{
	char num[NUM_LEN], d[SHORT_LEN];
	const cJSON *used = fg_render_field(ch, "used");
	struct line l;
	uint64_t s = 0;
	int ret;

	if (!cJSON_IsObject(ch)) {
		fprintf(out, "%*schannel ?\n", INDENT, "");
		return 0;
	}
	ret = line_open(&l);
	if (ret < 0)
		return ret;
	fprintf(l.f, "channel %s %s -> %s",
		channel_number(fg_render_field(ch, "number"), num, sizeof(num)),
		fg_render_text(ch, "state", "?"), fg_render_text(ch, "peer", "-"));
	switch (secs_from_now(ch, "expires_in_s", &s)) {
	case W_FUTURE:
		fprintf(l.f, ", %s left", short_duration(s, d, sizeof(d)));
		break;
	case W_PAST:
		fprintf(l.f, ", expired %s ago", short_duration(s, d, sizeof(d)));
		break;
	case W_BAD:
		fprintf(l.f, ", ? left");
		break;
	default:
		break;
	}
	if (cJSON_IsFalse(used))
		fprintf(l.f, ", unused");
	else if (!fg_render_absent(used) && !cJSON_IsTrue(used))
		fprintf(l.f, ", used ?");
	return line_emit(&l, INDENT, out);
}

/* What goes below a relay's row: its failure, then one line per channel. */
static int relay_details(const cJSON *relay, FILE *out)
{
	const cJSON *chans = fg_render_field(relay, "channels"), *ch;
	int ret = 0;

	if (!fg_render_absent(fg_render_field(relay, "failure"))) {
		struct line l;

		ret = line_open(&l);
		if (ret < 0)
			return ret;
		fprintf(l.f, "failure: %s", fg_render_text(relay, "failure", "-"));
		ret = line_emit(&l, INDENT, out);
	}
	if (fg_render_absent(chans))
		return ret;
	if (!cJSON_IsArray(chans)) {
		fprintf(out, "%*schannels: ?\n", INDENT, "");
		return ret;
	}
	cJSON_ArrayForEach(ch, chans) {
		if (ret)
			break;
		ret = channel_line(ch, out);
	}
	return ret;
}

/* Writes the line at p (up to its newline, or to end) and returns where the next starts. */
static const char *put_line(const char *p, const char *end, FILE *out)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *next = nl ? nl + 1 : end;

	fwrite(p, 1, (size_t)(next - p), out);
	return next;
}

/* The table with each relay's details below its row: the table is printed to memory first so
 * that its columns stay aligned across the lines in between. One line per row, the header's
 * first (a cell never holds a newline: cells are cleaned). */
static int relays_table(const struct fg_table *t, const cJSON *l, FILE *out)
{
	const cJSON *relay;
	const char *p, *end;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int ret;

	if (!m)
		return -ENOMEM;
	ret = fg_table_print(t, 0, m);
	if (fclose(m) != 0 && !ret)
		ret = -ENOMEM;
	if (ret || !buf) {
		free(buf);
		return ret ? ret : -ENOMEM;
	}
	end = buf + len;
	p = put_line(buf, end, out);
	cJSON_ArrayForEach(relay, l) {
		p = put_line(p, end, out);
		ret = relay_details(relay, out);
		if (ret)
			break;
	}
	if (!ret && p < end)
		fwrite(p, 1, (size_t)(end - p), out);
	free(buf);
	return ret;
}

/* "allocation: yes (without relays: ...)"; nothing when the response does not say (the old
 * control plane). */
static void allocation_line(const cJSON *r, FILE *out)
{
	const cJSON *without = fg_render_field(r, "without_relays");

	if (fg_render_absent(fg_render_field(r, "allocation")))
		return;
	fprintf(out, "allocation: %s", fg_render_yesno(r, "allocation", "-"));
	if (cJSON_IsTrue(without))
		fputs(" (without relays: authorizations are confirmed anyway)", out);
	else if (!fg_render_absent(without) && !cJSON_IsFalse(without))
		fputs(" (without relays: ?)", out);
	fputc('\n', out);
}

int fg_render_relays(const cJSON *r, time_t now, FILE *out)
{
	static const char *const head[L_NCOLS] = {
		"ID", "STATE", "ACTIVE", "SRFLX", "RELAYED", "EXPIRES", "RTT", "CHANNELS",
	};
	const cJSON *l, *relay;
	char buf[CELL_MAX];
	struct fg_table t;
	int ret;

	ret = fg_render_list_table(r, "relays", head, L_NCOLS, 1u << L_RTT | 1u << L_CHANNELS, &t,
				   &l, out);
	if (ret < 0)
		return ret;
	if (ret > 0) {
		cJSON_ArrayForEach(relay, l) {
			fg_table_row(&t);
			fg_table_cell(&t, L_ID, fg_render_text(relay, "id", "?"));
			relay_state(relay, buf, sizeof(buf));
			fg_table_cell(&t, L_STATE, buf);
			fg_table_cell(&t, L_ACTIVE, fg_render_text(relay, "active", "-"));
			strings_text(relay, "srflx", buf, sizeof(buf));
			fg_table_cell(&t, L_SRFLX, buf);
			strings_text(relay, "relayed", buf, sizeof(buf));
			fg_table_cell(&t, L_RELAYED, buf);
			fg_table_cell(&t, L_EXPIRES, relay_expiry(relay, now, buf, sizeof(buf)));
			fg_table_cell(&t, L_RTT, rtt(relay, "rtt_ms", buf, sizeof(buf)));
			relay_channels(relay, buf, sizeof(buf));
			fg_table_cell(&t, L_CHANNELS, buf);
		}
		ret = relays_table(&t, l, out);
		fg_table_free(&t);
	}
	if (!ret)
		ret = counters_line(fg_render_field(r, "counters"), NULL, 0, out);
	if (!ret)
		allocation_line(r, out);
	return fg_render_finish(out, ret);
}

/* ---- ice ------------------------------------------------------------------------------------ */

enum pair_col { P_LOCAL, P_REMOTE, P_STATE, P_NOMINATED, P_CHECKS, P_RTT, P_NCOLS };

/* "198.18.1.1:51820 (host)"; with_relay adds the relay of a relay candidate (a pair's
 * relay_id is its local candidate's): "(relay r1)". */
static void endpoint(const cJSON *o, const char *addr_k, const char *type_k, bool with_relay,
		     char *buf, size_t len)
{
	const char *addr = fg_render_text(o, addr_k, "-"), *type = fg_render_text(o, type_k, NULL);
	const cJSON *relay = fg_render_field(o, "relay_id");

	if (!type)
		snprintf(buf, len, "%s", addr);
	else if (with_relay && !fg_render_absent(relay))
		snprintf(buf, len, "%s (%s %s)", addr, type, fg_render_text(o, "relay_id", "?"));
	else
		snprintf(buf, len, "%s (%s)", addr, type);
}

/* ", direct A (host) <-> B (srflx), for 10s" or ", relayed ... via relay r1 channel 0x4000". */
static void path_text(const cJSON *a, FILE *f)
{
	const cJSON *n = fg_render_field(a, "nominated"), *chan;
	char local[CELL_MAX], remote[CELL_MAX], num[NUM_LEN], d[SHORT_LEN];
	const char *type, *since;
	uint64_t c;

	if (fg_render_absent(n)) {
		fputs(", no path yet", f);
		return;
	}
	if (!cJSON_IsObject(n)) {
		fputs(", path ?", f);
		return;
	}
	type = fg_render_text(n, "type", "path");
	endpoint(n, "local", "local_type", false, local, sizeof(local));
	endpoint(n, "remote", "remote_type", false, remote, sizeof(remote));
	fprintf(f, ", %s %s <-> %s", type, local, remote);
	if (strcmp(type, "relayed") == 0 || !fg_render_absent(fg_render_field(n, "relay_id")))
		fprintf(f, " via relay %s",
			fg_render_text(n, "relay_id", fg_render_text(a, "relay_id", "?")));
	chan = fg_render_field(n, "channel");
	if (!fg_render_absent(chan) && !(fg_render_as_count(chan, &c) && c == 0))
		fprintf(f, " channel %s", channel_number(chan, num, sizeof(num)));
	since = secs_ago(n, "since_s", NULL, d, sizeof(d));
	if (since)
		fprintf(f, ", for %s", since);
}

/* "*" nominated, "* selected", "selected", "" neither; "?" for a bad nominated. */
static const char *pair_mark(const cJSON *p)
{
	const cJSON *nom = fg_render_field(p, "nominated");
	bool sel = cJSON_IsTrue(fg_render_field(p, "selected"));

	if (!fg_render_absent(nom) && !cJSON_IsBool(nom))
		return "?";
	if (cJSON_IsTrue(nom))
		return sel ? "* selected" : "*";
	return sel ? "selected" : "";
}

static int agent_pairs(const cJSON *a, FILE *out)
{
	static const char *const head[P_NCOLS] = {
		"LOCAL", "REMOTE", "STATE", "NOMINATED", "CHECKS", "RTT",
	};
	const cJSON *pairs = fg_render_field(a, "pairs"), *p;
	char buf[CELL_MAX], n1[NUM_LEN], n2[NUM_LEN];
	struct fg_table t;
	int ret;

	if (fg_render_absent(pairs))
		return 0;
	if (!cJSON_IsArray(pairs)) {
		fprintf(out, "%*spairs: ?\n", INDENT, "");
		return 0;
	}
	if (!cJSON_GetArraySize(pairs)) {
		fprintf(out, "%*spairs: none\n", INDENT, "");
		return 0;
	}
	fg_table_init(&t, P_NCOLS, 1u << P_RTT);
	fg_table_row(&t);
	for (size_t c = 0; c < P_NCOLS; c++)
		fg_table_cell(&t, c, head[c]);
	cJSON_ArrayForEach(p, pairs) {
		fg_table_row(&t);
		endpoint(p, "local", "local_type", true, buf, sizeof(buf));
		fg_table_cell(&t, P_LOCAL, buf);
		endpoint(p, "remote", "remote_type", false, buf, sizeof(buf));
		fg_table_cell(&t, P_REMOTE, buf);
		fg_table_cell(&t, P_STATE, fg_render_text(p, "state", "?"));
		fg_table_cell(&t, P_NOMINATED, pair_mark(p));
		fg_table_cellf(&t, P_CHECKS, "%s out, %s in",
			       fg_render_count(p, "checks_sent", "-", n1, sizeof(n1)),
			       fg_render_count(p, "requests_received", "-", n2, sizeof(n2)));
		fg_table_cell(&t, P_RTT, rtt(p, "rtt_ms", buf, sizeof(buf)));
	}
	ret = fg_table_print(&t, INDENT, out);
	fg_table_free(&t);
	return ret;
}

/* "local candidates:" and one line each, or "local candidates: none". */
static int candidate_lines(const cJSON *cands, const char *side, FILE *out)
{
	const cJSON *l = fg_render_field(cands, side), *c;
	int ret = 0;

	if (!cJSON_IsArray(l)) {
		fprintf(out, "%*s%s candidates: %s\n", INDENT, "", side, fg_render_absent(l) ? "-" : "?");
		return 0;
	}
	if (!cJSON_GetArraySize(l)) {
		fprintf(out, "%*s%s candidates: none\n", INDENT, "", side);
		return 0;
	}
	fprintf(out, "%*s%s candidates:\n", INDENT, "", side);
	cJSON_ArrayForEach(c, l) {
		struct line ln;

		ret = line_open(&ln);
		if (ret < 0)
			break;
		fputs(cJSON_IsString(c) && c->valuestring ? c->valuestring : "?", ln.f);
		ret = line_emit(&ln, 2 * INDENT, out);
		if (ret < 0)
			break;
	}
	return ret;
}

static int agent_block(const cJSON *a, FILE *out)
{
	const char *state = fg_render_text(a, "state", "?");
	char n[NUM_LEN], d[SHORT_LEN];
	const cJSON *nom = fg_render_field(a, "nominated"), *cands = fg_render_field(a, "candidates");
	struct line l;
	int ret;

	if (!cJSON_IsObject(a)) {
		fputs("client ?: ?\n", out);
		return 0;
	}
	ret = line_open(&l);
	if (ret < 0)
		return ret;
	fprintf(l.f, "client %s: %s", fg_render_text(a, "client_id", "?"), state);
	if (strcmp(state, "waiting") == 0) {
		/* Candidates from the client, no authorization yet: nothing else to show. */
		fprintf(l.f, ", %s remote candidates, no authorization yet",
			fg_render_count(a, "remote_candidates", "?", n, sizeof(n)));
		return line_emit(&l, 0, out);
	}
	if (cJSON_IsTrue(fg_render_field(a, "idle")))
		fputs(" (idle)", l.f);
	path_text(a, l.f);
	ret = line_emit(&l, 0, out);

	if (!ret)
		ret = line_open(&l);
	if (!ret) {
		fprintf(l.f, "local ufrag %s, remote ufrag %s, age %s, relay %s, held signals %s",
			fg_render_text(a, "local_ufrag", "-"), fg_render_text(a, "remote_ufrag", "-"),
			secs_ago(a, "age_s", "-", d, sizeof(d)), fg_render_text(a, "relay_id", "none"),
			fg_render_count(a, "held_signals", "-", n, sizeof(n)));
		if (cJSON_IsObject(nom) && !fg_render_absent(fg_render_field(nom, "wireguard_endpoint")))
			fprintf(l.f, ", wireguard endpoint %s",
				fg_render_text(nom, "wireguard_endpoint", "-"));
		ret = line_emit(&l, INDENT, out);
	}
	if (!ret && !fg_render_absent(fg_render_field(a, "failure"))) {
		ret = line_open(&l);
		if (!ret) {
			fprintf(l.f, "failure: %s", fg_render_text(a, "failure", "-"));
			ret = line_emit(&l, INDENT, out);
		}
	}
	if (!ret)
		ret = agent_pairs(a, out);
	if (!ret && !fg_render_absent(cands) && !cJSON_IsObject(cands))
		fprintf(out, "%*scandidates: ?\n", INDENT, "");
	else if (!ret && cJSON_IsObject(cands)) {
		ret = candidate_lines(cands, "local", out);
		if (!ret)
			ret = candidate_lines(cands, "remote", out);
	}
	if (!ret)
		ret = counters_line(fg_render_field(a, "counters"), NULL, INDENT, out);
	return ret;
}

int fg_render_ice(const cJSON *r, time_t now, FILE *out)
{
	const cJSON *l = fg_render_list(r, "agents"), *a;
	char *counters;
	int ret = 0;

	(void)now;
	if (!l)
		return -EPROTO;
	if (!cJSON_GetArraySize(l))
		fputs("no ICE agents\n", out);
	cJSON_ArrayForEach(a, l) {
		if (a != l->child)
			fputc('\n', out);
		ret = agent_block(a, out);
		if (ret)
			return fg_render_finish(out, ret);
	}
	/* The gateway's own: host candidates and counters, aligned as one block. */
	ret = counters_text(fg_render_field(r, "counters"), "all zero", &counters);
	if (ret < 0)
		return ret;
	fputc('\n', out);
	ret = fg_table_kv(out, 0,
			  "host IPv4", fg_render_text(r, "host4", "-"),
			  "host IPv6", fg_render_text(r, "host6", "-"),
			  counters ? "counters" : NULL, counters,
			  NULL);
	free(counters);
	return fg_render_finish(out, ret);
}
