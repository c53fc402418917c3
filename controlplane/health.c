// SPDX-License-Identifier: MIT
/*
 * Health-check HTTP server (see health.h): routes /healthz, /readyz and /metrics and writes
 * each answer in chunks as the socket takes them. Control plane thread only.
 */
#include "health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "addr.h"
#include "log.h"
#include "metrics.h"

static const char *const TAG = "fastgate.health";

/* One connection's answer being written (lws' per-session data; a keep-alive connection
 * reuses it for its next request). */
struct reply {
	unsigned status;
	const char *type;        /* Content-Type */
	const char *text;        /* the body: a literal, or body */
	char *body;              /* heap: a /metrics text */
	size_t len, off;         /* its length, and how much of it the socket took */
	bool counted;            /* one of the health's writing */
};

static void release(struct fg_health *h, struct reply *r)
{
	free(r->body);
	r->body = NULL;
	r->text = NULL;
	if (r->counted) {
		r->counted = false;
		h->writing--;
	}
}

/* The answer to uri: a literal, or the owner's /metrics text (built now, from what the
 * owner holds: nothing here waits). */
static void route(struct fg_health *h, struct reply *r, const char *uri)
{
	static const char ok[] = "ok\n", missing[] = "not found\n",
			  busy[] = "too many /metrics answers are being written; try again\n",
			  nomem[] = "out of memory\n";

	r->off = 0;
	r->type = "text/plain";
	if (strcmp(uri, "/healthz") == 0 || strcmp(uri, "/readyz") == 0) {
		r->status = 200;
		r->text = ok;
	} else if (strcmp(uri, "/metrics") != 0 || !h->ops) {
		r->status = 404;
		r->text = missing;
	} else if (h->writing >= FG_HEALTH_METRICS_MAX) {
		r->status = 503;
		r->text = busy;
		h->refused++;
	} else {
		h->scrapes++;
		r->body = h->ops->metrics(h->ctx, &r->len);
		if (r->body) {
			r->status = 200;
			r->type = FG_METRICS_CONTENT_TYPE;
			r->text = r->body;
			r->counted = true;
			h->writing++;
			return;
		}
		r->status = 503;
		r->text = nomem;
		h->refused++;
	}
	r->len = strlen(r->text);
}

/* The next chunk of the answer; the last one completes the transaction. Non-zero closes the
 * connection. lws calls this again only once the socket took what it was given. */
static int write_chunk(struct lws *wsi, struct fg_health *h, struct reply *r)
{
	uint8_t chunk[LWS_PRE + FG_HEALTH_CHUNK];
	size_t n = r->len - r->off;
	bool last;

	if (!r->text)
		return 0;
	n = n < FG_HEALTH_CHUNK ? n : FG_HEALTH_CHUNK;
	last = r->off + n == r->len;
	memcpy(&chunk[LWS_PRE], r->text + r->off, n);
	if (lws_write(wsi, &chunk[LWS_PRE], n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	r->off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	release(h, r);
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int health_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct reply *r = user;
	struct fg_health *h = lws_vhost_user(lws_get_vhost(wsi));
	uint8_t buf[LWS_PRE + 512], *start = &buf[LWS_PRE], *p = start, *end = &buf[sizeof(buf) - 1];

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (!r || !h)
			return -1;
		release(h, r);
		route(h, r, in ? (const char *)in : "");
		if (lws_add_http_common_headers(wsi, r->status, r->type, r->len, &p, end) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return 1;
		if (r->counted)
			lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, FG_HEALTH_WRITE_TIMEOUT_S);
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return r && h ? write_chunk(wsi, h, r) : -1;
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (r && h)
			release(h, r);
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ .name = "fg-health", .callback = health_cb, .per_session_data_size = sizeof(struct reply) },
	{ 0 },
};

int fg_health_start(struct fg_health *h, struct lws_context *ctx, const char *addr,
		    const struct fg_health_ops *ops, void *ops_ctx)
{
	struct lws_context_creation_info info;
	struct fg_endpoint ep;

	if (fg_endpoint_parse(addr, &ep) < 0) {
		fg_warn(TAG, "HEALTH_CHECK_ADDR '%s' is not ip:port", addr);
		return -EINVAL;
	}
	memset(h, 0, sizeof(*h));
	h->ops = ops;
	h->ctx = ops_ctx;
	memset(&info, 0, sizeof(info));
	fg_ip_format(&ep.ip, h->iface, sizeof(h->iface));
	info.vhost_name = "health";
	info.port = ep.port;
	info.iface = h->iface;
	info.protocols = protocols;
	info.user = h;
	if (!lws_create_vhost(ctx, &info)) {
		fg_warn(TAG, "cannot listen on %s for health checks", addr);
		return -EADDRINUSE;
	}
	fg_info(TAG, "health checks on http://%s/healthz and /readyz%s", addr, ops ? ", metrics on /metrics" : "");
	return 0;
}
