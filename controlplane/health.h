/* SPDX-License-Identifier: MIT */
/*
 * HEALTH_CHECK_ADDR: /healthz and /readyz over HTTP, as the Firezone gateway serves them
 * (both 200 while the process runs). A libwebsockets HTTP vhost on the control plane's loop.
 */
#ifndef FG_HEALTH_H
#define FG_HEALTH_H

struct lws_context;

/* addr is "ip:port" (default 0.0.0.0:8080); 0 or -errno. */
int fg_health_start(struct lws_context *ctx, const char *addr);

#endif
