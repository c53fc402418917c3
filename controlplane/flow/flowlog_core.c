// SPDX-License-Identifier: MIT
/*
 * Flow logs (see flowlog.h): records to log lines, spool reports and counters; the ingest
 * tokens per authorization; the spool and the uploader switched on by init. A record's
 * path: checked, counted, attributed (the token table, else the client id from the ops),
 * logged, remembered for fastgatectl, spooled. Control plane thread only.
 */
#include "flowlog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "flowlog_priv.h"
#include "log.h"
#include "secmem.h"

static const char *const TAG = "fastgate.flow";

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* ---- the token table ------------------------------------------------------------------------ */

static unsigned bucket(const uint8_t pk[32], const char *resource_id)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < 32; i++)
		h = (h ^ pk[i]) * 16777619u;
	for (const char *c = resource_id; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	return h % FG_FLOWLOG_BUCKETS;
}

static struct fg_flowlog_tok *tok_find(struct fg_flowlog *f, const uint8_t pk[32], const char *resource_id)
{
	for (struct fg_flowlog_tok *t = f->buckets[bucket(pk, resource_id)]; t; t = t->next)
		if (!memcmp(t->public_key, pk, 32) && !strcmp(t->resource_id, resource_id))
			return t;
	return NULL;
}

static void tok_clear(struct fg_flowlog_tok *t)
{
	if (t->token) {
		sodium_memzero(t->token, strlen(t->token));
		free(t->token);
		t->token = NULL;
	}
	fg_flow_claims_free(&t->claims);
}

void fg_flowlog_authorize(struct fg_flowlog *f, const char *client_id, const uint8_t public_key[32],
			  const char *resource_id, const char *token)
{
	struct fg_flowlog_tok *t = tok_find(f, public_key, resource_id);
	char err[160];

	if (!t) {
		unsigned b = bucket(public_key, resource_id);

		t = calloc(1, sizeof(*t));
		if (!t) {
			fg_warn(TAG, "flow logs: out of memory for the ingest token of client %s", client_id);
			return;
		}
		memcpy(t->public_key, public_key, 32);
		snprintf(t->resource_id, sizeof(t->resource_id), "%s", resource_id);
		t->next = f->buckets[b];
		f->buckets[b] = t;
		f->ntokens++;
	}
	snprintf(t->client_id, sizeof(t->client_id), "%s", client_id);
	t->gone_at = 0;
	if (t->token && token && fg_secmem_str_equal(t->token, token))
		return;
	tok_clear(t);
	if (!token)
		return;
	t->token = strdup(token);
	if (!t->token)
		return;
	if (fg_flow_token_parse(token, &t->claims, err, sizeof(err)) < 0)
		fg_debug(TAG, "client %s, resource %s: %s (its flows are logged without attribution and not "
			 "uploaded)", client_id, resource_id, err);
}

/* Tokens of authorizations that went are wiped once their flows had time to complete. */
static void sweep(struct fg_timer *timer)
{
	struct fg_flowlog *f = timer->ctx;
	uint64_t now = mono_s();

	for (unsigned b = 0; b < FG_FLOWLOG_BUCKETS; b++) {
		struct fg_flowlog_tok **pp = &f->buckets[b];

		while (*pp) {
			struct fg_flowlog_tok *t = *pp;

			if (!t->gone_at && f->ops.authorized && !f->ops.authorized(f->ctx, t->client_id, t->resource_id))
				t->gone_at = now;
			if (t->gone_at && now - t->gone_at >= FG_FLOWLOG_TOKEN_GRACE_S) {
				*pp = t->next;
				tok_clear(t);
				free(t);
				f->ntokens--;
				continue;
			}
			pp = &t->next;
		}
	}
	fg_loop_timer(&f->sweep_timer, (uint64_t)FG_FLOWLOG_SWEEP_S * 1000000u);
}

/* ---- set-up ---------------------------------------------------------------------------------- */

static void flush_fired(struct fg_timer *t)
{
	struct fg_flowlog *f = t->ctx;

	if (f->spool)
		fg_flow_spool_flush(f->spool);
}

static uint64_t env_max_bytes(void)
{
	const char *v = getenv("FASTGATE_FLOW_LOG_MAX_MB");
	char *end = NULL;
	unsigned long long mb;

	if (!v || !*v)
		return (uint64_t)FG_FLOWLOG_DEFAULT_MAX_MB << 20;
	mb = strtoull(v, &end, 10);
	if (*end || !mb || mb > (1ull << 24)) {
		fg_warn(TAG, "FASTGATE_FLOW_LOG_MAX_MB '%.40s' is not a size in MiB (1-16777216); using %d",
			v, FG_FLOWLOG_DEFAULT_MAX_MB);
		return (uint64_t)FG_FLOWLOG_DEFAULT_MAX_MB << 20;
	}
	return (uint64_t)mb << 20;
}

struct fg_flowlog *fg_flowlog_new(struct fg_loop *loop, const struct fg_flowlog_config *cfg,
				  const struct fg_flowlog_ops *ops, void *ctx)
{
	struct fg_flowlog *f = calloc(1, sizeof(*f));
	const char *dir = cfg->dir;

	if (!f)
		return NULL;
	if (!dir || !*dir)
		dir = getenv("FASTGATE_FLOW_LOG_DIR");
	if (!dir || !*dir)
		dir = FG_FLOWLOG_DEFAULT_DIR;
	if (strlen(dir) >= sizeof(f->dir)) {
		free(f);
		errno = ENAMETOOLONG;
		return NULL;
	}
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	f->max_bytes = cfg->max_bytes ? cfg->max_bytes : env_max_bytes();
	f->log_lines = cfg->log_lines;
	f->loop = loop;
	f->ops = *ops;
	f->ctx = ctx;
	fg_timer_init(&f->flush_timer, loop, flush_fired, f);
	fg_timer_init(&f->sweep_timer, loop, sweep, f);
	fg_loop_timer(&f->sweep_timer, (uint64_t)FG_FLOWLOG_SWEEP_S * 1000000u);
	return f;
}

void fg_flowlog_free(struct fg_flowlog *f)
{
	if (!f)
		return;
	fg_loop_timer(&f->flush_timer, 0);
	fg_loop_timer(&f->sweep_timer, 0);
	fg_flow_upload_free(f->upload);
	fg_flow_spool_close(f->spool);   /* flushes */
	for (unsigned b = 0; b < FG_FLOWLOG_BUCKETS; b++)
		while (f->buckets[b]) {
			struct fg_flowlog_tok *t = f->buckets[b];

			f->buckets[b] = t->next;
			tok_clear(t);
			free(t);
		}
	free(f);
}

/* The spool and the uploader, once: false (warned once per cause) when the directory is
 * not usable. */
static bool open_spool(struct fg_flowlog *f)
{
	char err[sizeof(f->spool_error)];

	if (f->spool && f->upload)
		return true;
	if (!f->spool)
		f->spool = fg_flow_spool_open(f->dir, f->max_bytes, err, sizeof(err));
	if (f->spool && !f->upload && !(f->upload = fg_flow_upload_new(f->loop, f->spool)))
		snprintf(err, sizeof(err), "out of memory");
	if (f->spool && f->upload) {
		f->spool_error[0] = '\0';
		fg_info(TAG, "flow log spool %s (at most %" PRIu64 " MiB)", f->dir, f->max_bytes >> 20);
		return true;
	}
	f->spool_failed_at = mono_s();
	if (strcmp(err, f->spool_error)) {
		snprintf(f->spool_error, sizeof(f->spool_error), "%s", err);
		fg_warn(TAG, "flow logs are not uploaded: %s (FASTGATE_FLOW_LOG_DIR must be writable by the "
			"control plane's user)", err);
	}
	return false;
}

/* The spool and the uploader for init's settings. A directory that failed is tried again
 * at most once a minute. */
static bool activate(struct fg_flowlog *f)
{
	char err[sizeof(f->config_error)];

	if (f->upload && fg_flow_upload_enabled(f->upload))
		return true;
	if (!f->spool && f->spool_failed_at && mono_s() - f->spool_failed_at < FG_FLOWLOG_RETRY_S)
		return false;
	if (!open_spool(f))
		return false;
	if (fg_flow_upload_configure(f->upload, f->api_url, f->interval_s, f->batch_size, err, sizeof(err)) < 0) {
		fg_warn(TAG, "flow logs are not uploaded: %s", err);
		return false;
	}
	return true;
}

void fg_flowlog_configure(struct fg_flowlog *f, bool present, const char *api_url, uint64_t interval_s,
			  uint64_t batch_size)
{
	char err[sizeof(f->config_error)] = "";
	struct fg_flow_url url;
	bool was = f->uploads;
	struct stat st;

	f->configured = true;
	f->uploads = false;
	if (present && interval_s) {
		if (fg_flow_url_parse(api_url, &url, err, sizeof(err)) == 0) {
			f->uploads = true;
			snprintf(f->api_url, sizeof(f->api_url), "%s", api_url);
			f->interval_s = interval_s;
			f->batch_size = batch_size;
		} else if (strcmp(err, f->config_error)) {
			fg_warn(TAG, "flow logs are not uploaded: %s", err);
		}
	}
	snprintf(f->config_error, sizeof(f->config_error), "%s", err);
	/* The spool opens at once when it exists (reports of an earlier run wait there), else
	 * with the first report to spool: a gateway whose clients upload nothing writes nothing. */
	if (f->uploads && (f->spool || (stat(f->dir, &st) == 0 && S_ISDIR(st.st_mode)))) {
		if (f->upload)
			(void)fg_flow_upload_configure(f->upload, NULL, 0, 0, NULL, 0);  /* the new settings */
		(void)activate(f);
	} else if (!f->uploads && f->upload) {
		(void)fg_flow_upload_configure(f->upload, NULL, 0, 0, NULL, 0);
	}
	if (f->uploads != was)
		fg_info(TAG, "flow log uploads %s", f->uploads ? "on" : "off");
	f->tracking = f->uploads || f->log_lines;
	if (f->ops.tracking)
		f->ops.tracking(f->ctx, f->tracking);
}

void fg_flowlog_set_local(struct fg_flowlog *f, const struct fg_ip *ip4, const struct fg_ip *ip6, uint16_t port)
{
	f->local.ip4 = *ip4;
	f->local.ip6 = *ip6;
	f->local.port = port;
}

bool fg_flowlog_tracking(const struct fg_flowlog *f)
{
	return f->tracking;
}

/* ---- records -------------------------------------------------------------------------------- */

static void spool(struct fg_flowlog *f, const struct fg_ctl_flow *m, const struct fg_flowlog_tok *t,
		  const struct fg_flow_ctx *c)
{
	char payload[FG_FLOW_PAYLOAD_MAX];
	int n, total;

	if (!t || !t->token || !t->claims.valid || !t->claims.uploads_enabled) {
		f->c.unattributed++;
		return;
	}
	if (!activate(f)) {
		f->c.unspooled++;
		return;
	}
	n = fg_flow_payload(m, c, payload, sizeof(payload));
	if (n < 0) {
		f->c.malformed++;
		return;
	}
	total = fg_flow_spool_add(f->spool, &t->claims, t->token, payload, (size_t)n);
	if (total >= (int)fg_flow_upload_batch_size(f->upload))
		fg_flow_upload_nudge(f->upload);
	if (fg_flow_spool_pending(f->spool))
		fg_loop_timer(&f->flush_timer, (uint64_t)FG_FLOWLOG_FLUSH_MS * 1000);
}

void fg_flowlog_on_flow(struct fg_flowlog *f, const struct fg_ctl_flow *m)
{
	const struct fg_flowlog_tok *t;
	struct fg_flow_ctx c = { .local = &f->local };
	char client_id[FG_CTL_ID_LEN];
	int rc = fg_flow_check(m);

	if (rc == -EINVAL) {
		f->c.malformed++;
		fg_debug(TAG, "a malformed flow record from the data plane ignored");
		return;
	}
	if (rc < 0 || !f->tracking) {
		f->c.ignored++;
		return;
	}
	if (m->kind == FG_CTL_FLOW_STARTED)
		f->c.started++;
	else
		f->c.completed++;
	t = tok_find(f, m->public_key, m->resource_id);
	if (t) {
		c.client_id = t->client_id;
		c.claims = &t->claims;
	} else if (f->ops.client_id && f->ops.client_id(f->ctx, m->public_key, client_id, sizeof(client_id))) {
		c.client_id = client_id;
	}
	if (m->real.family && f->ops.domain)
		c.domain = f->ops.domain(f->ctx, m->public_key, &m->dst);
	if (f->log_lines)
		fg_flow_log(m, &c);
	fg_flowlog_remember(f, m, c.client_id, c.domain);
	if (f->uploads)
		spool(f, m, t, &c);
}
