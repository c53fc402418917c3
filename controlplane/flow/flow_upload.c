// SPDX-License-Identifier: MIT
/*
 * The uploader's passes and batches (see flow_upload.h). States: idle between passes (the
 * pass timer armed), sending (a POST in flight), waiting (a backoff or Retry-After before
 * the same batch goes again). The batch in flight and its directory's token stay in memory
 * only for its lifetime; the token is wiped when it ends. Control plane thread only.
 */
#include "flow_upload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "flow_http.h"
#include "flow_spool.h"
#include "log.h"
#include "loop.h"

static const char *const TAG = "fastgate.flow";

enum state {
	IDLE = 0,
	SENDING,
	WAITING,
};

struct fg_flow_upload {
	struct fg_loop *loop;
	struct fg_flow_spool *spool;
	struct fg_flow_http *http;
	struct fg_timer timer;           /* the next pass, or the next try of the batch */
	bool enabled;
	struct fg_flow_url base;
	uint64_t interval_ms;
	unsigned batch_size;
	struct fg_flow_backoff bo;
	enum state state;
	/* the pass */
	bool in_pass, backlog, last_failed;
	char (*dirs)[FG_FLOW_UUID_LEN];
	unsigned ndirs, next_dir;
	/* the batch */
	bool have_batch;
	struct fg_flow_batch batch;
	unsigned max_records;
	unsigned split_left;             /* reports of a split batch not yet stored */
	struct fg_flow_url url;          /* base, or where redirects led */
	unsigned redirects;
	uint64_t backoff_ms, failing_since;
	char token[FG_FLOW_TOKEN_MAX + 1];
	struct fg_flow_upload_stats st;
	char last_error[200];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void arm(struct fg_flow_upload *u, uint64_t ms)
{
	fg_loop_timer(&u->timer, ms ? ms * 1000 : 1);
}

static void pass_next(struct fg_flow_upload *u);

/* The batch is over: its segments deleted (stored) or kept. */
static void batch_end(struct fg_flow_upload *u, bool stored)
{
	if (u->have_batch)
		fg_flow_spool_done(u->spool, &u->batch, stored);
	u->have_batch = false;
	sodium_memzero(u->token, sizeof(u->token));
}

static void pass_end(struct fg_flow_upload *u, bool failed)
{
	batch_end(u, false);
	free(u->dirs);
	u->dirs = NULL;
	u->ndirs = u->next_dir = 0;
	u->in_pass = false;
	u->last_failed = failed;
	u->state = IDLE;
	if (u->enabled)
		arm(u, u->backlog && !failed ? FG_FLOW_CATCHUP_MS : u->interval_ms);
}

static void send_batch(struct fg_flow_upload *u)
{
	int rc = fg_flow_http_post(u->http, &u->url, u->token, u->batch.body, u->batch.len);

	if (rc < 0) {
		snprintf(u->last_error, sizeof(u->last_error), "cannot send: %s", strerror(-rc));
		batch_end(u, false);
		pass_next(u);
		return;
	}
	u->st.requests++;
	u->state = SENDING;
}

/* Loads the next batch of directory id: 1 (sent), 0 (nothing there). */
static int load(struct fg_flow_upload *u, const char *id)
{
	int rc = fg_flow_spool_token(u->spool, id, u->token, sizeof(u->token));

	if (rc < 0) {
		/* The pass's prune removes a directory that keeps lacking its token. */
		fg_debug(TAG, "flow log upload: authorization %s has no usable token (%s)", id, strerror(-rc));
		return 0;
	}
	rc = fg_flow_spool_batch(u->spool, id, u->max_records, &u->batch);
	if (rc <= 0) {
		sodium_memzero(u->token, sizeof(u->token));
		return 0;
	}
	u->have_batch = true;
	u->url = u->base;
	u->redirects = 0;
	u->backoff_ms = 0;
	u->failing_since = 0;
	send_batch(u);
	return 1;
}

static void pass_next(struct fg_flow_upload *u)
{
	while (u->enabled && u->next_dir < u->ndirs) {
		u->max_records = u->batch_size;
		u->split_left = 0;
		if (load(u, u->dirs[u->next_dir++]))
			return;
	}
	pass_end(u, false);
}

static void pass_start(struct fg_flow_upload *u)
{
	struct timespec ts;

	if (!u->enabled || u->in_pass)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	fg_flow_spool_prune(u->spool, (uint64_t)ts.tv_sec);
	fg_flow_spool_flush(u->spool);
	u->in_pass = true;
	u->backlog = false;
	u->dirs = fg_flow_spool_dirs(u->spool, &u->ndirs);
	u->next_dir = 0;
	pass_next(u);
}

static void timer_fired(struct fg_timer *t)
{
	struct fg_flow_upload *u = t->ctx;

	if (u->state == WAITING && !u->enabled) {
		pass_end(u, false);
	} else if (u->state == WAITING) {
		u->state = SENDING;
		send_batch(u);
	} else if (u->state == IDLE) {
		pass_start(u);
	}
}

/* The next wait of the backoff (Rust's backoff crate: 0.5 s times 1.5 per try, +-50%
 * jitter, at most max_interval), or 0 when the batch has been failing too long. */
static uint64_t next_backoff(struct fg_flow_upload *u)
{
	uint64_t now = now_ms(), wait;

	if (!u->failing_since)
		u->failing_since = now;
	if (now - u->failing_since >= u->bo.max_elapsed_ms)
		return 0;
	u->backoff_ms = u->backoff_ms ? u->backoff_ms * 3 / 2 : u->bo.initial_ms;
	if (u->backoff_ms > u->bo.max_interval_ms)
		u->backoff_ms = u->bo.max_interval_ms;
	wait = u->backoff_ms / 2 + randombytes_uniform((uint32_t)u->backoff_ms + 1);
	return wait ? wait : 1;
}

static void failed(struct fg_flow_upload *u, const struct fg_flow_http_result *r)
{
	char url[FG_FLOW_URL_LEN + 16];

	u->st.failures++;
	fg_flow_url_format(&u->url, url, sizeof(url));
	if (r->status)
		snprintf(u->last_error, sizeof(u->last_error), "HTTP %d from %.160s", r->status, url);
	else
		snprintf(u->last_error, sizeof(u->last_error), "%.100s: %.90s", url, r->why);
}

static void on_retry(struct fg_flow_upload *u, const struct fg_flow_http_result *r)
{
	uint64_t wait = next_backoff(u);

	if (!wait) {
		fg_warn(TAG, "flow log upload: %s; %u report(s) of authorization %s stay spooled for the next pass",
			u->last_error, u->batch.records, u->batch.authz_id);
		pass_end(u, true);
		return;
	}
	if (u->backoff_ms == u->bo.initial_ms)
		fg_info(TAG, "flow log upload failed (%s); retrying with backoff", u->last_error);
	(void)r;
	u->state = WAITING;
	arm(u, wait);
}

static void on_partition(struct fg_flow_upload *u)
{
	if (u->batch.nsegs > 1) {
		char id[FG_FLOW_UUID_LEN];

		memcpy(id, u->batch.authz_id, sizeof(id));
		if (!u->split_left)
			u->split_left = u->batch.records;
		u->max_records = u->batch.records / 2 ? u->batch.records / 2 : 1;
		fg_flow_spool_done(u->spool, &u->batch, false);
		u->have_batch = false;
		fg_debug(TAG, "flow log upload: batch too large; trying %u report(s)", u->max_records);
		if (fg_flow_spool_batch(u->spool, id, u->max_records, &u->batch) <= 0) {
			batch_end(u, false);
			pass_next(u);
			return;
		}
		u->have_batch = true;
		send_batch(u);
		return;
	}
	fg_warn(TAG, "flow log upload: a segment of %u report(s) exceeds the upload size limit; keeping it",
		u->batch.records);
	batch_end(u, false);
	pass_next(u);
}

static void on_redirect(struct fg_flow_upload *u, const struct fg_flow_http_result *r)
{
	struct fg_flow_url to;
	char from[FG_FLOW_URL_LEN + 16], dst[FG_FLOW_URL_LEN + 16];

	fg_flow_url_format(&u->url, from, sizeof(from));
	if (u->redirects >= FG_FLOW_MAX_REDIRECTS || fg_flow_redirect(&u->url, r->location, &to) < 0) {
		fg_warn(TAG, "flow log upload: HTTP %d from %s to '%.200s' not followed (%s); keeping the batch",
			r->status, from, r->location, u->redirects >= FG_FLOW_MAX_REDIRECTS ? "too many redirects" :
			"only https on port 443 is followed");
		batch_end(u, false);
		pass_next(u);
		return;
	}
	fg_info(TAG, "flow log upload: following a redirect from %s to %s", from, fg_flow_url_format(&to, dst, sizeof(dst)));
	u->url = to;
	u->redirects++;
	send_batch(u);
}

static void http_done(void *ctx, const struct fg_flow_http_result *r)
{
	struct fg_flow_upload *u = ctx;
	enum fg_flow_action a = fg_flow_classify(r->status);

	u->st.last_status = r->status;
	if (!u->have_batch) {
		pass_end(u, false);
		return;
	}
	if (a == FG_FLOW_STORED) {
		unsigned stored = u->batch.records;

		u->st.uploaded += u->batch.records;
		u->st.batches++;
		u->st.last_success = (uint64_t)time(NULL);
		u->last_error[0] = '\0';
		fg_debug(TAG, "flow log upload: %u report(s) of authorization %s stored", u->batch.records,
			 u->batch.authz_id);
		batch_end(u, true);
		/* The rest of a split batch goes now, as Rust submits both halves. */
		if (u->split_left > stored && load(u, u->dirs[u->next_dir - 1])) {
			u->split_left -= stored;
			return;
		}
		u->split_left = 0;
		/* What is left of the directory waits for the catch-up pass (1 s). */
		if (fg_flow_spool_dir_records(u->spool, u->dirs[u->next_dir - 1]))
			u->backlog = true;
		pass_next(u);
		return;
	}
	failed(u, r);
	if (!u->enabled) {
		pass_end(u, false);
		return;
	}
	switch (a) {
	case FG_FLOW_RETRY:
		on_retry(u, r);
		break;
	case FG_FLOW_RATE_LIMITED:
		u->state = WAITING;
		arm(u, r->has_retry_after ? (uint64_t)r->retry_after_s * 1000 : FG_FLOW_CATCHUP_MS);
		break;
	case FG_FLOW_PARTITION:
		on_partition(u);
		break;
	case FG_FLOW_REDIRECT:
		on_redirect(u, r);
		break;
	default:
		u->st.refused++;
		fg_warn(TAG, "flow log upload refused: %s (%.120s); %u report(s) of authorization %s stay spooled",
			u->last_error, r->body, u->batch.records, u->batch.authz_id);
		batch_end(u, false);
		pass_next(u);
		break;
	}
}

struct fg_flow_upload *fg_flow_upload_new(struct fg_loop *loop, struct fg_flow_spool *spool)
{
	struct fg_flow_upload *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->loop = loop;
	u->spool = spool;
	u->http = fg_flow_http_new(loop, http_done, u);
	if (!u->http) {
		free(u);
		return NULL;
	}
	u->bo = (struct fg_flow_backoff){ 500, 60000, 300000 };
	u->batch_size = FG_FLOW_BATCH_DEFAULT;
	fg_timer_init(&u->timer, loop, timer_fired, u);
	return u;
}

void fg_flow_upload_free(struct fg_flow_upload *u)
{
	if (!u)
		return;
	fg_loop_timer(&u->timer, 0);
	fg_flow_http_free(u->http);
	batch_end(u, false);
	free(u->dirs);
	free(u);
}

int fg_flow_upload_configure(struct fg_flow_upload *u, const char *api_url, uint64_t interval_s, uint64_t batch_size,
			     char *err, size_t errlen)
{
	struct fg_flow_url url;
	bool was = u->enabled;

	if (err && errlen)
		err[0] = '\0';
	u->enabled = false;
	if (!interval_s) {
		if (!u->in_pass)
			fg_loop_timer(&u->timer, 0);
		return 0;
	}
	if (fg_flow_url_parse(api_url, &url, err, errlen) < 0) {
		if (!u->in_pass)
			fg_loop_timer(&u->timer, 0);
		return -EINVAL;
	}
	u->base = url;
	u->interval_ms = interval_s > UINT32_MAX ? (uint64_t)UINT32_MAX * 1000 : interval_s * 1000;
	u->batch_size = !batch_size ? FG_FLOW_BATCH_DEFAULT :
			batch_size > FG_FLOW_BATCH_MAX ? FG_FLOW_BATCH_MAX : (unsigned)batch_size;
	fg_flow_spool_set_segment(u->spool, u->batch_size);
	u->enabled = true;
	if (!u->in_pass && (!was || u->state == IDLE))
		arm(u, 0);
	return 0;
}

bool fg_flow_upload_enabled(const struct fg_flow_upload *u)
{
	return u->enabled;
}

unsigned fg_flow_upload_batch_size(const struct fg_flow_upload *u)
{
	return u->batch_size;
}

void fg_flow_upload_nudge(struct fg_flow_upload *u)
{
	if (u->enabled && !u->in_pass && !u->last_failed)
		arm(u, 0);
}

void fg_flow_upload_set_backoff(struct fg_flow_upload *u, const struct fg_flow_backoff *b)
{
	u->bo = *b;
}

void fg_flow_upload_stats(const struct fg_flow_upload *u, struct fg_flow_upload_stats *out)
{
	*out = u->st;
}

void fg_flow_upload_json(const struct fg_flow_upload *u, cJSON *o)
{
	static const char *const states[] = { [IDLE] = "idle", [SENDING] = "sending", [WAITING] = "backoff" };
	char url[FG_FLOW_URL_LEN + 16];

	cJSON_AddBoolToObject(o, "enabled", u->enabled);
	if (u->enabled)
		cJSON_AddStringToObject(o, "url", fg_flow_url_format(&u->base, url, sizeof(url)));
	else
		cJSON_AddNullToObject(o, "url");
	cJSON_AddNumberToObject(o, "interval_s", (double)(u->interval_ms / 1000));
	cJSON_AddNumberToObject(o, "batch_size", u->batch_size);
	cJSON_AddStringToObject(o, "state", states[u->state]);
	if (u->st.last_status)
		cJSON_AddNumberToObject(o, "last_status", u->st.last_status);
	else
		cJSON_AddNullToObject(o, "last_status");
	if (u->last_error[0])
		cJSON_AddStringToObject(o, "last_error", u->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	if (u->st.last_success)
		cJSON_AddNumberToObject(o, "last_success", (double)u->st.last_success);
	else
		cJSON_AddNullToObject(o, "last_success");
}
