/* SPDX-License-Identifier: MIT */
/*
 * The flow log's context, shared by flowlog_core.c (records, tokens, spool and uploads) and
 * flowlog_view.c (the recent flows and fastgatectl's JSON). Private to controlplane/flow/.
 * Control plane thread only.
 */
#ifndef FG_FLOWLOG_PRIV_H
#define FG_FLOWLOG_PRIV_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "flow_http.h"
#include "flow_record.h"
#include "flow_spool.h"
#include "flow_token.h"
#include "flow_upload.h"
#include "flowlog.h"
#include "loop.h"

enum {
	FG_FLOWLOG_BUCKETS = 1024,        /* of the token table */
};

/* An authorization's ingest token, keyed by the client's key and the resource. */
struct fg_flowlog_tok {
	struct fg_flowlog_tok *next;
	uint8_t public_key[32];
	char client_id[FG_CTL_ID_LEN];
	char resource_id[FG_CTL_ID_LEN];
	char *token;                      /* heap secret, NULL when the portal sent none */
	struct fg_flow_claims claims;     /* !valid: not a JWT Rust would take */
	uint64_t gone_at;                 /* monotonic s its authorization went, 0 while held */
};

/* A flow kept for fastgatectl. */
struct fg_flowlog_recent {
	struct fg_ctl_flow m;
	char client_id[FG_CTL_ID_LEN];
	char domain[FG_CTL_DOMAIN_LEN];
};

struct fg_flowlog_counters {
	uint64_t started, completed;
	uint64_t ignored;                 /* ICMP, or while tracking was off */
	uint64_t malformed;               /* records that break ctlproto.h's rules */
	uint64_t unattributed;            /* uploads on, but no usable token: not spooled */
	uint64_t unspooled;               /* uploads on, but the spool directory is not usable */
	uint64_t live_evicted;            /* live flows pushed out of the view by newer ones */
};

struct fg_flowlog {
	struct fg_loop *loop;
	struct fg_flowlog_ops ops;
	void *ctx;
	char dir[PATH_MAX];
	uint64_t max_bytes;
	bool log_lines;
	bool configured, uploads, tracking;
	char config_error[200];           /* the last init's flow_logs problem, warned once */
	struct fg_flow_local local;
	char api_url[FG_FLOW_URL_LEN];    /* init's flow_logs, while uploads is on */
	uint64_t interval_s, batch_size;
	struct fg_flow_spool *spool;      /* opened when uploads need it (activate()) */
	struct fg_flow_upload *upload;
	char spool_error[200];
	uint64_t spool_failed_at;         /* monotonic s of the last failed open, 0: none */
	struct fg_timer flush_timer;
	struct fg_timer sweep_timer;
	struct fg_flowlog_tok *buckets[FG_FLOWLOG_BUCKETS];
	unsigned ntokens;
	struct fg_flowlog_counters c;
	struct fg_flowlog_recent live[FG_FLOWLOG_LIVE_MAX];
	unsigned nlive;
	struct fg_flowlog_recent done[FG_FLOWLOG_COMPLETED_MAX];
	unsigned done_head, ndone;        /* a ring: done_head is the next slot */
};

/* flowlog_view.c: the record joins the recent flows (client id and domain as logged). */
void fg_flowlog_remember(struct fg_flowlog *f, const struct fg_ctl_flow *m, const char *client_id,
			 const char *domain);

#endif
