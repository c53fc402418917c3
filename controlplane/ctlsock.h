/* SPDX-License-Identifier: MIT */
/*
 * fastgatectl's socket on the control plane's loop: accepts connections on the listening
 * socket, feeds them to the JSON-lines codec (ctl/cpctl_server.h) and answers from the
 * provider the control plane implements. Control plane thread only.
 */
#ifndef FG_CTLSOCK_H
#define FG_CTLSOCK_H

#include "cpctl_server.h"

struct fg_loop;
struct fg_watch;

/* Owned by the caller; fg_ctlsock_init() before start and stop. */
struct fg_ctlsock {
	struct fg_loop *loop;
	struct fg_cpctl_server srv; /* the listening socket (listen_fd -1 when closed) */
	char path[108];
	struct fg_watch *lw;
	const struct fg_cpctl_provider *provider;
	void *ctx;
};

void fg_ctlsock_init(struct fg_ctlsock *s);
/* 0 or -errno (-EADDRINUSE when another control plane answers there). */
int fg_ctlsock_start(struct fg_ctlsock *s, struct fg_loop *loop, const char *path, const struct fg_cpctl_provider *p, void *ctx);
void fg_ctlsock_stop(struct fg_ctlsock *s);

#endif
