/* SPDX-License-Identifier: MIT */
/*
 * The flow-log uploader, as the Rust gateway's flow-log-upload: every upload interval (1 s
 * while a backlog remains, at once when a directory holds a full batch) a pass prunes the
 * spool and sends one batch per authorization directory, oldest first: POST
 * {"flow_logs":[...]} with that authorization's Bearer token. The answer decides (Rust's
 * classify_response): 2xx deletes the batch; 408, 5xx and no answer retry it with
 * exponential backoff (0.5 s growing 1.5 times, jittered, at most 60 s apart) for up to 5
 * minutes, then leave it for the next pass; 429 waits Retry-After (or 1 s) without spending
 * that budget; 413 halves the batch (a single segment too large stays spooled); 301, 302,
 * 307 and 308 are followed (https on port 443 only, at most 5); any other answer (4xx)
 * keeps the batch on disk for a later pass, with a warning: the portal stored nothing, and
 * the token's expiry bounds the wait (the pass's prune then drops the directory, counted).
 * One request at a time. Control plane thread only.
 */
#ifndef FG_FLOW_UPLOAD_H
#define FG_FLOW_UPLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct fg_loop;
struct fg_flow_spool;

enum {
	FG_FLOW_BATCH_DEFAULT = 1000,    /* init's upload_batch_size 0 */
	FG_FLOW_BATCH_MAX = 10000,       /* the portal's per-request limit */
	FG_FLOW_CATCHUP_MS = 1000,
	FG_FLOW_MAX_REDIRECTS = 5,
};

struct fg_flow_upload_stats {
	uint64_t uploaded;         /* reports the portal stored */
	uint64_t batches;          /* batches it stored */
	uint64_t requests;
	uint64_t failures;         /* requests without a 2xx (retried, deferred or refused) */
	uint64_t refused;          /* of which answered 4xx (or another status kept for later) */
	int last_status;           /* 0: none yet, or no answer */
	uint64_t last_success;     /* unix s, 0: never */
};

struct fg_flow_upload;

/* Retry timing (tests shorten it): the first backoff, its ceiling and the whole budget. */
struct fg_flow_backoff {
	uint32_t initial_ms, max_interval_ms, max_elapsed_ms;
};

struct fg_flow_upload *fg_flow_upload_new(struct fg_loop *loop, struct fg_flow_spool *spool);
void fg_flow_upload_free(struct fg_flow_upload *u);
/* init's flow_logs: uploads on when interval_s > 0 and api_url is a valid http(s) URL
 * (otherwise -EINVAL with err saying why, and off); batch_size 0 is the default, above
 * FG_FLOW_BATCH_MAX the maximum. The first pass runs at once. */
int fg_flow_upload_configure(struct fg_flow_upload *u, const char *api_url, uint64_t interval_s, uint64_t batch_size,
			     char *err, size_t errlen);
bool fg_flow_upload_enabled(const struct fg_flow_upload *u);
unsigned fg_flow_upload_batch_size(const struct fg_flow_upload *u);
/* A directory holds a full batch: a pass now, unless one is running or the last one failed. */
void fg_flow_upload_nudge(struct fg_flow_upload *u);
void fg_flow_upload_set_backoff(struct fg_flow_upload *u, const struct fg_flow_backoff *b);
void fg_flow_upload_stats(const struct fg_flow_upload *u, struct fg_flow_upload_stats *out);
/* {"enabled","api_url","interval_s","batch_size","state","last_status","last_error",
 *  "last_success"} into o. */
void fg_flow_upload_json(const struct fg_flow_upload *u, cJSON *o);

#endif
