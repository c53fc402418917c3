// SPDX-License-Identifier: MIT
/*
 * Health-check HTTP server (see health.h). Control plane thread only.
 */
#include "health.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "addr.h"
#include "log.h"

static const char *const TAG = "fastgate.health";

struct reply {
	int status;
};

static int health_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct reply *r = user;
	uint8_t buf[LWS_PRE + 512], *start = &buf[LWS_PRE], *p = start, *end = &buf[sizeof(buf) - 1];
	static const char ok[] = "ok\n", missing[] = "not found\n";

	switch (reason) {
	case LWS_CALLBACK_HTTP: {
		const char *uri = in;

		(void)len;
		r->status = (strcmp(uri, "/healthz") == 0 || strcmp(uri, "/readyz") == 0) ? 200 : 404;
		if (lws_add_http_common_headers(wsi, (unsigned)r->status, "text/plain",
						r->status == 200 ? sizeof(ok) - 1 : sizeof(missing) - 1, &p, end) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return 1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_HTTP_WRITEABLE: {
		const char *body = r->status == 200 ? ok : missing;
		size_t n = strlen(body);

		memcpy(start, body, n);
		if (lws_write(wsi, start, n, LWS_WRITE_HTTP_FINAL) != (int)n)
			return 1;
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	}
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ .name = "fg-health", .callback = health_cb, .per_session_data_size = sizeof(struct reply) },
	{ 0 },
};

int fg_health_start(struct lws_context *ctx, const char *addr)
{
	struct lws_context_creation_info info;
	struct fg_endpoint ep;
	static char iface[FG_ADDR_STRLEN];

	if (fg_endpoint_parse(addr, &ep) < 0) {
		fg_warn(TAG, "HEALTH_CHECK_ADDR '%s' is not ip:port", addr);
		return -EINVAL;
	}
	memset(&info, 0, sizeof(info));
	fg_ip_format(&ep.ip, iface, sizeof(iface));
	info.vhost_name = "health";
	info.port = ep.port;
	info.iface = iface;
	info.protocols = protocols;
	if (!lws_create_vhost(ctx, &info)) {
		fg_warn(TAG, "cannot listen on %s for health checks", addr);
		return -EADDRINUSE;
	}
	fg_info(TAG, "health checks on http://%s/healthz and /readyz", addr);
	return 0;
}
