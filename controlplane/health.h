/* SPDX-License-Identifier: MIT */
/*
 * HEALTH_CHECK_ADDR: /healthz and /readyz over HTTP, as the Firezone gateway serves them
 * (both 200 while the process runs), and /metrics, the Prometheus text the owner's ops build
 * (metrics.h). A libwebsockets HTTP vhost on the control plane's loop: a /metrics answer is
 * built at once from what the owner holds (never waiting on anything) and written in chunks
 * as the socket takes them, so a slow reader holds only its own answer; at most
 * FG_HEALTH_METRICS_MAX answers are being written at a time (more get 503), and one not
 * written within FG_HEALTH_WRITE_TIMEOUT_S is dropped. Owned by the control plane's thread.
 */
#ifndef FG_HEALTH_H
#define FG_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

struct lws_context;

enum {
	FG_HEALTH_METRICS_MAX = 64,       /* /metrics answers being written at a time */
	FG_HEALTH_WRITE_TIMEOUT_S = 30,   /* to write one whole answer */
	FG_HEALTH_CHUNK = 8192,           /* bytes handed to the socket per writable event */
};

struct fg_health_ops {
	/* The text of /metrics (heap, NUL-terminated, *len bytes without the NUL), for the
	 * caller to free(); NULL when out of memory (503). */
	char *(*metrics)(void *ctx, size_t *len);
};

/* Owned by the caller (struct fg_cp), alive as long as the lws context. */
struct fg_health {
	const struct fg_health_ops *ops;
	void *ctx;
	unsigned writing;                 /* /metrics answers being written */
	uint64_t scrapes;                 /* /metrics texts asked of the ops */
	uint64_t refused;                 /* /metrics answered 503 (too many, out of memory) */
	char iface[FG_ADDR_STRLEN];       /* the listening address, as lws keeps a pointer */
};

/* addr is "ip:port" (default 0.0.0.0:8080); ops may be NULL (/metrics is then 404).
 * 0 or -errno. */
int fg_health_start(struct fg_health *h, struct lws_context *ctx, const char *addr,
		    const struct fg_health_ops *ops, void *ops_ctx);

#endif
