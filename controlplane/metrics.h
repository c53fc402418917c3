/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text exposition format, version 0.0.4: a text builder that writes metric
 * families (one "# HELP" and one "# TYPE" line each, then its samples), escapes label values
 * (backslash, double quote, newline) and help text (backslash, newline), prints counters as
 * exact integers and other values in their shortest round-trip form, and renders the data
 * plane's STATS_REPLY (common/ctlproto.h) into fastgate's data plane families. Pure C over a
 * growing heap buffer: no I/O, no clock, no libwebsockets (health.c serves the text,
 * cpmetrics.c gathers what goes into it). Owned by whoever builds one text; the control
 * plane's single thread in the daemon.
 */
#ifndef FG_METRICS_H
#define FG_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"

/* The Content-Type of the text (exposition format 0.0.4). */
#define FG_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum fg_metric_type {
	FG_METRIC_COUNTER = 1,
	FG_METRIC_GAUGE,
};

enum {
	FG_METRICS_MAX_LABELS = 8,     /* labels of one sample; a sample with more is refused */
};

struct fg_metric_label {
	const char *name;              /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
	const char *value;             /* any text: escaped; bytes that are not UTF-8 become '?' */
};

/* A label list as (array, count) arguments: FG_METRIC_LABELS({ "lcore", "service" }, ...). */
#define FG_METRIC_LABELS(...)                                                         \
	(const struct fg_metric_label[]){ __VA_ARGS__ },                              \
	sizeof((const struct fg_metric_label[]){ __VA_ARGS__ }) / sizeof(struct fg_metric_label)

struct fg_metrics {
	char *buf;                     /* the text so far, NUL-terminated (heap) */
	size_t len, cap;
	bool failed;                   /* out of memory: fg_metrics_take gives NULL */
	uint64_t refused;              /* families and samples left out: bad names or labels */
	/* The family samples go to. Its header is written with its first sample, so that a
	 * family without samples leaves no trace; name and help are borrowed (literals). */
	const char *name, *help;
	enum fg_metric_type type;
	bool header_written;
	bool skip;                     /* the family was refused: its samples too */
	const char **seen;             /* the families written so far (borrowed names) */
	size_t nseen, capseen;
};

void fg_metrics_init(struct fg_metrics *m);
void fg_metrics_free(struct fg_metrics *m);
/* The text (NUL-terminated, *len bytes without the NUL), for the caller to free(); the
 * builder is left empty. NULL when some write ran out of memory (the text would lie). */
char *fg_metrics_take(struct fg_metrics *m, size_t *len);

/* Starts the family name (a metric name; a counter's ends in "_total"); help is one line of
 * text (escaped here). Calling it again with the current family's name keeps that family,
 * so tables may list one family's samples one by one. A bad name refuses the family. */
void fg_metrics_family(struct fg_metrics *m, const char *name, enum fg_metric_type type, const char *help);
/* One sample of the current family with n labels (at most FG_METRICS_MAX_LABELS; labels may
 * be NULL when n is 0). A counter's value is printed as an integer, exactly. */
void fg_metrics_u64(struct fg_metrics *m, const struct fg_metric_label *labels, size_t n, uint64_t value);
/* The same for a value that is not an integer (seconds, ratios): the shortest text that
 * reads back as the same double; +Inf, -Inf and NaN as the format spells them. */
void fg_metrics_f64(struct fg_metrics *m, const struct fg_metric_label *labels, size_t n, double value);
/* A family with one unlabelled sample, in one call. */
void fg_metrics_one_u64(struct fg_metrics *m, const char *name, enum fg_metric_type type, const char *help,
			uint64_t value);
void fg_metrics_one_f64(struct fg_metrics *m, const char *name, enum fg_metric_type type, const char *help,
			double value);

/* Whether s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name. */
bool fg_metrics_name_ok(const char *s);
bool fg_metrics_label_name_ok(const char *s);

/*
 * The data plane's STATS_REPLY as fastgate_dataplane_* and fastgate_lcore_* families:
 * handshakes, cookies, keepalives, roams, drops by reason, per-lcore packets and bytes (by
 * interface nic|tun and direction rx|tx), decrypted and encrypted packets, polls, busy polls
 * and, when tsc_hz is known, busy and total seconds; the connection table (NAT), flows and
 * p2p control; peers, workers and an info sample with the AEAD backend and dp_version (the
 * data plane's HELLO). Worker w is lcore="worker<w>", the service lcore lcore="service".
 * The reply is read as untrusted: drop names end at their NUL or their 32nd byte, and
 * n_drops and workers are bounded by the arrays.
 */
void fg_metrics_stats_reply(struct fg_metrics *m, const struct fg_ctl_stats_reply *st, const char *dp_version);

#endif
