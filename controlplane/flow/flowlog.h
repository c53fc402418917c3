/* SPDX-License-Identifier: MIT */
/*
 * Flow logs, the control plane's half (the data plane tracks the flows and sends a
 * FG_CTL_FLOW record when one starts and when it completes). Each record of a TCP or UDP
 * flow becomes, as in the Rust gateway:
 *   - a log line (INFO, target flow_logs, "TCP flow started" ... "UDP flow completed", the
 *     token's attribution claims and the record's fields) when the operator asked for them
 *     (FIREZONE_FLOW_LOGS / --flow-logs, as Rust's flag that adds flow_logs=trace);
 *   - a report in the spool (flow_spool.h) when init's flow_logs enables uploads and the
 *     authorization's ingest token says uploads_enabled, uploaded by flow_upload.h;
 *   - counters and the recent flows (live ones, the last completed) for fastgatectl flows.
 * ICMP flows are neither logged nor uploaded (Rust tracks none). The data plane tracks every
 * flow while tracking is on (init enabled uploads, or the operator's flag): the owner tells
 * it through the tracking op (FG_CTL_FLOWS_SET) after each init and HELLO. Ingest tokens are
 * kept per authorization (client key, resource) from create_authorization on, and wiped a
 * while after the authorization went (a flow's completion may come after it). The rest of
 * the control plane is reached through ops, so this module depends on nothing of it.
 * Control plane thread only.
 */
#ifndef FG_FLOWLOG_H
#define FG_FLOWLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "addr.h"
#include "ctlproto.h"

struct fg_loop;
struct fg_flowlog;

#define FG_FLOWLOG_DEFAULT_DIR "/var/lib/fastgate/flow_logs"

enum {
	FG_FLOWLOG_DEFAULT_MAX_MB = 64,   /* the spool's bound (FASTGATE_FLOW_LOG_MAX_MB) */
	FG_FLOWLOG_LIVE_MAX = 256,        /* live flows kept for fastgatectl (the newest) */
	FG_FLOWLOG_COMPLETED_MAX = 64,    /* completed flows kept for fastgatectl (the last) */
	FG_FLOWLOG_TOKEN_GRACE_S = 180,   /* a gone authorization's token stays this long */
	FG_FLOWLOG_FLUSH_MS = 1000,       /* reports wait in memory at most this long */
	FG_FLOWLOG_SWEEP_S = 30,          /* how often gone authorizations are looked for */
	FG_FLOWLOG_RETRY_S = 60,          /* an unusable spool directory is tried again after */
};

struct fg_flowlog_ops {
	/* The client id of a public key into out; false when unknown. */
	bool (*client_id)(void *ctx, const uint8_t public_key[32], char *out, size_t len);
	/* The domain of a DNS resource's proxy IP for this client, or NULL. */
	const char *(*domain)(void *ctx, const uint8_t public_key[32], const struct fg_ip *proxy);
	/* Whether the client still holds the resource. */
	bool (*authorized)(void *ctx, const char *client_id, const char *resource_id);
	/* Tracking of every flow went on or off (also called after each init). */
	void (*tracking)(void *ctx, bool on);
};

struct fg_flowlog_config {
	const char *dir;            /* the spool; NULL: FASTGATE_FLOW_LOG_DIR, else the default */
	uint64_t max_bytes;         /* 0: FASTGATE_FLOW_LOG_MAX_MB MiB, else the default */
	bool log_lines;             /* FIREZONE_FLOW_LOGS / --flow-logs */
};

/* Copies cfg (dir too). Opens nothing yet: the spool opens when init enables uploads and
 * the directory exists, else with the first report to spool. NULL + errno. */
struct fg_flowlog *fg_flowlog_new(struct fg_loop *loop, const struct fg_flowlog_config *cfg,
				  const struct fg_flowlog_ops *ops, void *ctx);
/* Writes the reports held in memory to the spool, wipes every token, frees. */
void fg_flowlog_free(struct fg_flowlog *f);
/* init: present when init carried flow_logs; uploads when interval_s > 0 and api_url is
 * an http(s) URL (a bad one is warned about and disables them). Calls the tracking op. */
void fg_flowlog_configure(struct fg_flowlog *f, bool present, const char *api_url, uint64_t interval_s,
			  uint64_t batch_size);
/* create_authorization: the client's token for the resource (token may be NULL). */
void fg_flowlog_authorize(struct fg_flowlog *f, const char *client_id, const uint8_t public_key[32],
			  const char *resource_id, const char *token);
/* The data plane's uplink addresses and WireGuard port (after each HELLO). */
void fg_flowlog_set_local(struct fg_flowlog *f, const struct fg_ip *ip4, const struct fg_ip *ip6, uint16_t port);
/* One FG_CTL_FLOW record (dpclient's on_flow). */
void fg_flowlog_on_flow(struct fg_flowlog *f, const struct fg_ctl_flow *m);
/* Whether the data plane should track every flow now. */
bool fg_flowlog_tracking(const struct fg_flowlog *f);
/* fastgatectl flows (schema in cpctl_server.h). */
cJSON *fg_flowlog_json(const struct fg_flowlog *f);

#endif
